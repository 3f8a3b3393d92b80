/*
 * Each refusal of the SEV-SNP verifier, produced on simulated evidence that is wrong in one
 * way only (the simulator signs everything else correctly), plus the time-dependent ones.
 */
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "appraise/policy.h"
#include "collateral/cache.h"
#include "collateral/kds.h"
#include "collateral/source.h"
#include "common/base64.h"
#include "common/timeutil.h"
#include "crypto/chain_cache.h"
#include "crypto/crypto.h"
#include "sim/sim_snp.h"
#include "sim/sim_util.h"
#include "snp/amd_cert.h"
#include "snp/snp_internal.h"
#include "snp/snp_kds.h"
#include "testutil.h"
#include "tu_api.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"

struct run {
    char *dir;
    struct cvma_result res;
};

/* Simulates with o into a new temp dir (r->dir). */
static void sim_write(const struct cvma_sim_snp_opts *o, struct run *r)
{
    char err[256];
    r->dir = tu_tmpdir();
    if (cvma_sim_snp_write(o, r->dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim: %s", err);
    }
}

/*
 * Verifies r->dir's report (offline, its collateral from r->dir, the test root trusted when
 * trust) with --product product (0: none) and, when policy is not NULL, appraises with that
 * policy JSON.
 */
static void verify_dir(struct run *r, bool trust, time_t at, enum cvma_snp_product product,
                       const char *policy)
{
    char err[256];
    struct cvma_buf rep, root;
    struct cvma_verify_opts vo;
    X509 *roots[1] = {NULL};

    char *rp = tu_path(r->dir, "report.bin"), *ap = tu_path(r->dir, "ark.pem");
    tu_read(rp, &rep);
    tu_read(ap, &root);
    roots[0] = cvma_x509_load(root.p, root.len);
    assert_non_null(roots[0]);
    memset(&vo, 0, sizeof vo);
    vo.at = at != 0 ? at : time(NULL);
    vo.collateral_dir = r->dir;
    vo.offline = true;
    vo.cache_dir = r->dir;
    vo.trust_roots = roots;
    vo.n_trust_roots = trust ? 1 : 0;
    vo.snp_product = (int)product;
    cvma_result_init(&r->res, "sev-snp", vo.at);
    cvma_snp_verify(rep.p, rep.len, &vo, NULL, &r->res);
    if (policy != NULL) {
        struct cvma_policy *p = NULL;
        if (cvma_policy_load_bytes((const uint8_t *)policy, strlen(policy), &p, err, sizeof err) !=
            CVMA_OK) {
            fail_msg("policy: %s", err);
        }
        cvma_policy_appraise(p, &r->res);
        cvma_policy_free(p);
    }
    cvma_result_finish(&r->res);
    X509_free(roots[0]);
    cvma_buf_free(&rep);
    cvma_buf_free(&root);
    free(rp);
    free(ap);
}

static void sim_verify_ex(const struct cvma_sim_snp_opts *o, bool trust, time_t at,
                          enum cvma_snp_product product, const char *policy, struct run *r)
{
    sim_write(o, r);
    verify_dir(r, trust, at, product, policy);
}

static void sim_verify(const struct cvma_sim_snp_opts *o, bool trust, time_t at, struct run *r)
{
    sim_verify_ex(o, trust, at, CVMA_SNP_PRODUCT_UNKNOWN, NULL, r);
}

static void expect_detail(const struct cvma_verdict *v, enum cvma_reason code, const char *part)
{
    const struct cvma_verdict_reason *r = tu_reason(v, code);
    const char *d = r != NULL ? r->detail : NULL;
    if (d == NULL || strstr(d, part) == NULL) {
        fail_msg("wanted %s with \"%s\", got %s", cvma_reason_name(code), part,
                 d ? d : "(no such reason)");
    }
}

static void done(struct run *r)
{
    cvma_result_cleanup(&r->res);
    tu_rmtree(r->dir);
    free(r->dir);
}

static void expect_error(const struct cvma_sim_snp_opts *o, enum cvma_reason code)
{
    struct run r;
    sim_verify(o, true, 0, &r);
    if (!cvma_verdict_has(&r.res.verdict, code) || r.res.status != CVMA_CONTRAINDICATED) {
        fail_msg("wanted %s, got status %s, first error %s", cvma_reason_name(code),
                 cvma_result_status_name(r.res.status),
                 cvma_reason_name(cvma_verdict_first_error(&r.res.verdict)));
    }
    done(&r);
}

static void test_simulated_report_is_affirmed_with_test_root_named(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    assert_int_equal(r.res.verdict.n_reasons, 0);
    assert_memory_equal(r.res.trust_anchor, "test-root:", 10);
    done(&r);
}

static void test_unpinned_root_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    sim_verify(&o, false, 0, &r);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CERT_UNTRUSTED_ROOT);
    assert_int_equal(cvma_result_exit_code(&r.res), 1);
    done(&r);
}

/* Writes cert to path as DER. */
static void write_der(const char *path, X509 *cert)
{
    unsigned char *p = NULL;
    int n = i2d_X509(cert, &p);
    assert_true(n > 0);
    tu_write(path, p, (size_t)n);
    OPENSSL_free(p);
}

/*
 * The pin is on the ARK's public key only: the rest of the ARK certificate (its validity,
 * basicConstraints, keyUsage) is vouched for by its self-signature alone, which is checked
 * (X509_V_FLAG_CHECK_SS_SIGNATURE). An ARK with the pinned key and a broken self-signature is
 * refused.
 */
static void test_ark_with_a_broken_self_signature_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    struct cvma_buf ab;
    cvma_sim_snp_opts_default(&o);
    sim_write(&o, &r);
    char *ap = tu_path(r.dir, "ark.pem");
    tu_read(ap, &ab);
    X509 *ark = cvma_x509_load(ab.p, ab.len);
    assert_non_null(ark);
    unsigned char *der = NULL;
    int n = i2d_X509(ark, &der);
    assert_true(n > 0);
    der[n - 1] ^= 0x01; /* the last byte of the signature */
    tu_write(ap, der, (size_t)n);
    verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CERT_CHAIN_INVALID);
    expect_detail(&r.res.verdict, CVMA_R_CERT_CHAIN_INVALID, "ARK");
    done(&r);
    OPENSSL_free(der);
    X509_free(ark);
    cvma_buf_free(&ab);
    free(ap);
}

/*
 * The chain is ARK -> ASK -> VCEK, three certificates: a VCEK the ARK signs itself (named as
 * issued by the ARK) verifies as a path of two, which AMD never issues, and is refused.
 */
static void test_vcek_issued_by_the_ark_itself_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    struct cvma_buf kb, ab, vb;
    cvma_sim_snp_opts_default(&o);
    o.keep_keys = true;
    sim_write(&o, &r);
    char *kp = tu_path(r.dir, "ark-key.pem"), *ap = tu_path(r.dir, "ark.pem"),
         *vp = tu_path(r.dir, "vcek.der");
    tu_read(kp, &kb);
    tu_read(ap, &ab);
    tu_read(vp, &vb);
    BIO *bio = BIO_new_mem_buf(kb.p, (int)kb.len);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    X509 *ark = cvma_x509_load(ab.p, ab.len), *vcek = cvma_x509_load(vb.p, vb.len);
    assert_true(key != NULL && ark != NULL && vcek != NULL);
    assert_int_equal(X509_set_issuer_name(vcek, X509_get_subject_name(ark)), 1);
    assert_true(X509_sign(vcek, key, EVP_sha384()) > 0);
    write_der(vp, vcek);
    verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CERT_CHAIN_INVALID);
    expect_detail(&r.res.verdict, CVMA_R_CERT_CHAIN_INVALID, "verified path has 2 certificates");
    done(&r);
    X509_free(vcek);
    X509_free(ark);
    EVP_PKEY_free(key);
    BIO_free(bio);
    cvma_buf_free(&kb);
    cvma_buf_free(&ab);
    cvma_buf_free(&vb);
    free(kp);
    free(ap);
    free(vp);
}

/* Signs x with key, SHA-384, in padding pad (RSA_PKCS1_PADDING, or RSA_PKCS1_PSS_PADDING with
 * a salt of salt bytes). */
static void sign_rsa(X509 *x, EVP_PKEY *key, int pad, int salt)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, &pctx, EVP_sha384(), NULL, key), 1);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, pad) > 0);
    if (pad == RSA_PKCS1_PSS_PADDING) {
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0);
    }
    assert_true(X509_sign_ctx(x, ctx) > 0);
    EVP_MD_CTX_free(ctx);
}

/* AMD signs with RSASSA-PSS, SHA-384, MGF1 SHA-384, salt 48 only: a VCEK its ASK signed with
 * PKCS#1 v1.5 or with another salt, which OpenSSL's chain check takes, is refused
 * (CERT_CHAIN_INVALID), and so is a CRL the ARK signed with PKCS#1 v1.5 (CRL_INVALID). */
