/*
 * The one collateral fetch path: cache, then the offline rule, then fetch, then re-check.
 * Vendor code calls it (through the vendor-API clients kds.c and pcs.c, which build the URLs
 * and cache keys); it never calls vendor code except through the callbacks it is given.
 *
 *   1. The cache (when there is one): an intact, unexpired entry whose bytes pass the item's
 *      check is the answer, unless the item is refreshable, the fetch is online and the entry
 *      was fetched longer ago than the maximum age (cache.h, cvma_cache_too_old): then it is
 *      kept to fall back on. A damaged entry, or one that fails the check, is ignored and v
 *      receives COLLATERAL_CACHE_CORRUPT (info).
 *   2. Offline: a miss is CVMA_UNDECIDED ("offline and not in cache").
 *   3. The download (the item's download callback, else an HTTP GET that follows redirects
 *      to the same origin only: collateral/http.h, same_origin).
 *   4. The check again, on the downloaded bytes: what fails it is never cached. With a version
 *      callback, bytes past their nextUpdate (beyond the item's grace) or older than the
 *      cached copy are refused the same way (struct cvma_collateral_item, version, grace).
 *      Passing bytes are cached (best effort) with the expiry the check computed.
 *   When the refresh of a too-old entry fails (3 or 4), the old entry is the answer and v
 *   receives COLLATERAL_STALE_CACHE (warning) naming its age and the failure.
 *   Counted in net->hooks (when given): an answer at step 1 as a cache hit, any other
 *   lookup as a miss, and each download by its source (a CRL when the item's name says so,
 *   else from the cache key's "amd-kds " / "intel-pcs " prefix) and final HTTP status (0: no
 *   HTTP answer).
 *
 * Single flight (net->hooks->flights, when given): threads that miss the same item (cache key)
 * while one of them downloads it do not download it too. The first one downloads (3, 4) and
 * hands the outcome to the others, which wait for it at most as long as the download itself
 * may take (cvma_fetch_flight_wait_ms). A waiter then runs the item's check on the very bytes
 * the first one checked and cached; when that download failed (or the wait ran out), it reports
 * that failure as its own, with the stale-copy fallback as above, and does not download
 * either. A waiter is counted as a cache miss, never as a download. A thread that misses
 * after the download landed but before its shared copy is written takes those bytes the same
 * way. The first one also looks at the local cache once more before downloading, for a
 * download that landed between its lookup and its turn.
 *
 * Download budget (cvma_fetch_flights_set_budget, same hooks): a verifier may be given a
 * number of downloads a minute, shared by its threads, for the items marked budgeted: those
 * evidence names before anything of it can be checked (an SEV-SNP VCEK, by the report's
 * CHIP_ID and TCB). A download of one beyond them is not started: the item is CVMA_UNDECIDED
 * (err says the budget is spent and when the next download may start) and its waiters share
 * that outcome. Cache hits, the shared store and waiters spend nothing; every budgeted
 * download does, whatever its outcome (with its retries: up to 4 requests). So evidence that
 * names collateral no one has (a made-up CHIP_ID) cannot make a service ask the vendor more
 * than that a minute, and product-wide items (certificate chains, CRLs) and those named by
 * evidence already checked (TDX: after its PCK chain) are never held back by it.
 *
 * Evictions (cvma_collateral_evict, same hooks): bytes had from the shared store or a download
 * are written to the caches only while no eviction has begun since they were asked for, so a
 * thread that refused and evicted them is never followed by a write that brings them back.
 *
 * Returns CVMA_OK (*out owns the bytes, as cached), CVMA_UNDECIDED (err says why, with the
 * URL; the caller records COLLATERAL_UNAVAILABLE), CVMA_E_USAGE or CVMA_E_NOMEM; *out is empty
 * on any status but CVMA_OK. Nothing is printed. Thread-safe when the callbacks are.
 */
#ifndef CVMA_COLLATERAL_FETCH_H
#define CVMA_COLLATERAL_FETCH_H

#include "collateral/cache.h"
#include "collateral/http.h"
#include "collateral/stats.h"
#include "common/verdict.h"

