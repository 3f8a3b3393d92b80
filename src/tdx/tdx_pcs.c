/* TDX collateral from Intel PCS (see tdx/tdx_pcs.h). */
#include "tdx/tdx_pcs.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

/* The cache expiry of a TCB Info or QE Identity: the second after its nextUpdate, the last
 * second it is valid (cvma_next_update_judge), so the cache keeps it exactly as long as the
 * verifier takes it. */
static int64_t doc_expiry(int64_t next_update, int64_t now)
{
    return cvma_pcs_expiry(next_update > 0, next_update > 0 ? next_update + 1 : 0, now);
}

/*
 * Checks that the answer has the form the endpoint promises (nothing more: no signatures) and
 * computes when its cache entry expires. fmspc (TCB Info only) must match the document.
 * Returns true when well-formed; otherwise why (why_len bytes) says what is wrong.
 */
static bool check_answer(enum cvma_pcs_item k, const struct cvma_pcs_answer *a,
                         const uint8_t *fmspc, int64_t now, int64_t *expires_at, char *why,
                         size_t why_len, void *arg)
{
    (void)arg;
    struct cvma_span span;
    uint8_t sig[64];
    struct cvma_verdict scratch;
    STACK_OF(X509) *chain = NULL;
    X509_CRL *crl = NULL;
    bool ok;

    cvma_verdict_init(&scratch);
    *expires_at = 0;
    why[0] = '\0';
    if (a->body.len == 0 || a->body.len + a->issuer_chain.len > CVMA_CACHE_MAX_BODY - 64) {
        snprintf(why, why_len, "empty, or larger than the cache accepts");
        goto out;
    }
    if (k == CVMA_PCS_TCB_INFO || k == CVMA_PCS_QE_IDENTITY) {
        if (a->issuer_chain.len == 0 ||
            (chain = cvma_x509_load_pem_stack(a->issuer_chain.p, a->issuer_chain.len)) == NULL) {
            snprintf(why, why_len, "issuer chain header missing or not PEM certificates");
            goto out;
        }
    }
    switch (k) {
    case CVMA_PCS_TCB_INFO: {
        struct cvma_tdx_tcb_info ti;
        if (!cvma_tdx_signed_json_split(a->body.p, a->body.len, "tcbInfo", &span, sig)) {
            snprintf(why, why_len, "not a PCS body {\"tcbInfo\": ..., \"signature\": ...}");
            break;
        }
        if (cvma_tdx_tcb_info_parse(span.p, span.len, &ti, &scratch) != CVMA_OK) {
            snprintf(why, why_len, "%s",
                     scratch.n_reasons > 0 ? scratch.reasons[0].detail : "not a TDX TCB Info");
            break;
        }
        if (memcmp(ti.fmspc, fmspc, 6) != 0) {
            snprintf(why, why_len, "TCB Info for another FMSPC");
        }
        *expires_at = doc_expiry((int64_t)ti.next_update, now);
        cvma_tdx_tcb_info_cleanup(&ti);
        break;
    }
    case CVMA_PCS_QE_IDENTITY: {
        struct cvma_tdx_qe_identity qi;
        if (!cvma_tdx_signed_json_split(a->body.p, a->body.len, "enclaveIdentity", &span, sig)) {
            snprintf(why, why_len, "not a PCS body {\"enclaveIdentity\": ..., \"signature\": ...}");
            break;
        }
        if (cvma_tdx_qe_identity_parse(span.p, span.len, &qi, &scratch) != CVMA_OK) {
            snprintf(why, why_len, "%s",
                     scratch.n_reasons > 0 ? scratch.reasons[0].detail : "not a TD QE Identity");
            break;
        }
        *expires_at = doc_expiry((int64_t)qi.next_update, now);
        cvma_tdx_qe_identity_cleanup(&qi);
        break;
    }
    case CVMA_PCS_PCK_CRL:
    case CVMA_PCS_ROOT_CA_CRL: {
        int64_t next;
        if ((crl = cvma_tdx_crl_load_any(a->body.p, a->body.len)) == NULL) {
            snprintf(why, why_len, "not one CRL (DER, PEM or hex)");
            break;
        }
        {
            time_t t = 0;
            ok = cvma_asn1_time_to_time_t(X509_CRL_get0_nextUpdate(crl), &t);
            next = (int64_t)t;
        }
        *expires_at = cvma_pcs_expiry(ok, next, now);
        break;
    }
    }
out:
    ERR_clear_error();
    cvma_verdict_cleanup(&scratch);
    sk_X509_pop_free(chain, X509_free);
    X509_CRL_free(crl);
    return why[0] == '\0';
}

/*
 * The version of a well-formed answer (collateral/fetch.h): a TCB Info's or QE Identity's
 * tcbEvaluationDataNumber, issueDate and nextUpdate; a CRL's thisUpdate, nextUpdate and CRL
 * number.
 */
