/*
 * Provider registries: base64, JWS, the Merkle tree, the canonical leaf, the entries parser,
 * building and verifying registries, proofs, rollback, binding a result's platform (AMD
 * CHIP_ID, AMD VLEK, Intel PPID: the platform JSON is built by hand here) and the lookup
 * registry against tests/kds_server.py on 127.0.0.1.
 *
 * The lookup tests need CVMATTEST_SRC (to find the server script) and python3; without them
 * they are skipped with a message. Every loop is bounded; every address is loopback.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "collateral/cache.h"
#include "common/base64.h"
#include "common/verdict.h"
#include "crypto/jws.h"
#include "cvmattest/cvmattest.h"
#include "registry/registry.h"
#include "result/result.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "testutil.h"
#include "tu_server.h"
#include "verifier/bundle.h"

#define CHIP_A                                                                                   \
    "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b" \
    "564ea464cdce40c05f63c9b610c5068b006b5d"
#define CHIP_TURIN                                                                                \
    "0910b4f884ff4ba9000000000000000000000000000000000000000000000000000000000000000000000000000" \
    "0000000000000000000000000000000000000"
#define CHIP_OTHER                                                                                \
    "1111111111111111000000000000000000000000000000000000000000000000000000000000000000000000000" \
    "0000000000000000000000000000000000000"
#define PPID_A     "00112233445566778899aabbccddeeff"
#define PPID_OTHER "ffeeddccbbaa99887766554433221100"
#define CSP_A      "cc-us-east-2.amazonaws.com"

static const char fleet[] = "# test fleet\n"
                            "amd chip_id " CHIP_A " region=eu-1 rack=r7\n"
                            "amd chip_id " CHIP_TURIN " region=eu-2\n"
                            "\n"
                            "intel ppid " PPID_A " region=us-1\n"
                            "amd vlek_csp " CSP_A " region=us-east-2\n";

static EVP_PKEY *g_key256, *g_key256b, *g_key384;

static int group_setup(void **state)
{
    (void)state;
    g_key256 = cvma_jws_key_generate(CVMA_JWS_ES256);
    g_key256b = cvma_jws_key_generate(CVMA_JWS_ES256);
    g_key384 = cvma_jws_key_generate(CVMA_JWS_ES384);
    /* Loopback only, whatever proxy the environment names. */
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    return g_key256 && g_key256b && g_key384 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_key256);
    EVP_PKEY_free(g_key256b);
    EVP_PKEY_free(g_key384);
    return 0;
}

/* ================================ base64 ================================ */

static void test_base64_rfc4648_vectors(void **state)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const std[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    (void)state;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(in); i++) {
        char *s = cvma_base64_encode((const uint8_t *)in[i], strlen(in[i]), CVMA_B64_STD);
        char *u = cvma_base64_encode((const uint8_t *)in[i], strlen(in[i]), CVMA_B64_URL);
        uint8_t out[16];
        size_t n = 99;
        assert_string_equal(s, std[i]);
        assert_string_equal(u, url[i]);
        assert_true(cvma_base64_decode(s, strlen(s), CVMA_B64_STD, out, sizeof out, &n));
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(out, in[i], n);
        assert_true(cvma_base64_decode(u, strlen(u), CVMA_B64_URL, out, sizeof out, &n));
        assert_int_equal(n, strlen(in[i]));
        free(s);
        free(u);
    }
}

static void test_base64_url_alphabet_round_trips_every_byte(void **state)
{
    uint8_t all[256], back[256];
    size_t n = 0;
    (void)state;
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    char *u = cvma_base64_encode(all, sizeof all, CVMA_B64_URL);
    assert_non_null(u);
    assert_null(strpbrk(u, "+/="));
    assert_true(cvma_base64_decode(u, strlen(u), CVMA_B64_URL, back, sizeof back, &n));
    assert_int_equal(n, 256);
    assert_memory_equal(all, back, 256);
    free(u);
}

static void test_base64_decode_is_strict(void **state)
{
    /* Each is refused: whitespace, wrong alphabet, padding in url, bad padding, a lone
     * character, non-zero unused bits, '=' in the middle, too small an output. */
    static const struct {
        const char *s;
        enum cvma_b64 v;
    } bad[] = {
            {"Zm9v\n", CVMA_B64_STD}, {"Zm 9v", CVMA_B64_STD},    {"Zm9-", CVMA_B64_STD},
            {"Zm9/", CVMA_B64_URL},   {"Zg==", CVMA_B64_URL},     {"Zg=", CVMA_B64_STD},
            {"Zg", CVMA_B64_STD},     {"Z", CVMA_B64_URL},        {"Zh==", CVMA_B64_STD},
            {"Zh", CVMA_B64_URL},     {"Zm9=", CVMA_B64_STD},     {"Zm8", CVMA_B64_URL},
            {"Z===", CVMA_B64_STD},   {"Zg==Zg==", CVMA_B64_STD}, {"Zm=v", CVMA_B64_STD},
    };
    uint8_t out[16];
    size_t n = 7;
    (void)state;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        bool ok = cvma_base64_decode(bad[i].s, strlen(bad[i].s), bad[i].v, out, sizeof out, &n);
        if (strcmp(bad[i].s, "Zm8") == 0) {
            assert_true(ok); /* the one valid control: "fo" */
            continue;
        }
        if (ok) {
            fail_msg("accepted \"%s\"", bad[i].s);
        }
        assert_int_equal(n, 0);
    }
    assert_false(cvma_base64_decode("Zm9vYmFy", 8, CVMA_B64_STD, out, 5, &n));
}

/* ================================ JWS ================================ */

static char *sign(EVP_PKEY *k, const char *payload)
{
    char *t = NULL;
    assert_int_equal(
            cvma_jws_sign(k, "test+jws", "kid-1", (const uint8_t *)payload, strlen(payload), &t),
            CVMA_JWS_OK);
    return t;
}

static enum cvma_jws_error verify(const char *t, EVP_PKEY *k)
{
    struct cvma_jws j;
    enum cvma_jws_error e = cvma_jws_verify(t, strlen(t), k, &j, NULL, 0);
    cvma_jws_cleanup(&j);
    return e;
}

static void test_jws_es256_and_es384_round_trip(void **state)
{
    EVP_PKEY *keys[2] = {g_key256, g_key384};
    (void)state;
    for (int i = 0; i < 2; i++) {
        char *t = sign(keys[i], "{\"hello\":\"world\"}");
        struct cvma_jws j;
        char err[200];
        assert_int_equal(cvma_jws_verify(t, strlen(t), keys[i], &j, err, sizeof err), CVMA_JWS_OK);
        assert_int_equal(j.alg, i == 0 ? CVMA_JWS_ES256 : CVMA_JWS_ES384);
        assert_int_equal(j.sig.len, i == 0 ? 64 : 96); /* raw r||s, RFC 7518 §3.4 */
        assert_true(j.has_typ && j.has_kid);
        assert_string_equal(j.typ, "test+jws");
        assert_string_equal(j.kid, "kid-1");
        assert_int_equal(j.payload.len, 17);
        assert_memory_equal(j.payload.p, "{\"hello\":\"world\"}", 17);
        json_t *pl = cvma_jws_payload_json(&j, err, sizeof err);
        assert_non_null(pl);
        assert_string_equal(json_string_value(json_object_get(pl, "hello")), "world");
        json_decref(pl);
        cvma_jws_cleanup(&j);
        free(t);
    }
}

static void test_jws_refuses_every_flipped_byte(void **state)
{
    char *t = sign(g_key256, "{\"a\":1}");
    size_t n = strlen(t);
    (void)state;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '.') {
            continue;
        }
        char saved = t[i];
        t[i] = saved == 'A' ? 'B' : 'A';
        if (verify(t, g_key256) == CVMA_JWS_OK) {
            fail_msg("flipped character %zu accepted", i);
        }
        t[i] = saved;
    }
    assert_int_equal(verify(t, g_key256), CVMA_JWS_OK);
    free(t);
}

static void test_jws_refuses_wrong_key_and_curve(void **state)
{
    char *t = sign(g_key256, "{}");
    (void)state;
    assert_int_equal(verify(t, g_key256b), CVMA_JWS_BAD_SIGNATURE);
    assert_int_equal(verify(t, g_key384), CVMA_JWS_ALG_KEY_MISMATCH);
    free(t);
}

/* header.payload.signature from raw header JSON, payload and signature bytes. */
static char *forge(const char *hdr, const char *payload, const uint8_t *sig, size_t sig_len)
{
    char *h = cvma_base64_encode((const uint8_t *)hdr, strlen(hdr), CVMA_B64_URL);
    char *p = cvma_base64_encode((const uint8_t *)payload, strlen(payload), CVMA_B64_URL);
    char *s = cvma_base64_encode(sig, sig_len, CVMA_B64_URL);
    size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
    char *t = malloc(n);
    assert_non_null(t);
    snprintf(t, n, "%s.%s.%s", h, p, s);
    free(h);
    free(p);
    free(s);
    return t;
}

static void test_jws_refuses_alg_confusion(void **state)
{
    static const char *const hdrs[] = {
            "{\"alg\":\"none\"}",
            "{\"alg\":\"HS256\"}",
            "{\"alg\":\"RS256\"}",
            "{\"alg\":\"ES512\"}",
            "{\"alg\":\"EdDSA\"}",
            "{\"alg\":\"es256\"}",
            "{}",
            "{\"alg\":256}",
    };
    uint8_t sig[64];
    (void)state;
    memset(sig, 0x11, sizeof sig);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(hdrs); i++) {
        char *t = forge(hdrs[i], "{}", sig, sizeof sig);
        enum cvma_jws_error e = verify(t, g_key256);
        if (e == CVMA_JWS_OK) {
            fail_msg("accepted %s", hdrs[i]);
        }
        free(t);
    }
    /* "none" with an empty signature, the classic. */
    char *t = forge("{\"alg\":\"none\"}", "{}", sig, 0);
    assert_int_equal(verify(t, g_key256), CVMA_JWS_ALG_UNSUPPORTED);
    free(t);
    /* An HS256 token "signed" with the public key bytes as the HMAC secret. */
    t = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{}", sig, 32);
    assert_int_equal(verify(t, g_key256), CVMA_JWS_ALG_UNSUPPORTED);
    free(t);
}

static void test_jws_refuses_malformed_tokens(void **state)
{
    char *good = sign(g_key256, "{}");
    char buf[1024];
    uint8_t sig[96] = {1};
    (void)state;
    assert_int_equal(verify("", g_key256), CVMA_JWS_MALFORMED);
    assert_int_equal(verify("a.b", g_key256), CVMA_JWS_MALFORMED);
    snprintf(buf, sizeof buf, "%s.x", good); /* four parts (JWE-like) */
    assert_int_equal(verify(buf, g_key256), CVMA_JWS_MALFORMED);
    snprintf(buf, sizeof buf, "%s=", good); /* padding in base64url */
    assert_int_equal(verify(buf, g_key256), CVMA_JWS_MALFORMED);
    char *t = forge("{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false}", "{}", sig, 64);
    assert_int_equal(verify(t, g_key256), CVMA_JWS_MALFORMED);
    free(t);
    t = forge("{\"alg\":\"ES256\",\"alg\":\"ES256\"}", "{}", sig, 64);
    assert_int_equal(verify(t, g_key256), CVMA_JWS_MALFORMED);
    free(t);
    t = forge("[\"ES256\"]", "{}", sig, 64);
    assert_int_equal(verify(t, g_key256), CVMA_JWS_MALFORMED);
    free(t);
    t = forge("{\"alg\":\"ES256\",\"typ\":7}", "{}", sig, 64);
    assert_int_equal(verify(t, g_key256), CVMA_JWS_MALFORMED);
    free(t);
    /* A DER signature (what OpenSSL emits) is not a JWS signature. */
    t = forge("{\"alg\":\"ES256\"}", "{}", sig, 70);
    assert_int_equal(verify(t, g_key256), CVMA_JWS_BAD_SIGNATURE);
    free(t);
    free(good);
}

static void test_jws_keys_round_trip_through_pem(void **state)
{
    struct cvma_buf priv, pub;
    enum cvma_jws_alg alg;
    uint8_t a[32], b[32];
    (void)state;
    assert_true(cvma_jws_key_to_pem(g_key384, true, &priv));
    assert_true(cvma_jws_key_to_pem(g_key384, false, &pub));
    EVP_PKEY *k1 = cvma_jws_key_from_pem(priv.p, priv.len, true);
    EVP_PKEY *k2 = cvma_jws_key_from_pem(pub.p, pub.len, false);
    assert_non_null(k1);
    assert_non_null(k2);
    assert_null(cvma_jws_key_from_pem(pub.p, pub.len, true));
    assert_true(cvma_jws_key_alg(k2, &alg));
    assert_int_equal(alg, CVMA_JWS_ES384);
    assert_true(cvma_jws_key_thumbprint(k1, a));
    assert_true(cvma_jws_key_thumbprint(g_key384, b));
    assert_memory_equal(a, b, 32);
    char *t = sign(k1, "{}");
    assert_int_equal(verify(t, k2), CVMA_JWS_OK);
    free(t);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    cvma_buf_free(&priv);
    cvma_buf_free(&pub);
}

/* ================================ Merkle ================================ */

/* RFC 6962 §2.1 written out recursively, as an independent reference. */
static size_t largest_pow2_below(size_t n)
{
    size_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    return k;
}

static void ref_mth(const uint8_t (*d)[32], size_t n, uint8_t out[32])
{
    uint8_t l[32], r[32];
    if (n == 1) {
        memcpy(out, d[0], 32);
        return;
    }
    size_t k = largest_pow2_below(n);
    ref_mth(d, k, l);
    ref_mth(d + k, n - k, r);
    cvma_merkle_node_hash(l, r, out);
}

static size_t ref_path(size_t m, const uint8_t (*d)[32], size_t n, uint8_t path[][32])
{
    size_t len;
    if (n == 1) {
        return 0;
    }
    size_t k = largest_pow2_below(n);
    if (m < k) {
        len = ref_path(m, d, k, path);
        ref_mth(d + k, n - k, path[len]);
    } else {
        len = ref_path(m - k, d + k, n - k, path);
        ref_mth(d, k, path[len]);
    }
    return len + 1;
}

