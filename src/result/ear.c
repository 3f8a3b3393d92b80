#include "result/ear.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hex.h"
#include "common/json_out.h"
#include "common/timeutil.h"
#include "crypto/jws.h"

/*
 * AR4SI trustworthiness claim values (draft-ietf-rats-ar4si, "Specific Claims"; veraison/ear
 * trustclaim.go). Tiers: 0 (and 1, -1) none, 2..31 affirming, 32..95 warning, 96..127
 * contraindicated. Each claim defines its own values: instance-identity 2, 96, 97, 99 (no
 * warning value); configuration 2, 3, 32, 96, 99; executables 2, 3, 32, 33, 96, 99; hardware
 * 2, 32, 96, 97, 99; runtime-opaque 2, 32 (isolated, not encrypted), 96 (visible), 99.
 */
#define TC_NONE          0
#define TC_AFFIRMING     2  /* every claim: recognized, approved, genuine, encrypted */
#define TC_WARNING       32 /* configuration, executables, hardware: known vulnerabilities */
#define TC_UNRECOG_RT    33 /* executables: not recognized */
#define TC_CONTRA        96 /* every claim */
#define TC_UNRECOG_INST  97 /* instance-identity: not recognized, though it should be */
#define TC_CRYPTO_FAIL   99 /* every claim */
#define TC_WARNING_FIRST 32

struct vector {
    int instance; /* instance-identity */
    int config;   /* configuration */
    int exec;     /* executables */
    int hardware;
    int runtime; /* runtime-opaque */
    bool report; /* a verified TEE hardware report: what alone shows hardware genuine */
};

static void worsen(int *claim, int value)
{
    if (value > *claim) {
        *claim = value;
    }
}

/* An affirming claim (2..31) a reason shows no longer holds, where AR4SI gives the claim no
 * warning value that says why: 0, no claim. A warning or contraindicated value stays. */
static void withdraw(int *claim)
{
    if (*claim >= TC_AFFIRMING && *claim < TC_WARNING_FIRST) {
        *claim = TC_NONE;
    }
}

/*
 * A reason about the platform's hardware, firmware or collateral. An error gives hardware its
 * contraindicated value. A warning gives it 32, "genuine, with known vulnerabilities", only
 * where a verified hardware report showed it genuine; elsewhere (a bare TPM quote, evidence
 * that did not verify) nothing showed it genuine: configuration 32, as for a reason whose
 * claim has no fitting warning value.
 */
static void hardware_reason(struct vector *t, bool error)
{
    if (error) {
        worsen(&t->hardware, TC_CONTRA);
    } else if (t->report) {
        worsen(&t->hardware, TC_WARNING);
    } else {
        worsen(&t->config, TC_WARNING);
    }
}

static bool has_prefix(enum cvma_reason r, const char *prefix)
{
    return strncmp(cvma_reason_name(r), prefix, strlen(prefix)) == 0;
}

/*
 * A reason about the attester's identity. An error gives instance-identity its contraindicated
 * value (contra: 96, or 97 for a platform no registry lists). AR4SI defines no warning value
 * for instance-identity: a warning withdraws its affirmation and shows as configuration 32,
 * the warning of an unmapped reason (docs/results.md).
 */
static void instance_reason(struct vector *t, bool error, int contra)
{
    if (error) {
        worsen(&t->instance, contra);
    } else {
        withdraw(&t->instance);
        worsen(&t->config, TC_WARNING);
    }
}

/*
 * Lowers the vector for one reason of severity error or warning. An error gives the claim it
 * is about a contraindicated value (or executables 33 for a measurement not recognized), a
 * warning a value of the warning tier or none, never worse: the vector is never worse than the
 * result's status (EAR: ear.status "MUST be set to a tier of no higher trust than the tier
 * corresponding to the worst trustworthiness claim"), and the status stays the result's.
 */
