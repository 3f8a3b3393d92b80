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

/* Shared-store values: fetched_at and expires_at (8 bytes each, big-endian), then the bytes. */
#define SHARED_HEADER 16

static void put_be64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)((uint64_t)v & 0xff);
        v = (int64_t)((uint64_t)v >> 8);
    }
}

static int64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return (int64_t)v;
}

static const struct cvma_state_store *shared_store(const struct cvma_collateral_net *net)
{
    const struct cvma_state_store *s = net->hooks != NULL ? net->hooks->store : NULL;
    return s != NULL && s->collateral_get != NULL && s->collateral_put != NULL ? s : NULL;
}

/*
 * The fleet's shared cache (struct cvma_state_store): true when it holds bytes for the item
 * that are unexpired, not older than the maximum age (for what is refreshed online) and pass
 * the check; then *body owns them, *meta says their times, and they are copied to the local
 * cache. Anything else is a miss.
 */
static bool shared_lookup(const struct cvma_collateral_net *net,
                          const struct cvma_collateral_item *it, int64_t now, struct cvma_buf *body,
                          struct cvma_cache_meta *meta)
{
    const struct cvma_state_store *s = shared_store(net);
    uint8_t *p = NULL;
    size_t len = 0;
    bool hit = false;
    char why[CVMA_DETAIL_MAX];
    int64_t expires_at = 0;
    struct cvma_cache_meta m = {0, 0};

    if (s == NULL || net->max_age < 0) {
        return false;
    }
    if (s->collateral_get(s->arg, it->cache_key, &p, &len) == CVMA_STORE_OK && p != NULL &&
        len > SHARED_HEADER && len - SHARED_HEADER <= CVMA_CACHE_MAX_BODY) {
        struct cvma_buf b = {p + SHARED_HEADER, len - SHARED_HEADER};
        m.fetched_at = get_be64(p);
        m.expires_at = get_be64(p + 8);
        /* The store's times are its word: a fetch time in the future is not believed, and the
         * bytes' own expiry (the check's) bounds the one in the header. */
        hit = m.fetched_at <= now &&
              !(it->refreshable && !net->offline &&
                cvma_cache_too_old(m.fetched_at, now, net->max_age)) &&
              it->check(&b, now, &expires_at, why, sizeof why, it->arg);
        if (hit && expires_at != 0 && (m.expires_at == 0 || expires_at < m.expires_at)) {
            m.expires_at = expires_at;
        }
        hit = hit && (m.expires_at == 0 || m.expires_at > now);
        if (hit && (body->p = malloc(b.len)) == NULL) {
            hit = false;
        } else if (hit) {
            memcpy(body->p, b.p, b.len);
            body->len = b.len;
        }
    }
    free(p);
    cvma_stats_shared(net->hooks, hit);
    if (hit) {
        *meta = m;
    }
    if (hit && net->cache != NULL) {
        enum cvma_status put_st = cvma_cache_put_ex(net->cache, it->cache_key, body->p, body->len,
                                                    m.expires_at, m.fetched_at);
        (void)put_st;
    }
    return hit;
}

/* Shares downloaded bytes with the fleet: kept for their remaining validity, at most the
 * maximum age. */
static void shared_put(const struct cvma_collateral_net *net, const struct cvma_collateral_item *it,
                       const struct cvma_buf *body, int64_t now, int64_t expires_at)
{
    const struct cvma_state_store *s = shared_store(net);
    int64_t ttl = cvma_cache_max_age(net->max_age);
    uint8_t *v;

    if (s == NULL || net->max_age < 0 || body->len > CVMA_CACHE_MAX_BODY) {
        return;
    }
    if (expires_at != 0 && expires_at - now < ttl) {
        ttl = expires_at - now;
    }
    if (ttl <= 0 || (v = malloc(SHARED_HEADER + body->len)) == NULL) {
        return;
    }
    put_be64(v, now);
    put_be64(v + 8, expires_at);
    memcpy(v + SHARED_HEADER, body->p, body->len);
    s->collateral_put(s->arg, it->cache_key, v, SHARED_HEADER + body->len, ttl);
    free(v);
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
    if (shared_lookup(net, it, now, &body, &meta)) {
        goto done;
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
    shared_put(net, it, &body, now, expires_at);
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
