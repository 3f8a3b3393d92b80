/*
 * libFuzzer target: the flat request reader (common/jflat.h) against jansson, the
 * independent implementation whose rules it keeps. For any input: cvma_jflat_parse accepts
 * exactly when json_loadb(JSON_REJECT_DUPLICATES) gives an object whose members are all
 * strings with names from the set, and then every value is jansson's, byte for byte; a
 * refusal is CVMA_JFLAT_SYNTAX exactly when jansson does not read the text as an object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/jflat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_jflat_field f[] = {{"evidence", NULL, 0},
                                   {"nonce", NULL, 0},
                                   {"policy", NULL, 0},
                                   {"public_key", NULL, 0}};
    const size_t nf = sizeof f / sizeof f[0];
    char what[80];
    enum cvma_jflat_result r = cvma_jflat_parse(data, size, f, nf, what, sizeof what);

    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    bool want = j != NULL && json_is_object(j);
    const char *k;
    json_t *v;
    json_object_foreach(want ? j : NULL, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < nf; i++) {
            known = known || strcmp(f[i].name, k) == 0; /* no NUL in a key without ALLOW_NUL */
        }
        want = want && known && json_is_string(v);
    }
    if ((r == CVMA_JFLAT_OK) != want) {
        abort();
    }
    if (r == CVMA_JFLAT_OK) {
        for (size_t i = 0; i < nf; i++) {
            const json_t *jv = json_object_get(j, f[i].name);
            if ((jv == NULL) != (f[i].value == NULL)) {
                abort();
            }
            if (jv != NULL && (json_string_length(jv) != f[i].len ||
                               memcmp(json_string_value(jv), f[i].value, f[i].len) != 0 ||
                               f[i].value[f[i].len] != '\0')) {
                abort();
            }
        }
    } else {
        for (size_t i = 0; i < nf; i++) {
            if (f[i].value != NULL) {
                abort(); /* a refusal leaves no values */
            }
        }
    }
    /* A refusal is classed as jansson classes it. */
    if (r != CVMA_JFLAT_OK && r != CVMA_JFLAT_NOMEM &&
        (r == CVMA_JFLAT_SYNTAX) != (j == NULL || !json_is_object(j))) {
        abort();
    }
    cvma_jflat_free(f, nf);
    json_decref(j);
    return 0;
}
