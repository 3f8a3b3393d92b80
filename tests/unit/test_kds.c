/*
 * Collateral fetching: KDS URL building, the on-disk cache, the HTTP client and the KDS
 * client against a local stand-in server (tests/kds_server.py, 127.0.0.1 only).
 *
 * Needs CVMATTEST_SRC (to find the server script) and CVMATTEST_VECTORS (real VCEK / chain
 * samples) for the server tests; without them only the self-contained tests run and the
 * program exits 77 (skipped) after them.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "collateral/cache.h"
#include "collateral/fetch.h"
#include "collateral/http.h"
#include "common/hex.h"
#include "common/verdict.h"
#include "snp/snp_kds.h"
#include "testutil.h"
#include "tu_server.h"
#include "tu_x509.h"

/* snp/milan-v2-gosevguest (MANIFEST.md): chip_id and REPORTED_TCB bl 2, tee 0, snp 5, ucode 68 */
#define MILAN_CHIP_HEX                                                                           \
    "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b" \
    "564ea464cdce40c05f63c9b610c5068b006b5d"
#define MILAN_VCEK_PATH       "/vcek/v1/Milan/" MILAN_CHIP_HEX "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68"
#define MILAN_VCEK_FILE       "milan-v2-gosevguest/vcek.der"
#define MILAN_CHAIN_FILE      "roots/ask_ark_milan.pem"
#define MILAN_VLEK_CHAIN_FILE "roots/ask_ark_milan_vlek.pem"

#define FAST_BACKOFF_MS 10

static const char *g_src;     /* CVMATTEST_SRC */
static const char *g_vectors; /* CVMATTEST_VECTORS */

struct server {
    pid_t pid;
    int port;
};

struct fx {
    char *tmp;       /* per-test temp directory */
    char *cache_dir; /* tmp/cache: not created until the first put */
    char *log;       /* server request log */
    struct cvma_cache cache;
    struct cvma_kds kds;
    struct cvma_verdict v;
    struct server srv;
    char base[64];
    char err[512];
};

/* ---------- helpers ---------- */

/* The vectors' file snp/rel. */
static struct cvma_buf read_vector(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "snp/%s", rel);
    return tu_vec_read(path);
}

static void milan_chip(uint8_t chip[64])
{
    tu_hex(MILAN_CHIP_HEX, chip, 64);
}

static struct cvma_snp_tcb milan_tcb(void)
{
    struct cvma_snp_tcb t;
    memset(&t, 0, sizeof t);
    t.bootloader = 2;
    t.tee = 0;
    t.snp = 5;
    t.microcode = 68;
    return t;
}

/* Whether the file at path has this exact line. */
static bool has_line(const char *path, const char *line)
{
    struct cvma_buf b = {0};
    size_t n = strlen(line);
    bool found = false;
    if (cvma_file_read(path, 1 << 20, &b) != CVMA_OK) {
        return false;
    }
    for (size_t i = 0; i < b.len && !found; i++) {
        if ((i == 0 || b.p[i - 1] == '\n') && b.len - i > n && memcmp(b.p + i, line, n) == 0 &&
            b.p[i + n] == '\n') {
            found = true;
        }
    }
    cvma_buf_free(&b);
    return found;
}

/* Starts tests/kds_server.py on the vectors' snp directory with its request log at f->log and
 * the given extra arguments (NULL-terminated); f->base is its URL. */
static void server_start(struct fx *f, const char *const *extra)
{
    const char *argv[48];
    char *script = tu_path(g_src, "tests/kds_server.py");
    char *snp = tu_path(g_vectors, "snp");

    tu_server_argv(argv, CVMA_ARRAY_LEN(argv), script, snp, f->log, extra);
    f->srv.port = tu_server_start(argv, &f->srv.pid);
    assert_true(f->srv.port > 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", f->srv.port);
    f->kds.base_url = f->base;
    free(script);
    free(snp);
}

/* The cache entry file of a KDS path under the current base URL. */
static char *entry_path_for(struct fx *f, const char *path)
{
    char key[512];
    snprintf(key, sizeof key, "amd-kds %s%s", f->base, path);
    char *p = cvma_cache_entry_path(&f->cache, key);
    assert_non_null(p);
    return p;
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    uint8_t b;
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x01;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

/* Writes a DER CRL signed by a fresh P-256 key; next_update 0 leaves nextUpdate out. */
static void make_crl(const char *path, time_t next_update)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509_CRL *crl = X509_CRL_new();
    X509_NAME *nm = X509_NAME_new();
    ASN1_TIME *lu = ASN1_TIME_set(NULL, time(NULL) - 60);
    ASN1_TIME *nu = next_update != 0 ? ASN1_TIME_set(NULL, next_update) : NULL;
    unsigned char *der = NULL;
    int len;

    assert_non_null(pk);
    assert_non_null(crl);
    assert_non_null(nm);
    assert_non_null(lu);
    assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"test-ark", -1, -1, 0),
                     1);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, nm), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, lu), 1);
    if (nu != NULL) {
        assert_int_equal(X509_CRL_set1_nextUpdate(crl, nu), 1);
    }
    assert_true(X509_CRL_sign(crl, pk, EVP_sha256()) > 0);
    len = i2d_X509_CRL(crl, &der);
    assert_true(len > 0);
    tu_write(path, der, (size_t)len);
    OPENSSL_free(der);
    ASN1_TIME_free(nu);
    ASN1_TIME_free(lu);
    X509_NAME_free(nm);
    X509_CRL_free(crl);
    EVP_PKEY_free(pk);
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return -1;
    }
    f->tmp = tu_tmpdir();
    if (strlen(f->tmp) >= 64) { /* the tests build paths below it in fixed buffers */
        print_error("%s: too long a temporary directory (TMPDIR)\n", f->tmp);
        tu_rmtree(f->tmp);
        free(f->tmp);
        free(f);
        return -1;
    }
    f->cache_dir = tu_path(f->tmp, "cache");
    f->log = tu_path(f->tmp, "requests.log");
    if (cvma_cache_init(&f->cache, f->cache_dir) != CVMA_OK) {
        tu_rmtree(f->tmp);
        free(f->tmp);
        free(f->cache_dir);
        free(f->log);
        free(f);
        return -1;
    }
    cvma_kds_init(&f->kds);
    f->kds.cache = &f->cache;
    f->kds.http.backoff_base_ms = FAST_BACKOFF_MS;
    f->kds.http.connect_timeout_ms = 2000;
    f->kds.http.timeout_ms = 5000;
    /* Never the real KDS from a unit test: an unroutable loopback port unless a test starts
     * a server. */
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:9");
    f->kds.base_url = f->base;
    cvma_verdict_init(&f->v);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    tu_server_stop(&f->srv.pid);
    cvma_verdict_cleanup(&f->v);
    cvma_cache_cleanup(&f->cache);
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f->cache_dir);
    free(f->log);
    free(f);
    return 0;
}

/* ---------- URL building ---------- */

static void test_kds_vcek_url_milan_is_exact(void **state)
{
    (void)state;
    uint8_t chip[64];
    struct cvma_snp_tcb t = milan_tcb();
    char url[CVMA_KDS_PATH_MAX];

    milan_chip(chip);
    assert_int_equal(cvma_kds_vcek_url(CVMA_SNP_PRODUCT_MILAN, chip, &t, url, sizeof url), CVMA_OK);
    assert_string_equal(url, MILAN_VCEK_PATH);
}

static void test_kds_vcek_url_genoa_uses_its_product_name(void **state)
{
    (void)state;
    uint8_t chip[64];
    struct cvma_snp_tcb t;
    char url[CVMA_KDS_PATH_MAX], want[CVMA_KDS_PATH_MAX];

    memset(chip, 0xab, sizeof chip);
    memset(&t, 0, sizeof t);
    t.bootloader = 10;
    t.tee = 1;
    t.snp = 23;
    t.microcode = 213;
    t.fmc = 99; /* not part of a Genoa URL */
    assert_int_equal(cvma_kds_vcek_url(CVMA_SNP_PRODUCT_GENOA, chip, &t, url, sizeof url), CVMA_OK);
    char hex[129];
    cvma_hex_encode(chip, sizeof chip, hex, sizeof hex);
    snprintf(want, sizeof want, "/vcek/v1/Genoa/%s?blSPL=10&teeSPL=1&snpSPL=23&ucodeSPL=213", hex);
    assert_string_equal(url, want);
}

static void test_kds_vcek_url_turin_uses_8_byte_hwid_and_fmc(void **state)
{
    (void)state;
    /* snp/turin-v5-anolis-trustee: chip_id 0910b4f884ff4ba9 + 56 zeros; TCB
     * 0x6100000005020301 = fmc 1, bl 3, tee 2, snp 5, ucode 97. */
    uint8_t chip[64] = {0x09, 0x10, 0xb4, 0xf8, 0x84, 0xff, 0x4b, 0xa9};
    struct cvma_snp_tcb t;
    char url[CVMA_KDS_PATH_MAX];

    memset(&t, 0, sizeof t);
    t.fmc = 1;
    t.bootloader = 3;
    t.tee = 2;
    t.snp = 5;
    t.microcode = 97;
    t.has_fmc = true;
    assert_int_equal(cvma_kds_vcek_url(CVMA_SNP_PRODUCT_TURIN, chip, &t, url, sizeof url), CVMA_OK);
    assert_string_equal(
            url, "/vcek/v1/Turin/0910b4f884ff4ba9?fmcSPL=1&blSPL=3&teeSPL=2&snpSPL=5&ucodeSPL=97");
}

