/*
 * libFuzzer target: the event log parser (every format), the replay, the JSON of events,
 * replay and claims (which read UEFI structures inside event data), and both comparisons.
 * The last input byte picks the format to force (auto, tcg, tcg-sha1, ccel).
 *
 * What the parser answers is checked against a walk of the log by hand here (TCG PC Client
 * PFP 10.2: the SHA-1 format header record, the Spec ID event's banks and digest sizes,
 * TCG_PCR_EVENT2 records; the padding and CCEL rules of docs/eventlog.md): accepted or
 * refused alike, the format, the banks, every event's offset, register index, type, digests
 * and data, and the replay recomputed with OpenSSL's digests. The events and replay JSON are
 * written out, read back with jansson and compared with the same walk and the replay: event
 * count, indexes, registers, data sizes, digests and replayed registers in hex.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "eventlog/eventlog.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EV 4096 /* far more records than a fuzz input of this size holds */

struct ev {
    size_t off, doff, dlen;
    uint32_t pcr, type;
    size_t dig[CVMA_EVENTLOG_MAX_BANKS]; /* offset of the digest, 0: none */
};

struct model {
    bool ok;
    enum cvma_eventlog_format format;
    size_t n_banks;
    uint16_t alg[CVMA_EVENTLOG_MAX_BANKS], dsize[CVMA_EVENTLOG_MAX_BANKS];
    size_t n;
    struct ev ev[MAX_EV];
    bool has_loc;
    uint8_t loc;
    size_t padding, end;
};

static size_t known_size(uint16_t alg)
{
    return alg == 0x0004 ? 20 : alg == 0x000B ? 32 : alg == 0x000C ? 48 : alg == 0x000D ? 64 : 0;
}

static const EVP_MD *known_md(uint16_t alg)
{
    return alg == 0x0004   ? EVP_sha1()
           : alg == 0x000B ? EVP_sha256()
           : alg == 0x000C ? EVP_sha384()
           : alg == 0x000D ? EVP_sha512()
                           : NULL;
}

static int bank_of(const struct model *m, uint16_t alg)
{
    for (size_t i = 0; i < m->n_banks; i++) {
        if (m->alg[i] == alg) {
            return (int)i;
        }
    }
    return -1;
}

/* The Spec ID event's data (PFP 10.4.5.1): 16-byte signature, platformClass, versions,
 * uintnSize, numberOfAlgorithms, {algorithmId, digestSize}[], vendorInfoSize, vendorInfo. */
static bool spec_id(struct model *m, const uint8_t *d, size_t n)
{
    if (n < 28 || d[21] != 2 || (d[23] != 1 && d[23] != 2)) {
        return false;
    }
    uint32_t k = fz_le32(d + 24);
    if (k == 0 || k > CVMA_EVENTLOG_MAX_BANKS || n - 28 < 4 * (size_t)k + 1) {
        return false;
    }
    for (uint32_t i = 0; i < k; i++) {
        uint16_t alg = fz_le16(d + 28 + 4 * i), sz = fz_le16(d + 30 + 4 * i);
        size_t want = known_size(alg);
        if (sz == 0 || sz > 64 || (want != 0 && sz != want) || bank_of(m, alg) >= 0) {
            return false;
        }
        m->alg[m->n_banks] = alg;
        m->dsize[m->n_banks++] = sz;
    }
    size_t at = 28 + 4 * (size_t)k;
    return n - at - 1 == d[at]; /* vendorInfo ends the event */
}

