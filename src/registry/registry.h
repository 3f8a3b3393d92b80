/*
 * Provider platform registries (the binding and the formats, byte by
 * byte: docs/registry.md).
 *
 * A provider lists the platforms it runs (AMD CHIP_IDs, AMD VLEK cspIDs, Intel PPIDs, each
 * with optional labels such as a region) in an entries file. `registry build` sorts them into
 * tree order, hashes each entry's canonical encoding into an RFC 6962 Merkle tree (leaf =
 * SHA-256(0x00 || leaf bytes), node = SHA-256(0x01 || left || right)), and signs a JSON
 * payload {format, provider, version, iat, nbf, next_update, leaf_count, merkle_root
 * [, entries]} as a compact JWS (ES256/ES384, typ "cvmattest-registry+jws"). An inclusion
 * proof {format, provider, leaf, leaf_index, tree_size, audit_path, merkle_root} shows one
 * platform is in the tree without revealing the others.
 *
 * The verifier side is struct cvma_registry_set: load provider keys, registries, proofs and
 * lookup registries once (the CLI options map one to one), then call cvma_registry_bind for
 * each verified result. Loading only reads files (I/O errors are exit 2); everything about
 * their content is decided in cvma_registry_bind and reported as REGISTRY_ reasons, so a bad
 * registry is a named rejection, never a usage error.
 *
 * What binding trusts: the provider public keys the caller gives (NAME=PUBFILE), nothing
 * else. Registry payloads are believed only after their signature verified with the key of
 * the provider they name; proofs only when their audit path leads to the merkle_root of such
 * a registry; included entries only after they re-hash to that root. A lookup registry
 * (Google's PPID-keyed host registry: GET <base>/<ppid hex>) is trusted as far as TLS to its
 * base URL (https required, except plain http to a loopback address for tests).
 *
 * What it does not check: that the provider really operates the machine today (a registry
 * lists what the provider signed, valid until its next_update), the evidence itself (call
 * cvma_registry_bind only after the evidence verified: an unverified CHIP_ID or PPID means
 * nothing), or clock skew (times are compared exactly).
 */
#ifndef CVMA_REGISTRY_REGISTRY_H
#define CVMA_REGISTRY_REGISTRY_H

#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "collateral/http.h"
#include "common/util.h"
#include "common/verdict.h"
#include "crypto/jws.h"
#include "result/result.h"

/* clang-format off */
#define CVMA_REG_CHIP_ID_LEN      64        /* AMD CHIP_ID field as reported (Turin: 8 + 56 zeros) */
#define CVMA_REG_PPID_LEN         16        /* Intel PPID */
#define CVMA_REG_CSP_MAX          253       /* VLEK cspID without "CN=" (a DNS-like name) */
#define CVMA_REG_LABELS_MAX       16
#define CVMA_REG_LABEL_KEY_MAX    64
#define CVMA_REG_LABEL_VALUE_MAX  255
#define CVMA_REG_PROVIDER_MAX     64
#define CVMA_REG_ENTRIES_MAX      ((size_t)1 << 24) /* 16,777,216 leaves */
#define CVMA_REG_PATH_MAX         64        /* audit path elements */
#define CVMA_REG_LEAF_MAX         (6 + CVMA_REG_CSP_MAX + \
                                   CVMA_REG_LABELS_MAX * (2 + CVMA_REG_LABEL_KEY_MAX + CVMA_REG_LABEL_VALUE_MAX))
#define CVMA_REG_FILE_MAX         ((size_t)256 << 20) /* registry JWS, bytes */
#define CVMA_REG_ENTRIES_FILE_MAX ((size_t)1 << 30)   /* entries file, bytes */
#define CVMA_REG_LINE_MAX         4096
#define CVMA_REG_PROOF_FILE_MAX   ((size_t)64 << 10)
#define CVMA_REG_LOOKUP_BODY_MAX  ((size_t)64 << 10)
#define CVMA_REG_JWS_TYP          "cvmattest-registry+jws"
#define CVMA_REG_FORMAT           "cvmattest-registry/1"
#define CVMA_REG_PROOF_FORMAT     "cvmattest-registry-proof/1"
/* clang-format on */

enum cvma_reg_vendor {
    CVMA_REG_AMD = 1,
    CVMA_REG_INTEL = 2,
};

