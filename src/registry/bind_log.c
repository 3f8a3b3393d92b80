/*
 * Binding with the registry transparency log (docs/registry.md "Registry log"): a provider
 * whose log key was given has its registries accepted only when a log proof shows the exact
 * registry bytes in a checkpoint signed by that key, cosigned by enough of the witnesses
 * given, and consistent with the newest checkpoint this verifier saw for that log.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "registry/bind_internal.h"

#define LOG_PROOF_MAX ((size_t)64 << 10)

void cvma_bind_log_free(struct cvma_registry_set *rs)
{
    for (size_t i = 0; i < rs->n_log_proofs; i++) {
        free(rs->log_proofs[i].origin);
        cvma_buf_free(&rs->log_proofs[i].bytes);
        if (rs->log_proofs[i].proof != NULL) {
            cvma_tlog_proof_cleanup(rs->log_proofs[i].proof);
            free(rs->log_proofs[i].proof);
        }
    }
    for (size_t i = 0; i < rs->n_log_keys; i++) {
        free(rs->log_keys[i].url);
    }
    free(rs->log_keys);
    free(rs->witnesses);
    free(rs->log_proofs);
    free(rs->cons);
}

enum cvma_status cvma_registry_set_add_log_key(struct cvma_registry_set *rs, const char *spec,
                                               char *err, size_t err_len)
{
    const char *eq = spec != NULL ? strchr(spec, '=') : NULL;
    struct log_key_item it, *n;
    char why[300];
    enum cvma_status st;

    memset(&it, 0, sizeof it);
    if (eq == NULL || eq == spec || (size_t)(eq - spec) > CVMA_REG_PROVIDER_MAX) {
        cvma_errf(err, err_len, "wants PROVIDER=VKEYFILE");
        return CVMA_E_USAGE;
    }
    memcpy(it.provider, spec, (size_t)(eq - spec));
    if (!cvma_reg_provider_name_ok(it.provider)) {
        cvma_errf(err, err_len, "'%s' is not a provider name", it.provider);
        return CVMA_E_USAGE;
    }
    for (size_t i = 0; i < rs->n_log_keys; i++) {
        if (strcmp(rs->log_keys[i].provider, it.provider) == 0) {
            cvma_errf(err, err_len, "a log key for %s was already given", it.provider);
            return CVMA_E_USAGE;
        }
    }
    if (cvma_registry_set_name_clash(rs, it.provider, false, err, err_len)) {
        return CVMA_E_USAGE;
    }
    if ((st = cvma_note_vkey_load(eq + 1, &it.vk, why, sizeof why)) != CVMA_OK) {
        cvma_errf(err, err_len, "%s", why);
        return st;
    }
    /* A log is known by its key's name, which its checkpoints carry as their origin (and
     * which names its state in the cache directory): two providers' logs under one name
     * would read and refuse each other's checkpoints. */
    for (size_t i = 0; i < rs->n_log_keys; i++) {
        if (strcmp(rs->log_keys[i].vk.name, it.vk.name) == 0) {
            cvma_errf(err, err_len,
                      "log keys of %s and %s have one name, %s: each log needs a name (origin) "
                      "of its own",
                      rs->log_keys[i].provider, it.provider, it.vk.name);
            return CVMA_E_USAGE;
        }
    }
    for (size_t i = 0; i < rs->n_witnesses; i++) {
        if (cvma_tlog_witness_key_check(&rs->witnesses[i], &it.vk, NULL, 0, NULL, 0) ==
            CVMA_WITNESS_KEY_IS_LOG) {
            cvma_errf(err, err_len, "log key %s is witness %s's key: a log cannot witness itself",
                      it.vk.name, rs->witnesses[i].name);
            return CVMA_E_USAGE;
        }
    }
    if ((n = grow(rs->log_keys, rs->n_log_keys, sizeof *n)) == NULL) {
        return CVMA_E_NOMEM;
    }
    rs->log_keys = n;
    n[rs->n_log_keys++] = it;
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_add_log_url(struct cvma_registry_set *rs, const char *spec,
                                               char *err, size_t err_len)
{
    const char *eq = spec != NULL ? strchr(spec, '=') : NULL;
    if (eq == NULL || eq == spec || eq[1] == '\0') {
        cvma_errf(err, err_len, "wants PROVIDER=DIR or PROVIDER=URL");
        return CVMA_E_USAGE;
    }
    if (cvma_tlog_src_is_url(eq + 1) && !cvma_http_url_ok(eq + 1)) {
        cvma_errf(err, err_len,
                  "'%s' is not a URL to fetch from: it wants a host, and a port "
                  "(if one) of 1 to 65535",
                  eq + 1);
        return CVMA_E_USAGE;
    }
    for (size_t i = 0; i < rs->n_log_keys; i++) {
        struct log_key_item *k = &rs->log_keys[i];
        if (strlen(k->provider) == (size_t)(eq - spec) &&
            memcmp(k->provider, spec, (size_t)(eq - spec)) == 0) {
            if (k->url != NULL) {
                cvma_errf(err, err_len, "a log URL for %s was already given", k->provider);
                return CVMA_E_USAGE;
            }
            return (k->url = strdup(eq + 1)) == NULL ? CVMA_E_NOMEM : CVMA_OK;
        }
    }
    cvma_errf(err, err_len, "no --log-vkey for provider '%.*s'", (int)(eq - spec), spec);
    return CVMA_E_USAGE;
}

