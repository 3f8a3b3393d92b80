/*
 * Single flight in the collateral fetch path (collateral/fetch.h): threads that miss the same
 * item at once download it once, and a failed or stuck download fails every waiter without
 * any of them hanging. Against tests/kds_server.py (127.0.0.1 only) with --delay 1, so that
 * every thread misses while the first download is still in progress; the server's request log
 * counts the downloads.
 *
 * Needs CVMATTEST_SRC (to find the server script) and python3 for the server tests; without
 * them only the self-contained test runs and the program exits 77 (skipped) after it.
 */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collateral/cache.h"
#include "collateral/fetch.h"
#include "collateral/stats.h"
#include "common/verdict.h"
#include "testutil.h"
#include "tu_server.h"

#define N_THREADS 8
#define ITEM_PATH "/crl/once.crl"
#define BODY      "ITEM-BYTES: served once to eight threads\n"

static const char *g_src; /* CVMATTEST_SRC */

struct fx {
    char *tmp, *cache_dir, *log;
    struct cvma_cache cache;
    struct cvma_collateral_stats stats;
    struct cvma_collateral_hooks hooks;
    struct cvma_http_opts http;
    struct cvma_collateral_net net;
    pid_t pid;
    char url[128], key[160];
};

struct worker {
    pthread_t tid;
    struct fx *f;
    const struct cvma_collateral_item *item;
    pthread_barrier_t *start;
    enum cvma_status st;
    struct cvma_buf out;
    struct cvma_verdict v;
    char err[512];
    double seconds;
};

/* The item's form: the body the test serves (anything else is not well-formed). */
static bool check_body(const struct cvma_buf *b, int64_t now, int64_t *expires_at, char *why,
                       size_t why_len, void *arg)
{
    (void)now;
    (void)expires_at;
    (void)arg;
    if (b->len == strlen(BODY) && memcmp(b->p, BODY, b->len) == 0) {
        return true;
    }
    snprintf(why, why_len, "not the served body");
    return false;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return -1;
    }
    f->tmp = tu_tmpdir();
    f->cache_dir = tu_path(f->tmp, "cache");
    f->log = tu_path(f->tmp, "requests.log");
    if (cvma_cache_init(&f->cache, f->cache_dir) != CVMA_OK ||
        (f->hooks.flights = cvma_fetch_flights_new()) == NULL) {
        return -1;
    }
    f->hooks.stats = &f->stats;
    cvma_http_opts_init(&f->http);
    f->http.backoff_base_ms = 10;
    f->http.connect_timeout_ms = 2000;
    f->http.timeout_ms = 5000;
    f->net.http = &f->http;
    f->net.cache = &f->cache;
    f->net.hooks = &f->hooks;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    tu_server_stop(&f->pid);
    cvma_fetch_flights_free(f->hooks.flights);
    cvma_cache_cleanup(&f->cache);
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f->cache_dir);
    free(f->log);
    free(f);
    return 0;
}

/* Serves BODY at ITEM_PATH, every answer after a 1 s delay, with the extra arguments
 * (NULL-terminated); f->url and f->key name the item. */
static void server_start(struct fx *f, const char *const *extra)
{
    const char *argv[32], *args[16];
    char *script = tu_path(g_src, "tests/kds_server.py");
    char *body = tu_path(f->tmp, "once.crl");
    size_t n = 0;

    tu_write(body, (const uint8_t *)BODY, strlen(BODY));
    args[n++] = "--route";
    args[n++] = ITEM_PATH "=once.crl";
    args[n++] = "--delay";
    args[n++] = "1";
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        assert_true(n < CVMA_ARRAY_LEN(args) - 1);
        args[n++] = extra[i];
    }
    args[n] = NULL;
    tu_server_argv(argv, CVMA_ARRAY_LEN(argv), script, f->tmp, f->log, args);
    int port = tu_server_start(argv, &f->pid);
    assert_true(port > 0);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d%s", port, ITEM_PATH);
    snprintf(f->key, sizeof f->key, "amd-kds %s", f->url);
    free(script);
    free(body);
}

/* The item server_start serves. */
static struct cvma_collateral_item served_item(const struct fx *f)
{
    return (struct cvma_collateral_item){
            .what = "test CRL",
            .url = f->url,
            .cache_key = f->key,
            .refreshable = true,
            .check = check_body,
    };
}

static void *run_get(void *arg)
{
    struct worker *w = arg;
    double t0;

    pthread_barrier_wait(w->start);
    t0 = tu_now();
    w->st = cvma_collateral_get(&w->f->net, w->item, &w->out, &w->v, w->err, sizeof w->err);
    w->seconds = tu_now() - t0;
    return NULL;
}

/* Runs cvma_collateral_get for item from N_THREADS threads released at once. */
static void run_threads(struct fx *f, const struct cvma_collateral_item *item,
                        struct worker w[N_THREADS])
{
    pthread_barrier_t start;

    assert_int_equal(pthread_barrier_init(&start, NULL, N_THREADS), 0);
    for (int i = 0; i < N_THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].f = f;
        w[i].item = item;
        w[i].start = &start;
        cvma_verdict_init(&w[i].v);
        assert_int_equal(pthread_create(&w[i].tid, NULL, run_get, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(w[i].tid, NULL), 0);
    }
    pthread_barrier_destroy(&start);
}

static void workers_cleanup(struct worker w[N_THREADS])
{
    for (int i = 0; i < N_THREADS; i++) {
        cvma_buf_free(&w[i].out);
        cvma_verdict_cleanup(&w[i].v);
    }
}

static uint64_t fetches(const struct fx *f, enum cvma_fetch_source s, int status)
{
    return atomic_load(&f->stats.fetches[s][status]);
}

