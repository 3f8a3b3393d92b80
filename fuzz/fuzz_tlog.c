/*
 * libFuzzer target: the transparency-log parsers (src/tlog). The first byte picks what the
 * rest is:
 *   0  a signed note (split, signature lines; a signature and a cosignature check), checked
 *      against a split by hand: text, each line's name, key ID and signature bytes
 *   1  a checkpoint text, checked against a line-by-line reading (origin, size, root hash)
 *   2  a c2sp.org/tlog-proof@v1 file (then its inclusion proof against its checkpoint): the
 *      index, hashes, note and checkpoint by hand; the proof against an RFC 9162 2.1.3.2
 *      recomputation with OpenSSL's SHA-256 (the root it leads to verifies, no other does);
 *      nothing given back on refusal
 *   3  a tlog-witness add-checkpoint request body, checked against a reading by hand;
 *      nothing given back on refusal (size, proof hashes, checkpoint all cleared)
 *   4  a consistency proof JSON, checked against jansson and base64 decoded here; the proof
 *      against an RFC 9162 2.1.4.2 recomputation with OpenSSL's SHA-256
 *   5  a note verifier key and a signer key string, checked against a reading by hand (name,
 *      key ID = SHA-256(name || 0x0A || type || key)[:4] with OpenSSL, the public key)
 *   6  an entry bundle as the monitor fetches it (the next byte + 1 is the entry count),
 *      checked against a reading by hand: lengths, spans, and nothing given back on refusal
 *   7  a registry JWS as log append peeks at it (cvma_tlog_reg_peek); what it reads is
 *      checked against the payload decoded here (base64url by hand, then jansson)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "fuzz_check.h"
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

/* A JWS segment decoded here: the protected header (header true: before the first dot) or the
 * payload (between the two dots); NULL when it cannot be. */
static json_t *segment_by_hand(const uint8_t *p, size_t n, bool header)
{
    const uint8_t *d1 = memchr(p, '.', n), *d2;
    if (d1 == NULL || (d2 = memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - p))) == NULL) {
        return NULL;
    }
    const uint8_t *seg = header ? p : d1 + 1;
    size_t len = header ? (size_t)(d1 - p) : (size_t)(d2 - d1 - 1);
    uint8_t *out = malloc(len + 1);
    long k = out != NULL ? fz_b64_decode(seg, len, true, out, len + 1) : -1;
    json_t *j =
            k >= 0 ? json_loadb((const char *)out, (size_t)k, JSON_REJECT_DUPLICATES, NULL) : NULL;
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
        CHECK(memcmp(&info, &zero, sizeof info) == 0); /* refused: nothing given back */
        return;
    }
    json_t *pl = segment_by_hand(p, n, false), *hdr = segment_by_hand(p, n, true);
    const json_t *jp = json_object_get(pl, "provider"), *jv = json_object_get(pl, "version");
    const json_t *jk = json_object_get(hdr, "kid");
    CHECK(json_is_string(jp) && json_string_length(jp) >= 1 &&
          json_string_length(jp) <= CVMA_REG_PROVIDER_MAX &&
          strcmp(info.provider, json_string_value(jp)) == 0 && json_is_integer(jv) &&
          json_integer_value(jv) >= 1 && info.version == (uint64_t)json_integer_value(jv));
    /* the header's kid, as it is, or none */
    CHECK(hdr != NULL);
    CHECK(json_is_string(jk) ? strcmp(info.kid, json_string_value(jk)) == 0 : info.kid[0] == '\0');
    json_decref(pl);
    json_decref(hdr);
}

/* Decimal, no sign, no leading zero (but "0"), at most 2^63 - 1. */
static bool dec(const uint8_t *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19 || (n > 1 && s[0] == '0')) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return v <= (uint64_t)INT64_MAX;
}

