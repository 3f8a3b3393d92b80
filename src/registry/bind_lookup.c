/*
 * Lookup registries: a provider answers whether it lists an Intel PPID (cached answers).
 * See registry/registry.h for the contract and docs/registry.md for the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collateral/cache.h"
#include "collateral/http.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "common/reader.h"
#include "registry/bind_internal.h"
#include "registry/registry.h"

/* ---------- lookup registries ---------- */

/* Checks a zone and stores it as the label of a scratch entry (same rules as any label). */
static bool zone_ok(const char *zone)
{
    struct cvma_reg_entries tmp;
    static const uint8_t one[CVMA_REG_PPID_LEN] = {1};
    struct cvma_reg_label l = {"zone", zone};
    bool ok;
    cvma_reg_entries_init(&tmp);
    ok = cvma_reg_entries_add(&tmp, CVMA_REG_INTEL, CVMA_REG_PPID, one, sizeof one, &l, 1, 0, NULL,
                              0) == CVMA_OK;
    cvma_reg_entries_cleanup(&tmp);
    return ok;
}

/* see registry/bind_internal.h */
enum lk_result cvma_lookup_cached_read(const uint8_t *p, size_t len, char *zone, size_t zone_len)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *l = json_object_get(j, "listed"), *z = json_object_get(j, "zone");
    enum lk_result r = LK_UNAVAILABLE; /* unusable entry: treat as a miss */
    zone[0] = '\0';
    if (json_is_boolean(l)) {
        if (!json_is_true(l)) {
            r = LK_NOT_LISTED;
        } else if (z == NULL || (json_is_string(z) && zone_ok(json_string_value(z)))) {
            snprintf(zone, zone_len, "%s", z ? json_string_value(z) : "");
            r = LK_LISTED;
        }
    }
    json_decref(j);
    return r;
}

/* see registry/bind_internal.h */
enum lk_result cvma_lookup_answer_read(const uint8_t *p, size_t len, char *zone, size_t zone_len)
{
    json_error_t jerr;
    json_t *ans = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *z = json_object_get(ans, "zone");
    enum lk_result r = LK_UNAVAILABLE;
    zone[0] = '\0';
    if (json_is_object(ans) &&
        (z == NULL || (json_is_string(z) && zone_ok(json_string_value(z))))) {
        snprintf(zone, zone_len, "%s", z ? json_string_value(z) : "");
        r = LK_LISTED;
    }
    json_decref(ans);
    return r;
}

/* see registry/bind_internal.h */
char *cvma_lookup_cache_text(const char *zone)
{
    json_t *c = json_pack("{s:b}", "listed", 1);
    char *s = NULL;
    if (c != NULL && (zone[0] == '\0' || json_object_set_new(c, "zone", json_string(zone)) == 0)) {
        s = cvma_json_compact(c, NULL);
    }
    json_decref(c);
    return s;
}

/* see registry/bind_internal.h */
bool cvma_lookup_cached_failure(const uint8_t *p, size_t len, char *why, size_t why_len)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *f = json_object_get(j, "failed");
    bool failed = json_is_object(j) && json_object_size(j) == 1 && json_is_string(f) &&
                  json_string_length(f) > 0 && json_string_length(f) <= CVMA_LOOKUP_FAILED_MAX;
    if (why_len > 0) {
        why[0] = '\0';
        if (failed) {
            size_t n = json_string_length(f) < why_len ? json_string_length(f) : why_len - 1;
            memcpy(why, json_string_value(f), n);
            why[n] = '\0';
        }
    }
    json_decref(j);
    return failed;
}

/* see registry/bind_internal.h */
char *cvma_lookup_failure_text(const char *why)
{
    size_t n = strnlen(why, CVMA_LOOKUP_FAILED_MAX);
    /* Not in the middle of a UTF-8 character (the cut string would be no JSON string). */
    for (bool cut = n == CVMA_LOOKUP_FAILED_MAX;
         cut && n > 0 && ((unsigned char)why[n] & 0xc0) == 0x80;) {
        n--;
    }
    json_t *c = json_object();
    char *s = NULL;
    if (c != NULL &&
        json_object_set_new(c, "failed", json_stringn(n > 0 ? why : "?", n > 0 ? n : 1)) == 0) {
        s = cvma_json_compact(c, NULL);
    }
    json_decref(c);
    return s;
}

/* see registry/bind_internal.h */
bool cvma_failure_recent(const struct cvma_cache_meta *m, int64_t now, int64_t fail)
{
    return m->fetched_at > 0 && m->fetched_at <= now && now - m->fetched_at < fail;
}

/* see registry/bind_internal.h */
void cvma_lookup_note_failure(const struct cvma_cache *cache, const char *key, const char *why,
                              time_t now, int64_t fail)
{
    char *s = cache != NULL ? cvma_lookup_failure_text(why) : NULL;
    if (s != NULL) {
        enum cvma_status st =
                cvma_cache_put(cache, key, (const uint8_t *)s, strlen(s), (int64_t)now + fail);
        (void)st;
    }
    free(s);
}

