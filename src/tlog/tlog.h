/*
 * Transparency-log building blocks (docs/registry.md "Registry log"), speaking the C2SP
 * specifications so that Go's golang.org/x/mod/sumdb/note and .../tlog, Sigstore and the
 * static CT logs read what we write and we read what they write:
 *   - signed-note: a text, a blank line, "— <name> <base64(key ID || signature)>" lines;
 *     Ed25519 keys (type 0x01), key ID = SHA-256(name || 0x0A || 0x01 || pub)[:4];
 *     verifier keys "<name>+<key ID hex>+<base64(0x01 || pub)>", signer keys
 *     "PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || seed)>" (Go's formats);
 *   - tlog-checkpoint: origin line, decimal tree size, base64 root hash, extension lines;
 *   - tlog-cosignature/v1: type 0x04, key ID = SHA-256(name || 0x0A || 0x04 || pub)[:4],
 *     signature = big-endian u64 timestamp || Ed25519 over
 *     "cosignature/v1\ntime <T>\n" || checkpoint text;
 *   - tlog-tiles: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>] with N in x-prefixed
 *     groups of three digits; tiles of 256 hashes; entries uint16-length prefixed.
 * The Merkle tree is RFC 6962 / RFC 9162 (registry/registry.h cvma_merkle_*).
 *
 * Everything read here is untrusted (notes, proofs, tiles) and goes through common/reader.h
 * or length-checked parsing; nothing is believed before its signature or hash checked.
 */
#ifndef CVMA_TLOG_TLOG_H
#define CVMA_TLOG_TLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/util.h"
#include "crypto/jws.h"
#include "registry/registry.h"

/* clang-format off */
#define CVMA_TLOG_NAME_MAX      255           /* key name / origin, bytes */
#define CVMA_TLOG_NOTE_MAX      ((size_t)1 << 20) /* a whole note, bytes */
#define CVMA_TLOG_SIGS_MAX      100           /* signature lines in one note */
#define CVMA_TLOG_SIG_MAX       128           /* signature bytes after the key ID */
#define CVMA_TLOG_ENTRY_MAX     65535         /* tlog-tiles: uint16 length prefix */
#define CVMA_TLOG_TILE_WIDTH    256
#define CVMA_TLOG_PROOF_MAX     63            /* hashes in one proof */
#define CVMA_TLOG_PROOF_HEADER  "c2sp.org/tlog-proof@v1"
#define CVMA_NOTE_ALG_ED25519   0x01
#define CVMA_NOTE_ALG_COSIG_V1  0x04
/* clang-format on */

/* ---------------------------------------------------------------------------------------- */
/* Keys                                                                                      */

/* A note verifier key (public). Cosignatures by the same key use cosig_id. */
struct cvma_note_vkey {
    char name[CVMA_TLOG_NAME_MAX + 1];
    uint32_t id;       /* key ID for type 0x01 signatures */
    uint32_t cosig_id; /* key ID for type 0x04 cosignatures */
    uint8_t pub[32];
};

/* A note signer key (private). _cleanup frees. */
struct cvma_note_skey {
    struct cvma_note_vkey v;
    EVP_PKEY *key;
};

void cvma_note_skey_cleanup(struct cvma_note_skey *k);

/* True when name is a valid name for a key this code makes or is given: 1..CVMA_TLOG_NAME_MAX
 * bytes of UTF-8, no space (ASCII or Unicode White_Space), no '+' (signed-note), and no
 * control character (C0, DEL, C1), as such names are shown. Keygen and the key parsers
 * (verifier keys, signer keys, witness keys) hold names to it. */
bool cvma_note_name_ok(const char *name);
/* True when name is a valid signer name in a signature line (signed-note's rule alone):
 * 1..CVMA_TLOG_NAME_MAX bytes of UTF-8, no space (ASCII or Unicode White_Space), no '+', no C0
 * control (which a note holds nowhere but its newlines). The C1 controls pass (and DEL, which
 * cvma_note_parse refuses anywhere in a note): a signer the reader does not know is ignored,
 * never a reason to refuse the note. cvma_note_parse holds signature lines to it. */
