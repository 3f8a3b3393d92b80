/*
 * Registry entries: validation, the entries file parser, tree order, the canonical leaf
 * encoding and the entry JSON. See registry/registry.h and docs/registry.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/reader.h"
#include "registry/registry.h"

#define ARENA_BLOCK ((size_t)1 << 20)
#define ALIGN_UP(n) (((n) + 15u) & ~(size_t)15u)

/* ---------- arena: every id, label array and string of a list lives here ---------- */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    /* data follows, 16-byte aligned (the header is 32 bytes on LP64, padded below) */
};

struct cvma_reg_arena {
    struct arena_block *head;
};

#define BLOCK_HDR ALIGN_UP(sizeof(struct arena_block))

static void *arena_alloc(struct cvma_reg_entries *e, size_t n)
{
    struct arena_block *b;
    n = ALIGN_UP(n == 0 ? 1 : n);
    if (e->arena == NULL) {
        if ((e->arena = calloc(1, sizeof *e->arena)) == NULL) {
            return NULL;
        }
    }
    b = e->arena->head;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        if ((b = malloc(BLOCK_HDR + cap)) == NULL) {
            return NULL;
        }
        b->next = e->arena->head;
        b->used = 0;
        b->cap = cap;
        e->arena->head = b;
    }
    void *p = (unsigned char *)b + BLOCK_HDR + b->used;
    b->used += n;
    return p;
}

void cvma_reg_entries_init(struct cvma_reg_entries *e)
{
    memset(e, 0, sizeof *e);
}

void cvma_reg_entries_cleanup(struct cvma_reg_entries *e)
{
    if (e == NULL) {
        return;
    }
    if (e->arena != NULL) {
        struct arena_block *b = e->arena->head;
        while (b != NULL) {
            struct arena_block *next = b->next;
            free(b);
            b = next;
        }
        free(e->arena);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}

/* ---------- names and checks ---------- */

const char *cvma_reg_vendor_name(enum cvma_reg_vendor v)
{
    switch (v) {
    case CVMA_REG_AMD:
        return "amd";
    case CVMA_REG_INTEL:
        return "intel";
    }
    return "?";
}

const char *cvma_reg_id_type_name(enum cvma_reg_id_type t)
{
    switch (t) {
    case CVMA_REG_CHIP_ID:
        return "chip_id";
    case CVMA_REG_PPID:
        return "ppid";
    case CVMA_REG_VLEK_CSP:
        return "vlek_csp";
    }
    return "?";
}

static bool is_alnum(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9][A-Za-z0-9._-]{0,max-1} */
static bool name_ok(const uint8_t *s, size_t n, size_t max)
{
    if (n == 0 || n > max || !is_alnum(s[0])) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-') {
            return false;
        }
    }
    return true;
}

bool cvma_reg_provider_name_ok(const char *name)
{
    return name != NULL && name_ok((const uint8_t *)name, strlen(name), CVMA_REG_PROVIDER_MAX);
}

static bool label_key_ok(const char *k)
{
    return name_ok((const uint8_t *)k, strlen(k), CVMA_REG_LABEL_KEY_MAX);
}

/* 1..255 printable ASCII characters other than space. */
static bool label_value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > CVMA_REG_LABEL_VALUE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

static int label_cmp(const void *a, const void *b)
{
    const struct cvma_reg_label *x = a, *y = b;
    return strcmp(x->key, y->key); /* byte order: keys are ASCII */
}

