#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/base64.h"
#include "common/hex.h"
#include "common/jflat.h"
#include "common/json_out.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "crypto/jwk.h"
#include "crypto/jws.h"
#include "result/ear.h"
#include "result/result.h"
#include "server/conns.h"
#include "server/framing.h"
#include "server/metrics.h"
#include "server/pubkey.h"
#include "server/redis_pool.h"
#include "server/web.h"
#include "tpm/tpm.h"
#include "verifier/kind.h"
#include "verifier/verifier.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

struct server {
    struct cvma_verifier *v;
    struct cvma_conns conns; /* the time limits on a request's header and body */
    struct cvma_server_config cfg;
    struct cvma_spent *spent;
    struct cvma_metrics *metrics;
    char *jwks;                 /* GET /v1/keys, made once */
    char kid[CVMA_EAR_KID_LEN]; /* the result key's thumbprint, made once */
    char rid_prefix[9];
    atomic_uint_fast64_t rid_next;
    atomic_int active;  /* requests between their first byte and their completion */
    atomic_int working; /* of those, the ones whose answer is being made or sent */
};

/* Set on SIGTERM/SIGINT: requests that begin after it are refused (503 SHUTTING_DOWN, which a
 * load balancer retries elsewhere) and every answer carries "Connection: close", so the load
 * balancer stops reusing its kept-alive connections to this instance while it drains. */
static atomic_bool draining;

/* One request. */
struct req {
    char rid[32];
    struct timespec start;
    char *body;
    size_t len, cap;
    size_t got;  /* the body's bytes within the limit, kept or not (len stays 0 after oom) */
    size_t over; /* bytes thrown away once the body is over the limit */
    bool too_large;
    bool answered;  /* a response was queued early (413 on Content-Length) */
    bool late;      /* began after SIGTERM: refused, so its nonce is never spent */
    bool oom;       /* the body could not be kept: answered 500 INTERNAL once it is read */
    bool timed_out; /* the body did not come within --timeout: dropped (client time-out) */
    bool working;   /* dispatched: counted in the server's working until its completion */
    int status;
    const char *endpoint;
    const char *allow; /* a 405's Allow header: the methods the URL takes */
    char error[40];    /* the error code answered, "" when none */
    char note[96];     /* a verification's kind, verdict and reasons: in the request's log line */
};

/* The time t in milliseconds (CLOCK_MONOTONIC's, as cvma_monotonic_ms), rounded down. */
static long long ms_of(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

static double elapsed(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void logf_req(const struct req *r, const char *fmt, ...) CVMA_PRINTF(2, 3);
static void logf_req(const struct req *r, const char *fmt, ...)
{
    char text[600], line[1200];
    va_list ap;
    va_start(ap, fmt);
    int tn = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t tlen = tn < 0 ? 0 : (size_t)tn < sizeof text ? (size_t)tn : sizeof text - 1;
    int pn = snprintf(line, sizeof line, "cvmattest serve: request_id=%s ",
                      r != NULL ? r->rid : "-");
    size_t n = pn < 0 ? 0 : (size_t)pn;
    /* The text is escaped, the backslash too (it holds what the request sent: a URL path, a
     * policy name cannot end the line and begin a forged one, nor pass for an escape); one
     * byte is left for the '\n'. */
    n = cvma_text_escape_into(line, sizeof line - 1, n, text, tlen, true);
    line[n++] = '\n';
    /* One write(2) a line: no stdio lock for the worker threads to wait on, and lines of
     * different requests never interleave. */
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

/* libmicrohttpd's own messages (MHD_USE_ERROR_LOG): among them the protocol errors it answers
 * itself before a request reaches on_request (a malformed request line or header, headers over
 * its limit, an HTTP version it does not speak): logged as a line of no request. */
static void log_mhd(void *cls, const char *fmt, va_list ap) CVMA_PRINTF(2, 0);
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    char text[600];
    (void)cls;
    int tn = vsnprintf(text, sizeof text, fmt, ap);
    size_t tlen = tn < 0 ? 0 : (size_t)tn < sizeof text ? (size_t)tn : sizeof text - 1;
    while (tlen > 0 && (text[tlen - 1] == '\n' || text[tlen - 1] == '\r')) {
        tlen--;
    }
    logf_req(NULL, "libmicrohttpd: %.*s", (int)tlen, text);
}

/* Queues resp (NULL: out of memory) with the headers every answer has. */
static MHD_Result_t queue(struct MHD_Connection *c, struct req *r, int status, const char *ctype,
                          struct MHD_Response *resp)
{
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "X-Request-Id", r->rid);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (status == 405 && r->allow != NULL) {
        MHD_add_response_header(resp, "Allow", r->allow); /* RFC 9110 15.5.6: a 405 has one */
    }
    if (atomic_load(&draining)) {
        MHD_add_response_header(resp, "Connection", "close");
    }
    r->status = status;
    MHD_Result_t ret = MHD_queue_response(c, (unsigned int)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static MHD_Result_t send_text(struct MHD_Connection *c, struct req *r, int status,
                              const char *ctype, const char *body, size_t len)
{
    return queue(
            c, r, status, ctype,
            MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY));
}

/* The answer when the answer itself could not be made: no allocation but libmicrohttpd's. The
 * request ID is hex (written as is). */
static MHD_Result_t send_oom(struct MHD_Connection *c, struct req *r)
{
    char body[128];
    int n = snprintf(body, sizeof body,
                     "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"out of memory\","
                     "\"request_id\":\"%s\"}}",
                     r->rid);
    return send_text(c, r, 500, "application/json", body,
                     n > 0 && (size_t)n < sizeof body ? (size_t)n : 0);
}

/* body (malloc'd) becomes the answer's: libmicrohttpd frees it, no copy is made. */
static MHD_Result_t send_owned(struct MHD_Connection *c, struct req *r, int status,
                               const char *ctype, char *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
    }
    return queue(c, r, status, ctype, resp);
}

static MHD_Result_t send_json(struct MHD_Connection *c, struct req *r, int status, json_t *o)
{
    size_t n = 0;
    char *s = o != NULL ? cvma_json_compact(o, &n) : NULL;
    json_decref(o);
    if (s == NULL) {
        return send_oom(c, r);
    }
    return send_owned(c, r, status, "application/json", s, n);
}

/*
 * The verification answer: the result's text in b (taken: freed or handed over) with
 * "policy_id" and "token" (each when not NULL) and "request_id" appended as its last members,
 * spliced in before its closing brace. The same text as adding them to the result object and
 * writing that (docs/service.md).
 */
static MHD_Result_t send_result(struct MHD_Connection *c, struct req *r, struct cvma_strbuf *b,
                                const char *policy_id, const char *token)
{
    bool ok = !b->failed && b->len >= 2 && b->p[b->len - 1] == '}';
    if (ok) {
        b->len--; /* the object's closing '}': the members go before it */
        const char *sep = b->len > 1 ? "," : ""; /* "{}": no member before */
        if (policy_id != NULL) {
            ok = cvma_strbuf_add(b, sep, strlen(sep)) && cvma_strbuf_add(b, "\"policy_id\":", 12) &&
                 cvma_json_write_str(b, policy_id, strlen(policy_id));
            sep = ",";
        }
        if (ok && token != NULL) {
            ok = cvma_strbuf_add(b, sep, strlen(sep)) && cvma_strbuf_add(b, "\"token\":", 8) &&
                 cvma_json_write_str(b, token, strlen(token));
            sep = ",";
        }
        ok = ok && cvma_strbuf_add(b, sep, strlen(sep)) &&
             cvma_strbuf_add(b, "\"request_id\":", 13) &&
             cvma_json_write_str(b, r->rid, strlen(r->rid)) && cvma_strbuf_add(b, "}", 1);
    }
    if (!ok) {
        free(b->p);
        b->p = NULL;
        return send_oom(c, r);
    }
    char *p = b->p;
    b->p = NULL;
    return send_owned(c, r, 200, "application/json", p, b->len);
}

/* A JSON error: {"error": {"code", "message", "request_id"}}, logged with the request ID. */
static MHD_Result_t send_error(struct MHD_Connection *c, struct req *r, int status,
                               const char *code, const char *fmt, ...) CVMA_PRINTF(5, 6);
static MHD_Result_t send_error(struct MHD_Connection *c, struct req *r, int status,
                               const char *code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->error, sizeof r->error, "%s", code);
    logf_req(r, "error %d %s: %s", status, code, msg);
    /* The message may quote the request (a URL, a policy name) or be cut mid-character: written
     * lossily (a byte that does not begin a UTF-8 character as U+FFFD), since a JSON string
     * must be UTF-8 and the answer must still be this error. */
    struct cvma_strbuf b = {0};
    bool ok = cvma_strbuf_add(&b, "{\"error\":{\"code\":", 17) &&
              cvma_json_write_str(&b, code, strlen(code)) &&
              cvma_strbuf_add(&b, ",\"message\":", 11) &&
              cvma_json_write_str_lossy(&b, msg, strlen(msg)) &&
              cvma_strbuf_add(&b, ",\"request_id\":", 14) &&
              cvma_json_write_str(&b, r->rid, strlen(r->rid)) && cvma_strbuf_add(&b, "}}", 2);
    if (!ok) {
        free(b.p);
        return send_oom(c, r);
    }
    return send_owned(c, r, status, "application/json", b.p, b.len);
}

