/* Writing the simulators' files (sim/sim_files.h). */
#include "sim/sim_files.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* see sim/sim_files.h */
enum cvma_status cvma_sim_write_bytes(const char *dir, const char *name, const uint8_t *p,
                                      size_t len)
{
    enum cvma_status st;
    char *path = cvma_path_join(dir, name);

    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    st = cvma_file_write_atomic(path, p, len);
    free(path);
    return st;
}

/* Writes the contents of a memory BIO to dir/name. */
static enum cvma_status write_bio(const char *dir, const char *name, BIO *bio, bool private_key)
{
    enum cvma_status st;
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *path = NULL;

    if (n < 0 || data == NULL) {
        return CVMA_E_INTERNAL;
    }
    if ((path = cvma_path_join(dir, name)) == NULL) {
        return CVMA_E_NOMEM;
    }
    st = cvma_file_write_atomic_mode(path, (const uint8_t *)data, (size_t)n,
                                     private_key ? 0600 : 0644);
    free(path);
    return st;
}

/* see sim/sim_files.h */
enum cvma_status cvma_sim_write_cert_pem(const char *dir, const char *name, X509 *const *certs,
                                         size_t n)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    BIO *bio = NULL;

    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (PEM_write_bio_X509(bio, certs[i]) != 1) {
            goto out;
        }
    }
    st = write_bio(dir, name, bio, false);
out:
    BIO_free(bio);
    return st;
}

/* see sim/sim_files.h */
enum cvma_status cvma_sim_write_cert_der(const char *dir, const char *name, X509 *cert)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    BIO *bio = NULL;

    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (i2d_X509_bio(bio, cert) != 1) {
        goto out;
    }
    st = write_bio(dir, name, bio, false);
out:
    BIO_free(bio);
    return st;
}

/* see sim/sim_files.h */
enum cvma_status cvma_sim_write_crl_der(const char *dir, const char *name, X509_CRL *crl)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    BIO *bio = NULL;

    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (i2d_X509_CRL_bio(bio, crl) != 1) {
        goto out;
    }
    st = write_bio(dir, name, bio, false);
out:
    BIO_free(bio);
    return st;
}

/* see sim/sim_files.h */
enum cvma_status cvma_sim_write_key_pem(const char *dir, const char *name, EVP_PKEY *key)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    BIO *bio = NULL;

    /* Secure-heap BIO: the PEM text is cleansed when the BIO is freed. */
    if ((bio = BIO_new(BIO_s_secmem())) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
        goto out;
    }
    st = write_bio(dir, name, bio, true);
out:
    BIO_free(bio);
    return st;
}

/* see sim/sim_files.h */
enum cvma_status cvma_sim_remove(const char *dir, const char *name)
{
    enum cvma_status st = CVMA_OK;
    char *path = cvma_path_join(dir, name);

    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        st = CVMA_E_IO;
    }
    free(path);
    return st;
}
