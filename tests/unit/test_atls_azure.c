/*
 * Attested TLS with azure-snp evidence (docs/atls.md, docs/azure.md): the hardware REPORT_DATA
 * is the hash of the runtime claims, and the session's binding is their user-data. Evidence
 * made for a session (a simulated SEV-SNP report in an HCL report, a vTPM quote by the AK the
 * runtime claims name over the binding's first 32 bytes, as a bundle) is accepted on that
 * session, and refused on another (ATLS_EVIDENCE_NOT_BOUND, and the verifier's
 * NONCE_REPORT_DATA_MISMATCH), or when only the quote is over something else
 * (TPM_NONCE_MISMATCH), or when the runtime claims' user-data is not 64 bytes (the verifier's
 * AZURE_RUNTIME_CLAIMS_MALFORMED); the same in the certificate-bound mode. A bare TPM quote, and
 * svsm-vtpm evidence (the SVSM's REPORT_DATA binds its own nonce and manifest), with the quote
 * over the binding, are refused in both modes (no REPORT_DATA of theirs carries the binding).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "azure/azure.h"
#include "common/base64.h"
#include "common/hex.h"
#include "cvmattest/atls.h"
#include "sim/sim_snp.h"
#include "testutil.h"
#include "tu_api.h"
#include "tu_azure.h"
#include "tu_tls.h"
#include "tu_tpm.h"

/* An RSA-2048 AK in software (the runtime claims' HCLAkPub). */
static EVP_PKEY *make_ak(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    assert_non_null(k);
    return k;
}

static const char PCRS0[] =
        "{\"sha256\": {\"0\": "
        "\"0000000000000000000000000000000000000000000000000000000000000000\"}}";

/* Appends {"role": role, "data": base64(p)} (a comma before all but the first) to out. */
static void add_part(char *out, size_t cap, const char *role, const uint8_t *p, size_t len)
{
    char *b64 = cvma_base64_encode(p, len, CVMA_B64_STD);
    size_t used = strlen(out);
    assert_non_null(b64);
    int n = snprintf(out + used, cap - used, "%s{\"role\": \"%s\", \"data\": \"%s\"}",
                     used > 0 && out[used - 1] == '}' ? ", " : "", role, b64);
    assert_true(n > 0 && (size_t)n < cap - used);
    free(b64);
}

/*
 * azure-snp evidence whose runtime claims name ak and carry the user-data ud (text, meant to be
 * hex): an SEV-SNP report of
 * the simulator (written into dir, with its VCEK and ARK) whose REPORT_DATA is their hash, in
 * an HCL report, and a quote by ak over quote_nonce: a bundle, malloc'd into *out.
 */
