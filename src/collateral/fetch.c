/* The one collateral fetch path (see collateral/fetch.h). */
#include "collateral/fetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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
    if (meta->expires_at != 0 && meta->expires_at <= now) {
        /* an entry past its nextUpdate, within the item's grace (local_lookup) */
        cvma_time_format((time_t)meta->expires_at, until, sizeof until);
        (void)cvma_verdict_add(v, CVMA_R_COLLATERAL_STALE_CACHE, CVMA_SEV_WARNING,
                               "%s %s: cached copy fetched %s ago, expired %s, could not be "
                               "refreshed (%s); it is used within the allowed grace of %lld s",
                               it->what, it->url, age, until, why, (long long)it->grace);
        return;
    }
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

/* see collateral/fetch.h */
bool cvma_collateral_older(const struct cvma_collateral_version *a,
                           const struct cvma_collateral_version *b)
{
    bool numbers = a->has_number && b->has_number;
    bool dates = a->issued != 0 && b->issued != 0;

    if (a->number_first) {
        if (numbers && a->number != b->number) {
            return a->number < b->number;
        }
        return dates && a->issued < b->issued;
    }
    return (dates && a->issued < b->issued) || (numbers && a->number < b->number);
}

/* True when bytes of version nv are past their nextUpdate at time at, by the rule the
 * verifier judges their kind by when it uses them (fetch.h, through_next_update), with grace
 * seconds allowed after it (a TCB Info or QE Identity only; a CRL has none). */
static bool past_next_update(const struct cvma_collateral_version *nv, int64_t at, int64_t grace)
{
    if (nv->next_update == 0) {
        return false;
    }
    if (nv->through_next_update) {
        return cvma_next_update_judge(nv->next_update, at, grace) == CVMA_NEXT_UPDATE_PAST;
    }
    return nv->next_update <= at;
}

/* What the version rule (fetch.h, the item's version callback) makes of bytes from outside the
 * local cache: taken (used and cached), used only (past their nextUpdate now, not at a past
 * verification time: not cached), or refused (why says why). */
enum version_verdict { VERSION_TAKE, VERSION_USE_ONLY, VERSION_REFUSE };

