/*
 * RFC 6962 Merkle tree over registry leaves (see registry/registry.h). SHA-256 runs on nettle:
 * no allocation and no provider look-up per hash, which matters for a million leaves and for
 * a proof check measured in microseconds.
 */
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "registry/registry.h"

void cvma_merkle_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[32])
{
    static const uint8_t prefix = 0x00; /* RFC 6962 §2.1: leaf hashes */
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, 1, &prefix);
    sha256_update(&c, len, leaf);
    sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}

void cvma_merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t out[32])
{
    uint8_t buf[65];
    struct sha256_ctx c;
    buf[0] = 0x01; /* RFC 6962 §2.1: interior nodes */
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    sha256_init(&c);
    sha256_update(&c, sizeof buf, buf);
    sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}

void cvma_merkle_cleanup(struct cvma_merkle *t)
{
    if (t == NULL) {
        return;
    }
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

/* Lays out the levels for n leaves; returns the total node count. */
static size_t layout(struct cvma_merkle *t, size_t n)
{
    size_t total = 0, len = n, lvl = 0;
    for (;;) {
        t->level_off[lvl] = total;
        t->level_len[lvl] = len;
        total += len;
        lvl++;
        if (len == 1) {
            break;
        }
        len = (len + 1) / 2;
    }
    t->n_levels = lvl;
    return total;
}

static void hash_up(struct cvma_merkle *t)
{
    for (size_t l = 0; l + 1 < t->n_levels; l++) {
        const uint8_t(*cur)[32] = (const uint8_t(*)[32])t->nodes + t->level_off[l];
        uint8_t(*next)[32] = t->nodes + t->level_off[l + 1];
        size_t len = t->level_len[l];
        for (size_t i = 0; i + 1 < len; i += 2) {
            cvma_merkle_node_hash(cur[i], cur[i + 1], next[i / 2]);
        }
        if (len % 2 == 1) {
            /* The unpaired last node moves up unchanged: RFC 6962 splits at the largest
             * power of two, so it is the root of the right subtree at the next level. */
            memcpy(next[len / 2], cur[len - 1], 32);
        }
    }
}

static enum cvma_status alloc_tree(struct cvma_merkle *t, size_t n)
{
    memset(t, 0, sizeof *t);
    if (n == 0 || n > CVMA_REG_ENTRIES_MAX) {
        return CVMA_E_USAGE;
    }
    size_t total = layout(t, n);
    if ((t->nodes = malloc(total * 32)) == NULL) {
        memset(t, 0, sizeof *t);
        return CVMA_E_NOMEM;
    }
    t->n_leaves = n;
    return CVMA_OK;
}

enum cvma_status cvma_merkle_build_hashes(struct cvma_merkle *t, const uint8_t (*leaves)[32],
                                          size_t n)
{
    enum cvma_status st = alloc_tree(t, n);
    if (st != CVMA_OK) {
        return st;
    }
    memcpy(t->nodes, leaves, n * 32);
    hash_up(t);
    return CVMA_OK;
}

enum cvma_status cvma_merkle_build(struct cvma_merkle *t, const struct cvma_reg_entries *e)
{
    enum cvma_status st = alloc_tree(t, e->n);
    if (st != CVMA_OK) {
        return st;
    }
    for (size_t i = 0; i < e->n; i++) {
        cvma_reg_leaf_hash(&e->v[i], t->nodes[i]);
    }
    hash_up(t);
    return CVMA_OK;
}

void cvma_merkle_root(const struct cvma_merkle *t, uint8_t out[32])
{
    memcpy(out, t->nodes[t->level_off[t->n_levels - 1]], 32);
}

size_t cvma_merkle_path(const struct cvma_merkle *t, size_t index,
                        uint8_t path[CVMA_REG_PATH_MAX][32])
{
    size_t n = 0;
    for (size_t l = 0; l + 1 < t->n_levels; l++) {
        size_t sib = index ^ 1;
        if (sib < t->level_len[l]) {
            memcpy(path[n++], t->nodes[t->level_off[l] + sib], 32);
        }
        index >>= 1;
    }
    return n;
}

bool cvma_merkle_verify(const uint8_t leaf_hash[32], uint64_t leaf_index, uint64_t tree_size,
                        const uint8_t (*path)[32], size_t path_len, const uint8_t root[32])
{
    uint8_t r[32];
    uint64_t fn, sn;

    /* RFC 9162 §2.1.3.2, step by step. */
    if (tree_size == 0 || leaf_index >= tree_size) {
        return false;
    }
    fn = leaf_index;
    sn = tree_size - 1;
    memcpy(r, leaf_hash, 32);
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0) {
            return false; /* a longer path than the tree has levels */
        }
        if ((fn & 1) == 1 || fn == sn) {
            cvma_merkle_node_hash(path[i], r, r);
            if ((fn & 1) == 0) {
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            cvma_merkle_node_hash(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* Public data: an ordinary comparison is fine. */
    return sn == 0 && memcmp(r, root, 32) == 0;
}

/* RFC 9162 §2.1.4.2 steps 2 to 5 from first (the old root when old_size is a power of two,
 * else proof[0], the first node of the old tree): fr and sr get the old and the new root the
 * proof leads to. false when the proof does not fit the sizes. 0 < old_size < new_size. */
static bool consistency_roots(uint64_t old_size, uint64_t new_size, const uint8_t first[32],
                              const uint8_t (*proof)[32], size_t i, size_t n, uint8_t fr[32],
                              uint8_t sr[32])
{
    uint64_t fn, sn;

    memcpy(fr, first, 32);
    memcpy(sr, first, 32);
    fn = old_size - 1;
    sn = new_size - 1;
    while ((fn & 1) == 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < n; i++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) == 1 || fn == sn) {
            cvma_merkle_node_hash(proof[i], fr, fr);
            cvma_merkle_node_hash(proof[i], sr, sr);
            if ((fn & 1) == 0) {
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            cvma_merkle_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0;
}

bool cvma_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                    const uint8_t old_root[32], const uint8_t new_root[32],
                                    const uint8_t (*proof)[32], size_t n)
{
    uint8_t fr[32], sr[32];

    if (old_size > new_size) {
        return false;
    }
    if (old_size == 0) {
        return n == 0; /* tlog-witness: the proof from the empty tree is empty */
    }
    if (old_size == new_size) {
        return n == 0 && memcmp(old_root, new_root, 32) == 0;
    }
    /* RFC 9162 §2.1.4.2. Step 1: a power-of-two old tree is itself the first node. */
    if (n == 0) {
        return false;
    }
    bool pow2 = (old_size & (old_size - 1)) == 0;
    if (!consistency_roots(old_size, new_size, pow2 ? old_root : proof[0], proof, pow2 ? 0 : 1, n,
                           fr, sr)) {
        return false;
    }
    /* Public data: an ordinary comparison is fine. */
    return memcmp(fr, old_root, 32) == 0 && memcmp(sr, new_root, 32) == 0;
}

bool cvma_merkle_consistency_old_root(uint64_t old_size, uint64_t new_size,
                                      const uint8_t new_root[32], const uint8_t (*proof)[32],
                                      size_t n, uint8_t old_root[32])
{
    uint8_t fr[32], sr[32];

    memset(old_root, 0, 32);
    /* A power-of-two old tree is the proof's unstated first node: nothing to compute it from. */
    if (old_size == 0 || old_size >= new_size || (old_size & (old_size - 1)) == 0 || n == 0) {
        return false;
    }
    if (!consistency_roots(old_size, new_size, proof[0], proof, 1, n, fr, sr) ||
        memcmp(sr, new_root, 32) != 0) {
        return false;
    }
    memcpy(old_root, fr, 32);
    return true;
}

/* The largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

void cvma_merkle_subtree(const struct cvma_merkle *t, uint64_t lo, uint64_t hi, uint8_t out[32])
{
    uint64_t n = hi - lo;
    size_t lvl = 0;
    while (lvl + 1 < t->n_levels && ((uint64_t)1 << (lvl + 1)) <= n) {
        lvl++;
    }
    /* A stored node covers D[i*2^l : min((i+1)*2^l, n_leaves)): use it when it is exactly
     * [lo, hi). */
    if ((lo & (((uint64_t)1 << lvl) - 1)) == 0) {
        uint64_t idx = lo >> lvl, end = lo + ((uint64_t)1 << lvl);
        if (end > t->n_leaves) {
            end = t->n_leaves;
        }
        if (end == hi && idx < t->level_len[lvl]) {
            memcpy(out, t->nodes[t->level_off[lvl] + idx], 32);
            return;
        }
    }
    uint8_t l[32], r[32];
    uint64_t k = split_point(n);
    cvma_merkle_subtree(t, lo, lo + k, l);
    cvma_merkle_subtree(t, lo + k, hi, r);
    cvma_merkle_node_hash(l, r, out);
}

/* RFC 6962 §2.1.1 PATH(m, D[lo:hi]), appended to out from *n on. */
static void path_rec(const struct cvma_merkle *t, uint64_t m, uint64_t lo, uint64_t hi,
                     uint8_t out[CVMA_REG_PATH_MAX][32], size_t *n)
{
    if (hi - lo <= 1 || *n >= CVMA_REG_PATH_MAX) {
        return;
    }
    uint64_t k = split_point(hi - lo);
    if (m < k) {
        path_rec(t, m, lo, lo + k, out, n);
        cvma_merkle_subtree(t, lo + k, hi, out[(*n)++]);
    } else {
        path_rec(t, m - k, lo + k, hi, out, n);
        cvma_merkle_subtree(t, lo, lo + k, out[(*n)++]);
    }
}

size_t cvma_merkle_inclusion_proof(const struct cvma_merkle *t, uint64_t index, uint64_t size,
                                   uint8_t out[CVMA_REG_PATH_MAX][32])
{
    size_t n = 0;
    if (size == 0 || size > t->n_leaves || index >= size) {
        return 0;
    }
    path_rec(t, index, 0, size, out, &n);
    return n;
}

/* RFC 6962 §2.1.2 SUBPROOF(m, D[lo:hi], b). */
static void subproof(const struct cvma_merkle *t, uint64_t m, uint64_t lo, uint64_t hi, bool b,
                     uint8_t out[CVMA_REG_PATH_MAX][32], size_t *n)
{
    if (*n >= CVMA_REG_PATH_MAX) {
        return;
    }
    if (m == hi - lo) {
        if (!b) {
            cvma_merkle_subtree(t, lo, hi, out[(*n)++]);
        }
        return;
    }
    uint64_t k = split_point(hi - lo);
    if (m <= k) {
        subproof(t, m, lo, lo + k, b, out, n);
        if (*n < CVMA_REG_PATH_MAX) {
            cvma_merkle_subtree(t, lo + k, hi, out[(*n)++]);
        }
    } else {
        subproof(t, m - k, lo + k, hi, false, out, n);
        if (*n < CVMA_REG_PATH_MAX) {
            cvma_merkle_subtree(t, lo, lo + k, out[(*n)++]);
        }
    }
}

size_t cvma_merkle_consistency_proof(const struct cvma_merkle *t, uint64_t old_size,
                                     uint64_t new_size, uint8_t out[CVMA_REG_PATH_MAX][32])
{
    size_t n = 0;
    if (old_size == 0 || old_size > new_size || new_size > t->n_leaves) {
        return 0;
    }
    subproof(t, old_size, 0, new_size, true, out, &n);
    return n;
}
