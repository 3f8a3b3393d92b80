#include "collateral/http.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "collateral/http_internal.h"
#include "common/reader.h"
#include "common/timeutil.h"
#include "cvmattest/cvmattest.h"

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init_rc = CURLE_FAILED_INIT;

/* curl_global_init is not guaranteed thread-safe on every libcurl build: run it once. */
static void curl_init_once(void)
{
    g_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Response body accumulator; invariant: len <= max. */
struct sink {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t max;
    bool too_big;
    bool nomem;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb; /* libcurl documents size == 1 */

    if (n == 0) {
        return 0;
    }
    if (n > s->max - s->len) {
        s->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (n > s->cap - s->len) {
        size_t ncap = s->cap ? s->cap : 4096;
        uint8_t *np;
        if (ncap > s->max) {
            ncap = s->max;
        }
        while (ncap - s->len < n) {
            ncap = ncap > s->max / 2 ? s->max : ncap * 2;
        }
        if ((np = realloc(s->p, ncap)) == NULL) {
            s->nomem = true;
            return 0;
        }
        s->p = np;
        s->cap = ncap;
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    return n;
}

/* Response headers to capture; values of an earlier response (redirect, retry) are dropped
 * when the next status line arrives. */
struct hdr_sink {
    struct cvma_http_header *h;
    size_t n;
    bool too_big;
    bool nomem;
};

static void hdr_clear(struct hdr_sink *hs)
{
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->h[i].value);
        hs->h[i].value = NULL;
    }
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static uint8_t ascii_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* True when the span is the NUL-terminated name, ignoring ASCII case. */
static bool name_is(const struct cvma_span *s, const char *name)
{
    size_t i = 0;

    for (; i < s->len; i++) {
        if (name[i] == '\0' || ascii_lower(s->p[i]) != ascii_lower((uint8_t)name[i])) {
            return false;
        }
    }
    return name[i] == '\0';
}

/* see collateral/http_internal.h */
enum cvma_http_line cvma_http_header_line(const uint8_t *line, size_t n,
                                          const struct cvma_http_header *want, size_t n_want,
                                          size_t from, size_t *which, struct cvma_span *value)
{
    struct cvma_reader r;
    struct cvma_span name = {NULL, 0}, v = {NULL, 0};
    uint8_t c = 0;

    *which = n_want;
    value->p = NULL;
    value->len = 0;
    cvma_reader_init(&r, line, n);
    if (cvma_reader_span(&r, 5, &name) && memcmp(name.p, "HTTP/", 5) == 0) {
        return CVMA_HTTP_LINE_STATUS;
    }
    cvma_reader_init(&r, line, n);
    while (cvma_reader_u8(&r, &c) && c != ':') {
    }
    if (c != ':') {
        return CVMA_HTTP_LINE_IGNORED; /* the blank line ending the headers, or no name */
    }
    name.p = line;
    name.len = r.off - 1;
    cvma_reader_rest(&r, &v);
    while (v.len > 0 && is_space(v.p[0])) {
        v.p++;
        v.len--;
    }
    while (v.len > 0 && is_space(v.p[v.len - 1])) {
        v.len--;
    }
    for (size_t i = from; i < n_want; i++) {
        if (!name_is(&name, want[i].name)) {
            continue;
        }
        *which = i;
        *value = v;
        return v.len > CVMA_HTTP_MAX_HEADER_VALUE ? CVMA_HTTP_LINE_TOO_LONG : CVMA_HTTP_LINE_WANTED;
    }
    return CVMA_HTTP_LINE_IGNORED;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
    struct hdr_sink *hs = ud;
    size_t n = size * nitems; /* libcurl documents size == 1 */
    struct cvma_span v;
    enum cvma_http_line k;
    size_t i;

    /* Every wanted entry of that name gets the value (a name may be listed twice). */
    for (size_t from = 0;; from = i + 1) {
        k = cvma_http_header_line((const uint8_t *)data, n, hs->h, hs->n, from, &i, &v);
        if (k == CVMA_HTTP_LINE_STATUS) {
            hdr_clear(hs); /* a new response begins */
        }
        if (k != CVMA_HTTP_LINE_WANTED && k != CVMA_HTTP_LINE_TOO_LONG) {
            return n;
        }
        if (k == CVMA_HTTP_LINE_TOO_LONG) {
            hs->too_big = true;
            return 0; /* aborts the transfer */
        }
        char *val = malloc(v.len + 1);
        if (val == NULL) {
            hs->nomem = true;
            return 0;
        }
        if (v.len > 0) {
            memcpy(val, v.p, v.len);
        }
        val[v.len] = '\0';
        free(hs->h[i].value);
        hs->h[i].value = val;
    }
}

static void sink_reset(struct sink *s)
{
    free(s->p);
    s->p = NULL;
    s->len = 0;
    s->cap = 0;
    s->too_big = false;
    s->nomem = false;
}

/* Transport failures that another attempt may not hit. TLS verification failures, refused
 * schemes and our own aborts (size limit) are final. */
static bool transient_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* see http.h */
bool cvma_http_scheme_ok(const char *url)
{
    return url != NULL && (starts_with_ci(url, "http://") || starts_with_ci(url, "https://"));
}

/* A port of 1 to 5 digits, 1..65535, filling [p, end). */
static bool port_ok(const char *p, const char *end)
{
    unsigned long v = 0;
    if (p == end || end - p > 5) {
        return false;
    }
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    return v >= 1 && v <= 65535;
}

/* see http.h */
bool cvma_http_url_ok(const char *url)
{
    if (!cvma_http_scheme_ok(url)) {
        return false;
    }
    const char *a = strstr(url, "://") + 3;
    const char *end = a + strcspn(a, "/?#");
    for (const char *p = a; p < end; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            return false; /* no space or control character in the authority */
        }
        if (*p == '@') {
            a = p + 1; /* user information: the host follows the last '@' */
        }
    }
    const char *host_end;
    if (*a == '[') { /* an IP literal (RFC 3986 3.2.2) */
        const char *close = memchr(a, ']', (size_t)(end - a));
        if (close == NULL || close == a + 1) {
            return false;
        }
        host_end = close + 1;
    } else {
        host_end = memchr(a, ':', (size_t)(end - a));
        host_end = host_end != NULL ? host_end : end;
        if (host_end == a) {
            return false;
        }
    }
    if (host_end == end) {
        return true;
    }
    return *host_end == ':' && port_ok(host_end + 1, end);
}

bool cvma_http_base_url_ok(const char *url)
{
    if (!cvma_http_url_ok(url)) {
        return false;
    }
    for (const char *p = url; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
            return false;
        }
    }
    const char *a = strstr(url, "://") + 3;
    size_t authority = strcspn(a, "/");
    return memchr(a, '@', authority) == NULL;
}

