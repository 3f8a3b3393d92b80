/*
 * libFuzzer target: the whole verification of untrusted evidence, as `serve` (POST /v1/verify)
 * and the aTLS peers run it: the evidence bytes (a bundle, or bare) through
 * cvma_evidence_from_bytes, then cvma_verify with an offline verifier that has nothing but what
 * the input gives: detection, each kind's parse, its collateral from the bundle (certificates,
 * CRLs, TCB Info, QE Identity: their parsers, chains, signatures, validity), the TDX TCB
 * evaluation, the TPM and event-log parts, the policy's appraisal (event-log and Azure rules
 * too), the provider binding (registries and proofs), the previous-result comparison, the
 * result JSON and the signed EAR token. With the store flag, collateral missing from the bundle
 * is answered by a fleet's shared store (`serve --redis`) with bytes from the input, so the form
 * checks and admission of collateral that is downloaded (AMD KDS, Intel PCS) or shared run on
 * them as well.
 *
 * Input: a flags byte (1: trailing data allowed, 2: the report-data part is the expected
 * REPORT_DATA, 4: the nonce part is the expected nonce, 8: the shared store answers the
 * collateral asked of it with the store parts, in order, and takes any registry version, 16:
 * the previous part is a previous result), a kind byte (0: none, the kind detected; 1..7:
 * "sev-snp", "tdx", "tpm", "azure-snp", "azure-tdx", "svsm-vtpm", "snp"), the verification time
 * (u64 big-endian, seconds), then parts until the end, each a tag byte, a big-endian u16 length and
 * its bytes. Tags (modulo their count): the evidence, the trust root (PEM or DER), the policy, the
 * report data, the nonce, a store answer (a shared value: fetch time, expiry, bytes), the previous
 * result, provider "acme"'s key, a registry and an inclusion proof (binding, when the key and one
 * of those are given), the TPM roles of docs/bundle.md, then the collateral names. An empty part,
 * or a second one of a tag other than a store answer, is left out. The bundle is written here from
 * the parts (docs/bundle.md); an evidence part alone, without a kind, is given bare (binary, hex or
 * base64 as it is). fuzz/mkseeds-verify.py writes seeds in this layout.
 *
 * Checked here, independently of the verifier where it can be:
 *  - cvma_verify runs (CVMA_OK), except for the documented refusals of a request: a nonce for
 *    evidence that holds no TPM quote, a malformed previous result (CVMA_E_USAGE);
 *  - the status follows the reasons (docs/results.md): contraindicated exactly when there is
 *    an error (or memory ran out), else warning exactly when there is a warning; undecided is
 *    contraindicated; a result that is not contraindicated has verified claims and a trust
 *    anchor;
 *  - a trust anchor "test-root:X" is the given root: X is the SHA-256 of its
 *    SubjectPublicKeyInfo, computed here with OpenSSL; an affirming result ends in that root or
 *    in a pinned vendor root (no input can make a bare TPM quote, or anything else, affirming
 *    without one);
 *  - the result JSON, read back with jansson, has the same status, tee, undecided flag, trust
 *    anchor and reasons (code and severity, in order); its platform names a provider only when
 *    binding was configured, and then provider "acme";
 *  - the EAR token (cvma_result_sign) verifies with the result key's public half
 *    (cvma_ear_verify) and its submodule's ear.status is the status.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "common/timeutil.h"
#include "fuzz_check.h"
#include "result/ear.h"
#include "verifier/verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    F_TRAILING = 1,
    F_REPORT_DATA = 2,
    F_NONCE = 4,
    F_STORE = 8,
    F_PREVIOUS = 16,
};

enum {
    T_EVIDENCE,
    T_ROOT,
    T_POLICY,
    T_REPORT_DATA,
    T_NONCE,
    T_STORE,
    T_PREVIOUS,
    T_PROVIDER, /* provider "acme"'s public key (PEM) */
    T_REGISTRY, /* a registry (JWS) */
    T_PROOF,    /* an inclusion proof (JSON) */
    T_ROLES,    /* the TPM roles, then the collateral names */
};

static const char *const roles[] = {"tpm_quote", "tpm_signature", "tpm_ak",
                                    "tpm_pcrs",  "event_log",     "svsm_manifest"};
