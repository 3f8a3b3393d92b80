/*
 * Signed attestation results in EAR form (EAT Attestation Results), with the JSON spelling
 * that the deployed veraison/ear library reads (ear.status, ear.verifier-id, ...): the result
 * as a JWT signed with ES256 (or ES384, following the key). Our claims, platform and reasons
 * travel inside the submodule under "cvmattest.*" names. See docs/results.md.
 */
#ifndef CVMA_RESULT_EAR_H
#define CVMA_RESULT_EAR_H

#include <openssl/evp.h>

#include "result/result.h"

#define CVMA_EAR_PROFILE "tag:github.com,2023:veraison/ear"

/*
 * The EAR claims set for res (new reference). policy_id may be NULL (no policy: the default
 * appraisal "cvmattest:default"); nonce_hex may be NULL (no eat_nonce).
 */
json_t *cvma_ear_claims(const struct cvma_result *res, const char *policy_id, time_t iat,
                        const char *nonce_hex);

/* Signs the EAR of res with key into *token (malloc'd). CVMA_OK or CVMA_E_INTERNAL. */
CVMA_MUST_USE enum cvma_status cvma_ear_sign(const struct cvma_result *res, EVP_PKEY *key,
                                             const char *policy_id, const char *nonce_hex,
                                             char **token);

/*
 * Verifies a token with pub and returns its claims (new reference) in *claims. CVMA_REJECTED
 * with err when the signature or the form is wrong (a flipped byte, another key, alg "none"),
 * or the claims are not an EAR (no eat_profile, iat or submods).
 */
CVMA_MUST_USE enum cvma_status cvma_ear_verify(const char *token, size_t len, EVP_PKEY *pub,
                                               json_t **claims, char *err, size_t err_len);

/*
 * Compares res with an earlier result (our result JSON) of the same workload: a different
 * platform is PLATFORM_CHANGED (warning) naming both and whether each was registered.
 * CVMA_E_USAGE with err when previous is not a result.
 */
CVMA_MUST_USE enum cvma_status cvma_result_compare_previous(struct cvma_result *res,
                                                            const json_t *previous, char *err,
                                                            size_t err_len);

#endif
