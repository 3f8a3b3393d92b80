/*
 * The simulated Intel TDX TEE (sim/sim_tdx.h), checked independently with OpenSSL and
 * jansson: quote layout against the DCAP quote format, the quote signature, the QE report
 * signature and key binding, the PCK -> Platform CA -> root chain, the SGX extension (PCK profile),
 * the CRLs, and the TCB Info / QE Identity signatures over the exact inner bytes and the TCB level
 * the platform lands on (QVL TcbLevelCheck). Nothing here uses the project's own TDX parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/hex.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "sim/sim_tdx.h"
#include "tu_sim.h"

#define SGX_EXT_OID "1.2.840.113741.1.13.1"

static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                               0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

/* The quote, cut up by the offsets of the quote format (pointers into run.out). */
struct quote {
    unsigned version;
    const uint8_t *body;
    size_t body_size;
    size_t signed_len;
    const uint8_t *sig;     /* r || s */
    const uint8_t *att_key; /* x || y */
    const uint8_t *qe_report;
    const uint8_t *qe_sig;
    const uint8_t *auth;
    size_t auth_len;
    const uint8_t *pem; /* including the final NUL */
    size_t pem_len;
};

static void run_sim(struct tu_run *r, const struct cvma_sim_tdx_opts *o)
{
    char err[512] = "";
    enum cvma_status st = cvma_sim_tdx_write(o, r->dir, err, sizeof err);

    if (st != CVMA_OK) {
        fail_msg("cvma_sim_tdx_write: status %d: %s", (int)st, err);
    }
    cvma_buf_free(&r->out);
    tu_run_read(r, "quote.bin", &r->out);
}

/* Cuts the quote per the quote format, asserting every length field and the exact total. */
static void quote_split(const struct cvma_buf *b, struct quote *q)
{
    const uint8_t *p = b->p;
    size_t off, sig_len, cert_size, inner_size;

    memset(q, 0, sizeof *q);
    assert_true(b->len > 48 + 6 + 648 + 4);
    q->version = tu_le16(p);
    if (q->version == 5) {
        assert_int_equal(tu_le16(p + 0x30), 3);
        q->body_size = tu_le32(p + 0x32);
        assert_int_equal(q->body_size, 648);
        off = 0x36;
    } else {
        assert_int_equal(q->version, 4);
        q->body_size = 584;
        off = 0x30;
    }
    q->body = p + off;
    off += q->body_size;
    q->signed_len = off;
    sig_len = tu_le32(p + off);
    off += 4;
    assert_int_equal(b->len - off, sig_len); /* no trailing data */
    q->sig = p + off;
    q->att_key = p + off + 0x40;
    assert_int_equal(tu_le16(p + off + 0x80), 6);
    cert_size = tu_le32(p + off + 0x82);
    assert_int_equal(cert_size, sig_len - 0x86); /* the remaining length */
    q->qe_report = p + off + 0x86;
    q->qe_sig = p + off + 0x206;
    q->auth_len = tu_le16(p + off + 0x246);
    q->auth = p + off + 0x248;
    off += 0x248 + q->auth_len;
    assert_int_equal(tu_le16(p + off), 5);
    inner_size = tu_le32(p + off + 2);
    off += 6;
    assert_int_equal(b->len - off, inner_size);
    q->pem = p + off;
    q->pem_len = inner_size;
}

/* ECDSA P-256 / SHA-256 over msg with raw r || s. Returns the EVP_DigestVerify result. */
static int verify_p256(EVP_PKEY *pub, const uint8_t *msg, size_t len, const uint8_t rs[64])
{
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *der = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int der_len, rc;

    assert_non_null(r);
    assert_non_null(s);
    assert_non_null(sig);
    assert_non_null(ctx);
    assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
    der_len = i2d_ECDSA_SIG(sig, &der);
    assert_true(der_len > 0);
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub), 1);
    rc = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len);
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return rc;
}

/* A P-256 public key from x || y. */
static EVP_PKEY *p256_from_xy(const uint8_t xy[64])
{
    uint8_t point[65];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;

    point[0] = 0x04;
    memcpy(point + 1, xy, 64);
    assert_non_null(bld);
    assert_non_null(ctx);
    assert_int_equal(
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0), 1);
    assert_int_equal(
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point), 1);
    assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static EVP_PKEY *fresh_p256(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    return k;
}

/* The index-th certificate of the quote's PEM chain (0 = PCK leaf). */
static X509 *quote_cert(const struct quote *q, int index)
{
    BIO *bio;
    X509 *x = NULL;

    assert_true(q->pem_len > 0);
    assert_int_equal(q->pem[q->pem_len - 1], 0); /* the NUL real quotes carry */
    assert_non_null(bio = BIO_new_mem_buf(q->pem, (int)q->pem_len - 1));
    for (int i = 0; i <= index; i++) {
        X509_free(x);
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        assert_non_null(x);
    }
    BIO_free(bio);
    return x;
}

static int n_revoked(X509_CRL *crl)
{
    STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
    return rev == NULL ? 0 : sk_X509_REVOKED_num(rev);
}

static void assert_org_is_simulated(X509 *x)
{
    char o[128];

    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, o,
                                          (int)sizeof o) > 0);
    assert_string_equal(o, CVMA_SIM_TDX_ORG);
}

/* ---- PCS JSON documents ---- */

struct doc {
    struct cvma_buf file;
    const uint8_t *inner; /* the signed bytes, inside file */
    size_t inner_len;
    uint8_t sig[64];
    json_t *json; /* the inner object, parsed */
};

/* Splits {"<key>":<inner>,"signature":"<128 hex>"} by its known prefix and suffix. */
static void load_doc(const struct tu_run *r, const char *name, const char *key, struct doc *d)
{
    char prefix[64];
    static const char sig_prefix[] = ",\"signature\":\"";
    size_t plen, suffix = sizeof sig_prefix - 1 + 128 + 2;
    const char *text;
    char hex[129];
    size_t got = 0;
    json_error_t jerr;

    memset(d, 0, sizeof *d);
    tu_run_read(r, name, &d->file);
    text = (const char *)d->file.p;
    snprintf(prefix, sizeof prefix, "{\"%s\":", key);
    plen = strlen(prefix);
    assert_true(d->file.len > plen + suffix);
    assert_memory_equal(text, prefix, plen);
    assert_memory_equal(text + d->file.len - suffix, sig_prefix, sizeof sig_prefix - 1);
    assert_memory_equal(text + d->file.len - 2, "\"}", 2);
    memcpy(hex, text + d->file.len - 2 - 128, 128);
    hex[128] = '\0';
    assert_true(cvma_hex_decode(hex, d->sig, sizeof d->sig, &got));
    assert_int_equal(got, 64);
    d->inner = d->file.p + plen;
    d->inner_len = d->file.len - plen - suffix;
    d->json = json_loadb((const char *)d->inner, d->inner_len, 0, &jerr);
    if (d->json == NULL) {
        fail_msg("%s: inner object is not JSON: %s", name, jerr.text);
    }
    /* The whole file is JSON as well. */
    json_t *whole = json_loadb(text, d->file.len, 0, &jerr);
    assert_non_null(whole);
    json_decref(whole);
}

static void doc_free(struct doc *d)
{
    json_decref(d->json);
    cvma_buf_free(&d->file);
}

/* The object's keys, in file order, joined by ','. */
static void keys_of(json_t *obj, char *out, size_t out_len)
{
    size_t off = 0;

    out[0] = '\0';
    assert_true(json_is_object(obj));
    for (void *it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
        int n = snprintf(out + off, out_len - off, "%s%s", off ? "," : "",
                         json_object_iter_key(it));
        assert_true(n > 0 && (size_t)n < out_len - off);
        off += (size_t)n;
    }
}

