/*
 * Thin crypto helpers over OpenSSL 3 and nettle: certificate loading, SPKI digests, and the
 * raw ECDSA checks that evidence formats need (r and s given as big-endian scalars).
 * Ownership: functions named *_new / *_load return objects the caller frees.
 */
#ifndef CVMA_CRYPTO_CRYPTO_H
#define CVMA_CRYPTO_CRYPTO_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/util.h"

/* Parses one certificate, DER or PEM (auto-detected). NULL when it is neither. */
X509 *cvma_x509_load(const uint8_t *p, size_t len);
/* Parses every PEM certificate in p into a new stack (in order). NULL when none parse. */
STACK_OF(X509) * cvma_x509_load_pem_stack(const uint8_t *p, size_t len);
/* A --trust-root file: one certificate, PEM or DER, at most 1 MiB. CVMA_OK and *out (owned);
 * else err says why: CVMA_E_IO unreadable, CVMA_E_USAGE not a certificate, or a PEM file of
 * several (a chain such as AMD's cert_chain.pem, ASK first, would have its first one trusted
 * and the rest passed over). */
enum cvma_status cvma_trust_root_load(const char *path, X509 **out, char *err, size_t err_len);
/* DER-encodes a certificate into out (owned). */
CVMA_MUST_USE bool cvma_x509_to_der(X509 *x, struct cvma_buf *out);
/* SHA-256 of the DER SubjectPublicKeyInfo. */
CVMA_MUST_USE bool cvma_x509_spki_sha256(X509 *x, uint8_t out[32]);
/* Subject CN into out (truncated), "" when absent. */
void cvma_x509_subject_cn(X509 *x, char *out, size_t out_len);
/* The passphrase callback that refuses: an encrypted key must never make us prompt on a tty
 * (OpenSSL's default without a callback) and wait there. */
int cvma_pem_no_passphrase(char *buf, int size, int rwflag, void *u);
/* The first PEM private key in p (len bytes, at most INT_MAX), never prompting: NULL for an
 * encrypted key, as for anything that is not one. OpenSSL's error queue is cleared. */
EVP_PKEY *cvma_pem_private_key(const uint8_t *p, size_t len);
/* Parses one CRL, DER or PEM: NULL for bytes after it (DER), or anything but white space
 * after its PEM block (a second CRL included). */
X509_CRL *cvma_crl_load(const uint8_t *p, size_t len);

/* An ASN1_TIME (UTCTime or GeneralizedTime) as seconds since the epoch, UTC. */
CVMA_MUST_USE bool cvma_asn1_time_to_time_t(const ASN1_TIME *t, time_t *out);
/*
 * A CRL's thisUpdate or nextUpdate as seconds since the epoch, read as strictly as OpenSSL's
 * own CRL check reads it (X509_cmp_time): UTCTime YYMMDDHHMMSSZ or GeneralizedTime
 * YYYYMMDDHHMMSSZ only (RFC 5280 5.1.2.4-5). False when t is NULL or in any other form, so
 * that a CRL time counts as readable in the same cases whichever path checks the CRL.
 */
CVMA_MUST_USE bool cvma_crl_time(const ASN1_TIME *t, time_t *out);
/*
 * What a CRL says of its own issue, to order two copies of one CRL (collateral/fetch.h,
 * cvma_collateral_version): thisUpdate and nextUpdate as cvma_crl_time reads them (0 when
 * absent or unreadable) and the CRL number extension (*has_number false when absent or
 * unreadable, or above 2^64 - 1). No signature is checked.
 */
void cvma_crl_version(X509_CRL *crl, int64_t *this_update, int64_t *next_update, bool *has_number,
                      uint64_t *number);
/*
 * True when at is outside crl's thisUpdate..nextUpdate as the CRL checks judge it (before
 * thisUpdate, or at nextUpdate or after), both read by cvma_crl_time into *this_update and
 * *next_update. False when it is inside, or a time cannot be read (that is CRL_INVALID).
 */
bool cvma_crl_misses(X509_CRL *crl, time_t at, time_t *this_update, time_t *next_update);
/*
 * True when crl lists x (removeFromCRL aside) as revoked at `at`: always when crl covers at
 * (cvma_crl_misses false), and otherwise when the entry's revocationDate is at or before at.
 * A CRL that does not cover the time still proves a revocation it dates by then: a revocation
 * does not expire, and is not undone by a later CRL. The caller has checked crl's issuer and
 * signature (cvma_crl_check).
 */
