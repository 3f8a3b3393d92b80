/*
 * The JSON checker: decides what jansson's json_loadb(JSON_REJECT_DUPLICATES) decides about a
 * text -- parsed or refused -- without building a tree, so that untrusted text can be refused
 * (or counted) before jansson is given it. jansson's tree costs about 80 bytes and more per
 * value, so a 1 MiB text of small values ({}, [], 0) costs some 80 MB to parse; this reading
 * costs O(nesting) plus one small entry per member name of the objects currently open (the
 * duplicate check), never a node per value.
 *
 * The rules are jansson 2.14's (src/load.c), which fuzz/fuzz_jflat.c checks against jansson:
 * RFC 8259 syntax (no leading zeros, no trailing commas, literals exactly true/false/null),
 * an object or an array at the top level with only whitespace (space, tab, CR, LF) around it,
 * every byte valid UTF-8 (shortest form, no surrogates, at most U+10FFFF), strings without
 * control characters, escapes decoded with \u surrogates in pairs (high then low) and no
 * \u0000, integers in json_int_t (long long), reals that do not overflow a double, values
 * nested at most 2048 deep (jansson's JSON_PARSER_MAX_DEPTH, counting the innermost scalar)
 * and no two members of one object with the same name after unescaping.
 *
 * Iterative (no recursion on the text's nesting); thread-safe. Texts of 4 GiB or more are
 * refused as CVMA_JCHECK_TOO_MANY (member names are kept as 32-bit offsets).
 */
#ifndef CVMA_COMMON_JCHECK_H
#define CVMA_COMMON_JCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* How many JSON values (objects, arrays, strings, numbers, literals: every one counts) a
 * text that arrives as evidence may hold: checked before it is given to jansson
 * (cvma_json_loadb_evidence, common/json_out.h). The largest legitimate form (an Azure
 * Trustee evidence with its runtime claims) holds a few hundred. */
#define CVMA_JSON_EVIDENCE_MAX_VALUES 4096u

enum cvma_jcheck_result {
    CVMA_JCHECK_OK = 0,
    CVMA_JCHECK_SYNTAX,   /* jansson refuses the text */
    CVMA_JCHECK_TOO_MANY, /* more values than max_values (read no further) */
    CVMA_JCHECK_NOMEM,
};

struct cvma_jcheck {
    /* in */
    size_t max_values; /* 0: no cap */
    /* Called (when non-NULL) for each member of the top-level object in text order, with its
     * decoded name (NUL-terminated, no NUL inside) and whether its value is a string. Members
     * are reported as they are read: on a refusal, those before the error were reported. */
    void (*top_member)(void *ctx, const char *name, size_t len, bool is_string);
    void *ctx;
    /* out */
    size_t values;   /* values read */
    size_t position; /* on a refusal: the byte offset where reading stopped */
    int line;        /* its line (1 for the first) */
    char text[80];   /* on a refusal: why, in jansson's words where it has some (a member
                      * given twice: "duplicate object key" and its name, quoted) */
};

/* Checks p[0..len) as described above. c's in-fields are read, its out-fields set. */
CVMA_MUST_USE enum cvma_jcheck_result cvma_jcheck(const uint8_t *p, size_t len,
                                                  struct cvma_jcheck *c);

#endif
