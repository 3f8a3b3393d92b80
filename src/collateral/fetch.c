/* The one collateral fetch path (see collateral/fetch.h). */
#include "collateral/fetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/allocfail.h"
#include "common/reader.h"
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

static void put_be64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)((uint64_t)v & 0xff);
        v = (int64_t)((uint64_t)v >> 8);
    }
}

static const struct cvma_state_store *shared_store(const struct cvma_collateral_net *net)
{
    const struct cvma_state_store *s = net->hooks != NULL ? net->hooks->store : NULL;
    return s != NULL && s->collateral_get != NULL && s->collateral_put != NULL ? s : NULL;
}

/* A shared-store value (collateral/fetch.h), as shared_put writes it: its times into *m (as
 * the store says them; the caller decides what to believe) and its bytes, at least one, into
 * *body (pointing into p, not owned). False: not such a value, or longer than
 * CVMA_SHARED_VALUE_MAX (the bound a store may apply before it reads a value). */
static bool shared_value_parse(uint8_t *p, size_t len, struct cvma_cache_meta *m,
                               struct cvma_buf *body)
{
    struct cvma_reader r;
    uint64_t fetched, expires;

    cvma_reader_init(&r, p, len);
    if (len > CVMA_SHARED_VALUE_MAX || !cvma_reader_u64be(&r, &fetched) ||
        !cvma_reader_u64be(&r, &expires) || cvma_reader_at_end(&r)) {
        return false;
    }
    m->fetched_at = (int64_t)fetched;
    m->expires_at = (int64_t)expires;
    body->len = cvma_reader_left(&r);
    body->p = p + (len - body->len);
    return true;
}

/*
 * The fleet's shared cache (struct cvma_state_store): true when it holds bytes for the item
 * that are unexpired, not older than the maximum age (for what is refreshed online) and pass
 * the check and the admit check, as a download must; then *body owns them, *meta says their times,
 * and they are copied to the local cache. Anything else is a miss.
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
    struct cvma_buf b;
    if (s->collateral_get(s->arg, it->cache_key, &p, &len) == CVMA_STORE_OK && p != NULL &&
        shared_value_parse(p, len, &m, &b)) {
        /* The store's times are its word: a fetch time in the future is not believed, and the
         * bytes' own expiry (the check's) bounds the one in the header. */
        int64_t unused = 0;
        hit = m.fetched_at <= now &&
              !(it->refreshable && !net->offline &&
                cvma_cache_too_old(m.fetched_at, now, net->max_age)) &&
              it->check(&b, now, &expires_at, why, sizeof why, it->arg) &&
              /* Anyone who can write the store wrote these: admitted as a download is. */
              (it->admit == NULL || it->admit(&b, now, &unused, why, sizeof why, it->arg));
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

/* see collateral/fetch.h */
void cvma_collateral_shared_del(const struct cvma_collateral_hooks *h, const char *cache_key)
{
    const struct cvma_state_store *s = h != NULL ? h->store : NULL;

    if (s != NULL && s->collateral_del != NULL) {
        s->collateral_del(s->arg, cache_key);
    }
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
    if (ttl <= 0 || (v = malloc(CVMA_SHARED_VALUE_HEADER + body->len)) == NULL) {
        return;
    }
    put_be64(v, now);
    put_be64(v + 8, expires_at);
    memcpy(v + CVMA_SHARED_VALUE_HEADER, body->p, body->len);
    s->collateral_put(s->arg, it->cache_key, v, CVMA_SHARED_VALUE_HEADER + body->len, ttl);
    free(v);
}

/*
 * Single flight: one entry per item being downloaded. The table owns the list and the lock;
 * an entry is freed by the last of its leader and waiters to leave (refs). Once done is set
 * (under the lock, by the leader) st, body and err never change again, so a participant
 * holding a reference reads them without the lock.
 */
struct flight {
    struct flight *next; /* in the table until it failed or its leader is through */
    char *key;
    unsigned refs;
    bool done;
    enum cvma_status st;  /* the download's outcome, once done */
    struct cvma_buf body; /* CVMA_OK: the bytes as the leader checked and cached them */
    char err[CVMA_DETAIL_MAX];
};

struct cvma_fetch_flights {
    pthread_mutex_t lock;
    pthread_cond_t landed; /* broadcast whenever a flight is done */
    struct flight *head;
};

/* see collateral/fetch.h */
struct cvma_fetch_flights *cvma_fetch_flights_new(void)
{
    struct cvma_fetch_flights *f = calloc(1, sizeof *f);
    pthread_condattr_t ca;
    bool have_ca = false, have_lock = false;

