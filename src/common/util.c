#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/reader.h"

int cvma_status_exit_code(enum cvma_status st)
{
    switch (st) {
    case CVMA_OK:
        return 0;
    case CVMA_REJECTED:
        return 1;
    case CVMA_UNDECIDED:
        return 3;
    case CVMA_E_USAGE:
    case CVMA_E_IO:
    case CVMA_E_NOMEM:
    case CVMA_E_INTERNAL:
        return 2;
    }
    return 2;
}

void cvma_buf_free(struct cvma_buf *b)
{
    if (b == NULL) {
        return;
    }
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

/* open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode) of a regular file only: 0 with
 * *fd_out open, or an errno value (EINVAL: not a regular file; ELOOP: a symbolic link). */
static int open_regular_nofollow(const char *path, int flags, mode_t mode, int *fd_out)
{
    struct stat sb;
    int fd;

    *fd_out = -1;
    do {
        fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return errno;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return EINVAL;
    }
    *fd_out = fd;
    return 0;
}

int cvma_lock_file(const char *path, bool exclusive, mode_t mode, int *fd_out)
{
    int fd, e;

    *fd_out = -1;
    if ((e = open_regular_nofollow(path, (exclusive ? O_RDWR : O_RDONLY) | O_CREAT, mode, &fd)) !=
        0) {
        return e;
    }
    while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR) {
            e = errno;
            close(fd);
            return e;
        }
    }
    *fd_out = fd;
    return 0;
}

/* see common/util.h */
int cvma_state_file_open(const char *path, int *fd_out)
{
    return open_regular_nofollow(path, O_RDONLY, 0, fd_out);
}

/* see common/util.h */
int cvma_state_file_read(const char *path, size_t max_len, struct cvma_buf *out)
{
    int fd = -1, e = cvma_state_file_open(path, &fd);
    out->p = NULL;
    out->len = 0;
    if (e == 0) {
        e = cvma_fd_read_all(fd, max_len, out);
        close(fd);
    }
    return e;
}

/* see common/util.h */
const char *cvma_state_file_why(int e, size_t max_len, char *buf, size_t buf_len)
{
    if (e == ELOOP) {
        snprintf(buf, buf_len, "a symbolic link (a state file is never opened through one)");
        return buf;
    }
    return cvma_file_read_why(e, max_len, buf, buf_len);
}

/* cvma_fd_read_all; secret: every block wiped before it is freed (cvma_file_read_secret). */
static int read_all(int fd, size_t max_len, bool secret, struct cvma_buf *out)
{
    uint8_t *p = NULL;
    size_t cap = 0, len = 0;
    int err = 0;

    out->p = NULL;
    out->len = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *np;
            if (ncap > max_len + 1) {
                ncap = max_len + 1;
            }
            if (ncap <= cap) {
                err = EFBIG; /* larger than max_len */
                goto out;
            }
            if (secret) {
                /* Copied, not realloc'd: realloc may move the bytes and free the old block
                 * as it is. */
                if ((np = malloc(ncap)) == NULL) {
                    err = ENOMEM;
                    goto out;
                }
                if (len > 0) {
                    memcpy(np, p, len);
                }
                struct cvma_buf old = {p, cap}; /* the whole block, not only what was read */
                cvma_buf_free_secret(&old);
            } else if ((np = realloc(p, ncap)) == NULL) {
                err = ENOMEM;
                goto out;
            }
            p = np;
            cap = ncap;
        }
        ssize_t n = read(fd, p + len, cap - len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            err = errno;
            goto out;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    if (len > max_len) {
        err = EFBIG;
        goto out;
    }
    out->p = p;
    out->len = len;
    p = NULL;
out:
    if (secret) {
        struct cvma_buf rest = {p, cap};
        cvma_buf_free_secret(&rest);
    } else {
        free(p);
    }
    return err;
}

int cvma_fd_read_all(int fd, size_t max_len, struct cvma_buf *out)
{
    return read_all(fd, max_len, false, out);
}

static enum cvma_status file_read(const char *path, size_t max_len, bool regular, bool secret,
                                  struct cvma_buf *out)
{
    int fd, err = 0;
    struct stat sb;

