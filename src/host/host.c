/* Host readiness checks: see host.h and docs/host-check.md. */
#define _GNU_SOURCE /* O_PATH */
#include "host/host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HAVE_CPUID_INSN 1
#endif

#include "collateral/fetch.h"
#include "collateral/http.h"
#include "common/hex.h"
#include "common/reader.h"
#include "common/util.h"
#include "measure/measure.h"
#include "snp/snp.h"

/* Minimums: Linux gained SEV-SNP host support (KVM) in 6.11 and TDX host support in 6.16. The
 * SEV firmware must implement SNP ABI 1.51 (the kernel's SNP_MIN_API_MAJOR/MINOR). */
#define SNP_MIN_KERNEL_MAJOR 6
#define SNP_MIN_KERNEL_MINOR 11
#define TDX_MIN_KERNEL_MAJOR 6
#define TDX_MIN_KERNEL_MINOR 16
#define SNP_MIN_FW_MAJOR     1
#define SNP_MIN_FW_MINOR     51

/* MSRs (AMD APM vol. 2 §15.34-15.36; Intel SDM vol. 4; Intel TDX module base spec) */
#define MSR_AMD64_SYSCFG          0xC0010010u /* bit 23 MemEncryptionModeEn, 24 SNPEn */
#define MSR_AMD64_RMP_BASE        0xC0010132u
#define MSR_AMD64_RMP_END         0xC0010133u
#define MSR_AMD64_RMP_CFG         0xC0010136u /* bit 0 SegmentedRMP enabled (Turin and later) */
#define MSR_IA32_TME_ACTIVATE     0x982u      /* bit 0 lock, bit 1 enable */
#define MSR_IA32_MKTME_KEYID_PART 0x87u       /* 31:0 MKTME KeyIDs, 63:32 TDX private KeyIDs */
#define MSR_IA32_SEAMRR_PHYS_MASK 0x1401u     /* bit 11 SEAMRR enabled */

/* /dev/sev ioctl (Linux uapi linux/psp-sev.h): SEV_ISSUE_CMD = _IOWR('S', 0, 16 bytes). */
#define SEV_CMD_PLATFORM_STATUS 1u
#define SNP_CMD_PLATFORM_STATUS 9u
#define SEV_STATUS_LEN          12u
#define SNP_STATUS_LEN          32u

#define DEFAULT_PCCS_URL "https://localhost:8081"

/* Kernel messages quoted in fix hints: the strings users find in dmesg (drivers/crypto/ccp/
 * sev-dev.c, arch/x86/virt/svm/sev.c, arch/x86/virt/vmx/tdx/tdx.c, arch/x86/kvm/vmx/tdx.c). */
#define KMSG_RMP    "\"SEV-SNP: Memory for the RMP table has not been reserved by BIOS\""
#define KMSG_SNPFW  "\"SEV-SNP support requires firmware version >= 1:51\""
#define KMSG_SNPINI "\"SEV-SNP: failed to INIT rc ..., error ...\""
#define KMSG_SNPOK  "\"SEV-SNP API:1.55 build:...\" when it works"
#define KMSG_TDXBIO "\"virt/tdx: TDX not supported by the host platform\""
#define KMSG_TDXKEY "\"virt/tdx: initialization failed: too few private KeyIDs available.\""
#define KMSG_TDXOK  "\"virt/tdx: BIOS enabled: private KeyID range [...)\" when it works"
#define KMSG_TDXMOD "\"virt/tdx: module not loaded\""

struct ctx {
    struct cvma_host_report *r;
    int rootfd; /* -1 for the running machine, else the tree's directory (O_PATH) */
    bool live;
    const char *pccs_url;
    long pccs_timeout_s;
    bool oom;
    /* CPUID results read once */
    int cpuid_err; /* 0, or errno of reading leaf 0 (nothing else is read then) */
    int leaf1_err; /* 0, or errno of reading leaf 1: family, model and hypervisor unknown */
    int brand_err; /* 0, or errno of reading the brand string (leaves 0x80000002..4) */
    uint32_t brand_leaf;
    char vendor[13];
    char vendor_text[12 * 4 + 1]; /* the 12 bytes escaped, for messages */
    char brand[49];
    uint32_t family, model, stepping;
    bool hypervisor; /* CPUID 1 ECX bit 31: running under a hypervisor */
};

/* ---- the report ---- */

static int add(struct ctx *c, int parent, const char *id, const char *name, const char *cat,
               const char *desc)
{
    struct cvma_host_report *r = c->r;
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 64;
        struct cvma_host_check *p = realloc(r->checks, ncap * sizeof *p);
        if (p == NULL) {
            c->oom = true;
            return -1;
        }
        r->checks = p;
        r->cap = ncap;
    }
    struct cvma_host_check *k = &r->checks[r->n];
    memset(k, 0, sizeof *k);
    snprintf(k->id, sizeof k->id, "%s", id);
    snprintf(k->name, sizeof k->name, "%s", name);
    k->category = cat;
    k->description = desc;
    k->state = CVMA_HOST_UNKNOWN;
    k->parent = parent;
    if (parent >= 0) {
        r->checks[parent].group = true;
    }
    return (int)r->n++;
}

static void set(struct ctx *c, int i, enum cvma_host_state st, const char *hint, const char *fmt,
                ...) CVMA_PRINTF(5, 6);
static void set(struct ctx *c, int i, enum cvma_host_state st, const char *hint, const char *fmt,
                ...)
{
    if (i < 0) {
        return;
    }
    struct cvma_host_check *k = &c->r->checks[i];
    k->state = st;
    if (fmt != NULL) {
        char raw[sizeof k->message];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        /* Messages quote text from the host or the tree: every one leaves escaped (control
         * bytes and invalid UTF-8 as \xNN, cut at a whole character), so a terminal shows it as
         * text and JSON keeps it (jansson drops a string that is not UTF-8). */
        cvma_text_escape(raw, k->message, sizeof k->message);
    }
    if (hint != NULL && st != CVMA_HOST_PASS) {
        snprintf(k->fix_hint, sizeof k->fix_hint, "%s", hint);
    }
}

/* A check that makes one statement: add and set at once. */
static int leaf(struct ctx *c, int parent, const char *id, const char *name, const char *cat,
                const char *desc, enum cvma_host_state st, const char *hint, const char *msg)
{
    int i = add(c, parent, id, name, cat, desc);
    set(c, i, st, hint, "%s", msg != NULL ? msg : "");
    return i;
}

/* ---- reading under the root ---- */

/* Opens abs (an absolute path) for reading. On the running machine, as it is. Under a tree,
 * relative to the tree's directory with openat2 RESOLVE_IN_ROOT: "..", absolute symlinks and
 * magic links resolve inside the tree as if it were "/", so no path in the tree reaches the
 * machine's own files. The fd, or -1 with errno set. */
static int open_under(const struct ctx *c, const char *abs, int flags)
{
    /* O_NONBLOCK: a FIFO (in a tree, or mounted over a file of the running machine) must not
     * hold the run waiting for a writer (it is then refused below); for regular files,
     * directories, sysfs and procfs files it changes nothing. (openat2 takes no other flag
     * beside O_PATH, which opens nothing.) */
    int oflags = flags | O_CLOEXEC | ((flags & O_PATH) == 0 ? O_NONBLOCK : 0);
    long fd;
    if (c->rootfd < 0) {
        do {
            fd = open(abs, oflags);
        } while (fd < 0 && errno == EINTR);
    } else {
        struct open_how how = {.flags = (uint64_t)oflags,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        int again = 0;
        do {
            fd = syscall(SYS_openat2, c->rootfd, abs, &how, sizeof how);
            /* EAGAIN: a rename or mount anywhere on the machine raced a lookup through ".."
             * (RESOLVE_IN_ROOT's own check); the lookup is simply made again, a bounded
             * number of times. */
        } while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++again < 64)));
    }
    struct stat st;
    if (fd >= 0 && (flags & O_PATH) == 0 && fstat((int)fd, &st) == 0 &&
        (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        close((int)fd);
        errno = EINVAL; /* read from, a stand-in is a file (a stat, O_PATH, may be of a socket) */
        return -1;
    }
    return (int)fd;
}

/* stat of abs under the root (symlinks followed inside it): 0 or an errno value. */
static int stat_under(const struct ctx *c, const char *abs, struct stat *st)
{
    if (c->rootfd < 0) {
        return stat(abs, st) == 0 ? 0 : errno;
    }
    int fd = open_under(c, abs, O_PATH);
    if (fd < 0) {
        return errno;
    }
    int err = fstat(fd, st) == 0 ? 0 : errno;
    close(fd);
    return err;
}

static bool exists(const struct ctx *c, const char *abs)
{
    struct stat st;
    return stat_under(c, abs, &st) == 0;
}

/* Reads a small text file under the root into buf (NUL-terminated, trailing newline cut);
 * *n (may be NULL) gets its length, NUL bytes included. Returns 0 or an errno value. */
static int read_text_n(const struct ctx *c, const char *abs, char *buf, size_t len, size_t *n)
{
    buf[0] = '\0';
    if (n != NULL) {
        *n = 0;
    }
    int fd = open_under(c, abs, O_RDONLY);
    if (fd < 0) {
        return errno;
    }
    ssize_t got = read(fd, buf, len - 1);
    int err = got < 0 ? errno : 0;
    close(fd);
    if (got < 0) {
        return err;
    }
    buf[got] = '\0';
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' ')) {
        buf[--got] = '\0';
    }
    if (n != NULL) {
        *n = (size_t)got;
    }
    return 0;
}

static int read_text(const struct ctx *c, const char *abs, char *buf, size_t len)
{
    return read_text_n(c, abs, buf, len, NULL);
}

/* Text read from the host or the tree (buf[0..n), NUL bytes included), escaped to show in a
 * message: out holds at least 4 * n + 1 bytes, or is cut at a whole character. */
static const char *shown(const char *buf, size_t n, char *out, size_t out_len)
{
    out[cvma_text_escape_into(out, out_len - 1, 0, buf, n, false)] = '\0';
    return out;
}

/* Why a file that is there could not be read, from read_file's or open_under's errno: big for
 * EFBIG (the limit in words), EINVAL for a FIFO or a socket (open_under refuses them), else
 * strerror's words. */
static const char *unread_why(int err, const char *big)
{
    if (err == EFBIG) {
        return big;
    }
    if (err == EINVAL) {
        return "not a regular file (a FIFO or a socket)";
    }
    return strerror(err);
}

/* Reads a whole file under the root, at most max bytes, into *out (cleared first). Returns 0 or
 * an errno value: ENOENT and the like when it is not there, EISDIR, EFBIG (larger than max),
 * ENOMEM, or what read said. */
static int read_file(const struct ctx *c, const char *abs, size_t max, struct cvma_buf *out)
{
    struct stat st;
    int err = 0;

    out->p = NULL;
    out->len = 0;
    int fd = open_under(c, abs, O_RDONLY);
    if (fd < 0) {
        return errno;
    }
    if (fstat(fd, &st) != 0) {
        err = errno;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        err = EISDIR;
        goto out;
    }
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
        err = EFBIG; /* known before reading it */
        goto out;
    }
    err = cvma_fd_read_all(fd, max, out);
out:
    close(fd);
    return err;
}

/* Reads n bytes at offset off of a file under the root (the cpuid and msr driver layout).
 * Returns 0, or an errno value (EIO also for a short read: no such register). */
