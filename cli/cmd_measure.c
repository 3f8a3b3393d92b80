/*
 * cvmattest measure snp|tdx: the launch measurement a confidential VM will report, computed
 * on the host from its firmware and launch inputs (docs/measure.md). Every input that changes
 * the value is an option and is written beside the value (--json) and into --policy-out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "args.h"
#include "cmds.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "common/util.h"
#include "measure/measure.h"
#include "output.h"

#define EXIT_OK    0
#define EXIT_USAGE 2
#define FW_MAX     (64u << 20)

static const char measure_usage[] =
        "usage: cvmattest measure snp --ovmf FILE --vcpus N --vcpu-type NAME [options]\n"
        "       cvmattest measure tdx --tdvf FILE [options]\n"
        "\n"
        "The launch measurement a confidential VM will report (docs/measure.md).\n"
        "\n"
        "measure snp (the report's MEASUREMENT):\n"
        "  --ovmf FILE              the firmware (OVMF built with SEV metadata)\n"
        "  --vcpus N                vCPUs (one VMSA each)\n"
        "  --vcpu-type NAME         the QEMU CPU model (EPYC, EPYC-v4, EPYC-Rome, EPYC-Milan,\n"
        "                           EPYC-Genoa, EPYC-Turin), not the host CPU; required\n"
        "                           with --vmm qemu, fixed by ec2 and gce\n"
        "  --vmm qemu|ec2|gce       the VMM that builds the VMSAs (default qemu)\n"
        "  --guest-features HEX     SEV_FEATURES (default 0x1; 0x21 when the host's KVM\n"
        "                           sets DebugSwap: kvm_amd's default in Linux 6.6 and 6.7\n"
        "                           only, off by default since 6.8)\n"
        "  --kernel FILE            direct kernel boot (needs the kernel-hashes section)\n"
        "  --initrd FILE            with --kernel\n"
        "  --append STRING          the kernel command line, with --kernel\n"
        "\n"
        "measure tdx (MRTD; RTMRs where the inputs allow):\n"
        "  --tdvf FILE              the firmware (a unified OVMF.fd with TDX metadata)\n"
        "  --page-order single|two  the VMM's page-add order (default single: upstream\n"
        "                           KVM/QEMU; two: each section added, then extended)\n"
        "  --kernel FILE            direct kernel boot: RTMR 1 (the kernel's Authenticode\n"
        "                           digest and TDVF's boot events) and RTMR 2\n"
        "  --initrd FILE            with --kernel (RTMR 2; needs --memory with\n"
        "                           --kernel-patch qemu)\n"
        "  --append STRING          the kernel command line, with --kernel (RTMR 2)\n"
        "  --memory SIZE            guest memory (QEMU's -m: 4096, 4G, 512M; whole MiB up\n"
        "                           to 16T, as launch): where QEMU puts the initrd,\n"
        "                           written into the kernel's header, and the TD HOB\n"
        "  --kernel-patch qemu|none the kernel image TDVF measures: qemu (default) with\n"
        "                           the setup header QEMU patches (OVMF up to 2025.02,\n"
        "                           Debian 12's), none: the file as is (later OVMF)\n"
        "  --acpi-tables DIR        QEMU's ACPI blobs for this guest (DIR/table-loader,\n"
        "                           DIR/rsdp, DIR/tables): with --kernel and --memory,\n"
        "                           RTMR 0 too (the vCPUs are in the tables)\n"
        "\n"
        "both:\n"
        "  --json                   {\"measurement\": HEX, ...every input}\n"
        "  --policy-out FILE        write a policy pinning the value (verify --policy)\n"
        "  -h, --help               this help\n"
        "\n"
        "Output: the hex value alone on one line (or --json). Exit 0, or 2 for bad options\n"
        "or firmware that cannot give the measurement (the reason on stderr).\n";

enum {
    O_OVMF = 256,
    O_TDVF,
    O_VCPUS,
    O_VCPU_TYPE,
    O_VMM,
    O_FEATURES,
    O_KERNEL,
    O_INITRD,
    O_APPEND,
    O_PAGE_ORDER,
    O_JSON,
    O_POLICY_OUT,
    O_MEMORY,
    O_KERNEL_PATCH,
    O_ACPI_TABLES,
};

struct mopts {
    const char *fw, *vcpu_type, *vmm, *features, *kernel, *initrd, *append, *page_order;
    const char *policy_out;
    const char *vcpus, *memory, *kernel_patch, *acpi_tables;
    bool json, fw_is_tdvf;
};

/* QEMU loads the kernel and the initrd of a direct boot whole into the guest's RAM below 4 GiB:
 * a larger file is no direct boot's. The bound also ends the read of a file that never ends
 * (/dev/zero named by mistake), which would otherwise be hashed for ever. */
