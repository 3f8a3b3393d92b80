#include "sim/sim_tdx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/hex.h"
#include "common/timeutil.h"
#include "sim/sim_util.h"

/* Quote header (tdx-quote.md §1). */
#define QUOTE_HEADER_SIZE   48u
#define HDR_VERSION         0x00
#define HDR_ATT_KEY_TYPE    0x02
#define HDR_TEE_TYPE        0x04
#define HDR_QE_VENDOR_ID    0x0C
#define HDR_USER_DATA       0x1C
#define ATT_KEY_TYPE_P256   2u
#define TEE_TYPE_TDX        0x81u
#define V5_BODY_TYPE_TD15   3u
#define V5_BODY_PREFIX_SIZE 6u
#define QE_ID_LEN           16u

/* TD report body (§2), offsets inside the body. */
#define BODY10_SIZE          584u
#define BODY15_SIZE          648u
#define BODY_TEE_TCB_SVN     0x000
#define BODY_MR_SEAM         0x010
#define BODY_MR_SIGNER_SEAM  0x040
#define BODY_SEAM_ATTRIBUTES 0x070
#define BODY_TD_ATTRIBUTES   0x078
#define BODY_XFAM            0x080
#define BODY_MR_TD           0x088
#define BODY_MR_CONFIG_ID    0x0B8
#define BODY_MR_OWNER        0x0E8
#define BODY_MR_OWNER_CONFIG 0x118
#define BODY_RTMR0           0x148
#define BODY_REPORT_DATA     0x208
#define BODY_TEE_TCB_SVN2    0x248
#define BODY_MR_SERVICE_TD   0x258
#define TD_ATTR_DEBUG        (1ull << 0)
#define TD_ATTR_SEPT_VE_DIS  (1ull << 28)
#define XFAM_DEFAULT         0xE7ull

/* QE report = SGX REPORT body (§3). */
#define QE_REPORT_SIZE      384u
#define QE_CPU_SVN          0x000
#define QE_MISC_SELECT      0x010
#define QE_ATTRIBUTES       0x030
#define QE_MR_ENCLAVE       0x040
#define QE_MR_SIGNER        0x080
#define QE_ISV_PROD_ID      0x100
#define QE_ISV_SVN          0x102
#define QE_REPORT_DATA      0x140
#define QE_AUTH_DATA_LEN    32u
#define CERT_DATA_QE_REPORT 6u
#define CERT_DATA_PCK_CHAIN 5u

#define P256_LEN         32u
#define HOUR_SECONDS     3600
#define CRL_DAYS         30
#define COLLATERAL_DAYS  30
#define STALE_ISSUE_DAYS 60
#define SERIAL_LEN       20u

#define ROOT_CRL_DP "URI:https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define PCK_CRL_DP                                                                       \
    "URI:https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform&" \
    "encoding=der"

/* Intel's QE vendor ID (§1). */
static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                               0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

