/*
 * src/measure: expected launch measurements.
 *   - every row of the shared measure/vectors.tsv (launch digests and an MRTD of Debian 12's
 *     own OVMF, computed by public calculators named in the file) against our value;
 *   - synthetic firmware images built here: the SEV metadata sections of every type, the
 *     kernel hashes page, refusals (no kernel-hashes section, unknown section type, offsets
 *     outside the image, no SEV-ES reset block whatever the vCPUs, a code-only TDVF image,
 *     TDX metadata QEMU refuses), the TDX page orders; their launch digests and MRTDs pinned
 *     to the values of an independent model (tests/measure/launch_model.py);
 *   - RTMR 1 and 2 of a TDX direct kernel boot: the Authenticode digest on synthetic PE
 *     images (the e2e test checks it against osslsigncode's), QEMU's setup-header patch, the
 *     command-line digest and the replay against values computed by Python's hashlib, and
 *     the TDVF event digests against the real events of the GCE CCEL sample.
 */
#include <unistd.h>

#include <openssl/evp.h>

#include "common/reader.h"
#include "eventlog/eventlog.h"
#include "measure/measure.h"
#include "testutil.h"

/* ---- vectors.tsv ---- */

static char *field(char **line)
{
    char *s = *line, *tab = strchr(s, '\t');
    if (tab != NULL) {
        *tab = '\0';
        *line = tab + 1;
    } else {
        *line = s + strlen(s);
    }
    return s;
}

static void sha256_hex(const uint8_t *p, size_t len, char out[65])
{
    uint8_t h[32];
    assert_int_equal(EVP_Digest(p, len, h, NULL, EVP_sha256(), NULL), 1);
    cvma_hex_encode(h, 32, out, 65);
}

static void test_vectors(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *path = tu_path(tu_vectors(), "measure/vectors.tsv");
    struct cvma_buf tsv;
    tu_read(path, &tsv);
    free(path);
    char *text = tu_strndup(tsv.p, tsv.len);
    cvma_buf_free(&tsv);

    int rows = 0, checked = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "kind\t", 5) == 0 || line[0] == '#' || line[0] == '\0') {
            continue;
        }
        rows++;
        char *kind = field(&line), *firmware = field(&line), *fw_sha = field(&line);
        char *vcpus = field(&line), *vcpu_type = field(&line), *vmm = field(&line);
        char *features = field(&line), *kernel_sha = field(&line), *initrd_sha = field(&line);
        char *append = field(&line), *expected = field(&line);
        /* firmware: "debian:ovmf=VERSION:PATH" */
        const char *fw_path = strrchr(firmware, ':');
        assert_non_null(fw_path);
        fw_path++;
        struct cvma_buf fw = {0};
        if (cvma_file_read(fw_path, 64u << 20, &fw) != CVMA_OK) {
            fprintf(stderr, "SKIP: %s not installed (Debian's ovmf package; make deps)\n", fw_path);
            skip();
        }
        char got_sha[65];
        sha256_hex(fw.p, fw.len, got_sha);
        if (strcmp(got_sha, fw_sha) != 0) {
            fprintf(stderr, "SKIP: %s is not the firmware of the vectors (%s, want %s)\n", fw_path,
                    got_sha, fw_sha);
            cvma_buf_free(&fw);
            skip();
        }
        uint8_t got[48], kernel_h[32], initrd_h[32];
        char err[256] = "", hex[97];
        if (strcmp(kind, "snp") == 0) {
            struct cvma_snp_measure_in in = {.ovmf = fw.p, .ovmf_len = fw.len};
            in.vcpus = (unsigned)strtoul(vcpus, NULL, 10);
            in.guest_features = strtoull(features, NULL, 16);
            assert_true(cvma_snp_vmm_from_name(vmm, &in.vmm));
            if (strcmp(vcpu_type, "-") != 0) {
                assert_true(cvma_snp_vcpu_sig(vcpu_type, &in.vcpu_sig));
            }
            if (strcmp(kernel_sha, "-") != 0) {
                tu_hex(kernel_sha, kernel_h, 32);
                in.kernel_sha256 = kernel_h;
                if (strcmp(initrd_sha, "-") != 0) {
                    tu_hex(initrd_sha, initrd_h, 32);
                    in.initrd_sha256 = initrd_h;
                }
                in.append = strcmp(append, "-") != 0 ? append : NULL;
            }
            if (!cvma_measure_snp(&in, got, err, sizeof err)) {
                fail_msg("row %d: %s", rows, err);
            }
        } else {
            assert_string_equal(kind, "tdx");
            assert_string_equal(vmm, "qemu-singlepass");
            if (!cvma_measure_tdx_mrtd(fw.p, fw.len, CVMA_TDX_ORDER_SINGLE, got, err, sizeof err)) {
                fail_msg("row %d: %s", rows, err);
            }
        }
        cvma_hex_encode(got, 48, hex, sizeof hex);
        if (strcmp(hex, expected) != 0) {
            fail_msg("row %d (%s %s %s vcpus %s): got %s, want %s", rows, kind, vmm, vcpu_type,
                     vcpus, hex, expected);
        }
        fprintf(stderr, "ok   row %d: %s %s vcpus=%s %s features=%s\n", rows, kind, vmm, vcpus,
                vcpu_type, features);
        checked++;
        cvma_buf_free(&fw);
    }
    free(text);
    assert_true(rows >= 5);
    assert_int_equal(checked, rows);
}

/* The Debian code-only image: its TDX metadata offsets are those of the unified image. */
static void test_code_only_tdvf_refused(void **state)
{
    (void)state;
    const char *p = "/usr/share/OVMF/OVMF_CODE.fd";
    struct cvma_buf fw = {0};
    if (cvma_file_read(p, 64u << 20, &fw) != CVMA_OK) {
        fprintf(stderr, "SKIP: %s not installed (Debian's ovmf package; make deps)\n", p);
        skip();
    }
    uint8_t mrtd[48];
    char err[256] = "";
    assert_false(cvma_measure_tdx_mrtd(fw.p, fw.len, CVMA_TDX_ORDER_SINGLE, mrtd, err, sizeof err));
    assert_non_null(strstr(err, "past the end"));
    assert_non_null(strstr(err, "code-only"));
    cvma_buf_free(&fw);
}

/* ---- synthetic images ---- */

#define IMG_LEN (64u * 1024u)