static void test_kds_vcek_url_refuses_unknown_product_and_short_buffer(void **state)
{
    (void)state;
    uint8_t chip[64] = {0};
    struct cvma_snp_tcb t = milan_tcb();
    char url[CVMA_KDS_PATH_MAX];
    char small[40];

    assert_int_equal(cvma_kds_vcek_url(CVMA_SNP_PRODUCT_UNKNOWN, chip, &t, url, sizeof url),
                     CVMA_E_USAGE);
    assert_string_equal(url, "");
    assert_int_equal(cvma_kds_vcek_url(CVMA_SNP_PRODUCT_MILAN, chip, &t, small, sizeof small),
                     CVMA_E_USAGE);
    assert_string_equal(small, "");
}

/* ---------- cache ---------- */

static void test_cache_put_then_get_round_trips(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    static const uint8_t body[] = "hello collateral";

    assert_int_equal(cvma_cache_get(&f->cache, "k1", &b), CVMA_E_IO);
    assert_null(b.p);
    assert_int_equal(cvma_cache_put(&f->cache, "k1", body, sizeof body, 0), CVMA_OK);
    assert_int_equal(cvma_cache_get(&f->cache, "k1", &b), CVMA_OK);
    assert_int_equal(b.len, sizeof body);
    assert_memory_equal(b.p, body, sizeof body);
    cvma_buf_free(&b);
    /* another key does not see it */
    assert_int_equal(cvma_cache_get(&f->cache, "k2", &b), CVMA_E_IO);
    /* an empty body is a valid entry */
    assert_int_equal(cvma_cache_put(&f->cache, "empty", body, 0, 0), CVMA_OK);
    assert_int_equal(cvma_cache_get(&f->cache, "empty", &b), CVMA_OK);
    assert_int_equal(b.len, 0);
    cvma_buf_free(&b);
}

static void test_cache_dir_is_created_0700_on_first_put_only(void **state)
{
    struct fx *f = *state;
    struct cvma_cache c = {0};
    struct cvma_buf b = {0};
    struct stat sb;
    char dir[192];

    snprintf(dir, sizeof dir, "%s/a/b/c", f->tmp);
    assert_int_equal(cvma_cache_init(&c, dir), CVMA_OK);
    assert_int_equal(cvma_cache_get(&c, "k", &b), CVMA_E_IO);
    assert_int_not_equal(stat(dir, &sb), 0); /* a get never creates it */
    assert_int_equal(cvma_cache_put(&c, "k", (const uint8_t *)"x", 1, 0), CVMA_OK);
    assert_int_equal(stat(dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    cvma_cache_cleanup(&c);
    cvma_cache_cleanup(&c); /* twice is harmless */
}

/* Any well-formed bytes (the offline case below never gets as far as checking them). */
static bool check_any(const struct cvma_buf *b, int64_t now, int64_t *expires_at, char *why,
                      size_t why_len, void *arg)
{
    (void)b;
    (void)now;
    (void)expires_at;
    (void)why;
    (void)why_len;
    (void)arg;
    return true;
}

/* A cache directory others can write is not used (docs/collateral.md, "The cache"): its
 * entries are not read, nothing is written to it, and an offline miss says why; as private
 * again (0700, or 0755) it is used as before. */
static void test_cache_dir_others_can_write_is_not_used(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    char why[512], err[1024], want[512];
    static const uint8_t body[] = "collateral";
    const struct cvma_collateral_item item = {
            .what = "VCEK",
            .url = "https://kds.example/vcek",
            .cache_key = "k",
            .check = check_any,
    };
    const struct cvma_collateral_net offline = {.offline = true, .cache = &f->cache};

    /* not there yet: not refused (the first put makes it) */
    assert_int_equal(cvma_cache_dir_check(&f->cache, why, sizeof why), CVMA_OK);
    assert_int_equal(cvma_cache_put(&f->cache, "k", body, sizeof body, 0), CVMA_OK);
    assert_int_equal(cvma_cache_get(&f->cache, "k", &b), CVMA_OK);
    cvma_buf_free(&b);
    assert_int_equal(cvma_cache_dir_check(&f->cache, why, sizeof why), CVMA_OK);

    assert_int_equal(chmod(f->cache_dir, 0777), 0);
    snprintf(want, sizeof want, "%s is writable by group or others (mode 0777)", f->cache_dir);
    assert_int_equal(cvma_cache_dir_check(&f->cache, why, sizeof why), CVMA_E_IO);
    assert_string_equal(why, want);
    assert_int_equal(cvma_cache_get(&f->cache, "k", &b), CVMA_E_IO); /* there, not read */
    assert_null(b.p);
    assert_int_equal(cvma_cache_put(&f->cache, "k2", body, sizeof body, 0), CVMA_E_IO);
    assert_int_equal(cvma_collateral_get(&offline, &item, &b, NULL, err, sizeof err),
                     CVMA_UNDECIDED);
    assert_null(b.p);
    assert_non_null(strstr(err, "offline and not in cache (cache directory not used: "));
    assert_non_null(strstr(err, want));

    assert_int_equal(chmod(f->cache_dir, 0755), 0);
    assert_int_equal(cvma_cache_dir_check(&f->cache, why, sizeof why), CVMA_OK);
    assert_int_equal(cvma_cache_get(&f->cache, "k2", &b), CVMA_E_IO); /* never written */
    assert_int_equal(cvma_collateral_get(&offline, &item, &b, NULL, err, sizeof err), CVMA_OK);
    assert_int_equal(b.len, sizeof body);
    cvma_buf_free(&b);
    assert_int_equal(chmod(f->cache_dir, 0700), 0);
}

static void test_cache_expired_entry_is_a_miss(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    enum cvma_cache_state s;
    int64_t t0 = (int64_t)time(NULL);

    assert_int_equal(cvma_cache_put(&f->cache, "crl", (const uint8_t *)"abc", 3, t0 + 100),
                     CVMA_OK);
    assert_int_equal(cvma_cache_lookup(&f->cache, "crl", t0 + 99, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    cvma_buf_free(&b);
    assert_int_equal(cvma_cache_lookup(&f->cache, "crl", t0 + 100, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_EXPIRED);
    assert_null(b.p);
    assert_int_equal(cvma_cache_put(&f->cache, "old", (const uint8_t *)"abc", 3, 1), CVMA_OK);
    assert_int_equal(cvma_cache_get(&f->cache, "old", &b), CVMA_E_IO);
}

static void test_cache_corrupt_entry_is_reported_as_corrupt(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    enum cvma_cache_state s;
    uint8_t body[100];
    char *path;

    memset(body, 0x5a, sizeof body);
    assert_int_equal(cvma_cache_put(&f->cache, "k", body, sizeof body, 0), CVMA_OK);
    path = cvma_cache_entry_path(&f->cache, "k");
    assert_non_null(path);

    /* one flipped bit in the body */
    flip_byte(path, CVMA_CACHE_HEADER_LEN + 50);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_CORRUPT);
    assert_null(b.p);
    assert_int_equal(cvma_cache_get(&f->cache, "k", &b), CVMA_E_IO);

    /* truncated file */
    assert_int_equal(cvma_cache_put(&f->cache, "k", body, sizeof body, 0), CVMA_OK);
    assert_int_equal(truncate(path, CVMA_CACHE_HEADER_LEN + 10), 0);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_CORRUPT);

    /* a valid entry of another key, copied under this key's name */
    assert_int_equal(cvma_cache_put(&f->cache, "other", body, sizeof body, 0), CVMA_OK);
    char *other = cvma_cache_entry_path(&f->cache, "other");
    assert_non_null(other);
    assert_int_equal(rename(other, path), 0);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_CORRUPT);

    /* a put repairs it */
    assert_int_equal(cvma_cache_put(&f->cache, "k", body, sizeof body, 0), CVMA_OK);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    cvma_buf_free(&b);

    /* Not a regular file under the entry's name (a FIFO, a directory, a symbolic link loop):
     * damaged, not a miss said nothing of (they were misses); absent (also a dangling link)
     * is the one miss. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_MISS);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_CORRUPT);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_CORRUPT);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(symlink(path, path), 0);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_CORRUPT);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("no-such-entry", path), 0);
    assert_int_equal(cvma_cache_lookup(&f->cache, "k", 0, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_MISS);
    assert_null(b.p);
    free(other);
    free(path);
}

static void test_cache_key_cannot_name_a_path_outside_the_dir(void **state)
{
    struct fx *f = *state;
    char *p = cvma_cache_entry_path(&f->cache, "../../../../etc/passwd");
    const char *name;

    assert_non_null(p);
    assert_memory_equal(p, f->cache_dir, strlen(f->cache_dir));
    name = p + strlen(f->cache_dir);
    assert_int_equal(name[0], '/');
    name++;
    assert_int_equal(strlen(name), 64 + strlen(".entry"));
    assert_null(strchr(name, '/'));
    assert_string_equal(name + 64, ".entry");
    free(p);
}

static void test_cache_dir_follows_env_precedence(void **state)
{
    (void)state;
    struct cvma_cache c = {0};
    char *saved[3];
    const char *names[3] = {"CVMATTEST_CACHE", "XDG_CACHE_HOME", "HOME"};

    for (int i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        saved[i] = v != NULL ? strdup(v) : NULL;
    }
    setenv("CVMATTEST_CACHE", "/x/explicit", 1);
    setenv("XDG_CACHE_HOME", "/x/xdg", 1);
    setenv("HOME", "/x/home", 1);
    assert_int_equal(cvma_cache_init(&c, "/x/arg"), CVMA_OK);
    assert_string_equal(c.dir, "/x/arg");
    cvma_cache_cleanup(&c);
    assert_int_equal(cvma_cache_init(&c, NULL), CVMA_OK);
    assert_string_equal(c.dir, "/x/explicit");
    cvma_cache_cleanup(&c);
    unsetenv("CVMATTEST_CACHE");
    assert_int_equal(cvma_cache_init(&c, ""), CVMA_OK);
    assert_string_equal(c.dir, "/x/xdg/cvmattest");
    cvma_cache_cleanup(&c);
    setenv("XDG_CACHE_HOME", "relative/xdg", 1); /* XDG spec: ignored unless absolute */
    assert_int_equal(cvma_cache_init(&c, NULL), CVMA_OK);
    assert_string_equal(c.dir, "/x/home/.cache/cvmattest");
    cvma_cache_cleanup(&c);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    assert_int_equal(cvma_cache_init(&c, NULL), CVMA_E_USAGE);
    assert_null(c.dir);

    for (int i = 0; i < 3; i++) {
        if (saved[i] != NULL) {
            setenv(names[i], saved[i], 1);
            free(saved[i]);
        } else {
            unsetenv(names[i]);
        }
    }
}

/* ---------- HTTP / KDS without a server ---------- */

static void test_http_refuses_non_http_schemes(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    long code = -1;

    assert_int_equal(cvma_http_get(NULL, "file:///etc/passwd", &b, &code, f->err, sizeof f->err),
                     CVMA_E_USAGE);
    assert_null(b.p);
    assert_int_equal(code, 0);
    assert_non_null(strstr(f->err, "file:///etc/passwd"));
}

static void test_http_do_refuses_other_methods_and_header_breaks(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    struct cvma_http_request rq = {.method = "PUT"};

    assert_int_equal(
            cvma_http_do(NULL, "http://127.0.0.1:9/x", &rq, &b, NULL, f->err, sizeof f->err),
            CVMA_E_USAGE);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "PUT http://127.0.0.1:9/x"));
    rq.method = "POST";
    rq.content_type = "text/plain\r\nX-Injected: 1";
    assert_int_equal(
            cvma_http_do(NULL, "http://127.0.0.1:9/x", &rq, &b, NULL, f->err, sizeof f->err),
            CVMA_E_USAGE);
    assert_non_null(strstr(f->err, "POST http://127.0.0.1:9/x"));
}