enum cvma_status cvma_reg_entries_add(struct cvma_reg_entries *e, int vendor, int id_type,
                                      const uint8_t *id, size_t id_len,
                                      const struct cvma_reg_label *labels, size_t n_labels,
                                      uint32_t line, char *err, size_t err_len)
{
    struct cvma_reg_label sorted[CVMA_REG_LABELS_MAX];

    if (!((vendor == CVMA_REG_AMD &&
           (id_type == CVMA_REG_CHIP_ID || id_type == CVMA_REG_VLEK_CSP)) ||
          (vendor == CVMA_REG_INTEL && id_type == CVMA_REG_PPID))) {
        cvma_errf(err, err_len, "id type is not one of amd chip_id, amd vlek_csp, intel ppid");
        return CVMA_REJECTED;
    }
    switch ((enum cvma_reg_id_type)id_type) {
    case CVMA_REG_CHIP_ID:
        if (id_len != CVMA_REG_CHIP_ID_LEN) {
            cvma_errf(err, err_len,
                      "chip_id must be 64 bytes (128 hex digits) as reported, got %zu bytes "
                      "(Turin: the 8 ID bytes followed by 56 zero bytes)",
                      id_len);
            return CVMA_REJECTED;
        }
        break;
    case CVMA_REG_PPID:
        if (id_len != CVMA_REG_PPID_LEN) {
            cvma_errf(err, err_len, "ppid must be 16 bytes (32 hex digits), got %zu bytes", id_len);
            return CVMA_REJECTED;
        }
        break;
    case CVMA_REG_VLEK_CSP:
        if (!name_ok(id, id_len, CVMA_REG_CSP_MAX)) {
            cvma_errf(err, err_len,
                      "vlek_csp name must be 1..%d characters of [A-Za-z0-9._-] starting with a "
                      "letter or digit (the cspID without \"CN=\")",
                      CVMA_REG_CSP_MAX);
            return CVMA_REJECTED;
        }
        break;
    }
    if (id_type != CVMA_REG_VLEK_CSP && cvma_bytes_are_zero(id, id_len)) {
        cvma_errf(err, err_len, "%s is all zero (a masked or absent id cannot be listed)",
                  cvma_reg_id_type_name((enum cvma_reg_id_type)id_type));
        return CVMA_REJECTED;
    }
    if (n_labels > CVMA_REG_LABELS_MAX) {
        cvma_errf(err, err_len, "%zu labels, at most %d allowed", n_labels, CVMA_REG_LABELS_MAX);
        return CVMA_REJECTED;
    }
    for (size_t i = 0; i < n_labels; i++) {
        if (!label_key_ok(labels[i].key)) {
            cvma_errf(err, err_len,
                      "label name \"%.70s\" is not 1..%d characters of [A-Za-z0-9._-] starting "
                      "with a letter or digit",
                      labels[i].key, CVMA_REG_LABEL_KEY_MAX);
            return CVMA_REJECTED;
        }
        if (!label_value_ok(labels[i].value)) {
            cvma_errf(err, err_len,
                      "label %s: value must be 1..%d printable ASCII characters without spaces",
                      labels[i].key, CVMA_REG_LABEL_VALUE_MAX);
            return CVMA_REJECTED;
        }
        sorted[i] = labels[i];
    }
    if (n_labels > 1) {
        qsort(sorted, n_labels, sizeof sorted[0], label_cmp);
    }
    for (size_t i = 1; i < n_labels; i++) {
        if (strcmp(sorted[i - 1].key, sorted[i].key) == 0) {
            cvma_errf(err, err_len, "label %s given twice", sorted[i].key);
            return CVMA_REJECTED;
        }
    }

    if (e->n == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 64;
        struct cvma_reg_entry *nv;
        if (e->n >= CVMA_REG_ENTRIES_MAX) {
            cvma_errf(err, err_len, "more than %zu entries", CVMA_REG_ENTRIES_MAX);
            return CVMA_REJECTED;
        }
        if ((nv = realloc(e->v, ncap * sizeof *nv)) == NULL) {
            return CVMA_E_NOMEM;
        }
        e->v = nv;
        e->cap = ncap;
    }
    struct cvma_reg_entry *ent = &e->v[e->n];
    uint8_t *idc = arena_alloc(e, id_len);
    struct cvma_reg_label *lc = n_labels ? arena_alloc(e, n_labels * sizeof *lc) : NULL;
    if (idc == NULL || (n_labels && lc == NULL)) {
        return CVMA_E_NOMEM;
    }
    memcpy(idc, id, id_len);
    for (size_t i = 0; i < n_labels; i++) {
        size_t kl = strlen(sorted[i].key), vl = strlen(sorted[i].value);
        char *k = arena_alloc(e, kl + 1), *v = arena_alloc(e, vl + 1);
        if (k == NULL || v == NULL) {
            return CVMA_E_NOMEM;
        }
        memcpy(k, sorted[i].key, kl + 1);
        memcpy(v, sorted[i].value, vl + 1);
        lc[i].key = k;
        lc[i].value = v;
    }
    ent->vendor = (uint8_t)vendor;
    ent->id_type = (uint8_t)id_type;
    ent->id_len = (uint16_t)id_len;
    ent->n_labels = (uint8_t)n_labels;
    ent->line = line;
    ent->id = idc;
    ent->labels = lc;
    e->n++;
    return CVMA_OK;
}

/* ---------- entries file ---------- */

