/* The service's pieces: nonces (HMAC-bound expiry, single use), tokens with exp, and the
 * Redis stores (spent nonces, shared state) against a redis-server started here. */
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "collateral/fetch.h"
#include "common/base64.h"
#include "common/hex.h"
#include "crypto/jws.h"
#include "result/ear.h"
#include "server/nonce.h"
#include "server/redis_pool.h"
#include "server/redis_store.h"
#include "testutil.h"

static const struct cvma_nonce_key key_a = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                            16};
static const struct cvma_nonce_key key_b = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17},
                                            16};

static void test_nonce_sizes(void **state)
{
    (void)state;
    static const size_t ok[] = {32, 48, 64};
    char s[128];
    uint8_t raw[CVMA_NONCE_MAX];
    size_t n;
    time_t exp;
    for (size_t i = 0; i < 3; i++) {
        assert_true(cvma_nonce_mint(&key_a, ok[i], 1000, 60, s, sizeof s));
        assert_null(strchr(s, '='));
        assert_int_equal(cvma_nonce_check(&key_a, s, 1000, raw, &n, &exp), CVMA_NONCE_OK);
        assert_int_equal(n, ok[i]);
        assert_int_equal(exp, 1060);
    }
    assert_false(cvma_nonce_mint(&key_a, 16, 1000, 60, s, sizeof s));
    assert_false(cvma_nonce_mint(&key_a, 33, 1000, 60, s, sizeof s));
    assert_false(cvma_nonce_size_ok(0));
}