static void test_http_post_transport_error_is_tried_once(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    struct cvma_http_opts o = {.max_retries = 3, .backoff_base_ms = FAST_BACKOFF_MS};
    struct cvma_http_request rq = {.method = "POST", .body = "{}", .body_len = 2};
    char url[96];
    int port;
    int s = tu_refusing_port(&port);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/verify", port);
    assert_int_equal(cvma_http_do(&o, url, &rq, &b, NULL, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_true(strncmp(f->err, "POST ", 5) == 0);
    assert_non_null(strstr(f->err, url));
    assert_non_null(strstr(f->err, "after 1 attempt"));
    /* the same GET is retried: 1 + 3 attempts */
    assert_int_equal(cvma_http_get(&o, url, &b, NULL, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_true(strncmp(f->err, "GET ", 4) == 0);
    assert_non_null(strstr(f->err, "after 4 attempts"));
    /* HEAD with any_status: a transport error is still retried */
    rq = (struct cvma_http_request){.method = "HEAD", .any_status = true};
    assert_int_equal(cvma_http_do(&o, url, &rq, &b, NULL, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_true(strncmp(f->err, "HEAD ", 5) == 0);
    assert_non_null(strstr(f->err, "after 4 attempts"));
    close(s);
}

static void test_kds_offline_miss_is_undecided(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};

    f->kds.offline = true;
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "offline and not in cache"));
    assert_non_null(strstr(f->err, "/vcek/v1/Milan/cert_chain"));
    assert_int_equal(f->v.n_reasons, 0);

    /* no cache at all: the same answer */
    f->kds.cache = NULL;
    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_GENOA, true, &b, NULL, f->err,
                                        sizeof f->err),
                     CVMA_UNDECIDED);
    assert_non_null(strstr(f->err, "/vlek/v1/Genoa/crl: offline and not in cache"));
}

static void test_kds_unreachable_server_is_undecided_quickly(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    int port;
    /* A port bound but not listening refuses connections, and nothing else can take it while
     * the test runs. */
    int s = tu_refusing_port(&port);
    double t0;

    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", port);

    t0 = tu_now();
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_true(tu_now() - t0 < 3.0);
    assert_null(b.p);
    assert_non_null(strstr(f->err, f->base));
    assert_non_null(strstr(f->err, "4 attempts")); /* 1 + max_retries (3) */
    close(s);
}

/* ---------- against tests/kds_server.py ---------- */

static void test_kds_fetch_vcek_returns_the_served_file(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", MILAN_VCEK_PATH "=" MILAN_VCEK_FILE, NULL};
    struct cvma_buf want = read_vector(MILAN_VCEK_FILE), b = {0};
    uint8_t chip[64];
    struct cvma_snp_tcb t = milan_tcb();

    milan_chip(chip);
    server_start(f, args);
    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_OK);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.p, want.p, want.len);
    assert_string_equal(f->err, "");
    assert_int_equal(f->v.n_reasons, 0);
    assert_int_equal(tu_log_lines(f->log), 1);
    cvma_buf_free(&b);
    cvma_buf_free(&want);
}

static void test_kds_second_fetch_hits_the_cache_with_the_server_stopped(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", MILAN_VCEK_PATH "=" MILAN_VCEK_FILE, NULL};
    struct cvma_buf want = read_vector(MILAN_VCEK_FILE), b = {0};
    uint8_t chip[64];
    struct cvma_snp_tcb t = milan_tcb();

    milan_chip(chip);
    server_start(f, args);
    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_OK);
    cvma_buf_free(&b);
    tu_server_stop(&f->srv.pid);

    /* online, server gone: served from the cache */
    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_OK);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.p, want.p, want.len);
    cvma_buf_free(&b);
    /* offline: the same */
    f->kds.offline = true;
    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_OK);
    assert_int_equal(b.len, want.len);
    cvma_buf_free(&b);
    /* another TCB is another entry: not in the cache */
    t.microcode = 69;
    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_int_equal(tu_log_lines(f->log), 1);
    cvma_buf_free(&want);
}

static void test_kds_cache_entries_are_per_base_url(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", "/vcek/v1/Milan/cert_chain=" MILAN_CHAIN_FILE, NULL};
    struct cvma_buf b = {0};

    server_start(f, args);
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_OK);
    cvma_buf_free(&b);
    /* What a test server or mirror served never answers for the real KDS. */
    f->kds.offline = true;
    f->kds.base_url = NULL;
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_non_null(strstr(f->err, "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain"));
    /* a trailing slash on the base URL names the same entries */
    snprintf(f->base + strlen(f->base), sizeof f->base - strlen(f->base), "/");
    f->kds.base_url = f->base;
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_OK);
    cvma_buf_free(&b);
}

static void test_kds_404_is_undecided_and_names_url_and_code(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", MILAN_VCEK_PATH "=" MILAN_VCEK_FILE, NULL};
    struct cvma_buf b = {0};
    uint8_t chip[64];
    struct cvma_snp_tcb t = milan_tcb();
    char want[CVMA_KDS_PATH_MAX + 64];

    milan_chip(chip);
    t.snp = 6; /* the server only knows snpSPL=5 */
    server_start(f, args);
    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_null(b.p);
    snprintf(want, sizeof want, "GET %s/vcek/v1/Milan/%s?blSPL=2&teeSPL=0&snpSPL=6&ucodeSPL=68",
             f->base, MILAN_CHIP_HEX);
    assert_non_null(strstr(f->err, want));
    assert_non_null(strstr(f->err, "HTTP 404"));
    assert_int_equal(tu_log_lines(f->log), 1); /* 404 is not retried */
}

static void test_kds_retries_after_429_then_succeeds(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", "/vlek/v1/Milan/cert_chain=" MILAN_VLEK_CHAIN_FILE,
                          "--fail-first", "2", NULL};
    struct cvma_buf want = read_vector(MILAN_VLEK_CHAIN_FILE), b = {0};

    server_start(f, args);
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, true, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_OK);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.p, want.p, want.len);
    assert_int_equal(tu_log_lines(f->log), 3);
    cvma_buf_free(&b);
    cvma_buf_free(&want);
}

