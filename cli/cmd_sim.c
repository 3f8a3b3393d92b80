/*
 * cvmattest sim KIND ...: emit simulated evidence, its test root and collateral.
 * Kinds: snp (sim/sim_snp.h), tdx (sim/sim_tdx.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmds.h"
#include "common/hex.h"
#include "common/util.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "sim/sim_tree.h"
#include "verifier/bundle.h"

#define EXIT_USAGE 2

/* The options of both kinds; each kind has its own table below. */
enum {
    O_OUT = 256,
    O_VERSION,
    O_DEBUG,
    O_KEEP_KEYS,
    O_REPORT_DATA,
    /* snp */
    O_PRODUCT,
    O_MEASUREMENT,
    O_HOST_DATA,
    O_CHIP_ID,
    O_VMPL,
    O_TCB,
    O_FMC,
    O_VLEK,
    O_MASK_CHIP_ID,
    O_REVOKE_ASK,
    /* tdx */
    O_MR_TD,
    O_RTMR,
    O_MR_CONFIG_ID,
    O_PPID,
    O_FMSPC,
    O_TCB_STATUS,
    O_REVOKE_PCK,
    O_STALE,
    /* both: simulated guest interfaces (sim/sim_tree.h) */
    O_TSM_TREE,
    O_DEV_TREE,
    O_PRIVLEVEL_FLOOR,
    O_TSM_MANIFEST,
};

