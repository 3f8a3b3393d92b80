/*
 * TPM 2.0 quote verification (src/tpm) on a real-world quote: the GCP Shielded VM (Windows)
 * quote of go-attestation's test data, verified with its own AK and PCR values, then altered.
 * The AK's bounds (RSA size, declared sizes, ECC curve and point sizes) on quotes made here
 * and signed with OpenSSL keys. The swtpm-made quotes and their refusals are in
 * tests/e2e/tpm_swtpm.sh.
 */
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include "common/jcheck.h"
#include "result/result.h"
#include "testutil.h"
#include "tpm/tpm.h"
#include "tu_jwk.h"
#include "tu_tpm.h"

#define GCP "tpm/gcp-windows-quote-goattestation/"

struct gcp {
    struct cvma_buf attest, sig, ak, pcrs;
};

static void gcp_load(struct gcp *g)
{
    const char *files[4] = {GCP "quote_attest.bin", GCP "quote_sig.tpmt", GCP "ak_public.tpmt",
                            GCP "pcrs_sha1.json"};
    struct cvma_buf *out[4] = {&g->attest, &g->sig, &g->ak, &g->pcrs};
    for (int i = 0; i < 4; i++) {
        char *p = tu_path(tu_vectors(), files[i]);
        tu_read(p, out[i]);
        free(p);
    }
}

static void gcp_free(struct gcp *g)
{
    cvma_buf_free(&g->attest);
    cvma_buf_free(&g->sig);
    cvma_buf_free(&g->ak);
    cvma_buf_free(&g->pcrs);
}

/* Verifies attest (the sample's or an altered copy) with the sample's signature and AK. */
static void run(const struct gcp *g, const uint8_t *attest, size_t attest_len, const uint8_t *pcrs,
                size_t pcrs_len, struct cvma_result *res)
{
    struct cvma_tpm_quote_in in;
    memset(&in, 0, sizeof in);
    in.attest.p = attest;
    in.attest.len = attest_len;
    in.sig.p = g->sig.p;
    in.sig.len = g->sig.len;
    in.ak.p = g->ak.p;
    in.ak.len = g->ak.len;
    in.pcrs.p = pcrs;
    in.pcrs.len = pcrs_len;
    in.has_nonce = true; /* the sample carries no extraData */
    cvma_result_init(res, "tpm", time(NULL));
    cvma_tpm_quote_verify(&in, res);
    cvma_result_finish(res);
}

static void test_tpm_gcp_quote_verifies_with_its_ak_but_is_not_affirming(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct gcp g;
    struct cvma_result res;
    gcp_load(&g);
    run(&g, g.attest.p, g.attest.len, g.pcrs.p, g.pcrs.len, &res);
    assert_int_equal(res.status, CVMA_WARNING);
    assert_int_equal(res.verdict.n_reasons, 1);
    assert_int_equal(res.verdict.reasons[0].code, CVMA_R_TPM_AK_NOT_BOUND);
    json_t *claims = cvma_result_claims_json(&res);
    const json_t *t = json_object_get(claims, "tpm");
    assert_string_equal(json_string_value(json_object_get(
                                json_object_get(json_object_get(t, "pcrs"), "sha1"), "0")),
                        "51c323de0c0c694f4601cdd02beb58ff13629f74");
    assert_string_equal(json_string_value(json_object_get(t, "pcr_digest")),
                        "a610f27bc687ce906243287d832706036e79f6e1");
    assert_string_equal(json_string_value(json_object_get(t, "signature_hash")), "sha1");
    assert_string_equal(
            json_string_value(json_object_get(json_object_get(t, "ak"), "object_attributes")),
            "00050472");
    json_decref(claims);
    cvma_result_cleanup(&res);
    gcp_free(&g);
}

/* claims.tpm.ak.jwk is the AK (RSA n/e, the same SubjectPublicKeyInfo as spki_sha256), and it
 * is the attested key only once something vouches for the AK. */
