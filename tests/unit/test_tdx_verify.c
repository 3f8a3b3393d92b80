/*
 * Intel TDX verification end to end: the real samples with their collateral, byte flips in
 * the signed part, and each refusal on simulated evidence that is wrong in one way only.
 */
#define _GNU_SOURCE /* memmem */
#include <sys/stat.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "appraise/policy.h"
#include "collateral/source.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "crypto/chain_cache.h"
#include "crypto/crypto.h"
#include "sim/sim_tdx.h"
#include "tdx/tdx_internal.h"
#include "testutil.h"
#include "tu_vectors.h"
#include "tu_x509.h"

/* As verify_file below, with a policy appraised before the result is finished (p: NULL none). */
static void verify_file_policy(const char *quote, const char *dir, const char *at, X509 *root,
                               bool allow_trailing, int64_t grace, struct cvma_chain_cache *cache,
                               const struct cvma_policy *p, struct cvma_result *res);

static void verify_file(const char *quote, const char *dir, const char *at, X509 *root,
                        bool allow_trailing, int64_t grace, struct cvma_chain_cache *cache,
                        struct cvma_result *res)
{
    verify_file_policy(quote, dir, at, root, allow_trailing, grace, cache, NULL, res);
}

static void verify_file_policy(const char *quote, const char *dir, const char *at, X509 *root,
                               bool allow_trailing, int64_t grace, struct cvma_chain_cache *cache,
                               const struct cvma_policy *p, struct cvma_result *res)
{
    struct cvma_buf b;
    struct cvma_verify_opts o;
    X509 *roots[1] = {root};
    tu_read(quote, &b);
    memset(&o, 0, sizeof o);
    if (at != NULL) {
        assert_true(cvma_time_parse_rfc3339(at, &o.at));
    } else {
        o.at = time(NULL);
    }
    o.collateral_dir = dir;
    o.offline = true;
    o.cache_dir = dir;
    o.allow_trailing_data = allow_trailing;
    o.collateral_grace_seconds = grace;
    o.trust_roots = roots;
    o.n_trust_roots = root != NULL ? 1 : 0;
    o.chain_cache = cache;
    cvma_result_init(res, "tdx", o.at);
    cvma_tdx_verify(b.p, b.len, &o, NULL, res);
    cvma_policy_appraise(p, res);
    cvma_result_finish(res);
    cvma_buf_free(&b);
}

/* claims.tdx.<name> as the result JSON has it; valid until the next call. */
static const char *claim_tdx(const struct cvma_result *res, const char *name)
{
    static json_t *last;
    json_decref(last);
    last = cvma_result_claims_json(res);
    return json_string_value(json_object_get(json_object_get(last, "tdx"), name));
}

static void test_real_uptodate_quote_verifies(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_result res;
    char *d = tu_path(tu_vectors(), "tdx/v4-uptodate-dcapqvl");
    char *q = tu_path(d, "quote.bin");
    verify_file(q, d, "2025-07-19T10:00:00Z", NULL, false, 0, NULL, &res);
    if (res.status != CVMA_AFFIRMING) {
        fail_msg("%s: %s", cvma_reason_name(res.verdict.reasons[0].code),
                 res.verdict.reasons[0].detail);
    }
    assert_string_equal(res.trust_anchor, "intel-sgx-root-ca");
    assert_string_equal(claim_tdx(&res, "tcb_status"), "UpToDate");
    assert_string_equal(claim_tdx(&res, "qe_tcb_status"), "UpToDate");
    json_t *claims = cvma_result_claims_json(&res);
    assert_int_equal(
            json_array_size(json_object_get(json_object_get(claims, "tdx"), "advisory_ids")), 0);
    assert_string_equal(json_string_value(json_object_get(claims, "measurement")),
                        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae"
                        "6dc5f87f27428b2538873118b7");
    json_decref(claims);
    json_t *pl = cvma_platform_to_json(&res.platform);
    assert_string_equal(json_string_value(json_object_get(pl, "id")),
                        "811dca2a26b952e85bb6448b097ba4fd");
    json_decref(pl);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_PARSE_TRAILING_ZEROS));
    cvma_result_cleanup(&res);
    /* After the collateral's nextUpdate: stale, refused; with a grace period, a warning. */
    verify_file(q, d, "2025-07-25T00:00:00Z", NULL, false, 0, NULL, &res);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_EXPIRED) ||
                cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    cvma_result_cleanup(&res);
    free(q);
    free(d);
}

/* The 2023 Sapphire Rapids quote: every signature good, but no TCB level matches. */
static void test_real_spr_quote_has_no_tcb_level(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_result res;
    char *src = tu_path(tu_vectors(), "tdx/v4-spr-gotdxguest");
    char *d = tu_tmpdir();
    const char *map[][2] = {{"tcb_info_response.json", "tcb_info.json"},
                            {"qe_identity_response.json", "qe_identity.json"},
                            {"tcb_info_issuer_chain.pem", "tcb_info_issuer_chain.pem"},
                            {"tcb_info_issuer_chain.pem", "qe_identity_issuer_chain.pem"},
                            {"pck_crl.der", "pck_crl.der"},
                            {"root_ca_crl.der", "root_ca_crl.der"}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(map); i++) {
        char *a = tu_path(src, map[i][0]), *b = tu_path(d, map[i][1]);
        tu_copy(a, b);
        free(a);
        free(b);
    }
    char *q = tu_path(src, "quote.bin");
    verify_file(q, d, "2023-07-01T01:00:00Z", NULL, false, 0, NULL, &res);
    /* 39 bytes of text after the quote: refused unless allowed. */
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_PARSE_TRAILING_DATA);
    cvma_result_cleanup(&res);
    verify_file(q, d, "2023-07-01T01:00:00Z", NULL, true, 0, NULL, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_TDX_TCB_LEVEL_NOT_FOUND);
    assert_non_null(strstr(res.verdict.reasons[1].detail, "component"));
    /* Authentic all the same: claims and platform filled, no TCB status. */
    json_t *claims = cvma_result_claims_json(&res);
    assert_true(json_is_null(json_object_get(json_object_get(claims, "tdx"), "tcb_status")));
    assert_non_null(json_string_value(json_object_get(claims, "measurement")));
    json_decref(claims);
    json_t *pl = cvma_platform_to_json(&res.platform);
    assert_string_equal(json_string_value(json_object_get(pl, "id_type")), "ppid");
    json_decref(pl);
    cvma_result_cleanup(&res);
    /* The PCK expires in 2029: at 2053 the chain is refused. */
    verify_file(q, d, "2053-07-01T01:00:00Z", NULL, true, 0, NULL, &res);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_CERT_EXPIRED) ||
                cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
    cvma_result_cleanup(&res);
    tu_rmtree(d);
    free(d);
    free(q);
    free(src);
}

/* Every byte of the signed header and body flipped: TDX_QUOTE_SIGNATURE_INVALID (or the
 * header field's own parse reason). */
static void test_real_quote_byte_flips(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    char *d = tu_path(tu_vectors(), "tdx/v4-uptodate-dcapqvl");
    char *qp = tu_path(d, "quote.bin");
    struct cvma_chain_cache *cache = cvma_chain_cache_new(16);
    struct cvma_verify_opts o;
    tu_read(qp, &b);
    memset(&o, 0, sizeof o);
    assert_true(cvma_time_parse_rfc3339("2025-07-19T10:00:00Z", &o.at));
    o.collateral_dir = d;
    o.offline = true;
    o.chain_cache = cache;
    for (size_t off = 0; off < 48 + 584; off++) {
        struct cvma_result res;
        b.p[off] ^= 0x04;
        cvma_result_init(&res, "tdx", o.at);
        cvma_tdx_verify(b.p, b.len, &o, NULL, &res);
        cvma_result_finish(&res);
        b.p[off] ^= 0x04;
        assert_int_equal(res.status, CVMA_CONTRAINDICATED);
        bool sig = cvma_verdict_has(&res.verdict, CVMA_R_TDX_QUOTE_SIGNATURE_INVALID);
        if (!sig) {
            /* Only the header fields the parser checks may refuse first: version, key type,
             * TEE type (0x00..0x07) and the QE vendor ID (0x0C..0x1B). */
            enum cvma_reason r = cvma_verdict_first_error(&res.verdict);
            bool header = off < 0x08 || (off >= 0x0C && off < 0x1C);
            if (!header || !(r == CVMA_R_PARSE_UNKNOWN_VERSION || r == CVMA_R_PARSE_TDX_KEY_TYPE ||
                             r == CVMA_R_PARSE_TDX_TEE_TYPE || r == CVMA_R_PARSE_TDX_QE_VENDOR)) {
                fail_msg("flip at 0x%03zx refused with %s, not TDX_QUOTE_SIGNATURE_INVALID", off,
                         cvma_reason_name(r));
            }
        }
        cvma_result_cleanup(&res);
    }
    cvma_chain_cache_free(cache);
    cvma_buf_free(&b);
    free(qp);
    free(d);
}

