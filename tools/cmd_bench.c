/*
 * cvmattest bench FILE [verify options] [--seconds S] [--json]
 *
 * Full verifications per second on one core: every iteration parses the report, looks the
 * chain up in the chain cache (keyed by the exact collateral bytes and trust roots; the time
 * checks are redone each time), verifies the report signature and runs every binding and
 * appraisal check. Collateral is read once, as a service reads it from its cache.
 * CVMATTEST_P384_BACKEND=openssl switches the P-384 check to OpenSSL for comparison;
 * CVMATTEST_QE_REPORT_MEMO=0 makes every TDX quote check both of its signatures (as for the
 * first quote from a QE), instead of remembering a verified QE report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "crypto/chain_cache.h"
#include "crypto/crypto.h"
#include "opts.h"
#include "output.h"
#include "snp/snp_internal.h"
#include "tdx/tdx_internal.h"

#define MAX_EVIDENCE (1u << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One full verification; on the first one a failure is printed. */
static bool verify_once(enum cvma_tee_kind tee, const struct cvma_cli_verify *cv,
                        const struct cvma_buf *ev, const struct cvma_snp_collateral *coll,
                        const struct cvma_tdx_held *tdx_coll, bool report)
{
    struct cvma_result res;
    if (tee == CVMA_TEE_SNP) {
        cvma_result_init(&res, "sev-snp", cv->vo.at);
        cvma_snp_verify(ev->p, ev->len, &cv->vo, coll, &res);
    } else {
        cvma_result_init(&res, "tdx", cv->vo.at);
        cvma_tdx_verify(ev->p, ev->len, &cv->vo, tdx_coll, &res);
    }
    cvma_result_finish(&res);
    bool ok = res.status != CVMA_CONTRAINDICATED;
    if (!ok && report) {
        fprintf(stderr, "cvmattest bench: the evidence does not verify; not benchmarking:\n");
        cvma_print_result(&res, false, stderr);
    }
    cvma_result_cleanup(&res);
    return ok;
}

int cvma_cmd_bench(int argc, char **argv)
{
    struct cvma_cli_verify cv;
    struct cvma_buf ev = {0};
    struct cvma_snp_collateral coll;
    struct cvma_tdx_held tdx_coll;
    bool have_tdx_coll = false;
    const char *tee_name = "?";
    struct cvma_chain_cache *cache = NULL;
    if (argc >= 2 && strcmp(argv[1], "registry") == 0) {
        /* cvmattest bench registry [...]: the registry benchmark (docs/performance.md) */
        argv[1] = (char *)(uintptr_t) "bench";
        return cvma_cmd_registry(argc, argv);
    }
    int rc = cvma_cli_verify_parse(argc, argv, true, &cv);
    const char *backend = getenv("CVMATTEST_P384_BACKEND");

    memset(&coll, 0, sizeof coll);
    memset(&tdx_coll, 0, sizeof tdx_coll);
    if (rc != 0) {
        goto out;
    }
    const char *memo = getenv("CVMATTEST_QE_REPORT_MEMO");
    if (memo != NULL && strcmp(memo, "0") == 0) {
        cv.vo.no_qe_report_memo = true; /* both TDX signatures on every quote */
    }
    if (backend != NULL && strcmp(backend, "openssl") == 0) {
        cv.vo.p384_backend = CVMA_P384_OPENSSL; /* this run's options, no process state */
    } else {
        backend = "nettle";
    }
    rc = 2;
    if (cvma_file_read(cv.file, MAX_EVIDENCE, &ev) != CVMA_OK) {
        fprintf(stderr, "cvmattest bench: cannot read '%s'\n", cv.file);
        goto out;
    }
    enum cvma_tee_kind tee = cv.tee != CVMA_TEE_AUTO ? cv.tee : cvma_detect_tee(ev.p, ev.len);
    if (tee != CVMA_TEE_SNP && tee != CVMA_TEE_TDX) {
        fprintf(stderr, "cvmattest bench: only SEV-SNP reports and TDX quotes can be "
                        "benchmarked\n");
        goto out;
    }
    tee_name = tee == CVMA_TEE_SNP ? "sev-snp" : "tdx";
    if ((cache = cvma_chain_cache_new(16)) == NULL) {
        goto out;
    }
    cv.vo.chain_cache = cache;

    /* Collateral once, and one verification that must pass: benchmarking a rejection would
     * measure nothing useful. */
    {
        struct cvma_verdict v;
        enum cvma_status st;
        cvma_verdict_init(&v);
        if (tee == CVMA_TEE_SNP) {
            struct cvma_snp_report rep;
            struct cvma_parse_opts po = {.allow_trailing_data = cv.vo.allow_trailing_data};
            st = cvma_snp_report_parse(ev.p, ev.len, &po, &rep, &v);
            if (st == CVMA_OK) {
                st = cvma_snp_collateral_get(&rep, &cv.vo, &coll, &v);
            }
        } else {
            struct cvma_tdx_quote q;
            struct cvma_tdx_parse_opts po = {.allow_trailing_data = cv.vo.allow_trailing_data};
            st = cvma_tdx_quote_parse(ev.p, ev.len, &po, &q, &v);
            if (st == CVMA_OK) {
                st = cvma_tdx_collateral_get(&q, &cv.vo, &tdx_coll, &v);
                have_tdx_coll = st == CVMA_OK;
            }
            cvma_tdx_quote_cleanup(&q);
        }
        if (st != CVMA_OK) {
            fprintf(stderr, "cvmattest bench: cannot load the evidence or its collateral: %s\n",
                    v.n_reasons ? v.reasons[v.n_reasons - 1].detail : "?");
            cvma_verdict_cleanup(&v);
            rc = st == CVMA_UNDECIDED ? 3 : 1;
            goto out;
        }
        cvma_verdict_cleanup(&v);
    }
    if (!verify_once(tee, &cv, &ev, &coll, &tdx_coll, true)) {
        rc = 1;
        goto out;
    }

    unsigned long n = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < cv.seconds) {
        for (int k = 0; k < 16; k++) {
            if (!verify_once(tee, &cv, &ev, &coll, &tdx_coll, false)) {
                fprintf(stderr, "cvmattest bench: verification failed during the run\n");
                rc = 1;
                goto out;
            }
            n++;
        }
        t = now_s();
    }
    double secs = t - t0, rate = (double)n / secs;
    if (cv.json) {
        printf("{\"tee\": \"%s\", \"verifications_per_second\": %.1f, \"seconds\": %.3f, "
               "\"verifications\": %lu, \"p384_backend\": \"%s\", \"chain_cache_hits\": %zu}\n",
               tee_name, rate, secs, n, backend, cvma_chain_cache_hits(cache));
    } else {
        printf("%s: %lu full verifications in %.2f s = %.1f verifications/s on one core "
               "(P-384 backend: %s; chain cache hits: %zu)\n",
               tee_name, n, secs, rate, backend, cvma_chain_cache_hits(cache));
    }
    rc = 0;
out:
    cvma_chain_cache_free(cache);
    cvma_snp_collateral_cleanup(&coll);
    if (have_tdx_coll) {
        cvma_tdx_collateral_cleanup(&tdx_coll.c);
    }
    cvma_buf_free(&ev);
    cvma_cli_verify_cleanup(&cv);
    return rc;
}
