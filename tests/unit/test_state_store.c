/*
 * The shared-state seam (struct cvma_state_store): the collateral path reads the fleet's
 * cache when the local one cannot answer, fills it after a download with a TTL bounded by the
 * maximum age, never trusts what fails the item's check; registry rollback goes through
 * registry_seen when the store has one; collateral that fails verification leaves it
 * (collateral_del) as it leaves the on-disk cache. (The Redis implementation:
 * tests/e2e/serve.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "collateral/cache.h"
#include "collateral/fetch.h"
#include "cvmattest/cvmattest.h"
#include "registry/bind_internal.h"
#include "registry/registry.h"
#include "sim/sim_snp.h"
#include "testutil.h"
#include "tu_api.h"

/* A store in memory: one collateral value, a recorded registry answer. */
struct fake {
    uint8_t *val;
    size_t len;
    int64_t ttl;
    int gets, puts;
    enum cvma_store_answer registry_answer;
    uint64_t seen;
};

static enum cvma_store_answer f_get(void *arg, const char *key, uint8_t **p, size_t *len)
{
    struct fake *f = arg;
    (void)key;
    f->gets++;
    if (f->val == NULL) {
        return CVMA_STORE_MISS;
    }
    *p = malloc(f->len);
    memcpy(*p, f->val, f->len);
    *len = f->len;
    return CVMA_STORE_OK;
}

static void f_put(void *arg, const char *key, const uint8_t *p, size_t len, int64_t ttl)
{
    struct fake *f = arg;
    (void)key;
    free(f->val);
    f->val = malloc(len);
    memcpy(f->val, p, len);
    f->len = len;
    f->ttl = ttl;
    f->puts++;
}

static enum cvma_store_answer f_registry(void *arg, const char *provider, uint64_t version,
                                         const uint8_t root[32], uint64_t *seen, char *err,
                                         size_t err_len)
{
    struct fake *f = arg;
    (void)provider;
    (void)version;
    (void)root;
    *seen = f->seen;
    if (f->registry_answer == CVMA_STORE_UNAVAILABLE) {
        snprintf(err, err_len, "down for the test");
    }
    return f->registry_answer;
}

static int downloads;

/* Accepts bytes that start with "OK"; they expire at now + 100 s. */
static bool check(const struct cvma_buf *b, int64_t now, int64_t *expires_at, char *why,
                  size_t why_len, void *arg)
{
    (void)arg;
    if (b->len < 2 || memcmp(b->p, "OK", 2) != 0) {
        snprintf(why, why_len, "not OK");
        return false;
    }
    *expires_at = now + 100;
    return true;
}

static enum cvma_status download(const char *url, const struct cvma_http_opts *http,
                                 struct cvma_buf *out, char *err, size_t err_len, void *arg)
{
    (void)url;
    (void)http;
    (void)err;
    (void)err_len;
    downloads++;
    out->p = malloc(8);
    memcpy(out->p, arg != NULL ? (const char *)arg : "OK fresh", 8);
    out->len = 8;
    return CVMA_OK;
}

static enum cvma_status get(struct fake *f, struct cvma_collateral_stats *stats, bool offline,
                            const char *body, struct cvma_buf *out)
{
    const struct cvma_state_store st = {f, f_registry, f_get, f_put, NULL, NULL, NULL};
    const struct cvma_collateral_hooks h = {.stats = stats, .store = &st};
    const struct cvma_collateral_net net = {offline, NULL, NULL, 0, &h, 0};
    const struct cvma_collateral_item it = {.what = "CRL",
                                            .url = "http://127.0.0.1:9/crl",
                                            .cache_key = "amd-kds http://127.0.0.1:9/crl",
                                            .refreshable = true,
                                            .check = check,
                                            .download = download,
                                            .arg = (void *)(uintptr_t)body};
    char err[256];
    return cvma_collateral_get(&net, &it, out, NULL, err, sizeof err);
}

