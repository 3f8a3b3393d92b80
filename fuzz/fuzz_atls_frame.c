/*
 * libFuzzer target: aTLS frames (atls/atls_frame.h) and a peer's ERROR text made printable
 * (cvma_atls_printable), on the same bytes.
 *  - cvma_atls_frame_read_head against the header format worked out here from the bytes
 *    (docs/atls.md: type, 4-byte big-endian length; the limits of the known types): the same
 *    status, type and length; a refusal leaves no outputs; bytes after the header change
 *    nothing. (The body is opaque to the frame reader: it reads exactly that many bytes.)
 *  - the header the frame writer (cvma_atls_write_frame) puts on a body of any length up to
 *    the type's limit reads back to the same type and length; one byte over is refused.
 *  - cvma_atls_printable into buffers of several sizes: NUL-terminated within out_size and
 *    nothing written past it; the text is printable ASCII, and un-escaped it is a prefix of the
 *    input (at most CVMA_ATLS_ERROR_SHOWN bytes), cut only where the next byte or the
 *    " ... (N bytes)" tail would not fit.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atls/atls_frame.h"
#include "cvmattest/atls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The limits of docs/atls.md, written out again (0: not a frame type). */
static size_t limit_of(uint8_t t)
{
    return t == 0x01 ? 32 : t == 0x03 ? 4096 : t == 0x02 || t == 0x04 ? 8u << 20 : 0;
}

static void check_head(const uint8_t *data, size_t size)
{
    uint8_t ht = 0xee, t2 = 0xee;
    uint32_t hn = 0xeeeeeeee, n2 = 0xeeeeeeee;
    char err[256] = "";
    enum cvma_status hst = cvma_atls_frame_read_head(data, size, &ht, &hn, err, sizeof err);

    enum cvma_status want;
    uint32_t n = 0;
    if (size < 5) {
        want = CVMA_E_IO;
    } else {
        n = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
        want = limit_of(data[0]) == 0 || n > limit_of(data[0]) ? CVMA_REJECTED : CVMA_OK;
    }
    if (hst != want) {
        abort();
    }
    if (hst == CVMA_OK ? ht != data[0] || hn != n || hn > cvma_atls_frame_limit(ht)
                       : ht != 0 || hn != 0 || err[0] == '\0') {
        abort();
    }
    /* The header alone reads alike. */
    if (size > 5 &&
        (cvma_atls_frame_read_head(data, 5, &t2, &n2, NULL, 0) != hst || t2 != ht || n2 != hn)) {
        abort();
    }
}

/* The header the writer puts on a frame of the type data[0] with a body of a length taken
 * from the input (up to the type's limit) reads back to the same. */
static void check_round_trip(const uint8_t *data, size_t size)
{
    uint8_t h[CVMA_ATLS_FRAME_HEAD], t = size > 0 ? data[0] : 0, got = 0;
    uint32_t n = 0;
    size_t lim = cvma_atls_frame_limit(t);
    if (lim != limit_of(t)) {
        abort();
    }
    if (lim == 0) {
        cvma_atls_frame_head(t, 0, h);
        if (cvma_atls_frame_read_head(h, sizeof h, &got, &n, NULL, 0) != CVMA_REJECTED) {
            abort();
        }
        return;
    }
    uint32_t want = 0;
    for (size_t i = 1; i < size && i < 5; i++) {
        want = want << 8 | data[i];
    }
    want = (uint32_t)(want % (lim + 1));
    cvma_atls_frame_head(t, want, h);
    if (cvma_atls_frame_read_head(h, sizeof h, &got, &n, NULL, 0) != CVMA_OK || got != t ||
        n != want) {
        abort();
    }
    cvma_atls_frame_head(t, (uint32_t)lim + 1, h);
    if (cvma_atls_frame_read_head(h, sizeof h, &got, &n, NULL, 0) != CVMA_REJECTED || got != 0 ||
        n != 0) {
        abort();
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Bytes of output escaped as cvma_atls_printable escapes them: 1 or 4. */
static size_t cost(uint8_t c)
{
    return c >= 0x20 && c < 0x7f && c != '\\' ? 1 : 4;
}

/*
 * One reading of the text s[0..n) (then tail, when tail): the escaped prefix decodes to
 * data[0..m), every byte written the one way it is escaped, and it stops only where the next
 * byte or the tail would not have fit in out_size.
 */
static bool reading_holds(const char *s, size_t n, bool tail, size_t tail_len, const uint8_t *data,
                          size_t size, size_t out_size)
{
    size_t m = 0, i = 0, shown = size < CVMA_ATLS_ERROR_SHOWN ? size : CVMA_ATLS_ERROR_SHOWN;
    while (i < n) {
        uint8_t c;
        if (s[i] == '\\') {
            int hi, lo;
            if (n - i < 4 || s[i + 1] != 'x' || (hi = hexval(s[i + 2])) < 0 ||
                (lo = hexval(s[i + 3])) < 0) {
                return false;
            }
            c = (uint8_t)(hi << 4 | lo);
            if (cost(c) != 4) {
                return false; /* escaped, but printable */
            }
            i += 4;
        } else {
            c = (uint8_t)s[i];
            if (cost(c) != 1) {
                return false;
            }
            i++;
        }
        if (m >= shown || data[m] != c) {
            return false;
        }
        m++;
    }
    if (m < shown && n + cost(data[m]) + 1 <= out_size) {
        return false; /* the next byte would have fit */
    }
    if (tail) {
        return m < size;
    }
    return m == size || n + tail_len + 1 > out_size; /* cut, and the tail would not fit */
}

static void check_printable(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = {0, 1, 2, 4, 5, 6, 9, 33, 201, 4 * CVMA_ATLS_ERROR_SHOWN + 32};
    char buf[4 * CVMA_ATLS_ERROR_SHOWN + 32 + 16];
    char tail[48];
    int k = snprintf(tail, sizeof tail, " ... (%zu bytes)", size);
    if (k <= 0 || (size_t)k >= sizeof tail) {
        abort();
    }
    size_t tail_len = (size_t)k;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t out_size = sizes[z];
        memset(buf, 0xa5, sizeof buf);
        const char *s = cvma_atls_printable(data, size, buf, out_size);
        for (size_t i = out_size; i < sizeof buf; i++) {
            if ((uint8_t)buf[i] != 0xa5) {
                abort(); /* written past out_size */
            }
        }
        if (out_size == 0) {
            if (s == buf || s[0] != '\0') {
                abort();
            }
            continue;
        }
        if (s != buf || memchr(buf, '\0', out_size) == NULL) {
            abort();
        }
        size_t n = strlen(s);
        bool ok = reading_holds(s, n, false, tail_len, data, size, out_size);
        if (!ok && n >= tail_len && memcmp(s + n - tail_len, tail, tail_len) == 0) {
            ok = reading_holds(s, n - tail_len, true, tail_len, data, size, out_size);
        }
        if (!ok) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_head(data, size);
    check_round_trip(data, size);
    check_printable(data, size);
    return 0;
}
