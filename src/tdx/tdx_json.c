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

#include "common/hex.h"
#include "tdx/tdx.h"
#include "tdx/tdx_claims.h"

static json_t *hexj(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    cvma_hex_encode(p, n, buf, sizeof buf);
    return json_string(buf);
}

static json_t *u64hex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return json_string(buf);
}

static json_t *u32hex(uint32_t v)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%08" PRIx32, v);
    return json_string(buf);
}

static json_t *bit(uint64_t v, unsigned b)
{
    return json_boolean((v >> b) & 1);
}

/* TD_ATTRIBUTES (TDX Module ABI spec; Linux TDX_ATTR_*_BIT). Every named bit decoded. */
#define TD_ATTR_NAMED                                                                  \
    (CVMA_TDX_TD_ATTR_DEBUG | (1ull << 4) | (1ull << 5) | (1ull << 6) | (1ull << 16) | \
     (1ull << 27) | CVMA_TDX_TD_ATTR_SEPT_VE_DISABLE | CVMA_TDX_TD_ATTR_MIGRATABLE |   \
     CVMA_TDX_TD_ATTR_PKS | CVMA_TDX_TD_ATTR_KL | (1ull << 62) | CVMA_TDX_TD_ATTR_PERFMON)

static json_t *td_attributes_json(uint64_t a)
{
    json_t *o = json_object();
    json_object_set_new(o, "raw", u64hex(a));
    json_object_set_new(o, "debug", bit(a, 0));
    json_object_set_new(o, "hgs_plus_prof", bit(a, 4));
    json_object_set_new(o, "perf_prof", bit(a, 5));
    json_object_set_new(o, "pmt_prof", bit(a, 6));
    json_object_set_new(o, "icssd", bit(a, 16));
    json_object_set_new(o, "lass", bit(a, 27));
    json_object_set_new(o, "sept_ve_disable", bit(a, 28));
    json_object_set_new(o, "migratable", bit(a, 29));
    json_object_set_new(o, "pks", bit(a, 30));
    json_object_set_new(o, "kl", bit(a, 31));
    json_object_set_new(o, "tpa", bit(a, 62));
    json_object_set_new(o, "perfmon", bit(a, 63));
    /* The TUD group (bits 7:0): any bit set means not a production TD (debug or profiling). */
    json_object_set_new(o, "tud_bits", json_integer((json_int_t)(a & CVMA_TDX_TD_ATTR_TUD_MASK)));
    json_t *unknown = json_array();
    for (unsigned b = 0; b < 64; b++) {
        if (((a & ~(uint64_t)TD_ATTR_NAMED) >> b) & 1) {
            json_array_append_new(unknown, json_integer(b));
        }
    }
    json_object_set_new(o, "unknown_bits", unknown);
    return o;
}

static json_t *qe_report_json(const struct cvma_sgx_report *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "cpu_svn", hexj(r->cpu_svn, sizeof r->cpu_svn));
    json_object_set_new(o, "misc_select", u32hex(r->misc_select));
    json_object_set_new(o, "attributes", hexj(r->attributes, sizeof r->attributes));
    json_object_set_new(o, "mr_enclave", hexj(r->mr_enclave, sizeof r->mr_enclave));
    json_object_set_new(o, "mr_signer", hexj(r->mr_signer, sizeof r->mr_signer));
    json_object_set_new(o, "isv_prod_id", json_integer(r->isv_prod_id));
    json_object_set_new(o, "isv_svn", json_integer(r->isv_svn));
    json_object_set_new(o, "report_data", hexj(r->report_data, sizeof r->report_data));
    return o;
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

static void pck_json(json_t *o, const struct cvma_pck_ext *pck)
{
    json_object_set_new(o, "ppid", hexj(pck->ppid, sizeof pck->ppid));
    json_object_set_new(o, "fmspc", hexj(pck->fmspc, sizeof pck->fmspc));
    json_object_set_new(o, "pceid", hexj(pck->pceid, sizeof pck->pceid));
    json_object_set_new(o, "pcesvn", json_integer(pck->pcesvn));
    json_object_set_new(o, "cpusvn", hexj(pck->cpusvn, sizeof pck->cpusvn));
    json_t *comps = json_array();
    for (size_t i = 0; i < sizeof pck->sgx_tcb_comp; i++) {
        json_array_append_new(comps, json_integer(pck->sgx_tcb_comp[i]));
    }
    json_object_set_new(o, "sgx_tcb_components", comps);
    json_object_set_new(o, "sgx_type", json_string(sgx_type_name(pck->sgx_type)));
    if (pck->has_platform_instance_id) {
        json_object_set_new(o, "platform_instance_id",
                            hexj(pck->platform_instance_id, sizeof pck->platform_instance_id));
    }
    if (pck->has_configuration) {
        json_t *c = json_object();
        /* Each flag is optional inside Configuration: only those present are listed. */
        if (pck->dynamic_platform >= 0) {
            json_object_set_new(c, "dynamic_platform", json_boolean(pck->dynamic_platform));
        }
        if (pck->cached_keys >= 0) {
            json_object_set_new(c, "cached_keys", json_boolean(pck->cached_keys));
        }
        if (pck->smt_enabled >= 0) {
            json_object_set_new(c, "smt_enabled", json_boolean(pck->smt_enabled));
        }
        json_object_set_new(o, "configuration", c);
    }
}

