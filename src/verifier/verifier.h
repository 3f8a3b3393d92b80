/*
 * The verifier object (cvmattest/cvmattest.h) and the pipeline, once: detect the kind, verify
 * it (the kind's row), bind the platform to a provider, appraise against the policy, compare
 * with a previous result, finish the status. Internal extras for the CLI live here.
 */
#ifndef CVMA_VERIFIER_VERIFIER_H
#define CVMA_VERIFIER_VERIFIER_H

#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "collateral/stats.h"
#include "crypto/chain_cache.h"
#include "result/result.h"
#include "verifier/bundle.h"

#define CVMA_MAX_TRUST_ROOTS 16

struct cvma_named_policy {
    char *name; /* "" for the default */
    struct cvma_policy *policy;
};

struct cvma_verifier {
    struct cvma_verify_opts vo; /* the template every call copies */
    char *collateral_dir, *kds_base_url, *pcs_base_url, *cache_dir;
    X509 *roots[CVMA_MAX_TRUST_ROOTS];
    uint8_t root_spki[CVMA_MAX_TRUST_ROOTS][32];
    bool grace_given;
    struct cvma_chain_cache *cache; /* NULL with no_cache */
    struct cvma_named_policy *policies;
    size_t n_policies;
    struct cvma_registry_set *rs; /* NULL when no binding was configured */
    pthread_mutex_t rs_lock;      /* binding updates the set's rollback state */
    EVP_PKEY *result_key;
    /* Its EAR signer (kid, header, signing contexts), made once; NULL without a key. Shared by
     * every thread that signs a result: the service, cvma_result_sign. */
    struct cvma_jws_signer *result_signer;
    bool no_cache;
    struct cvma_collateral_stats stats; /* cvma_verifier_counters */
    struct cvma_collateral_hooks hooks; /* lent to every call (vo.collateral_hooks) */
    struct cvma_state_store store;      /* the configuration's copy */
    bool has_store;
    unsigned fetch_budget; /* downloads a minute (hooks.flights); 0: no limit */
};

/* The policy configured under name (NULL or "": the default); NULL when none. *found is false
 * for a name not configured, and for the default when policies are configured but no default
 * is (never appraised with no policy); true with NULL when no policy is configured at all. */
const struct cvma_policy *cvma_verifier_policy(const struct cvma_verifier *v, const char *name,
                                               bool *found);

#endif
