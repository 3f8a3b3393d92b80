#include "collateral/cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/hex.h"
#include "common/reader.h"

static const uint8_t entry_magic[8] = {'C', 'V', 'M', 'A', 'C', 'E', '0', '2'};
static const uint8_t entry_magic_v1[8] = {'C', 'V', 'M', 'A', 'C', 'E', '0', '1'};

static void put_u64be(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* SHA-256( header[0..hlen) || u64be(strlen(key)) || key || body ); hlen is 32 (CVMACE02) or
 * 24 (CVMACE01). */
static bool entry_digest(const uint8_t *hdr, size_t hlen, const char *key, const uint8_t *body,
                         size_t len, uint8_t out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t klen = strlen(key);
    uint8_t kl[8];
    unsigned int olen = 0;
    bool ok = false;

    put_u64be(kl, (uint64_t)klen);
    if (md == NULL) {
        return false;
    }
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, hdr, hlen) != 1 ||
        EVP_DigestUpdate(md, kl, sizeof kl) != 1 || EVP_DigestUpdate(md, key, klen) != 1 ||
        (len > 0 && EVP_DigestUpdate(md, body, len) != 1) ||
        EVP_DigestFinal_ex(md, out, &olen) != 1 || olen != 32) {
        goto out;
    }
    ok = true;
out:
    EVP_MD_CTX_free(md);
    return ok;
}

/* see collateral/cache.h */
enum cvma_status cvma_cache_init(struct cvma_cache *c, const char *dir)
{
    const char *env;

    c->dir = NULL;
    if (dir != NULL && dir[0] != '\0') {
        c->dir = strdup(dir);
    } else if ((env = getenv("CVMATTEST_CACHE")) != NULL && env[0] != '\0') {
        c->dir = strdup(env);
    } else if ((env = getenv("XDG_CACHE_HOME")) != NULL && env[0] == '/') {
        c->dir = cvma_path_join(env, "cvmattest");
    } else if ((env = getenv("HOME")) != NULL && env[0] != '\0') {
        c->dir = cvma_path_join(env, ".cache/cvmattest");
    } else {
        return CVMA_E_USAGE;
    }
    return c->dir != NULL ? CVMA_OK : CVMA_E_NOMEM;
}

void cvma_cache_cleanup(struct cvma_cache *c)
{
    if (c == NULL) {
        return;
    }
    free(c->dir);
    c->dir = NULL;
}

/* see collateral/cache.h */
char *cvma_cache_entry_path(const struct cvma_cache *c, const char *key)
{
    uint8_t h[32];
    char name[2 * sizeof h + sizeof ".entry"];
    unsigned int hlen = 0;

    if (EVP_Digest(key, strlen(key), h, &hlen, EVP_sha256(), NULL) != 1 || hlen != sizeof h) {
        return NULL;
    }
    cvma_hex_encode(h, sizeof h, name, sizeof name);
    memcpy(name + 2 * sizeof h, ".entry", sizeof ".entry");
    return cvma_path_join(c->dir, name);
}

/* see collateral/cache.h */
bool cvma_cache_entry_parse(const uint8_t *p, size_t len, struct cvma_cache_entry *e)
{
    struct cvma_reader r;
    struct cvma_span magic, digest, body;
    uint64_t expires, fetched = 0, blen;
    bool v2;

    memset(e, 0, sizeof *e);
    cvma_reader_init(&r, p, len);
    if (!cvma_reader_span(&r, sizeof entry_magic, &magic)) {
        return false;
    }
    v2 = memcmp(magic.p, entry_magic, sizeof entry_magic) == 0;
    if (!v2 && memcmp(magic.p, entry_magic_v1, sizeof entry_magic_v1) != 0) {
        return false;
    }
    /* The first format has no fetch time, which then counts as unknown (too old). */
    if (!cvma_reader_u64be(&r, &expires) || (v2 && !cvma_reader_u64be(&r, &fetched)) ||
        !cvma_reader_u64be(&r, &blen)) {
        return false;
    }
    e->signed_len = len - cvma_reader_left(&r);
    if (!cvma_reader_span(&r, 32, &digest) || expires > (uint64_t)INT64_MAX ||
        fetched > (uint64_t)INT64_MAX || blen != cvma_reader_left(&r) ||
        blen > CVMA_CACHE_MAX_BODY) {
        return false;
    }
    cvma_reader_rest(&r, &body);
    e->digest = digest.p;
    e->expires_at = (int64_t)expires;
    e->fetched_at = (int64_t)fetched;
    e->body = body.p;
    e->body_len = body.len;
    return true;
}

