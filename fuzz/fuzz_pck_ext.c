/*
 * libFuzzer target: the PCK certificate's SGX extension walk (our DER reader) on raw bytes,
 * i.e. the extension value as it stands inside the certificate's OCTET STRING; and, when the
 * input is a whole DER certificate, the same through cvma_pck_ext_parse.
 *
 * Each answer is checked against OpenSSL's own reading (Intel SGX PCK Certificate and CRL
 * Profile; OIDs of the fact sheet, 1.2.840.113741.1.13.1): TLVs through ASN1_get_object
 * (definite, minimal lengths and one-byte tags, as DER wants), OIDs through d2i_ASN1_OBJECT
 * and OBJ_cmp, values through d2i_ASN1_INTEGER / _ENUMERATED / _OCTET_STRING / ASN1_TYPE
 * (BOOLEAN) re-encoded to the same bytes, and the certificate through d2i_X509 and
 * X509_get_ext_by_OBJ. Acceptance must match (known OIDs at most once, with their type and
 * size, the required ones present, unknown ones ignored), and so must every value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "fuzz_check.h"
#include "tdx/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SGX "1.2.840.113741.1.13.1"

/* One DER TLV at p[0..len): its whole size, tag byte and content. */
struct tlv {
    uint8_t tag;
    const uint8_t *val;
    size_t val_len;
    size_t size;
};

/* OpenSSL's ASN1_get_object, held to DER: definite minimal length, one-byte tag. */
static bool read_tlv(const uint8_t *p, size_t len, struct tlv *t)
{
    const unsigned char *q = p;
    long plen = 0;
    int tag = 0, cls = 0;
    if (len == 0 || len > 0x7fffffff) {
        return false;
    }
    int ret = ASN1_get_object(&q, &plen, &tag, &cls, (long)len);
    if ((ret & 0x80) != 0 || ret == 0x21 || plen < 0 || plen > 0xffff) {
        return false; /* error, indefinite length, or longer than the reader takes */
    }
    size_t hl = (size_t)(q - p);
    size_t want_hl = plen < 0x80 ? 2 : plen < 0x100 ? 3 : 4;
    if (hl != want_hl || (size_t)plen > len - hl || tag >= 31) {
        return false;
    }
    t->tag = p[0];
    CHECK((t->tag & 0x1f) == tag && (t->tag & 0xc0) == cls &&
          ((t->tag & 0x20) != 0) == (ret == 0x20));
    t->val = q;
    t->val_len = (size_t)plen;
    t->size = hl + (size_t)plen;
    return true;
}

/* The next SEQUENCE { OID, value } in *p..end: 1 with a pair, 0 at the end, -1 malformed. */
static int next_pair(const uint8_t **p, const uint8_t *end, ASN1_OBJECT **oid, struct tlv *val)
{
    struct tlv e, o;
    *oid = NULL;
    if (*p == end) {
        return 0;
    }
    if (!read_tlv(*p, (size_t)(end - *p), &e) || e.tag != 0x30 || !read_tlv(e.val, e.val_len, &o) ||
        o.tag != 0x06 || o.val_len == 0 || !read_tlv(e.val + o.size, e.val_len - o.size, val) ||
        o.size + val->size != e.val_len) {
        return -1;
    }
    const unsigned char *q = e.val;
    *oid = d2i_ASN1_OBJECT(NULL, &q, (long)o.size); /* NULL: no OID OpenSSL knows how to read */
    *p += e.size;
    return 1;
}

static bool oid_is(const ASN1_OBJECT *o, const char *dotted)
{
    ASN1_OBJECT *w = OBJ_txt2obj(dotted, 1);
    bool eq = o != NULL && w != NULL && OBJ_cmp(o, w) == 0;
    ASN1_OBJECT_free(w);
    return eq;
}

