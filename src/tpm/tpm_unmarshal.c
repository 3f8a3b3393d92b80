/* TPM 2.0 structures through the bounded reader: see tpm/tpm_unmarshal.h. */
#include "tpm/tpm_unmarshal.h"

#include <string.h>

/* The bounds the texts below name: the buffers of <tss2/tss2_tpm2_types.h>. */
#define MEMBER_SIZE(type, m) sizeof(((type *)0)->m)
_Static_assert(MEMBER_SIZE(TPM2B_NAME, name) == 68, "TPM2B_NAME holds sizeof(TPMU_NAME)");
_Static_assert(MEMBER_SIZE(TPM2B_DATA, buffer) == 64, "TPM2B_DATA holds sizeof(TPMU_HA)");
_Static_assert(MEMBER_SIZE(TPM2B_DIGEST, buffer) == 64, "TPM2B_DIGEST holds sizeof(TPMU_HA)");
_Static_assert(MEMBER_SIZE(TPM2B_PUBLIC_KEY_RSA, buffer) == 512, "TPM2_MAX_RSA_KEY_BYTES");
_Static_assert(MEMBER_SIZE(TPM2B_ECC_PARAMETER, buffer) == 128, "TPM2_MAX_ECC_KEY_BYTES");
_Static_assert(TPM2_NUM_PCR_BANKS == 16 && TPM2_PCR_SELECT_MAX == 4, "the texts below");

static bool fail(const char **why, const char *what)
{
    *why = what;
    return false;
}

static bool u8(struct cvma_reader *r, uint8_t *x, const char **why, const char *field)
{
    return cvma_reader_u8(r, x) || fail(why, field);
}

static bool u16(struct cvma_reader *r, uint16_t *x, const char **why, const char *field)
{
    return cvma_reader_u16be(r, x) || fail(why, field);
}

static bool u32(struct cvma_reader *r, uint32_t *x, const char **why, const char *field)
{
    return cvma_reader_u32be(r, x) || fail(why, field);
}

static bool u64(struct cvma_reader *r, uint64_t *x, const char **why, const char *field)
{
    return cvma_reader_u64be(r, x) || fail(why, field);
}

/* A TPM2B (Part 2 §10.4): a u16 size, at most cap (the tss2 buffer), then that many bytes. */
static bool tpm2b(struct cvma_reader *r, uint16_t *size, uint8_t *buf, size_t cap, const char **why,
                  const char *field, const char *too_big)
{
    uint16_t n = 0;
    if (!u16(r, &n, why, field)) {
        return false;
    }
    if (n > cap) {
        return fail(why, too_big);
    }
    if (!cvma_reader_bytes(r, buf, n)) {
        return fail(why, field);
    }
    *size = n;
    return true;
}

#define TPM2B(r, b, why, field, cap_text)                                            \
    tpm2b((r), &(b).size, (b).buffer, sizeof(b).buffer, (why), "ends inside " field, \
          field ".size above " cap_text)

/* ---- TPMS_ATTEST (Part 2 §10.12.12), of a quote ---------------------------------------- */

/* §10.6.2 TPMS_PCR_SELECTION, §10.9.7 TPML_PCR_SELECTION. */
static bool pcr_selection(struct cvma_reader *r, TPML_PCR_SELECTION *l, const char **why)
{
    uint32_t count = 0;
    if (!u32(r, &count, why, "ends inside attested.quote.pcrSelect.count")) {
        return false;
    }
    if (count > TPM2_NUM_PCR_BANKS) {
        return fail(why, "attested.quote.pcrSelect.count above 16 (TPM2_NUM_PCR_BANKS)");
    }
    l->count = count;
    for (uint32_t i = 0; i < count; i++) {
        TPMS_PCR_SELECTION *s = &l->pcrSelections[i];
        if (!u16(r, &s->hash, why, "ends inside a TPMS_PCR_SELECTION") ||
            !u8(r, &s->sizeofSelect, why, "ends inside a TPMS_PCR_SELECTION")) {
            return false;
        }
        if (s->sizeofSelect > TPM2_PCR_SELECT_MAX) {
            return fail(why, "a TPMS_PCR_SELECTION's sizeofSelect above 4 (TPM2_PCR_SELECT_MAX)");
        }
        if (!cvma_reader_bytes(r, s->pcrSelect, s->sizeofSelect)) {
            return fail(why, "ends inside a TPMS_PCR_SELECTION");
        }
    }
    return true;
}