/* ---- endpoints ---- */

/* The URL's "size" arguments. libmicrohttpd gives one without '=' ("?size") a NULL value,
 * which MHD_lookup_connection_value cannot tell from no argument at all; and it would give the
 * first of several, which a later one ("?size=32&size=64", "?size=64&size=") would then
 * silently lose to. */
struct size_arg {
    const char *value; /* the first "size" with a value; NULL: none */
    bool valueless;    /* a "size" without a value */
    unsigned count;    /* "size" arguments, with a value or without */
};

/* MHD_get_connection_values over the URL's arguments: the "size" ones. */
static MHD_Result_t find_size(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    struct size_arg *a = cls;
    (void)kind;
    if (key == NULL || strcmp(key, "size") != 0) {
        return MHD_YES;
    }
    if (a->count < 2) {
        a->count++;
    }
    if (value == NULL) {
        a->valueless = true;
    } else if (a->value == NULL) {
        a->value = value;
    }
    return MHD_YES;
}

static MHD_Result_t do_nonce(struct server *s, struct MHD_Connection *c, struct req *r)
{
    struct size_arg a = {NULL, false, 0};
    (void)MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, find_size, &a);
    if (a.count > 1) {
        return send_error(c, r, 400, "BAD_NONCE_SIZE",
                          "size is given twice or more: give it once, 32, 48 or 64");
    }
    if (a.valueless) {
        return send_error(c, r, 400, "BAD_NONCE_SIZE",
                          "size has no value: it must be 32, 48 or 64");
    }
    const char *q = a.value;
    size_t size = 32;
    if (q != NULL) {
        if (strcmp(q, "32") == 0) {
            size = 32;
        } else if (strcmp(q, "48") == 0) {
            size = 48;
        } else if (strcmp(q, "64") == 0) {
            size = 64;
        } else {
            return send_error(c, r, 400, "BAD_NONCE_SIZE", "size must be 32, 48 or 64");
        }
    }
    char nonce[128];
    time_t now = time(NULL);
    if (!cvma_nonce_mint(&s->cfg.nonce_key, size, now, s->cfg.nonce_ttl, nonce, sizeof nonce)) {
        return send_error(c, r, 500, "INTERNAL", "cannot make a nonce");
    }
    return send_json(c, r, 200,
                     json_pack("{s:s, s:I, s:I}", "nonce", nonce, "size", (json_int_t)size,
                               "expires", (json_int_t)(now + s->cfg.nonce_ttl)));
}

static bool content_type_json(struct MHD_Connection *c)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
        return false;
    }
    return ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ';
}

