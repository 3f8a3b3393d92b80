/*
 * Fuzz targets fuzz_tpm_quote, fuzz_vtpm_svsm and fuzz_vtpm_weak: the input's length-prefixed
 * parts, and a TPM quote checked independently of the verifier (libtss2-mu and OpenSSL
 * directly), to compare with what the verifier accepted.
 */
#ifndef CVMA_FUZZ_TPM_CHECK_H
#define CVMA_FUZZ_TPM_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "collateral/source.h"
#include "common/hex.h"
#include "common/util.h"
#include "fuzz_check.h"

/*
 * The next length-prefixed part into *out, cut short by the input's end; false (and *out
 * empty) when no length is left. out->p is never NULL, as for a bundle's parts (an empty
 * part owns a buffer): NULL means "not given" to the verifier.
 */
static inline bool next_part(const uint8_t **p, size_t *n, struct cvma_span *out)
{
    static const uint8_t empty[1];
    size_t len;
    out->p = empty;
    out->len = 0;
    if (*n < 2) {
        *n = 0;
        return false;
    }
    len = (size_t)(*p)[0] << 8 | (*p)[1];
    *p += 2;
    *n -= 2;
    if (len > *n) {
        len = *n;
    }
    out->p = len > 0 ? *p : empty;
    out->len = len;
    *p += len;
    *n -= len;
    return true;
}

/*
 * The input of fuzz_vtpm_weak and fuzz_vtpm_svsm: a flags byte, the verification time (u64
 * big-endian, seconds), then n_parts length-prefixed parts (next_part) into part[]. Every part
 * given whose names[i] is not NULL is also a collateral part of that name, in order, into
 * np[0..*n_np). False (nothing set) when the input is shorter than the flags and the time.
 */
static inline bool split_flags_time_parts(const uint8_t *data, size_t size, size_t n_parts,
                                          const char *const names[], uint8_t *flags, uint64_t *at,
                                          struct cvma_span part[], struct cvma_named_part np[],
                                          size_t *n_np)
{
    if (size < 9) {
        return false;
    }
    *flags = data[0];
    *at = 0;
    for (int i = 1; i <= 8; i++) {
        *at = *at << 8 | data[i];
    }
    data += 9;
    size -= 9;
    *n_np = 0;
    for (size_t i = 0; i < n_parts; i++) {
        if (next_part(&data, &size, &part[i]) && names[i] != NULL) {
            np[*n_np] = (struct cvma_named_part){.name = names[i], .data = part[i], .own = false};
            (*n_np)++;
        }
    }
    return true;
}

/* libtss2-mu, the independent reading here, logs to stderr on refused input unless told not
 * to, and reads TSS2_LOG at its first call (its marshalling's too): a target that uses it calls
 * this first. */
static inline void tss2_quiet(void)
{
    static bool done;
    if (!done) {
        setenv("TSS2_LOG", "all+NONE", 1);
        done = true;
    }
}

