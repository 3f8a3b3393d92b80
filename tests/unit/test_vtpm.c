/*
 * Binding a vTPM to the hardware (src/vtpm) on simulated SEV-SNP reports: the Coconut SVSM
 * form (VMPL 0, REPORT_DATA = SHA-512(nonce || EK TPMT_PUBLIC)) and each of its refusals; the
 * weaker form (REPORT_DATA = SHA-512(nonce || AK)) named as weaker; the credential's two steps.
 * The activation round trip on a real TPM is tests/e2e/vtpm_credential.sh.
 */
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "appraise/policy.h"
#include "azure/azure.h"
#include "collateral/source.h"
#include "common/base64.h"
#include "common/hex.h"
#include "crypto/crypto.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"
#include "tdx/tdx_claims.h"
#include "testutil.h"
#include "tpm/tpm.h"
#include "tu_azure.h"
#include "tu_jwk.h"
#include "tu_tpm.h"
#include "vtpm/vtpm.h"

/* A TPMT_PUBLIC like the TCG EK template L-1 (random modulus), marshalled. */
static size_t make_ek(uint8_t *out, size_t cap, TPMA_OBJECT attrs, TPMT_PUBLIC *pub)
{
    size_t off = 0;
    memset(pub, 0, sizeof *pub);
    pub->type = TPM2_ALG_RSA;
    pub->nameAlg = TPM2_ALG_SHA256;
    pub->objectAttributes = attrs;
    pub->authPolicy.size = 32;
    pub->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    pub->parameters.rsaDetail.symmetric.keyBits.aes = 128;
    pub->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    pub->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    pub->parameters.rsaDetail.keyBits = 2048;
    pub->unique.rsa.size = 256;
    assert_int_equal(RAND_bytes(pub->unique.rsa.buffer, 256), 1);
    pub->unique.rsa.buffer[0] |= 0x80;
    pub->unique.rsa.buffer[255] |= 1;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(pub, out, cap, &off), TSS2_RC_SUCCESS);
    return off;
}

#define EK_ATTRS                                                                        \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | \
     TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

static void sha512_2(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, uint8_t out[64])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_non_null(c);
    assert_int_equal(EVP_DigestInit_ex(c, EVP_sha512(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(c, a, al), 1);
    assert_int_equal(EVP_DigestUpdate(c, b, bl), 1);
    assert_int_equal(EVP_DigestFinal_ex(c, out, NULL), 1);
    EVP_MD_CTX_free(c);
}

struct run {
    char *dir;
    struct cvma_buf rep;
    X509 *root;
    struct cvma_verify_opts vo;
    struct cvma_result res;
};

/* Simulates an SEV-SNP report with report_data at vmpl; options to verify it offline. */
static void sim_snp(struct run *r, const uint8_t report_data[64], uint32_t vmpl, bool debug)
{
    struct cvma_sim_snp_opts o;
    struct cvma_buf root;
    char err[256];
    cvma_sim_snp_opts_default(&o);
    memcpy(o.report_data, report_data, 64);
    o.has_measurement = true; /* a policy pins it (M96): the paravisor's or SVSM's launch */
    memset(o.measurement, 0x4d, sizeof o.measurement);
    o.vmpl = vmpl;
    o.debug = debug;
    r->dir = tu_tmpdir();
    if (cvma_sim_snp_write(&o, r->dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim: %s", err);
    }
    char *rp = tu_path(r->dir, "report.bin"), *ap = tu_path(r->dir, "ark.pem");
    tu_read(rp, &r->rep);
    tu_read(ap, &root);
    assert_non_null(r->root = cvma_x509_load(root.p, root.len));
    memset(&r->vo, 0, sizeof r->vo);
    r->vo.at = time(NULL);
    r->vo.collateral_dir = r->dir;
    r->vo.offline = true;
    r->vo.cache_dir = r->dir;
    r->vo.trust_roots = &r->root;
    r->vo.n_trust_roots = 1;
    cvma_result_init(&r->res, "sev-snp", r->vo.at);
    cvma_buf_free(&root);
    free(rp);
    free(ap);
}

static void sim(struct run *r, const uint8_t report_data[64], uint32_t vmpl)
{
    sim_snp(r, report_data, vmpl, false);
}

/* The bundle's five TPM parts (svsm_manifest, tpm_ak, tpm_quote, tpm_signature, tpm_pcrs)
 * and the nonce, as the verifier is given them. */
static void with_parts(struct run *r, const struct cvma_named_part parts[5], const uint8_t *nonce,
                       size_t nonce_len)
{
    r->vo.collateral_parts = parts;
    r->vo.n_collateral_parts = 5;
    r->vo.has_nonce = true;
    memcpy(r->vo.nonce, nonce, nonce_len);
    r->vo.nonce_len = nonce_len;
}

static void run_done(struct run *r)
{
    cvma_result_cleanup(&r->res);
    cvma_buf_free(&r->rep);
    X509_free(r->root);
    tu_rmtree(r->dir);
    free(r->dir);
}

static void test_vtpm_svsm_binding_verifies_and_yields_the_ek(void **state)
{
    uint8_t nonce[64], man[1024], rd[64];
    TPMT_PUBLIC ek, got;
    struct run r;
    (void)state;
    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    sha512_2(nonce, 64, man, ml, rd);
    sim(&r, rd, 0);
    memset(&got, 0, sizeof got);
    assert_true(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml, &r.vo, &r.res, &got));
    cvma_result_finish(&r.res);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    assert_memory_equal(got.unique.rsa.buffer, ek.unique.rsa.buffer, 256);
    run_done(&r);
}

static void test_vtpm_svsm_binding_refusals(void **state)
{
    uint8_t nonce[64], other[64], man[1024], rd[64];
    TPMT_PUBLIC ek;
    struct run r;
    (void)state;
    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    memcpy(other, nonce, 64);
    other[0] ^= 1;
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    sha512_2(nonce, 64, man, ml, rd);

    /* Not VMPL 0. */
    sim(&r, rd, 1);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml, &r.vo, &r.res, NULL));
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_SVSM_VMPL);
    run_done(&r);

    /* Another nonce. */
    sim(&r, rd, 0);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, other, man, ml, &r.vo, &r.res, NULL));
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_SVSM_MANIFEST_MISMATCH);
    run_done(&r);

    /* A manifest that is not one TPMT_PUBLIC (the report commits to it all the same). */
    man[ml] = 0;
    sha512_2(nonce, 64, man, ml + 1, rd);
    sim(&r, rd, 0);
    assert_false(
            cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml + 1, &r.vo, &r.res, NULL));
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_EK_MALFORMED);
    run_done(&r);

    /* A signing key is no EK. */
    ml = make_ek(man, sizeof man,
                 TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_RESTRICTED |
                         TPMA_OBJECT_SIGN_ENCRYPT,
                 &ek);
    sha512_2(nonce, 64, man, ml, rd);
    sim(&r, rd, 0);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml, &r.vo, &r.res, NULL));
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_EK_MALFORMED);
    run_done(&r);
}

static void test_vtpm_weak_binding_is_named_weaker(void **state)
{
    const uint8_t nonce[16] = "0123456789abcdef";
    const uint8_t ak[] = "an AK public area";
    uint8_t rd[64];
    struct run r;
    (void)state;
    sha512_2(nonce, sizeof nonce, ak, sizeof ak, rd);
    sim(&r, rd, 0);
    assert_true(cvma_vtpm_weak_verify(r.rep.p, r.rep.len, nonce, sizeof nonce, ak, sizeof ak, &r.vo,
                                      &r.res));
    cvma_result_finish(&r.res);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_BINDING_WEAK));
    assert_int_not_equal(r.res.status, CVMA_AFFIRMING);
    run_done(&r);

    /* Another AK. */
    sim(&r, rd, 0);
    assert_false(cvma_vtpm_weak_verify(r.rep.p, r.rep.len, nonce, sizeof nonce, ak, sizeof ak - 1,
                                       &r.vo, &r.res));
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_AK_BINDING_MISMATCH);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_BINDING_WEAK));
    run_done(&r);
}

/* A report that verified but is refused for what it says (here a debug guest, whose memory the
 * host can read) binds no AK: false, the report's reason kept, the binding not named weak. Both
 * the weak binding and the SVSM binding (no EK given back). */
static void test_vtpm_binding_of_a_refused_report_is_refused(void **state)
{
    const uint8_t nonce16[16] = "0123456789abcdef";
    const uint8_t ak[] = "an AK public area";
    uint8_t nonce[64], man[1024], rd[64];
    TPMT_PUBLIC ek, got;
    struct run r;
    (void)state;
    sha512_2(nonce16, sizeof nonce16, ak, sizeof ak, rd);
    sim_snp(&r, rd, 0, true);
    assert_false(cvma_vtpm_weak_verify(r.rep.p, r.rep.len, nonce16, sizeof nonce16, ak, sizeof ak,
                                       &r.vo, &r.res));
    cvma_result_finish(&r.res);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_SNP_DEBUG_ALLOWED);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_BINDING_WEAK));
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    run_done(&r);

    /* The same report naming another AK: both reasons. */
    sim_snp(&r, rd, 0, true);
    assert_false(cvma_vtpm_weak_verify(r.rep.p, r.rep.len, nonce16, sizeof nonce16, ak,
                                       sizeof ak - 1, &r.vo, &r.res));
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_DEBUG_ALLOWED));
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_BINDING_MISMATCH));
    run_done(&r);

    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    sha512_2(nonce, 64, man, ml, rd);
    sim_snp(&r, rd, 0, true);
    memset(&got, 0xa5, sizeof got);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml, &r.vo, &r.res, &got));
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_SNP_DEBUG_ALLOWED);
    for (size_t i = 0; i < sizeof got; i++) {
        assert_int_equal(((const uint8_t *)&got)[i], 0xa5);
    }
    run_done(&r);
}

/* The simulated report's VCEK removed: offline, its signature cannot be checked (undecided). */
static void drop_vcek(struct run *r)
{
    static const char *const names[] = {"vcek.der", "vcek.pem"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        char *vp = tu_path(r->dir, names[i]);
        assert_int_equal(unlink(vp), 0);
        free(vp);
    }
}

/* What a report's bytes say is checked whether or not its signature could be: a binding they
 * refuse is refused (exit 1), not undecided; one they do not refuse stays undecided (exit 3) and
 * gives back no EK. Without the VCEK, offline. */
static void test_vtpm_svsm_binding_refused_from_the_report_bytes_without_collateral(void **state)
{
    uint8_t nonce[64], other[64], man[1024], sman[1024], rd[64], srd[64];
    TPMT_PUBLIC ek, got;
    struct run r;
    (void)state;
    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    memcpy(other, nonce, 64);
    other[0] ^= 1;
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    sha512_2(nonce, 64, man, ml, rd);

    /* Everything right, but the signature cannot be checked: undecided, no EK. */
    sim(&r, rd, 0);
    drop_vcek(&r);
    memset(&got, 0xa5, sizeof got);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml, &r.vo, &r.res, &got));
    cvma_result_finish(&r.res);
    assert_int_equal(cvma_result_exit_code(&r.res), 3);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE));
    for (size_t i = 0; i < sizeof got; i++) {
        assert_int_equal(((const uint8_t *)&got)[i], 0xa5);
    }
    run_done(&r);

    /* Another nonce: REPORT_DATA names another manifest. */
    sim(&r, rd, 0);
    drop_vcek(&r);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, other, man, ml, &r.vo, &r.res, NULL));
    cvma_result_finish(&r.res);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_SVSM_MANIFEST_MISMATCH));
    assert_int_equal(cvma_result_exit_code(&r.res), 1);
    run_done(&r);

    /* Made at VMPL 2. */
    sim(&r, rd, 2);
    drop_vcek(&r);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml, &r.vo, &r.res, NULL));
    cvma_result_finish(&r.res);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_SVSM_VMPL));
    assert_int_equal(cvma_result_exit_code(&r.res), 1);
    run_done(&r);

    /* A manifest that is a signing key, which the report commits to. */
    size_t sml = make_ek(sman, sizeof sman,
                         TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_RESTRICTED |
                                 TPMA_OBJECT_SIGN_ENCRYPT,
                         &ek);
    sha512_2(nonce, 64, sman, sml, srd);
    sim(&r, srd, 0);
    drop_vcek(&r);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, sman, sml, &r.vo, &r.res, NULL));
    cvma_result_finish(&r.res);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_EK_MALFORMED));
    assert_int_equal(cvma_result_exit_code(&r.res), 1);
    run_done(&r);
}

