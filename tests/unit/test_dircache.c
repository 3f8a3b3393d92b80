/*
 * The collateral directory cache (collateral/dircache.h): a verifier decodes the files of
 * --collateral DIR once and uses them again while stat shows them unchanged; a file rewritten
 * in place or replaced by rename is read again on the next verification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collateral/dircache.h"
#include "cvmattest/cvmattest.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "testutil.h"
#include "tu_api.h"
#include "verifier/verifier.h"

struct fx {
    char *dir;   /* simulated SEV-SNP evidence and collateral */
    char *other; /* another simulated platform (other keys) */
    char *tdx;   /* simulated TDX quote and collateral */
    char *tdx_other;
};

/* Waits until files written now are older than the cache's settling time. */
static void settle(void)
{
    sleep(CVMA_DIRCACHE_SETTLE_SECONDS + 1);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct cvma_sim_snp_opts so;
    struct cvma_sim_tdx_opts to;
    char err[256];

    f->dir = tu_tmpdir();
    f->other = tu_tmpdir();
    f->tdx = tu_tmpdir();
    f->tdx_other = tu_tmpdir();
    cvma_sim_snp_opts_default(&so);
    cvma_sim_tdx_opts_default(&to);
    if (cvma_sim_snp_write(&so, f->dir, err, sizeof err) != CVMA_OK ||
        cvma_sim_snp_write(&so, f->other, err, sizeof err) != CVMA_OK ||
        cvma_sim_tdx_write(&to, f->tdx, err, sizeof err) != CVMA_OK ||
        cvma_sim_tdx_write(&to, f->tdx_other, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "sim: %s\n", err);
        return -1;
    }
    settle();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_rmtree(f->dir);
    tu_rmtree(f->other);
    tu_rmtree(f->tdx);
    tu_rmtree(f->tdx_other);
    free(f->dir);
    free(f->other);
    free(f->tdx);
    free(f->tdx_other);
    free(f);
    return 0;
}

static struct cvma_verifier *verifier_of(const char *dir, const char *root, bool no_cache)
{
    char *ark = tu_path(dir, root);
    struct cvma_verifier *v = tu_verifier(ark, dir, NULL, no_cache);
    free(ark);
    return v;
}
static struct cvma_verifier *verifier(const struct fx *f, bool no_cache)
{
    return verifier_of(f->dir, "ark.pem", no_cache);
}

/* Verifies dir/file (bare: every collateral file from the directory). */
static struct cvma_result *verify_file(struct cvma_verifier *v, const char *dir, const char *file)
{
    char *path = tu_path(dir, file);
    struct cvma_result *res = tu_verify_path(v, path);
    free(path);
    return res;
}
/* Verifies dir/report.bin. */
static struct cvma_result *verify(struct cvma_verifier *v, const struct fx *f)
{
    return verify_file(v, f->dir, "report.bin");
}

static void expect_file(struct cvma_verifier *v, const char *dir, const char *file,
                        enum cvma_result_status want, const char *reason)
{
    struct cvma_result *res = verify_file(v, dir, file);
    assert_int_equal(cvma_result_status(res), want);
    if (reason != NULL) {
        assert_true(cvma_result_has_reason(res, reason));
    }
    cvma_result_free(res);
}

static void expect(struct cvma_verifier *v, const struct fx *f, enum cvma_result_status want,
                   const char *reason)
{
    struct cvma_result *res = verify(v, f);
    assert_int_equal(cvma_result_status(res), want);
    if (reason != NULL) {
        assert_true(cvma_result_has_reason(res, reason));
    }
    cvma_result_free(res);
}

static void test_dircache_hits_while_unchanged_and_reloads_a_rewritten_file(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = verifier(f, false);
    struct cvma_dircache *dc = v->hooks.dir_cache;
    char *vcek = tu_path(f->dir, "vcek.der");
    struct cvma_buf good;
    tu_read(vcek, &good);

    assert_non_null(dc);
    expect(v, f, CVMA_AFFIRMING, NULL);
    assert_int_equal(cvma_dircache_hits(dc), 0);
    expect(v, f, CVMA_AFFIRMING, NULL);
    expect(v, f, CVMA_AFFIRMING, NULL);
    assert_int_equal(cvma_dircache_hits(dc), 2);

    /* Rewritten in place, same size, not a certificate: read again, and refused. */
    uint8_t *junk = malloc(good.len);
    assert_non_null(junk);
    memset(junk, 'x', good.len);
    tu_write(vcek, junk, good.len);
    expect(v, f, CVMA_CONTRAINDICATED, "CERT_PARSE");
    expect(v, f, CVMA_CONTRAINDICATED, "CERT_PARSE");

    /* The good one back: accepted again. */
    tu_write(vcek, good.p, good.len);
    expect(v, f, CVMA_AFFIRMING, NULL);

    free(junk);
    cvma_buf_free(&good);
    free(vcek);
    cvma_verifier_free(v);
}