static void test_eight_threads_missing_one_item_download_it_once(void **state)
{
    struct fx *f = *state;
    struct worker w[N_THREADS];
    struct cvma_buf cached = {0};

    server_start(f, NULL);
    const struct cvma_collateral_item item = served_item(f);
    run_threads(f, &item, w);
    for (int i = 0; i < N_THREADS; i++) {
        if (w[i].st != CVMA_OK) {
            print_error("thread %d: %s\n", i, w[i].err);
        }
        assert_int_equal(w[i].st, CVMA_OK);
        assert_int_equal(w[i].out.len, strlen(BODY));
        assert_memory_equal(w[i].out.p, BODY, strlen(BODY));
        assert_int_equal(w[i].v.n_reasons, 0);
    }
    /* One request reached the server, and one download was counted: the other seven waited
     * and are counted as cache misses only. */
    assert_int_equal(tu_log_lines(f->log), 1);
    assert_int_equal(fetches(f, CVMA_FETCH_CRL, 200), 1);
    assert_int_equal(atomic_load(&f->stats.cache_misses), N_THREADS);
    assert_int_equal(atomic_load(&f->stats.cache_hits), 0);
    /* The one download was cached, and the next call is a hit with no request. */
    assert_int_equal(cvma_cache_get(&f->cache, f->key, &cached), CVMA_OK);
    assert_memory_equal(cached.p, BODY, strlen(BODY));
    cvma_buf_free(&cached);
    workers_cleanup(w);
    run_threads(f, &item, w);
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(w[i].st, CVMA_OK);
    }
    assert_int_equal(tu_log_lines(f->log), 1);
    assert_int_equal(atomic_load(&f->stats.cache_hits), N_THREADS);
    workers_cleanup(w);
}

static void test_a_failed_download_fails_every_waiter_and_none_hangs(void **state)
{
    struct fx *f = *state;
    struct worker w[N_THREADS];
    struct cvma_buf cached = {0};
    static const char *const extra[] = {"--fail-first", "1000", "--fail-status", "500", NULL};

    f->http.max_retries = -1; /* one attempt: the server answers 500 after 1 s */
    server_start(f, extra);
    const struct cvma_collateral_item item = served_item(f);
    double t0 = tu_now();
    run_threads(f, &item, w);
    /* All done within a few seconds of the one 1 s request, well before a waiter's own bound
     * (9 s here), so a waiter that was never woken fails this. */
    assert_true(tu_now() - t0 < 5.0);
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(w[i].st, CVMA_UNDECIDED);
        assert_null(w[i].out.p);
        assert_int_equal(w[i].out.len, 0);
        /* The leader's failure, the same for everyone: the URL and the HTTP status. */
        assert_non_null(strstr(w[i].err, f->url));
        assert_non_null(strstr(w[i].err, "HTTP 500"));
        assert_string_equal(w[i].err, w[0].err);
    }
    /* The waiters did not try again themselves. */
    assert_int_equal(tu_log_lines(f->log), 1);
    assert_int_equal(fetches(f, CVMA_FETCH_CRL, 500), 1);
    assert_int_equal(cvma_cache_get(&f->cache, f->key, &cached), CVMA_E_IO);
    workers_cleanup(w);
}

static atomic_int g_downloads;

/* A download callback: counts the call, waits *arg seconds when arg is given (6: far longer
 * than the time-outs of the test that passes it allow, a stuck download), gives BODY. */
static enum cvma_status download_body(const char *url, const struct cvma_http_opts *http,
                                      struct cvma_buf *out, char *err, size_t err_len, void *arg)
{
    (void)url;
    (void)http;
    (void)err;
    (void)err_len;
    atomic_fetch_add(&g_downloads, 1);
    if (arg != NULL) {
        sleep(*(const unsigned *)arg);
    }
    tu_buf_set(out, (const uint8_t *)BODY, strlen(BODY));
    return CVMA_OK;
}

static void test_a_waiter_gives_up_after_the_download_time_out(void **state)
{
    static unsigned stuck_seconds = 6;
    struct fx *f = *state;
    struct worker w[N_THREADS];
    int leaders = 0;

    /* Waiters wait 0.2 + 0.3 s for the one attempt and each of the 3 same-origin redirect
     * hops, and the margin (2 s): 4 s, less than the 6 s. */
    f->http.max_retries = -1;
    f->http.connect_timeout_ms = 200;
    f->http.timeout_ms = 300;
    assert_int_equal(cvma_fetch_flight_wait_ms(&f->http),
                     (1 + CVMA_HTTP_MAX_HOPS) * 500L + CVMA_FETCH_FLIGHT_MARGIN_MS);
    const struct cvma_collateral_item item = {
            .what = "test CRL",
            .url = "http://127.0.0.1:9" ITEM_PATH,
            .cache_key = "amd-kds http://127.0.0.1:9" ITEM_PATH,
            .refreshable = true,
            .check = check_body,
            .download = download_body,
            .arg = &stuck_seconds,
    };
    run_threads(f, &item, w);
    for (int i = 0; i < N_THREADS; i++) {
        if (w[i].st == CVMA_OK) {
            leaders++;
            assert_memory_equal(w[i].out.p, BODY, strlen(BODY));
            continue;
        }
        assert_int_equal(w[i].st, CVMA_UNDECIDED);
        assert_null(w[i].out.p);
        assert_non_null(strstr(w[i].err, "did not finish within 4000 ms"));
        assert_true(w[i].seconds >= 3.8 && w[i].seconds < 5.9); /* it did wait */
    }
    assert_int_equal(leaders, 1);
    workers_cleanup(w);
}

