/*
 * The fixed header of an IGVM image (microsoft/igvm, igvm_defs: IGVM_FIXED_HEADER), the
 * little-endian u32s magic "IGVM", format_version, variable_header_offset,
 * variable_header_size, total_file_size and checksum; format version 2 adds architecture and
 * page_size. `cvmattest launch --svsm` reads it so that a file that is no IGVM image, or one
 * cut short, is refused before QEMU is asked to boot it. The image's contents (its directives,
 * its measurement) are QEMU's to read, not this check's.
 */
#include <string.h>

#include "common/reader.h"
#include "measure/measure.h"

#define IGVM_MAGIC     0x4D564749u /* "IGVM" little-endian */
#define IGVM_V1_HEADER 24u
#define IGVM_V2_HEADER 32u

/* see measure/measure.h */
bool cvma_igvm_header_check(const uint8_t *p, size_t len, uint64_t file_size, char *err,
                            size_t err_len)
{
    struct cvma_reader r;
    uint32_t magic = 0, version = 0, var_off = 0, var_size = 0, total = 0;
    cvma_reader_init(&r, p, len);
    if (!cvma_reader_u32le(&r, &magic) || magic != IGVM_MAGIC) {
        cvma_errf(err, err_len, "not an IGVM image (it does not begin with \"IGVM\")");
        return false;
    }
    if (!cvma_reader_u32le(&r, &version) || !cvma_reader_u32le(&r, &var_off) ||
        !cvma_reader_u32le(&r, &var_size) || !cvma_reader_u32le(&r, &total) ||
        !cvma_reader_skip(&r, 4)) {
        cvma_errf(err, err_len, "an IGVM image cut short inside its %u-byte fixed header",
                  IGVM_V1_HEADER);
        return false;
    }
    if (version != 1 && version != 2) {
        cvma_errf(err, err_len, "an IGVM image of format version %u (known: 1 and 2)",
                  (unsigned)version);
        return false;
    }
    uint32_t fixed = version == 1 ? IGVM_V1_HEADER : IGVM_V2_HEADER;
    if (total != file_size) {
        cvma_errf(err, err_len,
                  "an IGVM image whose header gives %u bytes, but the file is %llu bytes",
                  (unsigned)total, (unsigned long long)file_size);
        return false;
    }
    if (var_off < fixed || var_off % 8 != 0 || var_size > total || var_off > total - var_size) {
        cvma_errf(err, err_len,
                  "an IGVM image whose variable header (%u bytes at offset %u) is not 8-byte "
                  "aligned after the %u-byte fixed header and inside its %u bytes",
                  (unsigned)var_size, (unsigned)var_off, (unsigned)fixed, (unsigned)total);
        return false;
    }
    return true;
}
