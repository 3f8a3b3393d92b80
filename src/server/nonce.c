#include "server/nonce.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/base64.h"
#include "common/util.h"
#include "server/redis_pool.h"

/* Layout: random || expiry (8 bytes, big-endian seconds) || HMAC-SHA256 truncated to mac_len,
 * where mac_len is half the nonce (16, 24 or 32 bytes). The MAC covers the size too. */
#define EXP_LEN 8

bool cvma_nonce_size_ok(size_t size)
{
    return size == 32 || size == 48 || size == 64;
}

/* HMAC-SHA256 by nettle (linked for P-384 already): OpenSSL 3.0's HMAC() looks its algorithms
 * up on every call, which cost more than the MAC on every request that carries a nonce. */
static bool mac(const struct cvma_nonce_key *k, const uint8_t *p, size_t n, size_t size,
                uint8_t out[32])
{
    struct hmac_sha256_ctx ctx;
    uint8_t sz = (uint8_t)size;
    if (k->len == 0 || k->len > sizeof k->key) {
        return false;
    }
    hmac_sha256_set_key(&ctx, k->len, k->key);
    hmac_sha256_update(&ctx, 1, &sz);
    hmac_sha256_update(&ctx, n, p);
    hmac_sha256_digest(&ctx, 32, out);
    OPENSSL_cleanse(&ctx, sizeof ctx);
    return true;
}

bool cvma_nonce_mint(const struct cvma_nonce_key *k, size_t size, time_t now, int64_t ttl,
                     char *out, size_t out_size)
{
    uint8_t n[CVMA_NONCE_MAX], m[32];
    if (!cvma_nonce_size_ok(size) || k->len == 0) {
        return false;
    }
    size_t mac_len = size / 2, body = size - mac_len, rnd = body - EXP_LEN;
    if (RAND_bytes(n, (int)rnd) != 1) {
        return false;
    }
    uint64_t exp = (uint64_t)(now + ttl);
    for (size_t i = 0; i < EXP_LEN; i++) {
        n[rnd + i] = (uint8_t)(exp >> (8 * (EXP_LEN - 1 - i)));
    }
    if (!mac(k, n, body, size, m)) {
        return false;
    }
    memcpy(n + body, m, mac_len);
    return cvma_base64_encode_to(n, size, CVMA_B64_URL, out, out_size);
}

enum cvma_nonce_check cvma_nonce_check(const struct cvma_nonce_key *k, const char *s, time_t now,
                                       uint8_t raw[CVMA_NONCE_MAX], size_t *raw_len,
                                       time_t *expires)
{
    uint8_t m[32];
    size_t n = 0, slen = strnlen(s, 128);
    *raw_len = 0;
    *expires = 0;
    if (slen >= 128 || !cvma_base64_decode(s, slen, CVMA_B64_URL, raw, CVMA_NONCE_MAX, &n) ||
        !cvma_nonce_size_ok(n)) {
        return CVMA_NONCE_MALFORMED;
    }
    size_t mac_len = n / 2, body = n - mac_len, rnd = body - EXP_LEN;
    bool forged = !mac(k, raw, body, n, m) || CRYPTO_memcmp(m, raw + body, mac_len) != 0;
    OPENSSL_cleanse(m, sizeof m); /* the right MAC for what was sent: a nonce, were it read */
    if (forged) {
        return CVMA_NONCE_FORGED;
    }
    uint64_t exp = 0;
    for (size_t i = 0; i < EXP_LEN; i++) {
        exp = (exp << 8) | raw[rnd + i];
    }
    if (exp > (uint64_t)INT64_MAX) {
        return CVMA_NONCE_FORGED;
    }
    *expires = (time_t)exp;
    *raw_len = n;
    return (time_t)exp <= now ? CVMA_NONCE_EXPIRED : CVMA_NONCE_OK;
}

/* ---- spent nonces ---- */

#define BUCKETS 65536

struct spent_entry {
    struct spent_entry *next;
    time_t expires;
    char nonce[];
};

