/* Connections to the service's Redis (see server/redis_pool.h). */
#include "server/redis_pool.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "common/util.h"

struct cvma_redis_pool {
    pthread_mutex_t lock;
    char host[CVMA_REDIS_HOST_MAX];
    int port, db;
    char user[CVMA_REDIS_USER_MAX]; /* "": AUTH with the password alone */
    char *password;                 /* NULL: no AUTH */
    char name[CVMA_REDIS_HOST_MAX + 8];
    redisContext *idle[CVMA_REDIS_POOL_IDLE]; /* under lock */
    size_t n_idle;
    char auth_refused[160]; /* under lock: Redis's words when the last connection was refused */
};

bool cvma_redis_url_parse(const char *url, char host[CVMA_REDIS_HOST_MAX], int *port, int *db,
                          char user[CVMA_REDIS_USER_MAX], char *err, size_t err_len)
{
    const char *p = url;
    if (strncmp(p, "rediss://", 9) == 0) {
        cvma_errf(err, err_len,
                  "--redis: TLS (rediss://) is not supported; keep Redis reachable by the "
                  "instances only (docs/operations.md)");
        return false;
    }
    if (strncmp(p, "redis://", 8) != 0) {
        cvma_errf(err, err_len, "--redis wants redis://HOST[:PORT][/DB], not '%s'", url);
        return false;
    }
    p += 8;
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
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= (size_t)CVMA_REDIS_HOST_MAX) {
        cvma_errf(err, err_len, "--redis '%s': no host", url);
        return false;
    }
    memcpy(host, p, hl);
    host[hl] = '\0';
    p += hl;
    *port = 6379;
    *db = 0;
    char *end = NULL;
    if (*p == ':') {
        errno = 0;
        long v = strtol(p + 1, &end, 10);
        if (errno != 0 || end == p + 1 || v < 1 || v > 65535) {
            cvma_errf(err, err_len, "--redis '%s': bad port", url);
            return false;
        }
        *port = (int)v;
        p = end;
    }
    if (*p == '/' && p[1] != '\0') {
        errno = 0;
        long v = strtol(p + 1, &end, 10);
        if (errno != 0 || end == p + 1 || *end != '\0' || v < 0 || v > 1000) {
            cvma_errf(err, err_len, "--redis '%s': bad database number", url);
            return false;
        }
        *db = (int)v;
        p = end;
    } else if (*p == '/') {
        p++;
    }
    if (*p != '\0') {
        cvma_errf(err, err_len, "--redis '%s': trailing characters", url);
        return false;
    }
    return true;
}

struct cvma_redis_pool *cvma_redis_pool_new(const char *url, const char *password, char *err,
                                            size_t err_len)
{
    struct cvma_redis_pool *p = calloc(1, sizeof *p);
    if (p == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return NULL;
    }
    if (!cvma_redis_url_parse(url, p->host, &p->port, &p->db, p->user, err, err_len)) {
        free(p);
        return NULL;
    }
    if (p->user[0] != '\0' && password == NULL) {
        cvma_errf(err, err_len,
                  "--redis names a user but no password is given (--redis-password-file)");
        free(p);
        return NULL;
    }
    if (password != NULL && (p->password = strdup(password)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        free(p);
        return NULL;
    }
    snprintf(p->name, sizeof p->name, "%s:%d", p->host, p->port);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void cvma_redis_pool_free(struct cvma_redis_pool *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n_idle; i++) {
        redisFree(p->idle[i]);
    }
    cvma_str_free_secret(p->password);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const char *cvma_redis_pool_name(const struct cvma_redis_pool *p)
{
    return p->name;
}

static void set_refused(struct cvma_redis_pool *p, const char *why)
{
    pthread_mutex_lock(&p->lock);
    snprintf(p->auth_refused, sizeof p->auth_refused, "%s", why);
    pthread_mutex_unlock(&p->lock);
}

bool cvma_redis_pool_auth_refused(struct cvma_redis_pool *p, char *why, size_t why_len)
{
    pthread_mutex_lock(&p->lock);
    bool refused = p->auth_refused[0] != '\0';
    snprintf(why, why_len, "%s", p->auth_refused);
    pthread_mutex_unlock(&p->lock);
    return refused;
}

void cvma_redis_pool_note_reply(struct cvma_redis_pool *p, const struct redisReply *r)
{
    if (r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL &&
        (strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "NOPERM", 6) == 0)) {
        set_refused(p, r->str);
    }
}

/*
 * AUTH [USER] PASSWORD written to c's socket as RESP by us, from a buffer wiped after: hiredis
 * would format the command into buffers of its own that it frees without wiping. False when
 * it could not be sent whole (within the socket's time-out).
 */
static bool send_auth(const struct cvma_redis_pool *p, redisContext *c)
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
    size_t len = 0;
    if (ok) {
        memcpy(m + n, p->password, pl);
        memcpy(m + (size_t)n + pl, "\r\n", 2);
        len = (size_t)n + pl + 2;
    }
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = send(c->fd, m + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    OPENSSL_cleanse(m, cap);
    free(m);
    return ok;
}

/* AUTH [USER] PASSWORD on c; false when Redis does not answer OK (its words recorded). */
static bool authenticate(struct cvma_redis_pool *p, redisContext *c)
{
    void *reply = NULL;
    if (!send_auth(p, c) || redisGetReply(c, &reply) != REDIS_OK) {
        if (reply != NULL) {
            freeReplyObject(reply);
        }
        return false;
    }
    redisReply *r = reply;
    bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        /* Redis's own words (WRONGPASS, or ERR when it has no password set): never the
         * password, which Redis does not repeat. */
        set_refused(p, r->str != NULL ? r->str : "AUTH refused");
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    return ok;
}

/* A new connection to host:port (2 s time-outs), authenticated when the pool has a password,
 * that selects database db when it is not 0, or NULL. */
static redisContext *connect_db(struct cvma_redis_pool *p)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout(p->host, p->port, tv);
    if (c == NULL || c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK) {
        if (c != NULL) {
            redisFree(c);
        }
        return NULL;
    }
    if (p->password != NULL) {
        if (!authenticate(p, c)) {
            redisFree(c);
            return NULL;
        }
        set_refused(p, "");
    }
    if (p->db != 0) {
        redisReply *r = redisCommand(c, "SELECT %d", p->db);
        bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
        cvma_redis_pool_note_reply(p, r);
        if (r != NULL) {
            freeReplyObject(r);
        }
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

struct redisContext *cvma_redis_take(struct cvma_redis_pool *p)
{
    for (;;) {
        redisContext *c = NULL;
        pthread_mutex_lock(&p->lock);
        if (p->n_idle > 0) {
            c = p->idle[--p->n_idle];
        }
        pthread_mutex_unlock(&p->lock);
        if (c == NULL) {
            return connect_db(p);
        }
        /* An idle connection has nothing to read: readable or hung up means Redis closed it
         * (a restart, its idle timeout). Dropped before a command goes out on it; a command
         * already sent is never sent again (a SET NX that did reach Redis would then read as
         * a replay). */
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (poll(&pfd, 1, 0) == 0) {
            return c;
        }
        redisFree(c);
    }
}

void cvma_redis_give(struct cvma_redis_pool *p, struct redisContext *c, bool in_step)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    if (in_step && c->err == 0 && p->n_idle < CVMA_REDIS_POOL_IDLE) {
        p->idle[p->n_idle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (c != NULL) {
        redisFree(c);
    }
}