/* INTEGER or ENUMERATED in 0..max, exactly DER. */
static bool read_uint(const struct tlv *t, bool enumerated, long max, long *out)
{
    const unsigned char *q = t->val - (t->size - t->val_len);
    const unsigned char *start = q;
    unsigned char *enc = NULL;
    int64_t n = -1;
    bool ok = false;
    *out = 0;
    if (enumerated) {
        ASN1_ENUMERATED *a = d2i_ASN1_ENUMERATED(NULL, &q, (long)t->size);
        ok = a != NULL && (size_t)(q - start) == t->size &&
             i2d_ASN1_ENUMERATED(a, &enc) == (int)t->size && memcmp(enc, start, t->size) == 0 &&
             ASN1_ENUMERATED_get_int64(&n, a) == 1;
        ASN1_ENUMERATED_free(a);
    } else {
        ASN1_INTEGER *a = d2i_ASN1_INTEGER(NULL, &q, (long)t->size);
        ok = a != NULL && (size_t)(q - start) == t->size &&
             i2d_ASN1_INTEGER(a, &enc) == (int)t->size && memcmp(enc, start, t->size) == 0 &&
             ASN1_INTEGER_get_int64(&n, a) == 1;
        ASN1_INTEGER_free(a);
    }
    OPENSSL_free(enc);
    ok = ok && n >= 0 && n <= max;
    *out = ok ? (long)n : 0;
    return ok;
}

/* OCTET STRING of exactly n bytes, exactly DER. */
static bool read_octets(const struct tlv *t, uint8_t *out, size_t n)
{
    const unsigned char *start = t->val - (t->size - t->val_len), *q = start;
    unsigned char *enc = NULL;
    ASN1_OCTET_STRING *a = d2i_ASN1_OCTET_STRING(NULL, &q, (long)t->size);
    bool ok = a != NULL && (size_t)(q - start) == t->size &&
              i2d_ASN1_OCTET_STRING(a, &enc) == (int)t->size && memcmp(enc, start, t->size) == 0 &&
              (size_t)ASN1_STRING_length(a) == n;
    if (ok) {
        memcpy(out, ASN1_STRING_get0_data(a), n);
    }
    OPENSSL_free(enc);
    ASN1_OCTET_STRING_free(a);
    return ok;
}

/* BOOLEAN, exactly DER (0x00 or 0xFF). */
static bool read_bool(const struct tlv *t, int *out)
{
    const unsigned char *start = t->val - (t->size - t->val_len), *q = start;
    unsigned char *enc = NULL;
    ASN1_TYPE *a = d2i_ASN1_TYPE(NULL, &q, (long)t->size);
    bool ok = a != NULL && ASN1_TYPE_get(a) == V_ASN1_BOOLEAN && (size_t)(q - start) == t->size &&
              i2d_ASN1_TYPE(a, &enc) == (int)t->size && memcmp(enc, start, t->size) == 0;
    /* OpenSSL keeps (and re-encodes) BER's any-non-zero TRUE; DER wants 0xFF (X.690 11.1). */
    ok = ok && (a->value.boolean == 0 || a->value.boolean == 0xff);
    if (ok) {
        *out = a->value.boolean != 0;
    }
    OPENSSL_free(enc);
    ASN1_TYPE_free(a);
    return ok;
}

/* TCB (.1.2): components .2.1..16, PCESVN .2.17, CPUSVN .2.18, each exactly once. */
static bool read_tcb(const struct tlv *t, struct cvma_pck_ext *e)
{
    const uint8_t *p = t->val, *end = t->val + t->val_len;
    bool seen[19] = {false};
    bool ok = t->tag == 0x30;
    ASN1_OBJECT *oid;
    struct tlv val;
    int k;
    while (ok && (k = next_pair(&p, end, &oid, &val)) == 1) {
        for (unsigned n = 1; ok && n <= 18; n++) {
            char dotted[64];
            long x = 0;
            snprintf(dotted, sizeof dotted, SGX ".2.%u", n);
            if (!oid_is(oid, dotted)) {
                continue;
            }
            ok = !seen[n];
            seen[n] = true;
            if (n == 18) {
                ok = ok && read_octets(&val, e->cpusvn, 16);
            } else if (n == 17) {
                ok = ok && read_uint(&val, false, 65535, &x);
                e->pcesvn = (uint16_t)x;
            } else {
                ok = ok && read_uint(&val, false, 255, &x);
                e->sgx_tcb_comp[n - 1] = (uint8_t)x;
            }
        }
        ASN1_OBJECT_free(oid);
    }
    ok = ok && k == 0;
    for (unsigned n = 1; ok && n <= 18; n++) {
        ok = seen[n];
    }
    return ok;
}

