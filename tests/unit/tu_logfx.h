/*
 * Tests: a registry log to bind with (src/registry/bind_log.c): four entries, the log key and
 * one witness key, the log proofs of entry 0 in checkpoints of size 1..4, consistency proofs
 * between them, and the checkpoint a state directory holds. Used by test_tlog.c and, for the
 * log's tiles with allocations failed, test_oom.c.
 */
#ifndef CVMA_TESTS_TU_LOGFX_H
#define CVMA_TESTS_TU_LOGFX_H

#include "common/base64.h"
#include "registry/registry.h"
#include "testutil.h"
#include "tlog/tlog.h"

#define LOGFX_ORIGIN "example.com/acme/log"

/* Four log entries, the log key and one witness key (their vkeys as files in dir), and the
 * tree over the entries: proofs of entry 0 in checkpoints of size 1..4. */
struct logfx {
    char *dir, *state;
    struct cvma_note_skey log, wit;
    char logv_spec[600], witv[600];
    char entry[4][32];
    struct cvma_merkle t;
};

static inline void logfx_init(struct logfx *f)
{
    char *sk = NULL, *vk = NULL, err[200];
    uint8_t leaves[4][32];
    memset(f, 0, sizeof *f);
    f->dir = tu_tmpdir();
    f->state = tu_path(f->dir, "state");
    assert_int_equal(cvma_note_keygen(LOGFX_ORIGIN, &sk, &vk, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(sk, strlen(sk), &f->log, err, sizeof err));
    char *p = tu_path(f->dir, "log.vkey");
    tu_write(p, (const uint8_t *)vk, strlen(vk));
    snprintf(f->logv_spec, sizeof f->logv_spec, "acme=%s", p);
    free(p);
    free(sk);
    free(vk);
    assert_int_equal(cvma_note_keygen("witness.example/w1", &sk, &vk, err, sizeof err), CVMA_OK);
    assert_true(cvma_note_skey_parse(sk, strlen(sk), &f->wit, err, sizeof err));
    p = tu_path(f->dir, "w1.vkey");
    tu_write(p, (const uint8_t *)vk, strlen(vk));
    snprintf(f->witv, sizeof f->witv, "%s", p);
    free(p);
    free(sk);
    free(vk);
    for (int i = 0; i < 4; i++) {
        snprintf(f->entry[i], sizeof f->entry[i], "registry %d\n", i);
        cvma_merkle_leaf_hash((const uint8_t *)f->entry[i], strlen(f->entry[i]), leaves[i]);
    }
    assert_int_equal(cvma_merkle_build_hashes(&f->t, (const uint8_t(*)[32])leaves, 4), CVMA_OK);
}

static inline void logfx_cleanup(struct logfx *f)
{
    cvma_merkle_cleanup(&f->t);
    cvma_note_skey_cleanup(&f->log);
    cvma_note_skey_cleanup(&f->wit);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->state);
}

/* The signed checkpoint of size n (cosigned by the witness when cosign), malloc'd. */
static inline char *logfx_checkpoint(struct logfx *f, uint64_t n, bool cosign)
{
    struct cvma_checkpoint c = {.size = n};
    char *text, *sig, *cosig = NULL, *all;
    snprintf(c.origin, sizeof c.origin, "%s", LOGFX_ORIGIN);
    cvma_merkle_subtree(&f->t, 0, n, c.root);
    assert_non_null(text = cvma_checkpoint_text(&c));
    assert_non_null(sig = cvma_note_sign_line(&f->log, text, strlen(text)));
    if (cosign) {
        assert_non_null(cosig = cvma_note_cosign_line(&f->wit, text, strlen(text), 1767225600));
    }
    size_t len = strlen(text) + 1 + strlen(sig) + (cosig ? strlen(cosig) : 0) + 1;
    assert_non_null(all = malloc(len));
    snprintf(all, len, "%s\n%s%s", text, sig, cosig ? cosig : "");
    free(text);
    free(sig);
    free(cosig);
    return all;
}

