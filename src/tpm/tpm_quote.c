/* TPM 2.0 quote verification: see tpm/tpm.h and docs/tpm.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/hex.h"
#include "common/reader.h"
#include "crypto/jwk.h"
#include "eventlog/eventlog.h"
#include "tpm/tpm.h"
#include "tpm/tpm_unmarshal.h"

/* TPMA_OBJECT bits (TPM 2.0 Library Part 2 §8.3). */
#define ATTR_FIXED_TPM    0x00000002u
#define ATTR_FIXED_PARENT 0x00000010u
#define ATTR_RESTRICTED   0x00010000u
#define ATTR_DECRYPT      0x00020000u
#define ATTR_SIGN_ENCRYPT 0x00040000u
/* TPMA_OBJECT bits Part 2 §8.3 (Table 31, rev 1.59) reserves: 0, 3, 8-9, 12-15, 20-31. */
#define ATTR_RESERVED       0xfff0f309u
#define TPM_GENERATED_VALUE 0xff544347u

_Static_assert(CVMA_TPM_BANKS == CVMA_EVENTLOG_BANKS, "a quote's banks are the event log's");

int cvma_tpm_bank_of_alg(TPM2_ALG_ID alg)
{
    for (int i = 0; i < CVMA_TPM_BANKS; i++) {
        if (cvma_eventlog_bank_alg((size_t)i) == alg) {
            return i;
        }
    }
    return -1;
}

const char *cvma_tpm_bank_name(int bank)
{
    return bank >= 0 && bank < CVMA_TPM_BANKS
                   ? cvma_eventlog_alg_name(cvma_eventlog_bank_alg((size_t)bank))
                   : "?";
}

size_t cvma_tpm_bank_size(int bank)
{
    return bank >= 0 ? cvma_eventlog_alg_size(cvma_eventlog_bank_alg((size_t)bank)) : 0;
}

/* see tpm/tpm.h */
enum cvma_status cvma_tpm_attest_parse(const uint8_t *p, size_t len, bool allow_trailing,
                                       struct cvma_tpm_attest *out, struct cvma_verdict *v)
{
    struct cvma_reader r;
    uint16_t size = 0, type = 0;
    uint32_t magic = 0;
    size_t off = 0;
    const char *why = NULL;

    memset(out, 0, sizeof *out);
    cvma_reader_init(&r, p, len);
    /* A TPM2B_ATTEST is a u16 size, then the TPMS_ATTEST with its magic: told apart by the
     * magic at offset 2 (a TPMS_ATTEST has it at offset 0). */
    if (len >= 6 && p[2] == 0xff && p[3] == 0x54 && p[4] == 0x43 && p[5] == 0x47) {
        struct cvma_reader inner;
        if (!cvma_reader_u16be(&r, &size) || !cvma_reader_sub(&r, size, &inner)) {
            return cvma_reject(v, CVMA_R_TPM_ATTEST_MALFORMED,
                               "tpm quote: TPM2B_ATTEST size %u, but %zu bytes follow",
                               (unsigned)size, len - 2);
        }
        out->signed_bytes.p = inner.p;
        out->signed_bytes.len = inner.len;
    } else {
        cvma_reader_rest(&r, &out->signed_bytes);
    }
    cvma_reader_init(&r, out->signed_bytes.p, out->signed_bytes.len);
    if (!cvma_reader_u32be(&r, &magic) || !cvma_reader_u16be(&r, &type)) {
        return cvma_reject(v, CVMA_R_TPM_ATTEST_MALFORMED,
                           "tpm quote: %zu bytes, a TPMS_ATTEST needs at least 6", len);
    }
    /* TPM 2.0 Part 2 §10.12.12: magic is TPM_GENERATED_VALUE in every structure the TPM
     * signs; TPM2_Sign refuses to sign digests of data starting with it, so an AK cannot be
     * made to sign a forged attestation structure. */
    if (magic != TPM_GENERATED_VALUE) {
        return cvma_reject(v, CVMA_R_TPM_ATTEST_MAGIC,
                           "tpm quote: magic 0x%08x, want 0xff544347 (TPM_GENERATED_VALUE)",
                           (unsigned)magic);
    }
    if (type != TPM2_ST_ATTEST_QUOTE) {
        return cvma_reject(v, CVMA_R_TPM_ATTEST_TYPE,
                           "tpm quote: type 0x%04x, want 0x8018 (TPM_ST_ATTEST_QUOTE)",
                           (unsigned)type);
    }
    cvma_reader_init(&r, out->signed_bytes.p, out->signed_bytes.len);
    if (cvma_tpm_mu_attest(&r, &out->a, &why) != CVMA_TPM_MU_OK) {
        return cvma_reject(v, CVMA_R_TPM_ATTEST_MALFORMED,
                           "tpm quote: the %zu bytes do not unmarshal as a TPMS_ATTEST: %s",
                           out->signed_bytes.len, why);
    }
    off = r.off;
    /* TPM 2.0 Part 2 §10.11.1: clockInfo.safe is a TPMI_YES_NO, NO (0) or YES (1) (§9.2);
     * the unmarshalling reads any byte. */
    if (out->a.clockInfo.safe > 1) {
        return cvma_reject(v, CVMA_R_TPM_ATTEST_MALFORMED,
                           "tpm quote: clockInfo.safe is 0x%02x, a TPMI_YES_NO is 0 or 1",
                           (unsigned)out->a.clockInfo.safe);
    }
    if (off < out->signed_bytes.len) {
        /* Bytes after the structure (inside a TPM2B they are even signed): not part of it. */
        size_t evlen = (size_t)(out->signed_bytes.p - p) + off;
        if (cvma_verdict_trailing(v, p + evlen, len - evlen, allow_trailing, "tpm quote", evlen) !=
            CVMA_OK) {
            return CVMA_REJECTED;
        }
        out->signed_bytes.len = off;
    } else if ((size_t)(out->signed_bytes.p - p) + off < len) {
        size_t evlen = (size_t)(out->signed_bytes.p - p) + off;
        if (cvma_verdict_trailing(v, p + evlen, len - evlen, allow_trailing, "tpm quote", evlen) !=
            CVMA_OK) {
            return CVMA_REJECTED;
        }
    }
    for (uint32_t i = 0; i < out->a.attested.quote.pcrSelect.count; i++) {
        if (out->a.attested.quote.pcrSelect.pcrSelections[i].sizeofSelect > 4) {
            return cvma_reject(v, CVMA_R_TPM_ATTEST_MALFORMED,
                               "tpm quote: PCR selection %u selects %u bytes, at most 4", i,
                               out->a.attested.quote.pcrSelect.pcrSelections[i].sizeofSelect);
        }
    }
    return CVMA_OK;
}

