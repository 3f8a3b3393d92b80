/*
 * libFuzzer target: the AMD VCEK/VLEK extension parser. The first byte picks how the rest is
 * read: as a whole DER certificate (through OpenSSL, then our extension walk) or as one raw
 * extension value for each of the AMD OIDs.
 *
 * Each answer is checked against OpenSSL's own reading (AMD pub. 57230; OIDs of the fact
 * sheet, arc 1.3.6.1.4.1.3704.1): the certificate again with d2i_X509 and
 * X509_get_ext_by_OBJ, each value with d2i_ASN1_INTEGER / d2i_ASN1_IA5STRING /
 * d2i_ASN1_OCTET_STRING. A value is expected to be accepted exactly when OpenSSL reads it as
 * the whole input and re-encodes it to the same bytes (DER), and it is in range. A
 * certificate is expected to be refused when any extension OID appears in it twice (RFC 5280
 * 4.2; counted with X509_get_ext_by_OBJ from the next position), and a refused one to give
 * back nothing.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "fuzz_check.h"
#include "snp/amd_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const suffixes[] = {".1.1",   ".1.2",   ".1.3.1", ".1.3.2", ".1.3.3",
                                       ".1.3.4", ".1.3.8", ".1.3.9", ".1.4",   ".1.5"};
#define N_SUFFIXES (sizeof suffixes / sizeof suffixes[0])
/* Every AMD arc the parser interprets in a certificate (.1.3.1 .. .1.3.9 all count). */
static const char *const cert_suffixes[] = {".1.1",   ".1.2",   ".1.3.1", ".1.3.2", ".1.3.3",
                                            ".1.3.4", ".1.3.5", ".1.3.6", ".1.3.7", ".1.3.8",
                                            ".1.3.9", ".1.4",   ".1.5"};
#define N_CERT_SUFFIXES (sizeof cert_suffixes / sizeof cert_suffixes[0])

/* OpenSSL's reading of one extension value. */
struct amd_value {
    bool ok;
    long n;         /* INTEGER */
    char text[256]; /* IA5String */
    uint8_t hwid[64];
    size_t hwid_len;
};

/* The value is one DER INTEGER in 0..255, as OpenSSL reads and re-encodes it. */
static bool read_int(const uint8_t *p, size_t len, long *out)
{
    const unsigned char *q = p;
    unsigned char *enc = NULL;
    int64_t n = -1;
    bool ok = false;
    ASN1_INTEGER *a = d2i_ASN1_INTEGER(NULL, &q, (long)len);
    if (a != NULL && (size_t)(q - p) == len) {
        int elen = i2d_ASN1_INTEGER(a, &enc);
        ok = elen == (int)len && memcmp(enc, p, len) == 0 && ASN1_INTEGER_get_int64(&n, a) == 1 &&
             n >= 0 && n <= 255;
    }
    *out = ok ? (long)n : 0;
    OPENSSL_free(enc);
    ASN1_INTEGER_free(a);
    return ok;
}

/* One DER IA5String of printable ASCII, shorter than cap. */
static bool read_ia5(const uint8_t *p, size_t len, char *out, size_t cap)
{
    const unsigned char *q = p;
    unsigned char *enc = NULL;
    bool ok = false;
    ASN1_IA5STRING *a = d2i_ASN1_IA5STRING(NULL, &q, (long)len);
    out[0] = '\0';
    if (a != NULL && (size_t)(q - p) == len) {
        int elen = i2d_ASN1_IA5STRING(a, &enc);
        const uint8_t *s = ASN1_STRING_get0_data(a);
        size_t n = (size_t)ASN1_STRING_length(a);
        ok = elen == (int)len && memcmp(enc, p, len) == 0 && n < cap;
        for (size_t i = 0; ok && i < n; i++) {
            ok = s[i] >= 0x20 && s[i] <= 0x7e;
        }
        if (ok) {
            memcpy(out, s, n);
            out[n] = '\0';
        }
    }
    OPENSSL_free(enc);
    ASN1_STRING_free(a);
    return ok;
}

/* hwID: 64 or 8 raw bytes, or those wrapped in one DER OCTET STRING. */
static bool read_hwid(const uint8_t *p, size_t len, uint8_t out[64], size_t *out_len)
{
    const unsigned char *q = p;
    unsigned char *enc = NULL;
    const uint8_t *s = p;
    size_t n = len;
    ASN1_OCTET_STRING *a = NULL;
    if (len == 66 || len == 10) {
        a = d2i_ASN1_OCTET_STRING(NULL, &q, (long)len);
        if (a != NULL && (size_t)(q - p) == len && i2d_ASN1_OCTET_STRING(a, &enc) == (int)len &&
            memcmp(enc, p, len) == 0) {
            s = ASN1_STRING_get0_data(a);
            n = (size_t)ASN1_STRING_length(a);
        }
    }
    bool ok = n == 64 || n == 8;
    memset(out, 0, 64);
    *out_len = 0;
    if (ok) {
        memcpy(out, s, n);
        *out_len = n;
    }
    OPENSSL_free(enc);
    ASN1_OCTET_STRING_free(a);
    return ok;
}

static struct amd_value read_value(const char *sfx, const uint8_t *p, size_t len)
{
    struct amd_value a;
    memset(&a, 0, sizeof a);
    if (strcmp(sfx, ".1.2") == 0) {
        a.ok = read_ia5(p, len, a.text, 64);
    } else if (strcmp(sfx, ".1.5") == 0) {
        a.ok = read_ia5(p, len, a.text, 256);
    } else if (strcmp(sfx, ".1.4") == 0) {
        a.ok = read_hwid(p, len, a.hwid, &a.hwid_len);
    } else {
        a.ok = read_int(p, len, &a.n);
    }
    return a;
}

