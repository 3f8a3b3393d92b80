/*
 * TPM2_MakeCredential in software, and the check of what TPM2_ActivateCredential returned
 * (TCG TPM 2.0 Library Part 1 §24 "Credential Protection", Part 3 §12.6): see vtpm/vtpm.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

#include "eventlog/eventlog.h"
#include "tpm/tpm_unmarshal.h"
#include "vtpm/vtpm.h"

bool cvma_tpm_public_read(const uint8_t *p, size_t len, TPMT_PUBLIC *out)
{
    struct cvma_span area;
    if (cvma_tpm_mu_public_area(p, len, out, &area, NULL) != CVMA_TPM_MU_OK) {
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

bool cvma_tpm_public_name(const TPMT_PUBLIC *pub, TPM2B_NAME *name)
{
    uint8_t buf[sizeof(TPMT_PUBLIC)];
    size_t off = 0;
    unsigned int n = 0;
    const EVP_MD *md = cvma_eventlog_alg_md(pub->nameAlg);
    if (md == NULL || Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof buf, &off) != TSS2_RC_SUCCESS) {
        return false;
    }
    name->name[0] = (uint8_t)(pub->nameAlg >> 8);
    name->name[1] = (uint8_t)pub->nameAlg;
    if (EVP_Digest(buf, off, name->name + 2, &n, md, NULL) != 1) {
        return false;
    }
    name->size = (UINT16)(2 + n);
    return true;
}

/* KDFa with SHA-256 (Part 1 §11.4.10.2): HMAC(key, [i] || label || 0 || u || v || [bits]). */
static bool kdfa_sha256(const uint8_t *key, size_t klen, const char *label, const uint8_t *u,
                        size_t ulen, size_t bits, uint8_t *out)
{
    size_t want = bits / 8, done = 0, llen = strlen(label) + 1;
    uint8_t msg[4 + 32 + 1 + sizeof(TPMU_NAME) + 4];
    if (llen + ulen + 8 > sizeof msg) {
        return false;
    }
    for (uint32_t i = 1; done < want; i++) {
        uint8_t h[32];
        unsigned int hl = 0;
        size_t m = 0;
        msg[m++] = (uint8_t)(i >> 24);
        msg[m++] = (uint8_t)(i >> 16);
        msg[m++] = (uint8_t)(i >> 8);
        msg[m++] = (uint8_t)i;
        memcpy(msg + m, label, llen); /* with its terminating zero */
        m += llen;
        if (ulen > 0) {
            memcpy(msg + m, u, ulen); /* no contextU for the INTEGRITY key */
            m += ulen;
        }
        msg[m++] = (uint8_t)(bits >> 24);
        msg[m++] = (uint8_t)(bits >> 16);
        msg[m++] = (uint8_t)(bits >> 8);
        msg[m++] = (uint8_t)bits;
        if (HMAC(EVP_sha256(), key, (int)klen, msg, m, h, &hl) == NULL || hl != 32) {
            return false;
        }
        size_t n = want - done < 32 ? want - done : 32;
        memcpy(out + done, h, n);
        done += n;
    }
    return true;
}

