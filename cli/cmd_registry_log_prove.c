/*
 * cvmattest registry log prove: an inclusion proof of one registry version in the log's
 * current checkpoint, or a consistency proof from an older size (docs/registry.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/base64.h"
#include "common/util.h"
#include "tlog/tlog.h"

const char cvma_reglog_prove_usage[] =
        "  log prove --log DIR --registry REG.jws [--tlog-proof]\n"
        "        inclusion proof of REG.jws in DIR's checkpoint: JSON {index, tree_size, hashes},\n"
        "        or with --tlog-proof a c2sp.org/tlog-proof@v1 file (with the checkpoint and\n"
        "        its cosignatures) for verify --log-proof\n"
        "  log prove --log DIR --from N\n"
        "        consistency proof from size N: JSON {old_size, new_size, hashes}; from 0\n"
        "        (a witness that has cosigned nothing of this log) the hashes are empty\n";

static json_t *hashes_json(uint8_t (*h)[32], size_t n)
{
    json_t *a = json_array();
    char b64[48];
    for (size_t i = 0; a != NULL && i < n; i++) {
        if (!cvma_base64_encode_to(h[i], 32, CVMA_B64_STD, b64, sizeof b64) ||
            json_array_append_new(a, json_string(b64)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int cvma_reglog_prove(int argc, char **argv)
{
    enum { O_LOG = 256, O_REGISTRY, O_FROM, O_TLOG_PROOF };
    static const struct option opts[] = {
            {"log", required_argument, NULL, O_LOG},
            {"registry", required_argument, NULL, O_REGISTRY | CVMA_CLI_ONE_OF(1)},
            {"from", required_argument, NULL, O_FROM | CVMA_CLI_ONE_OF(1)},
            {"tlog-proof", no_argument, NULL, O_TLOG_PROOF},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *regf = NULL, *from_s = NULL;
    bool tlog_proof = false;
    struct cvma_tlog l;
    struct cvma_buf reg = {0}, cpb = {0};
    uint8_t path[CVMA_REG_PATH_MAX][32], h[32];
    uint64_t from = 0;
    json_t *j = NULL;
    char err[400];
    int rc = EXIT_USAGE, c, lock = -1;
    enum cvma_status st;

    cvma_tlog_init(&l, NULL);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_LOG:
            dir = optarg;
            break;
        case O_REGISTRY:
            regf = optarg;
            break;
        case O_FROM:
            from_s = optarg;
            break;
        case O_TLOG_PROOF:
            tlog_proof = true;
            break;
        case 'h':
            cvma_reglog_help(cvma_reglog_prove_usage);
            return EXIT_OK;
        default:
            return cvma_reglog_bad_option("prove", c, argv);
        }
    }
    if (dir == NULL || optind < argc || (regf == NULL) == (from_s == NULL)) {
        return cvma_reglog_usage_error("prove", "--log DIR and one of --registry or --from");
    }
    /* 0 is the size a new witness knows: tlog-witness's "old 0" with the empty proof. */
    if (from_s != NULL && (tlog_proof || !cvma_cli_uint(from_s, 0, (uint64_t)INT64_MAX, &from))) {
        return cvma_reglog_usage_error("prove", "--from wants a size >= 0 (and no --tlog-proof)");
    }
    /* Shared with other readers, never with an append: the checkpoint read again below for
     * --tlog-proof is the one the proof was computed from. */
    if ((st = cvma_tlog_lock(dir, false, &lock, err, sizeof err)) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log prove: %s\n",
                     st == CVMA_E_NOMEM ? "out of memory" : err);
        goto out;
    }
    if ((st = cvma_tlog_load(&l, dir, NULL, NULL, err, sizeof err)) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log prove: %s\n", err);
        rc = st == CVMA_REJECTED ? EXIT_REJECTED : EXIT_USAGE;
        goto out;
    }
    if (cvma_tlog_root(&l, h) != CVMA_OK || l.size == 0 || !l.tree_ok) {
        cvma_cli_err("cvmattest registry log prove: '%s' holds no entries\n", dir);
        rc = EXIT_REJECTED;
        goto out;
    }
    if (from_s != NULL) {
        if (from > l.size) {
            cvma_cli_err("cvmattest registry log prove: --from %" PRIu64
                         " is beyond the log's size %" PRIu64 "\n",
                         from, l.size);
            rc = EXIT_REJECTED;
            goto out;
        }
        /* from 0: no hashes (RFC 9162 defines no proof from the empty tree; tlog-witness and
         * witness cosign take an empty one) */
        size_t n = from == 0 ? 0 : cvma_merkle_consistency_proof(&l.tree, from, l.size, path);
        j = json_pack("{sI sI so*}", "old_size", (json_int_t)from, "new_size", (json_int_t)l.size,
                      "hashes", hashes_json(path, n));
    } else {
        uint64_t idx = UINT64_MAX;
        if (cvma_file_read(regf, CVMA_REG_FILE_MAX, &reg) != CVMA_OK) {
            cvma_cli_err("cvmattest registry log prove: cannot read %s\n", regf);
            goto out;
        }
        cvma_merkle_leaf_hash(reg.p, reg.len, h);
        for (uint64_t i = l.size; i-- > 0;) {
            if (memcmp(l.leaves[i], h, 32) == 0) {
                idx = i;
                break;
            }
        }
        if (idx == UINT64_MAX) {
            cvma_cli_err("cvmattest registry log prove: %s is not in the log\n", regf);
            rc = EXIT_REJECTED;
            goto out;
        }
        size_t n = cvma_merkle_inclusion_proof(&l.tree, idx, l.size, path);
        if (tlog_proof) {
            char *cpp = cvma_path_join(dir, "checkpoint");
            char b64[48];
            st = cpp == NULL ? CVMA_E_NOMEM : cvma_file_read(cpp, (size_t)64 << 10, &cpb);
            free(cpp);
            if (st != CVMA_OK) {
                cvma_cli_err("cvmattest registry log prove: cannot read '%s/checkpoint'\n", dir);
                goto out;
            }
            printf("%s\nindex %" PRIu64 "\n", CVMA_TLOG_PROOF_HEADER, idx);
            for (size_t i = 0; i < n; i++) {
                if (!cvma_base64_encode_to(path[i], 32, CVMA_B64_STD, b64, sizeof b64)) {
                    goto out;
                }
                printf("%s\n", b64);
            }
            printf("\n");
            fwrite(cpb.p, 1, cpb.len, stdout);
            rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
            goto out;
        }
        j = json_pack("{sI sI so*}", "index", (json_int_t)idx, "tree_size", (json_int_t)l.size,
                      "hashes", hashes_json(path, n));
    }
    if (j == NULL || json_dumpf(j, stdout, JSON_INDENT(2)) != 0) {
        cvma_cli_err("cvmattest registry log prove: out of memory\n");
        goto out;
    }
    printf("\n");
    rc = EXIT_OK;
out:
    if (lock >= 0) {
        close(lock); /* releases the lock */
    }
    json_decref(j);
    cvma_buf_free(&reg);
    cvma_buf_free(&cpb);
    cvma_tlog_cleanup(&l);
    return rc;
}
