/*
 * Importer for Cocos AI attestation policies (docs/policy.md, "Importing a Cocos policy").
 *
 * SEV-SNP: go-sev-guest's check.Config (proto/check.proto: Config {root_of_trust, policy})
 * read by Cocos with protojson and DiscardUnknown (unknown fields ignored), plus Cocos's own
 * "pcr_values". TDX: go-tdx-guest's checkconfig.Config (proto/checkconfig.proto: Config {policy
 * {header_policy, td_quote_body_policy}, root_of_trust}), written by Cocos with protojson
 * (lowerCamelCase) and read back with a plain protojson.Unmarshal (ReadTDXAttestationPolicy),
 * which refuses a field the message does not define. Protobuf JSON accepts the lowerCamelCase
 * JSON name and the original snake_case name of every field, and no other spelling, so both
 * are read and any other is an unknown field; bytes are base64 (standard or URL-safe, one
 * alphabet per value, padding optional); 64-bit integers are numbers or decimal strings.
 *
 * Unknown fields therefore differ by kind: in an SEV-SNP policy Cocos ignores them, and so
 * does the import (each named in *dropped); in a TDX policy Cocos loads nothing from the file,
 * and the import refuses it, naming the field. go-tdx-guest's releases differ in field 12 of
 * TDQuoteBodyPolicy (tdattributes_debug or allow_debug) and in Policy.pck_policy: each name
 * some release defines is read, as Cocos built with that release reads it.
 *
 * proto3 scalars have no presence: an absent bool "permit_provisional_firmware" is false to
 * go-sev-guest, which then enforces it, and the importer carries that faithfully; an absent
 * uint64 "policy" is 0, which go-sev-guest refuses outright (reserved bit 17 must be 1), so
 * the importer refuses it too. Empty bytes and zero minimums constrain nothing there and
 * produce nothing here. A setting with which the source verifies nothing or refuses every
 * report (a guest policy or platform_info go-sev-guest cannot parse, required keys without
 * their hashes, a TDX QE or PCE SVN minimum, a QE vendor ID other than Intel's, an mr_td that
 * any_mr_td does not list, rtmrs with other than 4 entries, an unknown TDX field) is refused
 * rather than translated into a policy that accepts reports.
 *
 * Input is untrusted: bounded size, every value type- and length-checked, a malformed one
 * refused with its path. Settings that have no equivalent are listed in *dropped, by name.
 */
#include "import/cocos.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "appraise/policy.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "common/reader.h"

#define MAX_KEY    64u
#define MAX_BYTES  4096u /* a single bytes field (a CA bundle is a string, not bytes) */
#define MAX_REPEAT 256u

struct imp {
    char *err;
    size_t errlen;
    bool oom;
    json_t *dropped; /* array of strings */
};

static bool fail(struct imp *m, const char *fmt, ...) CVMA_PRINTF(2, 3);

static bool fail(struct imp *m, const char *fmt, ...)
{
    va_list ap;
    if (m->errlen > 0 && m->err[0] == '\0') {
        va_start(ap, fmt);
        cvma_verrf(m->err, m->errlen, fmt, ap); /* escaped: it may quote the file's text */
        va_end(ap);
    }
    return false;
}

static bool oom(struct imp *m)
{
    m->oom = true;
    return fail(m, "out of memory");
}

static void drop(struct imp *m, const char *fmt, ...) CVMA_PRINTF(2, 3);

static void drop(struct imp *m, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    cvma_verrf(buf, sizeof buf, fmt, ap); /* escaped: it quotes the file's keys and values */
    va_end(ap);
    if (json_array_append_new(m->dropped, json_string(buf)) != 0) {
        m->oom = true;
    }
}

/* Adds a value to an object; a NULL value (allocation failure) marks out-of-memory. */
static void put(struct imp *m, json_t *obj, const char *key, json_t *val)
{
    if (val == NULL || json_object_set_new(obj, key, val) != 0) {
        m->oom = true;
    }
}

/* ---- lexical pre-pass: 64-bit integers ------------------------------------------------- */

/*
 * jansson refuses integers above INT64_MAX, and go-sev-guest's uint64 fields (minimum_tcb:
 * 15352208179752599555 in Cocos's own sample) are written as bare numbers. Quote every
 * integer literal that does not fit int64 so that it reaches us as a decimal string, which
 * protobuf JSON accepts for uint64 anyway. A negative one is quoted with its sign, so that it
 * is refused as out of range by the field's path rather than as JSON jansson cannot read.
 * Only tokens outside strings are touched.
 */
static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* A byte that continues a number: an integer after it is no token of its own. */
static bool in_number(uint8_t c)
{
    return is_digit(c) || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '+';
}

/* The next byte without moving (0 at the end). */
static uint8_t peek(struct cvma_reader r)
{
    uint8_t c = 0;
    return cvma_reader_u8(&r, &c) ? c : 0;
}

/* How many digits follow (counted on a copy of the reader). */
static size_t digit_run(struct cvma_reader r)
{
    size_t n = 0;
    uint8_t c;
    while (cvma_reader_u8(&r, &c) && is_digit(c)) {
        n++;
    }
    return n;
}