/*
 * A shared store (the fleet's cache, as with --redis) in memory. Its put can be held before
 * it stores anything (hold_put), to catch a thread missing while the leader writes the shared
 * copy, or until the item has been deleted (wait_del: at most 0.5 s once an eviction has
 * begun, evicting, and 5 s in all), to let a waiter evict what the leader is about to write.
 * With evict_in_get, get takes the value, then evicts the item (or the one named evict_key)
 * through that fixture's hooks (as another thread would between the store's answer and the
 * copy to disk), then answers (on the test's main thread only: it asserts).
 */
struct fx;
struct mem_store {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint8_t *v;
    size_t len;
    bool hold_put, in_put, release_put;
    bool wait_del, deleted, evicting;
    double evicting_since;
    int gets;
    struct fx *evict_in_get;
    const char *evict_key; /* NULL: the item asked for */
    pthread_t downloader;  /* the thread whose download callback ran (download_when_joined) */
    /* The fleet's claim (collateral_claim): 0 free, 1 this instance's, 2 another's; the
     * store cannot say when claim_down. claims and releases count the calls; copy_at_release:
     * the store held a copy when this instance gave its claim back. */
    int claim, claims, releases;
    bool claim_down, copy_at_release;
    /* > 0: the other instance (claim 2) finishes right after the get of that number has
     * answered: its copy written, its claim given back. */
    int finish_after_get;
};

static void mem_store_body(struct mem_store *m);

static enum cvma_store_answer mem_get(void *arg, const char *key, uint8_t **p, size_t *len)
{
    struct mem_store *m = arg;
    enum cvma_store_answer a = CVMA_STORE_MISS;
    pthread_mutex_lock(&m->lock);
    m->gets++;
    pthread_cond_broadcast(&m->cond);
    if (m->v != NULL && (*p = malloc(m->len)) != NULL) {
        memcpy(*p, m->v, m->len);
        *len = m->len;
        a = CVMA_STORE_OK;
    }
    if (m->finish_after_get > 0 && m->gets == m->finish_after_get) {
        mem_store_body(m);
        m->claim = 0;
    }
    struct fx *evict = m->evict_in_get;
    const char *evict_key = m->evict_key != NULL ? m->evict_key : key;
    pthread_mutex_unlock(&m->lock);
    if (evict != NULL) {
        assert_int_equal(cvma_collateral_evict(evict->net.cache, &evict->hooks, evict_key),
                         CVMA_OK);
    }
    return a;
}

static void mem_del(void *arg, const char *key)
{
    struct mem_store *m = arg;
    (void)key;
    pthread_mutex_lock(&m->lock);
    free(m->v);
    m->v = NULL;
    m->len = 0;
    m->deleted = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

static enum cvma_store_answer mem_claim(void *arg, const char *key, int64_t ttl_ms)
{
    struct mem_store *m = arg;
    (void)key;
    assert_true(ttl_ms > 0);
    pthread_mutex_lock(&m->lock);
    m->claims++;
    enum cvma_store_answer a = m->claim_down   ? CVMA_STORE_UNAVAILABLE
                               : m->claim == 2 ? CVMA_STORE_HELD
                                               : CVMA_STORE_OK;
    if (a == CVMA_STORE_OK) {
        m->claim = 1;
    }
    pthread_mutex_unlock(&m->lock);
    return a;
}

static void mem_release(void *arg, const char *key)
{
    struct mem_store *m = arg;
    (void)key;
    pthread_mutex_lock(&m->lock);
    m->releases++;
    if (m->claim == 1) {
        m->claim = 0;
        m->copy_at_release = m->v != NULL;
    }
    pthread_mutex_unlock(&m->lock);
}

/* Waits on m->cond (its lock held) for at most 50 ms. */
static void mem_wait_a_little(struct mem_store *m)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&m->cond, &m->lock, &ts);
}

static void mem_put(void *arg, const char *key, const uint8_t *p, size_t len, int64_t ttl)
{
    struct mem_store *m = arg;
    (void)key;
    (void)ttl;
    pthread_mutex_lock(&m->lock);
    /* Only the first put is held: a second download's put (the failure this catches) must
     * not hang the test. */
    bool hold = m->hold_put && !m->in_put;
    m->in_put = true;
    pthread_cond_broadcast(&m->cond);
    while (hold && !m->release_put) {
        pthread_cond_wait(&m->cond, &m->lock);
    }
    for (double t0 = tu_now(); m->wait_del && !m->deleted && tu_now() - t0 < 5.0 &&
                               !(m->evicting && tu_now() - m->evicting_since > 0.5);) {
        mem_wait_a_little(m);
    }
    free(m->v);
    if ((m->v = malloc(len)) != NULL) {
        memcpy(m->v, p, len);
        m->len = len;
    }
    pthread_mutex_unlock(&m->lock);
}

static const struct cvma_collateral_item counted_item = {
        .what = "test CRL",
        .url = "http://127.0.0.1:9" ITEM_PATH,
        .cache_key = "amd-kds http://127.0.0.1:9" ITEM_PATH,
        .refreshable = true,
        .check = check_body,
        .download = download_body,
};

/* No local cache, a shared store in memory: what the store tests have in common. */
static void use_mem_store(struct fx *f, struct mem_store *m, struct cvma_state_store *store)
{
    memset(m, 0, sizeof *m);
    assert_int_equal(pthread_mutex_init(&m->lock, NULL), 0);
    assert_int_equal(pthread_cond_init(&m->cond, NULL), 0);
    memset(store, 0, sizeof *store);
    store->arg = m;
    store->collateral_get = mem_get;
    store->collateral_put = mem_put;
    f->hooks.store = store;
    f->net.cache = NULL;
    atomic_store(&g_downloads, 0);
}

