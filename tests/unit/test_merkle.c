/*
 * src/registry/merkle.c against Certificate Transparency's published RFC 6962 test vectors:
 * the 8 leaf inputs, every complete-subtree node hash, the roots of the trees of size 1..8,
 * and the audit paths (inclusion proofs) with the corruptions the reference tests try.
 *
 * Sources (copied values, not recomputed here):
 *   leaves, node hashes, roots: google/trillian, merkle/testonly/constants.go (LeafInputs,
 *     NodeHashes, RootHashes), the same data as transparency-dev/merkle testonly/constants.go
 *     and the C++/Python vectors of google/certificate-transparency;
 *   inclusion proofs and their corruptions: transparency-dev/merkle, proof/verify_test.go
 *     (inclusionProofs, corruptInclusionProof). Its leaf numbers are 1-based; ours 0-based.
 * Consistency proofs (same file) are not tested: the registry has no consistency proofs.
 * RFC 6962's empty tree (root = SHA-256 of "") is not tested either: a registry is never
 * empty, and building one refuses n = 0 (checked below).
 */
#include "registry/registry.h"
#include "testutil.h"
#include "tu_ct.h"

/* NodeHashes: level 0 = leaf hashes, then each complete subtree up to the root of 8. */
static const char *const level0[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
static const char *const level1[4] = {
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
};
static const char *const level2[2] = {
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
};
static const char *const level3 =
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

static void assert_hash(const uint8_t got[32], const char *want, const char *what, size_t i)
{
    char hex[65];
    cvma_hex_encode(got, 32, hex, sizeof hex);
    if (strcmp(hex, want) != 0) {
        fail_msg("%s %zu: %s, want %s", what, i, hex, want);
    }
}

static void test_ct_leaf_and_node_hashes(void **state)
{
    (void)state;
    uint8_t l0[8][32], l1[4][32], l2[2][32], l3[32];
    tu_ct_leaf_hashes(l0);
    for (size_t i = 0; i < 8; i++) {
        assert_hash(l0[i], level0[i], "leaf hash", i);
    }
    for (size_t i = 0; i < 4; i++) {
        cvma_merkle_node_hash(l0[2 * i], l0[2 * i + 1], l1[i]);
        assert_hash(l1[i], level1[i], "level-1 node", i);
    }
    for (size_t i = 0; i < 2; i++) {
        cvma_merkle_node_hash(l1[2 * i], l1[2 * i + 1], l2[i]);
        assert_hash(l2[i], level2[i], "level-2 node", i);
    }
    cvma_merkle_node_hash(l2[0], l2[1], l3);
    assert_hash(l3, level3, "level-3 node", 0);
}

static void test_ct_roots_of_sizes_1_to_8(void **state)
{
    (void)state;
    uint8_t leaves[8][32], root[32];
    struct cvma_merkle t;
    tu_ct_leaf_hashes(leaves);
    for (size_t n = 1; n <= 8; n++) {
        assert_int_equal(cvma_merkle_build_hashes(&t, (const uint8_t(*)[32])leaves, n), CVMA_OK);
        cvma_merkle_root(&t, root);
        assert_hash(root, tu_ct_roots[n], "root of size", n);
        cvma_merkle_cleanup(&t);
    }
    assert_int_equal(cvma_merkle_build_hashes(&t, (const uint8_t(*)[32])leaves, 0), CVMA_E_USAGE);
}

/* Our audit paths equal the published ones, and each verifies. */
static void test_ct_inclusion_proofs_are_produced_and_verify(void **state)
{
    (void)state;
    uint8_t leaves[8][32], root[32], path[CVMA_REG_PATH_MAX][32], want[3][32];
    tu_ct_leaf_hashes(leaves);
    for (size_t k = 0; k < CVMA_ARRAY_LEN(tu_ct_inclusion); k++) {
        struct cvma_merkle t;
        assert_int_equal(cvma_merkle_build_hashes(&t, (const uint8_t(*)[32])leaves,
                                                  (size_t)tu_ct_inclusion[k].b),
                         CVMA_OK);
        size_t n = cvma_merkle_path(&t, (size_t)tu_ct_inclusion[k].a, path);
        cvma_merkle_cleanup(&t);
        assert_int_equal(n, tu_ct_inclusion[k].n);
        for (size_t i = 0; i < n; i++) {
            tu_hex(tu_ct_inclusion[k].h[i], want[i], 32);
            assert_memory_equal(path[i], want[i], 32);
        }
        tu_hex(tu_ct_roots[tu_ct_inclusion[k].b], root, 32);
        assert_true(cvma_merkle_verify(leaves[tu_ct_inclusion[k].a], tu_ct_inclusion[k].a,
                                       tu_ct_inclusion[k].b, (const uint8_t(*)[32])want, n, root));
    }
}

/* corruptInclusionProof: every probe must fail. */
static void test_ct_corrupted_inclusion_proofs_fail(void **state)
{
    (void)state;
    uint8_t leaves[8][32], root[32], empty_root[32], some[32], wrong_leaf[32];
    uint8_t p[5][32]; /* room for one extra element either side */
    tu_ct_leaf_hashes(leaves);
    tu_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", empty_root, 32);
    tu_hex("abacaba000000000000000000000000000000000000000000060061e00123456", some, 32);
    cvma_merkle_leaf_hash((const uint8_t *)"WrongLeaf", 9, wrong_leaf);
    for (size_t k = 0; k < CVMA_ARRAY_LEN(tu_ct_inclusion); k++) {
        const uint64_t i = tu_ct_inclusion[k].a, s = tu_ct_inclusion[k].b;
        const size_t n = tu_ct_inclusion[k].n;
        const uint8_t *leaf = leaves[i];
        const uint8_t(*path)[32] = (const uint8_t(*)[32])p + 1;
        tu_hex(tu_ct_roots[s], root, 32);
        for (size_t j = 0; j < n; j++) {
            tu_hex(tu_ct_inclusion[k].h[j], p[1 + j], 32);
        }
        assert_true(cvma_merkle_verify(leaf, i, s, path, n, root));
        /* Wrong leaf index. */
        assert_false(cvma_merkle_verify(leaf, i - 1, s, path, n, root));
        assert_false(cvma_merkle_verify(leaf, i + 1, s, path, n, root));
        assert_false(cvma_merkle_verify(leaf, i ^ 2, s, path, n, root));
        /* Wrong tree height. */
        assert_false(cvma_merkle_verify(leaf, i, s * 2, path, n, root));
        assert_false(cvma_merkle_verify(leaf, i, s / 2, path, n, root));
        /* Wrong leaf or root. */
        assert_false(cvma_merkle_verify(wrong_leaf, i, s, path, n, root));
        assert_false(cvma_merkle_verify(leaf, i, s, path, n, empty_root));
        assert_false(cvma_merkle_verify(leaf, i, s, path, n, some));
        /* The root appended, or put in front. */
        memcpy(p[1 + n], root, 32);
        assert_false(cvma_merkle_verify(leaf, i, s, path, n + 1, root));
        memcpy(p[0], root, 32);
        assert_false(cvma_merkle_verify(leaf, i, s, (const uint8_t(*)[32])p, n + 1, root));
        /* One bit flipped in each element. */
        for (size_t j = 0; j < n; j++) {
            p[1 + j][0] ^= 8;
            assert_false(cvma_merkle_verify(leaf, i, s, path, n, root));
            p[1 + j][0] ^= 8;
        }
        /* The last element removed; another inserted after the first. */
        if (n > 0) {
            assert_false(cvma_merkle_verify(leaf, i, s, path, n - 1, root));
        }
        if (n > 1) {
            uint8_t ins[4][32];
            memcpy(ins[0], p[1], 32);
            memcpy(ins[1], some, 32);
            memcpy(ins[2], p[2], 32);
            memcpy(ins[3], p[3], 32);
            assert_false(cvma_merkle_verify(leaf, i, s, (const uint8_t(*)[32])ins, n + 1, root));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ct_leaf_and_node_hashes),
            cmocka_unit_test(test_ct_roots_of_sizes_1_to_8),
            cmocka_unit_test(test_ct_inclusion_proofs_are_produced_and_verify),
            cmocka_unit_test(test_ct_corrupted_inclusion_proofs_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
