/*
 * An in-process cache of verified certificate chains and the values derived from them
 * (parsed leaf key, extensions). Keyed by SHA-256 over the exact bytes that were verified
 * (every certificate, the CRL, the trust roots in force), so different or changed
 * collateral can never hit an entry. Only successes are stored, and what depends on the
 * time (validity windows, CRL freshness) is stored with the entry and re-checked by the
 * caller on every use. Bounded: the least recently used entry is evicted.
 *
 * Threads: one cache may be shared by any number of threads verifying at once. Its table
 * (keys, recency, hit count) is guarded by a mutex inside the cache. A value is handed out
 * as a counted reference (struct cvma_chain_ref): the cache holds one reference while the
 * value is stored, every get or put returns one more, and the value is freed with its free
 * function when the last reference goes, whether eviction, cvma_chain_cache_free or the
 * caller's release came last. So a value stays valid for as long as the caller holds its
 * reference, whatever other threads put or evict meanwhile.
 * What the cache does NOT make safe: the values themselves. They are shared read-only; a
 * value type that changes when used must bring its own lock (the TDX P-256 verifier does).
 */
#ifndef CVMA_CRYPTO_CHAIN_CACHE_H
#define CVMA_CRYPTO_CHAIN_CACHE_H

#include "common/util.h"

struct cvma_chain_cache;
struct cvma_chain_ref; /* one counted reference to a stored value */

/* NULL when out of memory. capacity 0 is taken as 1. */
struct cvma_chain_cache *cvma_chain_cache_new(size_t capacity);
/* Drops the cache's own references; values still referenced by callers live on until their
 * release. NULL is fine. No other thread may use c during or after this call. */
void cvma_chain_cache_free(struct cvma_chain_cache *c);
/* A new reference to the value stored under key, or NULL when there is none (or c is NULL).
 * Thread-safe. Release it with cvma_chain_ref_release. */
struct cvma_chain_ref *cvma_chain_cache_get(struct cvma_chain_cache *c, const uint8_t key[32]);
/*
 * Stores val under key (replacing an entry with the same key, else evicting the least
 * recently used one) and returns a reference to it for the caller. Ownership of val passes
 * to the cache in every case: it is freed with free_fn (may be NULL) when the last
 * reference is released. With c NULL nothing is stored but a reference is still returned,
 * so callers handle "no cache" the same way. NULL only when out of memory (val already
 * freed then). Thread-safe.
 */
struct cvma_chain_ref *cvma_chain_cache_put(struct cvma_chain_cache *c, const uint8_t key[32],
                                            void *val, void (*free_fn)(void *));
/* The value a reference points to (borrowed for the life of the reference). */
void *cvma_chain_ref_val(const struct cvma_chain_ref *r);
/* Drops one reference; frees the value when it was the last. NULL is fine. Thread-safe. */
void cvma_chain_ref_release(struct cvma_chain_ref *r);
/* Successful gets so far. Thread-safe, lock-free. */
size_t cvma_chain_cache_hits(struct cvma_chain_cache *c);
/* Gets that found nothing so far. Thread-safe, lock-free. */
size_t cvma_chain_cache_misses(struct cvma_chain_cache *c);
/* Values stored now (at most the capacity). Thread-safe. */
size_t cvma_chain_cache_count(struct cvma_chain_cache *c);

#endif
