/*
 * libFuzzer target: the tlog witness's add-checkpoint (cvma_witness_add, src/tlog/witness.c),
 * its state kept between calls, against a model of what it must answer. The parsers it calls
 * are fuzzed by fuzz_tlog.c; this target holds its decisions to the order of checks of
 * witness.c and c2sp.org/tlog-witness.
 *
 * Each input runs in a fresh private state directory (one per process, emptied before every
 * input) and is a sequence of operations of OP_LEN bytes, each one add-checkpoint call:
 *   byte 0  the tree size, 0..64
 *   byte 1  the tree: the true one (leaf i's data is i as 8 bytes big-endian), or (high bit
 *           set) a fork whose leaves from index d = (byte & 0x7f) % 65 on also hold d
 *   byte 2  the old size sent: (high bit set) the size the model last cosigned for that log,
 *           else (byte & 0x7f) % 66
 *   byte 3  the consistency proof from the old size sent (RFC 9162 2.1.4.1, computed here
 *           with OpenSSL's SHA-256 over the leaves): as it is (top two bits 0 or 1), one hash
 *           with a bit flipped (2), cut by its last hash or, when empty, one hash more (3)
 *   byte 4  bit 0: which of two configured logs; bits 1-3: the log's signature as it is
 *           (0..3), over another text (4), by the other log's key (5), by another key of the
 *           log's name (6), or as it is after a valid signature by the other log (7); bits
 *           4-6: the checkpoint as it is (0..4), with an origin no log has (5), with a size
 *           line that is not a number (6), or the note without any signature line (7)
 * The model keeps, per log, the size, root and tree last cosigned, and predicts the exact
 * enum cvma_witness_result of each call: BAD_REQUEST (the note or checkpoint malformed),
 * UNKNOWN_LOG, FORBIDDEN, BAD_REQUEST (old size above the checkpoint's), CONFLICT (old size
 * not the one last cosigned; the same size with another root), BAD_PROOF, OK; *known_size
 * for every answer; on OK the cosignature line is checked with OpenSSL by hand (key ID of
 * type 0x04, time, Ed25519 over "cosignature/v1\ntime T\n" and the text) and with
 * cvma_note_check_cosig. So a witness that cosigns a tree not consistent with the one it
 * cosigned before, a smaller size, or the same size with another root aborts here.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fuzz_check.h"
#include "tlog/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OP_LEN    5
#define OPS_MAX   48
#define TREE_MAX  64
#define TRUE_TREE (TREE_MAX + 1) /* a fork point no leaf reaches */

static const char *const log_names[2] = {"example.com/fuzz/log-a", "example.com/fuzz/log-b"};

struct keys {
    struct cvma_note_skey log[2];
    struct cvma_note_skey impostor;  /* another key named as log 0 */
    struct cvma_note_skey impostor1; /* another key named as log 1 */
    struct cvma_note_skey witness;
    struct cvma_note_vkey vkeys[2];
};

static char base_dir[256], state_dir[300];

static void make_skey(const char *name, struct cvma_note_skey *out)
{
    char *s = NULL, *v = NULL, err[200];
    CHECK(cvma_note_keygen(name, &s, &v, err, sizeof err) == CVMA_OK);
    CHECK(cvma_note_skey_parse(s, strlen(s), out, err, sizeof err));
    free(s);
    free(v);
}

/* Empties the state directory (the witness creates only plain files in it). */
static void wipe_state(void)
{
    DIR *d = opendir(state_dir);
    struct dirent *e;
    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s", state_dir, e->d_name);
            CHECK(unlink(p) == 0);
        }
    }
    closedir(d);
}

static void remove_dirs(void)
{
    wipe_state();
    rmdir(state_dir);
    rmdir(base_dir);
}

