/*
 * A public key as a JWK (RFC 7517): the service's token cnf claim (RFC 7800) for a request's
 * key, and the vTPM AK in claims.tpm.ak.jwk (docs/results.md).
 */
#ifndef CVMA_CRYPTO_JWK_H
#define CVMA_CRYPTO_JWK_H

#include <jansson.h>
#include <openssl/evp.h>

/* The public JWK of key (kty EC with crv/x/y, RSA with n/e, OKP Ed25519 with x); NULL when
 * out of memory or another type. */
json_t *cvma_pubkey_jwk(EVP_PKEY *key);

#endif
