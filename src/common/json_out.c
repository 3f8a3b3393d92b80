#include "common/json_out.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/allocfail.h"
#include "common/hex.h"
#include "common/jcheck.h"
#include "common/jscan.h"

/* see common/json_out.h */
const char *cvma_json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a JSON value";
}

/* Room for n more bytes and the NUL after them; false (and failed) when out of memory. */
static bool reserve(struct cvma_strbuf *b, size_t n)
{
    if (b->failed) {
        return false;
    }
    if (b->p != NULL && n < b->cap - b->len) {
        return true;
    }
    size_t cap = b->cap != 0 ? b->cap : 256;
    while (n >= cap - b->len) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

bool cvma_strbuf_reserve(struct cvma_strbuf *b, size_t n)
{
    return reserve(b, n);
}

bool cvma_strbuf_add(struct cvma_strbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n)) {
        return false;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

/* lossy: a byte that does not begin a UTF-8 sequence is written as U+FFFD instead of failing. */
static bool write_string_x(struct cvma_strbuf *b, const char *str, size_t len, bool lossy)
{
    static const char hex[] = "0123456789ABCDEF";
    const uint8_t *s = (const uint8_t *)str;

    /* At most 6 bytes out for a byte in (\u00XX), and the quotes: one reservation. */
    if (len > (SIZE_MAX - 3) / 6 || !reserve(b, 6 * len + 2)) {
        b->failed = true;
        return false;
    }
    char *d = b->p + b->len;
    *d++ = '"';
    for (size_t i = 0; i < len;) {
        /* A run of bytes written as they are (most text: hex, base64, names) in one copy. */
        size_t run = i + cvma_json_plain_run(s + i, len - i);
        if (run > i) {
            memcpy(d, s + i, run - i);
            d += run - i;
            i = run;
            continue;
        }
        uint8_t c = s[i];
        if (c >= 0x80) {
            size_t k = cvma_utf8_seq(s + i, len - i);
            if (k == 0 && lossy) {
                memcpy(d, "\xef\xbf\xbd", 3); /* fits: 6 bytes were reserved for this one */
                d += 3;
                i++;
                continue;
            }
            if (k == 0) {
                b->p[b->len] = '\0'; /* what was written of this string is dropped */
                b->failed = true;
                return false;
            }
            memcpy(d, s + i, k);
            d += k;
            i += k;
            continue;
        }
        *d++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *d++ = (char)c;
            break;
        case '\b':
            *d++ = 'b';
            break;
        case '\f':
            *d++ = 'f';
            break;
        case '\n':
            *d++ = 'n';
            break;
        case '\r':
            *d++ = 'r';
            break;
        case '\t':
            *d++ = 't';
            break;
        default:
            *d++ = 'u';
            *d++ = '0';
            *d++ = '0';
            *d++ = hex[c >> 4];
            *d++ = hex[c & 0xF];
            break;
        }
        i++;
    }
    *d++ = '"';
    *d = '\0';
    b->len = (size_t)(d - b->p);
    return true;
}

static bool write_string(struct cvma_strbuf *b, const char *str, size_t len)
{
    return write_string_x(b, str, len, false);
}

bool cvma_json_write_int(struct cvma_strbuf *b, json_int_t v)
{
    char d[24];
    size_t n = sizeof d;
    /* The magnitude as unsigned, so that the most negative value has one too. */
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        d[--n] = (char)('0' + m % 10);
        m /= 10;
    } while (m != 0);
    if (v < 0) {
        d[--n] = '-';
    }
    return cvma_strbuf_add(b, d + n, sizeof d - n);
}

