/*
 * SEV-SNP verification: ARK -> ASK -> VCEK (or ARK -> ASVK -> VLEK), the ARK pinned by the
 * SHA-256 of its SubjectPublicKeyInfo, the ARK-signed CRL, the report signature (ECDSA P-384
 * over bytes 0x000..0x29F), and the ties between the VCEK/VLEK extensions and the report.
 *
 * Not checked here (documented in docs/verification.md): TCB minimums, measurements and
 * other policy (the appraisal stage), and freshness beyond --report-data.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/hex.h"
#include "common/reader.h"
#include "common/timeutil.h"
#include "crypto/chain.h"
#include "crypto/chain_cache.h"
#include "crypto/crypto.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"

/* SHA-256 of each AMD ARK's SubjectPublicKeyInfo (values: AMD ARK certificates as published by KDS;
 * see docs/verification.md). */
static const struct {
    enum cvma_snp_product product;
    const char *anchor;
    const char *spki_sha256;
} amd_roots[] = {
        {CVMA_SNP_PRODUCT_MILAN, "amd-ark-milan",
         "9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9"},
        {CVMA_SNP_PRODUCT_GENOA, "amd-ark-genoa",
         "429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831"},
        {CVMA_SNP_PRODUCT_TURIN, "amd-ark-turin",
         "4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08"},
};

/* see snp/snp_internal.h */
enum cvma_snp_product cvma_snp_ark_pinned_product(const struct cvma_buf *ark)
{
    struct cvma_chain_pin pins[CVMA_ARRAY_LEN(amd_roots)];
    X509 *x = ark->len > 0 ? cvma_x509_load(ark->p, ark->len) : NULL;
    char hex[65];
    int k = -1;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(amd_roots); i++) {
        pins[i].spki_sha256 = amd_roots[i].spki_sha256;
    }
    if (x != NULL) {
        k = cvma_chain_pick_anchor(x, pins, CVMA_ARRAY_LEN(pins), NULL, NULL, 0, hex);
    }
    X509_free(x);
    ERR_clear_error();
    return k >= 0 && (size_t)k < CVMA_ARRAY_LEN(amd_roots) ? amd_roots[k].product
                                                           : CVMA_SNP_PRODUCT_UNKNOWN;
}

/* What a verified chain gives the report checks; cached by chain bytes. */
struct snp_chain {
    struct cvma_p384_pub *pub;
    struct cvma_amd_cert_ext ext;
    char anchor[96];
    enum cvma_snp_product root_product; /* UNKNOWN for a test root */
    time_t not_before;                  /* latest notBefore in the chain */
    time_t not_after;                   /* earliest notAfter */
    bool has_crl;
    time_t crl_this_update, crl_next_update;
};

static void snp_chain_free(void *p)
{
    struct snp_chain *ch = p;
    if (ch != NULL) {
        cvma_p384_pub_free(ch->pub);
        free(ch);
    }
}

/* Which trust anchor the ARK is, or record CERT_UNTRUSTED_ROOT. */
static enum cvma_status pick_anchor(X509 *ark, const struct cvma_verify_opts *opts,
                                    struct snp_chain *ch, struct cvma_verdict *v)
{
    struct cvma_chain_pin pins[CVMA_ARRAY_LEN(amd_roots)];
    char hex[65], cn[128];
    int k;

    for (size_t i = 0; i < CVMA_ARRAY_LEN(amd_roots); i++) {
        pins[i].spki_sha256 = amd_roots[i].spki_sha256;
    }
    k = cvma_chain_pick_anchor(ark, pins, CVMA_ARRAY_LEN(pins), opts->trust_roots, NULL,
                               opts->n_trust_roots, hex);
    if (k == -2) {
        return cvma_reject(v, CVMA_R_CERT_PARSE, "ARK: cannot encode its public key");
    }
    if (k >= 0 && (size_t)k < CVMA_ARRAY_LEN(amd_roots)) {
        snprintf(ch->anchor, sizeof ch->anchor, "%s", amd_roots[k].anchor);
        ch->root_product = amd_roots[k].product;
        return CVMA_OK;
    }
    if (k >= 0) {
        snprintf(ch->anchor, sizeof ch->anchor, "test-root:%s", hex);
        ch->root_product = CVMA_SNP_PRODUCT_UNKNOWN;
        return CVMA_OK;
    }
    cvma_x509_subject_cn(ark, cn, sizeof cn);
    return cvma_reject(v, CVMA_R_CERT_UNTRUSTED_ROOT,
                       "ARK '%s' (public key SHA-256 %s) is neither a pinned AMD ARK (Milan, "
                       "Genoa, Turin) nor a root given with --trust-root",
                       cn, hex);
}

/* The CRL: taken (cvma_crl_check: issued and signed by the ARK, its times readable), not
 * listing the ASK/ASVK, and current at `at`. The ASK/ASVK is looked up before the window: a
 * CRL that does not cover the time (one the verifier chose, issued after a past --at, becomes
 * undecided in cvma_snp_verify) still proves a revocation it dates at or before that time. */
static enum cvma_status check_crl(X509_CRL *crl, X509 *ark, X509 *ask, bool vlek, time_t at,
                                  struct snp_chain *ch, struct cvma_verdict *v)
{
    enum cvma_status st =
            cvma_crl_check(crl, ark, "AMD CRL", &ch->crl_this_update, &ch->crl_next_update, v);
    bool misses;
    const X509_ALGOR *alg = NULL;
    char why[96];

