/*
 * libFuzzer target: firmware images as `cvmattest measure` reads them (measure/ovmf.c).
 *  - cvma_ovmf_parse: a refusal says why and leaves the info all zero; an image has a table
 *    exactly when the footer GUID ends 32 bytes before its end (worked out here), and without
 *    one nothing else is set; at most CVMA_MEASURE_MAX_SECTIONS SEV sections, none set past
 *    n_sev.
 *  - cvma_tdvf_parse with room for 8 sections: a refusal says why and leaves no sections (the
 *    count 0, the array all zero); accepted sections number 1 to 8, each one's data lies inside
 *    the image, and each is read again here from the descriptor the table (or the offset 32
 *    bytes from the end) points to: "TDVF" after the metadata GUID, the same fields. With room
 *    for one section fewer than it found, the same image is refused.
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
    /* Accepted: the footer table was read, and the descriptor is where it or the TDVF offset
     * says. */
    if (!ovmf_ok || n < 1 || n > 8) {
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_ovmf_info *info = malloc(sizeof *info);
    struct cvma_ovmf_info *again = malloc(sizeof *again);
    char err[64];

    if (info == NULL || again == NULL) {
        abort();
    }
    check_ovmf(data, size, info);
    bool ovmf_ok = cvma_ovmf_parse(data, size, again, err, sizeof err);
    check_tdvf(data, size, again, ovmf_ok);
    free(again);
    free(info);
    return 0;
}