static void test_http_gives_up_after_max_retries_on_503(void **state)
{
    struct fx *f = *state;
    const char *args[] = {
            "--route", "/x=" MILAN_CHAIN_FILE, "--fail-first", "100", "--fail-status", "503", NULL};
    struct cvma_http_opts o = {.max_retries = 2, .backoff_base_ms = FAST_BACKOFF_MS};
    struct cvma_buf b = {0};
    char url[96];
    long code = 0;

    server_start(f, args);
    snprintf(url, sizeof url, "%s/x", f->base);
    assert_int_equal(cvma_http_get(&o, url, &b, &code, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_int_equal(code, 503);
    assert_non_null(strstr(f->err, "HTTP 503 after 3 attempts"));
    assert_int_equal(tu_log_lines(f->log), 3);

    /* max_retries < 0: a single attempt */
    o.max_retries = -1;
    assert_int_equal(cvma_http_get(&o, url, &b, &code, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_int_equal(tu_log_lines(f->log), 4);
}

static void test_http_post_sends_body_and_content_type(void **state)
{
    struct fx *f = *state;
    static const char sent[] = "{\"a\":\"b\0c\"}"; /* a NUL inside: body_len is what counts */
    static const char want[] = "content-type: application/json\n{\"a\":\"b\0c\"}";
    struct cvma_http_request rq = {.method = "POST",
                                   .content_type = "application/json",
                                   .body = sent,
                                   .body_len = sizeof sent - 1};
    struct cvma_buf b = {0};
    char url[96];
    long code = 0;

    server_start(f, NULL);
    snprintf(url, sizeof url, "%s/v1/verify", f->base);
    assert_int_equal(cvma_http_do(NULL, url, &rq, &b, &code, f->err, sizeof f->err), CVMA_OK);
    assert_int_equal(code, 200);
    assert_string_equal(f->err, "");
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.p, want, sizeof want - 1);
    cvma_buf_free(&b);
    assert_true(has_line(f->log, "200 POST /v1/verify"));

    /* no content type: none is sent (not libcurl's form-encoded default) */
    rq.content_type = NULL;
    rq.body = NULL;
    rq.body_len = 0;
    assert_int_equal(cvma_http_do(NULL, url, &rq, &b, &code, f->err, sizeof f->err), CVMA_OK);
    assert_int_equal(b.len, strlen("content-type: \n"));
    assert_memory_equal(b.p, "content-type: \n", b.len);
    cvma_buf_free(&b);
    assert_int_equal(tu_log_lines(f->log), 2);
}

static void test_http_any_status_hands_back_a_4xx_body(void **state)
{
    struct fx *f = *state;
    struct cvma_http_request rq = {.any_status = true};
    struct cvma_buf b = {0};
    char url[96];
    long code = 0;

    server_start(f, NULL);
    snprintf(url, sizeof url, "%s/nothing-here", f->base);
    assert_int_equal(cvma_http_do(NULL, url, &rq, &b, &code, f->err, sizeof f->err), CVMA_OK);
    assert_int_equal(code, 404);
    assert_string_equal(f->err, "");
    assert_int_equal(b.len, strlen("not found\n"));
    assert_memory_equal(b.p, "not found\n", b.len);
    cvma_buf_free(&b);
    /* without it: undecided, no body */
    assert_int_equal(cvma_http_get(NULL, url, &b, &code, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_int_equal(code, 404);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "HTTP 404"));
    assert_int_equal(tu_log_lines(f->log), 2);
}

/* GET url (opts and request may be NULL); the status, *b the body on CVMA_OK. */
static enum cvma_status get(struct fx *f, const char *url, const struct cvma_http_request *rq,
                            struct cvma_buf *b, long *code)
{
    return cvma_http_do(NULL, url, rq, b, code, f->err, sizeof f->err);
}

/* A redirect is followed (to a path of the same server), at most 3 in a row; a 4th is refused. */
static void test_http_follows_at_most_three_redirects(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route",    "/file=" MILAN_VCEK_FILE,
                          "--redirect", "/r1=/r2",
                          "--redirect", "/r2=/r3",
                          "--redirect", "/r3=/r4",
                          "--redirect", "/r4=/file",
                          NULL};
    struct cvma_buf want = read_vector(MILAN_VCEK_FILE), b = {0};
    char url[96];
    long code = 0;

    server_start(f, args);
    snprintf(url, sizeof url, "%s/r2", f->base); /* r2 -> r3 -> r4 -> file: 3 redirects */
    assert_int_equal(get(f, url, NULL, &b, &code), CVMA_OK);
    assert_int_equal(code, 200);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.p, want.p, want.len);
    cvma_buf_free(&b);
    assert_true(has_line(f->log, "302 /r2") && has_line(f->log, "302 /r4") &&
                has_line(f->log, "200 /file"));
    snprintf(url, sizeof url, "%s/r1", f->base); /* 4 redirects */
    assert_int_equal(get(f, url, NULL, &b, &code), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "GET "));
    assert_int_equal(tu_log_lines(f->log), 4 + 4); /* the 4th redirect is not followed */
    cvma_buf_free(&want);
}

/* A redirect to another scheme (file, ftp) is refused, never followed; with no_redirects the
 * 302 itself is the answer. */
static void test_http_refuses_a_redirect_to_another_scheme(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--redirect", "/f=file:///etc/passwd", "--redirect",
                          "/ftp=ftp://127.0.0.1/x", NULL};
    struct cvma_http_request probe = {.any_status = true, .no_redirects = true};
    struct cvma_buf b = {0};
    char url[96];
    long code = 0;

    server_start(f, args);
    snprintf(url, sizeof url, "%s/f", f->base);
    assert_int_equal(get(f, url, NULL, &b, &code), CVMA_UNDECIDED);
    assert_null(b.p);
    /* refused by the scheme rule, not merely a 302 that was not followed */
    assert_null(strstr(f->err, "HTTP 302"));
    assert_non_null(strstr(f->err, "file"));
    snprintf(url, sizeof url, "%s/ftp", f->base);
    assert_int_equal(get(f, url, NULL, &b, &code), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_int_equal(get(f, url, &probe, &b, &code), CVMA_OK);
    assert_int_equal(code, 302);
    assert_int_equal(b.len, strlen("moved\n"));
    assert_memory_equal(b.p, "moved\n", b.len);
    cvma_buf_free(&b);
    assert_int_equal(tu_log_lines(f->log), 3);
}

/* same_origin (collateral GETs): a redirect to another port or host is not requested, the
 * error naming where it pointed; one to the same origin is followed (at most 3), and an error
 * after it names the URL it led to. A plain GET still follows the other port. */
static void test_http_same_origin_redirects_only(void **state)
{
    struct fx *f = *state;
    char other[96], host[96], url[128];
    int port = tu_free_port();
    snprintf(other, sizeof other, "/port=http://127.0.0.1:%d/file", port);
    snprintf(host, sizeof host, "/host=http://127.0.0.2:%d/file", port);
    const char *args[] = {"--route",    "/file=" MILAN_VCEK_FILE,
                          "--redirect", other,
                          "--redirect", host,
                          "--redirect", "/same=/file",
                          "--redirect", "/gone=/missing",
                          NULL};
    struct cvma_http_request so = {.same_origin = true};
    struct cvma_buf b = {0};
    long code = 0;

    server_start(f, args);
    snprintf(url, sizeof url, "%s/port", f->base);
    assert_int_equal(get(f, url, &so, &b, &code), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "another origin"));
    assert_non_null(strstr(f->err, other + strlen("/port=")));
    snprintf(url, sizeof url, "%s/host", f->base);
    assert_int_equal(get(f, url, &so, &b, &code), CVMA_UNDECIDED);
    assert_non_null(strstr(f->err, "another origin"));
    assert_non_null(strstr(f->err, "127.0.0.2"));
    snprintf(url, sizeof url, "%s/same", f->base);
    assert_int_equal(get(f, url, &so, &b, &code), CVMA_OK);
    assert_int_equal(code, 200);
    cvma_buf_free(&b);
    snprintf(url, sizeof url, "%s/gone", f->base);
    assert_int_equal(get(f, url, &so, &b, &code), CVMA_UNDECIDED);
    assert_non_null(strstr(f->err, "(redirected to "));
    assert_non_null(strstr(f->err, "/missing"));
    assert_int_equal(get(f, url, NULL, &b, &code), CVMA_UNDECIDED); /* libcurl following */
    assert_non_null(strstr(f->err, "(redirected to "));
    assert_non_null(strstr(f->err, "/missing"));
    assert_false(has_line(f->log, "200 /port") || has_line(f->log, "200 /host"));
}

/* A POST follows no redirect: a 307 (which would send the body again to its Location) is the
 * answer, with any_status handed back, else undecided. */
static void test_http_post_follows_no_redirect(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--redirect", "/r=/elsewhere", NULL};
    struct cvma_http_request rq = {.method = "POST",
                                   .content_type = "application/json",
                                   .body = "{}",
                                   .body_len = 2,
                                   .any_status = true};
    struct cvma_buf b = {0};
    char url[96];
    long code = 0;

    server_start(f, args);
    snprintf(url, sizeof url, "%s/r", f->base);
    assert_int_equal(get(f, url, &rq, &b, &code), CVMA_OK);
    assert_int_equal(code, 307);
    cvma_buf_free(&b);
    rq.any_status = false;
    assert_int_equal(get(f, url, &rq, &b, &code), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "HTTP 307"));
    assert_true(has_line(f->log, "307 POST /r"));
    assert_int_equal(tu_log_lines(f->log), 2); /* /elsewhere never asked */
}

/* HTTPS: a server whose certificate the system does not trust is refused; a HEAD probe with
 * no_tls_verify reaches it (any other method with it is a usage error), and even then a
 * redirect from https down to http is refused. */