static enum version_verdict judge_version(const struct cvma_collateral_net *net,
                                          const struct cvma_collateral_item *it,
                                          const struct cvma_buf *body, const struct cvma_buf *stale,
                                          int64_t now, char *why, size_t why_len)
{
    struct cvma_collateral_version nv, ov;
    int64_t at = net->at > 0 ? net->at : now;
    char t1[32], t2[32];

    memset(&nv, 0, sizeof nv);
    memset(&ov, 0, sizeof ov);
    if (it->version == NULL || !it->version(body, &nv, it->arg)) {
        return VERSION_TAKE;
    }
    /* Genuine but out of date (a mirror's stale copy): it would turn the evidence into a
     * rejection (CRL_EXPIRED, COLLATERAL_EXPIRED) that no current collateral supports. */
    if (past_next_update(&nv, at, it->grace)) {
        cvma_time_format((time_t)nv.next_update, t1, sizeof t1);
        snprintf(why, why_len, "already past its nextUpdate (%s)%s %s", t1,
                 nv.through_next_update && it->grace > 0 ? " and the allowed grace" : "",
                 net->at > 0 ? "at the verification time" : "when downloaded");
        return VERSION_REFUSE;
    }
    /* Older than the copy it would replace: a revocation (or TCB recovery) in the cached copy
     * would be undone. */
    if (stale != NULL && stale->p != NULL && it->version(stale, &ov, it->arg) &&
        cvma_collateral_older(&nv, &ov)) {
        cvma_time_format((time_t)nv.issued, t1, sizeof t1);
        cvma_time_format((time_t)ov.issued, t2, sizeof t2);
        if (nv.has_number && ov.has_number && nv.number != ov.number) {
            snprintf(why, why_len,
                     "older than the cached copy it would replace (number %llu, issued %s; "
                     "cached: number %llu, issued %s)",
                     (unsigned long long)nv.number, t1, (unsigned long long)ov.number, t2);
        } else {
            snprintf(why, why_len,
                     "older than the cached copy it would replace (issued %s; cached: issued %s)",
                     t1, t2);
        }
        return VERSION_REFUSE;
    }
    /* Past its nextUpdate now, within the grace: used (the verifier warns COLLATERAL_EXPIRED),
     * never cached, so no copy outlives the grace of this one verification. */
    return past_next_update(&nv, now, 0) ? VERSION_USE_ONLY : VERSION_TAKE;
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

/* Eviction counts, one for each slot of items by the hash of their cache key. */
#define CVMA_FETCH_EVICTION_SLOTS 256

struct cvma_fetch_flights {
    pthread_mutex_t lock;
    pthread_cond_t landed; /* broadcast whenever a flight is done */
    struct flight *head;
    /* Evictions against the copies being written (keep_begin): shared by a write of a cached
     * copy, exclusive for an eviction, which counts itself in its item's slot of evictions
     * once it has removed the item. */
    pthread_rwlock_t evict_lock;
    atomic_uint_least64_t evictions[CVMA_FETCH_EVICTION_SLOTS];
    struct cvma_fetch_budget budget; /* under lock */
};

/* see collateral/fetch.h */
bool cvma_fetch_budget_take(struct cvma_fetch_budget *b, int64_t now_ms, int64_t *wait_ms)
{
    *wait_ms = 0;
    if (b->per_minute == 0) {
        return true;
    }
    /* One download each interval, and up to per_minute at once: a download may start when
     * the theoretical arrival time is at most the burst's tolerance ahead of now. In
     * microseconds, the interval rounded up: the steady rate never above per_minute a minute
     * (a full burst comes on top of it in the first minute). */
    const int64_t now = now_ms * 1000;
    int64_t interval = (60000000 + (int64_t)b->per_minute - 1) / (int64_t)b->per_minute;
    int64_t tolerance = interval * ((int64_t)b->per_minute - 1);
    int64_t tat = b->tat_us > now ? b->tat_us : now;
    if (tat - tolerance > now) {
        *wait_ms = (tat - tolerance - now + 999) / 1000;
        return false;
    }
    b->tat_us = tat + interval;
    return true;
}

/* A download may start now (true), else *wait_ms until one may, of *per_minute a minute. */
static bool budget_take(struct cvma_fetch_flights *t, int64_t *wait_ms, unsigned *per_minute)
{
    *wait_ms = 0;
    *per_minute = 0;
    if (t == NULL) {
        return true;
    }
    int64_t now_ms = cvma_monotonic_ms();
    pthread_mutex_lock(&t->lock);
    bool ok = cvma_fetch_budget_take(&t->budget, now_ms, wait_ms);
    *per_minute = t->budget.per_minute;
    pthread_mutex_unlock(&t->lock);
    return ok;
}

/*
 * Copies written after an eviction. The bytes a thread had from the shared store or from its
 * download are written to the local cache (and, downloaded, to the shared store) after it has
 * had them, and by then another thread may have had the same bytes (from the shared store, the
 * single flight, the local cache), found them bad in verification and evicted them
 * (cvma_collateral_evict): written after that, refused bytes would come back, for up to the
 * maximum age in the shared store and, a VCEK, for good on disk. So a thread reads the count
 * of evictions before it asks for bytes, and writes them only while no eviction has been
 * counted since, holding the shared side of evict_lock for the write; an eviction removes
 * under the exclusive side and counts itself after removing. Either the write comes first and
 * the eviction removes what it wrote, or the eviction comes first and the write is not made.
 * A count for each item, by the hash of its cache key into CVMA_FETCH_EVICTION_SLOTS slots: an
 * eviction costs the copies of its own item (and of the few that share its slot) being
 * written at that moment their write, never their use, and the next miss fetches them.
 * Evictions are meant to be rare, and evidence must not be able to cause them (collateral is
 * judged at fault only against what the verifier trusts on its own), but with one count for
 * every item, any way evidence found to cause one, sent over and over, would keep every
 * honest download from being cached; per item, it costs that item's writes alone. (Writing the
 * shared copy before the waiters are woken would order the leader's write alone, not the copy from
 * the shared store to disk, and would add a Redis round trip to the waiters' bound.) A write and an
 * eviction wait at most for each other's store round trip (its time-outs) or disk write. Without a
 * flights table nothing is ordered.
 */
static atomic_uint_least64_t *eviction_slot(struct cvma_fetch_flights *t, const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return &t->evictions[h % CVMA_FETCH_EVICTION_SLOTS];
}

static uint_least64_t evictions_now(struct cvma_fetch_flights *t, const char *key)
{
    return t != NULL ? atomic_load(eviction_slot(t, key)) : 0;
}

/* True when bytes of key asked for after evictions_now gave since may be written: the caller
 * writes, then calls keep_end. False: an eviction of key's slot was counted since (or the lock
 * failed), write nothing. */
static bool keep_begin(struct cvma_fetch_flights *t, const char *key, uint_least64_t since)
{
    if (t == NULL) {
        return true;
    }
    if (pthread_rwlock_rdlock(&t->evict_lock) != 0) {
        return false;
    }
    if (atomic_load(eviction_slot(t, key)) == since) {
        return true;
    }
    pthread_rwlock_unlock(&t->evict_lock);
    return false;
}

static void keep_end(struct cvma_fetch_flights *t)
{
    if (t != NULL) {
        pthread_rwlock_unlock(&t->evict_lock);
    }
}

static struct cvma_fetch_flights *flights_of(const struct cvma_collateral_net *net)
{
    return net->hooks != NULL ? net->hooks->flights : NULL;
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
                          const struct cvma_collateral_item *it, int64_t now,
                          const struct cvma_buf *stale, struct cvma_buf *body,
                          struct cvma_cache_meta *meta, bool counted)
{
    const struct cvma_state_store *s = shared_store(net);
    struct cvma_fetch_flights *t = flights_of(net);
    uint8_t *p = NULL;
    size_t len = 0;
    bool hit = false;
    char why[CVMA_DETAIL_MAX];
    int64_t expires_at = 0;
    struct cvma_cache_meta m = {0, 0};

    if (s == NULL || net->max_age < 0) {
        return false;
    }
    /* before the store is asked: keep_begin */
    uint_least64_t since = evictions_now(t, it->cache_key);
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
              (it->admit == NULL || it->admit(&b, now, &unused, why, sizeof why, it->arg)) &&
              /* and judged as a download is: not out of date, not older than ours */
              judge_version(net, it, &b, stale, now, why, sizeof why) == VERSION_TAKE;
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
    if (counted) {
        cvma_stats_shared(net->hooks, hit);
    }
    if (hit) {
        *meta = m;
    }
    /* Not after an eviction of what the store gave (keep_begin): another thread may have had
     * the same bytes and refused them since. */
    if (hit && net->cache != NULL && keep_begin(t, it->cache_key, since)) {
        enum cvma_status put_st = cvma_cache_put_ex(net->cache, it->cache_key, body->p, body->len,
                                                    m.expires_at, m.fetched_at);
        (void)put_st;
        keep_end(t);
    }
    return hit;
}

/* see collateral/fetch.h */
enum cvma_status cvma_collateral_evict(const struct cvma_cache *cache,
                                       const struct cvma_collateral_hooks *h, const char *cache_key)
{
    struct cvma_fetch_flights *t = h != NULL ? h->flights : NULL;
    const struct cvma_state_store *s = h != NULL ? h->store : NULL;
    bool locked = t != NULL && pthread_rwlock_wrlock(&t->evict_lock) == 0;

    enum cvma_status st = cache != NULL ? cvma_cache_remove(cache, cache_key) : CVMA_OK;
    if (s != NULL && s->collateral_del != NULL) {
        s->collateral_del(s->arg, cache_key);
    }
    /* Counted once removed: a thread that reads the new count asks for the item after it
     * left both caches (keep_begin). */
    if (t != NULL) {
        atomic_fetch_add(eviction_slot(t, cache_key), 1);
    }
    if (locked) {
        pthread_rwlock_unlock(&t->evict_lock);
    }
    return st;
}

/* Shares downloaded bytes with the fleet: kept for their remaining validity, at most the
 * maximum age; not when an eviction was counted since `since` (keep_begin). */
static void shared_put(const struct cvma_collateral_net *net, const struct cvma_collateral_item *it,
                       const struct cvma_buf *body, int64_t now, int64_t expires_at,
                       uint_least64_t since)
{
    const struct cvma_state_store *s = shared_store(net);
    struct cvma_fetch_flights *t = flights_of(net);
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
    if (keep_begin(t, it->cache_key, since)) {
        s->collateral_put(s->arg, it->cache_key, v, CVMA_SHARED_VALUE_HEADER + body->len, ttl);
        keep_end(t);
    }
    free(v);
}

/* see collateral/fetch.h */
struct cvma_fetch_flights *cvma_fetch_flights_new(void)
{
    struct cvma_fetch_flights *f = calloc(1, sizeof *f);
    pthread_condattr_t ca;
    bool have_ca = false, have_lock = false, have_cond = false;

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
    have_cond = true;
    if (pthread_rwlock_init(&f->evict_lock, NULL) != 0) {
        goto fail;
    }
    for (size_t i = 0; i < CVMA_FETCH_EVICTION_SLOTS; i++) {
        atomic_init(&f->evictions[i], 0);
    }
    pthread_condattr_destroy(&ca);
    return f;
fail:
    if (have_cond) {
        pthread_cond_destroy(&f->landed);
    }
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
    pthread_rwlock_destroy(&f->evict_lock);
    pthread_cond_destroy(&f->landed);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* see collateral/fetch.h */
void cvma_fetch_flights_set_budget(struct cvma_fetch_flights *f, unsigned per_minute)
{
    if (f != NULL) {
        pthread_mutex_lock(&f->lock);
        f->budget.per_minute = per_minute;
        f->budget.tat_us = 0;
        pthread_mutex_unlock(&f->lock);
    }
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
    /* An entry whose expiry passed at most the item's grace ago is still looked at: it is
     * judged by its nextUpdate below. */
    if ((st = cvma_cache_lookup_ex(net->cache, it->cache_key, now - it->grace, body, &state, &m)) !=
        CVMA_OK) {
        return st;
    }
    if (state == CVMA_CACHE_HIT) {
        /* Re-check the form: an entry written by another version or by hand must not get past
         * the check a download gets. */
        struct cvma_collateral_version ver;
        memset(&ver, 0, sizeof ver);
        bool formed = it->check(body, now, &expires_at, why, sizeof why, it->arg);
        bool past = formed && it->version != NULL && it->version(body, &ver, it->arg) &&
                    past_next_update(&ver, now, 0);
        bool graced = past && !past_next_update(&ver, now, it->grace);
        if (past && !graced && !net->offline) {
            /* Past its nextUpdate (cached so by an earlier version, which kept such a download
             * for an hour): neither the answer nor a fallback; fetched again, as an expired
             * entry is. */
            cvma_buf_free(body);
            return CVMA_OK;
        }
        if (formed) {
            *meta = m;
            if (net->offline ||
                (!graced &&
                 (!it->refreshable || !cvma_cache_too_old(m.fetched_at, now, net->max_age)))) {
                *hit = true;
                return CVMA_OK;
            }
            /* Older than the maximum age, or past its nextUpdate within the grace: fetch again,
             * keep this copy to fall back on. */
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

/* How often an instance that finds the fleet's claim on an item held asks the store again. */
#define FLEET_POLL_MS 50

enum fleet_turn {
    FLEET_DOWNLOAD, /* this instance downloads: it holds the claim, or no claim can be had */
    FLEET_LANDED,   /* the holder's copy, from the store: *body, *meta */
    FLEET_FAILED,   /* the holder gave the claim back without a copy, or the time is up: err */
};

/*
 * The fleet's single flight (struct cvma_state_store, collateral_claim): called by the thread
 * that downloads for its instance, after the store missed. *claimed: this instance holds the
 * claim (collateral_release when done). A held claim is waited on for at most wait_ms, the
 * bound of the holder's own download: the store is asked every FLEET_POLL_MS, the claim first
 * and then the copy, so a holder that wrote its copy and gave the claim back is never taken
 * for one that failed.
 */
static enum fleet_turn fleet_turn(const struct cvma_collateral_net *net,
                                  const struct cvma_collateral_item *it,
                                  const struct cvma_buf *stale, long wait_ms, struct cvma_buf *body,
                                  struct cvma_cache_meta *meta, bool *claimed, char *err,
                                  size_t err_len)
{
    const struct cvma_state_store *s = shared_store(net);

    *claimed = false;
    if (s == NULL || s->collateral_claim == NULL || s->collateral_release == NULL ||
        net->max_age < 0) {
        return FLEET_DOWNLOAD;
    }
    const int64_t end = cvma_monotonic_ms() + wait_ms;
    for (bool first = true;; first = false) {
        enum cvma_store_answer a = s->collateral_claim(s->arg, it->cache_key, wait_ms);
        if (a != CVMA_STORE_OK && a != CVMA_STORE_HELD) {
            return FLEET_DOWNLOAD; /* the store cannot say: as without a claim */
        }
        /* Held or not, the holder may have written its copy by now. */
        bool landed = shared_lookup(net, it, (int64_t)time(NULL), stale, body, meta, false);
        if (a == CVMA_STORE_OK && (landed || !first)) {
            s->collateral_release(s->arg, it->cache_key);
        }
        if (landed) {
            return FLEET_LANDED;
        }
        if (a == CVMA_STORE_OK) {
            if (first) {
                *claimed = true;
                return FLEET_DOWNLOAD;
            }
            cvma_errf(err, err_len,
                      "%s %s: another instance's claim on its download ended without a copy "
                      "in the shared store (that download failed, or the instance stopped)",
                      it->what, it->url);
            return FLEET_FAILED;
        }
        int64_t left_ms = end - cvma_monotonic_ms();
        if (left_ms <= 0) {
            cvma_errf(err, err_len,
                      "%s %s: another instance's download of it did not land in the shared "
                      "store within %ld ms",
                      it->what, it->url, wait_ms);
            return FLEET_FAILED;
        }
        cvma_sleep_ms(left_ms < FLEET_POLL_MS ? (long)left_ms : FLEET_POLL_MS);
    }
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
    struct cvma_fetch_flights *flights = flights_of(net);
    struct flight *fl = NULL;
    bool leader = false, hit = false, corrupt = false, claimed = false;
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
    if (shared_lookup(net, it, now, &stale, &body, &meta, true)) {
        goto done;
    }
    if (net->offline) {
        char dir_why[CVMA_DETAIL_MAX / 2];
        enum cvma_status dst = cvma_cache_dir_check(net->cache, dir_why, sizeof dir_why);
        if (dst == CVMA_E_NOMEM) {
            cvma_errf(err, err_len, "out of memory");
            st = dst;
            goto out;
        }
        bool refused = dst != CVMA_OK;
        cvma_errf(err, err_len, "%s %s: offline and not in cache%s%s%s", it->what, it->url,
                  refused ? " (cache directory not used: " : "", refused ? dir_why : "",
                  refused ? ")" : "");
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
                if (it->check(&body, now, &expires_at, why, sizeof why, it->arg) &&
                    judge_version(net, it, &body, &stale, now, why, sizeof why) != VERSION_REFUSE) {
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
    /* Another instance may be downloading it: its copy, or its failure, is ours (as another
     * thread's is for this instance's waiters), within the bound they wait for us. */
    switch (fleet_turn(net, it, &stale, cvma_fetch_flight_wait_ms(http), &body, &meta, &claimed,
                       err, err_len)) {
    case FLEET_LANDED:
        if (fl != NULL) {
            flight_land(flights, fl, CVMA_OK, &body, NULL);
        }
        goto done;
    case FLEET_FAILED:
        now = (int64_t)time(NULL);
        st = CVMA_UNDECIDED;
        if (fl != NULL) {
            flight_land(flights, fl, st, NULL, err);
        }
        if (stale.p != NULL) {
            note_stale(net, it, &meta, now, err, v);
            goto use_stale;
        }
        goto out;
    case FLEET_DOWNLOAD:
        break;
    }
    /* The budget: a download not made is a failed one (its waiters and the stale copy as
     * for any other failure), and no request leaves. */
    int64_t wait_ms = 0;
    unsigned per_minute = 0;
    if (it->budgeted && !budget_take(flights, &wait_ms, &per_minute)) {
        cvma_stats_budget_refused(net->hooks, item_source(it));
        cvma_errf(err, err_len,
                  "%s %s: not downloaded: this verifier's download budget (%u a minute) is "
                  "spent; the next download may start in %lld s",
                  it->what, it->url, per_minute, (long long)((wait_ms + 999) / 1000));
        st = CVMA_UNDECIDED;
        flight_land(flights, fl, st, NULL, err);
        if (stale.p != NULL) {
            note_stale(net, it, &meta, now, err, v);
            goto use_stale;
        }
        goto out;
    }
    /* Before the request: what it brings is written only while no eviction followed. */
    uint_least64_t since = evictions_now(flights, it->cache_key);
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
    enum version_verdict taken = VERSION_TAKE;
    if (checked) {
        taken = judge_version(net, it, &body, &stale, now, why, sizeof why);
        checked = taken != VERSION_REFUSE;
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
    if (taken == VERSION_TAKE && net->cache != NULL && keep_begin(flights, it->cache_key, since)) {
        /* Best effort: a read-only or full cache costs a refetch next time, nothing more. */
        enum cvma_status put_st =
                cvma_cache_put(net->cache, it->cache_key, body.p, body.len, expires_at);
        (void)put_st;
        keep_end(flights);
    }
    /* The waiters have what they need now: the shared copy (Redis, up to its own time-outs)
     * is written after they are let go, not inside their wait bound. One of them may find the
     * bytes bad and evict them first: then it is not written at all (keep_begin). */
    if (fl != NULL) {
        flight_land(flights, fl, CVMA_OK, &body, NULL);
    }
    if (taken == VERSION_TAKE) {
        shared_put(net, it, &body, now, expires_at, since);
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
    if (claimed) { /* after the shared copy was written, or when there is none */
        const struct cvma_state_store *s = shared_store(net);
        if (s != NULL) {
            s->collateral_release(s->arg, it->cache_key);
        }
    }
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