static const char *const names[] = {
        "vcek.der",
        "vcek.pem",
        "vlek.der",
        "vlek.pem",
        "ask.pem",
        "asvk.pem",
        "ark.pem",
        "cert_chain.pem",
        "crl.der",
        "tcb_info.json",
        "tcb_info.sig.hex",
        "qe_identity.json",
        "qe_identity.sig.hex",
        "tcb_info_issuer_chain.pem",
        "qe_identity_issuer_chain.pem",
        "pck_crl.der",
        "root_ca_crl.der",
};
static const char *const kinds[] = {NULL,        "sev-snp",   "tdx",       "tpm",
                                    "azure-snp", "azure-tdx", "svsm-vtpm", "snp"};

#define N_ROLES   (sizeof roles / sizeof roles[0])
#define N_NAMES   (sizeof names / sizeof names[0])
#define N_TAGS    (T_ROLES + N_ROLES + N_NAMES)
#define STORE_MAX 16

/* What stays from one input to the next: the files the verifier reads, and the result key. */
static struct {
    char dir[64], root[96], policy[96], key[96], cache[96], provider[96], registry[96], proof[96],
            provider_spec[120];
    EVP_PKEY *pub;
} fx;

/* The shared store's answers for this input (borrowed from the input). */
static struct {
    const uint8_t *p[STORE_MAX];
    size_t len[STORE_MAX], n, next;
} store;

static enum cvma_store_answer store_get(void *arg, const char *key, uint8_t **p, size_t *len)
{
    (void)arg;
    (void)key;
    *p = NULL;
    *len = 0;
    if (store.next >= store.n) {
        return CVMA_STORE_MISS;
    }
    size_t i = store.next++;
    CHECK((*p = malloc(store.len[i])) != NULL);
    memcpy(*p, store.p[i], store.len[i]);
    *len = store.len[i];
    return CVMA_STORE_OK;
}

static void store_put(void *arg, const char *key, const uint8_t *p, size_t len, int64_t ttl)
{
    (void)arg;
    (void)key;
    (void)p;
    (void)len;
    (void)ttl;
}

static void store_del(void *arg, const char *key)
{
    (void)arg;
    (void)key;
}

static enum cvma_store_answer store_seen(void *arg, const char *provider, uint64_t version,
                                         const uint8_t root[32], uint64_t *seen, char *err,
                                         size_t err_len)
{
    (void)arg;
    (void)provider;
    (void)version;
    (void)root;
    (void)err;
    (void)err_len;
    *seen = 0;
    return CVMA_STORE_OK;
}

static bool write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && fwrite(p, 1, n, f) == n;
    return f != NULL && fclose(f) == 0 && ok;
}

/* The cache directory emptied (its entries are files: collateral/cache.h): what a store
 * answer put there, or a registry's rollback state, must not serve the next input. */
static void cache_empty(void)
{
    DIR *d = opendir(fx.cache);
    struct dirent *e;
    char path[400];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", fx.cache, e->d_name);
            (void)remove(path);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

/* At exit: the files of setup and their directory go. */
static void teardown(void)
{
    static const char *const files[] = {"root",     "policy.json",  "result.key",
                                        "acme.pub", "registry.jws", "proof.json"};
    char path[128];
    cache_empty();
    (void)rmdir(fx.cache);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fx.dir, files[i]);
        (void)remove(path);
    }
    (void)rmdir(fx.dir);
}

