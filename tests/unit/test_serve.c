/* The service's pieces: nonces (HMAC-bound expiry, single use) and tokens with exp. */
#include <openssl/hmac.h>

#include "common/base64.h"
#include "crypto/jws.h"
#include "result/ear.h"
#include "server/nonce.h"
#include "testutil.h"

static const struct cvma_nonce_key key_a = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                            16};
static const struct cvma_nonce_key key_b = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17},
                                            16};

static void test_nonce_sizes(void **state)
{
    (void)state;
    static const size_t ok[] = {32, 48, 64};
    char s[128];
    uint8_t raw[CVMA_NONCE_MAX];
    size_t n;
    time_t exp;
    for (size_t i = 0; i < 3; i++) {
        assert_true(cvma_nonce_mint(&key_a, ok[i], 1000, 60, s, sizeof s));
        assert_null(strchr(s, '='));
        assert_int_equal(cvma_nonce_check(&key_a, s, 1000, raw, &n, &exp), CVMA_NONCE_OK);
        assert_int_equal(n, ok[i]);
        assert_int_equal(exp, 1060);
    }
    assert_false(cvma_nonce_mint(&key_a, 16, 1000, 60, s, sizeof s));
    assert_false(cvma_nonce_mint(&key_a, 33, 1000, 60, s, sizeof s));
    assert_false(cvma_nonce_size_ok(0));
}

