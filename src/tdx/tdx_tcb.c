/*
 * TDX TCB evaluation as Intel's QVL performs it (QVL
 * QuoteVerifier.cpp, EnclaveReportVerifier.cpp, EvaluateTcb.cpp,
 * TDRelaunchCheck.cpp).
 *
 * Input: collateral already verified (cvma_tdx_collateral_verify), a parsed quote whose
 * signatures the caller checks, and the PCK certificate's SGX extension. Output: the TCB
 * status strings, the earliest TCB date and the advisory IDs. What a status means for the
 * verdict (affirming, warning, contraindicated) is the caller's decision, not made here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hex.h"
#include "common/timeutil.h"
#include "tdx/tdx_collateral.h"

#define N_COMP 16u

/* tee_tcb_svn byte indices (QVL TDX_MODULE_MINOR_SVN_INDEX / TDX_MODULE_MAJOR_SVN_INDEX). */
#define MODULE_MINOR 0
#define MODULE_MAJOR 1

static bool is(const char *status, const char *name)
{
    return strcmp(status, name) == 0;
}

void cvma_tdx_tcb_result_cleanup(struct cvma_tdx_tcb_result *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->advisory_ids.n; i++) {
        free(r->advisory_ids.ids[i]);
    }
    free(r->advisory_ids.ids);
    memset(r, 0, sizeof *r);
}

static void set_status(char out[CVMA_TDX_STATUS_MAX], const char *s)
{
    snprintf(out, CVMA_TDX_STATUS_MAX, "%s", s);
}

/* The tdxModuleIdentities entry "TDX_%02X" of the module major version, case-insensitive
 * (QVL findTdxModuleIdentity). */
static const struct cvma_tdx_module_identity *find_module(const struct cvma_tdx_tcb_info *ti,
                                                          uint8_t major)
{
    char want[8];
    snprintf(want, sizeof want, "TDX_%02X", (unsigned)major);
    for (size_t i = 0; i < ti->n_modules; i++) {
        if (strcasecmp(ti->modules[i].id, want) == 0) {
            return &ti->modules[i];
        }
    }
    return NULL;
}

/* Step 7 [QVL 4.1.2.5.12]: MRSIGNERSEAM and SEAMATTRIBUTES against the module identity. */
static enum cvma_status check_module_identity(const struct cvma_tdx_tcb_info *ti,
                                              const struct cvma_tdx_quote *q,
                                              struct cvma_verdict *v)
{
    const uint8_t *mrsigner = ti->module_mrsigner, *attributes = ti->module_attributes;
    uint8_t major = q->body.tee_tcb_svn[MODULE_MAJOR], seam[8];
    char source[48], got[97], want[97];

    if (!ti->has_tdx_module) {
        return cvma_reject(v, CVMA_R_TDX_MODULE_MISMATCH, "the TCB Info has no tdxModule");
    }
    snprintf(source, sizeof source, "tdxModule");
    if (major > 0) {
        const struct cvma_tdx_module_identity *m = find_module(ti, major);
        if (m == NULL) {
            return cvma_reject(v, CVMA_R_TDX_MODULE_MISMATCH,
                               "TEE_TCB_SVN[1] (TDX module major version) = %u, but the TCB Info "
                               "has no tdxModuleIdentities entry TDX_%02X",
                               (unsigned)major, (unsigned)major);
        }
        mrsigner = m->mrsigner;
        attributes = m->attributes;
        snprintf(source, sizeof source, "tdxModuleIdentities %s", m->id);
    }
    if (memcmp(q->body.mr_signer_seam, mrsigner, 48) != 0) {
        cvma_hex_encode(q->body.mr_signer_seam, 48, got, sizeof got);
        cvma_hex_encode(mrsigner, 48, want, sizeof want);
        return cvma_reject(v, CVMA_R_TDX_MODULE_MISMATCH,
                           "MRSIGNERSEAM %s differs from mrsigner %s of %s", got, want, source);
    }
    /* Current QVL: every SEAMATTRIBUTES byte must be zero and equal to the expected attributes
     * (so the expected attributes must be zero too). The quote field is little-endian. */
    for (int i = 0; i < 8; i++) {
        seam[i] = (uint8_t)(q->body.seam_attributes >> (8 * i));
    }
    for (int i = 0; i < 8; i++) {
        if (seam[i] != 0 || seam[i] != attributes[i]) {
            cvma_hex_encode(seam, 8, got, sizeof got);
            cvma_hex_encode(attributes, 8, want, sizeof want);
            return cvma_reject(v, CVMA_R_TDX_MODULE_MISMATCH,
                               "SEAMATTRIBUTES %s: must be zero and equal to attributes %s of %s",
                               got, want, source);
        }
    }
    return CVMA_OK;
}

