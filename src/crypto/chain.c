/*
 * The certificate-chain verifier (see crypto/chain.h): X509_verify_cert driven once, and the
 * one map from its errors to reasons.
 */
#include "crypto/chain.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "common/hex.h"
#include "crypto/crypto.h"

const char *cvma_chain_role(const struct cvma_chain_req *req, int depth)
{
    if (req->roles == NULL || req->n_roles == 0) {
        return "certificate";
    }
    if (depth < 0) {
        depth = 0;
    }
    return req->roles[(size_t)depth < req->n_roles ? (size_t)depth : req->n_roles - 1];
}

/* No CRL of the certificate's issuer among those given: names the issuer and the CRLs' (a
 * CRL of another CA, such as collateral of another root, reads otherwise as a bare OpenSSL
 * error). */
static enum cvma_status crl_missing(const char *role, X509 *cert, X509_STORE *store,
                                    struct cvma_verdict *v)
{
    char want[128], got[256] = "", one[128];
    size_t used = 0;
    STACK_OF(X509_OBJECT) *objs = store != NULL ? X509_STORE_get0_objects(store) : NULL;

    cvma_x509_name_text(cert != NULL ? X509_get_issuer_name(cert) : NULL, want, sizeof want);
    for (int i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs); i++) {
        X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
        if (crl == NULL || used >= sizeof got - 1) {
            continue;
        }
        cvma_x509_name_text(X509_CRL_get_issuer(crl), one, sizeof one);
        int n = snprintf(got + used, sizeof got - used, "%s'%s'", used > 0 ? ", " : "", one);
        used = n < 0 ? sizeof got - 1 : used + (size_t)n;
    }
    return cvma_reject(
            v, CVMA_R_CRL_INVALID,
            "CRL for the %s: no CRL given covers it (its issuer: '%s'; the CRLs given are "
            "issued by %s)",
            role, want, got[0] != '\0' ? got : "no one");
}

enum cvma_status cvma_chain_reject(int err, const char *role, X509 *cert, X509_STORE *store,
                                   const char *issuers, time_t at, struct cvma_verdict *v)
{
    char win[CVMA_DETAIL_MAX], crl_role[96];

    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        cvma_x509_window_detail(cert, role, at, win, sizeof win);
        return cvma_reject(v, CVMA_R_CERT_EXPIRED, "%s", win);
    case X509_V_ERR_CERT_NOT_YET_VALID:
        cvma_x509_window_detail(cert, role, at, win, sizeof win);
        return cvma_reject(v, CVMA_R_CERT_NOT_YET_VALID, "%s", win);
    case X509_V_ERR_CERT_REVOKED:
        return cvma_reject(v, CVMA_R_CERT_REVOKED, "%s is listed in its issuer's CRL", role);
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
        snprintf(crl_role, sizeof crl_role, "the CRL covering the %s", role);
        cvma_crl_window_detail(cvma_x509_store_crl_for(store, cert), crl_role, at, win, sizeof win);
        return cvma_reject(v, CVMA_R_CRL_EXPIRED, "%s", win);
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        return crl_missing(role, cert, store, v);
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    /* A thisUpdate or nextUpdate OpenSSL cannot read is the CRL's fault, not the chain's. */
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
        return cvma_reject(v, CVMA_R_CRL_INVALID, "CRL for the %s: %s", role,
                           X509_verify_cert_error_string(err));
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
        return cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                           "%s signature does not verify with its issuer's key (%s)", role,
                           X509_verify_cert_error_string(err));
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                           "%s: no issuer in the chain (%s); the %s does not belong to this %s",
                           role, X509_verify_cert_error_string(err), role,
                           issuers != NULL ? issuers : "chain");
    default:
        return cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID, "%s: %s (OpenSSL error %d)", role,
                           X509_verify_cert_error_string(err), err);
    }
}

/* CVMA_CHAIN_CRL_ANY_TIME: a CRL's window is not judged, and a CRL that misses the time
 * proves only the revocations it dates by then. Every other error stands. The request (the
 * context's app data) gives the CRLs: OpenSSL has already let go of the current CRL when it
 * reports a revocation found in one outside its window. */
static int crl_any_time_cb(int ok, X509_STORE_CTX *ctx)
{
    int err = X509_STORE_CTX_get_error(ctx);
    const struct cvma_chain_req *req = X509_STORE_CTX_get_app_data(ctx);
    X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
    time_t at = X509_VERIFY_PARAM_get_time(X509_STORE_CTX_get0_param(ctx));

    if (ok) {
        return ok;
    }
    if (err == X509_V_ERR_CRL_NOT_YET_VALID || err == X509_V_ERR_CRL_HAS_EXPIRED) {
        return 1;
    }
    if (err != X509_V_ERR_CERT_REVOKED || req == NULL || cert == NULL) {
        return ok;
    }
    /* Revoked at the time by any CRL of its issuer (one that covers the time: any listing;
     * one that misses it: a listing dated by then): the revocation stands. */
    for (size_t i = 0; i < req->n_crls; i++) {
        if (X509_NAME_cmp(X509_CRL_get_issuer(req->crls[i]), X509_get_issuer_name(cert)) == 0 &&
            cvma_crl_revokes_at(req->crls[i], cert, at)) {
            return ok;
        }
    }
    return 1;
}

