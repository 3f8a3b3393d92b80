/*
 * The TPM structures read through the bounded reader (src/tpm/tpm_unmarshal.c) against
 * libtss2-mu, which the verifier used before: the same decision and the same struct for the
 * same bytes (the oracle of fuzz/tpm_mu_check.h), over the fuzz corpora of the TPM targets, the
 * real TPM samples of the shared vectors, and structures made here with libtss2-mu's marshalling
 * (every scheme, key and signature type it knows), each also cut short at every length, with
 * every bit flipped, and with each byte, u16 and u32 set to the bounds the reading checks.
 */
#include <dirent.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "../../fuzz/tpm_mu_check.h"
#include "testutil.h"
#include "tpm/tpm_unmarshal.h"
#include "tu_tpm.h"

/* How many readings of each kind ours accepted, to show that the inputs hold what they should. */
struct seen {
    size_t attest, pub, area, sig;
};

static size_t n_checks;

static void check_one(const uint8_t *p, size_t len, struct seen *s)
{
    const char *d = mu_check(p, len);
    if (d != NULL) {
        char hex[2 * 64 + 1];
        cvma_hex_encode(p, len < 64 ? len : 64, hex, sizeof hex);
        fail_msg("%s (%zu bytes: %s%s)", d, len, hex, len > 64 ? "..." : "");
    }
    n_checks++;
    if (s == NULL) {
        return;
    }
    struct cvma_reader r;
    TPMS_ATTEST *a = malloc(sizeof *a);
    TPMT_PUBLIC pub;
    TPMT_SIGNATURE sig;
    struct cvma_span area;
    assert_non_null(a);
    cvma_reader_init(&r, p, len);
    s->attest += cvma_tpm_mu_attest(&r, a, NULL) == CVMA_TPM_MU_OK;
    cvma_reader_init(&r, p, len);
    s->pub += cvma_tpm_mu_public(&r, &pub, NULL) == CVMA_TPM_MU_OK;
    s->area += cvma_tpm_mu_public_area(p, len, &pub, &area, NULL) == CVMA_TPM_MU_OK;
    cvma_reader_init(&r, p, len);
    s->sig += cvma_tpm_mu_signature(&r, &sig, NULL) == CVMA_TPM_MU_OK;
    free(a);
}

static void put_be(uint8_t *p, uint64_t x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(x >> (8 * (n - 1 - i)));
    }
}

/*
 * p[0..len) and its mutations: cut short at every length, every bit flipped, and at every
 * offset a byte of 4 or 5 (sizeofSelect), a u16 of each TPM2B bound and one past it and a u32
 * of 16 or 17 (the PCR banks), with zero bytes after the input so that a larger size can be
 * read.
 */
static void sweep(const uint8_t *p, size_t len, struct seen *s)
{
    static const uint16_t bounds16[] = {0, 64, 65, 68, 69, 128, 129, 512, 513, 612, 613};
    static const uint32_t bounds32[] = {16, 17};
    static const uint8_t bounds8[] = {4, 5};
    const size_t pad = 1024;
    uint8_t *m = calloc(1, len + pad);
    assert_non_null(m);
    memcpy(m, p, len);
    check_one(m, len, s);
    for (size_t k = 0; k < len; k++) {
        check_one(m, k, NULL);
    }
    for (size_t i = 0; i < len; i++) {
        for (int b = 0; b < 8; b++) {
            m[i] ^= (uint8_t)(1u << b);
            check_one(m, len, NULL);
            m[i] ^= (uint8_t)(1u << b);
        }
    }
    for (size_t i = 0; i < len; i++) {
        for (size_t j = 0; j < CVMA_ARRAY_LEN(bounds8); j++) {
            m[i] = bounds8[j];
            check_one(m, len, NULL);
            memcpy(m + i, p + i, 1);
        }
        for (size_t j = 0; i + 2 <= len && j < CVMA_ARRAY_LEN(bounds16); j++) {
            put_be(m + i, bounds16[j], 2);
            check_one(m, len + pad, NULL);
            memcpy(m + i, p + i, 2);
        }
        for (size_t j = 0; i + 4 <= len && j < CVMA_ARRAY_LEN(bounds32); j++) {
            put_be(m + i, bounds32[j], 4);
            check_one(m, len + pad, NULL);
            memcpy(m + i, p + i, 4);
        }
    }
    free(m);
}