static void test_tpm_gcp_quote_ak_as_jwk(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct gcp g;
    struct cvma_result res;
    gcp_load(&g);
    run(&g, g.attest.p, g.attest.len, g.pcrs.p, g.pcrs.len, &res);
    json_t *claims = cvma_result_claims_json(&res);
    const json_t *ak = json_object_get(json_object_get(claims, "tpm"), "ak");
    const json_t *jwk = json_object_get(ak, "jwk");
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "RSA");
    assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
    char spki[65];
    tu_jwk_spki_sha256(jwk, spki);
    assert_string_equal(spki, json_string_value(json_object_get(ak, "spki_sha256")));
    /* TPM_AK_NOT_BOUND: no attested key. */
    assert_null(cvma_tpm_attested_key(&res));
    cvma_result_cleanup(&res);

    struct cvma_tpm_quote_in in;
    memset(&in, 0, sizeof in);
    in.attest.p = g.attest.p;
    in.attest.len = g.attest.len;
    in.sig.p = g.sig.p;
    in.sig.len = g.sig.len;
    in.ak.p = g.ak.p;
    in.ak.len = g.ak.len;
    in.pcrs.p = g.pcrs.p;
    in.pcrs.len = g.pcrs.len;
    in.has_nonce = true;
    in.ak_bound_by = "test";
    cvma_result_init(&res, "tpm", time(NULL));
    cvma_tpm_quote_verify(&in, &res);
    cvma_result_finish(&res);
    json_t *key = cvma_tpm_attested_key(&res);
    assert_non_null(key);
    assert_true(json_equal(key, jwk));
    json_decref(key);
    res.tee = "sev-snp"; /* not a vTPM kind */
    assert_null(cvma_tpm_attested_key(&res));
    res.tee = "tpm";
    json_decref(claims);
    cvma_result_cleanup(&res);
    gcp_free(&g);
}

static void test_tpm_gcp_quote_in_a_tpm2b_attest_verifies(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct gcp g;
    struct cvma_result res;
    gcp_load(&g);
    uint8_t *b = malloc(g.attest.len + 2);
    assert_non_null(b);
    b[0] = (uint8_t)(g.attest.len >> 8);
    b[1] = (uint8_t)g.attest.len;
    memcpy(b + 2, g.attest.p, g.attest.len);
    run(&g, b, g.attest.len + 2, g.pcrs.p, g.pcrs.len, &res);
    assert_int_equal(res.status, CVMA_WARNING);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_TPM_AK_NOT_BOUND));
    cvma_result_cleanup(&res);
    free(b);
    gcp_free(&g);
}

static void test_tpm_gcp_quote_rejects_a_changed_pcr_value(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct gcp g;
    struct cvma_result res;
    gcp_load(&g);
    char *p = tu_strndup(g.pcrs.p, g.pcrs.len);
    char *at = strstr(p, "51c323de");
    assert_non_null(at);
    at[0] = '6';
    run(&g, g.attest.p, g.attest.len, (const uint8_t *)p, g.pcrs.len, &res);
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_TPM_PCR_DIGEST_MISMATCH);
    json_t *claims = cvma_result_claims_json(&res);
    assert_null(json_object_get(json_object_get(claims, "tpm"), "pcrs"));
    json_decref(claims);
    cvma_result_cleanup(&res);
    free(p);
    gcp_free(&g);
}

static void test_tpm_gcp_quote_rejects_trailing_bytes(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct gcp g;
    struct cvma_result res;
    gcp_load(&g);
    uint8_t *b = malloc(g.attest.len + 1);
    assert_non_null(b);
    memcpy(b, g.attest.p, g.attest.len);
    b[g.attest.len] = 0x01;
    run(&g, b, g.attest.len + 1, g.pcrs.p, g.pcrs.len, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_PARSE_TRAILING_DATA);
    cvma_result_cleanup(&res);
    free(b);
    gcp_free(&g);
}

/* Every bit of the quote flipped, and every truncation: never accepted, always a named reason. */
static void test_tpm_gcp_quote_mutation_sweep(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct gcp g;
    gcp_load(&g);
    uint8_t *b = malloc(g.attest.len);
    assert_non_null(b);
    for (size_t bit = 0; bit < 8 * g.attest.len; bit++) {
        struct cvma_result res;
        memcpy(b, g.attest.p, g.attest.len);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        run(&g, b, g.attest.len, g.pcrs.p, g.pcrs.len, &res);
        if (res.status != CVMA_CONTRAINDICATED || !cvma_verdict_has_error(&res.verdict)) {
            fail_msg("bit %zu flipped: status %d", bit, (int)res.status);
        }
        cvma_result_cleanup(&res);
    }
    for (size_t n = 0; n < g.attest.len; n++) {
        struct cvma_result res;
        run(&g, g.attest.p, n, g.pcrs.p, g.pcrs.len, &res);
        if (res.status != CVMA_CONTRAINDICATED || !cvma_verdict_has_error(&res.verdict)) {
            fail_msg("truncated to %zu: status %d", n, (int)res.status);
        }
        cvma_result_cleanup(&res);
    }
    free(b);
    gcp_free(&g);
}

/* A clock past 2^63 - 1 (an owner's TPM2_ClockSet) is a decimal string, never a negative
 * number; below it a number. */
