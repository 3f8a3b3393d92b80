/*
 * Signed attestation results in EAR form (EAT Attestation Results), with the JSON spelling
 * that the deployed veraison/ear library reads (ear.status, ear.verifier-id, ...): the result
 * as a JWT signed with ES256 (or ES384, following the key). Our claims, platform and reasons
 * travel inside the submodule under "cvmattest.*" names. See docs/results.md.
 */
#ifndef CVMA_RESULT_EAR_H
#define CVMA_RESULT_EAR_H

#include <openssl/evp.h>

#include "common/json_out.h"
#include "crypto/jws.h"
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
 * The same with an expiry: exp = iat + ttl seconds when ttl > 0 (none when 0). nonce (may be
 * NULL) is the eat_nonce as given (the service passes the nonce it issued).
 */
CVMA_MUST_USE enum cvma_status cvma_ear_sign_exp(const struct cvma_result *res, EVP_PKEY *key,
                                                 const char *policy_id, const char *nonce,
                                                 int64_t ttl, char **token);

/*
 * The same with the attested public key: jwk (may be NULL: none) goes into the RFC 7800
 * confirmation claim, "cnf": {"jwk": ...}. The caller vouches that the evidence binds that key
 * (the service: REPORT_DATA checked, docs/service.md "Key binding").
 */
CVMA_MUST_USE enum cvma_status cvma_ear_sign_cnf(const struct cvma_result *res, EVP_PKEY *key,
                                                 const char *policy_id, const char *nonce,
                                                 int64_t ttl, const json_t *jwk, char **token);

/* The hex SHA-256 thumbprint of key's SubjectPublicKeyInfo: the tokens' "kid" (64 characters
 * and the NUL). False when the key cannot be encoded. */
#define CVMA_EAR_KID_LEN 65
bool cvma_ear_key_id(EVP_PKEY *key, char kid[CVMA_EAR_KID_LEN]);

/*
 * The result's text with the places of the members an EAR token carries: written once by a
 * service (its answer) and copied into the token rather than written again.
 */
#define CVMA_EAR_MEMBERS 6
struct cvma_ear_result_text {
    const struct cvma_strbuf *b; /* the text */
    struct cvma_json_span members[CVMA_EAR_MEMBERS];
};

/* Appends res's JSON text (cvma_result_write) to b and notes in rt where its members are.
 * False when out of memory. */
bool cvma_ear_result_text(const struct cvma_result *res, struct cvma_strbuf *b,
                          struct cvma_ear_result_text *rt);

/* The signer of EAR tokens with key (typ "JWT", kid key_id, NULL: computed by
 * cvma_ear_key_id): made once by a service and used for every token. NULL: the key is not
 * P-256/P-384 or memory ran out. */
struct cvma_jws_signer *cvma_ear_signer(EVP_PKEY *key, const char *key_id);

/*
 * cvma_ear_sign_cnf with what a service has already: a signer made once by cvma_ear_signer,
 * and rt, the result's text from cvma_ear_result_text (NULL: written here). A service signs
 * every token with one key and writes the result JSON anyway: neither is made twice.
 */
CVMA_MUST_USE enum cvma_status cvma_ear_sign_with(const struct cvma_result *res,
                                                  const struct cvma_ear_result_text *rt,
                                                  struct cvma_jws_signer *signer,
                                                  const char *policy_id, const char *nonce,
                                                  int64_t ttl, const json_t *jwk, char **token);

/*
 * Verifies a token with pub and returns its claims (new reference) in *claims. CVMA_REJECTED
 * with err when the signature or the form is wrong (a flipped byte, another key, alg "none"),
 * the header's typ is not "JWT", or the claims are not our EAR (no iat or submods, or an
 * eat_profile other than CVMA_EAR_PROFILE). Times and statuses: cvma_ear_decide.
 */
CVMA_MUST_USE enum cvma_status cvma_ear_verify(const char *token, size_t len, EVP_PKEY *pub,
                                               json_t **claims, char *err, size_t err_len);

/* AR4SI trust tiers, as ear.status spells them. */
enum cvma_ear_tier {
    CVMA_EAR_NONE,
    CVMA_EAR_AFFIRMING,
    CVMA_EAR_WARNING,
    CVMA_EAR_CONTRAINDICATED,
};
const char *cvma_ear_tier_name(enum cvma_ear_tier t);

/* Seconds an iat may lie ahead of the checker's clock. */
#define CVMA_EAR_CLOCK_SKEW 60

struct cvma_ear_decision {
    enum cvma_ear_tier tier; /* the worst ear.status over all submodules */
    char submod[64];         /* the submodule that gave it */
    time_t iat;
    time_t judged; /* the oldest submodule's cvmattest.verified-at, iat when earlier or none */
};

/*
 * The verdict on verified EAR claims (cvmattest result check) at time now: CVMA_REJECTED with
 * err when iat is missing or more than CVMA_EAR_CLOCK_SKEW ahead, exp (when present) is not
 * after now, nbf (when present) is after now, a submodule has no known ear.status, or a
 * submodule's cvmattest.verified-at (when present) is no RFC 3339 time or more than
 * CVMA_EAR_CLOCK_SKEW ahead, or the older of iat and every verified-at is more than max_age
 * seconds ago (max_age < 0: no limit). Otherwise CVMA_OK and *d: the token vouches for the
 * evidence only when d->tier is affirming or warning.
 */
CVMA_MUST_USE enum cvma_status cvma_ear_decide(const json_t *claims, time_t now, int64_t max_age,
                                               struct cvma_ear_decision *d, char *err,
                                               size_t err_len);

/*
 * Compares res with an earlier result (our result JSON) of the same workload: a different
 * platform is PLATFORM_CHANGED (warning) naming both and whether each was registered; then,
 * when res's claims verified and the earlier claims name a measurement, a different one (or
 * none now, or one of another TEE kind than the earlier tee: not comparable) is
 * MEASUREMENT_CHANGED (warning) naming the platform and both measurements.
 * CVMA_E_USAGE with err when previous is not a result.
 */
CVMA_MUST_USE enum cvma_status cvma_result_compare_previous(struct cvma_result *res,
                                                            const json_t *previous, char *err,
                                                            size_t err_len);
/* The same with the earlier result's JSON text (untrusted bytes: a file or a request member):
 * CVMA_E_USAGE with err when it is not JSON either. */
CVMA_MUST_USE enum cvma_status cvma_result_compare_previous_text(struct cvma_result *res,
                                                                 const char *text, size_t len,
                                                                 char *err, size_t err_len);

#endif
