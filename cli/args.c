#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "collateral/http.h"
#include "common/hex.h"

/* The longest option table a scan checks (the others' options are not checked for conflicts). */
#define SCAN_MAX 64

/* The scan in progress: its table (to name the options an ambiguous abbreviation matches),
 * the options given so far, the first option given of each CVMA_CLI_ONE_OF group (index + 1),
 * and the options a ':' or CVMA_CLI_CONFLICT is about. */
static const struct option *scan_opts;
static bool scan_seen[SCAN_MAX];
static int scan_group[8];
static const struct option *bad_opt, *bad_other;
static bool bad_dashes; /* ':' for a value taken from the next argument that begins with "--" */
static bool bad_url;    /* ':' for a CVMA_CLI_URL value that is not http:// or https:// */

void cvma_cli_getopt_begin(void)
{
    optind = 0; /* 0, not 1: glibc then forgets any state left by an earlier scan */
    opterr = 0;
    memset(scan_seen, 0, sizeof scan_seen);
    memset(scan_group, 0, sizeof scan_group);
    bad_opt = bad_other = NULL;
    bad_dashes = false;
    bad_url = false;
}

int cvma_cli_getopt(int argc, char **argv, const struct option *opts)
{
    int idx = -1;
    int c;

    scan_opts = opts;
    bad_opt = bad_other = NULL;
    bad_dashes = false;
    bad_url = false;
    c = getopt_long(argc, argv, ":h", opts, &idx);
    if (c == -1 || c == ':' || c == '?' || idx < 0) {
        return c; /* the end, getopt's own errors, or -h */
    }
    const struct option *o = &opts[idx];
    int marks = o->val & CVMA_CLI_MARKS;
    if (o->has_arg == required_argument) {
        /* A value that begins with "--" is refused in both spellings (--opt value and
         * --opt=value are equivalent, DESIGN.md): taken from the next argument it is the next
         * option, a value forgotten. A file of such a name is given as ./--NAME. */
        if ((optarg[0] == '\0' && (marks & CVMA_CLI_EMPTY) == 0) || strncmp(optarg, "--", 2) == 0) {
            bad_opt = o;
            bad_dashes = optarg[0] != '\0';
            return ':';
        }
        /* Collateral is fetched over http:// or https:// only (docs/collateral.md): any other
         * scheme would fail at the first fetch, long after the options were read. */
        if ((marks & CVMA_CLI_URL) != 0 && !cvma_http_base_url_ok(optarg)) {
            bad_opt = o;
            bad_url = true;
            return ':';
        }
        if (idx < SCAN_MAX && scan_seen[idx] && (marks & CVMA_CLI_MANY) == 0) {
            bad_opt = bad_other = o;
            return CVMA_CLI_CONFLICT;
        }
    }
    if (idx < SCAN_MAX) {
        scan_seen[idx] = true;
    }
    int g = (marks >> 18) & 7; /* CVMA_CLI_ONE_OF(g) */
    if (g != 0) {
        if (scan_group[g] != 0 && scan_group[g] != idx + 1) {
            bad_opt = &opts[scan_group[g] - 1];
            bad_other = o;
            return CVMA_CLI_CONFLICT;
        }
        scan_group[g] = idx + 1;
    }
    return o->val & ~CVMA_CLI_MARKS;
}

