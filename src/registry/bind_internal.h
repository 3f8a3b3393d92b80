/*
 * Private to the registry binding files: the registry set's items, and the rollback state
 * and lookup registries that binding consults. See registry/registry.h for the contract.
 *   registry_set.c   the set: provider keys, registries, proofs, lookup registries
 *   bind_rollback.c  rollback state (registry-state.<provider>.json)
 *   bind_lookup.c    lookup registries (Intel PPIDs, cached answers)
 *   bind.c           the platform of a result, and binding
 */
#ifndef CVMA_REGISTRY_BIND_INTERNAL_H
#define CVMA_REGISTRY_BIND_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/cache.h"
#include "registry/registry.h"
#include "tlog/tlog.h"

#define PUBKEY_FILE_MAX    ((size_t)64 << 10)
#define STATE_FILE_MAX     4096
#define DEFAULT_LOOKUP_TTL 3600
#define DEFAULT_NEG_TTL    600
#define DEFAULT_FAIL_TTL   60
#define LOOKUP_URL_MAX     2048

struct reg_item {
    char *origin;
    struct cvma_buf bytes;
    bool prepared;
    enum cvma_reason fail_code; /* CVMA_R_COUNT_ when it verified */
    char fail_detail[CVMA_DETAIL_MAX];
    struct cvma_registry reg;
    /* When it failed: what its payload claims, unverified, to tell a proof for it (which then
     * adds nothing) from a proof for no registry given. */
    struct cvma_registry_claimed claimed;
};

struct proof_item {
    char *origin;
    struct cvma_buf bytes;
    bool prepared;
    bool ok; /* parsed */
    char fail[300];
    struct cvma_reg_proof proof;
};

struct lookup_item {
    char name[CVMA_REG_PROVIDER_MAX + 1];
    char *base;
};

/* The registry log (bind_log.c). */
struct log_key_item {
    char provider[CVMA_REG_PROVIDER_MAX + 1];
    struct cvma_note_vkey vk;
    char *url; /* where its tiles are served (--log-url), or NULL */
};

struct log_proof_item {
    char *origin;
    struct cvma_buf bytes;
    bool prepared;
    bool ok; /* parsed */
    char fail[300];
    struct cvma_tlog_proof *proof;
};

/*
 * The highest registry version this process saw per provider, with a shared state store
 * (bind_rollback.c): a floor that does not depend on the store keeping what it recorded.
 */
struct rb_floor {
    char provider[CVMA_REG_PROVIDER_MAX + 1];
    uint64_t version;
    uint8_t root[32];
    bool persisted; /* also recorded in the state file of the cache directory */
};

struct cvma_registry_set {
    pthread_mutex_t floor_lock; /* guards floors and n_floors */
    struct rb_floor *floors;
    size_t n_floors;
    struct cvma_reg_provider *prov;
    size_t n_prov;
    struct reg_item *regs;
    size_t n_regs;
    struct proof_item *proofs;
    size_t n_proofs;
    struct lookup_item *lookups;
    size_t n_lookups;
    struct log_key_item *log_keys;
    size_t n_log_keys;
    struct cvma_note_vkey *witnesses;
    size_t n_witnesses;
    size_t witnesses_required; /* 0: all of them */
    struct log_proof_item *log_proofs;
    size_t n_log_proofs;
    struct cvma_tlog_consistency *cons;
    size_t n_cons;
};

/*
 * true (err says why) when name, about to be added as a lookup registry (lookup) or as a
 * signed registry's provider (a --provider key, a --log-vkey), is already the other kind: an
 * unsigned lookup answer must never pass for a provider's signed registry.
 */
bool cvma_registry_set_name_clash(const struct cvma_registry_set *rs, const char *name, bool lookup,
                                  char *err, size_t err_len);

/* Frees the registry-log members of the set. */
void cvma_bind_log_free(struct cvma_registry_set *rs);
/* Parses every log proof of the set once (cvma_registry_set_prepare). CVMA_OK, CVMA_E_NOMEM. */
enum cvma_status cvma_bind_log_prepare(struct cvma_registry_set *rs);

