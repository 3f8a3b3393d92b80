/*
 * cvmattest witness serve: the tlog-witness HTTP interface (POST <prefix>/add-checkpoint) on
 * libmicrohttpd, one request at a time, so that checking the old size and persisting the new
 * checkpoint are atomic (and cvma_witness_add also locks the state directory against a
 * concurrent `witness cosign`). Plain HTTP: put it behind a TLS proxy to expose it.
 *
 * As one request is served at a time, a client must not hold the server: connections are
 * limited in number (all of them, and per address), a request's header must be whole within
 * --timeout (and 2 s) of the connection's start and its body within --timeout of the header,
 * however it trickles in (server/conns.h, as `cvmattest serve`), and a body over BODY_MAX is
 * never read on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "args.h"
#include "cmd_registry.h"
#include "cmd_witness.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "server/conns.h"
#include "server/framing.h"
#include "tlog/tlog.h"

#define MAX_LOGS 64
#define BODY_MAX ((size_t)64 << 10)
/* Connections at once, from all clients; the default per address. */
#define CONNECTIONS_MAX 256
#define PER_IP_DEFAULT  16
#define TIMEOUT_DEFAULT 10
#define TIMEOUT_MAX     3600

const char cvma_witness_serve_usage[] =
        "  serve --state DIR --key W.key --log-vkey NAME.vkey... [--listen ADDR:PORT]\n"
        "        [--port-file FILE] [--timeout SECONDS] [--per-ip-connections N]\n"
        "        serves POST /add-checkpoint (C2SP tlog-witness) until SIGINT or SIGTERM;\n"
        "        --listen defaults to 127.0.0.1:0 (a free port, written to --port-file);\n"
        "        --timeout (default 10, at most 3600): idle time-out, and the time a\n"
        "        request's header and its body must each arrive in; --per-ip-connections\n"
        "        (default 16; 0: no limit): connections at once from one address (256 in all)\n";

struct server {
    struct cvma_conns conns; /* the time limits on a request's header and body */
    unsigned timeout;        /* seconds */
    const char *state;
    struct cvma_note_skey wk;
    struct cvma_note_vkey logs[MAX_LOGS];
    size_t n_logs;
};

struct request {
    struct cvma_buf body;
    bool answered; /* answered from the header (404, 405, 413): the body is not read */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* An answer of text; allow (a 405's Allow header) may be NULL; closing: "Connection: close",
 * nothing the client sends after it read as a request. */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
                              const char *text, const char *allow, bool closing)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                                             MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    if (allow != NULL) {
        MHD_add_response_header(r, "Allow", allow); /* a 405's (RFC 9110 15.5.6) */
    }
    if (closing) {
        MHD_add_response_header(r, "Connection", "close");
    }
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *text)
{
    return answer(c, status, type, text, NULL, false);
}

