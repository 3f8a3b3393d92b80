/*
 * Compact JSON text of a jansson value: byte for byte what json_dumps(j, JSON_COMPACT) writes
 * with the jansson 2.14 that Debian 12 ships (members in insertion order, '/' and non-ASCII
 * text as they are, control characters as \b \f \n \r \t or \u00XX), about ten times faster.
 * jansson's dumper formats every container's address into a string and keeps it in a hash
 * table to find cycles, and hands the text out through a callback a few bytes at a time; on a
 * verification result that costs more than the result's construction. The service writes
 * each answer and each token with this (docs/performance.md).
 *
 * A cycle cannot be built through jansson's setters, but a depth beyond
 * CVMA_JSON_OUT_MAX_DEPTH is refused all the same, like text that is not UTF-8 (jansson
 * refuses such a value too; such a key, which only the _nocheck setters make, it writes as a
 * lone '"', which is not JSON). tests/unit/test_json_out.c and fuzz/fuzz_json_out.c compare the two
 * writers byte for byte.
 */
#ifndef CVMA_COMMON_JSON_OUT_H
#define CVMA_COMMON_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/jscan.h"
#include "common/util.h"

#define CVMA_JSON_OUT_MAX_DEPTH 2048u /* jansson's JSON_PARSER_MAX_DEPTH */

/* The JSON type of j in words, for messages: "an object", "an array", "a string", "a number"
 * (integer or real), "a boolean", "null". */
const char *cvma_json_type_name(const json_t *j);

/* A growing text buffer; failed stays true once an allocation or a write failed. */
struct cvma_strbuf {
    char *p;
    size_t len;
    size_t cap;
    bool failed;
};

/* Room for n more bytes (and the NUL) without a reallocation; false (and failed) when out of
 * memory. For a writer that knows about how long its text will be. */
bool cvma_strbuf_reserve(struct cvma_strbuf *b, size_t n);

/* Appends n bytes (b->p stays NUL-terminated); false (and failed) when out of memory. */
bool cvma_strbuf_add(struct cvma_strbuf *b, const char *s, size_t n);

/* Appends the compact text of j (any type at the top). False when j is NULL, too deep, holds
 * text that is not UTF-8, or memory ran out; b->failed is then set. */
bool cvma_json_write(struct cvma_strbuf *b, const json_t *j);

/* Appends s[0..len) as a JSON string (quoted, escaped as above); false when it is not
 * UTF-8 or memory ran out. */
bool cvma_json_write_str(struct cvma_strbuf *b, const char *s, size_t len);

/* The same, with each byte that does not begin a UTF-8 sequence written as U+FFFD: for text
 * that must appear whatever it holds (a reason's detail may quote what it refuses). */
bool cvma_json_write_str_lossy(struct cvma_strbuf *b, const char *s, size_t len);

/* Appends p[0..n) as a string of lowercase hex digits. */
bool cvma_json_write_hex(struct cvma_strbuf *b, const uint8_t *p, size_t n);

/* Appends true or false. */
bool cvma_json_write_bool(struct cvma_strbuf *b, bool v);

/*
 * Writers that build an object member by member without a jansson tree: appends "key": (and
 * the ',' before it unless *first, which it then clears). key is a name of ours, written as
 * it is: it must need no escaping.
 */
bool cvma_json_key(struct cvma_strbuf *b, bool *first, const char *key);

/* A member of each kind ("key": value, with its ',' as cvma_json_key): an integer, bytes as
 * hex, a boolean, text (written as cvma_json_write_str_lossy), null, and the n low bytes of v
 * as hex, most significant first (a u32 or u64 field as its number's value, zero-padded). */
bool cvma_jm_int(struct cvma_strbuf *b, bool *first, const char *key, json_int_t v);
bool cvma_jm_hex(struct cvma_strbuf *b, bool *first, const char *key, const uint8_t *p, size_t n);
bool cvma_jm_bool(struct cvma_strbuf *b, bool *first, const char *key, bool v);
/* bit number `bit` of v, as a boolean */
bool cvma_jm_bit(struct cvma_strbuf *b, bool *first, const char *key, uint64_t v, unsigned bit);
/* "key":[i, ...]: the numbers of the bits set in mask, lowest first. */
bool cvma_jm_bits(struct cvma_strbuf *b, bool *first, const char *key, uint64_t mask);
bool cvma_jm_str(struct cvma_strbuf *b, bool *first, const char *key, const char *v);
bool cvma_jm_null(struct cvma_strbuf *b, bool *first, const char *key);
bool cvma_jm_hex_be(struct cvma_strbuf *b, bool *first, const char *key, uint64_t v, size_t n);

/* The tree of what a writer wrote into b (whose text is freed): for readers that want a tree
 * of a document that is written as text. NULL when ok is false, b failed, or no memory. */
json_t *cvma_json_tree_of(struct cvma_strbuf *b, bool ok);

/* Appends the decimal text of v, as jansson writes an integer. */
bool cvma_json_write_int(struct cvma_strbuf *b, json_int_t v);

/* Where a value's text is in a buffer: b->p + off, len bytes (len 0: no such value). */
struct cvma_json_span {
    size_t off, len;
};

/* json_dumps(j, flags) in a buffer from malloc: the library's callers free what it returns with
 * free(), and json_dumps allocates with jansson's allocator, which a program may have set to
 * its own (json_set_alloc_funcs). NULL on failure. */
CVMA_MUST_USE char *cvma_json_dumps(const json_t *j, size_t flags);

/* The compact text of an object or array (json_dumps' rule), malloc'd and NUL-terminated;
 * *len (may be NULL) its length. NULL on any failure above or for another type at the top. */
CVMA_MUST_USE char *cvma_json_compact(const json_t *j, size_t *len);

/*
 * json_loadb, telling a text jansson refuses from a failed allocation: *oom is set when an
 * allocation failed during the call (whatever jansson returned: an object it built may lack
 * what the allocation was for), so that callers answer "out of memory", never "not JSON" nor
 * a verdict on a half-read document. Allocation failures are seen through the counting allocator
 * (common/allocfail.h) unless the program gave jansson its own; then only jansson's own
 * out-of-memory code and an empty error text tell.
 * tests/unit/test_oom.c fails each allocation in turn.
 */
json_t *cvma_json_loadb(const void *p, size_t len, size_t flags, json_error_t *error, bool *oom);

/*
 * cvma_json_loadb(JSON_REJECT_DUPLICATES) for text that arrives with evidence (a bundle, JSON
 * evidence, the claims inside a report): the text is first read by the checker
 * (common/jcheck.h), which builds no tree, and jansson is given it only when it is JSON and
 * holds at most max_values values (objects, arrays, strings, numbers and literals all count).
 * jansson's tree costs 80 bytes and more per value, so without the cap a 1 MiB text of small
 * values would cost some 80 MB. A refusal is reported in *error as jansson reports one (line,
 * position, text; "more than N JSON values" for the cap) and NULL returned; *oom as for
 * cvma_json_loadb. Not for the operator's own files (registries, policies, configuration):
 * their size is theirs to choose. TDX collateral documents are read through it from every
 * source (a bundle's part is read before its signature is checked), with a cap far above any
 * real one (tdx/tdx_coll_internal.h).
 */
json_t *cvma_json_loadb_capped(const void *p, size_t len, size_t max_values, json_error_t *error,
                               bool *oom);
#endif
