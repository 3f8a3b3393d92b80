/*
 * Out of memory while evidence is read (cvma_evidence_from_bytes): every allocation the
 * reader makes is failed in turn, and each time the answer must be CVMA_E_NOMEM, never a
 * verdict on the evidence (CVMA_E_USAGE: malformed) nor a crash. A service answers the one
 * 500 INTERNAL and the other 400 BAD_EVIDENCE (docs/service.md), so the two must not mix.
 *
 * The allocator is the C library's, reached through malloc, calloc and realloc defined here
 * (the test executable's own win over the library's); a countdown fails the n-th call, and
 * a count of the blocks still allocated shows any a failed call left behind (a leak on the
 * path that handles the failure). Builds with a sanitizer keep their own allocator: there the
 * test is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <execinfo.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "azure/azure.h"
#include "azure/azure_internal.h"
#include "collateral/dircache.h"
#include "common/allocfail.h"
#include "common/base64.h"
#include "common/hex.h"
#include "common/jflat.h"
#include "common/util.h"
#include "crypto/jws.h"
#include "cvmattest/cvmattest.h"
#include "registry/bind_internal.h"
#include "registry/registry.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "testutil.h"
#include "tu_api.h"
#include "tu_azure.h"
#include "tu_logfx.h"
#include "tu_tls.h"
#include "verifier/bundle.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OOM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
        __has_feature(memory_sanitizer)
#define OOM_SANITIZED 1
#endif
#endif

#ifndef OOM_SANITIZED
/* The allocation that fails: 0 none, else the countdown's end. One thread only. */
static long countdown;
static bool failed;

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

/*
 * Where allocations are made from, for sweep_verify's choice of which to fail: while
 * recording, each allocation's call stack, hashed (the return addresses from the caller of
 * malloc, calloc or realloc up), goes into stacks[]; stacks[i] is allocation i + 1's. An
 * allocation made again from the same place (a loop, a second certificate decoded the same
 * way) has the same hash. While checking, the stack of the allocation that fails goes into
 * failed_stack, to be compared with the one recorded.
 */
static bool recording, checking, unwinding;
static uint64_t *stacks, failed_stack;
static long n_stacks, cap_stacks;
/* How many of the outermost frames the hash leaves out: sweep_verify's own and its callers'
 * (the compiler may call cvma_verify from two places of sweep_verify's one loop). */
static int outer_frames;

static __attribute__((noinline)) uint64_t stack_hash(void)
{
    void *frame[256];
    unwinding = true; /* backtrace may allocate (the unwinder, loaded on first use) */
    int k = backtrace(frame, 256);
    unwinding = false;
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int i = 2; i < k - outer_frames; i++) { /* 0: here, 1: fail_now (two calls) */
        h = (h ^ (uint64_t)(uintptr_t)frame[i]) * 0x100000001b3u;
        h ^= h >> 29;
    }
    return h;
}

/* True for the allocation that fails, with errno ENOMEM as the C library's malloc sets it
 * (POSIX; realpath, say, reports it so). */
static __attribute__((noinline)) bool fail_now(void)
{
    if (unwinding) {
        return false;
    }
    if (recording) {
        if (n_stacks == cap_stacks) {
            long cap = cap_stacks > 0 ? 2 * cap_stacks : 4096;
            uint64_t *p = __libc_realloc(stacks, (size_t)cap * sizeof *stacks);
            if (p == NULL) {
                abort();
            }
            stacks = p;
            cap_stacks = cap;
        }
        stacks[n_stacks++] = stack_hash();
    }
    if (countdown > 0 && --countdown == 0) {
        failed = true;
        if (checking) {
            failed_stack = stack_hash();
        }
        errno = ENOMEM;
        return true;
    }
    return false;
}

/* Blocks allocated and not yet freed: a call that fails must leave none behind. */
static long live;

/*
 * Which blocks those are, for the report of one left behind: while tracing, each block
 * allocated goes into traced[] with its call stack, and leaves it when freed. Slow (a
 * backtrace per allocation): only for the verification that left a block, done again.
 */
struct traced_block {
    void *p;
    long seq; /* allocated seq-th while tracing */
    void *frame[32];
    int k;
};
static bool tracing;
static struct traced_block *traced;
static long n_traced, cap_traced, seq_traced;

static void trace_add(void *p)
{
    if (!tracing || unwinding || p == NULL) {
        return;
    }
    if (n_traced == cap_traced) {
        long cap = cap_traced > 0 ? 2 * cap_traced : 1024;
        struct traced_block *t = __libc_realloc(traced, (size_t)cap * sizeof *traced);
        if (t == NULL) {
            abort();
        }
        traced = t;
        cap_traced = cap;
    }
    struct traced_block *b = &traced[n_traced++];
    b->p = p;
    b->seq = seq_traced++;
    unwinding = true;
    b->k = backtrace(b->frame, 32);
    unwinding = false;
}

static void trace_remove(void *p)
{
    if (!tracing || unwinding || p == NULL) {
        return;
    }
    for (long i = n_traced - 1; i >= 0; i--) { /* most blocks are freed soon after */
        if (traced[i].p == p) {
            traced[i] = traced[--n_traced];
            return;
        }
    }
}

void *malloc(size_t n)
{
    void *p = fail_now() ? NULL : __libc_malloc(n);
    live += p != NULL;
    trace_add(p);
    return p;
}

void *calloc(size_t k, size_t n)
{
    void *p = fail_now() ? NULL : __libc_calloc(k, n);
    live += p != NULL;
    trace_add(p);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (fail_now()) {
        return NULL;
    }
    void *q = __libc_realloc(p, n);
    live += (p == NULL && q != NULL) - (p != NULL && n == 0 && q == NULL);
    if (q != NULL || n == 0) { /* moved, or freed (realloc to 0 bytes) */
        trace_remove(p);
        trace_add(q);
    }
    return q;
}

void free(void *p)
{
    live -= p != NULL;
    trace_remove(p);
    __libc_free(p);
}

/*
 * OpenSSL's error queue is each thread's ring of ERR_NUM_ERRORS slots, and the text of an
 * error (the "Field=..., Type=..." ERR_add_error_data adds at each level a DER decoder gives
 * up, or ERR_raise_data's) is a block of its slot's. ERR_clear_error empties the text but
 * keeps the block for the slot's next error (OpenSSL 3.0, err_clear_data), and the queue
 * starts again at the same slot; the block is freed with the thread's error state. So the
 * first failure that queues errors with text in more slots than any before it keeps a block
 * for each slot more, for good: not a leak, at most ERR_NUM_ERRORS blocks a thread, each used
 * again by every later error in its slot. Seen in the cold SEV-SNP sweep: allocations 11 to
 * 14, 24 and 33 failed inside d2i_X509 of the VCEK, one block kept each, two for 33; the same
 * failure again kept none, nor did a verification with none failed. So every slot is given its
 * text before any sweep, and a block left behind is never that.
 */