/* ---- the AK ---------------------------------------------------------------------------- */

struct ak {
    EVP_PKEY *key;
    bool has_public; /* a TPMT_PUBLIC was given (attributes known) */
    TPMT_PUBLIC pub;
    struct cvma_span pub_bytes; /* the marshalled TPMT_PUBLIC (for the Name) */
};

static EVP_PKEY *key_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *key = NULL;
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return key;
}

static EVP_PKEY *rsa_key(const TPMT_PUBLIC *pub)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size, NULL);
    /* Part 2 §12.2.3.5: exponent 0 means the default, 2^16 + 1. */
    BIGNUM *e = BN_new();
    EVP_PKEY *key = NULL;
    if (bld == NULL || n == NULL || e == NULL ||
        !BN_set_word(e, pub->parameters.rsaDetail.exponent ? pub->parameters.rsaDetail.exponent
                                                           : 65537) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        goto out;
    }
    key = key_from_params("RSA", bld);
out:
    BN_free(n);
    BN_free(e);
    OSSL_PARAM_BLD_free(bld);
    return key;
}

/* The coordinate size of a curve we verify with (its OpenSSL name in *group), or 0. */
static size_t ecc_field_size(TPM2_ECC_CURVE curve, const char **group)
{
    switch (curve) {
    case TPM2_ECC_NIST_P256:
        *group = "P-256";
        return 32;
    case TPM2_ECC_NIST_P384:
        *group = "P-384";
        return 48;
    case TPM2_ECC_NIST_P521:
        *group = "P-521";
        return 66;
    default:
        return 0;
    }
}

static EVP_PKEY *ecc_key(const TPMT_PUBLIC *pub)
{
    const char *group;
    size_t fs;
    uint8_t point[1 + 2 * 66];
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *key = NULL;
    const TPMS_ECC_POINT *q = &pub->unique.ecc;

    if ((fs = ecc_field_size(pub->parameters.eccDetail.curveID, &group)) == 0 || q->x.size != fs ||
        q->y.size != fs) {
        return NULL; /* ak_check_public said why */
    }
    memset(point, 0, sizeof point);
    point[0] = 0x04;
    memcpy(point + 1 + fs - q->x.size, q->x.buffer, q->x.size);
    memcpy(point + 1 + 2 * fs - q->y.size, q->y.buffer, q->y.size);
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * fs)) {
        goto out;
    }
    key = key_from_params("EC", bld);
out:
    OSSL_PARAM_BLD_free(bld);
    return key;
}

/*
 * The AK's key, however it was given: RSA of at least CVMA_TPM_AK_RSA_MIN_BITS bits, or ECC on
 * NIST P-256, P-384 or P-521. Reason: TPM_AK_MALFORMED.
 */
static enum cvma_status ak_check_key(EVP_PKEY *key, struct cvma_verdict *v)
{
    int kt = EVP_PKEY_get_base_id(key);
    char group[64];
    size_t glen = 0;

    if (kt == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits < CVMA_TPM_AK_RSA_MIN_BITS) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: an RSA key of %d bits, want at least %d", bits,
                               CVMA_TPM_AK_RSA_MIN_BITS);
        }
        /* OpenSSL takes any exponent a key carries; under 1 every signature verifies. */
        BIGNUM *e = NULL;
        bool e_ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
                    BN_num_bits(e) >= 2 && BN_is_odd(e);
        BN_free(e);
        if (!e_ok) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: an RSA key whose public exponent is not odd and at "
                               "least 3");
        }
        return CVMA_OK;
    }
    if (kt == EVP_PKEY_EC) {
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &glen) != 1) {
            group[0] = '\0';
        }
        if (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0 &&
            strcmp(group, "secp521r1") != 0) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: an ECC key on curve '%s' (%d bits), want NIST P-256, "
                               "P-384 or P-521",
                               group[0] != '\0' ? group : "(unnamed)", EVP_PKEY_get_bits(key));
        }
        return CVMA_OK;
    }
    const char *name = OBJ_nid2sn(kt);
    return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED, "tpm AK: a %s key, want RSA or ECC",
                       name != NULL ? name : "non-RSA, non-ECC");
}

/*
 * A TPMT_PUBLIC's own fields: a name algorithm the AK's name can be computed with (Part 1 §16:
 * Name = nameAlg || H_nameAlg(TPMT_PUBLIC); TPM_ALG_NULL or an unknown one gives none, and the
 * result names the AK by it); no reserved TPMA_OBJECT bit set (Part 2 §8.3: shall be zero, so
 * no TPM made such a key); an RSA keyBits equal to the modulus given (unique.rsa.size * 8,
 * its first byte not zero, so that the key is as long as declared); an ECC point whose x and
 * y are each exactly the curve's coordinate size (Part 1 §C.8: no leading zeros stripped).
 * Reason: TPM_AK_MALFORMED.
 */