static bool answer_version(enum cvma_pcs_item k, const struct cvma_pcs_answer *a,
                           struct cvma_collateral_version *out, void *arg)
{
    (void)arg;
    struct cvma_span span;
    uint8_t sig[64];
    struct cvma_verdict scratch;
    X509_CRL *crl = NULL;
    bool ok = false;

    memset(out, 0, sizeof *out);
    cvma_verdict_init(&scratch);
    switch (k) {
    case CVMA_PCS_TCB_INFO: {
        struct cvma_tdx_tcb_info ti;
        if (cvma_tdx_signed_json_split(a->body.p, a->body.len, "tcbInfo", &span, sig) &&
            cvma_tdx_tcb_info_parse(span.p, span.len, &ti, &scratch) == CVMA_OK) {
            out->issued = (int64_t)ti.issue_date;
            out->next_update = (int64_t)ti.next_update;
            out->has_number = ti.tcb_evaluation_data_number >= 0;
            out->number = out->has_number ? (uint64_t)ti.tcb_evaluation_data_number : 0;
            out->number_first = true;
            out->through_next_update = true;
            cvma_tdx_tcb_info_cleanup(&ti);
            ok = true;
        }
        break;
    }
    case CVMA_PCS_QE_IDENTITY: {
        struct cvma_tdx_qe_identity qi;
        if (cvma_tdx_signed_json_split(a->body.p, a->body.len, "enclaveIdentity", &span, sig) &&
            cvma_tdx_qe_identity_parse(span.p, span.len, &qi, &scratch) == CVMA_OK) {
            out->issued = (int64_t)qi.issue_date;
            out->next_update = (int64_t)qi.next_update;
            out->has_number = qi.tcb_evaluation_data_number >= 0;
            out->number = out->has_number ? (uint64_t)qi.tcb_evaluation_data_number : 0;
            out->number_first = true;
            out->through_next_update = true;
            cvma_tdx_qe_identity_cleanup(&qi);
            ok = true;
        }
        break;
    }
    case CVMA_PCS_PCK_CRL:
    case CVMA_PCS_ROOT_CA_CRL:
        if ((crl = cvma_tdx_crl_load_any(a->body.p, a->body.len)) != NULL) {
            cvma_crl_version(crl, &out->issued, &out->next_update, &out->has_number, &out->number);
            ok = true;
        }
        break;
    }
    ERR_clear_error();
    cvma_verdict_cleanup(&scratch);
    X509_CRL_free(crl);
    return ok;
}

/* see tdx/tdx_pcs.h */
enum cvma_status cvma_pcs_fetch_tcb_info(const struct cvma_pcs *p, const uint8_t fmspc[6],
                                         struct cvma_pcs_answer *out, struct cvma_verdict *v,
                                         char *err, size_t err_len)
{
    return cvma_pcs_fetch(p, CVMA_PCS_TCB_INFO, fmspc, CVMA_PCS_CA_PLATFORM, check_answer,
                          answer_version, NULL, out, v, err, err_len);
}

/* see tdx/tdx_pcs.h */
enum cvma_status cvma_pcs_fetch_qe_identity(const struct cvma_pcs *p, struct cvma_pcs_answer *out,
                                            struct cvma_verdict *v, char *err, size_t err_len)
{
    return cvma_pcs_fetch(p, CVMA_PCS_QE_IDENTITY, NULL, CVMA_PCS_CA_PLATFORM, check_answer,
                          answer_version, NULL, out, v, err, err_len);
}

/* see tdx/tdx_pcs.h */
enum cvma_status cvma_pcs_fetch_pck_crl(const struct cvma_pcs *p, enum cvma_pcs_ca ca,
                                        struct cvma_pcs_answer *out, struct cvma_verdict *v,
                                        char *err, size_t err_len)
{
    return cvma_pcs_fetch(p, CVMA_PCS_PCK_CRL, NULL, ca, check_answer, answer_version, NULL, out, v,
                          err, err_len);
}

/* see tdx/tdx_pcs.h */
enum cvma_status cvma_pcs_fetch_root_ca_crl(const struct cvma_pcs *p, struct cvma_pcs_answer *out,
                                            struct cvma_verdict *v, char *err, size_t err_len)
{
    return cvma_pcs_fetch(p, CVMA_PCS_ROOT_CA_CRL, NULL, CVMA_PCS_CA_PLATFORM, check_answer,
                          answer_version, NULL, out, v, err, err_len);
}

static enum cvma_status unavailable(struct cvma_verdict *v, enum cvma_status st, const char *err)
{
    if (st == CVMA_E_NOMEM) {
        return st;
    }
    v->undecided = true;
    cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE, "%s", err[0] != '\0' ? err : "PCS fetch failed");
    return CVMA_UNDECIDED;
}

