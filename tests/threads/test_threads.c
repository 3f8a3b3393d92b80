/*
 * One verifier, many threads: 8 threads verify simulated SEV-SNP and TDX evidence, good and
 * tampered, through ONE verifier (cvma_verifier_new once per phase, cvma_verify from every
 * thread), and every verdict must equal the one a single thread got first; every result is
 * also signed (cvma_result_sign: the verifier's one signer, its signing contexts shared) and the
 * token checked with the key. Run in the normal
 * suite and, in `make check`, built with -fsanitize=thread (ThreadSanitizer fails the run on
 * any data race).
 *
 * Phases: the default caches; a chain cache of one entry (every other call evicts an entry
 * another thread may still hold) with the OpenSSL P-384 backend; every cache off.
 * CVMA_THREADS_ROUNDS (default 3) sets how many times each thread walks all the evidence.
 */
#include <cvmattest/cvmattest.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/util.h"
#include "crypto/jws.h"
#include "registry/registry.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "verifier/bundle.h"

#define N_THREADS 8
#define MAX_EV    16

struct item {
    char name[48];
    struct cvma_evidence *ev;
    enum cvma_result_status want_status; /* what it must be */
    const char *want_reason;             /* a reason it must carry, or NULL */
    char baseline[512];                  /* status and reason codes, single-threaded */
};

static struct item items[MAX_EV];
static size_t n_items;
static EVP_PKEY *sign_key; /* the verifiers' result key */
static int rounds = 3;

struct worker {
    pthread_t tid;
    struct cvma_verifier *v;
    unsigned index;
    int failures;
    int done;
};

/* "status code1 code2 ..." of a result, for comparing verdicts. */
static void summarize(const struct cvma_result *r, char *out, size_t len)
{
    size_t off = 0;
    int n = snprintf(out, len, "%s", cvma_result_status_name(cvma_result_status(r)));
    off = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < cvma_result_reason_count(r) && off < len; i++) {
        n = snprintf(out + off, len - off, " %s", cvma_result_reason_code(r, i));
        off += n > 0 ? (size_t)n : 0;
    }
}

/* Verifies item i; checks the expected verdict, and the baseline once one is recorded. */
static int verify_one(struct cvma_verifier *v, struct item *it, bool record)
{
    struct cvma_request req;
    struct cvma_result *res = NULL;
    char err[256] = "", got[512];
    int bad = 0;

    memset(&req, 0, sizeof req);
    enum cvma_status st = cvma_verify(v, it->ev, &req, &res, err, sizeof err);
    if (st != CVMA_OK || res == NULL) {
        fprintf(stderr, "FAIL %s: cvma_verify returned %d: %s\n", it->name, (int)st, err);
        return 1;
    }
    summarize(res, got, sizeof got);
    int want_exit = it->want_status == CVMA_CONTRAINDICATED ? 1 : 0;
    if (cvma_result_status(res) != it->want_status || cvma_result_exit_code(res) != want_exit) {
        fprintf(stderr, "FAIL %s: got '%s' (exit %d)\n", it->name, got, cvma_result_exit_code(res));
        bad = 1;
    }
    if (it->want_reason != NULL && !cvma_result_has_reason(res, it->want_reason)) {
        fprintf(stderr, "FAIL %s: no %s in '%s'\n", it->name, it->want_reason, got);
        bad = 1;
    }
    char *token = NULL;
    struct cvma_jws jws = {0};
    if (cvma_result_sign(v, res, &token) != CVMA_OK || token == NULL ||
        cvma_jws_verify(token, strlen(token), sign_key, &jws, err, sizeof err) != CVMA_JWS_OK) {
        fprintf(stderr, "FAIL %s: the signed result does not verify: %s\n", it->name, err);
        bad = 1;
    }
    cvma_jws_cleanup(&jws);
    free(token);
    char *json = cvma_result_json(res, false);
    if (json == NULL || strstr(json, "\"status\"") == NULL) {
        fprintf(stderr, "FAIL %s: no result JSON\n", it->name);
        bad = 1;
    }
    free(json);
    if (record) {
        snprintf(it->baseline, sizeof it->baseline, "%s", got);
    } else if (strcmp(got, it->baseline) != 0) {
        fprintf(stderr, "FAIL %s: got '%s', single-threaded '%s'\n", it->name, got, it->baseline);
        bad = 1;
    }
    cvma_result_free(res);
    return bad;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int r = 0; r < rounds; r++) {
        for (size_t k = 0; k < n_items; k++) {
            /* Each thread starts elsewhere in the list, so different kinds overlap. */
            size_t i = (k + w->index * 3) % n_items;
            w->failures += verify_one(w->v, &items[i], false);
            w->done++;
        }
    }
    return NULL;
}