/* Configuration (.1.7): .7.1..3, each a BOOLEAN at most once. */
static bool read_config(const struct tlv *t, struct cvma_pck_ext *e)
{
    const uint8_t *p = t->val, *end = t->val + t->val_len;
    int *slot[4] = {NULL, &e->dynamic_platform, &e->cached_keys, &e->smt_enabled};
    bool ok = t->tag == 0x30;
    ASN1_OBJECT *oid;
    struct tlv val;
    int k;
    while (ok && (k = next_pair(&p, end, &oid, &val)) == 1) {
        for (unsigned n = 1; ok && n <= 3; n++) {
            char dotted[64];
            snprintf(dotted, sizeof dotted, SGX ".7.%u", n);
            if (oid_is(oid, dotted)) {
                ok = *slot[n] == -1 && read_bool(&val, slot[n]);
            }
        }
        ASN1_OBJECT_free(oid);
    }
    e->has_configuration = ok && k == 0;
    return ok && k == 0;
}

/* The extension value as OpenSSL reads it; false when the parser must refuse it. */
static bool read_ext(const uint8_t *p, size_t len, struct cvma_pck_ext *e)
{
    static const char *const arcs[7] = {".1", ".2", ".3", ".4", ".5", ".6", ".7"};
    struct tlv top, val;
    bool seen[7] = {false};
    ASN1_OBJECT *oid;
    int k;
    memset(e, 0, sizeof *e);
    e->dynamic_platform = e->cached_keys = e->smt_enabled = -1;
    if (!read_tlv(p, len, &top) || top.tag != 0x30 || top.size != len) {
        return false;
    }
    const uint8_t *q = top.val, *end = top.val + top.val_len;
    bool ok = true;
    while (ok && (k = next_pair(&q, end, &oid, &val)) == 1) {
        for (int f = 0; ok && f < 7; f++) {
            char dotted[64];
            long x = 0;
            snprintf(dotted, sizeof dotted, SGX "%s", arcs[f]);
            if (!oid_is(oid, dotted)) {
                continue;
            }
            ok = !seen[f];
            seen[f] = true;
            switch (f) {
            case 0:
                ok = ok && read_octets(&val, e->ppid, 16);
                break;
            case 1:
                ok = ok && read_tcb(&val, e);
                break;
            case 2:
                ok = ok && read_octets(&val, e->pceid, 2);
                break;
            case 3:
                ok = ok && read_octets(&val, e->fmspc, 6);
                break;
            case 4:
                ok = ok && read_uint(&val, true, 2, &x);
                e->sgx_type = (int)x;
                break;
            case 5:
                ok = ok && read_octets(&val, e->platform_instance_id, 16);
                e->has_platform_instance_id = ok;
                break;
            default:
                ok = ok && read_config(&val, e);
                break;
            }
        }
        ASN1_OBJECT_free(oid);
    }
    if (!ok || k != 0) {
        return false;
    }
    for (int f = 0; f < 5; f++) { /* PPID, TCB, PCE-ID, FMSPC, SGX Type are required */
        if (!seen[f]) {
            return false;
        }
    }
    return true;
}

static void check_same(const struct cvma_pck_ext *got, const struct cvma_pck_ext *want)
{
    CHECK(memcmp(got->ppid, want->ppid, 16) == 0);
    CHECK(memcmp(got->sgx_tcb_comp, want->sgx_tcb_comp, 16) == 0);
    CHECK(got->pcesvn == want->pcesvn);
    CHECK(memcmp(got->cpusvn, want->cpusvn, 16) == 0);
    CHECK(memcmp(got->pceid, want->pceid, 2) == 0);
    CHECK(memcmp(got->fmspc, want->fmspc, 6) == 0);
    CHECK(got->sgx_type == want->sgx_type);
    CHECK(got->has_platform_instance_id == want->has_platform_instance_id);
    CHECK(memcmp(got->platform_instance_id, want->platform_instance_id, 16) == 0);
    CHECK(got->has_configuration == want->has_configuration);
    CHECK(got->dynamic_platform == want->dynamic_platform);
    CHECK(got->cached_keys == want->cached_keys);
    CHECK(got->smt_enabled == want->smt_enabled);
}