enum cvma_status cvma_registry_set_add_witness(struct cvma_registry_set *rs, const char *path,
                                               char *err, size_t err_len)
{
    struct cvma_note_vkey vk, *n;
    enum cvma_status st = cvma_note_witness_vkey_load(path, &vk, err, err_len);
    if (st != CVMA_OK) {
        return st;
    }
    /* tlog.h's witness-key rule: once, and never a log's own key (checked against each). */
    if (cvma_tlog_witness_key_check(&vk, NULL, rs->witnesses, rs->n_witnesses, err, err_len) !=
        CVMA_WITNESS_KEY_OK) {
        return CVMA_E_USAGE;
    }
    for (size_t i = 0; i < rs->n_log_keys; i++) {
        if (cvma_tlog_witness_key_check(&vk, &rs->log_keys[i].vk, NULL, 0, err, err_len) !=
            CVMA_WITNESS_KEY_OK) {
            return CVMA_E_USAGE;
        }
    }
    if ((n = grow(rs->witnesses, rs->n_witnesses, sizeof *n)) == NULL) {
        return CVMA_E_NOMEM;
    }
    rs->witnesses = n;
    n[rs->n_witnesses++] = vk;
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_witnesses_required(struct cvma_registry_set *rs, size_t k,
                                                      char *err, size_t err_len)
{
    if (k > rs->n_witnesses) {
        cvma_errf(err, err_len, "%zu cosignatures required, but %zu witness key(s) given", k,
                  rs->n_witnesses);
        return CVMA_E_USAGE;
    }
    rs->witnesses_required = k;
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_add_log_proof(struct cvma_registry_set *rs, const char *path,
                                                 char *err, size_t err_len)
{
    struct log_proof_item *n;
    struct cvma_buf b;
    enum cvma_status rst = cvma_file_read(path, LOG_PROOF_MAX, &b);
    if (rst != CVMA_OK) {
        char why[96];
        cvma_errf(err, err_len, "cannot read %s: %s", path,
                  rst == CVMA_E_NOMEM ? "out of memory"
                                      : cvma_file_read_why(errno, LOG_PROOF_MAX, why, sizeof why));
        return CVMA_E_IO;
    }
    if ((n = grow(rs->log_proofs, rs->n_log_proofs, sizeof *n)) == NULL) {
        cvma_buf_free(&b);
        return CVMA_E_NOMEM;
    }
    rs->log_proofs = n;
    memset(&n[rs->n_log_proofs], 0, sizeof *n);
    if ((n[rs->n_log_proofs].origin = strdup(path)) == NULL) {
        cvma_buf_free(&b);
        return CVMA_E_NOMEM;
    }
    n[rs->n_log_proofs++].bytes = b;
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_add_log_consistency(struct cvma_registry_set *rs,
                                                       const char *path, char *err, size_t err_len)
{
    struct cvma_tlog_consistency c, *n;
    struct cvma_buf b;
    char why[300];
    bool ok;
    if (cvma_file_read(path, LOG_PROOF_MAX, &b) != CVMA_OK) {
        cvma_errf(err, err_len, "cannot read %s", path);
        return CVMA_E_IO;
    }
    ok = cvma_tlog_consistency_parse(b.p, b.len, &c, why, sizeof why);
    cvma_buf_free(&b);
    if (!ok) {
        cvma_errf(err, err_len, "%s", why);
        return CVMA_E_USAGE;
    }
    if ((n = grow(rs->cons, rs->n_cons, sizeof *n)) == NULL) {
        return CVMA_E_NOMEM;
    }
    rs->cons = n;
    n[rs->n_cons++] = c;
    return CVMA_OK;
}

/* Parses a log proof once. Out of memory is not remembered as a refusal: the item stays
 * unprepared (the next verification tries again) and CVMA_E_NOMEM is returned. */
static enum cvma_status prepare(struct log_proof_item *it)
{
    enum cvma_status st;
    if (it->prepared) {
        return CVMA_OK;
    }
    if (it->proof == NULL && (it->proof = malloc(sizeof *it->proof)) == NULL) {
        return CVMA_E_NOMEM;
    }
    st = cvma_tlog_proof_parse(it->bytes.p, it->bytes.len, it->proof, it->fail, sizeof it->fail);
    if (st == CVMA_E_NOMEM) {
        return st;
    }
    it->ok = st == CVMA_OK;
    it->prepared = true;
    return CVMA_OK;
}

/* see registry/bind_internal.h */
enum cvma_status cvma_bind_log_prepare(struct cvma_registry_set *rs)
{
    for (size_t i = 0; i < rs->n_log_proofs; i++) {
        if (prepare(&rs->log_proofs[i]) != CVMA_OK) {
            return CVMA_E_NOMEM;
        }
    }
    return CVMA_OK;
}

/* The consistency proof given from old to new that verifies, if any: 1 verified, 0 none
 * given, -1 given but does not verify (which proves nothing: unsigned hashes). */
static int consistent(const struct cvma_registry_set *rs, uint64_t old, const uint8_t old_root[32],
                      uint64_t new, const uint8_t new_root[32])
{
    int res = 0;
    for (size_t i = 0; i < rs->n_cons; i++) {
        const struct cvma_tlog_consistency *c = &rs->cons[i];
        if (c->old_size != old || c->new_size != new) {
            continue;
        }
        if (cvma_merkle_verify_consistency(old, new, old_root, new_root,
                                           (const uint8_t(*)[32])c->hashes, c->n_hashes)) {
            return 1;
        }
        res = -1;
    }
    return res;
}

/* The cache key of a log URL's failure to give its tiles. */
static void tiles_failed_key(const char *url, char *key, size_t key_len)
{
    snprintf(key, key_len, "registry-log-tiles-failed %s", url);
}

/* What the log's tiles showed (fetched_consistent). */
enum fetched {
    FETCHED_CONSISTENT,  /* they hash to the new root, their first old leaves to the old one */
    FETCHED_SPLIT,       /* they hash to the new root, their first old leaves not to the old */
    FETCHED_UNAVAILABLE, /* the log did not give them (offline, unreachable, an HTTP error, a
                          * short tile, tiles that do not hash to its own signed checkpoint,
                          * or such a failure within the TTL): nothing known either way */
    FETCHED_NOT,         /* not asked for (a log over CVMA_REG_ENTRIES_MAX) */
    FETCHED_NOMEM,       /* out of memory: the caller's CVMA_E_NOMEM, never a verdict */
};

/*
 * Consistency from the log itself: fetches the level-0 tiles up to size new from url (the
 * partial tile of that size, else the full tile cut to it), and checks the first old leaves
 * hash to old_root and the first new ones to new_root (which is what a consistency proof
 * shows). detail says why on FETCHED_UNAVAILABLE and FETCHED_NOT. Out of memory anywhere on
 * the way (the failure cache read, the leaves, a tile fetched, the tree hashed) is
 * FETCHED_NOMEM: not the log's failure, so neither kept in the cache nor a verdict.
 *
 * A URL that did not give its tiles (no answer, an HTTP error, tiles that do not hash to the
 * signed checkpoint) is kept as failed in the cache in state_dir (NULL: none) for the
 * options' lookup_failure_ttl (60 s) and not asked again meanwhile: the check runs under the
 * log's state lock, so a log that is down would otherwise cost every verification, one after
 * another, its time-outs. For the same reason all the tiles of one check share one time-out,
 * the options' (http.timeout_ms, 30 s): a slow log costs the lock that long once, not that
 * long a request (a partial tile and then the full one, tile after tile). A failure is never a
 * pass either way.
 */
static enum fetched fetched_consistent(const struct cvma_registry_bind_opts *o,
                                       const char *state_dir, const char *url, uint64_t old,
                                       const uint8_t old_root[32], uint64_t new,
                                       const uint8_t new_root[32], char *detail, size_t detail_len)
{
    uint8_t(*leaves)[32] = NULL;
    struct cvma_merkle t;
    struct cvma_buf b = {0};
    uint8_t r[32];
    char rel[128], key[LOOKUP_URL_MAX + 40];
    enum fetched res = FETCHED_NOT;
    bool log_failed = false; /* the log did not give its tiles: kept in the cache as failed */
    const time_t now = time(NULL);
    const int64_t fail = o->lookup_failure_ttl > 0 ? o->lookup_failure_ttl : DEFAULT_FAIL_TTL;
    const struct cvma_cache cache = {.dir = (char *)(uintptr_t)state_dir};
    struct cvma_http_opts ho = o->http; /* each fetch's time-outs: what is left of the one */
    const long budget = ho.timeout_ms > 0 ? ho.timeout_ms : CVMA_HTTP_DEFAULT_TIMEOUT_MS;
    const long connect = ho.connect_timeout_ms > 0 ? ho.connect_timeout_ms
                                                   : CVMA_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    const int64_t deadline = cvma_monotonic_ms() + budget;

    memset(&t, 0, sizeof t);
    detail[0] = '\0';
    if (o->offline && cvma_tlog_src_is_url(url)) {
        snprintf(detail, detail_len, "offline: the log's tiles at %s not fetched", url);
        return FETCHED_UNAVAILABLE;
    }
    tiles_failed_key(url, key, sizeof key);
    if (state_dir != NULL && cvma_tlog_src_is_url(url)) {
        enum cvma_cache_state cs = CVMA_CACHE_MISS;
        struct cvma_cache_meta meta;
        char why[CVMA_LOOKUP_FAILED_MAX + 1];
        if (cvma_cache_lookup_ex(&cache, key, (int64_t)now, &b, &cs, &meta) == CVMA_E_NOMEM) {
            /* not "no failure kept": the tiles would be fetched again for want of memory */
            snprintf(detail, detail_len, "out of memory");
            res = FETCHED_NOMEM;
            goto out;
        }
        if (cs == CVMA_CACHE_HIT && cvma_lookup_cached_failure(b.p, b.len, why, sizeof why) &&
            cvma_failure_recent(&meta, (int64_t)now, fail)) {
            cvma_errf(detail, detail_len,
                      "the log's tiles at %s failed within the last %lld s (%s); not fetched "
                      "again until then",
                      url, (long long)fail, why);
            res = FETCHED_UNAVAILABLE;
            goto out;
        }
        cvma_buf_free(&b);
    }
    if (old == 0 || new > CVMA_REG_ENTRIES_MAX) {
        snprintf(detail, detail_len, "log of %" PRIu64 " entries not fetched", new);
        goto out;
    }
    if ((leaves = malloc((size_t) new * 32)) == NULL) {
        snprintf(detail, detail_len, "out of memory");
        res = FETCHED_NOMEM;
        goto out;
    }
    for (uint64_t n = 0; n * CVMA_TLOG_TILE_WIDTH < new; n++) {
        uint64_t w = new - n *CVMA_TLOG_TILE_WIDTH;
        size_t cnt = w >= CVMA_TLOG_TILE_WIDTH ? CVMA_TLOG_TILE_WIDTH : (size_t)w;
        bool got = false;
        for (int full = 0; full < 2 && !got; full++) {
            if (full == 0 && cnt == CVMA_TLOG_TILE_WIDTH) {
                continue;
            }
            cvma_buf_free(&b);
            enum cvma_status fst = CVMA_E_IO;
            const int64_t left = deadline - cvma_monotonic_ms();
            if (left <= 0) {
                snprintf(detail, detail_len, "%s: its tiles took longer than %ld ms in all", url,
                         budget);
                break;
            }
            ho.timeout_ms = (long)left;
            ho.connect_timeout_ms = connect < left ? connect : (long)left;
            if (cvma_tlog_tile_path(0, n, full ? 0 : (unsigned)cnt, rel, sizeof rel)) {
                fst = cvma_tlog_fetch(&ho, url, rel, CVMA_TLOG_TILE_WIDTH * 32, &b, detail,
                                      detail_len);
            }
            if (fst == CVMA_E_NOMEM) {
                snprintf(detail, detail_len, "out of memory"); /* (not the log's failure) */
                res = FETCHED_NOMEM;
                goto out;
            }
            if (fst == CVMA_OK && b.len >= cnt * 32) {
                memcpy(leaves[n * CVMA_TLOG_TILE_WIDTH], b.p, cnt * 32);
                got = true;
            }
        }
        if (!got) {
            if (detail[0] == '\0') {
                snprintf(detail, detail_len, "%s: tile %s is short", url, rel);
            }
            log_failed = true;
            res = FETCHED_UNAVAILABLE;
            goto out;
        }
    }
    enum cvma_status bst = cvma_merkle_build_hashes(&t, (const uint8_t(*)[32])leaves, (size_t) new);
    if (bst != CVMA_OK) {
        if (bst == CVMA_E_NOMEM) {
            snprintf(detail, detail_len, "out of memory");
            res = FETCHED_NOMEM;
        } else {
            snprintf(detail, detail_len, "log of %" PRIu64 " entries not hashed", new);
        }
        goto out;
    }
    cvma_merkle_root(&t, r);
    if (memcmp(r, new_root, 32) != 0) {
        snprintf(detail, detail_len, "%s: its tiles do not hash to the checkpoint of size %" PRIu64,
                 url, new);
        log_failed = true;
        res = FETCHED_UNAVAILABLE;
        goto out; /* the log serves something else: no proof either way */
    }
    cvma_merkle_subtree(&t, 0, old, r);
    res = memcmp(r, old_root, 32) == 0 ? FETCHED_CONSISTENT : FETCHED_SPLIT;
out:
    if (log_failed && state_dir != NULL && cvma_tlog_src_is_url(url)) {
        cvma_lookup_note_failure(&cache, key, detail, now, fail);
    }
    cvma_buf_free(&b);
    cvma_merkle_cleanup(&t);
    free(leaves);
    return res;
}

/* How two signed checkpoints of one log, of sizes lo < hi, stand (settle()). */
enum settled {
    SETTLED_NOT,         /* no proof given and no tiles: not compared */
    SETTLED_NOMEM,       /* out of memory fetching or hashing the tiles: CVMA_E_NOMEM */
    SETTLED_UNAVAILABLE, /* no proof given, and the log (--log-url) did not give its tiles */
    SETTLED_CONSISTENT,  /* a given proof verifies, or the log's tiles show it */
    SETTLED_BAD_PROOF,   /* a given proof fails, and nothing else settles it */
    SETTLED_SPLIT_PROOF, /* a given proof leads to hi's root from another tree of size lo */
    SETTLED_SPLIT_TILES, /* the tiles hash to hi's root, and their first lo leaves not to lo's */
};

/*
 * Whether the checkpoint of size lo is a prefix of the one of size hi (lo < hi), from what this
 * verifier has: the --log-consistency proofs given between the two sizes, then the log's tiles
 * (lk->url; a failure to give them kept in dir, NULL: not kept). A given proof that fails is
 * unsigned hashes and proves nothing by itself, except when it leads to hi's root from a tree
 * of size lo whose root is not lo_root (cvma_merkle_consistency_old_root): every hash of that
 * old root also makes the new one, so with hi_root signed, the log signed a tree of size lo
 * other than the one it signed as lo_root (*which gets that proof; NULL otherwise). When lo is
 * a power of two a proof holds no hash of the smaller tree and cannot show that. fdetail says
 * why the tiles could not be had ("" when they were not asked for). SETTLED_UNAVAILABLE only
 * when no proof was given and the tiles would have settled it but the log did not give them
 * (fetched_consistent): nothing is known against the checkpoints then, and the answer may
 * change once the log can be reached. SETTLED_NOMEM when memory ran out fetching or hashing
 * the tiles: the callers' CVMA_E_NOMEM, never a refusal nor "not compared".
 */
static enum settled settle(const struct cvma_registry_set *rs, const struct log_key_item *lk,
                           const struct cvma_registry_bind_opts *o, const char *dir, uint64_t lo,
                           const uint8_t lo_root[32], uint64_t hi, const uint8_t hi_root[32],
                           const struct cvma_tlog_consistency **which, char *fdetail,
                           size_t fdetail_len)
{
    int given = consistent(rs, lo, lo_root, hi, hi_root);

    *which = NULL;
    fdetail[0] = '\0';
    if (given == 1) {
        return SETTLED_CONSISTENT;
    }
    for (size_t i = 0; given < 0 && i < rs->n_cons; i++) {
        const struct cvma_tlog_consistency *c = &rs->cons[i];
        uint8_t implied[32];
        if (c->old_size == lo && c->new_size == hi &&
            cvma_merkle_consistency_old_root(lo, hi, hi_root, (const uint8_t(*)[32])c->hashes,
                                             c->n_hashes, implied) &&
            memcmp(implied, lo_root, 32) != 0) {
            *which = c;
            return SETTLED_SPLIT_PROOF;
        }
    }
    if (lk->url != NULL) {
        switch (fetched_consistent(o, dir, lk->url, lo, lo_root, hi, hi_root, fdetail,
                                   fdetail_len)) {
        case FETCHED_CONSISTENT:
            return SETTLED_CONSISTENT;
        case FETCHED_SPLIT:
            return SETTLED_SPLIT_TILES;
        case FETCHED_UNAVAILABLE:
            /* A given proof that fails stays a refusal: the log's absence proves nothing. */
            return given < 0 ? SETTLED_BAD_PROOF : SETTLED_UNAVAILABLE;
        case FETCHED_NOMEM:
            /* Before a failing given proof too: the tiles might have settled it. */
            return SETTLED_NOMEM;
        case FETCHED_NOT:
            break;
        }
    }
    return given < 0 ? SETTLED_BAD_PROOF : SETTLED_NOT;
}

/* Keeps two checkpoints of one log that conflict, evidence of a split view that a third party
 * can check: tlog-conflict.<hash of origin>.<size>.<time> holds a (a log proof, its signed
 * checkpoint last), and the same name with ".seen" b (the state as read: the signed checkpoint
 * seen before, a bare text when an earlier version stored it; or the other log proof given).
 * With cons (a consistency proof that shows the conflict), the same name with ".consistency"
 * holds it as `registry log prove --from` writes it. Created exclusively: a second conflict in
 * the same second gets "-1", "-2", ... after the time, never overwriting one. dir NULL: none
 * (nothing kept). where gets "PATH (b_label: PATH.seen)" (with cons, the names after the first
 * said shortly), or "" when nothing could be kept. */
static void keep_conflict(const char *dir, const char *origin, uint64_t size, const uint8_t *a,
                          size_t a_len, const uint8_t *b, size_t b_len, const char *b_label,
                          const struct cvma_tlog_consistency *cons, char *where, size_t where_len)
{
    char suffix[56], *path = NULL, *spath = NULL, *cpath = NULL, *ctext = NULL;
    long long now = (long long)time(NULL);
    snprintf(suffix, sizeof suffix, ".%" PRIu64 ".%lld", size, now);
    where[0] = '\0';
    if (dir == NULL || cvma_tlog_keep_evidence(dir, "tlog-conflict.", origin, suffix, a, a_len, b,
                                               b_len, &path, &spath) != CVMA_OK) {
        return;
    }
    if (cons != NULL && (ctext = cvma_tlog_consistency_text(cons)) != NULL) {
        size_t cl = strlen(path) + sizeof ".consistency";
        if ((cpath = malloc(cl)) != NULL) {
            snprintf(cpath, cl, "%s.consistency", path);
            /* (one there already: the pair was kept before, with a proof of it) */
            int ce = cvma_file_create_exclusive(cpath, (const uint8_t *)ctext, strlen(ctext), 0644);
            if (ce != 0 && ce != EEXIST) {
                free(cpath);
                cpath = NULL;
            }
        }
    }
    if (cons == NULL) {
        snprintf(where, where_len, "%s (%s: %s)", path, b_label, spath);
    } else {
        /* (the names in full would not fit a reason's detail) */
        snprintf(where, where_len, "%s (%s: the same name with .seen; the consistency proof: %s)",
                 path, b_label, cpath != NULL ? "with .consistency" : "not kept");
    }
    free(ctext);
    free(cpath);
    free(path);
    free(spath);
}

/*
 * Opens and exclusively locks <dir>/tlog-state.<hash of origin>.lock, so that the newest
 * checkpoint is read, compared and written by one verifier at a time: two verifiers sharing a
 * cache directory never replace each other's newer checkpoint with an older one (as
 * bind_rollback.c does for registry versions). The state file itself is replaced by rename,
 * so the lock lives in a file of its own. Never through a symlink, never a FIFO or device.
 */
static enum cvma_status lock_state(const char *dir, const char *origin, int *fd_out)
{
    char *lpath;

    *fd_out = -1;
    enum cvma_status mst = cvma_mkdir_p(dir, 0700);
    if (mst != CVMA_OK) {
        return mst == CVMA_E_NOMEM ? mst : CVMA_E_IO;
    }
    if ((lpath = cvma_tlog_state_path(dir, "tlog-state.", origin, ".lock")) == NULL) {
        return CVMA_E_NOMEM;
    }
    int e = cvma_lock_file(lpath, true, 0600, fd_out);
    free(lpath);
    return e == 0 ? CVMA_OK : e == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO;
}

/* 1 when the signed note in p[0..len) carries a valid signature by k, 0 when not (or not a
 * note), -1 out of memory. */
static int signed_by(const uint8_t *p, size_t len, const struct cvma_note_vkey *k)
{
    struct cvma_note note;
    char why[200];
    enum cvma_status st = cvma_note_parse(p, len, &note, why, sizeof why);
    if (st != CVMA_OK) {
        return st == CVMA_E_NOMEM ? -1 : 0;
    }
    bool valid = cvma_note_check_sig(&note, k) == CVMA_NOTE_VALID;
    cvma_note_cleanup(&note);
    return valid ? 1 : 0;
}

/* Step 4 of cvma_bind_log_check: the proof's checkpoint against the newest one kept in
 * state_dir for its log, read, compared and (when newer) written under the log's lock.
 * CVMA_UNDECIDED (*ok false, unsettled says why, v a warning) when the log grew since and only
 * its tiles, which it did not give, could show it consistent; else CVMA_OK or CVMA_E_NOMEM. */
static enum cvma_status check_state(const struct cvma_registry_set *rs,
                                    const struct log_key_item *lk,
                                    const struct log_proof_item *found, const char *state_dir,
                                    const struct cvma_registry_bind_opts *o, struct cvma_verdict *v,
                                    bool *ok, char *unsettled, size_t unsettled_len)
{
    const struct cvma_tlog_proof *p = found->proof;
    char *spath = NULL;
    struct cvma_buf sb = {0};
    struct cvma_checkpoint prev;
    char why[200] = "", where[600], fdetail[300] = "";
    bool store = true, undecided = false;
    int lock_fd = -1;
    enum cvma_status st;

    *ok = false;
    unsettled[0] = '\0';
    /* A directory others can write is as good as none (the state and conflicts kept there
     * could be replaced): not read, not written, and said, as without a state directory. */
    char dir_why[CVMA_DETAIL_MAX / 2];
    if ((st = cvma_private_dir(state_dir, true, dir_why, sizeof dir_why)) != CVMA_OK) {
        if (st == CVMA_E_NOMEM) {
            return st;
        }
        cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                         "%s: log consistency not checked: state directory %s", found->origin,
                         dir_why);
        *ok = true;
        return CVMA_OK;
    }
    if ((spath = cvma_tlog_state_path(state_dir, "tlog-state.", p->cp.origin, ".checkpoint")) ==
        NULL) {
        return CVMA_E_NOMEM;
    }
    if ((st = lock_state(state_dir, p->cp.origin, &lock_fd)) == CVMA_E_NOMEM) {
        free(spath);
        return st;
    }
    if (st != CVMA_OK) {
        /* Compared all the same (a refusal needs no lock), never written unlocked. */
        cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                         "%s: the log state cannot be locked: a newer checkpoint is not stored",
                         spath);
        store = false;
    }
    /* The state is the signed checkpoint note (bare text from earlier versions): a note of
     * at most CVMA_TLOG_NOTE_MAX bytes, written below from a log proof. Opened as the
     * registry's rollback state is (bind_rollback.c): never through a symlink, a regular file
     * only; else not compared, and not replaced (a write would replace the link). */
    int re = cvma_state_file_read(spath, CVMA_TLOG_NOTE_MAX, &sb);
    if (re == ENOMEM) {
        /* not "unreadable": that would only warn, and the state would not be compared */
        st = CVMA_E_NOMEM;
        goto out;
    }
    /* A file larger than any note is no state, as an empty or garbled one is: replaced by
     * this checkpoint (kept, it would leave the check off on every run). */
    if (re == 0 || re == EFBIG) {
        bool is_signed = false, parsed = false;
        if (re == EFBIG) {
            snprintf(why, sizeof why, "larger than %zu bytes, the most a note may be",
                     CVMA_TLOG_NOTE_MAX);
        } else {
            enum cvma_status pst =
                    cvma_tlog_state_parse(sb.p, sb.len, &prev, &is_signed, why, sizeof why);
            if (pst == CVMA_E_NOMEM) {
                st = CVMA_E_NOMEM;
                goto out;
            }
            parsed = pst == CVMA_OK;
        }
        if (parsed && strcmp(prev.origin, p->cp.origin) != 0) {
            snprintf(why, sizeof why, "a checkpoint of another origin");
            parsed = false;
        }
        if (parsed && is_signed) {
            /* Another verifier sharing the directory may trust another log key of this name:
             * its checkpoints are not this log's to compare with, nor to replace. */
            int mine = signed_by(sb.p, sb.len, &lk->vk);
            if (mine < 0) {
                st = CVMA_E_NOMEM;
                goto out;
            }
            if (mine == 0) {
                cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                                 "%s: log consistency not checked: the log state %s holds a "
                                 "checkpoint of %s not signed by %s's log key (another key of "
                                 "that name): kept as it is",
                                 found->origin, spath, p->cp.origin, lk->provider);
                store = false;
                goto stored;
            }
        }
        if (!parsed) {
            cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                             "%s: log state unreadable%s: %s", spath, store ? ", replaced" : "",
                             why);
        } else if (prev.size == p->cp.size) {
            if (memcmp(prev.root, p->cp.root, 32) != 0) {
                keep_conflict(state_dir, p->cp.origin, p->cp.size, found->bytes.p, found->bytes.len,
                              sb.p, sb.len, "the one seen before", NULL, where, sizeof where);
                cvma_reject(v, CVMA_R_REGISTRY_SPLIT_VIEW,
                            "%s: log %s signed two checkpoints of size %" PRIu64
                            " with different roots: the one seen before is %s, this one %s%s",
                            found->origin, p->cp.origin, p->cp.size, spath,
                            where[0] ? "kept as " : "could not be kept", where);
                goto out;
            }
            store = false;
        } else {
            /* Smaller or larger: a consistency proof between the two, given or computed from
             * the log's tiles (settle()). A given proof that fails proves nothing either way
             * (its hashes are nobody's signed word) unless it leads to the larger signed root
             * from another smaller tree; the tiles are still tried, and only tiles that hash to
             * one signed root and not to the other prove a split view. */
            bool shrank = p->cp.size < prev.size;
            uint64_t lo = shrank ? p->cp.size : prev.size, hi = shrank ? prev.size : p->cp.size;
            const uint8_t *lo_root = shrank ? p->cp.root : prev.root;
            const uint8_t *hi_root = shrank ? prev.root : p->cp.root;
            const struct cvma_tlog_consistency *which = NULL;
            enum settled c = settle(rs, lk, o, state_dir, lo, lo_root, hi, hi_root, &which, fdetail,
                                    sizeof fdetail);
            if (c == SETTLED_NOMEM) {
                /* not REGISTRY_LOG_UNPROVEN or _SHRANK: the tiles were not looked at */
                st = CVMA_E_NOMEM;
                goto out;
            }
            if (c == SETTLED_UNAVAILABLE && !shrank) {
                /* Nothing is known against this checkpoint: the registry cannot be used now
                 * (undecided, as for a lookup registry that does not answer), and the state
                 * stays as it is. A smaller one stays a refusal (REGISTRY_LOG_SHRANK, below):
                 * a checkpoint behind the newest seen and not shown its prefix is what a log
                 * rolled back or forked shows, and a proof to the newest, not a retry, is the
                 * remedy. */
                cvma_errf(unsettled, unsettled_len,
                          "log %s grew from size %" PRIu64 " (seen before) to %" PRIu64
                          " and its tiles, which would show it consistent, could not be had: %s",
                          p->cp.origin, prev.size, p->cp.size, fdetail);
                cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                                 "%s: not used: %s", found->origin, unsettled);
                undecided = true;
                goto out;
            }
            switch (c) {
            case SETTLED_CONSISTENT:
                break;
            case SETTLED_SPLIT_PROOF:
                keep_conflict(state_dir, p->cp.origin, p->cp.size, found->bytes.p, found->bytes.len,
                              sb.p, sb.len, "the one seen before", which, where, sizeof where);
                cvma_reject(v, CVMA_R_REGISTRY_SPLIT_VIEW,
                            "%s: log %s checkpoint of size %" PRIu64
                            " is not consistent with size %" PRIu64
                            " seen before (%s): the --log-consistency proof from %" PRIu64
                            " to %" PRIu64 " leads to the root of size %" PRIu64
                            " from another tree of size %" PRIu64 "; this one %s%s",
                            found->origin, p->cp.origin, p->cp.size, prev.size, spath, lo, hi, hi,
                            lo, where[0] ? "kept as " : "could not be kept", where);
                goto out;
            case SETTLED_SPLIT_TILES:
                keep_conflict(state_dir, p->cp.origin, p->cp.size, found->bytes.p, found->bytes.len,
                              sb.p, sb.len, "the one seen before", NULL, where, sizeof where);
                cvma_reject(v, CVMA_R_REGISTRY_SPLIT_VIEW,
                            "%s: log %s checkpoint of size %" PRIu64
                            " is not consistent with size %" PRIu64
                            " seen before (%s): the log's tiles hash to the checkpoint of size "
                            "%" PRIu64 ", and their first %" PRIu64
                            " leaves not to the other; this one %s%s",
                            found->origin, p->cp.origin, p->cp.size, prev.size, spath, hi, lo,
                            where[0] ? "kept as " : "could not be kept", where);
                goto out;
            case SETTLED_BAD_PROOF:
                cvma_reject(v, CVMA_R_REGISTRY_LOG_CONSISTENCY_INVALID,
                            "%s: log %s checkpoint of size %" PRIu64 ", size %" PRIu64
                            " seen before (%s): the --log-consistency proof from %" PRIu64
                            " to %" PRIu64 " does not verify%s%s%s",
                            found->origin, p->cp.origin, p->cp.size, prev.size, spath, lo, hi,
                            lk->url != NULL ? ", nor could the log's tiles settle it" : "",
                            fdetail[0] ? ": " : "", fdetail);
                goto out;
            case SETTLED_NOMEM:       /* (returned above) */
            case SETTLED_UNAVAILABLE: /* (a smaller one: a larger grown one returned above) */
            case SETTLED_NOT:
                if (shrank) {
                    cvma_reject(v, CVMA_R_REGISTRY_LOG_SHRANK,
                                "%s: log %s checkpoint of size %" PRIu64 ", but size %" PRIu64
                                " was seen before (%s) and no consistency proof shows this one "
                                "is its prefix%s%s",
                                found->origin, p->cp.origin, p->cp.size, prev.size, spath,
                                fdetail[0] ? ": " : "", fdetail);
                } else {
                    cvma_reject(v, CVMA_R_REGISTRY_LOG_UNPROVEN,
                                "%s: log %s grew from size %" PRIu64 " (seen before) to %" PRIu64
                                "; give --log-consistency (registry log prove --from %" PRIu64
                                ") or --log-url%s%s",
                                found->origin, p->cp.origin, prev.size, p->cp.size, prev.size,
                                fdetail[0] ? ": " : "", fdetail);
                }
                goto out;
            }
            if (shrank) {
                store = false; /* an older, consistent view: the newest stays */
            }
        }
    } else if (re != ENOENT) {
        cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                         "%s: log state not read: %s: consistency not checked, the file left as "
                         "it is",
                         spath, cvma_state_file_why(re, CVMA_TLOG_NOTE_MAX, why, sizeof why));
        store = false;
    }
