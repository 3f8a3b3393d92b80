/*
 * The one certificate-chain verifier (crypto/chain.h): a good chain, each refusal through the
 * one error map (reason and the role named in the detail), CRLs, strict mode, the expected
 * path length, anchor picking and the window helper. Certificates are made here (P-256).
 */
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/timeutil.h"
#include "common/verdict.h"
#include "crypto/chain.h"
#include "crypto/crypto.h"
#include "testutil.h"
#include "tu_x509.h"

struct ent {
    X509 *x;
    EVP_PKEY *k;
};

/* A P-256 certificate with CN cn issued by issuer (self-signed when NULL). */
static struct ent make(const char *cn, const struct ent *issuer, bool ca, long serial, time_t from,
                       time_t to)
{
    struct ent e = {X509_new(), EVP_EC_gen("P-256")};
    assert_non_null(e.x);
    assert_non_null(e.k);
    assert_int_equal(X509_set_version(e.x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(e.x), serial), 1);
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(e.x), from));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(e.x), to));
    X509_NAME *n = X509_get_subject_name(e.x);
    assert_int_equal(
            X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
            1);
    assert_int_equal(
            X509_set_issuer_name(e.x, issuer != NULL ? X509_get_subject_name(issuer->x) : n), 1);
    assert_int_equal(X509_set_pubkey(e.x, e.k), 1);
    if (ca) {
        tu_add_ext(e.x, NULL, NID_basic_constraints, "critical,CA:TRUE");
        tu_add_ext(e.x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    assert_true(X509_sign(e.x, issuer != NULL ? issuer->k : e.k, EVP_sha256()) > 0);
    return e;
}

static void drop(struct ent *e)
{
    X509_free(e->x);
    EVP_PKEY_free(e->k);
}

/* A CRL by issuer, thisUpdate from, nextUpdate to, revoking `revoked` (may be NULL). */
static X509_CRL *make_crl(const struct ent *issuer, time_t from, time_t to, X509 *revoked)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *a = ASN1_TIME_set(NULL, from), *b = ASN1_TIME_set(NULL, to);
    assert_non_null(crl);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer->x)), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, a), 1);
    assert_int_equal(X509_CRL_set1_nextUpdate(crl, b), 1);
    if (revoked != NULL) {
        X509_REVOKED *r = X509_REVOKED_new();
        assert_non_null(r);
        assert_int_equal(X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked)), 1);
        assert_int_equal(X509_REVOKED_set_revocationDate(r, a), 1);
        assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
    }
    assert_true(X509_CRL_sign(crl, issuer->k, EVP_sha256()) > 0);
    ASN1_TIME_free(a);
    ASN1_TIME_free(b);
    return crl;
}

struct fx {
    struct ent root, inter, leaf, other;
    STACK_OF(X509) * mid;
    struct cvma_chain_req req;
};

static const char *const roles[] = {"LEAF", "INTER", "ROOT"};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    time_t a = tu_time("2024-01-01T00:00:00Z"), b = tu_time("2030-01-01T00:00:00Z");
    f->root = make("Test Root", NULL, true, 1, a, b);
    f->inter = make("Test Inter", &f->root, true, 2, a, b);
    f->leaf = make("Test Leaf", &f->inter, false, 3, a, tu_time("2026-01-01T00:00:00Z"));
    f->other = make("Other Root", NULL, true, 1, a, b);
    f->mid = sk_X509_new_null();
    assert_true(sk_X509_push(f->mid, f->inter.x) > 0);
    f->req = (struct cvma_chain_req){
            .leaf = f->leaf.x,
            .intermediates = f->mid,
            .anchor = f->root.x,
            .at = tu_time("2025-06-01T00:00:00Z"),
            .roles = roles,
            .n_roles = 3,
            .name = "Test",
            .issuers = "INTER/ROOT",
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sk_X509_free(f->mid);
    drop(&f->root);
    drop(&f->inter);
    drop(&f->leaf);
    drop(&f->other);
    free(f);
    return 0;
}

static void test_good_chain_verifies_and_returns_its_path(void **state)
{
    struct fx *f = *state;
    struct cvma_verdict v;
    STACK_OF(X509) *path = NULL;
    cvma_verdict_init(&v);
    f->req.expect_len = 3;
    assert_int_equal(cvma_chain_verify(&f->req, &path, &v), CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(sk_X509_num(path), 3);
    assert_int_equal(X509_cmp(sk_X509_value(path, 2), f->root.x), 0);
    sk_X509_pop_free(path, X509_free);

    /* A path of another length than the caller expects is refused. */
    f->req.expect_len = 2;
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_CHAIN_INVALID,
                     "Test chain: verified path has 3 certificates, expected 2");
    cvma_verdict_cleanup(&v);
}

