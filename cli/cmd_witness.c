/*
 * cvmattest witness keygen|cosign|serve: a transparency-log witness (C2SP tlog-witness,
 * tlog-cosignature/v1; docs/registry.md "Witnesses"). It cosigns a log's checkpoint only
 * when it is consistent with the last one it cosigned for that log (kept in its state
 * directory), and refuses a split view loudly.
 *
 * Exit codes: 0 cosigned / done, 1 refused (split view, inconsistent, unknown log, bad
 * signature), 2 usage error or unreadable input.
 */
#include "cmd_witness.h"

#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cmd_registry.h"
#include "cmds.h"
#include "common/util.h"
#include "tlog/tlog.h"

#define MAX_LOGS 64

static const char keygen_usage[] =
        "  keygen --out W [--name NAME]\n"
        "        writes W.key (mode 0600) and W.vkey; NAME (the witness's name in its\n"
        "        cosignatures) defaults to W's file name\n";
static const char cosign_usage[] =
        "  cosign --state DIR --key W.key --log-vkey NAME.vkey... [--proof CONSISTENCY.json]\n"
        "         [--time UNIX] CHECKPOINT\n"
        "        prints the cosignature line of CHECKPOINT when it is consistent with the last\n"
        "        one cosigned for its log (--proof: from `registry log prove --from`)\n";

static void usage(FILE *f)
{
    fputs("usage: cvmattest witness COMMAND [options]   (docs/registry.md)\n", f);
    fputs(keygen_usage, f);
    fputs(cosign_usage, f);
    fputs(cvma_witness_serve_usage, f);
}

int cvma_witness_usage_error(const char *sub, const char *msg)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "witness %s", sub);
    return cvma_cli_usage_error(cmd, "%s", msg);
}

int cvma_witness_bad_option(const char *sub, int c, char **argv)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "witness %s", sub);
    return cvma_cli_bad_option(cmd, c, argv);
}

void cvma_witness_help(const char *u)
{
    fputs("usage: cvmattest witness COMMAND [options]   (docs/registry.md)\n", stdout);
    fputs(u, stdout);
}