/* see tdx/tdx_pcs.h */
enum cvma_status cvma_pcs_collateral_get(const struct cvma_pcs *p, const uint8_t fmspc[6],
                                         enum cvma_pcs_ca ca, struct cvma_tdx_collateral *c,
                                         struct cvma_verdict *v)
{
    memset(c, 0, sizeof *c);
    return cvma_pcs_collateral_fill(p, fmspc, ca, CVMA_TDX_ITEMS_ALL, c, v);
}

/* see tdx/tdx_pcs.h */
enum cvma_status cvma_pcs_collateral_fill(const struct cvma_pcs *p, const uint8_t fmspc[6],
                                          enum cvma_pcs_ca ca, unsigned want,
                                          struct cvma_tdx_collateral *c, struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_OK;
    struct cvma_pcs_answer tcb = {{NULL, 0}, {NULL, 0}}, qe = tcb, pck = tcb, root = tcb;
    char err[512];

    err[0] = '\0';
    if (((want & CVMA_TDX_ITEM_TCB_INFO) != 0 &&
         (st = cvma_pcs_fetch_tcb_info(p, fmspc, &tcb, v, err, sizeof err)) != CVMA_OK) ||
        ((want & CVMA_TDX_ITEM_QE_IDENTITY) != 0 &&
         (st = cvma_pcs_fetch_qe_identity(p, &qe, v, err, sizeof err)) != CVMA_OK) ||
        ((want & CVMA_TDX_ITEM_PCK_CRL) != 0 &&
         (st = cvma_pcs_fetch_pck_crl(p, ca, &pck, v, err, sizeof err)) != CVMA_OK) ||
        ((want & CVMA_TDX_ITEM_ROOT_CA_CRL) != 0 &&
         (st = cvma_pcs_fetch_root_ca_crl(p, &root, v, err, sizeof err)) != CVMA_OK)) {
        /* Every failure to get an item, a URL the HTTP client refuses (CVMA_E_USAGE) included,
         * is collateral not had: undecided with its reason, as for SEV-SNP. */
        st = unavailable(v, st, err);
        goto out;
    }
    /* From here on every item asked for came from PCS or the cache. */
    c->fetched |= want & CVMA_TDX_ITEMS_ALL;
    if (((want & CVMA_TDX_ITEM_TCB_INFO) != 0 &&
         (c->tcb_info_chain = cvma_x509_load_pem_stack(tcb.issuer_chain.p, tcb.issuer_chain.len)) ==
                 NULL) ||
        ((want & CVMA_TDX_ITEM_QE_IDENTITY) != 0 &&
         (c->qe_identity_chain =
                  cvma_x509_load_pem_stack(qe.issuer_chain.p, qe.issuer_chain.len)) == NULL)) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "PCS issuer chain: no PEM certificate");
        goto out;
    }
    if (((want & CVMA_TDX_ITEM_PCK_CRL) != 0 &&
         (c->pck_crl = cvma_tdx_crl_load_any(pck.body.p, pck.body.len)) == NULL) ||
        ((want & CVMA_TDX_ITEM_ROOT_CA_CRL) != 0 &&
         (c->root_ca_crl = cvma_tdx_crl_load_any(root.body.p, root.body.len)) == NULL)) {
        st = cvma_reject(v, CVMA_R_CRL_INVALID, "PCS: a CRL does not parse");
        goto out;
    }
    if (((want & CVMA_TDX_ITEM_TCB_INFO) != 0 &&
         ((st = cvma_tdx_signed_json_load(&c->tcb_info_doc, &tcb.body, NULL, "tcbInfo", "TCB Info",
                                          v)) != CVMA_OK ||
          (st = cvma_tdx_tcb_info_parse(c->tcb_info_doc.signed_part.p,
                                        c->tcb_info_doc.signed_part.len, &c->tcb_info, v)) !=
                  CVMA_OK)) ||
        ((want & CVMA_TDX_ITEM_QE_IDENTITY) != 0 &&
         ((st = cvma_tdx_signed_json_load(&c->qe_identity_doc, &qe.body, NULL, "enclaveIdentity",
                                          "QE Identity", v)) != CVMA_OK ||
          (st = cvma_tdx_qe_identity_parse(c->qe_identity_doc.signed_part.p,
                                           c->qe_identity_doc.signed_part.len, &c->qe_identity,
                                           v)) != CVMA_OK))) {
        goto out;
    }
    st = CVMA_OK;
out:
    ERR_clear_error();
    cvma_pcs_answer_cleanup(&tcb);
    cvma_pcs_answer_cleanup(&qe);
    cvma_pcs_answer_cleanup(&pck);
    cvma_pcs_answer_cleanup(&root);
    if (st != CVMA_OK) {
        cvma_tdx_collateral_cleanup(c);
    }
    return st;
}
