/*
 * libFuzzer target: the Azure HCL report parser (and its JSON view), and Trustee's JSON
 * evidence reader with the HCL report it carries (the same bytes as both inputs).
 *
 * Answers are checked against a reading by hand here: the HCL report's header ("HCLA",
 * version 1 or 2, request size = 1,236 + claims length, request type 2, zero reserved bytes), the
 * hardware report slice (for TDX a TDREPORT and zeros), the runtime data header (size = 20 + claims
 * length, version 1, report type, hash type, claims length), the claims span and the padding after
 * them (zero, or with allow_trailing_data anything with one PARSE_TRAILING_DATA warning), accepted
 * or refused alike (a refusal gives back nothing), each parse done both with and without
 * allow_trailing_data; the JSON view's runtime claims against jansson's reading of the same span;
 * the evidence's decoded parts against jansson and base64 / hex decoded here. Evidence of the
 * documented form (read with jansson and decoded here) is never refused for its form, and a refusal
 * gives back nothing.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "azure/azure.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The HCL report by hand: header 32 bytes (version 1 or 2, request size, request type 2
 * (AK_CERT), status and reserved zero), hardware report 1,184, runtime data header 20 (size,
 * version, report type, hash type, claims length), claims, zero padding. v holds only this
 * parse's reasons. */
static void check_hcl(const uint8_t *p, size_t len, bool allow, enum cvma_status st,
                      const struct cvma_azure_hcl *h, const struct cvma_verdict *v)
{
    static const struct cvma_azure_hcl zero;
    bool ok = len >= 1236 && memcmp(p, "HCLA", 4) == 0 &&
              (fz_le32(p + 4) == 1 || fz_le32(p + 4) == 2) && fz_le32(p + 12) == 2;
    uint32_t cl = ok ? fz_le32(p + 1232) : 0;
    ok = ok && cl >= 1 && cl <= CVMA_AZURE_CLAIMS_MAX && len - 1236 >= cl &&
         (fz_le32(p + 1224) == 2 || fz_le32(p + 1224) == 4) && fz_le32(p + 1228) == 1 &&
         fz_le32(p + 1220) == 1 && fz_le32(p + 1216) == 20 + cl && fz_le32(p + 8) == 1236 + cl;
    for (size_t i = 16; ok && i < 32; i++) {
        ok = p[i] == 0;
    }
    /* TDX: the hardware report is a 1,024-byte TDREPORT and zeros */
    for (size_t i = 32 + 1024; ok && fz_le32(p + 1224) == 4 && i < 32 + 1184; i++) {
        ok = p[i] == 0;
    }
    bool padding_zero = true;
    for (size_t i = 1236 + (size_t)cl; ok && i < len; i++) {
        padding_zero = padding_zero && p[i] == 0;
    }
    bool refused = !ok || (!padding_zero && !allow);
    CHECK((st == CVMA_OK) == !refused);
    if (refused) {
        CHECK(memcmp(h, &zero, sizeof zero) == 0); /* refused: nothing given back */
        CHECK(v->n_reasons == 1 &&
              v->reasons[0].code == (ok ? CVMA_R_PARSE_TRAILING_DATA : CVMA_R_AZURE_HCL_MALFORMED));
        return;
    }
    /* taken: no reason, or one warning for the padding allowed */
    CHECK(padding_zero ? v->n_reasons == 0
                       : v->n_reasons == 1 && v->reasons[0].code == CVMA_R_PARSE_TRAILING_DATA &&
                                 v->reasons[0].severity == CVMA_SEV_WARNING);
    CHECK(h->version == fz_le32(p + 4) && h->request_size == fz_le32(p + 8) &&
          h->request_type == fz_le32(p + 12));
    CHECK(h->hw_report.p == p + 32 && h->hw_report.len == 1184);
    CHECK(h->rt_size == fz_le32(p + 1216) && h->rt_version == fz_le32(p + 1220) &&
          h->report_type == fz_le32(p + 1224) && h->hash_type == 1);
    CHECK(h->claims.p == p + 1236 && h->claims.len == cl);
    CHECK(h->padding == len - 1236 - cl);

    json_t *o = cvma_azure_hcl_json(h);
    if (o == NULL) {
        return;
    }
    json_t *c = json_loadb((const char *)p + 1236, cl, JSON_REJECT_DUPLICATES, NULL);
    const json_t *rc = json_object_get(o, "runtime_claims");
    CHECK(c != NULL ? json_equal(c, rc) : rc == NULL && json_object_get(o, "runtime_claims_error"));
    CHECK(json_integer_value(json_object_get(o, "version")) == h->version);
    CHECK(json_integer_value(json_object_get(o, "claims_length")) == (json_int_t)cl);
    CHECK(strcmp(json_string_value(json_object_get(o, "report_type")),
                 fz_le32(p + 1224) == 2 ? "sev-snp" : "tdx") == 0);
    json_decref(c);
    json_decref(o);
}

