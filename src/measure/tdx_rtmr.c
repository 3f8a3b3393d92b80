/*
 * RTMR 1 and 2 of a TD booted directly (QEMU -kernel/-initrd/-append) with TDVF (OVMF), as
 * the event log will replay them (docs/measure.md). Each RTMR starts at 48 zero bytes and is
 * extended with SHA-384(RTMR || event digest) for each event, in this order:
 *   RTMR 1 (CC-MR 2, PCRs 2..6): the kernel's PE/COFF Authenticode SHA-384 (OVMF's LoadImage
 *     of the kernel, EV_EFI_BOOT_SERVICES_APPLICATION); at ReadyToBoot the EV_EFI_ACTION
 *     "Calling EFI Application from Boot Option" and the EV_SEPARATOR (4 zero bytes); at
 *     ExitBootServices the EV_EFI_ACTION "Exit Boot Services Invocation" and "Exit Boot
 *     Services Returned with Success" (EV_EFI_ACTION digests are over the ASCII string
 *     without a NUL);
 *   RTMR 2 (CC-MR 3, PCRs 8..15), by the Linux EFI stub: the LoadOptions OVMF hands it (the
 *     command line in UTF-16LE with its terminator, " initrd=initrd" appended when there is
 *     an initrd; none at all, so no event, for an empty command line without an initrd),
 *     then the initrd's contents.
 * The kernel image OVMF measures is the one QEMU hands it over fw_cfg: QEMU patches the
 * bzImage's setup header first (x86_load_linux, vid_mode too when the command line has
 * "vga="), which OVMF up to 2025.02 (Debian 12's
 * 2022.11 included) measures as is; later OVMF measures the unpatched image.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/reader.h"
#include "measure/measure.h"

const char CVMA_TDX_EV_CALLING_EFI_APP[] = "Calling EFI Application from Boot Option";
const char CVMA_TDX_EV_EXIT_BS[] = "Exit Boot Services Invocation";
const char CVMA_TDX_EV_EXIT_BS_OK[] = "Exit Boot Services Returned with Success";

#define KERNEL_HDR_MIN 0x1000   /* QEMU reads the first 4 KiB as the header */
#define ACPI_DATA_SIZE 0x28000u /* QEMU's q35 acpi_data_size (0x20000 + 0x8000) */

static bool sha384(const void *p, size_t n, uint8_t out[48])
{
    unsigned int len = 0;
    return EVP_Digest(p, n, out, &len, EVP_sha384(), NULL) == 1 && len == 48;
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

static bool is_digit_in(char c, unsigned base, unsigned *v)
{
    unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                 : c >= 'a' && c <= 'z' ? (unsigned)(c - 'a' + 10)
                 : c >= 'A' && c <= 'Z' ? (unsigned)(c - 'A' + 10)
                                        : 99u;
    *v = d;
    return d < base;
}

/* QEMU's "vga=" handling (x86_load_linux): the first "vga=" anywhere in the command line
 * sets the setup header's vid_mode (0x1fa): "normal" 0xffff, "ext" 0xfffe, "ask" 0xfffd (a
 * prefix match, as QEMU's strncmp), else a number as qemu_strtoui(base 0) reads it (leading
 * white space, "0x" hex, "0" octal, at most UINT_MAX), which must end at the NUL or a space;
 * QEMU exits on anything else, and so do we. The value is stored in 16 bits, as QEMU's
 * stw_le_p. A minus sign is refused: QEMU versions read negative numbers differently. */
static bool qemu_vga_mode(const char *cmdline, bool *set, uint16_t *mode, char *err, size_t err_len)
{
    const char *v = strstr(cmdline, "vga=");
    *set = false;
    *mode = 0;
    if (v == NULL) {
        return true;
    }
    v += 4;
    uint64_t val = 0;
    if (strncmp(v, "normal", 6) == 0) {
        val = 0xffff;
    } else if (strncmp(v, "ext", 3) == 0) {
        val = 0xfffe;
    } else if (strncmp(v, "ask", 3) == 0) {
        val = 0xfffd;
    } else {
        const char *q = v;
        unsigned base = 10, d = 0;
        while (*q == ' ' || (*q >= '\t' && *q <= '\r')) {
            q++;
        }
        if (*q == '-') {
            cvma_errf(err, err_len,
                      "--append: a negative 'vga=' value is not modelled (QEMU versions "
                      "differ on it)");
            return false;
        }
        if (*q == '+') {
            q++;
        }
        if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && is_digit_in(q[2], 16, &d)) {
            base = 16;
            q += 2;
        } else if (q[0] == '0') {
            base = 8;
        }
        const char *digits = q;
        while (is_digit_in(*q, base, &d)) {
            val = val * base + d;
            if (val > UINT32_MAX) { /* QEMU: ERANGE past UINT_MAX */
                break;
            }
            q++;
        }
        if (q == digits || val > UINT32_MAX || (*q != '\0' && *q != ' ')) {
            cvma_errf(err, err_len,
                      "--append: invalid 'vga=' kernel parameter (QEMU refuses it: a number, "
                      "normal, ext or ask)");
            return false;
        }
    }
    *set = true;
    *mode = (uint16_t)val;
    return true;
}

