/*
 * Verification options shared by every evidence kind, and the attestation result
 * (docs/results.md): status, trust anchor, reasons, claims and platform.
 */
#ifndef CVMA_RESULT_RESULT_H
#define CVMA_RESULT_RESULT_H

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/verdict.h"
#include "crypto/crypto.h"

struct cvma_chain_cache;
struct cvma_named_part;

struct cvma_verify_opts {
    time_t at;                                      /* verification time (--at, else now) */
    bool allow_trailing_data;                       /* --allow-trailing-data */
    const char *collateral_dir;                     /* --collateral DIR, or NULL */
    const struct cvma_named_part *collateral_parts; /* from the evidence bundle (borrowed) */
    size_t n_collateral_parts;
    bool collateral_parts_only;       /* read collateral from the parts only: no directory, cache
                                       * or network (preparing a bundle's collateral once) */
    bool offline;                     /* --offline: never touch the network */
    const char *kds_base_url;         /* NULL: AMD KDS */
    const char *pcs_base_url;         /* NULL: Intel PCS (or a PCCS with the same API) */
    int64_t collateral_grace_seconds; /* stale TDX collateral within this: a warning */
    const char *cache_dir;            /* NULL: $CVMATTEST_CACHE, XDG cache */
    X509 **trust_roots;               /* --trust-root certificates (borrowed) */
    const uint8_t (*trust_root_spki)[32]; /* optional: SHA-256 of each root's public key,
                                           * precomputed for cache keys; NULL: computed */
    size_t n_trust_roots;
    bool has_report_data; /* --report-data */
    uint8_t report_data[64];
    struct cvma_chain_cache *chain_cache; /* optional, borrowed */
    bool no_qe_report_memo; /* TDX: verify the QE report signature even when remembered */
    /* --collateral-max-age: cached CRLs, TCB Info and QE Identity fetched longer ago are
     * fetched again when online; 0: 24 h; negative: on every use (collateral/cache.h). */
    int64_t collateral_max_age;
    enum cvma_p384_backend p384_backend; /* SEV-SNP report signature: 0 = nettle (default) */
    int snp_product; /* --product: an enum cvma_snp_product for reports that name none (v2);
                      * 0 (unknown): from the report CPUID or the VCEK/VLEK productName */
};

struct cvma_result {
    enum cvma_result_status status;
    const char *tee; /* "sev-snp", "tdx", "tpm" */
    time_t verified_at;
    char trust_anchor[96]; /* "amd-ark-milan", "test-root:<sha256>", "" when none */
    struct cvma_verdict verdict;
    json_t *claims;      /* owned; {} until the evidence signature verified */
    json_t *platform;    /* owned */
    bool undecided;      /* collateral unavailable: exit 3 */
    char *policy_id;     /* owned: the policy appraised against (EAR), or NULL */
    char eat_nonce[129]; /* hex of the expected report data as given (EAR), "" when none */
};

void cvma_result_init(struct cvma_result *res, const char *tee, time_t at);
void cvma_result_cleanup(struct cvma_result *res);
/* Computes the final status (cvma_verdict_finish). */
void cvma_result_finish(struct cvma_result *res);
/* The exit code (README.md) for a finished result. */
int cvma_result_exit_code(const struct cvma_result *res);
/* The result as JSON (new reference). */
json_t *cvma_result_to_json(const struct cvma_result *res);

#endif
