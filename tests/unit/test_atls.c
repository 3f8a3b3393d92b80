/*
 * Attested TLS (cvmattest/atls.h) in memory: two TLS endpoints over a socketpair, the server
 * in a thread. The binding separates roles, sessions, nonces and keys, and is the layout of
 * docs/atls.md computed independently; TLS 1.2 and DTLS are refused; evidence
 * from the simulator answers a nonce and verifies through the library, and the same evidence
 * checked on another session is ATLS_EVIDENCE_NOT_BOUND.
 */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "atls/atls_frame.h"
#include "common/verdict.h"
#include "cvmattest/atls.h"
#include "result/result.h"
#include "sim/sim_atls.h"
#include "sim/sim_snp.h"
#include "testutil.h"
#include "tu_api.h"
#include "tu_tls.h"

static void test_atls_binding_separates_roles_sessions_nonces(void **state)
{
    struct tu_tls_pair a, b;
    uint8_t n1[32], n2[32], s1[64], c1[64], s2[64], peer1[64], other[64];
    char err[256];
    (void)state;
    memset(n1, 1, sizeof n1);
    memset(n2, 2, sizeof n2);
    tu_tls_pair_open(&a, 0);
    tu_tls_pair_open(&b, 0);
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
    tu_tls_pair_close(&a);
    tu_tls_pair_close(&b);
}

/*
 * The binding's byte layout, computed here independently of src/atls (docs/atls.md, "Binding"
 * and "Exporter": the label, the role byte, SHA-256 of the sender's DER SubjectPublicKeyInfo,
 * the exporter with its own label, empty context and 32 bytes, then the nonce), and the key's
 * part in it: the same session, role and nonce with another leaf key give another value.
 */
static void test_atls_binding_layout_and_key(void **state)
{
    struct tu_tls_pair a;
    uint8_t n1[32], got[64], want[64], exp[32], spki[32], other[64], role = 0x01;
    unsigned char *der = NULL;
    unsigned int dl = 0;
    char err[256];
    EVP_PKEY *k2 = NULL;
    X509 *x2 = NULL;
    (void)state;
    for (size_t i = 0; i < sizeof n1; i++) {
        n1[i] = (uint8_t)(i * 7 + 3);
    }
    tu_tls_pair_open(&a, 0);
    X509 *seen = SSL_get1_peer_certificate(a.c);
    assert_non_null(seen);
    assert_int_equal(cvma_atls_binding(a.c, CVMA_ATLS_SERVER, seen, n1, 32, got, err, sizeof err),
                     CVMA_OK);

    static const char label[] = "cvmattest-atls-v1",
                      exporter_label[] = "EXPORTER-cvmattest-atls-v1";
    assert_int_equal(SSL_export_keying_material(a.c, exp, sizeof exp, exporter_label,
                                                sizeof exporter_label - 1, NULL, 0, 1),
                     1);
    int len = i2d_PUBKEY(X509_get0_pubkey(seen), &der);
    assert_true(len > 0);
    assert_int_equal(EVP_Digest(der, (size_t)len, spki, &dl, EVP_sha256(), NULL), 1);
    OPENSSL_free(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha512(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, label, sizeof label - 1), 1);
    assert_int_equal(EVP_DigestUpdate(md, &role, 1), 1);
    assert_int_equal(EVP_DigestUpdate(md, spki, sizeof spki), 1);
    assert_int_equal(EVP_DigestUpdate(md, exp, sizeof exp), 1);
    assert_int_equal(EVP_DigestUpdate(md, n1, sizeof n1), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, want, &dl), 1);
    EVP_MD_CTX_free(md);
    assert_int_equal(dl, 64);
    assert_memory_equal(got, want, 64);

    /* The same session, role and nonce, another leaf key: another value. */
    assert_int_equal(cvma_atls_self_signed("test server", 1, &k2, &x2), CVMA_OK);
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, x2, n1, 32, other, err, sizeof err),
                     CVMA_OK);
    assert_memory_not_equal(got, other, 64);
    /* ... and the server's own certificate gives the client's value. */
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, SSL_get_certificate(a.s), n1, 32,
                                       other, err, sizeof err),
                     CVMA_OK);
    assert_memory_equal(got, other, 64);
    EVP_PKEY_free(k2);
    X509_free(x2);
    X509_free(seen);
    tu_tls_pair_close(&a);
}