static const char *jstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (s == NULL) {
        fail_msg("no string %s", key);
    }
    return s;
}

static void jhex_eq(json_t *obj, const char *key, const uint8_t *want, size_t n)
{
    uint8_t got[64];
    size_t len = 0;
    const char *s = jstr(obj, key);

    assert_true(cvma_hex_decode(s, got, sizeof got, &len));
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    for (const char *c = s; *c != '\0'; c++) { /* Intel writes upper case */
        assert_false(*c >= 'a' && *c <= 'f');
    }
}

/* SHA-256 / SHA-384 of the seed strings (sim_tdx.h). */
static void seed_hash(const char *seed, const EVP_MD *md, uint8_t *out)
{
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(seed, strlen(seed), out, &n, md, NULL), 1);
}

/* ---- the SGX extension, read with OpenSSL's ASN1_get_object (not the simulator's writer) ---- */

struct pck_ext {
    uint8_t ppid[16];
    long comp[16];
    long pcesvn;
    uint8_t cpusvn[16];
    uint8_t pceid[2];
    uint8_t fmspc[6];
    long sgx_type;
    unsigned seen; /* bit n: arc .n seen */
};

/* Reads one TLV; returns its content and tag, advances *p. */
static const uint8_t *tlv(const uint8_t **p, long *remain, int *tag, long *len)
{
    const uint8_t *start = *p;
    int xclass = 0;
    int rc = ASN1_get_object(p, len, tag, &xclass, *remain);
    const uint8_t *content = *p;

    assert_false(rc & 0x80);
    assert_int_equal(xclass, V_ASN1_UNIVERSAL);
    *p += *len;
    *remain -= *p - start;
    assert_true(*remain >= 0);
    return content;
}

/* The last arc of a DER OID under the SGX arc, e.g. ".1.2.17" -> "2.17". */
static void oid_suffix(const uint8_t *content, long len, char *out, size_t out_len)
{
    ASN1_OBJECT *obj = NULL;
    uint8_t der[64];
    const uint8_t *q = der;
    char txt[80];

    assert_true(len + 2 <= (long)sizeof der);
    der[0] = V_ASN1_OBJECT;
    der[1] = (uint8_t)len;
    memcpy(der + 2, content, (size_t)len);
    assert_non_null(obj = d2i_ASN1_OBJECT(NULL, &q, len + 2));
    assert_true(OBJ_obj2txt(txt, sizeof txt, obj, 1) > 0);
    ASN1_OBJECT_free(obj);
    assert_memory_equal(txt, SGX_EXT_OID ".", strlen(SGX_EXT_OID) + 1);
    const char *suffix = txt + strlen(SGX_EXT_OID) + 1;
    assert_true(strlen(suffix) < out_len);
    memcpy(out, suffix, strlen(suffix) + 1);
}

static long der_int(const uint8_t *content, long len)
{
    long v = 0;
    assert_true(len >= 1 && len <= 3);
    assert_false(content[0] & 0x80);
    for (long i = 0; i < len; i++) {
        v = v << 8 | content[i];
    }
    return v;
}

/* The TCB SEQUENCE: .2.1 .. .2.16 INTEGER, .2.17 PCESVN INTEGER, .2.18 CPUSVN OCTET STRING. */
static void parse_tcb(const uint8_t *p, long remain, struct pck_ext *e)
{
    for (int k = 0; k < 18; k++) {
        long el, ol, vl;
        int tag;
        const uint8_t *entry = tlv(&p, &remain, &tag, &el), *oid, *val;
        char arc[16], want[16];

        assert_int_equal(tag, V_ASN1_SEQUENCE);
        oid = tlv(&entry, &el, &tag, &ol);
        assert_int_equal(tag, V_ASN1_OBJECT);
        oid_suffix(oid, ol, arc, sizeof arc);
        snprintf(want, sizeof want, "2.%d", k + 1);
        assert_string_equal(arc, want);
        val = tlv(&entry, &el, &tag, &vl);
        assert_int_equal(el, 0);
        if (k < 16) {
            assert_int_equal(tag, V_ASN1_INTEGER);
            e->comp[k] = der_int(val, vl);
        } else if (k == 16) {
            assert_int_equal(tag, V_ASN1_INTEGER);
            e->pcesvn = der_int(val, vl);
        } else {
            assert_int_equal(tag, V_ASN1_OCTET_STRING);
            assert_int_equal(vl, 16);
            memcpy(e->cpusvn, val, 16);
        }
    }
    assert_int_equal(remain, 0);
}

/* The extension as the PCK profile lays it out, arcs .1 .. .7 in order (as on a real Platform-CA
 * PCK). */
static void parse_pck_ext(X509 *pck, struct pck_ext *e)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(SGX_EXT_OID, 1);
    int idx, tag;
    const ASN1_OCTET_STRING *os;
    const uint8_t *p, *seq;
    long remain, seq_remain;

    memset(e, 0, sizeof *e);
    assert_non_null(obj);
    idx = X509_get_ext_by_OBJ(pck, obj, -1);
    ASN1_OBJECT_free(obj);
    assert_true(idx >= 0);
    assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(pck, idx)), 0);
    os = X509_EXTENSION_get_data(X509_get_ext(pck, idx));
    p = ASN1_STRING_get0_data(os);
    remain = ASN1_STRING_length(os);
    seq = tlv(&p, &remain, &tag, &seq_remain);
    assert_int_equal(tag, V_ASN1_SEQUENCE);
    assert_int_equal(remain, 0);
    for (unsigned k = 1; k <= 7; k++) {
        long el, ol, vl;
        const uint8_t *entry = tlv(&seq, &seq_remain, &tag, &el), *oid, *val;
        char arc[16], want[16];

        assert_int_equal(tag, V_ASN1_SEQUENCE);
        oid = tlv(&entry, &el, &tag, &ol);
        assert_int_equal(tag, V_ASN1_OBJECT);
        oid_suffix(oid, ol, arc, sizeof arc);
        snprintf(want, sizeof want, "%u", k);
        assert_string_equal(arc, want);
        val = tlv(&entry, &el, &tag, &vl);
        assert_int_equal(el, 0);
        switch (k) {
        case 1:
            assert_int_equal(tag, V_ASN1_OCTET_STRING);
            assert_int_equal(vl, 16);
            memcpy(e->ppid, val, 16);
            break;
        case 2:
            assert_int_equal(tag, V_ASN1_SEQUENCE);
            parse_tcb(val, vl, e);
            break;
        case 3:
            assert_int_equal(tag, V_ASN1_OCTET_STRING);
            assert_int_equal(vl, 2);
            memcpy(e->pceid, val, 2);
            break;
        case 4:
            assert_int_equal(tag, V_ASN1_OCTET_STRING);
            assert_int_equal(vl, 6);
            memcpy(e->fmspc, val, 6);
            break;
        case 5:
            assert_int_equal(tag, V_ASN1_ENUMERATED);
            e->sgx_type = der_int(val, vl);
            break;
        case 6:
            assert_int_equal(tag, V_ASN1_OCTET_STRING);
            assert_int_equal(vl, 16);
            break;
        default:
            assert_int_equal(tag, V_ASN1_SEQUENCE);
            assert_int_equal(vl, 3 * 18); /* three SEQUENCE { OID (13), BOOLEAN TRUE (3) } */
            break;
        }
        e->seen |= 1u << k;
    }
    assert_int_equal(seq_remain, 0);
}

/* ---- TCB evaluation as QVL does it (QVL TcbLevelCheck), on the parsed JSON ---- */

