#include "result/ear.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "crypto/jws.h"

/* AR4SI trustworthiness claims (draft-ietf-rats-ar4si; veraison/ear trustclaim.go). */
#define TC_NONE        0
#define TC_AFFIRMING   2
#define TC_WARNING     32
#define TC_UNRECOG_RT  33
#define TC_CONTRA      96
#define TC_UNRECOG_HW  97
#define TC_CRYPTO_FAIL 99

static bool has_prefix(enum cvma_reason r, const char *prefix)
{
    return strncmp(cvma_reason_name(r), prefix, strlen(prefix)) == 0;
}

static int worse(int a, int b)
{
    return b > a ? b : a;
}

/* Maps the reasons onto the trustworthiness vector. */
static json_t *vector(const struct cvma_result *res)
{
    bool verified = json_object_get(res->claims, "measurement") != NULL;
    int instance = verified ? TC_AFFIRMING : TC_NONE;
    int config = verified ? TC_AFFIRMING : TC_NONE;
    int exec = TC_NONE;
    int hardware = verified ? TC_AFFIRMING : TC_NONE;
    int runtime = verified ? TC_AFFIRMING : TC_NONE; /* memory encrypted by the TEE */

    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &res->verdict.reasons[i];
        int tier = r->severity == CVMA_SEV_ERROR     ? TC_CONTRA
                   : r->severity == CVMA_SEV_WARNING ? TC_WARNING
                                                     : TC_NONE;
        if (tier == TC_NONE) {
            continue;
        }
        switch (r->code) {
        case CVMA_R_SNP_REPORT_SIGNATURE_INVALID:
        case CVMA_R_TDX_QUOTE_SIGNATURE_INVALID:
        case CVMA_R_TDX_QE_REPORT_SIGNATURE_INVALID:
        case CVMA_R_CERT_CHAIN_INVALID:
        case CVMA_R_CERT_UNTRUSTED_ROOT:
            instance = worse(instance, TC_CRYPTO_FAIL);
            hardware = worse(hardware, TC_CRYPTO_FAIL);
            break;
        case CVMA_R_SNP_DEBUG_ALLOWED:
        case CVMA_R_TDX_DEBUG:
            config = worse(config, tier);
            runtime = worse(runtime, tier);
            break;
        case CVMA_R_TDX_TCB_NEEDS_ACTION:
        case CVMA_R_TDX_TCB_OUT_OF_DATE:
        case CVMA_R_TDX_TCB_REVOKED:
        case CVMA_R_TDX_TCB_LEVEL_NOT_FOUND:
            hardware = worse(hardware, tier);
            break;
        default:
            if (has_prefix(r->code, "REGISTRY_")) {
                instance = worse(instance, tier == TC_CONTRA ? TC_UNRECOG_HW : tier);
            } else if (has_prefix(r->code, "POLICY_MEASUREMENT") ||
                       has_prefix(r->code, "POLICY_MR_TD") || has_prefix(r->code, "POLICY_RTMR")) {
                exec = worse(exec, tier == TC_CONTRA ? TC_UNRECOG_RT : tier);
            } else if (has_prefix(r->code, "POLICY_")) {
                config = worse(config, tier);
            } else if (has_prefix(r->code, "SNP_") || has_prefix(r->code, "TDX_") ||
                       has_prefix(r->code, "CERT_") || has_prefix(r->code, "CRL_") ||
                       has_prefix(r->code, "COLLATERAL_")) {
                hardware = worse(hardware, tier);
            } else {
                instance = worse(instance, tier);
            }
            break;
        }
    }
    return json_pack("{s:i, s:i, s:i, s:i, s:i}", "instance-identity", instance, "configuration",
                     config, "executables", exec, "hardware", hardware, "runtime-opaque", runtime);
}

json_t *cvma_ear_claims(const struct cvma_result *res, const char *policy_id, time_t iat,
                        const char *nonce_hex)
{
    json_t *result = cvma_result_to_json(res);
    json_t *sub = json_object();
    json_t *o = json_object();

    json_object_set_new(sub, "ear.status", json_string(cvma_result_status_name(res->status)));
    json_object_set_new(sub, "ear.trustworthiness-vector", vector(res));
    json_object_set_new(sub, "ear.appraisal-policy-id",
                        json_string(policy_id != NULL ? policy_id : "cvmattest:default"));
    json_object_set(sub, "cvmattest.claims", json_object_get(result, "claims"));
    json_object_set(sub, "cvmattest.platform", json_object_get(result, "platform"));
    json_object_set(sub, "cvmattest.reasons", json_object_get(result, "reasons"));
    json_object_set(sub, "cvmattest.trust-anchor", json_object_get(result, "trust_anchor"));
    json_object_set(sub, "cvmattest.verified-at", json_object_get(result, "verified_at"));

    json_object_set_new(o, "eat_profile", json_string(CVMA_EAR_PROFILE));
    json_object_set_new(o, "iat", json_integer((json_int_t)iat));
    json_object_set_new(
            o, "ear.verifier-id",
            json_pack("{s:s, s:s}", "developer", "cvmattest", "build", "cvmattest 0.1.0"));
    if (nonce_hex != NULL) {
        json_object_set_new(o, "eat_nonce", json_string(nonce_hex));
    }
    json_object_set_new(o, "submods", json_pack("{s:o}", res->tee, sub));
    json_decref(result);
    return o;
}