bool cvma_note_sig_name_ok(const char *name);

/* SHA-256(name || 0x0A || alg || pub)[:4], big-endian. */
uint32_t cvma_note_key_id(const char *name, uint8_t alg, const uint8_t pub[32]);

/*
 * A fresh Ed25519 key named name: *skey and *vkey are malloc'd NUL-terminated strings (no
 * newline). CVMA_OK, CVMA_E_USAGE (bad name; err says why), CVMA_E_NOMEM, CVMA_E_INTERNAL.
 */
CVMA_MUST_USE enum cvma_status cvma_note_keygen(const char *name, char **skey, char **vkey,
                                                char *err, size_t err_len);

/* Parses a verifier key string (trailing newline and spaces allowed). false, err set, else.
 * The witness form also takes a cosigner key of type 0x04 (tlog-cosignature), whose key ID
 * is the one its cosignatures carry; a log's key or a signer's is of type 0x01 only. */
CVMA_MUST_USE bool cvma_note_vkey_parse(const char *s, size_t len, struct cvma_note_vkey *out,
                                        char *err, size_t err_len);
CVMA_MUST_USE bool cvma_note_witness_vkey_parse(const char *s, size_t len,
                                                struct cvma_note_vkey *out, char *err,
                                                size_t err_len);
CVMA_MUST_USE bool cvma_note_skey_parse(const char *s, size_t len, struct cvma_note_skey *out,
                                        char *err, size_t err_len);
/* The verifier key string of v (malloc'd), NULL on allocation failure. */
char *cvma_note_vkey_string(const struct cvma_note_vkey *v);
/* Reads a .vkey / .key file (at most 4 KiB). CVMA_OK, CVMA_E_IO, CVMA_E_USAGE (err). */
CVMA_MUST_USE enum cvma_status cvma_note_vkey_load(const char *path, struct cvma_note_vkey *out,
                                                   char *err, size_t err_len);
CVMA_MUST_USE enum cvma_status cvma_note_witness_vkey_load(const char *path,
                                                           struct cvma_note_vkey *out, char *err,
                                                           size_t err_len);
CVMA_MUST_USE enum cvma_status cvma_note_skey_load(const char *path, struct cvma_note_skey *out,
                                                   char *err, size_t err_len);

/* ---------------------------------------------------------------------------------------- */
/* Notes                                                                                     */

struct cvma_note_sig {
    char name[CVMA_TLOG_NAME_MAX + 1]; /* cvma_note_sig_name_ok's rule: may hold C1 controls,
                                        * so shown only escaped (cvma_errf does) */
    uint32_t id;
    size_t len; /* signature bytes after the key ID (may be above CVMA_TLOG_SIG_MAX) */
    uint8_t sig[CVMA_TLOG_SIG_MAX]; /* those bytes when len <= CVMA_TLOG_SIG_MAX; else
                                     * not kept: a signature no key checked here makes */
};

/* A parsed note. The text is copied (NUL-terminated); _cleanup frees. */
struct cvma_note {
    char *text; /* ends in '\n' */
    size_t text_len;
    size_t n_sigs;
    struct cvma_note_sig sigs[CVMA_TLOG_SIGS_MAX];
};

void cvma_note_cleanup(struct cvma_note *n);

/*
 * Splits a signed note (signed-note.md): text (ending in '\n'), one blank line, signature
 * lines, the whole valid UTF-8 without control characters but '\n' (C0 and DEL). A signature
 * line's name is held to cvma_note_sig_name_ok, not to cvma_note_name_ok: the line of a signer
 * with a C1 control in its name is kept and, as no key's name read by cvma_note_vkey_parse is
 * its name, ignored by the checks. Signature lines with a name but an unparseable signature (not
 * strict base64 of a 4-byte key ID and at least one byte) are refused; a longer signature than
 * CVMA_TLOG_SIG_MAX is kept by name, key ID and length only (an unknown signature, ignored; the
 * note is at most CVMA_TLOG_NOTE_MAX bytes). CVMA_OK, CVMA_REJECTED (err says why), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_note_parse(const uint8_t *p, size_t len, struct cvma_note *out,
                                               char *err, size_t err_len);

enum cvma_note_check {
    CVMA_NOTE_ABSENT = 0, /* no signature line by that key */
    CVMA_NOTE_VALID,
    CVMA_NOTE_INVALID, /* a line with the key's name and ID that does not verify */
    CVMA_NOTE_NOMEM,   /* out of memory (cvma_note_check_cosig): not checked, the caller's
                          CVMA_E_NOMEM, neither valid nor invalid */
};