struct cvma_spent {
    /* memory */
    pthread_mutex_t lock;
    struct spent_entry **b; /* BUCKETS chains */
    size_t n;               /* entries */
    time_t swept;           /* the last full sweep */
    time_t margin;          /* seconds a spent nonce is kept past its expiry */
    /* redis (when pool is not NULL) */
    struct cvma_redis_pool *pool; /* connections of their own for the spends */
    /* enum evict_state: whether Redis may evict (and so forget) a spent nonce, once known */
    atomic_int evict;
    /* EVICT_NO: the monotonic second from which Redis's settings are read again, every
     * recheck seconds (cvma_spent_set_eviction_recheck) */
    atomic_llong recheck_at;
    long long recheck;
    /* EVICT_NO: the last read of the settings was refused (warned once) */
    atomic_bool refused;
};

/*
 * What is known of Redis's eviction: checked at start, or at the first spend when Redis did
 * not answer then, and again every recheck seconds while it does not evict (a spend or
 * cvma_spent_healthy reads it); spends are refused (fail closed) once it may evict, until the
 * instance is restarted. A read that is not answered, or answered with a passing error (BUSY,
 * LOADING, MASTERDOWN, no client slot: cvma_redis_passing_error), changes nothing: asked
 * again at the next spend (UNCHECKED) or when next due (NO). UNTOLD: the first check was
 * refused (CONFIG renamed away or disabled, NOPERM): its settings cannot be read, warned once
 * and not asked again. A Redis that has shown its settings (NO) and then refuses them is no
 * UNTOLD: trusted as at start (warned once, refused), and still read when due, so that a
 * Redis that shows them again, evicting, is noticed.
 */
enum evict_state { EVICT_UNCHECKED, EVICT_NO, EVICT_UNTOLD, EVICT_YES };
static bool spend_allowed(struct cvma_spent *s);

struct cvma_spent *cvma_spent_new(const char *redis_url, const struct cvma_redis_opts *redis,
                                  char *err, size_t err_len)
{
    struct cvma_spent *s = calloc(1, sizeof *s);
    if (s == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->recheck = CVMA_SPENT_EVICTION_RECHECK_SECONDS;
    if (redis_url == NULL && (s->b = calloc(BUCKETS, sizeof *s->b)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        cvma_spent_free(s);
        return NULL;
    }
    if (redis_url != NULL) {
        if ((s->pool = cvma_redis_pool_new(redis_url, redis, err, err_len)) == NULL) {
            cvma_spent_free(s);
            return NULL;
        }
    }
    return s;
}

void cvma_spent_free(struct cvma_spent *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; s->b != NULL && i < BUCKETS; i++) {
        struct spent_entry *e = s->b[i];
        while (e != NULL) {
            struct spent_entry *n = e->next;
            free(e);
            e = n;
        }
    }
    free(s->b);
    cvma_redis_pool_free(s->pool);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void cvma_spent_set_margin(struct cvma_spent *s, int64_t margin)
{
    s->margin = (time_t)(margin < 0 ? 0 : margin > 1000000000 ? 1000000000 : margin);
}

void cvma_spent_set_eviction_recheck(struct cvma_spent *s, unsigned seconds)
{
    s->recheck = seconds;
    atomic_store(&s->recheck_at, 0);
}

/* Forgotten: expired, and the margin past (the nonce is refused as expired by every clock that
 * is less than the margin behind). Written as a subtraction from now: no overflow. */
static bool forgotten(const struct cvma_spent *s, const struct spent_entry *e, time_t now)
{
    return e->expires <= now - s->margin;
}

static size_t hash(const char *p)
{
    size_t h = 1469598103934665603u;
    for (; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    }
    return h % BUCKETS;
}

/* Under the lock: forgets every entry past its expiry and the margin (when the store is full). */
static void sweep(struct cvma_spent *s, time_t now)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        struct spent_entry **pp = &s->b[i];
        while (*pp != NULL) {
            struct spent_entry *e = *pp;
            if (forgotten(s, e, now)) {
                *pp = e->next;
                free(e);
                s->n--;
            } else {
                pp = &e->next;
            }
        }
    }
}

