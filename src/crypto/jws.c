/* see crypto/jws.h */
#include "crypto/jws.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "common/json_out.h"
#include "crypto/crypto.h"

#define P256_LEN 32
#define P384_LEN 48

const char *cvma_jws_alg_name(enum cvma_jws_alg alg)
{
    switch (alg) {
    case CVMA_JWS_ES256:
        return "ES256";
    case CVMA_JWS_ES384:
        return "ES384";
    }
    return "?";
}

const char *cvma_jws_error_name(enum cvma_jws_error e)
{
    switch (e) {
    case CVMA_JWS_OK:
        return "ok";
    case CVMA_JWS_MALFORMED:
        return "malformed JWS";
    case CVMA_JWS_ALG_UNSUPPORTED:
        return "unsupported alg";
    case CVMA_JWS_ALG_KEY_MISMATCH:
        return "alg does not match the key";
    case CVMA_JWS_BAD_SIGNATURE:
        return "signature does not verify";
    case CVMA_JWS_NOMEM:
        return "out of memory";
    case CVMA_JWS_INTERNAL:
        return "internal crypto error";
    }
    return "?";
}

static size_t alg_scalar_len(enum cvma_jws_alg alg)
{
    return alg == CVMA_JWS_ES384 ? P384_LEN : P256_LEN;
}

static const EVP_MD *alg_md(enum cvma_jws_alg alg)
{
    return alg == CVMA_JWS_ES384 ? EVP_sha384() : EVP_sha256();
}

/* ---------- keys ---------- */

bool cvma_jws_key_alg(EVP_PKEY *key, enum cvma_jws_alg *alg)
{
    char group[32];
    size_t glen = 0;
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &glen)) {
        return false;
    }
    if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
        *alg = CVMA_JWS_ES256;
        return true;
    }
    if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
        *alg = CVMA_JWS_ES384;
        return true;
    }
    return false;
}

EVP_PKEY *cvma_jws_key_generate(enum cvma_jws_alg alg)
{
    return EVP_EC_gen(alg == CVMA_JWS_ES384 ? "P-384" : "P-256");
}

EVP_PKEY *cvma_jws_key_from_pem(const uint8_t *p, size_t len, bool want_private)
{
    BIO *bio;
    EVP_PKEY *key = NULL;
    enum cvma_jws_alg alg;

    if (p == NULL || len == 0 || len > (1u << 20)) {
        return NULL;
    }
    if (want_private) {
        key = cvma_pem_private_key(p, len);
    } else if ((bio = BIO_new_mem_buf(p, (int)len)) != NULL) {
        key = PEM_read_bio_PUBKEY(bio, NULL, cvma_pem_no_passphrase, NULL);
        BIO_free(bio);
    }
    if (key != NULL && !cvma_jws_key_alg(key, &alg)) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    return key;
}

bool cvma_jws_key_to_pem(EVP_PKEY *key, bool private_key, struct cvma_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    bool ok = false;

    out->p = NULL;
    out->len = 0;
    if (bio == NULL) {
        return false;
    }
    if (private_key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1
                    : PEM_write_bio_PUBKEY(bio, key) != 1) {
        goto out;
    }
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || (out->p = malloc((size_t)n)) == NULL) {
        goto out;
    }
    memcpy(out->p, data, (size_t)n);
    out->len = (size_t)n;
    ok = true;
out:
    BIO_free(bio);
    return ok;
}

bool cvma_jws_key_thumbprint(EVP_PKEY *key, uint8_t out[32])
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    bool ok = false;
    unsigned int dlen = 0;
    if (n > 0) {
        ok = EVP_Digest(der, (size_t)n, out, &dlen, EVP_sha256(), NULL) == 1 && dlen == 32;
    }
    OPENSSL_free(der);
    return ok;
}

/* ---------- signing ---------- */

/* DER ECDSA-Sig-Value -> raw r || s, each padded to n bytes. */
static bool der_to_raw(const unsigned char *der, size_t der_len, size_t n, uint8_t *raw)
{
    const unsigned char *q = der;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
    bool ok = false;
    if (sig == NULL) {
        return false;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, (int)n) == (int)n && BN_bn2binpad(s, raw + n, (int)n) == (int)n;
    ECDSA_SIG_free(sig);
    return ok;
}

