/*
 * C2SP signed-note with Ed25519 (type 0x01) and tlog-cosignature/v1 (type 0x04), and the key
 * strings Go's golang.org/x/mod/sumdb/note uses. See tlog/tlog.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/base64.h"
#include "common/reader.h"
#include "tlog/tlog.h"

static const char em_dash[] = "\xe2\x80\x94"; /* U+2014, the signature line marker */

void cvma_note_skey_cleanup(struct cvma_note_skey *k)
{
    if (k == NULL) {
        return;
    }
    EVP_PKEY_free(k->key);
    OPENSSL_cleanse(k, sizeof *k);
}

/* Unicode's White_Space characters beyond ASCII (signed-note: a key name has no spaces). */
static bool unicode_space(uint32_t cp)
{
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* signed-note.md: a key name is valid UTF-8, non-empty, without spaces (Unicode's too) or '+';
 * no C0 control either, which a note holds nowhere but its newlines. own: the stricter rule of
 * the names this code makes or is configured with, which also refuses DEL and the C1 controls
 * (U+0080..U+009F), as a terminal or a log may act on them when the name is shown. */
static bool name_ok(const char *name, bool own)
{
    const uint8_t *p = (const uint8_t *)name;
    size_t n = strlen(name);
    if (n == 0 || n > CVMA_TLOG_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = cvma_utf8_decode(p + i, n - i, &cp);
        if (k == 0 || cp <= 0x20 || cp == '+' || unicode_space(cp) ||
            (own && cp >= 0x7f && cp <= 0x9f)) {
            return false;
        }
        i += k;
    }
    return true;
}

bool cvma_note_name_ok(const char *name)
{
    return name_ok(name, true);
}

bool cvma_note_sig_name_ok(const char *name)
{
    return name_ok(name, false);
}

uint32_t cvma_note_key_id(const char *name, uint8_t alg, const uint8_t pub[32])
{
    struct sha256_ctx c;
    uint8_t sep = '\n', d[32];
    sha256_init(&c);
    sha256_update(&c, strlen(name), (const uint8_t *)name);
    sha256_update(&c, 1, &sep);
    sha256_update(&c, 1, &alg);
    sha256_update(&c, 32, pub);
    sha256_digest(&c, sizeof d, d);
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

static void fill_ids(struct cvma_note_vkey *v)
{
    v->id = cvma_note_key_id(v->name, CVMA_NOTE_ALG_ED25519, v->pub);
    v->cosig_id = cvma_note_key_id(v->name, CVMA_NOTE_ALG_COSIG_V1, v->pub);
}

/* "<prefix><name>+<8 hex>+<base64(0x01 || key)>" */
static char *key_string(const char *prefix, const char *name, uint32_t id, const uint8_t key[32])
{
    uint8_t raw[33];
    char b64[64];
    raw[0] = CVMA_NOTE_ALG_ED25519;
    memcpy(raw + 1, key, 32);
    if (!cvma_base64_encode_to(raw, sizeof raw, CVMA_B64_STD, b64, sizeof b64)) {
        return NULL;
    }
    size_t n = strlen(prefix) + strlen(name) + 1 + 8 + 1 + strlen(b64) + 1;
    char *s = malloc(n);
    if (s != NULL) {
        snprintf(s, n, "%s%s+%08" PRIx32 "+%s", prefix, name, id, b64);
    }
    OPENSSL_cleanse(raw, sizeof raw);
    return s;
}

char *cvma_note_vkey_string(const struct cvma_note_vkey *v)
{
    return key_string("", v->name, v->id, v->pub);
}

enum cvma_status cvma_note_keygen(const char *name, char **skey, char **vkey, char *err,
                                  size_t err_len)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    struct cvma_note_vkey v;
    uint8_t seed[32];
    size_t plen = 32;
    EVP_PKEY *k = NULL;

    *skey = *vkey = NULL;
    memset(&v, 0, sizeof v);
    if (!cvma_note_name_ok(name)) {
        cvma_errf(err, err_len,
                  "key name '%s': 1..%d bytes of UTF-8, no spaces, no '+', no control characters",
                  name, CVMA_TLOG_NAME_MAX);
        return CVMA_E_USAGE;
    }
    if (RAND_bytes(seed, sizeof seed) != 1 ||
        (k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof seed)) == NULL ||
        EVP_PKEY_get_raw_public_key(k, v.pub, &plen) != 1 || plen != 32) {
        cvma_errf(err, err_len, "Ed25519 key generation failed");
        goto out;
    }
    snprintf(v.name, sizeof v.name, "%s", name);
    fill_ids(&v);
    if ((*skey = key_string("PRIVATE+KEY+", name, v.id, seed)) == NULL ||
        (*vkey = cvma_note_vkey_string(&v)) == NULL) {
        free(*skey);
        *skey = NULL;
        st = CVMA_E_NOMEM;
        goto out;
    }
    st = CVMA_OK;
out:
    OPENSSL_cleanse(seed, sizeof seed);
    EVP_PKEY_free(k);
    return st;
}

/* Splits "name+hex8+base64(type || key)" (after any prefix): the name, the key, the key ID as
 * written and the type (0x01 Ed25519, or 0x04 a cosigner's); the caller checks both. */
static bool parse_key(const char *s, size_t len, char *name, uint8_t key[32], uint32_t *id,
                      uint8_t *alg, char *err, size_t err_len)
{
    const char *p1, *p2;
    uint8_t raw[40];
    size_t rlen = 0;
    char hex[9];
    char *end = NULL;

    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ')) {
        len--;
    }
    p1 = memchr(s, '+', len);
    if (p1 == NULL || (size_t)(p1 - s) > CVMA_TLOG_NAME_MAX || p1 == s) {
        cvma_errf(err, err_len, "not a note key: expected NAME+KEYID+BASE64");
        return false;
    }
    p2 = memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - s));
    if (p2 == NULL || p2 - p1 != 9) {
        cvma_errf(err, err_len, "not a note key: the key ID is not 8 hex digits");
        return false;
    }
    memcpy(name, s, (size_t)(p1 - s));
    name[p1 - s] = '\0';
    memcpy(hex, p1 + 1, 8);
    hex[8] = '\0';
    for (int i = 0; i < 8; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) {
            cvma_errf(err, err_len, "not a note key: the key ID is not 8 lower-case hex digits");
            return false;
        }
    }
    *id = (uint32_t)strtoul(hex, &end, 16);
    /* A NUL inside the name would cut it short: "a\0b" is not the name "a". */
    if (strlen(name) != (size_t)(p1 - s) || !cvma_note_name_ok(name) ||
        !cvma_base64_decode(p2 + 1, len - (size_t)(p2 + 1 - s), CVMA_B64_STD, raw, sizeof raw,
                            &rlen) ||
        rlen != 33 || (raw[0] != CVMA_NOTE_ALG_ED25519 && raw[0] != CVMA_NOTE_ALG_COSIG_V1)) {
        cvma_errf(err, err_len, "not an Ed25519 note key (name, or base64 of 0x01 || 32 bytes)");
        OPENSSL_cleanse(raw, sizeof raw);
        return false;
    }
    *alg = raw[0];
    memcpy(key, raw + 1, 32);
    OPENSSL_cleanse(raw, sizeof raw);
    return true;
}