static bool attest_body(struct cvma_reader *r, TPMS_ATTEST *a, const char **why)
{
    TPMS_CLOCK_INFO *c = &a->clockInfo;
    TPMS_QUOTE_INFO *q = &a->attested.quote;
    /* §10.11.1 TPMS_CLOCK_INFO: safe is a TPMI_YES_NO, read as a byte (the caller judges it). */
    return tpm2b(r, &a->qualifiedSigner.size, a->qualifiedSigner.name,
                 sizeof a->qualifiedSigner.name, why, "ends inside qualifiedSigner",
                 "qualifiedSigner.size above 68") &&
           TPM2B(r, a->extraData, why, "extraData", "64") &&
           u64(r, &c->clock, why, "ends inside clockInfo") &&
           u32(r, &c->resetCount, why, "ends inside clockInfo") &&
           u32(r, &c->restartCount, why, "ends inside clockInfo") &&
           u8(r, &c->safe, why, "ends inside clockInfo") &&
           u64(r, &a->firmwareVersion, why, "ends inside firmwareVersion") &&
           pcr_selection(r, &q->pcrSelect, why) &&
           TPM2B(r, q->pcrDigest, why, "attested.quote.pcrDigest", "64");
}

/* see tpm/tpm_unmarshal.h */
enum cvma_tpm_mu cvma_tpm_mu_attest(struct cvma_reader *r, TPMS_ATTEST *out, const char **why)
{
    struct cvma_reader t = *r;
    const char *w = NULL;
    uint16_t type = 0;

    memset(out, 0, sizeof *out);
    why = why != NULL ? why : &w;
    if (!u32(&t, &out->magic, why, "ends inside magic") ||
        !u16(&t, &type, why, "ends inside type")) {
        memset(out, 0, sizeof *out);
        return CVMA_TPM_MU_MALFORMED;
    }
    if (type != TPM2_ST_ATTEST_QUOTE) {
        /* Certify, creation, audit, time and NV attestations: no caller verifies them. */
        memset(out, 0, sizeof *out);
        out->type = type;
        *why = "type is not TPM_ST_ATTEST_QUOTE";
        return CVMA_TPM_MU_UNSUPPORTED;
    }
    out->type = type;
    if (!attest_body(&t, out, why)) {
        memset(out, 0, sizeof *out);
        return CVMA_TPM_MU_MALFORMED;
    }
    *r = t;
    return CVMA_TPM_MU_OK;
}

/* ---- TPMT_PUBLIC (Part 2 §12.2.4) ------------------------------------------------------ */

/*
 * The unions inside take the selectors libtss2-mu knows (a TPM_ALG_NULL selector reads
 * nothing), so that an area both read gives the same struct and an area one of them refuses
 * the other refuses too. The union members a selector picks share their layout (a u16 first),
 * so the first member that has it is written.
 */

/* §11.1.7 TPMT_SYM_DEF_OBJECT with §11.1.3 TPMU_SYM_KEY_BITS and §11.1.4 TPMU_SYM_MODE. */
static bool sym_def_object(struct cvma_reader *r, TPMT_SYM_DEF_OBJECT *s, const char **why)
{
    if (!u16(r, &s->algorithm, why, "ends inside parameters.symmetric")) {
        return false;
    }
    switch (s->algorithm) {
    case TPM2_ALG_AES:
    case TPM2_ALG_SM4:
    case TPM2_ALG_CAMELLIA:
    case TPM2_ALG_SYMCIPHER:
        return u16(r, &s->keyBits.sym, why, "ends inside parameters.symmetric") &&
               u16(r, &s->mode.sym, why, "ends inside parameters.symmetric");
    case TPM2_ALG_XOR: /* keyBits is the hash; no mode */
        return u16(r, &s->keyBits.exclusiveOr, why, "ends inside parameters.symmetric");
    case TPM2_ALG_NULL:
        return true;
    default:
        return fail(why, "parameters.symmetric.algorithm is not AES, SM4, CAMELLIA, XOR, "
                         "SYMCIPHER or NULL");
    }
}

