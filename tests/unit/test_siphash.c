/*
 * SipHash-2-4 (common/siphash.h): the paper's worked example, and every length from 0 to 80
 * under random keys against OpenSSL's SIPHASH MAC, an independent implementation.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/siphash.h"
#include "testutil.h"

/* Appendix A of the paper: key 00 01 .. 0f, message 00 01 .. 0e (15 bytes). */
static void test_siphash_paper_example(void **state)
{
    (void)state;
    uint8_t k[16], m[15];
    for (unsigned i = 0; i < 16; i++) {
        k[i] = (uint8_t)i;
    }
    for (unsigned i = 0; i < 15; i++) {
        m[i] = (uint8_t)i;
    }
    assert_true(cvma_siphash24(k, m, sizeof m) == 0xa129ca6149be45e5u);
    /* the reference vectors' first two: the empty message and one byte 00 */
    assert_true(cvma_siphash24(k, m, 0) == 0x726fdb47dd0e0e31u);
    assert_true(cvma_siphash24(k, m, 1) == 0x74f839c593dc67fdu);
}

/* OpenSSL's SipHash-2-4 with an 8-byte output, read as a little-endian word. */
static uint64_t openssl_siphash(const uint8_t k[16], const uint8_t *m, size_t n)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    assert_non_null(mac);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    assert_non_null(ctx);
    size_t size = 8;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_end()};
    uint8_t out[8];
    size_t out_len = 0;
    assert_int_equal(EVP_MAC_init(ctx, k, 16, params), 1);
    assert_int_equal(EVP_MAC_update(ctx, m, n), 1);
    assert_int_equal(EVP_MAC_final(ctx, out, &out_len, sizeof out), 1);
    assert_int_equal(out_len, 8);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)out[i] << (8 * i);
    }
    return v;
}

static void test_siphash_matches_openssl_at_every_length(void **state)
{
    (void)state;
    uint8_t k[16], m[80];
    for (int round = 0; round < 8; round++) {
        assert_int_equal(RAND_bytes(k, sizeof k), 1);
        assert_int_equal(RAND_bytes(m, sizeof m), 1);
        for (size_t n = 0; n <= sizeof m; n++) {
            uint64_t want = openssl_siphash(k, m, n), got = cvma_siphash24(k, m, n);
            if (got != want) {
                fail_msg("length %zu: %016llx, OpenSSL %016llx", n, (unsigned long long)got,
                         (unsigned long long)want);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_siphash_paper_example),
            cmocka_unit_test(test_siphash_matches_openssl_at_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