/* The note's type-0x01 signature by k. */
enum cvma_note_check cvma_note_check_sig(const struct cvma_note *n, const struct cvma_note_vkey *k);
/* The note's tlog-cosignature/v1 by k; *timestamp gets its time when valid (may be NULL).
 * A timestamp above 2^63 - 1 makes it CVMA_NOTE_INVALID (tlog-cosignature). CVMA_NOTE_NOMEM
 * when the signed message could not be allocated. */
enum cvma_note_check cvma_note_check_cosig(const struct cvma_note *n,
                                           const struct cvma_note_vkey *k, uint64_t *timestamp);

/* A signature line "— name base64\n" over text (type 0x01), malloc'd; NULL on failure. */
char *cvma_note_sign_line(const struct cvma_note_skey *k, const char *text, size_t text_len);
/* A cosignature line (type 0x04) over checkpoint text at timestamp, malloc'd; NULL on
 * failure or when timestamp is above 2^63 - 1. */
char *cvma_note_cosign_line(const struct cvma_note_skey *k, const char *text, size_t text_len,
                            uint64_t timestamp);

/* ---------------------------------------------------------------------------------------- */
/* Checkpoints                                                                               */

struct cvma_checkpoint {
    char origin[CVMA_TLOG_NAME_MAX + 1];
    uint64_t size;
    uint8_t root[32];
};

/* Parses a checkpoint note text (the text, not the signatures). false with err on error. */
CVMA_MUST_USE bool cvma_checkpoint_parse(const char *text, size_t len, struct cvma_checkpoint *out,
                                         char *err, size_t err_len);
/*
 * A log's state as a witness or a verifier keeps it: the signed checkpoint note last accepted
 * (its text into *out, *is_signed true), or the bare checkpoint text earlier versions wrote
 * (*is_signed false; read so that an upgrade does not forget the size seen). A note never
 * reads as a bare text (its blank line) nor a text as a note. CVMA_OK, CVMA_REJECTED (err),
 * CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_tlog_state_parse(const uint8_t *p, size_t len,
                                                     struct cvma_checkpoint *out, bool *is_signed,
                                                     char *err, size_t err_len);
/* dir/<prefix><the first 16 bytes of SHA-256(origin) in hex><suffix>: where a log's state (its
 * last checkpoint, a conflict) is kept under a name the origin cannot steer. NULL: no memory. */
char *cvma_tlog_state_path(const char *dir, const char *prefix, const char *origin,
                           const char *suffix);
/* Keeps two checkpoints that conflict as evidence: dir/<prefix><hash of origin><suffix>
 * holding a and the same name plus ".seen" holding b, each created exclusively (never over
 * an existing file, never through a symlink) and fsynced; when either name is taken, "-1",
 * "-2", ... is added to the suffix, so two conflicts in the same second both stay. A pair
 * already kept with these very contents (under any suffix) is not kept again: its names are
 * given, so a conflict that persists leaves one pair, not one a run. *path_out and *seen_out
 * get the names (malloc'd, the caller frees). CVMA_OK, CVMA_E_IO (nothing kept),
 * CVMA_E_NOMEM. */
CVMA_MUST_USE enum cvma_status cvma_tlog_keep_evidence(const char *dir, const char *prefix,
                                                       const char *origin, const char *suffix,
                                                       const uint8_t *a, size_t a_len,
                                                       const uint8_t *b, size_t b_len,
                                                       char **path_out, char **seen_out);
