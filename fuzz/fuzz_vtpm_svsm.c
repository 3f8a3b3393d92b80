/*
 * libFuzzer target: the SVSM vTPM binding (kind svsm-vtpm): the bundle's parts read as the EK
 * and AK public areas (svsm_manifest, tpm_ak), the SEV-SNP report checked against the manifest
 * (cvma_vtpm_svsm_verify), the credential made for them (cvma_vtpm_svsm_challenge) and the
 * whole chain with the quote (cvma_vtpm_svsm_bundle_verify), one-shot or two-step.
 *
 * Input: a flags byte (1: the two-step flow, the credential's secret given back; 2: another
 * secret given back; 4: also cvma_vtpm_svsm_verify alone; 8: trailing data allowed), the
 * verification time (u64 big-endian, seconds), then the parts, each a big-endian u16 length and
 * its bytes: the report, svsm_manifest, tpm_quote, tpm_signature, tpm_ak, tpm_pcrs, the nonce,
 * and the collateral ark.pem (also the trust root), ask.pem, vcek.der, crl.der. Only these
 * parts are read (no file, cache or network). fuzz/mkseeds-tpm.py writes seeds.
 *
 * Checked here, independently of the verifier:
 *  - an EK returned by cvma_vtpm_svsm_verify is the manifest as libtss2-mu reads it, a
 *    restricted fixedTPM decryption key that cannot sign, from a report at VMPL 0 whose
 *    REPORT_DATA is SHA-512(nonce || manifest); a refusal leaves *ek as it was;
 *  - a session's EK and AK names are nameAlg || H(the public area as given);
 *  - an affirming result came from the two-step flow with the right secret, a report as above
 *    and a quote whose signature verifies with OpenSSL, with extraData the nonce; without the
 *    round trip, or with another secret, it is never affirming and has no attested key;
 *  - every status other than affirming has a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "collateral/source.h"
#include "crypto/crypto.h"
#include "tpm/tpm.h"
#include "tpm_check.h"
#include "vtpm/vtpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_TWO_STEP = 1, F_WRONG_SECRET = 2, F_BIND_ALONE = 4, F_TRAILING = 8 };

enum {
    P_REPORT,
    P_MANIFEST,
    P_QUOTE,
    P_SIG,
    P_AK,
    P_PCRS,
    P_NONCE,
    P_ARK,
    P_ASK,
    P_VCEK,
    P_CRL,
    P_N,
};

/* SEV-SNP ATTESTATION_REPORT: VMPL (u32 LE) at 0x30, REPORT_DATA at 0x50. */
#define SNP_VMPL_OFF        0x30
#define SNP_REPORT_DATA_OFF 0x50

/* The report is at VMPL 0 and its REPORT_DATA is SHA-512(nonce(64) || manifest). */
static void check_binding(struct cvma_span rep, const uint8_t nonce[64], struct cvma_span man)
{
    uint8_t want[64];
    unsigned n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    CHECK(c != NULL && EVP_DigestInit_ex(c, EVP_sha512(), NULL) == 1 &&
          EVP_DigestUpdate(c, nonce, 64) == 1 && EVP_DigestUpdate(c, man.p, man.len) == 1 &&
          EVP_DigestFinal_ex(c, want, &n) == 1);
    EVP_MD_CTX_free(c);
    CHECK(rep.len >= SNP_REPORT_DATA_OFF + 64);
    CHECK(rep.p[SNP_VMPL_OFF] == 0 && rep.p[SNP_VMPL_OFF + 1] == 0 &&
          rep.p[SNP_VMPL_OFF + 2] == 0 && rep.p[SNP_VMPL_OFF + 3] == 0);
    CHECK(memcmp(rep.p + SNP_REPORT_DATA_OFF, want, 64) == 0);
}

