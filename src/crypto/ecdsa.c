/*
 * Raw ECDSA checks. P-384 (SEV-SNP reports) runs on nettle by default: on Debian 12, nettle
 * 3.8's ecdsa_verify is measured faster than OpenSSL 3.0's generic P-384 code (see
 * docs/performance.md); the OpenSSL path stays selectable so the benchmark can compare.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"

/* P-384 numbers as nettle's low-level functions take them: least significant limb first. */
#define P384_LIMBS (48 / sizeof(mp_limb_t))
/* Room for ecc_ecdsa_verify's scratch (nettle 3.8 asks for 5 * 6 + mul_itch limbs on P-384,
 * a few hundred); checked against nettle's own figure when a key is made. */
#define P384_SCRATCH_LIMBS 1024

struct cvma_p384_pub {
    mp_limb_t xy[2 * P384_LIMBS]; /* the point, affine: x then y (nettle) */
    bool nettle;                  /* nettle is the one this was written for: xy is usable */
    EVP_PKEY *pkey;               /* OpenSSL (own reference) */
};

/*
 * nettle's low-level verification, which takes numbers as limbs and scratch space from the
 * caller, is used rather than ecdsa_verify: that one goes through GMP's mpz numbers and
 * allocator, and GMP ends the process when an allocation fails (as it documents), where a
 * verifier out of memory must answer so. This one allocates nothing.
 */
static void limbs_from_be(mp_limb_t *out, const uint8_t be[48])
{
    for (size_t i = 0; i < P384_LIMBS; i++) {
        const uint8_t *q = be + (P384_LIMBS - 1 - i) * sizeof(mp_limb_t);
        mp_limb_t l = 0;
        for (size_t k = 0; k < sizeof(mp_limb_t); k++) {
            l = (l << 8) | q[k];
        }
        out[i] = l;
    }
}

struct cvma_p384_pub *cvma_p384_pub_new(EVP_PKEY *pkey, bool *oom)
{
    uint8_t pt[1 + 2 * 48];
    size_t ptlen = 0;
    char group[32];
    size_t glen = 0;
    struct cvma_p384_pub *pub = NULL;
    const struct ecc_curve *curve = nettle_get_secp_384r1();

    *oom = false;
    if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &glen) ||
        strcmp(group, "secp384r1") != 0) {
        return NULL;
    }
    if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &ptlen) ||
        ptlen != sizeof pt || pt[0] != 0x04) {
        return NULL; /* only uncompressed points */
    }
    /* The point is on the curve, its coordinates below the prime, and not at infinity:
     * nettle's low-level check takes that as given. OpenSSL's decoder checked it when the
     * certificate was read; checked again here, where the key is made once per chain. */
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pkey, NULL);
    int on_curve = pc != NULL ? EVP_PKEY_public_check_quick(pc) : 0;
    EVP_PKEY_CTX_free(pc);
    if (on_curve != 1) {
        return NULL;
    }
    if ((pub = calloc(1, sizeof *pub)) == NULL) {
        *oom = true;
        return NULL;
    }
    /* A nettle of other sizes than the one this was written for verifies through OpenSSL. */
    pub->nettle = (size_t)ecc_size(curve) == P384_LIMBS &&
                  (size_t)ecc_ecdsa_verify_itch(curve) <= P384_SCRATCH_LIMBS;
    limbs_from_be(pub->xy, pt + 1);
    limbs_from_be(pub->xy + P384_LIMBS, pt + 1 + 48);
    if (EVP_PKEY_up_ref(pkey) != 1) {
        free(pub);
        return NULL;
    }
    pub->pkey = pkey;
    return pub;
}

void cvma_p384_pub_free(struct cvma_p384_pub *pub)
{
    if (pub == NULL) {
        return;
    }
    EVP_PKEY_free(pub->pkey);
    free(pub);
}

static bool verify_nettle(const struct cvma_p384_pub *pub, const uint8_t digest[48],
                          const uint8_t r[48], const uint8_t s[48])
{
    mp_limb_t rl[P384_LIMBS], sl[P384_LIMBS], scratch[P384_SCRATCH_LIMBS];
    limbs_from_be(rl, r);
    limbs_from_be(sl, s);
    /* 0 < r, s < n is checked by nettle */
    return ecc_ecdsa_verify(nettle_get_secp_384r1(), pub->xy, 48, digest, rl, sl, scratch) == 1;
}

/* DER-encodes (r, s) as an ECDSA-Sig-Value for OpenSSL. */
static bool der_sig(const uint8_t *r, const uint8_t *s, size_t n, unsigned char **der, int *len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, (int)n, NULL), *bs = BN_bin2bn(s, (int)n, NULL);
    bool ok = false;
    *der = NULL;
    if (sig != NULL && br != NULL && bs != NULL && ECDSA_SIG_set0(sig, br, bs) == 1) {
        br = bs = NULL; /* owned by sig now */
        *len = i2d_ECDSA_SIG(sig, der);
        ok = *len > 0;
    }
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(sig);
    return ok;
}

