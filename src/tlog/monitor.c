/*
 * Reading a published log: fetching its resources from a directory or a static web server,
 * the monitor that recomputes every tile, and the registry facts append compares. See
 * tlog/tlog.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "collateral/http.h"
#include "common/reader.h"
#include "common/util.h"
#include "crypto/jws.h"
#include "tlog/tlog.h"

#define CHECKPOINT_MAX ((size_t)64 << 10)
#define BUNDLE_MAX     ((size_t)CVMA_TLOG_TILE_WIDTH * (CVMA_TLOG_ENTRY_MAX + 2))

/* see tlog/tlog.h */
bool cvma_tlog_src_is_url(const char *s)
{
    return cvma_http_scheme_ok(s); /* the fetcher's own rule: the scheme in any case */
}

/* see tlog/tlog.h */
enum cvma_status cvma_tlog_fetch(const struct cvma_http_opts *ho, const char *src, const char *rel,
                                 size_t max, struct cvma_buf *out, char *err, size_t err_len)
{
    enum cvma_status st;
    memset(out, 0, sizeof *out);
    if (cvma_tlog_src_is_url(src)) {
        struct cvma_http_opts o;
        long code = 0;
        size_t n = strlen(src) + strlen(rel) + 2;
        char *url = malloc(n);
        if (url == NULL) {
            return CVMA_E_NOMEM;
        }
        snprintf(url, n, "%s%s%s", src, src[strlen(src) - 1] == '/' ? "" : "/", rel);
        if (ho != NULL) {
            o = *ho;
        } else {
            cvma_http_opts_init(&o);
        }
        o.max_body = max;
        o.max_retries = -1;
        st = cvma_http_get(&o, url, out, &code, err, err_len);
        free(url);
        if (st == CVMA_OK && code != 200) {
            cvma_buf_free(out);
            cvma_errf(err, err_len, "%s/%s: HTTP %ld", src, rel, code);
            return CVMA_E_IO;
        }
        return st == CVMA_E_NOMEM ? st : (st == CVMA_OK ? CVMA_OK : CVMA_E_IO);
    }
    char *path = cvma_path_join(src, rel);
    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    st = cvma_file_read_regular(path, max, out);
    if (st == CVMA_E_IO) {
        cvma_errf(err, err_len, "%s: cannot read (or larger than %zu bytes)", path, max);
    }
    free(path);
    return st;
}

static unsigned tile_width(uint64_t count, uint64_t n)
{
    uint64_t w = count - n * CVMA_TLOG_TILE_WIDTH;
    return w >= CVMA_TLOG_TILE_WIDTH ? 0 : (unsigned)w;
}

/* see tlog/tlog.h */
bool cvma_tlog_bundle_parse(const uint8_t *p, size_t len, size_t cnt, struct cvma_span *entries,
                            char *err, size_t err_len)
{
    struct cvma_reader r;
    memset(entries, 0, cnt * sizeof *entries);
    cvma_reader_init(&r, p, len);
    for (size_t i = 0; i < cnt; i++) {
        uint16_t n = 0;
        if (!cvma_reader_u16be(&r, &n) || n == 0 || !cvma_reader_span(&r, n, &entries[i])) {
            cvma_errf(err, err_len, "entry %zu malformed or missing", i);
            memset(entries, 0, cnt * sizeof *entries);
            return false;
        }
    }
    if (!cvma_reader_at_end(&r)) {
        cvma_errf(err, err_len, "bytes after its %zu entries", cnt);
        memset(entries, 0, cnt * sizeof *entries);
        return false;
    }
    return true;
}

/* The checkpoint's cosignatures by the witnesses given: at least need (0: all) valid ones,
 * each key counted once, and no invalid one. CVMA_OK, CVMA_REJECTED (err), CVMA_E_NOMEM. */
