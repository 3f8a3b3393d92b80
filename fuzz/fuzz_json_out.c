/*
 * libFuzzer target: the compact JSON writer (common/json_out.h). Any input that jansson
 * parses (any value at the top, NUL characters allowed) is written by both jansson's
 * json_dumps(JSON_COMPACT) and cvma_json_write; the texts must be byte for byte the same,
 * or both writers must refuse. Objects and arrays also go through cvma_json_compact.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL) {
        return 0;
    }
    char *ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    struct cvma_strbuf b = {0};
    bool ok = cvma_json_write(&b, j);
    if ((ref == NULL) != !ok || (ok && (b.len != strlen(ref) || memcmp(b.p, ref, b.len) != 0))) {
        abort();
    }
    size_t n = 0;
    char *c = cvma_json_compact(j, &n);
    if ((json_is_object(j) || json_is_array(j)) && ok) {
        if (c == NULL || n != b.len || memcmp(c, b.p, n) != 0) {
            abort();
        }
    } else if (c != NULL) {
        abort();
    }
    free(c);
    free(b.p);
    free(ref);
    json_decref(j);
    return 0;
}
