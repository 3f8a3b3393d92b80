/*
 * Intel DCAP collateral for TDX: the collateral directory, the exact signed bytes of TCB Info
 * and QE Identity (found with the exact-span scanner, common/jscan.h), and the typed field
 * access their parsers share. The parsers are tdx_tcb_info.c and tdx_qe_identity.c; the
 * verification is tdx_coll_verify.c (Intel QVL order; Intel PCS API v4).
 *
 * What it trusts: nothing in the files. The signed span is found by a small scanner that
 * understands JSON strings, escapes and nesting (bounded depth and size) and never
 * re-serializes anything; the span alone is then parsed with jansson (duplicate keys refused)
 * and every field is type- and length-checked. A document is believed only after its issuer
 * chain ends in the caller's pinned root, byte for byte, and its ECDSA P-256 signature over the
 * exact span verifies with the signing certificate's key.
 */
#include "tdx/tdx_collateral.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "collateral/dircache.h"
#include "collateral/source.h"
#include "common/hex.h"
#include "common/jscan.h"
#include "common/json_out.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"
#include "tdx/tdx_coll_internal.h"

/* ------------------------------------------------------------------------------------------ */
/* The PCS body: {"<key>": {...}, "signature": "<hex>"}, split with the exact-span scanner   */
/* ------------------------------------------------------------------------------------------ */

static bool key_is(const char *dec, size_t n, bool ovf, const char *key)
{
    return !ovf && n == strlen(key) && memcmp(dec, key, n) == 0;
}

/* see tdx/tdx_collateral.h */
bool cvma_tdx_signed_json_split(const uint8_t *p, size_t len, const char *key,
                                struct cvma_span *signed_part, uint8_t sig[64])
{
    struct cvma_jscan s = {p, len, 0};
    bool have_key = false, have_sig = false;
    struct cvma_span span = {NULL, 0};
    uint8_t sigbuf[64];

    signed_part->p = NULL;
    signed_part->len = 0;
    memset(sig, 0, 64);
    if (p == NULL || key == NULL || len > MAX_COLLATERAL_FILE) {
        return false;
    }
    cvma_jscan_skip_ws(&s);
    if (cvma_jscan_peek(&s) != '{' || cvma_jscan_at_end(&s)) {
        return false;
    }
    s.off++;
    cvma_jscan_skip_ws(&s);
    if (cvma_jscan_peek(&s) == '}') {
        return false; /* {} has neither member */
    }
    for (;;) {
        char name[32];
        size_t name_len = 0, vstart;
        bool ovf = false;

        cvma_jscan_skip_ws(&s);
        if (!cvma_jscan_string(&s, name, sizeof name, &name_len, &ovf, NULL)) {
            return false;
        }
        cvma_jscan_skip_ws(&s);
        if (cvma_jscan_peek(&s) != ':') {
            return false;
        }
        s.off++;
        cvma_jscan_skip_ws(&s);
        vstart = s.off;
        if (!cvma_jscan_value(&s, 1)) {
            return false;
        }
        if (key_is(name, name_len, ovf, key)) {
            /* A second copy could make two readers of this body see different documents. */
            if (have_key || p[vstart] != '{') {
                return false;
            }
            have_key = true;
            span.p = p + vstart;
            span.len = s.off - vstart;
        } else if (key_is(name, name_len, ovf, "signature")) {
            struct cvma_jscan str = {p, s.off, vstart};
            bool escaped = false;
            char hex[129];
            size_t hex_len = 0, got = 0;
            if (have_sig || p[vstart] != '"' ||
                !cvma_jscan_string(&str, hex, sizeof hex - 1, &hex_len, &ovf, &escaped) || ovf ||
                escaped || hex_len != 128) {
                return false;
            }
            hex[hex_len] = '\0';
            if (!cvma_hex_decode(hex, sigbuf, sizeof sigbuf, &got) || got != 64) {
                return false;
            }
            have_sig = true;
        }
        cvma_jscan_skip_ws(&s);
        if (cvma_jscan_peek(&s) == ',' && !cvma_jscan_at_end(&s)) {
            s.off++;
            continue;
        }
        if (cvma_jscan_peek(&s) == '}' && !cvma_jscan_at_end(&s)) {
            s.off++;
            break;
        }
        return false;
    }
    cvma_jscan_skip_ws(&s);
    if (!cvma_jscan_at_end(&s) || !have_key || !have_sig) {
        return false;
    }
    *signed_part = span;
    memcpy(sig, sigbuf, 64);
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Cleanup                                                                                    */
/* ------------------------------------------------------------------------------------------ */

void cvma_tdxc_advisories_free(struct cvma_tdx_advisories *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->ids[i]);
    }
    free(a->ids);
    a->ids = NULL;
    a->n = 0;
}

void cvma_tdx_tcb_info_cleanup(struct cvma_tdx_tcb_info *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->n_levels; i++) {
        cvma_tdxc_advisories_free(&t->levels[i].adv);
    }
    free(t->levels);
    for (size_t m = 0; m < t->n_modules; m++) {
        for (size_t i = 0; i < t->modules[m].n_levels; i++) {
            cvma_tdxc_advisories_free(&t->modules[m].levels[i].adv);
        }
        free(t->modules[m].levels);
    }
    free(t->modules);
    memset(t, 0, sizeof *t);
}

