#include "result/result.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/source.h"
#include "common/hex.h"
#include "common/timeutil.h"

void cvma_result_init(struct cvma_result *res, const char *tee, time_t at)
{
    memset(res, 0, sizeof *res);
    res->tee = tee;
    res->verified_at = at;
    res->status = CVMA_CONTRAINDICATED;
    cvma_verdict_init(&res->verdict);
}

void cvma_result_cleanup(struct cvma_result *res)
{
    cvma_verdict_cleanup(&res->verdict);
    cvma_claims_cleanup(&res->claims);
    free(res->policy_id);
    memset(res, 0, sizeof *res);
}

void cvma_result_finish(struct cvma_result *res)
{
    res->status = cvma_verdict_finish(&res->verdict);
}

const struct cvma_named_part *cvma_verify_opts_part(const struct cvma_verify_opts *opts,
                                                    const char *name)
{
    for (size_t i = 0; i < opts->n_collateral_parts; i++) {
        if (strcmp(opts->collateral_parts[i].name, name) == 0) {
            return &opts->collateral_parts[i];
        }
    }
    return NULL;
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

/* The members of a result, written as text (docs/results.md; common/json_out.h). */
static bool claims_write(struct cvma_strbuf *b, const struct cvma_result *res);

/* Notes where the member that began at start ended, when it is one of names. */
static void note_span(const struct cvma_strbuf *b, const char *name, size_t start,
                      const char *const *names, struct cvma_json_span *spans, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            spans[i].off = start;
            spans[i].len = b->len - start;
        }
    }
}

bool cvma_result_write(struct cvma_strbuf *b, const struct cvma_result *res,
                       const char *const *names, struct cvma_json_span *spans, size_t n)
{
    char when[32];
    bool first = true;
    size_t at;
    json_t *pl = NULL;

    for (size_t i = 0; i < n; i++) {
        spans[i].off = spans[i].len = 0;
    }
    cvma_time_format(res->verified_at, when, sizeof when);
    const char *status = cvma_result_status_name(res->status);
#define MEMBER(name, write)                                      \
    (cvma_json_key(b, &first, name) && (at = b->len, (write)) && \
     (note_span(b, name, at, names, spans, n), true))
    /* undecided: always present, so a reader can test it without a default: true exactly when
     * the exit code is 3 (the status then stays contraindicated). */
    bool ok = cvma_strbuf_add(b, "{", 1) &&
              MEMBER("status", cvma_json_write_str(b, status, strlen(status))) &&
              MEMBER("undecided", cvma_json_write_bool(b, cvma_result_exit_code(res) == 3)) &&
              (res->tee == NULL ||
               MEMBER("tee", cvma_json_write_str_lossy(b, res->tee, strlen(res->tee)))) &&
              MEMBER("verified_at", cvma_json_write_str(b, when, strlen(when))) &&
              MEMBER("trust_anchor",
                     cvma_json_write_str_lossy(b, res->trust_anchor, strlen(res->trust_anchor))) &&
              cvma_json_key(b, &first, "reasons");
    at = b->len;
    ok = ok && cvma_strbuf_add(b, "[", 1);
    for (size_t i = 0; ok && i < res->verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &res->verdict.reasons[i];
        const char *code = cvma_reason_name(r->code), *sev = cvma_severity_name(r->severity);
        bool f = true;
        ok = (i == 0 || cvma_strbuf_add(b, ",", 1)) && cvma_strbuf_add(b, "{", 1) &&
             cvma_json_key(b, &f, "code") && cvma_json_write_str(b, code, strlen(code)) &&
             cvma_json_key(b, &f, "severity") && cvma_json_write_str(b, sev, strlen(sev)) &&
             cvma_json_key(b, &f, "detail") &&
             cvma_json_write_str_lossy(b, r->detail, strlen(r->detail)) &&
             cvma_strbuf_add(b, "}", 1);
    }
    ok = ok && cvma_strbuf_add(b, "]", 1);
    if (ok) {
        note_span(b, "reasons", at, names, spans, n);
    }
    ok = ok && MEMBER("claims", claims_write(b, res)) &&
         (pl = cvma_platform_to_json(&res->platform)) != NULL &&
         MEMBER("platform", cvma_json_write(b, pl)) && cvma_strbuf_add(b, "}", 1);
#undef MEMBER
    json_decref(pl);
    return ok && !b->failed;
}

