#include "collateral/dircache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct entry {
    char *tag, *dir; /* NULL tag: empty slot */
    struct cvma_dircache_stamp stamp;
    void *obj; /* of ops */
    const struct cvma_dircache_obj_ops *ops;
    uint64_t used;
};

struct cvma_dircache {
    pthread_mutex_t mu; /* guards the slots and the clock */
    struct entry *e;
    size_t cap;
    uint64_t clock;
    atomic_uint_least64_t hits, misses;
};

struct cvma_dircache *cvma_dircache_new(size_t capacity)
{
    struct cvma_dircache *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->cap = capacity ? capacity : 8;
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

void cvma_dircache_free(struct cvma_dircache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->cap; i++) {
        entry_clear(&c->e[i]);
    }
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    free(c);
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
        char *path = cvma_path_join(dir, names[i]);
        if (path == NULL) {
            return false;
        }
        int r = stat(path, &sb);
        int e = errno;
        free(path);
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
    if (too_recent(stamp) || (n.tag = strdup(tag)) == NULL || (n.dir = strdup(dir)) == NULL) {
        entry_clear(&n);
        ops->free(obj);
        return;
    }
    n.obj = obj;
    n.ops = ops;
    n.stamp = *stamp;
    store(c, &n);
}

uint64_t cvma_dircache_hits(const struct cvma_dircache *c)
{
    return c == NULL ? 0 : atomic_load_explicit(&c->hits, memory_order_relaxed);
}

uint64_t cvma_dircache_misses(const struct cvma_dircache *c)
{
    return c == NULL ? 0 : atomic_load_explicit(&c->misses, memory_order_relaxed);
}