static void test_https_verifies_the_server_and_never_redirects_down_to_http(void **state)
{
    struct fx *f = *state;
    char *cert = tu_path(f->tmp, "cert.pem"), *key = tu_path(f->tmp, "key.pem");
    char cmd[1024], down[96], url[96];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' "
             ">/dev/null 2>&1",
             key, cert);
    assert_int_equal(system(cmd), 0);
    int plain = tu_free_port();
    snprintf(down, sizeof down, "/down=http://127.0.0.1:%d/file", plain);
    const char *args[] = {
            "--tls",      cert,        key,          "--route", "/file=" MILAN_VCEK_FILE,
            "--redirect", "/up=/file", "--redirect", down,      NULL};
    struct cvma_http_request probe = {.method = "HEAD", .no_tls_verify = true};
    struct cvma_http_request insecure_get = {.no_tls_verify = true};
    struct cvma_buf b = {0};
    long code = 0;

    server_start(f, args);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/file", f->srv.port);
    assert_int_equal(get(f, url, NULL, &b, &code), CVMA_UNDECIDED); /* self-signed */
    assert_null(b.p);
    assert_int_equal(code, 0);
    assert_int_equal(tu_log_lines(f->log), 0);
    /* an answer that would be used is never taken from an unverified server */
    assert_int_equal(get(f, url, &insecure_get, &b, &code), CVMA_E_USAGE);
    assert_null(b.p);
    assert_int_equal(get(f, url, &probe, &b, &code), CVMA_OK);
    assert_int_equal(code, 200);
    assert_int_equal(b.len, 0);
    cvma_buf_free(&b);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/up", f->srv.port); /* https -> https */
    assert_int_equal(get(f, url, &probe, &b, &code), CVMA_OK);
    assert_int_equal(code, 200);
    cvma_buf_free(&b);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/down", f->srv.port);
    assert_int_equal(get(f, url, &probe, &b, &code), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_true(has_line(f->log, "302 HEAD /down"));
    assert_int_equal(tu_log_lines(f->log), 4); /* file, up, file, down: nothing after it */
    free(cert);
    free(key);
}

static void test_http_post_and_any_status_are_not_retried_on_503(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--fail-first", "100", "--fail-status", "503", NULL};
    struct cvma_http_opts o = {.max_retries = 3, .backoff_base_ms = FAST_BACKOFF_MS};
    struct cvma_http_request rq = {
            .method = "POST", .content_type = "application/json", .body = "{}", .body_len = 2};
    struct cvma_buf b = {0};
    char url[96], want[160];
    long code = 0;

    server_start(f, args);
    snprintf(url, sizeof url, "%s/v1/verify", f->base);
    assert_int_equal(cvma_http_do(&o, url, &rq, &b, &code, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_int_equal(code, 503);
    snprintf(want, sizeof want, "POST %s: HTTP 503 after 1 attempt", url);
    assert_string_equal(f->err, want);
    assert_int_equal(tu_log_lines(f->log), 1); /* one attempt, whatever max_retries says */
    assert_true(has_line(f->log, "503 POST /v1/verify"));

    /* POST with any_status: the 503 and its body are the answer */
    rq.any_status = true;
    assert_int_equal(cvma_http_do(&o, url, &rq, &b, &code, f->err, sizeof f->err), CVMA_OK);
    assert_int_equal(code, 503);
    assert_int_equal(b.len, strlen("try again\n"));
    assert_memory_equal(b.p, "try again\n", b.len);
    cvma_buf_free(&b);
    assert_int_equal(tu_log_lines(f->log), 2);

    /* GET with any_status: not retried either */
    rq = (struct cvma_http_request){.any_status = true};
    assert_int_equal(cvma_http_do(&o, url, &rq, &b, &code, f->err, sizeof f->err), CVMA_OK);
    assert_int_equal(code, 503);
    cvma_buf_free(&b);
    assert_int_equal(tu_log_lines(f->log), 3);

    /* a plain GET still is: 1 + 3 attempts */
    assert_int_equal(cvma_http_get(&o, url, &b, &code, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_int_equal(tu_log_lines(f->log), 7);
}

static void test_http_head_probe_keeps_no_body(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", "/x=" MILAN_CHAIN_FILE, NULL};
    struct cvma_http_opts o = {.max_retries = -1};
    struct cvma_http_request rq = {.method = "HEAD"};
    struct cvma_buf b = {0};
    char url[96];
    long code = 0;

    server_start(f, args);
    snprintf(url, sizeof url, "%s/x", f->base);
    assert_int_equal(cvma_http_do(&o, url, &rq, &b, &code, f->err, sizeof f->err), CVMA_OK);
    assert_int_equal(code, 200);
    assert_non_null(b.p);
    assert_int_equal(b.len, 0);
    cvma_buf_free(&b);
    assert_true(has_line(f->log, "200 HEAD /x"));

    /* a reachability probe: any answer counts, and is not followed up */
    rq = (struct cvma_http_request){
            .method = "HEAD", .any_status = true, .no_redirects = true, .no_tls_verify = true};
    snprintf(url, sizeof url, "%s/sgx/certification/v4/rootcacrl", f->base);
    assert_int_equal(cvma_http_do(&o, url, &rq, &b, &code, f->err, sizeof f->err), CVMA_OK);
    assert_int_equal(code, 404);
    assert_int_equal(b.len, 0);
    cvma_buf_free(&b);
    assert_true(has_line(f->log, "404 HEAD /sgx/certification/v4/rootcacrl"));
    assert_int_equal(tu_log_lines(f->log), 2);
}

static void test_http_body_over_the_limit_is_refused(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", "/x=" MILAN_CHAIN_FILE, NULL};
    struct cvma_http_opts o = {.max_body = 100, .backoff_base_ms = FAST_BACKOFF_MS};
    struct cvma_buf b = {0};
    char url[96];

    server_start(f, args);
    snprintf(url, sizeof url, "%s/x", f->base);
    assert_int_equal(cvma_http_get(&o, url, &b, NULL, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "larger than 100 bytes"));
    assert_int_equal(tu_log_lines(f->log), 1); /* not retried */
    o.max_body = 0;                            /* default 1 MiB: fine */
    assert_int_equal(cvma_http_get(&o, url, &b, NULL, f->err, sizeof f->err), CVMA_OK);
    assert_true(b.len > 100);
    cvma_buf_free(&b);
}

static void test_http_timeout_is_undecided_quickly(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", "/x=" MILAN_CHAIN_FILE, "--delay", "3", NULL};
    struct cvma_http_opts o = {
            .timeout_ms = 200, .max_retries = 1, .backoff_base_ms = FAST_BACKOFF_MS};
    struct cvma_buf b = {0};
    char url[96];
    double t0;

    server_start(f, args);
    snprintf(url, sizeof url, "%s/x", f->base);
    t0 = tu_now();
    assert_int_equal(cvma_http_get(&o, url, &b, NULL, f->err, sizeof f->err), CVMA_UNDECIDED);
    assert_true(tu_now() - t0 < 2.0);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "2 attempts"));
}

static void test_kds_corrupt_cache_entry_is_ignored_and_refetched(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", MILAN_VCEK_PATH "=" MILAN_VCEK_FILE, NULL};
    struct cvma_buf want = read_vector(MILAN_VCEK_FILE), b = {0};
    enum cvma_cache_state s;
    uint8_t chip[64];
    struct cvma_snp_tcb t = milan_tcb();
    char key[512];
    char *path;

    milan_chip(chip);
    server_start(f, args);
    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_OK);
    cvma_buf_free(&b);
    path = entry_path_for(f, MILAN_VCEK_PATH);
    flip_byte(path, CVMA_CACHE_HEADER_LEN + 100);

    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_OK);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.p, want.p, want.len);
    assert_true(cvma_verdict_has(&f->v, CVMA_R_COLLATERAL_CACHE_CORRUPT));
    assert_int_equal(f->v.reasons[0].severity, CVMA_SEV_INFO);
    assert_false(cvma_verdict_has_error(&f->v));
    assert_int_equal(tu_log_lines(f->log), 2); /* refetched */
    cvma_buf_free(&b);

    /* the entry was rewritten and is whole again */
    snprintf(key, sizeof key, "amd-kds %s%s", f->base, MILAN_VCEK_PATH);
    assert_int_equal(cvma_cache_lookup(&f->cache, key, (int64_t)time(NULL), &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    cvma_buf_free(&b);

    /* offline with a corrupt entry: noted, then undecided */
    flip_byte(path, CVMA_CACHE_HEADER_LEN + 100);
    cvma_verdict_cleanup(&f->v);
    cvma_verdict_init(&f->v);
    f->kds.offline = true;
    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_true(cvma_verdict_has(&f->v, CVMA_R_COLLATERAL_CACHE_CORRUPT));
    assert_non_null(strstr(f->err, "offline and not in cache"));
    free(path);
    cvma_buf_free(&want);
}

static void test_kds_garbage_body_is_undecided_and_not_cached(void **state)
{
    struct fx *f = *state;
    char garbage[160], route[512];
    const char *args[] = {"--route", route, "--route", NULL, NULL};
    char chain_route[256];
    struct cvma_buf b = {0};
    uint8_t chip[64];
    struct cvma_snp_tcb t = milan_tcb();
    char *path;
    struct stat sb;

    snprintf(garbage, sizeof garbage, "%s/garbage.bin", f->tmp);
    tu_write(garbage, (const uint8_t *)"<html>rate limited</html>\n", 26);
    snprintf(route, sizeof route, "%s=%s", MILAN_VCEK_PATH, garbage);
    /* what a misbehaving proxy might send with a 200 */
    snprintf(chain_route, sizeof chain_route, "/vcek/v1/Milan/cert_chain=%s", garbage);
    args[3] = chain_route;
    milan_chip(chip);
    server_start(f, args);

    assert_int_equal(cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b, &f->v,
                                         f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_null(b.p);
    assert_non_null(strstr(f->err, "not one DER X.509 certificate"));
    assert_non_null(strstr(f->err, "not cached"));
    path = entry_path_for(f, MILAN_VCEK_PATH);
    assert_int_not_equal(stat(path, &sb), 0);
    free(path);

    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_non_null(strstr(f->err, "not a PEM chain of exactly two certificates"));
    path = entry_path_for(f, "/vcek/v1/Milan/cert_chain");
    assert_int_not_equal(stat(path, &sb), 0);
    free(path);
    assert_int_equal(f->v.n_reasons, 0);
}

/* A fetch that must fail with why in f->err and leave nothing in the cache under path. */
static void expect_refused_uncached(struct fx *f, enum cvma_status st, const char *path,
                                    const char *why)
{
    struct stat sb;
    char *entry = entry_path_for(f, path);
    if (st != CVMA_UNDECIDED || strstr(f->err, why) == NULL) {
        fail_msg("%s: status %d, err '%s', want undecided with '%s'", path, (int)st, f->err, why);
    }
    assert_int_not_equal(stat(entry, &sb), 0);
    free(entry);
}

/*
 * A VCEK download is the certificate its URL asks for (admit_vcek): the hwID of that chip,
 * of the product's length, and each SPL of that TCB. A genuine VCEK of another TCB, another
 * chip, another product (a Turin VCEK's 8-byte hwID against a Milan CHIP_ID that starts with
 * it and has zeros after), or another FMC is refused before it is cached.
 */
static void test_kds_vcek_of_another_chip_tcb_or_product_is_refused_uncached(void **state)
{
    struct fx *f = *state;
    char other_hex[129];
    uint8_t chip[64], other[64], turin_chip[64] = {0x09, 0x10, 0xb4, 0xf8, 0x84, 0xff, 0x4b, 0xa9};
    char p_tcb[CVMA_KDS_PATH_MAX], p_chip[CVMA_KDS_PATH_MAX], p_len[CVMA_KDS_PATH_MAX],
            p_fmc[CVMA_KDS_PATH_MAX];
    char r_tcb[CVMA_KDS_PATH_MAX + 64], r_chip[CVMA_KDS_PATH_MAX + 64],
            r_len[CVMA_KDS_PATH_MAX + 64], r_fmc[CVMA_KDS_PATH_MAX + 64];
    const char *args[] = {"--route", r_tcb,     "--route", r_chip, "--route",
                          r_len,     "--route", r_fmc,     NULL};
    struct cvma_snp_tcb t_tcb = milan_tcb(), t = milan_tcb(), t_turin;
    struct cvma_buf b = {0};

    milan_chip(chip);
    memcpy(other, chip, sizeof other);
    other[0] ^= 0x01;
    cvma_hex_encode(other, sizeof other, other_hex, sizeof other_hex);
    t_tcb.bootloader = 3; /* the gosevguest VCEK has blSPL 2 */
    /* snp/turin-v5-anolis-trustee's VCEK: hwID 0910b4f884ff4ba9, fmc 1 bl 3 tee 2 snp 5
     * ucode 97 */
    memset(&t_turin, 0, sizeof t_turin);
    t_turin.bootloader = 3;
    t_turin.tee = 2;
    t_turin.snp = 5;
    t_turin.microcode = 97;
    assert_int_equal(cvma_kds_vcek_url(CVMA_SNP_PRODUCT_MILAN, chip, &t_tcb, p_tcb, sizeof p_tcb),
                     CVMA_OK);
    assert_int_equal(cvma_kds_vcek_url(CVMA_SNP_PRODUCT_MILAN, other, &t, p_chip, sizeof p_chip),
                     CVMA_OK);
    assert_int_equal(
            cvma_kds_vcek_url(CVMA_SNP_PRODUCT_MILAN, turin_chip, &t_turin, p_len, sizeof p_len),
            CVMA_OK);
    t_turin.has_fmc = true;
    t_turin.fmc = 2;
    assert_int_equal(
            cvma_kds_vcek_url(CVMA_SNP_PRODUCT_TURIN, turin_chip, &t_turin, p_fmc, sizeof p_fmc),
            CVMA_OK);
    snprintf(r_tcb, sizeof r_tcb, "%s=%s", p_tcb, MILAN_VCEK_FILE);
    snprintf(r_chip, sizeof r_chip, "%s=%s", p_chip, MILAN_VCEK_FILE);
    snprintf(r_len, sizeof r_len, "%s=turin-v5-anolis-trustee/vcek.der", p_len);
    snprintf(r_fmc, sizeof r_fmc, "%s=turin-v5-anolis-trustee/vcek.der", p_fmc);
    server_start(f, args);

    expect_refused_uncached(f,
                            cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t_tcb, &b,
                                                &f->v, f->err, sizeof f->err),
                            p_tcb, "a VCEK for blSPL=2, not the blSPL=3 asked for");
    expect_refused_uncached(f,
                            cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, other, &t, &b,
                                                &f->v, f->err, sizeof f->err),
                            p_chip, "not a VCEK for the hwID asked for");
    t_turin.has_fmc = false;
    t_turin.fmc = 0;
    expect_refused_uncached(f,
                            cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, turin_chip,
                                                &t_turin, &b, &f->v, f->err, sizeof f->err),
                            p_len, "a certificate for hwID 0910b4f884ff4ba9...");
    t_turin.fmc = 2;
    expect_refused_uncached(f,
                            cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_TURIN, turin_chip,
                                                &t_turin, &b, &f->v, f->err, sizeof f->err),
                            p_fmc, "a VCEK for fmcSPL=1, not the fmcSPL=2 asked for");
    assert_null(b.p);
    assert_int_equal(tu_log_lines(f->log), 4);
}

