/*
 * getopt_long for every command: each command has one option table and reports bad options
 * the same way (exit 2, a message naming the option, a pointer to its --help).
 */
#ifndef CVMA_CLI_ARGS_H
#define CVMA_CLI_ARGS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "common/util.h"

/* Starts a new scan of an argv (argv[0] is the command's name; options and operands may be
 * mixed, "--" ends the options). Errors are not printed by getopt itself. */
void cvma_cli_getopt_begin(void);

/* The next option of opts (getopt_long with optstring ":h": -h is the short --help when the
 * table maps "help" to 'h'); ':' for a missing value, '?' for an unknown option, -1 at the
 * end (the operands are then argv[optind..argc-1]). */
int cvma_cli_getopt(int argc, char **argv, const struct option *opts);

/* For ':' and '?' from cvma_cli_getopt: prints why on stderr and returns the exit code 2. */
int cvma_cli_bad_option(const char *cmd, int c, char **argv);

/* Prints "cvmattest CMD: MESSAGE" and where the options are on stderr; returns 2. */
int cvma_cli_usage_error(const char *cmd, const char *fmt, ...) CVMA_PRINTF(2, 3);

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
