/*
 * TDX collateral from Intel PCS (or a PCCS): the typed side of the PCS client
 * (collateral/pcs.h). It gives the fetch path the form check of each answer (the TDX parsers)
 * and assembles a struct cvma_tdx_collateral. The fetch contract (statuses, cache, max age,
 * stale fallback) is the one documented in collateral/pcs.h and collateral/fetch.h.
 */
#ifndef CVMA_TDX_TDX_PCS_H
#define CVMA_TDX_TDX_PCS_H

#include "collateral/pcs.h"
#include "tdx/tdx_collateral.h"

/* /tdx/certification/v4/tcb?fmspc={12 upper-case hex}; chain from TCB-Info-Issuer-Chain (or
 * the v3 name SGX-TCB-Info-Issuer-Chain). */
CVMA_MUST_USE enum cvma_status cvma_pcs_fetch_tcb_info(const struct cvma_pcs *p,
                                                       const uint8_t fmspc[6],
                                                       struct cvma_pcs_answer *out,
                                                       struct cvma_verdict *v, char *err,
                                                       size_t err_len);

/* /tdx/certification/v4/qe/identity; chain from SGX-Enclave-Identity-Issuer-Chain. */
CVMA_MUST_USE enum cvma_status cvma_pcs_fetch_qe_identity(const struct cvma_pcs *p,
                                                          struct cvma_pcs_answer *out,
                                                          struct cvma_verdict *v, char *err,
                                                          size_t err_len);

/* /sgx/certification/v4/pckcrl?ca=platform|processor&encoding=der; chain (optional) from
 * SGX-PCK-CRL-Issuer-Chain. */
CVMA_MUST_USE enum cvma_status cvma_pcs_fetch_pck_crl(const struct cvma_pcs *p, enum cvma_pcs_ca ca,
                                                      struct cvma_pcs_answer *out,
                                                      struct cvma_verdict *v, char *err,
                                                      size_t err_len);

/* The Root CA CRL from root_ca_crl_url, or the URL derived as in collateral/pcs.h (DER, PEM,
 * or hex as a PCCS serves it). */
CVMA_MUST_USE enum cvma_status cvma_pcs_fetch_root_ca_crl(const struct cvma_pcs *p,
                                                          struct cvma_pcs_answer *out,
                                                          struct cvma_verdict *v, char *err,
                                                          size_t err_len);

/*
 * Fills c (cleared first) with everything one TDX platform needs, as
 * cvma_tdx_collateral_load_dir does from a directory: TCB Info for fmspc, QE Identity, both
 * issuer chains, the PCK CRL of `ca` and the Root CA CRL, the two documents parsed.
 * Every item is marked fetched (c->fetched). Returns CVMA_OK; CVMA_UNDECIDED with
 * COLLATERAL_UNAVAILABLE (and v->undecided) when anything cannot be had; CVMA_REJECTED with
 * COLLATERAL_INVALID / CERT_PARSE / CRL_INVALID when what was had is malformed (cannot normally
 * happen: fetches are form-checked); CVMA_E_NOMEM. c is empty after any failure.
 */
CVMA_MUST_USE enum cvma_status cvma_pcs_collateral_get(const struct cvma_pcs *p,
                                                       const uint8_t fmspc[6], enum cvma_pcs_ca ca,
                                                       struct cvma_tdx_collateral *c,
                                                       struct cvma_verdict *v);

/*
 * The same for the items in want only (CVMA_TDX_ITEM_* bits): the others in c (given by the
 * user: a collateral directory lacking some items) are kept as they are. The items had are
 * marked in c->fetched. Statuses as cvma_pcs_collateral_get; c (all of it) is empty after
 * any failure.
 */
CVMA_MUST_USE enum cvma_status
cvma_pcs_collateral_fill(const struct cvma_pcs *p, const uint8_t fmspc[6], enum cvma_pcs_ca ca,
                         unsigned want, struct cvma_tdx_collateral *c, struct cvma_verdict *v);

#endif
