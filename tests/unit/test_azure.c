/*
 * The Azure HCL report parser and Trustee's JSON evidence reader (src/azure), on synthetic
 * bytes: the fields of a well-formed report, each malformation refused by name. The real
 * samples, end to end, are in tests/e2e/azure.sh.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "azure/azure.h"
#include "azure/azure_internal.h"
#include "collateral/source.h"
#include "common/base64.h"
#include "common/jcheck.h"
#include "common/reader.h"
#include "result/result.h"
#include "testutil.h"
#include "tu_azure.h"
#include "tu_jwk.h"

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
    assert_int_equal(cvma_azure_hcl_parse(p, len, false, &h, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_HCL_MALFORMED);
    cvma_verdict_cleanup(&v);
}

static void test_azure_hcl_parse_gives_back_nothing_when_it_refuses(void **state)
{
    static const struct cvma_azure_hcl zero;
    uint8_t b[2600];
    struct cvma_azure_hcl h;
    struct cvma_verdict v;
    (void)state;
    size_t n = make_hcl(b, sizeof b, CVMA_AZURE_REPORT_TYPE_SNP, 0);
    /* An unknown hash type, read after the header and the hardware report. */
    tu_put32(b + CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN + 12, 2);
    memset(&h, 0xa5, sizeof h);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_HCL_MALFORMED);
    assert_memory_equal(&h, &zero, sizeof h);
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
    assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_OK);
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

/* TDX: the hardware report slot is a 1,024-byte TDREPORT and zeros; a byte after the TDREPORT
 * that is not zero is refused, naming its offset (nothing signs or compares it). */
static void test_azure_hcl_parse_refuses_bytes_after_the_tdreport(void **state)
{
    uint8_t b[2600];
    struct cvma_azure_hcl h;
    struct cvma_verdict v;
    (void)state;
    size_t n = make_hcl(b, sizeof b, CVMA_AZURE_REPORT_TYPE_TDX, 0);
    b[CVMA_AZURE_HCL_HEADER_LEN] = 0x81;
    b[CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_TDREPORT_LEN - 1] = 0xee; /* the TDREPORT's own */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
    for (size_t at = CVMA_AZURE_TDREPORT_LEN; at < CVMA_AZURE_HW_REPORT_LEN; at += 53) {
        char want[96];
        b[CVMA_AZURE_HCL_HEADER_LEN + at] = 0x01;
        snprintf(want, sizeof want, "byte 0x01 at offset %zu, in the 160 bytes after the",
                 CVMA_AZURE_HCL_HEADER_LEN + at);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_azure_hcl_parse(b, n, true, &h, &v), CVMA_REJECTED);
        assert_true(tu_detail_has(&v, CVMA_R_AZURE_HCL_MALFORMED, want));
        cvma_verdict_cleanup(&v);
        b[CVMA_AZURE_HCL_HEADER_LEN + at] = 0;
    }
    /* SEV-SNP: the whole slot is the report (its own rules) */
    n = make_hcl(b, sizeof b, CVMA_AZURE_REPORT_TYPE_SNP, 0);
    b[CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_TDREPORT_LEN] = 0x01;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
}

/* The header's fields that are not the hardware's: each one that does not fit the layout is
 * refused by name, with the value read and the one wanted. */
