/*
 * TPM 2.0 quote verification (src/tpm) on a real-world quote: the GCP Shielded VM (Windows)
 * quote of go-attestation's test data, verified with its own AK and PCR values, then altered.
 * The swtpm-made quotes and their refusals are in tests/e2e/tpm_swtpm.sh.
 */
#include <time.h>

#include "result/result.h"
#include "testutil.h"
#include "tpm/tpm.h"
#include "tu_jwk.h"

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
            "0x00050472");
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
    char *p = malloc(g.pcrs.len + 1);
    assert_non_null(p);
    memcpy(p, g.pcrs.p, g.pcrs.len);
    p[g.pcrs.len] = '\0';
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

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tpm_gcp_quote_verifies_with_its_ak_but_is_not_affirming),
            cmocka_unit_test(test_tpm_gcp_quote_ak_as_jwk),
            cmocka_unit_test(test_tpm_gcp_quote_in_a_tpm2b_attest_verifies),
            cmocka_unit_test(test_tpm_gcp_quote_rejects_a_changed_pcr_value),
            cmocka_unit_test(test_tpm_gcp_quote_rejects_trailing_bytes),
            cmocka_unit_test(test_tpm_gcp_quote_mutation_sweep),
            cmocka_unit_test(test_tpm_pcrs_parse_reads_tpm2_pcrread_yaml),
            cmocka_unit_test(test_tpm_pcrs_parse_rejects_a_value_of_the_wrong_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
