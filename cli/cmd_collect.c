/*
 * cvmattest collect: evidence from inside a confidential VM into a bundle (docs/collect.md).
 * cvmattest guest-check: which TEE this is, which guest interfaces exist, what is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "cmds.h"
#include "collect/collect.h"
#include "common/hex.h"
#include "common/util.h"
#include "verifier/bundle.h"

#define EXIT_USAGE 2

enum {
    O_NONCE = 256,
    O_OUT,
    O_TSM_ROOT,
    O_DEV_ROOT,
    O_RAW_DIR,
    O_JSON,
    O_CPUINFO,
    O_TPM,
    O_TPM_ONLY,
    O_PCRS,
    O_TPM_TCTI,
    O_SVSM_VTPM,
};

static const struct option collect_options[] = {
        {"nonce", required_argument, NULL, O_NONCE},
        {"out", required_argument, NULL, O_OUT},
        {"tsm-root", required_argument, NULL, O_TSM_ROOT},
        {"dev-root", required_argument, NULL, O_DEV_ROOT},
        {"raw-dir", required_argument, NULL, O_RAW_DIR},
        {"tpm", no_argument, NULL, O_TPM},
        {"tpm-only", no_argument, NULL, O_TPM_ONLY},
        {"pcrs", required_argument, NULL, O_PCRS},
        {"tpm-tcti", required_argument, NULL, O_TPM_TCTI},
        {"svsm-vtpm", no_argument, NULL, O_SVSM_VTPM},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

static void collect_usage(FILE *f)
{
    fputs("usage: cvmattest collect --nonce HEX --out BUNDLE [options]\n"
          "Asks this confidential VM's TEE for a report over the nonce and writes an evidence\n"
          "bundle that `cvmattest verify BUNDLE` takes as is. Tries configfs-tsm, then\n"
          "/dev/sev-guest (SNP_GET_EXT_REPORT) and /dev/tdx_guest.\n"
          "  --nonce HEX       1 to 64 bytes: the report's REPORT_DATA (zero-padded)\n"
          "  --out BUNDLE      the bundle file to write\n"
          "  --raw-dir DIR     where the raw bytes go, before any parsing (default BUNDLE.raw)\n"
          "  --tsm-root DIR    configfs-tsm root (default /sys/kernel/config/tsm); a plain\n"
          "                    tree as `sim --tsm-tree` writes it\n"
          "  --dev-root DIR    device directory (default /dev); a plain tree as\n"
          "                    `sim --dev-tree` writes it\n"
          "  --tpm             also a vTPM quote over --pcrs with the nonce (tss2-esys), and\n"
          "                    Azure's HCL report (NV 0x01400001) when present\n"
          "  --tpm-only        the vTPM quote alone (a bundle of kind tpm; no TEE asked)\n"
          "  --pcrs LIST       PCRs to quote, e.g. sha256:0-7,14 (default sha256:0-7)\n"
          "  --tpm-tcti CONF   tss2 TCTI (default device:DEV/tpmrm0), e.g.\n"
          "                    swtpm:host=127.0.0.1,port=2321\n"
          "  --svsm-vtpm       SEV-SNP under an SVSM: the SVSM's vTPM service report (VMPL 0,\n"
          "                    REPORT_DATA = SHA-512(nonce || manifest)); the manifest (the\n"
          "                    vTPM EK's TPMT_PUBLIC) is kept raw as manifestblob\n"
          "Exit: 0 written; 1 the TEE's evidence does not carry the nonce or cannot be parsed\n"
          "(raw bytes kept); 2 no interface works (this is no CVM) or a usage error.\n",
          f);
}

/* True when path is a regular file (not a link) holding a cvmattest bundle: what an earlier
 * run of collect left at --out. Anything else there is never removed. */
static bool is_bundle_file(const char *path)
{
    struct stat sb;
    struct cvma_buf b = {0};
    json_t *j = NULL;
    bool yes = lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
               cvma_file_read(path, CVMA_BUNDLE_MAX, &b) == CVMA_OK &&
               (j = json_loadb((const char *)b.p, b.len, JSON_REJECT_DUPLICATES, NULL)) != NULL &&
               json_is_object(j) && json_integer_value(json_object_get(j, "cvmattest_bundle")) == 1;
    json_decref(j);
    cvma_buf_free(&b);
    return yes;
}

