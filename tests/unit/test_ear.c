/* Results: the "undecided" flag, and the checks of a signed result (cvmattest result check). */
#include <limits.h>
#include <pthread.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/base64.h"
#include "crypto/jws.h"
#include "result/ear.h"
#include "sim/sim_snp.h"
#include "testutil.h"
#include "tpm/tpm.h"
#include "tu_api.h"
#include "tu_tpm.h"
#include "verifier/bundle.h"

/* R64("ab") is 64 bytes of 0xab in hex. */
#define R4(s)  s s s s
#define R16(s) R4(R4(s))
#define R64(s) R4(R16(s))

static EVP_PKEY *key_a, *key_b;

static int setup(void **state)
{
    (void)state;
    key_a = cvma_jws_key_generate(CVMA_JWS_ES256);
    key_b = cvma_jws_key_generate(CVMA_JWS_ES256);
    return key_a != NULL && key_b != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    return 0;
}

/* A result of the given status; undecided ones carry COLLATERAL_UNAVAILABLE. */
static void make_result(struct cvma_result *res, enum cvma_result_status status, bool undecided)
{
    cvma_result_init(res, "sev-snp", time(NULL));
    if (status == CVMA_CONTRAINDICATED) {
        if (undecided) {
            cvma_reject(&res->verdict, CVMA_R_COLLATERAL_UNAVAILABLE, "VCEK: KDS unreachable");
            res->undecided = true;
        } else {
            cvma_reject(&res->verdict, CVMA_R_SNP_REPORT_SIGNATURE_INVALID, "flipped bit");
        }
    }
    res->status = status;
}

/* The EAR claims of a result, before signing (new reference). */
static json_t *claims_of(enum cvma_result_status status)
{
    struct cvma_result res;
    make_result(&res, status, false);
    json_t *c = cvma_ear_claims(&res, NULL, time(NULL), NULL);
    cvma_result_cleanup(&res);
    assert_non_null(c);
    return c;
}

static char *sign(const json_t *claims, const char *typ)
{
    char *tok = NULL;
    assert_int_equal(cvma_jws_sign_json(key_a, typ, NULL, claims, &tok), CVMA_JWS_OK);
    return tok;
}

/* A token signed as a service signs it: a signer for key (kid key_id, NULL: computed), the
 * result's text rt (NULL: written by the signing). */
static enum cvma_status sign_kid(const struct cvma_result *res,
                                 const struct cvma_ear_result_text *rt, EVP_PKEY *key,
                                 const char *key_id, const char *policy_id, const char *nonce,
                                 int64_t ttl, const json_t *jwk, char **token)
{
    struct cvma_jws_signer *signer = cvma_ear_signer(key, key_id);
    assert_non_null(signer);
    enum cvma_status st = cvma_ear_sign_with(res, rt, signer, policy_id, nonce, ttl, jwk, token);
    cvma_jws_signer_free(signer);
    return st;
}

/* Verifies tok with key_a and decides at now; returns the status, err/d filled. */
static enum cvma_status check(const char *tok, time_t now, int64_t max_age,
                              struct cvma_ear_decision *d, char *err, size_t err_len)
{
    json_t *c = NULL;
    enum cvma_status st = cvma_ear_verify(tok, strlen(tok), key_a, &c, err, err_len);
    if (st == CVMA_OK) {
        st = cvma_ear_decide(c, now, max_age, d, err, err_len);
    }
    json_decref(c);
    return st;
}