static void mem_store_cleanup(struct mem_store *m)
{
    free(m->v);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
}

static void get_ok(struct fx *f)
{
    struct cvma_buf out = {0};
    struct cvma_verdict v;
    char err[512];

    cvma_verdict_init(&v);
    enum cvma_status st = cvma_collateral_get(&f->net, &counted_item, &out, &v, err, sizeof err);
    if (st != CVMA_OK) {
        print_error("%s\n", err);
    }
    assert_int_equal(st, CVMA_OK);
    assert_int_equal(out.len, strlen(BODY));
    assert_memory_equal(out.p, BODY, strlen(BODY));
    cvma_buf_free(&out);
    cvma_verdict_cleanup(&v);
}

static void *run_get_ok(void *arg)
{
    get_ok(arg);
    return NULL;
}

/* Without a local cache, a thread that misses after the download landed but while the leader
 * still writes the shared copy takes the leader's bytes: one download. */
static void test_a_miss_while_the_shared_copy_is_written_takes_the_download(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;
    pthread_t leader;

    use_mem_store(f, &m, &store);
    m.hold_put = true;
    assert_int_equal(pthread_create(&leader, NULL, run_get_ok, f), 0);
    pthread_mutex_lock(&m.lock);
    while (!m.in_put) {
        pthread_cond_wait(&m.cond, &m.lock);
    }
    pthread_mutex_unlock(&m.lock);
    get_ok(f); /* the leader is held in its shared put, before it stored anything */
    assert_int_equal(atomic_load(&g_downloads), 1);
    pthread_mutex_lock(&m.lock);
    m.release_put = true;
    pthread_cond_broadcast(&m.cond);
    pthread_mutex_unlock(&m.lock);
    assert_int_equal(pthread_join(leader, NULL), 0);
    assert_non_null(m.v);
    /* The flight is over: the next miss reads the shared copy. Each call asked the store
     * once: two misses (the leader, the thread that took its bytes), then a hit. */
    get_ok(f);
    assert_int_equal(atomic_load(&g_downloads), 1);
    assert_int_equal(atomic_load(&f->stats.shared_misses), 2);
    assert_int_equal(atomic_load(&f->stats.shared_hits), 1);
    mem_store_cleanup(&m);
}

/* A shared value of BODY, fetched now, with no expiry (fetch.c's shared value), in m. */
static void mem_store_body(struct mem_store *m)
{
    int64_t now = (int64_t)time(NULL);
    m->len = 16 + strlen(BODY);
    m->v = calloc(1, m->len);
    assert_non_null(m->v);
    for (int i = 0; i < 8; i++) {
        m->v[7 - i] = (uint8_t)((uint64_t)now >> (8 * i));
    }
    memcpy(m->v + 16, BODY, strlen(BODY));
}

/* A copy from the shared store to the local cache is not written once the item has been
 * evicted since the store was asked: whoever evicted it had the same bytes and refused them,
 * and on disk they would be handed out again (a VCEK for good). Here the eviction comes
 * between the store's answer and the copy, as another thread's would; the bytes are still
 * this call's answer. Another item's eviction does not stop the copy. */
static void test_a_shared_value_evicted_meanwhile_is_not_copied_to_disk(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;
    struct cvma_buf cached = {0};

    use_mem_store(f, &m, &store);
    store.collateral_del = mem_del;
    f->net.cache = &f->cache;
    mem_store_body(&m);
    m.evict_in_get = f;
    get_ok(f);
    assert_true(m.deleted);
    assert_null(m.v);
    assert_int_equal(cvma_cache_get(&f->cache, counted_item.cache_key, &cached), CVMA_E_IO);
    assert_int_equal(atomic_load(&g_downloads), 0);
    assert_int_equal(atomic_load(&f->stats.shared_hits), 1);
    /* An eviction of another item meanwhile costs this one nothing: the copy is written as
     * without one. (With one eviction count for every item it was not, and evidence that
     * could cause evictions, sent over and over, kept every honest download out of the
     * cache.) */
    m.evict_key = "amd-kds http://127.0.0.1:9/vcek/v1/Milan/cert_chain";
    mem_store_body(&m);
    get_ok(f);
    assert_int_equal(cvma_cache_get(&f->cache, counted_item.cache_key, &cached), CVMA_OK);
    assert_int_equal(cached.len, strlen(BODY));
    assert_int_equal(atomic_load(&g_downloads), 0);
    cvma_buf_free(&cached);
    mem_store_cleanup(&m);
}

/* A download callback (arg: the struct mem_store): records its thread, waits until two threads
 * have asked the store (the leader and the one that will wait on it), then 0.2 s for the
 * second to join the flight, and gives BODY. */
static enum cvma_status download_when_joined(const char *url, const struct cvma_http_opts *http,
                                             struct cvma_buf *out, char *err, size_t err_len,
                                             void *arg)
{
    struct mem_store *m = arg;
    (void)url;
    (void)http;
    (void)err;
    (void)err_len;
    atomic_fetch_add(&g_downloads, 1);
    pthread_mutex_lock(&m->lock);
    m->downloader = pthread_self();
    for (double t0 = tu_now(); m->gets < 2 && tu_now() - t0 < 5.0;) {
        mem_wait_a_little(m);
    }
    pthread_mutex_unlock(&m->lock);
    usleep(200000);
    tu_buf_set(out, (const uint8_t *)BODY, strlen(BODY));
    return CVMA_OK;
}

struct evicting_get {
    struct fx *f;
    struct mem_store *m;
    const struct cvma_collateral_item *item;
};

/* Gets the item; the thread that did not download it then finds it bad (as a verification
 * would) and evicts it. */
