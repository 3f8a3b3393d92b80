/*
 * The public API (include/cvmattest/cvmattest.h) and the evidence bundle: configuration
 * errors, every evidence input form, malformed bundles, the pipeline's result accessors, and
 * verification from a bundle's own collateral (prepared once) against a collateral directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/err.h>

#include "common/base64.h"
#include "common/hex.h"
#include "crypto/crypto.h"
#include "cvmattest/cvmattest.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "testutil.h"
#include "tu_api.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"

struct fx {
    char *dir;     /* simulated SEV-SNP evidence and collateral */
    char *tdx;     /* simulated TDX evidence and collateral */
    char *report;  /* dir/report.bin */
    char *ark;     /* dir/ark.pem */
    char *root_ca; /* tdx/root_ca.pem */
    char *bundle;  /* dir/bundle.json */
    char *tbundle; /* tdx/bundle.json */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct cvma_sim_snp_opts so;
    struct cvma_sim_tdx_opts to;
    struct cvma_buf b;
    char err[256];

    f->dir = tu_tmpdir();
    f->tdx = tu_path(f->dir, "tdx");
    cvma_sim_snp_opts_default(&so);
    cvma_sim_tdx_opts_default(&to);
    if (cvma_sim_snp_write(&so, f->dir, err, sizeof err) != CVMA_OK ||
        cvma_sim_tdx_write(&to, f->tdx, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "sim: %s\n", err);
        return -1;
    }
    f->report = tu_path(f->dir, "report.bin");
    f->ark = tu_path(f->dir, "ark.pem");
    f->root_ca = tu_path(f->tdx, "root_ca.pem");
    f->bundle = tu_path(f->dir, "bundle.json");
    f->tbundle = tu_path(f->tdx, "bundle.json");
    tu_read(f->report, &b);
    if (cvma_bundle_write(f->bundle, "sev-snp", b.p, b.len, f->dir) != CVMA_OK) {
        return -1;
    }
    cvma_buf_free(&b);
    char *q = tu_path(f->tdx, "quote.bin");
    tu_read(q, &b);
    free(q);
    if (cvma_bundle_write(f->tbundle, "tdx", b.p, b.len, f->tdx) != CVMA_OK) {
        return -1;
    }
    cvma_buf_free(&b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->tdx);
    free(f->report);
    free(f->ark);
    free(f->root_ca);
    free(f->bundle);
    free(f->tbundle);
    free(f);
    return 0;
}

static void test_library_bundle_verifies_with_its_own_collateral(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, false);
    struct cvma_result *res = tu_verify_path(v, f->bundle);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_int_equal(cvma_result_exit_code(res), 0);
    assert_string_equal(cvma_result_tee(res), "sev-snp");
    assert_non_null(strstr(cvma_result_trust_anchor(res), "test-root:"));
    char *j = cvma_result_json(res, false);
    assert_non_null(strstr(j, "\"status\":\"affirming\""));
    free(j);
    cvma_result_free(res);
    cvma_verifier_free(v);

    v = tu_verifier(f->root_ca, NULL, NULL, false);
    res = tu_verify_path(v, f->tbundle);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_string_equal(cvma_result_tee(res), "tdx");
    cvma_result_free(res);
    cvma_verifier_free(v);
}

static void test_library_one_evidence_verified_many_times_uses_prepared_collateral(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, false);
    struct cvma_evidence *ev = NULL;
    struct cvma_request req;
    char err[256];
    memset(&req, 0, sizeof req);
    assert_int_equal(cvma_evidence_from_file(f->bundle, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    for (int i = 0; i < 3; i++) {
        struct cvma_result *res = NULL;
        assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
        assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
        cvma_result_free(res);
    }
    assert_true(ev->memo->done);
    assert_non_null(ev->memo->prepared);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
}

/* The same evidence object verified three times with v: every result's status is want. */
static void verify_thrice(struct cvma_verifier *v, struct cvma_evidence *ev,
                          enum cvma_result_status want)
{
    for (int i = 0; i < 3; i++) {
        struct cvma_result *res = tu_verify_ev(v, ev);
        assert_int_equal(cvma_result_status(res), want);
        cvma_result_free(res);
    }
}

/* A TDX bundle's items never replace the verifier's own (docs/collateral.md): a bundle whose TCB
 * Info signature is broken verifies against --collateral DIR, on every verification of the same
 * evidence object (the evidence's items are not prepared once for all), and through
 * cvma_evidence_add_collateral_dir, whose files stand beside the bundle's as the verifier's own. */
static void test_library_tdx_bundle_items_never_replace_the_verifiers_own(void **state)
{
    static const char *const names[] = {"tcb_info.json",    "tcb_info_issuer_chain.pem",
                                        "qe_identity.json", "qe_identity_issuer_chain.pem",
                                        "pck_crl.der",      "root_ca_crl.der"};
    struct fx *f = *state;
    struct cvma_evidence *ev = NULL;
    struct cvma_buf b;
    char err[256];
    char *bad = tu_path(f->dir, "tdx-bad");
    char *bpath = tu_path(bad, "bundle.json");
    assert_int_equal(mkdir(bad, 0700), 0);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        char *from = tu_path(f->tdx, names[i]), *to = tu_path(bad, names[i]);
        tu_read(from, &b);
        if (i == 0) {
            char *sig = strstr((char *)b.p, "\"signature\":\"");
            assert_non_null(sig);
            sig += strlen("\"signature\":\"");
            *sig = *sig == '0' ? '1' : '0';
        }
        tu_write(to, b.p, b.len);
        cvma_buf_free(&b);
        free(from);
        free(to);
    }
    char *q = tu_path(f->tdx, "quote.bin");
    tu_read(q, &b);
    assert_int_equal(cvma_bundle_write(bpath, "tdx", b.p, b.len, bad), CVMA_OK);
    cvma_buf_free(&b);

    /* The bundle alone: its broken TCB Info is the evidence's fault. */
    struct cvma_verifier *v = tu_verifier(f->root_ca, NULL, NULL, false);
    struct cvma_result *res = tu_verify_path(v, bpath);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "COLLATERAL_SIGNATURE_INVALID"));
    cvma_result_free(res);

    /* The verifier's own directory's files read into the evidence: those are used. */
    assert_int_equal(cvma_evidence_from_file(bpath, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, f->tdx, err, sizeof err), CVMA_OK);
    verify_thrice(v, ev, CVMA_AFFIRMING);
    assert_null(ev->memo->prepared);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);

    /* --collateral DIR: the same, on every verification of one evidence object. */
    v = tu_verifier(f->root_ca, f->tdx, NULL, false);
    assert_int_equal(cvma_evidence_from_file(bpath, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    verify_thrice(v, ev, CVMA_AFFIRMING);
    assert_null(ev->memo->prepared);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);

    /* The bare quote with the directory read into it: all the verifier's own, prepared once. */
    v = tu_verifier(f->root_ca, NULL, NULL, false);
    assert_int_equal(cvma_evidence_from_file(q, CVMA_INFORM_AUTO, &ev, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, f->tdx, err, sizeof err), CVMA_OK);
    verify_thrice(v, ev, CVMA_AFFIRMING);
    assert_non_null(ev->memo->prepared);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    free(q);
    free(bpath);
    free(bad);
}

static void test_library_bundle_without_collateral_is_undecided_offline(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, false);
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    struct cvma_buf b;
    char err[256];
    char *cache = tu_path(f->dir, "empty-cache");
    memset(&req, 0, sizeof req);
    setenv("CVMATTEST_CACHE", cache, 1);
    tu_read(f->report, &b);
    assert_int_equal(cvma_evidence_from_bytes(b.p, b.len, CVMA_INFORM_BIN, &ev, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_result_exit_code(res), 3);
    assert_true(cvma_result_undecided(res));
    assert_true(cvma_result_has_reason(res, "COLLATERAL_UNAVAILABLE"));
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_buf_free(&b);
    cvma_verifier_free(v);
    free(cache);
}