struct token {
    const char *p;
    size_t len;
};

static bool tok_is(const struct token *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}

/* Decodes exactly want bytes of hex (either case) from a token. */
static bool tok_hex(const struct token *t, uint8_t *out, size_t want)
{
    char buf[2 * CVMA_REG_CHIP_ID_LEN + 1];
    size_t got = 0;
    if (t->len != 2 * want || t->len >= sizeof buf) {
        return false;
    }
    memcpy(buf, t->p, t->len);
    buf[t->len] = '\0';
    return cvma_hex_decode(buf, out, want, &got) && got == want;
}

/* Why a token is not 2 * want hex digits, into buf: its length, or the first character that
 * is not a hex digit (its position from 1, and its byte value, which may be unprintable). */
static const char *hex_flaw(const struct token *t, size_t want, char *buf, size_t buf_len)
{
    if (t->len == 2 * want) {
        for (size_t i = 0; i < t->len; i++) {
            if (cvma_hex_nibble((unsigned char)t->p[i]) < 0) {
                snprintf(buf, buf_len, "character %zu (0x%02x) is not a hex digit", i + 1,
                         (unsigned)(unsigned char)t->p[i]);
                return buf;
            }
        }
    }
    snprintf(buf, buf_len, "got %zu characters", t->len);
    return buf;
}

static enum cvma_status parse_line(const char *s, size_t n, uint32_t line, const char *name,
                                   struct cvma_reg_entries *out, char *err, size_t err_len)
{
    struct token tok[3 + CVMA_REG_LABELS_MAX + 1];
    size_t nt = 0, i = 0;
    char why[300], flaw[64];
    char keys[CVMA_REG_LABELS_MAX][CVMA_REG_LABEL_KEY_MAX + 1];
    char vals[CVMA_REG_LABELS_MAX][CVMA_REG_LABEL_VALUE_MAX + 1];
    struct cvma_reg_label labels[CVMA_REG_LABELS_MAX];
    uint8_t id[CVMA_REG_CSP_MAX];
    size_t id_len = 0;
    int vendor = 0, id_type = 0;

#define BAD(...)                                                         \
    do {                                                                 \
        snprintf(why, sizeof why, __VA_ARGS__);                          \
        cvma_errf(err, err_len, "%s:%u: %s", name, (unsigned)line, why); \
        return CVMA_E_USAGE;                                             \
    } while (0)

