/*
 * An in-process cache of verified certificate chains and the values derived from them
 * (parsed leaf key, extensions). Keyed by SHA-256 over the exact bytes that were verified
 * (every certificate, the CRL, the trust roots in force), so different or changed
 * collateral can never hit an entry. Only successes are stored, and what depends on the
 * time (validity windows, CRL freshness) is stored with the entry and re-checked by the
 * caller on every use. Bounded: the least recently used entry is evicted.
 */
#ifndef CVMA_CRYPTO_CHAIN_CACHE_H
#define CVMA_CRYPTO_CHAIN_CACHE_H

#include "common/util.h"

struct cvma_chain_cache;

struct cvma_chain_cache *cvma_chain_cache_new(size_t capacity);
/* Frees every stored value with its free function. NULL is fine. */
void cvma_chain_cache_free(struct cvma_chain_cache *c);
/* The value stored under key, or NULL. Borrowed: valid until the next put or free. */
void *cvma_chain_cache_get(struct cvma_chain_cache *c, const uint8_t key[32]);
/* Stores val (ownership passes to the cache, freed with free_fn on eviction). */
void cvma_chain_cache_put(struct cvma_chain_cache *c, const uint8_t key[32], void *val,
                          void (*free_fn)(void *));
size_t cvma_chain_cache_hits(const struct cvma_chain_cache *c);

#endif