/* get, offline, with a local cache c. */
static enum cvma_status get_cached(struct fake *f, struct cvma_collateral_stats *stats,
                                   struct cvma_cache *c, struct cvma_buf *out)
{
    const struct cvma_state_store st = {f, f_registry, f_get, f_put, NULL, NULL, NULL};
    const struct cvma_collateral_hooks h = {.stats = stats, .store = &st};
    const struct cvma_collateral_net net = {true, NULL, c, 0, &h, 0};
    const struct cvma_collateral_item it = {.what = "CRL",
                                            .url = "http://127.0.0.1:9/crl",
                                            .cache_key = "amd-kds http://127.0.0.1:9/crl",
                                            .refreshable = true,
                                            .check = check,
                                            .download = download};
    char err[256];
    return cvma_collateral_get(&net, &it, out, NULL, err, sizeof err);
}

/* v as 8 bytes big-endian at p (the store's header fields). */
static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void test_state_store_collateral_shared_between_two_fetchers(void **state)
{
    (void)state;
    struct fake f = {0};
    struct cvma_collateral_stats *stats = calloc(1, sizeof *stats);
    struct cvma_buf b;

    downloads = 0;
    assert_int_equal(get(&f, stats, false, NULL, &b), CVMA_OK);
    assert_int_equal(downloads, 1);
    assert_int_equal(f.puts, 1);
    assert_true(f.ttl > 0 && f.ttl <= 100); /* the remaining validity, under the maximum age */
    assert_int_equal(f.len, 16 + 8);
    assert_memory_equal(f.val + 16, "OK fresh", 8);
    cvma_buf_free(&b);
    /* Another fetcher (no local cache), offline even: the store answers, nothing is fetched. */
    assert_int_equal(get(&f, stats, true, NULL, &b), CVMA_OK);
    assert_int_equal(downloads, 1);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.p, "OK fresh", 8);
    assert_int_equal(atomic_load(&stats->shared_hits), 1);
    assert_int_equal(atomic_load(&stats->shared_misses), 1);
    cvma_buf_free(&b);
    free(f.val);
    free(stats);
}

static void test_state_store_value_failing_the_check_is_not_used(void **state)
{
    (void)state;
    struct fake f = {0};
    struct cvma_collateral_stats *stats = calloc(1, sizeof *stats);
    struct cvma_buf b;

    /* What the store holds fails the check (written by anyone), fetched just now and never
     * expiring by its header: only the check can refuse it. A miss, then a download. */
    f.len = 16 + 8;
    f.val = calloc(1, f.len);
    put_be64(f.val, time(NULL));
    memcpy(f.val + 16, "BAD data", 8);
    downloads = 0;
    assert_int_equal(get(&f, stats, false, NULL, &b), CVMA_OK);
    assert_int_equal(downloads, 1);
    assert_memory_equal(b.p, "OK fresh", 8);
    assert_int_equal(atomic_load(&stats->shared_misses), 1);
    cvma_buf_free(&b);
    /* Expired in the store (expires_at in the past): a miss too. */
    memset(f.val, 0, 16);
    f.val[15] = 1; /* expires_at = 1 (1970) */
    assert_int_equal(get(&f, stats, true, NULL, &b), CVMA_UNDECIDED);
    assert_int_equal(atomic_load(&stats->shared_misses), 2);
    free(f.val);
    free(stats);
}

/* The store's times are not taken on its word: a fetch time in the future is a miss; bytes
 * whose header never expires keep the expiry their own check gives (here now + 100 s). */
