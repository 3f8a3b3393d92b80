/*
 * Intel DCAP collateral for TDX: TCB Info (TDX, v3) and QE Identity (TD_QE, v2) as PCS
 * serves them, their issuer chains, the PCK CRL and the Root CA CRL; and the TCB evaluation
 * that Intel's QVL performs with them (QVL QuoteVerifier.cpp,
 * EnclaveReportVerifier.cpp, EvaluateTcb.cpp).
 *
 * Signatures are checked over the exact bytes of the signed inner object as they stand in the
 * file (never re-serialized JSON).
 */
#ifndef CVMA_TDX_COLLATERAL_H
#define CVMA_TDX_COLLATERAL_H

#include <openssl/x509.h>

#include "tdx/tdx.h"

#define CVMA_TDX_STATUS_MAX 48

struct cvma_tdx_advisories {
    char **ids; /* owned strings */
    size_t n;
};

struct cvma_tdx_tcb_level {
    uint8_t sgx_comp[16];
    uint16_t pcesvn;
    uint8_t tdx_comp[16];
    char status[CVMA_TDX_STATUS_MAX];
    char tcb_date[32];
    struct cvma_tdx_advisories adv;
};

struct cvma_tdx_module_level {
    uint8_t isvsvn;
    char status[CVMA_TDX_STATUS_MAX];
    char tcb_date[32];
    struct cvma_tdx_advisories adv;
};

struct cvma_tdx_module_identity {
    char id[16]; /* TDX_xx: the module major version in hex, e.g. TDX_01 */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    struct cvma_tdx_module_level *levels; /* sorted by isvsvn, descending (as QVL) */
    size_t n_levels;
};

struct cvma_tdx_tcb_info {
    char id[16]; /* "TDX" */
    int version; /* 3 */
    time_t issue_date, next_update;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    int tcb_type;
    int tcb_evaluation_data_number;
    bool has_tdx_module;
    uint8_t module_mrsigner[48];
    uint8_t module_attributes[8];
    uint8_t module_attributes_mask[8];
    struct cvma_tdx_module_identity *modules;
    size_t n_modules;
    struct cvma_tdx_tcb_level *levels; /* sorted descending as QVL (§4 step 12) */
    size_t n_levels;
};

struct cvma_tdx_qe_level {
    uint16_t isvsvn;
    char status[CVMA_TDX_STATUS_MAX];
    char tcb_date[32];
    struct cvma_tdx_advisories adv;
};

struct cvma_tdx_qe_identity {
    char id[16]; /* "TD_QE" */
    int version; /* 2 */
    time_t issue_date, next_update;
    uint32_t miscselect, miscselect_mask;
    uint8_t attributes[16], attributes_mask[16];
    uint8_t mrsigner[32]; /* required */
    uint16_t isvprodid;
    int tcb_evaluation_data_number;
    struct cvma_tdx_qe_level *levels; /* sorted by isvsvn, descending (as QVL) */
    size_t n_levels;
};

/* One signed JSON document: the file as read, the exact signed span inside it, r || s. */
struct cvma_tdx_signed_json {
    struct cvma_buf body;
    struct cvma_span signed_part; /* points into body */
    uint8_t signature[64];
};

/* The four items of TDX collateral, as bits: each is fetched (or taken from the cache) as a
 * whole, with its issuer chain where it has one. */
#define CVMA_TDX_ITEM_TCB_INFO    1u /* tcb_info.json (+ .sig.hex), tcb_info_issuer_chain.pem */
#define CVMA_TDX_ITEM_QE_IDENTITY 2u /* qe_identity.json (+ .sig.hex), its issuer chain */
#define CVMA_TDX_ITEM_PCK_CRL     4u /* pck_crl.der */
#define CVMA_TDX_ITEM_ROOT_CA_CRL 8u /* root_ca_crl.der */
#define CVMA_TDX_ITEMS_ALL        15u