    if (n > CVMA_REG_LINE_MAX) {
        BAD("line longer than %d bytes", CVMA_REG_LINE_MAX);
    }
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c != ' ' && c != '\t' && (c < 0x21 || c > 0x7e)) {
            BAD("byte 0x%02x at column %zu: only printable ASCII, spaces and tabs are allowed", c,
                k + 1);
        }
    }
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t')) {
            i++;
        }
        if (i == n || s[i] == '#') {
            break; /* end of line or comment */
        }
        size_t start = i;
        while (i < n && s[i] != ' ' && s[i] != '\t') {
            i++;
        }
        if (nt == CVMA_ARRAY_LEN(tok)) {
            BAD("more than %d labels", CVMA_REG_LABELS_MAX);
        }
        tok[nt].p = s + start;
        tok[nt].len = i - start;
        nt++;
    }
    if (nt == 0) {
        return CVMA_OK; /* blank or comment */
    }
    if (tok_is(&tok[0], "amd")) {
        vendor = CVMA_REG_AMD;
    } else if (tok_is(&tok[0], "intel")) {
        vendor = CVMA_REG_INTEL;
    } else {
        BAD("unknown vendor \"%.*s\" (amd or intel)", (int)(tok[0].len > 40 ? 40 : tok[0].len),
            tok[0].p);
    }
    if (nt < 2) {
        BAD("missing id type after the vendor");
    }
    if (vendor == CVMA_REG_AMD && tok_is(&tok[1], "chip_id")) {
        id_type = CVMA_REG_CHIP_ID;
    } else if (vendor == CVMA_REG_AMD && tok_is(&tok[1], "vlek_csp")) {
        id_type = CVMA_REG_VLEK_CSP;
    } else if (vendor == CVMA_REG_INTEL && tok_is(&tok[1], "ppid")) {
        id_type = CVMA_REG_PPID;
    } else {
        BAD("unknown id type \"%.*s\" for %s (amd: chip_id or vlek_csp; intel: ppid)",
            (int)(tok[1].len > 40 ? 40 : tok[1].len), tok[1].p,
            cvma_reg_vendor_name((enum cvma_reg_vendor)vendor));
    }
    if (nt < 3) {
        BAD("missing the %s value", cvma_reg_id_type_name((enum cvma_reg_id_type)id_type));
    }
    switch ((enum cvma_reg_id_type)id_type) {
    case CVMA_REG_CHIP_ID:
        if (!tok_hex(&tok[2], id, CVMA_REG_CHIP_ID_LEN)) {
            BAD("chip_id must be 128 hex digits (the 64-byte field as reported; Turin: 16 "
                "digits of ID then 112 zeros): %s",
                hex_flaw(&tok[2], CVMA_REG_CHIP_ID_LEN, flaw, sizeof flaw));
        }
        id_len = CVMA_REG_CHIP_ID_LEN;
        break;
    case CVMA_REG_PPID:
        if (!tok_hex(&tok[2], id, CVMA_REG_PPID_LEN)) {
            BAD("ppid must be 32 hex digits (16 bytes): %s",
                hex_flaw(&tok[2], CVMA_REG_PPID_LEN, flaw, sizeof flaw));
        }
        id_len = CVMA_REG_PPID_LEN;
        break;
    case CVMA_REG_VLEK_CSP:
        if (tok[2].len > CVMA_REG_CSP_MAX) {
            BAD("vlek_csp name longer than %d characters", CVMA_REG_CSP_MAX);
        }
        memcpy(id, tok[2].p, tok[2].len);
        id_len = tok[2].len;
        break;
    }
    for (size_t k = 3; k < nt; k++) {
        const char *eq = memchr(tok[k].p, '=', tok[k].len);
        size_t li = k - 3;
        if (eq == NULL) {
            BAD("\"%.*s\" is not a label (key=value)", (int)(tok[k].len > 40 ? 40 : tok[k].len),
                tok[k].p);
        }
        if (li >= CVMA_REG_LABELS_MAX) {
            BAD("more than %d labels", CVMA_REG_LABELS_MAX);
        }
        size_t kl = (size_t)(eq - tok[k].p), vl = tok[k].len - kl - 1;
        if (kl == 0 || kl > CVMA_REG_LABEL_KEY_MAX) {
            BAD("label name of %zu characters (1..%d)", kl, CVMA_REG_LABEL_KEY_MAX);
        }
        if (vl == 0 || vl > CVMA_REG_LABEL_VALUE_MAX) {
            BAD("label %.*s: value of %zu characters (1..%d)", (int)kl, tok[k].p, vl,
                CVMA_REG_LABEL_VALUE_MAX);
        }
        memcpy(keys[li], tok[k].p, kl);
        keys[li][kl] = '\0';
        memcpy(vals[li], eq + 1, vl);
        vals[li][vl] = '\0';
        labels[li].key = keys[li];
        labels[li].value = vals[li];
    }
    enum cvma_status st = cvma_reg_entries_add(out, vendor, id_type, id, id_len, labels, nt - 3,
                                               line, why, sizeof why);
    if (st == CVMA_REJECTED) {
        cvma_errf(err, err_len, "%s:%u: %s", name, (unsigned)line, why);
        return CVMA_E_USAGE;
    }
    return st;
#undef BAD
}

enum cvma_status cvma_reg_entries_parse(const char *text, size_t len, const char *name,
                                        struct cvma_reg_entries *out, char *err, size_t err_len)
{
    size_t off = 0;
    uint32_t line = 0;
    if (name == NULL) {
        name = "entries";
    }
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
        size_t eff = n;
        if (line == UINT32_MAX) {
            cvma_errf(err, err_len, "%s: too many lines", name);
            return CVMA_E_USAGE;
        }
        line++;
        if (eff > 0 && text[off + eff - 1] == '\r') {
            eff--; /* CRLF files */
        }
        enum cvma_status st = parse_line(text + off, eff, line, name, out, err, err_len);
        if (st != CVMA_OK) {
            return st;
        }
        off += n + (nl ? 1 : 0);
    }
    return CVMA_OK;
}

/* ---------- order ---------- */

int cvma_reg_entry_cmp(const struct cvma_reg_entry *a, const struct cvma_reg_entry *b)
{
    if (a->vendor != b->vendor) {
        return a->vendor < b->vendor ? -1 : 1;
    }
    if (a->id_type != b->id_type) {
        return a->id_type < b->id_type ? -1 : 1;
    }
    if (a->id_len != b->id_len) {
        return a->id_len < b->id_len ? -1 : 1;
    }
    return memcmp(a->id, b->id, a->id_len);
}