static MHD_Result_t do_verify(struct server *s, struct MHD_Connection *c, struct req *r)
{
    struct cvma_jflat_field in[] = {{"evidence", NULL, 0},
                                    {"nonce", NULL, 0},
                                    {"policy", NULL, 0},
                                    {"public_key", NULL, 0}};
    struct cvma_strbuf text = {0};
    struct cvma_ear_result_text rt;
    struct cvma_buf raw = {0};
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request rq;
    char err[512] = "";
    MHD_Result_t ret;
    const char *nonce = NULL, *policy = NULL, *evidence = NULL, *pub_pem = NULL;
    size_t ev_len = 0, pub_len = 0;
    char *token = NULL;
    EVP_PKEY *pub = NULL;
    json_t *jwk = NULL;
    struct cvma_spend_op spend;
    bool spending = false; /* spend begun and not ended */

    if (!content_type_json(c)) {
        return send_error(c, r, 415, "BAD_CONTENT_TYPE", "POST /v1/verify wants application/json");
    }
    /* The body: one object of string members, read without building a tree (common/jflat.h,
     * jansson's rules). */
    char what[80];
    switch (cvma_jflat_parse((const uint8_t *)(r->body != NULL ? r->body : ""), r->len, in,
                             CVMA_ARRAY_LEN(in), what, sizeof what)) {
    case CVMA_JFLAT_OK:
        break;
    case CVMA_JFLAT_SYNTAX:
        ret = send_error(c, r, 400, "BAD_JSON", "the body is not a JSON object: %s", what);
        goto out;
    case CVMA_JFLAT_MEMBER:
        ret = send_error(c, r, 400, "BAD_REQUEST",
                         "unknown member or not a string: \"%s\" (evidence, nonce, policy, "
                         "public_key)",
                         what);
        goto out;
    case CVMA_JFLAT_NOMEM:
    default:
        ret = send_error(c, r, 500, "INTERNAL", "out of memory");
        goto out;
    }
    evidence = in[0].value;
    ev_len = in[0].len;
    nonce = in[1].value;
    policy = in[2].value;
    pub_pem = in[3].value;
    pub_len = in[3].len;
    if (evidence == NULL) {
        ret = send_error(c, r, 400, "BAD_REQUEST", "\"evidence\" (base64) is required");
        goto out;
    }
    enum cvma_status st = cvma_base64_decode_buf(evidence, ev_len, CVMA_B64_STD, &raw);
    if (st == CVMA_REJECTED) {
        ret = send_error(c, r, 400, "BAD_BASE64", "\"evidence\" is not base64 (RFC 4648, padded)");
        goto out;
    }
    if (st != CVMA_OK) {
        ret = send_error(c, r, 500, "INTERNAL", "out of memory");
        goto out;
    }
    bool found;
    (void)cvma_verifier_policy(s->v, policy, &found);
    if (!found && (policy == NULL || policy[0] == '\0')) {
        ret = send_error(c, r, 400, "UNKNOWN_POLICY",
                         "no \"policy\" named and no default policy is configured: name one");
        goto out;
    }
    if (!found) {
        ret = send_error(c, r, 400, "UNKNOWN_POLICY", "no policy named \"%.64s\" is configured",
                         policy);
        goto out;
    }
    st = cvma_evidence_from_bytes(raw.p, raw.len, CVMA_INFORM_AUTO, &ev, err, sizeof err);
    if (st == CVMA_E_NOMEM || st == CVMA_E_INTERNAL) {
        /* Not the client's fault: never answered as if the evidence were malformed. */
        ret = send_error(c, r, 500, "INTERNAL", "%s", st == CVMA_E_NOMEM ? "out of memory" : err);
        goto out;
    }
    if (st != CVMA_OK) {
        ret = send_error(c, r, 400, "BAD_EVIDENCE", "%s", err);
        goto out;
    }
    if (pub_pem != NULL) {
        st = cvma_pubkey_parse(pub_pem, pub_len, &pub, err, sizeof err);
        if (st != CVMA_OK) {
            ret = st == CVMA_REJECTED ? send_error(c, r, 400, "BAD_PUBLIC_KEY", "%s", err)
                                      : send_error(c, r, 500, "INTERNAL", "out of memory");
            goto out;
        }
        if ((jwk = cvma_pubkey_jwk(pub)) == NULL) {
            ret = send_error(c, r, 500, "INTERNAL", "out of memory");
            goto out;
        }
    }
    memset(&rq, 0, sizeof rq);
    rq.policy = policy;
    uint8_t nb[CVMA_NONCE_MAX];
    size_t nlen = 0;
    if (nonce != NULL) {
        time_t exp, now = time(NULL);
        switch (cvma_nonce_check(&s->cfg.nonce_key, nonce, now, nb, &nlen, &exp)) {
        case CVMA_NONCE_OK:
            break;
        case CVMA_NONCE_EXPIRED:
            ret = send_error(c, r, 400, "NONCE_EXPIRED", "the nonce expired; get a new one");
            goto out;
        case CVMA_NONCE_MALFORMED:
        case CVMA_NONCE_FORGED:
        default:
            ret = send_error(c, r, 400, "NONCE_INVALID",
                             "the nonce was not issued by this service (or was altered)");
            goto out;
        }
        /* Spent now; the store's answer is read after the verification, which runs while
         * Redis answers (nothing is answered before it: a replay is refused all the same). */
        cvma_spent_begin(s->spent, nonce, now, exp, &spend);
        spending = true;
        /* The expected REPORT_DATA is the nonce, zero-padded to 64 bytes; kinds with a TPM
         * quote check the nonce itself against the quote's extraData (the others are given
         * none: cvma_verify refuses a nonce it could not check). */
        rq.has_report_data = true;
        memcpy(rq.report_data, nb, nlen);
        const struct cvma_kind *k = cvma_kind_by_id(cvma_evidence_kind(ev));
        if (k != NULL && k->reads_tpm_parts) {
            rq.has_nonce = true;
            memcpy(rq.nonce, nb, nlen);
            rq.nonce_len = nlen;
        }
    }
    if (pub != NULL) {
        /* The key binding: REPORT_DATA is SHA-512(nonce || the key's DER SPKI). */
        if (!cvma_pubkey_report_data(pub, nb, nlen, rq.report_data)) {
            ret = send_error(c, r, 500, "INTERNAL", "out of memory");
            goto out;
        }
        rq.has_report_data = true;
    }
    st = cvma_verify(s->v, ev, &rq, &res, err, sizeof err);
    if (spending) {
        spending = false;
        switch (cvma_spent_end(&spend)) {
        case CVMA_SPEND_FIRST:
            break;
        case CVMA_SPEND_REPLAY:
            ret = send_error(c, r, 409, "NONCE_REPLAYED", "the nonce was used already");
            goto out;
        case CVMA_SPEND_UNAVAILABLE:
        default:
            ret = send_error(c, r, 503, "NONCE_STORE_UNAVAILABLE",
                             "the spent-nonce store cannot be reached");
            goto out;
        }
    }
    if (st != CVMA_OK) {
        ret = send_error(c, r, st == CVMA_E_USAGE ? 400 : 500,
                         st == CVMA_E_USAGE ? "BAD_REQUEST" : "INTERNAL", "%s", err);
        goto out;
    }
    /* The result's text once (as cvma_result_json writes it): the answer, and the token's
     * claims copy its members from it; the token and the request ID are added to it. */
    /* Room for a result and its token at once (about 4 and 6 KiB for a SEV-SNP report): the
     * answer is written without growing its buffer step by step. */
    if (!cvma_strbuf_reserve(&text, 16384) || !cvma_ear_result_text(res, &text, &rt)) {
        ret = send_error(c, r, 500, "INTERNAL", "out of memory");
        goto out;
    }
    if (s->v->result_key != NULL) {
        /* The key is attested only by evidence that binds it and is not refused: the request's
         * key (bound through REPORT_DATA), else the vTPM AK of the evidence (docs/service.md).
         * Evidence accepted only because a policy waived one of its errors (a debug guest: the
         * host may read the key) vouches for no key, as for the AK (tpm/tpm.h). The AK is no
         * attested key either where a report whose launch no policy pinned names it
         * (VTPM_PARAVISOR_NOT_PINNED: cvma_tpm_attested_key gives NULL). */
        bool bound = cvma_result_status(res) != CVMA_CONTRAINDICATED &&
                     !cvma_verdict_has_waived_error(&res->verdict);
        json_t *ak = bound && jwk == NULL ? cvma_tpm_attested_key(res) : NULL;
        const json_t *cnf = bound ? (jwk != NULL ? jwk : ak) : NULL;
        enum cvma_status sst = cvma_ear_sign_with(res, &rt, s->v->result_signer, res->policy_id,
                                                  nonce, s->cfg.token_ttl, cnf, &token);
        json_decref(ak);
        if (sst != CVMA_OK) {
            ret = send_error(c, r, 500, "INTERNAL", "signing the result failed");
            goto out;
        }
    }
    cvma_metrics_result(s->metrics, res);
    snprintf(r->note, sizeof r->note, ": verified %s: %s, %zu reasons", cvma_result_tee(res),
             cvma_result_status_name(cvma_result_status(res)), cvma_result_reason_count(res));
    ret = send_result(c, r, &text, res->policy_id, token);
out:
    free(text.p);
    if (spending) {
        (void)cvma_spent_end(&spend);
    }
    free(token);
    json_decref(jwk);
    EVP_PKEY_free(pub);
    cvma_jflat_free(in, CVMA_ARRAY_LEN(in));
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_buf_free(&raw);
    return ret;
}

