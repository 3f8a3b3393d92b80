/*
 * The pipeline, once: detect -> kind.verify -> bind -> appraise -> result. The
 * CLI, the demo, bench and the service call cvma_verify; none of them orchestrates.
 */
#include "verifier/verifier.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "appraise/policy.h"
#include "collateral/dircache.h"
#include "collateral/fetch.h"
#include "collateral/http.h"
#include "common/allocfail.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"
#include "crypto/jws.h"
#include "registry/registry.h"
#include "result/ear.h"

#define MAX_KEY_FILE (1u << 20)

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* see cvmattest/cvmattest.h */
void cvma_verifier_free(struct cvma_verifier *v)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < v->vo.n_trust_roots; i++) {
        X509_free(v->roots[i]);
    }
    for (size_t i = 0; i < v->n_policies; i++) {
        free(v->policies[i].name);
        cvma_policy_free(v->policies[i].policy);
    }
    free(v->policies);
    cvma_registry_set_free(v->rs);
    if (v->rs != NULL) {
        pthread_mutex_destroy(&v->rs_lock);
    }
    cvma_jws_signer_free(v->result_signer);
    EVP_PKEY_free(v->result_key);
    cvma_chain_cache_free(v->cache);
    cvma_dircache_free(v->hooks.dir_cache);
    cvma_fetch_flights_free(v->hooks.flights);
    free(v->collateral_dir);
    free(v->kds_base_url);
    free(v->pcs_base_url);
    free(v->cache_dir);
    free(v);
}

static enum cvma_status add_root(struct cvma_verifier *v, const char *path, char *err,
                                 size_t err_len)
{
    size_t n = v->vo.n_trust_roots;
    if (n >= CVMA_MAX_TRUST_ROOTS) {
        cvma_errf(err, err_len, "too many trust roots (max %d)", CVMA_MAX_TRUST_ROOTS);
        return CVMA_E_USAGE;
    }
    X509 *x = NULL;
    enum cvma_status st = cvma_trust_root_load(path, &x, err, err_len);
    if (st != CVMA_OK) {
        return st;
    }
    if (!cvma_x509_spki_sha256(x, v->root_spki[n])) {
        X509_free(x);
        cvma_errf(err, err_len,
                  "trust root (trust_root_files, --trust-root) '%s': cannot encode its public key",
                  path);
        return CVMA_E_USAGE;
    }
    v->roots[n] = x;
    v->vo.n_trust_roots = n + 1;
    return CVMA_OK;
}

static enum cvma_status add_policy(struct cvma_verifier *v, const struct cvma_policy_config *pc,
                                   char *err, size_t err_len)
{
    char perr[512];
    const char *name = pc->name != NULL ? pc->name : "";
    struct cvma_named_policy *np;
    for (size_t i = 0; i < v->n_policies; i++) {
        if (strcmp(v->policies[i].name, name) == 0) {
            cvma_errf(err, err_len, "policy '%s' given twice", name[0] ? name : "(default)");
            return CVMA_E_USAGE;
        }
    }
    if ((np = realloc(v->policies, (v->n_policies + 1) * sizeof *np)) == NULL) {
        return CVMA_E_NOMEM;
    }
    v->policies = np;
    np = &v->policies[v->n_policies];
    memset(np, 0, sizeof *np);
    if ((np->name = strdup(name)) == NULL) {
        return CVMA_E_NOMEM;
    }
    enum cvma_status st = cvma_policy_load(pc->path, &np->policy, perr, sizeof perr);
    if (st != CVMA_OK) {
        free(np->name);
        /* The default policy is --policy's; a named one says its name (--named-policy or a
         * --config file's "policies"), not an option it was not given with. */
        if (name[0] != '\0') {
            cvma_errf(err, err_len, "policy '%s': %s", name, perr);
        } else {
            cvma_errf(err, err_len, "the default policy (policies, --policy): %s", perr);
        }
        return st;
    }
    v->n_policies++;
    return CVMA_OK;
}