static void test_azure_hcl_parse_refuses_header_fields_that_do_not_fit(void **state)
{
    uint8_t b[2600];
    size_t rt = CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN;
    uint32_t cl = (uint32_t)strlen(CLAIMS);
    struct cvma_azure_hcl h;
    struct cvma_verdict v;
    char want[96];
    (void)state;
    size_t n = make_hcl(b, sizeof b, CVMA_AZURE_REPORT_TYPE_SNP, 254);
    const struct {
        size_t off;
        uint32_t val;
        const char *needle;
    } bad[] = {
            /* OpenHCL's header version: 1 or 2 */
            {4, 0, "header version (bytes 4..7) 0, not 1 or 2"},
            {4, 3, "header version (bytes 4..7) 3, not 1 or 2"},
            {4, 0xffffffffu, "header version (bytes 4..7) 4294967295, not 1 or 2"},
            /* the request type: AK_CERT (2), the vTPM's report; not another request's */
            {12, 0, "request type (bytes 12..15) 0 (INVALID), not 2 (AK_CERT"},
            {12, 1, "request type (bytes 12..15) 1 (KEY_RELEASE), not 2 (AK_CERT"},
            {12, 3, "request type (bytes 12..15) 3 (WRAPPED_KEY), not 2 (AK_CERT"},
            {12, 0xffffffffu, "request type (bytes 12..15) 4294967295 (unknown), not 2"},
            /* the request size counts "HCLA" to the claims' end, not the padding */
            {8, 0xffffffffu, "request size 4294967295, not "},
            {8, (uint32_t)(rt + 20 + cl - 32), "request size "},
            {8, (uint32_t)n, "request size "},
            {rt, 0xffffffffu, "runtime data size 4294967295, not "},
            {rt, 20 + cl + 1, "runtime data size "},
            {rt, cl, "runtime data size "},
            {rt + 4, 0, "runtime data version 0 (only 1 is known)"},
            {rt + 4, 2, "runtime data version 2 (only 1 is known)"},
    };
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(h.request_size, rt + 20 + cl);
    assert_int_equal(h.rt_size, 20 + cl);
    cvma_verdict_cleanup(&v);
    /* header version 2 (the TDX and Genoa samples') as well as 1 */
    tu_put32(b + 4, 2);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_OK);
    assert_int_equal(h.version, 2);
    cvma_verdict_cleanup(&v);
    tu_put32(b + 4, 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t keep[4];
        memcpy(keep, b + bad[i].off, 4);
        tu_put32(b + bad[i].off, bad[i].val);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_azure_hcl_parse(b, n, true, &h, &v), CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_HCL_MALFORMED);
        assert_true(tu_detail_has(&v, CVMA_R_AZURE_HCL_MALFORMED, bad[i].needle));
        cvma_verdict_cleanup(&v);
        memcpy(b + bad[i].off, keep, 4);
    }
    snprintf(want, sizeof want, "request size 4294967295, not %u", (unsigned)(rt + 20 + cl));
    tu_put32(b + 8, 0xffffffffu);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_AZURE_HCL_MALFORMED, want));
    cvma_verdict_cleanup(&v);
    tu_put32(b + 8, (uint32_t)(rt + 20 + cl));
    /* Each byte of the status (16..19) and the reserved bytes (20..31). */
    for (size_t i = 16; i < 32; i++) {
        b[i] = 1;
        cvma_verdict_init(&v);
        assert_int_equal(cvma_azure_hcl_parse(b, n, true, &h, &v), CVMA_REJECTED);
        assert_true(tu_detail_has(&v, CVMA_R_AZURE_HCL_MALFORMED,
                                  i < 20 ? "header status (bytes 16..19)"
                                         : "reserved header bytes 20..31"));
        cvma_verdict_cleanup(&v);
        b[i] = 0;
    }
}

/* After the claims: zero padding is the format's own (no reason); a non-zero byte anywhere
 * there is PARSE_TRAILING_DATA naming its offset, an error or, allowed, a warning. */
static void test_azure_hcl_parse_padding_zero_or_trailing_data(void **state)
{
    uint8_t b[2600 + 700];
    struct cvma_azure_hcl h;
    struct cvma_verdict v;
    char needle[64];
    (void)state;
    size_t n = make_hcl(b, sizeof b, CVMA_AZURE_REPORT_TYPE_SNP, 254);
    size_t end = n - 254;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(h.padding, 254);
    cvma_verdict_cleanup(&v);
    const size_t at[] = {end, end + 1, end + 100, n - 1};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        b[at[k]] = 0x5a;
        snprintf(needle, sizeof needle, "0x5a at offset %zu", at[k]);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_azure_hcl_parse(b, n, false, &h, &v), CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_TRAILING_DATA);
        assert_true(tu_detail_has(&v, CVMA_R_PARSE_TRAILING_DATA, needle));
        assert_int_equal(h.padding, 0); /* refused: nothing given back */
        cvma_verdict_cleanup(&v);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_azure_hcl_parse(b, n, true, &h, &v), CVMA_OK);
        assert_int_equal(v.n_reasons, 1);
        assert_int_equal(tu_severity_of(&v, CVMA_R_PARSE_TRAILING_DATA), CVMA_SEV_WARNING);
        assert_true(tu_detail_has(&v, CVMA_R_PARSE_TRAILING_DATA, needle));
        assert_int_equal(h.padding, 254);
        cvma_verdict_cleanup(&v);
        b[at[k]] = 0;
    }
    /* 700 bytes appended after the padding. */
    memset(b + n, 'G', 700);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_hcl_parse(b, n + 700, false, &h, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_TRAILING_DATA);
    cvma_verdict_cleanup(&v);
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

/* A SHA-256 PCR value in hex. */
#define PCR0 "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff"

static void test_azure_evidence_parse_forms_and_refusals(void **state)
{
    struct cvma_azure_evidence ev;
    struct cvma_verdict v;
    const char *ok =
            "{\"version\": 2, \"hcl_report\": \"SENMQQ==\", \"tpm_quote\": "
            "{\"message\": \"ff544347\", \"signature\": \"0102\", \"pcrs\": [\"" PCR0 "\"]}, "
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
    assert_string_equal(ev.pcrs_json, "{\"sha256\":{\"0\":\"" PCR0 "\"}}");
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
    /* unknown members inside tpm_quote too (docs/azure.md) */
    expect_evidence("{\"hcl_report\": \"SENMQQ\", \"tpm_quote\": {\"message\": \"ff\", "
                    "\"signature\": \"01\", \"ak\": \"00\"}}",
                    CVMA_REJECTED);
}

