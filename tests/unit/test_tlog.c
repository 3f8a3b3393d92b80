/*
 * src/tlog and the consistency proofs of src/registry/merkle.c:
 *   - RFC 6962 / RFC 9162 consistency and inclusion proofs against Certificate Transparency's
 *     published vectors (transparency-dev/merkle testonly, the same data as
 *     google/certificate-transparency's C++ tests; leaf numbers there are 1-based),
 *     produced by us and verified by us, plus corruptions and every pair up to 70 leaves;
 *   - signed notes, cosignatures and keys (C2SP signed-note, tlog-cosignature), including
 *     the Go sumdb example key of signed-note's test data;
 *   - tile paths (tlog-tiles' own example) and a log saved and loaded through tiles.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/base64.h"
#include "registry/bind_internal.h"
#include "registry/registry.h"
#include "testutil.h"
#include "tlog/tlog.h"
#include "tu_ct.h"
#include "tu_logfx.h"
#include "tu_server.h"

static void ct_tree(struct cvma_merkle *t)
{
    uint8_t leaves[8][32];
    tu_ct_leaf_hashes(leaves);
    assert_int_equal(cvma_merkle_build_hashes(t, (const uint8_t(*)[32])leaves, 8), CVMA_OK);
}

static void test_ct_consistency_vectors(void **state)
{
    (void)state;
    struct cvma_merkle t;
    uint8_t got[CVMA_REG_PATH_MAX][32], want[3][32], r1[32], r2[32];
    ct_tree(&t);
    for (size_t v = 0; v < CVMA_ARRAY_LEN(tu_ct_consistency); v++) {
        const struct tu_ct_proof *c = &tu_ct_consistency[v];
        size_t n = cvma_merkle_consistency_proof(&t, c->a, c->b, got);
        assert_int_equal(n, c->n);
        for (size_t i = 0; i < c->n; i++) {
            tu_hex(c->h[i], want[i], 32);
            assert_memory_equal(got[i], want[i], 32);
        }
        tu_hex(tu_ct_roots[c->a], r1, 32);
        tu_hex(tu_ct_roots[c->b], r2, 32);
        assert_true(cvma_merkle_verify_consistency(c->a, c->b, r1, r2, (const uint8_t(*)[32])want,
                                                   c->n));
        if (c->n > 0) {
            /* Any flipped bit, a dropped hash or swapped roots fail. */
            for (size_t i = 0; i < c->n; i++) {
                want[i][7] ^= 1;
                assert_false(cvma_merkle_verify_consistency(c->a, c->b, r1, r2,
                                                            (const uint8_t(*)[32])want, c->n));
                want[i][7] ^= 1;
            }
            assert_false(cvma_merkle_verify_consistency(c->a, c->b, r1, r2,
                                                        (const uint8_t(*)[32])want, c->n - 1));
            assert_false(cvma_merkle_verify_consistency(c->a, c->b, r2, r1,
                                                        (const uint8_t(*)[32])want, c->n));
        }
    }
    /* Same size, other root: never consistent. A shrinking tree: never. */
    tu_hex(tu_ct_roots[4], r1, 32);
    tu_hex(tu_ct_roots[5], r2, 32);
    assert_false(cvma_merkle_verify_consistency(4, 4, r1, r2, NULL, 0));
    assert_false(cvma_merkle_verify_consistency(5, 4, r2, r1, NULL, 0));
    cvma_merkle_cleanup(&t);
}

static void test_ct_inclusion_vectors_at_smaller_sizes(void **state)
{
    (void)state;
    struct cvma_merkle t;
    uint8_t got[CVMA_REG_PATH_MAX][32], want[32];
    ct_tree(&t);
    /* From 1: the first vector is the one-leaf tree, which has no path to produce. */
    for (size_t v = 1; v < CVMA_ARRAY_LEN(tu_ct_inclusion); v++) {
        const struct tu_ct_proof *c = &tu_ct_inclusion[v];
        size_t n = cvma_merkle_inclusion_proof(&t, c->a, c->b, got);
        assert_int_equal(n, c->n);
        for (size_t i = 0; i < c->n; i++) {
            tu_hex(c->h[i], want, 32);
            assert_memory_equal(got[i], want, 32);
        }
    }
    cvma_merkle_cleanup(&t);
}

/* Every (m, n) up to 70 leaves: subtree roots, inclusion and consistency proofs agree. */
static void test_all_pairs_up_to_70(void **state)
{
    (void)state;
    enum { N = 70 };
    uint8_t leaves[N][32], rootsz[N + 1][32], path[CVMA_REG_PATH_MAX][32];
    struct cvma_merkle big;
    for (int i = 0; i < N; i++) {
        uint8_t b = (uint8_t)i;
        cvma_merkle_leaf_hash(&b, 1, leaves[i]);
    }
    for (int n = 1; n <= N; n++) {
        struct cvma_merkle t;
        assert_int_equal(cvma_merkle_build_hashes(&t, (const uint8_t(*)[32])leaves, (size_t)n),
                         CVMA_OK);
        cvma_merkle_root(&t, rootsz[n]);
        cvma_merkle_cleanup(&t);
    }
    assert_int_equal(cvma_merkle_build_hashes(&big, (const uint8_t(*)[32])leaves, N), CVMA_OK);
    for (uint64_t n = 1; n <= N; n++) {
        uint8_t r[32];
        cvma_merkle_subtree(&big, 0, n, r);
        assert_memory_equal(r, rootsz[n], 32);
        for (uint64_t m = 1; m <= n; m++) {
            size_t k = cvma_merkle_consistency_proof(&big, m, n, path);
            assert_true(cvma_merkle_verify_consistency(m, n, rootsz[m], rootsz[n],
                                                       (const uint8_t(*)[32])path, k));
            if (m < n) {
                assert_false(cvma_merkle_verify_consistency(m, n, rootsz[m], rootsz[n - 1],
                                                            (const uint8_t(*)[32])path, k));
                /* The old root the proof pins, where the proof holds it (m not a power of
                 * two), and nothing for another new root. */
                bool pow2 = (m & (m - 1)) == 0;
                assert_int_equal(cvma_merkle_consistency_old_root(m, n, rootsz[n],
                                                                  (const uint8_t(*)[32])path, k, r),
                                 !pow2);
                if (!pow2) {
                    assert_memory_equal(r, rootsz[m], 32);
                }
                assert_false(cvma_merkle_consistency_old_root(m, n, rootsz[n - 1],
                                                              (const uint8_t(*)[32])path, k, r));
            }
            size_t p = cvma_merkle_inclusion_proof(&big, m - 1, n, path);
            assert_true(cvma_merkle_verify(leaves[m - 1], m - 1, n, (const uint8_t(*)[32])path, p,
                                           rootsz[n]));
        }
    }
    cvma_merkle_cleanup(&big);
}

static void test_tile_paths(void **state)
{
    (void)state;
    char p[128];
    assert_true(cvma_tlog_tile_path(0, 1234067, 0, p, sizeof p));
    assert_string_equal(p, "tile/0/x001/x234/067");
    assert_true(cvma_tlog_tile_path(0, 0, 0, p, sizeof p));
    assert_string_equal(p, "tile/0/000");
    assert_true(cvma_tlog_tile_path(2, 1000, 17, p, sizeof p));
    assert_string_equal(p, "tile/2/x001/000.p/17");
    assert_true(cvma_tlog_tile_path(-1, 5, 3, p, sizeof p));
    assert_string_equal(p, "tile/entries/005.p/3");
}

/* The example key of Go's golang.org/x/mod/sumdb/note documentation. */
static void test_go_example_vkey_and_note(void **state)
{
    (void)state;
    static const char vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    static const char msg[] = "If you think cryptography is the answer to your problem,\n"
                              "then you don't know what your problem is.\n"
                              "\n"
                              "\xe2\x80\x94 PeterNeumann "
                              "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                              "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    struct cvma_note_vkey k;
    struct cvma_note n;
    char err[200];
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), &k, err, sizeof err));
    assert_string_equal(k.name, "PeterNeumann");
    assert_int_equal(k.id, 0xc74f20a3);
    assert_int_equal(cvma_note_parse((const uint8_t *)msg, strlen(msg), &n, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_note_check_sig(&n, &k), CVMA_NOTE_VALID);
    n.text[0] = 'i'; /* the text signed is exactly what is checked */
    assert_int_equal(cvma_note_check_sig(&n, &k), CVMA_NOTE_INVALID);
    cvma_note_cleanup(&n);
    /* Its signer key signs the same text to the same signature (Ed25519 is deterministic). */
    static const char skey[] =
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    struct cvma_note_skey sk;
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));
    assert_memory_equal(sk.v.pub, k.pub, 32);
    char *line = cvma_note_sign_line(&sk, msg, 99);
    assert_non_null(line);
    assert_string_equal(line, msg + 100);
    free(line);
    cvma_note_skey_cleanup(&sk);
    /* A key ID that does not match the key is refused. */
    assert_false(cvma_note_vkey_parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
                                      "LDE4izWy10TW",
                                      66, &k, err, sizeof err));
}

/* A NUL inside a signer's or a key's name would cut the name short ("Peter\0x" is not
 * "Peter"): refused, as any other byte a name may not hold. */
static void test_names_with_a_nul_are_refused(void **state)
{
    (void)state;
    static const char vkey[] =
            "PeterNeumann\0x+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    static const char skey[] =
            "PRIVATE+KEY+PeterNeumann\0x+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    static const char msg[] = "If you think cryptography is the answer to your problem,\n"
                              "then you don't know what your problem is.\n"
                              "\n"
                              "\xe2\x80\x94 PeterNeumann\0x "
                              "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                              "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    struct cvma_note_vkey k;
    struct cvma_note_skey sk;
    struct cvma_note n;
    char err[200];
    assert_false(cvma_note_vkey_parse(vkey, sizeof vkey - 1, &k, err, sizeof err));
    assert_false(cvma_note_skey_parse(skey, sizeof skey - 1, &sk, err, sizeof err));
    assert_int_equal(cvma_note_parse((const uint8_t *)msg, sizeof msg - 1, &n, err, sizeof err),
                     CVMA_REJECTED);
}

/* A checkpoint whose origin line holds a NUL is refused: the origin would be cut short. */
static void test_checkpoint_parse_refuses_an_origin_with_a_nul(void **state)
{
    (void)state;
    static const char cp[] = "example.com/a\0b\n2\n54P82ErB+rn/Xd7y764LSt1ueAsYz0FRbWSFGZbfgiI=\n";
    struct cvma_checkpoint c;
    char err[200];
    assert_false(cvma_checkpoint_parse(cp, sizeof cp - 1, &c, err, sizeof err));
    static const char ok[] = "example.com/a\n2\n54P82ErB+rn/Xd7y764LSt1ueAsYz0FRbWSFGZbfgiI=\n";
    assert_true(cvma_checkpoint_parse(ok, sizeof ok - 1, &c, err, sizeof err));
    assert_string_equal(c.origin, "example.com/a");
}

/* A note refused at a later signature line gives back none of the lines before it. */
static void test_note_parse_gives_back_nothing_when_it_refuses(void **state)
{
    (void)state;
    static const char msg[] = "text\n"
                              "\n"
                              "\xe2\x80\x94 PeterNeumann "
                              "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                              "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
                              "\xe2\x80\x94 PeterNeumann unterminated";
    static const struct cvma_note zero;
    struct cvma_note n;
    char err[200];
    memset(&n, 0xa5, sizeof n);
    assert_int_equal(cvma_note_parse((const uint8_t *)msg, strlen(msg), &n, err, sizeof err),
                     CVMA_REJECTED);
    assert_memory_equal(&n, &zero, sizeof n);
}

#define TEST_HASH_B64 "54P82ErB+rn/Xd7y764LSt1ueAsYz0FRbWSFGZbfgiI="

/*
 * A tlog-proof refused after its index and hashes were read (at its checkpoint note, or at a
 * later hash line) gives back none of them; an accepted one gives back all.
 */
