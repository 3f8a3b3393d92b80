#include "common/hex.h"

#include <stdlib.h>
#include <string.h>

static const char digits[] = "0123456789abcdef";

void cvma_hex_encode(const uint8_t *p, size_t len, char *out, size_t out_size)
{
    size_t i;
    if (out_size == 0) {
        return;
    }
    for (i = 0; i < len && 2 * i + 2 < out_size; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0f];
    }
    out[2 * i] = '\0';
}

char *cvma_hex_dup(const uint8_t *p, size_t len)
{
    char *s = malloc(2 * len + 1);
    if (s != NULL) {
        cvma_hex_encode(p, len, s, 2 * len + 1);
    }
    return s;
}

/* see common/hex.h */
int cvma_hex_nibble(int c)
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

bool cvma_hex_decode(const char *hex, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t n = strlen(hex);
    *out_len = 0;
    if (n % 2 != 0 || n / 2 > out_cap) {
        return false;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = cvma_hex_nibble(hex[2 * i]), lo = cvma_hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = n / 2;
    return true;
}

/* A lower-case hex digit's value, or -1 (upper case included). */
static int lower_nibble(char c)
{
    return c >= 'A' && c <= 'F' ? -1 : cvma_hex_nibble(c);
}

bool cvma_hex_decode_lower(const char *s, size_t slen, uint8_t *out, size_t want)
{
    if (want > SIZE_MAX / 2 || slen != 2 * want) {
        return false;
    }
    for (size_t i = 0; i < want; i++) {
        int hi = lower_nibble(s[2 * i]), lo = lower_nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