static void walk(struct model *m, const uint8_t *p, size_t len, enum cvma_eventlog_format f)
{
    static const char sid[16] = "Spec ID Event03", loc[16] = "StartupLocality";
    size_t off = 0, pad = 0;
    bool pcr0_extended = false;
    memset(m, 0, sizeof *m);
    if (len > CVMA_EVENTLOG_MAX_SIZE || len < 32) {
        return;
    }
    bool agile = fz_le32(p + 4) == 3 && fz_le32(p + 28) >= 16 && len >= 48 &&
                 memcmp(p + 32, sid, 16) == 0;
    if ((!agile && (f == CVMA_EVENTLOG_TCG || f == CVMA_EVENTLOG_CCEL)) ||
        (agile && f == CVMA_EVENTLOG_TCG_SHA1)) {
        return;
    }
    if (agile) {
        size_t hs = fz_le32(p + 28);
        if (len - 32 < hs || !spec_id(m, p + 32, hs)) {
            return;
        }
        for (size_t i = 8; i < 28; i++) {
            if (p[i] != 0) {
                return; /* the header's SHA-1 digest field is zeros */
            }
        }
        m->ev[0].off = 0;
        m->ev[0].pcr = fz_le32(p);
        m->ev[0].type = fz_le32(p + 4);
        m->ev[0].doff = 32;
        m->ev[0].dlen = hs;
        m->n = 1;
        off = 32 + hs;
    } else {
        m->n_banks = 1;
        m->alg[0] = 0x0004;
        m->dsize[0] = 20;
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0x00 && p[i] != 0xFF) {
            pad = i + 1;
        }
    }
    while (off < len) {
        if (m->n > 0 && off >= pad) {
            m->padding = len - off;
            break;
        }
        if (m->n > 0 && len - off >= 4 && fz_le32(p + off) == 0xFFFFFFFFu) {
            return;
        }
        /* a fixed header of zeros (legacy 32 bytes, agile 12) is padding with bytes after it */
        size_t fixed = agile ? 12u : 32u, z = 0;
        while (z < fixed && z < len - off && p[off + z] == 0x00) {
            z++;
        }
        if (m->n > 0 && z == fixed) {
            return;
        }
        struct ev *e = &m->ev[m->n];
        size_t at = off + 8;
        memset(e, 0, sizeof *e);
        e->off = off;
        if (len - off < (agile ? 12u : 8u)) {
            return;
        }
        e->pcr = fz_le32(p + off);
        e->type = fz_le32(p + off + 4);
        uint32_t count = 1;
        if (agile) {
            count = fz_le32(p + off + 8);
            at += 4;
            if (count != m->n_banks) {
                return;
            }
        }
        for (uint32_t i = 0; i < count; i++) {
            uint16_t alg = 0x0004;
            if (agile) {
                if (len - at < 2) {
                    return;
                }
                alg = fz_le16(p + at);
                at += 2;
            }
            int b = bank_of(m, alg);
            if (b < 0 || e->dig[b] != 0 || len - at < m->dsize[b]) {
                return;
            }
            e->dig[b] = at;
            at += m->dsize[b];
        }
        if (len - at < 4 || len - at - 4 < fz_le32(p + at)) {
            return;
        }
        e->dlen = fz_le32(p + at);
        e->doff = at + 4;
        off = e->doff + e->dlen;
        if (e->pcr >= CVMA_EVENTLOG_NPCR) {
            return;
        }
        CHECK(m->n < MAX_EV - 1);
        if (e->type == 3 && e->pcr == 0 && e->dlen >= 16 && memcmp(p + e->doff, loc, 16) == 0) {
            if (e->dlen != 17 || m->has_loc || pcr0_extended) {
                return; /* one StartupLocality of 17 bytes, before PCR 0 is extended */
            }
            m->has_loc = true;
            m->loc = p[e->doff + 16];
        }
        pcr0_extended = pcr0_extended || (e->type != 3 && e->pcr == 0);
        m->n++;
    }
    m->end = off; /* padding starts where the walk stopped */
    bool ccel_shape = m->n_banks == 1 && m->alg[0] == 0x000C;
    for (size_t i = 1; i < m->n && ccel_shape; i++) {
        ccel_shape = m->ev[i].type == 3 || (m->ev[i].pcr >= 1 && m->ev[i].pcr <= 4);
    }
    m->format = !agile                    ? CVMA_EVENTLOG_TCG_SHA1
                : f != CVMA_EVENTLOG_AUTO ? f
                : ccel_shape              ? CVMA_EVENTLOG_CCEL
                                          : CVMA_EVENTLOG_TCG;
    m->ok = m->format != CVMA_EVENTLOG_CCEL || ccel_shape;
    /* the header event's index: PCR 0, or in a CCEL CC-MR 0 or 1 */
    m->ok = m->ok &&
            (!agile || m->ev[0].pcr == 0 || (m->format == CVMA_EVENTLOG_CCEL && m->ev[0].pcr == 1));
}

/* The replay by hand: PCRs 17..22 start at all ones, PCR 0's last byte is the startup
 * locality; a CCEL's CC-MR i extends RTMR i-1; EV_NO_ACTION never extends. */