static size_t azure_evidence_ud(const char *dir, EVP_PKEY *ak, const char *ud,
                                const uint8_t *quote_nonce, size_t quote_nonce_len, char **out)
{
    struct cvma_sim_snp_opts so;
    struct cvma_buf rep = {0}, msg = {0}, sig = {0};
    uint8_t *hcl = NULL;
    char claims[2048], err[256];

    cvma_sim_snp_opts_default(&so);
    so.keep_keys = true;
    so.has_measurement = true; /* the paravisor's launch, which the verifier's policy pins */
    memset(so.measurement, 0x4d, sizeof so.measurement);
    size_t cl = tu_azure_claims(ak, ud, claims, sizeof claims, so.report_data);
    if (cvma_sim_snp_write(&so, dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim: %s", err);
    }
    char *rp = tu_path(dir, "report.bin");
    tu_read(rp, &rep);
    free(rp);
    size_t cap =
            CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN + CVMA_AZURE_RUNTIME_HDR_LEN + cl;
    assert_int_equal(rep.len, CVMA_AZURE_HW_REPORT_LEN);
    assert_non_null(hcl = malloc(cap));
    assert_int_equal(tu_azure_hcl(hcl, cap, rep.p, CVMA_AZURE_REPORT_TYPE_SNP, claims, cl, 0), cap);
    tu_tpm_quote(ak, quote_nonce, quote_nonce_len, NULL, true, &msg, &sig);

    size_t bcap = 4 * (cap + msg.len + sig.len + sizeof PCRS0) + 1024;
    char *parts = calloc(1, bcap), *b = malloc(bcap + 128);
    assert_non_null(parts);
    assert_non_null(b);
    add_part(parts, bcap, "evidence", hcl, cap);
    add_part(parts, bcap, "tpm_quote", msg.p, msg.len);
    add_part(parts, bcap, "tpm_signature", sig.p, sig.len);
    add_part(parts, bcap, "tpm_pcrs", (const uint8_t *)PCRS0, strlen(PCRS0));
    int bl = snprintf(b, bcap + 128,
                      "{\"cvmattest_bundle\": 1, \"kind\": \"azure-snp\", \"parts\": [%s]}", parts);
    assert_true(bl > 0 && (size_t)bl < bcap + 128);
    free(parts);
    free(hcl);
    cvma_buf_free(&rep);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    *out = b;
    return (size_t)bl;
}

/* azure_evidence_ud with the user-data user_data (64 bytes, written as hex). */
static size_t azure_evidence(const char *dir, EVP_PKEY *ak, const uint8_t user_data[64],
                             const uint8_t *quote_nonce, size_t quote_nonce_len, char **out)
{
    char ud[129];
    cvma_hex_encode(user_data, 64, ud, sizeof ud);
    return azure_evidence_ud(dir, ak, ud, quote_nonce, quote_nonce_len, out);
}

/* A bare TPM quote by ak over quote_nonce, as a "tpm" bundle (the AK as a PEM public key). */
static size_t tpm_evidence(EVP_PKEY *ak, const uint8_t *quote_nonce, size_t quote_nonce_len,
                           char **out)
{
    struct cvma_buf msg = {0}, sig = {0};
    unsigned char *pem = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PUBKEY(b, ak), 1);
    long pl = BIO_get_mem_data(b, &pem);
    assert_true(pl > 0);
    tu_tpm_quote(ak, quote_nonce, quote_nonce_len, NULL, true, &msg, &sig);
    size_t bcap = 4 * (msg.len + sig.len + (size_t)pl + sizeof PCRS0) + 1024;
    char *parts = calloc(1, bcap), *bundle = malloc(bcap + 128);
    assert_non_null(parts);
    assert_non_null(bundle);
    add_part(parts, bcap, "tpm_quote", msg.p, msg.len);
    add_part(parts, bcap, "tpm_signature", sig.p, sig.len);
    add_part(parts, bcap, "tpm_ak", pem, (size_t)pl);
    add_part(parts, bcap, "tpm_pcrs", (const uint8_t *)PCRS0, strlen(PCRS0));
    int bl = snprintf(bundle, bcap + 128,
                      "{\"cvmattest_bundle\": 1, \"kind\": \"tpm\", \"parts\": [%s]}", parts);
    assert_true(bl > 0 && (size_t)bl < bcap + 128);
    free(parts);
    BIO_free(b);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    *out = bundle;
    return (size_t)bl;
}

/* An EK's TPMT_PUBLIC (RSA-2048, the TCG template's attributes, a random modulus): the SVSM
 * vTPM manifest. Its length is returned. */
static size_t ek_manifest(uint8_t *out, size_t cap)
{
    TPMT_PUBLIC pub;
    size_t off = 0;
    memset(&pub, 0, sizeof pub);
    pub.type = TPM2_ALG_RSA;
    pub.nameAlg = TPM2_ALG_SHA256;
    pub.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                           TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
    pub.authPolicy.size = 32;
    pub.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    pub.parameters.rsaDetail.symmetric.keyBits.aes = 128;
    pub.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    pub.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    pub.parameters.rsaDetail.keyBits = 2048;
    pub.unique.rsa.size = 256;
    assert_int_equal(RAND_bytes(pub.unique.rsa.buffer, 256), 1);
    pub.unique.rsa.buffer[0] |= 0x80;
    pub.unique.rsa.buffer[255] |= 1;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, out, cap, &off), TSS2_RC_SUCCESS);
    return off;
}

/* ak's TPMT_PUBLIC (a restricted RSASSA-SHA256 signing key, as a TPM's AK): its length. */
static size_t ak_public(EVP_PKEY *ak, uint8_t *out, size_t cap)
{
    TPMT_PUBLIC pub;
    BIGNUM *n = NULL;
    size_t off = 0;
    memset(&pub, 0, sizeof pub);
    pub.type = TPM2_ALG_RSA;
    pub.nameAlg = TPM2_ALG_SHA256;
    pub.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                           TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
    pub.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    pub.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    pub.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    pub.parameters.rsaDetail.keyBits = 2048;
    pub.unique.rsa.size = 256;
    assert_int_equal(EVP_PKEY_get_bn_param(ak, "n", &n), 1);
    assert_int_equal(BN_bn2binpad(n, pub.unique.rsa.buffer, 256), 256);
    BN_free(n);
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, out, cap, &off), TSS2_RC_SUCCESS);
    return off;
}

