/* Helpers shared by the unit tests (header-only; each test is its own executable). */
#ifndef CVMA_TESTS_TESTUTIL_H
#define CVMA_TESTS_TESTUTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/hex.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "common/verdict.h"

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

/* A socket bound to a loopback port (*port) and not listening: connections to it are refused,
 * and nothing else can take the port until the caller closes the socket (returned). */
static inline int tu_refusing_port(int *port)
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
    *port = ntohs(a.sin_port);
    return fd;
}

/* A loopback port nobody listens on now (bound, then closed): for a server a test starts, or
 * for a connection that must be refused. */
static inline int tu_free_port(void)
{
    int port = 0;
    close(tu_refusing_port(&port));
    return port;
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
    assert_int_equal(fclose(f), 0);
}

static inline void tu_copy(const char *from, const char *to)
{
    struct cvma_buf b;
    tu_read(from, &b);
    tu_write(to, b.p, b.len);
    cvma_buf_free(&b);
}

/* The shared vectors' file rel (the caller checked tu_vectors()). */
static inline char *tu_vec(const char *rel)
{
    return tu_path(tu_vectors(), rel);
}

/* The bytes of the vectors' file rel (the test fails when it cannot be read). */
static inline struct cvma_buf tu_vec_read(const char *rel)
{
    struct cvma_buf b = {0};
    char *p = tu_vec(rel);
    tu_read(p, &b);
    free(p);
    return b;
}

static inline bool tu_exists(const char *dir, const char *name)
{
    struct stat st;
    char *p = tu_path(dir, name);
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

/* A fresh directory under $TMPDIR (else /tmp); free it after tu_rmtree. */
static inline char *tu_tmpdir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *d = tu_path(tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", "cvmatest.XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

/* Whether every remove() of the current tu_rmtree went (nftw's callback has no argument). */
static bool tu_rmtree_ok;

static inline int tu_rmtree_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "warning: could not remove %s: %s\n", path, strerror(errno));
        tu_rmtree_ok = false;
    }
    return 0; /* go on with the rest, as rm -rf does */
}

/* Removes dir and everything below it, as rm -rf (without a shell; symbolic links are removed,
 * not followed): true also when dir did not exist, false (with a warning) when anything is left. */
static inline bool tu_rmtree(const char *dir)
{
    tu_rmtree_ok = true;
    if (nftw(dir, tu_rmtree_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT &&
        errno != ENOTDIR) {
        tu_rmtree_ok = false;
    }
    if (!tu_rmtree_ok) {
        fprintf(stderr, "warning: could not remove %s\n", dir);
    }
    return tu_rmtree_ok;
}

/* A NUL-terminated copy of the len bytes at p. */
static inline char *tu_strndup(const void *p, size_t len)
{
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* Little-endian integers at p. */
static inline uint16_t tu_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t tu_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t tu_le64(const uint8_t *p)
{
    return (uint64_t)tu_le32(p) | (uint64_t)tu_le32(p + 4) << 32;
}

/* Whether all n bytes at p are v. */
static inline bool tu_all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != v) {
            return false;
        }
    }
    return true;
}

/* p[i] = start + i (mod 256). */
static inline void tu_fill(uint8_t *p, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(start + i);
    }
}

/* An RFC 3339 time (the test's own constant). */
static inline time_t tu_time(const char *s)
{
    time_t t = 0;
    assert_true(cvma_time_parse_rfc3339(s, &t));
    return t;
}

/* x little-endian at p. */
static inline void tu_put16(uint8_t *p, uint16_t x)
{
    p[0] = (uint8_t)x;
    p[1] = (uint8_t)(x >> 8);
}

static inline void tu_put32(uint8_t *p, uint32_t x)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(x >> (8 * i));
    }
}

static inline void tu_put64(uint8_t *p, uint64_t x)
{
    tu_put32(p, (uint32_t)x);
    tu_put32(p + 4, (uint32_t)(x >> 32));
}

/* out = a malloc'd copy of the n bytes at p. */
static inline void tu_buf_set(struct cvma_buf *out, const uint8_t *p, size_t n)
{
    out->p = malloc(n);
    assert_non_null(out->p);
    memcpy(out->p, p, n);
    out->len = n;
}

/* The first reason of v with code, or NULL. */
static inline const struct cvma_verdict_reason *tu_reason(const struct cvma_verdict *v,
                                                          enum cvma_reason code)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        if (v->reasons[i].code == code) {
            return &v->reasons[i];
        }
    }
    return NULL;
}

/* The first reason of v with code; fails the test when there is none. */
static inline const struct cvma_verdict_reason *tu_reason_must(const struct cvma_verdict *v,
                                                               enum cvma_reason code)
{
    static const struct cvma_verdict_reason none = {.code = CVMA_R_COUNT_};
    const struct cvma_verdict_reason *r = tu_reason(v, code);
    if (r == NULL) {
        fail_msg("no %s reason recorded", cvma_reason_name(code));
        return &none;
    }
    return r;
}

/* The severity of the first reason of v with code, or -1. */
static inline int tu_severity_of(const struct cvma_verdict *v, enum cvma_reason code)
{
    const struct cvma_verdict_reason *r = tu_reason(v, code);
    return r != NULL ? (int)r->severity : -1;
}

/* Whether v holds the reason code with needle in its detail. */
static inline bool tu_detail_has(const struct cvma_verdict *v, enum cvma_reason code,
                                 const char *needle)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        if (v->reasons[i].code == code && strstr(v->reasons[i].detail, needle) != NULL) {
            return true;
        }
    }
    return false;
}

/* Every reason of v on stderr. */
static inline void tu_dump(const struct cvma_verdict *v)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        fprintf(stderr, "  reason %s (%s): %s\n", cvma_reason_name(v->reasons[i].code),
                cvma_severity_name(v->reasons[i].severity), v->reasons[i].detail);
    }
}

/* Asserts tu_detail_has; on a miss, every reason of v is shown first. */
#define TU_ASSERT_DETAIL(v, code, needle)                                                       \
    do {                                                                                        \
        if (!tu_detail_has((v), (code), (needle))) {                                            \
            tu_dump(v);                                                                         \
            fail_msg("no reason %s with '%s'", cvma_reason_name(code), (const char *)(needle)); \
        }                                                                                       \
    } while (0)

static inline void tu_hex(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;
    assert_true(cvma_hex_decode(hex, out, n, &got));
    assert_int_equal(got, n);
}

#endif