static enum cvma_status add_binding(struct cvma_verifier *v, const struct cvma_verifier_config *c,
                                    char *err, size_t err_len)
{
    char rerr[512];
    enum cvma_status st = CVMA_OK;
    size_t n =
            c->n_providers + c->n_registries + c->n_proofs + c->n_lookup_registries + c->n_log_keys;
    if (c->n_log_keys == 0 && c->n_witness_keys + c->n_log_proofs + c->n_log_consistency +
                                              c->n_log_urls + c->witnesses_required >
                                      0) {
        /* Settings of a log no key was given for would be read by nothing: refused, not
         * ignored. */
        cvma_errf(err, err_len,
                  "witness_keys, witnesses_required, log_proofs, log_consistency and log_urls "
                  "(--witness-vkey, --witnesses, --log-proof, --log-consistency, --log-url) "
                  "need a registry log key: log_keys (--log-vkey PROVIDER=VKEY)");
        return CVMA_E_USAGE;
    }
    if (n == 0) {
        return CVMA_OK;
    }
    if ((v->rs = cvma_registry_set_new()) == NULL) {
        return CVMA_E_NOMEM;
    }
    if (pthread_mutex_init(&v->rs_lock, NULL) != 0) {
        cvma_registry_set_free(v->rs);
        v->rs = NULL;
        return CVMA_E_INTERNAL;
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_providers; i++) {
        if ((st = cvma_registry_set_add_provider(v->rs, c->providers[i], rerr, sizeof rerr)) !=
            CVMA_OK) {
            cvma_errf(err, err_len, "providers[%zu] (--provider) %s: %s", i, c->providers[i], rerr);
        }
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_registries; i++) {
        if ((st = cvma_registry_set_add_registry(v->rs, c->registries[i], rerr, sizeof rerr)) !=
            CVMA_OK) {
            cvma_errf(err, err_len, "registries[%zu] (--registry) %s: %s", i, c->registries[i],
                      rerr);
        }
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_proofs; i++) {
        if ((st = cvma_registry_set_add_proof(v->rs, c->proofs[i], rerr, sizeof rerr)) != CVMA_OK) {
            cvma_errf(err, err_len, "proofs[%zu] (--proof) %s: %s", i, c->proofs[i], rerr);
        }
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_lookup_registries; i++) {
        if ((st = cvma_registry_set_add_lookup(v->rs, c->lookup_registries[i], rerr,
                                               sizeof rerr)) != CVMA_OK) {
            cvma_errf(err, err_len, "lookup_registries[%zu] (--lookup-registry) %s: %s", i,
                      c->lookup_registries[i], rerr);
        }
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_log_keys; i++) {
        if ((st = cvma_registry_set_add_log_key(v->rs, c->log_keys[i], rerr, sizeof rerr)) !=
            CVMA_OK) {
            cvma_errf(err, err_len, "log_keys[%zu] (--log-vkey) %s: %s", i, c->log_keys[i], rerr);
        }
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_log_urls; i++) {
        if ((st = cvma_registry_set_add_log_url(v->rs, c->log_urls[i], rerr, sizeof rerr)) !=
            CVMA_OK) {
            cvma_errf(err, err_len, "log_urls[%zu] (--log-url) %s: %s", i, c->log_urls[i], rerr);
        }
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_witness_keys; i++) {
        if ((st = cvma_registry_set_add_witness(v->rs, c->witness_keys[i], rerr, sizeof rerr)) !=
            CVMA_OK) {
            cvma_errf(err, err_len, "witness_keys[%zu] (--witness-vkey) %s: %s", i,
                      c->witness_keys[i], rerr);
        }
    }
    if (st == CVMA_OK && c->n_log_keys > 0 && c->n_witness_keys == 0) {
        /* The log is trusted for what its witnesses cosigned: without one, the provider could
         * show each verifier a log of its own (docs/registry.md "Threat model"). */
        cvma_errf(err, err_len,
                  "log_keys (--log-vkey) need at least one of witness_keys (--witness-vkey): a "
                  "log no witness cosigns lets its provider show each verifier another log");
        st = CVMA_E_USAGE;
    }
    if (st == CVMA_OK && (st = cvma_registry_set_witnesses_required(
                                  v->rs, c->witnesses_required, rerr, sizeof rerr)) != CVMA_OK) {
        cvma_errf(err, err_len, "witnesses_required (--witnesses): %s", rerr);
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_log_proofs; i++) {
        if ((st = cvma_registry_set_add_log_proof(v->rs, c->log_proofs[i], rerr, sizeof rerr)) !=
            CVMA_OK) {
            cvma_errf(err, err_len, "log_proofs[%zu] (--log-proof) %s: %s", i, c->log_proofs[i],
                      rerr);
        }
    }
    for (size_t i = 0; st == CVMA_OK && i < c->n_log_consistency; i++) {
        if ((st = cvma_registry_set_add_log_consistency(v->rs, c->log_consistency[i], rerr,
                                                        sizeof rerr)) != CVMA_OK) {
            cvma_errf(err, err_len, "log_consistency[%zu] (--log-consistency) %s: %s", i,
                      c->log_consistency[i], rerr);
        }
    }
    if (st == CVMA_OK && cvma_registry_set_empty(v->rs)) {
        cvma_errf(err, err_len,
                  "%s given, but no registry, proof or lookup registry to bind the platform with",
                  c->n_providers > 0 ? "a provider key (providers, --provider)"
                                     : "a registry log key (log_keys, --log-vkey)");
        st = CVMA_E_USAGE;
    }
    return st;
}

static enum cvma_status load_result_key(struct cvma_verifier *v, const char *path, char *err,
                                        size_t err_len)
{
    struct cvma_buf kb;
    if (cvma_file_read_secret(path, MAX_KEY_FILE, &kb) != CVMA_OK) {
        cvma_errf(err, err_len,
                  "cannot read the result-signing key (result_key_file, --sign-result) '%s': %s",
                  path, cvma_file_read_strerror(errno));
        return CVMA_E_IO;
    }
    v->result_key = cvma_jws_key_from_pem(kb.p, kb.len, true);
    cvma_buf_free_secret(&kb);
    if (v->result_key == NULL) {
        cvma_errf(err, err_len,
                  "the result-signing key (result_key_file, --sign-result) '%s' is not an "
                  "unencrypted P-256 or P-384 private key (PEM)",
                  path);
        return CVMA_E_USAGE;
    }
    if ((v->result_signer = cvma_ear_signer(v->result_key, NULL)) == NULL) {
        cvma_errf(err, err_len,
                  "the result-signing key (result_key_file, --sign-result) '%s' cannot be used "
                  "to sign (or out of "
                  "memory)",
                  path);
        return CVMA_E_NOMEM;
    }
    return CVMA_OK;
}