void cvma_tdx_qe_identity_cleanup(struct cvma_tdx_qe_identity *q)
{
    if (q == NULL) {
        return;
    }
    for (size_t i = 0; i < q->n_levels; i++) {
        cvma_tdxc_advisories_free(&q->levels[i].adv);
    }
    free(q->levels);
    memset(q, 0, sizeof *q);
}

void cvma_tdx_signed_json_cleanup(struct cvma_tdx_signed_json *d)
{
    if (d == NULL) {
        return;
    }
    cvma_buf_free(&d->body);
    memset(d, 0, sizeof *d);
}

void cvma_tdx_collateral_cleanup(struct cvma_tdx_collateral *c)
{
    if (c == NULL) {
        return;
    }
    cvma_tdx_signed_json_cleanup(&c->tcb_info_doc);
    cvma_tdx_signed_json_cleanup(&c->qe_identity_doc);
    sk_X509_pop_free(c->tcb_info_chain, X509_free);
    sk_X509_pop_free(c->qe_identity_chain, X509_free);
    X509_CRL_free(c->pck_crl);
    X509_CRL_free(c->root_ca_crl);
    cvma_tdx_tcb_info_cleanup(&c->tcb_info);
    cvma_tdx_qe_identity_cleanup(&c->qe_identity);
    memset(c, 0, sizeof *c);
}

/* see tdx/tdx_collateral.h */
void cvma_tdx_collateral_move(struct cvma_tdx_collateral *to, struct cvma_tdx_collateral *from,
                              unsigned items)
{
    if ((items & CVMA_TDX_ITEM_TCB_INFO) != 0 && from->tcb_info_chain != NULL) {
        to->tcb_info_doc = from->tcb_info_doc;
        to->tcb_info = from->tcb_info;
        to->tcb_info_chain = from->tcb_info_chain;
        memset(&from->tcb_info_doc, 0, sizeof from->tcb_info_doc);
        memset(&from->tcb_info, 0, sizeof from->tcb_info);
        from->tcb_info_chain = NULL;
    }
    if ((items & CVMA_TDX_ITEM_QE_IDENTITY) != 0 && from->qe_identity_chain != NULL) {
        to->qe_identity_doc = from->qe_identity_doc;
        to->qe_identity = from->qe_identity;
        to->qe_identity_chain = from->qe_identity_chain;
        memset(&from->qe_identity_doc, 0, sizeof from->qe_identity_doc);
        memset(&from->qe_identity, 0, sizeof from->qe_identity);
        from->qe_identity_chain = NULL;
    }
    if ((items & CVMA_TDX_ITEM_PCK_CRL) != 0 && from->pck_crl != NULL) {
        to->pck_crl = from->pck_crl;
        from->pck_crl = NULL;
    }
    if ((items & CVMA_TDX_ITEM_ROOT_CA_CRL) != 0 && from->root_ca_crl != NULL) {
        to->root_ca_crl = from->root_ca_crl;
        from->root_ca_crl = NULL;
    }
    to->fetched |= from->fetched & items;
    from->fetched &= ~items;
}

/* ------------------------------------------------------------------------------------------ */
/* Typed field access for the parsers                                                         */
/* ------------------------------------------------------------------------------------------ */

enum cvma_status cvma_tdxc_bad(const struct cvma_tdxc_pctx *c, const char *fmt, ...)
{
    char msg[CVMA_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cvma_reject(c->v, CVMA_R_COLLATERAL_INVALID, "%s: %s", c->doc, msg);
}

/* The member `name` of obj; NULL when absent. path names obj in reasons ("tcbLevels[2].tcb"). */
enum cvma_status cvma_tdxc_get_member(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                      const char *name, bool required, json_t **out)
{
    *out = json_object_get(obj, name);
    if (*out == NULL && required) {
        return cvma_tdxc_bad(c, "%s%s%s is missing", path, path[0] ? "." : "", name);
    }
    return CVMA_OK;
}

enum cvma_status cvma_tdxc_get_object(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                      const char *name, bool required, json_t **out)
{
    enum cvma_status st = cvma_tdxc_get_member(c, obj, path, name, required, out);
    if (st == CVMA_OK && *out != NULL && !json_is_object(*out)) {
        return cvma_tdxc_bad(c, "%s%s%s is not an object", path, path[0] ? "." : "", name);
    }
    return st;
}

enum cvma_status cvma_tdxc_get_array(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                     const char *name, bool required, size_t max, json_t **out)
{
    enum cvma_status st = cvma_tdxc_get_member(c, obj, path, name, required, out);
    if (st != CVMA_OK || *out == NULL) {
        return st;
    }
    if (!json_is_array(*out)) {
        return cvma_tdxc_bad(c, "%s%s%s is not an array", path, path[0] ? "." : "", name);
    }
    if (json_array_size(*out) == 0 || json_array_size(*out) > max) {
        return cvma_tdxc_bad(c, "%s%s%s has %zu entries (1..%zu allowed)", path, path[0] ? "." : "",
                             name, json_array_size(*out), max);
    }
    return CVMA_OK;
}

enum cvma_status cvma_tdxc_get_string(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                      const char *name, const char **out)
{
    json_t *j;
    enum cvma_status st = cvma_tdxc_get_member(c, obj, path, name, true, &j);

