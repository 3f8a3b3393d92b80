/*
 * libFuzzer target: the TPMS_ATTEST / TPM2B_ATTEST parser (cvma_tpm_attest_parse, through
 * src/tpm/tpm_unmarshal.c), then the PCR value reader with the quote's selection (the same bytes
 * as PCR input). The unmarshalling alone is compared with libtss2-mu's in fuzz_tpm_unmarshal.c.
 *
 * Both answers are checked against a reading by hand here: the TPMS_ATTEST of a quote
 * (TPM 2.0 Part 2 §10.12, big-endian: magic, type, qualifiedSigner, extraData, clockInfo,
 * firmwareVersion, TPML_PCR_SELECTION, pcrDigest), accepted or refused alike; the PCR values
 * of tpm2-tools' binary files ("serialized", little-endian, or "values" in the quote's
 * selection order), of JSON (read with jansson) and of the simple YAML of tpm2_pcrread (read
 * line by line here: the same values, or a refusal when one cannot be); nothing given back on
 * refusal.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_check.h"
#include "tpm/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rd {
    const uint8_t *p;
    size_t len, off;
    bool ok;
};

static uint64_t be(struct rd *r, size_t n)
{
    uint64_t x = 0;
    if (!r->ok || r->len - r->off < n) {
        r->ok = false;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        x = x << 8 | r->p[r->off++];
    }
    return x;
}

/* A TPM2B: u16 size (at most max), then the bytes; *at is where they start. */
static size_t tpm2b(struct rd *r, size_t max, size_t *at)
{
    size_t n = (size_t)be(r, 2);
    if (!r->ok || n > max || r->len - r->off < n) {
        r->ok = false;
        return 0;
    }
    *at = r->off;
    r->off += n;
    return n;
}

static void check_attest(const uint8_t *p, size_t len, bool allow, enum cvma_status st,
                         const struct cvma_tpm_attest *at)
{
    const TPMS_ATTEST *a = &at->a;
    struct rd r = {p, len, 0, true};
    size_t qs, ed, dg;
    if (len >= 6 && memcmp(p + 2, "\xff\x54\x43\x47", 4) == 0) {
        size_t n = (size_t)p[0] << 8 | p[1];
        if (n > len - 2) {
            CHECK(st != CVMA_OK);
            return;
        }
        r.p = p + 2;
        r.len = n;
    }
    uint32_t magic = (uint32_t)be(&r, 4);
    uint16_t type = (uint16_t)be(&r, 2);
    size_t qn = tpm2b(&r, sizeof a->qualifiedSigner.name, &qs);
    size_t en = tpm2b(&r, sizeof a->extraData.buffer, &ed);
    uint64_t clock = be(&r, 8);
    uint32_t resets = (uint32_t)be(&r, 4), restarts = (uint32_t)be(&r, 4);
    uint8_t safe = (uint8_t)be(&r, 1);
    uint64_t fw = be(&r, 8);
    uint32_t count = (uint32_t)be(&r, 4);
    size_t sel_at = r.off;
    /* safe is a TPMI_YES_NO: 0 or 1 */
    r.ok = r.ok && magic == 0xff544347u && type == 0x8018 && safe <= 1 &&
           count <= TPM2_NUM_PCR_BANKS;
    for (uint32_t i = 0; i < count && r.ok; i++) {
        (void)be(&r, 2);
        size_t s = (size_t)be(&r, 1);
        r.ok = r.ok && s <= 4 && r.len - r.off >= s;
        r.off += r.ok ? s : 0;
    }
    size_t dn = tpm2b(&r, sizeof a->attested.quote.pcrDigest.buffer, &dg);
    /* What follows the structure (in a TPM2B: inside and after it) must be zero or allowed. */
    size_t end = (size_t)(r.p - p) + r.off;
    bool rest_zero = true;
    for (size_t i = end; r.ok && i < len; i++) {
        rest_zero = rest_zero && p[i] == 0;
    }
    CHECK((st == CVMA_OK) == (r.ok && (rest_zero || allow)));
    if (st != CVMA_OK) {
        return;
    }
    CHECK(at->signed_bytes.p == r.p && at->signed_bytes.len == r.off);
    CHECK(a->magic == magic && a->type == type);
    CHECK(a->qualifiedSigner.size == qn && memcmp(a->qualifiedSigner.name, r.p + qs, qn) == 0);
    CHECK(a->extraData.size == en && memcmp(a->extraData.buffer, r.p + ed, en) == 0);
    CHECK(a->clockInfo.clock == clock && a->clockInfo.resetCount == resets &&
          a->clockInfo.restartCount == restarts && a->clockInfo.safe == safe);
    CHECK(a->firmwareVersion == fw);
    const TPML_PCR_SELECTION *sel = &a->attested.quote.pcrSelect;
    CHECK(sel->count == count);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *s = r.p + sel_at;
        size_t n = s[2];
        CHECK(sel->pcrSelections[i].hash == (s[0] << 8 | s[1]));
        CHECK(sel->pcrSelections[i].sizeofSelect == n);
        CHECK(memcmp(sel->pcrSelections[i].pcrSelect, s + 3, n) == 0);
        sel_at += 3 + n;
    }
    CHECK(a->attested.quote.pcrDigest.size == dn &&
          memcmp(a->attested.quote.pcrDigest.buffer, r.p + dg, dn) == 0);
}

