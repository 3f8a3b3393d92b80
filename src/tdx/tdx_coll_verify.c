/*
 * Verification of TDX collateral: each signed document's issuer chain to the pinned root, the
 * Root CA CRL, the ECDSA P-256 signature over the exact signed bytes, the document kind and
 * its issueDate / nextUpdate window (Intel QVL, collateral checks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/timeutil.h"
#include "crypto/chain.h"
#include "crypto/crypto.h"
#include "tdx/tdx_collateral.h"

/* ------------------------------------------------------------------------------------------ */
/* Verification                                                                               */
/* ------------------------------------------------------------------------------------------ */

static void fmt_time(time_t t, char *out, size_t n)
{
    cvma_time_format(t, out, n);
}

/*
 * The same root: the same subject and public key, which is what the root is pinned by (the
 * SHA-256 of its SPKI, or a --trust-root's key). Not the same bytes: anyone can write a root's
 * certificate in other bytes without its key (an ECDSA signature (r, s) is also (r, n - s)),
 * so a quote could carry a copy of the pinned root that no genuine issuer chain of a TCB Info
 * matches byte for byte; genuine fetched collateral would then be found at fault and removed
 * from the cache, for anyone's evidence to do again.
 */
static bool same_root(X509 *a, X509 *b)
{
    EVP_PKEY *ka = X509_get0_pubkey(a), *kb = X509_get0_pubkey(b);
    return ka != NULL && kb != NULL && EVP_PKEY_eq(ka, kb) == 1 &&
           X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(b)) == 0;
}

static char *serial_hex(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *s = bn != NULL ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    return s;
}

/* The Root CA CRL: taken (cvma_crl_check) and, unless any_time, current at `at`. */
static enum cvma_status check_root_crl(X509_CRL *crl, X509 *root, time_t at, bool any_time,
                                       struct cvma_verdict *v)
{
    time_t last, next;
    const X509_ALGOR *alg = NULL;
    enum cvma_status st = cvma_crl_check(crl, root, "Root CA CRL", &last, &next, v);

    X509_CRL_get0_signature(crl, NULL, &alg);
    if (st != CVMA_OK ||
        (st = cvma_intel_signed(alg, "Root CA CRL", CVMA_R_CRL_INVALID, v)) != CVMA_OK) {
        return st;
    }
    if (!any_time && (at < last || at >= next)) { /* nextUpdate itself is past, as OpenSSL has it */
        char win[CVMA_DETAIL_MAX];
        cvma_crl_window_detail(crl, "Root CA CRL", at, win, sizeof win);
        return cvma_reject(v, CVMA_R_CRL_EXPIRED, "%s", win);
    }
    return CVMA_OK;
}

/* x revoked at `at` by crl (a CRL that does not cover at: by a revocation it dates by then). */
static enum cvma_status check_not_revoked(X509_CRL *crl, X509 *x, const char *who, time_t at,
                                          struct cvma_verdict *v)
{
    if (cvma_crl_revokes_at(crl, x, at)) {
        char *serial = serial_hex(x);
        enum cvma_status st =
                cvma_reject(v, CVMA_R_CERT_REVOKED, "%s (serial %s) is listed in the Root CA CRL",
                            who, serial != NULL ? serial : "?");
        OPENSSL_free(serial);
        return st;
    }
    return CVMA_OK;
}