/* see collateral/cache.h */
enum cvma_status cvma_cache_lookup_ex(const struct cvma_cache *c, const char *key, int64_t now,
                                      struct cvma_buf *out, enum cvma_cache_state *state,
                                      struct cvma_cache_meta *meta)
{
    enum cvma_status st = CVMA_E_NOMEM;
    struct cvma_buf raw = {0};
    char *path = NULL;
    uint8_t digest[32];
    struct cvma_cache_entry e;
    uint8_t *body = NULL;

    out->p = NULL;
    out->len = 0;
    *state = CVMA_CACHE_MISS;
    if (meta != NULL) {
        memset(meta, 0, sizeof *meta);
    }
    /* A directory others can write (or none yet) holds no entry to believe: a miss. Out of
     * memory while finding that out is not a miss (offline, a bundle's item would stand in). */
    enum cvma_status dst = cvma_private_dir(c->dir, false, NULL, 0);
    if (dst != CVMA_OK) {
        st = dst == CVMA_E_NOMEM ? dst : CVMA_OK;
        goto out;
    }
    if ((path = cvma_cache_entry_path(c, key)) == NULL) {
        goto out;
    }
    st = cvma_file_read_regular(path, CVMA_CACHE_HEADER_LEN + CVMA_CACHE_MAX_BODY, &raw);
    if (st == CVMA_E_NOMEM) {
        goto out;
    }
    if (st != CVMA_OK) {
        /* Absent: a miss. Anything else under the entry's name (a directory, a FIFO, a device,
         * a symbolic link loop, a file over the limit or one that cannot be read) is a damaged
         * entry, noted as such, never a miss said nothing of: a put replaces a file, and a
         * directory stays (and is noted again each time). */
        if (errno != ENOENT) {
            *state = CVMA_CACHE_CORRUPT;
        }
        st = CVMA_OK;
        goto out;
    }
    st = CVMA_OK;
    *state = CVMA_CACHE_CORRUPT;
    if (!cvma_cache_entry_parse(raw.p, raw.len, &e)) {
        goto out;
    }
    if (!entry_digest(raw.p, e.signed_len, key, e.body, e.body_len, digest)) {
        st = CVMA_E_NOMEM; /* the only way EVP fails here */
        *state = CVMA_CACHE_MISS;
        goto out;
    }
    if (CRYPTO_memcmp(digest, e.digest, sizeof digest) != 0) {
        goto out;
    }
    if (meta != NULL) {
        meta->expires_at = e.expires_at;
        meta->fetched_at = e.fetched_at;
    }
    if (e.expires_at != 0 && now >= e.expires_at) {
        *state = CVMA_CACHE_EXPIRED;
        goto out;
    }
    /* malloc(0) may return NULL; keep a valid pointer for an empty body. */
    if ((body = malloc(e.body_len > 0 ? e.body_len : 1)) == NULL) {
        st = CVMA_E_NOMEM;
        *state = CVMA_CACHE_MISS;
        goto out;
    }
    if (e.body_len > 0) {
        memcpy(body, e.body, e.body_len);
    }
    out->p = body;
    out->len = e.body_len;
    *state = CVMA_CACHE_HIT;
out:
    if (meta != NULL && *state != CVMA_CACHE_HIT && *state != CVMA_CACHE_EXPIRED) {
        memset(meta, 0, sizeof *meta);
    }
    cvma_buf_free(&raw);
    free(path);
    return st;
}

/* see collateral/cache.h */
enum cvma_status cvma_cache_lookup(const struct cvma_cache *c, const char *key, int64_t now,
                                   struct cvma_buf *out, enum cvma_cache_state *state)
{
    return cvma_cache_lookup_ex(c, key, now, out, state, NULL);
}

/* see collateral/cache.h */
enum cvma_status cvma_cache_get(const struct cvma_cache *c, const char *key, struct cvma_buf *out)
{
    enum cvma_cache_state state;
    enum cvma_status st = cvma_cache_lookup(c, key, (int64_t)time(NULL), out, &state);

