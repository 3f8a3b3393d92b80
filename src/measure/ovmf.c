/*
 * The firmware image's own description of itself: OVMF's footer table of GUIDed entries
 * (OvmfPkg/ResetVector), the SEV metadata ("ASEV") and the TDX metadata ("TDVF", TDX Virtual
 * Firmware Design Guide, section 11). Offsets in the image are untrusted: read through the
 * reader, and anything pointing outside the image is refused.
 */
#include <string.h>

#include "common/reader.h"
#include "measure/measure.h"

/* GUIDs in their in-memory (little-endian first three fields) byte order. */
static const uint8_t GUID_FOOTER[16] = {0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
                                        0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
static const uint8_t GUID_SEV_HASH_TABLE_RV[16] = {0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
                                                   0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54};
static const uint8_t GUID_SEV_ES_RESET_BLOCK[16] = {0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
                                                    0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e};
static const uint8_t GUID_SEV_METADATA[16] = {0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
                                              0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc};
static const uint8_t GUID_TDX_METADATA_OFFSET[16] = {0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98,
                                                     0x98, 0x47, 0x86, 0x5e, 0x46, 0x85,
                                                     0xa7, 0xbf, 0x8e, 0xc2};
static const uint8_t GUID_TDX_METADATA[16] = {0xf3, 0xf9, 0xea, 0xe9, 0x8e, 0x16, 0xd5, 0x44,
                                              0xa8, 0xeb, 0x7f, 0x4d, 0x87, 0x38, 0xf6, 0xae};

#define FOOTER_END       32 /* the table's last entry ends this far before the image's end */
#define ENTRY_HEADER_LEN 18 /* u16 size + GUID, after the entry's data */

/* The first 4 bytes of an entry's data as a u32. */
static bool entry_u32(struct cvma_span data, uint32_t *out)
{
    struct cvma_reader r;
    cvma_reader_init(&r, data.p, data.len);
    return cvma_reader_u32le(&r, out);
}

static bool parse_sev_metadata(const uint8_t *p, size_t len, uint32_t off_from_end,
                               struct cvma_ovmf_info *info, char *err, size_t err_len)
{
    if (off_from_end > len || off_from_end < 16) {
        cvma_errf(err, err_len, "SEV metadata offset %u points outside the %zu-byte image",
                  off_from_end, len);
        return false;
    }
    struct cvma_reader r;
    cvma_reader_init(&r, p + (len - off_from_end), off_from_end);
    uint8_t sig[4];
    uint32_t size, version, n;
    if (!cvma_reader_bytes(&r, sig, 4) || !cvma_reader_u32le(&r, &size) ||
        !cvma_reader_u32le(&r, &version) || !cvma_reader_u32le(&r, &n)) {
        cvma_errf(err, err_len, "SEV metadata header truncated");
        return false;
    }
    if (memcmp(sig, "ASEV", 4) != 0 || version != 1) {
        cvma_errf(err, err_len, "SEV metadata: bad signature or version %u", version);
        return false;
    }
    if (n > CVMA_MEASURE_MAX_SECTIONS || size < 16 || (size - 16) / 12 < n) {
        cvma_errf(err, err_len, "SEV metadata: %u sections in %u bytes", n, size);
        return false;
    }
    /* QEMU (pc_system_parse_sev_metadata) drops a block whose length is over the image's size
     * less its offset, and then launches no SEV-SNP guest ("Failed to locate SEV metadata
     * header"); one that runs past the image's end is not the image's either. */
    if (size > len - off_from_end || size > off_from_end) {
        cvma_errf(err, err_len,
                  "SEV metadata: its length %u does not fit the %zu-byte image at %u bytes from "
                  "its end (QEMU launches no SEV-SNP guest from it)",
                  size, len, off_from_end);
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct cvma_sev_section *s = &info->sev[i];
        if (!cvma_reader_u32le(&r, &s->gpa) || !cvma_reader_u32le(&r, &s->size) ||
            !cvma_reader_u32le(&r, &s->type)) {
            cvma_errf(err, err_len, "SEV metadata section %u truncated", i);
            return false;
        }
    }
    info->n_sev = n;
    info->has_sev_metadata = true;
    return true;
}

static bool ovmf_parse(const uint8_t *p, size_t len, bool read_sev, struct cvma_ovmf_info *info,
                       char *err, size_t err_len)
{
    if (len < FOOTER_END + ENTRY_HEADER_LEN) {
        cvma_errf(err, err_len, "firmware image too short (%zu bytes)", len);
        return false;
    }
    size_t footer = len - FOOTER_END - ENTRY_HEADER_LEN;
    struct cvma_reader r;
    cvma_reader_init(&r, p + footer, ENTRY_HEADER_LEN);
    uint16_t table_size;
    uint8_t guid[16];
    if (!cvma_reader_u16le(&r, &table_size) || !cvma_reader_bytes(&r, guid, 16)) {
        return false; /* unreachable: the length was checked */
    }
    if (memcmp(guid, GUID_FOOTER, 16) != 0) {
        return true; /* no table: nothing SEV or TDX in this image */
    }
    if (table_size < ENTRY_HEADER_LEN || (size_t)(table_size - ENTRY_HEADER_LEN) > footer) {
        cvma_errf(err, err_len, "OVMF footer table size %u does not fit the image", table_size);
        return false;
    }
    info->has_table = true;
    /* Entries run backwards from the footer: data, u16 size (all of it), GUID. Each GUID read
     * here may appear once: QEMU takes the first entry of a GUID it looks up, other tools the
     * last, so an image naming two SEV metadata blocks (or two reset vectors, ...) has no one
     * expected measurement. A TD's launch reads only the TDX metadata offset (QEMU reads
     * nothing SEV for a TD), so for a TD only that entry may not appear twice. */
    bool seen_reset = false, seen_hashes = false, seen_sev = false, seen_tdx = false;
    size_t end = footer, start = footer - (table_size - ENTRY_HEADER_LEN);
    while (end - start >= ENTRY_HEADER_LEN) {
        cvma_reader_init(&r, p + end - ENTRY_HEADER_LEN, ENTRY_HEADER_LEN);
        uint16_t esize;
        if (!cvma_reader_u16le(&r, &esize) || !cvma_reader_bytes(&r, guid, 16)) {
            return false;
        }
        if (esize < ENTRY_HEADER_LEN || esize > end - start) {
            cvma_errf(err, err_len, "OVMF footer table entry of size %u does not fit", esize);
            return false;
        }
        bool *seen = memcmp(guid, GUID_SEV_ES_RESET_BLOCK, 16) == 0    ? &seen_reset
                     : memcmp(guid, GUID_SEV_HASH_TABLE_RV, 16) == 0   ? &seen_hashes
                     : memcmp(guid, GUID_SEV_METADATA, 16) == 0        ? &seen_sev
                     : memcmp(guid, GUID_TDX_METADATA_OFFSET, 16) == 0 ? &seen_tdx
                                                                       : NULL;
        if (seen != NULL && *seen && (read_sev || seen == &seen_tdx)) {
            cvma_errf(err, err_len,
                      "OVMF footer table names the same entry twice (%s): ambiguous image",
                      seen == &seen_reset    ? "SEV-ES reset block"
                      : seen == &seen_hashes ? "SEV hashes table"
                      : seen == &seen_sev    ? "SEV metadata"
                                             : "TDX metadata offset");
            return false;
        }
        if (seen != NULL) {
            *seen = true;
        }
        struct cvma_span data = {p + end - esize, esize - ENTRY_HEADER_LEN};
        uint32_t v = 0;
        bool has_u32 = entry_u32(data, &v);
        if (memcmp(guid, GUID_SEV_ES_RESET_BLOCK, 16) == 0 && has_u32) {
            info->has_reset_eip = true;
            info->reset_eip = v;
        } else if (memcmp(guid, GUID_SEV_HASH_TABLE_RV, 16) == 0 && has_u32) {
            struct cvma_reader dr;
            uint32_t gpa, size = 0;
            cvma_reader_init(&dr, data.p, data.len);
            if (cvma_reader_u32le(&dr, &gpa) && cvma_reader_u32le(&dr, &size)) {
                info->has_hashes_table = gpa != 0;
                info->hashes_table_gpa = gpa;
                info->hashes_table_size = size;
            }
        } else if (memcmp(guid, GUID_SEV_METADATA, 16) == 0 && has_u32 && read_sev) {
            if (!parse_sev_metadata(p, len, v, info, err, err_len)) {
                return false;
            }
        } else if (memcmp(guid, GUID_TDX_METADATA_OFFSET, 16) == 0 && has_u32) {
            info->has_tdx_metadata = true;
            info->tdx_metadata_offset = v;
        }
        end -= esize;
    }
    return true;
}

/* A refusal leaves the info all zero (no table, no entries read before the bad one). */
static bool parse_all(const uint8_t *p, size_t len, bool read_sev, struct cvma_ovmf_info *info,
                      char *err, size_t err_len)
{
    memset(info, 0, sizeof *info);
    if (!ovmf_parse(p, len, read_sev, info, err, err_len)) {
        memset(info, 0, sizeof *info);
        return false;
    }
    return true;
}

bool cvma_ovmf_parse(const uint8_t *p, size_t len, struct cvma_ovmf_info *info, char *err,
                     size_t err_len)
{
    return parse_all(p, len, true, info, err, err_len);
}

bool cvma_ovmf_parse_tdx(const uint8_t *p, size_t len, struct cvma_ovmf_info *info, char *err,
                         size_t err_len)
{
    return parse_all(p, len, false, info, err, err_len);
}

/* TDVF section types (TDX Virtual Firmware Design Guide; td-shim adds 4 to 8) and
 * attributes. */
#define TDVF_SECTION_BFV      0
#define TDVF_SECTION_CFV      1
#define TDVF_SECTION_TD_HOB   2
#define TDVF_SECTION_TEMP_MEM 3
#define TDVF_SECTION_TD_INFO  7
#define TDVF_SECTION_TYPE_MAX 9
#define TDVF_ATTR_EXTENDMR    0x1u
#define TDVF_ATTR_PAGE_AUG    0x2u

/*
 * What QEMU (hw/i386/tdvf.c, target/i386/kvm/tdx.c) refuses in the TDX metadata of an image
 * it finds through the OVMF footer table, refused here too, so that no MRTD or RTMR is given
 * for an image no TD launches from: a section of a type other than BFV, CFV, TD_HOB and
 * TEMP_MEM ("TDVF contains unsupported section type"), a BFV or CFV without bytes in the image
 * or a TD_HOB or TEMP_MEM with some, a section whose memory is smaller than its bytes ("Broken
 * metadata"). Attributes QEMU does not read the way the td-shim model here does are refused
 * rather than guessed: PAGE.AUG (QEMU adds every page of every section), and EXTENDMR on a
 * TD_HOB or TEMP_MEM (QEMU would measure the memory it builds there, not image bytes).
 */
static bool qemu_section_ok(const struct cvma_tdvf_section *s, uint32_t i, char *err,
                            size_t err_len)
{
    const bool in_image = s->type == TDVF_SECTION_BFV || s->type == TDVF_SECTION_CFV;
    if (!in_image && s->type != TDVF_SECTION_TD_HOB && s->type != TDVF_SECTION_TEMP_MEM) {
        cvma_errf(err, err_len,
                  "TDX metadata section %u has type %u: QEMU takes only BFV (0), CFV (1), TD_HOB "
                  "(2) and TEMP_MEM (3) from an OVMF image (\"TDVF contains unsupported section "
                  "type\")",
                  i, s->type);
        return false;
    }
    if (in_image != (s->raw_size != 0)) {
        cvma_errf(err, err_len,
                  "TDX metadata section %u (type %u) has %u bytes in the image: QEMU requires "
                  "some for BFV and CFV, none for TD_HOB and TEMP_MEM",
                  i, s->type, s->raw_size);
        return false;
    }
    if (s->mem_size < s->raw_size) {
        cvma_errf(err, err_len,
                  "TDX metadata section %u: %u bytes in the image, 0x%llx in memory (QEMU: "
                  "\"Broken metadata\")",
                  i, s->raw_size, (unsigned long long)s->mem_size);
        return false;
    }
    if ((s->attributes & TDVF_ATTR_PAGE_AUG) != 0 ||
        (!in_image && (s->attributes & TDVF_ATTR_EXTENDMR) != 0)) {
        cvma_errf(err, err_len,
                  "TDX metadata section %u (type %u) has attributes 0x%x: QEMU adds every page "
                  "of every section and measures only image bytes here; not modelled",
                  i, s->type, s->attributes);
        return false;
    }
    return true;
}

static bool tdvf_parse(const uint8_t *p, size_t len, struct cvma_tdvf_section *out, size_t cap,
                       size_t *n, char *err, size_t err_len)
{
    struct cvma_ovmf_info info;
    if (!cvma_ovmf_parse_tdx(p, len, &info, err, err_len)) {
        return false;
    }
    uint32_t off_from_end;
    if (info.has_tdx_metadata) {
        off_from_end = info.tdx_metadata_offset;
    } else if (info.has_table) {
        /* An OVMF image (the footer table is OVMF's, td-shim has none) whose table names no
         * TDX metadata: QEMU refuses it ("Cannot find TDX_METADATA_OFFSET_GUID"). Reading the
         * td-shim offset 32 bytes from the end instead would measure code bytes taken for an
         * offset, or a descriptor QEMU never reads, with td-shim's rules: a guess, not a TD. */
        cvma_errf(err, err_len,
                  "no TDX metadata in this firmware image (its OVMF footer table has no TDX "
                  "metadata entry: QEMU refuses it)");
        return false;
    } else {
        /* A TDVF or td-shim image without an OVMF table: the descriptor's offset (from the
         * start) is at 32 bytes from the end. */
        struct cvma_reader r;
        uint32_t from_start;
        if (len < 32) {
            cvma_errf(err, err_len, "firmware image too short (%zu bytes)", len);
            return false;
        }
        cvma_reader_init(&r, p + len - 32, 4);
        if (!cvma_reader_u32le(&r, &from_start) || from_start > len || from_start < 16) {
            cvma_errf(err, err_len,
                      "no TDX metadata in this firmware image (no OVMF table "
                      "entry and no TDVF descriptor offset)");
            return false;
        }
        off_from_end = (uint32_t)(len - from_start);
    }
    if (off_from_end > len - 16 || off_from_end < 16) {
        cvma_errf(err, err_len,
                  "TDX metadata offset %u points past the %zu-byte image (a code-only "
                  "OVMF_CODE image? use the unified OVMF.fd)",
                  off_from_end, len);
        return false;
    }
    size_t desc = len - off_from_end;
    if (memcmp(p + desc - 16, GUID_TDX_METADATA, 16) != 0) {
        cvma_errf(err, err_len, "no TDX metadata GUID where the firmware's table points");
        return false;
    }
    struct cvma_reader r;
    cvma_reader_init(&r, p + desc, len - desc);
    uint8_t sig[4];
    uint32_t dlen, version, count;
    if (!cvma_reader_bytes(&r, sig, 4) || !cvma_reader_u32le(&r, &dlen) ||
        !cvma_reader_u32le(&r, &version) || !cvma_reader_u32le(&r, &count)) {
        cvma_errf(err, err_len, "TDX metadata descriptor truncated");
        return false;
    }
    if (memcmp(sig, "TDVF", 4) != 0 || version != 1 || count == 0 || dlen < 16 ||
        (dlen - 16) % 32 != 0 || (dlen - 16) / 32 != count) {
        cvma_errf(err, err_len, "TDX metadata descriptor invalid (version %u, %u sections)",
                  version, count);
        return false;
    }
    if (count > cap) {
        cvma_errf(err, err_len, "TDX metadata has %u sections (at most %zu)", count, cap);
        return false;
    }
    /* Found through the OVMF table: QEMU's TDVF (see qemu_section_ok). Otherwise a TDVF or
     * td-shim image QEMU cannot load (it needs the table entry), read as td-shim's
     * calculators read it (section types 0 to 8). */
    const bool qemu = info.has_tdx_metadata;
    bool has_hob = false;
    if (qemu && count < 2) {
        cvma_errf(err, err_len,
                  "TDX metadata has %u section: QEMU refuses fewer than 2 (\"Invalid number of "
                  "fw entries\")",
                  count);
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        struct cvma_tdvf_section *s = &out[i];
        if (!cvma_reader_u32le(&r, &s->data_offset) || !cvma_reader_u32le(&r, &s->raw_size) ||
            !cvma_reader_u64le(&r, &s->mem_addr) || !cvma_reader_u64le(&r, &s->mem_size) ||
            !cvma_reader_u32le(&r, &s->type) || !cvma_reader_u32le(&r, &s->attributes)) {
            cvma_errf(err, err_len, "TDX metadata section %u truncated", i);
            return false;
        }
        if (qemu && !qemu_section_ok(s, i, err, err_len)) {
            return false;
        }
        has_hob |= s->type == TDVF_SECTION_TD_HOB;
        if (s->type >= TDVF_SECTION_TYPE_MAX || s->mem_addr % 4096 != 0 ||
            s->mem_size % 4096 != 0 ||
            (s->type != TDVF_SECTION_TD_INFO && s->mem_size != 0 && s->mem_size < s->raw_size)) {
            cvma_errf(err, err_len, "TDX metadata section %u invalid (type %u)", i, s->type);
            return false;
        }
        if ((uint64_t)s->data_offset + s->raw_size > len) {
            cvma_errf(err, err_len,
                      "TDX metadata section %u points past the end of the %zu-byte image "
                      "(offset %u + %u bytes): a code-only OVMF_CODE image? use the unified "
                      "OVMF.fd",
                      i, len, s->data_offset, s->raw_size);
            return false;
        }
        /* Every section's pages are measured or added one by one: the image's word alone
         * must not make that endless. TDVF's sections lie below 4 GiB (firmware volumes,
         * temporary memory, the TD HOB) and do not overlap. */
        if (s->mem_addr > CVMA_TDVF_GPA_END || s->mem_size > CVMA_TDVF_GPA_END - s->mem_addr) {
            cvma_errf(err, err_len,
                      "TDX metadata section %u (type %u) at 0x%llx, 0x%llx bytes: past 4 GiB", i,
                      s->type, (unsigned long long)s->mem_addr, (unsigned long long)s->mem_size);
            return false;
        }
        for (uint32_t j = 0; j < i; j++) {
            const struct cvma_tdvf_section *o = &out[j];
            if (s->mem_size != 0 && o->mem_size != 0 && s->mem_addr < o->mem_addr + o->mem_size &&
                o->mem_addr < s->mem_addr + s->mem_size) {
                cvma_errf(err, err_len, "TDX metadata sections %u and %u overlap", j, i);
                return false;
            }
        }
    }
    /* QEMU: "TDVF metadata doesn't specify TD_HOB location." (and it exits) */
    if (qemu && !has_hob) {
        cvma_errf(err, err_len,
                  "the TDX metadata has no TD_HOB section: QEMU refuses such a firmware (it "
                  "puts the TD HOB there)");
        return false;
    }
    *n = count;
    return true;
}

/* A refusal leaves no sections: the count 0 and out[0..cap) all zero (none of those read
 * before the bad one). */
bool cvma_tdvf_parse(const uint8_t *p, size_t len, struct cvma_tdvf_section *out, size_t cap,
                     size_t *n, char *err, size_t err_len)
{
    *n = 0;
    if (!tdvf_parse(p, len, out, cap, n, err, err_len)) {
        *n = 0;
        if (cap > 0) {
            memset(out, 0, cap * sizeof *out);
        }
        return false;
    }
    return true;
}
