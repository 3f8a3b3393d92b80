/*
 * libFuzzer target: what the guest-side collector and the host check read from files the
 * kernel, the firmware or the host write, laid out as the test trees of docs/collect.md and
 * docs/host-check.md in a fresh directory for each input:
 *   0  cvma_collect from a configfs-tsm tree (report/.template: provider, generation, outblob,
 *      auxblob, manifestblob, privlevel_floor, the SVSM service attributes)
 *   1  cvma_collect from a /dev tree (the sev-guest stand-in: the SNP_GET_EXT_REPORT response
 *      and the certificate table; tdx_guest and its TDREPORT)
 *   2  cvma_guest_probe (guest-check) on both trees and a cpuinfo file
 *   3  cvma_host_check_run on a host tree (cpuinfo, the kernel release and its /boot config,
 *      kvm module parameters, CPUID and MSR stand-ins, the /dev/sev PLATFORM_STATUS stand-ins,
 *      QEMU and OVMF binaries, /proc/N/comm), then its JSON and text
 *
 * Input: the selector byte, a flags byte (collect: 1 the SVSM vTPM service report is asked
 * for), then parts until the end, each a tag byte (modulo the selector's file count: the file
 * it becomes), a big-endian u16 length and the file's bytes. The nonce asked for is 64 bytes
 * of 0x5a (seeds: `cvmattest sim snp|tdx --report-data 5a... --tsm-tree --dev-tree`).
 *
 * Checked here:
 *  - evidence collected carries the nonce, read here at the vendor's offsets (SEV-SNP report:
 *    1184 bytes, REPORT_DATA at 0x50; TDX quote v4/v5: in the TD report after the header, and
 *    in v5 the body's type and size), or for the SVSM's service report SHA-512(nonce ||
 *    manifestblob) at VMPL 0 (OpenSSL); its kind is that of the configfs-tsm provider named in
 *    the tree; the certificate table parsed from it holds at most CVMA_COLLECT_MAX_CERTS
 *    entries, each inside the table;
 *  - the collector leaves no entry of its own in the tree (report/ holds .template only);
 *  - guest-check gives back the provider the tree names;
 *  - the host report's JSON, read back, has one state of docs/host-check.md for every check;
 *  - snp.bios.smee is unknown unless the msr module's stand-in is there and the SYSCFG
 *    stand-in is one hex value of at most 64 bits (read here another way), else its bit 23.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "collect/collect.h"
#include "fuzz_check.h"
#include "host/host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { S_TSM, S_DEV, S_GUEST, S_HOST, S_N };

#define TPL "tsm/report/.template/"
static const char *const tsm_files[] = {
        TPL "provider",         TPL "generation",   TPL "outblob",
        TPL "auxblob",          TPL "manifestblob", TPL "privlevel_floor",
        TPL "service_provider", TPL "service_guid", TPL "service_manifest_version",
};
static const char *const dev_files[] = {
        "dev/sev-guest", "dev/sev-guest.ext-report", "dev/sev-guest.certs",
        "dev/tdx_guest", "dev/tdx_guest.report0",    "dev/tpmrm0",
};
/* The files of a host tree (tests/host/mktree.py writes the same paths). */
static const char *const host_files[] = {
        "proc/cpuinfo",
        "proc/sys/kernel/osrelease",
        "boot/config-6.11.0-test",
        "boot/config-6.16.0-test",
        "sys/module/kvm_amd/parameters/sev",
        "sys/module/kvm_amd/parameters/sev_es",
        "sys/module/kvm_amd/parameters/sev_snp",
        "sys/module/kvm_intel/parameters/tdx",
        "sys/module/kvm_intel/parameters/nested",
        "cvmattest-cpuid/0x00000000",
        "cvmattest-cpuid/0x00000001",
        "cvmattest-cpuid/0x00000007",
        "cvmattest-cpuid/0x00000021",
        "cvmattest-cpuid/0x80000000",
        "cvmattest-cpuid/0x80000002",
        "cvmattest-cpuid/0x80000003",
        "cvmattest-cpuid/0x80000004",
        "cvmattest-cpuid/0x8000001f",
        "cvmattest-msr/0xc0010010",
        "cvmattest-msr/0xc0010132",
        "cvmattest-msr/0xc0010133",
        "cvmattest-msr/0xc0010136",
        "cvmattest-msr/0x00000982",
        "cvmattest-msr/0x00001401",
        "cvmattest-msr/0x00000087",
        "dev/cpu/0/msr",
        "dev/sev",
        "cvmattest-ioctl/sev_platform_status",
        "cvmattest-ioctl/snp_platform_status",
        "usr/bin/qemu-system-x86_64",
        "usr/share/ovmf/OVMF.fd",
        "usr/share/OVMF/OVMF_CODE.fd",
        "proc/4242/comm",
        "var/run/tdx-qgs/qgs.socket",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static char root[128];

static void mkdirs(char *path)
{
    for (char *s = strchr(path + strlen(root) + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        (void)mkdir(path, 0700);
        *s = '/';
    }
}

static void put(const char *rel, const uint8_t *p, size_t n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    mkdirs(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
    CHECK(close(fd) == 0);
}

/* rm -rf of dir's contents (the tree is made here: directories and regular files only). */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[400];
    struct stat st;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            empty_dir(path);
            CHECK(rmdir(path) == 0);
        } else {
            CHECK(unlink(path) == 0);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

/* The file's bytes (at most cap), NUL-terminated; false when it cannot be read. */
static bool slurp(const char *rel, char *out, size_t cap, size_t *n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t r = fd >= 0 ? read(fd, out, cap - 1) : -1;
    if (fd >= 0) {
        close(fd);
    }
    *n = r > 0 ? (size_t)r : 0;
    out[*n] = '\0';
    return r >= 0;
}

/* The provider the tree names, as the collector reads an attribute: without its trailing
 * newlines and spaces. */
static void tree_provider(char *out, size_t cap)
{
    size_t n = 0;
    if (!slurp(TPL "provider", out, cap, &n)) {
        out[0] = '\0';
        return;
    }
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) {
        out[--n] = '\0';
    }
}

static void check_collected(const struct cvma_collected *c, const uint8_t nonce[64], bool svsm)
{
    const struct cvma_buf *ev = &c->evidence;
    const uint8_t *rd = NULL;
    CHECK(c->kind != NULL && ev->len > 0);
    if (strcmp(c->kind, "sev-snp") == 0) {
        CHECK(ev->len == 1184);
        rd = ev->p + 0x50;
    } else {
        CHECK(strcmp(c->kind, "tdx") == 0 && ev->len >= 2);
        uint16_t v = fz_le16(ev->p);
        size_t off = 48 + (v == 5 ? 6 : 0) + 520;
        CHECK((v == 4 || v == 5) && ev->len >= off + 64);
        rd = ev->p + off;
    }
    if (svsm) {
        uint8_t want[64];
        unsigned wl = 0;
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        CHECK(m != NULL && EVP_DigestInit_ex(m, EVP_sha512(), NULL) == 1 &&
              EVP_DigestUpdate(m, nonce, 64) == 1 &&
              EVP_DigestUpdate(m, c->manifest.p, c->manifest.len) == 1 &&
              EVP_DigestFinal_ex(m, want, &wl) == 1 && wl == 64);
        EVP_MD_CTX_free(m);
        CHECK(c->manifest.len > 0 && memcmp(rd, want, 64) == 0 && fz_le32(ev->p + 0x30) == 0);
    } else {
        CHECK(memcmp(rd, nonce, 64) == 0);
    }
    CHECK(c->certs.n <= CVMA_COLLECT_MAX_CERTS);
    for (size_t i = 0; i < c->certs.n; i++) {
        const struct cvma_span *d = &c->certs.e[i].data;
        CHECK(d->p >= c->aux.p && d->len <= c->aux.len &&
              (size_t)(d->p - c->aux.p) <= c->aux.len - d->len);
    }
}

/* Only .template is left under report/: the collector removed its entry. */
static void check_no_entry_left(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/tsm/report", root);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        CHECK(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
              strcmp(e->d_name, ".template") == 0);
    }
    if (d != NULL) {
        closedir(d);
    }
}

