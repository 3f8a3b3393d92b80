/* Helpers shared by the unit tests (header-only; each test is its own executable). */
#ifndef CVMA_TESTS_TESTUTIL_H
#define CVMA_TESTS_TESTUTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/hex.h"
#include "common/util.h"

/* The shared vectors directory, or NULL (then tests skip with a message). */
static inline const char *tu_vectors(void)
{
    const char *d = getenv("CVMATTEST_VECTORS");
    struct stat st;
    if (d == NULL || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return NULL;
    }
    return d;
}

#define TU_NEED_VECTORS()                                                                     \
    do {                                                                                      \
        if (tu_vectors() == NULL) {                                                           \
            fprintf(stderr, "SKIP: shared test vectors not found (set CVMATTEST_VECTORS)\n"); \
            skip();                                                                           \
        }                                                                                     \
    } while (0)

/* A loopback port nobody listens on now (bound, then closed): for a server a test starts, or
 * for a connection that must be refused. */
static inline int tu_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static inline char *tu_path(const char *a, const char *b)
{
    char *p = cvma_path_join(a, b);
    assert_non_null(p);
    return p;
}

static inline void tu_read(const char *path, struct cvma_buf *out)
{
    if (cvma_file_read(path, 1 << 24, out) != CVMA_OK) {
        fail_msg("cannot read %s", path);
    }
}

static inline void tu_write(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    fclose(f);
}

static inline void tu_copy(const char *from, const char *to)
{
    struct cvma_buf b;
    tu_read(from, &b);
    tu_write(to, b.p, b.len);
    cvma_buf_free(&b);
}

static inline char *tu_tmpdir(void)
{
    char tmpl[] = "/tmp/cvmatest.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    char *r = strdup(d);
    assert_non_null(r);
    return r;
}

static inline void tu_rmtree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "warning: could not remove %s\n", dir);
    }
}

static inline void tu_hex(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;
    assert_true(cvma_hex_decode(hex, out, n, &got));
    assert_int_equal(got, n);
}

#endif