enum cvma_reg_id_type {
    CVMA_REG_CHIP_ID = 1,  /* amd: 64 bytes */
    CVMA_REG_PPID = 2,     /* intel: 16 bytes */
    CVMA_REG_VLEK_CSP = 3, /* amd: ASCII name, 1..253 characters */
};

/* ------------------------------------------------------------------------------------------
 * Entries
 * ------------------------------------------------------------------------------------------ */

struct cvma_reg_label {
    const char *key;   /* NUL-terminated, [A-Za-z0-9][A-Za-z0-9_.-]{0,63} */
    const char *value; /* NUL-terminated, 1..255 printable ASCII characters, no space */
};

/* One platform. Memory (id, labels) belongs to the struct cvma_reg_entries holding it. */
struct cvma_reg_entry {
    uint8_t vendor;  /* enum cvma_reg_vendor */
    uint8_t id_type; /* enum cvma_reg_id_type */
    uint16_t id_len;
    uint8_t n_labels;
    uint32_t line; /* 1-based line in the entries file; 0 when not from a file */
    const uint8_t *id;
    const struct cvma_reg_label *labels; /* sorted by key (byte order), keys unique */
};

struct cvma_reg_arena;

/* A list of entries; owns them. Zeroed (or _init) is empty; _cleanup frees. */
struct cvma_reg_entries {
    struct cvma_reg_entry *v;
    size_t n, cap;
    struct cvma_reg_arena *arena;
};

void cvma_reg_entries_init(struct cvma_reg_entries *e);
void cvma_reg_entries_cleanup(struct cvma_reg_entries *e);

const char *cvma_reg_vendor_name(enum cvma_reg_vendor v);
const char *cvma_reg_id_type_name(enum cvma_reg_id_type t);

/*
 * Appends one entry, copying id and labels (labels in any order; they are sorted here).
 * Checks everything the format requires: the vendor/id_type pair (amd chip_id, amd vlek_csp,
 * intel ppid), the id length and content (not all zero; a cspID name of [A-Za-z0-9._-]
 * starting with a letter or digit), label syntax, count and uniqueness.
 * Returns CVMA_OK, CVMA_REJECTED (err says why) or CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_reg_entries_add(struct cvma_reg_entries *e, int vendor,
                                                    int id_type, const uint8_t *id, size_t id_len,
                                                    const struct cvma_reg_label *labels,
                                                    size_t n_labels, uint32_t line, char *err,
                                                    size_t err_len);

/*
 * Parses an entries file (docs/registry.md): one platform a line,
 *   amd chip_id <128 hex digits> [key=value ...]
 *   intel ppid <32 hex digits> [key=value ...]
 *   amd vlek_csp <name> [key=value ...]
 * blank lines and '#' comments (a token starting with '#' comments out the rest of the line).
 * Appends to *out. On a malformed line returns CVMA_E_USAGE with err = "NAME:LINE: why"
 * (name is how the file is called in messages). CVMA_E_NOMEM on allocation failure.
 * Duplicates are found by cvma_reg_entries_sort, not here.
 */
CVMA_MUST_USE enum cvma_status cvma_reg_entries_parse(const char *text, size_t len,
                                                      const char *name,
                                                      struct cvma_reg_entries *out, char *err,
                                                      size_t err_len);

/*
 * Sorts into tree order (vendor, id_type, id length, id bytes: the order of the canonical
 * encoding's first fields) and refuses two entries for one platform: CVMA_E_USAGE, err =
 * "NAME:LINE: same platform as line L (...)" (name may be NULL). CVMA_OK otherwise.
 */
CVMA_MUST_USE enum cvma_status cvma_reg_entries_sort(struct cvma_reg_entries *e, const char *name,
                                                     char *err, size_t err_len);

/* Orders two entries by platform identity (labels ignored): <0, 0, >0. */
int cvma_reg_entry_cmp(const struct cvma_reg_entry *a, const struct cvma_reg_entry *b);

/* Index of the entry with a's identity in a sorted list, or SIZE_MAX. */
size_t cvma_reg_entries_find(const struct cvma_reg_entries *e, const struct cvma_reg_entry *a);

/*
 * The canonical leaf encoding (docs/registry.md "Leaf"): writes at most cap bytes and returns
 * the length, or 0 when cap is too small (CVMA_REG_LEAF_MAX always suffices).
 */