    if (st != CVMA_OK) {
        return st;
    }
    /* The ARK signs its CRL as it signs certificates (verify_chain). */
    X509_CRL_get0_signature(crl, NULL, &alg);
    if (!cvma_algor_is_amd_pss(alg, why, sizeof why)) {
        return cvma_reject(v, CVMA_R_CRL_INVALID,
                           "AMD CRL: signed with %s, not RSASSA-PSS with SHA-384 (MGF1 SHA-384, "
                           "salt 48), the one scheme AMD signs with",
                           why);
    }
    ch->has_crl = true;
    misses = at < ch->crl_this_update || at >= ch->crl_next_update;
    if (cvma_crl_revokes_at(crl, ask, at)) {
        char *serial = NULL;
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ask), NULL);
        if (bn != NULL) {
            serial = BN_bn2hex(bn);
        }
        st = cvma_reject(v, CVMA_R_CERT_REVOKED, "%s serial %s is revoked by the ARK's CRL%s",
                         vlek ? "ASVK" : "ASK", serial ? serial : "?",
                         misses ? " (dated at or before the verification time; the CRL does not "
                                  "cover that time, but a revocation does not expire)"
                                : "");
        OPENSSL_free(serial);
        BN_free(bn);
        return st;
    }
    if (misses) {
        char win[CVMA_DETAIL_MAX];
        cvma_crl_window_detail(crl, "AMD CRL", at, win, sizeof win);
        return cvma_reject(v, CVMA_R_CRL_EXPIRED, "%s", win);
    }
    return CVMA_OK;
}

/* Offline without a current CRL: the cached one past its nextUpdate decides nothing by itself
 * (revocation stays CRL_NOT_CHECKED), but a certificate it lists stays revoked: revocation
 * does not expire. Taken only when the ARK signed it; a CRL that fails that is passed over. */
static enum cvma_status check_expired_crl(const struct cvma_buf *der, X509 *ark, X509 *ask,
                                          bool vlek, struct cvma_verdict *v)
{
    X509_CRL *crl = cvma_crl_load(der->p, der->len);
    X509_REVOKED *rev = NULL;
    struct cvma_verdict scratch;
    time_t this_update, next_update;
    enum cvma_status st = CVMA_OK;

    cvma_verdict_init(&scratch);
    if (crl != NULL &&
        cvma_crl_check(crl, ark, "AMD CRL", &this_update, &next_update, &scratch) == CVMA_OK &&
        X509_CRL_get0_by_cert(crl, &rev, ask) == 1) {
        char when[32];
        cvma_time_format(next_update, when, sizeof when);
        st = cvma_reject(v, CVMA_R_CERT_REVOKED,
                         "the %s is revoked by the ARK's CRL (the cached CRL, past its "
                         "nextUpdate %s: offline, no current one; a revocation does not expire)",
                         vlek ? "ASVK" : "ASK", when);
    }
    v->oom = v->oom || scratch.oom;
    cvma_verdict_cleanup(&scratch);
    X509_CRL_free(crl);
    return st;
}

