/*
 * A tlog witness (C2SP tlog-witness add-checkpoint, tlog-cosignature/v1): cosigns a log's
 * checkpoint only when it is consistent with the last one it cosigned for that origin. See
 * tlog/tlog.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "common/base64.h"
#include "common/hex.h"
#include "common/reader.h"
#include "tlog/tlog.h"

int cvma_witness_http_status(enum cvma_witness_result r)
{
    switch (r) {
    case CVMA_WITNESS_OK:
        return 200;
    case CVMA_WITNESS_BAD_REQUEST:
        return 400;
    case CVMA_WITNESS_FORBIDDEN:
        return 403;
    case CVMA_WITNESS_UNKNOWN_LOG:
        return 404;
    case CVMA_WITNESS_CONFLICT:
        return 409;
    case CVMA_WITNESS_BAD_PROOF:
        return 422;
    case CVMA_WITNESS_ERROR:
        return 500;
    }
    return 500;
}

/* see tlog/tlog.h */
enum cvma_witness_key cvma_tlog_witness_key_check(const struct cvma_note_vkey *w,
                                                  const struct cvma_note_vkey *log,
                                                  const struct cvma_note_vkey *earlier,
                                                  size_t n_earlier, char *err, size_t err_len)
{
    if (log != NULL && memcmp(w->pub, log->pub, sizeof w->pub) == 0) {
        cvma_errf(err, err_len, "witness %s has log %s's key: a log cannot witness itself", w->name,
                  log->name);
        return CVMA_WITNESS_KEY_IS_LOG;
    }
    for (size_t i = 0; i < n_earlier; i++) {
        if (memcmp(w->pub, earlier[i].pub, sizeof w->pub) == 0) {
            cvma_errf(err, err_len, "witness %s given twice", w->name);
            return CVMA_WITNESS_KEY_REPEATED;
        }
    }
    return CVMA_WITNESS_KEY_OK;
}

/* see tlog/tlog.h */
char *cvma_tlog_state_path(const char *dir, const char *prefix, const char *origin,
                           const char *suffix)
{
    struct sha256_ctx c;
    uint8_t d[32];
    char hex[33], name[128];
    sha256_init(&c);
    sha256_update(&c, strlen(origin), (const uint8_t *)origin);
    sha256_digest(&c, sizeof d, d);
    cvma_hex_encode(d, 16, hex, sizeof hex);
    snprintf(name, sizeof name, "%s%s%s", prefix, hex, suffix);
    return cvma_path_join(dir, name);
}

/* True when the file at path holds exactly p[0..len). */
static bool holds(const char *path, const uint8_t *p, size_t len)
{
    struct cvma_buf f = {0};
    bool same = cvma_file_read_regular(path, len, &f) == CVMA_OK && f.len == len &&
                (len == 0 || memcmp(f.p, p, len) == 0);
    cvma_buf_free(&f);
    return same;
}

/*
 * A pair kept before with these very contents: dir/<prefix><hash of origin>... holding a, its
 * ".seen" holding b (any suffix). A conflict that persists is met again on every run: it is
 * kept once, not once a run. CVMA_OK with *path_out set when found (NULL when not),
 * CVMA_E_NOMEM.
 */
static enum cvma_status find_kept(const char *dir, const char *prefix, const char *origin,
                                  const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                                  char **path_out, char **seen_out)
{
    char *base = cvma_tlog_state_path("", prefix, origin, "");
    enum cvma_status st = CVMA_OK;
    DIR *d;
    if (base == NULL) {
        return CVMA_E_NOMEM;
    }
    const char *stem = strrchr(base, '/') != NULL ? strrchr(base, '/') + 1 : base;
    size_t sl = strlen(stem);
    if ((d = opendir(dir)) == NULL) {
        free(base);
        return CVMA_OK; /* nothing found: keep a new pair (or fail there, saying so) */
    }
    for (struct dirent *e; st == CVMA_OK && *path_out == NULL && (e = readdir(d)) != NULL;) {
        size_t nl = strlen(e->d_name);
        if (nl <= sl || strncmp(e->d_name, stem, sl) != 0 ||
            (nl > 5 && strcmp(e->d_name + nl - 5, ".seen") == 0) || strchr(e->d_name, '/')) {
            continue;
        }
        char *path = cvma_path_join(dir, e->d_name), *seen = NULL;
        size_t pl = path != NULL ? strlen(path) + sizeof ".seen" : 0;
        if (path == NULL || (seen = malloc(pl)) == NULL) {
            free(path);
            st = CVMA_E_NOMEM;
            break;
        }
        snprintf(seen, pl, "%s.seen", path);
        if (holds(path, a, a_len) && holds(seen, b, b_len)) {
            *path_out = path;
            *seen_out = seen;
        } else {
            free(path);
            free(seen);
        }
    }
    closedir(d);
    free(base);
    return st;
}