/* The result-signing key as a JWKS (RFC 7517): its JWK (crypto/jwk.h) with kid (the tokens'
 * kid: the hex SHA-256 of the SubjectPublicKeyInfo), alg and use. */
static char *make_jwks(EVP_PKEY *key, const char *kid)
{
    json_t *keys = json_array();
    if (key != NULL) {
        enum cvma_jws_alg alg;
        json_t *jwk = cvma_jws_key_alg(key, &alg) ? cvma_pubkey_jwk(key) : NULL;
        if (jwk == NULL || json_object_set_new(jwk, "kid", json_string(kid)) != 0 ||
            json_object_set_new(jwk, "alg", json_string(cvma_jws_alg_name(alg))) != 0 ||
            json_object_set_new(jwk, "use", json_string("sig")) != 0) {
            json_decref(jwk);
            json_decref(keys);
            return NULL;
        }
        if (json_array_append_new(keys, jwk) != 0) { /* (takes jwk either way) */
            json_decref(keys);
            return NULL;
        }
    }
    json_t *o = json_pack("{s:o}", "keys", keys);
    char *s = cvma_json_compact(o, NULL);
    json_decref(o);
    return s;
}

static MHD_Result_t do_metrics(struct server *s, struct MHD_Connection *c, struct req *r)
{
    char *text = cvma_metrics_text(s->metrics, atomic_load(&s->active), s->v);
    if (text == NULL) {
        return send_error(c, r, 500, "INTERNAL", "out of memory");
    }
    MHD_Result_t ret =
            send_text(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
    return ret;
}

/* A file of the web page (src/server/web.c), with its own headers (type, no-cache, CSP). */
static MHD_Result_t send_web(struct MHD_Connection *c, struct req *r, const struct cvma_web_file *f)
{
    struct MHD_Response *resp = cvma_web_response(f);
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, "X-Request-Id", r->rid);
    if (atomic_load(&draining)) {
        MHD_add_response_header(resp, "Connection", "close"); /* as queue() does */
    }
    r->status = 200;
    MHD_Result_t ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The endpoint a URL names, as the log and /metrics label it. */
static const char *endpoint_of(const char *url)
{
    static const struct {
        const char *url, *name;
    } eps[] = {{"/v1/verify", "verify"},
               {"/v1/nonce", "nonce"},
               {"/v1/keys", "keys"},
               {"/healthz", "healthz"},
               {"/metrics", "metrics"}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(eps); i++) {
        if (strcmp(url, eps[i].url) == 0) {
            return eps[i].name;
        }
    }
    return cvma_web_find(url) != NULL ? "web" : "other";
}

static MHD_Result_t dispatch(struct server *s, struct MHD_Connection *c, struct req *r,
                             const char *url, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    r->endpoint = endpoint_of(url);
    if (strcmp(r->endpoint, "verify") == 0) {
        if (strcmp(method, "POST") != 0) {
            r->allow = "POST";
            return send_error(c, r, 405, "METHOD_NOT_ALLOWED", "/v1/verify wants POST");
        }
        return do_verify(s, c, r);
    }
    r->allow = "GET, HEAD";
    if (strcmp(r->endpoint, "web") == 0) {
        return get ? send_web(c, r, cvma_web_find(url))
                   : send_error(c, r, 405, "METHOD_NOT_ALLOWED", "%.100s wants GET", url);
    }
    if (strcmp(r->endpoint, "other") == 0) {
        return send_error(c, r, 404, "NOT_FOUND", "no such endpoint: %.100s", url);
    }
    if (!get) {
        return send_error(c, r, 405, "METHOD_NOT_ALLOWED", "%s wants GET", url);
    }
    if (strcmp(r->endpoint, "nonce") == 0) {
        return do_nonce(s, c, r);
    }
    if (strcmp(r->endpoint, "keys") == 0) {
        return send_text(c, r, 200, "application/jwk-set+json", s->jwks, strlen(s->jwks));
    }
    if (strcmp(r->endpoint, "healthz") == 0) {
        if (!cvma_spent_healthy(s->spent)) {
            return send_error(c, r, 503, "NONCE_STORE_UNAVAILABLE",
                              "the spent-nonce store cannot be reached");
        }
        static const char ok[] = "{\"status\":\"ok\"}";
        return send_text(c, r, 200, "application/json", ok, sizeof ok - 1);
    }
    return do_metrics(s, c, r);
}

/*
 * A part of the body (n > 0 bytes at p). The body must be whole within --timeout of the
 * request's headers (a client trickling bytes is never idle long enough for libmicrohttpd's
 * time-out): a late body is dropped as a client time-out, here when its bytes come late, by
 * sweep_slow when only a chunked body's framing does (it never reaches this function). Over
 * --max-body it is thrown away, and once the whole body received (got + over) goes past twice
 * the limit it is not read on: the connection is closed (logged and counted as 413). Up to
 * twice the limit it is answered 413, whatever the size of the parts it came in (one chunk a
 * little over the limit is answered too, docs/service.md).
 */
static MHD_Result_t upload_part(struct server *s, struct req *r, const char *p, size_t n)
{
    if (r->answered) {
        return MHD_NO; /* an answer is queued: the rest of the body is not read */
    }
    if (elapsed(&r->start) > (double)s->cfg.timeout) {
        r->timed_out = true;
        return MHD_NO; /* on_completed logs the client time-out */
    }
    if (r->too_large || n > s->cfg.max_body - r->got) {
        if (!r->too_large) {
            r->too_large = true;
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
        }
        /* Thrown away up to as much again as the limit, so that a client that sent a little too
         * much has its 413 (answered once the body ends: libmicrohttpd 0.9 takes no answer
         * mid-body); a body that goes on past that is not read on. The total counts what was
         * received so far, within the limit (got) and over it (over): got <= max_body and
         * got + over <= twice, so the subtraction cannot wrap. */
        size_t twice = s->cfg.max_body <= SIZE_MAX / 2 ? 2 * s->cfg.max_body : SIZE_MAX;
        if (n > twice - r->got - r->over) {
            r->status = 413; /* logged and counted as the refusal it is, though unanswered */
            snprintf(r->error, sizeof r->error, "BODY_TOO_LARGE");
            logf_req(r,
                     "error 413 BODY_TOO_LARGE: the body goes on past twice the limit of %zu "
                     "bytes: the connection is closed, the rest not read",
                     s->cfg.max_body);
            return MHD_NO;
        }
        r->over += n;
        return MHD_YES;
    }
    r->got += n; /* counted even when not kept: the limits hold after out of memory too */
    if (r->oom) {
        return MHD_YES; /* read (within the limits) and answered 500 at the end */
    }
    if (n > r->cap - r->len) {
        size_t cap = r->cap != 0 ? r->cap : 4096;
        while (cap - r->len < n) {
            cap *= 2;
        }
        char *b = realloc(r->body, cap);
        if (b == NULL) {
            r->oom = true;
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            return MHD_YES;
        }
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, p, n);
    r->len += n;
    return MHD_YES;
}

/*
 * MHD_OPTION_UNESCAPE_CALLBACK: a URL's path and arguments are percent-decoded as
 * libmicrohttpd would, except one that holds an encoded NUL (%00), which is left as sent:
 * decoded, it would end the string early and "/app.js%00.html" would be served as "/app.js".
 * Left encoded, it names no endpoint (404) and is no valid argument.
 */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    for (const char *p = s; (p = strchr(p, '%')) != NULL; p++) {
        if (p[1] == '0' && p[2] == '0') {
            return strlen(s);
        }
    }
    return MHD_http_unescape(s);
}

