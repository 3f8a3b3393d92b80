/*
 * Compact JWS (RFC 7515 §7.1) with ES256 and ES384 only (RFC 7518 §3.4): the signature is
 * the raw big-endian r || s, 64 bytes for ES256 (P-256, SHA-256) and 96 for ES384 (P-384,
 * SHA-384), never DER. Used for provider platform registries and signed attestation results.
 *
 * What verification trusts: only the key the caller passes. The protected header's "alg"
 * must name exactly the algorithm of that key (an ES256 header with a P-384 key is refused),
 * so "none", HS256/RS256/PS256, EdDSA or ES512 can never be accepted, whatever the key
 * (algorithm confusion). Header members that could name another key ("jwk", "jku", "x5u",
 * "x5c") are ignored: keys are never taken from the token. A header with "crit" is refused,
 * since cvmattest understands no JWS extension (RFC 7515 §4.1.11; this also refuses
 * RFC 7797's unencoded payloads). Duplicate header members are refused.
 *
 * Limits: the protected header is at most CVMA_JWS_HEADER_MAX characters; the caller bounds
 * the whole token (it read it with a size limit). Decoding never reads past the given length
 * and does not need a NUL terminator.
 */
#ifndef CVMA_CRYPTO_JWS_H
#define CVMA_CRYPTO_JWS_H

#include <jansson.h>
#include <openssl/evp.h>

#include "common/util.h"

#define CVMA_JWS_HEADER_MAX 4096 /* characters of the base64url protected header */
#define CVMA_JWS_TYP_MAX    64   /* bytes of "typ", NUL excluded */
#define CVMA_JWS_KID_MAX    128  /* bytes of "kid", NUL excluded */

enum cvma_jws_alg {
    CVMA_JWS_ES256 = 0, /* ECDSA P-256 with SHA-256 */
    CVMA_JWS_ES384,     /* ECDSA P-384 with SHA-384 */
};

enum cvma_jws_error {
    CVMA_JWS_OK = 0,
    CVMA_JWS_MALFORMED,        /* not header.payload.signature in base64url; bad header */
    CVMA_JWS_ALG_UNSUPPORTED,  /* "alg" other than ES256/ES384 ("none", "HS256", ...) */
    CVMA_JWS_ALG_KEY_MISMATCH, /* "alg" is not the algorithm of the key given */
    CVMA_JWS_BAD_SIGNATURE,    /* signature of the wrong length, or does not verify */
    CVMA_JWS_NOMEM,
    CVMA_JWS_INTERNAL, /* OpenSSL failed for another reason */
};

/* A decoded token. cvma_jws_cleanup frees it; a zeroed struct is valid for cleanup. */
struct cvma_jws {
    enum cvma_jws_alg alg;
    bool has_typ;
    bool has_kid;
    char typ[CVMA_JWS_TYP_MAX + 1];
    char kid[CVMA_JWS_KID_MAX + 1];
    struct cvma_buf payload;        /* decoded payload bytes (owned, not NUL-terminated) */
    struct cvma_buf sig;            /* decoded signature bytes (owned) */
    struct cvma_span signing_input; /* BORROWED from the token: "header.payload" */
};

const char *cvma_jws_alg_name(enum cvma_jws_alg alg);
const char *cvma_jws_error_name(enum cvma_jws_error e);

/* ---- keys: EC P-256 / P-384 only ---- */

/* New key pair: P-256 for ES256, P-384 for ES384. NULL on failure. Caller frees. */
EVP_PKEY *cvma_jws_key_generate(enum cvma_jws_alg alg);
/*
 * Parses a PEM key: want_private selects "PRIVATE KEY" / "EC PRIVATE KEY" (never prompts for
 * a passphrase: encrypted keys are refused), otherwise "PUBLIC KEY" (SubjectPublicKeyInfo).
 * Only P-256 and P-384 keys are returned; NULL for anything else. Caller frees.
 */