static char *quote_big_ints(const uint8_t *p, size_t len, size_t *out_len)
{
    char *out = malloc(len + len / 8 + 8); /* each quoted token has >= 19 digits */
    struct cvma_reader r;
    size_t o = 0;
    bool in_str = false;
    uint8_t c, prev = 0; /* the byte before (0 at the start: no number) */
    if (out == NULL) {
        return NULL;
    }
    cvma_reader_init(&r, p, len);
    while (!cvma_reader_at_end(&r)) {
        struct cvma_reader after_sign = r;
        uint8_t sign = 0;
        bool negative = !in_str && !in_number(prev) && cvma_reader_u8(&after_sign, &sign) &&
                        sign == '-' && is_digit(peek(after_sign));
        if (negative || (!in_str && is_digit(peek(r)) && !in_number(prev))) {
            struct cvma_reader ahead = negative ? after_sign : r;
            struct cvma_span digits;
            size_t nd = digit_run(ahead);
            if (!cvma_reader_span(&ahead, nd, &digits)) {
                break; /* cannot happen: digit_run counted them */
            }
            nd += negative ? 1 : 0; /* the sign is copied with the digits */
            uint8_t next = peek(ahead);
            bool plain = cvma_reader_at_end(&ahead) || !(next == '.' || next == 'e' || next == 'E');
            bool big = digits.len > 19 ||
                       (digits.len == 19 && memcmp(digits.p, "9223372036854775807", 19) > 0);
            bool quote = plain && big;
            if (quote) {
                out[o++] = '"';
            }
            if (!cvma_reader_bytes(&r, (uint8_t *)out + o, nd)) {
                break;
            }
            o += nd;
            if (quote) {
                out[o++] = '"';
            }
            prev = '0';
            continue;
        }
        if (!cvma_reader_u8(&r, &c)) {
            break;
        }
        out[o++] = (char)c;
        prev = c;
        if (in_str) {
            if (c == '\\' && cvma_reader_u8(&r, &c)) {
                out[o++] = (char)c;
                prev = c;
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* ---- protobuf JSON values ---------------------------------------------------------------- */

/* A base64 digit's value in one alphabet: standard (+ /) or URL-safe (- _); -1 otherwise. */
static int b64val(char c, bool url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == (url ? '-' : '+')) {
        return 62;
    }
    if (c == (url ? '_' : '/')) {
        return 63;
    }
    return -1;
}

/* Protobuf JSON (protojson) reads bytes in the URL-safe alphabet when the text holds a '-' or
 * an '_', else in the standard one: one alphabet per value, never a mix. */
static bool b64_is_url_safe(const char *s, size_t n)
{
    return memchr(s, '-', n) != NULL || memchr(s, '_', n) != NULL;
}

/* Base64 in one alphabet (url: URL-safe), padding optional (as protobuf JSON reads bytes). */
static bool b64_decode(const char *s, size_t n, bool url, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t pad = 0, o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    *out_len = 0;
    while (pad < 2 && n > pad && s[n - 1 - pad] == '=') {
        pad++;
    }
    if (pad > 0 && n % 4 != 0) {
        return false;
    }
    n -= pad;
    if (n % 4 == 1) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i], url);
        if (v < 0) {
            return false;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap) {
                return false;
            }
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = o;
    return true;
}

/*
 * bytes: *n = 0 for the default (empty string or null: not set). want = 0 accepts any length
 * up to cap; want2 is a second accepted length (chip_id: 64 or 8), 0 for none.
 */
static bool get_bytes(json_t *j, const char *path, size_t want, size_t want2, uint8_t *out,
                      size_t cap, size_t *n, struct imp *m)
{
    *n = 0;
    if (j == NULL || json_is_null(j)) {
        return true;
    }
    if (!json_is_string(j)) {
        return fail(m, "%s: expected base64 bytes, got %s", path, cvma_json_type_name(j));
    }
    const char *s = json_string_value(j);
    size_t sl = json_string_length(j);
    bool url = b64_is_url_safe(s, sl);
    if (strlen(s) == sl && url && (memchr(s, '+', sl) != NULL || memchr(s, '/', sl) != NULL)) {
        return fail(m,
                    "%s: not valid base64: mixes the URL-safe alphabet ('-', '_') with the "
                    "standard one ('+', '/'); protobuf JSON reads one or the other",
                    path);
    }
    if (strlen(s) != sl || !b64_decode(s, sl, url, out, cap, n)) {
        return fail(m, "%s: not valid base64 (or longer than %zu bytes)", path, cap);
    }
    if (*n != 0 && want != 0 && *n != want && *n != want2) {
        if (want2 != 0) {
            return fail(m, "%s: %zu bytes, expected %zu or %zu", path, *n, want, want2);
        }
        return fail(m, "%s: %zu bytes, expected %zu", path, *n, want);
    }
    return true;
}

/*
 * Decimal digits, optionally after a '-': a decimal string, or a JSON number beyond int64 that
 * quote_big_ints made one. A value out of range is shown as the file spells it, unquoted
 * (the file may have written it either way), never as a number rounded or converted.
 */
static bool get_decimal(const char *s, size_t n, const char *path, uint64_t max, uint64_t *out,
                        struct imp *m)
{
    const char *digits = s[0] == '-' ? s + 1 : s;
    size_t nd = n - (size_t)(digits - s);
    uint64_t v = 0;
    bool over = s[0] == '-' || nd > 20;
    for (size_t i = 0; !over && i < nd; i++) {
        uint64_t d = (uint64_t)(digits[i] - '0');
        over = v > (UINT64_MAX - d) / 10;
        v = over ? v : v * 10 + d;
    }
    if (over && n > 40) {
        return fail(m, "%s: a %s%zu-digit integer is out of range 0..%" PRIu64, path,
                    s[0] == '-' ? "negative " : "", nd, max);
    }
    if (over || v > max) {
        return fail(m, "%s: %s is out of range 0..%" PRIu64, path, s, max);
    }
    *out = v;
    return true;
}

/* uint64 / uint32: a non-negative JSON integer or a string of decimal digits. */
static bool get_uint(json_t *j, const char *path, uint64_t max, uint64_t *out, struct imp *m)
{
    *out = 0;
    if (j == NULL || json_is_null(j)) {
        return true;
    }
    if (json_is_integer(j)) {
        if (json_integer_value(j) < 0 || (uint64_t)json_integer_value(j) > max) {
            return fail(m, "%s: %" JSON_INTEGER_FORMAT " is out of range 0..%" PRIu64, path,
                        json_integer_value(j), max);
        }
        *out = (uint64_t)json_integer_value(j);
        return true;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        size_t sign = n > 1 && s[0] == '-' ? 1 : 0;
        if (n == 0 || strlen(s) != n) {
            return fail(m, "%s: expected a decimal integer", path);
        }
        if (strspn(s + sign, "0123456789") != n - sign) {
            if (n > 20) {
                return fail(m, "%s: expected a decimal integer", path);
            }
            return fail(m, "%s: \"%s\" is not an unsigned 64-bit decimal integer", path, s);
        }
        /* protobuf JSON reads the string as a JSON number, whose grammar has no leading zero */
        if (n - sign > 1 && s[sign] == '0') {
            if (n > 40) {
                return fail(m, "%s: an integer with a leading zero, which protobuf JSON refuses",
                            path);
            }
            return fail(m, "%s: \"%s\" has a leading zero, which protobuf JSON refuses", path, s);
        }
        return get_decimal(s, n, path, max, out, m);
    }
    return fail(m, "%s: expected an unsigned integer, got %s", path, cvma_json_type_name(j));
}

static bool get_bool(json_t *j, const char *path, bool *out, struct imp *m)
{
    *out = false;
    if (j == NULL || json_is_null(j)) {
        return true;
    }
    if (!json_is_boolean(j)) {
        return fail(m, "%s: expected true or false, got %s", path, cvma_json_type_name(j));
    }
    *out = json_is_true(j);
    return true;
}

static bool get_string(json_t *j, const char *path, size_t max, const char **out, struct imp *m)
{
    *out = "";
    if (j == NULL || json_is_null(j)) {
        return true;
    }
    if (!json_is_string(j) || json_string_length(j) > max ||
        strlen(json_string_value(j)) != json_string_length(j)) {
        return fail(m, "%s: expected a string of at most %zu characters, got %s", path, max,
                    cvma_json_type_name(j));
    }
    *out = json_string_value(j);
    return true;
}

/* "maj.min", each 1..3 digits and 0..255 (go-sev-guest's minimum_version). */
static bool maj_min_ok(const char *s)
{
    unsigned v = 0, digits = 0, dots = 0;
    for (; *s != '\0'; s++) {
        if (*s == '.' && dots == 0 && digits > 0) {
            dots = 1;
            v = 0;
            digits = 0;
        } else if (*s >= '0' && *s <= '9' && digits < 3) {
            v = v * 10 + (unsigned)(*s - '0');
            digits++;
            if (v > 255) {
                return false;
            }
        } else {
            return false;
        }
    }
    return dots == 1 && digits > 0;
}

static json_t *hexj(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    cvma_hex_encode(p, n, buf, sizeof buf);
    return json_string(buf);
}

/* ---- field names: both protobuf JSON spellings ------------------------------------------- */

/* lowerCamelCase -> snake_case ("mrTd" -> "mr_td"; "mr_td" unchanged). */
static bool to_snake(const char *key, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *k = key; *k != '\0'; k++) {
        if (o + 3 > cap) {
            return false;
        }
        if (*k >= 'A' && *k <= 'Z') {
            out[o++] = '_';
            out[o++] = (char)(*k - 'A' + 'a');
        } else {
            out[o++] = *k;
        }
    }
    out[o] = '\0';
    return true;
}

/* snake_case -> lowerCamelCase, as protoc derives a field's JSON name ("mr_td" -> "mrTd"). */
static bool to_camel(const char *snake, char *out, size_t cap)
{
    size_t o = 0;
    bool up = false;
    for (const char *s = snake; *s != '\0'; s++) {
        if (o + 2 > cap) {
            return false;
        }
        if (*s == '_') {
            up = true;
            continue;
        }
        out[o++] = up && *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
        up = false;
    }
    out[o] = '\0';
    return true;
}

/* A protobuf message object with its keys in snake_case, and the spelling each came in. */
struct msg {
    json_t *vals; /* snake name -> value (borrowed references held) */
    json_t *orig; /* snake name -> the key as written */
    char path[128];
};

static void msg_cleanup(struct msg *g)
{
    json_decref(g->vals);
    json_decref(g->orig);
    g->vals = g->orig = NULL;
}

/* j may be NULL or null (an absent message). Refuses a field given in both spellings. */
static bool msg_open(json_t *j, const char *path, struct msg *g, struct imp *m)
{
    const char *key;
    json_t *val;
    char snake[2 * MAX_KEY + 2], camel[2 * MAX_KEY + 2];
    snprintf(g->path, sizeof g->path, "%s", path);
    g->vals = json_object();
    g->orig = json_object();
    if (g->vals == NULL || g->orig == NULL) {
        return oom(m);
    }
    if (j == NULL || json_is_null(j)) {
        return true;
    }
    if (!json_is_object(j)) {
        return fail(m, "%s: expected an object, got %s", path, cvma_json_type_name(j));
    }
    json_object_foreach(j, key, val)
    {
        if (strlen(key) > MAX_KEY || !to_snake(key, snake, sizeof snake) ||
            !to_camel(snake, camel, sizeof camel)) {
            return fail(m, "%s: a field name longer than %u characters", path, MAX_KEY);
        }
        /* protobuf JSON knows a field by its proto name or its JSON name only: a mixed
         * spelling ("minimumQe_svn") is an unknown field there, so it is one here ('?' is in
         * no field name, and the key is unique in the object). */
        if (strcmp(key, snake) != 0 && strcmp(key, camel) != 0) {
            snprintf(snake, sizeof snake, "?%s", key);
        }
        json_t *prev = json_object_get(g->orig, snake);
        if (prev != NULL) {
            return fail(m, "%s: field %s given twice (as \"%s\" and \"%s\")", path, snake,
                        json_string_value(prev), key);
        }
        if (json_object_set(g->vals, snake, val) != 0 ||
            json_object_set_new(g->orig, snake, json_string(key)) != 0) {
            return oom(m);
        }
    }
    return true;
}