enum cvma_status cvma_chain_verify(const struct cvma_chain_req *req, STACK_OF(X509) * *path,
                                   struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_E_NOMEM;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    unsigned long flags = X509_V_FLAG_CHECK_SS_SIGNATURE;

    if (path != NULL) {
        *path = NULL;
    }
    if (req->leaf == NULL || req->anchor == NULL) {
        return cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID, "%s chain: no %s",
                           req->name != NULL ? req->name : "certificate",
                           req->leaf == NULL ? "leaf certificate" : "trust anchor");
    }
    if ((req->flags & CVMA_CHAIN_STRICT) != 0) {
        flags |= X509_V_FLAG_X509_STRICT;
    }
    if ((req->flags & CVMA_CHAIN_NO_TIME) != 0) {
        flags |= X509_V_FLAG_NO_CHECK_TIME;
    }
    if ((store = X509_STORE_new()) == NULL || X509_STORE_add_cert(store, req->anchor) != 1) {
        goto out;
    }
    for (size_t i = 0; i < req->n_crls; i++) {
        if (X509_STORE_add_crl(store, req->crls[i]) != 1) {
            goto out;
        }
    }
    if (req->n_crls > 0) {
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    }
    if ((ctx = X509_STORE_CTX_new()) == NULL ||
        X509_STORE_CTX_init(ctx, store, req->leaf, req->intermediates) != 1) {
        goto out;
    }
    X509_STORE_CTX_set_flags(ctx, flags);
    if ((req->flags & CVMA_CHAIN_CRL_ANY_TIME) != 0 && req->n_crls > 0) {
        if (X509_STORE_CTX_set_app_data(ctx, (void *)(uintptr_t)req) != 1) {
            goto out;
        }
        X509_STORE_CTX_set_verify_cb(ctx, crl_any_time_cb);
    }
    /* OpenSSL takes a set time over X509_V_FLAG_NO_CHECK_TIME: set it only when checked. */
    if ((req->flags & CVMA_CHAIN_NO_TIME) == 0) {
        X509_STORE_CTX_set_time(ctx, 0, req->at);
    }
    if (X509_verify_cert(ctx) != 1) {
        int depth = X509_STORE_CTX_get_error_depth(ctx);
        st = cvma_chain_reject(X509_STORE_CTX_get_error(ctx), cvma_chain_role(req, depth),
                               X509_STORE_CTX_get_current_cert(ctx), store, req->issuers, req->at,
                               v);
        goto out;
    }
    if (req->expect_len > 0 && sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) != req->expect_len) {
        st = cvma_reject(v, CVMA_R_CERT_CHAIN_INVALID,
                         "%s chain: verified path has %d certificates, expected %d",
                         req->name != NULL ? req->name : "certificate",
                         sk_X509_num(X509_STORE_CTX_get0_chain(ctx)), req->expect_len);
        goto out;
    }
    if (path != NULL && (*path = X509_STORE_CTX_get1_chain(ctx)) == NULL) {
        goto out;
    }
    st = CVMA_OK;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return st;
}

int cvma_chain_pick_anchor(X509 *root, const struct cvma_chain_pin *pins, size_t n_pins,
                           X509 *const *given, const uint8_t (*given_spki)[32], size_t n_given,
                           char hex[65])
{
    uint8_t h[32];

    hex[0] = '\0';
    if (root == NULL || !cvma_x509_spki_sha256(root, h)) {
        return -2;
    }
    cvma_hex_encode(h, sizeof h, hex, 65);
    for (size_t i = 0; i < n_pins; i++) {
        if (strcmp(hex, pins[i].spki_sha256) == 0) {
            return (int)i;
        }
    }
    for (size_t i = 0; i < n_given; i++) {
        uint8_t t[32];
        if (given_spki != NULL) {
            memcpy(t, given_spki[i], sizeof t);
        } else if (given == NULL || !cvma_x509_spki_sha256(given[i], t)) {
            continue;
        }
        if (memcmp(t, h, sizeof h) == 0) {
            return (int)n_pins;
        }
    }
    return -1;
}

