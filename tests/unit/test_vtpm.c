/*
 * Binding a vTPM to the hardware (src/vtpm) on simulated SEV-SNP reports: the Coconut SVSM
 * form (VMPL 0, REPORT_DATA = SHA-512(nonce || EK TPMT_PUBLIC)) and each of its refusals; the
 * weaker form (REPORT_DATA = SHA-512(nonce || AK)) named as weaker; the credential's two steps.
 * The activation round trip on a real TPM is tests/e2e/vtpm_credential.sh.
 */
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "crypto/crypto.h"
#include "sim/sim_snp.h"
#include "testutil.h"
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
static void sim(struct run *r, const uint8_t report_data[64], uint32_t vmpl)
{
    struct cvma_sim_snp_opts o;
    struct cvma_buf root;
    char err[256];
    cvma_sim_snp_opts_default(&o);
    memcpy(o.report_data, report_data, 64);
    o.vmpl = vmpl;
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
    /* Only the RSA template L-1. */
    ek.type = TPM2_ALG_ECC;
    assert_int_equal(cvma_tpm_make_credential(&ek, &name, &c), CVMA_E_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vtpm_svsm_binding_verifies_and_yields_the_ek),
            cmocka_unit_test(test_vtpm_svsm_binding_refusals),
            cmocka_unit_test(test_vtpm_weak_binding_is_named_weaker),
            cmocka_unit_test(test_vtpm_credential_two_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