static int read_at(const struct ctx *c, const char *abs, uint64_t off, uint8_t *out, size_t n)
{
    int fd = open_under(c, abs, O_RDONLY);
    if (fd < 0) {
        return errno;
    }
    ssize_t got = pread(fd, out, n, (off_t)off);
    int err = got < 0 ? errno : (size_t)got != n ? EIO : 0;
    close(fd);
    return err;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Offset of needle in hay, or SIZE_MAX. */
static size_t find_bytes(const uint8_t *hay, size_t len, const uint8_t *needle, size_t n)
{
    for (size_t off = 0; n > 0 && len >= n && off <= len - n; off++) {
        if (hay[off] == needle[0] && memcmp(hay + off, needle, n) == 0) {
            return off;
        }
    }
    return SIZE_MAX;
}

/* Stand-in files are a line of text: at most this many bytes. */
#define STANDIN_MAX 256

static bool blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Parses a stand-in's text (text[0..len)) as exactly n hex values, each an optional "0x" then
 * at least one hex digit, of at most vmax; blanks (space, tab, CR, LF) between and around
 * them, nothing else: no sign, no value that does not fit, no other text. On false out is
 * zeroed. */
static bool parse_hex_words(const char *text, size_t len, uint64_t *out, size_t n, uint64_t vmax)
{
    size_t i = 0;
    memset(out, 0, n * sizeof *out);
    for (size_t k = 0; k < n; k++) {
        while (i < len && blank(text[i])) {
            i++;
        }
        if (len - i >= 2 && text[i] == '0' && (text[i + 1] | 0x20) == 'x') {
            i += 2;
        }
        uint64_t v = 0;
        size_t digits = 0;
        for (int d; i < len && (d = cvma_hex_nibble((unsigned char)text[i])) >= 0; i++, digits++) {
            if (v > (vmax - (uint64_t)d) / 16) {
                goto bad; /* more than vmax */
            }
            v = v * 16 + (uint64_t)d;
        }
        if (digits == 0 || (i < len && !blank(text[i]))) {
            goto bad;
        }
        out[k] = v;
    }
    while (i < len && blank(text[i])) {
        i++;
    }
    if (i == len) {
        return true;
    }
bad:
    memset(out, 0, n * sizeof *out);
    return false;
}

/* Reads a stand-in file under the root and parses n hex values of at most vmax from it into
 * out (zeroed unless all were read). 0, or an errno value: ENOENT and the like when it is not
 * there, EBADMSG when its text is not n such values (or holds a NUL byte), else read_file's
 * (EISDIR, EFBIG over STANDIN_MAX, EINVAL for a FIFO or a socket, ...). */
static int read_standin(const struct ctx *c, const char *abs, uint64_t *out, size_t n,
                        uint64_t vmax)
{
    struct cvma_buf b = {0};
    memset(out, 0, n * sizeof *out);
    int err = read_file(c, abs, STANDIN_MAX, &b);
    if (err == 0 && ((b.len > 0 && memchr(b.p, 0, b.len) != NULL) ||
                     !parse_hex_words((const char *)b.p, b.len, out, n, vmax))) {
        err = EBADMSG;
    }
    cvma_buf_free(&b);
    return err;
}

/* CPUID leaf/subleaf: the instruction on the running machine; under a tree, the text file
 * ROOT/cvmattest-cpuid/0xLLLLLLLL (subleaf 0) or 0xLLLLLLLL.S holding "EAX EBX ECX EDX" in
 * hex. A leaf beyond the maximum reads as zeros, as on the processor. */
static int cpuid(const struct ctx *c, uint32_t leaf_, uint32_t sub, uint32_t regs[4])
{
    memset(regs, 0, 4 * sizeof regs[0]);
    if (c->live) {
#ifdef HAVE_CPUID_INSN
        unsigned int a, b, cc, d;
        unsigned int max = __get_cpuid_max(leaf_ & 0x80000000u, NULL);
        if (max < leaf_) {
            return 0;
        }
        __cpuid_count(leaf_, sub, a, b, cc, d);
        regs[0] = a;
        regs[1] = b;
        regs[2] = cc;
        regs[3] = d;
        return 0;
#else
        return ENOTSUP;
#endif
    }
    if (!exists(c, "/cvmattest-cpuid")) {
        return ENOENT;
    }
    char abs[64];
    if (sub == 0) {
        snprintf(abs, sizeof abs, "/cvmattest-cpuid/0x%08" PRIx32, leaf_);
    } else {
        snprintf(abs, sizeof abs, "/cvmattest-cpuid/0x%08" PRIx32 ".%" PRIu32, leaf_, sub);
    }
    uint64_t w[4];
    int err = read_standin(c, abs, w, 4, UINT32_MAX);
    if (err == ENOENT) {
        return 0;
    }
    if (err != 0) {
        return err;
    }
    for (int i = 0; i < 4; i++) {
        regs[i] = (uint32_t)w[i];
    }
    return 0;
}

/* MSR through the msr driver: /dev/cpu/0/msr read at offset = the MSR's number (8 bytes). Under
 * a tree, dev/cpu/0/msr must exist (it stands for the loaded module) and the value is the hex
 * text of ROOT/cvmattest-msr/0xNNNNNNNN; a missing file is an MSR that cannot be read (EIO). */
static int rdmsr(const struct ctx *c, uint32_t msr, uint64_t *val)
{
    *val = 0;
    if (c->live) {
        uint8_t b[8];
        int err = read_at(c, "/dev/cpu/0/msr", msr, b, 8);
        if (err == 0) {
            *val = (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
        }
        return err;
    }
    if (!exists(c, "/dev/cpu/0/msr")) {
        return ENOENT;
    }
    char abs[64];
    snprintf(abs, sizeof abs, "/cvmattest-msr/0x%08" PRIx32, msr);
    int err = read_standin(c, abs, val, 1, UINT64_MAX);
    return err == ENOENT ? EIO : err;
}

/* Why an MSR could not be read, and what to do: never a failure of the host itself. */
static void msr_unknown(struct ctx *c, int i, uint32_t msr, int err)
{
    if (err == ENOENT || err == ENXIO || err == ENODEV) {
        set(c, i, CVMA_HOST_UNKNOWN,
            "load the msr module (modprobe msr) and run again as root; /dev/cpu/0/msr is missing",
            "MSR 0x%" PRIX32 " not readable: msr module not loaded", msr);
    } else if (err == EACCES || err == EPERM) {
        set(c, i, CVMA_HOST_UNKNOWN,
            "run as root (sudo cvmattest host-check): reading MSRs needs it",
            "MSR 0x%" PRIX32 " not readable: %s", msr, strerror(err));
    } else if (!c->live && err != EIO) {
        /* the tree's stand-in is there but is not a value (EIO: none, the MSR not exposed) */
        char hint[160];
        snprintf(hint, sizeof hint,
                 "the tree's cvmattest-msr/0x%08" PRIx32
                 " must hold the MSR's value in hex (docs/host-check.md: Prepared trees)",
                 msr);
        set(c, i, CVMA_HOST_UNKNOWN, hint,
            "MSR 0x%" PRIX32 " not readable: cvmattest-msr/0x%08" PRIx32 ": %s", msr, msr,
            err == EBADMSG ? "not one hex value of at most 64 bits"
                           : unread_why(err, "larger than 256 bytes"));
    } else {
        set(c, i, CVMA_HOST_UNKNOWN,
            "the CPU or the hypervisor does not expose this MSR; run on the bare-metal host",
            "MSR 0x%" PRIX32 " not readable: %s", msr, strerror(err));
    }
}

/* A check that needs CPUID leaf_ (read with error err) or leaf 0 (c->cpuid_err) is unknown:
 * never decided on the zeros a failed read leaves. */
static void cpuid_unknown(struct ctx *c, int i, uint32_t leaf_, int err)
{
    char hint[160];
    if (c->cpuid_err != 0) {
        leaf_ = 0;
        err = c->cpuid_err;
    }
    if (c->live) {
        snprintf(hint, sizeof hint, "CPUID is not available on this architecture");
    } else if (err == ENOENT) {
        snprintf(hint, sizeof hint,
                 "the tree has no cvmattest-cpuid/ (docs/host-check.md: Prepared trees)");
    } else {
        snprintf(hint, sizeof hint,
                 "the tree's cvmattest-cpuid/0x%08" PRIx32
                 " must hold one line EAX EBX ECX EDX in hex (docs/host-check.md: Prepared trees)",
                 leaf_);
    }
    set(c, i, CVMA_HOST_UNKNOWN, hint, "CPUID leaf 0x%" PRIx32 " could not be read: %s", leaf_,
        c->live || err == ENOENT ? strerror(err)
        : err == EBADMSG         ? "its stand-in is not four hex values (EAX EBX ECX EDX) of at "
                                   "most 32 bits"
                                 : unread_why(err, "its stand-in is larger than 256 bytes"));
}

/* For the checks that read family, model, stepping or the hypervisor bit (CPUID leaf 1): true,
 * and the check set unknown, when leaf 0 or leaf 1 could not be read. */
static bool leaf1_unknown(struct ctx *c, int i)
{
    if (c->cpuid_err == 0 && c->leaf1_err == 0) {
        return false;
    }
    cpuid_unknown(c, i, 1, c->leaf1_err);
    return true;
}

static void check_bare_metal(struct ctx *c, int parent, const char *id)
{
    int i = add(c, parent, id, "Bare metal", "cpu_support",
                "CPUID 1 ECX bit 31 clear: not running under a hypervisor");
    if (leaf1_unknown(c, i)) {
        return;
    }
    if (c->hypervisor) {
        set(c, i, CVMA_HOST_FAIL,
            "run on the bare-metal host: confidential VMs are launched by the host's own kernel",
            "a virtual machine (CPUID 1 ECX bit 31 set)");
    } else {
        set(c, i, CVMA_HOST_PASS, NULL, "no hypervisor");
    }
}

static void read_cpu(struct ctx *c)
{
    uint32_t r[4];
    if ((c->cpuid_err = cpuid(c, 0, 0, r)) != 0) {
        return;
    }
    memcpy(c->vendor, &r[1], 4);
    memcpy(c->vendor + 4, &r[3], 4);
    memcpy(c->vendor + 8, &r[2], 4);
    c->vendor[12] = '\0';
    shown(c->vendor, 12, c->vendor_text, sizeof c->vendor_text);
    if ((c->leaf1_err = cpuid(c, 1, 0, r)) == 0) {
        uint32_t base_fam = (r[0] >> 8) & 0xf, ext_fam = (r[0] >> 20) & 0xff;
        uint32_t base_mod = (r[0] >> 4) & 0xf, ext_mod = (r[0] >> 16) & 0xf;
        c->family = base_fam == 0xf ? base_fam + ext_fam : base_fam;
        c->model = (base_fam == 0xf || base_fam == 0x6) ? (ext_mod << 4 | base_mod) : base_mod;
        c->stepping = r[0] & 0xf;
        c->hypervisor = r[2] >> 31 & 1;
    }
    for (uint32_t l = 0; l < 3; l++) {
        if ((c->brand_err = cpuid(c, 0x80000002u + l, 0, r)) != 0) {
            c->brand_leaf = 0x80000002u + l;
            c->brand[0] = '\0';
            break;
        }
        memcpy(c->brand + 16 * l, r, 16);
    }
    /* Kept as the processor gives it, to its first NUL: set() escapes every message (control
     * bytes and invalid UTF-8 as \xNN), as it does the vendor string and the kernel release. */
    c->brand[48] = '\0';
}

/* ---- kernel ---- */

static bool parse_release(const char *rel, unsigned *maj, unsigned *min)
{
    char *end;
    errno = 0;
    unsigned long a = strtoul(rel, &end, 10);
    if (errno != 0 || end == rel || *end != '.' || a > 1000) {
        return false;
    }
    const char *q = end + 1;
    unsigned long b = strtoul(q, &end, 10);
    if (errno != 0 || end == q || b > 1000) {
        return false;
    }
    *maj = (unsigned)a;
    *min = (unsigned)b;
    return true;
}

/* Whether a module parameter reads Y or 1 (anything else, or unreadable: false). */
static bool param_on(const struct ctx *c, const char *mod, const char *param)
{
    char abs[128], val[32];
    size_t n = 0;
    snprintf(abs, sizeof abs, "/sys/module/%s/parameters/%s", mod, param);
    return read_text_n(c, abs, val, sizeof val, &n) == 0 && n == strlen(val) &&
           (strcmp(val, "Y") == 0 || strcmp(val, "1") == 0);
}

/* backport: the module parameter ("kvm_intel.tdx") whose Y shows a kernel older than the
 * minimum carries the host support as a distribution backport (then the version is only a
 * note), or NULL. */
static void check_kernel_version(struct ctx *c, int parent, const char *id, unsigned want_maj,
                                 unsigned want_min, const char *why, const char *backport,
                                 bool backport_on)
{
    char rel[128], text[4 * sizeof rel], hint[256];
    size_t n = 0;
    int i = add(c, parent, id, "Kernel version", "kernel", why);
    int err = read_text_n(c, "/proc/sys/kernel/osrelease", rel, sizeof rel, &n);
    const char *t = shown(rel, n, text, sizeof text);
    unsigned maj, min;
    if (err != 0) {
        set(c, i, CVMA_HOST_UNKNOWN, "mount /proc (or give --root a tree with proc/)",
            "/proc/sys/kernel/osrelease: %s", strerror(err));
    } else if (!parse_release(rel, &maj, &min)) {
        set(c, i, CVMA_HOST_UNKNOWN, "report this kernel release string", "release '%s'", t);
    } else if (maj > want_maj || (maj == want_maj && min >= want_min)) {
        set(c, i, CVMA_HOST_PASS, NULL, "%s (>= %u.%u)", t, want_maj, want_min);
    } else if (backport != NULL && backport_on) {
        set(c, i, CVMA_HOST_PASS, NULL,
            "%s (< %u.%u, but %s=Y: a distribution kernel with the host support backported)", t,
            want_maj, want_min, backport);
    } else {
        snprintf(hint, sizeof hint,
                 "install a kernel >= %u.%u (or a distribution kernel with the %s backports)",
                 want_maj, want_min, strncmp(id, "snp", 3) == 0 ? "SEV-SNP host" : "TDX host");
        set(c, i, CVMA_HOST_FAIL, hint, "%s (< %u.%u)", t, want_maj, want_min);
    }
}

/* Finds "CONFIG_<opt>=y|m" in the running kernel's config (boot/config-RELEASE). */
static void check_kernel_config(struct ctx *c, int parent, const char *tee, const char *const *opts,
                                const char *const *why)
{
    char rel[128], text[4 * sizeof rel], id[48];
    size_t n = 0;
    int g = add(c, parent, tee[0] == 's' ? "snp.kernel.config" : "tdx.kernel.config",
                "Kernel options", "kernel", "read from /boot/config-RELEASE");
    struct cvma_buf cfg = {0};
    int err = read_text_n(c, "/proc/sys/kernel/osrelease", rel, sizeof rel, &n);
    /* the release names a file only as one path component: no '/', not "." or ".." (and no NUL
     * byte, which would end the name early) */
    bool rel_ok = err == 0 && rel[0] != '\0' && n == strlen(rel) && strchr(rel, '/') == NULL &&
                  strcmp(rel, ".") != 0 && strcmp(rel, "..") != 0;
    if (rel_ok) {
        char abs[200];
        snprintf(abs, sizeof abs, "/boot/config-%s", rel);
        err = read_file(c, abs, 16u << 20, &cfg);
    }
    for (size_t k = 0; opts[k] != NULL; k++) {
        snprintf(id, sizeof id, "%s.kernel.config.%s", tee, opts[k]);
        char name[96];
        snprintf(name, sizeof name, "CONFIG_%s", opts[k]);
        int i = add(c, g, id, name, "kernel", why[k]);
        if (err == 0 && !rel_ok) {
            set(c, i, CVMA_HOST_UNKNOWN,
                "/proc/sys/kernel/osrelease does not hold a release that names a file in /boot",
                "kernel release '%s' is not a file name: config not read",
                shown(rel, n, text, sizeof text));
            continue;
        }
        if (err == ENOENT || err == ENOTDIR) {
            set(c, i, CVMA_HOST_UNKNOWN,
                "the kernel config is not at /boot/config-$(uname -r); zcat /proc/config.gz there",
                "kernel config not found");
            continue;
        }
        if (err != 0) {
            /* there, but not read: say why (as the kvm module parameters do), never "not
             * found" */
            set(c, i, CVMA_HOST_UNKNOWN,
                "make /boot/config-$(uname -r) a regular file of at most 16 MiB readable to this "
                "user (or run as root); zcat /proc/config.gz there",
                "/boot/config-%s not readable: %s", rel, unread_why(err, "larger than 16 MiB"));
            continue;
        }
        char want[96];
        int wl = snprintf(want, sizeof want, "\nCONFIG_%s=", opts[k]);
        char val = 0;
        /* the config is text the kernel build wrote: "CONFIG_X=v" at a line start */
        size_t at = SIZE_MAX;
        if (wl > 0 && cfg.len >= (size_t)wl && memcmp(cfg.p, want + 1, (size_t)wl - 1) == 0) {
            at = (size_t)wl - 1;
        } else if (wl > 0) {
            at = find_bytes(cfg.p, cfg.len, (const uint8_t *)want, (size_t)wl);
            at = at == SIZE_MAX ? at : at + (size_t)wl;
        }
        if (at != SIZE_MAX && at < cfg.len) {
            val = (char)cfg.p[at];
        }
        if (val == 'y' || val == 'm') {
            set(c, i, CVMA_HOST_PASS, NULL, "CONFIG_%s=%c", opts[k], val);
        } else {
            char hint[200];
            snprintf(hint, sizeof hint, "build or install a kernel with CONFIG_%s=y (or =m)",
                     opts[k]);
            set(c, i, CVMA_HOST_FAIL, hint, "CONFIG_%s is not set", opts[k]);
        }
    }
    cvma_buf_free(&cfg);
}

/* A kvm module parameter that must be Y/1. */
static void check_kvm_param(struct ctx *c, int parent, const char *id, const char *mod,
                            const char *param, const char *hint)
{
    char abs[128], val[32], text[4 * sizeof val], name[96], mdir[64];
    size_t n = 0;
    struct stat st;
    snprintf(abs, sizeof abs, "/sys/module/%s/parameters/%s", mod, param);
    snprintf(name, sizeof name, "%s.%s", mod, param);
    snprintf(mdir, sizeof mdir, "/sys/module/%s", mod);
    int i = add(c, parent, id, name, "kernel", "KVM module parameter, from /sys/module");
    int err = read_text_n(c, abs, val, sizeof val, &n);
    const char *t = shown(val, n, text, sizeof text);
    int merr = err == ENOENT ? stat_under(c, mdir, &st) : 0;
    if (err == 0 && n == strlen(val) && (strcmp(val, "Y") == 0 || strcmp(val, "1") == 0)) {
        set(c, i, CVMA_HOST_PASS, NULL, "%s=%s", name, t);
    } else if (err == 0) {
        set(c, i, CVMA_HOST_FAIL, hint, "%s=%s", name, t);
    } else if (err == ENOENT && merr == ENOENT) {
        char h[300];
        snprintf(h, sizeof h, "load the module: modprobe %s (%s)", mod, hint);
        set(c, i, CVMA_HOST_FAIL, h, "module %s not loaded", mod);
    } else if (err == ENOENT && merr == 0) {
        set(c, i, CVMA_HOST_FAIL, hint, "%s: parameter absent (this kernel's %s lacks it)", name,
            mod);
    } else {
        /* a parameter (or the module's directory) that is there but cannot be read */
        set(c, i, CVMA_HOST_UNKNOWN, "check that /sys is mounted and readable here",
            "%s not readable: %s", err != ENOENT ? abs : mdir,
            strerror(err != ENOENT ? err : merr));
    }
}

/* ---- files: QEMU and OVMF ---- */

#define VMM_FILE_MAX (512u << 20)

/* A test of a file's bytes: true when they serve the check (note then says what was found),
 * false with why in note. */
typedef bool (*file_test_fn)(const uint8_t *p, size_t len, const void *arg, char *note,
                             size_t note_len);

/* The first of paths whose bytes pass test: *capable, and note holds the test's note. Otherwise
 * *unread: the first that is there but could not be read (EISDIR, EFBIG above VMM_FILE_MAX,
 * EACCES...: *unread_err), which decides nothing; *present: the first that is there at all; and
 * note names each file read that failed the test with the test's reason ("PATH: WHY; ..."),
 * cut short where it does not fit. */
static void find_in_files(const struct ctx *c, const char *const *paths, file_test_fn test,
                          const void *arg, const char **capable, const char **present,
                          const char **unread, int *unread_err, char *note, size_t note_len)
{
    size_t used = 0;

    *capable = *present = *unread = NULL;
    *unread_err = 0;
    note[0] = '\0';
    for (size_t k = 0; paths[k] != NULL; k++) {
        struct stat st;
        int err = stat_under(c, paths[k], &st);
        if (err == ENOENT || err == ENOTDIR) {
            continue; /* not there */
        }
        *present = *present != NULL ? *present : paths[k];
        struct cvma_buf b = {0};
        if (err == 0) {
            err = read_file(c, paths[k], VMM_FILE_MAX, &b);
        }
        if (err != 0) {
            if (*unread == NULL) {
                *unread = paths[k];
                *unread_err = err;
            }
            cvma_buf_free(&b);
            continue;
        }
        char why[256] = "";
        bool has = test(b.p, b.len, arg, why, sizeof why);
        cvma_buf_free(&b);
        if (has) {
            *capable = paths[k];
            snprintf(note, note_len, "%s", why);
            return;
        }
        if (used < note_len) {
            int w = snprintf(note + used, note_len - used, "%s%s: %s", used > 0 ? "; " : "",
                             paths[k], why);
            used = w < 0 ? note_len : used + (size_t)w;
        }
    }
}

/* QEMU: the binary holds the QOM type name arg. */
static bool has_qom_type(const uint8_t *p, size_t len, const void *arg, char *note, size_t note_len)
{
    const char *qom = arg;
    bool has = find_bytes(p, len, (const uint8_t *)qom, strlen(qom)) != SIZE_MAX;
    snprintf(note, note_len, "%s the '%s' object", has ? "has" : "lacks", qom);
    return has;
}

/* OVMF for SEV-SNP: SEV metadata that the footer table names and that lies within the image,
 * read by the parser `cvmattest measure snp` uses (the GUID alone says nothing of it). */
static bool ovmf_has_sev(const uint8_t *p, size_t len, const void *arg, char *note, size_t note_len)
{
    struct cvma_ovmf_info info;
    (void)arg;
    if (!cvma_ovmf_parse(p, len, &info, note, note_len)) {
        return false;
    }
    if (!info.has_table) {
        snprintf(note, note_len, "no OVMF footer table (not an OVMF image built for SEV)");
        return false;
    }
    if (!info.has_sev_metadata) {
        snprintf(note, note_len, "its OVMF footer table names no SEV metadata");
        return false;
    }
    snprintf(note, note_len, "SEV metadata with %zu section%s", info.n_sev,
             info.n_sev == 1 ? "" : "s");
    return true;
}

/* OVMF (TDVF) for TDX: TDX metadata whose sections lie within the image, read by the parser
 * `cvmattest measure tdx` uses. Debian's code-only OVMF_CODE.fd names TDX metadata whose
 * offsets are those of the unified image: refused, with the parser's word for it. */
static bool ovmf_has_tdx(const uint8_t *p, size_t len, const void *arg, char *note, size_t note_len)
{
    struct cvma_tdvf_section secs[CVMA_MEASURE_MAX_SECTIONS];
    size_t n = 0;
    (void)arg;
    if (!cvma_tdvf_parse(p, len, secs, CVMA_ARRAY_LEN(secs), &n, note, note_len)) {
        return false;
    }
    snprintf(note, note_len, "TDX metadata with %zu TDVF section%s", n, n == 1 ? "" : "s");
    return true;
}

/* A QEMU or OVMF file that is there but could not be read: unknown, it may carry the TEE. */
static void vmm_unreadable(struct ctx *c, int i, const char *path, int err)
{
    set(c, i, CVMA_HOST_UNKNOWN,
        "make the file readable to this user (a regular file of at most 512 MiB), or run as "
        "root",
        "%s could not be read: %s", path, err == EFBIG ? "larger than 512 MiB" : strerror(err));
}

static const char *const QEMU_PATHS[] = {"/usr/bin/qemu-system-x86_64",
                                         "/usr/local/bin/qemu-system-x86_64",
                                         "/usr/libexec/qemu-kvm", NULL};
/* OVMF images: Debian/Ubuntu (ovmf), Fedora/RHEL (edk2-ovmf), and the AMDSEV/TDX build names */
static const char *const OVMF_PATHS[] = {"/usr/share/ovmf/OVMF.fd",
                                         "/usr/share/ovmf/OVMF.amdsev.fd",
                                         "/usr/share/ovmf/OVMF.inteltdx.fd",
                                         "/usr/share/OVMF/OVMF_CODE.fd",
                                         "/usr/share/OVMF/OVMF_CODE_4M.fd",
                                         "/usr/share/OVMF/OVMF.fd",
                                         "/usr/share/edk2/ovmf/OVMF.amdsev.fd",
                                         "/usr/share/edk2/ovmf/OVMF.inteltdx.fd",
                                         "/usr/share/edk2/ovmf/OVMF_CODE.fd",
                                         "/usr/share/qemu/OVMF.fd",
                                         NULL};

static void check_vmm(struct ctx *c, int parent, const char *tee, const char *qom,
                      file_test_fn ovmf_test, const char *qemu_hint, const char *ovmf_hint)
{
    char id[48], note[sizeof c->r->checks[0].message];
    snprintf(id, sizeof id, "%s.vmm", tee);
    int g = add(c, parent, id, "QEMU and OVMF", "vmm", "the VMM and the guest firmware");

    snprintf(id, sizeof id, "%s.vmm.qemu", tee);
    int i = add(c, g, id, "QEMU supports the TEE", "vmm",
                "qemu-system-x86_64 present and carrying the TEE's guest object type");
    const char *found = NULL, *capable = NULL, *unread = NULL;
    int uerr = 0;
    find_in_files(c, QEMU_PATHS, has_qom_type, qom, &capable, &found, &unread, &uerr, note,
                  sizeof note);
    if (capable != NULL) {
        set(c, i, CVMA_HOST_PASS, NULL, "%s has the '%s' object", capable, qom);
    } else if (unread != NULL) {
        vmm_unreadable(c, i, unread, uerr);
    } else if (found != NULL) {
        set(c, i, CVMA_HOST_FAIL, qemu_hint, "%s lacks the '%s' object (too old)", found, qom);
    } else {
        set(c, i, CVMA_HOST_FAIL, qemu_hint, "qemu-system-x86_64 not found");
    }

    snprintf(id, sizeof id, "%s.vmm.ovmf", tee);
    i = add(c, g, id, "OVMF supports the TEE", "vmm",
            "an OVMF image whose GUIDed footer table names the TEE's metadata, valid for that "
            "image (what cvmattest measure reads)");
    find_in_files(c, OVMF_PATHS, ovmf_test, NULL, &capable, &found, &unread, &uerr, note,
                  sizeof note);
    if (capable != NULL) {
        set(c, i, CVMA_HOST_PASS, NULL, "%s carries %s", capable, note);
    } else if (unread != NULL) {
        vmm_unreadable(c, i, unread, uerr);
    } else if (found != NULL) {
        set(c, i, CVMA_HOST_FAIL, ovmf_hint, "no usable image: %s", note);
    } else {
        set(c, i, CVMA_HOST_FAIL, ovmf_hint, "no OVMF image found");
    }
}

/* ---- SEV-SNP ---- */

/* SNP ABI TCB_VERSION, as the verifier reads it (Turin's layout has an FMC byte). */
static struct cvma_snp_tcb tcb_split(uint64_t v, bool turin)
{
    struct cvma_snp_tcb t;
    cvma_snp_tcb_split(v, turin ? CVMA_SNP_PRODUCT_TURIN : CVMA_SNP_PRODUCT_MILAN, &t);
    return t;
}

static int fmt_tcb(char *out, size_t n, uint64_t v, bool turin)
{
    struct cvma_snp_tcb t = tcb_split(v, turin);
    if (turin) {
        return snprintf(out, n,
                        "0x%016" PRIx64 " (fmc %u, bootloader %u, tee %u, snp %u, microcode %u)", v,
                        t.fmc, t.bootloader, t.tee, t.snp, t.microcode);
    }
    return snprintf(out, n, "0x%016" PRIx64 " (bootloader %u, tee %u, snp %u, microcode %u)", v,
                    t.bootloader, t.tee, t.snp, t.microcode);
}

/* Issues a /dev/sev PLATFORM_STATUS (cmd) or reads its stand-in file. 0 when out holds the
 * answer. Otherwise an errno value: about /dev/sev itself (ENOENT: no device; EIO: the firmware
 * refused the command, fw_err its error code), or, with *standin set, about the stand-in file of
 * a tree whose dev/sev exists (missing, unreadable, or ENODATA: shorter than the structure),
 * which says nothing about the host. */
static int sev_status(const struct ctx *c, uint32_t cmd, uint8_t *out, size_t len, uint32_t *fw_err,
                      bool *standin)
{
    *fw_err = 0;
    *standin = false;
    memset(out, 0, len);
    if (!c->live) {
        const char *abs = cmd == SEV_CMD_PLATFORM_STATUS ? "/cvmattest-ioctl/sev_platform_status"
                                                         : "/cvmattest-ioctl/snp_platform_status";
        struct stat st;
        int err = stat_under(c, "/dev/sev", &st);
        if (err != 0) {
            return err;
        }
        *standin = true;
        int fd = open_under(c, abs, O_RDONLY);
        if (fd < 0) {
            return errno;
        }
        ssize_t got = pread(fd, out, len, 0);
        err = got < 0 ? errno : (size_t)got < len ? ENODATA : 0;
        close(fd);
        return err;
    }
    int fd = open("/dev/sev", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    /* struct sev_issue_cmd { __u32 cmd; __u64 data; __u32 error; } __packed */
    uint8_t arg[16] = {0};
    uint64_t addr = (uint64_t)(uintptr_t)out;
    memcpy(arg, &cmd, 4);
    memcpy(arg + 4, &addr, 8);
    unsigned long req = (3ul << 30) | (16ul << 16) | ((unsigned long)'S' << 8);
    int rc = ioctl(fd, req, arg);
    int err = rc < 0 ? errno : 0;
    memcpy(fw_err, arg + 12, 4);
    close(fd);
    return err;
}

/* A stand-in for an ioctl's answer that cannot be read: unknown, never a failure of the host. */
static void standin_unknown(struct ctx *c, int i, const char *file, size_t len, int err)
{
    char hint[200];
    snprintf(hint, sizeof hint,
             "the tree's cvmattest-ioctl/%s must hold the ioctl's %zu-byte answer "
             "(docs/host-check.md: Prepared trees)",
             file, len);
    if (err == ENODATA) {
        set(c, i, CVMA_HOST_UNKNOWN, hint, "cvmattest-ioctl/%s: shorter than %zu bytes", file, len);
    } else {
        set(c, i, CVMA_HOST_UNKNOWN, hint, "cvmattest-ioctl/%s: %s", file, strerror(err));
    }
}

static void dev_sev_unknown(struct ctx *c, int i, int err, uint32_t fw_err)
{
    if (err == EACCES || err == EPERM) {
        set(c, i, CVMA_HOST_UNKNOWN, "run as root (sudo cvmattest host-check) to query /dev/sev",
            "/dev/sev: %s", strerror(err));
    } else if (err == ENOENT || err == ENODEV || err == ENXIO) {
        set(c, i, CVMA_HOST_FAIL,
            "/dev/sev appears when the ccp driver finds the AMD Secure Processor with SEV enabled: "
            "enable SEV in the BIOS, CONFIG_CRYPTO_DEV_SP_PSP, modprobe ccp; dmesg "
            "shows " KMSG_SNPINI " when SNP INIT failed",
            "/dev/sev not present");
    } else {
        set(c, i, CVMA_HOST_UNKNOWN, "check dmesg for ccp/SEV messages",
            "/dev/sev status: %s (firmware error 0x%" PRIx32 ")", strerror(err), fw_err);
    }
}

/* AMD-SB-3019 (CVE-2024-56161, microcode signature verification) minimum microcode patch
 * levels, for the parts we have figures for (docs/host-check.md says where they come from). */
static const struct {
    uint32_t family, model, stepping, min_patch;
    const char *part;
} SB3019[] = {
        {0x19, 0x01, 1, 0x0a0011dbu, "EPYC 7003 (Milan)"},
        {0x19, 0x11, 1, 0x0a101154u, "EPYC 9004 (Genoa)"},
};

static void check_microcode(struct ctx *c, int parent)
{
    int i = add(c, parent, "snp.firmware.microcode", "Microcode vs AMD-SB-3019", "firmware",
                "running microcode patch level (/proc/cpuinfo) against AMD-SB-3019's minimum");
    if (leaf1_unknown(c, i)) {
        return; /* the part (family, model, stepping) and the hypervisor bit are not known */
    }
    char buf[4096];
    int err = read_text(c, "/proc/cpuinfo", buf, sizeof buf);
    const char *m = err == 0 ? strstr(buf, "\nmicrocode") : NULL;
    if (m == NULL && err == 0 && strncmp(buf, "microcode", 9) == 0) {
        m = buf;
    }
    const char *colon = m != NULL ? strchr(m, ':') : NULL;
    uint32_t patch = 0;
    if (colon != NULL) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(colon + 1, &end, 16);
        if (errno == 0 && end != colon + 1 && v <= 0xffffffffu) {
            patch = (uint32_t)v;
        } else {
            colon = NULL;
        }
    }
    if (colon != NULL && c->hypervisor) {
        set(c, i, CVMA_HOST_UNKNOWN, "run on the bare-metal host: a hypervisor shows its own value",
            "microcode 0x%08" PRIx32 " as a hypervisor reports it", patch);
        return;
    }
    if (colon == NULL && err != 0 && err != ENOENT) {
        set(c, i, CVMA_HOST_UNKNOWN, "mount /proc; the microcode line of /proc/cpuinfo is read",
            "/proc/cpuinfo not readable: %s", unread_why(err, "larger than 4 KiB"));
        return;
    }
    if (colon == NULL) {
        set(c, i, CVMA_HOST_UNKNOWN, "mount /proc; the microcode line of /proc/cpuinfo is read",
            "microcode level not found in /proc/cpuinfo");
        return;
    }
    for (size_t k = 0; k < sizeof SB3019 / sizeof SB3019[0]; k++) {
        if (SB3019[k].family == c->family && SB3019[k].model == c->model &&
            SB3019[k].stepping == c->stepping) {
            if (patch >= SB3019[k].min_patch) {
                set(c, i, CVMA_HOST_PASS, NULL,
                    "microcode 0x%08" PRIx32 " >= 0x%08" PRIx32 " (AMD-SB-3019, %s)", patch,
                    SB3019[k].min_patch, SB3019[k].part);
            } else {
                set(c, i, CVMA_HOST_FAIL,
                    "update the BIOS (AGESA/PI with the AMD-SB-3019 fix); the microcode package "
                    "alone cannot carry the signature fix",
                    "microcode 0x%08" PRIx32 " < 0x%08" PRIx32 " (AMD-SB-3019, %s)", patch,
                    SB3019[k].min_patch, SB3019[k].part);
            }
            return;
        }
    }
    set(c, i, CVMA_HOST_UNKNOWN,
        "compare with the table of AMD-SB-3019 for this part (no figure recorded here)",
        "microcode 0x%08" PRIx32 " on family 0x%" PRIx32 " model 0x%" PRIx32 " stepping %" PRIu32,
        patch, c->family, c->model, c->stepping);
}

/* The EPYC server parts with SEV-SNP, by CPUID family and model range: AMD scopes its SEV
 * firmware images the same way (amd_sev_fam19h_model0xh, _model1xh, _modelaxh,
 * amd_sev_fam1ah_model0xh) and the VCEK's product name (KDS) follows it. Another model of these
 * families (client and workstation parts, AM5 EPYC 4004/4005) is not taken for one. */
static const struct {
    uint32_t family, model_lo, model_hi;
    const char *part;
} SNP_PARTS[] = {
        {0x19, 0x00, 0x0f, "Milan"},
        {0x19, 0x10, 0x1f, "Genoa"},
        {0x19, 0xa0, 0xaf, "Bergamo/Siena"},
        {0x1a, 0x00, 0x11, "Turin"},
};

static const char *snp_part(uint32_t family, uint32_t model)
{
    for (size_t k = 0; k < sizeof SNP_PARTS / sizeof SNP_PARTS[0]; k++) {
        if (SNP_PARTS[k].family == family && model >= SNP_PARTS[k].model_lo &&
            model <= SNP_PARTS[k].model_hi) {
            return SNP_PARTS[k].part;
        }
    }
    return NULL;
}

static void check_snp(struct ctx *c)
{
    uint32_t r[4];
    bool amd = strcmp(c->vendor, "AuthenticAMD") == 0;
    bool turin = c->family == 0x1a;
    int top = add(c, -1, "snp", "SEV-SNP host", "tee", "can this host launch SEV-SNP guests");

    /* CPU */
    int g = add(c, top, "snp.cpu", "CPU", "cpu_support", "vendor, generation and CPUID flags");
    int i = add(c, g, "snp.cpu.vendor", "AMD CPU", "cpu_support", "CPUID 0 vendor AuthenticAMD");
    if (c->cpuid_err != 0) {
        cpuid_unknown(c, i, 0, c->cpuid_err);
    } else {
        set(c, i, amd ? CVMA_HOST_PASS : CVMA_HOST_FAIL, "SEV-SNP needs an AMD EPYC processor",
            "%s", c->vendor_text);
    }
    i = add(c, g, "snp.cpu.generation", "EPYC Milan or newer", "cpu_support",
            "family 19h models 00h-0Fh (Milan), 10h-1Fh (Genoa), A0h-AFh (Bergamo, Siena) or "
            "1Ah models 00h-11h (Turin), brand EPYC");
    const char *part = snp_part(c->family, c->model);
    if (leaf1_unknown(c, i)) {
        /* family and model not known: said so */
    } else if (amd && c->family >= 0x19 && c->brand_err != 0) {
        cpuid_unknown(c, i, c->brand_leaf, c->brand_err); /* EPYC or not: the brand says */
    } else if (amd && part != NULL && strstr(c->brand, "EPYC") != NULL) {
        set(c, i, CVMA_HOST_PASS, NULL, "%s (%s: family 0x%" PRIx32 " model 0x%" PRIx32 ")",
            c->brand, part, c->family, c->model);
    } else if (amd && c->family >= 0x19 && strstr(c->brand, "EPYC") != NULL) {
        /* an EPYC of a family with SEV-SNP parts, but not a model known to have it (the AM5
         * EPYC 4004, family 19h model 61h, has none; a newer server model is not listed yet) */
        set(c, i, CVMA_HOST_UNKNOWN,
            "not a known SEV-SNP part (EPYC 7003, 8004, 9004, 9005); AM5 EPYC 4004/4005 have no "
            "SEV-SNP: check AMD's specification of this processor",
            "%s (family 0x%" PRIx32 " model 0x%" PRIx32 ")", c->brand, c->family, c->model);
    } else {
        set(c, i, CVMA_HOST_FAIL, "SEV-SNP needs an EPYC 7003 (Milan) or newer server processor",
            "%s (family 0x%" PRIx32 " model 0x%" PRIx32 ")",
            c->brand[0] ? c->brand : c->vendor_text, c->family, c->model);
    }
    check_bare_metal(c, g, "snp.cpu.bare_metal");
    int err = cpuid(c, 0x8000001fu, 0, r);
    static const struct {
        const char *id, *name;
        unsigned bit;
    } cpu_flags[] = {{"snp.cpu.sme", "SME (CPUID 0x8000001F EAX bit 0)", 0},
                     {"snp.cpu.sev", "SEV (CPUID 0x8000001F EAX bit 1)", 1},
                     {"snp.cpu.sev_es", "SEV-ES (CPUID 0x8000001F EAX bit 3)", 3},
                     {"snp.cpu.sev_snp", "SEV-SNP (CPUID 0x8000001F EAX bit 4)", 4}};
    for (size_t k = 0; k < 4; k++) {
        i = add(c, g, cpu_flags[k].id, cpu_flags[k].name, "cpu_support",
                "the processor implements it");
        if (c->cpuid_err != 0 || err != 0) {
            cpuid_unknown(c, i, 0x8000001fu, err);
        } else if (r[0] >> cpu_flags[k].bit & 1) {
            set(c, i, CVMA_HOST_PASS, NULL, "CPUID 0x8000001F EAX=0x%08" PRIx32, r[0]);
        } else {
            set(c, i, CVMA_HOST_FAIL,
                "the processor (or the hypervisor this runs under) does not offer it; on bare "
                "metal, enable SME/SEV/SEV-SNP in the BIOS",
                "CPUID 0x8000001F EAX=0x%08" PRIx32, r[0]);
        }
    }

    /* SNP_PLATFORM_STATUS, read once: the RMP check and the firmware checks use it */
    uint8_t snp[SNP_STATUS_LEN];
    uint32_t snp_fw_err = 0;
    bool snp_standin = false;
    int snp_err =
            sev_status(c, SNP_CMD_PLATFORM_STATUS, snp, sizeof snp, &snp_fw_err, &snp_standin);
    bool snp_rmp_init = false;
    if (snp_err == 0) {
        /* struct sev_user_data_snp_status: api_major, api_minor, state, is_rmp_initialized:1 */
        struct cvma_reader rd;
        uint8_t flags = 0;
        cvma_reader_init(&rd, snp, sizeof snp);
        snp_rmp_init = cvma_reader_skip(&rd, 3) && cvma_reader_u8(&rd, &flags) && (flags & 1);
    }

    /* BIOS: SYSCFG and the RMP */
    g = add(c, top, "snp.bios", "BIOS configuration", "bios_configured",
            "what firmware setup enables (MSRs, via the msr driver)");
    uint64_t syscfg = 0;
    int merr = rdmsr(c, MSR_AMD64_SYSCFG, &syscfg);
    i = add(c, g, "snp.bios.smee", "SMEE (SYSCFG bit 23)", "bios_configured",
            "MSR 0xC0010010 bit 23 MemEncryptionModeEn");
    if (merr != 0) {
        msr_unknown(c, i, MSR_AMD64_SYSCFG, merr);
    } else {
        set(c, i, syscfg >> 23 & 1 ? CVMA_HOST_PASS : CVMA_HOST_FAIL,
            "BIOS: enable SMEE (CBS > CPU Common Options > SMEE)", "SYSCFG=0x%016" PRIx64, syscfg);
    }
    i = add(c, g, "snp.bios.snp_en", "SNP enabled (SYSCFG bit 24)", "bios_configured",
            "MSR 0xC0010010 bit 24 SecureNestedPagingEn");
    if (merr != 0) {
        msr_unknown(c, i, MSR_AMD64_SYSCFG, merr);
    } else {
        set(c, i, syscfg >> 24 & 1 ? CVMA_HOST_PASS : CVMA_HOST_FAIL,
            "BIOS: enable SEV-SNP support (CBS > CPU Common Options > SEV-SNP Support) and SNP "
            "memory coverage; the kernel sets SNPEn when the RMP is reserved",
            "SYSCFG=0x%016" PRIx64, syscfg);
    }
    i = add(c, g, "snp.bios.rmp", "RMP table reserved", "bios_configured",
            "SNP_PLATFORM_STATUS RMP initialized, else MSRs 0xC0010132/0xC0010133 "
            "RMP_BASE/RMP_END non-zero (RMP_BASE alone for a segmented RMP: RMP_CFG "
            "0xC0010136 bit 0)");
    uint64_t rb = 0, re = 0, rcfg = 0;
    uint32_t which = MSR_AMD64_RMP_BASE;
    /* RMP_CFG exists from Turin on; where it cannot be read the RMP is contiguous. */
    bool segmented = rdmsr(c, MSR_AMD64_RMP_CFG, &rcfg) == 0 && (rcfg & 1) != 0;
    if ((merr = rdmsr(c, MSR_AMD64_RMP_BASE, &rb)) == 0 && !segmented) {
        which = MSR_AMD64_RMP_END;
        merr = rdmsr(c, MSR_AMD64_RMP_END, &re);
    }
    if (snp_rmp_init) {
        /* the firmware's own word: SNP_INIT found the RMP and initialized it */
        if (merr != 0) {
            set(c, i, CVMA_HOST_PASS, NULL, "RMP initialized (SNP_PLATFORM_STATUS)");
        } else if (segmented) {
            set(c, i, CVMA_HOST_PASS, NULL,
                "RMP initialized (SNP_PLATFORM_STATUS); segmented, RMP_BASE=0x%" PRIx64, rb);
        } else {
            set(c, i, CVMA_HOST_PASS, NULL,
                "RMP initialized (SNP_PLATFORM_STATUS); RMP 0x%" PRIx64 " - 0x%" PRIx64, rb, re);
        }
    } else if (merr != 0) {
        msr_unknown(c, i, which, merr);
    } else if (segmented) {
        /* Segmented RMP (AMD APM vol. 2, RMP_CFG): RMP_BASE locates the RMP bookkeeping and
         * segment table; RMP_END is not used and reads zero. */
        if (rb == 0) {
            set(c, i, CVMA_HOST_FAIL,
                "BIOS: enable SNP memory coverage / RMP table; dmesg says " KMSG_RMP,
                "segmented RMP (RMP_CFG=0x%" PRIx64 "), RMP_BASE=0", rcfg);
        } else {
            set(c, i, CVMA_HOST_PASS, NULL,
                "segmented RMP (RMP_CFG=0x%" PRIx64 "), RMP_BASE=0x%" PRIx64 " (RMP_END unused)",
                rcfg, rb);
        }
    } else if (rb == 0 || re == 0 || rb > re) {
        set(c, i, CVMA_HOST_FAIL,
            "BIOS: enable SNP memory coverage / RMP table; dmesg says " KMSG_RMP,
            "RMP_BASE=0x%" PRIx64 " RMP_END=0x%" PRIx64, rb, re);
    } else {
        set(c, i, CVMA_HOST_PASS, NULL, "RMP 0x%" PRIx64 " - 0x%" PRIx64, rb, re);
    }

    /* Kernel */
    g = add(c, top, "snp.kernel", "Kernel", "kernel", "version, options, kvm_amd parameters");
    check_kernel_version(c, g, "snp.kernel.version", SNP_MIN_KERNEL_MAJOR, SNP_MIN_KERNEL_MINOR,
                         "SEV-SNP host support (KVM) is upstream since Linux 6.11", NULL, false);
    /* Host requirements only: the SEV guest driver (SEV_GUEST) belongs to guest kernels. */
    static const char *const snp_opts[] = {
            "KVM", "KVM_AMD", "KVM_AMD_SEV", "AMD_MEM_ENCRYPT", "CRYPTO_DEV_CCP", NULL};
    static const char *const snp_why[] = {"KVM", "KVM for AMD-V", "SEV support in kvm_amd",
                                          "memory encryption (SME/SEV)",
                                          "the AMD Secure Processor driver (/dev/sev)"};
    check_kernel_config(c, g, "snp", snp_opts, snp_why);
    check_kvm_param(c, g, "snp.kernel.kvm_amd.sev", "kvm_amd", "sev",
                    "modprobe kvm_amd sev=1 (BIOS: SEV enabled, SEV ASIDs > 0)");
    check_kvm_param(c, g, "snp.kernel.kvm_amd.sev_es", "kvm_amd", "sev_es",
                    "modprobe kvm_amd sev_es=1 (BIOS: SEV-ES ASIDs > 0)");
    check_kvm_param(c, g, "snp.kernel.kvm_amd.sev_snp", "kvm_amd", "sev_snp",
                    "modprobe kvm_amd sev_snp=1; kvm_amd turns it off when SNP INIT failed: dmesg "
                    "shows " KMSG_SNPINI " or " KMSG_RMP);

    /* Firmware: /dev/sev platform status */
    g = add(c, top, "snp.firmware", "SEV firmware", "firmware",
            "the AMD Secure Processor, through /dev/sev");
    uint8_t sev[SEV_STATUS_LEN];
    uint32_t fw_err = 0;
    i = add(c, g, "snp.firmware.dev_sev", "/dev/sev present", "firmware",
            "the ccp driver found the Secure Processor");
    bool standin = false;
    err = sev_status(c, SEV_CMD_PLATFORM_STATUS, sev, sizeof sev, &fw_err, &standin);
    int ver = add(c, g, "snp.firmware.version", "SEV firmware >= 1.51", "firmware",
                  "SEV PLATFORM_STATUS API version (SEV-SNP needs 1.51)");
    if (err != 0 && !standin && err != EIO) {
        dev_sev_unknown(c, i, err, fw_err);
        dev_sev_unknown(c, ver, err, fw_err);
    } else {
        set(c, i, CVMA_HOST_PASS, NULL, "/dev/sev");
        struct cvma_reader rd;
        uint8_t maj = 0, min = 0, state = 0;
        cvma_reader_init(&rd, sev, sizeof sev);
        if (err != 0 && standin) {
            standin_unknown(c, ver, "sev_platform_status", sizeof sev, err);
        } else if (err != 0 || !cvma_reader_u8(&rd, &maj) || !cvma_reader_u8(&rd, &min) ||
                   !cvma_reader_u8(&rd, &state)) {
            set(c, ver, CVMA_HOST_UNKNOWN, "check dmesg for ccp/SEV messages",
                "SEV PLATFORM_STATUS returned no data");
        } else if (maj > SNP_MIN_FW_MAJOR || (maj == SNP_MIN_FW_MAJOR && min >= SNP_MIN_FW_MINOR)) {
            set(c, ver, CVMA_HOST_PASS, NULL, "SEV firmware %u.%u", maj, min);
        } else {
            set(c, ver, CVMA_HOST_FAIL,
                "update the SEV firmware (BIOS update, or amd_sev_fam19h_model0xh.sbin from "
                "linux-firmware loaded by the ccp driver); dmesg says " KMSG_SNPFW,
                "SEV firmware %u.%u (< 1.51)", maj, min);
        }
    }
    int ini = add(c, g, "snp.firmware.snp_init", "SNP initialized", "firmware",
                  "SNP_PLATFORM_STATUS state INIT and the RMP initialized");
    int tcb = add(c, g, "snp.firmware.tcb", "TCB versions", "firmware",
                  "reported TCB not above the current TCB in any component "
                  "(SNP_PLATFORM_STATUS)");
    err = snp_err;
    fw_err = snp_fw_err;
    standin = snp_standin;
    if (err != 0 && standin) {
        standin_unknown(c, ini, "snp_platform_status", sizeof snp, err);
        standin_unknown(c, tcb, "snp_platform_status", sizeof snp, err);
    } else if (err != 0 && err != EIO) {
        dev_sev_unknown(c, ini, err, fw_err);
        dev_sev_unknown(c, tcb, err, fw_err);
    } else {
        /* struct sev_user_data_snp_status (uapi linux/psp-sev.h), SNP ABI PLATFORM_STATUS */
        struct cvma_reader rd;
        uint8_t maj = 0, min = 0, state = 0, flags = 0;
        uint32_t build = 0, feat = 0, guests = 0;
        uint64_t cur = 0, rep = 0;
        cvma_reader_init(&rd, snp, sizeof snp);
        if (err != 0 || !cvma_reader_u8(&rd, &maj) || !cvma_reader_u8(&rd, &min) ||
            !cvma_reader_u8(&rd, &state) || !cvma_reader_u8(&rd, &flags) ||
            !cvma_reader_u32le(&rd, &build) || !cvma_reader_u32le(&rd, &feat) ||
            !cvma_reader_u32le(&rd, &guests) || !cvma_reader_u64le(&rd, &cur) ||
            !cvma_reader_u64le(&rd, &rep)) {
            /* the firmware answered the command with an error (the ioctl's EIO) */
            set(c, ini, CVMA_HOST_FAIL,
                "SNP_PLATFORM_STATUS failed: the firmware has no SNP; see the firmware version",
                "SNP_PLATFORM_STATUS refused by the firmware (error 0x%" PRIx32 ")", fw_err);
            set(c, tcb, CVMA_HOST_UNKNOWN, "SNP_PLATFORM_STATUS is needed", "not available");
        } else {
            if (state == 1 && (flags & 1)) {
                set(c, ini, CVMA_HOST_PASS, NULL,
                    "SNP API %u.%u build %" PRIu32 ", state INIT, RMP initialized, %" PRIu32
                    " guests",
                    maj, min, build, guests);
            } else {
                set(c, ini, CVMA_HOST_FAIL,
                    "SNP is initialized by the ccp driver when kvm_amd loads with sev_snp=1; "
                    "dmesg shows " KMSG_SNPINI " or " KMSG_RMP " when it fails, " KMSG_SNPOK,
                    "SNP state %u, RMP %sinitialized", state, (flags & 1) ? "" : "not ");
            }
            char a[128], b[128];
            fmt_tcb(a, sizeof a, cur, turin);
            fmt_tcb(b, sizeof b, rep, turin);
            struct cvma_snp_tcb tc = tcb_split(cur, turin), tr = tcb_split(rep, turin);
            bool above = tr.fmc > tc.fmc || tr.bootloader > tc.bootloader || tr.tee > tc.tee ||
                         tr.snp > tc.snp || tr.microcode > tc.microcode;
            bool below = tr.fmc < tc.fmc || tr.bootloader < tc.bootloader || tr.tee < tc.tee ||
                         tr.snp < tc.snp || tr.microcode < tc.microcode;
            if (above) {
                set(c, tcb, CVMA_HOST_FAIL,
                    "the firmware reports a TCB above the one it runs (SNP_SET_CONFIG accepts "
                    "no such value): reset REPORTED_TCB (snphost config reset) or update the "
                    "firmware, and report it to the BIOS vendor",
                    "reported %s is above current %s in a component", b, a);
            } else if (below) {
                /* A REPORTED_TCB set lower with SNP_SET_CONFIG is a host's legitimate choice
                 * (e.g. to keep guests on VCEKs of a TCB a fleet shares). */
                set(c, tcb, CVMA_HOST_PASS, NULL,
                    "note: reported %s below current %s (set with SNP_SET_CONFIG, or firmware "
                    "not committed): guests' reports and VCEKs carry the reported TCB; "
                    "committed: read COMMITTED_TCB of a guest's report (cvmattest show)",
                    b, a);
            } else {
                set(c, tcb, CVMA_HOST_PASS, NULL,
                    "current %s; reported the same; committed: not in SNP_PLATFORM_STATUS, "
                    "read COMMITTED_TCB of a guest's report (cvmattest show)",
                    a);
            }
        }
    }
    check_microcode(c, g);

    check_vmm(c, top, "snp", "sev-snp-guest", ovmf_has_sev,
              "install QEMU >= 9.1 (upstream SEV-SNP guests, object sev-snp-guest)",
              "install an OVMF built with SEV support (AmdSevX64, e.g. OVMF.amdsev.fd; the "
              "ovmf package's OVMF.fd where it carries the SEV metadata)");
}

/* ---- TDX ---- */

static void check_pccs(struct ctx *c, int parent)
{
    int i = add(c, parent, "tdx.attestation.pccs", "PCCS reachable", "attestation",
                "the caching service the quote provider fetches collateral from");
    if (strcmp(c->pccs_url, "none") == 0) {
        set(c, i, CVMA_HOST_UNKNOWN, "give --pccs-url URL to check it",
            c->live ? "not checked" : "not checked: --root reads nothing outside the tree");
        return;
    }
    char err[768];
    /* The base URL passed cvma_http_base_url_ok (cvma_host_check_run): no user information,
     * query or fragment, so the path joins it as the collateral fetcher joins it (a trailing
     * '/' of the base dropped) and the URL named in the message holds no password. */
    char *url = cvma_collateral_join_url(c->pccs_url, "/sgx/certification/v4/rootcacrl");
    if (url == NULL) {
        c->oom = true;
        return;
    }
    long t_ms = (c->pccs_timeout_s > 86400 ? 86400 : c->pccs_timeout_s) * 1000L;
    const struct cvma_http_opts o = {
            .connect_timeout_ms = t_ms, .timeout_ms = t_ms, .max_retries = -1};
    /* Reachability only: a PCCS usually has a self-signed certificate, and nothing it serves is
     * trusted on the strength of TLS (collateral is signed by Intel and verified). Any HTTP
     * answer counts; redirects are not followed. */
    const struct cvma_http_request rq = {
            .method = "HEAD", .any_status = true, .no_redirects = true, .no_tls_verify = true};
    struct cvma_buf b = {0};
    long code = 0;
    enum cvma_status st = cvma_http_do(&o, url, &rq, &b, &code, err, sizeof err);
    cvma_buf_free(&b);
    free(url);
    if (st == CVMA_OK) {
        set(c, i, CVMA_HOST_PASS, NULL, "%s answered HTTP %ld", c->pccs_url, code);
    } else if (st == CVMA_E_INTERNAL || st == CVMA_E_NOMEM) {
        set(c, i, CVMA_HOST_UNKNOWN, "libcurl could not start", "not checked: %s", err);
    } else {
        set(c, i, CVMA_HOST_FAIL,
            "start the PCCS (systemctl start pccs) or name yours with --pccs-url; the QGS reads "
            "its URL from /etc/sgx_default_qcnl.conf (pccs_url)",
            "%s", err);
    }
}

static void check_qgs(struct ctx *c, int parent)
{
    int i = add(c, parent, "tdx.attestation.qgs", "Quote generation service", "attestation",
                "qgsd running (its process) or its socket present");
    bool sock = exists(c, "/var/run/tdx-qgs/qgs.socket") || exists(c, "/run/tdx-qgs/qgs.socket");
    bool proc = false;
    int pfd = open_under(c, "/proc", O_RDONLY | O_DIRECTORY);
    DIR *d = pfd >= 0 ? fdopendir(pfd) : NULL;
    if (d == NULL && pfd >= 0) {
        close(pfd);
    }
    struct dirent *e;
    while (d != NULL && !proc && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        char abs[300], comm[64];
        snprintf(abs, sizeof abs, "/proc/%.32s/comm", e->d_name);
        if (read_text(c, abs, comm, sizeof comm) == 0 &&
            (strcmp(comm, "qgs") == 0 || strcmp(comm, "qgsd") == 0)) {
            proc = true;
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    if (proc || sock) {
        set(c, i, CVMA_HOST_PASS, NULL, "%s%s%s", proc ? "qgs process running" : "",
            proc && sock ? ", " : "", sock ? "socket /var/run/tdx-qgs/qgs.socket" : "");
    } else {
        set(c, i, CVMA_HOST_FAIL,
            "install Intel's tdx-qgs and start it (systemctl enable --now qgsd); QEMU reaches it "
            "through quote-generation-socket (vsock CID 2 port 4050 or the UNIX socket)",
            "no qgs process, no /var/run/tdx-qgs/qgs.socket");
    }
}

static void check_tdx(struct ctx *c)
{
    uint32_t r[4];
    bool intel = strcmp(c->vendor, "GenuineIntel") == 0;
    int top = add(c, -1, "tdx", "TDX host", "tee", "can this host launch TDX guests (TDs)");

    int g = add(c, top, "tdx.cpu", "CPU", "cpu_support", "vendor, generation and CPUID flags");
    int i = add(c, g, "tdx.cpu.vendor", "Intel CPU", "cpu_support", "CPUID 0 vendor GenuineIntel");
    if (c->cpuid_err != 0) {
        cpuid_unknown(c, i, 0, c->cpuid_err);
    } else {
        set(c, i, intel ? CVMA_HOST_PASS : CVMA_HOST_FAIL, "TDX needs an Intel Xeon processor",
            "%s", c->vendor_text);
    }
    i = add(c, g, "tdx.cpu.generation", "Xeon 5th gen or newer", "cpu_support",
            "family 6 model 0xCF (Emerald Rapids), 0xAD/0xAE (Granite Rapids), 0xAF (Sierra "
            "Forest) or 0xDD (Clearwater Forest)");
    bool gen_ok = intel && c->family == 6 &&
                  (c->model == 0xcf || c->model == 0xad || c->model == 0xae || c->model == 0xaf ||
                   c->model == 0xdd);
    if (!leaf1_unknown(c, i)) {
        set(c, i, gen_ok ? CVMA_HOST_PASS : CVMA_HOST_FAIL,
            "TDX (generally available) needs a 5th generation Xeon Scalable (Emerald Rapids) or "
            "newer; 4th generation parts had TDX only in limited releases",
            "%s (family 0x%" PRIx32 " model 0x%" PRIx32 ")",
            c->brand[0] ? c->brand : c->vendor_text, c->family, c->model);
    }
    check_bare_metal(c, g, "tdx.cpu.bare_metal");
    i = add(c, g, "tdx.cpu.tme", "TME (CPUID 7 ECX bit 13)", "cpu_support",
            "Total Memory Encryption, the base of TDX's memory encryption");
    int err = cpuid(c, 7, 0, r);
    if (c->cpuid_err != 0 || err != 0) {
        cpuid_unknown(c, i, 7, err);
    } else {
        set(c, i, r[2] >> 13 & 1 ? CVMA_HOST_PASS : CVMA_HOST_FAIL,
            "the processor (or the hypervisor this runs under) does not offer TME",
            "CPUID 7.0 ECX=0x%08" PRIx32, r[2]);
    }
    i = add(c, g, "tdx.cpu.not_a_td", "Not inside a TD", "cpu_support",
            "CPUID leaf 0x21 vendor 'IntelTDX    ' means this is a TDX guest, not a host");
    err = c->cpuid_err ? c->cpuid_err : cpuid(c, 0x21, 0, r);
    if (err == 0 && memcmp(&r[1], "Inte", 4) != 0) {
        set(c, i, CVMA_HOST_PASS, NULL, "not a TDX guest");
    } else if (err == 0) {
        set(c, i, CVMA_HOST_FAIL, "run host-check on the host, not inside a TD", "a TDX guest");
    } else {
        cpuid_unknown(c, i, 0x21, err);
    }

    g = add(c, top, "tdx.bios", "BIOS configuration", "bios_configured",
            "what firmware setup enables (MSRs, via the msr driver)");
    uint64_t v = 0;
    i = add(c, g, "tdx.bios.tme", "TME enabled and locked (MSR 0x982)", "bios_configured",
            "IA32_TME_ACTIVATE bit 0 lock, bit 1 enable");
    if ((err = rdmsr(c, MSR_IA32_TME_ACTIVATE, &v)) != 0) {
        msr_unknown(c, i, MSR_IA32_TME_ACTIVATE, err);
    } else {
        set(c, i, (v & 3) == 3 ? CVMA_HOST_PASS : CVMA_HOST_FAIL,
            "BIOS: Memory Encryption (TME) Enable, Total Memory Encryption Multi-Tenant (TME-MT) "
            "Enable",
            "IA32_TME_ACTIVATE=0x%016" PRIx64, v);
    }
    i = add(c, g, "tdx.bios.seamrr", "SEAM range enabled (MSR 0x1401)", "bios_configured",
            "IA32_SEAMRR_PHYS_MASK bit 11: the TDX module's memory is configured");
    if ((err = rdmsr(c, MSR_IA32_SEAMRR_PHYS_MASK, &v)) != 0) {
        msr_unknown(c, i, MSR_IA32_SEAMRR_PHYS_MASK, err);
    } else {
        set(c, i, v >> 11 & 1 ? CVMA_HOST_PASS : CVMA_HOST_FAIL,
            "BIOS: Trust Domain Extension (TDX) Enable, SEAM Loader Enable; dmesg says " KMSG_TDXBIO
            " or " KMSG_TDXMOD,
            "IA32_SEAMRR_PHYS_MASK=0x%016" PRIx64, v);
    }
    i = add(c, g, "tdx.bios.keyids", "TDX private KeyIDs (MSR 0x87)", "bios_configured",
            "IA32_MKTME_KEYID_PARTITIONING bits 63:32 >= 2");
    if ((err = rdmsr(c, MSR_IA32_MKTME_KEYID_PART, &v)) != 0) {
        msr_unknown(c, i, MSR_IA32_MKTME_KEYID_PART, err);
    } else if ((v >> 32) >= 2) {
        set(c, i, CVMA_HOST_PASS, NULL, "%" PRIu64 " TDX KeyIDs, %" PRIu64 " MKTME KeyIDs", v >> 32,
            v & 0xffffffffu);
    } else {
        set(c, i, CVMA_HOST_FAIL,
            "BIOS: TME-MT/TDX key split to a non-zero value; dmesg says " KMSG_TDXBIO
            " (no KeyIDs) or " KMSG_TDXKEY ", and " KMSG_TDXOK,
            "%" PRIu64 " TDX KeyIDs", v >> 32);
    }

    g = add(c, top, "tdx.kernel", "Kernel", "kernel", "version, options, kvm_intel parameters");
    /* Distribution kernels (Ubuntu 24.04's, CentOS Stream's) carry TDX host support backported
     * to older releases; kvm_intel.tdx=Y shows it is there and enabled. */
    check_kernel_version(c, g, "tdx.kernel.version", TDX_MIN_KERNEL_MAJOR, TDX_MIN_KERNEL_MINOR,
                         "TDX host support (KVM) is upstream since Linux 6.16; older kernels "
                         "with kvm_intel.tdx=Y carry it as a backport",
                         "kvm_intel.tdx", param_on(c, "kvm_intel", "tdx"));
    static const char *const tdx_opts[] = {
            "KVM", "KVM_INTEL", "KVM_INTEL_TDX", "INTEL_TDX_HOST", "VSOCKETS", "VHOST_VSOCK", NULL};
    static const char *const tdx_why[] = {"KVM",
                                          "KVM for VMX",
                                          "TDX support in kvm_intel",
                                          "the TDX host kernel (SEAMCALLs, PAMT)",
                                          "vsock, for the attestation agent",
                                          "the host side of vsock (QEMU vhost-vsock-pci)"};
    check_kernel_config(c, g, "tdx", tdx_opts, tdx_why);
    check_kvm_param(c, g, "tdx.kernel.kvm_intel.tdx", "kvm_intel", "tdx",
                    "boot with kvm_intel.tdx=1 (and nohibernate); dmesg says " KMSG_TDXBIO
                    " when the BIOS did not enable TDX");

    check_vmm(c, top, "tdx", "tdx-guest", ovmf_has_tdx,
              "install QEMU >= 10.1 (upstream TDX guests, object tdx-guest) or your "
              "distribution's TDX build",
              "install a TDX-capable OVMF (IntelTdx build, e.g. OVMF.inteltdx.fd; Debian's unified "
              "OVMF.fd carries TDX metadata, its code-only OVMF_CODE*.fd images cannot boot a TD)");

    g = add(c, top, "tdx.attestation", "Attestation", "attestation",
            "quote generation and collateral (does not decide launch readiness)");
    check_qgs(c, g);
    check_pccs(c, g);
    leaf(c, g, "tdx.attestation.registered", "Platform registered", "attestation",
         "the platform's keys are registered with Intel (multi-package registration)",
         CVMA_HOST_UNKNOWN,
         "not determinable from the host: check the registration agent (systemctl status "
         "mpa_registration_tool, or PCKIDRetrievalTool and your PCCS's platforms list)",
         "unknown");
}

/* ---- combine ---- */

static enum cvma_host_state combine(enum cvma_host_state a, enum cvma_host_state b)
{
    if (a == CVMA_HOST_FAIL || b == CVMA_HOST_FAIL) {
        return CVMA_HOST_FAIL;
    }
    if (a == CVMA_HOST_UNKNOWN || b == CVMA_HOST_UNKNOWN) {
        return CVMA_HOST_UNKNOWN;
    }
    return CVMA_HOST_PASS;
}

static void finish(struct cvma_host_report *r)
{
    /* children come after their parents: fold from the end */
    for (size_t k = 0; k < r->n; k++) {
        if (r->checks[k].group) {
            r->checks[k].state = CVMA_HOST_PASS;
        }
    }
    for (size_t k = r->n; k-- > 0;) {
        int p = r->checks[k].parent;
        if (p >= 0 && strcmp(r->checks[k].id, "tdx.attestation") != 0) {
            r->checks[p].state = combine(r->checks[p].state, r->checks[k].state);
        }
    }
    const struct cvma_host_check *s = cvma_host_report_find(r, "snp");
    const struct cvma_host_check *t = cvma_host_report_find(r, "tdx");
    const struct cvma_host_check *a = cvma_host_report_find(r, "tdx.attestation");
    r->snp_state = s != NULL ? s->state : CVMA_HOST_UNKNOWN;
    r->tdx_state = t != NULL ? t->state : CVMA_HOST_UNKNOWN;
    r->snp_ready = r->snp_state == CVMA_HOST_PASS;
    r->tdx_ready = r->tdx_state == CVMA_HOST_PASS;
    r->undecided = !r->snp_ready && !r->tdx_ready &&
                   (r->snp_state == CVMA_HOST_UNKNOWN || r->tdx_state == CVMA_HOST_UNKNOWN);
    r->tdx_attestation = a != NULL ? a->state : CVMA_HOST_UNKNOWN;
}

/* Opens the tree's directory for open_under and checks that openat2 confines reads to it.
 * CVMA_OK, CVMA_E_IO (err says why) or CVMA_E_NOMEM. */
static enum cvma_status open_root(struct ctx *c, const char *root, char *err, size_t err_len)
{
    if ((c->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int e = errno;
        cvma_errf(err, err_len, "--root %s: %s", root, strerror(e));
        return e == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO;
    }
    int fd = open_under(c, "/", O_PATH | O_DIRECTORY);
    if (fd < 0) {
        /* Without openat2 (Linux < 5.6, or a filter that hides it) a symlink or ".." in the
         * tree would reach the machine's own files: refused rather than read unconfined. */
        int e = errno;
        cvma_errf(err, err_len,
                  "--root %s: cannot read the tree confined to it: openat2 with "
                  "RESOLVE_IN_ROOT (Linux 5.6 or newer): %s",
                  root, strerror(e));
        return e == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO;
    }
    close(fd);
    return CVMA_OK;
}

/* see host/host.h */
enum cvma_status cvma_host_check_run(const struct cvma_host_options *opts,
                                     struct cvma_host_report **out, char *err, size_t err_len)
{
    enum cvma_status st = CVMA_E_NOMEM;
    struct ctx c = {.rootfd = -1};
    struct cvma_host_report *r = NULL;

    *out = NULL;
    cvma_errf(err, err_len, "%s", "");
    const char *root = opts != NULL && opts->root != NULL ? opts->root : "/";
    if (root[0] == '\0' || strlen(root) >= sizeof r->root) {
        /* kept whole or refused: a shortened path would be another directory */
        cvma_errf(err, err_len, "--root: empty or longer than %zu characters", sizeof r->root - 1);
        return CVMA_E_USAGE;
    }
    const char *url = opts != NULL ? opts->pccs_url : NULL;
    if (url != NULL && strcmp(url, "none") != 0 && !cvma_http_base_url_ok(url)) {
        /* The one rule for base URLs (docs/collateral.md): a password in it would be written
         * into the report, a query or fragment would take in the path joined to it. Not
         * echoed: it may hold a password. */
        cvma_errf(err, err_len,
                  "--pccs-url must be none or an http:// or https:// URL with a host and no user "
                  "information, query, fragment, space or control character");
        return CVMA_E_USAGE;
    }
    if ((r = calloc(1, sizeof *r)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    c.r = r;
    snprintf(r->root, sizeof r->root, "%s", root);
    size_t rl = strlen(r->root);
    while (rl > 1 && r->root[rl - 1] == '/') {
        r->root[--rl] = '\0';
    }
    c.live = strcmp(r->root, "/") == 0;
    if (!c.live && (st = open_root(&c, r->root, err, err_len)) != CVMA_OK) {
        goto out;
    }
    /* Under --root nothing outside the tree is read: no PCCS probe unless one is named. */
    c.pccs_url = opts != NULL && opts->pccs_url != NULL ? opts->pccs_url
                 : c.live                               ? DEFAULT_PCCS_URL
                                                        : "none";
    c.pccs_timeout_s = opts != NULL && opts->pccs_timeout_s > 0 ? opts->pccs_timeout_s : 5;
    read_cpu(&c);
    check_snp(&c);
    check_tdx(&c);
    if (c.oom) {
        st = CVMA_E_NOMEM;
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    finish(r);
    *out = r;
    r = NULL;
    st = CVMA_OK;
out:
    if (c.rootfd >= 0) {
        close(c.rootfd);
    }
    cvma_host_report_free(r);
    return st;
}

void cvma_host_report_free(struct cvma_host_report *r)
{
    if (r != NULL) {
        free(r->checks);
        free(r);
    }
}

const char *cvma_host_state_name(enum cvma_host_state s)
{
    switch (s) {
    case CVMA_HOST_PASS:
        return "pass";
    case CVMA_HOST_FAIL:
        return "fail";
    case CVMA_HOST_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}

const struct cvma_host_check *cvma_host_report_find(const struct cvma_host_report *r,
                                                    const char *id)
{
    for (size_t k = 0; r != NULL && k < r->n; k++) {
        if (strcmp(r->checks[k].id, id) == 0) {
            return &r->checks[k];
        }
    }
    return NULL;
}

/* ---- output ---- */

static json_t *node_json(const struct cvma_host_report *r, size_t k)
{
    const struct cvma_host_check *x = &r->checks[k];
    json_t *o = json_object();
    json_t *sub = x->group ? json_array() : NULL;
    if (o == NULL || (x->group && sub == NULL)) {
        json_decref(o);
        json_decref(sub);
        return NULL;
    }
    json_object_set_new(o, "id", json_string(x->id));
    json_object_set_new(o, "name", json_string(x->name));
    json_object_set_new(o, "status", json_string(cvma_host_state_name(x->state)));
    json_object_set_new(o, "category", json_string(x->category));
    json_object_set_new(o, "description", json_string(x->description));
    if (x->message[0] != '\0') {
        json_object_set_new(o, "message", json_string(x->message));
    }
    if (x->fix_hint[0] != '\0') {
        json_object_set_new(o, "fix_hint", json_string(x->fix_hint));
    }
    if (sub != NULL) {
        for (size_t j = k + 1; j < r->n; j++) {
            if (r->checks[j].parent == (int)k) {
                json_t *c = node_json(r, j);
                if (c == NULL || json_array_append_new(sub, c) != 0) {
                    json_decref(o);
                    json_decref(sub);
                    return NULL;
                }
            }
        }
        json_object_set_new(o, "sub", sub);
    }
    return o;
}

json_t *cvma_host_report_json(const struct cvma_host_report *r)
{
    json_t *o = json_object(), *tests = json_array(), *fails = json_array(),
           *unknown = json_array(), *ready = json_array();
    size_t pass = 0, fail = 0, unk = 0, total = 0;
    if (o == NULL || tests == NULL || fails == NULL || unknown == NULL || ready == NULL) {
        goto oom;
    }
    for (size_t k = 0; k < r->n; k++) {
        const struct cvma_host_check *x = &r->checks[k];
        if (x->parent < 0) {
            json_t *n = node_json(r, k);
            if (n == NULL || json_array_append_new(tests, n) != 0) {
                goto oom;
            }
        }
        if (x->group) {
            continue;
        }
        total++;
        if (x->state == CVMA_HOST_PASS) {
            pass++;
            continue;
        }
        json_t *e = json_pack("{s:s,s:s,s:s}", "id", x->id, "name", x->name, "hint", x->fix_hint);
        if (e == NULL || json_array_append_new(x->state == CVMA_HOST_FAIL ? fails : unknown, e)) {
            goto oom;
        }
        x->state == CVMA_HOST_FAIL ? fail++ : unk++;
    }
    if (r->snp_ready) {
        json_array_append_new(ready, json_string("snp"));
    }
    if (r->tdx_ready) {
        json_array_append_new(ready, json_string("tdx"));
    }
    char root[4 * sizeof r->root];
    json_object_set_new(o, "root", json_string(cvma_text_escape(r->root, root, sizeof root)));
    json_object_set_new(o, "ready", ready);
    json_object_set_new(o, "undecided", json_boolean(r->undecided));
    json_object_set_new(o, "snp",
                        json_pack("{s:b,s:s}", "ready", r->snp_ready, "status",
                                  cvma_host_state_name(r->snp_state)));
    json_object_set_new(o, "tdx",
                        json_pack("{s:b,s:s,s:s}", "ready", r->tdx_ready, "status",
                                  cvma_host_state_name(r->tdx_state), "attestation",
                                  cvma_host_state_name(r->tdx_attestation)));
    json_object_set_new(o, "tests", tests);
    json_object_set_new(o, "failures", fails);
    json_object_set_new(o, "unknown", unknown);
    json_object_set_new(o, "summary",
                        json_pack("{s:I,s:I,s:I,s:I}", "total", (json_int_t)total, "passed",
                                  (json_int_t)pass, "failed", (json_int_t)fail, "unknown",
                                  (json_int_t)unk));
    return o;
oom:
    json_decref(o);
    json_decref(tests);
    json_decref(fails);
    json_decref(unknown);
    json_decref(ready);
    return NULL;
}

static int depth(const struct cvma_host_report *r, size_t k)
{
    int d = 0;
    for (int p = r->checks[k].parent; p >= 0; p = r->checks[p].parent) {
        d++;
    }
    return d;
}

/* Lists the leaf checks of tee ("snp", "tdx"; not its attestation group) in state st. */
static void print_leaves(const struct cvma_host_report *r, FILE *f, const char *tee,
                         enum cvma_host_state st)
{
    size_t tl = strlen(tee);
    for (size_t k = 0; k < r->n; k++) {
        const struct cvma_host_check *x = &r->checks[k];
        if (!x->group && x->state == st && strncmp(x->id, tee, tl) == 0 && x->id[tl] == '.' &&
            strncmp(x->id, "tdx.attestation", 15) != 0) {
            fprintf(f, "  %s: %s%s%s\n", x->id, x->name, x->message[0] ? ": " : "", x->message);
        }
    }
}

void cvma_host_report_print(const struct cvma_host_report *r, FILE *f)
{
    static const char *const tag[] = {"PASS", "FAIL", "UNKNOWN"};
    for (size_t k = 0; k < r->n; k++) {
        const struct cvma_host_check *x = &r->checks[k];
        int d = depth(r, k);
        if (d == 0) {
            enum cvma_host_state st = strcmp(x->id, "snp") == 0 ? r->snp_state : r->tdx_state;
            fprintf(f, "%s%s: %s\n", k ? "\n" : "", x->name,
                    st == CVMA_HOST_PASS      ? "READY"
                    : st == CVMA_HOST_UNKNOWN ? "UNDECIDED (no check failed, some unknown)"
                                              : "NOT READY");
            continue;
        }
        fprintf(f, "%*s[%s] %s", 2 * d, "", tag[x->state], x->name);
        if (x->message[0] != '\0') {
            fprintf(f, ": %s", x->message);
        }
        fputc('\n', f);
        if (x->fix_hint[0] != '\0' && !x->group) {
            fprintf(f, "%*s  -> %s\n", 2 * d, "", x->fix_hint);
        }
    }
    fputc('\n', f);
    if (r->snp_ready || r->tdx_ready) {
        fprintf(f, "ready: %s%s%s\n", r->snp_ready ? "SEV-SNP" : "",
                r->snp_ready && r->tdx_ready ? ", " : "", r->tdx_ready ? "TDX" : "");
        if (r->tdx_ready && r->tdx_attestation != CVMA_HOST_PASS) {
            fprintf(f, "TDX attestation: %s (see the Attestation checks)\n",
                    cvma_host_state_name(r->tdx_attestation));
        }
        return;
    }
    if (r->undecided) {
        /* no failure of the host to report: name what could not be decided */
        bool s = r->snp_state == CVMA_HOST_UNKNOWN, t = r->tdx_state == CVMA_HOST_UNKNOWN;
        fprintf(f,
                "undecided: %s%s%s failed no check, but these could not be decided "
                "(unknown; see their hints above):\n",
                s ? "SEV-SNP" : "", s && t ? " and " : "", t ? "TDX" : "");
        if (s) {
            print_leaves(r, f, "snp", CVMA_HOST_UNKNOWN);
        }
        if (t) {
            print_leaves(r, f, "tdx", CVMA_HOST_UNKNOWN);
        }
        if (!s || !t) {
            fprintf(f, "%s is not available on this host:\n", s ? "TDX" : "SEV-SNP");
            print_leaves(r, f, s ? "tdx" : "snp", CVMA_HOST_FAIL);
        }
        return;
    }
    fputs("neither SEV-SNP nor TDX is available on this host:\n", f);
    print_leaves(r, f, "snp", CVMA_HOST_FAIL);
    print_leaves(r, f, "tdx", CVMA_HOST_FAIL);
    size_t unk = 0;
    for (size_t k = 0; k < r->n; k++) {
        unk += !r->checks[k].group && r->checks[k].state == CVMA_HOST_UNKNOWN;
    }
    if (unk > 0) {
        fprintf(f, "  and %zu checks could not be decided (unknown): see their hints above\n", unk);
    }
}
