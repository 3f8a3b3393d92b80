/*
 * AMD SEV-SNP attestation reports: parsing (untrusted bytes -> struct cvma_snp_report) and
 * the values needed by verification. Layout: AMD SEV-SNP Firmware ABI spec (pub. 56860),
 * ATTESTATION_REPORT; offsets and per-version differences in the project docs.
 */
#ifndef CVMA_SNP_SNP_H
#define CVMA_SNP_SNP_H

#include "common/verdict.h"

#define CVMA_SNP_REPORT_SIZE   0x4A0u
#define CVMA_SNP_SIGNED_SIZE   0x2A0u
#define CVMA_SNP_SIG_OFFSET    0x2A0u
#define CVMA_SNP_SIG_COMPONENT 72u

enum cvma_snp_product {
    CVMA_SNP_PRODUCT_UNKNOWN = 0,
    CVMA_SNP_PRODUCT_MILAN,
    CVMA_SNP_PRODUCT_GENOA,
    CVMA_SNP_PRODUCT_TURIN,
};

/* Signing key field (signer info bits 4:2). */
enum cvma_snp_signing_key {
    CVMA_SNP_KEY_VCEK = 0,
    CVMA_SNP_KEY_VLEK = 1,
    CVMA_SNP_KEY_NONE = 7,
};

/* A TCB_VERSION split into its components; which bytes they come from depends on product. */
struct cvma_snp_tcb {
    uint64_t raw;
    uint8_t fmc; /* Turin and later only */
    uint8_t bootloader;
    uint8_t tee;
    uint8_t snp;
    uint8_t microcode;
    bool has_fmc;
};

struct cvma_snp_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t vmpl;
    uint32_t signature_algo;
    uint64_t current_tcb;
    uint64_t platform_info;
    uint32_t signer_info; /* AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY */
    uint8_t report_data[64];
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
    uint8_t report_id[32];
    uint8_t report_id_ma[32];
    uint64_t reported_tcb;
    uint8_t cpuid_fam_id; /* v3+ */
    uint8_t cpuid_mod_id;
    uint8_t cpuid_step;
    uint8_t chip_id[64];
    uint64_t committed_tcb;
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    uint64_t launch_tcb;
    uint64_t launch_mit_vector;  /* v5+ */
    uint64_t current_mit_vector; /* v5+ */
    uint8_t sig_r[48];           /* big-endian, as ECDSA wants it */
    uint8_t sig_s[48];
    uint8_t signed_bytes[CVMA_SNP_SIGNED_SIZE]; /* exact bytes 0x000..0x29F */
    /* Derived */
    enum cvma_snp_product product; /* from CPUID bytes (v3+), else UNKNOWN until a cert says */
    size_t trailing_len;           /* bytes after 0x4A0 in the input */
};

/* Guest policy bits (spec: GUEST_POLICY). */
#define CVMA_SNP_POLICY_SMT        (1ull << 16)
#define CVMA_SNP_POLICY_RESERVED1  (1ull << 17)
#define CVMA_SNP_POLICY_MIGRATE_MA (1ull << 18)
#define CVMA_SNP_POLICY_DEBUG      (1ull << 19)
#define CVMA_SNP_POLICY_KNOWN_MASK ((uint64_t)((1ull << 26) - 1))

struct cvma_parse_opts {
    bool allow_trailing_data; /* non-zero trailing bytes become a warning */
};

/*
 * Parses one report. Records PARSE_ reasons in v (truncation, unknown version, reserved
 * bytes, trailing data) and returns CVMA_REJECTED when the report cannot be used, CVMA_OK
 * otherwise (warnings and notes may still be recorded). rep is fully written; it does not
 * point into the input.
 */
CVMA_MUST_USE enum cvma_status cvma_snp_report_parse(const uint8_t *p, size_t len,
                                                     const struct cvma_parse_opts *opts,
                                                     struct cvma_snp_report *rep,
                                                     struct cvma_verdict *v);

/*
 * Reads the report in p for the checks that depend on its bytes alone (the VMPL, REPORT_DATA a
 * binding commits to), so that evidence they refuse is refused whether or not the report's
 * signature or collateral can be checked: parsed as cvma_snp_report_parse does, with trailing
 * data allowed and its reasons not kept (the report's verification, cvma_snp_verify, records
 * them). Fills rep (the caller's) and returns true when the bytes are a usable report; false
 * otherwise, or when memory ran out (then *oom is set true; it is never cleared).
 */
CVMA_MUST_USE bool cvma_snp_report_peek(const uint8_t *p, size_t len, struct cvma_snp_report *rep,
                                        bool *oom);

/* Splits a TCB_VERSION with the layout of the product (Turin: FMC first). */
void cvma_snp_tcb_split(uint64_t raw, enum cvma_snp_product product, struct cvma_snp_tcb *out);

enum cvma_snp_product cvma_snp_product_from_cpuid(uint8_t fam, uint8_t model);
enum cvma_snp_product cvma_snp_product_from_name(const char *name); /* "Milan-B0" -> MILAN */
const char *cvma_snp_product_name(enum cvma_snp_product p);         /* "Milan" */
unsigned cvma_snp_signing_key(const struct cvma_snp_report *rep);
bool cvma_snp_chip_id_masked(const struct cvma_snp_report *rep);

#endif