/* Every bit of a nonce is covered: random part, expiry and MAC. */
static void test_nonce_every_bit_bound(void **state)
{
    (void)state;
    char s[128], t[128];
    uint8_t raw[CVMA_NONCE_MAX], b[CVMA_NONCE_MAX];
    size_t n, len;
    time_t exp;
    assert_true(cvma_nonce_mint(&key_a, 32, 1000, 60, s, sizeof s));
    assert_true(cvma_base64_decode(s, strlen(s), CVMA_B64_URL, b, sizeof b, &len));
    assert_int_equal(len, 32);
    for (size_t i = 0; i < len * 8; i++) {
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_true(cvma_base64_encode_to(b, len, CVMA_B64_URL, t, sizeof t));
        assert_int_equal(cvma_nonce_check(&key_a, t, 1000, raw, &n, &exp), CVMA_NONCE_FORGED);
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    /* another key; not base64url; a size never issued */
    assert_int_equal(cvma_nonce_check(&key_b, s, 1000, raw, &n, &exp), CVMA_NONCE_FORGED);
    assert_int_equal(cvma_nonce_check(&key_a, "not a nonce!", 1000, raw, &n, &exp),
                     CVMA_NONCE_MALFORMED);
    assert_true(cvma_base64_encode_to(b, 31, CVMA_B64_URL, t, sizeof t));
    assert_int_equal(cvma_nonce_check(&key_a, t, 1000, raw, &n, &exp), CVMA_NONCE_MALFORMED);
}

/*
 * The nonce's layout and MAC (docs/service.md) against OpenSSL's HMAC, an implementation other
 * than the one the service uses: a nonce built here, random || expiry || HMAC-SHA256(size ||
 * random || expiry) cut to half the size, is accepted with its expiry, for each size and a
 * 64-byte key; one minted by the service carries such a MAC.
 */
static void test_nonce_mac_is_hmac_sha256(void **state)
{
    (void)state;
    struct cvma_nonce_key k = {{0}, 64};
    for (size_t i = 0; i < 64; i++) {
        k.key[i] = (uint8_t)(0xa0 + i);
    }
    static const size_t sizes[] = {32, 48, 64};
    for (size_t z = 0; z < 3; z++) {
        size_t size = sizes[z], mac_len = size / 2, body = size - mac_len;
        uint8_t n[CVMA_NONCE_MAX], msg[CVMA_NONCE_MAX + 1], m[32], raw[CVMA_NONCE_MAX];
        unsigned int mlen = 0;
        char s[128];
        size_t got;
        time_t exp;
        for (size_t i = 0; i < body - 8; i++) {
            n[i] = (uint8_t)(i * 7 + z);
        }
        for (size_t i = 0; i < 8; i++) {
            n[body - 8 + i] = (uint8_t)((uint64_t)5000 >> (8 * (7 - i)));
        }
        msg[0] = (uint8_t)size;
        memcpy(msg + 1, n, body);
        assert_non_null(HMAC(EVP_sha256(), k.key, 64, msg, body + 1, m, &mlen));
        memcpy(n + body, m, mac_len);
        assert_true(cvma_base64_encode_to(n, size, CVMA_B64_URL, s, sizeof s));
        assert_int_equal(cvma_nonce_check(&k, s, 1000, raw, &got, &exp), CVMA_NONCE_OK);
        assert_int_equal(exp, 5000);
        assert_int_equal(got, size);

        /* and the other way round */
        assert_true(cvma_nonce_mint(&k, size, 1000, 60, s, sizeof s));
        assert_true(cvma_base64_decode(s, strlen(s), CVMA_B64_URL, n, sizeof n, &got));
        msg[0] = (uint8_t)size;
        memcpy(msg + 1, n, body);
        assert_non_null(HMAC(EVP_sha256(), k.key, 64, msg, body + 1, m, &mlen));
        assert_memory_equal(n + body, m, mac_len);
    }
}

static void test_nonce_expiry(void **state)
{
    (void)state;
    char s[128];
    uint8_t raw[CVMA_NONCE_MAX];
    size_t n;
    time_t exp;
    assert_true(cvma_nonce_mint(&key_a, 48, 1000, 60, s, sizeof s));
    assert_int_equal(cvma_nonce_check(&key_a, s, 1059, raw, &n, &exp), CVMA_NONCE_OK);
    assert_int_equal(cvma_nonce_check(&key_a, s, 1060, raw, &n, &exp), CVMA_NONCE_EXPIRED);
}

static void test_spent_memory(void **state)
{
    (void)state;
    char err[128];
    struct cvma_spent *sp = cvma_spent_new(NULL, NULL, err, sizeof err);
    assert_non_null(sp);
    assert_int_equal(cvma_spent_mark(sp, "n1", 1000, 1060), CVMA_SPEND_FIRST);
    assert_int_equal(cvma_spent_mark(sp, "n2", 1000, 1060), CVMA_SPEND_FIRST);
    assert_int_equal(cvma_spent_mark(sp, "n1", 1001, 1060), CVMA_SPEND_REPLAY);
    assert_int_equal(cvma_spent_mark(sp, "n2", 1059, 1060), CVMA_SPEND_REPLAY);
    /* forgotten once expired (the nonce itself is refused as expired by then) */
    assert_int_equal(cvma_spent_mark(sp, "n1", 1060, 1120), CVMA_SPEND_FIRST);
    assert_true(cvma_spent_healthy(sp));
    cvma_spent_free(sp);
}

/*
 * With a margin (the service's: the nonce TTL), a nonce spent just before its expiry is still
 * spent after it, for as long as the margin: another instance whose clock is behind (or this
 * one's, stepped back) takes the nonce for unexpired and must find it spent, whatever a sweep
 * at or after the expiry did meanwhile. Without the margin it was forgotten at its expiry.
 */
static void test_spent_memory_margin(void **state)
{
    (void)state;
    char err[128];
    struct cvma_spent *sp = cvma_spent_new(NULL, NULL, err, sizeof err);
    assert_non_null(sp);
    cvma_spent_set_margin(sp, 60);
    assert_int_equal(cvma_spent_mark(sp, "n1", 1059, 1060), CVMA_SPEND_FIRST);
    /* checks at and after the expiry (each purges what it takes for forgotten first) */
    assert_int_equal(cvma_spent_mark(sp, "n1", 1060, 1060), CVMA_SPEND_REPLAY);
    assert_int_equal(cvma_spent_mark(sp, "n1", 1061, 1060), CVMA_SPEND_REPLAY);
    assert_int_equal(cvma_spent_mark(sp, "n1", 1119, 1060), CVMA_SPEND_REPLAY);
    /* a clock stepped back after those: still spent */
    assert_int_equal(cvma_spent_mark(sp, "n1", 1059, 1060), CVMA_SPEND_REPLAY);
    /* forgotten only once the margin is past too */
    assert_int_equal(cvma_spent_mark(sp, "n1", 1120, 1180), CVMA_SPEND_FIRST);
    cvma_spent_free(sp);
}

/* The full store's sweep keeps what is within the margin: the store stays full (fail closed)
 * until the oldest are past their expiry and the margin. */
static void test_spent_memory_full_margin(void **state)
{
    (void)state;
    char err[128], name[32];
    struct cvma_spent *sp = cvma_spent_new(NULL, NULL, err, sizeof err);
    assert_non_null(sp);
    cvma_spent_set_margin(sp, 60);
    for (unsigned i = 0; i < CVMA_SPENT_MAX; i++) {
        snprintf(name, sizeof name, "n%u", i);
        assert_int_equal(cvma_spent_mark(sp, name, 1000, 1060), CVMA_SPEND_FIRST);
    }
    /* a sweep at the expiry and one within the margin forget none of them */
    assert_int_equal(cvma_spent_mark(sp, "one more", 1060, 1120), CVMA_SPEND_UNAVAILABLE);
    assert_int_equal(cvma_spent_mark(sp, "one more", 1119, 1180), CVMA_SPEND_UNAVAILABLE);
    assert_int_equal(cvma_spent_mark(sp, "n7", 1119, 1060), CVMA_SPEND_REPLAY);
    assert_int_equal(cvma_spent_mark(sp, "one more", 1120, 1180), CVMA_SPEND_FIRST);
    cvma_spent_free(sp);
}

/* Full: refused (fail closed), never forgetting an unexpired nonce; usable again once they
 * expire. */
static void test_spent_memory_full(void **state)
{
    (void)state;
    char err[128], name[32];
    struct cvma_spent *sp = cvma_spent_new(NULL, NULL, err, sizeof err);
    assert_non_null(sp);
    for (unsigned i = 0; i < CVMA_SPENT_MAX; i++) {
        snprintf(name, sizeof name, "n%u", i);
        assert_int_equal(cvma_spent_mark(sp, name, 1000, 1060), CVMA_SPEND_FIRST);
    }
    assert_int_equal(cvma_spent_mark(sp, "one more", 1001, 1060), CVMA_SPEND_UNAVAILABLE);
    assert_int_equal(cvma_spent_mark(sp, "n7", 1002, 1060), CVMA_SPEND_REPLAY);
    assert_int_equal(cvma_spent_mark(sp, "one more", 1060, 1120), CVMA_SPEND_FIRST);
    assert_int_equal(cvma_spent_mark(sp, "one more", 1061, 1120), CVMA_SPEND_REPLAY);
    cvma_spent_free(sp);
}

static void test_spent_redis_url(void **state)
{
    (void)state;
    char err[128];
    static const char *bad[] = {"http://x",        "redis://",      "redis://h:0",
                                "redis://h:99999", "redis://h:1/x", "redis://h/1/2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_null(cvma_spent_new(bad[i], NULL, err, sizeof err));
        assert_true(err[0] != '\0');
    }
    /* A user (an ACL user) wants a password; a password in the URL, an empty or malformed
     * user are refused whatever the password file says. */
    static const char *bad_auth[] = {"redis://u@h",     "redis://u:p@h", "redis://:p@h",
                                     "redis://@h",      "redis://u@v@h", "redis://a b@h",
                                     "redis://u/x@h:1", "rediss://u:p@h"};
    const struct cvma_redis_opts pw = {.password = "pw"};
    for (size_t i = 0; i < sizeof bad_auth / sizeof bad_auth[0]; i++) {
        err[0] = '\0';
        assert_null(cvma_spent_new(bad_auth[i], i == 0 ? NULL : &pw, err, sizeof err));
        assert_true(err[0] != '\0');
        assert_null(strstr(err, "pw")); /* nothing of a password is echoed */
    }
    /* A query or fragment, where other clients take a password (?password=), and a URL of
     * another scheme with userinfo: refused, nothing of the URL echoed. */
    static const char *bad_query[] = {"redis://h:6379/0?password=s3cretpw", "redis://h/0#s3cretpw",
                                      "rediss://h?s3cretpw", "http://u:s3cretpw@h",
                                      "redis//u:s3cretpw@h"};
    for (size_t i = 0; i < sizeof bad_query / sizeof bad_query[0]; i++) {
        err[0] = '\0';
        assert_null(cvma_spent_new(bad_query[i], NULL, err, sizeof err));
        assert_true(err[0] != '\0');
        assert_null(strstr(err, "s3cretpw"));
    }
    char host[CVMA_REDIS_HOST_MAX], user[CVMA_REDIS_USER_MAX];
    int port = 0, db = -1;
    bool tls = true;
    assert_true(cvma_redis_url_parse("redis://cvm.1@10.0.0.5:6380/2", host, &port, &db, user, &tls,
                                     err, sizeof err));
    assert_string_equal(host, "10.0.0.5");
    assert_string_equal(user, "cvm.1");
    assert_int_equal(port, 6380);
    assert_int_equal(db, 2);
    assert_false(tls);
    assert_true(cvma_redis_url_parse("redis://h", host, &port, &db, user, &tls, err, sizeof err));
    assert_string_equal(user, "");
    assert_true(cvma_redis_url_parse("rediss://h.example:6380/1", host, &port, &db, user, &tls, err,
                                     sizeof err));
    assert_true(tls);
    assert_string_equal(host, "h.example");
    assert_int_equal(port, 6380);
    /* TLS files: for rediss:// only, a certificate with its key, files that load */
    const struct cvma_redis_opts ca_only = {.ca_file = "/nonexistent/ca.pem"};
    assert_null(cvma_spent_new("redis://h", &ca_only, err, sizeof err));
    assert_non_null(strstr(err, "the URL must be rediss://"));
    assert_null(cvma_spent_new("rediss://h", &ca_only, err, sizeof err));
    assert_non_null(strstr(err, "--redis-ca '/nonexistent/ca.pem': "));
    const struct cvma_redis_opts cert_only = {.cert_file = "/nonexistent/c.pem"};
    assert_null(cvma_spent_new("rediss://h", &cert_only, err, sizeof err));
    assert_non_null(strstr(err, "--redis-cert and --redis-key go together"));
    struct cvma_spent *sp = cvma_spent_new("redis://127.0.0.1:1/3", NULL, err, sizeof err);
    assert_non_null(sp);
    /* nobody listens on port 1: unavailable, never "first" (fail closed) */
    assert_int_equal(cvma_spent_mark(sp, "n1", 1000, 1060), CVMA_SPEND_UNAVAILABLE);
    assert_false(cvma_spent_healthy(sp));
    cvma_spent_free(sp);
}

/* RFC 3986 3.2.2: an IPv6 address as the host is in brackets, which the host is kept without
 * (to connect to it, and for the TLS certificate's IP address check); the first ':' inside
 * them is not the port's. */
static void test_redis_url_takes_an_ipv6_literal_in_brackets(void **state)
{
    (void)state;
    char host[CVMA_REDIS_HOST_MAX], user[CVMA_REDIS_USER_MAX], err[300];
    int port = 0, db = -1;
    bool tls = true;
    assert_true(
            cvma_redis_url_parse("redis://[::1]", host, &port, &db, user, &tls, err, sizeof err));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 6379);
    assert_int_equal(db, 0);
    assert_false(tls);
    assert_true(cvma_redis_url_parse("redis://[::1]:6380", host, &port, &db, user, &tls, err,
                                     sizeof err));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 6380);
    assert_true(cvma_redis_url_parse("rediss://cvm@[2001:db8::7]:6390/3", host, &port, &db, user,
                                     &tls, err, sizeof err));
    assert_string_equal(host, "2001:db8::7");
    assert_string_equal(user, "cvm");
    assert_int_equal(port, 6390);
    assert_int_equal(db, 3);
    assert_true(tls);
    assert_true(cvma_redis_url_parse("redis://[::ffff:127.0.0.1]/", host, &port, &db, user, &tls,
                                     err, sizeof err));
    assert_string_equal(host, "::ffff:127.0.0.1");
    /* each refused with what is wrong, never "bad port" */
    static const struct {
        const char *url, *why;
    } bad[] = {
            {"redis://[::1", "a host in brackets is an IPv6 address"},
            {"redis://[]", "a host in brackets is an IPv6 address"},
            {"redis://[]:6379", "a host in brackets is an IPv6 address"},
            {"redis://[::1]x", "']' is followed by ':PORT', '/DB' or the end"},
            {"redis://[::1]6379", "']' is followed by ':PORT', '/DB' or the end"},
            {"redis://[localhost]", "in brackets is no IPv6 address"},
            {"redis://[127.0.0.1]", "in brackets is no IPv6 address"},
            {"redis://[v1.x]", "in brackets is no IPv6 address"},
            {"redis://[fe80::1%25lo]", "in brackets is no IPv6 address"},
            {"redis://[::1]:", "bad port"},
            {"redis://[::1]:0", "bad port"},
            {"redis://[::1]:6379x", "bad port"},
            {"redis://::1", "no host"},
            {"redis://::1:6379", "no host"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(
                cvma_redis_url_parse(bad[i].url, host, &port, &db, user, &tls, err, sizeof err));
        if (strstr(err, bad[i].why) == NULL) {
            fail_msg("%s: '%s', want '%s'", bad[i].url, err, bad[i].why);
        }
    }
    /* the pool's name, in messages, is the URL's form */
    struct cvma_redis_pool *p = cvma_redis_pool_new("redis://[::1]:6380/2", NULL, err, sizeof err);
    assert_non_null(p);
    assert_string_equal(cvma_redis_pool_name(p), "[::1]:6380");
    cvma_redis_pool_free(p);
}

