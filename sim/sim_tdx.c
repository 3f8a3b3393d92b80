/* The simulated TDX TEE (sim/sim_tdx.h): options, one run's identities, the steps in order
 * (sim/sim_tdx_internal.h), and the files written. */
#include "sim/sim_tdx.h"

#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sim/sim_files.h"
#include "sim/sim_tdx_internal.h"
#include "sim/sim_util.h"

/* ---- the run ---- */

static void sim_free(struct tdx_sim *s)
{
    cvma_sim_wb_free(&s->qe_identity_doc);
    cvma_sim_wb_free(&s->tcb_info_doc);
    cvma_sim_wb_free(&s->quote);
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

/* ---- files ---- */

static const char *const key_files[] = {"root_ca-key.pem", "pck_ca-key.pem", "pck-key.pem",
                                        "tcb_signing-key.pem", "attestation-key.pem"};

static enum cvma_status write_files(const struct tdx_sim *s, const char *dir, char *err,
                                    size_t err_len)
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

static enum cvma_status make_identities(struct tdx_sim *s)
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
    if ((st = cvma_sim_digest("SHA256", CVMA_SIM_TDX_QE_MRSIGNER_SEED,
                              strlen(CVMA_SIM_TDX_QE_MRSIGNER_SEED), s->qe_mrsigner,
                              sizeof s->qe_mrsigner)) != CVMA_OK ||
        (st = cvma_sim_digest("SHA384", CVMA_SIM_TDX_MODULE_MRSIGNER_SEED,
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
    struct tdx_sim s;

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
    if ((st = cvma_mkdir_p(dir, 0755)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim tdx: cannot create directory %s", dir);
        goto out;
    }
    if ((st = cvma_sim_tdx_make_hierarchy(&s, err, err_len)) != CVMA_OK ||
        (st = cvma_sim_tdx_make_crls(&s, err, err_len)) != CVMA_OK ||
        (st = cvma_sim_tdx_make_quote(&s, err, err_len)) != CVMA_OK ||
        (st = cvma_sim_tdx_make_collateral(&s, err, err_len)) != CVMA_OK ||
        (st = write_files(&s, dir, err, err_len)) != CVMA_OK) {
        goto out;
    }
    st = CVMA_OK;
out:
    sim_free(&s);
    return st;
}
