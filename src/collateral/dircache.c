#include "collateral/dircache.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/allocfail.h"

struct entry {
    char *tag, *dir; /* NULL tag: empty slot */
    struct cvma_dircache_stamp stamp;
    void *obj; /* of ops */
    const struct cvma_dircache_obj_ops *ops;
    uint64_t used;
};

/* A directory watched with inotify: gen moves with every event on it. */
struct watch {
    char *dir; /* NULL: empty slot */
    int wd;    /* -1: not watched (never: unwatchable, or lost and to be added again) */
    bool unwatchable;
    uint64_t gen;
};

/* A stamp taken while the directory was watched, good while its watch's gen is gen. */
struct memo {
    char *tag, *dir; /* NULL tag: empty slot */
    char *names[CVMA_DIRCACHE_MAX_FILES];
    struct cvma_dircache_stamp stamp;
    uint64_t gen;
    struct timespec taken; /* CLOCK_MONOTONIC */
};

#define WATCHES 4
#define MEMOS   8

struct cvma_dircache {
    pthread_mutex_t mu; /* guards the slots, the clock, the watches and the memos */
    struct entry *e;
    size_t cap;
    uint64_t clock;
    atomic_uint_least64_t hits, misses, watched;
    int ino; /* the inotify descriptor: -1 not made yet, -2 none to be had (stat every time) */
    unsigned forks; /* fork_count when ino was made */
    struct watch w[WATCHES];
    struct memo m[MEMOS];
    size_t next_memo; /* the memo slot replaced next when all are taken */
};

/*
 * Forks seen by this process's children: a child shares its parent's inotify queue, and an
 * event one of them reads the other would never see. A cache used in a child after a fork
 * leaves the inherited queue to the parent and makes its own.
 */
static atomic_uint fork_count;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void forked(void)
{
    atomic_fetch_add_explicit(&fork_count, 1, memory_order_relaxed);
}

static void watch_forks(void)
{
    (void)pthread_atfork(NULL, NULL, forked);
}

struct cvma_dircache *cvma_dircache_new(size_t capacity)
{
    struct cvma_dircache *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->cap = capacity ? capacity : 8;
    c->ino = -1;
    pthread_once(&fork_once, watch_forks);
    if ((c->e = calloc(c->cap, sizeof *c->e)) == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->e);
        free(c);
        return NULL;
    }
    return c;
}

static void entry_clear(struct entry *e)
{
    free(e->tag);
    free(e->dir);
    if (e->obj != NULL) {
        e->ops->free(e->obj);
    }
    memset(e, 0, sizeof *e);
}

static void memo_clear(struct memo *m)
{
    free(m->tag);
    free(m->dir);
    for (size_t i = 0; i < CVMA_DIRCACHE_MAX_FILES; i++) {
        free(m->names[i]);
    }
    memset(m, 0, sizeof *m);
}

void cvma_dircache_free(struct cvma_dircache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->cap; i++) {
        entry_clear(&c->e[i]);
    }
    for (size_t i = 0; i < WATCHES; i++) {
        free(c->w[i].dir);
    }
    for (size_t i = 0; i < MEMOS; i++) {
        memo_clear(&c->m[i]);
    }
    if (c->ino >= 0) {
        close(c->ino);
    }
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* dir/name into out (cvma_path_join's rule, on the stack: a stamp allocates nothing, so it
 * cannot fail for want of memory). false when it does not fit. */
static bool join_into(char out[PATH_MAX], const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] != '/';
    if (a + slash + b >= PATH_MAX) {
        return false;
    }
    memcpy(out, dir, a);
    if (slash) {
        out[a++] = '/';
    }
    memcpy(out + a, name, b + 1);
    return true;
}

bool cvma_dircache_stamp(const char *dir, const char *const *names, size_t n,
                         struct cvma_dircache_stamp *out)
{
    memset(out, 0, sizeof *out);
    if (dir == NULL || n > CVMA_DIRCACHE_MAX_FILES) {
        return false;
    }
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        char path[PATH_MAX];
        if (!join_into(path, dir, names[i])) {
            return false;
        }
        int r = stat(path, &sb);
        int e = errno;
        if (r != 0) {
            if (e == ENOENT || e == ENOTDIR) {
                continue; /* absent: present stays false */
            }
            return false;
        }
        out->f[i].present = true;
        out->f[i].dev = sb.st_dev;
        out->f[i].ino = sb.st_ino;
        out->f[i].size = sb.st_size;
        out->f[i].mtime = sb.st_mtim;
        out->f[i].ctime = sb.st_ctim;
    }
    return true;
}