static void apply_reason(struct vector *t, enum cvma_reason code, bool error)
{
    switch (code) {
    case CVMA_R_SNP_REPORT_SIGNATURE_INVALID:
    case CVMA_R_TDX_QUOTE_SIGNATURE_INVALID:
    case CVMA_R_TDX_QE_REPORT_SIGNATURE_INVALID:
    case CVMA_R_TPM_SIGNATURE_INVALID: /* tpm, azure-*, svsm-vtpm: the quote's AK signature */
    case CVMA_R_CERT_CHAIN_INVALID:
    case CVMA_R_CERT_UNTRUSTED_ROOT:
        if (error) {
            worsen(&t->instance, TC_CRYPTO_FAIL);
            worsen(&t->hardware, TC_CRYPTO_FAIL);
        } else {
            /* (never a warning today) nothing shown genuine by a signature in question */
            withdraw(&t->hardware);
            instance_reason(t, false, TC_CONTRA);
        }
        break;
    case CVMA_R_SNP_HOST_REQUESTED_REPORT:
    case CVMA_R_SNP_VMPL_INVALID:
        /* the report data names nothing of this guest's: its identity is not attested */
        instance_reason(t, error, TC_CONTRA);
        break;
    case CVMA_R_SNP_DEBUG_ALLOWED:
    case CVMA_R_TDX_DEBUG:
        /* The host can read a debug guest's memory: runtime-opaque 96 (visible) when refused.
         * Accepted by allow_debug (a warning), its memory is no less visible, but 96 is of the
         * contraindicated tier and 32 says "isolated": no claim, 0; configuration 32. */
        worsen(&t->config, error ? TC_CONTRA : TC_WARNING);
        if (error) {
            worsen(&t->runtime, TC_CONTRA);
        } else {
            withdraw(&t->runtime);
        }
        break;
    case CVMA_R_TPM_AK_NOT_BOUND:
        /* Nothing ties the quote's AK to hardware: whatever else verified, the quote does
         * not show it genuine (no claim, or the worse value a reason gave). */
        instance_reason(t, error, TC_CONTRA);
        withdraw(&t->hardware);
        break;
    case CVMA_R_REGISTRY_PLATFORM_NOT_LISTED:
        /* the one registry reason about the platform itself: no provider knows it */
        instance_reason(t, error, TC_UNRECOG_INST);
        break;
    case CVMA_R_MEASUREMENT_CHANGED:
        /* another image than the earlier result's: what runs is in question */
        worsen(&t->exec, error ? TC_CONTRA : TC_WARNING);
        break;
    case CVMA_R_TDX_TCB_NEEDS_ACTION:
    case CVMA_R_TDX_TCB_OUT_OF_DATE:
    case CVMA_R_TDX_TCB_RELAUNCH_ADVISED:
    case CVMA_R_TDX_TCB_REVOKED:
    case CVMA_R_TDX_TCB_LEVEL_NOT_FOUND:
        /* hardware 32: genuine, with known vulnerabilities (a status accepted by
         * accepted_tcb_statuses is a warning, docs/policy.md) */
        hardware_reason(t, error);
        break;
    default:
        if (has_prefix(code, "POLICY_MEASUREMENT") || has_prefix(code, "POLICY_MR_TD") ||
            has_prefix(code, "POLICY_RTMR")) {
            worsen(&t->exec, error ? TC_UNRECOG_RT : TC_WARNING);
        } else if (has_prefix(code, "POLICY_")) {
            worsen(&t->config, error ? TC_CONTRA : TC_WARNING);
        } else if (has_prefix(code, "SNP_") || has_prefix(code, "TDX_") ||
                   has_prefix(code, "CERT_") || has_prefix(code, "CRL_") ||
                   has_prefix(code, "COLLATERAL_")) {
            hardware_reason(t, error);
        } else {
            instance_reason(t, error, TC_CONTRA);
        }
        break;
    }
}

/*
 * Maps what verified, then the reasons, onto the trustworthiness vector, written as its JSON
 * object. hardware 2 (genuine) and runtime-opaque 2 (encrypted memory) are claimed only for a
 * verified TEE hardware report, which is what shows both: a bare TPM quote shows neither (its AK
 * may be any key), so both stay 0, no claim (AR4SI). An info reason never changes the status,
 * so it never changes the vector either.
 */
