/* Connections to the service's Redis (see server/redis_pool.h). */
#include "server/redis_pool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "collateral/fetch.h"
#include "common/resolve.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "crypto/crypto.h"

/* The deadline of each operation: connect and TLS handshake together, a command's send, a
 * reply. */
#define REDIS_TIMEOUT_MS 2000
/* The most bytes read for one reply, parsed or not: a shared collateral value (the largest a
 * verifier writes), with room for its RESP framing. */
#define REDIS_REPLY_MAX (CVMA_SHARED_VALUE_MAX + 64)
/* The most values in one reply, an array and each of its elements (nested ones too) counting
 * one each. The service's commands (PING, AUTH, SELECT, CONFIG GET of one name, SET, GETRANGE,
 * DEL, its EVAL) are answered with one value, or an array of two. */
#define REDIS_REPLY_VALUES_MAX 16

struct cvma_redis_conn {
    struct cvma_redis_pool *pool;
    int fd;   /* non-blocking: every wait is a poll against an operation's deadline */
    SSL *ssl; /* NULL: plain TCP */
    redisReader *reader;
    /* reader->fn: hiredis's own, but for create_array (reader->privdata is the connection) */
    redisReplyObjectFunctions fn;
    void *(*create_array)(const redisReadTask *, int); /* hiredis's own */
    size_t reply_bytes; /* bytes read for the reply being read (the unread ones before it too) */
    long long reply_values; /* values it has announced so far (REDIS_REPLY_VALUES_MAX) */
    bool broken;    /* an I/O error, a time-out, a malformed or too long reply: never reused */
    bool timed_out; /* broken by a deadline */
};

struct cvma_redis_pool {
    pthread_mutex_t lock;
    char host[CVMA_REDIS_HOST_MAX];
    int port, db;
    char user[CVMA_REDIS_USER_MAX]; /* "": AUTH with the password alone */
    char *password;                 /* NULL: no AUTH */
    SSL_CTX *tls;                   /* rediss://; NULL: plain TCP */
    /* HOST:PORT, [HOST]:PORT for an IPv6 address */
    char name[CVMA_REDIS_HOST_MAX + 10];
    struct cvma_redis_conn *idle[CVMA_REDIS_POOL_IDLE]; /* under lock */
    size_t n_idle;
    char auth_refused[160]; /* under lock: Redis's words when the last connection was refused */
    char tls_failed[600];   /* under lock: why the last new connection's handshake failed */
};