/* Where and how: borrowed. */
struct cvma_collateral_net {
    bool offline;                      /* never touch the network */
    const struct cvma_http_opts *http; /* NULL: defaults */
    struct cvma_cache *cache;          /* NULL: no cache */
    int64_t max_age;                   /* cache.h: 0 default, negative: always refresh */
    /* counters (collateral/stats.h); NULL: none */
    const struct cvma_collateral_hooks *hooks;
    int64_t at; /* the verification time (Unix s; 0: now): what is past its nextUpdate then
                 * is refused (cvma_collateral_version) */
};

/*
 * The form check of one item's bytes (as cached: what the download callback returned). True
 * when well-formed; then *expires_at is the cache expiry (0: never; it is 0 on entry).
 * Otherwise why (why_len bytes) says what is wrong. now: the current Unix time.
 */
typedef bool (*cvma_collateral_check_fn)(const struct cvma_buf *bytes, int64_t now,
                                         int64_t *expires_at, char *why, size_t why_len, void *arg);

/* Downloads url into *out (the bytes to check and cache); the statuses of cvma_http_get. */
typedef enum cvma_status (*cvma_collateral_download_fn)(const char *url,
                                                        const struct cvma_http_opts *http,
                                                        struct cvma_buf *out, char *err,
                                                        size_t err_len, void *arg);

/* Shows the size of the bytes in messages (may be NULL: their length). */
typedef size_t (*cvma_collateral_size_fn)(const struct cvma_buf *bytes, void *arg);

/*
 * What an item that changes over time (a CRL, a TCB Info, a QE Identity) says of its own
 * issue: read from its bytes by the item's version callback, before any signature is checked
 * (so it only orders copies under one cache key and dates them; nothing is trusted by it).
 */
struct cvma_collateral_version {
    int64_t issued;      /* thisUpdate / issueDate, Unix s; 0: unknown */
    int64_t next_update; /* nextUpdate, Unix s; 0: unknown */
    bool has_number;     /* number below is set */
    uint64_t number;     /* the CRL number; a TCB Info's or QE Identity's tcbEvaluationDataNumber */
    bool number_first;   /* true (TCB Info, QE Identity): a higher number is newer whatever the
                          * dates; false (CRL): an earlier thisUpdate is older whatever the
                          * numbers */
    bool through_next_update; /* true (TCB Info, QE Identity): still valid at its nextUpdate
                               * second, and for the item's grace after it, judged by
                               * cvma_next_update_judge as the verifier judges it; false (CRL):
                               * past at its nextUpdate second (OpenSSL's rule), no grace */
};

/*
 * True when a is older than b: for a CRL (number_first false), an earlier thisUpdate, or a
 * lower CRL number when both have one; for a TCB Info or QE Identity (number_first true), a
 * lower tcbEvaluationDataNumber, or the same one (or none on either side) and an earlier
 * issueDate. An unknown date (0) on either side compares as no date.
 */
bool cvma_collateral_older(const struct cvma_collateral_version *a,
                           const struct cvma_collateral_version *b);

/* Reads bytes' version (as cached: what the download callback returned, after the check
 * passed). False when it cannot tell: nothing is then refused by version. */
typedef bool (*cvma_collateral_version_fn)(const struct cvma_buf *bytes,
                                           struct cvma_collateral_version *out, void *arg);

struct cvma_collateral_item {
    const char *what;      /* names the item in messages ("VCEK", "TCB Info") */
    const char *url;       /* the full URL */
    const char *cache_key; /* the full cache key */
    bool refreshable;      /* changes over time: refreshed online once older than max_age */
    bool budgeted; /* its download spends the download budget (cvma_fetch_flights_set_budget):
                    * an item evidence names before anything of it can be checked */
    cvma_collateral_check_fn check;
    /* NULL, or a further check of downloaded bytes, after check and before they are cached,
     * and of bytes from the fleet's shared cache (written by others), never of a local cache
     * hit (so it adds nothing to a cached verification): that the bytes are what was asked
     * for (a VCEK for the chip and TCB in its URL). Downloaded bytes that fail it are refused
     * as those failing check are: not cached, CVMA_UNDECIDED; shared ones are a miss. */
    cvma_collateral_check_fn admit;
    /* NULL, or the version of bytes (an item that changes over time). Then bytes from a
     * download, a waiter's leader or the shared store are refused (not used, not cached, a
     * cached copy kept) when they are past their nextUpdate at the verification time (net->at)
     * or older (cvma_collateral_older) than the cached copy they would replace; they are used
     * but not cached when past their nextUpdate now but not at the verification time (a past
     * --at). */
    cvma_collateral_version_fn version;
    /* Seconds (>= 0) bytes whose version is through_next_update (a TCB Info, a QE Identity) are
     * still used past their nextUpdate at the verification time: the verifier's grace, which
     * makes that expiry a COLLATERAL_EXPIRED warning. Such bytes, past their nextUpdate now,
     * are used but never cached; a cached entry that expired at most grace ago is used
     * offline and, online, is a fallback for a failed refresh (COLLATERAL_STALE_CACHE). */
    int64_t grace;
    cvma_collateral_download_fn download; /* NULL: cvma_http_get */
    cvma_collateral_size_fn size;         /* NULL: bytes->len */
    void *arg;                            /* passed to the callbacks */
};