/* Whether one of our readings takes p as a whole TPM structure (else it is a report, a
 * certificate, a nonce... of a multi-part input: not swept). */
static bool tpm_structure(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    TPMS_ATTEST *a = malloc(sizeof *a);
    TPMT_SIGNATURE sig;
    TPMT_PUBLIC pub;
    struct cvma_span area;
    bool yes;
    assert_non_null(a);
    cvma_reader_init(&r, p, len);
    yes = cvma_tpm_mu_attest(&r, a, NULL) == CVMA_TPM_MU_OK;
    cvma_reader_init(&r, p, len);
    yes = yes || (cvma_tpm_mu_signature(&r, &sig, NULL) == CVMA_TPM_MU_OK && r.off == len);
    yes = yes || cvma_tpm_mu_public_area(p, len, &pub, &area, NULL) == CVMA_TPM_MU_OK;
    free(a);
    return yes;
}

/* The parts of a fuzz input that are TPM structures, swept: after skip bytes, each a u16
 * length and its bytes (fuzz/tpm_check.h next_part). */
static void sweep_parts(const uint8_t *p, size_t len, size_t skip, struct seen *s)
{
    if (len < skip) {
        return;
    }
    p += skip;
    len -= skip;
    while (len >= 2) {
        size_t n = (size_t)p[0] << 8 | p[1];
        n = n > len - 2 ? len - 2 : n;
        if (tpm_structure(p + 2, n)) {
            sweep(p + 2, n, s);
        }
        p += 2 + n;
        len -= 2 + n;
    }
}

/* Every file of fuzz/corpus/name: read from each offset on, and its parts swept. */
static void corpus(const char *name, size_t skip, struct seen *s)
{
    const char *src = getenv("CVMATTEST_SRC");
    char *dir;
    DIR *d;
    struct dirent *e;
    size_t files = 0;

    assert_non_null(src);
    dir = tu_path(src, "fuzz/corpus");
    char *cdir = tu_path(dir, name);
    free(dir);
    assert_non_null(d = opendir(cdir));
    while ((e = readdir(d)) != NULL) {
        struct cvma_buf b;
        if (e->d_name[0] == '.') {
            continue;
        }
        char *path = tu_path(cdir, e->d_name);
        tu_read(path, &b);
        free(path);
        for (size_t i = 0; i <= b.len; i++) {
            check_one(b.p + i, b.len - i, s);
        }
        if (skip == SIZE_MAX) {
            sweep(b.p, b.len, s);
        } else {
            sweep_parts(b.p, b.len, skip, s);
        }
        cvma_buf_free(&b);
        files++;
    }
    closedir(d);
    free(cdir);
    assert_true(files > 0);
}

static void test_tpm_mu_agrees_with_tss2_on_the_fuzz_corpora(void **state)
{
    struct seen s = {0};
    (void)state;
    corpus("tpm_attest", SIZE_MAX, &s); /* each file one input */
    corpus("tpm_unmarshal", SIZE_MAX, &s);
    corpus("tpm_quote", 1, &s); /* a flags byte, then the parts */
    corpus("vtpm_svsm", 9, &s); /* flags, the time, then the parts */
    corpus("vtpm_weak", 9, &s);
    print_message("%zu inputs compared; accepted: %zu TPMS_ATTEST, %zu TPMT_PUBLIC, %zu "
                  "public areas, %zu TPMT_SIGNATURE\n",
                  n_checks, s.attest, s.pub, s.area, s.sig);
    assert_true(s.attest >= 10 && s.pub >= 10 && s.area >= 10 && s.sig >= 10);
}

