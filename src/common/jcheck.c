/*
 * The JSON checker (common/jcheck.h): jansson's parser (src/load.c, 2.14) as a state machine
 * over the text, keeping no values. What it keeps: the open containers (one frame each, at
 * most 2048) and, for the duplicate check, one entry per member name of the objects still
 * open (the name's place in the text and its hash: 16 bytes) in a chained hash table whose
 * chains are in text order, newest first, so that closing an object unlinks its names from
 * the chain heads. Invariant of the cursor: off <= len.
 */
#include "common/jcheck.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/jscan.h"
#include "common/jstr.h"
#include "common/siphash.h"
#include "common/util.h"

#define MAX_DEPTH 2048u /* jansson's JSON_PARSER_MAX_DEPTH (jansson_private.h) */

/* A member name of an open object: the bytes between its quotes, as they stand in the text. */
struct name {
    uint32_t off, len;
    uint32_t hash; /* of the decoded name and the depth of its object */
    uint32_t next; /* the entry before it in its chain, plus one (0: none) */
};

struct frame {
    uint32_t first; /* the object's first name entry */
    bool object;
};

struct scratch {
    char *p;
    size_t cap;
};

struct state {
    struct cvma_jscan s;
    struct frame *frames;
    size_t n_frames, cap_frames;
    struct name *names;
    size_t n_names, cap_names;
    uint32_t *buckets; /* chain heads (entry plus one); n_buckets is a power of two or 0 */
    size_t n_buckets;
    struct scratch key, other;
};

/* The hash key: secret per process, so that a text cannot be made of names that share a
 * chain (which would make the duplicate check quadratic): SipHash under a random key
 * (common/siphash.h), where an unkeyed or merely seeded hash (FNV, murmur) has collisions
 * that hold whatever the seed. */
static uint8_t hash_key[16];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_init(void)
{
    if (getrandom(hash_key, sizeof hash_key, GRND_NONBLOCK) != (ssize_t)sizeof hash_key) {
        /* Only before the kernel's pool is ready (early boot): weaker, still per process. */
        uint64_t a = (uint64_t)time(NULL), b = (uint64_t)(uintptr_t)&a ^ (uint64_t)getpid();
        memcpy(hash_key, &a, 8);
        memcpy(hash_key + 8, &b, 8);
    }
}

static uint32_t hash(const char *k, size_t n, size_t depth)
{
    uint64_t h = cvma_siphash24(hash_key, k, n) + (uint64_t)depth * 0x9E3779B97F4A7C15u;
    return (uint32_t)(h ^ h >> 32);
}