    *out = NULL;
    if (st != CVMA_OK) {
        return st;
    }
    if (!json_is_string(j)) {
        return cvma_tdxc_bad(c, "%s%s%s is not a string", path, path[0] ? "." : "", name);
    }
    /* A NUL inside would make the C string shorter than the JSON string. */
    if (strlen(json_string_value(j)) != json_string_length(j)) {
        return cvma_tdxc_bad(c, "%s%s%s contains a NUL character", path, path[0] ? "." : "", name);
    }
    *out = json_string_value(j);
    return CVMA_OK;
}

enum cvma_status cvma_tdxc_get_int(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                   const char *name, long long min, long long max, long long *out)
{
    json_t *j;
    enum cvma_status st = cvma_tdxc_get_member(c, obj, path, name, true, &j);

    *out = 0;
    if (st != CVMA_OK) {
        return st;
    }
    if (!json_is_integer(j) || json_integer_value(j) < min || json_integer_value(j) > max) {
        return cvma_tdxc_bad(c, "%s%s%s is not an integer in %lld..%lld", path, path[0] ? "." : "",
                             name, min, max);
    }
    *out = (long long)json_integer_value(j);
    return CVMA_OK;
}

/* A hex string of exactly 2*n digits (either case). */
enum cvma_status cvma_tdxc_get_hex(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                   const char *name, uint8_t *out, size_t n)
{
    const char *s;
    size_t got = 0;
    enum cvma_status st = cvma_tdxc_get_string(c, obj, path, name, &s);

    memset(out, 0, n);
    if (st != CVMA_OK) {
        return st;
    }
    if (strlen(s) != 2 * n || !cvma_hex_decode(s, out, n, &got) || got != n) {
        memset(out, 0, n);
        return cvma_tdxc_bad(c, "%s%s%s is not %zu hex digits", path, path[0] ? "." : "", name,
                             2 * n);
    }
    return CVMA_OK;
}

/* An RFC 3339 date-time ("2025-06-19T10:16:03Z"); a bare date is not accepted. */
enum cvma_status cvma_tdxc_get_date(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                    const char *name, time_t *out, char *copy, size_t copy_len)
{
    const char *s;
    enum cvma_status st = cvma_tdxc_get_string(c, obj, path, name, &s);

    *out = 0;
    if (copy != NULL) {
        copy[0] = '\0';
    }
    if (st != CVMA_OK) {
        return st;
    }
    enum cvma_time_parse parsed = strlen(s) < 20 || (s[10] != 'T' && s[10] != 't')
                                          ? CVMA_TIME_MALFORMED
                                          : cvma_time_parse_rfc3339_why(s, out);
    if (parsed == CVMA_TIME_OUT_OF_RANGE && strlen(s) <= 40) {
        /* Well-formed, but no time this verifier reads (nor any collateral can have). */
        *out = 0;
        return cvma_tdxc_bad(c,
                             "%s%s%s %s is outside the times read (1970-01-01T00:00:00Z to "
                             "9999-12-31T23:59:59Z)",
                             path, path[0] ? "." : "", name, s);
    }
    if (parsed != CVMA_TIME_PARSED || (copy != NULL && strlen(s) >= copy_len)) {
        *out = 0;
        return cvma_tdxc_bad(c, "%s%s%s is not an RFC 3339 date-time", path, path[0] ? "." : "",
                             name);
    }
    if (copy != NULL) {
        memcpy(copy, s, strlen(s) + 1);
    }
    return CVMA_OK;
}

/* The tcbStatus values Intel defines for TCB Info, TDX module and QE Identity levels. */
static const char *const known_statuses[] = {
        "UpToDate",
        "SWHardeningNeeded",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
        "OutOfDate",
        "OutOfDateConfigurationNeeded",
        "Revoked",
};

enum cvma_status cvma_tdxc_get_status(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                      char out[CVMA_TDX_STATUS_MAX])
{
    const char *s;
    enum cvma_status st = cvma_tdxc_get_string(c, obj, path, "tcbStatus", &s);