static void test_chain_signed_outside_amds_scheme_is_refused(void **state)
{
    (void)state;
    static const struct {
        int pad, salt;
        const char *said;
    } bad[] = {
            {RSA_PKCS1_PADDING, 0, "VCEK: signed with sha384WithRSAEncryption, not RSASSA-PSS"},
            {RSA_PKCS1_PSS_PADDING, 32, "VCEK: signed with RSASSA-PSS with salt 32, not"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cvma_sim_snp_opts o;
        struct run r;
        struct cvma_buf kb, vb;
        cvma_sim_snp_opts_default(&o);
        o.keep_keys = true;
        sim_write(&o, &r);
        char *kp = tu_path(r.dir, "ask-key.pem"), *vp = tu_path(r.dir, "vcek.der");
        tu_read(kp, &kb);
        tu_read(vp, &vb);
        BIO *bio = BIO_new_mem_buf(kb.p, (int)kb.len);
        EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        X509 *vcek = cvma_x509_load(vb.p, vb.len);
        assert_true(key != NULL && vcek != NULL);
        sign_rsa(vcek, key, bad[i].pad, bad[i].salt);
        write_der(vp, vcek);
        verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
        assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
        assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CERT_CHAIN_INVALID);
        expect_detail(&r.res.verdict, CVMA_R_CERT_CHAIN_INVALID, bad[i].said);
        done(&r);
        X509_free(vcek);
        EVP_PKEY_free(key);
        BIO_free(bio);
        cvma_buf_free(&kb);
        cvma_buf_free(&vb);
        free(kp);
        free(vp);
    }
    /* the CRL, signed by the ARK's key with PKCS#1 v1.5 */
    struct cvma_sim_snp_opts o;
    struct run r;
    struct cvma_buf kb, ab;
    cvma_sim_snp_opts_default(&o);
    o.keep_keys = true;
    sim_write(&o, &r);
    char *kp = tu_path(r.dir, "ark-key.pem"), *ap = tu_path(r.dir, "ark.pem"),
         *cp = tu_path(r.dir, "crl.der");
    tu_read(kp, &kb);
    tu_read(ap, &ab);
    BIO *bio = BIO_new_mem_buf(kb.p, (int)kb.len);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    X509 *ark = cvma_x509_load(ab.p, ab.len);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t0 = ASN1_TIME_adj(NULL, time(NULL), -1, 0),
              *t1 = ASN1_TIME_adj(NULL, time(NULL), 30, 0);
    assert_true(key != NULL && ark != NULL && crl != NULL && t0 != NULL && t1 != NULL);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ark)), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, t0), 1);
    assert_int_equal(X509_CRL_set1_nextUpdate(crl, t1), 1);
    assert_true(X509_CRL_sign(crl, key, EVP_sha384()) > 0);
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);
    assert_true(n > 0);
    tu_write(cp, der, (size_t)n);
    OPENSSL_free(der);
    verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CRL_INVALID);
    expect_detail(&r.res.verdict, CVMA_R_CRL_INVALID,
                  "AMD CRL: signed with sha384WithRSAEncryption, not RSASSA-PSS");
    done(&r);
    X509_CRL_free(crl);
    ASN1_TIME_free(t0);
    ASN1_TIME_free(t1);
    X509_free(ark);
    EVP_PKEY_free(key);
    BIO_free(bio);
    cvma_buf_free(&kb);
    cvma_buf_free(&ab);
    free(kp);
    free(ap);
    free(cp);
}

static void test_revoked_ask_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    cvma_sim_snp_opts_default(&o);
    o.revoke_ask = true;
    expect_error(&o, CVMA_R_CERT_REVOKED);
    o.vlek = true; /* the ASVK too */
    expect_error(&o, CVMA_R_CERT_REVOKED);
}

/* Signs crl (its times and extensions set by the caller) as the ARK in dir (its key kept by
 * the simulator) in AMD's scheme (RSASSA-PSS, SHA-384, salt 48), with that ARK as its issuer;
 * *der gets the DER, malloc'd. */
static void ark_signed_crl(const char *dir, X509_CRL *crl, struct cvma_buf *der)
{
    struct cvma_buf kb, ab;
    char *kp = tu_path(dir, "ark-key.pem"), *ap = tu_path(dir, "ark.pem");
    tu_read(kp, &kb);
    tu_read(ap, &ab);
    BIO *bio = BIO_new_mem_buf(kb.p, (int)kb.len);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    X509 *ark = cvma_x509_load(ab.p, ab.len);
    assert_non_null(key);
    assert_non_null(ark);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ark)), 1);
    assert_int_equal(cvma_sim_crl_sign(crl, key, CVMA_SIM_SIG_RSA_PSS_SHA384), CVMA_OK);
    unsigned char *p = NULL;
    int n = i2d_X509_CRL(crl, &p);
    assert_true(n > 0);
    der->p = malloc((size_t)n);
    assert_non_null(der->p);
    memcpy(der->p, p, (size_t)n);
    der->len = (size_t)n;
    OPENSSL_free(p);
    X509_free(ark);
    EVP_PKEY_free(key);
    BIO_free(bio);
    cvma_buf_free(&kb);
    cvma_buf_free(&ab);
    free(kp);
    free(ap);
}

/* A CRL the ARK in dir signs, listing nobody, current from a day ago for 30 days: what an
 * attacker holding a revoked ASK could hand over. */
static void clean_crl(const char *dir, struct cvma_buf *out)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t0 = ASN1_TIME_adj(NULL, time(NULL), -1, 0),
              *t1 = ASN1_TIME_adj(NULL, time(NULL), 30, 0);
    assert_true(crl != NULL && t0 != NULL && t1 != NULL);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, t0), 1);
    assert_int_equal(X509_CRL_set1_nextUpdate(crl, t1), 1);
    ark_signed_crl(dir, crl, out);
    ASN1_TIME_free(t0);
    ASN1_TIME_free(t1);
    X509_CRL_free(crl);
}

/* Verifies rep with vo (and the collateral prepared from it, pre, when not NULL) into res. */
static void verify_rep(const struct cvma_buf *rep, const struct cvma_verify_opts *vo,
                       const void *pre, struct cvma_result *res)
{
    cvma_result_init(res, "sev-snp", vo->at);
    cvma_snp_verify(rep->p, rep->len, vo, pre, res);
    cvma_result_finish(res);
}

/*
 * The evidence bundle's crl.der never stands in for the verifier's own CRL: the directory's,
 * the cache's, or (online) KDS's. AMD's VCEK and VLEK CRLs are both the ARK's and look alike,
 * and an older CRL stays valid until its nextUpdate, so the evidence could otherwise pick a CRL
 * that leaves its revoked ASK out. Only with no CRL of its own (offline, none in the directory
 * or the cache) is the bundle's the CRL; for a root that is not AMD's, KDS and the cache have
 * none of it, so the directory's comes first and the bundle's next.
 */
static void test_bundle_crl_never_replaces_the_verifiers_own(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    struct cvma_buf clean, rep, root, leaf, ask, ark, revoking;
    cvma_sim_snp_opts_default(&o);
    o.revoke_ask = true;
    o.keep_keys = true;
    sim_write(&o, &r);
    clean_crl(r.dir, &clean);
    const char *names[] = {"report.bin", "ark.pem", "vcek.der", "ask.pem", "crl.der"};
    struct cvma_buf *bufs[] = {&rep, &root, &leaf, &ask, &revoking};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        char *p = tu_path(r.dir, names[i]);
        tu_read(p, bufs[i]);
        free(p);
    }
    ark = root;
    const struct cvma_named_part parts[] = {
            {"vcek.der", {leaf.p, leaf.len}, false},
            {"ask.pem", {ask.p, ask.len}, false},
            {"ark.pem", {ark.p, ark.len}, false},
            {"crl.der", {clean.p, clean.len}, false},
    };
    X509 *roots[1] = {cvma_x509_load(root.p, root.len)};
    char *empty_cache = tu_tmpdir(), *cache = tu_tmpdir();
    struct cvma_verify_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.offline = true;
    vo.trust_roots = roots;
    vo.n_trust_roots = 1;
    vo.collateral_parts = parts;
    vo.n_collateral_parts = CVMA_ARRAY_LEN(parts);

    /* 1. The operator's directory holds the revoking CRL: it is the one checked. */
    for (int prepared = 0; prepared < 2; prepared++) {
        vo.collateral_dir = r.dir;
        vo.cache_dir = empty_cache;
        void *pre = prepared ? cvma_kind_snp.prepare(rep.p, rep.len, &vo) : NULL;
        assert_true(!prepared || pre != NULL);
        verify_rep(&rep, &vo, pre, &r.res);
        assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
        assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_CERT_REVOKED));
        cvma_result_cleanup(&r.res);

        /* 2. No directory, no cached CRL, offline: the bundle's CRL is the CRL. */
        vo.collateral_dir = NULL;
        verify_rep(&rep, &vo, pre, &r.res);
        assert_int_equal(r.res.status, CVMA_AFFIRMING);
        assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_CRL_NOT_CHECKED));
        cvma_result_cleanup(&r.res);

        /* 3. A CRL in the cache under KDS's URL is AMD's, never this root's: with a root that
         * is not AMD's (the simulator's, a --trust-root) the bundle's is still the CRL. (The
         * cache beating the bundle for AMD's roots: test_snp.c, on real evidence.) */
        struct cvma_kds kds;
        char url[400];
        cvma_kds_init(&kds);
        assert_int_equal(cvma_kds_crl_url(&kds, CVMA_SNP_PRODUCT_MILAN, false, url, sizeof url),
                         CVMA_OK);
        char key[512];
        snprintf(key, sizeof key, "amd-kds %s", url);
        const struct cvma_cache c = {.dir = cache};
        assert_int_equal(cvma_cache_put(&c, key, revoking.p, revoking.len, 0), CVMA_OK);
        vo.cache_dir = cache;
        verify_rep(&rep, &vo, pre, &r.res);
        assert_int_equal(r.res.status, CVMA_AFFIRMING);
        cvma_result_cleanup(&r.res);
        if (pre != NULL) {
            /* 4. Collateral whose CRL is marked as the evidence's choice (what an offline
             * verifier without a CRL of its own does for AMD's ARKs, whose CRLs cannot be
             * signed here): the result says so, COLLATERAL_FROM_EVIDENCE, a warning. */
            struct cvma_snp_collateral *pc = pre;
            pc->crl = pc->crl_given;
            pc->crl_given = (struct cvma_buf){0};
            pc->crl_from_evidence = true;
            verify_rep(&rep, &vo, pre, &r.res);
            assert_int_equal(r.res.status, CVMA_WARNING);
            TU_ASSERT_DETAIL(&r.res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE,
                             "the evidence chose it");
            assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_CRL_NOT_CHECKED));
            cvma_result_cleanup(&r.res);
            cvma_kind_snp.prepared_free(pre);
        }
    }
    cvma_result_init(&r.res, "sev-snp", vo.at); /* (for done) */
    X509_free(roots[0]);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bufs); i++) {
        cvma_buf_free(bufs[i]);
    }
    cvma_buf_free(&clean);
    tu_rmtree(empty_cache);
    tu_rmtree(cache);
    free(empty_cache);
    free(cache);
    done(&r);
}

/*
 * Simulates with ASK revoked by the directory's crl.der (r->dir) and writes r->dir/b2.json, the
 * simulator's bundle with a CRL that lists nobody, signed by the same ARK, in place of that one.
 * Returns the bundle's path.
 */