static void fill_error_queue(void)
{
    ERR_clear_error();
    for (int i = 0; i < ERR_NUM_ERRORS; i++) {
        ERR_raise_data(ERR_LIB_USER, ERR_R_INTERNAL_ERROR, "%s", "test_oom: a slot's text");
    }
    ERR_clear_error();
}
#endif

struct fx {
    char *snp, *tdx;
    char *provider, *registry; /* "cloud=PUBFILE" and the registry file listing the SNP chip */
    struct cvma_buf report, bundle, quote, tdx_bundle;
};

#ifndef OOM_SANITIZED
/* dir/name into *evidence, and the bundle of it and dir's collateral into *bundle. */
static void with_bundle(const char *dir, const char *name, const char *kind,
                        struct cvma_buf *evidence, struct cvma_buf *bundle)
{
    char *p = tu_path(dir, name);
    tu_read(p, evidence);
    free(p);
    p = tu_path(dir, "bundle.json");
    assert_int_equal(cvma_bundle_write(p, kind, evidence->p, evidence->len, dir), CVMA_OK);
    tu_read(p, bundle);
    free(p);
}

/* Provider "cloud": its key into f->snp, and a registry it signed that lists the simulated
 * SEV-SNP chip (CHIP_ID, report offset 0x1A0). */
static void write_registry(struct fx *f)
{
    EVP_PKEY *k = cvma_jws_key_generate(CVMA_JWS_ES256);
    char *pub = tu_path(f->snp, "cloud.pub");
    char hex[129], text[256], err[256];
    struct cvma_reg_entries e;
    char *jws = NULL;
    assert_non_null(k);
    FILE *fp = fopen(pub, "w");
    assert_non_null(fp);
    assert_int_equal(PEM_write_PUBKEY(fp, k), 1);
    assert_int_equal(fclose(fp), 0);
    assert_true(f->report.len > 0x1A0 + 64);
    cvma_hex_encode(f->report.p + 0x1A0, 64, hex, sizeof hex);
    snprintf(text, sizeof text, "amd chip_id %s region=eu-1\n", hex);
    cvma_reg_entries_init(&e);
    assert_int_equal(cvma_reg_entries_parse(text, strlen(text), "fleet", &e, err, sizeof err),
                     CVMA_OK);
    struct cvma_reg_build_opts o = {"cloud", 1, (int64_t)time(NULL) - 60, 86400, true};
    assert_int_equal(cvma_registry_build(&o, &e, k, &jws, NULL, err, sizeof err), CVMA_OK);
    f->registry = tu_path(f->snp, "cloud.jws");
    tu_write(f->registry, (const uint8_t *)jws, strlen(jws));
    size_t plen = strlen("cloud=") + strlen(pub) + 1;
    f->provider = malloc(plen);
    assert_non_null(f->provider);
    snprintf(f->provider, plen, "cloud=%s", pub);
    cvma_reg_entries_cleanup(&e);
    free(jws);
    free(pub);
    EVP_PKEY_free(k);
}
#endif

static int setup(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    return 0;
#else
    struct fx *f = calloc(1, sizeof *f);
    struct cvma_sim_snp_opts so;
    struct cvma_sim_tdx_opts to;
    char err[256];
    void *frame[4];
    (void)backtrace(frame, 4); /* loads the unwinder, which allocates, before any sweep */
    fill_error_queue();
    f->snp = tu_tmpdir();
    f->tdx = tu_tmpdir();
    cvma_sim_snp_opts_default(&so);
    cvma_sim_tdx_opts_default(&to);
    if (cvma_sim_snp_write(&so, f->snp, err, sizeof err) != CVMA_OK ||
        cvma_sim_tdx_write(&to, f->tdx, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "sim: %s\n", err);
        return -1;
    }
    with_bundle(f->snp, "report.bin", "sev-snp", &f->report, &f->bundle);
    with_bundle(f->tdx, "quote.bin", "tdx", &f->quote, &f->tdx_bundle);
    write_registry(f);
    *state = f;
    return 0;
#endif
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f == NULL) {
        return 0;
    }
    tu_rmtree(f->snp);
    tu_rmtree(f->tdx);
    free(f->snp);
    free(f->tdx);
    free(f->provider);
    free(f->registry);
    cvma_buf_free(&f->report);
    cvma_buf_free(&f->bundle);
    cvma_buf_free(&f->quote);
    cvma_buf_free(&f->tdx_bundle);
    free(f);
#ifndef OOM_SANITIZED
    __libc_free(stacks);
    stacks = NULL;
    n_stacks = cap_stacks = 0;
#endif
    return 0;
}

#ifndef OOM_SANITIZED
/*
 * Reads p as evidence with the n-th allocation failed, for n = 1, 2... until a read runs to
 * its end without a failure; every failed one must answer CVMA_E_NOMEM. Returns the number of
 * allocations a whole read makes.
 */
static long sweep(const uint8_t *p, size_t len, enum cvma_inform inform, const char *what)
{
    long n;
    for (n = 1; n < 100000; n++) {
        struct cvma_evidence *ev = NULL;
        char err[256] = "";
        long before = live;
        failed = false;
        countdown = n;
        enum cvma_status st = cvma_evidence_from_bytes(p, len, inform, &ev, err, sizeof err);
        countdown = 0;
        if (failed && live != before) {
            fail_msg("%s: allocation %ld failed: %ld blocks left behind", what, n, live - before);
        }
        if (!failed) {
            if (st != CVMA_OK) {
                fail_msg("%s: read without a failure gave %d (%s)", what, (int)st, err);
            }
            cvma_evidence_free(ev);
            return n - 1;
        }
        if (st != CVMA_E_NOMEM) {
            fail_msg("%s: allocation %ld failed: status %d, want CVMA_E_NOMEM (%s)", what, n,
                     (int)st, err);
        }
        if (err[0] == '\0') {
            fail_msg("%s: allocation %ld failed: CVMA_E_NOMEM with err empty", what, n);
        }
        assert_null(ev);
    }
    fail_msg("%s: no end to the allocations", what);
    return n;
}
#endif

#ifndef OOM_SANITIZED
/* The same for the service's request body (common/jflat.h): CVMA_JFLAT_NOMEM, never a
 * verdict on the body (a refused body is read again by jansson to class it). */