/* Tampering with the parts after the signature: each has its own reason. */
static void test_real_quote_tampered_parts(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    char *d = tu_path(tu_vectors(), "tdx/v4-uptodate-dcapqvl");
    char *qp = tu_path(d, "quote.bin");
    char *tmp = tu_tmpdir();
    char *tq = tu_path(tmp, "q.bin");
    tu_read(qp, &b);
    struct {
        size_t off;
        enum cvma_reason want;
    } cases[] = {
            {0x302 + 0x40, CVMA_R_TDX_QE_REPORT_SIGNATURE_INVALID}, /* QE report MRENCLAVE */
            {0x4C4, CVMA_R_TDX_QE_REPORT_DATA_MISMATCH},            /* QE auth data byte 0 */
            {0x2BC, CVMA_R_TDX_QE_REPORT_DATA_MISMATCH},            /* attestation key x */
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_result res;
        b.p[cases[i].off] ^= 0x01;
        tu_write(tq, b.p, b.len);
        b.p[cases[i].off] ^= 0x01;
        verify_file(tq, d, "2025-07-19T10:00:00Z", NULL, false, 0, NULL, &res);
        if (!cvma_verdict_has(&res.verdict, cases[i].want)) {
            fail_msg("offset 0x%zx: wanted %s, got %s", cases[i].off,
                     cvma_reason_name(cases[i].want),
                     cvma_reason_name(cvma_verdict_first_error(&res.verdict)));
        }
        cvma_result_cleanup(&res);
    }
    /* A byte inside the PEM PCK chain (the leaf's signature area): the chain fails. */
    {
        const char *pem = "-----BEGIN CERTIFICATE-----";
        size_t at = 0;
        for (size_t k = 0x4C4; k + strlen(pem) < b.len; k++) {
            if (memcmp(b.p + k, pem, strlen(pem)) == 0) {
                at = k;
                break;
            }
        }
        assert_true(at > 0);
        size_t off = at + 28 + 600; /* well inside the leaf's base64 */
        char orig = (char)b.p[off];
        b.p[off] = orig == 'A' ? 'B' : 'A';
        tu_write(tq, b.p, b.len);
        b.p[off] = (uint8_t)orig;
        struct cvma_result res;
        verify_file(tq, d, "2025-07-19T10:00:00Z", NULL, false, 0, NULL, &res);
        enum cvma_reason r = cvma_verdict_first_error(&res.verdict);
        assert_true(r == CVMA_R_CERT_CHAIN_INVALID || r == CVMA_R_CERT_PARSE ||
                    r == CVMA_R_CERT_EXTENSION_INVALID);
        cvma_result_cleanup(&res);
    }
    tu_rmtree(tmp);
    free(tmp);
    free(tq);
    free(qp);
    free(d);
    cvma_buf_free(&b);
}

/* Tampering with the collateral bodies: COLLATERAL_SIGNATURE_INVALID. */
static void test_real_collateral_tampered(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    const char *files[] = {"tcb_info.json", "qe_identity.json"};
    char *src = tu_path(tu_vectors(), "tdx/v4-uptodate-dcapqvl");
    char *q = tu_path(src, "quote.bin");
    for (size_t i = 0; i < 2; i++) {
        char *d = tu_collateral_dir("tdx/v4-uptodate-dcapqvl");
        char *f = tu_path(d, files[i]);
        struct cvma_buf body;
        tu_read(f, &body);
        /* Change one digit of the issueDate year's last digit inside the signed text. */
        char *pos = strstr((char *)body.p, "\"issueDate\":\"2025");
        assert_non_null(pos);
        pos[16] = '4';
        tu_write(f, body.p, body.len);
        struct cvma_result res;
        verify_file(q, d, "2025-07-19T10:00:00Z", NULL, false, 0, NULL, &res);
        assert_true(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_SIGNATURE_INVALID));
        cvma_result_cleanup(&res);
        cvma_buf_free(&body);
        tu_rmtree(d);
        free(d);
        free(f);
    }
    free(q);
    free(src);
}

/* Every real TDX quote in the shared vectors, with or without collateral: the quote signature,
 * the QE report signature by the PCK key, the attestation key binding and the PCK chain up
 * to the Intel SGX Root CA all verify (MANIFEST: "verified OK" for each). */
static void test_every_real_quote_signature_and_chain(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    static const char *quotes[] = {
            "tdx/v4-uptodate-dcapqvl/quote.bin",
            "tdx/v4-spr-gotdxguest/quote.bin",
            "tdx/v5-gotdxguest/quote.bin",
            "tdx/v4-v5-coco-trustee/tdx_quote_4.dat",
            "tdx/v4-v5-coco-trustee/tdx_quote_5.dat",
            "tdx/v4-v5-coco-trustee/tdx_quote_6.dat",
            "tdx/v4-azure-coco-trustee/td-quote.bin",
            "tdx/v4-gce-ccel-gotdxguest/cos-113-tdx-quote.dat",
    };
    char *rootp = tu_path(tu_vectors(), "tdx/roots/intel_sgx_root_ca.pem");
    struct cvma_buf rb;
    tu_read(rootp, &rb);
    X509 *pinned = cvma_x509_load(rb.p, rb.len);
    assert_non_null(pinned);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(quotes); i++) {
        struct cvma_buf b;
        struct cvma_tdx_quote q;
        struct cvma_verdict v;
        struct cvma_tdx_parse_opts po = {.allow_trailing_data = true};
        char *path = tu_path(tu_vectors(), quotes[i]);
        tu_read(path, &b);
        cvma_verdict_init(&v);
        memset(&q, 0, sizeof q);
        if (cvma_tdx_quote_parse(b.p, b.len, &po, &q, &v) != CVMA_OK) {
            fail_msg("%s: %s", quotes[i], v.reasons[0].detail);
        }
        /* PCK chain, its root byte-identical to the pinned Intel root. */
        STACK_OF(X509) *sk = cvma_x509_load_pem_stack(q.pck_chain_pem.p, q.pck_chain_pem.len);
        assert_non_null(sk);
        assert_int_equal(sk_X509_num(sk), 3);
        assert_int_equal(X509_cmp(sk_X509_value(sk, 2), pinned), 0);
        X509_STORE *st = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        STACK_OF(X509) *untrusted = sk_X509_new_null();
        assert_true(X509_STORE_add_cert(st, pinned) == 1);
        assert_true(sk_X509_push(untrusted, sk_X509_value(sk, 1)) > 0);
        assert_true(X509_STORE_CTX_init(ctx, st, sk_X509_value(sk, 0), untrusted) == 1);
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
        time_t at;
        assert_true(cvma_time_parse_rfc3339("2026-06-01T00:00:00Z", &at));
        X509_STORE_CTX_set_time(ctx, 0, at);
        if (X509_verify_cert(ctx) != 1) {
            fail_msg("%s: PCK chain: %s", quotes[i],
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        }
        /* QE report by the PCK key; attestation key bound to the QE. */
        EVP_PKEY *pck = X509_get0_pubkey(sk_X509_value(sk, 0));
        assert_true(cvma_p256_verify_raw(pck, q.qe_report.raw, CVMA_SGX_REPORT_SIZE,
                                         q.qe_report_signature));
        uint8_t d[32];
        unsigned int dl = 0;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
                    EVP_DigestUpdate(md, q.attestation_key, 64) == 1 &&
                    EVP_DigestUpdate(md, q.qe_auth_data.p, q.qe_auth_data.len) == 1 &&
                    EVP_DigestFinal_ex(md, d, &dl) == 1);
        EVP_MD_CTX_free(md);
        assert_memory_equal(d, q.qe_report.report_data, 32);
        /* The quote by the attestation key. */
        uint8_t pt[65] = {0x04};
        memcpy(pt + 1, q.attestation_key, 64);
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)(uintptr_t) "prime256v1", 0),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt),
                OSSL_PARAM_construct_end()};
        EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *ak = NULL;
        assert_true(EVP_PKEY_fromdata_init(kc) == 1 &&
                    EVP_PKEY_fromdata(kc, &ak, EVP_PKEY_PUBLIC_KEY, params) == 1);
        EVP_PKEY_CTX_free(kc);
        if (!cvma_p256_verify_raw(ak, q.signed_bytes, q.signed_len, q.signature)) {
            fail_msg("%s: quote signature", quotes[i]);
        }
        EVP_PKEY_free(ak);
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
        sk_X509_free(untrusted);
        sk_X509_pop_free(sk, X509_free);
        cvma_tdx_quote_cleanup(&q);
        cvma_verdict_cleanup(&v);
        cvma_buf_free(&b);
        free(path);
    }
    X509_free(pinned);
    cvma_buf_free(&rb);
    free(rootp);
}