static EVP_PKEY *rsa_from_public(const TPMT_PUBLIC *ek)
{
    BIGNUM *n = BN_bin2bn(ek->unique.rsa.buffer, ek->unique.rsa.size, NULL);
    BIGNUM *e = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    uint32_t exp =
            ek->parameters.rsaDetail.exponent != 0 ? ek->parameters.rsaDetail.exponent : 65537;
    if (n != NULL && e != NULL && bld != NULL && BN_set_word(e, exp) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) != NULL &&
        EVP_PKEY_fromdata_init(ctx) > 0) {
        if (EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
            pk = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pk;
}

/* see vtpm/vtpm.h */
bool cvma_tpm_ek_attributes_ok(TPMA_OBJECT a)
{
    return (a & TPMA_OBJECT_RESTRICTED) && (a & TPMA_OBJECT_DECRYPT) &&
           !(a & TPMA_OBJECT_SIGN_ENCRYPT) && (a & TPMA_OBJECT_FIXEDTPM);
}

/* see vtpm/vtpm.h */
bool cvma_tpm_ek_exponent_ok(UINT32 exponent)
{
    return exponent == 0 || exponent == 65537;
}

/* see vtpm/vtpm.h */
bool cvma_tpm_ek_credential_ok(const TPMT_PUBLIC *ek, char *why, size_t why_len)
{
    const TPMS_RSA_PARMS *rp = &ek->parameters.rsaDetail;

    why[0] = '\0';
    /* Only the RSA EK template L-1 (TCG EK Credential Profile: RSA-2048, SHA-256, AES-128-CFB):
     * keyBits 2048 and a modulus of exactly 256 bytes with no leading zero, so that the seed is
     * encrypted under the key the EK declares (a shorter modulus is a weaker key); the
     * template's exponent (under exponent 1 the seed would go out in the clear); the
     * template's scheme, NULL (a TPM creates no restricted decryption key with any other);
     * and an EK's attributes, so that no one but the TPM's ActivateCredential
     * recovers the seed. */
    if (ek->type != TPM2_ALG_RSA) {
        cvma_errf(why, why_len, "its type is 0x%04x, not RSA (0x0001)", (unsigned)ek->type);
    } else if (ek->nameAlg != TPM2_ALG_SHA256) {
        cvma_errf(why, why_len, "its name algorithm is 0x%04x, not SHA-256 (0x000b)",
                  (unsigned)ek->nameAlg);
    } else if (rp->symmetric.algorithm != TPM2_ALG_AES) {
        cvma_errf(why, why_len, "its symmetric algorithm is 0x%04x, not AES (0x0006)",
                  (unsigned)rp->symmetric.algorithm);
    } else if (rp->symmetric.keyBits.aes != 128) {
        cvma_errf(why, why_len, "its AES key is %u bits, not 128",
                  (unsigned)rp->symmetric.keyBits.aes);
    } else if (rp->symmetric.mode.aes != TPM2_ALG_CFB) {
        cvma_errf(why, why_len, "its AES mode is 0x%04x, not CFB (0x0043)",
                  (unsigned)rp->symmetric.mode.aes);
    } else if (rp->keyBits != 2048) {
        cvma_errf(why, why_len, "its keyBits is %u, not 2048", (unsigned)rp->keyBits);
    } else if (ek->unique.rsa.size != 2048 / 8) {
        cvma_errf(why, why_len, "its modulus is %u bytes, not the 256 of its 2048 keyBits",
                  (unsigned)ek->unique.rsa.size);
    } else if (ek->unique.rsa.buffer[0] == 0) {
        cvma_errf(why, why_len,
                  "its modulus starts with a zero byte: a key shorter than the 2048 bits it "
                  "declares");
    } else if (!cvma_tpm_ek_attributes_ok(ek->objectAttributes)) {
        cvma_errf(why, why_len,
                  "its objectAttributes 0x%08x are not an endorsement key's (restricted, "
                  "fixedTPM, decrypt, not sign)",
                  (unsigned)ek->objectAttributes);
    } else if (!cvma_tpm_ek_exponent_ok(rp->exponent)) {
        cvma_errf(why, why_len, "its public exponent is %u, not 65537 (0 in the public area)",
                  (unsigned)rp->exponent);
    } else if (rp->scheme.scheme != TPM2_ALG_NULL) {
        cvma_errf(why, why_len, "its scheme is 0x%04x, not NULL (0x0010)",
                  (unsigned)rp->scheme.scheme);
    }
    return why[0] == '\0';
}

void cvma_tpm_credential_cleanup(struct cvma_tpm_credential *c)
{
    OPENSSL_cleanse(c->secret, sizeof c->secret);
    cvma_buf_free(&c->id_object);
    cvma_buf_free(&c->enc_secret);
}

enum cvma_status cvma_tpm_make_credential(const TPMT_PUBLIC *ek, const TPM2B_NAME *ak_name,
                                          struct cvma_tpm_credential *out)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    uint8_t seed[32], sym[16], hmac_key[32], iv[16] = {0}, cv[2 + 32], enc_id[sizeof cv];
    uint8_t outer[32];
    unsigned int ol = 0;
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_CIPHER_CTX *cctx = NULL;
    size_t es_len = 0;
    int len1 = 0, len2 = 0;

    char why[160];

    memset(out, 0, sizeof *out);
    if (!cvma_tpm_ek_credential_ok(ek, why, sizeof why) || ak_name->size < 2 ||
        ak_name->size > sizeof ak_name->name) {
        return CVMA_E_USAGE;
    }
    if (RAND_bytes(out->secret, sizeof out->secret) != 1 || RAND_bytes(seed, sizeof seed) != 1 ||
        (pk = rsa_from_public(ek)) == NULL) {
        goto out;
    }
    /* The seed, encrypted to the EK: RSA-OAEP with SHA-256 and the label "IDENTITY\0". */
    char *label = OPENSSL_malloc(9);
    if (label == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    memcpy(label, "IDENTITY", 9);
    if ((pctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL || EVP_PKEY_encrypt_init(pctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set0_rsa_oaep_label(pctx, label, 9) <= 0) {
        OPENSSL_free(label);
        goto out;
    }
    if (EVP_PKEY_encrypt(pctx, NULL, &es_len, seed, sizeof seed) <= 0 || es_len > 1024 ||
        (out->enc_secret.p = malloc(2 + es_len)) == NULL ||
        EVP_PKEY_encrypt(pctx, out->enc_secret.p + 2, &es_len, seed, sizeof seed) <= 0) {
        goto out;
    }
    out->enc_secret.p[0] = (uint8_t)(es_len >> 8);
    out->enc_secret.p[1] = (uint8_t)es_len;
    out->enc_secret.len = 2 + es_len;

    /* The credential (a TPM2B_DIGEST) encrypted with KDFa(seed, "STORAGE", name), AES-128-CFB
     * with a zero IV; its HMAC with KDFa(seed, "INTEGRITY") over encIdentity || name. */
    cv[0] = 0;
    cv[1] = (uint8_t)sizeof out->secret;
    memcpy(cv + 2, out->secret, sizeof out->secret);
    if (!kdfa_sha256(seed, sizeof seed, "STORAGE", ak_name->name, ak_name->size, 128, sym) ||
        !kdfa_sha256(seed, sizeof seed, "INTEGRITY", NULL, 0, 256, hmac_key) ||
        (cctx = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_EncryptInit_ex(cctx, EVP_aes_128_cfb128(), NULL, sym, iv) != 1 ||
        EVP_EncryptUpdate(cctx, enc_id, &len1, cv, (int)sizeof cv) != 1 ||
        EVP_EncryptFinal_ex(cctx, enc_id + len1, &len2) != 1 || len1 + len2 != (int)sizeof cv) {
        goto out;
    }
    uint8_t hm[sizeof enc_id + sizeof ak_name->name];
    memcpy(hm, enc_id, sizeof enc_id);
    memcpy(hm + sizeof enc_id, ak_name->name, ak_name->size);
    if (HMAC(EVP_sha256(), hmac_key, sizeof hmac_key, hm, sizeof enc_id + ak_name->size, outer,
             &ol) == NULL ||
        ol != 32) {
        goto out;
    }
    /* TPM2B_ID_OBJECT: size, then TPM2B_DIGEST integrityHMAC, then encIdentity. */
    size_t idl = 2 + sizeof outer + sizeof enc_id;
    if ((out->id_object.p = malloc(2 + idl)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    out->id_object.p[0] = (uint8_t)(idl >> 8);
    out->id_object.p[1] = (uint8_t)idl;
    out->id_object.p[2] = 0;
    out->id_object.p[3] = (uint8_t)sizeof outer;
    memcpy(out->id_object.p + 4, outer, sizeof outer);
    memcpy(out->id_object.p + 4 + sizeof outer, enc_id, sizeof enc_id);
    out->id_object.len = 2 + idl;
    st = CVMA_OK;
out:
    OPENSSL_cleanse(seed, sizeof seed);
    OPENSSL_cleanse(sym, sizeof sym);
    OPENSSL_cleanse(hmac_key, sizeof hmac_key);
    OPENSSL_cleanse(cv, sizeof cv);
    EVP_CIPHER_CTX_free(cctx);
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(pk);
    if (st != CVMA_OK) {
        cvma_tpm_credential_cleanup(out);
    }
    return st;
}

bool cvma_tpm_credential_check(const struct cvma_tpm_credential *c, const uint8_t *got,
                               size_t got_len)
{
    return got_len == sizeof c->secret && CRYPTO_memcmp(got, c->secret, sizeof c->secret) == 0;
}