/* Raw r || s (2n bytes) -> DER (OPENSSL_malloc'd). */
static bool raw_to_der(const uint8_t *raw, size_t n, unsigned char **der, int *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)n, NULL), *s = BN_bin2bn(raw + n, (int)n, NULL);
    bool ok = false;
    *der = NULL;
    *der_len = 0;
    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig */
        *der_len = i2d_ECDSA_SIG(sig, der);
        ok = *der_len > 0;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return ok;
}

/* The largest DER ECDSA-Sig-Value for a curve of n-byte scalars: SEQUENCE of two INTEGERs of
 * up to n + 1 bytes (a leading zero), with two-byte length forms for P-384. */
#define SIG_DER_MAX (3 + 2 * (2 + P384_LEN + 1))

/* Idle signing contexts kept: as many as serve can have workers (--threads at most 256); the
 * list only ever holds as many as were in use at once. */
#define SIGNER_IDLE 256

struct cvma_jws_signer {
    EVP_PKEY *key; /* referenced */
    enum cvma_jws_alg alg;
    EVP_MD *md;     /* fetched once */
    char *hdr_b64;  /* the protected header, base64url */
    size_t hdr_len; /* its length */
    pthread_mutex_t lock;
    EVP_PKEY_CTX *idle[SIGNER_IDLE]; /* initialized for signing, under lock */
    size_t n_idle;
};

void cvma_jws_signer_free(struct cvma_jws_signer *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n_idle; i++) {
        EVP_PKEY_CTX_free(s->idle[i]);
    }
    pthread_mutex_destroy(&s->lock);
    EVP_MD_free(s->md);
    EVP_PKEY_free(s->key);
    free(s->hdr_b64);
    free(s);
}

/* s is UTF-8 text (a header member must be). */
static bool utf8_text(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = p[i] < 0x80 ? 1 : cvma_utf8_seq(p + i, n - i);
        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

struct cvma_jws_signer *cvma_jws_signer_new(EVP_PKEY *key, const char *typ, const char *kid,
                                            enum cvma_jws_error *e)
{
    struct cvma_jws_signer *s = NULL;
    struct cvma_strbuf hdr = {0};
    enum cvma_jws_alg alg;

    if (!cvma_jws_key_alg(key, &alg)) {
        *e = CVMA_JWS_ALG_KEY_MISMATCH;
        return NULL;
    }
    *e = CVMA_JWS_MALFORMED;
    if ((typ != NULL && (strlen(typ) > CVMA_JWS_TYP_MAX || !utf8_text(typ))) ||
        (kid != NULL && (strlen(kid) > CVMA_JWS_KID_MAX || !utf8_text(kid)))) {
        return NULL;
    }
    /* The protected header {"alg","typ","kid"} (those that are given, in that order). */
    const char *alg_name = cvma_jws_alg_name(alg);
    bool ok = cvma_strbuf_add(&hdr, "{\"alg\":", 7) &&
              cvma_json_write_str(&hdr, alg_name, strlen(alg_name)) &&
              (typ == NULL || (cvma_strbuf_add(&hdr, ",\"typ\":", 7) &&
                               cvma_json_write_str(&hdr, typ, strlen(typ)))) &&
              (kid == NULL || (cvma_strbuf_add(&hdr, ",\"kid\":", 7) &&
                               cvma_json_write_str(&hdr, kid, strlen(kid)))) &&
              cvma_strbuf_add(&hdr, "}", 1);
    *e = CVMA_JWS_NOMEM;
    if (!ok) {
        free(hdr.p);
        return NULL;
    }
    if ((s = calloc(1, sizeof *s)) == NULL ||
        (s->hdr_b64 = cvma_base64_encode((const uint8_t *)hdr.p, hdr.len, CVMA_B64_URL)) == NULL) {
        free(s);
        free(hdr.p);
        return NULL;
    }
    free(hdr.p);
    pthread_mutex_init(&s->lock, NULL);
    s->hdr_len = strlen(s->hdr_b64);
    s->alg = alg;
    *e = CVMA_JWS_INTERNAL;
    if ((s->md = EVP_MD_fetch(NULL, alg == CVMA_JWS_ES384 ? "SHA384" : "SHA256", NULL)) == NULL ||
        EVP_PKEY_up_ref(key) != 1) {
        cvma_jws_signer_free(s);
        return NULL;
    }
    s->key = key;
    *e = CVMA_JWS_OK;
    return s;
}

/* A signing context of the caller's own: an idle one, else a new one (NULL: failed). */
static EVP_PKEY_CTX *take_ctx(struct cvma_jws_signer *s)
{
    EVP_PKEY_CTX *c = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->n_idle > 0) {
        c = s->idle[--s->n_idle];
    }
    pthread_mutex_unlock(&s->lock);
    if (c == NULL && ((c = EVP_PKEY_CTX_new_from_pkey(NULL, s->key, NULL)) == NULL ||
                      EVP_PKEY_sign_init(c) != 1)) {
        EVP_PKEY_CTX_free(c);
        c = NULL;
    }
    return c;
}

