/* The Intel TDX row of the evidence-kind table (verifier/kind.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "collateral/source.h"
#include "common/reader.h"
#include "crypto/crypto.h"
#include "eventlog/eventlog.h"
#include "tdx/tdx.h"
#include "tdx/tdx_claims.h"
#include "tdx/tdx_internal.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"

/* Intel DCAP quote header: version u16 (4 or 5), attestation key type u16, TEE type u32
 * 0x00000081 (TDX). */
static bool tdx_detect(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    uint16_t ver = 0, att_key_type = 0;
    uint32_t tee = 0;

    cvma_reader_init(&r, p, len);
    return cvma_reader_u16le(&r, &ver) && cvma_reader_u16le(&r, &att_key_type) &&
           cvma_reader_u32le(&r, &tee) && (ver == 4 || ver == 5) && tee == 0x81;
}

/*
 * An Intel DCAP quote of a version detect does not take (not 4 or 5), told apart from other
 * bytes by the header fields the TDX versions share: attestation key type 2 (ECDSA P-256) at
 * 0x02, TEE type 0x81 (TDX) at 0x04 and Intel's QE vendor ID at 0x0C. (Version 3 quotes are
 * SGX: cvma_kind_explain_unknown names them so before asking this.)
 */
static bool tdx_unknown_version(const uint8_t *p, size_t len, char *out, size_t out_len)
{
    struct cvma_reader r;
    uint16_t ver = 0, att_key_type = 0;
    uint32_t tee = 0;
    struct cvma_span vendor;

    cvma_reader_init(&r, p, len);
    if (!cvma_reader_u16le(&r, &ver) || !cvma_reader_u16le(&r, &att_key_type) ||
        !cvma_reader_u32le(&r, &tee) || !cvma_reader_skip(&r, 4) ||
        !cvma_reader_span(&r, sizeof cvma_tdx_intel_qe_vendor_id, &vendor)) {
        return false;
    }
    if (ver == 4 || ver == 5 || att_key_type != CVMA_TDX_ATT_KEY_P256 || tee != CVMA_TDX_TEE_TYPE ||
        memcmp(vendor.p, cvma_tdx_intel_qe_vendor_id, sizeof cvma_tdx_intel_qe_vendor_id) != 0) {
        return false;
    }
    snprintf(out, out_len,
             "tdx quote: version %u at 0x00 (known: 4, 5): a TDX quote by its attestation key "
             "type, TEE type and QE vendor ID, of a version this tool does not know",
             (unsigned)ver);
    return true;
}

static void tdx_verify_row(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                           const void *prepared, struct cvma_result *res)
{
    cvma_tdx_verify(p, len, opts, prepared, res);
    /* A CCEL in the bundle (part "event_log") is replayed against the verified quote's RTMRs
     * (docs/eventlog.md). A quote that did not verify has no RTMRs to compare with: its
     * result already says why. */
    const struct cvma_tdx_claims *tc = cvma_tdx_claims_of(res);
    for (size_t i = 0; tc != NULL && i < opts->n_collateral_parts; i++) {
        const struct cvma_named_part *pt = &opts->collateral_parts[i];
        if (strcmp(pt->name, "event_log") == 0) {
            cvma_eventlog_verify_rtmrs(pt->data.p, pt->data.len,
                                       (const uint8_t(*)[48])tc->quote.body.rtmr, res);
        }
    }
}

static void tdx_prepared_free(void *prepared)
{
    struct cvma_tdx_held *h = prepared;
    if (h != NULL) {
        cvma_tdx_collateral_cleanup(&h->c);
        free(h);
    }
}

static void *tdx_prepare(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts)
{
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = true};
    struct cvma_verify_opts o = *opts;
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    struct cvma_tdx_held *h = calloc(1, sizeof *h);
    struct cvma_verdict v;
    bool ok = false;

    cvma_verdict_init(&v);
    if (q == NULL || h == NULL) {
        goto out;
    }
    /* Only the verifier's own parts are prepared (cvma_tdx_collateral_get refuses the
     * evidence's with CVMA_E_USAGE): a bundle's items are settled against the verifier's own
     * collateral on every verification. */
    o.collateral_parts_only = true;
    if (cvma_tdx_quote_parse(p, len, &po, q, &v) != CVMA_OK) {
        goto out;
    }
    ok = cvma_tdx_collateral_get(q, &o, h, &v) == CVMA_OK;
out:
    cvma_verdict_cleanup(&v);
    if (q != NULL) {
        cvma_tdx_quote_cleanup(q);
        free(q);
    }
    if (!ok) {
        free(h); /* cvma_tdx_collateral_get cleaned it up on failure */
        return NULL;
    }
    return h;
}

/* The quote, then the PCK leaf (first certificate of the quote's PEM chain) and its SGX
 * extension. */
static json_t *tdx_show(const uint8_t *p, size_t len, bool allow_trailing, const char **heading,
                        struct cvma_verdict *v)
{
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = allow_trailing};
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    STACK_OF(X509) *chain = NULL;
    struct cvma_pck_ext pck;
    bool have_pck = false;
    json_t *o = NULL;

    *heading = "Intel TDX quote (parsed, NOT verified)";
    if (q == NULL) {
        v->oom = true;
        return NULL;
    }
    if (cvma_tdx_quote_parse(p, len, &po, q, v) != CVMA_OK) {
        goto out;
    }
    *heading = q->version == 5 ? "Intel TDX quote v5 (parsed, NOT verified)"
                               : "Intel TDX quote v4 (parsed, NOT verified)";
    chain = cvma_x509_load_pem_stack(q->pck_chain_pem.p, q->pck_chain_pem.len);
    if (chain == NULL) {
        cvma_reject(v, CVMA_R_CERT_PARSE,
                    "tdx quote: the PCK chain (%zu bytes) holds no PEM certificate",
                    q->pck_chain_pem.len);
    } else if (cvma_pck_ext_parse(sk_X509_value(chain, 0), &pck, v) == CVMA_OK) {
        have_pck = true;
    }
    if ((o = cvma_tdx_quote_json(q, have_pck ? &pck : NULL)) == NULL) {
        v->oom = true;
    }
out:
    sk_X509_pop_free(chain, X509_free);
    cvma_tdx_quote_cleanup(q);
    free(q);
    return o;
}

const struct cvma_kind cvma_kind_tdx = {
        .id = CVMA_KIND_TDX,
        .name = "tdx",
        .cli_name = "tdx",
        .what = "TDX quote",
        .detect = tdx_detect,
        .unknown_version = tdx_unknown_version,
        .verify = tdx_verify_row,
        .prepare = tdx_prepare,
        .collateral_names = cvma_tdx_collateral_names,
        .prepared_free = tdx_prepared_free,
        .show = tdx_show,
        .reads_event_log = true,
        .report_data_unchecked = "REPORTDATA was compared with no expected value (--report-data, a "
                                 "service nonce, a policy's report_data): freshness and binding "
                                 "not checked",
};