enum lk_result cvma_bind_lookup(const struct lookup_item *lk, const uint8_t ppid[16],
                                const struct cvma_cache *cache,
                                const struct cvma_registry_bind_opts *o, char *zone,
                                size_t zone_len, char *detail, size_t detail_len)
{
    char url[LOOKUP_URL_MAX], key[LOOKUP_URL_MAX + 32], hex[33], err[300];
    struct cvma_buf body = {0};
    struct cvma_http_opts ho = o->http;
    enum cvma_cache_state cs = CVMA_CACHE_MISS;
    enum cvma_status st;
    enum lk_result r = LK_UNAVAILABLE;
    long code = 0;
    time_t now = time(NULL);
    int64_t ttl = o->lookup_ttl > 0 ? o->lookup_ttl : DEFAULT_LOOKUP_TTL;
    int64_t neg = o->lookup_negative_ttl > 0 ? o->lookup_negative_ttl : DEFAULT_NEG_TTL;
    int64_t fail = o->lookup_failure_ttl > 0 ? o->lookup_failure_ttl : DEFAULT_FAIL_TTL;

    zone[0] = '\0';
    cvma_hex_encode(ppid, 16, hex, sizeof hex);
    snprintf(url, sizeof url, "%s/%s", lk->base, hex);
    snprintf(key, sizeof key, "registry-lookup %s", url);
    if (cache != NULL) {
        struct cvma_cache_meta meta;
        if (cvma_cache_lookup_ex(cache, key, (int64_t)now, &body, &cs, &meta) == CVMA_E_NOMEM) {
            return LK_NOMEM;
        }
        if (cs == CVMA_CACHE_HIT) {
            char why[CVMA_LOOKUP_FAILED_MAX + 1];
            bool failed = cvma_lookup_cached_failure(body.p, body.len, why, sizeof why);
            if (failed && cvma_failure_recent(&meta, (int64_t)now, fail)) {
                cvma_buf_free(&body);
                cvma_errf(detail, detail_len,
                          "lookup registry %s: %s failed within the last %lld s (%s); it is not "
                          "asked again until then",
                          lk->name, url, (long long)fail, why);
                return LK_UNAVAILABLE;
            }
            /* (a failure older than that, or from a clock set back since, is asked again) */
            r = cvma_lookup_cached_read(body.p, body.len, zone, zone_len); /* a failure: none */
            cvma_buf_free(&body);
            if (r != LK_UNAVAILABLE) {
                return r;
            }
        }
    }
    if (o->offline) {
        cvma_errf(detail, detail_len, "lookup registry %s: offline and %s not in the cache",
                  lk->name, url);
        return LK_UNAVAILABLE;
    }
    ho.max_body = CVMA_REG_LOOKUP_BODY_MAX;
    /* The answer must come from the URL of this PPID: a redirect could lead anywhere (to
     * another host's answer, or one about no PPID at all). A 3xx is "another status". */
    static const struct cvma_http_request rq = {.no_redirects = true};
    st = cvma_http_do(&ho, url, &rq, &body, &code, err, sizeof err);
    if (st == CVMA_E_NOMEM) {
        return LK_NOMEM;
    }
    if (st == CVMA_UNDECIDED && code == 404) {
        if (cache != NULL) {
            static const char neg_body[] = "{\"listed\": false}";
            /* A cache that cannot be written only costs a later request. */
            if (cvma_cache_put(cache, key, (const uint8_t *)neg_body, sizeof neg_body - 1,
                               (int64_t)now + neg) != CVMA_OK) {
                cvma_errf(detail, detail_len, "lookup answer not cached");
            }
        }
        return LK_NOT_LISTED;
    }
    if (st != CVMA_OK) {
        cvma_errf(detail, detail_len, "lookup registry %s: %s", lk->name, err);
        cvma_lookup_note_failure(cache, key, err, now, fail);
        return LK_UNAVAILABLE;
    }
    /* 200: a small JSON object; its "zone" (when present) becomes the label. */
    if (cvma_lookup_answer_read(body.p, body.len, zone, zone_len) != LK_LISTED) {
        cvma_errf(detail, detail_len,
                  "lookup registry %s: %s answered 200 without the expected JSON object "
                  "(zone a short printable string)",
                  lk->name, url);
        cvma_lookup_note_failure(cache, key, "a 200 without the expected JSON object", now, fail);
        goto out;
    }
    if (cache != NULL) {
        char *s = cvma_lookup_cache_text(zone);
        if (s != NULL && cvma_cache_put(cache, key, (const uint8_t *)s, strlen(s),
                                        (int64_t)now + ttl) != CVMA_OK) {
            cvma_errf(detail, detail_len, "lookup answer not cached");
        }
        free(s);
    }
    r = LK_LISTED;
out:
    cvma_buf_free(&body);
    return r;
}