/* Back to the idle list; one that failed (ok false) or over the list's size is freed. */
static void give_ctx(struct cvma_jws_signer *s, EVP_PKEY_CTX *c, bool ok)
{
    pthread_mutex_lock(&s->lock);
    if (ok && s->n_idle < SIGNER_IDLE) {
        s->idle[s->n_idle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    EVP_PKEY_CTX_free(c);
}

enum cvma_jws_error cvma_jws_signer_sign(struct cvma_jws_signer *s, const uint8_t *payload,
                                         size_t payload_len, char **out)
{
    char *input = NULL;
    unsigned char der[SIG_DER_MAX], dg[EVP_MAX_MD_SIZE];
    unsigned int dg_len = 0;
    size_t der_len = sizeof der;
    uint8_t raw[2 * P384_LEN];
    enum cvma_jws_error e = CVMA_JWS_NOMEM;
    EVP_PKEY_CTX *c = NULL;

    *out = NULL;
    /* header.payload.signature in one buffer: the signing input is its first part. */
    size_t hl = s->hdr_len;
    size_t pl = cvma_base64_encoded_len(payload_len, CVMA_B64_URL);
    size_t sl = cvma_base64_encoded_len(2 * alg_scalar_len(s->alg), CVMA_B64_URL);
    if (pl < payload_len || (input = malloc(hl + 1 + pl + 1 + sl + 1)) == NULL ||
        !cvma_base64_encode_to(payload, payload_len, CVMA_B64_URL, input + hl + 1, pl + 1)) {
        goto out;
    }
    memcpy(input, s->hdr_b64, hl);
    input[hl] = '.';

    /* The digest of the signing input, then ECDSA over it: ES256 is ECDSA P-256 with SHA-256,
     * ES384 P-384 with SHA-384 (RFC 7518 §3.4). */
    e = CVMA_JWS_INTERNAL;
    if (EVP_Digest(input, hl + 1 + pl, dg, &dg_len, s->md, NULL) != 1 ||
        (c = take_ctx(s)) == NULL) {
        goto out;
    }
    bool ok = EVP_PKEY_sign(c, der, &der_len, dg, dg_len) == 1;
    give_ctx(s, c, ok);
    if (!ok || !der_to_raw(der, der_len, alg_scalar_len(s->alg), raw)) {
        goto out;
    }
    input[hl + 1 + pl] = '.';
    if (!cvma_base64_encode_to(raw, 2 * alg_scalar_len(s->alg), CVMA_B64_URL,
                               input + hl + 1 + pl + 1, sl + 1)) {
        goto out;
    }
    *out = input;
    input = NULL;
    e = CVMA_JWS_OK;
out:
    OPENSSL_cleanse(raw, sizeof raw);
    free(input);
    return e;
}

enum cvma_jws_error cvma_jws_sign(EVP_PKEY *key, const char *typ, const char *kid,
                                  const uint8_t *payload, size_t payload_len, char **out)
{
    enum cvma_jws_error e;
    struct cvma_jws_signer *s = cvma_jws_signer_new(key, typ, kid, &e);
    *out = NULL;
    if (s == NULL) {
        return e;
    }
    e = cvma_jws_signer_sign(s, payload, payload_len, out);
    cvma_jws_signer_free(s);
    return e;
}

enum cvma_jws_error cvma_jws_sign_json(EVP_PKEY *key, const char *typ, const char *kid,
                                       const json_t *payload, char **out)
{
    char *s;
    enum cvma_jws_error e;
    *out = NULL;
    if ((s = cvma_json_compact(payload, NULL)) == NULL) {
        return CVMA_JWS_NOMEM;
    }
    e = cvma_jws_sign(key, typ, kid, (const uint8_t *)s, strlen(s), out);
    free(s);
    return e;
}

/* ---------- verification ---------- */

void cvma_jws_cleanup(struct cvma_jws *jws)
{
    if (jws == NULL) {
        return;
    }
    cvma_buf_free(&jws->payload);
    cvma_buf_free(&jws->sig);
    memset(jws, 0, sizeof *jws);
}

/* Copies a JSON string member (if present) into dst; false when present but not a short
 * string. */
static bool header_string(json_t *hdr, const char *name, char *dst, size_t cap, bool *present)
{
    json_t *v = json_object_get(hdr, name);
    *present = false;
    dst[0] = '\0';
    if (v == NULL) {
        return true;
    }
    if (!json_is_string(v) || json_string_length(v) >= cap) {
        return false;
    }
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    *present = true;
    return true;
}

/* see crypto/jws.h */
size_t cvma_jws_token_len(const uint8_t *token, size_t len)
{
    while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' ' ||
                       token[len - 1] == '\t')) {
        len--;
    }
    return len;
}