static const uint8_t G_FOOTER[16] = {0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
                                     0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
static const uint8_t G_RESET[16] = {0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
                                    0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e};
static const uint8_t G_HASHES[16] = {0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
                                     0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54};
static const uint8_t G_SEV_META[16] = {0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
                                       0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc};
static const uint8_t G_TDX_OFF[16] = {0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
                                      0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};
static const uint8_t G_TDX_META[16] = {0xf3, 0xf9, 0xea, 0xe9, 0x8e, 0x16, 0xd5, 0x44,
                                       0xa8, 0xeb, 0x7f, 0x4d, 0x87, 0x38, 0xf6, 0xae};

struct img {
    uint8_t p[IMG_LEN];
    size_t table_end; /* where the next entry (written backwards) ends */
};

static void img_init(struct img *m)
{
    for (size_t i = 0; i < IMG_LEN; i++) {
        m->p[i] = (uint8_t)(i * 7 + 3);
    }
    m->table_end = IMG_LEN - 32 - 18;
    memcpy(m->p + m->table_end + 2, G_FOOTER, 16);
    tu_put16(m->p + m->table_end, 18);
}

static void img_entry(struct img *m, const uint8_t guid[16], const uint8_t *data, size_t n)
{
    size_t size = n + 18, start = m->table_end - size;
    memcpy(m->p + start, data, n);
    tu_put16(m->p + start + n, (uint16_t)size);
    memcpy(m->p + start + n + 2, guid, 16);
    m->table_end = start;
    size_t footer = IMG_LEN - 32 - 18;
    tu_put16(m->p + footer, (uint16_t)(18 + (footer - m->table_end)));
}

static void img_u32_entry(struct img *m, const uint8_t guid[16], uint32_t v)
{
    uint8_t d[4];
    tu_put32(d, v);
    img_entry(m, guid, d, 4);
}

/* SEV metadata at offset 0x1000 with these sections; reset block and hashes table. */
static void img_sev(struct img *m, const uint32_t (*secs)[3], size_t n, bool hashes_rv)
{
    img_init(m);
    uint8_t *md = m->p + 0x1000;
    memcpy(md, "ASEV", 4);
    tu_put32(md + 4, (uint32_t)(16 + 12 * n));
    tu_put32(md + 8, 1);
    tu_put32(md + 12, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        tu_put32(md + 16 + 12 * i, secs[i][0]);
        tu_put32(md + 20 + 12 * i, secs[i][1]);
        tu_put32(md + 24 + 12 * i, secs[i][2]);
    }
    img_u32_entry(m, G_SEV_META, IMG_LEN - 0x1000);
    img_u32_entry(m, G_RESET, 0x8000b004);
    if (hashes_rv) {
        uint8_t d[8];
        tu_put32(d, 0x80d000 + 0x400); /* table at offset 0x400 in the hashes page */
        tu_put32(d + 4, 0x400);
        img_entry(m, G_HASHES, d, 8);
    }
}

static const uint32_t SEV_SECS[][3] = {
        {0x800000, 0x9000, 1},    /* SNP_SEC_MEM */
        {0x809000, 0x1000, 2},    /* SECRETS */
        {0x80a000, 0x1000, 3},    /* CPUID */
        {0x80b000, 0x1000, 4},    /* SVSM_CAA */
        {0x80d000, 0x1000, 0x10}, /* KERNEL_HASHES */
};

static struct img M;

static void snp(const struct cvma_snp_measure_in *base, uint8_t out[48])
{
    char err[256] = "";
    if (!cvma_measure_snp(base, out, err, sizeof err)) {
        fail_msg("measure snp: %s", err);
    }
}

/* Expected values from an independent model, tests/measure/launch_model.py (SEV-SNP ABI
 * PAGE_INFO chaining, the APM's VMSA layout, QEMU's hashes table, the TDX module's MRTD
 * blocks, written from those specifications and checked there against the calculators'
 * values for Debian's OVMF in measure/vectors.tsv), on the same synthetic images (it builds
 * them as img_sev and img_tdx do): `launch_model.py pinned` prints them; e2e.measure runs the
 * model against the CLI on every run. */
static void assert_hex(const uint8_t got[48], const char *want_hex)
{
    uint8_t want[48];
    char hex[97];
    tu_hex(want_hex, want, 48);
    if (memcmp(got, want, 48) != 0) {
        cvma_hex_encode(got, 48, hex, sizeof hex);
        fail_msg("got %s, the model gives %s", hex, want_hex);
    }
}

static void test_snp_synthetic(void **state)
{
    (void)state;
    img_sev(&M, SEV_SECS, 5, true);
    struct cvma_ovmf_info info;
    char err[256] = "";
    assert_true(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));
    assert_true(info.has_sev_metadata);
    assert_int_equal(info.n_sev, 5);
    assert_int_equal(info.sev[3].type, CVMA_SEV_SVSM_CAA);
    assert_int_equal(info.reset_eip, 0x8000b004);
    assert_int_equal(info.hashes_table_gpa, 0x80d400);

    struct cvma_snp_measure_in in = {.ovmf = M.p,
                                     .ovmf_len = IMG_LEN,
                                     .vcpus = 2,
                                     .vcpu_sig = 0xa00f11,
                                     .guest_features = 1};
    uint8_t base[48], v[48], k1[48], k2[48], k3[48];
    snp(&in, base);
    assert_hex(base, "932f7c9e771536bd76ef412f776812ac6073979e4eb1329f"
                     "972e8814f01c055cf3e34138ce1afe340f65a90f9dd43cd9");
    /* every input changes the value */
    in.vcpus = 3;
    snp(&in, v);
    assert_memory_not_equal(base, v, 48);
    in.vcpus = 2;
    in.vcpu_sig = 0x800f12;
    snp(&in, v);
    assert_memory_not_equal(base, v, 48);
    in.vcpu_sig = 0xa00f11;
    in.guest_features = 0x21;
    snp(&in, v);
    assert_memory_not_equal(base, v, 48);
    in.guest_features = 1;
    in.vmm = CVMA_SNP_VMM_EC2;
    snp(&in, v);
    assert_hex(v, "69c4dd69b0f039e61fcf43ae1c5fed6c1d827c37d72d9d7d"
                  "ec0d86c6b51ad0dc4c5945e6957bfdcc7e5ca44655e1e272");
    in.vmm = CVMA_SNP_VMM_GCE;
    snp(&in, v);
    assert_hex(v, "cda7492b9e89fb5e016dfbe76d56dfb7b8352c8f58cfc35f"
                  "1e0267383b37f321a462df30111c3823551871efe8ae3f10");
    in.vmm = CVMA_SNP_VMM_QEMU;
    snp(&in, v);
    assert_memory_equal(base, v, 48);

    /* kernel, initrd and command line: the hashes page holds QEMU's table (the model's) */
    uint8_t kh[32], ih[32];
    memset(kh, 0x11, 32);
    memset(ih, 0x22, 32);
    in.kernel_sha256 = kh;
    snp(&in, k1);
    assert_hex(k1, "f90200d499838ac2cac2b1e795273fd7baaa4df9dc97b532"
                   "48f78022f6fb2025641c7b70034cc62b2deed2d41070e1bf");
    in.append = "console=ttyS0";
    snp(&in, k2);
    assert_hex(k2, "cdbdf703474cd85eafad5db19505c21a29e2c4c2e9f242d9"
                   "1a90d5e4a5a9cb236ad769c42962f724ca784acfc4e4bfa9");
    in.initrd_sha256 = ih;
    snp(&in, k3);
    assert_hex(k3, "2db345fde995ce29142171a520563ffb028e132d0ba62165"
                   "d554fcbb63477d733f21dd8c197d0a5d709dea07149cc252");

    /* an SVSM_CAA section is measured (as zero pages): the model's value without it */
    in.kernel_sha256 = NULL;
    in.append = NULL;
    in.initrd_sha256 = NULL;
    const uint32_t no_caa[][3] = {{0x800000, 0x9000, 1},
                                  {0x809000, 0x1000, 2},
                                  {0x80a000, 0x1000, 3},
                                  {0x80d000, 0x1000, 0x10}};
    img_sev(&M, no_caa, 4, true);
    snp(&in, v);
    assert_hex(v, "277e8a12532b53b85ab5ab1472a9fa6c52e0709942613ec0"
                  "2206e165f1729d5690fdd4eda5dbd9fde7f74b76ca76a310");
}

static void test_snp_refusals(void **state)
{
    (void)state;
    uint8_t kh[32] = {1}, v[48];
    char err[256] = "";
    struct cvma_snp_measure_in in = {.ovmf = M.p,
                                     .ovmf_len = IMG_LEN,
                                     .vcpus = 1,
                                     .vcpu_sig = 0xa00f11,
                                     .guest_features = 1,
                                     .kernel_sha256 = kh};
    /* --kernel with firmware lacking the kernel-hashes section */
    const uint32_t no_hashes[][3] = {
            {0x800000, 0x9000, 1}, {0x809000, 0x1000, 2}, {0x80a000, 0x1000, 3}};
    img_sev(&M, no_hashes, 3, false);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "kernel-hashes section"));
    in.kernel_sha256 = NULL;
    assert_true(cvma_measure_snp(&in, v, err, sizeof err));
    /* a kernel-hashes section, but no SEV hashes-table footer entry, or one at GPA 0: QEMU
     * cannot place the table */
    in.kernel_sha256 = kh;
    img_sev(&M, SEV_SECS, 5, false);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(
            strstr(err, "no SEV hashes-table entry (SEV_HASH_TABLE_RV), or it gives GPA 0"));
    img_sev(&M, SEV_SECS, 5, true);
    assert_true(cvma_measure_snp(&in, v, err, sizeof err));
    tu_put32(M.p + M.table_end, 0); /* the hashes table entry's GPA: the last entry written */
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(
            strstr(err, "no SEV hashes-table entry (SEV_HASH_TABLE_RV), or it gives GPA 0"));
    assert_null(strstr(err, "kernel-hashes section"));

    /* The image size: empty, past 4 GiB, or not whole pages, each said as it is. The size is
     * checked before any byte is read, so the larger sizes need no buffer of that size. */
    img_sev(&M, SEV_SECS, 5, true);
    in.ovmf_len = 0;
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "the firmware image is empty"));
    if (SIZE_MAX > 0x100000000ull) {
        in.ovmf_len = (size_t)0x100001000ull;
        assert_false(cvma_measure_snp(&in, v, err, sizeof err));
        assert_non_null(strstr(err, "is over 4 GiB"));
    }
    in.ovmf_len = IMG_LEN - 1;
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "is not a whole number of pages"));
    in.ovmf_len = IMG_LEN;

    /* QEMU refuses a hashes table area smaller than its 176-byte padded table (with
     * --kernel), and an AP reset address of 0. */
    in.kernel_sha256 = kh;
    img_sev(&M, SEV_SECS, 5, true);
    assert_true(cvma_measure_snp(&in, v, err, sizeof err));
    tu_put32(M.p + M.table_end + 4, 175); /* the hashes table entry's size (GPA, size) */
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "hashes table area is invalid"));
    tu_put32(M.p + M.table_end + 4, 176);
    assert_true(cvma_measure_snp(&in, v, err, sizeof err));
    tu_put32(M.p + M.table_end + 4, 0);
    in.kernel_sha256 = NULL; /* the size matters only with --kernel */
    assert_true(cvma_measure_snp(&in, v, err, sizeof err));
    img_sev(&M, SEV_SECS, 5, false);
    in.vcpus = 2;
    assert_true(cvma_measure_snp(&in, v, err, sizeof err));
    tu_put32(M.p + M.table_end, 0); /* the reset block: the last entry written */
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "reset address 0"));
    /* QEMU reads the reset block for every SEV-ES/SNP guest and exits without one or with
     * address 0, one vCPU (no AP) included: refused for any vCPU count */
    in.vcpus = 1;
    err[0] = '\0';
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "reset address 0"));
    assert_non_null(strstr(err, "one vCPU included"));
    img_sev(&M, SEV_SECS, 5, false);
    M.p[M.table_end + 4 + 2] ^= 0xff; /* the reset block's GUID: now an entry nobody reads */
    for (unsigned n = 1; n <= 2; n++) {
        in.vcpus = n;
        err[0] = '\0';
        assert_false(cvma_measure_snp(&in, v, err, sizeof err));
        assert_non_null(strstr(err, "no SEV-ES reset block"));
    }
    in.vcpus = 1;

    /* sections over the same pages, and one that ends past 4 GiB */
    const uint32_t overlap[][3] = {{0x800000, 0x9000, 1}, {0x808000, 0x1000, 2}};
    img_sev(&M, overlap, 2, false);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "sections 0 and 1 overlap"));
    /* a section over the firmware's own pages (the image is mapped to end at 4 GiB): QEMU
     * would launch-update those pages twice, which KVM refuses */
    const uint32_t in_fw[][3] = {{0xffff0000, 0x1000, 2}, {0xffff1000, 0x1000, 3}};
    img_sev(&M, in_fw, 2, false);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "section 0 and the firmware's own pages [0xffff0000, 4 GiB) "
                                "overlap"));
    const uint32_t fw_edge[][3] = {{0xfffe0000, 0x10000, 1}, {0xfffef000, 0x2000, 1}};
    img_sev(&M, fw_edge, 1, false);
    assert_true(cvma_measure_snp(&in, v, err, sizeof err)); /* just below: accepted */
    img_sev(&M, fw_edge + 1, 1, false);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err)); /* one page into it */
    assert_non_null(strstr(err, "firmware's own pages"));
    const uint32_t high[][3] = {{0xfffff000, 0x2000, 1}};
    img_sev(&M, high, 1, false);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "past 4 GiB"));

    /* a SECRETS or CPUID section of other than one page: QEMU measures its every page,
     * sev-snp-measure one */
    const uint32_t sizes[] = {0, 0x2000};
    for (size_t t = 2; t <= 3; t++) {
        for (size_t k = 0; k < 2; k++) {
            const uint32_t odd[][3] = {{0x800000, 0x1000, 1}, {0x801000, sizes[k], (uint32_t)t}};
            img_sev(&M, odd, 2, false);
            err[0] = '\0';
            assert_false(cvma_measure_snp(&in, v, err, sizeof err));
            assert_non_null(strstr(err, "not one page"));
        }
        const uint32_t one[][3] = {{0x800000, 0x1000, 1}, {0x801000, 0x1000, (uint32_t)t}};
        img_sev(&M, one, 2, false);
        assert_true(cvma_measure_snp(&in, v, err, sizeof err));
    }

    /* an unknown section type */
    const uint32_t unknown[][3] = {{0x800000, 0x1000, 1}, {0x801000, 0x1000, 9}};
    img_sev(&M, unknown, 2, false);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "unknown type 9"));

    /* SEV metadata offset outside the image */
    img_init(&M);
    img_u32_entry(&M, G_SEV_META, IMG_LEN + 16);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "outside"));

    /* a footer table larger than the image */
    img_init(&M);
    tu_put16(M.p + IMG_LEN - 32 - 18, 0xffff);
    struct cvma_ovmf_info info;
    assert_false(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));
    assert_non_null(strstr(err, "does not fit"));
    /* an image too short for a footer */
    assert_false(cvma_ovmf_parse(M.p, 40, &info, err, sizeof err));

    /* no SEV metadata at all; no SNPActive; no vCPUs */
    img_init(&M);
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    assert_non_null(strstr(err, "no SEV metadata"));
    img_sev(&M, SEV_SECS, 5, true);
    in.guest_features = 0x20;
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
    in.guest_features = 1;
    in.vcpus = 0;
    assert_false(cvma_measure_snp(&in, v, err, sizeof err));
}

