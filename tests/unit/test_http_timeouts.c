/*
 * The HTTP client's connect time-out (src/collateral/http.h): a server that never completes the
 * TCP handshake (a listener whose accept queue is full: the kernel drops further SYNs) is
 * given up after connect_timeout_ms, not after the whole transfer's time-out. (The transfer
 * time-out, a server that accepts and then says nothing, is tested in test_kds.c.) And a
 * server's answer libcurl itself refuses (a header line over its 100 KiB limit) is collateral
 * not had, not this process out of memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collateral/http.h"
#include "cvmattest/cvmattest.h"
#include "testutil.h"
#include "tu_server.h"

#define FILLERS 8

static void test_http_connect_timeout_applies(void **state)
{
    int port = 0, fillers[FILLERS];
    char url[64], err[256] = "";
    struct cvma_buf body = {0};
    long code = -1;
    (void)state;

    /* A listener that never accepts, its queue filled by connections that are never taken. */
    int l = tu_refusing_port(&port);
    assert_int_equal(listen(l, 0), 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    for (int i = 0; i < FILLERS; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fillers[i] >= 0);
        assert_int_equal(fcntl(fillers[i], F_SETFL, O_NONBLOCK), 0);
        int rc = connect(fillers[i], (struct sockaddr *)&a, sizeof a);
        assert_true(rc == 0 || errno == EINPROGRESS);
    }
    usleep(200 * 1000);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);

    struct cvma_http_opts o = {.connect_timeout_ms = 300, .timeout_ms = 20000, .max_retries = -1};
    double t0 = tu_now();
    enum cvma_status st = cvma_http_get(&o, url, &body, &code, err, sizeof err);
    double took = tu_now() - t0;

    assert_int_equal(st, CVMA_UNDECIDED);
    assert_int_equal(code, 0); /* no HTTP answer */
    assert_int_equal(body.len, 0);
    assert_non_null(strstr(err, url));
    /* The connect time-out, not the transfer's 20 s: well under 5 s. */
    if (took < 0.25 || took > 5.0) {
        fail_msg("gave up after %.2f s (connect time-out 0.3 s, transfer 20 s): %s", took, err);
    }

    for (int i = 0; i < FILLERS; i++) {
        close(fillers[i]);
    }
    close(l);
}

/* One connection on listener fd: the request read, then an answer whose X-Pad header line is
 * 110 000 bytes (libcurl 7.88 keeps at most 100 KiB of one header). */
static void *giant_header_server(void *arg)
{
    int l = *(int *)arg, c = accept(l, NULL, NULL);
    if (c < 0) {
        return NULL;
    }
    char req[4096];
    (void)!read(c, req, sizeof req);
    static const char head[] = "HTTP/1.1 200 OK\r\nX-Pad: ",
                      tail[] = "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    size_t pad = 110000, n = sizeof head - 1 + pad + sizeof tail - 1, off = 0;
    char *a = malloc(n);
    if (a != NULL) {
        memcpy(a, head, sizeof head - 1);
        memset(a + sizeof head - 1, 'A', pad);
        memcpy(a + sizeof head - 1 + pad, tail, sizeof tail - 1);
        for (ssize_t w; off < n && (w = write(c, a + off, n - off)) > 0;) {
            off += (size_t)w;
        }
        free(a);
    }
    close(c);
    return NULL;
}

static void test_http_giant_header_is_undecided(void **state)
{
    int port = 0;
    char url[64], err[512] = "";
    struct cvma_buf body = {0};
    long code = -1;
    pthread_t t;
    (void)state;

    int l = tu_refusing_port(&port);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(pthread_create(&t, NULL, giant_header_server, &l), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    struct cvma_http_opts o = {.connect_timeout_ms = 5000, .timeout_ms = 20000, .max_retries = -1};
    enum cvma_status st = cvma_http_get(&o, url, &body, &code, err, sizeof err);
    pthread_join(t, NULL);
    close(l);

    /* Undecided (exit 3, COLLATERAL_UNAVAILABLE), not CVMA_E_NOMEM (exit 2 "out of memory"). */
    assert_int_equal(st, CVMA_UNDECIDED);
    assert_int_equal(body.len, 0);
    assert_non_null(strstr(err, url));
    assert_non_null(strstr(err, "100 KiB"));
}

/* One connection on listener fd: the request kept (up to 4 KiB), then an empty 200. */
struct ua_server {
    int l;
    char req[4096];
};

static void *keep_request_server(void *arg)
{
    struct ua_server *u = arg;
    int c = accept(u->l, NULL, NULL);
    if (c < 0) {
        return NULL;
    }
    ssize_t n = read(c, u->req, sizeof u->req - 1);
    u->req[n > 0 ? n : 0] = '\0';
    static const char ans[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!write(c, ans, sizeof ans - 1);
    close(c);
    return NULL;
}

/* KDS and PCS are told which cvmattest asks: its own version, never a stale one. */
static void test_http_user_agent_is_this_version(void **state)
{
    int port = 0;
    char url[64], err[512] = "";
    struct cvma_buf body = {0};
    long code = -1;
    pthread_t t;
    struct ua_server u = {.l = tu_refusing_port(&port)};
    (void)state;

    assert_int_equal(listen(u.l, 1), 0);
    assert_int_equal(pthread_create(&t, NULL, keep_request_server, &u), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    struct cvma_http_opts o = {.connect_timeout_ms = 5000, .timeout_ms = 20000, .max_retries = -1};
    enum cvma_status st = cvma_http_get(&o, url, &body, &code, err, sizeof err);
    pthread_join(t, NULL);
    close(u.l);
    assert_int_equal(st, CVMA_OK);
    assert_int_equal(code, 200);
    if (strstr(u.req, "\r\nUser-Agent: cvmattest/" CVMATTEST_VERSION "\r\n") == NULL) {
        fail_msg("no User-Agent cvmattest/%s in: %s", CVMATTEST_VERSION, u.req);
    }
    cvma_buf_free(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_http_connect_timeout_applies),
            cmocka_unit_test(test_http_giant_header_is_undecided),
            cmocka_unit_test(test_http_user_agent_is_this_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
