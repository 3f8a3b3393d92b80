/*
 * libFuzzer target: the appraisal-policy loader, the Cocos AI importer (SEV-SNP and TDX, both
 * field spellings) and the appraisal itself. The first byte picks what the rest is fed to:
 *   0  cvma_policy_load_bytes; a loaded policy is appraised against fixed SEV-SNP and TDX
 *      claims (from the project's claims encoders) and its accessors are called
 *   1  cvma_policy_import_cocos; what it produces must load (else abort: the importer and the
 *      loader disagree), and every dropped entry must be a string
 *   2  the rest split at the first NUL: a policy, then a result as JSON
 *      ({"tee": ..., "claims": {...}, "platform": {...}}): appraisal of arbitrary claims,
 *      which must never crash whatever their shape
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "appraise/policy.h"
#include "import/cocos.h"
#include "snp/snp_internal.h"
#include "tdx/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void appraise_on(const struct cvma_policy *p, const char *tee, json_t *claims,
                        json_t *platform)
{
    struct cvma_result res;
    cvma_result_init(&res, tee, 0);
    json_decref(res.claims);
    res.claims = claims;
    (void)cvma_platform_from_json(platform, &res.platform);
    json_decref(platform);
    cvma_verdict_add(&res.verdict, CVMA_R_TDX_TCB_NEEDS_ACTION, CVMA_SEV_WARNING, "status");
    cvma_verdict_add(&res.verdict, CVMA_R_TDX_SERVICE_TD_BOUND, CVMA_SEV_WARNING, "bound");
    cvma_policy_appraise(p, &res);
    for (size_t i = 0; i < res.verdict.n_reasons; i++) {
        if (strnlen(res.verdict.reasons[i].detail, CVMA_DETAIL_MAX) >= CVMA_DETAIL_MAX) {
            abort(); /* a detail must stay NUL-terminated */
        }
    }
    cvma_result_finish(&res);
    cvma_result_cleanup(&res);
}

static void appraise_fixed(const struct cvma_policy *p)
{
    struct cvma_snp_report *rep = calloc(1, sizeof *rep);
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    if (rep == NULL || q == NULL) {
        free(rep);
        free(q);
        return;
    }
    rep->version = 3;
    rep->policy = 0xb0000; /* SMT, reserved, DEBUG */
    rep->reported_tcb = 0xd50e000000000003ull;
    json_t *claims = json_object(), *platform = json_object();
    json_object_set_new(claims, "snp", cvma_snp_report_json(rep, CVMA_SNP_PRODUCT_MILAN));
    json_object_set_new(platform, "provider", json_string("acme"));
    appraise_on(p, "sev-snp", claims, platform);

    q->version = 5;
    q->body.is_v15 = true;
    q->body.td_attributes = 0x10000001ull;
    claims = json_object();
    platform = json_object();
    json_t *tdx = cvma_tdx_quote_json(q, NULL);
    json_object_set_new(tdx, "tcb_status", json_string("SWHardeningNeeded"));
    json_object_set_new(claims, "tdx", tdx);
    appraise_on(p, "tdx", claims, platform);
    free(rep);
    free(q);
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
    json_t *r = json_loadb((const char *)nul + 1, n - pl - 1, 0, NULL);
    if (r != NULL) {
        json_t *tee = json_object_get(r, "tee");
        json_t *claims = json_object_get(r, "claims");
        json_t *platform = json_object_get(r, "platform");
        appraise_on(p, json_is_string(tee) ? json_string_value(tee) : NULL,
                    claims ? json_incref(claims) : json_object(),
                    platform ? json_incref(platform) : json_object());
        json_decref(r);
    }
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
