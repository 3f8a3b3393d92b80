/*
 * AMD VCEK/VLEK extension values. Encodings seen on real certificates: INTEGERs as DER
 * (`02 01 xx`, or `02 02 00 xx` for values >= 0x80), productName and csp_id as IA5String,
 * hwID as the raw 64 (or 8) bytes with no tag; an OCTET STRING-wrapped hwID is also read.
 */
#include "snp/amd_cert.h"

#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "common/der.h"
#include "common/reader.h"

#define AMD_ARC "1.3.6.1.4.1.3704" /* extensions are AMD_ARC.1.x */

/* The whole value must be exactly one TLV of the wanted tag. */
static bool der_only(const uint8_t *p, size_t len, uint8_t tag, struct cvma_span *out)
{
    struct cvma_reader r;
    struct cvma_der t;
    cvma_reader_init(&r, p, len);
    if (!cvma_der_read(&r, &t) || t.tag != tag || !cvma_reader_at_end(&r)) {
        return false;
    }
    cvma_reader_rest(&t.val, out);
    return true;
}

/* DER INTEGER in 0..max (minimal encoding, non-negative). */
static bool der_small_uint(const uint8_t *p, size_t len, long max, long *out)
{
    struct cvma_span s;
    long v = 0;
    *out = 0;
    if (!der_only(p, len, 0x02, &s) || s.len == 0 || s.len > 3) {
        return false;
    }
    if (s.p[0] & 0x80) {
        return false; /* negative */
    }
    if (s.len > 1 && s.p[0] == 0 && !(s.p[1] & 0x80)) {
        return false; /* non-minimal */
    }
    for (size_t i = 0; i < s.len; i++) {
        v = v << 8 | s.p[i];
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool der_ia5(const uint8_t *p, size_t len, char *out, size_t out_len)
{
    struct cvma_span s;
    out[0] = '\0';
    if (!der_only(p, len, 0x16, &s) || s.len >= out_len) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < 0x20 || s.p[i] > 0x7e) {
            return false; /* printable ASCII only: these names end up in output */
        }
        out[i] = (char)s.p[i];
    }
    out[s.len] = '\0';
    return true;
}

enum cvma_status cvma_amd_cert_ext_value(const char *suffix, const uint8_t *p, size_t len,
                                         struct cvma_amd_cert_ext *out, struct cvma_verdict *v)
{
    long n;
    if (strcmp(suffix, ".1.1") == 0) {
        if (!der_small_uint(p, len, 255, &n)) {
            return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                               "AMD cert: structVersion (" AMD_ARC ".1.1) is not a small INTEGER");
        }
        out->has_struct_version = true;
        out->struct_version = n;
        return CVMA_OK;
    }
    if (strcmp(suffix, ".1.2") == 0) {
        if (!der_ia5(p, len, out->product_name, sizeof out->product_name)) {
            return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                               "AMD cert: productName (" AMD_ARC ".1.2) is not a printable "
                               "IA5String");
        }
        out->has_product_name = true;
        return CVMA_OK;
    }
    if (strncmp(suffix, ".1.3.", 5) == 0 && suffix[5] >= '1' && suffix[5] <= '9' &&
        suffix[6] == '\0') {
        int idx = suffix[5] - '0';
        if (!der_small_uint(p, len, 255, &n)) {
            return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                               "AMD cert: SPL " AMD_ARC "%s is not an INTEGER in 0..255", suffix);
        }
        out->has_spl[idx] = true;
        out->spl[idx] = (uint8_t)n;
        return CVMA_OK;
    }
    if (strcmp(suffix, ".1.4") == 0) {
        struct cvma_span s = {p, len};
        struct cvma_span inner;
        /* Raw bytes as AMD issues them; an OCTET STRING wrapper is tolerated. */
        if ((len == 66 || len == 10) && der_only(p, len, 0x04, &inner)) {
            s = inner;
        }
        if (s.len != 64 && s.len != 8) {
            return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                               "AMD cert: hwID (" AMD_ARC ".1.4) has %zu bytes, expected 64 "
                               "(Milan, Genoa) or 8 (Turin)",
                               s.len);
        }
        memset(out->hwid, 0, sizeof out->hwid);
        memcpy(out->hwid, s.p, s.len);
        out->hwid_len = s.len;
        out->has_hwid = true;
        return CVMA_OK;
    }
    if (strcmp(suffix, ".1.5") == 0) {
        if (!der_ia5(p, len, out->csp_id, sizeof out->csp_id)) {
            return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                               "AMD cert: csp_id (" AMD_ARC ".1.5) is not a printable "
                               "IA5String");
        }
        out->has_csp_id = true;
        return CVMA_OK;
    }
    return CVMA_OK; /* other AMD arcs: not interpreted */
}

/*
 * RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a particular
 * extension." OpenSSL's chain verification (3.0) refuses a duplicate only among the
 * extensions it decodes itself (basicConstraints, keyUsage...), not an AMD one: without this
 * a second hwID or SPL would silently replace the first. Any OID given twice is refused.
 */
static enum cvma_status refuse_duplicates(X509 *cert, int n, struct cvma_verdict *v)
{
    char oid[80];
    for (int i = 1; i < n; i++) {
        const ASN1_OBJECT *obj = X509_EXTENSION_get_object(X509_get_ext(cert, i));
        for (int j = 0; j < i; j++) {
            if (OBJ_cmp(obj, X509_EXTENSION_get_object(X509_get_ext(cert, j))) != 0) {
                continue;
            }
            if (OBJ_obj2txt(oid, sizeof oid, obj, 1) <= 0) {
                oid[0] = '\0';
            }
            return cvma_reject(v, CVMA_R_CERT_EXTENSION_INVALID,
                               "AMD cert: extension %s appears more than once (extensions %d "
                               "and %d; RFC 5280 4.2 allows one)",
                               oid, j + 1, i + 1);
        }
    }
    return CVMA_OK;
}

enum cvma_status cvma_amd_cert_ext_parse(X509 *cert, struct cvma_amd_cert_ext *out,
                                         struct cvma_verdict *v)
{
    char oid[80];
    enum cvma_status st = CVMA_OK;
    memset(out, 0, sizeof *out);
    int n = X509_get_ext_count(cert);
    if ((st = refuse_duplicates(cert, n, v)) != CVMA_OK) {
        return st;
    }
    for (int i = 0; i < n; i++) {
        X509_EXTENSION *ext = X509_get_ext(cert, i);
        ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
        int olen = OBJ_obj2txt(oid, sizeof oid, obj, 1);
        if (olen <= 0 || (size_t)olen >= sizeof oid) {
            continue;
        }
        size_t arc = strlen(AMD_ARC);
        if (strncmp(oid, AMD_ARC, arc) != 0 || oid[arc] != '.') {
            continue;
        }
        ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(ext);
        const uint8_t *p = ASN1_STRING_get0_data(os);
        size_t len = (size_t)ASN1_STRING_length(os);
        if (cvma_amd_cert_ext_value(oid + arc, p, len, out, v) != CVMA_OK) {
            st = CVMA_REJECTED;
        }
    }
    if (st != CVMA_OK) {
        memset(out, 0, sizeof *out); /* refused: no value read before the bad one is given back */
    }
    return st;
}