static void test_tpm_clock_json_never_negative(void **state)
{
    (void)state;
    json_t *j = cvma_tpm_clock_json(UINT64_C(0x8000000000000000));
    assert_true(json_is_string(j));
    assert_string_equal(json_string_value(j), "9223372036854775808");
    json_decref(j);
    j = cvma_tpm_clock_json(UINT64_MAX);
    assert_string_equal(json_string_value(j), "18446744073709551615");
    json_decref(j);
    j = cvma_tpm_clock_json((uint64_t)INT64_MAX);
    assert_true(json_is_integer(j));
    assert_true(json_integer_value(j) == INT64_MAX);
    json_decref(j);
}

static void test_tpm_pcrs_parse_reads_tpm2_pcrread_yaml(void **state)
{
    (void)state;
    static const char yaml[] =
            "  sha1:\n"
            "  sha256:\n"
            "    0 : 0x0000000000000000000000000000000000000000000000000000000000000000\n"
            "    16: 0x9851312028952521510E8EAAB5BE94E7DC24B5FC292B2E9781173CF11FFA9878\n";
    struct cvma_tpm_pcrs p;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tpm_pcrs_parse((const uint8_t *)yaml, strlen(yaml), NULL, &p, &v),
                     CVMA_OK);
    assert_true(p.set[1][0]);
    assert_true(p.set[1][16]);
    assert_false(p.set[0][0]);
    assert_int_equal(p.v[1][16][0], 0x98);
    cvma_verdict_cleanup(&v);
}

/* Inside a bank, a key meant as an index that is not one (above 31, a leading zero, a sign,
 * hex) is refused as in JSON, not passed over; other keys (tpm2_quote's "calcDigest") are. */
static void test_tpm_pcrs_parse_refuses_a_yaml_key_that_is_no_index(void **state)
{
    (void)state;
    static const char *const keys[] = {"32", "99", "07", "00", "-1", "+1", "0x1", "123", "1a"};
    static const char *const values[] = {
            "0x0000000000000000000000000000000000000000000000000000000000000000", "0xzz"};
    char yaml[512];
    struct cvma_tpm_pcrs p;
    struct cvma_verdict v;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(keys); i++) {
        for (size_t j = 0; j < CVMA_ARRAY_LEN(values); j++) {
            snprintf(yaml, sizeof yaml,
                     "sha256:\n"
                     "  0 : 0x0000000000000000000000000000000000000000000000000000000000000000\n"
                     "  %s : %s\n",
                     keys[i], values[j]);
            cvma_verdict_init(&v);
            if (cvma_tpm_pcrs_parse((const uint8_t *)yaml, strlen(yaml), NULL, &p, &v) !=
                CVMA_REJECTED) {
                fail_msg("key '%s', value '%s': accepted", keys[i], values[j]);
            }
            assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_TPM_PCRS_MALFORMED);
            assert_false(p.set[1][0]);
            cvma_verdict_cleanup(&v);
        }
    }
    /* A key that is no index at all is not a PCR line. */
    snprintf(yaml, sizeof yaml,
             "sha256:\n"
             "  0 : 0x0000000000000000000000000000000000000000000000000000000000000000\n"
             "calcDigest: 0xzz\n");
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tpm_pcrs_parse((const uint8_t *)yaml, strlen(yaml), NULL, &p, &v),
                     CVMA_OK);
    assert_true(p.set[1][0]);
    cvma_verdict_cleanup(&v);
}

static void test_tpm_pcrs_parse_rejects_a_value_of_the_wrong_size(void **state)
{
    (void)state;
    static const char js[] = "{\"sha256\": {\"0\": \"0011\"}}";
    struct cvma_tpm_pcrs p;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tpm_pcrs_parse((const uint8_t *)js, strlen(js), NULL, &p, &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_TPM_PCRS_MALFORMED);
    cvma_verdict_cleanup(&v);
}

/* PCR JSON is read by the JSON checker first (common/jcheck.h): at most
 * CVMA_JSON_EVIDENCE_MAX_VALUES values, the object itself counted; one more is refused as
 * malformed, naming the cap, before jansson builds anything. */
static void pcrs_json_of(size_t values, struct cvma_buf *b)
{
    /* {"x": [0,0,...]}: the object, the array and values - 2 zeros. */
    size_t zeros = values - 2;
    b->p = malloc(16 + 2 * zeros);
    assert_non_null(b->p);
    memcpy(b->p, "{\"x\": [0", 8);
    b->len = 8;
    for (size_t i = 1; i < zeros; i++) {
        memcpy(b->p + b->len, ",0", 2);
        b->len += 2;
    }
    memcpy(b->p + b->len, "]}", 2);
    b->len += 2;
}

