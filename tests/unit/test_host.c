/*
 * Host readiness checks (src/host/host.h) on trees written here: a bare tree decides nothing
 * (CPUID and MSR checks unknown, never fail), an MSR file read under a tree that lacks the msr
 * module is unknown, and a present register decides. Input that cannot be read (a CPUID leaf,
 * an ioctl stand-in, a QEMU or OVMF file, a module parameter) is unknown, never fail; reads stay
 * inside the tree (symlinks, the kernel release, no openat2: refused); text from the tree is
 * escaped; a host with only unknown checks left is undecided, not failed. The OVMF checks read
 * the image's metadata, not the GUID alone (Debian's code-only OVMF_CODE.fd is no TDVF).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/host.h"
#include "testutil.h"

static void put(const char *root, const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + strlen(root) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Whether this kernel (and whatever runs the test: valgrind 3.19 does not know the call) has
 * openat2, which reading a tree needs. */
static bool have_openat2(void)
{
#ifdef SYS_openat2
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
    long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
    if (fd >= 0) {
        close((int)fd);
        return true;
    }
    return errno != ENOSYS && errno != EPERM;
#else
    return false;
#endif
}

/* Runs the checks, which must run (skipped where a tree cannot be read: no openat2). */
static struct cvma_host_report *run(const struct cvma_host_options *o)
{
    struct cvma_host_report *r = NULL;
    char err[256];
    enum cvma_status st = cvma_host_check_run(o, &r, err, sizeof err);
    if (st != CVMA_OK && !have_openat2()) {
        fprintf(stderr, "skip: openat2 not available here (Linux 5.6 or newer): %s\n", err);
        skip();
    }
    assert_int_equal(st, CVMA_OK);
    assert_non_null(r);
    return r;
}

static enum cvma_host_state state(const struct cvma_host_report *r, const char *id)
{
    const struct cvma_host_check *k = cvma_host_report_find(r, id);
    assert_non_null(k);
    return k->state;
}

static void test_host_empty_tree_is_unknown_not_fail(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    assert_non_null(r);
    assert_false(r->snp_ready);
    assert_false(r->tdx_ready);
    assert_int_equal(state(r, "snp.cpu.vendor"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "tdx.bios.keyids"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "snp.kernel.version"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "snp.firmware.dev_sev"), CVMA_HOST_FAIL);
    assert_int_equal(state(r, "tdx.attestation.pccs"), CVMA_HOST_UNKNOWN);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

static void test_host_msr_needs_the_module(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    put(dir, "cvmattest-msr/0xc0010010", "1800000\n");
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    assert_non_null(r);
    /* no dev/cpu/0/msr: the module is not loaded, so the value is not trusted to be there */
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_UNKNOWN);
    assert_non_null(strstr(cvma_host_report_find(r, "snp.bios.smee")->fix_hint, "modprobe msr"));
    cvma_host_report_free(r);

    put(dir, "dev/cpu/0/msr", "");
    r = run(&o);
    assert_non_null(r);
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_PASS);
    assert_int_equal(state(r, "snp.bios.snp_en"), CVMA_HOST_PASS);
    /* RMP MSRs absent: not readable, unknown */
    assert_int_equal(state(r, "snp.bios.rmp"), CVMA_HOST_UNKNOWN);
    cvma_host_report_free(r);

    put(dir, "cvmattest-msr/0xc0010010", "800000\n");
    r = run(&o);
    assert_non_null(r);
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_PASS);
    assert_int_equal(state(r, "snp.bios.snp_en"), CVMA_HOST_FAIL);
    /* groups combine: fail beats unknown */
    assert_int_equal(state(r, "snp.bios"), CVMA_HOST_FAIL);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