static bool write_value(struct cvma_strbuf *b, const json_t *j, unsigned depth)
{
    if (j == NULL || depth > CVMA_JSON_OUT_MAX_DEPTH) {
        b->failed = true;
        return false;
    }
    switch (json_typeof(j)) {
    case JSON_NULL:
        return cvma_strbuf_add(b, "null", 4);
    case JSON_TRUE:
        return cvma_strbuf_add(b, "true", 4);
    case JSON_FALSE:
        return cvma_strbuf_add(b, "false", 5);
    case JSON_INTEGER:
        return cvma_json_write_int(b, json_integer_value(j));
    case JSON_REAL: {
        /* Rare here (the verifier writes none): jansson's own number formatting. */
        char *s = cvma_json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        bool ok = s != NULL && cvma_strbuf_add(b, s, strlen(s));
        free(s);
        if (!ok) {
            b->failed = true;
        }
        return ok;
    }
    case JSON_STRING:
        return write_string(b, json_string_value(j), json_string_length(j));
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if (!cvma_strbuf_add(b, "[", 1)) {
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            if ((i > 0 && !cvma_strbuf_add(b, ",", 1)) ||
                !write_value(b, json_array_get(j, i), depth + 1)) {
                return false;
            }
        }
        return cvma_strbuf_add(b, "]", 1);
    }
    case JSON_OBJECT: {
        bool first = true;
        if (!cvma_strbuf_add(b, "{", 1)) {
            return false;
        }
        for (void *it = json_object_iter((json_t *)(uintptr_t)j); it != NULL;
             it = json_object_iter_next((json_t *)(uintptr_t)j, it)) {
            if ((!first && !cvma_strbuf_add(b, ",", 1)) ||
                !write_string(b, json_object_iter_key(it), json_object_iter_key_len(it)) ||
                !cvma_strbuf_add(b, ":", 1) ||
                !write_value(b, json_object_iter_value(it), depth + 1)) {
                return false;
            }
            first = false;
        }
        return cvma_strbuf_add(b, "}", 1);
    }
    }
    b->failed = true;
    return false;
}

bool cvma_json_write_str(struct cvma_strbuf *b, const char *s, size_t len)
{
    return write_string(b, s, len);
}

bool cvma_json_write_str_lossy(struct cvma_strbuf *b, const char *s, size_t len)
{
    return write_string_x(b, s, len, true);
}

bool cvma_json_write_hex(struct cvma_strbuf *b, const uint8_t *p, size_t n)
{
    if (n > (SIZE_MAX - 3) / 2 || !reserve(b, 2 * n + 2)) {
        b->failed = true;
        return false;
    }
    b->p[b->len] = '"';
    cvma_hex_encode(p, n, b->p + b->len + 1, 2 * n + 1);
    b->p[b->len + 1 + 2 * n] = '"';
    b->len += 2 * n + 2;
    b->p[b->len] = '\0';
    return true;
}

bool cvma_json_write_bool(struct cvma_strbuf *b, bool v)
{
    return v ? cvma_strbuf_add(b, "true", 4) : cvma_strbuf_add(b, "false", 5);
}

bool cvma_json_key(struct cvma_strbuf *b, bool *first, const char *key)
{
    size_t n = strlen(key);
    if (!reserve(b, n + 4)) {
        return false;
    }
    char *d = b->p + b->len;
    if (!*first) {
        *d++ = ',';
    }
    *first = false;
    *d++ = '"';
    memcpy(d, key, n);
    d += n;
    *d++ = '"';
    *d++ = ':';
    *d = '\0';
    b->len = (size_t)(d - b->p);
    return true;
}

json_t *cvma_json_tree_of(struct cvma_strbuf *b, bool ok)
{
    json_t *o = ok && !b->failed && b->p != NULL ? json_loadb(b->p, b->len, 0, NULL) : NULL;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    return o;
}

bool cvma_jm_int(struct cvma_strbuf *b, bool *first, const char *key, json_int_t v)
{
    return cvma_json_key(b, first, key) && cvma_json_write_int(b, v);
}

bool cvma_jm_hex(struct cvma_strbuf *b, bool *first, const char *key, const uint8_t *p, size_t n)
{
    return cvma_json_key(b, first, key) && cvma_json_write_hex(b, p, n);
}

bool cvma_jm_bool(struct cvma_strbuf *b, bool *first, const char *key, bool v)
{
    return cvma_json_key(b, first, key) && cvma_json_write_bool(b, v);
}

bool cvma_jm_bit(struct cvma_strbuf *b, bool *first, const char *key, uint64_t v, unsigned bit)
{
    return cvma_jm_bool(b, first, key, bit < 64 && ((v >> bit) & 1) != 0);
}

