/*
 * The JSON checker (common/jcheck.h): its rules beside jansson's on the edges (nesting, number
 * ranges, duplicates at depth), and what reading untrusted JSON costs. A refused request body
 * (common/jflat.h) and JSON evidence (a bundle, Azure's JSON evidence) of a megabyte of small
 * values once cost some 80 MB each, jansson's tree; the peak of the heap is measured here with
 * malloc, calloc, realloc and free defined in this executable (they win over the C library's),
 * so builds with a sanitizer, which keep their own allocator, skip those tests.
 */
#include <malloc.h>

#include <jansson.h>

#include "azure/azure.h"
#include "common/jcheck.h"
#include "common/jflat.h"
#include "common/json_out.h"
#include "common/verdict.h"
#include "cvmattest/cvmattest.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PEAK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
        __has_feature(memory_sanitizer)
#define PEAK_SANITIZED 1
#endif
#endif

#ifndef PEAK_SANITIZED
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

/* Bytes live on the heap and their highest mark since peak_reset. One thread only. */
static size_t live, peak;

static void *counted(void *p)
{
    if (p != NULL) {
        live += malloc_usable_size(p);
        peak = live > peak ? live : peak;
    }
    return p;
}

void *malloc(size_t n)
{
    return counted(__libc_malloc(n));
}

void *calloc(size_t k, size_t n)
{
    return counted(__libc_calloc(k, n));
}

void *realloc(void *p, size_t n)
{
    size_t old = p != NULL ? malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (q != NULL || n == 0) {
        live -= old;
    }
    return counted(q);
}

void free(void *p)
{
    if (p != NULL) {
        live -= malloc_usable_size(p);
    }
    __libc_free(p);
}

static void peak_reset(void)
{
    peak = live;
}

/* Bytes allocated at the peak beyond what was live at peak_reset. */
static size_t peak_since(size_t base)
{
    return peak - base;
}
#endif

static enum cvma_jcheck_result check(const char *text, size_t max)
{
    struct cvma_jcheck c = {.max_values = max};
    return cvma_jcheck((const uint8_t *)text, strlen(text), &c);
}

/* The checker and jansson agree on text. */
static void same_as_jansson(const char *text, size_t len)
{
    struct cvma_jcheck c = {0};
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    enum cvma_jcheck_result r = cvma_jcheck((const uint8_t *)text, len, &c);
    if ((r == CVMA_JCHECK_OK) != (j != NULL)) {
        fail_msg("checker %d (%s), jansson %s, on %.80s", (int)r, c.text,
                 j != NULL ? "accepts" : je.text, text);
    }
    json_decref(j);
}

static void test_jcheck_rules_match_jansson(void **state)
{
    (void)state;
    static const char *const texts[] = {"{}",
                                        " [ ] ",
                                        "1",
                                        "\"a\"",
                                        "[1,]",
                                        "[01]",
                                        "[-0]",
                                        "[-]",
                                        "[1.]",
                                        "[1.e5]",
                                        "[1e+]",
                                        "[9223372036854775807]",
                                        "[9223372036854775808]",
                                        "[-9223372036854775808]",
                                        "[-9223372036854775809]",
                                        "[12345678901234567890]",
                                        "[1e308]",
                                        "[1e309]",
                                        "[-1e309]",
                                        "[1e-400]",
                                        "[tru]",
                                        "[truex]",
                                        "[True]",
                                        "[null,false,true]",
                                        "{\"a\":1,\"a\":2}",
                                        "{\"a\":1,\"\\u0061\":2}",
                                        "{\"a\":{\"a\":1},\"b\":{\"a\":1}}",
                                        "{\"a\":[{\"b\":1,\"c\":{\"b\":1}},{\"b\":2}]}",
                                        "{\"a\":{\"b\":1,\"b\":1}}",
                                        "[{\"x\":1,\"y\":[{\"x\":2}],\"x\":3}]",
                                        "[\"\\u0000\"]",
                                        "{\"\\u0000\":1}",
                                        "[\"\\ud800\"]",
                                        "[\"\\udc00\\ud800\"]",
                                        "[\"\\ud800\\udc00\"]",
                                        "[\"\\ud800\\u0041\"]",
                                        "[\"\t\"]",
                                        "[1] x",
                                        "[1]\n",
                                        "{\"a\" 1}",
                                        "{\"a\":1,}",
                                        "[\"\xc3\xa9\"]",
                                        "[\"\xc3\"]",
                                        "[\"\xed\xa0\x80\"]",
                                        "[\"\xf4\x90\x80\x80\"]",
                                        "\xef\xbb\xbf[]",
                                        "[1true]",
                                        "[true1]",
                                        "[1e99999999999999999999]",
                                        "{\"x\":1}{",
                                        "[",
                                        "{\"a\"",
                                        "[\"abc",
                                        ""};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        same_as_jansson(texts[i], strlen(texts[i]));
    }
    same_as_jansson("[\"a\0b\"]", 7);
    same_as_jansson("[1]\0", 4);
    /* jansson skips one NUL byte straight after a number or a literal (and only there) */
    same_as_jansson("{\"0e\":9\0}", 9);
    same_as_jansson("[true\0,-1.5e3\0]", 17);
    same_as_jansson("[1\0\0]", 5);
    same_as_jansson("[\"a\"\0]", 6);
    same_as_jansson("[1,\0 2]", 7);
}