static bool reserve(struct scratch *b, size_t n)
{
    if (b->cap >= n) {
        return true;
    }
    size_t cap = b->cap > 0 ? b->cap : 64;
    while (cap < n) {
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static enum cvma_jcheck_result fail(struct cvma_jcheck *c, const struct state *t, const char *why)
{
    c->position = t->s.off;
    c->line = 1;
    for (size_t i = 0; i < t->s.off; i++) {
        c->line += t->s.p[i] == '\n';
    }
    snprintf(c->text, sizeof c->text, "%s", why);
    return CVMA_JCHECK_SYNTAX;
}

/* A refusal for a member name given twice: the name is in the text (printable ASCII as it is,
 * any other byte as '?', cut to fit), so that the reader is told which one. */
static enum cvma_jcheck_result fail_duplicate(struct cvma_jcheck *c, const struct state *t,
                                              const char *name, size_t len)
{
    char shown[48];
    size_t n = 0;
    bool cut = len > sizeof shown - 1;
    for (; n < len && n < sizeof shown - 1; n++) {
        unsigned char b = (unsigned char)name[n];
        shown[n] = b >= 0x20 && b < 0x7f && b != '"' && b != '\\' ? (char)b : '?';
    }
    shown[n] = '\0';
    enum cvma_jcheck_result r = fail(c, t, "");
    snprintf(c->text, sizeof c->text, "duplicate object key \"%s%s\"", shown, cut ? "..." : "");
    return r;
}

static bool is_digit(uint8_t b)
{
    return b >= '0' && b <= '9';
}

static void digits(struct cvma_jscan *s)
{
    while (!cvma_jscan_at_end(s) && is_digit(s->p[s->off])) {
        s->off++;
    }
}

/*
 * A number at the cursor (jansson's lex_scan_number): -?(0|[1-9][0-9]*), then either nothing
 * more (an integer: it must fit json_int_t) or (\.[0-9]+)?([eE][+-]?[0-9]+)? (a real: strtod
 * must not overflow). A digit straight after a leading 0 is an error. NULL when accepted, else
 * why not.
 */
static const char *number(struct state *t, bool *nomem)
{
    struct cvma_jscan *s = &t->s;
    size_t start = s->off;
    bool neg = cvma_jscan_peek(s) == '-' && !cvma_jscan_at_end(s);
    if (neg) {
        s->off++;
    }
    size_t int_start = s->off;
    uint8_t b = cvma_jscan_peek(s);
    if (cvma_jscan_at_end(s) || !is_digit(b)) {
        return "invalid token";
    }
    s->off++;
    if (b == '0') {
        if (!cvma_jscan_at_end(s) && is_digit(cvma_jscan_peek(s))) {
            return "invalid token";
        }
    } else {
        digits(s);
    }
    b = cvma_jscan_peek(s);
    if (cvma_jscan_at_end(s) || (b != '.' && b != 'e' && b != 'E')) {
        /* strtoll's range without strtoll: no leading zeros, so more than 19 digits is out
         * of range, and 19 digits are compared with the bound. */
        static const char max_pos[] = "9223372036854775807", max_neg[] = "9223372036854775808";
        size_t nd = s->off - int_start;
        if (nd > 19 || (nd == 19 && memcmp(s->p + int_start, neg ? max_neg : max_pos, 19) > 0)) {
            return neg ? "too big negative integer" : "too big integer";
        }
        return NULL;
    }
    if (b == '.') {
        s->off++;
        if (cvma_jscan_at_end(s) || !is_digit(cvma_jscan_peek(s))) {
            return "invalid token";
        }
        digits(s);
    }
    b = cvma_jscan_peek(s);
    if (!cvma_jscan_at_end(s) && (b == 'e' || b == 'E')) {
        s->off++;
        b = cvma_jscan_peek(s);
        if (!cvma_jscan_at_end(s) && (b == '+' || b == '-')) {
            s->off++;
        }
        if (cvma_jscan_at_end(s) || !is_digit(cvma_jscan_peek(s))) {
            return "invalid token";
        }
        digits(s);
    }
    /* jansson's jsonp_strtod: strtod, refused on overflow (underflow is accepted). */
    size_t n = s->off - start;
    if (!reserve(&t->key, n + 1)) {
        *nomem = true;
        return "out of memory";
    }
    memcpy(t->key.p, s->p + start, n);
    t->key.p[n] = '\0';
    errno = 0;
    double v = strtod(t->key.p, NULL);
    if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE) {
        return "real number overflow";
    }
    return NULL;
}

/* A string at the cursor, checked and, when d is non-NULL, decoded into it (reserved here). */
static const char *string(struct state *t, struct scratch *d, size_t *dlen, bool *nomem)
{
    size_t start = t->s.off, n;
    if (!cvma_jscan_string(&t->s, NULL, 0, NULL, NULL, NULL)) {
        return "invalid string";
    }
    n = t->s.off - start - 2;
    if (d != NULL && !reserve(d, n + 1)) {
        *nomem = true;
        return "out of memory";
    }
    /* The scanner has the syntax; what else jansson refuses (text that is not UTF-8,
     * \u0000, a lone or reversed surrogate) the decoder refuses. */
    if (!cvma_jstr_decode(t->s.p + start + 1, n, d != NULL ? d->p : NULL, dlen)) {
        return "invalid string";
    }
    return NULL;
}

/* Whether entry e's name, decoded, is key[0..klen). */
static bool same_name(struct state *t, const struct name *e, const char *key, size_t klen,
                      bool *nomem)
{
    const uint8_t *raw = t->s.p + e->off;
    size_t dlen;
    if (memchr(raw, '\\', e->len) == NULL) {
        return e->len == klen && memcmp(raw, key, klen) == 0;
    }
    if (!reserve(&t->other, (size_t)e->len + 1)) {
        *nomem = true;
        return false;
    }
    return cvma_jstr_decode(raw, e->len, t->other.p, &dlen) && dlen == klen &&
           memcmp(t->other.p, key, klen) == 0;
}

/* Chains every entry again into a table of n buckets (oldest first: newest at the head). */
static bool rehash(struct state *t, size_t n)
{
    uint32_t *b = calloc(n, sizeof *b);
    if (b == NULL) {
        return false;
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
    for (size_t i = 0; i < t->n_names; i++) {
        struct name *e = &t->names[i];
        size_t h = e->hash & (n - 1);
        e->next = b[h];
        b[h] = (uint32_t)(i + 1);
    }
    return true;
}

/*
 * The name just read (the raw bytes at raw_off, raw_len; decoded in t->key, klen) as a member
 * of the innermost open object: false when that object has it already (*dup) or on no memory.
 */
static bool add_name(struct state *t, uint32_t raw_off, uint32_t raw_len, size_t klen, bool *dup,
                     bool *nomem)
{
    const struct frame *f = &t->frames[t->n_frames - 1];
    uint32_t h = hash(t->key.p, klen, t->n_frames);
    if (t->n_buckets > 0) {
        for (uint32_t i = t->buckets[h & (t->n_buckets - 1)]; i != 0; i = t->names[i - 1].next) {
            if (i - 1 < f->first) {
                break; /* the chain's older entries are outer objects' */
            }
            const struct name *e = &t->names[i - 1];
            if (e->hash == h && same_name(t, e, t->key.p, klen, nomem)) {
                *dup = true;
                return false;
            }
            if (*nomem) {
                return false;
            }
        }
    }
    if (t->n_names == t->cap_names) {
        size_t cap = t->cap_names > 0 ? t->cap_names * 2 : 16;
        struct name *p = realloc(t->names, cap * sizeof *p);
        if (p == NULL) {
            *nomem = true;
            return false;
        }
        t->names = p;
        t->cap_names = cap;
    }
    t->names[t->n_names] = (struct name){raw_off, raw_len, h, 0};
    t->n_names++;
    if (t->n_names * 2 > t->n_buckets) {
        if (!rehash(t, t->n_buckets > 0 ? t->n_buckets * 2 : 64)) {
            *nomem = true;
            return false;
        }
        return true; /* chained by the rehash */
    }
    size_t b = h & (t->n_buckets - 1);
    t->names[t->n_names - 1].next = t->buckets[b];
    t->buckets[b] = (uint32_t)t->n_names;
    return true;
}

static bool push(struct state *t, bool object)
{
    if (t->n_frames == t->cap_frames) {
        size_t cap = t->cap_frames > 0 ? t->cap_frames * 2 : 16;
        struct frame *p = realloc(t->frames, cap * sizeof *p);
        if (p == NULL) {
            return false;
        }
        t->frames = p;
        t->cap_frames = cap;
    }
    t->frames[t->n_frames++] = (struct frame){(uint32_t)t->n_names, object};
    return true;
}

/* Closes the innermost container; an object's names leave the chain heads, newest first. */
static void pop(struct state *t)
{
    const struct frame *f = &t->frames[--t->n_frames];
    while (t->n_names > f->first) {
        const struct name *e = &t->names[--t->n_names];
        t->buckets[e->hash & (t->n_buckets - 1)] = e->next;
    }
}

enum cvma_jcheck_result cvma_jcheck(const uint8_t *p, size_t len, struct cvma_jcheck *c)
{
    struct state t = {.s = {p, len, 0}};
    enum cvma_jcheck_result r = CVMA_JCHECK_SYNTAX;
    enum { VALUE, AFTER, KEY } at = VALUE;
    const char *why;
    bool nomem = false;

    c->values = 0;
    c->position = 0;
    c->line = 1;
    c->text[0] = '\0';
    if (len >= UINT32_MAX) {
        snprintf(c->text, sizeof c->text, "a text of 4 GiB or more");
        return CVMA_JCHECK_TOO_MANY;
    }
    (void)pthread_once(&key_once, key_init);
    cvma_jscan_skip_ws(&t.s);
    if (cvma_jscan_at_end(&t.s) || (cvma_jscan_peek(&t.s) != '{' && cvma_jscan_peek(&t.s) != '[')) {
        r = fail(c, &t, "'[' or '{' expected");
        goto out;
    }
    for (;;) {
        uint8_t b = cvma_jscan_peek(&t.s);
        bool end = cvma_jscan_at_end(&t.s);
        switch (at) {
        case VALUE: /* at a value's first byte; jansson's parse_value counts every value's depth */
            if (t.n_frames + 1 > MAX_DEPTH) {
                r = fail(c, &t, "maximum parsing depth reached");
                goto out;
            }
            if (c->max_values != 0 && c->values == c->max_values) {
                (void)fail(c, &t, ""); /* the place */
                snprintf(c->text, sizeof c->text, "more than %zu JSON values", c->max_values);
                r = CVMA_JCHECK_TOO_MANY;
                goto out;
            }
            c->values++;
            at = AFTER;
            if (!end && (b == '{' || b == '[')) {
                if (!push(&t, b == '{')) {
                    r = CVMA_JCHECK_NOMEM;
                    goto out;
                }
                t.s.off++;
                cvma_jscan_skip_ws(&t.s);
                if (!cvma_jscan_at_end(&t.s) && cvma_jscan_peek(&t.s) == (b == '{' ? '}' : ']')) {
                    t.s.off++;
                    pop(&t);
                } else {
                    at = b == '{' ? KEY : VALUE;
                }
                continue;
            }
            if (!end && b == '"') {
                size_t ignored;
                why = string(&t, NULL, &ignored, &nomem);
            } else if (!end && (b == '-' || is_digit(b))) {
                why = number(&t, &nomem);
            } else if (!end && ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'))) {
                /* jansson reads a whole run of letters, then wants one of the three */
                size_t start = t.s.off;
                while (!cvma_jscan_at_end(&t.s) &&
                       ((cvma_jscan_peek(&t.s) >= 'a' && cvma_jscan_peek(&t.s) <= 'z') ||
                        (cvma_jscan_peek(&t.s) >= 'A' && cvma_jscan_peek(&t.s) <= 'Z'))) {
                    t.s.off++;
                }
                size_t n = t.s.off - start;
                const char *w = (const char *)p + start;
                why = (n == 4 && memcmp(w, "true", 4) == 0) ||
                                      (n == 5 && memcmp(w, "false", 5) == 0) ||
                                      (n == 4 && memcmp(w, "null", 4) == 0)
                              ? NULL
                              : "invalid token";
            } else {
                why = "invalid token";
            }
            if (nomem) {
                r = CVMA_JCHECK_NOMEM;
                goto out;
            }
            if (why != NULL) {
                r = fail(c, &t, why);
                goto out;
            }
            if (b != '"' && !cvma_jscan_at_end(&t.s) && cvma_jscan_peek(&t.s) == '\0') {
                /* jansson's quirk: a number or literal ends by putting back the byte after it,
                 * and a NUL byte put back reads as its one-byte buffer being empty: skipped. */
                t.s.off++;
            }
            continue;
        case AFTER: /* after a value: the end of the text, or of its container, or a comma */
            cvma_jscan_skip_ws(&t.s);
            b = cvma_jscan_peek(&t.s);
            end = cvma_jscan_at_end(&t.s);
            if (t.n_frames == 0) {
                if (!end) {
                    r = fail(c, &t, "end of file expected");
                    goto out;
                }
                r = CVMA_JCHECK_OK;
                goto out;
            }
            bool object = t.frames[t.n_frames - 1].object;
            if (!end && b == ',') {
                t.s.off++;
                cvma_jscan_skip_ws(&t.s);
                at = object ? KEY : VALUE;
                continue;
            }
            if (!end && b == (object ? '}' : ']')) {
                t.s.off++;
                pop(&t);
                continue;
            }
            r = fail(c, &t, object ? "'}' expected" : "']' expected");
            goto out;
        case KEY: { /* at a member's name */
            size_t start = t.s.off, klen = 0;
            bool dup = false;
            if (end || b != '"') {
                r = fail(c, &t, "string or '}' expected");
                goto out;
            }
            if ((why = string(&t, &t.key, &klen, &nomem)) != NULL) {
                if (nomem) {
                    r = CVMA_JCHECK_NOMEM;
                    goto out;
                }
                r = fail(c, &t, why);
                goto out;
            }
            if (!add_name(&t, (uint32_t)(start + 1), (uint32_t)(t.s.off - start - 2), klen, &dup,
                          &nomem)) {
                if (nomem) {
                    r = CVMA_JCHECK_NOMEM;
                    goto out;
                }
                r = fail_duplicate(c, &t, t.key.p, klen);
                goto out;
            }
            cvma_jscan_skip_ws(&t.s);
            if (cvma_jscan_at_end(&t.s) || cvma_jscan_peek(&t.s) != ':') {
                r = fail(c, &t, "':' expected");
                goto out;
            }
            t.s.off++;
            cvma_jscan_skip_ws(&t.s);
            if (t.n_frames == 1 && c->top_member != NULL) {
                c->top_member(c->ctx, t.key.p, klen,
                              !cvma_jscan_at_end(&t.s) && cvma_jscan_peek(&t.s) == '"');
            }
            at = VALUE;
            continue;
        }
        }
    }
out:
    if (r == CVMA_JCHECK_NOMEM) {
        snprintf(c->text, sizeof c->text, "out of memory");
    }
    free(t.frames);
    free(t.names);
    free(t.buckets);
    free(t.key.p);
    free(t.other.p);
    return r;
}