static void test_hashes_table(void **state)
{
    (void)state;
    uint8_t t[CVMA_SEV_HASHES_TABLE_LEN], k[32], empty[32], cmd[32];
    memset(k, 0xab, 32);
    cvma_sev_hashes_table(k, NULL, "ro", t);
    /* header GUID 9438d606-..., length 168 */
    assert_int_equal(t[0], 0x06);
    assert_int_equal(t[3], 0x94);
    assert_int_equal(t[16] | t[17] << 8, 168);
    /* entries: command line (with its NUL), initrd (empty), kernel; each 50 bytes */
    assert_int_equal(t[18], 0xd8);
    assert_int_equal(t[18 + 16], 50);
    assert_int_equal(EVP_Digest("ro", 3, cmd, NULL, EVP_sha256(), NULL), 1);
    assert_memory_equal(t + 18 + 18, cmd, 32);
    assert_int_equal(t[68], 0x31);
    assert_int_equal(EVP_Digest("", 0, empty, NULL, EVP_sha256(), NULL), 1);
    assert_memory_equal(t + 68 + 18, empty, 32);
    assert_int_equal(t[118], 0x37);
    assert_memory_equal(t + 118 + 18, k, 32);
    assert_true(cvma_bytes_are_zero(t + 168, 8));
}

static void test_vcpu_and_vmm_names(void **state)
{
    (void)state;
    uint32_t s = 0;
    const struct {
        const char *n;
        uint32_t sig;
    } want[] = {{"EPYC", 0x800f12},       {"EPYC-v4", 0x800f12},    {"EPYC-Rome", 0x830f10},
                {"EPYC-Milan", 0xa00f11}, {"EPYC-Genoa", 0xa10f10}, {"EPYC-Turin", 0xb00f00}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(want); i++) {
        assert_true(cvma_snp_vcpu_sig(want[i].n, &s));
        assert_int_equal(s, want[i].sig);
    }
    assert_false(cvma_snp_vcpu_sig("host", &s));
    assert_false(cvma_snp_vcpu_sig("epyc", &s));
    enum cvma_snp_vmm v;
    assert_true(cvma_snp_vmm_from_name("gce", &v));
    assert_int_equal(v, CVMA_SNP_VMM_GCE);
    assert_false(cvma_snp_vmm_from_name("kvm", &v));
    enum cvma_tdx_page_order o;
    assert_true(cvma_tdx_page_order_from_name("two", &o));
    assert_int_equal(o, CVMA_TDX_ORDER_TWO);
    assert_false(cvma_tdx_page_order_from_name("double", &o));
}

/* TDVF descriptor at 0x2000 as QEMU takes it: a measured BFV of two pages (image offset
 * 0x4000), a TD_HOB and temporary memory (added, not measured); n: the sections counted (a
 * fourth is written: PermMem, PAGE.AUG). ovmf_table: the OVMF footer table names it;
 * otherwise the descriptor's offset is 32 bytes from the end (a td-shim image, which QEMU
 * cannot load). */
#define TDX_DESC   0x2000
#define TDX_SEC(i) (M.p + TDX_DESC + 16 + 32 * (i))

static void img_tdx_n(struct img *m, uint32_t bfv_offset, uint32_t n, bool ovmf_table)
{
    img_init(m);
    uint8_t *d = m->p + TDX_DESC;
    memset(d, 0, 16 + 4 * 32);
    memcpy(d - 16, G_TDX_META, 16);
    memcpy(d, "TDVF", 4);
    tu_put32(d + 4, 16 + 32 * n);
    tu_put32(d + 8, 1);
    tu_put32(d + 12, n);
    uint8_t *s = d + 16;
    tu_put32(s, bfv_offset); /* BFV */
    tu_put32(s + 4, 0x2000);
    tu_put64(s + 8, 0xffffe000);
    tu_put64(s + 16, 0x2000);
    tu_put32(s + 24, 0);
    tu_put32(s + 28, 1);
    s += 32; /* TD_HOB */
    tu_put64(s + 8, 0x809000);
    tu_put64(s + 16, 0x1000);
    tu_put32(s + 24, 2);
    s += 32; /* TEMP_MEM */
    tu_put64(s + 8, 0x900000);
    tu_put64(s + 16, 0x2000);
    tu_put32(s + 24, 3);
    s += 32; /* (a fourth, when asked for: PermMem, PAGE.AUG; td-shim only) */
    tu_put64(s + 8, 0xa00000);
    tu_put64(s + 16, 0x100000);
    tu_put32(s + 24, 4);
    tu_put32(s + 28, 2);
    if (ovmf_table) {
        img_u32_entry(m, G_TDX_OFF, IMG_LEN - TDX_DESC);
    } else {
        memset(m->p + IMG_LEN - 32 - 16, 0, 16); /* td-shim: no OVMF footer table */
        tu_put32(m->p + IMG_LEN - 32, TDX_DESC); /* from the start */
    }
}

static void img_tdx(struct img *m, uint32_t bfv_offset)
{
    img_tdx_n(m, bfv_offset, 3, true);
}