static void test_library_hex_and_base64_text_are_decoded(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    struct cvma_buf b;
    char err[256];
    tu_read(f->report, &b);
    char *hex = cvma_hex_dup(b.p, b.len);
    char *b64 = cvma_base64_encode(b.p, b.len, CVMA_B64_STD);
    char *b64url = cvma_base64_encode(b.p, b.len, CVMA_B64_URL);
    const char *texts[] = {hex, b64, b64url};
    for (size_t i = 0; i < 3; i++) {
        struct cvma_evidence *ev = NULL;
        struct cvma_result *res = NULL;
        struct cvma_request req;
        memset(&req, 0, sizeof req);
        /* with a line break in the middle and at the end, as files often have */
        size_t n = strlen(texts[i]);
        char *t = malloc(n + 3);
        memcpy(t, texts[i], 64);
        t[64] = '\n';
        memcpy(t + 65, texts[i] + 64, n - 64);
        t[n + 1] = '\n';
        t[n + 2] = '\0';
        assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)t, n + 2, CVMA_INFORM_AUTO, &ev,
                                                  err, sizeof err),
                         CVMA_OK);
        assert_int_equal(cvma_evidence_kind(ev), CVMA_KIND_SNP);
        assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
        assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
        cvma_result_free(res);
        cvma_evidence_free(ev);
        free(t);
    }
    /* Forced forms. */
    struct cvma_evidence *ev = NULL;
    assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)hex, strlen(hex), CVMA_INFORM_HEX,
                                              &ev, err, sizeof err),
                     CVMA_OK);
    cvma_evidence_free(ev);
    assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)b64, strlen(b64), CVMA_INFORM_HEX,
                                              &ev, err, sizeof err),
                     CVMA_E_USAGE);
    assert_null(ev);
    assert_int_equal(cvma_evidence_from_bytes(b.p, b.len, CVMA_INFORM_BASE64, &ev, err, sizeof err),
                     CVMA_E_USAGE);
    assert_non_null(strstr(err, "not text"));
    free(hex);
    free(b64);
    free(b64url);
    cvma_buf_free(&b);
    cvma_verifier_free(v);
}

static void expect_usage(const char *text, const char *needle)
{
    struct cvma_evidence *ev = NULL;
    char err[512];
    err[0] = '\0';
    assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)text, strlen(text), CVMA_INFORM_AUTO,
                                              &ev, err, sizeof err),
                     CVMA_E_USAGE);
    assert_null(ev);
    if (strstr(err, needle) == NULL) {
        fail_msg("'%s': error '%s' lacks '%s'", text, err, needle);
    }
}

/* Store functions that are never called (the configuration is refused first). */
static enum cvma_store_answer half_get(void *arg, const char *key, uint8_t **p, size_t *len)
{
    (void)arg;
    (void)key;
    (void)p;
    (void)len;
    return CVMA_STORE_UNAVAILABLE;
}

static void half_release(void *arg, const char *key)
{
    (void)arg;
    (void)key;
}

/* An 0x prefix marks hex text only: base64 text that starts with "0x" is read as it is. */
static void test_library_0x_prefix_is_for_hex_only(void **state)
{
    static const uint8_t want[] = {0xd3, 0x14, 0x14, 0x14}; /* base64url "0xQUFA" */
    struct cvma_evidence *ev = NULL;
    char err[256];
    (void)state;
    assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)"0xQUFA", 6, CVMA_INFORM_AUTO, &ev,
                                              err, sizeof err),
                     CVMA_OK);
    struct cvma_span b = cvma_evidence_bytes(ev);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    cvma_evidence_free(ev);
    ev = NULL;
    /* "QUFBQQ==" is base64, but "0xQUFBQQ==" is neither hex nor base64 */
    expect_usage("0xQUFBQQ==", "neither hex nor base64");
    /* hex keeps its prefix, in either case */
    assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)"0X0102", 6, CVMA_INFORM_AUTO, &ev,
                                              err, sizeof err),
                     CVMA_OK);
    b = cvma_evidence_bytes(ev);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.p, "\x01\x02", 2);
    cvma_evidence_free(ev);
}

static void test_library_malformed_bundles_and_inputs_are_usage_errors(void **state)
{
    (void)state;
    struct cvma_evidence *ev = NULL;
    char err[256];
    assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)"", 0, CVMA_INFORM_AUTO, &ev, err,
                                              sizeof err),
                     CVMA_E_USAGE);
    assert_non_null(strstr(err, "empty"));
    expect_usage(" \n\t\n", "empty");
    expect_usage("{", "not JSON");
    expect_usage("{\"parts\": []}", "cvmattest_bundle");
    expect_usage("{\"cvmattest_bundle\": 2, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"AgAAAA==\"}]}",
                 "version 2");
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": []}", "parts");
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"collateral\", \"name\": "
                 "\"vcek.der\", \"data\": \"AgAAAA==\"}]}",
                 "no \"evidence\" part");
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"AgAAAA==\"}, {\"role\": \"evidence\", \"data\": \"AgAAAA==\"}]}",
                 "more than one");
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"AgAAAA==\"}, {\"role\": \"collateral\", \"name\": \"../etc/passwd\", "
                 "\"data\": \"AgAAAA==\"}]}",
                 "collateral needs a \"name\"");
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"AgAAAA==\"}, {\"role\": \"collateral\", \"name\": \"crl.der\", "
                 "\"data\": \"AgAAAA==\"}, {\"role\": \"collateral\", \"name\": \"crl.der\", "
                 "\"data\": \"AgAAAA==\"}]}",
                 "given twice");
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"AgAAAA==\"}, {\"role\": \"firmware\", \"data\": \"AgAAAA==\"}]}",
                 "not supported");
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"AgAAAA==\"}, {\"role\": \"event_log\", \"data\": \"AgAAAA==\"}, "
                 "{\"role\": \"event_log\", \"data\": \"AgAAAA==\"}]}",
                 "event_log given twice");
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"not base64!\"}]}",
                 "not base64");
    expect_usage("{\"cvmattest_bundle\": 1, \"kind\": \"sgx\", \"parts\": [{\"role\": "
                 "\"evidence\", \"data\": \"AgAAAA==\"}]}",
                 "not known");
    expect_usage("{\"cvmattest_bundle\": 1, \"extra\": 1, \"parts\": [{\"role\": \"evidence\", "
                 "\"data\": \"AgAAAA==\"}]}",
                 "unknown member");
    expect_usage("zz not evidence zz", "neither hex nor base64");
}

static void test_library_certificate_and_sgx_quote_are_named(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    struct cvma_result *res = tu_verify_path(v, f->ark);
    assert_int_equal(cvma_result_exit_code(res), 1);
    assert_true(cvma_result_has_reason(res, "PARSE_UNKNOWN_FORMAT"));
    assert_non_null(strstr(cvma_result_reason_detail(res, 0), "X.509 certificate"));
    cvma_result_free(res);

    /* A DCAP quote header with TEE type 0 is an SGX quote. */
    char *q = tu_path(f->tdx, "quote.bin");
    char *sgx = tu_path(f->dir, "sgx.bin");
    struct cvma_buf b;
    tu_read(q, &b);
    b.p[4] = 0;
    tu_write(sgx, b.p, b.len);
    res = tu_verify_path(v, sgx);
    assert_int_equal(cvma_result_exit_code(res), 1);
    assert_non_null(strstr(cvma_result_reason_detail(res, 0), "SGX quotes are not supported"));
    assert_string_equal(cvma_result_reason_code(res, 0), "PARSE_UNKNOWN_FORMAT");
    assert_string_equal(cvma_result_reason_severity(res, 0), "error");
    assert_null(cvma_result_reason_code(res, 99));
    cvma_result_free(res);
    cvma_buf_free(&b);
    free(q);
    free(sgx);
    cvma_verifier_free(v);
}

/* Writes path's bytes with version (u32 for a report, u16 for a quote) at offset 0 to out and
 * verifies them without a kind: the first reason's code. */
static char *verify_version(struct cvma_verifier *v, const char *path, const char *out,
                            uint32_t version, size_t width)
{
    struct cvma_buf b;
    tu_read(path, &b);
    for (size_t i = 0; i < width; i++) {
        b.p[i] = (uint8_t)(version >> (8 * i));
    }
    tu_write(out, b.p, b.len);
    cvma_buf_free(&b);
    struct cvma_result *res = tu_verify_path(v, out);
    assert_int_equal(cvma_result_exit_code(res), 1);
    char *got = strdup(cvma_result_reason_code(res, 0));
    cvma_result_free(res);
    return got;
}

