/*
 * The SEV-SNP launch digest (SEV-SNP ABI, SNP_LAUNCH_UPDATE: the digest is extended with a
 * PAGE_INFO per page). Order, as QEMU and KVM launch a guest: the firmware's pages; the
 * firmware's SEV metadata sections in their order (the kernel hashes page among them when
 * the firmware has that section); one VMSA per vCPU.
 */
#include <string.h>

#include <openssl/evp.h>

#include "measure/measure.h"

#define PAGE 4096u

enum page_type {
    PT_NORMAL = 1,
    PT_VMSA = 2,
    PT_ZERO = 3,
    PT_UNMEASURED = 4,
    PT_SECRETS = 5,
    PT_CPUID = 6,
};

/* The VMSA page's GPA in the RMP: (u64)-1, page aligned, bits above 51 clear. */
#define VMSA_GPA 0xFFFFFFFFF000ull

struct gctx {
    uint8_t ld[48];
    bool ok;
};

static bool digest(const EVP_MD *md, const uint8_t *p, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    return EVP_Digest(p, len, out, &n, md, NULL) == 1;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* PAGE_INFO (SEV-SNP ABI, Layout of the PAGE_INFO structure): the digest so far, the page's
 * contents digest, length 0x70, page type, IMI page, VMPL 3/2/1 permissions, reserved, GPA. */
static void gctx_update(struct gctx *g, enum page_type type, uint64_t gpa,
                        const uint8_t contents[48])
{
    uint8_t info[0x70] = {0};
    memcpy(info, g->ld, 48);
    memcpy(info + 48, contents, 48);
    put16(info + 96, 0x70);
    info[98] = (uint8_t)type;
    put64(info + 104, gpa);
    if (!digest(EVP_sha384(), info, sizeof info, g->ld)) {
        g->ok = false;
    }
}

static void gctx_normal_pages(struct gctx *g, uint64_t gpa, const uint8_t *p, size_t len)
{
    for (size_t off = 0; off + PAGE <= len; off += PAGE) {
        uint8_t h[48];
        if (!digest(EVP_sha384(), p + off, PAGE, h)) {
            g->ok = false;
            return;
        }
        gctx_update(g, PT_NORMAL, gpa + off, h);
    }
}

static void gctx_empty_pages(struct gctx *g, enum page_type type, uint64_t gpa, uint64_t len)
{
    static const uint8_t zero[48];
    for (uint64_t off = 0; off < len; off += PAGE) {
        gctx_update(g, type, gpa + off, zero);
    }
}

static const uint8_t GUID_HT_HEADER[16] = {0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
                                           0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21};
static const uint8_t GUID_HT_KERNEL[16] = {0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
                                           0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b};
static const uint8_t GUID_HT_INITRD[16] = {0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
                                           0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d};
static const uint8_t GUID_HT_CMDLINE[16] = {0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
                                            0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a};

void cvma_sev_hashes_table(const uint8_t kernel_sha256[32], const uint8_t *initrd_sha256,
                           const char *append, uint8_t out[CVMA_SEV_HASHES_TABLE_LEN])
{
    /* QEMU's SevHashTable: header GUID, u16 length (unpadded), then command line, initrd and
     * kernel entries (GUID, u16 length 50, SHA-256); the command line is hashed with its NUL,
     * a missing initrd as empty. Padded with zeros to 16 bytes. */
    const size_t entry = 16 + 2 + 32, len = 16 + 2 + 3 * entry;
    uint8_t cmd[32], empty[32];
    const char *a = append != NULL ? append : "";
    memset(out, 0, CVMA_SEV_HASHES_TABLE_LEN);
    (void)digest(EVP_sha256(), (const uint8_t *)a, strlen(a) + 1, cmd);
    (void)digest(EVP_sha256(), (const uint8_t *)"", 0, empty);
    memcpy(out, GUID_HT_HEADER, 16);
    put16(out + 16, (uint16_t)len);
    const uint8_t *guids[3] = {GUID_HT_CMDLINE, GUID_HT_INITRD, GUID_HT_KERNEL};
    const uint8_t *hashes[3] = {cmd, initrd_sha256 != NULL ? initrd_sha256 : empty, kernel_sha256};
    for (size_t i = 0; i < 3; i++) {
        uint8_t *e = out + 18 + i * entry;
        memcpy(e, guids[i], 16);
        put16(e + 16, (uint16_t)entry);
        memcpy(e + 18, hashes[i], 32);
    }
}

static const struct {
    const char *name;
    uint32_t sig;
} vcpu_sigs[] = {
        /* family 23 model 1 stepping 2 */
        {"EPYC", 0x800f12},
        {"EPYC-v1", 0x800f12},
        {"EPYC-v2", 0x800f12},
        {"EPYC-v3", 0x800f12},
        {"EPYC-v4", 0x800f12},
        {"EPYC-IBPB", 0x800f12},
        /* family 23 model 49 stepping 0 */
        {"EPYC-Rome", 0x830f10},
        {"EPYC-Rome-v1", 0x830f10},
        {"EPYC-Rome-v2", 0x830f10},
        {"EPYC-Rome-v3", 0x830f10},
        {"EPYC-Rome-v4", 0x830f10},
        /* family 25 model 1 stepping 1 */
        {"EPYC-Milan", 0xa00f11},
        {"EPYC-Milan-v1", 0xa00f11},
        {"EPYC-Milan-v2", 0xa00f11},
        {"EPYC-Milan-v3", 0xa00f11},
        /* family 25 model 17 stepping 0 */
        {"EPYC-Genoa", 0xa10f10},
        {"EPYC-Genoa-v1", 0xa10f10},
        {"EPYC-Genoa-v2", 0xa10f10},
        /* family 26 model 0 stepping 0 */
        {"EPYC-Turin", 0xb00f00},
        {"EPYC-Turin-v1", 0xb00f00},
};

bool cvma_snp_vcpu_sig(const char *name, uint32_t *sig)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(vcpu_sigs); i++) {
        if (strcmp(name, vcpu_sigs[i].name) == 0) {
            *sig = vcpu_sigs[i].sig;
            return true;
        }
    }
    return false;
}