/* The real quotes of the shared vectors: each structure read, and swept. */
static void test_tpm_mu_agrees_with_tss2_on_the_real_samples(void **state)
{
    static const char *const files[] = {
            "tpm/gcp-windows-quote-goattestation/quote_attest.bin",
            "tpm/gcp-windows-quote-goattestation/quote_sig.tpmt",
            "tpm/gcp-windows-quote-goattestation/ak_public.tpmt",
            "tpm/azure-snp-vtpm-coco-trustee/tpm-quote.msg",
            "tpm/azure-snp-vtpm-coco-trustee/tpm-quote.sig", /* a bare RSA signature */
    };
    struct seen s = {0};
    (void)state;
    TU_NEED_VECTORS();
    for (size_t i = 0; i < CVMA_ARRAY_LEN(files); i++) {
        struct cvma_buf b = tu_vec_read(files[i]);
        sweep(b.p, b.len, &s);
        cvma_buf_free(&b);
    }
    assert_int_equal(s.attest, 2);
    assert_int_equal(s.sig, 1);
    assert_int_equal(s.area, 1);
}

/* ---- structures made with libtss2-mu's marshalling --------------------------------------- */

static void sweep_public(const TPMT_PUBLIC *pub, struct seen *s)
{
    uint8_t buf[sizeof(TPM2B_PUBLIC) + 16];
    size_t off = 0;
    TPM2B_PUBLIC p2;
    assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    sweep(buf, off, s);
    memset(&p2, 0, sizeof p2);
    p2.publicArea = *pub;
    off = 0;
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&p2, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    sweep(buf, off, s);
}

static void sweep_signature(const TPMT_SIGNATURE *sig, struct seen *s)
{
    uint8_t buf[sizeof(TPMT_SIGNATURE)];
    size_t off = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    sweep(buf, off, s);
}