/* The line at *off (without '\n'); false when no '\n' is left. */
static bool line_at(const uint8_t *p, size_t n, size_t *off, const uint8_t **l, size_t *ll)
{
    const uint8_t *nl = memchr(p + *off, '\n', n - *off);
    if (nl == NULL) {
        return false;
    }
    *l = p + *off;
    *ll = (size_t)(nl - *l);
    *off += *ll + 1;
    return true;
}

/* UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF) without control
 * characters but '\n'. */
static bool utf8_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t k = c < 0x80                 ? 0
                   : c >= 0xc2 && c <= 0xdf ? 1
                   : c >= 0xe0 && c <= 0xef ? 2
                   : c >= 0xf0 && c <= 0xf4 ? 3
                                            : 9;
        if (k == 9 || n - i - 1 < k || (k == 0 && ((c < 0x20 && c != '\n') || c == 0x7f))) {
            return false;
        }
        uint32_t cp = k == 0 ? c : k == 1 ? c & 0x1fu : k == 2 ? c & 0x0fu : c & 0x07u;
        for (size_t j = 1; j <= k; j++) {
            if (p[i + j] >> 6 != 2) {
                return false;
            }
            cp = cp << 6 | (p[i + j] & 0x3fu);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
            return false;
        }
        i += k + 1;
    }
    return true;
}

/* Whether a Unicode space beyond ASCII is encoded at s[0..n): matched as UTF-8 bytes (U+0085,
 * U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). */
static bool utf8_space_at(const uint8_t *s, size_t n)
{
    if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0)) {
        return true;
    }
    if (n < 3) {
        return false;
    }
    return (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) ||
           (s[0] == 0xe2 && s[1] == 0x80 &&
            (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf) && s[2] >= 0x80) ||
           (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||
           (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80);
}

/* Whether a C1 control (U+0080..U+009F) is encoded at s[0..n): C2 80..C2 9F. */
static bool utf8_c1_at(const uint8_t *s, size_t n)
{
    return n >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f;
}

/* A signer name in a signature line (signed-note.md): 1..255 bytes of UTF-8, none a space
 * (Unicode's too), '+' or a C0 control. C1 controls pass: an unknown signer is ignored. */
static bool sig_name_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] <= 0x20 || s[i] == '+' || utf8_space_at(s + i, n - i)) {
            return false;
        }
    }
    /* valid UTF-8, and no DEL (as in the whole note) */
    return n >= 1 && n <= CVMA_TLOG_NAME_MAX && utf8_text(s, n);
}

/* A key's name (verifier and signer keys): a signer name without DEL or a C1 control either. */
static bool key_name_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 0x7f || utf8_c1_at(s + i, n - i)) {
            return false;
        }
    }
    return sig_name_ok(s, n);
}

/* The note split by hand: the text up to the last "\n\n" (with one '\n'), then lines
 * "— NAME BASE64(key ID || signature)", each ending in '\n'. */