static void test_merkle_sizes_1_to_33_match_rfc6962_and_every_proof_verifies(void **state)
{
    uint8_t leaves[33][32], root[32], ref_root[32];
    uint8_t path[CVMA_REG_PATH_MAX][32], rpath[CVMA_REG_PATH_MAX][32];
    (void)state;
    for (size_t i = 0; i < 33; i++) {
        char s[16];
        snprintf(s, sizeof s, "leaf %zu", i);
        cvma_merkle_leaf_hash((const uint8_t *)s, strlen(s), leaves[i]);
    }
    for (size_t n = 1; n <= 33; n++) {
        struct cvma_merkle t;
        assert_int_equal(cvma_merkle_build_hashes(&t, (const uint8_t(*)[32])leaves, n), CVMA_OK);
        cvma_merkle_root(&t, root);
        ref_mth((const uint8_t(*)[32])leaves, n, ref_root);
        assert_memory_equal(root, ref_root, 32);
        for (size_t m = 0; m < n; m++) {
            size_t len = cvma_merkle_path(&t, m, path);
            size_t rlen = ref_path(m, (const uint8_t(*)[32])leaves, n, rpath);
            assert_int_equal(len, rlen);
            assert_memory_equal(path, rpath, len * 32);
            assert_true(cvma_merkle_verify(leaves[m], m, n, (const uint8_t(*)[32])path, len, root));
            /* Tampered: another leaf, index, size, root, path element; longer/shorter path. */
            assert_false(cvma_merkle_verify(leaves[(m + 1) % 33], m, n, (const uint8_t(*)[32])path,
                                            len, root));
            if (n > 1) {
                assert_false(cvma_merkle_verify(leaves[m], (m + 1) % n, n,
                                                (const uint8_t(*)[32])path, len, root));
            }
            /* (A wrong tree_size can still verify for some shapes: n = 3 and 4 give leaf 0
             * the same path. The binding therefore also compares tree_size with the
             * registry's leaf_count.) */
            assert_false(
                    cvma_merkle_verify(leaves[m], n, n, (const uint8_t(*)[32])path, len, root));
            uint8_t bad_root[32];
            memcpy(bad_root, root, 32);
            bad_root[31] ^= 1;
            assert_false(
                    cvma_merkle_verify(leaves[m], m, n, (const uint8_t(*)[32])path, len, bad_root));
            for (size_t e = 0; e < len; e++) {
                path[e][0] ^= 0x80;
                assert_false(
                        cvma_merkle_verify(leaves[m], m, n, (const uint8_t(*)[32])path, len, root));
                path[e][0] ^= 0x80;
            }
            memcpy(path[len], root, 32);
            assert_false(
                    cvma_merkle_verify(leaves[m], m, n, (const uint8_t(*)[32])path, len + 1, root));
            if (len > 0) {
                assert_false(cvma_merkle_verify(leaves[m], m, n, (const uint8_t(*)[32])path,
                                                len - 1, root));
            }
        }
        cvma_merkle_cleanup(&t);
    }
    /* A proof from one tree against the root of a tree with one more leaf. */
    {
        struct cvma_merkle a, b;
        uint8_t ra[32], rb[32];
        assert_int_equal(cvma_merkle_build_hashes(&a, (const uint8_t(*)[32])leaves, 9), CVMA_OK);
        assert_int_equal(cvma_merkle_build_hashes(&b, (const uint8_t(*)[32])leaves, 10), CVMA_OK);
        cvma_merkle_root(&a, ra);
        cvma_merkle_root(&b, rb);
        size_t len = cvma_merkle_path(&a, 3, path);
        assert_true(cvma_merkle_verify(leaves[3], 3, 9, (const uint8_t(*)[32])path, len, ra));
        assert_false(cvma_merkle_verify(leaves[3], 3, 9, (const uint8_t(*)[32])path, len, rb));
        assert_false(cvma_merkle_verify(leaves[3], 3, 10, (const uint8_t(*)[32])path, len, rb));
        cvma_merkle_cleanup(&a);
        cvma_merkle_cleanup(&b);
    }
    /* Degenerate inputs. */
    {
        struct cvma_merkle t;
        assert_int_equal(cvma_merkle_build_hashes(&t, (const uint8_t(*)[32])leaves, 0),
                         CVMA_E_USAGE);
        assert_false(cvma_merkle_verify(leaves[0], 0, 0, NULL, 0, leaves[0]));
        assert_true(cvma_merkle_verify(leaves[0], 0, 1, NULL, 0, leaves[0]));
    }
}

static void test_merkle_domain_separation(void **state)
{
    /* A node hash can never pass for a leaf hash of the same 64 bytes. */
    uint8_t a[32] = {1}, b[32] = {2}, node[32], leaf[32], both[64];
    (void)state;
    cvma_merkle_node_hash(a, b, node);
    memcpy(both, a, 32);
    memcpy(both + 32, b, 32);
    cvma_merkle_leaf_hash(both, 64, leaf);
    assert_memory_not_equal(node, leaf, 32);
}

/* ================================ canonical leaf ================================ */

static void test_canonical_leaf_encoding_is_byte_exact(void **state)
{
    struct cvma_reg_entries e;
    struct cvma_reg_label labels[2] = {{"region", "us-2"}, {"a", "b"}}; /* unsorted on purpose */
    uint8_t ppid[16], buf[CVMA_REG_LEAF_MAX], want[64], hash[32], want_hash[32];
    size_t n;
    (void)state;
    cvma_reg_entries_init(&e);
    tu_hex(PPID_A, ppid, 16);
    assert_int_equal(cvma_reg_entries_add(&e, CVMA_REG_INTEL, CVMA_REG_PPID, ppid, 16, labels, 2, 0,
                                          NULL, 0),
                     CVMA_OK);
    n = cvma_reg_leaf_encode(&e.v[0], buf, sizeof buf);
    /* docs/registry.md "Leaf" test vector 1. */
    tu_hex("010202001000112233445566778899aabbccddeeff020161016206726567696f6e0475732d32", want,
           38);
    assert_int_equal(n, 38);
    assert_memory_equal(buf, want, 38);
    cvma_reg_leaf_hash(&e.v[0], hash);
    tu_hex("fbd9c885cb0ced76be6d26ac0d10faa050d85bd525ae36da9d5682806989c02c", want_hash, 32);
    assert_memory_equal(hash, want_hash, 32);
    assert_int_equal(cvma_reg_leaf_encode(&e.v[0], buf, 37), 0); /* too small: nothing */

    /* Test vector 2: a VLEK cspID without labels. */
    assert_int_equal(cvma_reg_entries_add(&e, CVMA_REG_AMD, CVMA_REG_VLEK_CSP,
                                          (const uint8_t *)CSP_A, strlen(CSP_A), NULL, 0, 0, NULL,
                                          0),
                     CVMA_OK);
    cvma_reg_leaf_hash(&e.v[1], hash);
    tu_hex("f303c2b2250d411aae5515b1c77b6bc225dc665054c5500b76e326b869d77566", want_hash, 32);
    assert_memory_equal(hash, want_hash, 32);

    /* JSON round trip keeps the leaf bytes. */
    json_t *j = cvma_reg_entry_to_json(&e.v[0]);
    struct cvma_reg_entries back;
    cvma_reg_entries_init(&back);
    assert_int_equal(cvma_reg_entry_from_json(j, &back, NULL, 0), CVMA_OK);
    uint8_t buf2[CVMA_REG_LEAF_MAX];
    assert_int_equal(cvma_reg_leaf_encode(&back.v[0], buf2, sizeof buf2), 38);
    assert_memory_equal(buf2, want, 38);
    json_decref(j);
    cvma_reg_entries_cleanup(&back);
    cvma_reg_entries_cleanup(&e);
}

static void test_entry_json_refuses_non_canonical_forms(void **state)
{
    static const char *const bad[] = {
            "{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":"
            "\"00112233445566778899AABBCCDDEEFF\"}",
            "{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":\"0011\"}",
            "{\"vendor\":\"intel\",\"id_type\":\"chip_id\",\"id\":\"" PPID_A "\"}",
            "{\"vendor\":\"amd\",\"id_type\":\"vlek_csp\",\"id\":\"-bad\"}",
            "{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A "\",\"x\":1}",
            "{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A
            "\",\"labels\":{\"a\":1}}",
            "{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A
            "\",\"labels\":{\"a\":\"b c\"}}",
            "{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":"
            "\"00000000000000000000000000000000\"}",
            "[1]",
    };
    (void)state;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        struct cvma_reg_entries e;
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        cvma_reg_entries_init(&e);
        if (cvma_reg_entry_from_json(j, &e, NULL, 0) != CVMA_REJECTED) {
            fail_msg("accepted %s", bad[i]);
        }
        cvma_reg_entries_cleanup(&e);
        json_decref(j);
    }
}

/* ================================ entries file ================================ */