/* §11.2.3.5 TPMU_ASYM_SCHEME: the scheme of an RSA (TPMT_RSA_SCHEME) or ECC (TPMT_ECC_SCHEME)
 * key, which have one layout. */
static bool asym_scheme(struct cvma_reader *r, TPMI_ALG_ASYM_SCHEME *scheme, TPMU_ASYM_SCHEME *d,
                        const char **why)
{
    if (!u16(r, scheme, why, "ends inside parameters.scheme")) {
        return false;
    }
    switch (*scheme) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS:
    case TPM2_ALG_OAEP:
    case TPM2_ALG_ECDSA:
    case TPM2_ALG_ECDH:
    case TPM2_ALG_SM2:
    case TPM2_ALG_ECSCHNORR:
    case TPM2_ALG_ECMQV:
        return u16(r, &d->anySig.hashAlg, why, "ends inside parameters.scheme");
    case TPM2_ALG_ECDAA:
        return u16(r, &d->ecdaa.hashAlg, why, "ends inside parameters.scheme") &&
               u16(r, &d->ecdaa.count, why, "ends inside parameters.scheme");
    case TPM2_ALG_RSAES:
    case TPM2_ALG_NULL:
        return true;
    default:
        return fail(why, "parameters.scheme.scheme is not a known asymmetric scheme");
    }
}

/* §11.2.3.2 TPMT_KDF_SCHEME (libtss2-mu, as the reference TPM for keys, knows no KDF2 here). */
static bool kdf_scheme(struct cvma_reader *r, TPMT_KDF_SCHEME *k, const char **why)
{
    if (!u16(r, &k->scheme, why, "ends inside parameters.kdf")) {
        return false;
    }
    switch (k->scheme) {
    case TPM2_ALG_MGF1:
    case TPM2_ALG_KDF1_SP800_56A:
    case TPM2_ALG_KDF1_SP800_108:
        return u16(r, &k->details.mgf1.hashAlg, why, "ends inside parameters.kdf");
    case TPM2_ALG_NULL:
        return true;
    default:
        return fail(why, "parameters.kdf.scheme is not MGF1, KDF1_SP800_56A, KDF1_SP800_108 or "
                         "NULL");
    }
}

/* §11.1.22 TPMT_KEYEDHASH_SCHEME. */
static bool keyedhash_scheme(struct cvma_reader *r, TPMT_KEYEDHASH_SCHEME *k, const char **why)
{
    if (!u16(r, &k->scheme, why, "ends inside parameters.scheme")) {
        return false;
    }
    switch (k->scheme) {
    case TPM2_ALG_HMAC:
        return u16(r, &k->details.hmac.hashAlg, why, "ends inside parameters.scheme");
    case TPM2_ALG_XOR:
        return u16(r, &k->details.exclusiveOr.hashAlg, why, "ends inside parameters.scheme") &&
               u16(r, &k->details.exclusiveOr.kdf, why, "ends inside parameters.scheme");
    case TPM2_ALG_NULL:
        return true;
    default:
        return fail(why, "parameters.scheme.scheme is not HMAC, XOR or NULL");
    }
}

/*
 * The whole TPMT_PUBLIC, of any type libtss2-mu reads (RSA, ECC, and the KEYEDHASH, SYMCIPHER
 * and NULL objects no caller accepts): a reading that is refused only for its type then ends
 * where libtss2-mu's does, and cvma_tpm_mu_public_area decides as the callers did with it.
 */
