/*
 * The exact-span JSON scanner: where a JSON value starts and ends in untrusted text, for
 * documents whose signature covers the bytes of an inner object exactly as they stand (Intel
 * PCS collateral). It understands strings, escapes, numbers, literals and nesting (bounded by
 * CVMA_JSCAN_MAX_DEPTH) and never re-serializes anything; it only checks syntax, so what it
 * finds is then parsed by a real JSON parser.
 *
 * A scan is a cursor over (p, len): off is the next byte, and off <= len always holds; every
 * function reads only inside p[0..len). None allocates. Thread-safe (no shared state).
 */
#ifndef CVMA_COMMON_JSCAN_H
#define CVMA_COMMON_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define CVMA_JSCAN_MAX_DEPTH 32u /* QVL MAX_TCB_INFO_JSON_DEPTH */

struct cvma_jscan {
    const uint8_t *p;
    size_t len;
    size_t off;
};

static inline bool cvma_jscan_at_end(const struct cvma_jscan *s)
{
    return s->off >= s->len;
}

/* The next byte, 0 at the end. */
static inline uint8_t cvma_jscan_peek(const struct cvma_jscan *s)
{
    return cvma_jscan_at_end(s) ? 0 : s->p[s->off];
}

/* Skips JSON whitespace (space, tab, CR, LF). */
static inline void cvma_jscan_skip_ws(struct cvma_jscan *s)
{
    while (!cvma_jscan_at_end(s)) {
        uint8_t c = s->p[s->off];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return;
        }
        s->off++;
    }
}

/*
 * Scans a string starting at its opening quote; leaves off after the closing quote. When dec
 * is non-NULL the decoded text is written there (dec_cap bytes, not NUL-terminated) and
 * *dec_len set; *overflow says it did not fit. What is not ASCII decodes to the byte 0xFF, one
 * for each byte of raw text from 0x80 and one for each \u escape above 0x7F (a surrogate,
 * paired or not, included): such a string can never equal an ASCII key. Escapes are read as
 * common/jstr.h's; only their syntax is checked here (\u0000, a lone surrogate and text that is
 * not UTF-8 pass: cvma_jstr_decode refuses them). *escaped (may be NULL) says whether any
 * escape occurred. dec_len and overflow may be NULL. False on a syntax error or the end.
 */
CVMA_MUST_USE bool cvma_jscan_string(struct cvma_jscan *s, char *dec, size_t dec_cap,
                                     size_t *dec_len, bool *overflow, bool *escaped);

/* Scans one value (leading whitespace allowed) nested inside a container of depth `depth`
 * (0 at the top level); false on a syntax error or nesting beyond CVMA_JSCAN_MAX_DEPTH. */
CVMA_MUST_USE bool cvma_jscan_value(struct cvma_jscan *s, unsigned depth);

/* The whole input (at most max_len bytes) is one JSON object with optional whitespace around
 * it; *span is the object from '{' to its '}' (inside p). On false *span is empty. */
CVMA_MUST_USE bool cvma_jscan_object_span(const uint8_t *p, size_t len, size_t max_len,
                                          struct cvma_span *span);

/* How many bytes at the start of s[0..len) a JSON string holds as they are, in either
 * direction: ASCII from 0x20, neither '"' nor '\\' (nothing to escape, decode or refuse). */
size_t cvma_json_plain_run(const uint8_t *s, size_t len);

#endif
