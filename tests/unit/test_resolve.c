/*
 * Name resolution with a deadline (common/resolve.h): an address is converted at once, a name
 * is looked up in a thread of its own, a resolver that does not answer costs the caller its
 * deadline and no more, and only a bounded number of look-ups wait at once. Also the two
 * callers: a Redis connection whose host's look-up hangs fails within its 2 s deadline.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "common/resolve.h"
#include "common/timeutil.h"
#include "server/redis_pool.h"
#include "testutil.h"

/* getaddrinfo as the library calls it (the executable's own definition wins over the C
 * library's): "hang.test" waits until the test lets it go, then answers 127.0.0.1;
 * "none.test" does not exist; "denied.test" fails with EAI_SYSTEM and EACCES; anything else
 * goes to the C library. */
static pthread_mutex_t hang_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hang_cv = PTHREAD_COND_INITIALIZER;
static bool hang_released;
static atomic_int hang_calls;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    void *sym = dlsym(RTLD_NEXT, "getaddrinfo");
    memcpy(&real, &sym, sizeof real); /* (POSIX: a dlsym result is callable so) */
    bool numeric_only = hints != NULL && (hints->ai_flags & AI_NUMERICHOST) != 0;
    if (node != NULL && !numeric_only && strcmp(node, "hang.test") == 0) {
        atomic_fetch_add(&hang_calls, 1);
        pthread_mutex_lock(&hang_lock);
        while (!hang_released) {
            pthread_cond_wait(&hang_cv, &hang_lock);
        }
        pthread_mutex_unlock(&hang_lock);
        return real("127.0.0.1", service, hints, res);
    }
    if (node != NULL && !numeric_only && strcmp(node, "none.test") == 0) {
        return EAI_NONAME;
    }
    if (node != NULL && !numeric_only && strcmp(node, "denied.test") == 0) {
        errno = EACCES;
        return EAI_SYSTEM;
    }
    return real(node, service, hints, res);
}

static void hang_set(bool released)
{
    pthread_mutex_lock(&hang_lock);
    hang_released = released;
    pthread_cond_broadcast(&hang_cv);
    pthread_mutex_unlock(&hang_lock);
}

/* Waits (at most 10 s) until no look-up is left in its thread. */
static void wait_no_pending(void)
{
    for (int i = 0; i < 1000 && cvma_resolve_pending() != 0; i++) {
        usleep(10000);
    }
    assert_int_equal(cvma_resolve_pending(), 0);
}

static const struct addrinfo stream_hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};

static void test_address_needs_no_thread(void **state)
{
    (void)state;
    struct addrinfo *res = NULL;
    hang_set(false);
    assert_int_equal(cvma_getaddrinfo_until("127.0.0.1", "6379", &stream_hints,
                                            cvma_monotonic_ms() + 1000, &res),
                     0);
    assert_non_null(res);
    assert_int_equal(res->ai_family, AF_INET);
    assert_int_equal(cvma_resolve_pending(), 0);
    freeaddrinfo(res);
    assert_int_equal(
            cvma_getaddrinfo_until("::1", "6379", &stream_hints, cvma_monotonic_ms() + 1000, &res),
            0);
    assert_int_equal(res->ai_family, AF_INET6);
    freeaddrinfo(res);
    /* A bad service is said as getaddrinfo says it, without a thread. */
    assert_int_not_equal(cvma_getaddrinfo_until("127.0.0.1", "no-such-service-x", &stream_hints,
                                                cvma_monotonic_ms() + 1000, &res),
                         0);
    assert_null(res);
    assert_int_equal(cvma_resolve_pending(), 0);
}

static void test_name_answered_in_time(void **state)
{
    (void)state;
    struct addrinfo *res = NULL;
    assert_int_equal(cvma_getaddrinfo_until("localhost", "80", &stream_hints,
                                            cvma_monotonic_ms() + 5000, &res),
                     0);
    assert_non_null(res);
    freeaddrinfo(res);
    assert_int_equal(cvma_getaddrinfo_until("none.test", "80", &stream_hints,
                                            cvma_monotonic_ms() + 5000, &res),
                     EAI_NONAME);
    assert_null(res);
    /* A system error in the look-up's thread: its errno reaches the caller. */
    errno = ENOENT;
    assert_int_equal(cvma_getaddrinfo_until("denied.test", "80", &stream_hints,
                                            cvma_monotonic_ms() + 5000, &res),
                     EAI_SYSTEM);
    assert_int_equal(errno, EACCES);
    /* No hints, as getaddrinfo allows: for an address and for a name. */
    assert_int_equal(
            cvma_getaddrinfo_until("127.0.0.1", "80", NULL, cvma_monotonic_ms() + 5000, &res), 0);
    freeaddrinfo(res);
    assert_int_equal(
            cvma_getaddrinfo_until("localhost", "80", NULL, cvma_monotonic_ms() + 5000, &res), 0);
    freeaddrinfo(res);
    /* No deadline: getaddrinfo as it is. */
    assert_int_equal(cvma_getaddrinfo_until("localhost", "80", &stream_hints, 0, &res), 0);
    freeaddrinfo(res);
    wait_no_pending();
}

