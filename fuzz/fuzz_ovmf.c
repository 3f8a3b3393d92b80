/*
 * libFuzzer target: firmware images as `cvmattest measure` reads them (measure/ovmf.c).
 *  - cvma_ovmf_parse: a refusal says why and leaves the info all zero; an image has a table
 *    exactly when the footer GUID ends 32 bytes before its end (worked out here), and without
 *    one nothing else is set; at most CVMA_MEASURE_MAX_SECTIONS SEV sections, none set past
 *    n_sev.
 *  - cvma_tdvf_parse with room for 8 sections: a refusal says why and leaves no sections (the
 *    count 0, the array all zero); accepted sections number 1 to 8, each one's data lies inside
 *    the image, and each is read again here from the descriptor the table (or, without a
 *    table, the offset 32 bytes from the end) points to: "TDVF" after the metadata GUID, the
 *    same fields. An image whose table names no TDX metadata is refused. With room for one
 *    section fewer than it found, the same image is refused.
 *  - the footer table read again here, entry by entry (OvmfPkg ResetVector: each entry's data,
 *    then its u16 size, then its GUID, running backwards from the footer entry): the image is
 *    accepted exactly when the table fits, names each entry it reads at most once (a TD's
 *    read, only the TDX metadata offset: the SEV entries may repeat) and its SEV
 *    metadata is good; the info then holds what those entries say: the reset EIP, the hashes
 *    table, the TDX metadata offset, and the SEV metadata read from where its entry points (a
 *    u32 offset from the image's end to "ASEV", u32 length, u32 version 1, u32 section count,
 *    then per section u32 base, size, type): every section's base, size and type.
 *  - cvma_igvm_header_check (the fixed header `launch --svsm` reads) against its rule.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure/measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t FOOTER[16] = {0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
                                   0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
static const uint8_t TDX_META[16] = {0xf3, 0xf9, 0xea, 0xe9, 0x8e, 0x16, 0xd5, 0x44,
                                     0xa8, 0xeb, 0x7f, 0x4d, 0x87, 0x38, 0xf6, 0xae};

static const uint8_t RESET_BLOCK[16] = {0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
                                        0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e};
static const uint8_t HASHES_RV[16] = {0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
                                      0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54};
static const uint8_t SEV_META[16] = {0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
                                     0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc};
static const uint8_t TDX_OFFSET[16] = {0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
                                       0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    while (n-- > 0) {
        v = v << 8 | p[n];
    }
    return v;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

/* The SEV metadata at off bytes from the image's end, read into w (n_sev, sev[]); false when
 * it is not good: outside the image, not "ASEV" version 1, more sections than the info holds or
 * its length covers, sections past the image's end, or a length over the image's size less off
 * (QEMU drops it) or past the image's end. */
static bool read_sev_metadata(const uint8_t *data, size_t size, uint64_t off,
                              struct cvma_ovmf_info *w)
{
    if (off < 16 || off > size) {
        return false;
    }
    const uint8_t *h = data + size - off;
    uint64_t len = le(h + 4, 4), n = le(h + 12, 4);
    if (memcmp(h, "ASEV", 4) != 0 || le(h + 8, 4) != 1 || n > CVMA_MEASURE_MAX_SECTIONS ||
        len < 16 + 12 * n || off < 16 + 12 * n || len > size - off || len > off) {
        return false;
    }
    memset(w->sev, 0, sizeof w->sev);
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *e = h + 16 + 12 * i;
        w->sev[i].gpa = (uint32_t)le(e, 4);
        w->sev[i].size = (uint32_t)le(e + 4, 4);
        w->sev[i].type = (uint32_t)le(e + 8, 4);
    }
    w->n_sev = (size_t)n;
    w->has_sev_metadata = true;
    return true;
}

/* The footer table read here into w (zeroed first); false when the parser must refuse the
 * image. read_sev false: as cvma_ovmf_parse_tdx, the SEV metadata is not read. */