bool cvma_tdx_qemu_patch_kernel(uint8_t *k, size_t len, const char *append, uint64_t initrd_len,
                                uint64_t mem_size, char *err, size_t err_len)
{
    const char *cmdline = append != NULL ? append : "";
    bool vga_set = false;
    uint16_t vga_mode = 0;
    struct cvma_reader r;
    uint32_t magic = 0, initrd_addr_max = 0;
    uint16_t protocol = 0, xloadflags = 0;
    uint8_t loadflags = 0, setup_sects = 0;
    /* The real-mode kernel header (Linux boot protocol, "The Real-Mode Kernel Header"): the
     * fields read before they are patched. */
    cvma_reader_init(&r, k, len);
    if (len < KERNEL_HDR_MIN) {
        cvma_errf(err, err_len,
                  "the kernel is %zu bytes, under the %u QEMU reads as a Linux kernel's header",
                  len, (unsigned)KERNEL_HDR_MIN);
        return false;
    }
    if (!cvma_reader_skip(&r, 0x1f1) || !cvma_reader_u8(&r, &setup_sects) ||
        !cvma_reader_skip(&r, 0x202 - 0x1f2) || !cvma_reader_u32le(&r, &magic) ||
        !cvma_reader_u16le(&r, &protocol) || !cvma_reader_skip(&r, 0x211 - 0x208) ||
        !cvma_reader_u8(&r, &loadflags) || !cvma_reader_skip(&r, 0x22c - 0x212) ||
        !cvma_reader_u32le(&r, &initrd_addr_max) || !cvma_reader_skip(&r, 0x236 - 0x230) ||
        !cvma_reader_u16le(&r, &xloadflags) || magic != 0x53726448 /* "HdrS" */) {
        cvma_errf(err, err_len, "the kernel is not a Linux bzImage (no \"HdrS\" setup header)");
        return false;
    }
    if (protocol < 0x206) {
        /* EFI stub kernels have boot protocol 2.10 or later. */
        cvma_errf(err, err_len, "the kernel's boot protocol %u.%02u is too old", protocol >> 8,
                  protocol & 0xff);
        return false;
    }
    /* QEMU: setup_sects 0 means 4; the setup (and the header) must lie within the file. */
    size_t setup_size = ((size_t)(setup_sects == 0 ? 4 : setup_sects) + 1) * 512;
    if (setup_size > len) {
        cvma_errf(err, err_len,
                  "invalid kernel header: %zu bytes of setup in a file of %zu (QEMU refuses it)",
                  setup_size, len);
        return false;
    }
    /* QEMU's real-mode and command-line addresses: boot protocol >= 2.02 with LOADED_HIGH at
     * 0x10000 and 0x20000; without LOADED_HIGH at 0x90000, the command line below 0x9a000 by
     * its length plus 16, rounded down to 16 (QEMU's cmdline_size). */
    uint32_t real_addr = 0x10000, cmdline_addr = 0x20000;
    assert(r.off == 0x238);
    if ((loadflags & 0x01) == 0) { /* LOADED_HIGH */
        size_t cmdline_size = (strlen(cmdline) + 16) & ~(size_t)15;
        real_addr = 0x90000;
        /* the heap (heap_end_ptr, 16 bits) between the setup and the command line */
        if (cmdline_size > 0x9a000 - 0x90000 - 0x200) {
            cvma_errf(err, err_len,
                      "--append: a command line of %zu bytes does not fit below 0x9a000 for "
                      "a kernel without LOADED_HIGH",
                      strlen(cmdline));
            return false;
        }
        cmdline_addr = (uint32_t)(0x9a000 - cmdline_size);
    }
    if (!qemu_vga_mode(cmdline, &vga_set, &vga_mode, err, err_len)) {
        return false;
    }
    if (vga_set) {
        put16(k + 0x1fa, vga_mode); /* vid_mode */
    }
    k[0x210] = 0xb0;                                                /* type_of_loader: QEMU */
    k[0x211] |= 0x80;                                               /* loadflags: CAN_USE_HEAP */
    put16(k + 0x224, (uint16_t)(cmdline_addr - real_addr - 0x200)); /* heap_end_ptr */
    put32(k + 0x228, cmdline_addr);                                 /* cmd_line_ptr */
    if (initrd_len == 0) {
        return true;
    }
    /* QEMU: protocol >= 2.03 (always here) takes initrd_addr_max as the kernel declares it,
     * 0 included (no initrd fits below 0: QEMU refuses it), unless the kernel can take an
     * initrd above 4 GiB. */
    uint32_t initrd_max = initrd_addr_max;
    if (protocol >= 0x20c && (xloadflags & 0x02) != 0) { /* XLF_CAN_BE_LOADED_ABOVE_4G */
        initrd_max = UINT32_MAX;
    } else if (initrd_addr_max == 0) {
        cvma_errf(err, err_len,
                  "the kernel declares initrd_addr_max 0: QEMU refuses any initrd for it");
        return false;
    }
    /* q35: RAM below 4 GiB ends at 2 GiB when the guest has 2.75 GiB or more, else at 2.75
     * GiB, or at its size when smaller. */
    uint64_t lowmem = mem_size >= 0xb0000000ULL ? 0x80000000ULL : 0xb0000000ULL;
    uint64_t below_4g = mem_size >= lowmem ? lowmem : mem_size;
    if (below_4g <= ACPI_DATA_SIZE + 1) {
        cvma_errf(err, err_len, "memory size %llu is too small", (unsigned long long)mem_size);
        return false;
    }
    if (initrd_max >= below_4g - ACPI_DATA_SIZE) {
        initrd_max = (uint32_t)(below_4g - ACPI_DATA_SIZE - 1);
    }
    if (initrd_len >= initrd_max) {
        cvma_errf(err, err_len, "the initrd (%llu bytes) does not fit below 0x%x",
                  (unsigned long long)initrd_len, initrd_max);
        return false;
    }
    put32(k + 0x218, (uint32_t)((initrd_max - initrd_len) & ~(uint64_t)4095)); /* ramdisk_image */
    put32(k + 0x21c, (uint32_t)initrd_len);                                    /* ramdisk_size */
    return true;
}