static void test_tlog_proof_parse_gives_back_nothing_when_it_refuses(void **state)
{
    (void)state;
    static const char *const refused[] = {
            /* the note's last signature line is unterminated */
            CVMA_TLOG_PROOF_HEADER "\nindex 5\n" TEST_HASH_B64 "\n" TEST_HASH_B64 "\n\n"
                                   "example.com/log\n9\n" TEST_HASH_B64 "\n\n"
                                   "\xe2\x80\x94 PeterNeumann unterminated",
            /* a valid note whose text is not a checkpoint */
            CVMA_TLOG_PROOF_HEADER "\nindex 5\n" TEST_HASH_B64 "\n\n"
                                   "not a checkpoint\n\n"
                                   "\xe2\x80\x94 PeterNeumann "
                                   "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                                   "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            /* the third hash line is not base64 of 32 bytes */
            CVMA_TLOG_PROOF_HEADER "\nindex 5\n" TEST_HASH_B64 "\n" TEST_HASH_B64 "\nnope\n\n",
    };
    static const char accepted[] =
            CVMA_TLOG_PROOF_HEADER "\nindex 5\n" TEST_HASH_B64 "\n" TEST_HASH_B64 "\n\n"
                                   "example.com/log\n9\n" TEST_HASH_B64 "\n\n"
                                   "\xe2\x80\x94 PeterNeumann "
                                   "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                                   "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    static struct cvma_tlog_proof zero, pr;
    char err[200];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        memset(&pr, 0xa5, sizeof pr);
        assert_int_equal(cvma_tlog_proof_parse((const uint8_t *)refused[i], strlen(refused[i]), &pr,
                                               err, sizeof err),
                         CVMA_REJECTED);
        if (memcmp(&pr, &zero, sizeof pr) != 0) {
            fail_msg("refused proof %zu (%s): output not cleared", i, err);
        }
    }
    memset(&pr, 0xa5, sizeof pr);
    assert_int_equal(cvma_tlog_proof_parse((const uint8_t *)accepted, strlen(accepted), &pr, err,
                                           sizeof err),
                     CVMA_OK);
    assert_int_equal(pr.index, 5);
    assert_int_equal(pr.n_hashes, 2);
    assert_int_equal(pr.cp.size, 9);
    assert_string_equal(pr.cp.origin, "example.com/log");
    assert_int_equal(pr.note.n_sigs, 1);
    cvma_tlog_proof_cleanup(&pr);
}

/*
 * A witness add-checkpoint request refused after "old N" and some proof lines were read
 * gives back neither the size nor any hash; an accepted one gives back all.
 */
static void test_witness_parse_request_gives_back_nothing_when_it_refuses(void **state)
{
    (void)state;
    static const char *const refused[] = {
            /* the third proof line is not base64 of 32 bytes */
            "old 7\n" TEST_HASH_B64 "\n" TEST_HASH_B64 "\nnope\n\ncheckpoint",
            /* no blank line before the checkpoint: the last line is unterminated */
            "old 7\n" TEST_HASH_B64 "\n" TEST_HASH_B64 "\ncheckpoint",
    };
    static const char accepted[] = "old 7\n" TEST_HASH_B64 "\n" TEST_HASH_B64 "\n\ncheckpoint";
    static uint8_t proof[CVMA_TLOG_PROOF_MAX][32], zero_proof[CVMA_TLOG_PROOF_MAX][32];
    static const struct cvma_span zero_span;
    uint64_t old;
    size_t n_proof;
    struct cvma_span cp;
    char err[200];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        old = 0xa5a5a5a5;
        n_proof = 0xa5;
        memset(proof, 0xa5, sizeof proof);
        memset(&cp, 0xa5, sizeof cp);
        assert_false(cvma_witness_parse_request((const uint8_t *)refused[i], strlen(refused[i]),
                                                &old, proof, &n_proof, &cp, err, sizeof err));
        assert_int_equal(old, 0);
        assert_int_equal(n_proof, 0);
        assert_memory_equal(proof, zero_proof, sizeof proof);
        assert_memory_equal(&cp, &zero_span, sizeof cp);
    }
    /* An empty POST body reaches the parser as (NULL, 0): refused, no pointer arithmetic on
     * NULL (UBSan stopped the witness server here). */
    assert_false(cvma_witness_parse_request(NULL, 0, &old, proof, &n_proof, &cp, err, sizeof err));
    assert_string_equal(err, "request: empty");
    assert_true(cvma_witness_parse_request((const uint8_t *)accepted, strlen(accepted), &old, proof,
                                           &n_proof, &cp, err, sizeof err));
    assert_int_equal(old, 7);
    assert_int_equal(n_proof, 2);
    assert_memory_equal(proof[0], proof[1], 32);
    assert_int_equal(cp.len, strlen("checkpoint"));
    assert_memory_equal(cp.p, "checkpoint", cp.len);
}

/* Refusals that say what is wrong: a 64th proof hash is one too many, not bad base64; a tree
 * size or index out of range or with a leading zero is not called missing or not a number;
 * a consistency proof with a duplicate key says so, not "not a JSON object". */
static void test_refusals_say_what_is_wrong(void **state)
{
    (void)state;
    const size_t cap = 8 + 65 * (sizeof TEST_HASH_B64) + 16;
    char err[300] = "", *req = malloc(cap);
    uint64_t old;
    size_t n_proof, off;
    struct cvma_span cp;
    static uint8_t proof[CVMA_TLOG_PROOF_MAX][32];
    assert_non_null(req);
    off = (size_t)snprintf(req, cap, "old 1\n");
    for (int i = 0; i < CVMA_TLOG_PROOF_MAX + 1; i++) {
        off += (size_t)snprintf(req + off, cap - off, "%s\n", TEST_HASH_B64);
    }
    off += (size_t)snprintf(req + off, cap - off, "\ncheckpoint");
    assert_false(cvma_witness_parse_request((const uint8_t *)req, off, &old, proof, &n_proof, &cp,
                                            err, sizeof err));
    assert_non_null(strstr(err, "more than 63 proof hashes"));
    free(req);

    struct cvma_checkpoint c;
    static const char big[] = "o\n9223372036854775808\n" TEST_HASH_B64 "\n";
    assert_false(cvma_checkpoint_parse(big, sizeof big - 1, &c, err, sizeof err));
    assert_non_null(strstr(err, "at most 2^63-1"));

    struct cvma_tlog_proof pr;
    static const char idx[] = CVMA_TLOG_PROOF_HEADER "\nindex 04\n\n";
    assert_int_equal(
            cvma_tlog_proof_parse((const uint8_t *)idx, sizeof idx - 1, &pr, err, sizeof err),
            CVMA_REJECTED);
    assert_non_null(strstr(err, "without leading zeros"));
    cvma_tlog_proof_cleanup(&pr);

    struct cvma_tlog_consistency cons;
    static const char dup[] = "{\"old_size\": 1, \"old_size\": 2, \"new_size\": 3, \"hashes\": []}";
    assert_false(cvma_tlog_consistency_parse((const uint8_t *)dup, sizeof dup - 1, &cons, err,
                                             sizeof err));
    assert_non_null(strstr(err, "duplicate"));
}

static void test_keygen_sign_cosign(void **state)
{
    (void)state;
    char *skey = NULL, *vkey = NULL, *cp = NULL, *sig = NULL, *cosig = NULL, err[200];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv;
    struct cvma_checkpoint c = {.size = 42};
    struct cvma_note n;
    uint64_t ts = 0;

    assert_int_equal(cvma_note_keygen("bad name", &skey, &vkey, err, sizeof err), CVMA_E_USAGE);
    assert_int_equal(cvma_note_keygen("example.com/log", &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), &vk, err, sizeof err));
    free(skey);
    free(vkey);
    assert_int_equal(cvma_note_keygen("witness.example/w1", &skey, &vkey, err, sizeof err),
                     CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &wk, err, sizeof err));
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), &wv, err, sizeof err));
    assert_int_not_equal(wv.id, wv.cosig_id);

    snprintf(c.origin, sizeof c.origin, "example.com/log");
    memset(c.root, 0xab, 32);
    assert_non_null(cp = cvma_checkpoint_text(&c));
    assert_non_null(sig = cvma_note_sign_line(&sk, cp, strlen(cp)));
    assert_non_null(cosig = cvma_note_cosign_line(&wk, cp, strlen(cp), 1700000000));
    size_t len = strlen(cp) + 1 + strlen(sig) + strlen(cosig);
    char *all = malloc(len + 1);
    assert_non_null(all);
    snprintf(all, len + 1, "%s\n%s%s", cp, sig, cosig);
    assert_int_equal(cvma_note_parse((const uint8_t *)all, len, &n, err, sizeof err), CVMA_OK);
    assert_int_equal(n.n_sigs, 2);
    assert_int_equal(cvma_note_check_sig(&n, &vk), CVMA_NOTE_VALID);
    assert_int_equal(cvma_note_check_sig(&n, &wv), CVMA_NOTE_ABSENT); /* a cosig is not a sig */
    assert_int_equal(cvma_note_check_cosig(&n, &wv, &ts), CVMA_NOTE_VALID);
    assert_int_equal(ts, 1700000000);
    assert_int_equal(cvma_note_check_cosig(&n, &vk, NULL), CVMA_NOTE_ABSENT);
    /* The witness's key as a cosigner key (type 0x04, its ID the cosignatures' one:
     * tlog-cosignature): a witness key, the same as the 0x01 form; never a log's key. */
    {
        uint8_t raw[33] = {CVMA_NOTE_ALG_COSIG_V1};
        memcpy(raw + 1, wv.pub, 32);
        char *b64 = cvma_base64_encode(raw, sizeof raw, CVMA_B64_STD), c4[CVMA_TLOG_NAME_MAX + 80];
        assert_non_null(b64);
        snprintf(c4, sizeof c4, "%s+%08" PRIx32 "+%s\n", wv.name, wv.cosig_id, b64);
        struct cvma_note_vkey w4;
        assert_true(cvma_note_witness_vkey_parse(c4, strlen(c4), &w4, err, sizeof err));
        assert_memory_equal(w4.pub, wv.pub, 32);
        assert_int_equal(w4.cosig_id, wv.cosig_id);
        assert_int_equal(cvma_note_check_cosig(&n, &w4, NULL), CVMA_NOTE_VALID);
        assert_false(cvma_note_vkey_parse(c4, strlen(c4), &w4, err, sizeof err));
        assert_non_null(strstr(err, "cosigner"));
        /* the 0x01 form's key ID with type 0x04: refused */
        snprintf(c4, sizeof c4, "%s+%08" PRIx32 "+%s", wv.name, wv.id, b64);
        assert_false(cvma_note_witness_vkey_parse(c4, strlen(c4), &w4, err, sizeof err));
        free(b64);
    }
    n.sigs[1].sig[3] ^= 1; /* the timestamp is signed */
    assert_int_equal(cvma_note_check_cosig(&n, &wv, NULL), CVMA_NOTE_INVALID);

    struct cvma_checkpoint back;
    assert_true(cvma_checkpoint_parse(n.text, n.text_len, &back, err, sizeof err));
    assert_string_equal(back.origin, "example.com/log");
    assert_int_equal(back.size, 42);
    assert_memory_equal(back.root, c.root, 32);
    assert_false(cvma_checkpoint_parse("o\n042\nAAAA\n", 11, &back, err, sizeof err));

    cvma_note_cleanup(&n);
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(skey);
    free(vkey);
    free(cp);
    free(sig);
    free(cosig);
    free(all);
}

/* A new note key pair called name, parsed. */
static void note_keys(const char *name, struct cvma_note_skey *sk, struct cvma_note_vkey *vk)
{
    char *skey = NULL, *vkey = NULL, err[200];
    assert_int_equal(cvma_note_keygen(name, &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), sk, err, sizeof err));
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), vk, err, sizeof err));
    free(skey);
    free(vkey);
}

/* A checkpoint with extension lines well over 64 KiB (still under CVMA_TLOG_NOTE_MAX) is
 * cosigned, and the state it leaves is read back on the next request: before, the state was
 * written whole and read back with a 64 KiB limit, and every later request for that log
 * failed with "cannot read". */
