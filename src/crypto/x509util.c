#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

static bool looks_pem(const uint8_t *p, size_t len)
{
    static const char tag[] = "-----BEGIN";
    for (size_t i = 0; i + sizeof tag - 1 <= len && i < 64; i++) {
        if (memcmp(p + i, tag, sizeof tag - 1) == 0) {
            return true;
        }
    }
    return false;
}

X509 *cvma_x509_load(const uint8_t *p, size_t len)
{
    X509 *x = NULL;
    if (p == NULL || len == 0 || len > (size_t)INT32_MAX) {
        return NULL;
    }
    if (looks_pem(p, len)) {
        BIO *b = BIO_new_mem_buf(p, (int)len);
        if (b != NULL) {
            x = PEM_read_bio_X509(b, NULL, NULL, NULL);
            BIO_free(b);
        }
        return x;
    }
    const unsigned char *q = p;
    x = d2i_X509(NULL, &q, (long)len);
    if (x != NULL && (size_t)(q - p) != len) {
        X509_free(x); /* bytes after the certificate: not one DER certificate */
        x = NULL;
    }
    return x;
}

STACK_OF(X509) * cvma_x509_load_pem_stack(const uint8_t *p, size_t len)
{
    STACK_OF(X509) *sk = NULL;
    BIO *b = NULL;
    X509 *x;

    if (p == NULL || len == 0 || len > (size_t)INT32_MAX) {
        return NULL;
    }
    if ((b = BIO_new_mem_buf(p, (int)len)) == NULL || (sk = sk_X509_new_null()) == NULL) {
        goto fail;
    }
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            goto fail;
        }
    }
    ERR_clear_error();
    BIO_free(b);
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        return NULL;
    }
    return sk;
fail:
    BIO_free(b);
    sk_X509_pop_free(sk, X509_free);
    return NULL;
}

bool cvma_x509_to_der(X509 *x, struct cvma_buf *out)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    out->p = NULL;
    out->len = 0;
    if (n <= 0) {
        return false;
    }
    out->p = malloc((size_t)n);
    if (out->p == NULL) {
        OPENSSL_free(der);
        return false;
    }
    memcpy(out->p, der, (size_t)n);
    out->len = (size_t)n;
    OPENSSL_free(der);
    return true;
}

bool cvma_x509_spki_sha256(X509 *x, uint8_t out[32])
{
    unsigned char *der = NULL;
    unsigned int mdlen = 0;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    bool ok = false;
    if (n > 0) {
        ok = EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32;
    }
    OPENSSL_free(der);
    return ok;
}

void cvma_x509_subject_cn(X509 *x, char *out, size_t out_len)
{
    out[0] = '\0';
    X509_NAME *n = X509_get_subject_name(x);
    if (n == NULL || X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)out_len) < 0) {
        out[0] = '\0';
    }
}

X509_CRL *cvma_crl_load(const uint8_t *p, size_t len)
{
    X509_CRL *crl = NULL;
    if (p == NULL || len == 0 || len > (size_t)INT32_MAX) {
        return NULL;
    }
    if (looks_pem(p, len)) {
        BIO *b = BIO_new_mem_buf(p, (int)len);
        if (b != NULL) {
            crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
            BIO_free(b);
        }
        return crl;
    }
    const unsigned char *q = p;
    crl = d2i_X509_CRL(NULL, &q, (long)len);
    if (crl != NULL && (size_t)(q - p) != len) {
        X509_CRL_free(crl);
        crl = NULL;
    }
    return crl;
}