static bool write_vector(struct cvma_strbuf *b, const struct cvma_result *res)
{
    bool verified = res->claims.verified;
    bool hw_report = verified && res->claims.hardware;
    struct vector t = {
            .instance = verified ? TC_AFFIRMING : TC_NONE,
            .config = verified ? TC_AFFIRMING : TC_NONE,
            .exec = TC_NONE,
            .hardware = hw_report ? TC_AFFIRMING : TC_NONE,
            .runtime = hw_report ? TC_AFFIRMING : TC_NONE, /* memory encrypted by the TEE */
            .report = hw_report,
    };

    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &res->verdict.reasons[i];
        switch (r->severity) {
        case CVMA_SEV_INFO:
            break;
        case CVMA_SEV_WARNING:
            apply_reason(&t, r->code, false);
            break;
        case CVMA_SEV_ERROR:
            apply_reason(&t, r->code, true);
            break;
        }
    }
    char s[160];
    int n = snprintf(s, sizeof s,
                     "{\"instance-identity\":%d,\"configuration\":%d,\"executables\":%d,"
                     "\"hardware\":%d,\"runtime-opaque\":%d}",
                     t.instance, t.config, t.exec, t.hardware, t.runtime);
    return n > 0 && (size_t)n < sizeof s && cvma_strbuf_add(b, s, (size_t)n);
}

/* The result's members the token carries, and their names in the token's submodule. */
static const char *const result_members[CVMA_EAR_MEMBERS] = {
        "claims", "platform", "reasons", "trust_anchor", "verified_at", "undecided",
};
static const char *const ear_members[CVMA_EAR_MEMBERS] = {
        "cvmattest.claims",       "cvmattest.platform",    "cvmattest.reasons",
        "cvmattest.trust-anchor", "cvmattest.verified-at", "cvmattest.undecided",
};

bool cvma_ear_result_text(const struct cvma_result *res, struct cvma_strbuf *b,
                          struct cvma_ear_result_text *rt)
{
    rt->b = b;
    return cvma_result_write(b, res, result_members, rt->members, CVMA_EAR_MEMBERS);
}

static bool add_lit(struct cvma_strbuf *b, const char *s)
{
    return cvma_strbuf_add(b, s, strlen(s));
}

static bool add_str(struct cvma_strbuf *b, const char *s)
{
    return cvma_json_write_str(b, s, strlen(s));
}

/*
 * The claims set's text: the members, in this order, that jansson wrote when the claims were
 * an object (eat_profile, iat, ear.verifier-id, eat_nonce, submods, exp, cnf), the result's
 * members copied from rt's text (b is never rt's own buffer). exp 0: none; jwk NULL: no cnf.
 */
static bool write_claims(struct cvma_strbuf *b, const struct cvma_result *res,
                         const struct cvma_ear_result_text *rt, const char *policy_id, time_t iat,
                         const char *nonce, time_t exp, const json_t *jwk)
{
    bool ok = add_lit(b, "{\"eat_profile\":") && add_str(b, CVMA_EAR_PROFILE) &&
              add_lit(b, ",\"iat\":") && cvma_json_write_int(b, (json_int_t)iat) &&
              add_lit(b, ",\"ear.verifier-id\":{\"developer\":\"cvmattest\",\"build\":") &&
              add_str(b, "cvmattest " CVMATTEST_VERSION) && add_lit(b, "}");
    if (ok && nonce != NULL) {
        ok = add_lit(b, ",\"eat_nonce\":") && add_str(b, nonce);
    }
    ok = ok && add_lit(b, ",\"submods\":{") && add_str(b, res->tee) &&
         add_lit(b, ":{\"ear.status\":") && add_str(b, cvma_result_status_name(res->status)) &&
         add_lit(b, ",\"ear.trustworthiness-vector\":") && write_vector(b, res) &&
         add_lit(b, ",\"ear.appraisal-policy-id\":") &&
         add_str(b, policy_id != NULL ? policy_id : "cvmattest:default");
    for (size_t i = 0; ok && i < CVMA_EAR_MEMBERS; i++) {
        const struct cvma_json_span *sp = &rt->members[i];
        if (sp->len == 0) {
            continue; /* not in the result: not in the token */
        }
        ok = add_lit(b, ",") && add_str(b, ear_members[i]) && add_lit(b, ":") &&
             cvma_strbuf_add(b, rt->b->p + sp->off, sp->len);
    }
    ok = ok && add_lit(b, "}}");
    if (ok && exp != 0) {
        ok = add_lit(b, ",\"exp\":") && cvma_json_write_int(b, (json_int_t)exp);
    }
    if (ok && jwk != NULL) {
        ok = add_lit(b, ",\"cnf\":{\"jwk\":") && cvma_json_write(b, jwk) && add_lit(b, "}");
    }
    return ok && add_lit(b, "}");
}