/* Writes the certificates (n of them) to path as one PEM file. */
static void write_pem_certs(const char *path, X509 *const *certs, size_t n)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    assert_non_null(bio);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(PEM_write_bio_X509(bio, certs[i]), 1);
    }
    long len = BIO_get_mem_data(bio, &p);
    assert_true(len > 0);
    tu_write(path, (const uint8_t *)p, (size_t)len);
    BIO_free(bio);
}

/* A self-signed P-256 certificate whose whole subject is CN=cn. */
static X509 *bare_self_signed(const char *cn)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    assert_non_null(pk);
    assert_non_null(x);
    assert_non_null(nm);
    assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn,
                                                -1, -1, 0),
                     1);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
    assert_int_equal(X509_set_subject_name(x, nm), 1);
    assert_int_equal(X509_set_issuer_name(x, nm), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
    assert_int_equal(X509_set_pubkey(x, pk), 1);
    assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
    X509_NAME_free(nm);
    EVP_PKEY_free(pk);
    return x;
}

/*
 * Bodies that are more than the one object their endpoint serves, or a chain that is not the
 * product's: a VCEK or a CRL with bytes after its DER, a cert_chain of three certificates, one
 * whose ARK is another product's (ARK-Genoa after SEV-Milan), and one whose ARK has the right
 * name but is not the issuer of the ASK before it. Each is refused before it is cached.
 */
static void test_kds_body_that_is_more_or_another_chain_is_refused_uncached(void **state)
{
    struct fx *f = *state;
    char vcek_f[160], crl_f[160], chain_f[160];
    char r_vcek[512], r_crl[256], r_chain[256];
    const char *args[] = {"--route", r_vcek, "--route", r_crl, "--route", r_chain, NULL};
    struct cvma_buf vcek = read_vector(MILAN_VCEK_FILE), crl = {0}, b = {0};
    STACK_OF(X509) *milan = tu_vec_chain("snp/" MILAN_CHAIN_FILE);
    STACK_OF(X509) *genoa = tu_vec_chain("snp/roots/ask_ark_genoa.pem");
    X509 *fake_ark = bare_self_signed("ARK-Milan");
    uint8_t chip[64];
    struct cvma_snp_tcb t = milan_tcb();

    snprintf(vcek_f, sizeof vcek_f, "%s/vcek-plus.der", f->tmp);
    snprintf(crl_f, sizeof crl_f, "%s/crl-plus.der", f->tmp);
    snprintf(chain_f, sizeof chain_f, "%s/chain.pem", f->tmp);
    /* the VCEK, then one byte more */
    vcek.p = realloc(vcek.p, vcek.len + 1);
    assert_non_null(vcek.p);
    vcek.p[vcek.len++] = 0x00;
    tu_write(vcek_f, vcek.p, vcek.len);
    /* a well-formed CRL, then two bytes more */
    make_crl(crl_f, time(NULL) + 86400);
    assert_int_equal(cvma_file_read(crl_f, 1 << 20, &crl), CVMA_OK);
    crl.p = realloc(crl.p, crl.len + 2);
    assert_non_null(crl.p);
    crl.p[crl.len++] = 0x05;
    crl.p[crl.len++] = 0x00;
    tu_write(crl_f, crl.p, crl.len);
    X509 *three[] = {sk_X509_value(milan, 0), sk_X509_value(milan, 1), sk_X509_value(milan, 1)};
    X509 *mixed[] = {sk_X509_value(milan, 0), sk_X509_value(genoa, 1)};
    X509 *fake[] = {sk_X509_value(milan, 0), fake_ark};
    snprintf(r_vcek, sizeof r_vcek, "%s=%s", MILAN_VCEK_PATH, vcek_f);
    snprintf(r_crl, sizeof r_crl, "/vcek/v1/Milan/crl=%s", crl_f);
    snprintf(r_chain, sizeof r_chain, "/vcek/v1/Milan/cert_chain=%s", chain_f);
    milan_chip(chip);
    server_start(f, args);

    expect_refused_uncached(f,
                            cvma_kds_fetch_vcek(&f->kds, CVMA_SNP_PRODUCT_MILAN, chip, &t, &b,
                                                &f->v, f->err, sizeof f->err),
                            MILAN_VCEK_PATH, "not one DER X.509 certificate");
    expect_refused_uncached(f,
                            cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v,
                                               f->err, sizeof f->err),
                            "/vcek/v1/Milan/crl", "not one DER X.509 CRL");
    /* The chain URL serves each wrong chain in turn (a refused body is not cached, so each
     * fetch asks again). */
    static const char *const chain_why[] = {"not a PEM chain of exactly two certificates",
                                            "a chain whose ARK is 'ARK-Genoa', not 'ARK-Milan'",
                                            "a chain whose ASK is not issued by the ARK after it"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(chain_why); i++) {
        write_pem_certs(chain_f, i == 0 ? three : i == 1 ? mixed : fake, i == 0 ? 3 : 2);
        expect_refused_uncached(f,
                                cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, false,
                                                          &b, &f->v, f->err, sizeof f->err),
                                "/vcek/v1/Milan/cert_chain", chain_why[i]);
    }
    cvma_buf_free(&crl);
    cvma_buf_free(&vcek);
    assert_null(b.p);
    sk_X509_pop_free(milan, X509_free);
    sk_X509_pop_free(genoa, X509_free);
    X509_free(fake_ark);
}