    out[0] = '\0';
    if (st != CVMA_OK) {
        return st;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(known_statuses); i++) {
        if (strcmp(s, known_statuses[i]) == 0) {
            memcpy(out, s, strlen(s) + 1);
            return CVMA_OK;
        }
    }
    return cvma_tdxc_bad(c, "%s.tcbStatus \"%.40s\" is not a known TCB status", path, s);
}

enum cvma_status cvma_tdxc_get_advisories(const struct cvma_tdxc_pctx *c, json_t *obj,
                                          const char *path, struct cvma_tdx_advisories *out)
{
    json_t *arr = json_object_get(obj, "advisoryIDs"), *e;
    size_t i;

    out->ids = NULL;
    out->n = 0;
    if (arr == NULL) {
        return CVMA_OK; /* optional (QVL: advisoryIDs field is optional) */
    }
    if (!json_is_array(arr) || json_array_size(arr) > MAX_ADVISORIES) {
        return cvma_tdxc_bad(c, "%s.advisoryIDs is not an array of at most %u strings", path,
                             MAX_ADVISORIES);
    }
    if (json_array_size(arr) == 0) {
        return CVMA_OK;
    }
    if ((out->ids = calloc(json_array_size(arr), sizeof *out->ids)) == NULL) {
        return CVMA_E_NOMEM;
    }
    json_array_foreach(arr, i, e)
    {
        const char *s = json_string_value(e);
        if (s == NULL || json_string_length(e) == 0 || json_string_length(e) > MAX_ADVISORY_LEN ||
            strlen(s) != json_string_length(e)) {
            cvma_tdxc_advisories_free(out);
            return cvma_tdxc_bad(c, "%s.advisoryIDs[%zu] is not a string of 1..%u characters", path,
                                 i, MAX_ADVISORY_LEN);
        }
        if ((out->ids[out->n] = strdup(s)) == NULL) {
            cvma_tdxc_advisories_free(out);
            return CVMA_E_NOMEM;
        }
        out->n++;
    }
    return CVMA_OK;
}

/* see tdx/tdx_coll_internal.h; checks the scanner's bounds (size, depth, syntax) and loads the span
 * with jansson. */
enum cvma_status cvma_tdxc_load_json(const struct cvma_tdxc_pctx *c, const uint8_t *p, size_t len,
                                     json_t **out)
{
    struct cvma_span span;
    json_error_t jerr;

    *out = NULL;
    if (p == NULL || !cvma_jscan_object_span(p, len, MAX_COLLATERAL_FILE, &span)) {
        return cvma_tdxc_bad(
                c, "not one JSON object (or nested deeper than %u, or larger than %u bytes)",
                JSON_MAX_DEPTH, MAX_COLLATERAL_FILE);
    }
    /* Read by the checker first, within a cap of values: a bundle's collateral part is read
     * before its signature is checked, and 1 MiB of small values would cost jansson's tree
     * some 80 MB (the largest real TCB Info holds about 500 values). */
    bool oom = false;
    if ((*out = cvma_json_loadb_capped(p, len, CVMA_TDX_COLLATERAL_MAX_VALUES, &jerr, &oom)) ==
        NULL) {
        if (oom) {
            return CVMA_E_NOMEM;
        }
        return cvma_tdxc_bad(c, "invalid JSON at byte %d: %.120s", jerr.position, jerr.text);
    }
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return cvma_tdxc_bad(c, "not a JSON object");
    }
    return CVMA_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* see tdx/tdx_collateral.h */
X509_CRL *cvma_tdx_crl_load_any(const uint8_t *p, size_t len)
{
    X509_CRL *crl;
    size_t a = 0, b = len, got = 0;
    char *hex = NULL;
    uint8_t *der = NULL;

    if (p == NULL || len == 0 || len > MAX_COLLATERAL_FILE) {
        return NULL;
    }
    if ((crl = cvma_crl_load(p, len)) != NULL) {
        return crl;
    }
    ERR_clear_error();
    /* Hex text of the DER, as a PCCS serves /sgx/certification/v4/rootcacrl. */
    while (a < b && (p[a] == ' ' || p[a] == '\t' || p[a] == '\r' || p[a] == '\n')) {
        a++;
    }
    while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\r' || p[b - 1] == '\n')) {
        b--;
    }
    if (b - a < 2 || (b - a) % 2 != 0) {
        return NULL;
    }
    if ((hex = malloc(b - a + 1)) == NULL || (der = malloc((b - a) / 2)) == NULL) {
        goto out;
    }
    memcpy(hex, p + a, b - a);
    hex[b - a] = '\0';
    if (strlen(hex) == b - a && cvma_hex_decode(hex, der, (b - a) / 2, &got) && got > 0) {
        crl = cvma_crl_load(der, got);
        ERR_clear_error();
    }
out:
    free(hex);
    free(der);
    return crl;
}

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_signed_json_load(struct cvma_tdx_signed_json *doc, struct cvma_buf *body,
                                           const struct cvma_buf *sig_hex, const char *key,
                                           const char *what, struct cvma_verdict *v)
{
    memset(doc, 0, sizeof *doc);
    doc->body = *body;
    body->p = NULL;
    body->len = 0;
    if (doc->body.p == NULL || doc->body.len > MAX_COLLATERAL_FILE) {
        cvma_tdx_signed_json_cleanup(doc);
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID, "%s: empty or larger than %u bytes", what,
                           MAX_COLLATERAL_FILE);
    }
    if (sig_hex == NULL) {
        if (!cvma_tdx_signed_json_split(doc->body.p, doc->body.len, key, &doc->signed_part,
                                        doc->signature)) {
            cvma_tdx_signed_json_cleanup(doc);
            return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                               "%s: not a PCS body {\"%s\": {...}, \"signature\": \"<128 hex "
                               "digits>\"} (each member once, valid JSON, nesting at most %u)",
                               what, key, JSON_MAX_DEPTH);
        }
        return CVMA_OK;
    }
    /* Bare inner object: the signed bytes are the object as it stands, without the
     * whitespace around it. */
    if (!cvma_jscan_object_span(doc->body.p, doc->body.len, MAX_COLLATERAL_FILE,
                                &doc->signed_part)) {
        cvma_tdx_signed_json_cleanup(doc);
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "%s: not one JSON object (valid JSON, nesting at most %u)", what,
                           JSON_MAX_DEPTH);
    }
    {
        size_t a = 0, b = sig_hex->len, got = 0;
        char hex[129];
        while (a < b && is_ws(sig_hex->p[a])) {
            a++;
        }
        while (b > a && is_ws(sig_hex->p[b - 1])) {
            b--;
        }
        if (b - a != 128) {
            cvma_tdx_signed_json_cleanup(doc);
            return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                               "%s: the signature file holds %zu characters, not 128 hex digits "
                               "(r || s)",
                               what, b - a);
        }
        memcpy(hex, sig_hex->p + a, 128);
        hex[128] = '\0';
        if (strlen(hex) != 128 || !cvma_hex_decode(hex, doc->signature, 64, &got) || got != 64) {
            cvma_tdx_signed_json_cleanup(doc);
            return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                               "%s: the signature file is not 128 hex digits (r || s)", what);
        }
    }
    return CVMA_OK;
}