    out->p = NULL;
    out->len = 0;
    /* open and read, not stdio: fopen allocates, and a stream whose buffer cannot be
     * allocated reads a byte at a time, so out of memory would pass unseen or as absence.
     * The readers of regular files open with O_NONBLOCK, so that a FIFO named where a regular
     * file belongs is refused at once instead of waiting for a writer (no effect on a regular
     * file); the plain reader waits, as for any named pipe the user gave on purpose. */
    bool only_regular = regular || secret;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC | (only_regular ? O_NONBLOCK : 0));
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return errno == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO; /* errno: open's */
    }
    if (fstat(fd, &sb) != 0) {
        err = errno;
    } else if (only_regular && !S_ISREG(sb.st_mode)) {
        err = EINVAL; /* a FIFO, a device, a directory: never a read that waits */
    }
    if (err == 0) {
        err = read_all(fd, max_len, secret, out);
    }
    close(fd);
    errno = err;
    return err == 0 ? CVMA_OK : err == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO;
}

enum cvma_status cvma_file_read(const char *path, size_t max_len, struct cvma_buf *out)
{
    return file_read(path, max_len, false, false, out);
}

enum cvma_status cvma_file_read_regular(const char *path, size_t max_len, struct cvma_buf *out)
{
    return file_read(path, max_len, true, false, out);
}

/* see common/util.h */
enum cvma_status cvma_file_read_secret(const char *path, size_t max_len, struct cvma_buf *out)
{
    return file_read(path, max_len, false, true, out);
}

/* see common/util.h */
const char *cvma_file_read_strerror(int e)
{
    switch (e) {
    case EINVAL:
        return "not a regular file";
    case EFBIG:
        return "larger than allowed";
    default:
        return strerror(e);
    }
}

/* see common/util.h */
const char *cvma_file_read_why(int e, size_t max_len, char *buf, size_t buf_len)
{
    if (e == EFBIG) {
        snprintf(buf, buf_len, "over %zu bytes", max_len);
    } else {
        snprintf(buf, buf_len, "%s", cvma_file_read_strerror(e));
    }
    return buf;
}

/* see common/util.h */
void cvma_buf_free_secret(struct cvma_buf *b)
{
    if (b != NULL && b->p != NULL) {
        OPENSSL_cleanse(b->p, b->len);
    }
    cvma_buf_free(b);
}

void cvma_str_free_secret(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

enum cvma_status cvma_dir_fsync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return CVMA_E_IO;
    }
    bool ok = fsync(fd) == 0;
    return close(fd) == 0 && ok ? CVMA_OK : CVMA_E_IO;
}

/* fsync of the directory that holds path (its entries: a rename or a new name in it). buf
 * (at least strlen(path) + 1 bytes, the caller's) holds the directory's name: nothing is
 * allocated, as this runs after the rename, when out of memory could no longer mean "nothing
 * changed". */
static enum cvma_status parent_fsync(const char *path, char *buf)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return cvma_dir_fsync(".");
    }
    if (slash == path) {
        return cvma_dir_fsync("/");
    }
    memcpy(buf, path, (size_t)(slash - path));
    buf[slash - path] = '\0';
    return cvma_dir_fsync(buf);
}

/* Writes p[0..len) to fd whole, a write interrupted by a signal retried. 0, or an errno
 * value: write's, or EIO for a write that wrote nothing (which would else be retried for
 * ever). */
static int write_all(int fd, const uint8_t *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (n == 0) {
            return EIO;
        }
        off += (size_t)n;
    }
    return 0;
}

/* see common/util.h */
int cvma_file_create_exclusive(const char *path, const uint8_t *p, size_t len, mode_t mode)
{
    int fd, e;
    do {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return errno;
    }
    e = write_all(fd, p, len);
    if (e == 0 && fsync(fd) != 0) {
        e = errno;
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(path); /* created here, by this call: nothing of it is left */
    }
    return e;
}