static bool sha256_key(const struct cvma_snp_collateral *c, const struct cvma_verify_opts *opts,
                       uint8_t out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    const struct cvma_buf *parts[] = {&c->leaf, &c->ask, &c->ark, &c->crl, &c->crl_expired};
    for (size_t i = 0; ok && i < CVMA_ARRAY_LEN(parts); i++) {
        uint64_t len = parts[i]->len;
        ok = EVP_DigestUpdate(md, &len, sizeof len) == 1 &&
             (len == 0 || EVP_DigestUpdate(md, parts[i]->p, parts[i]->len) == 1);
    }
    uint8_t vlek = c->vlek;
    ok = ok && EVP_DigestUpdate(md, &vlek, 1) == 1;
    for (size_t i = 0; ok && i < opts->n_trust_roots; i++) {
        uint8_t h[32];
        if (opts->trust_root_spki != NULL) {
            memcpy(h, opts->trust_root_spki[i], sizeof h);
        } else if (!cvma_x509_spki_sha256(opts->trust_roots[i], h)) {
            ok = false;
            break;
        }
        ok = EVP_DigestUpdate(md, h, 32) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(md, out, &n) == 1 && n == 32;
    EVP_MD_CTX_free(md);
    return ok;
}

/* Verifies the chain and extracts what the report checks need. */
static enum cvma_status verify_chain(const struct cvma_snp_collateral *c,
                                     const struct cvma_verify_opts *opts, struct snp_chain **out,
                                     struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    X509 *leaf = NULL, *ask = NULL, *ark = NULL;
    X509_CRL *crl = NULL;
    STACK_OF(X509) *untrusted = NULL;
    struct snp_chain *ch = NULL;
    const char *lname = c->vlek ? "VLEK" : "VCEK";
    const char *roles[] = {lname, c->vlek ? "ASVK" : "ASK", "ARK"};
    size_t bad = 0;

    *out = NULL;
    if ((ch = calloc(1, sizeof *ch)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if ((leaf = cvma_x509_load(c->leaf.p, c->leaf.len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "%s: not a DER or PEM X.509 certificate", lname);
        goto out;
    }
    if ((ask = cvma_x509_load(c->ask.p, c->ask.len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "%s: not a DER or PEM X.509 certificate",
                         c->vlek ? "ASVK" : "ASK");
        goto out;
    }
    if ((ark = cvma_x509_load(c->ark.p, c->ark.len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "ARK: not a DER or PEM X.509 certificate");
        goto out;
    }
    if (c->crl.len > 0 && (crl = cvma_crl_load(c->crl.p, c->crl.len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CRL_INVALID, "AMD CRL: not a DER or PEM CRL");
        goto out;
    }
    if ((st = pick_anchor(ark, opts, ch, v)) != CVMA_OK) {
        goto out;
    }
    /* Validity windows, kept so that a cached chain re-checks the time on every use. */
    X509 *all[] = {leaf, ask, ark};
    if (!cvma_chain_window(all, CVMA_ARRAY_LEN(all), &ch->not_before, &ch->not_after, &bad)) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "%s: unreadable validity dates", roles[bad]);
        goto out;
    }
    if ((untrusted = sk_X509_new_null()) == NULL || !sk_X509_push(untrusted, ask)) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    /* Not strict (CVMA_CHAIN_STRICT): VCEKs have no Authority Key Identifier. */
    const struct cvma_chain_req req = {
            .leaf = leaf,
            .intermediates = untrusted,
            .anchor = ark,
            .at = opts->at,
            .roles = roles,
            .n_roles = CVMA_ARRAY_LEN(roles),
            .name = lname,
            .issuers = "ASK/ARK",
            .expect_len = 3,
    };
    if ((st = cvma_chain_verify(&req, NULL, v)) != CVMA_OK) {
        goto out;
    }
    /* AMD signs with one scheme only, RSASSA-PSS with SHA-384, MGF1 SHA-384 and a salt of 48
     * bytes: a certificate of the chain signed any other way (PKCS#1 v1.5, MD5, SHA-1, PSS
     * with other parameters), which OpenSSL's check takes, is none of AMD's. */
    for (size_t i = 0; i < CVMA_ARRAY_LEN(all); i++) {
        const X509_ALGOR *alg = NULL;
        char why[96];
        X509_get0_signature(NULL, &alg, all[i]);
        if (!cvma_algor_is_amd_pss(alg, why, sizeof why)) {
            st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                             "%s: signed with %s, not RSASSA-PSS with SHA-384 (MGF1 SHA-384, "
                             "salt 48), the one scheme AMD signs with",
                             roles[i], why);
            goto out;
        }
    }
    /* The leaf signs reports: AMD's VCEKs and VLEKs carry no basicConstraints and no keyUsage.
     * One that says it is a CA (CA:TRUE, keyCertSign) is not such a key, whoever signed it. */
    if (cvma_x509_says_ca(leaf)) {
        st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                         "%s: a CA certificate (basicConstraints CA:TRUE or keyUsage "
                         "keyCertSign), not a key that signs reports",
                         lname);
        goto out;
    }
    if (crl != NULL && (st = check_crl(crl, ark, ask, c->vlek, opts->at, ch, v)) != CVMA_OK) {
        goto out;
    }
    if (crl == NULL && c->crl_expired.len > 0 &&
        (st = check_expired_crl(&c->crl_expired, ark, ask, c->vlek, v)) != CVMA_OK) {
        goto out;
    }
    bool oom = false;
    if ((ch->pub = cvma_p384_pub_new(X509_get0_pubkey(leaf), &oom)) == NULL) {
        if (oom) {
            v->oom = true;
            st = CVMA_E_NOMEM;
            goto out;
        }
        st = cvma_reject(v, CVMA_R_CERT_KEY_UNSUPPORTED, "%s: key is not ECDSA P-384", lname);
        goto out;
    }
    if ((st = cvma_amd_cert_ext_parse(leaf, &ch->ext, v)) != CVMA_OK) {
        goto out;
    }
    *out = ch;
    ch = NULL;
    st = CVMA_OK;
out:
    snp_chain_free(ch);
    sk_X509_free(untrusted); /* borrowed: ask */
    X509_CRL_free(crl);
    X509_free(leaf);
    X509_free(ask);
    X509_free(ark);
    return st;
}

/* Time-dependent checks of a cached chain: all still inside their windows? As OpenSSL
 * judges them in the full check, notAfter and nextUpdate themselves are past. */
static bool chain_current(const struct snp_chain *ch, time_t at)
{
    if (at < ch->not_before || at >= ch->not_after) {
        return false;
    }
    if (ch->has_crl && (at < ch->crl_this_update || at >= ch->crl_next_update)) {
        return false;
    }
    return true;
}

static void check_spl(const struct snp_chain *ch, int idx, const char *spl_name,
                      const char *tcb_name, uint8_t reported, const char *lname, bool required,
                      struct cvma_verdict *v)
{
    if (!ch->ext.has_spl[idx]) {
        if (required) {
            cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                        "%s has no %s extension (1.3.6.1.4.1.3704.1.3.%d)", lname, spl_name, idx);
        }
        return;
    }
    if (ch->ext.spl[idx] != reported) {
        cvma_reject(v, CVMA_R_SNP_TCB_MISMATCH, "%s %s=%u but REPORTED_TCB.%s=%u", lname, spl_name,
                    ch->ext.spl[idx], tcb_name, reported);
    }
}

static void compare_tcb(const char *a_name, const struct cvma_snp_tcb *a, const char *b_name,
                        const struct cvma_snp_tcb *b, enum cvma_reason code, struct cvma_verdict *v)
{
    /* Records `code` for each component where a > b. */
    struct {
        const char *n;
        uint8_t x, y;
    } parts[] = {{"fmc", a->fmc, b->fmc},
                 {"bootloader", a->bootloader, b->bootloader},
                 {"tee", a->tee, b->tee},
                 {"snp", a->snp, b->snp},
                 {"microcode", a->microcode, b->microcode}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(parts); i++) {
        if (i == 0 && !a->has_fmc) {
            continue;
        }
        if (parts[i].x > parts[i].y) {
            cvma_reject(v, code, "%s.%s=%u is above %s.%s=%u", a_name, parts[i].n, parts[i].x,
                        b_name, parts[i].n, parts[i].y);
        }
    }
}

/* The ties between the leaf certificate and the report (AMD pub. 57230). */
static void check_binding(const struct cvma_snp_report *rep, enum cvma_snp_product product,
                          const struct snp_chain *ch, bool vlek, struct cvma_verdict *v)
{
    const char *lname = vlek ? "VLEK" : "VCEK";
    struct cvma_snp_tcb rt;
    size_t before = v->n_reasons;
    bool turin = product == CVMA_SNP_PRODUCT_TURIN;

    cvma_snp_tcb_split(rep->reported_tcb, product, &rt);
    if (ch->ext.has_struct_version && ch->ext.struct_version != (turin ? 1 : 0)) {
        cvma_reject(v, CVMA_R_SNP_PRODUCT_MISMATCH,
                    "%s structVersion=%ld but the product %s uses TCB layout %d", lname,
                    ch->ext.struct_version, cvma_snp_product_name(product), turin ? 1 : 0);
    }
    check_spl(ch, CVMA_AMD_SPL_BL, "blSPL", "bootloader", rt.bootloader, lname, true, v);
    check_spl(ch, CVMA_AMD_SPL_TEE, "teeSPL", "tee", rt.tee, lname, true, v);
    check_spl(ch, CVMA_AMD_SPL_SNP, "snpSPL", "snp", rt.snp, lname, true, v);
    check_spl(ch, CVMA_AMD_SPL_UCODE, "ucodeSPL", "microcode", rt.microcode, lname, true, v);
    if (turin) {
        check_spl(ch, CVMA_AMD_SPL_FMC, "fmcSPL", "fmc", rt.fmc, lname, true, v);
    } else if (ch->ext.has_spl[CVMA_AMD_SPL_FMC]) {
        cvma_reject(v, CVMA_R_SNP_PRODUCT_MISMATCH,
                    "%s has fmcSPL, which only Turin and later "
                    "have, but the product is %s",
                    lname, cvma_snp_product_name(product));
    }
    /* Reserved SPLs must match the reserved TCB bytes (Milan/Genoa bytes 2..5 = spl_4..7;
     * Turin bytes 4..6 = spl_5..7). */
    for (int idx = 4; idx <= 7; idx++) {
        int byte = turin ? idx - 1 : idx - 2;
        char nm[16], tn[16];
        if (turin && idx == 4) {
            continue;
        }
        snprintf(nm, sizeof nm, "spl_%d", idx);
        snprintf(tn, sizeof tn, "byte%d", byte);
        uint8_t reported = (uint8_t)(rep->reported_tcb >> (8 * byte));
        if (!ch->ext.has_spl[idx] && reported != 0) {
            /* A leaf without a reserved SPL vouches for that byte being 0 (AMD's carry all
             * four): a report with another value there is not the one it was issued for. */
            cvma_reject(v, CVMA_R_SNP_TCB_MISMATCH,
                        "%s has no %s extension (1.3.6.1.4.1.3704.1.3.%d), which stands for 0, "
                        "but REPORTED_TCB.%s=%u",
                        lname, nm, idx, tn, reported);
            continue;
        }
        check_spl(ch, idx, nm, tn, reported, lname, false, v);
    }

    if (!vlek) {
        if (ch->ext.has_csp_id) {
            cvma_reject(v, CVMA_R_SNP_KEY_TYPE_MISMATCH,
                        "the report was signed with a VCEK but the certificate carries a VLEK "
                        "csp_id (%s)",
                        ch->ext.csp_id);
        } else if (!ch->ext.has_hwid) {
            cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                        "VCEK has no hwID extension "
                        "(1.3.6.1.4.1.3704.1.4)");
        } else if (cvma_snp_chip_id_masked(rep)) {
            cvma_reject(v, CVMA_R_SNP_CHIP_ID_MASKED,
                        "CHIP_ID is all zero (the host set MASK_CHIP_ID), so the VCEK hwID "
                        "cannot be checked against it");
        } else {
            size_t n = ch->ext.hwid_len;
            bool bad = turin ? n != 8 : n != 64;
            if (!bad && memcmp(ch->ext.hwid, rep->chip_id, n) != 0) {
                bad = true;
            }
            if (!bad && n == 8 && !cvma_bytes_are_zero(rep->chip_id + 8, 56)) {
                /* Turin: only 8 ID bytes; the rest must be zero */
                cvma_reject(v, CVMA_R_SNP_CHIP_ID_MISMATCH,
                            "CHIP_ID bytes 8..63 are not zero: a Turin CHIP_ID is the 8 bytes of "
                            "the VCEK's hwID followed by 56 zero bytes");
            } else if (bad) {
                char a[129], b[129];
                cvma_hex_encode(ch->ext.hwid, n, a, sizeof a);
                cvma_hex_encode(rep->chip_id, turin ? 8 : 64, b, sizeof b);
                cvma_reject(v, CVMA_R_SNP_CHIP_ID_MISMATCH,
                            "VCEK hwID=%s (%zu bytes) but CHIP_ID=%s%s", a, n, b,
                            turin ? "... (Turin: first 8 bytes)" : "");
            }
        }
    } else {
        if (ch->ext.has_hwid) {
            cvma_reject(v, CVMA_R_SNP_KEY_TYPE_MISMATCH,
                        "the report was signed with a VLEK but the certificate carries a VCEK "
                        "hwID");
        } else if (!ch->ext.has_csp_id) {
            cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                        "VLEK has no csp_id extension "
                        "(1.3.6.1.4.1.3704.1.5)");
        }
    }
    /* The binding passed when none of its own checks recorded an error. */
    for (size_t i = before; i < v->n_reasons; i++) {
        if (v->reasons[i].severity == CVMA_SEV_ERROR) {
            return;
        }
    }
    cvma_verdict_pass(v, CVMA_CHECK_CERT_BINDING);
}