/* An SEV-SNP report or TDX quote of an unknown version is named as that without --tee, as
 * with it (docs/reasons.md): PARSE_UNKNOWN_VERSION, not PARSE_UNKNOWN_FORMAT. */
static void test_library_unknown_versions_are_named(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    char *q = tu_path(f->tdx, "quote.bin");
    char *out = tu_path(f->dir, "version.bin");
    static const struct {
        uint32_t version;
        bool snp;
        const char *want;
    } cases[] = {
            {6, true, "PARSE_UNKNOWN_VERSION"},  {1, true, "PARSE_UNKNOWN_VERSION"},
            {0, true, "PARSE_UNKNOWN_VERSION"},  {6, false, "PARSE_UNKNOWN_VERSION"},
            {2, false, "PARSE_UNKNOWN_VERSION"}, {0, false, "PARSE_UNKNOWN_VERSION"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = verify_version(v, cases[i].snp ? f->report : q, out, cases[i].version,
                                   cases[i].snp ? 4 : 2);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    free(out);
    free(q);
    cvma_verifier_free(v);
}

static void test_library_configuration_errors_are_named(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = (struct cvma_verifier *)1;
    struct cvma_policy_config pc = {.name = NULL, .path = "/nonexistent/policy.json"};
    const char *roots[] = {f->report};
    char err[512];

    memset(&cfg, 0, sizeof cfg);
    cfg.collateral_dir = "/nonexistent/dir";
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_null(v);
    assert_non_null(strstr(err, "does not exist"));
    /* each message names the config field a library caller set (and the CLI's option) */
    assert_non_null(strstr(err, "(collateral_dir, --collateral)"));
    cfg.collateral_dir = f->report;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "is not a directory"));
    cfg.collateral_dir = NULL;
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "not a PEM or DER certificate"));
    cfg.n_trust_root_files = 0;
    cfg.policies = &pc;
    cfg.n_policies = 1;
    assert_int_not_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    assert_non_null(strstr(err, "(policies, --policy)"));
    cfg.n_policies = 0;
    cfg.result_key_file = f->ark; /* a certificate, not a private key */
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "private key"));
    assert_non_null(strstr(err, "(result_key_file, --sign-result)"));
    cfg.result_key_file = NULL;
    cfg.snp_product = 9;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    cfg.snp_product = 0;
    /* A backend out of range read every genuine SEV-SNP report as forged. */
    cfg.p384_backend = (enum cvma_p384_backend)7;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "p384_backend 7"));
    cfg.p384_backend = CVMA_P384_NETTLE;
    /* A base URL of another scheme (or none: "" is not the default NULL) made every
     * verification undecided, COLLATERAL_UNAVAILABLE, instead of a refused configuration. */
    /* Nor one without a host or with an empty or impossible port, which every fetch refused. */
    static const char *const bad_urls[] = {
            "ftp://x", "kdsintf.amd.com", "file:///tmp", "", "http://",
            "http://127.0.0.1:", "https://:443/vcek", "http://[]/", "http://h:0", "http://h:65536",
            "http://u@:8080", "http://h :80",
            /* Nor a query or fragment (the paths appended after them were neither), a space
             * or a CR/LF past the authority, or user information (a password written into
             * every result that names a URL fetched). */
            "http://h/?q", "http://h#f", "http://h/a b", "http://h/a\r\nX: y", "http://h/\x80"};
    /* (the error escapes control bytes and bytes outside ASCII: compared up to the URL) */
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        char want[256];
        cfg.kds_base_url = bad_urls[i];
        v = (struct cvma_verifier *)1;
        assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
        assert_null(v);
        snprintf(want, sizeof want,
                 "kds_base_url must be an http:// or https:// URL with a host and no user "
                 "information, query or fragment, not '%s'",
                 strchr(bad_urls[i], '@') != NULL ? "(a URL with user information)" : bad_urls[i]);
        bool plain = strpbrk(bad_urls[i], "\r\n\x80") == NULL;
        if (plain) {
            assert_string_equal(err, want);
        } else {
            assert_true(strncmp(err, want, strlen(want) - strlen(bad_urls[i]) - 1) == 0);
        }
        cfg.kds_base_url = NULL;
        cfg.pcs_base_url = bad_urls[i];
        assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
        assert_null(v);
        assert_non_null(strstr(err, "pcs_base_url must be an http:// or https:// URL"));
        cfg.pcs_base_url = NULL;
    }
    /* Either scheme, in any case, is taken, with a port, an IP literal, a path. */
    static const char *const good_urls[][2] = {
            {"HTTPS://kds.example", "http://pcs.example"},
            {"http://127.0.0.1:65535/x", "https://[::1]:8443"},
            {"https://kds.example:1/a/b/", "http://pcs.example/pccs"},
    };
    /* User information is refused, and its password never echoed. */
    cfg.kds_base_url = "https://u:S3cret@kds.example";
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_null(strstr(err, "S3cret"));
    cfg.kds_base_url = NULL;
    for (size_t i = 0; i < sizeof good_urls / sizeof good_urls[0]; i++) {
        cfg.kds_base_url = good_urls[i][0];
        cfg.pcs_base_url = good_urls[i][1];
        assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
        cvma_verifier_free(v);
    }
    cfg.kds_base_url = cfg.pcs_base_url = NULL;
    /* "" as cache_dir meant the default silently (NULL is the default, as for the URLs). */
    cfg.cache_dir = "";
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "cache_dir"));
    cfg.cache_dir = NULL;
    /* A chain cache of any size was allocated at once (SIZE_MAX: calloc overflow). */
    cfg.chain_cache_size = (size_t)CVMA_CHAIN_CACHE_MAX + 1;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "chain_cache_size 4097 is over 4096"));
    cfg.chain_cache_size = SIZE_MAX;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    cfg.chain_cache_size = CVMA_CHAIN_CACHE_MAX;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    cvma_verifier_free(v);
    cfg.chain_cache_size = 0;
    /* Half of a pair of store functions was silently never used. */
    struct cvma_state_store half;
    memset(&half, 0, sizeof half);
    half.collateral_get = half_get;
    cfg.state_store = &half;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "collateral_get and collateral_put are given both or neither"));
    memset(&half, 0, sizeof half);
    half.collateral_release = half_release;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "collateral_claim and collateral_release"));
    cfg.state_store = NULL;
    /* Settings of a registry log without its key were read by nothing, and accepted. */
    const char *files[] = {"/nonexistent/file"};
    size_t *counts[] = {&cfg.n_witness_keys, &cfg.n_log_proofs, &cfg.n_log_consistency,
                        &cfg.n_log_urls, &cfg.witnesses_required};
    cfg.witness_keys = cfg.log_proofs = cfg.log_consistency = cfg.log_urls = files;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        *counts[i] = 1;
        err[0] = '\0';
        assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
        assert_null(v);
        assert_non_null(
                strstr(err, "need a registry log key: log_keys (--log-vkey PROVIDER=VKEY)"));
        *counts[i] = 0;
    }
    /* A bad entry is named by its field and index. */
    const char *providers[] = {"acme=/nonexistent/acme.pub", "bogus"};
    cfg.providers = providers;
    cfg.n_providers = 2;
    assert_int_not_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    assert_null(v);
    assert_non_null(strstr(err, "providers[0] (--provider) acme=/nonexistent/acme.pub: "));
    cfg.providers = providers + 1;
    cfg.n_providers = 1;
    assert_int_not_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    assert_non_null(strstr(err, "providers[0] (--provider) bogus: "));
}

/* What a request, an input form and a collateral directory can hold out of range is a usage
 * error, never a verdict: a kind no verifier has, a time no result can name, an input form
 * that is none, a collateral directory that is not there. */
