/*
 * libFuzzer target: the transparency-log parsers (src/tlog). The first byte picks what the
 * rest is:
 *   0  a signed note (split, signature lines; a signature and a cosignature check)
 *   1  a checkpoint text
 *   2  a c2sp.org/tlog-proof@v1 file (then its inclusion proof against its checkpoint)
 *   3  a tlog-witness add-checkpoint request body
 *   4  a consistency proof JSON (then checked against fixed roots)
 *   5  a note verifier key and a signer key string
 *   6  an entry bundle as the monitor fetches it (the next byte + 1 is the entry count),
 *      checked against a reading by hand: lengths, spans, and nothing given back on refusal
 *   7  a registry JWS as log append peeks at it (cvma_tlog_reg_peek); what it reads is
 *      checked against the payload decoded here (base64url by hand, then jansson)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tlog/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cvma_note_vkey *fuzz_vkey(void)
{
    static struct cvma_note_vkey k;
    static bool done;
    if (!done) {
        static const char s[] = "example.com/acme/registry-log+95ac6ad7+"
                                "AYOzbGIuD1ciHVA3K59YtD2SvgD/Jrl6xufCFT1/vFW6";
        char err[200];
        if (!cvma_note_vkey_parse(s, strlen(s), &k, err, sizeof err)) {
            memset(&k, 0, sizeof k);
            snprintf(k.name, sizeof k.name, "example.com/acme/registry-log");
        }
        done = true;
    }
    return &k;
}

/* The monitor's bundle rule by hand: cnt entries of (u16be length >= 1, bytes), nothing after. */
static void check_bundle(const uint8_t *p, size_t n, size_t cnt)
{
    static struct cvma_span got[CVMA_TLOG_TILE_WIDTH];
    char err[200];
    size_t off = 0, i;
    bool want = true;
    memset(got, 0xa5, sizeof got);
    bool ok = cvma_tlog_bundle_parse(p, n, cnt, got, err, sizeof err);
    for (i = 0; i < cnt && want; i++) {
        size_t l = n - off >= 2 ? (size_t)p[off] << 8 | p[off + 1] : 0;
        want = l > 0 && n - off - 2 >= l;
        if (want && ok && (got[i].p != p + off + 2 || got[i].len != l)) {
            abort();
        }
        off += want ? 2 + l : 0;
    }
    want = want && off == n;
    if (ok != want) {
        abort();
    }
    for (i = 0; i < cnt && !ok; i++) {
        if (got[i].p != NULL || got[i].len != 0) {
            abort(); /* refused: nothing given back */
        }
    }
}

static int b64url_value(uint8_t c)
{
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '-'             ? 62
           : c == '_'             ? 63
                                  : -1;
}

/* The JWS payload (between the two dots) decoded here; NULL when it cannot be. */
static json_t *payload_by_hand(const uint8_t *p, size_t n)
{
    const uint8_t *d1 = memchr(p, '.', n), *d2;
    if (d1 == NULL || (d2 = memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - p))) == NULL) {
        return NULL;
    }
    size_t len = (size_t)(d2 - d1 - 1), k = 0;
    uint8_t *out = malloc(len + 1);
    uint32_t acc = 0;
    int bits = 0;
    json_t *j = NULL;
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(d1[1 + i]);
        if (v < 0) {
            goto out;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (uint8_t)(acc >> bits);
        }
    }
    j = json_loadb((const char *)out, k, JSON_REJECT_DUPLICATES, NULL);
out:
    free(out);
    return j;
}

static void check_reg_peek(const uint8_t *p, size_t n)
{
    struct cvma_tlog_reg_info info;
    char err[300];
    memset(&info, 0xa5, sizeof info);
    if (!cvma_tlog_reg_peek(p, n, &info, err, sizeof err)) {
        static const struct cvma_tlog_reg_info zero;
        if (memcmp(&info, &zero, sizeof info) != 0) {
            abort(); /* refused: nothing given back */
        }
        return;
    }
    json_t *pl = payload_by_hand(p, n);
    const json_t *jp = json_object_get(pl, "provider"), *jv = json_object_get(pl, "version");
    if (!json_is_string(jp) || json_string_length(jp) < 1 ||
        json_string_length(jp) > CVMA_REG_PROVIDER_MAX ||
        strcmp(info.provider, json_string_value(jp)) != 0 || !json_is_integer(jv) ||
        json_integer_value(jv) < 1 || info.version != (uint64_t)json_integer_value(jv) ||
        strlen(info.kid) > CVMA_JWS_KID_MAX) {
        abort();
    }
    json_decref(pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[300];
    if (size < 1) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 8) {
    case 0: {
        struct cvma_note note;
        if (cvma_note_parse(p, n, &note, err, sizeof err) == CVMA_OK) {
            uint64_t t;
            (void)cvma_note_check_sig(&note, fuzz_vkey());
            (void)cvma_note_check_cosig(&note, fuzz_vkey(), &t);
            cvma_note_cleanup(&note);
        }
        break;
    }
    case 1: {
        struct cvma_checkpoint cp;
        bool ok = cvma_checkpoint_parse((const char *)p, n, &cp, err, sizeof err);
        (void)ok;
        break;
    }
    case 2: {
        struct cvma_tlog_proof *pr = malloc(sizeof *pr);
        if (pr != NULL && cvma_tlog_proof_parse(p, n, pr, err, sizeof err) == CVMA_OK) {
            uint8_t leaf[32] = {0};
            (void)cvma_merkle_verify(leaf, pr->index, pr->cp.size, (const uint8_t(*)[32])pr->hashes,
                                     pr->n_hashes, pr->cp.root);
            cvma_tlog_proof_cleanup(pr);
        }
        free(pr);
        break;
    }
    case 3: {
        uint64_t old;
        static uint8_t proof[CVMA_TLOG_PROOF_MAX][32];
        size_t np;
        struct cvma_span cp;
        bool ok = cvma_witness_parse_request(p, n, &old, proof, &np, &cp, err, sizeof err);
        (void)ok;
        break;
    }
    case 4: {
        static struct cvma_tlog_consistency c;
        if (cvma_tlog_consistency_parse(p, n, &c, err, sizeof err)) {
            uint8_t a[32] = {1}, b[32] = {2};
            (void)cvma_merkle_verify_consistency(c.old_size, c.new_size, a, b,
                                                 (const uint8_t(*)[32])c.hashes, c.n_hashes);
        }
        break;
    }
    case 6:
        if (n >= 1) {
            check_bundle(p + 1, n - 1, (size_t)p[0] + 1);
        }
        break;
    case 7:
        check_reg_peek(p, n);
        break;
    default: {
        struct cvma_note_vkey v;
        struct cvma_note_skey s;
        bool ok = cvma_note_vkey_parse((const char *)p, n, &v, err, sizeof err);
        (void)ok;
        if (cvma_note_skey_parse((const char *)p, n, &s, err, sizeof err)) {
            cvma_note_skey_cleanup(&s);
        }
        break;
    }
    }
    return 0;
}