/* Every bit of a nonce is covered: random part, expiry and MAC. */
static void test_nonce_every_bit_bound(void **state)
{
    (void)state;
    char s[128], t[128];
    uint8_t raw[CVMA_NONCE_MAX], b[CVMA_NONCE_MAX];
    size_t n, len;
    time_t exp;
    assert_true(cvma_nonce_mint(&key_a, 32, 1000, 60, s, sizeof s));
    assert_true(cvma_base64_decode(s, strlen(s), CVMA_B64_URL, b, sizeof b, &len));
    assert_int_equal(len, 32);
    for (size_t i = 0; i < len * 8; i++) {
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_true(cvma_base64_encode_to(b, len, CVMA_B64_URL, t, sizeof t));
        assert_int_equal(cvma_nonce_check(&key_a, t, 1000, raw, &n, &exp), CVMA_NONCE_FORGED);
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    /* another key; not base64url; a size never issued */
    assert_int_equal(cvma_nonce_check(&key_b, s, 1000, raw, &n, &exp), CVMA_NONCE_FORGED);
    assert_int_equal(cvma_nonce_check(&key_a, "not a nonce!", 1000, raw, &n, &exp),
                     CVMA_NONCE_MALFORMED);
    assert_true(cvma_base64_encode_to(b, 31, CVMA_B64_URL, t, sizeof t));
    assert_int_equal(cvma_nonce_check(&key_a, t, 1000, raw, &n, &exp), CVMA_NONCE_MALFORMED);
}

/*
 * The nonce's layout and MAC (docs/service.md) against OpenSSL's HMAC, an implementation other
 * than the one the service uses: a nonce built here, random || expiry || HMAC-SHA256(size ||
 * random || expiry) cut to half the size, is accepted with its expiry, for each size and a
 * 64-byte key; one minted by the service carries such a MAC.
 */
static void test_nonce_mac_is_hmac_sha256(void **state)
{
    (void)state;
    struct cvma_nonce_key k = {{0}, 64};
    for (size_t i = 0; i < 64; i++) {
        k.key[i] = (uint8_t)(0xa0 + i);
    }
    static const size_t sizes[] = {32, 48, 64};
    for (size_t z = 0; z < 3; z++) {
        size_t size = sizes[z], mac_len = size / 2, body = size - mac_len;
        uint8_t n[CVMA_NONCE_MAX], msg[CVMA_NONCE_MAX + 1], m[32], raw[CVMA_NONCE_MAX];
        unsigned int mlen = 0;
        char s[128];
        size_t got;
        time_t exp;
        for (size_t i = 0; i < body - 8; i++) {
            n[i] = (uint8_t)(i * 7 + z);
        }
        for (size_t i = 0; i < 8; i++) {
            n[body - 8 + i] = (uint8_t)((uint64_t)5000 >> (8 * (7 - i)));
        }
        msg[0] = (uint8_t)size;
        memcpy(msg + 1, n, body);
        assert_non_null(HMAC(EVP_sha256(), k.key, 64, msg, body + 1, m, &mlen));
        memcpy(n + body, m, mac_len);
        assert_true(cvma_base64_encode_to(n, size, CVMA_B64_URL, s, sizeof s));
        assert_int_equal(cvma_nonce_check(&k, s, 1000, raw, &got, &exp), CVMA_NONCE_OK);
        assert_int_equal(exp, 5000);
        assert_int_equal(got, size);

        /* and the other way round */
        assert_true(cvma_nonce_mint(&k, size, 1000, 60, s, sizeof s));
        assert_true(cvma_base64_decode(s, strlen(s), CVMA_B64_URL, n, sizeof n, &got));
        msg[0] = (uint8_t)size;
        memcpy(msg + 1, n, body);
        assert_non_null(HMAC(EVP_sha256(), k.key, 64, msg, body + 1, m, &mlen));
        assert_memory_equal(n + body, m, mac_len);
    }
}

static void test_nonce_expiry(void **state)
{
    (void)state;
    char s[128];
    uint8_t raw[CVMA_NONCE_MAX];
    size_t n;
    time_t exp;
    assert_true(cvma_nonce_mint(&key_a, 48, 1000, 60, s, sizeof s));
    assert_int_equal(cvma_nonce_check(&key_a, s, 1059, raw, &n, &exp), CVMA_NONCE_OK);
    assert_int_equal(cvma_nonce_check(&key_a, s, 1060, raw, &n, &exp), CVMA_NONCE_EXPIRED);
}

static void test_spent_memory(void **state)
{
    (void)state;
    char err[128];
    struct cvma_spent *sp = cvma_spent_new(NULL, err, sizeof err);
    assert_non_null(sp);
    assert_int_equal(cvma_spent_mark(sp, "n1", 1000, 1060), CVMA_SPEND_FIRST);
    assert_int_equal(cvma_spent_mark(sp, "n2", 1000, 1060), CVMA_SPEND_FIRST);
    assert_int_equal(cvma_spent_mark(sp, "n1", 1001, 1060), CVMA_SPEND_REPLAY);
    assert_int_equal(cvma_spent_mark(sp, "n2", 1059, 1060), CVMA_SPEND_REPLAY);
    /* forgotten once expired (the nonce itself is refused as expired by then) */
    assert_int_equal(cvma_spent_mark(sp, "n1", 1060, 1120), CVMA_SPEND_FIRST);
    assert_true(cvma_spent_healthy(sp));
    cvma_spent_free(sp);
}

/* Full: refused (fail closed), never forgetting an unexpired nonce; usable again once they
 * expire. */
static void test_spent_memory_full(void **state)
{
    (void)state;
    char err[128], name[32];
    struct cvma_spent *sp = cvma_spent_new(NULL, err, sizeof err);
    assert_non_null(sp);
    for (unsigned i = 0; i < CVMA_SPENT_MAX; i++) {
        snprintf(name, sizeof name, "n%u", i);
        assert_int_equal(cvma_spent_mark(sp, name, 1000, 1060), CVMA_SPEND_FIRST);
    }
    assert_int_equal(cvma_spent_mark(sp, "one more", 1001, 1060), CVMA_SPEND_UNAVAILABLE);
    assert_int_equal(cvma_spent_mark(sp, "n7", 1002, 1060), CVMA_SPEND_REPLAY);
    assert_int_equal(cvma_spent_mark(sp, "one more", 1060, 1120), CVMA_SPEND_FIRST);
    assert_int_equal(cvma_spent_mark(sp, "one more", 1061, 1120), CVMA_SPEND_REPLAY);
    cvma_spent_free(sp);
}

static void test_spent_redis_url(void **state)
{
    (void)state;
    char err[128];
    static const char *bad[] = {"http://x",        "redis://",      "redis://h:0",
                                "redis://h:99999", "redis://h:1/x", "redis://h/1/2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_null(cvma_spent_new(bad[i], err, sizeof err));
        assert_true(err[0] != '\0');
    }
    struct cvma_spent *sp = cvma_spent_new("redis://127.0.0.1:1/3", err, sizeof err);
    assert_non_null(sp);
    /* nobody listens on port 1: unavailable, never "first" (fail closed) */
    assert_int_equal(cvma_spent_mark(sp, "n1", 1000, 1060), CVMA_SPEND_UNAVAILABLE);
    assert_false(cvma_spent_healthy(sp));
    cvma_spent_free(sp);
}

/* Service tokens: exp = iat + ttl, eat_nonce as given; result check's decision honours exp. */
static void test_token_exp(void **state)
{
    (void)state;
    EVP_PKEY *k = cvma_jws_key_generate(CVMA_JWS_ES256);
    struct cvma_result res;
    char *tok = NULL, err[256];
    json_t *claims = NULL;
    struct cvma_ear_decision d;
    assert_non_null(k);
    cvma_result_init(&res, "sev-snp", time(NULL));
    res.status = CVMA_AFFIRMING;
    assert_int_equal(cvma_ear_sign_exp(&res, k, NULL, "bm9uY2U", 120, &tok), CVMA_OK);
    assert_int_equal(cvma_ear_verify(tok, strlen(tok), k, &claims, err, sizeof err), CVMA_OK);
    json_int_t iat = json_integer_value(json_object_get(claims, "iat"));
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), iat + 120);
    assert_string_equal(json_string_value(json_object_get(claims, "eat_nonce")), "bm9uY2U");
    assert_int_equal(cvma_ear_decide(claims, (time_t)iat + 119, -1, &d, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_ear_decide(claims, (time_t)iat + 120, -1, &d, err, sizeof err),
                     CVMA_REJECTED);
    assert_non_null(strstr(err, "expired"));
    json_decref(claims);
    free(tok);
    /* ttl 0: no exp, as verify --sign-result signs */
    assert_int_equal(cvma_ear_sign_exp(&res, k, NULL, NULL, 0, &tok), CVMA_OK);
    assert_int_equal(cvma_ear_verify(tok, strlen(tok), k, &claims, err, sizeof err), CVMA_OK);
    assert_null(json_object_get(claims, "exp"));
    assert_null(json_object_get(claims, "eat_nonce"));
    json_decref(claims);
    free(tok);
    cvma_result_cleanup(&res);
    EVP_PKEY_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_nonce_sizes),
            cmocka_unit_test(test_nonce_every_bit_bound),
            cmocka_unit_test(test_nonce_mac_is_hmac_sha256),
            cmocka_unit_test(test_nonce_expiry),
            cmocka_unit_test(test_spent_memory),
            cmocka_unit_test(test_spent_memory_full),
            cmocka_unit_test(test_spent_redis_url),
            cmocka_unit_test(test_token_exp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
