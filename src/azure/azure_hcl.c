/* The Azure HCL report and Trustee's JSON evidence: see azure/azure.h and docs/azure.md. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/azure.h"
#include "common/base64.h"
#include "common/hex.h"
#include "common/jcheck.h"
#include "common/json_out.h"
#include "common/reader.h"

bool cvma_azure_hcl_detect(const uint8_t *p, size_t len)
{
    return len >= 4 && memcmp(p, "HCLA", 4) == 0;
}

/* The parse proper; out may hold fields read before a refusal (cvma_azure_hcl_parse clears
 * them). */
static enum cvma_status hcl_parse(const uint8_t *p, size_t len, bool allow_trailing_data,
                                  struct cvma_azure_hcl *out, struct cvma_verdict *v)
{
    struct cvma_reader r;
    struct cvma_span rest;
    uint8_t sig[4], reserved[12];
    uint32_t claims_len = 0, status = 0;

    memset(out, 0, sizeof *out);
    cvma_reader_init(&r, p, len);
    if (!cvma_reader_bytes(&r, sig, sizeof sig) || memcmp(sig, "HCLA", 4) != 0) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: %zu bytes without the signature \"HCLA\"", len);
    }
    if (!cvma_reader_u32le(&r, &out->version) || !cvma_reader_u32le(&r, &out->request_size) ||
        !cvma_reader_u32le(&r, &out->request_type) || !cvma_reader_u32le(&r, &status) ||
        !cvma_reader_bytes(&r, reserved, sizeof reserved) ||
        !cvma_reader_span(&r, CVMA_AZURE_HW_REPORT_LEN, &out->hw_report) ||
        !cvma_reader_u32le(&r, &out->rt_size) || !cvma_reader_u32le(&r, &out->rt_version) ||
        !cvma_reader_u32le(&r, &out->report_type) || !cvma_reader_u32le(&r, &out->hash_type) ||
        !cvma_reader_u32le(&r, &claims_len)) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: %zu bytes, shorter than its header, hardware report and "
                           "runtime data header (%u)",
                           len,
                           CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN +
                                   CVMA_AZURE_RUNTIME_HDR_LEN);
    }
    /* OpenHCL's IgvmAttestRequestHeader: version 1 or 2 (the samples carry both); request type
     * 0 INVALID, 1 KEY_RELEASE, 2 AK_CERT, 3 WRAPPED_KEY. The vTPM's report is built as an
     * AK_CERT request, the only one whose claims carry HCLAkPub and the guest's user data; a
     * report of another type is not the one read here. */
    if (out->version != 1 && out->version != 2) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: header version (bytes 4..7) %u, not 1 or 2", out->version);
    }
    if (out->request_type != CVMA_AZURE_REQ_TYPE_AK_CERT) {
        static const char *const names[] = {"INVALID", "KEY_RELEASE", "AK_CERT", "WRAPPED_KEY"};
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: request type (bytes 12..15) %u (%s), not %u (AK_CERT, the "
                           "vTPM's report)",
                           out->request_type,
                           out->request_type < sizeof names / sizeof names[0]
                                   ? names[out->request_type]
                                   : "unknown",
                           CVMA_AZURE_REQ_TYPE_AK_CERT);
    }
    if (claims_len == 0 || claims_len > CVMA_AZURE_CLAIMS_MAX ||
        !cvma_reader_span(&r, claims_len, &out->claims)) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: runtime claims length %u with %zu bytes left (1..%u)",
                           claims_len, cvma_reader_left(&r), CVMA_AZURE_CLAIMS_MAX);
    }
    if (out->report_type != CVMA_AZURE_REPORT_TYPE_SNP &&
        out->report_type != CVMA_AZURE_REPORT_TYPE_TDX) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: runtime data report type %u (2 = SEV-SNP, 4 = TDX)",
                           out->report_type);
    }
    if (out->report_type == CVMA_AZURE_REPORT_TYPE_TDX) {
        /* The slot holds a 1,024-byte TDREPORT and zeros: nothing signs or compares the rest. */
        const uint8_t *tail = out->hw_report.p + CVMA_AZURE_TDREPORT_LEN;
        size_t tail_len = out->hw_report.len - CVMA_AZURE_TDREPORT_LEN;
        for (size_t i = 0; i < tail_len; i++) {
            if (tail[i] != 0) {
                return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                                   "hcl report: byte 0x%02x at offset %zu, in the %zu bytes after "
                                   "the 1,024-byte TDREPORT in the hardware report, not zero",
                                   tail[i],
                                   (size_t)CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_TDREPORT_LEN + i,
                                   tail_len);
            }
        }
    }
    if (out->hash_type != CVMA_AZURE_HASH_TYPE_SHA256) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: runtime data hash type %u (only 1 = SHA-256 is known)",
                           out->hash_type);
    }
    /* docs/azure.md: the runtime data header's version is 1 (OpenHCL keeps the vTPM's report
     * at IgvmAttestRequestVersion 1; version 2 is its request to the host, where a 4-byte
     * capability bitmap sits before the claims), its size counts itself and the claims; the request
     * size counts everything from "HCLA" to the claims' end (2,346 = 32 + 1,184 + 20 + 1,110 in the
     * SEV-SNP samples); the status and the reserved header bytes are zero. A field that says
     * otherwise describes another layout than the one read here. */
    if (out->rt_version != CVMA_AZURE_RUNTIME_VERSION) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: runtime data version %u (only %u is known)",
                           out->rt_version, CVMA_AZURE_RUNTIME_VERSION);
    }
    if (out->rt_size != CVMA_AZURE_RUNTIME_HDR_LEN + claims_len) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: runtime data size %u, not %u (its %u-byte header and "
                           "the %u bytes of claims)",
                           out->rt_size, CVMA_AZURE_RUNTIME_HDR_LEN + claims_len,
                           CVMA_AZURE_RUNTIME_HDR_LEN, claims_len);
    }
    uint32_t want_request = CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN +
                            CVMA_AZURE_RUNTIME_HDR_LEN + claims_len;
    if (out->request_size != want_request) {
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: request size %u, not %u (the %u-byte header, the "
                           "hardware report, the runtime data header and the %u bytes of "
                           "claims)",
                           out->request_size, want_request, CVMA_AZURE_HCL_HEADER_LEN, claims_len);
    }
    if (status != 0) {
        /* OpenHCL's IgvmAttestRequestHeader: a u32 status, then 12 reserved bytes */
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: header status (bytes 16..19) %u, not 0", status);
    }
    if (!cvma_bytes_are_zero(reserved, sizeof reserved)) {
        char hex[2 * sizeof reserved + 1];
        cvma_hex_encode(reserved, sizeof reserved, hex, sizeof hex);
        return cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                           "hcl report: reserved header bytes 20..31 are %s, not zero", hex);
    }
    /* After the claims: the format's zero padding (the samples carry 163 to 254 bytes of it),
     * taken without a note. Anything else there is bytes nothing signs or hashes: DESIGN.md's
     * trailing-data rule. */
    cvma_reader_rest(&r, &rest);
    out->padding = rest.len;
    for (size_t i = 0; i < rest.len; i++) {
        if (rest.p[i] == 0) {
            continue;
        }
        size_t end = len - rest.len, off = end + i;
        if (allow_trailing_data) {
            cvma_verdict_add(v, CVMA_R_PARSE_TRAILING_DATA, CVMA_SEV_WARNING,
                             "hcl report: non-zero byte 0x%02x at offset %zu, in the %zu bytes "
                             "after the runtime claims (which end at %zu): unsigned, allowed by "
                             "--allow-trailing-data and ignored",
                             rest.p[i], off, rest.len, end);
            break;
        }
        return cvma_reject(v, CVMA_R_PARSE_TRAILING_DATA,
                           "hcl report: non-zero byte 0x%02x at offset %zu, in the %zu bytes "
                           "after the runtime claims (which end at %zu): unsigned, not the "
                           "report's zero padding (use --allow-trailing-data to accept them as "
                           "a warning)",
                           rest.p[i], off, rest.len, end);
    }
    return CVMA_OK;
}

