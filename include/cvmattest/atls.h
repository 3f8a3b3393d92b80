/*
 * Attested TLS (docs/atls.md): evidence bound to a TLS 1.3 session, exchanged on the
 * connection after the handshake and before any application data.
 *
 * The verifying end sends a fresh nonce; the attesting end answers with evidence whose
 * REPORT_DATA is
 *
 *   SHA-512("cvmattest-atls-v1" || role || SHA-256(sender's leaf SPKI) || exporter || nonce)
 *
 * role: 0x01 when the server attests, 0x02 when the client does; exporter: the RFC 8446
 * exporter of the session, label CVMA_ATLS_EXPORTER_LABEL, empty context, 32 bytes. Both ends
 * refuse TLS below 1.3 and sessions without the exporter (fail closed).
 *
 * Messages are frames on the TLS stream: one type byte, a 4-byte big-endian length, the
 * payload: a NONCE CVMA_ATLS_NONCE_LEN bytes at most, an ERROR CVMA_ATLS_ERROR_MAX, EVIDENCE
 * and DATA CVMA_ATLS_FRAME_MAX; other types are refused.
 *
 * The functions take an established OpenSSL SSL * (the caller owns the socket, the SSL_CTX
 * and the certificates) and block. Threads: one connection per thread; a verifier may be
 * shared (cvmattest.h).
 *
 * A peer that closed or reset the connection makes a read or a write fail: CVMA_E_IO. The
 * library never raises SIGPIPE (whose default action would end the process) and leaves the
 * process's signal disposition alone: around each SSL read and write it blocks SIGPIPE in the
 * calling thread, takes back a SIGPIPE that call raised, and restores the thread's mask; a
 * SIGPIPE pending before the call is left pending. Closing the connection (SSL_shutdown,
 * which writes too) is the caller's, and so is SIGPIPE there.
 */
#ifndef CVMATTEST_ATLS_H
#define CVMATTEST_ATLS_H

#include <openssl/ssl.h>

#include "cvmattest/cvmattest.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CVMA_ATLS_LABEL          "cvmattest-atls-v1"
#define CVMA_ATLS_EXPORTER_LABEL "EXPORTER-cvmattest-atls-v1"
#define CVMA_ATLS_EXPORTER_LEN   32
#define CVMA_ATLS_NONCE_LEN      32
/* azure-snp/azure-tdx: the vTPM quote's extraData is the binding's first this many bytes */
#define CVMA_ATLS_QUOTE_NONCE_LEN 32
#define CVMA_ATLS_FRAME_MAX       (8u << 20)  /* EVIDENCE and DATA frames */
#define CVMA_ATLS_ERROR_MAX       4096u       /* ERROR frames */
#define CVMA_ATLS_ERROR_SHOWN     200         /* bytes of a peer's ERROR text printed */
#define CVMA_ATLS_READ_CHUNK      (64u << 10) /* a frame's buffer grows by this as data arrives */

enum cvma_atls_role {
    CVMA_ATLS_SERVER = 0x01,
    CVMA_ATLS_CLIENT = 0x02,
    CVMA_ATLS_CERT = 0x03, /* certificate-bound mode (no session) */
};

/* The certificate-bound mode's endpoint: GET CVMA_ATLS_WELL_KNOWN?nonce=HEX (16..64 bytes;
 * other query parameters ignored). atls-server --mutual answers it 403 (docs/atls.md). */
#define CVMA_ATLS_WELL_KNOWN "/.well-known/cvmattest/evidence"

/* How cvma_atls_attest_peer's err begins when the peer broke the protocol (CVMA_REJECTED, no
 * result): the reason code ATLS_PROTOCOL_VIOLATION (docs/reasons.md), then what it sent. The
 * whole err for a DATA frame where its EVIDENCE was due is CVMA_ATLS_ERR_DATA_FIRST, so that a
 * caller can answer it as DATA before attestation (atls-server does: docs/atls.md). */
#define CVMA_ATLS_ERR_PROTOCOL "ATLS_PROTOCOL_VIOLATION: "
#define CVMA_ATLS_ERR_DATA_FIRST \
    CVMA_ATLS_ERR_PROTOCOL "unexpected frame 4 (DATA) before the evidence"