/* QE attributes as Intel's TD QE reports them (INIT | MODE64BIT), and the identity's mask. */
static const uint8_t qe_attributes[16] = {0x11};
static const uint8_t qe_attributes_mask[16] = {0xFB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

/* The SGX extension arc 1.2.840.113741.1.13.1 (§5), DER contents of the OID. */
static const uint8_t sgx_oid[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};

#define DER_BOOLEAN       0x01
#define DER_INTEGER       0x02
#define DER_OCTET_STRING  0x04
#define DER_OID           0x06
#define DER_ENUMERATED    0x0A
#define DER_SEQUENCE      0x30
#define SGX_TYPE_SCALABLE 1u

/* ---- a growable byte buffer; the first failure sticks, checked once at the end ---- */

struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

static void wb_free(struct wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void wb_put(struct wbuf *b, const uint8_t *p, size_t n)
{
    if (b->failed || n == 0) {
        return;
    }
    if (b->cap - b->len < n) {
        size_t cap = b->cap != 0 ? b->cap : 256;
        uint8_t *q;

        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        if ((q = realloc(b->p, cap)) == NULL) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void wb_u8(struct wbuf *b, uint8_t v)
{
    wb_put(b, &v, 1);
}

static void wb_u16le(struct wbuf *b, uint16_t v)
{
    const uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    wb_put(b, t, sizeof t);
}

static void wb_u32le(struct wbuf *b, uint32_t v)
{
    const uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wb_put(b, t, sizeof t);
}

static void wb_str(struct wbuf *b, const char *str)
{
    wb_put(b, (const uint8_t *)str, strlen(str));
}

static void wb_append(struct wbuf *b, const struct wbuf *src)
{
    if (src->failed) {
        b->failed = true;
        return;
    }
    wb_put(b, src->p, src->len);
}

/* ---- DER writer (definite, minimal lengths) ---- */

static void der_tlv(struct wbuf *b, uint8_t tag, const uint8_t *p, size_t n)
{
    wb_u8(b, tag);
    if (n < 0x80) {
        wb_u8(b, (uint8_t)n);
    } else {
        size_t k = 0;
        for (size_t v = n; v != 0; v >>= 8) {
            k++;
        }
        wb_u8(b, (uint8_t)(0x80u | k));
        for (size_t i = k; i > 0; i--) {
            wb_u8(b, (uint8_t)(n >> (8 * (i - 1))));
        }
    }
    wb_put(b, p, n);
}

/* Wraps inner (then freed) as one TLV of tag into b. */
static void der_wrap(struct wbuf *b, uint8_t tag, struct wbuf *inner)
{
    if (inner->failed) {
        b->failed = true;
    } else {
        der_tlv(b, tag, inner->p, inner->len);
    }
    wb_free(inner);
}

/* A non-negative INTEGER or ENUMERATED: minimal two's complement, big-endian. */
static void der_uint(struct wbuf *b, uint8_t tag, uint32_t v)
{
    uint8_t be[5];
    size_t start = 1;

    be[0] = 0;
    for (size_t i = 0; i < 4; i++) {
        be[1 + i] = (uint8_t)(v >> (8 * (3 - i)));
    }
    while (start < 4 && be[start] == 0 && (be[start + 1] & 0x80) == 0) {
        start++;
    }
    if (be[start] & 0x80) {
        start--; /* a leading zero keeps it positive */
    }
    der_tlv(b, tag, be + start, sizeof be - start);
}

/* SEQUENCE { OID 1.2.840.113741.1.13.1.<arc>, value } into out; value is consumed. */
static void sgx_entry(struct wbuf *out, const uint8_t *arc, size_t arc_len, struct wbuf *value)
{
    struct wbuf seq = {0};
    uint8_t oid[sizeof sgx_oid + 4];

    memcpy(oid, sgx_oid, sizeof sgx_oid);
    memcpy(oid + sizeof sgx_oid, arc, arc_len);
    der_tlv(&seq, DER_OID, oid, sizeof sgx_oid + arc_len);
    wb_append(&seq, value);
    wb_free(value);
    der_wrap(out, DER_SEQUENCE, &seq);
}

/* ---- the run ---- */

struct sim {
    const struct cvma_sim_tdx_opts *o;
    time_t now;
    uint8_t ppid[16];
    uint8_t platform_instance_id[16];
    uint8_t qe_id[QE_ID_LEN];
    uint8_t mr_td[48];
    uint8_t rtmr[4][48];
    uint8_t mr_seam[48];
    uint8_t module_mrsigner[48];
    uint8_t qe_mrsigner[32];
    uint8_t qe_auth_data[QE_AUTH_DATA_LEN];
    EVP_PKEY *root_key, *pca_key, *pck_key, *tcb_key, *att_key;
    X509 *root, *pca, *pck, *tcb;
    X509_CRL *pck_crl, *root_crl;
    struct wbuf quote;
    struct wbuf tcb_info_doc, qe_identity_doc;
};

static void sim_free(struct sim *s)
{
    wb_free(&s->qe_identity_doc);
    wb_free(&s->tcb_info_doc);
    wb_free(&s->quote);
    X509_CRL_free(s->root_crl);
    X509_CRL_free(s->pck_crl);
    X509_free(s->tcb);
    X509_free(s->pck);
    X509_free(s->pca);
    X509_free(s->root);
    EVP_PKEY_free(s->att_key);
    EVP_PKEY_free(s->tcb_key);
    EVP_PKEY_free(s->pck_key);
    EVP_PKEY_free(s->pca_key);
    EVP_PKEY_free(s->root_key);
}

/* see sim/sim_tdx.h */
void cvma_sim_tdx_opts_default(struct cvma_sim_tdx_opts *o)
{
    static const uint8_t fmspc[6] = {0xB0, 0xC0, 0x6F, 0x00, 0x00, 0x00};
    static const uint8_t tee_tcb_svn[16] = {3, 1, 5};
    static const uint8_t sgx[16] = {3, 3, 2, 2, 4, 1, 0, 5};

    memset(o, 0, sizeof *o);
    o->version = 4;
    memcpy(o->fmspc, fmspc, sizeof fmspc);
    memcpy(o->tee_tcb_svn, tee_tcb_svn, sizeof tee_tcb_svn);
    memcpy(o->sgx_tcb_comp, sgx, sizeof sgx);
    o->pcesvn = 11;
    o->tcb_status = CVMA_SIM_TDX_TCB_UPTODATE;
}

/* see sim/sim_tdx.h */
const char *cvma_sim_tdx_tcb_status_name(enum cvma_sim_tdx_tcb_status s)
{
    switch (s) {
    case CVMA_SIM_TDX_TCB_UPTODATE:
        return "UpToDate";
    case CVMA_SIM_TDX_TCB_SWHARDENING:
        return "SWHardeningNeeded";
    case CVMA_SIM_TDX_TCB_CONFIGNEEDED:
        return "ConfigurationNeeded";
    case CVMA_SIM_TDX_TCB_OUTOFDATE:
        return "OutOfDate";
    case CVMA_SIM_TDX_TCB_REVOKED:
        return "Revoked";
    case CVMA_SIM_TDX_TCB_NOLEVEL:
        return "";
    case CVMA_SIM_TDX_TCB_RELAUNCH:
        return "TDRelaunchAdvised";
    }
    return "";
}

static enum cvma_status check_opts(const struct cvma_sim_tdx_opts *o, char *err, size_t err_len)
{
    if (o->version != 4 && o->version != 5) {
        cvma_sim_errf(err, err_len, "sim tdx: quote version %u not supported (4, 5)", o->version);
        return CVMA_E_USAGE;
    }
    switch (o->tcb_status) {
    case CVMA_SIM_TDX_TCB_UPTODATE:
    case CVMA_SIM_TDX_TCB_SWHARDENING:
    case CVMA_SIM_TDX_TCB_CONFIGNEEDED:
    case CVMA_SIM_TDX_TCB_OUTOFDATE:
    case CVMA_SIM_TDX_TCB_REVOKED:
    case CVMA_SIM_TDX_TCB_NOLEVEL:
        break;
    case CVMA_SIM_TDX_TCB_RELAUNCH:
        /* TEE_TCB_SVN2 exists only in a TD report 1.5; the launch module SVN is one below the
         * current one, judged by the module identity (major version > 0). */
        if (o->version != 5 || o->tee_tcb_svn[0] == 0 || o->tee_tcb_svn[1] == 0) {
            cvma_sim_errf(err, err_len,
                          "sim tdx: relaunch needs quote version 5 and tee_tcb_svn[0], [1] > 0");
            return CVMA_E_USAGE;
        }
        break;
    default:
        cvma_sim_errf(err, err_len, "sim tdx: unknown tcb status %d", (int)o->tcb_status);
        return CVMA_E_USAGE;
    }
    /* The higher levels of the TCB Info add one to these (see sim_tdx.h). */
    if (o->tee_tcb_svn[2] == 0xFF || o->sgx_tcb_comp[0] == 0xFF || o->pcesvn == 0xFFFF) {
        cvma_sim_errf(err, err_len,
                      "sim tdx: tee_tcb_svn[2], sgx_tcb_comp[0] and pcesvn must leave room for a "
                      "higher TCB level");
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}

static time_t days_from(time_t t, long days)
{
    return t + (time_t)days * CVMA_SIM_DAY_SECONDS;
}

static enum cvma_status digest(const char *md, const void *p, size_t len, uint8_t *out,
                               size_t out_len)
{
    unsigned int n = 0;
    EVP_MD *m = EVP_MD_fetch(NULL, md, NULL);
    enum cvma_status st = CVMA_E_INTERNAL;

    if (m != NULL && (size_t)EVP_MD_get_size(m) == out_len &&
        EVP_Digest(p, len, out, &n, m, NULL) == 1 && n == out_len) {
        st = CVMA_OK;
    }
    EVP_MD_free(m);
    return st;
}

/* ---- certificates ---- */

/* Subject RDNs in Intel's order (CN, O, L, ST, C), with our O; random 20-byte serial. */
static X509 *intel_cert_new(const char *cn, const X509 *issuer, EVP_PKEY *key, time_t nb, time_t na)
{
    const struct cvma_sim_name_entry subject[] = {
            {"CN", cn}, {"O", CVMA_SIM_TDX_ORG}, {"L", "Santa Clara"}, {"ST", "CA"}, {"C", "US"},
    };
    uint8_t serial[SERIAL_LEN];

    if (cvma_sim_random(serial, sizeof serial) != CVMA_OK) {
        return NULL;
    }
    serial[0] = (uint8_t)((serial[0] & 0x7F) | 0x01); /* positive, exactly 20 octets */
    return cvma_sim_x509_new(subject, CVMA_ARRAY_LEN(subject),
                             issuer != NULL ? X509_get_subject_name(issuer) : NULL, key, serial,
                             sizeof serial, nb, na);
}

/*
 * The standard extensions, in the order Intel's certificates carry them: AKI, CRL DP, SKI,
 * keyUsage (critical), basicConstraints (critical). The SKI is added first (a self-signed
 * AKI takes its key ID from it) and moved behind the CRL DP.
 */
static enum cvma_status add_std_exts(X509 *x, X509 *issuer, const char *crl_dp, const char *ku,
                                     const char *bc)
{
    enum cvma_status st;
    X509_EXTENSION *ski = NULL;

    if ((st = cvma_sim_x509_add_std_ext(x, x, NID_subject_key_identifier, "hash")) != CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(x, issuer, NID_authority_key_identifier, "keyid:always")) !=
                CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(x, issuer, NID_crl_distribution_points, crl_dp)) !=
                CVMA_OK) {
        return st;
    }
    if ((ski = X509_delete_ext(x, 0)) == NULL) {
        return CVMA_E_INTERNAL;
    }
    if (X509_add_ext(x, ski, -1) != 1) {
        X509_EXTENSION_free(ski);
        return CVMA_E_INTERNAL;
    }
    X509_EXTENSION_free(ski);
    if ((st = cvma_sim_x509_add_std_ext(x, issuer, NID_key_usage, ku)) != CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(x, issuer, NID_basic_constraints, bc)) != CVMA_OK) {
        return st;
    }
    return CVMA_OK;
}

/* A new P-256 key and unsigned certificate cn under issuer (NULL: self-signed). */
static enum cvma_status make_cert(struct sim *s, const char *cn, X509 *issuer, const char *crl_dp,
                                  const char *ku, const char *bc, EVP_PKEY **key_out,
                                  X509 **cert_out, char *err, size_t err_len)
{
    enum cvma_status st;

    if ((*key_out = cvma_sim_ec_key_new(NID_X9_62_prime256v1)) == NULL) {
        cvma_sim_errf(err, err_len, "sim tdx: generating the key of %s", cn);
        return CVMA_E_INTERNAL;
    }
    if ((*cert_out = intel_cert_new(cn, issuer, *key_out, days_from(s->now, -1),
                                    days_from(s->now, CVMA_SIM_TDX_VALIDITY_DAYS))) == NULL) {
        cvma_sim_errf(err, err_len, "sim tdx: building %s", cn);
        return CVMA_E_INTERNAL;
    }
    if (issuer == NULL) {
        issuer = *cert_out;
    }
    if ((st = add_std_exts(*cert_out, issuer, crl_dp, ku, bc)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: extensions of %s", cn);
        return st;
    }
    return CVMA_OK;
}

static enum cvma_status sign_cert(X509 *x, EVP_PKEY *key, const char *cn, char *err, size_t err_len)
{
    enum cvma_status st = cvma_sim_x509_sign(x, key, CVMA_SIM_SIG_ECDSA_SHA256);

    if (st != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: signing %s", cn);
    }
    return st;
}

/* The SGX extension value (§5), as on a Platform-CA-issued PCK certificate. */
static void sgx_ext_der(const struct sim *s, struct wbuf *out)
{
    const struct cvma_sim_tdx_opts *o = s->o;
    struct wbuf all = {0}, tcb = {0}, cfg = {0}, v = {0};
    static const uint8_t pce_id[2] = {0x00, 0x00};
    static const uint8_t bool_true = 0xFF;

    der_tlv(&v, DER_OCTET_STRING, s->ppid, sizeof s->ppid);
    sgx_entry(&all, (const uint8_t[]){1}, 1, &v);

    for (uint8_t i = 0; i < 16; i++) {
        der_uint(&v, DER_INTEGER, o->sgx_tcb_comp[i]);
        sgx_entry(&tcb, (const uint8_t[]){2, (uint8_t)(i + 1)}, 2, &v);
    }
    der_uint(&v, DER_INTEGER, o->pcesvn);
    sgx_entry(&tcb, (const uint8_t[]){2, 17}, 2, &v);
    der_tlv(&v, DER_OCTET_STRING, o->sgx_tcb_comp, sizeof o->sgx_tcb_comp); /* CPUSVN */
    sgx_entry(&tcb, (const uint8_t[]){2, 18}, 2, &v);
    der_wrap(&v, DER_SEQUENCE, &tcb);
    sgx_entry(&all, (const uint8_t[]){2}, 1, &v);

    der_tlv(&v, DER_OCTET_STRING, pce_id, sizeof pce_id);
    sgx_entry(&all, (const uint8_t[]){3}, 1, &v);
    der_tlv(&v, DER_OCTET_STRING, o->fmspc, sizeof o->fmspc);
    sgx_entry(&all, (const uint8_t[]){4}, 1, &v);
    der_uint(&v, DER_ENUMERATED, SGX_TYPE_SCALABLE);
    sgx_entry(&all, (const uint8_t[]){5}, 1, &v);
    der_tlv(&v, DER_OCTET_STRING, s->platform_instance_id, sizeof s->platform_instance_id);
    sgx_entry(&all, (const uint8_t[]){6}, 1, &v);

    /* Configuration: dynamic platform, cached keys, SMT enabled; all TRUE, as on real PCKs. */
    for (uint8_t j = 1; j <= 3; j++) {
        der_tlv(&v, DER_BOOLEAN, &bool_true, 1);
        sgx_entry(&cfg, (const uint8_t[]){7, j}, 2, &v);
    }
    der_wrap(&v, DER_SEQUENCE, &cfg);
    sgx_entry(&all, (const uint8_t[]){7}, 1, &v);

    der_wrap(out, DER_SEQUENCE, &all);
}

static enum cvma_status make_hierarchy(struct sim *s, char *err, size_t err_len)
{
    enum cvma_status st;
    struct wbuf ext = {0};
    static const char root_cn[] = "Intel SGX Root CA";
    static const char pca_cn[] = "Intel SGX PCK Platform CA";
    const char *pck_cn = s->o->tamper.pck_cn_wrong ? "Intel SGX Enclave Certificate"
                                                   : "Intel SGX PCK Certificate";
    static const char tcb_cn[] = "Intel SGX TCB Signing";
    static const char ca_ku[] = "critical,keyCertSign,cRLSign";
    static const char leaf_ku[] = "critical,digitalSignature,nonRepudiation";
    static const char leaf_bc[] = "critical,CA:FALSE";

    if ((st = make_cert(s, root_cn, NULL, ROOT_CRL_DP, ca_ku, "critical,CA:TRUE,pathlen:1",
                        &s->root_key, &s->root, err, err_len)) != CVMA_OK ||
        (st = sign_cert(s->root, s->root_key, root_cn, err, err_len)) != CVMA_OK) {
        return st;
    }
    if ((st = make_cert(s, pca_cn, s->root, ROOT_CRL_DP, ca_ku, "critical,CA:TRUE,pathlen:0",
                        &s->pca_key, &s->pca, err, err_len)) != CVMA_OK ||
        (st = sign_cert(s->pca, s->root_key, pca_cn, err, err_len)) != CVMA_OK) {
        return st;
    }
    if ((st = make_cert(s, tcb_cn, s->root, ROOT_CRL_DP, leaf_ku, leaf_bc, &s->tcb_key, &s->tcb,
                        err, err_len)) != CVMA_OK ||
        (st = sign_cert(s->tcb, s->root_key, tcb_cn, err, err_len)) != CVMA_OK) {
        return st;
    }
    if ((st = make_cert(s, pck_cn, s->pca, PCK_CRL_DP, leaf_ku, leaf_bc, &s->pck_key, &s->pck, err,
                        err_len)) != CVMA_OK) {
        return st;
    }
    sgx_ext_der(s, &ext);
    if (ext.failed) {
        wb_free(&ext);
        cvma_sim_errf(err, err_len, "sim tdx: encoding the SGX extension");
        return CVMA_E_NOMEM;
    }
    st = cvma_sim_x509_add_raw_ext(s->pck, "1.2.840.113741.1.13.1", false, ext.p, ext.len);
    wb_free(&ext);
    if (st != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: adding the SGX extension");
        return st;
    }
    return sign_cert(s->pck, s->pca_key, pck_cn, err, err_len);
}

/* ---- CRLs ---- */

/* A CRL by issuer as Intel's: CRL number 1, AKI = the issuer's SKI; entries keyCompromise. */
static X509_CRL *make_crl(const struct sim *s, X509 *issuer, EVP_PKEY *key, X509 *revoked)
{
    X509_CRL *crl = NULL, *ret = NULL;
    ASN1_INTEGER *num = NULL;
    AUTHORITY_KEYID *akid = NULL;
    ASN1_ENUMERATED *reason = NULL;
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);

    if (ski == NULL) {
        goto out;
    }
    if ((crl = cvma_sim_crl_new(issuer, days_from(s->now, -1), days_from(s->now, CRL_DAYS),
                                &revoked, revoked != NULL ? 1 : 0)) == NULL) {
        goto out;
    }
    if ((num = ASN1_INTEGER_new()) == NULL || ASN1_INTEGER_set(num, 1) != 1 ||
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1) {
        goto out;
    }
    if ((akid = AUTHORITY_KEYID_new()) == NULL ||
        (akid->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL ||
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) != 1) {
        goto out;
    }
    if ((reason = ASN1_ENUMERATED_new()) == NULL ||
        ASN1_ENUMERATED_set(reason, CRL_REASON_KEY_COMPROMISE) != 1) {
        goto out;
    }
    for (int i = 0; i < sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)); i++) {
        X509_REVOKED *entry = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), i);

        if (X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, 0, 0) != 1) {
            goto out;
        }
    }
    if (cvma_sim_crl_sign(crl, key, CVMA_SIM_SIG_ECDSA_SHA256) != CVMA_OK) {
        goto out;
    }
    ret = crl;
    crl = NULL;