/* A refusal gives back nothing, not even the "version" read before the member that failed. */
static void test_azure_evidence_refusal_gives_back_nothing(void **state)
{
    static const struct cvma_azure_evidence zero;
    struct cvma_azure_evidence ev;
    struct cvma_verdict v;
    const char *bad = "{\"version\": 7, \"hcl_report\": \"SENMQQ\", \"tpm_quote\": "
                      "{\"message\": \"ff\", \"signature\": \"01\"}, \"td_quote\": \"S*\"}";
    (void)state;
    cvma_verdict_init(&v);
    memset(&ev, 0xa5, sizeof ev);
    assert_int_equal(cvma_azure_evidence_parse((const uint8_t *)bad, strlen(bad), &ev, &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_EVIDENCE_MALFORMED);
    assert_memory_equal(&ev, &zero, sizeof ev);
    cvma_verdict_cleanup(&v);
}

/* Parses Trustee's JSON with hcl_report, pcrs and version as given. */
static enum cvma_status trustee(const char *hcl, const char *pcr, const char *version)
{
    char js[512];
    struct cvma_azure_evidence ev;
    struct cvma_verdict v;
    snprintf(js, sizeof js,
             "{%s%s%s\"hcl_report\": \"%s\", \"tpm_quote\": {\"message\": \"ff\", "
             "\"signature\": \"01\"%s%s%s}}",
             version != NULL ? "\"version\": " : "", version != NULL ? version : "",
             version != NULL ? ", " : "", hcl, pcr != NULL ? ", \"pcrs\": [\"" : "",
             pcr != NULL ? pcr : "", pcr != NULL ? "\"]" : "");
    cvma_verdict_init(&v);
    enum cvma_status st = cvma_azure_evidence_parse((const uint8_t *)js, strlen(js), &ev, &v);
    if (st == CVMA_OK) {
        assert_int_equal(ev.hcl_report.len, 2);
        assert_int_equal(ev.hcl_report.p[0], 0xfb);
        assert_int_equal(ev.hcl_report.p[1], 0xff);
        cvma_azure_evidence_cleanup(&ev);
    } else {
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_EVIDENCE_MALFORMED);
    }
    cvma_verdict_cleanup(&v);
    return st;
}

/* Trustee's base64: one alphabet, padding only as the length needs it; PCR values are
 * SHA-256 digests; the version is a number that fits. */
