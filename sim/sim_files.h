/*
 * The files the simulated TEEs write into their output directory: certificates, CRLs, test
 * keys and raw bytes, each written atomically (common/util.h: cvma_file_write_atomic_mode),
 * so a reader never sees a partial file. The directory itself: cvma_mkdir_p (common/util.h).
 */
#ifndef CVMA_SIM_SIM_FILES_H
#define CVMA_SIM_SIM_FILES_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/util.h"

/*
 * Writes files into dir (atomically, via common/util.h), replacing any existing file:
 * - cert_pem: the n certificates concatenated as PEM, in the given order;
 * - cert_der, crl_der: one DER object;
 * - key_pem: the private key as unencrypted PKCS#8 PEM, file mode 0600 (test keys only).
 * CVMA_OK, CVMA_E_NOMEM, CVMA_E_IO, or CVMA_E_INTERNAL (encoding failed).
 */
CVMA_MUST_USE enum cvma_status cvma_sim_write_cert_pem(const char *dir, const char *name,
                                                       X509 *const *certs, size_t n);
CVMA_MUST_USE enum cvma_status cvma_sim_write_cert_der(const char *dir, const char *name,
                                                       X509 *cert);
CVMA_MUST_USE enum cvma_status cvma_sim_write_crl_der(const char *dir, const char *name,
                                                      X509_CRL *crl);
CVMA_MUST_USE enum cvma_status cvma_sim_write_key_pem(const char *dir, const char *name,
                                                      EVP_PKEY *key);

/* Writes len bytes to dir/name atomically (mode 0644). */
CVMA_MUST_USE enum cvma_status cvma_sim_write_bytes(const char *dir, const char *name,
                                                    const uint8_t *p, size_t len);

/* Removes dir/name if it exists. CVMA_OK when it is gone afterwards, else CVMA_E_IO. */
CVMA_MUST_USE enum cvma_status cvma_sim_remove(const char *dir, const char *name);

#endif
