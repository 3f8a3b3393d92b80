/*
 * The claims.tdx object: every quote field, decoded, in the vendor's words (snake_case),
 * plus the PCK certificate's SGX extension when it is known. Hex is lower-case without a
 * prefix; byte arrays are printed in quote byte order; u32/u64 fields (seam_attributes,
 * td_attributes.raw, xfam, misc_select) as the number's value, zero-padded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json_out.h"
#include "tdx/tdx.h"
#include "tdx/tdx_claims.h"

/* Written as text (common/json_out.h), as the SEV-SNP claims are: a service writes them for
 * every TDX quote it answers. */

/* TD_ATTRIBUTES (TDX Module ABI spec; Linux TDX_ATTR_*_BIT). Every named bit decoded. */
#define TD_ATTR_NAMED                                                                  \
    (CVMA_TDX_TD_ATTR_DEBUG | (1ull << 4) | (1ull << 5) | (1ull << 6) | (1ull << 16) | \
     (1ull << 27) | CVMA_TDX_TD_ATTR_SEPT_VE_DISABLE | CVMA_TDX_TD_ATTR_MIGRATABLE |   \
     CVMA_TDX_TD_ATTR_PKS | CVMA_TDX_TD_ATTR_KL | (1ull << 62) | CVMA_TDX_TD_ATTR_PERFMON)

static bool td_attributes_m(struct cvma_strbuf *b, bool *first, uint64_t a)
{
    bool f = true;
    /* The TUD group (bits 7:0): any bit set means not a production TD (debug or profiling). */
    bool ok = cvma_json_key(b, first, "td_attributes") && cvma_strbuf_add(b, "{", 1) &&
              cvma_jm_hex_be(b, &f, "raw", a, 8) && cvma_jm_bit(b, &f, "debug", a, 0) &&
              cvma_jm_bit(b, &f, "hgs_plus_prof", a, 4) && cvma_jm_bit(b, &f, "perf_prof", a, 5) &&
              cvma_jm_bit(b, &f, "pmt_prof", a, 6) && cvma_jm_bit(b, &f, "icssd", a, 16) &&
              cvma_jm_bit(b, &f, "lass", a, 27) && cvma_jm_bit(b, &f, "sept_ve_disable", a, 28) &&
              cvma_jm_bit(b, &f, "migratable", a, 29) && cvma_jm_bit(b, &f, "pks", a, 30) &&
              cvma_jm_bit(b, &f, "kl", a, 31) && cvma_jm_bit(b, &f, "tpa", a, 62) &&
              cvma_jm_bit(b, &f, "perfmon", a, 63) &&
              cvma_jm_int(b, &f, "tud_bits", (json_int_t)(a & CVMA_TDX_TD_ATTR_TUD_MASK)) &&
              cvma_jm_bits(b, &f, "unknown_bits", a & ~(uint64_t)TD_ATTR_NAMED);
    return ok && cvma_strbuf_add(b, "}", 1);
}

static bool qe_report_m(struct cvma_strbuf *b, bool *first, const struct cvma_sgx_report *r)
{
    bool f = true;
    return cvma_json_key(b, first, "qe_report") && cvma_strbuf_add(b, "{", 1) &&
           cvma_jm_hex(b, &f, "cpu_svn", r->cpu_svn, sizeof r->cpu_svn) &&
           cvma_jm_hex_be(b, &f, "misc_select", r->misc_select, 4) &&
           cvma_jm_hex(b, &f, "attributes", r->attributes, sizeof r->attributes) &&
           cvma_jm_hex(b, &f, "mr_enclave", r->mr_enclave, sizeof r->mr_enclave) &&
           cvma_jm_hex(b, &f, "mr_signer", r->mr_signer, sizeof r->mr_signer) &&
           cvma_jm_int(b, &f, "isv_prod_id", r->isv_prod_id) &&
           cvma_jm_int(b, &f, "isv_svn", r->isv_svn) &&
           cvma_jm_hex(b, &f, "report_data", r->report_data, sizeof r->report_data) &&
           cvma_strbuf_add(b, "}", 1);
}

static const char *sgx_type_name(int t)
{
    switch (t) {
    case 0:
        return "Standard";
    case 1:
        return "Scalable";
    case 2:
        return "ScalableWithIntegrity";
    default:
        return "unknown";
    }
}