/* Takes a field out of the message (so that what is left at the end is unknown). */
static json_t *take(struct msg *g, const char *snake, char *path, size_t pathlen)
{
    json_t *o = json_object_get(g->orig, snake);
    json_t *v = json_object_get(g->vals, snake);
    snprintf(path, pathlen, "%s%s%s", g->path, g->path[0] ? "." : "",
             o ? json_string_value(o) : snake);
    if (v == NULL) {
        return NULL;
    }
    json_incref(v);
    json_object_del(g->vals, snake);
    /* orig keeps the entry: a later take of the same name still gets the spelling. */
    return v; /* caller's reference */
}

/* Every field nobody took: unknown to the message, listed as dropped. */
static void drop_rest(struct msg *g, const char *why, struct imp *m)
{
    const char *key;
    json_t *val;
    json_object_foreach(g->vals, key, val)
    {
        json_t *o = json_object_get(g->orig, key);
        drop(m, "%s%s%s: %s", g->path, g->path[0] ? "." : "", o ? json_string_value(o) : key, why);
    }
}

/*
 * Every field nobody took, in a TDX policy: Cocos reads one with protojson.Unmarshal without
 * DiscardUnknown (ReadTDXAttestationPolicy), which refuses a field the message does not
 * define, so Cocos loads nothing from the file and verifies nothing with it. Names the first.
 */
static bool refuse_rest(struct msg *g, const char *message, struct imp *m)
{
    void *it = json_object_iter(g->vals);
    if (it == NULL) {
        return true;
    }
    const char *key = json_object_iter_key(it);
    json_t *o = json_object_get(g->orig, key);
    return fail(m,
                "%s%s%s: not a field of go-tdx-guest's %s; Cocos reads a TDX policy with strict "
                "protobuf JSON, which refuses a field it does not know, so it loads nothing from "
                "this file; remove the field (names are the proto name or its lowerCamelCase "
                "JSON name)",
                g->path, g->path[0] ? "." : "", o ? json_string_value(o) : key, message);
}

/* ---- SEV-SNP: go-sev-guest check.Config ---------------------------------------------- */

/* TCB_VERSION byte layouts (SEV-SNP ABI spec, TCB_VERSION). */
static json_t *tcb_parts(uint64_t raw, bool turin)
{
    uint8_t b[8];
    for (size_t i = 0; i < 8; i++) {
        b[i] = (uint8_t)(raw >> (8 * i));
    }
    if (turin) {
        return json_pack("{s:i, s:i, s:i, s:i, s:i}", "fmc", b[0], "bootloader", b[1], "tee", b[2],
                         "snp", b[3], "microcode", b[7]);
    }
    return json_pack("{s:i, s:i, s:i, s:i}", "bootloader", b[0], "tee", b[1], "snp", b[6],
                     "microcode", b[7]);
}

static const char *product_from_enum(uint64_t v)
{
    switch (v) {
    case 1:
        return "Milan";
    case 2:
        return "Genoa";
    case 3:
        return "Turin";
    default:
        return NULL;
    }
}

static const char *product_from_string(const char *s)
{
    static const struct {
        const char *in, *out;
    } map[] = {{"SEV_PRODUCT_MILAN", "Milan"},
               {"SEV_PRODUCT_GENOA", "Genoa"},
               {"SEV_PRODUCT_TURIN", "Turin"},
               {"Milan", "Milan"},
               {"Genoa", "Genoa"},
               {"Turin", "Turin"}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(map); i++) {
        if (strcmp(s, map[i].in) == 0) {
            return map[i].out;
        }
    }
    return NULL;
}

/* SevProduct {name (enum), stepping (deprecated), machine_stepping}. */
static bool snp_product(json_t *j, const char *path, const char **product, struct imp *m)
{
    struct msg g = {0};
    char p[192];
    bool ok = false;
    json_t *v = NULL;
    *product = NULL;
    if (!msg_open(j, path, &g, m)) {
        goto out;
    }
    if ((v = take(&g, "name", p, sizeof p)) != NULL) {
        if (json_is_string(v)) {
            if ((*product = product_from_string(json_string_value(v))) == NULL &&
                strcmp(json_string_value(v), "SEV_PRODUCT_UNKNOWN") != 0) {
                fail(m, "%s: \"%s\" is not a SevProductName", p, json_string_value(v));
                goto out;
            }
        } else {
            uint64_t e = 0;
            if (!get_uint(v, p, 3, &e, m)) {
                goto out;
            }
            *product = product_from_enum(e);
        }
        json_decref(v);
        v = NULL;
    }
    if ((v = take(&g, "stepping", p, sizeof p)) != NULL) {
        drop(m, "%s: the machine stepping is not part of a cvmattest policy", p);
        json_decref(v);
        v = NULL;
    }
    if ((v = take(&g, "machine_stepping", p, sizeof p)) != NULL) {
        drop(m, "%s: the machine stepping is not part of a cvmattest policy", p);
        json_decref(v);
        v = NULL;
    }
    drop_rest(&g, "unknown to go-sev-guest's SevProduct; ignored", m);
    ok = true;
out:
    json_decref(v);
    msg_cleanup(&g);
    return ok;
}

/* One bytes field copied as hex (into a list when as_list). */
static bool snp_bytes(struct msg *g, const char *field, size_t want, json_t *dst, const char *key,
                      bool as_list, struct imp *m)
{
    char p[192];
    uint8_t b[64];
    size_t n = 0;
    json_t *v = take(g, field, p, sizeof p);
    bool ok = get_bytes(v, p, want, 0, b, sizeof b, &n, m);
    json_decref(v);
    if (ok && n > 0) {
        put(m, dst, key, as_list ? json_pack("[o]", hexj(b, n)) : hexj(b, n));
    }
    return ok;
}

/* repeated bytes of 48 (SHA-384 key hashes) -> a list of hex, or NULL when empty. */
static bool hash_list(json_t *v, const char *path, json_t **out, struct imp *m)
{
    char pi[224];
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) > MAX_REPEAT) {
        return fail(m, "%s: expected a list of at most %u base64 values, got %s", path, MAX_REPEAT,
                    cvma_json_type_name(v));
    }
    if (json_array_size(v) == 0) {
        return true;
    }
    if ((*out = json_array()) == NULL) {
        return oom(m);
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        uint8_t b[48];
        size_t n = 0;
        snprintf(pi, sizeof pi, "%s[%zu]", path, i);
        if (!get_bytes(json_array_get(v, i), pi, 48, 0, b, sizeof b, &n, m)) {
            return false;
        }
        if (n == 0) {
            return fail(m, "%s: an empty hash", pi);
        }
        if (cvma_bytes_are_zero(b, n)) {
            return fail(m,
                        "%s: all zero, the value of a guest launched without an ID block (or "
                        "author key): it pins nothing",
                        pi);
        }
        if (json_array_append_new(*out, hexj(b, n)) != 0) {
            return oom(m);
        }
    }
    return true;
}

static bool repeated_count(json_t *v, const char *path, size_t *n, struct imp *m)
{
    *n = 0;
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_array(v)) {
        return fail(m, "%s: expected a list, got %s", path, cvma_json_type_name(v));
    }
    *n = json_array_size(v);
    return true;
}

