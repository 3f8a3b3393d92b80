/*
 * The JSON text writers (cvma_result_write, the SEV-SNP and TDX claims' write) against golden
 * text: tests/unit/data/claims_text.golden holds, a line each, what the jansson-built objects
 * of the version before the writers (commit ed4c501, json_dumps with JSON_COMPACT) gave for
 * the fixtures of tu_fixtures.h: SEV-SNP reports of versions 2 to 5, a TDX 1.5 quote with its
 * PCK extension and a v4 quote without, and a result of each kind with reasons (quotes,
 * escapes, a control character), claims and a bound platform with labels. Byte for byte:
 * member order, escaping and the optional members.
 */
#include <cvmattest/cvmattest.h>
#include <stdio.h>

#include "testutil.h"
#include "tu_fixtures.h"

/* The golden line named name (malloc'd, without the name and the newline). */
static char *golden(const char *name)
{
    const char *src = getenv("CVMATTEST_SRC");
    if (src == NULL) {
        fail_msg("CVMATTEST_SRC (the source tree) is not set: run it under ctest");
    }
    char *path = tu_path(src, "tests/unit/data/claims_text.golden");
    struct cvma_buf b = {0};
    tu_read(path, &b);
    free(path);
    char *found = NULL;
    size_t nl = strlen(name);
    for (size_t i = 0; i < b.len && found == NULL;) {
        const uint8_t *end = memchr(b.p + i, '\n', b.len - i);
        size_t len = end != NULL ? (size_t)(end - (b.p + i)) : b.len - i;
        if (len > nl && memcmp(b.p + i, name, nl) == 0 && b.p[i + nl] == ' ') {
            found = tu_strndup((const char *)b.p + i + nl + 1, len - nl - 1);
        }
        i += len + 1;
    }
    cvma_buf_free(&b);
    assert_non_null(found);
    return found;
}

/* The golden line name: what jansson's json_dumps writes of j (consumed; the kinds' claims
 * trees, parsed from their writers' text), or text itself when j is NULL. */
static void expect(const char *name, json_t *j, const char *text)
{
    char *want = golden(name);
    char *got = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    assert_non_null(j != NULL ? got : text);
    assert_string_equal(j != NULL ? got : text, want);
    free(got);
    free(want);
    json_decref(j);
}

static void test_snp_report(void **state)
{
    (void)state;
    for (uint32_t v = 2; v <= 5; v++) {
        struct cvma_snp_report r;
        char n[16];
        fx_snp(&r, v);
        snprintf(n, sizeof n, "snp%u", v);
        expect(n, cvma_snp_report_json(&r, r.product), NULL);
    }
}

static void test_tdx_quote(void **state)
{
    (void)state;
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    struct cvma_pck_ext pck;
    assert_non_null(q);
    fx_tdx(q, &pck);
    expect("tdx", cvma_tdx_quote_json(q, &pck), NULL);
    q->version = 4;
    q->body.is_v15 = false;
    expect("tdx4", cvma_tdx_quote_json(q, NULL), NULL);
    free(q);
}

/* The result's text as the service writes it (cvma_result_write), and the library's compact
 * JSON (the same text). */
static void test_results(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        struct cvma_result res;
        struct cvma_strbuf b = {0};
        fx_result(&res, t == 1);
        assert_true(cvma_result_write(&b, &res, NULL, NULL, 0));
        expect(t == 1 ? "result_tdx" : "result_snp", NULL, b.p);
        char *api = cvma_result_json(&res, false); /* the library's compact JSON: the same */
        assert_non_null(api);
        assert_string_equal(api, b.p);
        free(api);
        free(b.p);
        cvma_result_cleanup(&res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_snp_report),
            cmocka_unit_test(test_tdx_quote),
            cmocka_unit_test(test_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
