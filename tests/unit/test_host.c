/*
 * Host readiness checks (src/host/host.h) on trees written here: a bare tree decides nothing
 * (CPUID and MSR checks unknown, never fail), an MSR file read under a tree that lacks the msr
 * module is unknown, and a present register decides.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host.h"
#include "testutil.h"

static void put(const char *root, const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + strlen(root) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static enum cvma_host_state state(const struct cvma_host_report *r, const char *id)
{
    const struct cvma_host_check *k = cvma_host_report_find(r, id);
    assert_non_null(k);
    return k->state;
}

static void test_host_empty_tree_is_unknown_not_fail(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = cvma_host_check_run(&o);
    assert_non_null(r);
    assert_false(r->snp_ready);
    assert_false(r->tdx_ready);
    assert_int_equal(state(r, "snp.cpu.vendor"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "tdx.bios.keyids"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "snp.kernel.version"), CVMA_HOST_UNKNOWN);
    assert_int_equal(state(r, "snp.firmware.dev_sev"), CVMA_HOST_FAIL);
    assert_int_equal(state(r, "tdx.attestation.pccs"), CVMA_HOST_UNKNOWN);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

static void test_host_msr_needs_the_module(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    put(dir, "cvmattest-msr/0xc0010010", "1800000\n");
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = cvma_host_check_run(&o);
    assert_non_null(r);
    /* no dev/cpu/0/msr: the module is not loaded, so the value is not trusted to be there */
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_UNKNOWN);
    assert_non_null(strstr(cvma_host_report_find(r, "snp.bios.smee")->fix_hint, "modprobe msr"));
    cvma_host_report_free(r);

    put(dir, "dev/cpu/0/msr", "");
    r = cvma_host_check_run(&o);
    assert_non_null(r);
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_PASS);
    assert_int_equal(state(r, "snp.bios.snp_en"), CVMA_HOST_PASS);
    /* RMP MSRs absent: not readable, unknown */
    assert_int_equal(state(r, "snp.bios.rmp"), CVMA_HOST_UNKNOWN);
    cvma_host_report_free(r);

    put(dir, "cvmattest-msr/0xc0010010", "800000\n");
    r = cvma_host_check_run(&o);
    assert_non_null(r);
    assert_int_equal(state(r, "snp.bios.smee"), CVMA_HOST_PASS);
    assert_int_equal(state(r, "snp.bios.snp_en"), CVMA_HOST_FAIL);
    /* groups combine: fail beats unknown */
    assert_int_equal(state(r, "snp.bios"), CVMA_HOST_FAIL);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

static void test_host_json_is_a_tree(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = cvma_host_check_run(&o);
    assert_non_null(r);
    json_t *j = cvma_host_report_json(r);
    assert_non_null(j);
    json_t *tests = json_object_get(j, "tests");
    assert_int_equal(json_array_size(tests), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tests, 0), "id")), "snp");
    assert_true(json_array_size(json_object_get(json_array_get(tests, 0), "sub")) > 0);
    json_t *sum = json_object_get(j, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "total")),
                     json_integer_value(json_object_get(sum, "passed")) +
                             json_integer_value(json_object_get(sum, "failed")) +
                             json_integer_value(json_object_get(sum, "unknown")));
    json_decref(j);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

static const struct cvma_host_check *check(const struct cvma_host_report *r, const char *id)
{
    const struct cvma_host_check *k = cvma_host_report_find(r, id);
    assert_non_null(k);
    return k;
}

/* CPUID leaf 0 of an AMD processor (EAX EBX ECX EDX: "Auth" "cAMD" "enti") */
#define CPUID0_AMD "00000010 68747541 444d4163 69746e65\n"

/* A CPUID leaf 1 that cannot be read leaves family, model and the hypervisor bit unknown: the
 * checks that need them are unknown (saying leaf 1 could not be read), never pass on zeros. A
 * leaf that cannot be read is unknown for its own checks only. */