/* Counted and logged before the connections end (cvma_conns_sweep calls it first): a client
 * that sees its connection closed and then asks /metrics finds it counted. */
static void count_slow(void *arg, unsigned n)
{
    struct server *s = arg;
    cvma_metrics_slow_clients(s->metrics, n);
    logf_req(NULL,
             "%u connection(s) closed unanswered: no whole request header within %u s "
             "(client time-out)",
             n, s->cfg.timeout);
}

/* Shuts down the connections past their header or body limit (server/conns.h: a header within
 * --timeout and 2 s, a body within --timeout of its header); libmicrohttpd then sees them end
 * and closes them (a late body is logged and counted by on_completed, as its request's). Run
 * once a second by the main thread. */
static void sweep_slow(struct server *s)
{
    (void)cvma_conns_sweep(&s->conns, count_slow, s);
}

/* The drain's wait: while *count is above 0, and for at most limit seconds (0: no limit), in
 * 10 ms steps. A further SIGTERM, SIGINT or SIGHUP (an impatient operator, a process manager
 * that signals twice) is taken and said, never cutting the drain short by its default action;
 * slow clients are still swept out once a second (*swept: the last sweep), so that a body
 * trickled in does not hold the drain past its time. */
static void drain_wait(struct server *s, const sigset_t *set, atomic_int *count, double limit,
                       long long *swept, const char *doing)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(count) > 0 && (limit <= 0 || elapsed(&t0) < limit)) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        if (sigtimedwait(set, NULL, &ts) > 0) {
            fprintf(stderr, "cvmattest serve: signalled again: still %s %d request(s)\n", doing,
                    atomic_load(count));
        }
        if (cvma_monotonic_ms() - *swept >= 1000) {
            sweep_slow(s);
            *swept = cvma_monotonic_ms();
        }
    }
}

/*
 * The path of a request target in absolute-form ("http://host[:port]/path", RFC 9112 3.2.2: a
 * server MUST accept it, though clients send it to proxies): the path after the authority, "/"
 * when there is none; any other target as it is. libmicrohttpd hands the target on as the URL
 * (its query split off), so "GET http://x/healthz" was 404 "no such endpoint".
 */
