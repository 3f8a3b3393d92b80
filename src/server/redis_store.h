/*
 * The service's shared state in Redis (`serve --redis`, docs/service.md "Several instances"):
 * an implementation of the library's struct cvma_state_store, so instances sharing one Redis
 * agree on the highest registry version seen per provider and share fetched collateral.
 *
 *   cvmattest:registry:<provider>     "<version, 20 digits> <merkle_root hex>", raised only,
 *                                     by one Lua script (EVAL): compare and set in one step
 *   cvmattest:collateral:<sha256 hex of the item's cache key>
 *                                     the verifier's value, SET ... PX ttl; DEL when
 *                                     the verifier refuses it (collateral_del)
 *
 * Each operation runs on a connection of its own from a pool (server/redis_pool.h: hiredis
 * contexts are not thread-safe), so workers neither queue on one lock nor behind one stalled
 * command; an idle connection Redis closed (a restart) is replaced before use, and one with
 * an error or a reply out of step is freed. Every command has a 2 s time-out. Unreachable
 * Redis: registry_seen answers CVMA_STORE_UNAVAILABLE (REGISTRY_ROLLBACK_NOT_CHECKED),
 * collateral_get CVMA_STORE_UNAVAILABLE (the verifier fetches as on a miss); a put or del
 * that fails is not retried.
 */
#ifndef CVMA_SERVER_REDIS_STORE_H
#define CVMA_SERVER_REDIS_STORE_H

#include "cvmattest/cvmattest.h"

struct cvma_redis_store;

/* url: redis[s]://[USER@]HOST[:PORT][/DB]; o: its password and TLS files (NULL: none;
 * server/redis_pool.h). NULL with err when malformed or out of memory (no connection is made
 * yet). */
struct cvma_redis_opts;
struct cvma_redis_store *cvma_redis_store_new(const char *url, const struct cvma_redis_opts *o,
                                              char *err, size_t err_len);
void cvma_redis_store_free(struct cvma_redis_store *rs);

/* The store's functions, for cvma_verifier_config.state_store (rs must outlive the verifier). */
void cvma_redis_store_iface(struct cvma_redis_store *rs, struct cvma_state_store *out);

#endif
