/*
 * Certificate and CRL time refusals name their own window: the ASN1_TIME helpers, the detail
 * text of CERT_EXPIRED / CERT_NOT_YET_VALID / CRL_EXPIRED, and the TDX collateral signing
 * chains and Root CA CRL of the real Intel samples (shared testdata; skipped without it).
 * The SNP chain and the TDX PCK chain are covered end to end in tests/e2e/results.sh.
 */
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/timeutil.h"
#include "common/verdict.h"
#include "crypto/crypto.h"
#include "tdx/tdx_collateral.h"
#include "testutil.h"
#include "tu_x509.h"

/* A self-signed P-256 certificate with CN cn, valid from .. to. */
static X509 *make_cert(const char *cn, time_t from, time_t to)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(key);
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), from));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), to));
    X509_NAME *n = X509_get_subject_name(x);
    assert_int_equal(
            X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
            1);
    assert_int_equal(X509_set_issuer_name(x, n), 1);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    EVP_PKEY_free(key);
    return x;
}

/* A CRL issued by issuer's subject, thisUpdate from, nextUpdate to (none when to == 0). */
static X509_CRL *make_crl(X509 *issuer, time_t from, time_t to)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *a = ASN1_TIME_set(NULL, from), *b = to != 0 ? ASN1_TIME_set(NULL, to) : NULL;
    assert_non_null(crl);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, a), 1);
    if (b != NULL) {
        assert_int_equal(X509_CRL_set1_nextUpdate(crl, b), 1);
    }
    ASN1_TIME_free(a);
    ASN1_TIME_free(b);
    return crl;
}

static void test_asn1_time_round_trips_utc_and_generalized_time(void **state)
{
    (void)state;
    const char *when[] = {"2025-03-01T00:00:00Z", "1999-12-31T23:59:59Z", "2049-12-31T23:59:59Z",
                          "2050-01-01T00:00:00Z" /* GeneralizedTime from here on */};
    for (size_t i = 0; i < sizeof when / sizeof when[0]; i++) {
        time_t t;
        char out[32];
        ASN1_TIME *a = ASN1_TIME_set(NULL, tu_time(when[i]));
        assert_non_null(a);
        assert_true(cvma_asn1_time_to_time_t(a, &t));
        assert_int_equal((long long)t, (long long)tu_time(when[i]));
        cvma_asn1_time_format(a, out, sizeof out);
        assert_string_equal(out, when[i]);
        ASN1_TIME_free(a);
    }
    time_t t = 5;
    char out[32];
    assert_false(cvma_asn1_time_to_time_t(NULL, &t));
    assert_int_equal((long long)t, 0);
    cvma_asn1_time_format(NULL, out, sizeof out);
    assert_string_equal(out, "(none)");
}

static void test_cert_detail_names_window_role_subject_and_at(void **state)
{
    (void)state;
    char d[CVMA_DETAIL_MAX];
    X509 *x = make_cert("Test VCEK", tu_time("2024-01-01T00:00:00Z"),
                        tu_time("2025-03-01T00:00:00Z"));

    cvma_x509_window_detail(x, "VCEK", tu_time("2026-12-02T10:00:00Z"), d, sizeof d);
    assert_non_null(strstr(d, "VCEK (subject 'Test VCEK')"));
    assert_non_null(strstr(d, "verification time 2026-12-02T10:00:00Z is after notAfter "
                              "2025-03-01T00:00:00Z (notBefore 2024-01-01T00:00:00Z)"));
    assert_non_null(strstr(d, "give --at a time inside the window"));

    cvma_x509_window_detail(x, "VCEK", tu_time("2023-06-01T00:00:00Z"), d, sizeof d);
    assert_non_null(strstr(d, "verification time 2023-06-01T00:00:00Z is before notBefore "
                              "2024-01-01T00:00:00Z (notAfter 2025-03-01T00:00:00Z)"));
    assert_non_null(strstr(d, "--at"));

    /* No certificate at hand: the role and the time still, never a crash. */
    cvma_x509_window_detail(NULL, "ASK", tu_time("2023-06-01T00:00:00Z"), d, sizeof d);
    assert_non_null(strstr(d, "ASK: outside its window at verification time 2023-06-01T00:00:00Z"));
    X509_free(x);
}

static void test_crl_detail_names_this_and_next_update(void **state)
{
    (void)state;
    char d[CVMA_DETAIL_MAX];
    X509 *ca =
            make_cert("Test ARK", tu_time("2020-01-01T00:00:00Z"), tu_time("2040-01-01T00:00:00Z"));
    X509_CRL *crl = make_crl(ca, tu_time("2025-06-19T10:00:35Z"), tu_time("2025-07-19T10:00:35Z"));

    cvma_crl_window_detail(crl, "AMD CRL", tu_time("2026-12-02T10:00:00Z"), d, sizeof d);
    assert_non_null(strstr(d, "AMD CRL (issuer 'Test ARK')"));
    assert_non_null(strstr(d, "is after nextUpdate 2025-07-19T10:00:35Z (thisUpdate "
                              "2025-06-19T10:00:35Z)"));
    assert_non_null(strstr(d, "--at"));
    cvma_crl_window_detail(crl, "AMD CRL", tu_time("2025-01-01T00:00:00Z"), d, sizeof d);
    assert_non_null(strstr(d, "is before thisUpdate 2025-06-19T10:00:35Z (nextUpdate "
                              "2025-07-19T10:00:35Z)"));
    X509_CRL_free(crl);

    /* No nextUpdate: only thisUpdate can be missed. */
    crl = make_crl(ca, tu_time("2025-06-19T10:00:35Z"), 0);
    cvma_crl_window_detail(crl, "AMD CRL", tu_time("2025-01-01T00:00:00Z"), d, sizeof d);
    assert_non_null(strstr(d, "is before thisUpdate 2025-06-19T10:00:35Z (nextUpdate (none))"));
    X509_CRL_free(crl);
    X509_free(ca);
}

