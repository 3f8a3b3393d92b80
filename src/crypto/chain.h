/*
 * The certificate-chain verifier: one place that drives OpenSSL's X509_verify_cert for every
 * evidence kind (SEV-SNP VCEK/VLEK chains, TDX PCK chains, Intel collateral signing chains,
 * and the TPM chains to come), with one map from OpenSSL's X509_V_ERR_* to reason codes.
 *
 * The caller passes what differs between vendors: the leaf, the intermediates, the trust
 * anchor it pinned (cvma_chain_pick_anchor helps), the CRLs, the verification time, whether
 * OpenSSL's strict mode applies, and the names of the certificates by depth, which the
 * reasons use ("VCEK", "ASK", "ARK"). The anchor's self-signature is always checked (OpenSSL
 * skips it for trust anchors by default). Thread-safe: no shared state; the inputs are only
 * read (OpenSSL reference counts are taken and dropped).
 */
#ifndef CVMA_CRYPTO_CHAIN_H
#define CVMA_CRYPTO_CHAIN_H

#include <time.h>

#include <openssl/x509.h>

#include "common/util.h"
#include "common/verdict.h"

/* X509_V_FLAG_X509_STRICT. Not for AMD: VCEKs have no Authority Key Identifier. */
#define CVMA_CHAIN_STRICT 1u
/* X509_V_FLAG_NO_CHECK_TIME: signatures and shape only, no validity window (req->at unused).
 * Only for a check that a full one at req->at follows (the TDX PCK chain before anything is
 * fetched by its values); never the whole verification of a chain. */
#define CVMA_CHAIN_NO_TIME 2u
/* With the CRLs: a CRL whose thisUpdate..nextUpdate misses req->at is still used (its issuer,
 * signature, the certificates it lists), where OpenSSL would stop at its window before its
 * signature (CRL_EXPIRED); a certificate it lists counts as revoked only with a revocationDate
 * at or before req->at (cvma_crl_revokes_at). Only for CRLs whose windows the caller has judged
 * already (the TDX PCK chain after a CRL the verifier chose missed the time); never the whole
 * verification of a chain. */
#define CVMA_CHAIN_CRL_ANY_TIME 4u

struct cvma_chain_req {
    X509 *leaf; /* depth 0 */
    STACK_OF(X509) *
            intermediates;    /* untrusted certificates between leaf and anchor; may be NULL */
    X509 *anchor;             /* the one trusted root, already pinned by the caller */
    X509_CRL *const *crls;    /* when n_crls > 0: every certificate's revocation checked */
    size_t n_crls;            /* (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) */
    time_t at;                /* the verification time */
    unsigned flags;           /* CVMA_CHAIN_* */
    const char *const *roles; /* name by depth for reasons; deeper than n_roles: the last */
    size_t n_roles;
    const char *name;    /* the chain in reasons ("VCEK", "TCB Info issuer") */
    const char *issuers; /* what the leaf should belong to ("ASK/ARK"); NULL: "chain" */
    int expect_len;      /* the verified path must have exactly this many; 0: any */
};

/*
 * Verifies the chain at req->at. On success *path (when path is non-NULL) is the verified
 * path, leaf first, anchor last, owned by the caller (sk_X509_pop_free). A failure is recorded
 * in v through cvma_chain_reject and returned (CVMA_REJECTED); CVMA_E_NOMEM on allocation.
 */
CVMA_MUST_USE enum cvma_status cvma_chain_verify(const struct cvma_chain_req *req,
                                                 STACK_OF(X509) * *path, struct cvma_verdict *v);

/*
 * The one map from an X509_V_ERR_* to a reason, with the detail: CERT_EXPIRED /
 * CERT_NOT_YET_VALID (the certificate's window and an --at hint), CERT_REVOKED, CRL_EXPIRED
 * (the CRL's window, found in store), CRL_INVALID, and CERT_CHAIN_INVALID for the rest.
 * role names the certificate at the failing depth; cert is it (may be NULL); store (may be
 * NULL) holds the CRLs. Returns what cvma_reject returns.
 */
enum cvma_status cvma_chain_reject(int err, const char *role, X509 *cert, X509_STORE *store,
                                   const char *issuers, time_t at, struct cvma_verdict *v);

/* The name of depth in req (the last role for deeper certificates; "certificate" if none). */
const char *cvma_chain_role(const struct cvma_chain_req *req, int depth);

/* A pinned trust anchor: the SHA-256 of its SubjectPublicKeyInfo, lowercase hex. */
struct cvma_chain_pin {
    const char *spki_sha256;
};

/*
 * Which anchor root is: returns the index of the matching pin (0..n_pins-1), n_pins when
 * it is one of the given roots (given_spki: their SPKI SHA-256s, or NULL to compute them from
 * given), -1 when it is neither, -2 when its key cannot be encoded. hex (65 bytes) receives
 * root's SPKI SHA-256 in hex whenever it could be computed.
 */
int cvma_chain_pick_anchor(X509 *root, const struct cvma_chain_pin *pins, size_t n_pins,
                           X509 *const *given, const uint8_t (*given_spki)[32], size_t n_given,
                           char hex[65]);

/* The latest notBefore and earliest notAfter over certs; false (with *bad_index set) when a
 * certificate's dates cannot be read. */
CVMA_MUST_USE bool cvma_chain_window(X509 *const *certs, size_t n, time_t *from, time_t *to,
                                     size_t *bad_index);

/*
 * CVMA_OK when a signature's AlgorithmIdentifier is ecdsa-with-SHA256 with its parameters
 * absent (RFC 5758 3.2): the one scheme Intel signs the certificates and CRLs of its SGX/TDX
 * hierarchy with. Otherwise a rejection with code naming who ("PCK CA") and what it was
 * signed with (e.g. "ecdsa-with-SHA384").
 */
enum cvma_status cvma_intel_signed(const X509_ALGOR *alg, const char *who, enum cvma_reason code,
                                   struct cvma_verdict *v);
/*
 * Whether a CRL may be taken at all, whatever the time: issued by issuer (the CRL's issuer
 * name is issuer's subject), signed by issuer's key, and with a thisUpdate and a nextUpdate
 * readable as OpenSSL's CRL check reads them (cvma_crl_time; a CRL without nextUpdate would
 * never expire, RFC 5280 5.1.2.5). `what` names the CRL in the detail. The one definition of
 * CRL_INVALID for a CRL that parsed, for every vendor: the AMD CRL (SEV-SNP), Intel's Root CA
 * CRL, the PCK chain's CRL times, and the verifiers' choice of which fetched CRL is at fault.
 * On success *this_update and *next_update (either may be NULL) are the CRL's window; whether
 * a time lies in it is the caller's (CRL_EXPIRED). Reasons: CRL_INVALID (CVMA_REJECTED).
 */
CVMA_MUST_USE enum cvma_status cvma_crl_check(X509_CRL *crl, X509 *issuer, const char *what,
                                              time_t *this_update, time_t *next_update,
                                              struct cvma_verdict *v);

/*
 * The thisUpdate and nextUpdate of crl (as cvma_crl_check reads them) when its issuer and
 * signature were checked elsewhere (OpenSSL's chain verification), after its shape: a delta
 * CRL, or one with a critical extension (an issuing distribution point), is refused as
 * cvma_crl_check refuses it (OpenSSL's check would take a delta CRL as a complete one).
 * Reasons: CRL_INVALID.
 */
CVMA_MUST_USE enum cvma_status cvma_crl_times(X509_CRL *crl, const char *what, time_t *this_update,
                                              time_t *next_update, struct cvma_verdict *v);

#endif