static void test_tpm_pcrs_json_is_capped_before_it_is_built(void **state)
{
    (void)state;
    struct cvma_buf b = {0};
    struct cvma_tpm_pcrs p;
    struct cvma_verdict v;
    char want[64];

    /* At the cap: parsed (and refused for its unknown bank, not for its size). */
    pcrs_json_of(CVMA_JSON_EVIDENCE_MAX_VALUES, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tpm_pcrs_parse(b.p, b.len, NULL, &p, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_TPM_PCRS_MALFORMED);
    snprintf(want, sizeof want, "more than %u JSON values", CVMA_JSON_EVIDENCE_MAX_VALUES);
    assert_null(strstr(v.reasons[0].detail, want));
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);

    /* One over: refused by the cap, which the detail names. */
    pcrs_json_of(CVMA_JSON_EVIDENCE_MAX_VALUES + 1, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tpm_pcrs_parse(b.p, b.len, NULL, &p, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_TPM_PCRS_MALFORMED);
    assert_non_null(strstr(v.reasons[0].detail, want));
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
}

static void test_tpm_pcrs_parse_gives_back_nothing_when_a_later_value_is_refused(void **state)
{
    (void)state;
    /* PCR 0 is good; PCR 1 is not: the refusal must not leave PCR 0 set. */
    static const char js[] = "{\"sha256\": {\"0\": \"00000000000000000000000000000000"
                             "00000000000000000000000000000000\", \"1\": \"0011\"}}";
    static const char yaml[] = "sha256:\n  0 : 0x00000000000000000000000000000000"
                               "00000000000000000000000000000000\n  1 : 0x0011\n";
    static const struct cvma_tpm_pcrs zero;
    struct cvma_tpm_pcrs p;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tpm_pcrs_parse((const uint8_t *)js, strlen(js), NULL, &p, &v),
                     CVMA_REJECTED);
    assert_memory_equal(&p, &zero, sizeof p);
    assert_int_equal(cvma_tpm_pcrs_parse((const uint8_t *)yaml, strlen(yaml), NULL, &p, &v),
                     CVMA_REJECTED);
    assert_memory_equal(&p, &zero, sizeof p);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_TPM_PCRS_MALFORMED);
    cvma_verdict_cleanup(&v);
}

/* ---- AK bounds, on quotes signed here ------------------------------------------------- */

static const uint8_t NONCE[4] = {0x6e, 0x6f, 0x6e, 0x63};

/* A quote of PCR 0 with NONCE and a PCR digest of 0x5a bytes, signed by key (tu_tpm.h). */
static void quote_make(EVP_PKEY *key, struct cvma_buf *attest, struct cvma_buf *sigbuf)
{
    uint8_t digest[32];
    memset(digest, 0x5a, sizeof digest);
    tu_tpm_quote(key, NONCE, sizeof NONCE, digest, false, attest, sigbuf);
}

/* key's public area as an AK the TPM protects would have it (RSASSA / ECDSA SHA-256). */
static void public_of(EVP_PKEY *key, TPMT_PUBLIC *pub)
{
    memset(pub, 0, sizeof *pub);
    pub->nameAlg = TPM2_ALG_SHA256;
    pub->objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
                            TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                            TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        BIGNUM *n = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        pub->type = TPM2_ALG_RSA;
        pub->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        pub->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        pub->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        pub->parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)(8 * BN_num_bytes(n));
        pub->unique.rsa.size = (UINT16)BN_bn2bin(n, pub->unique.rsa.buffer);
        BN_free(n);
    } else {
        uint8_t pt[1 + 2 * 66];
        size_t len = 0;
        assert_int_equal(
                EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &len),
                1);
        size_t fs = (len - 1) / 2;
        pub->type = TPM2_ALG_ECC;
        pub->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        pub->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
        pub->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        pub->parameters.eccDetail.curveID = fs == 32 ? TPM2_ECC_NIST_P256 : TPM2_ECC_NIST_P384;
        pub->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        pub->unique.ecc.x.size = (UINT16)fs;
        pub->unique.ecc.y.size = (UINT16)fs;
        memcpy(pub->unique.ecc.x.buffer, pt + 1, fs);
        memcpy(pub->unique.ecc.y.buffer, pt + 1 + fs, fs);
    }
}

static void public_bytes(const TPMT_PUBLIC *pub, struct cvma_buf *out)
{
    uint8_t buf[2048];
    size_t off = 0;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    tu_buf_set(out, buf, off);
}

static void pem_bytes(EVP_PKEY *key, struct cvma_buf *out)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PUBKEY(b, key), 1);
    long n = BIO_get_mem_data(b, &p);
    tu_buf_set(out, (const uint8_t *)p, (size_t)n);
    BIO_free(b);
}

/* Verifies the quote key signed (quote_make) with the AK ak (PEM or TPMT_PUBLIC bytes). */
static void run_ak(const struct cvma_buf *attest, const struct cvma_buf *sig,
                   const struct cvma_buf *ak, struct cvma_result *res)
{
    struct cvma_tpm_quote_in in;
    memset(&in, 0, sizeof in);
    in.attest.p = attest->p;
    in.attest.len = attest->len;
    in.sig.p = sig->p;
    in.sig.len = sig->len;
    in.ak.p = ak->p;
    in.ak.len = ak->len;
    in.has_nonce = true;
    in.nonce = NONCE;
    in.nonce_len = sizeof NONCE;
    cvma_result_init(res, "tpm", time(NULL));
    cvma_tpm_quote_verify(&in, res);
    cvma_result_finish(res);
}

