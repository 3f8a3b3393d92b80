/*
 * The one helper for each common job (common/util.h, common/hex.h): mkdir -p, exclusive
 * create, atomic file write with a mode, strict lower-case hex decoding; and the tests' own
 * tu_rmtree.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/reader.h"
#include "common/timeutil.h"
#include "common/verdict.h"
#include "testutil.h"

/* Entries in dir other than . and .. */
static size_t dir_entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* write(2) as the library calls it (the executable's own definition wins over the C
 * library's): with write_gives_zero set, every write reports 0 bytes written, as no regular
 * file does but a broken file system or device may. */
static bool write_gives_zero;

ssize_t write(int fd, const void *p, size_t n)
{
    if (write_gives_zero && n > 0) {
        return 0;
    }
    return (ssize_t)syscall(SYS_write, fd, p, n);
}

/* A directory for state the verifier believes: made 0700, or found; refused when others can
 * write it (group or other write bit), when it is a symbolic link or not a directory, or
 * cannot be made, each saying so and naming it. */
static void test_private_dir_refuses_a_directory_others_can_write(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char *dir = tu_path(tmp, "state/d");
    char *file = tu_path(tmp, "f");
    char *under_file = tu_path(tmp, "f/x");
    char *link = tu_path(tmp, "link");
    char why[512], want[700];
    struct stat sb;
    mode_t old = umask(022);

    assert_int_equal(cvma_private_dir(dir, false, why, sizeof why), CVMA_E_IO); /* absent */
    assert_int_equal(cvma_private_dir(dir, true, why, sizeof why), CVMA_OK);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(cvma_private_dir(dir, false, why, sizeof why), CVMA_OK);
    static const mode_t fine[] = {0700, 0755, 0500, 01700};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(fine); i++) {
        assert_int_equal(chmod(dir, fine[i]), 0);
        assert_int_equal(cvma_private_dir(dir, true, why, sizeof why), CVMA_OK);
    }
    static const mode_t open_to_others[] = {0777, 0770, 0702, 01777, 0720};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(open_to_others); i++) {
        assert_int_equal(chmod(dir, open_to_others[i]), 0);
        assert_int_equal(cvma_private_dir(dir, true, why, sizeof why), CVMA_E_IO);
        snprintf(want, sizeof want, "%s is writable by group or others (mode %04o)", dir,
                 (unsigned)open_to_others[i]);
        assert_string_equal(why, want);
    }
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(symlink(dir, link), 0);
    assert_int_equal(cvma_private_dir(link, true, why, sizeof why), CVMA_E_IO);
    assert_non_null(strstr(why, "is a symbolic link"));
    tu_write(file, (const uint8_t *)"x", 1);
    assert_int_equal(cvma_private_dir(file, false, why, sizeof why), CVMA_E_IO);
    snprintf(want, sizeof want, "%s is not a directory", file);
    assert_string_equal(why, want);
    assert_int_equal(cvma_private_dir(under_file, true, why, sizeof why), CVMA_E_IO);
    snprintf(want, sizeof want, "%s cannot be created", under_file);
    assert_string_equal(why, want);
    /* owned by root (as for a service whose directory root made): fine when it is private */
    if (stat("/", &sb) == 0 && sb.st_uid == 0 && (sb.st_mode & 022) == 0) {
        assert_int_equal(cvma_private_dir("/", false, why, sizeof why), CVMA_OK);
    }

    umask(old);
    tu_rmtree(tmp);
    free(link);
    free(under_file);
    free(file);
    free(dir);
    free(tmp);
}

/* The directories above a private one: one that others may write (not sticky) or that
 * another user owns lets them rename it away and put theirs in its place, so it is refused,
 * naming the parent; a sticky one (as /tmp) is fine; a symbolic link among them is followed
 * to what it leads to. */
