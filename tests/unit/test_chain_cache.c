/*
 * The chain cache's references and its thread safety: a value stays valid while a caller
 * holds its reference, whatever is put or evicted meanwhile, and is freed exactly once, by
 * the last release. Then threads hammering one small cache, and threads verifying simulated
 * SEV-SNP reports and TDX quotes through one shared cache (both P-384 backends at once: the
 * backend is a per-call option now). Built once with -fsanitize=thread as well.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "crypto/chain_cache.h"
#include "crypto/crypto.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "snp/snp_internal.h"
#include "tdx/tdx_internal.h"
#include "testutil.h"

#define VAL_MAGIC 0x5ca1ab1eu

static atomic_int n_alloc, n_freed, n_bad_free;

struct val {
    unsigned magic;
    uint8_t key0;
};

static void val_free(void *p)
{
    struct val *x = p;
    if (x->magic != VAL_MAGIC) { /* freed twice (no cmocka assert: may be another thread) */
        atomic_fetch_add(&n_bad_free, 1);
    }
    x->magic = 0;
    free(x);
    atomic_fetch_add(&n_freed, 1);
}

static struct val *val_new(uint8_t k)
{
    struct val *x = malloc(sizeof *x);
    assert_non_null(x);
    x->magic = VAL_MAGIC;
    x->key0 = k;
    atomic_fetch_add(&n_alloc, 1);
    return x;
}

static void key_of(uint8_t k, uint8_t key[32])
{
    memset(key, 0, 32);
    key[0] = k;
    key[31] = (uint8_t)~k;
}

static void counters_reset(void)
{
    atomic_store(&n_alloc, 0);
    atomic_store(&n_freed, 0);
    atomic_store(&n_bad_free, 0);
}

static void test_get_returns_null_on_miss_and_a_reference_on_hit(void **state)
{
    (void)state;
    uint8_t k1[32], k2[32];
    counters_reset();
    key_of(1, k1);
    key_of(2, k2);
    struct cvma_chain_cache *c = cvma_chain_cache_new(2);
    assert_non_null(c);
    assert_null(cvma_chain_cache_get(c, k1));
    struct cvma_chain_ref *p = cvma_chain_cache_put(c, k1, val_new(1), val_free);
    assert_non_null(p);
    struct cvma_chain_ref *g = cvma_chain_cache_get(c, k1);
    assert_non_null(g);
    assert_ptr_equal(cvma_chain_ref_val(g), cvma_chain_ref_val(p));
    assert_null(cvma_chain_cache_get(c, k2));
    assert_int_equal(cvma_chain_cache_hits(c), 1);
    assert_int_equal(cvma_chain_cache_count(c), 1);
    cvma_chain_ref_release(g);
    cvma_chain_ref_release(p);
    assert_int_equal(atomic_load(&n_freed), 0); /* the cache still holds it */
    cvma_chain_cache_free(c);
    assert_int_equal(atomic_load(&n_freed), 1);
}

/* The old contract ("borrowed until the next put") broke here: a put evicting the entry
 * freed it under the caller. Now the caller's reference keeps it alive. */
static void test_evicted_value_lives_until_its_last_release(void **state)
{
    (void)state;
    uint8_t k1[32], k2[32];
    counters_reset();
    key_of(1, k1);
    key_of(2, k2);
    struct cvma_chain_cache *c = cvma_chain_cache_new(1);
    cvma_chain_ref_release(cvma_chain_cache_put(c, k1, val_new(1), val_free));
    struct cvma_chain_ref *g = cvma_chain_cache_get(c, k1);
    assert_non_null(g);
    cvma_chain_ref_release(cvma_chain_cache_put(c, k2, val_new(2), val_free)); /* evicts k1 */
    assert_null(cvma_chain_cache_get(c, k1));
    assert_int_equal(atomic_load(&n_freed), 0);
    const struct val *v = cvma_chain_ref_val(g);
    assert_int_equal(v->magic, VAL_MAGIC);
    assert_int_equal(v->key0, 1);
    cvma_chain_ref_release(g);
    assert_int_equal(atomic_load(&n_freed), 1);
    cvma_chain_cache_free(c);
    assert_int_equal(atomic_load(&n_freed), 2);
}

static void test_reference_outlives_the_cache(void **state)
{
    (void)state;
    uint8_t k1[32];
    counters_reset();
    key_of(1, k1);
    struct cvma_chain_cache *c = cvma_chain_cache_new(4);
    struct cvma_chain_ref *p = cvma_chain_cache_put(c, k1, val_new(1), val_free);
    cvma_chain_cache_free(c);
    assert_int_equal(atomic_load(&n_freed), 0);
    assert_int_equal(((const struct val *)cvma_chain_ref_val(p))->key0, 1);
    cvma_chain_ref_release(p);
    assert_int_equal(atomic_load(&n_freed), 1);
}