static void test_azure_trustee_reader_is_strict(void **state)
{
    char pcr[80];
    (void)state;
    memset(pcr, 'a', 64);
    pcr[64] = '\0';
    /* 0xfb 0xff: base64url "-_8=", base64 "+/8=", with or without the padding */
    assert_int_equal(trustee("-_8=", NULL, NULL), CVMA_OK);
    assert_int_equal(trustee("-_8", NULL, NULL), CVMA_OK);
    assert_int_equal(trustee("+/8=", NULL, NULL), CVMA_OK);
    assert_int_equal(trustee("+/8", NULL, NULL), CVMA_OK);
    assert_int_equal(trustee("-/8=", NULL, NULL), CVMA_REJECTED); /* two alphabets */
    assert_int_equal(trustee("+_8", NULL, NULL), CVMA_REJECTED);
    assert_int_equal(trustee("-_8==", NULL, NULL), CVMA_REJECTED); /* more padding than needed */
    assert_int_equal(trustee("-_8===", NULL, NULL), CVMA_REJECTED);
    assert_int_equal(trustee("-_8====", NULL, NULL), CVMA_REJECTED);
    assert_int_equal(trustee("-_=8", NULL, NULL), CVMA_REJECTED); /* padding inside */
    assert_int_equal(trustee("-_9=", NULL, NULL), CVMA_REJECTED); /* bits left over */
    assert_int_equal(trustee("-_8=", pcr, "1"), CVMA_OK);
    pcr[62] = '\0'; /* 31 bytes */
    assert_int_equal(trustee("-_8=", pcr, NULL), CVMA_REJECTED);
    memset(pcr, 'b', 66); /* 33 bytes */
    pcr[66] = '\0';
    assert_int_equal(trustee("-_8=", pcr, NULL), CVMA_REJECTED);
    assert_int_equal(trustee("-_8=", NULL, "0"), CVMA_OK);
    assert_int_equal(trustee("-_8=", NULL, "2147483647"), CVMA_OK);
    assert_int_equal(trustee("-_8=", NULL, "2147483648"), CVMA_REJECTED); /* no wrap to int */
    assert_int_equal(trustee("-_8=", NULL, "4294967297"), CVMA_REJECTED);
    assert_int_equal(trustee("-_8=", NULL, "-1"), CVMA_REJECTED);
    assert_int_equal(trustee("-_8=", NULL, "1.0"), CVMA_REJECTED);
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

    /* Trustee's JSON with a TDREPORT inside, given as azure-snp: with a vcek it is the wrong
     * kind; with neither vcek nor td_quote (read as azure-snp, as no td_quote says TDX) what
     * is missing is the TD quote, and the reason says so. */
    char js[8192], vjs[8300];
    char *b64 = cvma_base64_encode(b, n, CVMA_B64_URL);
    assert_non_null(b64);
    snprintf(js, sizeof js,
             "{\"hcl_report\": \"%s\", \"tpm_quote\": {\"message\": \"ff\", \"signature\": "
             "\"01\"}}",
             b64);
    snprintf(vjs, sizeof vjs, "%.*s, \"vcek\": \"MIIB\"}", (int)strlen(js) - 1, js);
    free(b64);
    cvma_result_init(&res, "azure-snp", o.at);
    cvma_azure_verify((const uint8_t *)vjs, strlen(vjs), &o, false, &res);
    cvma_result_finish(&res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_AZURE_HCL_REPORT_TYPE);
    assert_int_not_equal(res.status, CVMA_AFFIRMING);
    cvma_result_cleanup(&res);
    cvma_result_init(&res, "azure-snp", o.at);
    cvma_azure_verify((const uint8_t *)js, strlen(js), &o, false, &res);
    cvma_result_finish(&res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_AZURE_EVIDENCE_MALFORMED);
    assert_non_null(strstr(res.verdict.reasons[0].detail, "no \"td_quote\""));
    assert_null(strstr(res.verdict.reasons[0].detail, "given as azure-snp"));
    assert_int_not_equal(res.status, CVMA_AFFIRMING);
    cvma_result_cleanup(&res);

    /* A bundle's tpm_* parts that this form does not read are named, never silently left:
     * all of them beside Trustee's JSON, tpm_ak beside a bare HCL report. */
    struct cvma_named_part parts[2] = {{.name = "tpm_ak"}, {.name = "tpm_pcrs"}};
    o.collateral_parts = parts;
    o.n_collateral_parts = 2;
    cvma_result_init(&res, "azure-snp", o.at);
    cvma_azure_verify((const uint8_t *)js, strlen(js), &o, false, &res);
    cvma_result_finish(&res);
    size_t named = 0;
    for (size_t i = 0; i < res.verdict.n_reasons; i++) {
        named += res.verdict.reasons[i].code == CVMA_R_PARSE_BUNDLE_PART_NOT_USED;
    }
    assert_int_equal(named, 2);
    cvma_result_cleanup(&res);
    cvma_result_init(&res, "azure-tdx", o.at);
    cvma_azure_verify(b, n, &o, true, &res);
    cvma_result_finish(&res);
    named = 0;
    for (size_t i = 0; i < res.verdict.n_reasons; i++) {
        named += res.verdict.reasons[i].code == CVMA_R_PARSE_BUNDLE_PART_NOT_USED &&
                 strstr(res.verdict.reasons[i].detail, "tpm_ak") != NULL;
    }
    assert_int_equal(named, 1);
    cvma_result_cleanup(&res);
}

/* The TDREPORT fields and REPORT_DATA are the bytes at their offsets; a short report is
 * refused with the outputs zeroed (the bounds-checked reader, not pointer arithmetic). */
static void test_azure_report_fields_are_read_at_their_offsets(void **state)
{
    uint8_t b[CVMA_AZURE_HW_REPORT_LEN], rd[64];
    struct cvma_azure_tdreport tr;
    (void)state;
    for (size_t i = 0; i < sizeof b; i++) {
        b[i] = (uint8_t)(i * 7 + 3);
    }
    b[0] = 0x81;
    struct cvma_span hw = {b, sizeof b};
    assert_true(cvma_azure_tdreport_read(&hw, &tr));
    assert_int_equal(tr.type, 0x81);
    assert_memory_equal(tr.report_data, b + 128, 64);
    assert_memory_equal(tr.mr_td, b + 528, 48);
    assert_true(cvma_azure_report_data(&hw, true, rd));
    assert_memory_equal(rd, b + 128, 64);
    assert_true(cvma_azure_report_data(&hw, false, rd));
    assert_memory_equal(rd, b + 0x50, 64);

    /* One byte short of MRTD's end, of REPORT_DATA's end. */
    hw.len = 528 + 48 - 1;
    assert_false(cvma_azure_tdreport_read(&hw, &tr));
    assert_int_equal(tr.type, 0);
    assert_true(cvma_bytes_are_zero(tr.report_data, 64));
    assert_true(cvma_bytes_are_zero(tr.mr_td, 48));
    hw.len = 528 + 48;
    assert_true(cvma_azure_tdreport_read(&hw, &tr));
    hw.len = 0x50 + 64 - 1;
    assert_false(cvma_azure_report_data(&hw, false, rd));
    assert_true(cvma_bytes_are_zero(rd, 64));
    hw.len = 0x50 + 64;
    assert_true(cvma_azure_report_data(&hw, false, rd));
    assert_false(cvma_azure_report_data(&hw, true, rd));
    assert_true(cvma_bytes_are_zero(rd, 64));
}