static void check_replay(const struct model *m, const uint8_t *raw,
                         const struct cvma_eventlog_replay *rp)
{
    static uint8_t reg[CVMA_EVENTLOG_NPCR][64];
    bool ccel = m->format == CVMA_EVENTLOG_CCEL;
    CHECK(rp->n_banks == m->n_banks);
    for (size_t b = 0; b < m->n_banks; b++) {
        const EVP_MD *md = known_md(m->alg[b]);
        size_t sz = m->dsize[b];
        uint32_t ext = 0;
        CHECK(rp->valid[b] == (md != NULL));
        if (md == NULL) {
            continue;
        }
        memset(reg, 0, sizeof reg);
        for (unsigned i = 17; i <= 22 && !ccel; i++) {
            memset(reg[i], 0xFF, sz);
        }
        if (!ccel && m->has_loc) {
            reg[0][sz - 1] = m->loc;
        }
        for (size_t i = 0; i < m->n; i++) {
            const struct ev *e = &m->ev[i];
            uint8_t buf[128];
            unsigned ol = 0;
            if (e->type == 3 || e->dig[b] == 0) {
                continue;
            }
            uint32_t r = ccel ? e->pcr - 1 : e->pcr;
            memcpy(buf, reg[r], sz);
            memcpy(buf + sz, raw + e->dig[b], sz);
            CHECK(EVP_Digest(buf, 2 * sz, reg[r], &ol, md, NULL) == 1 && ol == sz);
            ext |= 1u << r;
        }
        CHECK(rp->extended[b] == ext);
        for (unsigned i = 0; i < CVMA_EVENTLOG_NPCR; i++) {
            CHECK(memcmp(rp->reg[b][i], reg[i], sz) == 0);
        }
    }
}

/* A bank's name in the JSON, by hand: sha1/sha256/sha384/sha512, else alg_0x<hex>. */
static void label_of(uint16_t alg, char out[16])
{
    const char *n = alg == 0x0004   ? "sha1"
                    : alg == 0x000B ? "sha256"
                    : alg == 0x000C ? "sha384"
                    : alg == 0x000D ? "sha512"
                                    : NULL;
    if (n != NULL) {
        snprintf(out, 16, "%s", n);
    } else {
        snprintf(out, 16, "alg_0x%04x", alg);
    }
}

/* j written out as text and read back with jansson (NULL when j is NULL: no memory). */
static json_t *reread(const json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_t *r = s != NULL ? json_loads(s, JSON_REJECT_DUPLICATES, NULL) : NULL;
    CHECK(j == NULL || s == NULL || r != NULL);
    free(s);
    return r;
}

/*
 * The events and replay JSON, as text read back with jansson, against the walk by hand and
 * the replay: every event's index, register (pcr, or a CCEL's mr_index and rtmr), data size
 * and digests (the hex of the log's bytes, one per bank the event has, by bank name); the
 * replayed registers of every bank that can be replayed, in hex.
 */
static void check_json_out(const struct model *m, const uint8_t *raw,
                           const struct cvma_eventlog_replay *rp, const json_t *events,
                           const json_t *replay)
{
    json_t *a = reread(events), *r = reread(replay);
    bool ccel = m->format == CVMA_EVENTLOG_CCEL;
    char label[16], key[12];
    if (a != NULL) {
        CHECK(json_is_array(a) && json_array_size(a) == m->n);
        for (size_t i = 0; i < m->n; i++) {
            const json_t *o = json_array_get(a, i), *d = json_object_get(o, "digests");
            const struct ev *w = &m->ev[i];
            size_t n_dig = 0;
            CHECK(fz_jint_is(o, "index", (long long)i));
            CHECK(fz_jint_is(o, "data_size", (long long)w->dlen));
            if (ccel) {
                CHECK(fz_jint_is(o, "mr_index", w->pcr) && json_object_get(o, "pcr") == NULL);
                CHECK(w->type == 3 || w->pcr == 0 ? json_object_get(o, "rtmr") == NULL
                                                  : fz_jint_is(o, "rtmr", (long long)w->pcr - 1));
            } else {
                CHECK(fz_jint_is(o, "pcr", w->pcr) && json_object_get(o, "mr_index") == NULL);
            }
            CHECK(json_is_object(d));
            for (size_t b = 0; b < m->n_banks; b++) {
                if (w->dig[b] == 0) {
                    continue;
                }
                label_of(m->alg[b], label);
                CHECK(fz_hex_is(fz_jstr(d, label), raw + w->dig[b], m->dsize[b]));
                n_dig++;
            }
            CHECK(json_object_size(d) == n_dig);
        }
    }
    if (r != NULL) {
        const json_t *banks = json_object_get(r, ccel ? "rtmr" : "pcrs");
        size_t n_valid = 0;
        CHECK(json_is_object(r) && json_object_size(r) == 1);
        for (size_t b = 0; b < m->n_banks; b++) {
            if (known_md(m->alg[b]) == NULL) {
                continue;
            }
            const json_t *regs = banks;
            unsigned n = ccel ? CVMA_EVENTLOG_NRTMR : CVMA_EVENTLOG_NPCR;
            if (!ccel) {
                label_of(m->alg[b], label);
                regs = json_object_get(banks, label);
            }
            CHECK(json_is_object(regs) && json_object_size(regs) == n);
            for (unsigned i = 0; i < n; i++) {
                snprintf(key, sizeof key, "%u", i);
                CHECK(fz_hex_is(fz_jstr(regs, key), rp->reg[b][i], m->dsize[b]));
            }
            n_valid++;
        }
        CHECK(ccel ? (banks != NULL) == (n_valid > 0) : json_object_size(banks) == n_valid);
    }
    json_decref(a);
    json_decref(r);
}