enum cvma_status cvma_ear_sign(const struct cvma_result *res, EVP_PKEY *key, const char *policy_id,
                               const char *nonce_hex, char **token)
{
    uint8_t thumb[32];
    char kid[65];
    *token = NULL;
    if (!cvma_jws_key_thumbprint(key, thumb)) {
        return CVMA_E_INTERNAL;
    }
    cvma_hex_encode(thumb, sizeof thumb, kid, sizeof kid);
    json_t *claims = cvma_ear_claims(res, policy_id, time(NULL), nonce_hex);
    if (claims == NULL) {
        return CVMA_E_NOMEM;
    }
    enum cvma_jws_error e = cvma_jws_sign_json(key, "JWT", kid, claims, token);
    json_decref(claims);
    return e == CVMA_JWS_OK ? CVMA_OK : CVMA_E_INTERNAL;
}

enum cvma_status cvma_ear_verify(const char *token, size_t len, EVP_PKEY *pub, json_t **claims,
                                 char *err, size_t err_len)
{
    struct cvma_jws jws;
    *claims = NULL;
    memset(&jws, 0, sizeof jws);
    enum cvma_jws_error e = cvma_jws_verify(token, len, pub, &jws, err, err_len);
    if (e != CVMA_JWS_OK) {
        return e == CVMA_JWS_NOMEM ? CVMA_E_NOMEM : CVMA_REJECTED;
    }
    json_t *c = cvma_jws_payload_json(&jws, err, err_len);
    cvma_jws_cleanup(&jws);
    if (c == NULL) {
        return CVMA_REJECTED;
    }
    if (!json_is_string(json_object_get(c, "eat_profile")) ||
        !json_is_integer(json_object_get(c, "iat")) ||
        !json_is_object(json_object_get(c, "submods"))) {
        snprintf(err, err_len, "signed, but not an EAR: eat_profile, iat or submods missing");
        json_decref(c);
        return CVMA_REJECTED;
    }
    *claims = c;
    return CVMA_OK;
}

static void describe(const json_t *pl, char *out, size_t n)
{
    const char *vendor = json_string_value(json_object_get(pl, "vendor"));
    const char *type = json_string_value(json_object_get(pl, "id_type"));
    const char *id = json_string_value(json_object_get(pl, "id"));
    const char *prov = json_string_value(json_object_get(pl, "provider"));
    char shortid[20];
    snprintf(shortid, sizeof shortid, "%.16s%s", id ? id : "(none)",
             id != NULL && strlen(id) > 16 ? "..." : "");
    snprintf(out, n, "%s %s %s (%s%s)", vendor ? vendor : "?", type ? type : "?", shortid,
             prov ? "registered with " : "not registered", prov ? prov : "");
}

static bool same_str(const json_t *a, const json_t *b, const char *key)
{
    const char *x = json_string_value(json_object_get(a, key));
    const char *y = json_string_value(json_object_get(b, key));
    if (x == NULL || y == NULL) {
        return x == y;
    }
    return strcmp(x, y) == 0;
}

enum cvma_status cvma_result_compare_previous(struct cvma_result *res, const json_t *previous,
                                              char *err, size_t err_len)
{
    const json_t *ppl = json_object_get(previous, "platform");
    const json_t *pclaims = json_object_get(previous, "claims");
    if (!json_is_object(previous) || !json_is_object(ppl) || !json_is_object(pclaims)) {
        snprintf(err, err_len, "not a cvmattest result (no platform or claims object)");
        return CVMA_E_USAGE;
    }
    if (json_object_size(res->platform) == 0) {
        return CVMA_OK; /* nothing verified now: nothing to compare */
    }
    if (same_str(ppl, res->platform, "vendor") && same_str(ppl, res->platform, "id_type") &&
        same_str(ppl, res->platform, "id")) {
        return CVMA_OK;
    }
    char a[160], b[160];
    describe(ppl, a, sizeof a);
    describe(res->platform, b, sizeof b);
    bool same_workload = same_str(pclaims, res->claims, "measurement");
    cvma_verdict_add(&res->verdict, CVMA_R_PLATFORM_CHANGED, CVMA_SEV_WARNING,
                     "the workload moved from %s to %s%s", a, b,
                     same_workload ? "" : "; its measurement changed too");
    return CVMA_OK;
}