/* The weaker binding likewise: REPORT_DATA of an SEV-SNP report or a TDX quote naming another
 * AK is refused whether or not the report's signature could be checked. */
static void test_vtpm_weak_binding_refused_from_the_report_bytes_without_collateral(void **state)
{
    const uint8_t nonce[16] = "0123456789abcdef";
    const uint8_t ak[] = "an AK public area";
    struct cvma_sim_tdx_opts to;
    struct cvma_verify_opts vo;
    struct cvma_result res;
    struct cvma_buf q;
    uint8_t rd[64];
    char err[256];
    struct run r;
    (void)state;
    sha512_2(nonce, sizeof nonce, ak, sizeof ak, rd);

    /* SEV-SNP, the right AK: undecided, not bound. */
    sim(&r, rd, 0);
    drop_vcek(&r);
    assert_false(cvma_vtpm_weak_verify(r.rep.p, r.rep.len, nonce, sizeof nonce, ak, sizeof ak,
                                       &r.vo, &r.res));
    cvma_result_finish(&r.res);
    assert_int_equal(cvma_result_exit_code(&r.res), 3);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_BINDING_WEAK));
    run_done(&r);

    /* SEV-SNP, another AK: refused. */
    sim(&r, rd, 0);
    drop_vcek(&r);
    assert_false(cvma_vtpm_weak_verify(r.rep.p, r.rep.len, nonce, sizeof nonce, ak, sizeof ak - 1,
                                       &r.vo, &r.res));
    cvma_result_finish(&r.res);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_BINDING_MISMATCH));
    assert_int_equal(cvma_result_exit_code(&r.res), 1);
    run_done(&r);

    /* A TDX quote with no collateral at all: the right AK undecided, another refused. Its
     * root is trusted: a PCK chain to no trusted root would be refused before the cache is
     * asked for its collateral (docs/tdx.md, step 2), the right AK then too. */
    char *dir = tu_tmpdir(), *empty = tu_tmpdir(), *qp = tu_path(dir, "quote.bin");
    char *rootp = tu_path(dir, "root_ca.pem");
    struct cvma_buf root_pem;
    X509 *root;
    cvma_sim_tdx_opts_default(&to);
    memcpy(to.report_data, rd, 64);
    if (cvma_sim_tdx_write(&to, dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim tdx: %s", err);
    }
    tu_read(qp, &q);
    tu_read(rootp, &root_pem);
    assert_non_null(root = cvma_x509_load(root_pem.p, root_pem.len));
    cvma_buf_free(&root_pem);
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.collateral_dir = empty;
    vo.cache_dir = empty;
    vo.offline = true;
    vo.trust_roots = &root;
    vo.n_trust_roots = 1;
    for (int other = 0; other <= 1; other++) {
        cvma_result_init(&res, "tdx", vo.at);
        assert_false(cvma_vtpm_weak_verify(q.p, q.len, nonce, sizeof nonce, ak,
                                           sizeof ak - (size_t)other, &vo, &res));
        cvma_result_finish(&res);
        assert_int_equal(cvma_result_exit_code(&res), other ? 1 : 3);
        assert_true(cvma_verdict_has(&res.verdict, CVMA_R_VTPM_AK_BINDING_MISMATCH) == other);
        assert_false(cvma_verdict_has(&res.verdict, CVMA_R_VTPM_AK_BINDING_WEAK));
        cvma_result_cleanup(&res);
    }
    cvma_buf_free(&q);
    X509_free(root);
    free(rootp);
    tu_rmtree(dir);
    tu_rmtree(empty);
    free(dir);
    free(empty);
    free(qp);
}

static void test_vtpm_credential_two_steps(void **state)
{
    uint8_t man[1024];
    TPMT_PUBLIC ek, ak;
    TPM2B_NAME name;
    struct cvma_tpm_credential c;
    uint8_t wrong[32];
    (void)state;
    make_ek(man, sizeof man, EK_ATTRS, &ek);
    make_ek(man, sizeof man, TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT, &ak);
    assert_true(cvma_tpm_public_name(&ak, &name));
    assert_int_equal(name.size, 34);
    assert_int_equal(cvma_tpm_make_credential(&ek, &name, &c), CVMA_OK);
    /* TPM2B_ID_OBJECT: size 68 = TPM2B_DIGEST HMAC (2 + 32) + encrypted TPM2B secret (34). */
    assert_int_equal(c.id_object.len, 70);
    assert_int_equal(c.id_object.p[1], 68);
    assert_int_equal(c.enc_secret.len, 2 + 256);
    assert_true(cvma_tpm_credential_check(&c, c.secret, sizeof c.secret));
    memcpy(wrong, c.secret, sizeof wrong);
    wrong[31] ^= 1;
    assert_false(cvma_tpm_credential_check(&c, wrong, sizeof wrong));
    assert_false(cvma_tpm_credential_check(&c, c.secret, 31));
    cvma_tpm_credential_cleanup(&c);
    /* Only the RSA template L-1: RSA-2048, keyBits 2048 = 8 x the modulus' 256 bytes, the
     * modulus without a leading zero byte. */
    TPMT_PUBLIC bad = ek;
    bad.parameters.rsaDetail.keyBits = 1024;
    bad.unique.rsa.size = 128;
    assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_E_USAGE);
    bad = ek;
    bad.unique.rsa.size = 128; /* keyBits 2048, a 1024-bit modulus */
    assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_E_USAGE);
    bad = ek;
    bad.parameters.rsaDetail.keyBits = 4096; /* a 2048-bit modulus */
    assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_E_USAGE);
    bad = ek;
    bad.unique.rsa.buffer[0] = 0; /* 256 bytes, but under 2048 bits */
    assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_E_USAGE);
    /* Only the template's exponent, 0 (the default, 65537) or 65537 spelled out: under 1 the
     * encrypted seed is the padded seed itself. */
    const UINT32 badexp[] = {1, 3, 17, 65536, 65539, 0xffffffff};
    for (size_t i = 0; i < sizeof badexp / sizeof badexp[0]; i++) {
        bad = ek;
        bad.parameters.rsaDetail.exponent = badexp[i];
        assert_false(cvma_tpm_ek_exponent_ok(badexp[i]));
        assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_E_USAGE);
    }
    bad = ek;
    bad.parameters.rsaDetail.exponent = 65537;
    assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_OK);
    cvma_tpm_credential_cleanup(&c);
    /* Only the template's scheme, NULL: a TPM makes no restricted decryption key with an
     * RSAES or OAEP scheme, so a key that has one is no TPM's EK. */
    const TPMI_ALG_ASYM_SCHEME badscheme[] = {TPM2_ALG_RSAES, TPM2_ALG_OAEP, TPM2_ALG_RSASSA};
    for (size_t i = 0; i < sizeof badscheme / sizeof badscheme[0]; i++) {
        bad = ek;
        bad.parameters.rsaDetail.scheme.scheme = badscheme[i];
        bad.parameters.rsaDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
        assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_E_USAGE);
    }
    /* Only an EK's attributes: a restricted, fixedTPM decryption key that cannot sign. */
    const TPMA_OBJECT notek[] = {0, EK_ATTRS & ~TPMA_OBJECT_RESTRICTED,
                                 EK_ATTRS & ~TPMA_OBJECT_DECRYPT, EK_ATTRS & ~TPMA_OBJECT_FIXEDTPM,
                                 EK_ATTRS | TPMA_OBJECT_SIGN_ENCRYPT};
    for (size_t i = 0; i < sizeof notek / sizeof notek[0]; i++) {
        bad = ek;
        bad.objectAttributes = notek[i];
        assert_false(cvma_tpm_ek_attributes_ok(notek[i]));
        assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_E_USAGE);
    }
    bad = ek;
    assert_int_equal(cvma_tpm_make_credential(&bad, &name, &c), CVMA_OK);
    cvma_tpm_credential_cleanup(&c);
    ek.type = TPM2_ALG_ECC;
    assert_int_equal(cvma_tpm_make_credential(&ek, &name, &c), CVMA_E_USAGE);
}

/* ---- the svsm-vtpm evidence kind: the two-step flow with a software AK and quote ---- */

/* An RSA-2048 AK in software: its TPMT_PUBLIC (restricted signing key, RSASSA-SHA256) with
 * the name algorithm name_alg. */
static EVP_PKEY *make_ak_named(uint8_t *out, size_t cap, size_t *len, TPMI_ALG_HASH name_alg)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    BIGNUM *n = NULL;
    TPMT_PUBLIC pub;
    size_t off = 0;
    assert_non_null(k);
    assert_int_equal(EVP_PKEY_get_bn_param(k, "n", &n), 1);
    memset(&pub, 0, sizeof pub);
    pub.type = TPM2_ALG_RSA;
    pub.nameAlg = name_alg;
    pub.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                           TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
    pub.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    pub.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    pub.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    pub.parameters.rsaDetail.keyBits = 2048;
    pub.unique.rsa.size = 256;
    assert_int_equal(BN_bn2binpad(n, pub.unique.rsa.buffer, 256), 256);
    BN_free(n);
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, out, cap, &off), TSS2_RC_SUCCESS);
    *len = off;
    return k;
}

/* An RSA-2048 AK in software, named with SHA-256. */
static EVP_PKEY *make_ak(uint8_t *out, size_t cap, size_t *len)
{
    return make_ak_named(out, cap, len, TPM2_ALG_SHA256);
}

/* claims.<key>.tpm.ak.jwk (key NULL: claims.tpm.ak.jwk) of res's claims JSON (new reference). */
static json_t *claims_ak_jwk(const struct cvma_result *res, const char *key)
{
    json_t *c = cvma_result_claims_json(res);
    json_t *k = key != NULL ? json_object_get(c, key) : c;
    json_t *jwk = json_object_get(json_object_get(json_object_get(k, "tpm"), "ak"), "jwk");
    json_incref(jwk);
    json_decref(c);
    return jwk;
}

/* The attested key of res: the JSON's AK JWK and the key k itself. */
static void expect_attested(const struct cvma_result *res, const char *key, EVP_PKEY *k)
{
    json_t *want = claims_ak_jwk(res, key);
    json_t *got = cvma_tpm_attested_key(res);
    assert_non_null(want);
    assert_non_null(got);
    assert_true(json_equal(got, want));
    EVP_PKEY *back = tu_jwk_key(got);
    assert_non_null(back);
    assert_int_equal(EVP_PKEY_eq(back, k), 1);
    EVP_PKEY_free(back);
    json_decref(got);
    json_decref(want);
}

static const char *claims_ak_binding(const struct cvma_result *res, char *out, size_t n)
{
    json_t *c = cvma_result_claims_json(res);
    const char *b =
            json_string_value(json_object_get(json_object_get(c, "svsm_vtpm"), "ak_binding"));
    snprintf(out, n, "%s", b != NULL ? b : "(none)");
    json_decref(c);
    return out;
}

