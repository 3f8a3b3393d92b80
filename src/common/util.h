/*
 * Common vocabulary of cvmattest: the status every function returns, owned and borrowed
 * byte buffers, and a few attributes. Status says whether a function ran; reasons
 * (common/reasons.h) say why evidence was refused.
 */
#ifndef CVMA_COMMON_UTIL_H
#define CVMA_COMMON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cvmattest/cvmattest.h"

#define CVMA_MUST_USE     __attribute__((warn_unused_result))
#define CVMA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CVMA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* enum cvma_status (did the function run?) and cvma_status_exit_code: the public header. */

/* Borrowed bytes: never freed through this struct. */
struct cvma_span {
    const uint8_t *p;
    size_t len;
};

/* Owned bytes: freed by cvma_buf_free. */
struct cvma_buf {
    uint8_t *p;
    size_t len;
};

void cvma_buf_free(struct cvma_buf *b);

/*
 * Opens path (created with mode when missing, never through a symbolic link) and takes an
 * flock on it, exclusive or shared, waiting for it; *fd_out is the locked descriptor (closing
 * it unlocks). Returns 0, or an errno value: EINVAL when path is not a regular file (a FIFO or
 * a device, whose open or lock could wait), else open's or flock's.
 */
CVMA_MUST_USE int cvma_lock_file(const char *path, bool exclusive, mode_t mode, int *fd_out);

/*
 * Opens a state file kept in a private directory (the registry's rollback state, the registry
 * log's newest checkpoint) to read it: never through a symbolic link (O_NOFOLLOW: ELOOP), and
 * a regular file only (EINVAL for a FIFO, a device or a directory, opened O_NONBLOCK so that
 * the open itself never waits). A link would let a read be someone else's file and a write
 * replace the link. Returns 0 with *fd_out open (the caller closes it), or an errno value
 * (ENOENT: there is none), *fd_out then -1.
 */
CVMA_MUST_USE int cvma_state_file_open(const char *path, int *fd_out);

/* cvma_state_file_open, then the whole file (at most max_len bytes) into *out (cleared first):
 * 0, or an errno value (ENOENT: there is none; ELOOP: a symbolic link; EINVAL: not a regular
 * file; EFBIG: larger than max_len; ENOMEM). */
CVMA_MUST_USE int cvma_state_file_read(const char *path, size_t max_len, struct cvma_buf *out);
/* Words an errno of cvma_state_file_open or cvma_state_file_read into buf: ELOOP is a link,
 * the rest as cvma_file_read_why says. Returns buf. */
const char *cvma_state_file_why(int e, size_t max_len, char *buf, size_t buf_len);

/*
 * Reads fd to its end, at most max_len bytes, into *out (cleared first; the caller closes fd).
 * Returns 0, or an errno value: EFBIG when there is more than max_len, ENOMEM, or read's.
 */
CVMA_MUST_USE int cvma_fd_read_all(int fd, size_t max_len, struct cvma_buf *out);

/*
 * Reads a whole file (at most max_len bytes) into *out. Returns CVMA_OK, CVMA_E_IO (missing,
 * unreadable, or larger than max_len) or CVMA_E_NOMEM. *out is cleared first. A file that is
 * not a regular one (a named pipe, /dev/stdin, a terminal) is read as it comes: the open of a
 * FIFO waits for its writer, as the user who named it expects. After CVMA_E_IO errno says why:
 * open's, fstat's or read's, EFBIG (larger than max_len) or, for the readers of regular files
 * only below, EINVAL (not a regular file); cvma_file_read_strerror words it.
 */
CVMA_MUST_USE enum cvma_status cvma_file_read(const char *path, size_t max_len,
                                              struct cvma_buf *out);
/* The same for a regular file only: a FIFO, a device or a directory is CVMA_E_IO at once
 * (errno EINVAL), never a read that waits (files found in a directory, such as collateral). */
CVMA_MUST_USE enum cvma_status cvma_file_read_regular(const char *path, size_t max_len,
                                                      struct cvma_buf *out);