static int read_file(const char *dir, const char *name, struct cvma_buf *out)
{
    char *p = cvma_path_join(dir, name);
    if (p == NULL) {
        return -1;
    }
    enum cvma_status st = cvma_file_read(p, 1 << 24, out);
    free(p);
    return st == CVMA_OK ? 0 : -1;
}

/*
 * Adds three items for a simulated directory: the bare report/quote with the directory's
 * collateral, the bundle.json, and the bare evidence with one byte flipped at flip_at.
 */
static int add_items(const char *dir, const char *label, const char *kind,
                     const char *evidence_file, size_t flip_at, const char *bad_reason)
{
    struct cvma_buf b;
    char err[256] = "";

    if (n_items + 3 > MAX_EV || read_file(dir, evidence_file, &b) != 0 || b.len <= flip_at) {
        fprintf(stderr, "FAIL: cannot read %s/%s\n", dir, evidence_file);
        return -1;
    }
    for (int k = 0; k < 3; k++) {
        struct item *it = &items[n_items];
        enum cvma_status st;
        if (k == 1) {
            /* DIR/bundle.json, as `cvmattest sim` writes it (the simulator library does not) */
            char *p = cvma_path_join(dir, "bundle.json");
            st = p == NULL ? CVMA_E_NOMEM : cvma_bundle_write(p, kind, b.p, b.len, dir);
            if (st == CVMA_OK) {
                st = cvma_evidence_from_file(p, CVMA_INFORM_AUTO, &it->ev, err, sizeof err);
            }
            free(p);
        } else {
            if (k == 2) {
                b.p[flip_at] ^= 0x01;
            }
            st = cvma_evidence_from_bytes(b.p, b.len, CVMA_INFORM_BIN, &it->ev, err, sizeof err);
            if (st == CVMA_OK) {
                st = cvma_evidence_add_collateral_dir(it->ev, dir, err, sizeof err);
            }
        }
        if (st != CVMA_OK) {
            fprintf(stderr, "FAIL: evidence from %s: %s\n", dir, err);
            cvma_buf_free(&b);
            return -1;
        }
        static const char *const suffix[] = {"bare", "bundle", "tampered"};
        snprintf(it->name, sizeof it->name, "%s/%s", label, suffix[k]);
        it->want_status = k == 2 ? CVMA_CONTRAINDICATED : CVMA_AFFIRMING;
        it->want_reason = k == 2 ? bad_reason : NULL;
        n_items++;
    }
    cvma_buf_free(&b);
    return 0;
}

/* acme's key (its public half into pub) and a registry listing the four simulated platforms
 * (into reg): 0, or -1 with the reason on stderr. */
