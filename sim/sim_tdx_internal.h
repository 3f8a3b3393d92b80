/*
 * Inside the simulated TDX TEE (sim/sim_tdx.h): the state of one run and the steps that fill
 * it, one file each. sim_tdx.c checks the options, draws the identities, runs the steps in
 * order and writes the files; sim_tdx_pki.c makes the certificate hierarchy and the CRLs;
 * sim_tdx_quote.c the quote; sim_tdx_collateral.c TCB Info and QE Identity. Private to sim/.
 *
 * Each step returns CVMA_OK or the failure's status with a message in err ("sim tdx: ...");
 * what a step made stays in the run and is freed with it, also on failure.
 */
#ifndef CVMA_SIM_SIM_TDX_INTERNAL_H
#define CVMA_SIM_SIM_TDX_INTERNAL_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sim/sim_tdx.h"
#include "sim/sim_util.h"
#include "sim/sim_wbuf.h"

#define QE_ID_LEN        16u
#define QE_AUTH_DATA_LEN 32u
#define P256_LEN         32u

/* One run: the options, the identities drawn for it, and everything it makes. */
struct tdx_sim {
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
    struct cvma_sim_wbuf quote;
    struct cvma_sim_wbuf tcb_info_doc, qe_identity_doc;
};

static inline time_t days_from(time_t t, long days)
{
    return t + (time_t)days * CVMA_SIM_DAY_SECONDS;
}

/* ECDSA P-256 over SHA-256, r || s, 32 bytes each. */
static inline enum cvma_status sign_p256(EVP_PKEY *key, const uint8_t *msg, size_t len,
                                         uint8_t out[2 * P256_LEN])
{
    return cvma_sim_ecdsa_sign_raw(key, EVP_sha256(), msg, len, out, out + P256_LEN, P256_LEN);
}

/* The Intel-shaped hierarchy: root, PCK Platform CA, PCK leaf (with the SGX extension), TCB
 * signing certificate, and their keys. */
CVMA_MUST_USE enum cvma_status cvma_sim_tdx_make_hierarchy(struct tdx_sim *s, char *err,
                                                           size_t err_len);
/* The PCK CRL (listing the PCK when revoke_pck) and the root CA CRL; after the hierarchy. */
CVMA_MUST_USE enum cvma_status cvma_sim_tdx_make_crls(struct tdx_sim *s, char *err, size_t err_len);
/* The attestation key and the quote (s->quote); after the hierarchy. */
CVMA_MUST_USE enum cvma_status cvma_sim_tdx_make_quote(struct tdx_sim *s, char *err,
                                                       size_t err_len);
/* TCB Info and QE Identity, signed (s->tcb_info_doc, s->qe_identity_doc); after the quote. */
CVMA_MUST_USE enum cvma_status cvma_sim_tdx_make_collateral(struct tdx_sim *s, char *err,
                                                            size_t err_len);

#endif
