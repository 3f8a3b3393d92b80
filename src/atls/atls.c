/*
 * Attested TLS (docs/atls.md): the binding of evidence to a TLS 1.3 session, the frames on
 * the connection, and verification of a peer's evidence through the library's verifier.
 */
#include "cvmattest/atls.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "atls/atls_frame.h"
#include "atls/atls_http.h"
#include "common/hex.h"
#include "common/reader.h"
#include "common/reasons.h"
#include "common/util.h"
#include "common/verdict.h"
#include "result/result.h"

CVMA_API enum cvma_status cvma_atls_check_channel(SSL *ssl, char *err, size_t err_len)
{
    uint8_t probe[CVMA_ATLS_EXPORTER_LEN];
    /* Exactly TLS 1.3: DTLS versions count down from 0xFEFF, so DTLS 1.2 (0xFEFD) is above
     * TLS1_3_VERSION (0x0304) and an ordering test would let it through. */
    if (ssl == NULL || SSL_is_dtls(ssl) || SSL_version(ssl) != TLS1_3_VERSION) {
        cvma_errf(err, err_len, "%s: the session is %s, aTLS needs TLS 1.3",
                  cvma_reason_name(CVMA_R_ATLS_TLS_VERSION),
                  ssl == NULL ? "missing" : SSL_get_version(ssl));
        return CVMA_REJECTED;
    }
    if (SSL_export_keying_material(ssl, probe, sizeof probe, CVMA_ATLS_EXPORTER_LABEL,
                                   strlen(CVMA_ATLS_EXPORTER_LABEL), NULL, 0, 1) != 1) {
        cvma_errf(err, err_len, "%s: the session has no exporter",
                  cvma_reason_name(CVMA_R_ATLS_TLS_VERSION));
        return CVMA_REJECTED;
    }
    return CVMA_OK;
}

/* SHA-256 of the DER SubjectPublicKeyInfo of leaf. */
static bool spki_hash(X509 *leaf, uint8_t out[32])
{
    unsigned char *der = NULL;
    unsigned int n = 0;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);
    bool ok = len > 0 && EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
    OPENSSL_free(der);
    return ok;
}

CVMA_API enum cvma_status cvma_atls_binding(SSL *ssl, enum cvma_atls_role role, X509 *leaf,
                                            const uint8_t *nonce, size_t nonce_len, uint8_t out[64],
                                            char *err, size_t err_len)
{
    enum cvma_status st;
    uint8_t exporter[CVMA_ATLS_EXPORTER_LEN], spki[32], r = (uint8_t)role;
    unsigned int n = 0;
    EVP_MD_CTX *md = NULL;

    memset(out, 0, 64);
    if ((st = cvma_atls_check_channel(ssl, err, err_len)) != CVMA_OK) {
        return st;
    }
    if (leaf == NULL || !spki_hash(leaf, spki)) {
        cvma_errf(err, err_len, "atls: no leaf certificate for the %s",
                  role == CVMA_ATLS_SERVER ? "server" : "client");
        return CVMA_REJECTED;
    }
    if (nonce_len != CVMA_ATLS_NONCE_LEN) {
        cvma_errf(err, err_len, "atls: a nonce is %d bytes, not %zu", CVMA_ATLS_NONCE_LEN,
                  nonce_len);
        return CVMA_REJECTED;
    }
    if (SSL_export_keying_material(ssl, exporter, sizeof exporter, CVMA_ATLS_EXPORTER_LABEL,
                                   strlen(CVMA_ATLS_EXPORTER_LABEL), NULL, 0, 1) != 1) {
        cvma_errf(err, err_len, "%s: the session has no exporter",
                  cvma_reason_name(CVMA_R_ATLS_TLS_VERSION));
        return CVMA_REJECTED;
    }
    st = CVMA_E_INTERNAL;
    if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha512(), NULL) != 1 ||
        EVP_DigestUpdate(md, CVMA_ATLS_LABEL, strlen(CVMA_ATLS_LABEL)) != 1 ||
        EVP_DigestUpdate(md, &r, 1) != 1 || EVP_DigestUpdate(md, spki, sizeof spki) != 1 ||
        EVP_DigestUpdate(md, exporter, sizeof exporter) != 1 ||
        EVP_DigestUpdate(md, nonce, nonce_len) != 1 || EVP_DigestFinal_ex(md, out, &n) != 1 ||
        n != 64) {
        cvma_errf(err, err_len, "atls: SHA-512 failed");
        goto out;
    }
    st = CVMA_OK;
out:
    EVP_MD_CTX_free(md);
    return st;
}

