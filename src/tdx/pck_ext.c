/*
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1; Intel SGX PCK
 * Certificate and CRL Profile). OpenSSL finds the
 * extension; its value is walked here with our own DER reader over the bounds-checked cursor,
 * as src/snp/amd_cert.c does for AMD's: a SEQUENCE OF SEQUENCE { OID, value }, with TCB
 * (.1.2) and Configuration (.1.7) nesting the same shape.
 *
 * Strict DER: definite lengths in minimal form (short, 0x81, 0x82: the extension is a few
 * hundred bytes), single-byte tags, minimal non-negative INTEGERs, BOOLEAN 0x00/0xFF. OIDs are
 * compared as their DER content bytes. Unknown OIDs are ignored (Intel may add fields); a
 * known OID that appears twice, has the wrong type or size, or a required one that is
 * missing, gives CERT_EXTENSION_INVALID naming it.
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/der.h"
#include "common/reader.h"
#include "tdx/tdx.h"

#define SGX_DOTTED "1.2.840.113741.1.13.1"
/* DER content bytes of 1.2.840.113741.1.13.1 */
#define SGX_ARC 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01

#define TAG_BOOLEAN    0x01
#define TAG_INTEGER    0x02
#define TAG_OCTETS     0x04
#define TAG_OID        0x06
#define TAG_ENUMERATED 0x0a
#define TAG_SEQUENCE   0x30

static const uint8_t oid_sgx_ext[] = {SGX_ARC};

/* Top-level entries. */
enum top_field { F_PPID, F_TCB, F_PCEID, F_FMSPC, F_SGX_TYPE, F_PIID, F_CONFIG, F_COUNT };
static const struct {
    uint8_t oid[10];
    const char *name;
    const char *arc; /* dotted, after SGX_DOTTED */
    bool required;
} top_fields[F_COUNT] = {
        [F_PPID] = {{SGX_ARC, 0x01}, "PPID", ".1", true},
        [F_TCB] = {{SGX_ARC, 0x02}, "TCB", ".2", true},
        [F_PCEID] = {{SGX_ARC, 0x03}, "PCE-ID", ".3", true},
        [F_FMSPC] = {{SGX_ARC, 0x04}, "FMSPC", ".4", true},
        [F_SGX_TYPE] = {{SGX_ARC, 0x05}, "SGX Type", ".5", true},
        [F_PIID] = {{SGX_ARC, 0x06}, "Platform Instance ID", ".6", false},
        [F_CONFIG] = {{SGX_ARC, 0x07}, "Configuration", ".7", false},
};

/* TCB entries: SGX_ARC .2.n, n = 1..16 component SVNs, 17 PCESVN, 18 CPUSVN. */
static const uint8_t oid_tcb_prefix[] = {SGX_ARC, 0x02};
#define TCB_PCESVN 17
#define TCB_CPUSVN 18
/* Configuration entries: SGX_ARC .7.n, n = 1 dynamic platform, 2 cached keys, 3 SMT enabled. */
static const uint8_t oid_config_prefix[] = {SGX_ARC, 0x07};
static const char *const config_names[4] = {NULL, "Dynamic Platform", "Cached Keys", "SMT Enabled"};

/* The content bytes of an OBJECT IDENTIFIER, compared byte for byte. */
static bool oid_eq(const struct cvma_span *oid, const uint8_t *want, size_t n)
{
    return oid->len == n && memcmp(oid->p, want, n) == 0;
}

/* Last arc (1..127) of an OID that is prefix || arc, else 0. */
static unsigned oid_child(const struct cvma_span *oid, const uint8_t *prefix, size_t n)
{
    if (oid->len != n + 1 || memcmp(oid->p, prefix, n) != 0 || oid->p[n] >= 0x80) {
        return 0;
    }
    return oid->p[n];
}

/*
 * The next SEQUENCE { OID, value } of a SEQUENCE OF. Returns 1 with a pair, 0 at the end of
 * seq, -1 when the entry is malformed.
 */
