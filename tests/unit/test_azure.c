/*
 * The Azure HCL report parser and Trustee's JSON evidence reader (src/azure), on synthetic
 * bytes: the fields of a well-formed report, each malformation refused by name. The real
 * samples, end to end, are in tests/e2e/azure.sh.
 */
#include <string.h>

#include "azure/azure.h"
#include "common/base64.h"
#include "result/result.h"
#include "testutil.h"
#include "tu_azure.h"

#define CLAIMS "{\"keys\":[],\"user-data\":\"00\"}"

/* A well-formed HCL report: header, zero hardware report, runtime header, CLAIMS, padding. */
static size_t make_hcl(uint8_t *out, size_t cap, uint32_t report_type, size_t padding)
{
    size_t n = tu_azure_hcl(out, cap, NULL, report_type, CLAIMS, strlen(CLAIMS), padding);
    assert_true(n > 0);
    return n;
}

static void expect_hcl_refused(const uint8_t *p, size_t len)
{
    struct cvma_azure_hcl h;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(p, len, &h, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_HCL_MALFORMED);
    cvma_verdict_cleanup(&v);
}

static void test_azure_hcl_parse_reads_the_fields(void **state)
{
    uint8_t b[2600];
    struct cvma_azure_hcl h;
    struct cvma_verdict v;
    (void)state;
    size_t n = make_hcl(b, sizeof b, CVMA_AZURE_REPORT_TYPE_SNP, 7);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n, &h, &v), CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.request_type, 2);
    assert_int_equal(h.report_type, CVMA_AZURE_REPORT_TYPE_SNP);
    assert_ptr_equal(h.hw_report.p, b + 32);
    assert_int_equal(h.hw_report.len, 1184);
    assert_int_equal(h.claims.len, strlen(CLAIMS));
    assert_memory_equal(h.claims.p, CLAIMS, strlen(CLAIMS));
    assert_int_equal(h.padding, 7);
    assert_true(cvma_azure_hcl_detect(b, n));
    json_t *j = cvma_azure_hcl_json(&h);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "report_type")), "sev-snp");
    assert_true(json_is_object(json_object_get(j, "runtime_claims")));
    json_decref(j);
    cvma_verdict_cleanup(&v);
}

static void test_azure_hcl_parse_refuses_malformed_reports(void **state)
{
    uint8_t b[2600];
    size_t rt = CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN;
    (void)state;
    size_t n = make_hcl(b, sizeof b, CVMA_AZURE_REPORT_TYPE_TDX, 0);
    /* Every truncation. */
    for (size_t cut = 0; cut < n; cut += 97) {
        expect_hcl_refused(b, cut);
    }
    expect_hcl_refused(b, n - 1);
    /* No signature. */
    b[0] = 'X';
    expect_hcl_refused(b, n);
    b[0] = 'H';
    /* Claims length past the end, and zero. */
    tu_put32(b + rt + 16, (uint32_t)strlen(CLAIMS) + 1);
    expect_hcl_refused(b, n);
    tu_put32(b + rt + 16, 0);
    expect_hcl_refused(b, n);
    tu_put32(b + rt + 16, (uint32_t)strlen(CLAIMS));
    /* Unknown report type and hash type. */
    tu_put32(b + rt + 8, 3);
    expect_hcl_refused(b, n);
    tu_put32(b + rt + 8, CVMA_AZURE_REPORT_TYPE_TDX);
    tu_put32(b + rt + 12, 2);
    expect_hcl_refused(b, n);
}

static void expect_evidence(const char *js, enum cvma_status want)
{
    struct cvma_azure_evidence ev;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_evidence_parse((const uint8_t *)js, strlen(js), &ev, &v), want);
    if (want == CVMA_OK) {
        assert_int_equal(v.n_reasons, 0);
        cvma_azure_evidence_cleanup(&ev);
    } else {
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_EVIDENCE_MALFORMED);
    }
    cvma_verdict_cleanup(&v);
}

