/*
 * libFuzzer target: the verification service's HTTP (`cvmattest serve`, docs/service.md) as a
 * client sends it: the input is the bytes of one connection, sent whole to a service running
 * in this process (cvma_server_run on the loopback, started once), then the connection is
 * half-closed and the answers read until the service closes it. What the service's own code
 * does with a request is reached so: the framing checks on the headers (count_framing,
 * framing_refused), the URL's unescaping and the nonce size argument, the body's limits
 * (upload_part), the dispatch, and POST /v1/verify: the flat JSON body, base64, the evidence,
 * the public key, the nonce, the verification (offline, no trust root: the verifier has only a
 * result key, so every answer is also signed) and the answer.
 *
 * Checked here, on the first answer (the one to the request that starts the input), from the
 * bytes sent and the table of error codes in docs/service.md:
 *  - the service closes the connection within 5 s of the client's end (no request holds it);
 *  - an answer is an HTTP/1.1 status line, headers and a body of its Content-Length (a HEAD
 *    answer has none);
 *  - never 500 (INTERNAL is for out of memory and signing failures, which do not happen here);
 *  - an error in JSON is {"error": {"code", "message", "request_id"}} with a code of the table
 *    and the status the table gives it; any other error is one libmicrohttpd answers itself
 *    (a malformed request: 400, 413, 414, 431, 501, 505);
 *  - framing a proxy in front may read otherwise (two Content-Length headers, Transfer-Encoding
 *    with Content-Length, Transfer-Encoding in HTTP/1.0, a header name with a space or tab
 *    before its colon, a folded Content-Length or Transfer-Encoding line holding more than
 *    whitespace), read here from the request's header lines, is refused: 400 from the
 *    service, or an error of libmicrohttpd's own when it refuses the request before the service
 *    sees it.
 *
 * run-one.sh runs this target with -close_fd_mask=2: the service logs a line per request on
 * stderr, and libFuzzer's own output and the sanitizers' reports go to a copy of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fuzz_check.h"
#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY   4096 /* --max-body: small, so that libFuzzer's inputs pass it */
#define CLOSE_SECS 5

/* The error codes of docs/service.md and their statuses. */
static const struct {
    const char *code;
    int status;
} codes[] = {
        {"BAD_JSON", 400},           {"BAD_REQUEST", 400},      {"BAD_BASE64", 400},
        {"BAD_EVIDENCE", 400},       {"BAD_PUBLIC_KEY", 400},   {"UNKNOWN_POLICY", 400},
        {"NONCE_INVALID", 400},      {"NONCE_EXPIRED", 400},    {"NONCE_REPLAYED", 409},
        {"BAD_NONCE_SIZE", 400},     {"BAD_CONTENT_TYPE", 415}, {"BODY_TOO_LARGE", 413},
        {"METHOD_NOT_ALLOWED", 405}, {"NOT_FOUND", 404},        {"NONCE_STORE_UNAVAILABLE", 503},
        {"SHUTTING_DOWN", 503},
};

static struct {
    char dir[64], port_file[96], key[96], cache[96];
    struct cvma_verifier *v;
    struct cvma_server_config cfg;
    int port;
} sv;

/* The first m bytes of needle in h[0..n), or NULL. */
static const char *find(const void *h, size_t n, const char *needle, size_t m)
{
    const char *p = h;
    for (size_t i = 0; n >= m && i <= n - m; i++) {
        if (memcmp(p + i, needle, m) == 0) {
            return p + i;
        }
    }
    return NULL;
}

/* At exit: the files of setup and their directory go (the service is still running). */
static void teardown(void)
{
    (void)remove(sv.port_file);
    (void)remove(sv.key);
    (void)rmdir(sv.cache);
    (void)rmdir(sv.dir);
}

static void *serve(void *arg)
{
    char err[256];
    (void)arg;
    int rc = cvma_server_run(sv.v, &sv.cfg, err, sizeof err);
    fprintf(stderr, "fuzz: the service stopped (%d): %s\n", rc, err);
    abort(); /* it runs for as long as the process */
}

