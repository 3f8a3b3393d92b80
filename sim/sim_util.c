#include "sim/sim_util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

/* AMD signs its whole KDS hierarchy with RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48. */
#define PSS_SALT_LEN 48

/* see sim/sim_util.h */
void cvma_sim_errf(char *err, size_t err_len, const char *fmt, ...)
{
    unsigned long e = ERR_get_error();

    if (err != NULL && err_len > 0) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
        if (n >= 0 && e != 0 && (size_t)n < err_len) {
            char ossl[256];

            ERR_error_string_n(e, ossl, sizeof ossl);
            snprintf(err + n, err_len - (size_t)n, ": %s", ossl);
        }
    }
    ERR_clear_error();
}

/* see sim/sim_util.h */
enum cvma_status cvma_sim_random(uint8_t *p, size_t len)
{
    if (len > (size_t)INT32_MAX) {
        return CVMA_E_INTERNAL;
    }
    return RAND_bytes(p, (int)len) == 1 ? CVMA_OK : CVMA_E_INTERNAL;
}

/* see sim/sim_util.h */

enum cvma_status cvma_sim_digest(const char *md, const void *p, size_t len, uint8_t *out,
                                 size_t out_len)
{
    unsigned int n = 0;
    EVP_MD *m = EVP_MD_fetch(NULL, md, NULL);
    enum cvma_status st = CVMA_E_INTERNAL;

    if (m != NULL && (size_t)EVP_MD_get_size(m) == out_len &&
        EVP_Digest(p, len, out, &n, m, NULL) == 1 && n == out_len) {
        st = CVMA_OK;
    }
    EVP_MD_free(m);
    return st;
}

/* see sim/sim_util.h */
EVP_PKEY *cvma_sim_ec_key_new(int curve_nid)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;

    if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL) {
        goto out;
    }
    if (EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, curve_nid) != 1 ||
        EVP_PKEY_keygen(ctx, &key) != 1) {
        EVP_PKEY_free(key);
        key = NULL;
    }
out:
    EVP_PKEY_CTX_free(ctx);
    return key;
}

/* see sim/sim_util.h */
EVP_PKEY *cvma_sim_rsa_key_new(unsigned bits)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;

    if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL) {
        goto out;
    }
    if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1 ||
        EVP_PKEY_keygen(ctx, &key) != 1) {
        EVP_PKEY_free(key);
        key = NULL;
    }
out:
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static bool set_time(ASN1_TIME *t, time_t when)
{
    return ASN1_TIME_set(t, when) != NULL;
}

/* see sim/sim_util.h */
X509 *cvma_sim_x509_new(const struct cvma_sim_name_entry *subject, size_t n_subject,
                        const X509_NAME *issuer_name, EVP_PKEY *key, const uint8_t *serial,
                        size_t serial_len, time_t not_before, time_t not_after)
{
    X509 *x = NULL, *ret = NULL;
    X509_NAME *name = NULL;
    BIGNUM *bn = NULL;
    ASN1_INTEGER *sn = NULL;
    static const uint8_t zero = 0;

    if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL) {
        goto out;
    }
    if (X509_set_version(x, X509_VERSION_3) != 1) {
        goto out;
    }
    for (size_t i = 0; i < n_subject; i++) {
        if (X509_NAME_add_entry_by_txt(name, subject[i].field, MBSTRING_UTF8,
                                       (const unsigned char *)subject[i].value, -1, -1, 0) != 1) {
            goto out;
        }
    }
    if (serial_len == 0) {
        serial = &zero;
        serial_len = 1;
    }
    if (serial_len > 20) { /* RFC 5280 4.1.2.2 */
        goto out;
    }
    if ((bn = BN_bin2bn(serial, (int)serial_len, NULL)) == NULL ||
        (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
        goto out;
    }
    if (X509_set_serialNumber(x, sn) != 1 || X509_set_subject_name(x, name) != 1 ||
        X509_set_issuer_name(x, issuer_name != NULL ? issuer_name : name) != 1 ||
        !set_time(X509_getm_notBefore(x), not_before) ||
        !set_time(X509_getm_notAfter(x), not_after) || X509_set_pubkey(x, key) != 1) {
        goto out;
    }
    ret = x;
    x = NULL;
out:
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    X509_NAME_free(name);
    X509_free(x);
    return ret;
}

