/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed hash
 * for hash tables whose keys come from untrusted text. With a secret random key, texts cannot
 * be made whose keys share a chain, whatever the table's size. The 64-bit output of the
 * reference implementation (little-endian key and input words).
 */
#ifndef CVMA_COMMON_SIPHASH_H
#define CVMA_COMMON_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of in[0..n) under the 16-byte key k. */
uint64_t cvma_siphash24(const uint8_t k[16], const void *in, size_t n);

#endif