static void sweep_body(const char *body, enum cvma_jflat_result want)
{
    long n;
    for (n = 1; n < 100000; n++) {
        struct cvma_jflat_field in[] = {{"evidence", NULL, 0}, {"nonce", NULL, 0}};
        char what[80];
        long before = live;
        failed = false;
        countdown = n;
        enum cvma_jflat_result r =
                cvma_jflat_parse((const uint8_t *)body, strlen(body), in, 2, what, sizeof what);
        countdown = 0;
        cvma_jflat_free(in, 2);
        if (live != before) {
            fail_msg("body %s: allocation %ld failed: %ld blocks left behind", body, n,
                     live - before);
        }
        if (!failed) {
            assert_int_equal(r, want);
            assert_true(n > 1);
            return;
        }
        if (r != CVMA_JFLAT_NOMEM) {
            fail_msg("body %s: allocation %ld failed: result %d, want CVMA_JFLAT_NOMEM", body, n,
                     (int)r);
        }
    }
    fail_msg("body: no end to the allocations");
}
#endif

static void test_oom_request_body_answers_nomem_at_every_allocation(void **state)
{
    (void)state;
#ifdef OOM_SANITIZED
    skip();
#else
    sweep_body("{\"evidence\": \"AAAA\", \"nonce\": \"x\\u00e9\"}", CVMA_JFLAT_OK);
    sweep_body("{\"evidence\": \"AAAA\", \"other\": [1, {\"a\": \"b\"}]}", CVMA_JFLAT_MEMBER);
    sweep_body("{\"evidence\": \"AAAA\", \"evidence\": \"BBBB\"}", CVMA_JFLAT_SYNTAX);
#endif
}

#ifndef OOM_SANITIZED
/* What path holds (up to 15 bytes), and how many names its directory has. */
static void file_state(const char *dir, const char *path, char *got, size_t *names)
{
    FILE *f = fopen(path, "rb");
    size_t k = f != NULL ? fread(got, 1, 15, f) : 0;
    got[k] = '\0';
    if (f != NULL) {
        fclose(f);
    }
    DIR *d = opendir(dir);
    assert_non_null(d);
    *names = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        *names += e->d_name[0] != '.';
    }
    closedir(d);
}
#endif

/* A state file (a log's checkpoint, a registry's version floor) written with the n-th
 * allocation failed: CVMA_E_NOMEM leaves it as it was, and nothing beside it; CVMA_OK is the
 * new one. Out of memory must never be said of a write that was made. */
static void test_oom_atomic_write_nomem_leaves_the_file_as_it_was(void **state)
{
    (void)state;
#ifdef OOM_SANITIZED
    skip();
#else
    char dir[] = "/tmp/cvma-oom-XXXXXX", path[64], got[16];
    size_t names;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/state", dir);
    long n;
    for (n = 1; n < 1000; n++) {
        assert_int_equal(cvma_file_write_atomic(path, (const uint8_t *)"old", 3), CVMA_OK);
        long before = live;
        failed = false;
        countdown = n;
        enum cvma_status st = cvma_file_write_atomic(path, (const uint8_t *)"new", 3);
        countdown = 0;
        if (live != before) {
            fail_msg("allocation %ld failed: %ld blocks left behind", n, live - before);
        }
        file_state(dir, path, got, &names);
        if (names != 1) {
            fail_msg("allocation %ld failed: %zu names in the directory", n, names);
        }
        if (!failed) {
            assert_int_equal(st, CVMA_OK);
            assert_string_equal(got, "new");
            break;
        }
        if (st != CVMA_E_NOMEM || strcmp(got, "old") != 0) {
            fail_msg("allocation %ld failed: status %d, the file holds '%s'", n, (int)st, got);
        }
    }
    assert_true(n > 1 && n < 1000);
    unlink(path);
    rmdir(dir);
#endif
}

static void test_oom_evidence_reader_answers_nomem_at_every_allocation(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    struct fx *f = *state;
    char *text = NULL;
    assert_true(sweep(f->report.p, f->report.len, CVMA_INFORM_AUTO, "SEV-SNP report") >= 1);
    assert_true(sweep(f->bundle.p, f->bundle.len, CVMA_INFORM_AUTO, "SEV-SNP bundle") >= 1);
    assert_true(sweep(f->quote.p, f->quote.len, CVMA_INFORM_AUTO, "TDX quote") >= 1);
    assert_true(sweep(f->tdx_bundle.p, f->tdx_bundle.len, CVMA_INFORM_AUTO, "TDX bundle") >= 1);
    assert_non_null(text = cvma_base64_encode(f->report.p, f->report.len, CVMA_B64_STD));
    assert_true(sweep((const uint8_t *)text, strlen(text), CVMA_INFORM_AUTO, "base64 report") >= 1);
    assert_true(sweep((const uint8_t *)text, strlen(text), CVMA_INFORM_BASE64,
                      "base64 report (forced)") >= 1);
    free(text);
#endif
}

#ifndef OOM_SANITIZED
/* CVMA_OOM_STRIDE, else dflt: how many allocations apart those failed by stride are. */
static long oom_stride(long dflt)
{
    const char *env = getenv("CVMA_OOM_STRIDE");
    long stride = env != NULL ? strtol(env, NULL, 10) : dflt;
    return stride >= 1 ? stride : dflt;
}

struct site {
    uint64_t stack;
    long n;
};

static int by_stack(const void *a, const void *b)
{
    const struct site *x = a, *y = b;
    if (x->stack != y->stack) {
        return x->stack < y->stack ? -1 : 1;
    }
    return (x->n > y->n) - (x->n < y->n);
}

/* How many allocations from one place (one call stack) are failed: the first ones made. */
#define OOM_PER_PLACE 2
/* A verification making at most this many allocations has every one of them failed. */
#define OOM_ALL_UP_TO 1000

/*
 * Of the total allocations of the recorded verification (stacks[]), those sweep_verify fails,
 * in order, into *pick (the caller frees it): all of them when there are at most
 * OOM_ALL_UP_TO or stride is 1; else the first OOM_PER_PLACE made from each place, and every
 * stride-th. Returns how many; *places: how many places.
 */