static void *run_get_then_evict(void *arg)
{
    struct evicting_get *g = arg;
    struct cvma_buf out = {0};
    char err[512];
    enum cvma_status st = cvma_collateral_get(&g->f->net, g->item, &out, NULL, err, sizeof err);
    cvma_buf_free(&out);
    if (st != CVMA_OK) {
        return (void *)"get failed";
    }
    pthread_mutex_lock(&g->m->lock);
    bool leader = pthread_equal(g->m->downloader, pthread_self());
    if (!leader) {
        g->m->evicting = true;
        g->m->evicting_since = tu_now();
        pthread_cond_broadcast(&g->m->cond);
    }
    pthread_mutex_unlock(&g->m->lock);
    if (!leader &&
        cvma_collateral_evict(g->f->net.cache, &g->f->hooks, g->item->cache_key) != CVMA_OK) {
        return (void *)"evict failed";
    }
    return NULL;
}

/* The leader of a download writes the shared copy after it has woken its waiters; a waiter
 * that finds the bytes bad and evicts them before that write must not see them come back to
 * the shared store (for up to the maximum age). The leader's shared put waits here until the
 * waiter's eviction has deleted the item, or 0.5 s once the eviction began (an eviction
 * ordered after that write waits for it). */
static void test_a_download_a_waiter_evicted_is_not_written_back(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;
    struct cvma_buf cached = {0};
    pthread_t th[2];
    struct evicting_get g;
    void *res;
    struct cvma_collateral_item item = counted_item;

    use_mem_store(f, &m, &store);
    store.collateral_del = mem_del;
    f->net.cache = &f->cache;
    m.wait_del = true;
    item.download = download_when_joined;
    item.arg = &m;
    g = (struct evicting_get){f, &m, &item};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, run_get_then_evict, &g), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], &res), 0);
        if (res != NULL) {
            fail_msg("thread %d: %s", i, (const char *)res);
        }
    }
    assert_int_equal(atomic_load(&g_downloads), 1);
    assert_true(m.deleted);
    assert_null(m.v); /* the evicted bytes did not come back to the shared store */
    assert_int_equal(cvma_cache_get(&f->cache, item.cache_key, &cached), CVMA_E_IO);
    mem_store_cleanup(&m);
}

#define OTHER "ITEM-BYTES: well-formed, but not what the URL asked for\n"

/* Form: BODY or OTHER. Admitted (what the URL asked for): BODY only. */
static bool check_either(const struct cvma_buf *b, int64_t now, int64_t *expires_at, char *why,
                         size_t why_len, void *arg)
{
    if (b->len == strlen(OTHER) && memcmp(b->p, OTHER, b->len) == 0) {
        return true;
    }
    return check_body(b, now, expires_at, why, why_len, arg);
}

/* The shared cache is written by others: a value that passes the form check but not the
 * admit check (a VCEK for another chip or TCB under this one's key) is a miss, and the item
 * is downloaded as if the store had nothing; only the download is then used and shared. */
static void test_a_shared_value_that_fails_admit_is_a_miss(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;
    struct cvma_buf out = {0};
    struct cvma_verdict v;
    char err[512];
    const struct cvma_collateral_item item = {
            .what = "test VCEK",
            .url = "http://127.0.0.1:9" ITEM_PATH,
            .cache_key = "amd-kds http://127.0.0.1:9" ITEM_PATH,
            .check = check_either,
            .admit = check_body,
            .download = download_body,
    };

    use_mem_store(f, &m, &store);
    m.len = 16 + strlen(OTHER); /* fetched now, no expiry (fetch.c's shared value) */
    m.v = calloc(1, m.len);
    assert_non_null(m.v);
    int64_t now = (int64_t)time(NULL);
    for (int i = 0; i < 8; i++) {
        m.v[7 - i] = (uint8_t)((uint64_t)now >> (8 * i));
    }
    memcpy(m.v + 16, OTHER, strlen(OTHER));
    cvma_verdict_init(&v);
    assert_int_equal(cvma_collateral_get(&f->net, &item, &out, &v, err, sizeof err), CVMA_OK);
    assert_int_equal(out.len, strlen(BODY));
    assert_memory_equal(out.p, BODY, strlen(BODY));
    assert_int_equal(atomic_load(&g_downloads), 1);
    assert_int_equal(atomic_load(&f->stats.shared_hits), 0);
    assert_int_equal(m.len, 16 + strlen(BODY)); /* the download replaced it */
    assert_memory_equal(m.v + 16, BODY, strlen(BODY));
    cvma_buf_free(&out);
    cvma_verdict_cleanup(&v);
    mem_store_cleanup(&m);
}

/* The download budget's arithmetic: a burst of per_minute, then one each 60/per_minute s, a
 * full burst again after a long pause, and no limit at 0. */
