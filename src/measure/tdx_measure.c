/*
 * MRTD: the TDX module's SHA-384 over the build of the TD (TDX module ABI: TDH.MEM.PAGE.ADD
 * hashes a 128-byte block "MEM.PAGE.ADD" + GPA; TDH.MR.EXTEND a 128-byte block "MR.EXTEND" +
 * GPA followed by the 256 bytes of the chunk). The VMM adds the TDVF sections in metadata
 * order; sections marked PAGE.AUG are not added, those marked EXTENDMR are measured.
 */
#include <string.h>

#include <openssl/evp.h>

#include "measure/measure.h"

#define PAGE          4096u
#define CHUNK         256u
#define ATTR_EXTENDMR 0x1u
#define ATTR_PAGE_AUG 0x2u

bool cvma_tdx_page_order_from_name(const char *name, enum cvma_tdx_page_order *out)
{
    if (strcmp(name, "single") == 0) {
        *out = CVMA_TDX_ORDER_SINGLE;
        return true;
    }
    if (strcmp(name, "two") == 0) {
        *out = CVMA_TDX_ORDER_TWO;
        return true;
    }
    return false;
}

const char *cvma_tdx_page_order_name(enum cvma_tdx_page_order o)
{
    return o == CVMA_TDX_ORDER_TWO ? "two" : "single";
}

static bool block(EVP_MD_CTX *ctx, const char *op, uint64_t gpa)
{
    uint8_t b[128] = {0};
    memcpy(b, op, strlen(op));
    for (int i = 0; i < 8; i++) {
        b[16 + i] = (uint8_t)(gpa >> (8 * i));
    }
    return EVP_DigestUpdate(ctx, b, sizeof b) == 1;
}

static bool page_add(EVP_MD_CTX *ctx, const struct cvma_tdvf_section *s, uint64_t page)
{
    if (s->attributes & ATTR_PAGE_AUG) {
        return true;
    }
    return block(ctx, "MEM.PAGE.ADD", s->mem_addr + page * PAGE);
}

/* The 16 TDH.MR.EXTEND of one page; the page's bytes come from the image (bounds checked by
 * the caller against the image's length). */
static bool page_extend(EVP_MD_CTX *ctx, const struct cvma_tdvf_section *s, uint64_t page,
                        const uint8_t *img)
{
    if ((s->attributes & ATTR_EXTENDMR) == 0) {
        return true;
    }
    for (uint32_t c = 0; c < PAGE / CHUNK; c++) {
        uint64_t off = s->data_offset + page * PAGE + c * CHUNK;
        if (!block(ctx, "MR.EXTEND", s->mem_addr + page * PAGE + c * CHUNK) ||
            EVP_DigestUpdate(ctx, img + off, CHUNK) != 1) {
            return false;
        }
    }
    return true;
}

bool cvma_measure_tdx_mrtd(const uint8_t *p, size_t len, enum cvma_tdx_page_order order,
                           uint8_t out[48], char *err, size_t err_len)
{
    struct cvma_tdvf_section secs[CVMA_MEASURE_MAX_SECTIONS];
    size_t n = 0;
    bool ok = false;
    EVP_MD_CTX *ctx = NULL;
    if (!cvma_tdvf_parse(p, len, secs, CVMA_ARRAY_LEN(secs), &n, err, err_len)) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        /* A measured section is read page by page from the image: all of it must be there. */
        if ((secs[i].attributes & ATTR_EXTENDMR) &&
            (uint64_t)secs[i].data_offset + secs[i].mem_size > len) {
            cvma_errf(err, err_len,
                      "TDX metadata section %zu (measured) runs past the end of the image", i);
            goto out;
        }
    }
    if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) != 1) {
        cvma_errf(err, err_len, "SHA-384 unavailable");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cvma_tdvf_section *s = &secs[i];
        uint64_t pages = s->mem_size / PAGE;
        for (uint64_t pg = 0; pg < pages; pg++) {
            if (!page_add(ctx, s, pg) ||
                (order == CVMA_TDX_ORDER_SINGLE && !page_extend(ctx, s, pg, p))) {
                goto hash_err;
            }
        }
        for (uint64_t pg = 0; order == CVMA_TDX_ORDER_TWO && pg < pages; pg++) {
            if (!page_extend(ctx, s, pg, p)) {
                goto hash_err;
            }
        }
    }
    unsigned int olen = 0;
    if (EVP_DigestFinal_ex(ctx, out, &olen) != 1 || olen != 48) {
        goto hash_err;
    }
    ok = true;
    goto out;
hash_err:
    cvma_errf(err, err_len, "SHA-384 failed");
out:
    EVP_MD_CTX_free(ctx);
    return ok;
}