/* ---- Redis: a redis-server of the test's own on an OS-picked port ---- */

struct tredis {
    pid_t pid;
    int port;
    char *dir;
    char url[64]; /* database 2, so that the pool's SELECT is exercised */
};

/* A connection of the test's own, or NULL when nothing answers PING within 2 s (a process
 * that took the port and never answers included: the connect's time-out alone would leave the
 * PING waiting forever). Later commands have no time-out. */
static redisContext *raw_conn(int port)
{
    struct timeval tv = {0, 200000}, ping = {2, 0}, none = {0, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r = c != NULL && c->err == 0 && redisSetTimeout(c, ping) == REDIS_OK
                            ? redisCommand(c, "PING")
                            : NULL;
    bool ok = r != NULL && r->type == REDIS_REPLY_STATUS && redisSetTimeout(c, none) == REDIS_OK;
    if (r != NULL) {
        freeReplyObject(r);
    }
    if (!ok && c != NULL) {
        redisFree(c);
        c = NULL;
    }
    return c;
}

/* redis-server on t->port, awaited until it answers: true. False when it exited because the
 * port was taken ("Address already in use" in its log, t->dir/redis.log): the port was free
 * when picked, but another process can take it before redis-server binds it. Any other exit,
 * or no answer in 10 s, fails the test. */
static bool redis_try(struct tredis *t)
{
    char port[16];
    char *log = tu_path(t->dir, "redis.log");
    snprintf(port, sizeof port, "%d", t->port);
    t->pid = fork();
    assert_true(t->pid >= 0);
    if (t->pid == 0) {
        /* gone with the test, even when it dies; its log not on the test's output */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || freopen(log, "w", stdout) == NULL ||
            dup2(fileno(stdout), STDERR_FILENO) < 0) {
            _exit(126);
        }
        execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "",
               "--appendonly", "no", "--dir", t->dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        redisContext *c = raw_conn(t->port);
        if (c != NULL) {
            redisFree(c);
            free(log);
            return true;
        }
        int st = 0;
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            struct cvma_buf b = {0};
            t->pid = 0;
            tu_read(log, &b);
            char *text = tu_strndup(b.p, b.len);
            bool taken = strstr(text, "Address already in use") != NULL;
            if (!taken) {
                fail_msg("redis-server did not start (exit %d; make deps installs it): %s",
                         WIFEXITED(st) ? WEXITSTATUS(st) : -1, text);
            }
            free(text);
            cvma_buf_free(&b);
            free(log);
            return false;
        }
        usleep(100000);
    }
    fail_msg("redis-server did not answer on port %d", t->port);
    return false;
}