/* A quote signed by key, verified with the AK bytes ak (consumed): TPM_AK_MALFORMED whose
 * detail contains want, or (want NULL) the signature verified (only warnings). */
static void expect_ak(EVP_PKEY *key, struct cvma_buf *ak, const char *want)
{
    struct cvma_buf attest, sig;
    struct cvma_result res;
    quote_make(key, &attest, &sig);
    run_ak(&attest, &sig, ak, &res);
    if (want == NULL) {
        assert_int_equal(res.status, CVMA_WARNING);
        assert_false(cvma_verdict_has_error(&res.verdict));
        assert_true(res.claims.verified);
    } else {
        assert_int_equal(res.status, CVMA_CONTRAINDICATED);
        assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_TPM_AK_MALFORMED);
        assert_non_null(strstr(res.verdict.reasons[0].detail, want));
        assert_false(res.claims.verified);
    }
    cvma_result_cleanup(&res);
    cvma_buf_free(&attest);
    cvma_buf_free(&sig);
    cvma_buf_free(ak);
}

/* The AK given as the public area pub (TPMT_PUBLIC). */
static void expect_public(EVP_PKEY *key, const TPMT_PUBLIC *pub, const char *want)
{
    struct cvma_buf ak;
    public_bytes(pub, &ak);
    expect_ak(key, &ak, want);
}

/* The AK given as key's PEM public key. */
static void expect_pem(EVP_PKEY *key, const char *want)
{
    struct cvma_buf ak;
    pem_bytes(key, &ak);
    expect_ak(key, &ak, want);
}

/* clockInfo.safe is a TPMI_YES_NO: a quote (validly signed) with any other byte there is
 * refused as malformed, by the verifier and by the parser show uses. */
static void test_tpm_attest_safe_other_than_0_or_1_refused(void **state)
{
    static const uint8_t safe[] = {0, 1, 2, 0x80, 0xff};
    (void)state;
    EVP_PKEY *key = EVP_RSA_gen(2048);
    assert_non_null(key);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(safe); i++) {
        struct cvma_buf attest, sig, ak;
        struct cvma_result res;
        struct cvma_tpm_attest *at = calloc(1, sizeof *at);
        struct cvma_verdict v;
        uint8_t digest[32];
        assert_non_null(at);
        memset(digest, 0x5a, sizeof digest);
        tu_tpm_quote_safe_byte(key, NONCE, sizeof NONCE, digest, safe[i], &attest, &sig);
        pem_bytes(key, &ak);
        run_ak(&attest, &sig, &ak, &res);
        cvma_verdict_init(&v);
        enum cvma_status st = cvma_tpm_attest_parse(attest.p, attest.len, false, at, &v);
        if (safe[i] <= 1) {
            assert_int_equal(res.status, CVMA_WARNING);
            assert_true(res.claims.verified);
            assert_int_equal(st, CVMA_OK);
            assert_int_equal(at->a.clockInfo.safe, safe[i]);
        } else {
            assert_int_equal(res.status, CVMA_CONTRAINDICATED);
            assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_TPM_ATTEST_MALFORMED);
            assert_non_null(strstr(res.verdict.reasons[0].detail, "clockInfo.safe"));
            assert_int_equal(st, CVMA_REJECTED);
            assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_TPM_ATTEST_MALFORMED);
        }
        cvma_verdict_cleanup(&v);
        cvma_result_cleanup(&res);
        cvma_buf_free(&attest);
        cvma_buf_free(&sig);
        cvma_buf_free(&ak);
        free(at);
    }
    EVP_PKEY_free(key);
}

/* Runs the verification of attest, sig and ak with stderr going to a file; fails the test
 * when anything was written there. */
static void run_ak_quietly(const struct cvma_buf *attest, const struct cvma_buf *sig,
                           const struct cvma_buf *ak, struct cvma_result *res)
{
    FILE *err = tmpfile();
    char said[512];
    assert_non_null(err);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(err), STDERR_FILENO) >= 0);
    run_ak(attest, sig, ak, res);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(err);
    size_t n = fread(said, 1, sizeof said - 1, err);
    said[n] = '\0';
    fclose(err);
    if (n > 0) {
        fail_msg("the verification wrote to stderr: %s", said);
    }
}

