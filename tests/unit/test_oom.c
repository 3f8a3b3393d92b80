/*
 * Out of memory while evidence is read (cvma_evidence_from_bytes): every allocation the
 * reader makes is failed in turn, and each time the answer must be CVMA_E_NOMEM, never a
 * verdict on the evidence (CVMA_E_USAGE: malformed) nor a crash. A service answers the one
 * 500 INTERNAL and the other 400 BAD_EVIDENCE (docs/service.md), so the two must not mix.
 *
 * The allocator is the C library's, reached through malloc, calloc and realloc defined here
 * (the test executable's own win over the library's); a countdown fails the n-th call. Builds
 * with a sanitizer keep their own allocator: there the test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gmp.h>

#include "common/base64.h"
#include "common/jflat.h"
#include "cvmattest/cvmattest.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "testutil.h"
#include "tu_api.h"
#include "verifier/bundle.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OOM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
        __has_feature(memory_sanitizer)
#define OOM_SANITIZED 1
#endif
#endif

#ifndef OOM_SANITIZED
/* The allocation that fails: 0 none, else the countdown's end. One thread only. */
static long countdown;
static bool failed;

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static bool fail_now(void)
{
    if (countdown > 0 && --countdown == 0) {
        failed = true;
        return true;
    }
    return false;
}

/* Blocks allocated and not yet freed: a read that fails must leave none behind. */
static long live;

void *malloc(size_t n)
{
    void *p = fail_now() ? NULL : __libc_malloc(n);
    live += p != NULL;
    return p;
}

void *calloc(size_t k, size_t n)
{
    void *p = fail_now() ? NULL : __libc_calloc(k, n);
    live += p != NULL;
    return p;
}

void *realloc(void *p, size_t n)
{
    if (fail_now()) {
        return NULL;
    }
    void *q = __libc_realloc(p, n);
    live += (p == NULL && q != NULL) - (p != NULL && n == 0 && q == NULL);
    return q;
}

void free(void *p)
{
    live -= p != NULL;
    __libc_free(p);
}
#endif

struct fx {
    char *snp, *tdx;
    struct cvma_buf report, bundle, quote, tdx_bundle;
};

#ifndef OOM_SANITIZED
/* dir/name into *evidence, and the bundle of it and dir's collateral into *bundle. */
static void with_bundle(const char *dir, const char *name, const char *kind,
                        struct cvma_buf *evidence, struct cvma_buf *bundle)
{
    char *p = tu_path(dir, name);
    tu_read(p, evidence);
    free(p);
    p = tu_path(dir, "bundle.json");
    assert_int_equal(cvma_bundle_write(p, kind, evidence->p, evidence->len, dir), CVMA_OK);
    tu_read(p, bundle);
    free(p);
}

static void *gmp_alloc(size_t n)
{
    return __libc_malloc(n);
}

static void *gmp_realloc(void *p, size_t old, size_t n)
{
    (void)old;
    return __libc_realloc(p, n);
}

static void gmp_free(void *p, size_t n)
{
    (void)n;
    __libc_free(p);
}
#endif

static int setup(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    return 0;
#else
    struct fx *f = calloc(1, sizeof *f);
    struct cvma_sim_snp_opts so;
    struct cvma_sim_tdx_opts to;
    char err[256];
    f->snp = tu_tmpdir();
    f->tdx = tu_tmpdir();
    cvma_sim_snp_opts_default(&so);
    cvma_sim_tdx_opts_default(&to);
    if (cvma_sim_snp_write(&so, f->snp, err, sizeof err) != CVMA_OK ||
        cvma_sim_tdx_write(&to, f->tdx, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "sim: %s\n", err);
        return -1;
    }
    with_bundle(f->snp, "report.bin", "sev-snp", &f->report, &f->bundle);
    with_bundle(f->tdx, "quote.bin", "tdx", &f->quote, &f->tdx_bundle);
    /* GMP (under nettle's P-384 check) ends the process when an allocation fails: its
     * allocations are left out of the count (a verifier out of memory there dies, as GMP
     * documents; see the sweep of cvma_verify below). */
    mp_set_memory_functions(gmp_alloc, gmp_realloc, gmp_free);
    *state = f;
    return 0;
#endif
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f == NULL) {
        return 0;
    }
    tu_rmtree(f->snp);
    tu_rmtree(f->tdx);
    free(f->snp);
    free(f->tdx);
    cvma_buf_free(&f->report);
    cvma_buf_free(&f->bundle);
    cvma_buf_free(&f->quote);
    cvma_buf_free(&f->tdx_bundle);
    free(f);
    return 0;
}

#ifndef OOM_SANITIZED
/*
 * Reads p as evidence with the n-th allocation failed, for n = 1, 2... until a read runs to
 * its end without a failure; every failed one must answer CVMA_E_NOMEM. Returns the number of
 * allocations a whole read makes.
 */
static long sweep(const uint8_t *p, size_t len, enum cvma_inform inform, const char *what)
{
    long n;
    for (n = 1; n < 100000; n++) {
        struct cvma_evidence *ev = NULL;
        char err[256] = "";
        long before = live;
        failed = false;
        countdown = n;
        enum cvma_status st = cvma_evidence_from_bytes(p, len, inform, &ev, err, sizeof err);
        countdown = 0;
        if (failed && live != before) {
            fail_msg("%s: allocation %ld failed: %ld blocks left behind", what, n, live - before);
        }
        if (!failed) {
            if (st != CVMA_OK) {
                fail_msg("%s: read without a failure gave %d (%s)", what, (int)st, err);
            }
            cvma_evidence_free(ev);
            return n - 1;
        }
        if (st != CVMA_E_NOMEM) {
            fail_msg("%s: allocation %ld failed: status %d, want CVMA_E_NOMEM (%s)", what, n,
                     (int)st, err);
        }
        assert_null(ev);
    }
    fail_msg("%s: no end to the allocations", what);
    return n;
}
#endif

