#include "common/reader.h"

#include <string.h>

void cvma_reader_init(struct cvma_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p != NULL ? len : 0;
    r->off = 0;
}

size_t cvma_reader_left(const struct cvma_reader *r)
{
    return r->len - r->off;
}

bool cvma_reader_at_end(const struct cvma_reader *r)
{
    return r->off == r->len;
}

static bool have(const struct cvma_reader *r, size_t n)
{
    return r->len - r->off >= n; /* subtract, never add: no overflow */
}

bool cvma_reader_u8(struct cvma_reader *r, uint8_t *out)
{
    *out = 0;
    if (!have(r, 1)) {
        return false;
    }
    *out = r->p[r->off++];
    return true;
}

static bool read_le(struct cvma_reader *r, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    if (!have(r, n)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)r->p[r->off + i] << (8 * i);
    }
    r->off += n;
    *out = v;
    return true;
}

static bool read_be(struct cvma_reader *r, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    if (!have(r, n)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        v = v << 8 | r->p[r->off + i];
    }
    r->off += n;
    *out = v;
    return true;
}

bool cvma_reader_u16le(struct cvma_reader *r, uint16_t *out)
{
    uint64_t v;
    bool ok = read_le(r, 2, &v);
    *out = (uint16_t)v;
    return ok;
}

bool cvma_reader_u32le(struct cvma_reader *r, uint32_t *out)
{
    uint64_t v;
    bool ok = read_le(r, 4, &v);
    *out = (uint32_t)v;
    return ok;
}

bool cvma_reader_u64le(struct cvma_reader *r, uint64_t *out)
{
    return read_le(r, 8, out);
}

bool cvma_reader_u16be(struct cvma_reader *r, uint16_t *out)
{
    uint64_t v;
    bool ok = read_be(r, 2, &v);
    *out = (uint16_t)v;
    return ok;
}

bool cvma_reader_u32be(struct cvma_reader *r, uint32_t *out)
{
    uint64_t v;
    bool ok = read_be(r, 4, &v);
    *out = (uint32_t)v;
    return ok;
}

bool cvma_reader_u64be(struct cvma_reader *r, uint64_t *out)
{
    return read_be(r, 8, out);
}

bool cvma_reader_bytes(struct cvma_reader *r, uint8_t *dst, size_t n)
{
    if (!have(r, n)) {
        if (n > 0) {
            memset(dst, 0, n);
        }
        return false;
    }
    if (n > 0) {
        memcpy(dst, r->p + r->off, n);
    }
    r->off += n;
    return true;
}

bool cvma_reader_span(struct cvma_reader *r, size_t n, struct cvma_span *out)
{
    out->p = NULL;
    out->len = 0;
    if (!have(r, n)) {
        return false;
    }
    out->p = r->p != NULL ? r->p + r->off : NULL; /* (NULL, 0): no offset on a null pointer */
    out->len = n;
    r->off += n;
    return true;
}

bool cvma_reader_skip(struct cvma_reader *r, size_t n)
{
    if (!have(r, n)) {
        return false;
    }
    r->off += n;
    return true;
}

bool cvma_reader_sub(struct cvma_reader *r, size_t n, struct cvma_reader *child)
{
    child->p = NULL;
    child->len = 0;
    child->off = 0;
    if (!have(r, n)) {
        return false;
    }
    child->p = r->p + r->off;
    child->len = n;
    r->off += n;
    return true;
}

void cvma_reader_rest(struct cvma_reader *r, struct cvma_span *out)
{
    out->p = r->p != NULL ? r->p + r->off : NULL;
    out->len = r->len - r->off;
    r->off = r->len;
}

bool cvma_reader_starts_with(const struct cvma_reader *r, const char *s)
{
    size_t n = strlen(s);
    return have(r, n) && (n == 0 || memcmp(r->p + r->off, s, n) == 0);
}

void cvma_reader_skip_ws(struct cvma_reader *r)
{
    while (have(r, 1)) {
        uint8_t c = r->p[r->off];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            return;
        }
        r->off++;
    }
}

bool cvma_bytes_are_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

bool cvma_span_is_zero(const struct cvma_span *s)
{
    return cvma_bytes_are_zero(s->p, s->len);
}