static void test_tdx_synthetic(void **state)
{
    (void)state;
    uint8_t single[48], two[48], again[48], want[48];
    char err[256] = "";
    img_tdx(&M, 0x4000);
    struct cvma_tdvf_section secs[8];
    size_t n = 0;
    if (!cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err)) {
        fail_msg("%s", err);
    }
    assert_int_equal(n, 3);
    assert_true(
            cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, single, err, sizeof err));
    assert_true(cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_TWO, two, err, sizeof err));
    assert_hex(single, "2b7c635b50f73a9ade0f55798489a4093b8850e63221655f"
                       "6c363dcf130cc5404e250e6f7fff9964355a7bf31231a81b");
    assert_hex(two, "5296a82ba5ee0e23f300b72d4f720a4441e86afaa721c2b7"
                    "3f9a65063e75c1c95cb678b39e04b9bfd77f1aa301d9d4b4"); /* the model's: every page
                                                                            added, then extended */

    /* the same stream built by hand: page 0 add + 16 extends, page 1 add + 16 extends,
     * the HOB page and the two TEMP_MEM pages added */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha384(), NULL), 1);
    uint8_t b[128];
    for (uint64_t pg = 0; pg < 2; pg++) {
        memset(b, 0, sizeof b);
        memcpy(b, "MEM.PAGE.ADD", 12);
        tu_put64(b + 16, 0xffffe000 + pg * 4096);
        EVP_DigestUpdate(ctx, b, 128);
        for (uint64_t c = 0; c < 16; c++) {
            memset(b, 0, sizeof b);
            memcpy(b, "MR.EXTEND", 9);
            tu_put64(b + 16, 0xffffe000 + pg * 4096 + c * 256);
            EVP_DigestUpdate(ctx, b, 128);
            EVP_DigestUpdate(ctx, M.p + 0x4000 + pg * 4096 + c * 256, 256);
        }
    }
    const uint64_t added[] = {0x809000, 0x900000, 0x901000}; /* TD_HOB, TEMP_MEM's two */
    for (size_t i = 0; i < CVMA_ARRAY_LEN(added); i++) {
        memset(b, 0, sizeof b);
        memcpy(b, "MEM.PAGE.ADD", 12);
        tu_put64(b + 16, added[i]);
        EVP_DigestUpdate(ctx, b, 128);
    }
    unsigned int len = 0;
    assert_int_equal(EVP_DigestFinal_ex(ctx, want, &len), 1);
    EVP_MD_CTX_free(ctx);
    assert_memory_equal(single, want, 48);

    /* the measured bytes matter */
    M.p[0x4000 + 5000] ^= 1;
    assert_true(cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, again, err, sizeof err));
    assert_memory_not_equal(single, again, 48);

    /* a section pointing past the image's end (as a code-only image's do) is refused */
    img_tdx(&M, IMG_LEN - 0x1000);
    assert_false(
            cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, again, err, sizeof err));
    assert_non_null(strstr(err, "past the end"));
    /* a metadata offset past the image */
    img_init(&M);
    img_u32_entry(&M, G_TDX_OFF, IMG_LEN + 0x1000);
    assert_false(
            cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, again, err, sizeof err));
    assert_non_null(strstr(err, "points past"));
    /* no TDX metadata */
    img_sev(&M, SEV_SECS, 5, true);
    assert_false(
            cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, again, err, sizeof err));
    assert_non_null(strstr(err, "no TDX metadata"));
    /* a section the image says is 2^64 - 2^23 bytes (each of its pages would be hashed: a
     * practically endless run), and sections over the same pages, are refused */
    img_tdx(&M, 0x4000);
    tu_put64(M.p + 0x2000 + 16 + 2 * 32 + 16, 0xfffffffffffff000ull - 0x900000);
    assert_false(
            cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, again, err, sizeof err));
    assert_non_null(strstr(err, "past 4 GiB"));
    img_tdx(&M, 0x4000);
    tu_put64(M.p + 0x2000 + 16 + 2 * 32 + 8, 0x809000); /* TEMP_MEM over the TD_HOB page */
    assert_false(
            cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, again, err, sizeof err));
    assert_non_null(strstr(err, "sections 1 and 2 overlap"));
}

/* An image QEMU finds through the OVMF table is held to what QEMU's TDVF parser and TDX
 * code accept (hw/i386/tdvf.c, target/i386/kvm/tdx.c): sections BFV, CFV, TD_HOB and
 * TEMP_MEM only, BFV and CFV with bytes in the image and the others without, at least two
 * sections, a TD_HOB among them. The same descriptor found 32 bytes from the end (td-shim,
 * which QEMU cannot load) keeps td-shim's section types. RTMR 0 models QEMU's TD HOB: refused
 * for the td-shim image, never at an address of its own making. */
static void test_tdx_qemu_refusals(void **state)
{
    (void)state;
    uint8_t v[48];
    char err[320] = "";
    struct cvma_tdvf_section secs[8];
    size_t n = 0;
    struct cvma_tdx_rtmr0_out r0;
    static const uint8_t blob[4] = "acpi";
    struct cvma_tdx_rtmr0_in r0in = {.fw = M.p,
                                     .fw_len = IMG_LEN,
                                     .mem_size = 1ull << 30,
                                     .acpi_loader = {blob, 4},
                                     .acpi_rsdp = {blob, 4},
                                     .acpi_tables = {blob, 4}};

    /* a fourth section, PermMem (type 4): td-shim's, not QEMU's */
    img_tdx_n(&M, 0x4000, 4, true);
    assert_false(cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, v, err, sizeof err));
    assert_non_null(strstr(err, "section 3 has type 4: QEMU takes only BFV (0), CFV (1), TD_HOB "
                                "(2) and TEMP_MEM (3)"));
    for (uint32_t t = 5; t <= 8; t++) {
        tu_put32(TDX_SEC(3) + 24, t);
        tu_put32(TDX_SEC(3) + 28, 0);
        err[0] = '\0';
        assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
        assert_non_null(strstr(err, "QEMU takes only"));
    }
    img_tdx_n(&M, 0x4000, 4, false); /* td-shim: accepted, PermMem (PAGE.AUG) not added */
    assert_true(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_int_equal(n, 4);
    uint8_t shim[48], qemu[48];
    assert_true(cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, shim, err, sizeof err));
    img_tdx(&M, 0x4000);
    assert_true(cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, qemu, err, sizeof err));
    assert_memory_equal(shim, qemu, 48);
    /* an OVMF footer table without the TDX entry: QEMU refuses the image ("Cannot find
     * TDX_METADATA_OFFSET_GUID"); the td-shim offset 32 bytes from the end is not read
     * instead, even when it points to a good descriptor */
    img_tdx_n(&M, 0x4000, 3, false);
    memcpy(M.p + IMG_LEN - 32 - 16, G_FOOTER, 16); /* an empty OVMF footer table */
    tu_put16(M.p + IMG_LEN - 32 - 18, 18);
    err[0] = '\0';
    assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_non_null(strstr(err, "its OVMF footer table has no TDX metadata entry"));
    assert_false(cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, v, err, sizeof err));
    /* RTMR 0 is QEMU's: the td-shim image is refused */
    img_tdx_n(&M, 0x4000, 4, false);
    tu_put32(TDX_SEC(0) + 24, 1); /* the BFV made a CFV, which RTMR 0 needs */
    assert_false(cvma_measure_tdx_rtmr0(&r0in, &r0, err, sizeof err));
    assert_non_null(strstr(err, "not named by an OVMF footer table entry"));

    /* no TD_HOB: QEMU exits ("TDVF metadata doesn't specify TD_HOB location"); MRTD and
     * RTMR 0 are refused, RTMR 0 no longer assumes a TD HOB at 0x809000 */
    img_tdx(&M, 0x4000);
    tu_put32(TDX_SEC(1) + 24, 3); /* the TD_HOB made a second TEMP_MEM */
    assert_false(cvma_measure_tdx_mrtd(M.p, IMG_LEN, CVMA_TDX_ORDER_SINGLE, v, err, sizeof err));
    assert_non_null(strstr(err, "no TD_HOB section"));
    tu_put32(TDX_SEC(0) + 24, 1);
    err[0] = '\0';
    assert_false(cvma_measure_tdx_rtmr0(&r0in, &r0, err, sizeof err));
    assert_non_null(strstr(err, "no TD_HOB section"));
    tu_put32(TDX_SEC(1) + 24, 2); /* the TD_HOB back: RTMR 0 is given */
    assert_true(cvma_measure_tdx_rtmr0(&r0in, &r0, err, sizeof err));

    /* bytes in the image: BFV and CFV need some, TD_HOB and TEMP_MEM none */
    img_tdx(&M, 0x4000);
    tu_put32(TDX_SEC(0) + 4, 0);
    assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_non_null(strstr(err, "section 0 (type 0) has 0 bytes in the image"));
    img_tdx(&M, 0x4000);
    tu_put32(TDX_SEC(2) + 4, 0x1000);
    assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_non_null(strstr(err, "section 2 (type 3) has 4096 bytes in the image"));
    /* memory smaller than the bytes */
    img_tdx(&M, 0x4000);
    tu_put64(TDX_SEC(0) + 16, 0x1000);
    assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_non_null(strstr(err, "Broken metadata"));
    /* fewer than two sections */
    img_tdx_n(&M, 0x4000, 1, true);
    assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_non_null(strstr(err, "fewer than 2"));
    /* attributes QEMU reads otherwise: PAGE.AUG anywhere, EXTENDMR on TD_HOB or TEMP_MEM */
    img_tdx(&M, 0x4000);
    tu_put32(TDX_SEC(2) + 28, 2);
    assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_non_null(strstr(err, "section 2 (type 3) has attributes 0x2"));
    img_tdx(&M, 0x4000);
    tu_put32(TDX_SEC(1) + 28, 1);
    assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_non_null(strstr(err, "section 1 (type 2) has attributes 0x1"));
}

