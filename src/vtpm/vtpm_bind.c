/* Binding a vTPM key to a verified hardware report: see vtpm/vtpm.h and docs/vtpm-binding.md. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/hex.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"
#include "tdx/tdx.h"
#include "tpm/tpm_unmarshal.h"
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
    struct cvma_snp_report *rep = NULL;
    TPMT_PUBLIC pub;
    struct cvma_reader mr;
    enum cvma_tpm_mu mu = CVMA_TPM_MU_MALFORMED;
    const char *why = NULL;
    uint8_t want[64];
    bool ok = false;

    o.has_report_data = false; /* REPORT_DATA is checked here, against the manifest */
    cvma_snp_verify(report, len, &o, NULL, res);
    /* VMPL, REPORT_DATA and the manifest are read from the report's bytes, so that a binding
     * they refuse is refused whether or not the report's signature or collateral could be
     * checked (not left undecided); only a verified report vouches for the EK (below). */
    if ((rep = malloc(sizeof *rep)) == NULL) {
        v->oom = true;
        goto out;
    }
    if (!cvma_snp_report_peek(report, len, rep, &v->oom)) {
        goto out; /* no report: its own reasons (cvma_snp_verify's) say why */
    }
    ok = true;
    if (rep->vmpl != 0) {
        cvma_reject(v, CVMA_R_VTPM_SVSM_VMPL,
                    "svsm: the report carrying the vTPM manifest was made at VMPL %u: only the "
                    "SVSM at VMPL 0 can vouch for the vTPM",
                    (unsigned)rep->vmpl);
        ok = false;
    }
    if (!sha512_2(nonce, 64, manifest, manifest_len, want)) {
        v->oom = true;
        ok = false;
        goto out;
    }
    if (CRYPTO_memcmp(rep->report_data, want, 64) != 0) {
        reject_report_data(v, CVMA_R_VTPM_SVSM_MANIFEST_MISMATCH, rep->report_data, want,
                           "manifest");
        ok = false;
    }
    cvma_reader_init(&mr, manifest, manifest_len);
    if ((mu = cvma_tpm_mu_public(&mr, &pub, &why)) != CVMA_TPM_MU_OK || !cvma_reader_at_end(&mr)) {
        cvma_reject(v, CVMA_R_VTPM_EK_MALFORMED,
                    "svsm: the vTPM manifest (%zu bytes) is not exactly one TPMT_PUBLIC: %s",
                    manifest_len,
                    mu == CVMA_TPM_MU_OK            ? "bytes after it"
                    : mu == CVMA_TPM_MU_UNSUPPORTED ? "a key neither RSA nor ECC"
                                                    : why);
        ok = false;
        goto out;
    }
    TPMA_OBJECT a = pub.objectAttributes;
    if (!cvma_tpm_ek_attributes_ok(a)) {
        cvma_reject(v, CVMA_R_VTPM_EK_MALFORMED,
                    "svsm: the manifest's key (attributes 0x%08x) is not an endorsement key: a "
                    "restricted, fixedTPM decryption key that cannot sign",
                    (unsigned)a);
        ok = false;
    }
    /* Only a report whose signature and collateral verified vouches for the EK, and only one
     * the verifier accepts: signed but refused for what it says (a debug guest, a revoked
     * ASK...), it vouches for none. Its reasons say why. */
    ok = ok && cvma_snp_claims_of(res) != NULL && !cvma_verdict_has_error(v) && !v->oom;
    if (ok && ek != NULL) {
        *ek = pub;
    }
out:
    free(rep);
    return ok;
}

/* REPORT_DATA of an SEV-SNP report or a TDX quote (kind k), read from its bytes whether or not
 * its signature or collateral could be checked; false when the bytes are not one (its
 * verification's reasons say why) or memory ran out (v->oom). */
static bool report_data_of(const struct cvma_kind *k, const uint8_t *report, size_t len,
                           uint8_t out[64], struct cvma_verdict *v)
{
    bool ok = false;
    if (k->id == CVMA_KIND_SNP) {
        struct cvma_snp_report *rep = malloc(sizeof *rep);
        if (rep == NULL) {
            v->oom = true;
        } else if (cvma_snp_report_peek(report, len, rep, &v->oom)) {
            memcpy(out, rep->report_data, 64);
            ok = true;
        }
        free(rep);
    } else {
        struct cvma_tdx_td_report body;
        if (cvma_tdx_quote_peek(report, len, &body, &v->oom)) {
            memcpy(out, body.report_data, 64);
            ok = true;
        }
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
    uint8_t want[64], rd[64];

    if (k == NULL || (k->id != CVMA_KIND_SNP && k->id != CVMA_KIND_TDX)) {
        cvma_reject(v, CVMA_R_PARSE_UNKNOWN_FORMAT,
                    "vtpm binding: the hardware report is neither an SEV-SNP report nor a TDX "
                    "quote");
        return false;
    }
    o.has_report_data = false;
    k->verify(report, len, &o, NULL, res);
    /* REPORT_DATA from the report's bytes: a report naming another key is refused whether or
     * not its signature or collateral could be checked. */
    if (!report_data_of(k, report, len, rd, v)) {
        return false;
    }
    if (!sha512_2(nonce, nonce_len, ak, ak_len, want)) {
        v->oom = true;
        return false;
    }
    if (CRYPTO_memcmp(rd, want, 64) != 0) {
        reject_report_data(v, CVMA_R_VTPM_AK_BINDING_MISMATCH, rd, want, "AK");
        return false;
    }
    if (!res->claims.verified || cvma_verdict_has_error(v) || v->oom) {
        /* Not verified (its reasons say why, or it is undecided), or signed but refused for
         * what it says (a debug guest, a TCB out of date...): a report the verifier does not
         * accept vouches for no key. */
        return false;
    }
    cvma_verdict_add(v, CVMA_R_VTPM_AK_BINDING_WEAK, CVMA_SEV_WARNING,
                     "vtpm binding: the %s's REPORT_DATA names the AK directly (the weaker "
                     "mode): whatever asked for the report chose the key; no EK or credential "
                     "activation shows that a TPM holds it",
                     k->what);
    return true;
}