/* Frame types. */
enum cvma_atls_frame {
    CVMA_ATLS_F_NONCE = 0x01,    /* 32 bytes: attest to this */
    CVMA_ATLS_F_EVIDENCE = 0x02, /* a bundle (docs/bundle.md) or a bare report or quote */
    CVMA_ATLS_F_ERROR = 0x03,    /* UTF-8 text: the peer refuses, and closes */
    CVMA_ATLS_F_DATA = 0x04,     /* application data */
};

/*
 * Where evidence comes from: a function that returns evidence whose REPORT_DATA is
 * report_data (the simulated TEE, or collection inside a CVM). nonce is the verifier's nonce,
 * given for sources that need it; report_data is what the evidence must carry (azure-snp and
 * azure-tdx: as the runtime claims' user-data, and its first CVMA_ATLS_QUOTE_NONCE_LEN bytes as
 * the vTPM quote's qualifyingData; both checked, docs/atls.md). *out is
 * malloc'd (the caller frees it). CVMA_OK, or an error status with err.
 */
struct cvma_atls_source {
    enum cvma_status (*evidence)(void *ctx, const uint8_t report_data[64], const uint8_t *nonce,
                                 size_t nonce_len, uint8_t **out, size_t *out_len, char *err,
                                 size_t err_len);
    void *ctx;
};

/* Checks that the session is exactly TLS 1.3 (not DTLS) and has the exporter. CVMA_REJECTED
 * with err if not. */
CVMA_API enum cvma_status cvma_atls_check_channel(SSL *ssl, char *err, size_t err_len);

/*
 * The REPORT_DATA the sender (role, leaf certificate) must put in its evidence for nonce on
 * this session. CVMA_REJECTED when the channel is unsuitable (see cvma_atls_check_channel).
 */
CVMA_API enum cvma_status cvma_atls_binding(SSL *ssl, enum cvma_atls_role role, X509 *leaf,
                                            const uint8_t *nonce, size_t nonce_len, uint8_t out[64],
                                            char *err, size_t err_len);

/*
 * Certificate-bound mode (docs/atls.md): SHA-512(label || 0x03 || SHA-256(leaf certificate DER)
 * || nonce), nonce 16..64 bytes. It binds the key, not a session. CVMA_E_USAGE for a nonce
 * out of range, CVMA_E_INTERNAL when hashing fails.
 */
CVMA_API enum cvma_status cvma_atls_cert_binding(X509 *leaf, const uint8_t *nonce, size_t nonce_len,
                                                 uint8_t out[64]);

/*
 * Verifies certificate-bound evidence (from the well-known endpoint) for leaf and nonce:
 * cvma_verify with request.report_data = cvma_atls_cert_binding; policy may be NULL. Bytes that
 * are no readable evidence at all are refused as cvma_atls_verify refuses them (a result
 * carrying PARSE_UNKNOWN_FORMAT).
 */
CVMA_API enum cvma_status cvma_atls_verify_cert_bound(struct cvma_verifier *v, X509 *leaf,
                                                      const char *policy, const uint8_t *nonce,
                                                      size_t nonce_len, const uint8_t *ev,
                                                      size_t ev_len, struct cvma_result **out,
                                                      char *err, size_t err_len);

/* Writes one frame, its head and payload in one TLS record when the payload is under 16 KiB.
 * CVMA_E_IO when the connection fails (the peer closed it included; no SIGPIPE, above);
 * CVMA_E_NOMEM when a frame over 1 KiB cannot be copied together with its head. */
CVMA_API enum cvma_status cvma_atls_write_frame(SSL *ssl, enum cvma_atls_frame type,
                                                const uint8_t *p, size_t len);
/* The largest payload a frame of this type may have; 0 for an unknown type (refused). */
CVMA_API size_t cvma_atls_frame_limit(uint8_t type);

/*
 * Reads one frame into *out (malloc'd, NUL-terminated beyond *len for convenience; free it).
 * The length is checked against cvma_atls_frame_limit of the type before any body byte is
 * read, and the buffer grows by CVMA_ATLS_READ_CHUNK as the body arrives (a header alone
 * allocates no more than one chunk). CVMA_E_IO on a closed, failed or timed-out connection
 * (the socket's SO_RCVTIMEO), CVMA_REJECTED on an unknown type or a frame over its limit;
 * err (may be NULL) says which.
 */
