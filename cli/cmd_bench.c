/*
 * cvmattest bench FILE [verify options] [--seconds S] [--threads N] [--cold] [--json]
 *
 * Full verifications per second on one core, through the same library call as `verify`
 * (cvma_verify): every iteration parses the evidence, verifies its signatures, re-checks
 * every time-dependent part of the chain and collateral, and runs binding and appraisal.
 * Warm (the default), the collateral is read once into the evidence, as a service holds it
 * in its cache, and verified chains and collateral outcomes are remembered (keyed by their
 * exact bytes). --cold turns every cache off: each iteration parses and verifies the whole
 * chain, the CRLs and the collateral, as a verifier that caches nothing does.
 * --sign-result KEY: every iteration also writes the result JSON and signs its EAR token (the
 * key's kid and signer made once), which is what `serve` does per request: the rate to compare a
 * service instance with.
 * --threads N: N threads verify through the one verifier for the same time, as a service's
 * workers do; the rate reported is per thread (per core when N is the number of cores), and
 * it is lower than one thread's on an idle machine when cores share execution units or
 * caches (virtual CPUs on one physical core): the figure to compare a busy service with.
 * CVMATTEST_P384_BACKEND=openssl switches the P-384 check to OpenSSL for comparison;
 * CVMATTEST_QE_REPORT_MEMO=0 makes every TDX quote check both of its signatures.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cmd_registry.h"
#include "cmds.h"
#include "common/json_out.h"
#include "crypto/chain_cache.h"
#include "crypto/crypto.h"
#include "opts.h"
#include "output.h"
#include "result/ear.h"
#include "result/result.h"
#include "verifier/verifier.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The result JSON written and its EAR token signed, as the service does. */
static bool sign_once(struct cvma_jws_signer *signer, const struct cvma_result *res)
{
    struct cvma_strbuf text = {0};
    struct cvma_ear_result_text rt;
    char *token = NULL;
    bool ok = cvma_ear_result_text(res, &text, &rt) &&
              cvma_ear_sign_with(res, &rt, signer, res->policy_id, NULL, 300, NULL, &token) ==
                      CVMA_OK;
    free(token);
    free(text.p);
    return ok;
}

/*
 * One full verification: 0 when it passed, else the exit code `verify` would give (2 when it
 * could not run or the result could not be signed, 1 refused, 3 undecided). On the first one
 * (report) a failure is printed.
 */
static int verify_once(struct cvma_verifier *v, struct cvma_jws_signer *signer,
                       const struct cvma_evidence *ev, const struct cvma_request *req, bool report)
{
    struct cvma_result *res = NULL;
    char err[256];
    if (cvma_verify(v, ev, req, &res, err, sizeof err) != CVMA_OK) {
        if (report) {
            cvma_cli_err("cvmattest bench: %s\n", err);
        }
        return 2;
    }
    int rc = cvma_result_exit_code(res);
    if (rc != 0 && report) {
        cvma_cli_err("cvmattest bench: the evidence does not verify%s; not benchmarking:\n",
                     rc == 3 ? " (undecided)" : "");
        (void)cvma_print_result(res, false, stderr);
    }
    if (rc == 0 && signer != NULL && !sign_once(signer, res)) {
        cvma_cli_err("cvmattest bench: the result could not be signed\n");
        rc = 2;
    }
    cvma_result_free(res);
    return rc;
}

/* One thread's run: verifications until the time is up, 16 between clock readings. */
struct run {
    struct cvma_verifier *v;
    struct cvma_jws_signer *signer; /* NULL: results not signed */
    const struct cvma_evidence *ev;
    const struct cvma_request *req;
    double seconds;
    atomic_bool *failed;
    unsigned long n;
    double secs;
};

static void *run_loop(void *arg)
{
    struct run *r = arg;
    double t0 = now_s(), t = t0;
    while (t - t0 < r->seconds && !atomic_load(r->failed)) {
        for (int k = 0; k < 16; k++) {
            if (verify_once(r->v, r->signer, r->ev, r->req, false) != 0) {
                atomic_store(r->failed, true);
                break;
            }
            r->n++;
        }
        t = now_s();
    }
    r->secs = t - t0;
    return NULL;
}

