/*
 * On-disk collateral cache: one file per key in one flat directory.
 *
 * Location: the directory given to cvma_cache_init, else $CVMATTEST_CACHE, else
 * $XDG_CACHE_HOME/cvmattest (only when XDG_CACHE_HOME is an absolute path, as the XDG spec
 * requires), else $HOME/.cache/cvmattest. Missing directories are created (mode 0700) on the
 * first put, never on a get. The directory is used only while it is private to the user
 * (cvma_private_dir: not a symbolic link, owned by the effective user or root, no write bit for
 * group or others): otherwise every get is a miss and every put fails (CVMA_E_IO), as with a
 * directory that cannot be created. Whoever else can write it could write entries.
 *
 * Keys are arbitrary strings ("amd-kds https://kdsintf.amd.com/vcek/v1/Milan/..."). The file
 * name is the lower-case hex SHA-256 of the key plus ".entry", so nothing in a key can name a
 * path outside the directory.
 *
 * Entry file layout (all integers big-endian):
 *   0   8  magic "CVMACE02"
 *   8   8  expires_at: Unix seconds; 0 = never expires
 *   16  8  fetched_at: Unix seconds when the body was fetched (0 = unknown)
 *   24  8  body length
 *   32 32  SHA-256( bytes 0..31 || u64 key length || key || body )
 *   64  .. body
 * Entries of the first format ("CVMACE01": expires_at, body length, SHA-256 over bytes 0..23
 * and the rest as above, body at 56) are still read; their fetch time is unknown (0), so a
 * caller with a maximum age treats them as too old. Every put writes the current format.
 * The digest detects truncation, bit rot, a half-written file and a file copied under another
 * key's name. It is not an authenticity check: anyone who can write the directory can write
 * a valid entry. Nothing read from the cache is trusted more than a fresh download; the
 * verifier checks every certificate and CRL against the pinned vendor roots either way.
 *
 * Writes go through cvma_file_write_atomic (temp file, fsync, rename), so readers see the old
 * entry or the new one, never a mix.
 *
 * Threads: safe without a lock. A struct cvma_cache is only read after cvma_cache_init, no
 * function keeps state between calls, and each put writes its own randomly named temp file
 * (O_EXCL) before the rename; two threads (or processes) putting the same key leave one
 * whole entry, the last renamed.
 */
#ifndef CVMA_COLLATERAL_CACHE_H
#define CVMA_COLLATERAL_CACHE_H

#include "common/util.h"

#define CVMA_CACHE_MAX_BODY                                                           \
    ((size_t)4 << 20)             /* larger entries are refused (put) / corrupt (get) \
                                   */
#define CVMA_CACHE_HEADER_LEN 64u /* current format (CVMACE02) */

/*
 * An entry file's layout: magic "CVMACE02", u64be expiry (0: never), u64be fetch time, u64be
 * body length, SHA-256 (32 bytes) over those 32 bytes, the key's length (u64be), the key and
 * the body, then the body.
 * The first format ("CVMACE01") has no fetch time (24 bytes under the digest). Read by
 * cvma_cache_entry_parse: true when the magic is one of the two and every length adds up to
 * exactly len (a body of at most CVMA_CACHE_MAX_BODY, times that fit an int64_t); then e
 * points into p. The digest is not checked here (it needs the key): signed_len bytes of p,
 * the key and the body are what it covers.
 */
struct cvma_cache_entry {
    size_t signed_len;     /* header bytes under the digest */
    const uint8_t *digest; /* 32 bytes */
    int64_t expires_at;    /* 0: never */
    int64_t fetched_at;    /* 0: unknown (the first format) */
    const uint8_t *body;
    size_t body_len;
};
CVMA_MUST_USE bool cvma_cache_entry_parse(const uint8_t *p, size_t len, struct cvma_cache_entry *e);

/* Owns dir (malloc'd). A zeroed struct is valid for cvma_cache_cleanup. */
struct cvma_cache {
    char *dir;
};

enum cvma_cache_state {
    CVMA_CACHE_MISS = 0, /* no entry (or unreadable file) */
    CVMA_CACHE_HIT,      /* entry intact and not expired: *out holds the body */
    CVMA_CACHE_EXPIRED,  /* entry intact but its expiry time has passed: counts as a miss */
    CVMA_CACHE_CORRUPT,  /* entry present but fails its header/digest check: counts as a miss */
};

/*
 * Chooses the cache directory: dir when non-NULL and non-empty, else the environment as
 * above. Does not create it. Returns CVMA_OK, CVMA_E_USAGE when no directory can be chosen
 * (no dir, no CVMATTEST_CACHE, no usable XDG_CACHE_HOME, no HOME), or CVMA_E_NOMEM.
 * c->dir is NULL unless CVMA_OK.
 */
CVMA_MUST_USE enum cvma_status cvma_cache_init(struct cvma_cache *c, const char *dir);