static void test_kds_fetch_cert_chain_serves_vcek_and_vlek_chains(void **state)
{
    struct fx *f = *state;
    const char *args[] = {"--route", "/vcek/v1/Milan/cert_chain=" MILAN_CHAIN_FILE, "--route",
                          "/vlek/v1/Milan/cert_chain=" MILAN_VLEK_CHAIN_FILE, NULL};
    struct cvma_buf want = read_vector(MILAN_CHAIN_FILE);
    struct cvma_buf want_vlek = read_vector(MILAN_VLEK_CHAIN_FILE);
    struct cvma_buf b = {0};

    server_start(f, args);
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_OK);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.p, want.p, want.len);
    cvma_buf_free(&b);
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_MILAN, true, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_OK);
    assert_int_equal(b.len, want_vlek.len);
    assert_memory_equal(b.p, want_vlek.p, want_vlek.len);
    cvma_buf_free(&b);
    /* Genoa is not routed */
    assert_int_equal(cvma_kds_fetch_cert_chain(&f->kds, CVMA_SNP_PRODUCT_GENOA, false, &b, &f->v,
                                               f->err, sizeof f->err),
                     CVMA_UNDECIDED);
    assert_non_null(strstr(f->err, "/vcek/v1/Genoa/cert_chain: HTTP 404"));
    /* unknown product: a usage error, no request */
    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_UNKNOWN, false, &b, &f->v, f->err,
                                        sizeof f->err),
                     CVMA_E_USAGE);
    assert_int_equal(tu_log_lines(f->log), 3);
    cvma_buf_free(&want);
    cvma_buf_free(&want_vlek);
}

static void test_kds_crl_cache_entry_expires_at_next_update(void **state)
{
    struct fx *f = *state;
    char crl[160], crl_nonext[160], r1[256], r2[256];
    const char *args[] = {"--route", r1, "--route", r2, NULL};
    time_t t0 = time(NULL);
    time_t next = t0 + 7 * 24 * 3600;
    struct cvma_buf want = {0}, b = {0};
    enum cvma_cache_state s;
    char key[256];

    snprintf(crl, sizeof crl, "%s/crl.der", f->tmp);
    snprintf(crl_nonext, sizeof crl_nonext, "%s/crl-nonext.der", f->tmp);
    make_crl(crl, next);
    make_crl(crl_nonext, 0);
    snprintf(r1, sizeof r1, "/vcek/v1/Turin/crl=%s", crl);
    snprintf(r2, sizeof r2, "/vlek/v1/Turin/crl=%s", crl_nonext);
    assert_int_equal(cvma_file_read(crl, 1 << 20, &want), CVMA_OK);
    server_start(f, args);

    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_TURIN, false, &b, &f->v, f->err,
                                        sizeof f->err),
                     CVMA_OK);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.p, want.p, want.len);
    cvma_buf_free(&b);
    snprintf(key, sizeof key, "amd-kds %s/vcek/v1/Turin/crl", f->base);
    assert_int_equal(cvma_cache_lookup(&f->cache, key, (int64_t)next - 1, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    cvma_buf_free(&b);
    assert_int_equal(cvma_cache_lookup(&f->cache, key, (int64_t)next, &b, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_EXPIRED);

    /* no nextUpdate: 24 h after the fetch */
    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_TURIN, true, &b, &f->v, f->err,
                                        sizeof f->err),
                     CVMA_OK);
    cvma_buf_free(&b);
    snprintf(key, sizeof key, "amd-kds %s/vlek/v1/Turin/crl", f->base);
    assert_int_equal(
            cvma_cache_lookup(&f->cache, key, (int64_t)t0 + CVMA_KDS_CRL_DEFAULT_TTL - 5, &b, &s),
            CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    cvma_buf_free(&b);
    assert_int_equal(cvma_cache_lookup(&f->cache, key,
                                       (int64_t)time(NULL) + CVMA_KDS_CRL_DEFAULT_TTL, &b, &s),
                     CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_EXPIRED);
    assert_int_equal(tu_log_lines(f->log), 2);
    cvma_buf_free(&want);
}

/* ---------- fetch time and maximum age ---------- */

static void test_cache_entry_records_its_fetch_time(void **state)
{
    struct fx *f = *state;
    struct cvma_buf b = {0};
    struct cvma_cache_meta m;
    enum cvma_cache_state s;
    int64_t t0 = (int64_t)time(NULL);

    assert_int_equal(cvma_cache_put(&f->cache, "k", (const uint8_t *)"abc", 3, t0 + 100), CVMA_OK);
    assert_int_equal(cvma_cache_lookup_ex(&f->cache, "k", t0, &b, &s, &m), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    assert_true(m.fetched_at >= t0 && m.fetched_at <= t0 + 5);
    assert_int_equal(m.expires_at, t0 + 100);
    cvma_buf_free(&b);
    assert_int_equal(cvma_cache_put_ex(&f->cache, "k", (const uint8_t *)"abc", 3, 0, 1000),
                     CVMA_OK);
    assert_int_equal(cvma_cache_lookup_ex(&f->cache, "k", t0, &b, &s, &m), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    assert_int_equal(m.fetched_at, 1000);
    cvma_buf_free(&b);
    /* The fetch time is under the digest: changing it breaks the entry. */
    char *path = cvma_cache_entry_path(&f->cache, "k");
    assert_non_null(path);
    flip_byte(path, 16 + 7);
    assert_int_equal(cvma_cache_lookup_ex(&f->cache, "k", t0, &b, &s, &m), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_CORRUPT);
    assert_int_equal(m.fetched_at, 0);
    free(path);

    /* The maximum age rule. */
    assert_false(cvma_cache_too_old(t0 - 60, t0, 0));
    assert_true(cvma_cache_too_old(t0 - CVMA_CACHE_DEFAULT_MAX_AGE - 1, t0, 0));
    assert_false(cvma_cache_too_old(t0 - 60, t0, 61));
    assert_true(cvma_cache_too_old(t0 - 60, t0, 59));
    assert_true(cvma_cache_too_old(t0, t0, -1));      /* refresh on every use */
    assert_true(cvma_cache_too_old(0, t0, 0));        /* unknown fetch time */
    assert_true(cvma_cache_too_old(t0 + 600, t0, 0)); /* fetched "in the future" */
}

/* An entry of the first format (CVMACE01, no fetch time) is still read, as fetched at an
 * unknown time. */
static void test_cache_reads_first_format_entries_as_of_unknown_age(void **state)
{
    struct fx *f = *state;
    static const char key[] = "old-key";
    static const uint8_t body[] = "old body";
    uint8_t e[56 + sizeof body], kl[8] = {0};
    unsigned int n = 0;
    struct cvma_buf b = {0};
    struct cvma_cache_meta m;
    enum cvma_cache_state s;
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    memset(e, 0, sizeof e);
    memcpy(e, "CVMACE01", 8);
    e[23] = (uint8_t)sizeof body; /* body length; expires_at 0 = never */
    kl[7] = (uint8_t)strlen(key);
    memcpy(e + 56, body, sizeof body);
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, e, 24), 1);
    assert_int_equal(EVP_DigestUpdate(md, kl, 8), 1);
    assert_int_equal(EVP_DigestUpdate(md, key, strlen(key)), 1);
    assert_int_equal(EVP_DigestUpdate(md, body, sizeof body), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, e + 24, &n), 1);
    EVP_MD_CTX_free(md);
    assert_int_equal(cvma_cache_put(&f->cache, "x", body, 1, 0), CVMA_OK); /* makes the dir */
    char *path = cvma_cache_entry_path(&f->cache, key);
    assert_non_null(path);
    tu_write(path, e, sizeof e);

    assert_int_equal(cvma_cache_lookup_ex(&f->cache, key, (int64_t)time(NULL), &b, &s, &m),
                     CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    assert_int_equal(b.len, sizeof body);
    assert_memory_equal(b.p, body, sizeof body);
    assert_int_equal(m.fetched_at, 0);
    assert_true(cvma_cache_too_old(m.fetched_at, (int64_t)time(NULL), 0));
    cvma_buf_free(&b);
    free(path);
}

/* A cached CRL older than the maximum age is fetched again online (not offline); within it,
 * the cache answers without a request. The age is read from the entry's own fetch time. */
static void test_kds_crl_older_than_max_age_is_refetched(void **state)
{
    struct fx *f = *state;
    char crl[160], r1[256], key[256];
    const char *args[] = {"--route", r1, NULL};
    struct cvma_buf b = {0}, first = {0}, cached = {0};
    enum cvma_cache_state s;
    int64_t now = (int64_t)time(NULL);

    snprintf(crl, sizeof crl, "%s/crl.der", f->tmp);
    make_crl(crl, time(NULL) + 7 * 24 * 3600);
    snprintf(r1, sizeof r1, "/vcek/v1/Milan/crl=%s", crl);
    server_start(f, args);
    snprintf(key, sizeof key, "amd-kds %s/vcek/v1/Milan/crl", f->base);

    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &first, &f->v,
                                        f->err, sizeof f->err),
                     CVMA_OK);
    assert_int_equal(tu_log_lines(f->log), 1);
    /* Within the default maximum age: from the cache. */
    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v, f->err,
                                        sizeof f->err),
                     CVMA_OK);
    cvma_buf_free(&b);
    assert_int_equal(tu_log_lines(f->log), 1);

    /* Backdate the entry's fetch time by 25 h: past the default maximum age of 24 h. */
    assert_int_equal(cvma_cache_lookup(&f->cache, key, now, &cached, &s), CVMA_OK);
    assert_int_equal(s, CVMA_CACHE_HIT);
    assert_int_equal(cvma_cache_put_ex(&f->cache, key, cached.p, cached.len, now + 7 * 24 * 3600,
                                       now - 25 * 3600),
                     CVMA_OK);
    /* Offline: used whatever its age. */
    f->kds.offline = true;
    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v, f->err,
                                        sizeof f->err),
                     CVMA_OK);
    cvma_buf_free(&b);
    assert_int_equal(tu_log_lines(f->log), 1);
    /* A maximum age of 26 h: still young enough. */
    f->kds.offline = false;
    f->kds.max_age = 26 * 3600;
    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v, f->err,
                                        sizeof f->err),
                     CVMA_OK);
    cvma_buf_free(&b);
    assert_int_equal(tu_log_lines(f->log), 1);
    /* The default (24 h): fetched again, and the entry's fetch time is now. */
    f->kds.max_age = 0;
    make_crl(crl, time(NULL) + 7 * 24 * 3600); /* what the server now serves */
    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v, f->err,
                                        sizeof f->err),
                     CVMA_OK);
    assert_int_equal(tu_log_lines(f->log), 2);
    assert_false(b.len == first.len && memcmp(b.p, first.p, b.len) == 0);
    cvma_buf_free(&b);
    struct cvma_cache_meta m;
    assert_int_equal(cvma_cache_lookup_ex(&f->cache, key, now, &b, &s, &m), CVMA_OK);
    assert_true(m.fetched_at >= now);
    cvma_buf_free(&b);
    assert_false(cvma_verdict_has(&f->v, CVMA_R_COLLATERAL_STALE_CACHE));

    /* Too old and the server gone: the cached CRL, with COLLATERAL_STALE_CACHE. */
    tu_server_stop(&f->srv.pid);
    f->kds.max_age = -1;
    f->kds.http.max_retries = -1;
    assert_int_equal(cvma_kds_fetch_crl(&f->kds, CVMA_SNP_PRODUCT_MILAN, false, &b, &f->v, f->err,
                                        sizeof f->err),
                     CVMA_OK);
    assert_true(b.len > 0);
    cvma_buf_free(&b);
    assert_true(cvma_verdict_has(&f->v, CVMA_R_COLLATERAL_STALE_CACHE));
    cvma_buf_free(&first);
    cvma_buf_free(&cached);
}

