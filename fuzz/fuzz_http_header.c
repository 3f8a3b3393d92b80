/*
 * libFuzzer target: the response header lines of collateral servers (AMD KDS, Intel PCS) and
 * the URL-encoded issuer chains PCS sends in them. The first byte picks options, the rest is
 * the line.
 *  - cvma_http_header_line (collateral/http_internal.h) against a reading written out here:
 *    "HTTP/" first is a status line; otherwise the name is what comes before the first ':',
 *    matched ASCII case-insensitively, and the value the rest without blanks, tabs, CR and LF
 *    at either end, refused over CVMA_HTTP_MAX_HEADER_VALUE bytes. The same kind, index and
 *    value (a span of the line itself) from every start index; nothing else is given back.
 *    With option bit 1 the line is stretched to a value of about the limit (one byte under to
 *    two over), which libFuzzer's short inputs never reach.
 *  - cvma_pcs_url_decode on the line up to its first NUL against a percent-decoder written out
 *    here (%XX with two hex digits, never %00): the same answer and bytes; a refusal leaves
 *    the output empty.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/http_internal.h"
#include "collateral/pcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool same_name(const uint8_t *p, size_t n, const char *name)
{
    if (strlen(name) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(p[i]) != lower((unsigned char)name[i])) {
            return false;
        }
    }
    return true;
}

static void check_line(const uint8_t *line, size_t n, const struct cvma_http_header *want,
                       size_t n_want)
{
    const uint8_t *colon = n > 0 ? memchr(line, ':', n) : NULL;
    bool status = n >= 5 && memcmp(line, "HTTP/", 5) == 0;
    size_t a = 0, b = 0;

    if (colon != NULL) {
        a = (size_t)(colon - line) + 1;
        b = n;
        while (a < b && blank(line[a])) {
            a++;
        }
        while (b > a && blank(line[b - 1])) {
            b--;
        }
    }
    for (size_t from = 0; from <= n_want + 1; from++) {
        size_t which = 12345, want_which = n_want;
        struct cvma_span v = {(const uint8_t *)"x", 7};
        enum cvma_http_line k = cvma_http_header_line(line, n, want, n_want, from, &which, &v);
        enum cvma_http_line want_k = CVMA_HTTP_LINE_IGNORED;

        if (status) {
            want_k = CVMA_HTTP_LINE_STATUS;
        } else if (colon != NULL) {
            for (size_t i = from; i < n_want; i++) {
                if (same_name(line, (size_t)(colon - line), want[i].name)) {
                    want_which = i;
                    want_k = b - a > CVMA_HTTP_MAX_HEADER_VALUE ? CVMA_HTTP_LINE_TOO_LONG
                                                                : CVMA_HTTP_LINE_WANTED;
                    break;
                }
            }
        }
        if (k != want_k || which != want_which) {
            abort();
        }
        if (k == CVMA_HTTP_LINE_WANTED || k == CVMA_HTTP_LINE_TOO_LONG) {
            if (v.len != b - a || (v.len > 0 && v.p != line + a)) {
                abort();
            }
        } else if (v.p != NULL || v.len != 0) {
            abort();
        }
    }
}

/* A line "<name>: <fill>\r\n" whose value is `len` bytes cycled from src (blank-free ends). */
static void check_long(const uint8_t *src, size_t n, const struct cvma_http_header *want,
                       size_t n_want, size_t len)
{
    const uint8_t *colon = n > 0 ? memchr(src, ':', n) : NULL;
    size_t name_len = colon != NULL ? (size_t)(colon - src) : 0;
    size_t total = name_len + 3 + len + 2;
    uint8_t *p = malloc(total);

    if (p == NULL) {
        abort();
    }
    memcpy(p, src, name_len);
    memcpy(p + name_len, ": ", 2);
    for (size_t i = 0; i < len; i++) {
        p[name_len + 2 + i] = n > 0 ? src[i % n] : 'x';
    }
    p[name_len + 2] = 'x';
    p[name_len + 2 + len - 1] = 'x';
    memcpy(p + name_len + 2 + len, " \r\n", 3);
    check_line(p, total, want, n_want);
    free(p);
}

static void check_decode(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    uint8_t *mine = malloc(size + 1);
    struct cvma_buf got = {(uint8_t *)"x", 9};
    size_t k = 0;
    bool ok = true;

    if (s == NULL || mine == NULL) {
        abort();
    }
    memcpy(s, data, size);
    s[size] = '\0';
    size_t n = strlen(s);
    for (size_t i = 0; i < n && ok; i++) {
        if (s[i] != '%') {
            mine[k++] = (uint8_t)s[i];
            continue;
        }
        int v = 0;
        for (size_t j = 1; j <= 2; j++) {
            char c = i + j < n ? s[i + j] : '\0';
            const char *hex = "0123456789abcdef0123456789ABCDEF";
            const char *at = c != '\0' ? strchr(hex, c) : NULL;
            if (at == NULL) {
                ok = false;
                break;
            }
            v = v * 16 + (int)((at - hex) % 16);
        }
        if (ok && v == 0) {
            ok = false;
        }
        mine[k++] = (uint8_t)v;
        i += 2;
    }
    if (cvma_pcs_url_decode(s, &got) != ok) {
        abort();
    }
    if (ok ? got.p == NULL || got.len != k || (k > 0 && memcmp(got.p, mine, k) != 0)
           : got.p != NULL || got.len != 0) {
        abort();
    }
    free(got.p);
    free(mine);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t opt = size > 0 ? data[0] : 0;
    const uint8_t *line = size > 0 ? data + 1 : data;
    size_t n = size > 0 ? size - 1 : 0;
    char own[64];
    struct cvma_http_header want[] = {
            {"TCB-Info-Issuer-Chain", NULL},
            {"SGX-PCK-CRL-Issuer-Chain", NULL},
            {own, NULL},
            {"a", NULL},
            {"", NULL},
            {"tcb-info-issuer-chain", NULL},
    };
    const uint8_t *colon = n > 0 ? memchr(line, ':', n) : NULL;
    size_t own_len = colon != NULL ? (size_t)(colon - line) : 0;

    /* A wanted name that is the line's own, its letters' case flipped where opt says. */
    if (own_len >= sizeof own) {
        own_len = sizeof own - 1;
    }
    for (size_t i = 0; i < own_len; i++) {
        int c = line[i] == '\0' ? '?' : line[i];
        if ((opt >> (i % 4 + 4)) & 1) {
            c = c >= 'a' && c <= 'z' ? c - 32 : c >= 'A' && c <= 'Z' ? c + 32 : c;
        }
        own[i] = (char)c;
    }
    own[own_len] = '\0';
    check_line(line, n, want, sizeof want / sizeof want[0]);
    if (opt & 2) {
        check_long(line, n, want, sizeof want / sizeof want[0],
                   CVMA_HTTP_MAX_HEADER_VALUE - 1 + (opt >> 2 & 3));
    }
    check_decode(line, n);
    return 0;
}