#ifndef OOM_SANITIZED
/* The same for the service's request body (common/jflat.h): CVMA_JFLAT_NOMEM, never a
 * verdict on the body (a refused body is read again by jansson to class it). */
static void sweep_body(const char *body, enum cvma_jflat_result want)
{
    long n;
    for (n = 1; n < 100000; n++) {
        struct cvma_jflat_field in[] = {{"evidence", NULL, 0}, {"nonce", NULL, 0}};
        char what[80];
        long before = live;
        failed = false;
        countdown = n;
        enum cvma_jflat_result r =
                cvma_jflat_parse((const uint8_t *)body, strlen(body), in, 2, what, sizeof what);
        countdown = 0;
        cvma_jflat_free(in, 2);
        if (live != before) {
            fail_msg("body %s: allocation %ld failed: %ld blocks left behind", body, n,
                     live - before);
        }
        if (!failed) {
            assert_int_equal(r, want);
            assert_true(n > 1);
            return;
        }
        if (r != CVMA_JFLAT_NOMEM) {
            fail_msg("body %s: allocation %ld failed: result %d, want CVMA_JFLAT_NOMEM", body, n,
                     (int)r);
        }
    }
    fail_msg("body: no end to the allocations");
}
#endif

static void test_oom_request_body_answers_nomem_at_every_allocation(void **state)
{
    (void)state;
#ifdef OOM_SANITIZED
    skip();
#else
    sweep_body("{\"evidence\": \"AAAA\", \"nonce\": \"x\\u00e9\"}", CVMA_JFLAT_OK);
    sweep_body("{\"evidence\": \"AAAA\", \"other\": [1, {\"a\": \"b\"}]}", CVMA_JFLAT_MEMBER);
    sweep_body("{\"evidence\": \"AAAA\", \"evidence\": \"BBBB\"}", CVMA_JFLAT_SYNTAX);
#endif
}

static void test_oom_evidence_reader_answers_nomem_at_every_allocation(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    struct fx *f = *state;
    char *text = NULL;
    assert_true(sweep(f->report.p, f->report.len, CVMA_INFORM_AUTO, "SEV-SNP report") >= 1);
    assert_true(sweep(f->bundle.p, f->bundle.len, CVMA_INFORM_AUTO, "SEV-SNP bundle") >= 1);
    assert_true(sweep(f->quote.p, f->quote.len, CVMA_INFORM_AUTO, "TDX quote") >= 1);
    assert_true(sweep(f->tdx_bundle.p, f->tdx_bundle.len, CVMA_INFORM_AUTO, "TDX bundle") >= 1);
    assert_non_null(text = cvma_base64_encode(f->report.p, f->report.len, CVMA_B64_STD));
    assert_true(sweep((const uint8_t *)text, strlen(text), CVMA_INFORM_AUTO, "base64 report") >= 1);
    assert_true(sweep((const uint8_t *)text, strlen(text), CVMA_INFORM_BASE64,
                      "base64 report (forced)") >= 1);
    free(text);
#endif
}

/*
 * A whole verification (a verifier with its caches warm, as a service runs it) with the n-th
 * allocation failed: CVMA_E_NOMEM, or a result. A result may still be affirming where the
 * library the allocation was for copes without it (OpenSSL tries its next decoder, say), but a
 * refusal always names its reason: never a verdict made of a lost allocation alone.
 */
static void test_oom_verify_never_refuses_without_a_reason(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    struct fx *f = *state;
    char *ark = tu_path(f->snp, "ark.pem");
    struct cvma_verifier *v = tu_verifier(ark, f->snp, NULL, false);
    struct cvma_evidence *ev = NULL;
    char err[256];
    long nomem = 0, n;
    assert_int_equal(cvma_evidence_from_bytes(f->report.p, f->report.len, CVMA_INFORM_AUTO, &ev,
                                              err, sizeof err),
                     CVMA_OK);
    for (n = 0; n < 200000; n++) { /* n = 0: no failure, the caches filled */
        struct cvma_request req;
        struct cvma_result *res = NULL;
        memset(&req, 0, sizeof req);
        failed = false;
        countdown = n;
        enum cvma_status st = cvma_verify(v, ev, &req, &res, err, sizeof err);
        countdown = 0;
        if (st == CVMA_E_NOMEM) {
            assert_true(failed);
            assert_null(res);
            nomem++;
            continue;
        }
        assert_int_equal(st, CVMA_OK);
        if (cvma_result_status(res) == CVMA_CONTRAINDICATED) {
            if (cvma_result_reason_count(res) == 0) {
                fail_msg("allocation %ld failed: contraindicated without a reason", n);
            }
            if (!failed) {
                fail_msg("contraindicated without a failed allocation: %s",
                         cvma_result_reason_code(res, 0));
            }
        }
        cvma_result_free(res);
        if (n > 0 && !failed) {
            break;
        }
    }
    assert_true(n > 1 && nomem > 0);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    free(ark);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_oom_evidence_reader_answers_nomem_at_every_allocation),
            cmocka_unit_test(test_oom_request_body_answers_nomem_at_every_allocation),
            cmocka_unit_test(test_oom_verify_never_refuses_without_a_reason),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