static const struct keys *fuzz_keys(void)
{
    static struct keys k;
    static bool done;
    if (!done) {
        for (int i = 0; i < 2; i++) {
            make_skey(log_names[i], &k.log[i]);
            k.vkeys[i] = k.log[i].v;
        }
        make_skey(log_names[0], &k.impostor);
        make_skey(log_names[1], &k.impostor1);
        make_skey("example.com/fuzz/witness", &k.witness);
        /* One private directory per process (mkdtemp: mode 0700), on tmpfs when there is one:
         * the witness fsyncs each state it writes. */
        const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(base_dir, sizeof base_dir, "%s/cvma-fuzz-witness-XXXXXX",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
        CHECK(mkdtemp(base_dir) != NULL);
        snprintf(state_dir, sizeof state_dir, "%s/state", base_dir);
        atexit(remove_dirs);
        done = true;
    }
    return &k;
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    CHECK(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1);
}

/* RFC 9162 2.1.1: leaf i of the tree forked at fork (TRUE_TREE: the true tree). */
static void leaf_hash(int fork, uint64_t i, uint8_t out[32])
{
    uint8_t b[10];
    size_t n = 9;
    b[0] = 0x00;
    for (int k = 0; k < 8; k++) {
        b[1 + k] = (uint8_t)(i >> (56 - 8 * k));
    }
    if ((int)i >= fork) {
        b[n++] = (uint8_t)fork;
    }
    sha256(b, n, out);
}

static void node_hash(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t b[65];
    b[0] = 0x01;
    memcpy(b + 1, l, 32);
    memcpy(b + 33, r, 32);
    sha256(b, sizeof b, out);
}

/* The largest power of two below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

/* MTH(D[lo:hi]) of the tree forked at fork; the empty tree's is SHA-256(""). */
static void mth(int fork, uint64_t lo, uint64_t hi, uint8_t out[32])
{
    if (hi == lo) {
        sha256((const uint8_t *)"", 0, out);
    } else if (hi - lo == 1) {
        leaf_hash(fork, lo, out);
    } else {
        uint8_t l[32], r[32];
        uint64_t k = split_point(hi - lo);
        mth(fork, lo, lo + k, l);
        mth(fork, lo + k, hi, r);
        node_hash(l, r, out);
    }
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[lo:hi], b), appended to proof[*n]. */
static void subproof(int fork, uint64_t m, uint64_t lo, uint64_t hi, bool b, uint8_t (*proof)[32],
                     size_t *n)
{
    if (m == hi - lo) {
        if (!b) {
            mth(fork, lo, hi, proof[(*n)++]);
        }
        return;
    }
    uint64_t k = split_point(hi - lo);
    if (m <= k) {
        subproof(fork, m, lo, lo + k, b, proof, n);
        mth(fork, lo + k, hi, proof[(*n)++]);
    } else {
        subproof(fork, m - k, lo + k, hi, false, proof, n);
        mth(fork, lo, lo + k, proof[(*n)++]);
    }
}

/* True when the first n leaves of the two trees are the same. */
static bool same_prefix(int fork_a, int fork_b, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint8_t a[32], b[32];
        leaf_hash(fork_a, i, a);
        leaf_hash(fork_b, i, b);
        if (memcmp(a, b, 32) != 0) {
            return false;
        }
    }
    return true;
}

/* The note: text, a blank line, then the signature lines given (each "— ...\n"). */
static size_t make_note(char *out, size_t cap, const char *text, char *const *lines, size_t n)
{
    size_t len = (size_t)snprintf(out, cap, "%s\n", text);
    for (size_t i = 0; i < n; i++) {
        CHECK(lines[i] != NULL);
        len += (size_t)snprintf(out + len, cap - len, "%s", lines[i]);
    }
    CHECK(len < cap);
    return len;
}

/* The cosignature line over text at time now, by hand: "— name base64(key ID || time || sig)"
 * with key ID SHA-256(name || '\n' || 0x04 || pub)[:4], Ed25519 over "cosignature/v1\ntime
 * T\n" || text; then the same through cvma_note_check_cosig. */