static void test_witness_state_of_a_large_checkpoint(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *cp = NULL, *sig = NULL, *cosig = NULL, err[300];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk;
    struct cvma_checkpoint c = {.size = 1};
    uint64_t known = 0;

    struct cvma_note_vkey wv;
    note_keys("example.com/log", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    snprintf(c.origin, sizeof c.origin, "example.com/log");
    memset(c.root, 0xcd, 32);
    assert_non_null(cp = cvma_checkpoint_text(&c));
    /* 700 extension lines of 106 bytes: about 74 KB of text */
    size_t ext = 700 * 107, cpl = strlen(cp);
    char *text = malloc(cpl + ext + 1);
    assert_non_null(text);
    memcpy(text, cp, cpl);
    for (size_t i = 0; i < 700; i++) {
        char *l = text + cpl + i * 107;
        snprintf(l, 108, "x%05zu", i);
        memset(l + 6, 'y', 100);
        l[106] = '\n';
    }
    text[cpl + ext] = '\0';
    assert_non_null(sig = cvma_note_sign_line(&sk, text, cpl + ext));
    size_t len = cpl + ext + 1 + strlen(sig);
    assert_true(len > (size_t)64 << 10 && len < CVMA_TLOG_NOTE_MAX);
    char *note = malloc(len + 1);
    assert_non_null(note);
    snprintf(note, len + 1, "%s\n%s", text, sig);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len,
                                          round == 0 ? 0 : 1, NULL, 0, 1700000000, &cosig, &known,
                                          err, sizeof err),
                         CVMA_WITNESS_OK);
        assert_non_null(cosig);
        assert_int_equal(known, 1);
        free(cosig);
        cosig = NULL;
    }
    assert_true(tu_rmtree(dir));
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(cp);
    free(sig);
    free(text);
    free(note);
    free(dir);
}

/* The witness's state is read as every state file is: never through a symbolic link. A link
 * to a file elsewhere holding a checkpoint was followed and compared with; now the witness
 * refuses (500) naming the link, and neither the link nor the file it names is replaced. */
static void test_witness_state_never_read_through_a_symlink(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *cp = NULL, *sig = NULL, *cosig = NULL, err[400];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv;
    struct cvma_checkpoint c = {.size = 1};
    struct cvma_buf b = {0};
    struct stat sb;
    uint64_t known = 0;

    note_keys("example.com/log", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    snprintf(c.origin, sizeof c.origin, "example.com/log");
    memset(c.root, 0xcd, 32);
    assert_non_null(cp = cvma_checkpoint_text(&c));
    assert_non_null(sig = cvma_note_sign_line(&sk, cp, strlen(cp)));
    size_t len = strlen(cp) + 1 + strlen(sig);
    char *note = malloc(len + 1);
    assert_non_null(note);
    snprintf(note, len + 1, "%s\n%s", cp, sig);
    assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 0, NULL, 0,
                                      1700000000, &cosig, &known, err, sizeof err),
                     CVMA_WITNESS_OK);
    free(cosig);
    cosig = NULL;
    char *spath = cvma_tlog_state_path(dir, "log-", c.origin, ""), *outside = tu_path(dir, "o");
    assert_non_null(spath);
    assert_int_equal(rename(spath, outside), 0);
    assert_int_equal(symlink(outside, spath), 0);
    assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 1, NULL, 0,
                                      1700000001, &cosig, &known, err, sizeof err),
                     CVMA_WITNESS_ERROR);
    assert_null(cosig);
    assert_non_null(strstr(err, "a symbolic link"));
    assert_int_equal(lstat(spath, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    tu_read(outside, &b);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.p, note, len);
    cvma_buf_free(&b);
    assert_true(tu_rmtree(dir));
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(spath);
    free(outside);
    free(cp);
    free(sig);
    free(note);
    free(dir);
}

/* A state file of one log that holds another origin's checkpoint is reported as that: before,
 * the message carried an uninitialised buffer (and witness serve sent it to the client). */
static void test_witness_state_of_another_origin(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *cp = NULL, *other = NULL, *sig = NULL, *cosig = NULL, err[400];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv;
    struct cvma_checkpoint c = {.size = 1};
    uint64_t known = 0;

    note_keys("example.com/a", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    memset(c.root, 0x42, 32);
    snprintf(c.origin, sizeof c.origin, "example.com/b");
    assert_non_null(other = cvma_checkpoint_text(&c));
    snprintf(c.origin, sizeof c.origin, "example.com/a");
    assert_non_null(cp = cvma_checkpoint_text(&c));
    assert_non_null(sig = cvma_note_sign_line(&sk, cp, strlen(cp)));
    size_t len = strlen(cp) + 1 + strlen(sig);
    char *note = malloc(len + 1);
    assert_non_null(note);
    snprintf(note, len + 1, "%s\n%s", cp, sig);

    char *spath = cvma_tlog_state_path(dir, "log-", "example.com/a", "");
    assert_non_null(spath);
    FILE *f = fopen(spath, "w");
    assert_non_null(f);
    assert_int_equal(fputs(other, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);

    memset(err, 0x7f, sizeof err);
    err[sizeof err - 1] = '\0';
    assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 1, NULL, 0,
                                      1700000000, &cosig, &known, err, sizeof err),
                     CVMA_WITNESS_ERROR);
    assert_null(cosig);
    assert_non_null(strstr(err, "corrupt state: a checkpoint of another origin"));
    assert_non_null(strstr(err, "example.com/b"));

    assert_true(tu_rmtree(dir));
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(spath);
    free(cp);
    free(other);
    free(sig);
    free(note);
    free(dir);
}

/* A tlog-cosignature line by wk over text at timestamp t, signed here whatever t is. */
static char *raw_cosig_line(const struct cvma_note_skey *wk, const char *text, uint64_t t)
{
    char head[64];
    int h = snprintf(head, sizeof head, "cosignature/v1\ntime %" PRIu64 "\n", t);
    size_t tl = strlen(text), mlen = (size_t)h + tl, slen = 64;
    uint8_t *m = malloc(mlen), raw[4 + 72];
    assert_non_null(m);
    memcpy(m, head, (size_t)h);
    memcpy(m + h, text, tl);
    for (int b = 0; b < 4; b++) {
        raw[b] = (uint8_t)(wk->v.cosig_id >> (24 - 8 * b));
    }
    for (int b = 0; b < 8; b++) {
        raw[4 + b] = (uint8_t)(t >> (56 - 8 * b));
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, wk->key), 1);
    assert_int_equal(EVP_DigestSign(ctx, raw + 12, &slen, m, mlen), 1);
    assert_int_equal(slen, 64);
    EVP_MD_CTX_free(ctx);
    free(m);
    char *b64 = cvma_base64_encode(raw, sizeof raw, CVMA_B64_STD);
    assert_non_null(b64);
    size_t n = 4 + strlen(wk->v.name) + 1 + strlen(b64) + 2;
    char *line = malloc(n);
    assert_non_null(line);
    snprintf(line, n, "\xe2\x80\x94 %s %s\n", wk->v.name, b64);
    free(b64);
    return line;
}

/* tlog-cosignature: a timestamp MUST NOT exceed 2^63 - 1. A cosignature at 2^63, validly
 * signed, was accepted as valid; it is now invalid, and none is made at such a time. */
static void test_cosig_timestamp_above_2_63(void **state)
{
    (void)state;
    char *cp = NULL, *sig = NULL, err[200];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv;
    struct cvma_checkpoint c = {.size = 1};
    struct cvma_note n;
    uint64_t ts = 0;

    note_keys("example.com/log", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    snprintf(c.origin, sizeof c.origin, "example.com/log");
    memset(c.root, 0x33, 32);
    assert_non_null(cp = cvma_checkpoint_text(&c));
    assert_non_null(sig = cvma_note_sign_line(&sk, cp, strlen(cp)));
    static const uint64_t times[] = {(uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(times); i++) {
        char *co = raw_cosig_line(&wk, cp, times[i]);
        size_t len = strlen(cp) + 1 + strlen(sig) + strlen(co);
        char *note = malloc(len + 1);
        assert_non_null(note);
        snprintf(note, len + 1, "%s\n%s%s", cp, sig, co);
        assert_int_equal(cvma_note_parse((const uint8_t *)note, len, &n, err, sizeof err), CVMA_OK);
        ts = 0;
        assert_int_equal(cvma_note_check_cosig(&n, &wv, &ts),
                         i == 0 ? CVMA_NOTE_VALID : CVMA_NOTE_INVALID);
        assert_true(ts == (i == 0 ? (uint64_t)INT64_MAX : 0));
        cvma_note_cleanup(&n);
        free(note);
        free(co);
    }
    char *mine = cvma_note_cosign_line(&wk, cp, strlen(cp), (uint64_t)INT64_MAX);
    assert_non_null(mine);
    free(mine);
    assert_null(cvma_note_cosign_line(&wk, cp, strlen(cp), (uint64_t)INT64_MAX + 1));

    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(cp);
    free(sig);
}

/* A note of the checkpoint (origin, size, every root byte r) signed by sk, malloc'd. */
static char *signed_checkpoint(const struct cvma_note_skey *sk, const char *origin, uint64_t size,
                               uint8_t r, size_t *len)
{
    struct cvma_checkpoint c = {.size = size};
    snprintf(c.origin, sizeof c.origin, "%s", origin);
    memset(c.root, r, 32);
    char *cp = cvma_checkpoint_text(&c), *sig = NULL;
    assert_non_null(cp);
    assert_non_null(sig = cvma_note_sign_line(sk, cp, strlen(cp)));
    *len = strlen(cp) + 1 + strlen(sig);
    char *note = malloc(*len + 1);
    assert_non_null(note);
    snprintf(note, *len + 1, "%s\n%s", cp, sig);
    free(cp);
    free(sig);
    return note;
}

/* Two split views in the same second are both kept: the evidence files were named to the
 * second and written by rename, so the second replaced the first. (And the state directory
 * is one no one else can write: the checkpoints there are believed as found.) */
static void test_witness_keeps_every_split_view(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *cosig = NULL, err[600];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv;
    uint64_t known = 0;
    size_t len;

    note_keys("example.com/log", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    char *note = signed_checkpoint(&sk, "example.com/log", 1, 0x01, &len);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 0, NULL, 0,
                                      1700000000, &cosig, &known, err, sizeof err),
                     CVMA_WITNESS_ERROR);
    assert_null(cosig);
    assert_non_null(strstr(err, "state directory not used: "));
    assert_non_null(strstr(err, "writable by group or others"));
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 0, NULL, 0,
                                      1700000000, &cosig, &known, err, sizeof err),
                     CVMA_WITNESS_OK);
    free(cosig);
    free(note);
    for (int i = 0; i < 3; i++) {
        note = signed_checkpoint(&sk, "example.com/log", 1, (uint8_t)(0x02 + i), &len);
        assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 1, NULL, 0,
                                          1700000100, &cosig, &known, err, sizeof err),
                         CVMA_WITNESS_CONFLICT);
        assert_null(cosig);
        assert_non_null(strstr(err, "the new one kept as "));
        if (i > 0) {
            char want[16];
            snprintf(want, sizeof want, "-1700000100-%d,", i);
            assert_non_null(strstr(err, want));
        }
        /* each new checkpoint is in its own file, unchanged */
        char *p = cvma_tlog_state_path(dir, "conflict-", "example.com/log",
                                       i == 0   ? "-1700000100"
                                       : i == 1 ? "-1700000100-1"
                                                : "-1700000100-2");
        struct cvma_buf b = {0};
        assert_non_null(p);
        assert_int_equal(cvma_file_read(p, 1 << 16, &b), CVMA_OK);
        assert_int_equal(b.len, len);
        assert_memory_equal(b.p, note, len);
        cvma_buf_free(&b);
        free(p);
        free(note);
    }
    assert_true(tu_rmtree(dir));
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(dir);
}

