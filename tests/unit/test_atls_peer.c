/*
 * cvma_atls_attest_peer (cvmattest/atls.h), the verifying end's side of one attestation, on a
 * socketpair against a scripted peer in a thread: evidence from the simulator accepted, with
 * the nonce the peer saw; the peer's ERROR refused with its text made printable; an unexpected
 * frame, a NONCE when this end does not attest and a frame of no known type refused, naming
 * ATLS_PROTOCOL_VIOLATION; EVIDENCE that is empty or a malformed bundle refused in a result
 * naming PARSE_UNKNOWN_FORMAT; a peer closing the connection is
 * CVMA_E_IO; a TLS 1.2 session refused before a frame is sent; mutual mode: the peer's NONCE
 * answered once with evidence the peer verifies, a second NONCE on the same connection refused with
 * an ERROR frame.
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
#include "tu_api.h"
#include "tu_tls.h"

/* What the scripted peer (the server end) does with the NONCE it reads first. */
enum peer_mode {
    P_ANSWER,    /* evidence for it */
    P_ERROR,     /* an ERROR frame with control characters in it */
    P_DATA,      /* a DATA frame */
    P_NONCE,     /* a NONCE of its own */
    P_CLOSE,     /* close the connection */
    P_MUTUAL,    /* a NONCE of its own, verify the client's evidence, then answer */
    P_ASK_AGAIN, /* a NONCE of its own, then read what comes back */
    P_EMPTY,     /* an EVIDENCE frame of no bytes */
    P_BAD_B64,   /* an EVIDENCE frame: a bundle whose evidence part is not base64 */
    P_TWO_EV,    /* an EVIDENCE frame: a bundle with two evidence parts */
    P_UNKNOWN,   /* a frame of type 9 (no such type) */
};

struct peer {
    SSL *ssl;
    int fd;
    enum peer_mode mode;
    const struct cvma_atls_source *src;
    struct cvma_verifier *v;
    /* out */
    uint8_t nonce[CVMA_ATLS_NONCE_LEN]; /* the client's nonce, as read */
    bool got_nonce;
    enum cvma_status answered, verified;
    int client_status;  /* the client's evidence verified (P_MUTUAL): its result status */
    uint8_t reply_type; /* P_ASK_AGAIN: the frame that came back */
    char reply[160];    /* its text */
};

static const uint8_t peer_nonce[CVMA_ATLS_NONCE_LEN] = {0x5e, 0x5e, 0x5e, 0x5e};

