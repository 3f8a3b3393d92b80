/*
 * libFuzzer target: the appraisal-policy loader, the Cocos AI importer (SEV-SNP and TDX, both
 * field spellings) and the appraisal itself. The first byte picks what the rest is fed to:
 *   0  cvma_policy_load_bytes; a loaded policy is appraised against fixed SEV-SNP and TDX
 *      claims (typed, as the verifiers fill them) and its accessors are called
 *   1  cvma_policy_import_cocos; what it produces must load (else abort: the importer and the
 *      loader disagree), and every dropped entry must be a string
 *   2  the rest split at the first NUL: a policy, then typed claims built from the bytes
 *      (claims_from_bytes): appraisal of arbitrary claims, which must never crash
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "appraise/policy.h"
#include "common/reader.h"
#include "import/cocos.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"
#include "tdx/tdx.h"
#include "tdx/tdx_claims.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appraises res (filled: claims, platform) and frees it. */
static void appraise_on(const struct cvma_policy *p, struct cvma_result *res)
{
    cvma_verdict_add(&res->verdict, CVMA_R_TDX_TCB_NEEDS_ACTION, CVMA_SEV_WARNING, "status");
    cvma_verdict_add(&res->verdict, CVMA_R_TDX_SERVICE_TD_BOUND, CVMA_SEV_WARNING, "bound");
    cvma_policy_appraise(p, res);
    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        if (strnlen(res->verdict.reasons[i].detail, CVMA_DETAIL_MAX) >= CVMA_DETAIL_MAX) {
            abort(); /* a detail must stay NUL-terminated */
        }
    }
    cvma_result_finish(res);
    cvma_result_cleanup(res);
}

static void bind_provider(struct cvma_result *res, const char *name)
{
    res->platform.present = true;
    res->platform.bound = true;
    snprintf(res->platform.provider, sizeof res->platform.provider, "%s", name);
}

static void appraise_fixed(const struct cvma_policy *p)
{
    struct cvma_snp_report *rep = calloc(1, sizeof *rep);
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    struct cvma_tdx_tcb_result tcb;
    struct cvma_result res;
    if (rep == NULL || q == NULL) {
        free(rep);
        free(q);
        return;
    }
    rep->version = 3;
    rep->policy = 0xb0000; /* SMT, reserved, DEBUG */
    rep->reported_tcb = 0xd50e000000000003ull;
    cvma_result_init(&res, "sev-snp", 0);
    if (cvma_snp_claims_set(&res, rep, CVMA_SNP_PRODUCT_MILAN, NULL, NULL)) {
        bind_provider(&res, "acme");
        appraise_on(p, &res);
    } else {
        cvma_result_cleanup(&res);
    }

    q->version = 5;
    q->body.is_v15 = true;
    q->body.td_attributes = 0x10000001ull;
    memset(&tcb, 0, sizeof tcb);
    tcb.level_found = true;
    snprintf(tcb.status, sizeof tcb.status, "SWHardeningNeeded");
    cvma_result_init(&res, "tdx", 0);
    if (cvma_tdx_claims_set(&res, q, NULL, &tcb, 0)) {
        appraise_on(p, &res);
    } else {
        cvma_result_cleanup(&res);
    }
    free(rep);
    free(q);
}

/*
 * Typed claims from bytes. d[0]: bit 0 TDX (else SEV-SNP), bit 1 the result names the other
 * TEE (its kind's claims then missing), bit 2 no kind claims at all, bit 3 a provider bound;
 * d[1]: SEV-SNP product (0..3, 0 unknown) or TDX TCB status (an index into the names below,
 * past them: no level found). The rest: an SEV-SNP report for the real parser (zero-padded to
 * its size), or a TD report 1.5 body (zero-padded) read field by field.
 */
static bool tdx_body_from_bytes(const uint8_t *d, size_t n, struct cvma_tdx_td_report *b)
{
    uint8_t buf[CVMA_TDX_BODY15_SIZE] = {0};
    struct cvma_reader r;
    memcpy(buf, d, n < sizeof buf ? n : sizeof buf);
    cvma_reader_init(&r, buf, sizeof buf);
    b->is_v15 = n > CVMA_TDX_BODY10_SIZE;
    bool ok = cvma_reader_bytes(&r, b->tee_tcb_svn, sizeof b->tee_tcb_svn) &&
              cvma_reader_bytes(&r, b->mr_seam, sizeof b->mr_seam) &&
              cvma_reader_bytes(&r, b->mr_signer_seam, sizeof b->mr_signer_seam) &&
              cvma_reader_u64le(&r, &b->seam_attributes) &&
              cvma_reader_u64le(&r, &b->td_attributes) && cvma_reader_u64le(&r, &b->xfam) &&
              cvma_reader_bytes(&r, b->mr_td, sizeof b->mr_td) &&
              cvma_reader_bytes(&r, b->mr_config_id, sizeof b->mr_config_id) &&
              cvma_reader_bytes(&r, b->mr_owner, sizeof b->mr_owner) &&
              cvma_reader_bytes(&r, b->mr_owner_config, sizeof b->mr_owner_config);
    for (size_t i = 0; ok && i < 4; i++) {
        ok = cvma_reader_bytes(&r, b->rtmr[i], sizeof b->rtmr[i]);
    }
    return ok && cvma_reader_bytes(&r, b->report_data, sizeof b->report_data) &&
           cvma_reader_bytes(&r, b->tee_tcb_svn2, sizeof b->tee_tcb_svn2) &&
           cvma_reader_bytes(&r, b->mr_service_td, sizeof b->mr_service_td);
}