json_t *cvma_result_to_json(const struct cvma_result *res)
{
    struct cvma_strbuf b = {0};
    return cvma_json_tree_of(&b, cvma_result_write(&b, res, NULL, NULL, 0));
}

/* ---------- the typed claims ---------- */

void cvma_claims_set_kind(struct cvma_claims *c, const struct cvma_claims_ops *ops, void *kind)
{
    if (c->ops != NULL && c->ops->free != NULL && c->kind != NULL) {
        c->ops->free(c->kind);
    }
    c->ops = ops;
    c->kind = kind;
}

const void *cvma_claims_kind(const struct cvma_claims *c, const struct cvma_claims_ops *ops)
{
    return c->verified && c->ops == ops ? c->kind : NULL;
}

const void *cvma_claims_find(const struct cvma_claims *c, const struct cvma_claims_ops *ops)
{
    if (!c->verified || c->ops == NULL || c->kind == NULL) {
        return NULL;
    }
    if (c->ops == ops) {
        return c->kind;
    }
    return c->ops->part != NULL ? c->ops->part(c->kind, ops) : NULL;
}

void cvma_claims_cleanup(struct cvma_claims *c)
{
    cvma_claims_set_kind(c, NULL, NULL);
    json_decref(c->eventlog);
    memset(c, 0, sizeof *c);
}

static bool claims_write(struct cvma_strbuf *b, const struct cvma_result *res)
{
    const struct cvma_claims *c = &res->claims;
    bool first = true;
    if (!cvma_strbuf_add(b, "{", 1)) {
        return false;
    }
    if (!c->verified) {
        return cvma_strbuf_add(b, "}", 1);
    }
    size_t mlen =
            c->measurement_len < sizeof c->measurement ? c->measurement_len : sizeof c->measurement;
    /* Evidence with no launch measurement of its own (a TPM quote) has only its kind's object. */
    if (mlen > 0 &&
        !(cvma_json_key(b, &first, "measurement") && cvma_json_write_hex(b, c->measurement, mlen) &&
          cvma_json_key(b, &first, "report_data") &&
          cvma_json_write_hex(b, c->report_data, sizeof c->report_data) &&
          cvma_json_key(b, &first, "debug") && cvma_json_write_bool(b, c->debug))) {
        return false;
    }
    if (c->ops != NULL && c->kind != NULL) {
        if (!cvma_json_key(b, &first, c->ops->key)) {
            return false;
        }
        if (c->ops->write != NULL) {
            if (!c->ops->write(b, c->kind)) {
                return false;
            }
        } else {
            json_t *k = c->ops->to_json(c->kind);
            bool ok = k != NULL && cvma_json_write(b, k);
            json_decref(k);
            if (!ok) {
                return false;
            }
        }
    }
    if (c->eventlog != NULL &&
        !(cvma_json_key(b, &first, "eventlog") && cvma_json_write(b, c->eventlog))) {
        return false;
    }
    return cvma_strbuf_add(b, "}", 1);
}

json_t *cvma_result_claims_json(const struct cvma_result *res)
{
    struct cvma_strbuf b = {0};
    return cvma_json_tree_of(&b, claims_write(&b, res));
}

/* ---------- the typed platform identity ---------- */

const char *cvma_platform_vendor_name(enum cvma_platform_vendor v)
{
    switch (v) {
    case CVMA_PLATFORM_AMD:
        return "amd";
    case CVMA_PLATFORM_INTEL:
        return "intel";
    case CVMA_PLATFORM_VENDOR_NONE:
        break;
    }
    return NULL;
}

const char *cvma_platform_id_type_name(enum cvma_platform_id_type t)
{
    switch (t) {
    case CVMA_PLATFORM_CHIP_ID:
        return "chip_id";
    case CVMA_PLATFORM_PPID:
        return "ppid";
    case CVMA_PLATFORM_VLEK:
        return "vlek";
    case CVMA_PLATFORM_ID_NONE:
        break;
    }
    return NULL;
}

void cvma_platform_id_string(const struct cvma_platform *pl, char *out, size_t out_size)
{
    if (out_size == 0) {
        return;
    }
    out[0] = '\0';
    if (!pl->has_id) {
        return;
    }
    if (pl->id_type == CVMA_PLATFORM_VLEK) {
        snprintf(out, out_size, "%.*s", (int)pl->id_len, (const char *)pl->id);
    } else if (out_size >= 2 * pl->id_len + 1) {
        cvma_hex_encode(pl->id, pl->id_len, out, out_size);
    }
}