/* Without collateral, offline: undecided (exit 3), never a pass. */
static void test_real_quote_without_collateral_is_undecided(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_result res;
    char *q = tu_path(tu_vectors(), "tdx/v4-azure-coco-trustee/td-quote.bin");
    char *empty = tu_tmpdir();
    verify_file(q, empty, NULL, NULL, false, 0, NULL, &res);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE));
    assert_int_equal(cvma_result_exit_code(&res), 3);
    cvma_result_cleanup(&res);
    tu_rmtree(empty);
    free(empty);
    free(q);
}

/* A chain cache too small for one verification's entries: every entry a run borrows from the
 * cache (the verified PCK chain) must stay valid until the run is done (ASan catches a use after
 * a later put evicted it). */
static void test_tiny_chain_cache_keeps_borrowed_entries_valid(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = tu_path(tu_vectors(), "tdx/v4-uptodate-dcapqvl");
    char *q = tu_path(d, "quote.bin");
    for (size_t cap = 1; cap <= 3; cap++) {
        struct cvma_chain_cache *cache = cvma_chain_cache_new(cap);
        assert_non_null(cache);
        for (int run = 0; run < 3; run++) {
            struct cvma_result res;
            verify_file(q, d, "2025-07-19T10:00:00Z", NULL, false, 0, cache, &res);
            assert_int_equal(res.status, CVMA_AFFIRMING);
            json_t *pl = cvma_platform_to_json(&res.platform);
            assert_string_equal(json_string_value(json_object_get(pl, "id")),
                                "811dca2a26b952e85bb6448b097ba4fd");
            json_decref(pl);
            cvma_result_cleanup(&res);
        }
        cvma_chain_cache_free(cache);
    }
    free(q);
    free(d);
}

static void put_u16le(struct cvma_buf *b, uint16_t x)
{
    b->p[b->len++] = (uint8_t)x;
    b->p[b->len++] = (uint8_t)(x >> 8);
}

static void put_u32le(struct cvma_buf *b, uint32_t x)
{
    for (int i = 0; i < 4; i++) {
        b->p[b->len++] = (uint8_t)(x >> (8 * i));
    }
}

static void put_bytes(struct cvma_buf *b, const uint8_t *p, size_t n)
{
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* A quote's PCK chain is exactly PCK, PCK CA and root: one with copies beside them (the PCK
 * CA seven times) is refused (CERT_PARSE), not left to OpenSSL to pick a path from. A cached
 * chain must still re-check the PCK CRL's nextUpdate, and judge its very second as the fresh
 * check does. */
static void test_pck_chain_of_other_lengths_refused_and_cached_crl_time_rechecked(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = tu_path(tu_vectors(), "tdx/v4-uptodate-dcapqvl");
    char *qp = tu_path(d, "quote.bin");
    char *tmp = tu_tmpdir();
    char *tq = tu_path(tmp, "padded.bin");
    struct cvma_buf b, out;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = false};
    tu_read(qp, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_quote_parse(b.p, b.len, &po, &q, &v), CVMA_OK);

    /* PCK, PCK CA seven times, root. */
    STACK_OF(X509) *sk = cvma_x509_load_pem_stack(q.pck_chain_pem.p, q.pck_chain_pem.len);
    assert_non_null(sk);
    assert_int_equal(sk_X509_num(sk), 3);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_X509(bio, sk_X509_value(sk, 0)), 1);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(PEM_write_bio_X509(bio, sk_X509_value(sk, 1)), 1);
    }
    assert_int_equal(PEM_write_bio_X509(bio, sk_X509_value(sk, 2)), 1);
    char *pem = NULL;
    long pem_len = BIO_get_mem_data(bio, &pem);
    assert_true(pem_len > 0);

    /* The same quote with the longer chain: signature data re-assembled around it. */
    size_t cert_size = CVMA_SGX_REPORT_SIZE + 64 + 2 + q.qe_auth_data.len + 2 + 4 + (size_t)pem_len;
    size_t sig_size = 64 + 64 + 2 + 4 + cert_size;
    out.p = malloc(q.signed_len + 4 + sig_size);
    out.len = 0;
    assert_non_null(out.p);
    put_bytes(&out, q.signed_bytes, q.signed_len);
    put_u32le(&out, (uint32_t)sig_size);
    put_bytes(&out, q.signature, 64);
    put_bytes(&out, q.attestation_key, 64);
    put_u16le(&out, CVMA_TDX_CERT_QE_REPORT);
    put_u32le(&out, (uint32_t)cert_size);
    put_bytes(&out, q.qe_report.raw, CVMA_SGX_REPORT_SIZE);
    put_bytes(&out, q.qe_report_signature, 64);
    put_u16le(&out, (uint16_t)q.qe_auth_data.len);
    put_bytes(&out, q.qe_auth_data.p, q.qe_auth_data.len);
    put_u16le(&out, CVMA_TDX_CERT_PCK_CHAIN);
    put_u32le(&out, (uint32_t)pem_len);
    put_bytes(&out, (const uint8_t *)pem, (size_t)pem_len);
    tu_write(tq, out.p, out.len);

    struct cvma_result res;
    verify_file(tq, d, "2025-07-19T09:00:00Z", NULL, false, 0, NULL, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_PARSE);
    assert_true(tu_detail_has(&res.verdict, CVMA_R_CERT_PARSE,
                              "the quote's PCK chain holds 9 PEM certificates, expected PCK, PCK "
                              "CA and root"));
    cvma_result_cleanup(&res);
    tu_write(tq, b.p, b.len); /* the quote as it came */

    /* The PCK CRL runs until 2025-07-19T10:00:35Z; TCB Info, QE Identity and the Root CA CRL
     * are still current ten minutes later. */
    struct cvma_chain_cache *cache = cvma_chain_cache_new(16);
    verify_file(tq, d, "2025-07-19T09:00:00Z", NULL, false, 0, cache, &res);
    assert_int_equal(res.status, CVMA_AFFIRMING);
    cvma_result_cleanup(&res);
    /* The nextUpdate second itself is past, as OpenSSL judges the fresh check: fresh and
     * cached alike (a cache hit used to accept it); the second before is inside. */
    verify_file(tq, d, "2025-07-19T10:00:34Z", NULL, false, 0, cache, &res);
    assert_int_equal(res.status, CVMA_AFFIRMING);
    cvma_result_cleanup(&res);
    for (int cached = 0; cached < 2; cached++) {
        verify_file(tq, d, "2025-07-19T10:00:35Z", NULL, false, 0, cached ? cache : NULL, &res);
        assert_true(cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
        cvma_result_cleanup(&res);
    }
    verify_file(tq, d, "2025-07-19T10:10:00Z", NULL, false, 0, NULL, &res);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
    cvma_result_cleanup(&res);
    verify_file(tq, d, "2025-07-19T10:10:00Z", NULL, false, 0, cache, &res);
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
    cvma_result_cleanup(&res);

    cvma_chain_cache_free(cache);
    BIO_free(bio);
    sk_X509_pop_free(sk, X509_free);
    cvma_buf_free(&out);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
    tu_rmtree(tmp);
    free(tmp);
    free(tq);
    free(qp);
    free(d);
}

