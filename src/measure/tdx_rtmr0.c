/*
 * RTMR 0 of a TD booted directly with TDVF (OVMF) under QEMU, from the firmware, the guest's
 * memory size and the ACPI tables QEMU generates for it (given, never taken from a guest's own
 * event log). Events, in order (docs/measure.md):
 *   1. EV_PLATFORM_CONFIG_FLAGS "TD HOB": the TD HOB QEMU builds (a PHIT HOB, then one resource
 *      HOB per memory range: accepted where the TDVF sections TD_HOB and TEMP_MEM lie,
 *      unaccepted elsewhere; RAM above 2 GiB moved above 4 GiB from 2.75 GiB of RAM up);
 *   2. EV_EFI_PLATFORM_FIRMWARE_BLOB2: the TDVF CFV section (the variable store);
 *   3-7. EV_EFI_VARIABLE_DRIVER_CONFIG SecureBoot, PK, KEK, db, dbx (empty: no keys enrolled);
 *   8. EV_SEPARATOR;
 *   9-11. EV_PLATFORM_CONFIG_FLAGS "ACPI DATA": QEMU's etc/table-loader, etc/acpi/rsdp,
 *      etc/acpi/tables (the vCPUs are in the tables' MADT);
 *   12-13. EV_EFI_VARIABLE_BOOT BootOrder (Boot0000) and Boot0000 (OVMF's UiApp load option;
 *      the kernel is started by QEMU's loader, not a boot option).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "measure/measure.h"

#define SEC_TD_CFV   1u
#define SEC_TD_HOB   2u
#define SEC_TEMP_MEM 3u
#define MAX_RANGES   (2 * CVMA_MEASURE_MAX_SECTIONS + 2)
#define HOB_MAX      (56 + 48 * (MAX_RANGES + 1))

static const uint8_t GUID_GLOBAL_VARIABLE[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                                 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
static const uint8_t GUID_SECURITY_DB[16] = {0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
                                             0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};
/* EFI_LOAD_OPTION of OVMF's Boot0000: active, "UiApp", FvFile(UiApp) in Fv(DXEFV). */
static const uint8_t BOOT0000[] = {0x09, 0x01, 0x00, 0x00, 0x2c, 0x00, 0x55, 0x00, 0x69, 0x00, 0x41,
                                   0x00, 0x70, 0x00, 0x70, 0x00, 0x00, 0x00, 0x04, 0x07, 0x14, 0x00,
                                   0xc9, 0xbd, 0xb8, 0x7c, 0xeb, 0xf8, 0x34, 0x4f, 0xaa, 0xea, 0x3e,
                                   0xe4, 0xaf, 0x65, 0x16, 0xa1, 0x04, 0x06, 0x14, 0x00, 0x21, 0xaa,
                                   0x2c, 0x46, 0x14, 0x76, 0x03, 0x45, 0x83, 0x6e, 0x8a, 0xb6, 0xf4,
                                   0x66, 0x23, 0x31, 0x7f, 0xff, 0x04, 0x00};

