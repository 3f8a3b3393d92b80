/* cvmattest demo: the line each step prints (demo.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/hex.h"
#include "demo.h"

#define STEP_COLS 110 /* columns a step line aims at */

const char demo_ok_mark[] = "\xe2\x9c\x93", demo_no_mark[] = "\xe2\x9c\x97"; /* ✓ ✗ */

/* detail with each run of 12 hex digits or more (a CHIP_ID, a PPID) cut to its first 8. */
static void compact(const char *detail, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = detail; *p != '\0' && o + 4 < cap;) {
        size_t run = 0;
        while (cvma_hex_nibble(p[run]) >= 0) {
            run++;
        }
        if (run >= 12 && !(p > detail && (p[-1] == 'x' || p[-1] == 'X'))) { /* 0x...: a value */
            o += (size_t)snprintf(out + o, cap - o, "%.8s...", p);
            p += run;
            p += strncmp(p, "...", 3) == 0 ? 3 : 0;
        } else if (run > 0) {
            size_t n = run < cap - o - 1 ? run : cap - o - 1;
            memcpy(out + o, p, n);
            o += n;
            p += run;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < cap ? o : cap - 1] = '\0';
}

/* Appends "CODE: detail" to line, the detail cut to what the line has room for (an
 * "(accepted by policy: ...)" note is kept whole: it is what the step shows). */
static void add_reason(char *line, size_t cap, const char *code, const char *raw, bool first)
{
    char detail[512];
    size_t used = strlen(line), room;
    if (code == NULL) {
        return; /* not a reason of the result JSON's form */
    }
    compact(raw != NULL ? raw : "", detail, sizeof detail);
    const char *note = strstr(detail, "(accepted by policy");
    if (used + strlen(code) + 8 >= cap) {
        return;
    }
    room = STEP_COLS > used + strlen(code) + 5 ? STEP_COLS - used - strlen(code) - 5 : 0;
    if (room < 56) {
        room = 56;
    }
    const char *sep = first ? ": " : " \xc2\xb7 ";
    if (strlen(detail) <= room) {
        snprintf(line + used, cap - used, "%s%s: %s", sep, code, detail);
    } else if (note != NULL) {
        snprintf(line + used, cap - used, "%s%s: ...%s", sep, code, note);
    } else {
        size_t n = room - 3;
        while (n > 0 && ((unsigned char)detail[n] & 0xc0) == 0x80) {
            n--; /* not inside a UTF-8 sequence */
        }
        snprintf(line + used, cap - used, "%s%s: %.*s...", sep, code, (int)n, detail);
    }
}

static const json_t *find_reason(const json_t *reasons, const char *code)
{
    size_t i;
    const json_t *r;
    json_array_foreach(reasons, i, r)
    {
        const char *c = json_string_value(json_object_get(r, "code"));
        if (c != NULL && strcmp(c, code) == 0) {
            return r;
        }
    }
    return NULL;
}

static bool wanted_code(const struct demo_want *want, const char *code)
{
    for (size_t k = 0; k < DEMO_WANT_MAX && want->reasons[k] != NULL; k++) {
        if (strcmp(want->reasons[k], code) == 0) {
            return true;
        }
    }
    return false;
}