static void test_put_without_a_cache_still_hands_out_a_reference(void **state)
{
    (void)state;
    uint8_t k1[32];
    counters_reset();
    key_of(1, k1);
    struct cvma_chain_ref *p = cvma_chain_cache_put(NULL, k1, val_new(1), val_free);
    assert_non_null(p);
    assert_null(cvma_chain_cache_get(NULL, k1));
    assert_int_equal(atomic_load(&n_freed), 0);
    cvma_chain_ref_release(p);
    assert_int_equal(atomic_load(&n_freed), 1);
    cvma_chain_ref_release(NULL);
    cvma_chain_cache_free(NULL);
    assert_int_equal(cvma_chain_cache_hits(NULL), 0);
}

static void test_put_of_a_known_key_replaces_it_and_lru_goes_first(void **state)
{
    (void)state;
    uint8_t k[4][32];
    counters_reset();
    for (uint8_t i = 0; i < 4; i++) {
        key_of(i, k[i]);
    }
    struct cvma_chain_cache *c = cvma_chain_cache_new(2);
    cvma_chain_ref_release(cvma_chain_cache_put(c, k[0], val_new(0), val_free));
    cvma_chain_ref_release(cvma_chain_cache_put(c, k[0], val_new(0), val_free));
    assert_int_equal(atomic_load(&n_freed), 1); /* the first value under k0 */
    assert_int_equal(cvma_chain_cache_count(c), 1);
    cvma_chain_ref_release(cvma_chain_cache_put(c, k[1], val_new(1), val_free));
    cvma_chain_ref_release(cvma_chain_cache_get(c, k[0])); /* k1 is now the older */
    cvma_chain_ref_release(cvma_chain_cache_put(c, k[2], val_new(2), val_free));
    struct cvma_chain_ref *r0 = cvma_chain_cache_get(c, k[0]);
    struct cvma_chain_ref *r1 = cvma_chain_cache_get(c, k[1]);
    assert_non_null(r0);
    assert_null(r1);
    cvma_chain_ref_release(r0);
    /* A stored NULL value (the TDX QE report memo) is a hit, not a miss. */
    cvma_chain_ref_release(cvma_chain_cache_put(c, k[3], NULL, NULL));
    struct cvma_chain_ref *r3 = cvma_chain_cache_get(c, k[3]);
    assert_non_null(r3);
    assert_null(cvma_chain_ref_val(r3));
    cvma_chain_ref_release(r3);
    cvma_chain_cache_free(c);
    assert_int_equal(atomic_load(&n_freed), atomic_load(&n_alloc));
}

/* --- threads on one small cache ----------------------------------------------------------- */

#define N_THREADS 4
#define N_KEYS    8
#define N_OPS     20000

struct hammer {
    struct cvma_chain_cache *c;
    unsigned seed;
    int bad; /* values seen with the wrong key or freed */
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    struct cvma_chain_ref *held = NULL; /* one reference kept across other threads' puts */
    uint8_t held_k = 0;
    for (int i = 0; i < N_OPS; i++) {
        h->seed = h->seed * 1103515245u + 12345u;
        uint8_t k = (uint8_t)((h->seed >> 16) % N_KEYS), key[32];
        key_of(k, key);
        struct cvma_chain_ref *r = cvma_chain_cache_get(h->c, key);
        if (r == NULL) {
            r = cvma_chain_cache_put(h->c, key, val_new(k), val_free);
        }
        const struct val *v = cvma_chain_ref_val(r);
        if (v == NULL || v->magic != VAL_MAGIC || v->key0 != k) {
            h->bad++;
        }
        if ((h->seed >> 8) % 7 == 0) {
            cvma_chain_ref_release(held);
            held = r;
            held_k = k;
        } else {
            cvma_chain_ref_release(r);
        }
        if (held != NULL) {
            const struct val *hv = cvma_chain_ref_val(held);
            if (hv->magic != VAL_MAGIC || hv->key0 != held_k) {
                h->bad++;
            }
        }
    }
    cvma_chain_ref_release(held);
    return NULL;
}