static void test_budget_allows_a_burst_then_one_an_interval(void **state)
{
    (void)state;
    struct cvma_fetch_budget b = {3, 0};
    int64_t wait = -1;

    for (int i = 0; i < 3; i++) {
        assert_true(cvma_fetch_budget_take(&b, 1000, &wait));
        assert_int_equal(wait, 0);
    }
    assert_false(cvma_fetch_budget_take(&b, 1000, &wait));
    assert_int_equal(wait, 20000); /* one each 20 s */
    assert_false(cvma_fetch_budget_take(&b, 20999, &wait));
    assert_int_equal(wait, 1);
    assert_true(cvma_fetch_budget_take(&b, 21000, &wait));
    assert_false(cvma_fetch_budget_take(&b, 21000, &wait));
    assert_int_equal(wait, 20000);
    /* a refusal spends nothing: the next one is still 20 s after the last one taken */
    assert_true(cvma_fetch_budget_take(&b, 41000, &wait));
    /* after a long pause, a whole burst again, and no more */
    for (int i = 0; i < 3; i++) {
        assert_true(cvma_fetch_budget_take(&b, 1000000, &wait));
    }
    assert_false(cvma_fetch_budget_take(&b, 1000000, &wait));
    /* 0: no limit */
    struct cvma_fetch_budget none = {0, 0};
    for (int i = 0; i < 1000; i++) {
        assert_true(cvma_fetch_budget_take(&none, 5, &wait));
    }
    /* more than one a millisecond: one each millisecond, the burst whole */
    struct cvma_fetch_budget fast = {100000, 0};
    for (int i = 0; i < 100000; i++) {
        assert_true(cvma_fetch_budget_take(&fast, 7, &wait));
    }
    assert_false(cvma_fetch_budget_take(&fast, 7, &wait));
    assert_int_equal(wait, 1);
    /* over a minute after the burst, never more than per_minute, whatever the rounding */
    static const unsigned rates[] = {7, 16000, 25000, 30001, 59999, 100000};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(rates); i++) {
        struct cvma_fetch_budget r = {rates[i], 0};
        unsigned long granted = 0;
        while (cvma_fetch_budget_take(&r, 0, &wait)) {
            granted++;
        }
        assert_int_equal(granted, rates[i]); /* the burst */
        granted = 0;
        for (int64_t t = 1; t <= 60000; t++) {
            while (cvma_fetch_budget_take(&r, t, &wait)) {
                granted++;
            }
        }
        /* (the interval rounded up to a microsecond: at most 0.1% fewer) */
        assert_true(granted <= rates[i] && granted + 1 + rates[i] / 1000 >= rates[i]);
    }
}

/* A download item of BODY under key (the download callback: no request leaves). */
static struct cvma_collateral_item budget_item(const char *key)
{
    return (struct cvma_collateral_item){
            .what = "test VCEK",
            .url = key + strlen("amd-kds "),
            .cache_key = key,
            .refreshable = false,
            .budgeted = true,
            .check = check_body,
            .download = download_body,
    };
}

/* With a budget of 2 a minute, a third download is not made: undecided, saying why, counted;
 * cached items and the shared store still answer; a refresh that the budget stops falls back
 * on the cached copy with COLLATERAL_STALE_CACHE. */
static void test_a_spent_budget_downloads_nothing(void **state)
{
    struct fx *f = *state;
    static const char *const keys[] = {"amd-kds http://127.0.0.1:9/vcek/a",
                                       "amd-kds http://127.0.0.1:9/vcek/b",
                                       "amd-kds http://127.0.0.1:9/vcek/c"};
    struct cvma_buf out = {0};
    struct cvma_verdict v;
    char err[512];

    atomic_store(&g_downloads, 0);
    cvma_fetch_flights_set_budget(f->hooks.flights, 2);
    for (int i = 0; i < 2; i++) {
        const struct cvma_collateral_item it = budget_item(keys[i]);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_collateral_get(&f->net, &it, &out, &v, err, sizeof err), CVMA_OK);
        cvma_buf_free(&out);
        cvma_verdict_cleanup(&v);
    }
    assert_int_equal(atomic_load(&g_downloads), 2);
    const struct cvma_collateral_item third = budget_item(keys[2]);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_collateral_get(&f->net, &third, &out, &v, err, sizeof err),
                     CVMA_UNDECIDED);
    assert_null(out.p);
    assert_int_equal(atomic_load(&g_downloads), 2); /* no request */
    assert_non_null(strstr(err, "test VCEK http://127.0.0.1:9/vcek/c: not downloaded: this "
                                "verifier's download budget (2 a minute) is spent; the next "
                                "download may start in "));
    assert_int_equal(atomic_load(&f->stats.budget_refusals[CVMA_FETCH_KDS]), 1);
    assert_int_equal(fetches(f, CVMA_FETCH_KDS, 0), 0);
    cvma_verdict_cleanup(&v);
    /* what is cached spends nothing */
    const struct cvma_collateral_item first = budget_item(keys[0]);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_collateral_get(&f->net, &first, &out, &v, err, sizeof err), CVMA_OK);
    assert_memory_equal(out.p, BODY, strlen(BODY));
    cvma_buf_free(&out);
    cvma_verdict_cleanup(&v);
    /* a refresh the budget stops: the cached copy, with the reason's warning */
    struct cvma_collateral_item again = budget_item(keys[1]);
    again.refreshable = true;
    f->net.max_age = -1; /* every online use refreshes */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_collateral_get(&f->net, &again, &out, &v, err, sizeof err), CVMA_OK);
    assert_memory_equal(out.p, BODY, strlen(BODY));
    assert_int_equal(v.n_reasons, 1);
    assert_int_equal(v.reasons[0].code, CVMA_R_COLLATERAL_STALE_CACHE);
    assert_non_null(strstr(v.reasons[0].detail, "download budget (2 a minute) is spent"));
    assert_int_equal(atomic_load(&g_downloads), 2);
    assert_int_equal(atomic_load(&f->stats.budget_refusals[CVMA_FETCH_KDS]), 2);
    cvma_buf_free(&out);
    cvma_verdict_cleanup(&v);
    /* an item not budgeted (a product's chain or CRL) is downloaded all the same */
    struct cvma_collateral_item chain = budget_item("amd-kds http://127.0.0.1:9/vcek/chain");
    chain.budgeted = false;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_collateral_get(&f->net, &chain, &out, &v, err, sizeof err), CVMA_OK);
    assert_int_equal(atomic_load(&g_downloads), 3);
    assert_int_equal(atomic_load(&f->stats.budget_refusals[CVMA_FETCH_KDS]), 2);
    cvma_buf_free(&out);
    cvma_verdict_cleanup(&v);
}

