/*
 * The service's configuration file read from its bytes (server/config.h): the members and
 * their limits, relative paths, and refusals that name the member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/config.h"
#include "testutil.h"

static enum cvma_status read_text(struct cvma_serve_config *s, const char *text, char *err,
                                  size_t err_len)
{
    return cvma_serve_config_read(s, (const uint8_t *)text, strlen(text), "conf/serve.json", err,
                                  err_len);
}

static void test_serve_config_reads_members_and_relative_paths(void **state)
{
    (void)state;
    struct cvma_serve_config *s = calloc(1, sizeof *s);
    char err[600] = "";
    assert_non_null(s);
    assert_int_equal(
            read_text(s,
                      "{\"listen\": \"127.0.0.1:0\", \"providers\": [\"acme=acme.pub\"], "
                      "\"trust_roots\": [\"/abs/ark.pem\"], \"policies\": {\"\": \"p.json\"}, "
                      "\"limits\": {\"threads\": 256, \"timeout\": 3600, \"max_body\": 4096}}",
                      err, sizeof err),
            CVMA_OK);
    assert_string_equal(s->sc.listen, "127.0.0.1:0");
    assert_int_equal(s->vc.n_providers, 1);
    assert_string_equal(s->providers[0], "acme=conf/acme.pub");
    assert_string_equal(s->roots[0], "/abs/ark.pem");
    assert_int_equal(s->vc.n_policies, 1);
    assert_string_equal(s->policies[0].path, "conf/p.json");
    assert_int_equal(s->sc.threads, 256);
    assert_int_equal(s->sc.timeout, 3600);
    assert_int_equal(s->sc.max_body, 4096);
    cvma_serve_config_cleanup(s);
    free(s);
}

/* A file that is JSON but not an object is said so, with no line (jansson gives -1 for one
 * parsed whole: "(line -1)" was printed); one that is not JSON names its line. */
static void test_serve_config_not_an_object_and_not_json(void **state)
{
    (void)state;
    struct cvma_serve_config *s = calloc(1, sizeof *s);
    char err[600] = "";
    assert_non_null(s);
    assert_int_equal(read_text(s, "[1, 2]", err, sizeof err), CVMA_E_USAGE);
    assert_string_equal(err, "--config 'conf/serve.json': not a JSON object");
    cvma_serve_config_cleanup(s);
    memset(s, 0, sizeof *s);
    assert_int_equal(read_text(s, "{\n\"listen\": }", err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "(line 2)"));
    cvma_serve_config_cleanup(s);
    free(s);
}

static void test_serve_config_refuses_out_of_range_limits(void **state)
{
    (void)state;
    static const char *const bad[] = {
            "{\"limits\": {\"threads\": 257}}",       "{\"limits\": {\"timeout\": 3601}}",
            "{\"limits\": {\"drain\": 0}}",           "{\"limits\": {\"max_body\": 1000000001}}",
            "{\"limits\": {\"nonce_ttl\": \"300\"}}", "{\"limits\": {\"bogus\": 1}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cvma_serve_config *s = calloc(1, sizeof *s);
        char err[600] = "";
        assert_non_null(s);
        assert_int_equal(read_text(s, bad[i], err, sizeof err), CVMA_E_USAGE);
        assert_non_null(strstr(err, "is unknown or out of range"));
        assert_int_equal(s->sc.threads, 0);
        assert_int_equal(s->sc.timeout, 0);
        cvma_serve_config_cleanup(s);
        free(s);
    }
}

/* limits.per_ip_connections: 0 is no limit (kept as negative: 0 in the struct is the default of
 * 64), 1..1024 as given; beyond, or not a number, refused naming it. */
static void test_serve_config_per_ip_connections(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum cvma_status st;
        long want;
    } cases[] = {
            {"{\"limits\": {\"per_ip_connections\": 0}}", CVMA_OK, -1},
            {"{\"limits\": {\"per_ip_connections\": 1}}", CVMA_OK, 1},
            {"{\"limits\": {\"per_ip_connections\": 1024}}", CVMA_OK, 1024},
            {"{\"limits\": {\"per_ip_connections\": 1025}}", CVMA_E_USAGE, 0},
            {"{\"limits\": {\"per_ip_connections\": -1}}", CVMA_E_USAGE, 0},
            {"{\"limits\": {\"per_ip_connections\": \"8\"}}", CVMA_E_USAGE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cvma_serve_config *s = calloc(1, sizeof *s);
        char err[600] = "";
        assert_non_null(s);
        assert_int_equal(read_text(s, cases[i].text, err, sizeof err), cases[i].st);
        assert_int_equal(s->sc.per_ip_connections, cases[i].want);
        if (cases[i].st != CVMA_OK) {
            assert_non_null(strstr(err, "limits.per_ip_connections is unknown or out of range"));
        }
        cvma_serve_config_cleanup(s);
        free(s);
    }
}

