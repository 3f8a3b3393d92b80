/*
 * PCR values as users have them (see tpm/tpm.h): JSON, the YAML tpm2-tools prints, or the
 * binary PCR file tpm2_quote -o writes. All of it is an untrusted hint: a value counts only
 * once a quote's pcrDigest covers it (tpm_quote.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/hex.h"
#include "common/jcheck.h"
#include "common/json_out.h"
#include "common/reader.h"
#include "common/util.h"
#include "tpm/tpm.h"

#define PCRS_MAX (1u << 20)

static int bank_by_name(const char *s, size_t n)
{
    for (int b = 0; b < CVMA_TPM_BANKS; b++) {
        const char *name = cvma_tpm_bank_name(b);
        if (strlen(name) == n && strncmp(s, name, n) == 0) {
            return b;
        }
    }
    return -1;
}

static int bank_by_size(size_t n)
{
    for (int b = 0; b < CVMA_TPM_BANKS; b++) {
        if (cvma_tpm_bank_size(b) == n) {
            return b;
        }
    }
    return -1;
}

/* An index "0".."31" (common/util.h: no sign, no leading zeros beyond "0"). */
static bool parse_index(const char *s, size_t n, unsigned *out)
{
    return cvma_pcr_index(s, n, CVMA_TPM_PCR_COUNT, out);
}

/* Hex of one PCR value (an optional 0x, either case). bank < 0: from the size. */
static enum cvma_status set_value(struct cvma_tpm_pcrs *out, int bank, unsigned idx,
                                  const char *hex, size_t hex_len, struct cvma_verdict *v)
{
    struct cvma_reader r;
    char buf[2 * 64 + 1];
    uint8_t val[64];
    size_t n = 0, digits;
    cvma_reader_init(&r, (const uint8_t *)hex, hex_len);
    if ((cvma_reader_starts_with(&r, "0x") || cvma_reader_starts_with(&r, "0X")) &&
        !cvma_reader_skip(&r, 2)) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED, "tpm PCRs: PCR %u: no value", idx);
    }
    digits = cvma_reader_left(&r);
    if (digits >= sizeof buf || !cvma_reader_bytes(&r, (uint8_t *)buf, digits)) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED, "tpm PCRs: PCR %u: value too long", idx);
    }
    buf[digits] = '\0';
    if (!cvma_hex_decode(buf, val, sizeof val, &n) || n == 0) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED, "tpm PCRs: PCR %u: '%s' is not hex", idx,
                           buf);
    }
    if (bank < 0 && (bank = bank_by_size(n)) < 0) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED,
                           "tpm PCRs: PCR %u: %zu bytes is no SHA-1/256/384/512 size", idx, n);
    }
    if (n != cvma_tpm_bank_size(bank)) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED,
                           "tpm PCRs: PCR %s:%u is %zu bytes, want %zu", cvma_tpm_bank_name(bank),
                           idx, n, cvma_tpm_bank_size(bank));
    }
    if (out->set[bank][idx]) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED, "tpm PCRs: PCR %s:%u given twice",
                           cvma_tpm_bank_name(bank), idx);
    }
    memcpy(out->v[bank][idx], val, n);
    out->set[bank][idx] = true;
    return CVMA_OK;
}

static enum cvma_status parse_json(const uint8_t *p, size_t len, struct cvma_tpm_pcrs *out,
                                   struct cvma_verdict *v)
{
    json_error_t je;
    bool oom;
    json_t *j = cvma_json_loadb_capped(p, len, CVMA_JSON_EVIDENCE_MAX_VALUES, &je, &oom);
    enum cvma_status st = CVMA_REJECTED;
    const char *key, *k2;
    json_t *val, *v2;
    unsigned idx;