enum cvma_status cvma_azure_hcl_parse(const uint8_t *p, size_t len, bool allow_trailing_data,
                                      struct cvma_azure_hcl *out, struct cvma_verdict *v)
{
    enum cvma_status st = hcl_parse(p, len, allow_trailing_data, out, v);
    if (st != CVMA_OK) {
        /* An out-parameter is set only on success: a report refused for its runtime data
         * header gives back none of the header fields read before it. */
        memset(out, 0, sizeof *out);
    }
    return st;
}

static void set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char *h = cvma_hex_dup(p, n);
    if (h != NULL) {
        json_object_set_new(o, key, json_string(h));
        free(h);
    }
}

json_t *cvma_azure_hcl_json(const struct cvma_azure_hcl *h)
{
    json_t *o = json_object();
    json_error_t je;
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "signature", json_string("HCLA"));
    json_object_set_new(o, "version", json_integer(h->version));
    json_object_set_new(o, "request_size", json_integer(h->request_size));
    json_object_set_new(o, "request_type", json_integer(h->request_type));
    json_object_set_new(
            o, "report_type",
            json_string(h->report_type == CVMA_AZURE_REPORT_TYPE_SNP ? "sev-snp" : "tdx"));
    set_hex(o, "hardware_report", h->hw_report.p, h->hw_report.len);
    json_object_set_new(o, "runtime_data_size", json_integer(h->rt_size));
    json_object_set_new(o, "runtime_data_version", json_integer(h->rt_version));
    json_object_set_new(o, "claims_length", json_integer((json_int_t)h->claims.len));
    bool oom;
    json_t *c = cvma_json_loadb_capped(h->claims.p, h->claims.len, CVMA_JSON_EVIDENCE_MAX_VALUES,
                                       &je, &oom);
    if (c != NULL) {
        json_object_set_new(o, "runtime_claims", c);
    } else {
        json_object_set_new(o, "runtime_claims_error",
                            json_string(oom ? "out of memory" : je.text));
    }
    json_object_set_new(o, "padding", json_integer((json_int_t)h->padding));
    return o;
}