static bool public_any(struct cvma_reader *r, TPMT_PUBLIC *p, const char **why)
{
    TPMU_PUBLIC_PARMS *pp = &p->parameters;
    if (!u16(r, &p->type, why, "ends inside type") ||
        !u16(r, &p->nameAlg, why, "ends inside nameAlg") ||
        !u32(r, &p->objectAttributes, why, "ends inside objectAttributes") ||
        !TPM2B(r, p->authPolicy, why, "authPolicy", "64")) {
        return false;
    }
    switch (p->type) {
    case TPM2_ALG_RSA: /* §12.2.3.5 TPMS_RSA_PARMS, unique a TPM2B_PUBLIC_KEY_RSA */
        return sym_def_object(r, &pp->rsaDetail.symmetric, why) &&
               asym_scheme(r, &pp->rsaDetail.scheme.scheme, &pp->rsaDetail.scheme.details, why) &&
               u16(r, &pp->rsaDetail.keyBits, why, "ends inside parameters.keyBits") &&
               u32(r, &pp->rsaDetail.exponent, why, "ends inside parameters.exponent") &&
               TPM2B(r, p->unique.rsa, why, "unique.rsa", "512");
    case TPM2_ALG_ECC: /* §12.2.3.6 TPMS_ECC_PARMS, unique a TPMS_ECC_POINT */
        return sym_def_object(r, &pp->eccDetail.symmetric, why) &&
               asym_scheme(r, &pp->eccDetail.scheme.scheme, &pp->eccDetail.scheme.details, why) &&
               u16(r, &pp->eccDetail.curveID, why, "ends inside parameters.curveID") &&
               kdf_scheme(r, &pp->eccDetail.kdf, why) &&
               TPM2B(r, p->unique.ecc.x, why, "unique.ecc.x", "128") &&
               TPM2B(r, p->unique.ecc.y, why, "unique.ecc.y", "128");
    case TPM2_ALG_KEYEDHASH:
        return keyedhash_scheme(r, &pp->keyedHashDetail.scheme, why) &&
               TPM2B(r, p->unique.keyedHash, why, "unique.keyedHash", "64");
    case TPM2_ALG_SYMCIPHER:
        return sym_def_object(r, &pp->symDetail.sym, why) &&
               TPM2B(r, p->unique.sym, why, "unique.sym", "64");
    case TPM2_ALG_NULL:
        return true;
    default:
        return fail(why, "type is not a TPMI_ALG_PUBLIC");
    }
}

static bool public_supported(const TPMT_PUBLIC *p)
{
    return p->type == TPM2_ALG_RSA || p->type == TPM2_ALG_ECC;
}

/* One TPMT_PUBLIC at t (moved only on OK or UNSUPPORTED); *out as the header says. */
static enum cvma_tpm_mu public_read(struct cvma_reader *t, TPMT_PUBLIC *out, const char **why)
{
    struct cvma_reader s = *t;
    memset(out, 0, sizeof *out);
    if (!public_any(&s, out, why)) {
        memset(out, 0, sizeof *out);
        return CVMA_TPM_MU_MALFORMED;
    }
    *t = s;
    if (!public_supported(out)) {
        TPMI_ALG_PUBLIC type = out->type;
        memset(out, 0, sizeof *out);
        out->type = type;
        *why = "type is not RSA or ECC";
        return CVMA_TPM_MU_UNSUPPORTED;
    }
    return CVMA_TPM_MU_OK;
}

/* One TPM2B_PUBLIC at t (moved only on OK or UNSUPPORTED): the TPMT_PUBLIC fills its size. */
static enum cvma_tpm_mu public2b_read(struct cvma_reader *t, TPM2B_PUBLIC *out, const char **why)
{
    struct cvma_reader s = *t, area;
    uint16_t size = 0;
    enum cvma_tpm_mu st;