bool cvma_redis_url_parse(const char *url, char host[CVMA_REDIS_HOST_MAX], int *port, int *db,
                          char user[CVMA_REDIS_USER_MAX], bool *tls, char *err, size_t err_len)
{
    const char *p = url;
    /* A query or a fragment is refused before anything else, the URL unechoed: other Redis
     * clients take a password there (?password=). */
    if (strpbrk(url, "?#") != NULL) {
        cvma_errf(err, err_len,
                  "--redis: a query or fragment ('?' or '#') in the URL is refused (the URL is "
                  "not echoed: other clients take a password there): give a password in "
                  "--redis-password-file FILE, the database as /DB");
        return false;
    }
    *tls = strncmp(p, "rediss://", 9) == 0;
    if (!*tls && strncmp(p, "redis://", 8) != 0) {
        /* (a URL with userinfo is not echoed: a password may be in it) */
        cvma_errf(err, err_len, "--redis wants redis[s]://HOST[:PORT][/DB], not '%s'",
                  strchr(url, '@') != NULL ? "(not echoed: it has userinfo)" : url);
        return false;
    }
    p += *tls ? 9 : 8;
    user[0] = '\0';
    const char *at = strchr(p, '@');
    if (at != NULL) {
        /* USER@: the userinfo is never echoed (a password may be in it by mistake). */
        size_t ul = (size_t)(at - p);
        if (memchr(p, ':', ul) != NULL) {
            cvma_errf(err, err_len,
                      "--redis: a password in the URL is refused (a command line is readable by "
                      "every local user): give it in --redis-password-file FILE "
                      "(docs/operations.md)");
            return false;
        }
        if (ul == 0 || ul >= (size_t)CVMA_REDIS_USER_MAX || memchr(p, '/', ul) != NULL ||
            strchr(at + 1, '@') != NULL) {
            cvma_errf(err, err_len, "--redis: a malformed user in the URL (redis://USER@HOST...)");
            return false;
        }
        for (size_t i = 0; i < ul; i++) {
            unsigned char ch = (unsigned char)p[i];
            if (ch <= 0x20 || ch >= 0x7f) {
                cvma_errf(err, err_len,
                          "--redis: the user in the URL has a space or control character");
                return false;
            }
        }
        memcpy(user, p, ul);
        user[ul] = '\0';
        p = at + 1;
    }
    if (*p == '[') {
        /* RFC 3986 3.2.2 IP-literal: an IPv6 address in brackets, kept without them (to
         * connect to, and for the TLS certificate's IP address check). No IPvFuture, no zone. */
        const char *close = strchr(p, ']');
        size_t hl = close != NULL ? (size_t)(close - p - 1) : 0;
        unsigned char ip6[16];
        if (close == NULL || hl == 0 || hl >= (size_t)CVMA_REDIS_HOST_MAX) {
            cvma_errf(err, err_len, "--redis '%s': a host in brackets is an IPv6 address, [V6]",
                      url);
            return false;
        }
        memcpy(host, p + 1, hl);
        host[hl] = '\0';
        if (inet_pton(AF_INET6, host, ip6) != 1) {
            cvma_errf(err, err_len, "--redis '%s': '%s' in brackets is no IPv6 address", url, host);
            host[0] = '\0';
            return false;
        }
        p = close + 1;
        if (*p != '\0' && *p != ':' && *p != '/') {
            cvma_errf(err, err_len, "--redis '%s': ']' is followed by ':PORT', '/DB' or the end",
                      url);
            host[0] = '\0';
            return false;
        }
    } else {
        size_t hl = strcspn(p, ":/");
        if (hl == 0 || hl >= (size_t)CVMA_REDIS_HOST_MAX) {
            cvma_errf(err, err_len, "--redis '%s': no host", url);
            return false;
        }
        memcpy(host, p, hl);
        host[hl] = '\0';
        p += hl;
    }
    *port = 6379;
    *db = 0;
    uint64_t v;
    if (*p == ':') {
        size_t n = strcspn(p + 1, "/");
        if (!cvma_dec_u64(p + 1, n, 1, 65535, &v)) {
            cvma_errf(err, err_len, "--redis '%s': bad port", url);
            return false;
        }
        *port = (int)v;
        p += 1 + n;
    }
    if (*p == '/' && p[1] != '\0') {
        size_t n = strlen(p + 1);
        if (!cvma_dec_u64(p + 1, n, 0, 1000, &v)) {
            cvma_errf(err, err_len, "--redis '%s': bad database number", url);
            return false;
        }
        *db = (int)v;
        p += 1 + n;
    } else if (*p == '/') {
        p++;
    }
    if (*p != '\0') {
        cvma_errf(err, err_len, "--redis '%s': trailing characters", url);
        return false;
    }
    return true;
}

/* The PEM certificates of a regular file into the store (at least one); false with why. */
static bool load_ca(X509_STORE *store, const char *file, char *why, size_t why_len)
{
    struct cvma_buf b = {0};
    if (cvma_file_read_regular(file, 1u << 20, &b) != CVMA_OK) {
        cvma_errf(why, why_len, "%s", cvma_file_read_strerror(errno));
        return false;
    }
    STACK_OF(X509) *certs = cvma_x509_load_pem_stack(b.p, b.len);
    cvma_buf_free(&b);
    int n = 0;
    for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
        n += X509_STORE_add_cert(store, sk_X509_value(certs, i)) == 1;
    }
    sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
    if (n == 0) {
        cvma_errf(why, why_len, "no PEM certificate in it");
    }
    return n > 0;
}

