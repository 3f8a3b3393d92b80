/*
 * The certificate-bound endpoint's HTTP (src/atls/atls_http.h): a table of request heads
 * (the server's 200/404/400 split and the nonce it takes) and of responses (the client's
 * acceptance and the body's offset), each rule both ways.
 */
#include "atls/atls_http.h"
#include "cvmattest/atls.h"
#include "testutil.h"

#define WK  CVMA_ATLS_WELL_KNOWN
#define H16 "000102030405060708090a0b0c0d0e0f" /* 16 bytes */
#define H17 H16 "10"                           /* 17 bytes */
#define H64                                                                \
    H16 "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f" \
        "303132333435363738393a3b3c3d3e3f" /* 64 bytes */
#define TAIL " HTTP/1.1\r\nHost: x\r\n\r\n"

struct req_case {
    const char *head;
    size_t len; /* 0: strlen(head) */
    enum cvma_atls_http_req want;
    size_t nonce_len;
};

static const struct req_case reqs[] = {
        /* The endpoint with one good nonce; other parameters ignored, any order. */
        {"GET " WK "?nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_OK, 16},
        {"GET " WK "?nonce=" H17 TAIL, 0, CVMA_ATLS_HTTP_OK, 17},
        {"GET " WK "?nonce=" H64 TAIL, 0, CVMA_ATLS_HTTP_OK, 64},
        {"GET " WK "?a=1&nonce=" H16 "&b=2" TAIL, 0, CVMA_ATLS_HTTP_OK, 16},
        {"GET " WK "?&&nonce=" H16 "&" TAIL, 0, CVMA_ATLS_HTTP_OK, 16},
        {"GET " WK "?nonce=" H16 "&noncex=1&xnonce=" H16 "&nonc" TAIL, 0, CVMA_ATLS_HTTP_OK, 16},
        {"GET " WK "?nonce=000102030405060708090A0B0C0D0E0F" TAIL, 0, CVMA_ATLS_HTTP_OK, 16},
        {"GET " WK "?nonce=" H16 " X", 0, CVMA_ATLS_HTTP_OK, 16}, /* only "GET " target " " */
        /* Not the request line or not the path: 404. */
        {"", 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET", 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET ", 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET  HTTP/1.1\r\n\r\n", 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"POST " WK "?nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"get " WK "?nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET /?nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET " WK "/?nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET " WK "x?nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET /.well-known/cvmattest/evidenc?nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET /.WELL-KNOWN/cvmattest/evidence?nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET " WK "?nonce=" H16 "\r\n\r\n", 0, CVMA_ATLS_HTTP_NOT_FOUND, 0}, /* no " HTTP" */
        {"GET " WK "?nonce=" H16 "\n", 0, CVMA_ATLS_HTTP_NOT_FOUND, 0},
        {"GET " WK "?nonce=" H16, 0, CVMA_ATLS_HTTP_NOT_FOUND, 0}, /* the bytes end */
        {"GET " WK "\0 HTTP/1.1\r\n\r\n", sizeof("GET " WK "\0 HTTP/1.1\r\n\r\n") - 1,
         CVMA_ATLS_HTTP_NOT_FOUND, 0}, /* a NUL ends the target */
        /* The endpoint without exactly one good nonce: 400. */
        {"GET " WK TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?a=1" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?Nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=" H16 "&nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        /* a nonce parameter without "=" is one too: never skipped, so a second nonce */
        {"GET " WK "?nonce&nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=" H16 "&nonce" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=&nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=" H16 "&nonce=zz" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=zz&nonce=" H16 TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=000102030405060708090a0b0c0d0e" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE,
         0},                                                                 /* 15 bytes */
        {"GET " WK "?nonce=" H64 "40" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0}, /* 65 bytes */
        {"GET " WK "?nonce=" H16 "1" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},  /* odd */
        {"GET " WK "?nonce=000102030405060708090a0b0c0d0eg0" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=%30%30" H16 TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0}, /* no decoding */
        {"GET " WK "?nonce=" H16 "\xc3\xa9" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
        {"GET " WK "?nonce=+" H16 "0" TAIL, 0, CVMA_ATLS_HTTP_BAD_NONCE, 0},
};

static void test_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        const struct req_case *c = &reqs[i];
        uint8_t nonce[64];
        size_t n = 99, len = c->len != 0 ? c->len : strlen(c->head);
        memset(nonce, 0xee, sizeof nonce);
        enum cvma_atls_http_req got =
                cvma_atls_http_parse_request((const uint8_t *)c->head, len, nonce, &n);
        if (got != c->want || n != c->nonce_len) {
            print_error("request %zu: got %d (%zu bytes), want %d (%zu bytes)\n", i, (int)got, n,
                        (int)c->want, c->nonce_len);
        }
        assert_int_equal(got, c->want);
        assert_int_equal(n, c->nonce_len);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(nonce[k], (uint8_t)k); /* H16..H64 are 00 01 02 ... */
        }
    }
}

/* Every prefix of a good request (the bytes cut short): never OK, never past the end. */
static void test_request_prefixes(void **state)
{
    (void)state;
    static const char full[] = "GET " WK "?nonce=" H16 " HTTP/1.1\r\n\r\n";
    const size_t good = strlen("GET " WK "?nonce=" H16 " ");
    for (size_t len = 0; len <= sizeof full - 1; len++) {
        uint8_t *p = malloc(len > 0 ? len : 1); /* exactly len bytes: ASan sees an overrun */
        assert_non_null(p);
        memcpy(p, full, len);
        uint8_t nonce[64];
        size_t n = 99;
        enum cvma_atls_http_req got = cvma_atls_http_parse_request(p, len, nonce, &n);
        assert_int_equal(got, len >= good ? CVMA_ATLS_HTTP_OK : CVMA_ATLS_HTTP_NOT_FOUND);
        assert_int_equal(n, len >= good ? 16 : 0);
        free(p);
    }
}

struct resp_case {
    const char *resp;
    size_t len; /* 0: strlen(resp) */
    bool want;
    size_t body_off;
};

#define OKH "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"

static const struct resp_case resps[] = {
        {OKH "{\"a\":1}", 0, true, sizeof OKH - 1},
        {OKH, 0, true, sizeof OKH - 1}, /* an empty body */
        {"HTTP/1.1 200\r\n\r\n", 0, true, 16},
        {"HTTP/1.1 200 OK\r\n\r\nbody\r\n\r\nmore", 0, true, 19}, /* the first blank line */
        {"HTTP/1.1 200 OK\r\n\r\n\0body", sizeof("HTTP/1.1 200 OK\r\n\r\n\0body") - 1, true,
         19}, /* a NUL in the body is the body's */

        {"", 0, false, 0},
        {"HTTP/1.1 20", 0, false, 0},
        {"HTTP/1.1 200", 0, false, 0},
        {"HTTP/1.1 2000\r\n\r\n", 0, false, 0}, /* the status code is 200, not 2000 */
        {"HTTP/1.1 200 OK\r\n", 0, false, 0},
        {"HTTP/1.1 200 OK\r\n\r", 0, false, 0},
        {"HTTP/1.1 200 OK\n\n{}", 0, false, 0},
        {"HTTP/1.1 404 Not Found\r\n\r\n{}", 0, false, 0},
        {"HTTP/1.1 400 Bad Request\r\n\r\n{}", 0, false, 0},
        {"HTTP/1.0 200 OK\r\n\r\n{}", 0, false, 0},
        {"http/1.1 200 OK\r\n\r\n{}", 0, false, 0},
        {" HTTP/1.1 200 OK\r\n\r\n{}", 0, false, 0},
        {"HTTP/1.1 200 OK\r\nX: \0\r\n\r\n{}", sizeof("HTTP/1.1 200 OK\r\nX: \0\r\n\r\n{}") - 1,
         false, 0}, /* a NUL in the head */
};

static void test_responses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof resps / sizeof resps[0]; i++) {
        const struct resp_case *c = &resps[i];
        size_t len = c->len != 0 ? c->len : strlen(c->resp), off = 99;
        uint8_t *p = malloc(len > 0 ? len : 1); /* exactly len bytes */
        assert_non_null(p);
        memcpy(p, c->resp, len);
        bool got = cvma_atls_http_response_body(p, len, &off);
        if (got != c->want || off != c->body_off) {
            print_error("response %zu: got %d (body at %zu), want %d (body at %zu)\n", i, got, off,
                        c->want, c->body_off);
        }
        assert_int_equal(got, c->want);
        assert_int_equal(off, c->body_off);
        assert_true(off <= len);
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_requests),
            cmocka_unit_test(test_request_prefixes),
            cmocka_unit_test(test_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