size_t cvma_reg_leaf_encode(const struct cvma_reg_entry *e, uint8_t *out, size_t cap);
/* SHA-256(0x00 || canonical leaf). */
void cvma_reg_leaf_hash(const struct cvma_reg_entry *e, uint8_t out[32]);

/* The id as text: lower-case hex (chip_id, ppid) or the name (vlek_csp). */
void cvma_reg_entry_id_string(const struct cvma_reg_entry *e, char *out, size_t out_size);
/* {"vendor", "id_type", "id", "labels": {...}} (new reference; NULL on allocation failure). */
json_t *cvma_reg_entry_to_json(const struct cvma_reg_entry *e);
/*
 * Parses an entry object as written by cvma_reg_entry_to_json (untrusted: unknown members,
 * wrong types, upper-case or malformed hex are refused) and appends it.
 * CVMA_OK, CVMA_REJECTED (err says why) or CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status
cvma_reg_entry_from_json(const json_t *j, struct cvma_reg_entries *into, char *err, size_t err_len);

/* ------------------------------------------------------------------------------------------
 * Merkle tree (RFC 6962 §2.1 / RFC 9162 §2.1)
 * ------------------------------------------------------------------------------------------ */

/*
 * All levels of the tree, bottom-up: level 0 holds the leaf hashes, each next level pairs
 * neighbours and carries an unpaired last node up unchanged. This is RFC 6962's MTH for any
 * size (the left subtree always holds the largest power of two below n).
 */
struct cvma_merkle {
    uint8_t (*nodes)[32]; /* every level, concatenated */
    size_t n_leaves;
    size_t n_levels;
    size_t level_off[CVMA_REG_PATH_MAX + 1];
    size_t level_len[CVMA_REG_PATH_MAX + 1];
};

void cvma_merkle_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[32]);
void cvma_merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);

/* Builds the tree over n >= 1 leaf hashes (copied). CVMA_OK, CVMA_E_USAGE (n 0 or above
 * CVMA_REG_ENTRIES_MAX) or CVMA_E_NOMEM. */
CVMA_MUST_USE enum cvma_status cvma_merkle_build_hashes(struct cvma_merkle *t,
                                                        const uint8_t (*leaves)[32], size_t n);
/* Builds the tree over the leaf hashes of e's entries in their current order. */
CVMA_MUST_USE enum cvma_status cvma_merkle_build(struct cvma_merkle *t,
                                                 const struct cvma_reg_entries *e);
void cvma_merkle_cleanup(struct cvma_merkle *t);
void cvma_merkle_root(const struct cvma_merkle *t, uint8_t out[32]);
/* The audit path of leaf index (RFC 6962 PATH), leaf side first. Returns its length. */
size_t cvma_merkle_path(const struct cvma_merkle *t, size_t index,
                        uint8_t path[CVMA_REG_PATH_MAX][32]);
/*
 * RFC 9162 §2.1.3.2: true when the audit path leads from leaf_hash at leaf_index in a tree of
 * tree_size leaves to root. Never reads more than path_len elements.
 */
bool cvma_merkle_verify(const uint8_t leaf_hash[32], uint64_t leaf_index, uint64_t tree_size,
                        const uint8_t (*path)[32], size_t path_len, const uint8_t root[32]);
/*
 * RFC 9162 §2.1.4.2: true when proof shows the tree of old_size leaves with old_root is a
 * prefix of the tree of new_size leaves with new_root. old_size 0 (empty proof) and
 * old_size == new_size (empty proof, equal roots) are accepted as tlog-witness does.
 */
bool cvma_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                    const uint8_t old_root[32], const uint8_t new_root[32],
                                    const uint8_t (*proof)[32], size_t n);
/*
 * The root of the tree of old_size leaves that proof, a consistency proof from old_size to
 * new_size, shows to be a prefix of the tree with new_root: true, with it in old_root, when
 * the proof leads to new_root. Every hash that makes the old root also goes into the new one,
 * so a proof that leads to a signed new_root pins the old tree the signer committed to: a
 * signed checkpoint of old_size with another root is a split view, the proof its evidence.
 * false (old_root zeroed) when the proof does not lead to new_root, or when old_size is a power
 * of two (the old tree is then the proof's unstated first node: nothing pins it), is 0, or is
 * not below new_size.
 */