static void test_library_request_and_evidence_values_out_of_range_are_usage_errors(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = (struct cvma_result *)1;
    struct cvma_request req;
    char err[256];
    const uint8_t one = 2;

    assert_int_equal(cvma_evidence_from_file(f->report, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    memset(&req, 0, sizeof req);
    req.kind = (enum cvma_evidence_kind)99;
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    assert_non_null(strstr(err, "kind 99"));
    req.kind = CVMA_KIND_AUTO;
    const time_t bad_at[] = {-5, (time_t)253402300800LL};
    for (size_t i = 0; i < 2; i++) {
        req.at = bad_at[i];
        assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
        assert_non_null(strstr(err, "is not a time from 1970 to 9999"));
    }
    req.at = (time_t)253402300799LL; /* 9999-12-31T23:59:59Z: a time, judged (the chain has
                                      * expired by then) */
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_true(cvma_result_has_reason(res, "CERT_EXPIRED"));
    cvma_result_free(res);
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, "/nonexistent/dir", err, sizeof err),
                     CVMA_E_USAGE);
    assert_non_null(strstr(err, "does not exist"));
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, f->report, err, sizeof err),
                     CVMA_E_USAGE);
    assert_non_null(strstr(err, "is not a directory"));
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, NULL, err, sizeof err), CVMA_E_USAGE);
    cvma_evidence_free(ev);
    ev = (struct cvma_evidence *)1;
    assert_int_equal(cvma_evidence_from_bytes(&one, 1, (enum cvma_inform)42, &ev, err, sizeof err),
                     CVMA_E_USAGE);
    assert_null(ev);
    assert_non_null(strstr(err, "inform 42"));
    cvma_verifier_free(v);
}

/* A collateral file there but over the read limit (a 9 MiB crl.der) is not taken for missing
 * by cvma_evidence_add_collateral_dir: CVMA_E_IO naming it (it was skipped: the SEV-SNP result
 * then said only CRL_NOT_CHECKED, exit 0), and the evidence is left as it was (a garbage
 * vcek.der read before it does not stay). */
static void test_library_add_collateral_dir_never_skips_a_file_it_cannot_read(void **state)
{
    struct fx *f = *state;
    char err[300] = "";
    struct cvma_evidence *ev = NULL;
    char *d = tu_path(f->dir, "big-crl-dir"), *vcek = tu_path(d, "vcek.der"),
         *crl = tu_path(d, "crl.der");
    assert_int_equal(mkdir(d, 0700), 0);
    tu_write(vcek, (const uint8_t *)"not a certificate", 17);
    FILE *fp = fopen(crl, "wb");
    assert_non_null(fp);
    assert_int_equal(ftruncate(fileno(fp), 9 << 20), 0);
    fclose(fp);
    assert_int_equal(cvma_evidence_from_file(f->report, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, d, err, sizeof err), CVMA_E_IO);
    assert_non_null(strstr(err, "crl.der' is there but cannot be read"));
    /* the evidence as it was: the good directory's files are the ones read */
    assert_int_equal(cvma_evidence_add_collateral_dir(ev, f->dir, err, sizeof err), CVMA_OK);
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, false);
    struct cvma_result *res = tu_verify_ev(v, ev);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    cvma_result_free(res);
    cvma_verifier_free(v);
    cvma_evidence_free(ev);
    unlink(vcek);
    unlink(crl);
    rmdir(d);
    free(vcek);
    free(crl);
    free(d);
}

/* A previous result that is not JSON is named once: "the previous result: not JSON: ..." (it
 * said "the previous result: the previous result is not JSON"). */
