/*
 * libFuzzer target: the weaker vTPM binding (cvma_vtpm_weak_verify, docs/vtpm-binding.md): an
 * SEV-SNP report or a TDX quote whose REPORT_DATA is SHA-512(nonce || AK bytes).
 *
 * Input: a flags byte (1: trailing data allowed), the verification time (u64 big-endian,
 * seconds), then the parts, each a big-endian u16 length and its bytes: the report, the AK
 * bytes, the nonce, the trust root (PEM; also the collateral ark.pem), then the collateral
 * ask.pem, vcek.der, crl.der (SEV-SNP) and tcb_info.json, tcb_info_issuer_chain.pem,
 * qe_identity.json, qe_identity_issuer_chain.pem, pck_crl.der, root_ca_crl.der (TDX). Only
 * these parts are read (no file, cache or network). fuzz/mkseeds-tpm.py writes seeds.
 *
 * Checked here, independently of the verifier (OpenSSL and byte offsets read by hand):
 *  - an accepted binding: no error, VTPM_AK_BINDING_WEAK recorded, the status warning (never
 *    affirming); the report is an SEV-SNP report (version 2..5) whose ECDSA P-384 signature
 *    over bytes 0x000..0x29F verifies with the vcek.der part's key, or a TDX quote (v4/v5, TEE
 *    type 0x81) whose ECDSA P-256 signature over header and body verifies with the quote's
 *    attestation key; its REPORT_DATA (SEV-SNP 0x50, TDX body + 520) is SHA-512(nonce || AK)
 *    and is the claims' report_data;
 *  - a refusal: status contraindicated with an error reason, no VTPM_AK_BINDING_WEAK; a
 *    report that verified and whose REPORT_DATA does not name the AK is refused with
 *    VTPM_AK_BINDING_MISMATCH, and that reason only for such a report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "collateral/source.h"
#include "crypto/crypto.h"
#include "snp/snp_claims.h"
#include "tdx/tdx_claims.h"
#include "tpm_check.h"
#include "verifier/kind.h"
#include "vtpm/vtpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_TRAILING = 1 };

enum {
    P_REPORT,
    P_AK,
    P_NONCE,
    P_ROOT,
    P_ASK,
    P_VCEK,
    P_CRL,
    P_TCB,
    P_TCB_CHAIN,
    P_QE,
    P_QE_CHAIN,
    P_PCK_CRL,
    P_ROOT_CRL,
    P_N,
};

/* SEV-SNP ATTESTATION_REPORT (SNP ABI spec, table "ATTESTATION_REPORT"). */
#define SNP_REPORT_DATA_OFF 0x50
#define SNP_SIGNED_LEN      0x2a0
#define SNP_SIG_R_OFF       0x2a0
#define SNP_SIG_S_OFF       0x2e8
#define SNP_SIG_COMP_LEN    72 /* little-endian, zero-extended */
/* Intel TDX DCAP quote: 48-byte header; v4 the TD report 1.0 (584 bytes) directly, v5 a u16
 * body type and u32 body size first; REPORT_DATA at 520 into the TD report. */
#define TDX_HEADER_LEN      48
#define TDX_BODY10_LEN      584
#define TDX_REPORT_DATA_OFF 520

/* An accepted SEV-SNP report: signed by the VCEK given; *rd its REPORT_DATA. */
static void check_snp(struct cvma_span rep, struct cvma_span vcek, const uint8_t **rd)
{
    uint8_t r[SNP_SIG_COMP_LEN], s[SNP_SIG_COMP_LEN];
    const uint8_t *p = vcek.p;
    X509 *x = NULL;
    EVP_PKEY *key = NULL;

    CHECK(rep.len >= SNP_SIG_S_OFF + SNP_SIG_COMP_LEN);
    CHECK(fz_le32(rep.p) >= 2 && fz_le32(rep.p) <= 5);
    for (size_t i = 0; i < SNP_SIG_COMP_LEN; i++) { /* little-endian to big-endian */
        r[i] = rep.p[SNP_SIG_R_OFF + SNP_SIG_COMP_LEN - 1 - i];
        s[i] = rep.p[SNP_SIG_S_OFF + SNP_SIG_COMP_LEN - 1 - i];
    }
    CHECK((x = d2i_X509(NULL, &p, (long)vcek.len)) != NULL);
    CHECK((key = X509_get0_pubkey(x)) != NULL);
    CHECK(fz_ecdsa_rs_ok(key, EVP_sha384(), r, sizeof r, s, sizeof s, rep.p, SNP_SIGNED_LEN));
    X509_free(x);
    *rd = rep.p + SNP_REPORT_DATA_OFF;
}