/* CVMA_E_IO when c's directory exists but is not private to the user (cvma_private_dir), so
 * that the cache is not used; why (may be NULL) then says why. CVMA_OK when it is, or does not
 * exist yet; CVMA_E_NOMEM. */
CVMA_MUST_USE enum cvma_status cvma_cache_dir_check(const struct cvma_cache *c, char *why,
                                                    size_t why_len);

/* Frees c->dir. Safe on a zeroed struct and twice. */
void cvma_cache_cleanup(struct cvma_cache *c);

/* The entry's file path for key (malloc'd, caller frees), or NULL on allocation failure. */
char *cvma_cache_entry_path(const struct cvma_cache *c, const char *key);

/*
 * Looks key up as of time `now` (Unix seconds). Always sets *state. On CVMA_CACHE_HIT, *out
 * owns the body (free with cvma_buf_free); otherwise *out is empty. Never modifies the
 * directory (a bad entry is left for the next put to replace).
 * Returns CVMA_OK (whatever the state) or CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_cache_lookup(const struct cvma_cache *c, const char *key,
                                                 int64_t now, struct cvma_buf *out,
                                                 enum cvma_cache_state *state);

/* What an entry says about itself (cvma_cache_lookup_ex). */
struct cvma_cache_meta {
    int64_t expires_at; /* 0: never */
    int64_t fetched_at; /* 0: unknown (an entry of the first format) */
};

/*
 * cvma_cache_lookup, also filling *meta (may be NULL; zeroed unless the state is
 * CVMA_CACHE_HIT or CVMA_CACHE_EXPIRED).
 */
CVMA_MUST_USE enum cvma_status cvma_cache_lookup_ex(const struct cvma_cache *c, const char *key,
                                                    int64_t now, struct cvma_buf *out,
                                                    enum cvma_cache_state *state,
                                                    struct cvma_cache_meta *meta);

/*
 * cvma_cache_lookup as of the current time, reduced to a status: CVMA_OK on a hit (*out owns
 * the body), CVMA_E_IO when absent, expired or corrupt, CVMA_E_NOMEM. Use cvma_cache_lookup
 * to tell a corrupt entry (COLLATERAL_CACHE_CORRUPT) from a plain miss.
 */
CVMA_MUST_USE enum cvma_status cvma_cache_get(const struct cvma_cache *c, const char *key,
                                              struct cvma_buf *out);

/*
 * Stores body p/len under key, replacing any entry, atomically. expires_at is Unix seconds;
 * 0 means the entry never expires. Creates the directory (0700) if needed.
 * Returns CVMA_OK, CVMA_E_IO (directory or file could not be written, or the directory is not
 * private to the user), CVMA_E_USAGE (body
 * larger than CVMA_CACHE_MAX_BODY, negative expiry) or CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_cache_put(const struct cvma_cache *c, const char *key,
                                              const uint8_t *p, size_t len, int64_t expires_at);

/* cvma_cache_put recording fetched_at (Unix seconds, >= 0) as the fetch time instead of the
 * current time (cvma_cache_put records time(NULL)). */
CVMA_MUST_USE enum cvma_status cvma_cache_put_ex(const struct cvma_cache *c, const char *key,
                                                 const uint8_t *p, size_t len, int64_t expires_at,
                                                 int64_t fetched_at);

/*
 * Removes key's entry, if there is one: for collateral that passed its form check but then
 * failed verification (a certificate that does not chain to the pinned root, a CRL or
 * document whose signature does not verify), so that the next use fetches it again instead
 * of failing on the same bytes for ever. CVMA_OK (also when there was no entry), CVMA_E_IO
 * (it could not be removed), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_cache_remove(const struct cvma_cache *c, const char *key);

/*
 * Maximum age of collateral that changes (CRLs, TCB Info, QE Identity): when the verifier may
 * fetch, a cached copy fetched longer ago than this is fetched again, even before its own
 * nextUpdate, so a revocation or a TCB recovery is seen within a day (Intel's PCCS refreshes
 * daily). Offline, the cached copy is used whatever its age.
 */
#define CVMA_CACHE_DEFAULT_MAX_AGE (24 * 3600) /* seconds */

/*
 * True when an entry fetched at fetched_at (cvma_cache_meta) is too old at now for max_age:
 * max_age 0 selects CVMA_CACHE_DEFAULT_MAX_AGE, a negative max_age makes every entry too old
 * (refresh on every use). An unknown fetch time (0) or one in the future is too old.
 */
bool cvma_cache_too_old(int64_t fetched_at, int64_t now, int64_t max_age);

/* The effective maximum age in seconds for max_age as above (0 for "every entry"). */
int64_t cvma_cache_max_age(int64_t max_age);

/* A short English age of an entry fetched at fetched_at: "26 h 3 min", "52 s", or
 * "an unknown time (an entry of the first cache format)". */
void cvma_cache_age_text(int64_t fetched_at, int64_t now, char *out, size_t n);

#endif