/* The client certificate (PEM chain, leaf first) and its unencrypted key (a secret file:
 * regular, wiped after; an encrypted one is refused, never prompted for) into ctx; false
 * with why. */
static bool load_client(SSL_CTX *ctx, const char *cert, const char *key, char *why, size_t why_len)
{
    struct cvma_buf cb = {0}, kb = {0};
    bool ok = false;
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *pk = NULL;
    if (cvma_file_read_regular(cert, 1u << 20, &cb) != CVMA_OK) {
        cvma_errf(why, why_len, "--redis-cert '%s': %s", cert, cvma_file_read_strerror(errno));
        return false;
    }
    if (cvma_file_read_secret(key, 1u << 20, &kb) != CVMA_OK) {
        cvma_errf(why, why_len, "--redis-key '%s': %s", key, cvma_file_read_strerror(errno));
        cvma_buf_free(&cb);
        return false;
    }
    if ((chain = cvma_x509_load_pem_stack(cb.p, cb.len)) == NULL ||
        SSL_CTX_use_certificate(ctx, sk_X509_value(chain, 0)) != 1) {
        cvma_errf(why, why_len, "--redis-cert '%s': no PEM certificate in it", cert);
        goto out;
    }
    /* the rest of the file: the chain up to (not always including) the root */
    for (int i = 1; i < sk_X509_num(chain); i++) {
        if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)) != 1) {
            cvma_errf(why, why_len, "out of memory");
            goto out;
        }
    }
    if ((pk = cvma_pem_private_key(kb.p, kb.len)) == NULL || SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        cvma_errf(why, why_len,
                  "--redis-key '%s': not an unencrypted PEM private key that matches "
                  "--redis-cert",
                  key);
        goto out;
    }
    ok = true;
out:
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(pk);
    cvma_buf_free(&cb);
    cvma_buf_free_secret(&kb);
    ERR_clear_error();
    return ok;
}

/* The client side of rediss://: TLS 1.2 or later, the server's chain verified (ca_file, else
 * the system's store), a client certificate when given. NULL with err. */