/* redis-server started again on its port, which the code under test is given: no other can
 * be tried. Another process could take it in the moment it was free: the test then stops,
 * saying so. */
static void redis_start(struct tredis *t)
{
    if (!redis_try(t)) {
        fail_msg("redis-server could not start again on port %d: another process took it in the "
                 "moment it was free (no fault of the code under test)",
                 t->port);
    }
}

static void redis_stop(struct tredis *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
    }
}

/* Stopped and started again on the same port, empty (no persistence). */
static void redis_restart(struct tredis *t)
{
    redis_stop(t);
    redis_start(t);
}

static int redis_setup(void **state)
{
    struct tredis *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->dir = tu_tmpdir();
    *state = t;
    /* a port free when picked, taken before redis-server bound it: another (3 in all) */
    for (int try = 0;; try++) {
        t->port = tu_free_port();
        snprintf(t->url, sizeof t->url, "redis://127.0.0.1:%d/2", t->port);
        if (redis_try(t)) {
            break;
        }
        if (try == 2) {
            fail_msg("redis-server did not start: 3 ports taken before it bound them");
        }
        print_message("note: port %d was taken before redis-server bound it: another is tried\n",
                      t->port);
    }
    return 0;
}

static int redis_teardown(void **state)
{
    struct tredis *t = *state;
    redis_stop(t);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

/* A command on c whose answer is an integer. */
static long long int_cmd(redisContext *c, const char *cmd)
{
    redisReply *r = redisCommand(c, cmd);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* The same on a pool's connection. */
static long long pool_int_cmd(struct cvma_redis_conn *c, const char *cmd)
{
    redisReply *r = cvma_redis_command(c, cmd); /* (split at spaces, as redisCommand) */
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* The pool: a connection each for two holders at once, in the URL's database; given back,
 * they are taken again; one with an error is not kept. */
static void test_redis_pool(void **state)
{
    struct tredis *t = *state;
    char err[128], name[64];
    struct cvma_redis_pool *p = cvma_redis_pool_new(t->url, NULL, err, sizeof err);
    assert_non_null(p);
    snprintf(name, sizeof name, "127.0.0.1:%d", t->port);
    assert_string_equal(cvma_redis_pool_name(p), name);
    struct cvma_redis_conn *a = cvma_redis_take(p), *b = cvma_redis_take(p);
    assert_non_null(a);
    assert_non_null(b);
    long long ia = pool_int_cmd(a, "CLIENT ID"), ib = pool_int_cmd(b, "CLIENT ID");
    assert_true(ia != ib);
    redisReply *r = cvma_redis_command(a, "SET pooltest 1");
    assert_non_null(r);
    freeReplyObject(r);
    assert_int_equal(pool_int_cmd(b, "EXISTS pooltest"), 1); /* the same database */
    redisContext *raw = raw_conn(t->port);
    assert_non_null(raw);
    assert_int_equal(int_cmd(raw, "EXISTS pooltest"), 0); /* not database 0 */
    redisFree(raw);
    cvma_redis_give(p, a, true);
    cvma_redis_give(p, b, true);
    struct cvma_redis_conn *c = cvma_redis_take(p);
    assert_non_null(c);
    long long ic = pool_int_cmd(c, "CLIENT ID");
    assert_true(ic == ia || ic == ib);
    cvma_redis_conn_break(c); /* as after a time-out: freed, not kept */
    cvma_redis_give(p, c, true);
    struct cvma_redis_conn *d = cvma_redis_take(p);
    assert_non_null(d);
    assert_int_equal(pool_int_cmd(d, "CLIENT ID"), ic == ia ? ib : ia);
    cvma_redis_give(p, d, true);
    cvma_redis_pool_free(p);
}

struct store_worker {
    struct cvma_state_store st;
    int idx;
    int rounds;
    char bad[200]; /* the first wrong answer ("" when none) */
};

/* Each worker its own keys: every answer must be its own (a connection used by two threads
 * at once mixes replies up). No cmocka assertions off the main thread. */
static void *store_work(void *arg)
{
    struct store_worker *w = arg;
    char key[64], val[64], prov[16], err[128];
    uint8_t root[32], other[32];
    snprintf(prov, sizeof prov, "prov%d", w->idx);
    memset(root, w->idx, sizeof root);
    memset(other, w->idx + 100, sizeof other);
    for (int i = 1; i <= w->rounds && w->bad[0] == '\0'; i++) {
        uint8_t *got = NULL;
        size_t len = 0;
        uint64_t seen = 0;
        snprintf(key, sizeof key, "amd-kds item %d/%d", w->idx, i);
        int n = snprintf(val, sizeof val, "value of worker %d round %d", w->idx, i);
        w->st.collateral_put(w->st.arg, key, (const uint8_t *)val, (size_t)n, 60);
        enum cvma_store_answer a = w->st.collateral_get(w->st.arg, key, &got, &len);
        if (a != CVMA_STORE_OK || len != (size_t)n || memcmp(got, val, len) != 0) {
            snprintf(w->bad, sizeof w->bad, "worker %d round %d: get %d '%.*s'", w->idx, i, a,
                     got != NULL ? (int)len : 0, got != NULL ? (const char *)got : "");
        }
        free(got);
        a = w->st.registry_seen(w->st.arg, prov, (uint64_t)i, root, &seen, err, sizeof err);
        if (w->bad[0] == '\0' && (a != CVMA_STORE_OK || seen != (uint64_t)i)) {
            snprintf(w->bad, sizeof w->bad, "worker %d round %d: seen %d %llu (%s)", w->idx, i, a,
                     (unsigned long long)seen, err);
        }
        a = w->st.registry_seen(w->st.arg, prov, (uint64_t)i - 1, root, &seen, err, sizeof err);
        if (w->bad[0] == '\0' && (a != CVMA_STORE_OLDER || seen != (uint64_t)i)) {
            snprintf(w->bad, sizeof w->bad, "worker %d round %d: older %d %llu", w->idx, i, a,
                     (unsigned long long)seen);
        }
        a = w->st.registry_seen(w->st.arg, prov, (uint64_t)i, other, &seen, err, sizeof err);
        if (w->bad[0] == '\0' && (a != CVMA_STORE_CONFLICT || seen != (uint64_t)i)) {
            snprintf(w->bad, sizeof w->bad, "worker %d round %d: conflict %d %llu", w->idx, i, a,
                     (unsigned long long)seen);
        }
    }
    return NULL;
}

/* Two threads using one state store at once both get their own answers. */
static void test_redis_store_concurrent(void **state)
{
    struct tredis *t = *state;
    char err[128];
    struct cvma_redis_store *rs = cvma_redis_store_new(t->url, NULL, err, sizeof err);
    assert_non_null(rs);
    struct store_worker w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof w[i]);
        cvma_redis_store_iface(rs, &w[i].st);
        w[i].idx = i + 1;
        w[i].rounds = 300;
        assert_int_equal(pthread_create(&th[i], NULL, store_work, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
    }
    for (int i = 0; i < 2; i++) {
        if (w[i].bad[0] != '\0') {
            fail_msg("%s", w[i].bad);
        }
    }
    /* what they wrote is in Redis, in the URL's database */
    redisContext *raw = raw_conn(t->port);
    assert_non_null(raw);
    redisReply *r = redisCommand(raw, "SELECT 2");
    assert_non_null(r);
    freeReplyObject(r);
    r = redisCommand(raw, "GET cvmattest:registry:prov2");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_true(strncmp(r->str, "00000000000000000300 0202", 25) == 0);
    freeReplyObject(r);
    redisFree(raw);
    cvma_redis_store_free(rs);
}

/* Redis restarted (empty) under both stores: the connections they kept are closed, and the
 * next operation is answered on a new one, not refused; Redis down: refused (fail closed),
 * and answered again once it is back. */
static void test_redis_restart(void **state)
{
    struct tredis *t = *state;
    char err[128];
    uint8_t root[32], *got = NULL;
    size_t len = 0;
    uint64_t seen = 0;
    struct cvma_state_store st;
    struct cvma_redis_store *rs = cvma_redis_store_new(t->url, NULL, err, sizeof err);
    assert_non_null(rs);
    cvma_redis_store_iface(rs, &st);
    struct cvma_spent *sp = cvma_spent_new(t->url, NULL, err, sizeof err);
    assert_non_null(sp);
    time_t now = time(NULL);
    memset(root, 7, sizeof root);

    st.collateral_put(st.arg, "amd-kds crl", (const uint8_t *)"crl", 3, 60);
    assert_int_equal(st.collateral_get(st.arg, "amd-kds crl", &got, &len), CVMA_STORE_OK);
    free(got);
    assert_int_equal(st.registry_seen(st.arg, "acme", 9, root, &seen, err, sizeof err),
                     CVMA_STORE_OK);
    assert_int_equal(cvma_spent_mark(sp, "r1", now, now + 60), CVMA_SPEND_FIRST);
    assert_int_equal(cvma_spent_mark(sp, "r1", now, now + 60), CVMA_SPEND_REPLAY);

    redis_restart(t);
    /* the very first operation of each kind after the restart is answered (Redis is empty) */
    assert_int_equal(st.registry_seen(st.arg, "acme", 5, root, &seen, err, sizeof err),
                     CVMA_STORE_OK);
    assert_int_equal(seen, 5);
    redis_restart(t);
    assert_int_equal(st.collateral_get(st.arg, "amd-kds crl", &got, &len), CVMA_STORE_MISS);
    redis_restart(t);
    st.collateral_put(st.arg, "amd-kds crl", (const uint8_t *)"crl2", 4, 60);
    assert_int_equal(st.collateral_get(st.arg, "amd-kds crl", &got, &len), CVMA_STORE_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(got, "crl2", 4);
    free(got);
    assert_int_equal(cvma_spent_mark(sp, "r1", now, now + 60), CVMA_SPEND_FIRST);
    assert_true(cvma_spent_healthy(sp));

    redis_stop(t);
    err[0] = '\0';
    assert_int_equal(st.registry_seen(st.arg, "acme", 6, root, &seen, err, sizeof err),
                     CVMA_STORE_UNAVAILABLE);
    assert_non_null(strstr(err, "cannot be reached"));
    assert_int_equal(st.collateral_get(st.arg, "amd-kds crl", &got, &len), CVMA_STORE_UNAVAILABLE);
    assert_null(got);
    assert_int_equal(cvma_spent_mark(sp, "r2", now, now + 60), CVMA_SPEND_UNAVAILABLE);
    assert_false(cvma_spent_healthy(sp));

    redis_start(t);
    assert_int_equal(st.registry_seen(st.arg, "acme", 6, root, &seen, err, sizeof err),
                     CVMA_STORE_OK);
    assert_int_equal(cvma_spent_mark(sp, "r2", now, now + 60), CVMA_SPEND_FIRST);
    cvma_spent_free(sp);
    cvma_redis_store_free(rs);
}

/* Redis's count of the bytes it has sent to all clients (INFO stats). */
static unsigned long long redis_bytes_out(redisContext *c)
{
    redisReply *r = redisCommand(c, "INFO stats");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    const char *f = strstr(r->str, "total_net_output_bytes:");
    assert_non_null(f);
    unsigned long long n = strtoull(f + strlen("total_net_output_bytes:"), NULL, 10);
    freeReplyObject(r);
    return n;
}

/* Sets the store's key for the cache key "amd-kds big" to len bytes of 'v' (on c, database 2). */
static void plant_collateral(redisContext *c, size_t len)
{
    uint8_t d[32];
    char hex[65], k[96];
    char *v = malloc(len);
    assert_non_null(v);
    memset(v, 'v', len);
    SHA256((const unsigned char *)"amd-kds big", strlen("amd-kds big"), d);
    cvma_hex_encode(d, sizeof d, hex, sizeof hex);
    snprintf(k, sizeof k, "cvmattest:collateral:%s", hex);
    redisReply *r = redisCommand(c, "SET %s %b", k, v, len);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    free(v);
}

/* Whoever can write to Redis can put up to 512 MB under a collateral key. A value longer than
 * any a verifier writes (CVMA_SHARED_VALUE_MAX: the header and CVMA_CACHE_MAX_BODY) is a miss,
 * handed to no one, and is not read whole: Redis sends the store at most one byte more than the
 * bound. A value of exactly the bound is answered (the verifier parses it). */
static void test_redis_store_refuses_a_collateral_value_over_the_bound(void **state)
{
    struct tredis *t = *state;
    char err[128];
    uint8_t *got = NULL;
    size_t len = 0;
    struct cvma_state_store st;
    struct timeval tv = {10, 0};
    struct cvma_redis_store *rs = cvma_redis_store_new(t->url, NULL, err, sizeof err);
    assert_non_null(rs);
    cvma_redis_store_iface(rs, &st);
    redisContext *raw = raw_conn(t->port);
    assert_non_null(raw);
    assert_int_equal(redisSetTimeout(raw, tv), REDIS_OK);
    redisReply *r = redisCommand(raw, "SELECT 2");
    assert_non_null(r);
    freeReplyObject(r);

    plant_collateral(raw, CVMA_SHARED_VALUE_MAX);
    assert_int_equal(st.collateral_get(st.arg, "amd-kds big", &got, &len), CVMA_STORE_OK);
    assert_int_equal(len, CVMA_SHARED_VALUE_MAX);
    free(got);
    got = NULL;

    plant_collateral(raw, CVMA_SHARED_VALUE_MAX + 1);
    assert_int_equal(st.collateral_get(st.arg, "amd-kds big", &got, &len), CVMA_STORE_MISS);
    assert_null(got);
    assert_int_equal(len, 0);

    /* Three times the bound: what Redis sent for the get is the bound and a byte, and a little
     * for INFO's own answer, not 12 MiB. */
    plant_collateral(raw, 3 * CVMA_SHARED_VALUE_MAX);
    unsigned long long before = redis_bytes_out(raw);
    assert_int_equal(st.collateral_get(st.arg, "amd-kds big", &got, &len), CVMA_STORE_MISS);
    assert_null(got);
    unsigned long long sent = redis_bytes_out(raw) - before;
    assert_true(sent > CVMA_SHARED_VALUE_MAX);
    assert_true(sent < CVMA_SHARED_VALUE_MAX + 65536);

    /* the store still answers on that connection (the reply was read in step) */
    st.collateral_put(st.arg, "amd-kds crl", (const uint8_t *)"crl", 3, 60);
    assert_int_equal(st.collateral_get(st.arg, "amd-kds crl", &got, &len), CVMA_STORE_OK);
    assert_int_equal(len, 3);
    free(got);
    /* absent: a miss */
    assert_int_equal(st.collateral_get(st.arg, "amd-kds none", &got, &len), CVMA_STORE_MISS);
    assert_null(got);
    redisFree(raw);
    cvma_redis_store_free(rs);
}

/* In Redis a spent nonce's key lives until its expiry plus the margin (PX), as in memory. */
static void test_spent_redis_margin(void **state)
{
    struct tredis *t = *state;
    char err[128], cmd[128];
    struct cvma_spent *sp = cvma_spent_new(t->url, NULL, err, sizeof err);
    assert_non_null(sp);
    cvma_spent_set_margin(sp, 300);
    time_t now = time(NULL);
    assert_int_equal(cvma_spent_mark(sp, "m1", now, now + 60), CVMA_SPEND_FIRST);
    redisContext *c = raw_conn(t->port);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "SELECT 2");
    assert_non_null(r);
    freeReplyObject(r);
    snprintf(cmd, sizeof cmd, "PTTL cvmattest:nonce:%s", "m1");
    long long pttl = int_cmd(c, cmd);
    /* 360 s asked; a little less by the time it is read (never the 60 s of the expiry alone) */
    assert_true(pttl > 350000 && pttl <= 360000);
    redisFree(c);
    /* an expired nonce is not written at all, with or without the margin */
    assert_int_equal(cvma_spent_mark(sp, "m2", now, now), CVMA_SPEND_REPLAY);
    cvma_spent_free(sp);
}

/* CONFIG SET name value on c (a connection of the test's own). */
static void config_set(redisContext *c, const char *name, const char *value)
{
    redisReply *r = redisCommand(c, "CONFIG SET %s %s", name, value);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
}

/*
 * Redis's eviction settings are read again while the service runs, not only at start: a Redis
 * switched to evicting keys under memory pressure (CONFIG SET here; a restart or a failover to
 * one configured otherwise alike) could forget a spent nonce and let its replay through, so
 * spends are refused from the next read on, and healthz says the store is unusable. With the
 * default interval the change is not seen at once; with 0 at the next spend.
 */
static void test_spent_redis_eviction_rechecked(void **state)
{
    struct tredis *t = *state;
    char err[128], why[160];
    struct cvma_spent *sp = cvma_spent_new(t->url, NULL, err, sizeof err);
    assert_non_null(sp);
    time_t now = time(NULL);
    assert_int_equal(cvma_spent_eviction(sp, why, sizeof why), CVMA_SPENT_KEEPS);
    assert_int_equal(cvma_spent_mark(sp, "e1", now, now + 60), CVMA_SPEND_FIRST);
    redisContext *c = raw_conn(t->port);
    assert_non_null(c);
    config_set(c, "maxmemory", "100mb");
    config_set(c, "maxmemory-policy", "allkeys-lru");
    /* within the default interval, read at start: not seen yet */
    assert_int_equal(cvma_spent_mark(sp, "e2", now, now + 60), CVMA_SPEND_FIRST);
    cvma_spent_set_eviction_recheck(sp, 0);
    assert_int_equal(cvma_spent_mark(sp, "e3", now, now + 60), CVMA_SPEND_UNAVAILABLE);
    assert_int_equal(cvma_spent_mark(sp, "e1", now, now + 60), CVMA_SPEND_UNAVAILABLE);
    assert_false(cvma_spent_healthy(sp));
    /* refused until this instance starts again, even once Redis keeps every key: what it
     * evicted meanwhile is not known */
    config_set(c, "maxmemory-policy", "noeviction");
    assert_int_equal(cvma_spent_mark(sp, "e4", now, now + 60), CVMA_SPEND_UNAVAILABLE);
    cvma_spent_free(sp);

    /* healthz alone (no spend) reads it again when due */
    sp = cvma_spent_new(t->url, NULL, err, sizeof err);
    assert_non_null(sp);
    assert_int_equal(cvma_spent_eviction(sp, why, sizeof why), CVMA_SPENT_KEEPS);
    cvma_spent_set_eviction_recheck(sp, 0);
    assert_true(cvma_spent_healthy(sp));
    config_set(c, "maxmemory-policy", "volatile-lru");
    assert_false(cvma_spent_healthy(sp));
    assert_int_equal(cvma_spent_mark(sp, "e5", now, now + 60), CVMA_SPEND_UNAVAILABLE);
    cvma_spent_free(sp);
    config_set(c, "maxmemory-policy", "noeviction");
    config_set(c, "maxmemory", "0");
    redisFree(c);
}

/* True once PING on c is answered with Redis's BUSY (a script running), within 5 s. */
static bool busy_within(redisContext *c)
{
    for (int i = 0; i < 50; i++) {
        redisReply *r = redisCommand(c, "PING");
        assert_non_null(r);
        bool busy = r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSY", 4) == 0;
        freeReplyObject(r);
        if (busy) {
            return true;
        }
        usleep(100000);
    }
    return false;
}

/*
 * A re-read of the eviction settings answered BUSY (another client's script running) is as one
 * not answered: the settings are read again when next due, and a Redis set to evict once the
 * script is killed is noticed. A BUSY once used to end the re-reads for good (the state was
 * taken for "CONFIG refused"), and nonces went on being spent in a Redis that may evict them.
 */
static void test_spent_redis_eviction_rechecked_after_busy(void **state)
{
    struct tredis *t = *state;
    char err[128], why[160];
    struct cvma_spent *sp = cvma_spent_new(t->url, NULL, err, sizeof err);
    assert_non_null(sp);
    time_t now = time(NULL);
    assert_int_equal(cvma_spent_eviction(sp, why, sizeof why), CVMA_SPENT_KEEPS);
    cvma_spent_set_eviction_recheck(sp, 0);
    assert_int_equal(cvma_spent_mark(sp, "b1", now, now + 60), CVMA_SPEND_FIRST);
    redisContext *c = raw_conn(t->port), *lua = raw_conn(t->port);
    assert_non_null(c);
    assert_non_null(lua);
    config_set(c, "lua-time-limit", "10"); /* BUSY after 10 ms, not Redis's 5 s */
    /* a script of 20 s at most (it holds Redis's SIGTERM too), killed below */
    assert_int_equal(redisAppendCommand(lua, "EVAL %s 0",
                                        "local t = tonumber(redis.call('TIME')[1]) "
                                        "while tonumber(redis.call('TIME')[1]) - t < 20 do end"),
                     REDIS_OK);
    int done = 0;
    while (!done) {
        assert_int_equal(redisBufferWrite(lua, &done), REDIS_OK);
    }
    assert_true(busy_within(c));
    /* the due re-read meets BUSY, and so does the spend: refused, as while Redis is down */
    assert_int_equal(cvma_spent_mark(sp, "b2", now, now + 60), CVMA_SPEND_UNAVAILABLE);
    assert_false(cvma_spent_healthy(sp));
    redisReply *r = redisCommand(c, "SCRIPT KILL");
    assert_non_null(r);
    freeReplyObject(r);
    void *killed = NULL;
    assert_int_equal(redisGetReply(lua, &killed), REDIS_OK);
    freeReplyObject(killed);
    assert_int_equal(cvma_spent_mark(sp, "b3", now, now + 60), CVMA_SPEND_FIRST);
    config_set(c, "maxmemory", "100mb");
    config_set(c, "maxmemory-policy", "allkeys-lru");
    assert_int_equal(cvma_spent_mark(sp, "b4", now, now + 60), CVMA_SPEND_UNAVAILABLE);
    assert_false(cvma_spent_healthy(sp));
    /* A read that saw Redis keep its keys, ending after the one that saw eviction (two spends
     * overlapping; one read can outlast the re-read period): the refusal stays. */
    config_set(c, "maxmemory-policy", "noeviction");
    config_set(c, "maxmemory", "0");
    assert_int_equal(cvma_spent_eviction(sp, why, sizeof why), CVMA_SPENT_KEEPS);
    assert_int_equal(cvma_spent_mark(sp, "b5", now, now + 60), CVMA_SPEND_UNAVAILABLE);
    assert_false(cvma_spent_healthy(sp));
    cvma_spent_free(sp);
    redisFree(lua);
    redisFree(c);
}

/* Service tokens: exp = iat + ttl, eat_nonce as given; result check's decision honours exp. */
static void test_token_exp(void **state)
{
    (void)state;
    EVP_PKEY *k = cvma_jws_key_generate(CVMA_JWS_ES256);
    struct cvma_result res;
    char *tok = NULL, err[256];
    json_t *claims = NULL;
    struct cvma_ear_decision d;
    assert_non_null(k);
    cvma_result_init(&res, "sev-snp", time(NULL));
    res.status = CVMA_AFFIRMING;
    assert_int_equal(cvma_ear_sign_exp(&res, k, NULL, "bm9uY2U", 120, &tok), CVMA_OK);
    assert_int_equal(cvma_ear_verify(tok, strlen(tok), k, &claims, err, sizeof err), CVMA_OK);
    json_int_t iat = json_integer_value(json_object_get(claims, "iat"));
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), iat + 120);
    assert_string_equal(json_string_value(json_object_get(claims, "eat_nonce")), "bm9uY2U");
    assert_int_equal(cvma_ear_decide(claims, (time_t)iat + 119, -1, &d, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_ear_decide(claims, (time_t)iat + 120, -1, &d, err, sizeof err),
                     CVMA_REJECTED);
    assert_non_null(strstr(err, "expired"));
    json_decref(claims);
    free(tok);
    /* ttl 0: no exp, as verify --sign-result signs */
    assert_int_equal(cvma_ear_sign_exp(&res, k, NULL, NULL, 0, &tok), CVMA_OK);
    assert_int_equal(cvma_ear_verify(tok, strlen(tok), k, &claims, err, sizeof err), CVMA_OK);
    assert_null(json_object_get(claims, "exp"));
    assert_null(json_object_get(claims, "eat_nonce"));
    json_decref(claims);
    free(tok);
    cvma_result_cleanup(&res);
    EVP_PKEY_free(k);
}

/* ---- a stand-in Redis that sends what a test gives it ---- */

struct fake_peer {
    int lfd, port;
    const char *head;  /* sent once, after the first command is read */
    const char *again; /* then sent again and again (NULL: not), for at most 8 s */
    pthread_t th;
};

static void *fake_peer_run(void *arg)
{
    struct fake_peer *f = arg;
    char buf[4096];
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    struct timeval tv = {8, 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    bool ok = recv(fd, buf, sizeof buf, 0) > 0 &&
              send(fd, f->head, strlen(f->head), MSG_NOSIGNAL) == (ssize_t)strlen(f->head);
    char chunk[16384];
    size_t n = 0;
    while (f->again != NULL && n + strlen(f->again) <= sizeof chunk) {
        memcpy(chunk + n, f->again, strlen(f->again));
        n += strlen(f->again);
    }
    time_t end = time(NULL) + 8;
    while (ok && n > 0 && time(NULL) < end) {
        ok = send(fd, chunk, n, MSG_NOSIGNAL) == (ssize_t)n; /* until the client hangs up */
    }
    close(fd);
    return NULL;
}

static void fake_peer_start(struct fake_peer *f, const char *head, const char *again)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    f->head = head;
    f->again = again;
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(f->lfd, 1), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_peer_run, f), 0);
}

