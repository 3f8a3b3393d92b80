/*
 * The TPM 2.0 quote row of the evidence-kind table (verifier/kind.h). The evidence is the
 * quote (TPMS_ATTEST or TPM2B_ATTEST); its signature, AK and PCR values come as bundle parts
 * "tpm_signature", "tpm_ak" and "tpm_pcrs", the TCG event log as "event_log" (docs/bundle.md),
 * the expected nonce from the request (--nonce).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "collateral/source.h"
#include "common/hex.h"
#include "common/reader.h"
#include "tpm/tpm.h"
#include "verifier/kind.h"

/* A TPMS_ATTEST starts with TPM_GENERATED_VALUE 0xff544347 ("\xffTCG") and a u16 type; a
 * TPM2B_ATTEST has a u16 size first (TPM 2.0 Part 2, 10.12.12). */
static bool tpm_detect(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    uint32_t magic = 0;
    uint16_t size = 0, type = 0;

    cvma_reader_init(&r, p, len);
    if (cvma_reader_u32be(&r, &magic) && cvma_reader_u16be(&r, &type) && magic == 0xff544347u) {
        return true;
    }
    cvma_reader_init(&r, p, len);
    return cvma_reader_u16be(&r, &size) && cvma_reader_u32be(&r, &magic) &&
           cvma_reader_u16be(&r, &type) && magic == 0xff544347u;
}

static void tpm_verify_row(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                           const void *prepared, struct cvma_result *res)
{
    const struct cvma_named_part *sig = cvma_verify_opts_part(opts, "tpm_signature");
    const struct cvma_named_part *ak = cvma_verify_opts_part(opts, "tpm_ak");
    const struct cvma_named_part *pcrs = cvma_verify_opts_part(opts, "tpm_pcrs");
    const struct cvma_named_part *log = cvma_verify_opts_part(opts, "event_log");
    struct cvma_tpm_quote_in in;

    (void)prepared;
    memset(&in, 0, sizeof in);
    res->verdict.checks_required = CVMA_CHECK_PARSE | CVMA_CHECK_SIGNATURE;
    cvma_tpm_check_no_report_data(opts, &res->verdict, "tpm quote");
    if (sig == NULL && ak == NULL) {
        /* A quote sent alone (not in a bundle, or in one without either part). */
        cvma_reject(&res->verdict, CVMA_R_PARSE_TRUNCATED,
                    "tpm quote: neither its signature (tpm_signature) nor its AK (tpm_ak) came "
                    "with it: a quote is verified in a bundle holding both (docs/bundle.md)");
        return;
    }
    if (sig == NULL || ak == NULL) {
        cvma_reject(&res->verdict, CVMA_R_PARSE_TRUNCATED,
                    "tpm quote: the bundle has no %s part: a quote is verified with its "
                    "signature (tpm_signature) and AK (tpm_ak)",
                    sig == NULL ? "tpm_signature" : "tpm_ak");
        return;
    }
    in.attest.p = p;
    in.attest.len = len;
    in.sig = sig->data;
    in.ak = ak->data;
    if (pcrs != NULL) {
        in.pcrs = pcrs->data;
    }
    if (log != NULL) {
        in.eventlog = log->data;
    }
    in.has_nonce = opts->has_nonce;
    in.nonce = opts->nonce;
    in.nonce_len = opts->nonce_len;
    in.allow_trailing_data = opts->allow_trailing_data;
    cvma_tpm_quote_verify(&in, res);
}

static json_t *tpm_show(const uint8_t *p, size_t len, bool allow_trailing, const char **heading,
                        struct cvma_verdict *v)
{
    struct cvma_tpm_attest *at = calloc(1, sizeof *at);
    json_t *o = NULL;
    char *h;

    *heading = "TPM 2.0 quote (parsed, NOT verified)";
    if (at == NULL) {
        v->oom = true;
        return NULL;
    }
    if (cvma_tpm_attest_parse(p, len, allow_trailing, at, v) == CVMA_OK &&
        (o = json_object()) != NULL) {
        const TPMS_ATTEST *a = &at->a;
        json_object_set_new(o, "magic", json_string("ff544347"));
        json_object_set_new(o, "type", json_string("quote"));
        if ((h = cvma_hex_dup(a->qualifiedSigner.name, a->qualifiedSigner.size)) != NULL) {
            json_object_set_new(o, "qualified_signer", json_string(h));
            free(h);
        }
        if ((h = cvma_hex_dup(a->extraData.buffer, a->extraData.size)) != NULL) {
            json_object_set_new(o, "extra_data", json_string(h));
            free(h);
        }
        json_object_set_new(o, "clock", cvma_tpm_clock_json(a->clockInfo.clock));
        json_object_set_new(o, "reset_count", json_integer(a->clockInfo.resetCount));
        json_object_set_new(o, "restart_count", json_integer(a->clockInfo.restartCount));
        json_object_set_new(o, "safe", json_boolean(a->clockInfo.safe));
        char fw[19];
        snprintf(fw, sizeof fw, "%016llx", (unsigned long long)a->firmwareVersion);
        json_object_set_new(o, "firmware_version", json_string(fw));
        if ((h = cvma_hex_dup(a->attested.quote.pcrDigest.buffer,
                              a->attested.quote.pcrDigest.size)) != NULL) {
            json_object_set_new(o, "pcr_digest", json_string(h));
            free(h);
        }
    }
    free(at);
    return o;
}

const struct cvma_kind cvma_kind_tpm = {
        .id = CVMA_KIND_TPM,
        .name = "tpm",
        .cli_name = "tpm",
        .what = "TPM 2.0 quote",
        .detect = tpm_detect,
        .verify = tpm_verify_row,
        .prepare = NULL,
        .prepared_free = NULL,
        .show = tpm_show,
        .reads_event_log = true,
        .reads_tpm_parts = true,
};

/* see tpm/tpm.h */
void cvma_tpm_check_no_report_data(const struct cvma_verify_opts *opts, struct cvma_verdict *v,
                                   const char *what)
{
    uint8_t padded[64] = {0};
    if (!opts->has_report_data) {
        return;
    }
    /* The request's nonce given as REPORT_DATA too (zero-padded) is checked as the nonce. */
    if (opts->has_nonce && opts->nonce_len <= sizeof padded) {
        memcpy(padded, opts->nonce, opts->nonce_len);
        if (CRYPTO_memcmp(padded, opts->report_data, sizeof padded) == 0) {
            return;
        }
    }
    cvma_reject(v, CVMA_R_NONCE_REPORT_DATA_MISMATCH,
                "%s: this evidence has no REPORT_DATA the expected report data (or a bound public "
                "key) could be compared with; only a nonce can be checked (in the quote's "
                "extraData)",
                what);
}