static void test_note_parse_refusals(void **state)
{
    (void)state;
    struct cvma_note n;
    char err[200];
    static const char *const bad[] = {
            "text without signatures\n",
            "text\n\n",
            "text\n\n- ascii dash AAAA\n",
            "text\n\n\xe2\x80\x94 name !!!!\n",
            "ctl\x01\n\n\xe2\x80\x94 name AAAAAAAA\n",
            "text\n\n\xe2\x80\x94 name AAAAAAAA",
            /* not UTF-8 in a signature line (a name, then a stray continuation byte):
             * Go's note.Open refuses the whole message */
            "text\n\n\xe2\x80\x94 n\xffme AAAAAAAA\n",
            "text\n\n\xe2\x80\x94 name AAAAAAAA\n\xe2\x80\x94 na\xc0\x80 AAAAAAAA\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
                cvma_note_parse((const uint8_t *)bad[i], strlen(bad[i]), &n, err, sizeof err),
                CVMA_REJECTED);
    }
    /* A name in UTF-8 is one (signed-note: no spaces, '+' or controls), a name that is not
     * UTF-8 is none: keys and signature lines alike. */
    static const char good[] = "text\n\n\xe2\x80\x94 n\xc3\xa4me AAAAAAAA\n";
    assert_int_equal(cvma_note_parse((const uint8_t *)good, strlen(good), &n, err, sizeof err),
                     CVMA_OK);
    cvma_note_cleanup(&n);
    assert_true(cvma_note_name_ok("n\xc3\xa4me"));
    assert_false(cvma_note_name_ok("n\xffme"));
    assert_false(cvma_note_name_ok("n\xc3"));
    assert_false(cvma_note_name_ok("\xed\xa0\x80")); /* a surrogate */
    /* Unicode spaces are spaces (signed-note): U+0085, U+00A0, U+1680, U+2000-U+200A,
     * U+2028, U+2029, U+202F, U+205F, U+3000; their neighbours are not. */
    static const char *const spaces[] = {
            "a\xc2\x85"
            "b",
            "a\xc2\xa0"
            "b",
            "a\xe1\x9a\x80"
            "b",
            "a\xe2\x80\x80"
            "b",
            "a\xe2\x80\x85"
            "b",
            "a\xe2\x80\x8a"
            "b",
            "a\xe2\x80\xa8"
            "b",
            "a\xe2\x80\xa9"
            "b",
            "a\xe2\x80\xaf"
            "b",
            "a\xe2\x81\x9f"
            "b",
            "a\xe3\x80\x80"
            "b",
            "\xc2\xa0",
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(spaces); i++) {
        assert_false(cvma_note_name_ok(spaces[i]));
    }
    static const char *const not_spaces[] = {
            "a\xc2\xa1"
            "b",
            "a\xe2\x80\x8b"
            "b",
            "a\xe2\x80\xa7"
            "b",
            "a\xe3\x80\x81"
            "b",
            "a\xf0\x9f\x98\x80"
            "b",
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(not_spaces); i++) {
        assert_true(cvma_note_name_ok(not_spaces[i]));
    }
}

/* "NAME+KEYID+BASE64" for vk's public key under another name (the key ID made for it). */
static char *vkey_renamed(const struct cvma_note_vkey *vk, const char *name)
{
    uint8_t raw[33] = {CVMA_NOTE_ALG_ED25519};
    memcpy(raw + 1, vk->pub, 32);
    char *b64 = cvma_base64_encode(raw, sizeof raw, CVMA_B64_STD), *s = NULL;
    assert_non_null(b64);
    size_t len = strlen(name) + 1 + 8 + 1 + strlen(b64) + 1;
    assert_non_null(s = malloc(len));
    snprintf(s, len, "%s+%08x+%s", name, (unsigned)cvma_note_key_id(name, raw[0], vk->pub), b64);
    free(b64);
    return s;
}

/* The name of a key made or given here carries no control character: C0, DEL and the C1
 * controls U+0080..U+009F alike (only U+0085, a Unicode space, was refused among the C1 ones),
 * in the rule, keygen and a verifier key. A signature line's name is held to signed-note's
 * rule alone: a C1 control passes there (test_note_unknown_signer_with_a_c1_name_is_ignored),
 * C0 and DEL are refused anywhere in a note. U+00A1 after them is a name everywhere. */
static void test_note_name_refuses_c1_controls(void **state)
{
    (void)state;
    struct cvma_note_skey sk;
    struct cvma_note_vkey vk, got;
    struct cvma_note n;
    char err[200], *skey = NULL, *vkey = NULL;
    static const struct {
        const char *name;
        bool in_sig_line;
    } c1[] = {
            {"a\xc2\x80"
             "b",
             true},
            {"a\xc2\x86"
             "b",
             true},
            {"a\xc2\x9f"
             "b",
             true},
            {"\xc2\x80", true},
            {"a\x7f"
             "b",
             false},
            {"a\x1f"
             "b",
             false},
    };
    note_keys("ab", &sk, &vk);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(c1); i++) {
        assert_false(cvma_note_name_ok(c1[i].name));
        assert_int_equal(cvma_note_keygen(c1[i].name, &skey, &vkey, err, sizeof err), CVMA_E_USAGE);
        assert_null(skey);
        assert_non_null(strstr(err, "no control characters"));
        char *s = vkey_renamed(&vk, c1[i].name);
        assert_false(cvma_note_vkey_parse(s, strlen(s), &got, err, sizeof err));
        free(s);
        char note[64];
        snprintf(note, sizeof note, "text\n\n\xe2\x80\x94 %s AAAAAAAA\n", c1[i].name);
        assert_int_equal(cvma_note_parse((const uint8_t *)note, strlen(note), &n, err, sizeof err),
                         c1[i].in_sig_line ? CVMA_OK : CVMA_REJECTED);
        if (c1[i].in_sig_line) {
            assert_true(cvma_note_sig_name_ok(c1[i].name));
            assert_string_equal(n.sigs[0].name, c1[i].name);
            cvma_note_cleanup(&n);
        }
    }
    /* the same made with a name that is one: accepted, so the name alone was refused */
    static const char ok_name[] = "a\xc2\xa1"
                                  "b";
    assert_true(cvma_note_name_ok(ok_name));
    assert_true(cvma_note_sig_name_ok(ok_name));
    char *s = vkey_renamed(&vk, ok_name);
    assert_true(cvma_note_vkey_parse(s, strlen(s), &got, err, sizeof err));
    assert_string_equal(got.name, ok_name);
    free(s);
    char note[64];
    snprintf(note, sizeof note, "text\n\n\xe2\x80\x94 %s AAAAAAAA\n", ok_name);
    assert_int_equal(cvma_note_parse((const uint8_t *)note, strlen(note), &n, err, sizeof err),
                     CVMA_OK);
    cvma_note_cleanup(&n);
    assert_int_equal(cvma_note_keygen(ok_name, &skey, &vkey, err, sizeof err), CVMA_OK);
    free(skey);
    free(vkey);
    cvma_note_skey_cleanup(&sk);
}

/* "— name base64(id || n bytes)\n", malloc'd: a signature line of any length. */
static char *long_sig_line(const char *name, uint32_t id, size_t n)
{
    uint8_t *raw = malloc(4 + n);
    assert_non_null(raw);
    raw[0] = (uint8_t)(id >> 24);
    raw[1] = (uint8_t)(id >> 16);
    raw[2] = (uint8_t)(id >> 8);
    raw[3] = (uint8_t)id;
    for (size_t i = 0; i < n; i++) {
        raw[4 + i] = (uint8_t)(i * 7 + 1);
    }
    char *b64 = cvma_base64_encode(raw, 4 + n, CVMA_B64_STD);
    assert_non_null(b64);
    size_t len = 4 + strlen(name) + 1 + strlen(b64) + 2;
    char *line = malloc(len);
    assert_non_null(line);
    snprintf(line, len, "\xe2\x80\x94 %s %s\n", name, b64);
    free(raw);
    free(b64);
    return line;
}

/* signed-note: a signature line of a key the reader does not know is ignored, whatever its
 * length (an ML-DSA-44 cosignature is 4 + 8 + 2420 bytes). It used to make the whole note
 * invalid above 128 bytes, so a checkpoint carrying one was refused by the witness, the
 * monitor and the verifier. A long line in the name and key ID of a key that is checked is
 * that key's invalid signature. */
static void test_note_long_unknown_signature_is_ignored(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *cp = NULL, *sig = NULL, *cosig = NULL, *pq = NULL, *mine = NULL,
         *tiny = NULL, err[300];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv;
    struct cvma_checkpoint c = {.size = 3};
    struct cvma_note n;
    uint64_t known = 0;

    note_keys("example.com/log", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    snprintf(c.origin, sizeof c.origin, "example.com/log");
    memset(c.root, 0x5a, 32);
    assert_non_null(cp = cvma_checkpoint_text(&c));
    assert_non_null(sig = cvma_note_sign_line(&sk, cp, strlen(cp)));
    assert_non_null(pq = long_sig_line("pq.example/w9", 0x01020304, 8 + 2420));
    assert_non_null(tiny = long_sig_line("tiny.example/w8", 0x05060708, 1));
    size_t len = strlen(cp) + 1 + strlen(sig) + strlen(pq) + strlen(tiny);
    char *note = malloc(len + 1);
    assert_non_null(note);
    snprintf(note, len + 1, "%s\n%s%s%s", cp, sig, pq, tiny);

    assert_int_equal(cvma_note_parse((const uint8_t *)note, len, &n, err, sizeof err), CVMA_OK);
    assert_int_equal(n.n_sigs, 3);
    assert_string_equal(n.sigs[1].name, "pq.example/w9");
    assert_int_equal(n.sigs[1].id, 0x01020304);
    assert_int_equal(n.sigs[1].len, 8 + 2420);
    assert_int_equal(n.sigs[2].len, 1);
    assert_int_equal(cvma_note_check_sig(&n, &vk), CVMA_NOTE_VALID);
    assert_int_equal(cvma_note_check_cosig(&n, &wv, NULL), CVMA_NOTE_ABSENT);
    cvma_note_cleanup(&n);

    /* The witness cosigns it. */
    assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 0, NULL, 0,
                                      1700000000, &cosig, &known, err, sizeof err),
                     CVMA_WITNESS_OK);
    assert_non_null(cosig);

    /* A long line named as the witness, with its cosignature key ID: its bad cosignature. */
    assert_non_null(mine = long_sig_line(wv.name, wv.cosig_id, 8 + 2420));
    size_t len2 = strlen(cp) + 1 + strlen(sig) + strlen(mine);
    char *note2 = malloc(len2 + 1);
    assert_non_null(note2);
    snprintf(note2, len2 + 1, "%s\n%s%s", cp, sig, mine);
    assert_int_equal(cvma_note_parse((const uint8_t *)note2, len2, &n, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_note_check_cosig(&n, &wv, NULL), CVMA_NOTE_INVALID);
    cvma_note_cleanup(&n);

    /* Four bytes (a key ID and no signature) are still not a signature line. */
    free(tiny);
    assert_non_null(tiny = long_sig_line("tiny.example/w8", 0x05060708, 0));
    snprintf(note2, len2 + 1, "%s\n%s%s", cp, sig, tiny);
    assert_int_equal(cvma_note_parse((const uint8_t *)note2, strlen(note2), &n, err, sizeof err),
                     CVMA_REJECTED);

    assert_true(tu_rmtree(dir));
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(cp);
    free(sig);
    free(cosig);
    free(pq);
    free(mine);
    free(tiny);
    free(note);
    free(note2);
    free(dir);
}

/* signed-note: signatures by unknown keys are ignored, and a key name holds no space and no
 * '+'. A signature line by a signer this reader does not know, whose name holds a C1 control
 * (U+0080), used to make the whole note refused: the rule for the names of keys made or given
 * here, which refuses control characters too, was applied to every signature line. Go's
 * note.Open accepts such a note. The note verifies by the log's key and the witness cosigns it;
 * a key made or given with that name is still refused. */