/* A string refused for a bad escape is reported where the scanner stopped: after the byte
 * that follows the backslash (at the end when there is none); for what only jansson refuses
 * (\u0000, a lone surrogate, bytes that are not UTF-8), after the closing quote. */
static void test_jcheck_reports_where_a_string_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t position;
    } cases[] = {
            {"[\"ab\\q\"]", 6},      {"[\"ab\\u12\"]", 6}, {"[\"ab\\u12", 6},
            {"[\"ab\\u", 6},         {"[\"ab\\", 5},       {"[\"ab\\ug000\"]", 6},
            {"[\"ab\\u0000\"]", 11}, {"[\"\\ud800\"]", 9}, {"[\"\\ud800\\n\"]", 11},
            {"[\"\xc3(\"]", 5},      {"[\"a\x01\"]", 4},   {"{\"\\x\":1}", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cvma_jcheck c = {0};
        assert_int_equal(cvma_jcheck((const uint8_t *)cases[i].text, strlen(cases[i].text), &c),
                         CVMA_JCHECK_SYNTAX);
        if (c.position != cases[i].position) {
            fail_msg("%s: at %zu, want %zu", cases[i].text, c.position, cases[i].position);
        }
        assert_string_equal(c.text, "invalid string");
    }
}

/* A member given twice is named (decoded; a byte that is not printable ASCII, a quote or a
 * backslash shown as '?'; a long name cut with "..."), nested or not. */
static void test_jcheck_names_a_duplicate_member(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
            {"{\"keys\": [], \"keys\": []}", "duplicate object key \"keys\""},
            {"{\"a\": {\"secure-boot\": 1, \"secure-\\u0062oot\": 2}}",
             "duplicate object key \"secure-boot\""},
            {"{\"a\\\"\\n\\u00e9\": 1, \"a\\\"\\n\\u00e9\": 1}", "duplicate object key \"a????\""},
            {"{\"0123456789012345678901234567890123456789012345678901\": 1, "
             "\"0123456789012345678901234567890123456789012345678901\": 1}",
             "duplicate object key \"01234567890123456789012345678901234567890123456...\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cvma_jcheck c = {0};
        assert_int_equal(cvma_jcheck((const uint8_t *)cases[i][0], strlen(cases[i][0]), &c),
                         CVMA_JCHECK_SYNTAX);
        assert_string_equal(c.text, cases[i][1]);
    }
}

/* jansson counts the depth of every value, a scalar's too: 2048 arrays hold no number. */
static void test_jcheck_depth_is_jansson_s(void **state)
{
    (void)state;
    char *b = malloc(6 * 2050 + 8);
    assert_non_null(b);
    for (size_t d = 2046; d <= 2050; d++) {
        size_t k = 0;
        for (size_t i = 0; i < d; i++) {
            b[k++] = '[';
        }
        size_t inner = k;
        for (size_t i = 0; i < d; i++) {
            b[k++] = ']';
        }
        same_as_jansson(b, k);
        k = inner;
        b[k++] = '0';
        for (size_t i = 0; i < d; i++) {
            b[k++] = ']';
        }
        same_as_jansson(b, k);
        k = 0;
        for (size_t i = 0; i < d; i++) {
            memcpy(b + k, "{\"a\":", 5);
            k += 5;
        }
        b[k++] = '1';
        for (size_t i = 0; i < d; i++) {
            b[k++] = '}';
        }
        same_as_jansson(b, k);
    }
    free(b);
}

/* Many names (the duplicate check's table grows and shrinks) and a duplicate at the end. */
static void test_jcheck_many_names(void **state)
{
    (void)state;
    size_t cap = 4u << 20, k = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    b[k++] = '{';
    for (int i = 0; i < 50000; i++) {
        k += (size_t)snprintf(b + k, cap - k, "%s\"k%d\":{\"k%d\":%d,\"z\":[]}", i ? "," : "", i, i,
                              i);
    }
    b[k++] = '}';
    same_as_jansson(b, k);
    k--;
    k += (size_t)snprintf(b + k, cap - k, ",\"k4\\u0039\":1}");
    same_as_jansson(b, k);
    free(b);
}