static void check_note(const uint8_t *p, size_t n, enum cvma_status st, const struct cvma_note *nt)
{
    static const struct cvma_note zero;
    size_t split = SIZE_MAX, off, k = 0;
    bool ok = n <= CVMA_TLOG_NOTE_MAX;
    for (size_t i = n; ok && i >= 2 && split == SIZE_MAX; i--) {
        split = p[i - 1] == '\n' && p[i - 2] == '\n' ? i - 2 : SIZE_MAX;
    }
    ok = ok && split != SIZE_MAX && split > 0 && utf8_text(p, n); /* the whole message */
    for (off = split + 2; ok && off < n; k++) {
        const uint8_t *l;
        size_t ll;
        ok = k < CVMA_TLOG_SIGS_MAX && line_at(p, n, &off, &l, &ll) && ll >= 4 &&
             memcmp(l, "\xe2\x80\x94 ", 4) == 0;
        const uint8_t *sp = ok ? memchr(l + 4, ' ', ll - 4) : NULL;
        ok = sp != NULL && sig_name_ok(l + 4, (size_t)(sp - l - 4));
        /* Any length of signature: one longer than CVMA_TLOG_SIG_MAX is kept by its length. */
        size_t bl = ok ? ll - (size_t)(sp + 1 - l) : 0;
        uint8_t *raw = ok ? malloc(bl + 1) : NULL;
        long rl = raw != NULL ? fz_b64_decode(sp + 1, bl, false, raw, bl + 1) : -1;
        ok = rl >= 5;
        if (ok && st == CVMA_OK) {
            const struct cvma_note_sig *s = &nt->sigs[k];
            CHECK(strlen(s->name) == (size_t)(sp - l - 4) &&
                  memcmp(s->name, l + 4, strlen(s->name)) == 0);
            CHECK(s->id == ((uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
                            (uint32_t)raw[2] << 8 | raw[3]));
            CHECK(s->len == (size_t)rl - 4 &&
                  (s->len > CVMA_TLOG_SIG_MAX || memcmp(s->sig, raw + 4, s->len) == 0));
        }
        free(raw);
    }
    ok = ok && k > 0;
    CHECK((st == CVMA_OK) == ok || st == CVMA_E_NOMEM);
    if (st != CVMA_OK) {
        CHECK(memcmp(nt, &zero, sizeof zero) == 0); /* refused: nothing given back */
        return;
    }
    CHECK(nt->n_sigs == k && nt->text_len == split + 1 && memcmp(nt->text, p, split + 1) == 0 &&
          nt->text[split + 1] == '\0');
}

/* A checkpoint line by line: origin (1..255 bytes, no NUL), size, base64 root of 32 bytes, then
 * non-empty extension lines, every line ending in '\n'. */
static void check_checkpoint(const uint8_t *p, size_t n, bool got_ok,
                             const struct cvma_checkpoint *cp)
{
    static const struct cvma_checkpoint zero;
    const uint8_t *o, *sz, *rt, *ext;
    size_t ol, szl, rtl, el, off = 0;
    uint64_t size = 0;
    uint8_t root[32];
    bool ok = line_at(p, n, &off, &o, &ol) && line_at(p, n, &off, &sz, &szl) &&
              line_at(p, n, &off, &rt, &rtl) && ol >= 1 && ol <= CVMA_TLOG_NAME_MAX &&
              memchr(o, '\0', ol) == NULL && dec(sz, szl, &size) &&
              fz_b64_decode(rt, rtl, false, root, sizeof root) == 32;
    while (ok && off < n) {
        ok = line_at(p, n, &off, &ext, &el) && el > 0;
    }
    if (ok && size == 0) {
        /* the empty tree's root is SHA-256("") (RFC 9162 2.1.1), recomputed by OpenSSL */
        uint8_t empty[32];
        CHECK(EVP_Digest("", 0, empty, NULL, EVP_sha256(), NULL) == 1);
        ok = memcmp(root, empty, 32) == 0;
    }
    CHECK(got_ok == ok);
    if (!ok) {
        CHECK(memcmp(cp, &zero, sizeof zero) == 0); /* refused: nothing given back */
        return;
    }
    CHECK(strlen(cp->origin) == ol && memcmp(cp->origin, o, ol) == 0);
    CHECK(cp->size == size && memcmp(cp->root, root, 32) == 0);
}

static void sha256_node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t b[65];
    b[0] = 0x01;
    memcpy(b + 1, l, 32);
    memcpy(b + 33, r, 32);
    CHECK(EVP_Digest(b, sizeof b, out, NULL, EVP_sha256(), NULL) == 1);
}

/* RFC 9162 §2.1.3.2: the root an inclusion proof leads to; false when its shape is wrong. */
static bool inclusion_root(const uint8_t leaf[32], uint64_t index, uint64_t size,
                           const uint8_t (*path)[32], size_t n, uint8_t root[32])
{
    uint64_t fn = index, sn = size - 1;
    if (index >= size) {
        return false;
    }
    memcpy(root, leaf, 32);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) || fn == sn) {
            sha256_node(path[i], root, root);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            sha256_node(root, path[i], root);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0;
}