bool cvma_dircache_stamp_equal(const struct cvma_dircache_stamp *a,
                               const struct cvma_dircache_stamp *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (a->f[i].present != b->f[i].present || a->f[i].dev != b->f[i].dev ||
            a->f[i].ino != b->f[i].ino || a->f[i].size != b->f[i].size ||
            a->f[i].mtime.tv_sec != b->f[i].mtime.tv_sec ||
            a->f[i].mtime.tv_nsec != b->f[i].mtime.tv_nsec ||
            a->f[i].ctime.tv_sec != b->f[i].ctime.tv_sec ||
            a->f[i].ctime.tv_nsec != b->f[i].ctime.tv_nsec) {
            return false;
        }
    }
    return true;
}

/* The slot of (tag, dir), or NULL. Under the lock. */
static struct entry *find(struct cvma_dircache *c, const char *tag, const char *dir)
{
    for (size_t i = 0; i < c->cap; i++) {
        struct entry *e = &c->e[i];
        if (e->tag != NULL && strcmp(e->tag, tag) == 0 && strcmp(e->dir, dir) == 0) {
            return e;
        }
    }
    return NULL;
}

/* The entry (tag, dir) of ops when its stamp equals *stamp, or NULL. Under the lock. */
static struct entry *find_fresh(struct cvma_dircache *c, const char *tag, const char *dir,
                                const struct cvma_dircache_stamp *stamp,
                                const struct cvma_dircache_obj_ops *ops)
{
    struct entry *e = find(c, tag, dir);
    if (e != NULL && e->ops == ops && cvma_dircache_stamp_equal(&e->stamp, stamp)) {
        return e;
    }
    return NULL;
}

static void count(struct cvma_dircache *c, enum cvma_status st)
{
    atomic_fetch_add_explicit(st == CVMA_OK ? &c->hits : &c->misses, 1, memory_order_relaxed);
}

enum cvma_status cvma_dircache_get_obj(struct cvma_dircache *c, const char *tag, const char *dir,
                                       const struct cvma_dircache_stamp *stamp,
                                       const struct cvma_dircache_obj_ops *ops, void **out)
{
    enum cvma_status st = CVMA_E_IO;
    *out = NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = find_fresh(c, tag, dir, stamp, ops);
    if (e != NULL) {
        if ((*out = ops->dup(e->obj)) == NULL) {
            st = CVMA_E_NOMEM;
        } else {
            e->used = ++c->clock;
            st = CVMA_OK;
        }
    }
    pthread_mutex_unlock(&c->mu);
    count(c, st);
    return st;
}

/*
 * True when a file of the stamp changed less than CVMA_DIRCACHE_SETTLE_SECONDS ago: file
 * times advance in clock ticks, so a file rewritten again within the same tick, in place and
 * at the same size, would show the same stamp. Such files are read again until they settle.
 */
static bool too_recent(const struct cvma_dircache_stamp *stamp)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
        return true;
    }
    for (size_t i = 0; i < stamp->n; i++) {
        if (stamp->f[i].present &&
            (stamp->f[i].mtime.tv_sec >= now.tv_sec - CVMA_DIRCACHE_SETTLE_SECONDS ||
             stamp->f[i].ctime.tv_sec >= now.tv_sec - CVMA_DIRCACHE_SETTLE_SECONDS)) {
            return true;
        }
    }
    return false;
}

/* Stores n (taken) under its tag and dir, replacing what was there or the least recently
 * used entry. */
static void store(struct cvma_dircache *c, struct entry *n)
{
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, n->tag, n->dir);
    for (size_t i = 0; e == NULL && i < c->cap; i++) {
        if (c->e[i].tag == NULL) {
            e = &c->e[i];
        }
    }
    if (e == NULL) {
        e = &c->e[0];
        for (size_t i = 1; i < c->cap; i++) {
            if (c->e[i].used < e->used) {
                e = &c->e[i];
            }
        }
    }
    entry_clear(e);
    n->used = ++c->clock;
    *e = *n;
    pthread_mutex_unlock(&c->mu);
}

void cvma_dircache_put_obj(struct cvma_dircache *c, const char *tag, const char *dir,
                           const struct cvma_dircache_stamp *stamp, void *obj,
                           const struct cvma_dircache_obj_ops *ops)
{
    struct entry n = {0};
    /* Nothing decoded while an allocation failed is kept (common/allocfail.h). */
    if (too_recent(stamp) || cvma_allocfail_since_begin() || (n.tag = strdup(tag)) == NULL ||
        (n.dir = strdup(dir)) == NULL) {
        entry_clear(&n);
        ops->free(obj);
        return;
    }
    n.obj = obj;
    n.ops = ops;
    n.stamp = *stamp;
    store(c, &n);
}

