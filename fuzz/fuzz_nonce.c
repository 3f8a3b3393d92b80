/*
 * libFuzzer target: the service's nonce check (server/nonce.h) with a fixed key and a fixed
 * "now", against the format worked out here with OpenSSL (HMAC-SHA256, base64): random ||
 * expiry (8 bytes, big-endian) || HMAC-SHA256(key, size byte || random || expiry) cut to half
 * the nonce, in base64url without padding, 32, 48 or 64 bytes.
 *  - any text (the input up to its first NUL): the same answer as the independent reading
 *    (MALFORMED unless the canonical base64url of an allowed size, then FORGED unless the MAC
 *    holds and the expiry fits an int64, then OK before the expiry and EXPIRED from it on),
 *    the nonce's bytes and expiry given only then, and nothing on a refusal;
 *  - a nonce made here from the input with the key checks OK before its expiry and EXPIRED
 *    from it on; with another key, or with one character changed, it never passes;
 *  - a nonce minted by cvma_nonce_mint (of a size and a ttl from the input) checks OK until
 *    now + ttl and EXPIRED from then on.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz_check.h"
#include "server/nonce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW ((time_t)1700000000)

static const struct cvma_nonce_key key = {{0x6b, 0x65, 0x79, 0x20, 0x66, 0x6f, 0x72, 0x20,
                                           0x66, 0x75, 0x7a, 0x7a, 0x69, 0x6e, 0x67, 0x20,
                                           0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x73, 0x2c, 0x20,
                                           0x33, 0x32, 0x20, 0x62, 0x79, 0x74, 0x65, 0x73},
                                          32};
static const struct cvma_nonce_key other = {{1, 2, 3}, 3};

/* base64url without padding, by OpenSSL's base64 with the alphabet changed. */
static void b64url(const uint8_t *p, size_t n, char out[96])
{
    int k = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    while (k > 0 && out[k - 1] == '=') {
        k--;
    }
    out[k] = '\0';
    for (int i = 0; i < k; i++) {
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
}

/* The bytes of s when it is the canonical base64url of 32, 48 or 64 bytes (0 otherwise). */
static size_t decode(const char *s, uint8_t out[64])
{
    size_t n = strlen(s);
    long o = n <= 86 ? fz_b64_decode((const uint8_t *)s, n, true, out, 64) : -1;
    char again[96];
    if (o != 32 && o != 48 && o != 64) {
        return 0;
    }
    b64url(out, (size_t)o, again);
    return strcmp(again, s) == 0 ? (size_t)o : 0;
}

/* HMAC-SHA256(k, size byte || p[0..n)). */
static void mac(const struct cvma_nonce_key *k, const uint8_t *p, size_t n, size_t size,
                uint8_t out[32])
{
    uint8_t msg[1 + 64];
    unsigned int len = 0;
    msg[0] = (uint8_t)size;
    memcpy(msg + 1, p, n);
    if (HMAC(EVP_sha256(), k->key, (int)k->len, msg, 1 + n, out, &len) == NULL || len != 32) {
        abort();
    }
}

/* What cvma_nonce_check must answer for s, with its bytes and expiry when it holds. */
static enum cvma_nonce_check expected(const char *s, uint8_t raw[64], size_t *raw_len,
                                      uint64_t *exp)
{
    uint8_t m[32];
    size_t n = decode(s, raw);
    *raw_len = n;
    *exp = 0;
    if (n == 0) {
        return CVMA_NONCE_MALFORMED;
    }
    size_t body = n - n / 2;
    mac(&key, raw, body, n, m);
    if (memcmp(m, raw + body, n / 2) != 0) {
        return CVMA_NONCE_FORGED;
    }
    for (size_t i = body - 8; i < body; i++) {
        *exp = *exp << 8 | raw[i];
    }
    if (*exp > (uint64_t)INT64_MAX) {
        return CVMA_NONCE_FORGED;
    }
    return *exp > (uint64_t)NOW ? CVMA_NONCE_OK : CVMA_NONCE_EXPIRED;
}

/* Checks s against the independent reading; returns the answer. */
static enum cvma_nonce_check check(const char *s)
{
    uint8_t raw[CVMA_NONCE_MAX], want_raw[64];
    size_t raw_len = 99, want_len = 0;
    time_t exp = 99;
    uint64_t want_exp = 0;
    memset(raw, 0xa5, sizeof raw);
    enum cvma_nonce_check got = cvma_nonce_check(&key, s, NOW, raw, &raw_len, &exp);
    enum cvma_nonce_check want = expected(s, want_raw, &want_len, &want_exp);
    if (got != want) {
        abort();
    }
    if (got == CVMA_NONCE_OK || got == CVMA_NONCE_EXPIRED) {
        if (raw_len != want_len || memcmp(raw, want_raw, want_len) != 0 ||
            exp != (time_t)want_exp) {
            abort();
        }
    } else if (raw_len != 0 || exp != 0) {
        abort();
    }
    return got;
}

/* A nonce made here from the input: size, expiry (relative to NOW, or any 8 bytes), random. */
static void check_made(const uint8_t *data, size_t size)
{
    uint8_t n[64] = {0}, m[32];
    char s[96];
    if (size < 4) {
        return;
    }
    size_t len = data[0] % 3 == 0 ? 32 : data[0] % 3 == 1 ? 48 : 64;
    size_t body = len - len / 2, rnd = body - 8;
    uint64_t exp = (uint64_t)(NOW + (int16_t)(data[1] << 8 | data[2]));
    size_t from = 3;
    if (data[0] & 0x80 && size >= 11) {
        exp = 0;
        for (size_t i = 3; i < 11; i++) {
            exp = exp << 8 | data[i];
        }
        from = 11;
    }
    memcpy(n, data + from, size - from < rnd ? size - from : rnd);
    for (size_t i = 0; i < 8; i++) {
        n[rnd + i] = (uint8_t)(exp >> (56 - 8 * i));
    }
    mac(&key, n, body, len, m);
    memcpy(n + body, m, len / 2);
    b64url(n, len, s);

    enum cvma_nonce_check want = exp > (uint64_t)INT64_MAX ? CVMA_NONCE_FORGED
                                 : exp > (uint64_t)NOW     ? CVMA_NONCE_OK
                                                           : CVMA_NONCE_EXPIRED;
    if (check(s) != want) {
        abort();
    }
    uint8_t raw[CVMA_NONCE_MAX];
    size_t raw_len = 0;
    time_t e = 0;
    if (cvma_nonce_check(&other, s, NOW, raw, &raw_len, &e) != CVMA_NONCE_FORGED) {
        abort();
    }
    /* One character changed to another of the alphabet: never passes. */
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t at = data[1] % strlen(s);
    char c = alpha[data[2] % 64];
    if (c != s[at]) {
        s[at] = c;
        enum cvma_nonce_check r = check(s);
        if (r == CVMA_NONCE_OK || r == CVMA_NONCE_EXPIRED) {
            abort();
        }
    }
}

/* A nonce of the nonce maker, of a size and a ttl from the input. */
static void check_minted(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = {32, 48, 64, 0, 16, 33};
    char s[96];
    uint8_t raw[CVMA_NONCE_MAX];
    size_t raw_len = 0;
    time_t e = 0;
    if (size < 3) {
        return;
    }
    size_t len = sizes[data[0] % 6];
    int64_t ttl = (int16_t)(data[1] << 8 | data[2]);
    time_t made = NOW - 100, until = made + (time_t)ttl;
    bool ok = cvma_nonce_mint(&key, len, made, ttl, s, sizeof s);
    if (ok != cvma_nonce_size_ok(len) || ok != (len == 32 || len == 48 || len == 64)) {
        abort();
    }
    if (!ok) {
        return;
    }
    if (strlen(s) != (len * 4 + 2) / 3 ||
        check(s) != (until > NOW ? CVMA_NONCE_OK : CVMA_NONCE_EXPIRED)) {
        abort();
    }
    if (cvma_nonce_check(&key, s, until - 1, raw, &raw_len, &e) != CVMA_NONCE_OK ||
        raw_len != len || e != until ||
        cvma_nonce_check(&key, s, until, raw, &raw_len, &e) != CVMA_NONCE_EXPIRED ||
        raw_len != len || e != until) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    (void)check(s);
    free(s);
    check_made(data, size);
    check_minted(data, size);
    return 0;
}