/* The CRL URL a verifier names when it has none. */
static void test_kds_crl_url_names_product_and_signer(void **state)
{
    (void)state;
    struct cvma_kds k;
    char url[128];

    cvma_kds_init(&k);
    assert_int_equal(cvma_kds_crl_url(&k, CVMA_SNP_PRODUCT_GENOA, false, url, sizeof url), CVMA_OK);
    assert_string_equal(url, "https://kdsintf.amd.com/vcek/v1/Genoa/crl");
    k.base_url = "http://127.0.0.1:9/";
    assert_int_equal(cvma_kds_crl_url(&k, CVMA_SNP_PRODUCT_TURIN, true, url, sizeof url), CVMA_OK);
    assert_string_equal(url, "http://127.0.0.1:9/vlek/v1/Turin/crl");
    assert_int_equal(cvma_kds_crl_url(&k, CVMA_SNP_PRODUCT_UNKNOWN, true, url, sizeof url),
                     CVMA_E_USAGE);
    assert_string_equal(url, "");
}

int main(void)
{
    const struct CMUnitTest self_contained[] = {
            cmocka_unit_test(test_kds_vcek_url_milan_is_exact),
            cmocka_unit_test(test_kds_vcek_url_genoa_uses_its_product_name),
            cmocka_unit_test(test_kds_vcek_url_turin_uses_8_byte_hwid_and_fmc),
            cmocka_unit_test(test_kds_vcek_url_refuses_unknown_product_and_short_buffer),
            cmocka_unit_test_setup_teardown(test_cache_put_then_get_round_trips, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_cache_dir_is_created_0700_on_first_put_only,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_cache_dir_others_can_write_is_not_used, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_cache_expired_entry_is_a_miss, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_cache_corrupt_entry_is_reported_as_corrupt,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_cache_key_cannot_name_a_path_outside_the_dir,
                                            fx_setup, fx_teardown),
            cmocka_unit_test(test_cache_dir_follows_env_precedence),
            cmocka_unit_test_setup_teardown(test_cache_entry_records_its_fetch_time, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_cache_reads_first_format_entries_as_of_unknown_age,
                                            fx_setup, fx_teardown),
            cmocka_unit_test(test_kds_crl_url_names_product_and_signer),
            cmocka_unit_test_setup_teardown(test_http_refuses_non_http_schemes, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_do_refuses_other_methods_and_header_breaks,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_post_transport_error_is_tried_once, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_offline_miss_is_undecided, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_unreachable_server_is_undecided_quickly,
                                            fx_setup, fx_teardown),
    };
    const struct CMUnitTest with_server[] = {
            cmocka_unit_test_setup_teardown(test_kds_fetch_vcek_returns_the_served_file, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_kds_second_fetch_hits_the_cache_with_the_server_stopped, fx_setup,
                    fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_cache_entries_are_per_base_url, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_404_is_undecided_and_names_url_and_code,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_retries_after_429_then_succeeds, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_gives_up_after_max_retries_on_503, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_post_sends_body_and_content_type, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_any_status_hands_back_a_4xx_body, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_follows_at_most_three_redirects, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_refuses_a_redirect_to_another_scheme,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_https_verifies_the_server_and_never_redirects_down_to_http, fx_setup,
                    fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_same_origin_redirects_only, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_post_follows_no_redirect, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_post_and_any_status_are_not_retried_on_503,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_head_probe_keeps_no_body, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_body_over_the_limit_is_refused, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_http_timeout_is_undecided_quickly, fx_setup,
                                            fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_corrupt_cache_entry_is_ignored_and_refetched,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_garbage_body_is_undecided_and_not_cached,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_kds_vcek_of_another_chip_tcb_or_product_is_refused_uncached, fx_setup,
                    fx_teardown),
            cmocka_unit_test_setup_teardown(
                    test_kds_body_that_is_more_or_another_chain_is_refused_uncached, fx_setup,
                    fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_fetch_cert_chain_serves_vcek_and_vlek_chains,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_crl_cache_entry_expires_at_next_update,
                                            fx_setup, fx_teardown),
            cmocka_unit_test_setup_teardown(test_kds_crl_older_than_max_age_is_refetched, fx_setup,
                                            fx_teardown),
    };
    int failed;
    char *vcek;
    struct stat sb;

    /* Loopback only, whatever proxy the environment names. */
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    signal(SIGPIPE, SIG_IGN);

    failed = cmocka_run_group_tests_name("kds (self-contained)", self_contained, NULL, NULL);
    if (failed != 0) {
        return 1;
    }
    g_src = getenv("CVMATTEST_SRC");
    g_vectors = getenv("CVMATTEST_VECTORS");
    if (g_src == NULL || g_vectors == NULL) {
        fprintf(stderr, "test_kds: CVMATTEST_SRC or CVMATTEST_VECTORS not set: server tests "
                        "skipped (ctest sets both)\n");
        return 77;
    }
    if ((vcek = malloc(strlen(g_vectors) + sizeof "/snp/" MILAN_VCEK_FILE)) == NULL) {
        return 1;
    }
    snprintf(vcek, strlen(g_vectors) + sizeof "/snp/" MILAN_VCEK_FILE, "%s/snp/%s", g_vectors,
             MILAN_VCEK_FILE);
    if (stat(vcek, &sb) != 0) {
        fprintf(stderr, "test_kds: %s missing: server tests skipped\n", vcek);
        free(vcek);
        return 77;
    }
    free(vcek);
    if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_kds: python3 not available: server tests skipped\n");
        return 77;
    }
    failed = cmocka_run_group_tests_name("kds (local server)", with_server, NULL, NULL);
    return failed != 0 ? 1 : 0;
}
