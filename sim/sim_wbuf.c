/* Growable byte buffer and DER writer of the simulators (sim/sim_wbuf.h). */
#include "sim/sim_wbuf.h"

#include <stdlib.h>
#include <string.h>

/* ---- the buffer ---- */

/* see sim/sim_wbuf.h */
void cvma_sim_wb_free(struct cvma_sim_wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* see sim/sim_wbuf.h */
void cvma_sim_wb_put(struct cvma_sim_wbuf *b, const uint8_t *p, size_t n)
{
    if (b->failed || n == 0) {
        return;
    }
    if (b->cap - b->len < n) {
        size_t cap = b->cap != 0 ? b->cap : 256;
        uint8_t *q;

        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        if ((q = realloc(b->p, cap)) == NULL) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* see sim/sim_wbuf.h */
void cvma_sim_wb_u8(struct cvma_sim_wbuf *b, uint8_t v)
{
    cvma_sim_wb_put(b, &v, 1);
}

/* see sim/sim_wbuf.h */
void cvma_sim_wb_u16le(struct cvma_sim_wbuf *b, uint16_t v)
{
    const uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    cvma_sim_wb_put(b, t, sizeof t);
}

/* see sim/sim_wbuf.h */
void cvma_sim_wb_u32le(struct cvma_sim_wbuf *b, uint32_t v)
{
    const uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    cvma_sim_wb_put(b, t, sizeof t);
}

/* see sim/sim_wbuf.h */
void cvma_sim_wb_str(struct cvma_sim_wbuf *b, const char *str)
{
    cvma_sim_wb_put(b, (const uint8_t *)str, strlen(str));
}

/* see sim/sim_wbuf.h */
void cvma_sim_wb_append(struct cvma_sim_wbuf *b, const struct cvma_sim_wbuf *src)
{
    if (src->failed) {
        b->failed = true;
        return;
    }
    cvma_sim_wb_put(b, src->p, src->len);
}

/* ---- DER writer (definite, minimal lengths) ---- */

/* see sim/sim_wbuf.h */
void cvma_sim_der_tlv(struct cvma_sim_wbuf *b, uint8_t tag, const uint8_t *p, size_t n)
{
    cvma_sim_wb_u8(b, tag);
    if (n < 0x80) {
        cvma_sim_wb_u8(b, (uint8_t)n);
    } else {
        size_t k = 0;
        for (size_t v = n; v != 0; v >>= 8) {
            k++;
        }
        cvma_sim_wb_u8(b, (uint8_t)(0x80u | k));
        for (size_t i = k; i > 0; i--) {
            cvma_sim_wb_u8(b, (uint8_t)(n >> (8 * (i - 1))));
        }
    }
    cvma_sim_wb_put(b, p, n);
}

/* see sim/sim_wbuf.h */
void cvma_sim_der_wrap(struct cvma_sim_wbuf *b, uint8_t tag, struct cvma_sim_wbuf *inner)
{
    if (inner->failed) {
        b->failed = true;
    } else {
        cvma_sim_der_tlv(b, tag, inner->p, inner->len);
    }
    cvma_sim_wb_free(inner);
}

/* see sim/sim_wbuf.h */
void cvma_sim_der_uint(struct cvma_sim_wbuf *b, uint8_t tag, uint32_t v)
{
    uint8_t be[5];
    size_t start = 1;

    be[0] = 0;
    for (size_t i = 0; i < 4; i++) {
        be[1 + i] = (uint8_t)(v >> (8 * (3 - i)));
    }
    while (start < 4 && be[start] == 0 && (be[start + 1] & 0x80) == 0) {
        start++;
    }
    if (be[start] & 0x80) {
        start--; /* a leading zero keeps it positive */
    }
    cvma_sim_der_tlv(b, tag, be + start, sizeof be - start);
}
