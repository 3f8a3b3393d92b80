/*
 * Attested TLS with azure-snp evidence (docs/atls.md, docs/azure.md): the hardware REPORT_DATA
 * is the hash of the runtime claims, and the session's binding is their user-data. Evidence
 * made for a session (a simulated SEV-SNP report in an HCL report, a vTPM quote by the AK the
 * runtime claims name, as a bundle) is accepted on that session, and refused on another
 * (ATLS_EVIDENCE_NOT_BOUND, and the verifier's NONCE_REPORT_DATA_MISMATCH).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "azure/azure.h"
#include "common/base64.h"
#include "common/hex.h"
#include "cvmattest/atls.h"
#include "sim/sim_snp.h"
#include "testutil.h"
#include "tu_api.h"
#include "tu_azure.h"

struct pair {
    SSL_CTX *sctx, *cctx;
    SSL *s, *c;
    int fd[2];
    int srv_ok;
};

static void *accept_thread(void *arg)
{
    struct pair *p = arg;
    p->srv_ok = SSL_accept(p->s);
    return NULL;
}

/* Two TLS 1.3 endpoints over a socketpair, the server's key and certificate fresh. */
static void pair_open(struct pair *p)
{
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    pthread_t t;
    memset(p, 0, sizeof *p);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
    p->sctx = SSL_CTX_new(TLS_server_method());
    p->cctx = SSL_CTX_new(TLS_client_method());
    assert_int_equal(cvma_atls_self_signed("test server", 1, &k, &x), CVMA_OK);
    assert_int_equal(SSL_CTX_use_certificate(p->sctx, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(p->sctx, k), 1);
    EVP_PKEY_free(k);
    X509_free(x);
    p->s = SSL_new(p->sctx);
    p->c = SSL_new(p->cctx);
    SSL_set_fd(p->s, p->fd[0]);
    SSL_set_fd(p->c, p->fd[1]);
    assert_int_equal(pthread_create(&t, NULL, accept_thread, p), 0);
    assert_int_equal(SSL_connect(p->c), 1);
    pthread_join(t, NULL);
    assert_int_equal(p->srv_ok, 1);
}

static void pair_close(struct pair *p)
{
    SSL_free(p->s);
    SSL_free(p->c);
    SSL_CTX_free(p->sctx);
    SSL_CTX_free(p->cctx);
    close(p->fd[0]);
    close(p->fd[1]);
}

/* An RSA-2048 AK in software (the runtime claims' HCLAkPub). */
static EVP_PKEY *make_ak(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    assert_non_null(k);
    return k;
}

/* A quote of PCR 0 (sha256, all zeros), extraData "atls", signed by k: into msg and sig. */
static void make_quote(EVP_PKEY *k, struct cvma_buf *msg, struct cvma_buf *sig)
{
    TPMS_ATTEST a;
    TPMT_SIGNATURE ts;
    uint8_t zero[32] = {0}, buf[4096], s[512];
    size_t off = 0, sl = sizeof s;
    memset(&a, 0, sizeof a);
    a.magic = TPM2_GENERATED_VALUE;
    a.type = TPM2_ST_ATTEST_QUOTE;
    a.extraData.size = 4;
    memcpy(a.extraData.buffer, "atls", 4);
    a.clockInfo.safe = 1;
    a.attested.quote.pcrSelect.count = 1;
    a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
    a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
    a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] = 1;
    a.attested.quote.pcrDigest.size = 32;
    assert_int_equal(
            EVP_Digest(zero, 32, a.attested.quote.pcrDigest.buffer, NULL, EVP_sha256(), NULL), 1);
    assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&a, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    tu_buf_set(msg, buf, off);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_non_null(c);
    assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(c, s, &sl, buf, off), 1);
    EVP_MD_CTX_free(c);
    memset(&ts, 0, sizeof ts);
    ts.sigAlg = TPM2_ALG_RSASSA;
    ts.signature.rsassa.hash = TPM2_ALG_SHA256;
    ts.signature.rsassa.sig.size = (UINT16)sl;
    memcpy(ts.signature.rsassa.sig.buffer, s, sl);
    off = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    tu_buf_set(sig, buf, off);
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
 * azure-snp evidence whose runtime claims name ak and carry user_data: an SEV-SNP report of
 * the simulator (written into dir, with its VCEK and ARK) whose REPORT_DATA is their hash, in
 * an HCL report, and a quote by ak: a bundle, malloc'd into *out.
 */