static void test_result_json_says_undecided_only_for_exit_3(void **state)
{
    (void)state;
    struct cvma_result res;
    struct {
        enum cvma_result_status status;
        bool undecided;
        int exit_code;
    } cases[] = {
            {CVMA_CONTRAINDICATED, true, 3},
            {CVMA_CONTRAINDICATED, false, 1},
            {CVMA_AFFIRMING, false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_result(&res, cases[i].status, cases[i].undecided);
        assert_int_equal(cvma_result_exit_code(&res), cases[i].exit_code);
        json_t *o = cvma_result_to_json(&res);
        json_t *u = json_object_get(o, "undecided");
        assert_true(json_is_boolean(u));
        assert_int_equal(json_is_true(u), cases[i].exit_code == 3);
        json_decref(o);
        cvma_result_cleanup(&res);
    }
    /* Undecided collateral, but the evidence is also refused on its own: exit 1, not 3. */
    make_result(&res, CVMA_CONTRAINDICATED, true);
    cvma_reject(&res.verdict, CVMA_R_SNP_REPORT_SIGNATURE_INVALID, "flipped bit");
    json_t *o = cvma_result_to_json(&res);
    assert_int_equal(cvma_result_exit_code(&res), 1);
    assert_true(json_is_false(json_object_get(o, "undecided")));
    json_decref(o);
    cvma_result_cleanup(&res);
}

static void test_signed_undecided_result_carries_the_flag(void **state)
{
    (void)state;
    struct cvma_result res;
    struct cvma_ear_decision d;
    char *tok = NULL, err[256] = "";
    make_result(&res, CVMA_CONTRAINDICATED, true);
    assert_int_equal(cvma_ear_sign(&res, key_a, NULL, NULL, &tok), CVMA_OK);
    json_t *c = NULL;
    assert_int_equal(cvma_ear_verify(tok, strlen(tok), key_a, &c, err, sizeof err), CVMA_OK);
    assert_true(json_is_true(json_object_get(
            json_object_get(json_object_get(c, "submods"), "sev-snp"), "cvmattest.undecided")));
    assert_int_equal(cvma_ear_decide(c, time(NULL), -1, &d, err, sizeof err), CVMA_OK);
    assert_int_equal(d.tier, CVMA_EAR_CONTRAINDICATED);
    json_decref(c);
    free(tok);
    cvma_result_cleanup(&res);
}

/* The "kid" of a token's protected header. */
static char *header_kid(const char *tok)
{
    struct cvma_buf h;
    const char *dot = strchr(tok, '.');
    assert_non_null(dot);
    assert_int_equal(cvma_base64_decode_buf(tok, (size_t)(dot - tok), CVMA_B64_URL, &h), CVMA_OK);
    json_t *o = json_loadb((const char *)h.p, h.len, 0, NULL);
    assert_non_null(o);
    char *kid = strdup(json_string_value(json_object_get(o, "kid")));
    json_decref(o);
    cvma_buf_free(&h);
    return kid;
}

static const char *const vector_names[5] = {"instance-identity", "configuration", "executables",
                                            "hardware", "runtime-opaque"};

/* Fails unless the token claims of res (submodule res->tee) carry the vector want; what names
 * the case in the message. */
static void expect_vector(const struct cvma_result *res, const int want[5], const char *what)
{
    json_t *c = cvma_ear_claims(res, NULL, time(NULL), NULL);
    assert_non_null(c);
    json_t *vec = json_object_get(json_object_get(json_object_get(c, "submods"), res->tee),
                                  "ear.trustworthiness-vector");
    assert_non_null(vec);
    assert_int_equal(json_object_size(vec), 5);
    for (size_t k = 0; k < 5; k++) {
        json_t *m = json_object_get(vec, vector_names[k]);
        if (m == NULL || json_integer_value(m) != want[k]) {
            fail_msg("%s: %s is %lld, want %d", what, vector_names[k],
                     m != NULL ? (long long)json_integer_value(m) : -1LL, want[k]);
        }
    }
    json_decref(c);
}

/*
 * The trustworthiness vector from what verified and the reasons, as docs/results.md states it:
 * each reason class, on evidence with or without a TEE hardware report, and the exact vector it
 * gives (instance-identity, configuration, executables, hardware, runtime-opaque).
 */
static void test_trustworthiness_vector_of_each_reason_class(void **state)
{
    (void)state;
    static const struct {
        const char *tee;
        bool verified;
        bool hardware;         /* a TEE hardware report verified (claims.hardware) */
        enum cvma_reason code; /* CVMA_R_COUNT_: none */
        enum cvma_severity sev;
        int want[5];
    } cases[] = {
            /* clang-format off */
            {"sev-snp", true, true, CVMA_R_COUNT_, CVMA_SEV_INFO, {2, 2, 0, 2, 2}},
            {"sev-snp", false, false, CVMA_R_SNP_REPORT_SIGNATURE_INVALID, CVMA_SEV_ERROR,
             {99, 0, 0, 99, 0}},
            {"sev-snp", false, false, CVMA_R_CERT_UNTRUSTED_ROOT, CVMA_SEV_ERROR,
             {99, 0, 0, 99, 0}},
            {"sev-snp", true, true, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED, CVMA_SEV_ERROR,
             {97, 2, 0, 2, 2}},
            /* AR4SI defines no warning for instance-identity: a warning about the instance
             * withdraws its 2 (0, no claim) and shows as configuration 32. */
            {"sev-snp", true, true, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED, CVMA_SEV_WARNING,
             {0, 32, 0, 2, 2}},
            /* Other registry reasons are not "a platform no registry lists": 96 (or a
             * warning). */
            {"sev-snp", true, true, CVMA_R_REGISTRY_SIGNATURE_INVALID, CVMA_SEV_ERROR,
             {96, 2, 0, 2, 2}},
            {"sev-snp", true, true, CVMA_R_REGISTRY_CHIP_ID_MASKED, CVMA_SEV_ERROR,
             {96, 2, 0, 2, 2}},
            {"sev-snp", true, true, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
             {0, 32, 0, 2, 2}},
            /* A TPM quote's signature is the evidence signature of tpm, azure-* and svsm-vtpm. */
            {"tpm", false, false, CVMA_R_TPM_SIGNATURE_INVALID, CVMA_SEV_ERROR,
             {99, 0, 0, 99, 0}},
            {"azure-snp", false, false, CVMA_R_TPM_SIGNATURE_INVALID, CVMA_SEV_ERROR,
             {99, 0, 0, 99, 0}},
            {"sev-snp", true, true, CVMA_R_SNP_DEBUG_ALLOWED, CVMA_SEV_ERROR, {2, 96, 0, 2, 96}},
            /* Accepted by allow_debug: runtime-opaque 32 would say "isolated", 96 is of the
             * contraindicated tier: no claim. */
            {"sev-snp", true, true, CVMA_R_SNP_DEBUG_ALLOWED, CVMA_SEV_WARNING, {2, 32, 0, 2, 0}},
            {"tdx", true, true, CVMA_R_TDX_DEBUG, CVMA_SEV_WARNING, {2, 32, 0, 2, 0}},
            {"tdx", true, true, CVMA_R_TDX_TCB_NEEDS_ACTION, CVMA_SEV_WARNING, {2, 2, 0, 32, 2}},
            {"tdx", true, true, CVMA_R_TDX_TCB_OUT_OF_DATE, CVMA_SEV_ERROR, {2, 2, 0, 96, 2}},
            /* A status the policy accepted (a warning): hardware 32. */
            {"tdx", true, true, CVMA_R_TDX_TCB_OUT_OF_DATE, CVMA_SEV_WARNING, {2, 2, 0, 32, 2}},
            {"tdx", true, true, CVMA_R_TDX_TCB_RELAUNCH_ADVISED, CVMA_SEV_WARNING,
             {2, 2, 0, 32, 2}},
            /* An info reason never changes the status, nor the vector. */
            {"tdx", true, true, CVMA_R_TDX_SERVICE_TD_BOUND, CVMA_SEV_INFO, {2, 2, 0, 2, 2}},
            {"tdx", true, true, CVMA_R_TDX_TCB_OUT_OF_DATE, CVMA_SEV_INFO, {2, 2, 0, 2, 2}},
            /* Another warning no claim is named for: configuration 32. */
            {"sev-snp", true, true, CVMA_R_PARSE_UNKNOWN_BITS, CVMA_SEV_WARNING,
             {0, 32, 0, 2, 2}},
            {"tdx", true, true, CVMA_R_TDX_TCB_RELAUNCH_ADVISED, CVMA_SEV_ERROR, {2, 2, 0, 96, 2}},
            {"sev-snp", true, true, CVMA_R_POLICY_MEASUREMENT, CVMA_SEV_ERROR, {2, 2, 33, 2, 2}},
            {"sev-snp", true, true, CVMA_R_POLICY_TCB_BELOW_MINIMUM, CVMA_SEV_ERROR,
             {2, 96, 0, 2, 2}},
            {"sev-snp", true, true, CVMA_R_COLLATERAL_UNAVAILABLE, CVMA_SEV_ERROR,
             {2, 2, 0, 96, 2}},
            {"sev-snp", true, true, CVMA_R_CRL_NOT_CHECKED, CVMA_SEV_WARNING, {2, 2, 0, 32, 2}},
            /* Another image than the earlier result's: executables in question. */
            {"sev-snp", true, true, CVMA_R_MEASUREMENT_CHANGED, CVMA_SEV_WARNING,
             {2, 2, 32, 2, 2}},
            /* The kinds that hold a hardware report beside a vTPM quote. */
            {"azure-snp", true, true, CVMA_R_COUNT_, CVMA_SEV_INFO, {2, 2, 0, 2, 2}},
            {"svsm-vtpm", true, true, CVMA_R_COUNT_, CVMA_SEV_INFO, {2, 2, 0, 2, 2}},
            /* A bare TPM quote: no hardware shown genuine, no TEE memory encryption checked. */
            {"tpm", true, false, CVMA_R_COUNT_, CVMA_SEV_INFO, {2, 2, 0, 0, 0}},
            {"tpm", true, false, CVMA_R_TPM_AK_NOT_BOUND, CVMA_SEV_WARNING, {0, 32, 0, 0, 0}},
            {"tpm", true, false, CVMA_R_POLICY_MEASUREMENT, CVMA_SEV_ERROR, {2, 2, 33, 0, 0}},
            /* An AK nothing binds never leaves hardware genuine, whatever else verified. */
            {"azure-tdx", true, true, CVMA_R_TPM_AK_NOT_BOUND, CVMA_SEV_WARNING,
             {0, 32, 0, 0, 2}},
            /* clang-format on */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cvma_result res;
        char what[64];
        cvma_result_init(&res, cases[i].tee, time(NULL));
        res.claims.verified = cases[i].verified;
        res.claims.hardware = cases[i].hardware;
        if (cases[i].code != CVMA_R_COUNT_) {
            assert_int_equal(
                    cvma_verdict_add(&res.verdict, cases[i].code, cases[i].sev, "case %zu", i),
                    cases[i].sev == CVMA_SEV_ERROR ? CVMA_REJECTED : CVMA_OK);
        }
        res.status = cvma_verdict_has_error(&res.verdict) ? CVMA_CONTRAINDICATED : CVMA_AFFIRMING;
        snprintf(what, sizeof what, "case %zu (%s)", i, cases[i].tee);
        expect_vector(&res, cases[i].want, what);
        cvma_result_cleanup(&res);
    }
}

/*
 * The vector of evidence verified for real: a simulated SEV-SNP report shows genuine hardware
 * and encrypted memory (hardware and runtime-opaque 2); a TPM quote checked alone, its AK bound
 * to nothing (TPM_AK_NOT_BOUND), shows neither (both 0, no claim).
 */
static void test_trustworthiness_vector_claims_hardware_only_for_a_hardware_report(void **state)
{
    (void)state;
    static const int snp_want[5] = {2, 2, 0, 2, 2}, tpm_want[5] = {0, 32, 0, 0, 0};
    static const uint8_t nonce[4] = {0xaa, 0xbb, 0xcc, 0xdd};
    struct cvma_sim_snp_opts so;
    struct cvma_buf rep, attest, sig, ak;
    struct cvma_result tres;
    struct cvma_tpm_quote_in in;
    char err[256];
    char *dir = tu_tmpdir();
    char *ark = tu_path(dir, "ark.pem"), *bundle = tu_path(dir, "bundle.json");
    char *report = tu_path(dir, "report.bin");

    cvma_sim_snp_opts_default(&so);
    if (cvma_sim_snp_write(&so, dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim: %s", err);
    }
    tu_read(report, &rep);
    assert_int_equal(cvma_bundle_write(bundle, "sev-snp", rep.p, rep.len, dir), CVMA_OK);
    struct cvma_verifier *v = tu_verifier(ark, NULL, NULL, false);
    struct cvma_result *res = tu_verify_path(v, bundle);
    assert_int_equal(res->status, CVMA_AFFIRMING);
    expect_vector(res, snp_want, "sev-snp");
    cvma_result_free(res);
    cvma_verifier_free(v);

    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    tu_tpm_quote(key, nonce, sizeof nonce, NULL, true, &attest, &sig);
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
    long n = BIO_get_mem_data(bio, &pem);
    tu_buf_set(&ak, (const uint8_t *)pem, (size_t)n);
    BIO_free(bio);
    memset(&in, 0, sizeof in);
    in.attest.p = attest.p;
    in.attest.len = attest.len;
    in.sig.p = sig.p;
    in.sig.len = sig.len;
    in.ak.p = ak.p;
    in.ak.len = ak.len;
    in.has_nonce = true;
    in.nonce = nonce;
    in.nonce_len = sizeof nonce;
    cvma_result_init(&tres, "tpm", time(NULL));
    cvma_tpm_quote_verify(&in, &tres);
    cvma_result_finish(&tres);
    assert_true(tres.claims.verified);
    assert_false(cvma_verdict_has_error(&tres.verdict));
    assert_true(cvma_verdict_has(&tres.verdict, CVMA_R_TPM_AK_NOT_BOUND));
    expect_vector(&tres, tpm_want, "tpm");
    cvma_result_cleanup(&tres);
    EVP_PKEY_free(key);
    cvma_buf_free(&attest);
    cvma_buf_free(&sig);
    cvma_buf_free(&ak);
    cvma_buf_free(&rep);
    tu_rmtree(dir);
    free(report);
    free(bundle);
    free(ark);
    free(dir);
}

/*
 * The values AR4SI defines for each claim of the vector (draft-ietf-rats-ar4si, "Specific
 * Claims"; veraison/ear trustclaim.go): every claim has 0 (no claim), 1 (unexpected evidence),
 * -1 (verifier malfunction) and 99 (cryptographic validation failed), then its own values.
 */
static const struct {
    const char *name;
    int values[10];
    size_t n;
} ar4si_claims[5] = {
        /* 2 recognized, 96 untrustworthy, 97 not recognized: no warning value */
        {"instance-identity", {-1, 0, 1, 2, 96, 97, 99}, 7},
        /* 2 approved, 3 no known vulnerabilities, 32 known ones, 96 unsupportable */
        {"configuration", {-1, 0, 1, 2, 3, 32, 96, 99}, 8},
        /* 2 approved run-time, 3 approved boot, 32 known bugs, 33 not recognized, 96 contra */
        {"executables", {-1, 0, 1, 2, 3, 32, 33, 96, 99}, 9},
        /* 2 genuine, 32 known vulnerabilities, 96 contraindicated, 97 not recognized */
        {"hardware", {-1, 0, 1, 2, 32, 96, 97, 99}, 8},
        /* 2 encrypted, 32 isolated (not encrypted), 96 visible to the host */
        {"runtime-opaque", {-1, 0, 1, 2, 32, 96, 99}, 7},
};

/* AR4SI's tier of a claim value: 0 none (-1, 0, 1), 1 affirming (2..31, -2..-32), 2 warning
 * (32..95, -33..-96), 3 contraindicated (96..127, -97..-128). */
static int ar4si_tier(int v)
{
    int a = v < 0 ? -v - 1 : v; /* -2 reads as 1 + 1: the same bounds, shifted by one */
    if (v >= -1 && v <= 1) {
        return 0;
    }
    return a >= 96 ? 3 : a >= 32 ? 2 : 1;
}

static int status_tier(enum cvma_result_status s)
{
    switch (s) {
    case CVMA_AFFIRMING:
        return 1;
    case CVMA_WARNING:
        return 2;
    case CVMA_CONTRAINDICATED:
        return 3;
    }
    return 3;
}

/*
 * The problems of the token claims of res, each printed (what names the case), 0 when they
 * are self-consistent (docs/results.md): ear.status is the result's status (A); no claim of
 * the vector is of a worse tier than it (A: EAR, "a tier of no higher trust than the tier
 * corresponding to the worst trustworthiness claim"); a status other than affirming shows in
 * the vector (a warning at worst a warning claim, a refusal at least one); and each value is
 * one AR4SI defines for its claim (B); nothing is claimed genuine or isolated that no
 * hardware report showed (C).
 */
static int shown; /* problems printed so far: the first 40 are enough to see what is wrong */
#define SHOW(...)                     \
    do {                              \
        if (shown++ < 40) {           \
            print_error(__VA_ARGS__); \
        }                             \
    } while (0)

static int inconsistencies(const struct cvma_result *res, const char *what)
{
    int bad = 0;
    json_t *c = cvma_ear_claims(res, NULL, time(NULL), NULL);
    assert_non_null(c);
    json_t *sub = json_object_get(json_object_get(c, "submods"), res->tee);
    const char *st = json_string_value(json_object_get(sub, "ear.status"));
    json_t *vec = json_object_get(sub, "ear.trustworthiness-vector");
    if (st == NULL || strcmp(st, cvma_result_status_name(res->status)) != 0) {
        SHOW("%s: ear.status %s, the result's status %s\n", what, st ? st : "(none)",
             cvma_result_status_name(res->status));
        bad++;
    }
    assert_int_equal(json_object_size(vec), 5);
    int worst = 0;
    for (size_t k = 0; k < 5; k++) {
        json_t *m = json_object_get(vec, ar4si_claims[k].name);
        assert_true(json_is_integer(m));
        int v = (int)json_integer_value(m);
        bool defined = false;
        for (size_t j = 0; j < ar4si_claims[k].n; j++) {
            defined = defined || ar4si_claims[k].values[j] == v;
        }
        if (!defined) {
            SHOW("%s: %s %d is no value AR4SI defines for it\n", what, ar4si_claims[k].name, v);
            bad++;
        }
        if (ar4si_tier(v) > status_tier(res->status)) {
            SHOW("%s: %s %d is of a worse tier than ear.status %s\n", what, ar4si_claims[k].name, v,
                 st);
            bad++;
        }
        worst = ar4si_tier(v) > worst ? ar4si_tier(v) : worst;
    }
    /* hardware 2 and 32 say "genuine" (32: with known vulnerabilities), runtime-opaque 2 and 32
     * "encrypted" and "isolated": only a verified TEE hardware report shows either (C). */
    static const char *const shown_by_report[] = {"hardware", "runtime-opaque"};
    for (size_t k = 0; k < 2 && !res->claims.hardware; k++) {
        json_int_t v = json_integer_value(json_object_get(vec, shown_by_report[k]));
        if (v == 2 || v == 32) {
            SHOW("%s: %s %d without a verified hardware report\n", what, shown_by_report[k],
                 (int)v);
            bad++;
        }
    }
    if ((res->status == CVMA_WARNING && worst != 2) ||
        (res->status == CVMA_CONTRAINDICATED && worst < 2)) {
        SHOW("%s: ear.status %s, but the vector's worst claim is of tier %d\n", what, st, worst);
        bad++;
    }
    json_decref(c);
    return bad;
}

/*
 * Every reason code (reasons*.def) at every severity (error, warning, info: its own and any a
 * caller or a policy may set), alone, for each evidence kind verified (with a hardware report
 * where the kind has one) and not: the signed claims are self-consistent (inconsistencies).
 * The status is cvma_result_finish's, the one verify prints and exits by. Reasons combine by
 * taking the worse value (a warning withdraws only an affirming 2), so what holds for each
 * alone holds for any set; warnings in pairs are swept as well for one kind.
 */
static void test_trustworthiness_vector_never_contradicts_the_status(void **state)
{
    (void)state;
    static const struct {
        const char *tee;
        bool hardware;
    } kinds[] = {
            {"sev-snp", true},   {"tdx", true},       {"tpm", false},     {"azure-snp", true},
            {"azure-tdx", true}, {"svsm-vtpm", true}, {"unknown", false},
    };
    static const enum cvma_severity sevs[] = {CVMA_SEV_ERROR, CVMA_SEV_WARNING, CVMA_SEV_INFO};
    static const enum cvma_result_status want_status[] = {CVMA_CONTRAINDICATED, CVMA_WARNING,
                                                          CVMA_AFFIRMING};
    size_t n = 0;
    int bad = 0;
    shown = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (int verified = 1; verified >= 0; verified--) {
            for (int code = 0; code < (int)CVMA_R_COUNT_; code++) {
                for (size_t s = 0; s < 3; s++) {
                    struct cvma_result res;
                    char what[160];
                    cvma_result_init(&res, kinds[k].tee, time(NULL));
                    res.claims.verified = verified;
                    res.claims.hardware = verified && kinds[k].hardware;
                    res.verdict.checks_required = CVMA_CHECK_SIGNATURE;
                    res.verdict.checks_done = CVMA_CHECK_SIGNATURE;
                    (void)cvma_verdict_add(&res.verdict, (enum cvma_reason)code, sevs[s], "sweep");
                    cvma_result_finish(&res);
                    assert_int_equal(res.status, want_status[s]);
                    snprintf(what, sizeof what, "%s%s, %s as %s", kinds[k].tee,
                             verified ? "" : " (not verified)",
                             cvma_reason_name((enum cvma_reason)code), cvma_severity_name(sevs[s]));
                    bad += inconsistencies(&res, what);
                    cvma_result_cleanup(&res);
                    n++;
                }
            }
        }
    }
    for (int a = 0; a < (int)CVMA_R_COUNT_; a++) {
        for (int b = a + 1; b < (int)CVMA_R_COUNT_; b++) {
            struct cvma_result res;
            char what[160];
            cvma_result_init(&res, "azure-tdx", time(NULL));
            res.claims.verified = true;
            res.claims.hardware = true;
            res.verdict.checks_required = CVMA_CHECK_SIGNATURE;
            res.verdict.checks_done = CVMA_CHECK_SIGNATURE;
            (void)cvma_verdict_add(&res.verdict, (enum cvma_reason)a, CVMA_SEV_WARNING, "a");
            (void)cvma_verdict_add(&res.verdict, (enum cvma_reason)b, CVMA_SEV_WARNING, "b");
            cvma_result_finish(&res);
            snprintf(what, sizeof what, "azure-tdx, %s and %s as warnings",
                     cvma_reason_name((enum cvma_reason)a), cvma_reason_name((enum cvma_reason)b));
            bad += inconsistencies(&res, what);
            cvma_result_cleanup(&res);
            n++;
        }
    }
    assert_true(n > 3 * 2 * 7 * 150);
    if (bad > 0) {
        fail_msg("%d inconsistencies in %zu signed results", bad, n);
    }
}

/*
 * A reason whose detail is not UTF-8 (a detail quoting what it refuses, or cut inside a
 * character) is kept with U+FFFD where jansson dropped the whole reason, and the text is JSON
 * jansson reads and writes back unchanged (its compact form; cvma_result_to_json is that
 * parse). The text against the previous jansson-built output: test_claims_text.
 */
static void test_result_text(void **state)
{
    (void)state;
    struct cvma_result res;
    struct cvma_strbuf b = {0};
    make_result(&res, CVMA_CONTRAINDICATED, false);
    cvma_reject(&res.verdict, CVMA_R_CERT_PARSE, "subject CN=caf\xc3");
    /* cvma_reject wrote the stray byte as \xc3 (cvma_text_escape); the writer's own handling
     * of text that is not UTF-8 is checked with the byte put back. */
    size_t last = res.verdict.n_reasons - 1;
    assert_string_equal(res.verdict.reasons[last].detail, "subject CN=caf\\xc3");
    snprintf(res.verdict.reasons[last].detail, sizeof res.verdict.reasons[last].detail, "%s",
             "subject CN=caf\xc3");
    assert_true(cvma_result_write(&b, &res, NULL, NULL, 0));
    assert_non_null(strstr(b.p, "\"detail\":\"subject CN=caf\xef\xbf\xbd\""));
    json_t *t = cvma_result_to_json(&res);
    assert_non_null(t);
    assert_int_equal(json_array_size(json_object_get(t, "reasons")), 2);
    char *again = json_dumps(t, JSON_COMPACT);
    assert_string_equal(again, b.p);
    free(again);
    json_decref(t);
    free(b.p);
    cvma_result_cleanup(&res);
}

struct sign_run {
    struct cvma_jws_signer *signer;
    EVP_PKEY *key;
    enum cvma_jws_alg alg;
    int failures;
};

/* 50 tokens through one signer, each checked with the key. */
static void *sign_many(void *arg)
{
    struct sign_run *r = arg;
    for (int i = 0; i < 50; i++) {
        char payload[64], *tok = NULL;
        struct cvma_jws jws = {0};
        int n = snprintf(payload, sizeof payload, "{\"i\":%d}", i);
        if (cvma_jws_signer_sign(r->signer, (const uint8_t *)payload, (size_t)n, &tok) !=
                    CVMA_JWS_OK ||
            cvma_jws_verify(tok, strlen(tok), r->key, &jws, NULL, 0) != CVMA_JWS_OK ||
            jws.alg != r->alg || jws.payload.len != (size_t)n ||
            memcmp(jws.payload.p, payload, (size_t)n) != 0 || strcmp(jws.kid, "k1") != 0) {
            r->failures++;
        }
        cvma_jws_cleanup(&jws);
        free(tok);
    }
    return NULL;
}

/*
 * A signer made once signs from several threads at once (its contexts are reused, one
 * signature at a time each): every token verifies with the key, ES256 for P-256 and ES384 for
 * P-384, with the header cvma_jws_sign writes; a key or header it cannot use is refused.
 */
static void test_signer_threads(void **state)
{
    (void)state;
    enum cvma_jws_error e;
    EVP_PKEY *p384 = cvma_jws_key_generate(CVMA_JWS_ES384);
    EVP_PKEY *keys[] = {key_a, p384};
    const enum cvma_jws_alg algs[] = {CVMA_JWS_ES256, CVMA_JWS_ES384};
    for (size_t k = 0; k < 2; k++) {
        struct cvma_jws_signer *s = cvma_jws_signer_new(keys[k], "JWT", "k1", &e);
        assert_non_null(s);
        assert_int_equal(e, CVMA_JWS_OK);
        struct sign_run runs[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            runs[i] = (struct sign_run){s, keys[k], algs[k], 0};
            assert_int_equal(pthread_create(&t[i], NULL, sign_many, &runs[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            assert_int_equal(pthread_join(t[i], NULL), 0);
            assert_int_equal(runs[i].failures, 0);
        }
        /* the same header as a one-off signature */
        char *a = NULL, *b = NULL;
        assert_int_equal(cvma_jws_signer_sign(s, (const uint8_t *)"{}", 2, &a), CVMA_JWS_OK);
        assert_int_equal(cvma_jws_sign(keys[k], "JWT", "k1", (const uint8_t *)"{}", 2, &b),
                         CVMA_JWS_OK);
        assert_int_equal(strchr(a, '.') - a, strchr(b, '.') - b);
        assert_memory_equal(a, b, (size_t)(strchr(a, '.') - a));
        free(a);
        free(b);
        cvma_jws_signer_free(s);
    }
    char long_kid[CVMA_JWS_KID_MAX + 2];
    memset(long_kid, 'k', sizeof long_kid - 1);
    long_kid[sizeof long_kid - 1] = '\0';
    assert_null(cvma_jws_signer_new(key_a, "JWT", long_kid, &e));
    assert_int_equal(e, CVMA_JWS_MALFORMED);
    assert_null(cvma_jws_signer_new(key_a, "JWT", "\xc3(", &e)); /* not UTF-8 */
    assert_int_equal(e, CVMA_JWS_MALFORMED);
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    assert_non_null(rsa);
    assert_null(cvma_jws_signer_new(rsa, "JWT", "k1", &e));
    assert_int_equal(e, CVMA_JWS_ALG_KEY_MISMATCH);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p384);
}

/* The payload of a token (malloc'd, NUL-terminated). */
static char *payload_of(const char *tok)
{
    const char *d1 = strchr(tok, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
    struct cvma_buf b = {0};
    assert_non_null(d2);
    assert_int_equal(cvma_base64_decode_buf(d1 + 1, (size_t)(d2 - d1 - 1), CVMA_B64_URL, &b),
                     CVMA_OK);
    char *s = calloc(1, b.len + 1);
    assert_non_null(s);
    memcpy(s, b.p, b.len);
    cvma_buf_free(&b);
    return s;
}

/*
 * The token's claims are written as text, the result's members copied from the result's text:
 * byte for byte what jansson writes for the claims built as objects (the claims set of
 * docs/results.md, members in this order), with a nonce, an expiry, a cnf key, a policy, a
 * reason and the result's every member.
 */
static void test_claims_text_is_the_jansson_object(void **state)
{
    (void)state;
    struct cvma_result res;
    char *tok = NULL, err[256];
    make_result(&res, CVMA_CONTRAINDICATED, true);
    json_t *jwk =
            json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", "eA", "y", "eQ");
    assert_int_equal(sign_kid(&res, NULL, key_a, NULL, "acme \"v2\"", "bm9uY2U", 120, jwk, &tok),
                     CVMA_OK);
    char *got = payload_of(tok);
    json_t *claims = NULL;
    assert_int_equal(cvma_ear_verify(tok, strlen(tok), key_a, &claims, err, sizeof err), CVMA_OK);
    json_int_t iat = json_integer_value(json_object_get(claims, "iat"));
    /* not verified, COLLATERAL_UNAVAILABLE an error: hardware contraindicated (docs/results.md) */
    json_t *vec = json_pack("{s:i, s:i, s:i, s:i, s:i}", "instance-identity", 0, "configuration", 0,
                            "executables", 0, "hardware", 96, "runtime-opaque", 0);

    json_t *result = cvma_result_to_json(&res);
    json_t *sub =
            json_pack("{s:s, s:O, s:s}", "ear.status", "contraindicated",
                      "ear.trustworthiness-vector", vec, "ear.appraisal-policy-id", "acme \"v2\"");
    json_decref(vec);
    static const char *const names[][2] = {
            {"cvmattest.claims", "claims"},           {"cvmattest.platform", "platform"},
            {"cvmattest.reasons", "reasons"},         {"cvmattest.trust-anchor", "trust_anchor"},
            {"cvmattest.verified-at", "verified_at"}, {"cvmattest.undecided", "undecided"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *v = json_object_get(result, names[i][1]);
        if (v != NULL) {
            json_object_set(sub, names[i][0], v);
        }
    }
    json_t *want =
            json_pack("{s:s, s:I, s:{s:s, s:s}, s:s, s:{s:o}, s:I, s:{s:O}}", "eat_profile",
                      CVMA_EAR_PROFILE, "iat", iat, "ear.verifier-id", "developer", "cvmattest",
                      "build", "cvmattest " CVMATTEST_VERSION, "eat_nonce", "bm9uY2U", "submods",
                      "sev-snp", sub, "exp", iat + 120, "cnf", "jwk", jwk);
    char *want_s = json_dumps(want, JSON_COMPACT);
    assert_non_null(want_s);
    assert_string_equal(got, want_s);
    assert_non_null(strstr(got, "\"COLLATERAL_UNAVAILABLE\"")); /* a reason is there */
    free(want_s);
    json_decref(want);
    json_decref(result);
    json_decref(claims);
    json_decref(jwk);
    free(got);
    free(tok);
    cvma_result_cleanup(&res);
}

/* A kid computed once (as the service does) is the one computed per token, for each key. */
static void test_signing_with_a_precomputed_kid(void **state)
{
    (void)state;
    struct cvma_result res;
    char kid_a[CVMA_EAR_KID_LEN], kid_b[CVMA_EAR_KID_LEN], err[256] = "";
    char *t1 = NULL, *t2 = NULL;
    make_result(&res, CVMA_AFFIRMING, false);
    assert_true(cvma_ear_key_id(key_a, kid_a));
    assert_true(cvma_ear_key_id(key_b, kid_b));
    assert_int_equal(strlen(kid_a), 64);
    assert_string_not_equal(kid_a, kid_b);
    assert_int_equal(cvma_ear_sign(&res, key_a, NULL, NULL, &t1), CVMA_OK);
    assert_int_equal(sign_kid(&res, NULL, key_a, kid_a, NULL, NULL, 60, NULL, &t2), CVMA_OK);
    char *k1 = header_kid(t1), *k2 = header_kid(t2);
    assert_string_equal(k1, kid_a);
    assert_string_equal(k2, kid_a);
    json_t *c = NULL;
    assert_int_equal(cvma_ear_verify(t2, strlen(t2), key_a, &c, err, sizeof err), CVMA_OK);
    assert_non_null(json_object_get(c, "exp"));
    json_decref(c);
    free(k1);
    free(k2);
    free(t1);
    free(t2);
    /* The claims from a result text written beforehand (the service's) are the same. */
    json_t *c1 = NULL, *c2 = NULL;
    struct cvma_strbuf text = {0};
    struct cvma_ear_result_text rt;
    assert_true(cvma_ear_result_text(&res, &text, &rt));
    assert_int_equal(sign_kid(&res, &rt, key_a, kid_a, NULL, NULL, 0, NULL, &t1), CVMA_OK);
    free(text.p);
    assert_int_equal(sign_kid(&res, NULL, key_a, kid_a, NULL, NULL, 0, NULL, &t2), CVMA_OK);
    assert_int_equal(cvma_ear_verify(t1, strlen(t1), key_a, &c1, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_ear_verify(t2, strlen(t2), key_a, &c2, err, sizeof err), CVMA_OK);
    assert_true(json_equal(json_object_get(c1, "submods"), json_object_get(c2, "submods")));
    json_decref(c1);
    json_decref(c2);
    free(t1);
    free(t2);
    /* NULL: computed from the key. */
    assert_int_equal(sign_kid(&res, NULL, key_b, NULL, NULL, NULL, 0, NULL, &t1), CVMA_OK);
    k1 = header_kid(t1);
    assert_string_equal(k1, kid_b);
    free(k1);
    free(t1);
    cvma_result_cleanup(&res);
}

/* A VLEK platform as the SNP verifier types it: cspID text plus an unmasked CHIP_ID. */
static void vlek_platform(struct cvma_platform *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->present = true;
    pl->vendor = CVMA_PLATFORM_AMD;
    pl->id_type = CVMA_PLATFORM_VLEK;
    pl->has_id = true;
    pl->id_len = strlen("cc-us-east-2.amazonaws.com");
    memcpy(pl->id, "cc-us-east-2.amazonaws.com", pl->id_len);
    pl->has_chip_id = true;
    memset(pl->chip_id, 0xab, sizeof pl->chip_id);
}

static void test_platform_json_is_written_from_the_typed_identity(void **state)
{
    struct cvma_platform pl, back;
    (void)state;
    vlek_platform(&pl);
    pl.bound = true;
    snprintf(pl.provider, sizeof pl.provider, "acme");
    pl.n_labels = 2;
    snprintf(pl.labels[0].key, sizeof pl.labels[0].key, "rack");
    snprintf(pl.labels[0].value, sizeof pl.labels[0].value, "r7");
    snprintf(pl.labels[1].key, sizeof pl.labels[1].key, "region");
    snprintf(pl.labels[1].value, sizeof pl.labels[1].value, "eu-1");
    json_t *j = cvma_platform_to_json(&pl);
    char *s = json_dumps(j, 0);
    assert_string_equal(s,
                        "{\"vendor\": \"amd\", \"id_type\": \"vlek\", \"id\": "
                        "\"cc-us-east-2.amazonaws.com\", \"chip_id\": \"" R64(
                                "ab") "\", \"provider\": \"acme\", \"labels\": {\"rack\": \"r7\", "
                                      "\"region\": \"eu-1\"}}");
    /* Read back (an earlier result): the same identity, provider and labels. */
    assert_true(cvma_platform_from_json(j, &back));
    assert_true(cvma_platform_same(&pl, &back));
    assert_true(back.has_chip_id && memcmp(back.chip_id, pl.chip_id, 64) == 0);
    assert_string_equal(back.provider, "acme");
    assert_int_equal(back.n_labels, 2);
    assert_string_equal(back.labels[1].value, "eu-1");
    free(s);
    json_decref(j);

    /* A masked CHIP_ID: "id": null, no provider; not the same as an unmasked one. */
    memset(&pl, 0, sizeof pl);
    pl.present = true;
    pl.vendor = CVMA_PLATFORM_AMD;
    pl.id_type = CVMA_PLATFORM_CHIP_ID;
    j = cvma_platform_to_json(&pl);
    s = json_dumps(j, 0);
    assert_string_equal(s, "{\"vendor\": \"amd\", \"id_type\": \"chip_id\", \"id\": null, "
                           "\"provider\": null, \"labels\": {}}");
    assert_true(cvma_platform_from_json(j, &back));
    assert_false(back.has_id);
    back.has_id = true;
    back.id_len = 64;
    assert_false(cvma_platform_same(&pl, &back));
    free(s);
    json_decref(j);

    /* Nothing verified: {}. */
    memset(&pl, 0, sizeof pl);
    j = cvma_platform_to_json(&pl);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);
}

static void test_compare_previous_reads_the_earlier_platform_typed(void **state)
{
    struct cvma_result res;
    char err[200];
    (void)state;
    cvma_result_init(&res, "sev-snp", time(NULL));
    vlek_platform(&res.platform);
    /* The same platform in an earlier result, upper-case hex CHIP_ID and another provider. */
    json_t *prev =
            json_pack("{s:{s:s, s:s, s:s, s:s, s:n, s:{}}, s:{s:s}}", "platform", "vendor", "amd",
                      "id_type", "vlek", "id", "cc-us-east-2.amazonaws.com", "chip_id", R64("AB"),
                      "provider", "labels", "claims", "measurement", R64("11"));
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 0);
    json_decref(prev);
    /* Another cspID: PLATFORM_CHANGED, naming both. */
    prev = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{}}", "platform", "vendor", "amd", "id_type",
                     "vlek", "id", "cc-eu-west-1.example.net", "provider", "globex", "claims");
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 1);
    assert_int_equal(res.verdict.reasons[0].code, CVMA_R_PLATFORM_CHANGED);
    assert_non_null(strstr(res.verdict.reasons[0].detail,
                           "from amd vlek cc-eu-west-1.exa... (registered with globex) to amd "
                           "vlek cc-us-east-2.ama... chip abababababababab... (not registered)"));
    json_decref(prev);
    cvma_result_cleanup(&res);
}

/*
 * A VLEK's id is its provider's cspID, shared by all the provider's hosts; the chip_id beside
 * it is the host. The same cspID on another chip moved (PLATFORM_CHANGED naming both chips);
 * a chip on one side only is another platform too.
 */
static void test_compare_previous_sees_a_vlek_move_to_another_chip(void **state)
{
    struct cvma_result res;
    char err[200];
    (void)state;
    cvma_result_init(&res, "sev-snp", time(NULL));
    vlek_platform(&res.platform);
    const char *chips[] = {R64("cd"), NULL};
    for (size_t i = 0; i < 2; i++) {
        json_t *pl = json_pack("{s:s, s:s, s:s}", "vendor", "amd", "id_type", "vlek", "id",
                               "cc-us-east-2.amazonaws.com");
        if (chips[i] != NULL) {
            json_object_set_new(pl, "chip_id", json_string(chips[i]));
        }
        json_t *prev = json_pack("{s:o, s:{}}", "platform", pl, "claims");
        res.verdict.n_reasons = 0;
        assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
        assert_int_equal(res.verdict.n_reasons, 1);
        assert_int_equal(res.verdict.reasons[0].code, CVMA_R_PLATFORM_CHANGED);
        assert_non_null(strstr(res.verdict.reasons[0].detail,
                               i == 0 ? "from amd vlek cc-us-east-2.ama... chip cdcdcdcdcdcdcdcd..."
                                        " (not registered) to amd vlek cc-us-east-2.ama... chip "
                                        "abababababababab... (not registered)"
                                      : "from amd vlek cc-us-east-2.ama... (not registered) to "
                                        "amd vlek cc-us-east-2.ama... chip abababababababab..."));
        json_decref(prev);
    }
    cvma_result_cleanup(&res);
}

/*
 * A masked CHIP_ID ("id": null) names no platform: an earlier result on a masked chip and one
 * now on a masked chip are not shown to be on one, so PLATFORM_CHANGED (docs/results.md
 * "Migration": nothing shows the workload stayed); so is a masked one against a named one.
 */
static void test_compare_previous_counts_a_masked_chip_id_as_another_platform(void **state)
{
    struct cvma_result res;
    char err[200];
    struct cvma_platform a, b;
    (void)state;
    memset(&a, 0, sizeof a);
    a.present = true;
    a.vendor = CVMA_PLATFORM_AMD;
    a.id_type = CVMA_PLATFORM_CHIP_ID;
    b = a;
    assert_false(cvma_platform_same(&a, &b));
    cvma_result_init(&res, "sev-snp", time(NULL));
    res.platform = a;
    json_t *prev = json_pack("{s:{s:s, s:s, s:n, s:n, s:{}}, s:{}}", "platform", "vendor", "amd",
                             "id_type", "chip_id", "id", "provider", "labels", "claims");
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 1);
    assert_int_equal(res.verdict.reasons[0].code, CVMA_R_PLATFORM_CHANGED);
    assert_int_equal(res.verdict.reasons[0].severity, CVMA_SEV_WARNING);
    assert_non_null(strstr(res.verdict.reasons[0].detail,
                           "from amd chip_id (none) (not registered) to amd chip_id (none) (not "
                           "registered) (or may have: no identifier shows it stayed)"));
    json_decref(prev);
    /* Named now, masked before: moved too. */
    res.verdict.n_reasons = 0;
    res.platform.has_id = true;
    res.platform.id_len = CVMA_PLATFORM_CHIP_ID_LEN;
    memset(res.platform.id, 0x11, CVMA_PLATFORM_CHIP_ID_LEN);
    prev = json_pack("{s:{s:s, s:s, s:n}, s:{}}", "platform", "vendor", "amd", "id_type", "chip_id",
                     "id", "claims");
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 1);
    assert_int_equal(res.verdict.reasons[0].code, CVMA_R_PLATFORM_CHANGED);
    json_decref(prev);
    /* Named the same both times: nothing. */
    res.verdict.n_reasons = 0;
    prev = json_pack("{s:{s:s, s:s, s:s}, s:{}}", "platform", "vendor", "amd", "id_type", "chip_id",
                     "id", R64("11"), "claims");
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 0);
    json_decref(prev);
    cvma_result_cleanup(&res);
}