#define BOOT_FILE_MAX ((uint64_t)4 << 30)

/* The files of --acpi-tables DIR: QEMU's etc/table-loader, etc/acpi/rsdp, etc/acpi/tables. */
static const char *const acpi_names[3] = {"table-loader", "rsdp", "tables"};

static bool sha256_boot_file(const char *path, uint8_t out[32])
{
    if (cvma_cli_sha256_file(path, BOOT_FILE_MAX, false, out)) {
        return true;
    }
    if (errno == EFBIG) {
        cvma_cli_err("cvmattest measure snp: '%s' is larger than 4 GiB: QEMU loads a kernel and "
                     "an initrd below 4 GiB\n",
                     path);
    } else {
        cvma_cli_err("cvmattest measure snp: cannot read '%s': %s\n", path, strerror(errno));
    }
    return false;
}

/* Why path could not be read (cvma_file_read left errno), with the most that is read from it
 * when it is larger: "cannot read" alone would leave a too large or wrong file unexplained. */
static void read_failed(const char *tee, const char *path, size_t max)
{
    if (errno == EFBIG) {
        cvma_cli_err("cvmattest measure %s: cannot read '%s': larger than %zu MiB, the most read "
                     "from it\n",
                     tee, path, max >> 20);
    } else {
        cvma_cli_err("cvmattest measure %s: cannot read '%s': %s\n", tee, path,
                     cvma_file_read_strerror(errno));
    }
}

/*
 * The output object is built member by member; *ok turns false, for good, when one cannot be
 * added (memory ran out: jansson gives NULL, or refuses to add). The caller then writes
 * nothing and exits 2: an `inputs` with a member missing would misstate what was measured.
 */
static void put(bool *ok, json_t *o, const char *key, json_t *v)
{
    if (v == NULL) {
        *ok = false;
    } else if (json_object_set_new(o, key, v) != 0) { /* v is released */
        *ok = false;
    }
}

static bool is_utf8(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    while (n > 0) {
        size_t k = cvma_utf8_seq(p, n);
        if (k == 0) {
            return false;
        }
        p += k;
        n -= k;
    }
    return true;
}

/* A text input (a path, the command line): KEY, a JSON string, when it is UTF-8; otherwise
 * KEY_hex, its bytes in lowercase hex, in KEY's place (docs/measure.md): JSON holds only
 * UTF-8, and the value is measured as those bytes, so it is neither dropped nor altered.
 * NULL: KEY null. */
static void put_text(bool *ok, json_t *o, const char *key, const char *s)
{
    if (s == NULL) {
        put(ok, o, key, json_null());
    } else if (is_utf8(s)) {
        put(ok, o, key, json_string(s));
    } else {
        char k[64];
        char *h = cvma_hex_dup((const uint8_t *)s, strlen(s));
        snprintf(k, sizeof k, "%s_hex", key);
        put(ok, o, k, h != NULL ? json_string(h) : NULL);
        free(h);
    }
}

static void set_hex(bool *ok, json_t *o, const char *key, const uint8_t *p, size_t len)
{
    char *h = cvma_hex_dup(p, len);
    put(ok, o, key, h != NULL ? json_string(h) : NULL);
    free(h);
}

static int out_of_memory(const char *tee)
{
    cvma_cli_err("cvmattest measure %s: out of memory\n", tee);
    return EXIT_USAGE;
}

/* The policy's description: "cvmattest measure TEE: ", or "cvmattest measure TEE (NOTE): "
 * when a note says what the value leaves out, and the inputs' compact JSON, which a policy's
 * 4096 bytes may not hold whole (a long --append): then cut before a UTF-8 character, never
 * inside one (the description must stay UTF-8), and said so. The note comes first, so it is
 * never cut; with the longest note (DESC_NOTE_MAX) and the cut's own words the description
 * stays below 4096 bytes. */
#define DESC_INPUTS_MAX 3800u
#define DESC_NOTE_MAX   80u