out:
    ASN1_ENUMERATED_free(reason);
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(num);
    X509_CRL_free(crl);
    return ret;
}

static enum cvma_status make_crls(struct sim *s, char *err, size_t err_len)
{
    if ((s->pck_crl = make_crl(s, s->pca, s->pca_key, s->o->revoke_pck ? s->pck : NULL)) == NULL) {
        cvma_sim_errf(err, err_len, "sim tdx: building the PCK CRL");
        return CVMA_E_INTERNAL;
    }
    if ((s->root_crl = make_crl(s, s->root, s->root_key, NULL)) == NULL) {
        cvma_sim_errf(err, err_len, "sim tdx: building the root CA CRL");
        return CVMA_E_INTERNAL;
    }
    return CVMA_OK;
}

/* ---- the quote ---- */

static void put_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32le(uint8_t *p, uint32_t v)
{
    for (size_t i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64le(uint8_t *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* The attestation key's public point as x || y, big-endian, 32 bytes each. */
static enum cvma_status ec_pub_xy(EVP_PKEY *key, uint8_t out[2 * P256_LEN])
{
    enum cvma_status st = CVMA_E_INTERNAL;
    BIGNUM *x = NULL, *y = NULL;

    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
        BN_bn2binpad(x, out, P256_LEN) != (int)P256_LEN ||
        BN_bn2binpad(y, out + P256_LEN, P256_LEN) != (int)P256_LEN) {
        goto out;
    }
    st = CVMA_OK;
out:
    BN_free(y);
    BN_free(x);
    return st;
}

static enum cvma_status sign_p256(EVP_PKEY *key, const uint8_t *msg, size_t len,
                                  uint8_t out[2 * P256_LEN])
{
    return cvma_sim_ecdsa_sign_raw(key, EVP_sha256(), msg, len, out, out + P256_LEN, P256_LEN);
}

/* PCK leaf, Platform CA, root as PEM, then one NUL byte (as real quotes carry it). */
static enum cvma_status pem_chain(const struct sim *s, struct wbuf *out)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    BIO *bio = NULL;
    char *data = NULL;
    long n;
    X509 *const chain[3] = {s->pck, s->pca, s->root};

    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        return CVMA_E_NOMEM;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(chain); i++) {
        if (PEM_write_bio_X509(bio, chain[i]) != 1) {
            goto out;
        }
    }
    if ((n = BIO_get_mem_data(bio, &data)) <= 0 || data == NULL) {
        goto out;
    }
    wb_put(out, (const uint8_t *)data, (size_t)n);
    wb_u8(out, 0);
    st = out->failed ? CVMA_E_NOMEM : CVMA_OK;
out:
    BIO_free(bio);
    return st;
}

