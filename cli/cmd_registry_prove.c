/* cvmattest registry prove: the inclusion proof of one platform (docs/registry.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/hex.h"
#include "common/util.h"
#include "crypto/jws.h"

const char cvma_regcli_prove_usage[] =
        "  prove --entries FILE --id ID --out PROOF.json [--provider NAME | --registry REG.jws]\n"
        "        the inclusion proof of one platform (ID: hex chip_id/ppid, or cspID name)\n";

/* Reads provider and merkle_root from a registry's payload WITHOUT verifying it: the prover
 * only wants to say which registry the proof is for; the verifier checks everything. */
static bool peek_registry(const char *path, char *provider, size_t plen, char *root_hex)
{
    struct cvma_buf b;
    struct cvma_jws j;
    json_t *pl = NULL;
    bool ok = false;
    if (cvma_file_read(path, CVMA_REG_FILE_MAX, &b) != CVMA_OK) {
        return false;
    }
    b.len = cvma_jws_token_len(b.p, b.len); /* as cvma_registry_verify reads the file */
    if (cvma_jws_decode((const char *)b.p, b.len, &j, NULL, 0) == CVMA_JWS_OK) {
        pl = cvma_jws_payload_json(&j, NULL, 0);
        const char *p = json_string_value(json_object_get(pl, "provider"));
        const char *r = json_string_value(json_object_get(pl, "merkle_root"));
        if (p != NULL && r != NULL && cvma_reg_provider_name_ok(p) && strlen(r) == 64) {
            snprintf(provider, plen, "%s", p);
            memcpy(root_hex, r, 65);
            ok = true;
        }
        json_decref(pl);
        cvma_jws_cleanup(&j);
    }
    cvma_buf_free(&b);
    return ok;
}

int cvma_regcli_prove(int argc, char **argv)
{
    enum { O_ENTRIES = 256, O_ID, O_OUT, O_PROVIDER, O_REGISTRY };
    static const struct option opts[] = {
            {"entries", required_argument, NULL, O_ENTRIES},
            {"id", required_argument, NULL, O_ID},
            {"out", required_argument, NULL, O_OUT},
            {"provider", required_argument, NULL, O_PROVIDER | CVMA_CLI_ONE_OF(1)},
            {"registry", required_argument, NULL, O_REGISTRY | CVMA_CLI_ONE_OF(1)},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *entries_f = NULL, *id = NULL, *out = NULL, *provider = NULL, *reg = NULL;
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    char prov_buf[CVMA_REG_PROVIDER_MAX + 1], reg_root[65], root_hex[65];
    uint8_t root[32];
    size_t found = SIZE_MAX;
    json_t *pr = NULL;
    char *s = NULL;
    int rc = EXIT_USAGE, c;

    cvma_reg_entries_init(&e);
    memset(&t, 0, sizeof t);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_ENTRIES:
            entries_f = optarg;
            break;
        case O_ID:
            id = optarg;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_PROVIDER:
            provider = optarg;
            break;
        case O_REGISTRY:
            reg = optarg;
            break;
        case 'h':
            cvma_regcli_help(cvma_regcli_prove_usage);
            return EXIT_OK;
        default:
            return cvma_regcli_bad_option("prove", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_regcli_usage_error("prove", "takes no operands (--entries FILE --id ID)");
    }
    if (entries_f == NULL || id == NULL || out == NULL) {
        return cvma_regcli_usage_error("prove", "--entries, --id and --out are required");
    }
    const char *const ins[] = {entries_f, reg};
    const char *const ins_opt[] = {"--entries", "--registry"};
    int orc = cvma_cli_out_file_check("registry prove", "--out", out, ins, ins_opt, 2);
    if (orc != 0) {
        return orc;
    }
    if (provider != NULL && !cvma_reg_provider_name_ok(provider)) {
        return cvma_regcli_usage_error("prove", "--provider: not a valid provider name");
    }
    if (reg != NULL) {
        if (!peek_registry(reg, prov_buf, sizeof prov_buf, reg_root)) {
            cvma_cli_err("cvmattest registry prove: %s is not a readable registry\n", reg);
            return EXIT_USAGE;
        }
        provider = prov_buf;
    }
    if ((rc = cvma_regcli_load_entries("prove", entries_f, &e)) != EXIT_OK) {
        goto out;
    }
    rc = EXIT_USAGE;
    for (size_t i = 0; i < e.n; i++) {
        char s_id[2 * CVMA_REG_CHIP_ID_LEN + CVMA_REG_CSP_MAX + 2];
        cvma_reg_entry_id_string(&e.v[i], s_id, sizeof s_id);
        bool same = e.v[i].id_type == CVMA_REG_VLEK_CSP ? strcmp(s_id, id) == 0
                                                        : strcasecmp(s_id, id) == 0;
        if (same) {
            found = i;
            break;
        }
    }
    if (found == SIZE_MAX) {
        cvma_cli_err("cvmattest registry prove: %s is not listed in '%s'\n", id, entries_f);
        rc = EXIT_REJECTED;
        goto out;
    }
    if (cvma_merkle_build(&t, &e) != CVMA_OK) {
        cvma_cli_err("cvmattest registry prove: out of memory\n");
        goto out;
    }
    cvma_merkle_root(&t, root);
    cvma_hex_encode(root, 32, root_hex, sizeof root_hex);
    if (reg != NULL && strcmp(reg_root, root_hex) != 0) {
        cvma_cli_err(
                "cvmattest registry prove: '%s' does not produce the merkle_root of '%s' (%s, not "
                "%s): not the entries that registry was built from\n",
                entries_f, reg, root_hex, reg_root);
        rc = EXIT_REJECTED;
        goto out;
    }
    if ((pr = cvma_reg_proof_to_json(provider, &e, &t, found)) == NULL ||
        (s = json_dumps(pr, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
        cvma_cli_err("cvmattest registry prove: out of memory\n");
        goto out;
    }
    {
        size_t n = strlen(s);
        char *line = malloc(n + 2);
        bool ok = line != NULL;
        if (ok) {
            memcpy(line, s, n);
            line[n] = '\n';
            ok = cvma_file_write_atomic(out, (const uint8_t *)line, n + 1) == CVMA_OK;
        }
        free(line);
        if (!ok) {
            cvma_cli_err("cvmattest registry prove: cannot write '%s'\n", out);
            goto out;
        }
    }
    printf("proof %s: leaf %zu of %zu, merkle_root %s\n", out, found, e.n, root_hex);
    rc = EXIT_OK;
out:
    free(s);
    json_decref(pr);
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    return rc;
}
