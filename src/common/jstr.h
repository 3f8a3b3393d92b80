/*
 * JSON string contents: the escapes and the decoding of the text between a string's quotes,
 * once for every reader of JSON text here. The rules are jansson 2.14's (src/load.c,
 * lex_scan_string, without JSON_ALLOW_NUL), which the fuzz target fuzz/fuzz_jstr.c checks
 * against jansson: no control character (below 0x20) and no '"' unescaped; a backslash starts
 * one of \" \\ \/ \b \f \n \r \t \uXXXX (hex of either case); \u0000 refused; a \u surrogate
 * only as a pair, high (D800..DBFF) then low (DC00..DFFF), decoded to one code point; raw text
 * valid UTF-8 (shortest form, no surrogates, at most U+10FFFF).
 *
 * Users: the flat request reader (common/jflat.h) and the JSON checker (common/jcheck.h)
 * decode with cvma_jstr_decode; the exact-span scanner (common/jscan.h) reads each escape
 * with cvma_jstr_escape and keeps its own, looser output (ASCII, 0xFF for the rest).
 *
 * Each function reads only s[0..n); none allocates. Thread-safe (no shared state).
 */
#ifndef CVMA_COMMON_JSTR_H
#define CVMA_COMMON_JSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hex.h"
#include "common/util.h"

/*
 * One escape at the start of s[0..n), s[0] being its backslash: \" \\ \/ \b \f \n \r \t
 * (2 bytes) or \u and four hex digits (6 bytes). Its length, with *unit the character it
 * stands for: for \u the UTF-16 code unit as written (0 and lone surrogates included: whether
 * they are allowed, and the pairing, are the caller's). 0 when s does not start with one
 * (another byte, another letter after the backslash, fewer than four hex digits, the end);
 * *unit is then 0. Inline: the scanner reads every escape with it.
 */
CVMA_MUST_USE static inline size_t cvma_jstr_escape(const uint8_t *s, size_t n, unsigned *unit)
{
    unsigned v = 0;

    *unit = 0;
    if (n < 2 || s[0] != '\\') {
        return 0;
    }
    switch (s[1]) {
    case '"':
    case '\\':
    case '/':
        *unit = s[1];
        return 2;
    case 'b':
        *unit = '\b';
        return 2;
    case 'f':
        *unit = '\f';
        return 2;
    case 'n':
        *unit = '\n';
        return 2;
    case 'r':
        *unit = '\r';
        return 2;
    case 't':
        *unit = '\t';
        return 2;
    case 'u':
        break;
    default:
        return 0; /* RFC 8259 §7 has no other escape */
    }
    if (n < 6) {
        return 0;
    }
    for (size_t i = 2; i < 6; i++) {
        int x = cvma_hex_nibble(s[i]);
        if (x < 0) {
            return 0;
        }
        v = v << 4 | (unsigned)x;
    }
    *unit = v;
    return 6;
}

/*
 * Decodes the inside of a JSON string, s[0..n) (the bytes between its quotes), by the rules
 * above. When d is non-NULL the text is written there, NUL-terminated (room for n + 1 bytes:
 * decoding never lengthens); d NULL only checks. True with *out_len the decoded length (the
 * NUL not counted; no NUL inside, \u0000 being refused); false, *out_len 0 and d's contents
 * unspecified, when jansson would refuse the string.
 */
CVMA_MUST_USE bool cvma_jstr_decode(const uint8_t *s, size_t n, char *d, size_t *out_len);

#endif