/* ---------- Trustee's JSON evidence ---------- */

/* Skips whitespace; true when the JSON object's text holds "key" (a quick look, no parse). */
static bool json_has_key(const uint8_t *p, size_t len, const char *key)
{
    struct cvma_reader r;
    size_t n = strlen(key);
    cvma_reader_init(&r, p, len);
    cvma_reader_skip_ws(&r);
    if (!cvma_reader_starts_with(&r, "{")) {
        return false;
    }
    do {
        struct cvma_reader at = r; /* a quote, the key and a quote from here? */
        uint8_t open = 0, close = 0;
        if (cvma_reader_u8(&at, &open) && open == '"' && cvma_reader_starts_with(&at, key) &&
            cvma_reader_skip(&at, n) && cvma_reader_u8(&at, &close) && close == '"') {
            return true;
        }
    } while (cvma_reader_skip(&r, 1));
    return false;
}

bool cvma_azure_json_detect(const uint8_t *p, size_t len)
{
    /* A bundle (docs/bundle.md) is never Trustee's evidence, whatever strings it holds. */
    /* Trustee's evidence, or its older form ("report" and "quote", byte arrays). */
    return len <= (8u << 20) && !json_has_key(p, len, "cvmattest_bundle") &&
           ((json_has_key(p, len, "hcl_report") && json_has_key(p, len, "tpm_quote")) ||
            (json_has_key(p, len, "report") && json_has_key(p, len, "quote") &&
             json_has_key(p, len, "message") && json_has_key(p, len, "signature")));
}