/* Step 10 [QVL 4.1.2.5.16, EnclaveReportVerifier::verify]: identity, then the QE TCB level. */
static enum cvma_status check_qe(const struct cvma_tdx_qe_identity *qi,
                                 const struct cvma_sgx_report *qe,
                                 const struct cvma_tdx_qe_level **level, struct cvma_verdict *v)
{
    char got[65], want[65];

    *level = NULL;
    /* (a) the expected value is not masked (QVL). */
    if ((qe->misc_select & qi->miscselect_mask) != qi->miscselect) {
        return cvma_reject(v, CVMA_R_TDX_QE_IDENTITY_MISMATCH,
                           "QE MISCSELECT 0x%08x & mask 0x%08x != 0x%08x", qe->misc_select,
                           qi->miscselect_mask, qi->miscselect);
    }
    /* (b) byte-wise, the expected value not masked. QE DEBUG is refused here. */
    for (int i = 0; i < 16; i++) {
        if ((qe->attributes[i] & qi->attributes_mask[i]) != qi->attributes[i]) {
            cvma_hex_encode(qe->attributes, 16, got, sizeof got);
            cvma_hex_encode(qi->attributes, 16, want, sizeof want);
            return cvma_reject(v, CVMA_R_TDX_QE_IDENTITY_MISMATCH,
                               "QE ATTRIBUTES %s under the identity's mask differ from %s "
                               "(byte %d)",
                               got, want, i);
        }
    }
    /* (c) always: the identity must have one (its parser requires it). */
    if (memcmp(qe->mr_signer, qi->mrsigner, 32) != 0) {
        cvma_hex_encode(qe->mr_signer, 32, got, sizeof got);
        cvma_hex_encode(qi->mrsigner, 32, want, sizeof want);
        return cvma_reject(v, CVMA_R_TDX_QE_IDENTITY_MISMATCH, "QE MRSIGNER %s differs from %s",
                           got, want);
    }
    /* (d) */
    if (qe->isv_prod_id != qi->isvprodid) {
        return cvma_reject(v, CVMA_R_TDX_QE_IDENTITY_MISMATCH, "QE ISVPRODID %u differs from %u",
                           (unsigned)qe->isv_prod_id, (unsigned)qi->isvprodid);
    }
    /* (e) the first level with isvsvn <= the QE's ISVSVN; the levels are sorted by isvsvn,
     * highest first, as current QVL holds them (JSON order does not matter). */
    for (size_t i = 0; i < qi->n_levels; i++) {
        if (qi->levels[i].isvsvn <= qe->isv_svn) {
            *level = &qi->levels[i];
            break;
        }
    }
    if (*level == NULL) {
        unsigned lowest = 65535;
        for (size_t i = 0; i < qi->n_levels; i++) {
            lowest = qi->levels[i].isvsvn < lowest ? qi->levels[i].isvsvn : lowest;
        }
        return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                           "QE ISVSVN %u is below every QE Identity TCB level (lowest isvsvn %u)",
                           (unsigned)qe->isv_svn, lowest);
    }
    /* QVL VALID_QE_STATUSES. */
    const char *s = (*level)->status;
    if (!is(s, "UpToDate") && !is(s, "OutOfDate") && !is(s, "ConfigurationNeeded") &&
        !is(s, "Revoked") && !is(s, "OutOfDateConfigurationNeeded")) {
        *level = NULL;
        return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                           "the QE Identity TCB level for ISVSVN %u has status %s, which QVL does "
                           "not accept for a QE",
                           (unsigned)qe->isv_svn, s);
    }
    return CVMA_OK;
}

static bool level_matches(const struct cvma_tdx_tcb_level *lv, const struct cvma_pck_ext *pck,
                          const uint8_t svn[16], unsigned start)
{
    for (unsigned i = 0; i < N_COMP; i++) {
        if (pck->sgx_tcb_comp[i] < lv->sgx_comp[i]) {
            return false;
        }
    }
    if (pck->pcesvn < lv->pcesvn) {
        return false;
    }
    for (unsigned i = start; i < N_COMP; i++) {
        if (svn[i] < lv->tdx_comp[i]) {
            return false;
        }
    }
    return true;
}

