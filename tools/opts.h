/* Options shared by `verify` and `bench`. */
#ifndef CVMA_TOOLS_OPTS_H
#define CVMA_TOOLS_OPTS_H

#include "result/result.h"

enum cvma_tee_kind {
    CVMA_TEE_AUTO = 0,
    CVMA_TEE_SNP,
    CVMA_TEE_TDX,
    CVMA_TEE_TPM,
};

struct cvma_registry_set;
struct cvma_policy;

struct cvma_cli_verify {
    struct cvma_verify_opts vo;
    enum cvma_tee_kind tee;
    const char *file;
    bool json;
    double seconds; /* bench only */
    X509 *roots[16];
    uint8_t root_spki[16][32];
    struct cvma_registry_set *rs; /* --provider, --registry, --proof, --lookup-registry */
    struct cvma_policy *policy;   /* --policy */
    bool grace_given;             /* --collateral-grace on the command line */
    const char *sign_key;         /* --sign-result KEY */
    const char *result_out;       /* --result-out TOKEN */
    const char *previous;         /* --previous RESULT.json */
};

/*
 * Parses argv[1..] (argv[0] is the verb). bench != 0 also accepts --seconds. Prints a usage
 * error on stderr and returns 2 on bad options, else 0.
 */
int cvma_cli_verify_parse(int argc, char **argv, bool bench, struct cvma_cli_verify *cv);
void cvma_cli_verify_cleanup(struct cvma_cli_verify *cv);

/* Detects the evidence kind from its first bytes. */
enum cvma_tee_kind cvma_detect_tee(const uint8_t *p, size_t len);

#endif