/*
 * The measurement compared with the earlier result's: on the same platform another one is
 * MEASUREMENT_CHANGED (a warning) naming both; when the platform moved too, PLATFORM_CHANGED
 * first (its detail saying the measurement changed too), then MEASUREMENT_CHANGED; the same
 * measurement in upper-case hex is the same; an earlier result naming none compares nothing.
 */
static void test_compare_previous_names_a_changed_measurement(void **state)
{
    struct cvma_result res;
    char err[200];
    (void)state;
    cvma_result_init(&res, "sev-snp", time(NULL));
    vlek_platform(&res.platform);
    res.claims.verified = true;
    res.claims.measurement_len = 48;
    memset(res.claims.measurement, 0xee, 48);
#define SAME_PLATFORM                                                                              \
    "platform", "vendor", "amd", "id_type", "vlek", "id", "cc-us-east-2.amazonaws.com", "chip_id", \
            R64("ab")
    json_t *prev = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s}}", SAME_PLATFORM, "claims",
                             "measurement", R16("AB") R16("AB") R16("AB"));
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 1);
    assert_int_equal(res.verdict.reasons[0].code, CVMA_R_MEASUREMENT_CHANGED);
    assert_int_equal(res.verdict.reasons[0].severity, CVMA_SEV_WARNING);
    assert_non_null(strstr(res.verdict.reasons[0].detail,
                           "the measurement changed on amd vlek cc-us-east-2.ama... chip "
                           "abababababababab... (not registered): from " R16("AB") R16("AB")
                                   R16("AB") " to " R16("ee") R16("ee") R16("ee")));
    json_decref(prev);
    res.verdict.n_reasons = 0;

    /* The same measurement, upper-case hex: nothing. */
    prev = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s}}", SAME_PLATFORM, "claims", "measurement",
                     R16("EE") R16("EE") R16("EE"));
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 0);
    json_decref(prev);
    /* No measurement named before: nothing to compare. */
    prev = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{}}", SAME_PLATFORM, "claims");
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 0);
    json_decref(prev);
