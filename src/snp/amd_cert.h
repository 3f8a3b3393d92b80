/*
 * AMD VCEK / VLEK certificate extensions (OID arc 1.3.6.1.4.1.3704.1; AMD pub. 57230):
 * structVersion, productName, the TCB SPLs, hwID (VCEK) and csp_id (VLEK). The values are
 * untrusted until the certificate's chain is verified; they are parsed with the reader.
 */
#ifndef CVMA_SNP_AMD_CERT_H
#define CVMA_SNP_AMD_CERT_H

#include <openssl/x509.h>

#include "common/verdict.h"

#define CVMA_AMD_SPL_MAX 9 /* .1.3.1 .. .1.3.9 */

struct cvma_amd_cert_ext {
    bool has_struct_version;
    long struct_version;
    bool has_product_name;
    char product_name[64];
    bool has_spl[CVMA_AMD_SPL_MAX + 1]; /* index = last OID arc; [0] unused */
    uint8_t spl[CVMA_AMD_SPL_MAX + 1];
    bool has_hwid;
    uint8_t hwid[64];
    size_t hwid_len; /* 64 (Milan, Genoa) or 8 (Turin) */
    bool has_csp_id;
    char csp_id[256];
};

/* SPL indexes within .1.3.x */
#define CVMA_AMD_SPL_BL    1
#define CVMA_AMD_SPL_TEE   2
#define CVMA_AMD_SPL_SNP   3
#define CVMA_AMD_SPL_UCODE 8
#define CVMA_AMD_SPL_FMC   9

/*
 * Reads the AMD extensions of cert into out. A present but malformed extension, or any
 * extension OID (AMD's or another) that appears more than once in cert (RFC 5280 4.2),
 * records CERT_EXTENSION_INVALID (naming the OID) and returns CVMA_REJECTED with *out
 * cleared (no value read before the refusal is given back). Absent
 * extensions are left unset: the caller decides which are required. The critical flag is not
 * looked at (chain verification refuses an unhandled critical extension).
 */
CVMA_MUST_USE enum cvma_status cvma_amd_cert_ext_parse(X509 *cert, struct cvma_amd_cert_ext *out,
                                                       struct cvma_verdict *v);

/* Parses one extension value by its OID suffix text (".1.3.1", ".1.4"...); for fuzzing. */
CVMA_MUST_USE enum cvma_status cvma_amd_cert_ext_value(const char *suffix, const uint8_t *p,
                                                       size_t len, struct cvma_amd_cert_ext *out,
                                                       struct cvma_verdict *v);

#endif