static void test_threads_share_one_small_cache(void **state)
{
    (void)state;
    pthread_t t[N_THREADS];
    struct hammer h[N_THREADS];
    counters_reset();
    struct cvma_chain_cache *c = cvma_chain_cache_new(3); /* fewer slots than keys: evictions */
    assert_non_null(c);
    for (int i = 0; i < N_THREADS; i++) {
        h[i] = (struct hammer){.c = c, .seed = 17u * (unsigned)i + 1u, .bad = 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(h[i].bad, 0);
    }
    assert_true(cvma_chain_cache_hits(c) > 0);
    assert_true(cvma_chain_cache_count(c) <= 3);
    assert_true(atomic_load(&n_alloc) > N_KEYS); /* evictions happened */
    cvma_chain_cache_free(c);
    assert_int_equal(atomic_load(&n_freed), atomic_load(&n_alloc));
    assert_int_equal(atomic_load(&n_bad_free), 0);
}

/* --- threads verifying through one cache --------------------------------------------------- */

#define N_VERIFY 12

struct verify_job {
    enum { JOB_SNP, JOB_TDX } kind;
    const struct cvma_buf *evidence;
    const char *dir;
    X509 *root;
    struct cvma_chain_cache *cache;
    enum cvma_p384_backend backend;
    enum cvma_result_status want;
    enum cvma_reason want_reason; /* CVMA_R_COUNT_: none */
    int wrong;                    /* runs that did not end as wanted */
};

static void *verify_run(void *arg)
{
    struct verify_job *j = arg;
    X509 *roots[1] = {j->root};
    struct cvma_verify_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    vo.collateral_dir = j->dir;
    vo.offline = true;
    vo.trust_roots = roots;
    vo.n_trust_roots = 1;
    vo.chain_cache = j->cache;
    vo.p384_backend = j->backend;
    for (int i = 0; i < N_VERIFY; i++) {
        struct cvma_result res;
        if (j->kind == JOB_SNP) {
            cvma_result_init(&res, "sev-snp", vo.at);
            cvma_snp_verify(j->evidence->p, j->evidence->len, &vo, NULL, &res);
        } else {
            cvma_result_init(&res, "tdx", vo.at);
            cvma_tdx_verify(j->evidence->p, j->evidence->len, &vo, NULL, &res);
        }
        cvma_result_finish(&res);
        if (res.status != j->want ||
            (j->want_reason != CVMA_R_COUNT_ && !cvma_verdict_has(&res.verdict, j->want_reason))) {
            j->wrong++;
        }
        cvma_result_cleanup(&res);
    }
    return NULL;
}

struct simset {
    char *dir;
    struct cvma_buf ev, bad; /* bad: the evidence with its last signature byte flipped */
    X509 *root;
};

static void simset_load(struct simset *s, const char *ev_name, const char *root_name)
{
    struct cvma_buf rb;
    char *ep = tu_path(s->dir, ev_name), *rp = tu_path(s->dir, root_name);
    tu_read(ep, &s->ev);
    tu_read(ep, &s->bad);
    tu_read(rp, &rb);
    s->root = cvma_x509_load(rb.p, rb.len);
    assert_non_null(s->root);
    cvma_buf_free(&rb);
    free(ep);
    free(rp);
}

static void simset_done(struct simset *s)
{
    X509_free(s->root);
    cvma_buf_free(&s->ev);
    cvma_buf_free(&s->bad);
    tu_rmtree(s->dir);
    free(s->dir);
}

static void run_jobs(struct verify_job *jobs, size_t n)
{
    pthread_t t[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, verify_run, &jobs[i]), 0);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].wrong != 0) {
            fail_msg("job %zu (%s, backend %d): %d of %d runs ended otherwise than wanted", i,
                     jobs[i].kind == JOB_SNP ? "snp" : "tdx", (int)jobs[i].backend, jobs[i].wrong,
                     N_VERIFY);
        }
    }
}