static char *bundle_with_clean_crl(struct run *r)
{
    struct cvma_sim_snp_opts o;
    struct cvma_buf clean, report;
    cvma_sim_snp_opts_default(&o);
    o.revoke_ask = true;
    o.keep_keys = true;
    sim_write(&o, r);
    clean_crl(r->dir, &clean);
    char *bp = tu_path(r->dir, "bundle.json"), *b2 = tu_path(r->dir, "b2.json"),
         *rp = tu_path(r->dir, "report.bin");
    tu_read(rp, &report);
    assert_int_equal(cvma_bundle_write(bp, "sev-snp", report.p, report.len, r->dir), CVMA_OK);
    json_error_t jerr;
    json_t *j = json_load_file(bp, 0, &jerr), *pt;
    size_t i;
    char *b64 = cvma_base64_encode(clean.p, clean.len, CVMA_B64_STD);
    assert_non_null(j);
    assert_non_null(b64);
    json_array_foreach(json_object_get(j, "parts"), i, pt)
    {
        const char *name = json_string_value(json_object_get(pt, "name"));
        if (name != NULL && strcmp(name, "crl.der") == 0) {
            assert_int_equal(json_object_set_new(pt, "data", json_string(b64)), 0);
        }
    }
    assert_int_equal(json_dump_file(j, b2, 0), 0);
    json_decref(j);
    free(b64);
    cvma_buf_free(&report);
    cvma_buf_free(&clean);
    free(rp);
    free(bp);
    return b2;
}

/*
 * A crl.der the verifier's caller read from its own directory into the evidence object
 * (cvma_evidence_add_collateral_dir) is kept beside the bundle's, and is the one checked:
 * here the bundle's lists nobody, the directory's the ASK.
 */
static void test_own_directory_crl_beside_the_bundles(void **state)
{
    (void)state;
    struct run r;
    char err[256];
    char *b2 = bundle_with_clean_crl(&r);
    struct cvma_evidence *ev = NULL;
    assert_int_equal(cvma_evidence_from_file(b2, CVMA_INFORM_AUTO, &ev, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, r.dir, err, sizeof err), CVMA_OK);

    struct cvma_buf root;
    char *ap = tu_path(r.dir, "ark.pem"), *cache = tu_tmpdir();
    tu_read(ap, &root);
    X509 *roots[1] = {cvma_x509_load(root.p, root.len)};
    struct cvma_verify_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.offline = true;
    vo.cache_dir = cache;
    vo.trust_roots = roots;
    vo.n_trust_roots = 1;
    vo.collateral_parts = ev->coll;
    vo.n_collateral_parts = ev->n_coll;
    struct cvma_span e = cvma_evidence_bytes(ev);
    cvma_result_init(&r.res, "sev-snp", vo.at);
    cvma_snp_verify(e.p, e.len, &vo, NULL, &r.res);
    cvma_result_finish(&r.res);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_CERT_REVOKED));

    cvma_evidence_free(ev);
    X509_free(roots[0]);
    cvma_buf_free(&root);
    tu_rmtree(cache);
    free(cache);
    free(ap);
    free(b2);
    done(&r);
}

/* One verification of ev through the library, its status and whether ASK was revoked. */
static enum cvma_result_status verify_api(struct cvma_verifier *v, struct cvma_evidence *ev,
                                          bool *revoked)
{
    struct cvma_result *res = tu_verify_ev(v, ev);
    enum cvma_result_status st = cvma_result_status(res);
    *revoked = cvma_result_has_reason(res, "CERT_REVOKED");
    cvma_result_free(res);
    return st;
}

/*
 * The directory read into an evidence object after it was verified once: the collateral that
 * verification prepared from the bundle alone (the bundle's CRL) is dropped, and the next
 * verification checks the directory's CRL. A second call adds nothing it already added.
 */
static void test_own_directory_added_after_a_verification(void **state)
{
    (void)state;
    struct run r;
    char err[256];
    bool revoked = true;
    char *b2 = bundle_with_clean_crl(&r), *ap = tu_path(r.dir, "ark.pem");
    struct cvma_verifier *v = tu_verifier(ap, NULL, NULL, false);
    struct cvma_evidence *ev = NULL;
    assert_int_equal(cvma_evidence_from_file(b2, CVMA_INFORM_AUTO, &ev, err, sizeof err), CVMA_OK);
    /* the bundle alone: its CRL (another root, nothing of the verifier's own) */
    assert_int_equal(verify_api(v, ev, &revoked), CVMA_AFFIRMING);
    assert_false(revoked);
    assert_non_null(ev->memo->prepared);

    assert_int_equal(cvma_evidence_add_collateral_dir(ev, r.dir, err, sizeof err), CVMA_OK);
    size_t n_parts = ev->n_parts;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(verify_api(v, ev, &revoked), CVMA_CONTRAINDICATED);
        assert_true(revoked);
    }
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, r.dir, err, sizeof err), CVMA_OK);
    assert_int_equal(ev->n_parts, n_parts);
    assert_int_equal(verify_api(v, ev, &revoked), CVMA_CONTRAINDICATED);
    assert_true(revoked);

    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    free(ap);
    free(b2);
    done(&r);
}

static void test_expired_and_future_vcek_are_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    cvma_sim_snp_opts_default(&o);
    o.cert_not_before_offset_days = -30;
    o.cert_validity_days = 10;
    expect_error(&o, CVMA_R_CERT_EXPIRED);
    o.cert_not_before_offset_days = 5;
    expect_error(&o, CVMA_R_CERT_NOT_YET_VALID);
}

static void test_stale_crl_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    /* The simulated CRL's nextUpdate is 30 days out; the certificates last 10 years. */
    sim_verify(&o, true, time(NULL) + 90 * 86400, &r);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CRL_EXPIRED);
    done(&r);
}

/* A CRL without nextUpdate would never go stale: refused (RFC 5280 wants one), where it used
 * to be taken as valid forever. */
static void test_crl_without_next_update_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    cvma_sim_snp_opts_default(&o);
    o.tamper.crl_no_next_update = true;
    expect_error(&o, CVMA_R_CRL_INVALID);
}

static void test_crl_from_another_root_is_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    char err[256];
    struct run r;
    cvma_sim_snp_opts_default(&o);
    char *other = tu_tmpdir();
    assert_int_equal(cvma_sim_snp_write(&o, other, err, sizeof err), CVMA_OK);
    sim_verify(&o, true, 0, &r);
    done(&r);
    /* Same run again, but with the other hierarchy's CRL. */
    sim_write(&o, &r);
    char *from = tu_path(other, "crl.der"), *to = tu_path(r.dir, "crl.der");
    tu_copy(from, to);
    verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CRL_INVALID);
    done(&r);
    tu_rmtree(other);
    free(other);
    free(from);
    free(to);
}

/* A CRL the ARK signed whose thisUpdate is in a form RFC 5280 allows but OpenSSL's own CRL
 * check cannot read (a UTCTime with an offset, fractional seconds): CRL_INVALID, as for TDX
 * (one cvma_crl_check), where the SEV-SNP check used to take it. So is one with a critical
 * extension nothing processes, or a delta CRL (RFC 5280 5.2); a non-critical unknown one is
 * taken. */
static void test_crl_with_unreadable_this_update_is_refused(void **state)
{
    (void)state;
    static const struct {
        int type;
        const char *when;
        const char *ext; /* an extension's OID, or NULL */
        bool critical;
        const char *want; /* the CRL_INVALID detail, or NULL: taken */
    } odd[] = {{V_ASN1_UTCTIME, "250101000000+0100", NULL, false, "AMD CRL: unreadable thisUpdate"},
               {V_ASN1_GENERALIZEDTIME, "20250101000000.5Z", NULL, false,
                "AMD CRL: unreadable thisUpdate"},
               /* RFC 5280 5.2: a critical extension not processed, a delta CRL */
               {0, NULL, "1.2.3.4.5", true,
                "a critical extension this check does not process (1.2.3.4.5)"},
               {0, NULL, "2.5.29.28", true,
                "a critical extension this check does not process (2.5.29.28)"},
               {0, NULL, "2.5.29.27", false, "a delta CRL (deltaCRLIndicator)"},
               {0, NULL, "1.2.3.4.5", false, NULL}};
    struct cvma_sim_snp_opts o;
    struct run r;

    cvma_sim_snp_opts_default(&o);
    o.keep_keys = true;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(odd); i++) {
        sim_write(&o, &r);
        char *cp = tu_path(r.dir, "crl.der");
        X509_CRL *crl = X509_CRL_new();
        ASN1_TIME *t = odd[i].when != NULL ? ASN1_STRING_type_new(odd[i].type) : ASN1_TIME_new(),
                  *next = ASN1_TIME_new();
        struct cvma_buf der;
        assert_non_null(crl);
        if (odd[i].when != NULL) {
            assert_int_equal(ASN1_STRING_set(t, odd[i].when, -1), 1);
        } else {
            assert_non_null(X509_gmtime_adj(t, -86400));
        }
        assert_non_null(X509_gmtime_adj(next, 30L * 86400));
        if (odd[i].ext != NULL) {
            /* an INTEGER 0 as the value: the check goes by OID and criticality alone */
            static const unsigned char zero[] = {0x02, 0x01, 0x00};
            ASN1_OBJECT *obj = OBJ_txt2obj(odd[i].ext, 1);
            ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
            assert_non_null(obj);
            assert_non_null(val);
            assert_int_equal(ASN1_OCTET_STRING_set(val, zero, sizeof zero), 1);
            X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, odd[i].critical, val);
            assert_non_null(ext);
            assert_int_equal(X509_CRL_add_ext(crl, ext, -1), 1);
            X509_EXTENSION_free(ext);
            ASN1_OCTET_STRING_free(val);
            ASN1_OBJECT_free(obj);
        }
        assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
        assert_int_equal(X509_CRL_set1_nextUpdate(crl, next), 1);
        ark_signed_crl(r.dir, crl, &der);
        tu_write(cp, der.p, der.len);
        verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
        if (odd[i].want == NULL) {
            assert_int_equal(r.res.status, CVMA_AFFIRMING); /* not critical: taken */
        } else {
            assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CRL_INVALID);
            expect_detail(&r.res.verdict, CVMA_R_CRL_INVALID, odd[i].want);
        }
        cvma_buf_free(&der);
        ASN1_TIME_free(t);
        ASN1_TIME_free(next);
        X509_CRL_free(crl);
        free(cp);
        done(&r);
    }
}