/* see cvmattest/cvmattest.h */
enum cvma_status cvma_verifier_new(const struct cvma_verifier_config *cfg,
                                   struct cvma_verifier **out, char *err, size_t err_len)
{
    cvma_allocfail_begin();
    struct cvma_verifier *v = calloc(1, sizeof *v);
    enum cvma_status st = CVMA_E_NOMEM;

    *out = NULL;
    if (v == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return CVMA_E_NOMEM;
    }
    /* A base URL of another scheme would fail at every fetch, each verification then
     * undecided: a configuration out of range is refused here (cvmattest.h). NULL is the
     * default; "" is no URL and is refused too, as --kds-url '' is. */
    const struct {
        const char *name, *url;
    } urls[] = {{"kds_base_url", cfg->kds_base_url}, {"pcs_base_url", cfg->pcs_base_url}};
    if (cfg->cache_dir != NULL && cfg->cache_dir[0] == '\0') {
        cvma_errf(err, err_len, "cache_dir \"\" names no directory (NULL is the default)");
        st = CVMA_E_USAGE;
        goto fail;
    }
    if (cfg->chain_cache_size > CVMA_CHAIN_CACHE_MAX) {
        cvma_errf(err, err_len, "chain_cache_size %zu is over %u", cfg->chain_cache_size,
                  (unsigned)CVMA_CHAIN_CACHE_MAX);
        st = CVMA_E_USAGE;
        goto fail;
    }
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        if (urls[i].url != NULL && !cvma_http_base_url_ok(urls[i].url)) {
            bool secret = strchr(urls[i].url, '@') != NULL; /* a password is not echoed */
            cvma_errf(err, err_len,
                      "%s must be an http:// or https:// URL with a host and no user "
                      "information, query or fragment, not '%s'",
                      urls[i].name, secret ? "(a URL with user information)" : urls[i].url);
            st = CVMA_E_USAGE;
            goto fail;
        }
    }
    if ((cfg->collateral_dir && !(v->collateral_dir = dup_or_null(cfg->collateral_dir))) ||
        (cfg->kds_base_url && !(v->kds_base_url = dup_or_null(cfg->kds_base_url))) ||
        (cfg->pcs_base_url && !(v->pcs_base_url = dup_or_null(cfg->pcs_base_url))) ||
        (cfg->cache_dir && !(v->cache_dir = dup_or_null(cfg->cache_dir)))) {
        goto fail;
    }
    if (cfg->collateral_dir != NULL) {
        struct stat sb;
        if (stat(cfg->collateral_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            cvma_errf(
                    err, err_len, "the collateral directory (collateral_dir, --collateral) '%s' %s",
                    cfg->collateral_dir,
                    stat(cfg->collateral_dir, &sb) != 0 ? "does not exist" : "is not a directory");
            st = CVMA_E_USAGE;
            goto fail;
        }
    }
    v->vo.collateral_dir = v->collateral_dir;
    v->vo.kds_base_url = v->kds_base_url;
    v->vo.pcs_base_url = v->pcs_base_url;
    v->vo.cache_dir = v->cache_dir;
    v->hooks.stats = &v->stats;
    if ((v->hooks.flights = cvma_fetch_flights_new()) == NULL) {
        st = CVMA_E_NOMEM;
        goto fail;
    }
    cvma_fetch_flights_set_budget(v->hooks.flights, cfg->fetch_budget_per_minute);
    v->fetch_budget = cfg->fetch_budget_per_minute;
    if (cfg->state_store != NULL) {
        const struct cvma_state_store *ss = cfg->state_store;
        /* Pairs that work only together: half of one would be silently never used. */
        const char *half = (ss->collateral_get == NULL) != (ss->collateral_put == NULL)
                                   ? "collateral_get and collateral_put"
                           : (ss->collateral_claim == NULL) != (ss->collateral_release == NULL)
                                   ? "collateral_claim and collateral_release"
                                   : NULL;
        if (half != NULL) {
            cvma_errf(err, err_len, "state_store: %s are given both or neither", half);
            st = CVMA_E_USAGE;
            goto fail;
        }
        v->store = *cfg->state_store;
        v->has_store = true;
        v->hooks.store = &v->store;
    }
    v->vo.collateral_hooks = &v->hooks;
    v->vo.offline = cfg->offline;
    v->vo.allow_trailing_data = cfg->allow_trailing_data;
    v->vo.collateral_grace_seconds = cfg->collateral_grace_seconds;
    v->grace_given = cfg->collateral_grace_given;
    if (cfg->collateral_max_age_given) {
        /* In the options 0 is the default (24 h) and a negative value asks for a refresh on
         * every online use. */
        v->vo.collateral_max_age =
                cfg->collateral_max_age_seconds == 0 ? -1 : cfg->collateral_max_age_seconds;
    }
    if (cfg->p384_backend != CVMA_P384_NETTLE && cfg->p384_backend != CVMA_P384_OPENSSL) {
        /* else every genuine SEV-SNP report would read as forged */
        cvma_errf(err, err_len, "p384_backend %d is not a backend of enum cvma_p384_backend",
                  (int)cfg->p384_backend);
        st = CVMA_E_USAGE;
        goto fail;
    }
    v->vo.p384_backend = cfg->p384_backend;
    v->no_cache = cfg->no_cache;
    v->vo.no_qe_report_memo = cfg->no_cache;
    if (cfg->snp_product < 0 || cfg->snp_product > 3) {
        cvma_errf(err, err_len, "snp_product %d is not 0..3", cfg->snp_product);
        st = CVMA_E_USAGE;
        goto fail;
    }
    v->vo.snp_product = cfg->snp_product; /* enum cvma_snp_product: 0 unknown, milan, genoa,
                                           * turin, as in the public header */
    for (size_t i = 0; i < cfg->n_trust_root_files; i++) {
        if ((st = add_root(v, cfg->trust_root_files[i], err, err_len)) != CVMA_OK) {
            goto fail;
        }
    }
    v->vo.trust_roots = v->roots;
    v->vo.trust_root_spki = (const uint8_t(*)[32])v->root_spki;
    for (size_t i = 0; i < cfg->n_policies; i++) {
        if ((st = add_policy(v, &cfg->policies[i], err, err_len)) != CVMA_OK) {
            goto fail;
        }
    }
    if ((st = add_binding(v, cfg, err, err_len)) != CVMA_OK) {
        goto fail;
    }
    if (cfg->result_key_file != NULL &&
        (st = load_result_key(v, cfg->result_key_file, err, err_len)) != CVMA_OK) {
        goto fail;
    }
    if (!cfg->no_cache) {
        if ((v->cache = cvma_chain_cache_new(cfg->chain_cache_size ? cfg->chain_cache_size : 64)) ==
            NULL) {
            st = CVMA_E_NOMEM;
            goto fail;
        }
        v->vo.chain_cache = v->cache;
        if ((v->hooks.dir_cache = cvma_dircache_new(0)) == NULL) {
            st = CVMA_E_NOMEM;
            goto fail;
        }
    }
    if (cvma_allocfail_since_begin()) {
        /* OpenSSL or jansson could not allocate while a trust root, a key, a policy or a
         * registry was read: it may be refused or hold less for it (common/allocfail.h) */
        st = CVMA_E_NOMEM;
        goto fail;
    }
    *out = v;
    return CVMA_OK;
fail:
    if (st == CVMA_E_NOMEM) {
        cvma_errf(err, err_len, "out of memory");
    }
    cvma_verifier_free(v);
    return st;
}