struct cvma_tdx_collateral {
    struct cvma_tdx_signed_json tcb_info_doc;
    struct cvma_tdx_signed_json qe_identity_doc;
    STACK_OF(X509) * tcb_info_chain; /* signing cert first, root last */
    STACK_OF(X509) * qe_identity_chain;
    X509_CRL *pck_crl;
    X509_CRL *root_ca_crl;
    struct cvma_tdx_tcb_info tcb_info;
    struct cvma_tdx_qe_identity qe_identity;
    /* CVMA_TDX_ITEM_* bits of the items that came from Intel PCS (or a PCCS) or the on-disk
     * cache: what the network, a mirror or whoever can write the cache chose. 0 for what was
     * given (--collateral DIR, the evidence bundle, a caller's preloaded collateral). Fetched
     * collateral that fails its own checks is the collateral's fault, not the evidence's
     * (docs/collateral.md). */
    unsigned fetched;
};

/* Frees everything c owns and zeroes it. Safe on a zeroed struct and twice. */
void cvma_tdx_collateral_cleanup(struct cvma_tdx_collateral *c);
/* The item (a CVMA_TDX_ITEM_* bit) whose file name is name (docs/collateral.md); 0 for a name
 * that is none of them. */
unsigned cvma_tdx_collateral_file_item(const char *name);

struct cvma_named_part;
/* The items (CVMA_TDX_ITEM_* bits) of which the n parts give some required files, not all: a
 * document without its issuer chain, or the reverse. */
unsigned cvma_tdx_parts_partial(const struct cvma_named_part *parts, size_t n);

/*
 * Moves the items named (CVMA_TDX_ITEM_* bits) that from holds into to, which must not hold
 * them yet, with their `fetched` bits; from keeps the rest. An item from lacks is left alone.
 */
void cvma_tdx_collateral_move(struct cvma_tdx_collateral *to, struct cvma_tdx_collateral *from,
                              unsigned items);
/* Free what cvma_tdx_tcb_info_parse / cvma_tdx_qe_identity_parse allocated; zero the struct. */
void cvma_tdx_tcb_info_cleanup(struct cvma_tdx_tcb_info *t);
void cvma_tdx_qe_identity_cleanup(struct cvma_tdx_qe_identity *q);
void cvma_tdx_signed_json_cleanup(struct cvma_tdx_signed_json *d);

/*
 * Loads the collateral directory (docs/collateral.md names: tcb_info.json, qe_identity.json,
 * tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem, pck_crl.der, root_ca_crl.der;
 * tcb_info.json / qe_identity.json either as the PCS body {"tcbInfo": ..., "signature": hex}
 * or the bare inner object with tcb_info.sig.hex / qe_identity.sig.hex beside it).
 * Missing files: COLLATERAL_UNAVAILABLE, CVMA_UNDECIDED. Malformed: COLLATERAL_INVALID (or
 * CERT_PARSE / CRL_INVALID), CVMA_REJECTED. c is cleared first.
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_collateral_load_dir(const char *dir,
                                                            struct cvma_tdx_collateral *c,
                                                            struct cvma_verdict *v);
/* The same from a collateral source (bundle parts, then a directory). */
struct cvma_collateral_src;
CVMA_MUST_USE enum cvma_status cvma_tdx_collateral_load(const struct cvma_collateral_src *src,
                                                        struct cvma_tdx_collateral *c,
                                                        struct cvma_verdict *v);
/*
 * cvma_tdx_collateral_load through a verifier's directory cache (collateral/dircache.h): when
 * dc is not NULL and src is a directory alone (no bundle part names one of its files), the
 * files' bytes are read once and used again while stat shows each of them unchanged; they
 * are decoded, and their signatures and chains checked by the caller, on every use. Only a
 * complete set of files that decoded without a reason is stored. dc NULL: read every time.
 *
 * given NULL: every item is required, as cvma_tdx_collateral_load. given not NULL: an item
 * whose files are all absent is left out of c (the caller gets it elsewhere), *given receives
 * the CVMA_TDX_ITEM_* bits of the items loaded, and absent (absent_len bytes, may be NULL)
 * the names of the files missing ("pck_crl.der"). An item given in part (a document without
 * its issuer chain, or the reverse) is COLLATERAL_UNAVAILABLE, CVMA_UNDECIDED: nothing the
 * user gave is replaced behind their back.
 */