bool cvma_merkle_consistency_old_root(uint64_t old_size, uint64_t new_size,
                                      const uint8_t new_root[32], const uint8_t (*proof)[32],
                                      size_t n, uint8_t old_root[32]);
/* MTH(D[lo:hi]) of a built tree (hi <= t->n_leaves, lo < hi). */
void cvma_merkle_subtree(const struct cvma_merkle *t, uint64_t lo, uint64_t hi, uint8_t out[32]);
/* RFC 6962 PATH(index, D[0:size]) for size <= t->n_leaves; returns the length. */
size_t cvma_merkle_inclusion_proof(const struct cvma_merkle *t, uint64_t index, uint64_t size,
                                   uint8_t out[CVMA_REG_PATH_MAX][32]);
/* RFC 6962 PROOF(old_size, D[0:new_size]), 0 < old_size <= new_size <= t->n_leaves. */
size_t cvma_merkle_consistency_proof(const struct cvma_merkle *t, uint64_t old_size,
                                     uint64_t new_size, uint8_t out[CVMA_REG_PATH_MAX][32]);

/* ------------------------------------------------------------------------------------------
 * Building and reading registries (provider side, and `registry check`)
 * ------------------------------------------------------------------------------------------ */

struct cvma_reg_build_opts {
    const char *provider;  /* [A-Za-z0-9][A-Za-z0-9._-]{0,63} */
    uint64_t version;      /* 1 .. 2^53-1 */
    int64_t iat;           /* issued-at = nbf, Unix seconds */
    int64_t valid_seconds; /* next_update = iat + valid_seconds (> 0) */
    bool include_entries;  /* put the entries themselves into the payload */
};

/* True when name is a valid provider name. */
bool cvma_reg_provider_name_ok(const char *name);

/*
 * Sorts entries (cvma_reg_entries_sort), builds the tree, signs the payload with key.
 * *jws_out: the compact JWS (malloc'd). tree (may be NULL) receives the tree for proofs.
 * CVMA_OK, CVMA_E_USAGE (bad options, no entries, duplicates; err says why), CVMA_E_NOMEM,
 * CVMA_E_INTERNAL (signing failed).
 */
CVMA_MUST_USE enum cvma_status cvma_registry_build(const struct cvma_reg_build_opts *o,
                                                   struct cvma_reg_entries *entries, EVP_PKEY *key,
                                                   char **jws_out, struct cvma_merkle *tree,
                                                   char *err, size_t err_len);

/* A provider and its registry-signing public key. */
struct cvma_reg_provider {
    char name[CVMA_REG_PROVIDER_MAX + 1];
    EVP_PKEY *key; /* owned by whoever filled the array */
};

/* A registry whose signature verified. _cleanup frees; zeroed is valid for cleanup. */
struct cvma_registry {
    char provider[CVMA_REG_PROVIDER_MAX + 1];
    uint64_t version;
    int64_t iat, nbf, next_update;
    uint64_t leaf_count;
    uint8_t merkle_root[32];
    bool has_entries;
    struct cvma_reg_entries entries; /* tree order, re-hashed to merkle_root */
    enum cvma_jws_alg alg;
    json_t *payload; /* the signed payload as parsed (owned), for printing */
};

void cvma_registry_cleanup(struct cvma_registry *r);

/*
 * Verifies a registry JWS: decodes it, takes the provider named in its payload, verifies the
 * signature with that provider's key from providers[0..n), checks the payload format and,
 * when it carries entries, that they are sorted, unique and hash to merkle_root. Does NOT
 * check the time (cvma_registry_check_time) or rollback (done by cvma_registry_bind).
 * Records one reason in v and returns CVMA_REJECTED on failure:
 *   REGISTRY_MALFORMED          not a compact JWS, typ not CVMA_REG_JWS_TYP, payload not the
 *                               documented JSON, entries that do not hash to the root
 *   REGISTRY_UNKNOWN_PROVIDER   the payload names a provider whose key is not in providers
 *   REGISTRY_SIGNATURE_INVALID  alg not ES256/ES384 or not the key's, signature wrong
 * CVMA_E_NOMEM on allocation failure. origin names the registry in details (a file name).
 */
CVMA_MUST_USE enum cvma_status cvma_registry_verify(const uint8_t *jws, size_t len,
                                                    const char *origin,
                                                    const struct cvma_reg_provider *providers,
                                                    size_t n_providers, struct cvma_registry *out,
                                                    struct cvma_verdict *v);