bool cvma_crl_revokes_at(X509_CRL *crl, X509 *x, time_t at);
/* An ASN1_TIME in RFC 3339 ("2025-03-01T00:00:00Z") into out; "(none)" when t is NULL. */
void cvma_asn1_time_format(const ASN1_TIME *t, char *out, size_t out_len);

/*
 * The detail of CERT_EXPIRED / CERT_NOT_YET_VALID: role ("VCEK"), the certificate's subject,
 * the verification time against notBefore / notAfter, and a hint to use --at. x may be NULL
 * (then only the role and the time are named).
 */
void cvma_x509_window_detail(X509 *x, const char *role, time_t at, char *out, size_t out_len);
/*
 * The CRL in store that covers x (issued by x's issuer), borrowed; NULL when none. OpenSSL
 * forgets the CRL it was checking once X509_verify_cert returns; this finds it again.
 */
X509_CRL *cvma_x509_store_crl_for(X509_STORE *store, X509 *x);
/* The same for CRL_EXPIRED: the CRL's issuer, thisUpdate / nextUpdate and the time. */
void cvma_crl_window_detail(X509_CRL *crl, const char *role, time_t at, char *out, size_t out_len);
/* The CN of name, else its one-line form; "" when name is NULL. */
void cvma_x509_name_text(X509_NAME *name, char *out, size_t out_len);
/*
 * Whether a signature's AlgorithmIdentifier is RSASSA-PSS with SHA-384, MGF1 with SHA-384, a
 * salt of 48 bytes and the trailer field 1 (given or left at its default): the one scheme AMD
 * signs its ARKs, ASKs, ASVKs, VCEKs, VLEKs and CRLs with. False otherwise, with what it is in
 * why (e.g. "md5WithRSAEncryption", "RSASSA-PSS with salt 32").
 */
bool cvma_algor_is_amd_pss(const X509_ALGOR *alg, char *why, size_t why_len);
/* Whether x says it is a CA: basicConstraints CA:TRUE (whatever its keyUsage: OpenSSL's
 * X509_check_ca calls a CA:TRUE certificate without keyCertSign no CA), or keyUsage
 * keyCertSign, or what else X509_check_ca counts. A leaf or a signing certificate that says
 * so is refused by its verifier. */
bool cvma_x509_says_ca(X509 *x);

/* ECDSA P-384 over a SHA-384 digest. The backend (nettle or OpenSSL) is chosen per call,
 * from the verification options (struct cvma_verify_opts.p384_backend): no process state. */
struct cvma_p384_pub;
/* enum cvma_p384_backend: the public header (a verifier configuration). */
/* From an EVP_PKEY that must be an EC key on secp384r1 (a valid point); NULL otherwise, or
 * with *oom set when memory ran out. */
struct cvma_p384_pub *cvma_p384_pub_new(EVP_PKEY *pkey, bool *oom);
void cvma_p384_pub_free(struct cvma_p384_pub *pub);
/* Thread-safe: pub is only read, so one key may be checked from many threads at once. An
 * unknown backend value verifies nothing (false). */
bool cvma_p384_verify(const struct cvma_p384_pub *pub, enum cvma_p384_backend backend,
                      const uint8_t digest[48], const uint8_t r[48], const uint8_t s[48]);

/* SHA-256, fetched once per process (an implicit fetch per call costs as much as hashing a
 * quote); NULL when OpenSSL cannot provide it. Thread-safe. */
const EVP_MD *cvma_sha256_md(void);

/* ECDSA P-256 over SHA-256 of msg with a raw r||s signature (64 bytes). */
bool cvma_p256_verify_raw(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t sig[64]);

/*
 * The same with the verification context prepared once per key (TDX quotes: two checks per
 * quote with keys that repeat, so the per-call set-up is worth saving). Thread-safe: one
 * verifier may sit in a shared cache; a check that finds the prepared context in use by
 * another thread prepares its own for that call instead of waiting.
 */
struct cvma_p256_verifier;
/* True when k is an EC key on P-256 (its named group prime256v1). */
bool cvma_pkey_is_p256(EVP_PKEY *k);
/* Takes a reference to pkey. NULL when it cannot be used (not a P-256 key, among others), with
 * *oom set when memory ran out. */
struct cvma_p256_verifier *cvma_p256_verifier_new(EVP_PKEY *pkey, bool *oom);
void cvma_p256_verifier_free(struct cvma_p256_verifier *pv);
bool cvma_p256_verifier_check(struct cvma_p256_verifier *pv, const uint8_t *msg, size_t len,
                              const uint8_t sig[64]);

#endif
