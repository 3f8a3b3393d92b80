/*
 * `cvmattest demo`'s pieces (cli/demo_*.c, compiled in here: the CLI is no library): how a
 * step judges and prints a verdict, why a lease has no result, the close after a refusal on
 * attested TLS, and the token step's reasons.
 */
#include "../../cli/demo_atls.c"
#include "../../cli/demo_report.c"
#include "../../cli/demo_serve.c"
#include "sim/sim_snp.h"
#include "testutil.h"

/* What a step printed on stdout (NUL-terminated). */
struct captured {
    char text[4096];
};

static FILE *capture_begin(int *saved)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stdout);
    *saved = dup(STDOUT_FILENO);
    assert_true(*saved >= 0);
    assert_true(dup2(fileno(f), STDOUT_FILENO) >= 0);
    return f;
}

static void capture_end(FILE *f, int saved, struct captured *c)
{
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    rewind(f);
    size_t n = fread(c->text, 1, sizeof c->text - 1, f);
    c->text[n] = '\0';
    fclose(f);
    printf("%s", c->text); /* shown in the test's log */
}

/* A refused result: PLATFORM_CHANGED (a warning) first, REGISTRY_PLATFORM_NOT_LISTED (the
 * error that refused it) second, as the lease's second attestation gives. */
static const char migrated[] =
        "{\"status\":\"contraindicated\",\"reasons\":["
        "{\"code\":\"PLATFORM_CHANGED\",\"severity\":\"warning\",\"detail\":\"moved\"},"
        "{\"code\":\"REGISTRY_PLATFORM_NOT_LISTED\",\"severity\":\"error\",\"detail\":\"not "
        "listed\"}]}";

static bool report(const char *json, const struct demo_want *want, struct captured *c,
                   int *failures)
{
    struct demo d;
    int saved;
    memset(&d, 0, sizeof d);
    FILE *f = capture_begin(&saved);
    bool ok = demo_report(&d, "lease 2", json, want, NULL);
    capture_end(f, saved, c);
    *failures = d.failures;
    return ok;
}

static void test_demo_report_refused_needs_a_wanted_error(void **state)
{
    (void)state;
    struct captured c;
    int failures = 0;
    /* The wanted code is there, but as a warning, and another error refused it. */
    const struct demo_want want = {.accept = false, .reasons = {"PLATFORM_CHANGED"}};
    assert_false(report(migrated, &want, &c, &failures));
    assert_int_equal(failures, 1);
    assert_non_null(strstr(c.text, "UNEXPECTED"));
    assert_non_null(strstr(c.text, "also refused by REGISTRY_PLATFORM_NOT_LISTED"));
    /* the printed reason is the error that refused it, first */
    assert_non_null(strstr(c.text, " 1 \xe2\x9c\x97 lease 2: REGISTRY_PLATFORM_NOT_LISTED: "));
}

static void test_demo_report_refused_by_wanted_error_shows_it_first(void **state)
{
    (void)state;
    struct captured c;
    int failures = 0;
    const struct demo_want want = {.accept = false,
                                   .reasons = {"PLATFORM_CHANGED", "REGISTRY_PLATFORM_NOT_LISTED"}};
    assert_true(report(migrated, &want, &c, &failures));
    assert_int_equal(failures, 0);
    assert_null(strstr(c.text, "UNEXPECTED"));
    assert_non_null(strstr(c.text, "lease 2: REGISTRY_PLATFORM_NOT_LISTED: not listed \xc2\xb7 "
                                   "PLATFORM_CHANGED: moved"));
}

static void test_demo_report_refused_by_an_unwanted_error_too(void **state)
{
    (void)state;
    struct captured c;
    int failures = 0;
    const char two[] = "{\"status\":\"contraindicated\",\"reasons\":["
                       "{\"code\":\"REGISTRY_PLATFORM_NOT_LISTED\",\"severity\":\"error\"},"
                       "{\"code\":\"POLICY_PROVIDER_REQUIRED\",\"severity\":\"error\"}]}";
    const struct demo_want want = {.accept = false, .reasons = {"REGISTRY_PLATFORM_NOT_LISTED"}};
    assert_false(report(two, &want, &c, &failures));
    assert_int_equal(failures, 1);
    assert_non_null(strstr(c.text, "POLICY_PROVIDER_REQUIRED"));
    assert_non_null(strstr(c.text, "also refused by POLICY_PROVIDER_REQUIRED"));
}