/* limits.fetch_budget: 0 is no limit (kept as negative), 1..100000 downloads a minute as
 * given; beyond, or not a number, refused naming it. Into the verifier's configuration: the
 * default (60) when not given, 0 (no limit) for 0. */
static void test_serve_config_fetch_budget(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum cvma_status st;
        long want;
        unsigned per_minute;
    } cases[] = {
            {"{}", CVMA_OK, 0, CVMA_SERVE_FETCH_BUDGET_DEFAULT},
            {"{\"limits\": {\"fetch_budget\": 0}}", CVMA_OK, -1, 0},
            {"{\"limits\": {\"fetch_budget\": 1}}", CVMA_OK, 1, 1},
            {"{\"limits\": {\"fetch_budget\": 100000}}", CVMA_OK, 100000, 100000},
            {"{\"limits\": {\"fetch_budget\": 100001}}", CVMA_E_USAGE, 0, 60},
            {"{\"limits\": {\"fetch_budget\": -1}}", CVMA_E_USAGE, 0, 60},
            {"{\"limits\": {\"fetch_budget\": true}}", CVMA_E_USAGE, 0, 60},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cvma_serve_config *s = calloc(1, sizeof *s);
        char err[600] = "";
        assert_non_null(s);
        assert_int_equal(read_text(s, cases[i].text, err, sizeof err), cases[i].st);
        assert_int_equal(s->fetch_budget, cases[i].want);
        cvma_serve_config_fetch_budget(s);
        assert_int_equal(s->vc.fetch_budget_per_minute, cases[i].per_minute);
        if (cases[i].st != CVMA_OK) {
            assert_non_null(strstr(err, "limits.fetch_budget is unknown or out of range"));
        }
        cvma_serve_config_cleanup(s);
        free(s);
    }
}

/* A provider without '=' is a malformed member; it was reported as "out of memory". */
static void test_serve_config_provider_without_key_names_the_member(void **state)
{
    (void)state;
    struct cvma_serve_config *s = calloc(1, sizeof *s);
    char err[600] = "";
    assert_non_null(s);
    assert_int_equal(read_text(s, "{\"providers\": [\"acme\"]}", err, sizeof err), CVMA_E_USAGE);
    assert_false(s->no_room);
    assert_non_null(strstr(err, "member \"providers\""));
    assert_int_equal(s->vc.n_providers, 0);
    cvma_serve_config_cleanup(s);
    free(s);
}

/* kds_url / pcs_url: http:// or https:// only (as --kds-url / --pcs-url, and the library's
 * kds_base_url / pcs_base_url: one check), "" included; refused naming the member. */
static void test_serve_config_base_urls_are_http_or_https(void **state)
{
    (void)state;
    static const char *const bad[] = {
            "{\"kds_url\": \"ftp://x\"}",
            "{\"pcs_url\": \"file:///tmp\"}",
            "{\"kds_url\": \"kdsintf.amd.com\"}",
            "{\"pcs_url\": \"\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cvma_serve_config *s = calloc(1, sizeof *s);
        char err[600] = "";
        assert_non_null(s);
        assert_int_equal(read_text(s, bad[i], err, sizeof err), CVMA_E_USAGE);
        assert_non_null(strstr(err, i % 2 == 0 ? "kds_url must be an http:// or https:// URL"
                                               : "pcs_url must be an http:// or https:// URL"));
        cvma_serve_config_cleanup(s);
        free(s);
    }
    struct cvma_serve_config *s = calloc(1, sizeof *s);
    char err[600] = "";
    assert_non_null(s);
    assert_int_equal(read_text(s, "{\"kds_url\": \"HTTPS://k\", \"pcs_url\": \"http://p\"}", err,
                               sizeof err),
                     CVMA_OK);
    assert_string_equal(s->vc.kds_base_url, "HTTPS://k");
    assert_string_equal(s->vc.pcs_base_url, "http://p");
    cvma_serve_config_cleanup(s);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_serve_config_reads_members_and_relative_paths),
            cmocka_unit_test(test_serve_config_not_an_object_and_not_json),
            cmocka_unit_test(test_serve_config_refuses_out_of_range_limits),
            cmocka_unit_test(test_serve_config_provider_without_key_names_the_member),
            cmocka_unit_test(test_serve_config_per_ip_connections),
            cmocka_unit_test(test_serve_config_fetch_budget),
            cmocka_unit_test(test_serve_config_base_urls_are_http_or_https),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