static int next_pair(struct cvma_reader *seq, struct cvma_span *oid, struct cvma_der *val)
{
    struct cvma_der entry, o;
    if (cvma_reader_at_end(seq)) {
        return 0;
    }
    if (!cvma_der_read(seq, &entry) || entry.tag != TAG_SEQUENCE ||
        !cvma_der_read(&entry.val, &o) || o.tag != TAG_OID || cvma_reader_left(&o.val) == 0 ||
        !cvma_der_read(&entry.val, val) || !cvma_reader_at_end(&entry.val)) {
        return -1;
    }
    cvma_reader_rest(&o.val, oid);
    return 1;
}

/* OCTET STRING of exactly n bytes, copied into out. */
static bool der_octets(struct cvma_der *t, uint8_t *out, size_t n)
{
    return t->tag == TAG_OCTETS && cvma_reader_left(&t->val) == n &&
           cvma_reader_bytes(&t->val, out, n);
}

/* INTEGER (or ENUMERATED) in 0..max: minimal, non-negative (0x00 lead byte for >= 0x80). */
static bool der_uint(struct cvma_der *t, uint8_t tag, unsigned long max, unsigned long *out)
{
    size_t n = cvma_reader_left(&t->val);
    uint8_t b0 = 0, b1 = 0, b;
    unsigned long x = 0;

    *out = 0;
    if (t->tag != tag || n == 0 || n > 3) {
        return false;
    }
    struct cvma_reader peek = t->val;
    if (!cvma_reader_u8(&peek, &b0)) {
        return false;
    }
    if (b0 & 0x80) {
        return false; /* negative */
    }
    if (n > 1 && (!cvma_reader_u8(&peek, &b1) || (b0 == 0 && !(b1 & 0x80)))) {
        return false; /* non-minimal */
    }
    while (cvma_reader_u8(&t->val, &b)) {
        x = x << 8 | b;
    }
    if (x > max) {
        return false;
    }
    *out = x;
    return true;
}

/* DER BOOLEAN: one byte, 0x00 or 0xFF. */
static bool der_bool(struct cvma_der *t, int *out)
{
    uint8_t b;
    if (t->tag != TAG_BOOLEAN || cvma_reader_left(&t->val) != 1 || !cvma_reader_u8(&t->val, &b) ||
        (b != 0x00 && b != 0xff)) {
        return false;
    }
    *out = b == 0xff;
    return true;
}

static enum cvma_status invalid(struct cvma_verdict *v, const char *name, const char *arc,
                                const char *what)
{
    return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                       "PCK SGX extension: %s (" SGX_DOTTED "%s) %s", name, arc, what);
}

static enum cvma_status tcb_invalid(struct cvma_verdict *v, unsigned n, const char *what)
{
    if (n == TCB_PCESVN) {
        return invalid(v, "PCESVN", ".2.17", what);
    }
    if (n == TCB_CPUSVN) {
        return invalid(v, "CPUSVN", ".2.18", what);
    }
    return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                       "PCK SGX extension: SGX TCB COMP%02u SVN (" SGX_DOTTED ".2.%u) %s", n, n,
                       what);
}

/* TCB (.1.2): SEQUENCE OF { OID .2.n, value }, n = 1..18 all required. */
static enum cvma_status parse_tcb(struct cvma_der *t, struct cvma_pck_ext *e,
                                  struct cvma_verdict *v)
{
    uint32_t seen = 0;
    struct cvma_span oid;
    struct cvma_der val;
    unsigned long x;
    int k;

