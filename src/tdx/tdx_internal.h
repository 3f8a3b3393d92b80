/* Private API of the TDX stage. */
#ifndef CVMA_TDX_INTERNAL_H
#define CVMA_TDX_INTERNAL_H

#include "result/result.h"
#include "tdx/tdx_collateral.h"

/*
 * Full TDX verification of the quote in p: parse, PCK chain to the pinned Intel SGX Root CA
 * (or a --trust-root) with the PCK and Root CA CRLs, collateral (signatures, times), QE
 * report signature and key binding, quote signature, TCB evaluation and the default status
 * mapping, and the appraisal the options ask for. preloaded (may be NULL) is collateral the
 * caller already holds (bench, service); it is verified once and the outcome remembered in
 * the chain cache.
 */
/* Collateral held for verification, with a fingerprint of every byte that verification
 * depends on (signed JSON, signatures, issuer chains, CRLs): the cache key material. */
struct cvma_tdx_held {
    struct cvma_tdx_collateral c;
    uint8_t fp[32];
};

/* Computes held->fp; call once after the collateral is loaded. False on allocation failure. */
CVMA_MUST_USE bool cvma_tdx_held_seal(struct cvma_tdx_held *held);

/*
 * Gets collateral for quote q, item by item: the verifier's own (opts->collateral_dir and the
 * parts marked `own`) first; then, for a chain to the pinned Intel root, Intel PCS (or a PCCS)
 * through the cache (offline: the cache, then the evidence's parts with
 * COLLATERAL_FROM_EVIDENCE); for another root, the evidence's parts, then PCS through the
 * cache. CVMA_UNDECIDED with COLLATERAL_UNAVAILABLE when it cannot be had. With
 * opts->collateral_parts_only, the own parts alone, all four items required; CVMA_E_USAGE
 * when the evidence gives any (tdx_prepare: not prepared). The result is sealed.
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_collateral_get(const struct cvma_tdx_quote *q,
                                                       const struct cvma_verify_opts *opts,
                                                       struct cvma_tdx_held *held,
                                                       struct cvma_verdict *v);

/*
 * The quote's PCK chain checked before anything is fetched (or looked up in the cache) by
 * values its PCK certificate holds (FMSPC, CA type): PCK leaf -> PCK Platform/Processor CA ->
 * the pinned Intel SGX Root CA or a --trust-root, the leaf an SGX PCK Certificate, every
 * signature and the shape as the full check verifies them, but without the CRLs (collateral,
 * fetched afterwards) and without validity times (left to the full check, which names them).
 * So a forged PCK certificate costs no request. CVMA_OK; CVMA_REJECTED with the reason the
 * full check would give (CERT_PARSE, CERT_UNTRUSTED_ROOT, TDX_PCK_NOT_PCK,
 * CERT_CHAIN_INVALID); CVMA_E_NOMEM. Not a verification of the chain: cvma_tdx_verify still
 * checks it in full. A chain the full check passed before (opts->chain_cache remembers it) is
 * not checked again here.
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_pck_chain_precheck(const struct cvma_tdx_quote *q,
                                                           const struct cvma_verify_opts *opts,
                                                           struct cvma_verdict *v);

/*
 * True when the last certificate of the quote's PCK chain has the pinned Intel SGX Root CA's
 * key: Intel PCS and the cache hold collateral for that chain, and none for a --trust-root's.
 * A claim of the quote's only, not yet checked: what is fetched for it is still checked in
 * full, and a quote whose chain does not chain to that root is refused before any fetch.
 */
CVMA_MUST_USE bool cvma_tdx_pck_root_pinned(const struct cvma_tdx_quote *q);

/*
 * Removes from the on-disk cache the PCS items named (CVMA_TDX_ITEM_* bits) that collateral
 * for q was had under, so that the next verification fetches them again. what (what_len bytes)
 * receives the names of those removed ("TCB Info, Root CA CRL"), or says that some could not
 * be. Used when fetched collateral fails its own checks.
 */
void cvma_tdx_collateral_evict(const struct cvma_tdx_quote *q, const struct cvma_verify_opts *opts,
                               unsigned items, char *what, size_t what_len);

void cvma_tdx_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                     const struct cvma_tdx_held *preloaded, struct cvma_result *res);

/* Maps a TCB status to its default reason (NULL for UpToDate) and severity. */
bool cvma_tdx_status_reason(const char *status, enum cvma_reason *code);

#endif