    memset(out, 0, sizeof *out);
    if (!u16(&s, &size, why, "ends inside the TPM2B_PUBLIC's size")) {
        return CVMA_TPM_MU_MALFORMED;
    }
    if (size > sizeof out->publicArea) {
        *why = "the TPM2B_PUBLIC's size is above sizeof(TPMT_PUBLIC)";
        return CVMA_TPM_MU_MALFORMED;
    }
    if (!cvma_reader_sub(&s, size, &area)) {
        *why = "ends inside the TPM2B_PUBLIC's publicArea";
        return CVMA_TPM_MU_MALFORMED;
    }
    if ((st = public_read(&area, &out->publicArea, why)) == CVMA_TPM_MU_MALFORMED) {
        return st;
    }
    if (!cvma_reader_at_end(&area)) {
        memset(out, 0, sizeof *out);
        *why = "the TPM2B_PUBLIC's size is larger than its publicArea";
        return CVMA_TPM_MU_MALFORMED;
    }
    if (st == CVMA_TPM_MU_OK) {
        out->size = size;
    }
    *t = s;
    return st;
}

/* see tpm/tpm_unmarshal.h */
enum cvma_tpm_mu cvma_tpm_mu_public(struct cvma_reader *r, TPMT_PUBLIC *out, const char **why)
{
    struct cvma_reader t = *r;
    const char *w = NULL;
    enum cvma_tpm_mu st = public_read(&t, out, why != NULL ? why : &w);
    if (st == CVMA_TPM_MU_OK) {
        *r = t;
    }
    return st;
}

/* see tpm/tpm_unmarshal.h */
enum cvma_tpm_mu cvma_tpm_mu_public2b(struct cvma_reader *r, TPM2B_PUBLIC *out, const char **why)
{
    struct cvma_reader t = *r;
    const char *w = NULL;
    enum cvma_tpm_mu st = public2b_read(&t, out, why != NULL ? why : &w);
    if (st == CVMA_TPM_MU_OK) {
        *r = t;
    }
    return st;
}

/* see tpm/tpm_unmarshal.h */
enum cvma_tpm_mu cvma_tpm_mu_public_area(const uint8_t *p, size_t len, TPMT_PUBLIC *out,
                                         struct cvma_span *area, const char **why)
{
    struct cvma_reader t;
    const char *w = NULL, *w1 = NULL, *w2 = NULL;
    TPM2B_PUBLIC p2;
    uint16_t first = 0;
    enum cvma_tpm_mu st, st2;

    why = why != NULL ? why : &w;
    area->p = NULL;
    area->len = 0;
    /* The TPMT_PUBLIC reading first, then the TPM2B_PUBLIC one; each must use every byte. */
    cvma_reader_init(&t, p, len);
    st = public_read(&t, out, &w1);
    if (st != CVMA_TPM_MU_MALFORMED && cvma_reader_at_end(&t)) {
        *why = w1;
        if (st == CVMA_TPM_MU_OK) {
            area->p = p;
            area->len = len;
        }
        return st;
    }
    cvma_reader_init(&t, p, len);
    st2 = public2b_read(&t, &p2, &w2);
    if (st2 != CVMA_TPM_MU_MALFORMED && cvma_reader_at_end(&t)) {
        *out = p2.publicArea;
        *why = w2;
        if (st2 == CVMA_TPM_MU_OK) {
            cvma_reader_init(&t, p, len);
            if (cvma_reader_skip(&t, 2)) { /* the size, read above */
                cvma_reader_rest(&t, area);
            }
        }
        return st2;
    }
    memset(out, 0, sizeof *out);
    /* Neither: say why for the reading the first u16 points to, a TPMT_PUBLIC's type (RSA or
     * ECC) or else a TPM2B_PUBLIC's size. */
    cvma_reader_init(&t, p, len);
    if (cvma_reader_u16be(&t, &first) && (first == TPM2_ALG_RSA || first == TPM2_ALG_ECC)) {
        *why = st == CVMA_TPM_MU_MALFORMED ? w1 : "bytes after the TPMT_PUBLIC";
    } else {
        *why = st2 == CVMA_TPM_MU_MALFORMED ? w2 : "bytes after the TPM2B_PUBLIC";
    }
    return CVMA_TPM_MU_MALFORMED;
}