/*
 * Decides the product from the report CPUID (or, for a report without one, --product), the
 * leaf's productName and the root. given: rep->product came from --product.
 */
static enum cvma_status decide_product(const struct cvma_snp_report *rep, bool given,
                                       const struct snp_chain *ch, enum cvma_snp_product *product,
                                       struct cvma_verdict *v)
{
    enum cvma_snp_product from_cert = CVMA_SNP_PRODUCT_UNKNOWN;
    enum cvma_snp_product p = rep->product;
    char src[64];
    if (given) {
        snprintf(src, sizeof src, "--product");
    } else {
        snprintf(src, sizeof src, "report CPUID (family 0x%02x model 0x%02x)", rep->cpuid_fam_id,
                 rep->cpuid_mod_id);
    }
    if (ch->ext.has_product_name) {
        from_cert = cvma_snp_product_from_name(ch->ext.product_name);
        if (from_cert == CVMA_SNP_PRODUCT_UNKNOWN) {
            return cvma_reject(v, CVMA_R_SNP_PRODUCT_UNKNOWN,
                               "leaf productName '%s' is not Milan, Genoa or Turin",
                               ch->ext.product_name);
        }
    }
    if (p != CVMA_SNP_PRODUCT_UNKNOWN && from_cert != CVMA_SNP_PRODUCT_UNKNOWN && p != from_cert) {
        return cvma_reject(v, CVMA_R_SNP_PRODUCT_MISMATCH,
                           "%s is %s but the leaf productName is '%s'", src,
                           cvma_snp_product_name(p), ch->ext.product_name);
    }
    if ((p == CVMA_SNP_PRODUCT_UNKNOWN || given) && rep->version >= 3) {
        /* The report names its CPU, but none of the products known here (given: --product was
         * taken because of that): the TCB layout is then another source's, which is said
         * rather than guessed silently, whether a user's option or a certificate chose it. */
        cvma_verdict_add(v, CVMA_R_SNP_PRODUCT_UNKNOWN, CVMA_SEV_WARNING,
                         "report CPUID family 0x%02x model 0x%02x is no product known here "
                         "(Milan, Genoa, Turin); the product is taken from %s",
                         rep->cpuid_fam_id, rep->cpuid_mod_id,
                         given                                   ? "--product"
                         : from_cert != CVMA_SNP_PRODUCT_UNKNOWN ? "the leaf's productName"
                                                                 : "the root");
    }
    if (p == CVMA_SNP_PRODUCT_UNKNOWN) {
        p = from_cert;
    }
    if (p == CVMA_SNP_PRODUCT_UNKNOWN) {
        p = ch->root_product;
    }
    if (p == CVMA_SNP_PRODUCT_UNKNOWN) {
        return cvma_reject(v, CVMA_R_SNP_PRODUCT_UNKNOWN,
                           "no product in the report (v%" PRIu32 ", CPUID %02x/%02x) nor in "
                           "the leaf certificate: give --product milan|genoa|turin",
                           rep->version, rep->cpuid_fam_id, rep->cpuid_mod_id);
    }
    if (ch->root_product != CVMA_SNP_PRODUCT_UNKNOWN && ch->root_product != p) {
        return cvma_reject(v, CVMA_R_SNP_PRODUCT_MISMATCH,
                           "the report is from a %s%s but the chain ends in the %s ARK",
                           cvma_snp_product_name(p), given ? " (--product)" : "",
                           cvma_snp_product_name(ch->root_product));
    }
    *product = p;
    return CVMA_OK;
}

