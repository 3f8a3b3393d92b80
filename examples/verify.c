/*
 * verify: the smallest complete program on libcvmattest's public API.
 *
 *   verify EVIDENCE [--collateral DIR] [--trust-root PEM] [--at RFC3339] [--offline]
 *
 * EVIDENCE is a bundle (bundle.json), a bare SEV-SNP report or TDX quote, hex or base64 text
 * of one, or - for standard input. Prints the result JSON and exits as `cvmattest verify`
 * does: 0 affirming or warning, 1 rejected, 2 usage or configuration error, 3 undecided.
 *
 * Build against an installed copy:
 *   cc verify.c $(pkg-config --cflags --libs cvmattest) -o verify
 */
#include <cvmattest/cvmattest.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(void)
{
    fputs("usage: verify EVIDENCE [--collateral DIR] [--trust-root PEM] [--at RFC3339] "
          "[--offline]\n",
          stderr);
    return 2;
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/*
 * RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), as `cvmattest verify --at` reads it:
 * a day the month has, a fraction of at least one digit, a leap second (:60) only where one
 * can be (at the end of a UTC day), and an instant after 1970-01-01T00:00:00Z: the library
 * reads an `at` of 0 as "now", so the epoch itself would verify as of today.
 */
static bool parse_rfc3339(const char *s, time_t *out)
{
    int Y = digits(s, 4), M = -1, D = -1, h = -1, mi = -1, sec = -1, off = 0;
    if (strlen(s) < 20 || Y < 0 || s[4] != '-' || (M = digits(s + 5, 2)) < 1 || M > 12 ||
        s[7] != '-' || (D = digits(s + 8, 2)) < 1 || D > days_in_month(Y, M) ||
        (s[10] != 'T' && s[10] != 't') || (h = digits(s + 11, 2)) < 0 || h > 23 || s[13] != ':' ||
        (mi = digits(s + 14, 2)) < 0 || mi > 59 || s[16] != ':' || (sec = digits(s + 17, 2)) < 0 ||
        sec > 60) {
        return false;
    }
    const char *p = s + 19;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9') {
            return false;
        }
        do {
            p++;
        } while (*p >= '0' && *p <= '9');
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2), om = oh < 0 ? -1 : digits(p + 4, 2);
        if (oh < 0 || oh > 23 || p[3] != ':' || om < 0 || om > 59) {
            return false;
        }
        off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0') {
        return false;
    }
    if (sec == 60 && (((h * 60 + mi - off / 60) % 1440) + 1440) % 1440 != 1439) {
        return false;
    }
    long long t = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec - off;
    if (t <= 0 || (time_t)t != t) {
        return false;
    }
    *out = (time_t)t;
    return true;
}

int main(int argc, char **argv)
{
    struct cvma_verifier_config cfg;
    struct cvma_request req;
    const char *file = NULL, *root = NULL;
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    char err[512] = "";
    int rc = 2;

    memset(&cfg, 0, sizeof cfg);
    memset(&req, 0, sizeof req);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--collateral") == 0 && has_value) {
            cfg.collateral_dir = argv[++i];
        } else if (strcmp(a, "--trust-root") == 0 && has_value) {
            root = argv[++i];
        } else if (strcmp(a, "--at") == 0 && has_value) {
            if (!parse_rfc3339(argv[++i], &req.at)) {
                fprintf(stderr,
                        "verify: --at wants an RFC 3339 time after 1970-01-01T00:00:00Z, not "
                        "'%s'\n",
                        argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--offline") == 0) {
            cfg.offline = true;
        } else if ((a[0] == '-' && a[1] != '\0') || file != NULL) {
            return usage();
        } else {
            file = a;
        }
    }
    if (file == NULL) {
        return usage();
    }
    if (root != NULL) {
        cfg.trust_root_files = &root;
        cfg.n_trust_root_files = 1;
    }

    /* The verifier: configured once; it could now verify any number of pieces of evidence,
     * from any number of threads. */
    enum cvma_status st = cvma_verifier_new(&cfg, &v, err, sizeof err);
    if (st != CVMA_OK) {
        fprintf(stderr, "verify: %s\n", err);
        goto out;
    }
    st = cvma_evidence_from_file(file, CVMA_INFORM_AUTO, &ev, err, sizeof err);
    if (st != CVMA_OK) {
        fprintf(stderr, "verify: %s: %s\n", file, err);
        goto out;
    }
    st = cvma_verify(v, ev, &req, &res, err, sizeof err);
    if (st != CVMA_OK) {
        fprintf(stderr, "verify: %s\n", err);
        rc = cvma_status_exit_code(st);
        goto out;
    }
    char *json = cvma_result_json(res, true);
    if (json == NULL) {
        fputs("verify: out of memory\n", stderr);
        goto out;
    }
    puts(json);
    free(json);
    rc = cvma_result_exit_code(res);

out:
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    return rc;
}