static void test_host_json_is_a_tree(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    assert_non_null(r);
    json_t *j = cvma_host_report_json(r);
    assert_non_null(j);
    json_t *tests = json_object_get(j, "tests");
    assert_int_equal(json_array_size(tests), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tests, 0), "id")), "snp");
    assert_true(json_array_size(json_object_get(json_array_get(tests, 0), "sub")) > 0);
    /* both TEEs fail a check here (no dev/sev, no kvm_intel): not ready, and decided */
    assert_false(json_boolean_value(json_object_get(j, "undecided")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "snp"), "status")),
                        "fail");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "tdx"), "status")),
                        "fail");
    json_t *sum = json_object_get(j, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "total")),
                     json_integer_value(json_object_get(sum, "passed")) +
                             json_integer_value(json_object_get(sum, "failed")) +
                             json_integer_value(json_object_get(sum, "unknown")));
    json_decref(j);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

static const struct cvma_host_check *check(const struct cvma_host_report *r, const char *id)
{
    const struct cvma_host_check *k = cvma_host_report_find(r, id);
    assert_non_null(k);
    return k;
}

/* CPUID leaf 0 of an AMD processor (EAX EBX ECX EDX: "Auth" "cAMD" "enti") */
#define CPUID0_AMD "00000010 68747541 444d4163 69746e65\n"

/* A CPUID leaf 1 that cannot be read leaves family, model and the hypervisor bit unknown: the
 * checks that need them are unknown (saying leaf 1 could not be read), never pass on zeros. A
 * leaf that cannot be read is unknown for its own checks only. */
static void test_host_cpuid_leaf1_unreadable_is_unknown(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    put(dir, "cvmattest-cpuid/0x00000000", CPUID0_AMD);
    put(dir, "cvmattest-cpuid/0x00000001", "zz zz zz zz\n");
    put(dir, "cvmattest-cpuid/0x8000001f", "zz\n");
    put(dir, "proc/cpuinfo", "processor\t: 0\nmicrocode\t: 0xa101154\n");
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    assert_non_null(r);
    static const char *const ids[] = {"snp.cpu.bare_metal", "snp.cpu.generation",
                                      "snp.firmware.microcode", "tdx.cpu.bare_metal",
                                      "tdx.cpu.generation"};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        const struct cvma_host_check *x = check(r, ids[k]);
        assert_int_equal(x->state, CVMA_HOST_UNKNOWN);
        assert_non_null(strstr(x->message, "CPUID leaf 0x1 could not be read"));
        assert_non_null(strstr(x->fix_hint, "cvmattest-cpuid/0x00000001"));
    }
    assert_int_equal(state(r, "snp.cpu.vendor"), CVMA_HOST_PASS);
    assert_int_equal(state(r, "snp.cpu.sev_snp"), CVMA_HOST_UNKNOWN);
    assert_non_null(strstr(check(r, "snp.cpu.sev_snp")->message, "leaf 0x8000001f"));
    /* leaf 0x8000001F is not leaf 0: the TDX vendor check still reads the vendor */
    assert_int_equal(state(r, "tdx.cpu.vendor"), CVMA_HOST_FAIL);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* Stand-in values are read strictly: exactly the values expected, each an optional 0x and hex
 * digits that fit (an MSR 64 bits, a CPUID register 32), blanks around them and nothing else.
 * A bare "0x", a sign, a value too wide, a missing or extra word are unknown, saying why,
 * never a value decided on (0x read as 0, -1 as 0xffffffff, 100a10f11 cut to 32 bits). */