/*
 * No platform level matched: name the component that fell short. First a component that is
 * below what every level requires; otherwise the first shortfall against the lowest level
 * (the last one in QVL's order).
 */
static enum cvma_status no_platform_level(const struct cvma_tdx_tcb_info *ti,
                                          const struct cvma_pck_ext *pck, const uint8_t svn[16],
                                          unsigned start, const char *svn_name,
                                          struct cvma_verdict *v)
{
    const struct cvma_tdx_tcb_level *low;
    unsigned min;

    if (ti->n_levels == 0) {
        return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND, "the TCB Info has no TCB levels");
    }
    for (unsigned i = 0; i < N_COMP; i++) {
        min = 255;
        for (size_t k = 0; k < ti->n_levels; k++) {
            min = ti->levels[k].sgx_comp[i] < min ? ti->levels[k].sgx_comp[i] : min;
        }
        if (pck->sgx_tcb_comp[i] < min) {
            return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                               "PCK SGX TCB component %u = %u < %u required by every TCB level",
                               i + 1, (unsigned)pck->sgx_tcb_comp[i], min);
        }
    }
    min = 65535;
    for (size_t k = 0; k < ti->n_levels; k++) {
        min = ti->levels[k].pcesvn < min ? ti->levels[k].pcesvn : min;
    }
    if (pck->pcesvn < min) {
        return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                           "PCK PCESVN = %u < %u required by every TCB level",
                           (unsigned)pck->pcesvn, min);
    }
    for (unsigned i = start; i < N_COMP; i++) {
        min = 255;
        for (size_t k = 0; k < ti->n_levels; k++) {
            min = ti->levels[k].tdx_comp[i] < min ? ti->levels[k].tdx_comp[i] : min;
        }
        if (svn[i] < min) {
            return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                               "%s[%u] (TDX TCB component %u) = %u < %u required by every TCB "
                               "level",
                               svn_name, i, i + 1, (unsigned)svn[i], min);
        }
    }
    low = &ti->levels[ti->n_levels - 1];
    for (unsigned i = 0; i < N_COMP; i++) {
        if (pck->sgx_tcb_comp[i] < low->sgx_comp[i]) {
            return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                               "no TCB level is met in full; against the lowest (tcbDate %s, %s): "
                               "PCK SGX TCB component %u = %u < %u",
                               low->tcb_date, low->status, i + 1, (unsigned)pck->sgx_tcb_comp[i],
                               (unsigned)low->sgx_comp[i]);
        }
    }
    if (pck->pcesvn < low->pcesvn) {
        return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                           "no TCB level is met in full; against the lowest (tcbDate %s, %s): "
                           "PCK PCESVN = %u < %u",
                           low->tcb_date, low->status, (unsigned)pck->pcesvn,
                           (unsigned)low->pcesvn);
    }
    for (unsigned i = start; i < N_COMP; i++) {
        if (svn[i] < low->tdx_comp[i]) {
            return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                               "no TCB level is met in full; against the lowest (tcbDate %s, %s): "
                               "%s[%u] = %u < %u",
                               low->tcb_date, low->status, svn_name, i, (unsigned)svn[i],
                               (unsigned)low->tdx_comp[i]);
        }
    }
    /* Unreachable: the lowest level would have matched. */
    return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND, "no TCB level matches");
}

/* One run of steps 12-14 for one TEE_TCB_SVN vector. */
struct eval {
    const struct cvma_tdx_tcb_level *platform;
    const struct cvma_tdx_module_identity *module;    /* NULL when svn[1] == 0 */
    const struct cvma_tdx_module_level *module_level; /* NULL when svn[1] == 0 */
    char status[CVMA_TDX_STATUS_MAX];                 /* converged */
};

/* Step 14 (QVL convergeTcbStatuses). The QE's status is first reduced as QVL's
 * EnclaveReportVerifier reduces it: Revoked stays Revoked, and every other status but UpToDate
 * (OutOfDate, ConfigurationNeeded, OutOfDateConfigurationNeeded: check_qe accepts these) is
 * "ISVSVN out of date". The module's status is one of UpToDate, OutOfDate and Revoked. */
static void converge(const char *platform, const char *qe, const char *module,
                     char out[CVMA_TDX_STATUS_MAX])
{
    bool qe_revoked = is(qe, "Revoked");
    bool ood = (!is(qe, "UpToDate") && !qe_revoked) || is(module, "OutOfDate");
    bool revoked = qe_revoked || is(module, "Revoked");

    set_status(out, platform);
    if (ood) {
        if (is(platform, "UpToDate") || is(platform, "SWHardeningNeeded")) {
            set_status(out, "OutOfDate");
        }
        if (is(platform, "ConfigurationNeeded") ||
            is(platform, "ConfigurationAndSWHardeningNeeded")) {
            set_status(out, "OutOfDateConfigurationNeeded");
        }
    }
    if (revoked) {
        set_status(out, "Revoked");
    }
}