bool cvma_tdx_cmdline_digest(const char *append, bool has_initrd, uint8_t out[48])
{
    const char *a = append != NULL ? append : "";
    static const char suffix[] = " initrd=initrd";
    size_t alen = strlen(a), n = alen + (has_initrd ? strlen(suffix) : 0);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) == 1;
    /* ASCII to UTF-16LE, as OVMF converts QEMU's command line, then the terminator. */
    for (size_t i = 0; ok && i <= n; i++) {
        char c = i == n ? '\0' : i < alen ? a[i] : suffix[i - alen];
        uint8_t u[2] = {(uint8_t)c, 0};
        ok = EVP_DigestUpdate(ctx, u, 2) == 1;
    }
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 48;
    EVP_MD_CTX_free(ctx);
    return ok;
}

static bool extend(uint8_t mr[48], const uint8_t ev[48])
{
    uint8_t b[96];
    memcpy(b, mr, 48);
    memcpy(b + 48, ev, 48);
    return sha384(b, sizeof b, mr);
}

bool cvma_tdx_rtmr_replay(const uint8_t *ev, size_t n, uint8_t out[48])
{
    memset(out, 0, 48);
    for (size_t i = 0; i < n; i++) {
        if (!extend(out, ev + 48 * i)) {
            return false;
        }
    }
    return true;
}