static void test_vtpm_svsm_kind_two_steps(void **state)
{
    static const char pcrs[] =
            "{\"sha256\": {\"0\": "
            "\"0000000000000000000000000000000000000000000000000000000000000000\"}}";
    uint8_t nonce[32], man[1024], akb[1024], ak2b[1024], rd[64], pad[64] = {0};
    TPMT_PUBLIC ek;
    struct cvma_buf msg = {0}, sig = {0};
    struct cvma_vtpm_svsm_session s, s2;
    struct cvma_named_part parts[5];
    struct run r;
    size_t akl = 0, ak2l = 0;
    char err[256], b[64];
    (void)state;

    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    EVP_PKEY *ak2 = make_ak(ak2b, sizeof ak2b, &ak2l);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);
    memcpy(pad, nonce, sizeof nonce);
    sha512_2(pad, 64, man, ml, rd);
    parts[0] = (struct cvma_named_part){"svsm_manifest", {man, ml}, false};
    parts[1] = (struct cvma_named_part){"tpm_ak", {akb, akl}, false};
    parts[2] = (struct cvma_named_part){"tpm_quote", {msg.p, msg.len}, false};
    parts[3] = (struct cvma_named_part){"tpm_signature", {sig.p, sig.len}, false};
    parts[4] = (struct cvma_named_part){"tpm_pcrs", {(const uint8_t *)pcrs, strlen(pcrs)}, false};

    /* One step: everything verifies, the AK-to-EK link is unproven: a warning. */
    sim(&r, rd, 0);
    with_parts(&r, parts, nonce, sizeof nonce);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, NULL, NULL, 0, &r.res);
    cvma_result_finish(&r.res);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_EK_UNPROVEN));
    /* an AK not proven to be in the vTPM is no attested key (no token cnf) */
    assert_null(cvma_tpm_attested_key(&r.res));
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_TPM_AK_NOT_BOUND));
    assert_int_equal(r.res.status, CVMA_WARNING);
    assert_string_equal(claims_ak_binding(&r.res, b, sizeof b), "unproven");

    /* One step with a manifest the report does not bind (found by fuzz_vtpm_svsm): refused,
     * and the AK, activated by nothing, is no attested key either. */
    uint8_t bad[1024];
    memcpy(bad, man, ml);
    bad[15] ^= 1; /* in authPolicy */
    parts[0].data.p = bad;
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, NULL, NULL, 0, &r.res);
    cvma_result_finish(&r.res);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_SVSM_MANIFEST_MISMATCH);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_EK_UNPROVEN));
    assert_null(cvma_tpm_attested_key(&r.res));
    parts[0].data.p = man;

    /* Two steps: the credential for this EK and AK; the TPM returns its secret. */
    assert_int_equal(cvma_vtpm_svsm_challenge(&r.vo, &s, err, sizeof err), CVMA_OK);
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, &s, s.cred.secret, sizeof s.cred.secret,
                                 &r.res);
    cvma_result_finish(&r.res);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_EK_UNPROVEN));
    assert_int_equal(r.res.status, CVMA_AFFIRMING);
    expect_attested(&r.res, "svsm_vtpm", ak);
    assert_string_equal(claims_ak_binding(&r.res, b, sizeof b), "credential-activation");

    /* Another secret returned: the AK is not in that TPM. */
    uint8_t wrong[32];
    memcpy(wrong, s.cred.secret, sizeof wrong);
    wrong[0] ^= 1;
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, &s, wrong, sizeof wrong, &r.res);
    cvma_result_finish(&r.res);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_CREDENTIAL_MISMATCH);
    assert_string_equal(claims_ak_binding(&r.res, b, sizeof b), "unproven");

    /* The right secret, but the report vouches for no EK here (it was made for another
     * nonce): the activation proves nothing about this vTPM, the AK is no attested key. */
    r.vo.nonce[0] ^= 1;
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, &s, s.cred.secret, sizeof s.cred.secret,
                                 &r.res);
    cvma_result_finish(&r.res);
    r.vo.nonce[0] ^= 1;
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_EK_UNPROVEN));
    assert_null(cvma_tpm_attested_key(&r.res));

    /* A session made for another AK, its secret returned: still refused. */
    parts[1].data = (struct cvma_span){ak2b, ak2l};
    assert_int_equal(cvma_vtpm_svsm_challenge(&r.vo, &s2, err, sizeof err), CVMA_OK);
    parts[1].data = (struct cvma_span){akb, akl};
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, &s2, s2.cred.secret,
                                 sizeof s2.cred.secret, &r.res);
    cvma_result_finish(&r.res);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_CREDENTIAL_MISMATCH);

    /* The challenge needs the manifest and the AK's public area (s2 is an output: free first). */
    cvma_vtpm_svsm_session_cleanup(&s2);
    r.vo.n_collateral_parts = 0;
    assert_int_equal(cvma_vtpm_svsm_challenge(&r.vo, &s2, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "svsm_manifest"));

    cvma_vtpm_svsm_session_cleanup(&s);
    cvma_vtpm_svsm_session_cleanup(&s2);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
    EVP_PKEY_free(ak2);
    run_done(&r);
}

static const char PCRS0[] =
        "{\"sha256\": {\"0\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\"}}";

/* An AK (or EK) whose name cannot be computed (name algorithm SM3_256, 0x0012): named by its
 * own reason (TPM_AK_MALFORMED for the AK, VTPM_EK_MALFORMED for the EK); the challenge says
 * which key. An EK's quote is still checked (its reasons and claims are there); an AK without
 * a name is refused by the quote's check too (TPM_AK_MALFORMED: no claims from it). */
static void test_vtpm_svsm_kind_unnamed_keys_named_apart(void **state)
{
    uint8_t nonce[32], man[1024], akb[1024], rd[64], pad[64] = {0};
    TPMT_PUBLIC ek;
    struct cvma_buf msg = {0}, sig = {0};
    struct cvma_vtpm_svsm_session s;
    struct cvma_named_part parts[5];
    struct run r;
    size_t akl = 0, off = 0;
    char err[256];
    (void)state;

    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    EVP_PKEY *ak = make_ak_named(akb, sizeof akb, &akl, TPM2_ALG_SM3_256);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);
    memcpy(pad, nonce, sizeof nonce);
    sha512_2(pad, 64, man, ml, rd);
    parts[0] = (struct cvma_named_part){"svsm_manifest", {man, ml}, false};
    parts[1] = (struct cvma_named_part){"tpm_ak", {akb, akl}, false};
    parts[2] = (struct cvma_named_part){"tpm_quote", {msg.p, msg.len}, false};
    parts[3] = (struct cvma_named_part){"tpm_signature", {sig.p, sig.len}, false};
    parts[4] = (struct cvma_named_part){"tpm_pcrs", {(const uint8_t *)PCRS0, strlen(PCRS0)}, false};
    sim(&r, rd, 0);
    with_parts(&r, parts, nonce, sizeof nonce);

    /* The AK: TPM_AK_MALFORMED, the EK not blamed, no claims of the AK's quote. */
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, NULL, NULL, 0, &r.res);
    cvma_result_finish(&r.res);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_TPM_AK_MALFORMED);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_EK_MALFORMED));
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_EK_UNPROVEN));
    json_t *jwk = claims_ak_jwk(&r.res, "svsm_vtpm");
    assert_null(jwk);
    assert_null(cvma_tpm_attested_key(&r.res));
    /* The challenge names the AK. */
    assert_int_equal(cvma_vtpm_svsm_challenge(&r.vo, &s, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "the AK's name algorithm 0x0012"));
    cvma_vtpm_svsm_session_cleanup(&s);
    run_done(&r);

    /* The EK named with SM3 (the report commits to it), the AK with SHA-256: VTPM_EK_MALFORMED
     * only, and the quote still checked. */
    EVP_PKEY_free(ak);
    ak = make_ak(akb, sizeof akb, &akl);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);
    parts[1].data = (struct cvma_span){akb, akl};
    parts[2].data = (struct cvma_span){msg.p, msg.len};
    parts[3].data = (struct cvma_span){sig.p, sig.len};
    ek.nameAlg = TPM2_ALG_SM3_256;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&ek, man, sizeof man, &off), TSS2_RC_SUCCESS);
    assert_int_equal(off, ml);
    sha512_2(pad, 64, man, ml, rd);
    sim(&r, rd, 0);
    with_parts(&r, parts, nonce, sizeof nonce);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, NULL, NULL, 0, &r.res);
    cvma_result_finish(&r.res);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_EK_MALFORMED);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_TPM_AK_MALFORMED));
    jwk = claims_ak_jwk(&r.res, "svsm_vtpm");
    assert_non_null(jwk);
    json_decref(jwk);
    assert_int_equal(cvma_vtpm_svsm_challenge(&r.vo, &s, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "the EK's name algorithm 0x0012"));
    cvma_vtpm_svsm_session_cleanup(&s);

    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
    run_done(&r);
}

/* ---- the attested key: the AK as the verifier holds it (typed claims), per kind ---- */

/* An HCL report (SEV-SNP): header, the report rep, the runtime data header, the claims. */
static void make_hcl(const struct cvma_buf *rep, const char *claims, size_t cl,
                     struct cvma_buf *out)
{
    size_t cap =
            CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN + CVMA_AZURE_RUNTIME_HDR_LEN + cl;
    uint8_t *b = malloc(cap);
    assert_int_equal(rep->len, CVMA_AZURE_HW_REPORT_LEN);
    assert_non_null(b);
    out->len = tu_azure_hcl(b, cap, rep->p, CVMA_AZURE_REPORT_TYPE_SNP, claims, cl, 0);
    assert_int_equal(out->len, cap);
    out->p = b;
}

/* Verifies claims (n bytes) as azure-snp into r->res: an HCL report around a simulated
 * SEV-SNP report made at vmpl with their hash as REPORT_DATA, and quote parts whose bytes do
 * not matter (a quote is read after the runtime claims). The caller calls run_done. */
static void azure_verify_claims(struct run *r, const char *claims, size_t n, uint32_t vmpl)
{
    static const uint8_t junk[4] = {1, 2, 3, 4};
    static const struct cvma_named_part parts[] = {{"tpm_quote", {junk, sizeof junk}, false},
                                                   {"tpm_signature", {junk, sizeof junk}, false}};
    uint8_t rd[64] = {0};
    struct cvma_buf hcl = {0};

    assert_int_equal(EVP_Digest(claims, n, rd, NULL, EVP_sha256(), NULL), 1);
    sim(r, rd, vmpl);
    make_hcl(&r->rep, claims, n, &hcl);
    r->vo.collateral_parts = parts;
    r->vo.n_collateral_parts = 2;
    cvma_result_cleanup(&r->res);
    cvma_result_init(&r->res, "azure-snp", r->vo.at);
    cvma_azure_verify(hcl.p, hcl.len, &r->vo, false, &r->res);
    cvma_result_finish(&r->res);
    cvma_buf_free(&hcl);
}

/* Runtime claims the hardware vouches for, but nested deeper than runtime claims are (they
 * would make the result deeper than a JSON reader takes): refused by name. */
static void test_azure_runtime_claims_too_deep(void **state)
{
    (void)state;
    char claims[512];
    size_t n = 0;
    struct run r;
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(claims + n, sizeof claims - n, "{\"a\":");
    }
    n += (size_t)snprintf(claims + n, sizeof claims - n, "1");
    for (int i = 0; i < 40; i++) {
        claims[n++] = '}';
    }
    claims[n] = '\0';
    azure_verify_claims(&r, claims, n, 0);
    bool named = false;
    for (size_t i = 0; i < r.res.verdict.n_reasons; i++) {
        named |= r.res.verdict.reasons[i].code == CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED &&
                 strstr(r.res.verdict.reasons[i].detail, "nest deeper than 32 levels") != NULL;
    }
    assert_true(named);
    assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
    run_done(&r);
}

/* An HCL report whose SEV-SNP report was made above VMPL 0 (by the guest OS, not the
 * paravisor) vouches for nothing: refused by name; the same at VMPL 0 is not. */
static void test_azure_hcl_report_above_vmpl0_refused(void **state)
{
    (void)state;
    static const char claims[] = "{\"keys\": []}";

    for (uint32_t vmpl = 0; vmpl <= 3; vmpl++) {
        struct run r;
        azure_verify_claims(&r, claims, strlen(claims), vmpl);
        assert_int_equal(r.res.status, CVMA_CONTRAINDICATED);
        if (vmpl == 0) {
            /* past the report: the claims hold no AK */
            assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_AZURE_HCL_VMPL));
            assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED));
        } else {
            assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_AZURE_HCL_VMPL);
            assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED));
        }
        run_done(&r);
    }
}

/* Simulated azure-snp evidence that verifies: the AK ak, a quote it signed over PCRS0 and the
 * nonce, runtime claims (claims: NULL for tu_azure_claims's, naming ak alone) whose SHA-256 a
 * simulated SEV-SNP report carries, in an HCL report (*hcl, no padding). r->vo holds the quote
 * parts (parts) and the nonce. The caller frees *hcl, *msg, *sig and calls run_done. */