static enum cvma_status evaluate_svn(const struct cvma_tdx_tcb_info *ti,
                                     const struct cvma_pck_ext *pck, const uint8_t svn[16],
                                     const char *svn_name, const struct cvma_tdx_qe_level *qe,
                                     struct eval *o, struct cvma_verdict *v)
{
    /* Module components are judged by the module identity when the major version is set. */
    unsigned start = svn[MODULE_MAJOR] > 0 ? 2 : 0;

    memset(o, 0, sizeof *o);
    /* Step 12 [QVL 4.1.2.5.2.1]: levels are already in QVL's order. */
    for (size_t i = 0; i < ti->n_levels; i++) {
        if (level_matches(&ti->levels[i], pck, svn, start)) {
            o->platform = &ti->levels[i];
            break;
        }
    }
    if (o->platform == NULL) {
        return no_platform_level(ti, pck, svn, start, svn_name, v);
    }
    /* Step 13 [QVL 4.1.2.5.2.2]. */
    if (svn[MODULE_MAJOR] > 0) {
        const struct cvma_tdx_module_identity *m = find_module(ti, svn[MODULE_MAJOR]);
        if (m == NULL) {
            return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                               "%s[1] (TDX module major version) = %u, but the TCB Info has no "
                               "tdxModuleIdentities entry TDX_%02X",
                               svn_name, (unsigned)svn[MODULE_MAJOR], (unsigned)svn[MODULE_MAJOR]);
        }
        o->module = m;
        for (size_t i = 0; i < m->n_levels; i++) { /* sorted by isvsvn, descending */
            if (svn[MODULE_MINOR] >= m->levels[i].isvsvn) {
                o->module_level = &m->levels[i];
                break;
            }
        }
        if (o->module_level == NULL) {
            return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                               "%s[0] (TDX module SVN) = %u < %u, the lowest isvsvn of %s",
                               svn_name, (unsigned)svn[MODULE_MINOR],
                               m->n_levels > 0 ? (unsigned)m->levels[m->n_levels - 1].isvsvn : 0,
                               m->id);
        }
        const char *ms = o->module_level->status;
        if (!is(ms, "UpToDate") && !is(ms, "OutOfDate") && !is(ms, "Revoked")) {
            return cvma_reject(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                               "the %s TCB level isvsvn %u has status %s; a TDX module level may "
                               "only be UpToDate, OutOfDate or Revoked (QVL)",
                               m->id, (unsigned)o->module_level->isvsvn, ms);
        }
    }
    /* Step 14. */
    converge(o->platform->status, qe->status, o->module_level ? o->module_level->status : "",
             o->status);
    return CVMA_OK;
}

static bool is_config_needed(const char *s)
{
    return is(s, "ConfigurationNeeded") || is(s, "OutOfDateConfigurationNeeded") ||
           is(s, "ConfigurationAndSWHardeningNeeded") ||
           is(s, "TDRelaunchAdvisedConfigurationNeeded");
}

/* Step 15 (QVL checkForRelaunch). */
static void relaunch(const char *launch, const char *current, char out[CVMA_TDX_STATUS_MAX])
{
    set_status(out, launch);
    if ((is(launch, "OutOfDate") || is(launch, "OutOfDateConfigurationNeeded")) &&
        (is(current, "UpToDate") || is(current, "SWHardeningNeeded") ||
         is(current, "ConfigurationNeeded") || is(current, "ConfigurationAndSWHardeningNeeded"))) {
        set_status(out, is_config_needed(launch) || is_config_needed(current)
                                ? "TDRelaunchAdvisedConfigurationNeeded"
                                : "TDRelaunchAdvised");
    }
}

static enum cvma_status add_advisories(struct cvma_tdx_advisories *dst,
                                       const struct cvma_tdx_advisories *src)
{
    for (size_t i = 0; i < src->n; i++) {
        bool dup = false;
        for (size_t k = 0; k < dst->n && !dup; k++) {
            dup = strcmp(dst->ids[k], src->ids[i]) == 0;
        }
        if (dup) {
            continue;
        }
        char **n = realloc(dst->ids, (dst->n + 1) * sizeof *n);
        if (n == NULL) {
            return CVMA_E_NOMEM;
        }
        dst->ids = n;
        if ((dst->ids[dst->n] = strdup(src->ids[i])) == NULL) {
            return CVMA_E_NOMEM;
        }
        dst->n++;
    }
    return CVMA_OK;
}