static json_t *claims_parsed(const char *text)
{
    struct cvma_span sp = {(const uint8_t *)text, strlen(text)};
    struct cvma_verdict v;
    json_t *j = NULL;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_runtime_claims_parse(&sp, &j, &v), CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    cvma_verdict_cleanup(&v);
    return j;
}

/* The claims text refused as AZURE_RUNTIME_CLAIMS_MALFORMED, the detail holding words (NULL:
 * any detail). */
static void expect_claims_refused_saying(const char *text, const char *words)
{
    struct cvma_span sp = {(const uint8_t *)text, strlen(text)};
    struct cvma_verdict v;
    json_t *j = (json_t *)json_object();
    json_t *keep = j;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_azure_runtime_claims_parse(&sp, &j, &v), CVMA_REJECTED);
    assert_null(j);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED);
    assert_int_equal(v.n_reasons, 1);
    if (words != NULL && strstr(v.reasons[0].detail, words) == NULL) {
        fail_msg("claims %.60s: detail \"%s\" does not say \"%s\"", text, v.reasons[0].detail,
                 words);
    }
    json_decref(keep);
    cvma_verdict_cleanup(&v);
}

static void expect_claims_refused(const char *text)
{
    expect_claims_refused_saying(text, NULL);
}

/* The runtime claims: an object nesting 32 levels at most, no duplicate members; user-data
 * is 128 hex digits or nothing. */