static void level_values(json_t *level, long sgx[16], long *pcesvn, long tdx[16])
{
    json_t *tcb = json_object_get(level, "tcb");
    json_t *s = json_object_get(tcb, "sgxtcbcomponents");
    json_t *t = json_object_get(tcb, "tdxtcbcomponents");

    assert_int_equal(json_array_size(s), 16);
    assert_int_equal(json_array_size(t), 16);
    for (size_t i = 0; i < 16; i++) {
        sgx[i] = (long)json_integer_value(json_object_get(json_array_get(s, i), "svn"));
        tdx[i] = (long)json_integer_value(json_object_get(json_array_get(t, i), "svn"));
    }
    assert_true(json_is_integer(json_object_get(tcb, "pcesvn")));
    *pcesvn = (long)json_integer_value(json_object_get(tcb, "pcesvn"));
}

/* QVL's TcbLevel::operator> for TDX: > 0 when a sorts before b. */
static int level_cmp(json_t *a, json_t *b)
{
    long as[16], bs[16], at[16], bt[16], ap, bp;

    level_values(a, as, &ap, at);
    level_values(b, bs, &bp, bt);
    for (size_t i = 0; i < 16; i++) {
        if (as[i] != bs[i]) {
            return as[i] > bs[i] ? 1 : -1;
        }
    }
    if (ap != bp) {
        return ap > bp ? 1 : -1;
    }
    for (size_t i = 0; i < 16; i++) {
        if (at[i] != bt[i]) {
            return at[i] > bt[i] ? 1 : -1;
        }
    }
    return 0;
}

/* The status of the first level (sorted order) the platform meets, or NULL. */
static const char *platform_status(json_t *tcb_info, const struct pck_ext *pck,
                                   const uint8_t tee_tcb_svn[16])
{
    json_t *levels = json_object_get(tcb_info, "tcbLevels");
    size_t first_tdx = tee_tcb_svn[1] > 0 ? 2 : 0;

    assert_true(json_array_size(levels) > 0);
    for (size_t k = 0; k < json_array_size(levels); k++) {
        json_t *lv = json_array_get(levels, k);
        long sgx[16], tdx[16], pcesvn;
        bool ok = true;

        /* Written in QVL's sorted order, strictly descending. */
        if (k > 0) {
            assert_true(level_cmp(json_array_get(levels, k - 1), lv) > 0);
        }
        level_values(lv, sgx, &pcesvn, tdx);
        for (size_t i = 0; i < 16; i++) {
            ok = ok && pck->comp[i] >= sgx[i];
        }
        ok = ok && pck->pcesvn >= pcesvn;
        for (size_t i = first_tdx; i < 16; i++) {
            ok = ok && tee_tcb_svn[i] >= tdx[i];
        }
        if (ok) {
            return jstr(lv, "tcbStatus");
        }
    }
    return NULL;
}

/* ---- tests ---- */

static void test_sim_tdx_v4_quote_has_spec_layout(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    uint8_t module_mrsigner[48];
    static const uint8_t tee_tcb_svn[16] = {3, 1, 5};

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    o.has_mr_td = true;
    tu_fill(o.mr_td, 48, 0x10);
    o.has_rtmr[1] = true;
    tu_fill(o.rtmr[1], 48, 0x40);
    tu_fill(o.report_data, 20, 0x80); /* a short nonce: the rest stays zero */
    tu_fill(o.mr_config_id, 48, 0xC0);
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    const uint8_t *p = r.out.p, *b = q.body;

    /* header */
    assert_int_equal(q.version, 4);
    assert_int_equal(tu_le16(p + 0x02), 2);
    assert_int_equal(tu_le32(p + 0x04), 0x81);
    assert_int_equal(tu_le32(p + 0x08), 0);
    assert_memory_equal(p + 0x0C, intel_qe_vendor_id, 16);
    assert_false(tu_all_bytes(p + 0x1C, 16, 0)); /* random QE ID */
    assert_true(tu_all_bytes(p + 0x2C, 4, 0));
    /* TD report 1.0 */
    assert_int_equal(q.signed_len, 0x278);
    assert_memory_equal(b + 0x000, tee_tcb_svn, 16);
    assert_false(tu_all_bytes(b + 0x010, 48, 0)); /* mr_seam */
    seed_hash(CVMA_SIM_TDX_MODULE_MRSIGNER_SEED, EVP_sha384(), module_mrsigner);
    assert_memory_equal(b + 0x040, module_mrsigner, 48);
    assert_int_equal(tu_le64(b + 0x070), 0);
    assert_int_equal(tu_le64(b + 0x078), 0x10000000); /* SEPT_VE_DISABLE, no DEBUG */
    assert_int_equal(tu_le64(b + 0x080), 0xE7);
    assert_memory_equal(b + 0x088, o.mr_td, 48);
    assert_memory_equal(b + 0x0B8, o.mr_config_id, 48);
    assert_true(tu_all_bytes(b + 0x0E8, 96, 0));  /* mr_owner, mr_owner_config */
    assert_false(tu_all_bytes(b + 0x148, 48, 0)); /* RTMR0 random */
    assert_memory_equal(b + 0x178, o.rtmr[1], 48);
    assert_false(tu_all_bytes(b + 0x1A8, 48, 0)); /* RTMR2 random */
    assert_true(tu_all_bytes(b + 0x1D8, 48, 0));  /* RTMR3 zero */
    assert_memory_equal(b + 0x208, o.report_data, 64);
    assert_true(tu_all_bytes(b + 0x208 + 20, 44, 0));
    /* signature data: QE auth data 32 bytes 00..1F; the PEM chain has 3 certificates and ends in
     * NUL */
    assert_int_equal(q.auth_len, 32);
    for (size_t i = 0; i < 32; i++) {
        assert_int_equal(q.auth[i], i);
    }
    assert_int_equal(q.pem[q.pem_len - 1], 0);
    assert_null(memchr(q.pem, 0, q.pem_len - 1));
    assert_non_null(strstr((const char *)q.pem, "-----END CERTIFICATE-----\n"));
    X509 *root = quote_cert(&q, 2);
    X509_free(root);
    tu_run_cleanup(&r);
}

static void test_sim_tdx_quote_signature_verifies_with_attestation_key(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    EVP_PKEY *att, *other;
    uint8_t *copy;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    att = p256_from_xy(q.att_key);
    assert_int_equal(verify_p256(att, r.out.p, q.signed_len, q.sig), 1);

    /* Live: a changed MRTD byte or header byte or r byte breaks it; another key does not verify. */
    assert_non_null(copy = malloc(r.out.len));
    memcpy(copy, r.out.p, r.out.len);
    copy[0x30 + 0x088] ^= 1;
    assert_int_not_equal(verify_p256(att, copy, q.signed_len, q.sig), 1);
    memcpy(copy, r.out.p, r.out.len);
    copy[0x1C] ^= 1;
    assert_int_not_equal(verify_p256(att, copy, q.signed_len, q.sig), 1);
    assert_int_not_equal(verify_p256(att, r.out.p, q.signed_len - 1, q.sig), 1);
    other = fresh_p256();
    assert_int_not_equal(verify_p256(other, r.out.p, q.signed_len, q.sig), 1);
    free(copy);
    EVP_PKEY_free(other);
    EVP_PKEY_free(att);
    tu_run_cleanup(&r);
}