bool cvma_measure_tdx_rtmr(const struct cvma_tdx_rtmr_in *in, struct cvma_tdx_rtmr_out *out,
                           char *err, size_t err_len)
{
    uint8_t *k = NULL;
    size_t dlen = 0;
    bool ok = false;
    static const uint8_t separator[4] = {0};
    memset(out, 0, sizeof *out);
    if (in->kernel == NULL || in->kernel_len == 0) {
        cvma_errf(err, err_len, "the kernel is empty");
        return false;
    }
    if ((k = malloc(in->kernel_len)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return false;
    }
    memcpy(k, in->kernel, in->kernel_len);
    if (in->qemu_patch && !cvma_tdx_qemu_patch_kernel(k, in->kernel_len, in->append,
                                                      in->initrd != NULL ? in->initrd_len : 0,
                                                      in->mem_size, err, err_len)) {
        goto out;
    }
    if (!cvma_pe_authenticode(k, in->kernel_len, "SHA384", out->kernel_authenticode, 48, &dlen, err,
                              err_len)) {
        goto out;
    }
    memcpy(out->rtmr1_events[0], out->kernel_authenticode, 48);
    if (!sha384(CVMA_TDX_EV_CALLING_EFI_APP, strlen(CVMA_TDX_EV_CALLING_EFI_APP),
                out->rtmr1_events[1]) ||
        !sha384(separator, sizeof separator, out->rtmr1_events[2]) ||
        !sha384(CVMA_TDX_EV_EXIT_BS, strlen(CVMA_TDX_EV_EXIT_BS), out->rtmr1_events[3]) ||
        !sha384(CVMA_TDX_EV_EXIT_BS_OK, strlen(CVMA_TDX_EV_EXIT_BS_OK), out->rtmr1_events[4])) {
        goto hash_err;
    }
    out->n_rtmr1 = 5;
    /* An empty command line without an initrd: QEMU's command-line size is 1 (the NUL
     * alone), so OVMF's X86QemuLoadImageLib gives the kernel no LoadOptions (size 0), and the
     * EFI stub measures LoadOptions only when their size is not 0. RTMR 2 stays all zeros. */
    bool empty_cmdline = in->append == NULL || in->append[0] == '\0';
    if (!empty_cmdline || in->initrd != NULL) {
        if (!cvma_tdx_cmdline_digest(in->append, in->initrd != NULL,
                                     out->rtmr2_events[out->n_rtmr2])) {
            goto hash_err;
        }
        out->n_rtmr2++;
    }
    if (in->initrd != NULL) {
        if (!sha384(in->initrd, in->initrd_len, out->rtmr2_events[out->n_rtmr2])) {
            goto hash_err;
        }
        out->n_rtmr2++;
    }
    if (!cvma_tdx_rtmr_replay(out->rtmr1_events[0], out->n_rtmr1, out->rtmr1) ||
        !cvma_tdx_rtmr_replay(out->rtmr2_events[0], out->n_rtmr2, out->rtmr2)) {
        goto hash_err;
    }
    ok = true;
    goto out;
hash_err:
    cvma_errf(err, err_len, "SHA-384 failed");
out:
    free(k);
    return ok;
}