bool cvma_azure_json_is_tdx(const uint8_t *p, size_t len)
{
    return json_has_key(p, len, "td_quote");
}

/* see azure/azure.h */
bool cvma_azure_json_refused(const uint8_t *p, size_t len, size_t max, char *why, size_t why_len)
{
    bool hcl = json_has_key(p, len, "hcl_report"), tq = json_has_key(p, len, "tpm_quote");
    bool old_report = json_has_key(p, len, "report"), old_quote = json_has_key(p, len, "quote");
    if (json_has_key(p, len, "cvmattest_bundle") || !(hcl || (old_report && tq))) {
        return false;
    }
    /* docs/azure.md: the newer names (hcl_report, tpm_quote) or the older (report, quote),
     * one spelling or the other. */
    if ((hcl && !tq && old_quote) || (!hcl && old_report && tq)) {
        cvma_errf(why, why_len,
                  "Azure evidence (docs/azure.md) that mixes the member spellings: \"%s\" with "
                  "\"%s\"; it is \"hcl_report\" and \"tpm_quote\", or the older \"report\" and "
                  "\"quote\", one spelling or the other",
                  hcl ? "hcl_report" : "report", hcl ? "quote" : "tpm_quote");
        return true;
    }
    if (!tq) {
        cvma_errf(why, why_len,
                  "Azure evidence (docs/azure.md): an \"hcl_report\" without the \"tpm_quote\" "
                  "member that binds it");
        return true;
    }
    if (len > max) {
        cvma_errf(why, why_len,
                  "Azure evidence (docs/azure.md) of %zu bytes, over the %zu it may "
                  "hold",
                  len, max);
        return true;
    }
    return false;
}

/*
 * Bytes of a JSON value: a string (base64, base64url with or without padding, or hex when
 * hex is true) or, in older evidence, an array of numbers 0..255. CVMA_REJECTED when it is
 * none of those, CVMA_E_NOMEM when memory ran out (never read as malformed).
 */
static enum cvma_status json_bytes(const json_t *j, bool hex, struct cvma_buf *out)
{
    out->p = NULL;
    out->len = 0;
    if (json_is_array(j)) {
        size_t n = json_array_size(j);
        if (n == 0) {
            return CVMA_REJECTED;
        }
        if ((out->p = malloc(n)) == NULL) {
            return CVMA_E_NOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(j, i);
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255) {
                cvma_buf_free(out);
                return CVMA_REJECTED;
            }
            out->p[i] = (uint8_t)json_integer_value(e);
        }
        out->len = n;
        return CVMA_OK;
    }
    if (!json_is_string(j)) {
        return CVMA_REJECTED;
    }
    const char *s = json_string_value(j);
    size_t sl = json_string_length(j);
    if (sl == 0) {
        return CVMA_REJECTED;
    }
    if ((out->p = malloc(sl)) == NULL) {
        return CVMA_E_NOMEM;
    }
    if (hex) {
        if (!cvma_hex_decode(s, out->p, sl, &out->len) || out->len == 0) {
            cvma_buf_free(out);
            return CVMA_REJECTED;
        }
        return CVMA_OK;
    }
    /* Trustee writes base64url with padding; base64 with its own alphabet is read too. One
     * alphabet only, and padding only as much as the length needs (the text's length then a
     * multiple of 4): normalised to unpadded base64url, which the decoder reads strictly. */
    bool url = strcspn(s, "-_") < sl, std = strcspn(s, "+/") < sl;
    size_t tl = sl;
    while (tl > 0 && sl - tl < 2 && s[tl - 1] == '=') {
        tl--;
    }
    if ((url && std) || (tl < sl && sl % 4 != 0)) {
        cvma_buf_free(out);
        return CVMA_REJECTED;
    }
    char *t = malloc(tl + 1);
    if (t == NULL) {
        cvma_buf_free(out);
        return CVMA_E_NOMEM;
    }
    for (size_t i = 0; i < tl; i++) {
        char c = s[i];
        t[i] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    bool ok = cvma_base64_decode(t, tl, CVMA_B64_URL, out->p, sl, &out->len) && out->len > 0;
    free(t);
    if (!ok) {
        cvma_buf_free(out);
        return CVMA_REJECTED;
    }
    return CVMA_OK;
}