/* The QE report's ATTRIBUTES (SGX REPORT body 0x030) are those of real quotes, v4 and v5. */
static void test_sim_tdx_qe_report_attributes_are_those_of_real_quotes(void **state)
{
    static const struct {
        const char *rel;
        unsigned version;
    } real[] = {
            {"tdx/v4-v5-coco-trustee/tdx_quote_4.dat", 4},
            {"tdx/v4-v5-coco-trustee/tdx_quote_5.dat", 5},
            {"tdx/v5-gotdxguest/quote.bin", 5},
    };

    (void)state;
    TU_NEED_VECTORS();
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        struct tu_run r;
        struct cvma_sim_tdx_opts o;
        struct quote want, got;
        struct cvma_buf b = tu_vec_read(real[i].rel);

        quote_split(&b, &want);
        assert_int_equal(want.version, real[i].version);
        tu_run_init(&r);
        cvma_sim_tdx_opts_default(&o);
        o.version = real[i].version;
        run_sim(&r, &o);
        quote_split(&r.out, &got);
        if (memcmp(got.qe_report + 0x030, want.qe_report + 0x030, 16) != 0) {
            char g[33], w[33];
            cvma_hex_encode(got.qe_report + 0x030, 16, g, sizeof g);
            cvma_hex_encode(want.qe_report + 0x030, 16, w, sizeof w);
            fail_msg("%s: sim QE attributes %s, real %s", real[i].rel, g, w);
        }
        tu_run_cleanup(&r);
        cvma_buf_free(&b);
    }
}

static void test_sim_tdx_qe_report_signed_by_pck_and_binds_attestation_key(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    X509 *pck, *pca;
    uint8_t bound[64 + 32], h[32], qe_mrsigner[32], rep[384];
    unsigned int n = 0;
    /* As real TD QE reports: INIT | MODE64BIT | PROVISIONKEY, XFRM E7. */
    static const uint8_t attributes[16] = {0x15, 0, 0, 0, 0, 0, 0, 0, 0xE7};
    static const uint8_t cpusvn[16] = {3, 3, 2, 2, 4, 1, 0, 5};

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    pck = quote_cert(&q, 0);
    pca = quote_cert(&q, 1);

    assert_int_equal(verify_p256(X509_get0_pubkey(pck), q.qe_report, 384, q.qe_sig), 1);
    assert_int_not_equal(verify_p256(X509_get0_pubkey(pca), q.qe_report, 384, q.qe_sig), 1);
    memcpy(rep, q.qe_report, sizeof rep);
    rep[0x100] ^= 1;
    assert_int_not_equal(verify_p256(X509_get0_pubkey(pck), rep, 384, q.qe_sig), 1);

    /* QE report data = SHA256(att_key || auth_data) || 0^32 */
    memcpy(bound, q.att_key, 64);
    memcpy(bound + 64, q.auth, 32);
    assert_int_equal(EVP_Digest(bound, sizeof bound, h, &n, EVP_sha256(), NULL), 1);
    assert_memory_equal(q.qe_report + 0x140, h, 32);
    assert_true(tu_all_bytes(q.qe_report + 0x160, 32, 0));

    /* SGX REPORT body fields */
    assert_memory_equal(q.qe_report + 0x000, cpusvn, 16);
    assert_int_equal(tu_le32(q.qe_report + 0x010), 0);
    assert_true(tu_all_bytes(q.qe_report + 0x014, 28, 0));
    assert_memory_equal(q.qe_report + 0x030, attributes, 16);
    assert_false(tu_all_bytes(q.qe_report + 0x040, 32, 0)); /* mr_enclave */
    seed_hash(CVMA_SIM_TDX_QE_MRSIGNER_SEED, EVP_sha256(), qe_mrsigner);
    assert_memory_equal(q.qe_report + 0x080, qe_mrsigner, 32);
    assert_int_equal(tu_le16(q.qe_report + 0x100), 2);
    assert_int_equal(tu_le16(q.qe_report + 0x102), 4);
    assert_true(tu_all_bytes(q.qe_report + 0x104, 60, 0));
    X509_free(pca);
    X509_free(pck);
    tu_run_cleanup(&r);
}

