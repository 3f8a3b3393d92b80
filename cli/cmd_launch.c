/*
 * cvmattest launch --tee snp|tdx: the QEMU command line for a confidential VM, fitted to the
 * QEMU found (its --version and -object help are probed), printed with --print or executed,
 * with the expected launch measurement beside it (docs/measure.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "args.h"
#include "cmds.h"
#include "common/hex.h"
#include "common/util.h"
#include "measure/measure.h"

#define EXIT_OK    0
#define EXIT_USAGE 2
#define FW_MAX     (64u << 20)
#define OUT_MAX    (256u * 1024u)
/* Each QEMU probe (--version, -object help) must finish within this: QEMU answers at once. */
#define PROBE_TIMEOUT_S 10

static const char launch_usage[] =
        "usage: cvmattest launch --tee snp|tdx --ovmf FILE --vcpus N --memory SIZE [options]\n"
        "\n"
        "The QEMU command line for a confidential VM, for the QEMU found (probed with\n"
        "--version and -object help, each within 10 s and 256 KiB of output); executed, or\n"
        "printed with --print. The expected launch measurement is written beside it\n"
        "(docs/measure.md).\n"
        "\n"
        "  --tee snp|tdx            the TEE\n"
        "  --ovmf FILE              the firmware: a single OVMF.fd, given with -bios\n"
        "  --vcpus N                vCPUs (1..512)\n"
        "  --memory SIZE            guest memory (QEMU's -m: 4096 MiB, 4G, 512M; whole MiB)\n"
        "  --kernel FILE            direct kernel boot (SEV-SNP: kernel-hashes=on)\n"
        "  --initrd FILE            with --kernel\n"
        "  --append STRING          the kernel command line, with --kernel\n"
        "  --svsm IGVM              SEV-SNP: boot an SVSM IGVM image (QEMU with igvm-cfg)\n"
        "  --vcpu-type NAME         SEV-SNP: the QEMU CPU model (default EPYC-v4)\n"
        "  --guest-features HEX     SEV-SNP: SEV_FEATURES the host's KVM sets, for the\n"
        "                           expected measurement (default 0x1; 0x21 with debug_swap)\n"
        "  --qemu PATH              the QEMU binary (default qemu-system-x86_64)\n"
        "  --kvm-device PATH        the KVM device checked before executing (default /dev/kvm)\n"
        "  --print                  print the command line (and the measurement) only\n"
        "  -h, --help               this help\n"
        "\n"
        "Exit: 0 printed (or QEMU's own status once executed), 2 for bad options, a QEMU that\n"
        "cannot run that TEE, a probe that fails, overruns its time or its output, or no KVM.\n";

enum {
    O_TEE = 256,
    O_OVMF,
    O_VCPUS,
    O_MEMORY,
    O_KERNEL,
    O_INITRD,
    O_APPEND_ARG,
    O_SVSM,
    O_VCPU_TYPE,
    O_FEATURES,
    O_QEMU,
    O_KVM,
    O_PRINT,
};

struct qemu_caps {
    char version[128]; /* the first line of --version */
    int major, minor;
    bool sev_snp, tdx, igvm, memfd_private;
};

struct argvec {
    char **v;
    size_t n, cap;
    bool oom;
};

static void add(struct argvec *a, const char *s)
{
    if (a->oom) {
        return;
    }
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, cap * sizeof *v);
        if (v == NULL) {
            a->oom = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    if ((a->v[a->n] = strdup(s)) == NULL) {
        a->oom = true;
        return;
    }
    a->n++;
    a->v[a->n] = NULL;
}

static void addf(struct argvec *a, const char *fmt, ...) CVMA_PRINTF(2, 3);
static void addf(struct argvec *a, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        a->oom = true;
        return;
    }
    add(a, buf);
}

static void argvec_free(struct argvec *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i]);
    }
    free(a->v);
}

