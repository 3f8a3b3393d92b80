/*
 * The service's key binding (src/server/pubkey.c): which public keys a verify request may
 * bind, their REPORT_DATA (SHA-512 over the nonce and the DER SubjectPublicKeyInfo), their JWK,
 * and the token's cnf claim (cvma_ear_sign_cnf).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "result/ear.h"
#include "server/pubkey.h"
#include "testutil.h"

/* The PEM SubjectPublicKeyInfo of k (malloc'd, NUL-terminated). */
static char *pem_of(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
    long n = BIO_get_mem_data(b, &p);
    char *s = calloc(1, (size_t)n + 1);
    memcpy(s, p, (size_t)n);
    BIO_free(b);
    return s;
}

/* Parses the public half of k back; returns the parse status (the key in *out). */
static enum cvma_status parse(EVP_PKEY *k, EVP_PKEY **out, char *err, size_t err_len)
{
    char *pem = pem_of(k);
    enum cvma_status st = cvma_pubkey_parse(pem, strlen(pem), out, err, err_len);
    free(pem);
    return st;
}

static void check_jwk(EVP_PKEY *k, const char *kty, const char *crv, const char *const *members,
                      size_t n_members)
{
    EVP_PKEY *pub = NULL;
    char err[256];
    assert_int_equal(parse(k, &pub, err, sizeof err), CVMA_OK);
    json_t *jwk = cvma_pubkey_jwk(pub);
    assert_non_null(jwk);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), kty);
    if (crv != NULL) {
        assert_string_equal(json_string_value(json_object_get(jwk, "crv")), crv);
    }
    for (size_t i = 0; i < n_members; i++) {
        const char *v = json_string_value(json_object_get(jwk, members[i]));
        assert_non_null(v);
        assert_true(strlen(v) > 0);
        assert_null(strpbrk(v, "+/=")); /* base64url, no padding */
    }
    assert_int_equal(json_object_size(jwk), n_members + 1 + (crv != NULL));
    json_decref(jwk);
    EVP_PKEY_free(pub);
}

static void test_pubkey_jwk_of_each_key_type(void **state)
{
    (void)state;
    static const char *const ec[] = {"x", "y"}, *const rsa[] = {"n", "e"}, *const okp[] = {"x"};
    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *r = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    check_jwk(p256, "EC", "P-256", ec, 2);
    check_jwk(p384, "EC", "P-384", ec, 2);
    check_jwk(r, "RSA", NULL, rsa, 2);
    check_jwk(ed, "OKP", "Ed25519", okp, 1);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(r);
    EVP_PKEY_free(ed);
}

static void test_pubkey_refuses_what_it_cannot_bind(void **state)
{
    (void)state;
    EVP_PKEY *out = NULL, *p224 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-224");
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    char err[256];
    assert_int_equal(parse(p224, &out, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "curve"));
    assert_null(out);
    assert_int_equal(parse(small, &out, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "1024 bits"));
    const char junk[] = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n";
    assert_int_equal(cvma_pubkey_parse(junk, strlen(junk), &out, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "not a PEM PUBLIC KEY"));
    assert_int_equal(cvma_pubkey_parse("", 0, &out, err, sizeof err), CVMA_REJECTED);
    char *big = malloc(CVMA_PUBKEY_MAX_PEM + 2);
    memset(big, 'A', CVMA_PUBKEY_MAX_PEM + 1);
    big[CVMA_PUBKEY_MAX_PEM + 1] = '\0';
    assert_int_equal(cvma_pubkey_parse(big, CVMA_PUBKEY_MAX_PEM + 1, &out, err, sizeof err),
                     CVMA_REJECTED);
    free(big);
    EVP_PKEY_free(p224);
    EVP_PKEY_free(small);
}

static void test_pubkey_report_data_is_sha512_of_nonce_and_spki(void **state)
{
    (void)state;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    uint8_t nonce[32], got[64], want[64], buf[32 + 256];
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    assert_true(n > 0 && n <= 256);
    memset(nonce, 0x5a, sizeof nonce);
    memcpy(buf, nonce, sizeof nonce);
    memcpy(buf + sizeof nonce, der, (size_t)n);
    SHA512(buf, sizeof nonce + (size_t)n, want);
    assert_true(cvma_pubkey_report_data(k, nonce, sizeof nonce, got));
    assert_memory_equal(got, want, 64);
    SHA512(der, (size_t)n, want); /* no nonce: the key alone */
    assert_true(cvma_pubkey_report_data(k, NULL, 0, got));
    assert_memory_equal(got, want, 64);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
}

static void test_pubkey_token_cnf_claim(void **state)
{
    (void)state;
    EVP_PKEY *signer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    struct cvma_result res;
    json_t *jwk = cvma_pubkey_jwk(k), *claims = NULL;
    char *token = NULL, err[256];

    cvma_result_init(&res, "tdx", 1795683898);
    cvma_result_finish(&res);
    assert_int_equal(cvma_ear_sign_cnf(&res, signer, NULL, NULL, 60, jwk, &token), CVMA_OK);
    assert_int_equal(cvma_ear_verify(token, strlen(token), signer, &claims, err, sizeof err),
                     CVMA_OK);
    assert_true(json_equal(json_object_get(json_object_get(claims, "cnf"), "jwk"), jwk));
    assert_non_null(json_object_get(json_object_get(claims, "submods"), "tdx"));
    json_decref(claims);
    free(token);
    /* Without a key: no cnf at all. */
    assert_int_equal(cvma_ear_sign_cnf(&res, signer, NULL, NULL, 60, NULL, &token), CVMA_OK);
    assert_int_equal(cvma_ear_verify(token, strlen(token), signer, &claims, err, sizeof err),
                     CVMA_OK);
    assert_null(json_object_get(claims, "cnf"));
    json_decref(claims);
    free(token);
    json_decref(jwk);
    cvma_result_cleanup(&res);
    EVP_PKEY_free(k);
    EVP_PKEY_free(signer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_pubkey_jwk_of_each_key_type),
            cmocka_unit_test(test_pubkey_refuses_what_it_cannot_bind),
            cmocka_unit_test(test_pubkey_report_data_is_sha512_of_nonce_and_spki),
            cmocka_unit_test(test_pubkey_token_cnf_claim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