/* The claims' text for res (rt NULL: the result written here); false when out of memory or a
 * string is not UTF-8. */
static bool claims_text(const struct cvma_result *res, const struct cvma_ear_result_text *rt,
                        const char *policy_id, time_t iat, const char *nonce, time_t exp,
                        const json_t *jwk, struct cvma_strbuf *out)
{
    struct cvma_strbuf rb = {0};
    struct cvma_ear_result_text own;
    bool ok = true;
    if (rt == NULL) {
        ok = cvma_ear_result_text(res, &rb, &own);
        rt = &own;
    }
    ok = ok && res->tee != NULL && write_claims(out, res, rt, policy_id, iat, nonce, exp, jwk);
    free(rb.p);
    return ok;
}

json_t *cvma_ear_claims(const struct cvma_result *res, const char *policy_id, time_t iat,
                        const char *nonce_hex)
{
    struct cvma_strbuf b = {0};
    return cvma_json_tree_of(&b, claims_text(res, NULL, policy_id, iat, nonce_hex, 0, NULL, &b));
}

enum cvma_status cvma_ear_sign(const struct cvma_result *res, EVP_PKEY *key, const char *policy_id,
                               const char *nonce_hex, char **token)
{
    return cvma_ear_sign_exp(res, key, policy_id, nonce_hex, 0, token);
}

enum cvma_status cvma_ear_sign_exp(const struct cvma_result *res, EVP_PKEY *key,
                                   const char *policy_id, const char *nonce, int64_t ttl,
                                   char **token)
{
    return cvma_ear_sign_cnf(res, key, policy_id, nonce, ttl, NULL, token);
}

bool cvma_ear_key_id(EVP_PKEY *key, char kid[CVMA_EAR_KID_LEN])
{
    uint8_t thumb[32];
    if (!cvma_jws_key_thumbprint(key, thumb)) {
        return false;
    }
    cvma_hex_encode(thumb, sizeof thumb, kid, CVMA_EAR_KID_LEN);
    return true;
}

enum cvma_status cvma_ear_sign_cnf(const struct cvma_result *res, EVP_PKEY *key,
                                   const char *policy_id, const char *nonce, int64_t ttl,
                                   const json_t *jwk, char **token)
{
    struct cvma_jws_signer *signer = cvma_ear_signer(key, NULL);
    *token = NULL;
    if (signer == NULL) {
        return CVMA_E_INTERNAL;
    }
    enum cvma_status st = cvma_ear_sign_with(res, NULL, signer, policy_id, nonce, ttl, jwk, token);
    cvma_jws_signer_free(signer);
    return st;
}

enum cvma_status cvma_ear_sign_with(const struct cvma_result *res,
                                    const struct cvma_ear_result_text *rt,
                                    struct cvma_jws_signer *signer, const char *policy_id,
                                    const char *nonce, int64_t ttl, const json_t *jwk, char **token)
{
    struct cvma_strbuf b = {0};
    *token = NULL;
    time_t now = time(NULL);
    /* The claims hold most of the result's text: room for it at once. */
    if (!cvma_strbuf_reserve(&b, (rt != NULL ? rt->b->len : 4096) + 1024) ||
        !claims_text(res, rt, policy_id, now, nonce, ttl > 0 ? now + (time_t)ttl : 0, jwk, &b)) {
        free(b.p);
        return CVMA_E_NOMEM;
    }
    enum cvma_jws_error e = cvma_jws_signer_sign(signer, (const uint8_t *)b.p, b.len, token);
    free(b.p);
    return e == CVMA_JWS_OK ? CVMA_OK : CVMA_E_INTERNAL;
}