static bool pck_m(struct cvma_strbuf *b, bool *first, const struct cvma_pck_ext *pck)
{
    bool ok = cvma_jm_hex(b, first, "ppid", pck->ppid, sizeof pck->ppid) &&
              cvma_jm_hex(b, first, "fmspc", pck->fmspc, sizeof pck->fmspc) &&
              cvma_jm_hex(b, first, "pceid", pck->pceid, sizeof pck->pceid) &&
              cvma_jm_int(b, first, "pcesvn", pck->pcesvn) &&
              cvma_jm_hex(b, first, "cpusvn", pck->cpusvn, sizeof pck->cpusvn) &&
              cvma_json_key(b, first, "sgx_tcb_components") && cvma_strbuf_add(b, "[", 1);
    for (size_t i = 0; ok && i < sizeof pck->sgx_tcb_comp; i++) {
        ok = (i == 0 || cvma_strbuf_add(b, ",", 1)) && cvma_json_write_int(b, pck->sgx_tcb_comp[i]);
    }
    ok = ok && cvma_strbuf_add(b, "]", 1) &&
         cvma_jm_str(b, first, "sgx_type", sgx_type_name(pck->sgx_type)) &&
         (!pck->has_platform_instance_id ||
          cvma_jm_hex(b, first, "platform_instance_id", pck->platform_instance_id,
                      sizeof pck->platform_instance_id));
    if (ok && pck->has_configuration) {
        /* Each flag is optional inside Configuration: only those present are listed. */
        bool f = true;
        ok = cvma_json_key(b, first, "configuration") && cvma_strbuf_add(b, "{", 1) &&
             (pck->dynamic_platform < 0 ||
              cvma_jm_bool(b, &f, "dynamic_platform", pck->dynamic_platform != 0)) &&
             (pck->cached_keys < 0 || cvma_jm_bool(b, &f, "cached_keys", pck->cached_keys != 0)) &&
             (pck->smt_enabled < 0 || cvma_jm_bool(b, &f, "smt_enabled", pck->smt_enabled != 0)) &&
             cvma_strbuf_add(b, "}", 1);
    }
    return ok;
}

/* The quote's members (and the PCK extension's when pck is not NULL), without the braces. */
static bool quote_members(struct cvma_strbuf *b, bool *first, const struct cvma_tdx_quote *q,
                          const struct cvma_pck_ext *pck)
{
    const struct cvma_tdx_td_report *r = &q->body;
    /* Header (the reserved u32 and the QE ID inside user_data are not claims to appraise). */
    bool ok = cvma_jm_int(b, first, "version", q->version) &&
              cvma_jm_int(b, first, "att_key_type", q->att_key_type) &&
              cvma_jm_int(b, first, "tee_type", q->tee_type) &&
              cvma_jm_hex(b, first, "qe_vendor_id", q->qe_vendor_id, sizeof q->qe_vendor_id) &&
              cvma_jm_hex(b, first, "user_data", q->user_data, sizeof q->user_data) &&
              (q->version < 5 || cvma_jm_int(b, first, "body_type", q->body_type));
    /* TD report body */
    ok = ok && cvma_jm_hex(b, first, "tee_tcb_svn", r->tee_tcb_svn, sizeof r->tee_tcb_svn) &&
         cvma_jm_hex(b, first, "mr_seam", r->mr_seam, sizeof r->mr_seam) &&
         cvma_jm_hex(b, first, "mr_signer_seam", r->mr_signer_seam, sizeof r->mr_signer_seam) &&
         cvma_jm_hex_be(b, first, "seam_attributes", r->seam_attributes, 8) &&
         td_attributes_m(b, first, r->td_attributes) &&
         cvma_jm_hex_be(b, first, "xfam", r->xfam, 8) &&
         cvma_jm_hex(b, first, "mr_td", r->mr_td, sizeof r->mr_td) &&
         cvma_jm_hex(b, first, "mr_config_id", r->mr_config_id, sizeof r->mr_config_id) &&
         cvma_jm_hex(b, first, "mr_owner", r->mr_owner, sizeof r->mr_owner) &&
         cvma_jm_hex(b, first, "mr_owner_config", r->mr_owner_config, sizeof r->mr_owner_config) &&
         cvma_json_key(b, first, "rtmr") && cvma_strbuf_add(b, "[", 1);
    for (size_t i = 0; ok && i < 4; i++) {
        ok = (i == 0 || cvma_strbuf_add(b, ",", 1)) &&
             cvma_json_write_hex(b, r->rtmr[i], sizeof r->rtmr[i]);
    }
    ok = ok && cvma_strbuf_add(b, "]", 1) &&
         cvma_jm_hex(b, first, "report_data", r->report_data, sizeof r->report_data) &&
         (!r->is_v15 ||
          (cvma_jm_hex(b, first, "tee_tcb_svn2", r->tee_tcb_svn2, sizeof r->tee_tcb_svn2) &&
           cvma_jm_hex(b, first, "mr_service_td", r->mr_service_td, sizeof r->mr_service_td))) &&
         qe_report_m(b, first, &q->qe_report);
    return ok && (pck == NULL || pck_m(b, first, pck));
}