static void test_note_unknown_signer_with_a_c1_name_is_ignored(void **state)
{
    (void)state;
    static const char c1_name[] = "a\xc2\x80"
                                  "b";
    char *dir = tu_tmpdir(), *cp = NULL, *sig = NULL, *cosig = NULL, *other = NULL, *skey = NULL,
         *vkey = NULL, err[300];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv, got;
    struct cvma_checkpoint c = {.size = 3};
    struct cvma_note n;
    uint64_t known = 0;

    note_keys("example.com/log", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    snprintf(c.origin, sizeof c.origin, "example.com/log");
    memset(c.root, 0x5a, 32);
    assert_non_null(cp = cvma_checkpoint_text(&c));
    assert_non_null(sig = cvma_note_sign_line(&sk, cp, strlen(cp)));
    assert_non_null(other = long_sig_line(c1_name, 0x01020304, 64));
    size_t len = strlen(cp) + 1 + strlen(other) + strlen(sig);
    char *note = malloc(len + 1);
    assert_non_null(note);
    snprintf(note, len + 1, "%s\n%s%s", cp, other, sig);

    assert_int_equal(cvma_note_parse((const uint8_t *)note, len, &n, err, sizeof err), CVMA_OK);
    assert_int_equal(n.n_sigs, 2);
    assert_string_equal(n.sigs[0].name, c1_name);
    assert_int_equal(n.sigs[0].id, 0x01020304);
    assert_int_equal(cvma_note_check_sig(&n, &vk), CVMA_NOTE_VALID);
    assert_int_equal(cvma_note_check_cosig(&n, &wv, NULL), CVMA_NOTE_ABSENT);
    cvma_note_cleanup(&n);

    /* The witness cosigns it (the checkpoint is read as a note there too). */
    assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 0, NULL, 0,
                                      1700000000, &cosig, &known, err, sizeof err),
                     CVMA_WITNESS_OK);
    assert_non_null(cosig);

    /* A name made or given here: still no control character. */
    assert_false(cvma_note_name_ok(c1_name));
    assert_true(cvma_note_sig_name_ok(c1_name));
    assert_int_equal(cvma_note_keygen(c1_name, &skey, &vkey, err, sizeof err), CVMA_E_USAGE);
    assert_null(skey);
    assert_null(vkey);
    char *s = vkey_renamed(&vk, c1_name);
    assert_false(cvma_note_vkey_parse(s, strlen(s), &got, err, sizeof err));
    free(s);

    assert_true(tu_rmtree(dir));
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(cp);
    free(sig);
    free(cosig);
    free(other);
    free(note);
    free(dir);
}

/* A size-0 checkpoint is accepted only with the empty tree's root, SHA-256("") (RFC 9162
 * 2.1.1): before, its root was never looked at, and a witness cosigned size 0 with any root. */
static void test_size_0_checkpoint_needs_the_empty_root(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *cp = NULL, *sig = NULL, *cosig = NULL, err[300];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv;
    struct cvma_checkpoint c = {.size = 0}, back;
    uint64_t known = 0;

    note_keys("example.com/log", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    snprintf(c.origin, sizeof c.origin, "example.com/log");
    for (int good = 0; good < 2; good++) {
        if (good) {
            tu_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", c.root, 32);
        } else {
            memset(c.root, 0x11, 32);
        }
        assert_non_null(cp = cvma_checkpoint_text(&c));
        assert_int_equal(cvma_checkpoint_parse(cp, strlen(cp), &back, err, sizeof err), good);
        assert_non_null(sig = cvma_note_sign_line(&sk, cp, strlen(cp)));
        size_t len = strlen(cp) + 1 + strlen(sig);
        char *note = malloc(len + 1);
        assert_non_null(note);
        snprintf(note, len + 1, "%s\n%s", cp, sig);
        assert_int_equal(cvma_witness_add(dir, &wk, &vk, 1, (const uint8_t *)note, len, 0, NULL, 0,
                                          1700000000, &cosig, &known, err, sizeof err),
                         good ? CVMA_WITNESS_OK : CVMA_WITNESS_BAD_REQUEST);
        assert_true(good ? cosig != NULL : cosig == NULL);
        free(cosig);
        cosig = NULL;
        free(note);
        free(cp);
        free(sig);
    }
    assert_true(tu_rmtree(dir));
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    free(dir);
}

/* A log at the limit refuses another entry as full (CVMA_E_USAGE) before allocating. */
static void test_log_full(void **state)
{
    (void)state;
    struct cvma_tlog l;
    cvma_tlog_init(&l, "example.com/log");
    l.size = CVMA_REG_ENTRIES_MAX;
    l.cap = CVMA_REG_ENTRIES_MAX;
    assert_int_equal(cvma_tlog_append(&l, (const uint8_t *)"x", 1), CVMA_E_USAGE);
    assert_int_equal(l.size, CVMA_REG_ENTRIES_MAX);
    l.size = 0;
    l.cap = 0;
    cvma_tlog_cleanup(&l);
}

/* A log source is a URL by its scheme in any case, as the fetcher takes it (a "HTTPS://" log
 * read as a local directory of that name failed as unreadable). */
static void test_log_source_url_scheme_in_any_case(void **state)
{
    (void)state;
    assert_true(cvma_tlog_src_is_url("https://log.example/"));
    assert_true(cvma_tlog_src_is_url("HTTPS://log.example/"));
    assert_true(cvma_tlog_src_is_url("Http://127.0.0.1:8080/log"));
    assert_false(cvma_tlog_src_is_url("logdir"));
    assert_false(cvma_tlog_src_is_url("/var/lib/log"));
    assert_false(cvma_tlog_src_is_url("ftp://log.example/"));
}

static void test_log_save_load_tiles(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *skey = NULL, *vkey = NULL, err[200];
    struct cvma_note_skey sk;
    struct cvma_tlog l, l2;
    uint8_t r1[32], r2[32], e[40];
    assert_int_equal(cvma_note_keygen("example.com/log", &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));

    /* Grow 0 -> 300 -> 513 -> 70,000-like shapes in steps, reloading each time. */
    static const uint64_t steps[] = {1, 255, 256, 257, 300, 513, 700};
    uint64_t size = 0;
    assert_int_equal(cvma_tlog_load(&l, dir, &sk.v, "example.com/log", err, sizeof err), CVMA_OK);
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        while (size < steps[s]) {
            int w = snprintf((char *)e, sizeof e, "registry version %llu",
                             (unsigned long long)size);
            assert_int_equal(cvma_tlog_append(&l, e, (size_t)w), CVMA_OK);
            size++;
        }
        assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_OK);
        assert_int_equal(cvma_tlog_root(&l, r1), CVMA_OK);
        cvma_tlog_cleanup(&l);
        assert_int_equal(cvma_tlog_load(&l, dir, &sk.v, "example.com/log", err, sizeof err),
                         CVMA_OK);
        assert_int_equal(l.size, size);
        assert_int_equal(cvma_tlog_root(&l, r2), CVMA_OK);
        assert_memory_equal(r1, r2, 32);
        int w = snprintf((char *)e, sizeof e, "registry version %llu",
                         (unsigned long long)(size - 1));
        assert_int_equal(l.last.len, (size_t)w);
        assert_memory_equal(l.last.p, e, (size_t)w);
    }
    /* The tiles the spec names exist: 700 = 2 full level-0 tiles + a partial of 188, and a
     * partial level-1 tile of width 2. */
    char *p = tu_path(dir, "tile/0/001");
    assert_int_equal(access(p, F_OK), 0);
    free(p);
    p = tu_path(dir, "tile/0/002.p/188");
    assert_int_equal(access(p, F_OK), 0);
    free(p);
    p = tu_path(dir, "tile/1/000.p/2");
    assert_int_equal(access(p, F_OK), 0);
    free(p);
    p = tu_path(dir, "tile/entries/002.p/188");
    assert_int_equal(access(p, F_OK), 0);
    free(p);
    cvma_tlog_cleanup(&l);

    /* A flipped byte in a level-0 tile: the log does not load. */
    struct cvma_buf t = {0};
    p = tu_path(dir, "tile/0/001");
    tu_read(p, &t);
    t.p[100] ^= 1;
    tu_write(p, t.p, t.len);
    assert_int_equal(cvma_tlog_load(&l2, dir, &sk.v, "example.com/log", err, sizeof err),
                     CVMA_REJECTED);
    free(p);
    cvma_buf_free(&t);
    cvma_note_skey_cleanup(&sk);
    free(skey);
    free(vkey);
    tu_rmtree(dir);
    free(dir);
}

/* Appends "registry version <i>" to l until it holds size entries. */
static void grow_log(struct cvma_tlog *l, uint64_t size)
{
    uint8_t e[40];
    while (l->size < size) {
        int w = snprintf((char *)e, sizeof e, "registry version %llu", (unsigned long long)l->size);
        assert_int_equal(cvma_tlog_append(l, e, (size_t)w), CVMA_OK);
    }
}

/*
 * A save over a checkpoint that is not the log's latest (the one of size 256 put back over a
 * log of 257): the tiles of index 1 lie beyond it, and the save is CVMA_REJECTED, naming one,
 * before anything is written; the checkpoint and every tile stay as they were. With those
 * tiles gone (an append that stopped before its checkpoint was written) the save goes on:
 * the tiles that the checkpoint of 256 covers (000, and 000.p/1..255 of the sizes before) are
 * not beyond it.
 */
static void test_log_save_refuses_tiles_beyond_its_checkpoint(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *skey = NULL, *vkey = NULL, err[600];
    char *cpath = tu_path(dir, "checkpoint"), *t0 = tu_path(dir, "tile/0/001.p/1"),
         *te = tu_path(dir, "tile/entries/001.p/1");
    struct cvma_note_skey sk;
    struct cvma_tlog l;
    struct cvma_buf cp256 = {0}, cp257 = {0}, before = {0}, after = {0};

    assert_int_equal(cvma_note_keygen("example.com/log", &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));
    cvma_tlog_init(&l, "example.com/log");
    for (uint64_t size = 1; size <= 256; size *= 2) { /* partial tiles of older sizes too */
        grow_log(&l, size);
        assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_OK);
    }
    tu_read(cpath, &cp256);
    grow_log(&l, 257);
    assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_OK);
    cvma_tlog_cleanup(&l);
    tu_read(cpath, &cp257);
    tu_write(cpath, cp256.p, cp256.len); /* an older checkpoint put back */
    tu_read(t0, &before);

    assert_int_equal(cvma_tlog_load(&l, dir, &sk.v, "example.com/log", err, sizeof err), CVMA_OK);
    assert_int_equal(l.size, 256);
    grow_log(&l, 257);
    err[0] = '\0';
    assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_REJECTED);
    assert_true(strstr(err, "/001.p/1 is beyond the size its checkpoint covers (256)") != NULL);
    assert_non_null(strstr(err, "not the log's latest"));
    tu_read(t0, &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.p, before.p, before.len);
    cvma_buf_free(&after);
    tu_read(cpath, &after);
    assert_int_equal(after.len, cp256.len);
    assert_memory_equal(after.p, cp256.p, cp256.len);
    cvma_buf_free(&after);

    /* The tiles beyond removed: saved, and the checkpoint is the one of 257 again (the same
     * entry appended, the same tree, and Ed25519 signs alike). */
    assert_int_equal(unlink(t0), 0);
    assert_int_equal(unlink(te), 0);
    assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_OK);
    tu_read(cpath, &after);
    assert_int_equal(after.len, cp257.len);
    assert_memory_equal(after.p, cp257.p, cp257.len);
    cvma_tlog_cleanup(&l);
    cvma_buf_free(&cp256);
    cvma_buf_free(&cp257);
    cvma_buf_free(&before);
    cvma_buf_free(&after);
    cvma_note_skey_cleanup(&sk);
    free(skey);
    free(vkey);
    free(cpath);
    free(t0);
    free(te);
    tu_rmtree(dir);
    free(dir);
}

/* ---------- binding with the registry log (src/registry/bind_log.c) ---------- */

/* cvma_bind_log_check of entry 0 as provider acme's registry: the log key, the witness when
 * witness, the log proof of size n, the consistency proof a -> b when a > 0. */