static bool read_table(const uint8_t *data, size_t size, bool read_sev, struct cvma_ovmf_info *w)
{
    memset(w, 0, sizeof *w);
    if (size < 32 + 18) {
        return false;
    }
    size_t footer = size - 32 - 18;
    if (memcmp(data + footer + 2, FOOTER, 16) != 0) {
        return true;
    }
    uint64_t table = le(data + footer, 2);
    if (table < 18 || table - 18 > footer) {
        return false;
    }
    w->has_table = true;
    size_t start = footer - (size_t)(table - 18);
    const uint8_t *const known[4] = {RESET_BLOCK, HASHES_RV, SEV_META, TDX_OFFSET};
    bool seen[4] = {false, false, false, false};
    for (size_t end = footer; end - start >= 18;) {
        uint64_t esize = le(data + end - 18, 2);
        const uint8_t *guid = data + end - 16;
        if (esize < 18 || esize > end - start) {
            return false;
        }
        for (size_t k = 0; k < 4; k++) {
            if (memcmp(guid, known[k], 16) == 0) {
                if (seen[k] && (read_sev || k == 3)) {
                    return false; /* the same entry twice: ambiguous (a TD reads only TDX's) */
                }
                seen[k] = true;
            }
        }
        const uint8_t *d = data + end - esize;
        size_t dlen = (size_t)esize - 18;
        if (dlen >= 4 && memcmp(guid, RESET_BLOCK, 16) == 0) {
            w->has_reset_eip = true;
            w->reset_eip = (uint32_t)le(d, 4);
        } else if (dlen >= 8 && memcmp(guid, HASHES_RV, 16) == 0) {
            w->hashes_table_gpa = (uint32_t)le(d, 4);
            w->hashes_table_size = (uint32_t)le(d + 4, 4);
            w->has_hashes_table = w->hashes_table_gpa != 0;
        } else if (dlen >= 4 && memcmp(guid, SEV_META, 16) == 0 && read_sev) {
            if (!read_sev_metadata(data, size, le(d, 4), w)) {
                return false;
            }
        } else if (dlen >= 4 && memcmp(guid, TDX_OFFSET, 16) == 0) {
            w->has_tdx_metadata = true;
            w->tdx_metadata_offset = (uint32_t)le(d, 4);
        }
        end -= (size_t)esize;
    }
    return true;
}

static void check_ovmf(const uint8_t *data, size_t size, struct cvma_ovmf_info *info)
{
    char err[256] = "";
    bool ok;

    memset(info, 0xa5, sizeof *info);
    ok = cvma_ovmf_parse(data, size, info, err, sizeof err);
    if (!ok) {
        if (err[0] == '\0' || !all_zero(info, sizeof *info)) {
            abort();
        }
        return;
    }
    bool table = size >= 32 + 18 && memcmp(data + size - 32 - 16, FOOTER, 16) == 0;
    if (info->has_table != table || info->n_sev > CVMA_MEASURE_MAX_SECTIONS ||
        !all_zero(info->sev + info->n_sev,
                  (CVMA_MEASURE_MAX_SECTIONS - info->n_sev) * sizeof info->sev[0]) ||
        (info->n_sev > 0 && !info->has_sev_metadata)) {
        abort();
    }
    if (!table && (info->has_reset_eip || info->has_hashes_table || info->has_sev_metadata ||
                   info->has_tdx_metadata || info->reset_eip != 0 || info->hashes_table_gpa != 0 ||
                   info->tdx_metadata_offset != 0)) {
        abort();
    }
}