enum file_idx {
    F_TCB_INFO,
    F_TCB_SIG,
    F_QE_ID,
    F_QE_SIG,
    F_TCB_CHAIN,
    F_QE_CHAIN,
    F_PCK_CRL,
    F_ROOT_CRL,
    F_COUNT_
};

static const char *const file_names[F_COUNT_] = {
        "tcb_info.json",       "tcb_info.sig.hex",          "qe_identity.json",
        "qe_identity.sig.hex", "tcb_info_issuer_chain.pem", "qe_identity_issuer_chain.pem",
        "pck_crl.der",         "root_ca_crl.der",
};

/* The document in body: the PCS body form, else the bare object with its .sig.hex. */
static enum cvma_status load_doc(struct cvma_tdx_signed_json *doc, struct cvma_buf *body,
                                 const struct cvma_buf *sig, bool sig_missing, const char *key,
                                 const char *what, const char *file, const char *sig_file,
                                 struct cvma_verdict *v)
{
    struct cvma_span span;
    uint8_t scratch[64];

    /* The PCS body form wins when the file is one; a stray .sig.hex is then ignored. */
    if (cvma_tdx_signed_json_split(body->p, body->len, key, &span, scratch)) {
        return cvma_tdx_signed_json_load(doc, body, NULL, key, what, v);
    }
    if (sig_missing) {
        cvma_buf_free(body);
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "%s (%s) is not a PCS body {\"%s\": ..., \"signature\": ...} "
                           "(each member once, valid JSON, nesting at most %u), and there is "
                           "no %s for a bare inner object",
                           what, file, key, JSON_MAX_DEPTH, sig_file);
    }
    return cvma_tdx_signed_json_load(doc, body, sig, key, what, v);
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_collateral_load_dir(const char *dir, struct cvma_tdx_collateral *c,
                                              struct cvma_verdict *v)
{
    struct cvma_collateral_src src = {.dir = dir};
    return cvma_tdx_collateral_load(&src, c, v);
}

/* Reads every file of file_names from src into f (absent: empty, missing set). On failure f
 * is freed. */
static enum cvma_status read_files(const struct cvma_collateral_src *src, struct cvma_buf *f,
                                   bool *missing, struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_OK;

    memset(f, 0, sizeof *f * F_COUNT_);
    for (int i = 0; i < F_COUNT_ && st == CVMA_OK; i++) {
        /* Absent, or no regular file: missing. A regular file there but unreadable or too
         * large: COLLATERAL_INVALID, never taken for missing and fetched in its place. */
        st = cvma_collateral_src_read_given(src, file_names[i], MAX_COLLATERAL_FILE, &f[i],
                                            &missing[i], v);
    }
    if (st != CVMA_OK) {
        for (int i = 0; i < F_COUNT_; i++) {
            cvma_buf_free(&f[i]);
        }
    }
    return st;
}

/* What the directory cache keeps of a TDX collateral directory: the documents' files as
 * bytes (parsed and their signatures checked on every use) and the certificates and CRLs
 * decoded (their chains, signatures and validity checked on every use). */
struct dir_obj {
    struct cvma_buf f[F_COUNT_]; /* the four document files; the others empty */
    bool missing[F_COUNT_];
    STACK_OF(X509) * tcb_info_chain;
    STACK_OF(X509) * qe_identity_chain;
    X509_CRL *pck_crl, *root_ca_crl;
};

/* The item each file belongs to (CVMA_TDX_ITEM_*). */
static const unsigned file_item[F_COUNT_] = {
        CVMA_TDX_ITEM_TCB_INFO,    CVMA_TDX_ITEM_TCB_INFO,    CVMA_TDX_ITEM_QE_IDENTITY,
        CVMA_TDX_ITEM_QE_IDENTITY, CVMA_TDX_ITEM_TCB_INFO,    CVMA_TDX_ITEM_QE_IDENTITY,
        CVMA_TDX_ITEM_PCK_CRL,     CVMA_TDX_ITEM_ROOT_CA_CRL,
};