/* see tdx/tdx.h */
json_t *cvma_tdx_quote_json(const struct cvma_tdx_quote *q, const struct cvma_pck_ext *pck)
{
    struct cvma_strbuf b = {0};
    bool first = true;
    bool ok = cvma_strbuf_add(&b, "{", 1) && quote_members(&b, &first, q, pck) &&
              cvma_strbuf_add(&b, "}", 1);
    return cvma_json_tree_of(&b, ok);
}

/* ---- the typed claims (tdx/tdx_claims.h) ---- */

/* A TCB status: null when no TCB level was found (or, for the module's, none was given). */
static bool status_m(struct cvma_strbuf *b, bool *first, const char *key, bool found, const char *v)
{
    return found ? cvma_jm_str(b, first, key, v) : cvma_jm_null(b, first, key);
}

static bool claims_write(struct cvma_strbuf *b, const void *kind)
{
    const struct cvma_tdx_claims *c = kind;
    const struct cvma_tdx_tcb_result *t = &c->tcb;
    bool found = t->level_found; /* else every status and the date are null */
    bool first = true;
    bool ok = cvma_strbuf_add(b, "{", 1) &&
              quote_members(b, &first, &c->quote, c->has_pck ? &c->pck : NULL) &&
              status_m(b, &first, "tcb_status", found, t->status) &&
              status_m(b, &first, "platform_tcb_status", found, t->platform_status) &&
              status_m(b, &first, "qe_tcb_status", found, t->qe_status) &&
              status_m(b, &first, "module_tcb_status", found && t->module_status[0],
                       t->module_status) &&
              status_m(b, &first, "tcb_date", found, t->tcb_date) &&
              cvma_json_key(b, &first, "advisory_ids") && cvma_strbuf_add(b, "[", 1);
    for (size_t i = 0; ok && i < t->advisory_ids.n; i++) {
        ok = (i == 0 || cvma_strbuf_add(b, ",", 1)) &&
             cvma_json_write_str_lossy(b, t->advisory_ids.ids[i], strlen(t->advisory_ids.ids[i]));
    }
    return ok && cvma_strbuf_add(b, "]", 1) &&
           cvma_jm_int(b, &first, "tcb_evaluation_data_number", c->tcb_evaluation_data_number) &&
           cvma_strbuf_add(b, "}", 1);
}

static json_t *claims_to_json(const void *kind)
{
    struct cvma_strbuf b = {0};
    return cvma_json_tree_of(&b, claims_write(&b, kind));
}

static void claims_free(void *kind)
{
    struct cvma_tdx_claims *c = kind;
    if (c != NULL) {
        cvma_tdx_tcb_result_cleanup(&c->tcb);
        free(c);
    }
}

const struct cvma_claims_ops cvma_tdx_claims_ops = {
        .key = "tdx",
        .to_json = claims_to_json,
        .write = claims_write,
        .free = claims_free,
};

const struct cvma_tdx_claims *cvma_tdx_claims_of(const struct cvma_result *res)
{
    return cvma_claims_kind(&res->claims, &cvma_tdx_claims_ops);
}

bool cvma_tdx_claims_set(struct cvma_result *res, const struct cvma_tdx_quote *q,
                         const struct cvma_pck_ext *pck, struct cvma_tdx_tcb_result *tcb,
                         int tcb_evaluation_data_number)
{
    struct cvma_tdx_claims *c = calloc(1, sizeof *c);
    struct cvma_claims *cl = &res->claims;
    if (c == NULL) {
        return false;
    }
    memcpy(&c->quote, q, sizeof c->quote);
    memset(&c->quote.qe_auth_data, 0, sizeof c->quote.qe_auth_data);
    memset(&c->quote.pck_chain_pem, 0, sizeof c->quote.pck_chain_pem);
    if (pck != NULL) {
        c->has_pck = true;
        c->pck = *pck;
    }
    if (tcb != NULL) {
        c->tcb = *tcb;
        memset(tcb, 0, sizeof *tcb);
    }
    c->tcb_evaluation_data_number = tcb_evaluation_data_number;
    cvma_claims_set_kind(cl, &cvma_tdx_claims_ops, c);
    memcpy(cl->measurement, q->body.mr_td, sizeof q->body.mr_td);
    cl->measurement_len = sizeof q->body.mr_td;
    memcpy(cl->report_data, q->body.report_data, sizeof cl->report_data);
    cl->debug = (q->body.td_attributes & CVMA_TDX_TD_ATTR_TUD_MASK) != 0;
    cl->verified = true;
    cl->hardware = true;
    return true;
}
