/*
 * Expected launch measurements, computed on the host before a confidential VM starts
 * (docs/measure.md):
 *   - SEV-SNP: the launch digest the report's MEASUREMENT holds, from the firmware image
 *     (OVMF), its SEV metadata sections, the kernel hashes table (direct kernel boot) and one
 *     VMSA per vCPU as the VMM sets it up (SEV-SNP ABI, PAGE_INFO of SNP_LAUNCH_UPDATE);
 *   - TDX: MRTD from the TDVF metadata of the firmware (TDX module ABI, TDH.MEM.PAGE.ADD and
 *     TDH.MR.EXTEND), in the page order of the VMM.
 * The firmware image is untrusted input: every offset in it goes through the reader.
 */
#ifndef CVMA_MEASURE_MEASURE_H
#define CVMA_MEASURE_MEASURE_H

#include "common/util.h"

#define CVMA_MEASURE_MAX_SECTIONS 64

/* SEV metadata section types (OVMF's OvmfSevMetadata). */
enum cvma_sev_section_type {
    CVMA_SEV_SEC_MEM = 1,
    CVMA_SEV_SECRETS = 2,
    CVMA_SEV_CPUID = 3,
    CVMA_SEV_SVSM_CAA = 4,
    CVMA_SEV_KERNEL_HASHES = 0x10,
};

struct cvma_sev_section {
    uint32_t gpa, size, type;
};

/* Where TDVF sections (and SEV metadata sections) may lie: below 4 GiB. */
#define CVMA_TDVF_GPA_END 0x100000000ull

struct cvma_tdvf_section {
    uint32_t data_offset, raw_size;
    uint64_t mem_addr, mem_size;
    uint32_t type, attributes;
};

/* What the OVMF footer table (the GUIDed table that ends 32 bytes before the image's end)
 * and the metadata it points to say. */
struct cvma_ovmf_info {
    bool has_table;
    bool has_reset_eip; /* SEV_ES_RESET_BLOCK: the APs' reset vector */
    uint32_t reset_eip;
    bool has_hashes_table; /* SEV_HASH_TABLE_RV: where QEMU writes the kernel hashes */
    uint32_t hashes_table_gpa, hashes_table_size;
    bool has_sev_metadata;
    size_t n_sev;
    struct cvma_sev_section sev[CVMA_MEASURE_MAX_SECTIONS];
    bool has_tdx_metadata;        /* the table names TDX metadata (it may still be unusable) */
    uint32_t tdx_metadata_offset; /* from the end of the image */
};

/* Parses the footer table and the SEV metadata. False (err set) when the table or the
 * metadata it names is malformed; an image without a table parses with has_table false. */
CVMA_MUST_USE bool cvma_ovmf_parse(const uint8_t *p, size_t len, struct cvma_ovmf_info *info,
                                   char *err, size_t err_len);
/* The same for a TD: the SEV metadata is not read (QEMU reads none for a TD, so a TD launches
 * from an image whose SEV metadata is broken; has_sev_metadata and the sections stay 0). */
CVMA_MUST_USE bool cvma_ovmf_parse_tdx(const uint8_t *p, size_t len, struct cvma_ovmf_info *info,
                                       char *err, size_t err_len);

/* The fixed header of an IGVM image (src/measure/igvm.c): p/len its first bytes (32 suffice),
 * file_size the whole file's size. True when the magic is "IGVM", the format version 1 or 2,
 * the header's total size the file's and the variable header aligned inside it; otherwise
 * false with why in err. Nothing past the fixed header is read. */
CVMA_MUST_USE bool cvma_igvm_header_check(const uint8_t *p, size_t len, uint64_t file_size,
                                          char *err, size_t err_len);

enum cvma_snp_vmm { CVMA_SNP_VMM_QEMU, CVMA_SNP_VMM_EC2, CVMA_SNP_VMM_GCE };

/* "qemu", "ec2", "gce" -> the VMM; false for another name. */
CVMA_MUST_USE bool cvma_snp_vmm_from_name(const char *name, enum cvma_snp_vmm *out);
const char *cvma_snp_vmm_name(enum cvma_snp_vmm vmm);