const struct cvma_policy *cvma_verifier_policy(const struct cvma_verifier *v, const char *name,
                                               bool *found)
{
    const char *n = name != NULL ? name : "";
    /* No policy at all configured: the default is none. Named policies without a default: a
     * request that names none is refused, never appraised with no policy. */
    *found = n[0] == '\0' && v->n_policies == 0;
    for (size_t i = 0; i < v->n_policies; i++) {
        if (strcmp(v->policies[i].name, n) == 0) {
            *found = true;
            return v->policies[i].policy;
        }
    }
    return NULL;
}

/*
 * Evidence whose freshness is its REPORT_DATA, authentic, and compared with nothing: neither
 * the request (--report-data, the service's nonce, a public-key or aTLS binding) nor the
 * policy (report_data) gave an expected value. Said, not refused: a caller may bind the
 * evidence itself (docs/verification.md "Not checked by verify alone").
 */
static void note_report_data_unchecked(const struct cvma_kind *k, const struct cvma_policy *policy,
                                       const struct cvma_request *req, struct cvma_result *res)
{
    uint8_t expected[64];
    if (k == NULL || k->report_data_unchecked == NULL || !res->claims.verified ||
        req->has_report_data || (policy != NULL && cvma_policy_report_data(policy, expected))) {
        return;
    }
    /* One fixed text a kind: most verifications without a nonce carry it, so it is copied
     * rather than formatted. */
    cvma_reject(&res->verdict, CVMA_R_NONCE_NOT_CHECKED, "%s", k->report_data_unchecked);
}

/*
 * A vTPM whose AK (and, on Azure, whose runtime claims) a hardware report names: the report is
 * at VMPL 0 (azure-snp, svsm-vtpm) or a TD's (azure-tdx), which any guest without a paravisor
 * or SVSM, or any TD, makes with report data of its choosing. Only the launch measurement of
 * what made it shows it was the paravisor or the SVSM, and only the relying party's policy can
 * pin that (cvma_policy_pins_launch). Without it the result is at best a warning, and the AK
 * is no attested key (cvma_tpm_attested_key). Here, once the policy is known, so that every
 * caller of the pipeline (CLI, service, library) gets it.
 */