static void test_dircache_sees_a_valid_file_replaced_by_rename(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = verifier(f, false);
    struct cvma_dircache *dc = v->hooks.dir_cache;
    char *vcek = tu_path(f->dir, "vcek.der");
    char *saved = tu_path(f->dir, "vcek.der.saved");
    char *tmp = tu_path(f->dir, "vcek.der.new");
    char *foreign = tu_path(f->other, "vcek.der");

    tu_copy(vcek, saved);
    settle();
    expect(v, f, CVMA_AFFIRMING, NULL);
    expect(v, f, CVMA_AFFIRMING, NULL);
    uint64_t hits = cvma_dircache_hits(dc);
    assert_true(hits >= 1);

    /* Another platform's VCEK (a valid certificate, another ASK): the chain no longer holds. */
    tu_copy(foreign, tmp);
    assert_int_equal(rename(tmp, vcek), 0);
    struct cvma_result *res = verify(v, f);
    assert_int_not_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_int_equal(cvma_dircache_hits(dc), hits);
    cvma_result_free(res);

    assert_int_equal(rename(saved, vcek), 0);
    expect(v, f, CVMA_AFFIRMING, NULL);

    free(vcek);
    free(saved);
    free(tmp);
    free(foreign);
    cvma_verifier_free(v);
}

/* TDX: the collateral directory's files are read once while unchanged; a TCB Info rewritten
 * in place (not a document) or replaced by rename (another platform's, validly signed by
 * other keys) is seen on the next verification, and the good one is accepted again. */
static void test_dircache_tdx_hits_and_sees_a_rewritten_tcb_info(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = verifier_of(f->tdx, "root_ca.pem", false);
    struct cvma_dircache *dc = v->hooks.dir_cache;
    char *tcb = tu_path(f->tdx, "tcb_info.json");
    char *saved = tu_path(f->tdx, "tcb_info.json.saved");
    char *tmp = tu_path(f->tdx, "tcb_info.json.new");
    char *foreign = tu_path(f->tdx_other, "tcb_info.json");
    char *chain_path = tu_path(f->tdx, "tcb_info_issuer_chain.pem");
    struct cvma_buf good;
    tu_read(tcb, &good);
    tu_copy(tcb, saved);
    settle();

    assert_non_null(dc);
    uint64_t hits0 = cvma_dircache_hits(dc);
    expect_file(v, f->tdx, "quote.bin", CVMA_AFFIRMING, NULL);
    assert_int_equal(cvma_dircache_hits(dc), hits0);
    expect_file(v, f->tdx, "quote.bin", CVMA_AFFIRMING, NULL);
    expect_file(v, f->tdx, "quote.bin", CVMA_AFFIRMING, NULL);
    assert_int_equal(cvma_dircache_hits(dc), hits0 + 2);

    /* Rewritten in place, same size, not a document: read again, and refused. */
    uint8_t *junk = malloc(good.len);
    assert_non_null(junk);
    memset(junk, 'x', good.len);
    tu_write(tcb, junk, good.len);
    expect_file(v, f->tdx, "quote.bin", CVMA_CONTRAINDICATED, "COLLATERAL_INVALID");
    expect_file(v, f->tdx, "quote.bin", CVMA_CONTRAINDICATED, "COLLATERAL_INVALID");
    assert_int_equal(cvma_dircache_hits(dc), hits0 + 2);

    /* The good one back: accepted again. */
    tu_write(tcb, good.p, good.len);
    expect_file(v, f->tdx, "quote.bin", CVMA_AFFIRMING, NULL);

    /* The certificates are kept decoded: an issuer chain rewritten in place is decoded again. */
    struct cvma_buf chain;
    tu_read(chain_path, &chain);
    memset(junk, 'x', good.len);
    tu_write(chain_path, junk, chain.len < good.len ? chain.len : good.len);
    expect_file(v, f->tdx, "quote.bin", CVMA_CONTRAINDICATED, "CERT_PARSE");
    tu_write(chain_path, chain.p, chain.len);
    expect_file(v, f->tdx, "quote.bin", CVMA_AFFIRMING, NULL);
    cvma_buf_free(&chain);

    /* Another platform's TCB Info (valid, signed by other keys), by rename: refused. */
    settle();
    expect_file(v, f->tdx, "quote.bin", CVMA_AFFIRMING, NULL);
    uint64_t hits = cvma_dircache_hits(dc);
    tu_copy(foreign, tmp);
    assert_int_equal(rename(tmp, tcb), 0);
    struct cvma_result *res = verify_file(v, f->tdx, "quote.bin");
    assert_int_not_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_int_equal(cvma_dircache_hits(dc), hits);
    cvma_result_free(res);

    assert_int_equal(rename(saved, tcb), 0);
    expect_file(v, f->tdx, "quote.bin", CVMA_AFFIRMING, NULL);

    free(junk);
    cvma_buf_free(&good);
    free(tcb);
    free(saved);
    free(tmp);
    free(foreign);
    free(chain_path);
    cvma_verifier_free(v);
}

