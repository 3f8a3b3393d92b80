/*
 * Base64 (RFC 4648 §4, with '=' padding) and base64url (RFC 4648 §5, without padding, as JWS
 * uses it: RFC 7515 §2). Decoding is strict, so that one byte string has exactly one accepted
 * encoding:
 *   - only the variant's 64 characters (and, for CVMA_B64_STD, '=' padding at the very end);
 *     no whitespace, no line breaks, no characters of the other alphabet;
 *   - CVMA_B64_STD: the length is a multiple of 4 and padding is exactly what the data
 *     length requires; CVMA_B64_URL: no padding at all, and a length that is not 1 mod 4;
 *   - the unused low bits of the last character are zero (non-canonical encodings refused).
 * Nothing here allocates except cvma_base64_encode / cvma_base64_decode_buf.
 */
#ifndef CVMA_COMMON_BASE64_H
#define CVMA_COMMON_BASE64_H

#include "common/util.h"

enum cvma_b64 {
    CVMA_B64_STD = 0, /* "+/" alphabet, '=' padded */
    CVMA_B64_URL,     /* "-_" alphabet, never padded */
};

/* Characters needed to encode n bytes (without the NUL). SIZE_MAX when it would overflow. */
size_t cvma_base64_encoded_len(size_t n, enum cvma_b64 variant);

/* Upper bound on the bytes a slen-character input can decode to. */
size_t cvma_base64_decoded_max(size_t slen);

/*
 * Encodes p[0..n) into out (out_size >= cvma_base64_encoded_len + 1), NUL-terminated.
 * Returns false (out empty) when out is too small.
 */
CVMA_MUST_USE bool cvma_base64_encode_to(const uint8_t *p, size_t n, enum cvma_b64 variant,
                                         char *out, size_t out_size);

/* Encodes into a malloc'd NUL-terminated string; NULL on allocation failure. */
char *cvma_base64_encode(const uint8_t *p, size_t n, enum cvma_b64 variant);

/*
 * Decodes s[0..slen) strictly (see above) into out (out_cap bytes); sets *out_len.
 * Returns false, *out_len 0, on any deviation or when out_cap is too small.
 */
CVMA_MUST_USE bool cvma_base64_decode(const char *s, size_t slen, enum cvma_b64 variant,
                                      uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Decodes into a new buffer (owned by *out). Returns CVMA_OK, CVMA_REJECTED (not valid
 * base64 of this variant) or CVMA_E_NOMEM; *out is empty unless CVMA_OK.
 */
CVMA_MUST_USE enum cvma_status cvma_base64_decode_buf(const char *s, size_t slen,
                                                      enum cvma_b64 variant, struct cvma_buf *out);

#endif