bool cvma_snp_vmm_from_name(const char *name, enum cvma_snp_vmm *out)
{
    static const char *const names[] = {"qemu", "ec2", "gce"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum cvma_snp_vmm)i;
            return true;
        }
    }
    return false;
}

const char *cvma_snp_vmm_name(enum cvma_snp_vmm vmm)
{
    return vmm == CVMA_SNP_VMM_EC2 ? "ec2" : vmm == CVMA_SNP_VMM_GCE ? "gce" : "qemu";
}

/* A VMCB segment (AMD APM vol. 2, VMCB save state): selector, attributes, limit, base. */
static void put_seg(uint8_t *vmsa, size_t off, uint16_t sel, uint16_t attr, uint32_t limit,
                    uint64_t base)
{
    put16(vmsa + off, sel);
    put16(vmsa + off + 2, attr);
    put32(vmsa + off + 4, limit);
    put64(vmsa + off + 8, base);
}

/* The initial VMSA of a vCPU starting at eip, as the VMM sets it (offsets of the SEV-ES save
 * area, AMD APM vol. 2 table B-4). */
static void build_vmsa(uint8_t vmsa[PAGE], uint32_t eip, bool bsp,
                       const struct cvma_snp_measure_in *in)
{
    uint16_t cs = 0x9b, ss = 0x93, tr = 0x8b, fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    uint64_t rdx = in->vcpu_sig, g_pat = 0x0007040600070406ull;
    if (in->vmm == CVMA_SNP_VMM_EC2) {
        cs = bsp ? 0x9a : 0x9b;
        ss = 0x92;
        tr = 0x83;
        rdx = 0x600;
        mxcsr = 0;
        fcw = 0;
    } else if (in->vmm == CVMA_SNP_VMM_GCE) {
        rdx = 0x600;
        mxcsr = 0;
        fcw = 0;
        g_pat = 0x70106;
    }
    memset(vmsa, 0, PAGE);
    put_seg(vmsa, 0x00, 0, 0x93, 0xffff, 0);                    /* es */
    put_seg(vmsa, 0x10, 0xf000, cs, 0xffff, eip & 0xffff0000u); /* cs */
    put_seg(vmsa, 0x20, 0, ss, 0xffff, 0);                      /* ss */
    put_seg(vmsa, 0x30, 0, 0x93, 0xffff, 0);                    /* ds */
    put_seg(vmsa, 0x40, 0, 0x93, 0xffff, 0);                    /* fs */
    put_seg(vmsa, 0x50, 0, 0x93, 0xffff, 0);                    /* gs */
    put_seg(vmsa, 0x60, 0, 0, 0xffff, 0);                       /* gdtr */
    put_seg(vmsa, 0x70, 0, 0x82, 0xffff, 0);                    /* ldtr */
    put_seg(vmsa, 0x80, 0, 0, 0xffff, 0);                       /* idtr */
    put_seg(vmsa, 0x90, 0, tr, 0xffff, 0);                      /* tr */
    put64(vmsa + 0xd0, 0x1000);                                 /* efer: SVME */
    put64(vmsa + 0x148, 0x40);                                  /* cr4: MCE */
    put64(vmsa + 0x158, 0x10);                                  /* cr0 */
    put64(vmsa + 0x160, 0x400);                                 /* dr7 */
    put64(vmsa + 0x168, 0xffff0ff0);                            /* dr6 */
    put64(vmsa + 0x170, 0x2);                                   /* rflags */
    put64(vmsa + 0x178, eip & 0xffff);                          /* rip */
    put64(vmsa + 0x268, g_pat);                                 /* g_pat */
    put64(vmsa + 0x310, rdx);                                   /* rdx: CPUID signature */
    put64(vmsa + 0x3b0, in->guest_features);                    /* sev_features */
    put64(vmsa + 0x3e8, 0x1);                                   /* xcr0 */
    put32(vmsa + 0x408, mxcsr);                                 /* mxcsr */
    put16(vmsa + 0x410, fcw);                                   /* x87 fcw */
}

