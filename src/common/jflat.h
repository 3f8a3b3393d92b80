/*
 * Flat JSON requests: one object whose members are all strings, from a fixed set of names
 * (the service's POST /v1/verify body). Read in one pass over the text with the exact-span
 * scanner (common/jscan.h), without building a tree: the body is mostly one long base64
 * string, which a general JSON parser walks character by character twice.
 *
 * The rules are jansson's (json_loadb with JSON_REJECT_DUPLICATES), which the fuzz target
 * fuzz/fuzz_jflat.c checks: RFC 8259 syntax, one object with optional whitespace around
 * it, no duplicate names, escapes including \u surrogate pairs decoded to UTF-8, raw text
 * valid UTF-8 (shortest form, no surrogates, at most U+10FFFF), no control characters and
 * no \u0000. A member that is not in the set, or whose value is not a string, is
 * CVMA_JFLAT_MEMBER when the whole text is JSON by jansson's reading, CVMA_JFLAT_SYNTAX
 * otherwise (a refused text is read again, by the checker of common/jcheck.h, to class it:
 * foreign members are only skipped here). Neither reading builds a tree: a refused body costs
 * the checker's O(nesting) plus an entry of 16 bytes per member name of the objects open at
 * once. Thread-safe; allocates the values, and the checker its entries.
 */
#ifndef CVMA_COMMON_JFLAT_H
#define CVMA_COMMON_JFLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

struct cvma_jflat_field {
    const char *name; /* in: the member's name (ASCII) */
    char *value;      /* out: decoded, NUL-terminated, malloc'd; NULL when absent */
    size_t len;       /* out: its length in bytes */
};

enum cvma_jflat_result {
    CVMA_JFLAT_OK = 0,
    CVMA_JFLAT_SYNTAX, /* not one well-formed JSON object (or a duplicate name) */
    CVMA_JFLAT_MEMBER, /* well-formed, but a member not in the set or not a string */
    CVMA_JFLAT_NOMEM,
};

/*
 * Parses p[0..len). On CVMA_JFLAT_OK the fields present have their values; on any other
 * result every value is NULL again. what (what_len bytes) says what was wrong: the byte
 * offset of a syntax error and jansson's words for it, or the offending member's name
 * (printable ASCII, others as '?', at most 64 characters).
 */
CVMA_MUST_USE enum cvma_jflat_result cvma_jflat_parse(const uint8_t *p, size_t len,
                                                      struct cvma_jflat_field *fields, size_t n,
                                                      char *what, size_t what_len);

/* Frees the values (fields stay usable for another parse). */
void cvma_jflat_free(struct cvma_jflat_field *fields, size_t n);

#endif