static void test_demo_atls_why_names_the_refused_lease(void **state)
{
    (void)state;
    struct demo_atls a;
    char buf[300];
    memset(&a, 0, sizeof a);
    /* lease 1 refused: lease 2 was not attempted */
    a.n_results = 1;
    a.refused = true;
    assert_string_equal(demo_atls_why(&a, 1, buf, sizeof buf),
                        "not attempted: lease 1 was refused");
    /* round 2 could not run: its reason, for it */
    a.refused = false;
    snprintf(a.err, sizeof a.err, "no evidence from the server");
    assert_string_equal(demo_atls_why(&a, 1, buf, sizeof buf), "no evidence from the server");
}

/* One attested-TLS connection to a simulated SNP CVM whose root the client does not trust: the
 * client refuses the first attestation. */
static void refused_connection(bool no_close, struct demo_atls *a, char *dir)
{
    struct cvma_sim_snp_opts o;
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    char err[256];
    cvma_sim_snp_opts_default(&o);
    o.keep_keys = true;
    assert_int_equal(cvma_sim_snp_write(&o, dir, err, sizeof err), CVMA_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.offline = true;
    cfg.collateral_dir = dir;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    memset(a, 0, sizeof *a);
    a->dirs[0] = dir;
    a->n_dirs = 1;
    a->v = v;
    a->rounds = 1;
    a->test_no_close = no_close;
    assert_true(demo_atls_run(a));
    cvma_verifier_free(v);
}

static void test_demo_atls_client_closes_after_its_refusal(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    struct demo_atls a;
    refused_connection(false, &a, dir);
    assert_true(a.refused);
    assert_int_equal(a.n_results, 1);
    assert_non_null(strstr(a.server_saw, "refused: "));
    assert_true(a.server_closed);
    demo_atls_free(&a);
    tu_rmtree(dir);
    free(dir);
}

static void test_demo_atls_no_close_when_the_client_goes_on(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    struct demo_atls a;
    refused_connection(true, &a, dir);
    assert_true(a.refused);
    assert_non_null(strstr(a.server_saw, "refused: "));
    /* the harness closes the socket only after the server gave up waiting (its 10 s read
     * time-out): that must not count as the client's close */
    assert_false(a.server_closed);
    demo_atls_free(&a);
    tu_rmtree(dir);
    free(dir);
}

static void test_demo_token_step_says_why_the_key_is_missing(void **state)
{
    (void)state;
    struct demo d;
    struct captured c;
    int saved;
    json_t *answer = json_pack("{s:s}", "token", "a.b.c");
    const struct demo_service_opts o = {.sign_pub = "/nonexistent/verifier.pub"};
    memset(&d, 0, sizeof d);
    FILE *f = capture_begin(&saved);
    check_token(&d, answer, "nonce", &o);
    capture_end(f, saved, &c);
    assert_int_equal(d.failures, 1);
    assert_null(strstr(c.text, "no token in the answer"));
    assert_non_null(strstr(c.text, "cannot read the service's public key"));
    json_decref(answer);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the demo: a peer that closed is an error, not a signal */
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_demo_report_refused_needs_a_wanted_error),
            cmocka_unit_test(test_demo_report_refused_by_wanted_error_shows_it_first),
            cmocka_unit_test(test_demo_report_refused_by_an_unwanted_error_too),
            cmocka_unit_test(test_demo_atls_why_names_the_refused_lease),
            cmocka_unit_test(test_demo_atls_client_closes_after_its_refusal),
            cmocka_unit_test(test_demo_atls_no_close_when_the_client_goes_on),
            cmocka_unit_test(test_demo_token_step_says_why_the_key_is_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