static enum cvma_status ak_check_public(const TPMT_PUBLIC *pub, struct cvma_verdict *v)
{
    if (cvma_eventlog_alg_md(pub->nameAlg) == NULL) {
        return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                           "tpm AK: name algorithm 0x%04x, want SHA-1 (0x0004), SHA-256 "
                           "(0x000b), SHA-384 (0x000c) or SHA-512 (0x000d): the AK has no name",
                           (unsigned)pub->nameAlg);
    }
    if ((pub->objectAttributes & ATTR_RESERVED) != 0) {
        return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                           "tpm AK: objectAttributes 0x%08x sets reserved bits 0x%08x (they "
                           "shall be zero: no TPM made this key)",
                           (unsigned)pub->objectAttributes,
                           (unsigned)(pub->objectAttributes & ATTR_RESERVED));
    }
    if (pub->type == TPM2_ALG_RSA) {
        const TPM2B_PUBLIC_KEY_RSA *n = &pub->unique.rsa;
        unsigned kb = pub->parameters.rsaDetail.keyBits;
        if (kb != 8u * n->size) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: keyBits %u, but the modulus is %u bytes (%u bits)", kb,
                               (unsigned)n->size, 8u * n->size);
        }
        if (n->size == 0 || n->buffer[0] == 0) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: keyBits %u, but the modulus starts with a zero byte (the "
                               "key is shorter than declared)",
                               kb);
        }
        if (kb < CVMA_TPM_AK_RSA_MIN_BITS) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: an RSA key of %u bits, want at least %d", kb,
                               CVMA_TPM_AK_RSA_MIN_BITS);
        }
        return CVMA_OK;
    }
    if (pub->type == TPM2_ALG_ECC) {
        const char *group = NULL;
        size_t fs = ecc_field_size(pub->parameters.eccDetail.curveID, &group);
        if (fs == 0) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: ECC curve 0x%04x, want NIST P-256 (0x0003), P-384 "
                               "(0x0004) or P-521 (0x0005)",
                               (unsigned)pub->parameters.eccDetail.curveID);
        }
        if (pub->unique.ecc.x.size != fs || pub->unique.ecc.y.size != fs) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: a %s point with x of %u and y of %u bytes, want %zu each",
                               group, (unsigned)pub->unique.ecc.x.size,
                               (unsigned)pub->unique.ecc.y.size, fs);
        }
        return CVMA_OK;
    }
    return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                       "tpm AK: type 0x%04x, want RSA (0x0001) or ECC (0x0023)",
                       (unsigned)pub->type);
}

/* Whether in is a TPM2B_PUBLIC whose public area is a whole TPMT_PUBLIC but whose size field
 * (*size) is not that area's length. */
static bool tpm2b_size_wrong(const struct cvma_span *in, uint16_t *size)
{
    struct cvma_reader r;
    struct cvma_span rest;
    TPMT_PUBLIC pub;

    cvma_reader_init(&r, in->p, in->len);
    if (!cvma_reader_u16be(&r, size)) {
        return false;
    }
    cvma_reader_rest(&r, &rest);
    if (*size == rest.len) {
        return false;
    }
    cvma_reader_init(&r, rest.p, rest.len);
    return cvma_tpm_mu_public(&r, &pub, NULL) == CVMA_TPM_MU_OK && cvma_reader_at_end(&r);
}

static enum cvma_status ak_load(const struct cvma_span *in, struct ak *ak, struct cvma_verdict *v)
{
    const char *why = NULL;
    uint16_t size = 0;
    memset(ak, 0, sizeof *ak);
    if (in->len >= 10 && memcmp(in->p, "-----BEGIN", 10) == 0) {
        BIO *b = BIO_new_mem_buf(in->p, (int)(in->len > 65536 ? 65536 : in->len));
        ak->key = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (ak->key == NULL) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED, "tpm AK: PEM, but not a public key");
        }
        return ak_check_key(ak->key, v);
    }
    /* A TPMT_PUBLIC starts with its type (0x0001 RSA, 0x0023 ECC); a TPM2B_PUBLIC with a
     * size, which is never 1 or 0x23 for a whole public area: try TPMT_PUBLIC first and
     * require every byte to be used either way (and a TPM2B_PUBLIC's size to be its area's). */
    switch (cvma_tpm_mu_public_area(in->p, in->len, &ak->pub, &ak->pub_bytes, &why)) {
    case CVMA_TPM_MU_OK:
        break;
    case CVMA_TPM_MU_UNSUPPORTED:
        return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                           "tpm AK: type 0x%04x, want RSA (0x0001) or ECC (0x0023)",
                           (unsigned)ak->pub.type);
    case CVMA_TPM_MU_MALFORMED:
        if (tpm2b_size_wrong(in, &size)) {
            return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                               "tpm AK: a TPM2B_PUBLIC whose size field says %u bytes, but its "
                               "public area is %zu",
                               (unsigned)size, in->len - 2);
        }
        return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                           "tpm AK: %zu bytes that are neither a PEM public key, a "
                           "TPMT_PUBLIC nor a TPM2B_PUBLIC: %s",
                           in->len, why);
    }
    ak->has_public = true;
    if (ak_check_public(&ak->pub, v) != CVMA_OK) {
        return CVMA_REJECTED;
    }
    ak->key = ak->pub.type == TPM2_ALG_RSA ? rsa_key(&ak->pub) : ecc_key(&ak->pub);
    if (ak->key == NULL) {
        return cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                           "tpm AK: the public area does not give a usable %s key",
                           ak->pub.type == TPM2_ALG_RSA ? "RSA" : "ECC (P-256, P-384, P-521)");
    }
    return ak_check_key(ak->key, v);
}

/*
 * An AK the TPM protects (TCG EK Credential Profile, AK templates): restricted (signs only
 * digests the TPM computed, so no TPM_GENERATED_VALUE forgery), a signing key, fixedTPM and
 * fixedParent (never leaves this TPM), and not a decryption key.
 */
static enum cvma_status ak_check_attributes(const struct ak *ak, struct cvma_verdict *v)
{
    static const struct {
        uint32_t bit;
        bool want;
        const char *name;
    } rules[] = {
            {ATTR_RESTRICTED, true, "restricted"}, {ATTR_SIGN_ENCRYPT, true, "sign"},
            {ATTR_FIXED_TPM, true, "fixedTPM"},    {ATTR_FIXED_PARENT, true, "fixedParent"},
            {ATTR_DECRYPT, false, "decrypt"},
    };
    char bad[160] = "";
    size_t n = 0;
    uint32_t a = ak->pub.objectAttributes;

    for (size_t i = 0; i < CVMA_ARRAY_LEN(rules); i++) {
        bool has = (a & rules[i].bit) != 0;
        if (has != rules[i].want) {
            int w = snprintf(bad + n, sizeof bad - n, "%s%s %s", n ? ", " : "",
                             rules[i].want ? "not" : "has", rules[i].name);
            if (w > 0 && (size_t)w < sizeof bad - n) {
                n += (size_t)w;
            }
        }
    }
    if (n > 0) {
        return cvma_reject(v, CVMA_R_TPM_AK_ATTRIBUTES,
                           "tpm AK: objectAttributes 0x%08x: %s (a key the TPM does not protect "
                           "as an AK could sign anything)",
                           (unsigned)a, bad);
    }
    return CVMA_OK;
}