stored:
    /* Still under the lock: what is written is newer than what this verifier read, and no
     * other verifier wrote since. */
    /* The whole signed note (signatures and cosignatures): a later split view then has two
     * checkpoints signed by the log key to show. */
    if (store) {
        /* 0600, as the registry's rollback state: the cache directory is private, and so is
         * what each file in it says about the logs this verifier follows. */
        enum cvma_status wst = cvma_file_write_atomic_mode(spath, found->bytes.p + p->note_off,
                                                           found->bytes.len - p->note_off, 0600);
        if (wst == CVMA_E_NOMEM) {
            /* not a warning on the verdict: the call's error, as for the registry's own
             * rollback state (bind_rollback.c) */
            st = CVMA_E_NOMEM;
            goto out;
        }
        if (wst != CVMA_OK) {
            cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                             "%s: the newest log checkpoint could not be stored", spath);
        }
    }
    *ok = true;
out:
    if (lock_fd >= 0) {
        close(lock_fd); /* releases the lock */
    }
    cvma_buf_free(&sb);
    free(spath);
    return st == CVMA_E_NOMEM ? st : undecided ? CVMA_UNDECIDED : CVMA_OK;
}

/* Steps 2 and 3 of cvma_bind_log_check for one log proof whose inclusion path verifies:
 * *passed true when its checkpoint is signed by the log key and cosigned by enough witnesses,
 * else the refusal is recorded in cv and *step gets the step that refused it. CVMA_OK, or
 * CVMA_E_NOMEM (*passed false, cv no verdict to keep) when a cosignature could not be
 * checked. */