static size_t azure_evidence(const char *dir, EVP_PKEY *ak, const uint8_t user_data[64], char **out)
{
    struct cvma_sim_snp_opts so;
    struct cvma_buf rep = {0}, msg = {0}, sig = {0};
    uint8_t nb[256], *hcl = NULL;
    char claims[2048], ud[129], err[256];
    BIGNUM *n = NULL;

    assert_int_equal(EVP_PKEY_get_bn_param(ak, "n", &n), 1);
    assert_int_equal(BN_bn2binpad(n, nb, sizeof nb), 256);
    BN_free(n);
    char *n64 = cvma_base64_encode(nb, sizeof nb, CVMA_B64_URL);
    assert_non_null(n64);
    cvma_hex_encode(user_data, 64, ud, sizeof ud);
    int cl = snprintf(claims, sizeof claims,
                      "{\"keys\": [{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", "
                      "\"n\": \"%s\"}], \"user-data\": \"%s\"}",
                      n64, ud);
    free(n64);
    assert_true(cl > 0 && (size_t)cl < sizeof claims);

    cvma_sim_snp_opts_default(&so);
    so.keep_keys = true;
    memset(so.report_data, 0, sizeof so.report_data);
    assert_int_equal(EVP_Digest(claims, (size_t)cl, so.report_data, NULL, EVP_sha256(), NULL), 1);
    if (cvma_sim_snp_write(&so, dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim: %s", err);
    }
    char *rp = tu_path(dir, "report.bin");
    tu_read(rp, &rep);
    free(rp);
    size_t cap = CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN + CVMA_AZURE_RUNTIME_HDR_LEN +
                 (size_t)cl;
    assert_int_equal(rep.len, CVMA_AZURE_HW_REPORT_LEN);
    assert_non_null(hcl = malloc(cap));
    assert_int_equal(
            tu_azure_hcl(hcl, cap, rep.p, CVMA_AZURE_REPORT_TYPE_SNP, claims, (size_t)cl, 0), cap);
    make_quote(ak, &msg, &sig);

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

static void test_atls_azure_evidence_bound_by_user_data(void **state)
{
    char *dir = tu_tmpdir(), *ark = tu_path(dir, "ark.pem"), *ev = NULL, err[256];
    struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_SERVER};
    struct cvma_result *res = NULL;
    struct pair a, b;
    uint8_t nonce[32], rd[64];
    (void)state;

    memset(nonce, 9, sizeof nonce);
    pair_open(&a);
    pair_open(&b);
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, SSL_get_certificate(a.s), nonce, 32,
                                       rd, err, sizeof err),
                     CVMA_OK);
    EVP_PKEY *ak = make_ak();
    size_t len = azure_evidence(dir, ak, rd, &ev);
    struct cvma_verifier *v = tu_verifier(ark, dir, NULL, true);

    /* On its own session: bound (the quote's nonce is not asked for: a warning). */
    assert_int_equal(cvma_atls_verify(a.c, v, &chk, nonce, 32, (const uint8_t *)ev, len, &res, err,
                                      sizeof err),
                     CVMA_OK);
    assert_string_equal(cvma_result_tee(res), "azure-snp");
    assert_int_equal(cvma_result_exit_code(res), 0);
    assert_false(cvma_result_has_reason(res, "ATLS_EVIDENCE_NOT_BOUND"));
    assert_false(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    /* The result shows what was bound: the runtime claims' user-data is the binding. */
    char *j = cvma_result_json(res, false), want[129];
    cvma_hex_encode(rd, 64, want, sizeof want);
    assert_non_null(j);
    assert_non_null(strstr(j, want));
    free(j);
    cvma_result_free(res);

    /* The same evidence on another session (a relay): not bound. */
    assert_int_equal(cvma_atls_verify(b.c, v, &chk, nonce, 32, (const uint8_t *)ev, len, &res, err,
                                      sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "ATLS_EVIDENCE_NOT_BOUND"));
    assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    cvma_result_free(res);

    free(ev);
    EVP_PKEY_free(ak);
    cvma_verifier_free(v);
    pair_close(&a);
    pair_close(&b);
    tu_rmtree(dir);
    free(dir);
    free(ark);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_atls_azure_evidence_bound_by_user_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