/* ---- TDX RTMR 1 and 2 ---- */

#define PE_LEN 0x1a00

/* A PE32+ image shaped like an x86 bzImage (tests/measure/mkpe.py builds the same layout):
 * "MZ", the setup header ("HdrS", boot protocol 2.15) at 0x1f1, the PE header at 0x80, two
 * sections listed out of file order. */
static void make_pe(uint8_t img[PE_LEN], bool swap_sections)
{
    memset(img, 0, PE_LEN);
    for (size_t i = 0x400; i < PE_LEN; i++) {
        img[i] = (uint8_t)(i * 7 + 3);
    }
    img[0] = 'M';
    img[1] = 'Z';
    img[0x3c] = 0x80;
    img[0x1f1] = 1;
    memcpy(img + 0x202, "HdrS", 4);
    img[0x206] = 0x0f;
    img[0x207] = 0x02;
    img[0x211] = 0x01;
    img[0x22c] = img[0x22d] = img[0x22e] = 0xff;
    img[0x22f] = 0x7f;
    img[0x236] = 0x7f;
    const size_t pe = 0x80, opt = pe + 24;
    memcpy(img + pe, "PE\0\0", 4);
    img[pe + 4] = 0x64;
    img[pe + 5] = 0x86;
    img[pe + 6] = 2;    /* NumberOfSections */
    img[pe + 20] = 240; /* SizeOfOptionalHeader */
    img[opt] = 0x0b;    /* PE32+ */
    img[opt + 1] = 0x02;
    img[opt + 61] = 0x04; /* SizeOfHeaders 0x400 */
    img[opt + 64] = 0x78; /* CheckSum */
    img[opt + 108] = 16;  /* NumberOfRvaAndSizes */
    /* (raw offset, raw size): .text at 0x1400 (0x600), .data at 0x400 (0x1000) */
    const uint32_t secs[2][2] = {{0x1400, 0x600}, {0x400, 0x1000}};
    for (int i = 0; i < 2; i++) {
        const uint32_t *sct = secs[swap_sections ? 1 - i : i];
        uint8_t *b = img + opt + 240 + 40 * i;
        memcpy(b, i == 0 ? ".text" : ".data", 5);
        for (int k = 0; k < 4; k++) {
            b[16 + k] = (uint8_t)(sct[1] >> (8 * k));
            b[20 + k] = (uint8_t)(sct[0] >> (8 * k));
        }
    }
}

static void authenticode(const uint8_t *p, size_t len, uint8_t out[48])
{
    char err[256] = "";
    size_t n = 0;
    assert_true(cvma_pe_authenticode(p, len, "SHA384", out, 48, &n, err, sizeof err));
    assert_int_equal(n, 48);
}

/* A refused image gives nothing back: not the footer table nor the entries read before the
 * bad one, not the TDVF sections read before the bad one (found by fuzz/fuzz_ovmf.c). */
static void test_refusal_leaves_nothing(void **state)
{
    (void)state;
    char err[256] = "";
    struct cvma_ovmf_info info;
    struct cvma_tdvf_section secs[8], zero[8];
    size_t n = 99;

    img_init(&M);
    img_u32_entry(&M, G_RESET, 0x8000b004);      /* read first: next to the footer */
    img_u32_entry(&M, G_SEV_META, IMG_LEN + 16); /* then refused */
    assert_false(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));
    assert_non_null(strstr(err, "outside"));
    assert_false(info.has_table);
    assert_false(info.has_reset_eip);
    assert_int_equal(info.reset_eip, 0);

    img_tdx(&M, 0x4000);
    tu_put64(M.p + 0x2000 + 16 + 2 * 32 + 8, 0x900001); /* the third section's GPA unaligned */
    memset(secs, 0xa5, sizeof secs);
    memset(zero, 0, sizeof zero);
    assert_false(cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err));
    assert_non_null(strstr(err, "section 2 invalid"));
    assert_int_equal(n, 0);
    assert_memory_equal(secs, zero, sizeof secs);
}

/* SEV metadata whose length does not fit the image: QEMU drops it and launches no SEV-SNP
 * guest, so no measurement is given for it (one was); a TD, for which QEMU reads no SEV
 * metadata, is measured from the same image all the same (it was refused). */
static void test_ovmf_sev_metadata_length_must_fit(void **state)
{
    (void)state;
    char err[256] = "";
    struct cvma_ovmf_info info;
    static const uint32_t lens[] = {0x7fffffffu, 0xffffffffu, 0x1001u};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(lens); i++) {
        img_sev(&M, SEV_SECS, 5, false);
        tu_put32(M.p + 0x1000 + 4, lens[i]); /* the block sits 0x1000 bytes into the image */
        assert_false(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));
        assert_non_null(strstr(err, "does not fit"));
    }
    img_sev(&M, SEV_SECS, 5, false);
    tu_put32(M.p + 0x1000 + 4, 0x1000); /* as long as QEMU takes */
    assert_true(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));

    struct cvma_tdvf_section secs[8];
    size_t n = 0;
    img_tdx(&M, 0x4000);
    img_u32_entry(&M, G_SEV_META, 16); /* SEV metadata 16 bytes from the end: no "ASEV" */
    assert_false(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));
    if (!cvma_tdvf_parse(M.p, IMG_LEN, secs, 8, &n, err, sizeof err)) {
        fail_msg("a TD's image refused for its SEV metadata: %s", err);
    }
    assert_int_equal(n, 3);
}

/* A footer table naming the same entry twice is refused: QEMU reads the first entry of a
 * GUID, other tools the last. Two SEV metadata blocks (3 sections, then 1) used to give the
 * last block's one section with the first block's other two left in the info past n_sev. */
static void test_ovmf_repeated_entry_refused(void **state)
{
    (void)state;
    char err[256] = "";
    struct cvma_ovmf_info info, zero;
    const uint32_t one[][3] = {{0x900000, 0x1000, 1}};
    uint8_t *md = M.p + 0x2000;

    img_sev(&M, SEV_SECS, 3, false); /* the first SEV metadata entry, at 0x1000 */
    memcpy(md, "ASEV", 4);
    tu_put32(md + 4, 16 + 12);
    tu_put32(md + 8, 1);
    tu_put32(md + 12, 1);
    tu_put32(md + 16, one[0][0]);
    tu_put32(md + 20, one[0][1]);
    tu_put32(md + 24, one[0][2]);
    img_u32_entry(&M, G_SEV_META, IMG_LEN - 0x2000); /* a second one */
    memset(&zero, 0, sizeof zero);
    assert_false(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));
    assert_non_null(strstr(err, "twice (SEV metadata)"));
    assert_memory_equal(&info, &zero, sizeof info);

    img_sev(&M, SEV_SECS, 3, false);
    img_u32_entry(&M, G_RESET, 0x8000c004); /* a second reset block */
    assert_false(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));
    assert_non_null(strstr(err, "twice (SEV-ES reset block)"));
    /* A TD's launch reads no SEV entry: two of them do not make its image ambiguous. */
    assert_true(cvma_ovmf_parse_tdx(M.p, IMG_LEN, &info, err, sizeof err));
    img_sev(&M, SEV_SECS, 3, false);
    img_u32_entry(&M, G_SEV_META, IMG_LEN - 0x2000);
    assert_true(cvma_ovmf_parse_tdx(M.p, IMG_LEN, &info, err, sizeof err));

    img_init(&M);
    img_u32_entry(&M, G_TDX_OFF, 0x2000);
    img_u32_entry(&M, G_TDX_OFF, 0x3000);
    assert_false(cvma_ovmf_parse(M.p, IMG_LEN, &info, err, sizeof err));
    assert_non_null(strstr(err, "twice (TDX metadata offset)"));
    assert_false(cvma_ovmf_parse_tdx(M.p, IMG_LEN, &info, err, sizeof err));
    assert_non_null(strstr(err, "twice (TDX metadata offset)"));
}