static void test_vcek_tcb_differs_from_reported_tcb(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.tcb_bl = 4;
    o.tamper.leaf_bl_spl = 3 + 1; /* blSPL 3 */
    sim_verify(&o, true, 0, &r);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_SNP_TCB_MISMATCH);
    /* The detail names the field, the expected and the actual value. */
    assert_non_null(
            strstr(r.res.verdict.reasons[0].detail, "VCEK blSPL=3 but REPORTED_TCB.bootloader=4"));
    done(&r);
}

/*
 * Every SPL extension of the leaf is compared with its byte of REPORTED_TCB, not only blSPL:
 * the report's REPORTED_TCB is lowered in one component at a time (the leaf keeps the SPLs of
 * the untampered TCB; lowered, so that no REPORTED_TCB > CURRENT_TCB check catches it first),
 * in each product's layout, and the reserved bytes (spl_4..7 on
 * Milan/Genoa, spl_5..7 on Turin) are compared too.
 */
static void test_each_spl_is_bound_to_reported_tcb(void **state)
{
    (void)state;
    static const struct {
        enum cvma_snp_product product;
        int byte;        /* of REPORTED_TCB */
        uint8_t xor_val; /* applied to that byte */
        const char *detail;
    } cases[] = {
            /* Milan: BL, TEE, -, -, -, -, SNP, UCODE (bl 3, tee 2, snp 8, ucode 115) */
            {CVMA_SNP_PRODUCT_MILAN, 1, 0x02, "VCEK teeSPL=2 but REPORTED_TCB.tee=0"},
            {CVMA_SNP_PRODUCT_MILAN, 6, 0x0c, "VCEK snpSPL=8 but REPORTED_TCB.snp=4"},
            {CVMA_SNP_PRODUCT_MILAN, 7, 0x03, "VCEK ucodeSPL=115 but REPORTED_TCB.microcode=112"},
            {CVMA_SNP_PRODUCT_MILAN, 2, 0x01, "VCEK spl_4=0 but REPORTED_TCB.byte2=1"},
            {CVMA_SNP_PRODUCT_MILAN, 5, 0x01, "VCEK spl_7=0 but REPORTED_TCB.byte5=1"},
            /* Turin: FMC, BL, TEE, SNP, -, -, -, UCODE (fmc 1) */
            {CVMA_SNP_PRODUCT_TURIN, 0, 0x01, "VCEK fmcSPL=1 but REPORTED_TCB.fmc=0"},
            {CVMA_SNP_PRODUCT_TURIN, 2, 0x02, "VCEK teeSPL=2 but REPORTED_TCB.tee=0"},
            {CVMA_SNP_PRODUCT_TURIN, 3, 0x0c, "VCEK snpSPL=8 but REPORTED_TCB.snp=4"},
            {CVMA_SNP_PRODUCT_TURIN, 7, 0x03, "VCEK ucodeSPL=115 but REPORTED_TCB.microcode=112"},
            {CVMA_SNP_PRODUCT_TURIN, 4, 0x01, "VCEK spl_5=0 but REPORTED_TCB.byte4=1"},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_sim_snp_opts o;
        struct run r;
        cvma_sim_snp_opts_default(&o);
        o.product = cases[i].product;
        o.tcb_tee = 2;
        o.tamper.reported_tcb_xor = (uint64_t)cases[i].xor_val << (8 * cases[i].byte);
        sim_verify(&o, true, 0, &r);
        if (r.res.status != CVMA_CONTRAINDICATED ||
            tu_severity_of(&r.res.verdict, CVMA_R_SNP_TCB_MISMATCH) != CVMA_SEV_ERROR) {
            fail_msg("case %zu: wanted SNP_TCB_MISMATCH, got status %s, first error %s", i,
                     cvma_result_status_name(r.res.status),
                     cvma_reason_name(cvma_verdict_first_error(&r.res.verdict)));
        }
        expect_detail(&r.res.verdict, CVMA_R_SNP_TCB_MISMATCH, cases[i].detail);
        done(&r);
    }
    /* A leaf without a reserved SPL stands for 0 in that byte: a report with another value
     * there is refused, as with the extension present and 0; with the byte 0 it is taken. */
    for (int k = 0; k < 2; k++) {
        struct cvma_sim_snp_opts o;
        struct run r;
        cvma_sim_snp_opts_default(&o);
        o.tamper.leaf_omit_ext = "3.4";
        o.tamper.reported_tcb_xor = k == 0 ? 0 : (uint64_t)0x05 << 16;
        sim_verify(&o, true, 0, &r);
        if (k == 0) {
            assert_int_equal(r.res.status, CVMA_AFFIRMING);
        } else {
            assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
            expect_detail(&r.res.verdict, CVMA_R_SNP_TCB_MISMATCH,
                          "VCEK has no spl_4 extension (1.3.6.1.4.1.3704.1.3.4), which stands "
                          "for 0, but REPORTED_TCB.byte2=5");
        }
        done(&r);
    }
}

static void test_vcek_of_another_chip(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    cvma_sim_snp_opts_default(&o);
    o.tamper.has_leaf_hwid = true;
    memset(o.tamper.leaf_hwid, 0x42, sizeof o.tamper.leaf_hwid);
    expect_error(&o, CVMA_R_SNP_CHIP_ID_MISMATCH);
    o.product = CVMA_SNP_PRODUCT_TURIN; /* Turin: 8-byte hwID */
    expect_error(&o, CVMA_R_SNP_CHIP_ID_MISMATCH);
}

/* Verifies o and expects a contraindicated result holding code with detail in its text. */
static void expect_error_detail(const struct cvma_sim_snp_opts *o, enum cvma_reason code,
                                const char *detail)
{
    struct run r;
    sim_verify(o, true, 0, &r);
    if (r.res.status != CVMA_CONTRAINDICATED) {
        fail_msg("wanted %s, got status %s, first error %s", cvma_reason_name(code),
                 cvma_result_status_name(r.res.status),
                 cvma_reason_name(cvma_verdict_first_error(&r.res.verdict)));
    }
    expect_detail(&r.res.verdict, code, detail);
    done(&r);
}

/*
 * hwID has the product's length: 64 bytes on Milan and Genoa, 8 on Turin. A Turin VCEK with a
 * 64-byte hwID (its 8 ID bytes, then zeros: byte for byte the report's CHIP_ID), or a Milan or
 * Genoa VCEK with an 8-byte one (for a chip whose CHIP_ID bytes 8..63 are zero), is no VCEK of
 * that product.
 */
static void test_hwid_of_another_products_length_is_refused(void **state)
{
    (void)state;
    static const struct {
        enum cvma_snp_product product;
        size_t hwid_len;
        const char *detail;
    } cases[] = {{CVMA_SNP_PRODUCT_TURIN, 64, "(64 bytes) but CHIP_ID=5c5c5c5c5c5c5c5c..."},
                 {CVMA_SNP_PRODUCT_MILAN, 8, "VCEK hwID=5c5c5c5c5c5c5c5c (8 bytes)"},
                 {CVMA_SNP_PRODUCT_GENOA, 8, "VCEK hwID=5c5c5c5c5c5c5c5c (8 bytes)"}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_sim_snp_opts o;
        cvma_sim_snp_opts_default(&o);
        o.product = cases[i].product;
        o.has_chip_id = true;
        memset(o.chip_id, 0x5c, 8); /* bytes 8..63 zero */
        o.tamper.leaf_hwid_len = cases[i].hwid_len;
        expect_error_detail(&o, CVMA_R_SNP_CHIP_ID_MISMATCH, cases[i].detail);
    }
}

/*
 * A Turin CHIP_ID has 8 ID bytes and zeros after them. A report whose first 8 bytes are the
 * VCEK's hwID but which has a non-zero byte after them names no chip that VCEK is for.
 */
static void test_turin_chip_id_with_bytes_after_the_eighth_is_refused(void **state)
{
    (void)state;
    static const size_t where[] = {8, 63};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(where); i++) {
        struct cvma_sim_snp_opts o;
        cvma_sim_snp_opts_default(&o);
        o.product = CVMA_SNP_PRODUCT_TURIN;
        o.has_chip_id = true;
        memset(o.chip_id, 0x5c, 8);
        o.tamper.has_report_chip_id = true;
        memcpy(o.tamper.report_chip_id, o.chip_id, sizeof o.chip_id);
        o.tamper.report_chip_id[where[i]] = 0x01;
        expect_error_detail(&o, CVMA_R_SNP_CHIP_ID_MISMATCH,
                            "CHIP_ID bytes 8..63 are not zero: a Turin CHIP_ID is the 8 bytes "
                            "of the VCEK's hwID followed by 56 zero bytes");
    }
}

/*
 * The AMD extensions a leaf of its kind and product must or must not have: fmcSPL only on
 * Turin (a Milan or Genoa VCEK or VLEK with one is not of the product the report and root
 * name), hwID on every VCEK, csp_id on every VLEK, and no csp_id on a VCEK.
 */
static void test_leaf_extensions_of_another_kind_or_product_are_refused(void **state)
{
    (void)state;
    static const struct {
        enum cvma_snp_product product;
        bool vlek;
        const char *extra, *omit; /* tamper.leaf_extra_ext, tamper.leaf_omit_ext */
        enum cvma_reason code;
        const char *detail;
    } cases[] = {
            {CVMA_SNP_PRODUCT_MILAN, false, "3.9", NULL, CVMA_R_SNP_PRODUCT_MISMATCH,
             "VCEK has fmcSPL, which only Turin and later have, but the product is Milan"},
            {CVMA_SNP_PRODUCT_GENOA, false, "3.9", NULL, CVMA_R_SNP_PRODUCT_MISMATCH,
             "VCEK has fmcSPL, which only Turin and later have, but the product is Genoa"},
            {CVMA_SNP_PRODUCT_MILAN, true, "3.9", NULL, CVMA_R_SNP_PRODUCT_MISMATCH,
             "VLEK has fmcSPL, which only Turin and later have, but the product is Milan"},
            {CVMA_SNP_PRODUCT_MILAN, false, NULL, "4", CVMA_R_CERT_EXTENSION_INVALID,
             "VCEK has no hwID extension"},
            {CVMA_SNP_PRODUCT_TURIN, false, NULL, "4", CVMA_R_CERT_EXTENSION_INVALID,
             "VCEK has no hwID extension"},
            {CVMA_SNP_PRODUCT_MILAN, true, NULL, "5", CVMA_R_CERT_EXTENSION_INVALID,
             "VLEK has no csp_id extension"},
            {CVMA_SNP_PRODUCT_MILAN, false, "5", NULL, CVMA_R_SNP_KEY_TYPE_MISMATCH,
             "signed with a VCEK but the certificate carries a VLEK csp_id (CN=other)"},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_sim_snp_opts o;
        cvma_sim_snp_opts_default(&o);
        o.product = cases[i].product;
        o.vlek = cases[i].vlek;
        o.tamper.leaf_extra_ext = cases[i].extra;
        o.tamper.leaf_omit_ext = cases[i].omit;
        expect_error_detail(&o, cases[i].code, cases[i].detail);
    }
}