static void setup(void)
{
    struct cvma_verifier_config vc;
    char err[256];
    pthread_t t;

    if (sv.port != 0) {
        return;
    }
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    snprintf(sv.dir, sizeof sv.dir, "%.40s/fuzz-serve-XXXXXX", tmp);
    CHECK(mkdtemp(sv.dir) != NULL);
    snprintf(sv.port_file, sizeof sv.port_file, "%s/port", sv.dir);
    snprintf(sv.key, sizeof sv.key, "%s/result.key", sv.dir);
    snprintf(sv.cache, sizeof sv.cache, "%s/cache", sv.dir);
    CHECK(mkdir(sv.cache, 0700) == 0);
    CHECK(atexit(teardown) == 0);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    FILE *f = fopen(sv.key, "w");
    CHECK(k != NULL && f != NULL && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
    CHECK(fclose(f) == 0);
    EVP_PKEY_free(k);

    memset(&vc, 0, sizeof vc);
    vc.offline = true;
    vc.no_cache = true;
    vc.cache_dir = sv.cache;
    vc.result_key_file = sv.key;
    CHECK(cvma_verifier_new(&vc, &sv.v, err, sizeof err) == CVMA_OK);
    sv.cfg.listen = "127.0.0.1:0";
    sv.cfg.port_file = sv.port_file;
    sv.cfg.threads = 2;
    sv.cfg.max_body = MAX_BODY;
    sv.cfg.timeout = 3;
    sv.cfg.per_ip_connections = -1;
    CHECK(pthread_create(&t, NULL, serve, NULL) == 0);
    CHECK(pthread_detach(t) == 0);
    for (int i = 0; i < 500 && sv.port == 0; i++) {
        FILE *pf = fopen(sv.port_file, "r");
        if (pf == NULL || fscanf(pf, "%d", &sv.port) != 1) {
            sv.port = 0;
            usleep(10000);
        }
        if (pf != NULL) {
            fclose(pf);
        }
    }
    CHECK(sv.port > 0);
}

/* The bytes the service sends on a connection that carried data, until it closes it. */
static uint8_t *exchange(const uint8_t *data, size_t size, size_t *got)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sv.port)};
    struct timeval tv = {CLOSE_SECS, 0};
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(buf != NULL && fd >= 0);
    CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
          setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
    /* A connection the loopback cannot make now (its ports all in TIME_WAIT after thousands of
     * connections a second, the backlog full) is tried again; the service is not at fault. */
    int tries = 0;
    while (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        if (tries == 0) {
            fprintf(stderr, "fuzz: connect: %s\n", strerror(e));
        }
        CHECK(e == EADDRNOTAVAIL || e == ECONNREFUSED || e == EAGAIN || e == ETIMEDOUT ||
              e == EINTR);
        if (++tries == 50) {
            fprintf(stderr, "fuzz: no connection to the service: %s\n", strerror(e));
            close(fd);
            *got = 0;
            return buf;
        }
        close(fd);
        usleep(20000);
        CHECK((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
        CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
              setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (w <= 0) {
            break; /* the service closed it early (a refusal from the headers) */
        }
        off += (size_t)w;
    }
    (void)shutdown(fd, SHUT_WR);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (n == cap) {
            CHECK((buf = realloc(buf, cap *= 2)) != NULL);
        }
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        /* a reset (the service closed with bytes of ours unread) ends it as a close does */
        CHECK(r >= 0 || errno == ECONNRESET);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(t1.tv_sec - t0.tv_sec < CLOSE_SECS);
    close(fd);
    *got = n;
    return buf;
}

/* The value of header name in the header block h[0..n) (CRLF lines), or NULL; *len its length. */
static const char *header(const char *h, size_t n, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = h, *end = h + n; p < end;) {
        const char *eol = find(p, (size_t)(end - p), "\r\n", 2);
        const char *le = eol != NULL ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < le && (*v == ' ' || *v == '\t')) {
                v++;
            }
            *len = (size_t)(le - v);
            return v;
        }
        p = le + 2;
    }
    return NULL;
}

/* Whether the request's header block (after its request line) has framing that is refused:
 * worked out from its lines; false when the block has a line this reading is not sure of (a
 * continuation line, a line without a colon, a NUL), so nothing is asserted then. */