static void test_pe_authenticode(void **state)
{
    (void)state;
    uint8_t *img = calloc(1, PE_LEN + 0x100), a[48], b[48];
    char err[256] = "";
    size_t n = 0;
    assert_non_null(img);
    make_pe(img, false);
    authenticode(img, PE_LEN, a);
    /* By hand: the headers without CheckSum (4 bytes at 0x80+24+64) and the Certificate Table
     * entry (8 bytes at 0x80+24+112+32), then the sections in file order (.data at 0x400,
     * then .text at 0x1400, although the section table lists .text first). */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha384(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, img, 0x98 + 64), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, img + 0x98 + 68, 0x98 + 144 - (0x98 + 68)), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, img + 0x98 + 152, 0x400 - (0x98 + 152)), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, img + 0x400, 0x1000), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, img + 0x1400, 0x600), 1);
    assert_int_equal(EVP_DigestFinal_ex(ctx, b, NULL), 1);
    EVP_MD_CTX_free(ctx);
    assert_memory_equal(a, b, 48);
    /* Not covered: the CheckSum. The section table is (it is in the headers). */
    img[0x80 + 24 + 64] ^= 0xff;
    authenticode(img, PE_LEN, b);
    assert_memory_equal(a, b, 48);
    make_pe(img, true);
    authenticode(img, PE_LEN, b);
    assert_memory_not_equal(a, b, 48);
    /* An attribute certificate table appended and named by the Certificate Table entry. */
    make_pe(img, false);
    memset(img + PE_LEN, 0xa5, 0x100);
    const size_t cert_dir = 0x80 + 24 + 112 + 4 * 8;
    img[cert_dir + 1] = PE_LEN >> 8; /* VirtualAddress = file offset 0x1a00 */
    img[cert_dir + 5] = 0x01;        /* Size 0x100 */
    authenticode(img, PE_LEN + 0x100, b);
    assert_memory_equal(a, b, 48);
    /* Without the entry, the bytes after the sections are hashed. */
    img[cert_dir + 1] = img[cert_dir + 5] = 0;
    authenticode(img, PE_LEN + 0x100, b);
    assert_memory_not_equal(a, b, 48);
    /* Covered: the headers, every section. */
    make_pe(img, false);
    img[0x1f1] ^= 1;
    authenticode(img, PE_LEN, b);
    assert_memory_not_equal(a, b, 48);
    make_pe(img, false);
    img[0x1500] ^= 1;
    authenticode(img, PE_LEN, b);
    assert_memory_not_equal(a, b, 48);
    /* Refusals: truncated, a section past the end, not PE, an unknown digest. */
    make_pe(img, false);
    assert_false(cvma_pe_authenticode(img, 0x100, "SHA384", b, 48, &n, err, sizeof err));
    assert_non_null(strstr(err, "truncated"));
    assert_false(cvma_pe_authenticode(img, 0x300, "SHA384", b, 48, &n, err, sizeof err));
    assert_non_null(strstr(err, "do not fit"));
    assert_false(cvma_pe_authenticode(img, PE_LEN - 8, "SHA384", b, 48, &n, err, sizeof err));
    assert_non_null(strstr(err, "runs past the end"));
    /* A section table that ends past SizeOfHeaders (EDK2 refuses the image): SizeOfHeaders
     * 0x100 with the Certificate Table entry dropped (NumberOfRvaAndSizes 4) so that CheckSum
     * and the data directory still fit; the section table, at 0x188, does not. */
    make_pe(img, false);
    img[0x80 + 24 + 60] = 0x00;
    img[0x80 + 24 + 61] = 0x01;
    img[0x80 + 24 + 108] = 4;
    assert_false(cvma_pe_authenticode(img, PE_LEN, "SHA384", b, 48, &n, err, sizeof err));
    assert_non_null(strstr(err, "ends past SizeOfHeaders"));
    /* the table ending exactly at SizeOfHeaders is fine: 0x188 + 2 * 40 = 0x1d8 */
    img[0x80 + 24 + 60] = 0xd8;
    assert_true(cvma_pe_authenticode(img, PE_LEN, "SHA384", b, 48, &n, err, sizeof err));
    make_pe(img, false);
    img[0x80] = 'X';
    assert_false(cvma_pe_authenticode(img, PE_LEN, "SHA384", b, 48, &n, err, sizeof err));
    assert_non_null(strstr(err, "not a PE/COFF image"));
    assert_false(cvma_pe_authenticode(img, 0x20, "SHA384", b, 48, &n, err, sizeof err));
    assert_false(cvma_pe_authenticode(img, PE_LEN, "NOPE", b, 48, &n, err, sizeof err));
    free(img);
}

static void test_qemu_kernel_patch(void **state)
{
    (void)state;
    uint8_t *img = malloc(PE_LEN);
    char err[256] = "";
    assert_non_null(img);
    make_pe(img, false);
    /* 4 GiB of RAM: 2 GiB below 4 GiB, less QEMU's 0x28000 bytes of ACPI data; the kernel
     * can take an initrd anywhere (XLF_CAN_BE_LOADED_ABOVE_4G), so the limit is that. */
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0x1800, 4ull << 30, err, sizeof err));
    assert_int_equal(img[0x210], 0xb0);
    assert_int_equal(img[0x211], 0x81);
    assert_int_equal(img[0x224] | img[0x225] << 8, 0xfe00);
    assert_int_equal(tu_le32(img + 0x228), 0x20000);
    assert_int_equal(tu_le32(img + 0x218), (0x7ffd7fffu - 0x1800u) & ~4095u);
    assert_int_equal(tu_le32(img + 0x21c), 0x1800);
    /* 1 GiB: RAM ends at 1 GiB. */
    make_pe(img, false);
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0x1800, 1ull << 30, err, sizeof err));
    assert_int_equal(tu_le32(img + 0x218), (0x3ffd7fffu - 0x1800u) & ~4095u);
    /* Without an initrd, nothing depends on the memory. */
    make_pe(img, false);
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0, 0, err, sizeof err));
    assert_int_equal(tu_le32(img + 0x218), 0);
    /* Not a bzImage; an initrd too large. */
    make_pe(img, false);
    assert_false(
            cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0x7ffd8000, 4ull << 30, err, sizeof err));
    assert_non_null(strstr(err, "does not fit"));
    img[0x202] = 'X';
    assert_false(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0, 0, err, sizeof err));
    assert_non_null(strstr(err, "not a Linux bzImage"));
    free(img);
}

/* x86_load_linux's corner cases, copied: a kernel without LOADED_HIGH gets its command line
 * at 0x9a000 - ((strlen + 16) & ~15); a kernel declaring initrd_addr_max 0 (and not
 * XLF_CAN_BE_LOADED_ABOVE_4G) gets no initrd (QEMU refuses it; we used to fall back to
 * 0x37ffffff); a setup larger than the file is an invalid header. */
static void test_qemu_kernel_patch_corner_cases(void **state)
{
    (void)state;
    uint8_t *img = malloc(PE_LEN);
    char err[256] = "";
    assert_non_null(img);
    const struct {
        const char *append;
        uint32_t cmdline_addr;
    } low[] = {{NULL, 0x99ff0}, {"console=ttyS0", 0x99ff0}, {"0123456789abcdef", 0x99fe0}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(low); i++) {
        make_pe(img, false);
        img[0x211] = 0; /* no LOADED_HIGH */
        assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, low[i].append, 0, 0, err, sizeof err));
        assert_int_equal(tu_le32(img + 0x228), low[i].cmdline_addr);
        assert_int_equal(img[0x224] | img[0x225] << 8, low[i].cmdline_addr - 0x90000 - 0x200);
        assert_int_equal(img[0x211], 0x80);
    }
    /* a command line that would run into the setup and heap of a low kernel */
    char *longcl = malloc(0x9e01);
    assert_non_null(longcl);
    memset(longcl, 'a', 0x9e00);
    longcl[0x9e00] = '\0';
    make_pe(img, false);
    img[0x211] = 0;
    assert_false(cvma_tdx_qemu_patch_kernel(img, PE_LEN, longcl, 0, 0, err, sizeof err));
    assert_non_null(strstr(err, "LOADED_HIGH"));
    free(longcl);

    /* initrd_addr_max 0 without XLF_CAN_BE_LOADED_ABOVE_4G: no initrd */
    make_pe(img, false);
    memset(img + 0x22c, 0, 4);
    img[0x236] = 0;
    assert_false(
            cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0x1800, 4ull << 30, err, sizeof err));
    assert_non_null(strstr(err, "initrd_addr_max 0"));
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0, 4ull << 30, err, sizeof err));
    /* the same below boot protocol 2.12, where QEMU ignores xloadflags */
    make_pe(img, false);
    memset(img + 0x22c, 0, 4);
    img[0x206] = 0x0b;
    assert_false(
            cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0x1800, 4ull << 30, err, sizeof err));
    /* with it (2.12 and later), initrd_addr_max does not matter */
    make_pe(img, false);
    memset(img + 0x22c, 0, 4);
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0x1800, 4ull << 30, err, sizeof err));
    assert_int_equal(tu_le32(img + 0x218), (0x7ffd7fffu - 0x1800u) & ~4095u);
    /* otherwise it is the limit: 0x100000 - 1 */
    make_pe(img, false);
    img[0x236] = 0;
    memset(img + 0x22c, 0, 4);
    img[0x22e] = 0x10;
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0x1800, 4ull << 30, err, sizeof err));
    assert_int_equal(tu_le32(img + 0x218), (0x100000u - 0x1800u) & ~4095u);

    /* setup_sects: 0 means 4 (0xa00 bytes, fits); 0x10 gives 0x2200 bytes, more than the file */
    make_pe(img, false);
    img[0x1f1] = 0;
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0, 0, err, sizeof err));
    make_pe(img, false);
    img[0x1f1] = 0x10;
    assert_false(cvma_tdx_qemu_patch_kernel(img, PE_LEN, NULL, 0, 0, err, sizeof err));
    assert_non_null(strstr(err, "invalid kernel header"));
    free(img);
}

/* QEMU writes vid_mode (0x1fa) when the command line has "vga=" (x86_load_linux), and exits
 * on a value it cannot read: the kernel TDVF measures, so RTMR 1, depends on it. */
