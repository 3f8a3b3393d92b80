#include "common/jflat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jcheck.h"
#include "common/jscan.h"
#include "common/jstr.h"
#include "common/reader.h"
#include "common/util.h"

/* Scans the string at the cursor and decodes it into a new buffer. */
static enum cvma_jflat_result string(struct cvma_jscan *s, char **out, size_t *out_len)
{
    size_t start = s->off;
    *out = NULL;
    if (!cvma_jscan_string(s, NULL, 0, NULL, NULL, NULL)) {
        return CVMA_JFLAT_SYNTAX;
    }
    struct cvma_reader all;
    struct cvma_span raw;
    size_t n = s->off - start - 2;
    cvma_reader_init(&all, s->p, s->len);
    if (!cvma_reader_skip(&all, start + 1) || !cvma_reader_span(&all, n, &raw)) {
        s->off = start;
        return CVMA_JFLAT_SYNTAX; /* not after a string the scanner accepted */
    }
    char *d = malloc(n + 1);
    if (d == NULL) {
        return CVMA_JFLAT_NOMEM;
    }
    /* What jansson refuses and the scanner lets through (text that is not UTF-8, \u0000, a
     * lone or reversed surrogate) is refused here. */
    if (!cvma_jstr_decode(raw.p, raw.len, d, out_len)) {
        free(d);
        s->off = start;
        return CVMA_JFLAT_SYNTAX;
    }
    *out = d;
    return CVMA_JFLAT_OK;
}

void cvma_jflat_free(struct cvma_jflat_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(fields[i].value);
        fields[i].value = NULL;
        fields[i].len = 0;
    }
}