#undef SAME_PLATFORM

    /* Moved and changed: both, the move first. */
    prev = json_pack("{s:{s:s, s:s, s:s}, s:{s:s}}", "platform", "vendor", "amd", "id_type", "vlek",
                     "id", "cc-eu-west-1.example.net", "claims", "measurement",
                     R16("ab") R16("ab") R16("ab"));
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 2);
    assert_int_equal(res.verdict.reasons[0].code, CVMA_R_PLATFORM_CHANGED);
    assert_non_null(strstr(res.verdict.reasons[0].detail, "; its measurement changed too"));
    assert_int_equal(res.verdict.reasons[1].code, CVMA_R_MEASUREMENT_CHANGED);
    assert_non_null(strstr(res.verdict.reasons[1].detail,
                           "the measurement changed, now on amd vlek cc-us-east-2.ama..."));
    json_decref(prev);
    /* Moved, the earlier result naming no measurement (or not as a string): PLATFORM_CHANGED
     * alone, its detail not saying the measurement changed (it said so, with no
     * MEASUREMENT_CHANGED after it). */
    for (int k = 0; k < 2; k++) {
        res.verdict.n_reasons = 0;
        prev = json_pack("{s:{s:s, s:s, s:s}, s:{}}", "platform", "vendor", "amd", "id_type",
                         "vlek", "id", "cc-eu-west-1.example.net", "claims");
        if (k == 1) {
            json_object_set_new(json_object_get(prev, "claims"), "measurement", json_integer(5));
        }
        assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
        assert_int_equal(res.verdict.n_reasons, 1);
        assert_int_equal(res.verdict.reasons[0].code, CVMA_R_PLATFORM_CHANGED);
        assert_null(strstr(res.verdict.reasons[0].detail, "measurement"));
        json_decref(prev);
    }
    cvma_result_cleanup(&res);
}