int cvma_cmd_collect(int argc, char **argv)
{
    struct cvma_collect_opts o;
    struct cvma_collected c;
    const char *out = NULL, *raw_dir = NULL, *tcti = NULL;
    char *raw_default = NULL, err[2048] = "", tcti_default[600];
    struct cvma_tpm_pcr_list pcrs;
    struct cvma_tpm_collected tpm;
    bool want_tpm = false, tpm_only = false;
    enum cvma_status st, rst;
    bool have_nonce = false, collecting = false;
    int ch, rc;

    memset(&o, 0, sizeof o);
    memset(&c, 0, sizeof c);
    memset(&tpm, 0, sizeof tpm);
    if (!cvma_tpm_pcr_list_parse(CVMA_TPM_DEFAULT_PCRS, &pcrs)) {
        return EXIT_USAGE;
    }
    cvma_cli_getopt_begin();
    while ((ch = cvma_cli_getopt(argc, argv, collect_options)) != -1) {
        const char *val = optarg;
        switch (ch) {
        case 'h':
            collect_usage(stdout);
            return 0;
        case O_NONCE:
            memset(o.nonce, 0, sizeof o.nonce);
            if (!cvma_hex_decode(val, o.nonce, sizeof o.nonce, &o.nonce_len) || o.nonce_len == 0) {
                return cvma_cli_usage_error("collect", "--nonce wants 1 to 64 bytes of hex");
            }
            have_nonce = true;
            break;
        case O_OUT:
            out = val;
            break;
        case O_TSM_ROOT:
            o.tsm_root = val;
            break;
        case O_DEV_ROOT:
            o.dev_root = val;
            break;
        case O_RAW_DIR:
            raw_dir = val;
            break;
        case O_TPM:
            want_tpm = true;
            break;
        case O_TPM_ONLY:
            want_tpm = tpm_only = true;
            break;
        case O_PCRS:
            if (!cvma_tpm_pcr_list_parse(val, &pcrs)) {
                return cvma_cli_usage_error("collect",
                                            "--pcrs wants [sha1|sha256|sha384:]N[-M],... with "
                                            "PCRs 0..23, not '%s'",
                                            val);
            }
            break;
        case O_TPM_TCTI:
            tcti = val;
            break;
        case O_SVSM_VTPM:
            o.svsm_vtpm = true;
            break;
        default:
            return cvma_cli_bad_option("collect", ch, argv);
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error("collect", "unexpected operand '%s'", argv[optind]);
    }
    if (!have_nonce || out == NULL || out[0] == '\0') {
        return cvma_cli_usage_error("collect", "--nonce and --out are required");
    }
    if ((rc = cvma_cli_out_file_check("collect", "--out", out, NULL, NULL, 0)) != 0) {
        return rc; /* (a CVM's root would replace /dev/null, say) */
    }
    if (raw_dir == NULL) {
        size_t n = strlen(out) + 5;
        if ((raw_default = malloc(n)) == NULL) {
            return EXIT_USAGE;
        }
        (void)snprintf(raw_default, n, "%s.raw", out);
        raw_dir = raw_default;
    }
    if (tcti == NULL) {
        (void)snprintf(tcti_default, sizeof tcti_default, "device:%s/tpmrm0",
                       o.dev_root != NULL ? o.dev_root : CVMA_COLLECT_DEV_ROOT);
        tcti = tcti_default;
    }
    collecting = true;
    if (want_tpm) {
        st = cvma_tpm_collect(tcti, &pcrs, o.nonce, o.nonce_len, &tpm, err, sizeof err);
        if (st != CVMA_OK) {
            cvma_cli_err("cvmattest collect: %s\n", err);
            rc = cvma_status_exit_code(st);
            goto out;
        }
    }
    st = tpm_only ? CVMA_OK : cvma_collect(&o, &c, err, sizeof err);
    /* Raw bytes first: kept whatever parsing said. */
    /* Both halves are written (or their files removed) whenever the directory holds anything
     * of this collection or of an earlier one: what it holds is this collection's only (a
     * TPM-only run leaves no earlier outblob, a run without --tpm no earlier tpm_*). */
    struct stat rsb;
    bool raw_any = c.evidence.len > 0 || c.tdreport.len > 0 || tpm.quote.len > 0 ||
                   tpm.hcl_report.len > 0 || stat(raw_dir, &rsb) == 0;
    rst = raw_any ? cvma_collected_write_raw(&c, raw_dir) : CVMA_OK;
    if (rst == CVMA_OK && raw_any) {
        rst = cvma_tpm_collected_write_raw(&tpm, raw_dir);
    }
    if (rst != CVMA_OK) {
        /* Raw bytes first: a collection whose bytes could not be kept makes no bundle. */
        cvma_cli_err("cvmattest collect: cannot write the raw bytes to '%s'%s\n", raw_dir,
                     st == CVMA_OK ? ": no bundle written" : "");
        if (st == CVMA_OK) {
            rc = cvma_status_exit_code(rst);
            goto out;
        }
    }
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest collect: %s\n", err);
        if (c.evidence.len > 0 || c.tdreport.len > 0) {
            cvma_cli_err("cvmattest collect: raw bytes kept in '%s'\n", raw_dir);
        }
        rc = cvma_status_exit_code(st);
        goto out;
    }
    for (size_t i = 0; i < c.certs.n; i++) {
        if (c.certs.e[i].bundle_name == NULL) {
            cvma_cli_err("cvmattest collect: certificate table entry %s is not one this version "
                         "knows: kept as '%s/cert-%s.bin', not in the bundle\n",
                         c.certs.e[i].guid_str, raw_dir, c.certs.e[i].guid_str);
        }
    }
    if ((st = cvma_collected_write_bundle(&c, want_tpm ? &tpm : NULL, out)) != CVMA_OK) {
        cvma_cli_err("cvmattest collect: cannot write '%s'\n", out);
        rc = cvma_status_exit_code(st);
        goto out;
    }
    if (want_tpm) {
        printf("cvmattest collect: vTPM quote (%s)%s\n", tcti,
               tpm.hcl_report.len > 0 ? ", HCL report from NV 0x01400001 kept raw" : "");
        if (tpm.hcl_problem != NULL) {
            cvma_cli_err("cvmattest collect: warning: NV 0x01400001 (Azure's HCL report) is there "
                         "but was not read: %s; no hcl_report.bin\n",
                         tpm.hcl_problem);
        }
    }
    if (tpm_only) {
        printf("cvmattest collect: wrote %s\n", out);
        rc = 0;
        goto out;
    }
    printf("cvmattest collect: %s evidence via %s%s%s", c.kind, c.via,
           c.provider[0] != '\0' ? " (provider " : "", c.provider[0] != '\0' ? c.provider : "");
    printf("%s", c.provider[0] != '\0' ? ")" : "");
    if (c.svsm_service) {
        printf(", the SVSM's vTPM service report (manifest of %zu bytes kept raw)", c.manifest.len);
    } else if (c.svsm) {
        printf(", under an SVSM at privlevel %u", c.privlevel);
    }
    if (c.attempts > 1) {
        printf(", %u reads (generation changed)", c.attempts);
    }
    if (c.certs_over > 0) {
        printf(", the host's certificate table (%u bytes) is over the %u bytes /dev/sev-guest "
               "passes: not read, the plain report",
               (unsigned)c.certs_over, (unsigned)c.certs_limit);
    } else if (c.ext_failed[0] != '\0') {
        printf(", the extended request failed (%s): the plain report", c.ext_failed);
    } else if (strcmp(c.kind, "sev-snp") == 0 && c.certs.n == 0) {
        printf(", no certificates from the host");
    }
    if (strcmp(c.kind, "sev-snp") == 0) {
        printf(", %zu certificate table entries", c.certs.n);
    }
    printf("; wrote %s\n", out);
    rc = 0;
out:
    if (collecting && rc != 0 && is_bundle_file(out) && unlink(out) == 0) {
        /* An earlier run's bundle at --out is not this collection's: never left beside the
         * raw bytes of one that failed. */
        cvma_cli_err("cvmattest collect: removed the earlier '%s': it is not this collection's\n",
                     out);
    }
    cvma_collected_free(&c);
    cvma_tpm_collected_free(&tpm);
    free(raw_default);
    return rc;
}