/*
 * Malformed TPM structures are refused by name and nothing is printed: a library never writes
 * to stderr, and a client of the service could otherwise fill its log. libtss2-mu, which read
 * them before, logged lines such as "Tss2_MU_TPML_PCR_SELECTION_Unmarshal() count too big"
 * there for a quote selecting 17 banks.
 */
static void test_tpm_malformed_structures_refused_without_printing(void **state)
{
    /* the quote (tu_tpm.h, NONCE): magic, type, qualifiedSigner (empty), extraData (4 bytes),
     * clockInfo, firmwareVersion, then the TPML_PCR_SELECTION */
    const size_t extra_at = 4 + 2 + 2, count_at = extra_at + 2 + sizeof NONCE + 17 + 8;
    static const struct {
        const char *what;
        int part; /* 0 quote, 1 signature, 2 AK */
        size_t at, width;
        uint32_t value;
        enum cvma_reason want;
        const char *detail;
    } cases[] = {
            {"17 PCR banks", 0, 0, 4, 17, CVMA_R_TPM_ATTEST_MALFORMED, "pcrSelect.count above 16"},
            {"a sizeofSelect of 5", 0, 6, 1, 5, CVMA_R_TPM_ATTEST_MALFORMED,
             "sizeofSelect above 4"},
            {"extraData of 65 bytes", 0, SIZE_MAX, 2, 65, CVMA_R_TPM_ATTEST_MALFORMED,
             "extraData.size above 64"},
            {"an unknown sigAlg", 1, 0, 2, 0x7777, CVMA_R_TPM_SIGNATURE_MALFORMED, "sigAlg is not"},
            {"a signature of 0xffff bytes", 1, 4, 2, 0xffff, CVMA_R_TPM_SIGNATURE_MALFORMED,
             "not a TPMT_SIGNATURE"},
            /* type, nameAlg, objectAttributes, authPolicy (empty), symmetric (NULL), scheme */
            {"an unknown AK scheme", 2, 12, 2, 0x7777, CVMA_R_TPM_AK_MALFORMED,
             "parameters.scheme.scheme"},
            {"an AK of type KEYEDHASH", 2, 0, 2, TPM2_ALG_KEYEDHASH, CVMA_R_TPM_AK_MALFORMED,
             "neither"},
    };
    (void)state;
    EVP_PKEY *key = EVP_RSA_gen(2048);
    TPMT_PUBLIC pub;
    assert_non_null(key);
    public_of(key, &pub);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_buf b[3];
        struct cvma_result res;
        quote_make(key, &b[0], &b[1]);
        public_bytes(&pub, &b[2]);
        size_t at = cases[i].at == SIZE_MAX ? extra_at
                                            : (cases[i].part == 0 ? count_at : 0) + cases[i].at;
        for (size_t k = 0; k < cases[i].width; k++) {
            b[cases[i].part].p[at + k] =
                    (uint8_t)(cases[i].value >> (8 * (cases[i].width - 1 - k)));
        }
        run_ak_quietly(&b[0], &b[1], &b[2], &res);
        print_message("%s: %s\n", cases[i].what, res.verdict.reasons[0].detail);
        assert_int_equal(res.status, CVMA_CONTRAINDICATED);
        assert_int_equal(cvma_verdict_first_error(&res.verdict), cases[i].want);
        assert_non_null(strstr(res.verdict.reasons[0].detail, cases[i].detail));
        cvma_result_cleanup(&res);
        for (int k = 0; k < 3; k++) {
            cvma_buf_free(&b[k]);
        }
    }
    EVP_PKEY_free(key);
}