static bool logfx_check(struct logfx *f, bool witness, uint64_t n, uint64_t a, uint64_t b,
                        struct cvma_verdict *v)
{
    static const struct cvma_registry_bind_opts no_opts;
    struct cvma_registry_set *rs = cvma_registry_set_new();
    struct reg_item it;
    char err[300], why[CVMA_DETAIL_MAX], *proof = logfx_proof(f, n, witness), *cons = NULL;
    bool ok = false;

    assert_non_null(rs);
    assert_int_equal(cvma_registry_set_add_log_key(rs, f->logv_spec, err, sizeof err), CVMA_OK);
    if (witness) {
        assert_int_equal(cvma_registry_set_add_witness(rs, f->witv, err, sizeof err), CVMA_OK);
    }
    assert_int_equal(cvma_registry_set_add_log_proof(rs, proof, err, sizeof err), CVMA_OK);
    if (a > 0) {
        cons = logfx_consistency(f, a, b);
        assert_int_equal(cvma_registry_set_add_log_consistency(rs, cons, err, sizeof err), CVMA_OK);
    }
    memset(&it, 0, sizeof it);
    it.origin = "reg0.jws";
    it.bytes.p = (uint8_t *)f->entry[0];
    it.bytes.len = strlen(f->entry[0]);
    snprintf(it.reg.provider, sizeof it.reg.provider, "acme");
    assert_int_equal(cvma_bind_log_check(rs, &it, f->state, &no_opts, v, &ok, why, sizeof why),
                     CVMA_OK);
    cvma_registry_set_free(rs);
    free(proof);
    free(cons);
    return ok;
}

/* cvma_bind_log_check of entry 0 with the witness given and the log proofs in files[], in
 * that order. */
static bool logfx_check_proofs(struct logfx *f, char *const *files, size_t n,
                               struct cvma_verdict *v)
{
    static const struct cvma_registry_bind_opts no_opts;
    struct cvma_registry_set *rs = cvma_registry_set_new();
    struct reg_item it;
    char err[300], why[CVMA_DETAIL_MAX];
    bool ok = false;

    assert_non_null(rs);
    assert_int_equal(cvma_registry_set_add_log_key(rs, f->logv_spec, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_registry_set_add_witness(rs, f->witv, err, sizeof err), CVMA_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cvma_registry_set_add_log_proof(rs, files[i], err, sizeof err), CVMA_OK);
    }
    memset(&it, 0, sizeof it);
    it.origin = "reg0.jws";
    it.bytes.p = (uint8_t *)f->entry[0];
    it.bytes.len = strlen(f->entry[0]);
    snprintf(it.reg.provider, sizeof it.reg.provider, "acme");
    assert_int_equal(cvma_bind_log_check(rs, &it, f->state, &no_opts, v, &ok, why, sizeof why),
                     CVMA_OK);
    cvma_registry_set_free(rs);
    return ok;
}

/* Every log proof that includes the registry is tried: an under-cosigned one listed first no
 * longer hides a fully cosigned one after it, and of two that pass the largest tree is taken.
 * When none passes, the refusal that got furthest is reported. */
static void test_bind_log_tries_every_proof(void **state)
{
    (void)state;
    struct logfx f;
    struct cvma_verdict v;
    logfx_init(&f);
    char *bare3 = logfx_proof(&f, 3, false), *cos2 = logfx_proof(&f, 2, true),
         *cos4 = logfx_proof(&f, 4, true);

    char *first[] = {bare3, cos2};
    cvma_verdict_init(&v);
    assert_true(logfx_check_proofs(&f, first, 2, &v));
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(logfx_state_size(&f), 2);
    cvma_verdict_cleanup(&v);

    /* Size 2 seen: size 4 without a consistency proof is unproven, and size 2 passes. */
    char *all[] = {bare3, cos2, cos4};
    cvma_verdict_init(&v);
    assert_true(logfx_check_proofs(&f, all, 3, &v));
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(logfx_state_size(&f), 2);
    cvma_verdict_cleanup(&v);

    /* Nothing seen: both pass, the largest is taken. */
    assert_true(tu_rmtree(f.state));
    char *both[] = {cos2, cos4};
    cvma_verdict_init(&v);
    assert_true(logfx_check_proofs(&f, both, 2, &v));
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(logfx_state_size(&f), 4);
    cvma_verdict_cleanup(&v);

    char *none[] = {bare3};
    cvma_verdict_init(&v);
    assert_false(logfx_check_proofs(&f, none, 1, &v));
    assert_non_null(tu_reason_must(&v, CVMA_R_REGISTRY_LOG_TOO_FEW_COSIGNATURES));
    cvma_verdict_cleanup(&v);

    free(bare3);
    free(cos2);
    free(cos4);
    logfx_cleanup(&f);
}

/* A --log-proof that cannot be parsed is named, with its error, in REGISTRY_NOT_IN_LOG: it
 * was dropped silently ("0 proof(s) for that log"). */
static void test_bind_log_names_an_unparseable_proof(void **state)
{
    (void)state;
    struct logfx f;
    struct cvma_verdict v;
    struct cvma_buf b = {0};
    logfx_init(&f);
    char *good = logfx_proof(&f, 2, true);
    /* the same proof with CRLF line ends */
    assert_int_equal(cvma_file_read(good, 1 << 16, &b), CVMA_OK);
    char *crlf = malloc(2 * b.len + 1);
    assert_non_null(crlf);
    size_t n = 0;
    for (size_t i = 0; i < b.len; i++) {
        if (b.p[i] == '\n') {
            crlf[n++] = '\r';
        }
        crlf[n++] = (char)b.p[i];
    }
    char *bad = tu_path(f.dir, "crlf.proof");
    tu_write(bad, (const uint8_t *)crlf, n);

    char *files[] = {bad};
    cvma_verdict_init(&v);
    assert_false(logfx_check_proofs(&f, files, 1, &v));
    assert_non_null(tu_reason_must(&v, CVMA_R_REGISTRY_NOT_IN_LOG));
    assert_true(tu_detail_has(&v, CVMA_R_REGISTRY_NOT_IN_LOG, "crlf.proof cannot be read: "));
    cvma_verdict_cleanup(&v);
    /* beside one that proves it: bound */
    char *two[] = {bad, good};
    cvma_verdict_init(&v);
    assert_true(logfx_check_proofs(&f, two, 2, &v));
    cvma_verdict_cleanup(&v);

    cvma_buf_free(&b);
    free(crlf);
    free(bad);
    free(good);
    logfx_cleanup(&f);
}

static void test_bind_log_needs_a_witness_cosignature(void **state)
{
    (void)state;
    struct logfx f;
    struct cvma_verdict v;
    logfx_init(&f);
    /* A checkpoint the log key signed, and no witness given: never bound. */
    cvma_verdict_init(&v);
    assert_false(logfx_check(&f, false, 1, 0, 0, &v));
    assert_non_null(tu_reason_must(&v, CVMA_R_REGISTRY_LOG_TOO_FEW_COSIGNATURES));
    assert_true(tu_detail_has(&v, CVMA_R_REGISTRY_LOG_TOO_FEW_COSIGNATURES, "1 required"));
    assert_int_equal(logfx_state_size(&f), 0);
    cvma_verdict_cleanup(&v);
    /* The same checkpoint cosigned by the witness given: bound. */
    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 1, 0, 0, &v));
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(logfx_state_size(&f), 1);
    cvma_verdict_cleanup(&v);
    logfx_cleanup(&f);
}

static void test_bind_log_state_never_moves_backwards(void **state)
{
    (void)state;
    struct logfx f;
    struct cvma_verdict v;
    logfx_init(&f);
    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 3, 0, 0, &v));
    assert_int_equal(logfx_state_size(&f), 3);
    cvma_verdict_cleanup(&v);
    /* An older checkpoint proven a prefix of the newest: accepted, the newest stays. */
    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 2, 2, 3, &v));
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(logfx_state_size(&f), 3);
    cvma_verdict_cleanup(&v);
    /* A newer one proven consistent replaces it. */
    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 4, 3, 4, &v));
    assert_int_equal(logfx_state_size(&f), 4);
    cvma_verdict_cleanup(&v);
    logfx_cleanup(&f);
}

/*
 * The log state is opened as the registry's rollback state is: never through a symlink. A
 * link to a file elsewhere holding the checkpoint of size 3 was followed, so a checkpoint of
 * size 2 was REGISTRY_LOG_SHRANK against someone else's file; now the state is not read (the
 * registry binds with REGISTRY_ROLLBACK_NOT_CHECKED saying why), and neither the link nor the
 * file it names is replaced.
 */
static void test_bind_log_state_never_read_through_a_symlink(void **state)
{
    (void)state;
    struct logfx f;
    struct cvma_verdict v;
    struct cvma_buf b = {0};
    struct stat sb;
    char *spath, *outside, *cp3;

    logfx_init(&f);
    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 1, 0, 0, &v)); /* the state directory made */
    cvma_verdict_cleanup(&v);
    assert_non_null(
            spath = cvma_tlog_state_path(f.state, "tlog-state.", LOGFX_ORIGIN, ".checkpoint"));
    outside = tu_path(f.dir, "outside");
    assert_non_null(cp3 = logfx_checkpoint(&f, 3, false));
    tu_write(outside, (const uint8_t *)cp3, strlen(cp3));
    assert_int_equal(unlink(spath), 0);
    assert_int_equal(symlink(outside, spath), 0);

    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 2, 0, 0, &v));
    assert_null(tu_reason(&v, CVMA_R_REGISTRY_LOG_SHRANK));
    const struct cvma_verdict_reason *r = tu_reason_must(&v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED);
    assert_non_null(
            strstr(r->detail, "a symbolic link (a state file is never opened through one)"));
    cvma_verdict_cleanup(&v);
    assert_int_equal(lstat(spath, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    tu_read(outside, &b);
    assert_int_equal(b.len, strlen(cp3));
    assert_memory_equal(b.p, cp3, b.len);
    cvma_buf_free(&b);
    free(cp3);
    free(outside);
    free(spath);
    logfx_cleanup(&f);
}

/*
 * A log state larger than any note (1 MiB) is no state, as an empty or garbled one is: after
 * a check that passes it is replaced by the checkpoint at hand, and the floor holds again.
 * It was only warned about ("unreadable: consistency not checked") and kept, which left the
 * consistency check off on every run.
 */
static void test_bind_log_state_too_large_is_replaced(void **state)
{
    (void)state;
    struct logfx f;
    struct cvma_verdict v;
    char *spath, *big;
    size_t n = CVMA_TLOG_NOTE_MAX + 1;

    logfx_init(&f);
    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 1, 0, 0, &v));
    cvma_verdict_cleanup(&v);
    assert_non_null(
            spath = cvma_tlog_state_path(f.state, "tlog-state.", LOGFX_ORIGIN, ".checkpoint"));
    assert_non_null(big = malloc(n));
    memset(big, 'a', n);
    tu_write(spath, (const uint8_t *)big, n);
    free(big);

    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 2, 0, 0, &v));
    const struct cvma_verdict_reason *r = tu_reason_must(&v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED);
    assert_non_null(strstr(r->detail, "log state unreadable, replaced: larger than"));
    cvma_verdict_cleanup(&v);
    assert_int_equal(logfx_state_size(&f), 2);
    /* The floor holds: a smaller checkpoint without a proof is refused. */
    cvma_verdict_init(&v);
    assert_false(logfx_check(&f, true, 1, 0, 0, &v));
    tu_reason_must(&v, CVMA_R_REGISTRY_LOG_SHRANK);
    cvma_verdict_cleanup(&v);
    free(spath);
    logfx_cleanup(&f);
}

/*
 * Two verifiers sharing a cache directory: while one holds the log's state lock (as it does
 * between reading the newest checkpoint and writing a newer one), another waits, then reads
 * what the first wrote. Here the first moves the state from size 1 to 3 while the second
 * verifies a checkpoint of size 2 with a proof from 1 to 2 only: read under the lock, the
 * state is 3, so the second is REGISTRY_LOG_SHRANK (unlocked, it would have read size 1,
 * accepted, and written size 2 over the other's 3).
 */