/* Moves what one end wrote to the other end's read BIO. */
static void dtls_move(BIO *from, BIO *to)
{
    char buf[4096];
    int n;
    while ((n = BIO_read(from, buf, sizeof buf)) > 0) {
        assert_int_equal(BIO_write(to, buf, n), n);
    }
}

/*
 * A DTLS 1.2 session (over memory BIOs): its version, 0xFEFD, is above TLS1_3_VERSION, and it
 * has an exporter; aTLS still refuses it (TLS 1.3 only).
 */
static void test_atls_dtls_refused(void **state)
{
    SSL_CTX *sctx = SSL_CTX_new(DTLS_server_method()), *cctx = SSL_CTX_new(DTLS_client_method());
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    uint8_t n[32] = {0}, out[64], probe[32];
    char err[256] = "";
    int sr = 0, cr = 0;
    (void)state;
    assert_non_null(sctx);
    assert_non_null(cctx);
    assert_int_equal(cvma_atls_self_signed("test server", 1, &k, &x), CVMA_OK);
    assert_int_equal(SSL_CTX_use_certificate(sctx, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(sctx, k), 1);
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
    BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
    assert_true(s != NULL && c != NULL && s_in != NULL && s_out != NULL && c_in != NULL &&
                c_out != NULL);
    SSL_set_options(s, SSL_OP_NO_QUERY_MTU);
    SSL_set_options(c, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(s, 1400);
    SSL_set_mtu(c, 1400);
    SSL_set_bio(s, s_in, s_out);
    SSL_set_bio(c, c_in, c_out);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    for (int i = 0; i < 50 && (sr != 1 || cr != 1); i++) {
        if (cr != 1) {
            cr = SSL_do_handshake(c);
        }
        dtls_move(c_out, s_in);
        if (sr != 1) {
            sr = SSL_do_handshake(s);
        }
        dtls_move(s_out, c_in);
    }
    assert_int_equal(cr, 1);
    assert_int_equal(sr, 1);
    assert_int_equal(SSL_version(c), DTLS1_2_VERSION);
    assert_true(SSL_version(c) > TLS1_3_VERSION);
    /* The exporter is there: only the version check can refuse it. */
    assert_int_equal(SSL_export_keying_material(c, probe, sizeof probe, CVMA_ATLS_EXPORTER_LABEL,
                                                strlen(CVMA_ATLS_EXPORTER_LABEL), NULL, 0, 1),
                     1);
    assert_int_equal(cvma_atls_check_channel(c, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "ATLS_TLS_VERSION"));
    assert_int_equal(cvma_atls_binding(s, CVMA_ATLS_SERVER, x, n, 32, out, err, sizeof err),
                     CVMA_REJECTED);
    SSL_free(s);
    SSL_free(c);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    EVP_PKEY_free(k);
    X509_free(x);
}

static void test_atls_tls12_refused(void **state)
{
    struct tu_tls_pair a;
    uint8_t n[32] = {0}, out[64];
    char err[256];
    (void)state;
    tu_tls_pair_open(&a, TLS1_2_VERSION);
    assert_int_equal(cvma_atls_check_channel(a.c, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "ATLS_TLS_VERSION"));
    assert_int_equal(cvma_atls_binding(a.s, CVMA_ATLS_SERVER, SSL_get_certificate(a.s), n, 32, out,
                                       err, sizeof err),
                     CVMA_REJECTED);
    tu_tls_pair_close(&a);
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
    struct cvma_verifier *v = NULL;
    struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_SERVER};
    struct cvma_result *res = NULL;
    struct tu_tls_pair a, b;
    uint8_t nonce[32], type = 0, *ev = NULL;
    size_t len = 0;
    pthread_t t;
    (void)state;

    cvma_sim_snp_opts_default(&so);
    so.keep_keys = true;
    assert_int_equal(cvma_sim_snp_write(&so, dir, err, sizeof err), CVMA_OK);
    sim.dirs[0] = dir;
    cvma_sim_atls_source(&sim, &src);
    v = tu_verifier(ark, NULL, NULL, false);

    memset(nonce, 7, sizeof nonce);
    tu_tls_pair_open(&a, 0);
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
    tu_tls_pair_open(&b, 0);
    assert_int_equal(cvma_atls_verify(b.c, v, &chk, nonce, 32, ev, len, &res, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "ATLS_EVIDENCE_NOT_BOUND"));
    assert_true(cvma_result_has_reason(res, "NONCE_REPORT_DATA_MISMATCH"));
    cvma_result_free(res);

    free(ev);
    tu_tls_pair_close(&a);
    tu_tls_pair_close(&b);
    cvma_verifier_free(v);
    tu_rmtree(dir);
    free(dir);
    free(ark);
}

/* Writes raw bytes on an SSL (a hand-made frame header, say). */
static void raw_write(SSL *ssl, const void *p, size_t len)
{
    size_t done = 0;
    assert_int_equal(SSL_write_ex(ssl, p, len, &done), 1);
    assert_int_equal(done, len);
}

static void test_atls_frame_limits_by_type(void **state)
{
    struct tu_tls_pair a;
    uint8_t type = 0, *p = NULL, big[CVMA_ATLS_ERROR_MAX + 1];
    size_t len = 0;
    char err[256] = "";
    (void)state;
    memset(big, 'e', sizeof big);
    assert_int_equal(cvma_atls_frame_limit(CVMA_ATLS_F_NONCE), CVMA_ATLS_NONCE_LEN);
    assert_int_equal(cvma_atls_frame_limit(CVMA_ATLS_F_ERROR), CVMA_ATLS_ERROR_MAX);
    assert_int_equal(cvma_atls_frame_limit(CVMA_ATLS_F_EVIDENCE), CVMA_ATLS_FRAME_MAX);
    assert_int_equal(cvma_atls_frame_limit(0x7f), 0);

    /* A NONCE of 33 bytes, an ERROR of 4097, an unknown type: refused at the header. */
    tu_tls_pair_open(&a, 0);
    assert_int_equal(cvma_atls_write_frame(a.c, CVMA_ATLS_F_NONCE, big, 33), CVMA_OK);
    assert_int_equal(cvma_atls_read_frame_ex(a.s, &type, &p, &len, err, sizeof err), CVMA_REJECTED);
    assert_null(p);
    assert_non_null(strstr(err, "announces 33 bytes, over its limit of 32"));
    tu_tls_pair_close(&a);
    tu_tls_pair_open(&a, 0);
    assert_int_equal(cvma_atls_write_frame(a.c, CVMA_ATLS_F_ERROR, big, sizeof big), CVMA_OK);
    assert_int_equal(cvma_atls_read_frame_ex(a.s, &type, &p, &len, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "announces 4097 bytes, over its limit of 4096"));
    tu_tls_pair_close(&a);
    tu_tls_pair_open(&a, 0);
    raw_write(a.c, "\x7f\0\0\0\0", 5);
    assert_int_equal(cvma_atls_read_frame_ex(a.s, &type, &p, &len, err, sizeof err), CVMA_REJECTED);
    assert_non_null(strstr(err, "unknown frame type 127"));
    /* At the limits: accepted. */
    assert_int_equal(cvma_atls_write_frame(a.c, CVMA_ATLS_F_ERROR, big, CVMA_ATLS_ERROR_MAX),
                     CVMA_OK);
    assert_int_equal(cvma_atls_read_frame_ex(a.s, &type, &p, &len, err, sizeof err), CVMA_OK);
    assert_int_equal(type, CVMA_ATLS_F_ERROR);
    assert_int_equal(len, CVMA_ATLS_ERROR_MAX);
    free(p);
    assert_int_equal(cvma_atls_write_frame(a.c, CVMA_ATLS_F_NONCE, big, 32), CVMA_OK);
    assert_int_equal(cvma_atls_read_frame_ex(a.s, &type, &p, &len, err, sizeof err), CVMA_OK);
    assert_int_equal(len, 32);
    free(p);
    /* The peer closes: an I/O error that says so. */
    SSL_shutdown(a.c);
    assert_int_equal(cvma_atls_read_frame_ex(a.s, &type, &p, &len, err, sizeof err), CVMA_E_IO);
    assert_non_null(strstr(err, "closed"));
    tu_tls_pair_close(&a);
}

/* The TLS records waiting on fd, read raw (they are not decrypted): how many, each announcing
 * its length; false if the bytes do not end on a record's end. */
static bool raw_records(int fd, unsigned *n)
{
    uint8_t buf[1 << 16];
    ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    size_t at = 0;
    *n = 0;
    while (got > 0 && at + 5 <= (size_t)got) {
        at += 5 + ((size_t)buf[at + 3] << 8 | buf[at + 4]);
        (*n)++;
    }
    return got > 0 && at == (size_t)got;
}

/*
 * A frame is one TLS record, its head and its payload together (while it fits one record):
 * written apart, the payload's record could wait for the head's acknowledgement (Nagle) and be
 * lost to the reset of a close that follows at once with input unread, leaving the peer an
 * ERROR's head without its reason (e2e.atls saw it under ASan). The small frames of every type,
 * a payload at the edge of the copy on the stack and one past it, and one filling a record.
 */
static void test_atls_frame_is_one_record(void **state)
{
    static const struct {
        enum cvma_atls_frame type;
        size_t len;
    } cases[] = {{CVMA_ATLS_F_NONCE, 32},  {CVMA_ATLS_F_ERROR, 40},  {CVMA_ATLS_F_DATA, 0},
                 {CVMA_ATLS_F_DATA, 1024}, {CVMA_ATLS_F_DATA, 1025}, {CVMA_ATLS_F_EVIDENCE, 3000},
                 {CVMA_ATLS_F_DATA, 16379}};
    static uint8_t payload[16379];
    struct tu_tls_pair a;
    (void)state;
    memset(payload, 'p', sizeof payload);
    tu_tls_pair_open(&a, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned n = 0;
        assert_int_equal(cvma_atls_write_frame(a.c, cases[i].type, payload, cases[i].len), CVMA_OK);
        assert_true(raw_records(a.fd[0], &n));
        if (n != 1) {
            fail_msg("a frame of %zu bytes went out as %u TLS records", cases[i].len, n);
        }
    }
    tu_tls_pair_close(&a);
}

/* A frame's header (atls/atls_frame.h) as the connection's reader reads it: the one the writer
 * puts on a body; refusals with no output. */
static void test_atls_frame_head(void **state)
{
    uint8_t f[5], type = 9;
    uint32_t n = 9;
    char err[256] = "";
    (void)state;
    cvma_atls_frame_head(CVMA_ATLS_F_DATA, 3, f);
    assert_memory_equal(f, "\x04\0\0\0\x03", 5);
    assert_int_equal(cvma_atls_frame_read_head(f, sizeof f, &type, &n, err, sizeof err), CVMA_OK);
    assert_int_equal(type, CVMA_ATLS_F_DATA);
    assert_int_equal(n, 3);
    /* The header cut short: an I/O error (a connection would have closed). */
    assert_int_equal(cvma_atls_frame_read_head(f, 4, &type, &n, err, sizeof err), CVMA_E_IO);
    assert_non_null(strstr(err, "cut short (4 bytes of its header)"));
    assert_int_equal(type + n, 0);
    /* Over the limit or of an unknown type: refused. */
    cvma_atls_frame_head(CVMA_ATLS_F_NONCE, 33, f);
    assert_int_equal(cvma_atls_frame_read_head(f, sizeof f, &type, &n, err, sizeof err),
                     CVMA_REJECTED);
    assert_string_equal(err, "atls: a frame of type 1 announces 33 bytes, over its limit of 32");
    assert_int_equal(type + n, 0);
    cvma_atls_frame_head(0, 0, f);
    assert_int_equal(cvma_atls_frame_read_head(f, sizeof f, &type, &n, err, sizeof err),
                     CVMA_REJECTED);
    assert_string_equal(err, "atls: unknown frame type 0");
    /* An empty ERROR frame: a body of no bytes. */
    cvma_atls_frame_head(CVMA_ATLS_F_ERROR, 0, f);
    assert_int_equal(cvma_atls_frame_read_head(f, sizeof f, &type, &n, NULL, 0), CVMA_OK);
    assert_int_equal(type, CVMA_ATLS_F_ERROR);
    assert_int_equal(n, 0);
}

struct frame_arg {
    SSL *ssl;
    const uint8_t *p;
    size_t len;
    enum cvma_status st;
    uint8_t type;
    uint8_t *out;
    size_t out_len;
};

static void *write_thread(void *arg)
{
    struct frame_arg *f = arg;
    f->st = cvma_atls_write_frame(f->ssl, CVMA_ATLS_F_EVIDENCE, f->p, f->len);
    return NULL;
}

static void *read_thread(void *arg)
{
    struct frame_arg *f = arg;
    f->st = cvma_atls_read_frame(f->ssl, &f->type, &f->out, &f->out_len);
    return NULL;
}

static void test_atls_large_frame_read_in_chunks(void **state)
{
    struct tu_tls_pair a;
    size_t n = (3u << 20) + 123; /* 3 MiB and a bit: not a multiple of a chunk */
    uint8_t *big = malloc(n), type = 0, *p = NULL;
    size_t len = 0;
    pthread_t t;
    (void)state;
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) {
        big[i] = (uint8_t)(i * 31 + (i >> 16));
    }
    tu_tls_pair_open(&a, 0);
    struct frame_arg w = {.ssl = a.c, .p = big, .len = n};
    assert_int_equal(pthread_create(&t, NULL, write_thread, &w), 0);
    assert_int_equal(cvma_atls_read_frame(a.s, &type, &p, &len), CVMA_OK);
    pthread_join(t, NULL);
    assert_int_equal(w.st, CVMA_OK);
    assert_int_equal(type, CVMA_ATLS_F_EVIDENCE);
    assert_int_equal(len, n);
    assert_memory_equal(p, big, n);
    assert_int_equal(p[n], 0);
    free(p);
    tu_tls_pair_close(&a);
    free(big);
}