/*
 * Measurements of different TEE kinds are not comparable: an earlier SEV-SNP result whose
 * MEASUREMENT has the bytes of this TDX MRTD is MEASUREMENT_CHANGED, naming both kinds; the
 * same kind with the same bytes is nothing; a tee that is not a kind's name is another kind;
 * an earlier result naming no tee compares the bytes alone.
 */
static void test_compare_previous_counts_another_tee_as_a_changed_measurement(void **state)
{
    struct cvma_result res;
    char err[200];
    (void)state;
    cvma_result_init(&res, "tdx", time(NULL));
    vlek_platform(&res.platform);
    res.claims.verified = true;
    res.claims.measurement_len = 48;
    memset(res.claims.measurement, 0xab, 48);
#define SAME_PLATFORM                                                                              \
    "platform", "vendor", "amd", "id_type", "vlek", "id", "cc-us-east-2.amazonaws.com", "chip_id", \
            R64("ab")
    json_t *prev = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s}}", "tee", "sev-snp",
                             SAME_PLATFORM, "claims", "measurement", R16("ab") R16("ab") R16("ab"));
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 1);
    assert_int_equal(res.verdict.reasons[0].code, CVMA_R_MEASUREMENT_CHANGED);
    assert_int_equal(res.verdict.reasons[0].severity, CVMA_SEV_WARNING);
    assert_non_null(strstr(res.verdict.reasons[0].detail,
                           "from sev-snp " R16("ab") R16("ab") R16("ab") " to tdx " R16("ab")
                                   R16("ab") R16("ab") ", another TEE kind"));
    json_decref(prev);

    /* The same kind and bytes: nothing. */
    res.verdict.n_reasons = 0;
    prev = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s}}", "tee", "tdx", SAME_PLATFORM,
                     "claims", "measurement", R16("AB") R16("AB") R16("AB"));
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 0);
    json_decref(prev);

    /* A tee that is no kind's name: another kind. */
    json_t *bad[] = {json_integer(5), json_string("TDX"), json_string(""), json_null()};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        res.verdict.n_reasons = 0;
        prev = json_pack("{s:o, s:{s:s, s:s, s:s, s:s}, s:{s:s}}", "tee", bad[i], SAME_PLATFORM,
                         "claims", "measurement", R16("ab") R16("ab") R16("ab"));
        assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
        assert_int_equal(res.verdict.n_reasons, 1);
        assert_int_equal(res.verdict.reasons[0].code, CVMA_R_MEASUREMENT_CHANGED);
        assert_non_null(strstr(res.verdict.reasons[0].detail, "from (not a kind) "));
        json_decref(prev);
    }

    /* No tee named before: the bytes alone. */
    res.verdict.n_reasons = 0;
    prev = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s}}", SAME_PLATFORM, "claims", "measurement",
                     R16("ab") R16("ab") R16("ab"));
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 0);
    json_decref(prev);