static void fake_peer_stop(struct fake_peer *f)
{
    assert_int_equal(pthread_join(f->th, NULL), 0);
    close(f->lfd);
}

/* PING on a new connection to the stand-in: the reply, and how long it took (ms). */
static redisReply *fake_command(const struct fake_peer *f, long long *ms)
{
    char url[64], err[128];
    struct timespec a, b;
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f->port);
    struct cvma_redis_pool *p = cvma_redis_pool_new(url, NULL, err, sizeof err);
    assert_non_null(p);
    struct cvma_redis_conn *c = cvma_redis_take(p);
    assert_non_null(c);
    clock_gettime(CLOCK_MONOTONIC, &a);
    redisReply *r = cvma_redis_command(c, "PING");
    clock_gettime(CLOCK_MONOTONIC, &b);
    *ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    cvma_redis_give(p, c, r != NULL);
    cvma_redis_pool_free(p);
    return r;
}

/* A reply is a few objects: an array of more elements than any command here gets back is
 * refused (the connection is dropped), however few bytes it takes; the array of two that EVAL
 * and CONFIG GET answer is read. */
static void test_redis_reply_refuses_an_array_of_many_elements(void **state)
{
    (void)state;
    static char many[1024];
    struct fake_peer f;
    long long ms;
    size_t n = (size_t)snprintf(many, sizeof many, "*100\r\n");
    for (int i = 0; i < 100; i++) {
        n += (size_t)snprintf(many + n, sizeof many - n, ":1\r\n");
    }
    fake_peer_start(&f, many, NULL);
    assert_null(fake_command(&f, &ms));
    fake_peer_stop(&f);

    fake_peer_start(&f, "*2\r\n:0\r\n$3\r\nabc\r\n", NULL);
    redisReply *r = fake_command(&f, &ms);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[1]->str, "abc");
    freeReplyObject(r);
    fake_peer_stop(&f);
}

