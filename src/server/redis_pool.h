/*
 * Connections to the service's Redis (`serve --redis`), shared by the spent-nonce store
 * (server/nonce.c) and the state store (server/redis_store.c), over TCP or TLS (rediss://).
 * Commands are formatted and replies parsed by hiredis; the connection and its I/O are ours
 * (hiredis 0.14 has no TLS). A connection is not thread-safe, so a caller takes one of its
 * own from a pool for one operation (or, for a spend, from the command's sending to its
 * reply) and gives it back after.
 */
#ifndef CVMA_SERVER_REDIS_POOL_H
#define CVMA_SERVER_REDIS_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* Parses --redis redis[s]://[USER@]HOST[:PORT][/DB] (port 6379 and database 0 by default;
 * user "" when none: the password alone then, Redis's `requirepass`; *tls true for rediss://).
 * HOST is a name, an IPv4 address or an IPv6 address in brackets (RFC 3986 IP-literal,
 * "[::1]"), which host holds without them;
 * false with err when malformed. A password in the URL (USER:PASSWORD@) is refused: a command
 * line is readable by every local user, so it comes from a file (serve
 * --redis-password-file). */
#define CVMA_REDIS_HOST_MAX 256
#define CVMA_REDIS_USER_MAX 128
bool cvma_redis_url_parse(const char *url, char host[CVMA_REDIS_HOST_MAX], int *port, int *db,
                          char user[CVMA_REDIS_USER_MAX], bool *tls, char *err, size_t err_len);

/* Idle connections kept: as many as `serve` has workers at most (--threads <= 256), so none
 * is closed and made again under load. A pool never holds more connections than were in use
 * at once, so a service with few workers keeps few. */
#define CVMA_REDIS_POOL_IDLE 256

/*
 * How to reach Redis beyond its URL (every member may be NULL). password: every new connection
 * authenticates with it first (AUTH [USER] PASSWORD; copied, cleansed at free). With a
 * rediss:// URL: TLS 1.2 or later, the server's certificate checked against ca_file (PEM;
 * NULL: the system's CA store) and the URL's host (a DNS name, or an IP address in the
 * certificate's subjectAltName); cert_file and key_file (PEM, both or neither): the client
 * certificate Redis may ask for (tls-auth-clients). The TLS files with a redis:// URL are
 * refused (they would do nothing).
 */
struct cvma_redis_opts {
    const char *password;
    const char *ca_file, *cert_file, *key_file;
};

struct redisReply;
struct cvma_redis_pool;
struct cvma_redis_conn;

/*
 * NULL with err when url is malformed, names a user without a password, the TLS files are
 * given without rediss:// or cannot be loaded, or out of memory (Redis is not contacted yet).
 * o may be NULL: no password, no TLS files. With TLS the process must ignore SIGPIPE (serve
 * does, cvma_server_run): OpenSSL writes to the socket with write(2), and a write to a
 * connection Redis closed would otherwise end the process. Plain TCP sends with MSG_NOSIGNAL.
 */
struct cvma_redis_pool *cvma_redis_pool_new(const char *url, const struct cvma_redis_opts *o,
                                            char *err, size_t err_len);
void cvma_redis_pool_free(struct cvma_redis_pool *p);

/*
 * A connection of the caller's own: an idle one from the pool that Redis has not closed
 * meanwhile (checked with poll before any command goes out on it), else a new one (2 s
 * connect, TLS handshake and command time-outs, AUTH when the pool has a password, SELECT of
 * the URL's database when not 0); NULL when Redis cannot be reached, its TLS handshake fails
 * or it refuses the password.
 */
struct cvma_redis_conn *cvma_redis_take(struct cvma_redis_pool *p);

/* The end of an operation on c: back to the pool when in_step (its reply was read and was the
 * one expected); freed, never reused, when not in step, when c is broken (an I/O error or a
 * time-out) or when the pool is full. NULL: no-op. */
void cvma_redis_give(struct cvma_redis_pool *p, struct cvma_redis_conn *c, bool in_step);

/* Sends one command (hiredis's format: %s a string, %b a pointer and a length, %d, %lld),
 * whole; false when it could not be (c is then broken). */
bool cvma_redis_send(struct cvma_redis_conn *c, const char *fmt, ...);
/* The next reply on c (freeReplyObject frees it); NULL when none came within the time-out
 * (2 s for all its reads), the connection ended, or the reply is malformed or larger than any
 * the service reads (more bytes than the largest shared value and its framing, or more than
 * 16 values, an array's elements counted at its header): c is then broken. */
struct redisReply *cvma_redis_reply(struct cvma_redis_conn *c);
/* cvma_redis_send then cvma_redis_reply. */
struct redisReply *cvma_redis_command(struct cvma_redis_conn *c, const char *fmt, ...);
/* Marks c broken (never reused), as an I/O error does. */
void cvma_redis_conn_break(struct cvma_redis_conn *c);

/* "HOST:PORT" ("[V6]:PORT"), for messages. */
const char *cvma_redis_pool_name(const struct cvma_redis_pool *p);

/* Whether Redis refused this pool's authentication: the last new connection's AUTH answered
 * with an error (a wrong password or user; cleared when a later one succeeds), or a reply
 * noted by cvma_redis_pool_note_reply was NOAUTH (Redis wants a password and none is
 * configured) or NOPERM (the ACL user may not run the command), or a new connection's SELECT
 * of the URL's database had another error ("SELECT DB: " and Redis's words, "ERR DB index is
 * out of range" say). true with Redis's own words in why.
 */
bool cvma_redis_pool_auth_refused(struct cvma_redis_pool *p, char *why, size_t why_len);
/* Records r when it is Redis's NOAUTH error, or NOPERM (an ACL user not allowed the command:
 * PING, SELECT); anything else is ignored. */
void cvma_redis_pool_note_reply(struct cvma_redis_pool *p, const struct redisReply *r);

/*
 * Whether r is an error reply that says Redis cannot serve anyone just now, whatever the
 * command: no client slot left (sent on accepting the connection, so it answers the first
 * command: AUTH, SELECT, or CONFIG GET on a connection that needs neither), a script running
 * (BUSY), a data set loading (LOADING), a replica without its master (MASTERDOWN). An outage
 * to wait out, never a refusal of this instance. false for NULL and for any other reply.
 */
bool cvma_redis_passing_error(const struct redisReply *r);

/* Whether the last new connection's TLS handshake failed once Redis's port had answered (a
 * certificate that does not verify, a host name it is not for, a client certificate Redis
 * wants and was not given, Redis speaking no TLS there; cleared when a later one succeeds):
 * true with OpenSSL's words in why. */
bool cvma_redis_pool_tls_failed(struct cvma_redis_pool *p, char *why, size_t why_len);

#endif