static void test_state_store_times_are_checked(void **state)
{
    (void)state;
    struct fake f = {0};
    struct cvma_collateral_stats *stats = calloc(1, sizeof *stats);
    struct cvma_buf b;
    int64_t now = (int64_t)time(NULL);

    f.len = 16 + 8;
    f.val = calloc(1, f.len);
    put_be64(f.val, (uint64_t)(now + 100000)); /* fetched in the future */
    memcpy(f.val + 16, "OK store", 8);
    assert_int_equal(get(&f, stats, true, NULL, &b), CVMA_UNDECIDED);
    assert_int_equal(atomic_load(&stats->shared_misses), 1);

    put_be64(f.val, (uint64_t)now); /* now, never expiring by the header */
    memcpy(f.val + 16, "OK store", 8);
    char *dir = tu_tmpdir();
    struct cvma_cache c = {0};
    assert_int_equal(cvma_cache_init(&c, dir), CVMA_OK);
    assert_int_equal(get_cached(&f, stats, &c, &b), CVMA_OK);
    assert_memory_equal(b.p, "OK store", 8);
    cvma_buf_free(&b);
    /* copied to the local cache with the check's expiry, not "never" */
    struct cvma_cache_meta m;
    enum cvma_cache_state cs;
    assert_int_equal(cvma_cache_lookup_ex(&c, "amd-kds http://127.0.0.1:9/crl", now, &b, &cs, &m),
                     CVMA_OK);
    assert_int_equal(cs, CVMA_CACHE_HIT);
    assert_true(m.expires_at > now && m.expires_at <= now + 100);
    cvma_buf_free(&b);
    cvma_cache_cleanup(&c);
    tu_rmtree(dir);
    free(dir);
    free(f.val);
    free(stats);
}

static void test_state_store_registry_rollback_through_the_store(void **state)
{
    (void)state;
    struct fake f = {0};
    const struct cvma_state_store st = {&f, f_registry, NULL, NULL, NULL, NULL, NULL};
    struct cvma_registry r;
    char detail[512];
    char *dir = tu_tmpdir();

    memset(&r, 0, sizeof r);
    snprintf(r.provider, sizeof r.provider, "acme");
    r.version = 1;
    f.registry_answer = CVMA_STORE_OK;
    assert_int_equal(cvma_bind_rollback_check_store(NULL, &st, dir, &r, detail, sizeof detail),
                     RB_OK);
    /* no state directory: the store's check is the check (no warning; serve says it at start) */
    assert_int_equal(cvma_bind_rollback_check_store(NULL, &st, NULL, &r, detail, sizeof detail),
                     RB_OK);
    assert_string_equal(detail, "");
    f.registry_answer = CVMA_STORE_OLDER;
    f.seen = 2;
    assert_int_equal(cvma_bind_rollback_check_store(NULL, &st, dir, &r, detail, sizeof detail),
                     RB_ROLLBACK);
    assert_non_null(strstr(detail, "version 1 is older than version 2"));
    f.registry_answer = CVMA_STORE_CONFLICT;
    f.seen = 1;
    assert_int_equal(cvma_bind_rollback_check_store(NULL, &st, dir, &r, detail, sizeof detail),
                     RB_ROLLBACK);
    assert_non_null(strstr(detail, "another merkle_root"));
    f.registry_answer = CVMA_STORE_UNAVAILABLE;
    assert_int_equal(cvma_bind_rollback_check_store(NULL, &st, dir, &r, detail, sizeof detail),
                     RB_UNAVAILABLE);
    assert_non_null(strstr(detail, "down for the test"));
    /* No store: the state files (no directory here: not checked). */
    assert_int_equal(cvma_bind_rollback_check_store(NULL, NULL, NULL, &r, detail, sizeof detail),
                     RB_NOT_CHECKED);
    tu_rmtree(dir);
    free(dir);
}

/* A store that forgets: every answer is "recorded" (Redis restarted empty, flushed, or a
 * replica that never had the key); it keeps the last version it was asked to record. */
struct forgetful {
    uint64_t last;
};

static enum cvma_store_answer forget_registry(void *arg, const char *provider, uint64_t version,
                                              const uint8_t root[32], uint64_t *seen, char *err,
                                              size_t err_len)
{
    struct forgetful *f = arg;
    (void)provider, (void)root, (void)err, (void)err_len;
    f->last = version;
    *seen = version;
    return CVMA_STORE_OK;
}