/* A peer that announces an array of fifty million elements and sends them without end: the
 * reply is given up at once (at its limits, and at its 2 s deadline at the latest), never read
 * for as long as the peer sends, its objects filling the worker's memory. */
static void test_redis_reply_ends_when_the_peer_never_stops(void **state)
{
    (void)state;
    struct fake_peer f;
    long long ms;
    fake_peer_start(&f, "*50000000\r\n", ":1\r\n");
    assert_null(fake_command(&f, &ms));
    assert_true(ms < 3000);
    fake_peer_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_nonce_sizes),
            cmocka_unit_test(test_nonce_every_bit_bound),
            cmocka_unit_test(test_nonce_mac_is_hmac_sha256),
            cmocka_unit_test(test_nonce_expiry),
            cmocka_unit_test(test_spent_memory),
            cmocka_unit_test(test_spent_memory_full),
            cmocka_unit_test(test_spent_memory_margin),
            cmocka_unit_test(test_spent_memory_full_margin),
            cmocka_unit_test(test_spent_redis_url),
            cmocka_unit_test(test_redis_url_takes_an_ipv6_literal_in_brackets),
            cmocka_unit_test(test_token_exp),
            cmocka_unit_test_setup_teardown(test_redis_pool, redis_setup, redis_teardown),
            cmocka_unit_test_setup_teardown(test_redis_store_concurrent, redis_setup,
                                            redis_teardown),
            cmocka_unit_test_setup_teardown(test_redis_restart, redis_setup, redis_teardown),
            cmocka_unit_test_setup_teardown(
                    test_redis_store_refuses_a_collateral_value_over_the_bound, redis_setup,
                    redis_teardown),
            cmocka_unit_test_setup_teardown(test_spent_redis_margin, redis_setup, redis_teardown),
            cmocka_unit_test_setup_teardown(test_spent_redis_eviction_rechecked, redis_setup,
                                            redis_teardown),
            cmocka_unit_test_setup_teardown(test_spent_redis_eviction_rechecked_after_busy,
                                            redis_setup, redis_teardown),
            cmocka_unit_test(test_redis_reply_refuses_an_array_of_many_elements),
            cmocka_unit_test(test_redis_reply_ends_when_the_peer_never_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