static void test_qemu_kernel_patch_vga(void **state)
{
    (void)state;
    uint8_t *img = malloc(PE_LEN), d0[48], d1[48];
    char err[256] = "";
    assert_non_null(img);
    const struct {
        const char *append;
        unsigned mode;
    } ok[] = {{"console=ttyS0 vga=normal", 0xffff},
              {"vga=ext", 0xfffe},
              {"vga=ask quiet", 0xfffd},
              {"vga=normalish", 0xffff}, /* QEMU compares the first 6 bytes only */
              {"vga=791", 791},
              {"vga=0x317 quiet", 0x317},
              {"vga=010", 8},          /* base 0: a leading 0 is octal */
              {"vga=0x12345", 0x2345}, /* stored in 16 bits */
              {"novga=1 vga=2", 1},    /* the first "vga=" anywhere */
              {"vga= 5", 5}};          /* strtoul skips white space */
    for (size_t i = 0; i < CVMA_ARRAY_LEN(ok); i++) {
        make_pe(img, false);
        if (!cvma_tdx_qemu_patch_kernel(img, PE_LEN, ok[i].append, 0, 0, err, sizeof err)) {
            fail_msg("%s: %s", ok[i].append, err);
        }
        assert_int_equal(img[0x1fa] | img[0x1fb] << 8, ok[i].mode);
    }
    /* Without "vga=", the field is the file's. */
    make_pe(img, false);
    img[0x1fa] = 0x34;
    img[0x1fb] = 0x12;
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, "console=ttyS0", 0, 0, err, sizeof err));
    assert_int_equal(img[0x1fa] | img[0x1fb] << 8, 0x1234);
    /* What QEMU refuses ("invalid 'vga=' kernel parameter"), refused. */
    const char *bad[] = {"vga=",   "vga=foo",        "vga=12x", "vga=0x",
                         "vga=08", "vga=4294967296", "vga=1,2", "vga=-1"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        make_pe(img, false);
        err[0] = '\0';
        if (cvma_tdx_qemu_patch_kernel(img, PE_LEN, bad[i], 0, 0, err, sizeof err)) {
            fail_msg("accepted %s", bad[i]);
        }
        assert_non_null(strstr(err, "vga="));
    }
    /* The largest value QEMU takes. */
    make_pe(img, false);
    assert_true(cvma_tdx_qemu_patch_kernel(img, PE_LEN, "vga=4294967295", 0, 0, err, sizeof err));
    assert_int_equal(img[0x1fa] | img[0x1fb] << 8, 0xffff);

    /* Through the whole model: vga= moves the kernel digest (and RTMR 1) with the QEMU patch,
     * not without it. */
    make_pe(img, false);
    struct cvma_tdx_rtmr_in in = {.kernel = img, .kernel_len = PE_LEN, .qemu_patch = true};
    struct cvma_tdx_rtmr_out o0, o1;
    in.append = "console=ttyS0";
    assert_true(cvma_measure_tdx_rtmr(&in, &o0, err, sizeof err));
    in.append = "console=ttyS0 vga=normal";
    assert_true(cvma_measure_tdx_rtmr(&in, &o1, err, sizeof err));
    assert_memory_not_equal(o0.kernel_authenticode, o1.kernel_authenticode, 48);
    assert_memory_not_equal(o0.rtmr1, o1.rtmr1, 48);
    /* by hand: the file with the header QEMU writes, vid_mode included */
    uint8_t *want = malloc(PE_LEN);
    assert_non_null(want);
    memcpy(want, img, PE_LEN);
    assert_true(cvma_tdx_qemu_patch_kernel(want, PE_LEN, NULL, 0, 0, err, sizeof err));
    want[0x1fa] = want[0x1fb] = 0xff;
    authenticode(want, PE_LEN, d0);
    assert_memory_equal(o1.kernel_authenticode, d0, 48);
    in.append = "console=ttyS0 vga=bogus";
    assert_false(cvma_measure_tdx_rtmr(&in, &o1, err, sizeof err));
    in.qemu_patch = false;
    in.append = "console=ttyS0";
    assert_true(cvma_measure_tdx_rtmr(&in, &o0, err, sizeof err));
    in.append = "console=ttyS0 vga=normal";
    assert_true(cvma_measure_tdx_rtmr(&in, &o1, err, sizeof err));
    assert_memory_equal(o0.kernel_authenticode, o1.kernel_authenticode, 48);
    authenticode(img, PE_LEN, d1);
    assert_memory_equal(o1.kernel_authenticode, d1, 48);
    free(want);
    free(img);
}

static void test_tdx_rtmr_model(void **state)
{
    (void)state;
    uint8_t d[48], want[48], ev[2][48];
    /* Python: sha384("console=hvc0 root=/dev/vda1 initrd=initrd".encode("utf-16-le") +
     * b"\0\0"); sha384(b"\0\0"), the digest of a lone terminator (cvma_measure_tdx_rtmr emits
     * no event for an empty command line without an initrd: OVMF passes no LoadOptions). */
    assert_true(cvma_tdx_cmdline_digest("console=hvc0 root=/dev/vda1", true, d));
    tu_hex("cb2744b431ec500423bbfb5ba55555e384a6017c13958f19e443cd8d6983d182f1ff54c831db8e06589"
           "52f591bde602f",
           want, 48);
    assert_memory_equal(d, want, 48);
    assert_true(cvma_tdx_cmdline_digest(NULL, false, d));
    tu_hex("1dd6f7b457ad880d840d41c961283bab688e94e4b59359ea45686581e90feccea3c624b1226113f824f"
           "315eb60ae0a7c",
           want, 48);
    assert_memory_equal(d, want, 48);
    /* Python: mr = 48 zero bytes; for e in (b"a", b"b"): mr = sha384(mr + sha384(e)). */
    assert_int_equal(EVP_Digest("a", 1, ev[0], NULL, EVP_sha384(), NULL), 1);
    assert_int_equal(EVP_Digest("b", 1, ev[1], NULL, EVP_sha384(), NULL), 1);
    assert_true(cvma_tdx_rtmr_replay(ev[0], 2, d));
    tu_hex("941baacd1efc683b7bb6335428caa38156c9ebaf035df192fe8c89056f247fba20f0576d54c94ef52bd"
           "fd156ccbd67a3",
           want, 48);
    assert_memory_equal(d, want, 48);

    /* The whole model: RTMR 1 = kernel, then TDVF's four events; RTMR 2 = command line, then
     * the initrd; each input moves only its own RTMR. */
    uint8_t *img = malloc(PE_LEN), initrd[300];
    char err[256] = "";
    struct cvma_tdx_rtmr_out o1, o2;
    assert_non_null(img);
    make_pe(img, false);
    memset(initrd, 0x5a, sizeof initrd);
    struct cvma_tdx_rtmr_in in = {.kernel = img,
                                  .kernel_len = PE_LEN,
                                  .initrd = initrd,
                                  .initrd_len = sizeof initrd,
                                  .append = "console=hvc0",
                                  .qemu_patch = true,
                                  .mem_size = 4ull << 30};
    assert_true(cvma_measure_tdx_rtmr(&in, &o1, err, sizeof err));
    assert_int_equal(o1.n_rtmr1, 5);
    assert_int_equal(o1.n_rtmr2, 2);
    assert_memory_equal(o1.rtmr1_events[0], o1.kernel_authenticode, 48);
    assert_true(cvma_tdx_cmdline_digest("console=hvc0", true, d));
    assert_memory_equal(o1.rtmr2_events[0], d, 48);
    assert_int_equal(EVP_Digest(initrd, sizeof initrd, d, NULL, EVP_sha384(), NULL), 1);
    assert_memory_equal(o1.rtmr2_events[1], d, 48);
    assert_true(cvma_tdx_rtmr_replay(o1.rtmr1_events[0], 5, d));
    assert_memory_equal(o1.rtmr1, d, 48);
    /* The kernel measured is QEMU's patched image, not the file; the file with none. */
    authenticode(img, PE_LEN, d);
    assert_memory_not_equal(o1.kernel_authenticode, d, 48);
    in.qemu_patch = false;
    assert_true(cvma_measure_tdx_rtmr(&in, &o2, err, sizeof err));
    assert_memory_equal(o2.kernel_authenticode, d, 48);
    assert_memory_equal(o1.rtmr2, o2.rtmr2, 48);
    in.qemu_patch = true;
    in.append = "console=ttyS0";
    assert_true(cvma_measure_tdx_rtmr(&in, &o2, err, sizeof err));
    assert_memory_equal(o1.rtmr1, o2.rtmr1, 48);
    assert_memory_not_equal(o1.rtmr2, o2.rtmr2, 48);
    /* No initrd: one RTMR 2 event, no " initrd=initrd". */
    in.initrd = NULL;
    assert_true(cvma_measure_tdx_rtmr(&in, &o2, err, sizeof err));
    assert_int_equal(o2.n_rtmr2, 1);
    assert_true(cvma_tdx_cmdline_digest("console=ttyS0", false, d));
    assert_memory_equal(o2.rtmr2_events[0], d, 48);
    free(img);
}

/* An empty command line without an initrd: QEMU's command-line size is 1 (the NUL alone),
 * OVMF gives the kernel no LoadOptions (size (1 - 1) * 2 = 0), and the EFI stub measures
 * LoadOptions only when their size is not 0: no RTMR 2 event, RTMR 2 all zeros. With an
 * initrd, the LoadOptions are " initrd=initrd" and are measured. */