bool cvma_chain_window(X509 *const *certs, size_t n, time_t *from, time_t *to, size_t *bad_index)
{
    *from = 0;
    *to = (time_t)INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        time_t nb, na;
        if (!cvma_asn1_time_to_time_t(X509_get0_notBefore(certs[i]), &nb) ||
            !cvma_asn1_time_to_time_t(X509_get0_notAfter(certs[i]), &na)) {
            if (bad_index != NULL) {
                *bad_index = i;
            }
            return false;
        }
        *from = nb > *from ? nb : *from;
        *to = na < *to ? na : *to;
    }
    return true;
}

/* see crypto/chain.h */
enum cvma_status cvma_crl_times(X509_CRL *crl, const char *what, time_t *this_update,
                                time_t *next_update, struct cvma_verdict *v)
{
    time_t last, next;

    if (this_update != NULL) {
        *this_update = 0;
    }
    if (next_update != NULL) {
        *next_update = 0;
    }
    /* RFC 5280 5.2: a CRL with a critical extension this check does not process is not used
     * (it processes none: an issuing distribution point would narrow what the CRL covers);
     * a delta CRL (5.2.4) lists only changes since a base CRL, and taken for a whole one
     * would hide what the base revoked. OpenSSL's own CRL check takes a delta CRL as a whole
     * one (without X509_V_FLAG_EXTENDED_CRL_SUPPORT), so the TDX PCK chain's CRLs, whose
     * issuers and signatures OpenSSL checked, are refused here too. */
    for (int i = 0; i < X509_CRL_get_ext_count(crl); i++) {
        X509_EXTENSION *ext = X509_CRL_get_ext(crl, i);
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        char oid[80];
        if (nid == NID_delta_crl) {
            return cvma_reject(v, CVMA_R_CRL_INVALID,
                               "%s: a delta CRL (deltaCRLIndicator), not a complete one", what);
        }
        if (X509_EXTENSION_get_critical(ext)) {
            if (OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(ext), 1) <= 0) {
                snprintf(oid, sizeof oid, "?");
            }
            return cvma_reject(v, CVMA_R_CRL_INVALID,
                               "%s: a critical extension this check does not process (%s)", what,
                               oid);
        }
    }
    if (!cvma_crl_time(X509_CRL_get0_lastUpdate(crl), &last)) {
        return cvma_reject(v, CVMA_R_CRL_INVALID, "%s: unreadable thisUpdate", what);
    }
    /* RFC 5280 5.1.2.5: a conforming CRL has a nextUpdate; without one it would never
     * expire, so it is not taken. */
    if (!cvma_crl_time(X509_CRL_get0_nextUpdate(crl), &next)) {
        return cvma_reject(v, CVMA_R_CRL_INVALID, "%s: no readable nextUpdate", what);
    }
    if (this_update != NULL) {
        *this_update = last;
    }
    if (next_update != NULL) {
        *next_update = next;
    }
    return CVMA_OK;
}

/* see crypto/chain.h */
enum cvma_status cvma_crl_check(X509_CRL *crl, X509 *issuer, const char *what, time_t *this_update,
                                time_t *next_update, struct cvma_verdict *v)
{
    EVP_PKEY *key = issuer != NULL ? X509_get0_pubkey(issuer) : NULL;
    char cn[128];

    if (this_update != NULL) {
        *this_update = 0;
    }
    if (next_update != NULL) {
        *next_update = 0;
    }
    if (crl == NULL || issuer == NULL) {
        return cvma_reject(v, CVMA_R_CRL_INVALID, "%s: %s", what,
                           crl == NULL ? "missing" : "no issuer to check it against");
    }
    cvma_x509_subject_cn(issuer, cn, sizeof cn);
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
        return cvma_reject(v, CVMA_R_CRL_INVALID, "%s: its issuer is not '%s'", what, cn);
    }
    if (key == NULL || X509_CRL_verify(crl, key) != 1) {
        ERR_clear_error();
        return cvma_reject(v, CVMA_R_CRL_INVALID,
                           "%s: signature does not verify with the key of '%s'", what, cn);
    }
    return cvma_crl_times(crl, what, this_update, next_update, v);
}

/* see crypto/chain.h */
enum cvma_status cvma_intel_signed(const X509_ALGOR *alg, const char *who, enum cvma_reason code,
                                   struct cvma_verdict *v)
{
    const ASN1_OBJECT *obj = NULL;
    int ptype = V_ASN1_UNDEF;
    const void *pval = NULL;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    int nid = OBJ_obj2nid(obj);
    if (nid == NID_ecdsa_with_SHA256 && ptype == V_ASN1_UNDEF) {
        return CVMA_OK;
    }
    return cvma_reject(v, code,
                       "%s: signed with %s%s, not ecdsa-with-SHA256 (no parameters), the one "
                       "scheme Intel signs its certificates and CRLs with",
                       who, nid != NID_undef ? OBJ_nid2ln(nid) : "an unknown algorithm",
                       nid == NID_ecdsa_with_SHA256 ? " with parameters" : "");
}