static bool sha384(const void *p, size_t n, uint8_t out[48])
{
    unsigned int len = 0;
    return EVP_Digest(p, n, out, &len, EVP_sha384(), NULL) == 1 && len == 48;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

bool cvma_tdx_efi_variable_digest(const uint8_t guid[16], const char *name, const uint8_t *data,
                                  size_t data_len, uint8_t out[48])
{
    size_t nlen = strlen(name);
    uint8_t hdr[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    memcpy(hdr, guid, 16);
    put_le(hdr + 16, nlen, 8);
    put_le(hdr + 24, data_len, 8);
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, hdr, sizeof hdr) == 1;
    for (size_t i = 0; ok && i < nlen; i++) {
        uint8_t u[2] = {(uint8_t)name[i], 0};
        ok = EVP_DigestUpdate(ctx, u, 2) == 1;
    }
    ok = ok && (data_len == 0 || EVP_DigestUpdate(ctx, data, data_len) == 1);
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 48;
    EVP_MD_CTX_free(ctx);
    return ok;
}

struct range {
    bool accepted;
    uint64_t start, end;
};

static int range_cmp(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Marks [start, end) accepted in the sorted range list (QEMU's tdx_accept_ram_range). */
static bool accept(struct range *r, size_t *n, uint64_t start, uint64_t end)
{
    struct range out[MAX_RANGES];
    size_t m = 0;
    if (start >= end) {
        return true;
    }
    for (size_t i = 0; i < *n; i++) {
        if (r[i].accepted || r[i].end <= start || r[i].start >= end) {
            out[m++] = r[i];
            continue;
        }
        if (r[i].start < start) {
            out[m++] = (struct range){false, r[i].start, start};
        }
        if (r[i].end > end) {
            out[m++] = (struct range){false, end, r[i].end};
        }
        if (m + 1 >= MAX_RANGES) {
            return false;
        }
    }
    out[m++] = (struct range){true, start, end};
    qsort(out, m, sizeof out[0], range_cmp);
    memcpy(r, out, m * sizeof out[0]);
    *n = m;
    return true;
}

static size_t resource_hob(uint8_t *h, size_t off, uint8_t type, uint64_t start, uint64_t len)
{
    uint8_t *p = h + off;
    memset(p, 0, 48);
    p[0] = 0x03; /* EFI_HOB_TYPE_RESOURCE_DESCRIPTOR */
    p[2] = 48;
    p[24] = type; /* 0: system memory (accepted), 7: unaccepted */
    p[28] = 0x07; /* present, initialized, tested */
    put_le(p + 32, start, 8);
    put_le(p + 40, len, 8);
    return off + 48;
}

bool cvma_measure_tdx_rtmr0(const struct cvma_tdx_rtmr0_in *in, struct cvma_tdx_rtmr0_out *out,
                            char *err, size_t err_len)
{
    struct cvma_tdvf_section secs[CVMA_MEASURE_MAX_SECTIONS];
    struct range r[MAX_RANGES];
    size_t n_secs = 0, n = 1, off = 56;
    const struct cvma_tdvf_section *cfv = NULL, *td_hob = NULL;
    struct cvma_ovmf_info info;
    uint8_t hob[HOB_MAX];
    static const uint8_t separator[4] = {0}, boot_order[2] = {0};

    memset(out, 0, sizeof *out);
    if (!cvma_tdvf_parse(in->fw, in->fw_len, secs, CVMA_ARRAY_LEN(secs), &n_secs, err, err_len) ||
        !cvma_ovmf_parse_tdx(in->fw, in->fw_len, &info, err, err_len)) {
        return false;
    }
    /* This is QEMU's TD HOB: QEMU finds the TDX metadata through the OVMF footer table only
     * ("Cannot find TDX_METADATA_OFFSET_GUID"), and the parser then holds the image to what
     * QEMU accepts (a TD_HOB section among them). */
    if (!info.has_tdx_metadata) {
        cvma_errf(err, err_len,
                  "the firmware's TDX metadata is not named by an OVMF footer table entry (a "
                  "td-shim image?): QEMU cannot launch it, and RTMR 0 models QEMU's TD HOB");
        return false;
    }
    r[0] = (struct range){false, 0, in->mem_size};
    for (size_t i = 0; i < n_secs; i++) {
        const struct cvma_tdvf_section *s = &secs[i];
        if (s->type == SEC_TD_HOB || s->type == SEC_TEMP_MEM) {
            if (s->mem_addr + s->mem_size > in->mem_size) {
                cvma_errf(err, err_len,
                          "memory size %llu is below the firmware's TD HOB and "
                          "temporary memory",
                          (unsigned long long)in->mem_size);
                return false;
            }
            if (!accept(r, &n, s->mem_addr, s->mem_addr + s->mem_size)) {
                cvma_errf(err, err_len, "too many memory ranges");
                return false;
            }
        }
        if (s->type == SEC_TD_HOB && td_hob == NULL) {
            td_hob = s;
        }
        if (s->type == SEC_TD_CFV && cfv == NULL) {
            cfv = s;
        }
    }
    if (td_hob == NULL) {
        /* the parser refuses such an image already (QEMU exits on it): never an address of
         * our own making */
        cvma_errf(err, err_len, "the firmware has no TDVF TD_HOB section (QEMU refuses it)");
        return false;
    }
    if (cfv == NULL || (uint64_t)cfv->data_offset + cfv->raw_size > in->fw_len) {
        cvma_errf(err, err_len, "the firmware has no usable TDVF CFV section");
        return false;
    }
    if (r[n - 1].accepted) {
        cvma_errf(err, err_len, "memory size %llu leaves no RAM above the firmware's",
                  (unsigned long long)in->mem_size);
        return false;
    }
    /* The PHIT HOB, then the resource HOBs; the last range is split around the 32-bit PCI
     * hole when RAM reaches 2.75 GiB. */
    memset(hob, 0, 56);
    hob[0] = 0x01; /* EFI_HOB_TYPE_HANDOFF */
    hob[2] = 56;
    hob[8] = 9; /* version */
    for (size_t i = 0; i + 1 < n; i++) {
        off = resource_hob(hob, off, r[i].accepted ? 0x00 : 0x07, r[i].start,
                           r[i].end - r[i].start);
    }
    const struct range *last = &r[n - 1];
    if (in->mem_size >= 0xb0000000ULL && last->start < 0x80000000ULL) {
        off = resource_hob(hob, off, 0x07, last->start, 0x80000000ULL - last->start);
        off = resource_hob(hob, off, 0x07, 0x100000000ULL, last->end - 0x80000000ULL);
    } else {
        off = resource_hob(hob, off, 0x07, last->start, last->end - last->start);
    }
    /* EfiEndOfHobList, after the end HOB's header */
    put_le(hob + 48, td_hob->mem_addr + off + 8, 8);

    uint8_t(*ev)[48] = out->events;
    bool ok = sha384(hob, off, ev[0]) && sha384(in->fw + cfv->data_offset, cfv->raw_size, ev[1]) &&
              cvma_tdx_efi_variable_digest(GUID_GLOBAL_VARIABLE, "SecureBoot", NULL, 0, ev[2]) &&
              cvma_tdx_efi_variable_digest(GUID_GLOBAL_VARIABLE, "PK", NULL, 0, ev[3]) &&
              cvma_tdx_efi_variable_digest(GUID_GLOBAL_VARIABLE, "KEK", NULL, 0, ev[4]) &&
              cvma_tdx_efi_variable_digest(GUID_SECURITY_DB, "db", NULL, 0, ev[5]) &&
              cvma_tdx_efi_variable_digest(GUID_SECURITY_DB, "dbx", NULL, 0, ev[6]) &&
              sha384(separator, sizeof separator, ev[7]) &&
              sha384(in->acpi_loader.p, in->acpi_loader.len, ev[8]) &&
              sha384(in->acpi_rsdp.p, in->acpi_rsdp.len, ev[9]) &&
              sha384(in->acpi_tables.p, in->acpi_tables.len, ev[10]) &&
              sha384(boot_order, sizeof boot_order, ev[11]) &&
              sha384(BOOT0000, sizeof BOOT0000, ev[12]);
    out->n = 13;
    if (!ok || !cvma_tdx_rtmr_replay(out->events[0], out->n, out->rtmr0)) {
        cvma_errf(err, err_len, "SHA-384 failed");
        return false;
    }
    return true;
}
