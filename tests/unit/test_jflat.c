/*
 * The flat request reader (common/jflat.h): what it accepts and decodes, and each refusal
 * with its class, beside what jansson (the rules it keeps) says of the same text.
 */
#include <jansson.h>

#include "common/jflat.h"
#include "testutil.h"

static struct cvma_jflat_field f[] = {
        {"evidence", NULL, 0}, {"nonce", NULL, 0}, {"policy", NULL, 0}, {"public_key", NULL, 0}};
#define NF (sizeof f / sizeof f[0])

static enum cvma_jflat_result parse(const char *text, char *what, size_t what_len)
{
    return cvma_jflat_parse((const uint8_t *)text, strlen(text), f, NF, what, what_len);
}

static void test_accepts(void **state)
{
    (void)state;
    char what[80];
    assert_int_equal(
            parse(" {\"evidence\" : \"QUJD\",\n\"nonce\":\"n-_\"} \r\n", what, sizeof what),
            CVMA_JFLAT_OK);
    assert_string_equal(f[0].value, "QUJD");
    assert_int_equal(f[0].len, 4);
    assert_string_equal(f[1].value, "n-_");
    assert_null(f[2].value);
    assert_null(f[3].value);
    cvma_jflat_free(f, NF);

    /* Escapes, a surrogate pair, raw UTF-8, an escaped name. */
    assert_int_equal(parse("{\"p\\u006flicy\":\"\\/\\b\\f\\n\\r\\t\\\"\\\\ \\u00e9\\ud83d\\udd12 "
                           "\xc3\xa9\xf0\x9f\x94\x92\"}",
                           what, sizeof what),
                     CVMA_JFLAT_OK);
    assert_string_equal(f[2].value,
                        "/\b\f\n\r\t\"\\ \xc3\xa9\xf0\x9f\x94\x92 \xc3\xa9\xf0\x9f\x94\x92");
    cvma_jflat_free(f, NF);

    assert_int_equal(parse("{}", what, sizeof what), CVMA_JFLAT_OK);
    assert_null(f[0].value);
}

/* A string with one escape, one UTF-8 character or one refused byte at each place around
 * the reader's eight-byte words: decoded (or refused) as jansson does. */