/* see sim/sim_util.h */
enum cvma_status cvma_sim_x509_add_std_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    X509V3_CTX ctx;
    X509_EXTENSION *ext = NULL;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL) {
        goto out;
    }
    if (X509_add_ext(x, ext, -1) != 1) {
        goto out;
    }
    st = CVMA_OK;
out:
    X509_EXTENSION_free(ext);
    return st;
}

/* see sim/sim_util.h */
enum cvma_status cvma_sim_x509_add_raw_ext(X509 *x, const char *oid_text, bool critical,
                                           const uint8_t *value, size_t value_len)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    ASN1_OBJECT *obj = NULL;
    ASN1_OCTET_STRING *os = NULL;
    X509_EXTENSION *ext = NULL;

    if (value_len > (size_t)INT32_MAX) {
        goto out;
    }
    /* no_name = 1: only the dotted form, never a short or long name. */
    if ((obj = OBJ_txt2obj(oid_text, 1)) == NULL) {
        goto out;
    }
    if ((os = ASN1_OCTET_STRING_new()) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (ASN1_OCTET_STRING_set(os, value, (int)value_len) != 1) {
        goto out;
    }
    if ((ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical ? 1 : 0, os)) == NULL) {
        goto out;
    }
    if (X509_add_ext(x, ext, -1) != 1) {
        goto out;
    }
    st = CVMA_OK;
out:
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return st;
}

/* Moves an OpenSSL-allocated DER blob into a cvma_buf (malloc-owned). */
static enum cvma_status der_to_buf(unsigned char *der, int len, struct cvma_buf *out)
{
    if (der == NULL || len <= 0) {
        OPENSSL_free(der);
        return CVMA_E_INTERNAL;
    }
    if ((out->p = malloc((size_t)len)) == NULL) {
        OPENSSL_free(der);
        return CVMA_E_NOMEM;
    }
    memcpy(out->p, der, (size_t)len);
    out->len = (size_t)len;
    OPENSSL_free(der);
    return CVMA_OK;
}

/* see sim/sim_util.h */
enum cvma_status cvma_sim_der_integer(long v, struct cvma_buf *out)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    ASN1_INTEGER *i = NULL;
    unsigned char *der = NULL;
    int len;

    out->p = NULL;
    out->len = 0;
    if ((i = ASN1_INTEGER_new()) == NULL || ASN1_INTEGER_set(i, v) != 1) {
        goto out;
    }
    len = i2d_ASN1_INTEGER(i, &der);
    st = der_to_buf(der, len, out);
out:
    ASN1_INTEGER_free(i);
    return st;
}

/* see sim/sim_util.h */
enum cvma_status cvma_sim_der_ia5string(const char *s, struct cvma_buf *out)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    ASN1_IA5STRING *a = NULL;
    unsigned char *der = NULL;
    int len;

    out->p = NULL;
    out->len = 0;
    if ((a = ASN1_IA5STRING_new()) == NULL || ASN1_STRING_set(a, s, -1) != 1) {
        goto out;
    }
    len = i2d_ASN1_IA5STRING(a, &der);
    st = der_to_buf(der, len, out);
out:
    ASN1_IA5STRING_free(a);
    return st;
}

/* A digest-sign context for key with the parameters of sig (PSS padding, salt, MGF1). */
static EVP_MD_CTX *sign_ctx_new(EVP_PKEY *key, enum cvma_sim_sig sig)
{
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL; /* owned by ctx */
    const char *md = "SHA384";
    bool rsa = false;

    switch (sig) {
    case CVMA_SIM_SIG_RSA_PSS_SHA384:
        rsa = true;
        break;
    case CVMA_SIM_SIG_ECDSA_SHA256:
        md = "SHA256";
        break;
    case CVMA_SIM_SIG_ECDSA_SHA384:
        break;
    }
    if (!EVP_PKEY_is_a(key, rsa ? "RSA" : "EC")) {
        return NULL;
    }
    if ((ctx = EVP_MD_CTX_new()) == NULL) {
        return NULL;
    }
    if (EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL) != 1) {
        goto fail;
    }
    if (rsa && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PSS_SALT_LEN) <= 0 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) <= 0)) {
        goto fail;
    }
    return ctx;
