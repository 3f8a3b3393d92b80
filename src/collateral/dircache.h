/*
 * The collateral directory's files, decoded once: a small in-memory cache, owned by a
 * verifier and shared by its threads, of what a loader made of a set of files of one
 * directory (for SEV-SNP: the DER certificates and CRL of --collateral DIR; for TDX: the
 * decoded issuer chains and CRLs and the documents' bytes). Vendor-free: a value is an object
 * of the loader's with its own copy and free functions, under a tag chosen by the loader.
 *
 * Invalidation: every use stats the files again (device, inode, size, modification and
 * change times to the nanosecond, or absence); an entry is used only when all of them are as
 * they were when it was stored, so a file replaced (by rename or rewritten in place), added
 * or removed is read and decoded again on the next verification. The loader stamps before
 * and after reading and stores only when both stamps agree. Values are copied out under the
 * lock, so a reader never sees an entry that another thread replaces. File times advance in
 * clock ticks, not nanoseconds: a file changed less than CVMA_DIRCACHE_SETTLE_SECONDS ago is
 * not stored (read and decoded on every use until it settles), so that a second in-place
 * rewrite of the same size within one tick cannot go unseen. Only what a loader
 * stores is cached (the SEV-SNP loader stores only collateral that decoded without a reason):
 * the chain and CRL checks still run on every verification (through the chain cache).
 */
#ifndef CVMA_COLLATERAL_DIRCACHE_H
#define CVMA_COLLATERAL_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/util.h"

#define CVMA_DIRCACHE_MAX_FILES 8
/* Files whose modification or change time is this close to now are not cached. */
#define CVMA_DIRCACHE_SETTLE_SECONDS 1

/* What stat said of each file of the set (a cache key together with the tag and dir). */
struct cvma_dircache_stamp {
    size_t n;
    struct {
        bool present;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;
    } f[CVMA_DIRCACHE_MAX_FILES];
};

struct cvma_dircache;

/* A cache of at most capacity (tag, dir) entries (0: 8). NULL: no memory. */
struct cvma_dircache *cvma_dircache_new(size_t capacity);
void cvma_dircache_free(struct cvma_dircache *c);

/*
 * Stats dir/names[i] for i < n (n <= CVMA_DIRCACHE_MAX_FILES) into *out. A file that is
 * absent counts as such; false when a path is too long, n is too large, or stat fails
 * otherwise (do not cache then).
 */
bool cvma_dircache_stamp(const char *dir, const char *const *names, size_t n,
                         struct cvma_dircache_stamp *out);

/* True when both stamps saw the same files in the same state. */
bool cvma_dircache_stamp_equal(const struct cvma_dircache_stamp *a,
                               const struct cvma_dircache_stamp *b);

/*
 * A value is an object of the loader's (decoded certificates, say): dup makes the copy a get
 * hands out (called under the cache's lock; it may share immutable parts by reference count;
 * NULL: out of memory), free frees the object. An entry is of its ops: a get_obj of other ops
 * does not see it.
 */
struct cvma_dircache_obj_ops {
    void *(*dup)(const void *obj);
    void (*free)(void *obj);
};

/* The object of ops stored under (tag, dir) when its stamp equals *stamp: CVMA_OK with
 * *out = ops->dup(stored); CVMA_E_IO when there is none (a miss); CVMA_E_NOMEM. */
CVMA_MUST_USE enum cvma_status cvma_dircache_get_obj(struct cvma_dircache *c, const char *tag,
                                                     const char *dir,
                                                     const struct cvma_dircache_stamp *stamp,
                                                     const struct cvma_dircache_obj_ops *ops,
                                                     void **out);

/* Stores obj (taken) under (tag, dir, *stamp), replacing what was there; the least recently
 * used entry makes room. Nothing stored (obj freed with ops->free) when out of memory or when
 * a file of the stamp changed within CVMA_DIRCACHE_SETTLE_SECONDS. */
void cvma_dircache_put_obj(struct cvma_dircache *c, const char *tag, const char *dir,
                           const struct cvma_dircache_stamp *stamp, void *obj,
                           const struct cvma_dircache_obj_ops *ops);

/* Counters since creation (for tests and metrics). */
uint64_t cvma_dircache_hits(const struct cvma_dircache *c);
uint64_t cvma_dircache_misses(const struct cvma_dircache *c);

#endif
