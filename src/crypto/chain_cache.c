#include "crypto/chain_cache.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    uint8_t key[32];
    void *val;
    void (*free_fn)(void *);
    uint64_t used;
};

struct cvma_chain_cache {
    struct entry *e;
    size_t cap;
    uint64_t clock;
    size_t hits;
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
    if ((c->e = calloc(capacity, sizeof *c->e)) == NULL) {
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
        if (c->e[i].val != NULL && c->e[i].free_fn != NULL) {
            c->e[i].free_fn(c->e[i].val);
        }
    }
    free(c->e);
    free(c);
}

void *cvma_chain_cache_get(struct cvma_chain_cache *c, const uint8_t key[32])
{
    if (c == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < c->cap; i++) {
        if (c->e[i].val != NULL && memcmp(c->e[i].key, key, 32) == 0) {
            c->e[i].used = ++c->clock;
            c->hits++;
            return c->e[i].val;
        }
    }
    return NULL;
}

void cvma_chain_cache_put(struct cvma_chain_cache *c, const uint8_t key[32], void *val,
                          void (*free_fn)(void *))
{
    size_t victim = 0;
    if (c == NULL) {
        if (free_fn != NULL) {
            free_fn(val);
        }
        return;
    }
    for (size_t i = 0; i < c->cap; i++) {
        if (c->e[i].val == NULL) {
            victim = i;
            break;
        }
        if (c->e[i].used < c->e[victim].used) {
            victim = i;
        }
    }
    struct entry *e = &c->e[victim];
    if (e->val != NULL && e->free_fn != NULL) {
        e->free_fn(e->val);
    }
    memcpy(e->key, key, 32);
    e->val = val;
    e->free_fn = free_fn;
    e->used = ++c->clock;
}

size_t cvma_chain_cache_hits(const struct cvma_chain_cache *c)
{
    return c != NULL ? c->hits : 0;
}