static void test_host_standin_values_read_strictly(void **s)
{
    (void)s;
    static const char *const bad_msr[] = {
            "0x\n", "-1\n",   "+800000\n", "1800000 junk\n", "0x1 0x2\n", "10000000000000000\n",
            "\n",   "0x0x1\n"};
    static const char *const bad_cpuid[] = {"100a10f11 0 0 0\n", "-1 -1 -1 -1\n",
                                            "ffffffff ffffffff ffffffff ffffffff junk\n",
                                            "ffffffff ffffffff ffffffff\n", "0x 0 0 0\n"};
    char *dir = tu_tmpdir();
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    put(dir, "dev/cpu/0/msr", "");
    put(dir, "cvmattest-cpuid/0x00000000", CPUID0_AMD);
    for (size_t k = 0; k < sizeof bad_msr / sizeof bad_msr[0]; k++) {
        put(dir, "cvmattest-msr/0xc0010010", bad_msr[k]);
        struct cvma_host_report *r = run(&o);
        const struct cvma_host_check *x = check(r, "snp.bios.smee");
        assert_int_equal(x->state, CVMA_HOST_UNKNOWN);
        assert_non_null(strstr(x->message, "not one hex value of at most 64 bits"));
        assert_non_null(strstr(x->fix_hint, "cvmattest-msr/0xc0010010"));
        cvma_host_report_free(r);
    }
    /* blanks around a value, and 0x, are fine */
    put(dir, "cvmattest-msr/0xc0010010", " 0x0000000000800000 \r\n");
    struct cvma_host_report *r = run(&o);
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_PASS);
    cvma_host_report_free(r);
    for (size_t k = 0; k < sizeof bad_cpuid / sizeof bad_cpuid[0]; k++) {
        put(dir, "cvmattest-cpuid/0x00000001", bad_cpuid[k]);
        put(dir, "cvmattest-cpuid/0x8000001f", bad_cpuid[k]);
        r = run(&o);
        const struct cvma_host_check *x = check(r, "snp.cpu.bare_metal");
        assert_int_equal(x->state, CVMA_HOST_UNKNOWN);
        assert_non_null(strstr(x->message, "not four hex values (EAX EBX ECX EDX) of at most 32"));
        assert_int_equal(state(r, "snp.cpu.sev_snp"), CVMA_HOST_UNKNOWN);
        cvma_host_report_free(r);
    }
    put(dir, "cvmattest-cpuid/0x8000001f", "0000001f 0 0 0\n");
    r = run(&o);
    assert_int_equal(state(r, "snp.cpu.sev_snp"), CVMA_HOST_PASS);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* Under --root every path stays in the tree: an absolute symlink resolves inside it (here to a
 * file the tree does not have), and ".." in a relative one stops at the tree's top. Neither
 * reads the files outside that they point at. */
static void test_host_root_symlinks_stay_in_the_tree(void **s)
{
    (void)s;
    char *out = tu_tmpdir(), *dir = tu_tmpdir(), link[1024], target[1024];
    put(out, "osrelease", "9.9.0-outside\n");
    put(out, "boot/config-6.11.0-t", "CONFIG_KVM=y\nCONFIG_KVM_AMD=y\n");
    put(dir, "proc/sys/kernel/x", "");
    snprintf(link, sizeof link, "%s/proc/sys/kernel/osrelease", dir);
    snprintf(target, sizeof target, "%s/osrelease", out);
    assert_int_equal(symlink(target, link), 0); /* absolute, to the file outside */
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    const struct cvma_host_check *k = check(r, "snp.kernel.version");
    assert_int_equal(k->state, CVMA_HOST_UNKNOWN);
    assert_null(strstr(k->message, "9.9.0"));
    cvma_host_report_free(r);

    assert_int_equal(unlink(link), 0);
    put(dir, "proc/sys/kernel/osrelease", "6.11.0-t\n");
    /* boot -> ../<outside>/boot: one ".." more than the tree has */
    const char *base = strrchr(out, '/') + 1;
    snprintf(link, sizeof link, "%s/boot", dir);
    snprintf(target, sizeof target, "../%s/boot", base);
    assert_int_equal(symlink(target, link), 0);
    r = run(&o);
    assert_int_equal(state(r, "snp.kernel.version"), CVMA_HOST_PASS);
    assert_int_equal(state(r, "snp.kernel.config.KVM"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "snp.kernel.config.KVM_AMD"), CVMA_HOST_UNKNOWN);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    assert_true(tu_rmtree(out));
    free(dir);
    free(out);
}

/* The kernel release names /boot/config-RELEASE only when it is one path component: a release
 * with '/' (here leading to a config elsewhere in the tree) is not followed. */