static const char *origin_path(const char *url)
{
    size_t n = strncasecmp(url, "http://", 7) == 0    ? 7
               : strncasecmp(url, "https://", 8) == 0 ? 8
                                                      : 0;
    if (n == 0) {
        return url;
    }
    const char *slash = strchr(url + n, '/');
    return slash != NULL ? slash : "/";
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct server *s = cls;
    struct req *r = *con_cls;
    url = origin_path(url);
    if (r == NULL) {
        if ((r = calloc(1, sizeof *r)) == NULL) {
            return MHD_NO;
        }
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        cvma_conns_header_done(c); /* its header is whole: out of the sweep's way */
        snprintf(r->rid, sizeof r->rid, "%s%08llx", s->rid_prefix,
                 (unsigned long long)(atomic_fetch_add(&s->rid_next, 1) & 0xffffffffu));
        /* named now, so that a request ended before dispatch is logged and counted as one */
        r->endpoint = endpoint_of(url);
        atomic_fetch_add(&s->active, 1);
        /* After the count (both sequentially consistent): the drain either waits for this
         * request or sees it refused, never stops in the middle of a verification. */
        r->late = atomic_load(&draining);
        *con_cls = r;
        char why[160];
        if (cvma_http_framing_refused(c, version, why, sizeof why)) {
            /* refused from the headers, the connection closed after */
            r->answered = true;
            return send_error(c, r, 400, "BAD_REQUEST", "%s", why);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno != 0 || end == cl || n > s->cfg.max_body) {
                r->too_large = true;
            }
        }
        if (r->too_large) {
            /* Refused before the body is read (whatever the endpoint: the body is never read
             * past the limit); the connection is closed after. */
            r->answered = true;
            return send_error(c, r, 413, "BODY_TOO_LARGE",
                              "the body is over the limit of %zu bytes", s->cfg.max_body);
        }
        /* the body is due --timeout from now, however it trickles in (sweep_slow) */
        cvma_conns_body_due(c, ms_of(&r->start) + (long long)s->cfg.timeout * 1000);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        return upload_part(s, r, upload, n);
    }
    if (r->answered) {
        return MHD_YES;
    }
    /* The body is whole: what follows (a verification) is not counted against it. Cleared
     * before the check, so the sweep cuts no request this check lets through. */
    cvma_conns_body_done(c);
    if (elapsed(&r->start) > (double)s->cfg.timeout) {
        r->timed_out = true; /* its last bytes came late (a chunked body's framing, say) */
        return MHD_NO;       /* on_completed logs the client time-out */
    }
    if (r->too_large) {
        /* a chunked body over the limit, thrown away (upload_part): refused whatever the
         * endpoint, before anything else is looked at (the body's type, the method) */
        return send_error(c, r, 413, "BODY_TOO_LARGE", "the body is over the limit of %zu bytes",
                          s->cfg.max_body);
    }
    if (r->late) {
        return send_error(c, r, 503, "SHUTTING_DOWN", "this instance is stopping; retry");
    }
    if (r->oom) {
        return send_error(c, r, 500, "INTERNAL", "out of memory (the request body)");
    }
    /* From here the request is being answered: a drain that times out still waits for it
     * (a verification is not cut, and its answer is sent). */
    if (!r->working) { /* (counted once, however often libmicrohttpd asks) */
        r->working = true;
        atomic_fetch_add(&s->working, 1);
    }
    return dispatch(s, c, r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct req *r = *con_cls;
    if (r == NULL) {
        return;
    }
    double secs = elapsed(&r->start);
    /* ended with its body still due past its deadline (sweep_slow); the next request's header
     * has --timeout from now */
    bool body_late = cvma_conns_request_end(c);
    /* Counted no more before its line is written: once the line is in the log the request has
     * ended, for the drain's count as for /metrics (a SIGTERM right after the line counted it
     * still). The stop waits for this callback to return before anything it uses is freed. */
    if (r->working) {
        atomic_fetch_sub(&s->working, 1);
    }
    atomic_fetch_sub(&s->active, 1);
    /* An answer queued while the service had given none is libmicrohttpd's own, for a request
     * it refused after on_request had seen it (a chunk size it cannot hold: 413); it ends the
     * request "with error". Not the client's abort; and not counted, as its other answers. */
    const union MHD_ConnectionInfo *ci =
            r->status == 0 && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK
                    ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS)
                    : NULL;
    if (ci != NULL && ci->http_status != 0) {
        logf_req(r, "%s: answered %u by libmicrohttpd (its own error above; not counted)",
                 r->endpoint, ci->http_status);
    } else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && r->status == 0) {
        bool time_out = toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED || r->timed_out || body_late;
        logf_req(r, "%s: connection ended before an answer (%s)", r->endpoint,
                 toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "the instance stopped"
                 : time_out                                    ? "client time-out"
                                                               : "aborted");
        cvma_metrics_request(s->metrics, r->endpoint, 0, "CLIENT_ABORTED", secs);
    } else if (toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN) {
        /* An answer made but cut by the stop (one answered early while its body was still
         * coming past --drain): logged and counted as not sent, never as its status. */
        logf_req(r,
                 "%s: connection ended before its answer %d was sent (the instance stopped) "
                 "%.1f ms%s",
                 r->endpoint, r->status, secs * 1000, r->note);
        cvma_metrics_request(s->metrics, r->endpoint, 0, "CLIENT_ABORTED", secs);
    } else {
        /* One line a request (one write): endpoint, status, time and, for a verification,
         * its verdict. */
        logf_req(r, "%s status=%d %.1f ms%s", r->endpoint, r->status, secs * 1000, r->note);
        cvma_metrics_request(s->metrics, r->endpoint, r->status, r->error, secs);
    }
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* A PEM file (a regular one) as a NUL-terminated string (libmicrohttpd wants one); NULL when
 * unreadable, with why set. The file's bytes are cleansed after the copy (the TLS private key
 * is read this way). */
static char *read_text(const char *path, const char **why)
{
    struct cvma_buf b = {0};
    char *s = NULL;
    enum cvma_status st = cvma_file_read_secret(path, 1u << 20, &b);
    *why = st == CVMA_OK ? "out of memory" : cvma_file_read_strerror(errno);
    if (st == CVMA_OK && b.len > 0 && memchr(b.p, '\0', b.len) != NULL) {
        /* Not PEM text; and the string's wipe (cvma_str_free_secret) stops at the first NUL. */
        *why = "it holds a NUL byte (not PEM text)";
    } else if (st == CVMA_OK && (s = malloc(b.len + 1)) != NULL) {
        memcpy(s, b.p, b.len);
        s[b.len] = '\0';
    }
    cvma_buf_free_secret(&b);
    return s;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv4 addresses). */
static bool parse_listen(const char *l, struct sockaddr_storage *ss, socklen_t *sl, char *err,
                         size_t err_len)
{
    char host[128];
    const char *colon = strrchr(l, ':');
    memset(ss, 0, sizeof *ss);
    if (colon == NULL || (size_t)(colon - l) >= sizeof host) {
        cvma_errf(err, err_len, "--listen wants HOST:PORT, not '%s'", l);
        return false;
    }
    memcpy(host, l, (size_t)(colon - l));
    host[colon - l] = '\0';
    uint64_t port;
    if (!cvma_dec_u64(colon + 1, strlen(colon + 1), 0, 65535, &port)) {
        cvma_errf(err, err_len, "--listen '%s': bad port", l);
        return false;
    }
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) {
            cvma_errf(err, err_len, "--listen '%s': bad IPv6 address", l);
            return false;
        }
        *sl = sizeof *a6;
        return true;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (hl == 0) {
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (strcmp(host, "localhost") == 0) {
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
        cvma_errf(err, err_len, "--listen '%s': HOST must be an IP address", l);
        return false;
    }
    *sl = sizeof *a4;
    return true;
}

/* The port of an address parse_listen made (0: the system picks one). */
static uint16_t listen_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    }
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

