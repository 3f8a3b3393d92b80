/*
 * cvmattest registry log keygen|append|prove|check|bench: every registry version a provider signs,
 * appended to a transparency log in the tlog-tiles layout with a C2SP checkpoint signed by
 * the provider's Ed25519 log key (docs/registry.md "Registry log"). This file dispatches and
 * holds keygen and append; prove and check are cmd_registry_log_prove.c and
 * cmd_registry_log_check.c.
 *
 * Exit codes: 0 done, 1 a registry refused (not newer, another provider, too large), a log
 * that does not verify, or (append) a log directory holding tiles beyond its checkpoint, 2
 * usage error or unreadable input or output.
 */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/util.h"
#include "common/verdict.h"
#include "tlog/tlog.h"

const char cvma_reglog_keygen_usage[] =
        "  log keygen --out NAME [--origin ORIGIN]\n"
        "        writes NAME.key (note signer key, mode 0600) and NAME.vkey (note verifier key);\n"
        "        ORIGIN, the log's checkpoint origin line, defaults to NAME's file name\n";
const char cvma_reglog_append_usage[] =
        "  log append --log DIR --key NAME.key --provider NAME=PUB REG.jws\n"
        "        appends REG.jws (signed by the provider's key PUB, newer than the last, same\n"
        "        provider) and rewrites DIR/checkpoint\n";

static void log_usage(FILE *f)
{
    fputs("usage: cvmattest registry log COMMAND [options]   (formats: docs/registry.md)\n", f);
    fputs(cvma_reglog_keygen_usage, f);
    fputs(cvma_reglog_append_usage, f);
    fputs(cvma_reglog_prove_usage, f);
    fputs(cvma_reglog_check_usage, f);
    fputs(cvma_reglog_bench_usage, f);
}

void cvma_reglog_help(const char *usage)
{
    fputs("usage: cvmattest registry log COMMAND [options]   (formats: docs/registry.md)\n",
          stdout);
    fputs(usage, stdout);
}

int cvma_reglog_usage_error(const char *sub, const char *msg)
{
    char cmd[40];
    snprintf(cmd, sizeof cmd, "registry log %s", sub);
    return cvma_cli_usage_error(cmd, "%s", msg);
}

int cvma_reglog_bad_option(const char *sub, int c, char **argv)
{
    char cmd[40];
    snprintf(cmd, sizeof cmd, "registry log %s", sub);
    return cvma_cli_bad_option(cmd, c, argv);
}

EVP_PKEY *cvma_reglog_provider_key(const char *sub, const char *spec, char *name, size_t name_size)
{
    const char *eq = strchr(spec, '=');
    char cmd[40];
    if (eq == NULL || eq == spec || (size_t)(eq - spec) >= name_size) {
        cvma_cli_err("cvmattest registry log %s: --provider wants NAME=PUBFILE\n", sub);
        return NULL;
    }
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    snprintf(cmd, sizeof cmd, "log %s", sub);
    return cvma_regcli_load_key(cmd, eq + 1, false);
}