/* Guest POLICY (SEV-SNP ABI spec, guest policy) under go-sev-guest's mixed max/min reading. */
static void snp_guest_policy(uint64_t pol, json_t *snp, struct imp *m)
{
    json_t *gp = json_object();
    if (gp == NULL) {
        m->oom = true;
        return;
    }
    /* Maxima: the report may set these only if the given policy does. */
    put(m, gp, "allow_smt", json_boolean(pol >> 16 & 1));
    put(m, gp, "allow_migrate_ma", json_boolean(pol >> 18 & 1));
    put(m, gp, "allow_cxl", json_boolean(pol >> 21 & 1));
    /* Minima: the report must set these if the given policy does. */
    static const struct {
        unsigned bit;
        const char *key;
    } req[] = {{20, "require_single_socket"},
               {22, "require_mem_aes_256_xts"},
               {23, "require_rapl_dis"},
               {24, "require_ciphertext_hiding"},
               {25, "require_page_swap_disable"}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(req); i++) {
        if (pol >> req[i].bit & 1) {
            put(m, gp, req[i].key, json_true());
        }
    }
    unsigned maj = (unsigned)(pol >> 8 & 0xff), min = (unsigned)(pol & 0xff);
    if (maj != 0 || min != 0) {
        char abi[16];
        snprintf(abi, sizeof abi, "%u.%u", maj, min);
        put(m, gp, "minimum_abi", json_string(abi));
    }
    /* go-sev-guest parses the report's POLICY with abi.ParseSnpPolicy, which refuses bit 17
     * clear or any of bits 63:26 set, whatever the configuration says. */
    put(m, gp, "reject_unknown_bits", json_true());
    put(m, snp, "guest_policy", gp);
    put(m, snp, "allow_debug", json_boolean(pol >> 19 & 1));
}

/*
 * go-sev-guest's PolicyToOptions parses the configured policy with abi.ParseSnpPolicy, which
 * refuses reserved bit 17 clear ("policy[17] is reserved, must be 1") and bits 63:26 set:
 * Cocos then verifies nothing, and no translation would be faithful.
 */
static bool snp_guest_policy_valid(bool given, uint64_t pol, const char *path, struct imp *m)
{
    if (!given) {
        return fail(m,
                    "%s: absent, which go-sev-guest reads as 0 and refuses (\"policy[17] is "
                    "reserved, must be 1\"), so Cocos verifies nothing with this file; give the "
                    "guest policy the reports may have (e.g. 196608, 0x30000: SMT allowed)",
                    path);
    }
    if (pol >> 26 != 0) {
        return fail(m,
                    "%s: 0x%016" PRIx64 " sets reserved bits 63:26 (0x%016" PRIx64
                    "), which go-sev-guest refuses, so Cocos verifies nothing with this file",
                    path, pol, (uint64_t)(pol & ~((1ull << 26) - 1)));
    }
    if ((pol >> 17 & 1) == 0) {
        return fail(m,
                    "%s: 0x%016" PRIx64 " has reserved bit 17 clear, which go-sev-guest refuses "
                    "(\"policy[17] is reserved, must be 1\"), so Cocos verifies nothing with "
                    "this file; set bit 17 (0x20000)",
                    path, pol);
    }
    return true;
}

/*
 * go-sev-guest's PolicyToOptions parses a configured platform_info with
 * abi.ParseSnpPlatformInfo, which refuses bits it does not recognise ("unrecognized platform
 * info bit(s)"): bits 63:8 in every release (older ones knew fewer, bits 1:0, later 5:0).
 * Cocos then verifies nothing, and no translation would be faithful.
 */
static bool snp_platform_info_valid(uint64_t pi, const char *path, struct imp *m)
{
    if (pi >> 8 != 0) {
        return fail(m,
                    "%s: 0x%016" PRIx64 " sets bits 63:8 (0x%016" PRIx64
                    "), which go-sev-guest does not recognise and refuses, so Cocos verifies "
                    "nothing with this file; clear them",
                    path, pi, (uint64_t)(pi & ~0xffull));
    }
    return true;
}

/* PLATFORM_INFO (SEV-SNP ABI spec, PLATFORM_INFO) under go-sev-guest's mixed reading. */
static void snp_platform_info(uint64_t pi, json_t *snp, struct imp *m)
{
    json_t *o = json_object();
    if (o == NULL) {
        m->oom = true;
        return;
    }
    put(m, o, "allow_smt_en", json_boolean(pi & 1));
    put(m, o, "allow_tsme_en", json_boolean(pi >> 1 & 1));
    put(m, o, "allow_sev_tio_en", json_boolean(pi >> 7 & 1));
    static const struct {
        unsigned bit;
        const char *key;
    } req[] = {{2, "require_ecc_en"},
               {3, "require_rapl_dis"},
               {4, "require_ciphertext_hiding_en"},
               {5, "require_alias_check_complete"},
               {6, "require_iommu_write_safe"}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(req); i++) {
        if (pi >> req[i].bit & 1) {
            put(m, o, req[i].key, json_true());
        }
    }
    /* go-sev-guest checks a configured platform_info with abi.ParseSnpPlatformInfo, which
     * refuses bits it does not know in the report. */
    put(m, o, "reject_unknown_bits", json_true());
    put(m, snp, "platform_info", o);
}

/*
 * The two TCB minimums, each given by two fields of check.Policy: one in the Milan/Genoa
 * TCB_VERSION layout and one (suffix _turin) in Turin's. Both fill one cvmattest rule.
 */
static const struct {
    const char *key, *camel; /* the cvmattest rule and the Milan/Genoa field; its JSON name */
} tcb_keys[] = {{"minimum_tcb", "minimumTcb"}, {"minimum_launch_tcb", "minimumLaunchTcb"}};

/* Which fields of the file filled a rule's by_product entries: their paths as written, "" for
 * none, so that what is not carried is named as the file names it. */
struct tcb_from {
    char milan_genoa[192];
    char turin[192];
};

/* The field to set for the other layout, in the spelling the file uses (protobuf JSON accepts
 * the snake_case proto name or the lowerCamelCase JSON name; only the latter has no '_'). */
static void tcb_advice(size_t key, const char *written, bool turin, char *out, size_t outlen)
{
    const char *suffix = "";
    bool camel = strchr(written, '_') == NULL;
    if (turin) {
        suffix = camel ? "Turin" : "_turin";
    }
    snprintf(out, outlen, "%s%s", camel ? tcb_keys[key].camel : tcb_keys[key].key, suffix);
}

/* minimum_tcb & co: decomposed into components per product (Milan/Genoa vs Turin layout). */
static void snp_tcb(json_t *snp, const char *key, uint64_t raw, bool turin, struct imp *m)
{
    json_t *rule = json_object_get(snp, key);
    if (rule == NULL) {
        put(m, snp, key, json_object());
        if ((rule = json_object_get(snp, key)) == NULL) {
            return;
        }
    }
    json_t *bp = json_object_get(rule, "by_product");
    if (bp == NULL) {
        put(m, rule, "by_product", json_object());
        if ((bp = json_object_get(rule, "by_product")) == NULL) {
            return;
        }
    }
    if (turin) {
        put(m, bp, "Turin", tcb_parts(raw, true));
    } else {
        put(m, bp, "Milan", tcb_parts(raw, false));
        put(m, bp, "Genoa", tcb_parts(raw, false));
    }
}

static bool import_snp_policy(json_t *j, json_t *out, json_t *snp, const char **product,
                              struct tcb_from from[2], struct imp *m)
{
    struct msg g = {0};
    char p[192];
    uint8_t b[64];
    size_t n = 0;
    uint64_t u = 0;
    bool flag = false, ok = false;
    json_t *v = NULL;
    const char *str;

