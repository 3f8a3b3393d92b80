/* Public keys as JWKs (see crypto/jwk.h). */
#include "crypto/jwk.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "common/base64.h"

/* base64url of p/n into a new JSON string; NULL when out of memory. */
static json_t *b64url(const uint8_t *p, size_t n)
{
    char *s = cvma_base64_encode(p, n, CVMA_B64_URL);
    json_t *j = s != NULL ? json_string(s) : NULL;
    free(s);
    return j;
}

/* A big-endian unsigned parameter of key as base64url; NULL when absent or out of memory. */
static json_t *bn_param(EVP_PKEY *key, const char *name)
{
    BIGNUM *bn = NULL;
    json_t *j = NULL;
    if (EVP_PKEY_get_bn_param(key, name, &bn) == 1) {
        int n = BN_num_bytes(bn);
        uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
        if (p != NULL && BN_bn2bin(bn, p) == n) {
            j = b64url(p, (size_t)n);
        }
        free(p);
    }
    BN_free(bn);
    return j;
}

json_t *cvma_pubkey_jwk(EVP_PKEY *key)
{
    uint8_t pt[1 + 2 * 66];
    size_t n = 0;
    char curve[32];

    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                           NULL) != 1 ||
            EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof pt,
                                            &n) != 1 ||
            n < 3 || pt[0] != 0x04 || (n - 1) % 2 != 0) {
            return NULL;
        }
        const char *crv = strcmp(curve, "prime256v1") == 0  ? "P-256"
                          : strcmp(curve, "secp384r1") == 0 ? "P-384"
                          : strcmp(curve, "secp521r1") == 0 ? "P-521"
                                                            : NULL;
        size_t cl = (n - 1) / 2;
        if (crv == NULL) {
            return NULL;
        }
        return json_pack("{s:s, s:s, s:o, s:o}", "kty", "EC", "crv", crv, "x", b64url(pt + 1, cl),
                         "y", b64url(pt + 1 + cl, cl));
    }
    case EVP_PKEY_RSA:
        return json_pack("{s:s, s:o, s:o}", "kty", "RSA", "n", bn_param(key, OSSL_PKEY_PARAM_RSA_N),
                         "e", bn_param(key, OSSL_PKEY_PARAM_RSA_E));
    case EVP_PKEY_ED25519:
        n = sizeof pt;
        if (EVP_PKEY_get_raw_public_key(key, pt, &n) != 1 || n != 32) {
            return NULL;
        }
        return json_pack("{s:s, s:s, s:o}", "kty", "OKP", "crv", "Ed25519", "x", b64url(pt, n));
    default:
        return NULL;
    }
}