    if (f == NULL) {
        return NULL;
    }
    if (pthread_condattr_init(&ca) != 0) {
        goto fail;
    }
    have_ca = true;
    /* Deadlines on the monotonic clock: a wall-clock step must not stretch or cut a wait. */
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_mutex_init(&f->lock, NULL) != 0) {
        goto fail;
    }
    have_lock = true;
    if (pthread_cond_init(&f->landed, &ca) != 0) {
        goto fail;
    }
    pthread_condattr_destroy(&ca);
    return f;
fail:
    if (have_lock) {
        pthread_mutex_destroy(&f->lock);
    }
    if (have_ca) {
        pthread_condattr_destroy(&ca);
    }
    free(f);
    return NULL;
}

/* see collateral/fetch.h */
void cvma_fetch_flights_free(struct cvma_fetch_flights *f)
{
    if (f == NULL) {
        return;
    }
    /* Every flight leaves the table before its leader returns, so the list is empty here. */
    pthread_cond_destroy(&f->landed);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* see collateral/fetch.h */
long cvma_fetch_flight_wait_ms(const struct cvma_http_opts *http)
{
    return cvma_http_max_duration_ms(http) + CVMA_FETCH_FLIGHT_MARGIN_MS;
}

/* Joins the flight for key, or starts it: *leader is true for the one that downloads. NULL
 * when out of memory. */
static struct flight *flight_join(struct cvma_fetch_flights *t, const char *key, bool *leader)
{
    struct flight *fl;

    pthread_mutex_lock(&t->lock);
    for (fl = t->head; fl != NULL && strcmp(fl->key, key) != 0; fl = fl->next) {
    }
    if (fl != NULL) {
        fl->refs++;
        *leader = false;
    } else if ((fl = calloc(1, sizeof *fl)) != NULL) {
        if ((fl->key = strdup(key)) == NULL) {
            free(fl);
            fl = NULL;
        } else {
            fl->refs = 1;
            fl->next = t->head;
            t->head = fl;
            *leader = true;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return fl;
}

/* Takes fl out of the table, if it is still there: whoever misses from now on starts another
 * flight. */
static void flight_unlist_locked(struct cvma_fetch_flights *t, struct flight *fl)
{
    for (struct flight **pp = &t->head; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == fl) {
            *pp = fl->next;
            break;
        }
    }
    fl->next = NULL;
}

static void flight_unlist(struct cvma_fetch_flights *t, struct flight *fl)
{
    pthread_mutex_lock(&t->lock);
    flight_unlist_locked(t, fl);
    pthread_mutex_unlock(&t->lock);
}

/* The leader's outcome: st, with a copy of body on CVMA_OK (else NULL), or err; wakes every
 * waiter. Only the first call for a flight counts. A failed flight leaves the table at once
 * (the next miss tries again); a download stays in it, done, until its leader has also
 * written the shared copy (flight_unlist), so that a thread missing in that time takes the
 * bytes from here instead of downloading them again. */
static void flight_land(struct cvma_fetch_flights *t, struct flight *fl, enum cvma_status st,
                        const struct cvma_buf *body, const char *err)
{
    struct cvma_buf copy = {0};

    if (st == CVMA_OK && (copy.p = malloc(body->len > 0 ? body->len : 1)) != NULL) {
        memcpy(copy.p, body->p, body->len);
        copy.len = body->len;
    } else if (st == CVMA_OK) {
        st = CVMA_E_NOMEM;
        err = "out of memory";
    }
    pthread_mutex_lock(&t->lock);
    if (!fl->done) {
        fl->st = st;
        fl->body = copy;
        copy.p = NULL;
        snprintf(fl->err, sizeof fl->err, "%s", err != NULL ? err : "");
        if (st != CVMA_OK) {
            flight_unlist_locked(t, fl);
        }
        fl->done = true;
        pthread_cond_broadcast(&t->landed);
    }
    pthread_mutex_unlock(&t->lock);
    free(copy.p);
}

/* Waits for the leader, at most wait_ms. True when it landed (then fl's fields are final). */
static bool flight_wait(struct cvma_fetch_flights *t, struct flight *fl, long wait_ms)
{
    struct timespec until;
    bool done;

    if (wait_ms < 0) {
        wait_ms = 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->lock);
    while (!fl->done) {
        /* ETIMEDOUT, or any error (never spin on one): the caller gives up */
        if (pthread_cond_timedwait(&t->landed, &t->lock, &until) != 0) {
            break;
        }
    }
    done = fl->done;
    pthread_mutex_unlock(&t->lock);
    return done;
}

/* Drops one reference; the last one frees the flight (landed by then: the leader lands before
 * it leaves). */
static void flight_leave(struct cvma_fetch_flights *t, struct flight *fl)
{
    bool last;

    pthread_mutex_lock(&t->lock);
    last = --fl->refs == 0;
    pthread_mutex_unlock(&t->lock);
    if (last) {
        cvma_buf_free(&fl->body);
        free(fl->key);
        free(fl);
    }
}

/*
 * Step 1, the local cache: *hit when it holds the answer (*body owns it, checked). Otherwise
 * an entry that passes the check but is too old to be the answer is kept in *stale (replacing
 * what was there) to fall back on, and *corrupt says whether a damaged one was seen. *meta is
 * set to the entry's times only with a hit or a new *stale. CVMA_OK or CVMA_E_NOMEM.
 */
static enum cvma_status local_lookup(const struct cvma_collateral_net *net,
                                     const struct cvma_collateral_item *it, int64_t now,
                                     struct cvma_buf *body, struct cvma_buf *stale,
                                     struct cvma_cache_meta *meta, bool *hit, bool *corrupt)
{
    enum cvma_cache_state state;
    struct cvma_cache_meta m = {0, 0};
    char why[CVMA_DETAIL_MAX];
    int64_t expires_at = 0;
    enum cvma_status st;

    *hit = false;
    *corrupt = false;
    if ((st = cvma_cache_lookup_ex(net->cache, it->cache_key, now, body, &state, &m)) != CVMA_OK) {
        return st;
    }
    if (state == CVMA_CACHE_HIT) {
        /* Re-check the form: an entry written by another version or by hand must not get past
         * the check a download gets. */
        if (it->check(body, now, &expires_at, why, sizeof why, it->arg)) {
            *meta = m;
            if (!it->refreshable || net->offline ||
                !cvma_cache_too_old(m.fetched_at, now, net->max_age)) {
                *hit = true;
                return CVMA_OK;
            }
            /* Older than the maximum age: fetch again, keep this copy to fall back on. */
            cvma_buf_free(stale);
            *stale = *body;
            body->p = NULL;
            body->len = 0;
        } else {
            cvma_buf_free(body);
            state = CVMA_CACHE_CORRUPT;
        }
    }
    *corrupt = state == CVMA_CACHE_CORRUPT;
    return CVMA_OK;
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
    struct cvma_fetch_flights *flights = net->hooks != NULL ? net->hooks->flights : NULL;
    struct flight *fl = NULL;
    bool leader = false, hit = false, corrupt = false;
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
        if ((st = local_lookup(net, it, now, &body, &stale, &meta, &hit, &corrupt)) != CVMA_OK) {
            cvma_errf(err, err_len, "out of memory");
            goto out;
        }
        if (hit) {
            cvma_stats_cache(net->hooks, true);
            goto done;
        }
        if (corrupt && v != NULL) {
            (void)cvma_verdict_add(v, CVMA_R_COLLATERAL_CACHE_CORRUPT, CVMA_SEV_INFO,
                                   "cache entry for %s in %s is damaged; ignored", it->url,
                                   net->cache->dir);
        }
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
    if (flights != NULL) {
        if ((fl = flight_join(flights, it->cache_key, &leader)) == NULL) {
            cvma_errf(err, err_len, "out of memory");
            st = CVMA_E_NOMEM;
            goto out;
        }
        if (!leader) {
            /* Another thread is downloading this item: its outcome is ours. After a failure
             * we do not try ourselves: the vendor just refused or failed that very request
             * (a 429 rate limit, a 5xx, a time-out), so N waiters retrying at once is the
             * burst the single flight exists to avoid, and each would add a whole download
             * time to its verification; the next verification tries again. The failure keeps
             * its class (the leader's status and message), so the caller records the same
             * COLLATERAL_UNAVAILABLE, and a cached copy too old to be the answer is still
             * the fallback (COLLATERAL_STALE_CACHE) exactly as for the leader. */
            long wait_ms = cvma_fetch_flight_wait_ms(http);
            bool landed = flight_wait(flights, fl, wait_ms);
            now = (int64_t)time(NULL);
            if (!landed) {
                cvma_errf(err, err_len,
                          "%s %s: another thread's download did not finish within %ld ms", it->what,
                          it->url, wait_ms);
                st = CVMA_UNDECIDED;
            } else if ((st = fl->st) != CVMA_OK) {
                cvma_errf(err, err_len, "%s", fl->err);
            } else if ((body.p = malloc(fl->body.len > 0 ? fl->body.len : 1)) == NULL) {
                cvma_errf(err, err_len, "out of memory");
                st = CVMA_E_NOMEM;
            } else {
                /* The leader's bytes, checked again with our own check: never unchecked. */
                memcpy(body.p, fl->body.p, fl->body.len);
                body.len = fl->body.len;
                expires_at = 0;
                if (it->check(&body, now, &expires_at, why, sizeof why, it->arg)) {
                    goto done;
                }
                cvma_errf(err, err_len, "%s from %s: %s (%zu bytes)", it->what, it->url, why,
                          it->size != NULL ? it->size(&body, it->arg) : body.len);
                cvma_buf_free(&body);
                st = CVMA_UNDECIDED;
            }
            if (st == CVMA_UNDECIDED && stale.p != NULL) {
                note_stale(net, it, &meta, now, err, v);
                goto use_stale;
            }
            goto out;
        }
        /* A download that landed between our lookup and our turn left the answer in the
         * cache: look once more (not counted, not noted again), as of now (that entry's
         * fetch time may be later than our first look, and a future one is too old). Not
         * the shared store: threads may be waiting on us already, and their bound covers
         * the download, not a Redis round trip (a flight stays in the table until its
         * shared copy is written, so only a miss in the moment between the two is left). */
        now = (int64_t)time(NULL);
        if (net->cache != NULL) {
            if ((st = local_lookup(net, it, now, &body, &stale, &meta, &hit, &corrupt)) !=
                CVMA_OK) {
                cvma_errf(err, err_len, "out of memory");
                goto out;
            }
            if (hit) {
                flight_land(flights, fl, CVMA_OK, &body, NULL);
                goto done;
            }
        }
    }
    cvma_http_last_code_clear();
    unsigned long failures = cvma_allocfail_count();
    /* Collateral comes from the server asked: a redirect elsewhere is not followed. */
    static const struct cvma_http_request collateral_get = {.same_origin = true};
    st = it->download != NULL
                 ? it->download(it->url, http, &body, err, err_len, it->arg)
                 : cvma_http_do(http, it->url, &collateral_get, &body, NULL, err, err_len);
    if (st != CVMA_OK && cvma_allocfail_count() != failures) {
        /* OpenSSL (under curl's TLS) could not allocate: not the server's failure, and not
         * the waiters' either (common/allocfail.h) */
        cvma_errf(err, err_len, "%s from %s: out of memory", it->what, it->url);
        st = CVMA_E_NOMEM;
    }
    if (cvma_http_last_code() >= 0) { /* a request was made */
        cvma_stats_fetch(net->hooks, item_source(it), cvma_http_last_code());
    }
    if (st != CVMA_OK) {
        cvma_buf_free(&body);
        if (fl != NULL) {
            flight_land(flights, fl, st, NULL, err);
        }
        if (st == CVMA_UNDECIDED && stale.p != NULL) {
            note_stale(net, it, &meta, now, err, v);
            goto use_stale;
        }
        goto out;
    }
    expires_at = 0;
    failures = cvma_allocfail_count();
    bool checked = it->check(&body, now, &expires_at, why, sizeof why, it->arg);
    if (checked && it->admit != NULL) {
        int64_t unused = 0;
        checked = it->admit(&body, now, &unused, why, sizeof why, it->arg);
    }
    if (cvma_allocfail_count() != failures) {
        /* decided while OpenSSL or jansson could not allocate: neither kept nor handed on */
        cvma_buf_free(&body);
        st = CVMA_E_NOMEM;
        if (fl != NULL) {
            flight_land(flights, fl, st, NULL, "out of memory");
        }
        goto out;
    }
    if (!checked) {
        cvma_errf(err, err_len, "%s from %s: %s (%zu bytes); not cached", it->what, it->url, why,
                  it->size != NULL ? it->size(&body, it->arg) : body.len);
        cvma_buf_free(&body);
        if (fl != NULL) {
            flight_land(flights, fl, CVMA_UNDECIDED, NULL, err);
        }
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
    /* The waiters have what they need now: the shared copy (Redis, up to its own time-outs)
     * is written after they are let go, not inside their wait bound. */
    if (fl != NULL) {
        flight_land(flights, fl, CVMA_OK, &body, NULL);
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
    if (fl != NULL) {
        if (leader) { /* no-op when landed already; never leaves a waiter behind */
            flight_land(flights, fl, st != CVMA_OK ? st : CVMA_E_INTERNAL, NULL,
                        st != CVMA_OK ? err : "the download was abandoned");
            flight_unlist(flights, fl);
        }
        flight_leave(flights, fl);
    }
    cvma_buf_free(&body);
    cvma_buf_free(&stale);
    return st;
}
