/*
 * The SEV-SNP claims of a verified report (the kind's part of struct cvma_claims): the parsed
 * report, its product and what the VCEK/VLEK said. Filled by cvma_snp_verify once the report
 * signature verified; read by appraisal; written out as claims.snp (snp_json.c).
 */
#ifndef CVMA_SNP_SNP_CLAIMS_H
#define CVMA_SNP_SNP_CLAIMS_H

#include "result/result.h"
#include "snp/snp.h"

struct cvma_snp_claims {
    struct cvma_snp_report report;
    enum cvma_snp_product product; /* as decided for the report (never UNKNOWN once verified) */
    bool has_csp_id;               /* VLEK: the certificate's cspID */
    char csp_id[256];
    bool has_cert_product_name; /* the VCEK/VLEK productName extension */
    char cert_product_name[64];
};

/* The table of the kind (key "snp"); to_json is claims.snp: cvma_snp_report_json, then csp_id
 * and cert_product_name when present. */
extern const struct cvma_claims_ops cvma_snp_claims_ops;

/* The SEV-SNP claims of res, or NULL (nothing verified, or another kind). */
const struct cvma_snp_claims *cvma_snp_claims_of(const struct cvma_result *res);

/* Fills res->claims from a verified report (product decided; rep is copied). csp_id and
 * cert_product_name may be NULL (absent). Returns false when out of memory (res->claims then
 * stays unverified). */
CVMA_MUST_USE bool cvma_snp_claims_set(struct cvma_result *res, const struct cvma_snp_report *rep,
                                       enum cvma_snp_product product, const char *csp_id,
                                       const char *cert_product_name);

#endif