static enum cvma_status witnessed(const struct cvma_note *note, const struct cvma_note_vkey *log,
                                  const struct cvma_note_vkey *w, size_t n, size_t need, char *err,
                                  size_t err_len)
{
    size_t valid = 0;
    for (size_t i = 0; i < n; i++) {
        switch (cvma_note_check_cosig(note, &w[i], NULL)) {
        case CVMA_NOTE_VALID:
            /* checked, but not counted for the log's key nor again for a repeated one */
            if (cvma_tlog_witness_key_check(&w[i], log, w, i, NULL, 0) == CVMA_WITNESS_KEY_OK) {
                valid++;
            }
            break;
        case CVMA_NOTE_INVALID:
            cvma_errf(err, err_len, "checkpoint: the cosignature by witness %s does not verify",
                      w[i].name);
            return CVMA_REJECTED;
        case CVMA_NOTE_NOMEM:
            cvma_errf(err, err_len, "out of memory");
            return CVMA_E_NOMEM;
        case CVMA_NOTE_ABSENT:
            break;
        }
    }
    if (need == 0) {
        need = n;
    }
    if (valid < need) {
        cvma_errf(err, err_len,
                  "checkpoint: %zu of the %zu given witnesses cosigned it, %zu required "
                  "(cosignatures by other keys are ignored)",
                  valid, n, need);
        return CVMA_REJECTED;
    }
    return CVMA_OK;
}

/* Tile n of level (-1: the entry bundle; partial width pw) of src into b; rel gets its path.
 * A path that cannot be made is an error, never a tile. */
static enum cvma_status read_tile(const char *src, int level, uint64_t n, unsigned pw,
                                  struct cvma_buf *b, char *rel, size_t rel_len, char *err,
                                  size_t err_len)
{
    cvma_buf_free(b);
    if (!cvma_tlog_tile_path(level, n, pw, rel, rel_len)) {
        cvma_errf(err, err_len, "tile %d/%" PRIu64 ": no path", level, n);
        return CVMA_E_INTERNAL;
    }
    return cvma_tlog_fetch(NULL, src, rel, level < 0 ? BUNDLE_MAX : CVMA_TLOG_TILE_WIDTH * 32, b,
                           err, err_len);
}

/* Entry bundle n (partial width pw: cnt entries) of src into b, its entries into entries
 * (pointing into b); rel gets its path. */
static enum cvma_status read_bundle(const char *src, uint64_t n, unsigned pw, size_t cnt,
                                    struct cvma_buf *b, struct cvma_span *entries, char *rel,
                                    size_t rel_len, char *err, size_t err_len)
{
    char why[200];
    enum cvma_status st = read_tile(src, -1, n, pw, b, rel, rel_len, err, err_len);
    if (st != CVMA_OK) {
        return st;
    }
    if (!cvma_tlog_bundle_parse(b->p, b->len, cnt, entries, why, sizeof why)) {
        cvma_errf(err, err_len, "%s: %s", rel, why);
        return CVMA_REJECTED;
    }
    return CVMA_OK;
}

enum cvma_status cvma_tlog_monitor(const char *src, const struct cvma_note_vkey *vkey,
                                   const struct cvma_note_vkey *witnesses, size_t n_witnesses,
                                   size_t need, cvma_tlog_entry_fn fn, void *ctx,
                                   struct cvma_checkpoint *cp, struct cvma_buf *note_out,
                                   struct cvma_merkle *tree_out, char *err, size_t err_len)
{
    struct cvma_buf b = {0};
    struct cvma_note note;
    struct cvma_merkle tree;
    uint8_t(*leaves)[32] = NULL;
    char rel[128], why[200];
    enum cvma_status st;
    uint8_t root[32];