/* Every selector libtss2-mu knows in a public area's unions, every public and signature type. */
static void test_tpm_mu_agrees_with_tss2_on_every_scheme_and_type(void **state)
{
    static const TPM2_ALG_ID sym[] = {TPM2_ALG_NULL,     TPM2_ALG_AES, TPM2_ALG_SM4,
                                      TPM2_ALG_CAMELLIA, TPM2_ALG_XOR, TPM2_ALG_SYMCIPHER};
    static const TPM2_ALG_ID asym[] = {
            TPM2_ALG_NULL, TPM2_ALG_RSASSA,    TPM2_ALG_RSAPSS, TPM2_ALG_RSAES,
            TPM2_ALG_OAEP, TPM2_ALG_ECDSA,     TPM2_ALG_ECDH,   TPM2_ALG_ECDAA,
            TPM2_ALG_SM2,  TPM2_ALG_ECSCHNORR, TPM2_ALG_ECMQV,
    };
    static const TPM2_ALG_ID kdf[] = {TPM2_ALG_NULL, TPM2_ALG_MGF1, TPM2_ALG_KDF1_SP800_56A,
                                      TPM2_ALG_KDF1_SP800_108};
    static const TPM2_ALG_ID keyedhash[] = {TPM2_ALG_NULL, TPM2_ALG_HMAC, TPM2_ALG_XOR};
    static const TPM2_ALG_ID sigs[] = {TPM2_ALG_RSASSA, TPM2_ALG_RSAPSS, TPM2_ALG_ECDSA,
                                       TPM2_ALG_ECDAA,  TPM2_ALG_SM2,    TPM2_ALG_ECSCHNORR,
                                       TPM2_ALG_HMAC,   TPM2_ALG_NULL};
    static const TPM2_ALG_ID hashes[] = {TPM2_ALG_SHA1,   TPM2_ALG_SHA256,  TPM2_ALG_SHA384,
                                         TPM2_ALG_SHA512, TPM2_ALG_SM3_256, TPM2_ALG_NULL};
    struct seen s = {0};
    TPMT_PUBLIC pub;
    TPMT_SIGNATURE sig;
    (void)state;

    for (size_t i = 0; i < CVMA_ARRAY_LEN(sym); i++) {
        for (size_t j = 0; j < CVMA_ARRAY_LEN(asym); j++) {
            memset(&pub, 0, sizeof pub);
            pub.type = j % 2 == 0 ? TPM2_ALG_RSA : TPM2_ALG_ECC;
            pub.nameAlg = TPM2_ALG_SHA256;
            pub.objectAttributes = 0x00050072;
            pub.authPolicy.size = (UINT16)(j * 3);
            TPMT_SYM_DEF_OBJECT *sd = pub.type == TPM2_ALG_RSA
                                              ? &pub.parameters.rsaDetail.symmetric
                                              : &pub.parameters.eccDetail.symmetric;
            sd->algorithm = sym[i];
            sd->keyBits.sym = 128;
            sd->mode.sym = TPM2_ALG_CFB;
            if (pub.type == TPM2_ALG_RSA) {
                pub.parameters.rsaDetail.scheme.scheme = asym[j];
                pub.parameters.rsaDetail.scheme.details.ecdaa.hashAlg = TPM2_ALG_SHA256;
                pub.parameters.rsaDetail.scheme.details.ecdaa.count = 7;
                pub.parameters.rsaDetail.keyBits = 2048;
                pub.parameters.rsaDetail.exponent = 65537;
                pub.unique.rsa.size = 256;
                tu_fill(pub.unique.rsa.buffer, 256, 1);
            } else {
                pub.parameters.eccDetail.scheme.scheme = asym[j];
                pub.parameters.eccDetail.scheme.details.ecdaa.hashAlg = TPM2_ALG_SHA384;
                pub.parameters.eccDetail.scheme.details.ecdaa.count = 9;
                pub.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
                pub.parameters.eccDetail.kdf.scheme = kdf[(i + j) % CVMA_ARRAY_LEN(kdf)];
                pub.parameters.eccDetail.kdf.details.mgf1.hashAlg = TPM2_ALG_SHA256;
                pub.unique.ecc.x.size = 32;
                pub.unique.ecc.y.size = 32;
                tu_fill(pub.unique.ecc.x.buffer, 32, 2);
                tu_fill(pub.unique.ecc.y.buffer, 32, 3);
            }
            sweep_public(&pub, &s);
        }
    }
    /* the types no caller accepts, read whole and refused as unsupported */
    for (size_t i = 0; i < CVMA_ARRAY_LEN(keyedhash); i++) {
        memset(&pub, 0, sizeof pub);
        pub.type = TPM2_ALG_KEYEDHASH;
        pub.nameAlg = TPM2_ALG_SHA256;
        pub.parameters.keyedHashDetail.scheme.scheme = keyedhash[i];
        pub.parameters.keyedHashDetail.scheme.details.exclusiveOr.hashAlg = TPM2_ALG_SHA256;
        pub.parameters.keyedHashDetail.scheme.details.exclusiveOr.kdf = TPM2_ALG_KDF1_SP800_108;
        pub.unique.keyedHash.size = 32;
        sweep_public(&pub, &s);
    }
    memset(&pub, 0, sizeof pub);
    pub.type = TPM2_ALG_SYMCIPHER;
    pub.parameters.symDetail.sym.algorithm = TPM2_ALG_AES;
    pub.parameters.symDetail.sym.keyBits.aes = 256;
    pub.parameters.symDetail.sym.mode.aes = TPM2_ALG_CFB;
    pub.unique.sym.size = 32;
    sweep_public(&pub, &s);
    memset(&pub, 0, sizeof pub);
    pub.type = TPM2_ALG_NULL;
    sweep_public(&pub, &s);

    for (size_t i = 0; i < CVMA_ARRAY_LEN(sigs); i++) {
        for (size_t h = 0; h < CVMA_ARRAY_LEN(hashes); h++) {
            memset(&sig, 0, sizeof sig);
            sig.sigAlg = sigs[i];
            if (sigs[i] == TPM2_ALG_RSASSA || sigs[i] == TPM2_ALG_RSAPSS) {
                sig.signature.rsassa.hash = hashes[h];
                sig.signature.rsassa.sig.size = 256;
                tu_fill(sig.signature.rsassa.sig.buffer, 256, 4);
            } else if (sigs[i] == TPM2_ALG_HMAC) {
                sig.signature.hmac.hashAlg = hashes[h];
                tu_fill(sig.signature.hmac.digest.sha512, 64, 5);
            } else if (sigs[i] != TPM2_ALG_NULL) {
                sig.signature.ecdsa.hash = hashes[h];
                sig.signature.ecdsa.signatureR.size = 48;
                sig.signature.ecdsa.signatureS.size = 47;
                tu_fill(sig.signature.ecdsa.signatureR.buffer, 48, 6);
                tu_fill(sig.signature.ecdsa.signatureS.buffer, 47, 7);
            }
            sweep_signature(&sig, &s);
        }
    }
    assert_true(s.pub >= CVMA_ARRAY_LEN(sym) * CVMA_ARRAY_LEN(asym));
    assert_true(s.sig >= 3 * (CVMA_ARRAY_LEN(hashes) - 1));
}

