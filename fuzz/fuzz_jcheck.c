/*
 * libFuzzer target: the JSON checker (common/jcheck.h) against jansson, whose decision it
 * makes without building a tree. For any input: cvma_jcheck accepts exactly when
 * json_loadb(JSON_REJECT_DUPLICATES) gives a value, and counts the values jansson built; with
 * a cap below that count it refuses CVMA_JCHECK_TOO_MANY, and cvma_json_loadb_capped refuses.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/jcheck.h"
#include "common/json_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count(json_t *j)
{
    size_t n = 1;
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v)
        {
            n += count(v);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            n += count(v);
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_jcheck c = {0};
    enum cvma_jcheck_result r = cvma_jcheck(data, size, &c);
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if ((r == CVMA_JCHECK_OK) != (j != NULL)) {
        abort();
    }
    if (j != NULL) {
        size_t n = count(j);
        if (c.values != n) {
            abort();
        }
        struct cvma_jcheck capped = {.max_values = n - 1};
        if (n > 1 && cvma_jcheck(data, size, &capped) != CVMA_JCHECK_TOO_MANY) {
            abort();
        }
        bool oom;
        json_t *k = cvma_json_loadb_capped(data, size, n, &je, &oom);
        if (k == NULL || !json_equal(j, k)) {
            abort();
        }
        json_decref(k);
        if (n > 1 && (k = cvma_json_loadb_capped(data, size, n - 1, &je, &oom)) != NULL) {
            abort();
        }
    }
    json_decref(j);
    return 0;
}