static void test_expired_and_not_yet_valid_name_the_role(void **state)
{
    struct fx *f = *state;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    f->req.at = tu_time("2027-01-01T00:00:00Z");
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXPIRED);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_EXPIRED,
                     "LEAF (subject 'Test Leaf'): verification time "
                     "2027-01-01T00:00:00Z is after notAfter");
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_EXPIRED, "--at");
    cvma_verdict_cleanup(&v);

    cvma_verdict_init(&v);
    f->req.at = tu_time("2023-01-01T00:00:00Z");
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_NOT_YET_VALID);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_NOT_YET_VALID, "is before notBefore");
    cvma_verdict_cleanup(&v);
}

static void test_wrong_anchor_is_no_issuer(void **state)
{
    struct fx *f = *state;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    f->req.anchor = f->other.x;
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_CHAIN_INVALID);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_CHAIN_INVALID, "INTER: no issuer in the chain");
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_CHAIN_INVALID, "does not belong to this INTER/ROOT");
    cvma_verdict_cleanup(&v);

    /* No anchor at all. */
    cvma_verdict_init(&v);
    f->req.anchor = NULL;
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_CHAIN_INVALID, "no trust anchor");
    cvma_verdict_cleanup(&v);
}

static void test_crls_revoke_and_expire(void **state)
{
    struct fx *f = *state;
    struct cvma_verdict v;
    time_t a = tu_time("2025-01-01T00:00:00Z"), b = tu_time("2025-12-01T00:00:00Z");
    X509_CRL *root_crl = make_crl(&f->root, a, b, NULL);
    X509_CRL *inter_crl = make_crl(&f->inter, a, b, NULL);
    X509_CRL *root_revokes = make_crl(&f->root, a, b, f->inter.x);
    X509_CRL *crls[2] = {inter_crl, root_crl};

    f->req.crls = crls;
    f->req.n_crls = 2;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);

    /* The intermediate is revoked by the root's CRL. */
    crls[1] = root_revokes;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_REVOKED);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_REVOKED, "INTER is listed in its issuer's CRL");
    cvma_verdict_cleanup(&v);

    /* After the CRLs' nextUpdate (the certificates still current). */
    crls[1] = root_crl;
    f->req.at = tu_time("2025-12-15T00:00:00Z");
    cvma_verdict_init(&v);
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CRL_EXPIRED);
    TU_ASSERT_DETAIL(&v, CVMA_R_CRL_EXPIRED, "the CRL covering the ");
    TU_ASSERT_DETAIL(&v, CVMA_R_CRL_EXPIRED, "is after nextUpdate 2025-12-01T00:00:00Z");
    cvma_verdict_cleanup(&v);

    /* A CRL missing for one level, with CRL checking on: CRL_INVALID. */
    f->req.at = tu_time("2025-06-01T00:00:00Z");
    f->req.n_crls = 1;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CRL_INVALID);
    TU_ASSERT_DETAIL(&v, CVMA_R_CRL_INVALID,
                     "CRL for the INTER: no CRL given covers it (its issuer: 'Test Root'; the "
                     "CRLs given are issued by 'Test Inter')");
    cvma_verdict_cleanup(&v);

    X509_CRL_free(root_crl);
    X509_CRL_free(inter_crl);
    X509_CRL_free(root_revokes);
}

static void test_strict_mode_is_the_callers_choice(void **state)
{
    struct fx *f = *state;
    struct cvma_verdict v;
    /* These certificates have no Authority Key Identifier, like AMD's VCEKs: accepted without
     * strict mode (above), refused with it. */
    f->req.flags = CVMA_CHAIN_STRICT;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_CHAIN_INVALID);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_CHAIN_INVALID, "(OpenSSL error");
    cvma_verdict_cleanup(&v);
}

static void test_bad_signature_names_the_certificate(void **state)
{
    struct fx *f = *state;
    struct cvma_verdict v;
    /* The leaf re-signed by a key that is not the intermediate's. */
    EVP_PKEY *wrong = EVP_EC_gen("P-256");
    assert_true(X509_sign(f->leaf.x, wrong, EVP_sha256()) > 0);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_chain_verify(&f->req, NULL, &v), CVMA_REJECTED);
    TU_ASSERT_DETAIL(&v, CVMA_R_CERT_CHAIN_INVALID,
                     "LEAF signature does not verify with its issuer's key");
    cvma_verdict_cleanup(&v);
    EVP_PKEY_free(wrong);
}