    if (oom) {
        v->oom = true; /* an error, never a verdict on the evidence */
        return CVMA_E_NOMEM;
    }
    if (!json_is_object(j)) {
        st = cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED, "tpm PCRs: not a JSON object%s%s",
                         j == NULL ? ": " : "", j == NULL ? je.text : "");
        goto out;
    }
    json_object_foreach(j, key, val)
    {
        int bank = bank_by_name(key, strlen(key));
        if (bank >= 0 && json_is_object(val)) {
            json_object_foreach(val, k2, v2)
            {
                if (!parse_index(k2, strlen(k2), &idx) || !json_is_string(v2)) {
                    st = cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED,
                                     "tpm PCRs: \"%s\".\"%s\": want \"<index 0..31>\": \"<hex>\"",
                                     key, k2);
                    goto out;
                }
                if (set_value(out, bank, idx, json_string_value(v2), json_string_length(v2), v) !=
                    CVMA_OK) {
                    goto out;
                }
            }
        } else if (parse_index(key, strlen(key), &idx) && json_is_string(val)) {
            /* A flat {"0": "<hex>"}: the bank follows from the digest size. */
            if (set_value(out, -1, idx, json_string_value(val), json_string_length(val), v) !=
                CVMA_OK) {
                goto out;
            }
        } else {
            st = cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED,
                             "tpm PCRs: member \"%s\": want a bank (sha1, sha256, sha384, "
                             "sha512) holding {\"<index>\": \"<hex>\"}",
                             key);
            goto out;
        }
    }
    st = CVMA_OK;
out:
    json_decref(j);
    return st;
}

/* The span without the whitespace around it. */
static struct cvma_span trimmed(struct cvma_span s)
{
    struct cvma_reader r;
    struct cvma_span out = {NULL, 0};
    uint8_t c;
    size_t first = 0, end = 0; /* the first byte that is not space, and just after the last */
    bool seen = false;
    cvma_reader_init(&r, s.p, s.len);
    while (cvma_reader_u8(&r, &c)) {
        if (!isspace(c)) {
            first = seen ? first : r.off - 1;
            end = r.off;
            seen = true;
        }
    }
    cvma_reader_init(&r, s.p, end);
    if (cvma_reader_skip(&r, first)) {
        cvma_reader_rest(&r, &out);
    }
    return out;
}

/* The next line (without its '\n'); false at the end of the text. */
static bool next_line(struct cvma_reader *r, struct cvma_span *line)
{
    struct cvma_reader ahead = *r;
    size_t n = 0;
    uint8_t c;
    if (cvma_reader_at_end(r)) {
        return false;
    }
    while (cvma_reader_u8(&ahead, &c) && c != '\n') {
        n++;
    }
    return cvma_reader_span(r, n, line) && (cvma_reader_at_end(r) || cvma_reader_skip(r, 1));
}

/* Splits "<key>:<value>" at its first colon; false when there is none. */
static bool split_colon(struct cvma_span line, struct cvma_span *key, struct cvma_span *val)
{
    struct cvma_reader r, ahead;
    size_t n = 0;
    uint8_t c = 0;
    cvma_reader_init(&r, line.p, line.len);
    ahead = r;
    while (cvma_reader_u8(&ahead, &c) && c != ':') {
        n++;
    }
    if (c != ':' || !cvma_reader_span(&r, n, key) || !cvma_reader_skip(&r, 1)) {
        return false;
    }
    cvma_reader_rest(&r, val);
    return true;
}

/*
 * tpm2-tools YAML (tpm2_pcrread; tpm2_quote's "pcrs:" section): a line "<bank>:" opens a
 * bank, lines "<index> : 0x<hex>" give its values; other lines ("quoted: ...", "sig: ...")
 * are not PCRs and are skipped. Inside a bank, a key meant as an index (a digit or a sign
 * first) must be one, "0".."31" as tpm2-tools writes it: "32", "07" or "-1" are refused as
 * the JSON reader refuses them, never passed over.
 */
static enum cvma_status parse_yaml(const uint8_t *p, size_t len, struct cvma_tpm_pcrs *out,
                                   struct cvma_verdict *v)
{
    struct cvma_reader r;
    struct cvma_span line, k, val;
    int bank = -1;
    size_t found = 0;