void cvma_http_opts_init(struct cvma_http_opts *o)
{
    o->connect_timeout_ms = CVMA_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    o->timeout_ms = CVMA_HTTP_DEFAULT_TIMEOUT_MS;
    o->max_retries = CVMA_HTTP_DEFAULT_MAX_RETRIES;
    o->backoff_base_ms = CVMA_HTTP_DEFAULT_BACKOFF_BASE_MS;
    o->max_body = CVMA_HTTP_DEFAULT_MAX_BODY;
}

/* Zero fields select defaults; values are clamped so that no option can make a call hang
 * for long or loop without bound. */
static void effective_opts(const struct cvma_http_opts *in, struct cvma_http_opts *o)
{
    cvma_http_opts_init(o);
    if (in == NULL) {
        return;
    }
    if (in->connect_timeout_ms > 0) {
        o->connect_timeout_ms = in->connect_timeout_ms;
    }
    if (in->timeout_ms > 0) {
        o->timeout_ms = in->timeout_ms;
    }
    if (in->max_retries < 0) {
        o->max_retries = 0;
    } else if (in->max_retries > 0) {
        o->max_retries = in->max_retries;
    }
    if (o->max_retries > CVMA_HTTP_RETRIES_LIMIT) {
        o->max_retries = CVMA_HTTP_RETRIES_LIMIT;
    }
    if (in->backoff_base_ms > 0) {
        o->backoff_base_ms = in->backoff_base_ms;
    }
    if (o->backoff_base_ms > CVMA_HTTP_MAX_WAIT_MS) {
        o->backoff_base_ms = CVMA_HTTP_MAX_WAIT_MS;
    }
    if (in->max_body > 0) {
        o->max_body = in->max_body;
    }
}

