/*
 * cvmattest registry keygen|build|prove|check|bench: one file per subcommand
 * (cmd_registry_<sub>.c); the dispatcher and the helpers they share are in cmd_registry.c.
 *
 * Exit codes: 0 done / valid, 1 a registry or proof that does not verify, an
 * expired registry, an id that is not listed; 2 usage error, malformed entries file,
 * unreadable input or output.
 */
#ifndef CVMA_CLI_CMD_REGISTRY_H
#define CVMA_CLI_CMD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "args.h" /* cvma_cli_uint: the registry commands' numbers */
#include "registry/registry.h"

#define EXIT_OK       0
#define EXIT_REJECTED 1
#define EXIT_USAGE    2
#define KEY_FILE_MAX  ((size_t)64 << 10)

/* The usage of each subcommand (printed by SUB --help, and all of them by registry --help). */
extern const char cvma_regcli_keygen_usage[];
extern const char cvma_regcli_build_usage[];
extern const char cvma_regcli_prove_usage[];
extern const char cvma_regcli_check_usage[];
extern const char cvma_regcli_bench_usage[];

/* SUB --help: its usage on stdout. */
void cvma_regcli_help(const char *usage);

/* The subcommands: argv[0] is the subcommand's name; each returns the exit code. */
int cvma_regcli_keygen(int argc, char **argv);
int cvma_regcli_build(int argc, char **argv);
int cvma_regcli_prove(int argc, char **argv);
int cvma_regcli_check(int argc, char **argv);
int cvma_regcli_bench(int argc, char **argv);

/* "cvmattest registry SUB: MSG" and the --help pointer on stderr; returns EXIT_USAGE. */
int cvma_regcli_usage_error(const char *sub, const char *msg);
/* A bad option reported by cvma_cli_getopt (args.h); returns EXIT_USAGE. */
int cvma_regcli_bad_option(const char *sub, int c, char **argv);

/*
 * A new key pair: the private key created at kpath (mode 0600, fsynced; never over a file that
 * is there, nor through a symlink), then the public half written atomically at ppath (a
 * symlink there is replaced, not followed). When the public half cannot be written the new
 * private key is removed again, so that a second run is not refused by it. Says why not on
 * stderr as "cvmattest CMD: ..."; true when both are written.
 */
bool cvma_regcli_write_key_pair(const char *cmd, const char *kpath, const void *key, size_t key_len,
                                const char *ppath, const void *pub, size_t pub_len);
/* a then b, newly allocated (NULL when out of memory). */
char *cvma_regcli_concat(const char *a, const char *b);
/* A PEM key on P-256 or P-384 (printing why not, then NULL). */
EVP_PKEY *cvma_regcli_load_key(const char *sub, const char *path, bool private_key);
/* Reads, parses and sorts an entries file; exit code (0 on success). */
int cvma_regcli_load_entries(const char *sub, const char *path, struct cvma_reg_entries *e);

/* registry log (cmd_registry_log*.c): the provider's transparency log of registries. */
extern const char cvma_reglog_keygen_usage[];
extern const char cvma_reglog_append_usage[];
extern const char cvma_reglog_prove_usage[];
extern const char cvma_reglog_check_usage[];
extern const char cvma_reglog_bench_usage[];
int cvma_regcli_log(int argc, char **argv);
int cvma_reglog_keygen(int argc, char **argv);
int cvma_reglog_append(int argc, char **argv);
int cvma_reglog_prove(int argc, char **argv);
int cvma_reglog_check(int argc, char **argv);
int cvma_reglog_bench(int argc, char **argv);
void cvma_reglog_help(const char *usage);
int cvma_reglog_usage_error(const char *sub, const char *msg);
int cvma_reglog_bad_option(const char *sub, int c, char **argv);
/* --provider NAME=PUBFILE: the name into name, the public key (printing why not, then NULL). */
EVP_PKEY *cvma_reglog_provider_key(const char *sub, const char *spec, char *name, size_t name_size);

#endif