static void test_host_cpuid_leaf1_unreadable_is_unknown(void **s)
{
    (void)s;
    char *dir = tu_tmpdir();
    put(dir, "cvmattest-cpuid/0x00000000", CPUID0_AMD);
    put(dir, "cvmattest-cpuid/0x00000001", "zz zz zz zz\n");
    put(dir, "cvmattest-cpuid/0x8000001f", "zz\n");
    put(dir, "proc/cpuinfo", "processor\t: 0\nmicrocode\t: 0xa101154\n");
    struct cvma_host_options o = {.root = dir, .pccs_url = "none"};
    struct cvma_host_report *r = cvma_host_check_run(&o);
    assert_non_null(r);
    static const char *const ids[] = {"snp.cpu.bare_metal", "snp.cpu.generation",
                                      "snp.firmware.microcode", "tdx.cpu.bare_metal",
                                      "tdx.cpu.generation"};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        const struct cvma_host_check *x = check(r, ids[k]);
        assert_int_equal(x->state, CVMA_HOST_UNKNOWN);
        assert_non_null(strstr(x->message, "CPUID leaf 0x1 could not be read"));
        assert_non_null(strstr(x->fix_hint, "cvmattest-cpuid/0x00000001"));
    }
    assert_int_equal(state(r, "snp.cpu.vendor"), CVMA_HOST_PASS);
    assert_int_equal(state(r, "snp.cpu.sev_snp"), CVMA_HOST_UNKNOWN);
    assert_non_null(strstr(check(r, "snp.cpu.sev_snp")->message, "leaf 0x8000001f"));
    /* leaf 0x8000001F is not leaf 0: the TDX vendor check still reads the vendor */
    assert_int_equal(state(r, "tdx.cpu.vendor"), CVMA_HOST_FAIL);
    cvma_host_report_free(r);
    assert_true(tu_rmtree(dir));
    free(dir);
}

/* A PCCS that refuses connections (a loopback port bound, not listening) fails the check with
 * the client's reason naming the probed URL; a URL that is not http(s) fails too. */
static void test_host_pccs_unreachable_fails(void **s)
{
    (void)s;
    char url[64], want[128];
    int port = 0;
    int fd = tu_refusing_port(&port);
    char *dir = tu_tmpdir();
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);

    struct cvma_host_options o = {.root = dir, .pccs_url = url, .pccs_timeout_s = 2};
    struct cvma_host_report *r = cvma_host_check_run(&o);
    assert_non_null(r);
    const struct cvma_host_check *k = cvma_host_report_find(r, "tdx.attestation.pccs");
    assert_non_null(k);
    assert_int_equal(k->state, CVMA_HOST_FAIL);
    snprintf(want, sizeof want, "HEAD %s/sgx/certification/v4/rootcacrl: ", url);
    assert_non_null(strstr(k->message, want));
    assert_non_null(strstr(k->message, "after 1 attempt")); /* a probe is not retried */
    assert_non_null(strstr(k->fix_hint, "--pccs-url"));
    cvma_host_report_free(r);

    o.pccs_url = "ftp://127.0.0.1";
    r = cvma_host_check_run(&o);
    assert_non_null(r);
    k = cvma_host_report_find(r, "tdx.attestation.pccs");
    assert_non_null(k);
    assert_int_equal(k->state, CVMA_HOST_FAIL);
    assert_non_null(strstr(k->message, "only http:// and https://"));
    cvma_host_report_free(r);

    close(fd);
    assert_true(tu_rmtree(dir));
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_host_empty_tree_is_unknown_not_fail),
            cmocka_unit_test(test_host_msr_needs_the_module),
            cmocka_unit_test(test_host_json_is_a_tree),
            cmocka_unit_test(test_host_pccs_unreachable_fails),
            cmocka_unit_test(test_host_cpuid_leaf1_unreadable_is_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