/*
 * What a registry's payload claims, read WITHOUT verifying anything (signature, provider key,
 * typ, the payload's other members): only to tell which registry a proof points at when that
 * registry failed cvma_registry_verify, so that the proof is not refused as pointing at no
 * registry while the registry's own reason stands. Never trust it for anything else.
 */
struct cvma_registry_claimed {
    bool ok;                                  /* merkle_root and leaf_count could be read */
    char provider[CVMA_REG_PROVIDER_MAX + 1]; /* "" when the payload names no valid provider */
    uint8_t merkle_root[32];
    uint64_t leaf_count;
};

/*
 * Reads the payload of the compact JWS jws (any header, any signature: the part between the
 * first two dots, base64url) into *out (cleared first). CVMA_OK, also when nothing could be
 * read (out->ok false), or CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_registry_claimed_read(const uint8_t *jws, size_t len,
                                                          struct cvma_registry_claimed *out);

/* nbf <= at < next_update, else REGISTRY_NOT_YET_VALID / REGISTRY_EXPIRED (CVMA_REJECTED). */
CVMA_MUST_USE enum cvma_status cvma_registry_check_time(const struct cvma_registry *r, time_t at,
                                                        const char *origin, struct cvma_verdict *v);

/* ------------------------------------------------------------------------------------------
 * Inclusion proofs
 * ------------------------------------------------------------------------------------------ */

struct cvma_reg_proof {
    bool has_provider;
    char provider[CVMA_REG_PROVIDER_MAX + 1];
    struct cvma_reg_entries leaf; /* exactly one entry */
    uint64_t leaf_index;
    uint64_t tree_size;
    size_t path_len;
    uint8_t path[CVMA_REG_PATH_MAX][32];
    uint8_t merkle_root[32];
};

void cvma_reg_proof_cleanup(struct cvma_reg_proof *p);

/* The proof JSON of entry index of a sorted list and its tree. provider may be NULL. */
json_t *cvma_reg_proof_to_json(const char *provider, const struct cvma_reg_entries *sorted,
                               const struct cvma_merkle *t, size_t index);
/*
 * Parses proof JSON (untrusted; at most CVMA_REG_PROOF_FILE_MAX bytes): CVMA_OK,
 * CVMA_REJECTED (err says why) or CVMA_E_NOMEM. Does not check the path (cvma_reg_proof_check).
 */
CVMA_MUST_USE enum cvma_status cvma_reg_proof_parse(const uint8_t *p, size_t len,
                                                    struct cvma_reg_proof *out, char *err,
                                                    size_t err_len);
/* True when the proof's audit path leads from its leaf to its merkle_root. */
bool cvma_reg_proof_check(const struct cvma_reg_proof *p);

/* ------------------------------------------------------------------------------------------
 * Binding a verified result to a provider (the verifier side)
 * ------------------------------------------------------------------------------------------ */

struct cvma_registry_set; /* opaque */

/* An empty set; NULL on allocation failure. Not thread-safe: one bind at a time. */
struct cvma_registry_set *cvma_registry_set_new(void);
void cvma_registry_set_free(struct cvma_registry_set *rs);

/*
 * --provider NAME=PUBFILE: reads a PEM public key (P-256 or P-384). CVMA_E_USAGE for a bad
 * spec, a bad name, a name given twice, a name that is a lookup registry's, or a file that is
 * no such key; CVMA_E_IO when the file cannot be read. err says which.
 */
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_provider(struct cvma_registry_set *rs,
                                                              const char *spec, char *err,
                                                              size_t err_len);
/* The same with a key in memory (the set takes its own reference). */
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_provider_key(struct cvma_registry_set *rs,
                                                                  const char *name, EVP_PKEY *pub,
                                                                  char *err, size_t err_len);
/* --registry FILE: reads it (at most CVMA_REG_FILE_MAX bytes); CVMA_E_IO when unreadable. */
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_registry(struct cvma_registry_set *rs,
                                                              const char *path, char *err,
                                                              size_t err_len);
/* The same with bytes in memory (copied); origin names it in reason details. */
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_registry_mem(struct cvma_registry_set *rs,
                                                                  const uint8_t *p, size_t len,
                                                                  const char *origin);