struct cvma_jws_signer *cvma_ear_signer(EVP_PKEY *key, const char *key_id)
{
    char kid[CVMA_EAR_KID_LEN];
    enum cvma_jws_error e;
    if (key_id == NULL) {
        if (!cvma_ear_key_id(key, kid)) {
            return NULL;
        }
        key_id = kid;
    }
    return cvma_jws_signer_new(key, "JWT", key_id, &e);
}

/*
 * A JWT's typ (RFC 7519 5.1): "JWT", or its media type in full, "application/jwt": RFC 7515
 * 4.1.9 reads a typ without '/' as if "application/" were prepended, and media type names
 * compare without regard to case (RFC 6838 4.2), so "JWT", "jwt" and "Application/JWT" are one.
 */
static bool typ_is_jwt(const char *typ)
{
    static const char app[] = "application/";
    if (strncasecmp(typ, app, sizeof app - 1) == 0) {
        typ += sizeof app - 1;
    }
    return strcasecmp(typ, "JWT") == 0;
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
    if (!jws.has_typ || !typ_is_jwt(jws.typ)) {
        cvma_errf(err, err_len,
                  "signed, but the header's typ is %s%s%s, not \"JWT\" (application/jwt)",
                  jws.has_typ ? "\"" : "", jws.has_typ ? jws.typ : "missing",
                  jws.has_typ ? "\"" : "");
        cvma_jws_cleanup(&jws);
        return CVMA_REJECTED;
    }
    json_t *c = cvma_jws_payload_json(&jws, err, err_len);
    cvma_jws_cleanup(&jws);
    if (c == NULL) {
        return CVMA_REJECTED;
    }
    const char *profile = json_string_value(json_object_get(c, "eat_profile"));
    const json_t *iat = json_object_get(c, "iat"), *submods = json_object_get(c, "submods");
    const char *wrong = profile == NULL ? "eat_profile is missing or not a string"
                        : iat == NULL   ? "iat is missing"
                        : !json_is_integer(iat) || json_integer_value(iat) < 0
                                ? "iat is not a NumericDate (a non-negative integer)"
                        : !json_is_object(submods) ? "submods is missing or not an object"
                                                   : NULL;
    if (wrong != NULL) {
        cvma_errf(err, err_len, "signed, but not an EAR: %s", wrong);
        json_decref(c);
        return CVMA_REJECTED;
    }
    if (strcmp(profile, CVMA_EAR_PROFILE) != 0) {
        cvma_errf(err, err_len, "signed, but eat_profile is \"%.100s\", not \"%s\"", profile,
                  CVMA_EAR_PROFILE);
        json_decref(c);
        return CVMA_REJECTED;
    }
    *claims = c;
    return CVMA_OK;
}

/* A NumericDate (RFC 7519 2): an integer number of seconds. */
static bool numeric_date(const json_t *c, const char *name, bool *present, time_t *out)
{
    const json_t *j = json_object_get(c, name);
    *present = j != NULL;
    *out = 0;
    if (j == NULL) {
        return true;
    }
    if (!json_is_integer(j) || json_integer_value(j) < 0) {
        return false; /* a NumericDate counts seconds from 1970 */
    }
    *out = (time_t)json_integer_value(j);
    return true;
}

static int tier_rank(enum cvma_ear_tier t)
{
    switch (t) {
    case CVMA_EAR_AFFIRMING:
        return 0;
    case CVMA_EAR_WARNING:
        return 1;
    case CVMA_EAR_NONE:
        return 2;
    case CVMA_EAR_CONTRAINDICATED:
        return 3;
    }
    return 3;
}

const char *cvma_ear_tier_name(enum cvma_ear_tier t)
{
    switch (t) {
    case CVMA_EAR_AFFIRMING:
        return "affirming";
    case CVMA_EAR_WARNING:
        return "warning";
    case CVMA_EAR_NONE:
        return "none";
    case CVMA_EAR_CONTRAINDICATED:
        return "contraindicated";
    }
    return "contraindicated";
}