/* --- simulated evidence ------------------------------------------------------------------ */

struct simrun {
    char *dir;
    X509 *root;
    struct cvma_result res;
};

static void sim_run(const struct cvma_sim_tdx_opts *o, int64_t grace, struct simrun *r)
{
    char err[256];
    struct cvma_buf rb;
    r->dir = tu_tmpdir();
    if (cvma_sim_tdx_write(o, r->dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim tdx: %s", err);
    }
    char *rp = tu_path(r->dir, "root_ca.pem"), *qp = tu_path(r->dir, "quote.bin");
    tu_read(rp, &rb);
    r->root = cvma_x509_load(rb.p, rb.len);
    assert_non_null(r->root);
    verify_file(qp, r->dir, NULL, r->root, false, grace, NULL, &r->res);
    cvma_buf_free(&rb);
    free(rp);
    free(qp);
}

/* Verifies the quote of an earlier sim_run again (r->res replaced), under policy p. */
static void sim_reverify(struct simrun *r, const struct cvma_policy *p)
{
    char *qp = tu_path(r->dir, "quote.bin");
    cvma_result_cleanup(&r->res);
    verify_file_policy(qp, r->dir, NULL, r->root, false, 0, NULL, p, &r->res);
    free(qp);
}

static void sim_done(struct simrun *r)
{
    cvma_result_cleanup(&r->res);
    X509_free(r->root);
    tu_rmtree(r->dir);
    free(r->dir);
}

static void test_sim_each_tcb_status_maps_as_documented(void **state)
{
    (void)state;
    static const struct {
        enum cvma_sim_tdx_tcb_status s;
        const char *status;
        enum cvma_result_status want;
        enum cvma_reason reason;
    } cases[] = {
            {CVMA_SIM_TDX_TCB_UPTODATE, "UpToDate", CVMA_AFFIRMING, CVMA_R_COUNT_},
            {CVMA_SIM_TDX_TCB_SWHARDENING, "SWHardeningNeeded", CVMA_WARNING,
             CVMA_R_TDX_TCB_NEEDS_ACTION},
            {CVMA_SIM_TDX_TCB_CONFIGNEEDED, "ConfigurationNeeded", CVMA_WARNING,
             CVMA_R_TDX_TCB_NEEDS_ACTION},
            {CVMA_SIM_TDX_TCB_OUTOFDATE, "OutOfDate", CVMA_CONTRAINDICATED,
             CVMA_R_TDX_TCB_OUT_OF_DATE},
            {CVMA_SIM_TDX_TCB_REVOKED, "Revoked", CVMA_CONTRAINDICATED, CVMA_R_TDX_TCB_REVOKED},
            {CVMA_SIM_TDX_TCB_NOLEVEL, NULL, CVMA_CONTRAINDICATED, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_sim_tdx_opts o;
        struct simrun r;
        cvma_sim_tdx_opts_default(&o);
        o.tcb_status = cases[i].s;
        sim_run(&o, 0, &r);
        if (r.res.status != cases[i].want) {
            fail_msg("%s: status %s (%s)", cases[i].status ? cases[i].status : "no level",
                     cvma_result_status_name(r.res.status),
                     r.res.verdict.n_reasons ? r.res.verdict.reasons[0].detail : "");
        }
        if (cases[i].reason != CVMA_R_COUNT_) {
            assert_true(cvma_verdict_has(&r.res.verdict, cases[i].reason));
        }
        if (cases[i].status != NULL && cases[i].want != CVMA_CONTRAINDICATED) {
            assert_string_equal(claim_tdx(&r.res, "tcb_status"), cases[i].status);
        }
        sim_done(&r);
    }
}

/* As sim_run, appraising with the policy JSON before the status is computed. */
static void sim_run_policy(const struct cvma_sim_tdx_opts *o, const char *policy, struct simrun *r)
{
    char err[256];
    struct cvma_buf rb, qb;
    struct cvma_verify_opts vo;
    struct cvma_policy *p = NULL;
    r->dir = tu_tmpdir();
    if (cvma_sim_tdx_write(o, r->dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim tdx: %s", err);
    }
    if (cvma_policy_load_bytes((const uint8_t *)policy, strlen(policy), &p, err, sizeof err) !=
        CVMA_OK) {
        fail_msg("policy: %s", err);
    }
    char *rp = tu_path(r->dir, "root_ca.pem"), *qp = tu_path(r->dir, "quote.bin");
    tu_read(rp, &rb);
    tu_read(qp, &qb);
    r->root = cvma_x509_load(rb.p, rb.len);
    assert_non_null(r->root);
    X509 *roots[1] = {r->root};
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.collateral_dir = r->dir;
    vo.offline = true;
    vo.cache_dir = r->dir;
    vo.trust_roots = roots;
    vo.n_trust_roots = 1;
    cvma_result_init(&r->res, "tdx", vo.at);
    cvma_tdx_verify(qb.p, qb.len, &vo, NULL, &r->res);
    cvma_policy_appraise(p, &r->res);
    cvma_result_finish(&r->res);
    cvma_policy_free(p);
    cvma_buf_free(&rb);
    cvma_buf_free(&qb);
    free(rp);
    free(qp);
}

/* Secure default: a debug TD is refused; tdx.allow_debug true makes it a warning. */
static void test_sim_v5_and_debug(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    cvma_sim_tdx_opts_default(&o);
    o.version = 5;
    o.debug = true;
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_result_exit_code(&r.res), 1);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_TDX_DEBUG);
    assert_non_null(strstr(tu_reason_must(&r.res.verdict, CVMA_R_TDX_DEBUG)->detail,
                           "has debug/profiling bits 7:0 set (0x01)"));
    json_t *claims = cvma_result_claims_json(&r.res);
    assert_true(json_is_true(json_object_get(claims, "debug")));
    json_decref(claims);
    sim_done(&r);
    sim_run_policy(&o, "{\"tdx\": {\"allow_debug\": false}}", &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(tu_reason_must(&r.res.verdict, CVMA_R_TDX_DEBUG)->severity, CVMA_SEV_ERROR);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_POLICY_DEBUG));
    sim_done(&r);
    sim_run_policy(&o, "{\"tdx\": {\"allow_debug\": true}}", &r);
    assert_int_equal(r.res.status, CVMA_WARNING);
    assert_int_equal(cvma_result_exit_code(&r.res), 0);
    assert_int_equal(tu_reason_must(&r.res.verdict, CVMA_R_TDX_DEBUG)->severity, CVMA_SEV_WARNING);
    assert_non_null(strstr(tu_reason_must(&r.res.verdict, CVMA_R_TDX_DEBUG)->detail,
                           "(accepted by policy: tdx.allow_debug is true)"));
    sim_done(&r);
    /* A bound service TD: a warning naming it. */
    cvma_sim_tdx_opts_default(&o);
    o.version = 5;
    o.has_mr_service_td = true;
    memset(o.mr_service_td, 0x5d, sizeof o.mr_service_td);
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_WARNING);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_TDX_SERVICE_TD_BOUND));
    sim_done(&r);
}

/*
 * A quote whose chain ends in its root signed once more (the same name and key, other bytes,
 * as anyone can make from a genuine one): the root is the trusted one, and the collateral's
 * issuer chains that end in it are too. The bytes used to be compared: genuine collateral was
 * refused (CERT_UNTRUSTED_ROOT, "not the pinned root") and, fetched, taken for the
 * collateral's fault and removed from the cache, for anyone's evidence to do again.
 */