enum cvma_jws_error cvma_jws_decode(const char *token, size_t len, struct cvma_jws *out, char *err,
                                    size_t err_len)
{
    enum cvma_jws_error e = CVMA_JWS_MALFORMED;
    const char *dot1 = NULL, *dot2 = NULL;
    struct cvma_buf hdr_bytes = {0};
    json_t *hdr = NULL;
    json_error_t jerr;
    enum cvma_status st;

    memset(out, 0, sizeof *out);
    cvma_errf(err, err_len, "%s", "");
    /* Exactly two dots: header.payload.signature (a JWE has four). */
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (dot1 == NULL) {
                dot1 = token + i;
            } else if (dot2 == NULL) {
                dot2 = token + i;
            } else {
                cvma_errf(err, err_len, "more than three dot-separated parts");
                goto out;
            }
        }
    }
    if (dot2 == NULL) {
        cvma_errf(err, err_len, "not header.payload.signature");
        goto out;
    }
    size_t hlen = (size_t)(dot1 - token), plen = (size_t)(dot2 - dot1 - 1);
    size_t slen = len - (size_t)(dot2 - token) - 1;
    if (hlen == 0 || hlen > CVMA_JWS_HEADER_MAX) {
        cvma_errf(err, err_len, "protected header of %zu characters (1..%d allowed)", hlen,
                  CVMA_JWS_HEADER_MAX);
        goto out;
    }
    if ((st = cvma_base64_decode_buf(token, hlen, CVMA_B64_URL, &hdr_bytes)) != CVMA_OK) {
        e = st == CVMA_E_NOMEM ? CVMA_JWS_NOMEM : CVMA_JWS_MALFORMED;
        cvma_errf(err, err_len, "protected header is not base64url");
        goto out;
    }
    bool oom;
    hdr = cvma_json_loadb(hdr_bytes.p, hdr_bytes.len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    if (oom) {
        e = CVMA_JWS_NOMEM;
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    if (hdr == NULL || !json_is_object(hdr)) {
        cvma_errf(err, err_len, "protected header is not a JSON object%s%s", hdr ? "" : ": ",
                  hdr ? "" : jerr.text);
        goto out;
    }
    json_t *alg = json_object_get(hdr, "alg");
    if (!json_is_string(alg)) {
        cvma_errf(err, err_len, "protected header has no \"alg\" string");
        goto out;
    }
    if (strcmp(json_string_value(alg), "ES256") == 0 && json_string_length(alg) == 5) {
        out->alg = CVMA_JWS_ES256;
    } else if (strcmp(json_string_value(alg), "ES384") == 0 && json_string_length(alg) == 5) {
        out->alg = CVMA_JWS_ES384;
    } else {
        e = CVMA_JWS_ALG_UNSUPPORTED;
        cvma_errf(err, err_len, "alg \"%.32s\" is not accepted (ES256 or ES384 only)",
                  json_string_value(alg));
        goto out;
    }
    if (json_object_get(hdr, "crit") != NULL) {
        cvma_errf(err, err_len, "protected header has \"crit\": no JWS extension is supported");
        goto out;
    }
    if (!header_string(hdr, "typ", out->typ, sizeof out->typ, &out->has_typ) ||
        !header_string(hdr, "kid", out->kid, sizeof out->kid, &out->has_kid)) {
        cvma_errf(err, err_len, "\"typ\" or \"kid\" is not a string of at most %d/%d bytes",
                  CVMA_JWS_TYP_MAX, CVMA_JWS_KID_MAX);
        goto out;
    }
    if ((st = cvma_base64_decode_buf(dot1 + 1, plen, CVMA_B64_URL, &out->payload)) != CVMA_OK) {
        e = st == CVMA_E_NOMEM ? CVMA_JWS_NOMEM : CVMA_JWS_MALFORMED;
        cvma_errf(err, err_len, "payload is not base64url");
        goto out;
    }
    if ((st = cvma_base64_decode_buf(dot2 + 1, slen, CVMA_B64_URL, &out->sig)) != CVMA_OK) {
        e = st == CVMA_E_NOMEM ? CVMA_JWS_NOMEM : CVMA_JWS_MALFORMED;
        cvma_errf(err, err_len, "signature is not base64url");
        goto out;
    }
    out->signing_input.p = (const uint8_t *)token;
    out->signing_input.len = (size_t)(dot2 - token);
    e = CVMA_JWS_OK;
out:
    json_decref(hdr);
    cvma_buf_free(&hdr_bytes);
    if (e != CVMA_JWS_OK) {
        cvma_jws_cleanup(out);
    }
    return e;
}

enum cvma_jws_error cvma_jws_check(const struct cvma_jws *jws, EVP_PKEY *key, char *err,
                                   size_t err_len)
{
    enum cvma_jws_alg key_alg;
    size_t n = alg_scalar_len(jws->alg);
    unsigned char *der = NULL;
    int der_len = 0;
    EVP_MD_CTX *ctx = NULL;
    enum cvma_jws_error e = CVMA_JWS_INTERNAL;

    cvma_errf(err, err_len, "%s", "");
    if (!cvma_jws_key_alg(key, &key_alg) || key_alg != jws->alg) {
        cvma_errf(err, err_len, "header alg %s does not match the key (%s)",
                  cvma_jws_alg_name(jws->alg),
                  cvma_jws_key_alg(key, &key_alg) ? cvma_jws_alg_name(key_alg) : "not P-256/P-384");
        return CVMA_JWS_ALG_KEY_MISMATCH;
    }
    /* RFC 7518 §3.4: exactly 2 * 32 (ES256) or 2 * 48 (ES384) octets, never DER. */
    if (jws->sig.len != 2 * n) {
        cvma_errf(err, err_len, "signature is %zu bytes, %s needs %zu", jws->sig.len,
                  cvma_jws_alg_name(jws->alg), 2 * n);
        return CVMA_JWS_BAD_SIGNATURE;
    }
    if (!raw_to_der(jws->sig.p, n, &der, &der_len)) {
        goto out;
    }
    if ((ctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestVerifyInit(ctx, NULL, alg_md(jws->alg), NULL, key) != 1) {
        goto out;
    }
    if (EVP_DigestVerify(ctx, der, (size_t)der_len, jws->signing_input.p, jws->signing_input.len) !=
        1) {
        cvma_errf(err, err_len, "%s signature does not verify with the key given",
                  cvma_jws_alg_name(jws->alg));
        e = CVMA_JWS_BAD_SIGNATURE;
        goto out;
    }
    e = CVMA_JWS_OK;
out:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return e;
}

enum cvma_jws_error cvma_jws_verify(const char *token, size_t len, EVP_PKEY *key,
                                    struct cvma_jws *out, char *err, size_t err_len)
{
    enum cvma_jws_error e = cvma_jws_decode(token, len, out, err, err_len);
    if (e == CVMA_JWS_OK && (e = cvma_jws_check(out, key, err, err_len)) != CVMA_JWS_OK) {
        cvma_jws_cleanup(out);
    }
    return e;
}

json_t *cvma_jws_payload_json(const struct cvma_jws *jws, char *err, size_t err_len)
{
    json_error_t jerr;
    bool oom;
    json_t *j =
            cvma_json_loadb(jws->payload.p, jws->payload.len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    if (oom) {
        cvma_errf(err, err_len, "out of memory");
        return NULL;
    }
    if (j == NULL) {
        cvma_errf(err, err_len, "payload is not JSON: %s (line %d)", jerr.text, jerr.line);
        return NULL;
    }
    if (!json_is_object(j)) {
        cvma_errf(err, err_len, "payload is not a JSON object");
        json_decref(j);
        return NULL;
    }
    return j;
}