static void test_pick_anchor_and_window(void **state)
{
    struct fx *f = *state;
    char hex[65], other_hex[65];
    uint8_t h[32];
    X509 *given[] = {f->other.x};

    assert_int_equal(cvma_chain_pick_anchor(f->root.x, NULL, 0, NULL, NULL, 0, hex), -1);
    assert_int_equal(strlen(hex), 64);
    struct cvma_chain_pin pins[] = {{"00"}, {hex}};
    assert_int_equal(cvma_chain_pick_anchor(f->root.x, pins, 2, given, NULL, 1, hex), 1);
    assert_int_equal(cvma_chain_pick_anchor(f->other.x, pins, 1, given, NULL, 1, other_hex), 1);
    assert_true(cvma_x509_spki_sha256(f->other.x, h));
    const uint8_t(*spki)[32] = (const uint8_t(*)[32])h;
    assert_int_equal(cvma_chain_pick_anchor(f->other.x, pins, 1, NULL, spki, 1, other_hex), 1);
    assert_int_equal(cvma_chain_pick_anchor(f->inter.x, pins, 1, given, NULL, 1, other_hex), -1);
    assert_int_equal(cvma_chain_pick_anchor(NULL, pins, 1, given, NULL, 1, other_hex), -2);

    X509 *all[] = {f->leaf.x, f->inter.x, f->root.x};
    time_t from, to;
    size_t bad = 9;
    assert_true(cvma_chain_window(all, 3, &from, &to, &bad));
    assert_int_equal((long long)from, (long long)tu_time("2024-01-01T00:00:00Z"));
    assert_int_equal((long long)to, (long long)tu_time("2026-01-01T00:00:00Z"));
    assert_int_equal(bad, 9);
}

/* Intel's one scheme (cvma_intel_signed): ecdsa-with-SHA256 and no parameters. The same OID
 * with a NULL parameter, or another digest, is refused with the certificate named, and the
 * message says which. */
static void test_intel_scheme_is_ecdsa_sha256_without_parameters(void **state)
{
    (void)state;
    static const struct {
        int nid;
        int ptype;
        const char *want; /* NULL: accepted */
    } cases[] = {
            {NID_ecdsa_with_SHA256, V_ASN1_UNDEF, NULL},
            {NID_ecdsa_with_SHA256, V_ASN1_NULL,
             "PCK: signed with ecdsa-with-SHA256 with parameters"},
            {NID_ecdsa_with_SHA384, V_ASN1_UNDEF, "PCK: signed with ecdsa-with-SHA384, not"},
            {NID_sha256WithRSAEncryption, V_ASN1_NULL, "PCK: signed with sha256WithRSAEncryption,"},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        X509_ALGOR *alg = X509_ALGOR_new();
        struct cvma_verdict v;
        assert_non_null(alg);
        assert_int_equal(X509_ALGOR_set0(alg, OBJ_nid2obj(cases[i].nid), cases[i].ptype, NULL), 1);
        cvma_verdict_init(&v);
        enum cvma_status st = cvma_intel_signed(alg, "PCK", CVMA_R_CERT_CHAIN_INVALID, &v);
        if (cases[i].want == NULL) {
            assert_int_equal(st, CVMA_OK);
            assert_int_equal(v.n_reasons, 0);
        } else {
            assert_int_not_equal(st, CVMA_OK);
            assert_int_equal(v.n_reasons, 1);
            assert_int_equal(v.reasons[0].code, CVMA_R_CERT_CHAIN_INVALID);
            if (strstr(v.reasons[0].detail, cases[i].want) == NULL) {
                fail_msg("case %zu: \"%s\" lacks \"%s\"", i, v.reasons[0].detail, cases[i].want);
            }
        }
        cvma_verdict_cleanup(&v);
        X509_ALGOR_free(alg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_good_chain_verifies_and_returns_its_path, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_expired_and_not_yet_valid_name_the_role, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_wrong_anchor_is_no_issuer, setup, teardown),
            cmocka_unit_test_setup_teardown(test_crls_revoke_and_expire, setup, teardown),
            cmocka_unit_test_setup_teardown(test_strict_mode_is_the_callers_choice, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_bad_signature_names_the_certificate, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_pick_anchor_and_window, setup, teardown),
            cmocka_unit_test(test_intel_scheme_is_ecdsa_sha256_without_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