static void test_azure_runtime_claims_parse_and_user_data(void **state)
{
    char deep[200];
    uint8_t ud[64];
    (void)state;
    /* {"a": 31 arrays}: 32 levels, taken; one more refused. */
    snprintf(deep, sizeof deep, "{\"a\":%.*s0%.*s}", 31, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 31,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    json_decref(claims_parsed(deep));
    snprintf(deep, sizeof deep, "{\"a\":%.*s0%.*s}", 32, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 32,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    expect_claims_refused(deep);
    /* Each refusal says what is wrong: the top-level value's type, or the member given twice
     * (nested too). */
    expect_claims_refused_saying("[]", "the runtime claims are an array, not a JSON object");
    expect_claims_refused_saying("\"x\"", "not one JSON object: '[' or '{' expected, at byte 0");
    expect_claims_refused_saying("{\"keys\": [], \"keys\": []}", "duplicate object key \"keys\"");
    expect_claims_refused_saying(
            "{\"vm-configuration\": {}, \"user-data\": null, \"vm-configuration\": {}}",
            "duplicate object key \"vm-configuration\"");
    expect_claims_refused_saying("{\"a\": {\"kid\": 1, \"kid\": 2}}",
                                 "duplicate object key \"kid\"");
    expect_claims_refused("{");

    /* At most CVMA_JSON_EVIDENCE_MAX_VALUES JSON values (the JSON checker reads them before
     * jansson builds anything): {"a": [0,0,...]} at the cap is taken, one more refused. */
    size_t cap = CVMA_JSON_EVIDENCE_MAX_VALUES;
    char *many = malloc(16 + 2 * cap);
    assert_non_null(many);
    for (size_t values = cap; values <= cap + 1; values++) {
        size_t n = (size_t)snprintf(many, 16, "{\"a\": [0");
        for (size_t i = 3; i < values; i++) {
            memcpy(many + n, ",0", 2);
            n += 2;
        }
        memcpy(many + n, "]}", 3);
        if (values == cap) {
            json_decref(claims_parsed(many));
        } else {
            expect_claims_refused(many);
        }
    }
    free(many);

    char text[300];
    char hex[129];
    for (size_t i = 0; i < 64; i++) {
        snprintf(hex + 2 * i, 3, "%02X", (unsigned)(i + 0xa0));
    }
    snprintf(text, sizeof text, "{\"user-data\": \"%s\"}", hex);
    json_t *j = claims_parsed(text);
    assert_true(cvma_azure_claims_user_data(j, ud));
    for (size_t i = 0; i < 64; i++) {
        assert_int_equal(ud[i], i + 0xa0);
    }
    json_decref(j);
    /* 63 bytes, a non-digit, not a string: false, nothing left in ud (and such claims are
     * refused whole: test_azure_runtime_claims_refuse_members_of_another_type); none: false. */
    char bad[4][300];
    snprintf(bad[0], sizeof bad[0], "{\"user-data\": \"%.126s\"}", hex);
    snprintf(bad[1], sizeof bad[1], "{\"user-data\": \"%.127sg\"}", hex);
    snprintf(bad[2], sizeof bad[2], "{\"user-data\": 1}");
    snprintf(bad[3], sizeof bad[3], "{}");
    for (size_t k = 0; k < 4; k++) {
        if (k < 3) {
            expect_claims_refused(bad[k]);
            assert_non_null(j = json_loads(bad[k], 0, NULL));
        } else {
            j = claims_parsed(bad[k]);
        }
        memset(ud, 0xff, sizeof ud);
        assert_false(cvma_azure_claims_user_data(j, ud));
        assert_true(cvma_bytes_are_zero(ud, 64));
        json_decref(j);
    }
}

/* What goes into the result holds the type the paravisor writes (docs/azure.md): a
 * vm-configuration member of another type, or a user-data that is not 128 hex digits, refuses
 * the claims by name; a member left out does not. */
static void test_azure_runtime_claims_refuse_members_of_another_type(void **state)
{
    char text[400], ud[129];
    (void)state;
    memset(ud, 'A', 128);
    ud[128] = '\0';
    static const char *const vm_bad[][2] = {
            {"\"secure-boot\": \"true\"", "\"secure-boot\" is a string, not a boolean"},
            {"\"tpm-enabled\": 1", "\"tpm-enabled\" is a number, not a boolean"},
            {"\"console-enabled\": null", "\"console-enabled\" is null, not a boolean"},
            {"\"vmUniqueId\": 5", "\"vmUniqueId\" is a number, not a string"},
            {"\"vmUniqueId\": true", "\"vmUniqueId\" is a boolean, not a string"},
            {"\"secure-boot\": [true]", "\"secure-boot\" is an array, not a boolean"},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(vm_bad); i++) {
        snprintf(text, sizeof text,
                 "{\"vm-configuration\": {\"secure-boot\": true, %s}, \"user-data\": \"%s\"}",
                 vm_bad[i][0], ud);
        /* (a duplicate secure-boot is refused too, but as a duplicate: use another key) */
        if (strncmp(vm_bad[i][0], "\"secure-boot\"", 13) == 0) {
            snprintf(text, sizeof text, "{\"vm-configuration\": {%s}, \"user-data\": \"%s\"}",
                     vm_bad[i][0], ud);
        }
        expect_claims_refused_saying(text, vm_bad[i][1]);
    }
    expect_claims_refused_saying("{\"vm-configuration\": [], \"user-data\": null}",
                                 "\"vm-configuration\" is an array, not an object");
    expect_claims_refused_saying("{\"vm-configuration\": \"x\"}",
                                 "\"vm-configuration\" is a string, not an object");

    /* user-data: 3 bytes, a non-hex digit, an array, null, 65 bytes. */
    expect_claims_refused_saying("{\"user-data\": \"AAAAAA\"}", "is 6 characters long");
    snprintf(text, sizeof text, "{\"user-data\": \"zz%.126s\"}", ud);
    expect_claims_refused_saying(text, "other than a hex digit at 0");
    snprintf(text, sizeof text, "{\"user-data\": \"%.127sg\"}", ud);
    expect_claims_refused_saying(text, "other than a hex digit at 127");
    expect_claims_refused_saying("{\"user-data\": [\"AA\"]}", "is an array, not a string");
    expect_claims_refused_saying("{\"user-data\": null}", "is null, not a string");
    snprintf(text, sizeof text, "{\"user-data\": \"%sAA\"}", ud);
    expect_claims_refused_saying(text, "is 130 characters long");

    /* Taken: the real samples' shape (other vm-configuration members are not read), members
     * left out, lower-case hex. */
    snprintf(text, sizeof text,
             "{\"vm-configuration\": {\"console-enabled\": true, \"root-cert-thumbprint\": \"x\", "
             "\"secure-boot\": false, \"tpm-enabled\": true, \"tpm-persisted\": false, "
             "\"vmUniqueId\": \"911B0EF8\"}, \"user-data\": \"%s\"}",
             ud);
    json_decref(claims_parsed(text));
    json_decref(claims_parsed("{\"vm-configuration\": {}}"));
    json_decref(claims_parsed("{\"keys\": []}"));
    memset(ud, 'a', 128);
    snprintf(text, sizeof text, "{\"user-data\": \"%s\"}", ud);
    json_decref(claims_parsed(text));
}

static void expect_ak_refused(const char *text)
{
    struct cvma_verdict v;
    json_t *j = claims_parsed(text);
    cvma_verdict_init(&v);
    assert_null(cvma_azure_ak_pem_from_claims(j, &v));
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED);
    cvma_verdict_cleanup(&v);
    json_decref(j);
}

/* HCLAkPub becomes a PEM key with exactly the JWK's n and e, or is refused by name. The JWK is
 * read back with the tests' own reader (tu_jwk.h), not the code under test. */
static void test_azure_ak_from_claims_is_the_jwk_key(void **state)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    char text[2048];
    uint8_t rd[64];
    struct cvma_verdict v;
    (void)state;
    assert_non_null(k);
    tu_azure_claims(k, TU_AZURE_UD0, text, sizeof text, rd);
    json_t *j = claims_parsed(text);
    cvma_verdict_init(&v);
    char *pem = cvma_azure_ak_pem_from_claims(j, &v);
    assert_non_null(pem);
    assert_int_equal(v.n_reasons, 0);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *got = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    assert_non_null(got);
    /* The HCLAkPub JWK of the claims text, read independently (jansson, tu_jwk.h): the
     * generated key, and the PEM's. */
    json_t *raw = json_loads(text, 0, NULL);
    json_t *jwk = json_array_get(json_object_get(raw, "keys"), 0);
    assert_string_equal(json_string_value(json_object_get(jwk, "kid")), "HCLAkPub");
    EVP_PKEY *want = tu_jwk_key(jwk);
    assert_non_null(want);
    assert_int_equal(EVP_PKEY_eq(want, k), 1);
    assert_int_equal(EVP_PKEY_eq(got, want), 1);
    EVP_PKEY_free(want);
    json_decref(raw);
    EVP_PKEY_free(got);
    BIO_free(bio);
    free(pem);
    json_decref(j);
    cvma_verdict_cleanup(&v);

    /* The same key as the second HCLAkPub entry, the first not usable: refused. */
    const char *n64 = strstr(text, "\"n\": \"") + 6;
    int nlen = (int)(strchr(n64, '"') - n64);
    char t2[2300];
    snprintf(t2, sizeof t2,
             "{\"keys\": [{\"kid\": \"HCLAkPub\", \"kty\": \"EC\"}, {\"kid\": \"HCLAkPub\", "
             "\"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": \"%.*s\"}]}",
             nlen, n64);
    expect_ak_refused(t2);
    /* Two HCLAkPub entries, both the key: which is the AK is not guessed. */
    snprintf(t2, sizeof t2,
             "{\"keys\": [{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": "
             "\"%.*s\"}, {\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": "
             "\"%.*s\"}]}",
             nlen, n64, nlen, n64);
    expect_ak_refused(t2);
    /* Padded base64 (JWKs are base64url without padding), an e that is not a string. */
    snprintf(t2, sizeof t2,
             "{\"keys\": [{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": "
             "\"%.*s==\"}]}",
             nlen, n64);
    expect_ak_refused(t2);
    snprintf(t2, sizeof t2,
             "{\"keys\": [{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": 65537, \"n\": "
             "\"%.*s\"}]}",
             nlen, n64);
    expect_ak_refused(t2);
    /* Three bytes fewer: under 2,048 bits. */
    snprintf(t2, sizeof t2,
             "{\"keys\": [{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": "
             "\"%.*s\"}]}",
             nlen - 4, n64 + 4);
    expect_ak_refused(t2);
    expect_ak_refused("{\"keys\": []}");
    expect_ak_refused("{\"keys\": {\"kid\": \"HCLAkPub\"}}");
    EVP_PKEY_free(k);
}