/* Keeps the earliest of the dates seen (they were validated when parsed). */
static void earliest_date(char out[32], time_t *best, const char *date)
{
    time_t t;
    if (cvma_time_parse_rfc3339(date, &t) && (out[0] == '\0' || t < *best)) {
        *best = t;
        snprintf(out, 32, "%s", date);
    }
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_tcb_evaluate(const struct cvma_tdx_collateral *c,
                                       const struct cvma_tdx_quote *q,
                                       const struct cvma_pck_ext *pck,
                                       struct cvma_tdx_tcb_result *r, struct cvma_verdict *v)
{
    const struct cvma_tdx_tcb_info *ti = &c->tcb_info;
    const struct cvma_tdx_qe_level *qe = NULL;
    struct eval launch, current;
    enum cvma_status st;
    char got[13], want[13];
    time_t best = 0;

    memset(r, 0, sizeof *r);
    if (strcmp(ti->id, "TDX") != 0 || ti->tcb_type != 0) {
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "TCB Info id \"%s\" tcbType %d cannot evaluate a TD", ti->id,
                           ti->tcb_type);
    }
    /* Step 6 [QVL 4.1.2.5.11]. */
    if (memcmp(pck->fmspc, ti->fmspc, sizeof ti->fmspc) != 0) {
        cvma_hex_encode(pck->fmspc, 6, got, sizeof got);
        cvma_hex_encode(ti->fmspc, 6, want, sizeof want);
        return cvma_reject(v, CVMA_R_TDX_FMSPC_MISMATCH,
                           "PCK certificate FMSPC %s, TCB Info FMSPC %s", got, want);
    }
    if (memcmp(pck->pceid, ti->pceid, sizeof ti->pceid) != 0) {
        cvma_hex_encode(pck->pceid, 2, got, sizeof got);
        cvma_hex_encode(ti->pceid, 2, want, sizeof want);
        return cvma_reject(v, CVMA_R_TDX_FMSPC_MISMATCH,
                           "PCK certificate PCE-ID %s, TCB Info pceId %s", got, want);
    }
    /* Step 7. */
    if ((st = check_module_identity(ti, q, v)) != CVMA_OK) {
        return st;
    }
    /* Step 10. */
    if ((st = check_qe(&c->qe_identity, &q->qe_report, &qe, v)) != CVMA_OK) {
        return st;
    }
    /* Steps 12-14 with TEE_TCB_SVN ("launch"). */
    if ((st = evaluate_svn(ti, pck, q->body.tee_tcb_svn, "TEE_TCB_SVN", qe, &launch, v)) !=
        CVMA_OK) {
        return st;
    }
    /* Step 15: TD report 1.5 [QVL 4.1.2.5.1.20]; a failure of the second run fails, as in QVL. */
    if (q->body.is_v15) {
        if ((st = evaluate_svn(ti, pck, q->body.tee_tcb_svn2, "TEE_TCB_SVN2", qe, &current, v)) !=
            CVMA_OK) {
            return st;
        }
        relaunch(launch.status, current.status, r->status);
    } else {
        set_status(r->status, launch.status);
    }
    set_status(r->platform_status, launch.platform->status);
    set_status(r->module_status, launch.module_level ? launch.module_level->status : "");
    set_status(r->qe_status, qe->status);
    /* The launch run's dates and advisories, as QVL reports them: platform ∪ QE ∪ module. */
    earliest_date(r->tcb_date, &best, launch.platform->tcb_date);
    earliest_date(r->tcb_date, &best, qe->tcb_date);
    if (launch.module_level != NULL) {
        earliest_date(r->tcb_date, &best, launch.module_level->tcb_date);
    }
    if ((st = add_advisories(&r->advisory_ids, &launch.platform->adv)) != CVMA_OK ||
        (st = add_advisories(&r->advisory_ids, &qe->adv)) != CVMA_OK ||
        (launch.module_level != NULL &&
         (st = add_advisories(&r->advisory_ids, &launch.module_level->adv)) != CVMA_OK)) {
        cvma_tdx_tcb_result_cleanup(r);
        return st;
    }
    r->level_found = true;
    return CVMA_OK;
}