struct cvma_dircache;
CVMA_MUST_USE enum cvma_status
cvma_tdx_collateral_load_cached(struct cvma_dircache *dc, const struct cvma_collateral_src *src,
                                struct cvma_tdx_collateral *c, unsigned *given, char *absent,
                                size_t absent_len, struct cvma_verdict *v);

/*
 * Finds the exact bytes of the value of top-level key `key` ("tcbInfo" or "enclaveIdentity")
 * in a PCS body and its hex "signature" (64 bytes r || s). False when the body is not such a
 * document. No re-serialization: signed_part points into p.
 */
CVMA_MUST_USE bool cvma_tdx_signed_json_split(const uint8_t *p, size_t len, const char *key,
                                              struct cvma_span *signed_part, uint8_t sig[64]);

/*
 * Makes doc own body (ownership passes on every return; *body is emptied) and finds the signed
 * span in it. sig_hex NULL: body is a PCS body with top-level `key` and "signature" (see
 * cvma_tdx_signed_json_split). sig_hex non-NULL: body is the bare inner object (surrounding
 * whitespace allowed, not signed) and sig_hex holds 128 hex digits (surrounding whitespace
 * allowed). `what` names the document in reasons ("TCB Info"). COLLATERAL_INVALID,
 * CVMA_REJECTED when the bytes are not such a document; doc is then empty.
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_signed_json_load(struct cvma_tdx_signed_json *doc,
                                                         struct cvma_buf *body,
                                                         const struct cvma_buf *sig_hex,
                                                         const char *key, const char *what,
                                                         struct cvma_verdict *v);

/* A CRL given as DER, PEM, or hex text of the DER (as a PCCS serves the Root CA CRL). */
X509_CRL *cvma_tdx_crl_load_any(const uint8_t *p, size_t len);

/* Parses the inner objects (the signed spans). COLLATERAL_INVALID on anything malformed.
 * Strict: TCB Info must be id "TDX", version 3, tcbType 0, with tdxModule and tdxtcbcomponents
 * (an SGX TCB Info is refused); QE Identity must be id "TD_QE", version 2. TCB levels are
 * sorted as QVL sorts them (QE Identity and module levels by isvsvn, highest first); two equal
 * TCB levels (or QE or module levels with equal isvsvn, or two module identities with the same
 * id) are refused. *out is cleared first and is empty after a
 * failure. */
CVMA_MUST_USE enum cvma_status cvma_tdx_tcb_info_parse(const uint8_t *p, size_t len,
                                                       struct cvma_tdx_tcb_info *out,
                                                       struct cvma_verdict *v);
CVMA_MUST_USE enum cvma_status cvma_tdx_qe_identity_parse(const uint8_t *p, size_t len,
                                                          struct cvma_tdx_qe_identity *out,
                                                          struct cvma_verdict *v);

