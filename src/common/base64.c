/* see common/base64.h */
#include "common/base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t cvma_base64_encoded_len(size_t n, enum cvma_b64 variant)
{
    if (n / 3 > (SIZE_MAX - 4) / 4) {
        return SIZE_MAX;
    }
    if (variant == CVMA_B64_STD) {
        return (n + 2) / 3 * 4;
    }
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t cvma_base64_decoded_max(size_t slen)
{
    return slen / 4 * 3 + 3;
}

bool cvma_base64_encode_to(const uint8_t *p, size_t n, enum cvma_b64 variant, char *out,
                           size_t out_size)
{
    const char *a = variant == CVMA_B64_URL ? url_alpha : std_alpha;
    size_t need = cvma_base64_encoded_len(n, variant);
    size_t i = 0, o = 0;

    if (out_size == 0) {
        return false;
    }
    out[0] = '\0';
    if (need == SIZE_MAX || need >= out_size) {
        return false;
    }
    for (; n - i >= 3; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = a[w >> 18 & 63];
        out[o++] = a[w >> 12 & 63];
        out[o++] = a[w >> 6 & 63];
        out[o++] = a[w & 63];
    }
    if (n - i == 1) {
        uint32_t w = (uint32_t)p[i] << 16;
        out[o++] = a[w >> 18 & 63];
        out[o++] = a[w >> 12 & 63];
        if (variant == CVMA_B64_STD) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = a[w >> 18 & 63];
        out[o++] = a[w >> 12 & 63];
        out[o++] = a[w >> 6 & 63];
        if (variant == CVMA_B64_STD) {
            out[o++] = '=';
        }
    }
    out[o] = '\0';
    return true;
}

char *cvma_base64_encode(const uint8_t *p, size_t n, enum cvma_b64 variant)
{
    size_t need = cvma_base64_encoded_len(n, variant);
    char *s;
    if (need == SIZE_MAX || (s = malloc(need + 1)) == NULL) {
        return NULL;
    }
    if (!cvma_base64_encode_to(p, n, variant, s, need + 1)) {
        free(s);
        return NULL;
    }
    return s;
}

/* The value plus one of each character both alphabets share (0: not one of them): one table
 * look-up a character; the two that differ are compared. */
static const uint8_t common_plus1[256] = {
        ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,
        ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
        ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
        ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
        ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
        ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
        ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
        ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
        ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62};

static int sextet(char c, enum cvma_b64 variant)
{
    int v = (int)common_plus1[(unsigned char)c] - 1;
    if (v >= 0) {
        return v;
    }
    if (variant == CVMA_B64_STD) {
        return c == '+' ? 62 : c == '/' ? 63 : -1;
    }
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

bool cvma_base64_decode(const char *s, size_t slen, enum cvma_b64 variant, uint8_t *out,
                        size_t out_cap, size_t *out_len)
{
    size_t data_len = slen; /* characters that carry data (padding removed) */
    size_t o = 0, i;

    *out_len = 0;
    if (variant == CVMA_B64_STD) {
        if (slen % 4 != 0) {
            return false;
        }
        /* At most two '=' and only at the end; they must complete the last quantum. */
        if (slen >= 1 && s[slen - 1] == '=') {
            data_len--;
            if (slen >= 2 && s[slen - 2] == '=') {
                data_len--;
            }
        }
    }
    if (data_len % 4 == 1) {
        return false; /* one character cannot encode a whole byte */
    }
    size_t need = data_len / 4 * 3 + (data_len % 4 == 0 ? 0 : data_len % 4 - 1);
    if (need > out_cap) {
        return false;
    }
    for (i = 0; data_len - i >= 4; i += 4) {
        int a = sextet(s[i], variant), b = sextet(s[i + 1], variant);
        int c = sextet(s[i + 2], variant), d = sextet(s[i + 3], variant);
        if (a < 0 || b < 0 || c < 0 || d < 0) {
            return false;
        }
        uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (uint8_t)(w >> 16);
        out[o++] = (uint8_t)(w >> 8);
        out[o++] = (uint8_t)w;
    }
    if (data_len - i == 2) {
        int a = sextet(s[i], variant), b = sextet(s[i + 1], variant);
        if (a < 0 || b < 0 || (b & 0x0f) != 0) {
            return false;
        }
        out[o++] = (uint8_t)(a << 2 | b >> 4);
    } else if (data_len - i == 3) {
        int a = sextet(s[i], variant), b = sextet(s[i + 1], variant);
        int c = sextet(s[i + 2], variant);
        if (a < 0 || b < 0 || c < 0 || (c & 0x03) != 0) {
            return false;
        }
        out[o++] = (uint8_t)(a << 2 | b >> 4);
        out[o++] = (uint8_t)((b & 0x0f) << 4 | c >> 2);
    }
    /* For STD, the padding count must be exactly what the data length needs. */
    if (variant == CVMA_B64_STD && slen - data_len != (4 - data_len % 4) % 4) {
        return false;
    }
    *out_len = o;
    return true;
}

enum cvma_status cvma_base64_decode_buf(const char *s, size_t slen, enum cvma_b64 variant,
                                        struct cvma_buf *out)
{
    size_t cap = cvma_base64_decoded_max(slen), got = 0;
    uint8_t *p;

    out->p = NULL;
    out->len = 0;
    if ((p = malloc(cap == 0 ? 1 : cap)) == NULL) {
        return CVMA_E_NOMEM;
    }
    if (!cvma_base64_decode(s, slen, variant, p, cap, &got)) {
        free(p);
        return CVMA_REJECTED;
    }
    out->p = p;
    out->len = got;
    return CVMA_OK;
}