static const char *const tcb_statuses[] = {"UpToDate",
                                           "SWHardeningNeeded",
                                           "ConfigurationNeeded",
                                           "ConfigurationAndSWHardeningNeeded",
                                           "OutOfDate",
                                           "OutOfDateConfigurationNeeded",
                                           "TDRelaunchAdvised",
                                           "TDRelaunchAdvisedConfigurationNeeded",
                                           "Revoked",
                                           "SomethingElse"};

static void claims_from_bytes(const struct cvma_policy *p, const uint8_t *d, size_t n)
{
    struct cvma_result res;
    bool tdx, ok;
    if (n < 2) {
        return;
    }
    tdx = d[0] & 1;
    cvma_result_init(&res, (tdx != ((d[0] & 2) != 0)) ? "tdx" : "sev-snp", 0);
    if (tdx) {
        struct cvma_tdx_quote *q = calloc(1, sizeof *q);
        struct cvma_tdx_tcb_result tcb;
        memset(&tcb, 0, sizeof tcb);
        if (d[1] < CVMA_ARRAY_LEN(tcb_statuses)) {
            tcb.level_found = true;
            snprintf(tcb.status, sizeof tcb.status, "%s", tcb_statuses[d[1]]);
        }
        ok = q != NULL && tdx_body_from_bytes(d + 2, n - 2, &q->body) &&
             cvma_tdx_claims_set(&res, q, NULL, &tcb, 0);
        free(q);
    } else {
        uint8_t *buf = calloc(1, CVMA_SNP_REPORT_SIZE);
        struct cvma_snp_report *rep = calloc(1, sizeof *rep);
        struct cvma_parse_opts po = {.allow_trailing_data = true};
        struct cvma_verdict v;
        cvma_verdict_init(&v);
        ok = buf != NULL && rep != NULL;
        if (ok) {
            memcpy(buf, d + 2, n - 2 < CVMA_SNP_REPORT_SIZE ? n - 2 : CVMA_SNP_REPORT_SIZE);
            ok = cvma_snp_report_parse(buf, CVMA_SNP_REPORT_SIZE, &po, rep, &v) == CVMA_OK &&
                 cvma_snp_claims_set(&res, rep, (enum cvma_snp_product)(d[1] % 4), NULL, NULL);
        }
        cvma_verdict_cleanup(&v);
        free(buf);
        free(rep);
    }
    if (!ok) {
        cvma_result_cleanup(&res);
        return;
    }
    if (d[0] & 4) {
        cvma_claims_set_kind(&res.claims, NULL, NULL);
    }
    if (d[0] & 8) {
        bind_provider(&res, "acme-cloud");
    }
    appraise_on(p, &res);
}

static void load(const uint8_t *d, size_t n)
{
    struct cvma_policy *p = NULL;
    char err[256];
    if (cvma_policy_load_bytes(d, n, &p, err, sizeof err) != CVMA_OK) {
        if (p != NULL) {
            abort();
        }
        return;
    }
    const char *const *names = NULL;
    uint8_t rd[64];
    if (strncmp(cvma_policy_id(p), "sha256:", 7) != 0) {
        abort();
    }
    for (size_t i = 0, k = cvma_policy_required_providers(p, &names); i < k; i++) {
        if (names[i] == NULL) {
            abort();
        }
    }
    (void)cvma_policy_report_data(p, rd);
    (void)cvma_policy_collateral_grace(p);
    (void)cvma_policy_name(p);
    appraise_fixed(p);
    cvma_policy_free(p);
}

static void import(const uint8_t *d, size_t n)
{
    json_t *out = NULL, *dropped = NULL;
    char err[256];
    if (cvma_policy_import_cocos(d, n, &out, &dropped, err, sizeof err) != CVMA_OK) {
        if (out != NULL || dropped != NULL) {
            abort();
        }
        return;
    }
    for (size_t i = 0; i < json_array_size(dropped); i++) {
        if (!json_is_string(json_array_get(dropped, i))) {
            abort();
        }
    }
    char *text = json_dumps(out, JSON_COMPACT);
    if (text != NULL) {
        struct cvma_policy *p = NULL;
        if (cvma_policy_load_bytes((const uint8_t *)text, strlen(text), &p, err, sizeof err) !=
            CVMA_OK) {
            abort();
        }
        cvma_policy_free(p);
        free(text);
    }
    json_decref(out);
    json_decref(dropped);
}

static void policy_and_claims(const uint8_t *d, size_t n)
{
    const uint8_t *nul = memchr(d, 0, n);
    struct cvma_policy *p = NULL;
    char err[256];
    if (nul == NULL) {
        return;
    }
    size_t pl = (size_t)(nul - d);
    if (cvma_policy_load_bytes(d, pl, &p, err, sizeof err) != CVMA_OK) {
        return;
    }
    claims_from_bytes(p, nul + 1, n - pl - 1);
    cvma_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        load(data + 1, size - 1);
        break;
    case 1:
        import(data + 1, size - 1);
        break;
    default:
        policy_and_claims(data + 1, size - 1);
        break;
    }
    return 0;
}
