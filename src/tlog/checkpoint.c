/*
 * tlog-checkpoint texts and c2sp.org/tlog-proof@v1 files (see tlog/tlog.h). Both are
 * untrusted text: every line is bounded and checked before use.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/base64.h"
#include "common/reader.h"
#include "tlog/tlog.h"

/* The next line of r (without its '\n'); false when no '\n' is left. */
static bool next_line(struct cvma_reader *r, struct cvma_span *line)
{
    const uint8_t *start = r->p + r->off;
    const uint8_t *nl = memchr(start, '\n', cvma_reader_left(r));
    if (nl == NULL) {
        return false;
    }
    return cvma_reader_span(r, (size_t)(nl - start), line) && cvma_reader_skip(r, 1);
}

/* Decimal, no leading zeros (but "0"), no sign; at most 2^63-1. */
static bool parse_dec(const struct cvma_span *s, uint64_t *out)
{
    uint64_t v = 0;
    if (s->len == 0 || s->len > 19 || (s->len > 1 && s->p[0] == '0')) {
        return false;
    }
    for (size_t i = 0; i < s->len; i++) {
        if (s->p[i] < '0' || s->p[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s->p[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_hash(const struct cvma_span *s, uint8_t out[32])
{
    size_t n = 0;
    return cvma_base64_decode((const char *)s->p, s->len, CVMA_B64_STD, out, 32, &n) && n == 32;
}

bool cvma_checkpoint_parse(const char *text, size_t len, struct cvma_checkpoint *out, char *err,
                           size_t err_len)
{
    struct cvma_reader r;
    struct cvma_span origin, size, root, ext;

    memset(out, 0, sizeof *out);
    cvma_reader_init(&r, (const uint8_t *)text, len);
    if (!next_line(&r, &origin) || !next_line(&r, &size) || !next_line(&r, &root)) {
        cvma_errf(err, err_len, "checkpoint: fewer than three lines (origin, size, root)");
        return false;
    }
    if (origin.len == 0 || origin.len > CVMA_TLOG_NAME_MAX) {
        cvma_errf(err, err_len, "checkpoint: origin line empty or longer than %d bytes",
                  CVMA_TLOG_NAME_MAX);
        return false;
    }
    /* The origin is kept as a C string: a NUL inside it would cut it short ("a\0b" would
     * read as the origin "a"). A note's text never holds one; a bare checkpoint may. */
    if (memchr(origin.p, '\0', origin.len) != NULL) {
        cvma_errf(err, err_len, "checkpoint: origin line holds a NUL byte");
        return false;
    }
    if (!parse_dec(&size, &out->size)) {
        cvma_errf(err, err_len,
                  "checkpoint: tree size is not a decimal number without leading zeros, at most "
                  "2^63-1");
        return false;
    }
    if (!parse_hash(&root, out->root)) {
        cvma_errf(err, err_len, "checkpoint: root hash is not base64 of 32 bytes");
        memset(out, 0, sizeof *out);
        return false;
    }
    while (cvma_reader_left(&r) > 0) {
        if (!next_line(&r, &ext) || ext.len == 0) {
            cvma_errf(err, err_len, "checkpoint: empty or unterminated extension line");
            memset(out, 0, sizeof *out);
            return false;
        }
    }
    /* The empty tree has one root, SHA-256("") (RFC 9162 2.1.1): a size-0 checkpoint with any
     * other is no tree at all, never cosigned, monitored or kept. */
    static const uint8_t empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
                                      0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                                      0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
                                      0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    if (out->size == 0 && memcmp(out->root, empty, 32) != 0) {
        cvma_errf(err, err_len, "checkpoint: size 0 with a root other than SHA-256(\"\")");
        memset(out, 0, sizeof *out);
        return false;
    }
    memcpy(out->origin, origin.p, origin.len);
    out->origin[origin.len] = '\0';
    return true;
}

enum cvma_status cvma_tlog_state_parse(const uint8_t *p, size_t len, struct cvma_checkpoint *out,
                                       bool *is_signed, char *err, size_t err_len)
{
    struct cvma_note note;
    char why[200];
    enum cvma_status st;

    *is_signed = false;
    memset(out, 0, sizeof *out);
    st = cvma_note_parse(p, len, &note, why, sizeof why);
    if (st == CVMA_E_NOMEM) {
        return st;
    }
    if (st == CVMA_OK) {
        bool ok = cvma_checkpoint_parse(note.text, note.text_len, out, err, err_len);
        cvma_note_cleanup(&note);
        *is_signed = ok;
        return ok ? CVMA_OK : CVMA_REJECTED;
    }
    /* Not a note: the bare text of earlier versions, or nothing. */
    return cvma_checkpoint_parse((const char *)p, len, out, err, err_len) ? CVMA_OK : CVMA_REJECTED;
}

char *cvma_checkpoint_text(const struct cvma_checkpoint *c)
{
    char b64[48];
    if (!cvma_base64_encode_to(c->root, 32, CVMA_B64_STD, b64, sizeof b64)) {
        return NULL;
    }
    size_t n = strlen(c->origin) + 24 + strlen(b64) + 4;
    char *s = malloc(n);
    if (s != NULL) {
        snprintf(s, n, "%s\n%" PRIu64 "\n%s\n", c->origin, c->size, b64);
    }
    return s;
}

void cvma_tlog_proof_cleanup(struct cvma_tlog_proof *p)
{
    if (p == NULL) {
        return;
    }
    cvma_note_cleanup(&p->note);
    memset(p, 0, sizeof *p);
}

static enum cvma_status proof_parse(const uint8_t *p, size_t len, struct cvma_tlog_proof *out,
                                    char *err, size_t err_len)
{
    static const char index_prefix[] = "index ";
    struct cvma_reader r;
    struct cvma_span line, rest;
    char why[200];
    enum cvma_status st;

    memset(out, 0, sizeof *out);
    cvma_reader_init(&r, p, len);
    if (!next_line(&r, &line) || line.len != strlen(CVMA_TLOG_PROOF_HEADER) ||
        memcmp(line.p, CVMA_TLOG_PROOF_HEADER, line.len) != 0) {
        cvma_errf(err, err_len, "log proof: first line is not %s", CVMA_TLOG_PROOF_HEADER);
        return CVMA_REJECTED;
    }
    if (!next_line(&r, &line)) {
        goto truncated;
    }
    if (line.len >= 6 && memcmp(line.p, "extra ", 6) == 0 && !next_line(&r, &line)) {
        goto truncated; /* extra data: not authenticated, not used */
    }
    struct cvma_span num = {line.p + 6, line.len >= 6 ? line.len - 6 : 0};
    if (line.len < 6 || memcmp(line.p, index_prefix, 6) != 0 || !parse_dec(&num, &out->index)) {
        cvma_errf(err, err_len,
                  "log proof: no 'index N' line (N a decimal number without leading zeros, at "
                  "most 2^63-1)");
        return CVMA_REJECTED;
    }
    for (;;) {
        if (!next_line(&r, &line)) {
            goto truncated;
        }
        if (line.len == 0) {
            break;
        }
        if (out->n_hashes == CVMA_TLOG_PROOF_MAX ||
            !parse_hash(&line, out->hashes[out->n_hashes])) {
            cvma_errf(err, err_len,
                      "log proof: hash line %zu is not base64 of 32 bytes (or more "
                      "than %d)",
                      out->n_hashes + 1, CVMA_TLOG_PROOF_MAX);
            return CVMA_REJECTED;
        }
        out->n_hashes++;
    }
    out->note_off = r.off;
    cvma_reader_rest(&r, &rest);
    if ((st = cvma_note_parse(rest.p, rest.len, &out->note, why, sizeof why)) != CVMA_OK) {
        cvma_errf(err, err_len, "log proof: checkpoint: %s", why);
        return st;
    }
    if (!cvma_checkpoint_parse(out->note.text, out->note.text_len, &out->cp, why, sizeof why)) {
        cvma_errf(err, err_len, "log proof: %s", why);
        return CVMA_REJECTED;
    }
    return CVMA_OK;
truncated:
    cvma_errf(err, err_len, "log proof: truncated before the checkpoint");
    return CVMA_REJECTED;
}

/* see tlog/tlog.h */
enum cvma_status cvma_tlog_proof_parse(const uint8_t *p, size_t len, struct cvma_tlog_proof *out,
                                       char *err, size_t err_len)
{
    enum cvma_status st = proof_parse(p, len, out, err, err_len);
    if (st != CVMA_OK) {
        /* Refused: no index or hash read before the refusal is given back. */
        cvma_tlog_proof_cleanup(out);
    }
    return st;
}

bool cvma_tlog_consistency_parse(const uint8_t *p, size_t len, struct cvma_tlog_consistency *out,
                                 char *err, size_t err_len)
{
    json_error_t je;
    json_t *j, *hs, *h;
    const char *key;
    json_t *val;
    bool ok = false;
    size_t i;

    memset(out, 0, sizeof *out);
    j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        /* jansson's words: a duplicate key, a number out of range, bad JSON */
        cvma_errf(err, err_len, "consistency proof: not JSON jansson takes: %s", je.text);
        goto out;
    }
    if (!json_is_object(j)) {
        cvma_errf(err, err_len, "consistency proof: not a JSON object");
        goto out;
    }
    json_object_foreach(j, key, val)
    {
        if (strcmp(key, "old_size") != 0 && strcmp(key, "new_size") != 0 &&
            strcmp(key, "hashes") != 0) {
            cvma_errf(err, err_len, "consistency proof: unknown member '%.40s'", key);
            goto out;
        }
    }
    json_t *o = json_object_get(j, "old_size"), *n = json_object_get(j, "new_size");
    hs = json_object_get(j, "hashes");
    if (!json_is_integer(o) || !json_is_integer(n) || json_integer_value(o) < 0 ||
        json_integer_value(n) < json_integer_value(o) || !json_is_array(hs) ||
        json_array_size(hs) > CVMA_TLOG_PROOF_MAX) {
        cvma_errf(err, err_len,
                  "consistency proof: wants old_size <= new_size and at most %d "
                  "hashes",
                  CVMA_TLOG_PROOF_MAX);
        goto out;
    }
    out->old_size = (uint64_t)json_integer_value(o);
    out->new_size = (uint64_t)json_integer_value(n);
    json_array_foreach(hs, i, h)
    {
        size_t dl = 0;
        if (!json_is_string(h) ||
            !cvma_base64_decode(json_string_value(h), json_string_length(h), CVMA_B64_STD,
                                out->hashes[i], 32, &dl) ||
            dl != 32) {
            cvma_errf(err, err_len, "consistency proof: hash %zu is not base64 of 32 bytes", i);
            goto out;
        }
        out->n_hashes = i + 1;
    }
    ok = true;
out:
    json_decref(j);
    if (!ok) {
        memset(out, 0, sizeof *out);
    }
    return ok;
}

/* see tlog/tlog.h */
char *cvma_tlog_consistency_text(const struct cvma_tlog_consistency *c)
{
    json_t *hs = json_array(), *j = NULL;
    char *out = NULL;

    if (hs == NULL || c->n_hashes > CVMA_TLOG_PROOF_MAX || c->old_size > INT64_MAX ||
        c->new_size > INT64_MAX) {
        json_decref(hs);
        return NULL;
    }
    for (size_t i = 0; i < c->n_hashes; i++) {
        char b64[48];
        if (!cvma_base64_encode_to(c->hashes[i], 32, CVMA_B64_STD, b64, sizeof b64) ||
            json_array_append_new(hs, json_string(b64)) != 0) {
            json_decref(hs);
            return NULL;
        }
    }
    /* "o": hs is the object's now, freed with it (or by json_pack on failure). */
    if ((j = json_pack("{sI sI so}", "old_size", (json_int_t)c->old_size, "new_size",
                       (json_int_t)c->new_size, "hashes", hs)) != NULL) {
        out = json_dumps(j, JSON_COMPACT);
    }
    json_decref(j);
    return out;
}