static void test_hanging_resolver_costs_the_deadline(void **state)
{
    (void)state;
    struct addrinfo *res = NULL;
    hang_set(false);
    int64_t t0 = cvma_monotonic_ms();
    assert_int_equal(cvma_getaddrinfo_until("hang.test", "80", &stream_hints, t0 + 300, &res),
                     EAI_AGAIN);
    int64_t took = cvma_monotonic_ms() - t0;
    assert_null(res);
    assert_true(took >= 290 && took < 3000);
    assert_int_equal(cvma_resolve_pending(), 1);
    /* The answer comes after the caller left: the thread frees it (ASan would say if not). */
    hang_set(true);
    wait_no_pending();

    /* Answered before the deadline: the caller gets it. */
    assert_int_equal(cvma_getaddrinfo_until("hang.test", "80", &stream_hints,
                                            cvma_monotonic_ms() + 5000, &res),
                     0);
    assert_non_null(res);
    freeaddrinfo(res);
    wait_no_pending();
}

static void test_pending_lookups_bounded(void **state)
{
    (void)state;
    struct addrinfo *res = NULL;
    hang_set(false);
    int calls = atomic_load(&hang_calls);
    for (int i = 0; i < CVMA_RESOLVE_PENDING_MAX; i++) {
        assert_int_equal(cvma_getaddrinfo_until("hang.test", "80", &stream_hints,
                                                cvma_monotonic_ms() + 50, &res),
                         EAI_AGAIN);
    }
    assert_int_equal(cvma_resolve_pending(), CVMA_RESOLVE_PENDING_MAX);
    /* One more: refused at once, no thread, no look-up. */
    int64_t t0 = cvma_monotonic_ms();
    assert_int_equal(cvma_getaddrinfo_until("hang.test", "80", &stream_hints, t0 + 5000, &res),
                     EAI_AGAIN);
    assert_true(cvma_monotonic_ms() - t0 < 1000);
    assert_int_equal(cvma_resolve_pending(), CVMA_RESOLVE_PENDING_MAX);
    for (int i = 0; i < 100 && atomic_load(&hang_calls) < calls + CVMA_RESOLVE_PENDING_MAX; i++) {
        usleep(10000);
    }
    assert_int_equal(atomic_load(&hang_calls), calls + CVMA_RESOLVE_PENDING_MAX);
    /* An address still needs no thread while they wait. */
    assert_int_equal(cvma_getaddrinfo_until("127.0.0.1", "80", &stream_hints,
                                            cvma_monotonic_ms() + 1000, &res),
                     0);
    freeaddrinfo(res);
    hang_set(true);
    wait_no_pending();
}

/* The service's Redis host, looked up by a resolver that does not answer: no connection
 * within the operation's 2 s deadline, not a worker held until the resolver gives up. */
static void test_redis_host_lookup_within_deadline(void **state)
{
    (void)state;
    char err[256] = "";
    hang_set(false);
    struct cvma_redis_pool *p =
            cvma_redis_pool_new("redis://hang.test:6379", NULL, err, sizeof err);
    assert_non_null(p);
    int64_t t0 = cvma_monotonic_ms();
    assert_null(cvma_redis_take(p));
    int64_t took = cvma_monotonic_ms() - t0;
    assert_true(took >= 1900 && took < 5000);
    cvma_redis_pool_free(p);
    hang_set(true);
    wait_no_pending();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_address_needs_no_thread),
            cmocka_unit_test(test_name_answered_in_time),
            cmocka_unit_test(test_hanging_resolver_costs_the_deadline),
            cmocka_unit_test(test_pending_lookups_bounded),
            cmocka_unit_test(test_redis_host_lookup_within_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