/* A loader's object for the cache's own tests: one byte; each free counted. */
struct tobj {
    uint8_t v;
};
static int tobj_frees;

static void *tobj_dup(const void *o)
{
    struct tobj *d = malloc(sizeof *d);
    if (d != NULL) {
        *d = *(const struct tobj *)o;
    }
    return d;
}

static void tobj_free(void *o)
{
    tobj_frees++;
    free(o);
}

static const struct cvma_dircache_obj_ops tobj_ops = {.dup = tobj_dup, .free = tobj_free};
static const struct cvma_dircache_obj_ops tobj_other_ops = {.dup = tobj_dup, .free = tobj_free};

static struct tobj *tobj_new(uint8_t v)
{
    struct tobj *o = malloc(sizeof *o);
    assert_non_null(o);
    o->v = v;
    return o;
}

/* The value under (tag, dir, *stamp) of ops, -1 on a miss. */
static int tobj_get(struct cvma_dircache *dc, const char *tag, const char *dir,
                    const struct cvma_dircache_stamp *stamp,
                    const struct cvma_dircache_obj_ops *ops)
{
    void *out = NULL;
    enum cvma_status st = cvma_dircache_get_obj(dc, tag, dir, stamp, ops, &out);
    if (st == CVMA_E_IO) {
        assert_null(out);
        return -1;
    }
    assert_int_equal(st, CVMA_OK);
    assert_non_null(out);
    int v = ((struct tobj *)out)->v;
    free(out);
    return v;
}