static void test_private_dir_refuses_parents_others_can_write(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char *open_dir = tu_path(tmp, "open");
    char *dir = tu_path(tmp, "open/mid/d");
    char *mid = tu_path(tmp, "open/mid");
    char *link = tu_path(tmp, "via");
    char *via = tu_path(tmp, "via/mid/d");
    char why[700], want[900];
    mode_t old = umask(022);

    assert_int_equal(cvma_private_dir(dir, true, why, sizeof why), CVMA_OK);
    static const mode_t fine[] = {0755, 0700, 01777, 01770};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(fine); i++) {
        assert_int_equal(chmod(open_dir, fine[i]), 0);
        assert_int_equal(cvma_private_dir(dir, false, why, sizeof why), CVMA_OK);
    }
    static const mode_t open_to_others[] = {0777, 0775, 0757};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(open_to_others); i++) {
        assert_int_equal(chmod(open_dir, open_to_others[i]), 0);
        assert_int_equal(cvma_private_dir(dir, false, why, sizeof why), CVMA_E_IO);
        snprintf(want, sizeof want,
                 "%s: its parent %s is writable by group or others (mode %04o) and not sticky", dir,
                 open_dir, (unsigned)open_to_others[i]);
        assert_string_equal(why, want);
        /* the same parent two levels up, and created on the way */
        assert_int_equal(cvma_private_dir(dir, true, why, sizeof why), CVMA_E_IO);
    }
    /* through a symbolic link: the directory it leads to is what counts */
    assert_int_equal(symlink(open_dir, link), 0);
    assert_int_equal(cvma_private_dir(via, false, why, sizeof why), CVMA_E_IO);
    assert_non_null(strstr(why, "its parent "));
    assert_non_null(strstr(why, "/open is writable by group or others (mode 0757)"));
    assert_int_equal(chmod(open_dir, 0755), 0);
    assert_int_equal(cvma_private_dir(via, false, why, sizeof why), CVMA_OK);
    /* a link in a directory others can write: they could point it elsewhere, so refused,
     * however private what it leads to is (created or found) */
    char *w = tu_path(tmp, "w"), *wl = tu_path(tmp, "w/link"), *wd = tu_path(tmp, "w/link/cache");
    char *priv = tu_path(tmp, "open/mid");
    assert_int_equal(mkdir(w, 0700), 0);
    assert_int_equal(symlink(priv, wl), 0);
    assert_int_equal(chmod(w, 0777), 0);
    assert_int_equal(cvma_private_dir(wd, true, why, sizeof why), CVMA_E_IO);
    snprintf(want, sizeof want,
             "%s: its parent %s is writable by group or others (mode 0777) and not sticky", wd, w);
    assert_string_equal(why, want);
    assert_int_equal(chmod(w, 0755), 0);
    assert_int_equal(cvma_private_dir(wd, true, why, sizeof why), CVMA_OK);
    /* relative: the same, from the current directory */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmp), 0);
    assert_int_equal(cvma_private_dir("w/link/cache", false, why, sizeof why), CVMA_OK);
    assert_int_equal(chmod(w, 0777), 0);
    assert_int_equal(cvma_private_dir("w/link/cache", false, why, sizeof why), CVMA_E_IO);
    assert_non_null(strstr(why, "/w is writable by group or others"));
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(chmod(w, 0755), 0);
    /* "link/" is the link, not what it leads to */
    char *wl_slash = tu_path(tmp, "w/link/");
    assert_int_equal(cvma_private_dir(wl_slash, false, why, sizeof why), CVMA_E_IO);
    assert_non_null(strstr(why, "is a symbolic link"));
    free(wl_slash);
    /* a link another user owns (root may give one away): its owner could repoint it, even
     * in a sticky directory */
    if (geteuid() == 0) {
        assert_int_equal(lchown(wl, 4242, (gid_t)-1), 0);
        assert_int_equal(cvma_private_dir(wd, false, why, sizeof why), CVMA_E_IO);
        snprintf(want, sizeof want,
                 "%s: its parent %s is a symbolic link owned by uid 4242, not by this user (uid "
                 "0) or root",
                 wd, wl);
        assert_string_equal(why, want);
        assert_int_equal(lchown(wl, 0, (gid_t)-1), 0);
        assert_int_equal(cvma_private_dir(wd, false, why, sizeof why), CVMA_OK);
    }
    free(priv);
    free(wd);
    free(wl);
    free(w);
    /* owned by another user (root may give it away; others cannot) */
    if (geteuid() == 0) {
        assert_int_equal(chown(mid, 4242, (gid_t)-1), 0);
        assert_int_equal(cvma_private_dir(dir, false, why, sizeof why), CVMA_E_IO);
        snprintf(want, sizeof want,
                 "%s: its parent %s is owned by uid 4242, not by this user (uid 0) or root", dir,
                 mid);
        assert_string_equal(why, want);
        assert_int_equal(chown(mid, 0, (gid_t)-1), 0);
        assert_int_equal(cvma_private_dir(dir, false, why, sizeof why), CVMA_OK);
    }
    umask(old);
    tu_rmtree(tmp);
    free(via);
    free(link);
    free(mid);
    free(dir);
    free(open_dir);
    free(tmp);
}

