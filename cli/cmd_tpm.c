/*
 * cvmattest tpm check-quote --msg ATTEST --sig SIG --ak AK [--pcrs PCRS] [--eventlog LOG]
 * --nonce HEX [--json]:
 * verify a TPM 2.0 quote in the files tpm2-tools writes (docs/tpm.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cmds.h"
#include "common/hex.h"
#include "common/util.h"
#include "eventlog/eventlog.h"
#include "output.h"
#include "tpm/tpm.h"
#include "vtpm/vtpm.h"

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
            {"nonce", required_argument, NULL, O_NONCE | CVMA_CLI_EMPTY},
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
    if (res.verdict.oom) {
        /* as cvma_verify: out of memory is the command's error, never a verdict */
        cvma_cli_err("cvmattest tpm check-quote: out of memory\n");
        rc = 2;
    } else {
        rc = cvma_print_result(&res, json, stdout) ? cvma_result_exit_code(&res) : 2;
    }
    cvma_result_cleanup(&res);
out:
    cvma_buf_free(&mb);
    cvma_buf_free(&sb);
    cvma_buf_free(&ab);
    cvma_buf_free(&pb);
    cvma_buf_free(&lb);
    return rc;
}

/* The directory path names (its part before the last '/'; "." when there is none): its
 * device and inode in *sb, or false when it cannot be looked at. */
static bool dir_of(const char *path, struct stat *sb)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return stat(".", sb) == 0;
    }
    if (slash == path) {
        return stat("/", sb) == 0;
    }
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir == NULL) {
        return false;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    bool ok = stat(dir, sb) == 0;
    free(dir);
    return ok;
}

/* True when a and b name one directory entry, however spelled (c3, ./c3, d/../c3, a link to
 * the directory): the same last component in the same directory. Both outputs are renamed
 * into place, so the second would replace the first. */
static bool same_entry(const char *a, const char *b)
{
    const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
    struct stat da, db;
    ba = ba != NULL ? ba + 1 : a;
    bb = bb != NULL ? bb + 1 : b;
    if (strcmp(a, b) == 0) {
        return true;
    }
    return strcmp(ba, bb) == 0 && dir_of(a, &da) && dir_of(b, &db) && da.st_dev == db.st_dev &&
           da.st_ino == db.st_ino;
}

/* Writes the credential file, then the secret: exit 0, or 2 saying which file and why. A
 * path whose write failed is removed (the failure can come after the rename: the directory's
 * fsync), and so is the credential when its secret was not written: of no use without it. */
static int write_credential(const char *verb, const char *out, const uint8_t *file, size_t len,
                            const char *secret, const struct cvma_tpm_credential *cred)
{
    int e;
    if (cvma_file_write_atomic(out, file, len) != CVMA_OK) {
        e = errno;
        (void)unlink(out);
        cvma_cli_err("cvmattest %s: cannot write --out '%s': %s; nothing written\n", verb, out,
                     strerror(e));
        return 2;
    }
    if (cvma_file_write_atomic_mode(secret, cred->secret, sizeof cred->secret, 0600) != CVMA_OK) {
        e = errno;
        (void)unlink(secret);
        (void)unlink(out);
        cvma_cli_err("cvmattest %s: cannot write --secret-out '%s': %s; --out '%s' removed, "
                     "nothing written\n",
                     verb, secret, strerror(e), out);
        return 2;
    }
    return 0;
}

static const char mc_usage[] =
        "usage: cvmattest tpm make-credential --ek EK --ak AK --out CRED --secret-out FILE\n"
        "  TPM2_MakeCredential in software (docs/vtpm-binding.md): a fresh 32-byte secret\n"
        "  that only the TPM holding EK can recover, and only for the AK named:\n"
        "  --ek EK            the EK public area: TPMT_PUBLIC (an SVSM vTPM manifest) or\n"
        "                     TPM2B_PUBLIC (tpm2_createek -u); RSA-2048 template L-1\n"
        "                     (exponent 65537, an EK's attributes)\n"
        "  --ak AK            the AK public area (TPMT_PUBLIC or TPM2B_PUBLIC): its name\n"
        "  --out CRED         the credential in tpm2-tools' format, for\n"
        "                     tpm2_activatecredential -i CRED\n"
        "  --secret-out FILE  the secret (32 bytes) the TPM must give back; not --out's file\n"
        "  Exit 0 written; 2 usage error, unreadable file or an output not written (the\n"
        "  credential is then removed too).\n";

