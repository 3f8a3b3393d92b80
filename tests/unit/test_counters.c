/*
 * The verifier's counters (cvma_verifier_counters): the chain cache missed by a first
 * verification and hit by the second; the collateral cache missed (offline, nothing cached:
 * nothing fetched) then hit once the CRL is in the cache; with no_cache nothing is counted.
 * Downloads by source and HTTP status are counted in tests/e2e/serve.sh against the local
 * KDS stand-in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collateral/cache.h"
#include "cvmattest/cvmattest.h"
#include "sim/sim_snp.h"
#include "testutil.h"
#include "tu_api.h"

struct fx {
    char *dir;    /* simulated SEV-SNP evidence and its collateral */
    char *nocrl;  /* the VCEK and chain without the CRL */
    char *cache;  /* an empty collateral cache */
    char *report; /* dir/report.bin */
    char *ark;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct cvma_sim_snp_opts so;
    char err[256];

    f->dir = tu_tmpdir();
    cvma_sim_snp_opts_default(&so);
    if (cvma_sim_snp_write(&so, f->dir, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "sim: %s\n", err);
        return -1;
    }
    f->nocrl = tu_path(f->dir, "nocrl");
    f->cache = tu_path(f->dir, "cache");
    f->report = tu_path(f->dir, "report.bin");
    f->ark = tu_path(f->dir, "ark.pem");
    if (mkdir(f->nocrl, 0700) != 0) {
        return -1;
    }
    const char *files[] = {"vcek.der", "cert_chain.pem"};
    for (size_t i = 0; i < 2; i++) {
        char *from = tu_path(f->dir, files[i]), *to = tu_path(f->nocrl, files[i]);
        tu_copy(from, to);
        free(from);
        free(to);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->nocrl);
    free(f->cache);
    free(f->report);
    free(f->ark);
    free(f);
    return 0;
}

static struct cvma_verifier *verifier(const struct fx *f, const char *dir, bool no_cache)
{
    return tu_verifier(f->ark, dir, f->cache, no_cache);
}
/* Verifies the report; returns the result's exit code. */
static int verify(struct cvma_verifier *v, const char *path)
{
    struct cvma_result *res = tu_verify_path(v, path);
    int rc = cvma_result_exit_code(res);
    cvma_result_free(res);
    return rc;
}
/* The value of the counter name{label values joined by ','}; -1 when not reported. */
struct want {
    const char *name, *labels;
    long long value;
    int seen;
};

static void find(const struct cvma_counter *c, void *arg)
{
    struct want *w = arg;
    char labels[128] = "";
    size_t used = 0;
    assert_non_null(c->help);
    for (size_t i = 0; i < c->n_labels; i++) {
        int n = snprintf(labels + used, sizeof labels - used, "%s%s=%s", i ? "," : "",
                         c->label_names[i], c->label_values[i]);
        assert_true(n > 0 && (size_t)n < sizeof labels - used);
        used += (size_t)n;
    }
    if (strcmp(c->name, w->name) == 0 && (w->labels == NULL || strcmp(labels, w->labels) == 0)) {
        w->value = (w->seen > 0 ? w->value : 0) + (long long)c->value;
        w->seen++;
    }
}

/* The sum of every counter called name, whatever its labels (0 when none is reported). */
static long long counter_sum(const struct cvma_verifier *v, const char *name)
{
    struct want w = {name, NULL, 0, 0};
    cvma_verifier_counters(v, find, &w);
    return w.value;
}

static long long counter(const struct cvma_verifier *v, const char *name, const char *labels)
{
    struct want w = {name, labels, -1, 0};
    cvma_verifier_counters(v, find, &w);
    assert_true(w.seen <= 1); /* each name and label set once */
    return w.value;
}

static void test_counters_chain_cache_miss_then_hit(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = verifier(f, f->dir, false);

    assert_int_equal(counter(v, "cache_misses", "cache=chain"), 0);
    assert_int_equal(counter(v, "cache_hits", "cache=chain"), 0);
    assert_int_equal(verify(v, f->report), 0);
    assert_int_equal(counter(v, "cache_misses", "cache=chain"), 1);
    assert_int_equal(counter(v, "cache_hits", "cache=chain"), 0);
    assert_int_equal(verify(v, f->report), 0);
    assert_int_equal(counter(v, "cache_misses", "cache=chain"), 1);
    assert_int_equal(counter(v, "cache_hits", "cache=chain"), 1);
    /* Everything came from the directory: the collateral cache was never asked. */
    assert_int_equal(counter(v, "cache_misses", "cache=collateral"), 0);
    assert_int_equal(counter(v, "cache_hits", "cache=collateral"), 0);
    cvma_verifier_free(v);
}

static void test_counters_collateral_cache_miss_then_hit(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = verifier(f, f->nocrl, false);
    struct cvma_cache c = {0};
    struct cvma_buf crl;

    /* Offline, no CRL in the directory or the cache: a miss, and nothing fetched. */
    (void)verify(v, f->report);
    assert_int_equal(counter(v, "cache_misses", "cache=collateral"), 1);
    assert_int_equal(counter(v, "cache_hits", "cache=collateral"), 0);
    assert_int_equal(counter_sum(v, "collateral_fetches"), 0);

    /* The CRL cached under KDS's URL: a hit. */
    char *crl_path = tu_path(f->dir, "crl.der");
    tu_read(crl_path, &crl);
    assert_int_equal(cvma_cache_init(&c, f->cache), CVMA_OK);
    assert_int_equal(cvma_cache_put(&c, "amd-kds https://kdsintf.amd.com/vcek/v1/Milan/crl", crl.p,
                                    crl.len, 0),
                     CVMA_OK);
    assert_int_equal(verify(v, f->report), 0);
    assert_int_equal(counter(v, "cache_misses", "cache=collateral"), 1);
    assert_int_equal(counter(v, "cache_hits", "cache=collateral"), 1);
    cvma_cache_cleanup(&c);
    cvma_buf_free(&crl);
    free(crl_path);
    cvma_verifier_free(v);
}

static void test_counters_no_cache_counts_no_chain_lookups(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = verifier(f, f->dir, true);
    assert_int_equal(verify(v, f->report), 0);
    assert_int_equal(verify(v, f->report), 0);
    assert_int_equal(counter(v, "cache_misses", "cache=chain"), 0);
    assert_int_equal(counter(v, "cache_hits", "cache=chain"), 0);
    cvma_verifier_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_counters_chain_cache_miss_then_hit),
            cmocka_unit_test(test_counters_collateral_cache_miss_then_hit),
            cmocka_unit_test(test_counters_no_cache_counts_no_chain_lookups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