static int entry_qsort_cmp(const void *a, const void *b)
{
    return cvma_reg_entry_cmp(a, b);
}

enum cvma_status cvma_reg_entries_sort(struct cvma_reg_entries *e, const char *name, char *err,
                                       size_t err_len)
{
    if (e->n > 1) {
        qsort(e->v, e->n, sizeof e->v[0], entry_qsort_cmp);
    }
    for (size_t i = 1; i < e->n; i++) {
        if (cvma_reg_entry_cmp(&e->v[i - 1], &e->v[i]) == 0) {
            const struct cvma_reg_entry *a = &e->v[i - 1], *b = &e->v[i];
            uint32_t l1 = a->line < b->line ? a->line : b->line;
            uint32_t l2 = a->line < b->line ? b->line : a->line;
            char id[2 * CVMA_REG_CSP_MAX + 2];
            cvma_reg_entry_id_string(a, id, sizeof id);
            cvma_errf(err, err_len, "%s:%u: same platform as line %u (%s %s %.40s%s)",
                      name ? name : "entries", (unsigned)l2, (unsigned)l1,
                      cvma_reg_vendor_name((enum cvma_reg_vendor)a->vendor),
                      cvma_reg_id_type_name((enum cvma_reg_id_type)a->id_type), id,
                      strlen(id) > 40 ? "..." : "");
            return CVMA_E_USAGE;
        }
    }
    return CVMA_OK;
}

size_t cvma_reg_entries_find(const struct cvma_reg_entries *e, const struct cvma_reg_entry *a)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cvma_reg_entry_cmp(&e->v[mid], a);
        if (c == 0) {
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return SIZE_MAX;
}

/* ---------- canonical leaf ---------- */

size_t cvma_reg_leaf_encode(const struct cvma_reg_entry *e, uint8_t *out, size_t cap)
{
    size_t need = 6 + (size_t)e->id_len, o = 0;
    for (size_t i = 0; i < e->n_labels; i++) {
        need += 2 + strlen(e->labels[i].key) + strlen(e->labels[i].value);
    }
    if (need > cap) {
        return 0;
    }
    out[o++] = 0x01; /* leaf format version */
    out[o++] = e->vendor;
    out[o++] = e->id_type;
    out[o++] = (uint8_t)(e->id_len >> 8);
    out[o++] = (uint8_t)e->id_len;
    memcpy(out + o, e->id, e->id_len);
    o += e->id_len;
    out[o++] = e->n_labels;
    for (size_t i = 0; i < e->n_labels; i++) {
        size_t kl = strlen(e->labels[i].key), vl = strlen(e->labels[i].value);
        out[o++] = (uint8_t)kl;
        memcpy(out + o, e->labels[i].key, kl);
        o += kl;
        out[o++] = (uint8_t)vl;
        memcpy(out + o, e->labels[i].value, vl);
        o += vl;
    }
    return o;
}

void cvma_reg_leaf_hash(const struct cvma_reg_entry *e, uint8_t out[32])
{
    uint8_t buf[CVMA_REG_LEAF_MAX];
    size_t n = cvma_reg_leaf_encode(e, buf, sizeof buf);
    cvma_merkle_leaf_hash(buf, n, out);
}

/* ---------- JSON ---------- */

void cvma_reg_entry_id_string(const struct cvma_reg_entry *e, char *out, size_t out_size)
{
    if (out_size == 0) {
        return;
    }
    if (e->id_type == CVMA_REG_VLEK_CSP) {
        size_t n = e->id_len < out_size - 1 ? e->id_len : out_size - 1;
        memcpy(out, e->id, n);
        out[n] = '\0';
    } else {
        cvma_hex_encode(e->id, e->id_len, out, out_size);
    }
}

