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
#include "common/reader.h"
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

/* An index "0".."31" (no sign, no leading zeros beyond "0"). */
static bool parse_index(const char *s, size_t n, unsigned *out)
{
    unsigned x = 0;
    if (n == 0 || n > 2 || (n == 2 && s[0] == '0')) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *out = x;
    return x < CVMA_TPM_PCR_COUNT;
}

/* Hex of one PCR value (an optional 0x, either case). bank < 0: from the size. */
static enum cvma_status set_value(struct cvma_tpm_pcrs *out, int bank, unsigned idx,
                                  const char *hex, size_t hex_len, struct cvma_verdict *v)
{
    char buf[2 * 64 + 1];
    uint8_t val[64];
    size_t n = 0;
    if (hex_len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        hex_len -= 2;
    }
    if (hex_len >= sizeof buf) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED, "tpm PCRs: PCR %u: value too long", idx);
    }
    memcpy(buf, hex, hex_len);
    buf[hex_len] = '\0';
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
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
    enum cvma_status st = CVMA_REJECTED;
    const char *key, *k2;
    json_t *val, *v2;
    unsigned idx;

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

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1])) {
        (*n)--;
    }
}

/*
 * tpm2-tools YAML (tpm2_pcrread; tpm2_quote's "pcrs:" section): a line "<bank>:" opens a
 * bank, lines "<index> : 0x<hex>" give its values; other lines ("quoted: ...", "sig: ...")
 * are not PCRs and are skipped.
 */
static enum cvma_status parse_yaml(const uint8_t *p, size_t len, struct cvma_tpm_pcrs *out,
                                   struct cvma_verdict *v)
{
    const char *s = (const char *)p, *end = s + len;
    int bank = -1;
    size_t found = 0;

    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *line = s;
        size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
        const char *colon;
        s = nl != NULL ? nl + 1 : end;
        trim(&line, &n);
        if (n == 0 || (colon = memchr(line, ':', n)) == NULL) {
            continue;
        }
        const char *k = line, *val = colon + 1;
        size_t kn = (size_t)(colon - line), vn = n - kn - 1;
        unsigned idx;
        trim(&k, &kn);
        trim(&val, &vn);
        if (vn == 0) {
            int b = bank_by_name(k, kn);
            if (b >= 0) {
                bank = b;
            } else if (kn != 4 || memcmp(k, "pcrs", 4) != 0) {
                bank = -1; /* another section ("signature:") */
            }
            continue;
        }
        if (bank < 0 || !parse_index(k, kn, &idx)) {
            continue;
        }
        if (set_value(out, bank, idx, val, vn, v) != CVMA_OK) {
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
    for (size_t i = 0; i < len; i++) {
        if (!(isprint(p[i]) || isspace(p[i]))) {
            return false;
        }
    }
    return true;
}

/* see tpm/tpm.h */
enum cvma_status cvma_tpm_pcrs_parse(const uint8_t *p, size_t len, const TPML_PCR_SELECTION *sel,
                                     struct cvma_tpm_pcrs *out, struct cvma_verdict *v)
{
    size_t i = 0;
    bool rejected = false;
    memset(out, 0, sizeof *out);
    if (len == 0 || len > PCRS_MAX) {
        return cvma_reject(v, CVMA_R_TPM_PCRS_MALFORMED, "tpm PCRs: %zu bytes", len);
    }
    if (is_text(p, len)) {
        while (i < len && isspace(p[i])) {
            i++;
        }
        if (i < len && p[i] == '{') {
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