/* --proof FILE (at most CVMA_REG_PROOF_FILE_MAX bytes); CVMA_E_IO when unreadable. */
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_proof(struct cvma_registry_set *rs,
                                                           const char *path, char *err,
                                                           size_t err_len);
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_proof_mem(struct cvma_registry_set *rs,
                                                               const uint8_t *p, size_t len,
                                                               const char *origin);
/*
 * --lookup-registry NAME=BASE_URL: BASE_URL must be https://..., or http:// to 127.0.0.1,
 * localhost or [::1]. A trailing '/' is dropped. CVMA_E_USAGE otherwise, and when NAME is a
 * signed registry's provider (a --provider key or a --log-vkey, given before or after): an
 * unsigned lookup answer must never pass for that provider's signed registry.
 */
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_lookup(struct cvma_registry_set *rs,
                                                            const char *spec, char *err,
                                                            size_t err_len);
/*
 * The registry log (docs/registry.md "Registry log"). --log-vkey PROVIDER=VKEYFILE: that
 * provider's registries are then accepted only from its log (PROVIDER may not be a lookup
 * registry's name). --witness-vkey FILE: a witness.
 * --witnesses K (0: every witness given). --log-proof FILE: a c2sp.org/tlog-proof@v1 file
 * (read here, at most 64 KiB; parsed when binding). --log-consistency FILE: a consistency
 * proof JSON. CVMA_E_USAGE (bad spec or content; err), CVMA_E_IO, CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_log_key(struct cvma_registry_set *rs,
                                                             const char *spec, char *err,
                                                             size_t err_len);
/* --log-url PROVIDER=DIR|URL: where that provider's log tiles are served; consistency proofs
 * not given are computed from its level-0 tiles. Needs the provider's log key first. */
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_log_url(struct cvma_registry_set *rs,
                                                             const char *spec, char *err,
                                                             size_t err_len);
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_witness(struct cvma_registry_set *rs,
                                                             const char *path, char *err,
                                                             size_t err_len);
CVMA_MUST_USE enum cvma_status cvma_registry_set_witnesses_required(struct cvma_registry_set *rs,
                                                                    size_t k, char *err,
                                                                    size_t err_len);
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_log_proof(struct cvma_registry_set *rs,
                                                               const char *path, char *err,
                                                               size_t err_len);
CVMA_MUST_USE enum cvma_status cvma_registry_set_add_log_consistency(struct cvma_registry_set *rs,
                                                                     const char *path, char *err,
                                                                     size_t err_len);

/*
 * Whether cache_dir (NULL: the default, resolved as cvma_registry_bind resolves it) can hold
 * the registry state: the rollback state files and witnessed logs' newest checkpoints. Creates
 * it when missing. true when it is a directory this process can write and no one else can
 * (cvma_private_dir: owned by the effective user or root, no write bit for group or others,
 * not a symbolic link); false otherwise, with
 * why (the directory and the error; may be NULL). A service says so at start: without it,
 * rollback rests on the shared store alone (or is not checked) and log consistency is not
 * checked.
 */
bool cvma_registry_state_dir_usable(const char *cache_dir, char *why, size_t why_len);

/* True when no registry, proof or lookup registry was added (binding not requested). */
bool cvma_registry_set_empty(const struct cvma_registry_set *rs);

struct cvma_registry_bind_opts {
    time_t at;                   /* verification time: registries must be valid then */
    const char *cache_dir;       /* rollback state and cached lookup answers; NULL: the default
                                    cache directory (collateral/cache.h: $CVMATTEST_CACHE, XDG) */
    bool offline;                /* lookup registries: cache only; a miss is REGISTRY_UNAVAILABLE */
    int64_t lookup_ttl;          /* seconds a "listed" answer is cached; 0: 3600 */
    int64_t lookup_negative_ttl; /* seconds a "not listed" (404) answer is cached; 0: 600 */
    int64_t lookup_failure_ttl;  /* seconds a failed lookup (no answer, 5xx, a 200 that is not
                                    the expected JSON), or a log URL that did not give its
                                    tiles, is not asked again; 0: 60 */
    struct cvma_http_opts http;  /* zeroed: defaults (collateral/http.h) */
    /* The fleet's rollback state (cvmattest.h struct cvma_state_store, registry_seen); NULL
     * or no registry_seen: the state files of cache_dir. */
    const struct cvma_state_store *store;
};