/* cvma_azure_ak_pem_from_claims on {"keys": [jwk]}: refused, the detail holding words, or
 * (words NULL) a key. */
static void expect_ak(const char *jwk, const char *words)
{
    struct cvma_verdict v;
    size_t cap = strlen(jwk) + 32;
    char *text = malloc(cap);
    assert_non_null(text);
    snprintf(text, cap, "{\"keys\": [%s]}", jwk);
    json_t *j = claims_parsed(text);
    cvma_verdict_init(&v);
    char *pem = cvma_azure_ak_pem_from_claims(j, &v);
    if (words == NULL) {
        assert_non_null(pem);
        assert_int_equal(v.n_reasons, 0);
    } else {
        assert_null(pem);
        assert_int_equal(v.n_reasons, 1);
        assert_int_equal(v.reasons[0].code, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED);
        if (strstr(v.reasons[0].detail, words) == NULL) {
            fail_msg("detail \"%s\" does not say \"%s\"", v.reasons[0].detail, words);
        }
    }
    free(pem);
    free(text);
    json_decref(j);
    cvma_verdict_cleanup(&v);
}

/* An RSA JWK with an n of len bytes (the first 0xc3, the last odd) and the e given. */
static char *jwk_of_size(size_t len, const char *e)
{
    uint8_t *n = malloc(len);
    assert_non_null(n);
    memset(n, 0xc3, len);
    n[len - 1] = 0x01;
    char *n64 = cvma_base64_encode(n, len, CVMA_B64_URL);
    assert_non_null(n64);
    size_t cap = strlen(n64) + 128;
    char *jwk = malloc(cap);
    assert_non_null(jwk);
    snprintf(jwk, cap, "{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"%s\", \"n\": \"%s\"}", e,
             n64);
    free(n64);
    free(n);
    return jwk;
}

