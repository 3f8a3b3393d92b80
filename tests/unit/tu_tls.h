/*
 * Tests: two TLS endpoints over a socketpair, connected (the server's handshake in a thread),
 * the server's key and self-signed certificate fresh (cvma_atls_self_signed), for the tests of
 * attested TLS.
 */
#ifndef CVMA_TESTS_TU_TLS_H
#define CVMA_TESTS_TU_TLS_H

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "cvmattest/atls.h"
#include "testutil.h"

struct tu_tls_pair {
    SSL_CTX *sctx, *cctx;
    SSL *s, *c;
    int fd[2];
    int srv_ok;
};

static inline void *tu_tls_accept_thread(void *arg)
{
    struct tu_tls_pair *p = arg;
    p->srv_ok = SSL_accept(p->s);
    return NULL;
}

static inline int tu_tls_accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1; /* a self-signed peer certificate: what aTLS checks is the evidence */
}

/*
 * A connected pair; max_version 0: any (TLS 1.3 is negotiated), else the client's highest;
 * mutual: the client has a certificate too and the server asks for it. Reads and writes on
 * both ends time out after 10 s, so a peer that stops talking fails a test instead of
 * hanging it.
 */
static inline void tu_tls_pair_open_ex(struct tu_tls_pair *p, int max_version, bool mutual)
{
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    pthread_t t;
    struct timeval tv = {.tv_sec = 10};
    memset(p, 0, sizeof *p);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(setsockopt(p->fd[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
        assert_int_equal(setsockopt(p->fd[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
    }
    p->sctx = SSL_CTX_new(TLS_server_method());
    p->cctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(p->sctx);
    assert_non_null(p->cctx);
    assert_int_equal(cvma_atls_self_signed("test server", 1, &k, &x), CVMA_OK);
    assert_int_equal(SSL_CTX_use_certificate(p->sctx, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(p->sctx, k), 1);
    EVP_PKEY_free(k);
    X509_free(x);
    if (mutual) {
        assert_int_equal(cvma_atls_self_signed("test client", 1, &k, &x), CVMA_OK);
        assert_int_equal(SSL_CTX_use_certificate(p->cctx, x), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey(p->cctx, k), 1);
        EVP_PKEY_free(k);
        X509_free(x);
        SSL_CTX_set_verify(p->sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           tu_tls_accept_any);
    }
    if (max_version != 0) {
        SSL_CTX_set_max_proto_version(p->cctx, max_version);
    }
    p->s = SSL_new(p->sctx);
    p->c = SSL_new(p->cctx);
    SSL_set_fd(p->s, p->fd[0]);
    SSL_set_fd(p->c, p->fd[1]);
    assert_int_equal(pthread_create(&t, NULL, tu_tls_accept_thread, p), 0);
    int connected = SSL_connect(p->c);
    if (connected != 1) {
        shutdown(p->fd[1], SHUT_RDWR); /* the accept thread stops waiting for this end */
    }
    pthread_join(t, NULL); /* before any assertion leaves this frame, which the thread uses */
    assert_int_equal(connected, 1);
    assert_int_equal(p->srv_ok, 1);
}

static inline void tu_tls_pair_open(struct tu_tls_pair *p, int max_version)
{
    tu_tls_pair_open_ex(p, max_version, false);
}

static inline void tu_tls_pair_close(struct tu_tls_pair *p)
{
    SSL_free(p->s);
    SSL_free(p->c);
    SSL_CTX_free(p->sctx);
    SSL_CTX_free(p->cctx);
    close(p->fd[0]);
    close(p->fd[1]);
}

#endif