static void note_paravisor_not_pinned(const struct cvma_kind *k, const struct cvma_policy *policy,
                                      struct cvma_result *res)
{
    if (k == NULL || k->launch_unpinned == NULL || !res->claims.verified ||
        cvma_policy_pins_launch(policy, res->tee)) {
        return;
    }
    cvma_reject(&res->verdict, CVMA_R_VTPM_PARAVISOR_NOT_PINNED, "%s", k->launch_unpinned);
}

/* Everything after the evidence verified: provider binding, policy, previous result. */
static enum cvma_status appraise(struct cvma_verifier *v, const struct cvma_policy *policy,
                                 const struct cvma_request *req, time_t at, struct cvma_result *res,
                                 char *err, size_t err_len)
{
    /* Verified evidence binds whether or not it names a platform: evidence that names none (a
     * bare TPM quote) is REGISTRY_NO_PLATFORM_ID once registries are given, never a silent
     * pass (docs/registry.md "Binding"). Unverified evidence binds nothing. */
    if (v->rs != NULL && (res->platform.present || res->claims.verified)) {
        struct cvma_registry_bind_opts bo;
        memset(&bo, 0, sizeof bo);
        bo.at = at;
        bo.cache_dir = v->vo.cache_dir;
        bo.offline = v->vo.offline;
        bo.store = v->has_store ? &v->store : NULL;
        /* The set is prepared once under the lock; binding then only reads it, so one
         * verification's lookup or log fetch (network time-outs of seconds) does not hold
         * up every other verification that binds. */
        pthread_mutex_lock(&v->rs_lock);
        enum cvma_status st = cvma_registry_set_prepare(v->rs);
        pthread_mutex_unlock(&v->rs_lock);
        if (st == CVMA_OK) {
            st = cvma_registry_bind(v->rs, &bo, res);
        }
        if (st == CVMA_E_NOMEM) {
            res->verdict.oom = true;
        }
    }
    cvma_policy_appraise(policy, res);
    if (req->previous_result != NULL) {
        char perr[256];
        enum cvma_status st = cvma_result_compare_previous_text(
                res, req->previous_result, req->previous_result_len, perr, sizeof perr);
        if (st != CVMA_OK) {
            cvma_errf(err, err_len, "the previous result: %s", perr);
            return st;
        }
    }
    return CVMA_OK;
}

static enum cvma_status verify_one(struct cvma_verifier *v, const struct cvma_evidence *ev,
                                   const struct cvma_request *req, struct cvma_result **out,
                                   char *err, size_t err_len);

/* For tpm_* parts beside evidence of a kind that reads none: the kinds that would read them. */
static const char *tpm_parts_hint(const struct cvma_kind *k)
{
    if (k->id == CVMA_KIND_SNP) {
        /* svsm-vtpm is never detected (docs/bundle.md), so the bundle must name it. */
        return "a vTPM quote beside an SEV-SNP report is verified as kind svsm-vtpm (an SVSM's "
               "vTPM: name the kind in the bundle and give its svsm_manifest part; it is never "
               "detected), alone as kind tpm, and Azure's with its HCL report as kind azure-snp";
    }
    return "a vTPM quote is verified as kind tpm, or azure-snp / azure-tdx";
}

/* see cvmattest/cvmattest.h */
enum cvma_status cvma_verify(struct cvma_verifier *v, const struct cvma_evidence *ev,
                             const struct cvma_request *req, struct cvma_result **out, char *err,
                             size_t err_len)
{
    enum cvma_status st = verify_one(v, ev, req, out, err, err_len);
    /* What the evidence made OpenSSL queue is not left to the caller's next TLS call, whose
     * SSL_get_error would read it as its own failure. */
    ERR_clear_error();
    return st;
}

