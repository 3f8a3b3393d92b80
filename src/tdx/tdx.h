/*
 * Intel TDX quotes (versions 4 and 5) and their DCAP collateral: the shared types of the
 * src/tdx/ stage. Layouts: Intel TDX DCAP Quoting Library API (quote format); the verification
 * steps: Intel's Quote Verification Library (QVL).
 *
 * Modules:
 *   tdx_quote.c       quote parser (header, TD report body 1.0/1.5, signature data, QE report,
 *                     QE auth data, PCK chain PEM) — untrusted bytes, via the reader only
 *   pck_ext.c         the PCK certificate's Intel SGX extension (OID 1.2.840.113741.1.13.1)
 *   tdx_json.c        claims.tdx for show / verify
 *   tdx_collateral.c  TCB Info and QE Identity: load, exact signed bytes, signature, times
 *   tdx_tcb.c         TCB evaluation (platform level, module identity, QE identity, converge)
 *   tdx_verify.c      the whole verification
 */
#ifndef CVMA_TDX_TDX_H
#define CVMA_TDX_TDX_H

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/verdict.h"

#define CVMA_TDX_HEADER_SIZE    48u
#define CVMA_TDX_BODY10_SIZE    584u /* TD report 1.0 (v4, v5 body type 2) */
#define CVMA_TDX_BODY15_SIZE    648u /* TD report 1.5 (v5 body type 3) */
#define CVMA_TDX_SIGNED_MAX     (48u + 6u + 648u)
#define CVMA_SGX_REPORT_SIZE    384u
#define CVMA_TDX_TEE_TYPE       0x81u
#define CVMA_TDX_ATT_KEY_P256   2u
#define CVMA_TDX_CERT_PCK_CHAIN 5u
#define CVMA_TDX_CERT_QE_REPORT 6u

/* Intel's QE vendor ID (quote header, 0x0C): 939a7233f79c4ca9940a0db3957f0607. */
extern const uint8_t cvma_tdx_intel_qe_vendor_id[16];

/* An SGX REPORT body (the QE report): 384 bytes. */
struct cvma_sgx_report {
    uint8_t raw[CVMA_SGX_REPORT_SIZE]; /* exact bytes: the PCK signature covers them */
    uint8_t cpu_svn[16];
    uint32_t misc_select;
    uint8_t attributes[16];
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint8_t report_data[64];
};