CVMA_API enum cvma_status cvma_atls_cert_binding(X509 *leaf, const uint8_t *nonce, size_t nonce_len,
                                                 uint8_t out[64])
{
    uint8_t cert_hash[32], r = CVMA_ATLS_CERT;
    unsigned char *der = NULL;
    unsigned int n = 0;
    EVP_MD_CTX *md = NULL;
    enum cvma_status st = CVMA_E_INTERNAL;
    int len;

    memset(out, 0, 64);
    if (leaf == NULL || nonce_len < 16 || nonce_len > 64) {
        return CVMA_E_USAGE;
    }
    if ((len = i2d_X509(leaf, &der)) <= 0 ||
        EVP_Digest(der, (size_t)len, cert_hash, &n, EVP_sha256(), NULL) != 1 || n != 32 ||
        (md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha512(), NULL) != 1 ||
        EVP_DigestUpdate(md, CVMA_ATLS_LABEL, strlen(CVMA_ATLS_LABEL)) != 1 ||
        EVP_DigestUpdate(md, &r, 1) != 1 ||
        EVP_DigestUpdate(md, cert_hash, sizeof cert_hash) != 1 ||
        EVP_DigestUpdate(md, nonce, nonce_len) != 1 || EVP_DigestFinal_ex(md, out, &n) != 1 ||
        n != 64) {
        goto out;
    }
    st = CVMA_OK;
out:
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    return st;
}

/*
 * The request's expectations for a binding already in req->report_data: the evidence's
 * REPORT_DATA (azure-snp, azure-tdx: the runtime claims' user-data, docs/atls.md). For the
 * Azure kinds the vTPM quote must be over the binding too: its extraData is the binding's
 * first CVMA_ATLS_QUOTE_NONCE_LEN bytes (a TPM's qualifyingData holds at most its largest
 * digest, and a vTPM need not have SHA-512). No other kind is given a nonce: tpm and svsm-vtpm
 * evidence has no REPORT_DATA of its own that could carry the binding, and stays refused
 * (NONCE_REPORT_DATA_MISMATCH), a nonce equal to the report data would have let it through.
 */
static void expect_binding(struct cvma_request *req, const struct cvma_evidence *ev)
{
    enum cvma_evidence_kind k = cvma_evidence_kind(ev);
    req->has_report_data = true;
    if (k == CVMA_KIND_AZURE_SNP || k == CVMA_KIND_AZURE_TDX) {
        req->has_nonce = true;
        memcpy(req->nonce, req->report_data, CVMA_ATLS_QUOTE_NONCE_LEN);
        req->nonce_len = CVMA_ATLS_QUOTE_NONCE_LEN;
    }
}

/*
 * The result for evidence whose bytes cannot be read as evidence at all (empty, a malformed
 * bundle, over the limits: cvma_evidence_from_bytes's CVMA_E_USAGE, why in why). From a peer
 * that is the peer's fault, not the caller's: refused with PARSE_UNKNOWN_FORMAT, as bytes of
 * no known kind are (the verifier's own result for them), so that the refusal names a reason
 * like any other. CVMA_OK with *out, or CVMA_E_NOMEM.
 */
static enum cvma_status unreadable_result(const struct cvma_request *req, const char *why,
                                          struct cvma_result **out)
{
    struct cvma_result *res = calloc(1, sizeof *res);
    if (res == NULL) {
        return CVMA_E_NOMEM;
    }
    cvma_result_init(res, "unknown", time(NULL));
    res->verdict.checks_required = CVMA_CHECK_PARSE;
    (void)cvma_reject(&res->verdict, CVMA_R_PARSE_UNKNOWN_FORMAT, "%s", why);
    /* the binding expected, as the verifier names it for evidence it reads */
    size_t n = sizeof req->report_data;
    while (n > 5 && req->report_data[n - 1] == 0) {
        n--;
    }
    cvma_hex_encode(req->report_data, n, res->eat_nonce, sizeof res->eat_nonce);
    cvma_result_finish(res);
    if (res->verdict.oom) {
        cvma_result_free(res);
        return CVMA_E_NOMEM;
    }
    *out = res;
    return CVMA_OK;
}

CVMA_API enum cvma_status cvma_atls_verify_cert_bound(struct cvma_verifier *v, X509 *leaf,
                                                      const char *policy, const uint8_t *nonce,
                                                      size_t nonce_len, const uint8_t *ev,
                                                      size_t ev_len, struct cvma_result **out,
                                                      char *err, size_t err_len)
{
    struct cvma_evidence *evidence = NULL;
    struct cvma_request req;
    enum cvma_status st;

    *out = NULL;
    memset(&req, 0, sizeof req);
    if ((st = cvma_atls_cert_binding(leaf, nonce, nonce_len, req.report_data)) != CVMA_OK) {
        cvma_errf(err, err_len, "atls: no certificate, or a nonce not of 16..64 bytes");
        return st;
    }
    req.policy = policy;
    if ((st = cvma_evidence_from_bytes(ev, ev_len, CVMA_INFORM_AUTO, &evidence, err, err_len)) ==
        CVMA_OK) {
        expect_binding(&req, evidence);
        st = cvma_verify(v, evidence, &req, out, err, err_len);
    } else if (st == CVMA_E_USAGE) {
        st = unreadable_result(&req, err, out);
    }
    cvma_evidence_free(evidence);
    return st;
}

