/* The one collateral fetch path (see collateral/fetch.h). */
#include "collateral/fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"

char *cvma_collateral_join_url(const char *base, const char *path)
{
    size_t bl = strlen(base), pl = strlen(path);
    char *u;

    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    if ((u = malloc(bl + pl + 1)) == NULL) {
        return NULL;
    }
    memcpy(u, base, bl);
    memcpy(u + bl, path, pl + 1);
    return u;
}

/* Records that a cached copy older than the maximum age was used because its refresh
 * failed (why). */
static void note_stale(const struct cvma_collateral_net *net, const struct cvma_collateral_item *it,
                       const struct cvma_cache_meta *meta, int64_t now, const char *why,
                       struct cvma_verdict *v)
{
    char age[80], until[32];

    if (v == NULL) {
        return;
    }
    cvma_cache_age_text(meta->fetched_at, now, age, sizeof age);
    if (meta->expires_at != 0) {
        cvma_time_format((time_t)meta->expires_at, until, sizeof until);
    } else {
        snprintf(until, sizeof until, "no expiry");
    }
    (void)cvma_verdict_add(v, CVMA_R_COLLATERAL_STALE_CACHE, CVMA_SEV_WARNING,
                           "%s %s: cached copy fetched %s ago (maximum age %lld s) could not be "
                           "refreshed (%s); it is used until its own expiry (%s)",
                           it->what, it->url, age, (long long)cvma_cache_max_age(net->max_age), why,
                           until);
}

/* The counters' source of an item: a CRL, else the service its cache key names. */
static enum cvma_fetch_source item_source(const struct cvma_collateral_item *it)
{
    if (it->what != NULL && strstr(it->what, "CRL") != NULL) {
        return CVMA_FETCH_CRL;
    }
    if (strncmp(it->cache_key, "amd-kds ", 8) == 0) {
        return CVMA_FETCH_KDS;
    }
    if (strncmp(it->cache_key, "intel-pcs ", 10) == 0) {
        return CVMA_FETCH_PCS;
    }
    return CVMA_FETCH_OTHER;
}

enum cvma_status cvma_collateral_get(const struct cvma_collateral_net *net,
                                     const struct cvma_collateral_item *it, struct cvma_buf *out,
                                     struct cvma_verdict *v, char *err, size_t err_len)
{
    enum cvma_status st = CVMA_E_NOMEM;
    struct cvma_buf body = {0}, stale = {0};
    struct cvma_cache_meta meta = {0, 0};
    struct cvma_http_opts defaults;
    const struct cvma_http_opts *http = net->http;
    char why[CVMA_DETAIL_MAX];
    int64_t now = (int64_t)time(NULL), expires_at = 0;

    out->p = NULL;
    out->len = 0;
    if (it->url == NULL || it->cache_key == NULL || it->check == NULL) {
        cvma_errf(err, err_len, "%s: no URL, cache key or check", it->what);
        return CVMA_E_USAGE;
    }
    if (http == NULL) {
        cvma_http_opts_init(&defaults);
        http = &defaults;
    }
    if (net->cache != NULL) {
        enum cvma_cache_state state;
        if ((st = cvma_cache_lookup_ex(net->cache, it->cache_key, now, &body, &state, &meta)) !=
            CVMA_OK) {
            cvma_errf(err, err_len, "out of memory");
            goto out;
        }
        if (state == CVMA_CACHE_HIT) {
            /* Re-check the form: an entry written by another version or by hand must not
             * get past the check a download gets. */
            expires_at = 0;
            if (it->check(&body, now, &expires_at, why, sizeof why, it->arg)) {
                if (!it->refreshable || net->offline ||
                    !cvma_cache_too_old(meta.fetched_at, now, net->max_age)) {
                    cvma_stats_cache(net->hooks, true);
                    goto done;
                }
                /* Older than the maximum age: fetch again, keep this copy to fall back on. */
                stale = body;
                body.p = NULL;
                body.len = 0;
            } else {
                cvma_buf_free(&body);
                state = CVMA_CACHE_CORRUPT;
            }
        }
        if (state == CVMA_CACHE_CORRUPT && v != NULL) {
            (void)cvma_verdict_add(v, CVMA_R_COLLATERAL_CACHE_CORRUPT, CVMA_SEV_INFO,
                                   "cache entry for %s in %s is damaged; ignored", it->url,
                                   net->cache->dir);
        }
    }
    if (net->cache != NULL) {
        cvma_stats_cache(net->hooks, false);
    }
    if (net->offline) {
        cvma_errf(err, err_len, "%s %s: offline and not in cache", it->what, it->url);
        st = CVMA_UNDECIDED;
        goto out;
    }
    cvma_http_last_code_clear();
    st = it->download != NULL ? it->download(it->url, http, &body, err, err_len, it->arg)
                              : cvma_http_get(http, it->url, &body, NULL, err, err_len);
    if (cvma_http_last_code() >= 0) { /* a request was made */
        cvma_stats_fetch(net->hooks, item_source(it), cvma_http_last_code());
    }
    if (st != CVMA_OK) {
        cvma_buf_free(&body);
        if (st == CVMA_UNDECIDED && stale.p != NULL) {
            note_stale(net, it, &meta, now, err, v);
            goto use_stale;
        }
        goto out;
    }
    expires_at = 0;
    if (!it->check(&body, now, &expires_at, why, sizeof why, it->arg)) {
        cvma_errf(err, err_len, "%s from %s: %s (%zu bytes); not cached", it->what, it->url, why,
                  it->size != NULL ? it->size(&body, it->arg) : body.len);
        cvma_buf_free(&body);
        if (stale.p != NULL) {
            note_stale(net, it, &meta, now, err, v);
            goto use_stale;
        }
        st = CVMA_UNDECIDED;
        goto out;
    }
    if (net->cache != NULL) {
        /* Best effort: a read-only or full cache costs a refetch next time, nothing more. */
        enum cvma_status put_st =
                cvma_cache_put(net->cache, it->cache_key, body.p, body.len, expires_at);
        (void)put_st;
    }
    goto done;
use_stale:
    body = stale;
    stale.p = NULL;
    stale.len = 0;
done:
    *out = body;
    body.p = NULL;
    body.len = 0;
    cvma_errf(err, err_len, "%s", "");
    st = CVMA_OK;
out:
    cvma_buf_free(&body);
    cvma_buf_free(&stale);
    return st;
}