static SSL_CTX *tls_context(const struct cvma_redis_opts *o, char *err, size_t err_len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    const char *ca = o != NULL ? o->ca_file : NULL;
    const char *cert = o != NULL ? o->cert_file : NULL, *key = o != NULL ? o->key_file : NULL;
    char why[200];
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        cvma_errf(err, err_len, "out of memory");
        goto fail;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (ca != NULL && !load_ca(SSL_CTX_get_cert_store(ctx), ca, why, sizeof why)) {
        cvma_errf(err, err_len, "--redis-ca '%s': %s", ca, why);
        goto fail;
    }
    if (ca == NULL && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        cvma_errf(err, err_len, "rediss://: the system's CA store cannot be read (--redis-ca)");
        goto fail;
    }
    if (cert != NULL && !load_client(ctx, cert, key, err, err_len)) {
        goto fail;
    }
    ERR_clear_error();
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

struct cvma_redis_pool *cvma_redis_pool_new(const char *url, const struct cvma_redis_opts *o,
                                            char *err, size_t err_len)
{
    struct cvma_redis_pool *p = calloc(1, sizeof *p);
    bool tls = false;
    const char *password = o != NULL ? o->password : NULL;
    if (p == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return NULL;
    }
    if (!cvma_redis_url_parse(url, p->host, &p->port, &p->db, p->user, &tls, err, err_len)) {
        free(p);
        return NULL;
    }
    if (p->user[0] != '\0' && password == NULL) {
        cvma_errf(err, err_len,
                  "--redis names a user but no password is given (--redis-password-file)");
        free(p);
        return NULL;
    }
    if (o != NULL && (o->ca_file != NULL || o->cert_file != NULL || o->key_file != NULL)) {
        if (!tls) {
            cvma_errf(err, err_len,
                      "--redis-ca, --redis-cert and --redis-key are for TLS: the URL must be "
                      "rediss://");
            free(p);
            return NULL;
        }
        if ((o->cert_file == NULL) != (o->key_file == NULL)) {
            cvma_errf(err, err_len, "--redis-cert and --redis-key go together");
            free(p);
            return NULL;
        }
    }
    if (tls && (p->tls = tls_context(o, err, err_len)) == NULL) {
        free(p);
        return NULL;
    }
    if (password != NULL && (p->password = strdup(password)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        SSL_CTX_free(p->tls);
        free(p);
        return NULL;
    }
    /* an IPv6 address in brackets, as in the URL, so its port reads apart from it */
    bool v6 = strchr(p->host, ':') != NULL;
    snprintf(p->name, sizeof p->name, "%s%s%s:%d", v6 ? "[" : "", p->host, v6 ? "]" : "", p->port);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

static void conn_free(struct cvma_redis_conn *c)
{
    if (c == NULL) {
        return;
    }
    if (c->ssl != NULL) {
        /* No close_notify: the socket is closed at once, and Redis reads that as the end. */
        SSL_free(c->ssl);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    if (c->reader != NULL) {
        redisReaderFree(c->reader);
    }
    free(c);
}

void cvma_redis_pool_free(struct cvma_redis_pool *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n_idle; i++) {
        conn_free(p->idle[i]);
    }
    SSL_CTX_free(p->tls);
    cvma_str_free_secret(p->password);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const char *cvma_redis_pool_name(const struct cvma_redis_pool *p)
{
    return p->name;
}

static void set_note(struct cvma_redis_pool *p, char *note, size_t note_len, const char *why)
{
    pthread_mutex_lock(&p->lock);
    snprintf(note, note_len, "%s", why);
    pthread_mutex_unlock(&p->lock);
}

static void set_refused(struct cvma_redis_pool *p, const char *why)
{
    set_note(p, p->auth_refused, sizeof p->auth_refused, why);
}

static bool get_note(struct cvma_redis_pool *p, const char *note, char *why, size_t why_len)
{
    pthread_mutex_lock(&p->lock);
    bool set = note[0] != '\0';
    snprintf(why, why_len, "%s", note);
    pthread_mutex_unlock(&p->lock);
    return set;
}

bool cvma_redis_pool_auth_refused(struct cvma_redis_pool *p, char *why, size_t why_len)
{
    return get_note(p, p->auth_refused, why, why_len);
}

bool cvma_redis_pool_tls_failed(struct cvma_redis_pool *p, char *why, size_t why_len)
{
    return get_note(p, p->tls_failed, why, why_len);
}

void cvma_redis_pool_note_reply(struct cvma_redis_pool *p, const struct redisReply *r)
{
    if (r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL &&
        (strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "NOPERM", 6) == 0)) {
        set_refused(p, r->str);
    }
}

/* --- one connection's I/O: non-blocking, every wait a poll against the operation's deadline */

/* After a failed SSL call: an alert from Redis or another TLS error (with TLS 1.3 a client
 * certificate it refuses, or none when it wants one, is said only after the handshake, at
 * the first exchange) is noted as the handshake's failure would be; a time-out or the end of
 * the connection is not (an outage, not a configuration to correct). */
static void note_tls_error(struct cvma_redis_conn *c)
{
    unsigned long e = ERR_peek_last_error();
    if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL) {
        char es[160], why[sizeof c->pool->tls_failed];
        ERR_error_string_n(e, es, sizeof es);
        snprintf(why, sizeof why, "TLS with %s failed: %s", c->pool->name, es);
        set_note(c->pool, c->pool->tls_failed, sizeof c->pool->tls_failed, why);
    }
    ERR_clear_error();
}

/* True, c broken and timed_out, when the deadline has passed: checked before every read and
 * write too, not only when one would wait, so a peer that sends (or takes) bytes as fast as
 * they go holds no worker past it either. */
static bool past(struct cvma_redis_conn *c, int64_t deadline)
{
    if (cvma_monotonic_ms() < deadline) {
        return false;
    }
    c->broken = c->timed_out = true;
    return true;
}

/*
 * Waits until c's socket is ready for events, or the deadline (monotonic ms) passes: then
 * false, c broken and timed_out. Every operation on a connection (its connect and handshake,
 * a command's send, a reply) has one deadline for all its reads and writes, so a peer that
 * trickles bytes cannot hold a worker longer than it.
 */
static bool wait_ready(struct cvma_redis_conn *c, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - cvma_monotonic_ms();
        if (left <= 0) {
            c->broken = c->timed_out = true;
            return false;
        }
        struct pollfd pfd = {.fd = c->fd, .events = events};
        int n = poll(&pfd, 1, (int)left); /* (a deadline is REDIS_TIMEOUT_MS away at most) */
        if (n > 0) {
            return true; /* readable, writable, or an error or hang-up the call will see */
        }
        if (n < 0 && errno != EINTR) {
            c->broken = true;
            return false;
        }
    }
}

/* After an SSL call failed with ret: true when it only wants the socket ready (waited for);
 * else c is broken (the error noted when it is TLS's). */
static bool ssl_retry(struct cvma_redis_conn *c, int ret, int64_t deadline)
{
    int e = SSL_get_error(c->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return wait_ready(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
    }
    note_tls_error(c);
    c->broken = true;
    return false;
}

/* Writes all of m within REDIS_TIMEOUT_MS, or breaks c. */
static bool conn_write(struct cvma_redis_conn *c, const char *m, size_t len)
{
    const int64_t deadline = cvma_monotonic_ms() + REDIS_TIMEOUT_MS;
    for (size_t off = 0; !c->broken && off < len && !past(c, deadline);) {
        if (c->ssl != NULL) {
            size_t w = 0;
            int ret = SSL_write_ex(c->ssl, m + off, len - off, &w);
            if (ret == 1) {
                off += w;
            } else {
                (void)ssl_retry(c, ret, deadline);
            }
            continue;
        }
        ssize_t w = send(c->fd, m + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            (void)wait_ready(c, POLLOUT, deadline);
        } else if (!(w < 0 && errno == EINTR)) {
            c->broken = true;
        }
    }
    return !c->broken;
}

/* Reads what is there (at least a byte) into the reader before the deadline, or breaks c. */
static bool conn_fill(struct cvma_redis_conn *c, int64_t deadline)
{
    char buf[16384];
    while (!c->broken && !past(c, deadline)) {
        size_t n = 0;
        if (c->ssl != NULL) {
            int ret = SSL_read_ex(c->ssl, buf, sizeof buf, &n);
            if (ret != 1) {
                (void)ssl_retry(c, ret, deadline); /* (the end of the stream: broken) */
                continue;
            }
        } else {
            ssize_t r = recv(c->fd, buf, sizeof buf, 0);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                (void)wait_ready(c, POLLIN, deadline);
                continue;
            }
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                c->broken = true; /* the end of the connection, or an error */
                break;
            }
            n = (size_t)r;
        }
        /* No reply is longer than the largest value a verifier writes: a peer that sends more
         * breaks the connection before it can fill the worker's memory. Every byte counts,
         * parsed or not: hiredis 0.14 has no limit of its own and drops the input it parsed,
         * keeping what it built from it (an array's elements, each far larger than its
         * bytes). */
        if (REDIS_REPLY_MAX - c->reply_bytes < n ||
            redisReaderFeed(c->reader, buf, n) != REDIS_OK) {
            c->broken = true;
            break;
        }
        c->reply_bytes += n;
        break;
    }
    return !c->broken;
}

