/*
 * Tests: a public JWK (RFC 7517, RSA n/e or EC P-256/P-384/P-521 x/y) read back into an
 * OpenSSL key, independently of the code that wrote it, and the hex SHA-256 of its
 * SubjectPublicKeyInfo.
 */
#ifndef CVMA_TESTS_TU_JWK_H
#define CVMA_TESTS_TU_JWK_H

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "common/hex.h"

/* base64url member name of jwk into out (cap bytes); its length, 0 when absent or too long. */
static inline size_t tu_jwk_bytes(const json_t *jwk, const char *name, uint8_t *out, size_t cap)
{
    struct cvma_buf b = {0};
    const char *s = json_string_value(json_object_get(jwk, name));
    size_t n = 0;
    if (s != NULL && cvma_base64_decode_buf(s, strlen(s), CVMA_B64_URL, &b) == CVMA_OK &&
        b.len <= cap) {
        memcpy(out, b.p, b.len);
        n = b.len;
    }
    cvma_buf_free(&b);
    return n;
}

static inline EVP_PKEY *tu_jwk_key(const json_t *jwk)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *k = NULL;
    BIGNUM *n = NULL, *e = NULL;
    uint8_t a[1024], pt[1 + 2 * 66];
    size_t la, lb;

    if (bld == NULL || kty == NULL) {
        goto out;
    }
    if (strcmp(kty, "RSA") == 0) {
        la = tu_jwk_bytes(jwk, "n", a, sizeof a);
        n = BN_bin2bn(a, (int)la, NULL);
        lb = tu_jwk_bytes(jwk, "e", a, sizeof a);
        e = BN_bin2bn(a, (int)lb, NULL);
        if (n == NULL || e == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
            goto out;
        }
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    } else if (strcmp(kty, "EC") == 0) {
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        const char *group = crv == NULL                 ? NULL
                            : strcmp(crv, "P-256") == 0 ? "prime256v1"
                            : strcmp(crv, "P-384") == 0 ? "secp384r1"
                            : strcmp(crv, "P-521") == 0 ? "secp521r1"
                                                        : NULL;
        pt[0] = 0x04;
        la = tu_jwk_bytes(jwk, "x", pt + 1, 66);
        lb = la > 0 ? tu_jwk_bytes(jwk, "y", pt + 1 + la, 66) : 0;
        if (group == NULL || la == 0 || la != lb ||
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * la) != 1) {
            goto out;
        }
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    }
    if (ctx == NULL || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        k = NULL;
    }
out:
    BN_free(n);
    BN_free(e);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

/* The hex SHA-256 of the SubjectPublicKeyInfo of the key jwk describes ("" when unreadable). */
static inline void tu_jwk_spki_sha256(const json_t *jwk, char out[65])
{
    EVP_PKEY *k = tu_jwk_key(jwk);
    unsigned char *der = NULL;
    uint8_t h[32];
    int n = k != NULL ? i2d_PUBKEY(k, &der) : 0;
    out[0] = '\0';
    if (n > 0 && EVP_Digest(der, (size_t)n, h, NULL, EVP_sha256(), NULL)) {
        cvma_hex_encode(h, sizeof h, out, 65);
    }
    OPENSSL_free(der);
    EVP_PKEY_free(k);
}

#endif