json_t *cvma_reg_entry_to_json(const struct cvma_reg_entry *e)
{
    char id[2 * CVMA_REG_CHIP_ID_LEN + CVMA_REG_CSP_MAX + 2];
    json_t *o = json_object(), *labels = json_object();
    if (o == NULL || labels == NULL) {
        goto fail;
    }
    cvma_reg_entry_id_string(e, id, sizeof id);
    if (json_object_set_new(o, "vendor",
                            json_string(cvma_reg_vendor_name((enum cvma_reg_vendor)e->vendor))) ||
        json_object_set_new(
                o, "id_type",
                json_string(cvma_reg_id_type_name((enum cvma_reg_id_type)e->id_type))) ||
        json_object_set_new(o, "id", json_string(id))) {
        goto fail;
    }
    for (size_t i = 0; i < e->n_labels; i++) {
        if (json_object_set_new(labels, e->labels[i].key, json_string(e->labels[i].value))) {
            goto fail;
        }
    }
    if (json_object_set_new(o, "labels", labels)) {
        labels = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(labels);
    json_decref(o);
    return NULL;
}

enum cvma_status cvma_reg_entry_from_json(const json_t *j, struct cvma_reg_entries *into, char *err,
                                          size_t err_len)
{
    const char *k;
    json_t *val;
    json_t *jv, *jt, *jid, *jl;
    struct cvma_reg_label labels[CVMA_REG_LABELS_MAX];
    size_t nl = 0;
    uint8_t id[CVMA_REG_CSP_MAX];
    size_t id_len = 0;
    int vendor, id_type;

    if (!json_is_object(j)) {
        cvma_errf(err, err_len, "entry is not a JSON object");
        return CVMA_REJECTED;
    }
    json_object_foreach((json_t *)(uintptr_t)j, k, val)
    {
        if (strcmp(k, "vendor") != 0 && strcmp(k, "id_type") != 0 && strcmp(k, "id") != 0 &&
            strcmp(k, "labels") != 0) {
            cvma_errf(err, err_len, "entry has an unknown member \"%.40s\"", k);
            return CVMA_REJECTED;
        }
    }
    jv = json_object_get(j, "vendor");
    jt = json_object_get(j, "id_type");
    jid = json_object_get(j, "id");
    jl = json_object_get(j, "labels");
    if (!json_is_string(jv) || !json_is_string(jt) || !json_is_string(jid)) {
        cvma_errf(err, err_len, "entry needs string members vendor, id_type and id");
        return CVMA_REJECTED;
    }
    const char *vs = json_string_value(jv), *ts = json_string_value(jt);
    const char *ids = json_string_value(jid);
    size_t idslen = json_string_length(jid);
    vendor = strcmp(vs, "amd") == 0 ? CVMA_REG_AMD : strcmp(vs, "intel") == 0 ? CVMA_REG_INTEL : 0;
    id_type = strcmp(ts, "chip_id") == 0    ? CVMA_REG_CHIP_ID
              : strcmp(ts, "ppid") == 0     ? CVMA_REG_PPID
              : strcmp(ts, "vlek_csp") == 0 ? CVMA_REG_VLEK_CSP
                                            : 0;
    if (vendor == 0 || id_type == 0) {
        cvma_errf(err, err_len, "entry vendor/id_type \"%.10s\"/\"%.10s\" unknown", vs, ts);
        return CVMA_REJECTED;
    }
    if (id_type == CVMA_REG_CHIP_ID || id_type == CVMA_REG_PPID) {
        size_t want = id_type == CVMA_REG_CHIP_ID ? CVMA_REG_CHIP_ID_LEN : CVMA_REG_PPID_LEN;
        if (!cvma_hex_decode_lower(ids, idslen, id, want)) {
            cvma_errf(err, err_len, "entry id is not %zu lower-case hex digits", 2 * want);
            return CVMA_REJECTED;
        }
        id_len = want;
    } else {
        if (idslen == 0 || idslen > CVMA_REG_CSP_MAX) {
            cvma_errf(err, err_len, "entry vlek_csp name of %zu characters", idslen);
            return CVMA_REJECTED;
        }
        memcpy(id, ids, idslen);
        id_len = idslen;
    }
    if (jl != NULL) {
        if (!json_is_object(jl)) {
            cvma_errf(err, err_len, "entry labels is not an object");
            return CVMA_REJECTED;
        }
        if (json_object_size(jl) > CVMA_REG_LABELS_MAX) {
            cvma_errf(err, err_len, "entry has %zu labels, at most %d", json_object_size(jl),
                      CVMA_REG_LABELS_MAX);
            return CVMA_REJECTED;
        }
        json_object_foreach(jl, k, val)
        {
            if (!json_is_string(val)) {
                cvma_errf(err, err_len, "label %.40s is not a string", k);
                return CVMA_REJECTED;
            }
            labels[nl].key = k;
            labels[nl].value = json_string_value(val);
            nl++;
        }
    }
    return cvma_reg_entries_add(into, vendor, id_type, id, id_len, labels, nl, 0, err, err_len);
}