json_t *cvma_platform_to_json(const struct cvma_platform *pl)
{
    json_t *o = json_object();
    json_t *labels = NULL;
    const char *vendor = cvma_platform_vendor_name(pl->vendor);
    const char *type = cvma_platform_id_type_name(pl->id_type);
    char id[2 * CVMA_PLATFORM_ID_MAX + 1];

    if (o == NULL || !pl->present) {
        return o;
    }
    cvma_platform_id_string(pl, id, sizeof id);
    if (json_object_set_new(o, "vendor", vendor ? json_string(vendor) : json_null()) != 0 ||
        json_object_set_new(o, "id_type", type ? json_string(type) : json_null()) != 0 ||
        json_object_set_new(o, "id", pl->has_id ? json_string(id) : json_null()) != 0) {
        goto fail;
    }
    if (pl->has_chip_id) {
        char hex[2 * CVMA_PLATFORM_CHIP_ID_LEN + 1];
        cvma_hex_encode(pl->chip_id, sizeof pl->chip_id, hex, sizeof hex);
        if (json_object_set_new(o, "chip_id", json_string(hex)) != 0) {
            goto fail;
        }
    }
    if ((labels = json_object()) == NULL) {
        goto fail;
    }
    for (size_t i = 0; i < pl->n_labels; i++) {
        if (json_object_set_new(labels, pl->labels[i].key, json_string(pl->labels[i].value)) != 0) {
            goto fail;
        }
    }
    if (json_object_set_new(o, "provider", pl->bound ? json_string(pl->provider) : json_null()) !=
                0 ||
        json_object_set_new(o, "labels", labels) != 0) {
        labels = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(labels);
    json_decref(o);
    return NULL;
}

static bool hex_exact(const json_t *j, uint8_t *out, size_t want)
{
    size_t got = 0;
    return json_is_string(j) && json_string_length(j) == 2 * want &&
           cvma_hex_decode(json_string_value(j), out, want, &got) && got == want;
}

bool cvma_platform_from_json(const json_t *j, struct cvma_platform *pl)
{
    const char *vendor = json_string_value(json_object_get(j, "vendor"));
    const char *type = json_string_value(json_object_get(j, "id_type"));
    const json_t *id = json_object_get(j, "id");
    const json_t *chip = json_object_get(j, "chip_id");
    const json_t *prov = json_object_get(j, "provider");
    const json_t *labels = json_object_get(j, "labels");
    bool ok = true;

    memset(pl, 0, sizeof *pl);
    if (!json_is_object(j)) {
        return j == NULL;
    }
    if (json_object_size(j) == 0) {
        return true;
    }
    pl->present = true;
    if (vendor != NULL && strcmp(vendor, "amd") == 0) {
        pl->vendor = CVMA_PLATFORM_AMD;
    } else if (vendor != NULL && strcmp(vendor, "intel") == 0) {
        pl->vendor = CVMA_PLATFORM_INTEL;
    } else {
        ok = false;
    }
    if (type != NULL && strcmp(type, "chip_id") == 0) {
        pl->id_type = CVMA_PLATFORM_CHIP_ID;
        pl->has_id = hex_exact(id, pl->id, CVMA_PLATFORM_CHIP_ID_LEN);
        pl->id_len = pl->has_id ? CVMA_PLATFORM_CHIP_ID_LEN : 0;
    } else if (type != NULL && strcmp(type, "ppid") == 0) {
        pl->id_type = CVMA_PLATFORM_PPID;
        pl->has_id = hex_exact(id, pl->id, CVMA_PLATFORM_PPID_LEN);
        pl->id_len = pl->has_id ? CVMA_PLATFORM_PPID_LEN : 0;
    } else if (type != NULL && strcmp(type, "vlek") == 0) {
        size_t n = json_is_string(id) ? json_string_length(id) : 0;
        pl->id_type = CVMA_PLATFORM_VLEK;
        if (n > 0 && n <= CVMA_PLATFORM_ID_MAX) {
            memcpy(pl->id, json_string_value(id), n);
            pl->id_len = n;
            pl->has_id = true;
        }
    } else {
        ok = false;
    }
    if (!pl->has_id && !json_is_null(id)) {
        ok = false; /* an identifier that is not of its type's form */
    }
    if (chip != NULL) {
        pl->has_chip_id = hex_exact(chip, pl->chip_id, CVMA_PLATFORM_CHIP_ID_LEN);
        ok = ok && pl->has_chip_id;
    }
    if (json_is_string(prov) && json_string_length(prov) <= CVMA_PLATFORM_PROVIDER_MAX) {
        pl->bound = true;
        snprintf(pl->provider, sizeof pl->provider, "%s", json_string_value(prov));
    }
    if (labels != NULL && !json_is_object(labels)) {
        ok = false; /* labels of another form: not read back */
    }
    if (json_is_object(labels)) {
        const char *k;
        const json_t *val;
        json_object_foreach((json_t *)(uintptr_t)labels, k, val)
        {
            if (pl->n_labels == CVMA_PLATFORM_LABELS_MAX || !json_is_string(val) ||
                strlen(k) > CVMA_PLATFORM_LABEL_KEY_MAX ||
                json_string_length(val) > CVMA_PLATFORM_LABEL_VALUE_MAX) {
                ok = false;
                continue;
            }
            struct cvma_platform_label *l = &pl->labels[pl->n_labels++];
            snprintf(l->key, sizeof l->key, "%s", k);
            snprintf(l->value, sizeof l->value, "%s", json_string_value(val));
        }
    }
    return ok;
}

bool cvma_platform_same(const struct cvma_platform *a, const struct cvma_platform *b)
{
    /* No identifier (a masked CHIP_ID) names no platform: two such are not shown to be one
     * (docs/results.md "Migration"), so they count as two. */
    if (!a->present || !b->present || !a->has_id || !b->has_id) {
        return false;
    }
    if (a->vendor != b->vendor || a->id_type != b->id_type || a->id_len != b->id_len ||
        memcmp(a->id, b->id, a->id_len) != 0) {
        return false;
    }
    /* The chip beside the id (a VLEK's id is its provider's cspID, shared by all its hosts; the
     * signed CHIP_ID is the host): one that names a chip and one that does not, or two chips,
     * are two platforms. */
    return a->has_chip_id == b->has_chip_id &&
           (!a->has_chip_id || memcmp(a->chip_id, b->chip_id, sizeof a->chip_id) == 0);
}

void cvma_result_fetched_collateral_refused(struct cvma_result *res, size_t since,
                                            const char *source, const char *removed)
{
    struct cvma_verdict *v = &res->verdict;
    const struct cvma_verdict_reason *first = cvma_verdict_first_error_since(v, since);
    char detail[CVMA_DETAIL_MAX];
    const char *code = first != NULL ? cvma_reason_name(first->code) : "refused";

    snprintf(detail, sizeof detail, "%s", first != NULL ? first->detail : "");
    v->n_reasons = since;
    cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                "collateral fetched from %s or the cache fails its own checks (%s: %s); "
                "removed from the cache: %s. It says nothing about the evidence; the next "
                "verification fetches it again",
                source, code, detail, removed);
    res->undecided = true;
}