static void test_sim_tdx_pck_chain_and_tcb_signing_chain_verify_to_root(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    X509 *pck, *pca, *qroot, *root, *tcb, *tcb_root, *qe_tcb, *crl_pca;
    char cn[64];
    unsigned char *a = NULL, *b = NULL;
    int alen, blen;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    pck = quote_cert(&q, 0);
    pca = quote_cert(&q, 1);
    qroot = quote_cert(&q, 2);
    root = tu_run_pem(&r, "root_ca.pem", 0);
    tcb = tu_run_pem(&r, "tcb_info_issuer_chain.pem", 0);
    tcb_root = tu_run_pem(&r, "tcb_info_issuer_chain.pem", 1);
    qe_tcb = tu_run_pem(&r, "qe_identity_issuer_chain.pem", 0);
    crl_pca = tu_run_pem(&r, "pck_crl_issuer_chain.pem", 0);

    /* The quote's root is root_ca.pem, byte for byte; so are the chains' roots. */
    alen = i2d_X509(qroot, &a);
    blen = i2d_X509(root, &b);
    assert_true(alen > 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, (size_t)alen);
    assert_int_equal(X509_cmp(tcb_root, root), 0);
    assert_int_equal(X509_cmp(qe_tcb, tcb), 0);
    assert_int_equal(X509_cmp(crl_pca, pca), 0);

    assert_int_equal(tu_verify_chain(root, pca, pck, X509_V_FLAG_X509_STRICT), 1);
    assert_int_equal(tu_verify_chain(root, NULL, tcb, X509_V_FLAG_X509_STRICT), 1);
    assert_int_not_equal(tu_verify_chain(root, NULL, pck, X509_V_FLAG_X509_STRICT),
                         1); /* needs the Platform CA */
    assert_int_not_equal(X509_verify(pck, X509_get0_pubkey(root)), 1);
    assert_int_equal(X509_get_signature_nid(pck), NID_ecdsa_with_SHA256);
    assert_int_equal(X509_get_signature_nid(pca), NID_ecdsa_with_SHA256);
    assert_int_equal(X509_get_signature_nid(root), NID_ecdsa_with_SHA256);
    assert_int_equal(X509_get_signature_nid(tcb), NID_ecdsa_with_SHA256);

    assert_string_equal(tu_subject_cn(root, cn, sizeof cn), "Intel SGX Root CA");
    assert_string_equal(tu_subject_cn(pca, cn, sizeof cn), "Intel SGX PCK Platform CA");
    assert_string_equal(tu_subject_cn(pck, cn, sizeof cn), "Intel SGX PCK Certificate");
    assert_string_equal(tu_subject_cn(tcb, cn, sizeof cn), "Intel SGX TCB Signing");
    assert_org_is_simulated(root);
    assert_org_is_simulated(pca);
    assert_org_is_simulated(pck);
    assert_org_is_simulated(tcb);

    /* Constraints as Intel's. */
    assert_int_equal(X509_get_extension_flags(root) & EXFLAG_CA, EXFLAG_CA);
    assert_int_equal(X509_get_pathlen(root), 1);
    assert_int_equal(X509_get_key_usage(root), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_int_equal(X509_get_pathlen(pca), 0);
    assert_int_equal(X509_get_key_usage(pca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_int_equal(X509_get_extension_flags(pck) & EXFLAG_CA, 0);
    assert_int_equal(X509_get_key_usage(pck), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
    assert_int_equal(X509_get_extension_flags(tcb) & EXFLAG_CA, 0);
    assert_int_equal(X509_get_key_usage(tcb), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
    assert_non_null(X509_get0_authority_key_id(root));
    assert_non_null(X509_get0_subject_key_id(root));
    assert_int_equal(
            ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(pck), X509_get0_subject_key_id(pca)),
            0);
    assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(pck)), 256);

    OPENSSL_free(a);
    OPENSSL_free(b);
    X509_free(crl_pca);
    X509_free(qe_tcb);
    X509_free(tcb_root);
    X509_free(tcb);
    X509_free(root);
    X509_free(qroot);
    X509_free(pca);
    X509_free(pck);
    tu_run_cleanup(&r);
}

static void test_sim_tdx_pck_extension_carries_ppid_fmspc_and_tcb(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    struct pck_ext e;
    X509 *pck;
    static const uint8_t fmspc[6] = {0x00, 0x90, 0x6E, 0xD5, 0x00, 0x00};

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    o.has_ppid = true;
    tu_fill(o.ppid, 16, 0xA0);
    memcpy(o.fmspc, fmspc, 6);
    o.sgx_tcb_comp[15] = 200; /* an INTEGER that needs a leading zero byte */
    o.pcesvn = 300;
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    pck = quote_cert(&q, 0);
    parse_pck_ext(pck, &e);

    assert_memory_equal(e.ppid, o.ppid, 16);
    assert_memory_equal(e.fmspc, fmspc, 6);
    assert_int_equal(e.pceid[0], 0);
    assert_int_equal(e.pceid[1], 0);
    assert_int_equal(e.sgx_type, 1);
    for (size_t i = 0; i < 16; i++) {
        assert_int_equal(e.comp[i], o.sgx_tcb_comp[i]);
    }
    assert_int_equal(e.pcesvn, 300);
    assert_memory_equal(e.cpusvn, o.sgx_tcb_comp, 16);
    assert_int_equal(e.seen, 0xFE);

    /* A default run has a random PPID, different each time. */
    struct pck_ext e2;
    X509 *pck2;
    cvma_sim_tdx_opts_default(&o);
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    pck2 = quote_cert(&q, 0);
    parse_pck_ext(pck2, &e2);
    assert_memory_not_equal(e2.ppid, e.ppid, 16);
    assert_false(tu_all_bytes(e2.ppid, 16, 0));
    X509_free(pck2);
    X509_free(pck);
    tu_run_cleanup(&r);
}

static void test_sim_tdx_collateral_signatures_cover_exact_inner_bytes(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    struct doc ti, qi;
    struct pck_ext e;
    X509 *tcb, *root, *pck;
    uint8_t *copy;
    char keys[512];
    uint8_t qe_mrsigner[32], module_mrsigner[48];
    static const uint8_t pceid[2] = {0};

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    tcb = tu_run_pem(&r, "tcb_info_issuer_chain.pem", 0);
    root = tu_run_pem(&r, "root_ca.pem", 0);
    pck = quote_cert(&q, 0);
    parse_pck_ext(pck, &e);
    load_doc(&r, "tcb_info.json", "tcbInfo", &ti);
    load_doc(&r, "qe_identity.json", "enclaveIdentity", &qi);

    assert_int_equal(verify_p256(X509_get0_pubkey(tcb), ti.inner, ti.inner_len, ti.sig), 1);
    assert_int_equal(verify_p256(X509_get0_pubkey(tcb), qi.inner, qi.inner_len, qi.sig), 1);
    assert_int_not_equal(verify_p256(X509_get0_pubkey(root), ti.inner, ti.inner_len, ti.sig), 1);
    /* Over the exact bytes: one changed byte, or one byte more, breaks it. */
    assert_non_null(copy = malloc(ti.inner_len));
    memcpy(copy, ti.inner, ti.inner_len);
    copy[ti.inner_len / 2] ^= 0x01;
    assert_int_not_equal(verify_p256(X509_get0_pubkey(tcb), copy, ti.inner_len, ti.sig), 1);
    free(copy);
    assert_int_not_equal(verify_p256(X509_get0_pubkey(tcb), ti.inner, ti.inner_len + 1, ti.sig), 1);

    /* Intel's key order and values (real TDX TCB Info v3 / TD_QE identity v2). */
    keys_of(ti.json, keys, sizeof keys);
    assert_string_equal(keys, "id,version,issueDate,nextUpdate,fmspc,pceId,tcbType,"
                              "tcbEvaluationDataNumber,tdxModule,tdxModuleIdentities,tcbLevels");
    keys_of(json_object_get(ti.json, "tdxModule"), keys, sizeof keys);
    assert_string_equal(keys, "mrsigner,attributes,attributesMask");
    json_t *ident = json_array_get(json_object_get(ti.json, "tdxModuleIdentities"), 0);
    keys_of(ident, keys, sizeof keys);
    assert_string_equal(keys, "id,mrsigner,attributes,attributesMask,tcbLevels");
    assert_string_equal(jstr(ident, "id"), "TDX_01");
    json_t *mlevel = json_array_get(json_object_get(ident, "tcbLevels"), 0);
    keys_of(mlevel, keys, sizeof keys);
    assert_string_equal(keys, "tcb,tcbDate,tcbStatus");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(mlevel, "tcb"), "isvsvn")),
                     2);
    json_t *levels = json_object_get(ti.json, "tcbLevels");
    keys_of(json_array_get(levels, 0), keys, sizeof keys);
    assert_string_equal(keys, "tcb,tcbDate,tcbStatus");
    keys_of(json_array_get(levels, 1), keys, sizeof keys);
    assert_string_equal(keys, "tcb,tcbDate,tcbStatus,advisoryIDs");
    keys_of(json_object_get(json_array_get(levels, 0), "tcb"), keys, sizeof keys);
    assert_string_equal(keys, "sgxtcbcomponents,pcesvn,tdxtcbcomponents");
    assert_string_equal(jstr(ti.json, "id"), "TDX");
    assert_int_equal(json_integer_value(json_object_get(ti.json, "version")), 3);
    assert_int_equal(json_integer_value(json_object_get(ti.json, "tcbType")), 0);
    assert_int_equal(json_integer_value(json_object_get(ti.json, "tcbEvaluationDataNumber")), 17);
    jhex_eq(ti.json, "fmspc", e.fmspc, 6);
    jhex_eq(ti.json, "pceId", pceid, 2);
    seed_hash(CVMA_SIM_TDX_MODULE_MRSIGNER_SEED, EVP_sha384(), module_mrsigner);
    jhex_eq(json_object_get(ti.json, "tdxModule"), "mrsigner", module_mrsigner, 48);
    jhex_eq(ident, "mrsigner", q.body + 0x040, 48); /* = the quote's mr_signer_seam */

    keys_of(qi.json, keys, sizeof keys);
    assert_string_equal(keys, "id,version,issueDate,nextUpdate,tcbEvaluationDataNumber,"
                              "miscselect,miscselectMask,attributes,attributesMask,mrsigner,"
                              "isvprodid,tcbLevels");
    assert_string_equal(jstr(qi.json, "id"), "TD_QE");
    assert_int_equal(json_integer_value(json_object_get(qi.json, "version")), 2);
    assert_string_equal(jstr(qi.json, "miscselect"), "00000000");
    assert_string_equal(jstr(qi.json, "miscselectMask"), "FFFFFFFF");
    assert_string_equal(jstr(qi.json, "attributes"), "11000000000000000000000000000000");
    assert_string_equal(jstr(qi.json, "attributesMask"), "FBFFFFFFFFFFFFFF0000000000000000");
    /* The QE report's attributes differ from the identity's and match only under the mask
     * (MODE64BIT and XFRM masked out), as with Intel's QE: a verifier must apply it. */
    {
        uint8_t want[16], mask[16];
        size_t n = 0;
        assert_true(cvma_hex_decode(jstr(qi.json, "attributes"), want, sizeof want, &n));
        assert_int_equal(n, 16);
        assert_true(cvma_hex_decode(jstr(qi.json, "attributesMask"), mask, sizeof mask, &n));
        assert_int_equal(n, 16);
        assert_memory_not_equal(q.qe_report + 0x030, want, 16);
        for (size_t i = 0; i < 16; i++) {
            assert_int_equal(q.qe_report[0x030 + i] & mask[i], want[i]);
        }
    }
    seed_hash(CVMA_SIM_TDX_QE_MRSIGNER_SEED, EVP_sha256(), qe_mrsigner);
    jhex_eq(qi.json, "mrsigner", qe_mrsigner, 32);
    jhex_eq(qi.json, "mrsigner", q.qe_report + 0x080, 32);
    assert_int_equal(json_integer_value(json_object_get(qi.json, "isvprodid")), 2);
    json_t *qlevel = json_array_get(json_object_get(qi.json, "tcbLevels"), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(qlevel, "tcb"), "isvsvn")),
                     4);
    assert_string_equal(jstr(qlevel, "tcbStatus"), "UpToDate");

    /* Dates: issued an hour ago, next update in 30 days. */
    time_t now = time(NULL), issue = 0, next = 0;
    assert_true(cvma_time_parse_rfc3339(jstr(ti.json, "issueDate"), &issue));
    assert_true(cvma_time_parse_rfc3339(jstr(ti.json, "nextUpdate"), &next));
    assert_true(issue <= now - 3500 && issue >= now - 3700);
    assert_true(next >= now + 29 * 86400 && next <= now + 31 * 86400);
    assert_string_equal(jstr(qi.json, "issueDate"), jstr(ti.json, "issueDate"));

    doc_free(&qi);
    doc_free(&ti);
    X509_free(pck);
    X509_free(root);
    X509_free(tcb);
    tu_run_cleanup(&r);
}