static void test_masked_chip_id_is_a_warning(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.mask_chip_id = true;
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_WARNING);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_CHIP_ID_MASKED));
    json_t *pl = cvma_platform_to_json(&r.res.platform);
    assert_true(json_is_null(json_object_get(pl, "id")));
    json_decref(pl);
    done(&r);
}

/* Secure default: a debug guest (policy bit 19) is refused; the host can read its memory. */
static void test_debug_guest_is_refused_by_default_and_claimed(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.debug = true;
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_result_exit_code(&r.res), 1);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_SNP_DEBUG_ALLOWED);
    expect_detail(&r.res.verdict, CVMA_R_SNP_DEBUG_ALLOWED, "bit 19 (DEBUG) set");
    json_t *claims = cvma_result_claims_json(&r.res);
    assert_true(json_is_true(json_object_get(claims, "debug")));
    json_decref(claims);
    done(&r);
    /* A policy without snp.allow_debug true changes nothing. */
    sim_verify_ex(&o, true, 0, 0, "{\"snp\": {\"vmpl\": 0}}", &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(tu_severity_of(&r.res.verdict, CVMA_R_SNP_DEBUG_ALLOWED), CVMA_SEV_ERROR);
    done(&r);
}

/* A report the host requested (VMPL 0xFFFFFFFF) carries the host's REPORT_DATA: refused, even
 * with a REPORT_DATA that matches; and a VMPL of 4..0xFFFFFFFE is no guest's. */
static void test_host_requested_report_and_bad_vmpl_are_refused(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.vmpl = CVMA_SIM_SNP_VMPL_HOST;
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_SNP_HOST_REQUESTED_REPORT);
    expect_detail(&r.res.verdict, CVMA_R_SNP_HOST_REQUESTED_REPORT, "the host requested");
    assert_true(r.res.claims.verified); /* genuine firmware output: its claims are shown */
    done(&r);
    cvma_sim_snp_opts_default(&o);
    o.tamper.vmpl = 4;
    expect_error(&o, CVMA_R_SNP_VMPL_INVALID);
    o.tamper.vmpl = 0xFFFFFFFEu;
    expect_error(&o, CVMA_R_SNP_VMPL_INVALID);
}

/* A VLEK cspID longer than a platform identifier holds (253) gives no identifier: cut short,
 * it would be another's (a registry entry for its first 253 characters would bind it). */
static void test_vlek_csp_id_too_long_gives_no_platform_id(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    char csp[256];
    memset(csp, 'a', 254);
    csp[254] = '\0';
    cvma_sim_snp_opts_default(&o);
    o.vlek = true;
    o.tamper.leaf_csp_id = csp;
    sim_verify(&o, true, 0, &r);
    assert_true(r.res.platform.present);
    assert_false(r.res.platform.has_id);
    done(&r);
    csp[253] = '\0'; /* 253: the longest kept, whole */
    sim_verify(&o, true, 0, &r);
    assert_true(r.res.platform.has_id);
    assert_int_equal(r.res.platform.id_len, 253);
    done(&r);
}

/* snp.allow_debug true: the same guest is accepted with the same reason as a warning. */
static void test_debug_guest_allowed_by_policy_is_a_warning(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.debug = true;
    sim_verify_ex(&o, true, 0, 0, "{\"snp\": {\"allow_debug\": true}}", &r);
    assert_int_equal(r.res.status, CVMA_WARNING);
    assert_int_equal(cvma_result_exit_code(&r.res), 0);
    assert_int_equal(tu_severity_of(&r.res.verdict, CVMA_R_SNP_DEBUG_ALLOWED), CVMA_SEV_WARNING);
    expect_detail(&r.res.verdict, CVMA_R_SNP_DEBUG_ALLOWED,
                  "(accepted by policy: snp.allow_debug is true)");
    done(&r);
    /* A production guest under the same policy: affirming, no debug reason. */
    o.debug = false;
    sim_verify_ex(&o, true, 0, 0, "{\"snp\": {\"allow_debug\": true}}", &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_DEBUG_ALLOWED));
    done(&r);
}

static void test_tcb_relations(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    /* CURRENT microcode below REPORTED: refused. */
    o.tamper.current_tcb_xor = (uint64_t)(115 ^ 100) << 56;
    expect_error(&o, CVMA_R_SNP_REPORTED_TCB_ABOVE_CURRENT);
    /* COMMITTED below CURRENT: a note only. */
    o.tamper.current_tcb_xor = 0;
    o.tamper.committed_tcb_xor = (uint64_t)(115 ^ 110) << 56;
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_COMMITTED_TCB_BELOW_CURRENT));
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_COMMITTED_TCB_ABOVE_CURRENT));
    done(&r);
}

/*
 * COMMITTED_TCB above CURRENT_TCB in any component is refused (go-sev-guest validateTcb),
 * compared in the product's layout: Milan/Genoa BL,TEE,-,-,-,-,SNP,UCODE; Turin
 * FMC,BL,TEE,SNP,-,-,-,UCODE. Defaults: bl 3, tee 0, snp 8, ucode 115, Turin fmc 1.
 */
static void test_committed_tcb_above_current_is_refused(void **state)
{
    (void)state;
    static const struct {
        enum cvma_snp_product product;
        unsigned byte;
        uint8_t from, to;
        const char *detail; /* NULL: a reserved byte of this layout, not compared */
    } cases[] = {
            {CVMA_SNP_PRODUCT_MILAN, 0, 3, 4,
             "COMMITTED_TCB.bootloader=4 is above CURRENT_TCB.bootloader=3"},
            {CVMA_SNP_PRODUCT_MILAN, 1, 0, 1, "COMMITTED_TCB.tee=1 is above CURRENT_TCB.tee=0"},
            {CVMA_SNP_PRODUCT_GENOA, 6, 8, 9, "COMMITTED_TCB.snp=9 is above CURRENT_TCB.snp=8"},
            {CVMA_SNP_PRODUCT_GENOA, 7, 115, 200,
             "COMMITTED_TCB.microcode=200 is above CURRENT_TCB.microcode=115"},
            {CVMA_SNP_PRODUCT_MILAN, 3, 0, 5, NULL},
            {CVMA_SNP_PRODUCT_TURIN, 0, 1, 2, "COMMITTED_TCB.fmc=2 is above CURRENT_TCB.fmc=1"},
            {CVMA_SNP_PRODUCT_TURIN, 1, 3, 7,
             "COMMITTED_TCB.bootloader=7 is above CURRENT_TCB.bootloader=3"},
            {CVMA_SNP_PRODUCT_TURIN, 3, 8, 9, "COMMITTED_TCB.snp=9 is above CURRENT_TCB.snp=8"},
            {CVMA_SNP_PRODUCT_TURIN, 7, 115, 116,
             "COMMITTED_TCB.microcode=116 is above CURRENT_TCB.microcode=115"},
            {CVMA_SNP_PRODUCT_TURIN, 6, 0, 1, NULL},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_sim_snp_opts o;
        struct run r;
        cvma_sim_snp_opts_default(&o);
        o.product = cases[i].product;
        o.tamper.committed_tcb_xor = (uint64_t)(cases[i].from ^ cases[i].to) << (8 * cases[i].byte);
        sim_verify(&o, true, 0, &r);
        if (cases[i].detail == NULL) {
            if (r.res.status != CVMA_AFFIRMING ||
                cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_COMMITTED_TCB_ABOVE_CURRENT)) {
                fail_msg("case %zu: a reserved TCB byte was compared", i);
            }
        } else {
            if (r.res.status != CVMA_CONTRAINDICATED ||
                cvma_verdict_first_error(&r.res.verdict) !=
                        CVMA_R_SNP_COMMITTED_TCB_ABOVE_CURRENT) {
                fail_msg("case %zu: status %s, first error %s", i,
                         cvma_result_status_name(r.res.status),
                         cvma_reason_name(cvma_verdict_first_error(&r.res.verdict)));
            }
            expect_detail(&r.res.verdict, CVMA_R_SNP_COMMITTED_TCB_ABOVE_CURRENT, cases[i].detail);
        }
        done(&r);
    }
}

/*
 * --product for a v2 report (no CPUID) whose VCEK names no product either: without it the
 * product is unknown and the message says to give --product; with it the report verifies in
 * that product's TCB layout. Where the report names its product, --product must agree.
 */
static void test_product_option_decides_a_v2_report(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.version = 2;
    o.product = CVMA_SNP_PRODUCT_TURIN;
    o.tamper.leaf_no_product_name = true;
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_SNP_PRODUCT_UNKNOWN);
    expect_detail(&r.res.verdict, CVMA_R_SNP_PRODUCT_UNKNOWN, "give --product milan|genoa|turin");
    done(&r);

    sim_verify_ex(&o, true, 0, CVMA_SNP_PRODUCT_TURIN, NULL, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    json_t *claims = cvma_result_claims_json(&r.res);
    assert_string_equal(
            json_string_value(json_object_get(json_object_get(claims, "snp"), "product")), "Turin");
    json_decref(claims);
    done(&r);

    /* The wrong product: the Milan TCB layout does not match the Turin VCEK. */
    sim_verify_ex(&o, true, 0, CVMA_SNP_PRODUCT_MILAN, NULL, &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_PRODUCT_MISMATCH));
    done(&r);

    /* A v2 report whose VCEK names Genoa, --product turin: they disagree. */
    cvma_sim_snp_opts_default(&o);
    o.version = 2;
    o.product = CVMA_SNP_PRODUCT_GENOA;
    sim_verify_ex(&o, true, 0, CVMA_SNP_PRODUCT_TURIN, NULL, &r);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_SNP_PRODUCT_MISMATCH);
    expect_detail(&r.res.verdict, CVMA_R_SNP_PRODUCT_MISMATCH,
                  "--product is Turin but the leaf productName is 'Genoa'");
    done(&r);

    /* v5 names Milan in its CPUID bytes; --product genoa contradicts it. */
    cvma_sim_snp_opts_default(&o);
    sim_verify_ex(&o, true, 0, CVMA_SNP_PRODUCT_GENOA, NULL, &r);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_SNP_PRODUCT_MISMATCH);
    expect_detail(&r.res.verdict, CVMA_R_SNP_PRODUCT_MISMATCH, "is Milan but --product is Genoa");
    done(&r);
    sim_verify_ex(&o, true, 0, CVMA_SNP_PRODUCT_MILAN, NULL, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    done(&r);
}