static void test_sim_root_in_other_bytes_is_the_same_root(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    struct cvma_buf q, root;
    cvma_sim_tdx_opts_default(&o);
    o.tamper.root_resigned_in_quote = true;
    sim_run(&o, 0, &r);
    char *qp = tu_path(r.dir, "quote.bin"), *rp = tu_path(r.dir, "root_ca.pem");
    tu_read(qp, &q);
    tu_read(rp, &root);
    assert_null(memmem(q.p, q.len, root.p, root.len - 1)); /* not the root's bytes */
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_CERT_UNTRUSTED_ROOT));
    cvma_buf_free(&q);
    cvma_buf_free(&root);
    free(qp);
    free(rp);
    sim_done(&r);
}

static void test_sim_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        size_t off; /* offsetof into tamper, as an index below */
        enum cvma_reason want;
    } cases[] = {
            {"qe_report_data_wrong", 0, CVMA_R_TDX_QE_REPORT_DATA_MISMATCH},
            {"qe_auth_data_flip", 1, CVMA_R_TDX_QE_REPORT_DATA_MISMATCH},
            {"pck_sig_wrong", 2, CVMA_R_TDX_QE_REPORT_SIGNATURE_INVALID},
            {"wrong_fmspc_in_tcb_info", 3, CVMA_R_TDX_FMSPC_MISMATCH},
            {"mrsigner_seam_wrong", 4, CVMA_R_TDX_MODULE_MISMATCH},
            {"qe_mrsigner_wrong", 5, CVMA_R_TDX_QE_IDENTITY_MISMATCH},
            {"tcb_info_sig_wrong", 6, CVMA_R_COLLATERAL_SIGNATURE_INVALID},
            {"qe_identity_sig_wrong", 7, CVMA_R_COLLATERAL_SIGNATURE_INVALID},
            {"pck_cn_wrong", 8, CVMA_R_TDX_PCK_NOT_PCK},
            {"qe_report_data_tail", 9, CVMA_R_TDX_QE_REPORT_DATA_MISMATCH},
            {"pck_crl_no_next_update", 10, CVMA_R_CRL_INVALID},
            {"pck_cn_padded", 11, CVMA_R_TDX_PCK_NOT_PCK},
            {"pck_is_ca", 12, CVMA_R_TDX_PCK_NOT_PCK},
            {"pck_sha384", 13, CVMA_R_CERT_CHAIN_INVALID},
            {"tcb_signer_sha384", 14, CVMA_R_CERT_CHAIN_INVALID},
            {"pck_crl_sha384", 15, CVMA_R_CRL_INVALID},
            {"root_crl_sha384", 16, CVMA_R_CRL_INVALID},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_sim_tdx_opts o;
        struct simrun r;
        cvma_sim_tdx_opts_default(&o);
        bool *flags[] = {&o.tamper.qe_report_data_wrong,
                         &o.tamper.qe_auth_data_flip,
                         &o.tamper.pck_sig_wrong,
                         &o.tamper.wrong_fmspc_in_tcb_info,
                         &o.tamper.mrsigner_seam_wrong,
                         &o.tamper.qe_mrsigner_wrong,
                         &o.tamper.tcb_info_sig_wrong,
                         &o.tamper.qe_identity_sig_wrong,
                         &o.tamper.pck_cn_wrong,
                         &o.tamper.qe_report_data_tail,
                         &o.tamper.pck_crl_no_next_update,
                         &o.tamper.pck_cn_padded,
                         &o.tamper.pck_is_ca,
                         &o.tamper.pck_sha384,
                         &o.tamper.tcb_signer_sha384,
                         &o.tamper.pck_crl_sha384,
                         &o.tamper.root_crl_sha384};
        *flags[cases[i].off] = true;
        sim_run(&o, 0, &r);
        if (r.res.status != CVMA_CONTRAINDICATED ||
            !cvma_verdict_has(&r.res.verdict, cases[i].want)) {
            fail_msg("%s: wanted %s, got %s", cases[i].what, cvma_reason_name(cases[i].want),
                     cvma_reason_name(cvma_verdict_first_error(&r.res.verdict)));
        }
        sim_done(&r);
    }
}

static void test_sim_revoked_pck_and_stale_collateral(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    cvma_sim_tdx_opts_default(&o);
    o.revoke_pck = true;
    sim_run(&o, 0, &r);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CERT_REVOKED);
    sim_done(&r);
    cvma_sim_tdx_opts_default(&o);
    o.stale = true;
    sim_run(&o, 0, &r);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_COLLATERAL_EXPIRED);
    sim_done(&r);
    /* Within a 60-day grace period: a warning. */
    sim_run(&o, 60 * 86400, &r);
    assert_int_equal(r.res.status, CVMA_WARNING);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_COLLATERAL_EXPIRED));
    sim_done(&r);
}

static const struct cvma_verdict_reason *reason_in_result(const struct cvma_result *res,
                                                          enum cvma_reason code)
{
    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        if (res->verdict.reasons[i].code == code) {
            return &res->verdict.reasons[i];
        }
    }
    fail_msg("no %s among %zu reasons", cvma_reason_name(code), res->verdict.n_reasons);
    return NULL;
}

static struct cvma_policy *policy(const char *json)
{
    struct cvma_policy *p = NULL;
    char err[256];
    if (cvma_policy_load_bytes((const uint8_t *)json, strlen(json), &p, err, sizeof err) !=
        CVMA_OK) {
        fail_msg("policy %s: %s", json, err);
    }
    return p;
}

/* A TD launched on an OutOfDate TDX module, the module hot-updated since: TDRelaunchAdvised,
 * refused by default like OutOfDate; accepted only when a policy lists the status. */
static void test_sim_relaunch_advised_is_refused_unless_a_policy_accepts_it(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    const struct cvma_verdict_reason *rr;
    cvma_sim_tdx_opts_default(&o);
    o.version = 5;
    o.tcb_status = CVMA_SIM_TDX_TCB_RELAUNCH;
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_TDX_TCB_RELAUNCH_ADVISED);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_TDX_TCB_NEEDS_ACTION));
    assert_string_equal(claim_tdx(&r.res, "tcb_status"), "TDRelaunchAdvised");
    assert_string_equal(claim_tdx(&r.res, "platform_tcb_status"), "UpToDate");
    assert_string_equal(claim_tdx(&r.res, "module_tcb_status"), "OutOfDate"); /* at launch */
    rr = reason_in_result(&r.res, CVMA_R_TDX_TCB_RELAUNCH_ADVISED);
    assert_non_null(strstr(rr->detail, "TDRelaunchAdvised"));
    assert_non_null(strstr(rr->detail, "INTEL-SA-00106")); /* the launch module's advisories */

    /* Listed: accepted deliberately, the reason lowered to a warning (status warning). */
    struct cvma_policy *p = policy("{\"tdx\": {\"accepted_tcb_statuses\": [\"UpToDate\", "
                                   "\"TDRelaunchAdvised\"]}}");
    sim_reverify(&r, p);
    assert_int_equal(r.res.status, CVMA_WARNING);
    rr = reason_in_result(&r.res, CVMA_R_TDX_TCB_RELAUNCH_ADVISED);
    assert_int_equal(rr->severity, CVMA_SEV_WARNING);
    assert_non_null(strstr(rr->detail, "accepted by policy"));
    cvma_policy_free(p);

    /* A list that does not name it: still refused. */
    p = policy("{\"tdx\": {\"accepted_tcb_statuses\": [\"OutOfDate\"]}}");
    sim_reverify(&r, p);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_POLICY_TCB_STATUS));
    assert_int_equal(reason_in_result(&r.res, CVMA_R_TDX_TCB_RELAUNCH_ADVISED)->severity,
                     CVMA_SEV_ERROR);
    cvma_policy_free(p);
    sim_done(&r);
}

/* Every signature and the PCK chain verified, the TCB evaluation failed: the claims and the
 * platform are filled, with no TCB status (null). */