static void test_bind_log_state_is_read_under_the_lock(void **state)
{
    (void)state;
    struct logfx f;
    struct cvma_verdict v;
    char *lock, *spath, *cp;
    int fd, status = -1;
    pid_t pid;

    logfx_init(&f);
    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 1, 0, 0, &v));
    assert_int_equal(logfx_state_size(&f), 1);
    cvma_verdict_cleanup(&v);
    assert_non_null(lock = cvma_tlog_state_path(f.state, "tlog-state.", LOGFX_ORIGIN, ".lock"));
    assert_non_null(
            spath = cvma_tlog_state_path(f.state, "tlog-state.", LOGFX_ORIGIN, ".checkpoint"));
    assert_true((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    fflush(NULL);
    assert_true((pid = fork()) >= 0);
    if (pid == 0) {
        struct cvma_verdict cv;
        cvma_verdict_init(&cv);
        bool ok = logfx_check(&f, true, 2, 1, 2, &cv);
        _exit(!ok && tu_reason(&cv, CVMA_R_REGISTRY_LOG_SHRANK) != NULL ? 0 : 1);
    }
    usleep(300 * 1000); /* the other verifier is waiting for the lock by now */
    struct cvma_checkpoint c3 = {.size = 3};
    snprintf(c3.origin, sizeof c3.origin, "%s", LOGFX_ORIGIN);
    cvma_merkle_subtree(&f.t, 0, 3, c3.root);
    /* the bare checkpoint text earlier versions stored: still read */
    assert_non_null(cp = cvma_checkpoint_text(&c3));
    assert_int_equal(cvma_file_write_atomic(spath, (const uint8_t *)cp, strlen(cp)), CVMA_OK);
    assert_int_equal(flock(fd, LOCK_UN), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(logfx_state_size(&f), 3);
    close(fd);
    free(cp);
    free(lock);
    free(spath);
    logfx_cleanup(&f);
}

/*
 * A log served slowly (--log-url over HTTP): the tiles of one check share one time-out, the
 * options' http.timeout_ms. The check runs under the log's state lock, and each tile used to
 * have a time-out of its own, twice (the partial tile, then the full one): a slow mirror held
 * every verification of the provider that long per tile. Here a server answers after 2 s, the
 * time-out is 1 s: one request, about 1 s, the log's tiles unavailable and saying why.
 */
static void test_bind_log_tiles_share_one_timeout(void **state)
{
    (void)state;
    static const char *const extra[] = {"--delay", "2", NULL};
    const char *src = getenv("CVMATTEST_SRC"), *argv[24];
    struct logfx f;
    struct cvma_verdict v;
    struct cvma_registry_bind_opts o;
    struct reg_item it;
    char err[300], why[CVMA_DETAIL_MAX], url[700];
    bool ok = true;
    pid_t pid = -1;

    if (src == NULL || system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
        skip();
    }
    logfx_init(&f);
    cvma_verdict_init(&v);
    assert_true(logfx_check(&f, true, 2, 0, 0, &v)); /* size 2 seen */
    cvma_verdict_cleanup(&v);
    char *tiles = tu_path(f.dir, "log"), *script = tu_path(src, "tests/kds_server.py"),
         *log = tu_path(f.dir, "requests.log"), *p4 = logfx_proof(&f, 4, true);
    logfx_publish(&f, tiles);
    tu_server_argv(argv, CVMA_ARRAY_LEN(argv), script, tiles, log, extra);
    int port = tu_server_start(argv, &pid);
    assert_true(port > 0);
    snprintf(url, sizeof url, "acme=http://127.0.0.1:%d/", port);
    struct cvma_registry_set *rs = cvma_registry_set_new();
    assert_non_null(rs);
    assert_int_equal(cvma_registry_set_add_log_key(rs, f.logv_spec, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_registry_set_add_witness(rs, f.witv, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_registry_set_add_log_url(rs, url, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_registry_set_add_log_proof(rs, p4, err, sizeof err), CVMA_OK);
    memset(&o, 0, sizeof o);
    o.http.timeout_ms = 1000;
    memset(&it, 0, sizeof it);
    it.origin = "reg0.jws";
    it.bytes.p = (uint8_t *)f.entry[0];
    it.bytes.len = strlen(f.entry[0]);
    snprintf(it.reg.provider, sizeof it.reg.provider, "acme");
    cvma_verdict_init(&v);
    double t0 = tu_now();
    assert_int_equal(cvma_bind_log_check(rs, &it, f.state, &o, &v, &ok, why, sizeof why),
                     CVMA_UNDECIDED);
    double took = tu_now() - t0;
    assert_false(ok);
    assert_non_null(tu_reason(&v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED));
    assert_non_null(strstr(why, "its tiles took longer than 1000 ms in all"));
    assert_true(took < 1.8); /* one time-out, not one a request (2 s and more) */
    usleep(1500 * 1000);     /* the server has answered (and logged) what it was asked */
    assert_int_equal(tu_log_lines(log), 1);
    assert_int_equal(logfx_state_size(&f), 2); /* nothing stored */
    cvma_verdict_cleanup(&v);
    cvma_registry_set_free(rs);
    tu_server_stop(&pid);
    free(tiles);
    free(script);
    free(log);
    free(p4);
    logfx_cleanup(&f);
}

/* The monitor trusts a checkpoint only under the name of the key that signed it. */
static void test_monitor_refuses_a_checkpoint_of_another_origin(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *skey = NULL, *vkey = NULL, err[300];
    struct cvma_note_skey sk;
    struct cvma_note_vkey vk;
    struct cvma_checkpoint cp;
    struct cvma_tlog l;
    const uint8_t e[] = "registry 1\n";

    assert_int_equal(cvma_note_keygen(LOGFX_ORIGIN, &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), &vk, err, sizeof err));
    /* The log key signs a checkpoint whose origin line names another log. */
    cvma_tlog_init(&l, "example.com/other/log");
    assert_int_equal(cvma_tlog_append(&l, e, sizeof e - 1), CVMA_OK);
    assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_OK);
    cvma_tlog_cleanup(&l);
    err[0] = '\0';
    assert_int_equal(
            cvma_tlog_monitor(dir, &vk, NULL, 0, 0, NULL, NULL, &cp, NULL, NULL, err, sizeof err),
            CVMA_REJECTED);
    assert_non_null(strstr(err, "example.com/other/log"));
    assert_int_equal(cp.size, 0);
    /* Its own origin: checked through. */
    tu_rmtree(dir);
    free(dir);
    dir = tu_tmpdir();
    cvma_tlog_init(&l, LOGFX_ORIGIN);
    assert_int_equal(cvma_tlog_append(&l, e, sizeof e - 1), CVMA_OK);
    assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_OK);
    cvma_tlog_cleanup(&l);
    assert_int_equal(
            cvma_tlog_monitor(dir, &vk, NULL, 0, 0, NULL, NULL, &cp, NULL, NULL, err, sizeof err),
            CVMA_OK);
    assert_int_equal(cp.size, 1);
    cvma_note_skey_cleanup(&sk);
    free(skey);
    free(vkey);
    tu_rmtree(dir);
    free(dir);
}

/* The monitor counts each witness key once and never the log's own key: before, a key given
 * twice made one cosignature count twice, and the log's own cosignature counted as a
 * witness's. */
static void test_monitor_counts_each_witness_key_once(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *skey = NULL, *vkey = NULL, err[300];
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv;
    struct cvma_checkpoint cp;
    struct cvma_note n;
    struct cvma_tlog l;
    struct cvma_buf b = {0};
    const uint8_t e[] = "registry 1\n";

    assert_int_equal(cvma_note_keygen(LOGFX_ORIGIN, &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), &vk, err, sizeof err));
    note_keys("witness.example/w1", &wk, &wv);
    cvma_tlog_init(&l, LOGFX_ORIGIN);
    assert_int_equal(cvma_tlog_append(&l, e, sizeof e - 1), CVMA_OK);
    assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_OK);
    cvma_tlog_cleanup(&l);
    /* The checkpoint cosigned by w1 and by the log's own key. */
    char *path = tu_path(dir, "checkpoint");
    assert_int_equal(cvma_file_read_regular(path, CVMA_TLOG_NOTE_MAX, &b), CVMA_OK);
    assert_int_equal(cvma_note_parse(b.p, b.len, &n, err, sizeof err), CVMA_OK);
    char *c1 = cvma_note_cosign_line(&wk, n.text, n.text_len, 1700000000);
    char *c2 = cvma_note_cosign_line(&sk, n.text, n.text_len, 1700000000);
    assert_non_null(c1);
    assert_non_null(c2);
    cvma_note_cleanup(&n);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    assert_true(fputs(c1, f) >= 0 && fputs(c2, f) >= 0);
    assert_int_equal(fclose(f), 0);

    const struct cvma_note_vkey one[] = {wv}, twice[] = {wv, wv}, self[] = {wv, vk};
    assert_int_equal(
            cvma_tlog_monitor(dir, &vk, one, 1, 1, NULL, NULL, &cp, NULL, NULL, err, sizeof err),
            CVMA_OK);
    assert_int_equal(
            cvma_tlog_monitor(dir, &vk, twice, 2, 2, NULL, NULL, &cp, NULL, NULL, err, sizeof err),
            CVMA_REJECTED);
    assert_non_null(strstr(err, "1 of the 2 given witnesses"));
    assert_int_equal(
            cvma_tlog_monitor(dir, &vk, self, 2, 2, NULL, NULL, &cp, NULL, NULL, err, sizeof err),
            CVMA_REJECTED);
    assert_int_equal(
            cvma_tlog_monitor(dir, &vk, twice, 2, 1, NULL, NULL, &cp, NULL, NULL, err, sizeof err),
            CVMA_OK);

    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
    cvma_buf_free(&b);
    free(c1);
    free(c2);
    free(path);
    free(skey);
    free(vkey);
    tu_rmtree(dir);
    free(dir);
}

/* The one witness-key rule (monitor, registry log check, verifier): a key is compared by its
 * public key whatever its name; the log's own key is checked first, then earlier witnesses. */
static void test_witness_key_rule(void **state)
{
    (void)state;
    struct cvma_note_skey sk, wk;
    struct cvma_note_vkey vk, wv, alias, w[3];
    char err[600];
    note_keys("example.com/log", &sk, &vk);
    note_keys("witness.example/w1", &wk, &wv);
    char *s = vkey_renamed(&wv, "witness.example/alias");
    assert_true(cvma_note_vkey_parse(s, strlen(s), &alias, err, sizeof err));
    free(s);
    w[0] = wv;
    w[1] = alias;
    w[2] = vk;
    assert_int_equal(cvma_tlog_witness_key_check(&w[0], &vk, w, 0, err, sizeof err),
                     CVMA_WITNESS_KEY_OK);
    assert_int_equal(cvma_tlog_witness_key_check(&w[1], &vk, w, 1, err, sizeof err),
                     CVMA_WITNESS_KEY_REPEATED);
    assert_string_equal(err, "witness witness.example/alias given twice");
    assert_int_equal(cvma_tlog_witness_key_check(&w[2], &vk, w, 2, err, sizeof err),
                     CVMA_WITNESS_KEY_IS_LOG);
    assert_string_equal(err, "witness example.com/log has log example.com/log's key: a log "
                             "cannot witness itself");
    assert_int_equal(cvma_tlog_witness_key_check(&w[2], NULL, w, 2, NULL, 0),
                     CVMA_WITNESS_KEY_OK); /* no log to compare with */
    /* A key that is both the log's and an earlier witness's (given first under another name):
     * the log's key is named, not the repetition. */
    struct cvma_note_vkey both[2];
    s = vkey_renamed(&vk, "witness.example/log-alias");
    assert_true(cvma_note_vkey_parse(s, strlen(s), &both[0], err, sizeof err));
    free(s);
    both[1] = vk;
    assert_int_equal(cvma_tlog_witness_key_check(&both[1], &vk, both, 1, err, sizeof err),
                     CVMA_WITNESS_KEY_IS_LOG);
    assert_string_equal(err, "witness example.com/log has log example.com/log's key: a log "
                             "cannot witness itself");
    assert_int_equal(cvma_tlog_witness_key_check(&both[1], NULL, both, 1, NULL, 0),
                     CVMA_WITNESS_KEY_REPEATED); /* it is the earlier one's key */
    cvma_note_skey_cleanup(&sk);
    cvma_note_skey_cleanup(&wk);
}