/* "origin\nsize\nbase64 root\n", malloc'd. */
char *cvma_checkpoint_text(const struct cvma_checkpoint *c);

/* ---------------------------------------------------------------------------------------- */
/* Proofs (the Merkle proofs themselves: registry/registry.h cvma_merkle_*)                    */

/*
 * A c2sp.org/tlog-proof@v1 file: index, inclusion proof, then the checkpoint note (parsed
 * into note; its text into cp). CVMA_OK, CVMA_REJECTED (err), CVMA_E_NOMEM. *out is cleared
 * on entry and, on any status but CVMA_OK, cleared again and owns nothing (no index, hash or
 * note read before the refusal is given back); after CVMA_OK, cvma_tlog_proof_cleanup frees it.
 */
struct cvma_tlog_proof {
    uint64_t index;
    size_t n_hashes;
    uint8_t hashes[CVMA_TLOG_PROOF_MAX][32];
    struct cvma_note note;
    struct cvma_checkpoint cp;
    size_t note_off; /* where the signed checkpoint note starts in the bytes parsed */
};
CVMA_MUST_USE enum cvma_status cvma_tlog_proof_parse(const uint8_t *p, size_t len,
                                                     struct cvma_tlog_proof *out, char *err,
                                                     size_t err_len);
void cvma_tlog_proof_cleanup(struct cvma_tlog_proof *p);

/* A consistency proof as `registry log prove --from` writes it:
 * {"old_size": N, "new_size": M, "hashes": [base64...]} (untrusted; unknown members refused). */
struct cvma_tlog_consistency {
    uint64_t old_size, new_size;
    size_t n_hashes;
    uint8_t hashes[CVMA_TLOG_PROOF_MAX][32];
};
CVMA_MUST_USE bool cvma_tlog_consistency_parse(const uint8_t *p, size_t len,
                                               struct cvma_tlog_consistency *out, char *err,
                                               size_t err_len);
/* c as that JSON (compact, no newline), malloc'd, which cvma_tlog_consistency_parse reads
 * back; NULL on allocation failure. */
char *cvma_tlog_consistency_text(const struct cvma_tlog_consistency *c);

/* ---------------------------------------------------------------------------------------- */
/* The tiled log on disk                                                                     */

/*
 * A log in memory: every leaf hash, the tree over them, and the last entry (the newest
 * registry) for append's checks. Loaded from and saved to a directory in the tlog-tiles
 * layout (DIR/checkpoint, DIR/tile/...).
 */
struct cvma_tlog {
    char origin[CVMA_TLOG_NAME_MAX + 1];
    uint64_t size;
    uint64_t saved_size; /* size on disk: tiles from here on are written by _save */
    uint8_t (*leaves)[32];
    size_t cap;
    struct cvma_buf bundle; /* entries (uint16-prefixed) from (saved_size / 256) * 256 on */
    size_t bundle_cap;
    struct cvma_buf last; /* the newest entry (copy) */
    struct cvma_merkle tree;
    bool tree_ok; /* tree is over leaves[0..size) */
    bool fast;    /* _save does not fsync tiles (bench); the checkpoint always is */
};

/* tile/<L>/<N>[.p/<W>] (level -1: tile/entries/...) into out. false when it does not fit. */
bool cvma_tlog_tile_path(int level, uint64_t index, unsigned width, char *out, size_t out_size);

void cvma_tlog_init(struct cvma_tlog *l, const char *origin);
void cvma_tlog_cleanup(struct cvma_tlog *l);
/* Appends one entry (1..65,535 bytes). CVMA_OK, CVMA_E_USAGE (the entry's size, or the log
 * already holds CVMA_REG_ENTRIES_MAX entries), CVMA_E_NOMEM. */
CVMA_MUST_USE enum cvma_status cvma_tlog_append(struct cvma_tlog *l, const uint8_t *e, size_t len);
/* Builds the tree (if needed) and gives the root; size 0 has SHA-256(""). */
CVMA_MUST_USE enum cvma_status cvma_tlog_root(struct cvma_tlog *l, uint8_t root[32]);