void cvma_result_fetched_collateral_untimely(struct cvma_result *res, size_t since,
                                             const char *source, const char *item, time_t from,
                                             time_t to, time_t at)
{
    struct cvma_verdict *v = &res->verdict;
    const struct cvma_verdict_reason *first = cvma_verdict_first_error_since(v, since);
    const char *code = first != NULL ? cvma_reason_name(first->code) : "refused";
    char detail[CVMA_DETAIL_MAX], when[32], w[32];
    bool early = at < from;

    snprintf(detail, sizeof detail, "%s", first != NULL ? first->detail : "");
    cvma_time_format(early ? from : to, when, sizeof when);
    cvma_time_format(at, w, sizeof w);
    v->n_reasons = since;
    if (early) {
        /* A past --at, or (without one) this host's clock behind the issuer's: the item is
         * genuine and current, only not yet issued at that time. */
        cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                    "the %s from %s or the cache was issued %s, after the verification time %s: "
                    "this verifier chose it, so that says nothing about the evidence (it stays "
                    "cached). To judge evidence at an earlier time, give the collateral of that "
                    "time in --collateral DIR; at the current time, this host's clock is behind "
                    "the issuer's (%s: %s)",
                    item, source, when, w, code, detail);
    } else {
        cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                    "the %s from %s or the cache is out of date at the verification time %s "
                    "(valid until %s): this verifier chose it, so that says nothing about the "
                    "evidence. To judge evidence at that time, give collateral current then in "
                    "--collateral DIR (%s: %s)",
                    item, source, w, when, code, detail);
    }
    res->undecided = true;
}