#undef SAME_PLATFORM
    cvma_result_cleanup(&res);
}

/* docs/results.md: labels that are not an object of strings cannot be read back, so the
 * earlier platform is another one; an array or a string was passed over as none. */
static void test_compare_previous_labels_not_an_object(void **state)
{
    struct cvma_result res;
    char err[200];
    (void)state;
    cvma_result_init(&res, "sev-snp", time(NULL));
    vlek_platform(&res.platform);
    json_t *bad[] = {json_pack("[i]", 1), json_string("x"), json_integer(5),
                     json_pack("{s:i}", "a", 1)};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        res.verdict.n_reasons = 0;
        json_t *prev = json_pack("{s:{s:s, s:s, s:s, s:s, s:o}, s:{}}", "platform", "vendor", "amd",
                                 "id_type", "vlek", "id", "cc-us-east-2.amazonaws.com", "chip_id",
                                 R64("ab"), "labels", bad[i], "claims");
        assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
        assert_int_equal(res.verdict.n_reasons, 1);
        assert_int_equal(res.verdict.reasons[0].code, CVMA_R_PLATFORM_CHANGED);
        json_decref(prev);
    }
    /* and labels {} or absent: the same platform */
    json_t *prev = json_pack("{s:{s:s, s:s, s:s, s:s, s:{}}, s:{}}", "platform", "vendor", "amd",
                             "id_type", "vlek", "id", "cc-us-east-2.amazonaws.com", "chip_id",
                             R64("ab"), "labels", "claims");
    res.verdict.n_reasons = 0;
    assert_int_equal(cvma_result_compare_previous(&res, prev, err, sizeof err), CVMA_OK);
    assert_int_equal(res.verdict.n_reasons, 0);
    json_decref(prev);
    cvma_result_cleanup(&res);
}