    if (!msg_open(j, "policy", &g, m)) {
        goto out;
    }
#define TAKE(name) (json_decref(v), v = take(&g, (name), p, sizeof p))
    TAKE("minimum_guest_svn");
    if (!get_uint(v, p, UINT32_MAX, &u, m)) {
        goto out;
    }
    if (u > 0) {
        put(m, snp, "minimum_guest_svn", json_integer((json_int_t)u));
    }
    /* proto3: an absent policy is 0, which go-sev-guest refuses; checked once every value
     * has been read, so that a malformed one is named first. */
    TAKE("policy");
    if (!get_uint(v, p, UINT64_MAX, &u, m)) {
        goto out;
    }
    bool gpol_given = v != NULL && !json_is_null(v);
    uint64_t gpol = u;
    char gpol_path[192];
    snprintf(gpol_path, sizeof gpol_path, "%s", p);
    snp_guest_policy(u, snp, m);
    if (!snp_bytes(&g, "family_id", 16, snp, "family_id", false, m) ||
        !snp_bytes(&g, "image_id", 16, snp, "image_id", false, m)) {
        goto out;
    }
    TAKE("vmpl"); /* google.protobuf.UInt32Value: presence matters */
    if (v != NULL && !json_is_null(v)) {
        if (!get_uint(v, p, 3, &u, m)) {
            goto out;
        }
        put(m, snp, "vmpl", json_integer((json_int_t)u));
    }
    /* In the order of check.Policy: minimum_tcb, minimum_launch_tcb, then the Turin ones. */
    for (int t = 0; t < 2; t++) {
        bool turin = t == 1;
        for (size_t i = 0; i < CVMA_ARRAY_LEN(tcb_keys); i++) {
            char field[64];
            snprintf(field, sizeof field, "%s%s", tcb_keys[i].key, turin ? "_turin" : "");
            TAKE(field);
            if (!get_uint(v, p, UINT64_MAX, &u, m)) {
                goto out;
            }
            if (u != 0) {
                snp_tcb(snp, tcb_keys[i].key, u, turin, m);
                char *dst = turin ? from[i].turin : from[i].milan_genoa;
                snprintf(dst, sizeof from[i].turin, "%s", p);
            }
        }
    }
    TAKE("platform_info"); /* google.protobuf.UInt64Value: presence matters */
    bool pinfo_given = v != NULL && !json_is_null(v);
    uint64_t pinfo = 0;
    char pinfo_path[192];
    snprintf(pinfo_path, sizeof pinfo_path, "%s", p);
    if (pinfo_given) {
        if (!get_uint(v, p, UINT64_MAX, &pinfo, m)) {
            goto out;
        }
        snp_platform_info(pinfo, snp, m);
    }
    bool require_author = false, require_id_block = false;
    TAKE("require_author_key");
    if (!get_bool(v, p, &require_author, m)) {
        goto out;
    }
    if (require_author) {
        put(m, snp, "require_author_key", json_true());
    }
    TAKE("report_data");
    if (!get_bytes(v, p, 64, 0, b, sizeof b, &n, m)) {
        goto out;
    }
    if (n > 0) {
        put(m, out, "report_data", hexj(b, n));
    }
    if (!snp_bytes(&g, "measurement", 48, snp, "measurements", true, m) ||
        !snp_bytes(&g, "host_data", 32, snp, "host_data", false, m) ||
        !snp_bytes(&g, "report_id_ma", 32, snp, "report_id_ma", false, m)) {
        goto out;
    }
    TAKE("report_id");
    if (!get_bytes(v, p, 32, 0, b, sizeof b, &n, m)) {
        goto out;
    }
    if (n > 0) {
        drop(m, "%s: REPORT_ID names one launch of one guest; cvmattest has no rule for it", p);
    }
    TAKE("chip_id");
    if (!get_bytes(v, p, 64, 8, b, sizeof b, &n, m)) {
        goto out;
    }
    if (n > 0 && cvma_bytes_are_zero(b, n)) {
        fail(m,
             "%s: all zero, what a guest reports whose policy masks its CHIP_ID: it pins no "
             "machine",
             p);
        goto out;
    }
    if (n > 0) {
        /* Turin's CHIP_ID is 8 ID bytes then 56 zeros in the report (docs/registry.md). */
        memset(b + n, 0, sizeof b - n);
        put(m, snp, "chip_ids", json_pack("[o]", hexj(b, 64)));
    }
    TAKE("minimum_build");
    if (!get_uint(v, p, 255, &u, m)) {
        goto out;
    }
    if (u > 0) {
        put(m, snp, "minimum_firmware_build", json_integer((json_int_t)u));
    }
    TAKE("minimum_version");
    if (!get_string(v, p, 16, &str, m)) {
        goto out;
    }
    if (str[0] != '\0' && !maj_min_ok(str)) {
        fail(m, "%s: \"%s\" is not \"major.minor\" with each 0..255", p, str);
        goto out;
    }
    if (str[0] != '\0' && strcmp(str, "0.0") != 0) {
        put(m, snp, "minimum_firmware_version", json_string(str));
    }
    /* proto3: absent is false, and go-sev-guest then requires COMMITTED == CURRENT. */
    TAKE("permit_provisional_firmware");
    if (!get_bool(v, p, &flag, m)) {
        goto out;
    }
    if (!flag) {
        put(m, snp, "require_committed_equals_current", json_true());
    }
    TAKE("require_id_block");
    if (!get_bool(v, p, &require_id_block, m)) {
        goto out;
    }
    bool idblock = require_id_block || require_author;
    json_t *author = NULL, *id = NULL;
    char pa[192], pid[192];
    TAKE("trusted_author_key_hashes");
    snprintf(pa, sizeof pa, "%s", p);
    if (!hash_list(v, p, &author, m)) {
        json_decref(author);
        goto out;
    }
    TAKE("trusted_id_key_hashes");
    snprintf(pid, sizeof pid, "%s", p);
    if (!hash_list(v, p, &id, m)) {
        json_decref(author);
        json_decref(id);
        goto out;
    }
    if (idblock) {
        if (author != NULL) {
            put(m, snp, "author_key_digests", author);
        }
        if (id != NULL) {
            put(m, snp, "id_key_digests", id);
        }
    } else {
        if (author != NULL) {
            drop(m,
                 "%s: go-sev-guest checks key hashes only with require_id_block or "
                 "require_author_key; not carried",
                 pa);
        }
        if (id != NULL) {
            drop(m,
                 "%s: go-sev-guest checks key hashes only with require_id_block or "
                 "require_author_key; not carried",
                 pid);
        }
        json_decref(author);
        json_decref(id);
    }
    static const char *const certs[] = {"trusted_author_keys", "trusted_id_keys"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(certs); i++) {
        TAKE(certs[i]);
        if (!repeated_count(v, p, &n, m)) {
            goto out;
        }
        if (n > 0) {
            drop(m,
                 "%s: %zu key certificate(s) not carried; list the SHA-384 of each key in "
                 "SEV-SNP ABI format in snp.%s",
                 p, n, i == 0 ? "author_key_digests" : "id_key_digests");
        }
    }
    /* go-sev-guest refuses every report when the key hashes it must find are not given: a
     * translation that checks less (AUTHOR_KEY_EN alone, or nothing) would accept what the
     * source refuses. */
    if (require_author && author == NULL) {
        fail(m, "policy.require_author_key: no trusted_author_key_hashes: go-sev-guest refuses "
                "every report then, and the imported policy would check AUTHOR_KEY_EN alone; list "
                "the author key's SHA-384 (SEV-SNP ABI format) in trusted_author_key_hashes");
        goto out;
    }
    if (require_id_block && author == NULL && id == NULL) {
        fail(m, "policy.require_id_block: no trusted_id_key_hashes or trusted_author_key_hashes: "
                "go-sev-guest refuses every report then, and the imported policy would not check "
                "the ID block; list the keys' SHA-384 (SEV-SNP ABI format)");
        goto out;
    }
    TAKE("product");
    if (v != NULL && !snp_product(v, p, product, m)) {
        goto out;
    }
    if (!snp_guest_policy_valid(gpol_given, gpol, gpol_path, m) ||
        (pinfo_given && !snp_platform_info_valid(pinfo, pinfo_path, m))) {
        goto out;
    }
#undef TAKE
    json_decref(v);
    v = NULL;
    drop_rest(&g, "unknown to go-sev-guest's check.Policy (Cocos ignores it too)", m);
    ok = true;
out:
    json_decref(v);
    msg_cleanup(&g);
    return ok;
}

/*
 * With the product known, a per-product TCB minimum becomes a plain one; a field for the other
 * layout is moot (snp.products refuses those reports) and named as not carried. Without it, a
 * Milan/Genoa-layout minimum with no Turin one leaves Turin open, and that is named. Each is
 * named by the field the file gave, as written (from).
 */
static void snp_tcb_simplify(json_t *snp, const char *product, const struct tcb_from from[2],
                             struct imp *m)
{
    char advice[64];
    for (size_t i = 0; i < CVMA_ARRAY_LEN(tcb_keys); i++) {
        const char *key = tcb_keys[i].key;
        json_t *bp = json_object_get(json_object_get(snp, key), "by_product");
        if (bp == NULL) {
            continue;
        }
        if (product == NULL) {
            if (from[i].turin[0] == '\0') {
                tcb_advice(i, from[i].milan_genoa, true, advice, sizeof advice);
                drop(m,
                     "%s: carried for Milan and Genoa only (snp.%s.by_product): its byte layout "
                     "does not fit Turin's TCB_VERSION, so Turin reports get no such minimum "
                     "(set %s)",
                     from[i].milan_genoa, key, advice);
            }
            continue;
        }
        bool turin = strcmp(product, "Turin") == 0;
        const char *other = turin ? from[i].milan_genoa : from[i].turin;
        json_t *mine = json_object_get(bp, product);
        if (mine != NULL) {
            put(m, snp, key, json_deep_copy(mine));
            if (other[0] != '\0') {
                drop(m,
                     "%s: not carried: the policy names product %s, and this field applies to "
                     "%s reports only",
                     other, product, turin ? "Milan and Genoa" : "Turin");
            }
        } else {
            json_object_del(snp, key);
            tcb_advice(i, other, turin, advice, sizeof advice);
            drop(m,
                 "%s: not carried: the policy names product %s, whose TCB_VERSION layout "
                 "differs from this field's (set %s)",
                 other, product, advice);
        }
    }
}

