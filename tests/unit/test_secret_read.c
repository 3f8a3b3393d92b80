/*
 * Secrets read from files are wiped before their memory is freed, on every path
 * (cvma_file_read_secret, cvma_serve_redis_password_read): a file over the limit, a password
 * refused, a buffer that grew, and a read that succeeded.
 *
 * The allocator is the C library's, reached through realloc and free defined here
 * (the test executable's own win over the library's, as in test_oom). While a read is
 * watched, every block given to free or to realloc (which may move the bytes and free the old
 * block itself) is searched for the secret's marker: one found is a secret freed unwiped.
 * Builds with a sanitizer keep their own allocator: there the test is skipped.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "server/config.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SECRET_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
        __has_feature(memory_sanitizer)
#define SECRET_SANITIZED 1
#endif
#endif

#ifndef SECRET_SANITIZED
/* 16 bytes that appear nowhere but in the secret files written here. */
static const char MARK[] = "Zq7#secret-MARK!";
#define MARK_LEN (sizeof MARK - 1)

static bool watching;   /* one thread only */
static long unwiped;    /* blocks freed or realloc'd with the marker in them */
static long freed_seen; /* blocks freed while watching (the watch saw something) */

void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static bool holds_mark(void *p)
{
    const unsigned char *b = p;
    size_t n = malloc_usable_size(p);
    for (size_t i = 0; n >= MARK_LEN && i <= n - MARK_LEN; i++) {
        if (memcmp(b + i, MARK, MARK_LEN) == 0) {
            return true;
        }
    }
    return false;
}

void *realloc(void *p, size_t n)
{
    if (watching && p != NULL && holds_mark(p)) {
        unwiped++;
    }
    return __libc_realloc(p, n);
}

void free(void *p)
{
    if (watching && p != NULL) {
        freed_seen++;
        if (holds_mark(p)) {
            unwiped++;
        }
    }
    __libc_free(p);
}

/* dir/name holding n bytes of the marker repeated, then tail (may be ""). */
static char *write_secret(const char *dir, const char *name, size_t n, const char *tail)
{
    char *path = tu_path(dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fputc(MARK[i % MARK_LEN], fp), MARK[i % MARK_LEN]);
    }
    assert_int_equal(fputs(tail, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    return path;
}
#endif

static int setup(void **state)
{
#ifdef SECRET_SANITIZED
    (void)state;
    return 0;
#else
    *state = tu_tmpdir();
    return *state != NULL ? 0 : -1;
#endif
}

static int teardown(void **state)
{
    if (*state != NULL) {
        tu_rmtree(*state);
        free(*state);
    }
    return 0;
}

#ifndef SECRET_SANITIZED
static void watch(void)
{
    unwiped = 0;
    freed_seen = 0;
    watching = true;
}

/* The password read from path: the reason, and *pw (wiped and freed here, unwatched). */
static const char *password_of(const char *path, char **pw)
{
    watch();
    const char *why = cvma_serve_redis_password_read(path, pw);
    watching = false;
    return why;
}
#endif

static void test_redis_password_over_the_limit_is_wiped(void **state)
{
#ifdef SECRET_SANITIZED
    (void)state;
    skip();
#else
    char *pw = (char *)1;
    char *path = write_secret(*state, "long", 2000, "\n");
    assert_string_equal(password_of(path, &pw), "unreadable, or over 1024 bytes");
    assert_null(pw);
    assert_true(freed_seen > 0); /* the read's buffer was freed while watched */
    assert_int_equal(unwiped, 0);
    free(path);
#endif
}

static void test_redis_password_refused_is_wiped(void **state)
{
#ifdef SECRET_SANITIZED
    (void)state;
    skip();
#else
    /* Within the file limit but over the password's (1025 bytes and a line end), and two
     * lines: read whole, then refused. */
    const struct {
        size_t n;
        const char *tail, *why;
    } cases[] = {
            {1025, "\n", "over 1024 bytes"},
            {40, "\nsecond line\n", "more than one line, or a NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *pw = (char *)1;
        char *path = write_secret(*state, "refused", cases[i].n, cases[i].tail);
        assert_string_equal(password_of(path, &pw), cases[i].why);
        assert_null(pw);
        assert_true(freed_seen > 0);
        assert_int_equal(unwiped, 0);
        free(path);
    }
#endif
}

static void test_redis_password_read_leaves_only_the_copy(void **state)
{
#ifdef SECRET_SANITIZED
    (void)state;
    skip();
#else
    char *pw = NULL;
    char *path = write_secret(*state, "ok", 1024, "\r\n");
    assert_null(password_of(path, &pw));
    assert_non_null(pw);
    assert_int_equal(strlen(pw), 1024);
    assert_memory_equal(pw, MARK, MARK_LEN);
    assert_true(freed_seen > 0);
    assert_int_equal(unwiped, 0);
    /* and the caller's copy goes as the service's do: cvma_str_free_secret, watched */
    watch();
    cvma_str_free_secret(pw);
    watching = false;
    assert_int_equal(freed_seen, 1);
    assert_int_equal(unwiped, 0);
    free(path);
#endif
}

static void test_file_read_secret_wipes_what_it_outgrew(void **state)
{
#ifdef SECRET_SANITIZED
    (void)state;
    skip();
#else
    /* 20000 bytes: the buffer grows from 4096 three times; then over a limit of 10000. */
    char *path = write_secret(*state, "big", 20000, "");
    struct cvma_buf b = {0};
    watch();
    assert_int_equal(cvma_file_read_secret(path, 1u << 20, &b), CVMA_OK);
    watching = false;
    assert_int_equal(b.len, 20000);
    assert_true(freed_seen > 0);
    assert_int_equal(unwiped, 0);
    watch();
    cvma_buf_free_secret(&b);
    watching = false;
    assert_null(b.p);
    assert_true(freed_seen > 0);
    assert_int_equal(unwiped, 0);
    watch();
    assert_int_equal(cvma_file_read_secret(path, 10000, &b), CVMA_E_IO);
    watching = false;
    assert_null(b.p);
    assert_true(freed_seen > 0);
    assert_int_equal(unwiped, 0);
    free(path);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_redis_password_over_the_limit_is_wiped, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_redis_password_refused_is_wiped, setup, teardown),
            cmocka_unit_test_setup_teardown(test_redis_password_read_leaves_only_the_copy, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_file_read_secret_wipes_what_it_outgrew, setup,
                                            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