static void azure_evidence(struct run *r, EVP_PKEY *ak, const char *claims, struct cvma_buf *hcl,
                           struct cvma_buf *msg, struct cvma_buf *sig,
                           struct cvma_named_part parts[3])
{
    uint8_t nonce[32], rd[64] = {0};
    char own[1024];
    size_t cl;

    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, msg, sig);
    if (claims == NULL) {
        cl = tu_azure_claims(ak, TU_AZURE_UD0, own, sizeof own, rd);
        claims = own;
    } else {
        cl = strlen(claims);
        assert_int_equal(EVP_Digest(claims, cl, rd, NULL, EVP_sha256(), NULL), 1);
    }
    sim(r, rd, 0);
    make_hcl(&r->rep, claims, cl, hcl);
    parts[0] = (struct cvma_named_part){"tpm_quote", {msg->p, msg->len}, false};
    parts[1] = (struct cvma_named_part){"tpm_signature", {sig->p, sig->len}, false};
    parts[2] = (struct cvma_named_part){"tpm_pcrs", {(const uint8_t *)PCRS0, strlen(PCRS0)}, false};
    r->vo.collateral_parts = parts;
    r->vo.n_collateral_parts = 3;
    r->vo.has_nonce = true;
    memcpy(r->vo.nonce, nonce, sizeof nonce);
    r->vo.nonce_len = sizeof nonce;
}

/* Verifies the HCL report p[0..n) as azure-snp with r's options into r->res. */
static void azure_verify_hcl(struct run *r, const uint8_t *p, size_t n, bool allow_trailing)
{
    r->vo.allow_trailing_data = allow_trailing;
    cvma_result_cleanup(&r->res);
    cvma_result_init(&r->res, "azure-snp", r->vo.at);
    cvma_azure_verify(p, n, &r->vo, false, &r->res);
    cvma_result_finish(&r->res);
}

/* r->res is refused with code first, the detail holding needle, and no attested key (and,
 * refused before the hardware report, no claims: hw_claims false). */
static void expect_azure_refused(const struct run *r, enum cvma_reason code, const char *needle,
                                 bool hw_claims)
{
    if (cvma_verdict_first_error(&r->res.verdict) != code ||
        !tu_detail_has(&r->res.verdict, code, needle)) {
        tu_dump(&r->res.verdict);
        fail_msg("want %s with \"%s\"", cvma_reason_name(code), needle);
    }
    assert_int_equal(r->res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(r->res.claims.verified, hw_claims);
    assert_null(cvma_tpm_attested_key(&r->res));
}

/* Nothing signs the HCL report's header or the bytes after its runtime claims: with the
 * hardware report's signature, the claims' hash and the quote all valid, a header field that
 * does not fit the layout (sizes, runtime data version, reserved bytes) is AZURE_HCL_MALFORMED,
 * and a non-zero byte after the claims PARSE_TRAILING_DATA (a warning with allow_trailing_data),
 * naming its offset. Zero padding (as the samples have) changes nothing. */
static void test_azure_hcl_unsigned_header_and_padding_checked(void **state)
{
    uint8_t akb[1024];
    size_t akl = 0;
    struct cvma_buf msg = {0}, sig = {0}, hcl = {0};
    struct cvma_named_part parts[3];
    struct run r;
    char needle[64];
    (void)state;

    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    azure_evidence(&r, ak, NULL, &hcl, &msg, &sig, parts);
    size_t end = hcl.len, n = end + 254, cl = end - 1236;
    uint8_t *b = calloc(1, n + 700);
    assert_non_null(b);
    memcpy(b, hcl.p, end);

    azure_verify_hcl(&r, b, end, false);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    size_t reasons = r.res.verdict.n_reasons;
    /* 254 zero bytes of padding: the same verdict, no reason more. */
    azure_verify_hcl(&r, b, n, false);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    assert_int_equal(r.res.verdict.n_reasons, reasons);
    expect_attested(&r.res, "azure", ak);

    /* One non-zero byte in the padding; with allow_trailing_data, a warning. */
    b[end + 100] = 0x41;
    snprintf(needle, sizeof needle, "0x41 at offset %zu", end + 100);
    azure_verify_hcl(&r, b, n, false);
    expect_azure_refused(&r, CVMA_R_PARSE_TRAILING_DATA, needle, false);
    azure_verify_hcl(&r, b, n, true);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    assert_int_equal(tu_severity_of(&r.res.verdict, CVMA_R_PARSE_TRAILING_DATA), CVMA_SEV_WARNING);
    expect_attested(&r.res, "azure", ak);
    b[end + 100] = 0;
    /* 700 bytes of garbage after the padding. */
    memset(b + n, 'G', 700);
    snprintf(needle, sizeof needle, "0x47 at offset %zu", n);
    azure_verify_hcl(&r, b, n + 700, false);
    expect_azure_refused(&r, CVMA_R_PARSE_TRAILING_DATA, needle, false);
    /* Another claims JSON, with another HCLAkPub, written into the zero padding. */
    static const char other[] = "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\","
                                "\"n\":\"EVIL\"}]}";
    memcpy(b + end, other, strlen(other));
    snprintf(needle, sizeof needle, "0x7b at offset %zu", end);
    azure_verify_hcl(&r, b, n, false);
    expect_azure_refused(&r, CVMA_R_PARSE_TRAILING_DATA, needle, false);
    memset(b + end, 0, n + 700 - end);

    /* Header fields: the request size (all of it to the claims' end; not the size after the
     * header), the runtime data size (its header and the claims), its version. */
    const struct {
        size_t off;
        uint32_t val;
        const char *needle;
    } bad[] = {
            {8, 0xffffffffu, "request size 4294967295, not"},
            {8, (uint32_t)(end - 32), "request size"},
            {8, (uint32_t)(n), "request size"},
            {1216, 0xffffffffu, "runtime data size 4294967295, not"},
            {1216, (uint32_t)(20 + cl + 1), "runtime data size"},
            {1220, 2, "runtime data version 2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t keep[4];
        memcpy(keep, b + bad[i].off, 4);
        tu_put32(b + bad[i].off, bad[i].val);
        azure_verify_hcl(&r, b, n, false);
        expect_azure_refused(&r, CVMA_R_AZURE_HCL_MALFORMED, bad[i].needle, false);
        memcpy(b + bad[i].off, keep, 4);
    }
    /* Each byte of the status (16..19) and the reserved bytes (20..31). */
    for (size_t i = 16; i < 32; i++) {
        b[i] = 0x80;
        azure_verify_hcl(&r, b, n, true);
        expect_azure_refused(
                &r, CVMA_R_AZURE_HCL_MALFORMED,
                i < 20 ? "header status (bytes 16..19)" : "reserved header bytes 20..31", false);
        b[i] = 0;
    }
    azure_verify_hcl(&r, b, n, false);
    assert_false(cvma_verdict_has_error(&r.res.verdict));

    free(b);
    cvma_buf_free(&hcl);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
    run_done(&r);
}

/* Runtime claims with two "keys" entries of kid HCLAkPub (the AK twice, or the AK and another
 * key in either order) vouched for by the hardware: which one is the AK is not guessed (the
 * first is not taken), whichever one signed the quote. */
static void test_azure_two_hcl_ak_pub_keys_refused(void **state)
{
    uint8_t akb[1024];
    size_t akl = 0;
    char one[1024], two[1024], claims[2600];
    uint8_t rd[64];
    (void)state;

    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    EVP_PKEY *k2 = EVP_RSA_gen(2048);
    assert_non_null(k2);
    /* the {"kid": "HCLAkPub", ...} entry of each key, from tu_azure_claims's text */
    const char *pre = "{\"keys\": [";
    tu_azure_claims(ak, TU_AZURE_UD0, one, sizeof one, rd);
    tu_azure_claims(k2, TU_AZURE_UD0, two, sizeof two, rd);
    *strstr(one, "], \"user-data\"") = '\0';
    *strstr(two, "], \"user-data\"") = '\0';
    const char *a = one + strlen(pre), *o = two + strlen(pre);
    const char *pairs[3][2] = {{a, a}, {a, o}, {o, a}};
    for (size_t i = 0; i < 3; i++) {
        struct cvma_buf msg = {0}, sig = {0}, hcl = {0};
        struct cvma_named_part parts[3];
        struct run r;
        snprintf(claims, sizeof claims, "{\"keys\": [%s, {\"kid\": \"HCLEkPub\"}, %s]}",
                 pairs[i][0], pairs[i][1]);
        azure_evidence(&r, ak, claims, &hcl, &msg, &sig, parts);
        azure_verify_hcl(&r, hcl.p, hcl.len, false);
        expect_azure_refused(&r, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED, "entries 0 and 2", true);
        assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_TPM_SIGNATURE_INVALID));
        cvma_buf_free(&hcl);
        cvma_buf_free(&msg);
        cvma_buf_free(&sig);
        run_done(&r);
    }
    EVP_PKEY_free(k2);
    EVP_PKEY_free(ak);
}

/* Verifies an HCL report around a simulated SEV-SNP report whose REPORT_DATA is rd, holding
 * claims, as azure-snp into r->res (quote parts whose bytes do not matter), with the expected
 * report data want (NULL: none). The caller calls run_done. */
static void azure_verify_rd(struct run *r, const char *claims, const uint8_t rd[64],
                            const uint8_t *want)
{
    static const uint8_t junk[4] = {1, 2, 3, 4};
    static const struct cvma_named_part parts[] = {{"tpm_quote", {junk, sizeof junk}, false},
                                                   {"tpm_signature", {junk, sizeof junk}, false}};
    struct cvma_buf hcl = {0};
    sim(r, rd, 0);
    make_hcl(&r->rep, claims, strlen(claims), &hcl);
    r->vo.collateral_parts = parts;
    r->vo.n_collateral_parts = 2;
    r->vo.has_report_data = want != NULL;
    if (want != NULL) {
        memcpy(r->vo.report_data, want, 64);
    }
    cvma_result_cleanup(&r->res);
    cvma_result_init(&r->res, "azure-snp", r->vo.at);
    cvma_azure_verify(hcl.p, hcl.len, &r->vo, false, &r->res);
    cvma_result_finish(&r->res);
    cvma_buf_free(&hcl);
}

/*
 * The hardware report vouches for the vTPM's key through all of its report data: a report
 * whose REPORT_DATA differs from the binding in its last byte alone binds nothing. The weak
 * binding (SHA-512(nonce || AK), 64 bytes), the SVSM's (SHA-512(nonce || manifest)), Azure's
 * (SHA-256 of the runtime claims, then 32 zero bytes: a non-zero byte 63 is refused too), and
 * the expected report data against the runtime claims' 64-byte user-data.
 */
static void test_vtpm_report_data_binds_in_every_byte(void **state)
{
    const uint8_t nonce16[16] = "0123456789abcdef";
    const uint8_t ak[] = "an AK public area";
    uint8_t nonce[64], man[1024], rd[64], ud[64];
    char claims[512], udhex[129];
    TPMT_PUBLIC ek;
    struct run r;
    (void)state;

    /* weak: the last byte of SHA-512(nonce || AK) */
    sha512_2(nonce16, sizeof nonce16, ak, sizeof ak, rd);
    rd[63] ^= 1;
    sim(&r, rd, 0);
    assert_false(cvma_vtpm_weak_verify(r.rep.p, r.rep.len, nonce16, sizeof nonce16, ak, sizeof ak,
                                       &r.vo, &r.res));
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_AK_BINDING_MISMATCH);
    run_done(&r);

    /* SVSM: the last byte of SHA-512(nonce || manifest) */
    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    sha512_2(nonce, 64, man, ml, rd);
    rd[63] ^= 1;
    sim(&r, rd, 0);
    assert_false(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml, &r.vo, &r.res, NULL));
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_VTPM_SVSM_MANIFEST_MISMATCH);
    run_done(&r);

    /* Azure: the last byte of the claims' hash, then the last of the 32 zero bytes. The
     * claims name no AK, which would be the next refusal. */
    assert_int_equal(RAND_bytes(ud, sizeof ud), 1);
    cvma_hex_encode(ud, sizeof ud, udhex, sizeof udhex);
    snprintf(claims, sizeof claims, "{\"keys\": [], \"user-data\": \"%s\"}", udhex);
    for (int at = 31; at <= 63; at += 32) {
        memset(rd, 0, sizeof rd);
        assert_int_equal(EVP_Digest(claims, strlen(claims), rd, NULL, EVP_sha256(), NULL), 1);
        rd[at] ^= 1;
        azure_verify_rd(&r, claims, rd, NULL);
        assert_int_equal(cvma_verdict_first_error(&r.res.verdict),
                         CVMA_R_AZURE_RUNTIME_CLAIMS_HASH);
        run_done(&r);
    }
    /* ... and the expected report data against user-data: the same, then its last byte */
    memset(rd, 0, sizeof rd);
    assert_int_equal(EVP_Digest(claims, strlen(claims), rd, NULL, EVP_sha256(), NULL), 1);
    azure_verify_rd(&r, claims, rd, ud);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_NONCE_REPORT_DATA_MISMATCH));
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED));
    run_done(&r);
    ud[63] ^= 1;
    azure_verify_rd(&r, claims, rd, ud);
    assert_int_equal(cvma_verdict_first_error(&r.res.verdict), CVMA_R_NONCE_REPORT_DATA_MISMATCH);
    run_done(&r);
}

