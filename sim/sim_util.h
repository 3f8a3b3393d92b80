/*
 * Building blocks shared by the simulated TEEs (sim/): fresh test keys, X.509
 * certificates and CRLs with exactly the extensions a vendor hierarchy carries (the files
 * they are written to: sim/sim_files.h). Everything here makes TEST material signed by locally
 * generated keys; none of it is ever trusted by the verifier unless a user passes the
 * simulated root with --trust-root.
 *
 * Conventions: constructors return a new object the caller frees with the matching
 * OpenSSL *_free, or NULL on failure. Functions returning enum cvma_status return CVMA_OK,
 * CVMA_E_NOMEM, CVMA_E_IO (files) or CVMA_E_INTERNAL (an OpenSSL call failed); on failure
 * the OpenSSL error queue still holds the cause, which cvma_sim_errf() appends to a message.
 * Only OpenSSL 3 EVP / X509 APIs are used, none of the deprecated low-level RSA/EC calls.
 */
#ifndef CVMA_SIM_SIM_UTIL_H
#define CVMA_SIM_SIM_UTIL_H

#include <stdarg.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/util.h"

/* How a certificate, CRL or blob is signed. */
enum cvma_sim_sig {
    CVMA_SIM_SIG_RSA_PSS_SHA384, /* RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 (AMD KDS) */
    CVMA_SIM_SIG_ECDSA_SHA256,   /* ecdsa-with-SHA256 (Intel PCK hierarchy) */
    CVMA_SIM_SIG_ECDSA_SHA384,   /* ecdsa-with-SHA384 */
};

/* One RDN of a name, e.g. { "CN", "ARK-Milan" }. Values are UTF-8. */
struct cvma_sim_name_entry {
    const char *field;
    const char *value;
};

#define CVMA_SIM_DAY_SECONDS 86400

/*
 * Formats a message into err (err_len bytes, always NUL-terminated when err_len > 0) and, if
 * the OpenSSL error queue is not empty, appends ": <first OpenSSL error>". Clears the queue.
 * err may be NULL (the queue is still cleared).
 */
void cvma_sim_errf(char *err, size_t err_len, const char *fmt, ...) CVMA_PRINTF(3, 4);

/* Fills p with len bytes from the OpenSSL CSPRNG. CVMA_OK or CVMA_E_INTERNAL. */
CVMA_MUST_USE enum cvma_status cvma_sim_random(uint8_t *p, size_t len);

/*
 * The digest md ("SHA256", "SHA384", ...) of len bytes at p into out, which holds exactly
 * out_len bytes (the digest's size). CVMA_OK, or CVMA_E_INTERNAL (also on a size mismatch).
 */
CVMA_MUST_USE enum cvma_status cvma_sim_digest(const char *md, const void *p, size_t len,
                                               uint8_t *out, size_t out_len);

/* A fresh EC key on the curve curve_nid (NID_secp384r1, NID_X9_62_prime256v1...). */
EVP_PKEY *cvma_sim_ec_key_new(int curve_nid);

/* A fresh RSA key of bits bits, public exponent 65537. */
EVP_PKEY *cvma_sim_rsa_key_new(unsigned bits);

/*
 * A new X.509 v3 certificate, unsigned and without extensions: subject from n_subject
 * entries (in that order), issuer = issuer_name, or the subject itself when issuer_name is
 * NULL (self-signed), public key of key (the certificate takes its own reference), serial as
 * a non-negative big-endian integer of serial_len bytes (serial_len 0 gives serial 0), and
 * validity [not_before, not_after].
 */
X509 *cvma_sim_x509_new(const struct cvma_sim_name_entry *subject, size_t n_subject,
                        const X509_NAME *issuer_name, EVP_PKEY *key, const uint8_t *serial,
                        size_t serial_len, time_t not_before, time_t not_after);

/*
 * Adds a standard extension from its OpenSSL config text, e.g. (NID_basic_constraints,
 * "critical,CA:TRUE"), (NID_authority_key_identifier, "keyid:always"). issuer is the issuing
 * certificate (needed by the authority key identifier; pass x itself when self-signed).
 */
CVMA_MUST_USE enum cvma_status cvma_sim_x509_add_std_ext(X509 *x, X509 *issuer, int nid,
                                                         const char *value);

/*
 * Adds an extension whose OCTET STRING contents are exactly value (value_len bytes), under
 * the dotted OID oid_text. No DER wrapping is added: pass DER (from cvma_sim_der_integer...)
 * for typed values, or raw bytes where the vendor puts raw bytes (AMD hwID).
 */
CVMA_MUST_USE enum cvma_status cvma_sim_x509_add_raw_ext(X509 *x, const char *oid_text,
                                                         bool critical, const uint8_t *value,
                                                         size_t value_len);

/* DER of an INTEGER / IA5String. On success *out owns the bytes (free with cvma_buf_free). */
CVMA_MUST_USE enum cvma_status cvma_sim_der_integer(long v, struct cvma_buf *out);
CVMA_MUST_USE enum cvma_status cvma_sim_der_ia5string(const char *s, struct cvma_buf *out);

/* Signs x (or crl) with key using sig. The key type must match sig. */
CVMA_MUST_USE enum cvma_status cvma_sim_x509_sign(X509 *x, EVP_PKEY *key, enum cvma_sim_sig sig);
CVMA_MUST_USE enum cvma_status cvma_sim_crl_sign(X509_CRL *crl, EVP_PKEY *key,
                                                 enum cvma_sim_sig sig);

/*
 * A new v2 CRL issued by issuer (its subject becomes the CRL issuer), thisUpdate this_update,
 * nextUpdate next_update (0: none, a defect), listing the serials of the n_revoked certificates in
 * revoked (revocation date this_update). Unsigned: call cvma_sim_crl_sign.
 */
X509_CRL *cvma_sim_crl_new(const X509 *issuer, time_t this_update, time_t next_update,
                           X509 *const *revoked, size_t n_revoked);

/*
 * Signs msg (msg_len bytes) with the EC key using ECDSA over the digest md, and writes r and
 * s as big-endian integers left-padded to comp_len bytes each (48 for P-384, 32 for P-256).
 * CVMA_E_INTERNAL if signing fails or a component does not fit.
 */
CVMA_MUST_USE enum cvma_status cvma_sim_ecdsa_sign_raw(EVP_PKEY *key, const EVP_MD *md,
                                                       const uint8_t *msg, size_t msg_len,
                                                       uint8_t *r, uint8_t *s, size_t comp_len);

#endif