static int make_credential(int argc, char **argv)
{
    enum { O_EK = 1, O_AK, O_OUT, O_SECRET };
    static const struct option opts[] = {
            {"ek", required_argument, NULL, O_EK},
            {"ak", required_argument, NULL, O_AK},
            {"out", required_argument, NULL, O_OUT},
            {"secret-out", required_argument, NULL, O_SECRET},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *ek = NULL, *ak = NULL, *out = NULL, *secret = NULL, *verb = "tpm make-credential";
    struct cvma_buf eb = {0}, ab = {0}, file = {0};
    struct cvma_tpm_credential cred;
    TPMT_PUBLIC ekp, akp;
    TPM2B_NAME name;
    int c, rc = 2;

    memset(&cred, 0, sizeof cred);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_EK:
            ek = optarg;
            break;
        case O_AK:
            ak = optarg;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_SECRET:
            secret = optarg;
            break;
        case 'h':
            fputs(mc_usage, stdout);
            return 0;
        default:
            return cvma_cli_bad_option(verb, c, argv);
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error(verb, "takes no operands, got '%s'", argv[optind]);
    }
    if (ek == NULL || ak == NULL || out == NULL || secret == NULL) {
        return cvma_cli_usage_error(verb, "--ek, --ak, --out and --secret-out are required");
    }
    const char *const ins[] = {ek, ak, out};
    const char *const ins_opt[] = {"--ek", "--ak", "--out"};
    if (same_entry(out, secret)) {
        return cvma_cli_usage_error(verb, "--out '%s' and --secret-out '%s' name one file", out,
                                    secret);
    }
    if ((rc = cvma_cli_out_file_check(verb, "--out", out, ins, ins_opt, 2)) != 0 ||
        (rc = cvma_cli_out_file_check(verb, "--secret-out", secret, ins, ins_opt, 3)) != 0) {
        return rc;
    }
    if (cvma_file_read(ek, TPM_FILE_MAX, &eb) != CVMA_OK) {
        rc = cvma_cli_read_error(verb, "--ek", ek, TPM_FILE_MAX, errno);
        goto done;
    }
    if (cvma_file_read(ak, TPM_FILE_MAX, &ab) != CVMA_OK) {
        rc = cvma_cli_read_error(verb, "--ak", ak, TPM_FILE_MAX, errno);
        goto done;
    }
    if (!cvma_tpm_public_read(eb.p, eb.len, &ekp)) {
        rc = cvma_cli_usage_error(verb, "--ek '%s' is not a TPMT_PUBLIC or TPM2B_PUBLIC", ek);
        goto done;
    }
    if (!cvma_tpm_public_read(ab.p, ab.len, &akp)) {
        rc = cvma_cli_usage_error(verb, "--ak '%s' is not a TPMT_PUBLIC or TPM2B_PUBLIC", ak);
        goto done;
    }
    /* The credential is made for the AK's name, nameAlg || H(public area). */
    if (!cvma_tpm_public_name(&akp, &name)) {
        rc = cvma_cli_usage_error(verb,
                                  "--ak '%s' has name algorithm 0x%04x, which gives it no TPM "
                                  "name (SHA-1, SHA-256, SHA-384 and SHA-512 do); a credential "
                                  "is made for the AK's name",
                                  ak, (unsigned)akp.nameAlg);
        goto done;
    }
    if (!cvma_tpm_ek_attributes_ok(ekp.objectAttributes)) {
        rc = cvma_cli_usage_error(verb,
                                  "--ek '%s' (objectAttributes 0x%08x) is not an endorsement key: "
                                  "a restricted, fixedTPM decryption key that cannot sign",
                                  ek, (unsigned)ekp.objectAttributes);
        goto done;
    }
    if (ekp.type == TPM2_ALG_RSA && !cvma_tpm_ek_exponent_ok(ekp.parameters.rsaDetail.exponent)) {
        rc = cvma_cli_usage_error(verb,
                                  "--ek '%s' has public exponent %u: an EK's is 65537 (0 in its "
                                  "public area, template L-1); this key is no TPM's EK, and "
                                  "under exponent 1 the seed would be sent in the clear",
                                  ek, (unsigned)ekp.parameters.rsaDetail.exponent);
        goto done;
    }
    if (ekp.type == TPM2_ALG_RSA && ekp.parameters.rsaDetail.scheme.scheme != TPM2_ALG_NULL) {
        rc = cvma_cli_usage_error(verb,
                                  "--ek '%s' has scheme 0x%04x: an EK's is NULL (0x0010), the "
                                  "only scheme of a TPM's restricted decryption key; this key "
                                  "is no TPM's EK",
                                  ek, (unsigned)ekp.parameters.rsaDetail.scheme.scheme);
        goto done;
    }
    char why[160];
    if (!cvma_tpm_ek_credential_ok(&ekp, why, sizeof why)) {
        rc = cvma_cli_usage_error(verb,
                                  "no credential for --ek '%s': %s (only an RSA-2048 EK of "
                                  "template L-1 is supported: SHA-256, AES-128-CFB)",
                                  ek, why);
        goto done;
    }
    if (cvma_tpm_make_credential(&ekp, &name, &cred) != CVMA_OK) {
        rc = cvma_cli_usage_error(verb, "no credential for this EK (an RSA-2048 EK of template "
                                        "L-1: SHA-256, AES-128-CFB)");
        goto done;
    }
    /* tpm2-tools' credential file: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT,
     * TPM2B_ENCRYPTED_SECRET. */
    file.len = 8 + cred.id_object.len + cred.enc_secret.len;
    if ((file.p = malloc(file.len)) == NULL) {
        cvma_cli_err("cvmattest %s: out of memory\n", verb);
        rc = 2;
        goto done;
    }
    memcpy(file.p, "\xba\xdc\xc0\xde\x00\x00\x00\x01", 8);
    memcpy(file.p + 8, cred.id_object.p, cred.id_object.len);
    memcpy(file.p + 8 + cred.id_object.len, cred.enc_secret.p, cred.enc_secret.len);
    rc = write_credential(verb, out, file.p, file.len, secret, &cred);
done:
    cvma_tpm_credential_cleanup(&cred);
    cvma_buf_free(&eb);
    cvma_buf_free(&ab);
    cvma_buf_free(&file);
    return rc;
}

int cvma_cmd_tpm(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        fputs(mc_usage, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "make-credential") == 0) {
        return make_credential(argc - 1, argv + 1);
    }
    if (argc < 2 || strcmp(argv[1], "check-quote") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    return check_quote(argc - 1, argv + 1);
}