    if (t->tag != TAG_SEQUENCE) {
        return invalid(v, "TCB", ".2", "is not a SEQUENCE");
    }
    while ((k = next_pair(&t->val, &oid, &val)) == 1) {
        unsigned n = oid_child(&oid, oid_tcb_prefix, sizeof oid_tcb_prefix);
        if (n < 1 || n > TCB_CPUSVN) {
            continue; /* unknown: ignored */
        }
        if (seen & (1u << n)) {
            return tcb_invalid(v, n, "appears twice");
        }
        seen |= 1u << n;
        if (n == TCB_CPUSVN) {
            if (!der_octets(&val, e->cpusvn, sizeof e->cpusvn)) {
                return tcb_invalid(v, n, "is not an OCTET STRING of 16 bytes");
            }
        } else if (n == TCB_PCESVN) {
            if (!der_uint(&val, TAG_INTEGER, 65535, &x)) {
                return tcb_invalid(v, n, "is not a DER INTEGER in 0..65535");
            }
            e->pcesvn = (uint16_t)x;
        } else {
            if (!der_uint(&val, TAG_INTEGER, 255, &x)) {
                return tcb_invalid(v, n, "is not a DER INTEGER in 0..255");
            }
            e->sgx_tcb_comp[n - 1] = (uint8_t)x;
        }
    }
    if (k < 0) {
        return invalid(v, "TCB", ".2", "has an entry that is not a DER SEQUENCE { OID, value }");
    }
    for (unsigned n = 1; n <= TCB_CPUSVN; n++) {
        if (!(seen & (1u << n))) {
            return tcb_invalid(v, n, "is missing");
        }
    }
    return CVMA_OK;
}

/* Configuration (.1.7): SEQUENCE OF { OID .7.n, BOOLEAN }, each optional. */
static enum cvma_status parse_config(struct cvma_der *t, struct cvma_pck_ext *e,
                                     struct cvma_verdict *v)
{
    struct cvma_span oid;
    struct cvma_der val;
    int k;
    int *slots[4] = {NULL, &e->dynamic_platform, &e->cached_keys, &e->smt_enabled};
    static const char *const arcs[4] = {NULL, ".7.1", ".7.2", ".7.3"};

    if (t->tag != TAG_SEQUENCE) {
        return invalid(v, "Configuration", ".7", "is not a SEQUENCE");
    }
    while ((k = next_pair(&t->val, &oid, &val)) == 1) {
        unsigned n = oid_child(&oid, oid_config_prefix, sizeof oid_config_prefix);
        if (n < 1 || n > 3) {
            continue;
        }
        if (*slots[n] != -1) {
            return invalid(v, config_names[n], arcs[n], "appears twice");
        }
        if (!der_bool(&val, slots[n])) {
            return invalid(v, config_names[n], arcs[n], "is not a DER BOOLEAN");
        }
    }
    if (k < 0) {
        return invalid(v, "Configuration", ".7",
                       "has an entry that is not a DER SEQUENCE { OID, value }");
    }
    e->has_configuration = true;
    return CVMA_OK;
}

static enum cvma_status parse_top(enum top_field f, struct cvma_der *val, struct cvma_pck_ext *e,
                                  struct cvma_verdict *v)
{
    const char *name = top_fields[f].name, *arc = top_fields[f].arc;
    unsigned long x;

    switch (f) {
    case F_PPID:
        return der_octets(val, e->ppid, sizeof e->ppid)
                       ? CVMA_OK
                       : invalid(v, name, arc, "is not an OCTET STRING of 16 bytes");
    case F_TCB:
        return parse_tcb(val, e, v);
    case F_PCEID:
        return der_octets(val, e->pceid, sizeof e->pceid)
                       ? CVMA_OK
                       : invalid(v, name, arc, "is not an OCTET STRING of 2 bytes");
    case F_FMSPC:
        return der_octets(val, e->fmspc, sizeof e->fmspc)
                       ? CVMA_OK
                       : invalid(v, name, arc, "is not an OCTET STRING of 6 bytes");
    case F_SGX_TYPE:
        /* 0 Standard, 1 Scalable, 2 ScalableWithIntegrity (QVL enum SgxType). */
        if (!der_uint(val, TAG_ENUMERATED, 2, &x)) {
            return invalid(v, name, arc, "is not a DER ENUMERATED in 0..2");
        }
        e->sgx_type = (int)x;
        return CVMA_OK;
    case F_PIID:
        if (!der_octets(val, e->platform_instance_id, sizeof e->platform_instance_id)) {
            return invalid(v, name, arc, "is not an OCTET STRING of 16 bytes");
        }
        e->has_platform_instance_id = true;
        return CVMA_OK;
    case F_CONFIG:
        return parse_config(val, e, v);
    case F_COUNT:
        break;
    }
    return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID, "PCK SGX extension: internal field %d",
                       (int)f);
}