static inline const EVP_MD *md_of(TPM2_ALG_ID a)
{
    switch (a) {
    case TPM2_ALG_SHA1:
        return EVP_sha1();
    case TPM2_ALG_SHA256:
        return EVP_sha256();
    case TPM2_ALG_SHA384:
        return EVP_sha384();
    case TPM2_ALG_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

static inline const char *bank_name(TPM2_ALG_ID a)
{
    switch (a) {
    case TPM2_ALG_SHA1:
        return "sha1";
    case TPM2_ALG_SHA256:
        return "sha256";
    case TPM2_ALG_SHA384:
        return "sha384";
    case TPM2_ALG_SHA512:
        return "sha512";
    default:
        return NULL;
    }
}

/* The bytes the TPM signed: the TPMS_ATTEST (inside a TPM2B_ATTEST when one is given), as far
 * as it unmarshals. False when there is none. */
static inline bool signed_bytes(struct cvma_span in, struct cvma_span *out, TPMS_ATTEST *a)
{
    size_t off = 0;
    if (in.len >= 6 && memcmp(in.p + 2, "\xff\x54\x43\x47", 4) == 0) {
        size_t n = (size_t)in.p[0] << 8 | in.p[1];
        if (n > in.len - 2) {
            return false;
        }
        in.p += 2;
        in.len = n;
    }
    memset(a, 0, sizeof *a);
    if (Tss2_MU_TPMS_ATTEST_Unmarshal(in.p, in.len, &off, a) != TSS2_RC_SUCCESS) {
        return false;
    }
    out->p = in.p;
    out->len = off;
    return true;
}

/* The AK's public key, read here: PEM, or a public area (TPMT_PUBLIC, else TPM2B_PUBLIC, every
 * byte used). *pub is set (and *has_pub true) for a public area. */
static inline EVP_PKEY *ak_key(struct cvma_span in, TPMT_PUBLIC *pub, bool *has_pub)
{
    EVP_PKEY *k = NULL;
    size_t off = 0;
    *has_pub = false;
    if (in.len >= 10 && memcmp(in.p, "-----BEGIN", 10) == 0) {
        BIO *b = BIO_new_mem_buf(in.p, (int)in.len);
        k = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        return k;
    }
    memset(pub, 0, sizeof *pub);
    if (Tss2_MU_TPMT_PUBLIC_Unmarshal(in.p, in.len, &off, pub) != TSS2_RC_SUCCESS ||
        off != in.len) {
        TPM2B_PUBLIC p2;
        memset(&p2, 0, sizeof p2);
        off = 0;
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(in.p, in.len, &off, &p2) != TSS2_RC_SUCCESS ||
            off != in.len) {
            return NULL;
        }
        *pub = p2.publicArea;
    }
    *has_pub = true;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *e = NULL;
    uint8_t pt[1 + 2 * 66];
    const char *type = pub->type == TPM2_ALG_RSA ? "RSA" : "EC";
    if (bld == NULL) {
        goto out;
    }
    if (pub->type == TPM2_ALG_RSA) {
        uint32_t ex = pub->parameters.rsaDetail.exponent;
        if ((n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size, NULL)) == NULL ||
            (e = BN_new()) == NULL || !BN_set_word(e, ex != 0 ? ex : 65537) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
            goto out;
        }
    } else if (pub->type == TPM2_ALG_ECC) {
        const TPMS_ECC_POINT *q = &pub->unique.ecc;
        const char *g = pub->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256   ? "P-256"
                        : pub->parameters.eccDetail.curveID == TPM2_ECC_NIST_P384 ? "P-384"
                        : pub->parameters.eccDetail.curveID == TPM2_ECC_NIST_P521 ? "P-521"
                                                                                  : NULL;
        if (g == NULL || q->x.size > 66 || q->y.size != q->x.size) {
            goto out;
        }
        pt[0] = 4;
        memcpy(pt + 1, q->x.buffer, q->x.size);
        memcpy(pt + 1 + q->x.size, q->y.buffer, q->y.size);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                              1 + 2u * q->x.size)) {
            goto out;
        }
    } else {
        goto out;
    }
    if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        k = NULL;
    }
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return k;
}

/* The signature over msg with key, checked with OpenSSL alone. */
static inline bool sig_ok(EVP_PKEY *key, const TPMT_SIGNATURE *sig, const struct cvma_span *msg)
{
    TPM2_ALG_ID hash =
            sig->sigAlg == TPM2_ALG_ECDSA ? sig->signature.ecdsa.hash : sig->signature.rsassa.hash;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = false;

    if (ctx == NULL || md_of(hash) == NULL ||
        EVP_DigestVerifyInit(ctx, &pctx, md_of(hash), NULL, key) != 1) {
        goto out;
    }
    if (sig->sigAlg == TPM2_ALG_ECDSA) {
        ok = fz_ecdsa_rs_ok(key, md_of(hash), sig->signature.ecdsa.signatureR.buffer,
                            sig->signature.ecdsa.signatureR.size,
                            sig->signature.ecdsa.signatureS.buffer,
                            sig->signature.ecdsa.signatureS.size, msg->p, msg->len);
    } else if (sig->sigAlg == TPM2_ALG_RSASSA || sig->sigAlg == TPM2_ALG_RSAPSS) {
        bool pss = sig->sigAlg == TPM2_ALG_RSAPSS;
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) !=
                    1 ||
            (pss && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)) {
            goto out;
        }
        ok = EVP_DigestVerify(ctx, sig->signature.rsassa.sig.buffer, sig->signature.rsassa.sig.size,
                              msg->p, msg->len) == 1;
    }
out:
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* "tpm-ak:" and the SHA-256 of key's SubjectPublicKeyInfo, in hex. */
static inline bool anchor_of(EVP_PKEY *key, char out[96])
{
    uint8_t *spki = NULL, h[32];
    int n = i2d_PUBKEY(key, &spki);
    bool ok = n > 0 && EVP_Digest(spki, (size_t)n, h, NULL, EVP_sha256(), NULL) == 1;
    OPENSSL_free(spki);
    if (ok) {
        memcpy(out, "tpm-ak:", 7);
        cvma_hex_encode(h, 32, out + 7, 96 - 7);
    }
    return ok;
}

/* claims.tpm.pcrs hashes, in the quote's selection order, to its pcrDigest (the signature's
 * hash). Every quoted PCR of a known bank has its value in the claims. */
