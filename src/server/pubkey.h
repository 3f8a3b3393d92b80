/*
 * The attested public key of a POST /v1/verify request (docs/service.md "Key binding"): a PEM
 * public key the caller says the evidence binds, its REPORT_DATA (SHA-512 over the nonce, when
 * one is given, then the key's DER SubjectPublicKeyInfo), and its JWK (RFC 7517) for the
 * token's cnf claim (RFC 7800).
 */
#ifndef CVMA_SERVER_PUBKEY_H
#define CVMA_SERVER_PUBKEY_H

#include <jansson.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "crypto/jwk.h"

#define CVMA_PUBKEY_MAX_PEM 16384 /* longer text is refused before parsing */

/*
 * Parses one PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of an EC P-256/P-384/P-521, RSA (2048 to
 * 8192 bits) or Ed25519 key into *out. CVMA_REJECTED with err (what is wrong) otherwise;
 * CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_pubkey_parse(const char *pem, size_t len, EVP_PKEY **out,
                                                 char *err, size_t err_len);

/* The REPORT_DATA that binds key: SHA-512(nonce || DER SubjectPublicKeyInfo); nonce may be
 * NULL (nonce_len 0). False when out of memory. */
bool cvma_pubkey_report_data(EVP_PKEY *key, const uint8_t *nonce, size_t nonce_len,
                             uint8_t out[64]);

/* The JWK of a key: cvma_pubkey_jwk (crypto/jwk.h, shared with the vTPM AK's claims). */

#endif