static void test_dircache_stamp_tracks_absence_and_contents(void **state)
{
    struct fx *f = *state;
    struct cvma_dircache *dc = cvma_dircache_new(2);
    const char *names[] = {"ark.pem", "not-there.pem"};
    struct cvma_dircache_stamp a, b;
    const uint8_t val[] = {1, 2, 3};

    assert_non_null(dc);
    tobj_frees = 0;
    assert_true(cvma_dircache_stamp(f->dir, names, 2, &a));
    assert_int_equal(tobj_get(dc, "t", f->dir, &a, &tobj_ops), -1);
    cvma_dircache_put_obj(dc, "t", f->dir, &a, tobj_new(7), &tobj_ops);
    assert_int_equal(tobj_get(dc, "t", f->dir, &a, &tobj_ops), 7);
    assert_int_equal(tobj_frees, 0); /* a get hands out a copy; the stored one stays */
    assert_int_equal(cvma_dircache_hits(dc), 1);
    assert_int_equal(cvma_dircache_misses(dc), 1);
    /* Another tag, directory or kind of object is another entry. */
    assert_int_equal(tobj_get(dc, "u", f->dir, &a, &tobj_ops), -1);
    assert_int_equal(tobj_get(dc, "t", f->other, &a, &tobj_ops), -1);
    assert_int_equal(tobj_get(dc, "t", f->dir, &a, &tobj_other_ops), -1);

    /* A file that appears changes the stamp. */
    char *p = tu_path(f->dir, "not-there.pem");
    tu_write(p, val, sizeof val);
    assert_true(cvma_dircache_stamp(f->dir, names, 2, &b));
    assert_false(cvma_dircache_stamp_equal(&a, &b));
    assert_int_equal(tobj_get(dc, "t", f->dir, &b, &tobj_ops), -1);
    /* Just written: not stored until it settles (the object is freed), the entry of the old
     * stamp is kept. */
    cvma_dircache_put_obj(dc, "t", f->dir, &b, tobj_new(8), &tobj_ops);
    assert_int_equal(tobj_frees, 1);
    assert_int_equal(tobj_get(dc, "t", f->dir, &b, &tobj_ops), -1);
    /* Settled: stored, replacing the entry of the old stamp. */
    settle();
    cvma_dircache_put_obj(dc, "t", f->dir, &b, tobj_new(9), &tobj_ops);
    assert_int_equal(tobj_get(dc, "t", f->dir, &b, &tobj_ops), 9);
    assert_int_equal(tobj_frees, 2);
    assert_int_equal(tobj_get(dc, "t", f->dir, &a, &tobj_ops), -1);
    /* Removed again: the stamp is the first one's. */
    unlink(p);
    free(p);
    assert_true(cvma_dircache_stamp(f->dir, names, 2, &b));
    assert_true(cvma_dircache_stamp_equal(&a, &b));
    cvma_dircache_free(dc);
    assert_int_equal(tobj_frees, 3);
}

/* At most capacity entries: the least recently used one makes room (and is freed). */
static void test_dircache_capacity_evicts_the_least_recently_used(void **state)
{
    struct fx *f = *state;
    struct cvma_dircache *dc = cvma_dircache_new(2);
    const char *names[] = {"ark.pem"};
    struct cvma_dircache_stamp s;

    assert_non_null(dc);
    tobj_frees = 0;
    assert_true(cvma_dircache_stamp(f->dir, names, 1, &s));
    cvma_dircache_put_obj(dc, "a", f->dir, &s, tobj_new(1), &tobj_ops);
    cvma_dircache_put_obj(dc, "b", f->dir, &s, tobj_new(2), &tobj_ops);
    assert_int_equal(tobj_get(dc, "a", f->dir, &s, &tobj_ops), 1); /* b is now the oldest */
    cvma_dircache_put_obj(dc, "c", f->dir, &s, tobj_new(3), &tobj_ops);
    assert_int_equal(tobj_frees, 1);
    assert_int_equal(tobj_get(dc, "b", f->dir, &s, &tobj_ops), -1);
    assert_int_equal(tobj_get(dc, "a", f->dir, &s, &tobj_ops), 1);
    assert_int_equal(tobj_get(dc, "c", f->dir, &s, &tobj_ops), 3);
    /* The same (tag, dir) again replaces its entry, evicting nothing else. */
    cvma_dircache_put_obj(dc, "c", f->dir, &s, tobj_new(4), &tobj_ops);
    assert_int_equal(tobj_frees, 2);
    assert_int_equal(tobj_get(dc, "a", f->dir, &s, &tobj_ops), 1);
    assert_int_equal(tobj_get(dc, "c", f->dir, &s, &tobj_ops), 4);
    cvma_dircache_free(dc);
    assert_int_equal(tobj_frees, 4);
}

/* True when dir is on a file system the cache watches (collateral/dircache.h). */
static bool watchable_fs(const char *dir)
{
    static const unsigned long types[] = {0xEF53UL, 0x58465342UL, 0x9123683EUL, 0x01021994UL,
                                          0xF2F52010UL};
    struct statfs fs;
    if (statfs(dir, &fs) != 0) {
        return false;
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if ((unsigned long)fs.f_type == types[i]) {
            return true;
        }
    }
    return false;
}

/* A new directory by its real path on a file system the cache watches: the temporary
 * directory, else one in /dev/shm (tmpfs, so a container whose /tmp is an overlay still runs
 * these tests); NULL (the test skipped) when neither is. */
