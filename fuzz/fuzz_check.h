/*
 * Helpers for fuzz targets that check a parser's answers against an independent reading of the
 * same input: an abort on a wrong answer, little-endian reads by hand (no project reader), and
 * comparisons of the claims JSON with the bytes it should show.
 */
#ifndef CVMA_FUZZ_CHECK_H
#define CVMA_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#define CHECK(c)                                                                         \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            fprintf(stderr, "fuzz: wrong answer: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static inline uint16_t fz_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fz_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fz_le64(const uint8_t *p)
{
    return (uint64_t)fz_le32(p) | (uint64_t)fz_le32(p + 4) << 32;
}

static inline bool fz_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* True when s is the lower-case hex of exactly the n bytes at p. */
static inline bool fz_hex_is(const char *s, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (s == NULL || strlen(s) != 2 * n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[2 * i] != digits[p[i] >> 4] || s[2 * i + 1] != digits[p[i] & 15]) {
            return false;
        }
    }
    return true;
}

/* A base64 character's value: the standard alphabet (RFC 4648 section 4: '+', '/') or, url true,
 * the URL-safe one (section 5: '-', '_'); -1 for any other character ('=' included). */
static inline int fz_b64_value(uint8_t c, bool url)
{
    return c >= 'A' && c <= 'Z'     ? c - 'A'
           : c >= 'a' && c <= 'z'   ? c - 'a' + 26
           : c >= '0' && c <= '9'   ? c - '0' + 52
           : c == (url ? '-' : '+') ? 62
           : c == (url ? '_' : '/') ? 63
                                    : -1;
}

/*
 * Strict base64 of s[0..n) into out (at most cap bytes): the standard alphabet padded to a
 * multiple of 4 with exactly the '=' the length needs, or (url) the URL-safe one never padded
 * and of a length that is not 1 mod 4; the unused low bits of the last character zero. The
 * number of bytes, or -1 when s is not that (or decodes to more than cap bytes).
 */
static inline long fz_b64_decode(const uint8_t *s, size_t n, bool url, uint8_t *out, size_t cap)
{
    size_t pad = 0, k = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (!url) {
        if (n % 4 != 0) {
            return -1;
        }
        while (pad < 2 && n > pad && s[n - 1 - pad] == '=') {
            pad++;
        }
        n -= pad;
        if (pad != (4 - n % 4) % 4) {
            return -1;
        }
    } else if (n % 4 == 1) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int v = fz_b64_value(s[i], url);
        if (v < 0) {
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k == cap) {
                return -1;
            }
            out[k++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return acc == 0 ? (long)k : -1;
}

/* The string member key of JSON object o (NULL when absent or not a string). */
static inline const char *fz_jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* True when member key of o is an integer equal to want. */
static inline bool fz_jint_is(const json_t *o, const char *key, long long want)
{
    const json_t *j = json_object_get(o, key);
    return json_is_integer(j) && json_integer_value(j) == want;
}

/* True when member key of o is the hex of the n-byte big-endian form of v. */
static inline bool fz_jhex_be_is(const json_t *o, const char *key, uint64_t v, size_t n)
{
    uint8_t be[8];
    for (size_t i = 0; i < n && n <= 8; i++) {
        be[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    }
    return n <= 8 && fz_hex_is(fz_jstr(o, key), be, n);
}

/* An ECDSA signature (r, s: big-endian byte strings) over msg with key and md, by OpenSSL
 * (DER-encoded from r and s, then EVP_DigestVerify). False also when memory runs out. */
static inline bool fz_ecdsa_rs_ok(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r, size_t rl,
                                  const uint8_t *s, size_t sl, const uint8_t *msg, size_t msg_len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, (int)rl, NULL), *bs = BN_bin2bn(s, (int)sl, NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *der = NULL;
    int derlen = 0;
    bool ok = false;

    if (es != NULL && br != NULL && bs != NULL && ctx != NULL && ECDSA_SIG_set0(es, br, bs) == 1) {
        br = bs = NULL; /* es owns them */
        ok = (derlen = i2d_ECDSA_SIG(es, &der)) > 0 &&
             EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, der, (size_t)derlen, msg, msg_len) == 1;
    }
    BN_free(br);
    BN_free(bs);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    return ok;
}

#endif