static int b64v(char c)
{
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+' || c == '-' ? 62
           : c == '/' || c == '_' ? 63
                                  : -1;
}

static int hexv(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A JSON value's bytes as Trustee writes them: base64 of either alphabet (padding dropped),
 * hex when hex, or an array of 0..255. Compared with got; false when it does not decode. */
static bool same_bytes(const json_t *j, bool hex, const uint8_t *got, size_t got_len)
{
    size_t k = 0;
    if (json_is_array(j)) {
        if (json_array_size(j) != got_len) {
            return false;
        }
        for (size_t i = 0; i < got_len; i++) {
            if (json_integer_value(json_array_get(j, i)) != got[i]) {
                return false;
            }
        }
        return got_len > 0;
    }
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    if (s == NULL || n == 0) {
        return false;
    }
    if (hex) {
        if (n % 2 != 0 || n / 2 != got_len) {
            return false;
        }
        for (size_t i = 0; i < got_len; i++) {
            int a = hexv(s[2 * i]), b = hexv(s[2 * i + 1]);
            if (a < 0 || b < 0 || got[i] != (a << 4 | b)) {
                return false;
            }
        }
        return true;
    }
    while (n > 0 && s[n - 1] == '=') {
        n--;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64v(s[i]);
        if (v < 0) {
            return false;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k >= got_len || got[k++] != (uint8_t)(acc >> bits)) {
                return false;
            }
        }
    }
    return k == got_len && got_len > 0;
}

/* Base64 of either alphabet (not both in one string), with the padding its length needs or
 * none, canonical, of at least one byte: how docs/azure.md says Trustee's bytes may come. */
static bool b64_either_ok(const char *s, size_t n)
{
    bool url = strpbrk(s, "-_") != NULL;
    size_t pad = 0;
    if (url && strpbrk(s, "+/") != NULL) {
        return false;
    }
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=') {
        pad++;
    }
    if (pad > 0 && n % 4 != 0) {
        return false;
    }
    uint8_t *out = malloc(n + 1);
    long k = -1;
    if (out != NULL) {
        /* unpadded: the URL-safe reading, on a copy in that alphabet */
        char *t = malloc(n + 1);
        if (t != NULL) {
            for (size_t i = 0; i < n - pad; i++) {
                t[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
            }
            k = fz_b64_decode((const uint8_t *)t, n - pad, true, out, n + 1);
            free(t);
        }
        free(out);
    }
    return k > 0;
}

/* A byte value of the documented form: a non-empty array of integers 0..255, or a non-empty
 * string of hex (hex true; an even number of digits of either case) or base64. */
static bool bytes_ok(const json_t *j, bool hex, size_t want_len)
{
    if (json_is_array(j)) {
        size_t n = json_array_size(j);
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(j, i);
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255) {
                return false;
            }
        }
        return n > 0 && (want_len == 0 || n == want_len);
    }
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    if (s == NULL || n == 0) {
        return false;
    }
    if (!hex) {
        return want_len == 0 && b64_either_ok(s, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (hexv(s[i]) < 0) {
            return false;
        }
    }
    return n % 2 == 0 && (want_len == 0 || n == 2 * want_len);
}

/* Whether the input is Trustee's JSON evidence as docs/azure.md describes it, read with
 * jansson alone: only its members, "version" an integer, "hcl_report" (and "td_quote") bytes
 * in base64, "tpm_quote" an object of "message" and "signature" in hex and "pcrs" (1..24 hex
 * SHA-256 values), "vcek" PEM or base64. Such evidence must never be refused for its form. */
