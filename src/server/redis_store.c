/* The service's shared state in Redis (see server/redis_store.h). */
#include "server/redis_store.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "collateral/fetch.h"
#include "common/hex.h"
#include "common/util.h"
#include "server/redis_pool.h"

struct cvma_redis_store {
    struct cvma_redis_pool *pool; /* a connection of its own per operation */
    char id[33];                  /* this instance's name on the claims it holds (random) */
};

/*
 * KEYS[1] the provider's key; ARGV[1] the version as 20 digits (so that string order is
 * number order: versions go beyond what a Lua number holds exactly), ARGV[2] the root in hex.
 * Returns {answer, recorded version}: 0 recorded or the same, 1 older, 2 conflict, 3 the
 * stored value is malformed or its version out of a registry's range, 1..2^53-1 (left alone:
 * not checked).
 */
static const char rollback_lua[] =
        "local cur = redis.call('GET', KEYS[1])\n"
        "if cur then\n"
        "  local v, root = string.match(cur, '^(%d+) (%x+)$')\n"
        "  if v == nil or #v ~= 20 or #root ~= 64 or v > '00009007199254740991' then\n"
        "    return {3, '0'}\n"
        "  end\n"
        "  if v > ARGV[1] then return {1, v} end\n"
        "  if v == ARGV[1] then\n"
        "    if root ~= ARGV[2] then return {2, v} end\n"
        "    return {0, v}\n"
        "  end\n"
        "end\n"
        "redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2])\n"
        "return {0, ARGV[1]}\n";

struct cvma_redis_store *cvma_redis_store_new(const char *url, const struct cvma_redis_opts *o,
                                              char *err, size_t err_len)
{
    struct cvma_redis_store *rs = calloc(1, sizeof *rs);
    if (rs == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return NULL;
    }
    uint8_t id[16];
    if (RAND_bytes(id, sizeof id) != 1) {
        cvma_errf(err, err_len, "no random bytes for the instance's claims");
        free(rs);
        return NULL;
    }
    cvma_hex_encode(id, sizeof id, rs->id, sizeof rs->id);
    if ((rs->pool = cvma_redis_pool_new(url, o, err, err_len)) == NULL) {
        free(rs);
        return NULL;
    }
    return rs;
}

void cvma_redis_store_free(struct cvma_redis_store *rs)
{
    if (rs == NULL) {
        return;
    }
    cvma_redis_pool_free(rs->pool);
    free(rs);
}

/* The end of an operation on c: back to the pool when its reply r was in step, else freed
 * (never reused); r is freed. */
static void done(struct cvma_redis_store *rs, struct cvma_redis_conn *c, redisReply *r,
                 bool in_step)
{
    if (r != NULL) {
        freeReplyObject(r);
    }
    cvma_redis_give(rs->pool, c, in_step);
}

static enum cvma_store_answer registry_seen(void *arg, const char *provider, uint64_t version,
                                            const uint8_t merkle_root[32], uint64_t *seen,
                                            char *err, size_t err_len)
{
    struct cvma_redis_store *rs = arg;
    char ver[24], root[65];
    enum cvma_store_answer a = CVMA_STORE_UNAVAILABLE;

    snprintf(ver, sizeof ver, "%020" PRIu64, version);
    cvma_hex_encode(merkle_root, 32, root, sizeof root);
    *seen = 0;
    struct cvma_redis_conn *c = cvma_redis_take(rs->pool);
    if (c == NULL) {
        cvma_errf(err, err_len, "redis %s cannot be reached", cvma_redis_pool_name(rs->pool));
        return CVMA_STORE_UNAVAILABLE;
    }
    redisReply *r = cvma_redis_command(c, "EVAL %s 1 cvmattest:registry:%s %s %s", rollback_lua,
                                       provider, ver, root);
    bool in_step = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                   r->element[0]->type == REDIS_REPLY_INTEGER &&
                   (r->element[1]->type == REDIS_REPLY_STRING ||
                    r->element[1]->type == REDIS_REPLY_INTEGER);
    if (in_step) {
        /* The version recorded, read strictly: one out of a registry's range (the script
         * answers 3 for such a record) is never named as another number. */
        long long ans = r->element[0]->integer;
        if (r->element[1]->type == REDIS_REPLY_STRING &&
            !cvma_dec_u64(r->element[1]->str, r->element[1]->len, 0, 9007199254740991ULL, seen)) {
            *seen = 0;
            ans = 3;
        }
        switch (ans) {
        case 0:
            a = CVMA_STORE_OK;
            break;
        case 1:
            a = CVMA_STORE_OLDER;
            break;
        case 2:
            a = CVMA_STORE_CONFLICT;
            break;
        default:
            cvma_errf(err, err_len,
                      "redis key cvmattest:registry:%s holds no version (nor one in a "
                      "registry's range, 1..2^53-1)",
                      provider);
            break;
        }
    } else {
        cvma_errf(err, err_len, "redis %s: %s", cvma_redis_pool_name(rs->pool),
                  r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : "no answer");
    }
    done(rs, c, r, in_step);
    return a;
}