/* Whether the request's Content-Length (when it has one) is over BODY_MAX or unreadable. */
static bool declared_too_big(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    uint64_t n;
    return cl != NULL && !cvma_cli_uint(cl, 0, BODY_MAX, &n);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct server *s = cls;
    struct request *rq = *con_cls;

    if (rq == NULL) {
        if ((rq = calloc(1, sizeof *rq)) == NULL) {
            return MHD_NO;
        }
        *con_cls = rq;
        cvma_conns_header_done(c); /* its header is whole: out of the sweep's way */
        char why[160], msg[170];
        if (cvma_http_framing_refused(c, version, why, sizeof why)) {
            /* framing a proxy in front may read otherwise (server/framing.h): refused from the
             * header, as `cvmattest serve` does, the connection closed after */
            rq->answered = true;
            cvma_cli_err("cvmattest witness serve: 400: %s\n", why);
            snprintf(msg, sizeof msg, "%s\n", why);
            return answer(c, 400, "text/plain", msg, NULL, true);
        }
        /* Answered from the header, before any of the body is read; the connection is closed
         * after (its body unread). */
        if (strcmp(url, "/add-checkpoint") != 0) {
            rq->answered = true;
            return reply(c, 404, "text/plain", "not found\n");
        }
        if (strcmp(method, "POST") != 0) {
            rq->answered = true;
            return answer(c, 405, "text/plain", "POST only\n", "POST", false);
        }
        if (declared_too_big(c)) {
            rq->answered = true;
            cvma_cli_err("cvmattest witness serve: 413: Content-Length over %zu bytes\n", BODY_MAX);
            return reply(c, 413, "text/plain", "request body too large\n");
        }
        /* the body is due --timeout from now, however it trickles in (cvma_conns_sweep) */
        cvma_conns_body_due(c, cvma_monotonic_ms() + (long long)s->timeout * 1000);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->answered) {
            return MHD_NO; /* an answer is queued: the rest of the body is not read */
        }
        if (n > BODY_MAX - rq->body.len) {
            /* A chunked body over the limit (a Content-Length over it is answered above):
             * libmicrohttpd 0.9 takes no answer mid-body, so the connection is closed
             * unanswered, the rest not read. */
            cvma_cli_err("cvmattest witness serve: 413: the body goes on past %zu bytes: the "
                         "connection is closed, the rest not read\n",
                         BODY_MAX);
            return MHD_NO;
        }
        uint8_t *p = realloc(rq->body.p, rq->body.len + n);
        if (p == NULL) {
            return MHD_NO;
        }
        memcpy(p + rq->body.len, upload, n);
        rq->body.p = p;
        rq->body.len += n;
        return MHD_YES;
    }
    if (rq->answered) {
        return MHD_YES;
    }
    cvma_conns_body_done(c); /* whole: the cosigning that follows is not counted against it */
    uint64_t old = 0, known = 0;
    uint8_t proof[CVMA_TLOG_PROOF_MAX][32];
    size_t n_proof = 0;
    struct cvma_span cp;
    char err[400], msg[480], *line = NULL;
    if (!cvma_witness_parse_request(rq->body.p, rq->body.len, &old, proof, &n_proof, &cp, err,
                                    sizeof err)) {
        snprintf(msg, sizeof msg, "%s\n", err);
        return reply(c, 400, "text/plain", msg);
    }
    enum cvma_witness_result r = cvma_witness_add(
            s->state, &s->wk, s->logs, s->n_logs, cp.p, cp.len, old, (const uint8_t(*)[32])proof,
            n_proof, (uint64_t)time(NULL), &line, &known, err, sizeof err);
    unsigned status = (unsigned)cvma_witness_http_status(r);
    enum MHD_Result ret;
    if (r == CVMA_WITNESS_OK) {
        ret = reply(c, 200, "text/plain; charset=utf-8", line);
    } else if (r == CVMA_WITNESS_CONFLICT) {
        cvma_cli_err("cvmattest witness serve: 409: %s\n", err);
        snprintf(msg, sizeof msg, "%" PRIu64 "\n", known);
        ret = reply(c, 409, "text/x.tlog.size", msg);
    } else {
        cvma_cli_err("cvmattest witness serve: %u: %s\n", status, err);
        snprintf(msg, sizeof msg, "%s\n", err);
        ret = reply(c, status, "text/plain", msg);
    }
    free(line);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    struct request *rq = *con_cls;
    (void)cls;
    (void)code;
    (void)cvma_conns_request_end(c); /* the next request's header has --timeout from now */
    if (rq != NULL) {
        cvma_buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

int cvma_witness_serve(int argc, char **argv)
{
    enum { O_STATE = 256, O_KEY, O_LOG_VKEY, O_LISTEN, O_PORT_FILE, O_TIMEOUT, O_PER_IP };
    static const struct option opts[] = {
            {"state", required_argument, NULL, O_STATE},
            {"key", required_argument, NULL, O_KEY},
            {"log-vkey", required_argument, NULL, O_LOG_VKEY | CVMA_CLI_MANY},
            {"listen", required_argument, NULL, O_LISTEN},
            {"port-file", required_argument, NULL, O_PORT_FILE},
            {"timeout", required_argument, NULL, O_TIMEOUT},
            {"per-ip-connections", required_argument, NULL, O_PER_IP},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    static struct server s; /* large; one per process */
    const char *keyf = NULL, *listen_s = "127.0.0.1:0", *port_file = NULL;
    char *logf[MAX_LOGS], host[64], err[300];
    struct sockaddr_in addr;
    struct MHD_Daemon *d = NULL;
    int rc = EXIT_USAGE, c;
    uint64_t timeout = TIMEOUT_DEFAULT, per_ip = PER_IP_DEFAULT;
    bool conns = false;

    memset(&s, 0, sizeof s);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_STATE:
            s.state = optarg;
            break;
        case O_KEY:
            keyf = optarg;
            break;
        case O_LOG_VKEY:
            if (s.n_logs == MAX_LOGS) {
                return cvma_witness_usage_error("serve", "too many --log-vkey options");
            }
            logf[s.n_logs++] = optarg;
            break;
        case O_LISTEN:
            listen_s = optarg;
            break;
        case O_PORT_FILE:
            port_file = optarg;
            break;
        case O_TIMEOUT:
            if (!cvma_cli_uint(optarg, 1, TIMEOUT_MAX, &timeout)) {
                return cvma_witness_usage_error("serve", "--timeout wants 1 to 3600 seconds");
            }
            break;
        case O_PER_IP:
            if (!cvma_cli_uint(optarg, 0, CONNECTIONS_MAX, &per_ip)) {
                return cvma_witness_usage_error("serve",
                                                "--per-ip-connections wants a number from 0 "
                                                "to 256");
            }
            break;
        case 'h':
            cvma_witness_help(cvma_witness_serve_usage);
            return EXIT_OK;
        default:
            return cvma_witness_bad_option("serve", c, argv);
        }
    }
    if (s.state == NULL || keyf == NULL || s.n_logs == 0 || optind < argc) {
        return cvma_witness_usage_error("serve", "--state, --key and --log-vkey are required");
    }
    const char *colon = strrchr(listen_s, ':');
    uint64_t port = 0;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    if (colon == NULL || (size_t)(colon - listen_s) >= sizeof host ||
        !cvma_cli_uint(colon + 1, 0, 65535, &port)) {
        return cvma_witness_usage_error("serve", "--listen wants IPV4:PORT");
    }
    memcpy(host, listen_s, (size_t)(colon - listen_s));
    host[colon - listen_s] = '\0';
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        return cvma_witness_usage_error("serve", "--listen wants IPV4:PORT");
    }
    addr.sin_port = htons((uint16_t)port);
    if (cvma_note_skey_load(keyf, &s.wk, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest witness serve: %s\n", err);
        goto out;
    }
    if (cvma_witness_load_logs("serve", logf, s.n_logs, s.logs) != EXIT_OK) {
        goto out;
    }
    s.timeout = (unsigned)timeout;
    cvma_conns_init(&s.conns, s.timeout, "cvmattest witness serve:");
    conns = true;
    /* poll, not select: no limit at FD_SETSIZE descriptors (as `cvmattest serve`). */
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                                 MHD_USE_ERROR_LOG,
                         (uint16_t)port, NULL, NULL, handle, &s, MHD_OPTION_SOCK_ADDR, &addr,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
                         cvma_conns_notify, &s.conns, MHD_OPTION_CONNECTION_TIMEOUT, s.timeout,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)per_ip, MHD_OPTION_END);
    if (d == NULL) {
        cvma_cli_err("cvmattest witness serve: cannot listen on %s\n", listen_s);
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info != NULL ? info->port : (unsigned)port;
    cvma_cli_err("cvmattest witness serve: %s listening on http://%s:%u/add-checkpoint\n",
                 s.wk.v.name, host, bound);
    if (port_file != NULL) {
        char pbuf[16];
        int n = snprintf(pbuf, sizeof pbuf, "%u\n", bound);
        if (cvma_file_write_atomic(port_file, (const uint8_t *)pbuf, (size_t)n) != CVMA_OK) {
            cvma_cli_err("cvmattest witness serve: cannot write '%s'\n", port_file);
            goto out;
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop) {
        sleep(1); /* the signal may land on the server's thread: poll the flag */
        unsigned cut = cvma_conns_sweep(&s.conns, NULL, NULL);
        if (cut > 0) {
            cvma_cli_err("cvmattest witness serve: %u connection(s) closed unanswered: no whole "
                         "request header or body within %u s (client time-out)\n",
                         cut, s.timeout);
        }
    }
    rc = EXIT_OK;
out:
    if (d != NULL) {
        MHD_stop_daemon(d);
    }
    if (conns) {
        cvma_conns_cleanup(&s.conns);
    }
    cvma_note_skey_cleanup(&s.wk);
    return rc;
}