/*
 * Verifies the collateral as of `at`: each issuer chain up to `root` (which the caller has
 * pinned; the chain's last certificate must be byte-identical to it), the Root CA CRL (signed
 * by root, current, not listing the chain's certificates), the ECDSA P-256 signature over the
 * exact signed bytes, id/version/tcbType, and issueDate <= at <= nextUpdate. Stale collateral
 * is COLLATERAL_EXPIRED (error), or a warning when at - nextUpdate <= grace_seconds.
 * Reasons: CERT_*, CRL_*, COLLATERAL_SIGNATURE_INVALID, COLLATERAL_INVALID,
 * COLLATERAL_EXPIRED, COLLATERAL_NOT_YET_VALID.
 * Order: TCB Info (chain, Root CA CRL, signature, id/version/tcbType, times), then QE Identity;
 * stops at the first error. Not checked here: c->pck_crl (its issuer, the PCK CA, comes with
 * the quote: the quote verifier checks it with the PCK chain).
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_collateral_verify(const struct cvma_tdx_collateral *c,
                                                          X509 *root, time_t at,
                                                          int64_t grace_seconds,
                                                          struct cvma_verdict *v);

/*
 * One signed document alone: chain (signing certificate first) up to root (the last
 * certificate byte-identical to root; exactly two certificates; X509_V_FLAG_X509_STRICT at
 * `at`; the signer CA:FALSE with digitalSignature if keyUsage is present; P-256 key), the Root
 * CA CRL when given (signed by root, current at `at`, listing neither certificate; NULL records
 * CRL_NOT_CHECKED, a warning) and the ECDSA P-256 signature over doc->signed_part. No id or time
 * checks on the document itself. `what` names it in reasons.
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_signed_json_verify(const struct cvma_tdx_signed_json *doc,
                                                           STACK_OF(X509) * chain, X509 *root,
                                                           X509_CRL *root_ca_crl, time_t at,
                                                           const char *what,
                                                           struct cvma_verdict *v);
/*
 * After a check above failed on a validity window of collateral the verifier chose (and the
 * caller found every window that misses `at` to be such an item's): the same checks with no
 * window judged, so that what the windows hid still decides. The issuer chains' signatures and
 * shape (X509_V_FLAG_NO_CHECK_TIME), the Root CA CRL's issuer and signature whatever its
 * window, a certificate it lists revoked (by a CRL that does not cover `at`: only with a
 * revocationDate at or before `at`, cvma_crl_revokes_at), the documents' signatures and kinds;
 * no issueDate / nextUpdate. Reasons: as above, less the windows' (CERT_EXPIRED,
 * CERT_NOT_YET_VALID, CRL_EXPIRED, COLLATERAL_EXPIRED, COLLATERAL_NOT_YET_VALID).
 */
CVMA_MUST_USE enum cvma_status
cvma_tdx_collateral_verify_any_time(const struct cvma_tdx_collateral *c, X509 *root, time_t at,
                                    struct cvma_verdict *v);
CVMA_MUST_USE enum cvma_status
cvma_tdx_signed_json_verify_any_time(const struct cvma_tdx_signed_json *doc, STACK_OF(X509) * chain,
                                     X509 *root, X509_CRL *root_ca_crl, time_t at, const char *what,
                                     struct cvma_verdict *v);

struct cvma_tdx_tcb_result {
    char status[CVMA_TDX_STATUS_MAX]; /* converged (and relaunch-adjusted) status */
    char platform_status[CVMA_TDX_STATUS_MAX];
    char module_status[CVMA_TDX_STATUS_MAX]; /* "" when tee_tcb_svn[1] == 0 */
    char qe_status[CVMA_TDX_STATUS_MAX];
    char tcb_date[32];                       /* the earliest */
    struct cvma_tdx_advisories advisory_ids; /* platform ∪ QE ∪ module, no duplicates */
    bool level_found;                        /* false: status "" and TDX_TCB_LEVEL_NOT_FOUND */
};

void cvma_tdx_tcb_result_cleanup(struct cvma_tdx_tcb_result *r);

/*
 * TCB evaluation (QVL): FMSPC/PCE-ID match, TDX module identity, QE identity match and QE
 * TCB level, platform TCB level, module TCB level, convergence, TDX 1.5 relaunch.
 * Records TDX_FMSPC_MISMATCH, TDX_MODULE_MISMATCH, TDX_QE_IDENTITY_MISMATCH,
 * TDX_TCB_LEVEL_NOT_FOUND (naming the component that fell short; also a QE or module level
 * whose status QVL does not allow there) and returns CVMA_REJECTED on them (COLLATERAL_INVALID
 * when the TCB Info is not TDX, tcbType 0); the mapping of a found status to a verdict is the
 * caller's (policy). r is cleared first; free it with cvma_tdx_tcb_result_cleanup.
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_tcb_evaluate(const struct cvma_tdx_collateral *c,
                                                     const struct cvma_tdx_quote *q,
                                                     const struct cvma_pck_ext *pck,
                                                     struct cvma_tdx_tcb_result *r,
                                                     struct cvma_verdict *v);

#endif