/* At exit: the tree's directory goes (emptied after each input). */
static void teardown(void)
{
    empty_dir(root);
    (void)rmdir(root);
}

static void run_collect(uint8_t sel, uint8_t flags)
{
    char tsm[200], dev[200], err[512], prov[64];
    struct cvma_collect_opts o;
    struct cvma_collected c;

    snprintf(tsm, sizeof tsm, "%s/tsm", root);
    snprintf(dev, sizeof dev, "%s/dev", root);
    memset(&o, 0, sizeof o);
    memset(&c, 0, sizeof c);
    o.tsm_root = tsm;
    o.dev_root = dev;
    memset(o.nonce, 0x5a, sizeof o.nonce);
    o.nonce_len = sizeof o.nonce;
    o.svsm_vtpm = (flags & 1) != 0;
    tree_provider(prov, sizeof prov);
    enum cvma_status st = cvma_collect(&o, &c, err, sizeof err);
    CHECK(st == CVMA_OK || st == CVMA_REJECTED || st == CVMA_E_IO || st == CVMA_E_NOMEM);
    if (st == CVMA_OK) {
        check_collected(&c, o.nonce, o.svsm_vtpm);
        if (sel == S_TSM && strcmp(c.via, "configfs-tsm") == 0) {
            CHECK(strcmp(c.provider, prov) == 0);
            CHECK(strcmp(c.kind, strcmp(prov, "sev_guest") == 0 ? "sev-snp" : "tdx") == 0);
        }
    }
    check_no_entry_left();
    cvma_collected_free(&c);
}

static void run_guest(void)
{
    char tsm[200], dev[200], cpuinfo[200], prov[64];
    struct cvma_guest_info g;
    snprintf(tsm, sizeof tsm, "%s/tsm", root);
    snprintf(dev, sizeof dev, "%s/dev", root);
    snprintf(cpuinfo, sizeof cpuinfo, "%s/proc/cpuinfo", root);
    tree_provider(prov, sizeof prov);
    cvma_guest_probe(tsm, dev, cpuinfo, &g);
    if (g.tsm_probed) {
        CHECK(strncmp(g.tsm_provider, prov, sizeof g.tsm_provider - 1) == 0);
    }
    (void)cvma_guest_collect_possible(&g);
    check_no_entry_left();
}