/* Each refusal of HCLAkPub names the member and the limit it misses: n over 1,024 bytes (a
 * 16,384-bit n is not "under 2,048 bits"), under 2,048 bits, kty, a missing e, padding. */
static void test_azure_ak_refusals_name_the_limit(void **state)
{
    (void)state;
    char *jwk = jwk_of_size(2048, "AQAB"); /* 16,384 bits */
    expect_ak(jwk, "\"n\" is 2731 base64url characters (2048 bytes): over the 1024 bytes (8192 "
                   "bits)");
    free(jwk);
    jwk = jwk_of_size(1025, "AQAB");
    expect_ak(jwk, "(1025 bytes): over the 1024 bytes");
    free(jwk);
    jwk = jwk_of_size(1024, "AQAB"); /* 8,192 bits: the most taken */
    expect_ak(jwk, NULL);
    free(jwk);
    jwk = jwk_of_size(255, "AQAB");
    expect_ak(jwk, "\"n\" is 2040 bits: an AK's RSA modulus has at least 2,048");
    free(jwk);
    expect_ak("{\"kid\": \"HCLAkPub\", \"kty\": \"EC\", \"e\": \"AQAB\", \"n\": \"AQAB\"}",
              "\"kty\" is \"EC\", not \"RSA\"");
    expect_ak("{\"kid\": \"HCLAkPub\", \"e\": \"AQAB\", \"n\": \"AQAB\"}",
              "\"kty\" is absent or not a string, not \"RSA\"");
    expect_ak("{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"n\": \"AQAB\"}",
              "HCLAkPub has no \"e\" string");
    expect_ak("{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": \"AQAB==\"}",
              "\"n\" is not base64url (no padding)");
}

/* RFC 7518 6.3.1: n and e in the minimum octets. A zero octet before n's 256 bytes, or e
 * written as 00 01 00 01, is refused by name; the same values without it are taken. */
static void test_azure_ak_refuses_leading_zero_octets(void **state)
{
    uint8_t n[257];
    char jwk[600];
    (void)state;
    memset(n, 0xc3, sizeof n);
    n[0] = 0x00;
    char *n0 = cvma_base64_encode(n, sizeof n, CVMA_B64_URL); /* 00 c3 ... */
    char *n1 = cvma_base64_encode(n + 1, sizeof n - 1, CVMA_B64_URL);
    assert_non_null(n0);
    assert_non_null(n1);
    snprintf(jwk, sizeof jwk,
             "{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": \"%s\"}", n0);
    expect_ak(jwk, "\"n\" (257 bytes) starts with a zero octet");
    snprintf(jwk, sizeof jwk,
             "{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AAEAAQ\", \"n\": \"%s\"}", n1);
    expect_ak(jwk, "\"e\" (4 bytes) starts with a zero octet");
    snprintf(jwk, sizeof jwk,
             "{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": \"%s\"}", n1);
    expect_ak(jwk, NULL);
    free(n0);
    free(n1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_azure_hcl_parse_reads_the_fields),
            cmocka_unit_test(test_azure_hcl_parse_refuses_malformed_reports),
            cmocka_unit_test(test_azure_hcl_parse_gives_back_nothing_when_it_refuses),
            cmocka_unit_test(test_azure_hcl_parse_refuses_header_fields_that_do_not_fit),
            cmocka_unit_test(test_azure_hcl_parse_refuses_bytes_after_the_tdreport),
            cmocka_unit_test(test_azure_hcl_parse_padding_zero_or_trailing_data),
            cmocka_unit_test(test_azure_evidence_parse_forms_and_refusals),
            cmocka_unit_test(test_azure_evidence_refusal_gives_back_nothing),
            cmocka_unit_test(test_azure_trustee_reader_is_strict),
            cmocka_unit_test(test_azure_verify_refuses_the_wrong_kind_and_a_lone_report),
            cmocka_unit_test(test_azure_report_fields_are_read_at_their_offsets),
            cmocka_unit_test(test_azure_runtime_claims_parse_and_user_data),
            cmocka_unit_test(test_azure_runtime_claims_refuse_members_of_another_type),
            cmocka_unit_test(test_azure_ak_from_claims_is_the_jwk_key),
            cmocka_unit_test(test_azure_ak_refusals_name_the_limit),
            cmocka_unit_test(test_azure_ak_refuses_leading_zero_octets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