/*
 * A header announcing 8 MiB, then a few bytes and nothing: the reader must not allocate the
 * 8 MiB up front. glibc serves such a block with mmap, counted in mallinfo2().hblkhd while the
 * reader waits; a chunk (64 KiB) stays below the mmap threshold.
 */
static void test_atls_header_alone_allocates_a_chunk(void **state)
{
    struct tu_tls_pair a;
    uint8_t h[5 + 10] = {CVMA_ATLS_F_EVIDENCE, 0x00, 0x80, 0x00, 0x00};
    size_t base = mallinfo2().hblkhd, peak = 0;
    pthread_t t;
    (void)state;
    tu_tls_pair_open(&a, 0);
    raw_write(a.c, h, sizeof h);
    struct frame_arg r = {.ssl = a.s};
    assert_int_equal(pthread_create(&t, NULL, read_thread, &r), 0);
    for (int i = 0; i < 20; i++) {
        size_t now = mallinfo2().hblkhd;
        peak = now > peak ? now : peak;
        usleep(20000);
    }
    SSL_shutdown(a.c);
    shutdown(a.fd[1], SHUT_RDWR);
    pthread_join(t, NULL);
    assert_int_equal(r.st, CVMA_E_IO);
    assert_null(r.out);
    assert_true(peak < base + (1u << 20));
    tu_tls_pair_close(&a);
}