/*
 * The same as cvma_file_read_regular for a file that holds a secret (a password, a private
 * key): a regular file only, so that a FIFO named by mistake or by someone else cannot hold
 * a service waiting at start. Every block it allocated is wiped (OPENSSL_cleanse) before it
 * is freed, on every path: a buffer grown (copied, never realloc'd, which could free the old
 * block unwiped), a file larger than max_len, a read error. On CVMA_OK the caller owns *out
 * and wipes it with cvma_buf_free_secret.
 */
CVMA_MUST_USE enum cvma_status cvma_file_read_secret(const char *path, size_t max_len,
                                                     struct cvma_buf *out);
/* Why a file reader above returned CVMA_E_IO, from the errno it left: "not a regular file"
 * (EINVAL), "larger than allowed" (EFBIG), else strerror's words. */
const char *cvma_file_read_strerror(int e);
/* The same in words that give the limit: "over max_len bytes" for EFBIG (a file that never
 * ends, /dev/zero, says so too), written into buf (buf_len > 0), which is returned. */
const char *cvma_file_read_why(int e, size_t max_len, char *buf, size_t buf_len);
/* Wipes b's bytes (OPENSSL_cleanse), then cvma_buf_free. b->p NULL: nothing to do. */
void cvma_buf_free_secret(struct cvma_buf *b);
/* The same for a secret held as a C string (a password, a key's text): wiped to its NUL, then
 * freed. NULL: nothing to do. */
void cvma_str_free_secret(char *s);

/*
 * Creates path with mode (O_CREAT | O_EXCL, the umask applies: never over an existing file,
 * never through a symbolic link) holding p[0..len), written whole and fsynced. Returns 0, or
 * an errno value: EEXIST when the name is taken, EIO for a write that wrote nothing, else
 * open's, write's, fsync's or close's; on any error the file it created is removed again.
 */
CVMA_MUST_USE int cvma_file_create_exclusive(const char *path, const uint8_t *p, size_t len,
                                             mode_t mode);

/*
 * Writes bytes to path atomically: a fresh temporary file in the same directory (created
 * exclusively, never through a symlink), fsync, rename over path. Readers see the old file or
 * the new one, never a part. cvma_file_write_atomic creates it with mode 0644,
 * cvma_file_write_atomic_mode with mode (0600 for private keys; the umask applies).
 * A symlink at path is replaced, never written through. cvma_file_write_atomic_nosync skips
 * the fsync: readers still see the old file or the new one, but after a crash the new one may
 * be lost; for many files that can be made again (a registry's proofs, a million of them).
 * The durable ones also fsync the directory after the rename, so the new name survives a
 * power loss too. CVMA_OK, CVMA_E_IO (nothing left behind, except when that last fsync
 * fails: path then holds the new bytes, perhaps not durably; errno says why) or CVMA_E_NOMEM
 * (before the rename only: path is then as it was).
 */
CVMA_MUST_USE enum cvma_status cvma_file_write_atomic(const char *path, const uint8_t *p,
                                                      size_t len);
CVMA_MUST_USE enum cvma_status cvma_file_write_atomic_mode(const char *path, const uint8_t *p,
                                                           size_t len, mode_t mode);
CVMA_MUST_USE enum cvma_status cvma_file_write_atomic_nosync(const char *path, const uint8_t *p,
                                                             size_t len, mode_t mode);

/* fsync of a directory (its entries: names created, renamed or removed in it). CVMA_OK or
 * CVMA_E_IO (it cannot be opened as a directory, or the fsync failed). */
CVMA_MUST_USE enum cvma_status cvma_dir_fsync(const char *dir);

