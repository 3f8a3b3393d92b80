/*
 * cvmattest verify FILE [options] [--json]
 *
 * Order: verify the evidence (parse, chains, collateral, signatures, TCB), bind its platform
 * to a provider (--registry / --lookup-registry), appraise it against --policy, compare it
 * with --previous, compute the status, print it, and sign it (--sign-result).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "appraise/policy.h"
#include "cmds.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "crypto/chain_cache.h"
#include "crypto/jws.h"
#include "opts.h"
#include "output.h"
#include "registry/registry.h"
#include "result/ear.h"
#include "snp/snp_internal.h"
#include "tdx/tdx_internal.h"

#define MAX_EVIDENCE (1u << 20)
#define MAX_SMALL    (1u << 20)

/* Everything after the evidence verified: provider binding, policy, previous result. */
static int appraise(const struct cvma_cli_verify *cv, struct cvma_result *res)
{
    if (json_object_size(res->platform) > 0 && cv->rs != NULL) {
        struct cvma_registry_bind_opts bo;
        memset(&bo, 0, sizeof bo);
        bo.at = cv->vo.at;
        bo.cache_dir = cv->vo.cache_dir;
        bo.offline = cv->vo.offline;
        if (cv->policy != NULL) {
            bo.n_prefer = cvma_policy_required_providers(cv->policy, &bo.prefer);
        }
        enum cvma_status st = cvma_registry_bind(cv->rs, &bo, res);
        if (st == CVMA_E_NOMEM) {
            res->verdict.oom = true;
        }
    }
    cvma_policy_appraise(cv->policy, res);
    if (cv->previous != NULL) {
        struct cvma_buf b;
        char err[256];
        json_error_t je;
        if (cvma_file_read(cv->previous, MAX_SMALL, &b) != CVMA_OK) {
            fprintf(stderr, "cvmattest verify: cannot read --previous '%s'\n", cv->previous);
            return 2;
        }
        json_t *prev = json_loadb((const char *)b.p, b.len, JSON_REJECT_DUPLICATES, &je);
        cvma_buf_free(&b);
        if (prev == NULL) {
            fprintf(stderr, "cvmattest verify: --previous '%s' is not JSON: %s\n", cv->previous,
                    je.text);
            return 2;
        }
        enum cvma_status st = cvma_result_compare_previous(res, prev, err, sizeof err);
        json_decref(prev);
        if (st != CVMA_OK) {
            fprintf(stderr, "cvmattest verify: --previous '%s': %s\n", cv->previous, err);
            return 2;
        }
    }
    return -1;
}

int cvma_run_verify(const struct cvma_cli_verify *cv, const uint8_t *p, size_t len,
                    struct cvma_result *res)
{
    enum cvma_tee_kind tee = cv->tee != CVMA_TEE_AUTO ? cv->tee : cvma_detect_tee(p, len);
    switch (tee) {
    case CVMA_TEE_SNP:
        cvma_result_init(res, "sev-snp", cv->vo.at);
        cvma_snp_verify(p, len, &cv->vo, NULL, res);
        break;
    case CVMA_TEE_TDX:
        cvma_result_init(res, "tdx", cv->vo.at);
        cvma_tdx_verify(p, len, &cv->vo, NULL, res);
        break;
    case CVMA_TEE_TPM:
        fprintf(stderr, "cvmattest verify: TPM evidence is recognised but its verification is "
                        "not built yet\n");
        return 2;
    case CVMA_TEE_AUTO:
        cvma_result_init(res, "unknown", cv->vo.at);
        res->verdict.checks_required = CVMA_CHECK_PARSE;
        cvma_reject(&res->verdict, CVMA_R_PARSE_UNKNOWN_FORMAT,
                    "%zu bytes that are neither an SEV-SNP report, a TDX quote nor a TPM quote "
                    "(use --tee to say which)",
                    len);
        break;
    }
    int rc = appraise(cv, res);
    if (rc >= 0) {
        cvma_result_cleanup(res);
        return rc;
    }
    cvma_result_finish(res);
    return -1;
}

/* --sign-result KEY --result-out TOKEN: the result as a signed EAR. */
static int sign_result(const struct cvma_cli_verify *cv, const struct cvma_result *res)
{
    struct cvma_buf kb;
    char *token = NULL;
    char nonce[129];
    int rc = 2;
    if (cvma_file_read(cv->sign_key, MAX_SMALL, &kb) != CVMA_OK) {
        fprintf(stderr, "cvmattest verify: cannot read --sign-result key '%s'\n", cv->sign_key);
        return 2;
    }
    EVP_PKEY *key = cvma_jws_key_from_pem(kb.p, kb.len, true);
    OPENSSL_cleanse(kb.p, kb.len);
    cvma_buf_free(&kb);
    if (key == NULL) {
        fprintf(stderr,
                "cvmattest verify: --sign-result '%s' is not an unencrypted P-256 or "
                "P-384 private key (PEM)\n",
                cv->sign_key);
        return 2;
    }
    if (cv->vo.has_report_data) {
        /* eat_nonce is the --report-data given, not its zero padding to 64 bytes: a JSON EAT
         * nonce is 10..74 characters (RFC 9711 nonce-type; veraison/ear refuses others). The
         * padding is dropped down to 5 bytes, which is the same expectation. */
        size_t n = sizeof cv->vo.report_data;
        while (n > 5 && cv->vo.report_data[n - 1] == 0) {
            n--;
        }
        cvma_hex_encode(cv->vo.report_data, n, nonce, sizeof nonce);
    }
    if (cvma_ear_sign(res, key, cv->policy ? cvma_policy_id(cv->policy) : NULL,
                      cv->vo.has_report_data ? nonce : NULL, &token) != CVMA_OK) {
        fprintf(stderr, "cvmattest verify: signing the result failed\n");
        goto out;
    }
    size_t n = strlen(token);
    char *line = malloc(n + 1);
    if (line == NULL) {
        goto out;
    }
    memcpy(line, token, n);
    line[n] = '\n';
    if (cvma_file_write_atomic(cv->result_out, (const uint8_t *)line, n + 1) != CVMA_OK) {
        fprintf(stderr, "cvmattest verify: cannot write --result-out '%s'\n", cv->result_out);
    } else {
        rc = -1;
    }
    free(line);
out:
    free(token);
    EVP_PKEY_free(key);
    return rc;
}

int cvma_cmd_verify(int argc, char **argv)
{
    struct cvma_cli_verify cv;
    struct cvma_buf ev = {0};
    struct cvma_result res;
    int rc = cvma_cli_verify_parse(argc, argv, false, &cv);
    if (rc != 0) {
        cvma_cli_verify_cleanup(&cv);
        return rc;
    }
    if (cvma_file_read(cv.file, MAX_EVIDENCE, &ev) != CVMA_OK) {
        fprintf(stderr, "cvmattest verify: cannot read '%s' (missing, unreadable or over 1 MiB)\n",
                cv.file);
        cvma_cli_verify_cleanup(&cv);
        return 2;
    }
    rc = cvma_run_verify(&cv, ev.p, ev.len, &res);
    if (rc < 0) {
        cvma_print_result(&res, cv.json, stdout);
        rc = cvma_result_exit_code(&res);
        if (cv.sign_key != NULL) {
            int src = sign_result(&cv, &res);
            if (src >= 0) {
                rc = src;
            }
        }
        cvma_result_cleanup(&res);
    }
    cvma_buf_free(&ev);
    cvma_cli_verify_cleanup(&cv);
    return rc;
}
