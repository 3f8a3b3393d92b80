/*
 * cvmattest registry check: verify a registry's signature and validity (and inclusion proofs
 * against it) with the provider's public key, and print its payload (docs/registry.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "common/verdict.h"
#include "crypto/jws.h"

#define MAX_PROOFS 64

const char cvma_regcli_check_usage[] =
        "  check REG.jws --pub NAME.pub [--at RFC3339] [--proof PROOF.json]... [--quiet]\n"
        "        verifies signature and validity, prints the payload (exit 1 when invalid)\n";

static void print_reasons(const struct cvma_verdict *v)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        cvma_cli_err("%s: %s\n", cvma_reason_name(v->reasons[i].code), v->reasons[i].detail);
    }
}

int cvma_regcli_check(int argc, char **argv)
{
    enum { O_QUIET = 256, O_PUB, O_AT, O_PROOF };
    static const struct option opts[] = {
            {"quiet", no_argument, NULL, O_QUIET},
            {"pub", required_argument, NULL, O_PUB},
            {"at", required_argument, NULL, O_AT},
            {"proof", required_argument, NULL, O_PROOF | CVMA_CLI_MANY},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *file = NULL, *pubf = NULL, *at_s = NULL;
    const char *proofs[MAX_PROOFS];
    size_t n_proofs = 0;
    bool quiet = false;
    time_t at = time(NULL);
    struct cvma_buf b = {0};
    struct cvma_reg_provider prov;
    struct cvma_registry r;
    struct cvma_verdict v;
    EVP_PKEY *key = NULL;
    int rc = EXIT_USAGE, opt;
    enum cvma_status st;

    memset(&prov, 0, sizeof prov);
    memset(&r, 0, sizeof r);
    cvma_verdict_init(&v);
    cvma_cli_getopt_begin();
    while ((opt = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (opt) {
        case O_QUIET:
            quiet = true;
            break;
        case O_PUB:
            pubf = optarg;
            break;
        case O_AT:
            at_s = optarg;
            break;
        case O_PROOF:
            if (n_proofs == MAX_PROOFS) {
                return cvma_regcli_usage_error("check", "too many --proof options");
            }
            proofs[n_proofs++] = optarg;
            break;
        case 'h':
            cvma_regcli_help(cvma_regcli_check_usage);
            return EXIT_OK;
        default:
            return cvma_regcli_bad_option("check", opt, argv);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (file != NULL) {
            return cvma_regcli_usage_error("check", "one registry file only");
        }
        file = argv[i];
    }
    if (file == NULL || pubf == NULL) {
        return cvma_regcli_usage_error("check", "REG.jws and --pub NAME.pub are required");
    }
    if (at_s != NULL && !cvma_time_parse_rfc3339(at_s, &at)) {
        return cvma_regcli_usage_error("check", "--at must be an RFC 3339 time");
    }
    if ((key = cvma_regcli_load_key("check", pubf, false)) == NULL) {
        goto out;
    }
    if (cvma_file_read(file, CVMA_REG_FILE_MAX, &b) != CVMA_OK) {
        char why[96];
        cvma_cli_err("cvmattest registry check: cannot read '%s': %s\n", file,
                     cvma_file_read_why(errno, CVMA_REG_FILE_MAX, why, sizeof why));
        goto out;
    }
    /* The key given is the provider's, whatever name the payload carries: find the name
     * first (unverified), then verify everything with that key. */
    {
        size_t len = cvma_jws_token_len(b.p, b.len); /* as cvma_registry_verify reads it */
        struct cvma_jws j;
        snprintf(prov.name, sizeof prov.name, "-");
        if (cvma_jws_decode((const char *)b.p, len, &j, NULL, 0) == CVMA_JWS_OK) {
            json_t *pl = cvma_jws_payload_json(&j, NULL, 0);
            const char *p = json_string_value(json_object_get(pl, "provider"));
            if (p != NULL && cvma_reg_provider_name_ok(p)) {
                snprintf(prov.name, sizeof prov.name, "%s", p);
            }
            json_decref(pl);
            cvma_jws_cleanup(&j);
        }
    }
    prov.key = key;
    rc = EXIT_REJECTED;
    st = cvma_registry_verify(b.p, b.len, file, &prov, 1, &r, &v);
    if (st != CVMA_OK) {
        print_reasons(&v);
        rc = st == CVMA_REJECTED ? EXIT_REJECTED : EXIT_USAGE;
        goto out;
    }
    if (!quiet) {
        char *s = json_dumps(r.payload, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s != NULL) {
            puts(s);
        }
        free(s);
    }
    {
        char a[32], c[32];
        cvma_time_format((time_t)r.nbf, a, sizeof a);
        cvma_time_format((time_t)r.next_update, c, sizeof c);
        cvma_cli_err("%s: signature OK (%s, provider %s, version %" PRIu64 ", %" PRIu64
                     " platforms%s), valid %s .. %s\n",
                     file, cvma_jws_alg_name(r.alg), r.provider, r.version, r.leaf_count,
                     r.has_entries ? ", entries included and consistent" : "", a, c);
    }
    bool bad = cvma_registry_check_time(&r, at, file, &v) != CVMA_OK;
    for (size_t i = 0; i < n_proofs; i++) {
        struct cvma_buf pb;
        struct cvma_reg_proof pr;
        char err[300], id[2 * CVMA_REG_CHIP_ID_LEN + CVMA_REG_CSP_MAX + 2];
        if (cvma_file_read(proofs[i], CVMA_REG_PROOF_FILE_MAX, &pb) != CVMA_OK) {
            cvma_cli_err("cvmattest registry check: cannot read '%s': %s (the limit is %zu "
                         "bytes)\n",
                         proofs[i], cvma_file_read_strerror(errno),
                         (size_t)CVMA_REG_PROOF_FILE_MAX);
            rc = EXIT_USAGE;
            goto out;
        }
        st = cvma_reg_proof_parse(pb.p, pb.len, &pr, err, sizeof err);
        cvma_buf_free(&pb);
        if (st != CVMA_OK) {
            cvma_reject(&v, CVMA_R_REGISTRY_PROOF_INVALID, "%s: %s", proofs[i], err);
            bad = true;
            continue;
        }
        cvma_reg_entry_id_string(&pr.leaf.v[0], id, sizeof id);
        if (!cvma_reg_proof_check(&pr)) {
            cvma_reject(&v, CVMA_R_REGISTRY_PROOF_INVALID,
                        "%s: the audit path does not lead to the proof's merkle_root", proofs[i]);
            bad = true;
        } else if (memcmp(pr.merkle_root, r.merkle_root, 32) != 0 || pr.tree_size != r.leaf_count ||
                   (pr.has_provider && strcmp(pr.provider, r.provider) != 0)) {
            cvma_reject(&v, CVMA_R_REGISTRY_PROOF_INVALID,
                        "%s: a valid proof, but for another registry (root or size differ)",
                        proofs[i]);
            bad = true;
        } else {
            cvma_cli_err("%s: proves %s %s %s (leaf %" PRIu64 " of %" PRIu64 ")\n", proofs[i],
                         cvma_reg_vendor_name((enum cvma_reg_vendor)pr.leaf.v[0].vendor),
                         cvma_reg_id_type_name((enum cvma_reg_id_type)pr.leaf.v[0].id_type), id,
                         pr.leaf_index, pr.tree_size);
        }
        cvma_reg_proof_cleanup(&pr);
    }
    print_reasons(&v);
    rc = bad ? EXIT_REJECTED : EXIT_OK;
out:
    cvma_registry_cleanup(&r);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
    EVP_PKEY_free(key);
    return rc;
}