/* cvma_file_write_atomic_mode, with or without the fsync (util.h). */
static enum cvma_status write_atomic(const char *path, const uint8_t *p, size_t len, mode_t mode,
                                     bool durable)
{
    enum cvma_status st = CVMA_E_IO;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 48);
    int fd = -1;

    if (tmp == NULL) {
        return CVMA_E_NOMEM;
    }
    /* A fresh name, created exclusively and never through a symlink: a directory others can
     * write to cannot redirect the write. */
    for (int attempt = 0; fd < 0 && attempt < 16; attempt++) {
        unsigned long r = 0;
        /* (getrandom, not stdio: a FILE is an allocation, and one that failed would go
         * unnoticed; the exclusive create is what makes the name safe). Without it (a pool
         * not ready at early boot, a seccomp filter) the time and the attempt make the names
         * differ, so that one stale file of a reused PID cannot block every write. */
        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            r = (unsigned long)ts.tv_nsec ^ ((unsigned long)ts.tv_sec << 20) ^
                ((unsigned long)attempt * 0x9e3779b9UL);
        }
        /* The final name with a suffix, its last component cut to 200 bytes first so that
         * the temporary name fits NAME_MAX (255) whenever the final one does. */
        const char *base = strrchr(path, '/');
        size_t dlen = base != NULL ? (size_t)(base + 1 - path) : 0;
        int blen = (int)(plen - dlen > 200 ? 200 : plen - dlen);
        snprintf(tmp, plen + 48, "%.*s%.*s.tmp.%ld.%08lx", (int)dlen, path, blen, path + dlen,
                 (long)getpid(), r & 0xffffffffUL);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST) {
            break;
        }
    }
    if (fd < 0) {
        free(tmp);
        return CVMA_E_IO;
    }
    int e = write_all(fd, p, len);
    if (e != 0) {
        errno = e;
        goto out;
    }
    if (durable && fsync(fd) != 0) {
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        goto out;
    }
    /* The rename is durable only once the directory's entry is: without this the file can
     * come back as it was before after a power loss (a witness's or a verifier's state moving
     * backwards). tmp is gone by now: the error leaves path new, but perhaps not durable. */
    st = durable ? parent_fsync(path, tmp) : CVMA_OK;
    free(tmp);
    return st;
out:
    e = errno; /* the failure's, not the clean-up's: callers say why */
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    free(tmp);
    errno = e;
    return st;
}

enum cvma_status cvma_file_write_atomic(const char *path, const uint8_t *p, size_t len)
{
    return cvma_file_write_atomic_mode(path, p, len, 0644);
}

enum cvma_status cvma_file_write_atomic_mode(const char *path, const uint8_t *p, size_t len,
                                             mode_t mode)
{
    return write_atomic(path, p, len, mode, true);
}

enum cvma_status cvma_file_write_atomic_nosync(const char *path, const uint8_t *p, size_t len,
                                               mode_t mode)
{
    return write_atomic(path, p, len, mode, false);
}

enum cvma_status cvma_mkdir_p(const char *dir, mode_t mode)
{
    enum cvma_status st = CVMA_E_IO;
    size_t len = strlen(dir);
    char *p = NULL;
    struct stat sb;

    if (len == 0) {
        return CVMA_E_USAGE;
    }
    if ((p = malloc(len + 1)) == NULL) {
        return CVMA_E_NOMEM;
    }
    memcpy(p, dir, len + 1);
    /* Create each prefix that ends before a '/', then the whole path. */
    for (size_t i = 1; i <= len; i++) {
        if (i < len && p[i] != '/') {
            continue;
        }
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            goto out;
        }
        p[i] = c;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        goto out;
    }
    st = CVMA_OK;
out:
    free(p);
    return st;
}

/* see common/util.h */
/* One directory above dir (path): owned by the effective user or root, and writable by no
 * one else unless sticky. */
static enum cvma_status private_parent(const char *dir, const char *path, char *why, size_t why_len)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        cvma_errf(why, why_len, "%s: its parent %s: %s", dir, path, strerror(errno));
        return CVMA_E_IO;
    }
    if (sb.st_uid != geteuid() && sb.st_uid != 0) {
        cvma_errf(why, why_len,
                  "%s: its parent %s is owned by uid %lu, not by this user (uid %lu) or root", dir,
                  path, (unsigned long)sb.st_uid, (unsigned long)geteuid());
        return CVMA_E_IO;
    }
    if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (sb.st_mode & S_ISVTX) == 0) {
        cvma_errf(why, why_len,
                  "%s: its parent %s is writable by group or others (mode %04o) and not sticky",
                  dir, path, (unsigned)(sb.st_mode & 07777));
        return CVMA_E_IO;
    }
    return CVMA_OK;
}

/* Checks p's parents one by one, from its own up to "/", cutting p (writable) at each '/'.
 * links: p is the path as given, whose components may be symbolic links: each must be owned
 * by the effective user or root (in a sticky directory its owner could still replace it). */