redisReply *cvma_redis_reply(struct cvma_redis_conn *c)
{
    const int64_t deadline = cvma_monotonic_ms() + REDIS_TIMEOUT_MS;
    void *reply = NULL;
    /* (a reply starts where the last one ended: a broken connection reads none again) */
    c->reply_bytes = c->reader->len - c->reader->pos;
    c->reply_values = 1;
    if (c->reply_bytes > REDIS_REPLY_MAX) {
        c->broken = true;
    }
    while (!c->broken) {
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            /* a malformed reply (the stream is out of step), or one of too many values */
            c->broken = true;
            break;
        }
        if (reply != NULL) {
            return reply;
        }
        (void)conn_fill(c, deadline);
    }
    return NULL;
}

static bool conn_vsend(struct cvma_redis_conn *c, const char *fmt, va_list ap)
{
    char *cmd = NULL;
    int len = redisvFormatCommand(&cmd, fmt, ap);
    if (len < 0 || cmd == NULL) {
        c->broken = true;
        return false;
    }
    bool ok = conn_write(c, cmd, (size_t)len);
    redisFreeCommand(cmd);
    return ok;
}

bool cvma_redis_send(struct cvma_redis_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = conn_vsend(c, fmt, ap);
    va_end(ap);
    return ok;
}