/*
 * True when the report itself breaks a tie check_binding makes, whatever the certificate: its
 * REPORTED_TCB's reserved bytes are not zero (no VCEK address carries them), or a Turin CHIP_ID
 * has bytes past its 8 ID bytes. Such a report is the evidence's fault (refused), never a
 * reason to find a fetched VCEK at fault and evict it.
 */
static bool binding_fault_in_report(const struct cvma_snp_report *rep,
                                    enum cvma_snp_product product)
{
    bool turin = product == CVMA_SNP_PRODUCT_TURIN;
    for (int byte = turin ? 4 : 2; byte <= (turin ? 6 : 5); byte++) {
        if ((uint8_t)(rep->reported_tcb >> (8 * byte)) != 0) {
            return true;
        }
    }
    return turin && !cvma_bytes_are_zero(rep->chip_id + 8, 56);
}

/* True when an error check_binding recorded (from reason index since) says the leaf is not
 * the certificate for this report's chip and TCB. A masked CHIP_ID is the report's own. */
static bool binding_blames_leaf(const struct cvma_verdict *v, size_t since)
{
    for (size_t i = since; i < v->n_reasons; i++) {
        enum cvma_reason r = v->reasons[i].code;
        if (v->reasons[i].severity == CVMA_SEV_ERROR && r != CVMA_R_SNP_CHIP_ID_MASKED) {
            return true;
        }
    }
    return false;
}

/* True when ark (may be NULL) is a trusted root that signs ask (may be NULL). */
static bool chain_sound(X509 *ask, X509 *ark, const struct cvma_chain_pin *pins, size_t n_pins,
                        const struct cvma_verify_opts *opts)
{
    char hex[65];
    return ark != NULL && ask != NULL &&
           cvma_chain_pick_anchor(ark, pins, n_pins, opts->trust_roots, NULL, opts->n_trust_roots,
                                  hex) >= 0 &&
           X509_verify(ask, X509_get0_pubkey(ark)) == 1;
}

/* The KDS cert_chain half of which filled in a given half (c->chain_rest): sound on its own? */
static bool chain_rest_sound(const struct cvma_snp_collateral *c, const struct cvma_chain_pin *pins,
                             size_t n_pins, const struct cvma_verify_opts *opts)
{
    STACK_OF(X509) *sk = cvma_x509_load_pem_stack(c->chain_rest.p, c->chain_rest.len);
    bool ok = sk != NULL && sk_X509_num(sk) == 2 &&
              chain_sound(sk_X509_value(sk, 0), sk_X509_value(sk, 1), pins, n_pins, opts);
    sk_X509_pop_free(sk, X509_free);
    return ok;
}

/*
 * After the chain failed (its first error: first): which fetched pieces are at fault. The
 * cert_chain is when its ARK is no trusted root or does not sign its ASK/ASVK; the leaf is
 * when, under a sound chain, the ASK/ASVK does not sign it, and then a fetched cert_chain is
 * too if its ASK/ASVK is not the leaf's issuer by name; the CRL is when it is what failed
 * (CRL_INVALID: not signed by the ARK, no nextUpdate). Anything else (a validity window at
 * --at, a revocation by a CRL the ARK signed) is not the network's doing: no fault here. (A
 * fetched CRL whose own window misses the verification time is no fault either, but neither
 * is it the evidence's: cvma_snp_verify makes that undecided before asking here.)
 * Under a chain that was given (the evidence's bundle chose it, or the directory), the
 * fetched leaf is at fault only when it names that ASK/ASVK as its issuer: a genuine chain of
 * the wrong kind for the leaf (the ASVK chain or another product's, beside a VCEK) is the
 * evidence's fault (refused), and must not send a genuine VCEK out of the cache (and the
 * fleet's) each time such evidence is handed over.
 */