/* ---- the signature --------------------------------------------------------------------- */

static const char *sig_alg_name(TPM2_ALG_ID a)
{
    switch (a) {
    case TPM2_ALG_RSASSA:
        return "rsassa";
    case TPM2_ALG_RSAPSS:
        return "rsapss";
    case TPM2_ALG_ECDSA:
        return "ecdsa";
    default:
        return NULL;
    }
}

static enum cvma_status sig_load(const struct cvma_span *in, TPMT_SIGNATURE *sig, TPM2_ALG_ID *hash,
                                 struct cvma_verdict *v)
{
    struct cvma_reader r;
    const char *why = NULL;
    enum cvma_tpm_mu st;

    cvma_reader_init(&r, in->p, in->len);
    if ((st = cvma_tpm_mu_signature(&r, sig, &why)) == CVMA_TPM_MU_MALFORMED) {
        return cvma_reject(v, CVMA_R_TPM_SIGNATURE_MALFORMED,
                           "tpm signature: %zu bytes that are not a TPMT_SIGNATURE: %s", in->len,
                           why);
    }
    if (st == CVMA_TPM_MU_OK && !cvma_reader_at_end(&r)) {
        memset(sig, 0, sizeof *sig);
        return cvma_reject(v, CVMA_R_TPM_SIGNATURE_MALFORMED,
                           "tpm signature: %zu bytes that are not a TPMT_SIGNATURE: %zu bytes "
                           "after it",
                           in->len, cvma_reader_left(&r));
    }
    if (st == CVMA_TPM_MU_UNSUPPORTED || sig_alg_name(sig->sigAlg) == NULL) {
        return cvma_reject(v, CVMA_R_TPM_SIGNATURE_MALFORMED,
                           "tpm signature: sigAlg 0x%04x, want RSASSA (0x0014), RSAPSS (0x0016) "
                           "or ECDSA (0x0018)",
                           (unsigned)sig->sigAlg);
    }
    /* rsassa, rsapss and ecdsa all start with the hash algorithm. */
    *hash = sig->sigAlg == TPM2_ALG_ECDSA ? sig->signature.ecdsa.hash : sig->signature.rsassa.hash;
    if (cvma_eventlog_alg_md(*hash) == NULL) {
        return cvma_reject(v, CVMA_R_TPM_SIGNATURE_MALFORMED,
                           "tpm signature: hash algorithm 0x%04x, want SHA-1, SHA-256, SHA-384 or "
                           "SHA-512",
                           (unsigned)*hash);
    }
    return CVMA_OK;
}

/* The AK's own scheme, when it has one, is the only one the TPM signs with. */
static enum cvma_status sig_matches_ak(const struct ak *ak, const TPMT_SIGNATURE *sig,
                                       TPM2_ALG_ID hash, struct cvma_verdict *v)
{
    int kt = EVP_PKEY_get_base_id(ak->key);
    bool rsa_sig = sig->sigAlg != TPM2_ALG_ECDSA;
    if ((kt == EVP_PKEY_RSA) != rsa_sig || (kt != EVP_PKEY_RSA && kt != EVP_PKEY_EC)) {
        return cvma_reject(v, CVMA_R_TPM_SIGNATURE_INVALID,
                           "tpm signature: a %s signature, but the AK is %s",
                           sig_alg_name(sig->sigAlg), kt == EVP_PKEY_RSA ? "RSA" : "not RSA");
    }
    if (ak->has_public) {
        const TPMT_SIG_SCHEME *s =
                ak->pub.type == TPM2_ALG_RSA
                        ? (const TPMT_SIG_SCHEME *)&ak->pub.parameters.rsaDetail.scheme
                        : (const TPMT_SIG_SCHEME *)&ak->pub.parameters.eccDetail.scheme;
        if (s->scheme != TPM2_ALG_NULL &&
            (s->scheme != sig->sigAlg || s->details.any.hashAlg != hash)) {
            return cvma_reject(v, CVMA_R_TPM_SIGNATURE_INVALID,
                               "tpm signature: scheme 0x%04x hash 0x%04x, but the AK allows "
                               "only scheme 0x%04x hash 0x%04x",
                               (unsigned)sig->sigAlg, (unsigned)hash, (unsigned)s->scheme,
                               (unsigned)s->details.any.hashAlg);
        }
    }
    return CVMA_OK;
}

static enum cvma_status sig_verify(EVP_PKEY *key, const TPMT_SIGNATURE *sig, TPM2_ALG_ID hash,
                                   const struct cvma_span *msg, struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    uint8_t *der = NULL;
    const uint8_t *sp;
    size_t sl;
    int derlen = 0;

    if (ctx == NULL ||
        EVP_DigestVerifyInit(ctx, &pctx, cvma_eventlog_alg_md(hash), NULL, key) <= 0) {
        v->oom = true;
        goto out;
    }
    if (sig->sigAlg == TPM2_ALG_ECDSA) {
        const TPMS_SIGNATURE_ECC *e = &sig->signature.ecdsa;
        if ((es = ECDSA_SIG_new()) == NULL ||
            (r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL)) == NULL ||
            (s = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL)) == NULL ||
            !ECDSA_SIG_set0(es, r, s)) {
            v->oom = true;
            goto out;
        }
        r = s = NULL; /* owned by es */
        if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0) {
            v->oom = true;
            goto out;
        }
        sp = der;
        sl = (size_t)derlen;
    } else {
        bool pss = sig->sigAlg == TPM2_ALG_RSAPSS;
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) <=
                    0 ||
            /* TPMs use a salt of the digest's size, some the maximum: accept what the
             * signature says (the salt length is not a security parameter here). */
            (pss && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0)) {
            v->oom = true;
            goto out;
        }
        sp = sig->signature.rsassa.sig.buffer;
        sl = sig->signature.rsassa.sig.size;
    }
    if (EVP_DigestVerify(ctx, sp, sl, msg->p, msg->len) != 1) {
        st = cvma_reject(v, CVMA_R_TPM_SIGNATURE_INVALID,
                         "tpm quote: the %s/%s signature does not verify with the AK",
                         sig_alg_name(sig->sigAlg), cvma_tpm_bank_name(cvma_tpm_bank_of_alg(hash)));
        goto out;
    }
    st = CVMA_OK;
out:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    EVP_MD_CTX_free(ctx);
    return st;
}

/* ---- PCRs ------------------------------------------------------------------------------ */

static bool selected(const TPML_PCR_SELECTION *sel, int bank, unsigned idx)
{
    for (uint32_t i = 0; i < sel->count; i++) {
        const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
        if (cvma_tpm_bank_of_alg(s->hash) == bank && idx / 8 < s->sizeofSelect &&
            (s->pcrSelect[idx / 8] & (1u << (idx % 8))) != 0) {
            return true;
        }
    }
    return false;
}

/*
 * TPM 2.0 Part 3 §18.4 (TPM2_Quote): pcrDigest is the digest, with the signing scheme's hash,
 * of the selected PCR values concatenated in selection order (banks as listed, indices
 * ascending).
 */
static enum cvma_status pcrs_check(const struct cvma_tpm_attest *at, TPM2_ALG_ID hash,
                                   const struct cvma_tpm_pcrs *pcrs, struct cvma_verdict *v)
{
    const TPML_PCR_SELECTION *sel = &at->a.attested.quote.pcrSelect;
    const TPM2B_DIGEST *want = &at->a.attested.quote.pcrDigest;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned got_len = 0;
    enum cvma_status st = CVMA_E_INTERNAL;

    if (ctx == NULL || EVP_DigestInit_ex(ctx, cvma_eventlog_alg_md(hash), NULL) != 1) {
        v->oom = true;
        goto out;
    }
    for (uint32_t i = 0; i < sel->count; i++) {
        const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
        int bank = cvma_tpm_bank_of_alg(s->hash);
        for (unsigned idx = 0; idx < 8u * s->sizeofSelect; idx++) {
            if ((s->pcrSelect[idx / 8] & (1u << (idx % 8))) == 0) {
                continue;
            }
            if (bank < 0) {
                st = cvma_reject(v, CVMA_R_TPM_PCR_MISSING,
                                 "tpm quote: PCR %u of bank 0x%04x is quoted; that bank is not "
                                 "supported here",
                                 idx, (unsigned)s->hash);
                goto out;
            }
            if (!pcrs->set[bank][idx]) {
                st = cvma_reject(v, CVMA_R_TPM_PCR_MISSING,
                                 "tpm quote: PCR %s:%u is quoted but no value was given for it",
                                 cvma_tpm_bank_name(bank), idx);
                goto out;
            }
            if (EVP_DigestUpdate(ctx, pcrs->v[bank][idx], cvma_tpm_bank_size(bank)) != 1) {
                v->oom = true;
                goto out;
            }
        }
    }
    if (EVP_DigestFinal_ex(ctx, got, &got_len) != 1) {
        v->oom = true;
        goto out;
    }
    if (got_len != want->size || CRYPTO_memcmp(got, want->buffer, got_len) != 0) {
        char gh[2 * EVP_MAX_MD_SIZE + 1], wh[2 * sizeof want->buffer + 1];
        cvma_hex_encode(got, got_len, gh, sizeof gh);
        cvma_hex_encode(want->buffer, want->size, wh, sizeof wh);
        st = cvma_reject(v, CVMA_R_TPM_PCR_DIGEST_MISMATCH,
                         "tpm quote: the PCR values given hash to %s, the quote's pcrDigest is "
                         "%s",
                         gh, wh);
        goto out;
    }
    for (int b = 0; b < CVMA_TPM_BANKS; b++) {
        for (unsigned idx = 0; idx < CVMA_TPM_PCR_COUNT; idx++) {
            if (pcrs->set[b][idx] && !selected(sel, b, idx)) {
                cvma_verdict_add(v, CVMA_R_TPM_PCR_NOT_QUOTED, CVMA_SEV_INFO,
                                 "tpm quote: PCR %s:%u was given but is not quoted: ignored",
                                 cvma_tpm_bank_name(b), idx);
            }
        }
    }
    st = CVMA_OK;
out:
    EVP_MD_CTX_free(ctx);
    return st;
}

/* ---- claims ---------------------------------------------------------------------------- */

json_t *cvma_tpm_clock_json(uint64_t clock)
{
    if (clock <= (uint64_t)INT64_MAX) {
        return json_integer((json_int_t)clock);
    }
    char d[24];
    snprintf(d, sizeof d, "%llu", (unsigned long long)clock);
    return json_string(d);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    json_t *j;
    if (h == NULL) {
        return NULL;
    }
    cvma_hex_encode(p, n, h, 2 * n + 1);
    j = json_string(h);
    free(h);
    return j;
}

/* Whether any entry of sel for hash alg from entry `from` on selects PCR idx. */
static bool selects(const TPML_PCR_SELECTION *sel, uint32_t from, TPMI_ALG_HASH alg, unsigned idx)
{
    for (uint32_t k = from; k < sel->count; k++) {
        const TPMS_PCR_SELECTION *t = &sel->pcrSelections[k];
        if (t->hash == alg && idx / 8 < t->sizeofSelect &&
            (t->pcrSelect[idx / 8] & (1u << (idx % 8))) != 0) {
            return true;
        }
    }
    return false;
}

/* claims.tpm.pcr_select: each bank once, with the PCRs of all its entries (a TPM may list a
 * bank twice: libtpms does for "sha256:0+sha256:7"), ascending. */