/*
 * Watched stamps. An inotify watch on the directory queues an event in the same system call
 * that changes a file of it (written, truncated, renamed, created, removed, its attributes
 * changed) or the directory itself (removed, renamed): a read that finds the queue empty
 * proves that nothing changed since the previous read. The watch sees changes made through
 * the directory's inode only, so it is used only where that is all there is: a local file
 * system (below), a directory named by a path without symbolic links, and files that are not
 * symbolic links; elsewhere every stamp is taken by stat, as before. Whatever a watch could
 * still miss (a parent directory renamed, say) is bounded: a stamp is taken by stat again at
 * least every CVMA_DIRCACHE_RECHECK_SECONDS.
 */

/* File systems whose inotify events cover every change of their files: disk and memory file
 * systems of this kernel (network, FUSE and overlay file systems can change under it). */
static bool local_fs(const char *dir)
{
    static const unsigned long types[] = {
            0xEF53UL,     /* ext2, ext3, ext4 */
            0x58465342UL, /* xfs */
            0x9123683EUL, /* btrfs */
            0x01021994UL, /* tmpfs */
            0xF2F52010UL, /* f2fs */
    };
    struct statfs fs;
    if (statfs(dir, &fs) != 0) {
        return false;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(types); i++) {
        if ((unsigned long)fs.f_type == types[i]) {
            return true;
        }
    }
    return false;
}

/* True when dir, made absolute, is its own real path: no symbolic link, ".", ".." or double
 * slash in it (a link anywhere in the path could be turned to another directory unseen). */
static bool plain_path(const char *dir)
{
    char cwd[PATH_MAX], abs[PATH_MAX], real[PATH_MAX];
    int k;
    if (dir[0] == '/') {
        k = snprintf(abs, sizeof abs, "%s", dir);
    } else {
        if (getcwd(cwd, sizeof cwd) == NULL) {
            return false;
        }
        k = snprintf(abs, sizeof abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, dir);
    }
    if (k < 0 || (size_t)k >= sizeof abs) {
        return false;
    }
    while (k > 1 && abs[k - 1] == '/') {
        abs[--k] = '\0';
    }
    return realpath(abs, real) != NULL && strcmp(abs, real) == 0;
}

/* Reads every queued event (under the lock), moving the gen of the watches they name; an
 * overflowed queue moves them all. A failed read gives up watching for good. */
static void drain(struct cvma_dircache *c)
{
    union {
        struct inotify_event ev;
        char b[4096];
    } u;
    unsigned forks = atomic_load_explicit(&fork_count, memory_order_relaxed);
    if (c->ino >= 0 && c->forks != forks) {
        /* a child of the process that made the queue: a queue of its own, watches anew */
        close(c->ino);
        c->ino = -1;
        for (size_t i = 0; i < WATCHES; i++) {
            c->w[i].wd = -1;
            c->w[i].gen++;
        }
    }
    if (c->ino < 0) {
        return;
    }
    for (;;) {
        ssize_t got = read(c->ino, u.b, sizeof u.b);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (got <= 0) {
            break;
        }
        for (size_t off = 0; off + sizeof(struct inotify_event) <= (size_t)got;) {
            struct inotify_event ev;
            memcpy(&ev, u.b + off, sizeof ev);
            for (size_t i = 0; i < WATCHES; i++) {
                struct watch *w = &c->w[i];
                if (w->dir == NULL || ((ev.mask & IN_Q_OVERFLOW) == 0 && w->wd != ev.wd)) {
                    continue;
                }
                w->gen++;
                if ((ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) != 0 &&
                    w->wd >= 0) {
                    /* the directory is gone from its path: watch whatever is there next */
                    (void)inotify_rm_watch(c->ino, w->wd);
                    w->wd = -1;
                }
            }
            off += sizeof(struct inotify_event) + ev.len;
        }
    }
    /* unreadable: no more watching (every stamp by stat) */
    close(c->ino);
    c->ino = -2;
    for (size_t i = 0; i < WATCHES; i++) {
        c->w[i].wd = -1;
        c->w[i].gen++;
    }
}

/* The watch of dir, added if need be (under the lock); NULL when dir is not watched. */
static struct watch *watch_of(struct cvma_dircache *c, const char *dir)
{
    struct watch *w = NULL;
    if (c->ino == -1) {
        c->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        c->forks = atomic_load_explicit(&fork_count, memory_order_relaxed);
        if (c->ino < 0) {
            c->ino = -2;
        }
    }
    if (c->ino < 0) {
        return NULL;
    }
    for (size_t i = 0; i < WATCHES && w == NULL; i++) {
        if (c->w[i].dir != NULL && strcmp(c->w[i].dir, dir) == 0) {
            w = &c->w[i];
        }
    }
    for (size_t i = 0; i < WATCHES && w == NULL; i++) {
        if (c->w[i].dir == NULL) {
            if ((c->w[i].dir = strdup(dir)) == NULL) {
                return NULL;
            }
            w = &c->w[i];
            w->wd = -1;
            w->unwatchable = !local_fs(dir) || !plain_path(dir);
        }
    }
    if (w == NULL || w->unwatchable) {
        return NULL; /* more directories than watches: the others by stat */
    }
    if (w->wd < 0) {
        w->wd = inotify_add_watch(c->ino, dir,
                                  IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                          IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF |
                                          IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW);
        w->gen++;
        if (w->wd < 0) {
            return NULL; /* tried again on the next stamp */
        }
    }
    return w;
}