static bool import_snp_root(json_t *j, const char *path, const char **product, struct imp *m)
{
    struct msg g = {0};
    char p[192];
    const char *s;
    json_t *v = NULL;
    bool ok = false, flag = false;
    size_t n = 0;
    if (!msg_open(j, path, &g, m)) {
        goto out;
    }
    static const char *const lines[] = {"product_line", "product"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(lines); i++) {
        json_decref(v);
        v = take(&g, lines[i], p, sizeof p);
        if (!get_string(v, p, 32, &s, m)) {
            goto out;
        }
        if (s[0] == '\0') {
            continue;
        }
        const char *name = product_from_string(s);
        if (name == NULL) {
            fail(m, "%s: \"%s\" is not Milan, Genoa or Turin", p, s);
            goto out;
        }
        if (*product == NULL) {
            *product = name;
        } else if (strcmp(*product, name) != 0) {
            drop(m, "%s: \"%s\" disagrees with the product already carried (%s); not carried", p, s,
                 *product);
        }
    }
    json_decref(v);
    static const char *const bundles[] = {"cabundle_paths", "cabundles"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bundles); i++) {
        v = take(&g, bundles[i], p, sizeof p);
        if (!repeated_count(v, p, &n, m)) {
            goto out;
        }
        if (n > 0) {
            drop(m,
                 "%s: trust anchors are not policy in cvmattest (pinned AMD roots; "
                 "verify --trust-root for test roots)",
                 p);
        }
        json_decref(v);
        v = NULL;
    }
    v = take(&g, "check_crl", p, sizeof p);
    if (!get_bool(v, p, &flag, m)) {
        goto out;
    }
    if (v != NULL) {
        drop(m,
             "%s: not a policy setting: cvmattest always checks the CRL it has or can "
             "fetch, and says CRL_NOT_CHECKED otherwise",
             p);
    }
    json_decref(v);
    v = take(&g, "disallow_network", p, sizeof p);
    if (!get_bool(v, p, &flag, m)) {
        goto out;
    }
    if (flag) {
        drop(m, "%s: not a policy setting: use verify --offline", p);
    }
    drop_rest(&g, "unknown to go-sev-guest's check.RootOfTrust (Cocos ignores it too)", m);
    ok = true;
out:
    json_decref(v);
    msg_cleanup(&g);
    return ok;
}

/* Cocos's "pcr_values": {"sha256": {"0": hex, ...}, "sha384": {...}, "sha1": {...}}. */
static bool import_pcrs(json_t *j, struct imp *m)
{
    const char *bank;
    json_t *regs;
    if (json_is_null(j)) {
        return true;
    }
    if (!json_is_object(j)) {
        return fail(m, "pcr_values: expected an object, got %s", cvma_json_type_name(j));
    }
    json_object_foreach(j, bank, regs)
    {
        char list[256];
        size_t o = 0;
        const char *idx;
        json_t *val;
        if (json_is_null(regs)) {
            continue;
        }
        if (!json_is_object(regs)) {
            return fail(m,
                        "pcr_values.%.32s: expected an object of PCR index to hex value, got "
                        "%s",
                        bank, cvma_json_type_name(regs));
        }
        list[0] = '\0';
        json_object_foreach(regs, idx, val)
        {
            if (o < sizeof list - 8) {
                int k = snprintf(list + o, sizeof list - o, "%s%.4s", o ? "," : "", idx);
                o += k > 0 ? (size_t)k : 0;
            }
        }
        if (json_object_size(regs) > 0) {
            drop(m,
                 "pcr_values.%.32s (PCRs %s): Cocos checks them against its vTPM's quote; to "
                 "check them here, write them as tpm.pcrs, which apply to the vTPM quote of the "
                 "kinds that carry one",
                 bank, list);
        }
    }
    return true;
}

/* ---- TDX: go-tdx-guest checkconfig.Config ------------------------------------------- */

static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                               0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

static bool import_tdx_header(json_t *j, const char *path, struct imp *m)
{
    struct msg g = {0};
    char p[192];
    json_t *v = NULL;
    uint64_t u = 0;
    uint8_t b[16];
    size_t n = 0;
    bool ok = false;
    if (!msg_open(j, path, &g, m)) {
        goto out;
    }
    static const char *const svns[] = {"minimum_qe_svn", "minimum_pce_svn"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(svns); i++) {
        json_decref(v);
        v = take(&g, svns[i], p, sizeof p);
        if (!get_uint(v, p, 0xffff, &u, m)) {
            goto out;
        }
        /* go-tdx-guest compares it with header bytes that are reserved, and zero, in every
         * TDX quote: a minimum above 0 refuses every quote, which no translation carries. */
        if (u > 0) {
            fail(m,
                 "%s: %" PRIu64 ": go-tdx-guest compares it with reserved bytes of the TDX quote "
                 "header, zero in every TDX quote, so Cocos refuses every quote with this file; "
                 "set it to 0 (cvmattest judges the QE's SVN against Intel's QE Identity)",
                 p, u);
            goto out;
        }
    }
    json_decref(v);
    v = take(&g, "qe_vendor_id", p, sizeof p);
    if (!get_bytes(v, p, 16, 0, b, sizeof b, &n, m)) {
        goto out;
    }
    /* go-tdx-guest compares it with the quote header's QE_VENDOR_ID exactly: another value
     * refuses every quote of Intel's QE, the only QE whose quotes cvmattest verifies
     * (PARSE_TDX_QE_VENDOR). */
    if (n > 0 && memcmp(b, intel_qe_vendor_id, 16) != 0) {
        char hex[33];
        cvma_hex_encode(b, 16, hex, sizeof hex);
        fail(m,
             "%s: %s is not Intel's QE vendor ID (939a7233f79c4ca9940a0db3957f0607): "
             "go-tdx-guest requires the quote header's to equal it, so Cocos refuses every "
             "quote of Intel's QE with this file; remove it or give Intel's",
             p, hex);
        goto out;
    }
    if (!refuse_rest(&g, "HeaderPolicy", m)) {
        goto out;
    }
    ok = true;
out:
    json_decref(v);
    msg_cleanup(&g);
    return ok;
}