static void *peer_main(void *arg)
{
    struct peer *p = arg;
    uint8_t type = 0, *f = NULL, *ev = NULL;
    size_t len = 0, ev_len = 0;
    char err[512];
    static const char refusal[] = "refused: \x1b[2JNOPE";

    p->answered = p->verified = CVMA_E_INTERNAL;
    p->client_status = -1;
    if (cvma_atls_read_frame(p->ssl, &type, &f, &len) != CVMA_OK || type != CVMA_ATLS_F_NONCE ||
        len != CVMA_ATLS_NONCE_LEN) {
        free(f);
        return NULL;
    }
    memcpy(p->nonce, f, len);
    p->got_nonce = true;
    switch (p->mode) {
    case P_ANSWER:
        p->answered = cvma_atls_answer(p->ssl, CVMA_ATLS_SERVER, f, len, p->src, err, sizeof err);
        break;
    case P_ERROR:
        (void)cvma_atls_write_frame(p->ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)refusal,
                                    sizeof refusal - 1);
        break;
    case P_DATA:
        (void)cvma_atls_write_frame(p->ssl, CVMA_ATLS_F_DATA, (const uint8_t *)"hi", 2);
        break;
    case P_NONCE:
        (void)cvma_atls_write_frame(p->ssl, CVMA_ATLS_F_NONCE, peer_nonce, sizeof peer_nonce);
        break;
    case P_CLOSE:
        SSL_shutdown(p->ssl);
        shutdown(p->fd, SHUT_RDWR);
        break;
    case P_MUTUAL: {
        struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_CLIENT};
        struct cvma_result *r = NULL;
        if (cvma_atls_write_frame(p->ssl, CVMA_ATLS_F_NONCE, peer_nonce, sizeof peer_nonce) ==
                    CVMA_OK &&
            cvma_atls_read_frame(p->ssl, &type, &ev, &ev_len) == CVMA_OK &&
            type == CVMA_ATLS_F_EVIDENCE) {
            p->verified = cvma_atls_verify(p->ssl, p->v, &chk, peer_nonce, sizeof peer_nonce, ev,
                                           ev_len, &r, err, sizeof err);
            if (r != NULL) {
                p->client_status = (int)cvma_result_status(r);
            }
            cvma_result_free(r);
            p->answered =
                    cvma_atls_answer(p->ssl, CVMA_ATLS_SERVER, f, len, p->src, err, sizeof err);
        }
        break;
    }
    case P_EMPTY:
        (void)cvma_atls_write_frame(p->ssl, CVMA_ATLS_F_EVIDENCE, (const uint8_t *)"", 0);
        break;
    case P_BAD_B64:
    case P_TWO_EV: {
        static const char bad_b64[] = "{\"cvmattest_bundle\":1,\"kind\":\"sev-snp\",\"parts\":"
                                      "[{\"role\":\"evidence\",\"data\":\"@@@\"}]}";
        static const char two_ev[] = "{\"cvmattest_bundle\":1,\"kind\":\"sev-snp\",\"parts\":"
                                     "[{\"role\":\"evidence\",\"data\":\"QUFB\"},"
                                     "{\"role\":\"evidence\",\"data\":\"QUFB\"}]}";
        const char *b = p->mode == P_BAD_B64 ? bad_b64 : two_ev;
        (void)cvma_atls_write_frame(p->ssl, CVMA_ATLS_F_EVIDENCE, (const uint8_t *)b, strlen(b));
        break;
    }
    case P_UNKNOWN: {
        static const uint8_t head[5] = {9, 0, 0, 0, 0};
        size_t done = 0;
        (void)SSL_write_ex(p->ssl, head, sizeof head, &done);
        break;
    }
    case P_ASK_AGAIN:
        if (cvma_atls_write_frame(p->ssl, CVMA_ATLS_F_NONCE, peer_nonce, sizeof peer_nonce) ==
                    CVMA_OK &&
            cvma_atls_read_frame(p->ssl, &p->reply_type, &ev, &ev_len) == CVMA_OK) {
            snprintf(p->reply, sizeof p->reply, "%.*s", (int)(ev_len < 150 ? ev_len : 150),
                     (const char *)ev);
        }
        break;
    }
    free(f);
    free(ev);
    return NULL;
}

struct fixture {
    char *dir;
    struct cvma_sim_atls sim;
    struct cvma_atls_source src;
    struct cvma_verifier *v;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct cvma_sim_snp_opts so;
    char err[256], *ark;
    assert_non_null(fx);
    fx->dir = tu_tmpdir();
    cvma_sim_snp_opts_default(&so);
    so.keep_keys = true;
    assert_int_equal(cvma_sim_snp_write(&so, fx->dir, err, sizeof err), CVMA_OK);
    fx->sim.n_dirs = 1;
    fx->sim.dirs[0] = fx->dir;
    cvma_sim_atls_source(&fx->sim, &fx->src);
    ark = tu_path(fx->dir, "ark.pem");
    fx->v = tu_verifier(ark, NULL, NULL, false);
    free(ark);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    cvma_verifier_free(fx->v);
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/*
 * One cvma_atls_attest_peer on pair a against a peer in mode; src: this end's evidence (NULL:
 * it does not attest); *answered as the caller keeps it. Returns the status; *r the result.
 */
static enum cvma_status run(struct tu_tls_pair *a, struct fixture *fx, struct peer *p,
                            enum peer_mode mode, const struct cvma_atls_source *src, bool *answered,
                            uint8_t nonce[CVMA_ATLS_NONCE_LEN], struct cvma_result **r, char *err,
                            size_t err_len)
{
    struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_SERVER};
    pthread_t t;
    memset(p, 0, sizeof *p);
    p->ssl = a->s;
    p->fd = a->fd[0];
    p->mode = mode;
    p->src = &fx->src;
    p->v = fx->v;
    assert_int_equal(pthread_create(&t, NULL, peer_main, p), 0);
    enum cvma_status st =
            cvma_atls_attest_peer(a->c, fx->v, &chk, src, answered, nonce, r, err, err_len);
    pthread_join(t, NULL);
    return st;
}