static void pck_ext_clear(struct cvma_pck_ext *e)
{
    memset(e, 0, sizeof *e);
    e->dynamic_platform = -1;
    e->cached_keys = -1;
    e->smt_enabled = -1;
}

/* see tdx/tdx.h */
enum cvma_status cvma_pck_ext_parse_der(const uint8_t *p, size_t len, struct cvma_pck_ext *out,
                                        struct cvma_verdict *v)
{
    struct cvma_pck_ext e;
    struct cvma_reader r;
    struct cvma_der top, val;
    struct cvma_span oid;
    unsigned seen = 0;
    enum cvma_status st;
    int k;

    pck_ext_clear(out);
    pck_ext_clear(&e);
    if (p == NULL) {
        len = 0;
        p = (const uint8_t *)"";
    }
    cvma_reader_init(&r, p, len);
    if (!cvma_der_read(&r, &top) || top.tag != TAG_SEQUENCE || !cvma_reader_at_end(&r)) {
        return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                           "PCK SGX extension (" SGX_DOTTED "): %zu bytes that are not exactly "
                           "one DER SEQUENCE",
                           len);
    }
    while ((k = next_pair(&top.val, &oid, &val)) == 1) {
        enum top_field f;
        for (f = 0; f < F_COUNT; f++) {
            if (oid_eq(&oid, top_fields[f].oid, sizeof top_fields[f].oid)) {
                break;
            }
        }
        if (f == F_COUNT) {
            continue; /* unknown: ignored */
        }
        if (seen & (1u << f)) {
            return invalid(v, top_fields[f].name, top_fields[f].arc, "appears twice");
        }
        seen |= 1u << f;
        if ((st = parse_top(f, &val, &e, v)) != CVMA_OK) {
            return st;
        }
    }
    if (k < 0) {
        return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                           "PCK SGX extension (" SGX_DOTTED "): an entry at offset %zu is not "
                           "a DER SEQUENCE { OID, value }",
                           (size_t)(top.val.p - p) + top.val.off);
    }
    for (unsigned f = 0; f < F_COUNT; f++) {
        if (top_fields[f].required && !(seen & (1u << f))) {
            return invalid(v, top_fields[f].name, top_fields[f].arc, "is missing");
        }
    }
    *out = e;
    return CVMA_OK;
}

/* see tdx/tdx.h */
enum cvma_status cvma_pck_ext_parse(X509 *cert, struct cvma_pck_ext *out, struct cvma_verdict *v)
{
    X509_EXTENSION *found = NULL;

    pck_ext_clear(out);
    if (cert == NULL) {
        return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                           "PCK SGX extension (" SGX_DOTTED "): no certificate");
    }
    int n = X509_get_ext_count(cert);
    for (int i = 0; i < n; i++) {
        X509_EXTENSION *ext = X509_get_ext(cert, i);
        const ASN1_OBJECT *obj = ext != NULL ? X509_EXTENSION_get_object(ext) : NULL;
        const unsigned char *d = obj != NULL ? OBJ_get0_data(obj) : NULL;
        if (d == NULL || OBJ_length(obj) != sizeof oid_sgx_ext ||
            memcmp(d, oid_sgx_ext, sizeof oid_sgx_ext) != 0) {
            continue;
        }
        if (found != NULL) {
            return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                               "PCK SGX extension (" SGX_DOTTED "): appears twice");
        }
        found = ext;
    }
    if (found == NULL) {
        return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                           "PCK SGX extension (" SGX_DOTTED "): missing from the certificate");
    }
    const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(found);
    int olen = os != NULL ? ASN1_STRING_length(os) : -1;
    if (olen < 0) {
        return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                           "PCK SGX extension (" SGX_DOTTED "): no value");
    }
    return cvma_pck_ext_parse_der(ASN1_STRING_get0_data(os), (size_t)olen, out, v);
}
