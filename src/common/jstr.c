/*
 * JSON string contents (common/jstr.h): one escape, and the inside of a string decoded as
 * jansson decodes it. Invariant of the decoder's cursor: i <= n; every read checks the bytes
 * left (n - i) first.
 */
#include "common/jstr.h"

#include <string.h>

#include "common/jscan.h"
#include "common/util.h"

static bool is_high(unsigned u)
{
    return u >= 0xD800 && u <= 0xDBFF;
}

static bool is_low(unsigned u)
{
    return u >= 0xDC00 && u <= 0xDFFF;
}

/* see common/jstr.h */
bool cvma_jstr_decode(const uint8_t *s, size_t n, char *d, size_t *out_len)
{
    size_t i = 0, k = 0;

    *out_len = 0;
    while (i < n) {
        /* A run of plain ASCII (nothing escaped, closing or refused) in one copy. */
        size_t run = cvma_json_plain_run(s + i, n - i);
        if (run > 0) {
            if (d != NULL) {
                memcpy(d + k, s + i, run);
            }
            i += run;
            k += run;
            continue;
        }
        if (s[i] >= 0x80) {
            size_t m = cvma_utf8_seq(s + i, n - i);
            if (m == 0) {
                return false; /* jansson: "unable to decode byte" */
            }
            if (d != NULL) {
                memcpy(d + k, s + i, m);
            }
            i += m;
            k += m;
            continue;
        }
        /* Not plain, below 0x80: an escape, or a control character or '"' (refused: m is 0). */
        unsigned cp, lo;
        size_t m = cvma_jstr_escape(s + i, n - i, &cp);
        if (m == 0 || cp == 0 || is_low(cp)) {
            return false; /* \u0000 without JSON_ALLOW_NUL; a low surrogate first */
        }
        i += m;
        if (is_high(cp)) {
            /* A high surrogate: the next escape must be \u and a low one (a one-letter
             * escape's unit is below 0x80, never low). */
            m = cvma_jstr_escape(s + i, n - i, &lo);
            if (m == 0 || !is_low(lo)) {
                return false;
            }
            i += m;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp < 0x80) {
            if (d != NULL) {
                d[k] = (char)cp; /* a one-letter escape, or \u below 0x80 */
            }
            k++;
            continue;
        }
        char u[4];
        size_t len = cvma_utf8_encode(u, cp);
        if (d != NULL) {
            memcpy(d + k, u, len);
        }
        k += len;
    }
    if (d != NULL) {
        d[k] = '\0';
    }
    *out_len = k;
    return true;
}
