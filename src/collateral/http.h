/*
 * The project's one HTTP client, on libcurl's easy API: collateral GETs (AMD KDS, Intel PCS,
 * registries), the demo's GET/POST of the verification service, and the host check's PCCS
 * reachability probe all go through cvma_http_do; no other file calls libcurl.
 *
 * What it trusts: nothing it downloads. Bodies are handed back as bytes; the caller checks
 * them (format here in kds.c, signatures and chains in the verifier). TLS uses the system CA
 * store through libcurl, but a collateral body is only believed once it chains to a pinned
 * vendor root, so a compromised mirror can withhold collateral (exit 3), never forge it.
 *
 * Behaviour:
 * - Only http:// and https:// URLs; redirects are followed (at most 3), never to another
 *   scheme and never from https down to http; with same_origin (collateral) never to another
 *   scheme, host or port either, and such a redirect is not requested.
 * - Retries (at most max_retries more attempts) only on HTTP 429, HTTP 5xx and on transport
 *   errors that may be transient (connection refused/reset, timeout, DNS failure). The wait
 *   before retry i (0-based) is backoff_base_ms << i; a longer Retry-After header (seconds
 *   or HTTP date, as parsed by libcurl) is honoured instead. No single wait exceeds 5 s.
 * - Any other answer (404 and every other 4xx, other 2xx/3xx codes) is final, not retried.
 * - POST is never retried (it is not idempotent): one attempt, whatever max_retries says,
 *   and it follows no redirect (a 307/308 would send the body again): a 3xx is its answer.
 * - A request with any_status is not retried on an HTTP status either (every answer is final);
 *   its GET/HEAD transport errors are retried as above.
 * - A body larger than max_body bytes aborts the transfer. HEAD keeps no body.
 * - Error texts name the method and the URL ("POST URL: HTTP 503 after 1 attempt"), and the
 *   URL a redirect led to when the failure came from there ("GET URL (redirected to URL2):
 *   HTTP 404").
 * - Never writes to stdout or stderr.
 */
#ifndef CVMA_COLLATERAL_HTTP_H
#define CVMA_COLLATERAL_HTTP_H

#include "common/util.h"

#define CVMA_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define CVMA_HTTP_DEFAULT_TIMEOUT_MS         30000L
#define CVMA_HTTP_DEFAULT_MAX_RETRIES        3
#define CVMA_HTTP_DEFAULT_BACKOFF_BASE_MS    200L
#define CVMA_HTTP_DEFAULT_MAX_BODY           ((size_t)1 << 20) /* 1 MiB */
#define CVMA_HTTP_MAX_WAIT_MS                5000L /* cap on any single backoff / Retry-After */
#define CVMA_HTTP_RETRIES_LIMIT              10    /* max_retries is clamped to this */

/*
 * Options. A zeroed struct means "all defaults", so the struct can be embedded and
 * zero-initialised: 0 in a field selects its default.
 */
struct cvma_http_opts {
    long connect_timeout_ms; /* 0: 10 s */
    long timeout_ms;         /* whole transfer, per attempt; 0: 30 s */
    int max_retries;         /* 0: 3; negative: no retries (one attempt only) */
    long backoff_base_ms;    /* 0: 200 ms (waits 200, 400, 800 ms); tests use ~10 ms */
    size_t max_body;         /* 0: 1 MiB */
};

/* Fills o with the explicit default values (same effect as zeroing it). */
void cvma_http_opts_init(struct cvma_http_opts *o);

/*
 * Whether url is of a scheme this client fetches: it begins with http:// or https:// (in any
 * case); NULL and "" are not. It tells a URL from a local path (cvma_tlog_src_is_url); whether
 * a URL can be fetched is cvma_http_url_ok.
 */
bool cvma_http_scheme_ok(const char *url);

/*
 * Whether url is one this client can fetch: cvma_http_scheme_ok, then an authority with a host
 * (after any user information; an IP literal in brackets not empty) and, when a ':' follows
 * the host, a port of 1 to 5 digits, 1..65535; no space or control character in the authority.
 * The rule for base URLs where they are given (cvma_verifier_new's kds_base_url / pcs_base_url,
 * the CLI's --kds-url / --pcs-url, the service's kds_url / pcs_url) and for every fetch:
 * "http://", "http://:8080" and "http://127.0.0.1:" are not URLs to fetch from.
 */
bool cvma_http_url_ok(const char *url);

/*
 * Whether url may be a base URL that items' paths are appended to (--kds-url, --pcs-url, the
 * service's kds_url / pcs_url, cvma_verifier_new's kds_base_url / pcs_base_url, a lookup
 * registry's URL): cvma_http_url_ok, printable ASCII only (no space, control character or
 * CR/LF anywhere), no query or fragment (a path appended after one would be neither), and no
 * user information (a password would be written into every result and log line that names a
 * URL fetched; a proxy's credentials belong in the environment's proxy settings).
 */