static enum cvma_status signed_and_cosigned(const struct cvma_registry_set *rs,
                                            const struct log_key_item *lk,
                                            const struct log_proof_item *found,
                                            struct cvma_verdict *cv, int *step, bool *passed)
{
    const struct cvma_tlog_proof *p = found->proof;
    size_t cosigned = 0, need;
    bool bad_cosig = false;

    *passed = false;
    *step = 2;
    /* 2. The log's signature, 3. the witnesses' cosignatures. */
    if (cvma_note_check_sig(&p->note, &lk->vk) != CVMA_NOTE_VALID) {
        cvma_reject(cv, CVMA_R_REGISTRY_LOG_SIGNATURE_INVALID,
                    "%s: the checkpoint (size %" PRIu64 ") has no valid signature by log key %s",
                    found->origin, p->cp.size, lk->vk.name);
        return CVMA_OK;
    }
    *step = 3;
    for (size_t i = 0; i < rs->n_witnesses; i++) {
        switch (cvma_note_check_cosig(&p->note, &rs->witnesses[i], NULL)) {
        case CVMA_NOTE_VALID:
            cosigned++;
            break;
        case CVMA_NOTE_INVALID:
            cvma_reject(cv, CVMA_R_REGISTRY_LOG_COSIGNATURE_INVALID,
                        "%s: the cosignature by witness %s does not verify", found->origin,
                        rs->witnesses[i].name);
            bad_cosig = true;
            break;
        case CVMA_NOTE_NOMEM:
            /* not COSIGNATURE_INVALID: the cosignature was not checked */
            return CVMA_E_NOMEM;
        case CVMA_NOTE_ABSENT:
            break;
        }
    }
    if (bad_cosig) {
        return CVMA_OK;
    }
    /* A log nobody witnessed lets its provider show each verifier a log of its own: at least
     * one cosignature, whatever the caller configured (verify refuses --log-vkey without a
     * --witness-vkey as a usage error; this keeps other callers from binding unwitnessed). */
    need = rs->witnesses_required != 0 ? rs->witnesses_required : rs->n_witnesses;
    if (need == 0) {
        need = 1;
    }
    if (cosigned < need) {
        cvma_reject(cv, CVMA_R_REGISTRY_LOG_TOO_FEW_COSIGNATURES,
                    "%s: %zu of the %zu given witnesses cosigned the checkpoint, %zu required "
                    "(cosignatures by other keys are ignored)",
                    found->origin, cosigned, rs->n_witnesses, need);
        return CVMA_OK;
    }
    *step = 4;
    *passed = true;
    return CVMA_OK;
}