static void check_cosig(const struct cvma_note_skey *w, const char *text, const char *line,
                        uint64_t now)
{
    const char *name = w->v.name;
    size_t nl = strlen(name), ll = strlen(line);
    uint8_t raw[80], idb[CVMA_TLOG_NAME_MAX + 34], d[32];
    CHECK(ll > 4 + nl + 1 && memcmp(line, "\xe2\x80\x94 ", 4) == 0 &&
          memcmp(line + 4, name, nl) == 0 && line[4 + nl] == ' ' && line[ll - 1] == '\n');
    CHECK(fz_b64_decode((const uint8_t *)line + 5 + nl, ll - 6 - nl, false, raw, sizeof raw) ==
          4 + 8 + 64);
    memcpy(idb, name, nl);
    idb[nl] = '\n';
    idb[nl + 1] = 0x04;
    memcpy(idb + nl + 2, w->v.pub, 32);
    sha256(idb, nl + 34, d);
    CHECK(memcmp(raw, d, 4) == 0);
    uint64_t t_be = 0;
    for (int i = 0; i < 8; i++) {
        t_be = t_be << 8 | raw[4 + i];
    }
    CHECK(t_be == now); /* big-endian */
    char msg[512];
    int ml = snprintf(msg, sizeof msg, "cosignature/v1\ntime %" PRIu64 "\n%s", now, text);
    CHECK(ml > 0 && (size_t)ml < sizeof msg);
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, w->v.pub, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CHECK(pk != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
          EVP_DigestVerify(ctx, raw + 12, 64, (const uint8_t *)msg, (size_t)ml) == 1);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);

    char note[600];
    int n = snprintf(note, sizeof note, "%s\n%s", text, line);
    CHECK(n > 0 && (size_t)n < sizeof note);
    struct cvma_note parsed;
    char err[200];
    uint64_t t = 0;
    CHECK(cvma_note_parse((const uint8_t *)note, (size_t)n, &parsed, err, sizeof err) == CVMA_OK);
    CHECK(cvma_note_check_cosig(&parsed, &w->v, &t) == CVMA_NOTE_VALID && t == now);
    cvma_note_cleanup(&parsed);
}

/* What the witness last cosigned for a log. */
struct model {
    bool have;
    uint64_t size;
    int fork;
    uint8_t root[32];
};