/* cvma_tdx_signed_json_verify, or with any_time its _any_time variant. */
static enum cvma_status signed_json_verify(const struct cvma_tdx_signed_json *doc,
                                           STACK_OF(X509) * chain, X509 *root,
                                           X509_CRL *root_ca_crl, time_t at, bool any_time,
                                           const char *what, struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    char role_signer[96], role_root[96], chain_name[96];
    X509 *signer;
    EVP_PKEY *key;
    char cn[128];
    int n;

    uintptr_t body_start = (uintptr_t)doc->body.p, part_start = (uintptr_t)doc->signed_part.p;

    /* The span must lie inside the body: it is what the signature covers. */
    if (doc->signed_part.p == NULL || doc->signed_part.len == 0 || doc->body.p == NULL ||
        part_start < body_start || part_start - body_start > doc->body.len ||
        doc->signed_part.len > doc->body.len - (part_start - body_start)) {
        v->undecided = true;
        cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE, "%s: no signed document", what);
        return CVMA_UNDECIDED;
    }
    if (root == NULL) {
        return cvma_reject(v, CVMA_R_CERT_UNTRUSTED_ROOT, "%s: no pinned root given", what);
    }
    n = chain != NULL ? sk_X509_num(chain) : 0;
    if (n != 2) {
        /* PCS issuer chains are the TCB Signing certificate and the root it was issued by. */
        return cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                           "%s issuer chain has %d certificates, expected 2 (signing certificate, "
                           "root)",
                           what, n);
    }
    signer = sk_X509_value(chain, 0);
    if (!same_root(sk_X509_value(chain, n - 1), root)) {
        cvma_x509_subject_cn(sk_X509_value(chain, n - 1), cn, sizeof cn);
        return cvma_reject(v, CVMA_R_CERT_UNTRUSTED_ROOT,
                           "%s issuer chain ends in '%s', which is not the pinned root", what, cn);
    }
    /* Intel's chains carry every extension strict mode wants. */
    snprintf(role_signer, sizeof role_signer, "%s signing certificate", what);
    snprintf(role_root, sizeof role_root, "root of the %s issuer chain", what);
    snprintf(chain_name, sizeof chain_name, "%s issuer", what);
    {
        const char *roles[] = {role_signer, role_root};
        const struct cvma_chain_req req = {
                .leaf = signer,
                .anchor = root,
                .at = at,
                .flags = CVMA_CHAIN_STRICT | (any_time ? CVMA_CHAIN_NO_TIME : 0),
                .roles = roles,
                .n_roles = CVMA_ARRAY_LEN(roles),
                .name = chain_name,
                .issuers = "root",
                .expect_len = n,
        };
        if ((st = cvma_chain_verify(&req, NULL, v)) != CVMA_OK) {
            goto out;
        }
        for (int i = 0; i < n; i++) {
            const X509_ALGOR *alg = NULL;
            X509_get0_signature(NULL, &alg, sk_X509_value(chain, i));
            if ((st = cvma_intel_signed(alg, roles[i], CVMA_R_CERT_CHAIN_INVALID, v)) != CVMA_OK) {
                goto out;
            }
        }
    }
    cvma_x509_subject_cn(signer, cn, sizeof cn);
    /* Intel's root issues other certificates too (the PCK CAs): the TCB Info and QE Identity
     * are signed by the TCB Signing one only, whose CN is exactly that (QVL's
     * TCBSigningChain compares the same name). */
    if (strcmp(cn, "Intel SGX TCB Signing") != 0) {
        st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                         "%s signing certificate is '%s', not an SGX TCB Signing one (CN "
                         "'Intel SGX TCB Signing')",
                         what, cn);
        goto out;
    }
    if (cvma_x509_says_ca(signer)) {
        st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                         "%s signing certificate '%s' is a CA certificate, not a signing one", what,
                         cn);
        goto out;
    }
    if ((X509_get_extension_flags(signer) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE) == 0) {
        st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                         "%s signing certificate '%s' does not allow digitalSignature", what, cn);
        goto out;
    }
    if (root_ca_crl == NULL) {
        (void)cvma_reject(v, CVMA_R_CRL_NOT_CHECKED,
                          "no Root CA CRL: revocation of the %s signing certificate was not "
                          "checked",
                          what);
    } else if ((st = check_root_crl(root_ca_crl, root, at, any_time, v)) != CVMA_OK ||
               (st = check_not_revoked(root_ca_crl, signer, cn, at, v)) != CVMA_OK ||
               (st = check_not_revoked(root_ca_crl, root, "the root", at, v)) != CVMA_OK) {
        goto out;
    }
    key = X509_get0_pubkey(signer);
    if (!cvma_pkey_is_p256(key)) {
        st = cvma_reject(v, CVMA_R_CERT_KEY_UNSUPPORTED,
                         "%s signing certificate '%s': key is not ECDSA P-256", what, cn);
        goto out;
    }
    /* Intel PCS: ECDSA P-256 / SHA-256 over the exact bytes of the inner object. */
    if (!cvma_p256_verify_raw(key, doc->signed_part.p, doc->signed_part.len, doc->signature)) {
        st = cvma_reject(v, CVMA_R_COLLATERAL_SIGNATURE_INVALID,
                         "%s: the ECDSA P-256 signature over its %zu signed bytes does not verify "
                         "with the key of '%s'",
                         what, doc->signed_part.len, cn);
        goto out;
    }
    st = CVMA_OK;
