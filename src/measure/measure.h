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
 * metadata, a kernel without the kernel-hashes section, an unknown section type, ... */
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
 * OVMF_CODE*.fd: its offsets are those of the unified image). */
CVMA_MUST_USE bool cvma_tdvf_parse(const uint8_t *p, size_t len, struct cvma_tdvf_section *out,
                                   size_t cap, size_t *n, char *err, size_t err_len);

/* MRTD of a TD built from this firmware with that page order. */
CVMA_MUST_USE bool cvma_measure_tdx_mrtd(const uint8_t *p, size_t len,
                                         enum cvma_tdx_page_order order, uint8_t out[48], char *err,
                                         size_t err_len);

#endif