static void test_library_previous_result_not_json_is_said_once(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    char err[300] = "";
    assert_int_equal(cvma_evidence_from_file(f->report, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    memset(&req, 0, sizeof req);
    req.previous_result = "{";
    req.previous_result_len = 1;
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    assert_true(strncmp(err, "the previous result: not JSON: ", 31) == 0);
    assert_null(strstr(err + 1, "the previous result"));
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
}

/* Input over 8 MiB is refused before it is copied or decoded (100 MiB of hex text was decoded
 * whole, some 420 MB at the peak, before "the evidence is over 1048576 bytes"). */
static void test_library_input_over_the_bundle_limit_is_refused_at_once(void **state)
{
    (void)state;
    size_t n = (8u << 20) + 1;
    uint8_t *p = malloc(n);
    struct cvma_evidence *ev = (struct cvma_evidence *)1;
    char err[300] = "";
    assert_non_null(p);
    memset(p, 'a', n); /* hex text */
    assert_int_equal(cvma_evidence_from_bytes(p, n, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_E_USAGE);
    assert_null(ev);
    assert_non_null(strstr(err, "the input is 8388609 bytes, over the 8388608"));
    assert_int_equal(cvma_evidence_from_bytes(p, n - 1, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_E_USAGE);
    assert_non_null(strstr(err, "the evidence is over 1048576 bytes"));
    free(p);
}

/* jansson allocations a program redirected (json_set_alloc_funcs), as a library user may: each
 * block is 16 bytes into what malloc gave, so that free() on it is caught (ASan; glibc
 * aborts). */
static struct {
    void *p[64];
    size_t n;
} tagged;

static void *tagged_malloc(size_t n)
{
    unsigned char *p = malloc(n + 16);
    if (p == NULL) {
        return NULL;
    }
    if (tagged.n < 64) {
        tagged.p[tagged.n++] = p + 16;
        return p + 16;
    }
    return p; /* the table is full: a plain block */
}

static void tagged_free(void *q)
{
    for (size_t i = 0; i < tagged.n; i++) {
        if (tagged.p[i] == q) {
            tagged.p[i] = tagged.p[--tagged.n];
            free((unsigned char *)q - 16);
            return;
        }
    }
    free(q);
}

/* The header: cvma_result_json's text is freed with free(), pretty or not, whatever allocator
 * the program gave jansson. */
static void test_library_result_json_is_freed_with_free_under_other_jansson_allocators(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    struct cvma_result *res = tu_verify_path(v, f->report);
    json_malloc_t old_malloc;
    json_free_t old_free;

    json_get_alloc_funcs(&old_malloc, &old_free);
    json_set_alloc_funcs(tagged_malloc, tagged_free);
    char *pretty = cvma_result_json(res, true);
    char *compact = cvma_result_json(res, false);
    json_set_alloc_funcs(old_malloc, old_free);
    assert_non_null(pretty);
    assert_non_null(compact);
    assert_non_null(strstr(pretty, "\n  \"status\": \"affirming\""));
    free(pretty);
    free(compact);
    cvma_result_free(res);
    cvma_verifier_free(v);
}

static void test_library_unknown_policy_name_is_a_usage_error(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    char err[256];
    memset(&req, 0, sizeof req);
    req.policy = "production";
    assert_int_equal(cvma_evidence_from_file(f->report, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    assert_non_null(strstr(err, "production"));
    /* Signing needs a configured key. */
    req.policy = NULL;
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    char *token = NULL;
    assert_int_equal(cvma_result_sign(v, res, &token), CVMA_E_USAGE);
    assert_null(token);
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
}

/* Named policies and no default one: a request that names no policy is refused, never
 * appraised with no policy; with a default (the CLI's --policy) it gets that one. */
static void test_library_no_default_policy_refuses_a_request_naming_none(void **state)
{
    struct fx *f = *state;
    static const char pol[] =
            "{\"version\": 1, \"name\": \"tdx-only\", \"allowed_tees\": [\"tdx\"]}";
    char *pp = tu_path(f->dir, "tdx-only.json");
    tu_write(pp, (const uint8_t *)pol, sizeof pol - 1);
    struct cvma_policy_config named = {"strict", pp}, both[] = {{"strict", pp}, {"", pp}};
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    char err[256];

    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = (const char *const *)&f->ark;
    cfg.n_trust_root_files = 1;
    cfg.collateral_dir = f->dir;
    cfg.offline = true;
    cfg.policies = &named;
    cfg.n_policies = 1;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_evidence_from_file(f->report, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    memset(&req, 0, sizeof req);
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    assert_non_null(strstr(err, "no default policy is configured"));
    req.policy = "";
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    /* the named one applies: SEV-SNP is not a TEE it allows */
    req.policy = "strict";
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_true(cvma_result_has_reason(res, "POLICY_TEE_NOT_ALLOWED"));
    cvma_result_free(res);
    cvma_verifier_free(v);

    /* with a default: a request naming none gets it */
    cfg.policies = both;
    cfg.n_policies = 2;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    req.policy = NULL;
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_true(cvma_result_has_reason(res, "POLICY_TEE_NOT_ALLOWED"));
    cvma_result_free(res);
    cvma_verifier_free(v);

    /* no policy configured at all: appraised with none, as before */
    cfg.policies = NULL;
    cfg.n_policies = 0;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_false(cvma_result_has_reason(res, "POLICY_TEE_NOT_ALLOWED"));
    cvma_result_free(res);
    cvma_verifier_free(v);
    cvma_evidence_free(ev);
    free(pp);
}

/* A nonce is a TPM quote's extraData: SEV-SNP and TDX evidence has none, so a nonce given
 * for it is refused rather than silently not checked, with the report data or without. */
static void test_library_nonce_for_evidence_without_a_quote_is_refused(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    char err[256];
    assert_int_equal(cvma_evidence_from_file(f->report, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    for (int with_rd = 0; with_rd < 2; with_rd++) {
        memset(&req, 0, sizeof req);
        req.has_nonce = true;
        req.nonce_len = 4;
        memcpy(req.nonce, "\x01\x02\x03\x04", 4);
        req.has_report_data = with_rd != 0;
        err[0] = '\0';
        assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
        assert_null(res);
        assert_non_null(strstr(err, "SEV-SNP"));
        assert_non_null(strstr(err, "no TPM quote"));
        /* An empty nonce (a quote without extraData) is no different. */
        req.nonce_len = 0;
        assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    }
    /* Without the nonce the same request verifies. */
    req.has_nonce = false;
    req.has_report_data = false;
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    /* TDX likewise. */
    v = tu_verifier(f->root_ca, f->tdx, NULL, false);
    char *quote = tu_path(f->tdx, "quote.bin");
    assert_int_equal(cvma_evidence_from_file(quote, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    memset(&req, 0, sizeof req);
    req.has_nonce = true;
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    assert_non_null(strstr(err, "TDX"));
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    free(quote);
}

/* A verifier's SEV-SNP product names the processor of an SEV-SNP report: evidence without one
 * (a TDX quote) is refused rather than verified as if the product had applied; evidence with
 * one still verifies. */
static void test_library_snp_product_for_evidence_without_an_snp_report_is_refused(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    const char *roots[] = {f->ark, f->root_ca};
    char err[256];

    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 2;
    cfg.offline = true;
    cfg.snp_product = 1; /* milan, the simulator's */
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    memset(&req, 0, sizeof req);
    assert_int_equal(cvma_evidence_from_file(f->tbundle, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    err[0] = '\0';
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    assert_non_null(strstr(err, "--product"));
    assert_non_null(strstr(err, "(kind tdx)"));
    /* Forced to another kind without an SEV-SNP report, likewise. */
    cvma_evidence_free(ev);
    assert_int_equal(cvma_evidence_from_file(f->report, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    req.kind = CVMA_KIND_TPM;
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    assert_non_null(strstr(err, "(kind tpm)"));
    /* The SEV-SNP report itself verifies with it. */
    req.kind = CVMA_KIND_AUTO;
    cvma_evidence_free(ev);
    assert_int_equal(cvma_evidence_from_file(f->bundle, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
}

/* The detail of res's PARSE_BUNDLE_PART_NOT_USED about a tpm_quote part ("" when none). */
static const char *tpm_part_detail(const struct cvma_result *res)
{
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        if (strcmp(cvma_result_reason_code(res, i), "PARSE_BUNDLE_PART_NOT_USED") == 0 &&
            strstr(cvma_result_reason_detail(res, i), "tpm_quote") != NULL) {
            return cvma_result_reason_detail(res, i);
        }
    }
    return "";
}

static void test_library_bundle_part_the_kind_does_not_verify_is_named(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, false);
    struct cvma_buf b;
    json_error_t je;
    tu_read(f->bundle, &b);
    json_t *j = json_loadb((const char *)b.p, b.len, 0, &je);
    assert_non_null(j);
    json_array_append_new(json_object_get(j, "parts"),
                          json_pack("{s:s, s:s}", "role", "tpm_quote", "data", "AgAAAA=="));
    char *with_tpm = tu_path(f->dir, "bundle-tpm.json");
    assert_int_equal(json_dump_file(j, with_tpm, 0), 0);
    struct cvma_result *res = tu_verify_path(v, with_tpm);
    assert_int_equal(cvma_result_status(res), CVMA_WARNING);
    assert_true(cvma_result_has_reason(res, "PARSE_BUNDLE_PART_NOT_USED"));
    /* The hint names the kind that reads an SEV-SNP report with a vTPM quote, which is never
     * detected (it must be named): svsm-vtpm. */
    assert_non_null(strstr(tpm_part_detail(res), "verified as kind svsm-vtpm"));
    cvma_result_free(res);
    json_decref(j);
    cvma_buf_free(&b);
    free(with_tpm);
    cvma_verifier_free(v);

    /* Beside a TD quote, where svsm-vtpm does not apply, the hint does not name it. */
    v = tu_verifier(f->root_ca, NULL, NULL, false);
    tu_read(f->tbundle, &b);
    j = json_loadb((const char *)b.p, b.len, 0, &je);
    assert_non_null(j);
    json_array_append_new(json_object_get(j, "parts"),
                          json_pack("{s:s, s:s}", "role", "tpm_quote", "data", "AgAAAA=="));
    with_tpm = tu_path(f->tdx, "bundle-tpm.json");
    assert_int_equal(json_dump_file(j, with_tpm, 0), 0);
    res = tu_verify_path(v, with_tpm);
    assert_int_equal(cvma_result_status(res), CVMA_WARNING);
    assert_non_null(strstr(tpm_part_detail(res), "azure-tdx"));
    assert_null(strstr(tpm_part_detail(res), "svsm-vtpm"));
    cvma_result_free(res);
    json_decref(j);
    cvma_buf_free(&b);
    free(with_tpm);
    cvma_verifier_free(v);
}

/* bundle (a JSON file) with one more collateral part name holding data, verified: a warning
 * whose PARSE_BUNDLE_PART_NOT_USED names the part with want in its detail. */
static void expect_collateral_part_named(struct fx *f, struct cvma_verifier *v, const char *bundle,
                                         const char *name, const char *want)
{
    struct cvma_buf b;
    json_error_t je;
    tu_read(bundle, &b);
    json_t *j = json_loadb((const char *)b.p, b.len, 0, &je);
    assert_non_null(j);
    json_t *parts = json_object_get(j, "parts");
    json_array_append_new(parts, json_pack("{s:s, s:s, s:s}", "role", "collateral", "name", name,
                                           "data", "Z2FyYmFnZQ=="));
    char *path = tu_path(f->dir, "bundle-extra.json");
    assert_int_equal(json_dump_file(j, path, 0), 0);
    struct cvma_result *res = tu_verify_path(v, path);
    bool named = false;
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        named = named ||
                (strcmp(cvma_result_reason_code(res, i), "PARSE_BUNDLE_PART_NOT_USED") == 0 &&
                 strstr(cvma_result_reason_detail(res, i), want) != NULL);
    }
    if (cvma_result_status(res) != CVMA_WARNING || !named) {
        fail_msg("%s: status %d, want a warning naming '%s'", name, (int)cvma_result_status(res),
                 want);
    }
    cvma_result_free(res);
    json_decref(j);
    cvma_buf_free(&b);
    free(path);
}

/* Collateral parts the verification does not read are named, never passed over: another
 * vendor's, the other SEV-SNP key's, and a second form of a certificate read in another. */
static void test_library_collateral_parts_not_read_are_named(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, false);
    expect_collateral_part_named(f, v, f->bundle, "tcb_info.json",
                                 "tcb_info.json, but SEV-SNP attestation report verification does "
                                 "not read it (another vendor's)");
    expect_collateral_part_named(f, v, f->bundle, "pck_crl.der", "pck_crl.der, but SEV-SNP");
    expect_collateral_part_named(f, v, f->bundle, "vlek.der",
                                 "vlek.der, but the report is signed by a VCEK");
    expect_collateral_part_named(f, v, f->bundle, "asvk.pem",
                                 "asvk.pem, but the report is signed by a VCEK");
    expect_collateral_part_named(f, v, f->bundle, "vcek.pem",
                                 "vcek.pem, but its vcek.der is read instead");
    expect_collateral_part_named(f, v, f->bundle, "cert_chain.pem",
                                 "cert_chain.pem, but its ask.pem and ark.pem are read instead");
    cvma_verifier_free(v);
    v = tu_verifier(f->root_ca, NULL, NULL, false);
    expect_collateral_part_named(f, v, f->tbundle, "vcek.der",
                                 "vcek.der, but TDX quote verification does not read it");
    cvma_verifier_free(v);
}

static void test_library_version_is_the_headers(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", CVMATTEST_VERSION_MAJOR, CVMATTEST_VERSION_MINOR,
             CVMATTEST_VERSION_PATCH);
    assert_string_equal(cvma_version(), CVMATTEST_VERSION);
    assert_string_equal(CVMATTEST_VERSION, want);
}

static void test_library_cold_verifier_gives_the_same_answer(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, true);
    struct cvma_result *res = tu_verify_path(v, f->bundle);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    cvma_result_free(res);
    cvma_verifier_free(v);
}

/* A one-part bundle {kind, parts: [{role, data: base64 of n bytes, first 02 00 00 00}]}. */
static char *one_part_bundle(const char *kind, const char *role, size_t n)
{
    uint8_t *d = calloc(1, n);
    assert_non_null(d);
    d[0] = 2; /* an SEV-SNP report's version, so that the bytes are not refused as unknown */
    char *b64 = cvma_base64_encode(d, n, CVMA_B64_STD);
    assert_non_null(b64);
    size_t len = strlen(b64) + 200;
    char *t = malloc(len);
    assert_non_null(t);
    snprintf(t, len,
             "{\"cvmattest_bundle\": 1, %s%s%s\"parts\": [{\"role\": \"%s\", \"data\": \"%s\"}]}",
             kind ? "\"kind\": \"" : "", kind ? kind : "", kind ? "\", " : "", role, b64);
    free(b64);
    free(d);
    return t;
}

/* docs/bundle.md: the evidence part (or the tpm_quote that stands for it) is at most 1 MiB,
 * as bare evidence is; one byte more is a usage error that names the part. */
static void test_library_bundle_evidence_part_over_1_mib_is_a_usage_error(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *role;
    } cases[] = {{"sev-snp", "evidence"}, {NULL, "evidence"}, {"tpm", "tpm_quote"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cvma_evidence *ev = NULL;
        char err[512];
        char *t = one_part_bundle(cases[i].kind, cases[i].role, CVMA_EVIDENCE_MAX);
        assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)t, strlen(t), CVMA_INFORM_AUTO,
                                                  &ev, err, sizeof err),
                         CVMA_OK);
        assert_int_equal(cvma_evidence_bytes(ev).len, CVMA_EVIDENCE_MAX);
        cvma_evidence_free(ev);
        free(t);
        t = one_part_bundle(cases[i].kind, cases[i].role, CVMA_EVIDENCE_MAX + 1);
        char want[64];
        snprintf(want, sizeof want, "part 0 (%s", cases[i].role);
        expect_usage(t, want);
        expect_usage(t, "1048577 bytes, over the 1048576");
        free(t);
    }
}

/* docs/bundle.md: an evidence or TPM part has no "name"; a member of any JSON type is one
 * (json_string_value of a number or object is NULL, which once let it through). */
static void test_library_bundle_name_of_any_type_is_refused_on_evidence_and_tpm_parts(void **state)
{
    (void)state;
    static const char *const names[] = {
            "{\"anything\": [1, 2, 3]}", "7", "null", "true", "[]", "\"\"", "\"x\""};
    char t[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(t, sizeof t,
                 "{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"name\": %s, "
                 "\"data\": \"AgAAAA==\"}]}",
                 names[i]);
        expect_usage(t, "part 0: the evidence part takes no \"name\"");
        snprintf(t, sizeof t,
                 "{\"cvmattest_bundle\": 1, \"kind\": \"tpm\", \"parts\": [{\"role\": "
                 "\"tpm_quote\", \"name\": %s, \"data\": \"AgAAAA==\"}]}",
                 names[i]);
        expect_usage(t, "part 0: a tpm_quote part takes no \"name\"");
        snprintf(t, sizeof t,
                 "{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"AgAAAA==\"}, {\"role\": \"event_log\", \"name\": %s, \"data\": \"AgAAAA==\"}]}",
                 names[i]);
        expect_usage(t, "part 1: a event_log part takes no \"name\"");
    }
    expect_usage("{\"cvmattest_bundle\": 1, \"parts\": [{\"role\": \"evidence\", \"data\": "
                 "\"AgAAAA==\"}, {\"role\": \"collateral\", \"name\": 7, \"data\": \"AgAAAA==\"}]}",
                 "not a JSON value other than a string");
}

/* docs/bundle.md: only a bundle of kind tpm (or of no kind, which then is kind tpm) may have a
 * tpm_quote part instead of its evidence part. */
static void test_library_tpm_quote_stands_for_the_evidence_only_in_a_tpm_bundle(void **state)
{
    (void)state;
    static const char *const kinds[] = {"sev-snp", "tdx", "azure-snp", "azure-tdx", "svsm-vtpm"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char *t = one_part_bundle(kinds[i], "tpm_quote", 4);
        expect_usage(t, "no \"evidence\" part (only a bundle of kind tpm");
        free(t);
    }
    const char *ok[] = {"tpm", NULL};
    for (size_t i = 0; i < 2; i++) {
        struct cvma_evidence *ev = NULL;
        char err[512];
        char *t = one_part_bundle(ok[i], "tpm_quote", 4);
        assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)t, strlen(t), CVMA_INFORM_AUTO,
                                                  &ev, err, sizeof err),
                         CVMA_OK);
        /* 02 00 00 00 would be detected as an SEV-SNP report: the role says what it is */
        assert_int_equal(cvma_evidence_kind(ev), CVMA_KIND_TPM);
        assert_int_equal(cvma_evidence_bytes(ev).len, 4);
        cvma_evidence_free(ev);
        free(t);
    }
}

/* A bundle with an evidence part (ff 54 43 47 80 18: a TPMS_ATTEST's start, detected as kind
 * tpm) and a tpm_quote part; %s is the "kind" member or nothing. */
#define TWO_QUOTES                                                                               \
    "{\"cvmattest_bundle\": 1, %s\"parts\": [{\"role\": \"evidence\", \"data\": \"/1RDR4AY\"}, " \
    "{\"role\": \"tpm_quote\", \"data\": \"/1RDR4AZ\"}]}"

/* docs/bundle.md: kind tpm verifies its evidence part as the quote, so a bundle of kind tpm
 * (named, or detected from the evidence part) with a tpm_quote part besides is refused, naming
 * both parts: the tpm_quote would be neither checked nor named. The kinds that read a tpm_quote
 * beside their evidence read such bundles; a request naming kind tpm (--tee tpm) for one of them
 * contradicts the bundle's "kind" and is refused, naming both kinds. */
static void test_library_tpm_bundle_with_evidence_and_tpm_quote_is_refused(void **state)
{
    struct fx *f = *state;
    static const char *const kinds[] = {"sev-snp", "azure-snp", "azure-tdx", "svsm-vtpm"};
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    char t[512], k[64], err[512];

    snprintf(t, sizeof t, TWO_QUOTES, "\"kind\": \"tpm\", ");
    expect_usage(t, "part 0 (evidence) and part 1 (tpm_quote) each give the quote of a bundle "
                    "of kind tpm:");
    snprintf(t, sizeof t, TWO_QUOTES, "");
    expect_usage(t, "part 0 (evidence) and part 1 (tpm_quote) each give the quote of a bundle "
                    "of kind tpm (detected from the evidence part)");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        snprintf(k, sizeof k, "\"kind\": \"%s\", ", kinds[i]);
        snprintf(t, sizeof t, TWO_QUOTES, k);
        assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)t, strlen(t), CVMA_INFORM_AUTO,
                                                  &ev, err, sizeof err),
                         CVMA_OK);
        assert_int_equal(cvma_evidence_kind(ev), cvma_kind_by_name(kinds[i])->id);
        cvma_evidence_free(ev);
        ev = NULL;
    }
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, false);
    snprintf(t, sizeof t, TWO_QUOTES, "\"kind\": \"sev-snp\", ");
    assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)t, strlen(t), CVMA_INFORM_AUTO, &ev,
                                              err, sizeof err),
                     CVMA_OK);
    memset(&req, 0, sizeof req);
    req.kind = CVMA_KIND_TPM;
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_E_USAGE);
    assert_null(res);
    assert_non_null(strstr(err, "the bundle says its evidence is of kind 'sev-snp', and the "
                                "request names kind 'tpm'"));
    req.kind = CVMA_KIND_SNP; /* the bundle's own kind: verified as that */
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_string_equal(cvma_result_tee(res), "sev-snp");
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
}