/* A fresh log directory of entries "registry <names[i]>", signed by sk. */
static char *monstate_log(const struct cvma_note_skey *sk, const int *names, size_t n)
{
    char *dir = tu_tmpdir(), err[300];
    struct cvma_tlog l;
    cvma_tlog_init(&l, LOGFX_ORIGIN);
    for (size_t i = 0; i < n; i++) {
        char e[32];
        int w = snprintf(e, sizeof e, "registry %d\n", names[i]);
        assert_int_equal(cvma_tlog_append(&l, (const uint8_t *)e, (size_t)w), CVMA_OK);
    }
    assert_int_equal(cvma_tlog_save(&l, dir, sk, err, sizeof err), CVMA_OK);
    cvma_tlog_cleanup(&l);
    return dir;
}

/* Monitors the log in logdir and compares it with the state in sdir: the result. */
static enum cvma_tlog_seen monstate_run(const char *logdir, const char *sdir,
                                        const struct cvma_note_vkey *vk, uint64_t *prev_size)
{
    struct cvma_checkpoint cp, prev;
    struct cvma_buf note;
    struct cvma_merkle tree;
    enum cvma_tlog_seen seen;
    char err[300], detail[2048];
    assert_int_equal(cvma_tlog_monitor(logdir, vk, NULL, 0, 0, NULL, NULL, &cp, &note, &tree, err,
                                       sizeof err),
                     CVMA_OK);
    assert_int_equal(tree.n_leaves, cp.size);
    assert_int_equal(cvma_tlog_monitor_state(sdir, vk, &cp, note.p, note.len, &tree, &seen, &prev,
                                             detail, sizeof detail),
                     CVMA_OK);
    *prev_size = prev.size;
    cvma_buf_free(&note);
    cvma_merkle_cleanup(&tree);
    return seen;
}

/* The monitor's state (registry log check --state): it kept nothing, so a log rewritten in
 * place with the same size and another root passed unseen. Now the log must be the one
 * verified last time or have grown from it. */
static void test_monitor_state_holds_the_log_to_the_one_verified(void **state)
{
    (void)state;
    char *sdir = tu_tmpdir(), *skey = NULL, *vkey = NULL, err[300];
    struct cvma_note_skey sk;
    struct cvma_note_vkey vk;
    uint64_t prev = 0;
    static const int l3[] = {1, 2, 3}, l4[] = {1, 2, 3, 4}, f4[] = {1, 2, 5, 9},
                     f5[] = {1, 2, 5, 9, 10};

    assert_int_equal(cvma_note_keygen(LOGFX_ORIGIN, &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), &vk, err, sizeof err));
    char *dl3 = monstate_log(&sk, l3, 3), *dl4 = monstate_log(&sk, l4, 4),
         *df4 = monstate_log(&sk, f4, 4), *df5 = monstate_log(&sk, f5, 5);

    assert_int_equal(monstate_run(dl3, sdir, &vk, &prev), CVMA_TLOG_SEEN_FIRST);
    assert_int_equal(monstate_run(dl3, sdir, &vk, &prev), CVMA_TLOG_SEEN_SAME);
    assert_int_equal(monstate_run(dl4, sdir, &vk, &prev), CVMA_TLOG_SEEN_GREW);
    assert_int_equal(prev, 3);
    assert_int_equal(monstate_run(df4, sdir, &vk, &prev), CVMA_TLOG_SEEN_SPLIT);
    assert_int_equal(monstate_run(df5, sdir, &vk, &prev), CVMA_TLOG_SEEN_SPLIT);
    assert_int_equal(prev, 4);
    assert_int_equal(monstate_run(dl3, sdir, &vk, &prev), CVMA_TLOG_SEEN_SHRANK);
    assert_int_equal(monstate_run(dl4, sdir, &vk, &prev), CVMA_TLOG_SEEN_SAME);

    char *dirs[] = {dl3, dl4, df4, df5, sdir};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(dirs); i++) {
        tu_rmtree(dirs[i]);
        free(dirs[i]);
    }
    cvma_note_skey_cleanup(&sk);
    free(skey);
    free(vkey);
}

/* The monitor's state is read as every state file is: never through a symbolic link. A link
 * to a file elsewhere was followed and compared with; now --state refuses naming the link,
 * and neither the link nor the file it names is replaced. */
static void test_monitor_state_never_read_through_a_symlink(void **state)
{
    (void)state;
    char *sdir = tu_tmpdir(), *skey = NULL, *vkey = NULL, err[300], detail[2048];
    struct cvma_note_skey sk;
    struct cvma_note_vkey vk;
    struct cvma_checkpoint cp, prev;
    struct cvma_buf note, b = {0};
    struct cvma_merkle tree;
    enum cvma_tlog_seen seen;
    struct stat sb;
    uint64_t psize = 0;
    static const int l3[] = {1, 2, 3};

    assert_int_equal(cvma_note_keygen(LOGFX_ORIGIN, &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), &vk, err, sizeof err));
    char *dl3 = monstate_log(&sk, l3, 3);
    assert_int_equal(monstate_run(dl3, sdir, &vk, &psize), CVMA_TLOG_SEEN_FIRST);
    char *spath = cvma_tlog_state_path(sdir, "tlog-state.", LOGFX_ORIGIN, ".checkpoint"),
         *outside = tu_path(dl3, "outside");
    assert_non_null(spath);
    assert_int_equal(rename(spath, outside), 0);
    assert_int_equal(symlink(outside, spath), 0);
    assert_int_equal(
            cvma_tlog_monitor(dl3, &vk, NULL, 0, 0, NULL, NULL, &cp, &note, &tree, err, sizeof err),
            CVMA_OK);
    assert_int_equal(cvma_tlog_monitor_state(sdir, &vk, &cp, note.p, note.len, &tree, &seen, &prev,
                                             detail, sizeof detail),
                     CVMA_E_USAGE);
    assert_non_null(strstr(detail, "a symbolic link"));
    assert_int_equal(lstat(spath, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    tu_read(outside, &b);
    assert_int_equal(b.len, note.len);
    cvma_buf_free(&b);
    cvma_buf_free(&note);
    cvma_merkle_cleanup(&tree);
    tu_rmtree(dl3);
    tu_rmtree(sdir);
    free(dl3);
    free(sdir);
    free(spath);
    free(outside);
    cvma_note_skey_cleanup(&sk);
    free(skey);
    free(vkey);
}

static int count_entry(void *ctx, uint64_t index, const uint8_t *e, size_t len)
{
    (void)index;
    (void)e;
    (void)len;
    (*(int *)ctx)++;
    return 0;
}

/* The monitor gives no entry to its callback before every tile and the root verified: a
 * hash tile altered on disk used to be found only after the entries it covers were passed
 * on. */
static void test_monitor_calls_back_only_after_verifying(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *skey = NULL, *vkey = NULL, err[300];
    struct cvma_note_skey sk;
    struct cvma_note_vkey vk;
    struct cvma_checkpoint cp;
    struct cvma_tlog l;
    struct cvma_buf b = {0};
    int seen = 0;

    assert_int_equal(cvma_note_keygen(LOGFX_ORIGIN, &skey, &vkey, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err));
    assert_true(cvma_note_vkey_parse(vkey, strlen(vkey), &vk, err, sizeof err));
    cvma_tlog_init(&l, LOGFX_ORIGIN);
    for (int i = 0; i < 3; i++) {
        char e[32];
        int w = snprintf(e, sizeof e, "registry %d\n", i);
        assert_int_equal(cvma_tlog_append(&l, (const uint8_t *)e, (size_t)w), CVMA_OK);
    }
    assert_int_equal(cvma_tlog_save(&l, dir, &sk, err, sizeof err), CVMA_OK);
    cvma_tlog_cleanup(&l);
    assert_int_equal(cvma_tlog_monitor(dir, &vk, NULL, 0, 0, count_entry, &seen, &cp, NULL, NULL,
                                       err, sizeof err),
                     CVMA_OK);
    assert_int_equal(seen, 3);

    /* The level-0 hash tile altered: refused, and no entry given to the callback. */
    char *tile = tu_path(dir, "tile/0/000.p/3");
    assert_int_equal(cvma_file_read(tile, 1 << 16, &b), CVMA_OK);
    assert_int_equal(b.len, 3 * 32);
    b.p[40] ^= 1;
    tu_write(tile, b.p, b.len);
    seen = 0;
    assert_int_equal(cvma_tlog_monitor(dir, &vk, NULL, 0, 0, count_entry, &seen, &cp, NULL, NULL,
                                       err, sizeof err),
                     CVMA_REJECTED);
    assert_non_null(strstr(err, "does not match"));
    assert_int_equal(seen, 0);

    cvma_buf_free(&b);
    cvma_note_skey_cleanup(&sk);
    free(tile);
    free(skey);
    free(vkey);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ct_consistency_vectors),
            cmocka_unit_test(test_ct_inclusion_vectors_at_smaller_sizes),
            cmocka_unit_test(test_all_pairs_up_to_70),
            cmocka_unit_test(test_tile_paths),
            cmocka_unit_test(test_go_example_vkey_and_note),
            cmocka_unit_test(test_names_with_a_nul_are_refused),
            cmocka_unit_test(test_note_parse_gives_back_nothing_when_it_refuses),
            cmocka_unit_test(test_tlog_proof_parse_gives_back_nothing_when_it_refuses),
            cmocka_unit_test(test_witness_parse_request_gives_back_nothing_when_it_refuses),
            cmocka_unit_test(test_refusals_say_what_is_wrong),
            cmocka_unit_test(test_checkpoint_parse_refuses_an_origin_with_a_nul),
            cmocka_unit_test(test_keygen_sign_cosign),
            cmocka_unit_test(test_log_full),
            cmocka_unit_test(test_witness_state_of_a_large_checkpoint),
            cmocka_unit_test(test_witness_state_of_another_origin),
            cmocka_unit_test(test_cosig_timestamp_above_2_63),
            cmocka_unit_test(test_monitor_counts_each_witness_key_once),
            cmocka_unit_test(test_witness_key_rule),
            cmocka_unit_test(test_bind_log_tries_every_proof),
            cmocka_unit_test(test_bind_log_names_an_unparseable_proof),
            cmocka_unit_test(test_witness_keeps_every_split_view),
            cmocka_unit_test(test_monitor_calls_back_only_after_verifying),
            cmocka_unit_test(test_monitor_state_holds_the_log_to_the_one_verified),
            cmocka_unit_test(test_note_parse_refusals),
            cmocka_unit_test(test_note_name_refuses_c1_controls),
            cmocka_unit_test(test_note_long_unknown_signature_is_ignored),
            cmocka_unit_test(test_note_unknown_signer_with_a_c1_name_is_ignored),
            cmocka_unit_test(test_size_0_checkpoint_needs_the_empty_root),
            cmocka_unit_test(test_log_source_url_scheme_in_any_case),
            cmocka_unit_test(test_log_save_load_tiles),
            cmocka_unit_test(test_log_save_refuses_tiles_beyond_its_checkpoint),
            cmocka_unit_test(test_bind_log_needs_a_witness_cosignature),
            cmocka_unit_test(test_bind_log_state_never_moves_backwards),
            cmocka_unit_test(test_bind_log_state_is_read_under_the_lock),
            cmocka_unit_test(test_bind_log_state_never_read_through_a_symlink),
            cmocka_unit_test(test_witness_state_never_read_through_a_symlink),
            cmocka_unit_test(test_monitor_state_never_read_through_a_symlink),
            cmocka_unit_test(test_bind_log_state_too_large_is_replaced),
            cmocka_unit_test(test_bind_log_tiles_share_one_timeout),
            cmocka_unit_test(test_monitor_refuses_a_checkpoint_of_another_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
