/*
 * The compact JSON writer (common/json_out.h) against jansson's own json_dumps(JSON_COMPACT),
 * the independent implementation it must match byte for byte: edge values, every control
 * character, UTF-8 of each length, keys that need escapes, invalid text, depth, thousands of
 * random trees, and a verification result.
 */
#include <limits.h>

#include "common/json_out.h"
#include "testutil.h"

/* Both writers agree on j: the same text, or both refuse. */
static void same(const json_t *j)
{
    char *ref = json_dumps(j, JSON_COMPACT);
    size_t n = 123;
    char *got = cvma_json_compact(j, &n);
    if (ref == NULL) {
        assert_null(got);
        assert_int_equal(n, 0);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, ref);
    assert_int_equal(n, strlen(ref));
    free(ref);
    free(got);
}

static void test_scalars_and_escapes(void **state)
{
    (void)state;
    json_t *a = json_array();
    json_array_append_new(a, json_null());
    json_array_append_new(a, json_true());
    json_array_append_new(a, json_false());
    json_array_append_new(a, json_integer(0));
    json_array_append_new(a, json_integer(-1));
    json_array_append_new(a, json_integer(LLONG_MAX));
    json_array_append_new(a, json_integer(LLONG_MIN));
    json_array_append_new(a, json_real(1.0));
    json_array_append_new(a, json_real(-0.0));
    json_array_append_new(a, json_real(0.1));
    json_array_append_new(a, json_real(1e300));
    char all[0x21];
    for (int c = 1; c <= 0x20; c++) {
        all[c - 1] = (char)c;
    }
    all[0x20] = '\0';
    json_array_append_new(a, json_string(all));
    json_array_append_new(a, json_stringn("a\0b", 3)); /* an embedded NUL: \u0000 */
    json_array_append_new(a, json_string("\"quoted\" back\\slash /slash \x7f del"));
    json_array_append_new(a, json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92")); /* é € 🔒 */
    json_array_append_new(a, json_string(""));
    json_array_append_new(a, json_object());
    json_array_append_new(a, json_array());
    json_t *o = json_object();
    json_object_set_new(o, "k\n\"ey\"", json_string("v"));
    json_object_setn_new(o, "n\0ul", 4, json_integer(7));
    json_object_set_new(o, "\xc3\xa9t\xc3\xa9", json_pack("{s:[i,i], s:{}}", "x", 1, 2, "y"));
    json_array_append_new(a, o);
    same(a);
    same(o);
    json_decref(a);
}

static void test_refusals(void **state)
{
    (void)state;
    /* Not an object or array at the top: json_dumps' rule. */
    json_t *s = json_string("x");
    assert_null(cvma_json_compact(s, NULL));
    json_decref(s);
    assert_null(cvma_json_compact(NULL, NULL));

    /* Text that is not UTF-8 (only through the _nocheck setters): both refuse. */
    static const char *bad[] = {
            "\x80",         "\xc0\xaf",         "\xc1\xbf",         "\xe0\x80\xaf",
            "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",
            "ab\xc3",       "\xe2\x82",         "\xf0\x9f\x94"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        json_t *a = json_array();
        json_array_append_new(a, json_stringn_nocheck(bad[i], strlen(bad[i])));
        same(a);
        json_decref(a);
        /* As a key: jansson ignores the failure and writes `{":null}`, which is not JSON;
         * this writer refuses. */
        json_t *o = json_object();
        json_object_setn_new_nocheck(o, bad[i], strlen(bad[i]), json_null());
        assert_null(cvma_json_compact(o, NULL));
        json_decref(o);
    }

    /* Deeper than CVMA_JSON_OUT_MAX_DEPTH: refused (jansson would recurse on). */
    json_t *top = json_array(), *cur = top;
    for (unsigned i = 0; i < CVMA_JSON_OUT_MAX_DEPTH + 5; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    assert_null(cvma_json_compact(top, NULL));
    json_decref(top);

    /* A failed string leaves the text written before it, still NUL-terminated. */
    {
        struct cvma_strbuf fb = {0};
        json_t *bad_s = json_stringn_nocheck("ab\xff", 3);
        assert_true(cvma_strbuf_add(&fb, "[1,", 3));
        assert_false(cvma_json_write(&fb, bad_s));
        assert_true(fb.failed);
        assert_int_equal(fb.len, 3);
        assert_int_equal(strlen(fb.p), 3);
        json_decref(bad_s);
        free(fb.p);
    }

    /* Appending after a failure does nothing. */
    struct cvma_strbuf b = {0};
    b.failed = true;
    assert_false(cvma_strbuf_add(&b, "x", 1));
    assert_null(b.p);
}

/* ---- random trees ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Random text: ASCII, control characters, quotes, and valid UTF-8 of 2 to 4 bytes. */
static size_t random_text(char *out, size_t cap)
{
    static const char *pieces[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x92", "\"", "\\", "/",
                                   "\x7f",     "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"};
    size_t n = 0, want = next() % 24;
    for (size_t i = 0; i < want && n + 4 < cap; i++) {
        uint32_t r = next() % 10;
        if (r < 5) {
            out[n++] = (char)(0x20 + next() % 0x5f);
        } else if (r < 7) {
            out[n++] = (char)(next() % 0x20); /* may be NUL */
        } else {
            const char *p = pieces[next() % CVMA_ARRAY_LEN(pieces)];
            size_t k = strlen(p);
            memcpy(out + n, p, k);
            n += k;
        }
    }
    return n;
}

static json_t *random_value(unsigned depth)
{
    char text[128];
    uint32_t kind = next() % (depth > 5 ? 6 : 8);
    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(next() & 1);
    case 2:
        return json_integer((json_int_t)(((uint64_t)next() << 32 | next())) >> (next() % 64));
    case 3:
        return json_real((double)(int32_t)next() / ((next() % 1000) + 1));
    case 4:
    case 5: {
        size_t n = random_text(text, sizeof text);
        return json_stringn(text, n);
    }
    case 6: {
        json_t *a = json_array();
        for (uint32_t i = next() % 5; i > 0; i--) {
            json_array_append_new(a, random_value(depth + 1));
        }
        return a;
    }
    default: {
        json_t *o = json_object();
        for (uint32_t i = next() % 5; i > 0; i--) {
            size_t n = random_text(text, sizeof text);
            json_object_setn_new(o, text, n, random_value(depth + 1));
        }
        return o;
    }
    }
}

static void test_random_trees(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *t = json_array();
        json_array_append_new(t, random_value(0));
        json_array_append_new(t, random_value(0));
        same(t);
        json_decref(t);
    }
}