static int bank_of(uint16_t alg)
{
    return alg == 0x0004 ? 0 : alg == 0x000B ? 1 : alg == 0x000C ? 2 : alg == 0x000D ? 3 : -1;
}

static const size_t bank_size[4] = {20, 32, 48, 64};

/* The selected PCRs in selection order, each bank's values size bytes. */
struct sel_walk {
    const TPML_PCR_SELECTION *sel;
    uint32_t i;
    unsigned idx;
};

static bool sel_next(struct sel_walk *w, int *bank, unsigned *idx)
{
    for (; w->i < w->sel->count; w->i++, w->idx = 0) {
        const TPMS_PCR_SELECTION *s = &w->sel->pcrSelections[w->i];
        for (; w->idx < 8u * s->sizeofSelect; w->idx++) {
            if (s->pcrSelect[w->idx / 8] >> (w->idx % 8) & 1) {
                *bank = bank_of(s->hash);
                *idx = w->idx++;
                return true;
            }
        }
    }
    return false;
}

static uint32_t le(const uint8_t *p, size_t n)
{
    uint32_t x = 0;
    while (n-- > 0) {
        x = x << 8 | p[n];
    }
    return x;
}

/*
 * tpm2-tools' "serialized" PCR file: TPML_PCR_SELECTION (u32 count, 16 x {u16 hash, u8
 * sizeofSelect, 4 bytes, 1 pad}), u32 list count, lists of {u32 count, 8 x {u16 size, 64
 * bytes}}. 1: read into *want; 0: not this format; -1: the format, values not fitting.
 */
static int serialized(const uint8_t *p, size_t len, struct cvma_tpm_pcrs *want)
{
    static TPML_PCR_SELECTION sel;
    if (len < 136 || (len - 136) % 532 != 0 || le(p, 4) > 16) {
        return 0;
    }
    memset(&sel, 0, sizeof sel);
    sel.count = le(p, 4);
    for (unsigned i = 0; i < 16; i++) {
        const uint8_t *e = p + 4 + 8 * i;
        sel.pcrSelections[i].hash = (uint16_t)le(e, 2);
        sel.pcrSelections[i].sizeofSelect = e[2];
        memcpy(sel.pcrSelections[i].pcrSelect, e + 3, 4);
        if (i < sel.count && e[2] > 4) {
            return 0;
        }
    }
    size_t lists = le(p + 132, 4);
    if (lists != (len - 136) / 532) {
        return 0;
    }
    for (size_t l = 0; l < lists; l++) {
        const uint8_t *lp = p + 136 + 532 * l;
        if (le(lp, 4) > 8) {
            return 0;
        }
        for (unsigned d = 0; d < 8; d++) {
            if (le(lp + 4 + 66 * d, 2) > 64) {
                return 0;
            }
        }
    }
    struct sel_walk w = {&sel, 0, 0};
    for (size_t l = 0; l < lists; l++) {
        const uint8_t *lp = p + 136 + 532 * l;
        for (unsigned d = 0; d < le(lp, 4); d++) {
            size_t sz = le(lp + 4 + 66 * d, 2);
            int b;
            unsigned idx;
            if (!sel_next(&w, &b, &idx) || b < 0 || sz != bank_size[b]) {
                return -1;
            }
            memcpy(want->v[b][idx], lp + 6 + 66 * d, sz);
            want->set[b][idx] = true;
        }
    }
    return 1;
}

