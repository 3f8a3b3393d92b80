/* The attested public key of a verify request (see server/pubkey.h). */
#include "server/pubkey.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>

enum cvma_status cvma_pubkey_parse(const char *pem, size_t len, EVP_PKEY **out, char *err,
                                   size_t err_len)
{
    BIO *bio = NULL;
    EVP_PKEY *k = NULL;
    enum cvma_status st = CVMA_REJECTED;
    char curve[32];

    *out = NULL;
    if (len == 0 || len > CVMA_PUBKEY_MAX_PEM) {
        cvma_errf(err, err_len, "\"public_key\" is empty or longer than %d bytes",
                  CVMA_PUBKEY_MAX_PEM);
        return CVMA_REJECTED;
    }
    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
        return CVMA_E_NOMEM;
    }
    if ((k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
        cvma_errf(err, err_len, "\"public_key\" is not a PEM PUBLIC KEY (SubjectPublicKeyInfo)");
        goto out;
    }
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                           NULL) != 1 ||
            (strcmp(curve, "prime256v1") != 0 && strcmp(curve, "secp384r1") != 0 &&
             strcmp(curve, "secp521r1") != 0)) {
            cvma_errf(err, err_len,
                      "\"public_key\": an EC key on a curve other than P-256, "
                      "P-384 or P-521");
            goto out;
        }
        break;
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(k) < 2048 || EVP_PKEY_get_bits(k) > 8192) {
            cvma_errf(err, err_len, "\"public_key\": an RSA key of %d bits (2048 to 8192)",
                      EVP_PKEY_get_bits(k));
            goto out;
        }
        break;
    case EVP_PKEY_ED25519:
        break;
    default:
        cvma_errf(err, err_len, "\"public_key\": not an EC, RSA or Ed25519 key");
        goto out;
    }
    *out = k;
    k = NULL;
    st = CVMA_OK;
out:
    EVP_PKEY_free(k);
    BIO_free(bio);
    return st;
}

bool cvma_pubkey_report_data(EVP_PKEY *key, const uint8_t *nonce, size_t nonce_len, uint8_t out[64])
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int md_len = 0;
    bool ok = n > 0 && ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 &&
              (nonce_len == 0 || EVP_DigestUpdate(ctx, nonce, nonce_len) == 1) &&
              EVP_DigestUpdate(ctx, der, (size_t)n) == 1 &&
              EVP_DigestFinal_ex(ctx, out, &md_len) == 1 && md_len == 64;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}