/*
 * SIGPIPE. Writing to a socket whose peer has closed raises SIGPIPE, whose default action ends
 * the process; OpenSSL's socket BIO writes with write()/send() without MSG_NOSIGNAL, so a peer
 * that closes could kill any program using these functions. The process's signal disposition
 * is the program's, not the library's, so it is left alone: around each call that may write to
 * the peer, SIGPIPE is blocked in the calling thread only (pthread_sigmask). A SIGPIPE the
 * call raises then stays pending instead of being delivered, and the write fails with EPIPE
 * (CVMA_E_IO to the caller); before the thread's mask is restored that SIGPIPE is consumed
 * (sigtimedwait with a zero timeout: it never waits), unless one was pending already before
 * the call, which is someone else's and is left as it was. This is libpq's technique
 * (pq_block_sigpipe / pq_reset_sigpipe) and libcurl's when it cannot use MSG_NOSIGNAL.
 *
 * Which calls write: SSL_write_ex, and SSL_read_ex too: a record that does not decrypt, or any
 * other protocol error, is answered with a fatal alert that OpenSSL writes from inside the read
 * (a peer can send a forged record and close). SSL_shutdown writes as well; nothing in src/atls
 * calls it (closing the connection is the caller's).
 */
struct nosigpipe {
    sigset_t old;        /* the thread's mask before */
    bool pending_before; /* a SIGPIPE was pending already: not ours to consume */
};

static void nosigpipe_begin(struct nosigpipe *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    g->pending_before = false;
    /* Cannot fail with these arguments (EINVAL is for a bad how). */
    (void)pthread_sigmask(SIG_BLOCK, &set, &g->old);
    if (sigismember(&g->old, SIGPIPE) == 1 && sigpending(&pending) == 0) {
        /* pending only if it was blocked before this */
        g->pending_before = sigismember(&pending, SIGPIPE) == 1;
    }
}

static void nosigpipe_end(const struct nosigpipe *g)
{
    int saved = errno; /* the write's errno (EPIPE) is the caller's to read */
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (!g->pending_before && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) == -1 && errno == EINTR) {
        }
    }
    (void)pthread_sigmask(SIG_SETMASK, &g->old, NULL);
    errno = saved;
}

/* SSL_write_ex and SSL_read_ex without SIGPIPE (above). */
static int ssl_write_nosig(SSL *ssl, const void *p, size_t len, size_t *done)
{
    struct nosigpipe g;
    nosigpipe_begin(&g);
    int ret = SSL_write_ex(ssl, p, len, done);
    nosigpipe_end(&g);
    return ret;
}

static int ssl_read_nosig(SSL *ssl, void *p, size_t len, size_t *done)
{
    struct nosigpipe g;
    nosigpipe_begin(&g);
    int ret = SSL_read_ex(ssl, p, len, done);
    nosigpipe_end(&g);
    return ret;
}

static bool write_all(SSL *ssl, const uint8_t *p, size_t len)
{
    while (len > 0) {
        size_t done = 0;
        if (ssl_write_nosig(ssl, p, len, &done) != 1) {
            return false;
        }
        p += done;
        len -= done;
    }
    return true;
}

/* Why a read stopped: closed, timed out (SO_RCVTIMEO) or failed; err (may be NULL) says so. */
static void read_failed(SSL *ssl, const char *what, char *err, size_t err_len)
{
    int e = SSL_get_error(ssl, 0);
    cvma_errf(err, err_len, "atls: %s: %s", what,
              e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE
                      ? "timed out waiting for the peer"
                      : (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL
                                 ? "the peer closed the connection"
                                 : "the connection failed"));
}

static bool read_all(SSL *ssl, uint8_t *p, size_t len)
{
    while (len > 0) {
        size_t done = 0;
        if (ssl_read_nosig(ssl, p, len, &done) != 1) {
            return false;
        }
        p += done;
        len -= done;
    }
    return true;
}

CVMA_API enum cvma_status cvma_atls_write_frame(SSL *ssl, enum cvma_atls_frame type,
                                                const uint8_t *p, size_t len)
{
    /* The head and the payload in one write, so one TLS record (up to 16 KiB): written apart,
     * the payload's record could wait for the head's acknowledgement (Nagle), and a close that
     * follows at once with input unread sends a reset instead, losing it: the peer would get
     * an ERROR's head and no reason. */
    uint8_t small[CVMA_ATLS_FRAME_HEAD + 1024], *buf = small;
    if (len > CVMA_ATLS_FRAME_MAX) {
        return CVMA_E_USAGE;
    }
    if (len > sizeof small - CVMA_ATLS_FRAME_HEAD &&
        (buf = malloc(CVMA_ATLS_FRAME_HEAD + len)) == NULL) {
        return CVMA_E_NOMEM;
    }
    cvma_atls_frame_head((uint8_t)type, (uint32_t)len, buf);
    if (len > 0) {
        memcpy(buf + CVMA_ATLS_FRAME_HEAD, p, len);
    }
    bool ok = write_all(ssl, buf, CVMA_ATLS_FRAME_HEAD + len);
    if (buf != small) {
        free(buf);
    }
    return ok ? CVMA_OK : CVMA_E_IO;
}

