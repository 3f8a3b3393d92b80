/*
 * Intel DCAP collateral for TDX: the collateral directory, the exact signed bytes of TCB Info
 * and QE Identity, their parsers, and their verification (Intel QVL
 * order; Intel PCS API v4).
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

#include "collateral/source.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"

#define MAX_COLLATERAL_FILE (1u << 20) /* PCS bodies are a few KiB */
#define JSON_MAX_DEPTH      32u        /* QVL MAX_TCB_INFO_JSON_DEPTH */
#define MAX_TCB_LEVELS      1024u
#define MAX_MODULES         64u
#define MAX_ADVISORIES      1024u
#define MAX_ADVISORY_LEN    127u
#define SGX_COMPONENTS      16u

/* ------------------------------------------------------------------------------------------ */
/* The scanner: exact spans in untrusted JSON text.                                           */
/* Invariant: off <= len. Every read checks off < len first.                                  */
/* ------------------------------------------------------------------------------------------ */

struct scan {
    const uint8_t *p;
    size_t len;
    size_t off;
};

static bool at_end(const struct scan *s)
{
    return s->off >= s->len;
}

static uint8_t peek(const struct scan *s)
{
    return at_end(s) ? 0 : s->p[s->off];
}

static void skip_ws(struct scan *s)
{
    while (!at_end(s)) {
        uint8_t c = s->p[s->off];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return;
        }
        s->off++;
    }
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Scans a string starting at its opening quote; leaves off after the closing quote. When dec
 * is non-NULL the decoded text is written there (dec_cap bytes, not NUL-terminated) and
 * *dec_len set; *overflow says it did not fit. A code point above 0x7F decodes to the byte
 * 0xFF: such a string can never equal the ASCII keys looked for here. *escaped (may be NULL)
 * says whether any escape occurred.
 */
static bool scan_string(struct scan *s, char *dec, size_t dec_cap, size_t *dec_len, bool *overflow,
                        bool *escaped)
{
    size_t n = 0;
    bool ovf = false, esc = false;

    if (peek(s) != '"') {
        return false;
    }
    s->off++;
    for (;;) {
        uint8_t c, out;
        if (at_end(s)) {
            return false;
        }
        c = s->p[s->off++];
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return false; /* control characters must be escaped (RFC 8259 §7) */
        }
        out = c;
        if (c == '\\') {
            esc = true;
            if (at_end(s)) {
                return false;
            }
            c = s->p[s->off++];
            switch (c) {
            case '"':
            case '\\':
            case '/':
                out = c;
                break;
            case 'b':
                out = '\b';
                break;
            case 'f':
                out = '\f';
                break;
            case 'n':
                out = '\n';
                break;
            case 'r':
                out = '\r';
                break;
            case 't':
                out = '\t';
                break;
            case 'u': {
                unsigned cp = 0;
                if (s->len - s->off < 4) {
                    return false;
                }
                for (int i = 0; i < 4; i++) {
                    int h = hexval(s->p[s->off + (size_t)i]);
                    if (h < 0) {
                        return false;
                    }
                    cp = cp << 4 | (unsigned)h;
                }
                s->off += 4;
                out = cp < 0x80 ? (uint8_t)cp : 0xFF;
                break;
            }
            default:
                return false;
            }
        } else if (c >= 0x80) {
            out = 0xFF;
        }
        if (dec != NULL) {
            if (n < dec_cap) {
                dec[n++] = (char)out;
            } else {
                ovf = true;
            }
        }
    }
    if (dec_len != NULL) {
        *dec_len = n;
    }
    if (overflow != NULL) {
        *overflow = ovf;
    }
    if (escaped != NULL) {
        *escaped = esc;
    }
    return true;
}

static bool scan_literal(struct scan *s, const char *lit)
{
    size_t n = strlen(lit);
    if (s->len - s->off < n || memcmp(s->p + s->off, lit, n) != 0) {
        return false;
    }
    s->off += n;
    return true;
}