/* RFC 9162 §2.1.4.2 for 0 < old < new: the two roots a consistency proof leads to (old_root
 * is the proof's first node when old is a power of two); false when its shape is wrong. */
static bool consistency_roots(uint64_t old, uint64_t nw, const uint8_t old_root[32],
                              const uint8_t (*proof)[32], size_t n, uint8_t fr[32], uint8_t sr[32])
{
    size_t i = 0;
    uint64_t fn = old - 1, sn = nw - 1;
    const uint8_t *first;
    if ((old & (old - 1)) == 0) {
        first = old_root;
    } else if (n == 0) {
        return false;
    } else {
        first = proof[i++];
    }
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, first, 32);
    memcpy(sr, first, 32);
    for (; i < n; i++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) || fn == sn) {
            sha256_node(proof[i], fr, fr);
            sha256_node(proof[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            sha256_node(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0;
}

/* cvma_merkle_verify accepts the root the recomputation gives (and only it). */
static void check_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
                            const uint8_t (*path)[32], size_t n)
{
    uint8_t root[32];
    bool shape = inclusion_root(leaf, index, size, path, n, root);
    CHECK(cvma_merkle_verify(leaf, index, size, path, n, root) == shape);
    root[n % 32] ^= 0x01;
    CHECK(!cvma_merkle_verify(leaf, index, size, path, n, root));
}

static void check_consistency(uint64_t old, uint64_t nw, const uint8_t (*proof)[32], size_t n)
{
    uint8_t a[32] = {1}, fr[32], sr[32];
    if (old == 0 || old >= nw) {
        return; /* the edge cases the project accepts as tlog-witness does: not recomputed */
    }
    bool shape = consistency_roots(old, nw, a, proof, n, fr, sr);
    CHECK(cvma_merkle_verify_consistency(old, nw, fr, sr, proof, n) == shape);
    /* The old root the proof pins to the new one: the recomputed one, when the proof holds it
     * (old not a power of two), and none for another new root. */
    uint8_t implied[32];
    bool pow2 = (old & (old - 1)) == 0;
    CHECK(cvma_merkle_consistency_old_root(old, nw, sr, proof, n, implied) == (shape && !pow2));
    CHECK(!(shape && !pow2) || memcmp(implied, fr, 32) == 0);
    sr[0] ^= 0x01;
    CHECK(!cvma_merkle_verify_consistency(old, nw, fr, sr, proof, n));
    CHECK(!cvma_merkle_consistency_old_root(old, nw, sr, proof, n, implied));
    sr[0] ^= 0x01;
    fr[31] ^= 0x80;
    CHECK(!cvma_merkle_verify_consistency(old, nw, fr, sr, proof, n));
}

/* A tlog-proof file by hand: the header, an optional "extra" line, "index N", hash lines up
 * to an empty line, then the checkpoint note. */
static void check_proof(const uint8_t *p, size_t n, enum cvma_status st,
                        const struct cvma_tlog_proof *pr)
{
    const uint8_t *l;
    size_t ll, off = 0, k = 0;
    uint64_t index = 0;
    static uint8_t h[CVMA_TLOG_PROOF_MAX][32];
    static struct cvma_note note;
    static struct cvma_checkpoint cp;
    char err[200];
    bool ok = line_at(p, n, &off, &l, &ll) && ll == strlen(CVMA_TLOG_PROOF_HEADER) &&
              memcmp(l, CVMA_TLOG_PROOF_HEADER, ll) == 0 && line_at(p, n, &off, &l, &ll);
    if (ok && ll >= 6 && memcmp(l, "extra ", 6) == 0) {
        ok = line_at(p, n, &off, &l, &ll);
    }
    ok = ok && ll >= 6 && memcmp(l, "index ", 6) == 0 && dec(l + 6, ll - 6, &index);
    for (;;) {
        ok = ok && line_at(p, n, &off, &l, &ll);
        if (!ok || ll == 0) {
            break;
        }
        ok = k < CVMA_TLOG_PROOF_MAX && fz_b64_decode(l, ll, false, h[k], 32) == 32;
        k++;
    }
    /* The note and its checkpoint: the parsers checked on their own in cases 0 and 1. */
    enum cvma_status nst =
            ok ? cvma_note_parse(p + off, n - off, &note, err, sizeof err) : CVMA_REJECTED;
    ok = ok && nst == CVMA_OK &&
         cvma_checkpoint_parse(note.text, note.text_len, &cp, err, sizeof err);
    CHECK((st == CVMA_OK) == ok || st == CVMA_E_NOMEM || nst == CVMA_E_NOMEM);
    if (st != CVMA_OK) {
        static const struct cvma_tlog_proof zero;
        CHECK(memcmp(pr, &zero, sizeof zero) == 0); /* refused: nothing given back */
    }
    if (ok && st == CVMA_OK) {
        CHECK(pr->index == index && pr->n_hashes == k && memcmp(pr->hashes, h, 32 * k) == 0);
        CHECK(pr->note.text_len == note.text_len &&
              memcmp(pr->note.text, note.text, note.text_len) == 0 &&
              pr->note.n_sigs == note.n_sigs);
        CHECK(memcmp(&pr->cp, &cp, sizeof cp) == 0);
        uint8_t leaf[32] = {0};
        check_inclusion(leaf, pr->index, pr->cp.size, (const uint8_t(*)[32])pr->hashes,
                        pr->n_hashes);
    }
    if (nst == CVMA_OK) {
        cvma_note_cleanup(&note);
    }
}

/* An add-checkpoint body by hand: "old N", proof lines, an empty line, the checkpoint. */
static void check_request(const uint8_t *p, size_t n)
{
    static uint8_t proof[CVMA_TLOG_PROOF_MAX][32], h[CVMA_TLOG_PROOF_MAX][32];
    static const uint8_t zero_proof[CVMA_TLOG_PROOF_MAX][32];
    uint64_t old = 0xa5a5a5a5a5a5a5a5u, want_old = 0;
    size_t np = 0xa5a5, k = 0, off = 0, ll;
    const uint8_t *l;
    struct cvma_span cp;
    char err[300];
    memset(proof, 0xa5, sizeof proof);
    memset(&cp, 0xa5, sizeof cp);
    bool got = cvma_witness_parse_request(p, n, &old, proof, &np, &cp, err, sizeof err);
    bool ok = line_at(p, n, &off, &l, &ll) && ll >= 5 && ll <= 23 && memcmp(l, "old ", 4) == 0 &&
              (ll == 5 || l[4] != '0');
    for (size_t i = 4; ok && i < ll; i++) {
        ok = l[i] >= '0' && l[i] <= '9';
        want_old = want_old * 10 + (uint64_t)(l[i] - '0');
    }
    for (;;) {
        ok = ok && line_at(p, n, &off, &l, &ll);
        if (!ok || ll == 0) {
            break;
        }
        ok = k < CVMA_TLOG_PROOF_MAX && fz_b64_decode(l, ll, false, h[k], 32) == 32;
        k++;
    }
    CHECK(got == ok);
    if (ok) {
        CHECK(old == want_old && np == k && memcmp(proof, h, 32 * k) == 0);
        CHECK(cp.p == p + off && cp.len == n - off);
    } else {
        /* refused: nothing given back */
        CHECK(old == 0 && np == 0 && cp.p == NULL && cp.len == 0);
        CHECK(memcmp(proof, zero_proof, sizeof proof) == 0);
    }
}

/* The consistency proof JSON read with jansson, hashes decoded here. */
static void check_consistency_json(const uint8_t *p, size_t n,
                                   const struct cvma_tlog_consistency *c, bool got)
{
    static const struct cvma_tlog_consistency zero;
    static uint8_t h[CVMA_TLOG_PROOF_MAX][32];
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
    const json_t *o = json_object_get(j, "old_size"), *nw = json_object_get(j, "new_size"),
                 *hs = json_object_get(j, "hashes");
    bool ok = json_is_object(j) &&
              json_object_size(j) == (size_t)(o != NULL) + (nw != NULL) + (hs != NULL) &&
              json_is_integer(o) && json_is_integer(nw) && json_integer_value(o) >= 0 &&
              json_integer_value(nw) >= json_integer_value(o) && json_is_array(hs) &&
              json_array_size(hs) <= CVMA_TLOG_PROOF_MAX;
    for (size_t i = 0; ok && i < json_array_size(hs); i++) {
        const json_t *e = json_array_get(hs, i);
        ok = json_is_string(e) && fz_b64_decode((const uint8_t *)json_string_value(e),
                                                json_string_length(e), false, h[i], 32) == 32;
    }
    CHECK(got == ok);
    if (!ok) {
        CHECK(memcmp(c, &zero, sizeof zero) == 0); /* refused: nothing given back */
    } else {
        CHECK(c->old_size == (uint64_t)json_integer_value(o) &&
              c->new_size == (uint64_t)json_integer_value(nw) &&
              c->n_hashes == json_array_size(hs) && memcmp(c->hashes, h, 32 * c->n_hashes) == 0);
    }
    json_decref(j);
}

/* A key string by hand: NAME+KEYID+BASE64(type || key), trailing "\n", "\r", " " dropped. */
static bool key_by_hand_typed(const uint8_t *s, size_t n, size_t *name_len, uint32_t *id,
                              uint8_t key[32], uint8_t *type)
{
    uint8_t raw[40];
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) {
        n--;
    }
    const uint8_t *p1 = memchr(s, '+', n);
    if (p1 == NULL || !key_name_ok(s, (size_t)(p1 - s)) || n - (size_t)(p1 - s) < 10 ||
        p1[9] != '+') {
        return false;
    }
    *name_len = (size_t)(p1 - s);
    *id = 0;
    for (int i = 1; i <= 8; i++) {
        int v = p1[i] >= '0' && p1[i] <= '9'   ? p1[i] - '0'
                : p1[i] >= 'a' && p1[i] <= 'f' ? p1[i] - 'a' + 10
                                               : -1;
        if (v < 0) {
            return false;
        }
        *id = *id << 4 | (uint32_t)v;
    }
    if (fz_b64_decode(p1 + 10, n - (size_t)(p1 + 10 - s), false, raw, sizeof raw) != 33 ||
        (raw[0] != 0x01 && raw[0] != 0x04)) {
        return false;
    }
    *type = raw[0];
    memcpy(key, raw + 1, 32);
    return true;
}

/* A key of type 0x01 (a log's, a signer's). */
static bool key_by_hand(const uint8_t *s, size_t n, size_t *name_len, uint32_t *id, uint8_t key[32])
{
    uint8_t type = 0;
    return key_by_hand_typed(s, n, name_len, id, key, &type) && type == 0x01;
}

static uint32_t key_id(const uint8_t *name, size_t n, uint8_t type, const uint8_t pub[32])
{
    uint8_t b[CVMA_TLOG_NAME_MAX + 34], d[32];
    memcpy(b, name, n);
    b[n] = '\n';
    b[n + 1] = type;
    memcpy(b + n + 2, pub, 32);
    CHECK(EVP_Digest(b, n + 34, d, NULL, EVP_sha256(), NULL) == 1);
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

static void check_keys(const uint8_t *p, size_t n)
{
    static const struct cvma_note_vkey zero;
    struct cvma_note_vkey v;
    struct cvma_note_skey s;
    char err[300];
    size_t nl = 0;
    uint32_t id = 0;
    uint8_t key[32], pub[32];
    bool ok = key_by_hand(p, n, &nl, &id, key) && id == key_id(p, nl, 0x01, key);
    memset(&v, 0xa5, sizeof v);
    bool got = cvma_note_vkey_parse((const char *)p, n, &v, err, sizeof err);
    CHECK(got == ok);
    if (!got) {
        CHECK(memcmp(&v, &zero, sizeof v) == 0); /* refused: nothing given back */
    } else {
        CHECK(strlen(v.name) == nl && memcmp(v.name, p, nl) == 0 && v.id == id &&
              memcmp(v.pub, key, 32) == 0 && v.cosig_id == key_id(p, nl, 0x04, key));
    }
    /* a witness's: type 0x01, or 0x04 with the cosignature key ID */
    uint8_t type = 0;
    ok = key_by_hand_typed(p, n, &nl, &id, key, &type) && id == key_id(p, nl, type, key);
    memset(&v, 0xa5, sizeof v);
    got = cvma_note_witness_vkey_parse((const char *)p, n, &v, err, sizeof err);
    CHECK(got == ok);
    if (!got) {
        CHECK(memcmp(&v, &zero, sizeof v) == 0);
    } else {
        CHECK(strlen(v.name) == nl && memcmp(v.name, p, nl) == 0 &&
              v.id == key_id(p, nl, 0x01, key) && memcmp(v.pub, key, 32) == 0 &&
              v.cosig_id == key_id(p, nl, 0x04, key));
    }
    ok = n >= 12 && memcmp(p, "PRIVATE+KEY+", 12) == 0 &&
         key_by_hand(p + 12, n - 12, &nl, &id, key);
    EVP_PKEY *k = ok ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key, 32) : NULL;
    size_t pl = 32;
    ok = k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &pl) == 1 && pl == 32 &&
         id == key_id(p + 12, nl, 0x01, pub);
    EVP_PKEY_free(k);
    got = cvma_note_skey_parse((const char *)p, n, &s, err, sizeof err);
    CHECK(got == ok);
    if (got) {
        CHECK(strlen(s.v.name) == nl && memcmp(s.v.name, p + 12, nl) == 0 && s.v.id == id &&
              memcmp(s.v.pub, pub, 32) == 0 && s.key != NULL);
        cvma_note_skey_cleanup(&s);
    }
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
        static struct cvma_note note;
        memset(&note, 0xa5, sizeof note);
        enum cvma_status st = cvma_note_parse(p, n, &note, err, sizeof err);
        check_note(p, n, st, &note);
        if (st == CVMA_OK) {
            uint64_t t;
            (void)cvma_note_check_sig(&note, fuzz_vkey());
            (void)cvma_note_check_cosig(&note, fuzz_vkey(), &t);
            cvma_note_cleanup(&note);
        }
        break;
    }
    case 1: {
        struct cvma_checkpoint cp;
        memset(&cp, 0xa5, sizeof cp);
        bool ok = cvma_checkpoint_parse((const char *)p, n, &cp, err, sizeof err);
        check_checkpoint(p, n, ok, &cp);
        break;
    }
    case 2: {
        struct cvma_tlog_proof *pr = malloc(sizeof *pr);
        if (pr != NULL) {
            memset(pr, 0xa5, sizeof *pr);
            enum cvma_status st = cvma_tlog_proof_parse(p, n, pr, err, sizeof err);
            check_proof(p, n, st, pr);
            if (st == CVMA_OK) {
                cvma_tlog_proof_cleanup(pr);
            }
        }
        free(pr);
        break;
    }
    case 3:
        check_request(p, n);
        break;
    case 4: {
        static struct cvma_tlog_consistency c;
        memset(&c, 0xa5, sizeof c);
        bool ok = cvma_tlog_consistency_parse(p, n, &c, err, sizeof err);
        check_consistency_json(p, n, &c, ok);
        if (ok) {
            check_consistency(c.old_size, c.new_size, (const uint8_t(*)[32])c.hashes, c.n_hashes);
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
    default:
        check_keys(p, n);
        break;
    }
    return 0;
}