/*
 * Binds res->platform (the typed identity the SNP/TDX verifiers set) to a provider. Call once the
 * evidence verified. Does nothing and returns CVMA_OK when the set is empty. Otherwise:
 *  1. every registry is verified (cvma_registry_verify), checked against o->at, and checked
 *     for rollback: the highest version seen per provider (and its merkle_root) is kept in
 *     <cache_dir>/registry-state.<provider>.json; an older version, or the same version with
 *     another root, than the state or than another valid registry of the set is
 *     REGISTRY_ROLLBACK; a newer one that passed every check replaces it (atomically, by
 *     rename, under a flock on registry-state.<provider>.lock).
 *     When the state cannot be read or written, or is not a state (an empty file too, never
 *     taken for a first use): REGISTRY_ROLLBACK_NOT_CHECKED (warning). With o->store and no
 *     cache directory at all, the store's record and the process's floor in memory are the
 *     check: no warning (a named directory that cannot be created: the warning).
 *     Each registry given must pass: any failure is an error reason even when another
 *     registry lists the platform.
 *  2. the platform is looked up in the included entries of every valid registry, and in
 *     every proof whose leaf is this platform: the proof's audit path must lead to its root,
 *     and that root must be the merkle_root (and tree_size the leaf_count) of a valid
 *     registry of the provider it names; otherwise REGISTRY_PROOF_INVALID, except for a
 *     proof whose root, tree_size and provider are those a registry that failed step 1
 *     claims (cvma_registry_claimed_read): it adds nothing, that registry's reason stands.
 *     Proofs for other platforms are ignored.
 *     Every valid registry whose merkle_root and leaf_count are those of a valid proof for
 *     this platform lists it, whichever provider the proof names.
 *  3. only when no registry lists it, none failed step 1, none was left unchecked (its log's
 *     tiles or its rollback state could not be had, or it is older than one that was: then
 *     undecided, the lookups not consulted), and the platform is an Intel PPID:
 *     every lookup registry is asked (from the cache when fresh): 200 = listed (label
 *     "zone"), 404 = not listed, anything else or unreachable = REGISTRY_UNAVAILABLE and
 *     res->undecided unless another lookup registry lists it.
 * AMD platforms: id_type "chip_id" binds to `amd chip_id` entries (a null or all-zero id is
 * REGISTRY_CHIP_ID_MASKED); "vlek" binds to `amd vlek_csp` entries by name, and also to
 * `amd chip_id` entries when the platform carries a non-zero CHIP_ID (has_chip_id).
 * Intel: "ppid" binds to `intel ppid` entries. A platform with no usable id (none at all,
 * as for a bare TPM quote; no PPID; unknown vendor) is REGISTRY_NO_PLATFORM_ID, recorded after
 * step 1, so the registries given are checked all the same.
 * Listed by one provider (in any number of its valid registries, or by lookup registries of
 * that one name): platform.provider is that provider and platform.labels the entry's labels
 * (for a VLEK platform listed by both identifiers, the cspID entry's). Listed by two or more
 * providers (registries of step 2, or else lookup registries of step 3): bound to none, and
 * REGISTRY_PROVIDER_CONFLICT names each provider, the identifier it lists and where. The
 * order in which registries, proofs and lookup registries were given never changes the
 * outcome.
 * Returns CVMA_OK (bound), CVMA_REJECTED (reasons recorded in res->verdict; not listed is
 * REGISTRY_PLATFORM_NOT_LISTED), CVMA_UNDECIDED (only REGISTRY_UNAVAILABLE stands in the
 * way; res->undecided set), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_registry_bind(struct cvma_registry_set *rs,
                                                  const struct cvma_registry_bind_opts *o,
                                                  struct cvma_result *res);

/*
 * Parses and verifies, once, every registry, proof and log proof of the set that
 * cvma_registry_bind would otherwise prepare on first use. CVMA_OK or CVMA_E_NOMEM (then
 * call it again later: what could not be prepared stays unprepared). After it has returned
 * CVMA_OK, cvma_registry_bind only reads the set, so several threads may bind with it at
 * once, without a lock held across their lookups and log fetches (the verifier calls this
 * under its lock, then binds outside it).
 */
CVMA_MUST_USE enum cvma_status cvma_registry_set_prepare(struct cvma_registry_set *rs);

#endif