static void reg_version(struct cvma_registry *r, uint64_t version, uint8_t root_byte)
{
    memset(r, 0, sizeof *r);
    snprintf(r->provider, sizeof r->provider, "acme");
    r->version = version;
    memset(r->merkle_root, root_byte, sizeof r->merkle_root);
}

/* A store that lost what it recorded cannot bring an older registry back: the floor in memory
 * refuses it in the same process, the state file of the cache directory after a restart; each
 * time the store is raised back to the floor. */
static void test_state_store_registry_floor_outlives_the_store(void **state)
{
    (void)state;
    struct forgetful f = {0};
    const struct cvma_state_store st = {&f, forget_registry, NULL, NULL, NULL, NULL, NULL};
    struct cvma_registry r;
    char detail[512];
    char *dir = tu_tmpdir();
    char *file = tu_path(dir, "registry-state.acme.json");
    struct cvma_registry_set *rs = cvma_registry_set_new();
    assert_non_null(rs);

    reg_version(&r, 2, 0xaa);
    assert_int_equal(cvma_bind_rollback_check_store(rs, &st, dir, &r, detail, sizeof detail),
                     RB_OK);
    assert_true(tu_exists(dir, "registry-state.acme.json"));
    /* the same process, the store forgot: the floor in memory */
    reg_version(&r, 1, 0xbb);
    f.last = 0;
    assert_int_equal(cvma_bind_rollback_check_store(rs, &st, dir, &r, detail, sizeof detail),
                     RB_ROLLBACK);
    assert_non_null(strstr(detail, "version 1 is older than version 2 this instance already saw"));
    assert_int_equal(f.last, 2); /* raised back to the floor */
    /* the same version under another root */
    reg_version(&r, 2, 0xcc);
    assert_int_equal(cvma_bind_rollback_check_store(rs, &st, dir, &r, detail, sizeof detail),
                     RB_ROLLBACK);
    assert_non_null(strstr(detail, "another merkle_root"));
    /* once known, the floor costs no file access: the file removed is not written again */
    assert_int_equal(remove(file), 0);
    reg_version(&r, 2, 0xaa);
    assert_int_equal(cvma_bind_rollback_check_store(rs, &st, dir, &r, detail, sizeof detail),
                     RB_OK);
    assert_false(tu_exists(dir, "registry-state.acme.json"));
    /* a higher version is written to the file */
    reg_version(&r, 3, 0xdd);
    assert_int_equal(cvma_bind_rollback_check_store(rs, &st, dir, &r, detail, sizeof detail),
                     RB_OK);
    assert_true(tu_exists(dir, "registry-state.acme.json"));
    cvma_registry_set_free(rs);

    /* a restart (a new set, nothing in memory), the same cache directory: the state file */
    rs = cvma_registry_set_new();
    assert_non_null(rs);
    reg_version(&r, 2, 0xaa);
    f.last = 0;
    assert_int_equal(cvma_bind_rollback_check_store(rs, &st, dir, &r, detail, sizeof detail),
                     RB_ROLLBACK);
    assert_non_null(strstr(detail, "version 2 is older than version 3 already seen"));
    assert_int_equal(f.last, 3);
    /* the floor read from the file is kept in memory */
    assert_int_equal(remove(file), 0);
    assert_int_equal(cvma_bind_rollback_check_store(rs, &st, dir, &r, detail, sizeof detail),
                     RB_ROLLBACK);
    assert_non_null(strstr(detail, "this instance already saw"));
    cvma_registry_set_free(rs);
    free(file);
    tu_rmtree(dir);
    free(dir);
}

/* With a store and no directory for the state file (none at all, or one that cannot be
 * created), rollback is checked by the store and the floor in memory: a registry that passes
 * is RB_OK (no REGISTRY_ROLLBACK_NOT_CHECKED on every result), an older one is refused by the
 * store or, when the store forgot, by the floor, which raises the store back. */