/* A verifier key; a witness's (cosigner) may be of type 0x04 too (tlog-cosignature:
 * "MAY be encoded as vkeys with signature type 0x04"), its key ID then computed with 0x04. */
static bool vkey_parse(const char *s, size_t len, bool cosigner, struct cvma_note_vkey *out,
                       char *err, size_t err_len)
{
    uint32_t id = 0;
    uint8_t alg = 0;
    memset(out, 0, sizeof *out);
    if (!parse_key(s, len, out->name, out->pub, &id, &alg, err, err_len)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    if (alg == CVMA_NOTE_ALG_COSIG_V1 && !cosigner) {
        cvma_errf(err, err_len,
                  "note key '%s' is a cosigner's (type 0x04): a witness key, not a log's",
                  out->name);
        memset(out, 0, sizeof *out);
        return false;
    }
    fill_ids(out);
    if ((alg == CVMA_NOTE_ALG_COSIG_V1 ? out->cosig_id : out->id) != id) {
        cvma_errf(err, err_len, "note key '%s': key ID %08" PRIx32 " does not match the key",
                  out->name, id);
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

bool cvma_note_vkey_parse(const char *s, size_t len, struct cvma_note_vkey *out, char *err,
                          size_t err_len)
{
    return vkey_parse(s, len, false, out, err, err_len);
}

bool cvma_note_witness_vkey_parse(const char *s, size_t len, struct cvma_note_vkey *out, char *err,
                                  size_t err_len)
{
    return vkey_parse(s, len, true, out, err, err_len);
}

bool cvma_note_skey_parse(const char *s, size_t len, struct cvma_note_skey *out, char *err,
                          size_t err_len)
{
    static const char prefix[] = "PRIVATE+KEY+";
    uint8_t seed[32];
    uint32_t id = 0;
    uint8_t alg = 0;
    size_t plen = 32;
    bool ok = false;

    memset(out, 0, sizeof *out);
    if (len < sizeof prefix - 1 || memcmp(s, prefix, sizeof prefix - 1) != 0) {
        cvma_errf(err, err_len, "not a note signer key (PRIVATE+KEY+NAME+KEYID+BASE64)");
        return false;
    }
    if (!parse_key(s + sizeof prefix - 1, len - (sizeof prefix - 1), out->v.name, seed, &id, &alg,
                   err, err_len)) {
        goto out;
    }
    if (alg != CVMA_NOTE_ALG_ED25519) {
        cvma_errf(err, err_len, "not an Ed25519 note signer key (type 0x01)");
        goto out;
    }
    if ((out->key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32)) == NULL ||
        EVP_PKEY_get_raw_public_key(out->key, out->v.pub, &plen) != 1 || plen != 32) {
        cvma_errf(err, err_len, "not an Ed25519 key");
        goto out;
    }
    fill_ids(&out->v);
    if (out->v.id != id) {
        cvma_errf(err, err_len, "signer key '%s': key ID does not match the key", out->v.name);
        goto out;
    }
    ok = true;
out:
    OPENSSL_cleanse(seed, sizeof seed);
    if (!ok) {
        cvma_note_skey_cleanup(out);
    }
    return ok;
}

static enum cvma_status vkey_load(const char *path, bool cosigner, struct cvma_note_vkey *out,
                                  char *err, size_t err_len)
{
    struct cvma_buf b = {0};
    char why[200];
    memset(out, 0, sizeof *out);
    if (cvma_file_read(path, 4096, &b) != CVMA_OK) {
        cvma_errf(err, err_len, "cannot read %s", path);
        return CVMA_E_IO;
    }
    bool ok = vkey_parse((const char *)b.p, b.len, cosigner, out, why, sizeof why);
    cvma_buf_free(&b);
    if (!ok) {
        cvma_errf(err, err_len, "%s: %s", path, why);
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}

enum cvma_status cvma_note_vkey_load(const char *path, struct cvma_note_vkey *out, char *err,
                                     size_t err_len)
{
    return vkey_load(path, false, out, err, err_len);
}

enum cvma_status cvma_note_witness_vkey_load(const char *path, struct cvma_note_vkey *out,
                                             char *err, size_t err_len)
{
    return vkey_load(path, true, out, err, err_len);
}

enum cvma_status cvma_note_skey_load(const char *path, struct cvma_note_skey *out, char *err,
                                     size_t err_len)
{
    struct cvma_buf b = {0};
    char why[200];
    memset(out, 0, sizeof *out);
    if (cvma_file_read_secret(path, 4096, &b) != CVMA_OK) {
        cvma_errf(err, err_len, "cannot read %s: %s", path, cvma_file_read_strerror(errno));
        return CVMA_E_IO;
    }
    bool ok = cvma_note_skey_parse((const char *)b.p, b.len, out, why, sizeof why);
    cvma_buf_free_secret(&b);
    if (!ok) {
        cvma_errf(err, err_len, "%s: %s", path, why);
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}

void cvma_note_cleanup(struct cvma_note *n)
{
    if (n == NULL) {
        return;
    }
    free(n->text);
    memset(n, 0, sizeof *n);
}

/* Valid UTF-8 (no overlongs, surrogates or values above U+10FFFF), no control characters but
 * '\n' (signed-note.md). */
static bool text_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n') || c == 0x7f) {
                return false;
            }
            i++;
            continue;
        }
        size_t k = cvma_utf8_seq(p + i, n - i);
        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

/* One "— name base64" line (without its '\n'). A signature of more than CVMA_TLOG_SIG_MAX
 * bytes after its key ID (a post-quantum cosignature, say) is read but not kept: s->len says
 * how long it is, and no key this code checks signs so long (signed-note.md: signatures of
 * unknown keys are ignored, never a reason to refuse the note). CVMA_OK, CVMA_REJECTED (not
 * such a line), CVMA_E_NOMEM. */
static enum cvma_status parse_sig_line(const uint8_t *p, size_t n, struct cvma_note_sig *s)
{
    struct cvma_reader r;
    struct cvma_span dash, rest;
    uint8_t small[4 + CVMA_TLOG_SIG_MAX], *raw = small;
    size_t rlen = 0, cap = sizeof small;
    const uint8_t *sp;
    bool ok;

    memset(s, 0, sizeof *s);
    cvma_reader_init(&r, p, n);
    if (!cvma_reader_span(&r, 4, &dash) || memcmp(dash.p, em_dash, 3) != 0 || dash.p[3] != ' ') {
        return CVMA_REJECTED;
    }
    cvma_reader_rest(&r, &rest);
    sp = memchr(rest.p, ' ', rest.len);
    if (sp == NULL || sp == rest.p || (size_t)(sp - rest.p) > CVMA_TLOG_NAME_MAX) {
        return CVMA_REJECTED;
    }
    memcpy(s->name, rest.p, (size_t)(sp - rest.p));
    s->name[sp - rest.p] = '\0';
    /* A NUL inside the name would cut it short: "a\0b" is not the name "a". The name is held
     * to signed-note's rule only, not to the one of the names this code makes or is given
     * (cvma_note_name_ok): a signer it does not know may carry a C1 control in its name, and
     * its line is then ignored like any unknown signature, never a reason to refuse the note.
     * It never matches a known key (whose name has no such character), and no message shows
     * it. */
    if (strlen(s->name) != (size_t)(sp - rest.p) || !cvma_note_sig_name_ok(s->name)) {
        memset(s, 0, sizeof *s);
        return CVMA_REJECTED;
    }
    size_t blen = rest.len - (size_t)(sp + 1 - rest.p);
    /* Sized from the base64 length: the whole note is at most CVMA_TLOG_NOTE_MAX bytes. */
    if (cvma_base64_decoded_max(blen) > cap) {
        cap = cvma_base64_decoded_max(blen);
        if ((raw = malloc(cap)) == NULL) {
            memset(s, 0, sizeof *s);
            return CVMA_E_NOMEM;
        }
    }
    ok = cvma_base64_decode((const char *)sp + 1, blen, CVMA_B64_STD, raw, cap, &rlen) && rlen >= 5;
    if (ok) {
        s->id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
        s->len = rlen - 4;
        if (s->len <= CVMA_TLOG_SIG_MAX) {
            memcpy(s->sig, raw + 4, s->len);
        }
    } else {
        memset(s, 0, sizeof *s);
    }
    if (raw != small) {
        free(raw);
    }
    return ok ? CVMA_OK : CVMA_REJECTED;
}

/* The parse proper; out may hold signature lines read before a refusal (cvma_note_parse
 * clears them). */
static enum cvma_status note_parse(const uint8_t *p, size_t len, struct cvma_note *out, char *err,
                                   size_t err_len)
{
    size_t split = SIZE_MAX;

    memset(out, 0, sizeof *out);
    if (len > CVMA_TLOG_NOTE_MAX) {
        cvma_errf(err, err_len, "note larger than %zu bytes", CVMA_TLOG_NOTE_MAX);
        return CVMA_REJECTED;
    }
    /* The text ends at the last "\n\n" (signatures hold no blank line). */
    for (size_t i = len; i >= 2; i--) {
        if (p[i - 1] == '\n' && p[i - 2] == '\n') {
            split = i - 2;
            break;
        }
    }
    if (split == SIZE_MAX || split == 0) {
        cvma_errf(err, err_len, "not a signed note: no blank line before signatures");
        return CVMA_REJECTED;
    }
    /* The whole message, signature lines too (as Go's note.Open reads it): a name in a
     * signature line is UTF-8 as much as the text is. */
    if (!text_ok(p, len)) {
        cvma_errf(err, err_len, "note is not UTF-8 without control characters");
        return CVMA_REJECTED;
    }
    /* Signature lines: each ends in '\n'. */
    struct cvma_reader r;
    cvma_reader_init(&r, p + split + 2, len - split - 2);
    while (cvma_reader_left(&r) > 0) {
        const uint8_t *start = r.p + r.off;
        const uint8_t *nl = memchr(start, '\n', cvma_reader_left(&r));
        struct cvma_span line;
        if (nl == NULL) {
            cvma_errf(err, err_len, "note signature line %zu does not end in a newline",
                      out->n_sigs + 1);
            return CVMA_REJECTED;
        }
        if (out->n_sigs == CVMA_TLOG_SIGS_MAX) {
            cvma_errf(err, err_len, "more than %d note signatures", CVMA_TLOG_SIGS_MAX);
            return CVMA_REJECTED;
        }
        enum cvma_status lst = CVMA_REJECTED;
        if (!cvma_reader_span(&r, (size_t)(nl - start), &line) || !cvma_reader_skip(&r, 1) ||
            (lst = parse_sig_line(line.p, line.len, &out->sigs[out->n_sigs])) != CVMA_OK) {
            if (lst != CVMA_E_NOMEM) {
                cvma_errf(err, err_len, "note signature line %zu is not '\xe2\x80\x94 NAME BASE64'",
                          out->n_sigs + 1);
            }
            memset(out, 0, sizeof *out);
            return lst == CVMA_E_NOMEM ? lst : CVMA_REJECTED;
        }
        out->n_sigs++;
    }
    if (out->n_sigs == 0) {
        cvma_errf(err, err_len, "note has no signature");
        return CVMA_REJECTED;
    }
    if ((out->text = malloc(split + 2)) == NULL) {
        memset(out, 0, sizeof *out);
        return CVMA_E_NOMEM;
    }
    memcpy(out->text, p, split + 1);
    out->text[split + 1] = '\0';
    out->text_len = split + 1;
    return CVMA_OK;
}

enum cvma_status cvma_note_parse(const uint8_t *p, size_t len, struct cvma_note *out, char *err,
                                 size_t err_len)
{
    enum cvma_status st = note_parse(p, len, out, err, err_len);
    if (st != CVMA_OK) {
        /* An out-parameter is set only on success: no signature line read before the
         * refusal is given back. */
        free(out->text);
        memset(out, 0, sizeof *out);
    }
    return st;
}

static bool ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t mlen,
                           const uint8_t sig[64])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = k != NULL && c != NULL && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
              EVP_DigestVerify(c, sig, 64, msg, mlen) == 1;
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(k);
    return ok;
}

