/*
 * Tests: certificates, chains and CRLs read from the shared vectors or from a directory a test
 * wrote, built by hand, and checked independently with OpenSSL.
 */
#ifndef CVMA_TESTS_TU_X509_H
#define CVMA_TESTS_TU_X509_H

#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "tdx/tdx_collateral.h"
#include "testutil.h"

#define TU_INTEL_ROOT "tdx/roots/intel_sgx_root_ca.pem"

/* The (first) certificate of the vectors' PEM or DER file rel. */
static inline X509 *tu_vec_cert(const char *rel)
{
    struct cvma_buf b = tu_vec_read(rel);
    X509 *x = cvma_x509_load(b.p, b.len);
    assert_non_null(x);
    cvma_buf_free(&b);
    return x;
}

/* Every certificate of the vectors' PEM file rel. */
static inline STACK_OF(X509) * tu_vec_chain(const char *rel)
{
    struct cvma_buf b = tu_vec_read(rel);
    STACK_OF(X509) *sk = cvma_x509_load_pem_stack(b.p, b.len);
    assert_non_null(sk);
    cvma_buf_free(&b);
    return sk;
}

/* The vectors' CRL rel (DER, PEM or hex, as Intel serves them). */
static inline X509_CRL *tu_vec_crl(const char *rel)
{
    struct cvma_buf b = tu_vec_read(rel);
    X509_CRL *c = cvma_tdx_crl_load_any(b.p, b.len);
    assert_non_null(c);
    cvma_buf_free(&b);
    return c;
}

/* The index-th (0: the first) certificate of the PEM file dir/name, read by OpenSSL alone. */
static inline X509 *tu_pem_cert(const char *dir, const char *name, int index)
{
    char *p = tu_path(dir, name);
    BIO *bio;
    X509 *x = NULL;

    assert_non_null(bio = BIO_new_file(p, "r"));
    for (int i = 0; i <= index; i++) {
        X509_free(x);
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        assert_non_null(x);
    }
    BIO_free(bio);
    free(p);
    return x;
}

/* The DER CRL dir/name, read by OpenSSL alone. */
static inline X509_CRL *tu_der_crl(const char *dir, const char *name)
{
    char *p = tu_path(dir, name);
    BIO *bio;
    X509_CRL *crl;

    assert_non_null(bio = BIO_new_file(p, "rb"));
    crl = d2i_X509_CRL_bio(bio, NULL);
    assert_non_null(crl);
    BIO_free(bio);
    free(p);
    return crl;
}

static inline const char *tu_subject_cn(X509 *x, char *buf, size_t len)
{
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)len) >
                0);
    return buf;
}

/* leaf -> mid (untrusted; NULL: none) -> root (trusted) with an X509_STORE and flags
 * (X509_V_FLAG_*); the X509_verify_cert result (1 = valid). */
static inline int tu_verify_chain(X509 *root, X509 *mid, X509 *leaf, unsigned long flags)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int rc;

    assert_non_null(store);
    assert_non_null(ctx);
    assert_non_null(untrusted);
    assert_int_equal(X509_STORE_add_cert(store, root), 1);
    if (flags != 0) {
        X509_STORE_set_flags(store, flags);
    }
    if (mid != NULL) {
        assert_true(sk_X509_push(untrusted, mid) > 0);
    }
    assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
    rc = X509_verify_cert(ctx);
    if (rc != 1) {
        print_error("chain: %s\n", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    return rc;
}

/* Adds the extension nid = value (OpenSSL config syntax) to x, issued by issuer (or NULL). */
static inline void tu_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

#endif