/* The manifest is exactly one TPMT_PUBLIC of an endorsement key; *ek gets it. */
static void check_ek(struct cvma_span man, TPMT_PUBLIC *ek)
{
    size_t off = 0;
    memset(ek, 0, sizeof *ek);
    CHECK(Tss2_MU_TPMT_PUBLIC_Unmarshal(man.p, man.len, &off, ek) == TSS2_RC_SUCCESS &&
          off == man.len);
    TPMA_OBJECT a = ek->objectAttributes;
    CHECK((a & TPMA_OBJECT_RESTRICTED) && (a & TPMA_OBJECT_DECRYPT) && (a & TPMA_OBJECT_FIXEDTPM) &&
          !(a & TPMA_OBJECT_SIGN_ENCRYPT));
}

/* name is nameAlg || H(the TPMT_PUBLIC bytes), of p as given (a TPMT_PUBLIC, or the public
 * area inside a TPM2B_PUBLIC). */
static void check_name(struct cvma_span p, const TPM2B_NAME *name)
{
    TPMT_PUBLIC pub;
    size_t off = 0;
    uint8_t h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    memset(&pub, 0, sizeof pub);
    if (Tss2_MU_TPMT_PUBLIC_Unmarshal(p.p, p.len, &off, &pub) != TSS2_RC_SUCCESS || off != p.len) {
        CHECK(p.len >= 2 && (size_t)(p.p[0] << 8 | p.p[1]) == p.len - 2);
        p.p += 2;
        p.len -= 2;
        off = 0;
        CHECK(Tss2_MU_TPMT_PUBLIC_Unmarshal(p.p, p.len, &off, &pub) == TSS2_RC_SUCCESS &&
              off == p.len);
    }
    CHECK(md_of(pub.nameAlg) != NULL);
    CHECK(EVP_Digest(p.p, p.len, h, &hl, md_of(pub.nameAlg), NULL) == 1);
    CHECK(name->size == 2 + hl && name->name[0] == (uint8_t)(pub.nameAlg >> 8) &&
          name->name[1] == (uint8_t)pub.nameAlg && memcmp(name->name + 2, h, hl) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[P_N] = {
            NULL, "svsm_manifest", "tpm_quote", "tpm_signature", "tpm_ak",  "tpm_pcrs",
            NULL, "ark.pem",       "ask.pem",   "vcek.der",      "crl.der",
    };
    struct cvma_span part[P_N];
    struct cvma_named_part np[P_N];
    struct cvma_verify_opts opts;
    struct cvma_result res;
    struct cvma_vtpm_svsm_session s;
    uint8_t flags = 0, nonce64[64];
    uint64_t at = 0;
    X509 *root = NULL;
    size_t n = 0;
    bool have_session = false;
    char err[256] = "";

    tss2_quiet();
    if (!split_flags_time_parts(data, size, P_N, names, &flags, &at, part, np, &n)) {
        return 0;
    }
    if (part[P_NONCE].len > 64) {
        part[P_NONCE].len = 64;
    }
    memset(&opts, 0, sizeof opts);
    opts.at = (time_t)(at & 0xffffffffffull); /* within time_t on every platform we build on */
    opts.offline = true;
    opts.collateral_parts_only = true;
    opts.collateral_parts = np;
    opts.n_collateral_parts = n;
    opts.allow_trailing_data = (flags & F_TRAILING) != 0;
    opts.has_nonce = true;
    if (part[P_NONCE].len > 0) {
        memcpy(opts.nonce, part[P_NONCE].p, part[P_NONCE].len);
    }
    opts.nonce_len = part[P_NONCE].len;
    if ((root = cvma_x509_load(part[P_ARK].p, part[P_ARK].len)) != NULL) {
        opts.trust_roots = &root;
        opts.n_trust_roots = 1;
    }
    memset(nonce64, 0, sizeof nonce64);
    memcpy(nonce64, opts.nonce, opts.nonce_len);

    /* The binding alone: *ek only on success. */
    if (flags & F_BIND_ALONE) {
        TPMT_PUBLIC ek, want;
        memset(&ek, 0xa5, sizeof ek);
        cvma_result_init(&res, "sev-snp", opts.at);
        bool ok = cvma_vtpm_svsm_verify(part[P_REPORT].p, part[P_REPORT].len, nonce64,
                                        part[P_MANIFEST].p, part[P_MANIFEST].len, &opts, &res, &ek);
        cvma_result_finish(&res);
        if (ok) {
            CHECK(!cvma_verdict_has_error(&res.verdict));
            check_binding(part[P_REPORT], nonce64, part[P_MANIFEST]);
            check_ek(part[P_MANIFEST], &want);
            CHECK(memcmp(&ek, &want, sizeof ek) == 0);
        } else {
            TPMT_PUBLIC untouched;
            memset(&untouched, 0xa5, sizeof untouched);
            CHECK(memcmp(&ek, &untouched, sizeof ek) == 0);
            CHECK(res.status != CVMA_AFFIRMING && res.verdict.n_reasons > 0);
        }
        cvma_result_cleanup(&res);
    }

    /* Step 1: a credential for the bundle's EK and AK. */
    if (flags & F_TWO_STEP) {
        enum cvma_status st = cvma_vtpm_svsm_challenge(&opts, &s, err, sizeof err);
        CHECK(strnlen(err, sizeof err) < sizeof err);
        if (st == CVMA_OK) {
            have_session = true;
            check_name(part[P_MANIFEST], &s.ek_name);
            check_name(part[P_AK], &s.ak_name);
            CHECK(s.cred.id_object.len > 0 && s.cred.enc_secret.len > 0);
        } else {
            CHECK(st == CVMA_E_USAGE || st == CVMA_E_NOMEM || st == CVMA_E_INTERNAL);
        }
    }

    /* Step 2 (or the one-shot verify). */
    uint8_t back[32];
    if (have_session) {
        memcpy(back, s.cred.secret, sizeof back);
        if (flags & F_WRONG_SECRET) {
            back[0] ^= 1;
        }
    }
    cvma_result_init(&res, "svsm-vtpm", opts.at);
    cvma_vtpm_svsm_bundle_verify(part[P_REPORT].p, part[P_REPORT].len, &opts,
                                 have_session ? &s : NULL, have_session ? back : NULL,
                                 have_session ? sizeof back : 0, &res);
    cvma_result_finish(&res);
    CHECK(res.status == CVMA_AFFIRMING || res.verdict.n_reasons > 0 || res.verdict.oom);
    json_t *ak = cvma_tpm_attested_key(&res);
    if (!have_session || (flags & F_WRONG_SECRET)) {
        CHECK(res.status != CVMA_AFFIRMING && ak == NULL);
    }
    if (res.status == CVMA_AFFIRMING || ak != NULL) {
        /* The attested key: the AK of a quote that verified, shown to be in the TPM. */
        TPMS_ATTEST *a = calloc(1, sizeof *a);
        TPM2_ALG_ID hash = TPM2_ALG_NULL;
        CHECK(a != NULL);
        check_accepted_quote(part[P_QUOTE], part[P_SIG], part[P_AK], NULL, a, &hash);
        if (res.status == CVMA_AFFIRMING) {
            TPMT_PUBLIC ek;
            CHECK(ak != NULL);
            check_binding(part[P_REPORT], nonce64, part[P_MANIFEST]);
            check_ek(part[P_MANIFEST], &ek);
            CHECK(a->extraData.size == opts.nonce_len &&
                  memcmp(a->extraData.buffer, opts.nonce, opts.nonce_len) == 0);
        }
        free(a);
    }
    json_decref(ak);
    cvma_result_cleanup(&res);
    if (have_session) {
        cvma_vtpm_svsm_session_cleanup(&s);
    }
    OPENSSL_cleanse(back, sizeof back);
    X509_free(root);
    return 0;
}