static void test_sim_tdx_stale_collateral_has_past_next_update(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct doc ti, qi;
    time_t now = time(NULL), issue = 0, next = 0;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    o.stale = true;
    run_sim(&r, &o);
    load_doc(&r, "tcb_info.json", "tcbInfo", &ti);
    load_doc(&r, "qe_identity.json", "enclaveIdentity", &qi);
    assert_true(cvma_time_parse_rfc3339(jstr(ti.json, "issueDate"), &issue));
    assert_true(cvma_time_parse_rfc3339(jstr(ti.json, "nextUpdate"), &next));
    assert_true(issue <= now - 59 * 86400 && issue >= now - 61 * 86400);
    assert_true(next <= now - 29 * 86400 && next >= now - 31 * 86400);
    assert_string_equal(jstr(qi.json, "nextUpdate"), jstr(ti.json, "nextUpdate"));
    doc_free(&qi);
    doc_free(&ti);
    tu_run_cleanup(&r);
}

static void test_sim_tdx_crls_verify_and_revoke_pck_lists_its_serial(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    X509 *pck, *pca, *root, *tcb;
    X509_CRL *pck_crl, *root_crl;
    X509_REVOKED *rev = NULL;
    time_t now = time(NULL);
    int day;
    int sec;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    pca = quote_cert(&q, 1);
    pck = quote_cert(&q, 0);
    root = tu_run_pem(&r, "root_ca.pem", 0);
    tcb = tu_run_pem(&r, "tcb_info_issuer_chain.pem", 0);
    pck_crl = tu_run_crl(&r, "pck_crl.der");
    root_crl = tu_run_crl(&r, "root_ca_crl.der");

    assert_int_equal(X509_CRL_verify(pck_crl, X509_get0_pubkey(pca)), 1);
    assert_int_not_equal(X509_CRL_verify(pck_crl, X509_get0_pubkey(root)), 1);
    assert_int_equal(X509_CRL_verify(root_crl, X509_get0_pubkey(root)), 1);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(pck_crl), X509_get_issuer_name(pck)), 0);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(root_crl), X509_get_subject_name(root)), 0);
    assert_int_equal(X509_CRL_get_signature_nid(pck_crl), NID_ecdsa_with_SHA256);
    assert_int_equal(X509_CRL_get_signature_nid(root_crl), NID_ecdsa_with_SHA256);
    assert_int_equal(n_revoked(pck_crl), 0);
    assert_int_equal(n_revoked(root_crl), 0);
    assert_int_equal(X509_CRL_get0_by_cert(root_crl, &rev, pca), 0);
    assert_int_equal(X509_CRL_get0_by_cert(root_crl, &rev, tcb), 0);
    /* thisUpdate = now - 1 day, nextUpdate = now + 30 days */
    assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_CRL_get0_lastUpdate(pck_crl),
                                    X509_CRL_get0_nextUpdate(pck_crl)),
                     1);
    assert_int_equal(day, 31);
    assert_true(X509_cmp_time(X509_CRL_get0_lastUpdate(root_crl), &now) < 0);
    assert_true(X509_cmp_time(X509_CRL_get0_nextUpdate(root_crl), &now) > 0);
    X509_CRL_free(pck_crl);
    X509_free(pck);
    X509_free(pca);

    o.revoke_pck = true;
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    pca = quote_cert(&q, 1);
    pck = quote_cert(&q, 0);
    pck_crl = tu_run_crl(&r, "pck_crl.der");
    assert_int_equal(X509_CRL_verify(pck_crl, X509_get0_pubkey(pca)), 1);
    assert_int_equal(n_revoked(pck_crl), 1);
    assert_int_equal(X509_CRL_get0_by_cert(pck_crl, &rev, pck), 1);
    assert_int_equal(X509_CRL_get0_by_cert(pck_crl, &rev, pca), 0);

    X509_CRL_free(root_crl);
    X509_CRL_free(pck_crl);
    X509_free(tcb);
    X509_free(root);
    X509_free(pck);
    X509_free(pca);
    tu_run_cleanup(&r);
}

static void test_sim_tdx_v5_body_type_3_has_size_648(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    EVP_PKEY *att;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    o.version = 5;
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    assert_int_equal(tu_le16(r.out.p), 5);
    assert_int_equal(tu_le16(r.out.p + 0x30), 3);
    assert_int_equal(tu_le32(r.out.p + 0x32), 648);
    assert_int_equal(q.signed_len, 48 + 6 + 648);
    assert_int_equal(tu_le32(r.out.p + 0x36 + 648), r.out.len - (0x36 + 648 + 4));
    assert_memory_equal(q.body + 0x248, q.body + 0x000, 16); /* tee_tcb_svn2 */
    assert_true(tu_all_bytes(q.body + 0x258, 48, 0));        /* mr_service_td */
    att = p256_from_xy(q.att_key);
    assert_int_equal(verify_p256(att, r.out.p, q.signed_len, q.sig), 1);
    assert_int_not_equal(verify_p256(att, r.out.p, 48 + 584, q.sig), 1);
    EVP_PKEY_free(att);
    tu_run_cleanup(&r);
}

/* relaunch: TEE_TCB_SVN at the launch module (minor SVN one lower), TEE_TCB_SVN2 as given; the
 * module identity has an UpToDate level for the current SVN and an OutOfDate one below it. */