#define BSP_EIP 0xfffffff0u

bool cvma_measure_snp(const struct cvma_snp_measure_in *in, uint8_t out[48], char *err,
                      size_t err_len)
{
    struct cvma_ovmf_info info;
    if (in->vcpus < 1 || in->vcpus > 512) {
        cvma_errf(err, err_len, "vCPUs must be 1..512");
        return false;
    }
    if ((in->guest_features & 1) == 0) {
        cvma_errf(err, err_len, "guest features 0x%llx lack SNPActive (bit 0)",
                  (unsigned long long)in->guest_features);
        return false;
    }
    /* The firmware is mapped to end at 4 GiB, one page-sized launch update at a time. */
    if (in->ovmf_len == 0) {
        cvma_errf(err, err_len, "the firmware image is empty");
        return false;
    }
    if (in->ovmf_len > 0x100000000ull) {
        cvma_errf(err, err_len,
                  "firmware image size %zu is over 4 GiB: it is mapped to end at 4 GiB",
                  in->ovmf_len);
        return false;
    }
    if (in->ovmf_len % PAGE != 0) {
        cvma_errf(err, err_len, "firmware image size %zu is not a whole number of pages",
                  in->ovmf_len);
        return false;
    }
    if (!cvma_ovmf_parse(in->ovmf, in->ovmf_len, &info, err, err_len)) {
        return false;
    }
    if (!info.has_sev_metadata) {
        cvma_errf(err, err_len, "the firmware has no SEV metadata: not built for SEV-SNP");
        return false;
    }
    /* QEMU reads the SEV-ES reset block for every SEV-ES or SNP guest, whatever its vCPU
     * count, and exits without one ("failed to locate and/or save reset vector") or when it
     * gives address 0 ("SEV-ES reset address is zero"); sev-snp-measure needs it too. No
     * guest launches from such an image, even with one vCPU (no AP). */
    if (!info.has_reset_eip) {
        cvma_errf(err, err_len,
                  "the firmware has no SEV-ES reset block (AP reset vector): QEMU refuses it "
                  "for every SEV-SNP guest, one vCPU included");
        return false;
    }
    if (info.reset_eip == 0) {
        cvma_errf(err, err_len,
                  "the firmware's SEV-ES reset block gives the AP reset address 0: QEMU refuses "
                  "it for every SEV-SNP guest, one vCPU included");
        return false;
    }
    bool has_hashes_section = false;
    for (size_t i = 0; i < info.n_sev; i++) {
        has_hashes_section |= info.sev[i].type == CVMA_SEV_KERNEL_HASHES;
    }
    if (in->kernel_sha256 != NULL && !has_hashes_section) {
        cvma_errf(err, err_len,
                  "--kernel given but the firmware has no SNP kernel-hashes section: the "
                  "kernel, initrd and command line would not be measured (use an OVMF built "
                  "with kernel hashes, e.g. AmdSev)");
        return false;
    }
    /* QEMU (sev_add_kernel_loader_hashes) finds where to write the table by this footer
     * entry, and refuses --kernel without it. */
    if (in->kernel_sha256 != NULL && !info.has_hashes_table) {
        cvma_errf(err, err_len,
                  "--kernel given but the firmware's OVMF footer table has no SEV hashes-table "
                  "entry (SEV_HASH_TABLE_RV), or it gives GPA 0: QEMU would not know where to "
                  "write the kernel hashes");
        return false;
    }
    /* QEMU (sev_add_kernel_loader_hashes) refuses a hashes table area smaller than the
     * padded table it writes: "guest firmware hashes table area is invalid". */
    if (in->kernel_sha256 != NULL && info.hashes_table_size < CVMA_SEV_HASHES_TABLE_LEN) {
        cvma_errf(err, err_len,
                  "the firmware's SEV hashes table area is invalid (size %u, the table needs "
                  "%u bytes): QEMU refuses --kernel with it",
                  info.hashes_table_size, CVMA_SEV_HASHES_TABLE_LEN);
        return false;
    }

    struct gctx g = {.ok = true};
    const uint64_t fw_gpa = 0x100000000ull - in->ovmf_len;
    gctx_normal_pages(&g, fw_gpa, in->ovmf, in->ovmf_len);

    for (size_t i = 0; i < info.n_sev; i++) {
        const struct cvma_sev_section *s = &info.sev[i];
        if (s->gpa % PAGE != 0 || s->size % PAGE != 0) {
            cvma_errf(err, err_len, "SEV metadata section %zu not page aligned", i);
            return false;
        }
        /* Each page is measured: below 4 GiB, no two sections over the same pages, so the
         * image cannot make the work endless (nor describe a guest QEMU could not launch). */
        if ((uint64_t)s->gpa + s->size > CVMA_TDVF_GPA_END) {
            cvma_errf(err, err_len, "SEV metadata section %zu ends past 4 GiB", i);
            return false;
        }
        /* The firmware's own pages were launch-updated above: QEMU/KVM refuses a second
         * SNP_LAUNCH_UPDATE of a page already assigned, so no guest launches such an image. */
        if (s->size != 0 && (uint64_t)s->gpa + s->size > fw_gpa) {
            cvma_errf(err, err_len,
                      "SEV metadata section %zu and the firmware's own pages [0x%llx, 4 GiB) "
                      "overlap",
                      i, (unsigned long long)fw_gpa);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            const struct cvma_sev_section *o = &info.sev[j];
            if (s->size != 0 && o->size != 0 && (uint64_t)s->gpa < (uint64_t)o->gpa + o->size &&
                (uint64_t)o->gpa < (uint64_t)s->gpa + s->size) {
                cvma_errf(err, err_len, "SEV metadata sections %zu and %zu overlap", j, i);
                return false;
            }
        }
        /* QEMU measures every page of a SECRETS or CPUID section (SNP_LAUNCH_UPDATE over
         * its length), sev-snp-measure one page whatever the size: only a one-page section
         * has one expected measurement. */
        if ((s->type == CVMA_SEV_SECRETS || s->type == CVMA_SEV_CPUID) && s->size != PAGE) {
            cvma_errf(err, err_len,
                      "SEV metadata section %zu (%s) is 0x%x bytes, not one page: VMMs and "
                      "calculators measure it differently",
                      i, s->type == CVMA_SEV_SECRETS ? "SECRETS" : "CPUID", s->size);
            return false;
        }
        switch (s->type) {
        case CVMA_SEV_SEC_MEM:
            gctx_empty_pages(&g, in->vmm == CVMA_SNP_VMM_GCE ? PT_UNMEASURED : PT_ZERO, s->gpa,
                             s->size);
            break;
        case CVMA_SEV_SECRETS:
            gctx_empty_pages(&g, PT_SECRETS, s->gpa, PAGE);
            break;
        case CVMA_SEV_CPUID:
            if (in->vmm != CVMA_SNP_VMM_EC2) {
                gctx_empty_pages(&g, PT_CPUID, s->gpa, PAGE);
            }
            break;
        case CVMA_SEV_SVSM_CAA:
            gctx_empty_pages(&g, PT_ZERO, s->gpa, s->size);
            break;
        case CVMA_SEV_KERNEL_HASHES:
            if (in->kernel_sha256 != NULL) {
                uint8_t page[PAGE] = {0};
                uint32_t off = info.hashes_table_gpa & (PAGE - 1);
                if (s->size != PAGE || off + CVMA_SEV_HASHES_TABLE_LEN > PAGE ||
                    (info.hashes_table_gpa & ~(PAGE - 1)) != s->gpa) {
                    cvma_errf(err, err_len, "the kernel hashes table is not inside its section");
                    return false;
                }
                cvma_sev_hashes_table(in->kernel_sha256, in->initrd_sha256, in->append, page + off);
                gctx_normal_pages(&g, s->gpa, page, PAGE);
            } else {
                gctx_empty_pages(&g, PT_ZERO, s->gpa, s->size);
            }
            break;
        default:
            cvma_errf(err, err_len, "SEV metadata section %zu has unknown type %u", i, s->type);
            return false;
        }
    }
    if (in->vmm == CVMA_SNP_VMM_EC2) {
        /* EC2 measures the CPUID page after the other sections. */
        for (size_t i = 0; i < info.n_sev; i++) {
            if (info.sev[i].type == CVMA_SEV_CPUID) {
                gctx_empty_pages(&g, PT_CPUID, info.sev[i].gpa, PAGE);
            }
        }
    }

    uint8_t vmsa[PAGE];
    uint8_t bsp_h[48], ap_h[48];
    build_vmsa(vmsa, BSP_EIP, true, in);
    if (!digest(EVP_sha384(), vmsa, PAGE, bsp_h)) {
        g.ok = false;
    }
    build_vmsa(vmsa, info.reset_eip, false, in);
    if (!digest(EVP_sha384(), vmsa, PAGE, ap_h)) {
        g.ok = false;
    }
    for (unsigned i = 0; i < in->vcpus; i++) {
        gctx_update(&g, PT_VMSA, VMSA_GPA, i == 0 ? bsp_h : ap_h);
    }
    if (!g.ok) {
        cvma_errf(err, err_len, "SHA-384 failed");
        return false;
    }
    memcpy(out, g.ld, 48);
    return true;
}