static bool fetched_at_fault(const struct cvma_snp_collateral *c,
                             const struct cvma_verify_opts *opts, enum cvma_reason first,
                             bool *leaf_bad, bool *chain_bad, bool *crl_bad)
{
    struct cvma_chain_pin pins[CVMA_ARRAY_LEN(amd_roots)];
    X509 *leaf = NULL, *ask = NULL, *ark = NULL;
    bool chain_ok;

    *leaf_bad = *chain_bad = false;
    *crl_bad = c->crl_fetched && first == CVMA_R_CRL_INVALID;
    if (!c->leaf_fetched && !c->chain_fetched && c->chain_rest.len == 0) {
        return *crl_bad;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(amd_roots); i++) {
        pins[i].spki_sha256 = amd_roots[i].spki_sha256;
    }
    ark = cvma_x509_load(c->ark.p, c->ark.len);
    ask = cvma_x509_load(c->ask.p, c->ask.len);
    chain_ok = chain_sound(ask, ark, pins, CVMA_ARRAY_LEN(pins), opts);
    /* Half fetched, half given: the fetched cert_chain is at fault when it fails on its own
     * (its ARK no trusted root, or not signing its ASK), never for the given half. */
    *chain_bad = (c->chain_fetched && !chain_ok) ||
                 (!chain_ok && c->chain_rest.len > 0 &&
                  !chain_rest_sound(c, pins, CVMA_ARRAY_LEN(pins), opts));
    if (chain_ok && c->leaf_fetched) {
        leaf = cvma_x509_load(c->leaf.p, c->leaf.len);
        bool unsigned_leaf = leaf == NULL || X509_verify(leaf, X509_get0_pubkey(ask)) != 1;
        bool names_ask = leaf != NULL &&
                         X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ask)) == 0;
        *leaf_bad = unsigned_leaf && (leaf == NULL || c->chain_fetched || names_ask);
        /* A chain the ARK signs may still be the wrong one for this leaf: another product's
         * (SEV-Genoa), or the ASVK chain at the VCEK URL (SEV-VLEK-Milan). Kept, it would
         * fail every genuine VCEK fetched after it for as long as it is cached, so when its
         * ASK/ASVK is not the one the leaf names as issuer it goes too (one download). */
        *chain_bad = unsigned_leaf && c->chain_fetched && leaf != NULL && !names_ask;
    }
    ERR_clear_error();
    X509_free(leaf);
    X509_free(ask);
    X509_free(ark);
    return *leaf_bad || *chain_bad || *crl_bad;
}

/* True when the CRL der (DER or PEM) does not cover at; *tu and *nu are its window. */
static bool crl_misses(const struct cvma_buf *der, time_t at, time_t *tu, time_t *nu)
{
    X509_CRL *crl = der->len > 0 ? cvma_crl_load(der->p, der->len) : NULL;
    bool misses = crl != NULL && cvma_crl_misses(crl, at, tu, nu);
    X509_CRL_free(crl);
    ERR_clear_error();
    return misses;
}

/*
 * Fetched collateral failed its own checks: the items at fault leave the on-disk cache (and
 * the fleet's), then the errors since `since` become COLLATERAL_UNAVAILABLE
 * (cvma_result_fetched_collateral_refused).
 */
static void fetched_collateral_refused(struct cvma_result *res, const struct cvma_snp_report *rep,
                                       const struct cvma_verify_opts *opts,
                                       const struct cvma_snp_collateral *c, size_t since, bool leaf,
                                       bool chain, bool crl)
{
    char removed[128];
    cvma_snp_collateral_evict(rep, opts, c, leaf, chain, crl, removed, sizeof removed);
    cvma_result_fetched_collateral_refused(res, since, "AMD KDS", removed);
}

static void set_platform(struct cvma_result *res, const struct cvma_snp_report *rep,
                         const struct snp_chain *ch, bool vlek)
{
    struct cvma_platform *pl = &res->platform;
    memset(pl, 0, sizeof *pl);
    pl->present = true;
    pl->vendor = CVMA_PLATFORM_AMD;
    if (vlek) {
        const char *csp = ch->ext.csp_id;
        if (strncmp(csp, "CN=", 3) == 0) {
            csp += 3;
        }
        pl->id_type = CVMA_PLATFORM_VLEK;
        size_t n = strlen(csp);
        if (ch->ext.has_csp_id && n > 0 && n <= sizeof pl->id) {
            pl->id_len = n;
            memcpy(pl->id, csp, n);
            pl->has_id = true;
        } /* else no identifier: a certificate with no cspID (a VCEK handed over as the VLEK,
           * refused as SNP_KEY_TYPE_MISMATCH) or an empty one names no platform, and one
           * longer than an identifier is kept would be another's cut short (docs/results.md) */
        if (!cvma_snp_chip_id_masked(rep)) {
            /* Unmasked on a VLEK host: a registry may list the chip too (docs/registry.md). */
            pl->has_chip_id = true;
            memcpy(pl->chip_id, rep->chip_id, sizeof pl->chip_id);
        }
    } else {
        pl->id_type = CVMA_PLATFORM_CHIP_ID;
        if (!cvma_snp_chip_id_masked(rep)) {
            pl->has_id = true;
            pl->id_len = sizeof rep->chip_id;
            memcpy(pl->id, rep->chip_id, sizeof rep->chip_id);
        }
    }
}