/* An evidence source whose evidence is one byte over the EVIDENCE frame's limit. */
static enum cvma_status oversized_evidence(void *ctx, const uint8_t report_data[64],
                                           const uint8_t *nonce, size_t nonce_len, uint8_t **out,
                                           size_t *out_len, char *err, size_t err_len)
{
    (void)ctx;
    (void)report_data;
    (void)nonce;
    (void)nonce_len;
    (void)err;
    (void)err_len;
    *out_len = (size_t)CVMA_ATLS_FRAME_MAX + 1;
    *out = calloc(1, *out_len);
    return *out != NULL ? CVMA_OK : CVMA_E_NOMEM;
}

/*
 * Evidence no EVIDENCE frame can carry: cvma_atls_answer says so, naming the size and the
 * limit (not an empty message), and the peer gets an ERROR frame saying the same instead of
 * waiting for evidence that never comes.
 */
static void test_atls_answer_refuses_oversized_evidence_and_tells_the_peer(void **state)
{
    struct tu_tls_pair a;
    struct cvma_atls_source src = {.evidence = oversized_evidence};
    uint8_t nonce[CVMA_ATLS_NONCE_LEN], type = 0, *p = NULL;
    size_t len = 0;
    char err[256] = "";
    (void)state;
    memset(nonce, 7, sizeof nonce);
    tu_tls_pair_open(&a, 0);
    assert_int_equal(
            cvma_atls_answer(a.s, CVMA_ATLS_SERVER, nonce, sizeof nonce, &src, err, sizeof err),
            CVMA_E_USAGE);
    assert_string_equal(
            err, "atls: the evidence is 8388609 bytes, over the frame limit of 8388608 bytes");
    assert_int_equal(cvma_atls_read_frame_ex(a.c, &type, &p, &len, err, sizeof err), CVMA_OK);
    assert_int_equal(type, CVMA_ATLS_F_ERROR);
    assert_string_equal((const char *)p,
                        "refused: the evidence is 8388609 bytes, over the frame limit of 8388608 "
                        "bytes");
    free(p);
    tu_tls_pair_close(&a);
}