enum cvma_status cvma_tlog_keep_evidence(const char *dir, const char *prefix, const char *origin,
                                         const char *suffix, const uint8_t *a, size_t a_len,
                                         const uint8_t *b, size_t b_len, char **path_out,
                                         char **seen_out)
{
    *path_out = NULL;
    *seen_out = NULL;
    enum cvma_status fst = find_kept(dir, prefix, origin, a, a_len, b, b_len, path_out, seen_out);
    if (fst != CVMA_OK || *path_out != NULL) {
        return fst;
    }
    for (unsigned n = 0; n < 1000; n++) {
        char sfx[96], *path, *seen;
        if (n == 0) {
            snprintf(sfx, sizeof sfx, "%s", suffix);
        } else {
            snprintf(sfx, sizeof sfx, "%s-%u", suffix, n);
        }
        if ((path = cvma_tlog_state_path(dir, prefix, origin, sfx)) == NULL) {
            return CVMA_E_NOMEM;
        }
        size_t sl = strlen(path) + sizeof ".seen";
        if ((seen = malloc(sl)) == NULL) {
            free(path);
            return CVMA_E_NOMEM;
        }
        snprintf(seen, sl, "%s.seen", path);
        int e = cvma_file_create_exclusive(path, a, a_len, 0644);
        if (e == 0) {
            e = cvma_file_create_exclusive(seen, b, b_len, 0644);
            if (e != 0) {
                unlink(path); /* a pair or nothing */
            }
        }
        if (e == 0) {
            enum cvma_status ds = cvma_dir_fsync(dir); /* the names too, where it can */
            (void)ds;
            *path_out = path;
            *seen_out = seen;
            return CVMA_OK;
        }
        free(path);
        free(seen);
        if (e != EEXIST) {
            return e == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO;
        }
    }
    return CVMA_E_IO; /* a thousand pairs under one name: keep what is there */
}

static bool parse_request(const uint8_t *body, size_t len, uint64_t *old_size,
                          uint8_t proof[CVMA_TLOG_PROOF_MAX][32], size_t *n_proof,
                          struct cvma_span *checkpoint, char *err, size_t err_len)
{
    struct cvma_reader r;
    if (body == NULL || len == 0) { /* an empty POST: no pointer to walk from */
        cvma_errf(err, err_len, "request: empty");
        return false;
    }
    cvma_reader_init(&r, body, len);
    for (size_t line = 0;; line++) {
        const uint8_t *start = r.p + r.off;
        const uint8_t *nl = memchr(start, '\n', cvma_reader_left(&r));
        struct cvma_span s;
        if (nl == NULL || !cvma_reader_span(&r, (size_t)(nl - start), &s) ||
            !cvma_reader_skip(&r, 1)) {
            cvma_errf(err, err_len, "request: unterminated line");
            return false;
        }
        if (line == 0) {
            uint64_t v = 0;
            if (s.len < 5 || s.len > 4 + 19 || memcmp(s.p, "old ", 4) != 0 ||
                (s.len > 5 && s.p[4] == '0')) {
                cvma_errf(err, err_len, "request: first line is not 'old N'");
                return false;
            }
            for (size_t i = 4; i < s.len; i++) {
                if (s.p[i] < '0' || s.p[i] > '9') {
                    cvma_errf(err, err_len, "request: first line is not 'old N'");
                    return false;
                }
                v = v * 10 + (uint64_t)(s.p[i] - '0');
            }
            *old_size = v;
            continue;
        }
        if (s.len == 0) {
            break;
        }
        size_t n = 0;
        if (*n_proof == CVMA_TLOG_PROOF_MAX) {
            cvma_errf(err, err_len, "request: proof line %zu: more than %d proof hashes", line,
                      CVMA_TLOG_PROOF_MAX);
            return false;
        }
        if (!cvma_base64_decode((const char *)s.p, s.len, CVMA_B64_STD, proof[*n_proof], 32, &n) ||
            n != 32) {
            cvma_errf(err, err_len, "request: proof line %zu is not base64 of 32 bytes", line);
            return false;
        }
        (*n_proof)++;
    }
    cvma_reader_rest(&r, checkpoint);
    return true;
}