/*
 * mkdir -p: creates dir and every missing parent, each with mode (the umask applies;
 * existing directories keep theirs). CVMA_OK when dir is a directory afterwards (also when
 * it already was); CVMA_E_USAGE for an empty path, CVMA_E_IO (a component is not a directory
 * or cannot be created), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_mkdir_p(const char *dir, mode_t mode);

/*
 * A directory for what the verifier believes as it finds it (cache entries, rollback floors):
 * when create is true, made as cvma_mkdir_p(dir, 0700) makes it; then, created or found, it
 * must be a directory itself (not a symbolic link: lstat) owned by the effective user or by
 * root, with no write bit for group or others. Whoever else can write a directory can replace
 * what is in it. So must every directory above it (as realpath resolves them: a symbolic link
 * among them leads to what is checked), except that one writable by others may be sticky
 * (/tmp): whoever can write a parent can rename dir away and put another in its place.
 * CVMA_OK; CVMA_E_IO, with why saying which of these dir fails and naming it ("... cannot be
 * created", "... is writable by group or others (mode 0777)", "...: its parent P is writable
 * by group or others (mode 0777) and not sticky"); CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_private_dir(const char *dir, bool create, char *why,
                                                size_t why_len);

/* Formats a one-line error message into err (err may be NULL or err_len 0: nothing), its
 * control bytes escaped (cvma_text_escape): it may quote a name or text from evidence, a peer
 * or a file. cvma_verrf: the same with a va_list. */
void cvma_errf(char *err, size_t err_len, const char *fmt, ...) CVMA_PRINTF(3, 4);
void cvma_verrf(char *err, size_t err_len, const char *fmt, va_list ap) CVMA_PRINTF(3, 0);

/* Joins dir and name into a freshly allocated path; NULL on allocation failure. */
char *cvma_path_join(const char *dir, const char *name);

/* The length (1 to 4) of the UTF-8 sequence that starts p[0..n), n > 0, as jansson accepts
 * text (shortest form, no surrogates, at most U+10FFFF); 0 when it is not one. */
size_t cvma_utf8_seq(const uint8_t *p, size_t n);
/* The same, with *cp set to the character's code point (0 when it is not one). */
size_t cvma_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);
/* cp (at most U+10FFFF, no surrogate) as UTF-8 into d (room for 4 bytes); its length. */
size_t cvma_utf8_encode(char *d, unsigned cp);

/*
 * Text that may hold bytes from evidence, a peer or a request, made safe to show on a terminal
 * or in a log. cvma_text_plain_len: how many bytes of p[0..n) (n > 0) stay as they are, the
 * UTF-8 character they begin, or 0 when the first byte is to be written as \xNN: a C0 control
 * (newline, ESC...), DEL, a byte that does not begin a UTF-8 character, a byte of the C1
 * controls U+0080..U+009F or of U+2028 / U+2029 (which some readers take for line breaks),
 * and with backslash set the backslash (a log, where the escapes must be unambiguous).
 */
size_t cvma_text_plain_len(const uint8_t *p, size_t n, bool backslash);
/* Appends s[0..n), escaped so, to out[len..cap); stops before a character or escape that does
 * not fit (no NUL written). The new length. */
size_t cvma_text_escape_into(char *out, size_t cap, size_t len, const char *s, size_t n,
                             bool backslash);
/* True when s holds a byte cvma_text_escape would rewrite. */
bool cvma_text_needs_escape(const char *s);
/* Copies in to out escaped (the backslash kept: text for people), always NUL-terminated and
 * cut at a whole character or escape when out is full. Returns out. in and out must not
 * overlap. Reason details (common/verdict.c) and errors (cvma_errf) are made so. */
char *cvma_text_escape(const char *in, char *out, size_t out_size);

/*
 * A number written in s[0..n) as decimal digits and nothing else: no sign, space or "0x"
 * that strtoul would skip or take. True and *out set when it is one and within lo..hi;
 * false (*out untouched) otherwise, an overflow of 64 bits included.
 */
CVMA_MUST_USE bool cvma_dec_u64(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out);

/*
 * A PCR (or RTMR) index as the project's files name it: "0".."99" in decimal digits, no sign,
 * space, "0x" or leading zero ("07" is not 7: two spellings of one register would let a file
 * give it twice). True and *out set when s[0..n) is one and below count.
 */
CVMA_MUST_USE bool cvma_pcr_index(const char *s, size_t n, unsigned count, unsigned *out);

#endif