int cvma_witness_load_logs(const char *sub, char **files, size_t n, struct cvma_note_vkey *out)
{
    char err[300];
    for (size_t i = 0; i < n; i++) {
        if (cvma_note_vkey_load(files[i], &out[i], err, sizeof err) != CVMA_OK) {
            cvma_cli_err("cvmattest witness %s: %s\n", sub, err);
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

static int keygen(int argc, char **argv)
{
    static const struct option opts[] = {
            {"out", required_argument, NULL, 'o'},
            {"name", required_argument, NULL, 'n'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *name = NULL;
    char *skey = NULL, *vkey = NULL, *kpath = NULL, *vpath = NULL, *base = NULL, *kl = NULL,
         *vl = NULL, err[300];
    int rc = EXIT_USAGE, c;

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'h':
            cvma_witness_help(keygen_usage);
            return EXIT_OK;
        default:
            return cvma_witness_bad_option("keygen", c, argv);
        }
    }
    if (out == NULL || out[0] == '\0' || optind < argc) {
        return cvma_witness_usage_error("keygen", "--out W is required (and no operands)");
    }
    if (name == NULL) {
        if ((base = strdup(out)) == NULL) {
            return EXIT_USAGE;
        }
        name = basename(base);
    }
    if (cvma_note_keygen(name, &skey, &vkey, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest witness keygen: %s\n", err);
        goto out;
    }
    if ((kpath = cvma_regcli_concat(out, ".key")) == NULL ||
        (vpath = cvma_regcli_concat(out, ".vkey")) == NULL ||
        (kl = cvma_regcli_concat(skey, "\n")) == NULL ||
        (vl = cvma_regcli_concat(vkey, "\n")) == NULL) {
        goto out;
    }
    if (!cvma_regcli_write_key_pair("witness keygen", kpath, kl, strlen(kl), vpath, vl,
                                    strlen(vl))) {
        goto out;
    }
    printf("%s\n", vkey);
    rc = EXIT_OK;
out:
    cvma_str_free_secret(skey);
    free(vkey);
    cvma_str_free_secret(kl);
    free(vl);
    free(kpath);
    free(vpath);
    free(base);
    return rc;
}

static int cosign(int argc, char **argv)
{
    enum { O_STATE = 256, O_KEY, O_LOG_VKEY, O_PROOF, O_TIME };
    static const struct option opts[] = {
            {"state", required_argument, NULL, O_STATE},
            {"key", required_argument, NULL, O_KEY},
            {"log-vkey", required_argument, NULL, O_LOG_VKEY | CVMA_CLI_MANY},
            {"proof", required_argument, NULL, O_PROOF},
            {"time", required_argument, NULL, O_TIME},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *state = NULL, *keyf = NULL, *prooff = NULL, *time_s = NULL;
    char *logf[MAX_LOGS];
    size_t n_logs = 0;
    struct cvma_note_vkey logs[MAX_LOGS];
    struct cvma_note_skey wk;
    struct cvma_tlog_consistency cons;
    struct cvma_buf cpb = {0}, pb = {0};
    struct cvma_note note;
    struct cvma_checkpoint cp;
    uint64_t now = (uint64_t)time(NULL), known = 0;
    char *line = NULL, err[400];
    int rc = EXIT_USAGE, c;

    memset(&wk, 0, sizeof wk);
    memset(&cons, 0, sizeof cons);
    memset(&note, 0, sizeof note);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_STATE:
            state = optarg;
            break;
        case O_KEY:
            keyf = optarg;
            break;
        case O_LOG_VKEY:
            if (n_logs == MAX_LOGS) {
                return cvma_witness_usage_error("cosign", "too many --log-vkey options");
            }
            logf[n_logs++] = optarg;
            break;
        case O_PROOF:
            prooff = optarg;
            break;
        case O_TIME:
            time_s = optarg;
            break;
        case 'h':
            cvma_witness_help(cosign_usage);
            return EXIT_OK;
        default:
            return cvma_witness_bad_option("cosign", c, argv);
        }
    }
    if (state == NULL || keyf == NULL || n_logs == 0 || argc - optind != 1) {
        return cvma_witness_usage_error("cosign",
                                        "--state, --key, --log-vkey and one CHECKPOINT file");
    }
    if (time_s != NULL && !cvma_cli_uint(time_s, 0, (uint64_t)INT64_MAX, &now)) {
        return cvma_witness_usage_error("cosign", "--time wants Unix seconds");
    }
    if (cvma_note_skey_load(keyf, &wk, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest witness cosign: %s\n", err);
        goto out;
    }
    if (cvma_witness_load_logs("cosign", logf, n_logs, logs) != EXIT_OK) {
        goto out;
    }
    if (cvma_file_read(argv[optind], CVMA_TLOG_NOTE_MAX, &cpb) != CVMA_OK) {
        cvma_cli_err("cvmattest witness cosign: cannot read '%s'\n", argv[optind]);
        goto out;
    }
    if (prooff != NULL) {
        if (cvma_file_read(prooff, (size_t)64 << 10, &pb) != CVMA_OK) {
            cvma_cli_err("cvmattest witness cosign: cannot read '%s'\n", prooff);
            goto out;
        }
        if (!cvma_tlog_consistency_parse(pb.p, pb.len, &cons, err, sizeof err)) {
            cvma_cli_err("cvmattest witness cosign: %s: %s\n", prooff, err);
            goto out;
        }
        /* The proof must be for this checkpoint's size. */
        if (cvma_note_parse(cpb.p, cpb.len, &note, err, sizeof err) == CVMA_OK &&
            cvma_checkpoint_parse(note.text, note.text_len, &cp, err, sizeof err) &&
            cp.size != cons.new_size) {
            cvma_cli_err("cvmattest witness cosign: %s is a proof to size %" PRIu64
                         ", the checkpoint has size %" PRIu64 "\n",
                         prooff, cons.new_size, cp.size);
            rc = EXIT_REJECTED;
            goto out;
        }
    }
    enum cvma_witness_result r = cvma_witness_add(
            state, &wk, logs, n_logs, cpb.p, cpb.len, cons.old_size,
            (const uint8_t(*)[32])cons.hashes, cons.n_hashes, now, &line, &known, err, sizeof err);
    bool grew = false; /* larger than the checkpoint last cosigned, and no proof given */
    if (r == CVMA_WITNESS_CONFLICT && prooff == NULL && known > 0 &&
        cvma_note_parse(cpb.p, cpb.len, &note, err, sizeof err) == CVMA_OK &&
        cvma_checkpoint_parse(note.text, note.text_len, &cp, err, sizeof err)) {
        grew = cp.size > known;
        if (cp.size == known) {
            /* No proof: the checkpoint of the size last cosigned (the empty proof); a
             * different root is then the split view the witness must report. */
            r = cvma_witness_add(state, &wk, logs, n_logs, cpb.p, cpb.len, known, NULL, 0, now,
                                 &line, &known, err, sizeof err);
        }
    }
    if (r != CVMA_WITNESS_OK) {
        /* A proof mends only the 409 of a larger checkpoint given without one: never a split
         * view (same size, another root), nor a checkpoint smaller than the one cosigned. */
        cvma_cli_err("cvmattest witness cosign: REFUSED (%d): %s%s\n", cvma_witness_http_status(r),
                     err,
                     r == CVMA_WITNESS_CONFLICT && grew ? " (give --proof from that size)" : "");
        rc = r == CVMA_WITNESS_ERROR ? EXIT_USAGE : EXIT_REJECTED;
        goto out;
    }
    fputs(line, stdout);
    rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
out:
    free(line);
    cvma_buf_free(&cpb);
    cvma_buf_free(&pb);
    cvma_note_cleanup(&note);
    cvma_note_skey_cleanup(&wk);
    return rc;
}

int cvma_cmd_witness(int argc, char **argv)
{
    static const struct cvma_cli_sub subs[] = {
            {"keygen", keygen},
            {"cosign", cosign},
            {"serve", cvma_witness_serve},
    };
    return cvma_cli_dispatch("witness", subs, CVMA_ARRAY_LEN(subs), argc, argv, usage);
}
