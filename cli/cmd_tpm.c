/*
 * cvmattest tpm check-quote --msg ATTEST --sig SIG --ak AK [--pcrs PCRS] [--eventlog LOG]
 * --nonce HEX [--json]:
 * verify a TPM 2.0 quote in the files tpm2-tools writes (docs/tpm.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cmds.h"
#include "common/hex.h"
#include "common/util.h"
#include "eventlog/eventlog.h"
#include "output.h"
#include "tpm/tpm.h"

#define TPM_FILE_MAX (1u << 20)

static const char usage[] =
        "usage: cvmattest tpm check-quote --msg ATTEST --sig SIG --ak AK [--pcrs PCRS]\n"
        "                                 [--eventlog LOG] --nonce HEX [--allow-trailing-data]\n"
        "                                 [--json]\n"
        "  Verifies a TPM 2.0 quote (docs/tpm.md):\n"
        "  --msg ATTEST    the quote: a marshalled TPMS_ATTEST (tpm2_quote -m) or TPM2B_ATTEST\n"
        "  --sig SIG       its TPMT_SIGNATURE (tpm2_quote -s): RSASSA, RSAPSS or ECDSA\n"
        "  --ak AK         the AK: TPMT_PUBLIC or TPM2B_PUBLIC (tpm2_readpublic -o; its\n"
        "                  attributes are checked) or a PEM public key (they cannot be)\n"
        "  --pcrs PCRS     PCR values: tpm2_quote -o, tpm2_pcrread or tpm2_quote output\n"
        "                  (YAML), or JSON {\"sha256\": {\"0\": \"<hex>\", ...}}\n"
        "  --eventlog LOG  a TCG event log (binary_bios_measurements): replayed and compared\n"
        "                  with the PCRs the quote covers; its claims go to claims.eventlog\n"
        "  --nonce HEX     the expected extraData (tpm2_quote -q); '' when there is none\n"
        "  --allow-trailing-data   bytes after the TPMS_ATTEST: a warning\n"
        "  --json          the result JSON (tee \"tpm\", claims.tpm.pcrs by bank and index)\n"
        "  A quote checked alone is never affirming: nothing here vouches for the AK, so a\n"
        "  quote that passes every check gets status warning with TPM_AK_NOT_BOUND (exit 0).\n"
        "  Exit 0 every check passed (status warning), 1 refused, 2 usage or unreadable file.\n";

static int read_input(const char *opt, const char *path, struct cvma_buf *out)
{
    if (cvma_file_read(path, TPM_FILE_MAX, out) != CVMA_OK) {
        return cvma_cli_usage_error("tpm check-quote", "%s '%s': cannot read it (or over %u bytes)",
                                    opt, path, TPM_FILE_MAX);
    }
    return 0;
}

static int check_quote(int argc, char **argv)
{
    enum { O_MSG = 1, O_SIG, O_AK, O_PCRS, O_NONCE, O_JSON, O_TRAILING, O_EVENTLOG };
    static const struct option opts[] = {
            {"msg", required_argument, NULL, O_MSG},
            {"sig", required_argument, NULL, O_SIG},
            {"ak", required_argument, NULL, O_AK},
            {"pcrs", required_argument, NULL, O_PCRS},
            {"eventlog", required_argument, NULL, O_EVENTLOG},
            {"nonce", required_argument, NULL, O_NONCE},
            {"json", no_argument, NULL, O_JSON},
            {"allow-trailing-data", no_argument, NULL, O_TRAILING},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *msg = NULL, *sig = NULL, *ak = NULL, *pcrs = NULL, *nonce = NULL, *log = NULL;
    struct cvma_buf mb = {0}, sb = {0}, ab = {0}, pb = {0}, lb = {0};
    struct cvma_tpm_quote_in in;
    struct cvma_result res;
    uint8_t nb[64];
    size_t nlen = 0;
    bool json = false, trailing = false;
    int rc = 2, c;

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_MSG:
            msg = optarg;
            break;
        case O_SIG:
            sig = optarg;
            break;
        case O_AK:
            ak = optarg;
            break;
        case O_PCRS:
            pcrs = optarg;
            break;
        case O_EVENTLOG:
            log = optarg;
            break;
        case O_NONCE:
            nonce = optarg;
            break;
        case O_JSON:
            json = true;
            break;
        case O_TRAILING:
            trailing = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return cvma_cli_bad_option("tpm check-quote", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error("tpm check-quote", "takes no operands, got '%s'", argv[optind]);
    }
    if (msg == NULL || sig == NULL || ak == NULL) {
        return cvma_cli_usage_error("tpm check-quote", "--msg, --sig and --ak are required");
    }
    if (nonce == NULL) {
        return cvma_cli_usage_error("tpm check-quote",
                                    "--nonce HEX is required (--nonce '' for a quote without "
                                    "extraData): a quote without a nonce proves no freshness");
    }
    if (nonce[0] != '\0' && !cvma_hex_decode(nonce, nb, sizeof nb, &nlen)) {
        return cvma_cli_usage_error("tpm check-quote",
                                    "--nonce wants up to 64 bytes of hex, not '%s'", nonce);
    }
    if ((rc = read_input("--msg", msg, &mb)) != 0 || (rc = read_input("--sig", sig, &sb)) != 0 ||
        (rc = read_input("--ak", ak, &ab)) != 0 ||
        (pcrs != NULL && (rc = read_input("--pcrs", pcrs, &pb)) != 0)) {
        goto out;
    }
    if (log != NULL && cvma_file_read(log, CVMA_EVENTLOG_MAX_SIZE, &lb) != CVMA_OK) {
        rc = cvma_cli_usage_error("tpm check-quote",
                                  "--eventlog '%s': cannot read it (or over %u bytes)", log,
                                  CVMA_EVENTLOG_MAX_SIZE);
        goto out;
    }
    memset(&in, 0, sizeof in);
    in.attest.p = mb.p;
    in.attest.len = mb.len;
    in.sig.p = sb.p;
    in.sig.len = sb.len;
    in.ak.p = ab.p;
    in.ak.len = ab.len;
    if (pcrs != NULL) {
        in.pcrs.p = pb.p;
        in.pcrs.len = pb.len;
    }
    if (log != NULL) {
        in.eventlog.p = lb.p;
        in.eventlog.len = lb.len;
    }
    in.has_nonce = true;
    in.nonce = nb;
    in.nonce_len = nlen;
    in.allow_trailing_data = trailing;
    cvma_result_init(&res, "tpm", time(NULL));
    cvma_tpm_quote_verify(&in, &res);
    cvma_result_finish(&res);
    cvma_print_result(&res, json, stdout);
    rc = cvma_result_exit_code(&res);
    cvma_result_cleanup(&res);
out:
    cvma_buf_free(&mb);
    cvma_buf_free(&sb);
    cvma_buf_free(&ab);
    cvma_buf_free(&pb);
    cvma_buf_free(&lb);
    return rc;
}

int cvma_cmd_tpm(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "check-quote") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    return check_quote(argc - 1, argv + 1);
}