static void test_jcheck_counts_values(void **state)
{
    (void)state;
    struct cvma_jcheck c = {0};
    const char *t = "{\"a\":[1,\"x\",null,{}],\"b\":{\"c\":true}}";
    assert_int_equal(cvma_jcheck((const uint8_t *)t, strlen(t), &c), CVMA_JCHECK_OK);
    assert_int_equal(c.values, 8);
    assert_int_equal(check(t, 8), CVMA_JCHECK_OK);
    assert_int_equal(check(t, 7), CVMA_JCHECK_TOO_MANY);
}

#ifndef PEAK_SANITIZED
/* n copies of item between head and tail, NUL-terminated. */
static char *repeat(const char *head, const char *item, size_t n, const char *tail, size_t *len)
{
    size_t hl = strlen(head), il = strlen(item), tl = strlen(tail);
    char *b = malloc(hl + n * (il + 1) + tl + 1);
    assert_non_null(b);
    size_t k = hl;
    memcpy(b, head, hl);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            b[k++] = ',';
        }
        memcpy(b + k, item, il);
        k += il;
    }
    memcpy(b + k, tail, tl + 1);
    *len = k + tl;
    return b;
}
#endif

/* The reviewer's body: {"evidence":[{},{},...]} of 1 MiB, refused as BAD_REQUEST (a member
 * that is not a string), costing jansson's tree (some 80 MB) until the checker classed it. */
static void test_refused_body_costs_no_tree(void **state)
{
    (void)state;
#ifdef PEAK_SANITIZED
    skip();
#else
    struct cvma_jflat_field f[] = {{"evidence", NULL, 0}, {"nonce", NULL, 0}};
    char what[80];
    size_t len;
    char *body = repeat("{\"evidence\":[", "{}", 349000, "]}", &len);
    assert_int_equal(len, 1047014);
    size_t base = live;
    peak_reset();
    assert_int_equal(cvma_jflat_parse((const uint8_t *)body, len, f, 2, what, sizeof what),
                     CVMA_JFLAT_MEMBER);
    assert_string_equal(what, "evidence");
    assert_true(peak_since(base) < (256u << 10));
    /* Refused for its syntax at the very end: no tree either. */
    body[len - 1] = ']';
    peak_reset();
    assert_int_equal(cvma_jflat_parse((const uint8_t *)body, len, f, 2, what, sizeof what),
                     CVMA_JFLAT_SYNTAX);
    assert_true(peak_since(base) < (256u << 10));
    free(body);
#endif
}

/* A bundle of 786 KB of {} (some 62 MB of jansson's tree) is refused before jansson reads it,
 * with the count. */
static void test_bundle_of_many_values_is_refused_small(void **state)
{
    (void)state;
#ifdef PEAK_SANITIZED
    skip();
#else
    size_t len;
    char *text = repeat("{\"x\":[", "{}", 262000, "]}", &len);
    struct cvma_evidence *ev = NULL;
    char err[256];
    size_t base = live;
    peak_reset();
    assert_int_equal(cvma_evidence_from_bytes((const uint8_t *)text, len, CVMA_INFORM_AUTO, &ev,
                                              err, sizeof err),
                     CVMA_E_USAGE);
    assert_null(ev);
    assert_non_null(strstr(err, "more than 4096 JSON values"));
    assert_true(peak_since(base) < (256u << 10));
    free(text);
#endif
}

/* Azure's JSON evidence may give its reports as arrays of byte values: more than its cap of
 * values is refused, before jansson reads them. */
static void test_azure_evidence_of_many_values_is_refused_small(void **state)
{
    (void)state;
#ifdef PEAK_SANITIZED
    skip();
#else
    size_t len;
    char *text = repeat("{\"hcl_report\":[", "0", 400000, "]}", &len);
    struct cvma_azure_evidence ae;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    size_t base = live;
    peak_reset();
    assert_int_equal(cvma_azure_evidence_parse((const uint8_t *)text, len, &ae, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_AZURE_EVIDENCE_MALFORMED);
    assert_true(peak_since(base) < (256u << 10));
    cvma_azure_evidence_cleanup(&ae);
    free(text);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_jcheck_rules_match_jansson),
            cmocka_unit_test(test_jcheck_reports_where_a_string_is_refused),
            cmocka_unit_test(test_jcheck_depth_is_jansson_s),
            cmocka_unit_test(test_jcheck_names_a_duplicate_member),
            cmocka_unit_test(test_jcheck_many_names),
            cmocka_unit_test(test_jcheck_counts_values),
            cmocka_unit_test(test_refused_body_costs_no_tree),
            cmocka_unit_test(test_bundle_of_many_values_is_refused_small),
            cmocka_unit_test(test_azure_evidence_of_many_values_is_refused_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