int cvma_server_run(struct cvma_verifier *v, const struct cvma_server_config *cfg, char *err,
                    size_t err_len)
{
    struct server s;
    char *cert_s = NULL, *key_s = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    struct MHD_Daemon *d = NULL;
    sigset_t set, old;
    int rc = 2;
    uint8_t pfx[4];

    /* A peer that closed (a client, Redis over TLS, whose writes are not send(MSG_NOSIGNAL))
     * is an error to handle, not a signal that ends the service. */
    signal(SIGPIPE, SIG_IGN);
    memset(&s, 0, sizeof s);
    atomic_store(&draining, false);
    s.v = v;
    s.cfg = *cfg;
    if (s.cfg.listen == NULL) {
        s.cfg.listen = "127.0.0.1:8080";
    }
    s.cfg.threads = s.cfg.threads != 0 ? s.cfg.threads : 4;
    s.cfg.max_body = s.cfg.max_body != 0 ? s.cfg.max_body : (size_t)1 << 20;
    s.cfg.timeout = s.cfg.timeout != 0 ? s.cfg.timeout : 30;
    s.cfg.nonce_ttl = s.cfg.nonce_ttl > 0 ? s.cfg.nonce_ttl : 300;
    s.cfg.token_ttl = s.cfg.token_ttl > 0 ? s.cfg.token_ttl : 300;
    s.cfg.drain = s.cfg.drain != 0 ? s.cfg.drain : 30;
    s.cfg.per_ip_connections = s.cfg.per_ip_connections != 0 ? s.cfg.per_ip_connections : 64;
    cvma_conns_init(&s.conns, s.cfg.timeout, "cvmattest serve: request_id=-");
    if (s.cfg.nonce_key.len == 0) {
        s.cfg.nonce_key.len = 32;
        if (RAND_bytes(s.cfg.nonce_key.key, 32) != 1) {
            cvma_errf(err, err_len, "no randomness for the nonce key");
            return 2;
        }
    }
    if (RAND_bytes(pfx, sizeof pfx) != 1) {
        cvma_errf(err, err_len, "no randomness");
        return 2;
    }
    cvma_hex_encode(pfx, sizeof pfx, s.rid_prefix, sizeof s.rid_prefix);
    if (!parse_listen(s.cfg.listen, &ss, &sl, err, err_len)) {
        return 2;
    }
    if ((s.cfg.tls_cert_file == NULL) != (s.cfg.tls_key_file == NULL)) {
        cvma_errf(err, err_len, "--tls-cert and --tls-key go together");
        return 2;
    }
    if (s.cfg.tls_cert_file != NULL) {
        const char *why = NULL;
        if ((cert_s = read_text(s.cfg.tls_cert_file, &why)) == NULL) {
            cvma_errf(err, err_len, "cannot read --tls-cert '%s': %s", s.cfg.tls_cert_file, why);
            goto out;
        }
        if ((key_s = read_text(s.cfg.tls_key_file, &why)) == NULL) {
            cvma_errf(err, err_len, "cannot read --tls-key '%s': %s", s.cfg.tls_key_file, why);
            goto out;
        }
    }
    const struct cvma_redis_opts ro = {s.cfg.redis_password, s.cfg.redis_ca_file,
                                       s.cfg.redis_cert_file, s.cfg.redis_key_file};
    if ((s.spent = cvma_spent_new(s.cfg.redis_url, &ro, err, err_len)) == NULL) {
        goto out;
    }
    /* Spent nonces are kept a nonce TTL past their expiry: instances whose clocks disagree by
     * less than that never take a nonce for both unexpired and forgotten (docs/service.md). */
    cvma_spent_set_margin(s.spent, s.cfg.nonce_ttl);
    char refused[600];
    bool answers = s.cfg.redis_url == NULL || cvma_spent_healthy(s.spent);
    if (!answers && cvma_spent_auth_refused(s.spent, refused, sizeof refused) &&
        strncmp(refused, "SELECT ", 7) == 0) {
        /* Redis answers but not with the URL's database: every nonce would be refused. */
        cvma_errf(err, err_len,
                  "redis %s refused the URL's database (%s): give a /DB it serves (below its "
                  "`databases`; 0 for a cluster) (docs/operations.md)",
                  s.cfg.redis_url, refused);
        goto out;
    } else if (!answers && cvma_spent_auth_refused(s.spent, refused, sizeof refused)) {
        /* Redis answers but not to us: a configuration error, not an outage to wait out. */
        cvma_errf(err, err_len,
                  "redis %s refused %s (%s): check --redis-password-file and the user in "
                  "--redis (docs/operations.md)",
                  s.cfg.redis_url,
                  strncmp(refused, "NOPERM", 6) == 0 ? "a command to this instance's ACL user"
                  : s.cfg.redis_password != NULL     ? "the password"
                                                     : "a client without a password",
                  refused);
        goto out;
    } else if (!answers && cvma_spent_tls_failed(s.spent, refused, sizeof refused)) {
        /* Its port answers, but TLS with it fails: the certificates or the URL are wrong. */
        cvma_errf(err, err_len,
                  "redis %s: %s: check --redis-ca, --redis-cert and --redis-key, and that the "
                  "URL's host is the one its certificate names (docs/operations.md)",
                  s.cfg.redis_url, refused);
        goto out;
    } else if (!answers) {
        fprintf(stderr,
                "cvmattest serve: warning: redis %s does not answer yet; nonces are "
                "refused until it does\n",
                s.cfg.redis_url);
    } else if (s.cfg.redis_url != NULL) {
        /* A Redis that evicts keys under memory pressure can forget a spent nonce, and a
         * replay of it would then be accepted: refused, as the promise is no replay. */
        char why[160];
        enum cvma_spent_eviction e = cvma_spent_eviction(s.spent, why, sizeof why);
        if (e == CVMA_SPENT_EVICTS) {
            cvma_errf(err, err_len,
                      "redis %s may evict keys (%s): a spent nonce could be forgotten and its "
                      "replay accepted; set maxmemory-policy noeviction, or give the nonces a "
                      "Redis of their own that does not evict (docs/operations.md)",
                      s.cfg.redis_url, why);
            goto out;
        }
        if (e == CVMA_SPENT_UNKNOWN) {
            fprintf(stderr,
                    "cvmattest serve: warning: redis %s: %s; make sure it does not evict keys "
                    "(maxmemory-policy noeviction), or a spent nonce could be forgotten\n",
                    s.cfg.redis_url, why);
        }
    }
    if (v->result_key != NULL && !cvma_ear_key_id(v->result_key, s.kid)) {
        cvma_errf(err, err_len, "out of memory (or an unusable result key)");
        goto out;
    }
    if ((s.metrics = cvma_metrics_new()) == NULL ||
        (s.jwks = make_jwks(v->result_key, s.kid)) == NULL) {
        cvma_errf(err, err_len, "out of memory (or an unusable result key)");
        goto out;
    }

    /* The workers inherit a mask with SIGTERM, SIGINT and SIGHUP blocked: this thread waits
     * for them. SIGHUP (a terminal hung up, a `kill -HUP` meant as a reload: there is none)
     * drains as SIGTERM does, rather than end the process at once by its default action. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    /* poll, not epoll: libmicrohttpd 0.9.75's epoll (edge-triggered) misses a close that
     * arrives with the last data (part of a body, then FIN), and holds that connection, its
     * per-address slot and a drain until --timeout; poll sees it at once. */
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                         MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
                         (cert_s != NULL ? MHD_USE_TLS : 0);
    /* TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1): GnuTLS's defaults, which
     * libmicrohttpd would otherwise take, still allow them. A GnuTLS that does not take the
     * string stops the start (libmicrohttpd logs GnuTLS's words, then MHD_start_daemon fails). */
    struct MHD_OptionItem tls_opts[] = {
            {MHD_OPTION_HTTPS_MEM_CERT, 0, cert_s},
            {MHD_OPTION_HTTPS_MEM_KEY, 0, key_s},
            {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)CVMA_SERVE_TLS_PRIORITIES},
            {MHD_OPTION_END, 0, NULL},
    };
    /* One thread: the daemon's own, no pool option at all (libmicrohttpd warns that a pool
     * of 0 or 1 is ignored). */
    struct MHD_OptionItem pool_opts[] = {
            {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)s.cfg.threads, NULL},
            {MHD_OPTION_END, 0, NULL},
    };
    /* The logger first: libmicrohttpd uses its own for what it logs before seeing it. The port
     * is the one MHD_OPTION_SOCK_ADDR binds, given again because libmicrohttpd names that
     * argument, not the address's, when the bind fails ("Failed to bind to port N"). */
    d = MHD_start_daemon(
            flags, listen_port(&ss), NULL, NULL, on_request, &s, MHD_OPTION_EXTERNAL_LOGGER,
            log_mhd, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_ARRAY,
            s.cfg.threads > 1 ? pool_opts : &pool_opts[1], MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned int)s.cfg.timeout, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s, MHD_OPTION_NOTIFY_CONNECTION,
            cvma_conns_notify, &s.conns, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned int)CVMA_SERVE_CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            s.cfg.per_ip_connections < 0 ? 0u : (unsigned int)s.cfg.per_ip_connections,
            MHD_OPTION_ARRAY,
            cert_s != NULL ? tls_opts : &tls_opts[sizeof tls_opts / sizeof tls_opts[0] - 1],
            MHD_OPTION_END);
    if (d == NULL) {
        cvma_errf(err, err_len, "cannot listen on %s%s", s.cfg.listen,
                  cert_s != NULL ? " (or the TLS certificate and key are unusable, or GnuTLS "
                                   "refuses the TLS priorities " CVMA_SERVE_TLS_PRIORITIES
                                   ": libmicrohttpd's message above says which)"
                                 : "");
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        goto out;
    }
    (void)sl;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di != NULL ? di->port : 0;
    /* The URL with the port bound, which for --listen HOST:0 the system chose. */
    const char *colon = strrchr(s.cfg.listen, ':');
    int hlen = colon != NULL ? (int)(colon - s.cfg.listen) : 0;
    fprintf(stderr, "cvmattest serve: listening on %s://%.*s:%u (port %u), %u threads%s\n",
            cert_s != NULL ? "https" : "http", hlen > 0 ? hlen : 7,
            hlen > 0 ? s.cfg.listen : "0.0.0.0", port, port, s.cfg.threads,
            s.cfg.redis_url != NULL ? ", spent nonces in redis" : "");
    if (s.cfg.port_file != NULL) {
        char pb[16];
        int n = snprintf(pb, sizeof pb, "%u\n", port);
        if (cvma_file_write_atomic(s.cfg.port_file, (const uint8_t *)pb, (size_t)n) != CVMA_OK) {
            fprintf(stderr, "cvmattest serve: cannot write --port-file '%s'\n", s.cfg.port_file);
        }
    }

    /* Waits for SIGTERM or SIGINT, sweeping slow clients out once a second. */
    int sig;
    struct timespec second = {1, 0};
    while ((sig = sigtimedwait(&set, NULL, &second)) <= 0) {
        sweep_slow(&s);
    }
    fprintf(stderr, "cvmattest serve: %s: no new connections; draining %d request(s)\n",
            sig == SIGTERM  ? "SIGTERM"
            : sig == SIGHUP ? "SIGHUP"
                            : "SIGINT",
            atomic_load(&s.active));
    atomic_store(&draining, true);
    MHD_socket lfd = MHD_quiesce_daemon(d);
    if (lfd != MHD_INVALID_SOCKET) {
        /* Stop listening now (connections waiting in the backlog are reset, new ones refused)
         * so a load balancer fails over at once; the descriptor is closed after the stop. */
        shutdown(lfd, SHUT_RDWR);
    }
    long long swept = cvma_monotonic_ms();
    drain_wait(&s, &set, &s.active, (double)s.cfg.drain, &swept, "draining");
    int left = atomic_load(&s.active);
    if (atomic_load(&s.working) > 0) {
        /* Past --drain: what is left and not being answered (a body still coming, a kept-alive
         * connection between requests) is closed; a request being answered (a verification
         * fetching collateral online, say) is waited for, and its answer sent. */
        fprintf(stderr,
                "cvmattest serve: drain time-out: waiting for %d request(s) being answered\n",
                atomic_load(&s.working));
        drain_wait(&s, &set, &s.working, 0, &swept, "answering");
    }
    MHD_stop_daemon(d);
    if (lfd != MHD_INVALID_SOCKET) {
        close(lfd);
    }
    /* Ignored from now on (a pending one is discarded when its action becomes SIG_IGN), so a
     * signal that comes while the mask is restored or the process exits cannot end it with
     * another status than 0. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    fprintf(stderr, "cvmattest serve: stopped%s\n", left > 0 ? " (drain time-out)" : "");
    rc = 0;
out:
    free(s.jwks);
    cvma_metrics_free(s.metrics);
    cvma_spent_free(s.spent);
    free(cert_s);
    cvma_str_free_secret(key_s);                               /* the TLS private key */
    OPENSSL_cleanse(&s.cfg.nonce_key, sizeof s.cfg.nonce_key); /* who has it can mint nonces */
    cvma_conns_cleanup(&s.conns);
    return rc;
}