/* Whether res has error reasons, each one of the two codes a and b. */
static bool errors_only(const struct cvma_result *res, const char *a, const char *b)
{
    size_t n = 0;
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        const char *c = cvma_result_reason_code(res, i);
        if (strcmp(cvma_result_reason_severity(res, i), "error") == 0) {
            if (strcmp(c, a) != 0 && strcmp(c, b) != 0) {
                return false;
            }
            n++;
        }
    }
    return n > 0;
}

/*
 * svsm-vtpm evidence (docs/vtpm-binding.md) made as well as a CVM could for this binding: the
 * SVSM's SEV-SNP report at VMPL 0 (written into dir, with its VCEK and ARK) whose REPORT_DATA
 * is SHA-512(quote_nonce zero-padded to 64 bytes || manifest), the manifest (an EK), and a
 * quote by ak over quote_nonce, as a bundle malloc'd into *out. Its REPORT_DATA is the SVSM's,
 * never the binding: there is no place for the binding in it.
 */
static size_t svsm_evidence(const char *dir, EVP_PKEY *ak, const uint8_t *quote_nonce,
                            size_t quote_nonce_len, char **out)
{
    struct cvma_sim_snp_opts so;
    struct cvma_buf rep = {0}, msg = {0}, sig = {0};
    uint8_t man[1024], akp[1024], pad[64] = {0};
    char err[256];
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    assert_non_null(md);
    assert_true(quote_nonce_len <= sizeof pad);
    size_t ml = ek_manifest(man, sizeof man), al = ak_public(ak, akp, sizeof akp);
    memcpy(pad, quote_nonce, quote_nonce_len);
    cvma_sim_snp_opts_default(&so);
    so.keep_keys = true;
    so.vmpl = 0;
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha512(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, pad, sizeof pad), 1);
    assert_int_equal(EVP_DigestUpdate(md, man, ml), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, so.report_data, NULL), 1);
    EVP_MD_CTX_free(md);
    if (cvma_sim_snp_write(&so, dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim: %s", err);
    }
    char *rp = tu_path(dir, "report.bin");
    tu_read(rp, &rep);
    free(rp);
    tu_tpm_quote(ak, quote_nonce, quote_nonce_len, NULL, true, &msg, &sig);

    size_t bcap = 4 * (rep.len + ml + msg.len + sig.len + al + sizeof PCRS0) + 1024;
    char *parts = calloc(1, bcap), *bundle = malloc(bcap + 128);
    assert_non_null(parts);
    assert_non_null(bundle);
    add_part(parts, bcap, "evidence", rep.p, rep.len);
    add_part(parts, bcap, "svsm_manifest", man, ml);
    add_part(parts, bcap, "tpm_quote", msg.p, msg.len);
    add_part(parts, bcap, "tpm_signature", sig.p, sig.len);
    add_part(parts, bcap, "tpm_ak", akp, al);
    add_part(parts, bcap, "tpm_pcrs", (const uint8_t *)PCRS0, strlen(PCRS0));
    int bl = snprintf(bundle, bcap + 128,
                      "{\"cvmattest_bundle\": 1, \"kind\": \"svsm-vtpm\", \"parts\": [%s]}", parts);
    assert_true(bl > 0 && (size_t)bl < bcap + 128);
    free(parts);
    cvma_buf_free(&rep);
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    *out = bundle;
    return (size_t)bl;
}

/*
 * A verifier for the simulated chip last written into dir whose policy pins the paravisor's
 * launch measurement (azure_evidence_ud's): without it the HCL report, at VMPL 0 as any SEV-SNP
 * guest's without a paravisor, vouches for no runtime claims (VTPM_PARAVISOR_NOT_PINNED).
 */
static struct cvma_verifier *pinned_verifier(const char *ark, const char *dir)
{
    static const char policy[] =
            "{\"allowed_tees\": [\"azure-snp\", \"tpm\", \"svsm-vtpm\"], \"snp\": "
            "{\"measurements\": \"4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
            "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d\"}}";
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    const char *roots[] = {ark};
    char *pp = tu_path(dir, "policy.json"), err[256];
    tu_write(pp, (const uint8_t *)policy, strlen(policy));
    const struct cvma_policy_config pc = {NULL, pp};
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.collateral_dir = dir;
    cfg.offline = true;
    cfg.no_cache = true;
    cfg.policies = &pc;
    cfg.n_policies = 1;
    if (cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK) {
        fail_msg("cvma_verifier_new: %s", err);
    }
    free(pp);
    return v;
}