/* Steps 2 to 4 of cvma_bind_log_check for one log proof whose inclusion path verifies,
 * recorded in cv (a verdict of its own, so that a candidate that fails leaves nothing behind
 * when another passes). *step gets the step that refused it (5: none). CVMA_UNDECIDED as
 * check_state (unsettled says why). */
static enum cvma_status check_candidate(const struct cvma_registry_set *rs,
                                        const struct log_key_item *lk,
                                        const struct log_proof_item *found, const char *state_dir,
                                        const struct cvma_registry_bind_opts *o,
                                        struct cvma_verdict *cv, bool *ok, int *step,
                                        char *unsettled, size_t unsettled_len)
{
    bool passed = false;
    enum cvma_status sst;

    *ok = false;
    unsettled[0] = '\0';
    if ((sst = signed_and_cosigned(rs, lk, found, cv, step, &passed)) != CVMA_OK || !passed) {
        return sst;
    }
    /* 4. Consistency with the newest checkpoint seen for this log. */
    if (state_dir == NULL) {
        cvma_verdict_add(cv, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                         "%s: log consistency not checked: no state directory", found->origin);
        *ok = true;
    } else {
        enum cvma_status st =
                check_state(rs, lk, found, state_dir, o, cv, ok, unsettled, unsettled_len);
        if (st != CVMA_OK) {
            return st;
        }
    }
    if (*ok) {
        *step = 5;
    }
    return CVMA_OK;
}