static bool policy_description(const char *tee, const char *note, const json_t *inputs, char *desc,
                               size_t cap)
{
    size_t len = 0;
    char head[128];
    if (note != NULL && strlen(note) <= DESC_NOTE_MAX) {
        snprintf(head, sizeof head, "cvmattest measure %s (%s)", tee, note);
    } else {
        snprintf(head, sizeof head, "cvmattest measure %s", tee);
    }
    char *in = cvma_json_compact(inputs, &len);
    if (in == NULL) {
        return false;
    }
    if (len <= DESC_INPUTS_MAX) {
        snprintf(desc, cap, "%s: %s", head, in);
    } else {
        size_t cut = DESC_INPUTS_MAX;
        while (cut > 0 && ((uint8_t)in[cut] & 0xc0) == 0x80) {
            cut--; /* in[cut] continues a character: the cut goes before its first byte */
        }
        snprintf(desc, cap,
                 "%s: %.*s... [cut: the first %zu of the inputs' %zu bytes; measure --json "
                 "gives them all]",
                 head, (int)cut, in, cut, len);
    }
    free(in);
    return true;
}

/* The text of a policy that pins the value (JSON, then a newline), the inputs in its
 * description; NULL when memory ran out. */
static char *policy_text(const char *tee, const char *note, const char *field, const char *hex,
                         json_t *inputs, json_t *extra, size_t *len)
{
    json_t *pol = json_object(), *sec = json_object();
    char *text = NULL;
    bool ok = pol != NULL && sec != NULL;
    char desc[4096];
    if (!policy_description(tee, note, inputs, desc, sizeof desc)) {
        json_decref(sec);
        goto out;
    }
    put(&ok, pol, "version", json_integer(1));
    put(&ok, pol, "name", json_string("cvmattest measure"));
    put(&ok, pol, "description", json_string(desc));
    put(&ok, sec, field, json_pack("[s]", hex));
    if (extra != NULL && json_object_update(sec, extra) != 0) {
        ok = false;
    }
    put(&ok, pol, strcmp(tee, "snp") == 0 ? "snp" : "tdx", sec);
    if (ok) {
        text = json_dumps(pol, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    if (text == NULL) {
        goto out;
    }
    size_t tlen = strlen(text);
    char *nl = realloc(text, tlen + 2);
    if (nl == NULL) {
        free(text);
        text = NULL;
        goto out;
    }
    text = nl;
    text[tlen] = '\n';
    text[tlen + 1] = '\0';
    *len = tlen + 1;
out:
    json_decref(pol);
    return text;
}

/*
 * Writes the value (or --json) to stdout and, with --policy-out, the policy. Everything is
 * made before anything is written (out of memory writes nothing), and the policy file only
 * once the value is written whole: a run that exits 2 because stdout failed (a full disk, a
 * closed pipe) leaves no policy behind. note: what the value does not cover, for the
 * policy's description (NULL: nothing to say); warning: said on stderr once the policy is
 * written (NULL: none).
 */
static int emit(const char *tee, const char *field, const uint8_t value[48], json_t *out,
                json_t *extra, const char *note, const char *warning, const struct mopts *o)
{
    char hex[97];
    char *policy = NULL;
    size_t policy_len = 0;
    cvma_hex_encode(value, 48, hex, sizeof hex);
    if (o->policy_out != NULL) {
        bool ok = true;
        put_text(&ok, out, "policy_out", o->policy_out);
        if (!ok || (policy = policy_text(tee, note, field, hex, json_object_get(out, "inputs"),
                                         extra, &policy_len)) == NULL) {
            return out_of_memory(tee);
        }
    }
    bool written;
    if (o->json) {
        written = cvma_print_json(out, stdout);
    } else {
        printf("%s\n", hex);
        written = cvma_print_flush(stdout);
    }
    int rc = written ? EXIT_OK : EXIT_USAGE; /* a value not written whole is no value */
    if (written && policy != NULL) {
        if (cvma_file_write_atomic(o->policy_out, (const uint8_t *)policy, policy_len) != CVMA_OK) {
            cvma_cli_err("cvmattest measure: cannot write '%s': %s\n", o->policy_out,
                         strerror(errno));
            rc = EXIT_USAGE;
        } else if (warning != NULL) {
            cvma_cli_err("cvmattest measure %s: warning: %s\n", tee, warning);
        }
    }
    free(policy);
    return rc;
}

static int measure_snp(const struct mopts *o)
{
    struct cvma_snp_measure_in in = {.guest_features = 1, .vmm = CVMA_SNP_VMM_QEMU};
    struct cvma_buf fw = {0};
    uint8_t kernel_h[32], initrd_h[32], fw_h[32], ld[48];
    char err[512] = "";
    json_t *out = NULL, *inputs = NULL;
    int rc = EXIT_USAGE;

    if (o->fw == NULL || o->fw_is_tdvf) {
        return cvma_cli_usage_error("measure snp", "--ovmf FILE is required");
    }
    if (o->page_order != NULL || o->memory != NULL || o->kernel_patch != NULL ||
        o->acpi_tables != NULL) {
        return cvma_cli_usage_error("measure snp", "--page-order, --memory, --kernel-patch and "
                                                   "--acpi-tables are for measure tdx");
    }
    if (o->vcpus == NULL) {
        return cvma_cli_usage_error("measure snp", "--vcpus N is required (one VMSA each)");
    }
    uint64_t v = 0;
    if (!cvma_cli_uint(o->vcpus, 1, 512, &v)) {
        return cvma_cli_usage_error("measure snp", "--vcpus: a number 1..512, not '%s'", o->vcpus);
    }
    in.vcpus = (unsigned)v;
    if (o->vmm != NULL && !cvma_snp_vmm_from_name(o->vmm, &in.vmm)) {
        return cvma_cli_usage_error("measure snp", "--vmm: qemu, ec2 or gce, not '%s'", o->vmm);
    }
    if (in.vmm == CVMA_SNP_VMM_QEMU) {
        if (o->vcpu_type == NULL) {
            return cvma_cli_usage_error("measure snp",
                                        "--vcpu-type NAME is required with --vmm qemu (the "
                                        "QEMU CPU model, e.g. EPYC-v4, not the host CPU)");
        }
        if (!cvma_snp_vcpu_sig(o->vcpu_type, &in.vcpu_sig)) {
            return cvma_cli_usage_error("measure snp",
                                        "--vcpu-type: unknown CPU model '%s' (EPYC, EPYC-v4, "
                                        "EPYC-Rome, EPYC-Milan, EPYC-Genoa, EPYC-Turin)",
                                        o->vcpu_type);
        }
    } else if (o->vcpu_type != NULL) {
        return cvma_cli_usage_error("measure snp", "--vcpu-type: --vmm %s fixes the vCPU type",
                                    o->vmm);
    }
    if (o->features != NULL && !cvma_cli_hex64(o->features, &in.guest_features)) {
        return cvma_cli_usage_error("measure snp", "--guest-features: 1 to 16 hex digits, not '%s'",
                                    o->features);
    }
    if ((in.guest_features & 1) == 0) {
        return cvma_cli_usage_error("measure snp",
                                    "--guest-features %s lacks SNPActive (bit 0), which every "
                                    "SEV-SNP guest has",
                                    o->features);
    }
    if (o->kernel == NULL && (o->initrd != NULL || o->append != NULL)) {
        return cvma_cli_usage_error("measure snp", "--initrd and --append need --kernel");
    }
    if (cvma_file_read(o->fw, FW_MAX, &fw) != CVMA_OK) {
        read_failed("snp", o->fw, FW_MAX);
        goto out;
    }
    in.ovmf = fw.p;
    in.ovmf_len = fw.len;
    if (o->kernel != NULL) {
        if (!sha256_boot_file(o->kernel, kernel_h)) {
            goto out;
        }
        in.kernel_sha256 = kernel_h;
        in.append = o->append;
        if (o->initrd != NULL) {
            if (!sha256_boot_file(o->initrd, initrd_h)) {
                goto out;
            }
            in.initrd_sha256 = initrd_h;
        }
    }
    if (!cvma_measure_snp(&in, ld, err, sizeof err)) {
        cvma_cli_err("cvmattest measure snp: %s: %s\n", o->fw, err);
        goto out;
    }
    if (EVP_Digest(fw.p, fw.len, fw_h, NULL, EVP_sha256(), NULL) != 1) {
        goto out;
    }
    char ld_hex[97], feat[24];
    cvma_hex_encode(ld, 48, ld_hex, sizeof ld_hex);
    snprintf(feat, sizeof feat, "0x%llx", (unsigned long long)in.guest_features);
    bool ok = (out = json_object()) != NULL && (inputs = json_object()) != NULL;
    put(&ok, out, "tee", json_string("sev-snp"));
    put(&ok, out, "measurement", json_string(ld_hex));
    put_text(&ok, inputs, "firmware", o->fw);
    set_hex(&ok, inputs, "firmware_sha256", fw_h, 32);
    put(&ok, inputs, "vmm", json_string(cvma_snp_vmm_name(in.vmm)));
    put(&ok, inputs, "vcpus", json_integer(in.vcpus));
    put_text(&ok, inputs, "vcpu_type", o->vcpu_type);
    if (in.vmm == CVMA_SNP_VMM_QEMU) {
        char sig[16];
        snprintf(sig, sizeof sig, "0x%x", in.vcpu_sig);
        put(&ok, inputs, "vcpu_sig", json_string(sig));
    }
    put(&ok, inputs, "guest_features", json_string(feat));
    put_text(&ok, inputs, "kernel", o->kernel);
    if (o->kernel != NULL) {
        set_hex(&ok, inputs, "kernel_sha256", kernel_h, 32);
        put_text(&ok, inputs, "initrd", o->initrd);
        if (o->initrd != NULL) {
            set_hex(&ok, inputs, "initrd_sha256", initrd_h, 32);
        }
        put_text(&ok, inputs, "append", o->append != NULL ? o->append : "");
    }
    put(&ok, out, "inputs", inputs); /* out owns inputs from here (or it is released) */
    inputs = NULL;
    if (!ok) {
        rc = out_of_memory("snp");
        goto out;
    }
    /* Without --kernel the launch digest covers the firmware alone (a disk-booted guest, or
     * a direct boot this firmware does not measure): whatever kernel, initrd and command
     * line the host supplies give this same value. Legitimate, so not refused, but said, in
     * the policy and on stderr. (--kernel with a firmware that cannot measure it was refused
     * above.) */
    char warning[512];
    const char *note = NULL, *warn = NULL;
    if (o->kernel == NULL) {
        struct cvma_ovmf_info info;
        bool hashes = false;
        if (cvma_ovmf_parse(fw.p, fw.len, &info, err, sizeof err)) {
            for (size_t i = 0; i < info.n_sev; i++) {
                hashes |= info.sev[i].type == CVMA_SEV_KERNEL_HASHES;
            }
        }
        note = "firmware only: kernel, initrd and command line not measured";
        snprintf(warning, sizeof warning,
                 "the policy pins the firmware only: the kernel, initrd and command line are "
                 "not measured (%s): any would pass; fit for a guest that boots from its "
                 "disk, whose kernel the launch measurement does not cover",
                 hashes ? "no --kernel" : "no --kernel, and no kernel hashes in this firmware");
        warn = warning;
    }
    rc = emit("snp", "measurements", ld, out, NULL, note, warn, o);
out:
    json_decref(inputs);
    json_decref(out);
    cvma_buf_free(&fw);
    return rc;
}

/* The events as hex strings; NULL when memory ran out. */
static json_t *hex_list(const uint8_t *ev, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        char *h = cvma_hex_dup(ev + 48 * i, 48);
        json_t *s = h != NULL ? json_string(h) : NULL;
        free(h);
        if (s == NULL || json_array_append_new(a, s) != 0) { /* s is released */
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

#define KERNEL_MAX (256u << 20)
#define INITRD_MAX (2048u << 20)

static int measure_tdx(const struct mopts *o)
{
    enum cvma_tdx_page_order order = CVMA_TDX_ORDER_SINGLE;
    struct cvma_buf fw = {0}, kernel = {0}, initrd = {0};
    struct cvma_tdx_rtmr_in rin = {.qemu_patch = true};
    struct cvma_tdx_rtmr_out rout;
    struct cvma_tdx_rtmr0_out r0out;
    struct cvma_buf acpi[3] = {{0}};
    uint8_t mrtd[48], fw_h[32];
    char err[512] = "";
    json_t *out = NULL, *inputs = NULL, *rtmrs = NULL, *extra = NULL;
    int rc = EXIT_USAGE;

    if (o->fw == NULL || !o->fw_is_tdvf) {
        return cvma_cli_usage_error("measure tdx", "--tdvf FILE is required");
    }
    if (o->vcpus != NULL || o->vcpu_type != NULL || o->vmm != NULL || o->features != NULL) {
        return cvma_cli_usage_error("measure tdx", "--vcpus, --vcpu-type, --vmm and "
                                                   "--guest-features are for measure snp");
    }
    if (o->page_order != NULL && !cvma_tdx_page_order_from_name(o->page_order, &order)) {
        return cvma_cli_usage_error("measure tdx", "--page-order: single or two, not '%s'",
                                    o->page_order);
    }
    if (o->kernel == NULL && (o->initrd != NULL || o->append != NULL || o->kernel_patch != NULL ||
                              o->memory != NULL || o->acpi_tables != NULL)) {
        return cvma_cli_usage_error("measure tdx",
                                    "--initrd, --append, --memory, "
                                    "--kernel-patch and --acpi-tables need --kernel");
    }
    if (o->acpi_tables != NULL && o->memory == NULL) {
        return cvma_cli_usage_error("measure tdx", "--acpi-tables needs --memory (RTMR 0 "
                                                   "measures the TD HOB, built from it)");
    }
    if (o->kernel_patch != NULL) {
        if (strcmp(o->kernel_patch, "qemu") == 0) {
            rin.qemu_patch = true;
        } else if (strcmp(o->kernel_patch, "none") == 0) {
            rin.qemu_patch = false;
        } else {
            return cvma_cli_usage_error("measure tdx", "--kernel-patch: qemu or none, not '%s'",
                                        o->kernel_patch);
        }
    }
    if (o->memory != NULL) {
        /* launch's rule: a guest that cvmattest launch (or QEMU's -m with a unit) can start;
         * an odd byte count would give RTMRs of a memory size no guest has */
        int mrc = cvma_cli_guest_memory("measure tdx", o->memory, &rin.mem_size);
        if (mrc != 0) {
            return mrc;
        }
    }
    if (o->initrd != NULL && rin.qemu_patch && o->memory == NULL) {
        return cvma_cli_usage_error("measure tdx", "--memory SIZE is needed with --initrd and "
                                                   "--kernel-patch qemu (QEMU writes the "
                                                   "initrd's address, which depends on it, into "
                                                   "the kernel TDVF measures)");
    }
    if (o->policy_out != NULL && o->kernel == NULL) {
        /* MRTD covers the firmware only: a policy pinning it alone would accept any kernel
         * and command line. */
        cvma_cli_err("cvmattest measure tdx: --policy-out needs --kernel (and --append, "
                     "--initrd as the TD boots): MRTD alone does not cover the kernel and "
                     "command line, RTMR 1 and 2 do\n");
        return EXIT_USAGE;
    }
    if (cvma_file_read(o->fw, FW_MAX, &fw) != CVMA_OK) {
        read_failed("tdx", o->fw, FW_MAX);
        goto out;
    }
    if (!cvma_measure_tdx_mrtd(fw.p, fw.len, order, mrtd, err, sizeof err)) {
        cvma_cli_err("cvmattest measure tdx: %s: %s\n", o->fw, err);
        goto out;
    }
    if (EVP_Digest(fw.p, fw.len, fw_h, NULL, EVP_sha256(), NULL) != 1) {
        goto out;
    }
    if (o->kernel != NULL) {
        if (cvma_file_read(o->kernel, KERNEL_MAX, &kernel) != CVMA_OK) {
            read_failed("tdx", o->kernel, KERNEL_MAX);
            goto out;
        }
        if (o->initrd != NULL && cvma_file_read(o->initrd, INITRD_MAX, &initrd) != CVMA_OK) {
            read_failed("tdx", o->initrd, INITRD_MAX);
            goto out;
        }
        if (o->initrd != NULL && initrd.len == 0) {
            /* OVMF measures no initrd and appends no "initrd=" for an empty one, while QEMU
             * still patches the kernel's header: neither model here; refused, not guessed */
            cvma_cli_err("cvmattest measure tdx: --initrd '%s' is empty: leave --initrd out for a "
                         "guest without one\n",
                         o->initrd);
            goto out;
        }
        rin.kernel = kernel.p;
        rin.kernel_len = kernel.len;
        rin.initrd = o->initrd != NULL ? initrd.p : NULL;
        rin.initrd_len = initrd.len;
        rin.append = o->append;
        if (!cvma_measure_tdx_rtmr(&rin, &rout, err, sizeof err)) {
            cvma_cli_err("cvmattest measure tdx: '%s': %s\n", o->kernel, err);
            goto out;
        }
    }
    if (o->acpi_tables != NULL) {
        for (size_t i = 0; i < 3; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", o->acpi_tables, acpi_names[i]);
            if (cvma_file_read(path, KERNEL_MAX, &acpi[i]) != CVMA_OK) {
                char why[96];
                cvma_cli_err("cvmattest measure tdx: cannot read '%s' (QEMU's etc/%s%s): %s\n",
                             path, i == 0 ? "" : "acpi/", acpi_names[i],
                             cvma_file_read_why(errno, KERNEL_MAX, why, sizeof why));
                goto out;
            }
        }
        struct cvma_tdx_rtmr0_in r0 = {.fw = fw.p,
                                       .fw_len = fw.len,
                                       .mem_size = rin.mem_size,
                                       .acpi_loader = {acpi[0].p, acpi[0].len},
                                       .acpi_rsdp = {acpi[1].p, acpi[1].len},
                                       .acpi_tables = {acpi[2].p, acpi[2].len}};
        if (!cvma_measure_tdx_rtmr0(&r0, &r0out, err, sizeof err)) {
            cvma_cli_err("cvmattest measure tdx: RTMR 0: %s\n", err);
            goto out;
        }
    }
    bool ok = (out = json_object()) != NULL && (inputs = json_object()) != NULL &&
              (rtmrs = json_object()) != NULL;
    put(&ok, out, "tee", json_string("tdx"));
    set_hex(&ok, out, "measurement", mrtd, 48);
    if (o->acpi_tables != NULL) {
        set_hex(&ok, rtmrs, "rtmr0", r0out.rtmr0, 48);
    } else {
        put(&ok, rtmrs, "rtmr0",
            json_string("not predicted: needs the memory size, "
                        "vCPUs and ACPI tables of the VMM (--acpi-tables)"));
    }
    if (o->kernel != NULL) {
        set_hex(&ok, rtmrs, "rtmr1", rout.rtmr1, 48);
        set_hex(&ok, rtmrs, "rtmr2", rout.rtmr2, 48);
    } else {
        put(&ok, rtmrs, "rtmr1", json_string("not predicted: needs --kernel"));
        put(&ok, rtmrs, "rtmr2", json_string("not predicted: needs --kernel"));
    }
    put(&ok, rtmrs, "rtmr3", json_string("not predicted: extended at run time"));
    put(&ok, out, "rtmrs", rtmrs); /* out owns rtmrs from here (or it is released) */
    rtmrs = NULL;
    if (o->kernel != NULL) {
        json_t *ev = json_object();
        if (o->acpi_tables != NULL) {
            put(&ok, ev, "rtmr0", hex_list(r0out.events[0], r0out.n));
        }
        put(&ok, ev, "rtmr1", hex_list(rout.rtmr1_events[0], rout.n_rtmr1));
        put(&ok, ev, "rtmr2", hex_list(rout.rtmr2_events[0], rout.n_rtmr2));
        put(&ok, out, "rtmr_events", ev);
    }
    put_text(&ok, inputs, "firmware", o->fw);
    set_hex(&ok, inputs, "firmware_sha256", fw_h, 32);
    put(&ok, inputs, "page_order", json_string(cvma_tdx_page_order_name(order)));
    put_text(&ok, inputs, "kernel", o->kernel);
    if (o->kernel != NULL) {
        uint8_t h[32];
        if (EVP_Digest(kernel.p, kernel.len, h, NULL, EVP_sha256(), NULL) != 1) {
            goto out;
        }
        set_hex(&ok, inputs, "kernel_sha256", h, 32);
        put(&ok, inputs, "kernel_patch", json_string(rin.qemu_patch ? "qemu" : "none"));
        set_hex(&ok, inputs, "kernel_authenticode_sha384", rout.kernel_authenticode, 48);
        put_text(&ok, inputs, "initrd", o->initrd);
        if (o->initrd != NULL) {
            if (EVP_Digest(initrd.p, initrd.len, h, NULL, EVP_sha256(), NULL) != 1) {
                goto out;
            }
            set_hex(&ok, inputs, "initrd_sha256", h, 32);
        }
        put_text(&ok, inputs, "append", o->append != NULL ? o->append : "");
        put_text(&ok, inputs, "acpi_tables", o->acpi_tables);
        put(&ok, inputs, "memory_bytes",
            o->memory != NULL ? json_integer((json_int_t)rin.mem_size) : json_null());
        char h1[97], h2[97];
        cvma_hex_encode(rout.rtmr1, 48, h1, sizeof h1);
        cvma_hex_encode(rout.rtmr2, 48, h2, sizeof h2);
        extra = json_pack("{s:[s],s:[s]}", "rtmr1", h1, "rtmr2", h2);
        ok = ok && extra != NULL;
    }
    put(&ok, out, "inputs", inputs); /* out owns inputs from here (or it is released) */
    inputs = NULL;
    if (!ok) {
        rc = out_of_memory("tdx");
        goto out;
    }
    /* No command line and no initrd: the EFI stub measures nothing, RTMR 2 stays zero. So
     * does a kernel whose EFI stub does not measure its LoadOptions (older ones), whatever
     * command line the host gives: pinned as zero, RTMR 2 then holds the command line to
     * nothing on such a kernel. Legitimate, so not refused, but said. */
    const bool rtmr2_zero = o->kernel != NULL && rout.n_rtmr2 == 0;
    rc = emit("tdx", "mr_td", mrtd, out, extra,
              rtmr2_zero ? "RTMR 2 all zeros: no command line and no initrd measured" : NULL,
              rtmr2_zero ? "the policy pins RTMR 2 as all zeros (no --append, no --initrd); a "
                           "kernel whose EFI stub does not measure its command line leaves it "
                           "so for any command line the host passes: pin it only for a kernel "
                           "that measures it"
                         : NULL,
              o);
out:
    json_decref(extra);
    json_decref(rtmrs);
    json_decref(inputs);
    json_decref(out);
    cvma_buf_free(&fw);
    cvma_buf_free(&kernel);
    cvma_buf_free(&initrd);
    for (size_t i = 0; i < 3; i++) {
        cvma_buf_free(&acpi[i]);
    }
    return rc;
}

int cvma_cmd_measure(int argc, char **argv)
{
    static const struct option opts[] = {
            {"ovmf", required_argument, NULL, O_OVMF | CVMA_CLI_ONE_OF(1)},
            {"tdvf", required_argument, NULL, O_TDVF | CVMA_CLI_ONE_OF(1)},
            {"vcpus", required_argument, NULL, O_VCPUS},
            {"vcpu-type", required_argument, NULL, O_VCPU_TYPE},
            {"vmm", required_argument, NULL, O_VMM},
            {"guest-features", required_argument, NULL, O_FEATURES},
            {"kernel", required_argument, NULL, O_KERNEL},
            {"initrd", required_argument, NULL, O_INITRD},
            {"append", required_argument, NULL, O_APPEND | CVMA_CLI_EMPTY},
            {"page-order", required_argument, NULL, O_PAGE_ORDER},
            {"json", no_argument, NULL, O_JSON},
            {"policy-out", required_argument, NULL, O_POLICY_OUT},
            {"memory", required_argument, NULL, O_MEMORY},
            {"kernel-patch", required_argument, NULL, O_KERNEL_PATCH},
            {"acpi-tables", required_argument, NULL, O_ACPI_TABLES},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    struct mopts o = {0};
    int c;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        fputs(measure_usage, stdout);
        return EXIT_OK;
    }
    if (argc < 2 || (strcmp(argv[1], "snp") != 0 && strcmp(argv[1], "tdx") != 0)) {
        fputs(measure_usage, stderr);
        return EXIT_USAGE;
    }
    const bool snp = strcmp(argv[1], "snp") == 0;
    const char *cmd = snp ? "measure snp" : "measure tdx";
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc - 1, argv + 1, opts)) != -1) {
        switch (c) {
        case O_OVMF:
        case O_TDVF:
            o.fw = optarg;
            o.fw_is_tdvf = c == O_TDVF;
            break;
        case O_VCPUS:
            o.vcpus = optarg;
            break;
        case O_VCPU_TYPE:
            o.vcpu_type = optarg;
            break;
        case O_VMM:
            o.vmm = optarg;
            break;
        case O_FEATURES:
            o.features = optarg;
            break;
        case O_KERNEL:
            o.kernel = optarg;
            break;
        case O_INITRD:
            o.initrd = optarg;
            break;
        case O_APPEND:
            o.append = optarg;
            break;
        case O_PAGE_ORDER:
            o.page_order = optarg;
            break;
        case O_JSON:
            o.json = true;
            break;
        case O_POLICY_OUT:
            o.policy_out = optarg;
            break;
        case O_MEMORY:
            o.memory = optarg;
            break;
        case O_KERNEL_PATCH:
            o.kernel_patch = optarg;
            break;
        case O_ACPI_TABLES:
            o.acpi_tables = optarg;
            break;
        case 'h':
            fputs(measure_usage, stdout);
            return EXIT_OK;
        default:
            return cvma_cli_bad_option(cmd, c, argv + 1);
        }
    }
    if (optind < argc - 1) {
        return cvma_cli_usage_error(cmd, "takes no operands ('%s')", argv[optind + 1]);
    }
    /* The three files of --acpi-tables are inputs too (DIR/table-loader, rsdp, tables). */
    char acpi_in[3][4096];
    for (size_t i = 0; i < 3; i++) {
        snprintf(acpi_in[i], sizeof acpi_in[i], "%s/%s", o.acpi_tables != NULL ? o.acpi_tables : "",
                 acpi_names[i]);
    }
    const char *acpi_dir = o.acpi_tables;
    const char *const ins[] = {o.fw,
                               o.kernel,
                               o.initrd,
                               acpi_dir != NULL ? acpi_in[0] : NULL,
                               acpi_dir != NULL ? acpi_in[1] : NULL,
                               acpi_dir != NULL ? acpi_in[2] : NULL};
    const char *const ins_opt[] = {snp ? "--ovmf" : "--tdvf", "--kernel",      "--initrd",
                                   "--acpi-tables",           "--acpi-tables", "--acpi-tables"};
    int rc;
    if (o.policy_out != NULL &&
        (rc = cvma_cli_out_file_check(cmd, "--policy-out", o.policy_out, ins, ins_opt,
                                      CVMA_ARRAY_LEN(ins))) != 0) {
        return rc;
    }
    return snp ? measure_snp(&o) : measure_tdx(&o);
}