static void test_sim_no_tcb_level_still_fills_claims(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    json_t *tdx, *claims;
    char ppid[33];
    cvma_sim_tdx_opts_default(&o);
    o.tcb_status = CVMA_SIM_TDX_TCB_NOLEVEL;
    o.has_ppid = true;
    memset(o.ppid, 0xA5, sizeof o.ppid);
    o.has_mr_td = true;
    memset(o.mr_td, 0x3C, sizeof o.mr_td);
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_TDX_TCB_LEVEL_NOT_FOUND);
    claims = cvma_result_claims_json(&r.res);
    assert_string_equal(json_string_value(json_object_get(claims, "measurement")),
                        "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c"
                        "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c");
    cvma_hex_encode(o.ppid, sizeof o.ppid, ppid, sizeof ppid);
    json_t *pl = cvma_platform_to_json(&r.res.platform);
    assert_string_equal(json_string_value(json_object_get(pl, "id")), ppid);
    json_decref(pl);
    tdx = json_object_get(claims, "tdx");
    assert_true(json_is_object(tdx));
    assert_true(json_is_null(json_object_get(tdx, "tcb_status")));
    assert_true(json_is_null(json_object_get(tdx, "platform_tcb_status")));
    assert_true(json_is_null(json_object_get(tdx, "qe_tcb_status")));
    assert_true(json_is_null(json_object_get(tdx, "tcb_date")));
    assert_int_equal(json_array_size(json_object_get(tdx, "advisory_ids")), 0);
    assert_int_equal(json_array_size(json_object_get(tdx, "rtmr")), 4);
    json_decref(claims);

    /* A policy accepting statuses cannot accept a missing one: the refusal stands. */
    struct cvma_policy *p = policy("{\"tdx\": {\"accepted_tcb_statuses\": [\"OutOfDate\"]}}");
    sim_reverify(&r, p);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND));
    cvma_policy_free(p);
    sim_done(&r);

    /* A signature that does not verify: no claims at all. */
    cvma_sim_tdx_opts_default(&o);
    o.tamper.pck_sig_wrong = true;
    sim_run(&o, 0, &r);
    claims = cvma_result_claims_json(&r.res);
    assert_int_equal(json_object_size(claims), 0);
    json_decref(claims);
    pl = cvma_platform_to_json(&r.res.platform);
    assert_int_equal(json_object_size(pl), 0);
    json_decref(pl);
    sim_done(&r);
}

/* Signs inner with the PEM private key in key_path and writes the PCS body to path. */
static void write_signed_qe_identity(const char *key_path, const char *inner, const char *path)
{
    struct cvma_buf kb;
    BIO *bio;
    EVP_PKEY *key;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80], rs[64];
    size_t der_len = sizeof der;
    const uint8_t *dp = der;
    ECDSA_SIG *sig;
    const BIGNUM *r, *s;
    char hex[129], *body;
    size_t n;

    tu_read(key_path, &kb);
    bio = BIO_new_mem_buf(kb.p, (int)kb.len);
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    assert_non_null(key);
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, der, &der_len, (const uint8_t *)inner, strlen(inner)), 1);
    sig = d2i_ECDSA_SIG(NULL, &dp, (long)der_len);
    assert_non_null(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    assert_int_equal(BN_bn2binpad(r, rs, 32), 32);
    assert_int_equal(BN_bn2binpad(s, rs + 32, 32), 32);
    cvma_hex_encode(rs, sizeof rs, hex, sizeof hex);
    n = strlen(inner) + 200;
    body = malloc(n);
    assert_non_null(body);
    snprintf(body, n, "{\"enclaveIdentity\":%s,\"signature\":\"%s\"}", inner, hex);
    tu_write(path, (const uint8_t *)body, strlen(body));
    free(body);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    BIO_free(bio);
    cvma_buf_free(&kb);
}

/*
 * QE Identity levels are sorted by isvsvn, highest first, before the QE's level is chosen (as
 * current QVL does): levels written in ascending order give the same answer as in descending
 * order. The simulated QE has ISVSVN 4; taken in file order, the ascending list would land on
 * isvsvn 1 (OutOfDate) and refuse the quote.
 */
static void test_sim_unordered_qe_identity_gives_the_same_answer(void **state)
{
    (void)state;
    static const char *const orders[] = {"ascending", "descending"};
    static const char lv_old[] =
            "{\"tcb\":{\"isvsvn\":1},\"tcbDate\":\"2018-01-04T00:00:00Z\","
            "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00615\"]}";
    static const char lv_new[] = "{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:00:00Z\","
                                 "\"tcbStatus\":\"UpToDate\"}";
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    cvma_sim_tdx_opts_default(&o);
    o.keep_keys = true;
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    for (size_t k = 0; k < CVMA_ARRAY_LEN(orders); k++) {
        char *qp = tu_path(r.dir, "qe_identity.json"), *kp = tu_path(r.dir, "tcb_signing-key.pem");
        struct cvma_buf b;
        json_t *doc, *inner, *levels;
        char *text;
        tu_read(qp, &b);
        doc = json_loadb((const char *)b.p, b.len, 0, NULL);
        assert_non_null(doc);
        inner = json_object_get(doc, "enclaveIdentity");
        levels = json_array();
        json_array_append_new(levels, json_loads(k == 0 ? lv_old : lv_new, 0, NULL));
        json_array_append_new(levels, json_loads(k == 0 ? lv_new : lv_old, 0, NULL));
        json_object_set_new(inner, "tcbLevels", levels);
        text = json_dumps(inner, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_non_null(text);
        write_signed_qe_identity(kp, text, qp);
        sim_reverify(&r, NULL);
        if (r.res.status != CVMA_AFFIRMING) {
            fail_msg("%s QE levels: %s (%s)", orders[k], cvma_result_status_name(r.res.status),
                     r.res.verdict.n_reasons ? r.res.verdict.reasons[0].detail : "");
        }
        assert_string_equal(claim_tdx(&r.res, "qe_tcb_status"), "UpToDate");
        assert_string_equal(claim_tdx(&r.res, "tcb_status"), "UpToDate");
        free(text);
        json_decref(doc);
        cvma_buf_free(&b);
        free(kp);
        free(qp);
    }
    sim_done(&r);
}

/* The private key a keep_keys sim run wrote to dir/name. */
static EVP_PKEY *sim_key(const char *dir, const char *name)
{
    struct cvma_buf kb;
    char *p = tu_path(dir, name);
    tu_read(p, &kb);
    BIO *bio = BIO_new_mem_buf(kb.p, (int)kb.len);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    assert_non_null(key);
    BIO_free(bio);
    cvma_buf_free(&kb);
    free(p);
    return key;
}

/* The v4 quote of a keep_keys sim run with TD_ATTRIBUTES (quote offset 0xA8) set to attrs,
 * signed again by its attestation key: still a genuine quote. */
static void sim_set_td_attributes(const char *dir, uint64_t attrs)
{
    struct cvma_buf q;
    char *qp = tu_path(dir, "quote.bin");
    EVP_PKEY *ak = sim_key(dir, "attestation-key.pem");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t der_len = sizeof der;
    const uint8_t *dp = der;
    const BIGNUM *r, *s;

    tu_read(qp, &q);
    assert_true(q.len > 0x27C + 64 && q.p[0] == 4);
    for (int i = 0; i < 8; i++) {
        q.p[0xA8 + i] = (uint8_t)(attrs >> (8 * i));
    }
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ak), 1);
    assert_int_equal(EVP_DigestSign(md, der, &der_len, q.p, 0x278), 1);
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &dp, (long)der_len);
    assert_non_null(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    assert_int_equal(BN_bn2binpad(r, q.p + 0x27C, 32), 32);
    assert_int_equal(BN_bn2binpad(s, q.p + 0x27C + 32, 32), 32);
    tu_write(qp, q.p, q.len);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(ak);
    cvma_buf_free(&q);
    free(qp);
}

/*
 * TD_ATTRIBUTES bits 7:0 are the TD-under-debug group: DEBUG (bit 0), the profiling bits
 * (HGS_PLUS_PROF 4, PERF_PROF 5, PMT_PROF 6) and reserved ones. Any of them set is not a
 * production TD: TDX_DEBUG by default, whichever bit it is. A bit outside the group
 * (MIGRATABLE) is not.
 */