static void check_log(const struct model *m, const struct cvma_eventlog *log)
{
    const uint8_t *raw = log->raw.p;
    CHECK(log->format == m->format);
    CHECK(log->n_banks == m->n_banks);
    for (size_t b = 0; b < m->n_banks; b++) {
        CHECK(log->banks[b].alg == m->alg[b] && log->banks[b].size == m->dsize[b]);
        CHECK(log->banks[b].replayable == (known_md(m->alg[b]) != NULL));
    }
    CHECK(log->n_events == m->n);
    for (size_t i = 0; i < m->n; i++) {
        const struct cvma_eventlog_event *e = &log->events[i];
        const struct ev *w = &m->ev[i];
        CHECK(e->index == i && e->offset == w->off && e->pcr == w->pcr && e->type == w->type);
        CHECK(e->data.p == raw + w->doff && e->data.len == w->dlen);
        for (size_t b = 0; b < m->n_banks; b++) {
            CHECK(w->dig[b] == 0 ? e->digest[b] == NULL : e->digest[b] == raw + w->dig[b]);
        }
    }
    CHECK(log->has_startup_locality == m->has_loc);
    CHECK(!m->has_loc || log->startup_locality == m->loc);
    CHECK(log->padding_len == m->padding && log->end == m->end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum cvma_eventlog_format formats[] = {CVMA_EVENTLOG_AUTO, CVMA_EVENTLOG_TCG,
                                                        CVMA_EVENTLOG_TCG_SHA1, CVMA_EVENTLOG_CCEL};
    static struct model m;
    struct cvma_eventlog log;
    struct cvma_verdict v;
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    enum cvma_eventlog_format f = size > 0 ? formats[data[size - 1] & 3] : CVMA_EVENTLOG_AUTO;

    if (rp == NULL) {
        return 0;
    }
    cvma_verdict_init(&v);
    (void)cvma_eventlog_detect(data, size);
    walk(&m, data, size, f);
    enum cvma_status st = cvma_eventlog_parse(data, size, f, &log, &v);
    CHECK(st == CVMA_OK || st == CVMA_REJECTED || st == CVMA_E_NOMEM);
    CHECK((st == CVMA_OK) == m.ok || st == CVMA_E_NOMEM);
    if (st == CVMA_OK) {
        struct cvma_eventlog_quoted q;
        uint8_t rtmr[4][48];
        CHECK(log.raw.len == size && memcmp(log.raw.p, data, size) == 0);
        check_log(&m, &log);
        cvma_eventlog_replay(&log, rp);
        check_replay(&m, log.raw.p, rp);
        json_t *a = cvma_eventlog_events_json(&log), *b = cvma_eventlog_replay_json(&log, rp),
               *c = cvma_eventlog_claims_json(&log);
        CHECK(a == NULL || json_array_size(a) == m.n);
        check_json_out(&m, log.raw.p, rp, a, b);
        char *s = json_dumps(c, JSON_COMPACT);
        free(s);
        json_decref(a);
        json_decref(b);
        json_decref(c);
        memset(&q, 0, sizeof q);
        memset(rtmr, 0, sizeof rtmr);
        q.alg = CVMA_TPM_ALG_SHA256;
        q.mask = 0xFFFFFFu;
        (void)!cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v);
        (void)!cvma_eventlog_compare_rtmrs(&log, rp, (const uint8_t(*)[48])rtmr, &v);
    }
    cvma_eventlog_cleanup(&log);
    const char *heading = NULL;
    json_decref(cvma_eventlog_show(data, size, &heading, &v));
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    free(rp);
    return 0;
}