static bool tier_from_name(const char *s, enum cvma_ear_tier *t)
{
    static const enum cvma_ear_tier all[] = {CVMA_EAR_NONE, CVMA_EAR_AFFIRMING, CVMA_EAR_WARNING,
                                             CVMA_EAR_CONTRAINDICATED};
    for (size_t i = 0; s != NULL && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, cvma_ear_tier_name(all[i])) == 0) {
            *t = all[i];
            return true;
        }
    }
    return false;
}

/* A NumericDate for a message: RFC 3339, or the number itself when it is after the last
 * instant RFC 3339 writes (out has at least 64 bytes). */
static void date_text(time_t t, char *out, size_t n)
{
    if ((int64_t)t > CVMA_TIME_MAX) {
        snprintf(out, n, "%lld (after 9999-12-31T23:59:59Z)", (long long)t);
        return;
    }
    cvma_time_format(t, out, n);
}

enum cvma_status cvma_ear_decide(const json_t *claims, time_t now, int64_t max_age,
                                 struct cvma_ear_decision *d, char *err, size_t err_len)
{
    time_t iat, exp, nbf;
    bool has_iat, has_exp, has_nbf;
    char a[64], b[64];

    memset(d, 0, sizeof *d);
    d->tier = CVMA_EAR_CONTRAINDICATED;
    if (!numeric_date(claims, "iat", &has_iat, &iat) || !has_iat ||
        !numeric_date(claims, "exp", &has_exp, &exp) ||
        !numeric_date(claims, "nbf", &has_nbf, &nbf)) {
        cvma_errf(err, err_len,
                  "iat, exp or nbf is not a NumericDate (a non-negative integer; iat is required)");
        return CVMA_REJECTED;
    }
    d->iat = iat;
    date_text(now, b, sizeof b);
    if (iat > now + CVMA_EAR_CLOCK_SKEW) {
        date_text(iat, a, sizeof a);
        cvma_errf(err, err_len, "issued in the future: iat %s, now %s", a, b);
        return CVMA_REJECTED;
    }
    if (has_exp && now >= exp) {
        date_text(exp, a, sizeof a);
        cvma_errf(err, err_len, "expired: exp %s, now %s", a, b);
        return CVMA_REJECTED;
    }
    if (has_nbf && now < nbf) {
        date_text(nbf, a, sizeof a);
        cvma_errf(err, err_len, "not yet valid: nbf %s, now %s", a, b);
        return CVMA_REJECTED;
    }
    const json_t *submods = json_object_get(claims, "submods");
    if (json_object_size(submods) == 0) {
        cvma_errf(err, err_len, "no appraisal: submods is empty");
        return CVMA_REJECTED;
    }
    /* Every submodule counts: the token is as good as its worst appraisal, and as old as its
     * oldest. A result signed now may state what was true at another time (verify --at): its
     * cvmattest.verified-at, not iat, is the time the evidence was judged at. */
    bool first = true;
    time_t judged = iat;
    const char *name;
    const json_t *sub;
    json_object_foreach((json_t *)(uintptr_t)submods, name, sub)
    {
        enum cvma_ear_tier t;
        const char *st = json_string_value(json_object_get(sub, "ear.status"));
        if (!json_is_object(sub) || !tier_from_name(st, &t)) {
            cvma_errf(err, err_len, "submodule \"%.64s\": ear.status missing or unknown", name);
            return CVMA_REJECTED;
        }
        const json_t *va = json_object_get(sub, "cvmattest.verified-at");
        time_t at;
        if (va != NULL &&
            (!json_is_string(va) || strlen(json_string_value(va)) != json_string_length(va) ||
             !cvma_time_parse_rfc3339(json_string_value(va), &at))) {
            cvma_errf(err, err_len,
                      "submodule \"%.64s\": cvmattest.verified-at is not an RFC 3339 time", name);
            return CVMA_REJECTED;
        }
        if (va != NULL && at > now + CVMA_EAR_CLOCK_SKEW) {
            cvma_time_format(at, a, sizeof a);
            cvma_errf(err, err_len,
                      "submodule \"%.64s\" judged the evidence as of a later time: "
                      "verified-at %s, now %s",
                      name, a, b);
            return CVMA_REJECTED;
        }
        if (va != NULL && at < judged) {
            judged = at;
        }
        if (first || tier_rank(t) > tier_rank(d->tier)) {
            d->tier = t;
            snprintf(d->submod, sizeof d->submod, "%s", name);
        }
        first = false;
    }
    d->judged = judged;
    /* The age in unsigned arithmetic: now - judged overflows time_t for an iat far in the past
     * (a signed claim, but any integer), and a wrapped age would pass as young. */
    uint64_t age = now > judged ? (uint64_t)now - (uint64_t)judged : 0;
    if (max_age >= 0 && age > (uint64_t)max_age) {
        cvma_time_format(judged, a, sizeof a);
        cvma_errf(err, err_len, "too old: %s %s, %" PRIu64 " s ago, over --max-age %lld s",
                  judged == iat ? "issued at" : "evidence judged as of", a, age,
                  (long long)max_age);
        return CVMA_REJECTED;
    }
    return CVMA_OK;
}