/*
 * Loads DIR: its checkpoint (signed by vkey: type 0x01, not checked when vkey is NULL, as
 * for the log's own key holder; a missing checkpoint is an empty log
 * named origin when origin is not NULL), its level-0 tiles, and the last entry bundle; checks
 * the tiles hash to the checkpoint's root. CVMA_OK, CVMA_REJECTED (a log that does not match
 * its checkpoint; err), CVMA_E_IO, CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_tlog_load(struct cvma_tlog *l, const char *dir,
                                              const struct cvma_note_vkey *vkey, const char *origin,
                                              char *err, size_t err_len);
/*
 * Locks DIR/lock (created when missing; never through a symlink, and a regular file only):
 * exclusively for an append, held from before cvma_tlog_load until after cvma_tlog_save, so
 * two appends never sign two checkpoints of one size nor mix their tiles; shared for a reader
 * that reads the log more than once (prove). exclusive also creates DIR. *fd gets the lock
 * (close it to release). CVMA_OK, CVMA_E_IO (err), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_tlog_lock(const char *dir, bool exclusive, int *fd, char *err,
                                              size_t err_len);
/*
 * Writes the tiles and entry bundles that changed since load (or all of them for a new log)
 * and then DIR/checkpoint (atomically, signed by key). First, before writing anything, it
 * looks through DIR/tile: a hash tile (any level, full or partial) or an entry bundle beyond
 * the size loaded (0 for a new log) is CVMA_REJECTED, err naming it (the checkpoint is not the
 * log's latest: writing on would sign a second checkpoint of a size already signed and
 * overwrite published tiles). CVMA_OK, CVMA_REJECTED, CVMA_E_IO, CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_tlog_save(struct cvma_tlog *l, const char *dir,
                                              const struct cvma_note_skey *key, char *err,
                                              size_t err_len);

/* ---------------------------------------------------------------------------------------- */
/* Reading a published log (the monitor) and registries as log entries                       */

/*
 * Reads DIR/rel (a regular file only: a FIFO there is missing, never a read that waits), or
 * GETs URL/rel when src starts with http:// or https:// (at most max bytes) with the options
 * ho (NULL: the defaults of collateral/http.h; its max_body and retries are set here).
 * CVMA_OK, CVMA_E_IO (missing, unreachable, not 200; err), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_tlog_fetch(const struct cvma_http_opts *ho, const char *src,
                                               const char *rel, size_t max, struct cvma_buf *out,
                                               char *err, size_t err_len);
/* True when src names a URL (http:// or https://, the scheme in any case: cvma_http_scheme_ok),
 * which cvma_tlog_fetch GETs; anything else is a local directory. */
bool cvma_tlog_src_is_url(const char *src);

/*
 * Reads an entry bundle (c2sp.org/tlog-tiles: each entry a big-endian 16-bit length, then
 * that many bytes) of exactly cnt (1..CVMA_TLOG_TILE_WIDTH) entries into entries[0..cnt),
 * spans borrowed from p. false with err when an entry is empty, cut short or missing, or
 * bytes follow the last one; entries[0..cnt) are then all empty.
 */
CVMA_MUST_USE bool cvma_tlog_bundle_parse(const uint8_t *p, size_t len, size_t cnt,
                                          struct cvma_span *entries, char *err, size_t err_len);

/*
 * The witness-key rule of every reader of cosignatures (the monitor, registry log check, the
 * verifier's log proofs): a witness is its key, compared by public key whatever its name
 * (which cvma_note_vkey_parse has checked). A log's own key is no witness: its operator alone
 * could then make the cosignatures that are to show that others saw the same log. A key given
 * twice is one witness. Checks w against log (the log's key; NULL: none) and then against
 * earlier[0..n_earlier) (the witness keys given before it). err (may be NULL) gets
 * "witness W has log L's key: a log cannot witness itself" or "witness W given twice".
 */