/* PREFIX and the hex SHA-256 of the item's cache key: "cvmattest:collateral:" (the copy),
 * "cvmattest:claim:" (the fleet's claim on downloading it). */
static void item_key(const char *prefix, const char *key, char out[96])
{
    uint8_t d[32];
    char hex[65];
    SHA256((const unsigned char *)key, strlen(key), d);
    cvma_hex_encode(d, sizeof d, hex, sizeof hex);
    snprintf(out, 96, "%s%s", prefix, hex);
}

static void collateral_key(const char *key, char out[96])
{
    item_key("cvmattest:collateral:", key, out);
}

static enum cvma_store_answer collateral_get(void *arg, const char *key, uint8_t **p, size_t *len)
{
    struct cvma_redis_store *rs = arg;
    char k[96];
    enum cvma_store_answer a = CVMA_STORE_UNAVAILABLE;

    *p = NULL;
    *len = 0;
    collateral_key(key, k);
    struct cvma_redis_conn *c = cvma_redis_take(rs->pool);
    if (c == NULL) {
        return CVMA_STORE_UNAVAILABLE;
    }
    /* No verifier writes a value longer than CVMA_SHARED_VALUE_MAX (collateral/fetch.h), and
     * one that is would be refused after it was read: so at most one byte more is asked for
     * (GETRANGE's end is inclusive), and a reply of that length is a miss, as any other value
     * no verifier wrote is, never copied. Whoever can write to Redis can store up to 512 MB
     * under a key; a plain GET would have each worker that misses read it all, then copy it.
     * GETRANGE answers "" for a key that is absent: a miss too (no value is empty). */
    redisReply *r = cvma_redis_command(c, "GETRANGE %s 0 %llu", k,
                                       (unsigned long long)CVMA_SHARED_VALUE_MAX);
    bool in_step = r != NULL && (r->type == REDIS_REPLY_NIL || r->type == REDIS_REPLY_STRING);
    if (in_step && (r->type == REDIS_REPLY_NIL || r->len == 0 || r->len > CVMA_SHARED_VALUE_MAX)) {
        a = CVMA_STORE_MISS;
    } else if (in_step && (*p = malloc(r->len)) != NULL) {
        memcpy(*p, r->str, r->len);
        *len = r->len;
        a = CVMA_STORE_OK;
    }
    done(rs, c, r, in_step);
    return a;
}

static void collateral_put(void *arg, const char *key, const uint8_t *p, size_t len,
                           int64_t ttl_seconds)
{
    struct cvma_redis_store *rs = arg;
    char k[96];

    if (ttl_seconds <= 0) {
        return;
    }
    collateral_key(key, k);
    struct cvma_redis_conn *c = cvma_redis_take(rs->pool);
    if (c == NULL) {
        return;
    }
    redisReply *r = cvma_redis_command(c, "SET %s %b PX %lld", k, (const char *)p, len,
                                       (long long)ttl_seconds * 1000);
    done(rs, c, r, r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0);
}

