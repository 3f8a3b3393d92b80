/*
 * libFuzzer target: a verify request's "public_key" (server/pubkey.h) against OpenSSL's own
 * PEM_read_bio_PUBKEY on the same bytes. cvma_pubkey_parse accepts exactly when the text is
 * 1..CVMA_PUBKEY_MAX_PEM bytes and OpenSSL reads a key of an accepted type, worked out here
 * by other calls (EC on P-256, P-384 or P-521 by the curve's NID; RSA of 2048 to 8192 bits by
 * its modulus; Ed25519), and then gives the same key (EVP_PKEY_eq); an accepted key has a
 * REPORT_DATA and a JWK of its type (the service answers 500 otherwise). A refusal leaves no
 * key and says why. An input that starts as DER does (0x30) is also checked wrapped in PEM, so
 * that mutations reach the key's structure and not only the PEM text (OpenSSL is not
 * instrumented: libFuzzer does not see its branches).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "crypto/jwk.h"
#include "server/pubkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The JWK kty of a key the service takes; NULL for any other. */
static const char *accepted(EVP_PKEY *k)
{
    if (EVP_PKEY_is_a(k, "EC")) {
        char g[64];
        size_t n = 0;
        if (EVP_PKEY_get_group_name(k, g, sizeof g, &n) != 1) {
            return NULL;
        }
        int nid = OBJ_sn2nid(g);
        return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 || nid == NID_secp521r1 ? "EC"
                                                                                           : NULL;
    }
    if (EVP_PKEY_is_a(k, "RSA")) {
        BIGNUM *n = NULL;
        int bits = EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) == 1 ? BN_num_bits(n) : 0;
        BN_free(n);
        return bits >= 2048 && bits <= 8192 ? "RSA" : NULL;
    }
    return EVP_PKEY_is_a(k, "ED25519") ? "OKP" : NULL;
}

static void check_text(const uint8_t *data, size_t size)
{
    EVP_PKEY *got = (EVP_PKEY *)&size, *want = NULL; /* got: cleared by the parser */
    char err[256] = "";
    enum cvma_status st = cvma_pubkey_parse((const char *)data, size, &got, err, sizeof err);
    if (st == CVMA_E_NOMEM) {
        if (got != NULL) {
            abort();
        }
        return;
    }

    const char *kty = NULL;
    if (size > 0 && size <= CVMA_PUBKEY_MAX_PEM) {
        BIO *b = BIO_new_mem_buf(data, (int)size);
        if (b == NULL) {
            abort();
        }
        want = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
        BIO_free(b);
        kty = want != NULL ? accepted(want) : NULL;
    }
    if ((st == CVMA_OK) != (kty != NULL)) {
        abort();
    }
    if (st == CVMA_OK) {
        uint8_t rd[64];
        json_t *jwk = NULL;
        if (got == NULL || EVP_PKEY_eq(got, want) != 1 ||
            !cvma_pubkey_report_data(got, NULL, 0, rd) || (jwk = cvma_pubkey_jwk(got)) == NULL ||
            strcmp(json_string_value(json_object_get(jwk, "kty")) != NULL
                           ? json_string_value(json_object_get(jwk, "kty"))
                           : "",
                   kty) != 0) {
            abort();
        }
        json_decref(jwk);
    } else if (st != CVMA_REJECTED || got != NULL || err[0] == '\0') {
        abort();
    }
    EVP_PKEY_free(got);
    EVP_PKEY_free(want);
    ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_text(data, size);
    if (size > 0 && data[0] == 0x30 && size <= 8192) {
        /* The DER as a PEM PUBLIC KEY: base64 in lines of 64 characters. */
        static const char head[] = "-----BEGIN PUBLIC KEY-----\n",
                          tail[] = "-----END PUBLIC KEY-----\n";
        size_t b64 = (size + 2) / 3 * 4, cap = sizeof head + b64 + b64 / 64 + 1 + sizeof tail;
        char *pem = malloc(cap), *o;
        unsigned char line[64 + 1];
        if (pem == NULL) {
            return 0;
        }
        o = pem + strlen(head);
        memcpy(pem, head, strlen(head));
        for (size_t i = 0; i < size; i += 48) {
            int k = EVP_EncodeBlock(line, data + i, (int)(size - i < 48 ? size - i : 48));
            memcpy(o, line, (size_t)k);
            o += k;
            *o++ = '\n';
        }
        memcpy(o, tail, strlen(tail));
        o += strlen(tail);
        check_text((const uint8_t *)pem, (size_t)(o - pem));
        free(pem);
    }
    return 0;
}