static void setup(void)
{
    if (fx.pub != NULL) {
        return;
    }
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    snprintf(fx.dir, sizeof fx.dir, "%.40s/fuzz-verify-XXXXXX", tmp);
    CHECK(mkdtemp(fx.dir) != NULL);
    snprintf(fx.root, sizeof fx.root, "%s/root", fx.dir);
    snprintf(fx.policy, sizeof fx.policy, "%s/policy.json", fx.dir);
    snprintf(fx.key, sizeof fx.key, "%s/result.key", fx.dir);
    snprintf(fx.cache, sizeof fx.cache, "%s/cache", fx.dir);
    snprintf(fx.provider, sizeof fx.provider, "%s/acme.pub", fx.dir);
    snprintf(fx.registry, sizeof fx.registry, "%s/registry.jws", fx.dir);
    snprintf(fx.proof, sizeof fx.proof, "%s/proof.json", fx.dir);
    snprintf(fx.provider_spec, sizeof fx.provider_spec, "acme=%s", fx.provider);
    CHECK(mkdir(fx.cache, 0700) == 0);
    CHECK(atexit(teardown) == 0);
    /* The result key: P-256, written as the PEM --sign-result reads. */
    EVP_PKEY *k = EVP_EC_gen("P-256");
    FILE *f = fopen(fx.key, "w");
    CHECK(k != NULL && f != NULL && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
    CHECK(fclose(f) == 0);
    fx.pub = k;
}

/* The hex SHA-256 of the root's SubjectPublicKeyInfo, read here with OpenSSL alone ("" when
 * the bytes are no certificate). */
static void root_spki_hex(const uint8_t *p, size_t n, char out[65])
{
    const uint8_t *q = p;
    X509 *x = d2i_X509(NULL, &q, (long)n);
    uint8_t *der = NULL, d[32];
    int dl;
    out[0] = '\0';
    if (x == NULL) {
        BIO *b = BIO_new_mem_buf(p, (int)n);
        x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    }
    if (x != NULL && (dl = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) > 0) {
        SHA256(der, (size_t)dl, d);
        for (int i = 0; i < 32; i++) {
            snprintf(out + 2 * i, 3, "%02x", d[i]);
        }
    }
    OPENSSL_free(der);
    X509_free(x);
}

static bool vendor_anchor(const char *a)
{
    return strcmp(a, "amd-ark-milan") == 0 || strcmp(a, "amd-ark-genoa") == 0 ||
           strcmp(a, "amd-ark-turin") == 0 || strcmp(a, "intel-sgx-root-ca") == 0;
}

/* The bundle JSON of the parts (docs/bundle.md), or NULL when there is no part to give. */
static char *bundle_text(const char *kind, const struct cvma_span *ev, const struct cvma_span *tpm,
                         const struct cvma_span *coll)
{
    json_t *b = json_pack("{s:i}", "cvmattest_bundle", 1), *parts = json_array();
    char *text = NULL;
    CHECK(b != NULL && parts != NULL);
    if (kind != NULL) {
        CHECK(json_object_set_new(b, "kind", json_string(kind)) == 0);
    }
    for (size_t i = 0; i < 1 + N_ROLES + N_NAMES; i++) {
        const struct cvma_span *s = i == 0         ? ev
                                    : i <= N_ROLES ? &tpm[i - 1]
                                                   : &coll[i - 1 - N_ROLES];
        if (s->len == 0) {
            continue;
        }
        char *b64 = cvma_base64_encode(s->p, s->len, CVMA_B64_STD);
        json_t *part = i == 0         ? json_pack("{s:s, s:s}", "role", "evidence", "data", b64)
                       : i <= N_ROLES ? json_pack("{s:s, s:s}", "role", roles[i - 1], "data", b64)
                                      : json_pack("{s:s, s:s, s:s}", "role", "collateral", "name",
                                                  names[i - 1 - N_ROLES], "data", b64);
        CHECK(b64 != NULL && part != NULL && json_array_append_new(parts, part) == 0);
        free(b64);
    }
    if (json_array_size(parts) > 0) {
        CHECK(json_object_set_new(b, "parts", parts) == 0);
        CHECK((text = json_dumps(b, JSON_COMPACT)) != NULL);
    } else {
        json_decref(parts);
    }
    json_decref(b);
    return text;
}

/* The result JSON, read back, says what the accessors say; a provider is named only when
 * binding was configured, and then it is "acme". */
static void check_json(const struct cvma_result *res, bool binding)
{
    char *text = cvma_result_json(res, false);
    json_error_t je;
    json_t *j = text != NULL ? json_loads(text, 0, &je) : NULL;
    CHECK(j != NULL);
    CHECK(strcmp(fz_jstr(j, "status"), cvma_result_status_name(cvma_result_status(res))) == 0);
    CHECK(strcmp(fz_jstr(j, "tee"), cvma_result_tee(res)) == 0);
    CHECK(json_is_boolean(json_object_get(j, "undecided")) &&
          json_is_true(json_object_get(j, "undecided")) == cvma_result_undecided(res));
    CHECK(strcmp(fz_jstr(j, "trust_anchor"), cvma_result_trust_anchor(res)) == 0);
    const json_t *prov = json_object_get(json_object_get(j, "platform"), "provider");
    CHECK(prov == NULL || json_is_null(prov) ||
          (binding && json_is_string(prov) && strcmp(json_string_value(prov), "acme") == 0));
    const json_t *rs = json_object_get(j, "reasons");
    CHECK(json_array_size(rs) == cvma_result_reason_count(res));
    for (size_t i = 0; i < json_array_size(rs); i++) {
        const json_t *r = json_array_get(rs, i);
        CHECK(strcmp(fz_jstr(r, "code"), cvma_result_reason_code(res, i)) == 0);
        CHECK(strcmp(fz_jstr(r, "severity"), cvma_result_reason_severity(res, i)) == 0);
    }
    json_decref(j);
    free(text);
}

/* The status against the reasons, and the trust anchor against the root given. */
static void check_status(const struct cvma_result *res, const char *root_hex)
{
    bool error = false, warning = false;
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        const char *sev = cvma_result_reason_severity(res, i);
        error = error || strcmp(sev, "error") == 0;
        warning = warning || strcmp(sev, "warning") == 0;
    }
    enum cvma_result_status st = cvma_result_status(res);
    CHECK(st == (error || res->verdict.oom ? CVMA_CONTRAINDICATED
                 : warning                 ? CVMA_WARNING
                                           : CVMA_AFFIRMING));
    CHECK(!cvma_result_undecided(res) || st == CVMA_CONTRAINDICATED);
    const char *a = cvma_result_trust_anchor(res);
    if (st != CVMA_CONTRAINDICATED) {
        CHECK(res->claims.verified && a[0] != '\0');
    }
    if (strncmp(a, "test-root:", 10) == 0) {
        CHECK(root_hex[0] != '\0' && strcmp(a + 10, root_hex) == 0);
    }
    if (st == CVMA_AFFIRMING) {
        CHECK(strncmp(a, "test-root:", 10) == 0 || vendor_anchor(a));
    }
}