CVMA_API enum cvma_status cvma_atls_read_frame_ex(SSL *ssl, uint8_t *type, uint8_t **out,
                                                  size_t *len, char *err, size_t err_len);
/* cvma_atls_read_frame_ex without the error text. */
CVMA_API enum cvma_status cvma_atls_read_frame(SSL *ssl, uint8_t *type, uint8_t **out, size_t *len);

/* Sends the refusal of a peer's evidence: an ERROR frame "refused: CODE" with the result's
 * first error reason; with none, "refused: MEASUREMENT_CHANGED" for a renewal that names
 * another image, else (r NULL too) "refused"; errors writing it are ignored (the connection
 * is closed next). */
CVMA_API void cvma_atls_send_refusal(SSL *ssl, const struct cvma_result *r);

/*
 * A peer's ERROR text made safe to print: at most CVMA_ATLS_ERROR_SHOWN bytes of p, printable
 * ASCII kept, every other byte (control characters, escape sequences, non-ASCII) and the
 * backslash written as \xNN, and " ... (N bytes)" when cut. Returns out (always
 * NUL-terminated; out_size >= 4 * CVMA_ATLS_ERROR_SHOWN + 32 holds all of it).
 */
CVMA_API const char *cvma_atls_printable(const uint8_t *p, size_t len, char *out, size_t out_size);

/*
 * The attesting end answers nonce: computes the binding for role and its own certificate,
 * asks src for evidence and sends it in an EVIDENCE frame. CVMA_OK sent; CVMA_REJECTED the
 * channel is unsuitable; CVMA_E_IO the connection failed, the peer having closed it included
 * ("atls: the connection failed while sending evidence"; no SIGPIPE, above); src's own error
 * status; CVMA_E_USAGE no src, or evidence over CVMA_ATLS_FRAME_MAX (err names its size and
 * the limit, and the peer is sent an ERROR frame saying the same); CVMA_E_NOMEM no memory for
 * the frame. err says why whenever the status is not CVMA_OK.
 */
CVMA_API enum cvma_status cvma_atls_answer(SSL *ssl, enum cvma_atls_role role, const uint8_t *nonce,
                                           size_t nonce_len, const struct cvma_atls_source *src,
                                           char *err, size_t err_len);

/* What the verifying end knows besides the verifier. Zero-initialise. */
struct cvma_atls_check {
    enum cvma_atls_role peer_role; /* the role the peer attests in */
    const char *policy;            /* a configured policy's name, NULL: the default */
    /* The previous result on this connection (a lease), or NULL. A renewal then carries
     * PLATFORM_CHANGED and MEASUREMENT_CHANGED (warnings) when the platform or the measurement
     * moved: another measurement is another image on this session, which the caller should
     * refuse whatever the status (atls-client and atls-server do: docs/atls.md). */
    const char *previous_result;
    size_t previous_result_len;
    const uint8_t (*old_nonces)[CVMA_ATLS_NONCE_LEN]; /* nonces sent earlier on this */
    size_t n_old_nonces;                              /* connection (stale-nonce check) */
};

/*
 * Verifies evidence from the peer against nonce on this session: cvma_verify with
 * request.report_data = the binding for the peer's role and leaf certificate (compared with the
 * verified REPORT_DATA; for azure-snp / azure-tdx with the runtime claims' user-data, which
 * the hardware REPORT_DATA vouches for: docs/atls.md). On a mismatch
 * the result also says why when it can tell: ATLS_EVIDENCE_REFLECTED (the evidence is bound
 * to this end's own role and key), ATLS_NONCE_STALE (to an earlier nonce), else
 * ATLS_EVIDENCE_NOT_BOUND. *out as cvma_verify, but for bytes that cannot be read as evidence
 * at all (empty, a malformed bundle, over the limits: what cvma_evidence_from_bytes refuses with
 * CVMA_E_USAGE), which are the peer's fault, not the caller's: CVMA_OK with a refused result
 * (contraindicated, tee "unknown") carrying PARSE_UNKNOWN_FORMAT and why, as for bytes of no
 * known kind; cvma_atls_send_refusal then sends "refused: PARSE_UNKNOWN_FORMAT".
 */