static void test_tdx_rtmr2_empty_cmdline_has_no_event(void **state)
{
    (void)state;
    uint8_t *img = malloc(PE_LEN), initrd[64], zero[48] = {0}, d[48];
    char err[256] = "";
    struct cvma_tdx_rtmr_out o;
    assert_non_null(img);
    make_pe(img, false);
    memset(initrd, 0x5a, sizeof initrd);
    struct cvma_tdx_rtmr_in in = {
            .kernel = img, .kernel_len = PE_LEN, .qemu_patch = true, .mem_size = 4ull << 30};
    const char *empty[] = {NULL, ""};
    for (size_t i = 0; i < 2; i++) {
        in.append = empty[i];
        in.initrd = NULL;
        in.initrd_len = 0;
        assert_true(cvma_measure_tdx_rtmr(&in, &o, err, sizeof err));
        assert_int_equal(o.n_rtmr2, 0);
        assert_memory_equal(o.rtmr2, zero, 48);
        assert_int_equal(o.n_rtmr1, 5); /* RTMR 1 unchanged: the kernel is still loaded */
        in.initrd = initrd;
        in.initrd_len = sizeof initrd;
        assert_true(cvma_measure_tdx_rtmr(&in, &o, err, sizeof err));
        assert_int_equal(o.n_rtmr2, 2);
        /* Python: sha384(" initrd=initrd".encode("utf-16-le") + b"\0\0") */
        tu_hex("c319595b2bb091f3dd05269a56e1299fafcd721c98e7520fa80c9915df630d3cecbc2060607b91"
               "e486b6e646cfbc50dd",
               d, 48);
        assert_memory_equal(o.rtmr2_events[0], d, 48);
        assert_int_equal(EVP_Digest(initrd, sizeof initrd, d, NULL, EVP_sha384(), NULL), 1);
        assert_memory_equal(o.rtmr2_events[1], d, 48);
    }
    free(img);
}

/* TDVF's own RTMR 1 events in a real CCEL (GCE, booted through shim and GRUB, so its kernel
 * and command-line events are not a direct boot's): the EV_EFI_ACTION strings and the
 * separator of CC-MR 2, in order, have the model's digests. */
static void test_tdx_rtmr1_events_vs_real_ccel(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *path = tu_path(tu_vectors(), "tdx/v4-gce-ccel-gotdxguest/ccel_data.dat");
    struct cvma_buf b;
    struct cvma_eventlog log;
    struct cvma_verdict v;
    uint8_t *img = malloc(PE_LEN);
    char err[256] = "";
    struct cvma_tdx_rtmr_out o;
    assert_non_null(img);
    make_pe(img, false);
    struct cvma_tdx_rtmr_in in = {.kernel = img, .kernel_len = PE_LEN};
    assert_true(cvma_measure_tdx_rtmr(&in, &o, err, sizeof err));
    tu_read(path, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_CCEL, &log, &v), CVMA_OK);
    static const char *const text[4] = {CVMA_TDX_EV_CALLING_EFI_APP, NULL, CVMA_TDX_EV_EXIT_BS,
                                        CVMA_TDX_EV_EXIT_BS_OK};
    size_t k = 0;
    for (size_t i = 0; i < log.n_events; i++) {
        const struct cvma_eventlog_event *e = &log.events[i];
        if (e->pcr != 2 ||
            (e->type != 0x80000007u /* EV_EFI_ACTION */ && e->type != CVMA_EV_SEPARATOR)) {
            continue;
        }
        assert_true(k < 4);
        assert_int_equal(e->type, text[k] != NULL ? 0x80000007u : CVMA_EV_SEPARATOR);
        if (text[k] != NULL) {
            assert_int_equal(e->data.len, strlen(text[k]));
            assert_memory_equal(e->data.p, text[k], e->data.len);
        }
        assert_memory_equal(e->digest[0], o.rtmr1_events[1 + k], 48);
        k++;
    }
    assert_int_equal(k, 4);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
    free(path);
    free(img);
}

/* RTMR 0's EFI variable events: the UEFI_VARIABLE_DATA encoding against the real GCE CCEL's
 * SecureBoot, PK, KEK, db and dbx events (re-encoded from their GUID, name and data, the
 * digest must be the logged one), and its separator. The model's RTMR 0 is then replayed from
 * its own events. */
static void test_tdx_rtmr0_events_vs_real_ccel(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *path = tu_path(tu_vectors(), "tdx/v4-gce-ccel-gotdxguest/ccel_data.dat");
    struct cvma_buf b, fw;
    struct cvma_eventlog log;
    struct cvma_verdict v;
    uint8_t d[48];
    tu_read(path, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_CCEL, &log, &v), CVMA_OK);
    size_t vars = 0;
    const uint8_t *sep = NULL;
    for (size_t i = 0; i < log.n_events; i++) {
        const struct cvma_eventlog_event *e = &log.events[i];
        if (e->pcr == 1 && e->type == CVMA_EV_SEPARATOR && sep == NULL) {
            sep = e->digest[0];
        }
        if (e->pcr != 1 || e->type != CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG) {
            continue;
        }
        struct cvma_reader r;
        uint64_t nlen = 0, dlen = 0;
        uint8_t guid[16];
        char name[32] = "";
        cvma_reader_init(&r, e->data.p, e->data.len);
        assert_true(cvma_reader_bytes(&r, guid, 16) && cvma_reader_u64le(&r, &nlen) &&
                    cvma_reader_u64le(&r, &dlen));
        assert_true(nlen < sizeof name);
        for (uint64_t k = 0; k < nlen; k++) {
            uint16_t c = 0;
            assert_true(cvma_reader_u16le(&r, &c));
            assert_true(c < 0x80);
            name[k] = (char)c;
        }
        assert_int_equal(cvma_reader_left(&r), dlen);
        const uint8_t *data = e->data.p + (e->data.len - dlen);
        assert_true(cvma_tdx_efi_variable_digest(guid, name, data, dlen, d));
        assert_memory_equal(d, e->digest[0], 48);
        vars++;
    }
    assert_int_equal(vars, 5); /* SecureBoot, PK, KEK, db, dbx */
    assert_non_null(sep);

    /* The model on Debian's OVMF (when installed): its separator is the real one. */
    if (access("/usr/share/ovmf/OVMF.fd", R_OK) == 0) {
        static const uint8_t acpi[3][8] = {"loader", "rsdp", "tables"};
        struct cvma_tdx_rtmr0_out o, o2;
        char err[256] = "";
        tu_read("/usr/share/ovmf/OVMF.fd", &fw);
        struct cvma_tdx_rtmr0_in in = {.fw = fw.p,
                                       .fw_len = fw.len,
                                       .mem_size = 4ull << 30,
                                       .acpi_loader = {acpi[0], 8},
                                       .acpi_rsdp = {acpi[1], 8},
                                       .acpi_tables = {acpi[2], 8}};
        assert_true(cvma_measure_tdx_rtmr0(&in, &o, err, sizeof err));
        assert_int_equal(o.n, 13);
        assert_memory_equal(o.events[7], sep, 48);
        assert_true(cvma_tdx_rtmr_replay(o.events[0], o.n, d));
        assert_memory_equal(d, o.rtmr0, 48);
        /* The memory size moves the TD HOB only; the ACPI tables their own event only. */
        in.mem_size = 1ull << 30;
        assert_true(cvma_measure_tdx_rtmr0(&in, &o2, err, sizeof err));
        assert_memory_not_equal(o.events[0], o2.events[0], 48);
        assert_memory_equal(o.events[1], o2.events[1], 48 * 12);
        in.mem_size = 4ull << 30;
        in.acpi_tables.len = 7;
        assert_true(cvma_measure_tdx_rtmr0(&in, &o2, err, sizeof err));
        assert_memory_equal(o.events[0], o2.events[0], 48 * 10);
        assert_memory_not_equal(o.events[10], o2.events[10], 48);
        /* Memory below the firmware's TD HOB and temporary memory: refused. */
        in.mem_size = 1u << 20;
        assert_false(cvma_measure_tdx_rtmr0(&in, &o2, err, sizeof err));
        cvma_buf_free(&fw);
    }
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_hashes_table),
            cmocka_unit_test(test_vcpu_and_vmm_names),
            cmocka_unit_test(test_snp_synthetic),
            cmocka_unit_test(test_snp_refusals),
            cmocka_unit_test(test_tdx_synthetic),
            cmocka_unit_test(test_tdx_qemu_refusals),
            cmocka_unit_test(test_code_only_tdvf_refused),
            cmocka_unit_test(test_refusal_leaves_nothing),
            cmocka_unit_test(test_ovmf_repeated_entry_refused),
            cmocka_unit_test(test_ovmf_sev_metadata_length_must_fit),
            cmocka_unit_test(test_vectors),
            cmocka_unit_test(test_pe_authenticode),
            cmocka_unit_test(test_qemu_kernel_patch),
            cmocka_unit_test(test_qemu_kernel_patch_vga),
            cmocka_unit_test(test_qemu_kernel_patch_corner_cases),
            cmocka_unit_test(test_tdx_rtmr_model),
            cmocka_unit_test(test_tdx_rtmr2_empty_cmdline_has_no_event),
            cmocka_unit_test(test_tdx_rtmr1_events_vs_real_ccel),
            cmocka_unit_test(test_tdx_rtmr0_events_vs_real_ccel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