static void test_sim_tdx_relaunch_quote_and_module_levels(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    struct doc ti;
    json_t *ml;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    o.version = 5;
    o.tcb_status = CVMA_SIM_TDX_TCB_RELAUNCH;
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    assert_int_equal(tu_le16(r.out.p + 0x30), 3);           /* TD report 1.5 */
    assert_memory_equal(q.body + 0x248, o.tee_tcb_svn, 16); /* TEE_TCB_SVN2: current */
    assert_int_equal(q.body[0], o.tee_tcb_svn[0] - 1);      /* TEE_TCB_SVN: at launch */
    assert_memory_equal(q.body + 1, o.tee_tcb_svn + 1, 15);
    load_doc(&r, "tcb_info.json", "tcbInfo", &ti);
    ml = json_object_get(json_array_get(json_object_get(ti.json, "tdxModuleIdentities"), 0),
                         "tcbLevels");
    assert_int_equal(json_array_size(ml), 2);
    assert_int_equal(json_integer_value(json_object_get(
                             json_object_get(json_array_get(ml, 0), "tcb"), "isvsvn")),
                     o.tee_tcb_svn[0]);
    assert_string_equal(jstr(json_array_get(ml, 0), "tcbStatus"), "UpToDate");
    assert_int_equal(json_integer_value(json_object_get(
                             json_object_get(json_array_get(ml, 1), "tcb"), "isvsvn")),
                     o.tee_tcb_svn[0] - 1);
    assert_string_equal(jstr(json_array_get(ml, 1), "tcbStatus"), "OutOfDate");
    assert_non_null(json_object_get(json_array_get(ml, 1), "advisoryIDs"));
    doc_free(&ti);
    assert_string_equal(cvma_sim_tdx_tcb_status_name(CVMA_SIM_TDX_TCB_RELAUNCH),
                        "TDRelaunchAdvised");
    tu_run_cleanup(&r);
}

static void test_sim_tdx_debug_sets_td_attributes_bit_0(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    assert_int_equal(tu_le64(q.body + 0x078) & 1, 0);
    o.debug = true;
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    assert_int_equal(tu_le64(q.body + 0x078), 0x10000001);
    o.version = 5;
    run_sim(&r, &o);
    quote_split(&r.out, &q);
    assert_int_equal(tu_le64(q.body + 0x078), 0x10000001);
    tu_run_cleanup(&r);
}

/* Runs the simulator with status st and returns where QVL's algorithm lands (NULL: none). */
static void expect_status(struct cvma_sim_tdx_opts *o, enum cvma_sim_tdx_tcb_status st,
                          const char *want, const char *want_seq)
{
    char seq[256] = "";
    size_t off = 0;
    struct tu_run r;
    struct quote q;
    struct doc ti;
    struct pck_ext e;
    X509 *pck;
    const char *got;

    tu_run_init(&r);
    o->tcb_status = st;
    run_sim(&r, o);
    quote_split(&r.out, &q);
    pck = quote_cert(&q, 0);
    parse_pck_ext(pck, &e);
    load_doc(&r, "tcb_info.json", "tcbInfo", &ti);
    got = platform_status(ti.json, &e, q.body);
    if (want == NULL) {
        if (got != NULL) {
            fail_msg("status %d: expected no level, got %s", (int)st, got);
        }
    } else {
        if (got == NULL) {
            fail_msg("status %d: expected %s, no level matched", (int)st, want);
        }
        assert_string_equal(got, want);
    }
    /* advisoryIDs on every level that is not UpToDate, and only there. */
    json_t *levels = json_object_get(ti.json, "tcbLevels");
    for (size_t k = 0; k < json_array_size(levels); k++) {
        json_t *lv = json_array_get(levels, k);
        bool utd = strcmp(jstr(lv, "tcbStatus"), "UpToDate") == 0;
        json_t *adv = json_object_get(lv, "advisoryIDs");
        assert_int_equal(adv == NULL, utd);
        if (adv != NULL) {
            assert_true(json_array_size(adv) > 0);
        }
        int w = snprintf(seq + off, sizeof seq - off, "%s%s", off ? "," : "",
                         jstr(lv, "tcbStatus"));
        assert_true(w > 0 && (size_t)w < sizeof seq - off);
        off += (size_t)w;
    }
    assert_string_equal(seq, want_seq); /* the design in sim_tdx.h */
    doc_free(&ti);
    X509_free(pck);
    tu_run_cleanup(&r);
}

static void test_sim_tdx_tcb_levels_land_on_the_requested_status(void **state)
{
    struct cvma_sim_tdx_opts o;

    (void)state;
    cvma_sim_tdx_opts_default(&o);
    expect_status(&o, CVMA_SIM_TDX_TCB_UPTODATE, "UpToDate", "UpToDate,OutOfDate");
    expect_status(&o, CVMA_SIM_TDX_TCB_SWHARDENING, "SWHardeningNeeded",
                  "UpToDate,SWHardeningNeeded,OutOfDate");
    expect_status(&o, CVMA_SIM_TDX_TCB_CONFIGNEEDED, "ConfigurationNeeded",
                  "UpToDate,ConfigurationNeeded,OutOfDate");
    expect_status(&o, CVMA_SIM_TDX_TCB_OUTOFDATE, "OutOfDate",
                  "UpToDate,SWHardeningNeeded,OutOfDate,Revoked");
    expect_status(&o, CVMA_SIM_TDX_TCB_REVOKED, "Revoked", "UpToDate,OutOfDate,Revoked");
    expect_status(&o, CVMA_SIM_TDX_TCB_NOLEVEL, NULL, "UpToDate,OutOfDate,OutOfDate");

    /* Module major version 0: TDX components compared from index 0; PCESVN 0: no lower level. */
    cvma_sim_tdx_opts_default(&o);
    o.tee_tcb_svn[1] = 0;
    o.pcesvn = 0;
    o.version = 5;
    expect_status(&o, CVMA_SIM_TDX_TCB_UPTODATE, "UpToDate", "UpToDate");
    expect_status(&o, CVMA_SIM_TDX_TCB_CONFIGNEEDED, "ConfigurationNeeded",
                  "UpToDate,ConfigurationNeeded");
    expect_status(&o, CVMA_SIM_TDX_TCB_OUTOFDATE, "OutOfDate",
                  "UpToDate,SWHardeningNeeded,OutOfDate");
    expect_status(&o, CVMA_SIM_TDX_TCB_NOLEVEL, NULL, "UpToDate,OutOfDate,OutOfDate");
}