/* Appends name to the list in out (", " between names). */
static void list_add(char *out, size_t out_len, size_t *used, const char *name)
{
    if (*used < out_len) {
        int w = snprintf(out + *used, out_len - *used, "%s%s", *used ? ", " : "", name);
        *used += w > 0 ? (size_t)w : 0;
    }
}

/*
 * Which items the files present make up. An item is given when its required files are all
 * present (a document and its issuer chain; a CRL), absent when none of its files is, and
 * partial otherwise. *have: the given ones; *part: the partial ones; absent (may be NULL):
 * the required files missing, by name.
 */
static void items_present(const bool *missing, unsigned *have, unsigned *part, char *absent,
                          size_t absent_len)
{
    unsigned any = 0, lacking = 0;
    size_t used = 0;

    if (absent != NULL && absent_len > 0) {
        absent[0] = '\0';
    }
    for (int i = 0; i < F_COUNT_; i++) {
        bool optional = i == F_TCB_SIG || i == F_QE_SIG;
        if (!missing[i]) {
            any |= file_item[i];
        } else if (!optional) {
            lacking |= file_item[i];
            if (absent != NULL) {
                list_add(absent, absent_len, &used, file_names[i]);
            }
        }
    }
    *have = CVMA_TDX_ITEMS_ALL & ~lacking;
    *part = any & lacking;
}

/* see tdx/tdx_collateral.h */
unsigned cvma_tdx_collateral_file_item(const char *name)
{
    for (int i = 0; name != NULL && i < F_COUNT_; i++) {
        if (strcmp(name, file_names[i]) == 0) {
            return file_item[i];
        }
    }
    return 0;
}

/* see tdx/tdx_collateral.h */
unsigned cvma_tdx_parts_partial(const struct cvma_named_part *parts, size_t n)
{
    bool missing[F_COUNT_];
    unsigned have = 0, part = 0;

    for (int k = 0; k < F_COUNT_; k++) {
        missing[k] = true;
        for (size_t i = 0; i < n; i++) {
            missing[k] = missing[k] &&
                         (parts[i].name == NULL || strcmp(parts[i].name, file_names[k]) != 0);
        }
    }
    items_present(missing, &have, &part, NULL, 0);
    return part;
}

/*
 * Decodes the files read from src (f, missing: read_files) into c; frees f. pre not NULL:
 * the certificate chains and CRLs already decoded (taken from pre), not from f. given NULL:
 * every item is required; else items whose files are all absent are skipped and *given says
 * which were loaded (cvma_tdx_collateral_load_cached).
 */
static enum cvma_status decode_files(const struct cvma_collateral_src *src, struct cvma_buf *f,
                                     const bool *missing, struct dir_obj *pre,
                                     struct cvma_tdx_collateral *c, unsigned *given,
                                     char *absent_out, size_t absent_out_len,
                                     struct cvma_verdict *v)
{
    char where[512];
    enum cvma_status st = CVMA_OK;
    char absent[256];
    unsigned have = 0, part = 0;