static char *watchable_tmpdir(void)
{
    char *t = tu_tmpdir(), *d = realpath(t, NULL);
    assert_non_null(d);
    free(t);
    if (watchable_fs(d)) {
        return d;
    }
    tu_rmtree(d);
    free(d);
    char shm[] = "/dev/shm/cvmatest.XXXXXX";
    if (watchable_fs("/dev/shm") && mkdtemp(shm) != NULL) {
        d = realpath(shm, NULL);
        assert_non_null(d);
        return d;
    }
    skip();
    return NULL;
}

/* Writes text to dir/name (replacing it in place). */
static void put(const char *dir, const char *name, const char *text)
{
    char *p = tu_path(dir, name);
    tu_write(p, (const uint8_t *)text, strlen(text));
    free(p);
}

/* A watched stamp of dir (names a and b): asserts it equals one taken by stat now, and
 * whether it came from the watch (no stat). */
static void watched(struct cvma_dircache *dc, const char *dir, bool from_watch,
                    struct cvma_dircache_stamp *out)
{
    static const char *const names[] = {"a", "b"};
    struct cvma_dircache_stamp now;
    uint64_t before = cvma_dircache_watched(dc);
    assert_true(cvma_dircache_stamp_watched(dc, "t", dir, names, 2, out));
    assert_int_equal(cvma_dircache_watched(dc), before + (from_watch ? 1 : 0));
    assert_true(cvma_dircache_stamp(dir, names, 2, &now));
    assert_true(cvma_dircache_stamp_equal(out, &now));
}

/* The watch answers while nothing changes, and every kind of change is seen by the very next
 * stamp: a rewrite in place at the same size, a file added, replaced by rename, removed, its
 * mode changed, and the directory itself renamed away with another put in its place. */