/* The helpers make quotes that verify: RSA-2048, P-256 and P-384 AKs, as TPMT_PUBLIC and PEM. */
static void test_tpm_ak_rsa2048_and_p256_quotes_verify(void **state)
{
    (void)state;
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    TPMT_PUBLIC pub;
    assert_non_null(rsa);
    assert_non_null(ec);
    public_of(rsa, &pub);
    expect_public(rsa, &pub, NULL);
    expect_pem(rsa, NULL);
    public_of(ec, &pub);
    expect_public(ec, &pub, NULL);
    expect_pem(ec, NULL);
    EVP_PKEY *ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_non_null(ec384);
    public_of(ec384, &pub);
    assert_int_equal(pub.parameters.eccDetail.curveID, TPM2_ECC_NIST_P384);
    expect_public(ec384, &pub, NULL);
    expect_pem(ec384, NULL);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

/* An AK as a TPM2B_PUBLIC: taken when its size field is its public area's, refused when it
 * says anything else (libtss2-mu does not compare them). */
static void test_tpm_ak_tpm2b_size_must_match(void **state)
{
    (void)state;
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    TPMT_PUBLIC pub;
    struct cvma_buf t, ak;
    assert_non_null(ec);
    public_of(ec, &pub);
    public_bytes(&pub, &t);
    for (int i = 0; i < 3; i++) {
        uint16_t size = (uint16_t)(i == 0 ? t.len : i == 1 ? 10 : t.len - 1);
        uint8_t *b = malloc(t.len + 2);
        assert_non_null(b);
        b[0] = (uint8_t)(size >> 8);
        b[1] = (uint8_t)size;
        memcpy(b + 2, t.p, t.len);
        tu_buf_set(&ak, b, t.len + 2);
        free(b);
        expect_ak(ec, &ak, i == 0 ? NULL : "TPM2B_PUBLIC whose size field says");
    }
    cvma_buf_free(&t);
    EVP_PKEY_free(ec);
}

/* A 1024-bit RSA AK whose signature verifies: refused as PEM and as TPMT_PUBLIC. */
static void test_tpm_ak_rsa1024_refused(void **state)
{
    (void)state;
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    TPMT_PUBLIC pub;
    assert_non_null(rsa);
    expect_pem(rsa, "RSA key of 1024 bits, want at least 2048");
    public_of(rsa, &pub);
    expect_public(rsa, &pub, "RSA key of 1024 bits, want at least 2048");
    EVP_PKEY_free(rsa);
}

/* keyBits must be the modulus' size, and the modulus as long as declared. */
static void test_tpm_ak_rsa_declared_size_must_match(void **state)
{
    (void)state;
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *short_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2040);
    TPMT_PUBLIC pub;
    assert_non_null(rsa);
    assert_non_null(short_rsa);
    public_of(rsa, &pub);
    pub.parameters.rsaDetail.keyBits = 4096;
    expect_public(rsa, &pub, "keyBits 4096, but the modulus is 256 bytes (2048 bits)");
    pub.parameters.rsaDetail.keyBits = 1024;
    expect_public(rsa, &pub, "keyBits 1024, but the modulus is 256 bytes");
    /* A 2040-bit key declared as 2048 bits: its modulus given as 256 bytes, the first zero. */
    public_of(short_rsa, &pub);
    assert_int_equal(pub.unique.rsa.size, 255);
    memmove(pub.unique.rsa.buffer + 1, pub.unique.rsa.buffer, 255);
    pub.unique.rsa.buffer[0] = 0;
    pub.unique.rsa.size = 256;
    pub.parameters.rsaDetail.keyBits = 2048;
    expect_public(short_rsa, &pub, "modulus starts with a zero byte");
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(short_rsa);
}

/* An ECC point's coordinates are exactly the curve's size: a P-256 key whose x (or y) starts
 * with a zero byte, given without it, is refused; so is a P-256 curve with P-384 sizes. */
static void test_tpm_ak_ecc_point_size_must_match_the_curve(void **state)
{
    (void)state;
    EVP_PKEY *ec = NULL;
    TPMT_PUBLIC pub;
    for (int i = 0; i < 20000; i++) {
        ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(ec);
        public_of(ec, &pub);
        if (pub.unique.ecc.x.buffer[0] == 0 || pub.unique.ecc.y.buffer[0] == 0) {
            break;
        }
        EVP_PKEY_free(ec);
        ec = NULL;
    }
    assert_non_null(ec);
    TPM2B_ECC_PARAMETER *c =
            pub.unique.ecc.x.buffer[0] == 0 ? &pub.unique.ecc.x : &pub.unique.ecc.y;
    memmove(c->buffer, c->buffer + 1, 31);
    c->size = 31;
    expect_public(ec, &pub, "P-256 point with x of");
    public_of(ec, &pub);
    pub.unique.ecc.x.size = 48;
    expect_public(ec, &pub, "x of 48 and y of 32 bytes, want 32 each");
    public_of(ec, &pub);
    pub.parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
    expect_public(ec, &pub, "ECC curve 0x0010");
    EVP_PKEY_free(ec);
}

/* An RSA AK whose public exponent is 1 (under which every signature verifies), even, or
 * given as 1 in a TPMT_PUBLIC, is refused by name, as a PEM key and as a public area. */
static void test_tpm_ak_rsa_exponent_must_be_odd_and_3_or_more(void **state)
{
    (void)state;
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    BIGNUM *n = NULL;
    TPMT_PUBLIC pub;
    static const unsigned long bad[] = {1, 2, 65536};
    assert_non_null(rsa);
    assert_int_equal(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* the same modulus with that exponent, as a PEM public key */
        BIGNUM *e = BN_new();
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        EVP_PKEY *weak = NULL;
        assert_true(e != NULL && bld != NULL && ctx != NULL && BN_set_word(e, bad[i]) == 1);
        assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
        assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
        assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
        assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
        assert_int_equal(EVP_PKEY_fromdata(ctx, &weak, EVP_PKEY_PUBLIC_KEY, params), 1);
        struct cvma_buf ak;
        pem_bytes(weak, &ak);
        expect_ak(rsa, &ak, "public exponent is not odd and at least 3");
        EVP_PKEY_free(weak);
        EVP_PKEY_CTX_free(ctx);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        BN_free(e);
    }
    public_of(rsa, &pub);
    pub.parameters.rsaDetail.exponent = 1;
    expect_public(rsa, &pub, "public exponent is not odd and at least 3");
    BN_free(n);
    EVP_PKEY_free(rsa);
}