/* The CPUID signature (family, model, stepping) QEMU puts in the VMSA for a CPU model name:
 * EPYC, EPYC-v1..v4, EPYC-IBPB, EPYC-Rome(-vN), EPYC-Milan(-vN), EPYC-Genoa(-vN),
 * EPYC-Turin(-vN). False for an unknown name. */
CVMA_MUST_USE bool cvma_snp_vcpu_sig(const char *name, uint32_t *sig);

struct cvma_snp_measure_in {
    const uint8_t *ovmf;
    size_t ovmf_len;
    /* Direct kernel boot: kernel_sha256 non-NULL. initrd_sha256 NULL means no initrd (the
     * SHA-256 of nothing); append NULL means an empty command line. */
    const uint8_t *kernel_sha256;
    const uint8_t *initrd_sha256;
    const char *append;
    unsigned vcpus;          /* 1..512 */
    uint32_t vcpu_sig;       /* QEMU only; ec2 and gce fix their own */
    uint64_t guest_features; /* SEV_FEATURES of every VMSA; bit 0 (SNPActive) must be set */
    enum cvma_snp_vmm vmm;
};

/* The SEV-SNP launch digest. False (err set) when the inputs cannot give one: no SEV
 * metadata, no SEV-ES reset block or reset address 0 (any vCPU count: QEMU refuses such an
 * image for every SNP guest), a kernel without the kernel-hashes section, an unknown
 * section type, ... */
CVMA_MUST_USE bool cvma_measure_snp(const struct cvma_snp_measure_in *in, uint8_t out[48],
                                    char *err, size_t err_len);

/* The SEV kernel hashes table as QEMU writes it (168 bytes, padded to 176). */
#define CVMA_SEV_HASHES_TABLE_LEN 176
void cvma_sev_hashes_table(const uint8_t kernel_sha256[32], const uint8_t *initrd_sha256,
                           const char *append, uint8_t out[CVMA_SEV_HASHES_TABLE_LEN]);

enum cvma_tdx_page_order {
    /* Per page: TDH.MEM.PAGE.ADD, then its 16 TDH.MR.EXTEND (upstream KVM and QEMU). */
    CVMA_TDX_ORDER_SINGLE,
    /* Per section: every page added, then every page extended (older TDX QEMU trees). */
    CVMA_TDX_ORDER_TWO,
};

CVMA_MUST_USE bool cvma_tdx_page_order_from_name(const char *name, enum cvma_tdx_page_order *out);
const char *cvma_tdx_page_order_name(enum cvma_tdx_page_order o);

/* The TDVF sections of a firmware image (OVMF with TDX metadata, or a TDVF/td-shim image
 * with the descriptor offset at 32 bytes from the end). False (err set) for an image
 * without TDX metadata, or whose metadata points past the image's end (Debian's code-only
 * OVMF_CODE*.fd: its offsets are those of the unified image). An image whose OVMF footer
 * table names the metadata is the one QEMU loads, and is held to what QEMU accepts: sections
 * BFV, CFV, TD_HOB and TEMP_MEM only, at least two, a TD_HOB among them (docs/measure.md);
 * the td-shim layout (an image without an OVMF footer table; one whose table names no TDX
 * metadata is refused, as QEMU refuses it) keeps td-shim's section types 0 to 8. */
CVMA_MUST_USE bool cvma_tdvf_parse(const uint8_t *p, size_t len, struct cvma_tdvf_section *out,
                                   size_t cap, size_t *n, char *err, size_t err_len);

/* MRTD of a TD built from this firmware with that page order. */
CVMA_MUST_USE bool cvma_measure_tdx_mrtd(const uint8_t *p, size_t len,
                                         enum cvma_tdx_page_order order, uint8_t out[48], char *err,
                                         size_t err_len);

/* The Authenticode digest of a PE/COFF image as EDK2's measured boot computes it (headers
 * without CheckSum and the Certificate Table entry, sections in file order, trailing data
 * without the certificate table; no padding). md_name: an OpenSSL digest name ("SHA384",
 * "SHA256"). False (err set) for an image that is not PE/COFF or whose headers or sections
 * do not fit it. */
CVMA_MUST_USE bool cvma_pe_authenticode(const uint8_t *p, size_t len, const char *md_name,
                                        uint8_t *out, size_t out_cap, size_t *out_len, char *err,
                                        size_t err_len);

/* The EV_EFI_ACTION strings TDVF measures into RTMR 1 (digest: SHA-384 of the string, no
 * NUL). */
