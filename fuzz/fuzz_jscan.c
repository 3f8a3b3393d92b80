/*
 * libFuzzer target: the exact-span JSON scanner (common/jscan.h) on untrusted text.
 * Checks its contract: an accepted object span lies inside the input, runs from '{' to '}'
 * and only whitespace surrounds it; scanning the same input as one value ends where the span
 * ends; the cursor never passes the end; a decoded string never exceeds its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_span span;
    struct cvma_jscan s = {data, size, 0};
    bool value_ok;

    if (cvma_jscan_object_span(data, size, 1u << 20, &span)) {
        size_t start;
        if (span.p < data || span.len < 2 || span.len > size ||
            (size_t)(span.p - data) > size - span.len || span.p[0] != '{' ||
            span.p[span.len - 1] != '}') {
            abort();
        }
        start = (size_t)(span.p - data);
        for (size_t i = 0; i < start; i++) {
            if (!is_ws(data[i])) {
                abort();
            }
        }
        for (size_t i = start + span.len; i < size; i++) {
            if (!is_ws(data[i])) {
                abort();
            }
        }
        /* The same text read as one top-level value ends at the object's '}'. */
        if (!cvma_jscan_value(&s, 0) || s.off != start + span.len) {
            abort();
        }
    } else if (span.p != NULL || span.len != 0) {
        abort(); /* a refusal leaves the span empty */
    }

    /* Any input as one value: the cursor stays inside. */
    s.off = 0;
    value_ok = cvma_jscan_value(&s, 0);
    if (s.off > size || (value_ok && s.off == 0)) {
        abort();
    }

    /* Strings at the first quote: decoding stays inside its buffer. */
    {
        const uint8_t *q = memchr(data, '"', size);
        if (q != NULL) {
            char dec[16];
            size_t n = 0;
            bool ovf = false, esc = false;
            s.off = (size_t)(q - data);
            if (cvma_jscan_string(&s, dec, sizeof dec, &n, &ovf, &esc) &&
                (n > sizeof dec || s.off > size || s.off < (size_t)(q - data) + 2)) {
                abort();
            }
        }
    }
    return 0;
}
