/*
 * SipHash-2-4 (common/siphash.h), written from the paper's description: four 64-bit state
 * words initialised from the key and four constants, two rounds per 8-byte message word, the
 * last word carrying the length in its top byte, then 0xff into v2 and four final rounds.
 */
#include "common/siphash.h"

#include <string.h>

static uint64_t rotl(uint64_t x, unsigned b)
{
    return x << b | x >> (64 - b);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

struct sip {
    uint64_t v0, v1, v2, v3;
};

static void round_(struct sip *s)
{
    s->v0 += s->v1;
    s->v1 = rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

static void absorb(struct sip *s, uint64_t m)
{
    s->v3 ^= m;
    round_(s);
    round_(s);
    s->v0 ^= m;
}

uint64_t cvma_siphash24(const uint8_t k[16], const void *in, size_t n)
{
    const uint8_t *p = in;
    uint64_t k0 = le64(k), k1 = le64(k + 8);
    struct sip s = {
            .v0 = k0 ^ 0x736f6d6570736575u,
            .v1 = k1 ^ 0x646f72616e646f6du,
            .v2 = k0 ^ 0x6c7967656e657261u,
            .v3 = k1 ^ 0x7465646279746573u,
    };
    size_t whole = n - n % 8;
    for (size_t i = 0; i < whole; i += 8) {
        absorb(&s, le64(p + i));
    }
    uint8_t last[8] = {0};
    if (n % 8 != 0) {
        memcpy(last, p + whole, n % 8);
    }
    absorb(&s, le64(last) | (uint64_t)(n & 0xff) << 56);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; i++) {
        round_(&s);
    }
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
