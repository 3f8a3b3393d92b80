/*
 * cvmattest demo: the verification service (docs/service.md) verifying the CVM's evidence over
 * HTTP. `cvmattest serve` runs as a child process on a free loopback port; the demo takes a
 * nonce from GET /v1/nonce, has the simulated CVM bind its evidence to it, POSTs it to
 * /v1/verify (collateral/http.h, the one HTTP client), and checks the signed token the service
 * returns with the service's public key.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "collateral/http.h"
#include "common/base64.h"
#include "common/json_out.h"
#include "common/util.h"
#include "crypto/jws.h"
#include "demo.h"
#include "result/ear.h"
#include "sim/sim_atls.h"

/* The service's answers: any status, body kept (4 MiB at most), one attempt, 5 s to connect and
 * 20 s in all. */
static const struct cvma_http_opts http_opts = {
        .connect_timeout_ms = 5000, .timeout_ms = 20000, .max_retries = -1, .max_body = 4u << 20};

/* Starts `cvmattest serve` (this very binary); its port once it listens, 0 on failure. */
static unsigned start(struct demo *d, const struct demo_service_opts *o, pid_t *pid)
{
    char *port_file = cvma_path_join(d->dir, "serve.port");
    char *log = cvma_path_join(d->dir, "serve.log");
    unsigned port = 0;
    *pid = -1;
    if (port_file == NULL || log == NULL) {
        goto out;
    }
    char *const argv[] = {
            (char *)(uintptr_t) "cvmattest",   (char *)(uintptr_t) "serve",
            (char *)(uintptr_t) "--listen",    (char *)(uintptr_t) "127.0.0.1:0",
            (char *)(uintptr_t) "--port-file", port_file,
            (char *)(uintptr_t) "--offline",   (char *)(uintptr_t) "--threads",
            (char *)(uintptr_t) "2",           (char *)(uintptr_t) "--trust-root",
            (char *)(uintptr_t)o->root,        (char *)(uintptr_t) "--policy",
            (char *)(uintptr_t)o->policy,      (char *)(uintptr_t) "--provider",
            (char *)(uintptr_t)o->provider,    (char *)(uintptr_t) "--registry",
            (char *)(uintptr_t)o->registry,    (char *)(uintptr_t) "--sign-result",
            (char *)(uintptr_t)o->sign_key,    NULL,
    };
    fflush(stdout);
    fflush(stderr);
    *pid = fork();
    if (*pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        if (f != NULL && dup2(fileno(f), STDERR_FILENO) >= 0) {
            execv("/proc/self/exe", argv);
        }
        _exit(127);
    }
    for (int i = 0; *pid > 0 && i < 400 && port == 0; i++) { /* 20 s at most */
        struct cvma_buf b = {0};
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 50000000L};
        if (cvma_file_read(port_file, 64, &b) == CVMA_OK && b.len > 0) {
            unsigned long v = strtoul((const char *)b.p, NULL, 10);
            port = v > 0 && v < 65536 ? (unsigned)v : 0;
        }
        cvma_buf_free(&b);
        if (port == 0) {
            if (waitpid(*pid, NULL, WNOHANG) == *pid) {
                *pid = -1; /* it exited */
                break;
            }
            nanosleep(&ts, NULL);
        }
    }
out:
    free(port_file);
    free(log);
    return port;
}

static void stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* The token of the answer checked with the service's public key. */
static void check_token(struct demo *d, const json_t *answer, const char *nonce,
                        const struct demo_service_opts *o)
{
    const char *token = json_string_value(json_object_get(answer, "token"));
    struct cvma_buf pb = {0};
    EVP_PKEY *pub = NULL;
    json_t *claims = NULL;
    struct cvma_ear_decision dec;
    char err[256] = "";
    bool ok = false;
    /* err says which sub-step failed: each sets it (the EAR calls write their own) */
    if (token == NULL) {
        snprintf(err, sizeof err, "no token in the answer");
    } else if (cvma_file_read(o->sign_pub, 16384, &pb) != CVMA_OK) {
        snprintf(err, sizeof err, "cannot read the service's public key %s", o->sign_pub);
    } else if ((pub = cvma_jws_key_from_pem(pb.p, pb.len, false)) == NULL) {
        snprintf(err, sizeof err, "the service's public key %s is not a PEM public key",
                 o->sign_pub);
    }
    if (pub != NULL &&
        cvma_ear_verify(token, strlen(token), pub, &claims, err, sizeof err) == CVMA_OK &&
        cvma_ear_decide(claims, time(NULL), -1, &dec, err, sizeof err) == CVMA_OK) {
        const char *en = json_string_value(json_object_get(claims, "eat_nonce"));
        ok = (dec.tier == CVMA_EAR_AFFIRMING || dec.tier == CVMA_EAR_WARNING) && en != NULL &&
             strcmp(en, nonce) == 0;
        demo_line(d, ok,
                  "its token (EAR) verifies with the service's key: ear.status %s, eat_nonce %s "
                  "our nonce",
                  cvma_ear_tier_name(dec.tier), en != NULL && strcmp(en, nonce) == 0 ? "=" : "!=");
    } else {
        demo_line(d, false, "its token does not verify: %s",
                  err[0] != '\0' ? err : "no reason given");
    }
    json_decref(claims);
    EVP_PKEY_free(pub);
    cvma_buf_free(&pb);
}