static void collateral_del(void *arg, const char *key)
{
    struct cvma_redis_store *rs = arg;
    char k[96];

    collateral_key(key, k);
    struct cvma_redis_conn *c = cvma_redis_take(rs->pool);
    if (c == NULL) {
        return;
    }
    redisReply *r = cvma_redis_command(c, "DEL %s", k);
    done(rs, c, r, r != NULL && r->type == REDIS_REPLY_INTEGER);
}

/*
 * The claim on downloading an item: KEYS[1] the claim's key; ARGV[1] this instance's id,
 * ARGV[2] the claim's time to live in ms, ARGV[3] the time now and ARGV[4] the claim's end
 * (ms since the epoch, this instance's clock). The value is "ID END". 1: taken, 0: another
 * instance holds it. A value this instance wrote is taken again (a release that never reached
 * Redis does not make the instance wait on itself); so is one that is no claim an instance
 * writes, whatever its TTL: not of that form, already ended, or ending later than a claim made
 * now could (a minute allowed for clocks that differ), so that a key left without a TTL, or
 * with a far one, by whoever else writes to Redis holds no item back past one download's bound.
 */
static const char claim_lua[] =
        "local cur = redis.call('GET', KEYS[1])\n"
        "if cur then\n"
        "  local id, til = string.match(cur, '^(%x+) (%d+)$')\n"
        "  local now = tonumber(ARGV[3])\n"
        "  if id ~= nil and id ~= ARGV[1] and tonumber(til) > now and\n"
        "     tonumber(til) <= now + tonumber(ARGV[2]) + 60000 then return 0 end\n"
        "end\n"
        "redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[4], 'PX', ARGV[2])\n"
        "return 1\n";

/* Gives a claim back: removed only while it is this instance's (KEYS[1], ARGV[1] as above; a
 * claim that lapsed and was taken by another stays theirs). */
static const char release_lua[] = "local cur = redis.call('GET', KEYS[1])\n"
                                  "if cur and string.match(cur, '^(%x+) ') == ARGV[1] then\n"
                                  "  return redis.call('DEL', KEYS[1])\n"
                                  "end\n"
                                  "return 0\n";

static enum cvma_store_answer collateral_claim(void *arg, const char *key, int64_t ttl_ms)
{
    struct cvma_redis_store *rs = arg;
    char k[96];

    item_key("cvmattest:claim:", key, k);
    struct cvma_redis_conn *c = cvma_redis_take(rs->pool);
    if (c == NULL) {
        return CVMA_STORE_UNAVAILABLE;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long ttl = ttl_ms > 0 ? (long long)ttl_ms : 1;
    long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    redisReply *r = cvma_redis_command(c, "EVAL %s 1 %s %s %lld %lld %lld", claim_lua, k, rs->id,
                                       ttl, now_ms, now_ms + ttl);
    bool in_step =
            r != NULL && r->type == REDIS_REPLY_INTEGER && (r->integer == 0 || r->integer == 1);
    enum cvma_store_answer a = !in_step          ? CVMA_STORE_UNAVAILABLE
                               : r->integer == 1 ? CVMA_STORE_OK
                                                 : CVMA_STORE_HELD;
    done(rs, c, r, in_step);
    return a;
}

static void collateral_release(void *arg, const char *key)
{
    struct cvma_redis_store *rs = arg;
    char k[96];

    item_key("cvmattest:claim:", key, k);
    struct cvma_redis_conn *c = cvma_redis_take(rs->pool);
    if (c == NULL) {
        return; /* it lapses after its time to live */
    }
    redisReply *r = cvma_redis_command(c, "EVAL %s 1 %s %s", release_lua, k, rs->id);
    done(rs, c, r, r != NULL && r->type == REDIS_REPLY_INTEGER);
}

void cvma_redis_store_iface(struct cvma_redis_store *rs, struct cvma_state_store *out)
{
    memset(out, 0, sizeof *out);
    out->arg = rs;
    out->registry_seen = registry_seen;
    out->collateral_get = collateral_get;
    out->collateral_put = collateral_put;
    out->collateral_del = collateral_del;
    out->collateral_claim = collateral_claim;
    out->collateral_release = collateral_release;
}
