/* Options shared by `verify` and `bench`: they become a verifier configuration and a request. */
#ifndef CVMA_CLI_OPTS_H
#define CVMA_CLI_OPTS_H

#include "cvmattest/cvmattest.h"

#define CVMA_CLI_MAX_LIST 16

struct cvma_cli_verify {
    struct cvma_verifier_config cfg;
    struct cvma_request req;
    struct cvma_policy_config policy; /* --policy FILE: the default policy */
    const char *file;
    enum cvma_inform inform;
    bool json;
    double seconds;   /* bench only */
    unsigned threads; /* bench only: threads through one verifier (1) */
    bool cold;        /* bench only: every cache off */
    const char *roots[CVMA_CLI_MAX_LIST];
    const char *providers[CVMA_CLI_MAX_LIST];
    const char *registries[CVMA_CLI_MAX_LIST];
    const char *proofs[CVMA_CLI_MAX_LIST];
    const char *lookups[CVMA_CLI_MAX_LIST];
    const char *log_keys[CVMA_CLI_MAX_LIST];
    const char *witness_keys[CVMA_CLI_MAX_LIST];
    const char *log_proofs[CVMA_CLI_MAX_LIST];
    const char *log_consistency[CVMA_CLI_MAX_LIST];
    const char *log_urls[CVMA_CLI_MAX_LIST];
    const char *result_out; /* --result-out TOKEN */
    const char *previous;   /* --previous RESULT.json */
};

/*
 * Parses argv[1..] (argv[0] is the verb). bench also accepts --seconds and --cold. Prints a
 * usage error on stderr and returns 2 on bad options, 0 when parsed, or -1 after printing the
 * help for --help (exit 0).
 */
int cvma_cli_verify_parse(int argc, char **argv, bool bench, struct cvma_cli_verify *cv);

/* --product milan|genoa|turin (any case): its enum cvma_snp_product, or 0 for another name. */
int cvma_cli_snp_product(const char *name);

/*
 * Makes the verifier of cv (prints why not and returns the exit code 2, else 0). With
 * --result-out TOKEN, first checks TOKEN (writable directory; if there, a regular file and
 * none of the input files; there or not, outside the input directories: the collateral
 * cache, --log-url directories, a collateral file name in --collateral) and removes an
 * earlier TOKEN, so that it exists afterwards only when this run wrote it.
 */
int cvma_cli_verifier_new(const struct cvma_cli_verify *cv, const char *verb,
                          struct cvma_verifier **out);

/* Reads the evidence of cv (prints why not and returns exit code 2, else 0). */
int cvma_cli_evidence(const struct cvma_cli_verify *cv, const char *verb,
                      struct cvma_evidence **out);
/* The same for FILE read as inform says (show, which has no struct cvma_cli_verify). */
int cvma_cli_evidence_file(const char *verb, const char *file, enum cvma_inform inform,
                           struct cvma_evidence **out);

#endif
