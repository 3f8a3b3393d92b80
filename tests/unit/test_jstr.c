/*
 * JSON string contents (common/jstr.h): each escape, surrogate pairs, \u0000, every truncated
 * escape and text that is not UTF-8, decoded or refused; each case beside what jansson (the
 * rules it keeps) says of the same string.
 */
#include <jansson.h>

#include "common/jstr.h"
#include "testutil.h"

/* jansson's answer for the string whose inside is s[0..n): its text, or NULL when refused. */
static json_t *jansson_string(const uint8_t *s, size_t n)
{
    char *text = malloc(n + 2);
    assert_non_null(text);
    text[0] = '"';
    memcpy(text + 1, s, n);
    text[n + 1] = '"';
    json_error_t je;
    json_t *j = json_loadb(text, n + 2, JSON_DECODE_ANY, &je);
    free(text);
    if (j != NULL) {
        assert_true(json_is_string(j));
    }
    return j;
}

/* Decodes s[0..n) with and without an output; both agree with each other and with jansson.
 * The decoded text, or false when refused. */
static bool decode_n(const uint8_t *s, size_t n, char *out, size_t out_cap, size_t *out_len)
{
    char *d = malloc(n + 1);
    size_t len = 99, check_len = 99;
    assert_non_null(d);
    bool ok = cvma_jstr_decode(s, n, d, &len);
    assert_int_equal(cvma_jstr_decode(s, n, NULL, &check_len), ok);
    assert_int_equal(check_len, len);
    json_t *j = jansson_string(s, n);
    assert_int_equal(j != NULL, ok);
    if (ok) {
        assert_int_equal(d[len], '\0');
        assert_int_equal(json_string_length(j), len);
        assert_memory_equal(json_string_value(j), d, len);
        assert_true(len < out_cap);
        memcpy(out, d, len + 1);
        *out_len = len;
    } else {
        assert_int_equal(len, 0);
    }
    json_decref(j);
    free(d);
    return ok;
}

static bool decode(const char *s, char *out, size_t *out_len)
{
    return decode_n((const uint8_t *)s, strlen(s), out, 64, out_len);
}

static void expect(const char *s, const char *want, size_t want_len)
{
    char out[64];
    size_t len = 0;
    assert_true(decode(s, out, &len));
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, want_len);
}

static void refuse(const char *s)
{
    char out[64];
    size_t len = 99;
    assert_false(decode(s, out, &len));
}

static void test_jstr_decodes_each_escape(void **state)
{
    (void)state;
    expect("", "", 0);
    expect("plain text", "plain text", 10);
    expect("\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t", 8);
    expect("\\u0041\\u007f\\u0080", "A\x7f\xc2\x80", 4);
    expect("\\u00e9\\u00E9\\u07ff\\u0800\\u20ac\\uffff",
           "\xc3\xa9\xc3\xa9\xdf\xbf\xe0\xa0\x80\xe2\x82\xac\xef\xbf\xbf", 15);
    /* Raw UTF-8 and DEL are copied as they are. */
    expect("\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92", "\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92",
           10);

    unsigned unit = 7;
    assert_int_equal(cvma_jstr_escape((const uint8_t *)"\\t", 2, &unit), 2);
    assert_int_equal(unit, '\t');
    assert_int_equal(cvma_jstr_escape((const uint8_t *)"\\uD83Dx", 7, &unit), 6);
    assert_int_equal(unit, 0xD83D); /* a lone surrogate: the caller's to refuse */
    assert_int_equal(cvma_jstr_escape((const uint8_t *)"\\u0000", 6, &unit), 6);
    assert_int_equal(unit, 0);
    assert_int_equal(cvma_jstr_escape((const uint8_t *)"ab", 2, &unit), 0);
    assert_int_equal(unit, 0);
}

static void test_jstr_decodes_surrogate_pairs(void **state)
{
    (void)state;
    expect("\\ud83d\\udd12", "\xf0\x9f\x94\x92", 4);
    expect("\\uD800\\uDC00", "\xf0\x90\x80\x80", 4);
    expect("\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf", 4);
    expect("a\\ud83d\\udd12b\\ud83d\\udd12",
           "a\xf0\x9f\x94\x92"
           "b\xf0\x9f\x94\x92",
           10);
}

static void test_jstr_refuses_nul(void **state)
{
    (void)state;
    refuse("\\u0000");
    refuse("abc\\u0000def");
    refuse("\\ud83d\\u0000");
    const uint8_t raw[] = {'a', 0, 'b'};
    char out[64];
    size_t len;
    assert_false(decode_n(raw, sizeof raw, out, sizeof out, &len));
    expect("\\u0001", "\x01", 1); /* only the NUL */
}