static void check_tdvf(const uint8_t *data, size_t size, const struct cvma_ovmf_info *info,
                       bool ovmf_ok)
{
    struct cvma_tdvf_section s[8];
    char err[256] = "";
    size_t n = 99;

    memset(s, 0xa5, sizeof s);
    if (!cvma_tdvf_parse(data, size, s, 8, &n, err, sizeof err)) {
        if (err[0] == '\0' || n != 0 || !all_zero(s, sizeof s)) {
            abort();
        }
        return;
    }
    /* Accepted: the footer table was read, and the descriptor is where it or, for an image
     * without an OVMF footer table (td-shim), the TDVF offset says. */
    if (!ovmf_ok || n < 1 || n > 8 || (info->has_table && !info->has_tdx_metadata)) {
        abort();
    }
    uint64_t off =
            info->has_tdx_metadata ? info->tdx_metadata_offset : size - le(data + size - 32, 4);
    if (off < 16 || off > size - 16) {
        abort();
    }
    const uint8_t *d = data + size - off;
    if (memcmp(d - 16, TDX_META, 16) != 0 || memcmp(d, "TDVF", 4) != 0 || le(d + 8, 4) != 1 ||
        le(d + 12, 4) != n || le(d + 4, 4) != 16 + 32 * n || off < 16 + 32 * n) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = d + 16 + 32 * i;
        if (s[i].data_offset != le(e, 4) || s[i].raw_size != le(e + 4, 4) ||
            s[i].mem_addr != le(e + 8, 8) || s[i].mem_size != le(e + 16, 8) ||
            s[i].type != le(e + 24, 4) || s[i].attributes != le(e + 28, 4) ||
            (uint64_t)s[i].data_offset + s[i].raw_size > size || s[i].mem_addr % 4096 != 0 ||
            s[i].mem_size % 4096 != 0) {
            abort();
        }
    }
    /* Room for one fewer: refused, nothing given back. */
    struct cvma_tdvf_section t[8];
    size_t m = 99;
    memset(t, 0xa5, sizeof t);
    if (cvma_tdvf_parse(data, size, t, n - 1, &m, err, sizeof err) || m != 0 ||
        !all_zero(t, (n - 1) * sizeof t[0])) {
        abort();
    }
}

/* The IGVM fixed header (measure/igvm.c) against its rule worked out here: accepted exactly
 * when the file is at least 24 bytes, begins "IGVM", is of format version 1 or 2, gives its
 * own size and puts an 8-byte aligned variable header after the fixed header (24 or 32
 * bytes) and inside the file; a refusal says why. */
static void check_igvm(const uint8_t *data, size_t size)
{
    char err[256] = "";
    bool want = size >= 24 && memcmp(data, "IGVM", 4) == 0;
    if (want) {
        uint64_t version = le(data + 4, 4), off = le(data + 8, 4), len = le(data + 12, 4);
        uint64_t total = le(data + 16, 4), fixed = version == 2 ? 32 : 24;
        want = (version == 1 || version == 2) && total == size && off >= fixed && off % 8 == 0 &&
               off + len <= total;
    }
    bool got = cvma_igvm_header_check(data, size, size, err, sizeof err);
    if (got != want || (!got && err[0] == '\0')) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_ovmf_info *info = malloc(sizeof *info);
    struct cvma_ovmf_info *again = malloc(sizeof *again);
    char err[64];

    if (info == NULL || again == NULL) {
        abort();
    }
    check_ovmf(data, size, info);
    check_igvm(data, size);
    /* The whole info against the table read here. */
    struct cvma_ovmf_info *want = malloc(sizeof *want);
    if (want == NULL) {
        abort();
    }
    for (int tdx = 0; tdx < 2; tdx++) {
        bool want_ok = read_table(data, size, !tdx, want);
        bool got_ok = tdx ? cvma_ovmf_parse_tdx(data, size, info, err, sizeof err)
                          : cvma_ovmf_parse(data, size, info, err, sizeof err);
        if (got_ok != want_ok) {
            abort();
        }
        if (!got_ok) {
            continue;
        }
        if (info->has_table != want->has_table || info->has_reset_eip != want->has_reset_eip ||
            info->reset_eip != want->reset_eip ||
            info->has_hashes_table != want->has_hashes_table ||
            info->hashes_table_gpa != want->hashes_table_gpa ||
            info->hashes_table_size != want->hashes_table_size ||
            info->has_tdx_metadata != want->has_tdx_metadata ||
            info->tdx_metadata_offset != want->tdx_metadata_offset ||
            info->has_sev_metadata != want->has_sev_metadata || info->n_sev != want->n_sev) {
            abort();
        }
        for (size_t i = 0; i < CVMA_MEASURE_MAX_SECTIONS; i++) {
            if (info->sev[i].gpa != want->sev[i].gpa || info->sev[i].size != want->sev[i].size ||
                info->sev[i].type != want->sev[i].type) {
                abort();
            }
        }
    }
    free(want);
    /* cvma_tdvf_parse reads the table as a TD's (no SEV metadata). */
    bool ovmf_ok = cvma_ovmf_parse_tdx(data, size, again, err, sizeof err);
    check_tdvf(data, size, again, ovmf_ok);
    free(again);
    free(info);
    return 0;
}