static bool evidence_well_formed(const uint8_t *p, size_t len)
{
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL), *val;
    json_t *q = json_object_get(j, "tpm_quote");
    const json_t *ver = json_object_get(j, "version");
    const json_t *vcek = json_object_get(j, "vcek"), *tdq = json_object_get(j, "td_quote");
    const json_t *pcrs = json_object_get(q, "pcrs");
    const char *key;
    bool ok = json_is_object(j) && json_is_object(q);
    json_object_foreach(j, key, val)
    {
        ok = ok && (strcmp(key, "version") == 0 || strcmp(key, "hcl_report") == 0 ||
                    strcmp(key, "tpm_quote") == 0 || strcmp(key, "vcek") == 0 ||
                    strcmp(key, "td_quote") == 0);
    }
    json_object_foreach(q, key, val)
    {
        ok = ok && (strcmp(key, "message") == 0 || strcmp(key, "signature") == 0 ||
                    strcmp(key, "pcrs") == 0);
    }
    ok = ok &&
         (ver == NULL || (json_is_integer(ver) && json_integer_value(ver) >= 0 &&
                          json_integer_value(ver) <= INT_MAX)) &&
         bytes_ok(json_object_get(j, "hcl_report"), false, 0) &&
         bytes_ok(json_object_get(q, "message"), true, 0) &&
         bytes_ok(json_object_get(q, "signature"), true, 0) &&
         (tdq == NULL || bytes_ok(tdq, false, 0)) &&
         (vcek == NULL || bytes_ok(vcek, false, 0) ||
          (json_is_string(vcek) && strncmp(json_string_value(vcek), "-----BEGIN", 10) == 0));
    if (ok && pcrs != NULL) {
        ok = json_is_array(pcrs) && json_array_size(pcrs) >= 1 && json_array_size(pcrs) <= 24;
        for (size_t i = 0; ok && i < json_array_size(pcrs); i++) {
            ok = json_is_string(json_array_get(pcrs, i)) &&
                 bytes_ok(json_array_get(pcrs, i), true, 32);
        }
    }
    json_decref(j);
    return ok;
}

static void check_evidence(const uint8_t *p, size_t len, const struct cvma_azure_evidence *ev)
{
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *q = json_object_get(j, "tpm_quote"), *hcl = json_object_get(j, "hcl_report");
    const json_t *ver = json_object_get(j, "version");
    /* the older form's names (docs/azure.md): one spelling or the other, never both */
    CHECK(q == NULL || json_object_get(j, "quote") == NULL);
    CHECK(hcl == NULL || json_object_get(j, "report") == NULL);
    q = q != NULL ? q : json_object_get(j, "quote");
    hcl = hcl != NULL ? hcl : json_object_get(j, "report");
    CHECK(json_is_object(j) && json_is_object(q));
    CHECK(ev->version == (ver != NULL ? (int)json_integer_value(ver) : 0));
    CHECK(same_bytes(hcl, false, ev->hcl_report.p, ev->hcl_report.len));
    CHECK(same_bytes(json_object_get(q, "message"), true, ev->quote_msg.p, ev->quote_msg.len));
    CHECK(same_bytes(json_object_get(q, "signature"), true, ev->quote_sig.p, ev->quote_sig.len));
    CHECK((json_object_get(j, "td_quote") != NULL) == (ev->td_quote.len > 0));
    CHECK(ev->td_quote.len == 0 ||
          same_bytes(json_object_get(j, "td_quote"), false, ev->td_quote.p, ev->td_quote.len));
    CHECK((json_object_get(j, "vcek") != NULL) == (ev->vcek.len > 0));
    CHECK((json_object_get(q, "pcrs") != NULL) == (ev->pcrs_json != NULL));
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_azure_hcl h;
    struct cvma_azure_evidence ev;
    struct cvma_verdict v;

    for (int allow = 0; allow < 2; allow++) {
        cvma_verdict_init(&v);
        memset(&h, 0xa5, sizeof h);
        check_hcl(data, size, allow, cvma_azure_hcl_parse(data, size, allow, &h, &v), &h, &v);
        cvma_verdict_cleanup(&v);
    }
    cvma_verdict_init(&v);
    bool well_formed = evidence_well_formed(data, size);
    if (cvma_azure_json_detect(data, size) || well_formed) {
        static const struct cvma_azure_evidence zero;
        memset(&ev, 0xa5, sizeof ev);
        if (cvma_azure_evidence_parse(data, size, &ev, &v) == CVMA_OK) {
            check_evidence(data, size, &ev);
            for (int allow = 0; allow < 2; allow++) {
                struct cvma_verdict hv;
                cvma_verdict_init(&hv);
                memset(&h, 0xa5, sizeof h);
                check_hcl(ev.hcl_report.p, ev.hcl_report.len, allow,
                          cvma_azure_hcl_parse(ev.hcl_report.p, ev.hcl_report.len, allow, &h, &hv),
                          &h, &hv);
                cvma_verdict_cleanup(&hv);
            }
            cvma_azure_evidence_cleanup(&ev);
        } else {
            CHECK(!well_formed || v.oom); /* refused for its form only when it is not */
            CHECK(memcmp(&ev, &zero, sizeof ev) == 0); /* refused: nothing given back */
        }
    }
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    return 0;
}