/* ---- TPMT_SIGNATURE (Part 2 §11.3.4) --------------------------------------------------- */

/* §10.3.2 TPMT_HA, an HMAC signature: the digest as long as its hash algorithm's. */
static bool tpmt_ha(struct cvma_reader *r, TPMT_HA *h, const char **why)
{
    size_t n;
    if (!u16(r, &h->hashAlg, why, "ends inside signature.hmac")) {
        return false;
    }
    switch (h->hashAlg) {
    case TPM2_ALG_SHA1:
        n = TPM2_SHA1_DIGEST_SIZE;
        break;
    case TPM2_ALG_SHA256:
        n = TPM2_SHA256_DIGEST_SIZE;
        break;
    case TPM2_ALG_SHA384:
        n = TPM2_SHA384_DIGEST_SIZE;
        break;
    case TPM2_ALG_SHA512:
        n = TPM2_SHA512_DIGEST_SIZE;
        break;
    case TPM2_ALG_SM3_256:
        n = TPM2_SM3_256_DIGEST_SIZE;
        break;
    case TPM2_ALG_NULL:
        return true;
    default:
        return fail(why, "signature.hmac.hashAlg is not a known hash");
    }
    return cvma_reader_bytes(r, h->digest.sha512, n) || fail(why, "ends inside signature.hmac");
}

/* The whole TPMT_SIGNATURE, of any scheme libtss2-mu reads. */
static bool signature_any(struct cvma_reader *r, TPMT_SIGNATURE *s, const char **why)
{
    TPMU_SIGNATURE *u = &s->signature;
    if (!u16(r, &s->sigAlg, why, "ends inside sigAlg")) {
        return false;
    }
    switch (s->sigAlg) {
    case TPM2_ALG_RSASSA: /* §11.3.1 TPMS_SIGNATURE_RSA, for RSAPSS too */
    case TPM2_ALG_RSAPSS:
        return u16(r, &u->rsassa.hash, why, "ends inside signature.hash") &&
               TPM2B(r, u->rsassa.sig, why, "signature.sig", "512");
    case TPM2_ALG_ECDSA: /* §11.3.2 TPMS_SIGNATURE_ECC, for the other ECC schemes too */
    case TPM2_ALG_ECDAA:
    case TPM2_ALG_SM2:
    case TPM2_ALG_ECSCHNORR:
        return u16(r, &u->ecdsa.hash, why, "ends inside signature.hash") &&
               TPM2B(r, u->ecdsa.signatureR, why, "signature.signatureR", "128") &&
               TPM2B(r, u->ecdsa.signatureS, why, "signature.signatureS", "128");
    case TPM2_ALG_HMAC:
        return tpmt_ha(r, &u->hmac, why);
    case TPM2_ALG_NULL:
        return true;
    default:
        return fail(why, "sigAlg is not a TPMI_ALG_SIG_SCHEME");
    }
}

/* see tpm/tpm_unmarshal.h */
enum cvma_tpm_mu cvma_tpm_mu_signature(struct cvma_reader *r, TPMT_SIGNATURE *out, const char **why)
{
    struct cvma_reader t = *r;
    const char *w = NULL;

    why = why != NULL ? why : &w;
    memset(out, 0, sizeof *out);
    if (!signature_any(&t, out, why)) {
        memset(out, 0, sizeof *out);
        return CVMA_TPM_MU_MALFORMED;
    }
    if (out->sigAlg != TPM2_ALG_RSASSA && out->sigAlg != TPM2_ALG_RSAPSS &&
        out->sigAlg != TPM2_ALG_ECDSA) {
        TPMI_ALG_SIG_SCHEME alg = out->sigAlg;
        memset(out, 0, sizeof *out);
        out->sigAlg = alg;
        *why = "sigAlg is not RSASSA, RSAPSS or ECDSA";
        return CVMA_TPM_MU_UNSUPPORTED;
    }
    *r = t;
    return CVMA_TPM_MU_OK;
}
