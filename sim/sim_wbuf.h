/*
 * A growable byte buffer for the simulators, and a DER writer on it (definite, minimal
 * lengths). The first failure sticks: every call after it does nothing, and the caller checks
 * `failed` once at the end instead of after each write.
 */
#ifndef CVMA_SIM_SIM_WBUF_H
#define CVMA_SIM_SIM_WBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Zero-initialise ({0}) before use; owns p (free with cvma_sim_wb_free). */
struct cvma_sim_wbuf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

/* Frees the bytes and clears b (failed included). */
void cvma_sim_wb_free(struct cvma_sim_wbuf *b);
/* Appends n bytes; sets failed on allocation failure. */
void cvma_sim_wb_put(struct cvma_sim_wbuf *b, const uint8_t *p, size_t n);
void cvma_sim_wb_u8(struct cvma_sim_wbuf *b, uint8_t v);
void cvma_sim_wb_u16le(struct cvma_sim_wbuf *b, uint16_t v);
void cvma_sim_wb_u32le(struct cvma_sim_wbuf *b, uint32_t v);
/* Appends the characters of str, without its NUL. */
void cvma_sim_wb_str(struct cvma_sim_wbuf *b, const char *str);
/* Appends src's bytes; a failed src makes b failed too. */
void cvma_sim_wb_append(struct cvma_sim_wbuf *b, const struct cvma_sim_wbuf *src);

/* One TLV: tag, minimal definite length, n bytes of contents. */
void cvma_sim_der_tlv(struct cvma_sim_wbuf *b, uint8_t tag, const uint8_t *p, size_t n);
/* Wraps inner (then freed) as one TLV of tag into b. */
void cvma_sim_der_wrap(struct cvma_sim_wbuf *b, uint8_t tag, struct cvma_sim_wbuf *inner);
/* A non-negative INTEGER or ENUMERATED: minimal two's complement, big-endian. */
void cvma_sim_der_uint(struct cvma_sim_wbuf *b, uint8_t tag, uint32_t v);

#endif