struct cvma_tdx_td_report {
    uint8_t tee_tcb_svn[16];
    uint8_t mr_seam[48];
    uint8_t mr_signer_seam[48];
    uint64_t seam_attributes;
    uint64_t td_attributes;
    uint64_t xfam;
    uint8_t mr_td[48];
    uint8_t mr_config_id[48];
    uint8_t mr_owner[48];
    uint8_t mr_owner_config[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    bool is_v15; /* TD report 1.5 (v5 body type 3): the two fields below are set */
    uint8_t tee_tcb_svn2[16];
    uint8_t mr_service_td[48];
};

/* TD_ATTRIBUTES bits (TDX module ABI). */
#define CVMA_TDX_TD_ATTR_DEBUG           (1ull << 0)
#define CVMA_TDX_TD_ATTR_TUD_MASK        0xFFull /* any set: not a production TD */
#define CVMA_TDX_TD_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define CVMA_TDX_TD_ATTR_MIGRATABLE      (1ull << 29)
#define CVMA_TDX_TD_ATTR_PKS             (1ull << 30)
#define CVMA_TDX_TD_ATTR_KL              (1ull << 31)
#define CVMA_TDX_TD_ATTR_PERFMON         (1ull << 63)

struct cvma_tdx_quote {
    /* Header */
    uint16_t version; /* 4 or 5 */
    uint16_t att_key_type;
    uint32_t tee_type;
    uint32_t reserved;
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    /* v5 only */
    uint16_t body_type; /* 2 or 3 (v4: 2 implied) */
    uint32_t body_size;
    struct cvma_tdx_td_report body;
    /* The exact signed bytes: header [+ body type/size] + body */
    uint8_t signed_bytes[CVMA_TDX_SIGNED_MAX];
    size_t signed_len;
    /* Signature data */
    uint32_t sig_data_len;
    uint8_t signature[64];       /* r || s, big-endian */
    uint8_t attestation_key[64]; /* x || y, big-endian */
    uint16_t cert_data_type;     /* 6 */
    struct cvma_sgx_report qe_report;
    uint8_t qe_report_signature[64];
    struct cvma_buf qe_auth_data;  /* owned */
    uint16_t pck_cert_data_type;   /* 5 */
    struct cvma_buf pck_chain_pem; /* owned: PCK leaf, PCK CA, root; a NUL follows p[len] */
    size_t trailing_len;
};

struct cvma_tdx_parse_opts {
    bool allow_trailing_data;
};

/*
 * Parses a TDX quote. Records PARSE_ reasons (PARSE_TRUNCATED, PARSE_UNKNOWN_VERSION,
 * PARSE_TDX_TEE_TYPE, PARSE_TDX_KEY_TYPE, PARSE_TDX_CERT_DATA_TYPE, PARSE_TDX_BODY_TYPE,
 * PARSE_TRAILING_DATA/ZEROS ...) and returns CVMA_REJECTED when the quote cannot be used.
 * q owns its buffers afterwards: free with cvma_tdx_quote_cleanup (also after a failure).
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_quote_parse(const uint8_t *p, size_t len,
                                                    const struct cvma_tdx_parse_opts *opts,
                                                    struct cvma_tdx_quote *q,
                                                    struct cvma_verdict *v);
void cvma_tdx_quote_cleanup(struct cvma_tdx_quote *q);

/*
 * As cvma_snp_report_peek, for a TDX quote: its TD report (the quote's body) into body (the
 * caller's; zeroed when false), read whether or not the quote's signature or collateral can be
 * checked, with trailing data allowed and the parse reasons not kept (cvma_tdx_verify records
 * them). false: no usable quote, or no memory (then *oom is set true).
 */
CVMA_MUST_USE bool cvma_tdx_quote_peek(const uint8_t *p, size_t len,
                                       struct cvma_tdx_td_report *body, bool *oom);

/*
 * Parses a signature-data blob alone (quote format: signature, attestation key, certification
 * data type 6 wrapping QE report, QE report signature, QE auth data, type 5 PCK chain); len is
 * its signature_data_len and must be used exactly. Fills only the signature-data fields of q
 * (clearing them first: q must not own buffers, i.e. zeroed or cleaned up); q owns its buffers
 * afterwards, also after a failure. Reasons: PARSE_TDX_LENGTH, PARSE_TDX_CERT_DATA_TYPE;
 * offsets in details count from p. For fuzzing and tests; cvma_tdx_quote_parse uses the same
 * code.
 */
CVMA_MUST_USE enum cvma_status cvma_tdx_sig_data_parse(const uint8_t *p, size_t len,
                                                       struct cvma_tdx_quote *q,
                                                       struct cvma_verdict *v);

/* The SGX extension of a PCK certificate. */
struct cvma_pck_ext {
    uint8_t ppid[16];
    uint8_t sgx_tcb_comp[16]; /* COMP01..COMP16 SVNs */
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t pceid[2];
    uint8_t fmspc[6];
    int sgx_type; /* 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
    bool has_platform_instance_id;
    uint8_t platform_instance_id[16];
    bool has_configuration;
    int dynamic_platform; /* -1 absent, 0 false, 1 true */
    int cached_keys;
    int smt_enabled;
};

/*
 * Parses the SGX extension of cert (the PCK leaf). Missing or malformed: CERT_EXTENSION_INVALID
 * naming the OID, CVMA_REJECTED.
 */
CVMA_MUST_USE enum cvma_status cvma_pck_ext_parse(X509 *cert, struct cvma_pck_ext *out,
                                                  struct cvma_verdict *v);
/* The same on the DER bytes of the extension value (the SEQUENCE); for fuzzing. */
CVMA_MUST_USE enum cvma_status cvma_pck_ext_parse_der(const uint8_t *p, size_t len,
                                                      struct cvma_pck_ext *out,
                                                      struct cvma_verdict *v);

/* claims.tdx: every quote field, decoded. pck may be NULL (show before verification). */
json_t *cvma_tdx_quote_json(const struct cvma_tdx_quote *q, const struct cvma_pck_ext *pck);

#endif