/* A public area's name algorithm gives the AK's name (claims.tpm.ak.name): SHA-1, SHA-256,
 * SHA-384 and SHA-512 are taken, TPM_ALG_NULL, SM3 and an unknown one refused by name; so is
 * an AK with a reserved TPMA_OBJECT bit set (no TPM makes one), whose signature verifies. */
static void test_tpm_ak_name_algorithm_and_reserved_attributes_checked(void **state)
{
    (void)state;
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    TPMT_PUBLIC pub;
    static const TPM2_ALG_ID good[] = {TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384,
                                       TPM2_ALG_SHA512};
    static const struct {
        TPM2_ALG_ID alg;
        const char *want;
    } bad[] = {{TPM2_ALG_NULL, "name algorithm 0x0010, want SHA-1"},
               {TPM2_ALG_SM3_256, "name algorithm 0x0012"},
               {0x1234, "name algorithm 0x1234"}};
    static const struct {
        uint32_t bits;
        const char *want;
    } reserved[] = {{0x00000001, "sets reserved bits 0x00000001"},
                    {0x00000008, "sets reserved bits 0x00000008"},
                    {0x00000300, "sets reserved bits 0x00000300"},
                    {0x00008000, "sets reserved bits 0x00008000"},
                    {0x00100000, "sets reserved bits 0x00100000"},
                    {0x80000001, "objectAttributes 0x80050073 sets reserved bits 0x80000001"}};
    assert_non_null(rsa);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        public_of(rsa, &pub);
        pub.nameAlg = good[i];
        expect_public(rsa, &pub, NULL);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        public_of(rsa, &pub);
        pub.nameAlg = bad[i].alg;
        expect_public(rsa, &pub, bad[i].want);
    }
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        public_of(rsa, &pub);
        pub.objectAttributes |= reserved[i].bits;
        expect_public(rsa, &pub, reserved[i].want);
    }
    EVP_PKEY_free(rsa);
}

/* A PEM AK on a curve other than NIST P-256/384/521 (secp256k1), whose ECDSA signature
 * verifies, is refused. */
static void test_tpm_ak_pem_other_curve_refused(void **state)
{
    (void)state;
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    assert_non_null(ec);
    expect_pem(ec, "curve 'secp256k1'");
    EVP_PKEY_free(ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tpm_gcp_quote_verifies_with_its_ak_but_is_not_affirming),
            cmocka_unit_test(test_tpm_gcp_quote_ak_as_jwk),
            cmocka_unit_test(test_tpm_gcp_quote_in_a_tpm2b_attest_verifies),
            cmocka_unit_test(test_tpm_gcp_quote_rejects_a_changed_pcr_value),
            cmocka_unit_test(test_tpm_gcp_quote_rejects_trailing_bytes),
            cmocka_unit_test(test_tpm_gcp_quote_mutation_sweep),
            cmocka_unit_test(test_tpm_clock_json_never_negative),
            cmocka_unit_test(test_tpm_pcrs_parse_reads_tpm2_pcrread_yaml),
            cmocka_unit_test(test_tpm_pcrs_parse_refuses_a_yaml_key_that_is_no_index),
            cmocka_unit_test(test_tpm_pcrs_parse_rejects_a_value_of_the_wrong_size),
            cmocka_unit_test(test_tpm_pcrs_json_is_capped_before_it_is_built),
            cmocka_unit_test(test_tpm_pcrs_parse_gives_back_nothing_when_a_later_value_is_refused),
            cmocka_unit_test(test_tpm_attest_safe_other_than_0_or_1_refused),
            cmocka_unit_test(test_tpm_malformed_structures_refused_without_printing),
            cmocka_unit_test(test_tpm_ak_rsa2048_and_p256_quotes_verify),
            cmocka_unit_test(test_tpm_ak_rsa1024_refused),
            cmocka_unit_test(test_tpm_ak_tpm2b_size_must_match),
            cmocka_unit_test(test_tpm_ak_rsa_exponent_must_be_odd_and_3_or_more),
            cmocka_unit_test(test_tpm_ak_rsa_declared_size_must_match),
            cmocka_unit_test(test_tpm_ak_ecc_point_size_must_match_the_curve),
            cmocka_unit_test(test_tpm_ak_name_algorithm_and_reserved_attributes_checked),
            cmocka_unit_test(test_tpm_ak_pem_other_curve_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
