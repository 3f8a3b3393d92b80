/* The SEV-SNP row of the evidence-kind table (verifier/kind.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/reader.h"
#include "snp/snp_internal.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"

/* SEV-SNP ABI ATTESTATION_REPORT: VERSION u32 little-endian, 2..5 known. */
static bool snp_detect(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    uint32_t version = 0;

    cvma_reader_init(&r, p, len);
    return cvma_reader_u32le(&r, &version) && version >= 2 && version <= 5;
}

/*
 * An SEV-SNP ABI ATTESTATION_REPORT of a version detect does not take (0, 1, or one newer
 * than 5): told apart from other bytes by what every version so far shares, since a looser
 * rule would name junk a report. Exactly the report's 0x4A0 bytes, SIGNATURE_ALGO 1 (ECDSA
 * P-384 with SHA-384) at 0x34, and zeros where the signature leaves them: above the 48 bytes
 * of a P-384 R (0x2D0..0x2E7) and S (0x318..0x32F) and in the reserved 0x330..0x49F.
 */
static bool snp_unknown_version(const uint8_t *p, size_t len, char *out, size_t out_len)
{
    struct cvma_reader r;
    struct cvma_span r_high, s_high, rest;
    uint32_t version = 0, algo = 0;

    if (len != CVMA_SNP_REPORT_SIZE) {
        return false;
    }
    cvma_reader_init(&r, p, len);
    if (!cvma_reader_u32le(&r, &version) || !cvma_reader_skip(&r, 0x34 - 4) ||
        !cvma_reader_u32le(&r, &algo) || !cvma_reader_skip(&r, 0x2D0 - 0x38) ||
        !cvma_reader_span(&r, 24, &r_high) || !cvma_reader_skip(&r, 48) ||
        !cvma_reader_span(&r, 24, &s_high)) {
        return false;
    }
    cvma_reader_rest(&r, &rest);
    if ((version >= 2 && version <= 5) || algo != 1 || !cvma_span_is_zero(&r_high) ||
        !cvma_span_is_zero(&s_high) || !cvma_span_is_zero(&rest)) {
        return false;
    }
    snprintf(out, out_len,
             "snp report: version %" PRIu32 " (known: 2, 3, 4, 5): an SEV-SNP attestation "
             "report by its size and signature layout, of a version this tool does not know",
             version);
    return true;
}

static void snp_verify_row(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                           const void *prepared, struct cvma_result *res)
{
    cvma_snp_verify(p, len, opts, prepared, res);
}

static void snp_prepared_free(void *prepared)
{
    struct cvma_snp_collateral *c = prepared;
    if (c != NULL) {
        cvma_snp_collateral_cleanup(c);
        free(c);
    }
}

static void *snp_prepare(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts)
{
    struct cvma_parse_opts po = {.allow_trailing_data = true};
    struct cvma_verify_opts o = *opts;
    struct cvma_snp_report *rep = malloc(sizeof *rep);
    struct cvma_snp_collateral *c = calloc(1, sizeof *c);
    struct cvma_verdict v;
    bool ok = false;

    cvma_verdict_init(&v);
    if (rep == NULL || c == NULL) {
        goto out;
    }
    o.collateral_parts_only = true;
    if (cvma_snp_report_parse(p, len, &po, rep, &v) != CVMA_OK) {
        goto out;
    }
    ok = cvma_snp_collateral_get(rep, &o, NULL, c, &v) == CVMA_OK;
out:
    cvma_verdict_cleanup(&v);
    free(rep);
    if (!ok) {
        snp_prepared_free(c);
        return NULL;
    }
    return c;
}

static json_t *snp_show(const uint8_t *p, size_t len, bool allow_trailing, const char **heading,
                        struct cvma_verdict *v)
{
    struct cvma_parse_opts po = {.allow_trailing_data = allow_trailing};
    struct cvma_snp_report *rep = malloc(sizeof *rep);
    json_t *o = NULL;

    *heading = "AMD SEV-SNP attestation report (parsed, NOT verified)";
    if (rep == NULL) {
        v->oom = true;
        return NULL;
    }
    if (cvma_snp_report_parse(p, len, &po, rep, v) == CVMA_OK) {
        o = cvma_snp_report_json(rep, rep->product);
        if (o == NULL) {
            v->oom = true;
        }
    }
    free(rep);
    return o;
}

const struct cvma_kind cvma_kind_snp = {
        .id = CVMA_KIND_SNP,
        .name = "sev-snp",
        .cli_name = "snp",
        .what = "SEV-SNP attestation report",
        .detect = snp_detect,
        .unknown_version = snp_unknown_version,
        .verify = snp_verify_row,
        .prepare = snp_prepare,
        .collateral_names = cvma_snp_collateral_names,
        .prepared_free = snp_prepared_free,
        .show = snp_show,
        .reads_snp_report = true,
        .report_data_unchecked =
                "REPORT_DATA was compared with no expected value (--report-data, a "
                "service nonce, a policy's report_data): freshness and binding "
                "not checked",
};