/* The verification of evidence whose freshness is its REPORT_DATA, with nothing to compare it
 * with, says so: NONCE_NOT_CHECKED, info, so the status and exit code stay the same. An
 * expected value from the request or the policy leaves it out. */
static void expect_nonce_not_checked(struct cvma_verifier *v, const char *path, bool give_rd,
                                     bool want, const char *field)
{
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    char err[256];
    memset(&req, 0, sizeof req);
    req.has_report_data = give_rd; /* the simulator's REPORT_DATA: 64 zero bytes */
    assert_int_equal(cvma_evidence_from_file(path, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_int_equal(cvma_result_exit_code(res), 0);
    assert_int_equal(cvma_result_has_reason(res, "NONCE_NOT_CHECKED"), want);
    assert_int_equal(cvma_result_reason_count(res), want ? 1 : 0);
    if (want) {
        assert_string_equal(cvma_result_reason_severity(res, 0), "info");
        /* the field as its vendor names it: REPORT_DATA (AMD), REPORTDATA (Intel) */
        char want_text[64];
        snprintf(want_text, sizeof want_text, "%s was compared with no expected value", field);
        assert_ptr_equal(strstr(cvma_result_reason_detail(res, 0), want_text),
                         cvma_result_reason_detail(res, 0));
    }
    cvma_result_free(res);
    cvma_evidence_free(ev);
}

static void test_library_report_data_compared_with_nothing_is_noted(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, NULL, NULL, false);
    expect_nonce_not_checked(v, f->bundle, false, true, "REPORT_DATA");
    expect_nonce_not_checked(v, f->bundle, true, false, "REPORT_DATA");
    cvma_verifier_free(v);
    v = tu_verifier(f->root_ca, NULL, NULL, false);
    expect_nonce_not_checked(v, f->tbundle, false, true, "REPORTDATA");
    expect_nonce_not_checked(v, f->tbundle, true, false, "REPORTDATA");
    cvma_verifier_free(v);

    /* a policy's report_data is an expected value too */
    static const char pol[] = "{\"report_data\": \"00\"}";
    char *pp = tu_path(f->dir, "rd-policy.json");
    tu_write(pp, (const uint8_t *)pol, sizeof pol - 1);
    const char *roots[] = {f->ark, f->root_ca};
    struct cvma_policy_config pc = {NULL, pp};
    struct cvma_verifier_config cfg;
    char err[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 2;
    cfg.offline = true;
    cfg.policies = &pc;
    cfg.n_policies = 1;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);
    expect_nonce_not_checked(v, f->bundle, false, false, "REPORT_DATA");
    expect_nonce_not_checked(v, f->tbundle, false, false, "REPORTDATA");
    cvma_verifier_free(v);
    free(pp);
}

/* The kind detectors read headers through the reader: each kind is found at the shortest
 * length its header needs and not one byte shorter; unknown bytes are named by their shape. */
static void test_library_kind_detection_at_header_boundaries(void **state)
{
    (void)state;
    static const uint8_t snp[] = {2, 0, 0, 0};
    static const uint8_t tdx[] = {4, 0, 2, 0, 0x81, 0, 0, 0};
    static const uint8_t tpms[] = {0xff, 0x54, 0x43, 0x47, 0x80, 0x18};
    static const uint8_t tpm2b[] = {0x00, 0x10, 0xff, 0x54, 0x43, 0x47, 0x80, 0x18};
    static const uint8_t der[] = {0x30, 0x82, 0x01, 0x00, 0x30, 0x82, 0x00, 0x10};
    static const uint8_t sgx[] = {3, 0, 2, 0, 0, 0, 0, 0};
    static const char crl[] = " \r\n\t-----BEGIN X509 CRL-----";
    char why[512];

    assert_ptr_equal(cvma_kind_detect(snp, sizeof snp), &cvma_kind_snp);
    assert_null(cvma_kind_detect(snp, sizeof snp - 1));
    assert_ptr_equal(cvma_kind_detect(tdx, sizeof tdx), &cvma_kind_tdx);
    assert_null(cvma_kind_detect(tdx, sizeof tdx - 1));
    assert_ptr_equal(cvma_kind_detect(tpms, sizeof tpms), &cvma_kind_tpm);
    assert_null(cvma_kind_detect(tpms, sizeof tpms - 1));
    assert_ptr_equal(cvma_kind_detect(tpm2b, sizeof tpm2b), &cvma_kind_tpm);
    assert_null(cvma_kind_detect(tpm2b, sizeof tpm2b - 1));

    cvma_kind_explain_unknown(der, sizeof der, why, sizeof why);
    assert_non_null(strstr(why, "DER X.509"));
    cvma_kind_explain_unknown(der, sizeof der - 1, why, sizeof why);
    assert_non_null(strstr(why, "7 bytes that are neither"));
    cvma_kind_explain_unknown(sgx, sizeof sgx, why, sizeof why);
    assert_non_null(strstr(why, "SGX quote (version 3"));
    cvma_kind_explain_unknown(sgx, sizeof sgx - 1, why, sizeof why);
    assert_non_null(strstr(why, "neither"));
    cvma_kind_explain_unknown((const uint8_t *)crl, strlen(crl), why, sizeof why);
    assert_non_null(strstr(why, "CRL (PEM)"));
    cvma_kind_explain_unknown((const uint8_t *)crl, 14, why, sizeof why); /* "-----BEGIN" */
    assert_non_null(strstr(why, "PEM file"));
    cvma_kind_explain_unknown((const uint8_t *)crl, 13, why, sizeof why); /* "-----BEGI" */
    assert_non_null(strstr(why, "neither"));

    /* An unknown version is named only where the rest is the kind's: SEV-SNP exactly 0x4A0
     * bytes with signature algorithm 1 and zeros above R and S and after them; a quote header
     * with key type 2, TEE type 0x81 and Intel's QE vendor ID (up to 0x1C). */
    static uint8_t rep[0x4A0];
    memset(rep, 0, sizeof rep);
    rep[0] = 6;
    rep[0x34] = 1;
    memset(rep + 0x2A0, 0x11, 48);
    memset(rep + 0x2E8, 0x22, 48);
    assert_null(cvma_kind_detect(rep, sizeof rep));
    assert_int_equal(cvma_kind_explain_unknown(rep, sizeof rep, why, sizeof why),
                     CVMA_R_PARSE_UNKNOWN_VERSION);
    assert_non_null(strstr(why, "version 6 (known: 2, 3, 4, 5)"));
    assert_int_equal(cvma_kind_explain_unknown(rep, sizeof rep - 1, why, sizeof why),
                     CVMA_R_PARSE_UNKNOWN_FORMAT);
    static const size_t snp_landmarks[] = {0x00, 0x34, 0x2D0, 0x2E7, 0x318, 0x32F, 0x330, 0x49F};
    for (size_t i = 0; i < sizeof snp_landmarks / sizeof snp_landmarks[0]; i++) {
        uint8_t keep = rep[snp_landmarks[i]];
        rep[snp_landmarks[i]] = snp_landmarks[i] == 0 ? 3 : (uint8_t)(keep ^ 2); /* 3: known */
        assert_int_equal(cvma_kind_explain_unknown(rep, sizeof rep, why, sizeof why),
                         CVMA_R_PARSE_UNKNOWN_FORMAT);
        rep[snp_landmarks[i]] = keep;
    }
    static uint8_t hdr[0x1C] = {6,    0,    2,    0,    0x81, 0,    0,    0,    0,    0,
                                0,    0,    0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};
    assert_int_equal(cvma_kind_explain_unknown(hdr, sizeof hdr, why, sizeof why),
                     CVMA_R_PARSE_UNKNOWN_VERSION);
    assert_non_null(strstr(why, "version 6 at 0x00 (known: 4, 5)"));
    assert_int_equal(cvma_kind_explain_unknown(hdr, sizeof hdr - 1, why, sizeof why),
                     CVMA_R_PARSE_UNKNOWN_FORMAT);
    static const size_t tdx_landmarks[] = {0x02, 0x04, 0x0C, 0x1B};
    for (size_t i = 0; i < sizeof tdx_landmarks / sizeof tdx_landmarks[0]; i++) {
        hdr[tdx_landmarks[i]] ^= 1;
        assert_int_equal(cvma_kind_explain_unknown(hdr, sizeof hdr, why, sizeof why),
                         CVMA_R_PARSE_UNKNOWN_FORMAT);
        hdr[tdx_landmarks[i]] ^= 1;
    }
    hdr[0] = 3; /* version 3 is SGX whatever the rest says */
    assert_int_equal(cvma_kind_explain_unknown(hdr, sizeof hdr, why, sizeof why),
                     CVMA_R_PARSE_UNKNOWN_FORMAT);
    assert_non_null(strstr(why, "SGX"));
}

/* A verification leaves the thread's OpenSSL error queue empty, whatever the evidence made
 * OpenSSL report (a VCEK or CRL that does not parse queues DER errors): a caller's next
 * SSL_get_error must not read them as its own. */
static void test_library_verify_leaves_no_openssl_errors(void **state)
{
    struct fx *f = *state;
    char *tmp = tu_tmpdir();
    const char *names[] = {"ark.pem", "ask.pem", "cert_chain.pem", "crl.der", "vcek.der"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *from = tu_path(f->dir, names[i]), *to = tu_path(tmp, names[i]);
        tu_copy(from, to);
        free(from);
        free(to);
    }
    for (int which = 0; which < 2; which++) {
        /* the VCEK cut short, then (the VCEK whole again) the CRL */
        const char *name = which == 0 ? "vcek.der" : "crl.der";
        char *good = tu_path(f->dir, name), *cut = tu_path(tmp, name);
        struct cvma_buf b;
        tu_read(good, &b);
        tu_write(cut, b.p, 100);
        ERR_clear_error();
        struct cvma_verifier *v = tu_verifier(f->ark, tmp, NULL, true);
        struct cvma_result *res = tu_verify_path(v, f->report);
        assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
        assert_int_equal(ERR_peek_error(), 0);
        cvma_result_free(res);
        cvma_verifier_free(v);
        tu_write(cut, b.p, b.len);
        cvma_buf_free(&b);
        free(good);
        free(cut);
    }
    tu_rmtree(tmp);
    free(tmp);
}

/* The queue is empty when cvma_verify returns even where nothing in the verification clears
 * it: a warm verifier takes the chain and the collateral from its caches, and what was queued
 * before the call (here by the caller) is still queued at the end unless cvma_verify itself
 * clears it. The loaders' own clearing (next test) is not enough for its contract. */
static void test_library_verify_from_caches_leaves_no_openssl_errors(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = tu_verifier(f->ark, f->dir, NULL, false);
    for (int round = 0; round < 2; round++) { /* the first fills the caches */
        ERR_clear_error();
        ERR_raise(ERR_LIB_USER, 1);
        struct cvma_result *res = tu_verify_path(v, f->report);
        assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
        assert_int_equal(ERR_peek_error(), 0);
        cvma_result_free(res);
    }
    cvma_verifier_free(v);
}

/* A certificate or CRL the loaders refuse (crypto/crypto.h: DER cut short, PEM whose body is
 * not one) leaves nothing queued, whoever called them: cvma_verify clears the queue as it
 * returns, but cvma_verifier_new, refusing a trust root, does not, and neither would any
 * other caller. */
static void test_library_refused_certificate_or_crl_leaves_no_openssl_errors(void **state)
{
    struct fx *f = *state;
    static const char bad_cert[] =
            "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n";
    static const char bad_crl[] = "-----BEGIN X509 CRL-----\nMIIBAAAA\n-----END X509 CRL-----\n";
    char *vcek = tu_path(f->dir, "vcek.der"), *crl = tu_path(f->dir, "crl.der");
    struct cvma_buf cert_der, crl_der;
    tu_read(vcek, &cert_der);
    tu_read(crl, &crl_der);
    ERR_clear_error();
    assert_null(cvma_x509_load(cert_der.p, 100));
    assert_int_equal(ERR_peek_error(), 0);
    assert_null(cvma_x509_load((const uint8_t *)bad_cert, strlen(bad_cert)));
    assert_int_equal(ERR_peek_error(), 0);
    assert_null(cvma_crl_load(crl_der.p, 100));
    assert_int_equal(ERR_peek_error(), 0);
    assert_null(cvma_crl_load((const uint8_t *)bad_crl, strlen(bad_crl)));
    assert_int_equal(ERR_peek_error(), 0);
    /* through the API: a trust root cut short */
    char *tmp = tu_tmpdir(), *root = tu_path(tmp, "root.der");
    const char *roots[] = {root};
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    char err[256];
    tu_write(root, cert_der.p, 100);
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.offline = true;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_null(v);
    assert_int_equal(ERR_peek_error(), 0);
    tu_rmtree(tmp);
    free(tmp);
    free(root);
    cvma_buf_free(&cert_der);
    cvma_buf_free(&crl_der);
    free(vcek);
    free(crl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_library_bundle_verifies_with_its_own_collateral),
            cmocka_unit_test(
                    test_library_one_evidence_verified_many_times_uses_prepared_collateral),
            cmocka_unit_test(test_library_tdx_bundle_items_never_replace_the_verifiers_own),
            cmocka_unit_test(test_library_bundle_without_collateral_is_undecided_offline),
            cmocka_unit_test(test_library_hex_and_base64_text_are_decoded),
            cmocka_unit_test(test_library_malformed_bundles_and_inputs_are_usage_errors),
            cmocka_unit_test(test_library_0x_prefix_is_for_hex_only),
            cmocka_unit_test(test_library_certificate_and_sgx_quote_are_named),
            cmocka_unit_test(test_library_unknown_versions_are_named),
            cmocka_unit_test(test_library_configuration_errors_are_named),
            cmocka_unit_test(
                    test_library_request_and_evidence_values_out_of_range_are_usage_errors),
            cmocka_unit_test(
                    test_library_result_json_is_freed_with_free_under_other_jansson_allocators),
            cmocka_unit_test(test_library_unknown_policy_name_is_a_usage_error),
            cmocka_unit_test(test_library_no_default_policy_refuses_a_request_naming_none),
            cmocka_unit_test(test_library_cold_verifier_gives_the_same_answer),
            cmocka_unit_test(test_library_version_is_the_headers),
            cmocka_unit_test(test_library_bundle_part_the_kind_does_not_verify_is_named),
            cmocka_unit_test(test_library_collateral_parts_not_read_are_named),
            cmocka_unit_test(test_library_add_collateral_dir_never_skips_a_file_it_cannot_read),
            cmocka_unit_test(test_library_previous_result_not_json_is_said_once),
            cmocka_unit_test(test_library_input_over_the_bundle_limit_is_refused_at_once),
            cmocka_unit_test(test_library_nonce_for_evidence_without_a_quote_is_refused),
            cmocka_unit_test(
                    test_library_snp_product_for_evidence_without_an_snp_report_is_refused),
            cmocka_unit_test(test_library_kind_detection_at_header_boundaries),
            cmocka_unit_test(test_library_verify_leaves_no_openssl_errors),
            cmocka_unit_test(test_library_verify_from_caches_leaves_no_openssl_errors),
            cmocka_unit_test(test_library_refused_certificate_or_crl_leaves_no_openssl_errors),
            cmocka_unit_test(test_library_bundle_evidence_part_over_1_mib_is_a_usage_error),
            cmocka_unit_test(
                    test_library_bundle_name_of_any_type_is_refused_on_evidence_and_tpm_parts),
            cmocka_unit_test(test_library_tpm_quote_stands_for_the_evidence_only_in_a_tpm_bundle),
            cmocka_unit_test(test_library_tpm_bundle_with_evidence_and_tpm_quote_is_refused),
            cmocka_unit_test(test_library_report_data_compared_with_nothing_is_noted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