/*
 * When its provider has a log key: the registry must be in a checkpoint of that log (a log
 * proof), signed by the log key, cosigned by enough witnesses, and consistent with the newest
 * checkpoint seen for that log (kept in state_dir; NULL: not checked, a warning). Every log
 * proof that includes the registry is a candidate: those signed and cosigned are first
 * compared with each other (a split view among them refuses, kept as evidence in state_dir;
 * two sizes with no proof between them are not compared), then each is tried against the
 * state, largest tree first, until one passes; a split view refuses at once; a proof that
 * cannot be parsed is named in REGISTRY_NOT_IN_LOG. Where no
 * consistency proof was given, the log's tiles are read from its --log-url with o->http, never
 * over the network when o->offline. Records the reasons in v; *ok false when the registry must
 * not be used. CVMA_UNDECIDED (*ok false) when no candidate passed and the one that got
 * furthest grew the log past the checkpoint seen with no consistency proof given, so that only
 * the log's tiles could show it consistent, and the log did not give them (offline,
 * unreachable, an error, or such a failure within the TTL): v then holds a
 * REGISTRY_ROLLBACK_NOT_CHECKED warning and unsettled (a line, at least 1 byte; "" otherwise)
 * says why, for the caller's REGISTRY_UNAVAILABLE. CVMA_E_NOMEM, else CVMA_OK.
 */
enum cvma_status cvma_bind_log_check(struct cvma_registry_set *rs, const struct reg_item *it,
                                     const char *state_dir, const struct cvma_registry_bind_opts *o,
                                     struct cvma_verdict *v, bool *ok, char *unsettled,
                                     size_t unsettled_len);

/* Appends to a bounded detail string. */
static inline void append(char *buf, size_t cap, const char *fmt, ...) CVMA_PRINTF(3, 4);

static inline void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    if (n + 1 >= cap) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static inline void *grow(void *p, size_t n, size_t elem)
{
    /* Arrays grow one element at a time: a set holds a handful of items. */
    return realloc(p, (n + 1) * elem);
}

enum rb_result {
    RB_OK,
    RB_ROLLBACK,
    RB_NOT_CHECKED, /* no rollback state kept (no usable directory): a warning */
    RB_UNAVAILABLE, /* a shared state store is configured but did not answer: undecided */
    RB_NOMEM,       /* out of memory: nothing checked, nothing written; the call's error */
};

/*
 * Reads a rollback state file's text, {"provider", "version", "merkle_root"} (at most
 * STATE_FILE_MAX bytes; anyone who can write the cache directory can change it). true when it
 * is a state of provider: *version (>= 1) and root (the 64 hex digits) then hold it. false when
 * it is not (unreadable, another provider): *version is 0 and root all zero. *oom (may be
 * NULL) is set when it could not be read for want of memory: then it is not known to be
 * unreadable, and must not be replaced.
 */
CVMA_MUST_USE bool cvma_bind_rollback_state_read(const uint8_t *p, size_t len, const char *provider,
                                                 uint64_t *version, uint8_t root[32], bool *oom);

/*
 * Checks r against the rollback state kept in dir (NULL: no state, RB_NOT_CHECKED) and
 * records r when it is newer; detail says why on RB_ROLLBACK / RB_NOT_CHECKED.
 */
enum rb_result cvma_bind_rollback_check(const char *dir, const struct cvma_registry *r,
                                        char *detail, size_t detail_len);