static json_t *selection_json(const TPML_PCR_SELECTION *sel)
{
    json_t *o = json_object();
    for (uint32_t i = 0; o != NULL && i < sel->count; i++) {
        const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
        bool seen = false;
        for (uint32_t k = 0; k < i; k++) {
            seen = seen || sel->pcrSelections[k].hash == s->hash;
        }
        if (seen) {
            continue; /* its PCRs are in the bank's first entry's list */
        }
        int bank = cvma_tpm_bank_of_alg(s->hash);
        char name[16];
        json_t *a = json_array();
        if (bank >= 0) {
            snprintf(name, sizeof name, "%s", cvma_tpm_bank_name(bank));
        } else {
            snprintf(name, sizeof name, "0x%04x", (unsigned)s->hash);
        }
        for (unsigned idx = 0; a != NULL && idx < 8u * sizeof s->pcrSelect; idx++) {
            if (selects(sel, i, s->hash, idx)) {
                json_array_append_new(a, json_integer(idx));
            }
        }
        json_object_set_new(o, name, a);
    }
    return o;
}

static json_t *pcrs_json(const TPML_PCR_SELECTION *sel, const struct cvma_tpm_pcrs *pcrs)
{
    json_t *o = json_object();
    for (int b = 0; o != NULL && b < CVMA_TPM_BANKS; b++) {
        json_t *bank = NULL;
        for (unsigned idx = 0; idx < CVMA_TPM_PCR_COUNT; idx++) {
            char key[4];
            if (!pcrs->set[b][idx] || !selected(sel, b, idx)) {
                continue;
            }
            if (bank == NULL && (bank = json_object()) == NULL) {
                break;
            }
            snprintf(key, sizeof key, "%u", idx);
            json_object_set_new(bank, key, hex_json(pcrs->v[b][idx], cvma_tpm_bank_size(b)));
        }
        if (bank != NULL) {
            json_object_set_new(o, cvma_tpm_bank_name(b), bank);
        }
    }
    return o;
}

static json_t *ak_json(const struct ak *ak, const uint8_t spki_sha256[32])
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    int kt = EVP_PKEY_get_base_id(ak->key);
    json_object_set_new(o, "type", json_string(kt == EVP_PKEY_RSA ? "rsa" : "ecc"));
    json_object_set_new(o, "bits", json_integer(EVP_PKEY_get_bits(ak->key)));
    json_object_set_new(o, "spki_sha256", hex_json(spki_sha256, 32));
    /* The attested key (the service's token cnf.jwk, docs/service.md). */
    json_object_set_new(o, "jwk", cvma_pubkey_jwk(ak->key));
    if (ak->has_public) {
        const EVP_MD *md = cvma_eventlog_alg_md(ak->pub.nameAlg);
        uint8_t name[2 + EVP_MAX_MD_SIZE];
        unsigned n = 0;
        char attrs[11];
        snprintf(attrs, sizeof attrs, "%08x", (unsigned)ak->pub.objectAttributes);
        json_object_set_new(o, "object_attributes", json_string(attrs));
        /* Part 1 §16: Name = nameAlg || H_nameAlg(TPMT_PUBLIC). */
        name[0] = (uint8_t)(ak->pub.nameAlg >> 8);
        name[1] = (uint8_t)ak->pub.nameAlg;
        if (md != NULL && EVP_Digest(ak->pub_bytes.p, ak->pub_bytes.len, name + 2, &n, md, NULL)) {
            json_object_set_new(o, "name", hex_json(name, 2 + n));
        }
    }
    return o;
}

/* The covered PCR values (0..23, the TCG PC Client registers) against an event log. */
static void eventlog_check(const struct cvma_span *log, const TPML_PCR_SELECTION *sel,
                           const struct cvma_tpm_pcrs *pcrs, struct cvma_result *res)
{
    struct cvma_eventlog_quoted *q = calloc(CVMA_TPM_BANKS, sizeof *q);
    size_t n = 0;
    if (q == NULL) {
        res->verdict.oom = true;
        return;
    }
    for (int b = 0; b < CVMA_TPM_BANKS; b++) {
        q[n].alg = cvma_eventlog_bank_alg((size_t)b);
        q[n].mask = 0;
        for (unsigned idx = 0; idx < CVMA_EVENTLOG_NPCR; idx++) {
            if (pcrs->set[b][idx] && selected(sel, b, idx)) {
                q[n].mask |= 1u << idx;
                memcpy(q[n].reg[idx], pcrs->v[b][idx], cvma_tpm_bank_size(b));
            }
        }
        n += q[n].mask != 0;
    }
    cvma_eventlog_verify_pcrs(log->p, log->len, q, n, res);
    free(q);
}

/* The quote's claims in the result: the "tpm" object, built once the signature verified, and
 * the AK the signature verified with (the attested key, cvma_tpm_attested_key). */
struct tpm_claims {
    json_t *obj;
    EVP_PKEY *ak; /* owned reference */
};

static json_t *tpm_claims_to_json(const void *kind)
{
    const struct tpm_claims *c = kind;
    return json_incref(c->obj);
}

static void tpm_claims_free(void *kind)
{
    struct tpm_claims *c = kind;
    json_decref(c->obj);
    EVP_PKEY_free(c->ak);
    free(c);
}

static const struct cvma_claims_ops tpm_claims_ops = {
        .key = "tpm",
        .to_json = tpm_claims_to_json,
        .free = tpm_claims_free,
};

static json_t *claims_json(const struct cvma_tpm_attest *at, const TPMT_SIGNATURE *sig,
                           TPM2_ALG_ID hash, const struct ak *ak, const uint8_t spki[32],
                           const struct cvma_tpm_pcrs *pcrs)
{
    const TPMS_ATTEST *a = &at->a;
    json_t *t = json_object(), *c = json_object();
    char fw[19];
    if (t == NULL || c == NULL) {
        json_decref(t);
        json_decref(c);
        return NULL;
    }
    snprintf(fw, sizeof fw, "%016llx", (unsigned long long)a->firmwareVersion);
    json_object_set_new(t, "qualified_signer",
                        hex_json(a->qualifiedSigner.name, a->qualifiedSigner.size));
    json_object_set_new(t, "extra_data", hex_json(a->extraData.buffer, a->extraData.size));
    json_object_set_new(t, "clock", cvma_tpm_clock_json(a->clockInfo.clock));
    json_object_set_new(t, "reset_count", json_integer(a->clockInfo.resetCount));
    json_object_set_new(t, "restart_count", json_integer(a->clockInfo.restartCount));
    json_object_set_new(t, "safe", json_boolean(a->clockInfo.safe));
    json_object_set_new(t, "firmware_version", json_string(fw));
    json_object_set_new(t, "pcr_select", selection_json(&a->attested.quote.pcrSelect));
    json_object_set_new(
            t, "pcr_digest",
            hex_json(a->attested.quote.pcrDigest.buffer, a->attested.quote.pcrDigest.size));
    if (pcrs != NULL) {
        json_object_set_new(t, "pcrs", pcrs_json(&a->attested.quote.pcrSelect, pcrs));
    }
    json_object_set_new(t, "signature_scheme", json_string(sig_alg_name(sig->sigAlg)));
    json_object_set_new(t, "signature_hash",
                        json_string(cvma_tpm_bank_name(cvma_tpm_bank_of_alg(hash))));
    json_object_set_new(t, "ak", ak_json(ak, spki));
    json_decref(c);
    return t;
}

