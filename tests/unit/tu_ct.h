/*
 * Tests: Certificate Transparency's published RFC 6962 test vectors (copied values, not
 * recomputed): the 8 leaf inputs, the roots of the trees of size 1..8, the inclusion proofs
 * and the consistency proofs.
 *
 * Sources: google/trillian, merkle/testonly/constants.go (LeafInputs, RootHashes), the same data
 * as transparency-dev/merkle testonly/constants.go and the C++/Python vectors of
 * google/certificate-transparency; the proofs: transparency-dev/merkle, proof/verify_test.go
 * (inclusionProofs, consistencyProofs). Leaf numbers there are 1-based; here 0-based.
 */
#ifndef CVMA_TESTS_TU_CT_H
#define CVMA_TESTS_TU_CT_H

#include "registry/registry.h"
#include "testutil.h"

static const char *const tu_ct_leaf_inputs[8] = {
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
};

/* RootHashes[1..8]: the root of the tree over the first n leaves. */
static const char *const tu_ct_roots[9] = {
        NULL,
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* A published proof: inclusion of leaf a (0-based) in the tree of size b, or consistency of the
 * tree of size a with the tree of size b; its n hashes h. */
struct tu_ct_proof {
    uint64_t a, b;
    size_t n;
    const char *h[3];
};

/* inclusionProofs (leaf made 0-based). */
static const struct tu_ct_proof tu_ct_inclusion[] = {
        {0, 1, 0, {NULL}},
        {0,
         8,
         3,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {5,
         8,
         3,
         {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
        {1,
         5,
         3,
         {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

/* consistencyProofs. */
static const struct tu_ct_proof tu_ct_consistency[] = {
        {1, 1, 0, {NULL}},
        {1,
         8,
         3,
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {6,
         8,
         3,
         {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {2,
         5,
         2,
         {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

/* The leaf hashes of tu_ct_leaf_inputs. */
static inline void tu_ct_leaf_hashes(uint8_t out[8][32])
{
    for (size_t i = 0; i < 8; i++) {
        uint8_t in[16];
        size_t n = 0;
        assert_true(cvma_hex_decode(tu_ct_leaf_inputs[i], in, sizeof in, &n));
        assert_int_equal(n, strlen(tu_ct_leaf_inputs[i]) / 2);
        cvma_merkle_leaf_hash(in, n, out[i]);
    }
}

#endif