/* The 384-byte QE report, its report_data bound to the attestation key and auth data. */
static enum cvma_status make_qe_report(struct sim *s, const uint8_t att_xy[2 * P256_LEN],
                                       uint8_t rep[QE_REPORT_SIZE])
{
    enum cvma_status st;
    uint8_t bound[2 * P256_LEN + QE_AUTH_DATA_LEN];

    memset(rep, 0, QE_REPORT_SIZE);
    memcpy(rep + QE_CPU_SVN, s->o->sgx_tcb_comp, 16);
    put_u32le(rep + QE_MISC_SELECT, 0);
    memcpy(rep + QE_ATTRIBUTES, qe_attributes, sizeof qe_attributes);
    if ((st = cvma_sim_random(rep + QE_MR_ENCLAVE, 32)) != CVMA_OK) {
        return st;
    }
    memcpy(rep + QE_MR_SIGNER, s->qe_mrsigner, sizeof s->qe_mrsigner);
    put_u16le(rep + QE_ISV_PROD_ID, CVMA_SIM_TDX_QE_ISV_PROD_ID);
    put_u16le(rep + QE_ISV_SVN, CVMA_SIM_TDX_QE_ISV_SVN);
    /* Intel TDX DCAP quote v4, QE report data = SHA256(att_key || auth_data) || 0^32 */
    memcpy(bound, att_xy, 2 * P256_LEN);
    memcpy(bound + 2 * P256_LEN, s->qe_auth_data, QE_AUTH_DATA_LEN);
    if ((st = digest("SHA256", bound, sizeof bound, rep + QE_REPORT_DATA, 32)) != CVMA_OK) {
        return st;
    }
    if (s->o->tamper.qe_report_data_wrong) {
        rep[QE_REPORT_DATA] ^= 1;
    }
    if (s->o->tamper.qe_report_data_tail) {
        rep[QE_REPORT_DATA + 63] = 0x01; /* filler after the key hash */
    }
    if (s->o->tamper.qe_mrsigner_wrong) {
        rep[QE_MR_SIGNER] ^= 1;
    }
    return CVMA_OK;
}

static void make_body(const struct sim *s, uint8_t *body)
{
    const struct cvma_sim_tdx_opts *o = s->o;

    memset(body, 0, BODY15_SIZE);
    memcpy(body + BODY_TEE_TCB_SVN, o->tee_tcb_svn, 16);
    if (o->tcb_status == CVMA_SIM_TDX_TCB_RELAUNCH) {
        body[BODY_TEE_TCB_SVN] =
                (uint8_t)(o->tee_tcb_svn[0] - 1); /* launched on the older module */
    }
    memcpy(body + BODY_MR_SEAM, s->mr_seam, 48);
    memcpy(body + BODY_MR_SIGNER_SEAM, s->module_mrsigner, 48);
    if (o->tamper.mrsigner_seam_wrong) {
        body[BODY_MR_SIGNER_SEAM] ^= 1;
    }
    put_u64le(body + BODY_SEAM_ATTRIBUTES, 0);
    put_u64le(body + BODY_TD_ATTRIBUTES, TD_ATTR_SEPT_VE_DIS | (o->debug ? TD_ATTR_DEBUG : 0));
    put_u64le(body + BODY_XFAM, XFAM_DEFAULT);
    memcpy(body + BODY_MR_TD, s->mr_td, 48);
    memcpy(body + BODY_MR_CONFIG_ID, o->mr_config_id, 48);
    memcpy(body + BODY_MR_OWNER, o->mr_owner, 48);
    memcpy(body + BODY_MR_OWNER_CONFIG, o->mr_owner_config, 48);
    for (size_t i = 0; i < 4; i++) {
        memcpy(body + BODY_RTMR0 + 48 * i, s->rtmr[i], 48);
    }
    memcpy(body + BODY_REPORT_DATA, o->report_data, 64);
    if (o->version == 5) {
        /* TD report 1.5: TEE_TCB_SVN2 = tee_tcb_svn (as at launch unless relaunch); a service
         * TD only when asked for. */
        memcpy(body + BODY_TEE_TCB_SVN2, o->tee_tcb_svn, 16);
        if (o->has_mr_service_td) {
            memcpy(body + BODY_MR_SERVICE_TD, o->mr_service_td, 48);
        } else {
            memset(body + BODY_MR_SERVICE_TD, 0, 48);
        }
    }
}

