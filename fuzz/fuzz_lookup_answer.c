/*
 * libFuzzer target: a lookup registry's answers (src/registry/bind_lookup.c), the same bytes
 * read both as a 200 body (cvma_lookup_answer_read) and as a cached entry
 * (cvma_lookup_cached_read). Each answer is checked against an independent reading of the
 * rules in docs/registry.md: a 200 is "listed" exactly when it is a JSON object whose zone,
 * when present, is 1..255 printable characters without spaces; a cache entry needs a boolean
 * "listed". The zone given back is the JSON's, byte for byte, and "" on any other answer.
 * A listed answer's cache entry (cvma_lookup_cache_text) must read back as the same answer.
 * The same bytes as a failure's cache entry (cvma_lookup_cached_failure): exactly {"failed":
 * a string of 1..300 bytes}, and cvma_lookup_failure_text's entry reads back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "registry/bind_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The label-value rule, read from docs/registry.md. */
static bool zone_value_ok(const json_t *z)
{
    size_t n = json_string_length(z);
    const char *s = json_string_value(z);
    if (n == 0 || n > 255) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

static void check_zone(enum lk_result got, enum lk_result want, const char *zone, const json_t *z)
{
    if (got != want) {
        abort();
    }
    if (got != LK_LISTED || z == NULL) {
        if (zone[0] != '\0') {
            abort(); /* no zone, or not listed: nothing given back */
        }
        return;
    }
    if (strlen(zone) != json_string_length(z) || strcmp(zone, json_string_value(z)) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char zone[CVMA_REG_LABEL_VALUE_MAX + 1];
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    const json_t *z = json_object_get(j, "zone");
    const json_t *l = json_object_get(j, "listed");
    bool zone_fine = z == NULL || (json_is_string(z) && zone_value_ok(z));

    /* As a 200 body. */
    memset(zone, 'X', sizeof zone);
    enum lk_result want = json_is_object(j) && zone_fine ? LK_LISTED : LK_UNAVAILABLE;
    enum lk_result got = cvma_lookup_answer_read(data, size, zone, sizeof zone);
    check_zone(got, want, zone, z);
    if (got == LK_LISTED) {
        /* What is cached reads back as the same answer. */
        char *text = cvma_lookup_cache_text(zone);
        if (text != NULL) {
            char back[CVMA_REG_LABEL_VALUE_MAX + 1];
            memset(back, 'X', sizeof back);
            if (cvma_lookup_cached_read((const uint8_t *)text, strlen(text), back, sizeof back) !=
                        LK_LISTED ||
                strcmp(back, zone) != 0) {
                abort();
            }
            free(text);
        }
    }

    /* As a cache entry. */
    memset(zone, 'X', sizeof zone);
    want = !json_is_boolean(l) ? LK_UNAVAILABLE
           : !json_is_true(l)  ? LK_NOT_LISTED
           : zone_fine         ? LK_LISTED
                               : LK_UNAVAILABLE;
    got = cvma_lookup_cached_read(data, size, zone, sizeof zone);
    check_zone(got, want, zone, z);

    /* As a failure's cache entry: exactly {"failed": a string of 1..300 bytes}, its text given
     * back (cut to the buffer); written back, it reads as the same failure. */
    const json_t *f = json_object_get(j, "failed");
    bool want_failed = json_is_object(j) && json_object_size(j) == 1 && json_is_string(f) &&
                       json_string_length(f) >= 1 &&
                       json_string_length(f) <= CVMA_LOOKUP_FAILED_MAX;
    char why[CVMA_LOOKUP_FAILED_MAX + 1], small[8];
    memset(why, 'X', sizeof why);
    if (cvma_lookup_cached_failure(data, size, why, sizeof why) != want_failed ||
        (want_failed && (strlen(why) != strnlen(json_string_value(f), json_string_length(f)) ||
                         memcmp(why, json_string_value(f), strlen(why)) != 0)) ||
        (!want_failed && why[0] != '\0')) {
        abort();
    }
    if (cvma_lookup_cached_failure(data, size, small, sizeof small) != want_failed ||
        strlen(small) >= sizeof small) {
        abort();
    }
    if (want_failed && strlen(why) == json_string_length(f)) { /* no NUL inside */
        char *text = cvma_lookup_failure_text(why);
        char back[CVMA_LOOKUP_FAILED_MAX + 1];
        if (text != NULL &&
            (!cvma_lookup_cached_failure((const uint8_t *)text, strlen(text), back, sizeof back) ||
             strcmp(back, why) != 0)) {
            abort();
        }
        free(text);
    }

    json_decref(j);
    return 0;
}