static enum cvma_status verify_one(struct cvma_verifier *v, const struct cvma_evidence *ev,
                                   const struct cvma_request *req, struct cvma_result **out,
                                   char *err, size_t err_len)
{
    struct cvma_verify_opts o = v->vo;
    struct cvma_result *res = NULL;
    const struct cvma_kind *k;
    const struct cvma_policy *policy;
    bool found = false;
    enum cvma_status st;
    unsigned long failures = cvma_allocfail_count();

    cvma_allocfail_begin();
    *out = NULL;
    if (req->kind < CVMA_KIND_AUTO || req->kind > CVMA_KIND_SVSM_VTPM) {
        cvma_errf(err, err_len, "kind %d is not a kind of enum cvma_evidence_kind", (int)req->kind);
        return CVMA_E_USAGE;
    }
    if (req->at < 0 || (long long)req->at > CVMA_TIME_MAX) {
        /* 0 is now; any other time must be one a result can name (RFC 3339, years 1970 to
         * 9999), as the CLI's --at is. */
        cvma_errf(err, err_len, "at %lld is not a time from 1970 to 9999 (0: now)",
                  (long long)req->at);
        return CVMA_E_USAGE;
    }
    policy = cvma_verifier_policy(v, req->policy, &found);
    if (!found && (req->policy == NULL || req->policy[0] == '\0')) {
        cvma_errf(err, err_len, "no policy named and no default policy is configured");
        return CVMA_E_USAGE;
    }
    if (!found) {
        cvma_errf(err, err_len, "no policy named '%s' is configured", req->policy);
        return CVMA_E_USAGE;
    }
    if (req->kind != CVMA_KIND_AUTO) {
        k = cvma_kind_by_id(req->kind);
    } else {
        k = ev->kind;
    }
    if (ev->kind_named && k != NULL && k != ev->kind) {
        /* The bundle says what its evidence is; a request naming another kind contradicts it
         * (forcing a kind is for evidence whose kind is detected). */
        cvma_errf(err, err_len,
                  "the bundle says its evidence is of kind '%s', and the request names kind '%s' "
                  "(--tee %s): they disagree",
                  ev->kind->name, k->name, k->cli_name);
        return CVMA_E_USAGE;
    }
    if (k != NULL && k->verify == NULL) {
        cvma_errf(err, err_len, "%s evidence is recognised but its verification is not built yet",
                  k->what);
        return CVMA_E_USAGE;
    }
    if (req->has_nonce && k != NULL && !k->reads_tpm_parts) {
        /* A nonce is a TPM quote's expected extraData; evidence without a quote carries its
         * freshness in the report data. Ignoring the nonce would let a caller believe that
         * something was checked that was not. */
        cvma_errf(err, err_len,
                  "a nonce is checked against a TPM quote's extraData, and %s evidence holds "
                  "no TPM quote: its freshness is in the report data (expect that instead)",
                  k->what);
        return CVMA_E_USAGE;
    }
    if (v->vo.snp_product != 0 && k != NULL && !k->reads_snp_report) {
        /* The product is that of an SEV-SNP report's processor: for evidence without one it
         * would be ignored, and the caller would believe it had been applied. */
        cvma_errf(err, err_len,
                  "snp_product (--product) names the processor of an SEV-SNP report, and %s "
                  "evidence (kind %s) holds no SEV-SNP report: it would not be used (leave it "
                  "out)",
                  k->what, k->name);
        return CVMA_E_USAGE;
    }
    if ((res = calloc(1, sizeof *res)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return CVMA_E_NOMEM;
    }
    o.at = req->at != 0 ? req->at : time(NULL);
    if (req->has_report_data) {
        o.has_report_data = true;
        memcpy(o.report_data, req->report_data, sizeof o.report_data);
    }
    if (req->has_nonce) {
        if (req->nonce_len > sizeof o.nonce) {
            free(res);
            cvma_errf(err, err_len, "a nonce is at most %zu bytes", sizeof o.nonce);
            return CVMA_E_USAGE;
        }
        o.has_nonce = true;
        o.nonce_len = req->nonce_len;
        memcpy(o.nonce, req->nonce, req->nonce_len);
    }
    if (!v->grace_given && policy != NULL) {
        int64_t g = cvma_policy_collateral_grace(policy);
        if (g > 0) {
            o.collateral_grace_seconds = g;
        }
    }
    o.collateral_parts = ev->coll;
    o.n_collateral_parts = ev->n_coll;

    struct cvma_span bytes = cvma_evidence_bytes(ev);
    if (k == NULL) {
        char why[512];
        cvma_result_init(res, "unknown", o.at);
        res->verdict.checks_required = CVMA_CHECK_PARSE;
        enum cvma_reason code = cvma_kind_explain_unknown(bytes.p, bytes.len, why, sizeof why);
        cvma_reject(&res->verdict, code, "%s", why);
    } else {
        const void *prepared = v->no_cache ? NULL : cvma_evidence_prepared(ev, k, &o);
        cvma_result_init(res, k->name, o.at);
        k->verify(bytes.p, bytes.len, &o, prepared, res);
        for (size_t i = 0; !k->reads_tpm_parts && i < ev->n_coll; i++) {
            /* Nothing accepted that was not checked: a part this kind does not verify is
             * named, and the result is at best a warning. */
            if (strncmp(ev->coll[i].name, "tpm_", 4) == 0) {
                cvma_reject(&res->verdict, CVMA_R_PARSE_BUNDLE_PART_NOT_USED,
                            "the bundle has a %s part, but %s verification does not use it: "
                            "it was not checked and gives no claims (%s)",
                            ev->coll[i].name, k->what, tpm_parts_hint(k));
            }
        }
        for (size_t i = 0; k->id == CVMA_KIND_TPM && i < ev->n_coll; i++) {
            /* Kind tpm verifies the evidence bytes as its quote. A bundle read as another kind
             * and verified as tpm (--tee tpm) may hold a tpm_quote part besides, which nothing
             * checked (a bundle of kind tpm with both is refused when read). */
            if (strcmp(ev->coll[i].name, "tpm_quote") == 0 && ev->coll[i].data.p != bytes.p) {
                cvma_reject(&res->verdict, CVMA_R_PARSE_BUNDLE_PART_NOT_USED,
                            "the bundle has a tpm_quote part besides its evidence part, and TPM "
                            "quote verification verifies the evidence part: the tpm_quote was "
                            "not checked and gives no claims");
            }
        }
        for (size_t i = 0; k->id != CVMA_KIND_SVSM_VTPM && i < ev->n_coll; i++) {
            if (strcmp(ev->coll[i].name, "svsm_manifest") == 0) {
                cvma_reject(&res->verdict, CVMA_R_PARSE_BUNDLE_PART_NOT_USED,
                            "the bundle has an svsm_manifest part, but %s verification does "
                            "not use it: the vTPM manifest was not checked (verify the bundle "
                            "as kind svsm-vtpm)",
                            k->what);
            }
        }
        for (size_t i = 0; i < ev->n_coll; i++) {
            /* (the verifier's own directory's files, added to every evidence, are not the
             * evidence's) */
            const char *name = ev->coll[i].name;
            if (!ev->coll[i].own && cvma_bundle_collateral_name_ok(name) &&
                !cvma_collateral_name_in(k->collateral_names, name)) {
                cvma_reject(&res->verdict, CVMA_R_PARSE_BUNDLE_PART_NOT_USED,
                            "the bundle has a collateral part %s, but %s verification %s: it "
                            "was not checked",
                            name, k->what,
                            k->collateral_names == NULL ? "uses no collateral"
                                                        : "does not read it (another vendor's)");
            }
        }
        for (size_t i = 0; !k->reads_event_log && i < ev->n_coll; i++) {
            if (strcmp(ev->coll[i].name, "event_log") == 0) {
                cvma_reject(&res->verdict, CVMA_R_EVENTLOG_NOT_USED,
                            "the bundle has an event_log part, but %s verification does not "
                            "use one: the log was not checked and gives no claims",
                            k->what);
            }
        }
    }
    if (policy != NULL && (res->policy_id = strdup(cvma_policy_id(policy))) == NULL) {
        res->verdict.oom = true;
    }
    if (req->has_report_data) {
        /* eat_nonce is the report data given, not its zero padding to 64 bytes: a JSON EAT
         * nonce is 10..74 characters (RFC 9711 nonce-type). The padding is dropped down to
         * 5 bytes, which is the same expectation. */
        size_t n = sizeof req->report_data;
        while (n > 5 && req->report_data[n - 1] == 0) {
            n--;
        }
        cvma_hex_encode(req->report_data, n, res->eat_nonce, sizeof res->eat_nonce);
    } else if (req->has_nonce && req->nonce_len > 0) {
        /* No report data: the freshness checked is the TPM quote's extraData (tpm, or an
         * azure-* / svsm-vtpm quote), and the token names that nonce, as the service's does
         * the one it issued. Its bytes as given, hex (at most 64: 128 digits). */
        cvma_hex_encode(req->nonce, req->nonce_len, res->eat_nonce, sizeof res->eat_nonce);
    }
    if ((st = appraise(v, policy, req, o.at, res, err, err_len)) != CVMA_OK) {
        cvma_result_free(res);
        if (st == CVMA_E_NOMEM) {
            cvma_errf(err, err_len, "out of memory");
        }
        return st;
    }
    note_report_data_unchecked(k, policy, req, res);
    note_paravisor_not_pinned(k, policy, res);
    if (res->verdict.oom || cvma_allocfail_count() != failures) {
        /* A reason or a part of the evidence could not be kept: the verdict would be a
         * refusal that names no reason (or none of the right one). Or OpenSSL or jansson
         * could not allocate, which they do not always report: a certificate would look
         * malformed, a decoder would be skipped (common/allocfail.h). Out of memory is the
         * call's error, never the evidence's verdict. */
        cvma_result_free(res);
        cvma_errf(err, err_len, "out of memory");
        return CVMA_E_NOMEM;
    }
    cvma_result_finish(res);
    *out = res;
    return CVMA_OK;
}

/* see cvmattest/cvmattest.h */
void cvma_result_free(struct cvma_result *r)
{
    if (r != NULL) {
        cvma_result_cleanup(r);
        free(r);
    }
}

/* see cvmattest/cvmattest.h */
enum cvma_result_status cvma_result_status(const struct cvma_result *r)
{
    return r->status;
}

/* see cvmattest/cvmattest.h */
bool cvma_result_undecided(const struct cvma_result *r)
{
    return cvma_result_exit_code(r) == 3;
}

/* see cvmattest/cvmattest.h */
const char *cvma_result_tee(const struct cvma_result *r)
{
    return r->tee;
}

/* see cvmattest/cvmattest.h */
const char *cvma_result_trust_anchor(const struct cvma_result *r)
{
    return r->trust_anchor;
}

/* see cvmattest/cvmattest.h */
size_t cvma_result_reason_count(const struct cvma_result *r)
{
    return r->verdict.n_reasons;
}

/* see cvmattest/cvmattest.h */
const char *cvma_result_reason_code(const struct cvma_result *r, size_t i)
{
    return i < r->verdict.n_reasons ? cvma_reason_name(r->verdict.reasons[i].code) : NULL;
}

/* see cvmattest/cvmattest.h */
const char *cvma_result_reason_severity(const struct cvma_result *r, size_t i)
{
    return i < r->verdict.n_reasons ? cvma_severity_name(r->verdict.reasons[i].severity) : NULL;
}

/* see cvmattest/cvmattest.h */
const char *cvma_result_reason_detail(const struct cvma_result *r, size_t i)
{
    return i < r->verdict.n_reasons ? r->verdict.reasons[i].detail : NULL;
}

/* see cvmattest/cvmattest.h */
bool cvma_result_has_reason(const struct cvma_result *r, const char *code)
{
    for (size_t i = 0; i < r->verdict.n_reasons; i++) {
        if (strcmp(cvma_reason_name(r->verdict.reasons[i].code), code) == 0) {
            return true;
        }
    }
    return false;
}

/* see cvmattest/cvmattest.h */
const char *cvma_version(void)
{
    return CVMATTEST_VERSION;
}

/* see cvmattest/cvmattest.h */
char *cvma_result_json(const struct cvma_result *r, bool pretty)
{
    if (!pretty) {
        struct cvma_strbuf b = {0};
        if (!cvma_result_write(&b, r, NULL, NULL, 0)) {
            free(b.p);
            return NULL;
        }
        return b.p;
    }
    json_t *o = cvma_result_to_json(r);
    char *s = o != NULL ? cvma_json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

/* see cvmattest/cvmattest.h */
enum cvma_status cvma_result_sign(const struct cvma_verifier *v, const struct cvma_result *r,
                                  char **token)
{
    *token = NULL;
    if (v->result_key == NULL) {
        return CVMA_E_USAGE;
    }
    return cvma_ear_sign_with(r, NULL, v->result_signer, r->policy_id,
                              r->eat_nonce[0] != '\0' ? r->eat_nonce : NULL, 0, NULL, token);
}

/* One counter to fn. */
static void report(cvma_counter_fn fn, void *arg, const char *name, const char *help,
                   const char *const *keys, const char *const *vals, size_t n, uint64_t value)
{
    const struct cvma_counter c = {name, help, n, keys, vals, value};
    fn(&c, arg);
}

/* see cvmattest/cvmattest.h */
void cvma_verifier_counters(const struct cvma_verifier *v, cvma_counter_fn fn, void *arg)
{
    static const char *const cache_key[] = {"cache"};
    static const char *const chain[] = {"chain"}, *const coll[] = {"collateral"};
    static const char *const fetch_keys[] = {"source", "status"};
    static const char hits_help[] = "Lookups answered from a cache.";
    static const char misses_help[] = "Lookups a cache could not answer.";
    const struct cvma_collateral_stats *st = &v->stats;

    if (fn == NULL) {
        return;
    }
    report(fn, arg, "cache_hits", hits_help, cache_key, chain, 1, cvma_chain_cache_hits(v->cache));
    report(fn, arg, "cache_misses", misses_help, cache_key, chain, 1,
           cvma_chain_cache_misses(v->cache));
    report(fn, arg, "cache_hits", hits_help, cache_key, coll, 1,
           atomic_load_explicit(&st->cache_hits, memory_order_relaxed));
    report(fn, arg, "cache_misses", misses_help, cache_key, coll, 1,
           atomic_load_explicit(&st->cache_misses, memory_order_relaxed));
    if (v->has_store && v->store.collateral_get != NULL && v->store.collateral_put != NULL) {
        /* (the shared cache is used only with both: collateral/fetch.c) */
        static const char *const shared[] = {"shared"};
        report(fn, arg, "cache_hits", hits_help, cache_key, shared, 1,
               atomic_load_explicit(&st->shared_hits, memory_order_relaxed));
        report(fn, arg, "cache_misses", misses_help, cache_key, shared, 1,
               atomic_load_explicit(&st->shared_misses, memory_order_relaxed));
    }
    for (int src = 0; src < CVMA_FETCH_N_SOURCES; src++) {
        for (int code = 0; code < CVMA_FETCH_STATUS_SLOTS; code++) {
            uint64_t n = atomic_load_explicit(&st->fetches[src][code], memory_order_relaxed);
            char status[8];
            if (n == 0) {
                continue;
            }
            if (code == 0) {
                snprintf(status, sizeof status, "error");
            } else {
                snprintf(status, sizeof status, "%d", code);
            }
            const char *const vals[] = {cvma_fetch_source_name((enum cvma_fetch_source)src),
                                        status};
            report(fn, arg, "collateral_fetches",
                   "Collateral downloads by source and final HTTP status (error: no answer).",
                   fetch_keys, vals, 2, n);
        }
    }
    for (int src = 0; v->fetch_budget > 0 && src < CVMA_FETCH_N_SOURCES; src++) {
        static const char *const source_key[] = {"source"};
        const char *const vals[] = {cvma_fetch_source_name((enum cvma_fetch_source)src)};
        report(fn, arg, "collateral_budget_refusals",
               "Collateral downloads not made: the download budget was spent.", source_key, vals, 1,
               atomic_load_explicit(&st->budget_refusals[src], memory_order_relaxed));
    }
}