/* The parser's answer for sfx agrees with OpenSSL's reading a (has = value present). */
static void check_value(const char *sfx, const struct amd_value *a,
                        const struct cvma_amd_cert_ext *e)
{
    if (strcmp(sfx, ".1.1") == 0) {
        CHECK(e->has_struct_version == a->ok);
        CHECK(!a->ok || e->struct_version == a->n);
    } else if (strcmp(sfx, ".1.2") == 0) {
        CHECK(e->has_product_name == a->ok);
        CHECK(!a->ok || strcmp(e->product_name, a->text) == 0);
    } else if (strcmp(sfx, ".1.5") == 0) {
        CHECK(e->has_csp_id == a->ok);
        CHECK(!a->ok || strcmp(e->csp_id, a->text) == 0);
    } else if (strcmp(sfx, ".1.4") == 0) {
        CHECK(e->has_hwid == a->ok);
        CHECK(!a->ok || (e->hwid_len == a->hwid_len && memcmp(e->hwid, a->hwid, 64) == 0));
    } else {
        int idx = sfx[5] - '0';
        CHECK(e->has_spl[idx] == a->ok);
        CHECK(!a->ok || e->spl[idx] == (uint8_t)a->n);
    }
}

/* Nothing but sfx is set in e. */
static void check_only(const char *sfx, const struct cvma_amd_cert_ext *e)
{
    struct amd_value none;
    memset(&none, 0, sizeof none);
    for (size_t i = 0; i < N_CERT_SUFFIXES; i++) {
        if (strcmp(cert_suffixes[i], sfx) != 0) {
            check_value(cert_suffixes[i], &none, e);
        }
    }
    CHECK(!e->has_spl[0]);
}

static void check_cert(const uint8_t *data, size_t size, const struct cvma_amd_cert_ext *ext,
                       enum cvma_status st)
{
    static const struct cvma_amd_cert_ext zero;
    const unsigned char *q = data;
    X509 *x = d2i_X509(NULL, &q, (long)size);
    bool want_ok = true;
    CHECK(x != NULL && (size_t)(q - data) == size);
    /* An OID seen again after its position: a duplicate, refused whatever the values. */
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        const ASN1_OBJECT *obj = X509_EXTENSION_get_object(X509_get_ext(x, i));
        if (X509_get_ext_by_OBJ(x, obj, i) >= 0) {
            want_ok = false;
        }
    }
    /* Every occurrence must be well formed (there is at most one when want_ok). */
    struct amd_value vals[N_CERT_SUFFIXES];
    memset(vals, 0, sizeof vals);
    for (size_t i = 0; i < N_CERT_SUFFIXES; i++) {
        char txt[64];
        snprintf(txt, sizeof txt, "1.3.6.1.4.1.3704%s", cert_suffixes[i]);
        ASN1_OBJECT *obj = OBJ_txt2obj(txt, 1);
        CHECK(obj != NULL);
        for (int pos = X509_get_ext_by_OBJ(x, obj, -1); pos >= 0;
             pos = X509_get_ext_by_OBJ(x, obj, pos)) {
            ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, pos));
            vals[i] = read_value(cert_suffixes[i], ASN1_STRING_get0_data(os),
                                 (size_t)ASN1_STRING_length(os));
            want_ok = want_ok && vals[i].ok;
        }
        ASN1_OBJECT_free(obj);
    }
    /* Accepted: each value as OpenSSL reads it (absent ones unset). */
    for (size_t i = 0; want_ok && i < N_CERT_SUFFIXES; i++) {
        check_value(cert_suffixes[i], &vals[i], ext);
    }
    CHECK((st == CVMA_OK) == want_ok);
    if (!want_ok) {
        CHECK(memcmp(ext, &zero, sizeof zero) == 0); /* refused: nothing given back */
    }
    X509_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_amd_cert_ext ext;
    struct cvma_verdict v;
    if (size == 0) {
        return 0;
    }
    cvma_verdict_init(&v);
    if (data[0] == 0x30) {
        X509 *x = cvma_x509_load(data, size);
        if (x != NULL) {
            memset(&ext, 0xA5, sizeof ext);
            enum cvma_status st = cvma_amd_cert_ext_parse(x, &ext, &v);
            CHECK(st == CVMA_OK || st == CVMA_REJECTED);
            CHECK((st == CVMA_REJECTED) == cvma_verdict_has(&v, CVMA_R_CERT_EXTENSION_INVALID));
            check_cert(data, size, &ext, st);
            X509_free(x);
        }
    } else {
        const char *sfx = suffixes[data[0] % N_SUFFIXES];
        memset(&ext, 0, sizeof ext);
        enum cvma_status st = cvma_amd_cert_ext_value(sfx, data + 1, size - 1, &ext, &v);
        struct amd_value a = read_value(sfx, data + 1, size - 1);
        CHECK(st == CVMA_OK || st == CVMA_REJECTED);
        CHECK((st == CVMA_OK) == a.ok);
        CHECK((st == CVMA_REJECTED) == cvma_verdict_has(&v, CVMA_R_CERT_EXTENSION_INVALID));
        check_value(sfx, &a, &ext);
        check_only(sfx, &ext);
    }
    cvma_verdict_cleanup(&v);
    return 0;
}