static void test_entries_parser_accepts_the_documented_forms(void **state)
{
    struct cvma_reg_entries e;
    char err[300];
    (void)state;
    cvma_reg_entries_init(&e);
    assert_int_equal(cvma_reg_entries_parse(fleet, strlen(fleet), "f", &e, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(e.n, 4);
    assert_int_equal(cvma_reg_entries_sort(&e, "f", err, sizeof err), CVMA_OK);
    /* Tree order: amd chip_id (2, by id), amd vlek_csp, intel ppid. */
    assert_int_equal(e.v[0].id_type, CVMA_REG_CHIP_ID);
    assert_int_equal(e.v[0].line, 3); /* 0910... sorts before 3ac3... */
    assert_int_equal(e.v[1].line, 2);
    assert_int_equal(e.v[2].id_type, CVMA_REG_VLEK_CSP);
    assert_int_equal(e.v[3].id_type, CVMA_REG_PPID);
    assert_int_equal(e.v[1].n_labels, 2);
    assert_string_equal(e.v[1].labels[0].key, "rack"); /* sorted */
    assert_string_equal(e.v[1].labels[1].value, "eu-1");
    cvma_reg_entries_cleanup(&e);

    /* CRLF, tabs, upper-case hex, trailing comment, no final newline. */
    static const char crlf[] = "intel\tppid  00112233445566778899AABBCCDDEEFF a=b # c\r\n"
                               "   # only a comment\r\n\r\n"
                               "intel ppid ffeeddccbbaa99887766554433221100";
    cvma_reg_entries_init(&e);
    assert_int_equal(cvma_reg_entries_parse(crlf, strlen(crlf), "f", &e, err, sizeof err), CVMA_OK);
    assert_int_equal(e.n, 2);
    assert_int_equal(e.v[1].line, 4);
    cvma_reg_entries_cleanup(&e);
}

static void test_entries_parser_names_each_malformed_line(void **state)
{
    static const struct {
        const char *line;
        const char *msg;
    } bad[] = {
            {"arm chip_id " CHIP_A, "unknown vendor"},
            {"amd ppid " PPID_A, "unknown id type"},
            {"intel chip_id " CHIP_A, "unknown id type"},
            {"amd", "missing id type"},
            {"amd chip_id", "missing the chip_id"},
            {"amd chip_id 0910b4f884ff4ba9", "128 hex digits"},
            {"amd chip_id " CHIP_A "00", "128 hex digits"},
            {"amd chip_id " PPID_A PPID_A PPID_A "0123456789abcdef0123456789abcdeg",
             "128 hex digits (the 64-byte field as reported; Turin: 16 digits of ID then 112 "
             "zeros): character 128 (0x67) is not a hex digit"},
            {"intel ppid 0011", "32 hex digits (16 bytes): got 4 characters"},
            {"intel ppid 00112233445566778899aabbccddeefg",
             "32 hex digits (16 bytes): character 32 (0x67) is not a hex digit"},
            {"intel ppid 0011223344556677z899aabbccddeeff",
             "32 hex digits (16 bytes): character 17 (0x7a) is not a hex digit"},
            {"amd vlek_csp -bad.example", "vlek_csp name"},
            {"amd vlek_csp CN=cc.example", "vlek_csp name"},
            {"intel ppid " PPID_A " region", "not a label"},
            {"intel ppid " PPID_A " region=", "value of 0"},
            {"intel ppid " PPID_A " =x", "label name of 0"},
            {"intel ppid " PPID_A " re/gion=x", "label name"},
            {"intel ppid " PPID_A " a=1 a=2", "given twice"},
            {"intel ppid " PPID_A " a=1 b=1 c=1 d=1 e=1 f=1 g=1 h=1 i=1 j=1 k=1 l=1 m=1 n=1 o=1 "
             "p=1 q=1",
             "more than 16 labels"},
            {"amd chip_id 0000000000000000000000000000000000000000000000000000000000000000000000000"
             "0000000000000000000000000000000000000000000000000000000",
             "all zero"},
            {"intel ppid 00000000000000000000000000000000", "all zero"},
            {"intel ppid " PPID_A " region=\xc3\xa9u", "printable ASCII"},
            {"intel ppid " PPID_A "\x01", "printable ASCII"},
    };
    char text[512], err[400], want[64];
    (void)state;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        struct cvma_reg_entries e;
        /* Two good lines first, so the bad one is line 3. */
        snprintf(text, sizeof text, "# ok\nintel ppid %s\n%s\n", PPID_OTHER, bad[i].line);
        cvma_reg_entries_init(&e);
        err[0] = '\0';
        enum cvma_status st =
                cvma_reg_entries_parse(text, strlen(text), "fleet.txt", &e, err, sizeof err);
        if (st != CVMA_E_USAGE) {
            fail_msg("line \"%s\" accepted", bad[i].line);
        }
        snprintf(want, sizeof want, "fleet.txt:3: ");
        if (strncmp(err, want, strlen(want)) != 0 || strstr(err, bad[i].msg) == NULL) {
            fail_msg("line \"%s\": message \"%s\" lacks \"%s%s\"", bad[i].line, err, want,
                     bad[i].msg);
        }
        cvma_reg_entries_cleanup(&e);
    }
    /* A line longer than the limit. */
    {
        size_t n = CVMA_REG_LINE_MAX + 10;
        char *long_line = malloc(n + 1);
        struct cvma_reg_entries e;
        assert_non_null(long_line);
        memset(long_line, 'a', n);
        long_line[n] = '\0';
        cvma_reg_entries_init(&e);
        assert_int_equal(cvma_reg_entries_parse(long_line, n, "x", &e, err, sizeof err),
                         CVMA_E_USAGE);
        assert_non_null(strstr(err, "x:1: line longer"));
        cvma_reg_entries_cleanup(&e);
        free(long_line);
    }
}

static void test_entries_duplicates_are_refused_naming_both_lines(void **state)
{
    static const char dup[] = "intel ppid " PPID_A " region=a\n"
                              "intel ppid " PPID_OTHER "\n"
                              "intel ppid 00112233445566778899AABBCCDDEEFF region=b\n";
    struct cvma_reg_entries e;
    char err[300];
    (void)state;
    cvma_reg_entries_init(&e);
    assert_int_equal(cvma_reg_entries_parse(dup, strlen(dup), "f.txt", &e, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_reg_entries_sort(&e, "f.txt", err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "f.txt:3: same platform as line 1"));
    cvma_reg_entries_cleanup(&e);
}

/* ================================ build / verify ================================ */

static time_t g_now;

/* Builds a registry of text's entries. tree/entries_out may be NULL. */
static char *build_reg(EVP_PKEY *key, const char *provider, uint64_t version, int64_t iat,
                       int64_t valid, bool include, const char *text,
                       struct cvma_reg_entries *entries_out, struct cvma_merkle *tree)
{
    struct cvma_reg_entries e;
    struct cvma_reg_build_opts o = {provider, version, iat, valid, include};
    char *jws = NULL, err[300];
    cvma_reg_entries_init(&e);
    assert_int_equal(cvma_reg_entries_parse(text, strlen(text), "t", &e, err, sizeof err), CVMA_OK);
    if (cvma_registry_build(&o, &e, key, &jws, tree, err, sizeof err) != CVMA_OK) {
        fail_msg("build: %s", err);
    }
    if (entries_out != NULL) {
        *entries_out = e;
    } else {
        cvma_reg_entries_cleanup(&e);
    }
    return jws;
}

static enum cvma_reason verify_reg(const char *jws, const struct cvma_reg_provider *p, size_t np,
                                   struct cvma_registry *out)
{
    struct cvma_verdict v;
    struct cvma_registry tmp;
    enum cvma_reason r = CVMA_R_COUNT_;
    cvma_verdict_init(&v);
    if (cvma_registry_verify((const uint8_t *)jws, strlen(jws), "t.jws", p, np, out ? out : &tmp,
                             &v) != CVMA_OK) {
        assert_true(v.n_reasons == 1);
        r = v.reasons[0].code;
    }
    if (out == NULL) {
        cvma_registry_cleanup(&tmp);
    }
    cvma_verdict_cleanup(&v);
    return r;
}

static void test_registry_build_then_verify_round_trip(void **state)
{
    struct cvma_reg_provider p = {"acme", g_key256};
    struct cvma_registry r;
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    uint8_t root[32];
    (void)state;
    for (int include = 0; include < 2; include++) {
        char *jws = build_reg(g_key256, "acme", 7, 1000, 86400, include, fleet, &e, &t);
        assert_int_equal(verify_reg(jws, &p, 1, &r), CVMA_R_COUNT_);
        assert_string_equal(r.provider, "acme");
        assert_int_equal(r.version, 7);
        assert_int_equal(r.iat, 1000);
        assert_int_equal(r.nbf, 1000);
        assert_int_equal(r.next_update, 1000 + 86400);
        assert_int_equal(r.leaf_count, 4);
        assert_int_equal(r.alg, CVMA_JWS_ES256);
        cvma_merkle_root(&t, root);
        assert_memory_equal(r.merkle_root, root, 32);
        assert_int_equal(r.has_entries, include);
        if (include) {
            assert_int_equal(r.entries.n, 4);
            assert_int_not_equal(cvma_reg_entries_find(&r.entries, &e.v[2]), SIZE_MAX);
        }
        /* A trailing newline (as the CLI writes) is fine. */
        size_t n = strlen(jws);
        char *nl = malloc(n + 2);
        assert_non_null(nl);
        memcpy(nl, jws, n);
        memcpy(nl + n, "\n", 2);
        assert_int_equal(verify_reg(nl, &p, 1, NULL), CVMA_R_COUNT_);
        free(nl);
        cvma_registry_cleanup(&r);
        cvma_merkle_cleanup(&t);
        cvma_reg_entries_cleanup(&e);
        free(jws);
    }
    /* ES384 providers work the same. */
    struct cvma_reg_provider p384 = {"acme", g_key384};
    char *jws = build_reg(g_key384, "acme", 1, 1000, 10, false, fleet, NULL, NULL);
    assert_int_equal(verify_reg(jws, &p384, 1, NULL), CVMA_R_COUNT_);
    free(jws);
}

/*
 * A registry verifies only under its provider's key and that key's alg: a header whose alg is
 * "none" or HS256 over a valid registry's payload, an ES384 header over that registry's ES256
 * signature, and a registry signed ES384 by another key for a P-256 provider, are all
 * REGISTRY_SIGNATURE_INVALID. The header's kid chooses no key: acme's registry signed by
 * other's key, its kid naming that key, is refused though other is a provider too.
 */
static void test_registry_verify_refuses_alg_confusion(void **state)
{
    struct cvma_reg_provider p[2] = {{"other", g_key256b}, {"acme", g_key256}};
    struct cvma_jws j;
    (void)state;
    char *jws = build_reg(g_key256, "acme", 1, 1000, 100, true, fleet, NULL, NULL);
    assert_int_equal(verify_reg(jws, p, 2, NULL), CVMA_R_COUNT_);
    assert_int_equal(cvma_jws_decode(jws, strlen(jws), &j, NULL, 0), CVMA_JWS_OK);
    char *pl = tu_strndup(j.payload.p, j.payload.len);
    static const struct {
        const char *hdr;
        bool with_sig;
    } forged[] = {
            {"{\"alg\":\"none\",\"typ\":\"" CVMA_REG_JWS_TYP "\"}", false},
            {"{\"alg\":\"none\",\"typ\":\"" CVMA_REG_JWS_TYP "\"}", true},
            {"{\"alg\":\"HS256\",\"typ\":\"" CVMA_REG_JWS_TYP "\"}", true},
            {"{\"alg\":\"ES384\",\"typ\":\"" CVMA_REG_JWS_TYP "\"}", true},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(forged); i++) {
        char *t = forge(forged[i].hdr, pl, j.sig.p, forged[i].with_sig ? j.sig.len : 0);
        if (verify_reg(t, p, 2, NULL) != CVMA_R_REGISTRY_SIGNATURE_INVALID) {
            fail_msg("%s%s: not REGISTRY_SIGNATURE_INVALID", forged[i].hdr,
                     forged[i].with_sig ? " with the ES256 signature" : "");
        }
        free(t);
    }
    free(pl);
    cvma_jws_cleanup(&j);
    free(jws);

    jws = build_reg(g_key384, "acme", 1, 1000, 100, true, fleet, NULL, NULL);
    assert_int_equal(verify_reg(jws, p, 2, NULL), CVMA_R_REGISTRY_SIGNATURE_INVALID);
    free(jws);
    jws = build_reg(g_key256b, "acme", 1, 1000, 100, true, fleet, NULL, NULL);
    assert_int_equal(verify_reg(jws, p, 2, NULL), CVMA_R_REGISTRY_SIGNATURE_INVALID);
    free(jws);
}

static void test_registry_verify_names_each_failure(void **state)
{
    struct cvma_reg_provider p[2] = {{"other", g_key256b}, {"acme", g_key256}};
    struct cvma_reg_provider wrong = {"acme", g_key256b};
    (void)state;
    char *jws = build_reg(g_key256, "acme", 1, 1000, 100, true, fleet, NULL, NULL);
    assert_int_equal(verify_reg(jws, p, 2, NULL), CVMA_R_COUNT_);
    assert_int_equal(verify_reg(jws, p, 1, NULL), CVMA_R_REGISTRY_UNKNOWN_PROVIDER);
    assert_int_equal(verify_reg(jws, &wrong, 1, NULL), CVMA_R_REGISTRY_SIGNATURE_INVALID);
    assert_int_equal(verify_reg("garbage", p, 2, NULL), CVMA_R_REGISTRY_MALFORMED);
    /* The payload's provider selects the key by its whole name: acme's key signing for
     * "acme-eu" or "acm" (names acme's begins with, or that begin acme's) is no provider's
     * registry, and acme's key never vouches for another provider's name. */
    {
        static const char *const names[] = {"acme-eu", "acm", "acmE"};
        struct cvma_reg_provider both[2] = {{"acme", g_key256}, {"acme-eu", g_key256b}};
        for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
            char *other = build_reg(g_key256, names[i], 1, 1000, 100, true, fleet, NULL, NULL);
            assert_int_equal(verify_reg(other, &p[1], 1, NULL), CVMA_R_REGISTRY_UNKNOWN_PROVIDER);
            free(other);
        }
        char *eu = build_reg(g_key256, "acme-eu", 1, 1000, 100, true, fleet, NULL, NULL);
        assert_int_equal(verify_reg(eu, both, 2, NULL), CVMA_R_REGISTRY_SIGNATURE_INVALID);
        free(eu);
    }

    /* Tampered payload: re-encode the payload with another version, keep the signature. */
    {
        struct cvma_jws j;
        assert_int_equal(cvma_jws_decode(jws, strlen(jws), &j, NULL, 0), CVMA_JWS_OK);
        char *pl = tu_strndup(j.payload.p, j.payload.len);
        char *ver = strstr(pl, "\"version\":1");
        assert_non_null(ver);
        ver[10] = '9';
        char *b64 = cvma_base64_encode((const uint8_t *)pl, strlen(pl), CVMA_B64_URL);
        const char *d1 = strchr(jws, '.'), *d2 = strrchr(jws, '.');
        size_t n = (size_t)(d1 - jws) + 1 + strlen(b64) + strlen(d2) + 1;
        char *t = malloc(n);
        assert_non_null(t);
        snprintf(t, n, "%.*s.%s%s", (int)(d1 - jws), jws, b64, d2);
        assert_int_equal(verify_reg(t, p, 2, NULL), CVMA_R_REGISTRY_SIGNATURE_INVALID);
        free(t);
        free(b64);
        free(pl);
        cvma_jws_cleanup(&j);
    }
    free(jws);

    /* Signed by the right key but not a registry: wrong typ, unknown member, bad root,
     * entries that do not hash to the root, out of order. */
    {
        static const char *const payloads[] = {
                "{\"format\":\"cvmattest-registry/1\",\"provider\":\"acme\",\"version\":1,"
                "\"iat\":1,\"nbf\":1,\"next_update\":2,\"leaf_count\":1,\"merkle_root\":"
                "\"0000000000000000000000000000000000000000000000000000000000000000\","
                "\"extra\":1}",
                "{\"format\":\"cvmattest-registry/2\",\"provider\":\"acme\",\"version\":1,"
                "\"iat\":1,\"nbf\":1,\"next_update\":2,\"leaf_count\":1,\"merkle_root\":"
                "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
                "{\"format\":\"cvmattest-registry/1\",\"provider\":\"acme\",\"version\":1,"
                "\"iat\":1,\"nbf\":1,\"next_update\":2,\"leaf_count\":1,\"merkle_root\":\"00\"}",
                "{\"format\":\"cvmattest-registry/1\",\"provider\":\"acme\",\"version\":1,"
                "\"iat\":1,\"nbf\":3,\"next_update\":2,\"leaf_count\":1,\"merkle_root\":"
                "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
                "{\"format\":\"cvmattest-registry/1\",\"provider\":\"acme\",\"version\":1.5,"
                "\"iat\":1,\"nbf\":1,\"next_update\":2,\"leaf_count\":1,\"merkle_root\":"
                "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
                "{\"format\":\"cvmattest-registry/1\",\"provider\":\"acme\",\"version\":1,"
                "\"iat\":1,\"nbf\":1,\"next_update\":2,\"leaf_count\":1,\"merkle_root\":"
                "\"0000000000000000000000000000000000000000000000000000000000000000\","
                "\"entries\":[{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A "\"}]}",
                "{\"provider\":\"acme\",\"version\":1,\"version\":2}",
                "[\"acme\"]",
                /* a time past 9999-12-31T23:59:59Z, which RFC 3339 cannot write */
                "{\"format\":\"cvmattest-registry/1\",\"provider\":\"acme\",\"version\":1,"
                "\"iat\":1,\"nbf\":1,\"next_update\":253402300800,\"leaf_count\":1,"
                "\"merkle_root\":"
                "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
        };
        for (size_t i = 0; i < CVMA_ARRAY_LEN(payloads); i++) {
            char *t = NULL;
            assert_int_equal(cvma_jws_sign(g_key256, CVMA_REG_JWS_TYP, NULL,
                                           (const uint8_t *)payloads[i], strlen(payloads[i]), &t),
                             CVMA_JWS_OK);
            if (verify_reg(t, p, 2, NULL) != CVMA_R_REGISTRY_MALFORMED) {
                fail_msg("payload %zu not refused as REGISTRY_MALFORMED", i);
            }
            free(t);
        }
        /* The same platform listed twice (other labels), under the root of exactly those
         * entries: refused for the duplicate itself, whichever of the two a lookup would
         * find. */
        {
            static const char *const dup[] = {
                    "{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A
                    "\",\"labels\":{\"region\":\"eu\"}}",
                    "{\"vendor\":\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A
                    "\",\"labels\":{\"region\":\"us\"}}",
            };
            struct cvma_reg_entries e;
            struct cvma_merkle t;
            uint8_t root[32];
            char hex[65], pl[1024], err[200], *tok = NULL;
            cvma_reg_entries_init(&e);
            for (size_t i = 0; i < 2; i++) {
                json_t *j = json_loads(dup[i], 0, NULL);
                assert_int_equal(cvma_reg_entry_from_json(j, &e, err, sizeof err), CVMA_OK);
                json_decref(j);
            }
            assert_int_equal(cvma_merkle_build(&t, &e), CVMA_OK);
            cvma_merkle_root(&t, root);
            cvma_hex_encode(root, 32, hex, sizeof hex);
            snprintf(pl, sizeof pl,
                     "{\"format\":\"cvmattest-registry/1\",\"provider\":\"acme\",\"version\":1,"
                     "\"iat\":1,\"nbf\":1,\"next_update\":2,\"leaf_count\":2,\"merkle_root\":"
                     "\"%s\",\"entries\":[%s,%s]}",
                     hex, dup[0], dup[1]);
            assert_int_equal(cvma_jws_sign(g_key256, CVMA_REG_JWS_TYP, NULL, (const uint8_t *)pl,
                                           strlen(pl), &tok),
                             CVMA_JWS_OK);
            assert_int_equal(verify_reg(tok, p, 2, NULL), CVMA_R_REGISTRY_MALFORMED);
            free(tok);
            cvma_merkle_cleanup(&t);
            cvma_reg_entries_cleanup(&e);
        }
        /* A valid registry payload, signed by the provider's key, under another typ: a token
         * of another kind the key signed is never read as a registry. */
        {
            char *good = build_reg(g_key256, "acme", 1, 1000, 100, true, fleet, NULL, NULL);
            struct cvma_jws j;
            assert_int_equal(cvma_jws_decode(good, strlen(good), &j, NULL, 0), CVMA_JWS_OK);
            static const char *const typs[] = {"JWT", "cvmattest-registry+jwsx"};
            for (size_t i = 0; i < CVMA_ARRAY_LEN(typs); i++) {
                char *tok = NULL;
                assert_int_equal(
                        cvma_jws_sign(g_key256, typs[i], NULL, j.payload.p, j.payload.len, &tok),
                        CVMA_JWS_OK);
                assert_int_equal(verify_reg(tok, p, 2, NULL), CVMA_R_REGISTRY_MALFORMED);
                free(tok);
            }
            /* the same payload under the registry typ verifies: only the typ differs */
            char *tok = NULL;
            assert_int_equal(cvma_jws_sign(g_key256, CVMA_REG_JWS_TYP, NULL, j.payload.p,
                                           j.payload.len, &tok),
                             CVMA_JWS_OK);
            assert_int_equal(verify_reg(tok, p, 2, NULL), CVMA_R_COUNT_);
            free(tok);
            cvma_jws_cleanup(&j);
            free(good);
        }
        /* Everything right but the typ: a token of another kind (an EAR result). */
        char *t = NULL;
        assert_int_equal(cvma_jws_sign(g_key256, "JWT", NULL, (const uint8_t *)payloads[0],
                                       strlen(payloads[0]), &t),
                         CVMA_JWS_OK);
        assert_int_equal(verify_reg(t, p, 2, NULL), CVMA_R_REGISTRY_MALFORMED);
        free(t);
    }
}

static void test_registry_time_window(void **state)
{
    struct cvma_reg_provider p = {"acme", g_key256};
    struct cvma_registry r;
    struct cvma_verdict v;
    (void)state;
    char *jws = build_reg(g_key256, "acme", 1, 1000, 100, false, fleet, NULL, NULL);
    assert_int_equal(verify_reg(jws, &p, 1, &r), CVMA_R_COUNT_);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_registry_check_time(&r, 1000, "t", &v), CVMA_OK);
    assert_int_equal(cvma_registry_check_time(&r, 1099, "t", &v), CVMA_OK);
    assert_int_equal(cvma_registry_check_time(&r, 1100, "t", &v), CVMA_REJECTED);
    assert_int_equal(v.reasons[0].code, CVMA_R_REGISTRY_EXPIRED);
    assert_int_equal(cvma_registry_check_time(&r, 999, "t", &v), CVMA_REJECTED);
    assert_int_equal(v.reasons[1].code, CVMA_R_REGISTRY_NOT_YET_VALID);
    cvma_verdict_cleanup(&v);
    cvma_registry_cleanup(&r);
    free(jws);
}