static void test_attest_peer_accepted(void **state)
{
    struct fixture *fx = *state;
    struct tu_tls_pair a;
    struct peer p;
    struct cvma_result *r = NULL;
    uint8_t nonce[CVMA_ATLS_NONCE_LEN];
    bool answered = false;
    char err[512] = "";
    tu_tls_pair_open(&a, 0);
    assert_int_equal(run(&a, fx, &p, P_ANSWER, NULL, &answered, nonce, &r, err, sizeof err),
                     CVMA_OK);
    assert_int_equal(p.answered, CVMA_OK);
    assert_true(p.got_nonce);
    assert_memory_equal(nonce, p.nonce, sizeof nonce); /* the nonce sent is the one given back */
    assert_non_null(r);
    assert_int_equal(cvma_result_status(r), CVMA_AFFIRMING);
    assert_int_equal(cvma_result_exit_code(r), 0);
    assert_false(answered);
    cvma_result_free(r);
    tu_tls_pair_close(&a);
}

/* A fresh connection to a peer in mode, this end not attesting: the exchange must end with
 * want and no result; err (n bytes) says why, *answered whether this end sent evidence. */
static void expect_no_result(struct fixture *fx, enum peer_mode mode, enum cvma_status want,
                             char *err, size_t n, bool *answered)
{
    struct tu_tls_pair a;
    struct peer p;
    struct cvma_result *r = NULL;
    uint8_t nonce[CVMA_ATLS_NONCE_LEN];
    *answered = false;
    err[0] = '\0';
    tu_tls_pair_open(&a, 0);
    assert_int_equal(run(&a, fx, &p, mode, NULL, answered, nonce, &r, err, n), want);
    assert_null(r);
    tu_tls_pair_close(&a);
}

static void test_attest_peer_error_frame(void **state)
{
    char err[512];
    bool answered;
    expect_no_result(*state, P_ERROR, CVMA_REJECTED, err, sizeof err, &answered);
    assert_string_equal(err, "the peer refuses: refused: \\x1b[2JNOPE");
}

static void test_attest_peer_unexpected_frames(void **state)
{
    char err[512];
    bool answered;
    /* Each names the reason (ATLS_PROTOCOL_VIOLATION) for the caller's refusal. */
    expect_no_result(*state, P_DATA, CVMA_REJECTED, err, sizeof err, &answered);
    assert_string_equal(err, CVMA_ATLS_ERR_DATA_FIRST);
    assert_string_equal(err, "ATLS_PROTOCOL_VIOLATION: unexpected frame 4 (DATA) before the "
                             "evidence");
    /* A NONCE when this end does not attest (src NULL) is unexpected too. */
    expect_no_result(*state, P_NONCE, CVMA_REJECTED, err, sizeof err, &answered);
    assert_string_equal(err, "ATLS_PROTOCOL_VIOLATION: unexpected frame 1 before the evidence");
    assert_false(answered);
    /* So is a frame of a type the protocol does not have. */
    expect_no_result(*state, P_UNKNOWN, CVMA_REJECTED, err, sizeof err, &answered);
    assert_string_equal(err, "ATLS_PROTOCOL_VIOLATION: atls: unknown frame type 9");
}

/* EVIDENCE whose bytes cannot be read as evidence at all (empty, a malformed bundle) is the
 * peer's fault: a refused result naming PARSE_UNKNOWN_FORMAT and why, as for bytes of no known
 * kind, never a refusal without a reason. */
static void expect_unreadable(struct fixture *fx, enum peer_mode mode, const char *why)
{
    struct tu_tls_pair a;
    struct peer p;
    struct cvma_result *r = NULL;
    uint8_t nonce[CVMA_ATLS_NONCE_LEN];
    bool answered = false;
    char err[512] = "";
    tu_tls_pair_open(&a, 0);
    assert_int_equal(run(&a, fx, &p, mode, NULL, &answered, nonce, &r, err, sizeof err), CVMA_OK);
    assert_non_null(r);
    assert_int_equal(cvma_result_status(r), CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_result_exit_code(r), 1);
    assert_int_equal(cvma_result_reason_count(r), 1);
    assert_string_equal(cvma_result_reason_code(r, 0), "PARSE_UNKNOWN_FORMAT");
    assert_non_null(strstr(cvma_result_reason_detail(r, 0), why));
    cvma_result_free(r);
    tu_tls_pair_close(&a);
}

