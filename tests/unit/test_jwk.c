/*
 * Public keys as JWKs (src/crypto/jwk.c): the shapes a vTPM AK takes (RSA-2048, EC P-256,
 * P-384) give RFC 7517 members that read back into the same key.
 */
#include <openssl/evp.h>

#include "crypto/jwk.h"
#include "testutil.h"
#include "tu_jwk.h"

static void roundtrip(EVP_PKEY *k, const char *kty, const char *crv)
{
    json_t *jwk = cvma_pubkey_jwk(k);
    assert_non_null(jwk);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), kty);
    if (crv != NULL) {
        assert_string_equal(json_string_value(json_object_get(jwk, "crv")), crv);
        assert_int_equal(json_object_size(jwk), 4);
    } else {
        assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
        assert_int_equal(json_object_size(jwk), 3);
    }
    EVP_PKEY *back = tu_jwk_key(jwk);
    assert_non_null(back);
    assert_int_equal(EVP_PKEY_eq(k, back), 1);
    EVP_PKEY_free(back);
    json_decref(jwk);
}

static void test_jwk_of_an_rsa_ak(void **state)
{
    (void)state;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(k);
    roundtrip(k, "RSA", NULL);
    EVP_PKEY_free(k);
}

static void test_jwk_of_an_ec_ak(void **state)
{
    (void)state;
    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_non_null(p256);
    assert_non_null(p384);
    roundtrip(p256, "EC", "P-256");
    roundtrip(p384, "EC", "P-384");
    /* x and y are the full coordinate length (RFC 7518 §6.2.1.2), leading zeros kept. */
    json_t *jwk = cvma_pubkey_jwk(p256);
    uint8_t b[66];
    assert_int_equal(tu_jwk_bytes(jwk, "x", b, sizeof b), 32);
    assert_int_equal(tu_jwk_bytes(jwk, "y", b, sizeof b), 32);
    json_decref(jwk);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_jwk_of_an_rsa_ak),
            cmocka_unit_test(test_jwk_of_an_ec_ak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