static void describe(const struct cvma_platform *pl, char *out, size_t n)
{
    const char *vendor = cvma_platform_vendor_name(pl->vendor);
    const char *type = cvma_platform_id_type_name(pl->id_type);
    const char *prov = pl->bound ? pl->provider : NULL;
    char id[2 * CVMA_PLATFORM_ID_MAX + 1];
    char shortid[20];
    char chip[2 * CVMA_PLATFORM_CHIP_ID_LEN + 1] = "";
    cvma_platform_id_string(pl, id, sizeof id);
    snprintf(shortid, sizeof shortid, "%.16s%s", pl->has_id ? id : "(none)",
             pl->has_id && strlen(id) > 16 ? "..." : "");
    if (pl->has_chip_id) {
        /* the host of a VLEK platform: two hosts of one provider differ only here */
        cvma_hex_encode(pl->chip_id, 8, chip, sizeof chip);
    }
    snprintf(out, n, "%s %s %s%s%s%s (%s%s)", vendor ? vendor : "?", type ? type : "?", shortid,
             pl->has_chip_id ? " chip " : "", chip, pl->has_chip_id ? "..." : "",
             prov ? "registered with " : "not registered", prov ? prov : "");
}

/*
 * The earlier result's claims.measurement against the one verified now. *known: the earlier
 * result names one (hex, either case) and this evidence's claims verified, so the two can be
 * compared. The return: the same (or not comparable). was and now are what to show: the
 * earlier hex as given when it is hex, else "(not hex)"; "(none)" for an absent one.
 */
static bool same_measurement(const json_t *pclaims, const struct cvma_claims *c, bool *known,
                             char *was, size_t was_len, char *now, size_t now_len)
{
    uint8_t pm[CVMA_CLAIMS_MEASUREMENT_MAX];
    size_t pm_len = 0;
    const json_t *xj = json_object_get(pclaims, "measurement");
    const char *x = json_string_value(xj);
    /* (a NUL inside the JSON string would end the hex early: not hex) */
    bool x_hex = x != NULL && strlen(x) == json_string_length(xj) &&
                 cvma_hex_decode(x, pm, sizeof pm, &pm_len) && pm_len > 0;
    bool y = c->verified && c->measurement_len > 0 &&
             c->measurement_len <= CVMA_CLAIMS_MEASUREMENT_MAX;
    *known = x != NULL && c->verified;
    /* (x was hex: at most 2 * CVMA_CLAIMS_MEASUREMENT_MAX digits, all printable) */
    snprintf(was, was_len, "%s", x == NULL ? "(none)" : (x_hex ? x : "(not hex)"));
    if (y) {
        cvma_hex_encode(c->measurement, c->measurement_len, now, now_len);
    } else {
        snprintf(now, now_len, "(none)");
    }
    if (x == NULL || !y) {
        return x == NULL && !y;
    }
    return x_hex && pm_len == c->measurement_len &&
           memcmp(pm, c->measurement, c->measurement_len) == 0;
}

/*
 * The earlier result's tee against this one's. Measurements of different TEE kinds are not
 * comparable (an SEV-SNP MEASUREMENT and a TDX MRTD may have the same bytes and mean nothing
 * alike), so another kind is another measurement. An earlier result naming no tee compares the
 * measurement alone; one whose tee is not a kind's name (not a string, or not of lower-case
 * letters, digits and '-', at most 31) is another kind. was is what to show of the earlier one.
 */