static void test_azure_evidence_parse_forms_and_refusals(void **state)
{
    struct cvma_azure_evidence ev;
    struct cvma_verdict v;
    const char *ok = "{\"version\": 2, \"hcl_report\": \"SENMQQ==\", \"tpm_quote\": "
                     "{\"message\": \"ff544347\", \"signature\": \"0102\", \"pcrs\": [\"00ff\"]}, "
                     "\"vcek\": \"-----BEGIN CERTIFICATE-----\\n\"}";
    (void)state;
    cvma_verdict_init(&v);
    assert_true(cvma_azure_json_detect((const uint8_t *)ok, strlen(ok)));
    assert_false(cvma_azure_json_is_tdx((const uint8_t *)ok, strlen(ok)));
    /* A bundle is never Trustee's evidence, even with those strings in it. */
    const char *bundle = "{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"tpm_quote\", "
                         "\"data\": \"AA==\"}], \"x\": {\"hcl_report\": 1}}";
    assert_false(cvma_azure_json_detect((const uint8_t *)bundle, strlen(bundle)));
    assert_int_equal(cvma_azure_evidence_parse((const uint8_t *)ok, strlen(ok), &ev, &v), CVMA_OK);
    assert_int_equal(ev.version, 2);
    assert_int_equal(ev.hcl_report.len, 4);
    assert_memory_equal(ev.hcl_report.p, "HCLA", 4);
    assert_int_equal(ev.quote_msg.len, 4);
    assert_int_equal(ev.quote_sig.len, 2);
    assert_string_equal(ev.pcrs_json, "{\"sha256\":{\"0\":\"00ff\"}}");
    assert_int_equal(ev.vcek.len, strlen("-----BEGIN CERTIFICATE-----\n"));
    cvma_azure_evidence_cleanup(&ev);
    cvma_verdict_cleanup(&v);
    /* evidence-v0: byte arrays; base64url without padding; td_quote. */
    expect_evidence("{\"hcl_report\": [72, 67, 76, 65], \"tpm_quote\": {\"message\": [255], "
                    "\"signature\": [1]}, \"td_quote\": \"SENMQQ\"}",
                    CVMA_OK);
    /* Refusals. */
    expect_evidence("[]", CVMA_REJECTED);
    expect_evidence("{\"hcl_report\": \"SENMQQ\", \"tpm_quote\": {\"message\": \"ff\", "
                    "\"signature\": \"01\"}, \"extra\": 1}",
                    CVMA_REJECTED);
    expect_evidence("{\"hcl_report\": \"SEN*QQ\", \"tpm_quote\": {\"message\": \"ff\", "
                    "\"signature\": \"01\"}}",
                    CVMA_REJECTED);
    expect_evidence("{\"hcl_report\": \"SENMQQ\", \"tpm_quote\": {\"message\": \"fg\", "
                    "\"signature\": \"01\"}}",
                    CVMA_REJECTED);
    expect_evidence("{\"hcl_report\": \"SENMQQ\", \"tpm_quote\": {\"message\": \"ff\"}}",
                    CVMA_REJECTED);
    expect_evidence("{\"hcl_report\": [256], \"tpm_quote\": {\"message\": \"ff\", "
                    "\"signature\": \"01\"}}",
                    CVMA_REJECTED);
    expect_evidence("{\"hcl_report\": \"SENMQQ\", \"tpm_quote\": {\"message\": \"ff\", "
                    "\"signature\": \"01\", \"pcrs\": \"00\"}}",
                    CVMA_REJECTED);
    expect_evidence("{\"version\": \"1\", \"hcl_report\": \"SENMQQ\", \"tpm_quote\": "
                    "{\"message\": \"ff\", \"signature\": \"01\"}}",
                    CVMA_REJECTED);
}

/* The kind given must be the kind the HCL report holds; a report alone binds no quote. */
static void test_azure_verify_refuses_the_wrong_kind_and_a_lone_report(void **state)
{
    uint8_t b[2600];
    struct cvma_verify_opts o;
    struct cvma_result res;
    (void)state;
    size_t n = make_hcl(b, sizeof b, CVMA_AZURE_REPORT_TYPE_TDX, 0);
    memset(&o, 0, sizeof o);
    o.at = time(NULL);
    o.offline = true;
    cvma_result_init(&res, "azure-snp", o.at);
    cvma_azure_verify(b, n, &o, false, &res);
    cvma_result_finish(&res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_AZURE_EVIDENCE_MALFORMED);
    assert_false(res.claims.verified);
    cvma_result_cleanup(&res);

    char js[8192];
    char *b64 = cvma_base64_encode(b, n, CVMA_B64_URL);
    assert_non_null(b64);
    snprintf(js, sizeof js,
             "{\"hcl_report\": \"%s\", \"tpm_quote\": {\"message\": \"ff\", \"signature\": "
             "\"01\"}}",
             b64);
    free(b64);
    cvma_result_init(&res, "azure-snp", o.at);
    cvma_azure_verify((const uint8_t *)js, strlen(js), &o, false, &res);
    cvma_result_finish(&res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_AZURE_HCL_REPORT_TYPE);
    assert_int_not_equal(res.status, CVMA_AFFIRMING);
    cvma_result_cleanup(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_azure_hcl_parse_reads_the_fields),
            cmocka_unit_test(test_azure_hcl_parse_refuses_malformed_reports),
            cmocka_unit_test(test_azure_evidence_parse_forms_and_refusals),
            cmocka_unit_test(test_azure_verify_refuses_the_wrong_kind_and_a_lone_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