static bool verify_digest_openssl(EVP_PKEY *pkey, const uint8_t *digest, size_t dlen,
                                  const uint8_t *r, const uint8_t *s, size_t n)
{
    unsigned char *der = NULL;
    int derlen = 0;
    bool ok = false;
    EVP_PKEY_CTX *ctx = NULL;
    if (!der_sig(r, s, n, &der, &derlen)) {
        goto out;
    }
    if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL || EVP_PKEY_verify_init(ctx) != 1) {
        goto out;
    }
    ok = EVP_PKEY_verify(ctx, der, (size_t)derlen, digest, dlen) == 1;
out:
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}

bool cvma_p384_verify(const struct cvma_p384_pub *pub, enum cvma_p384_backend backend,
                      const uint8_t digest[48], const uint8_t r[48], const uint8_t s[48])
{
    if (pub == NULL) {
        return false;
    }
    switch (backend) {
    case CVMA_P384_NETTLE:
        if (!pub->nettle) {
            return verify_digest_openssl(pub->pkey, digest, 48, r, s, 48);
        }
        return verify_nettle(pub, digest, r, s);
    case CVMA_P384_OPENSSL:
        return verify_digest_openssl(pub->pkey, digest, 48, r, s, 48);
    }
    return false;
}

bool cvma_p256_verify_raw(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
    uint8_t digest[32];
    unsigned int dlen = 0;
    if (EVP_Digest(msg, len, digest, &dlen, EVP_sha256(), NULL) != 1 || dlen != 32) {
        return false;
    }
    return verify_digest_openssl(pkey, digest, 32, sig, sig + 32, 32);
}

static _Atomic(EVP_MD *) sha256_md; /* set once it was fetched */

const EVP_MD *cvma_sha256_md(void)
{
    EVP_MD *md = atomic_load_explicit(&sha256_md, memory_order_acquire);
    if (md != NULL) {
        return md;
    }
    /* Fetched until it succeeds: a fetch that failed (out of memory) is not the answer for
     * the life of the process. Two threads may both fetch; one keeps its own. */
    if ((md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
        return NULL;
    }
    EVP_MD *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&sha256_md, &none, md, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        EVP_MD_free(md);
        md = none;
    }
    return md;
}

struct cvma_p256_verifier {
    EVP_PKEY *pkey;
    EVP_PKEY_CTX *ctx; /* prepared once; used by one thread at a time, under mu */
    pthread_mutex_t mu;
};

/* see crypto/crypto.h */
bool cvma_pkey_is_p256(EVP_PKEY *k)
{
    char group[32];
    size_t glen = 0;
    return k != NULL && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
           EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &glen) == 1 &&
           strcmp(group, "prime256v1") == 0;
}

struct cvma_p256_verifier *cvma_p256_verifier_new(EVP_PKEY *pkey, bool *oom)
{
    *oom = false;
    if (!cvma_pkey_is_p256(pkey)) {
        return NULL; /* another curve (secp256k1 has 256-bit numbers too): not this check's */
    }
    struct cvma_p256_verifier *pv = calloc(1, sizeof *pv);
    *oom = pv == NULL;
    if (pv == NULL || pthread_mutex_init(&pv->mu, NULL) != 0) {
        free(pv);
        return NULL;
    }
    if (EVP_PKEY_up_ref(pkey) != 1) {
        pthread_mutex_destroy(&pv->mu);
        free(pv);
        return NULL;
    }
    pv->pkey = pkey;
    if ((pv->ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL || EVP_PKEY_verify_init(pv->ctx) != 1) {
        cvma_p256_verifier_free(pv);
        return NULL;
    }
    return pv;
}

void cvma_p256_verifier_free(struct cvma_p256_verifier *pv)
{
    if (pv != NULL) {
        EVP_PKEY_CTX_free(pv->ctx);
        EVP_PKEY_free(pv->pkey);
        pthread_mutex_destroy(&pv->mu);
        free(pv);
    }
}

/* One DER INTEGER from a 32-byte big-endian unsigned value (minimal, non-negative). */
static size_t der_uint(const uint8_t v[32], uint8_t *out)
{
    size_t i = 0;
    while (i < 31 && v[i] == 0) {
        i++;
    }
    size_t n = 32 - i;
    size_t pad = (v[i] & 0x80) ? 1 : 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v + i, n);
    return 2 + pad + n;
}

bool cvma_p256_verifier_check(struct cvma_p256_verifier *pv, const uint8_t *msg, size_t len,
                              const uint8_t sig[64])
{
    const EVP_MD *sha256 = cvma_sha256_md();
    uint8_t digest[32], der[2 + 2 * 35];
    unsigned int dlen = 0;
    bool ok = false;
    if (pv == NULL || sha256 == NULL) {
        return false;
    }
    if (EVP_Digest(msg, len, digest, &dlen, sha256, NULL) != 1 || dlen != 32) {
        return false;
    }
    size_t n = der_uint(sig, der + 2);
    n += der_uint(sig + 32, der + 2 + n);
    der[0] = 0x30;
    der[1] = (uint8_t)n;
    /* An EVP_PKEY_CTX is not safe to use from two threads at once. The prepared one when it
     * is free; else a context of our own for this call (costs the set-up, never a wait). */
    if (pthread_mutex_trylock(&pv->mu) == 0) {
        ok = EVP_PKEY_verify(pv->ctx, der, n + 2, digest, sizeof digest) == 1;
        pthread_mutex_unlock(&pv->mu);
        return ok;
    }
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pv->pkey, NULL);
    ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
         EVP_PKEY_verify(ctx, der, n + 2, digest, sizeof digest) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}