/* The bound on a wait follows the HTTP options: every attempt, every same-origin redirect hop
 * (a request of its own) and every pause between attempts. */
static void test_flight_wait_bound_covers_every_attempt(void **state)
{
    (void)state;
    struct cvma_http_opts o;

    /* Defaults: 4 attempts and 3 hops of 10 + 30 s, 3 pauses of at most 5 s, the margin. */
    assert_int_equal(cvma_fetch_flight_wait_ms(NULL),
                     7 * 40000L + 3 * CVMA_HTTP_MAX_WAIT_MS + CVMA_FETCH_FLIGHT_MARGIN_MS);
    cvma_http_opts_init(&o);
    o.max_retries = 1000; /* clamped as the client clamps it */
    o.connect_timeout_ms = 1;
    o.timeout_ms = 1;
    assert_int_equal(cvma_fetch_flight_wait_ms(&o),
                     (CVMA_HTTP_RETRIES_LIMIT + 1 + CVMA_HTTP_MAX_HOPS) * 2L +
                             CVMA_HTTP_RETRIES_LIMIT * CVMA_HTTP_MAX_WAIT_MS +
                             CVMA_FETCH_FLIGHT_MARGIN_MS);
    /* Time-outs near LONG_MAX: capped, never an overflow into a negative bound. */
    o.max_retries = 1000;
    o.connect_timeout_ms = LONG_MAX;
    o.timeout_ms = LONG_MAX / 2;
    assert_int_equal(cvma_fetch_flight_wait_ms(&o),
                     (CVMA_HTTP_RETRIES_LIMIT + 1 + CVMA_HTTP_MAX_HOPS) * 2 *
                                     CVMA_HTTP_DURATION_TIMEOUT_CAP_MS +
                             CVMA_HTTP_RETRIES_LIMIT * CVMA_HTTP_MAX_WAIT_MS +
                             CVMA_FETCH_FLIGHT_MARGIN_MS);
}

/* Another instance of the fleet: after `after` seconds it writes its copy (when `copy`) and
 * gives its claim back. */
struct other_instance {
    struct mem_store *m;
    double after;
    bool copy;
};

static void *other_instance_run(void *arg)
{
    struct other_instance *o = arg;
    usleep((useconds_t)(o->after * 1e6));
    pthread_mutex_lock(&o->m->lock);
    if (o->copy) {
        mem_store_body(o->m);
    }
    o->m->claim = 0;
    pthread_mutex_unlock(&o->m->lock);
    return NULL;
}

/* use_mem_store, with the fleet's claims (collateral_claim, collateral_release) in memory. */
static void use_claiming_store(struct fx *f, struct mem_store *m, struct cvma_state_store *store)
{
    use_mem_store(f, m, store);
    store->collateral_claim = mem_claim;
    store->collateral_release = mem_release;
}

/* An item whose download another instance holds the claim on is not downloaded here: the
 * other instance's copy, once in the shared store, is the answer (checked as any value of
 * the store); the claim was asked for again until then. */
static void test_another_instances_download_is_awaited_not_repeated(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;
    pthread_t other;

    use_claiming_store(f, &m, &store);
    m.claim = 2;
    struct other_instance o = {&m, 0.3, true};
    assert_int_equal(pthread_create(&other, NULL, other_instance_run, &o), 0);
    double t0 = tu_now();
    get_ok(f);
    double took = tu_now() - t0;
    assert_int_equal(pthread_join(other, NULL), 0);
    assert_int_equal(atomic_load(&g_downloads), 0);
    assert_true(took >= 0.25 && took < 3.0);
    assert_true(m.claims >= 2); /* asked again while held */
    /* The claim, free again once the copy was there, was taken for a moment to read it, then
     * given back: held by nobody. */
    assert_int_equal(m.releases, 1);
    assert_int_equal(m.claim, 0);
    /* Counted once as a shared miss (the first look), not once a poll. */
    assert_int_equal(atomic_load(&f->stats.shared_misses), 1);
    mem_store_cleanup(&m);
}

/* The other instance writes its copy and gives its claim back between this one's look at the
 * claim (held) and its look for the copy (not there yet): the next round finds the claim free
 * and then the copy, and takes it. Looking for the copy first and then at the claim would have
 * taken the free claim for the holder's failure (or downloaded again). */
static void test_a_copy_landing_between_the_two_looks_is_taken(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;

    use_claiming_store(f, &m, &store);
    m.claim = 2;
    m.finish_after_get = 2; /* the first get is the lookup before the flight */
    get_ok(f);
    assert_int_equal(atomic_load(&g_downloads), 0);
    assert_int_equal(m.claims, 2);
    assert_int_equal(m.gets, 3);
    assert_int_equal(m.claim, 0);
    mem_store_cleanup(&m);
}

/* The other instance gives its claim back without a copy (its download failed): this one
 * fails too, at once, without downloading (as a thread waiting on another thread of its
 * instance does); the claim it then held is given back. */
static void test_another_instances_failed_download_fails_this_one(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;
    pthread_t other;
    struct cvma_buf out = {0};
    char err[512];

    use_claiming_store(f, &m, &store);
    m.claim = 2;
    struct other_instance o = {&m, 0.2, false};
    assert_int_equal(pthread_create(&other, NULL, other_instance_run, &o), 0);
    double t0 = tu_now();
    enum cvma_status st = cvma_collateral_get(&f->net, &counted_item, &out, NULL, err, sizeof err);
    double took = tu_now() - t0;
    assert_int_equal(pthread_join(other, NULL), 0);
    assert_int_equal(st, CVMA_UNDECIDED);
    assert_null(out.p);
    assert_non_null(strstr(err, "another instance's claim on its download ended without a copy"));
    assert_int_equal(atomic_load(&g_downloads), 0);
    assert_true(took >= 0.15 && took < 3.0);
    assert_int_equal(m.claim, 0);
    assert_int_equal(m.releases, 1);
    mem_store_cleanup(&m);
}