    cvma_reader_init(&r, p, len);
    while (next_line(&r, &line)) {
        unsigned idx;
        line = trimmed(line);
        if (line.len == 0 || !split_colon(line, &k, &val)) {
            continue;
        }
        k = trimmed(k);
        val = trimmed(val);
        if (val.len == 0) {
            int b = bank_by_name((const char *)k.p, k.len);
            if (b >= 0) {
                bank = b;
            } else if (k.len != 4 || memcmp(k.p, "pcrs", 4) != 0) {
                bank = -1; /* another section ("signature:") */
            }
            continue;
        }
        if (bank < 0) {
            continue;
        }
        if (!parse_index((const char *)k.p, k.len, &idx)) {
            if (k.len > 0 && (isdigit(k.p[0]) || k.p[0] == '+' || k.p[0] == '-')) {
                return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED,
                                   "tpm PCRs: %s: '%.*s' is no PCR index (0..31, no leading "
                                   "zeros)",
                                   cvma_tpm_bank_name(bank), (int)(k.len > 16 ? 16 : k.len),
                                   (const char *)k.p);
            }
            continue; /* another key ("calcDigest") */
        }
        if (set_value(out, bank, idx, (const char *)val.p, val.len, v) != CVMA_OK) {
            return CVMA_REJECTED;
        }
        found++;
    }
    if (found == 0) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED,
                           "tpm PCRs: text with no \"<bank>:\" section of \"<index> : 0x<hex>\" "
                           "lines (tpm2_pcrread output) and not JSON");
    }
    return CVMA_OK;
}

/* Assigns values to the selected PCRs in selection order. */
struct walk {
    const TPML_PCR_SELECTION *sel;
    uint32_t i;   /* selection entry */
    unsigned idx; /* next index to look at */
};

static bool walk_next(struct walk *w, int *bank, unsigned *idx)
{
    for (; w->i < w->sel->count; w->i++, w->idx = 0) {
        const TPMS_PCR_SELECTION *s = &w->sel->pcrSelections[w->i];
        unsigned max = 8u * (s->sizeofSelect > 4 ? 4 : s->sizeofSelect);
        for (; w->idx < max; w->idx++) {
            if (s->pcrSelect[w->idx / 8] & (1u << (w->idx % 8))) {
                *bank = cvma_tpm_bank_of_alg(s->hash);
                *idx = w->idx++;
                return true;
            }
        }
    }
    return false;
}

/*
 * tpm2_quote -o, format "serialized" (tpm2-tools lib/pcr.c pcr_fwrite_serialized): the
 * TPML_PCR_SELECTION (u32 count, 16 entries of u16 hash, u8 sizeofSelect, 4 select bytes and
 * one byte of padding), a u32 count of TPML_DIGEST, then each (u32 count, 8 entries of u16
 * size and 64 bytes), little-endian. Values follow the file's selection in order.
 */
static bool parse_serialized(const uint8_t *p, size_t len, struct cvma_tpm_pcrs *out,
                             struct cvma_verdict *v, bool *rejected)
{
    TPML_PCR_SELECTION sel;
    struct cvma_reader r;
    struct walk w = {&sel, 0, 0};
    uint32_t n_lists = 0;