static enum cvma_status make_quote(struct sim *s, char *err, size_t err_len)
{
    enum cvma_status st;
    const struct cvma_sim_tdx_opts *o = s->o;
    uint8_t signed_region[QUOTE_HEADER_SIZE + V5_BODY_PREFIX_SIZE + BODY15_SIZE];
    size_t signed_len = 0;
    uint8_t body[BODY15_SIZE];
    size_t body_size = o->version == 5 ? BODY15_SIZE : BODY10_SIZE;
    uint8_t att_xy[2 * P256_LEN], quote_sig[2 * P256_LEN], qe_sig[2 * P256_LEN];
    uint8_t qe_report[QE_REPORT_SIZE];
    uint8_t auth[QE_AUTH_DATA_LEN];
    struct wbuf pem = {0}, sig = {0};
    EVP_PKEY *other = NULL;
    const char *what = "";

    if ((s->att_key = cvma_sim_ec_key_new(NID_X9_62_prime256v1)) == NULL) {
        st = CVMA_E_INTERNAL;
        what = "generating the attestation key";
        goto out;
    }
    if ((st = ec_pub_xy(s->att_key, att_xy)) != CVMA_OK) {
        what = "reading the attestation key";
        goto out;
    }

    /* Header (§1). */
    memset(signed_region, 0, sizeof signed_region);
    put_u16le(signed_region + HDR_VERSION, (uint16_t)o->version);
    put_u16le(signed_region + HDR_ATT_KEY_TYPE, ATT_KEY_TYPE_P256);
    put_u32le(signed_region + HDR_TEE_TYPE, TEE_TYPE_TDX);
    memcpy(signed_region + HDR_QE_VENDOR_ID, intel_qe_vendor_id, sizeof intel_qe_vendor_id);
    memcpy(signed_region + HDR_USER_DATA, s->qe_id, QE_ID_LEN); /* then 4 zero bytes */
    signed_len = QUOTE_HEADER_SIZE;
    if (o->version == 5) {
        put_u16le(signed_region + signed_len, V5_BODY_TYPE_TD15);
        put_u32le(signed_region + signed_len + 2, BODY15_SIZE);
        signed_len += V5_BODY_PREFIX_SIZE;
    }
    make_body(s, body);
    memcpy(signed_region + signed_len, body, body_size);
    signed_len += body_size;

    /* Quote signature over header .. body with the attestation key (§2 "Signed region"). */
    if ((st = sign_p256(s->att_key, signed_region, signed_len, quote_sig)) != CVMA_OK) {
        what = "signing the quote";
        goto out;
    }
    if ((st = make_qe_report(s, att_xy, qe_report)) != CVMA_OK) {
        what = "building the QE report";
        goto out;
    }
    if (o->tamper.pck_sig_wrong) {
        if ((other = cvma_sim_ec_key_new(NID_X9_62_prime256v1)) == NULL) {
            st = CVMA_E_INTERNAL;
            what = "generating a wrong PCK key";
            goto out;
        }
    }
    if ((st = sign_p256(other != NULL ? other : s->pck_key, qe_report, sizeof qe_report, qe_sig)) !=
        CVMA_OK) {
        what = "signing the QE report";
        goto out;
    }
    memcpy(auth, s->qe_auth_data, sizeof auth);
    if (o->tamper.qe_auth_data_flip) {
        auth[0] ^= 1;
    }
    if ((st = pem_chain(s, &pem)) != CVMA_OK) {
        what = "encoding the PCK chain";
        goto out;
    }
    if (pem.len > UINT32_MAX - 1024) {
        st = CVMA_E_INTERNAL;
        what = "sizing the PCK chain";
        goto out;
    }

    /* Signature data (§3). */
    wb_put(&sig, quote_sig, sizeof quote_sig);
    wb_put(&sig, att_xy, sizeof att_xy);
    wb_u16le(&sig, CERT_DATA_QE_REPORT);
    wb_u32le(&sig,
             (uint32_t)(QE_REPORT_SIZE + sizeof qe_sig + 2 + QE_AUTH_DATA_LEN + 2 + 4 + pem.len));
    wb_put(&sig, qe_report, sizeof qe_report);
    wb_put(&sig, qe_sig, sizeof qe_sig);
    wb_u16le(&sig, QE_AUTH_DATA_LEN);
    wb_put(&sig, auth, sizeof auth);
    wb_u16le(&sig, CERT_DATA_PCK_CHAIN);
    wb_u32le(&sig, (uint32_t)pem.len);
    wb_append(&sig, &pem);

    wb_put(&s->quote, signed_region, signed_len);
    wb_u32le(&s->quote, (uint32_t)sig.len);
    wb_append(&s->quote, &sig);
    if (s->quote.failed || sig.failed) {
        st = CVMA_E_NOMEM;
        what = "assembling the quote";
        goto out;
    }
    st = CVMA_OK;
out:
    if (st != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: %s", what);
    }
    EVP_PKEY_free(other);
    wb_free(&sig);
    wb_free(&pem);
    return st;
}

/* ---- TCB Info and QE Identity (Intel PCS v4 JSON) ---- */

struct comp_label {
    const char *category, *type;
};

/* Component labels exactly as Intel's TDX TCB Info carries them; the rest are bare {"svn"}. */
static const struct comp_label sgx_labels[16] = {
        {"BIOS", "Early Microcode Update"},
        {"OS/VMM", "SGX Late Microcode Update"},
        {"OS/VMM", "TXT SINIT"},
        {"BIOS", NULL},
        {"BIOS", NULL},
        {"BIOS", NULL},
        {NULL, NULL},
        {"OS/VMM", "SEAMLDR ACM"},
};
static const struct comp_label tdx_labels[16] = {
        {"OS/VMM", "TDX Module"},
        {"OS/VMM", "TDX Module"},
        {"OS/VMM", "TDX Late Microcode Update"},
};

static const char *const adv_current[] = {"INTEL-SA-00837"};
static const char *const adv_old[] = {"INTEL-SA-00106", "INTEL-SA-00615", "INTEL-SA-00837"};

#define DATE_CURRENT "2024-03-13T00:00:00Z"
#define DATE_PREV    "2023-08-09T00:00:00Z"
#define DATE_OLD     "2018-01-04T00:00:00Z"

