/*
 * The collateral directory's files, decoded once: a small in-memory cache, owned by a
 * verifier and shared by its threads, of what a loader made of a set of files of one
 * directory (for SEV-SNP: the DER certificates and CRL of --collateral DIR; for TDX: the
 * decoded issuer chains and CRLs and the documents' bytes). Vendor-free: a value is an object
 * of the loader's with its own copy and free functions, under a tag chosen by the loader.
 *
 * Invalidation: an entry is used only when every file is as it was when it was stored
 * (device, inode, size, modification and change times to the nanosecond, or absence), so a
 * file replaced (by rename or rewritten in place), added or removed is read and decoded again
 * on the next verification. That state (the stamp) is taken by stat, or, where the directory
 * can be watched with inotify (a local file system, a path and files without symbolic links),
 * kept while the watch reports no event: one read of an empty event queue instead of a stat
 * a file (cvma_dircache_stamp_watched). The loader stamps before
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
/* A watched stamp is taken by stat again at least this often: what a watch cannot see (a
 * change not made through the directory's own path: a parent directory renamed, a file
 * hard-linked elsewhere after its stamp was kept and written through that name) is seen
 * within this time. */
#define CVMA_DIRCACHE_RECHECK_SECONDS 1

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

/*
 * As cvma_dircache_stamp, through c's watch of dir: the stamp taken last for (tag, dir, names)
 * while no inotify event about dir came since it was taken and it is younger than
 * CVMA_DIRCACHE_RECHECK_SECONDS; else taken by stat, and kept when dir can be watched (on
 * ext2/3/4, xfs, btrfs, tmpfs or f2fs, named by a path that is its real path, no file of
 * names a symbolic link or a file with other names) and nothing happened in it while stat
 * ran. An event is queued by the system call that changes the directory, so a change that
 * was made before this call is seen by it. c NULL, no inotify (or a failed read of it), or more
 * than a few directories: by stat every time. A child of a fork makes its own inotify queue (the
 * inherited one is its parent's) and takes its first stamps by stat.
 */
bool cvma_dircache_stamp_watched(struct cvma_dircache *c, const char *tag, const char *dir,
                                 const char *const *names, size_t n,
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

/* Counters since creation (for tests and metrics): watched counts the stamps answered by a
 * watch (no stat). */
uint64_t cvma_dircache_hits(const struct cvma_dircache *c);
uint64_t cvma_dircache_watched(const struct cvma_dircache *c);
uint64_t cvma_dircache_misses(const struct cvma_dircache *c);

#endif