static long choose(long total, long stride, long **pick, long *places)
{
    struct site *s = calloc((size_t)total, sizeof *s);
    bool *take = calloc((size_t)total + 1, sizeof *take);
    long k = 0;
    assert_non_null(s);
    assert_non_null(take);
    for (long i = 0; i < total; i++) {
        s[i].stack = stacks[i];
        s[i].n = i + 1;
    }
    qsort(s, (size_t)total, sizeof *s, by_stack);
    *places = 0;
    for (long i = 0; i < total; i++) {
        *places += i == 0 || s[i].stack != s[i - 1].stack;
        if (i < OOM_PER_PLACE || s[i].stack != s[i - OOM_PER_PLACE].stack) {
            take[s[i].n] = true;
        }
    }
    if (total <= OOM_ALL_UP_TO) {
        stride = 1;
    }
    for (long n = stride; n <= total; n += stride) {
        take[n] = true;
    }
    assert_non_null(*pick = calloc((size_t)total + 1, sizeof **pick));
    for (long n = 1; n <= total; n++) {
        if (take[n]) {
            (*pick)[k++] = n;
        }
    }
    free(take);
    free(s);
    return k;
}

static int by_seq(const void *a, const void *b)
{
    const struct traced_block *x = a, *y = b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* How many of the blocks left print_traced shows: the first allocated (a leaked object's own
 * block comes before those it holds). */
#define OOM_TRACED_SHOWN 3

/*
 * Where the first blocks traced and not freed were allocated, a call stack each, to stderr
 * (among them those that took the place of a block allocated before, as OpenSSL's error texts
 * do). A frame of a static function reads "test_oom(+0x2402c)": addr2line -f -i -e test_oom
 * 0x2402c names it.
 */
static void print_traced(void)
{
    qsort(traced, (size_t)n_traced, sizeof *traced, by_seq);
    for (long i = 0; i < n_traced && i < OOM_TRACED_SHOWN; i++) {
        print_error("block %p, allocated from:\n", traced[i].p);
        backtrace_symbols_fd(traced[i].frame, traced[i].k, STDERR_FILENO);
    }
    if (n_traced > OOM_TRACED_SHOWN) {
        print_error("and %ld blocks more\n", n_traced - OOM_TRACED_SHOWN);
    }
    n_traced = 0;
}

/* cvma_verify of ev with allocation n failed, its blocks traced: how many it left; if any,
 * where those it allocated and did not free were allocated is printed. */
static long traced_verify(struct cvma_verifier *v, const struct cvma_evidence *ev, long n)
{
    struct cvma_request req;
    struct cvma_result *res = NULL;
    char err[256];
    long before = live;
    memset(&req, 0, sizeof req);
    n_traced = seq_traced = 0;
    tracing = true;
    failed = false;
    countdown = n;
    enum cvma_status st = cvma_verify(v, ev, &req, &res, err, sizeof err);
    countdown = 0;
    (void)st; /* what it answers, sweep_verify has judged the first time */
    cvma_result_free(res);
    tracing = false;
    long left = live - before;
    if (left != 0) {
        print_traced();
    }
    n_traced = 0;
    return left;
}

/*
 * cvma_verify of ev with one allocation failed: each such verification must answer
 * CVMA_E_NOMEM and no result. Not a refusal (an allocation lost is not a reason to refuse
 * evidence: a certificate OpenSSL could not decode for want of memory must not read as
 * malformed), and not an affirming result either (OpenSSL copes with some failures by trying
 * another way, and whether it checked all the same is not for a verdict to guess).
 *
 * Which allocations: failing each in turn costs a verification per allocation, and the
 * verification of a real TDX bundle makes 42,000 (with a cold verifier: some 300 s of CPU
 * for that one sweep). Nearly all of them are the same few places again (OpenSSL decoding
 * each certificate and CRL entry, jansson each JSON value): that bundle allocates from about
 * 2,500 places (call stacks). So a first verification fails none and records the place of
 * each allocation; it must give the status of the one before the sweep. Then the n-th
 * allocation is failed, a verification each, for each n among the first OOM_PER_PLACE
 * allocations made from their place (the second: a loop's cleanup of what it built before),
 * and every stride-th n as well (CVMA_OOM_STRIDE, default 61). A verification of at most
 * OOM_ALL_UP_TO allocations, and any with CVMA_OOM_STRIDE=1, has every allocation failed in
 * turn. A failed allocation must be the one recorded at its number, from the same place:
 * verifications of the same evidence allocate alike, or the choice would not mean what it
 * says. Returns the allocations a whole verification makes.
 *
 * Nothing may be left behind: once a verification's result is freed, as many blocks are
 * allocated as before it, whether an allocation failed or none did (the caches keep nothing
 * made while one failed, and what they keep from the verification before the sweep is there
 * already; OpenSSL's error queue is filled first, see fill_error_queue). Where blocks are
 * left, the same failure is made again, tracing where each block left then was allocated: a
 * leak leaves them again, with the stacks to find it by; something made once and kept for
 * good does not (CVMA_OOM_TRACE=n traces the verifications with allocation n failed).
 */
static long sweep_verify(struct cvma_verifier *v, const struct cvma_evidence *ev, const char *what)
{
    char err[256];
    struct cvma_request req;
    struct cvma_result *res = NULL;
    void *frame[256];
    memset(&req, 0, sizeof req);
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    enum cvma_result_status want = cvma_result_status(res);
    cvma_result_free(res);
    long *pick = NULL, n_pick = 0, total = 0, places = 0, bad = 0, leaks = 0;
    const char *trace_env = getenv("CVMA_OOM_TRACE");
    long trace_n = trace_env != NULL ? strtol(trace_env, NULL, 10) : 0;
    outer_frames = backtrace(frame, 256); /* this function's and those that called it */
    for (long i = 0; i == 0 || i <= n_pick; i++) {
        long before = live;
        res = NULL;
        failed = false;
        err[0] = '\0';
        recording = i == 0;
        checking = i > 0;
        n_stacks = 0;
        countdown = i == 0 ? 0 : pick[i - 1];
        n_traced = seq_traced = 0;
        tracing = countdown > 0 && countdown == trace_n;
        enum cvma_status st = cvma_verify(v, ev, &req, &res, err, sizeof err);
        countdown = 0;
        recording = checking = false;
        if (i == 0) {
            assert_false(failed);
            assert_int_equal(st, CVMA_OK);
            assert_int_equal(cvma_result_status(res), want);
            cvma_result_free(res);
            if (live != before) {
                fail_msg("%s: a verification with no allocation failed left %ld blocks", what,
                         live - before);
            }
            total = n_stacks;
            n_pick = choose(total, oom_stride(61), &pick, &places);
            continue;
        }
        long n = pick[i - 1];
        if (!failed) {
            fail_msg("%s: allocation %ld not made, of %ld the first time", what, n, total);
        }
        if (failed_stack != stacks[n - 1]) {
            fail_msg("%s: allocation %ld made from another place than the first time", what, n);
        }
        if (st == CVMA_E_NOMEM && err[0] == '\0') {
            fail_msg("%s: allocation %ld failed: CVMA_E_NOMEM with err empty", what, n);
        }
        if (st != CVMA_E_NOMEM && ++bad <= 10) { /* the first few, then the count */
            print_error("%s: allocation %ld failed: status %d, %s%s, want CVMA_E_NOMEM\n", what, n,
                        (int)st,
                        res == NULL                         ? "no result"
                        : cvma_result_reason_count(res) > 0 ? cvma_result_reason_code(res, 0)
                                                            : "a result",
                        res != NULL && cvma_result_status(res) == CVMA_AFFIRMING ? " (affirming)"
                                                                                 : "");
        }
        cvma_result_free(res);
        long left = live - before;
        if (tracing) {
            tracing = false;
            print_error("%s: allocation %ld failed, traced: %ld blocks left\n", what, n, left);
            print_traced();
        }
        if (left != 0 && ++leaks == 1) { /* the first traced, a few more named, then the count */
            print_error("%s: allocation %ld failed: %ld blocks left; the same failure again, "
                        "traced:\n",
                        what, n, left);
            long again = traced_verify(v, ev, n);
            print_error("%s: allocation %ld failed again: %ld blocks left%s\n", what, n, again,
                        again == 0 ? " (made once, then kept: CVMA_OOM_TRACE traces the first)"
                                   : "");
        } else if (left != 0 && leaks <= 10) {
            print_error("%s: allocation %ld failed: %ld blocks left\n", what, n, left);
        }
    }
    outer_frames = 0;
    free(pick);
    print_message("%s: %ld allocations from %ld places, %ld of them failed in turn\n", what, total,
                  places, n_pick);
    if (bad > 0) {
        fail_msg("%s: %ld of %ld failed allocations were not answered CVMA_E_NOMEM", what, bad,
                 n_pick);
    }
    if (leaks > 0) {
        fail_msg("%s: %ld of %ld failed allocations left blocks allocated", what, leaks, n_pick);
    }
    return total;
}

/* f's SEV-SNP report or TDX quote, read. */
static struct cvma_evidence *evidence_of(const struct cvma_buf *b)
{
    struct cvma_evidence *ev = NULL;
    char err[256];
    assert_int_equal(cvma_evidence_from_bytes(b->p, b->len, CVMA_INFORM_AUTO, &ev, err, sizeof err),
                     CVMA_OK);
    return ev;
}

/* Collateral files are decoded once only when older than the directory cache's settling
 * time (collateral/dircache.h): the warm sweeps wait for it. */
static void let_settle(void)
{
    static bool settled;
    if (!settled) {
        sleep(CVMA_DIRCACHE_SETTLE_SECONDS + 1);
        settled = true;
    }
}

/* sweep_verify of evidence b with dir's collateral and dir/root as the trust root. */
static void sweep_dir(const char *dir, const char *root, const struct cvma_buf *b, bool cold,
                      const char *what)
{
    char *r = tu_path(dir, root);
    struct cvma_verifier *v = tu_verifier(r, dir, NULL, cold);
    struct cvma_evidence *ev = evidence_of(b);
    assert_true(sweep_verify(v, ev, what) > 1);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    free(r);
}
#endif

#ifndef OOM_SANITIZED
/*
 * A fresh verifier (empty caches) whose first verification of b has the n-th allocation
 * failed, then a second with none: the first answers CVMA_E_NOMEM (or affirms, where the
 * allocation was only to keep something in a cache), the second exactly what a verifier
 * never short of memory answers. Nothing made while an allocation failed may stay in
 * a cache (OpenSSL, say, marks a certificate processed when an allocation inside that failed,
 * and a chain kept from then on would be refused ever after), and once all is freed, nothing
 * is left allocated. Every stride-th allocation (CVMA_OOM_STRIDE=1 for all of them).
 */
static void sweep_refill(const char *dir, const char *root, const struct cvma_buf *b,
                         const char *what)
{
    long stride = oom_stride(13), n, tried = 0;
    char *r = tu_path(dir, root);
    char err[256];
    struct cvma_request req;
    memset(&req, 0, sizeof req);
    let_settle();
    for (n = 1; n < 200000; n += stride) {
        long before = live;
        struct cvma_verifier *v = tu_verifier(r, dir, NULL, false);
        struct cvma_evidence *ev = evidence_of(b);
        struct cvma_result *res = NULL;
        failed = false;
        countdown = n;
        enum cvma_status st = cvma_verify(v, ev, &req, &res, err, sizeof err);
        countdown = 0;
        bool done = !failed;
        /* An allocation only for keeping something in a cache may fail without a word: the
         * verification itself is whole (what it verified is only not kept). */
        if (failed && st != CVMA_E_NOMEM &&
            (st != CVMA_OK || cvma_result_status(res) != CVMA_AFFIRMING)) {
            fail_msg("%s: allocation %ld failed: status %d, want CVMA_E_NOMEM", what, n, (int)st);
        }
        cvma_result_free(res);
        res = NULL;
        assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
        if (cvma_result_status(res) != CVMA_AFFIRMING) {
            fail_msg("%s: after allocation %ld failed, the next verification is %s (%s)", what, n,
                     cvma_result_status_name(cvma_result_status(res)),
                     cvma_result_reason_count(res) > 0 ? cvma_result_reason_code(res, 0) : "-");
        }
        cvma_result_free(res);
        cvma_evidence_free(ev);
        cvma_verifier_free(v);
        if (live != before) {
            fail_msg("%s: allocation %ld failed: %ld blocks left", what, n, live - before);
        }
        tried++;
        if (done) {
            break;
        }
    }
    assert_true(tried > 10);
    free(r);
}
#endif

/* What a verification made while an allocation failed is not kept for the next. */
static void test_oom_nothing_made_short_of_memory_is_kept(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    struct fx *f = *state;
    sweep_refill(f->snp, "ark.pem", &f->report, "SEV-SNP report, fresh verifier");
    sweep_refill(f->snp, "ark.pem", &f->bundle, "SEV-SNP bundle, fresh verifier");
    sweep_refill(f->tdx, "root_ca.pem", &f->quote, "TDX quote, fresh verifier");
#endif
}

/* A verifier with its caches warm, as a service runs it: the chain and the collateral
 * directory's files from the caches. */
static void test_oom_warm_verify_answers_nomem_at_every_allocation(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    struct fx *f = *state;
    let_settle();
    sweep_dir(f->snp, "ark.pem", &f->report, false, "SEV-SNP, warm");
    sweep_dir(f->tdx, "root_ca.pem", &f->quote, false, "TDX, warm");
#endif
}

/* A verifier without caches: every certificate, CRL and collateral document decoded and every
 * chain verified again, each time. */
static void test_oom_cold_verify_answers_nomem_wherever_it_allocates(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    struct fx *f = *state;
    sweep_dir(f->snp, "ark.pem", &f->report, true, "SEV-SNP, cold");
    sweep_dir(f->tdx, "root_ca.pem", &f->quote, true, "TDX, cold");
    /* A TDX bundle's own items, no directory: for another root, taken right after it. */
    char *empty = tu_tmpdir(), *r = tu_path(f->tdx, "root_ca.pem");
    struct cvma_verifier *v = tu_verifier(r, NULL, empty, true);
    struct cvma_evidence *ev = evidence_of(&f->tdx_bundle);
    assert_true(sweep_verify(v, ev, "TDX bundle, another root, cold") > 1);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    free(r);
    /* For Intel's root, offline with an empty cache: each item looked up in the cache, then
     * taken from the bundle (the real sample, judged now: its collateral has expired). */
    if (tu_vectors() != NULL) {
        struct cvma_buf quote, bundle;
        char *d = tu_vec("tdx/v4-uptodate-dcapqvl"), *q = tu_path(d, "quote.bin");
        char *bp = tu_path(empty, "real-bundle.json");
        r = tu_vec("tdx/roots/intel_sgx_root_ca.pem");
        tu_read(q, &quote);
        assert_int_equal(cvma_bundle_write(bp, "tdx", quote.p, quote.len, d), CVMA_OK);
        tu_read(bp, &bundle);
        v = tu_verifier(r, NULL, empty, true);
        ev = evidence_of(&bundle);
        assert_true(sweep_verify(v, ev, "TDX bundle, Intel's root, cold") > 1);
        cvma_evidence_free(ev);
        cvma_verifier_free(v);
        cvma_buf_free(&quote);
        cvma_buf_free(&bundle);
        free(bp);
        free(q);
        free(d);
        free(r);
    }
    tu_rmtree(empty);
    free(empty);
#endif
}

#ifndef OOM_SANITIZED
/* A verifier of f's SEV-SNP evidence that binds it to provider "cloud" by its registry. */
static struct cvma_verifier *registry_verifier(const struct fx *f, bool no_cache)
{
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    char *ark = tu_path(f->snp, "ark.pem");
    char *cache = tu_path(f->snp, no_cache ? "cache-cold" : "cache-warm");
    const char *roots[] = {ark};
    const char *providers[] = {f->provider};
    const char *registries[] = {f->registry};
    char err[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.collateral_dir = f->snp;
    cfg.offline = true;
    cfg.no_cache = no_cache;
    cfg.cache_dir = cache; /* the registry's rollback state: this test's own */
    cfg.providers = providers;
    cfg.n_providers = 1;
    cfg.registries = registries;
    cfg.n_registries = 1;
    if (cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK) {
        fail_msg("cvma_verifier_new: %s", err);
    }
    free(ark);
    free(cache);
    return v;
}
#endif

/* The binding to a provider's registry (docs/registry.md), warm and cold: out of memory there
 * is the call's error too, never UNREGISTERED_PLATFORM nor a result without the provider. */
static void test_oom_registry_binding_answers_nomem_wherever_it_allocates(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    struct fx *f = *state;
    struct cvma_evidence *ev = evidence_of(&f->report);
    for (int cold = 0; cold < 2; cold++) {
        struct cvma_verifier *v = registry_verifier(f, cold != 0);
        struct cvma_request req;
        struct cvma_result *res = NULL;
        char err[256];
        memset(&req, 0, sizeof req);
        assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
        char *js = cvma_result_json(res, false);
        assert_non_null(js);
        if (strstr(js, "\"provider\":\"cloud\"") == NULL) {
            fail_msg("not bound to the provider: %s", js);
        }
        free(js);
        cvma_result_free(res);
        let_settle();
        assert_true(sweep_verify(v, ev, cold ? "registry, cold" : "registry, warm") > 1);
        cvma_verifier_free(v);
    }
    cvma_evidence_free(ev);
#endif
}

#ifndef OOM_SANITIZED
/*
 * cvma_bind_log_check of entry 0 of f's log with the witness, the log proofs in files[] and
 * the log's tiles in tiles (--log-url: a directory), the n-th allocation failed, for n = 1, 2...
 * until a check runs to its end without a failure. Before each, f's state directory holds seen
 * (NULL: no checkpoint). Every check with an allocation failed must answer CVMA_E_NOMEM and
 * leave nothing allocated; the last, with none failed, binds, and the state then holds the
 * checkpoint of size want. An allocation OpenSSL could not make counts as cvma_verify counts
 * it (common/allocfail.h). Returns how many allocations a whole check makes.
 */
static long sweep_log(struct logfx *f, char *const *files, size_t n_files, const char *tiles,
                      const struct cvma_buf *seen, uint64_t want, const char *what)
{
    static const struct cvma_registry_bind_opts no_opts;
    char *spath = cvma_tlog_state_path(f->state, "tlog-state.", LOGFX_ORIGIN, ".checkpoint");
    char url[700], err[300], why[CVMA_DETAIL_MAX];
    struct reg_item it;
    long n;
    assert_non_null(spath);
    snprintf(url, sizeof url, "acme=%s", tiles);
    memset(&it, 0, sizeof it);
    it.origin = "reg0.jws";
    it.bytes.p = (uint8_t *)f->entry[0];
    it.bytes.len = strlen(f->entry[0]);
    snprintf(it.reg.provider, sizeof it.reg.provider, "acme");
    for (n = 1; n < 100000; n++) {
        if (seen != NULL) {
            assert_int_equal(cvma_file_write_atomic(spath, seen->p, seen->len), CVMA_OK);
        } else {
            assert_true(unlink(spath) == 0 || errno == ENOENT);
        }
        ERR_clear_error();
        long before = live;
        struct cvma_registry_set *rs = cvma_registry_set_new();
        struct cvma_verdict v;
        bool ok = false;
        assert_non_null(rs);
        assert_int_equal(cvma_registry_set_add_log_key(rs, f->logv_spec, err, sizeof err), CVMA_OK);
        assert_int_equal(cvma_registry_set_add_witness(rs, f->witv, err, sizeof err), CVMA_OK);
        assert_int_equal(cvma_registry_set_add_log_url(rs, url, err, sizeof err), CVMA_OK);
        for (size_t i = 0; i < n_files; i++) {
            assert_int_equal(cvma_registry_set_add_log_proof(rs, files[i], err, sizeof err),
                             CVMA_OK);
        }
        cvma_verdict_init(&v);
        unsigned long failures = cvma_allocfail_count();
        failed = false;
        countdown = n;
        enum cvma_status st =
                cvma_bind_log_check(rs, &it, f->state, &no_opts, &v, &ok, why, sizeof why);
        countdown = 0;
        /* What cvma_verify answers: an allocation OpenSSL or jansson could not make (counted,
         * common/allocfail.h) is its CVMA_E_NOMEM whatever the check said. */
        if (cvma_allocfail_count() != failures || v.oom) {
            st = CVMA_E_NOMEM;
        }
        const char *first = v.n_reasons > 0 ? cvma_reason_name(v.reasons[0].code) : "none";
        size_t n_reasons = v.n_reasons;
        cvma_verdict_cleanup(&v);
        cvma_registry_set_free(rs);
        ERR_clear_error(); /* OpenSSL's queue keeps copies of an error's file and function */
        if (live != before) {
            fail_msg("%s: allocation %ld failed: %ld blocks left behind", what, n, live - before);
        }
        if (!failed) {
            if (st != CVMA_OK || !ok || n_reasons > 0) {
                fail_msg("%s: a check without a failure gave status %d, %s, reason %s", what,
                         (int)st, ok ? "bound" : "not bound", first);
            }
            assert_int_equal(logfx_state_size(f), want);
            break;
        }
        if (st != CVMA_E_NOMEM) {
            fail_msg("%s: allocation %ld failed: status %d, %s, reason %s, want CVMA_E_NOMEM", what,
                     n, (int)st, ok ? "bound" : "not bound", first);
        }
    }
    free(spath);
    print_message("%s: %ld allocations, each failed in turn\n", what, n - 1);
    return n - 1;
}
#endif

/*
 * The registry log's tiles fetched and hashed where no --log-consistency proof is given
 * (docs/registry.md "Registry log"), the tiles from a directory and every allocation failed in
 * turn: out of memory there is the call's error, never REGISTRY_LOG_UNPROVEN (a log grown
 * since the checkpoint seen, said unproven for want of memory) nor two checkpoints given
 * bound without being compared.
 */
static void test_oom_registry_log_tiles_answer_nomem_at_every_allocation(void **state)
{
    (void)state;
#ifdef OOM_SANITIZED
    skip();
#else
    struct logfx f;
    struct cvma_buf seen = {0};
    logfx_init(&f);
    char *tiles = tu_path(f.dir, "log"), *p2 = logfx_proof(&f, 2, true),
         *p4 = logfx_proof(&f, 4, true);
    char *spath = cvma_tlog_state_path(f.state, "tlog-state.", LOGFX_ORIGIN, ".checkpoint");
    assert_non_null(spath);
    logfx_publish(&f, tiles);
    /* Nothing seen: the checkpoint of size 2 kept. */
    char *small[] = {p2}, *grown[] = {p4}, *both[] = {p2, p4};
    assert_true(sweep_log(&f, small, 1, tiles, NULL, 2, "size 2, nothing seen") > 0);
    tu_read(spath, &seen);
    /* Size 2 seen, size 4 given: the tiles show the one a prefix of the other (check_state). */
    assert_true(sweep_log(&f, grown, 1, tiles, &seen, 4, "grown from size 2, the tiles") > 0);
    /* Nothing seen, sizes 2 and 4 given: compared by the tiles first (cross_check). */
    assert_true(sweep_log(&f, both, 2, tiles, NULL, 4, "sizes 2 and 4 given, the tiles") > 0);
    cvma_buf_free(&seen);
    free(spath);
    free(p2);
    free(p4);
    free(tiles);
    logfx_cleanup(&f);
#endif
}

#ifndef OOM_SANITIZED
/* Azure's readers with the n-th allocation failed: never a success and never a refusal, but
 * the verdict marked out of memory; nothing left allocated. kind 0: Trustee's evidence JSON,
 * 1: the runtime claims, 2: the attestation key from the claims. */
static void sweep_azure(int kind, const char *text)
{
    long n;
    for (n = 1; n < 100000; n++) {
        struct cvma_verdict v;
        struct cvma_azure_evidence e;
        struct cvma_span sp = {(const uint8_t *)text, strlen(text)};
        json_t *claims = NULL;
        enum cvma_status st = CVMA_OK;
        cvma_verdict_init(&v);
        if (kind == 2) {
            assert_int_equal(cvma_azure_runtime_claims_parse(&sp, &claims, &v), CVMA_OK);
            cvma_verdict_cleanup(&v);
            cvma_verdict_init(&v);
        }
        ERR_clear_error();
        long before = live;
        failed = false;
        countdown = n;
        if (kind == 0) {
            st = cvma_azure_evidence_parse(sp.p, sp.len, &e, &v);
            if (st == CVMA_OK) {
                cvma_azure_evidence_cleanup(&e);
            }
        } else if (kind == 1) {
            st = cvma_azure_runtime_claims_parse(&sp, &claims, &v);
        } else {
            char *pem = cvma_azure_ak_pem_from_claims(claims, &v);
            st = pem != NULL ? CVMA_OK : CVMA_REJECTED;
            free(pem);
        }
        countdown = 0;
        if (kind == 1) {
            json_decref(claims);
            claims = NULL;
        }
        bool oom = v.oom, reasons = v.n_reasons > 0;
        cvma_verdict_cleanup(&v);
        ERR_clear_error(); /* OpenSSL's queue keeps copies of an error's file and function */
        if (live != before) {
            fail_msg("azure %d: allocation %ld failed: %ld blocks left behind", kind, n,
                     live - before);
        }
        json_decref(claims);
        if (!failed) {
            assert_int_equal(st, CVMA_OK);
            assert_true(n > 1);
            return;
        }
        if (st == CVMA_OK || !oom || reasons) {
            fail_msg("azure %d: allocation %ld failed: status %d, %s, %s", kind, n, (int)st,
                     oom ? "out of memory" : "not marked out of memory",
                     reasons ? "a reason recorded" : "no reason");
        }
    }
    fail_msg("azure %d: no end to the allocations", kind);
}
#endif

static void test_oom_azure_readers_answer_nomem_at_every_allocation(void **state)
{
    (void)state;
#ifdef OOM_SANITIZED
    skip();
#else
    sweep_azure(0, "{\"version\": 2, \"hcl_report\": \"SENMQQ==\", \"tpm_quote\": "
                   "{\"message\": \"ff544347\", \"signature\": \"0102\", \"pcrs\": [\""
                   "0000000000000000000000000000000000000000000000000000000000000000\"]}, "
                   "\"vcek\": \"-----BEGIN CERTIFICATE-----\\n\"}");
    sweep_azure(0, "{\"hcl_report\": [72, 67, 76, 65], \"tpm_quote\": {\"message\": [255], "
                   "\"signature\": [1]}, \"td_quote\": \"SENMQQ\"}");
    /* An RSA key as the runtime claims name it (a JWK), and user data beside it. */
    EVP_PKEY *k = EVP_RSA_gen(2048);
    char claims[2048];
    uint8_t rd[64];
    assert_non_null(k);
    assert_true(tu_azure_claims(k, TU_AZURE_UD0, claims, sizeof claims, rd) > 0);
    sweep_azure(1, claims);
    sweep_azure(2, claims);
    EVP_PKEY_free(k);
#endif
}

/* OpenSSL's and jansson's failed allocations are counted (common/allocfail.h): installed when
 * the library was loaded, before anything of OpenSSL's was allocated. */
static void test_oom_library_allocations_are_counted(void **state)
{
    (void)state;
    assert_int_equal(cvma_allocfail_counted(), CVMA_ALLOCFAIL_OPENSSL | CVMA_ALLOCFAIL_JANSSON);
#ifndef OOM_SANITIZED
    unsigned long before = cvma_allocfail_count();
    failed = false;
    countdown = 1;
    BIGNUM *bn = BN_new();
    countdown = 0;
    assert_true(failed);
    assert_null(bn);
    assert_int_equal(cvma_allocfail_count(), before + 1);
    ERR_clear_error();
    countdown = 1;
    json_t *j = json_string("x");
    countdown = 0;
    assert_null(j);
    assert_int_equal(cvma_allocfail_count(), before + 2);
#endif
}

/*
 * The other entry points that take err (cvma_verifier_new, cvma_evidence_from_file,
 * cvma_evidence_add_collateral_dir), with the n-th allocation failed for n = 1, 2... until a
 * call runs to its end without a failure: whenever one answers CVMA_E_NOMEM, err says so (a
 * caller shows err, and an empty one says nothing). Each must have answered it at least once.
 */
static void test_oom_entry_points_say_out_of_memory(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    struct fx *f = *state;
    char *root = tu_path(f->snp, "ark.pem"), *report = tu_path(f->snp, "report.bin");
    const char *roots[] = {root};
    struct cvma_verifier_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.collateral_dir = f->snp;
    cfg.offline = true;
    for (int which = 0; which < 3; which++) {
        static const char *const name[] = {"cvma_verifier_new", "cvma_evidence_from_file",
                                           "cvma_evidence_add_collateral_dir"};
        long n, nomem = 0;
        for (n = 1; n < 100000; n++) {
            struct cvma_verifier *v = NULL;
            struct cvma_evidence *ev = NULL;
            char err[256] = "";
            enum cvma_status st;
            if (which == 2) {
                ev = evidence_of(&f->report);
            }
            failed = false;
            countdown = n;
            if (which == 0) {
                st = cvma_verifier_new(&cfg, &v, err, sizeof err);
            } else if (which == 1) {
                st = cvma_evidence_from_file(report, CVMA_INFORM_AUTO, &ev, err, sizeof err);
            } else {
                st = cvma_evidence_add_collateral_dir(ev, f->snp, err, sizeof err);
            }
            countdown = 0;
            cvma_verifier_free(v);
            cvma_evidence_free(ev);
            if (st == CVMA_E_NOMEM) {
                nomem++;
                if (strstr(err, "out of memory") == NULL) {
                    fail_msg("%s: allocation %ld failed: CVMA_E_NOMEM with err \"%s\"", name[which],
                             n, err);
                }
            }
            if (!failed) {
                assert_int_equal(st, CVMA_OK);
                break;
            }
        }
        if (nomem == 0) {
            fail_msg("%s: no failed allocation answered CVMA_E_NOMEM", name[which]);
        }
    }
    free(root);
    free(report);
#endif
}

/* An aTLS frame over 1 KiB is copied with its head (one TLS record, docs/atls.md): that copy
 * failing is CVMA_E_NOMEM with nothing sent. */
static void test_oom_atls_frame_copy_answers_nomem(void **state)
{
#ifdef OOM_SANITIZED
    (void)state;
    skip();
#else
    static uint8_t payload[2000];
    struct tu_tls_pair a;
    uint8_t type = 0, *p = NULL, b = 0;
    size_t len = 0;
    (void)state;
    memset(payload, 'p', sizeof payload);
    tu_tls_pair_open(&a, 0);
    failed = false;
    countdown = 1;
    enum cvma_status st = cvma_atls_write_frame(a.c, CVMA_ATLS_F_DATA, payload, sizeof payload);
    countdown = 0;
    assert_true(failed);
    assert_int_equal(st, CVMA_E_NOMEM);
    assert_int_equal(recv(a.fd[0], &b, 1, MSG_DONTWAIT), -1); /* nothing sent */
    /* With memory again, the frame goes and is read whole. */
    assert_int_equal(cvma_atls_write_frame(a.c, CVMA_ATLS_F_DATA, payload, sizeof payload),
                     CVMA_OK);
    assert_int_equal(cvma_atls_read_frame(a.s, &type, &p, &len), CVMA_OK);
    assert_int_equal(len, sizeof payload);
    free(p);
    tu_tls_pair_close(&a);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_oom_library_allocations_are_counted),
            cmocka_unit_test(test_oom_evidence_reader_answers_nomem_at_every_allocation),
            cmocka_unit_test(test_oom_request_body_answers_nomem_at_every_allocation),
            cmocka_unit_test(test_oom_warm_verify_answers_nomem_at_every_allocation),
            cmocka_unit_test(test_oom_cold_verify_answers_nomem_wherever_it_allocates),
            cmocka_unit_test(test_oom_nothing_made_short_of_memory_is_kept),
            cmocka_unit_test(test_oom_registry_binding_answers_nomem_wherever_it_allocates),
            cmocka_unit_test(test_oom_registry_log_tiles_answer_nomem_at_every_allocation),
            cmocka_unit_test(test_oom_atomic_write_nomem_leaves_the_file_as_it_was),
            cmocka_unit_test(test_oom_atls_frame_copy_answers_nomem),
            cmocka_unit_test(test_oom_azure_readers_answer_nomem_at_every_allocation),
            cmocka_unit_test(test_oom_entry_points_say_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