/* ================================ proofs ================================ */

static void test_proof_json_round_trip_and_tampering(void **state)
{
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    char err[300];
    (void)state;
    char *jws = build_reg(g_key256, "acme", 1, 1000, 100, false, fleet, &e, &t);
    for (size_t i = 0; i < e.n; i++) {
        json_t *j = cvma_reg_proof_to_json(i % 2 ? "acme" : NULL, &e, &t, i);
        char *s = json_dumps(j, 0);
        struct cvma_reg_proof pr;
        assert_int_equal(cvma_reg_proof_parse((const uint8_t *)s, strlen(s), &pr, err, sizeof err),
                         CVMA_OK);
        assert_true(cvma_reg_proof_check(&pr));
        assert_int_equal(pr.has_provider, i % 2);
        assert_int_equal(pr.leaf_index, i);
        assert_int_equal(pr.tree_size, 4);
        assert_int_equal(cvma_reg_entry_cmp(&pr.leaf.v[0], &e.v[i]), 0);
        /* A label changed in the leaf: the leaf hash differs, the proof fails. */
        pr.leaf_index ^= 1;
        assert_false(cvma_reg_proof_check(&pr));
        pr.leaf_index ^= 1;
        pr.path[0][5] ^= 4;
        assert_false(cvma_reg_proof_check(&pr));
        cvma_reg_proof_cleanup(&pr);
        free(s);
        json_decref(j);
    }
    static const char *const bad[] = {
            "{}",
            "not json",
            "{\"format\":\"cvmattest-registry-proof/1\",\"provider\":null,\"leaf\":{\"vendor\":"
            "\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A "\"},\"leaf_index\":4,"
            "\"tree_size\":4,\"audit_path\":[],\"merkle_root\":"
            "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
            "{\"format\":\"cvmattest-registry-proof/1\",\"provider\":null,\"leaf\":{\"vendor\":"
            "\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A "\"},\"leaf_index\":0,"
            "\"tree_size\":4,\"audit_path\":[\"00\"],\"merkle_root\":"
            "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
            "{\"format\":\"cvmattest-registry-proof/1\",\"provider\":\"a b\",\"leaf\":{\"vendor\":"
            "\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A "\"},\"leaf_index\":0,"
            "\"tree_size\":4,\"audit_path\":[],\"merkle_root\":"
            "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
            "{\"format\":\"cvmattest-registry-proof/1\",\"provider\":null,\"leaf\":{\"vendor\":"
            "\"intel\",\"id_type\":\"ppid\",\"id\":\"" PPID_A "\"},\"leaf_index\":-1,"
            "\"tree_size\":4,\"audit_path\":[],\"merkle_root\":"
            "\"0000000000000000000000000000000000000000000000000000000000000000\",\"x\":0}",
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        struct cvma_reg_proof pr;
        if (cvma_reg_proof_parse((const uint8_t *)bad[i], strlen(bad[i]), &pr, err, sizeof err) !=
            CVMA_REJECTED) {
            fail_msg("proof %zu accepted", i);
        }
    }
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    free(jws);
}

/* ================================ binding ================================ */

struct bfx {
    char *tmp;
    char *cache;
    struct cvma_registry_set *rs;
    struct cvma_result res;
    struct cvma_registry_bind_opts o;
};

static void bfx_init(struct bfx *f, json_t *platform)
{
    memset(f, 0, sizeof *f);
    f->tmp = tu_tmpdir();
    f->cache = tu_path(f->tmp, "cache");
    f->rs = cvma_registry_set_new();
    assert_non_null(f->rs);
    cvma_result_init(&f->res, "sev-snp", g_now);
    (void)cvma_platform_from_json(platform, &f->res.platform); /* lenient: see the header */
    json_decref(platform);
    f->o.at = g_now;
    f->o.cache_dir = f->cache;
    f->o.http.max_retries = -1;
    f->o.http.connect_timeout_ms = 2000;
    f->o.http.timeout_ms = 5000;
}

/* Same cache directory, fresh result (for a second verification). */
static void bfx_next(struct bfx *f, json_t *platform)
{
    cvma_result_cleanup(&f->res);
    cvma_result_init(&f->res, "sev-snp", g_now);
    (void)cvma_platform_from_json(platform, &f->res.platform);
    json_decref(platform);
}

static void bfx_cleanup(struct bfx *f)
{
    cvma_registry_set_free(f->rs);
    cvma_result_cleanup(&f->res);
    tu_rmtree(f->tmp);
    free(f->cache);
    free(f->tmp);
}

static void add_provider(struct bfx *f, const char *name, EVP_PKEY *k)
{
    char err[200];
    assert_int_equal(cvma_registry_set_add_provider_key(f->rs, name, k, err, sizeof err), CVMA_OK);
}

static void add_reg(struct bfx *f, const char *jws, const char *origin)
{
    assert_int_equal(
            cvma_registry_set_add_registry_mem(f->rs, (const uint8_t *)jws, strlen(jws), origin),
            CVMA_OK);
}

static void add_proof_json(struct bfx *f, json_t *proof, const char *origin)
{
    char *s = json_dumps(proof, 0);
    assert_non_null(s);
    assert_int_equal(cvma_registry_set_add_proof_mem(f->rs, (const uint8_t *)s, strlen(s), origin),
                     CVMA_OK);
    free(s);
    json_decref(proof);
}

static json_t *plat(const char *vendor, const char *type, const char *id)
{
    json_t *p = json_pack("{s:s, s:s, s:o, s:n, s:{}}", "vendor", vendor, "id_type", type, "id",
                          id ? json_string(id) : json_null(), "provider", "labels");
    assert_non_null(p);
    return p;
}

static enum cvma_status do_bind(struct bfx *f)
{
    return cvma_registry_bind(f->rs, &f->o, &f->res);
}

static void assert_first_error(struct bfx *f, enum cvma_reason want)
{
    enum cvma_reason got = cvma_verdict_first_error(&f->res.verdict);
    if (got != want) {
        fail_msg("first error %s, want %s (%s)", cvma_reason_name(got), cvma_reason_name(want),
                 f->res.verdict.n_reasons ? f->res.verdict.reasons[0].detail : "no reasons");
    }
}

static void assert_bound(struct bfx *f, const char *provider, const char *label, const char *value)
{
    json_t *pl = cvma_platform_to_json(&f->res.platform);
    assert_false(cvma_verdict_has_error(&f->res.verdict));
    assert_string_equal(json_string_value(json_object_get(pl, "provider")), provider);
    if (label != NULL) {
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(pl, "labels"), label)), value);
    }
    json_decref(pl);
}

static char *valid_reg(const char *provider, EVP_PKEY *k, uint64_t version, bool include,
                       struct cvma_reg_entries *e, struct cvma_merkle *t)
{
    return build_reg(k, provider, version, (int64_t)g_now - 100, 86400, include, fleet, e, t);
}

static size_t index_of(const struct cvma_reg_entries *e, int type, const char *id_hex_or_name)
{
    for (size_t i = 0; i < e->n; i++) {
        char s[300];
        cvma_reg_entry_id_string(&e->v[i], s, sizeof s);
        if (e->v[i].id_type == type && strcmp(s, id_hex_or_name) == 0) {
            return i;
        }
    }
    fail_msg("%s not in the fleet", id_hex_or_name);
    return 0;
}

static void test_bind_empty_set_does_nothing(void **state)
{
    struct bfx f;
    (void)state;
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256); /* a key alone asks for nothing */
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_false(f.res.platform.bound); /* JSON "provider": null */
    assert_int_equal(f.res.verdict.n_reasons, 0);
    bfx_cleanup(&f);
}

static void test_bind_amd_chip_id_from_included_entries(void **state)
{
    struct bfx f;
    (void)state;
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    char *jws = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    add_provider(&f, "acme", g_key256);
    add_reg(&f, jws, "acme.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "eu-1");
    {
        json_t *pl = cvma_platform_to_json(&f.res.platform);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(pl, "labels"), "rack")), "r7");
        json_decref(pl);
    }
    /* The same set binds a second result (registries verified once, state already there). */
    bfx_next(&f, plat("amd", "chip_id", CHIP_TURIN));
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "eu-2");
    /* Not listed: another chip. */
    bfx_next(&f, plat("amd", "chip_id", CHIP_OTHER));
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED);
    assert_false(f.res.platform.bound); /* JSON "provider": null */
    free(jws);
    bfx_cleanup(&f);
}

static void test_bind_amd_chip_id_from_a_proof(void **state)
{
    struct bfx f;
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    (void)state;
    bfx_init(&f, plat("amd", "chip_id", CHIP_TURIN));
    char *jws = valid_reg("acme", g_key256, 1, false, &e, &t);
    add_provider(&f, "acme", g_key256);
    add_reg(&f, jws, "acme.jws");
    /* A proof for another platform is ignored; this platform's proof binds it. */
    add_proof_json(&f, cvma_reg_proof_to_json("acme", &e, &t, index_of(&e, 1, CHIP_A)), "a.json");
    add_proof_json(&f, cvma_reg_proof_to_json("acme", &e, &t, index_of(&e, 1, CHIP_TURIN)),
                   "t.json");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "eu-2");
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    free(jws);
    bfx_cleanup(&f);
}

static void test_bind_amd_vlek_by_csp_name(void **state)
{
    struct bfx f;
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    (void)state;
    /* Included entries. */
    bfx_init(&f, plat("amd", "vlek", CSP_A));
    char *jws = valid_reg("acme", g_key256, 1, true, &e, &t);
    add_provider(&f, "acme", g_key256);
    add_reg(&f, jws, "acme.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "us-east-2");
    /* Another CSP is not listed; exact match only. */
    bfx_next(&f, plat("amd", "vlek", "CC-US-EAST-2.amazonaws.com"));
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED);
    /* A VLEK report that also carries a CHIP_ID the registry lists. */
    json_t *p = plat("amd", "vlek", "cc-eu-west-1.example.net");
    json_object_set_new(p, "chip_id", json_string(CHIP_A));
    bfx_next(&f, p);
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "eu-1");
    bfx_cleanup(&f);

    /* By proof. */
    bfx_init(&f, plat("amd", "vlek", CSP_A));
    add_provider(&f, "acme", g_key256);
    char *jws2 = valid_reg("acme", g_key256, 1, false, NULL, NULL);
    add_reg(&f, jws2, "acme.jws");
    add_proof_json(&f, cvma_reg_proof_to_json(NULL, &e, &t, index_of(&e, 3, CSP_A)), "v.json");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "us-east-2");
    bfx_cleanup(&f);
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    free(jws);
    free(jws2);
}

static void test_bind_intel_ppid(void **state)
{
    struct bfx f;
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    (void)state;
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    char *jws = valid_reg("acme", g_key384, 1, false, &e, &t);
    add_provider(&f, "acme", g_key384);
    add_reg(&f, jws, "acme.jws");
    add_proof_json(&f, cvma_reg_proof_to_json("acme", &e, &t, index_of(&e, 2, PPID_A)), "p.json");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "us-1");
    bfx_next(&f, plat("intel", "ppid", PPID_OTHER));
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED);
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    free(jws);
    bfx_cleanup(&f);
}

