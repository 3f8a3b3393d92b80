/* Binding a vTPM key to a verified hardware report: see vtpm/vtpm.h and docs/vtpm-binding.md. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "common/hex.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"
#include "verifier/kind.h"
#include "vtpm/vtpm.h"

/* SHA-512(a || b). */
static bool sha512_2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[64])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha512(), NULL) == 1 &&
              EVP_DigestUpdate(c, a, alen) == 1 && EVP_DigestUpdate(c, b, blen) == 1 &&
              EVP_DigestFinal_ex(c, out, &n) == 1 && n == 64;
    EVP_MD_CTX_free(c);
    return ok;
}

static void reject_report_data(struct cvma_verdict *v, enum cvma_reason code, const uint8_t *got,
                               const uint8_t *want, const char *what)
{
    char g[129], w[129];
    cvma_hex_encode(got, 64, g, sizeof g);
    cvma_hex_encode(want, 64, w, sizeof w);
    cvma_reject(v, code, "REPORT_DATA is %s, SHA-512(nonce || %s) is %s", g, what, w);
}

bool cvma_vtpm_svsm_verify(const uint8_t *report, size_t len, const uint8_t nonce[64],
                           const uint8_t *manifest, size_t manifest_len,
                           const struct cvma_verify_opts *opts, struct cvma_result *res,
                           TPMT_PUBLIC *ek)
{
    struct cvma_verify_opts o = *opts;
    struct cvma_verdict *v = &res->verdict;
    TPMT_PUBLIC pub;
    uint8_t want[64];
    size_t off = 0;
    bool ok = true;

    o.has_report_data = false; /* REPORT_DATA is checked here, against the manifest */
    cvma_snp_verify(report, len, &o, NULL, res);
    const struct cvma_snp_claims *c = cvma_snp_claims_of(res);
    if (c == NULL) {
        return false; /* the report's own reasons say why */
    }
    if (c->report.vmpl != 0) {
        cvma_reject(v, CVMA_R_VTPM_SVSM_VMPL,
                    "svsm: the report carrying the vTPM manifest was made at VMPL %u: only the "
                    "SVSM at VMPL 0 can vouch for the vTPM",
                    (unsigned)c->report.vmpl);
        ok = false;
    }
    if (!sha512_2(nonce, 64, manifest, manifest_len, want)) {
        v->oom = true;
        return false;
    }
    if (CRYPTO_memcmp(c->report.report_data, want, 64) != 0) {
        reject_report_data(v, CVMA_R_VTPM_SVSM_MANIFEST_MISMATCH, c->report.report_data, want,
                           "manifest");
        ok = false;
    }
    memset(&pub, 0, sizeof pub);
    if (Tss2_MU_TPMT_PUBLIC_Unmarshal(manifest, manifest_len, &off, &pub) != TSS2_RC_SUCCESS ||
        off != manifest_len) {
        cvma_reject(v, CVMA_R_VTPM_EK_MALFORMED,
                    "svsm: the vTPM manifest (%zu bytes) is not exactly one TPMT_PUBLIC",
                    manifest_len);
        return false;
    }
    TPMA_OBJECT a = pub.objectAttributes;
    if (!(a & TPMA_OBJECT_RESTRICTED) || !(a & TPMA_OBJECT_DECRYPT) ||
        (a & TPMA_OBJECT_SIGN_ENCRYPT) || !(a & TPMA_OBJECT_FIXEDTPM)) {
        cvma_reject(v, CVMA_R_VTPM_EK_MALFORMED,
                    "svsm: the manifest's key (attributes 0x%08x) is not an endorsement key: a "
                    "restricted, fixedTPM decryption key that cannot sign",
                    (unsigned)a);
        ok = false;
    }
    /* Signed but refused for what it says (a debug guest, a revoked ASK...): a report the
     * verifier does not accept vouches for no EK. Its reasons say why. */
    ok = ok && !cvma_verdict_has_error(v) && !v->oom;
    if (ok && ek != NULL) {
        *ek = pub;
    }
    return ok;
}

bool cvma_vtpm_weak_verify(const uint8_t *report, size_t len, const uint8_t *nonce,
                           size_t nonce_len, const uint8_t *ak, size_t ak_len,
                           const struct cvma_verify_opts *opts, struct cvma_result *res)
{
    struct cvma_verify_opts o = *opts;
    const struct cvma_kind *k = cvma_kind_detect(report, len);
    struct cvma_verdict *v = &res->verdict;
    uint8_t want[64];

    if (k == NULL || (k->id != CVMA_KIND_SNP && k->id != CVMA_KIND_TDX)) {
        cvma_reject(v, CVMA_R_PARSE_UNKNOWN_FORMAT,
                    "vtpm binding: the hardware report is neither an SEV-SNP report nor a TDX "
                    "quote");
        return false;
    }
    o.has_report_data = false;
    k->verify(report, len, &o, NULL, res);
    if (!res->claims.verified) {
        return false;
    }
    if (!sha512_2(nonce, nonce_len, ak, ak_len, want)) {
        v->oom = true;
        return false;
    }
    if (CRYPTO_memcmp(res->claims.report_data, want, 64) != 0) {
        reject_report_data(v, CVMA_R_VTPM_AK_BINDING_MISMATCH, res->claims.report_data, want, "AK");
        return false;
    }
    if (cvma_verdict_has_error(v) || v->oom) {
        /* Signed but refused for what it says (a debug guest, a TCB out of date...): a report
         * the verifier does not accept vouches for no key. Its reasons say why. */
        return false;
    }
    cvma_verdict_add(v, CVMA_R_VTPM_AK_BINDING_WEAK, CVMA_SEV_WARNING,
                     "vtpm binding: the %s's REPORT_DATA names the AK directly (the weaker "
                     "mode): whatever asked for the report chose the key; no EK or credential "
                     "activation shows that a TPM holds it",
                     k->what);
    return true;
}