static bool ed25519_sign(EVP_PKEY *k, const uint8_t *msg, size_t mlen, uint8_t sig[64])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t slen = 64;
    bool ok = c != NULL && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
              EVP_DigestSign(c, sig, &slen, msg, mlen) == 1 && slen == 64;
    EVP_MD_CTX_free(c);
    return ok;
}

enum cvma_note_check cvma_note_check_sig(const struct cvma_note *n, const struct cvma_note_vkey *k)
{
    enum cvma_note_check res = CVMA_NOTE_ABSENT;
    for (size_t i = 0; i < n->n_sigs; i++) {
        const struct cvma_note_sig *s = &n->sigs[i];
        if (s->id != k->id || strcmp(s->name, k->name) != 0) {
            continue;
        }
        if (s->len != 64 ||
            !ed25519_verify(k->pub, (const uint8_t *)n->text, n->text_len, s->sig)) {
            return CVMA_NOTE_INVALID; /* a known key's bad signature rejects the note */
        }
        res = CVMA_NOTE_VALID;
    }
    return res;
}

/* "cosignature/v1\ntime <T>\n" || text, malloc'd. */
static uint8_t *cosig_message(const char *text, size_t text_len, uint64_t t, size_t *mlen)
{
    char head[64];
    int h = snprintf(head, sizeof head, "cosignature/v1\ntime %" PRIu64 "\n", t);
    uint8_t *m = malloc((size_t)h + text_len);
    if (m == NULL) {
        return NULL;
    }
    memcpy(m, head, (size_t)h);
    memcpy(m + h, text, text_len);
    *mlen = (size_t)h + text_len;
    return m;
}