static void test_bind_picks_the_provider_that_lists_the_platform(void **state)
{
    struct bfx f;
    (void)state;
    bfx_init(&f, plat("intel", "ppid", PPID_OTHER));
    static const char other_fleet[] = "intel ppid " PPID_OTHER " region=ap-1\n";
    char *a = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    char *b = build_reg(g_key256b, "globex", 4, (int64_t)g_now - 5, 3600, true, other_fleet, NULL,
                        NULL);
    add_provider(&f, "acme", g_key256);
    add_provider(&f, "globex", g_key256b);
    add_reg(&f, a, "acme.jws");
    add_reg(&f, b, "globex.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "globex", "region", "ap-1");
    free(a);
    free(b);
    bfx_cleanup(&f);
}

/* A fresh set with acme's and globex's keys, no rollback state, a result for platform, then
 * registry a (named a_name), then b, and the proof (may be NULL). */
static enum cvma_status bind_anew(struct bfx *f, json_t *platform, const char *a,
                                  const char *a_name, const char *b, const char *b_name,
                                  json_t *proof)
{
    cvma_registry_set_free(f->rs);
    assert_true(tu_rmtree(f->cache));
    assert_non_null(f->rs = cvma_registry_set_new());
    add_provider(f, "acme", g_key256);
    add_provider(f, "globex", g_key256b);
    bfx_next(f, json_incref(platform));
    add_reg(f, a, a_name);
    add_reg(f, b, b_name);
    if (proof != NULL) {
        add_proof_json(f, json_incref(proof), "proof.json");
    }
    return do_bind(f);
}

/* Binds with registries a ("a.jws") and b ("b.jws") in both orders, which must give the same
 * result (status, reasons, platform); returns the status, and f holds the result of b, a. */
static enum cvma_status bind_both_orders(struct bfx *f, json_t *platform, const char *a,
                                         const char *b, json_t *proof)
{
    enum cvma_status st = bind_anew(f, platform, a, "a.jws", b, "b.jws", proof);
    json_t *r1 = cvma_result_to_json(&f->res), *r2;
    assert_non_null(r1);
    assert_int_equal(bind_anew(f, platform, b, "b.jws", a, "a.jws", proof), st);
    assert_non_null(r2 = cvma_result_to_json(&f->res));
    if (!json_equal(r1, r2)) {
        char *s1 = json_dumps(r1, JSON_INDENT(1)), *s2 = json_dumps(r2, JSON_INDENT(1));
        fail_msg("the order of the registries changed the result:\n%s\n%s", s1, s2);
    }
    json_decref(r1);
    json_decref(r2);
    return st;
}

static void test_bind_refuses_a_platform_two_providers_list(void **state)
{
    struct bfx f;
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    (void)state;
    static const char g_fleet[] = "amd chip_id " CHIP_A " region=us-1\n"
                                  "intel ppid " PPID_A " region=us-2\n";
    static const char g_chip_turin[] = "amd chip_id " CHIP_TURIN " region=us-3\n";
    char *acme = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    char *globex = build_reg(g_key256b, "globex", 1, (int64_t)g_now - 100, 86400, true, g_fleet,
                             NULL, NULL);
    json_t *chip_a = plat("amd", "chip_id", CHIP_A);

    /* The same CHIP_ID: bound to neither, whatever the order, both providers named. */
    bfx_init(&f, json_object());
    add_provider(&f, "acme", g_key256);
    add_provider(&f, "globex", g_key256b);
    assert_int_equal(bind_both_orders(&f, chip_a, acme, globex, NULL), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROVIDER_CONFLICT);
    assert_false(f.res.platform.bound);
    assert_int_equal(f.res.platform.n_labels, 0);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail,
                           "amd chip_id 3ac3fe21e13fb0990eb28a802e3fb6a2... is listed by 2 "
                           "providers, so it is bound to none"));
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "acme (a.jws); globex (b.jws)"));

    /* The same PPID. */
    json_t *ppid = plat("intel", "ppid", PPID_A);
    assert_int_equal(bind_both_orders(&f, ppid, acme, globex, NULL), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROVIDER_CONFLICT);
    assert_false(f.res.platform.bound);

    /* A VLEK platform: acme lists its cspID, globex the CHIP_ID it carries. */
    json_t *vlek = plat("amd", "vlek", CSP_A);
    json_object_set_new(vlek, "chip_id", json_string(CHIP_A));
    assert_int_equal(bind_both_orders(&f, vlek, acme, globex, NULL), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROVIDER_CONFLICT);
    assert_false(f.res.platform.bound);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail,
                           "acme (a.jws); globex, by amd chip_id 3ac3fe21"));

    /* One provider's listing of a VLEK platform by both its identifiers binds, with the
     * cspID entry's labels whichever is found first. */
    json_t *vlek_turin = plat("amd", "vlek", CSP_A);
    json_object_set_new(vlek_turin, "chip_id", json_string(CHIP_TURIN));
    char *acme_v2 = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    assert_int_equal(bind_both_orders(&f, vlek_turin, acme, acme_v2, NULL), CVMA_OK);
    assert_bound(&f, "acme", "region", "us-east-2");

    /* Listed by globex's registry and not acme's: globex, in either order. */
    json_t *chip_other = plat("amd", "chip_id", CHIP_OTHER);
    static const char g_other[] = "amd chip_id " CHIP_OTHER " region=us-9\n";
    char *globex_other = build_reg(g_key256b, "globex", 1, (int64_t)g_now - 100, 86400, true,
                                   g_other, NULL, NULL);
    assert_int_equal(bind_both_orders(&f, chip_other, acme, globex_other, NULL), CVMA_OK);
    assert_bound(&f, "globex", "region", "us-9");
    bfx_cleanup(&f);

    /* Root-only registries of both over one tree: the proof names acme, and globex's signed
     * registry holds its leaf all the same. */
    char *acme_root = valid_reg("acme", g_key256, 1, false, &e, &t);
    char *globex_root = build_reg(g_key256b, "globex", 1, (int64_t)g_now - 100, 86400, false, fleet,
                                  NULL, NULL);
    json_t *proof = cvma_reg_proof_to_json("acme", &e, &t, index_of(&e, 1, CHIP_TURIN));
    json_t *turin = plat("amd", "chip_id", CHIP_TURIN);
    bfx_init(&f, json_object());
    add_provider(&f, "acme", g_key256);
    add_provider(&f, "globex", g_key256b);
    assert_int_equal(bind_both_orders(&f, turin, acme_root, globex_root, proof), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROVIDER_CONFLICT);
    assert_false(f.res.platform.bound);
    /* ... and so is globex's registry that lists the chip by its included entries */
    char *globex_turin = build_reg(g_key256b, "globex", 1, (int64_t)g_now - 100, 86400, true,
                                   g_chip_turin, NULL, NULL);
    assert_int_equal(bind_both_orders(&f, turin, acme_root, globex_turin, proof), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROVIDER_CONFLICT);
    /* One provider's two registries of one version and root, one root-only: no conflict. */
    assert_int_equal(bind_both_orders(&f, turin, acme_root, acme, proof), CVMA_OK);
    assert_bound(&f, "acme", "region", "eu-2");
    bfx_cleanup(&f);

    json_decref(chip_a);
    json_decref(ppid);
    json_decref(vlek);
    json_decref(vlek_turin);
    json_decref(chip_other);
    json_decref(turin);
    json_decref(proof);
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    free(acme);
    free(acme_v2);
    free(acme_root);
    free(globex);
    free(globex_other);
    free(globex_root);
    free(globex_turin);
}

static void test_bind_reasons_for_bad_registries(void **state)
{
    struct bfx f;
    (void)state;
    char *good = valid_reg("acme", g_key256, 1, true, NULL, NULL);

    /* REGISTRY_SIGNATURE_INVALID: the key given for acme did not sign it. */
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256b);
    add_reg(&f, good, "acme.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_SIGNATURE_INVALID);
    assert_false(f.res.platform.bound); /* JSON "provider": null */
    bfx_cleanup(&f);

    /* REGISTRY_UNKNOWN_PROVIDER: no key for acme, even though another registry lists it. */
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    char *globex = valid_reg("globex", g_key256b, 1, true, NULL, NULL);
    add_provider(&f, "globex", g_key256b);
    add_reg(&f, good, "acme.jws");
    add_reg(&f, globex, "globex.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNKNOWN_PROVIDER);
    free(globex);
    bfx_cleanup(&f);

    /* REGISTRY_EXPIRED and REGISTRY_NOT_YET_VALID at the verification time. */
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, good, "acme.jws");
    f.o.at = g_now + 2 * 86400;
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_EXPIRED);
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    f.o.at = g_now - 3600;
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_NOT_YET_VALID);
    bfx_cleanup(&f);

    /* REGISTRY_MALFORMED: not a JWS at all. */
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, "this is not a registry\n", "junk.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_MALFORMED);
    bfx_cleanup(&f);
    free(good);
}

static void test_bind_rollback_and_equivocation(void **state)
{
    struct bfx f;
    (void)state;
    char *v2 = valid_reg("acme", g_key256, 2, true, NULL, NULL);
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    static const char fleet2[] = "amd chip_id " CHIP_A " region=eu-9\n";
    char *v2b = build_reg(g_key256, "acme", 2, (int64_t)g_now - 10, 3600, true, fleet2, NULL, NULL);
    char *v3 = build_reg(g_key256, "acme", 3, (int64_t)g_now - 10, 3600, true, fleet2, NULL, NULL);

    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v2, "v2.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    cvma_registry_set_free(f.rs);

    /* Version 1 after version 2, same cache directory: REGISTRY_ROLLBACK. */
    f.rs = cvma_registry_set_new();
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v1, "v1.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_ROLLBACK);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "older than version 2"));
    cvma_registry_set_free(f.rs);

    /* Another registry under version 2: REGISTRY_ROLLBACK (equivocation). */
    f.rs = cvma_registry_set_new();
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v2b, "v2b.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_ROLLBACK);
    cvma_registry_set_free(f.rs);

    /* Version 3 moves the state forward; then version 2 is a rollback too. */
    f.rs = cvma_registry_set_new();
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v3, "v3.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "eu-9");
    cvma_registry_set_free(f.rs);
    f.rs = cvma_registry_set_new();
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v2, "v2.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_ROLLBACK);
    bfx_cleanup(&f);

    /* No usable state directory: bound, with a REGISTRY_ROLLBACK_NOT_CHECKED warning. */
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v1, "v1.jws");
    f.o.cache_dir = "/dev/null/not-a-dir";
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "eu-1");
    assert_true(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED));
    bfx_cleanup(&f);

    free(v1);
    free(v2);
    free(v2b);
    free(v3);
}

static void test_bind_older_registry_given_before_newer_is_rollback(void **state)
{
    struct bfx f;
    (void)state;
    /* Version 2 removed the Turin host; version 1, given first, still lists it. */
    static const char fleet2[] = "amd chip_id " CHIP_A " region=eu-9\n";
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    char *v2 = build_reg(g_key256, "acme", 2, (int64_t)g_now - 10, 3600, true, fleet2, NULL, NULL);

    bfx_init(&f, plat("amd", "chip_id", CHIP_TURIN));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v1, "v1.jws");
    add_reg(&f, v2, "v2.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_ROLLBACK);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "older than version 2"));
    assert_false(f.res.platform.bound); /* JSON "provider": null */
    /* The same set again: the same answer (the state now holds version 2). */
    bfx_next(&f, plat("amd", "chip_id", CHIP_TURIN));
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_ROLLBACK);
    bfx_cleanup(&f);

    /* Without a state directory, two registries under one version are caught too. */
    static const char fleet3[] = "amd chip_id " CHIP_TURIN " region=eu-3\n";
    char *v2b = build_reg(g_key256, "acme", 2, (int64_t)g_now - 10, 3600, true, fleet3, NULL, NULL);
    bfx_init(&f, plat("amd", "chip_id", CHIP_TURIN));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v2b, "v2b.jws");
    add_reg(&f, v2, "v2.jws");
    f.o.cache_dir = "/dev/null/not-a-dir";
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_true(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK));
    bfx_cleanup(&f);
    free(v1);
    free(v2);
    free(v2b);
}

static enum cvma_store_answer store_down(void *arg, const char *provider, uint64_t version,
                                         const uint8_t merkle_root[32], uint64_t *seen, char *err,
                                         size_t err_len)
{
    (void)arg, (void)provider, (void)version, (void)merkle_root, (void)seen;
    snprintf(err, err_len, "down for the test");
    return CVMA_STORE_UNAVAILABLE;
}

/* A shared state store that does not answer: the registry is not used unchecked, the platform
 * is undecided (as for a lookup registry that does not answer), never bound. */
static void test_bind_rollback_store_unavailable_is_undecided(void **state)
{
    struct bfx f;
    struct cvma_state_store st = {.registry_seen = store_down};
    (void)state;
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v1, "v1.jws");
    f.o.store = &st;
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
    assert_true(f.res.undecided);
    assert_true(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED));
    assert_false(f.res.platform.bound);
    bfx_cleanup(&f);
    free(v1);
}

/* A shared state store in memory, as registry_seen documents it (one provider): down, or the
 * highest version recorded and its root. */
struct fake_store {
    bool down;
    uint64_t down_from; /* not 0: down for this version and above only */
    bool down_for_root; /* down for the registry of this root only */
    uint8_t down_root[32];
    uint64_t version; /* 0: none recorded */
    uint8_t root[32];
};

static enum cvma_store_answer store_fake(void *arg, const char *provider, uint64_t version,
                                         const uint8_t merkle_root[32], uint64_t *seen, char *err,
                                         size_t err_len)
{
    struct fake_store *fs = arg;
    (void)provider;
    if (fs->down || (fs->down_from != 0 && version >= fs->down_from) ||
        (fs->down_for_root && memcmp(merkle_root, fs->down_root, 32) == 0)) {
        snprintf(err, err_len, "down for the test");
        return CVMA_STORE_UNAVAILABLE;
    }
    *seen = fs->version;
    if (version < fs->version) {
        return CVMA_STORE_OLDER;
    }
    if (version == fs->version && memcmp(merkle_root, fs->root, 32) != 0) {
        return CVMA_STORE_CONFLICT;
    }
    fs->version = version;
    memcpy(fs->root, merkle_root, 32);
    return CVMA_STORE_OK;
}

/* A registry the shared store refuses (another root under the version the fleet recorded),
 * or that is not used because the store does not answer, becomes neither the state file nor
 * this process's floor in memory: the registry the fleet accepts binds after it in a process
 * restarted on the same cache directory, and an older registry beside it is undecided while
 * the store is down (not refused by a floor nothing the process accepted raised). */
static void test_bind_rollback_store_refusal_is_not_recorded_locally(void **state)
{
    struct bfx f;
    struct fake_store fs;
    struct cvma_state_store st = {.arg = &fs, .registry_seen = store_fake};
    struct cvma_merkle ta;
    static const char fleet_b[] = "amd chip_id " CHIP_A " region=eu-9\n";
    (void)state;
    char *v7a = build_reg(g_key256, "acme", 7, (int64_t)g_now - 10, 3600, true, fleet, NULL, &ta);
    char *v7b =
            build_reg(g_key256, "acme", 7, (int64_t)g_now - 10, 3600, true, fleet_b, NULL, NULL);
    char *v6 = valid_reg("acme", g_key256, 6, true, NULL, NULL);

    for (int down = 0; down < 2; down++) {
        /* The fleet recorded 7A, so 7B is another registry under its version (refused); or
         * the store is down (7B not used: undecided). */
        memset(&fs, 0, sizeof fs);
        fs.down = down == 1;
        if (down == 0) {
            fs.version = 7;
            cvma_merkle_root(&ta, fs.root);
        }
        bfx_init(&f, plat("amd", "chip_id", CHIP_A));
        f.o.store = &st;
        add_provider(&f, "acme", g_key256);
        add_reg(&f, v7b, "v7b.jws");
        if (down == 0) {
            assert_int_equal(do_bind(&f), CVMA_REJECTED);
            assert_first_error(&f, CVMA_R_REGISTRY_ROLLBACK);
            assert_non_null(strstr(f.res.verdict.reasons[0].detail, "shared state store"));
        } else {
            assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
            assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
        }
        char *state_file = tu_path(f.cache, "registry-state.acme.json");
        assert_int_equal(access(state_file, F_OK), -1); /* 7B not recorded */
        free(state_file);

        /* Restarted on the same cache directory with 7A, the store answering (and recording
         * 7A when it was down): bound. */
        fs.down = false;
        cvma_registry_set_free(f.rs);
        f.rs = cvma_registry_set_new();
        assert_non_null(f.rs);
        add_provider(&f, "acme", g_key256);
        add_reg(&f, v7a, "v7a.jws");
        bfx_next(&f, plat("amd", "chip_id", CHIP_A));
        assert_int_equal(do_bind(&f), CVMA_OK);
        assert_bound(&f, "acme", "region", "eu-1");
        assert_int_equal(fs.version, 7);
        bfx_cleanup(&f);
    }

    /* The floor in memory alone (no usable state directory): 7B then 6 in one process while
     * the store is down. 6 is undecided as 7B is: 7B never passed, so it is no floor. */
    memset(&fs, 0, sizeof fs);
    fs.down = true;
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    f.o.store = &st;
    f.o.cache_dir = "/dev/null/not-a-dir";
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v7b, "v7b.jws");
    add_reg(&f, v6, "v6.jws");
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
    assert_false(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK));
    bfx_cleanup(&f);

    cvma_merkle_cleanup(&ta);
    free(v6);
    free(v7a);
    free(v7b);
}

/* A newer registry not used because its rollback state could not be checked (the store does
 * not answer for it) still supersedes an older one given beside it, in either order: the older
 * one, which lists the platform the newer one dropped, binds nothing and the result is
 * undecided, never bound by the older list. */
static void test_bind_unchecked_newer_registry_still_supersedes_an_older_one(void **state)
{
    struct bfx f;
    struct fake_store fs;
    struct cvma_state_store st = {.arg = &fs, .registry_seen = store_fake};
    static const char dropped[] = "amd chip_id " CHIP_OTHER " region=eu-2\n";
    (void)state;
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL); /* lists CHIP_A */
    char *v2 =
            build_reg(g_key256, "acme", 2, (int64_t)g_now - 100, 86400, true, dropped, NULL, NULL);

    for (int order = 0; order < 2; order++) {
        memset(&fs, 0, sizeof fs);
        fs.down_from = 2;
        bfx_init(&f, plat("amd", "chip_id", CHIP_A));
        f.o.store = &st;
        add_provider(&f, "acme", g_key256);
        add_reg(&f, order == 0 ? v1 : v2, order == 0 ? "v1.jws" : "v2.jws");
        add_reg(&f, order == 0 ? v2 : v1, order == 0 ? "v2.jws" : "v1.jws");
        assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
        assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
        TU_ASSERT_DETAIL(&f.res.verdict, CVMA_R_REGISTRY_UNAVAILABLE,
                         "v1.jws: not used: provider acme version 1 is older than version 2");
        assert_string_equal(f.res.platform.provider, "");
        bfx_cleanup(&f);
    }
    free(v1);
    free(v2);
}