void demo_service(struct demo *d, const struct demo_service_opts *o)
{
    pid_t pid = -1;
    char url[128], label[128];
    struct cvma_buf b = {0};
    long code = 0;
    char *text = NULL;
    json_t *j = NULL, *req = NULL;
    uint8_t nonce[64], rd[64], *ev = NULL;
    size_t nlen = 0, ev_len = 0;
    char *b64 = NULL, *post = NULL, err[256] = "";
    const char *nonce_s = NULL;

    unsigned port = start(d, o, &pid);
    if (port == 0) {
        /* Its first words (the directory is removed at the end). */
        char *log = cvma_path_join(d->dir, "serve.log");
        struct cvma_buf lb = {0};
        int n = 0;
        if (log != NULL && cvma_file_read(log, 1u << 16, &lb) == CVMA_OK && lb.len > 0) {
            while ((size_t)n < lb.len && n < 160 && lb.p[n] != '\n') {
                n++;
            }
        }
        demo_line(d, false, "the service (cvmattest serve) did not start: %.*s", n,
                  n > 0 ? (const char *)lb.p : "no output");
        cvma_buf_free(&lb);
        free(log);
        goto out;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/nonce", port);
    const struct cvma_http_request get = {.any_status = true};
    if (cvma_http_do(&http_opts, url, &get, &b, &code, err, sizeof err) != CVMA_OK || code != 200 ||
        (j = json_loadb((const char *)b.p, b.len, 0, NULL)) == NULL ||
        (nonce_s = json_string_value(json_object_get(j, "nonce"))) == NULL ||
        !cvma_base64_decode(nonce_s, strlen(nonce_s), CVMA_B64_URL, nonce, sizeof nonce, &nlen)) {
        char why[64];
        snprintf(why, sizeof why, "HTTP %ld", code);
        demo_line(d, false, "GET /v1/nonce on 127.0.0.1:%u: no nonce (%s)", port,
                  err[0] != '\0' ? err
                  : code != 200  ? why
                                 : "no nonce in the answer");
        goto out;
    }
    /* The service's nonce, raw, at the start of REPORT_DATA (docs/service.md). */
    memset(rd, 0, sizeof rd);
    memcpy(rd, nonce, nlen);
    if (cvma_sim_atls_evidence(o->sim_dir, rd, &ev, &ev_len, err, sizeof err) != CVMA_OK) {
        demo_line(d, false, "could not make the evidence: %s",
                  err[0] != '\0' ? err : "the simulator gave no reason");
        goto out;
    }
    if ((b64 = cvma_base64_encode(ev, ev_len, CVMA_B64_STD)) == NULL ||
        (req = json_pack("{s:s, s:s}", "evidence", b64, "nonce", nonce_s)) == NULL ||
        (post = cvma_json_compact(req, NULL)) == NULL) {
        demo_line(d, false, "could not make the request: out of memory");
        goto out;
    }
    cvma_buf_free(&b);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/verify", port);
    const struct cvma_http_request rq = {.method = "POST",
                                         .content_type = "application/json",
                                         .body = post,
                                         .body_len = strlen(post),
                                         .any_status = true};
    if (cvma_http_do(&http_opts, url, &rq, &b, &code, err, sizeof err) == CVMA_OK) {
        text = strndup((const char *)b.p, b.len); /* NULL on a failure: reported below */
    }
    snprintf(label, sizeof label, "cvmattest serve on 127.0.0.1:%u, GET /v1/nonce, POST /v1/verify",
             port);
    const struct demo_want want = {.accept = true};
    json_t *ans = code == 200 && text != NULL ? json_loads(text, 0, NULL) : NULL;
    if (ans == NULL) {
        char why[160];
        snprintf(why, sizeof why, "HTTP %ld: %.100s", code, text != NULL ? text : err);
        demo_report(d, label, NULL, &want, why);
        goto out;
    }
    if (demo_report(d, label, text, &want, NULL)) {
        check_token(d, ans, nonce_s, o);
    }
    json_decref(ans);
out:
    stop(pid);
    json_decref(j);
    json_decref(req);
    cvma_buf_free(&b);
    free(text);
    free(ev);
    free(b64);
    free(post);
}