/* A bare quote's input: the quote msg/sig by the AK akb[0..akl), PCRS0, the 32-byte nonce. */
static void quote_in(struct cvma_tpm_quote_in *in, const struct cvma_buf *msg,
                     const struct cvma_buf *sig, const uint8_t *akb, size_t akl,
                     const uint8_t nonce[32])
{
    memset(in, 0, sizeof *in);
    in->attest = (struct cvma_span){msg->p, msg->len};
    in->sig = (struct cvma_span){sig->p, sig->len};
    in->ak = (struct cvma_span){akb, akl};
    in->pcrs = (struct cvma_span){(const uint8_t *)PCRS0, strlen(PCRS0)};
    in->has_nonce = true;
    in->nonce = nonce;
    in->nonce_len = 32;
}

static void test_vtpm_attested_key_is_the_verified_ak_per_kind(void **state)
{
    uint8_t nonce[32], akb[1024], rd[64];
    char claims[1024];
    size_t akl = 0;
    struct cvma_buf msg = {0}, sig = {0}, hcl = {0};
    struct cvma_named_part parts[3];
    struct cvma_tpm_quote_in in;
    struct cvma_result res;
    struct run r;
    (void)state;

    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);

    /* tpm: a quote whose AK something vouches for; the same quote with nothing: none. */
    quote_in(&in, &msg, &sig, akb, akl, nonce);
    in.ak_bound_by = "test";
    cvma_result_init(&res, "tpm", time(NULL));
    cvma_tpm_quote_verify(&in, &res);
    cvma_result_finish(&res);
    assert_false(cvma_verdict_has_error(&res.verdict));
    expect_attested(&res, NULL, ak);
    cvma_result_cleanup(&res);
    in.ak_bound_by = NULL;
    cvma_result_init(&res, "tpm", time(NULL));
    cvma_tpm_quote_verify(&in, &res);
    cvma_result_finish(&res);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_TPM_AK_NOT_BOUND));
    assert_true(res.claims.verified);
    assert_false(res.claims.hardware); /* no hardware report: the EAR vector claims none */
    assert_null(cvma_tpm_attested_key(&res));
    cvma_result_cleanup(&res);

    /* azure-snp: the AK is HCLAkPub of runtime claims a simulated SEV-SNP report vouches for;
     * the quote's claims are held inside the kind's (claims.azure.tpm). */
    size_t cl = tu_azure_claims(ak, TU_AZURE_UD0, claims, sizeof claims, rd);
    sim(&r, rd, 0);
    make_hcl(&r.rep, claims, cl, &hcl);
    parts[0] = (struct cvma_named_part){"tpm_quote", {msg.p, msg.len}, false};
    parts[1] = (struct cvma_named_part){"tpm_signature", {sig.p, sig.len}, false};
    parts[2] = (struct cvma_named_part){"tpm_pcrs", {(const uint8_t *)PCRS0, strlen(PCRS0)}, false};
    r.vo.collateral_parts = parts;
    r.vo.n_collateral_parts = 3;
    r.vo.has_nonce = true;
    memcpy(r.vo.nonce, nonce, sizeof nonce);
    r.vo.nonce_len = sizeof nonce;
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "azure-snp", r.vo.at);
    cvma_azure_verify(hcl.p, hcl.len, &r.vo, false, &r.res);
    cvma_result_finish(&r.res);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    expect_attested(&r.res, "azure", ak);
    assert_true(r.res.claims.hardware); /* the SEV-SNP report's, kept by the kind's claims */
    /* The hardware's claims are found the same way (the snp policy section reads them), and
     * no TDX claims are found in SEV-SNP evidence. */
    assert_non_null(cvma_claims_find(&r.res.claims, &cvma_snp_claims_ops));
    assert_null(cvma_claims_find(&r.res.claims, &cvma_tdx_claims_ops));

    /* sev-snp: verified claims with no AK: none, whatever the result says its kind is. */
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "sev-snp", r.vo.at);
    r.vo.n_collateral_parts = 0;
    r.vo.has_nonce = false;
    cvma_snp_verify(r.rep.p, r.rep.len, &r.vo, NULL, &r.res);
    cvma_result_finish(&r.res);
    assert_true(r.res.claims.verified);
    assert_null(cvma_tpm_attested_key(&r.res));
    r.res.tee = "azure-snp";
    assert_null(cvma_tpm_attested_key(&r.res));
    r.res.tee = "sev-snp";

    cvma_buf_free(&hcl);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
    run_done(&r);
}

/* ---- policy: a quote's PCRs and log count only when something vouches for its AK ---- */

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
#define O64 "0000000000000000000000000000000000000000000000000000000000000001"
/* The simulated report's measurement (sim_snp), and another one. */
#define M96                                                                                        \
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d" \
    "4d4d"
#define N96                                                                                        \
    "4e4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d" \
    "4d4d"

/* The hex SHA-256 of k's SubjectPublicKeyInfo, as claims.tpm.ak.spki_sha256 should say. */
static void spki_hex(EVP_PKEY *k, char out[65])
{
    uint8_t *der = NULL, h[32];
    int n = i2d_PUBKEY(k, &der);
    assert_true(n > 0);
    assert_int_equal(EVP_Digest(der, (size_t)n, h, NULL, EVP_sha256(), NULL), 1);
    OPENSSL_free(der);
    cvma_hex_encode(h, 32, out, 65);
}

/* Appraises res (verified, not finished) with the policy text: its error codes, space-separated,
 * must be want, and each needle (NULL: none) must be in the detail of a POLICY_TPM_AK. */
static void expect_policy(struct cvma_result *res, const char *policy, const char *want,
                          const char *needle1, const char *needle2)
{
    struct cvma_policy *p = NULL;
    char err[256], got[256] = "";
    size_t n = 0;
    if (cvma_policy_load_bytes((const uint8_t *)policy, strlen(policy), &p, err, sizeof err) !=
        CVMA_OK) {
        fail_msg("policy %s: %s", policy, err);
    }
    cvma_policy_appraise(p, res);
    cvma_policy_free(p);
    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        if (res->verdict.reasons[i].severity == CVMA_SEV_ERROR) {
            int k = snprintf(got + n, sizeof got - n, "%s%s", n > 0 ? " " : "",
                             cvma_reason_name(res->verdict.reasons[i].code));
            n += k > 0 && (size_t)k < sizeof got - n ? (size_t)k : 0;
        }
    }
    if (strcmp(got, want) != 0) {
        tu_dump(&res->verdict);
        fail_msg("policy %s: errors '%s', want '%s'", policy, got, want);
    }
    if (needle1 != NULL) {
        TU_ASSERT_DETAIL(&res->verdict, CVMA_R_POLICY_TPM_AK, needle1);
    }
    if (needle2 != NULL) {
        TU_ASSERT_DETAIL(&res->verdict, CVMA_R_POLICY_TPM_AK, needle2);
    }
}

/* A quote of kind tpm verified into res, its AK vouched for by bound_by (NULL: nothing). */
static void tpm_result(struct cvma_tpm_quote_in *in, const char *bound_by, struct cvma_result *res)
{
    in->ak_bound_by = bound_by;
    cvma_result_init(res, "tpm", time(NULL));
    cvma_tpm_quote_verify(in, res);
    assert_false(cvma_verdict_has_error(&res->verdict));
    assert_true(res->claims.verified);
}

/*
 * tpm.pcrs and eventlog rules read registers a quote claims; a quote by an AK nothing vouches
 * for (a bare quote: TPM_AK_NOT_BOUND; svsm-vtpm in one step: VTPM_AK_EK_UNPROVEN) claims what
 * whoever made the key chose. Its rules fail with one POLICY_TPM_AK naming the AK, unless
 * tpm.ak_spki_sha256 lists that AK; then they are appraised as usual (the verifier's warning
 * stays). An AK a hardware report binds (azure-snp, svsm-vtpm activated) needs no AK pin when
 * the policy pins that report's launch (snp.measurements): the report is at VMPL 0, as any
 * SEV-SNP guest without a paravisor or SVSM makes one with the AK (or EK) of its choosing, so
 * without that pin its tpm.pcrs and azure rules fail with POLICY_TPM_AK too; a launch pin of
 * another measurement fails by its own rule. An AK pin it does not match is POLICY_TPM_AK by
 * itself.
 */