/* Online, a v2 report without --product cannot say which KDS to ask: undecided, saying so. */
static void test_v2_report_without_product_asks_for_it_before_fetching(void **state)
{
    (void)state;
    char err[256];
    struct cvma_sim_snp_opts o;
    struct cvma_buf rep;
    struct cvma_verify_opts vo;
    struct cvma_result res;
    char *d = tu_tmpdir(), *empty = tu_path(d, "empty"), *cache = tu_path(d, "cache");
    cvma_sim_snp_opts_default(&o);
    o.version = 2;
    assert_int_equal(cvma_sim_snp_write(&o, d, err, sizeof err), CVMA_OK);
    assert_int_equal(mkdir(empty, 0700), 0);
    char *rp = tu_path(d, "report.bin");
    tu_read(rp, &rep);
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.collateral_dir = empty;
    vo.cache_dir = cache;
    vo.kds_base_url = "http://127.0.0.1:9"; /* never reached without a product */
    cvma_result_init(&res, "sev-snp", vo.at);
    cvma_snp_verify(rep.p, rep.len, &vo, NULL, &res);
    cvma_result_finish(&res);
    assert_true(res.undecided);
    assert_int_equal(cvma_result_exit_code(&res), 3);
    expect_detail(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE,
                  "report v2 names no product (no CPUID bytes): give --product milan|genoa|turin");
    cvma_result_cleanup(&res);
    cvma_buf_free(&rep);
    tu_rmtree(d);
    free(rp);
    free(empty);
    free(cache);
    free(d);
}

/* Offline, without crl.der: CRL_NOT_CHECKED (a warning) either way, but a cached CRL past its
 * nextUpdate is named as such, not as a CRL nobody ever fetched. */
static void test_offline_expired_cached_crl_is_named_in_crl_not_checked(void **state)
{
    (void)state;
    char err[256];
    struct cvma_sim_snp_opts o;
    struct cvma_buf crl, rep, root;
    struct cvma_cache cache = {0};
    struct cvma_verify_opts vo;
    struct cvma_result res;
    X509 *roots[1];
    char *d = tu_tmpdir();
    char *crl_path = tu_path(d, "crl.der"), *rp = tu_path(d, "report.bin"),
         *ap = tu_path(d, "ark.pem");

    cvma_sim_snp_opts_default(&o);
    assert_int_equal(cvma_sim_snp_write(&o, d, err, sizeof err), CVMA_OK);
    tu_read(crl_path, &crl);
    assert_int_equal(unlink(crl_path), 0); /* the directory gives no CRL */
    assert_int_equal(cvma_cache_init(&cache, d), CVMA_OK);
    tu_read(rp, &rep);
    tu_read(ap, &root);
    roots[0] = cvma_x509_load(root.p, root.len);
    assert_non_null(roots[0]);
    memset(&vo, 0, sizeof vo);
    vo.collateral_dir = d;
    vo.offline = true;
    vo.cache_dir = d;
    vo.trust_roots = roots;
    vo.n_trust_roots = 1;
    for (int cached = 0; cached < 2; cached++) {
        if (cached) {
            /* The CRL in the cache as an entry that expired an hour ago. */
            assert_int_equal(cvma_cache_put(&cache,
                                            "amd-kds " CVMA_KDS_DEFAULT_BASE_URL
                                            "/vcek/v1/Milan/crl",
                                            crl.p, crl.len, (int64_t)time(NULL) - 3600),
                             CVMA_OK);
        }
        vo.at = time(NULL);
        cvma_result_init(&res, "sev-snp", vo.at);
        cvma_snp_verify(rep.p, rep.len, &vo, NULL, &res);
        cvma_result_finish(&res);
        assert_false(res.undecided);
        if (cached) {
            expect_detail(&res.verdict, CVMA_R_CRL_NOT_CHECKED,
                          "offline, no crl.der given, and the cached CRL expired at ");
            expect_detail(&res.verdict, CVMA_R_CRL_NOT_CHECKED,
                          "AMD KDS serves a current one at " CVMA_KDS_DEFAULT_BASE_URL
                          "/vcek/v1/Milan/crl");
        } else {
            expect_detail(&res.verdict, CVMA_R_CRL_NOT_CHECKED,
                          "offline, and no crl.der given or cached; AMD KDS serves it at");
        }
        cvma_result_cleanup(&res);
    }
    X509_free(roots[0]);
    cvma_buf_free(&rep);
    cvma_buf_free(&root);
    cvma_buf_free(&crl);
    cvma_cache_cleanup(&cache);
    tu_rmtree(d);
    free(rp);
    free(ap);
    free(crl_path);
    free(d);
}

/* A file in --collateral DIR that is there but over the size limit (or unreadable) is
 * refused naming it, never taken for missing (and so fetched, or here: the CRL skipped). */
static void test_oversized_collateral_file_is_invalid_not_missing(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    size_t n = (1u << 20) + 1;
    uint8_t *big = calloc(1, n);

    assert_non_null(big);
    cvma_sim_snp_opts_default(&o);
    sim_write(&o, &r);
    char *crl_path = tu_path(r.dir, "crl.der");
    tu_write(crl_path, big, n);
    verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_false(r.res.undecided);
    expect_detail(&r.res.verdict, CVMA_R_COLLATERAL_INVALID, "crl.der in ");
    expect_detail(&r.res.verdict, CVMA_R_COLLATERAL_INVALID, "never fetched instead");
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_CRL_NOT_CHECKED));
    done(&r);
    free(big);
    free(crl_path);
}

/* An empty file in --collateral DIR is refused naming it, never taken for missing (and so
 * fetched, or the CRL skipped with a warning): each of the leaf, the ASK and the CRL. */
static void test_empty_collateral_file_is_invalid_not_missing(void **state)
{
    (void)state;
    static const char *const names[] = {"crl.der", "vcek.der", "ask.pem"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        struct cvma_sim_snp_opts o;
        struct run r;
        char want[64];
        cvma_sim_snp_opts_default(&o);
        sim_write(&o, &r);
        char *path = tu_path(r.dir, names[i]);
        tu_write(path, (const uint8_t *)"", 0);
        verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
        assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
        assert_false(r.res.undecided);
        snprintf(want, sizeof want, "%s in ", names[i]);
        expect_detail(&r.res.verdict, CVMA_R_COLLATERAL_INVALID, want);
        expect_detail(&r.res.verdict, CVMA_R_COLLATERAL_INVALID, "is empty");
        assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_CRL_NOT_CHECKED));
        done(&r);
        free(path);
    }
}

static void test_product_disagreements(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    cvma_sim_snp_opts_default(&o);
    /* The report's CPUID says Genoa; the VCEK says Milan. */
    o.tamper.has_cpuid = true;
    o.tamper.cpuid[0] = 0x19;
    o.tamper.cpuid[1] = 0x11;
    o.tamper.cpuid[2] = 0x01;
    expect_error(&o, CVMA_R_SNP_PRODUCT_MISMATCH);
    /* A product line nobody knows. */
    cvma_sim_snp_opts_default(&o);
    o.tamper.leaf_product_name = "Venice-A0";
    expect_error(&o, CVMA_R_SNP_PRODUCT_UNKNOWN);
    /* v2 (no CPUID) and no productName: nothing says which TCB layout applies. */
    cvma_sim_snp_opts_default(&o);
    o.version = 2;
    o.tamper.leaf_no_product_name = true;
    expect_error(&o, CVMA_R_SNP_PRODUCT_UNKNOWN);
    /* A v5 report whose CPUID (family 0x19 model 0x30) is no known product: the VCEK's
     * product is used, and that is said (a warning), never taken silently. */
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.tamper.has_cpuid = true;
    o.tamper.cpuid[0] = 0x19;
    o.tamper.cpuid[1] = 0x30;
    o.tamper.cpuid[2] = 0x01;
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_WARNING);
    assert_int_equal(tu_severity_of(&r.res.verdict, CVMA_R_SNP_PRODUCT_UNKNOWN), CVMA_SEV_WARNING);
    expect_detail(&r.res.verdict, CVMA_R_SNP_PRODUCT_UNKNOWN,
                  "family 0x19 model 0x30 is no product known here");
    done(&r);
    /* The same with --product milan: a user's option chose the layout, which is said too
     * (it used to be taken silently, the result affirming). */
    sim_write(&o, &r);
    verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_MILAN, NULL);
    assert_int_equal(r.res.status, CVMA_WARNING);
    expect_detail(&r.res.verdict, CVMA_R_SNP_PRODUCT_UNKNOWN,
                  "family 0x19 model 0x30 is no product known here (Milan, Genoa, Turin); the "
                  "product is taken from --product");
    done(&r);
}

static void test_leaf_defects(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    cvma_sim_snp_opts_default(&o);
    o.tamper.leaf_bad_spl_encoding = true;
    expect_error(&o, CVMA_R_CERT_EXTENSION_INVALID);
    cvma_sim_snp_opts_default(&o);
    o.tamper.leaf_p256_key = true;
    expect_error(&o, CVMA_R_CERT_KEY_UNSUPPORTED);
    /* A leaf that says it is a CA (the chain itself verifies: a CA may be a chain's end) */
    cvma_sim_snp_opts_default(&o);
    o.tamper.leaf_ca = true;
    expect_error(&o, CVMA_R_CERT_CHAIN_INVALID);
    cvma_sim_snp_opts_default(&o);
    o.vlek = true;
    o.tamper.leaf_ca = true;
    expect_error(&o, CVMA_R_CERT_CHAIN_INVALID);
    /* CA:TRUE with keyUsage digitalSignature only: OpenSSL's X509_check_ca calls it no CA,
     * but it says it is one (cvma_x509_says_ca) */
    cvma_sim_snp_opts_default(&o);
    o.tamper.leaf_ca = true;
    o.tamper.leaf_ca_sign_only = true;
    expect_error_detail(&o, CVMA_R_CERT_CHAIN_INVALID,
                        "VCEK: a CA certificate (basicConstraints CA:TRUE or keyUsage "
                        "keyCertSign)");
}