static inline void check_pcr_claims(const json_t *tpm, const TPMS_ATTEST *a, const EVP_MD *md)
{
    const json_t *pcrs = json_object_get(tpm, "pcrs");
    const TPML_PCR_SELECTION *sel = &a->attested.quote.pcrSelect;
    uint8_t got[EVP_MAX_MD_SIZE], v[64];
    unsigned got_len = 0;
    EVP_MD_CTX *ctx;

    if (pcrs == NULL) {
        return;
    }
    CHECK((ctx = EVP_MD_CTX_new()) != NULL);
    CHECK(EVP_DigestInit_ex(ctx, md, NULL) == 1);
    for (uint32_t i = 0; i < sel->count; i++) {
        const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
        const char *bank = bank_name(s->hash);
        for (unsigned idx = 0; idx < 8u * s->sizeofSelect; idx++) {
            char key[12];
            size_t vl = 0;
            if ((s->pcrSelect[idx / 8] & (1u << (idx % 8))) == 0) {
                continue;
            }
            CHECK(bank != NULL); /* a quoted PCR of an unknown bank cannot be covered */
            snprintf(key, sizeof key, "%u", idx);
            const char *hex = json_string_value(json_object_get(json_object_get(pcrs, bank), key));
            CHECK(hex != NULL);
            CHECK(cvma_hex_decode(hex, v, sizeof v, &vl));
            CHECK(vl == (size_t)EVP_MD_get_size(md_of(s->hash)));
            CHECK(EVP_DigestUpdate(ctx, v, vl) == 1);
        }
    }
    CHECK(EVP_DigestFinal_ex(ctx, got, &got_len) == 1);
    EVP_MD_CTX_free(ctx);
    CHECK(got_len == a->attested.quote.pcrDigest.size);
    CHECK(memcmp(got, a->attested.quote.pcrDigest.buffer, got_len) == 0);
}

/*
 * A quote the verifier accepted (its signature check passed): the quote unmarshals as a
 * TPM_ST_ATTEST_QUOTE, the signature verifies with OpenSSL over the TPMS_ATTEST bytes with the
 * AK read here, the AK is of a size and curve accepted and, given as a public area, has the AK
 * attributes, no reserved attribute bit and a name algorithm of SHA-1/256/384/512; trust_anchor
 * (NULL: not compared) names that AK. *a and *hash: the quote and the signature's hash.
 */
static inline void check_accepted_quote(struct cvma_span attest, struct cvma_span sigp,
                                        struct cvma_span akp, const char *trust_anchor,
                                        TPMS_ATTEST *a, TPM2_ALG_ID *hash)
{
    TPMT_SIGNATURE *sig = calloc(1, sizeof *sig);
    TPMT_PUBLIC *pub = calloc(1, sizeof *pub);
    struct cvma_span msg;
    size_t off = 0;
    bool has_pub = false;
    char anchor[96];
    EVP_PKEY *key = NULL;

    CHECK(sig != NULL && pub != NULL);
    CHECK(signed_bytes(attest, &msg, a));
    CHECK(a->magic == TPM2_GENERATED_VALUE && a->type == TPM2_ST_ATTEST_QUOTE);
    CHECK(Tss2_MU_TPMT_SIGNATURE_Unmarshal(sigp.p, sigp.len, &off, sig) == TSS2_RC_SUCCESS &&
          off == sigp.len);
    *hash = sig->sigAlg == TPM2_ALG_ECDSA ? sig->signature.ecdsa.hash : sig->signature.rsassa.hash;
    CHECK((key = ak_key(akp, pub, &has_pub)) != NULL);
    CHECK(sig_ok(key, sig, &msg));
    CHECK(anchor_of(key, anchor));
    CHECK(trust_anchor == NULL || strcmp(anchor, trust_anchor) == 0);
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        CHECK(EVP_PKEY_get_bits(key) >= 2048);
        CHECK(!has_pub || pub->parameters.rsaDetail.keyBits == EVP_PKEY_get_bits(key));
        /* the exponent: odd and not 1 (a TPM's 0 means 65537) */
        BIGNUM *e = NULL;
        bool e_ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_odd(e) &&
                    !BN_is_one(e);
        BN_free(e);
        CHECK(e_ok);
    } else {
        char g[32] = "";
        size_t gl = 0;
        CHECK(EVP_PKEY_get_base_id(key) == EVP_PKEY_EC);
        CHECK(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof g, &gl) ==
              1);
        CHECK(strcmp(g, "prime256v1") == 0 || strcmp(g, "secp384r1") == 0 ||
              strcmp(g, "secp521r1") == 0);
    }
    if (has_pub) {
        uint32_t at = pub->objectAttributes;
        CHECK((at & TPMA_OBJECT_RESTRICTED) && (at & TPMA_OBJECT_SIGN_ENCRYPT) &&
              (at & TPMA_OBJECT_FIXEDTPM) && (at & TPMA_OBJECT_FIXEDPARENT) &&
              !(at & TPMA_OBJECT_DECRYPT));
        /* no reserved bit (Part 2 §8.3, rev 1.59: 0, 3, 8-9, 12-15, 20-31), and a name */
        CHECK((at & (TPMA_OBJECT_RESERVED1_MASK | TPMA_OBJECT_RESERVED2_MASK |
                     TPMA_OBJECT_RESERVED3_MASK | TPMA_OBJECT_RESERVED4_MASK | 0xfff00000u)) == 0);
        CHECK(md_of(pub->nameAlg) != NULL);
    }
    EVP_PKEY_free(key);
    free(pub);
    free(sig);
}

#endif