static void test_mkdir_p(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char *deep = tu_path(tmp, "a/b//c/");
    char *file = tu_path(tmp, "f");
    char *under_file = tu_path(tmp, "f/x");
    struct stat sb;
    mode_t old = umask(022);

    assert_int_equal(cvma_mkdir_p(deep, 0700), CVMA_OK);
    assert_int_equal(stat(deep, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(cvma_mkdir_p(deep, 0700), CVMA_OK); /* already there */
    assert_int_equal(cvma_mkdir_p(tmp, 0755), CVMA_OK);
    assert_int_equal(stat(tmp, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700); /* an existing directory keeps its mode */

    tu_write(file, (const uint8_t *)"x", 1);
    assert_int_equal(cvma_mkdir_p(file, 0755), CVMA_E_IO);       /* a file, not a directory */
    assert_int_equal(cvma_mkdir_p(under_file, 0755), CVMA_E_IO); /* a file in the way */
    assert_int_equal(cvma_mkdir_p("", 0755), CVMA_E_USAGE);

    umask(old);
    tu_rmtree(tmp);
    free(under_file);
    free(file);
    free(deep);
    free(tmp);
}

/* A collateral file that is a FIFO (no writer) or a directory is unreadable at once: never a
 * verification that waits forever. cvma_file_read_regular reads regular files as before. */
static void test_file_read_regular_never_waits(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *fifo = tu_path(dir, "vcek.der"), *file = tu_path(dir, "ark.pem");
    struct cvma_buf b;
    assert_int_equal(mkfifo(fifo, 0600), 0);
    tu_write(file, (const uint8_t *)"abc", 3);
    alarm(20); /* a hang fails the test instead of stalling the suite */
    assert_int_equal(cvma_file_read_regular(fifo, 1024, &b), CVMA_E_IO);
    assert_null(b.p);
    assert_int_equal(cvma_file_read_regular(dir, 1024, &b), CVMA_E_IO);
    alarm(0);
    assert_int_equal(cvma_file_read_regular(file, 1024, &b), CVMA_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, "abc", 3);
    cvma_buf_free(&b);
    assert_int_equal(cvma_file_read_regular(file, 2, &b), CVMA_E_IO); /* over max_len */
    tu_rmtree(dir);
    free(fifo);
    free(file);
    free(dir);
}

/* An exclusive create: the mode given, never over an existing file or through a symlink, and
 * a write that writes nothing is an error (EIO) that leaves nothing behind, never a loop. */
static void test_file_create_exclusive(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char *key = tu_path(tmp, "w.key"), *link = tu_path(tmp, "l.key");
    char *other = tu_path(tmp, "other"), *zero = tu_path(tmp, "zero");
    struct cvma_buf got = {0};
    struct stat sb;
    mode_t old = umask(022);

    assert_int_equal(cvma_file_create_exclusive(key, (const uint8_t *)"secret", 6, 0600), 0);
    assert_int_equal(stat(key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(cvma_file_create_exclusive(key, (const uint8_t *)"new", 3, 0600), EEXIST);
    tu_read(key, &got);
    assert_int_equal(got.len, 6); /* the first one kept */
    assert_memory_equal(got.p, "secret", 6);
    cvma_buf_free(&got);
    assert_int_equal(symlink(other, link), 0);
    assert_int_equal(cvma_file_create_exclusive(link, (const uint8_t *)"x", 1, 0600), EEXIST);
    assert_int_equal(access(other, F_OK), -1);

    alarm(20); /* a write retried for ever fails the test instead of stalling the suite */
    write_gives_zero = true;
    int e = cvma_file_create_exclusive(zero, (const uint8_t *)"abc", 3, 0600);
    enum cvma_status st = cvma_file_write_atomic_mode(key, (const uint8_t *)"abc", 3, 0600);
    write_gives_zero = false;
    alarm(0);
    assert_int_equal(e, EIO);
    assert_int_equal(access(zero, F_OK), -1); /* removed again */
    assert_int_equal(st, CVMA_E_IO);
    assert_int_equal(dir_entries(tmp), 2); /* w.key as it was, l.key; no temporary file */
    tu_read(key, &got);
    assert_int_equal(got.len, 6);
    cvma_buf_free(&got);

    umask(old);
    tu_rmtree(tmp);
    free(zero);
    free(other);
    free(link);
    free(key);
    free(tmp);
}

/* A secret file that is a FIFO (no writer) or a directory is refused at once, errno EINVAL
 * ("not a regular file"): a service no longer waits at start for a writer. Any other file read
 * through cvma_file_read no longer waits at the open either: such a FIFO reads as empty. */
static void test_file_read_secret_never_waits(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *fifo = tu_path(dir, "redis.pw"), *file = tu_path(dir, "nonce.key");
    struct cvma_buf b;
    assert_int_equal(mkfifo(fifo, 0600), 0);
    tu_write(file, (const uint8_t *)"abc", 3);
    alarm(20); /* a hang fails the test instead of stalling the suite */
    errno = 0;
    assert_int_equal(cvma_file_read_secret(fifo, 1024, &b), CVMA_E_IO);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(cvma_file_read_strerror(errno), "not a regular file");
    assert_null(b.p);
    errno = 0;
    assert_int_equal(cvma_file_read_secret(dir, 1024, &b), CVMA_E_IO);
    assert_int_equal(errno, EINVAL);
    /* The plain reader waits for a FIFO's writer, as the user who named it expects: a
     * writer that comes 200 ms later is read, not taken for an empty file. */
    pid_t w = fork();
    assert_true(w >= 0);
    if (w == 0) {
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        int fd = open(fifo, O_WRONLY);
        _exit(fd >= 0 && write(fd, "abc", 3) == 3 ? 0 : 1);
    }
    assert_int_equal(cvma_file_read(fifo, 1024, &b), CVMA_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, "abc", 3);
    cvma_buf_free(&b);
    int ws = 0;
    assert_int_equal(waitpid(w, &ws, 0), w);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    alarm(0);
    assert_int_equal(cvma_file_read_secret(file, 1024, &b), CVMA_OK);
    assert_int_equal(b.len, 3);
    cvma_buf_free_secret(&b);
    assert_int_equal(cvma_file_read_secret(file, 2, &b), CVMA_E_IO);
    assert_string_equal(cvma_file_read_strerror(errno), "larger than allowed");
    tu_rmtree(dir);
    free(fifo);
    free(file);
    free(dir);
}

static void test_file_write_atomic_mode(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char *key = tu_path(tmp, "key.pem");
    char *pub = tu_path(tmp, "pub.pem");
    char *missing = tu_path(tmp, "no/such/dir/f");
    struct stat sb;
    struct cvma_buf got = {0};
    mode_t old = umask(022);

    assert_int_equal(cvma_file_write_atomic_mode(key, (const uint8_t *)"secret", 6, 0600), CVMA_OK);
    assert_int_equal(stat(key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    tu_read(key, &got);
    assert_int_equal(got.len, 6);
    assert_memory_equal(got.p, "secret", 6);
    cvma_buf_free(&got);

    /* Replacing keeps the new mode and content; no temporary file is left behind. */
    assert_int_equal(cvma_file_write_atomic_mode(key, (const uint8_t *)"new", 3, 0600), CVMA_OK);
    tu_read(key, &got);
    assert_int_equal(got.len, 3);
    assert_memory_equal(got.p, "new", 3);
    cvma_buf_free(&got);

    assert_int_equal(cvma_file_write_atomic(pub, (const uint8_t *)"p", 1), CVMA_OK);
    assert_int_equal(stat(pub, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    assert_int_equal(dir_entries(tmp), 2);

    assert_int_equal(cvma_file_write_atomic_mode(missing, (const uint8_t *)"x", 1, 0600),
                     CVMA_E_IO);
    assert_int_equal(dir_entries(tmp), 2);

    umask(old);
    tu_rmtree(tmp);
    free(missing);
    free(pub);
    free(key);
    free(tmp);
}

/* A symlink where the file goes is replaced, never written through (a .pub pointing at
 * another file must not overwrite it); the same without the fsync. */
static void test_file_write_atomic_replaces_symlink(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char *victim = tu_path(tmp, "victim");
    char *link = tu_path(tmp, "k.pub");
    char *proof = tu_path(tmp, "proof.json");
    struct stat sb;
    struct cvma_buf got = {0};
    mode_t old = umask(022);

    assert_int_equal(cvma_file_write_atomic(victim, (const uint8_t *)"keep", 4), CVMA_OK);
    assert_int_equal(symlink("victim", link), 0);
    assert_int_equal(cvma_file_write_atomic(link, (const uint8_t *)"pub", 3), CVMA_OK);
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    tu_read(victim, &got);
    assert_int_equal(got.len, 4);
    assert_memory_equal(got.p, "keep", 4);
    cvma_buf_free(&got);

    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink("victim", link), 0);
    assert_int_equal(cvma_file_write_atomic_nosync(link, (const uint8_t *)"p2", 2, 0644), CVMA_OK);
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    tu_read(victim, &got);
    assert_memory_equal(got.p, "keep", 4);
    cvma_buf_free(&got);
    assert_int_equal(cvma_file_write_atomic_nosync(proof, (const uint8_t *)"{}", 2, 0644), CVMA_OK);
    assert_int_equal(stat(proof, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    tu_read(proof, &got);
    assert_int_equal(got.len, 2);
    cvma_buf_free(&got);
    assert_int_equal(dir_entries(tmp), 3);

    umask(old);
    tu_rmtree(tmp);
    free(proof);
    free(link);
    free(victim);
    free(tmp);
}

static void test_hex_decode_lower(void **state)
{
    (void)state;
    uint8_t out[4];
    static const uint8_t want[4] = {0x00, 0xab, 0xcd, 0xef};

    memset(out, 0, sizeof out);
    assert_true(cvma_hex_decode_lower("00abcdef", 8, out, 4));
    assert_memory_equal(out, want, 4);
    assert_true(cvma_hex_decode_lower("", 0, out, 0));

    assert_false(cvma_hex_decode_lower("00ABcdef", 8, out, 4)); /* upper case is not canonical */
    assert_false(cvma_hex_decode_lower("00abcdeF", 8, out, 4));
    assert_false(cvma_hex_decode_lower("00abcde", 7, out, 4));     /* too short */
    assert_false(cvma_hex_decode_lower("00abcdef00", 10, out, 4)); /* too long */
    assert_false(cvma_hex_decode_lower("00abcdeg", 8, out, 4));
    assert_false(cvma_hex_decode_lower("0xabcdef", 8, out, 4));  /* no prefix */
    assert_false(cvma_hex_decode_lower("00ab\0def", 8, out, 4)); /* a NUL is not a digit */
    assert_false(cvma_hex_decode_lower("00abcdef", 8, out, SIZE_MAX));
}

/* tu_rmtree under a $TMPDIR with a quote in it, a path past 512 bytes and a symbolic link out. */
/* The reader's big-endian integers, its refusals at the end, and an empty input without a
 * buffer (no offset is added to a null pointer: UBSan runs this). */
static void test_reader_be_and_empty(void **state)
{
    (void)state;
    static const uint8_t b[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    struct cvma_reader r;
    struct cvma_span sp;
    uint64_t v64;
    uint32_t v32;
    uint16_t v16;

    cvma_reader_init(&r, b, sizeof b);
    assert_true(cvma_reader_u64be(&r, &v64));
    assert_true(v64 == 0x0102030405060708ull);
    assert_true(cvma_reader_u32be(&r, &v32));
    assert_int_equal(v32, 0x090a0b0c);
    assert_false(cvma_reader_u64be(&r, &v64)); /* 2 bytes left */
    assert_true(v64 == 0);
    assert_true(cvma_reader_u16be(&r, &v16));
    assert_int_equal(v16, 0x0d0e);
    assert_true(cvma_reader_at_end(&r));

    cvma_reader_init(&r, NULL, 0);
    assert_true(cvma_reader_span(&r, 0, &sp));
    assert_null(sp.p);
    assert_int_equal(sp.len, 0);
    cvma_reader_rest(&r, &sp);
    assert_null(sp.p);
    assert_int_equal(sp.len, 0);
    assert_false(cvma_reader_u8(&r, &(uint8_t){0}));
}

static void test_tu_rmtree_needs_no_shell(void **state)
{
    (void)state;
    const char *old = getenv("TMPDIR");
    char *saved = old != NULL ? tu_strndup(old, strlen(old)) : NULL;
    char *base = tu_tmpdir();
    char *quoted = tu_path(base, "it's \"odd\" $(x)");
    char *keep = tu_path(base, "keep");
    char *kept = tu_path(keep, "file");
    char name[101];
    struct stat st;

    assert_int_equal(mkdir(quoted, 0700), 0);
    assert_int_equal(mkdir(keep, 0700), 0);
    tu_write(kept, (const uint8_t *)"x", 1);
    assert_int_equal(setenv("TMPDIR", quoted, 1), 0);
    char *dir = tu_tmpdir();
    assert_int_equal(strncmp(dir, quoted, strlen(quoted)), 0);

    char *link = tu_path(dir, "out");
    assert_int_equal(symlink(keep, link), 0);
    memset(name, 'd', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char *deep = tu_path(dir, name);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(mkdir(deep, 0700), 0);
        char *next = tu_path(deep, name);
        free(deep);
        deep = next;
    }
    assert_true(strlen(deep) > 600);
    tu_write(deep, (const uint8_t *)"y", 1);

    assert_true(tu_rmtree(dir));
    assert_int_equal(lstat(dir, &st), -1);
    assert_int_equal(stat(kept, &st), 0); /* the link was removed, not followed */
    assert_true(tu_rmtree(dir));          /* gone already: as rm -rf, that is fine */
    assert_true(tu_rmtree(kept) && stat(kept, &st) != 0);

    if (geteuid() != 0) { /* root removes from a read-only directory */
        char *f = tu_path(keep, "stuck");
        tu_write(f, (const uint8_t *)"z", 1);
        assert_int_equal(chmod(keep, 0500), 0);
        assert_false(tu_rmtree(keep));
        assert_int_equal(stat(f, &st), 0);
        assert_int_equal(chmod(keep, 0700), 0);
        free(f);
    }

    if (saved != NULL) {
        assert_int_equal(setenv("TMPDIR", saved, 1), 0);
    } else {
        assert_int_equal(unsetenv("TMPDIR"), 0);
    }
    assert_true(tu_rmtree(base));
    free(deep);
    free(link);
    free(dir);
    free(kept);
    free(keep);
    free(quoted);
    free(base);
    free(saved);
}

/* The reader's text helpers: whitespace skipped, a prefix compared without moving, nothing
 * read past the end. */
static void test_reader_text_helpers(void **state)
{
    (void)state;
    static const uint8_t b[] = {' ', '\t', '\r', '\n', '{', 'x'};
    struct cvma_reader r;

    cvma_reader_init(&r, b, sizeof b);
    assert_false(cvma_reader_starts_with(&r, "{"));
    cvma_reader_skip_ws(&r);
    assert_int_equal(r.off, 4);
    assert_true(cvma_reader_starts_with(&r, "{"));
    assert_true(cvma_reader_starts_with(&r, "{x"));
    assert_true(cvma_reader_starts_with(&r, ""));
    assert_false(cvma_reader_starts_with(&r, "{x}")); /* one byte past the end */
    assert_int_equal(r.off, 4);
    cvma_reader_skip_ws(&r);
    assert_int_equal(r.off, 4);

    cvma_reader_init(&r, b, 4); /* only whitespace */
    cvma_reader_skip_ws(&r);
    assert_true(cvma_reader_at_end(&r));
    assert_false(cvma_reader_starts_with(&r, "{"));
    cvma_reader_init(&r, NULL, 0);
    cvma_reader_skip_ws(&r);
    assert_true(cvma_reader_starts_with(&r, ""));
}

/* A PCR index has one spelling: "7", never "07", "+7", " 7" or "0x7". */
static void test_pcr_index_one_spelling(void **state)
{
    (void)state;
    static const char *const ok[] = {"0", "7", "10", "23"};
    static const unsigned ok_value[] = {0, 7, 10, 23};
    static const char *const bad[] = {"", "07", "00", "+7", " 7", "7 ", "0x7", "24", "100", "-1"};
    unsigned x = 99;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_true(cvma_pcr_index(ok[i], strlen(ok[i]), 24, &x));
        assert_int_equal(x, ok_value[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        x = 99;
        assert_false(cvma_pcr_index(bad[i], strlen(bad[i]), 24, &x));
        assert_int_equal(x, 99);
    }
    assert_true(cvma_pcr_index("31", 2, 32, &x));
    assert_false(cvma_pcr_index("7", 0, 24, &x)); /* the length given, not the NUL, counts */
}

/* Text from evidence or a peer, escaped for terminals and logs: controls (C0, DEL, C1) and
 * bytes that are not UTF-8 become \xNN, other UTF-8 stays; cut at a whole character. */
static void test_text_escape(void **state)
{
    (void)state;
    char out[64];
    static const struct {
        const char *in, *want;
    } cases[] = {
            {"plain text, [ok] ~", "plain text, [ok] ~"},
            {"tpm_\x1b]0;owned\x07\x1b[2J\nFAKE: affirming",
             "tpm_\\x1b]0;owned\\x07\\x1b[2J\\x0aFAKE: affirming"},
            {"del\x7f tab\t cr\r", "del\\x7f tab\\x09 cr\\x0d"},
            {"csi \xc2\x9b"
             "2J",
             "csi \\xc2\\x9b2J"}, /* U+009B */
            {"nbsp \xc2\xa0 dash \xe2\x80\x94 e \xc3\xa9",
             "nbsp \xc2\xa0 dash \xe2\x80\x94 e \xc3\xa9"},
            {"bad \xff \xc3(", "bad \\xff \\xc3("}, /* not UTF-8 */
            {"overlong \xc0\xaf", "overlong \\xc0\\xaf"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool same = strcmp(cases[i].in, cases[i].want) == 0;
        assert_int_equal(cvma_text_needs_escape(cases[i].in), !same);
        assert_string_equal(cvma_text_escape(cases[i].in, out, sizeof out), cases[i].want);
    }
    /* cut at a whole character: never half an escape or half a UTF-8 sequence */
    assert_string_equal(cvma_text_escape("ab\x1b", out, 5), "ab");
    assert_string_equal(cvma_text_escape("ab\xe2\x80\x94", out, 5), "ab");
    assert_string_equal(cvma_text_escape("ab\xe2\x80\x94", out, 6), "ab\xe2\x80\x94");
    assert_string_equal(cvma_text_escape("x", out, 1), "");
    /* U+2028 (a line break to some readers) is escaped; the backslash only for logs */
    assert_string_equal(cvma_text_escape("a\xe2\x80\xa8"
                                         "b\\c",
                                         out, sizeof out),
                        "a\\xe2\\x80\\xa8b\\c");
    char logl[32];
    size_t ln = cvma_text_escape_into(logl, sizeof logl - 1, 0, "p\\q\n", 4, true);
    logl[ln] = '\0';
    assert_string_equal(logl, "p\\x5cq\\x0a");
    /* errors and reason details are escaped where they are made */
    char err[32];
    cvma_errf(err, sizeof err, "name '%s'", "a\x1b[2Jb");
    assert_string_equal(err, "name 'a\\x1b[2Jb'");
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    (void)cvma_reject(&v, CVMA_R_PARSE_UNKNOWN_FORMAT, "part '%s'", "x\ny");
    assert_string_equal(v.reasons[0].detail, "part 'x\\x0ay'");
    cvma_verdict_cleanup(&v);
}

/* RFC 3339 times: a leap second only where one can be (the end of a UTC day), no instant
 * before 1970 or after 9999 once the offset is applied, and a date written only with a
 * four-digit year. */
static void test_rfc3339_parse_and_format(void **state)
{
    (void)state;
    time_t t = 0, u = 0;
    char out[40];
    assert_true(cvma_time_parse_rfc3339("2026-12-04T12:30:59Z", &t));
    cvma_time_format(t, out, sizeof out);
    assert_string_equal(out, "2026-12-04T12:30:59Z");
    assert_false(cvma_time_parse_rfc3339("2026-12-04T12:30:60Z", &t)); /* no leap second here */
    assert_true(cvma_time_parse_rfc3339("2016-12-31T23:59:60Z", &t));  /* one was here */
    assert_true(cvma_time_parse_rfc3339("2017-01-01T00:00:00Z", &u));
    assert_int_equal(t, u);
    assert_true(cvma_time_parse_rfc3339("2016-12-31T18:59:60-05:00", &t)); /* the same, at -5 */
    assert_int_equal(t, u);
    assert_false(cvma_time_parse_rfc3339("2016-12-31T23:59:60+01:00", &t));
    assert_false(cvma_time_parse_rfc3339("2016-12-31T23:59:61Z", &t));
    assert_false(cvma_time_parse_rfc3339("0000-01-01T00:00:00Z", &t));
    /* a bare date is no date-time (it was taken as midnight UTC) */
    assert_false(cvma_time_parse_rfc3339("2026-12-07", &t));
    assert_true(cvma_time_parse_rfc3339("2026-12-07 00:00:00Z", &t));
    assert_false(cvma_time_parse_rfc3339("1969-12-31T23:59:59Z", &t));
    assert_true(cvma_time_parse_rfc3339("1970-01-01T00:00:00Z", &t));
    assert_int_equal(t, 0);
    /* the range is the instant's, not the written date's */
    assert_false(cvma_time_parse_rfc3339("1970-01-01T00:00:00+01:00", &t)); /* 1969 in UTC */
    assert_true(cvma_time_parse_rfc3339("1969-12-31T23:30:00-01:00", &t));  /* 00:30 UTC */
    assert_int_equal(t, 1800);
    assert_false(cvma_time_parse_rfc3339("9999-12-31T23:59:59-00:01", &t)); /* year 10000 */
    assert_false(cvma_time_parse_rfc3339("9999-12-31T23:59:60Z", &t));
    assert_true(cvma_time_parse_rfc3339("9999-12-31T23:59:59Z", &t));
    cvma_time_format(t, out, sizeof out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
    cvma_time_format(t + 1, out, sizeof out); /* year 10000 */
    assert_string_equal(out, "invalid-time");
    cvma_time_format((time_t)-60000000000LL, out, sizeof out); /* year 68: three digits short */
    assert_string_equal(out, "invalid-time");
    cvma_time_format((time_t)-30610224000LL, out, sizeof out); /* 1000-01-01, four digits */
    assert_string_equal(out, "1000-01-01T00:00:00Z");
}

/* Decimal numbers: digits only, within bounds, no overflow; what strtoul skips is refused. */
static void test_dec_u64(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_true(cvma_dec_u64("0", 1, 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(cvma_dec_u64("18446744073709551615", 20, 0, UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
    v = 7;
    assert_false(cvma_dec_u64("18446744073709551616", 20, 0, UINT64_MAX, &v)); /* 2^64 */
    assert_false(cvma_dec_u64("", 0, 0, 10, &v));
    assert_false(cvma_dec_u64("+5", 2, 0, 10, &v));
    assert_false(cvma_dec_u64("-0", 2, 0, 10, &v));
    assert_false(cvma_dec_u64(" 5", 2, 0, 10, &v));
    assert_false(cvma_dec_u64("5 ", 2, 0, 10, &v));
    assert_false(cvma_dec_u64("0x5", 3, 0, 10, &v));
    assert_false(cvma_dec_u64("11", 2, 0, 10, &v));       /* above hi */
    assert_false(cvma_dec_u64("0", 1, 1, 10, &v));        /* below lo */
    assert_int_equal(v, 7);                               /* untouched when refused */
    assert_true(cvma_dec_u64("6379/2", 4, 1, 65535, &v)); /* only the n bytes are read */
    assert_int_equal(v, 6379);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_mkdir_p),
            cmocka_unit_test(test_private_dir_refuses_a_directory_others_can_write),
            cmocka_unit_test(test_private_dir_refuses_parents_others_can_write),
            cmocka_unit_test(test_file_read_regular_never_waits),
            cmocka_unit_test(test_file_read_secret_never_waits),
            cmocka_unit_test(test_file_create_exclusive),
            cmocka_unit_test(test_file_write_atomic_mode),
            cmocka_unit_test(test_file_write_atomic_replaces_symlink),
            cmocka_unit_test(test_hex_decode_lower),
            cmocka_unit_test(test_reader_be_and_empty),
            cmocka_unit_test(test_reader_text_helpers),
            cmocka_unit_test(test_pcr_index_one_spelling),
            cmocka_unit_test(test_dec_u64),
            cmocka_unit_test(test_tu_rmtree_needs_no_shell),
            cmocka_unit_test(test_text_escape),
            cmocka_unit_test(test_rfc3339_parse_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