/* see args.h */
void cvma_cli_err(const char *fmt, ...)
{
    char small[512], *msg = small, *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof small && (msg = malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        (void)vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    size_t len = msg != NULL ? strlen(msg) : 0, cap = 4 * len + 1, o = 0;
    if (msg == NULL || (out = malloc(cap)) == NULL) {
        /* out of memory: what can be said without the message */
        fputs("cvmattest: out of memory writing an error message\n", stderr);
        goto out;
    }
    for (size_t i = 0; i < len;) {
        size_t k = i;
        while (k < len && msg[k] != '\n' && msg[k] != '\t') {
            k++;
        }
        o = cvma_text_escape_into(out, cap, o, msg + i, k - i, false);
        if (k < len) {
            out[o++] = msg[k++];
        }
        i = k;
    }
    (void)fwrite(out, 1, o, stderr); /* one write: stderr is unbuffered */
out:
    free(out);
    if (msg != small) {
        free(msg);
    }
}

/* Prints the options of the scan's table that "--NAME[=...]" abbreviates when there are two
 * or more (getopt_long accepts a prefix of one option only); false otherwise. */
static bool ambiguous(const char *cmd, const char *arg)
{
    const char *name = arg + 2;
    size_t n = strcspn(name, "=");
    size_t matches = 0;
    for (const struct option *o = scan_opts; o != NULL && o->name != NULL; o++) {
        matches += strncmp(o->name, name, n) == 0;
    }
    if (n == 0 || matches < 2) {
        return false;
    }
    cvma_cli_err("cvmattest %s: '--%.*s' is ambiguous: it abbreviates", cmd, (int)n, name);
    for (const struct option *o = scan_opts; o->name != NULL; o++) {
        if (strncmp(o->name, name, n) == 0) {
            cvma_cli_err(" --%s", o->name);
        }
    }
    fputc('\n', stderr);
    return true;
}

static void hint(const char *cmd)
{
    cvma_cli_err("(run 'cvmattest %s --help' for the options)\n", cmd);
}

int cvma_cli_bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    bool is_long = strncmp(arg, "--", 2) == 0;

    if (c == CVMA_CLI_CONFLICT && bad_opt != NULL && bad_opt == bad_other) {
        cvma_cli_err("cvmattest %s: --%s given twice (it takes one value)\n", cmd, bad_opt->name);
    } else if (c == CVMA_CLI_CONFLICT && bad_opt != NULL && bad_other != NULL) {
        cvma_cli_err("cvmattest %s: --%s and --%s exclude each other\n", cmd, bad_opt->name,
                     bad_other->name);
    } else if (c == ':' && bad_opt != NULL && bad_url) {
        /* (a URL with user information is not echoed: it may hold a password) */
        bool secret = optarg != NULL && strchr(optarg, '@') != NULL;
        cvma_cli_err("cvmattest %s: --%s must be an http:// or https:// URL with a host and no "
                     "user information, query or fragment, not '%s'\n",
                     cmd, bad_opt->name,
                     optarg == NULL ? ""
                     : secret       ? "(a URL with user information)"
                                    : optarg);
    } else if (c == ':' && bad_opt != NULL && bad_dashes) {
        cvma_cli_err(
                "cvmattest %s: --%s needs a value, and no value begins with -- ('%s': a file of "
                "such a name is ./--NAME)\n",
                cmd, bad_opt->name, arg);
    } else if (c == ':' && bad_opt != NULL) {
        cvma_cli_err("cvmattest %s: --%s needs a value\n", cmd, bad_opt->name);
    } else if (c == ':') {
        if (is_long) {
            cvma_cli_err("cvmattest %s: %s needs a value\n", cmd, arg);
        } else {
            cvma_cli_err("cvmattest %s: -%c needs a value\n", cmd, optopt);
        }
    } else if (is_long && optopt != 0 && strchr(arg, '=') != NULL) {
        cvma_cli_err("cvmattest %s: %.*s takes no value\n", cmd, (int)(strchr(arg, '=') - arg),
                     arg);
    } else if (is_long && ambiguous(cmd, arg)) {
        /* named above */
    } else if (is_long) {
        cvma_cli_err("cvmattest %s: unknown option '%s'\n", cmd, arg);
    } else {
        cvma_cli_err("cvmattest %s: unknown option '-%c'\n", cmd, optopt);
    }
    hint(cmd);
    return 2;
}

int cvma_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cvma_cli_err("cvmattest %s: %s\n", cmd, msg);
    hint(cmd);
    return 2;
}

/* see args.h */
int cvma_cli_read_error(const char *cmd, const char *what, const char *path, size_t max, int e)
{
    char why[128];
    cvma_cli_err("cvmattest %s: cannot read %s%s'%s': %s\n", cmd, what != NULL ? what : "",
                 what != NULL ? " " : "", path, cvma_file_read_why(e, max, why, sizeof why));
    return 2;
}

/* see args.h */
bool cvma_cli_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    return cvma_dec_u64(s, strlen(s), lo, hi, out);
}

/* see args.h */
bool cvma_cli_hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
    }
    size_t n = strspn(s, "0123456789abcdefABCDEF");
    if (n == 0 || n > 16 || s[n] != '\0') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        v = v << 4 | (unsigned)cvma_hex_nibble((unsigned char)s[i]);
    }
    *out = v;
    return true;
}

/* QEMU's -m SIZE: digits and an optional K, M, G or T (either case; a bare number is MiB), in
 * bytes; not 0, not above 2^64 - 1. false (*out untouched) for anything else. */
