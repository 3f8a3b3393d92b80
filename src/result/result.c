#include "result/result.h"

#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

void cvma_result_init(struct cvma_result *res, const char *tee, time_t at)
{
    memset(res, 0, sizeof *res);
    res->tee = tee;
    res->verified_at = at;
    res->status = CVMA_CONTRAINDICATED;
    cvma_verdict_init(&res->verdict);
    res->claims = json_object();
    res->platform = json_object();
}

void cvma_result_cleanup(struct cvma_result *res)
{
    cvma_verdict_cleanup(&res->verdict);
    json_decref(res->claims);
    json_decref(res->platform);
    free(res->policy_id);
    memset(res, 0, sizeof *res);
}

void cvma_result_finish(struct cvma_result *res)
{
    res->status = cvma_verdict_finish(&res->verdict);
}

int cvma_result_exit_code(const struct cvma_result *res)
{
    if (res->status == CVMA_CONTRAINDICATED) {
        /* Undecided only when nothing else already refused the evidence. */
        if (res->undecided) {
            for (size_t i = 0; i < res->verdict.n_reasons; i++) {
                const struct cvma_verdict_reason *r = &res->verdict.reasons[i];
                if (r->severity == CVMA_SEV_ERROR && r->code != CVMA_R_COLLATERAL_UNAVAILABLE &&
                    r->code != CVMA_R_REGISTRY_UNAVAILABLE) {
                    return 1;
                }
            }
            return 3;
        }
        return 1;
    }
    return 0;
}

json_t *cvma_result_to_json(const struct cvma_result *res)
{
    char when[32];
    json_t *o = json_object();
    json_t *reasons = json_array();

    cvma_time_format(res->verified_at, when, sizeof when);
    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &res->verdict.reasons[i];
        json_array_append_new(
                reasons, json_pack("{s:s, s:s, s:s}", "code", cvma_reason_name(r->code), "severity",
                                   cvma_severity_name(r->severity), "detail", r->detail));
    }
    json_object_set_new(o, "status", json_string(cvma_result_status_name(res->status)));
    /* Always present, so a reader can test it without a default: true exactly when the
     * exit code is 3 (the status then stays contraindicated). */
    json_object_set_new(o, "undecided", json_boolean(cvma_result_exit_code(res) == 3));
    json_object_set_new(o, "tee", json_string(res->tee));
    json_object_set_new(o, "verified_at", json_string(when));
    json_object_set_new(o, "trust_anchor", json_string(res->trust_anchor));
    json_object_set_new(o, "reasons", reasons);
    json_object_set(o, "claims", res->claims);
    json_object_set(o, "platform", res->platform);
    return o;
}