    *rejected = false;
    if (len < 136 || (len - 136) % 532 != 0) {
        return false;
    }
    memset(&sel, 0, sizeof sel);
    cvma_reader_init(&r, p, len);
    if (!cvma_reader_u32le(&r, &sel.count) || sel.count > 16) {
        return false;
    }
    for (unsigned i = 0; i < 16; i++) {
        TPMS_PCR_SELECTION *s = &sel.pcrSelections[i];
        if (!cvma_reader_u16le(&r, &s->hash) || !cvma_reader_u8(&r, &s->sizeofSelect) ||
            !cvma_reader_bytes(&r, s->pcrSelect, 4) || !cvma_reader_skip(&r, 1) ||
            (i < sel.count && s->sizeofSelect > 4)) {
            return false;
        }
    }
    if (!cvma_reader_u32le(&r, &n_lists) || n_lists != (len - 136) / 532) {
        return false;
    }
    for (uint32_t l = 0; l < n_lists; l++) {
        uint32_t count = 0;
        if (!cvma_reader_u32le(&r, &count) || count > 8) {
            return false;
        }
        for (unsigned d = 0; d < 8; d++) {
            uint16_t size = 0;
            struct cvma_span val;
            int bank;
            unsigned idx;
            if (!cvma_reader_u16le(&r, &size) || !cvma_reader_span(&r, 64, &val) || size > 64) {
                return false;
            }
            if (d >= count) {
                continue;
            }
            if (!walk_next(&w, &bank, &idx) || bank < 0 || size != cvma_tpm_bank_size(bank)) {
                *rejected = true;
                cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED,
                            "tpm PCRs: binary PCR file: value %u of list %u does not fit the "
                            "file's PCR selection",
                            d, (unsigned)l);
                return false;
            }
            memcpy(out->v[bank][idx], val.p, size);
            out->set[bank][idx] = true;
        }
    }
    return true;
}

/* tpm2_quote -o -F values: the selected values concatenated, in the quote's selection order. */
static bool parse_values(const uint8_t *p, size_t len, const TPML_PCR_SELECTION *sel,
                         struct cvma_tpm_pcrs *out)
{
    struct walk w = {sel, 0, 0};
    struct cvma_reader r;
    int bank;
    unsigned idx;
    if (sel == NULL) {
        return false;
    }
    cvma_reader_init(&r, p, len);
    while (walk_next(&w, &bank, &idx)) {
        if (bank < 0 || !cvma_reader_bytes(&r, out->v[bank][idx], cvma_tpm_bank_size(bank))) {
            return false;
        }
        out->set[bank][idx] = true;
    }
    return cvma_reader_at_end(&r) && len > 0;
}

static bool is_text(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    uint8_t c;
    cvma_reader_init(&r, p, len);
    while (cvma_reader_u8(&r, &c)) {
        if (!(isprint(c) || isspace(c))) {
            return false;
        }
    }
    return true;
}

/* The parse proper; out may hold values read before a refusal (cvma_tpm_pcrs_parse clears
 * them). */
static enum cvma_status pcrs_parse(const uint8_t *p, size_t len, const TPML_PCR_SELECTION *sel,
                                   struct cvma_tpm_pcrs *out, struct cvma_verdict *v)
{
    struct cvma_reader r;
    uint8_t c = 0;
    bool rejected = false;
    memset(out, 0, sizeof *out);
    if (len == 0 || len > PCRS_MAX) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED, "tpm PCRs: %zu bytes", len);
    }
    if (is_text(p, len)) {
        /* The first byte that is not space: '{' opens JSON. */
        cvma_reader_init(&r, p, len);
        while (cvma_reader_u8(&r, &c) && isspace(c)) {
        }
        if (c == '{') {
            return parse_json(p, len, out, v);
        }
        return parse_yaml(p, len, out, v);
    }
    if (parse_serialized(p, len, out, v, &rejected)) {
        return CVMA_OK;
    }
    if (rejected) {
        return CVMA_REJECTED;
    }
    memset(out, 0, sizeof *out);
    if (parse_values(p, len, sel, out)) {
        return CVMA_OK;
    }
    memset(out, 0, sizeof *out);
    return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED,
                       "tpm PCRs: %zu binary bytes that are neither tpm2-tools' serialized PCR "
                       "file nor the quoted values concatenated",
                       len);
}

/* see tpm/tpm.h */
enum cvma_status cvma_tpm_pcrs_parse(const uint8_t *p, size_t len, const TPML_PCR_SELECTION *sel,
                                     struct cvma_tpm_pcrs *out, struct cvma_verdict *v)
{
    enum cvma_status st = pcrs_parse(p, len, sel, out, v);
    if (st != CVMA_OK) {
        /* An out-parameter is set only on success: a JSON or YAML text or a binary file
         * refused halfway gives back none of the values read before the refusal. */
        memset(out, 0, sizeof *out);
    }
    return st;
}