static void one_op(const struct keys *k, struct model *models, const uint8_t *op, uint64_t now)
{
    uint64_t size = op[0] % (TREE_MAX + 1);
    int fork = op[1] & 0x80 ? (op[1] & 0x7f) % (TREE_MAX + 1) : TRUE_TREE;
    int li = op[4] & 1, sig_mode = (op[4] >> 1) & 7, cp_mode = (op[4] >> 4) & 7;
    int proof_mode = op[3] >> 6;
    struct model *m = &models[li];
    uint64_t known = m->have ? m->size : 0;
    uint64_t old = op[2] & 0x80 ? known : (uint64_t)((op[2] & 0x7f) % (TREE_MAX + 2));
    uint8_t root[32], proof[CVMA_TLOG_PROOF_MAX][32];
    size_t n_proof = 0;

    mth(fork, 0, size, root);
    if (old > 0 && old < size) {
        subproof(fork, old, 0, size, true, proof, &n_proof);
    }
    bool mutated = true;
    if (proof_mode == 2 && n_proof > 0) {
        proof[op[3] % n_proof][op[3] % 32] ^= (uint8_t)(1u << (op[3] % 8));
    } else if (proof_mode >= 2 && n_proof > 0) {
        n_proof--;
    } else if (proof_mode >= 2) {
        memset(proof[n_proof++], op[3], 32);
    } else {
        mutated = false;
    }

    /* The checkpoint text (c2sp.org/tlog-checkpoint): origin, size, base64 root. */
    char text[256], b64[48];
    CHECK(EVP_EncodeBlock((uint8_t *)b64, root, 32) == 44);
    const char *origin = cp_mode == 5 ? "example.com/fuzz/unknown-log" : log_names[li];
    if (cp_mode == 6) {
        snprintf(text, sizeof text, "%s\n%" PRIu64 "x\n%s\n", origin, size, b64);
    } else {
        snprintf(text, sizeof text, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
    }

    /* Its signature lines, as the log (or someone else) signs them. */
    const struct cvma_note_skey *other = &k->log[1 - li];
    char *lines[2] = {NULL, NULL};
    size_t n_lines = 1;
    switch (sig_mode) {
    case 4: {
        char other_text[256];
        snprintf(other_text, sizeof other_text, "%s\n%" PRIu64 "\n%s\n", origin, size + 1, b64);
        lines[0] = cvma_note_sign_line(&k->log[li], other_text, strlen(other_text));
        break;
    }
    case 5:
        lines[0] = cvma_note_sign_line(other, text, strlen(text));
        break;
    case 6:
        lines[0] = cvma_note_sign_line(li == 0 ? &k->impostor : &k->impostor1, text, strlen(text));
        break;
    case 7:
        lines[0] = cvma_note_sign_line(other, text, strlen(text));
        lines[1] = cvma_note_sign_line(&k->log[li], text, strlen(text));
        n_lines = 2;
        break;
    default:
        lines[0] = cvma_note_sign_line(&k->log[li], text, strlen(text));
        break;
    }
    char note[1024];
    size_t note_len = make_note(note, sizeof note, text, lines, cp_mode == 7 ? 0 : n_lines);
    free(lines[0]);
    free(lines[1]);

    /* The answer witness.c must give, check by check. */
    enum cvma_witness_result want;
    uint64_t want_known = 0;
    bool sig_ok = sig_mode <= 3 || sig_mode == 7;
    if (cp_mode == 6 || cp_mode == 7) {
        want = CVMA_WITNESS_BAD_REQUEST;
    } else if (cp_mode == 5) {
        want = CVMA_WITNESS_UNKNOWN_LOG;
    } else if (!sig_ok) {
        want = CVMA_WITNESS_FORBIDDEN;
    } else if (old > size) {
        want = CVMA_WITNESS_BAD_REQUEST;
    } else {
        want_known = known;
        if (old != known) {
            want = CVMA_WITNESS_CONFLICT;
        } else if (m->have && m->size == size && memcmp(m->root, root, 32) != 0) {
            want = CVMA_WITNESS_CONFLICT; /* a split view */
        } else if (mutated || (m->have && !same_prefix(m->fork, fork, m->size))) {
            want = CVMA_WITNESS_BAD_PROOF;
        } else {
            want = CVMA_WITNESS_OK;
            want_known = size;
        }
    }

    static char not_set[] = "not set";
    char *cosig = not_set, err[600] = "";
    uint64_t got_known = 12345;
    enum cvma_witness_result got = cvma_witness_add(
            state_dir, &k->witness, k->vkeys, 2, (const uint8_t *)note, note_len, old,
            (const uint8_t(*)[32])proof, n_proof, now, &cosig, &got_known, err, sizeof err);
    if (got != want || got_known != want_known) {
        fprintf(stderr,
                "fuzz: witness answered %d (known size %" PRIu64 "), the model %d (%" PRIu64
                "): log %d size %" PRIu64 " fork %d old %" PRIu64 " proof %s sig %d cp %d; "
                "last cosigned %s size %" PRIu64 " fork %d; %s\n",
                (int)got, got_known, (int)want, want_known, li, size, fork, old,
                mutated ? "mutated" : "as computed", sig_mode, cp_mode, m->have ? "yes" : "none",
                m->size, m->fork, err);
        abort();
    }
    if (got != CVMA_WITNESS_OK) {
        CHECK(cosig == NULL && err[0] != '\0');
        return;
    }
    CHECK(cosig != NULL);
    check_cosig(&k->witness, text, cosig, now);
    free(cosig);
    m->have = true;
    m->size = size;
    m->fork = fork;
    memcpy(m->root, root, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct keys *k = fuzz_keys();
    struct model models[2];
    memset(models, 0, sizeof models);
    wipe_state();
    for (size_t i = 0; i < OPS_MAX && (i + 1) * OP_LEN <= size; i++) {
        one_op(k, models, data + i * OP_LEN, 1700000000 + i);
    }
    return 0;
}