/* An evidence source of 256 KiB (what it holds does not matter: its write is what is tested),
 * more than a socket buffer, so even a peer that kept reading could not take it in one write. */
static enum cvma_status big_evidence(void *ctx, const uint8_t report_data[64], const uint8_t *nonce,
                                     size_t nonce_len, uint8_t **out, size_t *out_len, char *err,
                                     size_t err_len)
{
    (void)ctx;
    (void)nonce;
    (void)nonce_len;
    (void)err;
    (void)err_len;
    *out_len = (size_t)256 << 10;
    if ((*out = calloc(1, *out_len)) == NULL) {
        return CVMA_E_NOMEM;
    }
    memcpy(*out, report_data, 64);
    return CVMA_OK;
}

/* Whether a SIGPIPE is pending for this thread or the process, and whether this thread
 * blocks it. */
static bool sigpipe_pending(void)
{
    sigset_t set;
    assert_int_equal(sigpending(&set), 0);
    return sigismember(&set, SIGPIPE) == 1;
}

static bool sigpipe_blocked(void)
{
    sigset_t set;
    assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &set), 0);
    return sigismember(&set, SIGPIPE) == 1;
}

/* A connected pair whose client has sent a NONCE frame and closed its socket (a socketpair:
 * the server's next write meets the close at once); the server has read the NONCE. */