static bool framing_refused_here(const uint8_t *req, size_t n, bool *sure)
{
    const char *p = (const char *)req, *end = p + n;
    const char *hdr_end = find(p, n, "\r\n\r\n", 4);
    const char *line_end = find(p, n, "\r\n", 2);
    unsigned cl = 0, te = 0;
    bool bad_name = false, framing_line = false, folded = false;

    *sure = hdr_end != NULL && line_end != NULL && memchr(p, '\0', (size_t)(hdr_end - p)) == NULL;
    if (!*sure) {
        return false;
    }
    /* a version libmicrohttpd does not speak is its own refusal (505), before the headers */
    bool http10 = line_end - p >= 8 && memcmp(line_end - 8, "HTTP/1.0", 8) == 0;
    bool http11 = line_end - p >= 8 && memcmp(line_end - 8, "HTTP/1.1", 8) == 0;
    if (!http10 && !http11) {
        *sure = false;
        return false;
    }
    for (const char *q = line_end + 2; q < hdr_end;) {
        const char *le = find(q, (size_t)(end - q), "\r\n", 2);
        if ((*q == ' ' || *q == '\t') && framing_line &&
            memchr(q, '\n', (size_t)(le - q)) == NULL &&
            memchr(q, '\r', (size_t)(le - q)) == NULL) {
            /* A folded line (obs-fold) of a Content-Length or Transfer-Encoding header: refused
             * when it holds more than whitespace (libmicrohttpd joins it to the name). */
            const char *c = q;
            while (c < le && (*c == ' ' || *c == '\t')) {
                c++;
            }
            folded = folded || c < le;
            q = le + 2;
            continue;
        }
        const char *colon = memchr(q, ':', (size_t)(le - q));
        if (colon == NULL || *q == ' ' || *q == '\t' || colon == q ||
            memchr(q, '\n', (size_t)(le - q)) != NULL ||
            memchr(q, '\r', (size_t)(le - q)) != NULL) {
            *sure = false;
            return false;
        }
        size_t nl = (size_t)(colon - q);
        bad_name = bad_name || q[nl - 1] == ' ' || q[nl - 1] == '\t';
        bool is_cl = nl == 14 && strncasecmp(q, "Content-Length", 14) == 0;
        bool is_te = nl == 17 && strncasecmp(q, "Transfer-Encoding", 17) == 0;
        cl += is_cl;
        te += is_te;
        framing_line = is_cl || is_te;
        q = le + 2;
    }
    return bad_name || folded || cl > 1 || (te > 0 && (cl > 0 || te > 1 || http10));
}

static void check_first_answer(const uint8_t *req, size_t req_len, const uint8_t *a, size_t n)
{

    /* An interim answer first (100 Continue, to "Expect: 100-continue"): the final one after. */
    while (n >= 13 && memcmp(a, "HTTP/1.1 1", 10) == 0) {
        const char *e = find(a, n, "\r\n\r\n", 4);
        CHECK(e != NULL);
        n -= (size_t)(e + 4 - (const char *)a);
        a = (const uint8_t *)e + 4;
    }
    if (n == 0) {
        return; /* closed after the interim answer: the body never came */
    }
    CHECK(n >= 12 && memcmp(a, "HTTP/1.1 ", 9) == 0);
    CHECK(a[9] >= '1' && a[9] <= '5' && a[10] >= '0' && a[10] <= '9' && a[11] >= '0' &&
          a[11] <= '9');
    int status = (a[9] - '0') * 100 + (a[10] - '0') * 10 + (a[11] - '0');
    CHECK(status != 500);
    const char *h = find(a, n, "\r\n\r\n", 4);
    CHECK(h != NULL);
    size_t hn = (size_t)(h - (const char *)a) + 2, vl = 0, tl = 0;
    const char *clv = header((const char *)a, hn, "Content-Length", &vl);
    const char *ctv = header((const char *)a, hn, "Content-Type", &tl);
    CHECK(clv != NULL);
    size_t body_len = strtoull(clv, NULL, 10), have = n - hn - 2;
    /* A HEAD answer has no body. Which line libmicrohttpd takes for the request line (it skips
     * lines it reads as empty: RFC 9112 2.2) is not worked out here: a request with "HEAD "
     * anywhere is not held to a body. */
    bool head = find(req, req_len, "HEAD ", 5) != NULL;
    const uint8_t *body = (const uint8_t *)h + 4;
    if (!head) {
        CHECK(have >= body_len);
    }
    bool json = ctv != NULL && tl >= 16 && strncasecmp(ctv, "application/json", 16) == 0;
    if (status >= 400 && json && !head) {
        json_error_t je;
        json_t *j = json_loadb((const char *)body, body_len, 0, &je);
        const json_t *e = json_object_get(j, "error");
        const char *code = fz_jstr(e, "code");
        CHECK(code != NULL && fz_jstr(e, "message") != NULL && fz_jstr(e, "request_id") != NULL);
        bool known = false;
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            if (strcmp(codes[i].code, code) == 0) {
                CHECK(codes[i].status == status);
                known = true;
            }
        }
        CHECK(known);
        json_decref(j);
    } else if (status >= 400 && !json) {
        CHECK(status == 400 || status == 413 || status == 414 || status == 431 || status == 501 ||
              status == 505);
    }
    /* Refused: by the service from the headers (400), or by libmicrohttpd before them (a
     * Content-Length it cannot take, say: one of its own errors). Never read as a request. */
    bool sure;
    if (framing_refused_here(req, req_len, &sure) && sure) {
        CHECK(json ? status == 400 : status >= 400);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    if (size == 0) {
        return 0;
    }
    setup();
    uint8_t *a = exchange(data, size, &n);
    if (n > 0) {
        check_first_answer(data, size, a, n);
    }
    free(a);
    return 0;
}