static bool import_tdx_body(json_t *j, const char *path, json_t *out, json_t *tdx, struct imp *m)
{
    struct msg g = {0};
    char p[192], pi[224];
    json_t *v = NULL;
    uint8_t b[64];
    size_t n = 0;
    bool ok = false;
    if (!msg_open(j, path, &g, m)) {
        goto out;
    }
#define TAKE(name) (json_decref(v), v = take(&g, (name), p, sizeof p))
    TAKE("minimum_tee_tcb_svn");
    if (!get_bytes(v, p, 16, 0, b, sizeof b, &n, m)) {
        goto out;
    }
    static const uint8_t zero[16] = {0};
    if (n > 0 && memcmp(b, zero, 16) != 0) {
        put(m, tdx, "minimum_tee_tcb_svn", hexj(b, 16));
    }
    static const struct {
        const char *field, *key;
    } mrs[] = {{"mr_seam", "mr_seam"},
               {"mr_config_id", "mr_config_id"},
               {"mr_owner", "mr_owner"},
               {"mr_owner_config", "mr_owner_config"}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(mrs); i++) {
        TAKE(mrs[i].field);
        if (!get_bytes(v, p, 48, 0, b, sizeof b, &n, m)) {
            goto out;
        }
        if (n > 0) {
            put(m, tdx, mrs[i].key, hexj(b, 48));
        }
    }
    /* td_attributes and xfam: 8 bytes in quote (little-endian) order; ours is the u64 value. */
    static const char *const u64s[] = {"td_attributes", "xfam"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(u64s); i++) {
        TAKE(u64s[i]);
        if (!get_bytes(v, p, 8, 0, b, sizeof b, &n, m)) {
            goto out;
        }
        if (n > 0) {
            char hex[17];
            uint64_t x = 0;
            for (size_t k = 0; k < 8; k++) {
                x |= (uint64_t)b[k] << (8 * k);
            }
            snprintf(hex, sizeof hex, "%016" PRIx64, x);
            put(m, tdx, u64s[i], json_string(hex));
        }
    }
    uint8_t mrtd[48];
    size_t mrtd_n = 0;
    TAKE("mr_td");
    if (!get_bytes(v, p, 48, 0, mrtd, sizeof mrtd, &mrtd_n, m)) {
        goto out;
    }
    TAKE("any_mr_td");
    json_t *any = NULL;
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_array(v) || json_array_size(v) > MAX_REPEAT) {
            fail(m, "%s: expected a list of at most %u base64 values, got %s", p, MAX_REPEAT,
                 cvma_json_type_name(v));
            goto out;
        }
        if (json_array_size(v) > 0 && (any = json_array()) == NULL) {
            oom(m);
            goto out;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            snprintf(pi, sizeof pi, "%s[%zu]", p, i);
            if (!get_bytes(json_array_get(v, i), pi, 48, 0, b, sizeof b, &n, m) || n == 0) {
                if (n == 0) {
                    fail(m, "%s: an empty MRTD", pi);
                }
                json_decref(any);
                goto out;
            }
            if (json_array_append_new(any, hexj(b, 48)) != 0) {
                json_decref(any);
                oom(m);
                goto out;
            }
        }
    }
    if (mrtd_n > 0) {
        /* go-tdx-guest checks both, each on its own (validate.go exactByteMatch: MrTd exactly,
         * AnyMrTd by any entry): with mr_td in the list the exact mr_td is the rule; with
         * mr_td not in it no quote passes both, which no translation carries. */
        bool listed = any == NULL;
        char want[97];
        cvma_hex_encode(mrtd, 48, want, sizeof want);
        for (size_t i = 0; any != NULL && i < json_array_size(any); i++) {
            listed = listed || strcmp(json_string_value(json_array_get(any, i)), want) == 0;
        }
        if (!listed) {
            fail(m,
                 "%s: does not hold the mr_td %s: go-tdx-guest requires MR_TD to equal mr_td and "
                 "to be one of these, so Cocos refuses every quote with this file; add mr_td to "
                 "the list, or give one of the two",
                 p, want);
            json_decref(any);
            goto out;
        }
        put(m, tdx, "mr_td", json_pack("[o]", hexj(mrtd, 48)));
        if (any != NULL) {
            drop(m, "%s: narrowed to mr_td, which go-tdx-guest also requires", p);
        }
        json_decref(any);
    } else if (any != NULL) {
        put(m, tdx, "mr_td", any);
    }
    /* go-tdx-guest's PolicyToOptions requires rtmrs to be empty (unchecked) or to hold exactly
     * 4 entries, RTMR0..RTMR3, an empty entry unchecked ("option rtmrs size is 1. Want 4"):
     * with any other number Cocos verifies nothing, and no translation would be faithful. */
    TAKE("rtmrs");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_array(v)) {
            fail(m, "%s: expected a list of 4 base64 values, got %s", p, cvma_json_type_name(v));
            goto out;
        }
        size_t nr = json_array_size(v);
        for (size_t i = 0; i < nr && nr <= 4; i++) {
            char key[32];
            snprintf(pi, sizeof pi, "%s[%zu]", p, i);
            if (!get_bytes(json_array_get(v, i), pi, 48, 0, b, sizeof b, &n, m)) {
                goto out;
            }
            if (n > 0) { /* an empty entry is unchecked */
                snprintf(key, sizeof key, "rtmr%zu", i);
                put(m, tdx, key, hexj(b, 48));
            }
        }
        if (nr != 0 && nr != 4) {
            fail(m,
                 "%s: %zu value(s): go-tdx-guest requires exactly 4 (RTMR0 to RTMR3) and refuses "
                 "any other number, so Cocos verifies nothing with this file; give all 4, an "
                 "empty string (\"\") for each RTMR not to check",
                 p, nr);
            goto out;
        }
    }
    TAKE("report_data");
    if (!get_bytes(v, p, 64, 0, b, sizeof b, &n, m)) {
        goto out;
    }
    if (n > 0) {
        put(m, out, "report_data", hexj(b, 64));
    }
    /* Field 12 is "optional bool tdattributes_debug" in some go-tdx-guest releases (true
     * requires a debug TD) and "bool allow_debug" in others (true permits one); no release
     * defines both, so a file with both is one Cocos's strict reader refuses. */
    char pdbg[192];
    json_t *allow = take(&g, "allow_debug", pdbg, sizeof pdbg);
    TAKE("tdattributes_debug");
    if (allow != NULL && v != NULL) {
        fail(m,
             "%s and %s: go-tdx-guest releases define one or the other (field 12), never both, "
             "and Cocos reads a TDX policy with strict protobuf JSON, so it loads nothing from "
             "this file; keep the one your Cocos build's go-tdx-guest defines",
             p, pdbg);
        json_decref(allow);
        goto out;
    }
    if (allow != NULL && !json_is_null(allow)) {
        bool dbg = false;
        bool good = get_bool(allow, pdbg, &dbg, m);
        json_decref(allow);
        if (!good) {
            goto out;
        }
        put(m, tdx, "allow_debug", json_boolean(dbg));
    } else {
        json_decref(allow);
    }
    if (v != NULL && !json_is_null(v)) {
        bool dbg = false;
        if (!get_bool(v, p, &dbg, m)) {
            goto out;
        }
        put(m, tdx, "allow_debug", json_boolean(dbg));
        if (dbg) {
            drop(m,
                 "%s: true requires a debug TD; carried as allow_debug true, which also "
                 "accepts a production TD",
                 p);
        }
    }
#undef TAKE
    if (!refuse_rest(&g, "TDQuoteBodyPolicy", m)) {
        goto out;
    }
    ok = true;
out:
    json_decref(v);
    msg_cleanup(&g);
    return ok;
}

/* PCKPolicy {sgx_type}: Policy.pck_policy in some go-tdx-guest releases. */
static bool import_tdx_pck(json_t *j, const char *path, struct imp *m)
{
    struct msg g = {0};
    char p[192];
    json_t *v = NULL;
    bool ok = false;
    if (!msg_open(j, path, &g, m)) {
        goto out;
    }
    v = take(&g, "sgx_type", p, sizeof p);
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v) && !json_is_integer(v)) {
            fail(m, "%s: expected an SGXType name or number, got %s", p, cvma_json_type_name(v));
            goto out;
        }
        drop(m,
             "%s: the PCK certificate's SGX type (some go-tdx-guest releases check it); "
             "cvmattest has no rule for it; not carried",
             p);
    }
    if (!refuse_rest(&g, "PCKPolicy", m)) {
        goto out;
    }
    ok = true;
out:
    json_decref(v);
    msg_cleanup(&g);
    return ok;
}

static bool import_tdx_root(json_t *j, const char *path, struct imp *m)
{
    struct msg g = {0};
    char p[192];
    json_t *v = NULL;
    size_t n = 0;
    bool ok = false, flag = false;
    if (!msg_open(j, path, &g, m)) {
        goto out;
    }
    static const char *const bundles[] = {"cabundle_paths", "cabundles"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bundles); i++) {
        json_decref(v);
        v = take(&g, bundles[i], p, sizeof p);
        if (!repeated_count(v, p, &n, m)) {
            goto out;
        }
        if (n > 0) {
            drop(m,
                 "%s: trust anchors are not policy in cvmattest (the pinned Intel SGX Root "
                 "CA; verify --trust-root for test roots)",
                 p);
        }
    }
    json_decref(v);
    v = take(&g, "check_crl", p, sizeof p);
    if (!get_bool(v, p, &flag, m)) {
        goto out;
    }
    if (v != NULL) {
        drop(m, "%s: not a policy setting: cvmattest always checks the PCK and root CA CRLs", p);
    }
    json_decref(v);
    v = take(&g, "get_collateral", p, sizeof p);
    if (!get_bool(v, p, &flag, m)) {
        goto out;
    }
    if (v != NULL) {
        drop(m,
             "%s: not a policy setting: cvmattest always appraises TCB Info and QE Identity "
             "(fetched, or from verify --collateral DIR with --offline)",
             p);
    }
    if (!refuse_rest(&g, "RootOfTrust", m)) {
        goto out;
    }
    ok = true;