extern const char CVMA_TDX_EV_CALLING_EFI_APP[];
extern const char CVMA_TDX_EV_EXIT_BS[];
extern const char CVMA_TDX_EV_EXIT_BS_OK[];

/* Direct kernel boot of a TD (QEMU -kernel/-initrd/-append, TDVF). */
struct cvma_tdx_rtmr_in {
    const uint8_t *kernel; /* the bzImage given to QEMU */
    size_t kernel_len;
    const uint8_t *initrd; /* NULL: none */
    size_t initrd_len;
    const char *append; /* NULL: empty */
    /* Measure the kernel with its setup header patched as QEMU patches it (OVMF up to
     * 2025.02, Debian 12's included); false: the image as is (later OVMF). */
    bool qemu_patch;
    uint64_t mem_size; /* guest RAM in bytes: where QEMU puts the initrd (qemu_patch) */
};

struct cvma_tdx_rtmr_out {
    uint8_t kernel_authenticode[48];
    uint8_t rtmr1_events[5][48];
    size_t n_rtmr1;
    uint8_t rtmr2_events[2][48];
    size_t n_rtmr2;
    uint8_t rtmr1[48], rtmr2[48];
};

/* RTMR 1 and 2 and the event digests that replay to them (docs/measure.md). */
CVMA_MUST_USE bool cvma_measure_tdx_rtmr(const struct cvma_tdx_rtmr_in *in,
                                         struct cvma_tdx_rtmr_out *out, char *err, size_t err_len);

/* QEMU's x86_load_linux patch of a bzImage's setup header (type_of_loader, loadflags,
 * heap_end_ptr, cmd_line_ptr, vid_mode when the command line append (NULL: empty) has
 * "vga=", and with an initrd ramdisk_image and ramdisk_size for a q35 guest of mem_size
 * bytes). False (err set) for what QEMU refuses: not a bzImage, an invalid "vga=", an initrd
 * that does not fit. */
CVMA_MUST_USE bool cvma_tdx_qemu_patch_kernel(uint8_t *k, size_t len, const char *append,
                                              uint64_t initrd_len, uint64_t mem_size, char *err,
                                              size_t err_len);

/* The digest of the LoadOptions OVMF gives the kernel: the command line in UTF-16LE with its
 * terminator, " initrd=initrd" appended with an initrd. (An empty command line without an
 * initrd gives no LoadOptions and no event: cvma_measure_tdx_rtmr emits none then.) */
CVMA_MUST_USE bool cvma_tdx_cmdline_digest(const char *append, bool has_initrd, uint8_t out[48]);

/* An RTMR replayed from 48 zero bytes over n event digests (48 bytes each, in a row). */
CVMA_MUST_USE bool cvma_tdx_rtmr_replay(const uint8_t *ev, size_t n, uint8_t out[48]);

/* The digest of an EV_EFI_VARIABLE_* event: SHA-384 of UEFI_VARIABLE_DATA (the vendor GUID,
 * the name's length in characters and the data's length as u64, the name in UTF-16LE, the
 * data). name is ASCII. */
CVMA_MUST_USE bool cvma_tdx_efi_variable_digest(const uint8_t guid[16], const char *name,
                                                const uint8_t *data, size_t data_len,
                                                uint8_t out[48]);

/* RTMR 0 of a direct kernel boot under QEMU: from the firmware, the guest's memory size and
 * the ACPI blobs QEMU generates (etc/table-loader, etc/acpi/rsdp, etc/acpi/tables). The
 * firmware must be one QEMU loads: TDX metadata named by the OVMF footer table, with a
 * TD_HOB section (where the TD HOB is built); a td-shim image is refused. */
struct cvma_tdx_rtmr0_in {
    const uint8_t *fw;
    size_t fw_len;
    uint64_t mem_size;
    struct cvma_span acpi_loader, acpi_rsdp, acpi_tables;
};

struct cvma_tdx_rtmr0_out {
    uint8_t events[13][48];
    size_t n;
    uint8_t rtmr0[48];
};

CVMA_MUST_USE bool cvma_measure_tdx_rtmr0(const struct cvma_tdx_rtmr0_in *in,
                                          struct cvma_tdx_rtmr0_out *out, char *err,
                                          size_t err_len);

#endif