fail:
    EVP_MD_CTX_free(ctx);
    return NULL;
}

/* see sim/sim_util.h */
enum cvma_status cvma_sim_x509_sign(X509 *x, EVP_PKEY *key, enum cvma_sim_sig sig)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    EVP_MD_CTX *ctx = NULL;

    if ((ctx = sign_ctx_new(key, sig)) == NULL) {
        goto out;
    }
    if (X509_sign_ctx(x, ctx) <= 0) {
        goto out;
    }
    st = CVMA_OK;
out:
    EVP_MD_CTX_free(ctx);
    return st;
}

/* see sim/sim_util.h */
enum cvma_status cvma_sim_crl_sign(X509_CRL *crl, EVP_PKEY *key, enum cvma_sim_sig sig)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    EVP_MD_CTX *ctx = NULL;

    if ((ctx = sign_ctx_new(key, sig)) == NULL) {
        goto out;
    }
    if (X509_CRL_sign_ctx(crl, ctx) <= 0) {
        goto out;
    }
    st = CVMA_OK;
out:
    EVP_MD_CTX_free(ctx);
    return st;
}

/* see sim/sim_util.h */
X509_CRL *cvma_sim_crl_new(const X509 *issuer, time_t this_update, time_t next_update,
                           X509 *const *revoked, size_t n_revoked)
{
    X509_CRL *crl = NULL, *ret = NULL;
    ASN1_TIME *last = NULL, *next = NULL;
    X509_REVOKED *rev = NULL;

    if ((crl = X509_CRL_new()) == NULL || (last = ASN1_TIME_set(NULL, this_update)) == NULL ||
        (next_update != 0 && (next = ASN1_TIME_set(NULL, next_update)) == NULL)) {
        goto out;
    }
    if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) != 1 ||
        X509_CRL_set1_lastUpdate(crl, last) != 1 ||
        (next != NULL && X509_CRL_set1_nextUpdate(crl, next) != 1)) {
        goto out;
    }
    for (size_t i = 0; i < n_revoked; i++) {
        if ((rev = X509_REVOKED_new()) == NULL) {
            goto out;
        }
        if (X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(revoked[i])) != 1 ||
            X509_REVOKED_set_revocationDate(rev, last) != 1) {
            goto out;
        }
        if (X509_CRL_add0_revoked(crl, rev) != 1) {
            goto out;
        }
        rev = NULL; /* owned by crl */
    }
    if (X509_CRL_sort(crl) != 1) {
        goto out;
    }
    ret = crl;
    crl = NULL;
out:
    X509_REVOKED_free(rev);
    ASN1_TIME_free(next);
    ASN1_TIME_free(last);
    X509_CRL_free(crl);
    return ret;
}

/* see sim/sim_util.h */
enum cvma_status cvma_sim_ecdsa_sign_raw(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg,
                                         size_t msg_len, uint8_t *r, uint8_t *s, size_t comp_len)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    EVP_MD_CTX *ctx = NULL;
    unsigned char *der = NULL;
    const unsigned char *q;
    size_t der_len = 0;
    ECDSA_SIG *sig = NULL;
    const BIGNUM *br, *bs;

    if (!EVP_PKEY_is_a(key, "EC") || comp_len > (size_t)INT32_MAX) {
        goto out;
    }
    if ((ctx = EVP_MD_CTX_new()) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, &der_len, msg, msg_len) != 1) {
        goto out;
    }
    if ((der = OPENSSL_malloc(der_len)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (EVP_DigestSign(ctx, der, &der_len, msg, msg_len) != 1 || der_len > LONG_MAX) {
        goto out;
    }
    q = der;
    if ((sig = d2i_ECDSA_SIG(NULL, &q, (long)der_len)) == NULL) {
        goto out;
    }
    ECDSA_SIG_get0(sig, &br, &bs);
    if ((size_t)BN_num_bytes(br) > comp_len || (size_t)BN_num_bytes(bs) > comp_len ||
        BN_bn2binpad(br, r, (int)comp_len) < 0 || BN_bn2binpad(bs, s, (int)comp_len) < 0) {
        goto out;
    }
    st = CVMA_OK;
out:
    ECDSA_SIG_free(sig);
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    return st;
}