/*
 * The first half of step 4: the candidates that passed steps 2 and 3 (c[0..n), largest tree
 * first) compared with each other before any of them is taken, so that what the registry is
 * bound to never depends on the order they were given in, nor on the state. Two of one size
 * with different roots, or two sizes that settle() finds inconsistent, are a split view: kept
 * as evidence in state_dir (when it is a private directory; the tiles' failures too) and
 * refused. A given consistency proof between two of them that fails, with nothing else
 * settling it, refuses as REGISTRY_LOG_CONSISTENCY_INVALID (after every pair was looked at:
 * a split view elsewhere comes first). Two sizes with no proof between them (none given, no
 * --log-url) are not compared. *refused is true when v got a refusal. CVMA_E_NOMEM when
 * memory ran out (settle(): the pair was not compared, which is no reason to bind).
 */
static enum cvma_status cross_check(const struct cvma_registry_set *rs,
                                    const struct log_key_item *lk,
                                    const struct log_proof_item *const *c, size_t n,
                                    const char *state_dir, const struct cvma_registry_bind_opts *o,
                                    struct cvma_verdict *v, bool *refused)
{
    const char *dir = NULL;
    bool dir_checked = false;
    char bad[CVMA_DETAIL_MAX] = "", where[600], fdetail[300], dir_why[CVMA_DETAIL_MAX / 2] = "";