/* The quote's selected values concatenated. */
static bool values(const uint8_t *p, size_t len, const TPML_PCR_SELECTION *sel,
                   struct cvma_tpm_pcrs *want)
{
    struct sel_walk w = {sel, 0, 0};
    size_t off = 0;
    int b;
    unsigned idx;
    if (sel == NULL || len == 0) {
        return false;
    }
    while (sel_next(&w, &b, &idx)) {
        if (b < 0 || len - off < bank_size[b]) {
            return false;
        }
        memcpy(want->v[b][idx], p + off, bank_size[b]);
        want->set[b][idx] = true;
        off += bank_size[b];
    }
    return off == len;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A JSON PCR value (hex, an optional 0x) equals the bank's value. */
static bool same_hex(const char *s, const uint8_t *v, size_t n)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
    }
    if (strlen(s) != 2 * n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
        if (h < 0 || l < 0 || v[i] != (h << 4 | l)) {
            return false;
        }
    }
    return true;
}

static void check_json(const uint8_t *p, size_t len, const struct cvma_tpm_pcrs *got)
{
    static const char *const names[4] = {"sha1", "sha256", "sha384", "sha512"};
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
    size_t members = 0, set = 0;
    CHECK(json_is_object(j));
    for (int b = 0; b < 4; b++) {
        for (unsigned i = 0; i < CVMA_TPM_PCR_COUNT; i++) {
            char key[4];
            if (!got->set[b][i]) {
                continue;
            }
            set++;
            snprintf(key, sizeof key, "%u", i);
            const char *in_bank =
                    json_string_value(json_object_get(json_object_get(j, names[b]), key));
            const char *flat = json_string_value(json_object_get(j, key));
            CHECK((in_bank != NULL && same_hex(in_bank, got->v[b][i], bank_size[b])) ||
                  (flat != NULL && same_hex(flat, got->v[b][i], bank_size[b])));
        }
    }
    const char *k;
    json_t *val;
    json_object_foreach(j, k, val)
    {
        members += json_is_object(val) ? json_object_size(val) : 1;
    }
    CHECK(set == members);
    json_decref(j);
}

/* Spaces, tabs and carriage returns around [*b, *e) dropped. */
static void trim(const uint8_t **b, const uint8_t **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t' || **b == '\r')) {
        (*b)++;
    }
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r')) {
        (*e)--;
    }
}

/*
 * The simple YAML of tpm2_pcrread (docs/tpm.md), read line by line here: lines "<bank>:"
 * (sha1, sha256, sha384, sha512) and, under a bank, "<index 0..31> : <hex>" (an optional 0x,
 * either case), an optional "pcrs:" line first, blank lines; spaces and tabs around each
 * part. 1: that form, the values into *want; -1: that form, but a value of the wrong size,
 * a PCR given twice, a key of digits and signs that is no index 0..31 without leading zeros
 * ("32", "07", "-1") or no value at all (to be refused); 0: something else (no claim).
 */