/*
 * A VCEK or VLEK that carries one of the AMD extensions twice (the second with another value)
 * is refused as CERT_EXTENSION_INVALID: RFC 5280 4.2 allows one instance, and keeping either
 * value would be a guess. The chain itself verifies: OpenSSL 3.0's X509_verify_cert, as
 * called here (non-strict), does not refuse a duplicated extension it does not decode itself,
 * so no CERT_CHAIN_* reason comes before the extension parser's.
 */
static void test_leaf_with_an_amd_extension_twice_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *suffix;
        bool vlek;
    } cases[] = {{"1", false},   {"2", false},   {"3.1", false}, {"3.2", false},
                 {"3.3", false}, {"3.8", false}, {"4", false},   {"5", true}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cvma_sim_snp_opts o;
        struct run r;
        cvma_sim_snp_opts_default(&o);
        o.vlek = cases[i].vlek;
        o.tamper.leaf_dup_ext = cases[i].suffix;
        sim_verify(&o, true, 0, &r);
        if (r.res.status != CVMA_CONTRAINDICATED ||
            cvma_verdict_first_error(&r.res.verdict) != CVMA_R_CERT_EXTENSION_INVALID) {
            fail_msg(".1.%s twice: status %s, first error %s", cases[i].suffix,
                     cvma_result_status_name(r.res.status),
                     cvma_reason_name(cvma_verdict_first_error(&r.res.verdict)));
        }
        char want[64];
        snprintf(want, sizeof want, "1.3.6.1.4.1.3704.1.%s appears more than once",
                 cases[i].suffix);
        expect_detail(&r.res.verdict, CVMA_R_CERT_EXTENSION_INVALID, want);
        assert_null(tu_reason(&r.res.verdict, CVMA_R_CERT_CHAIN_INVALID));
        done(&r);
    }
}

/*
 * The parser alone: a leaf with the SNP SPL twice is refused and gives back nothing; the
 * same leaf with every extension once (different OIDs) is read whole.
 */
static void test_amd_cert_ext_parse_refuses_an_oid_twice_and_reads_distinct_ones(void **state)
{
    (void)state;
    static const struct cvma_amd_cert_ext zero;
    struct cvma_sim_snp_opts o;
    struct cvma_amd_cert_ext ext;
    struct cvma_verdict v;
    struct cvma_buf der;
    char err[256];
    for (int dup = 0; dup < 2; dup++) {
        char *d = tu_tmpdir();
        cvma_sim_snp_opts_default(&o);
        o.has_chip_id = true;
        memset(o.chip_id, 0x5c, sizeof o.chip_id);
        o.tamper.leaf_dup_ext = dup ? "3.3" : NULL;
        if (cvma_sim_snp_write(&o, d, err, sizeof err) != CVMA_OK) {
            fail_msg("sim: %s", err);
        }
        char *vp = tu_path(d, "vcek.der");
        tu_read(vp, &der);
        X509 *x = cvma_x509_load(der.p, der.len);
        assert_non_null(x);
        cvma_verdict_init(&v);
        memset(&ext, 0xa5, sizeof ext);
        enum cvma_status st = cvma_amd_cert_ext_parse(x, &ext, &v);
        if (dup) {
            assert_int_equal(st, CVMA_REJECTED);
            assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXTENSION_INVALID);
            expect_detail(&v, CVMA_R_CERT_EXTENSION_INVALID,
                          "extension 1.3.6.1.4.1.3704.1.3.3 appears more than once");
            assert_memory_equal(&ext, &zero, sizeof ext);
        } else {
            assert_int_equal(st, CVMA_OK);
            assert_int_equal(v.n_reasons, 0);
            assert_true(ext.has_struct_version && ext.has_product_name && ext.has_hwid);
            assert_string_equal(ext.product_name, "Milan-B0");
            for (int i = 1; i <= 8; i++) {
                assert_true(ext.has_spl[i]);
            }
            assert_int_equal(ext.spl[CVMA_AMD_SPL_BL], o.tcb_bl);
            assert_int_equal(ext.spl[CVMA_AMD_SPL_SNP], o.tcb_snp);
            assert_int_equal(ext.spl[CVMA_AMD_SPL_UCODE], o.tcb_ucode);
            assert_int_equal(ext.hwid_len, 64);
            assert_memory_equal(ext.hwid, o.chip_id, 64);
        }
        cvma_verdict_cleanup(&v);
        X509_free(x);
        cvma_buf_free(&der);
        free(vp);
        tu_rmtree(d);
        free(d);
    }
}

/*
 * An AMD extension marked critical: the chain verification refuses it (OpenSSL does not
 * handle the AMD OIDs, and the chain is verified without X509_V_FLAG_IGNORE_CRITICAL); the
 * extension parser, which runs only after the chain verified, does not look at the flag.
 */
static void test_leaf_with_a_critical_amd_extension_is_refused_by_the_chain(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.tamper.leaf_critical_ext = "3.3";
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_CERT_CHAIN_INVALID);
    expect_detail(&r.res.verdict, CVMA_R_CERT_CHAIN_INVALID, "unhandled critical extension");
    done(&r);
}

/* An AMD extension value with a byte after its DER value (or hwID of 65 bytes) is refused. */
static void test_amd_cert_ext_value_refuses_trailing_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *suffix;
        uint8_t v[70];
        size_t len;
    } cases[] = {
            {".1.1", {0x02, 0x01, 0x01, 0x00}, 4},
            {".1.3.3", {0x02, 0x01, 0x08, 0x00}, 4},
            {".1.2", {0x16, 0x02, 'M', 'i', 0x00}, 5},
            {".1.5", {0x16, 0x02, 'C', 'N', 0x00}, 5},
            {".1.4", {0}, 65},
            {".1.4", {0x04, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00}, 11},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cvma_amd_cert_ext ext;
        struct cvma_verdict v;
        memset(&ext, 0, sizeof ext);
        cvma_verdict_init(&v);
        /* Without the last byte the value is read. */
        assert_int_equal(
                cvma_amd_cert_ext_value(cases[i].suffix, cases[i].v, cases[i].len - 1, &ext, &v),
                CVMA_OK);
        assert_int_equal(
                cvma_amd_cert_ext_value(cases[i].suffix, cases[i].v, cases[i].len, &ext, &v),
                CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXTENSION_INVALID);
        cvma_verdict_cleanup(&v);
    }
}

static void test_signer_fields(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    cvma_sim_snp_opts_default(&o);
    o.tamper.signer_info_or = 7u << 2; /* SIGNING_KEY = 7: none */
    expect_error(&o, CVMA_R_SNP_REPORT_UNSIGNED);
    o.tamper.signer_info_or = 1u << 1; /* MASK_CHIP_KEY */
    expect_error(&o, CVMA_R_SNP_REPORT_UNSIGNED);
    o.tamper.signer_info_or = 3u << 2; /* reserved key */
    expect_error(&o, CVMA_R_SNP_SIGNING_KEY_UNKNOWN);
    o.tamper.signer_info_or = 0;
    o.tamper.signature_algo = 2;
    expect_error(&o, CVMA_R_SNP_SIGNATURE_ALGO_UNSUPPORTED);
}

/* A VCEK handed over as if it were the VLEK a report names, and the reverse. */
static void test_key_type_mismatch(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    o.tamper.signer_info_or = 1u << 2; /* report says VLEK, but it is signed by the VCEK */
    sim_write(&o, &r);
    char *a = tu_path(r.dir, "vcek.der"), *b = tu_path(r.dir, "vlek.der");
    char *c = tu_path(r.dir, "ask.pem"), *e = tu_path(r.dir, "asvk.pem");
    tu_copy(a, b);
    tu_copy(c, e);
    verify_dir(&r, true, 0, CVMA_SNP_PRODUCT_UNKNOWN, NULL);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_KEY_TYPE_MISMATCH));
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    /* The VCEK names no cspID, so the VLEK platform has no identifier: "id" is null, never
     * the empty string (docs/results.md), and claims.snp has no csp_id. */
    assert_true(r.res.platform.present);
    assert_int_equal(r.res.platform.id_type, CVMA_PLATFORM_VLEK);
    assert_false(r.res.platform.has_id);
    json_t *res_json = cvma_result_to_json(&r.res);
    json_t *pl = json_object_get(res_json, "platform");
    assert_true(json_is_null(json_object_get(pl, "id")));
    assert_string_equal(json_string_value(json_object_get(pl, "id_type")), "vlek");
    json_t *snp = json_object_get(json_object_get(res_json, "claims"), "snp");
    assert_true(json_is_object(snp));
    assert_null(json_object_get(snp, "csp_id"));
    json_decref(res_json);
    done(&r);
    free(a);
    free(b);
    free(c);
    free(e);
}

static void test_garbage_vcek_is_cert_parse(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    char err[256];
    cvma_sim_snp_opts_default(&o);
    char *d = tu_tmpdir();
    assert_int_equal(cvma_sim_snp_write(&o, d, err, sizeof err), CVMA_OK);
    char *vd = tu_path(d, "vcek.der");
    tu_write(vd, (const uint8_t *)"not a certificate", 17);
    struct cvma_buf rep;
    char *rp = tu_path(d, "report.bin");
    tu_read(rp, &rep);
    struct cvma_verify_opts vo;
    struct cvma_result res;
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.collateral_dir = d;
    vo.offline = true;
    cvma_result_init(&res, "sev-snp", vo.at);
    cvma_snp_verify(rep.p, rep.len, &vo, NULL, &res);
    cvma_result_finish(&res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_PARSE);
    cvma_result_cleanup(&res);
    cvma_buf_free(&rep);
    tu_rmtree(d);
    free(d);
    free(vd);
    free(rp);
}