    *refused = false;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            const struct cvma_tlog_proof *big = c[i]->proof, *small = c[j]->proof;
            const struct cvma_tlog_consistency *which = NULL;
            enum settled s = SETTLED_SPLIT_PROOF; /* of one size: the roots differ */
            bool same = big->cp.size == small->cp.size;

            if (same && memcmp(big->cp.root, small->cp.root, 32) == 0) {
                continue;
            }
            if (!dir_checked && state_dir != NULL) {
                enum cvma_status dst = cvma_private_dir(state_dir, true, dir_why, sizeof dir_why);
                if (dst == CVMA_E_NOMEM) {
                    return dst;
                }
                dir = dst == CVMA_OK ? state_dir : NULL;
            }
            dir_checked = true;
            fdetail[0] = '\0';
            if (!same) {
                s = settle(rs, lk, o, dir, small->cp.size, small->cp.root, big->cp.size,
                           big->cp.root, &which, fdetail, sizeof fdetail);
            }
            if (s == SETTLED_NOMEM) {
                return CVMA_E_NOMEM; /* not "not compared": the tiles were not looked at */
            }
            if (s == SETTLED_CONSISTENT || s == SETTLED_NOT || s == SETTLED_UNAVAILABLE) {
                continue;
            }
            if (s == SETTLED_BAD_PROOF) {
                if (bad[0] == '\0') {
                    /* (cut to fit: the origins are a log's names) */
                    cvma_errf(bad, sizeof bad,
                              "%s and %s: log %s checkpoints of sizes %" PRIu64 " and %" PRIu64
                              ": the --log-consistency proof from %" PRIu64 " to %" PRIu64
                              " does not verify%s%s%s",
                              c[j]->origin, c[i]->origin, big->cp.origin, small->cp.size,
                              big->cp.size, small->cp.size, big->cp.size,
                              lk->url != NULL ? ", nor could the log's tiles settle it" : "",
                              fdetail[0] ? ": " : "", fdetail);
                }
                continue;
            }
            /* A split view: the smaller (or the later given) kept, the other beside it. */
            keep_conflict(dir, small->cp.origin, small->cp.size, c[j]->bytes.p, c[j]->bytes.len,
                          c[i]->bytes.p, c[i]->bytes.len, "the other given", which, where,
                          sizeof where);
            const char *why = same ? "of one size with different roots"
                              : s == SETTLED_SPLIT_PROOF
                                      ? "the --log-consistency proof leads to the larger root "
                                        "from another tree of the smaller size"
                                      : "the log's tiles hash to the larger root, their first "
                                        "leaves not to the smaller";
            cvma_reject(v, CVMA_R_REGISTRY_SPLIT_VIEW,
                        "%s and %s: log %s signed checkpoints of sizes %" PRIu64 " and %" PRIu64
                        " that cannot both be true (%s); %s%s%s",
                        c[j]->origin, c[i]->origin, big->cp.origin, small->cp.size, big->cp.size,
                        why, where[0] ? "kept as " : "could not be kept",
                        where[0]            ? where
                        : state_dir == NULL ? ": no state directory"
                        : dir == NULL       ? ": state directory "
                                            : "",
                        where[0] == '\0' && state_dir != NULL && dir == NULL ? dir_why : "");
            *refused = true;
            return CVMA_OK;
        }
    }
    if (bad[0] != '\0') {
        cvma_reject(v, CVMA_R_REGISTRY_LOG_CONSISTENCY_INVALID, "%s", bad);
        *refused = true;
    }
    return CVMA_OK;
}