static int simple_yaml(const uint8_t *p, size_t len, struct cvma_tpm_pcrs *want)
{
    static const char *const names[4] = {"sha1", "sha256", "sha384", "sha512"};
    const uint8_t *end = p + len;
    int bank = -1, res = 1;
    size_t values = 0, lines = 0;
    memset(want, 0, sizeof *want);
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *b = p, *e = nl != NULL ? nl : end, *colon;
        p = nl != NULL ? nl + 1 : end;
        trim(&b, &e);
        if (b == e) {
            continue;
        }
        lines++;
        if ((colon = memchr(b, ':', (size_t)(e - b))) == NULL) {
            return 0;
        }
        const uint8_t *kb = b, *ke = colon, *vb = colon + 1, *ve = e;
        trim(&kb, &ke);
        trim(&vb, &ve);
        if (vb == ve) { /* a header */
            int nb = -1;
            for (int k = 0; k < 4; k++) {
                nb = (size_t)(ke - kb) == strlen(names[k]) &&
                                     memcmp(kb, names[k], (size_t)(ke - kb)) == 0
                             ? k
                             : nb;
            }
            if (nb < 0 && !(lines == 1 && ke - kb == 4 && memcmp(kb, "pcrs", 4) == 0)) {
                return 0;
            }
            bank = nb;
            continue;
        }
        /* "<index> : <hex>" under a bank */
        unsigned idx = 0;
        size_t kl = (size_t)(ke - kb), digits;
        bool all_digits = true;
        if (bank < 0 || kl == 0) {
            return 0;
        }
        for (size_t k = 0; k < kl; k++) {
            if (kb[k] != '+' && kb[k] != '-' && (kb[k] < '0' || kb[k] > '9')) {
                return 0; /* no key of digits and signs */
            }
            if (kb[k] >= '0' && kb[k] <= '9') {
                idx = idx < 100 ? idx * 10 + (unsigned)(kb[k] - '0') : idx;
            } else {
                all_digits = false;
            }
        }
        if (!all_digits || kl > 2 || (kl == 2 && kb[0] == '0') || idx >= CVMA_TPM_PCR_COUNT) {
            res = -1; /* meant as an index, but none: refused */
            continue;
        }
        if (ve - vb >= 2 && vb[0] == '0' && (vb[1] == 'x' || vb[1] == 'X')) {
            vb += 2;
        }
        digits = (size_t)(ve - vb);
        for (size_t k = 0; k < digits; k++) {
            if (hexval((char)vb[k]) < 0) {
                return 0;
            }
        }
        if (digits != 2 * bank_size[bank] || want->set[bank][idx]) {
            res = -1; /* the form, but not a value it may have */
            continue;
        }
        for (size_t k = 0; k < bank_size[bank]; k++) {
            want->v[bank][idx][k] =
                    (uint8_t)(hexval((char)vb[2 * k]) << 4 | hexval((char)vb[2 * k + 1]));
        }
        want->set[bank][idx] = true;
        values++;
    }
    return values == 0 ? -1 : res;
}

static void check_pcrs(const uint8_t *p, size_t len, const TPML_PCR_SELECTION *sel,
                       enum cvma_status st, const struct cvma_tpm_pcrs *got)
{
    static struct cvma_tpm_pcrs want, zero;
    bool text = len > 0;
    size_t i = 0;
    for (size_t k = 0; k < len && text; k++) {
        text = isprint(p[k]) || isspace(p[k]);
    }
    /* the simple YAML form: accepted with exactly its values, or refused when they cannot be */
    int y = text ? simple_yaml(p, len, &want) : 0;
    CHECK(y == 0 || (st == CVMA_OK) == (y == 1));
    if (st != CVMA_OK) {
        CHECK(memcmp(got, &zero, sizeof zero) == 0); /* refused: nothing given back */
        return;
    }
    if (text) {
        while (i < len && isspace(p[i])) {
            i++;
        }
        if (p[i] == '{') {
            check_json(p, len, got);
        }
        for (int b = 0; b < 4 && y == 1; b++) {
            for (unsigned x = 0; x < CVMA_TPM_PCR_COUNT; x++) {
                CHECK(got->set[b][x] == want.set[b][x]);
                CHECK(!want.set[b][x] || memcmp(got->v[b][x], want.v[b][x], bank_size[b]) == 0);
            }
        }
        return;
    }
    memset(&want, 0, sizeof want);
    int s = serialized(p, len, &want);
    CHECK(s >= 0);
    if (s == 0) {
        memset(&want, 0, sizeof want);
        CHECK(values(p, len, sel, &want));
    }
    for (int b = 0; b < 4; b++) {
        for (unsigned x = 0; x < CVMA_TPM_PCR_COUNT; x++) {
            CHECK(got->set[b][x] == want.set[b][x]);
            CHECK(!want.set[b][x] || memcmp(got->v[b][x], want.v[b][x], bank_size[b]) == 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_tpm_attest *at = calloc(1, sizeof *at);
    struct cvma_tpm_pcrs *pcrs = calloc(1, sizeof *pcrs);
    struct cvma_verdict v;
    if (at == NULL || pcrs == NULL) {
        free(at);
        free(pcrs);
        return 0;
    }
    cvma_verdict_init(&v);
    bool allow = size > 0 && (data[size - 1] & 1);
    const TPML_PCR_SELECTION *sel = NULL;
    enum cvma_status st = cvma_tpm_attest_parse(data, size, allow, at, &v);
    check_attest(data, size, allow, st, at);
    if (st == CVMA_OK) {
        sel = &at->a.attested.quote.pcrSelect;
    }
    memset(pcrs, 0x5a, sizeof *pcrs);
    st = cvma_tpm_pcrs_parse(data, size, sel, pcrs, &v);
    check_pcrs(data, size, sel, st, pcrs);
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    free(pcrs);
    free(at);
    return 0;
}