static void test_store_crl_for_finds_the_issuers_crl(void **state)
{
    (void)state;
    X509 *ca =
            make_cert("Test CA", tu_time("2020-01-01T00:00:00Z"), tu_time("2040-01-01T00:00:00Z"));
    X509 *other =
            make_cert("Other", tu_time("2020-01-01T00:00:00Z"), tu_time("2040-01-01T00:00:00Z"));
    X509_CRL *crl = make_crl(ca, tu_time("2025-06-19T10:00:35Z"), tu_time("2025-07-19T10:00:35Z"));
    X509_STORE *store = X509_STORE_new();
    assert_int_equal(X509_STORE_add_crl(store, crl), 1);
    X509_CRL *found = cvma_x509_store_crl_for(store, ca); /* ca is self-issued */
    assert_non_null(found);
    assert_int_equal(X509_CRL_cmp(found, crl), 0);
    assert_null(cvma_x509_store_crl_for(store, other));
    assert_null(cvma_x509_store_crl_for(store, NULL));
    assert_null(cvma_x509_store_crl_for(NULL, ca));
    X509_STORE_free(store);
    X509_CRL_free(crl);
    X509_free(other);
    X509_free(ca);
}

/* ---- the real Intel collateral chains ---- */

static void test_tdx_collateral_chain_and_root_crl_name_their_windows(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_tdx_signed_json doc;
    struct cvma_verdict v;
    struct cvma_buf body;
    char *p = tu_vec("tdx/v5-gotdxguest/tcb_info_response.json");
    X509 *root = tu_vec_cert(TU_INTEL_ROOT);
    STACK_OF(X509) *chain25 = tu_vec_chain("tdx/v4-uptodate-dcapqvl/tcb_info_issuer_chain.pem");
    STACK_OF(X509) *chain18 = tu_vec_chain("tdx/v4-spr-gotdxguest/tcb_info_issuer_chain.pem");
    X509_CRL *crl25 = tu_vec_crl("tdx/v4-uptodate-dcapqvl/root_ca_crl.der");
    X509_CRL *crl23 = tu_vec_crl("tdx/v4-spr-gotdxguest/root_ca_crl.der");

    tu_read(p, &body);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_load(&doc, &body, NULL, "tcbInfo", "TCB Info", &v),
                     CVMA_OK);

    /* The 2018 TCB signing certificate, after its notAfter. */
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, chain18, root, crl25,
                                                 tu_time("2026-02-03T01:00:00Z"), "TCB Info", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXPIRED);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_EXPIRED,
                     "TCB Info signing certificate (subject 'Intel SGX TCB Signing'): "
                     "verification time 2026-02-03T01:00:00Z is after notAfter "
                     "2025-05-21T10:50:10Z (notBefore 2018-05-21T10:50:10Z)");
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_EXPIRED, "--at");
    cvma_verdict_cleanup(&v);

    /* Its 2025 re-issue, before its notBefore. */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, chain25, root, crl23,
                                                 tu_time("2024-06-01T00:00:00Z"), "TCB Info", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_NOT_YET_VALID);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_NOT_YET_VALID,
                     "is before notBefore 2025-05-06T09:25:00Z (notAfter "
                     "2032-05-06T09:25:00Z)");
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_NOT_YET_VALID, "--at");
    cvma_verdict_cleanup(&v);

    /* The 2023 Root CA CRL, after its nextUpdate (the chain itself is current). */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, chain18, root, crl23,
                                                 tu_time("2024-06-01T00:00:00Z"), "TCB Info", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CRL_EXPIRED);
    TU_ASSERT_DETAIL(&v, CVMA_R_CRL_EXPIRED,
                     "Root CA CRL (issuer 'Intel SGX Root CA'): verification time "
                     "2024-06-01T00:00:00Z is after nextUpdate 2024-04-02T10:22:51Z "
                     "(thisUpdate 2023-04-03T10:22:51Z)");
    TU_ASSERT_DETAIL(&v, CVMA_R_CRL_EXPIRED, "--at");
    cvma_verdict_cleanup(&v);

    cvma_tdx_signed_json_cleanup(&doc);
    X509_CRL_free(crl25);
    X509_CRL_free(crl23);
    sk_X509_pop_free(chain25, X509_free);
    sk_X509_pop_free(chain18, X509_free);
    X509_free(root);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_asn1_time_round_trips_utc_and_generalized_time),
            cmocka_unit_test(test_cert_detail_names_window_role_subject_and_at),
            cmocka_unit_test(test_crl_detail_names_this_and_next_update),
            cmocka_unit_test(test_store_crl_for_finds_the_issuers_crl),
            cmocka_unit_test(test_tdx_collateral_chain_and_root_crl_name_their_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