/* The PCR values as {"sha256": {"0": "<hex>", ...}} into *out: CVMA_REJECTED when they are not
 * 1..24 hex SHA-256 values, CVMA_E_NOMEM when memory ran out. */
static enum cvma_status pcrs_to_json(const json_t *arr, char **out)
{
    enum cvma_status st = CVMA_E_NOMEM;
    json_t *bank = json_object(), *o = json_pack("{s:o}", "sha256", bank);
    char key[24];
    *out = NULL;
    if (o == NULL) {
        goto out;
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 24) {
        st = CVMA_REJECTED;
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct cvma_buf b;
        if ((st = json_bytes(json_array_get(arr, i), true, &b)) != CVMA_OK) {
            goto out;
        }
        if (b.len != 32) { /* the sha256 bank's values */
            cvma_buf_free(&b);
            st = CVMA_REJECTED;
            goto out;
        }
        char *h = cvma_hex_dup(b.p, b.len);
        cvma_buf_free(&b);
        snprintf(key, sizeof key, "%zu", i);
        if (h == NULL || json_object_set_new(bank, key, json_string(h)) != 0) {
            free(h);
            st = CVMA_E_NOMEM;
            goto out;
        }
        free(h);
    }
    st = (*out = cvma_json_compact(o, NULL)) != NULL ? CVMA_OK : CVMA_E_NOMEM;
out:
    json_decref(o);
    return st;
}

void cvma_azure_evidence_cleanup(struct cvma_azure_evidence *e)
{
    cvma_buf_free(&e->hcl_report);
    cvma_buf_free(&e->quote_msg);
    cvma_buf_free(&e->quote_sig);
    cvma_buf_free(&e->vcek);
    cvma_buf_free(&e->td_quote);
    free(e->pcrs_json);
    memset(e, 0, sizeof *e); /* a refused parse gives back nothing, the version included */
}

enum cvma_status cvma_azure_evidence_parse(const uint8_t *p, size_t len,
                                           struct cvma_azure_evidence *out, struct cvma_verdict *v)
{
    json_error_t je;
    enum cvma_status st = CVMA_REJECTED;
    const char *key;
    json_t *val;