/* Each defect breaks exactly its own check; the quote signature stays valid. */
static void test_sim_tdx_tamper_breaks_only_its_own_check(void **state)
{
    enum {
        T_REPORT_DATA,
        T_AUTH_FLIP,
        T_PCK_SIG,
        T_FMSPC,
        T_SEAM,
        T_QE_MRSIGNER,
        T_TI_SIG,
        T_QI_SIG,
        T_COUNT
    };

    (void)state;
    for (int t = -1; t < T_COUNT; t++) {
        struct tu_run r;
        struct cvma_sim_tdx_opts o;
        struct quote q;
        struct doc ti, qi;
        struct pck_ext e;
        X509 *pck, *tcb;
        EVP_PKEY *att;
        uint8_t bound[96], h[32];
        unsigned int n = 0;
        uint8_t fmspc[6], mrs[48], qmrs[32];
        size_t len = 0;

        tu_run_init(&r);
        cvma_sim_tdx_opts_default(&o);
        o.tamper.qe_report_data_wrong = t == T_REPORT_DATA;
        o.tamper.qe_auth_data_flip = t == T_AUTH_FLIP;
        o.tamper.pck_sig_wrong = t == T_PCK_SIG;
        o.tamper.wrong_fmspc_in_tcb_info = t == T_FMSPC;
        o.tamper.mrsigner_seam_wrong = t == T_SEAM;
        o.tamper.qe_mrsigner_wrong = t == T_QE_MRSIGNER;
        o.tamper.tcb_info_sig_wrong = t == T_TI_SIG;
        o.tamper.qe_identity_sig_wrong = t == T_QI_SIG;
        run_sim(&r, &o);
        quote_split(&r.out, &q);
        pck = quote_cert(&q, 0);
        parse_pck_ext(pck, &e);
        tcb = tu_run_pem(&r, "tcb_info_issuer_chain.pem", 0);
        load_doc(&r, "tcb_info.json", "tcbInfo", &ti);
        load_doc(&r, "qe_identity.json", "enclaveIdentity", &qi);
        att = p256_from_xy(q.att_key);

        memcpy(bound, q.att_key, 64);
        memcpy(bound + 64, q.auth, 32);
        assert_int_equal(EVP_Digest(bound, sizeof bound, h, &n, EVP_sha256(), NULL), 1);
        assert_true(cvma_hex_decode(jstr(ti.json, "fmspc"), fmspc, sizeof fmspc, &len));
        assert_true(cvma_hex_decode(
                jstr(json_array_get(json_object_get(ti.json, "tdxModuleIdentities"), 0),
                     "mrsigner"),
                mrs, sizeof mrs, &len));
        assert_true(cvma_hex_decode(jstr(qi.json, "mrsigner"), qmrs, sizeof qmrs, &len));

        assert_int_equal(verify_p256(att, r.out.p, q.signed_len, q.sig), 1);
        assert_int_equal(memcmp(q.qe_report + 0x140, h, 32) == 0,
                         t != T_REPORT_DATA && t != T_AUTH_FLIP);
        assert_int_equal(verify_p256(X509_get0_pubkey(pck), q.qe_report, 384, q.qe_sig) == 1,
                         t != T_PCK_SIG);
        assert_int_equal(memcmp(fmspc, e.fmspc, 6) == 0, t != T_FMSPC);
        assert_int_equal(memcmp(mrs, q.body + 0x040, 48) == 0, t != T_SEAM);
        assert_int_equal(memcmp(qmrs, q.qe_report + 0x080, 32) == 0, t != T_QE_MRSIGNER);
        assert_int_equal(verify_p256(X509_get0_pubkey(tcb), ti.inner, ti.inner_len, ti.sig) == 1,
                         t != T_TI_SIG);
        assert_int_equal(verify_p256(X509_get0_pubkey(tcb), qi.inner, qi.inner_len, qi.sig) == 1,
                         t != T_QI_SIG);

        EVP_PKEY_free(att);
        doc_free(&qi);
        doc_free(&ti);
        X509_free(tcb);
        X509_free(pck);
        tu_run_cleanup(&r);
    }
}

static void test_sim_tdx_writes_private_keys_only_with_keep_keys(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;
    struct quote q;
    static const char *const keys[] = {"root_ca-key.pem", "pck_ca-key.pem", "pck-key.pem",
                                       "tcb_signing-key.pem", "attestation-key.pem"};
    static const char *const files[] = {"quote.bin",
                                        "root_ca.pem",
                                        "tcb_info.json",
                                        "qe_identity.json",
                                        "tcb_info_issuer_chain.pem",
                                        "qe_identity_issuer_chain.pem",
                                        "pck_crl_issuer_chain.pem",
                                        "pck_crl.der",
                                        "root_ca_crl.der"};
    struct stat sb;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    run_sim(&r, &o);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(files); i++) {
        assert_true(tu_run_exists(&r, files[i]));
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(keys); i++) {
        assert_false(tu_run_exists(&r, keys[i]));
    }

    o.keep_keys = true;
    run_sim(&r, &o);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(keys); i++) {
        char *p = cvma_path_join(r.dir, keys[i]);
        assert_non_null(p);
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        free(p);
    }
    /* The attestation key on disk is the one in the quote. */
    {
        char *p = cvma_path_join(r.dir, "attestation-key.pem");
        BIO *bio;
        EVP_PKEY *k, *att;

        assert_non_null(p);
        assert_non_null(bio = BIO_new_file(p, "r"));
        assert_non_null(k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL));
        quote_split(&r.out, &q);
        att = p256_from_xy(q.att_key);
        assert_int_equal(EVP_PKEY_eq(k, att), 1);
        EVP_PKEY_free(att);
        EVP_PKEY_free(k);
        BIO_free(bio);
        free(p);
    }

    o.keep_keys = false; /* a later run without keys removes them */
    run_sim(&r, &o);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(keys); i++) {
        assert_false(tu_run_exists(&r, keys[i]));
    }
    tu_run_cleanup(&r);
}

static void expect_usage(const struct cvma_sim_tdx_opts *o, const char *dir)
{
    char err[256] = "";

    assert_int_equal(cvma_sim_tdx_write(o, dir, err, sizeof err), CVMA_E_USAGE);
    assert_true(err[0] != '\0');
}

static void test_sim_tdx_rejects_out_of_range_options(void **state)
{
    struct tu_run r;
    struct cvma_sim_tdx_opts o;

    (void)state;
    tu_run_init(&r);
    cvma_sim_tdx_opts_default(&o);
    o.version = 3;
    expect_usage(&o, r.dir);
    cvma_sim_tdx_opts_default(&o);
    o.tcb_status = (enum cvma_sim_tdx_tcb_status)42;
    expect_usage(&o, r.dir);
    cvma_sim_tdx_opts_default(&o);
    o.tee_tcb_svn[2] = 255;
    expect_usage(&o, r.dir);
    cvma_sim_tdx_opts_default(&o);
    o.sgx_tcb_comp[0] = 255;
    expect_usage(&o, r.dir);
    cvma_sim_tdx_opts_default(&o);
    o.pcesvn = 0xFFFF;
    expect_usage(&o, r.dir);
    /* relaunch needs a TD report 1.5 and a module judged by its identity, with a lower SVN. */
    cvma_sim_tdx_opts_default(&o);
    o.tcb_status = CVMA_SIM_TDX_TCB_RELAUNCH; /* version 4 */
    expect_usage(&o, r.dir);
    o.version = 5;
    o.tee_tcb_svn[0] = 0;
    expect_usage(&o, r.dir);
    cvma_sim_tdx_opts_default(&o);
    o.tcb_status = CVMA_SIM_TDX_TCB_RELAUNCH;
    o.version = 5;
    o.tee_tcb_svn[1] = 0;
    expect_usage(&o, r.dir);
    cvma_sim_tdx_opts_default(&o);
    expect_usage(&o, "");
    expect_usage(NULL, r.dir);
    assert_false(tu_run_exists(&r, "quote.bin"));
    tu_run_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sim_tdx_v4_quote_has_spec_layout),
            cmocka_unit_test(test_sim_tdx_quote_signature_verifies_with_attestation_key),
            cmocka_unit_test(test_sim_tdx_qe_report_signed_by_pck_and_binds_attestation_key),
            cmocka_unit_test(test_sim_tdx_qe_report_attributes_are_those_of_real_quotes),
            cmocka_unit_test(test_sim_tdx_pck_chain_and_tcb_signing_chain_verify_to_root),
            cmocka_unit_test(test_sim_tdx_pck_extension_carries_ppid_fmspc_and_tcb),
            cmocka_unit_test(test_sim_tdx_collateral_signatures_cover_exact_inner_bytes),
            cmocka_unit_test(test_sim_tdx_stale_collateral_has_past_next_update),
            cmocka_unit_test(test_sim_tdx_crls_verify_and_revoke_pck_lists_its_serial),
            cmocka_unit_test(test_sim_tdx_v5_body_type_3_has_size_648),
            cmocka_unit_test(test_sim_tdx_relaunch_quote_and_module_levels),
            cmocka_unit_test(test_sim_tdx_debug_sets_td_attributes_bit_0),
            cmocka_unit_test(test_sim_tdx_tcb_levels_land_on_the_requested_status),
            cmocka_unit_test(test_sim_tdx_tamper_breaks_only_its_own_check),
            cmocka_unit_test(test_sim_tdx_writes_private_keys_only_with_keep_keys),
            cmocka_unit_test(test_sim_tdx_rejects_out_of_range_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