static void test_runs(void **state)
{
    (void)state;
    static const char *const odd[] = {"\\\"",         "\\\\", "\\n",  "\\u00e9", "\xc3\xa9",
                                      "\xe2\x82\xac", "\x01", "\xff", "\"",      ""};
    char text[96], what[80];
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (size_t at = 0; at < 20; at++) {
            snprintf(text, sizeof text, "{\"nonce\":\"%.*s%s%.*s\"}", (int)at,
                     "abcdefghijklmnopqrstu", odd[i], (int)(19 - at), "ABCDEFGHIJKLMNOPQRSTU");
            json_error_t je;
            json_t *ref = json_loads(text, 0, &je);
            enum cvma_jflat_result r = parse(text, what, sizeof what);
            if (ref == NULL) {
                assert_int_equal(r, CVMA_JFLAT_SYNTAX);
                continue;
            }
            assert_int_equal(r, CVMA_JFLAT_OK);
            const json_t *n = json_object_get(ref, "nonce");
            assert_int_equal(f[1].len, json_string_length(n));
            assert_memory_equal(f[1].value, json_string_value(n), f[1].len);
            cvma_jflat_free(f, NF);
            json_decref(ref);
        }
    }
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum cvma_jflat_result want;
    } cases[] = {
            {"", CVMA_JFLAT_SYNTAX},
            {"[]", CVMA_JFLAT_SYNTAX},
            {"\"evidence\"", CVMA_JFLAT_SYNTAX},
            {"{", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"a\"", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"a\",}", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"a\"} x", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"a\"}{}", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"a\",\"evidence\":\"b\"}", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"a\",\"evid\\u0065nce\":\"b\"}", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"a\tb\"}", CVMA_JFLAT_SYNTAX},    /* a raw control character */
            {"{\"evidence\":\"\\u0000\"}", CVMA_JFLAT_SYNTAX}, /* jansson: no NUL */
            {"{\"evidence\":\"\\ud800\"}", CVMA_JFLAT_SYNTAX}, /* a lone high surrogate */
            {"{\"evidence\":\"\\udc00\"}", CVMA_JFLAT_SYNTAX}, /* a lone low surrogate */
            {"{\"evidence\":\"\\ud800\\u0041\"}", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"\\x41\"}", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"\\u12g4\"}", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":\"\xc0\xaf\"}", CVMA_JFLAT_SYNTAX},     /* overlong */
            {"{\"evidence\":\"\xed\xa0\x80\"}", CVMA_JFLAT_SYNTAX}, /* a surrogate in UTF-8 */
            {"{\"evidence\":\"\xff\"}", CVMA_JFLAT_SYNTAX},
            {"{\"evidence\":5}", CVMA_JFLAT_MEMBER},
            {"{\"evidence\":null}", CVMA_JFLAT_MEMBER},
            {"{\"evidence\":\"a\",\"extra\":\"b\"}", CVMA_JFLAT_MEMBER},
            {"{\"extra\":[1,{\"a\":[true]}],\"evidence\":\"a\"}", CVMA_JFLAT_MEMBER},
            {"{\"extra\":[1,}", CVMA_JFLAT_SYNTAX}, /* a foreign member that is not JSON */
            {"{\"extra\":1} x", CVMA_JFLAT_SYNTAX},
            /* classed as jansson classes them: what this reader only skips */
            {"{\"zz\":\"a\",\"zz\":\"b\"}", CVMA_JFLAT_SYNTAX}, /* a duplicate foreign name */
            {"{\"x\":1,\"nonce\":\"a\",\"nonce\":\"b\"}", CVMA_JFLAT_SYNTAX},
            {"{\"nonce\":1,\"nonce\":\"b\"}", CVMA_JFLAT_SYNTAX},
            {"{\"x\":[\"\\ud800\"]}", CVMA_JFLAT_SYNTAX}, /* inside a foreign value */
            {"{\"x\":1e400}", CVMA_JFLAT_SYNTAX},         /* jansson: real overflow */
            {"{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"
             "]]]]]]]]]]]]]]]]]]]]}",
             CVMA_JFLAT_MEMBER}, /* deeper than the scanner's bound, JSON for jansson */
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        char what[80];
        enum cvma_jflat_result r = parse(cases[i].text, what, sizeof what);
        if (r != cases[i].want) {
            fail_msg("case %zu (%s): %d, want %d (%s)", i, cases[i].text, r, cases[i].want, what);
        }
        for (size_t k = 0; k < NF; k++) {
            assert_null(f[k].value);
        }
        /* jansson refuses the same text, or reads it but not as a flat object of ours */
        json_error_t je;
        json_t *j = json_loadb(cases[i].text, strlen(cases[i].text), JSON_REJECT_DUPLICATES, &je);
        bool object = j != NULL && json_is_object(j); /* "[]" is JSON, not an object */
        if ((cases[i].want == CVMA_JFLAT_SYNTAX) == object) {
            fail_msg("case %zu (%s): jansson %s", i, cases[i].text, j ? "reads it" : je.text);
        }
        json_decref(j);
    }
    /* The offending member is named, non-printable characters as '?'. */
    char what[80];
    assert_int_equal(parse("{\"ev\\u0001\\u00e9\":\"a\"}", what, sizeof what), CVMA_JFLAT_MEMBER);
    assert_string_equal(what, "ev???");
    assert_int_equal(parse("{\"evidence\":\"a\",}", what, sizeof what), CVMA_JFLAT_SYNTAX);
    assert_true(strncmp(what, "at byte ", 8) == 0);
    assert_int_equal(parse("{\"evidence\":\"a\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]"
                           "]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
                           what, sizeof what),
                     CVMA_JFLAT_MEMBER);
    assert_string_equal(what, "x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_accepts),
            cmocka_unit_test(test_runs),
            cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
