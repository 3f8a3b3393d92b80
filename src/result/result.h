/*
 * Verification options shared by every evidence kind, and the attestation result
 * (DESIGN.md "Result JSON"): status, trust anchor, reasons, claims and platform.
 */
#ifndef CVMA_RESULT_RESULT_H
#define CVMA_RESULT_RESULT_H

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/verdict.h"

struct cvma_chain_cache;

struct cvma_verify_opts {
    time_t at;                            /* verification time (--at, else now) */
    bool allow_trailing_data;             /* --allow-trailing-data */
    const char *collateral_dir;           /* --collateral DIR, or NULL */
    bool offline;                         /* --offline: never touch the network */
    const char *kds_base_url;             /* NULL: AMD KDS */
    const char *pcs_base_url;             /* NULL: Intel PCS (or a PCCS with the same API) */
    int64_t collateral_grace_seconds;     /* stale TDX collateral within this: a warning */
    const char *cache_dir;                /* NULL: $CVMATTEST_CACHE, XDG cache */
    X509 **trust_roots;                   /* --trust-root certificates (borrowed) */
    const uint8_t (*trust_root_spki)[32]; /* optional: SHA-256 of each root's public key,
                                           * precomputed for cache keys; NULL: computed */
    size_t n_trust_roots;
    bool has_report_data; /* --report-data */
    uint8_t report_data[64];
    struct cvma_chain_cache *chain_cache; /* optional, borrowed */
    bool no_qe_report_memo; /* TDX: verify the QE report signature even when remembered */
    int snp_product;        /* --product: an enum cvma_snp_product for reports that name none (v2);
                             * 0 (unknown): from the report CPUID or the VCEK/VLEK productName */
};

struct cvma_result {
    enum cvma_result_status status;
    const char *tee; /* "sev-snp", "tdx", "tpm" */
    time_t verified_at;
    char trust_anchor[96]; /* "amd-ark-milan", "test-root:<sha256>", "" when none */
    struct cvma_verdict verdict;
    json_t *claims;   /* owned; {} until the evidence signature verified */
    json_t *platform; /* owned */
    bool undecided;   /* collateral unavailable: exit 3 */
};

void cvma_result_init(struct cvma_result *res, const char *tee, time_t at);
void cvma_result_cleanup(struct cvma_result *res);
/* Computes the final status (cvma_verdict_finish). */
void cvma_result_finish(struct cvma_result *res);
/* The exit code of DESIGN.md for a finished result. */
int cvma_result_exit_code(const struct cvma_result *res);
/* The result as JSON (new reference). */
json_t *cvma_result_to_json(const struct cvma_result *res);

#endif