bool demo_report(struct demo *d, const char *label, const char *result_json,
                 const struct demo_want *want, const char *why)
{
    char line[1024], wanted[256] = "", others[256] = ""; /* others: errors not wanted */
    json_t *j = result_json != NULL ? json_loads(result_json, 0, NULL) : NULL;
    bool as_wanted = false;

    d->steps++;
    for (size_t i = 0; i < DEMO_WANT_MAX && want->reasons[i] != NULL; i++) {
        size_t n = strlen(wanted);
        snprintf(wanted + n, sizeof wanted - n, " %s", want->reasons[i]);
    }
    if (j == NULL) {
        printf("%2d %s %s: could not run: %s\n", d->steps, demo_no_mark, label,
               why != NULL ? why : "no result");
        goto out;
    }
    const char *status = json_string_value(json_object_get(j, "status"));
    const json_t *reasons = json_object_get(j, "reasons");
    const json_t *pl = json_object_get(j, "platform");
    bool accepted =
            status != NULL && (strcmp(status, "affirming") == 0 || strcmp(status, "warning") == 0);
    as_wanted = accepted == want->accept;
    /* ✓ lines say the status, the provider, region and platform; ✗ lines why. */
    if (accepted) {
        snprintf(line, sizeof line, "%2d %s %s: %s", d->steps, demo_ok_mark, label, status);
    } else {
        snprintf(line, sizeof line, "%2d %s %s", d->steps, demo_no_mark, label);
    }
    if (accepted) {
        const char *prov = json_string_value(json_object_get(pl, "provider"));
        const char *region =
                json_string_value(json_object_get(json_object_get(pl, "labels"), "region"));
        const char *vendor = json_string_value(json_object_get(pl, "vendor"));
        const char *type = json_string_value(json_object_get(pl, "id_type"));
        const char *id = json_string_value(json_object_get(pl, "id"));
        size_t n = strlen(line);
        if (prov != NULL) {
            n += (size_t)snprintf(line + n, sizeof line - n, " \xc2\xb7 %s%s%s", prov,
                                  region != NULL ? " " : "", region != NULL ? region : "");
        }
        if (vendor != NULL && type != NULL && n < sizeof line && want->reasons[0] == NULL) {
            snprintf(line + n, sizeof line - n, " \xc2\xb7 %s %s %.8s%s", vendor, type,
                     id != NULL ? id : "(masked)", id != NULL && strlen(id) > 8 ? "..." : "");
        }
    }
    /*
     * The reasons. Refused: first every error (what refused it), then the other reasons the
     * step expects; a step that should be refused must be refused by a reason it expects (of
     * severity error) and by no other error. Accepted: the reasons the step expects (at any
     * severity: a policy may turn an error into a warning), else the warnings.
     */
    size_t i, shown = 0;
    const json_t *r;
    bool by_wanted = false;
    json_array_foreach(reasons, i, r)
    {
        const char *sev = json_string_value(json_object_get(r, "severity"));
        const char *code = json_string_value(json_object_get(r, "code"));
        if (accepted || sev == NULL || strcmp(sev, "error") != 0) {
            continue;
        }
        add_reason(line, sizeof line, code, json_string_value(json_object_get(r, "detail")),
                   shown == 0);
        shown++;
        if (code != NULL && wanted_code(want, code)) {
            by_wanted = true;
        } else {
            size_t n = strlen(others);
            snprintf(others + n, sizeof others - n, " %s", code != NULL ? code : "(no code)");
        }
    }
    for (size_t k = 0; k < DEMO_WANT_MAX && want->reasons[k] != NULL; k++) {
        r = find_reason(reasons, want->reasons[k]);
        if (r == NULL) {
            as_wanted = false;
            continue;
        }
        const char *sev = json_string_value(json_object_get(r, "severity"));
        if (!accepted && sev != NULL && strcmp(sev, "error") == 0) {
            continue; /* shown above */
        }
        add_reason(line, sizeof line, want->reasons[k],
                   json_string_value(json_object_get(r, "detail")), !accepted && shown == 0);
        shown++;
    }
    if (!accepted && !want->accept && (!by_wanted || others[0] != '\0')) {
        as_wanted = false;
    }
    json_array_foreach(reasons, i, r)
    {
        const char *sev = json_string_value(json_object_get(r, "severity"));
        if (accepted && shown == 0 && sev != NULL && strcmp(sev, "warning") == 0) {
            add_reason(line, sizeof line, json_string_value(json_object_get(r, "code")),
                       json_string_value(json_object_get(r, "detail")), false);
            shown++;
        }
    }
    printf("%s\n", line);
out:
    if (!as_wanted) {
        printf("     UNEXPECTED: wanted %s%s%s%s%s\n", want->accept ? demo_ok_mark : demo_no_mark,
               wanted[0] != '\0' ? " with" : "", wanted,
               others[0] != '\0' ? "; also refused by" : "", others);
        d->failures++;
    }
    json_decref(j);
    return as_wanted;
}

void demo_line(struct demo *d, bool ok, const char *fmt, ...)
{
    va_list ap;
    d->steps++;
    printf("%2d %s ", d->steps, ok ? demo_ok_mark : demo_no_mark);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok) {
        printf("     UNEXPECTED\n");
        d->failures++;
    }
}