static void test_state_store_registry_rollback_with_the_store_alone(void **state)
{
    (void)state;
    struct forgetful f = {0};
    struct fake fk = {0};
    const struct cvma_state_store forgets = {&f, forget_registry, NULL, NULL, NULL, NULL, NULL};
    const struct cvma_state_store st = {&fk, f_registry, NULL, NULL, NULL, NULL, NULL};
    struct cvma_registry r;
    char detail[512];
    char *tmp = tu_tmpdir();
    char *file = tu_path(tmp, "a-file");
    char *under_file = tu_path(file, "cache"); /* cannot be created: a file is in the way */
    const char *dirs[] = {NULL, under_file};
    const enum rb_result want[] = {RB_OK, RB_NOT_CHECKED};

    tu_write(file, (const uint8_t *)"x", 1);
    for (size_t i = 0; i < 2; i++) {
        struct cvma_registry_set *rs = cvma_registry_set_new();
        assert_non_null(rs);
        f.last = 0;
        reg_version(&r, 2, 0xaa);
        /* no directory: OK, said nowhere per result; one that cannot be made: said */
        assert_int_equal(
                cvma_bind_rollback_check_store(rs, &forgets, dirs[i], &r, detail, sizeof detail),
                want[i]);
        assert_true(i == 0 ? detail[0] == '\0' : strstr(detail, "cannot be created") != NULL);
        assert_int_equal(f.last, 2);
        /* again: the same, the store asked each time */
        f.last = 0;
        assert_int_equal(
                cvma_bind_rollback_check_store(rs, &forgets, dirs[i], &r, detail, sizeof detail),
                want[i]);
        assert_int_equal(f.last, 2);
        /* the store forgot: the floor in memory refuses v1 and raises the store back */
        reg_version(&r, 1, 0xbb);
        f.last = 0;
        assert_int_equal(
                cvma_bind_rollback_check_store(rs, &forgets, dirs[i], &r, detail, sizeof detail),
                RB_ROLLBACK);
        assert_non_null(strstr(detail, "this instance already saw"));
        assert_int_equal(f.last, 2);
        /* a higher version: OK, the new floor */
        reg_version(&r, 3, 0xcc);
        assert_int_equal(
                cvma_bind_rollback_check_store(rs, &forgets, dirs[i], &r, detail, sizeof detail),
                want[i]);
        cvma_registry_set_free(rs);

        /* a fresh process: what the store recorded refuses an older registry */
        rs = cvma_registry_set_new();
        assert_non_null(rs);
        fk.registry_answer = CVMA_STORE_OLDER;
        fk.seen = 3;
        reg_version(&r, 2, 0xaa);
        assert_int_equal(
                cvma_bind_rollback_check_store(rs, &st, dirs[i], &r, detail, sizeof detail),
                RB_ROLLBACK);
        assert_non_null(strstr(detail, "version 2 is older than version 3"));
        cvma_registry_set_free(rs);
    }
    /* the directory was never made */
    assert_false(tu_exists(file, "cache"));
    free(under_file);
    free(file);
    tu_rmtree(tmp);
    free(tmp);
}

/* A state directory others can write is as one that cannot be created: the rollback state in
 * it is neither read (a floor there could have been raised, to refuse a genuine registry, or
 * lowered) nor written, and the result says so (RB_NOT_CHECKED naming the directory and its
 * mode), with a store too; private again, the state is read and refuses an older registry. */
