/* The simulated TDX TEE (sim/sim_tdx_internal.h): the DCAP quote, v4 or v5, with its QE
 * report and certification data. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "sim/sim_tdx_internal.h"

/* Quote header (Intel TDX DCAP Quoting Library API, quote format). */
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

/* TD report body (DCAP quote format), offsets inside the body. */
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

/* QE report = SGX REPORT body (quote signature data). */
#define QE_REPORT_SIZE      384u
#define QE_CPU_SVN          0x000
#define QE_MISC_SELECT      0x010
#define QE_ATTRIBUTES       0x030
#define QE_MR_ENCLAVE       0x040
#define QE_MR_SIGNER        0x080
#define QE_ISV_PROD_ID      0x100
#define QE_ISV_SVN          0x102
#define QE_REPORT_DATA      0x140
#define CERT_DATA_QE_REPORT 6u
#define CERT_DATA_PCK_CHAIN 5u

/* Intel's QE vendor ID (quote header). */
static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                               0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

/* The QE report's SGX ATTRIBUTES, as Intel's TD QE reports them: flags 0x15 (INIT |
 * MODE64BIT | PROVISIONKEY), XFRM 0xE7. The QE Identity (sim_tdx_collateral.c) has Intel's
 * attributes 0x11 under mask FBFF..FF 0000..00: MODE64BIT and XFRM are masked out, so a
 * verifier accepts this report only when it applies the mask. */
static const uint8_t qe_report_attributes[16] = {0x15, 0, 0, 0, 0, 0, 0, 0, 0xE7};

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

/* PCK leaf, Platform CA, root as PEM, then one NUL byte (as real quotes carry it). */
static enum cvma_status pem_chain(const struct tdx_sim *s, struct cvma_sim_wbuf *out)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    BIO *bio = NULL;
    char *data = NULL;
    long n;
    X509 *resigned = NULL;
    X509 *chain[3] = {s->pck, s->pca, s->root};

    if (s->o->tamper.root_resigned_in_quote) {
        if ((resigned = X509_dup(s->root)) == NULL ||
            X509_sign(resigned, s->root_key, EVP_sha256()) <= 0) {
            X509_free(resigned);
            return CVMA_E_INTERNAL;
        }
        chain[2] = resigned;
    }
    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        X509_free(resigned);
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
    cvma_sim_wb_put(out, (const uint8_t *)data, (size_t)n);
    cvma_sim_wb_u8(out, 0);
    st = out->failed ? CVMA_E_NOMEM : CVMA_OK;
out:
    BIO_free(bio);
    X509_free(resigned);
    return st;
}

/* The 384-byte QE report, its report_data bound to the attestation key and auth data. */
static enum cvma_status make_qe_report(struct tdx_sim *s, const uint8_t att_xy[2 * P256_LEN],
                                       uint8_t rep[QE_REPORT_SIZE])
{
    enum cvma_status st;
    uint8_t bound[2 * P256_LEN + QE_AUTH_DATA_LEN];

    memset(rep, 0, QE_REPORT_SIZE);
    memcpy(rep + QE_CPU_SVN, s->o->sgx_tcb_comp, 16);
    put_u32le(rep + QE_MISC_SELECT, 0);
    memcpy(rep + QE_ATTRIBUTES, qe_report_attributes, sizeof qe_report_attributes);
    if ((st = cvma_sim_random(rep + QE_MR_ENCLAVE, 32)) != CVMA_OK) {
        return st;
    }
    memcpy(rep + QE_MR_SIGNER, s->qe_mrsigner, sizeof s->qe_mrsigner);
    put_u16le(rep + QE_ISV_PROD_ID, CVMA_SIM_TDX_QE_ISV_PROD_ID);
    put_u16le(rep + QE_ISV_SVN, CVMA_SIM_TDX_QE_ISV_SVN);
    /* Intel TDX DCAP quote v4, QE report data = SHA256(att_key || auth_data) || 0^32 */
    memcpy(bound, att_xy, 2 * P256_LEN);
    memcpy(bound + 2 * P256_LEN, s->qe_auth_data, QE_AUTH_DATA_LEN);
    if ((st = cvma_sim_digest("SHA256", bound, sizeof bound, rep + QE_REPORT_DATA, 32)) !=
        CVMA_OK) {
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

static void make_body(const struct tdx_sim *s, uint8_t *body)
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

/* see sim/sim_tdx_internal.h */
enum cvma_status cvma_sim_tdx_make_quote(struct tdx_sim *s, char *err, size_t err_len)
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
    struct cvma_sim_wbuf pem = {0}, sig = {0};
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

    /* Header (DCAP quote format). */
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

    /* Quote signature over header .. body with the attestation key (the signed region). */
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

    /* Signature data (DCAP quote format). */
    cvma_sim_wb_put(&sig, quote_sig, sizeof quote_sig);
    cvma_sim_wb_put(&sig, att_xy, sizeof att_xy);
    cvma_sim_wb_u16le(&sig, CERT_DATA_QE_REPORT);
    cvma_sim_wb_u32le(&sig, (uint32_t)(QE_REPORT_SIZE + sizeof qe_sig + 2 + QE_AUTH_DATA_LEN + 2 +
                                       4 + pem.len));
    cvma_sim_wb_put(&sig, qe_report, sizeof qe_report);
    cvma_sim_wb_put(&sig, qe_sig, sizeof qe_sig);
    cvma_sim_wb_u16le(&sig, QE_AUTH_DATA_LEN);
    cvma_sim_wb_put(&sig, auth, sizeof auth);
    cvma_sim_wb_u16le(&sig, CERT_DATA_PCK_CHAIN);
    cvma_sim_wb_u32le(&sig, (uint32_t)pem.len);
    cvma_sim_wb_append(&sig, &pem);

    cvma_sim_wb_put(&s->quote, signed_region, signed_len);
    cvma_sim_wb_u32le(&s->quote, (uint32_t)sig.len);
    cvma_sim_wb_append(&s->quote, &sig);
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
    cvma_sim_wb_free(&sig);
    cvma_sim_wb_free(&pem);
    return st;
}