static const struct option snp_options[] = {
        {"out", required_argument, NULL, O_OUT},
        {"version", required_argument, NULL, O_VERSION},
        {"product", required_argument, NULL, O_PRODUCT},
        {"measurement", required_argument, NULL, O_MEASUREMENT},
        {"report-data", required_argument, NULL, O_REPORT_DATA},
        {"host-data", required_argument, NULL, O_HOST_DATA},
        {"chip-id", required_argument, NULL, O_CHIP_ID},
        {"debug", no_argument, NULL, O_DEBUG},
        {"vmpl", required_argument, NULL, O_VMPL},
        {"tcb", required_argument, NULL, O_TCB},
        {"fmc", required_argument, NULL, O_FMC},
        {"vlek", no_argument, NULL, O_VLEK},
        {"mask-chip-id", no_argument, NULL, O_MASK_CHIP_ID},
        {"revoke-ask", no_argument, NULL, O_REVOKE_ASK},
        {"privlevel-floor", required_argument, NULL, O_PRIVLEVEL_FLOOR},
        {"tsm-manifest", required_argument, NULL, O_TSM_MANIFEST},
        {"keep-keys", no_argument, NULL, O_KEEP_KEYS},
        {"tsm-tree", required_argument, NULL, O_TSM_TREE},
        {"dev-tree", required_argument, NULL, O_DEV_TREE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

static const struct option tdx_options[] = {
        {"out", required_argument, NULL, O_OUT},
        {"version", required_argument, NULL, O_VERSION},
        {"mr-td", required_argument, NULL, O_MR_TD},
        {"rtmr", required_argument, NULL, O_RTMR | CVMA_CLI_MANY},
        {"report-data", required_argument, NULL, O_REPORT_DATA},
        {"mr-config-id", required_argument, NULL, O_MR_CONFIG_ID},
        {"debug", no_argument, NULL, O_DEBUG},
        {"ppid", required_argument, NULL, O_PPID},
        {"fmspc", required_argument, NULL, O_FMSPC},
        {"tcb-status", required_argument, NULL, O_TCB_STATUS},
        {"revoke-pck", no_argument, NULL, O_REVOKE_PCK},
        {"stale", no_argument, NULL, O_STALE},
        {"keep-keys", no_argument, NULL, O_KEEP_KEYS},
        {"tsm-tree", required_argument, NULL, O_TSM_TREE},
        {"dev-tree", required_argument, NULL, O_DEV_TREE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* DIR/bundle.json: the evidence with every certificate, CRL and collateral file it needs
 * (docs/bundle.md), so that `verify DIR/bundle.json --offline --trust-root ROOT` needs
 * nothing else. */
static enum cvma_status write_bundle(const char *dir, const char *evidence_name, const char *kind)
{
    char *ev_path = cvma_path_join(dir, evidence_name);
    char *out = cvma_path_join(dir, "bundle.json");
    struct cvma_buf ev = {0};
    enum cvma_status st = CVMA_E_NOMEM;
    if (ev_path != NULL && out != NULL &&
        (st = cvma_file_read(ev_path, 1u << 20, &ev)) == CVMA_OK) {
        st = cvma_bundle_write(out, kind, ev.p, ev.len, dir);
    }
    cvma_buf_free(&ev);
    free(ev_path);
    free(out);
    return st;
}

static void sim_usage(FILE *f)
{
    fputs("usage: cvmattest sim KIND [options]\n"
          "kinds:\n"
          "  snp    simulated AMD SEV-SNP report + test ARK/ASK/VCEK hierarchy + CRL\n"
          "  tdx    simulated Intel TDX quote + test PCK hierarchy + TCB Info, QE Identity, "
          "CRLs\n"
          "run 'cvmattest sim KIND --help' for the options of a kind\n",
          f);
}

static void snp_usage(FILE *f)
{
    fputs("usage: cvmattest sim snp --out DIR [options]\n"
          "  --out DIR               output directory (created if missing)\n"
          "  --version 2|3|4|5       report version (default 5; 4 uses the v3 layout)\n"
          "  --product milan|genoa|turin   (default milan)\n"
          "  --measurement HEX       exactly 48 bytes (default: random)\n"
          "  --report-data HEX       up to 64 bytes, zero-padded (default: zeros)\n"
          "  --host-data HEX         up to 32 bytes, zero-padded (default: zeros)\n"
          "  --chip-id HEX           64 bytes; turin: 8 bytes, or 64 with zeros after byte 8\n"
          "                          (default: random)\n"
          "  --debug                 set policy bit 19 (DEBUG)\n"
          "  --vmpl N|host           0..3 (default 0); host: 0xFFFFFFFF, a report the host\n"
          "                          requested (SNP_HV_REPORT_REQ), which verify refuses\n"
          "  --tcb BL,TEE,SNP,UCODE  TCB SPLs, each 0..255 (default 3,0,8,115)\n"
          "  --fmc N                 turin FMC SPL 0..255 (default 1)\n"
          "  --vlek                  sign with a VLEK under an ASVK (SIGNING_KEY = 1)\n"
          "  --mask-chip-id          report CHIP_ID all zeros\n"
          "  --revoke-ask            the CRL lists the ASK/ASVK serial\n"
          "  --keep-keys             also write ark-key.pem, ask-key.pem, vcek-key.pem\n"
          "                          (asvk-key.pem, vlek-key.pem with --vlek); test keys only\n"
          "  --tsm-tree DIR          also write a configfs-tsm tree for `collect --tsm-root`\n"
          "  --dev-tree DIR          also write a /dev tree (sev-guest stand-in) for\n"
          "                          `collect --dev-root` (docs/collect.md)\n"
          "  --privlevel-floor N     the tsm tree's privlevel_floor, 0..3 (>0: under an SVSM);\n"
          "                          needs --tsm-tree, as --tsm-manifest does\n"
          "  --tsm-manifest FILE     the tsm tree's manifestblob (an SVSM service manifest;\n"
          "                          give --report-data SHA-512(nonce || manifest))\n"
          "Writes report.bin, bundle.json, ark.pem, ask.pem|asvk.pem, "
          "vcek.pem+vcek.der|vlek.pem+vlek.der,\n"
          "cert_chain.pem and crl.der. The root is generated fresh and is NOT AMD's: verify\n"
          "with --trust-root DIR/ark.pem.\n",
          f);
}

/* Parses a decimal number 0..max; the whole string must be digits. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    uint64_t v;
    if (s == NULL || !cvma_cli_uint(s, 0, max, &v)) {
        return false;
    }
    *out = (unsigned long)v;
    return true;
}

/* "bl,tee,snp,ucode", each 0..255. */
static bool parse_tcb(const char *s, uint8_t out[4])
{
    const char *p = s;

    for (size_t i = 0; i < 4; i++) {
        size_t n = strcspn(p, ",");
        uint64_t v;
        if (!cvma_dec_u64(p, n, 0, 255, &v) || p[n] != (i < 3 ? ',' : '\0')) {
            return false;
        }
        out[i] = (uint8_t)v;
        p += n + 1;
    }
    return true;
}

/* Hex into out (cap bytes, zero-filled first); length must be in [min, cap]. */
static bool parse_hex_kind(const char *kind, const char *opt, const char *s, uint8_t *out,
                           size_t cap, size_t min, size_t *len)
{
    memset(out, 0, cap);
    if (!cvma_hex_decode(s, out, cap, len) || *len < min) {
        memset(out, 0, cap);
        if (min == cap) {
            cvma_cli_err("cvmattest sim %s: %s: need exactly %zu bytes as hex (%zu digits)\n", kind,
                         opt, cap, 2 * cap);
        } else {
            cvma_cli_err("cvmattest sim %s: %s: need hex, at most %zu bytes (%zu digits)\n", kind,
                         opt, cap, 2 * cap);
        }
        return false;
    }
    return true;
}

static bool parse_hex(const char *opt, const char *s, uint8_t *out, size_t cap, size_t min,
                      size_t *len)
{
    return parse_hex_kind("snp", opt, s, out, cap, min, len);
}

static int sim_snp(int argc, char **argv)
{
    struct cvma_sim_snp_opts o;
    const char *out_dir = NULL, *chip_hex = NULL, *fmc_arg = NULL;
    const char *tsm_tree = NULL, *dev_tree = NULL, *manifest = NULL;
    unsigned long floor = 0;
    bool floor_given = false;
    char err[512];
    enum cvma_status st;
    unsigned long v;
    size_t len;
    int c;

    cvma_sim_snp_opts_default(&o);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, snp_options)) != -1) {
        const char *val = optarg;

        switch (c) {
        case 'h':
            snp_usage(stdout);
            return 0;
        case O_DEBUG:
            o.debug = true;
            break;
        case O_VLEK:
            o.vlek = true;
            break;
        case O_MASK_CHIP_ID:
            o.mask_chip_id = true;
            break;
        case O_REVOKE_ASK:
            o.revoke_ask = true;
            break;
        case O_KEEP_KEYS:
            o.keep_keys = true;
            break;
        case O_TSM_TREE:
            tsm_tree = val;
            break;
        case O_DEV_TREE:
            dev_tree = val;
            break;
        case O_TSM_MANIFEST:
            manifest = val;
            break;
        case O_PRIVLEVEL_FLOOR:
            if (!parse_uint(val, 3, &floor)) {
                return cvma_cli_usage_error("sim snp", "--privlevel-floor wants 0..3");
            }
            floor_given = true;
            break;
        case O_OUT:
            out_dir = val;
            break;
        case O_VERSION:
            if (!parse_uint(val, 5, &v) || v < 2) {
                cvma_cli_err("cvmattest sim snp: --version: '%s' is not 2, 3, 4 or 5\n", val);
                return EXIT_USAGE;
            }
            o.version = (unsigned)v;
            break;
        case O_PRODUCT:
            if (strcmp(val, "milan") == 0) {
                o.product = CVMA_SNP_PRODUCT_MILAN;
            } else if (strcmp(val, "genoa") == 0) {
                o.product = CVMA_SNP_PRODUCT_GENOA;
            } else if (strcmp(val, "turin") == 0) {
                o.product = CVMA_SNP_PRODUCT_TURIN;
            } else {
                cvma_cli_err("cvmattest sim snp: --product: '%s' is not milan, genoa or turin\n",
                             val);
                return EXIT_USAGE;
            }
            break;
        case O_MEASUREMENT:
            if (!parse_hex("--measurement", val, o.measurement, sizeof o.measurement,
                           sizeof o.measurement, &len)) {
                return EXIT_USAGE;
            }
            o.has_measurement = true;
            break;
        case O_REPORT_DATA:
            if (!parse_hex("--report-data", val, o.report_data, sizeof o.report_data, 0, &len)) {
                return EXIT_USAGE;
            }
            break;
        case O_HOST_DATA:
            if (!parse_hex("--host-data", val, o.host_data, sizeof o.host_data, 0, &len)) {
                return EXIT_USAGE;
            }
            break;
        case O_CHIP_ID:
            chip_hex = val; /* its length rule depends on --product, which may come later */
            break;
        case O_VMPL:
            if (strcmp(val, "host") == 0) {
                o.vmpl = CVMA_SIM_SNP_VMPL_HOST; /* a report the host asked for */
                break;
            }
            if (!parse_uint(val, 3, &v)) {
                cvma_cli_err("cvmattest sim snp: --vmpl: '%s' is not 0..3 or host\n", val);
                return EXIT_USAGE;
            }
            o.vmpl = (uint32_t)v;
            break;
        case O_TCB: {
            uint8_t t[4];

            if (!parse_tcb(val, t)) {
                cvma_cli_err(
                        "cvmattest sim snp: --tcb: '%s' is not BL,TEE,SNP,UCODE (each 0..255)\n",
                        val);
                return EXIT_USAGE;
            }
            o.tcb_bl = t[0];
            o.tcb_tee = t[1];
            o.tcb_snp = t[2];
            o.tcb_ucode = t[3];
            break;
        }
        case O_FMC:
            if (!parse_uint(val, 255, &v)) {
                cvma_cli_err("cvmattest sim snp: --fmc: '%s' is not 0..255\n", val);
                return EXIT_USAGE;
            }
            o.tcb_fmc = (uint8_t)v;
            fmc_arg = val;
            break;
        default:
            return cvma_cli_bad_option("sim snp", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error("sim snp", "unexpected argument '%s'", argv[optind]);
    }

    if (out_dir == NULL) {
        cvma_cli_err("cvmattest sim snp: --out DIR is required\n");
        snp_usage(stderr);
        return EXIT_USAGE;
    }
    /* Both describe the tsm tree: without one they would be ignored. */
    if ((floor_given || manifest != NULL) && tsm_tree == NULL) {
        return cvma_cli_usage_error("sim snp",
                                    "%s describes the configfs-tsm tree: give --tsm-tree "
                                    "DIR too",
                                    floor_given ? "--privlevel-floor" : "--tsm-manifest");
    }
    if (fmc_arg != NULL && o.product != CVMA_SNP_PRODUCT_TURIN) {
        cvma_cli_err("cvmattest sim snp: --fmc: only Turin has an FMC SPL (use --product "
                     "turin)\n");
        return EXIT_USAGE;
    }
    if (chip_hex != NULL) {
        bool turin = o.product == CVMA_SNP_PRODUCT_TURIN;

        memset(o.chip_id, 0, sizeof o.chip_id);
        if (!cvma_hex_decode(chip_hex, o.chip_id, sizeof o.chip_id, &len) ||
            (len != sizeof o.chip_id && !(turin && len == 8))) {
            cvma_cli_err("cvmattest sim snp: --chip-id: need %s bytes of hex\n",
                         turin ? "8 or 64" : "exactly 64");
            return EXIT_USAGE;
        }
        for (size_t k = 8; turin && k < sizeof o.chip_id; k++) {
            if (o.chip_id[k] != 0) {
                cvma_cli_err("cvmattest sim snp: --chip-id: a Turin chip ID has 8 bytes; "
                             "bytes 8..63 must be zero\n");
                return EXIT_USAGE;
            }
        }
        o.has_chip_id = true;
    }

    st = cvma_sim_snp_write(&o, out_dir, err, sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest %s\n", err[0] != '\0' ? err : "sim snp: failed");
        return cvma_status_exit_code(st);
    }
    if ((st = write_bundle(out_dir, "report.bin", "sev-snp")) != CVMA_OK) {
        cvma_cli_err("cvmattest sim snp: cannot write '%s/bundle.json'\n", out_dir);
        return cvma_status_exit_code(st);
    }
    if ((tsm_tree != NULL || dev_tree != NULL) &&
        (st = cvma_sim_tree_write("sev-snp", out_dir, tsm_tree, dev_tree, (unsigned)floor, manifest,
                                  err, sizeof err)) != CVMA_OK) {
        cvma_cli_err("cvmattest %s\n", err);
        return cvma_status_exit_code(st);
    }
    printf("cvmattest sim snp: wrote a simulated %s report v%u signed by a test %s to %s\n",
           o.product == CVMA_SNP_PRODUCT_TURIN   ? "Turin"
           : o.product == CVMA_SNP_PRODUCT_GENOA ? "Genoa"
                                                 : "Milan",
           o.version, o.vlek ? "VLEK" : "VCEK", out_dir);
    return 0;
}

static void tdx_usage(FILE *f)
{
    fputs("usage: cvmattest sim tdx --out DIR [options]\n"
          "  --out DIR               output directory (created if missing)\n"
          "  --version 4|5           quote version (default 4; 5 carries TD report 1.5)\n"
          "  --mr-td HEX             exactly 48 bytes (default: random)\n"
          "  --rtmr N=HEX            RTMR N (0..3), exactly 48 bytes; repeatable, once per N\n"
          "                          (default: RTMR0-2 random, RTMR3 zero)\n"
          "  --report-data HEX       up to 64 bytes, zero-padded (default: zeros)\n"
          "  --mr-config-id HEX      up to 48 bytes, zero-padded (default: zeros)\n"
          "  --debug                 set TD_ATTRIBUTES bit 0 (DEBUG)\n"
          "  --ppid HEX              PPID in the PCK certificate, exactly 16 bytes (default: "
          "random)\n"
          "  --fmspc HEX             FMSPC, exactly 6 bytes (default B0C06F000000)\n"
          "  --tcb-status S          uptodate|swhardening|configneeded|outofdate|revoked|nolevel|\n"
          "                          relaunch: the TCB level the platform lands on in TCB Info\n"
          "                          (default uptodate; nolevel: none matches; relaunch:\n"
          "                          TDRelaunchAdvised, launched on an OutOfDate TDX module,\n"
          "                          now UpToDate: implies --version 5)\n"
          "  --revoke-pck            the PCK CRL lists the PCK certificate's serial\n"
          "  --stale                 TCB Info and QE Identity expired (next update 30 days ago)\n"
          "  --keep-keys             also write root_ca-key.pem, pck_ca-key.pem, pck-key.pem,\n"
          "                          tcb_signing-key.pem, attestation-key.pem; test keys only\n"
          "  --tsm-tree DIR          also write a configfs-tsm tree for `collect --tsm-root`\n"
          "  --dev-tree DIR          also write a /dev tree (tdx_guest) for `collect --dev-root`\n"
          "Writes quote.bin, bundle.json, root_ca.pem, tcb_info.json, qe_identity.json,\n"
          "tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem, pck_crl_issuer_chain.pem,\n"
          "pck_crl.der and root_ca_crl.der. The root is generated fresh and is NOT Intel's:\n"
          "verify with --collateral DIR --trust-root DIR/root_ca.pem.\n",
          f);
}

static bool parse_tcb_status(const char *s, enum cvma_sim_tdx_tcb_status *out)
{
    static const struct {
        const char *name;
        enum cvma_sim_tdx_tcb_status v;
    } names[] = {
            {"uptodate", CVMA_SIM_TDX_TCB_UPTODATE},
            {"swhardening", CVMA_SIM_TDX_TCB_SWHARDENING},
            {"configneeded", CVMA_SIM_TDX_TCB_CONFIGNEEDED},
            {"outofdate", CVMA_SIM_TDX_TCB_OUTOFDATE},
            {"revoked", CVMA_SIM_TDX_TCB_REVOKED},
            {"nolevel", CVMA_SIM_TDX_TCB_NOLEVEL},
            {"relaunch", CVMA_SIM_TDX_TCB_RELAUNCH},
    };

    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].v;
            return true;
        }
    }
    return false;
}