/* The signed token verifies, and says the status. */
static void check_token(const struct cvma_verifier *v, const struct cvma_result *res)
{
    char *token = NULL, err[256];
    json_t *claims = NULL;
    CHECK(cvma_result_sign(v, res, &token) == CVMA_OK && token != NULL);
    CHECK(cvma_ear_verify(token, strlen(token), fx.pub, &claims, err, sizeof err) == CVMA_OK);
    const json_t *sub = json_object_get(json_object_get(claims, "submods"), cvma_result_tee(res));
    CHECK(sub != NULL && strcmp(fz_jstr(sub, "ear.status"),
                                cvma_result_status_name(cvma_result_status(res))) == 0);
    json_decref(claims);
    free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_span ev = {0}, root = {0}, policy = {0}, rd = {0}, nonce = {0}, prev = {0};
    struct cvma_span provider = {0}, registry = {0}, proof = {0};
    struct cvma_span tpm[N_ROLES], coll[N_NAMES];
    struct cvma_verifier_config cfg;
    struct cvma_policy_config pc = {NULL, NULL};
    struct cvma_state_store ss = {NULL, store_seen, store_get, store_put, store_del, NULL, NULL};
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *evidence = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request rq;
    char err[512], root_hex[65] = "";
    uint64_t at = 0;

    if (size < 10) {
        return 0;
    }
    uint8_t flags = data[0];
    const char *kind = kinds[data[1] % (sizeof kinds / sizeof kinds[0])];
    for (int i = 2; i < 10; i++) {
        at = at << 8 | data[i];
    }
    data += 10;
    size -= 10;
    memset(tpm, 0, sizeof tpm);
    memset(coll, 0, sizeof coll);
    memset(&store, 0, sizeof store);
    while (size >= 3) {
        unsigned tag = data[0] % N_TAGS;
        size_t n = (size_t)data[1] << 8 | data[2];
        n = n < size - 3 ? n : size - 3;
        struct cvma_span s = {data + 3, n};
        struct cvma_span *slot = tag == T_EVIDENCE         ? &ev
                                 : tag == T_ROOT           ? &root
                                 : tag == T_POLICY         ? &policy
                                 : tag == T_REPORT_DATA    ? &rd
                                 : tag == T_NONCE          ? &nonce
                                 : tag == T_PREVIOUS       ? &prev
                                 : tag == T_PROVIDER       ? &provider
                                 : tag == T_REGISTRY       ? &registry
                                 : tag == T_PROOF          ? &proof
                                 : tag == T_STORE          ? NULL
                                 : tag < T_ROLES + N_ROLES ? &tpm[tag - T_ROLES]
                                                           : &coll[tag - T_ROLES - N_ROLES];
        if (tag == T_STORE && n > 0 && store.n < STORE_MAX) {
            store.p[store.n] = s.p;
            store.len[store.n++] = n;
        } else if (slot != NULL && slot->len == 0) {
            *slot = s;
        }
        data += 3 + n;
        size -= 3 + n;
    }

    /* The evidence, as a service reads the bytes it is sent. */
    bool bare = kind == NULL && ev.len > 0;
    for (size_t i = 0; bare && i < N_ROLES; i++) {
        bare = tpm[i].len == 0;
    }
    for (size_t i = 0; bare && i < N_NAMES; i++) {
        bare = coll[i].len == 0;
    }
    char *text = bare ? NULL : bundle_text(kind, &ev, tpm, coll);
    if (!bare && text == NULL) {
        return 0;
    }
    enum cvma_status st =
            bare ? cvma_evidence_from_bytes(ev.p, ev.len, CVMA_INFORM_AUTO, &evidence, err,
                                            sizeof err)
                 : cvma_evidence_from_bytes((const uint8_t *)text, strlen(text), CVMA_INFORM_AUTO,
                                            &evidence, err, sizeof err);
    free(text);
    CHECK(st == CVMA_OK || st == CVMA_E_USAGE || st == CVMA_E_NOMEM);
    CHECK((st == CVMA_OK) == (evidence != NULL));
    if (st != CVMA_OK) {
        return 0;
    }

    /* A verifier with only what the input gives. */
    setup();
    memset(&cfg, 0, sizeof cfg);
    cfg.offline = true;
    cfg.no_cache = true; /* nothing kept from one input to the next */
    cfg.cache_dir = fx.cache;
    cfg.result_key_file = fx.key;
    cfg.allow_trailing_data = (flags & F_TRAILING) != 0;
    const char *root_file = fx.root;
    if (root.len > 0) {
        CHECK(write_file(fx.root, root.p, root.len));
        cfg.trust_root_files = &root_file;
        cfg.n_trust_root_files = 1;
        root_spki_hex(root.p, root.len, root_hex);
    }
    if (policy.len > 0) {
        CHECK(write_file(fx.policy, policy.p, policy.len));
        pc.path = fx.policy;
        cfg.policies = &pc;
        cfg.n_policies = 1;
    }
    if (flags & F_STORE) {
        cfg.state_store = &ss;
    }
    /* Provider binding (docs/registry.md): a key, and a registry or a proof to bind with. */
    const char *provider_spec = fx.provider_spec, *registry_file = fx.registry,
               *proof_file = fx.proof;
    if (provider.len > 0 && (registry.len > 0 || proof.len > 0)) {
        CHECK(write_file(fx.provider, provider.p, provider.len));
        cfg.providers = &provider_spec;
        cfg.n_providers = 1;
        if (registry.len > 0) {
            CHECK(write_file(fx.registry, registry.p, registry.len));
            cfg.registries = &registry_file;
            cfg.n_registries = 1;
        }
        if (proof.len > 0) {
            CHECK(write_file(fx.proof, proof.p, proof.len));
            cfg.proofs = &proof_file;
            cfg.n_proofs = 1;
        }
    }
    st = cvma_verifier_new(&cfg, &v, err, sizeof err);
    if (st != CVMA_OK) {
        /* a root that is no certificate, a policy, key or registry that does not load */
        CHECK(v == NULL && st != CVMA_E_INTERNAL);
        cvma_evidence_free(evidence);
        return 0;
    }

    memset(&rq, 0, sizeof rq);
    rq.at = (time_t)(at & 0xffffffffffull);
    if ((flags & F_REPORT_DATA) && rd.len > 0) {
        rq.has_report_data = true;
        memcpy(rq.report_data, rd.p, rd.len < 64 ? rd.len : 64);
    }
    if (flags & F_NONCE) {
        rq.has_nonce = true;
        rq.nonce_len = nonce.len < 64 ? nonce.len : 64;
        if (rq.nonce_len > 0) {
            memcpy(rq.nonce, nonce.p, rq.nonce_len);
        }
    }
    char *prev_text = NULL;
    if ((flags & F_PREVIOUS) && prev.len > 0) {
        CHECK((prev_text = malloc(prev.len + 1)) != NULL);
        memcpy(prev_text, prev.p, prev.len);
        prev_text[prev.len] = '\0';
        rq.previous_result = prev_text;
        rq.previous_result_len = prev.len;
    }
    st = cvma_verify(v, evidence, &rq, &res, err, sizeof err);
    if (st == CVMA_OK) {
        CHECK(res != NULL);
        check_status(res, root_hex);
        check_json(res, cfg.n_providers > 0);
        check_token(v, res);
    } else {
        /* the documented refusals of a request (cvmattest/cvmattest.h) */
        CHECK(res == NULL);
        CHECK(st == CVMA_E_NOMEM ||
              (st == CVMA_E_USAGE &&
               (rq.has_nonce || rq.previous_result != NULL || (long long)rq.at > CVMA_TIME_MAX)));
    }
    /* A time no result can name (after 9999) is refused before anything else is looked at. */
    CHECK((long long)rq.at <= CVMA_TIME_MAX || st == CVMA_E_USAGE);
    cvma_result_free(res);
    free(prev_text);
    cvma_verifier_free(v);
    cvma_evidence_free(evidence);
    cache_empty();
    return 0;
}