int cvma_cmd_bench(int argc, char **argv)
{
    struct cvma_cli_verify cv;
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *ev = NULL;
    struct cvma_jws_signer *signer = NULL;
    char err[256];

    if (argc >= 2 && strcmp(argv[1], "registry-log") == 0) {
        /* cvmattest bench registry-log [...]: the registry log benchmark */
        argv[1] = (char *)(uintptr_t) "bench";
        return cvma_reglog_bench(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "registry") == 0) {
        /* cvmattest bench registry [...]: the registry benchmark (docs/performance.md) */
        argv[1] = (char *)(uintptr_t) "bench";
        return cvma_cmd_registry(argc, argv);
    }
    int rc = cvma_cli_verify_parse(argc, argv, true, &cv);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    const char *backend = getenv("CVMATTEST_P384_BACKEND");
    if (backend != NULL && strcmp(backend, "openssl") == 0) {
        cv.cfg.p384_backend = CVMA_P384_OPENSSL;
    } else {
        backend = "nettle";
    }
    if ((rc = cvma_cli_verifier_new(&cv, "bench", &v)) != 0 ||
        (rc = cvma_cli_evidence(&cv, "bench", &ev)) != 0) {
        goto out;
    }
    const char *memo = getenv("CVMATTEST_QE_REPORT_MEMO");
    if (memo != NULL && strcmp(memo, "0") == 0) {
        v->vo.no_qe_report_memo = true; /* both TDX signatures on every quote */
    }
    enum cvma_evidence_kind kind =
            cv.req.kind != CVMA_KIND_AUTO ? cv.req.kind : cvma_evidence_kind(ev);
    if (kind != CVMA_KIND_SNP && kind != CVMA_KIND_TDX) {
        cvma_cli_err("cvmattest bench: only SEV-SNP reports and TDX quotes can be "
                     "benchmarked\n");
        rc = 2;
        goto out;
    }
    const char *tee_name = kind == CVMA_KIND_SNP ? "sev-snp" : "tdx";
    /* Warm: the collateral directory read once into the evidence, as a service holds it. */
    if (!cv.cold && cv.cfg.collateral_dir != NULL &&
        cvma_evidence_add_collateral_dir(ev, cv.cfg.collateral_dir, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest bench: %s\n", err);
        rc = 2;
        goto out;
    }
    /* The verifier's signer, as the service signs with it. */
    signer = v->result_signer;
    /* One verification that must pass: benchmarking a rejection would measure nothing. Its
     * exit code is verify's (3 when undecided: collateral missing, not a rejection). */
    if ((rc = verify_once(v, signer, ev, &cv.req, true)) != 0) {
        goto out;
    }

    struct run runs[64];
    pthread_t tids[64];
    unsigned started = 0;
    atomic_bool failed = false;
    for (unsigned i = 0; i < cv.threads; i++) {
        runs[i] = (struct run){v, signer, ev, &cv.req, cv.seconds, &failed, 0, 0};
    }
    for (; started < cv.threads; started++) {
        if (cv.threads > 1 && pthread_create(&tids[started], NULL, run_loop, &runs[started]) != 0) {
            atomic_store(&failed, true);
            break;
        }
        if (cv.threads == 1) {
            run_loop(&runs[0]);
        }
    }
    unsigned long n = 0;
    double secs = 0;
    for (unsigned i = 0; i < started; i++) {
        if (cv.threads > 1) {
            pthread_join(tids[i], NULL);
        }
        n += runs[i].n;
        secs = runs[i].secs > secs ? runs[i].secs : secs;
    }
    if (atomic_load(&failed)) {
        cvma_cli_err("cvmattest bench: verification failed during the run\n");
        rc = 1;
        goto out;
    }
    /* Per thread: one core's share when each thread has a core. */
    double total = (double)n / secs, rate = total / cv.threads;
    size_t hits = v->cache != NULL ? cvma_chain_cache_hits(v->cache) : 0;
    if (cv.json) {
        printf("{\"tee\": \"%s\", \"verifications_per_second\": %.1f, \"seconds\": %.3f, "
               "\"verifications\": %lu, \"threads\": %u, \"total_per_second\": %.1f, "
               "\"p384_backend\": \"%s\", \"cold\": %s, \"chain_cache_hits\": %zu, "
               "\"signed\": %s}\n",
               tee_name, rate, secs, n, cv.threads, total, backend, cv.cold ? "true" : "false",
               hits, signer != NULL ? "true" : "false");
    } else if (cv.threads > 1) {
        printf("%s%s%s: %lu full verifications in %.2f s by %u threads = %.1f verifications/s "
               "per thread, %.1f/s in all (P-384 backend: %s; chain cache hits: %zu)\n",
               tee_name, cv.cold ? " (cold: every cache off)" : "",
               signer != NULL ? " (each result JSON written and its token signed)" : "", n, secs,
               cv.threads, rate, total, backend, hits);
    } else {
        printf("%s%s%s: %lu full verifications in %.2f s = %.1f verifications/s on one core "
               "(P-384 backend: %s; chain cache hits: %zu)\n",
               tee_name, cv.cold ? " (cold: every cache off)" : "",
               signer != NULL ? " (each result JSON written and its token signed)" : "", n, secs,
               rate, backend, hits);
    }
    rc = 0;
out:
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    return rc;
}
