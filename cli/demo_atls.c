/*
 * cvmattest demo: attested TLS in-process (demo.h). The server is a thread on a loopback port
 * with a self-signed certificate made now, answering nonces with evidence from the simulated
 * TEE (sim/sim_atls.h); the client, on the caller's thread, verifies it through the library
 * (cvmattest/atls.h) and closes the connection when it refuses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "cvmattest/atls.h"
#include "demo.h"
#include "sim/sim_atls.h"

struct srv {
    int lfd;
    SSL_CTX *ctx;
    struct cvma_sim_atls sim;
    struct cvma_atls_source src;
    struct demo_atls *a;
};

static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1; /* aTLS: the evidence vouches for the key, not a CA */
}

/* A TLS 1.3 context with a fresh self-signed certificate (the server's), or none (client). */
static SSL_CTX *tls_ctx(bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    bool ok = ctx != NULL && SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1;
    if (ok && server) {
        ok = cvma_atls_self_signed("cvmattest demo CVM", 1, &k, &x) == CVMA_OK &&
             SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1;
    } else if (ok) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
    }
    EVP_PKEY_free(k);
    X509_free(x);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The CVM's side: one connection; nonces answered, data echoed, the client's ERROR noted. */
static void *srv_main(void *arg)
{
    struct srv *s = arg;
    char err[256];
    struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
    int cfd = accept(s->lfd, NULL, NULL);
    SSL *ssl = NULL;
    if (cfd < 0) {
        return NULL;
    }
    (void)setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if ((ssl = SSL_new(s->ctx)) != NULL && SSL_set_fd(ssl, cfd) == 1 && SSL_accept(ssl) == 1 &&
        cvma_atls_check_channel(ssl, err, sizeof err) == CVMA_OK) {
        uint8_t type = 0, *p = NULL;
        size_t len = 0;
        bool refused = false, after = false;
        struct timespec refused_at = {0, 0};
        while (cvma_atls_read_frame(ssl, &type, &p, &len) == CVMA_OK) {
            enum cvma_status st = CVMA_OK;
            if (refused) {
                after = true; /* the client went on after its refusal: no close */
                st = CVMA_E_IO;
            } else if (type == CVMA_ATLS_F_NONCE) {
                st = cvma_atls_answer(ssl, CVMA_ATLS_SERVER, p, len, &s->src, err, sizeof err);
            } else if (type == CVMA_ATLS_F_DATA) {
                char echo[64];
                int n = snprintf(echo, sizeof echo, "echo: %.*s", (int)(len > 40 ? 40 : len),
                                 (const char *)p);
                st = cvma_atls_write_frame(ssl, CVMA_ATLS_F_DATA, (const uint8_t *)echo, (size_t)n);
            } else if (type == CVMA_ATLS_F_ERROR) {
                /* Keep reading: the client is expected to close the connection now. */
                snprintf(s->a->server_saw, sizeof s->a->server_saw, "%.*s",
                         (int)(len > 80 ? 80 : len), (const char *)p);
                refused = true;
                clock_gettime(CLOCK_MONOTONIC, &refused_at);
            } else {
                st = CVMA_E_IO;
            }
            free(p);
            p = NULL;
            if (st != CVMA_OK) {
                break;
            }
        }
        free(p);
        /* Closed by the client: nothing after its ERROR, and the reading ended well before the
         * socket's 10 s time-out (the harness waits for this thread before it closes its own
         * end of a refused connection, so the close seen here is the client's). */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        s->a->server_closed = refused && !after && now.tv_sec - refused_at.tv_sec < 5;
    }
    if (ssl != NULL) {
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(cfd);
    ERR_clear_error();
    return NULL;
}

static int listen_loopback(uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static int connect_loopback(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* The client: the attestations of one connection. False with a->err when it cannot go on. */
static bool client(struct demo_atls *a, SSL *ssl)
{
    uint8_t nonces[4][CVMA_ATLS_NONCE_LEN];
    char err[512];
    bool answered = false; /* unused: this end does not attest */
    if (cvma_atls_check_channel(ssl, err, sizeof err) != CVMA_OK) {
        snprintf(a->err, sizeof a->err, "%.200s", err);
        return false;
    }
    for (unsigned i = 0; i < a->rounds && i < 4; i++) {
        uint8_t type = 0;
        struct cvma_result *r = NULL;
        if (i > 0) {
            struct timespec ts = {.tv_sec = a->lease_ms / 1000,
                                  .tv_nsec = (long)(a->lease_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        const char *prev = i > 0 ? a->results[i - 1] : NULL;
        struct cvma_atls_check chk = {
                .peer_role = CVMA_ATLS_SERVER,
                .previous_result = prev,
                .previous_result_len = prev != NULL ? strlen(prev) : 0,
                .old_nonces = (const uint8_t(*)[CVMA_ATLS_NONCE_LEN])nonces,
                .n_old_nonces = i,
        };
        enum cvma_status st = cvma_atls_attest_peer(ssl, a->v, &chk, NULL, &answered, nonces[i], &r,
                                                    err, sizeof err);
        if (st != CVMA_OK || (a->results[i] = cvma_result_json(r, false)) == NULL) {
            snprintf(a->err, sizeof a->err, "%.200s", st != CVMA_OK ? err : "out of memory");
            cvma_result_free(r);
            return false;
        }
        a->n_results = i + 1;
        /* Another image on this session is refused whatever the status (cvma_atls_check). */
        if (cvma_result_exit_code(r) != 0 || cvma_result_has_reason(r, "MEASUREMENT_CHANGED")) {
            cvma_atls_send_refusal(ssl, r);
            cvma_result_free(r);
            a->refused = true;
            if (a->test_no_close) {
                return true; /* the connection left open: the server must not see a close */
            }
            /* A refused peer gets nothing more: close_notify, and the socket shut both ways. */
            (void)SSL_shutdown(ssl);
            (void)shutdown(SSL_get_fd(ssl), SHUT_RDWR);
            return true;
        }
        cvma_result_free(r);
        if (i == 0) {
            uint8_t *p = NULL;
            size_t len = 0;
            if (cvma_atls_write_frame(ssl, CVMA_ATLS_F_DATA, (const uint8_t *)"hello", 5) ==
                        CVMA_OK &&
                cvma_atls_read_frame(ssl, &type, &p, &len) == CVMA_OK && type == CVMA_ATLS_F_DATA) {
                snprintf(a->reply, sizeof a->reply, "%.*s", (int)(len > 60 ? 60 : len),
                         (const char *)p);
            }
            free(p);
        }
    }
    return true;
}

bool demo_atls_run(struct demo_atls *a)
{
    struct srv s;
    pthread_t t;
    bool started = false, joined = false, ok = false;
    SSL_CTX *cctx = NULL;
    SSL *ssl = NULL;
    uint16_t port = 0;
    int fd = -1;

    memset(&s, 0, sizeof s);
    s.a = a;
    s.lfd = -1;
    for (size_t i = 0; i < a->n_dirs && i < CVMA_SIM_ATLS_MAX_DIRS; i++) {
        s.sim.dirs[s.sim.n_dirs++] = a->dirs[i];
    }
    s.sim.switch_after = a->switch_after;
    cvma_sim_atls_source(&s.sim, &s.src);
    if ((s.ctx = tls_ctx(true)) == NULL || (cctx = tls_ctx(false)) == NULL ||
        (s.lfd = listen_loopback(&port)) < 0) {
        snprintf(a->err, sizeof a->err, "cannot set up TLS on loopback");
        goto out;
    }
    if (pthread_create(&t, NULL, srv_main, &s) != 0) {
        snprintf(a->err, sizeof a->err, "cannot start the server thread");
        goto out;
    }
    started = true;
    if ((fd = connect_loopback(port)) < 0 || (ssl = SSL_new(cctx)) == NULL ||
        SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
        snprintf(a->err, sizeof a->err, "cannot connect to 127.0.0.1:%u", (unsigned)port);
        goto out;
    }
    ok = client(a, ssl);
    if (ok && a->refused) {
        /* The close the server sees must be the client's own (client() closes on a refusal),
         * not this harness's: wait for the server before closing our end. */
        pthread_join(t, NULL);
        joined = true;
    }
out:
    if (ssl != NULL) {
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    if (fd >= 0) {
        close(fd);
    } else if (started) {
        /* The server thread waits in accept: let it through. */
        int kick = connect_loopback(port);
        if (kick >= 0) {
            close(kick);
        }
    }
    if (started && !joined) {
        pthread_join(t, NULL);
    }
    if (s.lfd >= 0) {
        close(s.lfd);
    }
    SSL_CTX_free(s.ctx);
    SSL_CTX_free(cctx);
    ERR_clear_error();
    return ok;
}

const char *demo_atls_why(const struct demo_atls *a, unsigned i, char *buf, size_t cap)
{
    if (a->err[0] != '\0') {
        snprintf(buf, cap, "%s", a->err);
    } else if (i > 0 && a->n_results == i && a->refused) {
        snprintf(buf, cap, "not attempted: lease %u was refused", i);
    } else {
        snprintf(buf, cap, "no result");
    }
    return buf;
}

void demo_atls_free(struct demo_atls *a)
{
    for (unsigned i = 0; i < a->n_results; i++) {
        free(a->results[i]);
        a->results[i] = NULL;
    }
    a->n_results = 0;
}
