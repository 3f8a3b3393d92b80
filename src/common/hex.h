/* Lower-case hex encoding and strict hex decoding. */
#ifndef CVMA_COMMON_HEX_H
#define CVMA_COMMON_HEX_H

#include "common/util.h"

/* Writes 2*len hex digits and a NUL into out (out_size >= 2*len+1). */
void cvma_hex_encode(const uint8_t *p, size_t len, char *out, size_t out_size);

/* Returns a malloc'd lower-case hex string, or NULL on allocation failure. */
char *cvma_hex_dup(const uint8_t *p, size_t len);

/* The value of one hex digit (either case), or -1. */
int cvma_hex_nibble(int c);

/*
 * Decodes hex (either case, no prefix, even length) into out (out_cap bytes). Sets *out_len.
 * Returns false on an odd length, a non-hex digit, or too long an input.
 */
CVMA_MUST_USE bool cvma_hex_decode(const char *hex, uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Decodes exactly want bytes from s[0..slen), which must be 2*want lower-case hex digits
 * (the canonical spelling of our own JSON: no upper case, no prefix; a NUL inside s is not a
 * digit). Returns false, out untouched or partly written, otherwise.
 */
CVMA_MUST_USE bool cvma_hex_decode_lower(const char *s, size_t slen, uint8_t *out, size_t want);

#endif