static void nonce_then_close(struct tu_tls_pair *a, uint8_t nonce[CVMA_ATLS_NONCE_LEN])
{
    uint8_t type = 0, *p = NULL;
    size_t len = 0;
    memset(nonce, 5, CVMA_ATLS_NONCE_LEN);
    tu_tls_pair_open(a, 0);
    assert_int_equal(cvma_atls_write_frame(a->c, CVMA_ATLS_F_NONCE, nonce, CVMA_ATLS_NONCE_LEN),
                     CVMA_OK);
    assert_int_equal(close(a->fd[1]), 0);
    a->fd[1] = -1;
    assert_int_equal(cvma_atls_read_frame(a->s, &type, &p, &len), CVMA_OK);
    assert_int_equal(type, CVMA_ATLS_F_NONCE);
    assert_int_equal(len, CVMA_ATLS_NONCE_LEN);
    free(p);
}

/*
 * A peer that sends its NONCE and closes must not kill the attesting end: with SIGPIPE at its
 * default action (a program that never touched it), the answer's write on the closed socket
 * is CVMA_E_IO with a message, no SIGPIPE is left pending, and the thread's signal mask is as
 * it was. Without the library's guard the test process itself dies of SIGPIPE here.
 */
static void test_atls_answer_to_a_closed_peer_is_io_not_sigpipe(void **state)
{
    struct tu_tls_pair a;
    struct cvma_atls_source src = {.evidence = big_evidence};
    uint8_t nonce[CVMA_ATLS_NONCE_LEN];
    char err[256] = "";
    (void)state;
    assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    assert_false(sigpipe_blocked());
    nonce_then_close(&a, nonce);
    assert_int_equal(
            cvma_atls_answer(a.s, CVMA_ATLS_SERVER, nonce, sizeof nonce, &src, err, sizeof err),
            CVMA_E_IO);
    assert_string_equal(err, "atls: the connection failed while sending evidence");
    assert_false(sigpipe_pending());
    assert_false(sigpipe_blocked());
    /* Another frame on the same closed connection: the same, not a signal. */
    assert_int_equal(cvma_atls_write_frame(a.s, CVMA_ATLS_F_DATA, nonce, sizeof nonce), CVMA_E_IO);
    cvma_atls_send_refusal(a.s, NULL);
    assert_false(sigpipe_pending());
    tu_tls_pair_close(&a);
}

