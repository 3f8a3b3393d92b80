/*
 * The TDX claims of a verified quote (the kind's part of struct cvma_claims): the quote's
 * fields, the PCK certificate's SGX extension and the TCB evaluation. Filled by
 * cvma_tdx_verify once every signature and the PCK chain verified; read by appraisal; written
 * out as claims.tdx (tdx_json.c).
 */
#ifndef CVMA_TDX_TDX_CLAIMS_H
#define CVMA_TDX_TDX_CLAIMS_H

#include "result/result.h"
#include "tdx/tdx.h"
#include "tdx/tdx_collateral.h"

struct cvma_tdx_claims {
    struct cvma_tdx_quote quote; /* owns no buffer: qe_auth_data and pck_chain_pem are empty */
    bool has_pck;
    struct cvma_pck_ext pck;
    struct cvma_tdx_tcb_result tcb; /* owned advisory IDs; level_found false: statuses null */
    int tcb_evaluation_data_number;
};

/* The table of the kind (key "tdx"); to_json is claims.tdx: cvma_tdx_quote_json, then the TCB
 * statuses (null when no level was found), tcb_date, advisory_ids and
 * tcb_evaluation_data_number. */
extern const struct cvma_claims_ops cvma_tdx_claims_ops;

/* The TDX claims of res, or NULL (nothing verified, or another kind). */
const struct cvma_tdx_claims *cvma_tdx_claims_of(const struct cvma_result *res);

/*
 * Fills res->claims from a verified quote: q is copied without its owned buffers, pck (may be
 * NULL) copied, and the TCB result *tcb moved (it is cleared: its cleanup then does nothing).
 * Returns false when out of memory (res->claims stays unverified, *tcb untouched).
 */
CVMA_MUST_USE bool cvma_tdx_claims_set(struct cvma_result *res, const struct cvma_tdx_quote *q,
                                       const struct cvma_pck_ext *pck,
                                       struct cvma_tdx_tcb_result *tcb,
                                       int tcb_evaluation_data_number);

#endif