out:
    ERR_clear_error();
    return st;
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_signed_json_verify(const struct cvma_tdx_signed_json *doc,
                                             STACK_OF(X509) * chain, X509 *root,
                                             X509_CRL *root_ca_crl, time_t at, const char *what,
                                             struct cvma_verdict *v)
{
    return signed_json_verify(doc, chain, root, root_ca_crl, at, false, what, v);
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_signed_json_verify_any_time(const struct cvma_tdx_signed_json *doc,
                                                      STACK_OF(X509) * chain, X509 *root,
                                                      X509_CRL *root_ca_crl, time_t at,
                                                      const char *what, struct cvma_verdict *v)
{
    return signed_json_verify(doc, chain, root, root_ca_crl, at, true, what, v);
}

/* issueDate <= at <= nextUpdate (cvma_next_update_judge, the rule the cache and downloads
 * follow too); late by at most grace seconds: a warning. */
static enum cvma_status check_window(time_t issue, time_t next, time_t at, int64_t grace,
                                     const char *what, struct cvma_verdict *v)
{
    char a[32], b[32], w[32];

    fmt_time(issue, a, sizeof a);
    fmt_time(next, b, sizeof b);
    fmt_time(at, w, sizeof w);
    if (at < issue) {
        return cvma_reject(v, CVMA_R_COLLATERAL_NOT_YET_VALID,
                           "%s issued %s, after the verification time %s", what, a, w);
    }
    enum cvma_next_update judged = cvma_next_update_judge((int64_t)next, (int64_t)at, grace);
    if (judged != CVMA_NEXT_UPDATE_VALID) {
        int64_t late = (int64_t)at - (int64_t)next;
        if (judged == CVMA_NEXT_UPDATE_GRACE) {
            return cvma_verdict_add(v, CVMA_R_COLLATERAL_EXPIRED, CVMA_SEV_WARNING,
                                    "%s nextUpdate %s passed %lld s before the verification time "
                                    "%s, within the allowed grace of %lld s",
                                    what, b, (long long)late, w, (long long)grace);
        }
        return cvma_reject(v, CVMA_R_COLLATERAL_EXPIRED,
                           "%s valid %s .. %s (nextUpdate), verification time %s", what, a, b, w);
    }
    return CVMA_OK;
}

/* cvma_tdx_collateral_verify, or with any_time its _any_time variant (grace unused). */
static enum cvma_status collateral_verify(const struct cvma_tdx_collateral *c, X509 *root,
                                          time_t at, int64_t grace_seconds, bool any_time,
                                          struct cvma_verdict *v)
{
    const struct cvma_tdx_tcb_info *ti = &c->tcb_info;
    const struct cvma_tdx_qe_identity *qi = &c->qe_identity;
    enum cvma_status st;

    /* TCB Info [QVL 4.1.2.5.10]: chain, signature, kind, time. */
    if ((st = signed_json_verify(&c->tcb_info_doc, c->tcb_info_chain, root, c->root_ca_crl, at,
                                 any_time, "TCB Info", v)) != CVMA_OK) {
        return st;
    }
    if (strcmp(ti->id, "TDX") != 0 || ti->version != 3 || ti->tcb_type != 0 || ti->n_levels == 0 ||
        !ti->has_tdx_module) {
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "TCB Info: id \"%s\" version %d tcbType %d with %zu TCB levels; a TDX "
                           "quote needs id \"TDX\", version 3, tcbType 0, tdxModule and levels",
                           ti->id, ti->version, ti->tcb_type, ti->n_levels);
    }
    if (!any_time && (st = check_window(ti->issue_date, ti->next_update, at, grace_seconds,
                                        "TCB Info", v)) != CVMA_OK) {
        return st;
    }
    /* QE Identity [QVL 4.1.2.5.15]. */
    if ((st = signed_json_verify(&c->qe_identity_doc, c->qe_identity_chain, root, c->root_ca_crl,
                                 at, any_time, "QE Identity", v)) != CVMA_OK) {
        return st;
    }
    if (strcmp(qi->id, "TD_QE") != 0 || qi->version != 2 || qi->n_levels == 0) {
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "QE Identity: id \"%s\" version %d with %zu TCB levels; a TDX quote "
                           "needs id \"TD_QE\", version 2 and levels",
                           qi->id, qi->version, qi->n_levels);
    }
    return any_time ? CVMA_OK
                    : check_window(qi->issue_date, qi->next_update, at, grace_seconds,
                                   "QE Identity", v);
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_collateral_verify(const struct cvma_tdx_collateral *c, X509 *root,
                                            time_t at, int64_t grace_seconds,
                                            struct cvma_verdict *v)
{
    return collateral_verify(c, root, at, grace_seconds, false, v);
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_collateral_verify_any_time(const struct cvma_tdx_collateral *c,
                                                     X509 *root, time_t at, struct cvma_verdict *v)
{
    return collateral_verify(c, root, at, 0, true, v);
}