CVMA_API enum cvma_status cvma_atls_verify(SSL *ssl, struct cvma_verifier *v,
                                           const struct cvma_atls_check *chk, const uint8_t *nonce,
                                           size_t nonce_len, const uint8_t *ev, size_t ev_len,
                                           struct cvma_result **out, char *err, size_t err_len);

/*
 * The verifying end's side of one attestation on the connection: sends a fresh nonce (written
 * to nonce, for the caller's chk->old_nonces on later rounds), reads frames until the peer's
 * EVIDENCE and verifies it with cvma_atls_verify(chk). A NONCE from the peer before its
 * EVIDENCE (mutual mode) is answered with this end's evidence from src, in the role opposite
 * chk->peer_role, once: *answered (false on the connection's first call) is set then, and a
 * NONCE while it is set gets the ERROR frame "refused: ATLS_PROTOCOL_VIOLATION: too many NONCE
 * frames: this end has attested already". So this end attests once per connection, unless the
 * caller clears *answered again (atls-client --mutual does, before each of its re-attestations, for
 * the server's lease on it: docs/atls.md). src NULL: this end does not attest, and a NONCE from the
 * peer is an unexpected frame. Nothing is printed; err (the whole message, for "PROGRAM: err") says
 * why when the status is not CVMA_OK:
 *
 *   CVMA_OK        *out is the result: read cvma_result_exit_code for accepted or refused
 *                  (sending the refusal, cvma_atls_send_refusal, is the caller's).
 *   CVMA_REJECTED  no result: the session is not TLS 1.3 with an exporter (as
 *                  cvma_atls_check_channel, checked before anything is sent); the peer refused
 *                  ("the peer refuses: TEXT", its ERROR frame's
 *                  text through cvma_atls_printable); it sent an unexpected frame (DATA:
 *                  CVMA_ATLS_ERR_DATA_FIRST; a NONCE when src is NULL), a frame of an unknown
 *                  type or over its limit (err begins CVMA_ATLS_ERR_PROTOCOL, the reason code:
 *                  the caller's refusal can name it, "refused: ATLS_PROTOCOL_VIOLATION"); it
 *                  asked twice for evidence; sent evidence the verifier cannot take at all
 *                  ("refused: ..."; bytes that cannot be read as evidence are a result instead:
 *                  cvma_atls_verify); or src refused to attest.
 *   CVMA_E_IO      the nonce could not be sent ("cannot send the nonce") or no frame came
 *                  ("no evidence from the peer: ..."): the connection closed, failed or timed
 *                  out (SO_RCVTIMEO / SO_SNDTIMEO: the caller tells a time-out apart); or this
 *                  end's evidence could not be sent.
 *   CVMA_E_NOMEM, CVMA_E_INTERNAL, or src's own error status (this end's evidence).
 */
CVMA_API enum cvma_status cvma_atls_attest_peer(SSL *ssl, struct cvma_verifier *v,
                                                const struct cvma_atls_check *chk,
                                                const struct cvma_atls_source *src, bool *answered,
                                                uint8_t nonce[CVMA_ATLS_NONCE_LEN],
                                                struct cvma_result **out, char *err,
                                                size_t err_len);

/*
 * A P-256 key and a self-signed certificate for it (CN cn), valid for days days: aTLS needs
 * no CA, the evidence vouches for the key. Free with EVP_PKEY_free / X509_free. cn is 1 to
 * CVMA_ATLS_CN_MAX bytes and days 1 to CVMA_ATLS_CERT_DAYS_MAX; anything else (NULL or ""
 * included) is CVMA_E_USAGE, nothing made.
 */
#define CVMA_ATLS_CN_MAX        64
#define CVMA_ATLS_CERT_DAYS_MAX 3650
CVMA_API enum cvma_status cvma_atls_self_signed(const char *cn, int days, EVP_PKEY **key,
                                                X509 **cert);

#ifdef __cplusplus
}
#endif

#endif