/*
 * The same through store->registry_seen when the store has one, else the files of dir
 * (cvma_bind_rollback_check). With a store, two floors come first, so a store that lost what
 * it recorded (restarted empty, a lagging replica, flushed) cannot bring an older registry
 * back: the highest version this process saw (rs; NULL: none kept) and the state file of dir,
 * read the first time a provider's registry is seen and written when its version rises, so the
 * file costs nothing per verification once it is known. A registry below either floor is
 * RB_ROLLBACK and the store is raised to the floor. Both floors are only compared before the
 * store is asked, and r is recorded in them (the file compared again under its lock) only once
 * the store answered OK: a registry the store refuses (RB_ROLLBACK) or could not check
 * (RB_UNAVAILABLE) never becomes this process's floor. Without a state directory (dir NULL) there
 * is no file floor: the store's answer and the floor in memory decide (RB_OK when the store
 * answered OK). A directory that cannot be created, or a state file in it that cannot be kept
 * (unreadable, unlockable, unwritable), gives RB_NOT_CHECKED once the store
 * answered OK (the store's check was made; detail says what was not). RB_UNAVAILABLE when the
 * store does not answer (detail says why).
 */
enum rb_result cvma_bind_rollback_check_store(struct cvma_registry_set *rs,
                                              const struct cvma_state_store *store, const char *dir,
                                              const struct cvma_registry *r, char *detail,
                                              size_t detail_len);

enum lk_result {
    LK_LISTED,
    LK_NOT_LISTED,
    LK_UNAVAILABLE,
    LK_NOMEM,
};

/*
 * A lookup registry's answers, read from untrusted bytes (the service's 200 body, or our own
 * cache entry, which anyone able to write the cache can change). zone (at least
 * CVMA_REG_LABEL_VALUE_MAX + 1 bytes) is "" unless LK_LISTED, then the answer's zone label
 * ("" when it has none); a zone present must be a label value (1..255 printable characters
 * without spaces).
 *   cvma_lookup_answer_read: a 200 body. LK_LISTED when a JSON object, else LK_UNAVAILABLE.
 *   cvma_lookup_cached_read: {"listed": bool, "zone": str?}. LK_LISTED, LK_NOT_LISTED, or
 *   LK_UNAVAILABLE (an unusable entry: a miss).
 */
enum lk_result cvma_lookup_answer_read(const uint8_t *p, size_t len, char *zone, size_t zone_len);
enum lk_result cvma_lookup_cached_read(const uint8_t *p, size_t len, char *zone, size_t zone_len);
/* The cache entry of a listed answer with zone ("": none), malloc'd; NULL when out of memory. */
char *cvma_lookup_cache_text(const char *zone);
/* A failed lookup's cache entry, {"failed": why} (why 1..CVMA_LOOKUP_FAILED_MAX bytes): true
 * with why copied (at most why_len - 1 bytes) when the entry is one, else false (and why ""). */
#define CVMA_LOOKUP_FAILED_MAX 300
bool cvma_lookup_cached_failure(const uint8_t *p, size_t len, char *why, size_t why_len);
/* That entry's text for why (cut at CVMA_LOOKUP_FAILED_MAX bytes), malloc'd; NULL when out of
 * memory. */
char *cvma_lookup_failure_text(const char *why);
/* True when a failure kept in the cache (its entry's meta) was recorded less than fail
 * seconds before now by this clock: an entry the cache would keep longer (another verifier's
 * longer time, a forged expiry), one from the future (a clock set back) or without a time is
 * not, so its URL is asked again. */
bool cvma_failure_recent(const struct cvma_cache_meta *m, int64_t now, int64_t fail);
/* Keeps the failure why under key in cache for fail seconds from now, as {"failed": why}
 * (cvma_lookup_failure_text), so that it is not asked again meanwhile (a registry or log that is
 * down would otherwise cost every verification its time-outs). Best effort: a cache that cannot
 * be written costs the next verification a request. cache NULL: nothing. */
void cvma_lookup_note_failure(const struct cvma_cache *cache, const char *key, const char *why,
                              time_t now, int64_t fail);

/*
 * Asks one lookup registry whether the PPID is listed (the cache first when fresh, unless
 * cache is NULL); on LK_LISTED zone holds the answer's zone label ("" when none); detail
 * says why on LK_UNAVAILABLE.
 */
enum lk_result cvma_bind_lookup(const struct lookup_item *lk, const uint8_t ppid[16],
                                const struct cvma_cache *cache,
                                const struct cvma_registry_bind_opts *o, char *zone,
                                size_t zone_len, char *detail, size_t detail_len);

#endif