static void test_sim_any_debug_group_bit_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    char want[8];
    cvma_sim_tdx_opts_default(&o);
    o.keep_keys = true;
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    sim_set_td_attributes(r.dir, CVMA_TDX_TD_ATTR_SEPT_VE_DISABLE | CVMA_TDX_TD_ATTR_MIGRATABLE);
    sim_reverify(&r, NULL);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    for (unsigned bit = 1; bit < 8; bit++) {
        sim_set_td_attributes(r.dir, CVMA_TDX_TD_ATTR_SEPT_VE_DISABLE | (1ull << bit));
        sim_reverify(&r, NULL);
        snprintf(want, sizeof want, "(0x%02x)", 1u << bit);
        if (r.res.status != CVMA_CONTRAINDICATED ||
            cvma_verdict_first_error(&r.res.verdict) != CVMA_R_TDX_DEBUG ||
            strstr(tu_reason_must(&r.res.verdict, CVMA_R_TDX_DEBUG)->detail, want) == NULL) {
            fail_msg("TD_ATTRIBUTES bit %u: %s, first error %s", bit,
                     cvma_result_status_name(r.res.status),
                     cvma_reason_name(cvma_verdict_first_error(&r.res.verdict)));
        }
    }
    sim_done(&r);
}

/* --report-data (opts.report_data) must equal the quote's REPORTDATA. */
static void test_sim_report_data_must_match(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    struct cvma_buf qb;
    cvma_sim_tdx_opts_default(&o);
    memset(o.report_data, 0x42, sizeof o.report_data);
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    char *qp = tu_path(r.dir, "quote.bin");
    tu_read(qp, &qb);
    for (int k = 0; k < 2; k++) {
        struct cvma_verify_opts vo;
        struct cvma_result res;
        X509 *roots[1] = {r.root};
        memset(&vo, 0, sizeof vo);
        vo.at = time(NULL);
        vo.collateral_dir = r.dir;
        vo.offline = true;
        vo.cache_dir = r.dir;
        vo.trust_roots = roots;
        vo.n_trust_roots = 1;
        vo.has_report_data = true;
        memset(vo.report_data, 0x42, sizeof vo.report_data);
        vo.report_data[63] ^= (uint8_t)k; /* k == 1: one bit off */
        cvma_result_init(&res, "tdx", vo.at);
        cvma_tdx_verify(qb.p, qb.len, &vo, NULL, &res);
        cvma_result_finish(&res);
        if (k == 0) {
            assert_int_equal(res.status, CVMA_AFFIRMING);
            assert_false(cvma_verdict_has(&res.verdict, CVMA_R_NONCE_REPORT_DATA_MISMATCH));
        } else {
            assert_int_equal(res.status, CVMA_CONTRAINDICATED);
            assert_int_equal(cvma_verdict_first_error(&res.verdict),
                             CVMA_R_NONCE_REPORT_DATA_MISMATCH);
        }
        cvma_result_cleanup(&res);
    }
    cvma_buf_free(&qb);
    free(qp);
    sim_done(&r);
}

/* The PCK certificate of dir's quote.bin: the first PEM certificate in its certification
 * data. */
static X509 *quote_pck(const char *dir)
{
    struct cvma_buf b;
    char *qp = tu_path(dir, "quote.bin");
    tu_read(qp, &b);
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    const uint8_t *a = memmem(b.p, b.len, begin, strlen(begin));
    const uint8_t *z = a != NULL ? memmem(a, b.len - (size_t)(a - b.p), end, strlen(end)) : NULL;
    assert_true(a != NULL && z != NULL);
    X509 *x = cvma_x509_load(a, (size_t)(z - a) + strlen(end));
    assert_non_null(x);
    cvma_buf_free(&b);
    free(qp);
    return x;
}

/* A CRL signed by the key in key_file of a keep_keys sim run, issued by issuer, listing
 * `revoked` (NULL: none), with a critical extension when ext is not NID_undef (NID_delta_crl:
 * a delta CRL; NID_issuing_distribution_point: one narrowed to some certificates); PEM when
 * pem, else DER. Appended to the run's file out when append, else written over it. */
static void sim_write_crl(const struct simrun *r, const char *key_file, X509 *issuer,
                          const char *out, X509 *revoked, int ext, bool pem, bool append)
{
    EVP_PKEY *key = sim_key(r->dir, key_file);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *lu = ASN1_TIME_adj(NULL, time(NULL), -1, 0);
    ASN1_TIME *nu = ASN1_TIME_adj(NULL, time(NULL), 30, 0);
    assert_true(issuer != NULL && crl != NULL);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, lu), 1);
    assert_int_equal(X509_CRL_set1_nextUpdate(crl, nu), 1);
    if (revoked != NULL) {
        X509_REVOKED *rv = X509_REVOKED_new();
        assert_non_null(rv);
        X509_REVOKED_set_serialNumber(rv, X509_get_serialNumber(revoked));
        X509_REVOKED_set_revocationDate(rv, lu);
        X509_CRL_add0_revoked(crl, rv);
    }
    if (ext == NID_delta_crl) {
        ASN1_INTEGER *base = ASN1_INTEGER_new();
        assert_true(base != NULL && ASN1_INTEGER_set(base, 1) == 1);
        assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, base, 1, 0), 1);
        ASN1_INTEGER_free(base);
    } else if (ext == NID_issuing_distribution_point) {
        ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
        assert_non_null(idp);
        idp->onlyuser = 1;
        assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0), 1);
        ISSUING_DIST_POINT_free(idp);
    }
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    char *p = tu_path(r->dir, out);
    FILE *f = fopen(p, append ? "ab" : "wb");
    assert_non_null(f);
    assert_int_equal(pem ? PEM_write_X509_CRL(f, crl) : i2d_X509_CRL_fp(f, crl), 1);
    assert_int_equal(fclose(f), 0);
    free(p);
    ASN1_TIME_free(lu);
    ASN1_TIME_free(nu);
    X509_CRL_free(crl);
    EVP_PKEY_free(key);
}

/* A Root CA CRL signed by the root of a keep_keys sim run, listing `revoked` (NULL: none). */
static void sim_write_root_ca_crl(const struct simrun *r, X509 *revoked)
{
    sim_write_crl(r, "root_ca-key.pem", r->root, "root_ca_crl.der", revoked, NID_undef, false,
                  false);
}

/* A PCK CRL signed by the PCK CA of a keep_keys sim run (sim_write_crl). */
static void sim_write_pck_crl(const struct simrun *r, X509 *revoked, int ext, bool pem, bool append)
{
    X509 *ca = tu_pem_cert(r->dir, "pck_crl_issuer_chain.pem", 0);
    sim_write_crl(r, "pck_ca-key.pem", ca, "pck_crl.der", revoked, ext, pem, append);
    X509_free(ca);
}

/*
 * The PCK CA listed in the Root CA CRL: the quote's PCK chain is revoked above its leaf
 * (OpenSSL checks a CRL for every certificate of the chain, not only the leaf's).
 */
static void test_sim_pck_ca_revoked_by_root_ca_crl(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    cvma_sim_tdx_opts_default(&o);
    o.keep_keys = true;
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    X509 *pck_ca = tu_pem_cert(r.dir, "pck_crl_issuer_chain.pem", 0);
    assert_non_null(pck_ca);
    /* A CRL written here that lists nothing is taken: the refusal below is the listing's. */
    sim_write_root_ca_crl(&r, NULL);
    sim_reverify(&r, NULL);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    sim_write_root_ca_crl(&r, pck_ca);
    sim_reverify(&r, NULL);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CERT_REVOKED);
    assert_non_null(strstr(tu_reason_must(&r.res.verdict, CVMA_R_CERT_REVOKED)->detail, "PCK CA"));
    X509_free(pck_ca);
    sim_done(&r);
}

/*
 * The PCK CRL is checked as every CRL is (cvma_crl_times): a delta CRL, which OpenSSL's
 * chain check took as a complete one, and one with a critical issuing distribution point are
 * refused (CRL_INVALID); a PEM file that holds two CRLs is refused whatever their order,
 * never read up to its first (a revocation in the second would be missed).
 */