enum cvma_note_check cvma_note_check_cosig(const struct cvma_note *n,
                                           const struct cvma_note_vkey *k, uint64_t *timestamp)
{
    enum cvma_note_check res = CVMA_NOTE_ABSENT;
    for (size_t i = 0; i < n->n_sigs; i++) {
        const struct cvma_note_sig *s = &n->sigs[i];
        uint64_t t = 0;
        size_t mlen = 0;
        uint8_t *m;
        bool ok;
        if (s->id != k->cosig_id || strcmp(s->name, k->name) != 0) {
            continue;
        }
        if (s->len != 72) {
            return CVMA_NOTE_INVALID;
        }
        for (int b = 0; b < 8; b++) {
            t = t << 8 | s->sig[b];
        }
        if (t > (uint64_t)INT64_MAX) {
            /* tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1 */
            return CVMA_NOTE_INVALID;
        }
        if ((m = cosig_message(n->text, n->text_len, t, &mlen)) == NULL) {
            /* fails closed, and is no verdict on the cosignature either */
            return CVMA_NOTE_NOMEM;
        }
        ok = ed25519_verify(k->pub, m, mlen, s->sig + 8);
        free(m);
        if (!ok) {
            return CVMA_NOTE_INVALID;
        }
        if (timestamp != NULL) {
            *timestamp = t;
        }
        res = CVMA_NOTE_VALID;
    }
    return res;
}