static enum cvma_status private_parents_of(const char *dir, char *p, bool links, char *why,
                                           size_t why_len)
{
    enum cvma_status st = CVMA_OK;
    for (char *slash = strrchr(p, '/'); st == CVMA_OK && slash != NULL; slash = strrchr(p, '/')) {
        bool root = slash == p;
        slash[root ? 1 : 0] = '\0'; /* the parent of what is left; "/" last */
        struct stat lb;
        if (links && lstat(p, &lb) == 0 && S_ISLNK(lb.st_mode) && lb.st_uid != geteuid() &&
            lb.st_uid != 0) {
            cvma_errf(why, why_len,
                      "%s: its parent %s is a symbolic link owned by uid %lu, not by this user "
                      "(uid %lu) or root",
                      dir, p, (unsigned long)lb.st_uid, (unsigned long)geteuid());
            st = CVMA_E_IO;
            break;
        }
        st = private_parent(dir, p, why, why_len);
        if (root) {
            break;
        }
    }
    return st;
}

/*
 * The directories above dir: those the kernel resolves it through (realpath: a symbolic link
 * among them is followed, and the directories it leads to are checked), and those its path
 * names as given (made absolute), so that a symbolic link in a directory others can write,
 * which they could point elsewhere, is refused too. Each owned by the effective user or
 * root, and writable by no one else unless sticky (/tmp: there no one else may rename or
 * remove what is not theirs). Whoever may write one of them may rename dir away (or repoint
 * a link to it) and put one of theirs in its place.
 */
static enum cvma_status private_ancestors(const char *dir, char *why, size_t why_len)
{
    char *real = realpath(dir, NULL), *given = NULL;
    if (real == NULL) {
        if (errno == ENOMEM) {
            cvma_errf(why, why_len, "out of memory");
            return CVMA_E_NOMEM;
        }
        cvma_errf(why, why_len, "%s: %s", dir, strerror(errno));
        return CVMA_E_IO;
    }
    enum cvma_status st = private_parents_of(dir, real, false, why, why_len);
    if (st == CVMA_OK) {
        char cwd[4096];
        if (dir[0] == '/') {
            given = strdup(dir);
        } else if (getcwd(cwd, sizeof cwd) != NULL) {
            given = cvma_path_join(cwd, dir);
        } else {
            cvma_errf(why, why_len, "%s: the current directory: %s", dir, strerror(errno));
            st = CVMA_E_IO;
        }
        if (st == CVMA_OK && given == NULL) {
            cvma_errf(why, why_len, "out of memory");
            st = CVMA_E_NOMEM;
        }
    }
    if (st == CVMA_OK) {
        /* trailing slashes name dir itself, not a parent */
        size_t n = strlen(given);
        while (n > 1 && given[n - 1] == '/') {
            given[--n] = '\0';
        }
        st = private_parents_of(dir, given, true, why, why_len);
    }
    free(given);
    free(real);
    return st;
}

enum cvma_status cvma_private_dir(const char *dir, bool create, char *why, size_t why_len)
{
    struct stat sb;

    if (create) {
        enum cvma_status st = cvma_mkdir_p(dir, 0700);
        if (st == CVMA_E_NOMEM) {
            cvma_errf(why, why_len, "out of memory");
            return st;
        }
        if (st != CVMA_OK) {
            cvma_errf(why, why_len, "%s cannot be created", dir);
            return CVMA_E_IO;
        }
    }
    /* lstat of "link/" would follow the link: the name without its trailing slashes */
    char *bare = strdup(dir);
    if (bare == NULL) {
        cvma_errf(why, why_len, "out of memory");
        return CVMA_E_NOMEM;
    }
    for (size_t n = strlen(bare); n > 1 && bare[n - 1] == '/'; n--) {
        bare[n - 1] = '\0';
    }
    int lr = lstat(bare, &sb);
    free(bare);
    if (lr != 0) {
        cvma_errf(why, why_len, "%s: %s", dir, strerror(errno));
        return CVMA_E_IO;
    }
    if (S_ISLNK(sb.st_mode)) {
        cvma_errf(why, why_len, "%s is a symbolic link, not a directory of its own", dir);
        return CVMA_E_IO;
    }
    if (!S_ISDIR(sb.st_mode)) {
        cvma_errf(why, why_len, "%s is not a directory", dir);
        return CVMA_E_IO;
    }
    if (sb.st_uid != geteuid() && sb.st_uid != 0) {
        cvma_errf(why, why_len, "%s is owned by uid %lu, not by this user (uid %lu) or root", dir,
                  (unsigned long)sb.st_uid, (unsigned long)geteuid());
        return CVMA_E_IO;
    }
    if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        cvma_errf(why, why_len, "%s is writable by group or others (mode %04o)", dir,
                  (unsigned)(sb.st_mode & 07777));
        return CVMA_E_IO;
    }
    return private_ancestors(dir, why, why_len);
}