struct level {
    uint8_t sgx[16];
    uint16_t pcesvn;
    uint8_t tdx[16];
    const char *status;
    const char *date;
    const char *const *adv; /* NULL for UpToDate */
    size_t n_adv;
};

/*
 * Ownership rule of the builders below: jset / jappend always take val (also when obj is NULL
 * or on failure), so every call runs unconditionally as `ok = jset(...) && ok;` and nothing
 * is released by hand except the root on failure.
 */
static bool jset(json_t *obj, const char *key, json_t *val)
{
    return val != NULL && json_object_set_new(obj, key, val) == 0;
}

static bool jappend(json_t *arr, json_t *val)
{
    return val != NULL && json_array_append_new(arr, val) == 0;
}

static json_t *jdone(json_t *root, bool ok)
{
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* Upper-case hex, as Intel writes mrsigner, attributes and fmspc. */
static json_t *jhex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    char buf[2 * 48 + 1];

    if (n > 48) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[p[i] >> 4];
        buf[2 * i + 1] = digits[p[i] & 0x0F];
    }
    buf[2 * n] = '\0';
    return json_string(buf);
}

static json_t *jtime(time_t t)
{
    char buf[32];

    cvma_time_format(t, buf, sizeof buf);
    return json_string(buf);
}

static json_t *jcomponents(const uint8_t svn[16], const struct comp_label labels[16])
{
    json_t *arr = json_array();
    bool ok = arr != NULL;

    for (size_t i = 0; i < 16; i++) {
        json_t *c = json_object();

        ok = jset(c, "svn", json_integer(svn[i])) && ok;
        if (labels[i].category != NULL) {
            ok = jset(c, "category", json_string(labels[i].category)) && ok;
        }
        if (labels[i].type != NULL) {
            ok = jset(c, "type", json_string(labels[i].type)) && ok;
        }
        ok = jappend(arr, c) && ok;
    }
    return jdone(arr, ok);
}

static json_t *jstrings(const char *const *ids, size_t n)
{
    json_t *arr = json_array();
    bool ok = arr != NULL;

    for (size_t i = 0; i < n; i++) {
        ok = jappend(arr, json_string(ids[i])) && ok;
    }
    return jdone(arr, ok);
}

/* {"tcb":{"sgxtcbcomponents":..,"pcesvn":..,"tdxtcbcomponents":..},"tcbDate":..,
 *  "tcbStatus":..[,"advisoryIDs":[..]]} */
static json_t *jlevel_tdx(const struct level *l)
{
    json_t *lv = json_object(), *tcb = json_object();
    bool ok = lv != NULL;

    ok = jset(tcb, "sgxtcbcomponents", jcomponents(l->sgx, sgx_labels)) && ok;
    ok = jset(tcb, "pcesvn", json_integer(l->pcesvn)) && ok;
    ok = jset(tcb, "tdxtcbcomponents", jcomponents(l->tdx, tdx_labels)) && ok;
    ok = jset(lv, "tcb", tcb) && ok;
    ok = jset(lv, "tcbDate", json_string(l->date)) && ok;
    ok = jset(lv, "tcbStatus", json_string(l->status)) && ok;
    if (l->adv != NULL) {
        ok = jset(lv, "advisoryIDs", jstrings(l->adv, l->n_adv)) && ok;
    }
    return jdone(lv, ok);
}

/* {"tcb":{"isvsvn":N},"tcbDate":..,"tcbStatus":"UpToDate"} (QE and module identities). */
static json_t *jlevel_isvsvn(unsigned isvsvn, const char *date)
{
    json_t *lv = json_object(), *tcb = json_object();
    bool ok = lv != NULL;

    ok = jset(tcb, "isvsvn", json_integer(isvsvn)) && ok;
    ok = jset(lv, "tcb", tcb) && ok;
    ok = jset(lv, "tcbDate", json_string(date)) && ok;
    ok = jset(lv, "tcbStatus", json_string("UpToDate")) && ok;
    return jdone(lv, ok);
}

/* The same, OutOfDate with advisoryIDs. */
static json_t *jlevel_isvsvn_old(unsigned isvsvn)
{
    json_t *lv = json_object(), *tcb = json_object();
    bool ok = lv != NULL;

    ok = jset(tcb, "isvsvn", json_integer(isvsvn)) && ok;
    ok = jset(lv, "tcb", tcb) && ok;
    ok = jset(lv, "tcbDate", json_string(DATE_OLD)) && ok;
    ok = jset(lv, "tcbStatus", json_string("OutOfDate")) && ok;
    ok = jset(lv, "advisoryIDs", jstrings(adv_old, CVMA_ARRAY_LEN(adv_old))) && ok;
    return jdone(lv, ok);
}

/* The platform TCB levels for o->tcb_status (design: sim_tdx.h). Returns the count. */
static size_t design_levels(const struct cvma_sim_tdx_opts *o, struct level out[4])
{
    struct level m, h, h2, h3, l;
    bool have_l = o->pcesvn > 0;
    size_t n = 0;

    memset(&m, 0, sizeof m);
    memcpy(m.sgx, o->sgx_tcb_comp, 16);
    m.pcesvn = o->pcesvn;
    memcpy(m.tdx, o->tee_tcb_svn, 16);
    m.status = cvma_sim_tdx_tcb_status_name(o->tcb_status);
    m.date = DATE_PREV;
    m.adv = adv_current;
    m.n_adv = CVMA_ARRAY_LEN(adv_current);
    if (o->tcb_status == CVMA_SIM_TDX_TCB_UPTODATE || o->tcb_status == CVMA_SIM_TDX_TCB_RELAUNCH) {
        /* relaunch: the platform is up to date; the module levels make the difference */
        m.status = "UpToDate";
        m.date = DATE_CURRENT;
        m.adv = NULL;
        m.n_adv = 0;
    }

    h = m; /* a newer SGX component 0 */
    h.sgx[0]++;
    h.status = "UpToDate";
    h.date = DATE_CURRENT;
    h.adv = NULL;
    h.n_adv = 0;

    h3 = h; /* the platform's SGX TCB and PCESVN, a newer TDX component 2 */
    memcpy(h3.sgx, m.sgx, 16);
    h3.tdx[2]++;

    h2 = m; /* a newer PCE */
    h2.pcesvn++;
    h2.status = "OutOfDate";
    h2.date = DATE_OLD;
    h2.adv = adv_old;
    h2.n_adv = CVMA_ARRAY_LEN(adv_old);

    l = h2; /* an older PCE */
    l.pcesvn = (uint16_t)(m.pcesvn - (have_l ? 1 : 0));

    switch (o->tcb_status) {
    case CVMA_SIM_TDX_TCB_UPTODATE:
    case CVMA_SIM_TDX_TCB_RELAUNCH:
        out[n++] = m;
        break;
    case CVMA_SIM_TDX_TCB_SWHARDENING:
        out[n++] = h;
        out[n++] = m;
        break;
    case CVMA_SIM_TDX_TCB_CONFIGNEEDED:
        out[n++] = h3;
        out[n++] = m;
        break;
    case CVMA_SIM_TDX_TCB_OUTOFDATE:
        h2.status = "SWHardeningNeeded";
        l.status = "Revoked";
        out[n++] = h;
        out[n++] = h2;
        out[n++] = m;
        break;
    case CVMA_SIM_TDX_TCB_REVOKED:
        out[n++] = h;
        out[n++] = h2;
        out[n++] = m;
        have_l = false;
        break;
    case CVMA_SIM_TDX_TCB_NOLEVEL:
        h3.status = "OutOfDate";
        h3.date = DATE_OLD;
        h3.adv = adv_old;
        h3.n_adv = CVMA_ARRAY_LEN(adv_old);
        out[n++] = h;
        out[n++] = h2;
        out[n++] = h3;
        have_l = false;
        break;
    }
    if (have_l) {
        out[n++] = l;
    }
    return n;
}