/* A verifier for the simulated chip last written into dir (each write makes a new ARK: a
 * verifier made before it would refuse the chain, CERT_UNTRUSTED_ROOT, whatever else is wrong). */
static struct cvma_verifier *renew_verifier(struct cvma_verifier *old, const char *ark,
                                            const char *dir)
{
    cvma_verifier_free(old);
    return pinned_verifier(ark, dir);
}

/* The detail of res's reason code (NULL when it has none). */
static const char *reason_detail(const struct cvma_result *res, const char *code)
{
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        if (strcmp(cvma_result_reason_code(res, i), code) == 0) {
            return cvma_result_reason_detail(res, i);
        }
    }
    return NULL;
}

static void test_atls_azure_evidence_bound_by_user_data(void **state)
{
    char *dir = tu_tmpdir(), *ark = tu_path(dir, "ark.pem"), *ev = NULL, err[256];
    struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_SERVER};
    struct cvma_result *res = NULL;
    struct tu_tls_pair a, b;
    uint8_t nonce[32], rd[64];
    (void)state;

    memset(nonce, 9, sizeof nonce);
    tu_tls_pair_open(&a, 0);
    tu_tls_pair_open(&b, 0);
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, SSL_get_certificate(a.s), nonce, 32,
                                       rd, err, sizeof err),
                     CVMA_OK);
    EVP_PKEY *ak = make_ak();
    /* The binding is the runtime claims' user-data and the quote's extraData. */
    size_t len = azure_evidence(dir, ak, rd, rd, CVMA_ATLS_QUOTE_NONCE_LEN, &ev);
    struct cvma_verifier *v = pinned_verifier(ark, dir);

    /* On its own session: bound, the HCL report and the quote both. */
    assert_int_equal(cvma_atls_verify(a.c, v, &chk, nonce, 32, (const uint8_t *)ev, len, &res, err,
                                      sizeof err),
                     CVMA_OK);
    assert_string_equal(cvma_result_tee(res), "azure-snp");
    assert_int_equal(cvma_result_exit_code(res), 0);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_false(cvma_result_has_reason(res, "ATLS_EVIDENCE_NOT_BOUND"));
    assert_false(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    assert_false(cvma_result_has_reason(res, "TPM_NONCE_NOT_CHECKED"));
    /* The result shows what was bound: the runtime claims' user-data is the binding. */
    char *j = cvma_result_json(res, false), want[129];
    cvma_hex_encode(rd, 64, want, sizeof want);
    assert_non_null(j);
    assert_non_null(strstr(j, want));
    free(j);
    cvma_result_free(res);
    /* A verifier whose policy pins no launch measurement: bound, but the VMPL-0 report could
     * be any SEV-SNP guest's (no paravisor): a warning, never affirming. */
    struct cvma_verifier *nv = tu_verifier(ark, dir, NULL, true);
    assert_int_equal(cvma_atls_verify(a.c, nv, &chk, nonce, 32, (const uint8_t *)ev, len, &res, err,
                                      sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_WARNING);
    assert_true(cvma_result_has_reason(res, "VTPM_PARAVISOR_NOT_PINNED"));
    assert_false(cvma_result_has_reason(res, "ATLS_EVIDENCE_NOT_BOUND"));
    cvma_result_free(res);
    cvma_verifier_free(nv);

    /* The same evidence on another session (a relay): not bound. */
    assert_int_equal(cvma_atls_verify(b.c, v, &chk, nonce, 32, (const uint8_t *)ev, len, &res, err,
                                      sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "ATLS_EVIDENCE_NOT_BOUND"));
    assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    cvma_result_free(res);

    free(ev);

    /* The runtime claims bound to the session, the quote over something else (a quote made
     * for another session or verifier, or over the whole 64-byte binding): refused by the
     * quote's nonce. */
    const struct {
        const uint8_t *p;
        size_t len;
    } other_quotes[] = {{(const uint8_t *)"atls", 4}, {rd, sizeof rd}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(other_quotes); i++) {
        len = azure_evidence(dir, ak, rd, other_quotes[i].p, other_quotes[i].len, &ev);
        v = renew_verifier(v, ark, dir);
        assert_int_equal(cvma_atls_verify(a.c, v, &chk, nonce, 32, (const uint8_t *)ev, len, &res,
                                          err, sizeof err),
                         CVMA_OK);
        assert_int_not_equal(cvma_result_exit_code(res), 0);
        assert_true(cvma_result_has_reason(res, "TPM_NONCE_MISMATCH"));
        assert_false(cvma_result_has_reason(res, "CERT_UNTRUSTED_ROOT"));
        assert_false(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
        assert_false(cvma_result_has_reason(res, "ATLS_EVIDENCE_NOT_BOUND"));
        cvma_result_free(res);
        free(ev);
    }

    /* A bare TPM quote over the binding: no REPORT_DATA carries the binding, refused. */
    len = tpm_evidence(ak, rd, CVMA_ATLS_QUOTE_NONCE_LEN, &ev);
    assert_int_equal(cvma_atls_verify(a.c, v, &chk, nonce, 32, (const uint8_t *)ev, len, &res, err,
                                      sizeof err),
                     CVMA_OK);
    assert_string_equal(cvma_result_tee(res), "tpm");
    assert_int_not_equal(cvma_result_exit_code(res), 0);
    assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    cvma_result_free(res);
    free(ev);

    /* svsm-vtpm evidence, its quote over the binding: the SVSM's REPORT_DATA cannot carry the
     * binding, refused. (Its own certificates: another simulated chip in another folder.) */
    char *sdir = tu_tmpdir(), *sark = tu_path(sdir, "ark.pem");
    len = svsm_evidence(sdir, ak, rd, CVMA_ATLS_QUOTE_NONCE_LEN, &ev);
    struct cvma_verifier *sv = tu_verifier(sark, sdir, NULL, true);
    assert_int_equal(cvma_atls_verify(a.c, sv, &chk, nonce, 32, (const uint8_t *)ev, len, &res, err,
                                      sizeof err),
                     CVMA_OK);
    assert_string_equal(cvma_result_tee(res), "svsm-vtpm");
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    /* refused for the binding alone (aTLS gives svsm-vtpm no nonce: the SVSM's REPORT_DATA
     * is not checked either); the chain, the parts and the quote's signature are good */
    assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    assert_true(errors_only(res, "NONCE_REPORT_DATA_MISMATCH", "VTPM_SVSM_MANIFEST_MISMATCH"));
    cvma_result_free(res);
    free(ev);
    cvma_verifier_free(sv);
    tu_rmtree(sdir);
    free(sdir);
    free(sark);

    /* Runtime claims without a 64-byte user-data (an empty one, or 32 bytes), the quote over
     * the binding: refused by the verifier, which names the user-data, before any binding is
     * compared (docs/azure.md: user-data is 128 hex digits). */
    const char *short_uds[] = {"",
                               "0102030405060708091011121314151617181920212223242526272829303132"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(short_uds); i++) {
        len = azure_evidence_ud(dir, ak, short_uds[i], rd, CVMA_ATLS_QUOTE_NONCE_LEN, &ev);
        v = renew_verifier(v, ark, dir);
        assert_int_equal(cvma_atls_verify(a.c, v, &chk, nonce, 32, (const uint8_t *)ev, len, &res,
                                          err, sizeof err),
                         CVMA_OK);
        assert_string_equal(cvma_result_tee(res), "azure-snp");
        assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
        assert_false(cvma_result_has_reason(res, "CERT_UNTRUSTED_ROOT"));
        const char *d = reason_detail(res, "AZURE_RUNTIME_CLAIMS_MALFORMED");
        assert_non_null(d);
        assert_non_null(strstr(d, "\"user-data\" is"));
        assert_non_null(strstr(d, "characters long, not 128 hex digits"));
        cvma_result_free(res);
        free(ev);
    }

    EVP_PKEY_free(ak);
    cvma_verifier_free(v);
    tu_tls_pair_close(&a);
    tu_tls_pair_close(&b);
    tu_rmtree(dir);
    free(dir);
    free(ark);
}

/* The certificate-bound mode: the same two places carry the binding of the key and nonce. */
static void test_atls_azure_cert_bound(void **state)
{
    char *dir = tu_tmpdir(), *ark = tu_path(dir, "ark.pem"), *ev = NULL, err[256];
    struct cvma_result *res = NULL;
    struct tu_tls_pair a;
    uint8_t nonce[32], rd[64];
    (void)state;

    memset(nonce, 7, sizeof nonce);
    tu_tls_pair_open(&a, 0);
    X509 *leaf = SSL_get_certificate(a.s);
    assert_int_equal(cvma_atls_cert_binding(leaf, nonce, sizeof nonce, rd), CVMA_OK);
    EVP_PKEY *ak = make_ak();
    size_t len = azure_evidence(dir, ak, rd, rd, CVMA_ATLS_QUOTE_NONCE_LEN, &ev);
    struct cvma_verifier *v = pinned_verifier(ark, dir);

    assert_int_equal(cvma_atls_verify_cert_bound(v, leaf, NULL, nonce, sizeof nonce,
                                                 (const uint8_t *)ev, len, &res, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_false(cvma_result_has_reason(res, "TPM_NONCE_NOT_CHECKED"));
    cvma_result_free(res);
    /* Another nonce: the runtime claims and the quote both differ. */
    nonce[0] ^= 1;
    assert_int_equal(cvma_atls_verify_cert_bound(v, leaf, NULL, nonce, sizeof nonce,
                                                 (const uint8_t *)ev, len, &res, err, sizeof err),
                     CVMA_OK);
    assert_int_not_equal(cvma_result_exit_code(res), 0);
    assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    assert_true(cvma_result_has_reason(res, "TPM_NONCE_MISMATCH"));
    cvma_result_free(res);
    free(ev);

    /* A bare TPM quote over the binding (its first bytes or all of it): refused, no REPORT_DATA
     * carries the binding. */
    nonce[0] ^= 1;
    const size_t quote_lens[] = {CVMA_ATLS_QUOTE_NONCE_LEN, sizeof rd};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(quote_lens); i++) {
        len = tpm_evidence(ak, rd, quote_lens[i], &ev);
        assert_int_equal(cvma_atls_verify_cert_bound(v, leaf, NULL, nonce, sizeof nonce,
                                                     (const uint8_t *)ev, len, &res, err,
                                                     sizeof err),
                         CVMA_OK);
        assert_string_equal(cvma_result_tee(res), "tpm");
        assert_int_not_equal(cvma_result_exit_code(res), 0);
        assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
        cvma_result_free(res);
        free(ev);
    }

    /* svsm-vtpm evidence, its quote over the binding: refused as for a session. */
    char *sdir = tu_tmpdir(), *sark = tu_path(sdir, "ark.pem");
    len = svsm_evidence(sdir, ak, rd, CVMA_ATLS_QUOTE_NONCE_LEN, &ev);
    struct cvma_verifier *sv = tu_verifier(sark, sdir, NULL, true);
    assert_int_equal(cvma_atls_verify_cert_bound(sv, leaf, NULL, nonce, sizeof nonce,
                                                 (const uint8_t *)ev, len, &res, err, sizeof err),
                     CVMA_OK);
    assert_string_equal(cvma_result_tee(res), "svsm-vtpm");
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    /* refused for the binding alone (aTLS gives svsm-vtpm no nonce: the SVSM's REPORT_DATA
     * is not checked either); the chain, the parts and the quote's signature are good */
    assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    assert_true(errors_only(res, "NONCE_REPORT_DATA_MISMATCH", "VTPM_SVSM_MANIFEST_MISMATCH"));
    cvma_result_free(res);
    free(ev);
    cvma_verifier_free(sv);
    tu_rmtree(sdir);
    free(sdir);
    free(sark);

    /* The runtime claims bound, the quote over something else. */
    len = azure_evidence(dir, ak, rd, (const uint8_t *)"atls", 4, &ev);
    v = renew_verifier(v, ark, dir);
    assert_int_equal(cvma_atls_verify_cert_bound(v, leaf, NULL, nonce, sizeof nonce,
                                                 (const uint8_t *)ev, len, &res, err, sizeof err),
                     CVMA_OK);
    assert_int_not_equal(cvma_result_exit_code(res), 0);
    assert_true(cvma_result_has_reason(res, "TPM_NONCE_MISMATCH"));
    assert_false(cvma_result_has_reason(res, "CERT_UNTRUSTED_ROOT"));
    assert_false(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    cvma_result_free(res);
    free(ev);

    EVP_PKEY_free(ak);
    cvma_verifier_free(v);
    tu_tls_pair_close(&a);
    tu_rmtree(dir);
    free(dir);
    free(ark);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_atls_azure_evidence_bound_by_user_data),
            cmocka_unit_test(test_atls_azure_cert_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
