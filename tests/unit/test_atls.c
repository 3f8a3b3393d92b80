/*
 * Attested TLS (cvmattest/atls.h) in memory: two TLS endpoints over a socketpair, the server
 * in a thread. The binding separates roles, sessions and nonces; TLS 1.2 is refused; evidence
 * from the simulator answers a nonce and verifies through the library, and the same evidence
 * checked on another session is ATLS_EVIDENCE_NOT_BOUND.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmattest/atls.h"
#include "sim/sim_atls.h"
#include "sim/sim_snp.h"
#include "testutil.h"

struct pair {
    SSL_CTX *sctx, *cctx;
    SSL *s, *c;
    int fd[2];
    int srv_ok;
};

static void *accept_thread(void *arg)
{
    struct pair *p = arg;
    p->srv_ok = SSL_accept(p->s);
    return NULL;
}

/* A connected pair; max_version 0: any (TLS 1.3 is negotiated). */
static void pair_open(struct pair *p, int max_version)
{
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    pthread_t t;
    memset(p, 0, sizeof *p);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
    p->sctx = SSL_CTX_new(TLS_server_method());
    p->cctx = SSL_CTX_new(TLS_client_method());
    assert_int_equal(cvma_atls_self_signed("test server", 1, &k, &x), CVMA_OK);
    assert_int_equal(SSL_CTX_use_certificate(p->sctx, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(p->sctx, k), 1);
    EVP_PKEY_free(k);
    X509_free(x);
    if (max_version != 0) {
        SSL_CTX_set_max_proto_version(p->cctx, max_version);
    }
    p->s = SSL_new(p->sctx);
    p->c = SSL_new(p->cctx);
    SSL_set_fd(p->s, p->fd[0]);
    SSL_set_fd(p->c, p->fd[1]);
    assert_int_equal(pthread_create(&t, NULL, accept_thread, p), 0);
    assert_int_equal(SSL_connect(p->c), 1);
    pthread_join(t, NULL);
    assert_int_equal(p->srv_ok, 1);
}

static void pair_close(struct pair *p)
{
    SSL_free(p->s);
    SSL_free(p->c);
    SSL_CTX_free(p->sctx);
    SSL_CTX_free(p->cctx);
    close(p->fd[0]);
    close(p->fd[1]);
}

static void test_atls_binding_separates_roles_sessions_nonces(void **state)
{
    struct pair a, b;
    uint8_t n1[32], n2[32], s1[64], c1[64], s2[64], peer1[64], other[64];
    char err[256];
    (void)state;
    memset(n1, 1, sizeof n1);
    memset(n2, 2, sizeof n2);
    pair_open(&a, 0);
    pair_open(&b, 0);
    assert_int_equal(cvma_atls_check_channel(a.c, err, sizeof err), CVMA_OK);
    X509 *srv = SSL_get_certificate(a.s);
    X509 *seen = SSL_get1_peer_certificate(a.c);
    /* Both ends compute the same value for the server's evidence. */
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, srv, n1, 32, s1, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_atls_binding(a.c, CVMA_ATLS_SERVER, seen, n1, 32, peer1, err, sizeof err),
                     CVMA_OK);
    assert_memory_equal(s1, peer1, 64);
    /* Another role, another nonce, another session: all differ. */
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_CLIENT, srv, n1, 32, c1, err, sizeof err),
                     CVMA_OK);
    assert_memory_not_equal(s1, c1, 64);
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, srv, n2, 32, s2, err, sizeof err),
                     CVMA_OK);
    assert_memory_not_equal(s1, s2, 64);
    assert_int_equal(cvma_atls_binding(b.s, CVMA_ATLS_SERVER, srv, n1, 32, other, err, sizeof err),
                     CVMA_OK);
    assert_memory_not_equal(s1, other, 64);
    /* A nonce of the wrong size is refused. */
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, srv, n1, 16, other, err, sizeof err),
                     CVMA_REJECTED);
    assert_int_equal(cvma_atls_cert_binding(srv, n1, 15, other), CVMA_E_USAGE);
    assert_int_equal(cvma_atls_cert_binding(srv, n1, 16, other), CVMA_OK);
    X509_free(seen);
    pair_close(&a);
    pair_close(&b);
}

static void test_atls_tls12_refused(void **state)
{
    struct pair a;
    uint8_t n[32] = {0}, out[64];
    char err[256];
    (void)state;
    pair_open(&a, TLS1_2_VERSION);
    assert_int_equal(cvma_atls_check_channel(a.c, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "ATLS_TLS_VERSION"));
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, SSL_get_certificate(a.s), n, 32, out,
                                       err, sizeof err),
                     CVMA_REJECTED);
    pair_close(&a);
}

struct answer_arg {
    SSL *ssl;
    const uint8_t *nonce;
    const struct cvma_atls_source *src;
    enum cvma_status st;
};

static void *answer_thread(void *arg)
{
    struct answer_arg *a = arg;
    char err[256];
    a->st = cvma_atls_answer(a->ssl, CVMA_ATLS_SERVER, a->nonce, 32, a->src, err, sizeof err);
    return NULL;
}

static void test_atls_simulated_evidence_verifies_only_on_its_session(void **state)
{
    char *dir = tu_tmpdir(), *ark = tu_path(dir, "ark.pem"), err[256];
    struct cvma_sim_snp_opts so;
    struct cvma_sim_atls sim = {.n_dirs = 1};
    struct cvma_atls_source src;
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_SERVER};
    struct cvma_result *res = NULL;
    struct pair a, b;
    uint8_t nonce[32], type = 0, *ev = NULL;
    size_t len = 0;
    pthread_t t;
    const char *roots[1];
    (void)state;

    cvma_sim_snp_opts_default(&so);
    so.keep_keys = true;
    assert_int_equal(cvma_sim_snp_write(&so, dir, err, sizeof err), CVMA_OK);
    sim.dirs[0] = dir;
    cvma_sim_atls_source(&sim, &src);
    roots[0] = ark;
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.offline = true;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_OK);

    memset(nonce, 7, sizeof nonce);
    pair_open(&a, 0);
    struct answer_arg arg = {.ssl = a.s, .nonce = nonce, .src = &src};
    assert_int_equal(pthread_create(&t, NULL, answer_thread, &arg), 0);
    assert_int_equal(cvma_atls_read_frame(a.c, &type, &ev, &len), CVMA_OK);
    pthread_join(t, NULL);
    assert_int_equal(arg.st, CVMA_OK);
    assert_int_equal(type, CVMA_ATLS_F_EVIDENCE);

    assert_int_equal(cvma_atls_verify(a.c, v, &chk, nonce, 32, ev, len, &res, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    cvma_result_free(res);

    /* The same evidence on another session (a relay): not bound. */
    pair_open(&b, 0);
    assert_int_equal(cvma_atls_verify(b.c, v, &chk, nonce, 32, ev, len, &res, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "ATLS_EVIDENCE_NOT_BOUND"));
    assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    cvma_result_free(res);

    free(ev);
    pair_close(&a);
    pair_close(&b);
    cvma_verifier_free(v);
    tu_rmtree(dir);
    free(dir);
    free(ark);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_atls_binding_separates_roles_sessions_nonces),
            cmocka_unit_test(test_atls_tls12_refused),
            cmocka_unit_test(test_atls_simulated_evidence_verifies_only_on_its_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
