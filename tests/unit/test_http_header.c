/*
 * The interpretation of one HTTP response header line (collateral/http_internal.h), as the
 * HTTP client's header callback uses it: status lines, wanted headers matched without regard
 * to case, values trimmed, over-long values refused, start index. Also fuzzed by
 * fuzz/fuzz_http_header.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collateral/http_internal.h"

static const struct cvma_http_header WANT[] = {
        {"TCB-Info-Issuer-Chain", NULL},
        {"a", NULL},
        {"tcb-info-issuer-chain", NULL},
};
#define N_WANT (sizeof WANT / sizeof WANT[0])

static enum cvma_http_line line(const char *s, size_t from, size_t *which, struct cvma_span *v)
{
    return cvma_http_header_line((const uint8_t *)s, strlen(s), WANT, N_WANT, from, which, v);
}

static void test_http_header_kinds(void **state)
{
    size_t which = 99;
    struct cvma_span v;
    (void)state;

    assert_int_equal(line("HTTP/1.1 200 OK\r\n", 0, &which, &v), CVMA_HTTP_LINE_STATUS);
    assert_int_equal(which, N_WANT);
    assert_null(v.p);
    assert_int_equal(line("HTTP/", 0, &which, &v), CVMA_HTTP_LINE_STATUS);
    /* Only "HTTP/" exactly, with its case, starts a response. */
    assert_int_equal(line("http/1.1 200 OK\r\n", 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(line("HTTP", 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(line("\r\n", 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(line("", 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(cvma_http_header_line(NULL, 0, WANT, N_WANT, 0, &which, &v),
                     CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(line("Content-Type: text/plain\r\n", 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(which, N_WANT);
    assert_int_equal(v.len, 0);
    /* A name that only starts like a wanted one, or contains it. */
    assert_int_equal(line("TCB-Info-Issuer-Chains: x\r\n", 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(line("ab: x\r\n", 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(line(" a: x\r\n", 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
}

static void test_http_header_value(void **state)
{
    const char *s = "tcb-INFO-issuer-CHAIN: \t %41:b c \t\r\n";
    size_t which = 99;
    struct cvma_span v;
    (void)state;

    assert_int_equal(line(s, 0, &which, &v), CVMA_HTTP_LINE_WANTED);
    assert_int_equal(which, 0);
    assert_ptr_equal(v.p, (const uint8_t *)s + 25);
    assert_int_equal(v.len, 7);
    assert_memory_equal(v.p, "%41:b c", 7);
    /* From index 1 on, the second entry of that name. */
    assert_int_equal(line(s, 1, &which, &v), CVMA_HTTP_LINE_WANTED);
    assert_int_equal(which, 2);
    assert_int_equal(line(s, 3, &which, &v), CVMA_HTTP_LINE_IGNORED);
    assert_int_equal(which, N_WANT);
    /* An empty value, and a name without CR LF after its value. */
    assert_int_equal(line("A: \r\n", 0, &which, &v), CVMA_HTTP_LINE_WANTED);
    assert_int_equal(which, 1);
    assert_int_equal(v.len, 0);
    assert_int_equal(line("a:x", 0, &which, &v), CVMA_HTTP_LINE_WANTED);
    assert_int_equal(v.len, 1);
    assert_int_equal(v.p[0], 'x');
}

static void test_http_header_value_limit(void **state)
{
    size_t n = 2 + CVMA_HTTP_MAX_HEADER_VALUE + 1 + 4;
    char *s = malloc(n + 1);
    size_t which = 99;
    struct cvma_span v;
    (void)state;

    assert_non_null(s);
    memcpy(s, "a: ", 3);
    memset(s + 3, 'v', CVMA_HTTP_MAX_HEADER_VALUE);
    memcpy(s + 3 + CVMA_HTTP_MAX_HEADER_VALUE, " \r\n", 4); /* trailing blanks do not count */
    assert_int_equal(line(s, 0, &which, &v), CVMA_HTTP_LINE_WANTED);
    assert_int_equal(v.len, CVMA_HTTP_MAX_HEADER_VALUE);
    s[3 + CVMA_HTTP_MAX_HEADER_VALUE] = 'v';
    assert_int_equal(line(s, 0, &which, &v), CVMA_HTTP_LINE_TOO_LONG);
    assert_int_equal(which, 1);
    assert_int_equal(v.len, CVMA_HTTP_MAX_HEADER_VALUE + 1);
    /* Not wanted: not refused. */
    s[0] = 'b';
    assert_int_equal(line(s, 0, &which, &v), CVMA_HTTP_LINE_IGNORED);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_http_header_kinds),
            cmocka_unit_test(test_http_header_value),
            cmocka_unit_test(test_http_header_value_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