static void test_host_release_with_slash_names_no_file(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    put(dir, "proc/sys/kernel/osrelease", "x/../../cfg\n");
    put(dir, "boot/config-x/keep", "");
    put(dir, "cfg", "CONFIG_KVM=y\nCONFIG_KVM_AMD=y\n");
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    const struct cvma_host_check *k = check(r, "snp.kernel.config.KVM");
    assert_int_equal(k->state, CVMA_HOST_UNKNOWN);
    assert_non_null(strstr(k->message, "is not a file name"));
    cvma_host_report_free(r);
    static const char *const bad[] = {"..\n", ".\n"};
    for (size_t n = 0; n < 2; n++) {
        put(dir, "proc/sys/kernel/osrelease", bad[n]);
        r = run(&o);
        assert_non_null(strstr(check(r, "snp.kernel.config.KVM")->message, "is not a file name"));
        cvma_host_report_free(r);
    }
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* Where openat2 is not available (here a seccomp filter answers ENOSYS) a tree is refused
 * with a reason, never read unconfined. In a child, which the filter stays with. */
static void test_host_root_refused_without_openat2(void **s)
{
    (void)s;
#if defined(__x86_64__) && defined(SYS_openat2)
    char *dir = tu_tmpdir();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
            _exit(77);
        }
        struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
        struct cvma_host_report *r = NULL;
        char err[256];
        enum cvma_status st = cvma_host_check_run(&o, &r, err, sizeof err);
        _exit(st == CVMA_E_IO && r == NULL && strstr(err, "openat2") != NULL &&
                              strstr(err, strerror(ENOSYS)) != NULL
                      ? 0
                      : 1);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(tu_rmtree(dir));
    free(dir);
    assert_true(WIFEXITED(ws));
    if (WEXITSTATUS(ws) == 77) {
        skip(); /* no seccomp here */
    }
    assert_int_equal(WEXITSTATUS(ws), 0);
#else
    skip();
#endif
}

/* A root the report cannot keep whole, or an empty one, is refused. */
static void test_host_root_too_long_is_refused(void **s)
{
    (void)s;
    char root[400], err[256];
    memset(root, 'a', sizeof root - 1);
    root[0] = '/';
    root[sizeof root - 1] = '\0';
    struct cvma_host_options o = {.root = root, .pccs_url = "none"};
    struct cvma_host_report *r = NULL;
    assert_int_equal(cvma_host_check_run(&o, &r, err, sizeof err), CVMA_E_USAGE);
    assert_null(r);
    o.root = "";
    assert_int_equal(cvma_host_check_run(&o, &r, err, sizeof err), CVMA_E_USAGE);
    assert_null(r);
}

/* Writes len bytes to root/rel. */
static void put_bytes(const char *root, const char *rel, const void *p, size_t len)
{
    char path[512];
    put(root, rel, "");
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    fclose(f);
}

/* With dev/sev in the tree, a stand-in for an ioctl's answer that is missing or short is input
 * that could not be read: the firmware checks are unknown, never "/dev/sev not present" or a
 * failure of the firmware. Whole stand-ins decide. */
static void test_host_sev_standins_missing_or_short_are_unknown(void **s)
{
    (void)s;
    static const char *const fw[] = {"snp.firmware.version", "snp.firmware.snp_init",
                                     "snp.firmware.tcb"};
    char *dir = tu_tmpdir();
    put(dir, "dev/sev", "");
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    assert_int_equal(state(r, "snp.firmware.dev_sev"), CVMA_HOST_PASS);
    for (size_t k = 0; k < 3; k++) {
        const struct cvma_host_check *x = check(r, fw[k]);
        assert_int_equal(x->state, CVMA_HOST_UNKNOWN);
        assert_non_null(strstr(x->message, "cvmattest-ioctl/"));
        assert_non_null(strstr(x->fix_hint, "cvmattest-ioctl/"));
    }
    cvma_host_report_free(r);

    /* SEV 1.55 state 1; SNP 1.55, INIT, RMP initialized, current = reported TCB */
    uint8_t sev[12] = {1, 55, 1}, snp[32] = {1, 55, 1, 1};
    snp[16] = snp[24] = 0x09;
    put_bytes(dir, "cvmattest-ioctl/sev_platform_status", sev, 2);
    put_bytes(dir, "cvmattest-ioctl/snp_platform_status", snp, 31);
    r = run(&o);
    assert_int_equal(state(r, "snp.firmware.dev_sev"), CVMA_HOST_PASS);
    for (size_t k = 0; k < 3; k++) {
        const struct cvma_host_check *x = check(r, fw[k]);
        assert_int_equal(x->state, CVMA_HOST_UNKNOWN);
        assert_non_null(strstr(x->message, "shorter than"));
    }
    cvma_host_report_free(r);

    put_bytes(dir, "cvmattest-ioctl/sev_platform_status", sev, sizeof sev);
    put_bytes(dir, "cvmattest-ioctl/snp_platform_status", snp, sizeof snp);
    r = run(&o);
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(state(r, fw[k]), CVMA_HOST_PASS);
    }
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* A QEMU or OVMF file that is there but cannot be read (a directory, a file over the 512 MiB
 * the check reads) may carry the TEE: unknown, never "lacks the object" or "no GUID". */