static void test_attest_peer_unreadable_evidence_is_named(void **state)
{
    expect_unreadable(*state, P_EMPTY, "the evidence is empty");
    expect_unreadable(*state, P_BAD_B64, "is not base64");
    expect_unreadable(*state, P_TWO_EV, "more than one \"evidence\" part");
}

static void test_attest_peer_closed_is_io(void **state)
{
    char err[512];
    bool answered;
    expect_no_result(*state, P_CLOSE, CVMA_E_IO, err, sizeof err, &answered);
    assert_non_null(strstr(err, "no evidence from the peer: "));
    assert_non_null(strstr(err, "closed"));
}

/* A session below TLS 1.3 is refused before anything is sent: no NONCE frame goes out on a
 * channel aTLS cannot bind (docs/atls.md, "Channel"), and nothing is read from it. */
static void test_attest_peer_refuses_tls12_before_sending(void **state)
{
    struct fixture *fx = *state;
    struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_SERVER};
    struct tu_tls_pair a;
    struct cvma_result *r = NULL;
    uint8_t nonce[CVMA_ATLS_NONCE_LEN], byte;
    bool answered = false;
    char err[512] = "";
    tu_tls_pair_open(&a, TLS1_2_VERSION);
    assert_int_equal(
            cvma_atls_attest_peer(a.c, fx->v, &chk, NULL, &answered, nonce, &r, err, sizeof err),
            CVMA_REJECTED);
    assert_null(r);
    assert_non_null(strstr(err, "ATLS_TLS_VERSION"));
    assert_int_equal(recv(a.fd[0], &byte, 1, MSG_PEEK | MSG_DONTWAIT), -1); /* nothing sent */
    tu_tls_pair_close(&a);
}

static void test_attest_peer_mutual_answers_once(void **state)
{
    struct fixture *fx = *state;
    struct cvma_sim_atls mine = {.n_dirs = 1};
    struct cvma_atls_source msrc;
    struct tu_tls_pair a;
    struct peer p;
    struct cvma_result *r = NULL;
    uint8_t nonce[CVMA_ATLS_NONCE_LEN], first[CVMA_ATLS_NONCE_LEN];
    bool answered = false;
    char err[512] = "";
    mine.dirs[0] = fx->dir;
    cvma_sim_atls_source(&mine, &msrc);
    tu_tls_pair_open_ex(&a, 0, true);
    /* The peer's NONCE answered with this end's evidence (client role), which it verifies;
     * then its own evidence verified here. */
    assert_int_equal(run(&a, fx, &p, P_MUTUAL, &msrc, &answered, nonce, &r, err, sizeof err),
                     CVMA_OK);
    assert_true(answered);
    assert_int_equal(p.verified, CVMA_OK);
    assert_int_equal(p.client_status, CVMA_AFFIRMING);
    assert_int_equal(p.answered, CVMA_OK);
    assert_non_null(r);
    assert_int_equal(cvma_result_status(r), CVMA_AFFIRMING);
    cvma_result_free(r);
    r = NULL;
    memcpy(first, nonce, sizeof first);
    /* A re-attestation on the same connection: the peer asks again, and is refused. */
    assert_int_equal(run(&a, fx, &p, P_ASK_AGAIN, &msrc, &answered, nonce, &r, err, sizeof err),
                     CVMA_REJECTED);
    assert_null(r);
    assert_memory_not_equal(first, nonce, sizeof nonce); /* a fresh nonce each time */
    assert_string_equal(
            err,
            "the peer asked for evidence again: refused: ATLS_PROTOCOL_VIOLATION: too many NONCE "
            "frames: this end has attested already");
    assert_int_equal(p.reply_type, CVMA_ATLS_F_ERROR);
    assert_string_equal(p.reply, "refused: ATLS_PROTOCOL_VIOLATION: too many NONCE frames: this "
                                 "end has attested already");
    tu_tls_pair_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_attest_peer_accepted, setup, teardown),
            cmocka_unit_test_setup_teardown(test_attest_peer_error_frame, setup, teardown),
            cmocka_unit_test_setup_teardown(test_attest_peer_unexpected_frames, setup, teardown),
            cmocka_unit_test_setup_teardown(test_attest_peer_unreadable_evidence_is_named, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_attest_peer_closed_is_io, setup, teardown),
            cmocka_unit_test_setup_teardown(test_attest_peer_refuses_tls12_before_sending, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_attest_peer_mutual_answers_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
