#include "crypto/chain_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/allocfail.h"

/* A stored value. refs counts the cache's own reference (while it sits in the table) plus
 * every reference handed out; whoever drops it to zero frees the value. Only the count is
 * touched without the cache's lock, so a node may outlive its cache. */
struct cvma_chain_ref {
    atomic_size_t refs;
    void *val;
    void (*free_fn)(void *);
};

struct slot {
    uint8_t key[32];
    struct cvma_chain_ref *node; /* NULL: empty */
    uint64_t used;
};

struct cvma_chain_cache {
    pthread_mutex_t mu; /* guards everything below */
    struct slot *s;
    size_t cap;
    uint64_t clock;
    /* Counted without the lock by readers (cvma_chain_cache_hits/_misses): relaxed atomics. */
    atomic_size_t hits, misses;
};

struct cvma_chain_cache *cvma_chain_cache_new(size_t capacity)
{
    struct cvma_chain_cache *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    if (capacity == 0) {
        capacity = 1;
    }
    if ((c->s = calloc(capacity, sizeof *c->s)) == NULL) {
        free(c);
        return NULL;
    }
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->s);
        free(c);
        return NULL;
    }
    c->cap = capacity;
    return c;
}

void cvma_chain_cache_free(struct cvma_chain_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->cap; i++) {
        cvma_chain_ref_release(c->s[i].node);
    }
    pthread_mutex_destroy(&c->mu);
    free(c->s);
    free(c);
}

static struct cvma_chain_ref *ref_take(struct cvma_chain_ref *r)
{
    /* Relaxed is enough to add: the caller already holds a reference (or the lock while the
     * cache holds one), so the count cannot reach zero meanwhile. */
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    return r;
}

void cvma_chain_ref_release(struct cvma_chain_ref *r)
{
    if (r == NULL) {
        return;
    }
    /* acq_rel: every use of the value by other holders happens before the free. */
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
        if (r->free_fn != NULL) {
            r->free_fn(r->val);
        }
        free(r);
    }
}

void *cvma_chain_ref_val(const struct cvma_chain_ref *r)
{
    return r != NULL ? r->val : NULL;
}

struct cvma_chain_ref *cvma_chain_cache_get(struct cvma_chain_cache *c, const uint8_t key[32])
{
    struct cvma_chain_ref *r = NULL;
    if (c == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->cap; i++) {
        if (c->s[i].node != NULL && memcmp(c->s[i].key, key, 32) == 0) {
            c->s[i].used = ++c->clock;
            r = ref_take(c->s[i].node);
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    atomic_fetch_add_explicit(r != NULL ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return r;
}

struct cvma_chain_ref *cvma_chain_cache_put(struct cvma_chain_cache *c, const uint8_t key[32],
                                            void *val, void (*free_fn)(void *))
{
    struct cvma_chain_ref *r = malloc(sizeof *r), *old = NULL;
    size_t victim = 0;
    if (r == NULL) {
        if (free_fn != NULL) {
            free_fn(val);
        }
        return NULL;
    }
    /* Made while an allocation failed (OpenSSL may have marked a certificate processed
     * without finishing): the caller's to use this once, never kept (common/allocfail.h). */
    if (cvma_allocfail_since_begin()) {
        c = NULL;
    }
    r->val = val;
    r->free_fn = free_fn;
    atomic_init(&r->refs, c != NULL ? 2 : 1); /* the caller's, and the table's */
    if (c == NULL) {
        return r;
    }
    pthread_mutex_lock(&c->mu);
    /* The same key (another thread verified the same bytes meanwhile), else an empty slot,
     * else the least recently used. */
    for (size_t i = 0; i < c->cap; i++) {
        if (c->s[i].node != NULL && memcmp(c->s[i].key, key, 32) == 0) {
            victim = i;
            break;
        }
        if (c->s[victim].node == NULL) {
            continue;
        }
        if (c->s[i].node == NULL || c->s[i].used < c->s[victim].used) {
            victim = i;
        }
    }
    struct slot *s = &c->s[victim];
    old = s->node;
    memcpy(s->key, key, 32);
    s->node = r;
    s->used = ++c->clock;
    pthread_mutex_unlock(&c->mu);
    /* Outside the lock: a free function may be slow, and must not run under our mutex. */
    cvma_chain_ref_release(old);
    return r;
}

size_t cvma_chain_cache_hits(struct cvma_chain_cache *c)
{
    return c != NULL ? atomic_load_explicit(&c->hits, memory_order_relaxed) : 0;
}

size_t cvma_chain_cache_misses(struct cvma_chain_cache *c)
{
    return c != NULL ? atomic_load_explicit(&c->misses, memory_order_relaxed) : 0;
}

size_t cvma_chain_cache_count(struct cvma_chain_cache *c)
{
    size_t n = 0;
    if (c != NULL) {
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->cap; i++) {
            n += c->s[i].node != NULL;
        }
        pthread_mutex_unlock(&c->mu);
    }
    return n;
}