/*
 * A SIGPIPE already pending before the call (the caller blocks SIGPIPE and has one waiting)
 * is not the library's: it is left pending, and the mask (SIGPIPE blocked) is left as it was.
 */
static void test_atls_closed_peer_leaves_a_callers_pending_sigpipe(void **state)
{
    struct tu_tls_pair a;
    struct cvma_atls_source src = {.evidence = big_evidence};
    uint8_t nonce[CVMA_ATLS_NONCE_LEN];
    char err[256] = "";
    sigset_t set, old;
    const struct timespec zero = {0, 0};
    (void)state;
    assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    assert_int_equal(pthread_kill(pthread_self(), SIGPIPE), 0);
    assert_true(sigpipe_pending());
    nonce_then_close(&a, nonce);
    assert_int_equal(
            cvma_atls_answer(a.s, CVMA_ATLS_SERVER, nonce, sizeof nonce, &src, err, sizeof err),
            CVMA_E_IO);
    assert_true(sigpipe_blocked());
    assert_true(sigpipe_pending()); /* the caller's, still there: taken here */
    assert_int_equal(sigtimedwait(&set, NULL, &zero), SIGPIPE);
    assert_false(sigpipe_pending());
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    tu_tls_pair_close(&a);
}

/*
 * Reading writes too: a record that does not decrypt is answered with a fatal alert
 * (bad_record_mac, RFC 8446 section 5.2), which OpenSSL writes from inside SSL_read. A peer
 * that sends one and closes makes the reading end write on a closed socket: the read is
 * CVMA_E_IO, not a SIGPIPE (default action here too).
 */
static void test_atls_read_answering_a_forged_record_to_a_closed_peer_is_io(void **state)
{
    struct tu_tls_pair a;
    /* An application_data record of 32 bytes that no key made (TLSCiphertext, RFC 8446 5.2) */
    uint8_t rec[5 + 32] = {0x17, 0x03, 0x03, 0x00, 0x20}, type = 0, *p = NULL;
    size_t len = 0;
    char err[256] = "";
    (void)state;
    assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    memset(rec + 5, 0xA5, 32);
    tu_tls_pair_open(&a, 0);
    assert_int_equal(write(a.fd[1], rec, sizeof rec), (ssize_t)sizeof rec);
    assert_int_equal(close(a.fd[1]), 0);
    a.fd[1] = -1;
    assert_int_equal(cvma_atls_read_frame_ex(a.s, &type, &p, &len, err, sizeof err), CVMA_E_IO);
    assert_null(p);
    assert_string_equal(err, "atls: no frame: the connection failed");
    assert_false(sigpipe_pending());
    assert_false(sigpipe_blocked());
    tu_tls_pair_close(&a);
}

static void test_atls_printable_caps_and_escapes(void **state)
{
    char out[4 * CVMA_ATLS_ERROR_SHOWN + 32];
    uint8_t text[10240];
    (void)state;
    memcpy(text, "\x1b[2Jrefused\\ \x07\xc3\xa9", 16);
    memset(text + 16, 'A', sizeof text - 16);
    const char *s = cvma_atls_printable(text, sizeof text, out, sizeof out);
    assert_ptr_equal(s, out);
    assert_null(strchr(out, 0x1b));
    assert_null(strchr(out, 0x07));
    const char *want = "\\x1b[2Jrefused\\x5c \\x07\\xc3\\xa9AAA";
    assert_true(strncmp(out, want, strlen(want)) == 0);
    assert_non_null(strstr(out, "A ... (10240 bytes)"));
    for (const char *c = out; *c != '\0'; c++) {
        assert_true(*c >= 0x20 && *c < 0x7f);
    }
    /* 200 bytes shown: 16 of them as escapes or text above, the rest 'A'. */
    assert_true(strlen(out) < 300);
    assert_string_equal(cvma_atls_printable((const uint8_t *)"refused: X", 10, out, sizeof out),
                        "refused: X");
    /* A small buffer: cut, still terminated. */
    assert_string_equal(cvma_atls_printable(text, 5, out, 8), "\\x1b[2J");
}

/* The refusal names the first error; a renewal that names another image (MEASUREMENT_CHANGED,
 * a warning: refused whatever the status) is said as that; nothing else, "refused". */