redisReply *cvma_redis_command(struct cvma_redis_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = conn_vsend(c, fmt, ap);
    va_end(ap);
    return ok ? cvma_redis_reply(c) : NULL;
}

void cvma_redis_conn_break(struct cvma_redis_conn *c)
{
    c->broken = true;
}

/* A non-blocking TCP connection to host:port made before the deadline (the name's look-up,
 * then each address it gives in turn, within what is left), or -1. */
static int tcp_connect(const char *host, int port, int64_t deadline)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    if (cvma_getaddrinfo_until(host, service, &hints, deadline, &res) != 0) {
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            int64_t left = deadline - cvma_monotonic_ms();
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            int n;
            while ((n = left > 0 ? poll(&pfd, 1, (int)left) : 0) < 0 && errno == EINTR) {
                left = deadline - cvma_monotonic_ms();
            }
            rc = n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0
                         ? 0
                         : -1;
        }
        int one = 1;
        if (rc != 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* The TLS handshake on c for p's host, before the deadline: the name (SNI, and the
 * certificate's DNS names, never its subject's CN) or the IP address it is. False, with why
 * noted in p->tls_failed unless it timed out or the connection ended. */
static bool tls_handshake(struct cvma_redis_pool *p, struct cvma_redis_conn *c, int64_t deadline)
{
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, p->host, ip) == 1 || inet_pton(AF_INET6, p->host, ip) == 1;
    char why[sizeof p->tls_failed];
    if ((c->ssl = SSL_new(p->tls)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
        (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), p->host) != 1
               : (SSL_set_tlsext_host_name(c->ssl, p->host) != 1 ||
                  SSL_set1_host(c->ssl, p->host) != 1))) {
        ERR_clear_error();
        c->broken = true;
        return false;
    }
    SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    for (;;) {
        int ret = SSL_connect(c->ssl);
        if (ret == 1) {
            set_note(p, p->tls_failed, sizeof p->tls_failed, "");
            return true;
        }
        long vr = SSL_get_verify_result(c->ssl);
        if (vr != X509_V_OK) {
            snprintf(why, sizeof why, "the certificate of %s does not verify: %s", p->name,
                     X509_verify_cert_error_string(vr));
            ERR_clear_error();
            set_note(p, p->tls_failed, sizeof p->tls_failed, why);
            c->broken = true;
            return false;
        }
        if (!ssl_retry(c, ret, deadline)) {
            return false; /* (noted by ssl_retry when TLS's own error) */
        }
    }
}

/*
 * With TLS 1.3 Redis judges the client's certificate (or its absence, under tls-auth-clients
 * yes) after the client's handshake is done: a refusal comes as an alert, or as the end of the
 * connection, at the first exchange. So a new TLS connection exchanges a PING first (any
 * reply counts, NOAUTH too); when the connection ends instead (not a time-out), that is noted
 * as the handshake's failure.
 */
