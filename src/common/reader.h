/*
 * The bounds-checked reader: the only way cvmattest reads untrusted bytes.
 * Invariant: off <= len. A failed read leaves off unchanged and clears its output.
 */
#ifndef CVMA_COMMON_READER_H
#define CVMA_COMMON_READER_H

#include "common/util.h"

struct cvma_reader {
    const uint8_t *p;
    size_t len;
    size_t off; /* invariant: off <= len */
};

void cvma_reader_init(struct cvma_reader *r, const uint8_t *p, size_t len);
size_t cvma_reader_left(const struct cvma_reader *r);
bool cvma_reader_at_end(const struct cvma_reader *r);

CVMA_MUST_USE bool cvma_reader_u8(struct cvma_reader *r, uint8_t *out);
CVMA_MUST_USE bool cvma_reader_u16le(struct cvma_reader *r, uint16_t *out);
CVMA_MUST_USE bool cvma_reader_u32le(struct cvma_reader *r, uint32_t *out);
CVMA_MUST_USE bool cvma_reader_u64le(struct cvma_reader *r, uint64_t *out);
CVMA_MUST_USE bool cvma_reader_u16be(struct cvma_reader *r, uint16_t *out);
CVMA_MUST_USE bool cvma_reader_u32be(struct cvma_reader *r, uint32_t *out);
CVMA_MUST_USE bool cvma_reader_u64be(struct cvma_reader *r, uint64_t *out);
/* Copies n bytes into dst. */
CVMA_MUST_USE bool cvma_reader_bytes(struct cvma_reader *r, uint8_t *dst, size_t n);
/* Borrows n bytes (valid while the input buffer lives). */
CVMA_MUST_USE bool cvma_reader_span(struct cvma_reader *r, size_t n, struct cvma_span *out);
CVMA_MUST_USE bool cvma_reader_skip(struct cvma_reader *r, size_t n);
/* Carves a child reader over the next n bytes and advances past them. */
CVMA_MUST_USE bool cvma_reader_sub(struct cvma_reader *r, size_t n, struct cvma_reader *child);
/* Borrows the rest of the input (possibly empty) and moves to the end. */
void cvma_reader_rest(struct cvma_reader *r, struct cvma_span *out);

/* Text read through the reader. True when the next bytes are the NUL-terminated s (never
 * moves). */
bool cvma_reader_starts_with(const struct cvma_reader *r, const char *s);
/* Moves past ASCII whitespace (space, tab, CR, LF). */
void cvma_reader_skip_ws(struct cvma_reader *r);

/* True when every byte of the span is zero (constant-time is not needed: public data). */
bool cvma_span_is_zero(const struct cvma_span *s);
bool cvma_bytes_are_zero(const uint8_t *p, size_t n);

#endif