static void test_threads_verify_snp_and_tdx_through_one_cache(void **state)
{
    (void)state;
    char err[256];
    struct simset snp = {.dir = tu_tmpdir()}, tdx = {.dir = tu_tmpdir()};
    struct cvma_sim_snp_opts so;
    struct cvma_sim_tdx_opts to;
    cvma_sim_snp_opts_default(&so);
    cvma_sim_tdx_opts_default(&to);
    if (cvma_sim_snp_write(&so, snp.dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim snp: %s", err);
    }
    if (cvma_sim_tdx_write(&to, tdx.dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim tdx: %s", err);
    }
    simset_load(&snp, "report.bin", "ark.pem");
    simset_load(&tdx, "quote.bin", "root_ca.pem");
    /* SNP: s is the last 72 bytes of the signature field at 0x2A0 (little-endian): flip a
     * low byte of r. TDX: the quote signature's first byte follows the 4-byte length after
     * the signed part (header 48 + body); flip a byte of it. */
    snp.bad.p[0x2A0] ^= 0x01;
    {
        size_t body = tdx.ev.p[0] == 5 ? 2 + 4 + 648 : 584; /* v5 type 3 / v4 */
        tdx.bad.p[48 + body + 4] ^= 0x01;
    }
    /* Two slots for the SNP chain, TDX chain, collateral, QE memo and attestation key:
     * constant eviction while references are held. */
    struct cvma_chain_cache *cache = cvma_chain_cache_new(2);
    struct verify_job jobs[] = {
            {JOB_SNP, &snp.ev, snp.dir, snp.root, cache, CVMA_P384_NETTLE, CVMA_AFFIRMING,
             CVMA_R_COUNT_, 0},
            {JOB_SNP, &snp.ev, snp.dir, snp.root, cache, CVMA_P384_OPENSSL, CVMA_AFFIRMING,
             CVMA_R_COUNT_, 0},
            {JOB_SNP, &snp.bad, snp.dir, snp.root, cache, CVMA_P384_NETTLE, CVMA_CONTRAINDICATED,
             CVMA_R_SNP_REPORT_SIGNATURE_INVALID, 0},
            {JOB_SNP, &snp.bad, snp.dir, snp.root, cache, CVMA_P384_OPENSSL, CVMA_CONTRAINDICATED,
             CVMA_R_SNP_REPORT_SIGNATURE_INVALID, 0},
            {JOB_TDX, &tdx.ev, tdx.dir, tdx.root, cache, CVMA_P384_NETTLE, CVMA_AFFIRMING,
             CVMA_R_COUNT_, 0},
            {JOB_TDX, &tdx.ev, tdx.dir, tdx.root, cache, CVMA_P384_NETTLE, CVMA_AFFIRMING,
             CVMA_R_COUNT_, 0},
            {JOB_TDX, &tdx.bad, tdx.dir, tdx.root, cache, CVMA_P384_NETTLE, CVMA_CONTRAINDICATED,
             CVMA_R_TDX_QUOTE_SIGNATURE_INVALID, 0},
    };
    run_jobs(jobs, CVMA_ARRAY_LEN(jobs));
    assert_true(cvma_chain_cache_hits(cache) > 0);
    cvma_chain_cache_free(cache);
    /* A larger cache: everything fits, the TDX verifiers in it are shared by the threads. */
    cache = cvma_chain_cache_new(16);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(jobs); i++) {
        jobs[i].cache = cache;
    }
    run_jobs(jobs, CVMA_ARRAY_LEN(jobs));
    assert_true(cvma_chain_cache_hits(cache) > 0);
    cvma_chain_cache_free(cache);
    simset_done(&snp);
    simset_done(&tdx);
}

/* --- the P-384 backend as a per-call choice ------------------------------------------------- */

/* An ECDSA P-384 signature by key over the 48-byte digest, as 48-byte big-endian r and s. */
static void p384_sign(EVP_PKEY *key, const uint8_t digest[48], uint8_t r[48], uint8_t s[48])
{
    unsigned char der[128];
    size_t derlen = sizeof der;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    assert_int_equal(EVP_PKEY_sign(ctx, der, &derlen, digest, 48), 1);
    EVP_PKEY_CTX_free(ctx);
    const unsigned char *pp = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &pp, (long)derlen);
    assert_non_null(sig);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), r, 48), 48);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), s, 48), 48);
    ECDSA_SIG_free(sig);
}

static void test_p384_backends_agree_and_unknown_backend_verifies_nothing(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_EC_gen("P-384");
    assert_non_null(key);
    uint8_t digest[48], r[48], s[48];
    for (size_t i = 0; i < sizeof digest; i++) {
        digest[i] = (uint8_t)(i * 7 + 1);
    }
    p384_sign(key, digest, r, s);
    bool oom = true;
    struct cvma_p384_pub *pub = cvma_p384_pub_new(key, &oom);
    assert_non_null(pub);
    assert_false(oom);
    assert_true(cvma_p384_verify(pub, CVMA_P384_NETTLE, digest, r, s));
    assert_true(cvma_p384_verify(pub, CVMA_P384_OPENSSL, digest, r, s));
    assert_false(cvma_p384_verify(pub, (enum cvma_p384_backend)7, digest, r, s));
    digest[0] ^= 1;
    assert_false(cvma_p384_verify(pub, CVMA_P384_NETTLE, digest, r, s));
    assert_false(cvma_p384_verify(pub, CVMA_P384_OPENSSL, digest, r, s));
    cvma_p384_pub_free(pub);
    EVP_PKEY_free(key);
}