/* A verification result and its token claims, the service's answer. */
static void test_result(void **state)
{
    (void)state;
    json_error_t je;
    json_t *j = json_loads(
            "{\"status\":\"affirming\",\"undecided\":false,\"tee\":\"sev-snp\",\"reasons\":"
            "[{\"code\":\"CRL_NOT_CHECKED\",\"severity\":\"warning\",\"detail\":\"no CRL: "
            "https://kdsintf.amd.com/vcek/v1/Milan/crl\"}],\"claims\":{\"measurement\":"
            "\"e41d49\",\"debug\":false,\"snp\":{\"version\":5,\"policy\":{\"raw\":\"00030000\","
            "\"smt\":true}}},\"platform\":{\"vendor\":\"amd\",\"labels\":{\"region\":"
            "\"eu-west\"},\"provider\":null}}",
            0, &je);
    assert_non_null(j);
    same(j);
    json_decref(j);
}

/* The member-by-member writers: keys and commas, hex, booleans, text that is not UTF-8
 * written with U+FFFD (checked against jansson). */
static void test_member_writers(void **state)
{
    (void)state;
    struct cvma_strbuf b = {0};
    bool first = true;
    static const uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
    assert_true(cvma_strbuf_add(&b, "{", 1));
    assert_true(cvma_json_key(&b, &first, "hex") && cvma_json_write_hex(&b, bytes, sizeof bytes));
    assert_false(first);
    assert_true(cvma_json_key(&b, &first, "t") && cvma_json_write_bool(&b, true));
    assert_true(cvma_json_key(&b, &first, "f") && cvma_json_write_bool(&b, false));
    assert_true(cvma_json_key(&b, &first, "n") && cvma_json_write_int(&b, -42));
    /* A cut UTF-8 sequence, a stray continuation byte and 0xff among valid text. */
    static const char bad[] = "a\xc3|\x80|\xff|\xc3\xa9\"";
    assert_false(cvma_json_write_str(&b, bad, strlen(bad))); /* refused as it is ... */
    b.failed = false;
    assert_true(cvma_json_key(&b, &first, "s") &&
                cvma_json_write_str_lossy(&b, bad, strlen(bad))); /* ... kept with U+FFFD */
    assert_true(cvma_strbuf_add(&b, "}", 1));
    assert_string_equal(b.p, "{\"hex\":\"000fa5ff\",\"t\":true,\"f\":false,\"n\":-42,"
                             "\"s\":\"a\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xc3\xa9\\\"\"}");
    json_error_t je;
    json_t *j = json_loadb(b.p, b.len, 0, &je);
    assert_non_null(j); /* JSON, and jansson writes it back the same */
    char *again = json_dumps(j, JSON_COMPACT);
    assert_string_equal(again, b.p);
    free(again);

    json_decref(j);
    free(b.p);
}

/* The word-at-a-time run finder against the byte rule: every byte value at every place of
 * runs that end inside, at and past the eight-byte words, from aligned and odd starts; and
 * the writer still matches jansson for strings with one special byte anywhere. */
static void test_plain_run(void **state)
{
    (void)state;
    uint8_t buf[40];
    for (unsigned v = 0; v < 256; v++) {
        bool plain = v >= 0x20 && v < 0x80 && v != '"' && v != '\\';
        for (size_t start = 0; start < 3; start++) {
            for (size_t len = 1; len <= 24; len++) {
                for (size_t at = 0; at < len; at++) {
                    memset(buf, 'A', sizeof buf);
                    buf[start + at] = (uint8_t)v;
                    size_t want = plain ? len : at;
                    assert_int_equal(cvma_json_plain_run(buf + start, len), want);
                }
            }
        }
    }
    assert_int_equal(cvma_json_plain_run(buf, 0), 0);
    static const char *const odd[] = {"\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9"};
    char text[48];
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (size_t at = 0; at < 20; at++) {
            snprintf(text, sizeof text, "%.*s%s%.*s", (int)at, "abcdefghijklmnopqrstu", odd[i],
                     (int)(19 - at), "ABCDEFGHIJKLMNOPQRSTU");
            json_t *j = json_string(text);
            assert_non_null(j);
            same(j);
            json_decref(j);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_scalars_and_escapes), cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_random_trees),        cmocka_unit_test(test_result),
            cmocka_unit_test(test_member_writers),      cmocka_unit_test(test_plain_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
