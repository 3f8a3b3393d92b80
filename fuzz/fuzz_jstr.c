/*
 * libFuzzer target: JSON string contents (common/jstr.h) against jansson, and the exact-span
 * scanner (common/jscan.h) against both, so that the three readers of JSON strings (the
 * scanner, the flat request reader and the checker) are held to one answer. The input is the
 * inside of a string. cvma_jstr_decode accepts exactly when jansson reads the quoted input as a
 * string (JSON_DECODE_ANY), and then gives jansson's text byte for byte; checking without an
 * output agrees. Whatever it accepts the scanner accepts, ending at the closing quote, with its
 * ASCII view of the same text (0xFF for each byte above 0x7F, for each \u above 0x7F).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/jscan.h"
#include "common/jstr.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) {
        return 0;
    }
    uint8_t *quoted = malloc(size + 2);
    char *d = malloc(size + 1), *view = malloc(size + 1);
    if (quoted == NULL || d == NULL || view == NULL) {
        abort();
    }
    quoted[0] = '"';
    memcpy(quoted + 1, data, size);
    quoted[size + 1] = '"';

    size_t len = 0, check_len = 0;
    bool ok = cvma_jstr_decode(data, size, d, &len);
    CHECK(cvma_jstr_decode(data, size, NULL, &check_len) == ok);
    CHECK(check_len == len);

    json_error_t je;
    json_t *j = json_loadb((const char *)quoted, size + 2, JSON_DECODE_ANY, &je);
    CHECK((j != NULL && json_is_string(j)) == ok);
    if (ok) {
        CHECK(len <= size && d[len] == '\0');
        CHECK(json_string_length(j) == len && memcmp(json_string_value(j), d, len) == 0);

        struct cvma_jscan s = {quoted, size + 2, 0};
        size_t vlen = 0;
        bool ovf = true, esc = false;
        CHECK(cvma_jscan_string(&s, view, size + 1, &vlen, &ovf, &esc));
        CHECK(s.off == size + 2 && !ovf && esc == (memchr(data, '\\', size) != NULL));
        /* The scanner's view: ASCII as decoded, 0xFF for each byte or \u unit above 0x7F. */
        size_t k = 0;
        for (size_t i = 0; i < size;) {
            unsigned unit;
            size_t m = data[i] == '\\' ? cvma_jstr_escape(data + i, size - i, &unit) : 1;
            CHECK(m > 0 && k < vlen);
            if (data[i] != '\\') {
                unit = data[i];
            }
            CHECK((uint8_t)view[k] == (unit < 0x80 ? unit : 0xFF));
            i += m;
            k++;
        }
        CHECK(k == vlen);
        s.off = 0;
        CHECK(cvma_jscan_string(&s, NULL, 0, NULL, NULL, NULL) && s.off == size + 2);
    }
    json_decref(j);
    free(view);
    free(d);
    free(quoted);
    return 0;
}