int cvma_reglog_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
            {"out", required_argument, NULL, 'o'},
            {"origin", required_argument, NULL, 'g'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *origin = NULL;
    char *skey = NULL, *vkey = NULL, *kpath = NULL, *vpath = NULL, *base = NULL, err[300];
    int rc = EXIT_USAGE, c;

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'g':
            origin = optarg;
            break;
        case 'h':
            cvma_reglog_help(cvma_reglog_keygen_usage);
            return EXIT_OK;
        default:
            return cvma_reglog_bad_option("keygen", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_reglog_usage_error("keygen", "takes no operands (--out NAME names the key)");
    }
    if (out == NULL || out[0] == '\0') {
        return cvma_reglog_usage_error("keygen", "--out NAME is required");
    }
    if (origin == NULL) {
        if ((base = strdup(out)) == NULL) {
            return EXIT_USAGE;
        }
        origin = basename(base);
    }
    if (cvma_note_keygen(origin, &skey, &vkey, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log keygen: %s\n", err);
        goto out;
    }
    if ((kpath = cvma_regcli_concat(out, ".key")) == NULL ||
        (vpath = cvma_regcli_concat(out, ".vkey")) == NULL) {
        goto out;
    }
    size_t kl = strlen(skey), vl = strlen(vkey);
    skey[kl] = '\0';
    char *kline = cvma_regcli_concat(skey, "\n"), *vline = cvma_regcli_concat(vkey, "\n");
    bool ok = kline != NULL && vline != NULL;
    ok = ok && cvma_regcli_write_key_pair("registry log keygen", kpath, kline, kl + 1, vpath, vline,
                                          vl + 1);
    cvma_str_free_secret(kline);
    free(vline);
    if (ok) {
        printf("%s\n", vkey);
        rc = EXIT_OK;
    }
out:
    cvma_str_free_secret(skey);
    free(vkey);
    free(kpath);
    free(vpath);
    free(base);
    return rc;
}

int cvma_reglog_append(int argc, char **argv)
{
    enum { O_LOG = 256, O_KEY, O_PROVIDER };
    static const struct option opts[] = {
            {"log", required_argument, NULL, O_LOG},
            {"key", required_argument, NULL, O_KEY},
            {"provider", required_argument, NULL, O_PROVIDER},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *keyf = NULL, *prov_spec = NULL, *file = NULL;
    struct cvma_note_skey sk;
    struct cvma_tlog l;
    struct cvma_buf reg = {0};
    struct cvma_tlog_reg_info info, last;
    struct cvma_reg_provider prov;
    EVP_PKEY *pub = NULL;
    char err[400];
    int rc = EXIT_USAGE, c, lock = -1;
    enum cvma_status st;

    memset(&sk, 0, sizeof sk);
    memset(&prov, 0, sizeof prov);
    cvma_tlog_init(&l, NULL);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_LOG:
            dir = optarg;
            break;
        case O_KEY:
            keyf = optarg;
            break;
        case O_PROVIDER:
            prov_spec = optarg;
            break;
        case 'h':
            cvma_reglog_help(cvma_reglog_append_usage);
            return EXIT_OK;
        default:
            return cvma_reglog_bad_option("append", c, argv);
        }
    }
    if (dir == NULL || keyf == NULL || prov_spec == NULL || argc - optind != 1) {
        /* --provider is required: the log holds only registries whose signature was checked
         * (docs/registry.md "Running the log"), never one merely shaped like a registry. */
        return cvma_reglog_usage_error("append", "--log DIR, --key NAME.key, --provider "
                                                 "NAME=PUB and one REG.jws");
    }
    file = argv[optind];
    if (cvma_note_skey_load(keyf, &sk, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log append: %s\n", err);
        goto out;
    }
    if ((pub = cvma_reglog_provider_key("append", prov_spec, prov.name, sizeof prov.name)) ==
        NULL) {
        goto out;
    }
    if (cvma_file_read(file, CVMA_REG_FILE_MAX, &reg) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log append: cannot read '%s'\n", file);
        goto out;
    }
    rc = EXIT_REJECTED;
    if (reg.len > CVMA_TLOG_ENTRY_MAX) {
        cvma_cli_err("cvmattest registry log append: %s is %zu bytes; a log entry is at most %d "
                     "(tlog-tiles): build the registry with --root-only (its Merkle root still "
                     "commits to every entry) and publish its entries and proofs beside the log\n",
                     file, reg.len, CVMA_TLOG_ENTRY_MAX);
        goto out;
    }
    if (!cvma_tlog_reg_peek(reg.p, reg.len, &info, err, sizeof err)) {
        cvma_cli_err("cvmattest registry log append: '%s' is not a registry: %s\n", file, err);
        goto out;
    }
    {
        struct cvma_registry r;
        struct cvma_verdict v;
        prov.key = pub;
        memset(&r, 0, sizeof r);
        cvma_verdict_init(&v);
        st = cvma_registry_verify(reg.p, reg.len, file, &prov, 1, &r, &v);
        cvma_registry_cleanup(&r);
        if (st != CVMA_OK) {
            cvma_cli_err("cvmattest registry log append: '%s': %s: %s\n", file,
                         v.n_reasons > 0 ? cvma_reason_name(v.reasons[0].code) : "refused",
                         v.n_reasons > 0 ? v.reasons[0].detail : "");
            cvma_verdict_cleanup(&v);
            rc = st == CVMA_E_NOMEM ? EXIT_USAGE : EXIT_REJECTED;
            goto out;
        }
        cvma_verdict_cleanup(&v);
    }
    /* One append at a time, from the load to the checkpoint written: two appends that both
     * loaded size N would each sign a checkpoint of size N+1 (a split view signed by the log
     * key) and mix their tiles. */
    if ((st = cvma_tlog_lock(dir, true, &lock, err, sizeof err)) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log append: %s\n",
                     st == CVMA_E_NOMEM ? "out of memory" : err);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((st = cvma_tlog_load(&l, dir, &sk.v, sk.v.name, err, sizeof err)) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log append: %s\n", err);
        rc = st == CVMA_REJECTED ? EXIT_REJECTED : EXIT_USAGE;
        goto out;
    }
    if (l.size > 0) {
        if (!cvma_tlog_reg_peek(l.last.p, l.last.len, &last, err, sizeof err)) {
            cvma_cli_err("cvmattest registry log append: the log's last entry is not a "
                         "registry: %s\n",
                         err);
            goto out;
        }
        if (strcmp(last.provider, info.provider) != 0) {
            cvma_cli_err("cvmattest registry log append: '%s' is signed for provider '%s', the log "
                         "holds provider '%s'\n",
                         file, info.provider, last.provider);
            goto out;
        }
        /* The log holds one key's registries: its last one must verify with the key that
         * verified this one (a header's kid is the signer's say-so, not a check). */
        struct cvma_registry lr;
        struct cvma_verdict lv;
        memset(&lr, 0, sizeof lr);
        cvma_verdict_init(&lv);
        st = cvma_registry_verify(l.last.p, l.last.len, "the log's last registry", &prov, 1, &lr,
                                  &lv);
        cvma_registry_cleanup(&lr);
        cvma_verdict_cleanup(&lv);
        if (st != CVMA_OK) {
            cvma_cli_err(
                    "cvmattest registry log append: %s\n",
                    st == CVMA_E_NOMEM
                            ? "out of memory"
                            : "the log's last registry does not verify with the --provider key "
                              "that verified this one: the log holds one key's registries");
            rc = st == CVMA_E_NOMEM ? EXIT_USAGE : EXIT_REJECTED;
            goto out;
        }
        if (info.version <= last.version) {
            cvma_cli_err("cvmattest registry log append: '%s' is version %" PRIu64
                         ", not newer than the last one appended (version %" PRIu64 ")\n",
                         file, info.version, last.version);
            goto out;
        }
    }
    err[0] = '\0';
    if ((st = cvma_tlog_append(&l, reg.p, reg.len)) != CVMA_OK) {
        if (st == CVMA_E_USAGE) {
            snprintf(err, sizeof err, "%s: the log is full (%zu entries at most)", dir,
                     (size_t)CVMA_REG_ENTRIES_MAX);
        }
    } else {
        st = cvma_tlog_save(&l, dir, &sk, err, sizeof err);
    }
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest registry log append: %s\n", st == CVMA_E_NOMEM ? "out of memory"
                                                            : err[0]           ? err
                                                                               : "cannot append");
        /* REJECTED: tiles beyond the checkpoint (cvma_tlog_save), nothing written */
        rc = st == CVMA_REJECTED ? EXIT_REJECTED : EXIT_USAGE;
        goto out;
    }
    printf("appended %s (provider %s, version %" PRIu64 ") as entry %" PRIu64
           "; checkpoint size %" PRIu64 "\n",
           file, info.provider, info.version, l.size - 1, l.size);
    rc = EXIT_OK;
out:
    if (lock >= 0) {
        close(lock); /* releases the lock */
    }
    EVP_PKEY_free(pub);
    cvma_buf_free(&reg);
    cvma_tlog_cleanup(&l);
    cvma_note_skey_cleanup(&sk);
    return rc;
}

int cvma_regcli_log(int argc, char **argv)
{
    static const struct cvma_cli_sub subs[] = {
            {"keygen", cvma_reglog_keygen}, {"append", cvma_reglog_append},
            {"prove", cvma_reglog_prove},   {"check", cvma_reglog_check},
            {"bench", cvma_reglog_bench},
    };
    return cvma_cli_dispatch("registry log", subs, CVMA_ARRAY_LEN(subs), argc, argv, log_usage);
}
