/*
 * libFuzzer target: what the service reads back from Redis (`serve --redis`), with a stand-in
 * Redis on the loopback that answers every connection with the input's bytes. The service's
 * own code is then what reads them: the connection's reads and its limits
 * (server/redis_pool.c), the shared state's answers (server/redis_store.c: the registry
 * rollback script's {answer, version}, a collateral value's GETRANGE, the claim script's
 * answer and its release) and the spent-nonce
 * store's (server/nonce.c: CONFIG GET of the eviction settings, SET NX, PING).
 *
 * Input: a flags byte (1: AUTH with a password first, 2: SELECT database 3 first, 4: on the
 * first connection, after the script, the rest is sent again and again until the client hangs
 * up), a big-endian u16 length and the script (what each connection is sent first), then the
 * rest. Each operation runs on a store of its own, so on a fresh connection that reads the
 * script from its start. (The repeat is for the first connection only: an operation may take
 * its whole 2 s deadline, and a few of them would pass libFuzzer's time-out.)
 *
 * Checked here:
 *  - each reply is read within its deadline (2 s) whatever the peer sends, also a peer that
 *    never stops sending (the repeat), and its memory stays bounded (libFuzzer's
 *    -rss_limit_mb): a reply is at most the largest value a verifier writes and a few objects
 *    (docs/service.md, "Several instances");
 *  - with neither AUTH nor SELECT nor the repeat, the collateral value and the registry answer
 *    are those of the script's first reply as hiredis reads it here on its own: a value is
 *    given back exactly when that reply is a string of 1..CVMA_SHARED_VALUE_MAX bytes, and then
 *    byte for byte; nil, "" or longer is a miss; anything else, or no whole reply, leaves the
 *    store unavailable. The registry answer is OK, OLDER or CONFLICT exactly when the reply is
 *    an array of an integer 0, 1 or 2 and a string or integer (the version seen: the string's
 *    number, when the string is decimal digits only and at most 2^53-1; another string is a
 *    malformed record, unavailable, seen 0), and unavailable otherwise. The claim on a download is
 * OK exactly when the reply is the integer 1, HELD when 0, and unavailable otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "collateral/fetch.h"
#include "fuzz_check.h"
#include "server/nonce.h"
#include "server/redis_pool.h"
#include "server/redis_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_AUTH = 1, F_SELECT = 2, F_REPEAT = 4 };

/* A reply's time limit: its deadline (2 s) and some slack. */
#define OP_MS_MAX 3500
/* How long a connection of the stand-in repeats the rest or waits for the client's end: longer
 * than OP_MS_MAX, so that a client that reads on past its deadline is caught. */
#define PEER_MS 6000

/* The stand-in Redis: one listening socket; a thread per connection sends it the script. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int port;
    unsigned active; /* connections not yet closed */
    const uint8_t *script, *rest;
    size_t script_len, rest_len;
    bool repeat; /* for the next connection accepted */
} peer = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL, NULL, 0, 0, false};

struct conn {
    int fd;
    uint8_t *script, *rest;
    size_t script_len, rest_len;
    bool repeat;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void *serve_conn(void *arg)
{
    struct conn *c = arg;
    struct timeval tv = {PEER_MS / 1000, 0};
    char buf[4096];

    (void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    bool ok = send_all(c->fd, c->script, c->script_len);
    for (long long end = now_ms() + PEER_MS;
         ok && c->repeat && c->rest_len > 0 && now_ms() < end;) {
        ok = send_all(c->fd, c->rest, c->rest_len);
    }
    /* The end of what it sends; then what the client sends is read until it hangs up (a close
     * with unread bytes would reset the connection and lose the script's end). */
    (void)shutdown(c->fd, SHUT_WR);
    for (long long end = now_ms() + PEER_MS; now_ms() < end;) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EINTR)) {
            break;
        }
    }
    close(c->fd);
    free(c->script);
    free(c->rest);
    free(c);
    pthread_mutex_lock(&peer.lock);
    peer.active--;
    pthread_cond_broadcast(&peer.idle);
    pthread_mutex_unlock(&peer.lock);
    return NULL;
}

static void *accept_loop(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        struct conn *c = calloc(1, sizeof *c);
        pthread_t t;
        pthread_attr_t a;
        CHECK(c != NULL);
        pthread_mutex_lock(&peer.lock);
        c->fd = fd;
        c->script_len = peer.script_len;
        c->rest_len = peer.rest_len;
        c->repeat = peer.repeat;
        peer.repeat = false;
        CHECK((c->script = malloc(c->script_len + 1)) != NULL);
        CHECK((c->rest = malloc(c->rest_len + 1)) != NULL);
        memcpy(c->script, peer.script, c->script_len);
        memcpy(c->rest, peer.rest, c->rest_len);
        peer.active++;
        pthread_mutex_unlock(&peer.lock);
        CHECK(pthread_attr_init(&a) == 0 &&
              pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0 &&
              pthread_create(&t, &a, serve_conn, c) == 0);
        pthread_attr_destroy(&a);
    }
    return NULL;
}