char *cvma_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, dir, a);
    size_t off = a;
    if (a > 0 && dir[a - 1] != '/') {
        p[off++] = '/';
    }
    memcpy(p + off, name, b + 1);
    return p;
}

void cvma_errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cvma_verrf(err, err_len, fmt, ap);
    va_end(ap);
}

void cvma_verrf(char *err, size_t err_len, const char *fmt, va_list ap)
{
    if (err == NULL || err_len == 0) {
        return;
    }
    vsnprintf(err, err_len, fmt, ap);
    /* An error may quote a name or text from evidence or a peer: no control bytes leave it.
     * (The copy is made only then; when it cannot be, such bytes become '?'.) */
    if (cvma_text_needs_escape(err)) {
        char *copy = strdup(err);
        if (copy != NULL) {
            cvma_text_escape(copy, err, err_len);
            free(copy);
        } else {
            for (char *c = err; *c; c++) {
                if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
                    *c = '?';
                }
            }
        }
    }
}

/* see common/util.h */
size_t cvma_text_plain_len(const uint8_t *p, size_t n, bool backslash)
{
    if (p[0] < 0x20 || p[0] == 0x7f || (backslash && p[0] == '\\')) {
        return 0; /* C0 controls, DEL (and for logs the backslash) */
    }
    size_t k = cvma_utf8_seq(p, n);
    if ((k == 2 && p[0] == 0xc2 && p[1] < 0xa0) ||
        (k == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))) {
        return 0; /* U+0080..U+009F (NEL, CSI, OSC...), U+2028 and U+2029 */
    }
    return k;
}

/* see common/util.h */
size_t cvma_text_escape_into(char *out, size_t cap, size_t len, const char *s, size_t n,
                             bool backslash)
{
    static const char hexd[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        size_t k = cvma_text_plain_len(p + i, n - i, backslash);
        if (k == 0) {
            if (cap - len < 4) {
                break;
            }
            out[len++] = '\\';
            out[len++] = 'x';
            out[len++] = hexd[p[i] >> 4];
            out[len++] = hexd[p[i] & 0xf];
            i++;
            continue;
        }
        if (cap - len < k) {
            break;
        }
        memcpy(out + len, p + i, k);
        len += k;
        i += k;
    }
    return len;
}

/* see common/util.h */
bool cvma_text_needs_escape(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = cvma_text_plain_len(p + i, n - i, false);
        if (k == 0) {
            return true;
        }
        i += k;
    }
    return false;
}

/* see common/util.h */
char *cvma_text_escape(const char *in, char *out, size_t out_size)
{
    if (out_size > 0) {
        out[cvma_text_escape_into(out, out_size - 1, 0, in, strlen(in), false)] = '\0';
    }
    return out;
}

/* see common/util.h */
size_t cvma_utf8_seq(const uint8_t *p, size_t n)
{
    uint32_t cp;
    return cvma_utf8_decode(p, n, &cp);
}

/* see common/util.h */
size_t cvma_utf8_encode(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | cp >> 12);
        d[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | cp >> 18);
    d[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    d[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t cvma_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t v;
    *cp = 0;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07u;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
        v = (v << 6) | (p[i] & 0x3Fu);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (len == 3 && v < 0x800) ||
        (len == 4 && v < 0x10000)) {
        return 0;
    }
    *cp = v;
    return len;
}

/* see common/util.h */
bool cvma_dec_u64(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

bool cvma_pcr_index(const char *s, size_t n, unsigned count, unsigned *out)
{
    struct cvma_reader r;
    uint8_t c;
    unsigned x = 0;
    cvma_reader_init(&r, (const uint8_t *)s, n);
    if (n == 0 || n > 2 || (n == 2 && cvma_reader_starts_with(&r, "0"))) {
        return false;
    }
    while (cvma_reader_u8(&r, &c)) {
        if (c < '0' || c > '9') {
            return false;
        }
        x = x * 10 + (unsigned)(c - '0');
    }
    if (x >= count) {
        return false;
    }
    *out = x;
    return true;
}