out:
    json_decref(v);
    msg_cleanup(&g);
    return ok;
}

/* ---- entry point ------------------------------------------------------------------------ */

/* go-sev-guest's check.Policy fields (proto/check.proto), by their proto names. */
/* clang-format off */
static const char *const snp_policy_fields[] = {
    "minimum_guest_svn", "policy", "family_id", "image_id", "vmpl", "minimum_tcb",
    "minimum_launch_tcb", "platform_info", "require_author_key", "report_data", "measurement",
    "host_data", "report_id_ma", "chip_id", "minimum_build", "minimum_version",
    "permit_provisional_firmware", "require_id_block", "trusted_author_keys",
    "trusted_author_key_hashes", "trusted_id_keys", "trusted_id_key_hashes", "product",
    "report_id", "minimum_tcb_turin", "minimum_launch_tcb_turin"};
/* clang-format on */

static bool has_snp_field(const struct msg *g)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(snp_policy_fields); i++) {
        if (json_object_get(g->vals, snp_policy_fields[i]) != NULL) {
            return true;
        }
    }
    return false;
}

/*
 * A policy object with no field of either library: protobuf JSON would ignore every one of
 * them (names other than the proto name or its lowerCamelCase JSON name are unknown), so there
 * is no telling SEV-SNP from TDX, and guessing one would import a policy that checks nothing
 * the file meant to check.
 */
static bool unrecognised_policy(const struct msg *g, struct imp *m)
{
    char list[256];
    size_t o = 0;
    const char *key;
    json_t *val;
    list[0] = '\0';
    json_object_foreach(g->orig, key, val)
    {
        if (o < sizeof list - 40) {
            int k = snprintf(list + o, sizeof list - o, "%s\"%.32s\"", o ? ", " : "",
                             json_string_value(val));
            o += k > 0 ? (size_t)k : 0;
        }
    }
    return fail(m,
                "policy: no field of go-sev-guest's check.Policy or go-tdx-guest's "
                "checkconfig.Policy (headerPolicy, tdQuoteBodyPolicy) among {%s}, so neither "
                "SEV-SNP nor TDX; field names are the proto names (td_quote_body_policy) or "
                "their lowerCamelCase JSON names (tdQuoteBodyPolicy)",
                list);
}

/* see import/cocos.h */
enum cvma_status cvma_policy_import_cocos(const uint8_t *p, size_t len, json_t **out,
                                          json_t **dropped, char *err, size_t errlen)
{
    struct imp m = {.err = err, .errlen = errlen};
    struct msg top = {0}, pol = {0};
    char *text = NULL;
    size_t text_len = 0;
    json_t *root = NULL, *res = NULL, *sec = NULL, *v = NULL;
    json_error_t je;
    char path[192];
    enum cvma_status st = CVMA_E_USAGE;

    *out = NULL;
    *dropped = NULL;
    if (errlen > 0) {
        err[0] = '\0';
    }
    if (len > CVMA_POLICY_MAX_BYTES) {
        fail(&m, "%zu bytes, more than the %u allowed", len, CVMA_POLICY_MAX_BYTES);
        goto out;
    }
    if ((m.dropped = json_array()) == NULL || (res = json_object()) == NULL ||
        (sec = json_object()) == NULL || (text = quote_big_ints(p, len, &text_len)) == NULL) {
        oom(&m);
        goto out;
    }
    /* json_loadb: an embedded NUL is an error, not the end of the input. */
    root = json_loadb(text, text_len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        fail(&m, "not valid JSON at line %d, column %d: %s", je.line, je.column, je.text);
        goto out;
    }
    if (!json_is_object(root)) {
        fail(&m, "expected a JSON object (a Cocos attestation policy), got %s",
             cvma_json_type_name(root));
        goto out;
    }
    if (!msg_open(root, "", &top, &m)) {
        goto out;
    }
    json_t *policy = take(&top, "policy", path, sizeof path);
    if (policy == NULL || !json_is_object(policy)) {
        json_decref(policy);
        fail(&m, "no \"policy\" object: not a Cocos attestation policy (go-sev-guest "
                 "check.Config or go-tdx-guest checkconfig.Config)");
        goto out;
    }
    bool ok = msg_open(policy, "policy", &pol, &m);
    json_decref(policy);
    if (!ok) {
        goto out;
    }
    bool is_tdx = json_object_get(pol.vals, "header_policy") != NULL ||
                  json_object_get(pol.vals, "td_quote_body_policy") != NULL;
    if (!is_tdx && !has_snp_field(&pol)) {
        unrecognised_policy(&pol, &m);
        goto out;
    }
    put(&m, res, "name",
        json_string(is_tdx ? "imported from a Cocos AI TDX policy"
                           : "imported from a Cocos AI SEV-SNP policy"));
    put(&m, res, "allowed_tees", json_pack("[s]", is_tdx ? "tdx" : "sev-snp"));
    if (is_tdx) {
        char hpath[192];
        json_t *h = take(&pol, "header_policy", hpath, sizeof hpath);
        json_t *bp = take(&pol, "td_quote_body_policy", path, sizeof path);
        ok = (h == NULL || import_tdx_header(h, hpath, &m)) &&
             (bp == NULL || import_tdx_body(bp, path, res, sec, &m));
        json_decref(h);
        json_decref(bp);
        if (!ok) {
            goto out;
        }
        v = take(&pol, "pck_policy", path, sizeof path);
        if (v != NULL && !import_tdx_pck(v, path, &m)) {
            goto out;
        }
        if (!refuse_rest(&pol, "checkconfig.Policy", &m)) {
            goto out;
        }
        json_decref(v);
        v = take(&top, "root_of_trust", path, sizeof path);
        if (v != NULL && !import_tdx_root(v, path, &m)) {
            goto out;
        }
        /* Cocos's vTPM PCR values sit beside go-sev-guest's check.Config, read with
         * encoding/json; a TDX policy is checkconfig.Config alone, read strictly. */
        json_decref(v);
        v = take(&top, "pcr_values", path, sizeof path);
        if (v != NULL) {
            fail(&m,
                 "%s: not a field of go-tdx-guest's checkconfig.Config (Cocos reads PCR values "
                 "with its SEV-SNP policies only); Cocos reads a TDX policy with strict protobuf "
                 "JSON, which refuses a field it does not know, so it loads nothing from this "
                 "file; remove the field",
                 path);
            goto out;
        }
        if (!refuse_rest(&top, "checkconfig.Config", &m)) {
            goto out;
        }
    } else {
        const char *product = NULL;
        /* The SEV-SNP policy is the message itself: hand its fields back unconsumed. */
        json_t *polobj = json_object();
        const char *key;
        json_t *val;
        if (polobj == NULL) {
            oom(&m);
            goto out;
        }
        json_object_foreach(pol.vals, key, val)
        {
            json_t *o = json_object_get(pol.orig, key);
            json_object_set(polobj, o ? json_string_value(o) : key, val);
        }
        struct tcb_from from[CVMA_ARRAY_LEN(tcb_keys)] = {0};
        ok = import_snp_policy(polobj, res, sec, &product, from, &m);
        json_decref(polobj);
        if (!ok) {
            goto out;
        }
        v = take(&top, "root_of_trust", path, sizeof path);
        if (v != NULL && !import_snp_root(v, path, &product, &m)) {
            goto out;
        }
        if (product != NULL) {
            put(&m, sec, "products", json_pack("[s]", product));
        }
        snp_tcb_simplify(sec, product, from, &m);
        json_decref(v);
        v = take(&top, "pcr_values", path, sizeof path);
        if (v != NULL && !import_pcrs(v, &m)) {
            goto out;
        }
        drop_rest(&top, "unknown to a Cocos attestation policy; ignored", &m);
    }
    put(&m, res, is_tdx ? "tdx" : "snp", sec);
    sec = NULL;
    if (m.oom) {
        st = CVMA_E_NOMEM;
        fail(&m, "out of memory");
        goto out;
    }
    *out = res;
    *dropped = m.dropped;
    res = NULL;
    m.dropped = NULL;
    st = CVMA_OK;
out:
    if (st != CVMA_OK && m.oom) {
        st = CVMA_E_NOMEM;
    }
    json_decref(v);
    msg_cleanup(&pol);
    msg_cleanup(&top);
    json_decref(sec);
    json_decref(res);
    json_decref(root);
    json_decref(m.dropped);
    free(text);
    return st;
}