static bool scan_digits(struct scan *s)
{
    size_t start = s->off;
    while (!at_end(s) && s->p[s->off] >= '0' && s->p[s->off] <= '9') {
        s->off++;
    }
    return s->off > start;
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(struct scan *s)
{
    if (peek(s) == '-') {
        s->off++;
    }
    if (peek(s) == '0') {
        s->off++;
    } else if (peek(s) >= '1' && peek(s) <= '9') {
        (void)scan_digits(s);
    } else {
        return false;
    }
    if (peek(s) == '.') {
        s->off++;
        if (!scan_digits(s)) {
            return false;
        }
    }
    if (peek(s) == 'e' || peek(s) == 'E') {
        s->off++;
        if (peek(s) == '+' || peek(s) == '-') {
            s->off++;
        }
        if (!scan_digits(s)) {
            return false;
        }
    }
    return true;
}

static bool scan_value(struct scan *s, unsigned depth);

/* depth counts the container being opened; the outermost object is depth 1. */
static bool scan_container(struct scan *s, unsigned depth)
{
    uint8_t open = peek(s), close = open == '{' ? '}' : ']';

    if (depth > JSON_MAX_DEPTH) {
        return false;
    }
    s->off++;
    skip_ws(s);
    if (peek(s) == close) {
        s->off++;
        return true;
    }
    for (;;) {
        skip_ws(s);
        if (open == '{') {
            if (!scan_string(s, NULL, 0, NULL, NULL, NULL)) {
                return false;
            }
            skip_ws(s);
            if (peek(s) != ':') {
                return false;
            }
            s->off++;
        }
        if (!scan_value(s, depth)) {
            return false;
        }
        skip_ws(s);
        if (peek(s) == ',') {
            s->off++;
            continue;
        }
        if (peek(s) == close && !at_end(s)) {
            s->off++;
            return true;
        }
        return false;
    }
}

/* Scans one value (leading whitespace allowed) nested inside a container of depth `depth`. */
static bool scan_value(struct scan *s, unsigned depth)
{
    skip_ws(s);
    switch (peek(s)) {
    case '{':
    case '[':
        return !at_end(s) && scan_container(s, depth + 1);
    case '"':
        return scan_string(s, NULL, 0, NULL, NULL, NULL);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        return !at_end(s) && scan_number(s);
    }
}

/* The whole input is one JSON object, with optional whitespace around it; *span is the object
 * from '{' to its '}'. */
static bool object_span(const uint8_t *p, size_t len, struct cvma_span *span)
{
    struct scan s = {p, len, 0};
    size_t start;

    span->p = NULL;
    span->len = 0;
    if (p == NULL || len > MAX_COLLATERAL_FILE) {
        return false;
    }
    skip_ws(&s);
    if (peek(&s) != '{' || at_end(&s)) {
        return false;
    }
    start = s.off;
    if (!scan_container(&s, 1)) {
        return false;
    }
    span->p = p + start;
    span->len = s.off - start;
    skip_ws(&s);
    return at_end(&s);
}

static bool key_is(const char *dec, size_t n, bool ovf, const char *key)
{
    return !ovf && n == strlen(key) && memcmp(dec, key, n) == 0;
}

/* see tdx/tdx_collateral.h */
bool cvma_tdx_signed_json_split(const uint8_t *p, size_t len, const char *key,
                                struct cvma_span *signed_part, uint8_t sig[64])
{
    struct scan s = {p, len, 0};
    bool have_key = false, have_sig = false;
    struct cvma_span span = {NULL, 0};
    uint8_t sigbuf[64];

    signed_part->p = NULL;
    signed_part->len = 0;
    memset(sig, 0, 64);
    if (p == NULL || key == NULL || len > MAX_COLLATERAL_FILE) {
        return false;
    }
    skip_ws(&s);
    if (peek(&s) != '{' || at_end(&s)) {
        return false;
    }
    s.off++;
    skip_ws(&s);
    if (peek(&s) == '}') {
        return false; /* {} has neither member */
    }
    for (;;) {
        char name[32];
        size_t name_len = 0, vstart;
        bool ovf = false;

        skip_ws(&s);
        if (!scan_string(&s, name, sizeof name, &name_len, &ovf, NULL)) {
            return false;
        }
        skip_ws(&s);
        if (peek(&s) != ':') {
            return false;
        }
        s.off++;
        skip_ws(&s);
        vstart = s.off;
        if (!scan_value(&s, 1)) {
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
            struct scan str = {p, s.off, vstart};
            bool escaped = false;
            char hex[129];
            size_t hex_len = 0, got = 0;
            if (have_sig || p[vstart] != '"' ||
                !scan_string(&str, hex, sizeof hex - 1, &hex_len, &ovf, &escaped) || ovf ||
                escaped || hex_len != 128) {
                return false;
            }
            hex[hex_len] = '\0';
            if (!cvma_hex_decode(hex, sigbuf, sizeof sigbuf, &got) || got != 64) {
                return false;
            }
            have_sig = true;
        }
        skip_ws(&s);
        if (peek(&s) == ',' && !at_end(&s)) {
            s.off++;
            continue;
        }
        if (peek(&s) == '}' && !at_end(&s)) {
            s.off++;
            break;
        }
        return false;
    }
    skip_ws(&s);
    if (!at_end(&s) || !have_key || !have_sig) {
        return false;
    }
    *signed_part = span;
    memcpy(sig, sigbuf, 64);
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Cleanup                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void advisories_free(struct cvma_tdx_advisories *a)
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
        advisories_free(&t->levels[i].adv);
    }
    free(t->levels);
    for (size_t m = 0; m < t->n_modules; m++) {
        for (size_t i = 0; i < t->modules[m].n_levels; i++) {
            advisories_free(&t->modules[m].levels[i].adv);
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
        advisories_free(&q->levels[i].adv);
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

/* ------------------------------------------------------------------------------------------ */
/* Typed field access for the parsers                                                         */
/* ------------------------------------------------------------------------------------------ */

struct pctx {
    const char *doc; /* "TCB Info" / "QE Identity" */
    struct cvma_verdict *v;
};

static enum cvma_status bad(const struct pctx *c, const char *fmt, ...) CVMA_PRINTF(2, 3);

static enum cvma_status bad(const struct pctx *c, const char *fmt, ...)
{
    char msg[CVMA_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cvma_reject(c->v, CVMA_R_COLLATERAL_INVALID, "%s: %s", c->doc, msg);
}

/* The member `name` of obj; NULL when absent. path names obj in reasons ("tcbLevels[2].tcb"). */
static enum cvma_status get_member(const struct pctx *c, json_t *obj, const char *path,
                                   const char *name, bool required, json_t **out)
{
    *out = json_object_get(obj, name);
    if (*out == NULL && required) {
        return bad(c, "%s%s%s is missing", path, path[0] ? "." : "", name);
    }
    return CVMA_OK;
}

static enum cvma_status get_object(const struct pctx *c, json_t *obj, const char *path,
                                   const char *name, bool required, json_t **out)
{
    enum cvma_status st = get_member(c, obj, path, name, required, out);
    if (st == CVMA_OK && *out != NULL && !json_is_object(*out)) {
        return bad(c, "%s%s%s is not an object", path, path[0] ? "." : "", name);
    }
    return st;
}

static enum cvma_status get_array(const struct pctx *c, json_t *obj, const char *path,
                                  const char *name, bool required, size_t max, json_t **out)
{
    enum cvma_status st = get_member(c, obj, path, name, required, out);
    if (st != CVMA_OK || *out == NULL) {
        return st;
    }
    if (!json_is_array(*out)) {
        return bad(c, "%s%s%s is not an array", path, path[0] ? "." : "", name);
    }
    if (json_array_size(*out) == 0 || json_array_size(*out) > max) {
        return bad(c, "%s%s%s has %zu entries (1..%zu allowed)", path, path[0] ? "." : "", name,
                   json_array_size(*out), max);
    }
    return CVMA_OK;
}

static enum cvma_status get_string(const struct pctx *c, json_t *obj, const char *path,
                                   const char *name, const char **out)
{
    json_t *j;
    enum cvma_status st = get_member(c, obj, path, name, true, &j);

    *out = NULL;
    if (st != CVMA_OK) {
        return st;
    }
    if (!json_is_string(j)) {
        return bad(c, "%s%s%s is not a string", path, path[0] ? "." : "", name);
    }
    /* A NUL inside would make the C string shorter than the JSON string. */
    if (strlen(json_string_value(j)) != json_string_length(j)) {
        return bad(c, "%s%s%s contains a NUL character", path, path[0] ? "." : "", name);
    }
    *out = json_string_value(j);
    return CVMA_OK;
}

static enum cvma_status get_int(const struct pctx *c, json_t *obj, const char *path,
                                const char *name, long long min, long long max, long long *out)
{
    json_t *j;
    enum cvma_status st = get_member(c, obj, path, name, true, &j);

    *out = 0;
    if (st != CVMA_OK) {
        return st;
    }
    if (!json_is_integer(j) || json_integer_value(j) < min || json_integer_value(j) > max) {
        return bad(c, "%s%s%s is not an integer in %lld..%lld", path, path[0] ? "." : "", name, min,
                   max);
    }
    *out = (long long)json_integer_value(j);
    return CVMA_OK;
}

/* A hex string of exactly 2*n digits (either case). */
static enum cvma_status get_hex(const struct pctx *c, json_t *obj, const char *path,
                                const char *name, uint8_t *out, size_t n)
{
    const char *s;
    size_t got = 0;
    enum cvma_status st = get_string(c, obj, path, name, &s);

    memset(out, 0, n);
    if (st != CVMA_OK) {
        return st;
    }
    if (strlen(s) != 2 * n || !cvma_hex_decode(s, out, n, &got) || got != n) {
        memset(out, 0, n);
        return bad(c, "%s%s%s is not %zu hex digits", path, path[0] ? "." : "", name, 2 * n);
    }
    return CVMA_OK;
}

/* An RFC 3339 date-time ("2025-06-19T10:16:03Z"); a bare date is not accepted. */
static enum cvma_status get_date(const struct pctx *c, json_t *obj, const char *path,
                                 const char *name, time_t *out, char *copy, size_t copy_len)
{
    const char *s;
    enum cvma_status st = get_string(c, obj, path, name, &s);

    *out = 0;
    if (copy != NULL) {
        copy[0] = '\0';
    }
    if (st != CVMA_OK) {
        return st;
    }
    if (strlen(s) < 20 || (s[10] != 'T' && s[10] != 't') || !cvma_time_parse_rfc3339(s, out) ||
        (copy != NULL && strlen(s) >= copy_len)) {
        *out = 0;
        return bad(c, "%s%s%s is not an RFC 3339 date-time", path, path[0] ? "." : "", name);
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

static enum cvma_status get_status(const struct pctx *c, json_t *obj, const char *path,
                                   char out[CVMA_TDX_STATUS_MAX])
{
    const char *s;
    enum cvma_status st = get_string(c, obj, path, "tcbStatus", &s);

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
    return bad(c, "%s.tcbStatus \"%.40s\" is not a known TCB status", path, s);
}

static enum cvma_status get_advisories(const struct pctx *c, json_t *obj, const char *path,
                                       struct cvma_tdx_advisories *out)
{
    json_t *arr = json_object_get(obj, "advisoryIDs"), *e;
    size_t i;

    out->ids = NULL;
    out->n = 0;
    if (arr == NULL) {
        return CVMA_OK; /* optional (QVL: advisoryIDs field is optional) */
    }
    if (!json_is_array(arr) || json_array_size(arr) > MAX_ADVISORIES) {
        return bad(c, "%s.advisoryIDs is not an array of at most %u strings", path, MAX_ADVISORIES);
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
            advisories_free(out);
            return bad(c, "%s.advisoryIDs[%zu] is not a string of 1..%u characters", path, i,
                       MAX_ADVISORY_LEN);
        }
        if ((out->ids[out->n] = strdup(s)) == NULL) {
            advisories_free(out);
            return CVMA_E_NOMEM;
        }
        out->n++;
    }
    return CVMA_OK;
}

/* Checks the scanner's bounds (size, depth, syntax) and loads the span with jansson. */
static enum cvma_status load_json(const struct pctx *c, const uint8_t *p, size_t len, json_t **out)
{
    struct cvma_span span;
    json_error_t jerr;

    *out = NULL;
    if (p == NULL || !object_span(p, len, &span)) {
        return bad(c, "not one JSON object (or nested deeper than %u, or larger than %u bytes)",
                   JSON_MAX_DEPTH, MAX_COLLATERAL_FILE);
    }
    if ((*out = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        return bad(c, "invalid JSON at byte %d: %.120s", jerr.position, jerr.text);
    }
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return bad(c, "not a JSON object");
    }
    return CVMA_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* TCB Info (TDX, v3)                                                                         */
/* ------------------------------------------------------------------------------------------ */

static enum cvma_status parse_components(const struct pctx *c, json_t *tcb, const char *path,
                                         const char *name, uint8_t out[SGX_COMPONENTS])
{
    json_t *arr, *e;
    size_t i;
    char epath[96];
    enum cvma_status st = get_member(c, tcb, path, name, true, &arr);

    if (st != CVMA_OK) {
        return st;
    }
    if (!json_is_array(arr) || json_array_size(arr) != SGX_COMPONENTS) {
        return bad(c, "%s.%s is not an array of %u components", path, name, SGX_COMPONENTS);
    }
    json_array_foreach(arr, i, e)
    {
        long long svn;
        json_t *opt;
        snprintf(epath, sizeof epath, "%s.%s[%zu]", path, name, i);
        if (!json_is_object(e)) {
            return bad(c, "%s is not an object", epath);
        }
        if ((st = get_int(c, e, epath, "svn", 0, 255, &svn)) != CVMA_OK) {
            return st;
        }
        out[i] = (uint8_t)svn;
        /* category and type are descriptive only; if present they must be strings. */
        if (((opt = json_object_get(e, "category")) != NULL && !json_is_string(opt)) ||
            ((opt = json_object_get(e, "type")) != NULL && !json_is_string(opt))) {
            return bad(c, "%s.category/type is not a string", epath);
        }
    }
    return CVMA_OK;
}

static enum cvma_status parse_tcb_level(const struct pctx *c, json_t *e, size_t idx,
                                        struct cvma_tdx_tcb_level *lv)
{
    char path[48], tpath[56];
    json_t *tcb;
    long long pcesvn;
    time_t date;
    enum cvma_status st;

    snprintf(path, sizeof path, "tcbLevels[%zu]", idx);
    snprintf(tpath, sizeof tpath, "%s.tcb", path);
    if (!json_is_object(e)) {
        return bad(c, "%s is not an object", path);
    }
    if ((st = get_object(c, e, path, "tcb", true, &tcb)) != CVMA_OK ||
        (st = parse_components(c, tcb, tpath, "sgxtcbcomponents", lv->sgx_comp)) != CVMA_OK ||
        (st = get_int(c, tcb, tpath, "pcesvn", 0, 65535, &pcesvn)) != CVMA_OK ||
        (st = parse_components(c, tcb, tpath, "tdxtcbcomponents", lv->tdx_comp)) != CVMA_OK ||
        (st = get_date(c, e, path, "tcbDate", &date, lv->tcb_date, sizeof lv->tcb_date)) !=
                CVMA_OK ||
        (st = get_status(c, e, path, lv->status)) != CVMA_OK ||
        (st = get_advisories(c, e, path, &lv->adv)) != CVMA_OK) {
        return st;
    }
    lv->pcesvn = (uint16_t)pcesvn;
    return CVMA_OK;
}

/*
 * QVL's order (TcbLevel::operator>, held in a std::set<..., std::greater>): descending by the
 * 16 SGX component SVNs as a vector; if equal, for TDX with equal pcesvn by the TDX component
 * vector, otherwise by pcesvn. Returns <0 when a sorts first.
 */
static int tcb_level_cmp(const void *pa, const void *pb)
{
    const struct cvma_tdx_tcb_level *a = pa, *b = pb;
    int r = memcmp(a->sgx_comp, b->sgx_comp, SGX_COMPONENTS);

    if (r != 0) {
        return r > 0 ? -1 : 1;
    }
    if (a->pcesvn != b->pcesvn) {
        return a->pcesvn > b->pcesvn ? -1 : 1;
    }
    r = memcmp(a->tdx_comp, b->tdx_comp, SGX_COMPONENTS);
    return r > 0 ? -1 : (r < 0 ? 1 : 0);
}

static int module_level_cmp(const void *pa, const void *pb)
{
    const struct cvma_tdx_module_level *a = pa, *b = pb;
    return a->isvsvn > b->isvsvn ? -1 : (a->isvsvn < b->isvsvn ? 1 : 0);
}

/* QE Identity levels: by isvsvn, highest first (QVL IdentityTcbLevel in a descending set). */
static int qe_level_cmp(const void *pa, const void *pb)
{
    const struct cvma_tdx_qe_level *a = pa, *b = pb;
    return a->isvsvn > b->isvsvn ? -1 : (a->isvsvn < b->isvsvn ? 1 : 0);
}

static enum cvma_status parse_module_fields(const struct pctx *c, json_t *m, const char *path,
                                            uint8_t mrsigner[48], uint8_t attributes[8],
                                            uint8_t mask[8])
{
    enum cvma_status st;
    if ((st = get_hex(c, m, path, "mrsigner", mrsigner, 48)) != CVMA_OK ||
        (st = get_hex(c, m, path, "attributes", attributes, 8)) != CVMA_OK ||
        (st = get_hex(c, m, path, "attributesMask", mask, 8)) != CVMA_OK) {
        return st;
    }
    return CVMA_OK;
}

static enum cvma_status parse_module_identity(const struct pctx *c, json_t *e, size_t idx,
                                              struct cvma_tdx_module_identity *mi)
{
    char path[48], lpath[80], tpath[96];
    json_t *levels, *le, *tcb;
    const char *id;
    size_t i;
    enum cvma_status st;

    snprintf(path, sizeof path, "tdxModuleIdentities[%zu]", idx);
    if (!json_is_object(e)) {
        return bad(c, "%s is not an object", path);
    }
    if ((st = get_string(c, e, path, "id", &id)) != CVMA_OK) {
        return st;
    }
    if (strlen(id) == 0 || strlen(id) >= sizeof mi->id) {
        return bad(c, "%s.id is not a string of 1..%zu characters", path, sizeof mi->id - 1);
    }
    memcpy(mi->id, id, strlen(id) + 1);
    if ((st = parse_module_fields(c, e, path, mi->mrsigner, mi->attributes, mi->attributes_mask)) !=
                CVMA_OK ||
        (st = get_array(c, e, path, "tcbLevels", true, MAX_TCB_LEVELS, &levels)) != CVMA_OK) {
        return st;
    }
    if ((mi->levels = calloc(json_array_size(levels), sizeof *mi->levels)) == NULL) {
        return CVMA_E_NOMEM;
    }
    json_array_foreach(levels, i, le)
    {
        struct cvma_tdx_module_level *lv = &mi->levels[i];
        long long isvsvn;
        time_t date;
        snprintf(lpath, sizeof lpath, "%s.tcbLevels[%zu]", path, i);
        snprintf(tpath, sizeof tpath, "%s.tcb", lpath);
        mi->n_levels = i + 1; /* so that cleanup frees what this level holds */
        if (!json_is_object(le)) {
            return bad(c, "%s is not an object", lpath);
        }
        if ((st = get_object(c, le, lpath, "tcb", true, &tcb)) != CVMA_OK ||
            (st = get_int(c, tcb, tpath, "isvsvn", 0, 255, &isvsvn)) != CVMA_OK ||
            (st = get_date(c, le, lpath, "tcbDate", &date, lv->tcb_date, sizeof lv->tcb_date)) !=
                    CVMA_OK ||
            (st = get_status(c, le, lpath, lv->status)) != CVMA_OK ||
            (st = get_advisories(c, le, lpath, &lv->adv)) != CVMA_OK) {
            return st;
        }
        lv->isvsvn = (uint8_t)isvsvn;
    }
    /* QVL keeps these sorted by isvsvn, descending (TdxModuleIdentity::getTcbLevels). */
    qsort(mi->levels, mi->n_levels, sizeof *mi->levels, module_level_cmp);
    for (i = 1; i < mi->n_levels; i++) {
        if (mi->levels[i].isvsvn == mi->levels[i - 1].isvsvn) {
            return bad(c, "%s has two TCB levels with isvsvn %u", path, mi->levels[i].isvsvn);
        }
    }
    return CVMA_OK;
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_tcb_info_parse(const uint8_t *p, size_t len,
                                         struct cvma_tdx_tcb_info *out, struct cvma_verdict *v)
{
    const struct pctx c = {"TCB Info", v};
    enum cvma_status st;
    json_t *root = NULL, *levels, *module, *modules, *e;
    const char *id;
    long long num;
    size_t i;

    memset(out, 0, sizeof *out);
    if ((st = load_json(&c, p, len, &root)) != CVMA_OK) {
        goto out;
    }
    if ((st = get_string(&c, root, "", "id", &id)) != CVMA_OK) {
        goto out;
    }
    if (strcmp(id, "TDX") != 0) {
        /* An SGX TCB Info ("SGX") has no TDX module or TDX components: it cannot judge a TD. */
        st = bad(&c, "id is \"%.20s\", not \"TDX\": this TCB Info is not for TDX", id);
        goto out;
    }
    memcpy(out->id, "TDX", 4);
    if ((st = get_int(&c, root, "", "version", 0, INT32_MAX, &num)) != CVMA_OK) {
        goto out;
    }
    if (num != 3) {
        st = bad(&c, "version %lld; only version 3 (TDX) is understood", num);
        goto out;
    }
    out->version = (int)num;
    if ((st = get_date(&c, root, "", "issueDate", &out->issue_date, NULL, 0)) != CVMA_OK ||
        (st = get_date(&c, root, "", "nextUpdate", &out->next_update, NULL, 0)) != CVMA_OK ||
        (st = get_hex(&c, root, "", "fmspc", out->fmspc, sizeof out->fmspc)) != CVMA_OK ||
        (st = get_hex(&c, root, "", "pceId", out->pceid, sizeof out->pceid)) != CVMA_OK ||
        (st = get_int(&c, root, "", "tcbType", INT32_MIN, INT32_MAX, &num)) != CVMA_OK) {
        goto out;
    }
    out->tcb_type = (int)num;
    if (out->tcb_type != 0) {
        /* tcbType selects how tcbLevels compare; 0 is the only defined type (QVL 4.1.2.7.4). */
        st = bad(&c, "tcbType %d; only 0 is defined", out->tcb_type);
        goto out;
    }
    if (out->next_update < out->issue_date) {
        st = bad(&c, "nextUpdate is before issueDate");
        goto out;
    }
    if ((st = get_int(&c, root, "", "tcbEvaluationDataNumber", 0, INT32_MAX, &num)) != CVMA_OK) {
        goto out;
    }
    out->tcb_evaluation_data_number = (int)num;

    /* QVL TcbInfo::parsePartV3: tdxModule is required for TDX; tdxModuleIdentities optional. */
    if ((st = get_object(&c, root, "", "tdxModule", true, &module)) != CVMA_OK ||
        (st = parse_module_fields(&c, module, "tdxModule", out->module_mrsigner,
                                  out->module_attributes, out->module_attributes_mask)) !=
                CVMA_OK) {
        goto out;
    }
    out->has_tdx_module = true;
    if ((st = get_array(&c, root, "", "tdxModuleIdentities", false, MAX_MODULES, &modules)) !=
        CVMA_OK) {
        goto out;
    }
    if (modules != NULL) {
        if ((out->modules = calloc(json_array_size(modules), sizeof *out->modules)) == NULL) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        json_array_foreach(modules, i, e)
        {
            out->n_modules = i + 1;
            if ((st = parse_module_identity(&c, e, i, &out->modules[i])) != CVMA_OK) {
                goto out;
            }
            for (size_t k = 0; k < i; k++) {
                if (strcasecmp(out->modules[k].id, out->modules[i].id) == 0) {
                    st = bad(&c, "two tdxModuleIdentities have the id \"%s\"", out->modules[i].id);
                    goto out;
                }
            }
        }
    }

    if ((st = get_array(&c, root, "", "tcbLevels", true, MAX_TCB_LEVELS, &levels)) != CVMA_OK) {
        goto out;
    }
    if ((out->levels = calloc(json_array_size(levels), sizeof *out->levels)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    json_array_foreach(levels, i, e)
    {
        out->n_levels = i + 1;
        if ((st = parse_tcb_level(&c, e, i, &out->levels[i])) != CVMA_OK) {
            goto out;
        }
    }
    qsort(out->levels, out->n_levels, sizeof *out->levels, tcb_level_cmp);
    for (i = 1; i < out->n_levels; i++) {
        if (tcb_level_cmp(&out->levels[i - 1], &out->levels[i]) == 0) {
            /* QVL refuses these too ("Detected duplicated TCB levels"): which status applies
             * would depend on the order. */
            st = bad(&c,
                     "two TCB levels have the same SGX components, PCESVN and TDX "
                     "components (tcbDate %s and %s)",
                     out->levels[i - 1].tcb_date, out->levels[i].tcb_date);
            goto out;
        }
    }
    st = CVMA_OK;
out:
    json_decref(root);
    if (st != CVMA_OK) {
        cvma_tdx_tcb_info_cleanup(out);
    }
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* QE Identity (TD_QE, v2)                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_qe_identity_parse(const uint8_t *p, size_t len,
                                            struct cvma_tdx_qe_identity *out,
                                            struct cvma_verdict *v)
{
    const struct pctx c = {"QE Identity", v};
    enum cvma_status st;
    json_t *root = NULL, *levels, *e, *mrs;
    const char *id;
    long long num;
    uint8_t m4[4];
    size_t i;

    memset(out, 0, sizeof *out);
    if ((st = load_json(&c, p, len, &root)) != CVMA_OK) {
        goto out;
    }
    if ((st = get_string(&c, root, "", "id", &id)) != CVMA_OK) {
        goto out;
    }
    if (strcmp(id, "TD_QE") != 0) {
        st = bad(&c, "id is \"%.20s\", not \"TD_QE\": this QE Identity is not the TD QE's", id);
        goto out;
    }
    memcpy(out->id, "TD_QE", 6);
    if ((st = get_int(&c, root, "", "version", 0, INT32_MAX, &num)) != CVMA_OK) {
        goto out;
    }
    if (num != 2) {
        st = bad(&c, "version %lld; only version 2 is understood", num);
        goto out;
    }
    out->version = 2;
    if ((st = get_date(&c, root, "", "issueDate", &out->issue_date, NULL, 0)) != CVMA_OK ||
        (st = get_date(&c, root, "", "nextUpdate", &out->next_update, NULL, 0)) != CVMA_OK ||
        (st = get_int(&c, root, "", "tcbEvaluationDataNumber", 0, INT32_MAX, &num)) != CVMA_OK) {
        goto out;
    }
    out->tcb_evaluation_data_number = (int)num;
    if (out->next_update < out->issue_date) {
        st = bad(&c, "nextUpdate is before issueDate");
        goto out;
    }
    /* MISCSELECT is the report's 4 bytes in memory order (little-endian), as QVL reads them
     * (EnclaveReportVerifier::vectorToUint32). */
    if ((st = get_hex(&c, root, "", "miscselect", m4, 4)) != CVMA_OK) {
        goto out;
    }
    out->miscselect =
            (uint32_t)m4[0] | (uint32_t)m4[1] << 8 | (uint32_t)m4[2] << 16 | (uint32_t)m4[3] << 24;
    if ((st = get_hex(&c, root, "", "miscselectMask", m4, 4)) != CVMA_OK) {
        goto out;
    }
    out->miscselect_mask =
            (uint32_t)m4[0] | (uint32_t)m4[1] << 8 | (uint32_t)m4[2] << 16 | (uint32_t)m4[3] << 24;
    if ((st = get_hex(&c, root, "", "attributes", out->attributes, 16)) != CVMA_OK ||
        (st = get_hex(&c, root, "", "attributesMask", out->attributes_mask, 16)) != CVMA_OK) {
        goto out;
    }
    /* mrsigner: checked only when the identity has one (QVL 4.1.2.9.7). */
    if ((mrs = json_object_get(root, "mrsigner")) != NULL) {
        if ((st = get_hex(&c, root, "", "mrsigner", out->mrsigner, 32)) != CVMA_OK) {
            goto out;
        }
        out->has_mrsigner = true;
    }
    if ((st = get_int(&c, root, "", "isvprodid", 0, 65535, &num)) != CVMA_OK) {
        goto out;
    }
    out->isvprodid = (uint16_t)num;
    if ((st = get_array(&c, root, "", "tcbLevels", true, MAX_TCB_LEVELS, &levels)) != CVMA_OK) {
        goto out;
    }
    if ((out->levels = calloc(json_array_size(levels), sizeof *out->levels)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    json_array_foreach(levels, i, e)
    {
        struct cvma_tdx_qe_level *lv = &out->levels[i];
        char path[48], tpath[56];
        json_t *tcb;
        time_t date;
        snprintf(path, sizeof path, "tcbLevels[%zu]", i);
        snprintf(tpath, sizeof tpath, "%s.tcb", path);
        out->n_levels = i + 1;
        if (!json_is_object(e)) {
            st = bad(&c, "%s is not an object", path);
            goto out;
        }
        if ((st = get_object(&c, e, path, "tcb", true, &tcb)) != CVMA_OK ||
            (st = get_int(&c, tcb, tpath, "isvsvn", 0, 65535, &num)) != CVMA_OK ||
            (st = get_date(&c, e, path, "tcbDate", &date, lv->tcb_date, sizeof lv->tcb_date)) !=
                    CVMA_OK ||
            (st = get_status(&c, e, path, lv->status)) != CVMA_OK ||
            (st = get_advisories(&c, e, path, &lv->adv)) != CVMA_OK) {
            goto out;
        }
        lv->isvsvn = (uint16_t)num;
    }
    /* Current QVL holds these in a set sorted by isvsvn, highest first
     * (EnclaveIdentity::getIdentityTcbLevels), refuses two with the same isvsvn ("Detected
     * duplicated TCB levels"), then takes the first with isvsvn <= the QE's ISVSVN: the file's
     * order does not matter. */
    qsort(out->levels, out->n_levels, sizeof *out->levels, qe_level_cmp);
    for (i = 1; i < out->n_levels; i++) {
        if (out->levels[i].isvsvn == out->levels[i - 1].isvsvn) {
            st = bad(&c, "tcbLevels has two levels with isvsvn %u",
                     (unsigned)out->levels[i].isvsvn);
            goto out;
        }
    }
    st = CVMA_OK;
out:
    json_decref(root);
    if (st != CVMA_OK) {
        cvma_tdx_qe_identity_cleanup(out);
    }
    return st;
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
    if (!object_span(doc->body.p, doc->body.len, &doc->signed_part)) {
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

/* Reads name from src; absent or unreadable leaves out empty and sets *missing. */
static enum cvma_status read_file(const struct cvma_collateral_src *src, const char *name,
                                  struct cvma_buf *out, bool *missing)
{
    enum cvma_status st = cvma_collateral_src_read(src, name, MAX_COLLATERAL_FILE, out);

    *missing = false;
    if (st == CVMA_E_IO) {
        *missing = true;
        return CVMA_OK;
    }
    return st;
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
                           "%s (%s) is not a PCS body {\"%s\": ..., \"signature\": ...}, and "
                           "there is no %s for a bare inner object",
                           what, file, key, sig_file);
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

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_collateral_load(const struct cvma_collateral_src *src,
                                          struct cvma_tdx_collateral *c, struct cvma_verdict *v)
{
    char where[512];
    enum cvma_status st = CVMA_OK;
    struct cvma_buf f[F_COUNT_];
    bool missing[F_COUNT_];
    char absent[256];
    size_t used = 0;

    memset(c, 0, sizeof *c);
    memset(f, 0, sizeof f);
    absent[0] = '\0';
    for (int i = 0; i < F_COUNT_; i++) {
        if ((st = read_file(src, file_names[i], &f[i], &missing[i])) != CVMA_OK) {
            goto out;
        }
        bool optional = i == F_TCB_SIG || i == F_QE_SIG;
        if (missing[i] && !optional && used < sizeof absent) {
            int w = snprintf(absent + used, sizeof absent - used, "%s%s", used ? ", " : "",
                             file_names[i]);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    if (absent[0] != '\0') {
        cvma_collateral_src_describe(src, where, sizeof where);
        cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                    "TDX collateral directory %s lacks (or cannot read) %s", where, absent);
        v->undecided = true;
        st = CVMA_UNDECIDED;
        goto out;
    }
    if ((st = load_doc(&c->tcb_info_doc, &f[F_TCB_INFO], &f[F_TCB_SIG], missing[F_TCB_SIG],
                       "tcbInfo", "TCB Info", file_names[F_TCB_INFO], file_names[F_TCB_SIG], v)) !=
                CVMA_OK ||
        (st = load_doc(&c->qe_identity_doc, &f[F_QE_ID], &f[F_QE_SIG], missing[F_QE_SIG],
                       "enclaveIdentity", "QE Identity", file_names[F_QE_ID], file_names[F_QE_SIG],
                       v)) != CVMA_OK) {
        goto out;
    }
    if ((c->tcb_info_chain = cvma_x509_load_pem_stack(f[F_TCB_CHAIN].p, f[F_TCB_CHAIN].len)) ==
        NULL) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "%s: no PEM certificate", file_names[F_TCB_CHAIN]);
        goto out;
    }
    if ((c->qe_identity_chain = cvma_x509_load_pem_stack(f[F_QE_CHAIN].p, f[F_QE_CHAIN].len)) ==
        NULL) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "%s: no PEM certificate", file_names[F_QE_CHAIN]);
        goto out;
    }
    if ((c->pck_crl = cvma_tdx_crl_load_any(f[F_PCK_CRL].p, f[F_PCK_CRL].len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CRL_INVALID, "%s: not a DER, PEM or hex-encoded CRL",
                         file_names[F_PCK_CRL]);
        goto out;
    }
    if ((c->root_ca_crl = cvma_tdx_crl_load_any(f[F_ROOT_CRL].p, f[F_ROOT_CRL].len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CRL_INVALID, "%s: not a DER, PEM or hex-encoded CRL",
                         file_names[F_ROOT_CRL]);
        goto out;
    }
    if ((st = cvma_tdx_tcb_info_parse(c->tcb_info_doc.signed_part.p,
                                      c->tcb_info_doc.signed_part.len, &c->tcb_info, v)) !=
                CVMA_OK ||
        (st = cvma_tdx_qe_identity_parse(c->qe_identity_doc.signed_part.p,
                                         c->qe_identity_doc.signed_part.len, &c->qe_identity, v)) !=
                CVMA_OK) {
        goto out;
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

/* ------------------------------------------------------------------------------------------ */
/* Verification                                                                               */
/* ------------------------------------------------------------------------------------------ */

static void fmt_time(time_t t, char *out, size_t n)
{
    cvma_time_format(t, out, n);
}

static bool asn1_to_time(const ASN1_TIME *a, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    *out = 0;
    if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1) {
        return false;
    }
    *out = timegm(&tm);
    return true;
}

static bool same_cert(X509 *a, X509 *b)
{
    unsigned char *da = NULL, *db = NULL;
    int la = i2d_X509(a, &da), lb = i2d_X509(b, &db);
    bool same = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;
    OPENSSL_free(da);
    OPENSSL_free(db);
    return same;
}

static char *serial_hex(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *s = bn != NULL ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    return s;
}

/* The Root CA CRL: signed by the root, issued by it, current at `at`. */
static enum cvma_status check_root_crl(X509_CRL *crl, X509 *root, time_t at, struct cvma_verdict *v)
{
    EVP_PKEY *key = X509_get0_pubkey(root);
    time_t last, next;

    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(root)) != 0) {
        return cvma_reject(v, CVMA_R_CRL_INVALID, "Root CA CRL: its issuer is not the root");
    }
    if (key == NULL || X509_CRL_verify(crl, key) != 1) {
        ERR_clear_error();
        return cvma_reject(v, CVMA_R_CRL_INVALID,
                           "Root CA CRL: signature does not verify with the root's key");
    }
    if (!asn1_to_time(X509_CRL_get0_lastUpdate(crl), &last)) {
        return cvma_reject(v, CVMA_R_CRL_INVALID, "Root CA CRL: unreadable thisUpdate");
    }
    if (X509_CRL_get0_nextUpdate(crl) == NULL) {
        next = (time_t)INT64_MAX;
    } else if (!asn1_to_time(X509_CRL_get0_nextUpdate(crl), &next)) {
        return cvma_reject(v, CVMA_R_CRL_INVALID, "Root CA CRL: unreadable nextUpdate");
    }
    if (at < last || at > next) {
        char win[CVMA_DETAIL_MAX];
        cvma_crl_window_detail(crl, "Root CA CRL", at, win, sizeof win);
        return cvma_reject(v, CVMA_R_CRL_EXPIRED, "%s", win);
    }
    return CVMA_OK;
}

static enum cvma_status check_not_revoked(X509_CRL *crl, X509 *x, const char *who,
                                          struct cvma_verdict *v)
{
    X509_REVOKED *rev = NULL;
    if (X509_CRL_get0_by_cert(crl, &rev, x) == 1) {
        char *serial = serial_hex(x);
        enum cvma_status st =
                cvma_reject(v, CVMA_R_CERT_REVOKED, "%s (serial %s) is listed in the Root CA CRL",
                            who, serial != NULL ? serial : "?");
        OPENSSL_free(serial);
        return st;
    }
    return CVMA_OK;
}

static enum cvma_status map_x509_error(int err, int depth, X509 *cert, int n, const char *what,
                                       time_t at, struct cvma_verdict *v)
{
    char who[96], win[CVMA_DETAIL_MAX];

    if (depth == 0) {
        snprintf(who, sizeof who, "%s signing certificate", what);
    } else if (depth == n - 1) {
        snprintf(who, sizeof who, "root of the %s issuer chain", what);
    } else {
        snprintf(who, sizeof who, "certificate %d of the %s issuer chain", depth, what);
    }
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        cvma_x509_window_detail(cert, who, at, win, sizeof win);
        return cvma_reject(v, CVMA_R_CERT_EXPIRED, "%s", win);
    case X509_V_ERR_CERT_NOT_YET_VALID:
        cvma_x509_window_detail(cert, who, at, win, sizeof win);
        return cvma_reject(v, CVMA_R_CERT_NOT_YET_VALID, "%s", win);
    default:
        return cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID, "%s: %s (X509 error %d)", who,
                           X509_verify_cert_error_string(err), err);
    }
}

static bool key_is_p256(EVP_PKEY *k)
{
    char group[32];
    size_t glen = 0;
    return k != NULL && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
           EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &glen) &&
           strcmp(group, "prime256v1") == 0;
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_signed_json_verify(const struct cvma_tdx_signed_json *doc,
                                             STACK_OF(X509) * chain, X509 *root,
                                             X509_CRL *root_ca_crl, time_t at, const char *what,
                                             struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509 *signer;
    EVP_PKEY *key;
    char cn[128];
    int n;

    uintptr_t body_start = (uintptr_t)doc->body.p, part_start = (uintptr_t)doc->signed_part.p;

    /* The span must lie inside the body: it is what the signature covers. */
    if (doc->signed_part.p == NULL || doc->signed_part.len == 0 || doc->body.p == NULL ||
        part_start < body_start || part_start - body_start > doc->body.len ||
        doc->signed_part.len > doc->body.len - (part_start - body_start)) {
        v->undecided = true;
        cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE, "%s: no signed document", what);
        return CVMA_UNDECIDED;
    }
    if (root == NULL) {
        return cvma_reject(v, CVMA_R_CERT_UNTRUSTED_ROOT, "%s: no pinned root given", what);
    }
    n = chain != NULL ? sk_X509_num(chain) : 0;
    if (n != 2) {
        /* PCS issuer chains are the TCB Signing certificate and the root it was issued by. */
        return cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                           "%s issuer chain has %d certificates, expected 2 (signing certificate, "
                           "root)",
                           what, n);
    }
    signer = sk_X509_value(chain, 0);
    if (!same_cert(sk_X509_value(chain, n - 1), root)) {
        cvma_x509_subject_cn(sk_X509_value(chain, n - 1), cn, sizeof cn);
        return cvma_reject(v, CVMA_R_CERT_UNTRUSTED_ROOT,
                           "%s issuer chain ends in '%s', which is not the pinned root", what, cn);
    }
    if ((store = X509_STORE_new()) == NULL || X509_STORE_add_cert(store, root) != 1 ||
        (untrusted = sk_X509_new_null()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL ||
        X509_STORE_CTX_init(ctx, store, signer, untrusted) != 1) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    /* Intel's chains carry every extension strict mode wants; check the root's
     * self-signature too, which OpenSSL skips for trust anchors by default. */
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT | X509_V_FLAG_CHECK_SS_SIGNATURE);
    X509_STORE_CTX_set_time(ctx, 0, at);
    if (X509_verify_cert(ctx) != 1) {
        st = map_x509_error(X509_STORE_CTX_get_error(ctx), X509_STORE_CTX_get_error_depth(ctx),
                            X509_STORE_CTX_get_current_cert(ctx), n, what, at, v);
        goto out;
    }
    if (sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) != n) {
        st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                         "%s issuer chain: verified path has %d "
                         "certificates, expected %d",
                         what, sk_X509_num(X509_STORE_CTX_get0_chain(ctx)), n);
        goto out;
    }
    cvma_x509_subject_cn(signer, cn, sizeof cn);
    if (X509_check_ca(signer) != 0) {
        st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                         "%s signing certificate '%s' is a CA certificate, not a signing one", what,
                         cn);
        goto out;
    }
    if ((X509_get_extension_flags(signer) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE) == 0) {
        st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                         "%s signing certificate '%s' does not allow digitalSignature", what, cn);
        goto out;
    }
    if (root_ca_crl == NULL) {
        (void)cvma_reject(v, CVMA_R_CRL_NOT_CHECKED,
                          "no Root CA CRL: revocation of the %s signing certificate was not "
                          "checked",
                          what);
    } else if ((st = check_root_crl(root_ca_crl, root, at, v)) != CVMA_OK ||
               (st = check_not_revoked(root_ca_crl, signer, cn, v)) != CVMA_OK ||
               (st = check_not_revoked(root_ca_crl, root, "the root", v)) != CVMA_OK) {
        goto out;
    }
    key = X509_get0_pubkey(signer);
    if (!key_is_p256(key)) {
        st = cvma_reject(v, CVMA_R_CERT_KEY_UNSUPPORTED,
                         "%s signing certificate '%s': key is not ECDSA P-256", what, cn);
        goto out;
    }
    /* Intel PCS: ECDSA P-256 / SHA-256 over the exact bytes of the inner object. */
    if (!cvma_p256_verify_raw(key, doc->signed_part.p, doc->signed_part.len, doc->signature)) {
        st = cvma_reject(v, CVMA_R_COLLATERAL_SIGNATURE_INVALID,
                         "%s: the ECDSA P-256 signature over its %zu signed bytes does not verify "
                         "with the key of '%s'",
                         what, doc->signed_part.len, cn);
        goto out;
    }
    st = CVMA_OK;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    return st;
}

/* issueDate <= at <= nextUpdate; late by at most grace seconds: a warning. */
static enum cvma_status check_window(time_t issue, time_t next, time_t at, int64_t grace,
                                     const char *what, struct cvma_verdict *v)
{
    char a[32], b[32], w[32];

    fmt_time(issue, a, sizeof a);
    fmt_time(next, b, sizeof b);
    fmt_time(at, w, sizeof w);
    if (at < issue) {
        return cvma_reject(v, CVMA_R_COLLATERAL_NOT_YET_VALID,
                           "%s issued %s, after the verification time %s", what, a, w);
    }
    if (at > next) {
        int64_t late = (int64_t)at - (int64_t)next;
        if (grace > 0 && late <= grace) {
            return cvma_verdict_add(v, CVMA_R_COLLATERAL_EXPIRED, CVMA_SEV_WARNING,
                                    "%s nextUpdate %s passed %lld s before the verification time "
                                    "%s, within the allowed grace of %lld s",
                                    what, b, (long long)late, w, (long long)grace);
        }
        return cvma_reject(v, CVMA_R_COLLATERAL_EXPIRED,
                           "%s valid %s .. %s (nextUpdate), verification time %s", what, a, b, w);
    }
    return CVMA_OK;
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_collateral_verify(const struct cvma_tdx_collateral *c, X509 *root,
                                            time_t at, int64_t grace_seconds,
                                            struct cvma_verdict *v)
{
    const struct cvma_tdx_tcb_info *ti = &c->tcb_info;
    const struct cvma_tdx_qe_identity *qi = &c->qe_identity;
    enum cvma_status st;

    /* TCB Info [QVL 4.1.2.5.10]: chain, signature, kind, time. */
    if ((st = cvma_tdx_signed_json_verify(&c->tcb_info_doc, c->tcb_info_chain, root, c->root_ca_crl,
                                          at, "TCB Info", v)) != CVMA_OK) {
        return st;
    }
    if (strcmp(ti->id, "TDX") != 0 || ti->version != 3 || ti->tcb_type != 0 || ti->n_levels == 0 ||
        !ti->has_tdx_module) {
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "TCB Info: id \"%s\" version %d tcbType %d with %zu TCB levels; a TDX "
                           "quote needs id \"TDX\", version 3, tcbType 0, tdxModule and levels",
                           ti->id, ti->version, ti->tcb_type, ti->n_levels);
    }
    if ((st = check_window(ti->issue_date, ti->next_update, at, grace_seconds, "TCB Info", v)) !=
        CVMA_OK) {
        return st;
    }
    /* QE Identity [QVL 4.1.2.5.15]. */
    if ((st = cvma_tdx_signed_json_verify(&c->qe_identity_doc, c->qe_identity_chain, root,
                                          c->root_ca_crl, at, "QE Identity", v)) != CVMA_OK) {
        return st;
    }
    if (strcmp(qi->id, "TD_QE") != 0 || qi->version != 2 || qi->n_levels == 0) {
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "QE Identity: id \"%s\" version %d with %zu TCB levels; a TDX quote "
                           "needs id \"TD_QE\", version 2 and levels",
                           qi->id, qi->version, qi->n_levels);
    }
    return check_window(qi->issue_date, qi->next_update, at, grace_seconds, "QE Identity", v);
}