    memset(&note, 0, sizeof note);
    memset(&tree, 0, sizeof tree);
    memset(cp, 0, sizeof *cp);
    if (note_out != NULL) {
        memset(note_out, 0, sizeof *note_out);
    }
    if (tree_out != NULL) {
        memset(tree_out, 0, sizeof *tree_out);
    }
    if ((st = cvma_tlog_fetch(NULL, src, "checkpoint", CHECKPOINT_MAX, &b, err, err_len)) !=
        CVMA_OK) {
        return st;
    }
    /* The note as fetched, for the caller's state: b is reused for the tiles. */
    if (note_out != NULL && b.len > 0) {
        if ((note_out->p = malloc(b.len)) == NULL) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        memcpy(note_out->p, b.p, b.len);
        note_out->len = b.len;
    }
    if ((st = cvma_note_parse(b.p, b.len, &note, why, sizeof why)) != CVMA_OK ||
        !cvma_checkpoint_parse(note.text, note.text_len, cp, why, sizeof why)) {
        cvma_errf(err, err_len, "checkpoint: %s", why);
        st = st == CVMA_OK ? CVMA_REJECTED : st;
        goto out;
    }
    if (cvma_note_check_sig(&note, vkey) != CVMA_NOTE_VALID) {
        cvma_errf(err, err_len, "checkpoint: no valid signature by %s", vkey->name);
        st = CVMA_REJECTED;
        goto out;
    }
    /* C2SP tlog-checkpoint: the origin line names the log, and the log's key carries that
     * name (as the verifier requires of a log proof): a checkpoint of another log signed by
     * the same key is not this log's. */
    if (strcmp(cp->origin, vkey->name) != 0) {
        cvma_errf(err, err_len, "checkpoint: origin \"%.255s\" is not the log key's name %s",
                  cp->origin, vkey->name);
        st = CVMA_REJECTED;
        goto out;
    }
    if (n_witnesses > 0 &&
        (st = witnessed(&note, vkey, witnesses, n_witnesses, need, err, err_len)) != CVMA_OK) {
        goto out;
    }
    if (cp->size == 0) {
        st = CVMA_OK;
        goto out;
    }
    if (cp->size > CVMA_REG_ENTRIES_MAX || (leaves = malloc((size_t)cp->size * 32)) == NULL) {
        st = cp->size > CVMA_REG_ENTRIES_MAX ? CVMA_REJECTED : CVMA_E_NOMEM;
        cvma_errf(err, err_len, "checkpoint: size %" PRIu64 " not supported", cp->size);
        goto out;
    }
    /* Entries, then the level-0 tile they must hash to. */
    for (uint64_t n = 0; n * CVMA_TLOG_TILE_WIDTH < cp->size; n++) {
        unsigned pw = tile_width(cp->size, n);
        size_t cnt = pw == 0 ? CVMA_TLOG_TILE_WIDTH : pw;
        uint64_t first = n * CVMA_TLOG_TILE_WIDTH;
        struct cvma_span entries[CVMA_TLOG_TILE_WIDTH];
        if ((st = read_bundle(src, n, pw, cnt, &b, entries, rel, sizeof rel, err, err_len)) !=
            CVMA_OK) {
            goto out;
        }
        for (size_t i = 0; i < cnt; i++) {
            cvma_merkle_leaf_hash(entries[i].p, entries[i].len, leaves[first + i]);
        }
        if ((st = read_tile(src, 0, n, pw, &b, rel, sizeof rel, err, err_len)) != CVMA_OK) {
            goto out;
        }
        if (b.len != cnt * 32 || memcmp(b.p, leaves[first], cnt * 32) != 0) {
            cvma_errf(err, err_len, "%s does not match the hashes of its entries", rel);
            st = CVMA_REJECTED;
            goto out;
        }
    }
    if ((st = cvma_merkle_build_hashes(&tree, (const uint8_t(*)[32])leaves, (size_t)cp->size)) !=
        CVMA_OK) {
        goto out;
    }
    cvma_merkle_root(&tree, root);
    if (memcmp(root, cp->root, 32) != 0) {
        cvma_errf(err, err_len, "the entries do not hash to the checkpoint's root");
        st = CVMA_REJECTED;
        goto out;
    }
    /* Every higher tile: the tree's complete nodes at height 8L. */
    for (int lv = 1; (size_t)(8 * lv) < tree.n_levels; lv++) {
        uint64_t c = cp->size >> (8 * lv);
        const uint8_t(*nodes)[32] = (const uint8_t(*)[32])tree.nodes + tree.level_off[8 * lv];
        for (uint64_t n = 0; n * CVMA_TLOG_TILE_WIDTH < c; n++) {
            unsigned pw = tile_width(c, n);
            size_t cnt = pw == 0 ? CVMA_TLOG_TILE_WIDTH : pw;
            if ((st = read_tile(src, lv, n, pw, &b, rel, sizeof rel, err, err_len)) != CVMA_OK) {
                goto out;
            }
            if (b.len != cnt * 32 || memcmp(b.p, nodes[n * CVMA_TLOG_TILE_WIDTH], cnt * 32) != 0) {
                cvma_errf(err, err_len, "%s does not match the tree", rel);
                st = CVMA_REJECTED;
                goto out;
            }
        }
    }
    /* Only now, every tile and the root verified, are the entries given to fn: read again
     * (keeping every bundle could take gigabytes), each held to the leaf hash verified above,
     * so a log that changes between the two reads is refused, never passed on. */
    for (uint64_t n = 0; fn != NULL && n * CVMA_TLOG_TILE_WIDTH < cp->size; n++) {
        unsigned pw = tile_width(cp->size, n);
        size_t cnt = pw == 0 ? CVMA_TLOG_TILE_WIDTH : pw;
        uint64_t first = n * CVMA_TLOG_TILE_WIDTH;
        struct cvma_span entries[CVMA_TLOG_TILE_WIDTH];
        if ((st = read_bundle(src, n, pw, cnt, &b, entries, rel, sizeof rel, err, err_len)) !=
            CVMA_OK) {
            goto out;
        }
        for (size_t i = 0; i < cnt; i++) {
            uint8_t h[32];
            cvma_merkle_leaf_hash(entries[i].p, entries[i].len, h);
            if (memcmp(h, leaves[first + i], 32) != 0) {
                cvma_errf(err, err_len, "%s changed while the log was read", rel);
                st = CVMA_REJECTED;
                goto out;
            }
            if (fn(ctx, first + i, entries[i].p, entries[i].len) != 0) {
                cvma_errf(err, err_len, "entry %" PRIu64 " refused", first + i);
                st = CVMA_REJECTED;
                goto out;
            }
        }
    }
    if (tree_out != NULL) {
        *tree_out = tree; /* the caller's now */
        memset(&tree, 0, sizeof tree);
    }
    st = CVMA_OK;
out:
    if (st != CVMA_OK) {
        memset(cp, 0, sizeof *cp); /* a refused log gives back no checkpoint */
        if (note_out != NULL) {
            cvma_buf_free(note_out);
        }
    }
    cvma_buf_free(&b);
    cvma_note_cleanup(&note);
    cvma_merkle_cleanup(&tree);
    free(leaves);
    return st;
}

