/* The simulated TDX TEE (sim/sim_tdx_internal.h): TCB Info and QE Identity, in Intel PCS
 * body form, signed by the TCB signing key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/obj_mac.h>

#include "common/hex.h"
#include "common/json_out.h"
#include "common/timeutil.h"
#include "sim/sim_tdx_internal.h"

#define HOUR_SECONDS     3600
#define COLLATERAL_DAYS  30
#define STALE_ISSUE_DAYS 60

/* The QE identity's attributes and mask, as Intel publishes them for the TD QE: the QE report
 * (sim_tdx_quote.c: 15 00.. E7 00..) matches them only under the mask. */
static const uint8_t qe_attributes[16] = {0x11};
static const uint8_t qe_attributes_mask[16] = {0xFB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

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

static json_t *tcb_info_json(const struct tdx_sim *s, time_t issue, time_t next)
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

static json_t *qe_identity_json(const struct tdx_sim *s, time_t issue, time_t next)
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
                                   struct cvma_sim_wbuf *out)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    char *text = NULL;
    uint8_t sig[2 * P256_LEN];
    char hex[4 * P256_LEN + 1];
    size_t text_len;

    if (inner == NULL) {
        return CVMA_E_NOMEM;
    }
    if ((text = cvma_json_compact(inner, NULL)) == NULL) {
        goto out;
    }
    text_len = strlen(text);
    if ((st = sign_p256(key, (const uint8_t *)text, text_len, sig)) != CVMA_OK) {
        goto out;
    }
    cvma_hex_encode(sig, sizeof sig, hex, sizeof hex);
    cvma_sim_wb_str(out, "{\"");
    cvma_sim_wb_str(out, key_name);
    cvma_sim_wb_str(out, "\":");
    cvma_sim_wb_put(out, (const uint8_t *)text, text_len);
    cvma_sim_wb_str(out, ",\"signature\":\"");
    cvma_sim_wb_str(out, hex);
    cvma_sim_wb_str(out, "\"}");
    st = out->failed ? CVMA_E_NOMEM : CVMA_OK;
out:
    free(text);
    return st;
}

/* see sim/sim_tdx_internal.h */
enum cvma_status cvma_sim_tdx_make_collateral(struct tdx_sim *s, char *err, size_t err_len)
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
