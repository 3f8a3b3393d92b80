/*
 * The exact-span JSON scanner: finds where a JSON value starts and ends in untrusted text
 * without building or re-serializing anything (see common/jscan.h).
 * Invariant: off <= len. Every read checks off < len first.
 */
#include "common/jscan.h"

#include <string.h>

#include "common/jstr.h"

/* see common/jscan.h. Eight bytes at a time while none of them is special (the SWAR tests
 * of "Bit Twiddling Hacks": a byte with its top bit set, below 0x20, equal to '"' or '\\');
 * they may flag a word with no such byte, never miss one, and the word flagged is read byte
 * by byte. */
size_t cvma_json_plain_run(const uint8_t *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t q = x ^ ('"' * ones), bs = x ^ ('\\' * ones);
        /* With every byte below 0x80 (x's top bits clear), a byte's top bit after a
         * subtraction is set exactly when it was below what was subtracted or a lower byte
         * borrowed, and a lower byte borrows only when it is special itself. */
        if (((x | (x - 0x20 * ones) | (q - ones) | (bs - ones)) & highs) != 0) {
            break;
        }
    }
    while (i < len && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\') {
        i++;
    }
    return i;
}

/* see common/jscan.h */
bool cvma_jscan_string(struct cvma_jscan *s, char *dec, size_t dec_cap, size_t *dec_len,
                       bool *overflow, bool *escaped)
{
    size_t n = 0;
    bool ovf = false, esc = false;

    if (cvma_jscan_peek(s) != '"') {
        return false;
    }
    s->off++;
    for (;;) {
        uint8_t c, out;
        if (dec == NULL) {
            /* Only scanning: a run of plain ASCII (nothing escaped, closing or refused) is
             * passed over at once. Escapes and other bytes are checked one by one below. */
            s->off += cvma_json_plain_run(s->p + s->off, s->len - s->off);
        }
        if (cvma_jscan_at_end(s)) {
            return false;
        }
        c = s->p[s->off++];
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return false; /* control characters must be escaped (RFC 8259 §7) */
        }
        out = c < 0x80 ? c : 0xFF;
        if (c == '\\') {
            /* One escape (common/jstr.h), without jansson's further rules: a \u code unit
             * above 0x7F (a surrogate, paired or not, included) is 0xFF, \u0000 the byte 0. */
            unsigned unit;
            size_t m = cvma_jstr_escape(s->p + s->off - 1, s->len - (s->off - 1), &unit);
            if (m == 0) {
                /* Stopped after the byte that is not an escape's (jcheck reports the place). */
                s->off += cvma_jscan_at_end(s) ? 0 : 1;
                return false;
            }
            s->off += m - 1;
            esc = true;
            out = unit < 0x80 ? (uint8_t)unit : 0xFF;
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

static bool scan_literal(struct cvma_jscan *s, const char *lit)
{
    size_t n = strlen(lit);
    if (s->len - s->off < n || memcmp(s->p + s->off, lit, n) != 0) {
        return false;
    }
    s->off += n;
    return true;
}

static bool scan_digits(struct cvma_jscan *s)
{
    size_t start = s->off;
    while (!cvma_jscan_at_end(s) && s->p[s->off] >= '0' && s->p[s->off] <= '9') {
        s->off++;
    }
    return s->off > start;
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(struct cvma_jscan *s)
{
    if (cvma_jscan_peek(s) == '-') {
        s->off++;
    }
    if (cvma_jscan_peek(s) == '0') {
        s->off++;
    } else if (cvma_jscan_peek(s) >= '1' && cvma_jscan_peek(s) <= '9') {
        (void)scan_digits(s);
    } else {
        return false;
    }
    if (cvma_jscan_peek(s) == '.') {
        s->off++;
        if (!scan_digits(s)) {
            return false;
        }
    }
    if (cvma_jscan_peek(s) == 'e' || cvma_jscan_peek(s) == 'E') {
        s->off++;
        if (cvma_jscan_peek(s) == '+' || cvma_jscan_peek(s) == '-') {
            s->off++;
        }
        if (!scan_digits(s)) {
            return false;
        }
    }
    return true;
}

static bool scan_container(struct cvma_jscan *s, unsigned depth);

/* depth counts the container being opened; the outermost object is depth 1. */
static bool scan_container(struct cvma_jscan *s, unsigned depth)
{
    uint8_t open = cvma_jscan_peek(s), close = open == '{' ? '}' : ']';

    if (depth > CVMA_JSCAN_MAX_DEPTH) {
        return false;
    }
    s->off++;
    cvma_jscan_skip_ws(s);
    if (cvma_jscan_peek(s) == close) {
        s->off++;
        return true;
    }
    for (;;) {
        cvma_jscan_skip_ws(s);
        if (open == '{') {
            if (!cvma_jscan_string(s, NULL, 0, NULL, NULL, NULL)) {
                return false;
            }
            cvma_jscan_skip_ws(s);
            if (cvma_jscan_peek(s) != ':') {
                return false;
            }
            s->off++;
        }
        if (!cvma_jscan_value(s, depth)) {
            return false;
        }
        cvma_jscan_skip_ws(s);
        if (cvma_jscan_peek(s) == ',') {
            s->off++;
            continue;
        }
        if (cvma_jscan_peek(s) == close && !cvma_jscan_at_end(s)) {
            s->off++;
            return true;
        }
        return false;
    }
}

/* Scans one value (leading whitespace allowed) nested inside a container of depth `depth`. */
bool cvma_jscan_value(struct cvma_jscan *s, unsigned depth)
{
    cvma_jscan_skip_ws(s);
    switch (cvma_jscan_peek(s)) {
    case '{':
    case '[':
        return !cvma_jscan_at_end(s) && scan_container(s, depth + 1);
    case '"':
        return cvma_jscan_string(s, NULL, 0, NULL, NULL, NULL);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        return !cvma_jscan_at_end(s) && scan_number(s);
    }
}

/* The whole input is one JSON object, with optional whitespace around it; *span is the object
 * from '{' to its '}'. */
bool cvma_jscan_object_span(const uint8_t *p, size_t len, size_t max_len, struct cvma_span *span)
{
    struct cvma_jscan s = {p, len, 0};
    size_t start, end;

    span->p = NULL;
    span->len = 0;
    if (p == NULL || len > max_len) {
        return false;
    }
    cvma_jscan_skip_ws(&s);
    if (cvma_jscan_peek(&s) != '{' || cvma_jscan_at_end(&s)) {
        return false;
    }
    start = s.off;
    if (!scan_container(&s, 1)) {
        return false;
    }
    end = s.off;
    cvma_jscan_skip_ws(&s);
    if (!cvma_jscan_at_end(&s)) {
        return false; /* something after the object: the span stays empty */
    }
    span->p = p + start;
    span->len = end - start;
    return true;
}