/* A registry not used because its rollback state could not be checked, of the same version
 * as a valid one but another root, is the provider's own signature on two registries under one
 * number: refused (REGISTRY_ROLLBACK), as two checked ones are, in either order; never a
 * warning and an undecided result. */
static void test_bind_unchecked_registry_under_the_same_version_is_refused(void **state)
{
    struct bfx f;
    struct fake_store fs;
    struct cvma_state_store st = {.arg = &fs, .registry_seen = store_fake};
    struct cvma_merkle tb;
    static const char other[] = "amd chip_id " CHIP_A " region=eu-9\n";
    (void)state;
    char *v1a = valid_reg("acme", g_key256, 1, true, NULL, NULL); /* lists CHIP_A, eu-1 */
    char *v1b = build_reg(g_key256, "acme", 1, (int64_t)g_now - 100, 86400, true, other, NULL, &tb);

    for (int order = 0; order < 2; order++) {
        memset(&fs, 0, sizeof fs);
        fs.down_for_root = true;
        cvma_merkle_root(&tb, fs.down_root);
        bfx_init(&f, plat("amd", "chip_id", CHIP_A));
        f.o.store = &st;
        add_provider(&f, "acme", g_key256);
        add_reg(&f, order == 0 ? v1a : v1b, order == 0 ? "v1a.jws" : "v1b.jws");
        add_reg(&f, order == 0 ? v1b : v1a, order == 0 ? "v1b.jws" : "v1a.jws");
        assert_int_equal(do_bind(&f), CVMA_REJECTED);
        assert_first_error(&f, CVMA_R_REGISTRY_ROLLBACK);
        /* Given first, v1a is recorded here, and v1b meets that floor before the store. */
        TU_ASSERT_DETAIL(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK,
                         order == 0 ? "v1b.jws: provider acme: registry version 1 has another "
                                      "merkle_root than version 1"
                                    : "v1a.jws: provider acme registry version 1 is another "
                                      "registry under version 1 given in v1b.jws, which could "
                                      "not be checked");
        if (order == 1) {
            assert_string_equal(f.res.platform.provider, ""); /* v1a not used */
        }
        bfx_cleanup(&f);
    }
    cvma_merkle_cleanup(&tb);
    free(v1a);
    free(v1b);
}

static void test_bind_rollback_state_never_follows_a_symlink(void **state)
{
    struct bfx f;
    struct cvma_buf b;
    static const char precious[] = "not the verifier's file\n";
    (void)state;
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    char *target = tu_path(f.tmp, "precious.txt");
    char *link = tu_path(f.cache, "registry-state.acme.json");
    assert_int_equal(mkdir(f.cache, 0700), 0);
    tu_write(target, (const uint8_t *)precious, sizeof precious - 1);
    assert_int_equal(symlink(target, link), 0);
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v1, "v1.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "eu-1");
    assert_true(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED));
    tu_read(target, &b);
    assert_int_equal(b.len, sizeof precious - 1);
    assert_memory_equal(b.p, precious, b.len);
    cvma_buf_free(&b);
    /* Not read through either: a state read through the link (the file there is no state)
     * would have been replaced, the link with it. */
    struct stat sb;
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    free(target);
    free(link);
    bfx_cleanup(&f);
    free(v1);
}

/* An empty state file (an earlier version's in-place rewrite cut between its truncate and its
 * write, or a reset) is not a first use: an older registry after it is used with the warning,
 * never silently recorded as the new floor. */
static void test_bind_rollback_empty_state_is_not_a_first_use(void **state)
{
    struct bfx f;
    (void)state;
    char *v2 = valid_reg("acme", g_key256, 2, true, NULL, NULL);
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    char *file = tu_path(f.cache, "registry-state.acme.json");
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v2, "v2.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_false(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED));
    cvma_registry_set_free(f.rs);

    tu_write(file, (const uint8_t *)"", 0);
    f.rs = cvma_registry_set_new();
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v1, "v1.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_true(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED));
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "unreadable (empty)"));
    /* replaced by the version at hand: the next time it is a state again */
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_int_equal(f.res.verdict.n_reasons, 0);
    bfx_cleanup(&f);
    free(file);
    free(v1);
    free(v2);
}

/* An earlier version's writer holds the state's own lock while it rewrites the file in place
 * (truncated, then written): a check meanwhile waits for it, never reads the truncated file as
 * an empty, corrupt state and replaces it with an older version. */
struct old_writer {
    int fd;
    const uint8_t *state;
    size_t len;
};

static void *old_writer_finish(void *arg)
{
    struct old_writer *w = arg;
    struct timespec t = {0, 300 * 1000 * 1000};
    nanosleep(&t, NULL);
    assert_int_equal(pwrite(w->fd, w->state, w->len, 0), (ssize_t)w->len);
    assert_int_equal(flock(w->fd, LOCK_UN), 0);
    return NULL;
}

static void test_bind_rollback_waits_for_an_older_writer(void **state)
{
    struct bfx f;
    struct cvma_buf b;
    pthread_t th;
    (void)state;
    char *v2 = valid_reg("acme", g_key256, 2, true, NULL, NULL);
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    char *file = tu_path(f.cache, "registry-state.acme.json");
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v2, "v2.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    cvma_registry_set_free(f.rs);
    tu_read(file, &b);

    struct old_writer w = {open(file, O_RDWR), b.p, b.len};
    assert_true(w.fd >= 0);
    assert_int_equal(flock(w.fd, LOCK_EX), 0);
    assert_int_equal(ftruncate(w.fd, 0), 0);
    assert_int_equal(pthread_create(&th, NULL, old_writer_finish, &w), 0);
    f.rs = cvma_registry_set_new();
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v1, "v1.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_first_error(&f, CVMA_R_REGISTRY_ROLLBACK);
    close(w.fd);
    cvma_buf_free(&b);
    bfx_cleanup(&f);
    free(file);
    free(v1);
    free(v2);
}

/* The state is replaced by rename, never rewritten in place: a file that held the old state
 * (a hard link to it) still holds it whole after a newer version was recorded, so no moment
 * exists at which the state's name holds an empty or partial file. */
static void test_bind_rollback_state_is_replaced_never_rewritten(void **state)
{
    struct bfx f;
    struct cvma_buf b;
    (void)state;
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    char *v2 = valid_reg("acme", g_key256, 2, true, NULL, NULL);
    bfx_init(&f, plat("amd", "chip_id", CHIP_A));
    char *file = tu_path(f.cache, "registry-state.acme.json");
    char *old = tu_path(f.tmp, "old-state.json");
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v1, "v1.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_int_equal(link(file, old), 0);
    cvma_registry_set_free(f.rs);
    f.rs = cvma_registry_set_new();
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, v2, "v2.jws");
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_int_equal(f.res.verdict.n_reasons, 0);
    static const char was[] = "{\"provider\": \"acme\", \"version\": 1,";
    static const char now[] = "{\"provider\": \"acme\", \"version\": 2,";
    tu_read(old, &b);
    assert_true(b.len > sizeof was && memcmp(b.p, was, sizeof was - 1) == 0);
    cvma_buf_free(&b);
    tu_read(file, &b);
    assert_true(b.len > sizeof now && memcmp(b.p, now, sizeof now - 1) == 0);
    cvma_buf_free(&b);
    bfx_cleanup(&f);
    free(old);
    free(file);
    free(v1);
    free(v2);
}

static void test_bind_reasons_for_bad_proofs(void **state)
{
    struct bfx f;
    struct cvma_reg_entries e, e2;
    struct cvma_merkle t, t2;
    (void)state;
    char *jws = valid_reg("acme", g_key256, 1, false, &e, &t);
    static const char fleet2[] = "intel ppid " PPID_A " region=us-1\n"
                                 "intel ppid " PPID_OTHER "\n";
    char *other = build_reg(g_key256, "acme", 1, (int64_t)g_now - 5, 3600, false, fleet2, &e2, &t2);
    size_t ip = index_of(&e, 2, PPID_A);

    /* Tampered audit path. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, jws, "acme.jws");
    json_t *pj = cvma_reg_proof_to_json("acme", &e, &t, ip);
    json_t *path = json_object_get(pj, "audit_path");
    char h[65];
    snprintf(h, sizeof h, "%s", json_string_value(json_array_get(path, 0)));
    h[0] = h[0] == '0' ? '1' : '0';
    json_array_set_new(path, 0, json_string(h));
    add_proof_json(&f, pj, "tampered.json");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROOF_INVALID);
    bfx_cleanup(&f);

    /* Tampered leaf (its label), the path left as it was. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, jws, "acme.jws");
    pj = cvma_reg_proof_to_json("acme", &e, &t, ip);
    json_object_set_new(json_object_get(json_object_get(pj, "leaf"), "labels"), "region",
                        json_string("eu-1"));
    add_proof_json(&f, pj, "relabelled.json");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROOF_INVALID);
    bfx_cleanup(&f);

    /* A valid proof for another registry's root. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, jws, "acme.jws");
    add_proof_json(&f, cvma_reg_proof_to_json("acme", &e2, &t2, index_of(&e2, 2, PPID_A)),
                   "other-root.json");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROOF_INVALID);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "but registry acme.jws"));
    bfx_cleanup(&f);

    /* A proof but no registry; a proof file that is not a proof. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    add_provider(&f, "acme", g_key256);
    add_proof_json(&f, cvma_reg_proof_to_json("acme", &e, &t, ip), "p.json");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROOF_INVALID);
    bfx_next(&f, plat("intel", "ppid", PPID_A));
    assert_int_equal(cvma_registry_set_add_proof_mem(f.rs, (const uint8_t *)"{}", 2, "e.json"),
                     CVMA_OK);
    add_reg(&f, jws, "acme.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PROOF_INVALID);
    bfx_cleanup(&f);

    /* A valid proof for a registry that failed step 1 (under another key; signed by a
     * provider whose key was not given): the registry's own reason, not PROOF_INVALID. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    add_provider(&f, "acme", g_key256b);
    add_reg(&f, jws, "acme.jws");
    add_proof_json(&f, cvma_reg_proof_to_json("acme", &e, &t, ip), "p.json");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_SIGNATURE_INVALID);
    assert_false(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_PROOF_INVALID));
    bfx_cleanup(&f);
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    add_provider(&f, "globex", g_key256b);
    add_reg(&f, jws, "acme.jws");
    add_proof_json(&f, cvma_reg_proof_to_json(NULL, &e, &t, ip), "p.json");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNKNOWN_PROVIDER);
    assert_false(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_PROOF_INVALID));
    bfx_cleanup(&f);
    /* A broken copy given before the registry itself: the proof is for the valid one, which
     * binds (the broken copy is still an error). */
    char *broken = strdup(jws);
    assert_non_null(broken);
    char *sig = strrchr(broken, '.') + 10;
    *sig = *sig == 'A' ? 'B' : 'A';
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, broken, "broken.jws");
    add_reg(&f, jws, "acme.jws");
    add_proof_json(&f, cvma_reg_proof_to_json("acme", &e, &t, ip), "p.json");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_SIGNATURE_INVALID);
    assert_false(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_PROOF_INVALID));
    assert_true(f.res.platform.bound);
    assert_string_equal(f.res.platform.provider, "acme");
    bfx_cleanup(&f);
    free(broken);

    /* A proof for an expired registry: the registry's own reason, not PROOF_INVALID. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    add_provider(&f, "acme", g_key256);
    add_reg(&f, jws, "acme.jws");
    add_proof_json(&f, cvma_reg_proof_to_json("acme", &e, &t, ip), "p.json");
    f.o.at = g_now + 3 * 86400;
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_EXPIRED);
    assert_false(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_PROOF_INVALID));
    bfx_cleanup(&f);

    cvma_merkle_cleanup(&t);
    cvma_merkle_cleanup(&t2);
    cvma_reg_entries_cleanup(&e);
    cvma_reg_entries_cleanup(&e2);
    free(jws);
    free(other);
}

static void test_bind_platforms_that_cannot_be_bound(void **state)
{
    struct bfx f;
    (void)state;
    char *jws = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    static const char zeros[] = "000000000000000000000000000000000000000000000000000000000000000"
                                "00000000000000000000000000000000000000000000000000000000000000"
                                "000";
    /* An all-zero PPID is no platform's: what the evidence leaves when it carries only an
     * encrypted PPID. It must not reach a lookup registry as if it named one. */
    json_t *cases[] = {plat("amd", "chip_id", NULL),
                       plat("amd", "chip_id", zeros),
                       plat("intel", "ppid", NULL),
                       plat("intel", "ppid", "0011"),
                       plat("arm", "instance_id", "00"),
                       json_object(),
                       plat("intel", "ppid", "00000000000000000000000000000000")};
    enum cvma_reason want[] = {CVMA_R_REGISTRY_CHIP_ID_MASKED, CVMA_R_REGISTRY_CHIP_ID_MASKED,
                               CVMA_R_REGISTRY_NO_PLATFORM_ID, CVMA_R_REGISTRY_NO_PLATFORM_ID,
                               CVMA_R_REGISTRY_NO_PLATFORM_ID, CVMA_R_REGISTRY_NO_PLATFORM_ID,
                               CVMA_R_REGISTRY_NO_PLATFORM_ID};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        bfx_init(&f, cases[i]);
        add_provider(&f, "acme", g_key256);
        add_reg(&f, jws, "acme.jws");
        assert_int_equal(do_bind(&f), CVMA_REJECTED);
        assert_first_error(&f, want[i]);
        bfx_cleanup(&f);
    }
    /* The registries given are checked all the same: one under another key is named beside
     * the platform that cannot be bound (evidence naming none: a bare TPM quote). */
    bfx_init(&f, json_object());
    add_provider(&f, "acme", g_key256b);
    add_reg(&f, jws, "acme.jws");
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_SIGNATURE_INVALID);
    assert_true(cvma_verdict_has(&f.res.verdict, CVMA_R_REGISTRY_NO_PLATFORM_ID));
    bfx_cleanup(&f);
    free(jws);
}

static void test_lookup_plain_http_reaches_only_loopback(void **state)
{
    /* Userinfo makes the host the part after '@': these name example.com, over plain http. */
    static const char *const bad[] = {
            "g=http://localhost:80@example.com",
            "g=http://127.0.0.1:1@example.com/v1",
            "g=http://[::1]:8@example.com",
            "g=http://localhost@example.com",
            "g=http://127.0.0.1:8080x/v1",
            /* nor user information over https: its password would be in every result */
            "g=https://user@hosts.example/v1",
    };
    static const char *const good[] = {"g=http://localhost", "g=http://127.0.0.1:8080/v1/",
                                       "g=http://[::1]:9/x", "g=https://hosts.example/v1"};
    struct cvma_registry_set *rs = cvma_registry_set_new();
    char err[300];
    (void)state;
    assert_non_null(rs);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        if (cvma_registry_set_add_lookup(rs, bad[i], err, sizeof err) != CVMA_E_USAGE) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    assert_true(cvma_registry_set_empty(rs));
    for (size_t i = 0; i < CVMA_ARRAY_LEN(good); i++) {
        if (cvma_registry_set_add_lookup(rs, good[i], err, sizeof err) != CVMA_OK) {
            fail_msg("refused %s: %s", good[i], err);
        }
    }
    cvma_registry_set_free(rs);
}