/* Keeps the checkpoint the monitor verified now (note) and the state it conflicts with (sb)
 * as evidence, with the consistency proof from the size seen when the new one is larger;
 * where gets what was kept ("" when nothing could be). */
static void keep_split(const char *dir, const struct cvma_checkpoint *cp, const uint8_t *note,
                       size_t note_len, const struct cvma_buf *sb,
                       const struct cvma_checkpoint *prev, const struct cvma_merkle *tree,
                       char *where, size_t where_len)
{
    char suffix[56], *path = NULL, *spath = NULL, *cpath = NULL, *ctext = NULL;
    struct cvma_tlog_consistency c;

    where[0] = '\0';
    snprintf(suffix, sizeof suffix, ".%" PRIu64 ".%lld", cp->size, (long long)time(NULL));
    if (cvma_tlog_keep_evidence(dir, "tlog-conflict.", cp->origin, suffix, note, note_len, sb->p,
                                sb->len, &path, &spath) != CVMA_OK) {
        return;
    }
    memset(&c, 0, sizeof c);
    if (prev->size > 0 && prev->size < cp->size && tree->n_leaves == cp->size) {
        uint8_t h[CVMA_REG_PATH_MAX][32];
        size_t n = cvma_merkle_consistency_proof(tree, prev->size, cp->size, h);
        if (n <= CVMA_TLOG_PROOF_MAX) {
            c.old_size = prev->size;
            c.new_size = cp->size;
            c.n_hashes = n;
            memcpy(c.hashes, h, n * 32);
            size_t cl = strlen(path) + sizeof ".consistency";
            if ((ctext = cvma_tlog_consistency_text(&c)) != NULL && (cpath = malloc(cl)) != NULL) {
                snprintf(cpath, cl, "%s.consistency", path);
                /* (one there already: the pair was kept before, with its proof) */
                int ce = cvma_file_create_exclusive(cpath, (const uint8_t *)ctext, strlen(ctext),
                                                    0644);
                if (ce != 0 && ce != EEXIST) {
                    free(cpath);
                    cpath = NULL;
                }
            }
        }
    }
    snprintf(where, where_len, "%s (the one seen before: %s%s%s)", path, spath,
             cpath != NULL ? "; the consistency proof from the size seen: " : "",
             cpath != NULL ? cpath : "");
    free(ctext);
    free(cpath);
    free(path);
    free(spath);
}