    if (st != CVMA_OK) {
        return st;
    }
    return state == CVMA_CACHE_HIT ? CVMA_OK : CVMA_E_IO;
}

/* see collateral/cache.h */
enum cvma_status cvma_cache_put(const struct cvma_cache *c, const char *key, const uint8_t *p,
                                size_t len, int64_t expires_at)
{
    return cvma_cache_put_ex(c, key, p, len, expires_at, (int64_t)time(NULL));
}

/* see collateral/cache.h */
enum cvma_status cvma_cache_put_ex(const struct cvma_cache *c, const char *key, const uint8_t *p,
                                   size_t len, int64_t expires_at, int64_t fetched_at)
{
    enum cvma_status st = CVMA_E_NOMEM;
    uint8_t *entry = NULL;
    char *path = NULL;

    if (len > CVMA_CACHE_MAX_BODY || expires_at < 0 || fetched_at < 0) {
        return CVMA_E_USAGE;
    }
    if ((entry = malloc(CVMA_CACHE_HEADER_LEN + len)) == NULL) {
        goto out;
    }
    memcpy(entry, entry_magic, sizeof entry_magic);
    put_u64be(entry + 8, (uint64_t)expires_at);
    put_u64be(entry + 16, (uint64_t)fetched_at);
    put_u64be(entry + 24, (uint64_t)len);
    if (len > 0) {
        memcpy(entry + CVMA_CACHE_HEADER_LEN, p, len);
    }
    if (!entry_digest(entry, 32, key, entry + CVMA_CACHE_HEADER_LEN, len, entry + 32)) {
        goto out;
    }
    if ((path = cvma_cache_entry_path(c, key)) == NULL) {
        goto out;
    }
    if ((st = cvma_private_dir(c->dir, true, NULL, 0)) != CVMA_OK) {
        goto out;
    }
    st = cvma_file_write_atomic(path, entry, CVMA_CACHE_HEADER_LEN + len);
out:
    free(path);
    free(entry);
    return st;
}

/* see collateral/cache.h */
int64_t cvma_cache_max_age(int64_t max_age)
{
    if (max_age == 0) {
        return CVMA_CACHE_DEFAULT_MAX_AGE;
    }
    return max_age < 0 ? 0 : max_age;
}

/* see collateral/cache.h */
bool cvma_cache_too_old(int64_t fetched_at, int64_t now, int64_t max_age)
{
    if (max_age < 0 || fetched_at <= 0 || fetched_at > now) {
        return true;
    }
    return now - fetched_at > cvma_cache_max_age(max_age);
}

/* see collateral/cache.h */
void cvma_cache_age_text(int64_t fetched_at, int64_t now, char *out, size_t n)
{
    int64_t age = now - fetched_at;

    if (fetched_at <= 0 || age < 0) {
        snprintf(out, n, "an unknown time (an entry of the first cache format)");
    } else if (age < 60) {
        snprintf(out, n, "%lld s", (long long)age);
    } else if (age < 3600) {
        snprintf(out, n, "%lld min", (long long)(age / 60));
    } else {
        snprintf(out, n, "%lld h %lld min", (long long)(age / 3600), (long long)(age % 3600 / 60));
    }
}

/* see collateral/cache.h */
enum cvma_status cvma_cache_dir_check(const struct cvma_cache *c, char *why, size_t why_len)
{
    struct stat sb;

    if (c == NULL || c->dir == NULL || (lstat(c->dir, &sb) != 0 && errno == ENOENT)) {
        return CVMA_OK;
    }
    enum cvma_status st = cvma_private_dir(c->dir, false, why, why_len);
    return st == CVMA_OK || st == CVMA_E_NOMEM ? st : CVMA_E_IO;
}

/* see collateral/cache.h */
enum cvma_status cvma_cache_remove(const struct cvma_cache *c, const char *key)
{
    char *path;
    enum cvma_status st = CVMA_OK;

    if (c == NULL || c->dir == NULL) {
        return CVMA_OK;
    }
    if ((path = cvma_cache_entry_path(c, key)) == NULL) {
        return CVMA_E_NOMEM;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        st = CVMA_E_IO;
    }
    free(path);
    return st;
}