    memset(c, 0, sizeof *c);
    items_present(missing, &have, &part, absent, sizeof absent);
    if (given != NULL) {
        *given = 0;
        if (absent_out != NULL && absent_out_len > 0) {
            snprintf(absent_out, absent_out_len, "%s", absent);
        }
    }
    if (given == NULL ? have != CVMA_TDX_ITEMS_ALL : part != 0) {
        char partial[256];
        size_t used = 0;
        partial[0] = '\0';
        for (int i = 0; i < F_COUNT_; i++) {
            bool optional = i == F_TCB_SIG || i == F_QE_SIG;
            if ((part & file_item[i]) != 0 && missing[i] && !optional) {
                list_add(partial, sizeof partial, &used, file_names[i]);
            }
        }
        cvma_collateral_src_describe(src, where, sizeof where);
        /* Missing is absent or no regular file (a FIFO, a device, a directory: never read);
         * a regular file that cannot be read or is too large was refused as
         * COLLATERAL_INVALID by read_file already. */
        if (given == NULL) {
            cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                        "TDX collateral directory %s lacks %s (absent, or not a regular file)",
                        where, absent);
        } else {
            /* Fetching the whole item would throw away the file that was given. */
            cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                        "TDX collateral directory %s gives part of an item and lacks %s (absent, "
                        "or not a regular file): a document goes with its issuer chain; give "
                        "both, or neither to have the item fetched",
                        where, partial);
        }
        v->undecided = true;
        st = CVMA_UNDECIDED;
        goto out;
    }
    if (((have & CVMA_TDX_ITEM_TCB_INFO) != 0 &&
         (st = load_doc(&c->tcb_info_doc, &f[F_TCB_INFO], &f[F_TCB_SIG], missing[F_TCB_SIG],
                        "tcbInfo", "TCB Info", file_names[F_TCB_INFO], file_names[F_TCB_SIG], v)) !=
                 CVMA_OK) ||
        ((have & CVMA_TDX_ITEM_QE_IDENTITY) != 0 &&
         (st = load_doc(&c->qe_identity_doc, &f[F_QE_ID], &f[F_QE_SIG], missing[F_QE_SIG],
                        "enclaveIdentity", "QE Identity", file_names[F_QE_ID], file_names[F_QE_SIG],
                        v)) != CVMA_OK)) {
        goto out;
    }
    if (pre != NULL) {
        c->tcb_info_chain = pre->tcb_info_chain;
        c->qe_identity_chain = pre->qe_identity_chain;
        c->pck_crl = pre->pck_crl;
        c->root_ca_crl = pre->root_ca_crl;
        pre->tcb_info_chain = pre->qe_identity_chain = NULL;
        pre->pck_crl = pre->root_ca_crl = NULL;
    }
    if ((have & CVMA_TDX_ITEM_TCB_INFO) != 0 && c->tcb_info_chain == NULL &&
        (c->tcb_info_chain = cvma_x509_load_pem_stack(f[F_TCB_CHAIN].p, f[F_TCB_CHAIN].len)) ==
                NULL) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "%s: no PEM certificate", file_names[F_TCB_CHAIN]);
        goto out;
    }
    if ((have & CVMA_TDX_ITEM_QE_IDENTITY) != 0 && c->qe_identity_chain == NULL &&
        (c->qe_identity_chain = cvma_x509_load_pem_stack(f[F_QE_CHAIN].p, f[F_QE_CHAIN].len)) ==
                NULL) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "%s: no PEM certificate", file_names[F_QE_CHAIN]);
        goto out;
    }
    if ((have & CVMA_TDX_ITEM_PCK_CRL) != 0 && c->pck_crl == NULL &&
        (c->pck_crl = cvma_tdx_crl_load_any(f[F_PCK_CRL].p, f[F_PCK_CRL].len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CRL_INVALID, "%s: not a DER, PEM or hex-encoded CRL",
                         file_names[F_PCK_CRL]);
        goto out;
    }
    if ((have & CVMA_TDX_ITEM_ROOT_CA_CRL) != 0 && c->root_ca_crl == NULL &&
        (c->root_ca_crl = cvma_tdx_crl_load_any(f[F_ROOT_CRL].p, f[F_ROOT_CRL].len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CRL_INVALID, "%s: not a DER, PEM or hex-encoded CRL",
                         file_names[F_ROOT_CRL]);
        goto out;
    }
    if (((have & CVMA_TDX_ITEM_TCB_INFO) != 0 &&
         (st = cvma_tdx_tcb_info_parse(c->tcb_info_doc.signed_part.p,
                                       c->tcb_info_doc.signed_part.len, &c->tcb_info, v)) !=
                 CVMA_OK) ||
        ((have & CVMA_TDX_ITEM_QE_IDENTITY) != 0 &&
         (st = cvma_tdx_qe_identity_parse(c->qe_identity_doc.signed_part.p,
                                          c->qe_identity_doc.signed_part.len, &c->qe_identity,
                                          v)) != CVMA_OK)) {
        goto out;
    }
    if (given != NULL) {
        *given = have;
    }
    st = CVMA_OK;
out:
    ERR_clear_error();
    for (int i = 0; i < F_COUNT_; i++) {
        cvma_buf_free(&f[i]);
    }
    if (st != CVMA_OK) {
        cvma_tdx_collateral_cleanup(c);
    }
    return st;
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_collateral_load(const struct cvma_collateral_src *src,
                                          struct cvma_tdx_collateral *c, struct cvma_verdict *v)
{
    struct cvma_buf f[F_COUNT_];
    bool missing[F_COUNT_];
    enum cvma_status st;

    memset(c, 0, sizeof *c);
    if ((st = read_files(src, f, missing, v)) != CVMA_OK) {
        return st;
    }
    return decode_files(src, f, missing, NULL, c, NULL, NULL, 0, v);
}

/* True when no bundle part is one of the files of the directory (the directory alone counts). */
static bool parts_irrelevant(const struct cvma_collateral_src *src)
{
    for (size_t i = 0; i < src->n_parts; i++) {
        for (int k = 0; k < F_COUNT_; k++) {
            if (src->parts[i].name != NULL && strcmp(src->parts[i].name, file_names[k]) == 0) {
                return false;
            }
        }
    }
    return true;
}

/* dst = a copy of len bytes at p (len > 0). */
static enum cvma_status buf_copy(struct cvma_buf *dst, const uint8_t *p, size_t len)
{
    if ((dst->p = malloc(len)) == NULL) {
        return CVMA_E_NOMEM;
    }
    memcpy(dst->p, p, len);
    dst->len = len;
    return CVMA_OK;
}

static void dir_obj_free(void *p)
{
    struct dir_obj *o = p;
    if (o == NULL) {
        return;
    }
    for (int i = 0; i < F_COUNT_; i++) {
        cvma_buf_free(&o->f[i]);
    }
    sk_X509_pop_free(o->tcb_info_chain, X509_free);
    sk_X509_pop_free(o->qe_identity_chain, X509_free);
    X509_CRL_free(o->pck_crl);
    X509_CRL_free(o->root_ca_crl);
    free(o);
}

/* A copy: the bytes copied, the certificates and CRLs shared (reference counts). */
static void *dir_obj_dup(const void *p)
{
    const struct dir_obj *o = p;
    struct dir_obj *d = calloc(1, sizeof *d);
    bool ok = d != NULL;

    for (int i = 0; ok && i < F_COUNT_; i++) {
        d->missing[i] = o->missing[i];
        ok = o->f[i].len == 0 || buf_copy(&d->f[i], o->f[i].p, o->f[i].len) == CVMA_OK;
    }
    ok = ok && (d->tcb_info_chain = X509_chain_up_ref(o->tcb_info_chain)) != NULL &&
         (d->qe_identity_chain = X509_chain_up_ref(o->qe_identity_chain)) != NULL &&
         X509_CRL_up_ref(o->pck_crl) == 1 && (d->pck_crl = o->pck_crl) != NULL &&
         X509_CRL_up_ref(o->root_ca_crl) == 1 && (d->root_ca_crl = o->root_ca_crl) != NULL;
    if (!ok) {
        dir_obj_free(d);
        return NULL;
    }
    return d;
}

static const struct cvma_dircache_obj_ops dir_obj_ops = {.dup = dir_obj_dup, .free = dir_obj_free};

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_collateral_load_cached(struct cvma_dircache *dc,
                                                 const struct cvma_collateral_src *src,
                                                 struct cvma_tdx_collateral *c, unsigned *given,
                                                 char *absent, size_t absent_len,
                                                 struct cvma_verdict *v)
{
    static const char tag[] = "tdx";
    static const int docs[] = {F_TCB_INFO, F_TCB_SIG, F_QE_ID, F_QE_SIG};
    struct cvma_buf f[F_COUNT_];
    bool missing[F_COUNT_];
    struct cvma_dircache_stamp before, after;
    struct dir_obj *o = NULL;
    void *got = NULL;
    enum cvma_status st;
    size_t n_reasons = v->n_reasons;
    unsigned have = 0;

    if (dc == NULL || src->dir == NULL || !parts_irrelevant(src) ||
        !cvma_dircache_stamp_watched(dc, tag, src->dir, file_names, F_COUNT_, &before)) {
        memset(c, 0, sizeof *c);
        if ((st = read_files(src, f, missing, v)) != CVMA_OK) {
            return st;
        }
        return decode_files(src, f, missing, NULL, c, given, absent, absent_len, v);
    }
    memset(c, 0, sizeof *c);
    st = cvma_dircache_get_obj(dc, tag, src->dir, &before, &dir_obj_ops, &got);
    if (st == CVMA_OK) {
        /* A hit: the documents parsed again, the certificates and CRLs as decoded last time;
         * every signature, chain and validity check runs on them as on a miss. */
        o = got;
        memcpy(f, o->f, sizeof f);
        memcpy(missing, o->missing, sizeof missing);
        memset(o->f, 0, sizeof o->f);
        st = decode_files(src, f, missing, o, c, given, absent, absent_len, v);
        dir_obj_free(o);
        return st;
    }
    if (st == CVMA_E_NOMEM) {
        return st;
    }
    if ((st = read_files(src, f, missing, v)) != CVMA_OK) {
        return st;
    }
    /* Stored only when it decodes without a reason and the files did not move meanwhile. */
    bool store = cvma_dircache_stamp(src->dir, file_names, F_COUNT_, &after) &&
                 cvma_dircache_stamp_equal(&before, &after) && (o = calloc(1, sizeof *o)) != NULL;
    for (size_t i = 0; store && i < CVMA_ARRAY_LEN(docs); i++) {
        int k = docs[i];
        store = f[k].len == 0 || buf_copy(&o->f[k], f[k].p, f[k].len) == CVMA_OK;
    }
    if (store) {
        memcpy(o->missing, missing, sizeof missing);
    }
    st = decode_files(src, f, missing, NULL, c, given != NULL ? &have : NULL, absent, absent_len,
                      v);
    if (given == NULL && st == CVMA_OK) {
        have = CVMA_TDX_ITEMS_ALL;
    } else if (given != NULL) {
        *given = have;
    }
    /* A directory that lacks an item (the caller fetches it) is not stored: pre (a hit) is
     * only ever a complete set. */
    if (store && st == CVMA_OK && have == CVMA_TDX_ITEMS_ALL && v->n_reasons == n_reasons &&
        (o->tcb_info_chain = X509_chain_up_ref(c->tcb_info_chain)) != NULL &&
        (o->qe_identity_chain = X509_chain_up_ref(c->qe_identity_chain)) != NULL &&
        X509_CRL_up_ref(c->pck_crl) == 1 && (o->pck_crl = c->pck_crl) != NULL &&
        X509_CRL_up_ref(c->root_ca_crl) == 1 && (o->root_ca_crl = c->root_ca_crl) != NULL) {
        cvma_dircache_put_obj(dc, tag, src->dir, &before, o, &dir_obj_ops);
    } else {
        dir_obj_free(o);
    }
    return st;
}