long cvma_http_max_duration_ms(const struct cvma_http_opts *in)
{
    struct cvma_http_opts o;
    effective_opts(in, &o);
    long attempts = (long)o.max_retries + 1;
    long connect = o.connect_timeout_ms < CVMA_HTTP_DURATION_TIMEOUT_CAP_MS
                           ? o.connect_timeout_ms
                           : CVMA_HTTP_DURATION_TIMEOUT_CAP_MS;
    long total = o.timeout_ms < CVMA_HTTP_DURATION_TIMEOUT_CAP_MS
                         ? o.timeout_ms
                         : CVMA_HTTP_DURATION_TIMEOUT_CAP_MS;
    /* A same-origin redirect is a request of its own, not an attempt: at most
     * CVMA_HTTP_MAX_HOPS of them in all, each with its own time-outs. */
    return (attempts + CVMA_HTTP_MAX_HOPS) * (connect + total) +
           (attempts - 1) * CVMA_HTTP_MAX_WAIT_MS;
}

/* Wait before retry number `attempt` (0-based): base << attempt, or the server's
 * Retry-After if longer; never more than CVMA_HTTP_MAX_WAIT_MS. */
static long retry_wait_ms(const struct cvma_http_opts *o, int attempt, curl_off_t retry_after_s)
{
    long wait = o->backoff_base_ms;

    for (int i = 0; i < attempt && wait < CVMA_HTTP_MAX_WAIT_MS; i++) {
        wait *= 2;
    }
    if (retry_after_s > 0) {
        long ra = retry_after_s >= CVMA_HTTP_MAX_WAIT_MS / 1000 ? CVMA_HTTP_MAX_WAIT_MS
                                                                : (long)retry_after_s * 1000L;
        if (ra > wait) {
            wait = ra;
        }
    }
    return wait > CVMA_HTTP_MAX_WAIT_MS ? CVMA_HTTP_MAX_WAIT_MS : wait;
}

