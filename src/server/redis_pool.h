/*
 * Connections to the service's Redis (`serve --redis`), shared by the spent-nonce store
 * (server/nonce.c) and the state store (server/redis_store.c). hiredis contexts are not
 * thread-safe, so a caller takes a connection of its own from a pool for one operation (or,
 * for a spend, from the command's sending to its reply) and gives it back after.
 */
#ifndef CVMA_SERVER_REDIS_POOL_H
#define CVMA_SERVER_REDIS_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* Parses --redis redis://[USER@]HOST[:PORT][/DB] (port 6379 and database 0 by default; user ""
 * when none: the password alone then, Redis's `requirepass`); false with err when malformed.
 * A password in the URL (USER:PASSWORD@) is refused: a command line is readable by every
 * local user, so it comes from a file (serve --redis-password-file). */
#define CVMA_REDIS_HOST_MAX 256
#define CVMA_REDIS_USER_MAX 128
bool cvma_redis_url_parse(const char *url, char host[CVMA_REDIS_HOST_MAX], int *port, int *db,
                          char user[CVMA_REDIS_USER_MAX], char *err, size_t err_len);

/* Idle connections kept: as many as `serve` has workers at most (--threads <= 256), so none
 * is closed and made again under load. A pool never holds more connections than were in use
 * at once, so a service with few workers keeps few. */
#define CVMA_REDIS_POOL_IDLE 256

struct redisContext;
struct cvma_redis_pool;

/*
 * NULL with err when url is malformed, names a user without a password, or out of memory
 * (Redis is not contacted yet). password (NULL: none; copied, cleansed at free): every new
 * connection authenticates with it first (AUTH [USER] PASSWORD).
 */
struct cvma_redis_pool *cvma_redis_pool_new(const char *url, const char *password, char *err,
                                            size_t err_len);
void cvma_redis_pool_free(struct cvma_redis_pool *p);

/*
 * A connection of the caller's own: an idle one from the pool that Redis has not closed
 * meanwhile (checked with poll before any command goes out on it), else a new one (2 s
 * connect and command time-outs, AUTH when the pool has a password, SELECT of the URL's
 * database when not 0); NULL when Redis cannot be reached or refuses the password.
 */
struct redisContext *cvma_redis_take(struct cvma_redis_pool *p);

/* The end of an operation on c: back to the pool when in_step (its reply was read and was the
 * one expected); freed, never reused, when not in step, when c has an error or when the pool
 * is full. NULL: no-op. */
void cvma_redis_give(struct cvma_redis_pool *p, struct redisContext *c, bool in_step);

/* "HOST:PORT", for messages. */
const char *cvma_redis_pool_name(const struct cvma_redis_pool *p);

/* Whether Redis refused this pool's authentication: the last new connection's AUTH answered
 * with an error (a wrong password or user; cleared when a later one succeeds), or a reply
 * noted by cvma_redis_pool_note_reply was NOAUTH (Redis wants a password and none is
 * configured) or NOPERM (the ACL user may not run the command). true with Redis's own words in why.
 */
bool cvma_redis_pool_auth_refused(struct cvma_redis_pool *p, char *why, size_t why_len);
/* Records r when it is Redis's NOAUTH error, or NOPERM (an ACL user not allowed the command:
 * PING, SELECT); anything else is ignored. */
struct redisReply;
void cvma_redis_pool_note_reply(struct cvma_redis_pool *p, const struct redisReply *r);

#endif