static char *sig_line(const char *name, uint32_t id, const uint8_t *sig, size_t slen)
{
    uint8_t raw[4 + CVMA_TLOG_SIG_MAX];
    char b64[256];
    raw[0] = (uint8_t)(id >> 24);
    raw[1] = (uint8_t)(id >> 16);
    raw[2] = (uint8_t)(id >> 8);
    raw[3] = (uint8_t)id;
    memcpy(raw + 4, sig, slen);
    if (!cvma_base64_encode_to(raw, 4 + slen, CVMA_B64_STD, b64, sizeof b64)) {
        return NULL;
    }
    size_t n = 3 + 1 + strlen(name) + 1 + strlen(b64) + 2;
    char *s = malloc(n);
    if (s != NULL) {
        snprintf(s, n, "%s %s %s\n", em_dash, name, b64);
    }
    return s;
}

char *cvma_note_sign_line(const struct cvma_note_skey *k, const char *text, size_t text_len)
{
    uint8_t sig[64];
    if (!ed25519_sign(k->key, (const uint8_t *)text, text_len, sig)) {
        return NULL;
    }
    return sig_line(k->v.name, k->v.id, sig, sizeof sig);
}

char *cvma_note_cosign_line(const struct cvma_note_skey *k, const char *text, size_t text_len,
                            uint64_t timestamp)
{
    uint8_t sig[72];
    size_t mlen = 0;
    uint8_t *m = NULL;
    bool ok;
    if (timestamp > (uint64_t)INT64_MAX) {
        return NULL; /* tlog-cosignature: at most 2^63 - 1 */
    }
    if ((m = cosig_message(text, text_len, timestamp, &mlen)) == NULL) {
        return NULL;
    }
    for (int b = 0; b < 8; b++) {
        sig[b] = (uint8_t)(timestamp >> (56 - 8 * b));
    }
    ok = ed25519_sign(k->key, m, mlen, sig + 8);
    free(m);
    return ok ? sig_line(k->v.name, k->v.cosig_id, sig, sizeof sig) : NULL;
}