static bool tls_accepted(struct cvma_redis_pool *p, struct cvma_redis_conn *c)
{
    redisReply *r = cvma_redis_command(c, "PING");
    if (r != NULL) {
        freeReplyObject(r);
        return true;
    }
    char why[sizeof p->tls_failed];
    if (!c->timed_out && !get_note(p, p->tls_failed, why, sizeof why)) {
        snprintf(why, sizeof why,
                 "TLS with %s failed: Redis ended the connection after the handshake, before "
                 "any reply (a client certificate it does not accept, or none when it wants "
                 "one: --redis-cert, --redis-key)",
                 p->name);
        set_note(p, p->tls_failed, sizeof p->tls_failed, why);
    }
    return false;
}

/*
 * AUTH [USER] PASSWORD sent on c from a buffer of ours wiped after: hiredis would format the
 * command into buffers of its own that it frees without wiping. False when it could not be
 * sent whole (within the time-out).
 */
static bool send_auth(const struct cvma_redis_pool *p, struct cvma_redis_conn *c)
{
    size_t ul = strlen(p->user), pl = strlen(p->password);
    /* "*3\r\n$4\r\nAUTH\r\n" (14), two "$<length>\r\n" (at most 23 each), the two values and
     * their "\r\n" */
    size_t cap = 14 + 2 * 23 + ul + 2 + pl + 2 + 1;
    char *m = malloc(cap);
    if (m == NULL) {
        return false;
    }
    int n = ul > 0 ? snprintf(m, cap, "*3\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n$%zu\r\n", ul, p->user, pl)
                   : snprintf(m, cap, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n", pl);
    bool ok = n > 0 && (size_t)n + pl + 2 < cap;
    if (ok) {
        memcpy(m + n, p->password, pl);
        memcpy(m + (size_t)n + pl, "\r\n", 2);
        ok = conn_write(c, m, (size_t)n + pl + 2);
    }
    OPENSSL_cleanse(m, cap);
    free(m);
    return ok;
}

/* see redis_pool.h */
bool cvma_redis_passing_error(const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ERROR) {
        return false;
    }
    const char *e = r->str != NULL ? r->str : "";
    return strstr(e, "max number of clients reached") != NULL || strncmp(e, "BUSY", 4) == 0 ||
           strncmp(e, "LOADING", 7) == 0 || strncmp(e, "MASTERDOWN", 10) == 0;
}

/* AUTH [USER] PASSWORD on c; false when Redis does not answer OK (its words recorded unless
 * the error is a passing one). */