/* name (its decoded bytes) for a message: printable ASCII, others '?', at most 64. */
static void describe(char *what, size_t what_len, const char *name, size_t len)
{
    char shown[65];
    size_t k = 0;
    for (size_t i = 0; i < len && k < sizeof shown - 1; i++) {
        unsigned char c = (unsigned char)name[i];
        shown[k++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    shown[k] = '\0';
    snprintf(what, what_len, "%s", shown);
}

static enum cvma_jflat_result scan(const uint8_t *p, size_t len, struct cvma_jflat_field *fields,
                                   size_t n, char *what, size_t what_len)
{
    struct cvma_jscan s = {p, len, 0};
    enum cvma_jflat_result member = CVMA_JFLAT_OK, r;
    char *key = NULL;
    size_t key_len = 0;

    if (what_len > 0) {
        what[0] = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        fields[i].value = NULL;
        fields[i].len = 0;
    }
    cvma_jscan_skip_ws(&s);
    if (cvma_jscan_peek(&s) != '{' || cvma_jscan_at_end(&s)) {
        goto syntax;
    }
    s.off++;
    cvma_jscan_skip_ws(&s);
    if (cvma_jscan_peek(&s) == '}' && !cvma_jscan_at_end(&s)) {
        s.off++;
        goto end;
    }
    for (;;) {
        cvma_jscan_skip_ws(&s);
        if ((r = string(&s, &key, &key_len)) != CVMA_JFLAT_OK) {
            if (r == CVMA_JFLAT_NOMEM) {
                goto fail;
            }
            goto syntax;
        }
        cvma_jscan_skip_ws(&s);
        if (cvma_jscan_peek(&s) != ':' || cvma_jscan_at_end(&s)) {
            goto syntax;
        }
        s.off++;
        cvma_jscan_skip_ws(&s);
        struct cvma_jflat_field *f = NULL;
        for (size_t i = 0; i < n; i++) {
            if (strlen(fields[i].name) == key_len && memcmp(fields[i].name, key, key_len) == 0) {
                f = &fields[i];
            }
        }
        if (f != NULL && f->value != NULL) {
            goto syntax; /* a duplicate: jansson's JSON_REJECT_DUPLICATES is a parse error */
        }
        if (f != NULL && cvma_jscan_peek(&s) == '"' && member == CVMA_JFLAT_OK) {
            if ((r = string(&s, &f->value, &f->len)) != CVMA_JFLAT_OK) {
                if (r == CVMA_JFLAT_NOMEM) {
                    goto fail;
                }
                goto syntax;
            }
        } else {
            /* Not ours, or not a string: refused, once the rest is known to be JSON. */
            if (member == CVMA_JFLAT_OK) {
                member = CVMA_JFLAT_MEMBER;
                describe(what, what_len, key, key_len);
            }
            if (cvma_jscan_peek(&s) == '"') {
                char *skip = NULL;
                size_t skip_len;
                r = string(&s, &skip, &skip_len);
                free(skip);
                if (r == CVMA_JFLAT_NOMEM) {
                    goto fail;
                }
                if (r != CVMA_JFLAT_OK) {
                    goto syntax;
                }
            } else if (!cvma_jscan_value(&s, 1)) {
                goto syntax;
            }
        }
        free(key);
        key = NULL;
        cvma_jscan_skip_ws(&s);
        if (cvma_jscan_at_end(&s)) {
            goto syntax;
        }
        if (cvma_jscan_peek(&s) == ',') {
            s.off++;
            continue;
        }
        if (cvma_jscan_peek(&s) == '}') {
            s.off++;
            break;
        }
        goto syntax;
    }
end:
    cvma_jscan_skip_ws(&s);
    if (!cvma_jscan_at_end(&s)) {
        goto syntax;
    }
    if (member != CVMA_JFLAT_OK) {
        cvma_jflat_free(fields, n);
        return member;
    }
    return CVMA_JFLAT_OK;
syntax:
    snprintf(what, what_len, "at byte %zu", s.off);
    r = CVMA_JFLAT_SYNTAX;
fail:
    free(key);
    cvma_jflat_free(fields, n);
    return r;
}

/* The first top-level member that is not in the set or not a string, for classify. */
struct first_foreign {
    const struct cvma_jflat_field *fields;
    size_t n;
    char *what;
    size_t what_len;
    bool found;
};

static void top_member(void *ctx, const char *name, size_t len, bool is_string)
{
    struct first_foreign *f = ctx;
    bool known = false;
    for (size_t i = 0; i < f->n && !known; i++) {
        known = strlen(f->fields[i].name) == len && memcmp(f->fields[i].name, name, len) == 0;
    }
    if (!f->found && (!known || !is_string)) {
        describe(f->what, f->what_len, name, len);
        f->found = true;
    }
}

/*
 * A refusal is classed as jansson classes it (its parser is stricter about what this reader
 * only skips: numbers out of range, duplicates and text inside foreign members, nesting):
 * CVMA_JFLAT_SYNTAX when json_loadb(JSON_REJECT_DUPLICATES) would refuse the text or it is
 * not an object, else CVMA_JFLAT_MEMBER naming the first member that is not in the set or not
 * a string. The second reading is the checker's (common/jcheck.h), which decides as jansson
 * does without building its tree: a refused body costs no more than an accepted one.
 */
static enum cvma_jflat_result classify(const uint8_t *p, size_t len,
                                       const struct cvma_jflat_field *fields, size_t n, char *what,
                                       size_t what_len)
{
    struct first_foreign f = {fields, n, what, what_len, false};
    struct cvma_jcheck c = {.top_member = top_member, .ctx = &f};
    switch (cvma_jcheck(p, len, &c)) {
    case CVMA_JCHECK_OK:
        break;
    case CVMA_JCHECK_NOMEM:
        return CVMA_JFLAT_NOMEM;
    case CVMA_JCHECK_SYNTAX:
    case CVMA_JCHECK_TOO_MANY: /* (no cap here: only a text of 4 GiB or more) */
        snprintf(what, what_len, "at byte %zu: %s", c.position, c.text);
        return CVMA_JFLAT_SYNTAX;
    }
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) {
        i++;
    }
    if (i == len || p[i] != '{') {
        snprintf(what, what_len, "at byte 0: not an object");
        return CVMA_JFLAT_SYNTAX;
    }
    /* (both readers accept: cannot happen; refused all the same) */
    return f.found ? CVMA_JFLAT_MEMBER : CVMA_JFLAT_SYNTAX;
}

enum cvma_jflat_result cvma_jflat_parse(const uint8_t *p, size_t len,
                                        struct cvma_jflat_field *fields, size_t n, char *what,
                                        size_t what_len)
{
    enum cvma_jflat_result r = scan(p, len, fields, n, what, what_len);
    if (r == CVMA_JFLAT_SYNTAX || r == CVMA_JFLAT_MEMBER) {
        r = classify(p, len, fields, n, what, what_len);
    }
    return r;
}