static int write_registry(const char *pub, const char *reg)
{
    char entries[512], a[129], b[129];
    for (int i = 0; i < 64; i++) {
        memcpy(a + 2 * i, "5a", 2);
        memcpy(b + 2 * i, "5b", 2);
    }
    a[128] = b[128] = '\0';
    snprintf(entries, sizeof entries,
             "amd chip_id %s region=a\namd chip_id %s region=b\n"
             "intel ppid 33333333333333333333333333333333 region=c\n"
             "intel ppid 34343434343434343434343434343434 region=d\n",
             a, b);
    struct cvma_reg_entries e;
    struct cvma_reg_build_opts o = {"acme", 1, (int64_t)time(NULL) - 60, 30 * 86400, true};
    char *jws = NULL, err[300] = "";
    EVP_PKEY *k = cvma_jws_key_generate(CVMA_JWS_ES256);
    FILE *f = NULL;
    int rc = -1;
    cvma_reg_entries_init(&e);
    if (k == NULL ||
        cvma_reg_entries_parse(entries, strlen(entries), "fleet", &e, err, sizeof err) != CVMA_OK ||
        cvma_registry_build(&o, &e, k, &jws, NULL, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL: registry: %s\n", err);
        goto out;
    }
    if ((f = fopen(pub, "w")) == NULL || PEM_write_PUBKEY(f, k) != 1 || fclose(f) != 0) {
        fprintf(stderr, "FAIL: cannot write %s\n", pub);
        goto out;
    }
    f = NULL;
    if ((f = fopen(reg, "w")) == NULL || fputs(jws, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "FAIL: cannot write %s\n", reg);
        goto out;
    }
    f = NULL;
    rc = 0;
out:
    if (f != NULL) {
        fclose(f);
    }
    cvma_reg_entries_cleanup(&e);
    free(jws);
    EVP_PKEY_free(k);
    return rc;
}

/* True when the item's result names acme as its platform's provider. */
static bool bound_to_acme(struct cvma_verifier *v, const struct item *it)
{
    struct cvma_request req;
    struct cvma_result *res = NULL;
    char err[256] = "";
    memset(&req, 0, sizeof req);
    if (cvma_verify(v, it->ev, &req, &res, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL %s: %s\n", it->name, err);
        return false;
    }
    char *json = cvma_result_json(res, false);
    bool ok = json != NULL && strstr(json, "\"provider\":\"acme\"") != NULL;
    if (!ok) {
        fprintf(stderr, "FAIL %s: not bound to acme: %.300s\n", it->name, json ? json : "?");
    }
    free(json);
    cvma_result_free(res);
    return ok;
}

static int run_phase(const char *label, struct cvma_verifier_config *cfg)
{
    struct cvma_verifier *v = NULL;
    struct worker w[N_THREADS];
    char err[256] = "";
    int failures = 0, done = 0;

    if (cvma_verifier_new(cfg, &v, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL %s: cvma_verifier_new: %s\n", label, err);
        return 1;
    }
    memset(w, 0, sizeof w);
    unsigned started = 0;
    for (unsigned t = 0; t < N_THREADS; t++) {
        w[t].v = v;
        w[t].index = t;
        if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
            fprintf(stderr, "FAIL %s: pthread_create\n", label);
            failures++;
            break;
        }
        started++;
    }
    for (unsigned t = 0; t < started; t++) {
        pthread_join(w[t].tid, NULL);
        failures += w[t].failures;
        done += w[t].done;
    }
    cvma_verifier_free(v);
    int want = N_THREADS * rounds * (int)n_items;
    if (done != want) {
        fprintf(stderr, "FAIL %s: %d verifications, want %d\n", label, done, want);
        failures++;
    }
    printf("%s %s: %d threads, %d verifications, %d failures\n", failures ? "FAIL" : "ok  ", label,
           N_THREADS, done, failures);
    return failures;
}

int main(void)
{
    char tmpl[] = "/tmp/cvmathreads.XXXXXX";
    char err[256] = "";
    int failures = 0;
    const char *env = getenv("CVMA_THREADS_ROUNDS");

    if (env != NULL) {
        long r = strtol(env, NULL, 10);
        rounds = r > 0 && r < 1000 ? (int)r : rounds;
    }
    char *top = mkdtemp(tmpl);
    if (top == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char *d_snp1 = cvma_path_join(top, "snp-milan"), *d_snp2 = cvma_path_join(top, "snp-genoa");
    char *d_tdx1 = cvma_path_join(top, "tdx-v4"), *d_tdx2 = cvma_path_join(top, "tdx-v5");
    char *d_cache = cvma_path_join(top, "cache");
    char *r1 = cvma_path_join(d_snp1, "ark.pem"), *r2 = cvma_path_join(d_snp2, "ark.pem");
    char *r3 = cvma_path_join(d_tdx1, "root_ca.pem"), *r4 = cvma_path_join(d_tdx2, "root_ca.pem");
    if (d_snp1 == NULL || d_snp2 == NULL || d_tdx1 == NULL || d_tdx2 == NULL || d_cache == NULL ||
        r1 == NULL || r2 == NULL || r3 == NULL || r4 == NULL) {
        return 1;
    }

    /* Fixed platform ids, so that the registry of the last phase can list them. */
    struct cvma_sim_snp_opts so;
    cvma_sim_snp_opts_default(&so);
    so.has_chip_id = true;
    memset(so.chip_id, 0x5a, sizeof so.chip_id);
    if (cvma_sim_snp_write(&so, d_snp1, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL: sim snp: %s\n", err);
        return 1;
    }
    cvma_sim_snp_opts_default(&so);
    so.product = CVMA_SNP_PRODUCT_GENOA;
    so.vlek = true;
    so.has_chip_id = true;
    memset(so.chip_id, 0x5b, sizeof so.chip_id);
    if (cvma_sim_snp_write(&so, d_snp2, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL: sim snp --vlek: %s\n", err);
        return 1;
    }
    struct cvma_sim_tdx_opts to;
    cvma_sim_tdx_opts_default(&to);
    to.has_ppid = true;
    memset(to.ppid, 0x33, sizeof to.ppid);
    if (cvma_sim_tdx_write(&to, d_tdx1, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL: sim tdx: %s\n", err);
        return 1;
    }
    cvma_sim_tdx_opts_default(&to);
    to.version = 5;
    to.has_ppid = true;
    memset(to.ppid, 0x34, sizeof to.ppid);
    if (cvma_sim_tdx_write(&to, d_tdx2, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL: sim tdx --version 5: %s\n", err);
        return 1;
    }

    /* SEV-SNP: flip a MEASUREMENT byte (0x90); TDX: a byte of the TD report body (after the
     * 48-byte header). Either way the signature no longer holds. */
    if (add_items(d_snp1, "snp-milan", "sev-snp", "report.bin", 0x90,
                  "SNP_REPORT_SIGNATURE_INVALID") ||
        add_items(d_snp2, "snp-genoa-vlek", "sev-snp", "report.bin", 0x90,
                  "SNP_REPORT_SIGNATURE_INVALID") ||
        add_items(d_tdx1, "tdx-v4", "tdx", "quote.bin", 48 + 16, "TDX_QUOTE_SIGNATURE_INVALID") ||
        add_items(d_tdx2, "tdx-v5", "tdx", "quote.bin", 48 + 16, "TDX_QUOTE_SIGNATURE_INVALID")) {
        return 1;
    }

    /* The result key, a P-256 key made here. */
    char *kp = cvma_path_join(top, "result.key");
    FILE *kf = kp != NULL ? fopen(kp, "w") : NULL;
    sign_key = cvma_jws_key_generate(CVMA_JWS_ES256);
    if (kf == NULL || sign_key == NULL ||
        PEM_write_PrivateKey(kf, sign_key, NULL, NULL, 0, NULL, NULL) != 1) {
        fprintf(stderr, "FAIL: cannot write the result key\n");
        return 1;
    }
    fclose(kf);

    const char *roots[] = {r1, r2, r3, r4};
    struct cvma_verifier_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 4;
    cfg.offline = true;
    cfg.cache_dir = d_cache;
    cfg.result_key_file = kp;

    /* The baseline: one thread, its own verifier. */
    struct cvma_verifier *v = NULL;
    if (cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL: cvma_verifier_new: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < n_items; i++) {
        failures += verify_one(v, &items[i], true);
        printf("     baseline %-24s %s\n", items[i].name, items[i].baseline);
    }
    cvma_verifier_free(v);
    if (failures != 0) {
        return 1;
    }

    failures += run_phase("default caches", &cfg);
    cfg.chain_cache_size = 1;
    cfg.p384_backend = CVMA_P384_OPENSSL;
    failures += run_phase("chain cache of 1, OpenSSL P-384", &cfg);
    cfg.chain_cache_size = 0;
    cfg.p384_backend = CVMA_P384_NETTLE;
    cfg.no_cache = true;
    failures += run_phase("no cache", &cfg);

    /* Provider binding: a registry lists the four platforms, so every good item is still
     * affirming, now bound; the threads bind at once (the set is prepared under the
     * verifier's lock, then only read: no lock across lookups or log fetches). */
    cfg.no_cache = false;
    char *pub = cvma_path_join(top, "acme.pub"), *reg = cvma_path_join(top, "acme.jws");
    char prov[300];
    if (pub == NULL || reg == NULL || write_registry(pub, reg) != 0) {
        return 1;
    }
    snprintf(prov, sizeof prov, "acme=%s", pub);
    const char *provs[] = {prov}, *regs[] = {reg};
    cfg.providers = provs;
    cfg.n_providers = 1;
    cfg.registries = regs;
    cfg.n_registries = 1;
    if (cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "FAIL: cvma_verifier_new with a registry: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < n_items; i++) {
        failures += verify_one(v, &items[i], true);
        if (items[i].want_status == CVMA_AFFIRMING && !bound_to_acme(v, &items[i])) {
            failures++;
        }
    }
    cvma_verifier_free(v);
    failures += run_phase("bound to a provider's registry", &cfg);
    free(pub);
    free(reg);

    for (size_t i = 0; i < n_items; i++) {
        cvma_evidence_free(items[i].ev);
    }
    char cmd[512];
    if (snprintf(cmd, sizeof cmd, "rm -rf '%s'", top) < (int)sizeof cmd && system(cmd) != 0) {
        fprintf(stderr, "warning: could not remove %s\n", top);
    }
    free(d_snp1), free(d_snp2), free(d_tdx1), free(d_tdx2), free(d_cache);
    free(r1), free(r2), free(r3), free(r4), free(kp);
    EVP_PKEY_free(sign_key);
    printf("%s\n", failures == 0 ? "PASS" : "FAILED");
    return failures == 0 ? 0 : 1;
}