/* A claim held and never given back: this one waits as long as the holder's download may
 * take (the flight bound), then fails without downloading. */
static void test_a_claim_never_given_back_fails_after_the_download_time(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;
    struct cvma_buf out = {0};
    char err[512];

    /* The bound: 0.05 + 0.05 s for the one attempt and each of the 3 same-origin redirect
     * hops, and the margin (2 s): 2.4 s. */
    f->http.max_retries = -1;
    f->http.connect_timeout_ms = 50;
    f->http.timeout_ms = 50;
    use_claiming_store(f, &m, &store);
    m.claim = 2;
    double t0 = tu_now();
    enum cvma_status st = cvma_collateral_get(&f->net, &counted_item, &out, NULL, err, sizeof err);
    double took = tu_now() - t0;
    assert_int_equal(st, CVMA_UNDECIDED);
    assert_non_null(strstr(err, "did not land in the shared store within 2400 ms"));
    assert_true(took >= 2.3 && took < 4.5);
    assert_int_equal(atomic_load(&g_downloads), 0);
    assert_int_equal(m.releases, 0);
    mem_store_cleanup(&m);
}

static enum cvma_status download_fails(const char *url, const struct cvma_http_opts *http,
                                       struct cvma_buf *out, char *err, size_t err_len, void *arg)
{
    (void)url;
    (void)http;
    (void)out;
    (void)arg;
    atomic_fetch_add(&g_downloads, 1);
    snprintf(err, err_len, "HTTP 503");
    return CVMA_UNDECIDED;
}

/* A free claim is taken, the item downloaded, its copy written to the store and only then the
 * claim given back; a download that fails gives it back too. A store that cannot say
 * (unreachable) costs nothing: the item is downloaded as without claims. */
static void test_a_free_claim_is_taken_then_given_back_after_the_copy(void **state)
{
    struct fx *f = *state;
    struct mem_store m;
    struct cvma_state_store store;
    struct cvma_buf out = {0};
    char err[512];

    use_claiming_store(f, &m, &store);
    get_ok(f);
    assert_int_equal(atomic_load(&g_downloads), 1);
    assert_int_equal(m.claims, 1);
    assert_int_equal(m.releases, 1);
    assert_int_equal(m.claim, 0);
    assert_true(m.copy_at_release);
    mem_store_cleanup(&m);

    use_claiming_store(f, &m, &store);
    const struct cvma_collateral_item failing = {
            .what = "test CRL",
            .url = "http://127.0.0.1:9" ITEM_PATH,
            .cache_key = "amd-kds http://127.0.0.1:9" ITEM_PATH,
            .refreshable = true,
            .check = check_body,
            .download = download_fails,
    };
    assert_int_equal(cvma_collateral_get(&f->net, &failing, &out, NULL, err, sizeof err),
                     CVMA_UNDECIDED);
    assert_int_equal(atomic_load(&g_downloads), 1);
    assert_int_equal(m.releases, 1);
    assert_int_equal(m.claim, 0);
    assert_false(m.copy_at_release);
    mem_store_cleanup(&m);

    use_claiming_store(f, &m, &store);
    m.claim_down = true;
    get_ok(f);
    assert_int_equal(atomic_load(&g_downloads), 1);
    assert_int_equal(m.claims, 1);
    assert_int_equal(m.releases, 0);
    mem_store_cleanup(&m);
}

int main(void)
{
    int rc;
    const struct CMUnitTest self_contained[] = {
            cmocka_unit_test(test_flight_wait_bound_covers_every_attempt),
            cmocka_unit_test(test_budget_allows_a_burst_then_one_an_interval),
            cmocka_unit_test_setup_teardown(test_a_spent_budget_downloads_nothing, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_a_waiter_gives_up_after_the_download_time_out,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_a_miss_while_the_shared_copy_is_written_takes_the_download, fx_setup,
                    fx_teardown),
            cmocka_unit_test_setup_teardown(test_a_shared_value_that_fails_admit_is_a_miss,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_a_shared_value_evicted_meanwhile_is_not_copied_to_disk, fx_setup,
                    fx_teardown),
            cmocka_unit_test_setup_teardown(test_a_download_a_waiter_evicted_is_not_written_back,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_another_instances_download_is_awaited_not_repeated,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_a_copy_landing_between_the_two_looks_is_taken,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_another_instances_failed_download_fails_this_one,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_a_claim_never_given_back_fails_after_the_download_time, fx_setup,
                    fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_a_free_claim_is_taken_then_given_back_after_the_copy, fx_setup,
                    fx_teardown),
    };
    const struct CMUnitTest with_server[] = {
            cmocka_unit_test_setup_teardown(test_eight_threads_missing_one_item_download_it_once,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_a_failed_download_fails_every_waiter_and_none_hangs, fx_setup,
                    fx_teardown),
    };

    g_src = getenv("CVMATTEST_SRC");
    rc = cmocka_run_group_tests_name("fetch_once", self_contained, NULL, NULL);
    if (rc != 0) {
        return rc;
    }
    if (g_src == NULL || g_src[0] == '\0' || system("python3 -c '' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "skipped the stand-in server tests: no CVMATTEST_SRC or no python3\n");
        return 77;
    }
    return cmocka_run_group_tests_name("fetch_once_server", with_server, NULL, NULL);
}