/* see tlog/tlog.h */
enum cvma_status cvma_tlog_monitor_state(const char *dir, const struct cvma_note_vkey *vkey,
                                         const struct cvma_checkpoint *cp, const uint8_t *note,
                                         size_t note_len, const struct cvma_merkle *tree,
                                         enum cvma_tlog_seen *seen, struct cvma_checkpoint *prev,
                                         char *detail, size_t detail_len)
{
    char *spath = NULL, *lpath = NULL, why[300] = "", where[1200];
    struct cvma_buf sb = {0};
    int lock_fd = -1;
    bool store = false;
    enum cvma_status st;

    *seen = CVMA_TLOG_SEEN_FIRST;
    memset(prev, 0, sizeof *prev);
    detail[0] = '\0';
    /* A directory others can write is no memory: what is kept there could be replaced. */
    if ((st = cvma_private_dir(dir, true, why, sizeof why)) != CVMA_OK) {
        if (st != CVMA_E_NOMEM) {
            cvma_errf(detail, detail_len, "state directory not used: %s", why);
            st = CVMA_E_USAGE;
        }
        return st;
    }
    if ((spath = cvma_tlog_state_path(dir, "tlog-state.", cp->origin, ".checkpoint")) == NULL ||
        (lpath = cvma_tlog_state_path(dir, "tlog-state.", cp->origin, ".lock")) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    /* The verifier's lock: one reader-writer of a log's state at a time. */
    int e = cvma_lock_file(lpath, true, 0600, &lock_fd);
    if (e != 0) {
        st = e == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO;
        cvma_errf(detail, detail_len, "%s: cannot be locked", lpath);
        goto out;
    }
    /* Never through a symbolic link, a regular file only (cvma_state_file_read). */
    int re = cvma_state_file_read(spath, CVMA_TLOG_NOTE_MAX, &sb);
    if (re == ENOMEM) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (re != 0) {
        if (re != ENOENT) {
            cvma_errf(detail, detail_len, "%s: cannot be read: %s", spath,
                      cvma_state_file_why(re, CVMA_TLOG_NOTE_MAX, why, sizeof why));
            st = CVMA_E_USAGE;
            goto out;
        }
        store = true; /* the first checkpoint of this log */
        goto stored;
    }
    bool is_signed = false;
    if ((st = cvma_tlog_state_parse(sb.p, sb.len, prev, &is_signed, why, sizeof why)) != CVMA_OK) {
        if (st != CVMA_E_NOMEM) {
            cvma_errf(detail, detail_len, "%s: not a log state: %s", spath, why);
            st = CVMA_E_USAGE;
        }
        goto out;
    }
    if (strcmp(prev->origin, cp->origin) != 0) {
        cvma_errf(detail, detail_len, "%s: a checkpoint of another origin", spath);
        st = CVMA_E_USAGE;
        goto out;
    }
    if (is_signed) {
        /* Another key of this name (a verifier sharing the directory trusts it): not this
         * log's checkpoint to compare with, nor to replace. */
        struct cvma_note n;
        enum cvma_status nst = cvma_note_parse(sb.p, sb.len, &n, why, sizeof why);
        if (nst == CVMA_E_NOMEM) {
            st = nst;
            goto out;
        }
        bool mine = nst == CVMA_OK && cvma_note_check_sig(&n, vkey) == CVMA_NOTE_VALID;
        if (nst == CVMA_OK) {
            cvma_note_cleanup(&n);
        }
        if (!mine) {
            cvma_errf(detail, detail_len,
                      "%s holds a checkpoint of %s not signed by the log key given (another key "
                      "of that name): not compared, kept as it is",
                      spath, cp->origin);
            st = CVMA_E_USAGE;
            goto out;
        }
    }
    if (prev->size > cp->size) {
        *seen = CVMA_TLOG_SEEN_SHRANK;
        cvma_errf(detail, detail_len,
                  "log %s: checkpoint of size %" PRIu64 ", but size %" PRIu64
                  " was verified before (%s): an old checkpoint, or a log cut back",
                  cp->origin, cp->size, prev->size, spath);
        st = CVMA_OK;
        goto out;
    }
    uint8_t r[32];
    if (prev->size == 0) {
        memcpy(r, prev->root, 32); /* the empty tree is every log's prefix */
    } else if (tree == NULL || tree->n_leaves != cp->size) {
        cvma_errf(detail, detail_len, "the tree of the log read is not at hand");
        st = CVMA_E_INTERNAL;
        goto out;
    } else {
        cvma_merkle_subtree(tree, 0, prev->size, r);
    }
    if (memcmp(r, prev->root, 32) != 0) {
        *seen = CVMA_TLOG_SEEN_SPLIT;
        keep_split(dir, cp, note, note_len, &sb, prev, tree, where, sizeof where);
        if (prev->size == cp->size) {
            cvma_errf(detail, detail_len,
                      "log %s signed two checkpoints of size %" PRIu64
                      " with different roots: the one verified before is %s; %s%s",
                      cp->origin, cp->size, spath, where[0] ? "kept as " : "could not be kept",
                      where);
        } else {
            cvma_errf(detail, detail_len,
                      "log %s: the first %" PRIu64 " entries of its checkpoint of size %" PRIu64
                      " do not hash to the checkpoint of size %" PRIu64
                      " verified before (%s): the log was rewritten; %s%s",
                      cp->origin, prev->size, cp->size, prev->size, spath,
                      where[0] ? "kept as " : "could not be kept", where);
        }
        st = CVMA_OK;
        goto out;
    }
    if (prev->size == cp->size) {
        *seen = CVMA_TLOG_SEEN_SAME;
        cvma_errf(detail, detail_len, "the checkpoint verified before (%s)", spath);
        st = CVMA_OK;
        goto out;
    }
    *seen = CVMA_TLOG_SEEN_GREW;
    store = true;
stored:
    /* Still under the lock: nobody wrote since the state was read. */
    if (store && cvma_file_write_atomic_mode(spath, note, note_len, 0600) != CVMA_OK) {
        cvma_errf(detail, detail_len, "%s: cannot be written", spath);
        st = CVMA_E_IO;
        goto out;
    }
    if (*seen == CVMA_TLOG_SEEN_FIRST) {
        cvma_errf(detail, detail_len, "first seen, stored as %s", spath);
    } else {
        cvma_errf(detail, detail_len,
                  "consistent with size %" PRIu64 " verified before; stored as %s", prev->size,
                  spath);
    }
    st = CVMA_OK;
out:
    if (lock_fd >= 0) {
        close(lock_fd); /* releases the lock */
    }
    cvma_buf_free(&sb);
    free(spath);
    free(lpath);
    return st;
}

bool cvma_tlog_reg_peek(const uint8_t *p, size_t len, struct cvma_tlog_reg_info *out, char *err,
                        size_t err_len)
{
    struct cvma_jws jws;
    json_t *pl = NULL, *jp, *jv;
    bool ok = false;

    memset(out, 0, sizeof *out);
    memset(&jws, 0, sizeof jws);
    len = cvma_jws_token_len(p, len); /* as cvma_registry_verify reads the file */
    if (cvma_jws_decode((const char *)p, len, &jws, err, err_len) != CVMA_JWS_OK) {
        return false;
    }
    if ((pl = cvma_jws_payload_json(&jws, err, err_len)) == NULL) {
        goto out;
    }
    jp = json_object_get(pl, "provider");
    jv = json_object_get(pl, "version");
    if (!json_is_string(jp) || json_string_length(jp) == 0 ||
        json_string_length(jp) > CVMA_REG_PROVIDER_MAX || !json_is_integer(jv) ||
        json_integer_value(jv) < 1) {
        cvma_errf(err, err_len, "payload has no provider and version");
        goto out;
    }
    snprintf(out->provider, sizeof out->provider, "%s", json_string_value(jp));
    out->version = (uint64_t)json_integer_value(jv);
    if (jws.has_kid) {
        snprintf(out->kid, sizeof out->kid, "%s", jws.kid);
    }
    ok = true;
out:
    json_decref(pl);
    cvma_jws_cleanup(&jws);
    return ok;
}