static void test_host_vmm_file_unreadable_is_unknown(void **s)
{
    (void)s;
    char *dir = tu_tmpdir(), path[512];
    put(dir, "usr/bin/qemu-system-x86_64/x", "");
    put(dir, "usr/share/ovmf/OVMF.fd", "");
    snprintf(path, sizeof path, "%s/usr/share/ovmf/OVMF.fd", dir);
    assert_int_equal(truncate(path, (off_t)513 << 20), 0); /* sparse: nothing written */
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    const struct cvma_host_check *k = check(r, "snp.vmm.qemu");
    assert_int_equal(k->state, CVMA_HOST_UNKNOWN);
    assert_non_null(strstr(k->message, "/usr/bin/qemu-system-x86_64 could not be read"));
    k = check(r, "tdx.vmm.ovmf");
    assert_int_equal(k->state, CVMA_HOST_UNKNOWN);
    assert_non_null(strstr(k->message, "larger than 512 MiB"));
    cvma_host_report_free(r);

    /* one readable image without the GUID and one that cannot be read: still not known */
    put(dir, "usr/share/OVMF/OVMF_CODE.fd", "no guid here");
    r = run(&o);
    assert_int_equal(state(r, "snp.vmm.ovmf"), CVMA_HOST_UNKNOWN);
    cvma_host_report_free(r);
    assert_int_equal(unlink(path), 0);
    r = run(&o);
    assert_int_equal(state(r, "snp.vmm.ovmf"), CVMA_HOST_FAIL);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* Copies a file of this machine into the tree; false (nothing written) when it is absent. */
static bool copy_in(const char *root, const char *from, const char *rel)
{
    struct cvma_buf b = {0};
    if (cvma_file_read(from, 64u << 20, &b) != CVMA_OK) {
        return false;
    }
    put_bytes(root, rel, b.p, b.len);
    cvma_buf_free(&b);
    return true;
}

/* The OVMF checks read the metadata as cvmattest measure does, not the GUID alone: Debian's
 * code-only OVMF_CODE.fd names TDX metadata whose sections lie past its end (the offsets of
 * the unified image), so tdx.vmm.ovmf fails on it and says why; its SEV metadata lies within
 * it. The unified OVMF.fd passes both. (tests/e2e/host_check.sh does the same with images
 * built there, on any machine.) */
static void test_host_ovmf_code_only_is_not_tdx_capable(void **s)
{
    (void)s;
    const char *code = "/usr/share/OVMF/OVMF_CODE.fd", *unified = "/usr/share/ovmf/OVMF.fd";
    char *dir = tu_tmpdir();
    if (!copy_in(dir, code, "usr/share/OVMF/OVMF_CODE.fd")) {
        fprintf(stderr, "SKIP: %s not installed (Debian's ovmf package; make deps)\n", code);
        assert_true(tu_rmtree(dir));
        free(dir);
        skip();
    }
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    const struct cvma_host_check *k = check(r, "tdx.vmm.ovmf");
    assert_int_equal(k->state, CVMA_HOST_FAIL);
    assert_non_null(strstr(k->message, "/usr/share/OVMF/OVMF_CODE.fd: TDX metadata section"));
    assert_non_null(strstr(k->message, "code-only"));
    assert_non_null(strstr(k->fix_hint, "unified"));
    k = check(r, "snp.vmm.ovmf");
    assert_int_equal(k->state, CVMA_HOST_PASS);
    assert_non_null(strstr(k->message, "carries SEV metadata"));
    cvma_host_report_free(r);

    if (!copy_in(dir, unified, "usr/share/ovmf/OVMF.fd")) {
        fprintf(stderr, "SKIP: %s not installed (Debian's ovmf package; make deps)\n", unified);
        assert_true(tu_rmtree(dir));
        free(dir);
        skip();
    }
    r = run(&o);
    k = check(r, "tdx.vmm.ovmf");
    assert_int_equal(k->state, CVMA_HOST_PASS);
    assert_non_null(strstr(k->message, "/usr/share/ovmf/OVMF.fd carries TDX metadata"));
    assert_int_equal(state(r, "snp.vmm.ovmf"), CVMA_HOST_PASS);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* A kvm module parameter that is there but cannot be read is unknown; an absent one (module
 * loaded) and an absent module still fail. */
static void test_host_kvm_param_unreadable_is_unknown(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    put(dir, "sys/module/kvm_amd/parameters/sev/x", ""); /* a directory: read says EISDIR */
    put(dir, "sys/module/kvm_amd/parameters/sev_snp", "Y\n");
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    const struct cvma_host_check *k = check(r, "snp.kernel.kvm_amd.sev");
    assert_int_equal(k->state, CVMA_HOST_UNKNOWN);
    assert_non_null(strstr(k->message, "not readable"));
    assert_int_equal(state(r, "snp.kernel.kvm_amd.sev_snp"), CVMA_HOST_PASS);
    k = check(r, "snp.kernel.kvm_amd.sev_es");
    assert_int_equal(k->state, CVMA_HOST_FAIL);
    assert_non_null(strstr(k->message, "parameter absent"));
    k = check(r, "tdx.kernel.kvm_intel.tdx");
    assert_int_equal(k->state, CVMA_HOST_FAIL);
    assert_non_null(strstr(k->message, "not loaded"));
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* The message (a node of the JSON tree) of check id, or NULL. */
static const char *json_message(json_t *node, const char *id)
{
    if (strcmp(json_string_value(json_object_get(node, "id")), id) == 0) {
        return json_string_value(json_object_get(node, "message"));
    }
    json_t *sub = json_object_get(node, "sub");
    for (size_t k = 0; k < json_array_size(sub); k++) {
        const char *m = json_message(json_array_get(sub, k), id);
        if (m != NULL) {
            return m;
        }
    }
    return NULL;
}

/* Text from the tree (kernel release, CPUID vendor, module parameters) is shown escaped: control
 * bytes, NUL and invalid UTF-8 as \xNN, in the report and in its JSON, where the message stays. */
static void test_host_tree_text_is_escaped(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    put(dir, "proc/sys/kernel/osrelease", "6.1\x1b[31m\xff\n");
    /* vendor bytes (EBX EDX ECX) "A\x01\x1b\x00" "enti" "cAMD" */
    put(dir, "cvmattest-cpuid/0x00000000", "00000010 001b0141 444d4163 69746e65\n");
    put(dir, "sys/module/kvm_intel/parameters/tdx", "N\x07\xc3(\n");
    /* family 19h model 11h; brand "AMD EPYC \x1b[2J 9654\xff" (leaves 0x80000002..4, NUL-padded) */
    put(dir, "cvmattest-cpuid/0x00000001", "00a10f11 0 0 0\n");
    put(dir, "cvmattest-cpuid/0x80000002", "20444d41 43595045 325b1b20 3639204a\n");
    put(dir, "cvmattest-cpuid/0x80000003", "00ff3435 00000000 00000000 00000000\n");
    put(dir, "cvmattest-cpuid/0x80000004", "00000000 00000000 00000000 00000000\n");
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = run(&o);
    const struct cvma_host_check *k = check(r, "tdx.kernel.version");
    assert_int_equal(k->state, CVMA_HOST_FAIL);
    assert_string_equal(k->message, "6.1\\x1b[31m\\xff (< 6.16)");
    assert_string_equal(check(r, "tdx.cpu.vendor")->message, "A\\x01\\x1b\\x00enticAMD");
    assert_string_equal(check(r, "tdx.kernel.kvm_intel.tdx")->message,
                        "kvm_intel.tdx=N\\x07\\xc3(");
    /* the brand string as the other host text: \xNN, not '?' */
    assert_string_equal(check(r, "tdx.cpu.generation")->message,
                        "AMD EPYC \\x1b[2J 9654\\xff (family 0x19 model 0x11)");
    json_t *j = cvma_host_report_json(r);
    assert_non_null(j);
    json_t *tdx = json_array_get(json_object_get(j, "tests"), 1);
    const char *m = json_message(tdx, "tdx.kernel.version");
    assert_non_null(m);
    assert_string_equal(m, k->message);
    assert_non_null(json_message(tdx, "tdx.cpu.vendor"));
    assert_non_null(json_message(tdx, "tdx.kernel.kvm_intel.tdx"));
    json_decref(j);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* A report whose SEV-SNP checks pass but one, which is unknown, and whose TDX fails: undecided.
 * The text names the unknown check and TDX's failure, never "neither ... is available"; the
 * JSON says "undecided": true and SEV-SNP's status unknown, not ready. */
static void test_host_undecided_is_not_a_failure(void **s)
{
    (void)s;
    struct cvma_host_check checks[5] = {
            {.id = "snp", .name = "SEV-SNP host", .category = "tee", .parent = -1, .group = true},
            {.id = "snp.cpu.vendor", .name = "AMD CPU", .category = "cpu_support", .parent = 0},
            {.id = "snp.firmware.microcode",
             .name = "Microcode",
             .category = "firmware",
             .parent = 0,
             .state = CVMA_HOST_UNKNOWN,
             .message = "no figure for this part"},
            {.id = "tdx",
             .name = "TDX host",
             .category = "tee",
             .parent = -1,
             .group = true,
             .state = CVMA_HOST_FAIL},
            {.id = "tdx.cpu.vendor",
             .name = "Intel CPU",
             .category = "cpu_support",
             .parent = 3,
             .state = CVMA_HOST_FAIL,
             .message = "AuthenticAMD"},
    };
    checks[0].state = CVMA_HOST_UNKNOWN;
    struct cvma_host_report r = {.checks = checks,
                                 .n = 5,
                                 .cap = 5,
                                 .snp_state = CVMA_HOST_UNKNOWN,
                                 .tdx_state = CVMA_HOST_FAIL,
                                 .undecided = true,
                                 .tdx_attestation = CVMA_HOST_UNKNOWN,
                                 .root = "/"};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cvma_host_report_print(&r, f);
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(text, "SEV-SNP host: UNDECIDED"));
    assert_non_null(strstr(text, "\nundecided: SEV-SNP failed no check"));
    assert_non_null(
            strstr(text, "\n  snp.firmware.microcode: Microcode: no figure for this part\n"));
    assert_non_null(strstr(text, "\nTDX is not available on this host:\n  tdx.cpu.vendor: "));
    assert_null(strstr(text, "neither"));
    free(text);
    json_t *j = cvma_host_report_json(&r);
    assert_non_null(j);
    assert_true(json_boolean_value(json_object_get(j, "undecided")));
    assert_false(json_boolean_value(json_object_get(json_object_get(j, "snp"), "ready")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "snp"), "status")),
                        "unknown");
    json_decref(j);
}

/* A PCCS that refuses connections (a loopback port bound, not listening) fails the check with
 * the client's reason naming the probed URL; the path is joined to a base URL ending in '/'
 * without a second '/'. */
static void test_host_pccs_unreachable_fails(void **s)
{
    (void)s;
    char url[64], want[128];
    int port = 0;
    int fd = tu_refusing_port(&port);
    char *dir = tu_tmpdir();
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);

    struct cvma_host_options o = {.root = dir, .pccs_url = url, .pccs_timeout_s = 2};
    struct cvma_host_report *r = run(&o);
    assert_non_null(r);
    const struct cvma_host_check *k = cvma_host_report_find(r, "tdx.attestation.pccs");
    assert_non_null(k);
    assert_int_equal(k->state, CVMA_HOST_FAIL);
    snprintf(want, sizeof want, "HEAD %s/sgx/certification/v4/rootcacrl: ", url);
    assert_non_null(strstr(k->message, want));
    assert_non_null(strstr(k->message, "after 1 attempt")); /* a probe is not retried */
    assert_non_null(strstr(k->fix_hint, "--pccs-url"));
    cvma_host_report_free(r);

    char slash[80];
    snprintf(slash, sizeof slash, "%s/", url);
    o.pccs_url = slash;
    r = run(&o);
    assert_non_null(r);
    k = cvma_host_report_find(r, "tdx.attestation.pccs");
    assert_non_null(k);
    assert_int_equal(k->state, CVMA_HOST_FAIL);
    assert_non_null(strstr(k->message, want));
    assert_null(strstr(k->message, "//sgx"));
    cvma_host_report_free(r);

    close(fd);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* A PCCS URL that is not a base URL (cvma_http_base_url_ok) is a usage error, before anything
 * is read or requested: user information (its password is not quoted), a query or a fragment
 * (the path would be joined into them), a space or CR/LF, another scheme. */
static void test_host_pccs_url_not_a_base_url_is_refused(void **s)
{
    (void)s;
    static const char *const bad[] = {
            "https://user:s3cret@127.0.0.1:9/",
            "https://127.0.0.1:9/?key=abc",
            "https://127.0.0.1:9/#frag",
            "http://127.0.0.1:9/a\r\nX-Injected: 1",
            "http://127.0.0.1:9/a b",
            "file:///etc/passwd",
            "ftp://127.0.0.1",
            "",
    };
    char *dir = tu_tmpdir();
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct cvma_host_options o = {.root = dir, .pccs_url = bad[k], .pccs_timeout_s = 1};
        struct cvma_host_report *r = (struct cvma_host_report *)1;
        char err[256];
        assert_int_equal(cvma_host_check_run(&o, &r, err, sizeof err), CVMA_E_USAGE);
        assert_null(r);
        assert_non_null(strstr(err, "--pccs-url must be"));
        assert_null(strstr(err, "s3cret"));
    }
    assert_true(tu_rmtree(dir));
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_host_empty_tree_is_unknown_not_fail),
            cmocka_unit_test(test_host_msr_needs_the_module),
            cmocka_unit_test(test_host_json_is_a_tree),
            cmocka_unit_test(test_host_pccs_unreachable_fails),
            cmocka_unit_test(test_host_pccs_url_not_a_base_url_is_refused),
            cmocka_unit_test(test_host_cpuid_leaf1_unreadable_is_unknown),
            cmocka_unit_test(test_host_standin_values_read_strictly),
            cmocka_unit_test(test_host_root_symlinks_stay_in_the_tree),
            cmocka_unit_test(test_host_release_with_slash_names_no_file),
            cmocka_unit_test(test_host_root_refused_without_openat2),
            cmocka_unit_test(test_host_root_too_long_is_refused),
            cmocka_unit_test(test_host_sev_standins_missing_or_short_are_unknown),
            cmocka_unit_test(test_host_vmm_file_unreadable_is_unknown),
            cmocka_unit_test(test_host_ovmf_code_only_is_not_tdx_capable),
            cmocka_unit_test(test_host_kvm_param_unreadable_is_unknown),
            cmocka_unit_test(test_host_tree_text_is_escaped),
            cmocka_unit_test(test_host_undecided_is_not_a_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
