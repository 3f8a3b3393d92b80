#include "output.h"

#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "tdx/tdx_claims.h"

/* Flushes f and says on stderr when anything written to it was lost ("WHAT could not be
 * written"); false then. */
static bool flushed(FILE *f, bool ok, const char *what)
{
    ok = fflush(f) == 0 && !ferror(f) && ok;
    if (!ok) {
        cvma_cli_err("cvmattest: %s could not be written\n", what);
    }
    return ok;
}

static bool json_written(const json_t *o, FILE *f, const char *what)
{
    bool ok = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && fputc('\n', f) != EOF;
    return flushed(f, ok, what);
}

/* see output.h */
bool cvma_print_json(const json_t *o, FILE *f)
{
    return json_written(o, f, "the output");
}

/* see output.h */
bool cvma_print_flush(FILE *f)
{
    return flushed(f, true, "the output");
}

void cvma_put_text(const char *s, FILE *f)
{
    if (!cvma_text_needs_escape(s)) {
        fputs(s, f);
        return;
    }
    size_t cap = strlen(s) * 4 + 1;
    char *e = malloc(cap);
    if (e == NULL) {
        fputs("(text not shown: out of memory)", f);
        return;
    }
    fputs(cvma_text_escape(s, e, cap), f);
    free(e);
}

/* indent, then key and ": " */
static void put_key(int indent, const char *k, FILE *f)
{
    fprintf(f, "%*s", indent, "");
    cvma_put_text(k, f);
}

void cvma_print_fields(const json_t *o, int indent, FILE *f)
{
    const char *k;
    const json_t *val;
    for (void *it = json_object_iter((json_t *)(uintptr_t)o); it != NULL;
         it = json_object_iter_next((json_t *)(uintptr_t)o, it)) {
        k = json_object_iter_key(it);
        val = json_object_iter_value(it);
        if (json_is_object(val)) {
            put_key(indent, k, f);
            fputs(":\n", f);
            cvma_print_fields(val, indent + 2, f);
            continue;
        }
        if (json_is_array(val) && json_array_size(val) > 0 &&
            json_is_string(json_array_get(val, 0))) {
            for (size_t i = 0; i < json_array_size(val); i++) {
                const char *e = json_string_value(json_array_get(val, i));
                put_key(indent, k, f);
                fprintf(f, "[%zu]: ", i);
                cvma_put_text(e ? e : "?", f);
                fputc('\n', f);
            }
            continue;
        }
        put_key(indent, k, f);
        fputs(": ", f);
        if (json_is_string(val)) {
            cvma_put_text(json_string_value(val), f);
        } else {
            char *s = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
            cvma_put_text(s ? s : "?", f); /* JSON: escaped already */
            free(s);
        }
        fputc('\n', f);
    }
}

/* TDX claims beside the measurement (MRTD): the TCB statuses, the advisories, the RTMRs. */
static void print_tdx(const struct cvma_tdx_claims *c, FILE *f)
{
    if (c == NULL) {
        return;
    }
    const struct cvma_tdx_tcb_result *t = &c->tcb;
    if (!t->level_found) {
        fprintf(f, "tcb status:   (none: no TCB level found)\n");
    } else {
        const char *module = t->module_status[0] ? t->module_status : NULL;
        fprintf(f, "tcb status:   %s (platform %s%s%s)\n", t->status, t->platform_status,
                module ? ", module " : "", module ? module : "");
    }
    fprintf(f, "qe tcb:       %s\n", t->level_found ? t->qe_status : "(none)");
    fprintf(f, "advisories:   ");
    if (t->advisory_ids.n == 0) {
        fprintf(f, "(none)");
    }
    for (size_t i = 0; i < t->advisory_ids.n; i++) {
        fputs(i ? ", " : "", f);
        cvma_put_text(t->advisory_ids.ids[i], f);
    }
    fputc('\n', f);
    for (size_t i = 0; i < 4; i++) {
        char hex[2 * sizeof c->quote.body.rtmr[i] + 1];
        cvma_hex_encode(c->quote.body.rtmr[i], sizeof c->quote.body.rtmr[i], hex, sizeof hex);
        fprintf(f, "rtmr%zu:        %s\n", i, hex);
    }
}

bool cvma_print_result(const struct cvma_result *res, bool json, FILE *f)
{
    if (json) {
        json_t *o = cvma_result_to_json(res);
        if (o == NULL) {
            cvma_cli_err("cvmattest: out of memory writing the result\n");
            return false;
        }
        /* Written whole or not at all as far as the exit code goes: a full disk or a closed
         * stdout is an error, never the verdict's code over nothing or half a result. */
        bool ok = json_written(o, f, "the result");
        json_decref(o);
        return ok;
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
        /* With no identifier: a masked CHIP_ID, or a VLEK certificate that names no cspID. */
        const char *none = pl->id_type == CVMA_PLATFORM_VLEK ? "(no cspID)" : "(masked)";
        fprintf(f, "platform:     %s %s %s\n", vendor ? vendor : "(null)", type ? type : "(null)",
                pl->has_id ? id : none);
        fputs("provider:     ", f);
        cvma_put_text(pl->bound ? pl->provider : "(none: not bound to a provider registry)", f);
        for (size_t i = 0; i < pl->n_labels; i++) {
            fputc(' ', f);
            cvma_put_text(pl->labels[i].key, f);
            fputc('=', f);
            cvma_put_text(pl->labels[i].value, f);
        }
        fputc('\n', f);
    }
    if (res->claims.verified && res->claims.measurement_len <= CVMA_CLAIMS_MEASUREMENT_MAX) {
        char m[2 * CVMA_CLAIMS_MEASUREMENT_MAX + 1];
        cvma_hex_encode(res->claims.measurement, res->claims.measurement_len, m, sizeof m);
        fprintf(f, "measurement:  %s\n", m);
    }
    print_tdx(cvma_tdx_claims_of(res), f);
    if (res->verdict.n_reasons > 0) {
        fprintf(f, "reasons:\n");
    }
    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &res->verdict.reasons[i];
        fprintf(f, "  %-7s %s: %s\n", cvma_severity_name(r->severity), cvma_reason_name(r->code),
                r->detail);
    }
    /* As for JSON: a result that could not be written whole is an error, not the verdict. */
    return flushed(f, true, "the result");
}