static void test_result_check_accepts_affirming_and_warning(void **state)
{
    (void)state;
    enum cvma_result_status sts[] = {CVMA_AFFIRMING, CVMA_WARNING};
    enum cvma_ear_tier want[] = {CVMA_EAR_AFFIRMING, CVMA_EAR_WARNING};
    for (size_t i = 0; i < 2; i++) {
        struct cvma_result res;
        struct cvma_ear_decision d;
        char *tok = NULL, err[256] = "";
        make_result(&res, sts[i], false);
        assert_int_equal(cvma_ear_sign(&res, key_a, NULL, NULL, &tok), CVMA_OK);
        assert_int_equal(check(tok, time(NULL), -1, &d, err, sizeof err), CVMA_OK);
        assert_int_equal(d.tier, want[i]);
        assert_string_equal(d.submod, "sev-snp");
        free(tok);
        cvma_result_cleanup(&res);
    }
}

static void test_result_check_reports_contraindicated(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    char err[256] = "";
    json_t *c = claims_of(CVMA_CONTRAINDICATED);
    char *tok = sign(c, "JWT");
    assert_int_equal(check(tok, time(NULL), -1, &d, err, sizeof err), CVMA_OK);
    assert_int_equal(d.tier, CVMA_EAR_CONTRAINDICATED);
    free(tok);
    json_decref(c);
}

/* A token without a NumericDate iat is named for what is wrong with it: a string iat was
 * said to be "missing", and a negative one passed as issued in 1969. */
static void test_result_check_names_a_bad_iat(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    json_t *vals[3] = {json_string("1700000000"), json_integer(-5), NULL};
    const char *want[3] = {"iat is not a NumericDate", "iat is not a NumericDate",
                           "iat is missing"};
    for (size_t i = 0; i < 3; i++) {
        char err[256] = "";
        json_t *c = claims_of(CVMA_AFFIRMING);
        if (vals[i] != NULL) {
            json_object_set_new(c, "iat", vals[i]);
        } else {
            json_object_del(c, "iat");
        }
        char *tok = sign(c, "JWT");
        assert_int_equal(check(tok, time(NULL), -1, &d, err, sizeof err), CVMA_REJECTED);
        if (strstr(err, want[i]) == NULL) {
            fail_msg("%zu: \"%s\" lacks \"%s\"", i, err, want[i]);
        }
        free(tok);
        json_decref(c);
    }
    /* a negative exp is no NumericDate either */
    char err[256] = "";
    json_t *c = claims_of(CVMA_AFFIRMING);
    json_object_set_new(c, "exp", json_integer(-1));
    char *tok = sign(c, "JWT");
    assert_int_equal(check(tok, time(NULL), -1, &d, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "not a NumericDate (a non-negative integer"));
    free(tok);
    json_decref(c);
}

/* Two submodules: the worst one decides. */
static void test_result_check_takes_the_worst_submodule(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    char err[256] = "";
    json_t *c = claims_of(CVMA_AFFIRMING);
    json_object_set_new(json_object_get(c, "submods"), "tdx",
                        json_pack("{s:s}", "ear.status", "none"));
    char *tok = sign(c, "JWT");
    assert_int_equal(check(tok, time(NULL), -1, &d, err, sizeof err), CVMA_OK);
    assert_int_equal(d.tier, CVMA_EAR_NONE);
    assert_string_equal(d.submod, "tdx");
    free(tok);
    json_decref(c);
}