static void test_vtpm_policy_pcrs_need_an_ak_something_vouches_for(void **state)
{
    uint8_t nonce[32], akb[1024], man[1024], rd[64], pad[64] = {0};
    char spki[65], upper[65], claims[1024], err[256], pol[1024];
    size_t akl = 0;
    struct cvma_buf msg = {0}, sig = {0}, hcl = {0};
    struct cvma_named_part parts[5];
    struct cvma_vtpm_svsm_session s;
    struct cvma_tpm_quote_in in;
    struct cvma_result res;
    TPMT_PUBLIC ek;
    struct run r;
    (void)state;

    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    spki_hex(ak, spki);
    for (size_t i = 0; i < sizeof upper; i++) {
        upper[i] = (char)(spki[i] >= 'a' && spki[i] <= 'f' ? spki[i] - 'a' + 'A' : spki[i]);
    }
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);
    quote_in(&in, &msg, &sig, akb, akl, nonce);

    /* tpm, a bare quote: the PCR rule, the event-log rule, both (one reason) */
    tpm_result(&in, NULL, &res);
    expect_policy(&res, "{\"tpm\": {\"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}}",
                  "POLICY_TPM_AK", spki, "tpm.pcrs: the quote's AK");
    TU_ASSERT_DETAIL(&res.verdict, CVMA_R_POLICY_TPM_AK, "TPM_AK_NOT_BOUND");
    TU_ASSERT_DETAIL(&res.verdict, CVMA_R_POLICY_TPM_AK, "tpm.ak_spki_sha256 is not set");
    cvma_result_cleanup(&res);
    tpm_result(&in, NULL, &res);
    expect_policy(&res, "{\"eventlog\": {\"secure_boot\": true}}", "POLICY_TPM_AK", spki,
                  "eventlog: the quote's AK");
    cvma_result_cleanup(&res);
    tpm_result(&in, NULL, &res);
    expect_policy(&res,
                  "{\"tpm\": {\"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}, "
                  "\"eventlog\": {\"secure_boot\": true}}",
                  "POLICY_TPM_AK", "tpm.pcrs, eventlog: ", "could be anyone's");
    cvma_result_cleanup(&res);

    /* pinned (either case, among others): appraised as usual, the warning kept */
    snprintf(pol, sizeof pol,
             "{\"tpm\": {\"ak_spki_sha256\": [\"" O64 "\", \"%s\"], \"pcrs\": {\"sha256\": "
             "{\"0\": \"" Z64 "\"}}}}",
             upper);
    tpm_result(&in, NULL, &res);
    expect_policy(&res, pol, "", NULL, NULL);
    assert_int_equal(tu_severity_of(&res.verdict, CVMA_R_TPM_AK_NOT_BOUND), CVMA_SEV_WARNING);
    cvma_result_finish(&res);
    assert_int_equal(res.status, CVMA_WARNING);
    cvma_result_cleanup(&res);
    snprintf(pol, sizeof pol,
             "{\"tpm\": {\"ak_spki_sha256\": \"%s\", \"pcrs\": {\"sha256\": {\"0\": \"" O64
             "\"}}}, \"eventlog\": {\"secure_boot\": true}}",
             spki);
    tpm_result(&in, NULL, &res);
    expect_policy(&res, pol, "POLICY_PCR POLICY_EVENTLOG_MISSING", NULL, NULL);
    cvma_result_cleanup(&res);

    /* pinned, another key: the pin fails, and the rules on the registers with it */
    tpm_result(&in, NULL, &res);
    expect_policy(&res,
                  "{\"tpm\": {\"ak_spki_sha256\": \"" O64 "\", \"pcrs\": {\"sha256\": {\"0\": "
                  "\"" Z64 "\"}}}}",
                  "POLICY_TPM_AK POLICY_TPM_AK", "expected " O64,
                  "tpm.ak_spki_sha256 does not list it");
    cvma_result_cleanup(&res);

    /* tpm, the AK vouched for: no pin needed; a pin of another key fails by itself */
    tpm_result(&in, "test", &res);
    expect_policy(&res, "{\"tpm\": {\"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}}", "", NULL,
                  NULL);
    cvma_result_cleanup(&res);
    tpm_result(&in, "test", &res);
    expect_policy(&res,
                  "{\"tpm\": {\"ak_spki_sha256\": \"" O64 "\", \"pcrs\": {\"sha256\": {\"0\": "
                  "\"" O64 "\"}}}}",
                  "POLICY_TPM_AK POLICY_PCR", "tpm.ak_spki_sha256: the quote's AK has", spki);
    cvma_result_cleanup(&res);

    /* svsm-vtpm in one step (the AK-EK link unproven), then in two (proven) */
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    memcpy(pad, nonce, sizeof nonce);
    sha512_2(pad, 64, man, ml, rd);
    parts[0] = (struct cvma_named_part){"svsm_manifest", {man, ml}, false};
    parts[1] = (struct cvma_named_part){"tpm_ak", {akb, akl}, false};
    parts[2] = (struct cvma_named_part){"tpm_quote", {msg.p, msg.len}, false};
    parts[3] = (struct cvma_named_part){"tpm_signature", {sig.p, sig.len}, false};
    parts[4] = (struct cvma_named_part){"tpm_pcrs", {(const uint8_t *)PCRS0, strlen(PCRS0)}, false};
    sim(&r, rd, 0);
    with_parts(&r, parts, nonce, sizeof nonce);
    static const char svsm_pcr[] = "{\"allowed_tees\": [\"svsm-vtpm\"], \"tpm\": {\"pcrs\": "
                                   "{\"sha256\": {\"0\": \"" Z64 "\"}}}}";
    static const char svsm_pcr_pinned[] =
            "{\"allowed_tees\": [\"svsm-vtpm\"], \"snp\": {\"measurements\": \"" M96 "\"}, "
            "\"tpm\": {\"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}}";
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, NULL, NULL, 0, &r.res);
    assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_EK_UNPROVEN));
    expect_policy(&r.res, svsm_pcr, "POLICY_TPM_AK", "VTPM_AK_EK_UNPROVEN", spki);
    snprintf(pol, sizeof pol,
             "{\"allowed_tees\": [\"svsm-vtpm\"], \"tpm\": {\"ak_spki_sha256\": \"%s\", "
             "\"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}}",
             spki);
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, NULL, NULL, 0, &r.res);
    expect_policy(&r.res, pol, "", NULL, NULL);
    assert_int_equal(cvma_vtpm_svsm_challenge(&r.vo, &s, err, sizeof err), CVMA_OK);
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, &s, s.cred.secret, sizeof s.cred.secret,
                                 &r.res);
    assert_false(cvma_verdict_has(&r.res.verdict, CVMA_R_VTPM_AK_EK_UNPROVEN));
    /* the AK-EK link proven, but the report is at VMPL 0, as any SEV-SNP guest without an
     * SVSM makes one (naming a software TPM's EK): only the SVSM's launch pinned vouches */
    expect_policy(&r.res, svsm_pcr, "POLICY_TPM_AK", "is at VMPL 0, which any SEV-SNP guest",
                  "snp.measurements, snp.id_key_digests, snp.author_key_digests");
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
    cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, &s, s.cred.secret, sizeof s.cred.secret,
                                 &r.res);
    expect_policy(&r.res, svsm_pcr_pinned, "", NULL, NULL);
    cvma_vtpm_svsm_session_cleanup(&s);
    run_done(&r);

    /* azure-snp: the runtime claims the report vouches for hold the AK */
    size_t cl = tu_azure_claims(ak, TU_AZURE_UD0, claims, sizeof claims, rd);
    sim(&r, rd, 0);
    make_hcl(&r.rep, claims, cl, &hcl);
    r.vo.collateral_parts = parts + 2;
    r.vo.n_collateral_parts = 3;
    r.vo.has_nonce = true;
    memcpy(r.vo.nonce, nonce, sizeof nonce);
    r.vo.nonce_len = sizeof nonce;
    for (int pin = 0; pin < 5; pin++) {
        cvma_result_cleanup(&r.res);
        cvma_result_init(&r.res, "azure-snp", r.vo.at);
        cvma_azure_verify(hcl.p, hcl.len, &r.vo, false, &r.res);
        assert_false(cvma_verdict_has_error(&r.res.verdict));
        if (pin == 0) {
            /* nothing pinned: the report is at VMPL 0, as any SEV-SNP guest without a
             * paravisor makes one with the runtime claims (and the AK) of its choosing */
            expect_policy(&r.res,
                          "{\"allowed_tees\": [\"azure-snp\"], \"tpm\": {\"pcrs\": {\"sha256\": "
                          "{\"0\": \"" Z64 "\"}}}}",
                          "POLICY_TPM_AK", "tpm.pcrs: the quote's AK", "is at VMPL 0");
        } else if (pin == 1) {
            /* the paravisor's launch pinned: the report vouches for the AK */
            expect_policy(&r.res,
                          "{\"allowed_tees\": [\"azure-snp\"], \"snp\": {\"measurements\": [\"" N96
                          "\", \"" M96 "\"]}, \"tpm\": {\"pcrs\": {\"sha256\": {\"0\": \"" Z64
                          "\"}}}}",
                          "", NULL, NULL);
        } else if (pin == 2) {
            /* another launch pinned: refused by that rule; the pin is there, so the PCR
             * rule is appraised (and holds) */
            expect_policy(&r.res,
                          "{\"allowed_tees\": [\"azure-snp\"], \"snp\": {\"measurements\": \"" N96
                          "\"}, \"tpm\": {\"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}}",
                          "POLICY_MEASUREMENT", NULL, NULL);
        } else if (pin == 3) {
            /* the AK pinned instead: it vouches for the AK by itself */
            snprintf(pol, sizeof pol,
                     "{\"allowed_tees\": [\"azure-snp\"], \"tpm\": {\"ak_spki_sha256\": \"%s\", "
                     "\"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}}",
                     spki);
            expect_policy(&r.res, pol, "", NULL, NULL);
        } else {
            expect_policy(&r.res,
                          "{\"allowed_tees\": [\"azure-snp\"], \"snp\": {\"measurements\": \"" M96
                          "\"}, \"tpm\": {\"ak_spki_sha256\": \"" O64
                          "\", \"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}}",
                          "POLICY_TPM_AK", "tpm.ak_spki_sha256: the quote's AK has", spki);
        }
    }
    /* the azure section reads runtime claims only the paravisor vouches for: the same */
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "azure-snp", r.vo.at);
    cvma_azure_verify(hcl.p, hcl.len, &r.vo, false, &r.res);
    expect_policy(&r.res, "{\"allowed_tees\": [\"azure-snp\"], \"azure\": {\"secure_boot\": true}}",
                  "POLICY_TPM_AK", "azure: the quote's AK", "is at VMPL 0");
    cvma_result_cleanup(&r.res);
    cvma_result_init(&r.res, "azure-snp", r.vo.at);
    cvma_azure_verify(hcl.p, hcl.len, &r.vo, false, &r.res);
    expect_policy(&r.res,
                  "{\"allowed_tees\": [\"azure-snp\"], \"snp\": {\"measurements\": \"" M96
                  "\"}, \"azure\": {\"secure_boot\": true}}",
                  "POLICY_CLAIM_MISSING", NULL, NULL);
    cvma_buf_free(&hcl);
    run_done(&r);

    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
}

/* tpm.ak_spki_sha256 pins the AK by the whole digest: a pin that differs from the quote's AK
 * in its first or its last byte alone is another key (POLICY_TPM_AK); the digest itself
 * passes. */
static void test_vtpm_ak_pin_is_the_whole_digest(void **state)
{
    uint8_t nonce[32], akb[1024];
    char spki[65], pin[65], pol[256];
    size_t akl = 0;
    struct cvma_buf msg = {0}, sig = {0};
    struct cvma_tpm_quote_in in;
    struct cvma_result res;
    (void)state;

    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    spki_hex(ak, spki);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);
    quote_in(&in, &msg, &sig, akb, akl, nonce);
    static const int digits[] = {-1, 0, 63}; /* none, the first byte's, the last byte's */
    for (size_t i = 0; i < sizeof digits / sizeof digits[0]; i++) {
        int at = digits[i];
        memcpy(pin, spki, sizeof pin);
        if (at >= 0) {
            pin[at] = pin[at] == '0' ? '1' : '0';
        }
        snprintf(pol, sizeof pol, "{\"tpm\": {\"ak_spki_sha256\": \"%s\"}}", pin);
        tpm_result(&in, "test", &res);
        expect_policy(&res, pol, at < 0 ? "" : "POLICY_TPM_AK", at < 0 ? NULL : spki, NULL);
        cvma_result_cleanup(&res);
    }
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
}

/*
 * The azure section on runtime claims the hardware report vouches for (the paravisor's launch
 * pinned): each flag is read from its own claim and compared with the rule, a flag the claims
 * do not hold is POLICY_CLAIM_MISSING (never taken as false), and vm_unique_ids lists the
 * vmUniqueId (compared without regard to case, as a GUID is).
 */
static void test_vtpm_azure_runtime_claim_rules(void **state)
{
    uint8_t akb[1024], rd[64];
    char own[1024], claims[1400], pol[512];
    size_t akl = 0;
    struct cvma_buf msg = {0}, sig = {0}, hcl = {0};
    struct cvma_named_part parts[3];
    struct run r;
    (void)state;

    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    tu_azure_claims(ak, TU_AZURE_UD0, own, sizeof own, rd);
    snprintf(claims, sizeof claims,
             "{\"vm-configuration\": {\"secure-boot\": false, \"tpm-enabled\": true, "
             "\"vmUniqueId\": \"7DF7B373-B947-4AAA-96E5-C358F2A03D20\"}, %s",
             own + 1);
    azure_evidence(&r, ak, claims, &hcl, &msg, &sig, parts);
    const struct {
        const char *rules, *want;
    } cases[] = {
            {"\"secure_boot\": false, \"tpm_enabled\": true, \"vm_unique_ids\": "
             "[\"00000000-0000-0000-0000-000000000000\", \"7df7b373-b947-4aaa-96e5-c358f2a03d20\"]",
             ""},
            {"\"secure_boot\": true", "POLICY_AZURE_RUNTIME_CLAIMS"},
            {"\"tpm_enabled\": false", "POLICY_AZURE_RUNTIME_CLAIMS"},
            {"\"console_enabled\": false", "POLICY_CLAIM_MISSING"},
            {"\"vm_unique_ids\": [\"7df7b373-b947-4aaa-96e5-c358f2a03d21\"]",
             "POLICY_AZURE_RUNTIME_CLAIMS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(pol, sizeof pol,
                 "{\"allowed_tees\": [\"azure-snp\"], \"snp\": {\"measurements\": \"" M96
                 "\"}, \"azure\": {%s}}",
                 cases[i].rules);
        cvma_result_cleanup(&r.res);
        cvma_result_init(&r.res, "azure-snp", r.vo.at);
        cvma_azure_verify(hcl.p, hcl.len, &r.vo, false, &r.res);
        assert_false(cvma_verdict_has_error(&r.res.verdict));
        expect_policy(&r.res, pol, cases[i].want, NULL, NULL);
    }
    cvma_buf_free(&hcl);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
    run_done(&r);
}