    memset(out, 0, sizeof *out);
    bool oom;
    json_t *j = cvma_json_loadb_capped(p, len, CVMA_AZURE_EVIDENCE_MAX_VALUES, &je, &oom);
    if (oom) {
        v->oom = true; /* an error, never a verdict on the evidence */
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (!json_is_object(j)) {
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure evidence: not a JSON object (line %d: %s)", je.line,
                    j == NULL ? je.text : "not an object");
        goto out;
    }
    json_object_foreach(j, key, val)
    {
        if (strcmp(key, "version") != 0 && strcmp(key, "hcl_report") != 0 &&
            strcmp(key, "tpm_quote") != 0 && strcmp(key, "vcek") != 0 &&
            strcmp(key, "td_quote") != 0 && strcmp(key, "report") != 0 &&
            strcmp(key, "quote") != 0) {
            cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED, "azure evidence: unknown member \"%s\"",
                        key);
            goto out;
        }
    }
    /* The older form names them "report" and "quote": one spelling or the other, not both. */
    json_t *hcl = json_object_get(j, "hcl_report"), *q = json_object_get(j, "tpm_quote");
    if ((hcl != NULL && json_object_get(j, "report") != NULL) ||
        (q != NULL && json_object_get(j, "quote") != NULL)) {
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure evidence: both \"hcl_report\" and \"report\" (or \"tpm_quote\" and "
                    "\"quote\"): which one is the evidence?");
        goto out;
    }
    hcl = hcl != NULL ? hcl : json_object_get(j, "report");
    q = q != NULL ? q : json_object_get(j, "quote");
    json_t *ver = json_object_get(j, "version");
    json_t *vcek = json_object_get(j, "vcek");
    json_t *tdq = json_object_get(j, "td_quote");
    if (ver != NULL && (!json_is_integer(ver) || json_integer_value(ver) < 0 ||
                        json_integer_value(ver) > INT_MAX)) {
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure evidence: \"version\" is not a number from 0 to %d", INT_MAX);
        goto out;
    }
    out->version = ver != NULL ? (int)json_integer_value(ver) : 0;
    enum cvma_status bst = json_bytes(hcl, false, &out->hcl_report);
    if (bst != CVMA_OK) {
        if (bst == CVMA_E_NOMEM) {
            goto nomem;
        }
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure evidence: \"hcl_report\" is missing or not base64 (or a byte array)");
        goto out;
    }
    if (json_is_object(q)) {
        const char *qk;
        json_t *qv;
        json_object_foreach(q, qk, qv)
        {
            if (strcmp(qk, "message") != 0 && strcmp(qk, "signature") != 0 &&
                strcmp(qk, "pcrs") != 0) {
                cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                            "azure evidence: unknown member \"tpm_quote\".\"%s\"", qk);
                goto out;
            }
        }
    }
    bst = json_is_object(q) ? json_bytes(json_object_get(q, "message"), true, &out->quote_msg)
                            : CVMA_REJECTED;
    if (bst == CVMA_OK) {
        bst = json_bytes(json_object_get(q, "signature"), true, &out->quote_sig);
    }
    if (bst != CVMA_OK) {
        if (bst == CVMA_E_NOMEM) {
            goto nomem;
        }
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure evidence: \"tpm_quote\" needs \"message\" and \"signature\" in hex");
        goto out;
    }
    if (json_object_get(q, "pcrs") != NULL &&
        (bst = pcrs_to_json(json_object_get(q, "pcrs"), &out->pcrs_json)) != CVMA_OK) {
        if (bst == CVMA_E_NOMEM) {
            goto nomem;
        }
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure evidence: \"tpm_quote\".\"pcrs\" must be 1..24 hex SHA-256 values");
        goto out;
    }
    if (vcek != NULL) {
        const char *s = json_string_value(vcek);
        if (s != NULL && strncmp(s, "-----BEGIN", 10) == 0) {
            size_t n = json_string_length(vcek);
            if ((out->vcek.p = malloc(n)) == NULL) {
                goto nomem;
            }
            memcpy(out->vcek.p, s, n);
            out->vcek.len = n;
        } else if ((bst = json_bytes(vcek, false, &out->vcek)) != CVMA_OK) {
            if (bst == CVMA_E_NOMEM) {
                goto nomem;
            }
            cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                        "azure evidence: \"vcek\" is neither PEM nor base64 DER");
            goto out;
        }
    }
    if (tdq != NULL && (bst = json_bytes(tdq, false, &out->td_quote)) != CVMA_OK) {
        if (bst == CVMA_E_NOMEM) {
            goto nomem;
        }
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure evidence: \"td_quote\" is not base64 (or a byte array)");
        goto out;
    }
    st = CVMA_OK;
    goto out;
nomem:
    v->oom = true; /* an error, never a verdict on the evidence */
    st = CVMA_E_NOMEM;
out:
    json_decref(j);
    if (st != CVMA_OK) {
        cvma_azure_evidence_cleanup(out);
    }
    return st;
}