static void test_result_check_refuses_unknown_status(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    char err[256] = "";
    json_t *c = claims_of(CVMA_AFFIRMING);
    json_object_set_new(json_object_get(json_object_get(c, "submods"), "sev-snp"), "ear.status",
                        json_string("fine"));
    char *tok = sign(c, "JWT");
    assert_int_equal(check(tok, time(NULL), -1, &d, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "ear.status"));
    free(tok);
    json_decref(c);
}

static void test_result_check_refuses_another_key(void **state)
{
    (void)state;
    json_t *c = claims_of(CVMA_AFFIRMING), *out = NULL;
    char *tok = sign(c, "JWT"), err[256] = "";
    assert_int_equal(cvma_ear_verify(tok, strlen(tok), key_b, &out, err, sizeof err),
                     CVMA_REJECTED);
    assert_null(out);
    free(tok);
    json_decref(c);
}

static void test_result_check_refuses_wrong_typ(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    json_t *c = claims_of(CVMA_AFFIRMING);
    const char *typs[] = {"JOSE", NULL};
    for (size_t i = 0; i < 2; i++) {
        char err[256] = "";
        char *tok = sign(c, typs[i]);
        assert_int_equal(check(tok, time(NULL), -1, &d, err, sizeof err), CVMA_REJECTED);
        assert_non_null(strstr(err, "typ"));
        free(tok);
    }
    /* RFC 7519 5.1: compared without regard to case; RFC 7515 4.1.9: a typ without '/' is
     * application/ prefixed, so "application/jwt" is the same type. */
    const char *same[] = {"jwt", "JWT", "application/jwt", "Application/JWT"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char err[256] = "";
        char *tok = sign(c, same[i]);
        if (check(tok, time(NULL), -1, &d, err, sizeof err) != CVMA_OK) {
            fail_msg("typ %s refused: %s", same[i], err);
        }
        free(tok);
    }
    /* but only that prefix, once, and only before JWT */
    const char *other[] = {"application/application/jwt", "text/jwt", "application/", "jwt/",
                           "application/jwt+json"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        char err[256] = "";
        char *tok = sign(c, other[i]);
        if (check(tok, time(NULL), -1, &d, err, sizeof err) != CVMA_REJECTED ||
            strstr(err, "typ") == NULL) {
            fail_msg("typ %s not refused", other[i]);
        }
        free(tok);
    }
    json_decref(c);
}

static void test_result_check_refuses_wrong_profile(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    char err[256] = "";
    json_t *c = claims_of(CVMA_AFFIRMING);
    json_object_set_new(c, "eat_profile", json_string("tag:ietf.org,2026:rats/ear#03"));
    char *tok = sign(c, "JWT");
    assert_int_equal(check(tok, time(NULL), -1, &d, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "eat_profile"));
    free(tok);
    json_decref(c);
}

static void test_result_check_refuses_expired_and_early_tokens(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    time_t now = time(NULL);
    struct {
        const char *claim;
        json_int_t value;
        const char *says; /* NULL: accepted */
    } cases[] = {
            {"exp", (json_int_t)now - 1, "expired"},
            {"exp", (json_int_t)now, "expired"},
            {"exp", (json_int_t)now + 600, NULL},
            {"nbf", (json_int_t)now + 600, "not yet valid"},
            {"nbf", (json_int_t)now - 600, NULL},
            {"iat", (json_int_t)now + 3600, "future"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        json_t *c = claims_of(CVMA_AFFIRMING);
        json_object_set_new(c, cases[i].claim, json_integer(cases[i].value));
        char *tok = sign(c, "JWT");
        enum cvma_status st = check(tok, now, -1, &d, err, sizeof err);
        if (cases[i].says == NULL) {
            assert_int_equal(st, CVMA_OK);
        } else {
            assert_int_equal(st, CVMA_REJECTED);
            assert_non_null(strstr(err, cases[i].says));
        }
        free(tok);
        json_decref(c);
    }
}

/* An iat past the last instant RFC 3339 writes is shown as its number, not as an invalid
 * time. */
static void test_result_check_shows_an_iat_past_9999_as_its_number(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    char err[256] = "";
    json_t *c = json_pack("{s:I}", "iat", (json_int_t)INT64_MAX);
    assert_non_null(c);
    assert_int_equal(cvma_ear_decide(c, time(NULL), -1, &d, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "issued in the future: iat 9223372036854775807 (after "
                                "9999-12-31T23:59:59Z)"));
    assert_null(strstr(err, "invalid-time"));
    json_decref(c);
}

static void test_result_check_max_age(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    char err[256] = "";
    time_t now = time(NULL);
    json_t *c = claims_of(CVMA_AFFIRMING);
    json_object_set_new(c, "iat", json_integer((json_int_t)now - 120));
    char *tok = sign(c, "JWT");
    assert_int_equal(check(tok, now, 60, &d, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "--max-age"));
    assert_int_equal(check(tok, now, 300, &d, err, sizeof err), CVMA_OK);
    assert_int_equal(check(tok, now, -1, &d, err, sizeof err), CVMA_OK);
    free(tok);
    json_decref(c);
}

/* An iat far in the past: now - iat does not fit a time_t, and a wrapped age passed --max-age. */
static void test_result_check_max_age_refuses_an_iat_far_in_the_past(void **state)
{
    (void)state;
    struct cvma_ear_decision d;
    char err[256] = "";
    time_t now = time(NULL);
    json_t *c = claims_of(CVMA_AFFIRMING);
    json_object_set_new(c, "iat", json_integer(0)); /* the earliest NumericDate */
    char *tok = sign(c, "JWT");
    assert_int_equal(check(tok, now, 3600, &d, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "--max-age"));
    assert_int_equal(check(tok, now, -1, &d, err, sizeof err), CVMA_OK);
    free(tok);
    /* LLONG_MIN (whose age overflowed time_t): no NumericDate at all */
    json_object_set_new(c, "iat", json_integer(LLONG_MIN));
    tok = sign(c, "JWT");
    assert_int_equal(check(tok, now, -1, &d, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "iat is not a NumericDate"));
    free(tok);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_result_json_says_undecided_only_for_exit_3),
            cmocka_unit_test(test_claims_text_is_the_jansson_object),
            cmocka_unit_test(test_result_text),
            cmocka_unit_test(test_trustworthiness_vector_of_each_reason_class),
            cmocka_unit_test(test_trustworthiness_vector_never_contradicts_the_status),
            cmocka_unit_test(
                    test_trustworthiness_vector_claims_hardware_only_for_a_hardware_report),
            cmocka_unit_test(test_signer_threads),
            cmocka_unit_test(test_platform_json_is_written_from_the_typed_identity),
            cmocka_unit_test(test_compare_previous_reads_the_earlier_platform_typed),
            cmocka_unit_test(test_compare_previous_sees_a_vlek_move_to_another_chip),
            cmocka_unit_test(test_compare_previous_counts_a_masked_chip_id_as_another_platform),
            cmocka_unit_test(test_compare_previous_names_a_changed_measurement),
            cmocka_unit_test(test_compare_previous_labels_not_an_object),
            cmocka_unit_test(test_compare_previous_counts_another_tee_as_a_changed_measurement),
            cmocka_unit_test(test_result_check_names_a_bad_iat),
            cmocka_unit_test(test_signed_undecided_result_carries_the_flag),
            cmocka_unit_test(test_result_check_accepts_affirming_and_warning),
            cmocka_unit_test(test_result_check_reports_contraindicated),
            cmocka_unit_test(test_result_check_takes_the_worst_submodule),
            cmocka_unit_test(test_result_check_refuses_unknown_status),
            cmocka_unit_test(test_result_check_refuses_another_key),
            cmocka_unit_test(test_result_check_refuses_wrong_typ),
            cmocka_unit_test(test_result_check_refuses_wrong_profile),
            cmocka_unit_test(test_result_check_refuses_expired_and_early_tokens),
            cmocka_unit_test(test_result_check_shows_an_iat_past_9999_as_its_number),
            cmocka_unit_test(test_result_check_max_age),
            cmocka_unit_test(test_result_check_max_age_refuses_an_iat_far_in_the_past),
            cmocka_unit_test(test_signing_with_a_precomputed_kid),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
