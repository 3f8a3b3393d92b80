#include "output.h"

#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

void cvma_print_fields(const json_t *o, int indent, FILE *f)
{
    const char *k;
    const json_t *val;
    for (void *it = json_object_iter((json_t *)(uintptr_t)o); it != NULL;
         it = json_object_iter_next((json_t *)(uintptr_t)o, it)) {
        k = json_object_iter_key(it);
        val = json_object_iter_value(it);
        if (json_is_object(val)) {
            fprintf(f, "%*s%s:\n", indent, "", k);
            cvma_print_fields(val, indent + 2, f);
            continue;
        }
        if (json_is_array(val) && json_array_size(val) > 0 &&
            json_is_string(json_array_get(val, 0))) {
            for (size_t i = 0; i < json_array_size(val); i++) {
                const char *e = json_string_value(json_array_get(val, i));
                fprintf(f, "%*s%s[%zu]: %s\n", indent, "", k, i, e ? e : "?");
            }
            continue;
        }
        char *s = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
        if (json_is_string(val)) {
            fprintf(f, "%*s%s: %s\n", indent, "", k, json_string_value(val));
        } else {
            fprintf(f, "%*s%s: %s\n", indent, "", k, s ? s : "?");
        }
        free(s);
    }
}

static const char *str_or(const json_t *o, const char *key, const char *none)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : none;
}

/* TDX claims beside the measurement (MRTD): the TCB statuses, the advisories, the RTMRs. */
static void print_tdx(const json_t *tdx, FILE *f)
{
    if (!json_is_object(tdx)) {
        return;
    }
    const char *status = json_string_value(json_object_get(tdx, "tcb_status"));
    if (status == NULL) {
        fprintf(f, "tcb status:   (none: no TCB level found)\n");
    } else {
        const char *module = json_string_value(json_object_get(tdx, "module_tcb_status"));
        fprintf(f, "tcb status:   %s (platform %s%s%s)\n", status,
                str_or(tdx, "platform_tcb_status", "?"), module ? ", module " : "",
                module ? module : "");
    }
    fprintf(f, "qe tcb:       %s\n", str_or(tdx, "qe_tcb_status", "(none)"));
    const json_t *adv = json_object_get(tdx, "advisory_ids");
    fprintf(f, "advisories:   ");
    if (json_array_size(adv) == 0) {
        fprintf(f, "(none)");
    }
    for (size_t i = 0; i < json_array_size(adv); i++) {
        const char *a = json_string_value(json_array_get(adv, i));
        fprintf(f, "%s%s", i ? ", " : "", a ? a : "?");
    }
    fputc('\n', f);
    const json_t *rtmr = json_object_get(tdx, "rtmr");
    for (size_t i = 0; i < json_array_size(rtmr); i++) {
        const char *r = json_string_value(json_array_get(rtmr, i));
        fprintf(f, "rtmr%zu:        %s\n", i, r ? r : "?");
    }
}

void cvma_print_result(const struct cvma_result *res, bool json, FILE *f)
{
    if (json) {
        json_t *o = cvma_result_to_json(res);
        json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', f);
        json_decref(o);
        return;
    }
    char when[32];
    cvma_time_format(res->verified_at, when, sizeof when);
    fprintf(f, "status:       %s\n", cvma_result_status_name(res->status));
    fprintf(f, "tee:          %s\n", res->tee);
    fprintf(f, "verified at:  %s\n", when);
    fprintf(f, "trust anchor: %s\n", res->trust_anchor[0] ? res->trust_anchor : "(none)");
    const struct cvma_platform *pl = &res->platform;
    if (pl->present) {
        char id[2 * CVMA_PLATFORM_ID_MAX + 1];
        const char *vendor = cvma_platform_vendor_name(pl->vendor);
        const char *type = cvma_platform_id_type_name(pl->id_type);
        cvma_platform_id_string(pl, id, sizeof id);
        fprintf(f, "platform:     %s %s %s\n", vendor ? vendor : "(null)", type ? type : "(null)",
                pl->has_id ? id : "(masked)");
        fprintf(f, "provider:     %s",
                pl->bound ? pl->provider : "(none: not bound to a provider registry)");
        for (size_t i = 0; i < pl->n_labels; i++) {
            fprintf(f, " %s=%s", pl->labels[i].key, pl->labels[i].value);
        }
        fputc('\n', f);
    }
    const char *m = json_string_value(json_object_get(res->claims, "measurement"));
    if (m != NULL) {
        fprintf(f, "measurement:  %s\n", m);
    }
    print_tdx(json_object_get(res->claims, "tdx"), f);
    if (res->verdict.n_reasons > 0) {
        fprintf(f, "reasons:\n");
    }
    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &res->verdict.reasons[i];
        fprintf(f, "  %-7s %s: %s\n", cvma_severity_name(r->severity), cvma_reason_name(r->code),
                r->detail);
    }
}
