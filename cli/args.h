/*
 * getopt_long for every command: each command has one option table and reports bad options
 * the same way (exit 2, a message naming the option, a pointer to its --help).
 */
#ifndef CVMA_CLI_ARGS_H
#define CVMA_CLI_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/util.h"

/*
 * Marks an option table's val may carry (OR'd into it; cvma_cli_getopt returns val without
 * them). Without a mark an option that takes a value takes one non-empty value, once.
 */
#define CVMA_CLI_MANY      0x10000     /* may be given again: each value counts (a list) */
#define CVMA_CLI_EMPTY     0x20000     /* its value may be empty: '' means something (--nonce '') */
#define CVMA_CLI_ONE_OF(g) ((g) << 18) /* g in 1..7: options of one group exclude each other */
#define CVMA_CLI_URL       0x200000    /* its value is a base URL: http:// or https:// only */
#define CVMA_CLI_MARKS     0x3f0000

/* cvma_cli_getopt for an option given twice, or with one of its CVMA_CLI_ONE_OF group. */
#define CVMA_CLI_CONFLICT '!'

/* Starts a new scan of an argv (argv[0] is the command's name; options and operands may be
 * mixed, "--" ends the options). Errors are not printed by getopt itself. */
void cvma_cli_getopt_begin(void);

/*
 * The next option of opts (getopt_long with optstring ":h": -h is the short --help when the
 * table maps "help" to 'h'), its val without the marks above; -1 at the end (the operands are
 * then argv[optind..argc-1]); '?' for an unknown option; ':' for a missing value: none, an
 * empty one (unless CVMA_CLI_EMPTY), or one taken from the next argument that begins with
 * "--" (`--out --help`: an option, not a value; `--out=--x` is the value "--x"), or, for an
 * option marked CVMA_CLI_URL, a value that does not begin with http:// or https://;
 * CVMA_CLI_CONFLICT for an option that takes a value given again (unless CVMA_CLI_MANY) or
 * one of a CVMA_CLI_ONE_OF group after another of it (a flag repeated is no conflict).
 */
int cvma_cli_getopt(int argc, char **argv, const struct option *opts);

/* For ':', '?' and CVMA_CLI_CONFLICT from cvma_cli_getopt: prints why on stderr and returns
 * the exit code 2. */
int cvma_cli_bad_option(const char *cmd, int c, char **argv);

/* Prints "cvmattest CMD: MESSAGE" and where the options are on stderr; returns 2. */
/*
 * Every message of the CLI to stderr: printf-formatted, then written whole with each byte that
 * could steer a terminal as \xNN (cvma_text_plain_len; newlines and tabs kept). A message
 * quotes arguments, paths and texts as given, and any of them may hold anything.
 */
void cvma_cli_err(const char *fmt, ...) CVMA_PRINTF(1, 2);
int cvma_cli_usage_error(const char *cmd, const char *fmt, ...) CVMA_PRINTF(2, 3);
/*
 * For a file reader of common/util.h that failed with errno e: prints "cvmattest CMD: cannot
 * read WHAT 'PATH': WHY" (WHY from cvma_file_read_why: "over MAX bytes", "No such file or
 * directory", ...; WHAT, such as "--pub", may be NULL) and returns the exit code 2.
 */
int cvma_cli_read_error(const char *cmd, const char *what, const char *path, size_t max, int e);

/*
 * Option values read strictly: the whole string, nothing strtoul would skip or take (no
 * space, sign, or second "0x"). false (*out untouched) for anything else.
 *   cvma_cli_uint:     decimal digits, lo..hi.
 *   cvma_cli_hex64:    1..16 hex digits after an optional "0x" or "0X".
 */
bool cvma_cli_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
bool cvma_cli_hex64(const char *s, uint64_t *out);

/*
 * --memory SIZE, as launch and measure tdx both read it: QEMU's -m SIZE (digits and an
 * optional K, M, G or T, either case; a bare number is MiB), a whole number of MiB, 1 MiB up
 * to 16 TiB. 0 with *bytes set; else prints why (cvma_cli_usage_error, as CMD) and returns 2,
 * *bytes untouched.
 */
int cvma_cli_guest_memory(const char *cmd, const char *s, uint64_t *bytes);

/*
 * The SHA-256 of a file (a kernel, an initrd) read in pieces to its end, at most max bytes of
 * it: true with out set. false with errno set: EFBIG when the file holds more than max (one
 * that never ends, such as /dev/zero, is read no further), else open's or fread's. A named
 * pipe is read as it comes, unless regular_only: then anything but a regular file is refused
 * at once (EINVAL; EISDIR for a directory), never waited on.
 */
bool cvma_cli_sha256_file(const char *path, uint64_t max, bool regular_only, uint8_t out[32]);

/*
 * An output file a command writes whole and renames over path (cvma_file_write_atomic),
 * checked before the command does its work: 0 when path is not there, or is a regular file
 * (not a symbolic link) that is none of the command's inputs; else 2, said on stderr as
 * "cvmattest CMD: OPT 'path' ...". The rename would replace a device, a FIFO or a symbolic
 * link that is there (--out /dev/null, say), or an input the command is reading. inputs: n
 * paths of the command's input files (NULL entries skipped), named by inputs_opt[i] when not
 * NULL.
 */
int cvma_cli_out_file_check(const char *cmd, const char *opt, const char *path,
                            const char *const *inputs, const char *const *inputs_opt, size_t n);

/* A command with subcommands: a name and the function given argv from the subcommand on. */
struct cvma_cli_sub {
    const char *name;
    int (*fn)(int argc, char **argv);
};

/*
 * Runs the subcommand argv[1] names; "help", "--help" and "-h" print usage on stdout (exit
 * 0); none or an unknown one print why and usage on stderr (exit 2). cmd is the command's name
 * in messages ("registry log").
 */
int cvma_cli_dispatch(const char *cmd, const struct cvma_cli_sub *subs, size_t n, int argc,
                      char **argv, void (*usage)(FILE *));

#endif