static void refusal_says(const struct cvma_result *r, const char *want)
{
    struct tu_tls_pair a;
    uint8_t type = 0, *p = NULL;
    size_t len = 0;
    tu_tls_pair_open(&a, 0);
    cvma_atls_send_refusal(a.s, r);
    assert_int_equal(cvma_atls_read_frame(a.c, &type, &p, &len), CVMA_OK);
    assert_int_equal(type, CVMA_ATLS_F_ERROR);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
    free(p);
    tu_tls_pair_close(&a);
}

static void test_atls_refusal_names_the_reason(void **state)
{
    struct cvma_result res;
    (void)state;
    refusal_says(NULL, "refused");
    cvma_result_init(&res, "sev-snp", time(NULL));
    refusal_says(&res, "refused");
    (void)cvma_verdict_add(&res.verdict, CVMA_R_MEASUREMENT_CHANGED, CVMA_SEV_WARNING, "moved");
    refusal_says(&res, "refused: MEASUREMENT_CHANGED");
    (void)cvma_reject(&res.verdict, CVMA_R_SNP_DEBUG_ALLOWED, "debug");
    refusal_says(&res, "refused: SNP_DEBUG_ALLOWED");
    cvma_result_cleanup(&res);
}

/* cvma_atls_self_signed: a name and a window in range make a certificate whose notAfter is
 * days on; an empty, NULL or over-long name and a window of no day (or one going backwards, or
 * beyond ten years) are the caller's mistake, CVMA_E_USAGE, nothing made. */
static void test_atls_self_signed_arguments(void **state)
{
    (void)state;
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    char cn64[CVMA_ATLS_CN_MAX + 2];
    memset(cn64, 'a', sizeof cn64 - 1);
    cn64[sizeof cn64 - 1] = '\0';
    static const int bad_days[] = {0, -5, CVMA_ATLS_CERT_DAYS_MAX + 1};
    for (size_t i = 0; i < sizeof bad_days / sizeof bad_days[0]; i++) {
        assert_int_equal(cvma_atls_self_signed("ok", bad_days[i], &k, &x), CVMA_E_USAGE);
        assert_null(k);
        assert_null(x);
    }
    assert_int_equal(cvma_atls_self_signed("", 1, &k, &x), CVMA_E_USAGE);
    assert_int_equal(cvma_atls_self_signed(NULL, 1, &k, &x), CVMA_E_USAGE);
    assert_int_equal(cvma_atls_self_signed(cn64, 1, &k, &x), CVMA_E_USAGE); /* 65 bytes */
    assert_null(k);
    cn64[CVMA_ATLS_CN_MAX] = '\0';
    assert_int_equal(cvma_atls_self_signed(cn64, CVMA_ATLS_CERT_DAYS_MAX, &k, &x), CVMA_OK);
    assert_non_null(k);
    int day = 0, sec = 0;
    assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
    assert_int_equal(day, CVMA_ATLS_CERT_DAYS_MAX); /* and an hour: notBefore is an hour back */
    X509_free(x);
    EVP_PKEY_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_atls_binding_separates_roles_sessions_nonces),
            cmocka_unit_test(test_atls_binding_layout_and_key),
            cmocka_unit_test(test_atls_tls12_refused),
            cmocka_unit_test(test_atls_dtls_refused),
            cmocka_unit_test(test_atls_simulated_evidence_verifies_only_on_its_session),
            cmocka_unit_test(test_atls_frame_limits_by_type),
            cmocka_unit_test(test_atls_frame_is_one_record),
            cmocka_unit_test(test_atls_frame_head),
            cmocka_unit_test(test_atls_large_frame_read_in_chunks),
            cmocka_unit_test(test_atls_header_alone_allocates_a_chunk),
            cmocka_unit_test(test_atls_printable_caps_and_escapes),
            cmocka_unit_test(test_atls_answer_refuses_oversized_evidence_and_tells_the_peer),
            cmocka_unit_test(test_atls_refusal_names_the_reason),
            cmocka_unit_test(test_atls_answer_to_a_closed_peer_is_io_not_sigpipe),
            cmocka_unit_test(test_atls_closed_peer_leaves_a_callers_pending_sigpipe),
            cmocka_unit_test(test_atls_read_answering_a_forged_record_to_a_closed_peer_is_io),
            cmocka_unit_test(test_atls_self_signed_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