/* snp.bios.smee as docs/host-check.md has the SYSCFG stand-in read, worked out here another
 * way (split with strspn/strcspn, digits counted, then strtoull): -1 (unknown) without the msr
 * module's dev/cpu/0/msr, or when cvmattest-msr/0xc0010010 is not one hex value of at most 64
 * bits (an optional 0x, blanks around it, nothing else, at most 256 bytes); else its bit 23. */
static int smee_reference(void)
{
    static const char blanks[] = " \t\r\n", hex[] = "0123456789abcdefABCDEF";
    char path[300], t[1024], digits[17];
    size_t n = 0;
    struct stat st;
    snprintf(path, sizeof path, "%s/dev/cpu/0/msr", root);
    if (stat(path, &st) != 0 || !slurp("cvmattest-msr/0xc0010010", t, sizeof t, &n) || n > 256 ||
        strlen(t) != n) {
        return -1;
    }
    const char *w = t + strspn(t, blanks);
    size_t wl = strcspn(w, blanks);
    if (wl == 0 || w[wl + strspn(w + wl, blanks)] != '\0') {
        return -1; /* no word, or a second one */
    }
    if (wl > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
        w += 2;
        wl -= 2;
    }
    if (strspn(w, hex) != wl) {
        return -1;
    }
    while (wl > 1 && w[0] == '0') {
        w++;
        wl--;
    }
    if (wl > 16) {
        return -1; /* wider than 64 bits */
    }
    memcpy(digits, w, wl);
    digits[wl] = '\0';
    return (int)(strtoull(digits, NULL, 16) >> 23 & 1);
}

static void run_host(void)
{
    struct cvma_host_options o = {root, "none", 1};
    struct cvma_host_report *r = NULL;
    char err[256];
    enum cvma_status st = cvma_host_check_run(&o, &r, err, sizeof err);
    CHECK(st == CVMA_OK || st == CVMA_E_NOMEM);
    if (st != CVMA_OK) {
        return;
    }
    const struct cvma_host_check *smee = cvma_host_report_find(r, "snp.bios.smee");
    int want = smee_reference();
    CHECK(smee != NULL && smee->state == (want < 0    ? CVMA_HOST_UNKNOWN
                                          : want == 1 ? CVMA_HOST_PASS
                                                      : CVMA_HOST_FAIL));
    json_t *j = cvma_host_report_json(r);
    char *text = j != NULL ? json_dumps(j, 0) : NULL;
    json_error_t je;
    json_t *back = text != NULL ? json_loads(text, 0, &je) : NULL;
    CHECK(back != NULL && json_equal(j, back));
    FILE *devnull = fopen("/dev/null", "w");
    CHECK(devnull != NULL);
    cvma_host_report_print(r, devnull);
    fclose(devnull);
    json_decref(back);
    json_decref(j);
    free(text);
    cvma_host_report_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t nothing[1];
    if (size < 2) {
        return 0;
    }
    if (root[0] == '\0') {
        const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
        snprintf(root, sizeof root, "%.60s/fuzz-probes-XXXXXX", tmp);
        CHECK(mkdtemp(root) != NULL);
        CHECK(atexit(teardown) == 0);
    }
    uint8_t sel = data[0] % S_N, flags = data[1];
    const char *const *files = sel == S_HOST ? host_files : sel == S_DEV ? dev_files : tsm_files;
    size_t n_files = sel == S_HOST  ? N_OF(host_files)
                     : sel == S_DEV ? N_OF(dev_files)
                                    : N_OF(tsm_files);
    data += 2;
    size -= 2;
    if (sel != S_HOST) {
        /* Present in every tree: the directories, an inblob to write and an outblob (without
         * one, the collector would wait 10 s for a responder: docs/collect.md). */
        put(TPL "inblob", nothing, 0);
        put(TPL "outblob", nothing, 0);
        put("dev/.keep", nothing, 0);
    }
    while (size >= 3) {
        size_t tag = data[0] % (sel == S_GUEST ? N_OF(tsm_files) + N_OF(dev_files) + 1 : n_files);
        size_t n = (size_t)data[1] << 8 | data[2];
        n = n < size - 3 ? n : size - 3;
        const char *rel = sel != S_GUEST          ? files[tag]
                          : tag < N_OF(tsm_files) ? tsm_files[tag]
                          : tag < N_OF(tsm_files) + N_OF(dev_files)
                                  ? dev_files[tag - N_OF(tsm_files)]
                                  : "proc/cpuinfo";
        put(rel, data + 3, n);
        data += 3 + n;
        size -= 3 + n;
    }
    switch (sel) {
    case S_TSM:
    case S_DEV:
        run_collect(sel, flags);
        break;
    case S_GUEST:
        run_guest();
        break;
    default:
        run_host();
        break;
    }
    empty_dir(root);
    return 0;
}