EVP_PKEY *cvma_jws_key_from_pem(const uint8_t *p, size_t len, bool want_private);
/* PEM of the private key (PKCS#8, unencrypted) or of the public key (SPKI) into *out. */
CVMA_MUST_USE bool cvma_jws_key_to_pem(EVP_PKEY *key, bool private_key, struct cvma_buf *out);
/* The algorithm a key signs with (P-256 -> ES256, P-384 -> ES384); false for other keys. */
CVMA_MUST_USE bool cvma_jws_key_alg(EVP_PKEY *key, enum cvma_jws_alg *alg);
/* SHA-256 of the DER SubjectPublicKeyInfo: cvmattest's key id (hex of it is the "kid"). */
CVMA_MUST_USE bool cvma_jws_key_thumbprint(EVP_PKEY *key, uint8_t out[32]);

/* ---- signing ---- */

/*
 * Signs payload with key (the algorithm follows the key). The protected header is
 * {"alg":..., "typ": typ, "kid": kid} in that order; typ and kid are left out when NULL.
 * *out (malloc'd, NUL-terminated) receives the compact serialization.
 */
CVMA_MUST_USE enum cvma_jws_error cvma_jws_sign(EVP_PKEY *key, const char *typ, const char *kid,
                                                const uint8_t *payload, size_t payload_len,
                                                char **out);
/*
 * A key made ready to sign many payloads under one header (a service signs every token with
 * its result key): the algorithm, the header's base64url and the digest are worked out once,
 * and the key's signing contexts are kept for reuse (OpenSSL 3.0 looks its algorithms up
 * whenever one is made, which cost as much as a quarter of the signature). The bytes signed
 * and written are cvma_jws_sign's. Thread-safe: a context is used by one signature at a time
 * (an idle list under a mutex). key is referenced, not copied.
 * cvma_jws_signer_new: NULL with *e set (ALG_KEY_MISMATCH, MALFORMED for a typ or kid over its
 * limit or not UTF-8, NOMEM).
 */
struct cvma_jws_signer;
struct cvma_jws_signer *cvma_jws_signer_new(EVP_PKEY *key, const char *typ, const char *kid,
                                            enum cvma_jws_error *e);
void cvma_jws_signer_free(struct cvma_jws_signer *s);
CVMA_MUST_USE enum cvma_jws_error cvma_jws_signer_sign(struct cvma_jws_signer *s,
                                                       const uint8_t *payload, size_t payload_len,
                                                       char **out);

/* The same with a JSON payload, serialized compactly (member order as inserted). */
CVMA_MUST_USE enum cvma_jws_error cvma_jws_sign_json(EVP_PKEY *key, const char *typ,
                                                     const char *kid, const json_t *payload,
                                                     char **out);

/* ---- verification ---- */

/* The length of the token in a file's len bytes: without the newlines (CR, LF), spaces and tabs
 * after it (a file usually ends with a newline; nothing else may surround the token). Every
 * reader of a token file (a registry, a result token) trims by this, so that one file is read
 * alike everywhere. */
size_t cvma_jws_token_len(const uint8_t *token, size_t len);

/*
 * Splits and decodes a compact JWS WITHOUT checking its signature: the header is parsed and
 * checked (alg ES256/ES384, no crit, typ/kid strings within their limits), payload and
 * signature are decoded. Nothing in *out may be trusted until cvma_jws_check succeeds.
 * *out borrows from token (signing_input): keep token alive while using *out.
 * err (may be NULL) receives a one-line explanation on failure.
 */
CVMA_MUST_USE enum cvma_jws_error cvma_jws_decode(const char *token, size_t len,
                                                  struct cvma_jws *out, char *err, size_t err_len);
/* Checks a decoded token's signature with key: alg must match the key exactly. */
CVMA_MUST_USE enum cvma_jws_error cvma_jws_check(const struct cvma_jws *jws, EVP_PKEY *key,
                                                 char *err, size_t err_len);
/* cvma_jws_decode then cvma_jws_check. On failure *out is cleaned up. */
CVMA_MUST_USE enum cvma_jws_error cvma_jws_verify(const char *token, size_t len, EVP_PKEY *key,
                                                  struct cvma_jws *out, char *err, size_t err_len);
void cvma_jws_cleanup(struct cvma_jws *jws);

/*
 * Parses a payload as one JSON object (duplicate members refused, no NUL characters).
 * Returns a new reference or NULL (err filled).
 */
json_t *cvma_jws_payload_json(const struct cvma_jws *jws, char *err, size_t err_len);

#endif