/* see tpm/tpm.h */
json_t *cvma_tpm_attested_key(const struct cvma_result *res)
{
    static const char *const kinds[] = {"tpm", "azure-snp", "azure-tdx", "svsm-vtpm"};
    const struct tpm_claims *tc;
    bool ours = false;

    for (size_t i = 0; i < CVMA_ARRAY_LEN(kinds); i++) {
        ours = ours || (res->tee != NULL && strcmp(res->tee, kinds[i]) == 0);
    }
    /* An AK nothing verified vouches for is no attested key: not bound to hardware, (SVSM)
     * not proven to live in the vTPM whose EK the hardware report names, or named by a report
     * whose launch no policy pinned, which any guest could have made
     * (VTPM_PARAVISOR_NOT_PINNED, given by the pipeline once the policy is known). */
    ours = ours && !cvma_verdict_has(&res->verdict, CVMA_R_TPM_AK_NOT_BOUND) &&
           !cvma_verdict_has(&res->verdict, CVMA_R_VTPM_AK_EK_UNPROVEN) &&
           !cvma_verdict_has(&res->verdict, CVMA_R_VTPM_CREDENTIAL_MISMATCH) &&
           !cvma_verdict_has(&res->verdict, CVMA_R_VTPM_PARAVISOR_NOT_PINNED);
    /* The quote's claims: the kind's own (tpm), or those a bound kind holds. */
    if (!ours || (tc = cvma_claims_find(&res->claims, &tpm_claims_ops)) == NULL || tc->ak == NULL) {
        return NULL;
    }
    return cvma_pubkey_jwk(tc->ak);
}

/* see tpm/tpm.h */
void cvma_tpm_quote_verify(const struct cvma_tpm_quote_in *in, struct cvma_result *res)
{
    struct cvma_verdict *v = &res->verdict;
    struct cvma_tpm_attest *at = calloc(1, sizeof *at);
    struct cvma_tpm_pcrs *pcrs = NULL;
    TPMT_SIGNATURE *sig = calloc(1, sizeof *sig);
    TPM2_ALG_ID hash = TPM2_ALG_NULL;
    struct ak ak;
    uint8_t *spki = NULL;
    uint8_t spki_hash[32];
    int spki_len;
    bool pcrs_ok = false;
    json_t *claims;

    memset(&ak, 0, sizeof ak);
    v->checks_required = CVMA_CHECK_PARSE | CVMA_CHECK_SIGNATURE;
    if (at == NULL || sig == NULL) {
        v->oom = true;
        goto out;
    }
    if (cvma_tpm_attest_parse(in->attest.p, in->attest.len, in->allow_trailing_data, at, v) !=
                CVMA_OK ||
        sig_load(&in->sig, sig, &hash, v) != CVMA_OK || ak_load(&in->ak, &ak, v) != CVMA_OK) {
        goto out;
    }
    cvma_verdict_pass(v, CVMA_CHECK_PARSE);
    if (ak.has_public) {
        if (ak_check_attributes(&ak, v) != CVMA_OK) {
            goto out;
        }
    } else {
        cvma_reject(
                v, CVMA_R_TPM_AK_ATTRIBUTES_UNKNOWN,
                "tpm AK: a bare public key; give its TPMT_PUBLIC or TPM2B_PUBLIC (tpm2_readpublic "
                "-o) so that restricted, fixedTPM, fixedParent and sign can be checked");
    }
    if (sig_matches_ak(&ak, sig, hash, v) != CVMA_OK ||
        sig_verify(ak.key, sig, hash, &at->signed_bytes, v) != CVMA_OK) {
        goto out;
    }
    cvma_verdict_pass(v, CVMA_CHECK_SIGNATURE);
    if ((spki_len = i2d_PUBKEY(ak.key, &spki)) <= 0 ||
        !EVP_Digest(spki, (size_t)spki_len, spki_hash, NULL, EVP_sha256(), NULL)) {
        v->oom = true;
        goto out;
    }
    memcpy(res->trust_anchor, "tpm-ak:", 7);
    cvma_hex_encode(spki_hash, 32, res->trust_anchor + 7, sizeof res->trust_anchor - 7);

    /* Freshness: extraData is what the verifier asked the TPM to sign (qualifyingData). */
    if (!in->has_nonce) {
        cvma_reject(v, CVMA_R_TPM_NONCE_NOT_CHECKED,
                    "tpm quote: no nonce expected; extraData is %u bytes and was not checked",
                    (unsigned)at->a.extraData.size);
    } else if (in->nonce_len != at->a.extraData.size ||
               CRYPTO_memcmp(in->nonce, at->a.extraData.buffer, in->nonce_len) != 0) {
        char gh[2 * sizeof at->a.extraData.buffer + 1];
        cvma_hex_encode(at->a.extraData.buffer, at->a.extraData.size, gh, sizeof gh);
        cvma_reject(v, CVMA_R_TPM_NONCE_MISMATCH,
                    "tpm quote: extraData is '%s' (%u bytes), the expected nonce is %zu bytes", gh,
                    (unsigned)at->a.extraData.size, in->nonce_len);
    }

    if (in->pcrs.p == NULL) {
        cvma_reject(v, CVMA_R_TPM_PCRS_NOT_GIVEN,
                    "tpm quote: no PCR values given; only the quote's pcrDigest is known");
    } else if ((pcrs = calloc(1, sizeof *pcrs)) == NULL) {
        v->oom = true;
    } else if (cvma_tpm_pcrs_parse(in->pcrs.p, in->pcrs.len, &at->a.attested.quote.pcrSelect, pcrs,
                                   v) == CVMA_OK &&
               pcrs_check(at, hash, pcrs, v) == CVMA_OK) {
        pcrs_ok = true;
    }
    if (pcrs_ok && in->eventlog.p != NULL) {
        eventlog_check(&in->eventlog, &at->a.attested.quote.pcrSelect, pcrs, res);
    } else if (in->eventlog.p != NULL) {
        /* nothing was accepted that was not checked: the log is named as unused */
        cvma_reject(v, CVMA_R_EVENTLOG_NOT_USED,
                    "tpm quote: an event log came, but %s: the log was not replayed and gives "
                    "no claims",
                    in->pcrs.p == NULL ? "no PCR values did (it is compared with them)"
                                       : "the PCR values were refused");
    }

    if (in->ak_bound_by == NULL) {
        cvma_reject(v, CVMA_R_TPM_AK_NOT_BOUND,
                    "tpm quote: nothing verified here vouches for the AK (no hardware report, "
                    "EK certificate or credential activation): whoever controls the key can make "
                    "this quote");
    }
    struct tpm_claims *tc = NULL;
    if ((claims = claims_json(at, sig, hash, &ak, spki_hash, pcrs_ok ? pcrs : NULL)) == NULL ||
        (tc = malloc(sizeof *tc)) == NULL || !EVP_PKEY_up_ref(ak.key)) {
        json_decref(claims);
        free(tc);
        v->oom = true;
    } else {
        /* No measurement of its own: the claims JSON is {"tpm": {...}} (measurement_len 0). */
        tc->obj = claims;
        tc->ak = ak.key;
        cvma_claims_set_kind(&res->claims, &tpm_claims_ops, tc);
        res->claims.verified = true;
    }
out:
    OPENSSL_free(spki);
    EVP_PKEY_free(ak.key);
    free(pcrs);
    free(sig);
    free(at);
}