bool cvma_jm_bits(struct cvma_strbuf *b, bool *first, const char *key, uint64_t mask)
{
    bool ok = cvma_json_key(b, first, key) && cvma_strbuf_add(b, "[", 1);
    bool fb = true;
    for (unsigned i = 0; ok && i < 64; i++) {
        if ((mask >> i) & 1) {
            ok = (fb || cvma_strbuf_add(b, ",", 1)) && cvma_json_write_int(b, i);
            fb = false;
        }
    }
    return ok && cvma_strbuf_add(b, "]", 1);
}

bool cvma_jm_str(struct cvma_strbuf *b, bool *first, const char *key, const char *v)
{
    return cvma_json_key(b, first, key) && cvma_json_write_str_lossy(b, v, strlen(v));
}

bool cvma_jm_null(struct cvma_strbuf *b, bool *first, const char *key)
{
    return cvma_json_key(b, first, key) && cvma_strbuf_add(b, "null", 4);
}

bool cvma_jm_hex_be(struct cvma_strbuf *b, bool *first, const char *key, uint64_t v, size_t n)
{
    uint8_t be[8];
    if (n > sizeof be) {
        b->failed = true;
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        be[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    }
    return cvma_jm_hex(b, first, key, be, n);
}

bool cvma_json_write(struct cvma_strbuf *b, const json_t *j)
{
    return write_value(b, j, 0);
}

char *cvma_json_compact(const json_t *j, size_t *len)
{
    struct cvma_strbuf b = {0};
    if (len != NULL) {
        *len = 0;
    }
    if (!json_is_object(j) && !json_is_array(j)) {
        return NULL;
    }
    if (!cvma_json_write(&b, j)) {
        free(b.p);
        return NULL;
    }
    if (len != NULL) {
        *len = b.len;
    }
    return b.p;
}

json_t *cvma_json_loadb(const void *p, size_t len, size_t flags, json_error_t *error, bool *oom)
{
    bool counted = (cvma_allocfail_counted() & CVMA_ALLOCFAIL_JANSSON) != 0;
    unsigned long before = cvma_allocfail_count();
    json_t *j = json_loadb((const char *)p, len, flags, error);
    if (counted) {
        *oom = cvma_allocfail_count() != before;
    } else { /* a program's own allocator: only what jansson says (every refusal has a text) */
        *oom = j == NULL &&
               (json_error_code(error) == json_error_out_of_memory || error->text[0] == '\0');
    }
    if (*oom) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* see common/json_out.h */
json_t *cvma_json_loadb_capped(const void *p, size_t len, size_t max_values, json_error_t *error,
                               bool *oom)
{
    struct cvma_jcheck c = {.max_values = max_values};
    enum cvma_jcheck_result r = cvma_jcheck(p, len, &c);
    *oom = false;
    if (r == CVMA_JCHECK_OK) {
        return cvma_json_loadb(p, len, JSON_REJECT_DUPLICATES, error, oom);
    }
    memset(error, 0, sizeof *error);
    if (r == CVMA_JCHECK_NOMEM) {
        *oom = true;
        return NULL;
    }
    error->line = c.line;
    error->column = -1;
    error->position = c.position > INT_MAX ? INT_MAX : (int)c.position;
    snprintf(error->source, sizeof error->source, "<buffer>");
    snprintf(error->text, sizeof error->text - 1, "%s", c.text);
    /* jansson keeps the error's code in the text's last byte (json_error_code) */
    error->text[sizeof error->text - 1] = (char)json_error_invalid_syntax;
    return NULL;
}

/* see common/json_out.h */
char *cvma_json_dumps(const json_t *j, size_t flags)
{
    json_malloc_t jmalloc;
    json_free_t jfree;
    char *s = json_dumps(j, flags), *copy = NULL;
    if (s != NULL) {
        size_t n = strlen(s) + 1;
        if ((copy = malloc(n)) != NULL) {
            memcpy(copy, s, n);
        }
        json_get_alloc_funcs(&jmalloc, &jfree);
        jfree(s);
    }
    return copy;
}