enum cvma_status cvma_bind_log_check(struct cvma_registry_set *rs, const struct reg_item *it,
                                     const char *state_dir, const struct cvma_registry_bind_opts *o,
                                     struct cvma_verdict *v, bool *ok, char *unsettled,
                                     size_t unsettled_len)
{
    const struct log_key_item *lk = NULL;
    uint8_t leaf[32];
    size_t for_log = 0, n_cand = 0, *cand = NULL, n_signed = 0;
    const struct log_proof_item **signed_c = NULL;
    char unparsed[600] = "";
    size_t ulen = 0;
    struct cvma_verdict best;
    int best_rank = 0;
    char why[CVMA_DETAIL_MAX];
    enum cvma_status st = CVMA_OK;

    *ok = true;
    unsettled[0] = '\0';
    for (size_t i = 0; i < rs->n_log_keys; i++) {
        if (strcmp(rs->log_keys[i].provider, it->reg.provider) == 0) {
            lk = &rs->log_keys[i];
        }
    }
    if (lk == NULL) {
        return CVMA_OK; /* this provider's registries need no log */
    }
    *ok = false;
    cvma_verdict_init(&best);
    if (rs->n_log_proofs > 0 && (cand = calloc(rs->n_log_proofs, sizeof *cand)) == NULL) {
        return CVMA_E_NOMEM;
    }
    /* 1. Log proofs from these exact bytes to a checkpoint of this log: every one, largest
     * tree first (a stable insertion), each then checked through steps 2 and 3, those that
     * pass compared with each other, and then each through step 4 until one passes. A proof
     * that cannot be parsed is named with its error. */
    cvma_merkle_leaf_hash(it->bytes.p, it->bytes.len, leaf);
    for (size_t i = 0; i < rs->n_log_proofs; i++) {
        struct log_proof_item *p = &rs->log_proofs[i];
        if (prepare(p) != CVMA_OK) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        if (!p->ok) {
            if (ulen < sizeof unparsed) {
                int w = snprintf(unparsed + ulen, sizeof unparsed - ulen, "; %s cannot be read: %s",
                                 p->origin, p->fail);
                ulen = w < 0 ? sizeof unparsed : ulen + (size_t)w;
            }
            continue;
        }
        if (strcmp(p->proof->cp.origin, lk->vk.name) != 0) {
            continue;
        }
        for_log++;
        if (cvma_merkle_verify(leaf, p->proof->index, p->proof->cp.size,
                               (const uint8_t(*)[32])p->proof->hashes, p->proof->n_hashes,
                               p->proof->cp.root)) {
            size_t k = n_cand++;
            while (k > 0 && rs->log_proofs[cand[k - 1]].proof->cp.size < p->proof->cp.size) {
                cand[k] = cand[k - 1];
                k--;
            }
            cand[k] = i;
        }
    }
    if (n_cand == 0) {
        cvma_reject(v, CVMA_R_REGISTRY_NOT_IN_LOG,
                    "%s: provider %s registries must come from log %s, and no --log-proof "
                    "shows this registry in it (%zu proof(s) for that log%s)",
                    it->origin, it->reg.provider, lk->vk.name, for_log, unparsed);
        goto out;
    }
    /* 2 and 3 on every candidate, and those that pass compared with each other: a split view
     * among them refuses the registry whatever their order and the state. */
    if ((signed_c = calloc(n_cand, sizeof *signed_c)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    for (size_t c = 0; c < n_cand; c++) {
        struct cvma_verdict cv;
        int step = 0;
        bool passed = false;
        cvma_verdict_init(&cv);
        st = signed_and_cosigned(rs, lk, &rs->log_proofs[cand[c]], &cv, &step, &passed);
        cvma_verdict_cleanup(&cv);
        if (st != CVMA_OK) {
            goto out; /* one left out of the comparison for want of memory would bind unseen */
        }
        if (passed) {
            signed_c[n_signed++] = &rs->log_proofs[cand[c]];
        }
    }
    if (n_signed > 1) {
        bool refused = false;
        st = cross_check(rs, lk, signed_c, n_signed, state_dir, o, v, &refused);
        if (st != CVMA_OK || refused) {
            goto out;
        }
    }
    /* 4, in turn: each candidate against the state until one passes. */
    for (size_t c = 0; c < n_cand; c++) {
        const struct log_proof_item *found = &rs->log_proofs[cand[c]];
        struct cvma_verdict cv;
        bool pass = false;
        int step = 0;
        cvma_verdict_init(&cv);
        st = check_candidate(rs, lk, found, state_dir, o, &cv, &pass, &step, why, sizeof why);
        if (st != CVMA_OK && st != CVMA_UNDECIDED) {
            cvma_verdict_cleanup(&cv);
            goto out;
        }
        /* A candidate only the log's tiles, which it did not give, could have passed ranks
         * above every refusal of step 4: with the log reachable it might pass. */
        int rank = 2 * step + (st == CVMA_UNDECIDED ? 1 : 0);
        st = CVMA_OK;
        /* The first that passes is taken; a split view is never passed over for another
         * proof: it is evidence against the log whatever else was given. */
        if (pass || cvma_verdict_has(&cv, CVMA_R_REGISTRY_SPLIT_VIEW)) {
            cvma_verdict_merge(v, &cv);
            cvma_verdict_cleanup(&cv);
            *ok = pass;
            goto out;
        }
        /* None yet: keep the refusal that got furthest (the largest tree's on a tie). */
        if (rank > best_rank) {
            cvma_verdict_cleanup(&best);
            best = cv;
            best_rank = rank;
            snprintf(unsettled, unsettled_len, "%s", rank % 2 == 1 ? why : "");
        } else {
            cvma_verdict_cleanup(&cv);
        }
    }
    cvma_verdict_merge(v, &best);
    if (unsettled[0] != '\0') {
        st = CVMA_UNDECIDED;
    }
out:
    cvma_verdict_cleanup(&best);
    free(signed_c);
    free(cand);
    return st;
}