enum cvma_witness_key {
    CVMA_WITNESS_KEY_OK,
    CVMA_WITNESS_KEY_IS_LOG,   /* the log's own key */
    CVMA_WITNESS_KEY_REPEATED, /* the key of an earlier witness */
};
CVMA_MUST_USE enum cvma_witness_key
cvma_tlog_witness_key_check(const struct cvma_note_vkey *w, const struct cvma_note_vkey *log,
                            const struct cvma_note_vkey *earlier, size_t n_earlier, char *err,
                            size_t err_len);

/* Called by cvma_tlog_monitor with each entry in order; a non-zero return stops the walk. */
typedef int (*cvma_tlog_entry_fn)(void *ctx, uint64_t index, const uint8_t *e, size_t len);

/*
 * The monitor: fetches src's checkpoint (a valid type-0x01 signature by vkey, and an origin
 * line equal to vkey's name, required), every entry bundle and every hash tile at every
 * level, recomputes every leaf hash and tree node, and checks them against the tiles and the
 * checkpoint's root; then, only once all of that verified, calls fn for each entry in
 * order (fn may be NULL; the bundles are read again for it, each entry held to the leaf
 * hash verified). With n_witnesses > 0 the
 * checkpoint must also carry valid cosignatures by at least need of witnesses[] (need 0:
 * all of them); an invalid cosignature by one of them refuses it, cosignatures by other
 * keys count for nothing (as verify --witness-vkey). A key given twice counts once, and
 * vkey's own key given as a witness counts for nothing (a log cannot witness itself). *cp gets the
 * checkpoint (all zero when the log is refused). note_out and tree_out (each may be NULL) get,
 * after CVMA_OK, the signed checkpoint note as fetched and the tree over every entry (no
 * leaves for an empty log), for cvma_tlog_monitor_state; the caller frees them
 * (cvma_buf_free, cvma_merkle_cleanup); on any other status they are empty. CVMA_OK,
 * CVMA_REJECTED (err names the first mismatch, or fn's refusal), CVMA_E_IO (a resource that
 * cannot be had), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status
cvma_tlog_monitor(const char *src, const struct cvma_note_vkey *vkey,
                  const struct cvma_note_vkey *witnesses, size_t n_witnesses, size_t need,
                  cvma_tlog_entry_fn fn, void *ctx, struct cvma_checkpoint *cp,
                  struct cvma_buf *note_out, struct cvma_merkle *tree_out, char *err,
                  size_t err_len);

/* How a log the monitor verified stands against the checkpoint it verified last time. */
enum cvma_tlog_seen {
    CVMA_TLOG_SEEN_FIRST,  /* no state for this log yet: this checkpoint stored */
    CVMA_TLOG_SEEN_SAME,   /* the checkpoint verified last time (same size, same root) */
    CVMA_TLOG_SEEN_GREW,   /* larger, and its first entries hash to the one seen: stored */
    CVMA_TLOG_SEEN_SHRANK, /* smaller than the one seen (an old or stale checkpoint, or a log
                            * cut back): not stored, not compared further */
    CVMA_TLOG_SEEN_SPLIT,  /* the same size with another root, or its first entries do not hash
                            * to the one seen: two signed checkpoints that cannot both be true */
};