static json_t *tcb_info_json(const struct sim *s, time_t issue, time_t next)
{
    const struct cvma_sim_tdx_opts *o = s->o;
    static const uint8_t zero8[8] = {0};
    static const uint8_t ones8[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t pce_id[2] = {0};
    uint8_t fmspc[6];
    json_t *ti = json_object(), *mod = json_object(), *ident = json_object();
    json_t *idents = json_array(), *mlevels = json_array(), *levels = json_array();
    struct level lv[4];
    size_t n_lv = design_levels(o, lv);
    unsigned major = o->tee_tcb_svn[1] != 0 ? o->tee_tcb_svn[1] : 1;
    unsigned minor = o->tee_tcb_svn[0];
    char module_id[16];
    bool ok = ti != NULL;

    memcpy(fmspc, o->fmspc, sizeof fmspc);
    if (o->tamper.wrong_fmspc_in_tcb_info) {
        fmspc[5] ^= 1;
    }
    snprintf(module_id, sizeof module_id, "TDX_%02X", major);

    /* Key order and spelling as in Intel's TDX TCB Info v3. */
    ok = jset(ti, "id", json_string("TDX")) && ok;
    ok = jset(ti, "version", json_integer(3)) && ok;
    ok = jset(ti, "issueDate", jtime(issue)) && ok;
    ok = jset(ti, "nextUpdate", jtime(next)) && ok;
    ok = jset(ti, "fmspc", jhex(fmspc, sizeof fmspc)) && ok;
    ok = jset(ti, "pceId", jhex(pce_id, sizeof pce_id)) && ok;
    ok = jset(ti, "tcbType", json_integer(0)) && ok;
    ok = jset(ti, "tcbEvaluationDataNumber", json_integer(CVMA_SIM_TDX_TCB_EVAL_NUM)) && ok;

    ok = jset(mod, "mrsigner", jhex(s->module_mrsigner, 48)) && ok;
    ok = jset(mod, "attributes", jhex(zero8, 8)) && ok;
    ok = jset(mod, "attributesMask", jhex(ones8, 8)) && ok;
    ok = jset(ti, "tdxModule", mod) && ok;

    ok = jset(ident, "id", json_string(module_id)) && ok;
    ok = jset(ident, "mrsigner", jhex(s->module_mrsigner, 48)) && ok;
    ok = jset(ident, "attributes", jhex(zero8, 8)) && ok;
    ok = jset(ident, "attributesMask", jhex(ones8, 8)) && ok;
    if (o->tcb_status == CVMA_SIM_TDX_TCB_RELAUNCH) {
        /* TEE_TCB_SVN2[0] = minor meets the UpToDate level, TEE_TCB_SVN[0] = minor - 1 only
         * the OutOfDate one (check_opts: minor > 0). */
        ok = jappend(mlevels, jlevel_isvsvn(minor, DATE_CURRENT)) && ok;
        ok = jappend(mlevels, jlevel_isvsvn_old(minor - 1)) && ok;
    } else {
        ok = jappend(mlevels, jlevel_isvsvn(minor > 0 ? minor - 1 : 0, DATE_CURRENT)) && ok;
    }
    ok = jset(ident, "tcbLevels", mlevels) && ok;
    ok = jappend(idents, ident) && ok;
    ok = jset(ti, "tdxModuleIdentities", idents) && ok;

    for (size_t i = 0; i < n_lv; i++) {
        ok = jappend(levels, jlevel_tdx(&lv[i])) && ok;
    }
    ok = jset(ti, "tcbLevels", levels) && ok;
    return jdone(ti, ok);
}

static json_t *qe_identity_json(const struct sim *s, time_t issue, time_t next)
{
    static const uint8_t miscselect[4] = {0};
    static const uint8_t miscselect_mask[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    json_t *qi = json_object(), *levels = json_array();
    bool ok = qi != NULL;

    /* Key order and spelling as in Intel's TD_QE identity v2. */
    ok = jset(qi, "id", json_string("TD_QE")) && ok;
    ok = jset(qi, "version", json_integer(2)) && ok;
    ok = jset(qi, "issueDate", jtime(issue)) && ok;
    ok = jset(qi, "nextUpdate", jtime(next)) && ok;
    ok = jset(qi, "tcbEvaluationDataNumber", json_integer(CVMA_SIM_TDX_TCB_EVAL_NUM)) && ok;
    ok = jset(qi, "miscselect", jhex(miscselect, 4)) && ok;
    ok = jset(qi, "miscselectMask", jhex(miscselect_mask, 4)) && ok;
    ok = jset(qi, "attributes", jhex(qe_attributes, 16)) && ok;
    ok = jset(qi, "attributesMask", jhex(qe_attributes_mask, 16)) && ok;
    ok = jset(qi, "mrsigner", jhex(s->qe_mrsigner, 32)) && ok;
    ok = jset(qi, "isvprodid", json_integer(CVMA_SIM_TDX_QE_ISV_PROD_ID)) && ok;
    ok = jappend(levels, jlevel_isvsvn(CVMA_SIM_TDX_QE_ISV_SVN, DATE_CURRENT)) && ok;
    ok = jset(qi, "tcbLevels", levels) && ok;
    return jdone(qi, ok);
}

/*
 * Serializes inner once (compact, insertion order), signs exactly those bytes with key, and
 * writes {"<key_name>":<inner>,"signature":"<hex r||s>"} into out.
 */
static enum cvma_status signed_doc(json_t *inner, const char *key_name, EVP_PKEY *key,
                                   struct wbuf *out)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    char *text = NULL;
    uint8_t sig[2 * P256_LEN];
    char hex[4 * P256_LEN + 1];
    size_t text_len;

    if (inner == NULL) {
        return CVMA_E_NOMEM;
    }
    if ((text = json_dumps(inner, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
        goto out;
    }
    text_len = strlen(text);
    if ((st = sign_p256(key, (const uint8_t *)text, text_len, sig)) != CVMA_OK) {
        goto out;
    }
    cvma_hex_encode(sig, sizeof sig, hex, sizeof hex);
    wb_str(out, "{\"");
    wb_str(out, key_name);
    wb_str(out, "\":");
    wb_put(out, (const uint8_t *)text, text_len);
    wb_str(out, ",\"signature\":\"");
    wb_str(out, hex);
    wb_str(out, "\"}");
    st = out->failed ? CVMA_E_NOMEM : CVMA_OK;
out:
    free(text);
    return st;
}

static enum cvma_status make_collateral(struct sim *s, char *err, size_t err_len)
{
    enum cvma_status st = CVMA_OK;
    const struct cvma_sim_tdx_opts *o = s->o;
    time_t issue = s->now - HOUR_SECONDS;
    time_t next = days_from(s->now, COLLATERAL_DAYS);
    EVP_PKEY *other = NULL;
    json_t *ti = NULL, *qi = NULL;
    const char *what = "";

    if (o->stale) {
        issue = days_from(s->now, -STALE_ISSUE_DAYS);
        next = days_from(s->now, -COLLATERAL_DAYS);
    }
    if ((o->tamper.tcb_info_sig_wrong || o->tamper.qe_identity_sig_wrong) &&
        (other = cvma_sim_ec_key_new(NID_X9_62_prime256v1)) == NULL) {
        st = CVMA_E_INTERNAL;
        what = "generating a wrong TCB signing key";
        goto out;
    }
    ti = tcb_info_json(s, issue, next);
    if ((st = signed_doc(ti, "tcbInfo", o->tamper.tcb_info_sig_wrong ? other : s->tcb_key,
                         &s->tcb_info_doc)) != CVMA_OK) {
        what = "building TCB Info";
        goto out;
    }
    qi = qe_identity_json(s, issue, next);
    if ((st = signed_doc(qi, "enclaveIdentity",
                         o->tamper.qe_identity_sig_wrong ? other : s->tcb_key,
                         &s->qe_identity_doc)) != CVMA_OK) {
        what = "building QE Identity";
        goto out;
    }
out:
    if (st != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: %s", what);
    }
    json_decref(qi);
    json_decref(ti);
    EVP_PKEY_free(other);
    return st;
}

/* ---- files ---- */

static const char *const key_files[] = {"root_ca-key.pem", "pck_ca-key.pem", "pck-key.pem",
                                        "tcb_signing-key.pem", "attestation-key.pem"};

static enum cvma_status write_files(const struct sim *s, const char *dir, char *err, size_t err_len)
{
    enum cvma_status st = CVMA_OK;
    const char *name = "";
    X509 *tcb_chain[2] = {s->tcb, s->root};
    X509 *pca_chain[2] = {s->pca, s->root};
    EVP_PKEY *keys[CVMA_ARRAY_LEN(key_files)] = {s->root_key, s->pca_key, s->pck_key, s->tcb_key,
                                                 s->att_key};

    for (size_t i = 0; i < CVMA_ARRAY_LEN(key_files); i++) {
        name = key_files[i];
        st = s->o->keep_keys ? cvma_sim_write_key_pem(dir, name, keys[i])
                             : cvma_sim_remove(dir, name);
        if (st != CVMA_OK) {
            goto fail;
        }
    }
    if ((st = cvma_sim_write_cert_pem(dir, name = "root_ca.pem", &s->root, 1)) != CVMA_OK ||
        (st = cvma_sim_write_cert_pem(dir, name = "tcb_info_issuer_chain.pem", tcb_chain, 2)) !=
                CVMA_OK ||
        (st = cvma_sim_write_cert_pem(dir, name = "qe_identity_issuer_chain.pem", tcb_chain, 2)) !=
                CVMA_OK ||
        (st = cvma_sim_write_cert_pem(dir, name = "pck_crl_issuer_chain.pem", pca_chain, 2)) !=
                CVMA_OK ||
        (st = cvma_sim_write_crl_der(dir, name = "pck_crl.der", s->pck_crl)) != CVMA_OK ||
        (st = cvma_sim_write_crl_der(dir, name = "root_ca_crl.der", s->root_crl)) != CVMA_OK ||
        (st = cvma_sim_write_bytes(dir, name = "tcb_info.json", s->tcb_info_doc.p,
                                   s->tcb_info_doc.len)) != CVMA_OK ||
        (st = cvma_sim_write_bytes(dir, name = "qe_identity.json", s->qe_identity_doc.p,
                                   s->qe_identity_doc.len)) != CVMA_OK) {
        goto fail;
    }
    /* Last, so a complete quote.bin means a complete set. */
    if ((st = cvma_sim_write_bytes(dir, name = "quote.bin", s->quote.p, s->quote.len)) != CVMA_OK) {
        goto fail;
    }
    return CVMA_OK;
fail:
    cvma_sim_errf(err, err_len, "sim tdx: writing %s into %s", name, dir);
    return st;
}

static enum cvma_status make_identities(struct sim *s)
{
    enum cvma_status st;
    const struct cvma_sim_tdx_opts *o = s->o;

    if (o->has_ppid) {
        memcpy(s->ppid, o->ppid, sizeof s->ppid);
    } else if ((st = cvma_sim_random(s->ppid, sizeof s->ppid)) != CVMA_OK) {
        return st;
    }
    if (o->has_mr_td) {
        memcpy(s->mr_td, o->mr_td, sizeof s->mr_td);
    } else if ((st = cvma_sim_random(s->mr_td, sizeof s->mr_td)) != CVMA_OK) {
        return st;
    }
    for (size_t i = 0; i < 4; i++) {
        if (o->has_rtmr[i]) {
            memcpy(s->rtmr[i], o->rtmr[i], 48);
        } else if (i < 3 && (st = cvma_sim_random(s->rtmr[i], 48)) != CVMA_OK) {
            return st;
        }
    }
    if ((st = cvma_sim_random(s->platform_instance_id, sizeof s->platform_instance_id)) !=
                CVMA_OK ||
        (st = cvma_sim_random(s->qe_id, sizeof s->qe_id)) != CVMA_OK ||
        (st = cvma_sim_random(s->mr_seam, sizeof s->mr_seam)) != CVMA_OK) {
        return st;
    }
    for (size_t i = 0; i < QE_AUTH_DATA_LEN; i++) {
        s->qe_auth_data[i] = (uint8_t)i; /* as Intel's QE library fills it */
    }
    if ((st = digest("SHA256", CVMA_SIM_TDX_QE_MRSIGNER_SEED, strlen(CVMA_SIM_TDX_QE_MRSIGNER_SEED),
                     s->qe_mrsigner, sizeof s->qe_mrsigner)) != CVMA_OK ||
        (st = digest("SHA384", CVMA_SIM_TDX_MODULE_MRSIGNER_SEED,
                     strlen(CVMA_SIM_TDX_MODULE_MRSIGNER_SEED), s->module_mrsigner,
                     sizeof s->module_mrsigner)) != CVMA_OK) {
        return st;
    }
    return CVMA_OK;
}

/* see sim/sim_tdx.h */
enum cvma_status cvma_sim_tdx_write(const struct cvma_sim_tdx_opts *o, const char *dir, char *err,
                                    size_t err_len)
{
    enum cvma_status st;
    struct sim s;

    memset(&s, 0, sizeof s);
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    if (o == NULL || dir == NULL || dir[0] == '\0') {
        cvma_sim_errf(err, err_len, "sim tdx: no options or output directory");
        return CVMA_E_USAGE;
    }
    if ((st = check_opts(o, err, err_len)) != CVMA_OK) {
        return st;
    }
    s.o = o;
    s.now = time(NULL);
    if ((st = make_identities(&s)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: random identities and measurements");
        goto out;
    }
    if ((st = cvma_sim_mkdir_p(dir)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: cannot create directory %s", dir);
        goto out;
    }
    if ((st = make_hierarchy(&s, err, err_len)) != CVMA_OK ||
        (st = make_crls(&s, err, err_len)) != CVMA_OK ||
        (st = make_quote(&s, err, err_len)) != CVMA_OK ||
        (st = make_collateral(&s, err, err_len)) != CVMA_OK ||
        (st = write_files(&s, dir, err, err_len)) != CVMA_OK) {
        goto out;
    }
    st = CVMA_OK;
out:
    sim_free(&s);
    return st;
}