CVMA_MUST_USE enum cvma_status cvma_collateral_get(const struct cvma_collateral_net *net,
                                                   const struct cvma_collateral_item *item,
                                                   struct cvma_buf *out, struct cvma_verdict *v,
                                                   char *err, size_t err_len);

/*
 * A value of the fleet's shared cache (struct cvma_state_store, collateral_put): the fetch time
 * and the expiry (8 bytes each, big-endian), then the bytes as fetched, at least one and at
 * most CVMA_CACHE_MAX_BODY. Anything else read from the store is a miss. A store may refuse a
 * longer value before reading it whole (the service's Redis store does): no verifier wrote it.
 */
#define CVMA_SHARED_VALUE_HEADER 16u
#define CVMA_SHARED_VALUE_MAX    (CVMA_SHARED_VALUE_HEADER + CVMA_CACHE_MAX_BODY)

/*
 * Evicts the item under cache_key, bytes that passed their checks but then failed
 * verification: removes its entry from cache (may be NULL: none) and from the fleet's shared
 * cache (h->store's collateral_del, best effort; nothing when h, its store or collateral_del
 * is NULL). With h->flights, no copy of the item had before the eviction is written to either
 * cache after it by cvma_collateral_get (a copy from the shared store to the local cache, a
 * download to both), so no thread of this verifier puts the refused bytes back; their use by
 * the verification that had them is not changed. Returns cvma_cache_remove's status.
 */
CVMA_MUST_USE enum cvma_status cvma_collateral_evict(const struct cvma_cache *cache,
                                                     const struct cvma_collateral_hooks *h,
                                                     const char *cache_key);

/*
 * The downloads in progress of one verifier (or any set of threads sharing a cache): a small
 * table under a mutex, keyed by cache key, with one condition variable. Lent through
 * struct cvma_collateral_hooks. new: NULL when out of memory. free: only when no thread is
 * in cvma_collateral_get with it; NULL does nothing.
 */
struct cvma_fetch_flights *cvma_fetch_flights_new(void);
void cvma_fetch_flights_free(struct cvma_fetch_flights *f);

/*
 * Limits the downloads of every thread using f to per_minute a minute (0: no limit, as made):
 * a burst of per_minute at once, then one each 60/per_minute seconds (the generic cell rate
 * algorithm, on the monotonic clock). Set before the threads start.
 */
void cvma_fetch_flights_set_budget(struct cvma_fetch_flights *f, unsigned per_minute);

/*
 * The budget's arithmetic, apart for tests: state is the theoretical arrival time (µs, 0 at
 * first), now_ms a monotonic time. True and the state moved on when a download may start
 * now; false with *wait_ms (>= 1) until the next one may. per_minute at most 100000 (serve's
 * bound; far below where the arithmetic could overflow).
 */
struct cvma_fetch_budget {
    unsigned per_minute; /* 0: no limit */
    int64_t tat_us;
};
bool cvma_fetch_budget_take(struct cvma_fetch_budget *b, int64_t now_ms, int64_t *wait_ms);

/* How long a waiter waits for another thread's download with these options (NULL: defaults):
 * the longest the download may take (cvma_http_max_duration_ms) plus
 * CVMA_FETCH_FLIGHT_MARGIN_MS. */
#define CVMA_FETCH_FLIGHT_MARGIN_MS 2000L
long cvma_fetch_flight_wait_ms(const struct cvma_http_opts *http);

/* Joins base (trailing '/' ignored) and path into a new string; NULL on allocation failure. */
char *cvma_collateral_join_url(const char *base, const char *path);

#endif
