/*
 * Thin crypto helpers over OpenSSL 3 and nettle: certificate loading, SPKI digests, and the
 * raw ECDSA checks that evidence formats need (r and s given as big-endian scalars).
 * Ownership: functions named *_new / *_load return objects the caller frees.
 */
#ifndef CVMA_CRYPTO_CRYPTO_H
#define CVMA_CRYPTO_CRYPTO_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/util.h"

/* Parses one certificate, DER or PEM (auto-detected). NULL when it is neither. */
X509 *cvma_x509_load(const uint8_t *p, size_t len);
/* Parses every PEM certificate in p into a new stack (in order). NULL when none parse. */
STACK_OF(X509) * cvma_x509_load_pem_stack(const uint8_t *p, size_t len);
/* DER-encodes a certificate into out (owned). */
CVMA_MUST_USE bool cvma_x509_to_der(X509 *x, struct cvma_buf *out);
/* SHA-256 of the DER SubjectPublicKeyInfo. */
CVMA_MUST_USE bool cvma_x509_spki_sha256(X509 *x, uint8_t out[32]);
/* Subject CN into out (truncated), "" when absent. */
void cvma_x509_subject_cn(X509 *x, char *out, size_t out_len);
/* Parses a CRL, DER or PEM. */
X509_CRL *cvma_crl_load(const uint8_t *p, size_t len);

/* ECDSA P-384 over a SHA-384 digest. The backend (nettle or OpenSSL) is one choice here. */
struct cvma_p384_pub;
/* enum cvma_p384_backend: the public header (a verifier configuration). */
/* From an EVP_PKEY that must be an EC key on secp384r1; NULL otherwise. */
struct cvma_p384_pub *cvma_p384_pub_new(EVP_PKEY *pkey);
void cvma_p384_pub_free(struct cvma_p384_pub *pub);
bool cvma_p384_verify(const struct cvma_p384_pub *pub, const uint8_t digest[48],
                      const uint8_t r[48], const uint8_t s[48]);
/* Process-wide backend choice (bench and tests compare them); default nettle. */
void cvma_p384_set_backend(enum cvma_p384_backend b);

/* ECDSA P-256 over SHA-256 of msg with a raw r||s signature (64 bytes). */
bool cvma_p256_verify_raw(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t sig[64]);

/*
 * The same with the verification context prepared once per key (TDX quotes: two checks per
 * quote with keys that repeat, so the per-call set-up is worth saving). Not thread-safe: one
 * verifier per thread.
 */
struct cvma_p256_verifier;
struct cvma_p256_verifier *cvma_p256_verifier_new(EVP_PKEY *pkey); /* takes a reference */
void cvma_p256_verifier_free(struct cvma_p256_verifier *pv);
bool cvma_p256_verifier_check(struct cvma_p256_verifier *pv, const uint8_t *msg, size_t len,
                              const uint8_t sig[64]);

#endif
