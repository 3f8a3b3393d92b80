/*
 * A minimal DER TLV reader over the bounds-checked reader, for the vendor certificate
 * extensions cvmattest parses itself (AMD VCEK/VLEK, Intel PCK): single-byte tags, definite
 * minimal lengths of at most two length bytes (these extensions are a few hundred bytes).
 */
#ifndef CVMA_COMMON_DER_H
#define CVMA_COMMON_DER_H

#include "common/reader.h"

struct cvma_der {
    uint8_t tag;
    struct cvma_reader val; /* exactly the value bytes */
};

/* Reads one TLV and advances r past it. False (r unchanged) on anything else. */
CVMA_MUST_USE bool cvma_der_read(struct cvma_reader *r, struct cvma_der *t);

#endif
