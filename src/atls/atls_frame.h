/*
 * aTLS frames (docs/atls.md) as bytes, without the connection: the 5-byte header (the type,
 * then the body's length, 4 bytes big-endian) written and read through the bounds-checked
 * reader. The header is all a frame has to interpret: cvma_atls_read_frame_ex then reads
 * exactly the body's length, opaque bytes that each frame's user reads itself. Not public API:
 * cvma_atls_write_frame and cvma_atls_read_frame_ex keep the I/O and call these
 * (fuzz/fuzz_atls_frame.c fuzzes them).
 */
#ifndef CVMA_ATLS_FRAME_H
#define CVMA_ATLS_FRAME_H

#include "common/util.h"

#define CVMA_ATLS_FRAME_HEAD 5 /* bytes of a frame's header */

/* The header of a frame of type type with a body of len bytes. */
void cvma_atls_frame_head(uint8_t type, uint32_t len, uint8_t h[CVMA_ATLS_FRAME_HEAD]);

/*
 * Reads a frame's header from h[0..len) (bytes after the header are not looked at). CVMA_OK:
 * *type is a known type and *body_len is within its cvma_atls_frame_limit. CVMA_REJECTED: an
 * unknown type, or a length over the type's limit; CVMA_E_IO: fewer than
 * CVMA_ATLS_FRAME_HEAD bytes. err (may be NULL) says which; on anything but CVMA_OK *type and
 * *body_len are 0.
 */
CVMA_MUST_USE enum cvma_status cvma_atls_frame_read_head(const uint8_t *h, size_t len,
                                                         uint8_t *type, uint32_t *body_len,
                                                         char *err, size_t err_len);

#endif