static void test_set_loading_errors_are_usage_errors(void **state)
{
    struct cvma_registry_set *rs = cvma_registry_set_new();
    char err[300];
    (void)state;
    assert_int_equal(cvma_registry_set_add_provider(rs, "acme", err, sizeof err), CVMA_E_USAGE);
    assert_int_equal(cvma_registry_set_add_provider(rs, "=x.pub", err, sizeof err), CVMA_E_USAGE);
    assert_int_equal(cvma_registry_set_add_provider(rs, "a b=x.pub", err, sizeof err),
                     CVMA_E_USAGE);
    assert_int_equal(cvma_registry_set_add_provider(rs, "acme=/nonexistent/x.pub", err, sizeof err),
                     CVMA_E_IO);
    assert_int_equal(cvma_registry_set_add_provider(rs, "acme=/dev/null", err, sizeof err),
                     CVMA_E_USAGE);
    assert_int_equal(cvma_registry_set_add_registry(rs, "/nonexistent/r.jws", err, sizeof err),
                     CVMA_E_IO);
    assert_int_equal(cvma_registry_set_add_proof(rs, "/nonexistent/p.json", err, sizeof err),
                     CVMA_E_IO);
    assert_int_equal(cvma_registry_set_add_lookup(rs, "g=http://example.com", err, sizeof err),
                     CVMA_E_USAGE);
    assert_int_equal(cvma_registry_set_add_lookup(rs, "g=ftp://example.com", err, sizeof err),
                     CVMA_E_USAGE);
    assert_int_equal(cvma_registry_set_add_lookup(rs, "g=https://x/?q=1", err, sizeof err),
                     CVMA_E_USAGE);
    assert_int_equal(
            cvma_registry_set_add_lookup(rs, "g=http://127.0.0.1.evil.com", err, sizeof err),
            CVMA_E_USAGE);
    /* no host, or a port empty or out of range: nothing could be fetched from it */
    static const char *const no_host[] = {"g=https://:443/v1/",
                                          "g=http://127.0.0.1:", "g=http://127.0.0.1:0",
                                          "g=https://h.example:99999", "g=https://[]/"};
    for (size_t i = 0; i < sizeof no_host / sizeof no_host[0]; i++) {
        assert_int_equal(cvma_registry_set_add_lookup(rs, no_host[i], err, sizeof err),
                         CVMA_E_USAGE);
    }
    assert_true(cvma_registry_set_empty(rs));
    assert_int_equal(
            cvma_registry_set_add_lookup(rs, "g=https://hosts.example/v1/", err, sizeof err),
            CVMA_OK);
    assert_int_equal(cvma_registry_set_add_lookup(rs, "l=http://127.0.0.1:8080", err, sizeof err),
                     CVMA_OK);
    assert_false(cvma_registry_set_empty(rs));
    assert_int_equal(cvma_registry_set_add_provider_key(rs, "acme", g_key256, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_registry_set_add_provider_key(rs, "acme", g_key256b, err, sizeof err),
                     CVMA_E_USAGE);
    /* A name is a signed registry's provider or a lookup registry's, never both (in either
     * order): an unsigned lookup answer would pass for acme's signed registry. */
    assert_int_equal(
            cvma_registry_set_add_lookup(rs, "acme=https://hosts.example/v1", err, sizeof err),
            CVMA_E_USAGE);
    assert_non_null(strstr(err, "acme is both a signed registry's provider"));
    assert_int_equal(cvma_registry_set_add_provider_key(rs, "g", g_key256b, err, sizeof err),
                     CVMA_E_USAGE);
    assert_non_null(strstr(err, "g is both a signed registry's provider"));
    assert_int_equal(cvma_registry_set_add_log_key(rs, "g=/nonexistent/g.vkey", err, sizeof err),
                     CVMA_E_USAGE);
    assert_non_null(strstr(err, "g is both a signed registry's provider"));
    cvma_registry_set_free(rs);
    cvma_registry_set_free(NULL);
}

/* ================================ lookup registry ================================ */

struct server {
    pid_t pid;
    int port;
    char *log; /* its request log: a line a request */
};

/* Starts tests/kds_server.py (127.0.0.1, OS-chosen port): 1 when it listens on s->port; 0 when
 * it cannot run here (no CVMATTEST_SRC directory, no script in it, no python3): the test skips;
 * -1 when it ran but printed no port: the child is stopped and the test fails. */
static void server_stop(struct server *s);

static int server_start(struct server *s, const char *dir, const char *const *extra)
{
    const char *src = getenv("CVMATTEST_SRC");
    const char *argv[24];
    struct stat st;

    memset(s, 0, sizeof *s);
    if (src == NULL || stat(src, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return 0;
    }
    char *script = tu_path(src, "tests/kds_server.py");
    if (access(script, R_OK) != 0 ||
        system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
        free(script);
        return 0;
    }
    s->log = tu_path(dir, "requests.log");
    tu_server_argv(argv, CVMA_ARRAY_LEN(argv), script, dir, s->log, extra);
    s->port = tu_server_start(argv, &s->pid);
    free(script);
    if (s->port <= 0) {
        server_stop(s);
        return -1;
    }
    return 1;
}

static void server_stop(struct server *s)
{
    tu_server_stop(&s->pid);
    free(s->log);
    s->log = NULL;
}

#define NEED_SERVER(started)                                                                    \
    do {                                                                                        \
        int started_ = (started);                                                               \
        if (started_ <= 0) {                                                                    \
            bfx_cleanup(&f);                                                                    \
            if (started_ < 0) {                                                                 \
                fail_msg("tests/kds_server.py printed no port");                                \
            }                                                                                   \
            fprintf(stderr, "SKIP: tests/kds_server.py cannot run (CVMATTEST_SRC, python3)\n"); \
            skip();                                                                             \
        }                                                                                       \
    } while (0)

/* A lookup registry is asked only when nothing signed lists the platform; while a signed
 * registry could not be checked (its rollback state here, the store not answering for version
 * 2) what it lists is not known, so no lookup is asked and the result is undecided: an
 * unsigned answer never binds the platform to another provider than a signed listing might.
 * Version 1, which lists the platform and is older than the unchecked version 2, is not used
 * either, and says so. */
static void test_lookup_not_asked_while_a_signed_registry_is_unchecked(void **state)
{
    struct bfx f;
    struct server srv;
    struct fake_store fs;
    struct cvma_state_store st = {.arg = &fs, .registry_seen = store_fake};
    char route[128], spec[128], log[300];
    static const char other[] = "intel ppid " PPID_OTHER " region=ap-1\n";
    (void)state;
    char *v1 = valid_reg("acme", g_key256, 1, true, NULL, NULL); /* lists PPID_A */
    char *v2 = build_reg(g_key256, "acme", 2, (int64_t)g_now - 100, 86400, true, other, NULL, NULL);

    for (int with_v1 = 0; with_v1 < 2; with_v1++) {
        memset(&fs, 0, sizeof fs);
        fs.down_from = 2;
        bfx_init(&f, plat("intel", "ppid", PPID_A));
        f.o.store = &st;
        char *answer = tu_path(f.tmp, "answer.json");
        static const char body[] = "{\"zone\": \"z9\"}";
        tu_write(answer, (const uint8_t *)body, strlen(body));
        free(answer);
        snprintf(log, sizeof log, "%s/log", f.tmp);
        snprintf(route, sizeof route, "/hosts/%s=answer.json", PPID_A);
        const char *extra[] = {"--route", route, "--log", log, NULL};
        NEED_SERVER(server_start(&srv, f.tmp, extra));
        snprintf(spec, sizeof spec, "other=http://127.0.0.1:%d/hosts/", srv.port);
        assert_int_equal(cvma_registry_set_add_lookup(f.rs, spec, NULL, 0), CVMA_OK);
        add_provider(&f, "acme", g_key256);
        if (with_v1) {
            add_reg(&f, v1, "v1.jws");
        }
        add_reg(&f, v2, "v2.jws");
        assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
        assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
        assert_string_equal(f.res.platform.provider, "");
        assert_int_equal(tu_log_lines(log), 0); /* the lookup was not asked, and that is said */
        TU_ASSERT_DETAIL(&f.res.verdict, CVMA_R_REGISTRY_UNAVAILABLE,
                         "lookup registries not consulted: a signed registry could not be checked");
        if (with_v1) {
            TU_ASSERT_DETAIL(&f.res.verdict, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED,
                             "v1.jws: not used: provider acme version 1 is older than version 2");
        }
        server_stop(&srv);
        bfx_cleanup(&f);
    }
    free(v1);
    free(v2);
}

static void test_lookup_registry_listed_not_listed_and_cached(void **state)
{
    struct bfx f;
    struct server srv;
    char route[128], spec[128], log[300];
    (void)state;
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    char *answer = tu_path(f.tmp, "answer.json");
    static const char body[] =
            "{\"zone\": \"us-central1-a\", \"timestamp\": \"2026-11-20T10:00:00Z\"}";
    tu_write(answer, (const uint8_t *)body, strlen(body));
    snprintf(log, sizeof log, "%s/log", f.tmp);
    snprintf(route, sizeof route, "/hosts/%s=answer.json", PPID_A);
    const char *extra[] = {"--route", route, "--log", log, NULL};
    NEED_SERVER(server_start(&srv, f.tmp, extra));
    snprintf(spec, sizeof spec, "google=http://127.0.0.1:%d/hosts/", srv.port);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, spec, NULL, 0), CVMA_OK);

    /* Listed: provider named, zone as a label, and the binding says a lookup made it (a
     * policy's registry_log_required then names what applies to a lookup: test_policy). */
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "google", "zone", "us-central1-a");
    assert_true(f.res.platform.bound_via_lookup);
    assert_false(f.res.platform.bound_via_log);
    assert_int_equal(tu_log_lines(log), 1);

    /* Not listed (404). */
    bfx_next(&f, plat("intel", "ppid", PPID_OTHER));
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "lookup google (404)"));
    assert_int_equal(tu_log_lines(log), 2);

    /* Both answers come from the cache now: the server is gone and nothing is asked. */
    server_stop(&srv);
    bfx_next(&f, plat("intel", "ppid", PPID_A));
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "google", "zone", "us-central1-a");
    bfx_next(&f, plat("intel", "ppid", PPID_OTHER));
    f.o.offline = true;
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED);
    assert_int_equal(tu_log_lines(log), 2);

    /* AMD platforms are never looked up. */
    bfx_next(&f, plat("amd", "chip_id", CHIP_A));
    assert_int_equal(do_bind(&f), CVMA_REJECTED);
    assert_first_error(&f, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "Intel PPIDs only"));

    free(answer);
    bfx_cleanup(&f);
}

static void test_lookup_registry_unavailable_is_undecided(void **state)
{
    struct bfx f;
    struct server srv;
    char spec[128];
    int port = 0, refusing = tu_refusing_port(&port);
    (void)state;

    /* Offline with nothing cached: undecided, never a pass. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    snprintf(spec, sizeof spec, "google=http://127.0.0.1:%d", port);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, spec, NULL, 0), CVMA_OK);
    f.o.offline = true;
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "offline"));
    /* Unreachable (nothing listens): the same. */
    bfx_next(&f, plat("intel", "ppid", PPID_A));
    f.o.offline = false;
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_true(f.res.undecided);
    assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
    assert_false(f.res.platform.bound); /* JSON "provider": null */
    /* ... and not asked again for a minute: the next one is undecided at once, saying so */
    bfx_next(&f, plat("intel", "ppid", PPID_A));
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail,
                           "failed within the last 60 s (GET http://127.0.0.1:"));
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "it is not asked again until then"));
    bfx_cleanup(&f);
    close(refusing); /* the rest needs a server (and may be skipped) */

    /* HTTP 500 (retries exhausted): undecided, and nothing is cached. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    const char *extra[] = {"--fail-first", "1000", "--fail-status", "500", NULL};
    NEED_SERVER(server_start(&srv, f.tmp, extra));
    snprintf(spec, sizeof spec, "google=http://127.0.0.1:%d", srv.port);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, spec, NULL, 0), CVMA_OK);
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "500"));
    /* a failure is not asked again within lookup_failure_ttl: no request for the next one */
    int before = tu_log_lines(srv.log);
    bfx_next(&f, plat("intel", "ppid", PPID_A));
    f.o.lookup_failure_ttl = 30;
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_non_null(strstr(f.res.verdict.reasons[0].detail, "failed within the last 30 s"));
    assert_int_equal(tu_log_lines(srv.log), before);
    /* ... but only for that long after it was recorded, whatever expiry the entry says (one
     * kept longer by another verifier, forged, or from before the clock was set back) */
    char fkey[256];
    const char *ftext = "{\"failed\": \"long ago\"}";
    const struct cvma_cache fc = {.dir = f.cache};
    int64_t now = (int64_t)time(NULL);
    snprintf(fkey, sizeof fkey, "registry-lookup http://127.0.0.1:%d/%s", srv.port, PPID_A);
    for (int k = 0; k < 2; k++) {
        int64_t at = k == 0 ? now - 120 : now + 3600; /* too old; from the future */
        assert_int_equal(cvma_cache_put_ex(&fc, fkey, (const uint8_t *)ftext, strlen(ftext),
                                           now + 86400, at),
                         CVMA_OK);
        before = tu_log_lines(srv.log);
        bfx_next(&f, plat("intel", "ppid", PPID_A));
        assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
        assert_null(strstr(f.res.verdict.reasons[0].detail, "long ago"));
        assert_non_null(strstr(f.res.verdict.reasons[0].detail, "500"));
        assert_true(tu_log_lines(srv.log) > before); /* asked again */
    }
    server_stop(&srv);
    bfx_next(&f, plat("intel", "ppid", PPID_A));
    f.o.offline = true;
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    bfx_cleanup(&f);

    /* 200 with something that is not the expected JSON: undecided as well. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    char *answer = tu_path(f.tmp, "a.html");
    tu_write(answer, (const uint8_t *)"<html>captive portal</html>", 27);
    free(answer);
    char route[128];
    snprintf(route, sizeof route, "/%s=a.html", PPID_A);
    const char *extra2[] = {"--route", route, NULL};
    NEED_SERVER(server_start(&srv, f.tmp, extra2));
    snprintf(spec, sizeof spec, "google=http://127.0.0.1:%d", srv.port);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, spec, NULL, 0), CVMA_OK);
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
    server_stop(&srv);
    bfx_cleanup(&f);

    /* A redirect (to another path's answer, which is a listed one): not followed, undecided.
     * The answer must come from the PPID's own URL. */
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    answer = tu_path(f.tmp, "other.json");
    static const char other[] = "{\"zone\": \"elsewhere\"}";
    tu_write(answer, (const uint8_t *)other, strlen(other));
    free(answer);
    char redir[160];
    snprintf(route, sizeof route, "/other=other.json");
    snprintf(redir, sizeof redir, "/%s=/other", PPID_A);
    const char *extra3[] = {"--route", route, "--redirect", redir, NULL};
    NEED_SERVER(server_start(&srv, f.tmp, extra3));
    snprintf(spec, sizeof spec, "google=http://127.0.0.1:%d", srv.port);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, spec, NULL, 0), CVMA_OK);
    assert_int_equal(do_bind(&f), CVMA_UNDECIDED);
    assert_first_error(&f, CVMA_R_REGISTRY_UNAVAILABLE);
    assert_false(f.res.platform.bound);
    server_stop(&srv);
    bfx_cleanup(&f);
}

