/* cvmattest witness: shared between cmd_witness.c (keygen, cosign) and cmd_witness_serve.c. */
#ifndef CVMA_CLI_CMD_WITNESS_H
#define CVMA_CLI_CMD_WITNESS_H

#include <stddef.h>

#include "tlog/tlog.h"

extern const char cvma_witness_serve_usage[];
int cvma_witness_serve(int argc, char **argv);
void cvma_witness_help(const char *usage);
int cvma_witness_usage_error(const char *sub, const char *msg);
int cvma_witness_bad_option(const char *sub, int c, char **argv);
/* Loads n note verifier keys (printing why not); the exit code. */
int cvma_witness_load_logs(const char *sub, char **files, size_t n, struct cvma_note_vkey *out);

#endif