static void test_jstr_refuses_lone_and_reversed_surrogates(void **state)
{
    (void)state;
    refuse("\\ud83d");
    refuse("\\ud83dx");
    refuse("\\ud83d\\n");
    refuse("\\ud83d\\u0041");
    refuse("\\ud83d\\ud83d\\udd12");
    refuse("\\udd12");
    refuse("\\udd12\\ud83d");
    refuse("\\uDFFF");
    refuse("\\uDBFF\\uE000");
    refuse("\\ud83d\xed\xb4\x92"); /* the low half raw: not UTF-8 */
}

/* Every escape cut short at every length, at the end of the text and before more text. */
static void test_jstr_refuses_truncated_escapes_at_every_length(void **state)
{
    (void)state;
    static const char *const whole[] = {"\\n", "\\\"", "\\u00e9", "\\u0041", "\\ud83d\\udd12"};
    char s[32];
    for (size_t w = 0; w < sizeof whole / sizeof whole[0]; w++) {
        size_t n = strlen(whole[w]);
        char out[64];
        size_t len;
        assert_true(decode(whole[w], out, &len));
        for (size_t cut = 1; cut < n; cut++) {
            unsigned unit = 7;
            assert_false(decode_n((const uint8_t *)whole[w], cut, out, sizeof out, &len));
            if (cut < 6) {
                assert_int_equal(cvma_jstr_escape((const uint8_t *)whole[w], cut, &unit), 0);
                assert_int_equal(unit, 0);
            }
            snprintf(s, sizeof s, "%.*sz", (int)cut, whole[w]); /* then a letter */
            refuse(s);
            if (cut > 1) { /* (a backslash and a quote are the escape \") */
                snprintf(s, sizeof s, "%.*s\"", (int)cut, whole[w]);
                refuse(s);
            }
        }
    }
    refuse("\\");
    refuse("\\z");
    refuse("\\a");
    refuse("\\'");
    refuse("\\0");
    refuse("\\U0041");
    refuse("\\u00g0");
    refuse("\\u 041");
}

static void test_jstr_refuses_invalid_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
            "\x80",             /* a continuation byte first */
            "\xc3",             /* cut short at the end */
            "\xe2\x82",         /* the same */
            "\xf0\x9f\x94",     /* the same */
            "\xc3(",            /* a continuation byte missing */
            "\xc0\x80",         /* overlong NUL */
            "\xc1\xbf",         /* overlong */
            "\xe0\x80\x80",     /* overlong */
            "\xf0\x80\x80\x80", /* overlong */
            "\xed\xa0\x80",     /* a surrogate, U+D800 */
            "\xed\xbf\xbf",     /* U+DFFF */
            "\xf4\x90\x80\x80", /* above U+10FFFF */
            "\xf5\x80\x80\x80", /* no such lead byte */
            "\xff",
            "abcdefgh\xc3", /* after an eight-byte run */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        refuse(bad[i]);
    }
    expect("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", 4); /* U+10FFFF */
    expect("\xee\x80\x80", "\xee\x80\x80", 3);         /* U+E000 */
}

static void test_jstr_refuses_control_characters_and_quotes(void **state)
{
    (void)state;
    refuse("\x01");
    refuse("a\tb");
    refuse("a\nb");
    refuse("\x1f");
    refuse("a\"b");
    refuse("\"");
}

/* One escape, UTF-8 character or refused byte at each place around the eight-byte runs. */
static void test_jstr_decodes_around_plain_runs(void **state)
{
    (void)state;
    static const char *const odd[] = {"\\\"", "\\u00e9", "\\ud83d\\udd12", "\xc3\xa9", "\x01",
                                      "\xff", "\"",      "\\u0000"};
    char s[96], out[64];
    size_t len;
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (int at = 0; at < 20; at++) {
            snprintf(s, sizeof s, "%.*s%s%.*s", at, "abcdefghijklmnopqrstu", odd[i], 19 - at,
                     "ABCDEFGHIJKLMNOPQRSTU");
            (void)decode(s, out, &len); /* decode_n holds it to jansson */
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_jstr_decodes_each_escape),
            cmocka_unit_test(test_jstr_decodes_surrogate_pairs),
            cmocka_unit_test(test_jstr_refuses_nul),
            cmocka_unit_test(test_jstr_refuses_lone_and_reversed_surrogates),
            cmocka_unit_test(test_jstr_refuses_truncated_escapes_at_every_length),
            cmocka_unit_test(test_jstr_refuses_invalid_utf8),
            cmocka_unit_test(test_jstr_refuses_control_characters_and_quotes),
            cmocka_unit_test(test_jstr_decodes_around_plain_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