/* Writes a c2sp.org/tlog-proof@v1 of entry 0 in the checkpoint of size n; returns its path. */
static inline char *logfx_proof(struct logfx *f, uint64_t n, bool cosign)
{
    uint8_t path[CVMA_REG_PATH_MAX][32];
    size_t k = cvma_merkle_inclusion_proof(&f->t, 0, n, path);
    char name[32], b64[64], *cp = logfx_checkpoint(f, n, cosign), *file;
    size_t cap = 4096, len;
    char *out = malloc(cap);
    assert_non_null(out);
    len = (size_t)snprintf(out, cap, "c2sp.org/tlog-proof@v1\nindex 0\n");
    for (size_t i = 0; i < k; i++) {
        assert_true(cvma_base64_encode_to(path[i], 32, CVMA_B64_STD, b64, sizeof b64));
        len += (size_t)snprintf(out + len, cap - len, "%s\n", b64);
    }
    len += (size_t)snprintf(out + len, cap - len, "\n%s", cp);
    assert_true(len < cap);
    snprintf(name, sizeof name, "proof-%llu%s", (unsigned long long)n, cosign ? "w" : "");
    file = tu_path(f->dir, name);
    tu_write(file, (const uint8_t *)out, len);
    free(out);
    free(cp);
    return file;
}

/* Writes the consistency proof from size a to size b; returns its path. */
static inline char *logfx_consistency(struct logfx *f, uint64_t a, uint64_t b)
{
    uint8_t h[CVMA_REG_PATH_MAX][32];
    size_t k = cvma_merkle_consistency_proof(&f->t, a, b, h);
    char name[32], b64[64], out[2048], *file;
    size_t len = (size_t)snprintf(out, sizeof out,
                                  "{\"old_size\": %llu, \"new_size\": %llu, \"hashes\": [",
                                  (unsigned long long)a, (unsigned long long)b);
    for (size_t i = 0; i < k; i++) {
        assert_true(cvma_base64_encode_to(h[i], 32, CVMA_B64_STD, b64, sizeof b64));
        len += (size_t)snprintf(out + len, sizeof out - len, "%s\"%s\"", i ? ", " : "", b64);
    }
    len += (size_t)snprintf(out + len, sizeof out - len, "]}\n");
    snprintf(name, sizeof name, "cons-%llu-%llu", (unsigned long long)a, (unsigned long long)b);
    file = tu_path(f->dir, name);
    tu_write(file, (const uint8_t *)out, len);
    return file;
}

/* The size of the checkpoint kept in the state directory (0: none). */
static inline uint64_t logfx_state_size(struct logfx *f)
{
    char *p = cvma_tlog_state_path(f->state, "tlog-state.", LOGFX_ORIGIN, ".checkpoint");
    struct cvma_buf b = {0};
    struct cvma_checkpoint c;
    char err[200];
    uint64_t n = 0;
    assert_non_null(p);
    if (cvma_file_read(p, 1 << 16, &b) == CVMA_OK) {
        bool is_signed = false;
        /* the signed note, or the bare text of earlier versions */
        assert_int_equal(cvma_tlog_state_parse(b.p, b.len, &c, &is_signed, err, sizeof err),
                         CVMA_OK);
        n = c.size;
    }
    cvma_buf_free(&b);
    free(p);
    return n;
}

/* Publishes the log as tlog-tiles in dir (its tiles, entry bundles and signed checkpoint of
 * size 4), as a --log-url directory serves them. */
static inline void logfx_publish(struct logfx *f, const char *dir)
{
    struct cvma_tlog l;
    char err[200];
    cvma_tlog_init(&l, LOGFX_ORIGIN);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cvma_tlog_append(&l, (const uint8_t *)f->entry[i], strlen(f->entry[i])),
                         CVMA_OK);
    }
    assert_int_equal(cvma_tlog_save(&l, dir, &f->log, err, sizeof err), CVMA_OK);
    cvma_tlog_cleanup(&l);
}

#endif