/* n - v for 48-byte big-endian numbers (v < n). */
static void p384_n_minus(const uint8_t v[48], uint8_t out[48])
{
    static const char n_hex[] = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                                "581a0db248b0a77aecec196accc52973";
    uint8_t n[48];
    tu_hex(n_hex, n, sizeof n);
    int borrow = 0;
    for (size_t i = 48; i-- > 0;) {
        int d = n[i] - v[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

/* Both backends agree over many signatures, and on the values at the edges of 0 < r, s < n:
 * (r, n - s) is the same signature (ECDSA is malleable so), 0 and n and above are none. */
static void test_p384_backends_agree_at_the_edges(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_EC_gen("P-384");
    assert_non_null(key);
    bool oom = true;
    struct cvma_p384_pub *pub = cvma_p384_pub_new(key, &oom);
    assert_non_null(pub);
    for (int round = 0; round < 64; round++) {
        uint8_t digest[48], r[48], s[48], t[48];
        assert_int_equal(RAND_bytes(digest, sizeof digest), 1);
        p384_sign(key, digest, r, s);
        for (int b = 0; b < 2; b++) {
            enum cvma_p384_backend be = b ? CVMA_P384_OPENSSL : CVMA_P384_NETTLE;
            assert_true(cvma_p384_verify(pub, be, digest, r, s));
            p384_n_minus(s, t);
            assert_true(cvma_p384_verify(pub, be, digest, r, t));
            t[47] ^= 1;
            assert_false(cvma_p384_verify(pub, be, digest, r, t));
            memcpy(t, r, 48);
            t[round % 48] ^= (uint8_t)(1u << (round % 8));
            assert_false(cvma_p384_verify(pub, be, digest, t, s));
            memcpy(t, s, 48);
            t[(round * 5) % 48] ^= 0x80;
            assert_false(cvma_p384_verify(pub, be, digest, r, t));
            if (round == 0) {
                static const uint8_t zero[48];
                uint8_t n[48], ones[48];
                p384_n_minus(zero, n);
                memset(ones, 0xff, sizeof ones);
                assert_false(cvma_p384_verify(pub, be, digest, zero, s));
                assert_false(cvma_p384_verify(pub, be, digest, r, zero));
                assert_false(cvma_p384_verify(pub, be, digest, n, s));
                assert_false(cvma_p384_verify(pub, be, digest, r, n));
                assert_false(cvma_p384_verify(pub, be, digest, ones, s));
                assert_false(cvma_p384_verify(pub, be, digest, r, ones));
            }
        }
    }
    cvma_p384_pub_free(pub);
    EVP_PKEY_free(key);
}

/* The P-256 verifier is made for P-256 keys only: a key on secp256k1 (numbers of the same
 * size) or P-384 gets none, and that is not "out of memory". (A PCK on another curve is then
 * CERT_KEY_UNSUPPORTED, where it used to be taken as a P-256 key.) */
static void test_p256_verifier_wants_a_p256_key(void **state)
{
    (void)state;
    static const char *const others[] = {"secp256k1", "P-384"};
    bool oom = true;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    assert_true(cvma_pkey_is_p256(k));
    struct cvma_p256_verifier *pv = cvma_p256_verifier_new(k, &oom);
    assert_non_null(pv);
    assert_false(oom);
    cvma_p256_verifier_free(pv);
    EVP_PKEY_free(k);
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        k = EVP_EC_gen(others[i]);
        assert_non_null(k);
        oom = true;
        assert_false(cvma_pkey_is_p256(k));
        assert_null(cvma_p256_verifier_new(k, &oom));
        assert_false(oom);
        EVP_PKEY_free(k);
    }
    assert_null(cvma_p256_verifier_new(NULL, &oom));
    assert_false(oom);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_get_returns_null_on_miss_and_a_reference_on_hit),
            cmocka_unit_test(test_evicted_value_lives_until_its_last_release),
            cmocka_unit_test(test_reference_outlives_the_cache),
            cmocka_unit_test(test_put_without_a_cache_still_hands_out_a_reference),
            cmocka_unit_test(test_put_of_a_known_key_replaces_it_and_lru_goes_first),
            cmocka_unit_test(test_threads_share_one_small_cache),
            cmocka_unit_test(test_threads_verify_snp_and_tdx_through_one_cache),
            cmocka_unit_test(test_p384_backends_agree_and_unknown_backend_verifies_nothing),
            cmocka_unit_test(test_p384_backends_agree_at_the_edges),
            cmocka_unit_test(test_p256_verifier_wants_a_p256_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
