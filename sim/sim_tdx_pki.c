/* The simulated TDX TEE (sim/sim_tdx_internal.h): the Intel-shaped certificate hierarchy,
 * with the SGX extension on the PCK certificate, and the CRLs. */
#include <string.h>

#include <openssl/obj_mac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sim/sim_tdx_internal.h"

#define CRL_DAYS   30
#define SERIAL_LEN 20u

#define ROOT_CRL_DP "URI:https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define PCK_CRL_DP                                                                       \
    "URI:https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform&" \
    "encoding=der"

/* The SGX extension arc 1.2.840.113741.1.13.1 (SGX PCK Certificate and CRL Profile), DER contents
 * of the OID. */
static const uint8_t sgx_oid[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};

#define DER_BOOLEAN       0x01
#define DER_INTEGER       0x02
#define DER_OCTET_STRING  0x04
#define DER_OID           0x06
#define DER_ENUMERATED    0x0A
#define DER_SEQUENCE      0x30
#define SGX_TYPE_SCALABLE 1u

/* SEQUENCE { OID 1.2.840.113741.1.13.1.<arc>, value } into out; value is consumed. */
static void sgx_entry(struct cvma_sim_wbuf *out, const uint8_t *arc, size_t arc_len,
                      struct cvma_sim_wbuf *value)
{
    struct cvma_sim_wbuf seq = {0};
    uint8_t oid[sizeof sgx_oid + 4];

    memcpy(oid, sgx_oid, sizeof sgx_oid);
    memcpy(oid + sizeof sgx_oid, arc, arc_len);
    cvma_sim_der_tlv(&seq, DER_OID, oid, sizeof sgx_oid + arc_len);
    cvma_sim_wb_append(&seq, value);
    cvma_sim_wb_free(value);
    cvma_sim_der_wrap(out, DER_SEQUENCE, &seq);
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
static enum cvma_status make_cert(struct tdx_sim *s, const char *cn, X509 *issuer,
                                  const char *crl_dp, const char *ku, const char *bc,
                                  EVP_PKEY **key_out, X509 **cert_out, char *err, size_t err_len)
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

/* Signed as Intel signs (ecdsa-with-SHA256), or with sha384 (a tamper) ecdsa-with-SHA384. */
static enum cvma_status sign_cert(X509 *x, EVP_PKEY *key, const char *cn, bool sha384, char *err,
                                  size_t err_len)
{
    enum cvma_status st = cvma_sim_x509_sign(
            x, key, sha384 ? CVMA_SIM_SIG_ECDSA_SHA384 : CVMA_SIM_SIG_ECDSA_SHA256);

    if (st != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: signing %s", cn);
    }
    return st;
}

/* The SGX extension value (SGX PCK Certificate and CRL Profile), as on a Platform-CA-issued PCK
 * certificate. */
static void sgx_ext_der(const struct tdx_sim *s, struct cvma_sim_wbuf *out)
{
    const struct cvma_sim_tdx_opts *o = s->o;
    struct cvma_sim_wbuf all = {0}, tcb = {0}, cfg = {0}, v = {0};
    static const uint8_t pce_id[2] = {0x00, 0x00};
    static const uint8_t bool_true = 0xFF;

    cvma_sim_der_tlv(&v, DER_OCTET_STRING, s->ppid, sizeof s->ppid);
    sgx_entry(&all, (const uint8_t[]){1}, 1, &v);

    for (uint8_t i = 0; i < 16; i++) {
        cvma_sim_der_uint(&v, DER_INTEGER, o->sgx_tcb_comp[i]);
        sgx_entry(&tcb, (const uint8_t[]){2, (uint8_t)(i + 1)}, 2, &v);
    }
    cvma_sim_der_uint(&v, DER_INTEGER, o->pcesvn);
    sgx_entry(&tcb, (const uint8_t[]){2, 17}, 2, &v);
    cvma_sim_der_tlv(&v, DER_OCTET_STRING, o->sgx_tcb_comp, sizeof o->sgx_tcb_comp); /* CPUSVN */
    sgx_entry(&tcb, (const uint8_t[]){2, 18}, 2, &v);
    cvma_sim_der_wrap(&v, DER_SEQUENCE, &tcb);
    sgx_entry(&all, (const uint8_t[]){2}, 1, &v);

    cvma_sim_der_tlv(&v, DER_OCTET_STRING, pce_id, sizeof pce_id);
    sgx_entry(&all, (const uint8_t[]){3}, 1, &v);
    cvma_sim_der_tlv(&v, DER_OCTET_STRING, o->fmspc, sizeof o->fmspc);
    sgx_entry(&all, (const uint8_t[]){4}, 1, &v);
    cvma_sim_der_uint(&v, DER_ENUMERATED, SGX_TYPE_SCALABLE);
    sgx_entry(&all, (const uint8_t[]){5}, 1, &v);
    cvma_sim_der_tlv(&v, DER_OCTET_STRING, s->platform_instance_id, sizeof s->platform_instance_id);
    sgx_entry(&all, (const uint8_t[]){6}, 1, &v);

    /* Configuration: dynamic platform, cached keys, SMT enabled; all TRUE, as on real PCKs. */
    for (uint8_t j = 1; j <= 3; j++) {
        cvma_sim_der_tlv(&v, DER_BOOLEAN, &bool_true, 1);
        sgx_entry(&cfg, (const uint8_t[]){7, j}, 2, &v);
    }
    cvma_sim_der_wrap(&v, DER_SEQUENCE, &cfg);
    sgx_entry(&all, (const uint8_t[]){7}, 1, &v);

    cvma_sim_der_wrap(out, DER_SEQUENCE, &all);
}

/* see sim/sim_tdx_internal.h */
enum cvma_status cvma_sim_tdx_make_hierarchy(struct tdx_sim *s, char *err, size_t err_len)
{
    enum cvma_status st;
    struct cvma_sim_wbuf ext = {0};
    static const char root_cn[] = "Intel SGX Root CA";
    static const char pca_cn[] = "Intel SGX PCK Platform CA";
    const char *pck_cn = s->o->tamper.pck_cn_wrong    ? "Intel SGX Enclave Certificate"
                         : s->o->tamper.pck_cn_padded ? "Not an Intel SGX PCK Certificate"
                                                      : "Intel SGX PCK Certificate";
    static const char tcb_cn[] = "Intel SGX TCB Signing";
    static const char ca_ku[] = "critical,keyCertSign,cRLSign";
    static const char leaf_ku[] = "critical,digitalSignature,nonRepudiation";
    static const char leaf_bc[] = "critical,CA:FALSE";