/* see tpm/tpm.h */
bool cvma_tpm_merge_bound(struct cvma_verdict *v, struct cvma_result *res, struct cvma_result *hw,
                          struct cvma_result *tq, struct cvma_tpm_bound_claims *out)
{
    unsigned both = CVMA_CHECK_PARSE | CVMA_CHECK_SIGNATURE;
    unsigned done = hw->verdict.checks_done;
    /* The hardware report's own verdict, before any policy: an error there (a debug guest, a
     * revoked key, a TCB out of date) is kept in mind even if a policy later accepts it. */
    bool hw_refused = cvma_verdict_has_error(&hw->verdict) || hw->verdict.oom;

    cvma_verdict_merge(v, &hw->verdict);
    if (!(tq->verdict.checks_done & CVMA_CHECK_SIGNATURE) ||
        !(tq->verdict.checks_done & CVMA_CHECK_PARSE)) {
        done &= ~both;
    }
    v->checks_done |= done;
    v->undecided = v->undecided || hw->verdict.undecided;
    res->undecided = res->undecided || hw->undecided;
    memcpy(res->trust_anchor, hw->trust_anchor, sizeof res->trust_anchor);
    res->platform = hw->platform;
    if (!hw->claims.verified) {
        return false;
    }
    if (out == NULL) {
        v->oom = true;
        return false;
    }
    memset(out, 0, sizeof *out);
    memcpy(res->claims.measurement, hw->claims.measurement, sizeof res->claims.measurement);
    res->claims.measurement_len = hw->claims.measurement_len;
    memcpy(res->claims.report_data, hw->claims.report_data, 64);
    res->claims.debug = hw->claims.debug;
    res->claims.hardware = hw->claims.hardware;
    out->hw_ops = hw->claims.ops;
    out->hw = hw->claims.kind;
    hw->claims.ops = NULL;
    hw->claims.kind = NULL;
    if (tq->claims.verified) {
        /* One rule for every kind a hardware report binds a vTPM to: a report the verifier
         * refused for what it says vouches for no AK, even when a policy accepts its reason
         * afterwards (snp.allow_debug: the host can read the paravisor's or SVSM's memory, and
         * the AK's private key with it). The quote's claims stay; its AK is no attested key
         * (cvma_tpm_attested_key, the service's token cnf). */
        if (hw_refused && tq->claims.ops == &tpm_claims_ops) {
            struct tpm_claims *tc = tq->claims.kind;
            EVP_PKEY_free(tc->ak);
            tc->ak = NULL;
        }
        out->tpm_ops = tq->claims.ops;
        out->tpm = tq->claims.kind;
        tq->claims.ops = NULL;
        tq->claims.kind = NULL;
        /* The log's claims, set only when it replayed to the covered PCRs. */
        res->claims.eventlog = tq->claims.eventlog;
        tq->claims.eventlog = NULL;
    }
    return true;
}

/* see tpm/tpm.h */
void cvma_tpm_bound_claims_to_json(json_t *o, const struct cvma_tpm_bound_claims *b)
{
    if (b->hw_ops != NULL && b->hw != NULL) {
        json_object_set_new(o, b->hw_ops->key, b->hw_ops->to_json(b->hw));
    }
    if (b->tpm_ops != NULL && b->tpm != NULL) {
        json_object_set_new(o, b->tpm_ops->key, b->tpm_ops->to_json(b->tpm));
    }
}

/* see tpm/tpm.h */
const void *cvma_tpm_bound_claims_part(const struct cvma_tpm_bound_claims *b,
                                       const struct cvma_claims_ops *ops)
{
    if (ops == NULL) {
        return NULL;
    }
    if (b->hw_ops == ops) {
        return b->hw;
    }
    return b->tpm_ops == ops ? b->tpm : NULL;
}

/* see tpm/tpm.h */
void cvma_tpm_bound_claims_free(struct cvma_tpm_bound_claims *b)
{
    if (b->hw_ops != NULL && b->hw_ops->free != NULL && b->hw != NULL) {
        b->hw_ops->free(b->hw);
    }
    if (b->tpm_ops != NULL && b->tpm_ops->free != NULL && b->tpm != NULL) {
        b->tpm_ops->free(b->tpm);
    }
}