static void test_sim_pck_crl_of_another_shape_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    struct simrun r;
    cvma_sim_tdx_opts_default(&o);
    o.keep_keys = true;
    sim_run(&o, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    X509 *pck = quote_pck(r.dir);
    /* written here, listing nothing: taken (DER, and one PEM CRL) */
    sim_write_pck_crl(&r, NULL, NID_undef, false, false);
    sim_reverify(&r, NULL);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    sim_write_pck_crl(&r, NULL, NID_undef, true, false);
    sim_reverify(&r, NULL);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    sim_write_pck_crl(&r, NULL, NID_delta_crl, false, false);
    sim_reverify(&r, NULL);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CRL_INVALID);
    assert_non_null(strstr(tu_reason_must(&r.res.verdict, CVMA_R_CRL_INVALID)->detail,
                           "PCK CRL: a delta CRL (deltaCRLIndicator), not a complete one"));
    sim_write_pck_crl(&r, NULL, NID_issuing_distribution_point, false, false);
    sim_reverify(&r, NULL);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CRL_INVALID);
    assert_non_null(strstr(tu_reason_must(&r.res.verdict, CVMA_R_CRL_INVALID)->detail,
                           "PCK CRL: a critical extension this check does not process"));
    /* two PEM CRLs, the one revoking the PCK second, then first */
    for (int k = 0; k < 2; k++) { /* (quote_pck asserted the PCK was found) */
        sim_write_pck_crl(&r, k == 0 ? NULL : pck, NID_undef, true, false);
        sim_write_pck_crl(&r, k == 0 ? pck : NULL, NID_undef, true, true);
        sim_reverify(&r, NULL);
        assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CRL_INVALID);
    }
    X509_free(pck);
    sim_done(&r);
}

static void test_sim_without_trust_root_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_tdx_opts o;
    char err[256];
    cvma_sim_tdx_opts_default(&o);
    char *d = tu_tmpdir();
    assert_int_equal(cvma_sim_tdx_write(&o, d, err, sizeof err), CVMA_OK);
    char *qp = tu_path(d, "quote.bin");
    struct cvma_result res;
    verify_file(qp, d, NULL, NULL, false, 0, NULL, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_UNTRUSTED_ROOT);
    cvma_result_cleanup(&res);
    tu_rmtree(d);
    free(d);
    free(qp);
}

/* A verification of the simulated quote of r offline, trusting r's root, with the bundle parts
 * given (the evidence's) and dir (may be NULL) as --collateral DIR; its exit code. */
static int sim_verify_parts(struct simrun *r, const char *dir, const struct cvma_named_part *parts,
                            size_t n, struct cvma_result *res)
{
    struct cvma_verify_opts o;
    struct cvma_buf q;
    X509 *roots[1] = {r->root};
    char *qp = tu_path(r->dir, "quote.bin");
    tu_read(qp, &q);
    free(qp);
    memset(&o, 0, sizeof o);
    o.at = time(NULL);
    o.offline = true;
    o.collateral_dir = dir;
    o.cache_dir = r->dir; /* the simulator writes no cache entries */
    o.trust_roots = roots;
    o.n_trust_roots = 1;
    o.collateral_parts = parts;
    o.n_collateral_parts = n;
    cvma_result_init(res, "tdx", o.at);
    cvma_tdx_verify(q.p, q.len, &o, NULL, res);
    cvma_result_finish(res);
    cvma_buf_free(&q);
    return cvma_result_exit_code(res);
}

/* For a chain to another root than Intel's (a --trust-root; PCS and the cache have nothing for
 * it): --collateral DIR first, the bundle's items only for what the directory lacks. A bundle
 * TCB Info with a broken signature is therefore not seen beside a directory that has one, and
 * is the evidence's fault without; no COLLATERAL_FROM_EVIDENCE for such a root. */
static void test_sim_bundle_items_after_the_directorys(void **state)
{
    (void)state;
    static const char *const names[] = {"tcb_info.json",    "tcb_info_issuer_chain.pem",
                                        "qe_identity.json", "qe_identity_issuer_chain.pem",
                                        "pck_crl.der",      "root_ca_crl.der"};
    struct cvma_sim_tdx_opts so;
    struct simrun r;
    struct cvma_buf data[CVMA_ARRAY_LEN(names)];
    struct cvma_named_part parts[CVMA_ARRAY_LEN(names)];
    struct cvma_result res;

    cvma_sim_tdx_opts_default(&so);
    sim_run(&so, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        char *p = tu_path(r.dir, names[i]);
        tu_read(p, &data[i]);
        free(p);
        parts[i] = (struct cvma_named_part){names[i], {data[i].p, data[i].len}, false};
    }
    /* One hex digit of the TCB Info's signature changed. */
    char *sig = strstr((char *)data[0].p, "\"signature\":\"");
    assert_non_null(sig);
    sig += strlen("\"signature\":\"");
    *sig = *sig == '0' ? '1' : '0';

    char *empty = tu_path(r.dir, "empty");
    assert_int_equal(mkdir(empty, 0700), 0);
    /* The directory has all four: the bundle's are not used. */
    assert_int_equal(sim_verify_parts(&r, r.dir, parts, CVMA_ARRAY_LEN(parts), &res), 0);
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE));
    cvma_result_cleanup(&res);
    /* An empty directory: the bundle's, the broken signature the evidence's fault. */
    assert_int_equal(sim_verify_parts(&r, empty, parts, CVMA_ARRAY_LEN(parts), &res), 1);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_COLLATERAL_SIGNATURE_INVALID);
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE));
    cvma_result_cleanup(&res);
    /* A directory with the CRLs only: the TCB Info is still the bundle's. */
    char *crls = tu_path(r.dir, "crls");
    assert_int_equal(mkdir(crls, 0700), 0);
    for (size_t i = 4; i < CVMA_ARRAY_LEN(names); i++) {
        char *p = tu_path(crls, names[i]);
        tu_write(p, data[i].p, data[i].len);
        free(p);
    }
    assert_int_equal(sim_verify_parts(&r, crls, parts, CVMA_ARRAY_LEN(parts), &res), 1);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_COLLATERAL_SIGNATURE_INVALID);
    cvma_result_cleanup(&res);
    /* The TCB Info's pair in the directory too: affirming again. */
    for (size_t i = 0; i < 2; i++) {
        char *from = tu_path(r.dir, names[i]), *to = tu_path(crls, names[i]);
        tu_copy(from, to);
        free(from);
        free(to);
    }
    assert_int_equal(sim_verify_parts(&r, crls, parts, CVMA_ARRAY_LEN(parts), &res), 0);
    cvma_result_cleanup(&res);

    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        cvma_buf_free(&data[i]);
    }
    free(crls);
    free(empty);
    sim_done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_real_uptodate_quote_verifies),
            cmocka_unit_test(test_real_spr_quote_has_no_tcb_level),
            cmocka_unit_test(test_real_quote_byte_flips),
            cmocka_unit_test(test_real_quote_tampered_parts),
            cmocka_unit_test(test_real_collateral_tampered),
            cmocka_unit_test(test_every_real_quote_signature_and_chain),
            cmocka_unit_test(test_real_quote_without_collateral_is_undecided),
            cmocka_unit_test(test_tiny_chain_cache_keeps_borrowed_entries_valid),
            cmocka_unit_test(test_pck_chain_of_other_lengths_refused_and_cached_crl_time_rechecked),
            cmocka_unit_test(test_sim_each_tcb_status_maps_as_documented),
            cmocka_unit_test(test_sim_v5_and_debug),
            cmocka_unit_test(test_sim_root_in_other_bytes_is_the_same_root),
            cmocka_unit_test(test_sim_refusals),
            cmocka_unit_test(test_sim_any_debug_group_bit_is_refused),
            cmocka_unit_test(test_sim_report_data_must_match),
            cmocka_unit_test(test_sim_pck_ca_revoked_by_root_ca_crl),
            cmocka_unit_test(test_sim_pck_crl_of_another_shape_is_refused),
            cmocka_unit_test(test_sim_revoked_pck_and_stale_collateral),
            cmocka_unit_test(test_sim_without_trust_root_is_refused),
            cmocka_unit_test(test_sim_bundle_items_after_the_directorys),
            cmocka_unit_test(test_sim_relaunch_advised_is_refused_unless_a_policy_accepts_it),
            cmocka_unit_test(test_sim_no_tcb_level_still_fills_claims),
            cmocka_unit_test(test_sim_unordered_qe_identity_gives_the_same_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