static bool mem_size(const char *s, uint64_t *out)
{
    static const char units[] = "KMGT";
    size_t n = strspn(s, "0123456789");
    unsigned shift = 20; /* a bare number: MiB, as QEMU's -m */
    uint64_t v = 0;
    char digits[24];

    if (n == 0 || n >= sizeof digits) {
        return false;
    }
    if (s[n] != '\0') {
        /* s[n] is no NUL here, so neither is its upper case: strchr finds a unit or nothing */
        const char *u = s[n + 1] == '\0' ? strchr(units, toupper((unsigned char)s[n])) : NULL;
        if (u == NULL) {
            return false;
        }
        shift = 10u * (unsigned)(u - units + 1);
    }
    memcpy(digits, s, n);
    digits[n] = '\0';
    if (!cvma_cli_uint(digits, 1, UINT64_MAX >> shift, &v)) {
        return false;
    }
    *out = v << shift;
    return true;
}

/* see args.h */
int cvma_cli_guest_memory(const char *cmd, const char *s, uint64_t *bytes)
{
    uint64_t n = 0;
    /* Whole MiB, at most 16 TiB: launch gives it to -m and to the memory backend's size alike
     * with a unit, and measure tdx computes from it what that guest has (its initrd address
     * in RTMR 1, its TD HOB in RTMR 0), so both read one rule. */
    if (!mem_size(s, &n) || n % (1u << 20) != 0 || n > ((uint64_t)16 << 40)) {
        return cvma_cli_usage_error(cmd,
                                    "--memory: a size like 4096 (MiB), 4G or 512M, a whole "
                                    "number of MiB up to 16T, not '%s'",
                                    s);
    }
    *bytes = n;
    return 0;
}

/* see args.h */
bool cvma_cli_sha256_file(const char *path, uint64_t max, bool regular_only, uint8_t out[32])
{
    FILE *f = NULL;
    EVP_MD_CTX *ctx = NULL;
    bool ok = false;
    int e = EIO;
    uint64_t total = 0;
    uint8_t buf[65536];
    size_t n;
    if (regular_only) {
        /* Opened without waiting, so that a FIFO is refused, not waited on; then read as any
         * file is (the descriptor back to blocking reads). */
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
            return false; /* errno: open's */
        }
        e = 0;
        if (fstat(fd, &st) != 0) {
            e = errno;
        } else if (!S_ISREG(st.st_mode)) {
            e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        } else if ((uint64_t)st.st_size > max) {
            e = EFBIG; /* said at once, not after max bytes were hashed */
        } else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
                   (f = fdopen(fd, "rb")) == NULL) {
            e = errno;
        }
        if (e != 0) {
            close(fd);
            errno = e;
            return false;
        }
        e = EIO;
    } else if ((f = fopen(path, "rb")) == NULL) {
        return false; /* errno: fopen's */
    }
    if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        e = ENOMEM;
        goto out;
    }
    errno = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        total += n;
        if (total > max) {
            e = EFBIG;
            goto out;
        }
        if (EVP_DigestUpdate(ctx, buf, n) != 1) {
            goto out;
        }
    }
    if (ferror(f)) {
        e = errno != 0 ? errno : EIO;
        goto out;
    }
    unsigned int len = 0;
    ok = EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
out:
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok) {
        errno = e;
    }
    return ok;
}

/* see args.h */
int cvma_cli_dispatch(const char *cmd, const struct cvma_cli_sub *subs, size_t n, int argc,
                      char **argv, void (*usage)(FILE *))
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sub, subs[i].name) == 0) {
            return subs[i].fn(argc - 1, argv + 1);
        }
    }
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    cvma_cli_err("cvmattest %s: unknown command '%s'\n", cmd, sub);
    usage(stderr);
    return 2;
}

int cvma_cli_out_file_check(const char *cmd, const char *opt, const char *path,
                            const char *const *inputs, const char *const *inputs_opt, size_t n)
{
    struct stat out, in;
    if (lstat(path, &out) != 0) {
        return 0; /* not there (or its directory is not: the write says so) */
    }
    if (!S_ISREG(out.st_mode)) {
        return cvma_cli_usage_error(cmd,
                                    "%s '%s' is there and is not a regular file: a %s is never "
                                    "replaced by the output",
                                    opt, path,
                                    S_ISLNK(out.st_mode)    ? "symbolic link"
                                    : S_ISDIR(out.st_mode)  ? "directory"
                                    : S_ISFIFO(out.st_mode) ? "FIFO"
                                    : S_ISSOCK(out.st_mode) ? "socket"
                                                            : "device");
    }
    for (size_t i = 0; i < n; i++) {
        if (inputs[i] != NULL && stat(inputs[i], &in) == 0 && in.st_dev == out.st_dev &&
            in.st_ino == out.st_ino) {
            return cvma_cli_usage_error(
                    cmd, "%s '%s' is the input %s '%s': it would be replaced", opt, path,
                    inputs_opt != NULL && inputs_opt[i] != NULL ? inputs_opt[i] : "file",
                    inputs[i]);
        }
    }
    return 0;
}
