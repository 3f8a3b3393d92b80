/*
 * cvmattest registry keygen|build|prove|check|bench: the provider side of platform
 * registries, and a standalone check of a registry (docs/registry.md). This file dispatches
 * and holds the helpers the subcommands share (cmd_registry.h); each subcommand is in
 * cmd_registry_<sub>.c.
 *
 * Exit codes: 0 done / valid, 1 a registry or proof that does not verify, an
 * expired registry, an id that is not listed; 2 usage error, malformed entries file,
 * unreadable input or output.
 */
#include "cmd_registry.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "args.h"
#include "cmds.h"
#include "common/util.h"
#include "crypto/jws.h"

static void registry_usage(FILE *f)
{
    fputs("usage: cvmattest registry COMMAND [options]   (formats: docs/registry.md)\n", f);
    fputs(cvma_regcli_keygen_usage, f);
    fputs(cvma_regcli_build_usage, f);
    fputs(cvma_regcli_prove_usage, f);
    fputs(cvma_regcli_check_usage, f);
    fputs(cvma_regcli_bench_usage, f);
    fputs(cvma_reglog_keygen_usage, f);
    fputs(cvma_reglog_append_usage, f);
    fputs(cvma_reglog_prove_usage, f);
    fputs(cvma_reglog_check_usage, f);
    fputs(cvma_reglog_bench_usage, f);
    fputs("run 'cvmattest registry COMMAND --help' for one command\n", f);
}

void cvma_regcli_help(const char *usage)
{
    fputs("usage: cvmattest registry COMMAND [options]   (formats: docs/registry.md)\n", stdout);
    fputs(usage, stdout);
}

int cvma_regcli_usage_error(const char *sub, const char *msg)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "registry %s", sub);
    return cvma_cli_usage_error(cmd, "%s", msg);
}

int cvma_regcli_bad_option(const char *sub, int c, char **argv)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "registry %s", sub);
    return cvma_cli_bad_option(cmd, c, argv);
}

/* see cmd_registry.h */
bool cvma_regcli_write_key_pair(const char *cmd, const char *kpath, const void *key, size_t key_len,
                                const char *ppath, const void *pub, size_t pub_len)
{
    int ce = cvma_file_create_exclusive(kpath, key, key_len, 0600);
    if (ce != 0) {
        cvma_cli_err("cvmattest %s: cannot create '%s': %s%s\n", cmd, kpath, strerror(ce),
                     ce == EEXIST ? " (a key is never overwritten)" : "");
        return false;
    }
    if (cvma_file_write_atomic(ppath, pub, pub_len) != CVMA_OK) {
        int e = errno;
        bool gone = unlink(kpath) == 0;
        cvma_cli_err("cvmattest %s: cannot write '%s': %s; '%s' %s\n", cmd, ppath, strerror(e),
                     kpath, gone ? "removed again" : "could not be removed");
        return false;
    }
    return true;
}

char *cvma_regcli_concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s != NULL) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

EVP_PKEY *cvma_regcli_load_key(const char *cmd, const char *path, bool private_key)
{
    struct cvma_buf b;
    EVP_PKEY *k;
    /* A private key is a secret file (a regular file only, wiped after use); a public key is
     * read as verify --provider reads it, as it comes (a named pipe's writer waited for:
     * docs/cli.md, "Secret files"). */
    enum cvma_status st = private_key ? cvma_file_read_secret(path, KEY_FILE_MAX, &b)
                                      : cvma_file_read(path, KEY_FILE_MAX, &b);
    if (st != CVMA_OK) {
        char why[96];
        cvma_cli_err("cvmattest registry %s: cannot read '%s': %s\n", cmd, path,
                     cvma_file_read_why(errno, KEY_FILE_MAX, why, sizeof why));
        return NULL;
    }
    k = cvma_jws_key_from_pem(b.p, b.len, private_key);
    cvma_buf_free_secret(&b);
    if (k == NULL) {
        cvma_cli_err("cvmattest registry %s: '%s' is not an unencrypted PEM %s key on P-256 or "
                     "P-384\n",
                     cmd, path, private_key ? "private" : "public");
    }
    return k;
}

int cvma_regcli_load_entries(const char *cmd, const char *path, struct cvma_reg_entries *e)
{
    struct cvma_buf b;
    char err[400];
    enum cvma_status st;
    cvma_reg_entries_init(e);
    if (cvma_file_read(path, CVMA_REG_ENTRIES_FILE_MAX, &b) != CVMA_OK) {
        cvma_cli_err("cvmattest registry %s: cannot read entries file '%s'\n", cmd, path);
        return EXIT_USAGE;
    }
    st = cvma_reg_entries_parse((const char *)b.p, b.len, path, e, err, sizeof err);
    cvma_buf_free(&b);
    if (st == CVMA_OK) {
        st = cvma_reg_entries_sort(e, path, err, sizeof err);
    }
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest registry %s: %s\n", cmd,
                     st == CVMA_E_NOMEM ? "out of memory" : err);
        cvma_reg_entries_cleanup(e);
        return EXIT_USAGE;
    }
    if (e->n == 0) {
        cvma_cli_err("cvmattest registry %s: '%s' lists no platform\n", cmd, path);
        cvma_reg_entries_cleanup(e);
        return EXIT_USAGE;
    }
    /* Proof files and prove --id name a platform by its id alone: a cspID that reads as a
     * PPID or CHIP_ID (32 or 128 hex digits) could name two platforms. */
    for (size_t i = 0; i < e->n; i++) {
        const struct cvma_reg_entry *en = &e->v[i];
        size_t hex = 0;
        while (en->id_type == CVMA_REG_VLEK_CSP && hex < en->id_len && isxdigit(en->id[hex])) {
            hex++;
        }
        if (en->id_type == CVMA_REG_VLEK_CSP && hex == en->id_len &&
            (en->id_len == 2 * CVMA_REG_PPID_LEN || en->id_len == 2 * CVMA_REG_CHIP_ID_LEN)) {
            cvma_cli_err("cvmattest registry %s: %s:%u: vlek_csp '%.*s' reads as a %s (hex of its "
                         "length): proof files and prove --id name a platform by its id alone\n",
                         cmd, path, (unsigned)en->line, (int)en->id_len, (const char *)en->id,
                         en->id_len == 2 * CVMA_REG_PPID_LEN ? "PPID" : "CHIP_ID");
            cvma_reg_entries_cleanup(e);
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

int cvma_cmd_registry(int argc, char **argv)
{
    static const struct cvma_cli_sub subs[] = {
            {"keygen", cvma_regcli_keygen}, {"build", cvma_regcli_build},
            {"prove", cvma_regcli_prove},   {"check", cvma_regcli_check},
            {"bench", cvma_regcli_bench},   {"log", cvma_regcli_log},
    };
    return cvma_cli_dispatch("registry", subs, CVMA_ARRAY_LEN(subs), argc, argv, registry_usage);
}