/* An accepted TDX quote: signed by the attestation key it carries; *rd its REPORT_DATA. */
static void check_tdx(struct cvma_span q, const uint8_t **rd)
{
    size_t body = TDX_HEADER_LEN, body_len = TDX_BODY10_LEN, signed_len;
    uint8_t pt[65];
    char group[] = "prime256v1";
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM params[3];

    CHECK(q.len >= TDX_HEADER_LEN + 6);
    CHECK((q.p[0] == 4 || q.p[0] == 5) && q.p[1] == 0 && fz_le32(q.p + 4) == 0x81);
    if (q.p[0] == 5) {
        body_len = fz_le32(q.p + TDX_HEADER_LEN + 2);
        body = TDX_HEADER_LEN + 6;
        CHECK(body_len >= TDX_REPORT_DATA_OFF + 64 && body_len <= q.len - body);
    }
    signed_len = body + body_len;
    /* signature_data_len, then the signature (r || s) and the attestation key (x || y) */
    CHECK(q.len >= signed_len && q.len - signed_len >= 4 + 128 && fz_le32(q.p + signed_len) >= 128);
    const uint8_t *sig = q.p + signed_len + 4;
    pt[0] = 4;
    memcpy(pt + 1, sig + 64, 64);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt);
    params[2] = OSSL_PARAM_construct_end();
    CHECK((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL);
    CHECK(EVP_PKEY_fromdata_init(ctx) == 1 &&
          EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1);
    CHECK(fz_ecdsa_rs_ok(key, EVP_sha256(), sig, 32, sig + 32, 32, q.p, signed_len));
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
    *rd = q.p + body + TDX_REPORT_DATA_OFF;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[P_N] = {
            NULL,
            NULL,
            NULL,
            "ark.pem",
            "ask.pem",
            "vcek.der",
            "crl.der",
            "tcb_info.json",
            "tcb_info_issuer_chain.pem",
            "qe_identity.json",
            "qe_identity_issuer_chain.pem",
            "pck_crl.der",
            "root_ca_crl.der",
    };
    struct cvma_span part[P_N];
    struct cvma_named_part np[P_N];
    struct cvma_verify_opts opts;
    struct cvma_result res;
    uint8_t flags, want[64];
    uint64_t at = 0;
    X509 *root = NULL;
    size_t n = 0;
    unsigned wl = 0;

    if (!split_flags_time_parts(data, size, P_N, names, &flags, &at, part, np, &n)) {
        return 0;
    }
    memset(&opts, 0, sizeof opts);
    opts.at = (time_t)(at & 0xffffffffffull); /* within time_t on every platform we build on */
    opts.offline = true;
    opts.collateral_parts_only = true;
    opts.collateral_parts = np;
    opts.n_collateral_parts = n;
    opts.allow_trailing_data = (flags & F_TRAILING) != 0;
    if ((root = cvma_x509_load(part[P_ROOT].p, part[P_ROOT].len)) != NULL) {
        opts.trust_roots = &root;
        opts.n_trust_roots = 1;
    }
    /* What REPORT_DATA must be: SHA-512(nonce || AK), computed here. */
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    CHECK(c != NULL && EVP_DigestInit_ex(c, EVP_sha512(), NULL) == 1 &&
          EVP_DigestUpdate(c, part[P_NONCE].p, part[P_NONCE].len) == 1 &&
          EVP_DigestUpdate(c, part[P_AK].p, part[P_AK].len) == 1 &&
          EVP_DigestFinal_ex(c, want, &wl) == 1 && wl == 64);
    EVP_MD_CTX_free(c);

    cvma_result_init(&res, "vtpm-weak", opts.at);
    bool ok = cvma_vtpm_weak_verify(part[P_REPORT].p, part[P_REPORT].len, part[P_NONCE].p,
                                    part[P_NONCE].len, part[P_AK].p, part[P_AK].len, &opts, &res);
    cvma_result_finish(&res);
    const struct cvma_verdict *v = &res.verdict;
    bool names_ak = res.claims.verified && memcmp(res.claims.report_data, want, 64) == 0;
    if (ok) {
        const uint8_t *rd = NULL;
        CHECK(!cvma_verdict_has_error(v) && !v->oom);
        CHECK(cvma_verdict_has(v, CVMA_R_VTPM_AK_BINDING_WEAK));
        CHECK(res.status == CVMA_WARNING);
        CHECK(res.claims.verified);
        if (cvma_snp_claims_of(&res) != NULL) {
            check_snp(part[P_REPORT], part[P_VCEK], &rd);
        } else {
            CHECK(cvma_tdx_claims_of(&res) != NULL);
            check_tdx(part[P_REPORT], &rd);
        }
        CHECK(memcmp(rd, want, 64) == 0);
        CHECK(memcmp(res.claims.report_data, rd, 64) == 0);
    } else {
        CHECK(res.status == CVMA_CONTRAINDICATED);
        CHECK(cvma_verdict_has_error(v) || v->oom);
        CHECK(!cvma_verdict_has(v, CVMA_R_VTPM_AK_BINDING_WEAK));
        if (res.claims.verified && !names_ak && !v->oom) {
            CHECK(cvma_verdict_has(v, CVMA_R_VTPM_AK_BINDING_MISMATCH));
        }
    }
    /* A mismatch is read from the report's bytes, also when its signature or collateral
     * could not be checked (the refusal does not wait for them): the REPORT_DATA bytes of the
     * SEV-SNP report or TDX quote are not SHA-512(nonce || AK). */
    if (cvma_verdict_has(v, CVMA_R_VTPM_AK_BINDING_MISMATCH)) {
        const struct cvma_kind *k = cvma_kind_detect(part[P_REPORT].p, part[P_REPORT].len);
        CHECK(!ok && k != NULL && (k->id == CVMA_KIND_SNP || k->id == CVMA_KIND_TDX));
        if (k->id == CVMA_KIND_SNP) {
            CHECK(part[P_REPORT].len >= SNP_REPORT_DATA_OFF + 64 &&
                  memcmp(part[P_REPORT].p + SNP_REPORT_DATA_OFF, want, 64) != 0);
        } else {
            /* a TDX quote: REPORT_DATA in the TD report body, after the header (and, in v5,
             * the body's type and size) */
            size_t body = part[P_REPORT].p[0] == 5 ? TDX_HEADER_LEN + 6 : TDX_HEADER_LEN;
            CHECK(part[P_REPORT].len >= body + TDX_REPORT_DATA_OFF + 64 &&
                  memcmp(part[P_REPORT].p + body + TDX_REPORT_DATA_OFF, want, 64) != 0);
        }
    }
    cvma_result_cleanup(&res);
    X509_free(root);
    return 0;
}