/* Quotes of 0 to 16 banks, each selecting 0 to 4 bytes, with the largest qualifiedSigner,
 * extraData and pcrDigest the buffers hold. */
static void test_tpm_mu_agrees_with_tss2_on_quotes_of_every_selection(void **state)
{
    struct seen s = {0};
    TPMS_ATTEST *a = calloc(1, sizeof *a);
    uint8_t buf[sizeof(TPMS_ATTEST)];
    (void)state;
    assert_non_null(a);
    for (uint32_t count = 0; count <= TPM2_NUM_PCR_BANKS; count += count < 3 ? 1 : 13) {
        memset(a, 0, sizeof *a);
        a->magic = TPM2_GENERATED_VALUE;
        a->type = TPM2_ST_ATTEST_QUOTE;
        a->qualifiedSigner.size = count == 16 ? sizeof a->qualifiedSigner.name : 34;
        a->extraData.size = count == 16 ? sizeof a->extraData.buffer : 32;
        a->clockInfo.clock = 0x0102030405060708u;
        a->clockInfo.safe = 1;
        a->firmwareVersion = 0x1122334455667788u;
        a->attested.quote.pcrSelect.count = count;
        for (uint32_t i = 0; i < count; i++) {
            TPMS_PCR_SELECTION *ps = &a->attested.quote.pcrSelect.pcrSelections[i];
            ps->hash = i % 2 == 0 ? TPM2_ALG_SHA256 : TPM2_ALG_SHA1;
            ps->sizeofSelect = (UINT8)(i % (TPM2_PCR_SELECT_MAX + 1));
            memset(ps->pcrSelect, 0xa5, ps->sizeofSelect);
        }
        a->attested.quote.pcrDigest.size =
                count == 16 ? sizeof a->attested.quote.pcrDigest.buffer : 32;
        size_t off = 0;
        assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(a, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
        sweep(buf, off, &s);
    }
    assert_int_equal(s.attest, 5);
    free(a);
}

/* Quotes and AKs made and signed here (tu_tpm.h), the verifier's own inputs in test_tpm.c. */
static void test_tpm_mu_agrees_with_tss2_on_signed_quotes(void **state)
{
    struct seen s = {0};
    (void)state;
    EVP_PKEY *keys[2] = {EVP_RSA_gen(2048), EVP_EC_gen("P-384")};
    for (size_t i = 0; i < 2; i++) {
        struct cvma_buf msg, sig;
        assert_non_null(keys[i]);
        tu_tpm_quote(keys[i], (const uint8_t *)"nonce", 5, NULL, true, &msg, &sig);
        sweep(msg.p, msg.len, &s);
        sweep(sig.p, sig.len, &s);
        cvma_buf_free(&msg);
        cvma_buf_free(&sig);
        EVP_PKEY_free(keys[i]);
    }
    assert_int_equal(s.attest, 2);
    assert_int_equal(s.sig, 2);
}

/*
 * The bounds by name: a PCR selection of 17 banks (the reviewer's case: libtss2-mu wrote
 * "count too big" to stderr), a sizeofSelect of 5, an extraData of 65 bytes, an RSA modulus of
 * 513: each refused, the field named, nothing printed (the oracle's libtss2-mu is quiet).
 */
static void test_tpm_mu_names_the_bound_it_refuses(void **state)
{
    struct cvma_reader r;
    TPMS_ATTEST *a = calloc(1, sizeof *a);
    TPMT_PUBLIC pub;
    const char *why = NULL;
    struct cvma_buf msg, sig;
    (void)state;
    assert_non_null(a);
    EVP_PKEY *k = EVP_RSA_gen(2048);
    assert_non_null(k);
    tu_tpm_quote(k, (const uint8_t *)"nonce", 5, NULL, true, &msg, &sig);
    EVP_PKEY_free(k);
    /* magic, type, qualifiedSigner (empty), extraData (5), clockInfo, firmwareVersion */
    const size_t count_at = 4 + 2 + 2 + 2 + 5 + 17 + 8;
    put_be(msg.p + count_at, 17, 4);
    cvma_reader_init(&r, msg.p, msg.len);
    assert_int_equal(cvma_tpm_mu_attest(&r, a, &why), CVMA_TPM_MU_MALFORMED);
    assert_string_equal(why, "attested.quote.pcrSelect.count above 16 (TPM2_NUM_PCR_BANKS)");
    assert_int_equal(r.off, 0);
    assert_true(cvma_bytes_are_zero((const uint8_t *)a, sizeof *a));
    put_be(msg.p + count_at, 1, 4);
    msg.p[count_at + 4 + 2] = 5; /* after the hash */
    cvma_reader_init(&r, msg.p, msg.len);
    assert_int_equal(cvma_tpm_mu_attest(&r, a, &why), CVMA_TPM_MU_MALFORMED);
    assert_non_null(strstr(why, "sizeofSelect above 4"));
    msg.p[count_at + 4 + 2] = 3;
    put_be(msg.p + 4 + 2 + 2, 65, 2);
    cvma_reader_init(&r, msg.p, msg.len);
    assert_int_equal(cvma_tpm_mu_attest(&r, a, &why), CVMA_TPM_MU_MALFORMED);
    assert_string_equal(why, "extraData.size above 64");
    put_be(msg.p + 4 + 2 + 2, 5, 2);
    cvma_reader_init(&r, msg.p, msg.len);
    assert_int_equal(cvma_tpm_mu_attest(&r, a, &why), CVMA_TPM_MU_OK);
    assert_int_equal(r.off, msg.len);
    assert_int_equal(a->extraData.size, 5);

    /* an RSA public area: type, nameAlg, attributes, authPolicy (empty), symmetric NULL,
     * scheme NULL, keyBits, exponent, then the modulus' size */
    uint8_t area[2 + 2 + 4 + 2 + 2 + 2 + 2 + 4 + 2 + 513];
    memset(area, 0, sizeof area);
    put_be(area, TPM2_ALG_RSA, 2);
    put_be(area + 2, TPM2_ALG_SHA256, 2);
    put_be(area + 10, TPM2_ALG_NULL, 2);
    put_be(area + 12, TPM2_ALG_NULL, 2);
    put_be(area + 14, 4104, 2);
    put_be(area + 20, 513, 2);
    cvma_reader_init(&r, area, sizeof area);
    assert_int_equal(cvma_tpm_mu_public(&r, &pub, &why), CVMA_TPM_MU_MALFORMED);
    assert_string_equal(why, "unique.rsa.size above 512");
    put_be(area + 20, 512, 2);
    cvma_reader_init(&r, area, sizeof area - 1);
    assert_int_equal(cvma_tpm_mu_public(&r, &pub, &why), CVMA_TPM_MU_OK);
    assert_int_equal(pub.unique.rsa.size, 512);
    /* a KEYEDHASH object: read whole, refused for its type, the reader not moved */
    put_be(area, TPM2_ALG_KEYEDHASH, 2);
    put_be(area + 12, 0, 2); /* unique.keyedHash: empty */
    cvma_reader_init(&r, area, 14);
    assert_int_equal(cvma_tpm_mu_public(&r, &pub, &why), CVMA_TPM_MU_UNSUPPORTED);
    assert_int_equal(pub.type, TPM2_ALG_KEYEDHASH);
    assert_int_equal(r.off, 0);
    assert_null(mu_check(area, 14));
    cvma_buf_free(&msg);
    cvma_buf_free(&sig);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tpm_mu_agrees_with_tss2_on_the_fuzz_corpora),
            cmocka_unit_test(test_tpm_mu_agrees_with_tss2_on_the_real_samples),
            cmocka_unit_test(test_tpm_mu_agrees_with_tss2_on_every_scheme_and_type),
            cmocka_unit_test(test_tpm_mu_agrees_with_tss2_on_quotes_of_every_selection),
            cmocka_unit_test(test_tpm_mu_agrees_with_tss2_on_signed_quotes),
            cmocka_unit_test(test_tpm_mu_names_the_bound_it_refuses),
    };
    mu_tss2_quiet(); /* before any libtss2-mu call, marshalling included */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