#define M96_5A                                                                                     \
    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a" \
    "5a5a"

/*
 * azure-tdx: a TD whose TCB status is refused by default (OutOfDate: known advisories) and
 * accepted by the policy's tdx.accepted_tcb_statuses vouches for no AK, as a debug guest
 * under allow_debug does: no attested key, and the policy's tpm.pcrs rule fails with
 * POLICY_TPM_AK. (Only a waived debug error counted: the PCRs were appraised on that AK and
 * the result was affirming.) The same TD UpToDate under the same policy is attested.
 */
static void test_vtpm_azure_tdx_tcb_status_accepted_by_policy_attests_no_ak(void **state)
{
    static const char policy_pcrs[] =
            "{\"allowed_tees\": [\"azure-tdx\"], \"tdx\": {\"accepted_tcb_statuses\": "
            "[\"UpToDate\", \"OutOfDate\"], \"mr_td\": \"" M96_5A "\"}, \"tpm\": {\"pcrs\": "
            "{\"sha256\": {\"0\": \"" Z64 "\"}}}}";
    uint8_t nonce[32], akb[1024], rd[64], tdreport[CVMA_AZURE_HW_REPORT_LEN] = {0};
    char claims[1024], err[256];
    size_t akl = 0;
    struct cvma_buf msg = {0}, sig = {0}, q = {0}, root_pem = {0}, hcl = {0};
    struct cvma_sim_tdx_opts to;
    struct cvma_verify_opts vo;
    struct cvma_result res;
    struct cvma_policy *pp = NULL;
    X509 *root;
    (void)state;

    assert_int_equal(cvma_policy_load_bytes((const uint8_t *)policy_pcrs, strlen(policy_pcrs), &pp,
                                            err, sizeof err),
                     CVMA_OK);
    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);
    size_t cl = tu_azure_claims(ak, TU_AZURE_UD0, claims, sizeof claims, rd);
    for (int outofdate = 1; outofdate >= 0; outofdate--) {
        char *dir = tu_tmpdir(), *qp = tu_path(dir, "quote.bin");
        char *rp = tu_path(dir, "root_ca.pem");
        cvma_sim_tdx_opts_default(&to);
        to.tcb_status = outofdate ? CVMA_SIM_TDX_TCB_OUTOFDATE : CVMA_SIM_TDX_TCB_UPTODATE;
        memcpy(to.report_data, rd, 64);
        to.has_mr_td = true;
        memset(to.mr_td, 0x5a, sizeof to.mr_td);
        if (cvma_sim_tdx_write(&to, dir, err, sizeof err) != CVMA_OK) {
            fail_msg("sim tdx: %s", err);
        }
        tu_read(qp, &q);
        tu_read(rp, &root_pem);
        assert_non_null(root = cvma_x509_load(root_pem.p, root_pem.len));
        /* The TDREPORT in the HCL report: the TD quote's MRTD and REPORT_DATA. */
        tdreport[0] = 0x81;
        memcpy(tdreport + 128, rd, 64);
        memcpy(tdreport + 528, to.mr_td, 48);
        size_t cap = CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN +
                     CVMA_AZURE_RUNTIME_HDR_LEN + cl;
        assert_non_null(hcl.p = malloc(cap));
        hcl.len = tu_azure_hcl(hcl.p, cap, tdreport, CVMA_AZURE_REPORT_TYPE_TDX, claims, cl, 0);
        assert_int_equal(hcl.len, cap);
        /* Trustee's JSON form, the one that carries a TD quote. */
        char *hcl64 = cvma_base64_encode(hcl.p, hcl.len, CVMA_B64_URL);
        char *q64 = cvma_base64_encode(q.p, q.len, CVMA_B64_URL);
        char *mhex = malloc(2 * msg.len + 1), *shex = malloc(2 * sig.len + 1);
        assert_true(hcl64 != NULL && q64 != NULL && mhex != NULL && shex != NULL);
        cvma_hex_encode(msg.p, msg.len, mhex, 2 * msg.len + 1);
        cvma_hex_encode(sig.p, sig.len, shex, 2 * sig.len + 1);
        json_t *ev = json_pack("{s:i, s:s, s:{s:s, s:s, s:[s]}, s:s}", "version", 1, "hcl_report",
                               hcl64, "tpm_quote", "message", mhex, "signature", shex, "pcrs", Z64,
                               "td_quote", q64);
        char *evs = json_dumps(ev, JSON_COMPACT);
        assert_non_null(evs);
        json_decref(ev);
        free(hcl64);
        free(q64);
        free(mhex);
        free(shex);
        memset(&vo, 0, sizeof vo);
        vo.at = time(NULL);
        vo.collateral_dir = dir;
        vo.cache_dir = dir;
        vo.offline = true;
        vo.trust_roots = &root;
        vo.n_trust_roots = 1;
        vo.has_nonce = true;
        memcpy(vo.nonce, nonce, sizeof nonce);
        vo.nonce_len = sizeof nonce;
        cvma_result_init(&res, "azure-tdx", vo.at);
        cvma_azure_verify((const uint8_t *)evs, strlen(evs), &vo, true, &res);
        assert_true(cvma_verdict_has(&res.verdict, CVMA_R_TDX_TCB_OUT_OF_DATE) == outofdate);
        cvma_policy_appraise(pp, &res);
        cvma_result_finish(&res);
        if (outofdate) {
            assert_true(cvma_verdict_has(&res.verdict, CVMA_R_POLICY_TPM_AK));
            TU_ASSERT_DETAIL(&res.verdict, CVMA_R_POLICY_TPM_AK, "vouches for no AK");
            assert_int_equal(res.status, CVMA_CONTRAINDICATED);
            assert_null(cvma_tpm_attested_key(&res));
        } else {
            assert_false(cvma_verdict_has_error(&res.verdict));
            assert_int_equal(res.status, CVMA_AFFIRMING);
            expect_attested(&res, "azure", ak);
        }
        cvma_result_cleanup(&res);
        free(evs);
        cvma_buf_free(&hcl);
        cvma_buf_free(&q);
        cvma_buf_free(&root_pem);
        X509_free(root);
        tu_rmtree(dir);
        free(dir);
        free(qp);
        free(rp);
    }
    cvma_policy_free(pp);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
}

/*
 * Verifies azure-tdx evidence (Trustee's JSON) into res: runtime claims naming ak, in an HCL
 * report whose TDREPORT has their hash as REPORTDATA and MRTD tr_mrtd (48 bytes of that
 * byte), and a simulated TD quote (UpToDate) whose REPORTDATA is q_rd (NULL: the claims' hash)
 * and MRTD q_mrtd. The vTPM quote is ak's over PCR 0 = zeros and a fresh nonce.
 */
static void azure_tdx_verify(EVP_PKEY *ak, const uint8_t *q_rd, uint8_t q_mrtd, uint8_t tr_mrtd,
                             struct cvma_result *res)
{
    uint8_t nonce[32], rd[64], tdreport[CVMA_AZURE_HW_REPORT_LEN] = {0};
    char claims[1024], err[256];
    struct cvma_buf msg = {0}, sig = {0}, q = {0}, root_pem = {0}, hcl = {0};
    struct cvma_sim_tdx_opts to;
    struct cvma_verify_opts vo;
    X509 *root;
    char *dir = tu_tmpdir(), *qp = tu_path(dir, "quote.bin"), *rp = tu_path(dir, "root_ca.pem");

    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);
    size_t cl = tu_azure_claims(ak, TU_AZURE_UD0, claims, sizeof claims, rd);
    cvma_sim_tdx_opts_default(&to);
    memcpy(to.report_data, q_rd != NULL ? q_rd : rd, 64);
    to.has_mr_td = true;
    memset(to.mr_td, q_mrtd, sizeof to.mr_td);
    if (cvma_sim_tdx_write(&to, dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim tdx: %s", err);
    }
    tu_read(qp, &q);
    tu_read(rp, &root_pem);
    assert_non_null(root = cvma_x509_load(root_pem.p, root_pem.len));
    tdreport[0] = 0x81;
    memcpy(tdreport + 128, rd, 64);
    memset(tdreport + 528, tr_mrtd, 48);
    size_t cap =
            CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN + CVMA_AZURE_RUNTIME_HDR_LEN + cl;
    assert_non_null(hcl.p = malloc(cap));
    hcl.len = tu_azure_hcl(hcl.p, cap, tdreport, CVMA_AZURE_REPORT_TYPE_TDX, claims, cl, 0);
    assert_int_equal(hcl.len, cap);
    char *hcl64 = cvma_base64_encode(hcl.p, hcl.len, CVMA_B64_URL);
    char *q64 = cvma_base64_encode(q.p, q.len, CVMA_B64_URL);
    char *mhex = malloc(2 * msg.len + 1), *shex = malloc(2 * sig.len + 1);
    assert_true(hcl64 != NULL && q64 != NULL && mhex != NULL && shex != NULL);
    cvma_hex_encode(msg.p, msg.len, mhex, 2 * msg.len + 1);
    cvma_hex_encode(sig.p, sig.len, shex, 2 * sig.len + 1);
    json_t *ev = json_pack("{s:i, s:s, s:{s:s, s:s, s:[s]}, s:s}", "version", 1, "hcl_report",
                           hcl64, "tpm_quote", "message", mhex, "signature", shex, "pcrs", Z64,
                           "td_quote", q64);
    char *evs = json_dumps(ev, JSON_COMPACT);
    assert_non_null(evs);
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.collateral_dir = dir;
    vo.cache_dir = dir;
    vo.offline = true;
    vo.trust_roots = &root;
    vo.n_trust_roots = 1;
    vo.has_nonce = true;
    memcpy(vo.nonce, nonce, sizeof nonce);
    vo.nonce_len = sizeof nonce;
    cvma_result_init(res, "azure-tdx", vo.at);
    cvma_azure_verify((const uint8_t *)evs, strlen(evs), &vo, true, res);
    free(evs);
    json_decref(ev);
    free(hcl64);
    free(q64);
    free(mhex);
    free(shex);
    cvma_buf_free(&hcl);
    cvma_buf_free(&q);
    cvma_buf_free(&root_pem);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    X509_free(root);
    tu_rmtree(dir);
    free(dir);
    free(qp);
    free(rp);
}

/*
 * azure-tdx: the TDREPORT in the HCL report is MAC-ed, not signed, so anyone can write one;
 * only the TD quote verifies. Runtime claims (and the AK in them) are bound only when the
 * quote's TD report has the TDREPORT's REPORTDATA and its MRTD: a genuine quote of the
 * paravisor's TD beside a TDREPORT over other claims (another AK), or a quote of another TD,
 * is AZURE_TD_QUOTE_MISMATCH (contraindicated), even under a policy pinning the MRTD the
 * TDREPORT names.
 */