static void peer_start(void)
{
    static int lfd = -1;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    pthread_t t;

    if (lfd >= 0) {
        return;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(lfd, 64) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
    peer.port = ntohs(sa.sin_port);
    CHECK(pthread_create(&t, NULL, accept_loop, &lfd) == 0);
    CHECK(pthread_detach(t) == 0);
}

/* Waits until every connection of this input is closed, so that none serves the next one. */
static void peer_wait_idle(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 3 * PEER_MS / 1000;
    pthread_mutex_lock(&peer.lock);
    while (peer.active > 0) {
        CHECK(pthread_cond_timedwait(&peer.idle, &peer.lock, &until) == 0);
    }
    pthread_mutex_unlock(&peer.lock);
}

/* The script's first reply as hiredis reads it alone, or NULL when there is none whole or it
 * is malformed. */
static redisReply *first_reply(const uint8_t *p, size_t n)
{
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    CHECK(rd != NULL);
    if (redisReaderFeed(rd, (const char *)p, n) != REDIS_OK ||
        redisReaderGetReply(rd, &reply) != REDIS_OK) {
        reply = NULL;
    }
    redisReaderFree(rd);
    return reply;
}

static void check_collateral(struct cvma_state_store *st, const redisReply *want)
{
    uint8_t *p = NULL;
    size_t len = 0;
    long long t0 = now_ms();
    enum cvma_store_answer a = st->collateral_get(st->arg, "amd-kds https://kds/vcek", &p, &len);
    CHECK(now_ms() - t0 < OP_MS_MAX);
    CHECK(a == CVMA_STORE_OK ? p != NULL && len > 0 : p == NULL && len == 0);
    if (want != NULL) {
        bool str = want->type == REDIS_REPLY_STRING;
        if (str && want->len >= 1 && want->len <= CVMA_SHARED_VALUE_MAX) {
            CHECK(a == CVMA_STORE_OK && len == want->len && memcmp(p, want->str, len) == 0);
        } else if (want->type == REDIS_REPLY_NIL || str) {
            CHECK(a == CVMA_STORE_MISS);
        } else {
            CHECK(a == CVMA_STORE_UNAVAILABLE);
        }
    }
    free(p);
}

/* The fleet's claim on a download (EVAL): OK exactly when the reply is the integer 1, HELD
 * when it is 0, unavailable otherwise; then given back (EVAL, its reply not looked at). */
static void check_claim(struct cvma_state_store *st, const redisReply *want)
{
    long long t0 = now_ms();
    enum cvma_store_answer a = st->collateral_claim(st->arg, "amd-kds https://kds/vcek", 30000);
    CHECK(now_ms() - t0 < OP_MS_MAX);
    CHECK(a == CVMA_STORE_OK || a == CVMA_STORE_HELD || a == CVMA_STORE_UNAVAILABLE);
    if (want != NULL) {
        bool integer = want->type == REDIS_REPLY_INTEGER;
        CHECK(a == (integer && want->integer == 1   ? CVMA_STORE_OK
                    : integer && want->integer == 0 ? CVMA_STORE_HELD
                                                    : CVMA_STORE_UNAVAILABLE));
    }
    t0 = now_ms();
    st->collateral_release(st->arg, "amd-kds https://kds/vcek");
    CHECK(now_ms() - t0 < OP_MS_MAX);
}

static void check_registry(struct cvma_state_store *st, const redisReply *want, bool know)
{
    static const uint8_t root[32] = {1, 2, 3};
    uint64_t seen = 7;
    char err[256];
    long long t0 = now_ms();
    enum cvma_store_answer a = st->registry_seen(st->arg, "acme", 12, root, &seen, err, sizeof err);
    CHECK(now_ms() - t0 < OP_MS_MAX);
    if (!know) {
        return;
    }
    bool in_step = want != NULL && want->type == REDIS_REPLY_ARRAY && want->elements == 2 &&
                   want->element[0]->type == REDIS_REPLY_INTEGER &&
                   (want->element[1]->type == REDIS_REPLY_STRING ||
                    want->element[1]->type == REDIS_REPLY_INTEGER);
    long long code = in_step ? want->element[0]->integer : -1;
    /* The recorded version, read here as the rule says: a string of decimal digits only, in
     * a registry's range 0..2^53-1, else a malformed record (answer 3), seen 0. */
    uint64_t ver = 0;
    if (in_step && want->element[1]->type == REDIS_REPLY_STRING) {
        const redisReply *v = want->element[1];
        bool digits = v->len > 0;
        long double x = 0;
        for (size_t i = 0; digits && i < v->len; i++) {
            digits = v->str[i] >= '0' && v->str[i] <= '9';
            x = x * 10 + (v->str[i] - '0');
        }
        if (digits && x <= 9007199254740991.0L) {
            for (size_t i = 0; i < v->len; i++) {
                ver = ver * 10 + (uint64_t)(v->str[i] - '0');
            }
        } else {
            code = 3;
        }
    }
    CHECK(a == (code == 0   ? CVMA_STORE_OK
                : code == 1 ? CVMA_STORE_OLDER
                : code == 2 ? CVMA_STORE_CONFLICT
                            : CVMA_STORE_UNAVAILABLE));
    if (in_step) {
        CHECK(seen == ver);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char url[96], err[256];
    struct cvma_redis_opts o = {.password = "fuzz-password"};
    struct cvma_state_store st;

    if (size < 3) {
        return 0;
    }
    uint8_t flags = data[0];
    size_t slen = (size_t)data[1] << 8 | data[2];
    data += 3;
    size -= 3;
    if (slen > size) {
        slen = size;
    }
    peer_start();
    pthread_mutex_lock(&peer.lock);
    peer.script = data;
    peer.script_len = slen;
    peer.rest = data + slen;
    peer.rest_len = size - slen;
    peer.repeat = (flags & F_REPEAT) != 0;
    pthread_mutex_unlock(&peer.lock);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d%s", peer.port, flags & F_SELECT ? "/3" : "");
    const struct cvma_redis_opts *opts = flags & F_AUTH ? &o : NULL;
    /* The first reply decides the answers only when nothing is asked before the command. */
    bool know = (flags & (F_AUTH | F_SELECT | F_REPEAT)) == 0;
    redisReply *want = know ? first_reply(data, slen) : NULL;

    /* The shared collateral cache: GETRANGE. */
    struct cvma_redis_store *rs = cvma_redis_store_new(url, opts, err, sizeof err);
    CHECK(rs != NULL);
    cvma_redis_store_iface(rs, &st);
    check_collateral(&st, know ? want : NULL);
    cvma_redis_store_free(rs);

    /* The registry rollback state: EVAL. */
    CHECK((rs = cvma_redis_store_new(url, opts, err, sizeof err)) != NULL);
    cvma_redis_store_iface(rs, &st);
    check_registry(&st, want, know);
    /* A second operation on the same store: a connection given back to the pool is reused. */
    check_collateral(&st, NULL);
    cvma_redis_store_free(rs);

    /* The fleet's claim on a download: EVAL, then its release. */
    CHECK((rs = cvma_redis_store_new(url, opts, err, sizeof err)) != NULL);
    cvma_redis_store_iface(rs, &st);
    check_claim(&st, know ? want : NULL);
    cvma_redis_store_free(rs);

    /* The spent-nonce store: CONFIG GET twice (asked here, so that the spend asks nothing more
     * and prints nothing), then SET NX when the answer was read, then PING. */
    struct cvma_spent *sp = cvma_spent_new(url, opts, err, sizeof err);
    struct cvma_spend_op op;
    CHECK(sp != NULL);
    long long t0 = now_ms();
    enum cvma_spent_eviction ev = cvma_spent_eviction(sp, err, sizeof err);
    CHECK(ev == CVMA_SPENT_KEEPS || ev == CVMA_SPENT_EVICTS || ev == CVMA_SPENT_UNKNOWN);
    if (ev != CVMA_SPENT_UNKNOWN) {
        time_t now = time(NULL);
        cvma_spent_begin(sp, "fuzz-nonce", now, now + 60, &op);
        enum cvma_spend sa = cvma_spent_end(&op);
        CHECK(sa == CVMA_SPEND_FIRST || sa == CVMA_SPEND_REPLAY || sa == CVMA_SPEND_UNAVAILABLE);
        /* A store that may evict keys is never trusted with a spend. */
        CHECK(ev == CVMA_SPENT_KEEPS || sa == CVMA_SPEND_UNAVAILABLE);
    }
    (void)cvma_spent_healthy(sp);
    (void)cvma_spent_auth_refused(sp, err, sizeof err);
    CHECK(now_ms() - t0 < 3 * OP_MS_MAX);
    cvma_spent_free(sp);

    if (want != NULL) {
        freeReplyObject(want);
    }
    peer_wait_idle();
    return 0;
}
