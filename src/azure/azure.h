/*
 * Azure confidential VMs (docs/azure.md): the HCL report the paravisor stores in vTPM NV index
 * 0x01400001 and the evidence the Confidential Containers Trustee attesters collect from it.
 *
 * The HCL report (integers little-endian): a 32-byte header ("HCLA", version, request size,
 * request type, status, 12 reserved bytes), the hardware report (1,184 bytes: an SEV-SNP report, or
 * a 1,024-byte TDREPORT followed by zeros), a 20-byte runtime-data header (data size, version,
 * report type 2 = SNP / 4 = TDX, hash type 1 = SHA-256, claims length), the runtime claims
 * JSON, then zero padding.
 *
 * The chain verified (cvma_azure_verify): the hardware report (as any SEV-SNP report or TDX
 * quote) -> its REPORT_DATA[0:32] = SHA-256(runtime claims), [32:64] zero -> the claims'
 * HCLAkPub RSA key -> the TPM quote's signature -> its extraData (the nonce) and pcrDigest
 * (the PCR values given).
 */
#ifndef CVMA_AZURE_AZURE_H
#define CVMA_AZURE_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "common/verdict.h"
#include "result/result.h"

#define CVMA_AZURE_HCL_HEADER_LEN   32
#define CVMA_AZURE_HW_REPORT_LEN    1184
#define CVMA_AZURE_RUNTIME_HDR_LEN  20
#define CVMA_AZURE_TDREPORT_LEN     1024
#define CVMA_AZURE_REPORT_TYPE_SNP  2
#define CVMA_AZURE_REPORT_TYPE_TDX  4
#define CVMA_AZURE_HASH_TYPE_SHA256 1
#define CVMA_AZURE_RUNTIME_VERSION  1
#define CVMA_AZURE_REQ_TYPE_AK_CERT 2 /* the header's request type: AK_CERT */
#define CVMA_AZURE_CLAIMS_MAX       (64u << 10)
/* JSON values an Azure JSON evidence may hold (common/json_out.h, cvma_json_loadb_capped): its
 * reports may come as arrays of byte values, one value per byte (a real one holds 3816 values:
 * a 2600-byte HCL report and its vTPM quote), so the cap leaves room for a TDX quote with its
 * certificates (some 10 KiB) beside them, several times over. jansson's tree of that many
 * values costs some 5 MB. */
#define CVMA_AZURE_EVIDENCE_MAX_VALUES 65536u

struct cvma_azure_hcl {
    uint32_t version;           /* 1 or 2 (both occur in the samples) */
    uint32_t request_size;      /* header to the claims' end: 32 + 1,184 + 20 + claims length */
    uint32_t request_type;      /* CVMA_AZURE_REQ_TYPE_AK_CERT */
    struct cvma_span hw_report; /* 1,184 bytes at offset 32 (borrowed) */
    uint32_t rt_size;           /* runtime data header: 20 + claims length */
    uint32_t rt_version;
    uint32_t report_type; /* CVMA_AZURE_REPORT_TYPE_SNP / _TDX */
    uint32_t hash_type;
    struct cvma_span claims; /* the runtime claims JSON (borrowed) */
    size_t padding;          /* bytes after the claims (zero unless allowed) */
};

/* True when p starts with the HCL report signature "HCLA". */
bool cvma_azure_hcl_detect(const uint8_t *p, size_t len);

/*
 * Parses an HCL report (through the bounds-checked reader). Reasons: AZURE_HCL_MALFORMED (a
 * truncated report; a header version other than 1 or 2, a request type other than AK_CERT; a
 * runtime data version, report or hash type not known; a runtime data or request size that is not
 * its header's and the claims'; a non-zero status or reserved header bytes; for TDX, a non-zero
 * byte after the TDREPORT in the hardware report), and PARSE_TRAILING_DATA (a non-zero byte after
 * the claims: an error, or a warning and CVMA_OK when allow_trailing_data). On CVMA_REJECTED *out
 * is all cleared. Zero bytes after the claims are the report's padding: counted in padding, no
 * reason.
 */
CVMA_MUST_USE enum cvma_status cvma_azure_hcl_parse(const uint8_t *p, size_t len,
                                                    bool allow_trailing_data,
                                                    struct cvma_azure_hcl *out,
                                                    struct cvma_verdict *v);

/* The parsed fields as JSON (new reference; NULL: no memory). For `show`. */
json_t *cvma_azure_hcl_json(const struct cvma_azure_hcl *h);

/* Trustee's JSON evidence, decoded (owned buffers). */
struct cvma_azure_evidence {
    int version;
    struct cvma_buf hcl_report;
    struct cvma_buf quote_msg; /* TPMS_ATTEST */
    struct cvma_buf quote_sig; /* TPMT_SIGNATURE */
    char *pcrs_json;           /* {"sha256": {"0": "<hex>", ...}}, NULL when none given */
    struct cvma_buf vcek;      /* DER or PEM, empty when none (SNP) */
    struct cvma_buf td_quote;  /* TDX */
};

/* True when p is a JSON object with an "hcl_report" member near its start (no parse). */
bool cvma_azure_json_detect(const uint8_t *p, size_t len);
/* True when that JSON also has a "td_quote" member. */
bool cvma_azure_json_is_tdx(const uint8_t *p, size_t len);
/*
 * For JSON that is no evidence cvma_azure_json_detect takes nor a bundle: true, with why,
 * when it is recognisably Trustee's evidence all the same, so that what is wrong is said
 * rather than that it is not a bundle: an "hcl_report" without its "tpm_quote", the newer and
 * older member names mixed ("report" with "tpm_quote", "hcl_report" with "quote"), or evidence
 * of more than max bytes. False otherwise (no quick look finds an "hcl_report", nor a "report"
 * beside a "tpm_quote").
 */
bool cvma_azure_json_refused(const uint8_t *p, size_t len, size_t max, char *why, size_t why_len);

/* Reads Trustee's JSON evidence. Reason: AZURE_EVIDENCE_MALFORMED. */
CVMA_MUST_USE enum cvma_status cvma_azure_evidence_parse(const uint8_t *p, size_t len,
                                                         struct cvma_azure_evidence *out,
                                                         struct cvma_verdict *v);
/* Frees the buffers and leaves *e zeroed (also what a refused parse leaves). */
void cvma_azure_evidence_cleanup(struct cvma_azure_evidence *e);

/*
 * Verifies Azure evidence (Trustee JSON, or a bare HCL report with the TPM quote parts and
 * the VCEK in the bundle) into res. tdx: the azure-tdx kind (else azure-snp).
 */
void cvma_azure_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts, bool tdx,
                       struct cvma_result *res);

#endif