static void test_report_data_expected(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    struct run r;
    cvma_sim_snp_opts_default(&o);
    memset(o.report_data, 0xcd, 32);
    sim_verify(&o, true, 0, &r);
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    done(&r);
    /* Verified with a different expected value: NONCE_REPORT_DATA_MISMATCH. */
    char err[256];
    char *d = tu_tmpdir();
    assert_int_equal(cvma_sim_snp_write(&o, d, err, sizeof err), CVMA_OK);
    struct cvma_buf rep, root;
    char *rp = tu_path(d, "report.bin"), *ap = tu_path(d, "ark.pem");
    tu_read(rp, &rep);
    tu_read(ap, &root);
    X509 *roots[1] = {cvma_x509_load(root.p, root.len)};
    struct cvma_verify_opts vo;
    struct cvma_result res;
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.collateral_dir = d;
    vo.offline = true;
    vo.trust_roots = roots;
    vo.n_trust_roots = 1;
    vo.has_report_data = true;
    memset(vo.report_data, 0xcd, 31);
    cvma_result_init(&res, "sev-snp", vo.at);
    cvma_snp_verify(rep.p, rep.len, &vo, NULL, &res);
    cvma_result_finish(&res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_NONCE_REPORT_DATA_MISMATCH);
    cvma_result_cleanup(&res);
    X509_free(roots[0]);
    cvma_buf_free(&rep);
    cvma_buf_free(&root);
    tu_rmtree(d);
    free(d);
    free(rp);
    free(ap);
}

/* A verdict whose required checks never ran can never be affirming. */
static void test_skipped_check_is_never_affirming(void **state)
{
    (void)state;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    v.checks_required = CVMA_CHECK_PARSE | CVMA_CHECK_SIGNATURE;
    cvma_verdict_pass(&v, CVMA_CHECK_PARSE);
    assert_int_equal(cvma_verdict_finish(&v), CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_INTERNAL_CHECK_SKIPPED);
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_verdict_finish(&v), CVMA_CONTRAINDICATED); /* nothing required */
    cvma_verdict_cleanup(&v);
}

/* The earliest end of the chain's and the CRL's windows in the simulator's directory d. */
static time_t window_end(const char *d)
{
    static const char *const pems[] = {"vcek.pem", "ask.pem", "ark.pem"};
    time_t end = (time_t)INT64_MAX, t;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(pems); i++) {
        struct cvma_buf b;
        char *p = tu_path(d, pems[i]);
        tu_read(p, &b);
        X509 *x = cvma_x509_load(b.p, b.len);
        assert_non_null(x);
        assert_true(cvma_asn1_time_to_time_t(X509_get0_notAfter(x), &t));
        end = t < end ? t : end;
        X509_free(x);
        cvma_buf_free(&b);
        free(p);
    }
    struct cvma_buf b;
    char *p = tu_path(d, "crl.der");
    tu_read(p, &b);
    const unsigned char *q = b.p;
    X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)b.len);
    assert_non_null(crl);
    assert_true(cvma_asn1_time_to_time_t(X509_CRL_get0_nextUpdate(crl), &t));
    end = t < end ? t : end;
    X509_CRL_free(crl);
    cvma_buf_free(&b);
    free(p);
    return end;
}

/* The chain cache is keyed by the bytes and re-checks the time on every use, judging a
 * window's end second as the full check does. */
static void test_chain_cache_rechecks_time(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    char err[256];
    cvma_sim_snp_opts_default(&o);
    o.cert_validity_days = 20;
    char *d = tu_tmpdir();
    assert_int_equal(cvma_sim_snp_write(&o, d, err, sizeof err), CVMA_OK);
    struct cvma_buf rep, root;
    char *rp = tu_path(d, "report.bin"), *ap = tu_path(d, "ark.pem");
    tu_read(rp, &rep);
    tu_read(ap, &root);
    X509 *roots[1] = {cvma_x509_load(root.p, root.len)};
    struct cvma_chain_cache *cache = cvma_chain_cache_new(2);
    struct cvma_verify_opts vo;
    struct cvma_result res;
    memset(&vo, 0, sizeof vo);
    vo.collateral_dir = d;
    vo.offline = true;
    vo.trust_roots = roots;
    vo.n_trust_roots = 1;
    vo.chain_cache = cache;
    time_t times[] = {time(NULL), time(NULL) + 60, time(NULL) + 25 * 86400};
    for (size_t i = 0; i < 3; i++) {
        vo.at = times[i];
        cvma_result_init(&res, "sev-snp", vo.at);
        cvma_snp_verify(rep.p, rep.len, &vo, NULL, &res);
        cvma_result_finish(&res);
        if (i < 2) {
            assert_int_equal(res.status, CVMA_AFFIRMING);
        } else {
            assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_EXPIRED);
        }
        cvma_result_cleanup(&res);
    }
    /* Found for the second and third runs; the third was outside the VCEK window, so it was
     * verified in full and refused with the reason. */
    assert_int_equal(cvma_chain_cache_hits(cache), 2);
    /* Without the root in force, the same bytes do not hit the cached success. */
    vo.n_trust_roots = 0;
    vo.at = time(NULL);
    cvma_result_init(&res, "sev-snp", vo.at);
    cvma_snp_verify(rep.p, rep.len, &vo, NULL, &res);
    cvma_result_finish(&res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_UNTRUSTED_ROOT);
    cvma_result_cleanup(&res);
    cvma_chain_cache_free(cache);

    /* OpenSSL takes a notAfter or nextUpdate second itself as past: a cached chain is judged
     * the same way, so a verification at that second is refused whether the chain was cached
     * or not (a cache hit used to accept it). */
    time_t end = window_end(d);
    vo.n_trust_roots = 1;
    for (int cached = 0; cached < 2; cached++) {
        cache = cvma_chain_cache_new(2);
        vo.chain_cache = cached ? cache : NULL;
        time_t ends[] = {end - 1, end};
        for (size_t i = 0; i < 2; i++) {
            vo.at = ends[i];
            cvma_result_init(&res, "sev-snp", vo.at);
            cvma_snp_verify(rep.p, rep.len, &vo, NULL, &res);
            cvma_result_finish(&res);
            enum cvma_reason r = cvma_verdict_first_error(&res.verdict);
            if (i == 0 ? res.status != CVMA_AFFIRMING
                       : r != CVMA_R_CERT_EXPIRED && r != CVMA_R_CRL_EXPIRED) {
                fail_msg("%s, %s the window's end second: %s", cached ? "cached" : "fresh",
                         i == 0 ? "before" : "at", cvma_reason_name(r));
            }
            cvma_result_cleanup(&res);
        }
        /* cached: the run at the end second found the chain, and judged its time */
        assert_int_equal(cvma_chain_cache_hits(cache), cached ? 1 : 0);
        cvma_chain_cache_free(cache);
    }
    X509_free(roots[0]);
    cvma_buf_free(&rep);
    cvma_buf_free(&root);
    tu_rmtree(d);
    free(d);
    free(rp);
    free(ap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_simulated_report_is_affirmed_with_test_root_named),
            cmocka_unit_test(test_unpinned_root_is_refused),
            cmocka_unit_test(test_chain_signed_outside_amds_scheme_is_refused),
            cmocka_unit_test(test_revoked_ask_is_refused),
            cmocka_unit_test(test_bundle_crl_never_replaces_the_verifiers_own),
            cmocka_unit_test(test_own_directory_crl_beside_the_bundles),
            cmocka_unit_test(test_own_directory_added_after_a_verification),
            cmocka_unit_test(test_expired_and_future_vcek_are_refused),
            cmocka_unit_test(test_stale_crl_is_refused),
            cmocka_unit_test(test_crl_from_another_root_is_refused),
            cmocka_unit_test(test_crl_with_unreadable_this_update_is_refused),
            cmocka_unit_test(test_crl_without_next_update_is_refused),
            cmocka_unit_test(test_vcek_tcb_differs_from_reported_tcb),
            cmocka_unit_test(test_vcek_of_another_chip),
            cmocka_unit_test(test_hwid_of_another_products_length_is_refused),
            cmocka_unit_test(test_turin_chip_id_with_bytes_after_the_eighth_is_refused),
            cmocka_unit_test(test_leaf_extensions_of_another_kind_or_product_are_refused),
            cmocka_unit_test(test_masked_chip_id_is_a_warning),
            cmocka_unit_test(test_debug_guest_is_refused_by_default_and_claimed),
            cmocka_unit_test(test_debug_guest_allowed_by_policy_is_a_warning),
            cmocka_unit_test(test_host_requested_report_and_bad_vmpl_are_refused),
            cmocka_unit_test(test_vlek_csp_id_too_long_gives_no_platform_id),
            cmocka_unit_test(test_each_spl_is_bound_to_reported_tcb),
            cmocka_unit_test(test_ark_with_a_broken_self_signature_is_refused),
            cmocka_unit_test(test_vcek_issued_by_the_ark_itself_is_refused),
            cmocka_unit_test(test_tcb_relations),
            cmocka_unit_test(test_committed_tcb_above_current_is_refused),
            cmocka_unit_test(test_product_option_decides_a_v2_report),
            cmocka_unit_test(test_v2_report_without_product_asks_for_it_before_fetching),
            cmocka_unit_test(test_offline_expired_cached_crl_is_named_in_crl_not_checked),
            cmocka_unit_test(test_oversized_collateral_file_is_invalid_not_missing),
            cmocka_unit_test(test_empty_collateral_file_is_invalid_not_missing),
            cmocka_unit_test(test_product_disagreements),
            cmocka_unit_test(test_leaf_defects),
            cmocka_unit_test(test_leaf_with_an_amd_extension_twice_is_refused),
            cmocka_unit_test(test_amd_cert_ext_parse_refuses_an_oid_twice_and_reads_distinct_ones),
            cmocka_unit_test(test_leaf_with_a_critical_amd_extension_is_refused_by_the_chain),
            cmocka_unit_test(test_amd_cert_ext_value_refuses_trailing_bytes),
            cmocka_unit_test(test_signer_fields),
            cmocka_unit_test(test_key_type_mismatch),
            cmocka_unit_test(test_garbage_vcek_is_cert_parse),
            cmocka_unit_test(test_report_data_expected),
            cmocka_unit_test(test_skipped_check_is_never_affirming),
            cmocka_unit_test(test_chain_cache_rechecks_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
