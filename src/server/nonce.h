/*
 * Service nonces (docs/service.md): random bytes, an expiry and an HMAC-SHA256 over both,
 * base64url without padding. Any instance holding the HMAC key can check a nonce; a nonce is
 * single-use, and the spent ones are remembered until they expire and a margin after (the
 * clock-skew tolerance: cvma_spent_set_margin), in memory or in Redis (SET key 1 NX PX ttl, so
 * that several instances refuse a replay seen by any of them).
 */
#ifndef CVMA_SERVER_NONCE_H
#define CVMA_SERVER_NONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CVMA_NONCE_KEY_MAX 64
#define CVMA_NONCE_MAX     64

struct cvma_nonce_key {
    uint8_t key[CVMA_NONCE_KEY_MAX];
    size_t len;
};

/* Sizes a client may ask for. */
bool cvma_nonce_size_ok(size_t size);

/*
 * Mints a nonce of size bytes (32, 48 or 64) valid until now + ttl, as base64url into out
 * (out_size >= 87). False when the size is not allowed or randomness fails.
 */
bool cvma_nonce_mint(const struct cvma_nonce_key *k, size_t size, time_t now, int64_t ttl,
                     char *out, size_t out_size);

enum cvma_nonce_check {
    CVMA_NONCE_OK = 0,
    CVMA_NONCE_MALFORMED, /* not base64url, or a size we never issue */
    CVMA_NONCE_FORGED,    /* the HMAC does not hold: not ours, or altered */
    CVMA_NONCE_EXPIRED,
};

/*
 * Checks s: on CVMA_NONCE_OK, raw[0..*raw_len) are its bytes (the expected REPORT_DATA,
 * zero-padded to 64) and *expires its expiry.
 */
enum cvma_nonce_check cvma_nonce_check(const struct cvma_nonce_key *k, const char *s, time_t now,
                                       uint8_t raw[CVMA_NONCE_MAX], size_t *raw_len,
                                       time_t *expires);

/*
 * The spent-nonce store: in memory when redis_url is NULL, else Redis. In memory at most
 * CVMA_SPENT_MAX nonces are remembered; when that many are unexpired, further nonces are
 * refused (CVMA_SPEND_UNAVAILABLE: fail closed) until some expire. Only nonces the service
 * issued (a valid HMAC) and not expired are stored.
 */
#define CVMA_SPENT_MAX (1u << 20)
struct cvma_spent;

/* NULL with err when the Redis URL or its options are refused (the server is not contacted
 * yet). The margin is 0 until cvma_spent_set_margin. redis (NULL: none): Redis's AUTH
 * password and TLS files (server/redis_pool.h). */
struct cvma_redis_opts;
struct cvma_spent *cvma_spent_new(const char *redis_url, const struct cvma_redis_opts *redis,
                                  char *err, size_t err_len);
void cvma_spent_free(struct cvma_spent *s);

/*
 * A spent nonce is remembered until margin seconds after its expiry, not only until its expiry:
 * a nonce is refused as expired by the clock of the instance that checks it, and the clocks of
 * instances sharing one Redis (or one clock stepped back) may disagree. Within the margin a
 * nonce one instance takes for unexpired is still refused as spent, whatever another's clock
 * (or a sweep) says. The service sets it to the nonce TTL (docs/service.md). Call before any
 * spend; margin in 0..1000000000 (clamped).
 */
void cvma_spent_set_margin(struct cvma_spent *s, int64_t margin);

/*
 * With Redis: while it keeps every key, its eviction settings (cvma_spent_eviction) are read
 * again at most every this many seconds, by the spend or the cvma_spent_healthy call that finds
 * them due: a Redis whose maxmemory-policy was changed, or that was restarted or failed over
 * to one configured otherwise, is noticed within that time, and spends are refused from then
 * on (fail closed; healthy answers false). A re-read that is not answered, or is answered with
 * a passing error (a script running: BUSY; cvma_redis_passing_error), or is refused (CONFIG
 * renamed away since, an ACL that no longer grants it: warned once on stderr, and trusted as
 * at start) ends nothing: the settings are read again when next due. Default
 * CVMA_SPENT_EVICTION_RECHECK_SECONDS; 0: on every spend (tests).
 */
#define CVMA_SPENT_EVICTION_RECHECK_SECONDS 5
void cvma_spent_set_eviction_recheck(struct cvma_spent *s, unsigned seconds);

enum cvma_spend {
    CVMA_SPEND_FIRST = 0,   /* not seen before: now spent */
    CVMA_SPEND_REPLAY,      /* spent already */
    CVMA_SPEND_UNAVAILABLE, /* the store could not be asked (Redis down): fail closed */
};

/* Marks nonce (its text) spent until expires plus the margin; atomic across threads (and, with
 * Redis, across instances). The same as cvma_spent_begin then cvma_spent_end. */
enum cvma_spend cvma_spent_mark(struct cvma_spent *s, const char *nonce, time_t now,
                                time_t expires);

/*
 * A spend in two halves, so that the Redis round trip overlaps other work (the service
 * verifies the evidence meanwhile, and its worker does not sleep on the reply): begin sends
 * the command on a connection of its own from a small pool (in memory, or when Redis cannot
 * be reached, the answer is decided at once); end reads the answer. The nonce is spent (or
 * refused) by begin exactly as by cvma_spent_mark; nothing may be answered on it before end.
 * Every begun spend must be ended, once.
 */
struct cvma_spend_op {
    struct cvma_spent *s;
    struct cvma_redis_conn *c; /* the command is out on c; NULL: decided */
    enum cvma_spend decided;
};
void cvma_spent_begin(struct cvma_spent *s, const char *nonce, time_t now, time_t expires,
                      struct cvma_spend_op *op);
enum cvma_spend cvma_spent_end(struct cvma_spend_op *op);

/* Pings the store (healthz): true when usable. */
bool cvma_spent_healthy(struct cvma_spent *s);

/* With Redis: whether it refused the password (or wants one and none is configured), or the
 * URL's database ("SELECT DB: " first), with Redis's words in why; asked after
 * cvma_spent_healthy answered false. */
bool cvma_spent_auth_refused(struct cvma_spent *s, char *why, size_t why_len);
/* With rediss://: whether the TLS handshake with Redis failed once its port answered
 * (redis_pool.h, cvma_redis_pool_tls_failed), with why; asked as cvma_spent_auth_refused. */
bool cvma_spent_tls_failed(struct cvma_spent *s, char *why, size_t why_len);

/*
 * With Redis: whether it may evict keys, and so forget a spent nonce (a replay would then be
 * accepted). CVMA_SPENT_EVICTS when maxmemory is set and maxmemory-policy is not noeviction
 * (why: the policy and limit), CVMA_SPENT_KEEPS when it keeps every key, CVMA_SPENT_UNKNOWN when
 * its configuration cannot be read (CONFIG disabled or not granted; not answering, or a passing
 * error such as BUSY; why says so, with Redis's words). Not answered: asked again at the next
 * spend; refused at the first read: not asked again. The memory store keeps its nonces:
 * CVMA_SPENT_KEEPS.
 */
enum cvma_spent_eviction { CVMA_SPENT_KEEPS, CVMA_SPENT_EVICTS, CVMA_SPENT_UNKNOWN };
enum cvma_spent_eviction cvma_spent_eviction(struct cvma_spent *s, char *why, size_t why_len);

#endif