/* The memo of (tag, dir, names), or NULL (under the lock). */
static struct memo *memo_of(struct cvma_dircache *c, const char *tag, const char *dir,
                            const char *const *names, size_t n)
{
    for (size_t i = 0; i < MEMOS; i++) {
        struct memo *m = &c->m[i];
        bool same = m->tag != NULL && m->stamp.n == n && strcmp(m->tag, tag) == 0 &&
                    strcmp(m->dir, dir) == 0;
        for (size_t k = 0; same && k < n; k++) {
            same = strcmp(m->names[k], names[k]) == 0;
        }
        if (same) {
            return m;
        }
    }
    return NULL;
}

/* True when none of the files of the stamp is a symbolic link (its target is not watched) or
 * has more than one name. */
static bool no_links(const char *dir, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        char path[PATH_MAX];
        if (!join_into(path, dir, names[i])) {
            return false;
        }
        int r = lstat(path, &sb);
        int e = errno;
        /* a link, or a file with another name elsewhere (changed through that name, the
         * event goes to the other directory) */
        if (r == 0 ? S_ISLNK(sb.st_mode) || (!S_ISDIR(sb.st_mode) && sb.st_nlink > 1)
                   : e != ENOENT) {
            return false;
        }
    }
    return true;
}

static bool recent(const struct timespec *then, const struct timespec *now)
{
    return now->tv_sec - then->tv_sec < CVMA_DIRCACHE_RECHECK_SECONDS ||
           (now->tv_sec - then->tv_sec == CVMA_DIRCACHE_RECHECK_SECONDS &&
            now->tv_nsec < then->tv_nsec);
}

bool cvma_dircache_stamp_watched(struct cvma_dircache *c, const char *tag, const char *dir,
                                 const char *const *names, size_t n,
                                 struct cvma_dircache_stamp *out)
{
    struct timespec now;
    if (c == NULL || dir == NULL || n > CVMA_DIRCACHE_MAX_FILES ||
        clock_gettime(CLOCK_MONOTONIC, &now) != 0) {
        return cvma_dircache_stamp(dir, names, n, out);
    }
    pthread_mutex_lock(&c->mu);
    drain(c);
    struct watch *w = watch_of(c, dir);
    struct memo *m = w != NULL ? memo_of(c, tag, dir, names, n) : NULL;
    if (m != NULL && m->gen == w->gen && recent(&m->taken, &now)) {
        *out = m->stamp;
        pthread_mutex_unlock(&c->mu);
        atomic_fetch_add_explicit(&c->watched, 1, memory_order_relaxed);
        return true;
    }
    uint64_t gen = w != NULL ? w->gen : 0;
    pthread_mutex_unlock(&c->mu);

    /* The stamp by stat, taken after the drain above: an event from now on moves gen. */
    if (!cvma_dircache_stamp(dir, names, n, out)) {
        return false;
    }
    if (w == NULL || !no_links(dir, names, n)) {
        return true;
    }
    pthread_mutex_lock(&c->mu);
    drain(c);
    w = watch_of(c, dir);
    if (w != NULL && w->gen == gen) { /* nothing happened since the drain before the stat */
        if ((m = memo_of(c, tag, dir, names, n)) == NULL) {
            m = &c->m[c->next_memo];
            c->next_memo = (c->next_memo + 1) % MEMOS;
            memo_clear(m);
            bool ok = (m->tag = strdup(tag)) != NULL && (m->dir = strdup(dir)) != NULL;
            for (size_t k = 0; ok && k < n; k++) {
                ok = (m->names[k] = strdup(names[k])) != NULL;
            }
            if (!ok) {
                memo_clear(m);
                m = NULL;
            }
        }
        if (m != NULL) {
            m->stamp = *out;
            m->gen = gen;
            m->taken = now;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return true;
}

uint64_t cvma_dircache_watched(const struct cvma_dircache *c)
{
    return c == NULL ? 0 : atomic_load_explicit(&c->watched, memory_order_relaxed);
}

uint64_t cvma_dircache_hits(const struct cvma_dircache *c)
{
    return c == NULL ? 0 : atomic_load_explicit(&c->hits, memory_order_relaxed);
}

uint64_t cvma_dircache_misses(const struct cvma_dircache *c)
{
    return c == NULL ? 0 : atomic_load_explicit(&c->misses, memory_order_relaxed);
}