bool cvma_http_base_url_ok(const char *url);

/* Redirects followed for one request, at most (libcurl's own, or same-origin hops). */
#define CVMA_HTTP_MAX_HOPS 3

/* Each time-out counted by cvma_http_max_duration_ms is capped at this (1 hour). */
#define CVMA_HTTP_DURATION_TIMEOUT_CAP_MS 3600000L

/*
 * The longest a GET with these options (NULL: defaults) may take: every attempt's and every
 * same-origin redirect hop's connect and transfer time-outs (each capped at
 * CVMA_HTTP_DURATION_TIMEOUT_CAP_MS, so the sum cannot overflow) and every wait between
 * attempts at its cap, the options read as cvma_http_get reads them.
 */
long cvma_http_max_duration_ms(const struct cvma_http_opts *o);

/*
 * GETs url. o may be NULL (defaults). On CVMA_OK, *body owns the response bytes (free with
 * cvma_buf_free); on any other status *body is empty. *http_code (may be NULL) gets the last
 * HTTP status seen, or 0 when no HTTP answer arrived. err (may be NULL, err_len 0) receives a
 * one-line reason naming the URL whenever the status is not CVMA_OK.
 *
 * Returns:
 *   CVMA_OK         HTTP 200
 *   CVMA_UNDECIDED  404 / other 4xx / non-200 answers, retries exhausted on 429 / 5xx /
 *                   transport errors, TLS errors, body over max_body
 *   CVMA_E_USAGE    url is not http:// or https://
 *   CVMA_E_NOMEM    allocation failure
 *   CVMA_E_INTERNAL libcurl could not be initialised
 */
CVMA_MUST_USE enum cvma_status cvma_http_get(const struct cvma_http_opts *o, const char *url,
                                             struct cvma_buf *body, long *http_code, char *err,
                                             size_t err_len);

/*
 * A response header to capture (cvma_http_request.hdrs). name is matched case-insensitively; value
 * is NULL or a malloc'd NUL-terminated copy of the last such header of the final response
 * (redirects and retried attempts do not leak into it), with surrounding whitespace removed.
 * Values are returned as sent: no URL-decoding.
 */
struct cvma_http_header {
    const char *name; /* in */
    char *value;      /* out: owned by the caller (free) */
};

#define CVMA_HTTP_MAX_HEADER_VALUE ((size_t)64 << 10) /* a longer captured value aborts */

/*
 * One request, for cvma_http_do. A zeroed struct is a plain GET with the cvma_http_get rules.
 */
struct cvma_http_request {
    const char *method;       /* NULL or "GET"; "POST"; "HEAD" (others: CVMA_E_USAGE) */
    const char *content_type; /* POST: its Content-Type (no CR/LF); NULL: none sent */
    const void *body;         /* POST: body_len bytes sent (may be NULL when body_len is 0) */
    size_t body_len;
    bool any_status;   /* an HTTP answer of any status is CVMA_OK, with its body and code */
    bool no_redirects; /* a 3xx is the answer, not followed (always so for POST) */
    /* Redirects are followed only to the same origin as url (scheme, host and port, the
     * scheme's default port when none is written), at most 3; one to another origin is not
     * requested: CVMA_UNDECIDED, err naming where it pointed. Collateral GETs set it. */
    bool same_origin;
    /* TLS peer and host name NOT verified. For reachability probes only (host-check's PCCS),
     * never for a request whose answer is used: HEAD only, any other method is CVMA_E_USAGE. */
    bool no_tls_verify;
    /* Response headers to capture: every value is set to NULL first and is NULL again on any
     * status but CVMA_OK; one longer than CVMA_HTTP_MAX_HEADER_VALUE aborts the transfer
     * (CVMA_UNDECIDED). hdrs may be NULL when n_hdrs is 0. */
    struct cvma_http_header *hdrs;
    size_t n_hdrs;
};

/*
 * Sends rq (NULL: a plain GET) to url with the behaviour described at the top. Outputs as for
 * cvma_http_get; with rq->any_status every HTTP answer (code > 0) is
 * CVMA_OK with its body, and only transport failures, over-long bodies or headers are
 * CVMA_UNDECIDED. On CVMA_OK *body is a valid buffer (empty for HEAD).
 */
CVMA_MUST_USE enum cvma_status cvma_http_do(const struct cvma_http_opts *o, const char *url,
                                            const struct cvma_http_request *rq,
                                            struct cvma_buf *body, long *http_code, char *err,
                                            size_t err_len);

/*
 * The last HTTP status cvma_http_do (and so cvma_http_get) saw on this
 * thread (0: no HTTP answer,
 * a transport failure), for the collateral counters; cvma_http_last_code_clear sets it to -1
 * ("no request made") before a download.
 */
long cvma_http_last_code(void);
void cvma_http_last_code_clear(void);

#endif