static void test_state_store_registry_state_dir_others_can_write_is_not_used(void **state)
{
    (void)state;
    struct forgetful f = {0};
    const struct cvma_state_store st = {&f, forget_registry, NULL, NULL, NULL, NULL, NULL};
    struct cvma_registry r;
    struct cvma_buf before, after;
    char detail[512], want[512];
    char *dir = tu_tmpdir();
    char *file = tu_path(dir, "registry-state.acme.json");
    static const char floor5[] =
            "{\"provider\": \"acme\", \"version\": 5, \"merkle_root\": "
            "\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"}\n";

    tu_write(file, (const uint8_t *)floor5, sizeof floor5 - 1);
    assert_int_equal(chmod(dir, 0777), 0);
    snprintf(want, sizeof want, "%s is writable by group or others (mode 0777)", dir);
    reg_version(&r, 2, 0xaa);
    assert_int_equal(cvma_bind_rollback_check(dir, &r, detail, sizeof detail), RB_NOT_CHECKED);
    assert_non_null(strstr(detail, want));
    struct cvma_registry_set *rs = cvma_registry_set_new();
    assert_non_null(rs);
    assert_int_equal(cvma_bind_rollback_check_store(rs, &st, dir, &r, detail, sizeof detail),
                     RB_NOT_CHECKED);
    assert_non_null(strstr(detail, "checked against the shared state store only"));
    assert_non_null(strstr(detail, want));
    assert_int_equal(f.last, 2);
    cvma_registry_set_free(rs);
    /* not written either */
    reg_version(&r, 7, 0xdd);
    tu_read(file, &before);
    assert_int_equal(cvma_bind_rollback_check(dir, &r, detail, sizeof detail), RB_NOT_CHECKED);
    tu_read(file, &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.p, before.p, before.len);
    cvma_buf_free(&before);
    cvma_buf_free(&after);
    /* private again: the floor there refuses version 2 */
    assert_int_equal(chmod(dir, 0700), 0);
    reg_version(&r, 2, 0xaa);
    assert_int_equal(cvma_bind_rollback_check(dir, &r, detail, sizeof detail), RB_ROLLBACK);
    assert_non_null(strstr(detail, "older than version 5 already seen"));
    char why[512];
    assert_true(cvma_registry_state_dir_usable(dir, why, sizeof why));
    assert_int_equal(chmod(dir, 0770), 0);
    assert_false(cvma_registry_state_dir_usable(dir, why, sizeof why));
    assert_non_null(strstr(why, "writable by group or others (mode 0770)"));
    free(file);
    tu_rmtree(dir);
    free(dir);
}

/* A store of SEV-SNP collateral in memory, one value per item (told apart by the end of the
 * cache key), that records what it is asked to delete. */
enum { KEYED_VCEK, KEYED_CHAIN, KEYED_CRL, KEYED_N };

struct keyed {
    struct cvma_buf val[KEYED_N]; /* as collateral_put writes them: header, then the bytes */
    char vcek_key[512];           /* the VCEK's cache key, as last asked for */
    char deleted[4][512];
    int n_deleted;
};

static int keyed_slot(struct keyed *k, const char *key)
{
    size_t n = strlen(key);
    if (n >= 11 && strcmp(key + n - 11, "/cert_chain") == 0) {
        return KEYED_CHAIN;
    }
    if (n >= 4 && strcmp(key + n - 4, "/crl") == 0) {
        return KEYED_CRL;
    }
    snprintf(k->vcek_key, sizeof k->vcek_key, "%s", key);
    return KEYED_VCEK;
}

static enum cvma_store_answer k_get(void *arg, const char *key, uint8_t **p, size_t *len)
{
    struct keyed *k = arg;
    const struct cvma_buf *b = &k->val[keyed_slot(k, key)];
    if (b->p == NULL) {
        return CVMA_STORE_MISS;
    }
    *p = malloc(b->len);
    memcpy(*p, b->p, b->len);
    *len = b->len;
    return CVMA_STORE_OK;
}

static void k_put(void *arg, const char *key, const uint8_t *p, size_t len, int64_t ttl)
{
    (void)arg, (void)key, (void)p, (void)len, (void)ttl; /* offline: nothing is downloaded */
}

static void k_del(void *arg, const char *key)
{
    struct keyed *k = arg;
    cvma_buf_free(&k->val[keyed_slot(k, key)]);
    if (k->n_deleted < 4) {
        snprintf(k->deleted[k->n_deleted++], sizeof k->deleted[0], "%s", key);
    }
}

/* The slot holds the file name of the run in dir, as another instance would have shared it:
 * fetched now, no expiry of its own. */