CVMA_API size_t cvma_atls_frame_limit(uint8_t type)
{
    switch (type) {
    case CVMA_ATLS_F_NONCE:
        return CVMA_ATLS_NONCE_LEN;
    case CVMA_ATLS_F_ERROR:
        return CVMA_ATLS_ERROR_MAX;
    case CVMA_ATLS_F_EVIDENCE:
    case CVMA_ATLS_F_DATA:
        return CVMA_ATLS_FRAME_MAX;
    default:
        return 0;
    }
}

void cvma_atls_frame_head(uint8_t type, uint32_t len, uint8_t h[CVMA_ATLS_FRAME_HEAD])
{
    h[0] = type;
    h[1] = (uint8_t)(len >> 24);
    h[2] = (uint8_t)(len >> 16);
    h[3] = (uint8_t)(len >> 8);
    h[4] = (uint8_t)len;
}

enum cvma_status cvma_atls_frame_read_head(const uint8_t *h, size_t len, uint8_t *type,
                                           uint32_t *body_len, char *err, size_t err_len)
{
    uint8_t t = 0;
    uint32_t n = 0;
    struct cvma_reader r;
    *type = 0;
    *body_len = 0;
    cvma_reader_init(&r, h, len);
    if (!cvma_reader_u8(&r, &t) || !cvma_reader_u32be(&r, &n)) {
        cvma_errf(err, err_len, "atls: a frame cut short (%zu bytes of its header)", len);
        return CVMA_E_IO;
    }
    if (cvma_atls_frame_limit(t) == 0) {
        cvma_errf(err, err_len, "atls: unknown frame type %u", t);
        return CVMA_REJECTED;
    }
    if (n > cvma_atls_frame_limit(t)) {
        cvma_errf(err, err_len,
                  "atls: a frame of type %u announces %u bytes, over its limit of %zu", t, n,
                  cvma_atls_frame_limit(t));
        return CVMA_REJECTED;
    }
    *type = t;
    *body_len = n;
    return CVMA_OK;
}

CVMA_API enum cvma_status cvma_atls_read_frame_ex(SSL *ssl, uint8_t *type, uint8_t **out,
                                                  size_t *len, char *err, size_t err_len)
{
    uint8_t h[CVMA_ATLS_FRAME_HEAD], t = 0, *p = NULL;
    uint32_t n = 0;
    size_t have = 0, cap = 0;
    enum cvma_status st;
    *out = NULL;
    *len = 0;
    *type = 0;
    if (!read_all(ssl, h, sizeof h)) {
        read_failed(ssl, "no frame", err, err_len);
        return CVMA_E_IO;
    }
    if ((st = cvma_atls_frame_read_head(h, sizeof h, &t, &n, err, err_len)) != CVMA_OK) {
        return st;
    }
    /* The buffer grows as the body arrives, doubling (so a large frame is copied a few times,
     * not once a chunk): a header alone costs one chunk at most, and what is held is never
     * more than twice what arrived. */
    do {
        if (have == cap) {
            size_t step = cap > CVMA_ATLS_READ_CHUNK ? cap : CVMA_ATLS_READ_CHUNK;
            size_t want = n - have < step ? n - have : step;
            uint8_t *q = realloc(p, cap + want + 1);
            if (q == NULL) {
                free(p);
                cvma_errf(err, err_len, "atls: out of memory");
                return CVMA_E_NOMEM;
            }
            p = q;
            cap += want;
        }
        size_t done = 0;
        if (have < cap && ssl_read_nosig(ssl, p + have, cap - have, &done) != 1) {
            free(p);
            read_failed(ssl, "a frame cut short", err, err_len);
            return CVMA_E_IO;
        }
        have += done;
    } while (have < n);
    p[n] = 0;
    *type = t;
    *out = p;
    *len = n;
    return CVMA_OK;
}

CVMA_API enum cvma_status cvma_atls_read_frame(SSL *ssl, uint8_t *type, uint8_t **out, size_t *len)
{
    return cvma_atls_read_frame_ex(ssl, type, out, len, NULL, 0);
}

CVMA_API void cvma_atls_send_refusal(SSL *ssl, const struct cvma_result *r)
{
    char msg[256] = "refused";
    bool said = false;
    for (size_t i = 0; r != NULL && i < cvma_result_reason_count(r); i++) {
        if (strcmp(cvma_result_reason_severity(r, i), "error") == 0) {
            snprintf(msg, sizeof msg, "refused: %s", cvma_result_reason_code(r, i));
            said = true;
            break;
        }
    }
    if (!said && r != NULL && cvma_result_has_reason(r, "MEASUREMENT_CHANGED")) {
        /* a renewal refused for another image, whatever its status (cvma_atls_check) */
        snprintf(msg, sizeof msg, "refused: MEASUREMENT_CHANGED");
    }
    (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg, strlen(msg));
}

