#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "appraise/policy.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"
#include "registry/registry.h"
#include "snp/snp.h"

#define MAX_ROOT_FILE (1u << 20)

#include <stdarg.h>

static int usage_error(const char *verb, const char *fmt, ...) CVMA_PRINTF(2, 3);

static int usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cvmattest %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(run 'cvmattest help' for the options)\n");
    return 2;
}

enum cvma_tee_kind cvma_detect_tee(const uint8_t *p, size_t len)
{
    if (len >= 4) {
        uint32_t v32 =
                (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        uint16_t v16 = (uint16_t)(p[0] | p[1] << 8);
        if (len >= 8) {
            uint32_t tee_type = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                                (uint32_t)p[7] << 24;
            /* Intel quote header: version u16 (4 or 5), key type u16, TEE type u32 0x81. */
            if ((v16 == 4 || v16 == 5) && tee_type == 0x81) {
                return CVMA_TEE_TDX;
            }
        }
        if (v32 >= 2 && v32 <= 5) {
            return CVMA_TEE_SNP; /* SEV-SNP report version, u32 */
        }
        /* TPM2B_ATTEST: size, then TPM_GENERATED_VALUE 0xff544347. */
        if (len >= 6 && p[2] == 0xff && p[3] == 0x54 && p[4] == 0x43 && p[5] == 0x47) {
            return CVMA_TEE_TPM;
        }
    }
    return CVMA_TEE_AUTO;
}

static int add_root(struct cvma_cli_verify *cv, const char *path)
{
    struct cvma_buf b;
    if (cv->vo.n_trust_roots >= CVMA_ARRAY_LEN(cv->roots)) {
        return usage_error("verify", "too many --trust-root options (max 16)%s", "");
    }
    if (cvma_file_read(path, MAX_ROOT_FILE, &b) != CVMA_OK) {
        return usage_error("verify", "cannot read --trust-root file '%s'", path);
    }
    X509 *x = cvma_x509_load(b.p, b.len);
    cvma_buf_free(&b);
    if (x == NULL) {
        return usage_error("verify", "--trust-root '%s' is not a PEM or DER certificate", path);
    }
    if (!cvma_x509_spki_sha256(x, cv->root_spki[cv->vo.n_trust_roots])) {
        X509_free(x);
        return usage_error("verify", "--trust-root '%s': cannot encode its public key", path);
    }
    cv->roots[cv->vo.n_trust_roots++] = x;
    cv->vo.trust_roots = cv->roots;
    cv->vo.trust_root_spki = (const uint8_t(*)[32])cv->root_spki;
    return 0;
}

int cvma_cli_verify_parse(int argc, char **argv, bool bench, struct cvma_cli_verify *cv)
{
    const char *verb = argv[0];
    memset(cv, 0, sizeof *cv);
    cv->vo.at = time(NULL);
    cv->seconds = 3.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                         \
    do {                                                     \
        if (val == NULL) {                                   \
            return usage_error(verb, "%s needs a value", a); \
        }                                                    \
        i++;                                                 \
    } while (0)
        if (strcmp(a, "--json") == 0) {
            cv->json = true;
        } else if (strcmp(a, "--offline") == 0) {
            cv->vo.offline = true;
        } else if (strcmp(a, "--allow-trailing-data") == 0) {
            cv->vo.allow_trailing_data = true;
        } else if (strcmp(a, "--tee") == 0) {
            NEED_VALUE();
            if (strcmp(val, "snp") == 0) {
                cv->tee = CVMA_TEE_SNP;
            } else if (strcmp(val, "tdx") == 0) {
                cv->tee = CVMA_TEE_TDX;
            } else if (strcmp(val, "tpm") == 0) {
                cv->tee = CVMA_TEE_TPM;
            } else {
                return usage_error(verb, "--tee must be snp, tdx or tpm, not '%s'", val);
            }
        } else if (strcmp(a, "--product") == 0) {
            NEED_VALUE();
            /* SEV-SNP: the product of a report that names none (v2 has no CPUID bytes). */
            if (strcasecmp(val, "milan") == 0) {
                cv->vo.snp_product = CVMA_SNP_PRODUCT_MILAN;
            } else if (strcasecmp(val, "genoa") == 0) {
                cv->vo.snp_product = CVMA_SNP_PRODUCT_GENOA;
            } else if (strcasecmp(val, "turin") == 0) {
                cv->vo.snp_product = CVMA_SNP_PRODUCT_TURIN;
            } else {
                return usage_error(verb, "--product must be milan, genoa or turin, not '%s'", val);
            }
        } else if (strcmp(a, "--collateral") == 0) {
            NEED_VALUE();
            cv->vo.collateral_dir = val;
        } else if (strcmp(a, "--kds-url") == 0) {
            NEED_VALUE();
            cv->vo.kds_base_url = val;
        } else if (strcmp(a, "--provider") == 0 || strcmp(a, "--registry") == 0 ||
                   strcmp(a, "--proof") == 0 || strcmp(a, "--lookup-registry") == 0) {
            char err[512];
            enum cvma_status st;
            NEED_VALUE();
            if (cv->rs == NULL && (cv->rs = cvma_registry_set_new()) == NULL) {
                return usage_error(verb, "out of memory%s", "");
            }
            if (strcmp(a, "--provider") == 0) {
                st = cvma_registry_set_add_provider(cv->rs, val, err, sizeof err);
            } else if (strcmp(a, "--registry") == 0) {
                st = cvma_registry_set_add_registry(cv->rs, val, err, sizeof err);
            } else if (strcmp(a, "--proof") == 0) {
                st = cvma_registry_set_add_proof(cv->rs, val, err, sizeof err);
            } else {
                st = cvma_registry_set_add_lookup(cv->rs, val, err, sizeof err);
            }
            if (st != CVMA_OK) {
                return usage_error(verb, "%s %s: %s", a, val, err);
            }
        } else if (strcmp(a, "--policy") == 0) {
            char err[512];
            NEED_VALUE();
            if (cv->policy != NULL) {
                return usage_error(verb, "--policy given twice%s", "");
            }
            if (cvma_policy_load(val, &cv->policy, err, sizeof err) != CVMA_OK) {
                return usage_error(verb, "--policy: %s", err);
            }
        } else if (strcmp(a, "--collateral-grace") == 0) {
            char *end = NULL;
            NEED_VALUE();
            errno = 0;
            long long g = strtoll(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || g < 0 || g > 366LL * 86400) {
                return usage_error(verb, "--collateral-grace wants seconds (0..31622400), not '%s'",
                                   val);
            }
            cv->vo.collateral_grace_seconds = g;
            cv->grace_given = true;
        } else if (strcmp(a, "--sign-result") == 0) {
            NEED_VALUE();
            cv->sign_key = val;
        } else if (strcmp(a, "--result-out") == 0) {
            NEED_VALUE();
            cv->result_out = val;
        } else if (strcmp(a, "--previous") == 0) {
            NEED_VALUE();
            cv->previous = val;
        } else if (strcmp(a, "--pcs-url") == 0) {
            NEED_VALUE();
            cv->vo.pcs_base_url = val;
        } else if (strcmp(a, "--cache-dir") == 0) {
            NEED_VALUE();
            cv->vo.cache_dir = val;
        } else if (strcmp(a, "--at") == 0) {
            NEED_VALUE();
            if (!cvma_time_parse_rfc3339(val, &cv->vo.at)) {
                return usage_error(verb,
                                   "--at wants an RFC 3339 time such as "
                                   "2025-01-01T00:00:00Z, not '%s'",
                                   val);
            }
        } else if (strcmp(a, "--report-data") == 0) {
            size_t n = 0;
            NEED_VALUE();
            /* The last one counts, zero-padded: nothing of an earlier --report-data remains. */
            memset(cv->vo.report_data, 0, sizeof cv->vo.report_data);
            if (!cvma_hex_decode(val, cv->vo.report_data, sizeof cv->vo.report_data, &n)) {
                return usage_error(verb, "--report-data wants up to 64 bytes of hex, not '%s'",
                                   val);
            }
            cv->vo.has_report_data = true; /* shorter input: zero-padded (decode left zeros) */
        } else if (strcmp(a, "--trust-root") == 0) {
            NEED_VALUE();
            int rc = add_root(cv, val);
            if (rc != 0) {
                return rc;
            }
        } else if (bench && strcmp(a, "--seconds") == 0) {
            char *end = NULL;
            NEED_VALUE();
            errno = 0;
            cv->seconds = strtod(val, &end);
            if (errno != 0 || end == val || *end != '\0' || cv->seconds <= 0 ||
                cv->seconds > 3600) {
                return usage_error(verb, "--seconds wants a number in (0, 3600], not '%s'", val);
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error(verb, "unknown option '%s'", a);
        } else if (cv->file == NULL) {
            cv->file = a;
        } else {
            return usage_error(verb, "one evidence file only; extra argument '%s'", a);
        }
#undef NEED_VALUE
    }
    if (cv->file == NULL) {
        return usage_error(verb, "no evidence file given%s", "");
    }
    if (cv->rs != NULL && cvma_registry_set_empty(cv->rs)) {
        return usage_error(verb,
                           "--provider given, but no --registry, --proof or "
                           "--lookup-registry to bind the platform with%s",
                           "");
    }
    if ((cv->sign_key == NULL) != (cv->result_out == NULL)) {
        return usage_error(verb, "--sign-result KEY and --result-out TOKEN go together%s", "");
    }
    if (cv->policy != NULL && !cv->grace_given) {
        int64_t g = cvma_policy_collateral_grace(cv->policy);
        if (g > 0) {
            cv->vo.collateral_grace_seconds = g;
        }
    }
    return 0;
}

void cvma_cli_verify_cleanup(struct cvma_cli_verify *cv)
{
    cvma_registry_set_free(cv->rs);
    cv->rs = NULL;
    cvma_policy_free(cv->policy);
    cv->policy = NULL;
    for (size_t i = 0; i < cv->vo.n_trust_roots; i++) {
        X509_free(cv->roots[i]);
    }
    cv->vo.n_trust_roots = 0;
}