static void keyed_set(struct keyed *k, int slot, const char *dir, const char *name)
{
    struct cvma_buf b;
    char *p = tu_path(dir, name);
    tu_read(p, &b);
    free(p);
    cvma_buf_free(&k->val[slot]);
    k->val[slot].len = 16 + b.len;
    k->val[slot].p = calloc(1, k->val[slot].len);
    put_be64(k->val[slot].p, (uint64_t)time(NULL));
    memcpy(k->val[slot].p + 16, b.p, b.len);
    cvma_buf_free(&b);
}

/* A VCEK in the fleet's cache for the right chip and TCB that does not chain to the trusted
 * ARK (another machine's, under another root) makes the result undecided and is deleted from
 * the store, not handed to every instance until its TTL; once the right one is shared, the
 * same evidence is affirming. */
static void test_state_store_collateral_failing_verification_is_deleted(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts o;
    char *dir = tu_tmpdir(), err[256];
    char *a = tu_path(dir, "a"), *b = tu_path(dir, "b"), *cache = tu_path(dir, "cache");
    char *ark = tu_path(a, "ark.pem"), *report = tu_path(a, "report.bin");
    struct keyed k;
    const struct cvma_state_store st = {&k, NULL, k_get, k_put, k_del, NULL, NULL};
    const char *roots[] = {ark};
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    struct cvma_result *res;

    cvma_sim_snp_opts_default(&o);
    o.has_chip_id = true;
    memset(o.chip_id, 0xcd, sizeof o.chip_id);
    assert_int_equal(cvma_sim_snp_write(&o, a, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_sim_snp_write(&o, b, err, sizeof err), CVMA_OK);
    memset(&k, 0, sizeof k);
    keyed_set(&k, KEYED_VCEK, b, "vcek.der");
    keyed_set(&k, KEYED_CHAIN, a, "cert_chain.pem");
    keyed_set(&k, KEYED_CRL, a, "crl.der");

    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.offline = true; /* the store still answers */
    cfg.kds_base_url = "http://127.0.0.1:9";
    cfg.cache_dir = cache;
    cfg.state_store = &st;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);

    res = tu_verify_path(v, report);
    assert_true(cvma_result_has_reason(res, "COLLATERAL_UNAVAILABLE"));
    assert_int_equal(cvma_result_exit_code(res), 3);
    cvma_result_free(res);
    /* only the VCEK was deleted, under the key it was asked for by */
    assert_int_equal(k.n_deleted, 1);
    assert_non_null(strstr(k.deleted[0], "amd-kds http://127.0.0.1:9/vcek/v1/Milan/cdcd"));
    assert_string_equal(k.deleted[0], k.vcek_key);
    assert_null(k.val[KEYED_VCEK].p);
    assert_non_null(k.val[KEYED_CHAIN].p);
    assert_non_null(k.val[KEYED_CRL].p);

    /* another instance fetched and shared the right one */
    keyed_set(&k, KEYED_VCEK, a, "vcek.der");
    res = tu_verify_path(v, report);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_int_equal(cvma_result_exit_code(res), 0);
    cvma_result_free(res);
    assert_int_equal(k.n_deleted, 1);
    cvma_verifier_free(v);

    for (int i = 0; i < KEYED_N; i++) {
        cvma_buf_free(&k.val[i]);
    }
    tu_rmtree(dir);
    free(dir);
    free(a);
    free(b);
    free(cache);
    free(ark);
    free(report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_state_store_collateral_shared_between_two_fetchers),
            cmocka_unit_test(test_state_store_value_failing_the_check_is_not_used),
            cmocka_unit_test(test_state_store_times_are_checked),
            cmocka_unit_test(test_state_store_collateral_failing_verification_is_deleted),
            cmocka_unit_test(test_state_store_registry_rollback_through_the_store),
            cmocka_unit_test(test_state_store_registry_floor_outlives_the_store),
            cmocka_unit_test(test_state_store_registry_rollback_with_the_store_alone),
            cmocka_unit_test(test_state_store_registry_state_dir_others_can_write_is_not_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