/* see tlog/tlog.h */
bool cvma_witness_parse_request(const uint8_t *body, size_t len, uint64_t *old_size,
                                uint8_t proof[CVMA_TLOG_PROOF_MAX][32], size_t *n_proof,
                                struct cvma_span *checkpoint, char *err, size_t err_len)
{
    *old_size = 0;
    *n_proof = 0;
    memset(proof, 0, CVMA_TLOG_PROOF_MAX * sizeof proof[0]);
    memset(checkpoint, 0, sizeof *checkpoint);
    if (parse_request(body, len, old_size, proof, n_proof, checkpoint, err, err_len)) {
        return true;
    }
    /* Refused: nothing read before the refusal (old size, proof hashes) is given back. */
    *old_size = 0;
    *n_proof = 0;
    memset(proof, 0, CVMA_TLOG_PROOF_MAX * sizeof proof[0]);
    memset(checkpoint, 0, sizeof *checkpoint);
    return false;
}

enum cvma_witness_result cvma_witness_add(const char *state_dir, const struct cvma_note_skey *wk,
                                          const struct cvma_note_vkey *logs, size_t n_logs,
                                          const uint8_t *note_p, size_t note_len, uint64_t old_size,
                                          const uint8_t (*proof)[32], size_t n_proof, uint64_t now,
                                          char **cosig, uint64_t *known_size, char *err,
                                          size_t err_len)
{
    enum cvma_witness_result res = CVMA_WITNESS_ERROR;
    struct cvma_note note;
    struct cvma_checkpoint cp, prev;
    const struct cvma_note_vkey *lk = NULL;
    struct cvma_buf sb = {0};
    char *spath = NULL, *lpath = NULL, why[200] = "";
    int lock = -1;
    bool have_prev = false;

    *cosig = NULL;
    *known_size = 0;
    memset(&note, 0, sizeof note);
    memset(&prev, 0, sizeof prev);
    enum cvma_status pst = cvma_note_parse(note_p, note_len, &note, why, sizeof why);
    if (pst == CVMA_E_NOMEM) {
        cvma_errf(err, err_len, "out of memory");
        goto out; /* CVMA_WITNESS_ERROR: not the request's fault */
    }
    if (pst != CVMA_OK || !cvma_checkpoint_parse(note.text, note.text_len, &cp, why, sizeof why)) {
        cvma_errf(err, err_len, "%s", why);
        res = CVMA_WITNESS_BAD_REQUEST;
        goto out;
    }
    for (size_t i = 0; i < n_logs; i++) {
        if (strcmp(logs[i].name, cp.origin) == 0) {
            lk = &logs[i];
            if (cvma_note_check_sig(&note, lk) == CVMA_NOTE_VALID) {
                break;
            }
        }
    }
    if (lk == NULL) {
        cvma_errf(err, err_len, "unknown log '%s'", cp.origin);
        res = CVMA_WITNESS_UNKNOWN_LOG;
        goto out;
    }
    if (cvma_note_check_sig(&note, lk) != CVMA_NOTE_VALID) {
        cvma_errf(err, err_len, "checkpoint of '%s' has no valid signature by the log's key",
                  cp.origin);
        res = CVMA_WITNESS_FORBIDDEN;
        goto out;
    }
    if (old_size > cp.size) {
        cvma_errf(err, err_len, "old size %" PRIu64 " above the checkpoint's %" PRIu64, old_size,
                  cp.size);
        res = CVMA_WITNESS_BAD_REQUEST;
        goto out;
    }
    /* The checkpoints last cosigned are believed as found: a directory others can write
     * would let them roll one back, and this witness would cosign a split view. */
    char dwhy[300];
    if (cvma_private_dir(state_dir, true, dwhy, sizeof dwhy) != CVMA_OK) {
        cvma_errf(err, err_len, "state directory not used: %s", dwhy);
        goto out;
    }
    if ((lpath = cvma_path_join(state_dir, "lock")) == NULL ||
        cvma_lock_file(lpath, true, 0600, &lock) != 0 ||
        (spath = cvma_tlog_state_path(state_dir, "log-", cp.origin, "")) == NULL) {
        cvma_errf(err, err_len, "%s: cannot use the state directory", state_dir);
        goto out;
    }
    /* The checkpoint last cosigned for this origin: the signed note as it came (earlier
     * versions kept its bare text), written below from a note of at most CVMA_TLOG_NOTE_MAX
     * bytes, so read back with that limit; never through a symbolic link, a regular file
     * only (cvma_state_file_read). */
    int re = cvma_state_file_read(spath, CVMA_TLOG_NOTE_MAX, &sb);
    if (re == ENOMEM) {
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    if (re == 0) {
        bool is_signed = false;
        enum cvma_status sst =
                cvma_tlog_state_parse(sb.p, sb.len, &prev, &is_signed, why, sizeof why);
        if (sst == CVMA_E_NOMEM) {
            cvma_errf(err, err_len, "out of memory");
            goto out;
        }
        if (sst == CVMA_OK && strcmp(prev.origin, cp.origin) != 0) {
            /* Parsed, but not this log's: say so (why holds nothing from the parse). */
            snprintf(why, sizeof why, "a checkpoint of another origin ('%.100s')", prev.origin);
            sst = CVMA_REJECTED;
        }
        if (sst != CVMA_OK) {
            cvma_errf(err, err_len, "%s: corrupt state: %s", spath, why);
            goto out;
        }
        have_prev = true;
        *known_size = prev.size;
    } else if (re != ENOENT) {
        cvma_errf(err, err_len, "%s: cannot read: %s", spath,
                  cvma_state_file_why(re, CVMA_TLOG_NOTE_MAX, why, sizeof why));
        goto out;
    }
    if (old_size != (have_prev ? prev.size : 0)) {
        cvma_errf(err, err_len, "old size %" PRIu64 ", but the last cosigned size is %" PRIu64,
                  old_size, have_prev ? prev.size : 0);
        res = CVMA_WITNESS_CONFLICT;
        goto out;
    }
    if (have_prev && prev.size == cp.size && memcmp(prev.root, cp.root, 32) != 0) {
        /* Two checkpoints of one size with different roots: keep both as evidence, each the
         * signed note as it came (conflict-...: the new one; conflict-....seen: the one
         * cosigned before, from the state). */
        char suffix[48], *cpath = NULL, *seen = NULL;
        snprintf(suffix, sizeof suffix, "-%" PRIu64, now);
        bool kept = cvma_tlog_keep_evidence(state_dir, "conflict-", cp.origin, suffix, note_p,
                                            note_len, sb.p, sb.len, &cpath, &seen) == CVMA_OK;
        cvma_errf(err, err_len,
                  "SPLIT VIEW: log '%s' signed two checkpoints of size %" PRIu64
                  " with different roots (%s%s%s%s)",
                  cp.origin, cp.size, kept ? "the new one kept as " : "could not be kept",
                  kept ? cpath : "", kept ? ", the one cosigned before as " : "", kept ? seen : "");
        free(cpath);
        free(seen);
        res = CVMA_WITNESS_CONFLICT;
        goto out;
    }
    if (have_prev &&
        !cvma_merkle_verify_consistency(prev.size, cp.size, prev.root, cp.root, proof, n_proof)) {
        cvma_errf(err, err_len,
                  "the consistency proof from size %" PRIu64 " to %" PRIu64
                  " does not verify: not cosigned (a split view if the log signed both)",
                  prev.size, cp.size);
        res = CVMA_WITNESS_BAD_PROOF;
        goto out;
    }
    if (!have_prev && n_proof != 0) {
        cvma_errf(err, err_len, "a proof from size 0 must be empty");
        res = CVMA_WITNESS_BAD_PROOF;
        goto out;
    }
    if ((*cosig = cvma_note_cosign_line(wk, note.text, note.text_len, now)) == NULL) {
        cvma_errf(err, err_len, "signing failed");
        goto out;
    }
    /* Persist before answering (tlog-witness). */
    /* The whole signed note: evidence, should the log later sign another tree of its size. */
    if (cvma_file_write_atomic_mode(spath, note_p, note_len, 0600) != CVMA_OK) {
        cvma_errf(err, err_len, "%s: cannot write", spath);
        free(*cosig);
        *cosig = NULL;
        goto out;
    }
    *known_size = cp.size;
    res = CVMA_WITNESS_OK;
out:
    if (lock >= 0) {
        close(lock); /* releases the lock */
    }
    cvma_buf_free(&sb);
    cvma_note_cleanup(&note);
    free(spath);
    free(lpath);
    return res;
}