static bool authenticate(struct cvma_redis_pool *p, struct cvma_redis_conn *c)
{
    redisReply *r = send_auth(p, c) ? cvma_redis_reply(c) : NULL;
    bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
    if (r != NULL && r->type == REDIS_REPLY_ERROR && !cvma_redis_passing_error(r)) {
        /* Redis's own words (WRONGPASS, or ERR when it has no password set): never the
         * password, which Redis does not repeat. */
        set_refused(p, r->str != NULL ? r->str : "AUTH refused");
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    return ok;
}

/*
 * hiredis's createArray for c's reader (task->privdata is c): NULL, which hiredis takes for an
 * error (the reply so far is freed, the reader is done), when the array's elements would take
 * the reply past REDIS_REPLY_VALUES_MAX. Checked on the array's header, before hiredis
 * allocates a pointer for each element it announces (up to 2^31 of them).
 */
static void *create_array(const redisReadTask *task, int elements)
{
    struct cvma_redis_conn *c = task->privdata;
    c->reply_values += elements > 0 ? elements : 0;
    if (c->reply_values > REDIS_REPLY_VALUES_MAX) {
        return NULL;
    }
    return c->create_array(task, elements);
}

/* c's reader: hiredis's, its arrays bounded (create_array); false when out of memory. */
static bool reader_new(struct cvma_redis_conn *c)
{
    if ((c->reader = redisReaderCreate()) == NULL || c->reader->fn == NULL ||
        c->reader->fn->createArray == NULL) {
        return false;
    }
    c->fn = *c->reader->fn;
    c->create_array = c->fn.createArray;
    c->fn.createArray = create_array;
    c->reader->fn = &c->fn;
    c->reader->privdata = c;
    return true;
}

/* A new connection to host:port (TLS for rediss://; connect and handshake within
 * REDIS_TIMEOUT_MS), authenticated when the pool has a password, that selects database db
 * when it is not 0, or NULL. */
static struct cvma_redis_conn *connect_db(struct cvma_redis_pool *p)
{
    struct cvma_redis_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    const int64_t deadline = cvma_monotonic_ms() + REDIS_TIMEOUT_MS;
    c->fd = -1;
    c->pool = p;
    if (!reader_new(c) || (c->fd = tcp_connect(p->host, p->port, deadline)) < 0 ||
        (p->tls != NULL && (!tls_handshake(p, c, deadline) || !tls_accepted(p, c)))) {
        conn_free(c);
        return NULL;
    }
    if (p->password != NULL) {
        if (!authenticate(p, c)) {
            conn_free(c);
            return NULL;
        }
        set_refused(p, "");
    }
    if (p->db != 0) {
        redisReply *r = cvma_redis_command(c, "SELECT %d", p->db);
        bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
        if (r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL &&
            !cvma_redis_passing_error(r) && strncmp(r->str, "NOAUTH", 6) != 0 &&
            strncmp(r->str, "NOPERM", 6) != 0) {
            /* Redis answers, but not with this database ("ERR DB index is out of range": the
             * URL's /DB is not below its `databases`; a cluster, which has database 0 only;
             * SELECT renamed away): a configuration to correct, not an outage to wait out, so
             * noted as a refusal is, with Redis's words. NOAUTH and NOPERM are noted as any
             * reply is (cvma_redis_pool_note_reply); a passing error leaves "does not answer
             * yet". */
            char why[sizeof p->auth_refused];
            snprintf(why, sizeof why, "SELECT %d: %s", p->db, r->str);
            set_refused(p, why);
        } else {
            cvma_redis_pool_note_reply(p, r);
        }
        if (r != NULL) {
            freeReplyObject(r);
        }
        if (!ok) {
            conn_free(c);
            return NULL;
        }
    }
    return c;
}

/* True when c's reader holds bytes of no reply yet read: a reply beyond the one expected. */
static bool unread(const struct cvma_redis_conn *c)
{
    return c->reader->len > c->reader->pos;
}

/*
 * An idle connection has nothing to read: readable (or hung up) means Redis closed it (a
 * restart, its idle time-out), or, over TLS, sent a record that is not data (a TLS 1.3
 * session ticket or key update), which is read here without waiting (the socket does not
 * block). True when c may carry a command.
 */
static bool idle_usable(struct cvma_redis_conn *c)
{
    if (c->ssl != NULL && SSL_pending(c->ssl) > 0) { /* (never pooled with unread bytes) */
        return false;
    }
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) == 0) {
        return true;
    }
    if (c->ssl == NULL || (pfd.revents & (POLLHUP | POLLERR)) != 0) {
        return false;
    }
    char b;
    size_t n = 0;
    ERR_clear_error();
    int ret = SSL_peek_ex(c->ssl, &b, 1, &n);
    bool usable = ret != 1 && SSL_get_error(c->ssl, ret) == SSL_ERROR_WANT_READ;
    ERR_clear_error();
    return usable;
}

struct cvma_redis_conn *cvma_redis_take(struct cvma_redis_pool *p)
{
    for (;;) {
        struct cvma_redis_conn *c = NULL;
        pthread_mutex_lock(&p->lock);
        if (p->n_idle > 0) {
            c = p->idle[--p->n_idle];
        }
        pthread_mutex_unlock(&p->lock);
        if (c == NULL) {
            return connect_db(p);
        }
        /* Dropped before a command goes out on it; a command already sent is never sent
         * again (a SET NX that did reach Redis would then read as a replay). */
        if (idle_usable(c)) {
            return c;
        }
        conn_free(c);
    }
}

void cvma_redis_give(struct cvma_redis_pool *p, struct cvma_redis_conn *c, bool in_step)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    if (in_step && !c->broken && !unread(c) && p->n_idle < CVMA_REDIS_POOL_IDLE) {
        p->idle[p->n_idle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    conn_free(c);
}