static int sim_tdx(int argc, char **argv)
{
    struct cvma_sim_tdx_opts o;
    const char *out_dir = NULL, *tsm_tree = NULL, *dev_tree = NULL;
    char err[512];
    enum cvma_status st;
    unsigned long v;
    size_t len;
    bool version_given = false;
    int c;

    cvma_sim_tdx_opts_default(&o);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, tdx_options)) != -1) {
        const char *val = optarg;

        switch (c) {
        case 'h':
            tdx_usage(stdout);
            return 0;
        case O_DEBUG:
            o.debug = true;
            break;
        case O_REVOKE_PCK:
            o.revoke_pck = true;
            break;
        case O_STALE:
            o.stale = true;
            break;
        case O_KEEP_KEYS:
            o.keep_keys = true;
            break;
        case O_TSM_TREE:
            tsm_tree = val;
            break;
        case O_DEV_TREE:
            dev_tree = val;
            break;
        case O_OUT:
            out_dir = val;
            break;
        case O_VERSION:
            if (!parse_uint(val, 5, &v) || v < 4) {
                cvma_cli_err("cvmattest sim tdx: --version: '%s' is not 4 or 5\n", val);
                return EXIT_USAGE;
            }
            o.version = (unsigned)v;
            version_given = true;
            break;
        case O_MR_TD:
            if (!parse_hex_kind("tdx", "--mr-td", val, o.mr_td, sizeof o.mr_td, sizeof o.mr_td,
                                &len)) {
                return EXIT_USAGE;
            }
            o.has_mr_td = true;
            break;
        case O_RTMR: {
            if (val[0] < '0' || val[0] > '3' || val[1] != '=') {
                cvma_cli_err("cvmattest sim tdx: --rtmr: '%s' is not N=HEX with N 0..3\n", val);
                return EXIT_USAGE;
            }
            size_t n = (size_t)(val[0] - '0');
            if (o.has_rtmr[n]) {
                return cvma_cli_usage_error("sim tdx", "--rtmr %zu given twice", n);
            }
            if (!parse_hex_kind("tdx", "--rtmr", val + 2, o.rtmr[n], sizeof o.rtmr[n],
                                sizeof o.rtmr[n], &len)) {
                return EXIT_USAGE;
            }
            o.has_rtmr[n] = true;
            break;
        }
        case O_REPORT_DATA:
            if (!parse_hex_kind("tdx", "--report-data", val, o.report_data, sizeof o.report_data, 0,
                                &len)) {
                return EXIT_USAGE;
            }
            break;
        case O_MR_CONFIG_ID:
            if (!parse_hex_kind("tdx", "--mr-config-id", val, o.mr_config_id, sizeof o.mr_config_id,
                                0, &len)) {
                return EXIT_USAGE;
            }
            break;
        case O_PPID:
            if (!parse_hex_kind("tdx", "--ppid", val, o.ppid, sizeof o.ppid, sizeof o.ppid, &len)) {
                return EXIT_USAGE;
            }
            o.has_ppid = true;
            break;
        case O_FMSPC:
            if (!parse_hex_kind("tdx", "--fmspc", val, o.fmspc, sizeof o.fmspc, sizeof o.fmspc,
                                &len)) {
                return EXIT_USAGE;
            }
            break;
        case O_TCB_STATUS:
            if (!parse_tcb_status(val, &o.tcb_status)) {
                cvma_cli_err("cvmattest sim tdx: --tcb-status: '%s' is not uptodate, swhardening, "
                             "configneeded, outofdate, revoked, nolevel or relaunch\n",
                             val);
                return EXIT_USAGE;
            }
            break;
        default:
            return cvma_cli_bad_option("sim tdx", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error("sim tdx", "unexpected argument '%s'", argv[optind]);
    }

    if (out_dir == NULL) {
        cvma_cli_err("cvmattest sim tdx: --out DIR is required\n");
        tdx_usage(stderr);
        return EXIT_USAGE;
    }
    if (o.tcb_status == CVMA_SIM_TDX_TCB_RELAUNCH && !version_given) {
        o.version = 5; /* TEE_TCB_SVN2 is in a TD report 1.5 only */
    }
    st = cvma_sim_tdx_write(&o, out_dir, err, sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest %s\n", err[0] != '\0' ? err : "sim tdx: failed");
        return cvma_status_exit_code(st);
    }
    if ((st = write_bundle(out_dir, "quote.bin", "tdx")) != CVMA_OK) {
        cvma_cli_err("cvmattest sim tdx: cannot write '%s/bundle.json'\n", out_dir);
        return cvma_status_exit_code(st);
    }
    if ((tsm_tree != NULL || dev_tree != NULL) &&
        (st = cvma_sim_tree_write("tdx", out_dir, tsm_tree, dev_tree, 0, NULL, err, sizeof err)) !=
                CVMA_OK) {
        cvma_cli_err("cvmattest %s\n", err);
        return cvma_status_exit_code(st);
    }
    printf("cvmattest sim tdx: wrote a simulated TDX quote v%u (TCB status %s) signed by a test "
           "PCK hierarchy to %s\n",
           o.version,
           o.tcb_status == CVMA_SIM_TDX_TCB_NOLEVEL ? "none: no level matches"
                                                    : cvma_sim_tdx_tcb_status_name(o.tcb_status),
           out_dir);
    return 0;
}

int cvma_cmd_sim(int argc, char **argv)
{
    if (argc < 2) {
        sim_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        sim_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "snp") == 0) {
        return sim_snp(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "tdx") == 0) {
        return sim_tdx(argc - 1, argv + 1);
    }
    cvma_cli_err("cvmattest sim: unknown kind '%s' (known: snp, tdx)\n", argv[1]);
    sim_usage(stderr);
    return EXIT_USAGE;
}