/* A redirect status libcurl would follow. */
static bool is_redirect(long code)
{
    return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

/* True when a and b (absolute URLs) have the same scheme, host and port (the default port of
 * the scheme when none is written). Anything that does not parse is another origin. */
static bool same_origin(const char *a, const char *b)
{
    static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
    CURLU *ua = curl_url(), *ub = curl_url();
    bool same = ua != NULL && ub != NULL && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
                curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK;

    for (size_t i = 0; same && i < sizeof parts / sizeof parts[0]; i++) {
        char *pa = NULL, *pb = NULL;
        unsigned flags = parts[i] == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0;
        same = curl_url_get(ua, parts[i], &pa, flags) == CURLUE_OK &&
               curl_url_get(ub, parts[i], &pb, flags) == CURLUE_OK && strcasecmp(pa, pb) == 0;
        curl_free(pa);
        curl_free(pb);
    }
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}

/* Where errors say the request went: url, and the URL it was redirected to when that is
 * another (at NULL or equal to url: url alone). */
static void where_text(const char *url, const char *at, char *out, size_t out_len)
{
    if (at == NULL || strcmp(at, url) == 0) {
        cvma_errf(out, out_len, "%s", url);
    } else {
        cvma_errf(out, out_len, "%s (redirected to %s)", url, at);
    }
}

#define SETOPT(h, opt, val)                                                            \
    do {                                                                               \
        if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) {                         \
            cvma_errf(err, err_len, "%s %s: libcurl refused option %s", m, url, #opt); \
            st = CVMA_E_INTERNAL;                                                      \
            goto out;                                                                  \
        }                                                                              \
    } while (0)

/* see collateral/http.h */
static _Thread_local long g_last_code = -1;

long cvma_http_last_code(void)
{
    return g_last_code;
}

void cvma_http_last_code_clear(void)
{
    g_last_code = -1;
}

enum cvma_status cvma_http_get(const struct cvma_http_opts *opts, const char *url,
                               struct cvma_buf *body, long *http_code, char *err, size_t err_len)
{
    return cvma_http_do(opts, url, NULL, body, http_code, err, err_len);
}

/* see collateral/http.h */
enum cvma_status cvma_http_do(const struct cvma_http_opts *opts, const char *url,
                              const struct cvma_http_request *rq, struct cvma_buf *body,
                              long *http_code, char *err, size_t err_len)
{
    static const struct cvma_http_request get = {0};
    enum cvma_status st = CVMA_E_INTERNAL;
    struct cvma_http_opts o;
    struct sink s = {0};
    struct hdr_sink hs = {NULL, 0, false, false};
    struct curl_slist *req_hdrs = NULL;
    CURL *h = NULL;
    char cerr[CURL_ERROR_SIZE];
    const char *m;
    long code = 0;
    bool https, post, head;
    char *hop_url = NULL; /* same_origin: the URL a followed redirect went to */
    char where[2048];
    int hops = 0;

    if (rq == NULL) {
        rq = &get;
    }
    m = rq->method != NULL ? rq->method : "GET";
    post = strcmp(m, "POST") == 0;
    head = strcmp(m, "HEAD") == 0;
    hs.h = rq->hdrs;
    hs.n = rq->hdrs != NULL ? rq->n_hdrs : 0;
    body->p = NULL;
    body->len = 0;
    for (size_t i = 0; i < hs.n; i++) {
        hs.h[i].value = NULL;
    }
    if (http_code != NULL) {
        *http_code = 0;
    }
    cvma_errf(err, err_len, "%s", "");
    if (!post && !head && strcmp(m, "GET") != 0) {
        cvma_errf(err, err_len, "%.16s %s: only GET, POST and HEAD are sent", m,
                  url != NULL ? url : "(no URL)");
        return CVMA_E_USAGE;
    }
    if (url == NULL) {
        cvma_errf(err, err_len, "%s: no URL", m);
        return CVMA_E_USAGE;
    }
    if (!cvma_http_url_ok(url)) {
        cvma_errf(err, err_len,
                  "%s %s: only http:// and https:// URLs with a host (and a port, if one, of "
                  "1 to 65535) are fetched",
                  m, url);
        return CVMA_E_USAGE;
    }
    https = starts_with_ci(url, "https://");
    if (post && ((rq->body == NULL && rq->body_len > 0) ||
                 (rq->content_type != NULL && strpbrk(rq->content_type, "\r\n") != NULL))) {
        cvma_errf(err, err_len, "POST %s: %s", url,
                  rq->body == NULL && rq->body_len > 0 ? "no body bytes for body_len"
                                                       : "a content type with a line break");
        return CVMA_E_USAGE;
    }
    if (rq->no_tls_verify && !head) {
        /* An unverified server's answer is never used: probes only, and a probe is a HEAD. */
        cvma_errf(err, err_len, "%s %s: TLS verification is only ever off for a HEAD probe", m,
                  url);
        return CVMA_E_USAGE;
    }
    effective_opts(opts, &o);
    if (post) {
        o.max_retries = 0; /* not idempotent: one attempt */
    }
    s.max = o.max_body;

    pthread_once(&g_curl_once, curl_init_once);
    if (g_curl_init_rc != CURLE_OK) {
        cvma_errf(err, err_len, "%s %s: curl_global_init failed: %s", m, url,
                  curl_easy_strerror(g_curl_init_rc));
        return CVMA_E_INTERNAL;
    }
    if ((h = curl_easy_init()) == NULL) {
        cvma_errf(err, err_len, "%s %s: curl_easy_init failed", m, url);
        return CVMA_E_NOMEM;
    }
    cerr[0] = '\0';
    SETOPT(h, CURLOPT_URL, url);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!rq->no_redirects && !post && !rq->same_origin) {
        /* Follow redirects, but never to another scheme and never from https down to http.
         * A POST follows none: a 307/308 would send its body again, elsewhere. same_origin:
         * followed below, one hop at a time, each checked before it is requested. */
        SETOPT(h, CURLOPT_FOLLOWLOCATION, 1L);
        SETOPT(h, CURLOPT_MAXREDIRS, (long)CVMA_HTTP_MAX_HOPS);
        SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
    }
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, o.connect_timeout_ms);
    SETOPT(h, CURLOPT_TIMEOUT_MS, o.timeout_ms);
    SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o.max_body);
    SETOPT(h, CURLOPT_USERAGENT, "cvmattest/" CVMATTEST_VERSION);
    SETOPT(h, CURLOPT_ERRORBUFFER, cerr);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, &s);
    if (hs.n > 0) {
        SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
        SETOPT(h, CURLOPT_HEADERDATA, &hs);
    }
    if (head) {
        SETOPT(h, CURLOPT_NOBODY, 1L);
    } else if (post) {
        char ct[256];
        struct curl_slist *n;
        /* "Content-Type:" with no value removes libcurl's form-encoded default. */
        if (rq->content_type != NULL) {
            cvma_errf(ct, sizeof ct, "Content-Type: %s", rq->content_type);
        } else {
            cvma_errf(ct, sizeof ct, "Content-Type:");
        }
        if ((n = curl_slist_append(req_hdrs, ct)) == NULL) {
            cvma_errf(err, err_len, "POST %s: out of memory", url);
            st = CVMA_E_NOMEM;
            goto out;
        }
        req_hdrs = n;
        SETOPT(h, CURLOPT_HTTPHEADER, req_hdrs);
        SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        SETOPT(h, CURLOPT_POSTFIELDS, rq->body != NULL ? (const char *)rq->body : "");
    }
    if (rq->no_tls_verify) {
        /* Reachability probes only (see the field): the answer is never used. */
        SETOPT(h, CURLOPT_SSL_VERIFYPEER, 0L);
        SETOPT(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    for (int attempt = 0;; attempt++) {
        CURLcode rc;
        curl_off_t retry_after = 0;
        bool retryable;

        sink_reset(&s);
        hdr_clear(&hs);
        cerr[0] = '\0';
        code = 0;
        rc = curl_easy_perform(h);
        (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        g_last_code = code;
        if (http_code != NULL) {
            *http_code = code;
        }
        {
            char *eff = NULL;
            (void)curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
            where_text(url, hop_url != NULL ? hop_url : eff, where, sizeof where);
        }
        if (rc == CURLE_OK && rq->same_origin && !rq->no_redirects && !post && is_redirect(code)) {
            char *loc = NULL, *next;
            (void)curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
            if (loc != NULL) {
                /* Collateral comes from the server asked, whatever its answers say: a
                 * redirect elsewhere (another host, port or scheme) is not requested. */
                if (!same_origin(url, loc)) {
                    cvma_errf(err, err_len,
                              "%s %s: HTTP %ld redirects to %s, another origin (scheme, host "
                              "or port): not followed",
                              m, where, code, loc);
                    st = CVMA_UNDECIDED;
                    goto out;
                }
                if (hops >= CVMA_HTTP_MAX_HOPS) {
                    cvma_errf(err, err_len, "%s %s: HTTP %ld, a redirect after %d: not followed", m,
                              where, code, CVMA_HTTP_MAX_HOPS);
                    st = CVMA_UNDECIDED;
                    goto out;
                }
                if ((next = strdup(loc)) == NULL) {
                    cvma_errf(err, err_len, "%s %s: out of memory", m, where);
                    st = CVMA_E_NOMEM;
                    goto out;
                }
                free(hop_url);
                hop_url = next;
                hops++;
                SETOPT(h, CURLOPT_URL, hop_url);
                attempt--; /* a hop is not an attempt */
                continue;
            }
        }
        if (rc == CURLE_OK) {
            if (code == 200 || (rq->any_status && code > 0)) {
                break;
            }
            retryable = !rq->any_status && (code == 429 || (code >= 500 && code <= 599));
            if (!retryable) {
                cvma_errf(err, err_len, "%s %s: HTTP %ld", m, where, code);
                st = CVMA_UNDECIDED;
                goto out;
            }
            (void)curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after);
            cvma_errf(err, err_len, "%s %s: HTTP %ld after %d attempt%s", m, where, code,
                      attempt + 1, attempt == 0 ? "" : "s");
        } else {
            if (s.nomem || hs.nomem) {
                cvma_errf(err, err_len, "%s %s: out of memory", m, where);
                st = CVMA_E_NOMEM;
                goto out;
            }
            if (rc == CURLE_OUT_OF_MEMORY) {
                /* libcurl (7.88) says this of a response header line over its own limit
                 * (CURL_MAX_HTTP_HEADER, 100 KiB), a header our callback never saw: the server's
                 * answer, not this process's memory, and collateral not had (exit 3). */
                cvma_errf(err, err_len,
                          "%s %s: libcurl refused the response (%s: a header line over its "
                          "100 KiB limit, or libcurl ran out of memory)",
                          m, where, cerr[0] != '\0' ? cerr : curl_easy_strerror(rc));
                st = CVMA_UNDECIDED;
                goto out;
            }
            if (hs.too_big) {
                cvma_errf(err, err_len, "%s %s: a response header is longer than %zu bytes", m,
                          where, CVMA_HTTP_MAX_HEADER_VALUE);
                st = CVMA_UNDECIDED;
                goto out;
            }
            if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
                cvma_errf(err, err_len, "%s %s: response larger than %zu bytes", m, where,
                          o.max_body);
                st = CVMA_UNDECIDED;
                goto out;
            }
            retryable = transient_curl_error(rc);
            cvma_errf(err, err_len, "%s %s: %s after %d attempt%s", m, where,
                      cerr[0] != '\0' ? cerr : curl_easy_strerror(rc), attempt + 1,
                      attempt == 0 ? "" : "s");
            if (!retryable) {
                st = CVMA_UNDECIDED;
                goto out;
            }
        }
        if (attempt >= o.max_retries) {
            st = CVMA_UNDECIDED; /* err already names the last failure */
            goto out;
        }
        cvma_sleep_ms(retry_wait_ms(&o, attempt, retry_after));
    }

    cvma_errf(err, err_len, "%s", "");
    if (s.p == NULL) {
        /* An empty body (always for HEAD): hand back a valid (non-NULL) empty buffer. */
        if ((s.p = malloc(1)) == NULL) {
            st = CVMA_E_NOMEM;
            goto out;
        }
    }
    body->p = s.p;
    body->len = s.len;
    s.p = NULL;
    st = CVMA_OK;
out:
    if (st != CVMA_OK) {
        hdr_clear(&hs);
    }
    free(s.p);
    free(hop_url);
    curl_easy_cleanup(h);
    curl_slist_free_all(req_hdrs);
    return st;
}