static void test_vtpm_azure_tdx_td_quote_must_be_the_tdreports(void **state)
{
    static const char policy[] =
            "{\"allowed_tees\": [\"azure-tdx\"], \"tdx\": {\"mr_td\": \"" M96_5A
            "\"}, \"tpm\": {\"pcrs\": {\"sha256\": {\"0\": \"" Z64 "\"}}}}";
    uint8_t akb[1024], other_rd[64];
    char other_claims[1024];
    size_t akl = 0;
    struct cvma_result res;
    struct cvma_policy *pp = NULL;
    char err[256];
    (void)state;

    assert_int_equal(
            cvma_policy_load_bytes((const uint8_t *)policy, strlen(policy), &pp, err, sizeof err),
            CVMA_OK);
    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    EVP_PKEY *k2 = EVP_RSA_gen(2048);
    assert_non_null(k2);
    /* the paravisor's own claims, naming its AK (k2): what its genuine quote vouches for */
    tu_azure_claims(k2, TU_AZURE_UD0, other_claims, sizeof other_claims, other_rd);

    /* the TD quote is the TDREPORT's: bound, the AK attested */
    azure_tdx_verify(ak, NULL, 0x5a, 0x5a, &res);
    cvma_policy_appraise(pp, &res);
    cvma_result_finish(&res);
    assert_false(cvma_verdict_has_error(&res.verdict));
    expect_attested(&res, "azure", ak);
    cvma_result_cleanup(&res);

    /* the paravisor TD's quote over its own claims, beside a TDREPORT over ak's claims */
    azure_tdx_verify(ak, other_rd, 0x5a, 0x5a, &res);
    cvma_policy_appraise(pp, &res);
    cvma_result_finish(&res);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_AZURE_TD_QUOTE_MISMATCH));
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    cvma_result_cleanup(&res);

    /* a quote of another TD with the REPORTDATA of ak's claims, the TDREPORT naming the MRTD
     * the policy pins */
    azure_tdx_verify(ak, NULL, 0x5b, 0x5a, &res);
    cvma_policy_appraise(pp, &res);
    cvma_result_finish(&res);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_AZURE_TD_QUOTE_MISMATCH));
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    cvma_result_cleanup(&res);

    cvma_policy_free(pp);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(ak);
}

/* One rule for the kinds that bind a vTPM to hardware: a report refused for what it says
 * before any policy (here a debug guest, whose memory and so the AK's key the host can read)
 * vouches for no AK, even when the policy accepts the guest (snp.allow_debug): the result may
 * be a warning, the quote's claims and AK are shown, but the AK is no attested key (no cnf).
 * Azure (the AK from the runtime claims) and svsm-vtpm (after a successful activation) alike;
 * the same guest without debug under the same policy is attested. */
static void test_vtpm_debug_guest_accepted_by_policy_attests_no_ak(void **state)
{
    static const char policy_azure[] =
            "{\"allowed_tees\": [\"azure-snp\"], \"snp\": {\"allow_debug\": true}}";
    static const char policy_svsm[] =
            "{\"allowed_tees\": [\"svsm-vtpm\"], \"snp\": {\"allow_debug\": true}}";
    static const char policy_pcrs[] =
            "{\"allowed_tees\": [\"azure-snp\"], \"snp\": {\"allow_debug\": true, "
            "\"measurements\": \"" M96 "\"}, \"tpm\": {\"pcrs\": {\"sha256\": {\"0\": \"" Z64
            "\"}}}}";
    uint8_t nonce[32], akb[1024], man[1024], rd[64], pad[64] = {0};
    char claims[1024], err[256];
    size_t akl = 0;
    struct cvma_buf msg = {0}, sig = {0}, hcl = {0};
    struct cvma_named_part parts[5];
    struct cvma_vtpm_svsm_session s;
    struct cvma_policy *pa = NULL, *ps = NULL, *pp = NULL;
    TPMT_PUBLIC ek;
    struct run r;
    (void)state;

    assert_int_equal(cvma_policy_load_bytes((const uint8_t *)policy_azure, strlen(policy_azure),
                                            &pa, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_policy_load_bytes((const uint8_t *)policy_svsm, strlen(policy_svsm), &ps,
                                            err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_policy_load_bytes((const uint8_t *)policy_pcrs, strlen(policy_pcrs), &pp,
                                            err, sizeof err),
                     CVMA_OK);
    assert_int_equal(RAND_bytes(nonce, sizeof nonce), 1);
    EVP_PKEY *ak = make_ak(akb, sizeof akb, &akl);
    tu_tpm_quote(ak, nonce, sizeof nonce, NULL, true, &msg, &sig);
    parts[0] = (struct cvma_named_part){"tpm_quote", {msg.p, msg.len}, false};
    parts[1] = (struct cvma_named_part){"tpm_signature", {sig.p, sig.len}, false};
    parts[2] = (struct cvma_named_part){"tpm_pcrs", {(const uint8_t *)PCRS0, strlen(PCRS0)}, false};

    /* azure-snp */
    size_t cl = tu_azure_claims(ak, TU_AZURE_UD0, claims, sizeof claims, rd);
    for (int debug = 1; debug >= 0; debug--) {
        sim_snp(&r, rd, 0, debug != 0);
        make_hcl(&r.rep, claims, cl, &hcl);
        r.vo.collateral_parts = parts;
        r.vo.n_collateral_parts = 3;
        r.vo.has_nonce = true;
        memcpy(r.vo.nonce, nonce, sizeof nonce);
        r.vo.nonce_len = sizeof nonce;
        cvma_result_cleanup(&r.res);
        cvma_result_init(&r.res, "azure-snp", r.vo.at);
        cvma_azure_verify(hcl.p, hcl.len, &r.vo, false, &r.res);
        cvma_policy_appraise(pa, &r.res);
        cvma_result_finish(&r.res);
        assert_int_equal(r.res.status, debug ? CVMA_WARNING : CVMA_AFFIRMING);
        assert_false(cvma_verdict_has_error(&r.res.verdict));
        assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_DEBUG_ALLOWED) == debug);
        if (debug) {
            json_t *shown = claims_ak_jwk(&r.res, "azure");
            assert_non_null(shown); /* the quote verified with it, and says so */
            json_decref(shown);
            assert_null(cvma_tpm_attested_key(&r.res));
        } else {
            expect_attested(&r.res, "azure", ak);
        }
        /* a rule on the quote's PCRs: a debug guest's AK vouches for nothing (POLICY_TPM_AK) */
        cvma_result_cleanup(&r.res);
        cvma_result_init(&r.res, "azure-snp", r.vo.at);
        cvma_azure_verify(hcl.p, hcl.len, &r.vo, false, &r.res);
        cvma_policy_appraise(pp, &r.res);
        cvma_result_finish(&r.res);
        assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_POLICY_TPM_AK) == debug);
        assert_int_equal(r.res.status, debug ? CVMA_CONTRAINDICATED : CVMA_AFFIRMING);
        cvma_buf_free(&hcl);
        run_done(&r);
    }

    /* svsm-vtpm, two steps, the credential's secret returned */
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    memcpy(pad, nonce, sizeof nonce);
    sha512_2(pad, 64, man, ml, rd);
    parts[3] = (struct cvma_named_part){"svsm_manifest", {man, ml}, false};
    parts[4] = (struct cvma_named_part){"tpm_ak", {akb, akl}, false};
    for (int debug = 1; debug >= 0; debug--) {
        sim_snp(&r, rd, 0, debug != 0);
        with_parts(&r, parts, nonce, sizeof nonce);
        assert_int_equal(cvma_vtpm_svsm_challenge(&r.vo, &s, err, sizeof err), CVMA_OK);
        cvma_result_cleanup(&r.res);
        cvma_result_init(&r.res, "svsm-vtpm", r.vo.at);
        cvma_vtpm_svsm_bundle_verify(r.rep.p, r.rep.len, &r.vo, &s, s.cred.secret,
                                     sizeof s.cred.secret, &r.res);
        cvma_policy_appraise(ps, &r.res);
        cvma_result_finish(&r.res);
        assert_false(cvma_verdict_has_error(&r.res.verdict));
        if (debug) {
            assert_int_equal(r.res.status, CVMA_WARNING);
            assert_true(cvma_verdict_has(&r.res.verdict, CVMA_R_SNP_DEBUG_ALLOWED));
            assert_null(cvma_tpm_attested_key(&r.res));
        } else {
            assert_int_equal(r.res.status, CVMA_AFFIRMING);
            expect_attested(&r.res, "svsm_vtpm", ak);
        }
        cvma_vtpm_svsm_session_cleanup(&s);
        run_done(&r);
    }

    cvma_policy_free(pa);
    cvma_policy_free(pp);
    cvma_policy_free(ps);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    EVP_PKEY_free(ak);
}

/*
 * An empty collateral part (here: of an SVSM bundle) is missing collateral: the next name is
 * read in its place (vcek.pem after vcek.der, cert_chain.pem after ask.pem) and the empty
 * part's buffer is not leaked (found by fuzz/fuzz_vtpm_svsm.c; the leak shows under
 * LeakSanitizer, in the sanitizer builds).
 */
static void test_vtpm_svsm_empty_collateral_parts_are_missing(void **state)
{
    uint8_t nonce[64], man[1024], rd[64];
    TPMT_PUBLIC ek;
    struct cvma_buf vcek, ask, ark, chain = {0};
    struct cvma_named_part parts[4];
    struct run r;
    (void)state;
    memset(nonce, 7, sizeof nonce);
    size_t ml = make_ek(man, sizeof man, EK_ATTRS, &ek);
    sha512_2(nonce, 64, man, ml, rd);
    sim(&r, rd, 0);
    char *vp = tu_path(r.dir, "vcek.der"), *sp = tu_path(r.dir, "ask.pem"),
         *ap = tu_path(r.dir, "ark.pem");
    tu_read(vp, &vcek);
    tu_read(sp, &ask);
    tu_read(ap, &ark);
    chain.p = malloc(ask.len + ark.len);
    assert_non_null(chain.p);
    memcpy(chain.p, ask.p, ask.len);
    memcpy(chain.p + ask.len, ark.p, ark.len);
    chain.len = ask.len + ark.len;
    parts[0] = (struct cvma_named_part){"vcek.der", {(const uint8_t *)"", 0}, false};
    parts[1] = (struct cvma_named_part){"vcek.pem", {vcek.p, vcek.len}, false};
    parts[2] = (struct cvma_named_part){"ask.pem", {(const uint8_t *)"", 0}, false};
    parts[3] = (struct cvma_named_part){"cert_chain.pem", {chain.p, chain.len}, false};
    r.vo.collateral_parts = parts;
    r.vo.n_collateral_parts = 4;
    assert_true(cvma_vtpm_svsm_verify(r.rep.p, r.rep.len, nonce, man, ml, &r.vo, &r.res, NULL));
    cvma_result_finish(&r.res);
    assert_false(cvma_verdict_has_error(&r.res.verdict));
    assert_true(r.res.claims.verified);
    cvma_buf_free(&vcek);
    cvma_buf_free(&ask);
    cvma_buf_free(&ark);
    cvma_buf_free(&chain);
    free(vp);
    free(sp);
    free(ap);
    run_done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vtpm_svsm_binding_verifies_and_yields_the_ek),
            cmocka_unit_test(test_vtpm_svsm_binding_refusals),
            cmocka_unit_test(test_vtpm_weak_binding_is_named_weaker),
            cmocka_unit_test(test_vtpm_binding_of_a_refused_report_is_refused),
            cmocka_unit_test(
                    test_vtpm_svsm_binding_refused_from_the_report_bytes_without_collateral),
            cmocka_unit_test(
                    test_vtpm_weak_binding_refused_from_the_report_bytes_without_collateral),
            cmocka_unit_test(test_vtpm_credential_two_steps),
            cmocka_unit_test(test_vtpm_svsm_kind_two_steps),
            cmocka_unit_test(test_vtpm_svsm_kind_unnamed_keys_named_apart),
            cmocka_unit_test(test_vtpm_attested_key_is_the_verified_ak_per_kind),
            cmocka_unit_test(test_vtpm_debug_guest_accepted_by_policy_attests_no_ak),
            cmocka_unit_test(test_vtpm_azure_tdx_tcb_status_accepted_by_policy_attests_no_ak),
            cmocka_unit_test(test_vtpm_azure_tdx_td_quote_must_be_the_tdreports),
            cmocka_unit_test(test_vtpm_policy_pcrs_need_an_ak_something_vouches_for),
            cmocka_unit_test(test_vtpm_azure_runtime_claim_rules),
            cmocka_unit_test(test_azure_runtime_claims_too_deep),
            cmocka_unit_test(test_azure_hcl_report_above_vmpl0_refused),
            cmocka_unit_test(test_azure_hcl_unsigned_header_and_padding_checked),
            cmocka_unit_test(test_azure_two_hcl_ak_pub_keys_refused),
            cmocka_unit_test(test_vtpm_report_data_binds_in_every_byte),
            cmocka_unit_test(test_vtpm_ak_pin_is_the_whole_digest),
            cmocka_unit_test(test_vtpm_svsm_empty_collateral_parts_are_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