/* On refusal the output is cleared: nothing set, the Configuration flags "absent". */
static void check_cleared(const struct cvma_pck_ext *e)
{
    struct cvma_pck_ext z;
    memset(&z, 0, sizeof z);
    z.dynamic_platform = z.cached_keys = z.smt_enabled = -1;
    check_same(e, &z);
}

/* The claims JSON shows the values. */
static void check_json(const struct cvma_pck_ext *e)
{
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    json_t *o = q != NULL ? cvma_tdx_quote_json(q, e) : NULL;
    if (o != NULL) {
        const json_t *comps = json_object_get(o, "sgx_tcb_components");
        CHECK(fz_hex_is(fz_jstr(o, "ppid"), e->ppid, 16));
        CHECK(fz_hex_is(fz_jstr(o, "fmspc"), e->fmspc, 6));
        CHECK(fz_hex_is(fz_jstr(o, "pceid"), e->pceid, 2));
        CHECK(fz_hex_is(fz_jstr(o, "cpusvn"), e->cpusvn, 16));
        CHECK(fz_jint_is(o, "pcesvn", e->pcesvn));
        CHECK(json_array_size(comps) == 16);
        for (size_t i = 0; i < 16; i++) {
            CHECK(json_integer_value(json_array_get(comps, i)) == e->sgx_tcb_comp[i]);
        }
    }
    json_decref(o);
    free(q);
}

/* A whole certificate: the extension found by OpenSSL, exactly once. */
static void check_cert(const uint8_t *data, size_t size)
{
    X509 *x = cvma_x509_load(data, size);
    struct cvma_pck_ext got, want;
    struct cvma_verdict v;
    if (x == NULL) {
        return;
    }
    const unsigned char *q = data;
    X509 *mine = d2i_X509(NULL, &q, (long)size);
    ASN1_OBJECT *obj = OBJ_txt2obj(SGX, 1);
    CHECK(mine != NULL && obj != NULL);
    int pos = X509_get_ext_by_OBJ(mine, obj, -1);
    bool want_ok = pos >= 0 && X509_get_ext_by_OBJ(mine, obj, pos) < 0;
    if (want_ok) {
        const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(mine, pos));
        want_ok = read_ext(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), &want);
    }
    cvma_verdict_init(&v);
    enum cvma_status st = cvma_pck_ext_parse(x, &got, &v);
    CHECK((st == CVMA_OK) == want_ok);
    CHECK((st == CVMA_REJECTED) == cvma_verdict_has(&v, CVMA_R_CERT_EXTENSION_INVALID));
    if (want_ok) {
        check_same(&got, &want);
    } else {
        check_cleared(&got);
    }
    cvma_verdict_cleanup(&v);
    ASN1_OBJECT_free(obj);
    X509_free(mine);
    X509_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_pck_ext e, want;
    struct cvma_verdict v;
    bool want_ok = read_ext(data, size, &want);
    cvma_verdict_init(&v);
    memset(&e, 0xA5, sizeof e);
    enum cvma_status st = cvma_pck_ext_parse_der(data, size, &e, &v);
    CHECK(st == CVMA_OK || st == CVMA_REJECTED);
    CHECK((st == CVMA_OK) == want_ok);
    CHECK((st == CVMA_REJECTED) == cvma_verdict_has(&v, CVMA_R_CERT_EXTENSION_INVALID));
    if (st == CVMA_OK) {
        check_same(&e, &want);
        check_json(&e);
    } else {
        check_cleared(&e);
    }
    cvma_verdict_cleanup(&v);
    check_cert(data, size);
    return 0;
}