    if ((st = make_cert(s, root_cn, NULL, ROOT_CRL_DP, ca_ku, "critical,CA:TRUE,pathlen:1",
                        &s->root_key, &s->root, err, err_len)) != CVMA_OK ||
        (st = sign_cert(s->root, s->root_key, root_cn, false, err, err_len)) != CVMA_OK) {
        return st;
    }
    if ((st = make_cert(s, pca_cn, s->root, ROOT_CRL_DP, ca_ku, "critical,CA:TRUE,pathlen:0",
                        &s->pca_key, &s->pca, err, err_len)) != CVMA_OK ||
        (st = sign_cert(s->pca, s->root_key, pca_cn, false, err, err_len)) != CVMA_OK) {
        return st;
    }
    if ((st = make_cert(s, tcb_cn, s->root, ROOT_CRL_DP, leaf_ku, leaf_bc, &s->tcb_key, &s->tcb,
                        err, err_len)) != CVMA_OK ||
        (st = sign_cert(s->tcb, s->root_key, tcb_cn, s->o->tamper.tcb_signer_sha384, err,
                        err_len)) != CVMA_OK) {
        return st;
    }
    if ((st = make_cert(s, pck_cn, s->pca, PCK_CRL_DP, leaf_ku,
                        s->o->tamper.pck_is_ca ? "critical,CA:TRUE" : leaf_bc, &s->pck_key, &s->pck,
                        err, err_len)) != CVMA_OK) {
        return st;
    }
    sgx_ext_der(s, &ext);
    if (ext.failed) {
        cvma_sim_wb_free(&ext);
        cvma_sim_errf(err, err_len, "sim tdx: encoding the SGX extension");
        return CVMA_E_NOMEM;
    }
    st = cvma_sim_x509_add_raw_ext(s->pck, "1.2.840.113741.1.13.1", false, ext.p, ext.len);
    cvma_sim_wb_free(&ext);
    if (st != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: adding the SGX extension");
        return st;
    }
    return sign_cert(s->pck, s->pca_key, pck_cn, s->o->tamper.pck_sha384, err, err_len);
}

/* ---- CRLs ---- */

/* A CRL by issuer as Intel's: CRL number 1, AKI = the issuer's SKI; entries keyCompromise. */
static X509_CRL *make_crl(const struct tdx_sim *s, X509 *issuer, EVP_PKEY *key, X509 *revoked,
                          bool no_next_update, bool sha384)
{
    X509_CRL *crl = NULL, *ret = NULL;
    ASN1_INTEGER *num = NULL;
    AUTHORITY_KEYID *akid = NULL;
    ASN1_ENUMERATED *reason = NULL;
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);

    if (ski == NULL) {
        goto out;
    }
    if ((crl = cvma_sim_crl_new(issuer, days_from(s->now, -1),
                                no_next_update ? 0 : days_from(s->now, CRL_DAYS), &revoked,
                                revoked != NULL ? 1 : 0)) == NULL) {
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
    if (cvma_sim_crl_sign(crl, key,
                          sha384 ? CVMA_SIM_SIG_ECDSA_SHA384 : CVMA_SIM_SIG_ECDSA_SHA256) !=
        CVMA_OK) {
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

/* see sim/sim_tdx_internal.h */
enum cvma_status cvma_sim_tdx_make_crls(struct tdx_sim *s, char *err, size_t err_len)
{
    if ((s->pck_crl = make_crl(s, s->pca, s->pca_key, s->o->revoke_pck ? s->pck : NULL,
                               s->o->tamper.pck_crl_no_next_update, s->o->tamper.pck_crl_sha384)) ==
        NULL) {
        cvma_sim_errf(err, err_len, "sim tdx: building the PCK CRL");
        return CVMA_E_INTERNAL;
    }
    if ((s->root_crl = make_crl(s, s->root, s->root_key, NULL, false,
                                s->o->tamper.root_crl_sha384)) == NULL) {
        cvma_sim_errf(err, err_len, "sim tdx: building the root CA CRL");
        return CVMA_E_INTERNAL;
    }
    return CVMA_OK;
}
