/*
 * Private API of the Azure stage: the steps of cvma_azure_verify that read untrusted bytes
 * (the hardware report's fields, the runtime claims JSON, its user-data and HCLAkPub JWK).
 * None of them waits for a signature: the runtime claims are read as soon as REPORT_DATA is
 * their SHA-256, which anyone can make so in a report whose signature fails. Each is its own
 * function so that fuzz/fuzz_azure_claims.c reaches it.
 */
#ifndef CVMA_AZURE_INTERNAL_H
#define CVMA_AZURE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "azure/azure.h"
#include "common/util.h"
#include "common/verdict.h"

/* Offsets inside the hardware reports (SEV-SNP ABI Table 22; Intel TDX Module ABI TDREPORT). */
#define CVMA_AZURE_SNP_REPORT_DATA_OFF      0x50
#define CVMA_AZURE_TDREPORT_TYPE_OFF        0
#define CVMA_AZURE_TDREPORT_REPORT_DATA_OFF 128
#define CVMA_AZURE_TDREPORT_MRTD_OFF        528
#define CVMA_AZURE_TDREPORT_TYPE_TDX        0x81

/* The TDREPORT fields the azure-tdx kind reads. */
struct cvma_azure_tdreport {
    uint8_t type;            /* REPORTTYPE.TYPE (offset 0): 0x81 for TDX */
    uint8_t report_data[64]; /* REPORTDATA (offset 128) */
    uint8_t mr_td[48];       /* TDINFO.MRTD (offset 528) */
};

/*
 * Reads the TDREPORT fields from the hardware report hw (through the bounds-checked reader).
 * False, *out zeroed, when hw is too short to hold them (never for a parsed HCL report).
 */
CVMA_MUST_USE bool cvma_azure_tdreport_read(const struct cvma_span *hw,
                                            struct cvma_azure_tdreport *out);

/*
 * The REPORT_DATA of the hardware report hw: a TDREPORT's (tdx) or an SEV-SNP report's.
 * False, out zeroed, when hw is too short to hold it.
 */
CVMA_MUST_USE bool cvma_azure_report_data(const struct cvma_span *hw, bool tdx, uint8_t out[64]);

/* Runtime claims are a flat object of a few members and a JWK set (depth 4). */
#define CVMA_AZURE_RUNTIME_CLAIMS_MAX_DEPTH 32

/*
 * Parses the runtime claims JSON (duplicate members refused) into *out (a new reference).
 * CVMA_REJECTED, *out NULL, with AZURE_RUNTIME_CLAIMS_MALFORMED when they are not a JSON
 * object or nest deeper than CVMA_AZURE_RUNTIME_CLAIMS_MAX_DEPTH levels (an object or array
 * holding values is one level).
 */
CVMA_MUST_USE enum cvma_status cvma_azure_runtime_claims_parse(const struct cvma_span *claims,
                                                               json_t **out,
                                                               struct cvma_verdict *v);

/*
 * The claims' "user-data": true, out set, when it is a string of exactly 128 hex digits
 * (either case); false, out zeroed, otherwise.
 */
CVMA_MUST_USE bool cvma_azure_claims_user_data(const json_t *claims, uint8_t out[64]);

/* The most bytes HCLAkPub's "n" or "e" may decode to (an 8,192-bit modulus; a TPM's RSA keys
 * are at most 4,096 bits). */
#define CVMA_AZURE_JWK_MAX_BYTES 1024

/*
 * The one "keys" entry of the claims with kid "HCLAkPub", which must be an RSA JWK (kty
 * "RSA", base64url "n" and "e" of 1 to 1,024 bytes, n of at least 2,048 bits), as a PEM public
 * key (malloc'd, NUL-terminated, owned by the caller). NULL with AZURE_RUNTIME_CLAIMS_MALFORMED
 * when there is none, more than one or it is not one, or NULL with v->oom set when out of
 * memory.
 */
char *cvma_azure_ak_pem_from_claims(const json_t *claims, struct cvma_verdict *v);

#endif