CVMA_API const char *cvma_atls_printable(const uint8_t *p, size_t len, char *out, size_t out_size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, shown = len < CVMA_ATLS_ERROR_SHOWN ? len : CVMA_ATLS_ERROR_SHOWN, i;
    if (out == NULL || out_size == 0) {
        return "";
    }
    for (i = 0; i < shown; i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (o + 1 >= out_size) {
                break;
            }
            out[o++] = (char)c;
        } else {
            if (o + 4 >= out_size) {
                break;
            }
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    if (i < len) {
        char tail[48];
        int k = snprintf(tail, sizeof tail, " ... (%zu bytes)", len);
        if (k > 0 && o + (size_t)k < out_size) {
            memcpy(out + o, tail, (size_t)k + 1);
        }
    }
    return out;
}

CVMA_API enum cvma_status cvma_atls_answer(SSL *ssl, enum cvma_atls_role role, const uint8_t *nonce,
                                           size_t nonce_len, const struct cvma_atls_source *src,
                                           char *err, size_t err_len)
{
    enum cvma_status st;
    uint8_t rd[64];
    uint8_t *ev = NULL;
    size_t ev_len = 0;

    if (nonce_len != CVMA_ATLS_NONCE_LEN) {
        /* the peer's mistake: said to it in an ERROR frame, not left to a bare close */
        char msg[128];
        snprintf(msg, sizeof msg, "refused: ATLS_PROTOCOL_VIOLATION: a nonce is %d bytes, not %zu",
                 CVMA_ATLS_NONCE_LEN, nonce_len);
        (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg, strlen(msg));
        cvma_errf(err, err_len, "atls: %s", msg + strlen("refused: "));
        return CVMA_REJECTED;
    }
    if ((st = cvma_atls_binding(ssl, role, SSL_get_certificate(ssl), nonce, nonce_len, rd, err,
                                err_len)) != CVMA_OK) {
        return st;
    }
    if (src == NULL || src->evidence == NULL) {
        cvma_errf(err, err_len, "atls: no evidence source");
        return CVMA_E_USAGE;
    }
    if ((st = src->evidence(src->ctx, rd, nonce, nonce_len, &ev, &ev_len, err, err_len)) !=
        CVMA_OK) {
        return st;
    }
    if (ev_len > CVMA_ATLS_FRAME_MAX) {
        /* No EVIDENCE frame can carry it: say so to the peer, not leave it waiting. */
        char msg[160];
        snprintf(msg, sizeof msg,
                 "refused: the evidence is %zu bytes, over the frame limit of %u bytes", ev_len,
                 CVMA_ATLS_FRAME_MAX);
        (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg, strlen(msg));
        cvma_errf(err, err_len, "atls: %s", msg + strlen("refused: "));
        free(ev);
        return CVMA_E_USAGE;
    }
    st = cvma_atls_write_frame(ssl, CVMA_ATLS_F_EVIDENCE, ev, ev_len);
    if (st == CVMA_E_IO) {
        cvma_errf(err, err_len, "atls: the connection failed while sending evidence");
    } else if (st == CVMA_E_NOMEM) {
        cvma_errf(err, err_len, "atls: out of memory for the evidence's frame");
    }
    free(ev);
    return st;
}

/*
 * The 64 bytes the verified evidence binds, which the verifier compared with the request's
 * report_data. Most kinds: the hardware REPORT_DATA (claims.report_data). azure-snp and
 * azure-tdx (docs/azure.md): the hardware REPORT_DATA is the hash of the runtime claims, and
 * the request's report_data is compared with the claims' user-data; the aTLS check reads that
 * user-data from the verified claims (claims.azure.runtime_claims.user_data) and compares it
 * again, so the binding is never taken on trust. CVMA_REJECTED when the claims hold no
 * 64-byte user-data (refused), CVMA_E_NOMEM.
 */
static enum cvma_status bound_value(const struct cvma_result *res, uint8_t out[64])
{
    memset(out, 0, 64);
    if (res->tee == NULL ||
        (strcmp(res->tee, "azure-snp") != 0 && strcmp(res->tee, "azure-tdx") != 0)) {
        memcpy(out, res->claims.report_data, 64);
        return CVMA_OK;
    }
    json_t *c = cvma_result_claims_json(res);
    if (c == NULL) {
        return CVMA_E_NOMEM;
    }
    const char *ud = json_string_value(json_object_get(
            json_object_get(json_object_get(c, "azure"), "runtime_claims"), "user_data"));
    size_t n = 0;
    bool ok = ud != NULL && cvma_hex_decode(ud, out, 64, &n) && n == 64;
    json_decref(c);
    if (!ok) {
        memset(out, 0, 64);
    }
    return ok ? CVMA_OK : CVMA_REJECTED;
}

/* Adds an error reason to a finished result (its status becomes contraindicated). */
static void refuse(struct cvma_result *res, enum cvma_reason code, const char *detail)
{
    (void)cvma_reject(&res->verdict, code, "%s", detail);
    res->status = CVMA_CONTRAINDICATED;
}

CVMA_API enum cvma_status cvma_atls_verify(SSL *ssl, struct cvma_verifier *v,
                                           const struct cvma_atls_check *chk, const uint8_t *nonce,
                                           size_t nonce_len, const uint8_t *ev, size_t ev_len,
                                           struct cvma_result **out, char *err, size_t err_len)
{
    enum cvma_status st;
    struct cvma_evidence *evidence = NULL;
    struct cvma_request req;
    X509 *peer = NULL;
    uint8_t other[64], bound[64];
    enum cvma_atls_role self =
            chk->peer_role == CVMA_ATLS_SERVER ? CVMA_ATLS_CLIENT : CVMA_ATLS_SERVER;

    *out = NULL;
    memset(&req, 0, sizeof req);
    peer = SSL_get1_peer_certificate(ssl);
    if (peer == NULL) {
        cvma_errf(err, err_len, "atls: the peer presented no certificate");
        return CVMA_REJECTED;
    }
    if ((st = cvma_atls_binding(ssl, chk->peer_role, peer, nonce, nonce_len, req.report_data, err,
                                err_len)) != CVMA_OK) {
        goto out;
    }
    req.policy = chk->policy;
    req.previous_result = chk->previous_result;
    req.previous_result_len = chk->previous_result_len;
    if ((st = cvma_evidence_from_bytes(ev, ev_len, CVMA_INFORM_AUTO, &evidence, err, err_len)) !=
        CVMA_OK) {
        if (st == CVMA_E_USAGE) {
            st = unreadable_result(&req, err, out); /* the peer's bytes: refused, named */
        }
        goto out;
    }
    expect_binding(&req, evidence);
    if ((st = cvma_verify(v, evidence, &req, out, err, err_len)) != CVMA_OK) {
        goto out;
    }
    struct cvma_result *res = *out;
    if (!res->claims.verified) {
        goto out; /* nothing verified to compare: the verifier already refused */
    }
    enum cvma_status bst = bound_value(res, bound);
    if (bst == CVMA_E_NOMEM) {
        cvma_result_free(res); /* as cvma_verify when memory runs out: no result */
        *out = NULL;
        cvma_errf(err, err_len, "atls: out of memory");
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (bst != CVMA_OK) {
        refuse(res, CVMA_R_ATLS_EVIDENCE_NOT_BOUND,
               "the verified claims carry no 64-byte user-data to compare with this session's "
               "binding");
        goto out;
    }
    if (memcmp(bound, req.report_data, sizeof req.report_data) == 0) {
        goto out; /* bound */
    }
    /* Not bound: say why when it can be told. */
    if (cvma_atls_binding(ssl, self, SSL_get_certificate(ssl), nonce, nonce_len, other, NULL, 0) ==
                CVMA_OK &&
        memcmp(bound, other, sizeof other) == 0) {
        refuse(res, CVMA_R_ATLS_EVIDENCE_REFLECTED,
               "the evidence is bound to this end's own role and key: the peer reflected it");
        goto out;
    }
    for (size_t i = 0; i < chk->n_old_nonces; i++) {
        if (cvma_atls_binding(ssl, chk->peer_role, peer, chk->old_nonces[i], CVMA_ATLS_NONCE_LEN,
                              other, NULL, 0) == CVMA_OK &&
            memcmp(bound, other, sizeof other) == 0) {
            char d[96];
            cvma_errf(d, sizeof d,
                      "the evidence answers nonce %zu of this connection, not the "
                      "fresh one",
                      i + 1);
            refuse(res, CVMA_R_ATLS_NONCE_STALE, d);
            goto out;
        }
    }
    refuse(res, CVMA_R_ATLS_EVIDENCE_NOT_BOUND,
           "REPORT_DATA is not SHA-512 over this session's exporter, the peer's key and the nonce");
out:
    cvma_evidence_free(evidence);
    X509_free(peer);
    return st;
}

CVMA_API enum cvma_status cvma_atls_attest_peer(SSL *ssl, struct cvma_verifier *v,
                                                const struct cvma_atls_check *chk,
                                                const struct cvma_atls_source *src, bool *answered,
                                                uint8_t nonce[CVMA_ATLS_NONCE_LEN],
                                                struct cvma_result **out, char *err, size_t err_len)
{
    static const char again[] = "refused: ATLS_PROTOCOL_VIOLATION: too many NONCE frames: this end "
                                "has attested already";
    char why[512] = "", shown[4 * CVMA_ATLS_ERROR_SHOWN + 32];
    uint8_t type = 0, *p = NULL;
    size_t len = 0;
    enum cvma_status st;

    *out = NULL;
    /* Before any frame: none is ever sent on a session aTLS cannot bind (docs/atls.md). */
    if ((st = cvma_atls_check_channel(ssl, err, err_len)) != CVMA_OK) {
        return st;
    }
    if (RAND_bytes(nonce, CVMA_ATLS_NONCE_LEN) != 1) {
        cvma_errf(err, err_len, "cannot send the nonce");
        return CVMA_E_INTERNAL;
    }
    if (cvma_atls_write_frame(ssl, CVMA_ATLS_F_NONCE, nonce, CVMA_ATLS_NONCE_LEN) != CVMA_OK) {
        cvma_errf(err, err_len, "cannot send the nonce");
        return CVMA_E_IO;
    }
    for (;;) {
        if ((st = cvma_atls_read_frame_ex(ssl, &type, &p, &len, why, sizeof why)) != CVMA_OK) {
            /* A frame of an unknown type or over its limit is the peer's fault: named. */
            cvma_errf(err, err_len, "%s%s",
                      st == CVMA_REJECTED ? CVMA_ATLS_ERR_PROTOCOL : "no evidence from the peer: ",
                      why);
            return st;
        }
        if (type == CVMA_ATLS_F_EVIDENCE) {
            break;
        }
        if (type == CVMA_ATLS_F_ERROR) {
            cvma_errf(err, err_len, "the peer refuses: %s",
                      cvma_atls_printable(p, len, shown, sizeof shown));
            free(p);
            return CVMA_REJECTED;
        }
        if (type == CVMA_ATLS_F_DATA) {
            free(p);
            cvma_errf(err, err_len, "%s", CVMA_ATLS_ERR_DATA_FIRST);
            return CVMA_REJECTED;
        }
        if (type != CVMA_ATLS_F_NONCE || src == NULL) {
            free(p);
            cvma_errf(err, err_len, "%sunexpected frame %u before the evidence",
                      CVMA_ATLS_ERR_PROTOCOL, type);
            return CVMA_REJECTED;
        }
        if (*answered) {
            free(p);
            /* Producing evidence is costly: while *answered is set (once per connection,
             * unless the caller allows a renewal) a peer asking again is refused. */
            (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)again,
                                        sizeof again - 1);
            cvma_errf(err, err_len, "the peer asked for evidence again: %s", again);
            return CVMA_REJECTED;
        }
        *answered = true;
        st = cvma_atls_answer(
                ssl, chk->peer_role == CVMA_ATLS_SERVER ? CVMA_ATLS_CLIENT : CVMA_ATLS_SERVER, p,
                len, src, err, err_len);
        free(p);
        p = NULL;
        if (st != CVMA_OK) {
            return st;
        }
    }
    st = cvma_atls_verify(ssl, v, chk, nonce, CVMA_ATLS_NONCE_LEN, p, len, out, why, sizeof why);
    free(p);
    if (st != CVMA_OK) {
        cvma_errf(err, err_len, "refused: %s", why);
        return st == CVMA_E_NOMEM || st == CVMA_E_INTERNAL ? st : CVMA_REJECTED;
    }
    return CVMA_OK;
}

CVMA_API enum cvma_status cvma_atls_self_signed(const char *cn, int days, EVP_PKEY **key,
                                                X509 **cert)
{
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    X509_NAME *name = NULL;
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    enum cvma_status st = CVMA_E_INTERNAL;

    *key = NULL;
    *cert = NULL;
    /* A name X.520 allows (ub-common-name, 64 characters; never empty) and a window that
     * ends after it starts, at most ten years on: anything else is the caller's mistake. */
    if (cn == NULL || cn[0] == '\0' || strlen(cn) > CVMA_ATLS_CN_MAX || days < 1 ||
        days > CVMA_ATLS_CERT_DAYS_MAX) {
        return CVMA_E_USAGE;
    }
    if ((k = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL ||
        RAND_bytes(serial, sizeof serial) != 1) {
        goto out;
    }
    serial[0] &= 0x7F;
    if ((bn = BN_bin2bn(serial, sizeof serial, NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL || X509_set_version(x, 2) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) == NULL ||
        X509_set_pubkey(x, k) != 1) {
        goto out;
    }
    name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, name) != 1 || X509_sign(x, k, EVP_sha256()) <= 0) {
        goto out;
    }
    *key = k;
    *cert = x;
    k = NULL;
    x = NULL;
    st = CVMA_OK;
out:
    BN_free(bn);
    EVP_PKEY_free(k);
    X509_free(x);
    return st;
}

/* The bytes up to (not including) the first of stops or the end of r, borrowed; r is left at
 * that byte (not consumed). */
static struct cvma_span http_until(struct cvma_reader *r, const char *stops, size_t nstops)
{
    struct cvma_span s = {NULL, 0};
    struct cvma_reader peek = *r;
    size_t n = 0;
    uint8_t c = 0;
    while (cvma_reader_u8(&peek, &c) && memchr(stops, c, nstops) == NULL) {
        n++;
    }
    if (!cvma_reader_span(r, n, &s)) {
        s.len = 0; /* cannot happen: the n bytes were just read */
    }
    return s;
}

/* The nonce of a query (the target after '?'): its one "nonce" parameter, 16..64 bytes in hex.
 * Other parameters are ignored; false when there is none, more than one, or it is not that. */
static bool http_query_nonce(struct cvma_reader *q, uint8_t nonce[64], size_t *n)
{
    static const char key[] = "nonce=";
    const size_t kl = sizeof key - 1;
    bool found = false, more = !cvma_reader_at_end(q);
    *n = 0;
    while (more) {
        struct cvma_span par = http_until(q, "&", 1);
        uint8_t amp = 0;
        more = cvma_reader_u8(q, &amp); /* the '&' (then another parameter) or the end */
        /* A parameter named nonce, with a value or without ("?nonce&nonce=HEX"): each one
         * counts, so that a second, or one without "=", is refused, never skipped. */
        bool named = par.len >= kl - 1 && memcmp(par.p, key, kl - 1) == 0 &&
                     (par.len == kl - 1 || par.p[kl - 1] == '=');
        if (!named) {
            continue;
        }
        size_t hl = par.len >= kl ? par.len - kl : 0;
        if (found || par.len < kl || hl % 2 != 0 || hl < 32 || hl > 128) {
            *n = 0;
            return false;
        }
        char hex[129];
        size_t got = 0;
        memcpy(hex, par.p + kl, hl);
        hex[hl] = '\0';
        /* a NUL among the digits ends the text early: fewer bytes than hl / 2, refused */
        if (!cvma_hex_decode(hex, nonce, 64, &got) || got != hl / 2) {
            *n = 0;
            return false;
        }
        *n = got;
        found = true;
    }
    return found;
}

enum cvma_atls_http_req cvma_atls_http_parse_request(const uint8_t *head, size_t len,
                                                     uint8_t nonce[64], size_t *nonce_len)
{
    static const char get[] = "GET ", path[] = CVMA_ATLS_WELL_KNOWN;
    struct cvma_reader r, t;
    struct cvma_span m = {NULL, 0};
    uint8_t sp = 0;
    *nonce_len = 0;
    cvma_reader_init(&r, head, len);
    /* The request line: "GET " target " HTTP/..."; the target is the path, then "?" query.
     * The target ends at a space, CR, LF or NUL: only a space ends it well. */
    if (!cvma_reader_span(&r, sizeof get - 1, &m) || memcmp(m.p, get, sizeof get - 1) != 0) {
        return CVMA_ATLS_HTTP_NOT_FOUND;
    }
    struct cvma_span target = http_until(&r, " \r\n", 4); /* the 4th stop is the NUL */
    if (target.len == 0 || !cvma_reader_u8(&r, &sp) || sp != ' ') {
        return CVMA_ATLS_HTTP_NOT_FOUND;
    }
    cvma_reader_init(&t, target.p, target.len);
    struct cvma_span p = http_until(&t, "?", 1);
    if (p.len != sizeof path - 1 || memcmp(p.p, path, p.len) != 0) {
        return CVMA_ATLS_HTTP_NOT_FOUND;
    }
    uint8_t qm = 0;
    if (!cvma_reader_u8(&t, &qm) || !http_query_nonce(&t, nonce, nonce_len)) {
        *nonce_len = 0;
        return CVMA_ATLS_HTTP_BAD_NONCE;
    }
    return CVMA_ATLS_HTTP_OK;
}

bool cvma_atls_http_response_body(const uint8_t *resp, size_t len, size_t *body_off)
{
    static const char ok[] = "HTTP/1.1 200";
    struct cvma_reader r;
    struct cvma_span m = {NULL, 0};
    uint8_t c = 0, win[4] = {0, 0, 0, 0};
    *body_off = 0;
    cvma_reader_init(&r, resp, len);
    if (!cvma_reader_span(&r, sizeof ok - 1, &m) || memcmp(m.p, ok, sizeof ok - 1) != 0) {
        return false;
    }
    /* The status code ends there (a reason phrase or the line's end follows: not "2000"). */
    struct cvma_reader peek = r;
    if (!cvma_reader_u8(&peek, &c) || (c != ' ' && c != '\r')) {
        return false;
    }
    /* The head ends at the first blank line; a NUL byte before it (not HTTP) refuses. */
    while (cvma_reader_u8(&r, &c) && c != 0) {
        memmove(win, win + 1, 3);
        win[3] = c;
        if (memcmp(win, "\r\n\r\n", 4) == 0) {
            *body_off = len - cvma_reader_left(&r);
            return true;
        }
    }
    return false;
}