/*
 * The monitor's memory (registry log check --state DIR): the checkpoint cp that
 * cvma_tlog_monitor just verified (note[0..note_len): its signed note; tree: the tree over
 * its entries), against the one last verified for its origin in dir. The state is the
 * verifier's own: dir/tlog-state.<hash of origin>.checkpoint, the signed note (an earlier
 * version's bare checkpoint text is still read), read, compared and replaced under an
 * exclusive lock on dir/tlog-state.<hash of origin>.lock, so a monitor and verifiers may share
 * a directory. dir must be private (cvma_private_dir; created 0700 when missing). As the
 * monitor holds every entry, it needs no consistency proof: the root of the first entries of
 * the size seen is computed from tree. On CVMA_TLOG_SEEN_SPLIT both checkpoints are kept as
 * evidence: dir/tlog-conflict.<hash of origin>.<size>.<time> (the new note), the same name
 * with ".seen" (the state as read) and, when the new checkpoint is the larger, ".consistency"
 * (the consistency proof from the size seen, of the log as read now), created exclusively.
 * *seen gets the result, *prev the checkpoint seen before (all zero when none), detail says
 * what was found and kept. CVMA_OK (the comparison was made: see *seen), CVMA_E_USAGE (dir not
 * private, or its state for this log unreadable, not a checkpoint of this origin, or signed
 * but not by vkey: nothing compared or written; detail says why), CVMA_E_IO (the state could
 * not be locked or written), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status
cvma_tlog_monitor_state(const char *dir, const struct cvma_note_vkey *vkey,
                        const struct cvma_checkpoint *cp, const uint8_t *note, size_t note_len,
                        const struct cvma_merkle *tree, enum cvma_tlog_seen *seen,
                        struct cvma_checkpoint *prev, char *detail, size_t detail_len);

/* What a registry JWS says about itself, read WITHOUT checking its signature. */
struct cvma_tlog_reg_info {
    char provider[CVMA_REG_PROVIDER_MAX + 1];
    uint64_t version;
    char kid[CVMA_JWS_KID_MAX + 1]; /* the JWS kid (the signing key's thumbprint), "" when absent */
};
CVMA_MUST_USE bool cvma_tlog_reg_peek(const uint8_t *p, size_t len, struct cvma_tlog_reg_info *out,
                                      char *err, size_t err_len);

/* ---------------------------------------------------------------------------------------- */
/* The witness (tlog-witness add-checkpoint)                                                  */

enum cvma_witness_result {
    CVMA_WITNESS_OK = 0,      /* cosigned; state updated (HTTP 200) */
    CVMA_WITNESS_BAD_REQUEST, /* malformed request, old size above the checkpoint's (400) */
    CVMA_WITNESS_FORBIDDEN,   /* no valid signature by the log's key (403) */
    CVMA_WITNESS_UNKNOWN_LOG, /* origin of no configured log (404) */
    CVMA_WITNESS_CONFLICT,    /* old size is not the size last cosigned, or same size with
                               * another root: a split view (409, known_size says ours) */
    CVMA_WITNESS_BAD_PROOF,   /* the consistency proof does not verify (422) */
    CVMA_WITNESS_ERROR,       /* state unreadable or unwritable, out of memory (500) */
};

/* The HTTP status tlog-witness gives each result. */
int cvma_witness_http_status(enum cvma_witness_result r);

/*
 * add-checkpoint: note (the signed checkpoint bytes) from a log among logs[0..n_logs) (by
 * origin = key name), with a consistency proof from old_size. Under an exclusive lock on
 * state_dir/lock: compares with the checkpoint last cosigned for that origin (kept in
 * state_dir), and when consistent stores the new one and returns the cosignature line(s) in
 * *cosig (malloc'd) made at time now. *known_size gets the size last cosigned (0: none).
 * When the same size comes with another root, the conflicting checkpoint is kept as
 * state_dir/conflict-<origin hash>-<time> (evidence of the split view). err says why.
 */
enum cvma_witness_result cvma_witness_add(const char *state_dir, const struct cvma_note_skey *wk,
                                          const struct cvma_note_vkey *logs, size_t n_logs,
                                          const uint8_t *note, size_t note_len, uint64_t old_size,
                                          const uint8_t (*proof)[32], size_t n_proof, uint64_t now,
                                          char **cosig, uint64_t *known_size, char *err,
                                          size_t err_len);

/*
 * Parses an add-checkpoint request body ("old N\n", proof lines, "\n", checkpoint).
 * The checkpoint is borrowed from body. false with err when malformed; then every output is
 * cleared (*old_size and *n_proof 0, all of proof zeroed, checkpoint empty): nothing read
 * before the refusal is given back.
 */
CVMA_MUST_USE bool cvma_witness_parse_request(const uint8_t *body, size_t len, uint64_t *old_size,
                                              uint8_t proof[CVMA_TLOG_PROOF_MAX][32],
                                              size_t *n_proof, struct cvma_span *checkpoint,
                                              char *err, size_t err_len);

#endif