void cvma_snp_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                     const struct cvma_snp_collateral *preloaded, struct cvma_result *res)
{
    struct cvma_verdict *v = &res->verdict;
    struct cvma_parse_opts popts = {.allow_trailing_data = opts->allow_trailing_data};
    struct cvma_snp_report *rep = NULL;
    struct cvma_snp_collateral fetched;
    const struct cvma_snp_collateral *coll = preloaded;
    struct snp_chain *ch = NULL;
    struct cvma_chain_ref *ch_ref = NULL; /* our reference to ch, from the cache or new */
    uint8_t key[32], digest[48];
    unsigned int dlen = 0;
    enum cvma_snp_product product = CVMA_SNP_PRODUCT_UNKNOWN;
    bool product_given = false; /* rep->product set from --product */

    memset(&fetched, 0, sizeof fetched);
    v->checks_required = CVMA_CHECK_PARSE | CVMA_CHECK_CHAIN | CVMA_CHECK_REVOCATION |
                         CVMA_CHECK_SIGNATURE | CVMA_CHECK_CERT_BINDING;
    if ((rep = malloc(sizeof *rep)) == NULL) {
        v->oom = true;
        goto out;
    }
    if (cvma_verdict_step(v, cvma_snp_report_parse(p, len, &popts, rep, v)) != CVMA_OK) {
        goto out;
    }
    cvma_verdict_pass(v, CVMA_CHECK_PARSE);

    unsigned sk = cvma_snp_signing_key(rep);
    if (sk == CVMA_SNP_KEY_NONE || (rep->signer_info & 0x2) != 0) {
        cvma_reject(v, CVMA_R_SNP_REPORT_UNSIGNED,
                    "signer info 0x%08" PRIx32 ": SIGNING_KEY=%u, MASK_CHIP_KEY=%u; the "
                    "firmware signed nothing",
                    rep->signer_info, sk, (unsigned)((rep->signer_info >> 1) & 1));
        goto out;
    }
    if (sk != CVMA_SNP_KEY_VCEK && sk != CVMA_SNP_KEY_VLEK) {
        cvma_reject(v, CVMA_R_SNP_SIGNING_KEY_UNKNOWN,
                    "SIGNING_KEY=%u is reserved (0 = VCEK, 1 = VLEK, 7 = none)", sk);
        goto out;
    }
    if (rep->signature_algo != 1) {
        cvma_reject(v, CVMA_R_SNP_SIGNATURE_ALGO_UNSUPPORTED,
                    "SIGNATURE_ALGO=%" PRIu32 ", expected 1 (ECDSA P-384 with SHA-384)",
                    rep->signature_algo);
        goto out;
    }
    bool vlek = sk == CVMA_SNP_KEY_VLEK;
    cvma_snp_name_unread_parts(opts, vlek, v);

    /* --product: a v2 report names no product, yet the product selects the KDS URLs, the
     * pinned ARK and the TCB layout. Where the report does name one, they must agree. */
    if (opts->snp_product != CVMA_SNP_PRODUCT_UNKNOWN) {
        enum cvma_snp_product want = (enum cvma_snp_product)opts->snp_product;
        if (want != CVMA_SNP_PRODUCT_MILAN && want != CVMA_SNP_PRODUCT_GENOA &&
            want != CVMA_SNP_PRODUCT_TURIN) {
            cvma_reject(v, CVMA_R_SNP_PRODUCT_UNKNOWN, "--product: %d is not a known product",
                        opts->snp_product);
            goto out;
        }
        if (rep->product != CVMA_SNP_PRODUCT_UNKNOWN && rep->product != want) {
            cvma_reject(v, CVMA_R_SNP_PRODUCT_MISMATCH,
                        "report CPUID (family 0x%02x model 0x%02x) is %s but --product is %s",
                        rep->cpuid_fam_id, rep->cpuid_mod_id, cvma_snp_product_name(rep->product),
                        cvma_snp_product_name(want));
            goto out;
        }
        product_given = rep->product == CVMA_SNP_PRODUCT_UNKNOWN;
        rep->product = want;
    }

    if (preloaded == NULL || preloaded->crl.len == 0) {
        /* Collateral prepared once from the evidence's bundle (preloaded, its CRL kept apart)
         * still gets the verifier's own CRL on each verification; preloaded collateral that
         * holds the verifier's own CRL (its directory read into the evidence, or fetched) is
         * used as it is. */
        enum cvma_status cst = cvma_snp_collateral_get(rep, opts, preloaded, &fetched, v);
        if (cst == CVMA_UNDECIDED) {
            res->undecided = true;
            goto out;
        }
        if (cvma_verdict_step(v, cst) != CVMA_OK) {
            goto out;
        }
        coll = &fetched;
    }
    if (coll->vlek != vlek) {
        cvma_reject(v, CVMA_R_SNP_KEY_TYPE_MISMATCH,
                    "the report names a %s (SIGNING_KEY=%u) but the collateral holds a %s",
                    vlek ? "VLEK" : "VCEK", sk, coll->vlek ? "VLEK" : "VCEK");
        goto out;
    }

    /* The chain: from the cache when these exact bytes were verified before. */
    if (!sha256_key(coll, opts, key)) {
        v->oom = true;
        goto out;
    }
    ch_ref = cvma_chain_cache_get(opts->chain_cache, key);
    ch = cvma_chain_ref_val(ch_ref);
    if (ch != NULL && !chain_current(ch, opts->at)) {
        /* outside a validity window now: verify in full to name the reason */
        cvma_chain_ref_release(ch_ref);
        ch_ref = NULL;
        ch = NULL;
    }
    if (ch == NULL) {
        size_t since = v->n_reasons;
        enum cvma_status cst = verify_chain(coll, opts, &ch, v);
        if (cvma_verdict_step(v, cst) != CVMA_OK) {
            const struct cvma_verdict_reason *first = cvma_verdict_first_error_since(v, since);
            bool bl, bc, bcrl;
            time_t tu, nu;
            if (cst == CVMA_REJECTED && first != NULL && first->code == CVMA_R_CRL_EXPIRED &&
                coll->crl_fetched && crl_misses(&coll->crl, opts->at, &tu, &nu)) {
                /* The verifier's own CRL (KDS, its cache or the fleet's) is not the one of
                 * that time: the verifier's choice, not the evidence's. Sound (check_crl
                 * checked its signature first), so it stays cached; the chain's windows passed
                 * before it, and a revocation it dates by then was CERT_REVOKED instead. */
                cvma_result_fetched_collateral_untimely(res, since, "AMD KDS", "AMD CRL", tu, nu,
                                                        opts->at);
            } else if (cst == CVMA_REJECTED && first != NULL &&
                       fetched_at_fault(coll, opts, first->code, &bl, &bc, &bcrl)) {
                fetched_collateral_refused(res, rep, opts, coll, since, bl, bc, bcrl);
            }
            goto out;
        }
        /* Only the chain is cached, never a verdict on a report. Without a cache this is
         * just our reference to ch. */
        if ((ch_ref = cvma_chain_cache_put(opts->chain_cache, key, ch, snp_chain_free)) == NULL) {
            ch = NULL;
            v->oom = true;
            goto out;
        }
    }
    snprintf(res->trust_anchor, sizeof res->trust_anchor, "%s", ch->anchor);
    cvma_verdict_pass(v, CVMA_CHECK_CHAIN);
    if (ch->has_crl && coll->crl_from_evidence) {
        /* Checked, but chosen by the evidence: an older CRL still in its window, or the other
         * key path's (AMD's VCEK and VLEK CRLs look alike), would pass as well. */
        cvma_reject(v, CVMA_R_COLLATERAL_FROM_EVIDENCE,
                    "the only AMD CRL at hand was the evidence bundle's crl.der (offline, none in "
                    "--collateral DIR or the cache): it is the ARK's and lists no revoked %s, but "
                    "the evidence chose it, so revocation of the %s rests on that choice; give "
                    "crl.der in --collateral DIR, or verify online",
                    vlek ? "ASVK" : "ASK", vlek ? "ASVK" : "ASK");
    } else if (!ch->has_crl) {
        if (coll->crl_note[0] != '\0') {
            cvma_reject(v, CVMA_R_CRL_NOT_CHECKED,
                        "the AMD CRL could not be fetched (%s): revocation of the %s was not "
                        "checked",
                        coll->crl_note, vlek ? "ASVK" : "ASK");
        } else {
            cvma_reject(v, CVMA_R_CRL_NOT_CHECKED,
                        "no AMD CRL in the collateral: revocation of the %s was not checked",
                        vlek ? "ASVK" : "ASK");
        }
    }
    cvma_verdict_pass(v, CVMA_CHECK_REVOCATION);

    size_t since = v->n_reasons;
    enum cvma_status pst = decide_product(rep, product_given, ch, &product, v);
    if (cvma_verdict_step(v, pst) != CVMA_OK) {
        /* A fetched leaf or chain of another product than the one whose URLs were asked. */
        if (pst == CVMA_REJECTED && (coll->leaf_fetched || coll->chain_fetched)) {
            fetched_collateral_refused(res, rep, opts, coll, since, true, true, false);
        }
        goto out;
    }

    /* The certificate-to-report ties first: when someone hands over the VCEK of another chip
     * or TCB, they say why the signature will not verify. */
    since = v->n_reasons;
    check_binding(rep, product, ch, vlek, v);
    if (coll->leaf_fetched && v->n_reasons > since && binding_blames_leaf(v, since) &&
        !binding_fault_in_report(rep, product)) {
        /* The fetched VCEK is not the one its URL (this report's CHIP_ID and REPORTED_TCB)
         * asked for: the cache or the network's doing, not the evidence's. */
        fetched_collateral_refused(res, rep, opts, coll, since, true, false, false);
        goto out;
    }

    /* SEV-SNP ABI: ECDSA P-384 over SHA-384 of report bytes 0x000..0x29F. */
    if (EVP_Digest(rep->signed_bytes, CVMA_SNP_SIGNED_SIZE, digest, &dlen, EVP_sha384(), NULL) !=
                1 ||
        dlen != 48) {
        v->oom = true;
        goto out;
    }
    if (!cvma_p384_verify(ch->pub, opts->p384_backend, digest, rep->sig_r, rep->sig_s)) {
        cvma_reject(v, CVMA_R_SNP_REPORT_SIGNATURE_INVALID,
                    "report signature (ECDSA P-384, SHA-384 over bytes 0x000..0x29F) does not "
                    "verify with the %s's key",
                    vlek ? "VLEK" : "VCEK");
        goto out;
    }
    cvma_verdict_pass(v, CVMA_CHECK_SIGNATURE);

    /* Relations between the report's own TCBs (AMD: VCEK TCB <= CURRENT). */
    struct cvma_snp_tcb reported, current, committed;
    cvma_snp_tcb_split(rep->reported_tcb, product, &reported);
    cvma_snp_tcb_split(rep->current_tcb, product, &current);
    cvma_snp_tcb_split(rep->committed_tcb, product, &committed);
    compare_tcb("REPORTED_TCB", &reported, "CURRENT_TCB", &current,
                CVMA_R_SNP_REPORTED_TCB_ABOVE_CURRENT, v);
    compare_tcb("CURRENT_TCB", &current, "COMMITTED_TCB", &committed,
                CVMA_R_SNP_COMMITTED_TCB_BELOW_CURRENT, v);
    /* The firmware never runs below the TCB it committed (anti-rollback), so a COMMITTED
     * component above CURRENT is an inconsistent report (go-sev-guest validateTcb refuses it
     * too), compared component by component in the product's layout. */
    compare_tcb("COMMITTED_TCB", &committed, "CURRENT_TCB", &current,
                CVMA_R_SNP_COMMITTED_TCB_ABOVE_CURRENT, v);

    /* Claims: from here on the report is authentic. */
    if (!cvma_snp_claims_set(res, rep, product, vlek && ch->ext.has_csp_id ? ch->ext.csp_id : NULL,
                             ch->ext.has_product_name ? ch->ext.product_name : NULL)) {
        v->oom = true;
        goto out;
    }
    set_platform(res, rep, ch, vlek);

    /* A guest asks for its report at VMPL 0..3. The host can ask the firmware for a report on
     * the guest too (SNP_HV_REPORT_REQ): its VMPL is 0xFFFFFFFF and its REPORT_DATA what the
     * host chose, so it binds no nonce or key of the guest's (AMD SEV-SNP ABI, 56860). */
    if (rep->vmpl == 0xFFFFFFFFu) {
        cvma_reject(v, CVMA_R_SNP_HOST_REQUESTED_REPORT,
                    "VMPL=0xFFFFFFFF: the host requested this report, and its REPORT_DATA is the "
                    "host's choice, not the guest's");
    } else if (rep->vmpl > 3) {
        cvma_reject(v, CVMA_R_SNP_VMPL_INVALID,
                    "VMPL=%" PRIu32 ": a guest-requested report has VMPL 0..3", rep->vmpl);
    }

    /* Appraisal that needs no policy file. A debug guest is refused by default: the host can
     * read its memory. Only a policy with snp.allow_debug true lowers this to a warning. */
    if (rep->policy & CVMA_SNP_POLICY_DEBUG) {
        cvma_reject(v, CVMA_R_SNP_DEBUG_ALLOWED,
                    "guest policy=0x%016" PRIx64 " has bit 19 (DEBUG) set: the host may "
                    "decrypt this guest; only a policy with snp.allow_debug true accepts it",
                    rep->policy);
    }
    if (opts->has_report_data &&
        CRYPTO_memcmp(opts->report_data, rep->report_data, sizeof rep->report_data) != 0) {
        char want[129], hex[129];
        cvma_hex_encode(opts->report_data, 64, want, sizeof want);
        cvma_hex_encode(rep->report_data, sizeof rep->report_data, hex, sizeof hex);
        cvma_reject(v, CVMA_R_NONCE_REPORT_DATA_MISMATCH, "REPORT_DATA=%s but expected %s", hex,
                    want);
    }
out:
    cvma_chain_ref_release(ch_ref);
    cvma_snp_collateral_cleanup(&fetched);
    free(rep);
}