/* Two lookup registries that both list the PPID: bound to neither, in either order; every one
 * is asked (the first "listed" used to win). Under one name, or with the other's 404: bound. */
static void test_lookup_registries_that_both_list_the_ppid_conflict(void **state)
{
    struct bfx f;
    struct server srv;
    char route1[128], route2[128], specs[3][128];
    (void)state;
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    char *answer = tu_path(f.tmp, "answer.json");
    static const char body[] = "{\"zone\": \"z-1\"}";
    tu_write(answer, (const uint8_t *)body, strlen(body));
    free(answer);
    snprintf(route1, sizeof route1, "/one/%s=answer.json", PPID_A);
    snprintf(route2, sizeof route2, "/two/%s=answer.json", PPID_A);
    const char *extra[] = {"--route", route1, "--route", route2, NULL};
    NEED_SERVER(server_start(&srv, f.tmp, extra));
    snprintf(specs[0], sizeof specs[0], "google=http://127.0.0.1:%d/one", srv.port);
    snprintf(specs[1], sizeof specs[1], "hoster=http://127.0.0.1:%d/two", srv.port);
    snprintf(specs[2], sizeof specs[2], "google=http://127.0.0.1:%d/two", srv.port);
    char detail[2][CVMA_DETAIL_MAX];
    for (int order = 0; order < 2; order++) {
        cvma_registry_set_free(f.rs);
        assert_non_null(f.rs = cvma_registry_set_new());
        bfx_next(&f, plat("intel", "ppid", PPID_A));
        assert_int_equal(cvma_registry_set_add_lookup(f.rs, specs[order], NULL, 0), CVMA_OK);
        assert_int_equal(cvma_registry_set_add_lookup(f.rs, specs[1 - order], NULL, 0), CVMA_OK);
        assert_int_equal(do_bind(&f), CVMA_REJECTED);
        assert_first_error(&f, CVMA_R_REGISTRY_PROVIDER_CONFLICT);
        assert_false(f.res.platform.bound);
        assert_false(f.res.undecided);
        snprintf(detail[order], sizeof detail[order], "%s", f.res.verdict.reasons[0].detail);
    }
    assert_string_equal(detail[0], detail[1]);
    assert_non_null(strstr(detail[0], "google (lookup registry http://127.0.0.1:"));
    assert_non_null(strstr(detail[0], "; hoster (lookup registry http://127.0.0.1:"));

    /* One provider's two lookup registries: bound to it. */
    cvma_registry_set_free(f.rs);
    assert_non_null(f.rs = cvma_registry_set_new());
    bfx_next(&f, plat("intel", "ppid", PPID_A));
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, specs[0], NULL, 0), CVMA_OK);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, specs[2], NULL, 0), CVMA_OK);
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "google", "zone", "z-1");

    /* One that answers 404 beside one that lists it: bound to the one that lists it. */
    cvma_registry_set_free(f.rs);
    assert_non_null(f.rs = cvma_registry_set_new());
    bfx_next(&f, plat("intel", "ppid", PPID_A));
    snprintf(specs[2], sizeof specs[2], "elsewhere=http://127.0.0.1:%d/none", srv.port);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, specs[2], NULL, 0), CVMA_OK);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, specs[1], NULL, 0), CVMA_OK);
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "hoster", "zone", "z-1");
    server_stop(&srv);
    bfx_cleanup(&f);
}

static void test_lookup_not_consulted_when_a_signed_registry_lists_it(void **state)
{
    struct bfx f;
    char spec[128];
    int port = 0, refusing = tu_refusing_port(&port);
    (void)state;
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    char *jws = valid_reg("acme", g_key256, 1, true, NULL, NULL);
    add_provider(&f, "acme", g_key256);
    add_reg(&f, jws, "acme.jws");
    snprintf(spec, sizeof spec, "google=http://127.0.0.1:%d", port);
    assert_int_equal(cvma_registry_set_add_lookup(f.rs, spec, NULL, 0), CVMA_OK);
    assert_int_equal(do_bind(&f), CVMA_OK);
    assert_bound(&f, "acme", "region", "us-1");
    assert_false(f.res.platform.bound_via_lookup); /* a signed registry bound it */
    free(jws);
    bfx_cleanup(&f);
    close(refusing);
}

/* ========================= binding in a shared verifier ========================= */

struct slow_verify {
    struct cvma_verifier *v;
    struct cvma_evidence *ev;
    atomic_int done;
    enum cvma_status st;
    struct cvma_result *res;
};

static void *slow_verify_main(void *arg)
{
    struct slow_verify *s = arg;
    struct cvma_request req;
    char err[256];
    memset(&req, 0, sizeof req);
    s->st = cvma_verify(s->v, s->ev, &req, &s->res, err, sizeof err);
    atomic_store(&s->done, 1);
    return NULL;
}

/*
 * One verifier, two threads: a TDX verification whose PPID no registry lists asks a lookup
 * registry that takes 5 s to answer; an SEV-SNP verification a registry binds, started while
 * that lookup is on its way, is answered first. (The verifier prepares its registry set under
 * its lock and binds outside it: a lookup or a log fetch, with time-outs of seconds, used to
 * hold up every verification that binds.)
 */
static void test_verifier_binds_without_waiting_for_another_lookup(void **state)
{
    (void)state;
    struct bfx f;
    struct server srv;
    char err[300], spec[128], prov[300];
    bfx_init(&f, plat("intel", "ppid", PPID_A));
    char *snp = tu_path(f.tmp, "snp"), *tdx = tu_path(f.tmp, "tdx");
    struct cvma_sim_snp_opts so;
    struct cvma_sim_tdx_opts to;
    cvma_sim_snp_opts_default(&so);
    so.has_chip_id = true;
    memset(so.chip_id, 0x5a, sizeof so.chip_id);
    assert_int_equal(cvma_sim_snp_write(&so, snp, err, sizeof err), CVMA_OK);
    cvma_sim_tdx_opts_default(&to);
    assert_int_equal(cvma_sim_tdx_write(&to, tdx, err, sizeof err), CVMA_OK);
    /* acme lists the SEV-SNP chip only */
    char entries[300], hex[129];
    for (int i = 0; i < 64; i++) {
        memcpy(hex + 2 * i, "5a", 2);
    }
    hex[128] = '\0';
    snprintf(entries, sizeof entries, "amd chip_id %s\n", hex);
    EVP_PKEY *key = cvma_jws_key_generate(CVMA_JWS_ES256);
    assert_non_null(key);
    char *jws = build_reg(key, "acme", 1, (int64_t)time(NULL) - 60, 30 * 86400, true, entries, NULL,
                          NULL);
    char *reg = tu_path(f.tmp, "acme.jws"), *pub = tu_path(f.tmp, "acme.pub");
    tu_write(reg, (const uint8_t *)jws, strlen(jws));
    FILE *pf = fopen(pub, "w");
    assert_non_null(pf);
    assert_int_equal(PEM_write_PUBKEY(pf, key), 1);
    assert_int_equal(fclose(pf), 0);
    const char *extra[] = {"--delay", "5", NULL};
    NEED_SERVER(server_start(&srv, f.tmp, extra));

    snprintf(spec, sizeof spec, "slow=http://127.0.0.1:%d/hosts/", srv.port);
    snprintf(prov, sizeof prov, "acme=%s", pub);
    char *r1 = tu_path(snp, "ark.pem"), *r2 = tu_path(tdx, "root_ca.pem");
    char *cache = tu_path(f.tmp, "cache");
    const char *roots[] = {r1, r2}, *provs[] = {prov}, *regs[] = {reg}, *looks[] = {spec};
    struct cvma_verifier_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 2;
    cfg.providers = provs;
    cfg.n_providers = 1;
    cfg.registries = regs;
    cfg.n_registries = 1;
    cfg.lookup_registries = looks;
    cfg.n_lookup_registries = 1;
    cfg.cache_dir = cache;
    cfg.kds_base_url = "http://127.0.0.1:1"; /* the bundles carry their collateral */
    cfg.pcs_base_url = "http://127.0.0.1:1";
    struct cvma_verifier *v = NULL;
    if (cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK) {
        fail_msg("cvma_verifier_new: %s", err);
    }
    char *tb = tu_path(tdx, "bundle.json"), *sb = tu_path(snp, "bundle.json");
    char *tq = tu_path(tdx, "quote.bin"), *sr = tu_path(snp, "report.bin");
    struct cvma_buf qb, rb;
    tu_read(tq, &qb);
    tu_read(sr, &rb);
    /* DIR/bundle.json, as `cvmattest sim` writes it (the simulator library does not) */
    assert_int_equal(cvma_bundle_write(tb, "tdx", qb.p, qb.len, tdx), CVMA_OK);
    assert_int_equal(cvma_bundle_write(sb, "sev-snp", rb.p, rb.len, snp), CVMA_OK);
    cvma_buf_free(&qb);
    cvma_buf_free(&rb);
    free(tq), free(sr);
    struct cvma_evidence *tev = NULL, *sev = NULL;
    assert_int_equal(cvma_evidence_from_file(tb, CVMA_INFORM_AUTO, &tev, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_evidence_from_file(sb, CVMA_INFORM_AUTO, &sev, err, sizeof err), CVMA_OK);

    struct slow_verify slow = {.v = v, .ev = tev};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_verify_main, &slow), 0);
    usleep(1500 * 1000); /* the TDX verification is in its lookup by now (it takes 5 s) */
    struct cvma_request req;
    struct cvma_result *res = NULL;
    memset(&req, 0, sizeof req);
    assert_int_equal(cvma_verify(v, sev, &req, &res, err, sizeof err), CVMA_OK);
    bool other_done = atomic_load(&slow.done) != 0;
    char *json = cvma_result_json(res, false);
    assert_non_null(json);
    if (strstr(json, "\"provider\":\"acme\"") == NULL) {
        fail_msg("SEV-SNP not bound to acme: %.400s", json);
    }
    free(json);
    cvma_result_free(res);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_false(other_done); /* answered while the lookup was still on its way */
    assert_int_equal(slow.st, CVMA_OK);
    assert_true(cvma_result_has_reason(slow.res, "REGISTRY_PLATFORM_NOT_LISTED") ||
                cvma_result_has_reason(slow.res, "REGISTRY_UNAVAILABLE"));
    cvma_result_free(slow.res);
    server_stop(&srv);
    cvma_evidence_free(tev);
    cvma_evidence_free(sev);
    cvma_verifier_free(v);
    free(tb), free(sb), free(r1), free(r2), free(cache), free(reg), free(pub), free(jws);
    free(snp), free(tdx);
    EVP_PKEY_free(key);
    bfx_cleanup(&f);
}

int main(void)
{
    g_now = time(NULL);
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_base64_rfc4648_vectors),
            cmocka_unit_test(test_base64_url_alphabet_round_trips_every_byte),
            cmocka_unit_test(test_base64_decode_is_strict),
            cmocka_unit_test(test_jws_es256_and_es384_round_trip),
            cmocka_unit_test(test_jws_refuses_every_flipped_byte),
            cmocka_unit_test(test_jws_refuses_wrong_key_and_curve),
            cmocka_unit_test(test_jws_refuses_alg_confusion),
            cmocka_unit_test(test_jws_refuses_malformed_tokens),
            cmocka_unit_test(test_jws_keys_round_trip_through_pem),
            cmocka_unit_test(test_merkle_sizes_1_to_33_match_rfc6962_and_every_proof_verifies),
            cmocka_unit_test(test_merkle_domain_separation),
            cmocka_unit_test(test_canonical_leaf_encoding_is_byte_exact),
            cmocka_unit_test(test_entry_json_refuses_non_canonical_forms),
            cmocka_unit_test(test_entries_parser_accepts_the_documented_forms),
            cmocka_unit_test(test_entries_parser_names_each_malformed_line),
            cmocka_unit_test(test_entries_duplicates_are_refused_naming_both_lines),
            cmocka_unit_test(test_registry_build_then_verify_round_trip),
            cmocka_unit_test(test_registry_verify_names_each_failure),
            cmocka_unit_test(test_registry_verify_refuses_alg_confusion),
            cmocka_unit_test(test_registry_time_window),
            cmocka_unit_test(test_proof_json_round_trip_and_tampering),
            cmocka_unit_test(test_bind_empty_set_does_nothing),
            cmocka_unit_test(test_bind_amd_chip_id_from_included_entries),
            cmocka_unit_test(test_bind_amd_chip_id_from_a_proof),
            cmocka_unit_test(test_bind_amd_vlek_by_csp_name),
            cmocka_unit_test(test_bind_intel_ppid),
            cmocka_unit_test(test_bind_picks_the_provider_that_lists_the_platform),
            cmocka_unit_test(test_bind_refuses_a_platform_two_providers_list),
            cmocka_unit_test(test_bind_reasons_for_bad_registries),
            cmocka_unit_test(test_bind_rollback_and_equivocation),
            cmocka_unit_test(test_bind_older_registry_given_before_newer_is_rollback),
            cmocka_unit_test(test_bind_rollback_store_unavailable_is_undecided),
            cmocka_unit_test(test_bind_rollback_store_refusal_is_not_recorded_locally),
            cmocka_unit_test(test_bind_unchecked_newer_registry_still_supersedes_an_older_one),
            cmocka_unit_test(test_bind_unchecked_registry_under_the_same_version_is_refused),
            cmocka_unit_test(test_bind_rollback_state_never_follows_a_symlink),
            cmocka_unit_test(test_bind_rollback_empty_state_is_not_a_first_use),
            cmocka_unit_test(test_bind_rollback_waits_for_an_older_writer),
            cmocka_unit_test(test_bind_rollback_state_is_replaced_never_rewritten),
            cmocka_unit_test(test_bind_reasons_for_bad_proofs),
            cmocka_unit_test(test_bind_platforms_that_cannot_be_bound),
            cmocka_unit_test(test_set_loading_errors_are_usage_errors),
            cmocka_unit_test(test_lookup_plain_http_reaches_only_loopback),
            cmocka_unit_test(test_lookup_registry_listed_not_listed_and_cached),
            cmocka_unit_test(test_lookup_not_asked_while_a_signed_registry_is_unchecked),
            cmocka_unit_test(test_lookup_registry_unavailable_is_undecided),
            cmocka_unit_test(test_verifier_binds_without_waiting_for_another_lookup),
            cmocka_unit_test(test_lookup_not_consulted_when_a_signed_registry_lists_it),
            cmocka_unit_test(test_lookup_registries_that_both_list_the_ppid_conflict),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