/* A pipe whose ends close on exec (pipe2 is a GNU extension). */
static bool cloexec_pipe(int fd[2])
{
    if (pipe(fd) != 0) {
        return false;
    }
    if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd[1], F_SETFD, FD_CLOEXEC) != 0) {
        int e = errno;
        close(fd[0]);
        close(fd[1]);
        errno = e;
        return false;
    }
    return true;
}

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ends a probe that overran (its time or its output): the whole process group it leads, so
 * that a child it left behind holding the pipe goes too, then the probe itself is reaped. */
static void kill_probe(pid_t pid)
{
    /* the group exists while pid is unreaped: the child made it before exec, and so did we */
    if (getpgid(pid) == pid) {
        (void)kill(-pid, SIGKILL);
    } else {
        (void)kill(pid, SIGKILL);
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* Waits for pid until deadline (ms, monotonic). true with *st its status once it exited. */
static bool wait_until(pid_t pid, int64_t deadline, int *st)
{
    long nap_us = 1000;
    for (;;) {
        pid_t w = waitpid(pid, st, WNOHANG);
        if (w == pid) {
            return true;
        }
        if (w < 0 && errno != EINTR) {
            /* ECHILD: reaped already (SIGCHLD ignored by whoever started us); its status is
             * not known, and the output it closed decides */
            *st = 0;
            return true;
        }
        if (now_ms() >= deadline) {
            return false;
        }
        usleep((useconds_t)nap_us);
        nap_us = nap_us < 50000 ? nap_us * 2 : nap_us;
    }
}

/*
 * Runs QEMU with one probe's arguments (no shell, in a process group of its own) and captures
 * its standard output into out (NUL-terminated). The probe must exit 0 within
 * PROBE_TIMEOUT_S seconds, its output closed, having written less than cap bytes; otherwise
 * it (and its process group) is killed and err says which of these went wrong: it could not
 * be run (exec's error), it did not finish in time (or left a process holding its output
 * open), it wrote too much, it exited with another status or was killed by a signal.
 */
static bool capture(char *const argv[], const char *what, char *out, size_t cap, char *err,
                    size_t err_len)
{
    int fd[2], ex[2];
    int exec_err = 0, read_err = 0, st = 0;
    size_t len = 0;
    bool ok = false, eof = false, too_large = false;

    out[0] = '\0';
    if (!cloexec_pipe(fd)) {
        cvma_errf(err, err_len, "cannot run '%s %s': pipe: %s", argv[0], what, strerror(errno));
        return false;
    }
    if (!cloexec_pipe(ex)) {
        cvma_errf(err, err_len, "cannot run '%s %s': pipe: %s", argv[0], what, strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        cvma_errf(err, err_len, "cannot run '%s %s': fork: %s", argv[0], what, strerror(errno));
        close(fd[0]);
        close(fd[1]);
        close(ex[0]);
        close(ex[1]);
        return false;
    }
    if (pid == 0) {
        /* A group of its own, so that what it starts can be killed with it. exec closes ex[1]
         * (close-on-exec); a failed exec writes its errno there. */
        (void)setpgid(0, 0);
        /* (dup2 onto itself, where stdout was closed when the pipe was made, keeps
         * close-on-exec: cleared then) */
        if (fd[1] == STDOUT_FILENO ? fcntl(fd[1], F_SETFD, 0) == 0
                                   : dup2(fd[1], STDOUT_FILENO) >= 0) {
            execvp(argv[0], argv);
        }
        int e = errno;
        ssize_t w = write(ex[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    (void)setpgid(pid, pid); /* either of the two calls makes the group before the other runs */
    close(fd[1]);
    close(ex[1]);
    ssize_t r;
    while ((r = read(ex[0], &exec_err, sizeof exec_err)) < 0 && errno == EINTR) {
    }
    close(ex[0]);
    if (r == (ssize_t)sizeof exec_err) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        close(fd[0]);
        cvma_errf(err, err_len, "cannot run '%s %s': %s (is QEMU installed? --qemu PATH)", argv[0],
                  what, strerror(exec_err));
        return false;
    }

    const int64_t deadline = now_ms() + PROBE_TIMEOUT_S * 1000L;
    while (!eof && !too_large) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            break;
        }
        struct pollfd p = {.fd = fd[0], .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno != EINTR) {
            read_err = errno;
            break;
        }
        if (n <= 0) {
            continue;
        }
        char extra;
        r = len < cap - 1 ? read(fd[0], out + len, cap - 1 - len) : read(fd[0], &extra, 1);
        if (r > 0 && len == cap - 1) {
            too_large = true;
        } else if (r > 0) {
            len += (size_t)r;
        } else if (r == 0) {
            eof = true;
        } else if (errno != EINTR) {
            read_err = errno;
            break;
        }
    }
    out[len] = '\0';
    close(fd[0]);
    if (read_err != 0) {
        kill_probe(pid);
        cvma_errf(err, err_len, "cannot read the output of '%s %s': %s (killed)", argv[0], what,
                  strerror(read_err));
        return false;
    }
    if (too_large) {
        kill_probe(pid);
        cvma_errf(err, err_len,
                  "'%s %s' wrote %zu KiB or more: not QEMU's answer (killed; --qemu PATH)", argv[0],
                  what, cap / 1024);
        return false;
    }
    if (!eof && waitpid(pid, &st, WNOHANG) == pid) {
        /* It exited, and a process it started keeps its output open: that process's group
         * (pid stays a group's id, not reused, while the group has a member) is killed. */
        (void)kill(-pid, SIGKILL);
        cvma_errf(err, err_len,
                  "'%s %s' exited, but a process it left behind kept its output open for %d s: "
                  "killed",
                  argv[0], what, PROBE_TIMEOUT_S);
        return false;
    }
    if (!eof || !wait_until(pid, deadline, &st)) {
        kill_probe(pid);
        cvma_errf(err, err_len,
                  "'%s %s' did not finish within %d s: killed (QEMU answers at once; is --qemu "
                  "PATH QEMU?)",
                  argv[0], what, PROBE_TIMEOUT_S);
        return false;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        ok = true;
    } else if (WIFEXITED(st)) {
        cvma_errf(err, err_len, "'%s %s' exited with status %d", argv[0], what, WEXITSTATUS(st));
    } else if (WIFSIGNALED(st)) {
        cvma_errf(err, err_len, "'%s %s' was killed by signal %d", argv[0], what, WTERMSIG(st));
    } else {
        cvma_errf(err, err_len, "'%s %s' did not exit normally", argv[0], what);
    }
    return ok;
}

/* True when the -object help output lists type as one of its lines ("  NAME"). */
static bool has_object(const char *help, const char *type)
{
    size_t tl = strlen(type);
    for (const char *l = help; *l != '\0';) {
        const char *nl = strchr(l, '\n');
        size_t len = nl != NULL ? (size_t)(nl - l) : strlen(l);
        const char *s = l;
        while (s < l + len && (*s == ' ' || *s == '\t')) {
            s++;
        }
        size_t sl = (size_t)(l + len - s);
        while (sl > 0 && (s[sl - 1] == ' ' || s[sl - 1] == '\r')) {
            sl--;
        }
        if (s != l && sl == tl && memcmp(s, type, tl) == 0) {
            return true;
        }
        l = nl != NULL ? nl + 1 : l + len;
    }
    return false;
}

static bool probe(const char *qemu, struct qemu_caps *c, char *err, size_t err_len)
{
    char *buf = malloc(OUT_MAX);
    bool ok = false;
    memset(c, 0, sizeof *c);
    cvma_errf(err, err_len, "out of memory");
    if (buf == NULL) {
        return false;
    }
    char s_version[] = "--version", s_object[] = "-object", s_help[] = "help";
    char *q = strdup(qemu);
    char *const ver_argv[] = {q, s_version, NULL};
    char *const obj_argv[] = {q, s_object, s_help, NULL};
    if (q == NULL) {
        goto out;
    }
    if (!capture(ver_argv, "--version", buf, OUT_MAX, err, err_len)) {
        goto out;
    }
    const char *v = strstr(buf, "version ");
    char *end = NULL;
    if (v == NULL) {
        cvma_errf(err, err_len, "'%s --version' does not name a version", qemu);
        goto out;
    }
    c->major = (int)strtol(v + 8, &end, 10);
    if (end != NULL && *end == '.') {
        c->minor = (int)strtol(end + 1, NULL, 10);
    }
    size_t l = strcspn(buf, "\n");
    snprintf(c->version, sizeof c->version, "%.*s", (int)(l < 120 ? l : 120), buf);
    if (!capture(obj_argv, "-object help", buf, OUT_MAX, err, err_len)) {
        goto out;
    }
    c->sev_snp = has_object(buf, "sev-snp-guest");
    c->tdx = has_object(buf, "tdx-guest");
    c->igvm = has_object(buf, "igvm-cfg");
    c->memfd_private = has_object(buf, "memory-backend-memfd-private");
    ok = true;
out:
    free(q);
    free(buf);
    return ok;
}

/* Shell-quotes s for printing (single quotes, ' as '\''). */
static void print_quoted(const char *s, FILE *f)
{
    if (s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789-_=.,/:+@%") == strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '\'') {
            fputs("'\\''", f);
        } else {
            fputc(*s, f);
        }
    }
    fputc('\'', f);
}

struct lopts {
    const char *tee, *ovmf, *vcpus, *memory, *kernel, *initrd, *append, *svsm, *vcpu_type;
    const char *features, *qemu, *kvm;
    bool print;
    /* The numbers, read strictly from the strings above: QEMU is given these, never the
     * strings (QEMU reads "4096" as MiB after -m, as bytes after size=). */
    unsigned n_vcpus;
    uint64_t memory_mib;
    char memory_arg[32];     /* memory_mib with its unit, the same after -m and size= */
    uint64_t guest_features; /* SEV_FEATURES; 0x1 when not given */
};

/* MiB in the largest unit that holds it whole (4096 -> "4G"): with its unit, QEMU's -m and a
 * memory backend's size= read the same amount (a bare number is MiB to one, bytes to the
 * other). */
static void memory_string(uint64_t mib, char *out, size_t out_len)
{
    static const char units[] = "MGT";
    size_t u = 0;
    while (u + 1 < sizeof units - 1 && mib % 1024 == 0) {
        mib /= 1024;
        u++;
    }
    snprintf(out, out_len, "%" PRIu64 "%c", mib, units[u]);
}

/* As measure snp: QEMU loads a kernel and an initrd below 4 GiB (and a file that never ends is
 * not hashed for ever). */
#define BOOT_FILE_MAX ((uint64_t)4 << 30)

/* QEMU opens the kernel and the initrd itself when it starts: each must be a regular file (a
 * FIFO would be read here and leave QEMU nothing; it is refused, not waited on). */
static bool sha256_path(const char *path, uint8_t out[32], char *err, size_t err_len)
{
    if (cvma_cli_sha256_file(path, BOOT_FILE_MAX, true, out)) {
        return true;
    }
    if (errno == EFBIG) {
        cvma_errf(err, err_len,
                  "'%s' is larger than 4 GiB: QEMU loads a kernel and an initrd "
                  "below 4 GiB",
                  path);
    } else {
        cvma_errf(err, err_len, "cannot read '%s': %s", path, cvma_file_read_strerror(errno));
    }
    return false;
}

/* Whether path is an IGVM image this user can read: a regular file (opened without waiting:
 * a FIFO is refused, not waited on) whose fixed header holds (cvma_igvm_header_check). false
 * with why in err. */
static bool igvm_file(const char *path, char *err, size_t err_len)
{
    struct stat st;
    uint8_t head[32];
    ssize_t n = 0;
    int e = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        e = errno;
    } else if (fstat(fd, &st) != 0) {
        e = errno;
    } else if (!S_ISREG(st.st_mode)) {
        e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    } else {
        do {
            n = pread(fd, head, sizeof head, 0);
        } while (n < 0 && errno == EINTR);
        e = n < 0 ? errno : 0;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (e != 0) {
        cvma_errf(err, err_len, "cannot read '%s': %s", path, cvma_file_read_strerror(e));
        return false;
    }
    char why[256];
    if (!cvma_igvm_header_check(head, (size_t)n, (uint64_t)st.st_size, why, sizeof why)) {
        cvma_errf(err, err_len, "--svsm %s: %s", path, why);
        return false;
    }
    return true;
}

/* A value for a QEMU option string (-object TYPE,KEY=VALUE,...): QEMU's option parser ends a
 * value at a ',' and reads ",," as one ',', so each ',' is doubled; a path with a comma then
 * stays one value and cannot add properties. A new string, or NULL when out of memory. */
static char *qemu_opt_value(const char *s)
{
    size_t n = strlen(s), commas = 0;
    for (size_t i = 0; i < n; i++) {
        commas += s[i] == ',';
    }
    char *out = malloc(n + commas + 1), *p = out;
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        *p++ = s[i];
        if (s[i] == ',') {
            *p++ = ',';
        }
    }
    *p = '\0';
    return out;
}

/* The expected measurement as a comment line for the command line's output. */
static bool expected_measurement(const struct lopts *o, const struct qemu_caps *c, bool snp,
                                 char *line, size_t line_len, char *err, size_t err_len)
{
    struct cvma_buf fw = {0};
    uint8_t v[48], kh[32], ih[32];
    char hex[97], why[256];
    bool ok = false;
    if (o->svsm != NULL) {
        /* QEMU reads the image only when it starts: a file that is not there, cannot be read
         * or is no IGVM image is refused here, as --ovmf and --kernel are. */
        if (!igvm_file(o->svsm, err, err_len)) {
            return false;
        }
        snprintf(line, line_len, "# expected measurement: not predicted (an IGVM launch)");
        return true;
    }
    /* A regular file only: QEMU opens the firmware again itself, and a FIFO is refused here,
     * not waited on. */
    if (cvma_file_read_regular(o->ovmf, FW_MAX, &fw) != CVMA_OK) {
        cvma_errf(err, err_len, "cannot read '%s': %s", o->ovmf,
                  cvma_file_read_why(errno, FW_MAX, why, sizeof why));
        return false;
    }
    if (snp) {
        struct cvma_snp_measure_in in = {.ovmf = fw.p,
                                         .ovmf_len = fw.len,
                                         .vcpus = o->n_vcpus,
                                         .guest_features = o->guest_features};
        const char *vt = o->vcpu_type != NULL ? o->vcpu_type : "EPYC-v4";
        if (!cvma_snp_vcpu_sig(vt, &in.vcpu_sig)) {
            cvma_errf(err, err_len, "--vcpu-type: unknown CPU model '%s'", vt);
            goto out;
        }
        if (o->kernel != NULL) {
            if (!sha256_path(o->kernel, kh, err, err_len) ||
                (o->initrd != NULL && !sha256_path(o->initrd, ih, err, err_len))) {
                goto out;
            }
            in.kernel_sha256 = kh;
            in.initrd_sha256 = o->initrd != NULL ? ih : NULL;
            in.append = o->append;
        }
        if (!cvma_measure_snp(&in, v, why, sizeof why)) {
            cvma_errf(err, err_len, "%s: %s", o->ovmf, why);
            goto out;
        }
        cvma_hex_encode(v, 48, hex, sizeof hex);
        snprintf(line, line_len,
                 "# expected measurement (sev-snp; qemu, %u vCPUs %s, guest features 0x%llx): %s",
                 o->n_vcpus, vt, (unsigned long long)in.guest_features, hex);
    } else {
        enum cvma_tdx_page_order order =
                c->memfd_private ? CVMA_TDX_ORDER_TWO : CVMA_TDX_ORDER_SINGLE;
        if (!cvma_measure_tdx_mrtd(fw.p, fw.len, order, v, why, sizeof why)) {
            cvma_errf(err, err_len, "%s: %s", o->ovmf, why);
            goto out;
        }
        cvma_hex_encode(v, 48, hex, sizeof hex);
        snprintf(line, line_len, "# expected MRTD (tdx; page order %s): %s; RTMRs not predicted",
                 cvma_tdx_page_order_name(order), hex);
    }
    ok = true;
out:
    cvma_buf_free(&fw);
    return ok;
}

static void build_snp(struct argvec *a, const struct lopts *o, const struct qemu_caps *c)
{
    const char *vt = o->vcpu_type != NULL ? o->vcpu_type : "EPYC-v4";
    addf(a, "q35,confidential-guest-support=sev0,vmport=off,memory-backend=ram1%s",
         o->svsm != NULL ? ",igvm-cfg=igvm0" : "");
    add(a, "-object");
    addf(a, "memory-backend-memfd,id=ram1,size=%s,share=true,prealloc=false", o->memory_arg);
    add(a, "-object");
    addf(a, "sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1%s",
         o->kernel != NULL ? ",kernel-hashes=on" : "");
    if (o->svsm != NULL) {
        /* The only path put into an option string: -bios, -kernel and -initrd take theirs as
         * whole arguments. */
        char *file = qemu_opt_value(o->svsm);
        add(a, "-object");
        if (file == NULL) {
            a->oom = true;
        } else {
            addf(a, "igvm-cfg,id=igvm0,file=%s", file);
        }
        free(file);
    }
    add(a, "-cpu");
    add(a, vt);
    (void)c;
}

static void build_tdx(struct argvec *a, const struct lopts *o, const struct qemu_caps *c)
{
    addf(a, "q35,kernel-irqchip=split,confidential-guest-support=tdx0,hpet=off%s",
         c->memfd_private ? ",memory-backend=ram1" : "");
    if (c->memfd_private) {
        /* Intel's TDX QEMU trees before upstream: private memory through this backend. */
        add(a, "-object");
        addf(a, "memory-backend-memfd-private,id=ram1,size=%s", o->memory_arg);
    }
    add(a, "-object");
    if (c->major >= 8) {
        add(a, "{\"qom-type\":\"tdx-guest\",\"id\":\"tdx0\",\"quote-generation-socket\":"
               "{\"type\":\"vsock\",\"cid\":\"2\",\"port\":\"4050\"}}");
    } else {
        add(a, "tdx-guest,id=tdx0,quote-generation-service=vsock:2:4050");
    }
    add(a, "-cpu");
    add(a, "host");
}

int cvma_cmd_launch(int argc, char **argv)
{
    static const struct option opts[] = {
            {"tee", required_argument, NULL, O_TEE},
            {"ovmf", required_argument, NULL, O_OVMF},
            {"vcpus", required_argument, NULL, O_VCPUS},
            {"memory", required_argument, NULL, O_MEMORY},
            {"kernel", required_argument, NULL, O_KERNEL},
            {"initrd", required_argument, NULL, O_INITRD},
            {"append", required_argument, NULL, O_APPEND_ARG | CVMA_CLI_EMPTY},
            {"svsm", required_argument, NULL, O_SVSM},
            {"vcpu-type", required_argument, NULL, O_VCPU_TYPE},
            {"guest-features", required_argument, NULL, O_FEATURES},
            {"qemu", required_argument, NULL, O_QEMU},
            {"kvm-device", required_argument, NULL, O_KVM},
            {"print", no_argument, NULL, O_PRINT},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    struct lopts o = {.qemu = "qemu-system-x86_64", .kvm = "/dev/kvm", .guest_features = 1};
    struct qemu_caps caps;
    struct argvec a = {0};
    char err[512] = "", mline[512] = "";
    uint64_t n = 0;
    int c, rc = EXIT_USAGE;

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_TEE:
            o.tee = optarg;
            break;
        case O_OVMF:
            o.ovmf = optarg;
            break;
        case O_VCPUS:
            o.vcpus = optarg;
            break;
        case O_MEMORY:
            o.memory = optarg;
            break;
        case O_KERNEL:
            o.kernel = optarg;
            break;
        case O_INITRD:
            o.initrd = optarg;
            break;
        case O_APPEND_ARG:
            o.append = optarg;
            break;
        case O_SVSM:
            o.svsm = optarg;
            break;
        case O_VCPU_TYPE:
            o.vcpu_type = optarg;
            break;
        case O_FEATURES:
            o.features = optarg;
            break;
        case O_QEMU:
            o.qemu = optarg;
            break;
        case O_KVM:
            o.kvm = optarg;
            break;
        case O_PRINT:
            o.print = true;
            break;
        case 'h':
            fputs(launch_usage, stdout);
            return EXIT_OK;
        default:
            return cvma_cli_bad_option("launch", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error("launch", "takes no operands ('%s')", argv[optind]);
    }
    if (o.tee == NULL || (strcmp(o.tee, "snp") != 0 && strcmp(o.tee, "tdx") != 0)) {
        return cvma_cli_usage_error("launch", "--tee snp|tdx is required");
    }
    const bool snp = strcmp(o.tee, "snp") == 0;
    if (o.ovmf == NULL && o.svsm == NULL) {
        return cvma_cli_usage_error("launch", "--ovmf FILE is required");
    }
    if (o.vcpus == NULL || o.memory == NULL) {
        return cvma_cli_usage_error("launch", "--vcpus N and --memory SIZE are required");
    }
    if (!cvma_cli_uint(o.vcpus, 1, 512, &n)) {
        return cvma_cli_usage_error("launch", "--vcpus: a number 1..512, not '%s'", o.vcpus);
    }
    o.n_vcpus = (unsigned)n;
    /* Whole MiB, at most 16 TiB: given to -m and to the memory backend's size alike. */
    int mrc = cvma_cli_guest_memory("launch", o.memory, &n);
    if (mrc != 0) {
        return mrc;
    }
    o.memory_mib = n >> 20;
    memory_string(o.memory_mib, o.memory_arg, sizeof o.memory_arg);
    if (o.kernel == NULL && (o.initrd != NULL || o.append != NULL)) {
        return cvma_cli_usage_error("launch", "--initrd and --append need --kernel");
    }
    if (!snp && (o.svsm != NULL || o.vcpu_type != NULL || o.features != NULL)) {
        return cvma_cli_usage_error("launch",
                                    "--svsm, --vcpu-type and --guest-features are for --tee snp");
    }
    if (o.svsm != NULL && o.ovmf != NULL) {
        return cvma_cli_usage_error("launch", "--svsm: the IGVM image holds the firmware; "
                                              "drop --ovmf");
    }
    if (o.features != NULL && !cvma_cli_hex64(o.features, &o.guest_features)) {
        return cvma_cli_usage_error("launch", "--guest-features: 1 to 16 hex digits, not '%s'",
                                    o.features);
    }
    if ((o.guest_features & 1) == 0) {
        return cvma_cli_usage_error("launch",
                                    "--guest-features %s lacks SNPActive (bit 0), which every "
                                    "SEV-SNP guest has",
                                    o.features);
    }

    if (!probe(o.qemu, &caps, err, sizeof err)) {
        cvma_cli_err("cvmattest launch: %s\n", err);
        goto out;
    }
    if (snp && !caps.sev_snp) {
        cvma_cli_err("cvmattest launch: %s has no sev-snp-guest object: SEV-SNP guests need QEMU "
                     "9.1 or newer (or AMD's SNP tree)\n",
                     caps.version);
        goto out;
    }
    if (!snp && !caps.tdx) {
        cvma_cli_err("cvmattest launch: %s has no tdx-guest object: TDX guests need QEMU 10.1 or "
                     "newer (or a distribution's TDX build)\n",
                     caps.version);
        goto out;
    }
    if (o.svsm != NULL && !caps.igvm) {
        cvma_cli_err("cvmattest launch: %s has no igvm-cfg object: --svsm needs QEMU 10.0 or newer "
                     "built with IGVM\n",
                     caps.version);
        goto out;
    }
    if (!expected_measurement(&o, &caps, snp, mline, sizeof mline, err, sizeof err)) {
        cvma_cli_err("cvmattest launch: %s\n", err);
        goto out;
    }

    add(&a, o.qemu);
    add(&a, "-name");
    add(&a, snp ? "cvm-snp" : "cvm-tdx");
    add(&a, "-accel");
    add(&a, "kvm");
    add(&a, "-machine");
    if (snp) {
        build_snp(&a, &o, &caps);
    } else {
        build_tdx(&a, &o, &caps);
    }
    add(&a, "-smp");
    addf(&a, "%u", o.n_vcpus);
    add(&a, "-m");
    add(&a, o.memory_arg);
    if (o.ovmf != NULL) {
        /* One image with -bios: kernel hashes (SNP) and TDVF (TDX) need it, not pflash. */
        add(&a, "-bios");
        add(&a, o.ovmf);
    }
    if (o.kernel != NULL) {
        add(&a, "-kernel");
        add(&a, o.kernel);
        if (o.initrd != NULL) {
            add(&a, "-initrd");
            add(&a, o.initrd);
        }
        if (o.append != NULL) {
            add(&a, "-append");
            add(&a, o.append);
        }
    }
    /* vsock for the attestation agent (the host is CID 2; the guest gets 3) */
    add(&a, "-device");
    add(&a, "vhost-vsock-pci,guest-cid=3");
    add(&a, "-nographic");
    add(&a, "-nodefaults");
    add(&a, "-serial");
    add(&a, "mon:stdio");
    if (a.oom) {
        cvma_cli_err("cvmattest launch: out of memory\n");
        goto out;
    }

    bool kvm_ok = access(o.kvm, R_OK | W_OK) == 0;
    if (o.print) {
        printf("# %s\n%s\n", caps.version, mline);
        for (size_t i = 0; i < a.n; i++) {
            print_quoted(a.v[i], stdout);
            bool opt_next = i + 1 < a.n && a.v[i + 1][0] == '-' && a.v[i + 1][1] != '\0';
            fputs(i + 1 == a.n ? "\n" : opt_next ? " \\\n    " : " ", stdout);
        }
        if (!kvm_ok) {
            cvma_cli_err("cvmattest launch: note: %s is not usable here (%s): this command "
                         "line will not run on this host\n",
                         o.kvm, strerror(errno));
        }
        rc = EXIT_OK;
        goto out;
    }
    if (!kvm_ok) {
        cvma_cli_err("cvmattest launch: KVM is not available (%s: %s): load kvm_amd or kvm_intel, "
                     "enable virtualization (and SEV-SNP or TDX) in the BIOS, and run as a member "
                     "of group kvm; nothing was launched\n",
                     o.kvm, strerror(errno));
        goto out;
    }
    cvma_cli_err("%s\n", mline);
    fflush(NULL);
    execvp(a.v[0], a.v);
    cvma_cli_err("cvmattest launch: cannot execute %s: %s\n", a.v[0], strerror(errno));
out:
    argvec_free(&a);
    return rc;
}