static const struct option guest_options[] = {
        {"json", no_argument, NULL, O_JSON},
        {"tsm-root", required_argument, NULL, O_TSM_ROOT},
        {"dev-root", required_argument, NULL, O_DEV_ROOT},
        {"cpuinfo", required_argument, NULL, O_CPUINFO},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

static void guest_usage(FILE *f)
{
    fputs("usage: cvmattest guest-check [--json] [options]\n"
          "Says which TEE this machine is a guest of, which attestation interfaces exist and\n"
          "what is missing for `cvmattest collect`.\n"
          "  --json            the findings as JSON\n"
          "  --tsm-root DIR    configfs-tsm root (default /sys/kernel/config/tsm)\n"
          "  --dev-root DIR    device directory (default /dev)\n"
          "  --cpuinfo FILE    CPU flags (default /proc/cpuinfo)\n"
          "Exit: 0 a TEE guest with an interface collect can use; 1 none; 2 usage error.\n",
          f);
}

int cvma_cmd_guest_check(int argc, char **argv)
{
    const char *tsm = NULL, *dev = NULL, *cpuinfo = NULL;
    struct cvma_guest_info g;
    bool json = false, usable;
    int ch;

    cvma_cli_getopt_begin();
    while ((ch = cvma_cli_getopt(argc, argv, guest_options)) != -1) {
        switch (ch) {
        case 'h':
            guest_usage(stdout);
            return 0;
        case O_JSON:
            json = true;
            break;
        case O_TSM_ROOT:
            tsm = optarg;
            break;
        case O_DEV_ROOT:
            dev = optarg;
            break;
        case O_CPUINFO:
            cpuinfo = optarg;
            break;
        default:
            return cvma_cli_bad_option("guest-check", ch, argv);
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error("guest-check", "unexpected operand '%s'", argv[optind]);
    }
    cvma_guest_probe(tsm, dev, cpuinfo, &g);
    tsm = tsm != NULL ? tsm : CVMA_COLLECT_TSM_ROOT;
    dev = dev != NULL ? dev : CVMA_COLLECT_DEV_ROOT;
    /* A TDX quote needs configfs-tsm that works; SEV-SNP works through either interface. */
    usable = cvma_guest_collect_possible(&g);

    /* The provider is the kernel's (or a tree's) text and the paths the caller's: escaped,
     * so that neither steers a terminal nor makes the JSON unwritable (not UTF-8). */
    static char tsm_e[4096], dev_e[4096], cpu_e[4096];
    char prov_e[4 * sizeof g.tsm_provider];
    tsm = cvma_text_escape(tsm, tsm_e, sizeof tsm_e);
    dev = cvma_text_escape(dev, dev_e, sizeof dev_e);
    cpuinfo = cvma_text_escape(cpuinfo != NULL ? cpuinfo : CVMA_GUEST_CPUINFO, cpu_e, sizeof cpu_e);
    const char *prov = cvma_text_escape(g.tsm_provider, prov_e, sizeof prov_e);
    const char *missing[5];
    char provider_msg[128 + sizeof prov_e];
    size_t n_missing = 0;
    /* A provider of no TEE this version knows (arm_cca_guest...): a confidential VM, maybe,
     * but not one collect reads; never said to be none. */
    bool other_tee = g.tee == NULL && g.tsm && g.tsm_probed && prov[0] != '\0';
    if (other_tee) {
        snprintf(provider_msg, sizeof provider_msg,
                 "configfs-tsm: provider '%s' is not one collect reads (sev_guest, tdx_guest): "
                 "the guest of a TEE this version does not know",
                 prov);
        missing[n_missing++] = provider_msg;
    } else if (g.tee == NULL) {
        missing[n_missing++] = "no TEE guest interface: this machine is no confidential VM";
    } else if (!g.tsm) {
        missing[n_missing++] = strcmp(g.tee, "tdx") == 0
                                       ? "configfs-tsm (Linux 6.7+, CONFIG_TSM_REPORTS, "
                                         "configfs mounted): needed for a TDX quote"
                                       : "configfs-tsm (Linux 6.7+, CONFIG_TSM_REPORTS): "
                                         "/dev/sev-guest is used instead";
    }
    char probe_e[4 * sizeof g.tsm_probe_why], probe_msg[32 + sizeof probe_e];
    if (g.tsm && !g.tsm_probed && g.tsm_probe_why[0] != '\0') {
        snprintf(probe_msg, sizeof probe_msg, "configfs-tsm: %s",
                 cvma_text_escape(g.tsm_probe_why, probe_e, sizeof probe_e));
        missing[n_missing++] = probe_msg;
    } else if (g.tsm && !g.tsm_probed) {
        missing[n_missing++] =
                g.tee != NULL && strcmp(g.tee, "tdx") == 0
                        ? "configfs-tsm: no report entry could be made or read (not root, or no "
                          "TSM provider loaded): needed for a TDX quote"
                        : "configfs-tsm: no report entry could be made or read (not root, or no "
                          "TSM provider loaded)";
    } else if (g.tsm && g.tee != NULL && !usable) {
        /* an entry was made, but collect refuses its provider */
        snprintf(provider_msg, sizeof provider_msg,
                 "configfs-tsm: provider '%s' is not one collect reads (%s)", prov,
                 strcmp(g.tee, "tdx") == 0 ? "tdx_guest" : "sev_guest");
        missing[n_missing++] = provider_msg;
    }
    if (!g.tpmrm && !g.tpm) {
        missing[n_missing++] = "no TPM (tpmrm0, tpm0): no vTPM quote (--tpm)";
    }

    if (json) {
        json_t *j = json_pack(
                "{s:o, s:b, s:{s:s, s:b, s:s?, s:b, s:I, s:b}, s:{s:s, s:b, s:b, s:b, s:b},"
                " s:{s:s, s:b, s:s?, s:b, s:b}, s:[]}",
                "tee", g.tee != NULL ? json_string(g.tee) : json_null(), "usable", usable,
                "configfs_tsm", "path", tsm, "present", g.tsm, "provider",
                prov[0] != '\0' ? prov : NULL, "svsm", g.tsm_privlevel_floor > 0, "privlevel_floor",
                (json_int_t)g.tsm_privlevel_floor, "svsm_services", g.tsm_service_provider,
                "devices", "root", dev, "sev-guest", g.sev_guest, "tdx_guest", g.tdx_guest,
                "tpmrm0", g.tpmrm, "tpm0", g.tpm, "cpu_flags", "path", cpuinfo, "read",
                g.cpuinfo_read, "why", g.cpuinfo_why[0] != '\0' ? g.cpuinfo_why : NULL, "sev_snp",
                g.cpu_snp, "tdx_guest", g.cpu_tdx, "missing");
        json_t *m = j != NULL ? json_object_get(j, "missing") : NULL;
        for (size_t i = 0; m != NULL && i < n_missing; i++) {
            (void)json_array_append_new(m, json_string(missing[i]));
        }
        char *text = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (text == NULL) {
            json_decref(j);
            cvma_cli_err("cvmattest guest-check: out of memory\n");
            return EXIT_USAGE;
        }
        puts(text);
        free(text);
        json_decref(j);
        return usable ? 0 : 1;
    }
    printf("tee: %s\n", g.tee != NULL ? g.tee
                        : other_tee ? "none this version knows (configfs-tsm has another provider)"
                                    : "none (this machine is no confidential VM)");
    printf("looked for:\n");
    printf("  configfs-tsm  %s/report: %s%s%s\n", tsm, g.tsm ? "present" : "absent",
           prov[0] != '\0' ? ", provider " : "", prov);
    if (g.tsm_privlevel_floor > 0) {
        printf("                under an SVSM (privlevel_floor %lu)%s\n", g.tsm_privlevel_floor,
               g.tsm_service_provider ? "; SVSM service reports available (--svsm-vtpm)"
                                      : "; no service_provider (SVSM services need Linux 6.10+)");
    }
    printf("  SEV-SNP       %s/sev-guest: %s\n", dev, g.sev_guest ? "present" : "absent");
    printf("  TDX           %s/tdx_guest: %s\n", dev, g.tdx_guest ? "present" : "absent");
    printf("  TPM           %s/tpmrm0: %s, %s/tpm0: %s\n", dev, g.tpmrm ? "present" : "absent", dev,
           g.tpm ? "present" : "absent");
    printf("  CPU flags     %s: %s%s%s%s%s\n", cpuinfo, g.cpuinfo_read ? "read" : "unreadable (",
           g.cpuinfo_read ? "" : g.cpuinfo_why, g.cpuinfo_read ? "" : ")",
           g.cpu_tdx ? ", tdx_guest" : "", g.cpu_snp ? ", sev_snp (also on hosts: a hint)" : "");
    for (size_t i = 0; i < n_missing; i++) {
        printf("missing: %s\n", missing[i]);
    }
    printf("collect: %s\n", usable ? "possible" : "not possible here");
    return usable ? 0 : 1;
}