static void test_dircache_watched_stamp_sees_every_change_at_once(void **state)
{
    (void)state;
    char *d = watchable_tmpdir();
    if (d == NULL) {
        return;
    }
    struct cvma_dircache *dc = cvma_dircache_new(2);
    struct cvma_dircache_stamp s, t;
    assert_non_null(dc);
    put(d, "a", "1");

    watched(dc, d, false, &s); /* the first by stat */
    watched(dc, d, true, &t);
    assert_true(cvma_dircache_stamp_equal(&s, &t));
    watched(dc, d, true, &t);

    put(d, "a", "2"); /* same size, maybe the same clock tick */
    watched(dc, d, false, &t);
    watched(dc, d, true, &t);

    put(d, "b", "x");
    watched(dc, d, false, &t);
    assert_true(t.f[1].present);
    watched(dc, d, true, &t);

    char *a = tu_path(d, "a"), *tmp = tu_path(d, "a.new");
    tu_write(tmp, (const uint8_t *)"3", 1);
    watched(dc, d, false, &s); /* another file of the directory: the watch cannot tell */
    assert_int_equal(rename(tmp, a), 0);
    watched(dc, d, false, &t);
    assert_true(t.f[0].ino != s.f[0].ino);
    watched(dc, d, true, &t);

    char *b = tu_path(d, "b");
    assert_int_equal(unlink(b), 0);
    watched(dc, d, false, &t);
    assert_false(t.f[1].present);
    watched(dc, d, true, &t);

    assert_int_equal(chmod(a, 0600), 0);
    watched(dc, d, false, &t);
    watched(dc, d, true, &s);

    /* the directory renamed away, another made under its name: seen, and watched in turn */
    size_t dl = strlen(d);
    char *old = malloc(dl + 5);
    assert_non_null(old);
    memcpy(old, d, dl);
    memcpy(old + dl, ".old", 5);
    assert_int_equal(rename(d, old), 0);
    assert_int_equal(mkdir(d, 0700), 0);
    put(d, "a", "1");
    watched(dc, d, false, &t);
    assert_true(t.f[0].ino != s.f[0].ino);
    watched(dc, d, true, &t);
    put(old, "a", "9"); /* the old directory is not the one watched any more */
    watched(dc, d, true, &t);
    put(d, "a", "8");
    watched(dc, d, false, &t);
    watched(dc, d, true, &t);

    /* taken by stat again after CVMA_DIRCACHE_RECHECK_SECONDS however quiet the watch */
    struct timespec pause = {CVMA_DIRCACHE_RECHECK_SECONDS, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    watched(dc, d, false, &t);
    watched(dc, d, true, &t);

    cvma_dircache_free(dc);
    tu_rmtree(old);
    tu_rmtree(d);
    free(old);
    free(a);
    free(b);
    free(tmp);
    free(d);
}

/* A child of a fork shares its parent's inotify queue: it makes its own instead, so an event
 * it causes is still seen by the parent. */
static void test_dircache_watched_stamp_survives_a_fork(void **state)
{
    (void)state;
    char *d = watchable_tmpdir();
    if (d == NULL) {
        return;
    }
    struct cvma_dircache *dc = cvma_dircache_new(2);
    struct cvma_dircache_stamp t;
    assert_non_null(dc);
    put(d, "a", "1");
    watched(dc, d, false, &t);
    watched(dc, d, true, &t);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static const char *const names[] = {"a", "b"};
        struct cvma_dircache_stamp c;
        put(d, "a", "2");
        bool ok = cvma_dircache_stamp_watched(dc, "t", d, names, 2, &c) &&
                  cvma_dircache_stamp_watched(dc, "t", d, names, 2, &c);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    watched(dc, d, false, &t); /* the child's change, seen here */
    watched(dc, d, true, &t);
    cvma_dircache_free(dc);
    tu_rmtree(d);
    free(d);
}

/* Nothing the watch could not see is answered by it: a file that is a symbolic link (its
 * target can change elsewhere), a directory named through a symbolic link. */
static void test_dircache_watched_stamp_not_used_through_links(void **state)
{
    (void)state;
    char *d = watchable_tmpdir(), *e = d != NULL ? watchable_tmpdir() : NULL;
    if (e == NULL) {
        return;
    }
    struct cvma_dircache *dc = cvma_dircache_new(2);
    struct cvma_dircache_stamp t;
    assert_non_null(dc);
    put(e, "target", "1");
    char *target = tu_path(e, "target"), *a = tu_path(d, "a");
    assert_int_equal(symlink(target, a), 0);
    watched(dc, d, false, &t);
    watched(dc, d, false, &t);
    put(e, "target", "22"); /* seen through the link: by stat */
    watched(dc, d, false, &t);
    assert_int_equal(t.f[0].size, 2);

    /* a file with a second name elsewhere: written through that name, the event goes to the
     * other directory */
    char *b = tu_path(d, "b"), *other = tu_path(e, "b-too");
    assert_int_equal(unlink(a), 0);
    put(d, "a", "1");
    put(d, "b", "1");
    assert_int_equal(link(b, other), 0);
    watched(dc, d, false, &t);
    watched(dc, d, false, &t);
    put(e, "b-too", "22");
    watched(dc, d, false, &t);
    assert_int_equal(t.f[1].size, 2);
    /* the control: one name again, and the same directory is watched */
    assert_int_equal(unlink(other), 0);
    watched(dc, d, false, &t);
    watched(dc, d, true, &t);
    free(b);
    free(other);

    char *via = tu_path(d, "via");
    assert_int_equal(symlink(e, via), 0);
    put(e, "a", "1");
    uint64_t from_watch = cvma_dircache_watched(dc);
    watched(dc, via, false, &t);
    watched(dc, via, false, &t);
    assert_int_equal(cvma_dircache_watched(dc), from_watch);

    cvma_dircache_free(dc);
    tu_rmtree(d);
    tu_rmtree(e);
    free(via);
    free(target);
    free(a);
    free(d);
    free(e);
}

static void test_dircache_cold_verifier_has_none(void **state)
{
    struct fx *f = *state;
    struct cvma_verifier *v = verifier(f, true);
    assert_null(v->hooks.dir_cache);
    expect(v, f, CVMA_AFFIRMING, NULL);
    cvma_verifier_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_dircache_hits_while_unchanged_and_reloads_a_rewritten_file),
            cmocka_unit_test(test_dircache_sees_a_valid_file_replaced_by_rename),
            cmocka_unit_test(test_dircache_stamp_tracks_absence_and_contents),
            cmocka_unit_test(test_dircache_capacity_evicts_the_least_recently_used),
            cmocka_unit_test(test_dircache_watched_stamp_sees_every_change_at_once),
            cmocka_unit_test(test_dircache_watched_stamp_survives_a_fork),
            cmocka_unit_test(test_dircache_watched_stamp_not_used_through_links),
            cmocka_unit_test(test_dircache_cold_verifier_has_none),
            cmocka_unit_test(test_dircache_tdx_hits_and_sees_a_rewritten_tcb_info),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