static bool same_kind(const json_t *previous, const char *tee, char *was, size_t was_len)
{
    const json_t *tj = json_object_get(previous, "tee");
    const char *t = json_string_value(tj);
    bool named = t != NULL && strlen(t) == json_string_length(tj) && strlen(t) > 0 &&
                 strlen(t) < 32 && strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(t);
    snprintf(was, was_len, "%s", named ? t : "(not a kind)");
    if (tj == NULL) {
        return true;
    }
    return named && tee != NULL && strcmp(t, tee) == 0;
}

/* see result/ear.h */
enum cvma_status cvma_result_compare_previous_text(struct cvma_result *res, const char *text,
                                                   size_t len, char *err, size_t err_len)
{
    json_error_t je;
    json_t *prev = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (prev == NULL) {
        cvma_errf(err, err_len, "not JSON: %s", je.text);
        return CVMA_E_USAGE;
    }
    enum cvma_status st = cvma_result_compare_previous(res, prev, err, err_len);
    json_decref(prev);
    return st;
}

enum cvma_status cvma_result_compare_previous(struct cvma_result *res, const json_t *previous,
                                              char *err, size_t err_len)
{
    const json_t *ppl = json_object_get(previous, "platform");
    const json_t *pclaims = json_object_get(previous, "claims");
    if (!json_is_object(previous) || !json_is_object(ppl) || !json_is_object(pclaims)) {
        cvma_errf(err, err_len, "not a cvmattest result (no platform or claims object)");
        return CVMA_E_USAGE;
    }
    if (!res->platform.present) {
        return CVMA_OK; /* nothing verified now: nothing to compare */
    }
    /* The earlier result is JSON from a file: read into the typed form. One that cannot be
     * read fully (an id not of its type's form) is not the same platform as any. */
    struct cvma_platform prev;
    bool moved = !cvma_platform_from_json(ppl, &prev) || !cvma_platform_same(&prev, &res->platform);
    char was[2 * CVMA_CLAIMS_MEASUREMENT_MAX + 1], now[2 * CVMA_CLAIMS_MEASUREMENT_MAX + 1];
    bool known = false;
    bool same_workload =
            same_measurement(pclaims, &res->claims, &known, was, sizeof was, now, sizeof now);
    char was_kind[32];
    bool kind_kept = same_kind(previous, res->tee, was_kind, sizeof was_kind);
    same_workload = same_workload && kind_kept;
    char a[160], b[160];
    describe(&res->platform, b, sizeof b);
    if (moved) {
        describe(&prev, a, sizeof a);
        /* A masked CHIP_ID names no platform: the move is not seen, but nothing shows a stay. */
        bool unnamed = !prev.has_id || !res->platform.has_id;
        cvma_verdict_add(&res->verdict, CVMA_R_PLATFORM_CHANGED, CVMA_SEV_WARNING,
                         "the workload moved from %s to %s%s%s", a, b,
                         unnamed ? " (or may have: no identifier shows it stayed)" : "",
                         known && !same_workload ? "; its measurement changed too" : "");
    }
    /* The same workload keeps its measurement wherever it runs (a live migration moves the
     * guest's memory, not its launch digest): another one is another image, on this platform
     * or the new one. Within one attested TLS session that means the session's key is now
     * vouched for by another image (docs/atls.md closes the connection on it). */
    if (known && !kind_kept) {
        cvma_verdict_add(&res->verdict, CVMA_R_MEASUREMENT_CHANGED, CVMA_SEV_WARNING,
                         "the measurement changed%s %s: from %s %s to %s %s, another TEE kind "
                         "(measurements of different kinds are not comparable)",
                         moved ? ", now on" : " on", b, was_kind, was,
                         res->tee != NULL ? res->tee : "(none)", now);
    } else if (known && !same_workload) {
        cvma_verdict_add(&res->verdict, CVMA_R_MEASUREMENT_CHANGED, CVMA_SEV_WARNING,
                         "the measurement changed%s %s: from %s to %s", moved ? ", now on" : " on",
                         b, was, now);
    }
    return CVMA_OK;
}