static enum cvma_spend mark_memory(struct cvma_spent *s, const char *nonce, time_t now,
                                   time_t expires)
{
    size_t h = hash(nonce), n = strlen(nonce);
    enum cvma_spend r = CVMA_SPEND_FIRST;
    pthread_mutex_lock(&s->lock);
    struct spent_entry **pp = &s->b[h];
    while (*pp != NULL) {
        struct spent_entry *e = *pp;
        if (forgotten(s, e, now)) { /* refused as expired (even by a clock a margin behind) */
            *pp = e->next;
            free(e);
            s->n--;
            continue;
        }
        if (strcmp(e->nonce, nonce) == 0) {
            r = CVMA_SPEND_REPLAY;
        }
        pp = &e->next;
    }
    if (r == CVMA_SPEND_FIRST && s->n >= CVMA_SPENT_MAX && s->swept != now) {
        sweep(s, now); /* at most once a second */
        s->swept = now;
    }
    if (r == CVMA_SPEND_FIRST) {
        struct spent_entry *e = s->n < CVMA_SPENT_MAX ? malloc(sizeof *e + n + 1) : NULL;
        if (e == NULL) {
            r = CVMA_SPEND_UNAVAILABLE;
        } else {
            memcpy(e->nonce, nonce, n + 1);
            e->expires = expires;
            e->next = s->b[h];
            s->b[h] = e;
            s->n++;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

void cvma_spent_begin(struct cvma_spent *s, const char *nonce, time_t now, time_t expires,
                      struct cvma_spend_op *op)
{
    op->s = s;
    op->c = NULL;
    if (s->pool == NULL) {
        op->decided = mark_memory(s, nonce, now, expires);
        return;
    }
    if (expires <= now) {
        op->decided = CVMA_SPEND_REPLAY;
        return;
    }
    /* Kept the margin past the expiry, as in memory: another instance whose clock is behind
     * still finds it spent. */
    long long ttl_ms = ((long long)(expires - now) + (long long)s->margin) * 1000;
    op->decided = CVMA_SPEND_UNAVAILABLE;
    if (!spend_allowed(s)) {
        return;
    }
    struct cvma_redis_conn *c = cvma_redis_take(s->pool);
    if (c == NULL) {
        return;
    }
    /* SET NX is the spend: atomic in Redis whichever instance asks first. */
    if (!cvma_redis_send(c, "SET cvmattest:nonce:%s 1 NX PX %lld", nonce, ttl_ms)) {
        cvma_redis_give(s->pool, c, false);
        return;
    }
    op->c = c;
}

enum cvma_spend cvma_spent_end(struct cvma_spend_op *op)
{
    struct cvma_redis_conn *c = op->c;
    redisReply *r = NULL;
    enum cvma_spend out = CVMA_SPEND_UNAVAILABLE;
    if (c == NULL) {
        return op->decided;
    }
    op->c = NULL;
    if ((r = cvma_redis_reply(c)) != NULL) {
        if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0) {
            out = CVMA_SPEND_FIRST;
        } else if (r->type == REDIS_REPLY_NIL) {
            out = CVMA_SPEND_REPLAY;
        }
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    cvma_redis_give(op->s->pool, c, out != CVMA_SPEND_UNAVAILABLE); /* else never reused */
    return out;
}

enum cvma_spend cvma_spent_mark(struct cvma_spent *s, const char *nonce, time_t now, time_t expires)
{
    struct cvma_spend_op op;
    cvma_spent_begin(s, nonce, now, expires, &op);
    return cvma_spent_end(&op);
}

/* What CONFIG GET got from Redis. */
enum config_got {
    CONFIG_VALUE,   /* the value */
    CONFIG_SILENT,  /* no answer at all: the connection is not reused */
    CONFIG_PASSING, /* a passing error (cvma_redis_passing_error): an outage, no refusal */
    CONFIG_REFUSED, /* another error, or no value: Redis does not tell */
};

/* CONFIG GET name on c: CONFIG_VALUE with the value in out (an array reply [name, value]);
 * otherwise Redis's error words in out, "" when it said none. */
static enum config_got config_get(struct cvma_redis_conn *c, const char *name, char *out, size_t n)
{
    redisReply *r = cvma_redis_command(c, "CONFIG GET %s", name);
    enum config_got got = CONFIG_REFUSED;
    snprintf(out, n, "%s", "");
    if (r == NULL) {
        return CONFIG_SILENT;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING) {
        snprintf(out, n, "%s", r->element[1]->str);
        got = CONFIG_VALUE;
    } else if (r->type == REDIS_REPLY_ERROR && r->str != NULL) {
        snprintf(out, n, "%s", r->str);
        got = cvma_redis_passing_error(r) ? CONFIG_PASSING : CONFIG_REFUSED;
    }
    freeReplyObject(r);
    return got;
}

/* cvma_spent_eviction, and *news true when this read changed what is to be said: Redis now
 * may evict (EVICT_YES), or its settings are now refused (at the first check: EVICT_UNTOLD;
 * after it had shown them: refused). */
static enum cvma_spent_eviction read_eviction(struct cvma_spent *s, char *why, size_t why_len,
                                              bool *news)
{
    char policy[128], maxmem[128];
    *news = false;
    if (s->pool == NULL) {
        return CVMA_SPENT_KEEPS;
    }
    struct cvma_redis_conn *c = cvma_redis_take(s->pool);
    if (c == NULL) {
        snprintf(why, why_len, "redis does not answer");
        return CVMA_SPENT_UNKNOWN; /* not known yet: asked again (enum evict_state) */
    }
    enum config_got got = config_get(c, "maxmemory-policy", policy, sizeof policy);
    const char *said = policy;
    if (got == CONFIG_VALUE) {
        got = config_get(c, "maxmemory", maxmem, sizeof maxmem);
        said = maxmem;
    }
    /* An error answer (CONFIG disabled, BUSY) is an answer: the connection stays usable. */
    cvma_redis_give(s->pool, c, got != CONFIG_SILENT);
    if (got == CONFIG_SILENT || got == CONFIG_PASSING) {
        /* Redis serves no one just now (a script running, loading): not known yet, and
         * nothing changes; asked again at the next spend, or when next due (a BUSY once must
         * not end the re-reads: a Redis set to evict after it would go unnoticed). */
        snprintf(why, why_len, "CONFIG GET maxmemory-policy / maxmemory is not answered yet%s%s%s",
                 said[0] != '\0' ? " (" : "", said, said[0] != '\0' ? ")" : "");
        return CVMA_SPENT_UNKNOWN;
    }
    if (got == CONFIG_REFUSED) {
        snprintf(why, why_len, "CONFIG GET maxmemory-policy / maxmemory is not answered (%s)",
                 said[0] != '\0' ? said : "no value");
        int e = EVICT_UNCHECKED;
        if (atomic_compare_exchange_strong(&s->evict, &e, EVICT_UNTOLD)) {
            *news = true; /* cannot be told: warned, not asked again */
        } else if (e == EVICT_NO) {
            /* It showed its settings before (renamed away or an ACL changed since): still
             * read when due; warned once. */
            *news = !atomic_exchange(&s->refused, true);
        }
        return CVMA_SPENT_UNKNOWN;
    }
    snprintf(why, why_len, "maxmemory-policy %s, maxmemory %s", policy, maxmem);
    if (strcmp(policy, "noeviction") == 0 || strcmp(maxmem, "0") == 0) {
        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
            atomic_store(&s->recheck_at, (long long)ts.tv_sec + s->recheck);
        }
        atomic_store(&s->refused, false);
        /* Never down from EVICT_YES: a slower read overlapping one that saw eviction (at
         * EVICT_UNCHECKED every spend reads; one read can outlast the re-read period) must
         * not lift the refusal, which holds until a restart. */
        int e = atomic_load(&s->evict);
        while (e != EVICT_YES && e != EVICT_NO &&
               !atomic_compare_exchange_weak(&s->evict, &e, EVICT_NO)) {
        }
        return CVMA_SPENT_KEEPS; /* (maxmemory 0: no limit, nothing is evicted) */
    }
    *news = atomic_exchange(&s->evict, EVICT_YES) != EVICT_YES;
    return CVMA_SPENT_EVICTS;
}

enum cvma_spent_eviction cvma_spent_eviction(struct cvma_spent *s, char *why, size_t why_len)
{
    bool news;
    return read_eviction(s, why, why_len, &news);
}

/* True for the one caller that takes a due re-read of Redis's settings (EVICT_NO only). */
static bool recheck_due(struct cvma_spent *s)
{
    struct timespec ts;
    if (atomic_load(&s->evict) != EVICT_NO || clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return false;
    }
    long long now = (long long)ts.tv_sec, due = atomic_load(&s->recheck_at);
    return now >= due && atomic_compare_exchange_strong(&s->recheck_at, &due, now + s->recheck);
}

/* Reads Redis's eviction settings (at the first spend when it did not answer at start, then
 * when due): a change is said once on stderr. */
static void check_eviction(struct cvma_spent *s, bool again)
{
    char why[200];
    bool news = false;
    enum cvma_spent_eviction r = read_eviction(s, why, sizeof why, &news);
    if (!news) {
        return;
    }
    if (r == CVMA_SPENT_EVICTS) {
        fprintf(stderr,
                "cvmattest serve: redis %smay evict keys (%s): a spent nonce could be "
                "forgotten and its replay accepted; nonces are refused until it is "
                "restarted with maxmemory-policy noeviction and this instance too\n",
                again ? "now " : "", why);
    } else if (atomic_load(&s->evict) == EVICT_UNTOLD) {
        fprintf(stderr,
                "cvmattest serve: warning: redis: %s; make sure it does not evict keys "
                "(maxmemory-policy noeviction), or a spent nonce could be forgotten\n",
                why);
    } else {
        fprintf(stderr,
                "cvmattest serve: warning: redis no longer shows its eviction settings (%s): "
                "trusted not to evict keys, as one that never showed them is, and read again "
                "every %lld s; make sure it does not evict (maxmemory-policy noeviction), or "
                "a spent nonce could be forgotten\n",
                why, s->recheck);
    }
}

/* A spend with Redis: false (refused, fail closed) while Redis may evict keys. */
static bool spend_allowed(struct cvma_spent *s)
{
    int e = atomic_load(&s->evict);
    if (e == EVICT_UNCHECKED) {
        check_eviction(s, false);
    } else if (recheck_due(s)) {
        check_eviction(s, true);
    }
    return atomic_load(&s->evict) != EVICT_YES;
}

bool cvma_spent_healthy(struct cvma_spent *s)
{
    if (s->pool == NULL) {
        return true;
    }
    if (recheck_due(s)) {
        check_eviction(s, true);
    }
    if (atomic_load(&s->evict) == EVICT_YES) {
        return false; /* every nonce is refused */
    }
    bool ok = false;
    struct cvma_redis_conn *c = cvma_redis_take(s->pool);
    if (c != NULL) {
        redisReply *r = cvma_redis_command(c, "PING");
        ok = r != NULL && r->type == REDIS_REPLY_STATUS;
        cvma_redis_pool_note_reply(s->pool, r);
        if (r != NULL) {
            freeReplyObject(r);
        }
        cvma_redis_give(s->pool, c, ok);
    }
    return ok;
}

bool cvma_spent_auth_refused(struct cvma_spent *s, char *why, size_t why_len)
{
    return s->pool != NULL && cvma_redis_pool_auth_refused(s->pool, why, why_len);
}

bool cvma_spent_tls_failed(struct cvma_spent *s, char *why, size_t why_len)
{
    return s->pool != NULL && cvma_redis_pool_tls_failed(s->pool, why, why_len);
}