/* see tdx/tdx.h */
json_t *cvma_tdx_quote_json(const struct cvma_tdx_quote *q, const struct cvma_pck_ext *pck)
{
    const struct cvma_tdx_td_report *b = &q->body;
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }

    /* Header (the reserved u32 and the QE ID inside user_data are not claims to appraise). */
    json_object_set_new(o, "version", json_integer(q->version));
    json_object_set_new(o, "att_key_type", json_integer(q->att_key_type));
    json_object_set_new(o, "tee_type", json_integer(q->tee_type));
    json_object_set_new(o, "qe_vendor_id", hexj(q->qe_vendor_id, sizeof q->qe_vendor_id));
    json_object_set_new(o, "user_data", hexj(q->user_data, sizeof q->user_data));
    if (q->version >= 5) {
        json_object_set_new(o, "body_type", json_integer(q->body_type));
    }

    /* TD report body */
    json_object_set_new(o, "tee_tcb_svn", hexj(b->tee_tcb_svn, sizeof b->tee_tcb_svn));
    json_object_set_new(o, "mr_seam", hexj(b->mr_seam, sizeof b->mr_seam));
    json_object_set_new(o, "mr_signer_seam", hexj(b->mr_signer_seam, sizeof b->mr_signer_seam));
    json_object_set_new(o, "seam_attributes", u64hex(b->seam_attributes));
    json_object_set_new(o, "td_attributes", td_attributes_json(b->td_attributes));
    json_object_set_new(o, "xfam", u64hex(b->xfam));
    json_object_set_new(o, "mr_td", hexj(b->mr_td, sizeof b->mr_td));
    json_object_set_new(o, "mr_config_id", hexj(b->mr_config_id, sizeof b->mr_config_id));
    json_object_set_new(o, "mr_owner", hexj(b->mr_owner, sizeof b->mr_owner));
    json_object_set_new(o, "mr_owner_config", hexj(b->mr_owner_config, sizeof b->mr_owner_config));
    json_t *rtmr = json_array();
    for (size_t i = 0; i < 4; i++) {
        json_array_append_new(rtmr, hexj(b->rtmr[i], sizeof b->rtmr[i]));
    }
    json_object_set_new(o, "rtmr", rtmr);
    json_object_set_new(o, "report_data", hexj(b->report_data, sizeof b->report_data));
    if (b->is_v15) {
        json_object_set_new(o, "tee_tcb_svn2", hexj(b->tee_tcb_svn2, sizeof b->tee_tcb_svn2));
        json_object_set_new(o, "mr_service_td", hexj(b->mr_service_td, sizeof b->mr_service_td));
    }

    json_object_set_new(o, "qe_report", qe_report_json(&q->qe_report));
    if (pck != NULL) {
        pck_json(o, pck);
    }
    return o;
}

/* ---- the typed claims (tdx/tdx_claims.h) ---- */

static json_t *claims_to_json(const void *kind)
{
    const struct cvma_tdx_claims *c = kind;
    const struct cvma_tdx_tcb_result *t = &c->tcb;
    bool found = t->level_found; /* else every status and the date are null */
    json_t *o = cvma_tdx_quote_json(&c->quote, c->has_pck ? &c->pck : NULL);
    json_t *adv = json_array();
    if (o == NULL || adv == NULL) {
        json_decref(o);
        json_decref(adv);
        return NULL;
    }
    json_object_set_new(o, "tcb_status", found ? json_string(t->status) : json_null());
    json_object_set_new(o, "platform_tcb_status",
                        found ? json_string(t->platform_status) : json_null());
    json_object_set_new(o, "qe_tcb_status", found ? json_string(t->qe_status) : json_null());
    json_object_set_new(o, "module_tcb_status",
                        found && t->module_status[0] ? json_string(t->module_status) : json_null());
    json_object_set_new(o, "tcb_date", found ? json_string(t->tcb_date) : json_null());
    for (size_t i = 0; i < t->advisory_ids.n; i++) {
        json_array_append_new(adv, json_string(t->advisory_ids.ids[i]));
    }
    json_object_set_new(o, "advisory_ids", adv);
    json_object_set_new(o, "tcb_evaluation_data_number",
                        json_integer(c->tcb_evaluation_data_number));
    return o;
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
    return true;
}
