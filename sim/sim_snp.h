/*
 * The simulated AMD SEV-SNP TEE: emits a byte-exact ATTESTATION_REPORT (layout: SEV-SNP
 * ABI spec, Table 23) signed by a freshly generated VCEK or VLEK, together with a freshly
 * generated test hierarchy shaped like AMD's (ARK -> ASK/ASVK -> VCEK/VLEK, RSASSA-PSS
 * SHA-384 salt 48, the VCEK/VLEK extensions of AMD's VCEK spec) and an ARK-signed CRL.
 *
 * This is TEST evidence. Every run makes a new root; the verifier trusts it only when given
 * ark.pem with --trust-root. The certificates keep AMD's subject CNs (ARK-Milan, SEV-Milan,
 * SEV-VCEK...) so product detection behaves as on real collateral, but their O is
 * CVMA_SIM_SNP_ORG so nobody mistakes them for AMD's. Differences from the real hierarchy:
 * the ARK and ASK/ASVK are RSA-2048, not RSA-4096 (speed), and a new root is made per run.
 *
 * Files written into dir (collateral directory names: docs/collateral.md):
 *   report.bin                   the 1184-byte report
 *   ark.pem                      the test root (self-signed)
 *   ask.pem | asvk.pem           the intermediate (asvk.pem with vlek)
 *   vcek.pem + vcek.der | vlek.pem + vlek.der
 *   cert_chain.pem               ASK (or ASVK) then ARK, as KDS serves it
 *   crl.der                      signed by the ARK; lists the ASK/ASVK serial iff revoke_ask
 *   with keep_keys only: ark-key.pem, ask-key.pem | asvk-key.pem, vcek-key.pem | vlek-key.pem
 *                                (unencrypted PKCS#8, mode 0600). No private key is written
 *                                otherwise.
 * Files of the other kind (vlek.*, asvk.pem, ... when writing a VCEK set, and the other way
 * round) and *-key.pem files not written by this run are removed from dir, so that dir always
 * holds one consistent set. Other files in dir are left alone.
 */
#ifndef CVMA_SIM_SIM_SNP_H
#define CVMA_SIM_SIM_SNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "snp/snp.h"

/* Organization of every simulated certificate (AMD's is "Advanced Micro Devices"). */
#define CVMA_SIM_SNP_ORG "cvmattest simulated Advanced Micro Devices"

/* cspID of a simulated VLEK (the real ones start with "CN="). */
#define CVMA_SIM_SNP_CSP_ID "CN=sim.cvmattest.test"

/* Firmware version written as current and committed (1.55 build 20). */
#define CVMA_SIM_SNP_FW_MAJOR 1
#define CVMA_SIM_SNP_FW_MINOR 55
#define CVMA_SIM_SNP_FW_BUILD 20

/* Default leaf validity, days after now. */
#define CVMA_SIM_SNP_VALIDITY_DAYS 3650

/* VMPL of a report the host requested (SNP_HV_REPORT_REQ), not a guest. */
#define CVMA_SIM_SNP_VMPL_HOST 0xFFFFFFFFu

struct cvma_sim_snp_opts {
    unsigned version;              /* report version: 2, 3, 4 (v3 layout) or 5 */
    enum cvma_snp_product product; /* MILAN, GENOA or TURIN */
    bool has_measurement;          /* else a random measurement */
    uint8_t measurement[48];
    uint8_t report_data[64];
    uint8_t host_data[32];
    bool has_chip_id;    /* else random (Turin: 8 random bytes, then zeros) */
    uint8_t chip_id[64]; /* Turin: bytes 8..63 must be zero */
    bool debug;          /* policy bit 19 */
    uint32_t vmpl;       /* 0..3, or CVMA_SIM_SNP_VMPL_HOST */
    uint8_t tcb_bl, tcb_tee, tcb_snp, tcb_ucode;
    uint8_t tcb_fmc;   /* Turin only; ignored for Milan/Genoa */
    bool vlek;         /* sign with a VLEK (SIGNING_KEY = 1) issued by an ASVK */
    bool mask_chip_id; /* report CHIP_ID is all zeros (the VCEK still carries the real hwID) */
    bool revoke_ask;   /* the CRL lists the ASK/ASVK serial */
    bool keep_keys;    /* also write the private keys (tests craft negative cases with them) */
    /*
     * VCEK/VLEK validity only (the CA certificates always run from now-1 day to now+10 years):
     * notBefore = now + (cert_not_before_offset_days - 1) days,
     * notAfter  = now + (cert_not_before_offset_days + cert_validity_days) days.
     * cert_validity_days 0 means CVMA_SIM_SNP_VALIDITY_DAYS. Both are limited to +-36500.
     * E.g. offset -30, validity 10 gives an expired leaf; offset 5 a not-yet-valid one.
     */
    int cert_validity_days;
    int cert_not_before_offset_days;
    /*
     * Deliberate defects, for tests of the verifier's refusals. All zero: none. The report is
     * still validly signed, so each defect is the only thing wrong.
     */
    struct {
        const char *leaf_product_name; /* productName in the VCEK/VLEK instead of the real one */
        bool leaf_no_product_name;     /* omit productName */
        int leaf_bl_spl;               /* > 0: blSPL = leaf_bl_spl - 1, whatever the report says */
        bool leaf_bad_spl_encoding;    /* blSPL as an OCTET STRING instead of an INTEGER */
        bool leaf_p256_key;            /* a P-256 leaf key (the report is then left unsigned) */
        bool leaf_ca;                  /* the VCEK/VLEK with basicConstraints CA:TRUE */
        bool leaf_ca_sign_only;        /* with leaf_ca: keyUsage digitalSignature, no
                                        * keyCertSign (X509_check_ca then says no CA) */
        bool has_leaf_hwid;            /* the VCEK's hwID instead of the chip's */
        uint8_t leaf_hwid[64];
        /* Non-NULL: this AMD extension (the arc after 1.3.6.1.4.1.3704.1., e.g. "3.3" or "4")
         * a second time, after the others, with another value (INTEGERs 255, hwID with its
         * first byte inverted, productName "Genoa", csp_id "CN=other"). */
        const char *leaf_dup_ext;
        /* Non-NULL: this AMD extension (named as for leaf_dup_ext) marked critical. */
        const char *leaf_critical_ext;
        /* Non-NULL: this AMD extension (named as for leaf_dup_ext) on a leaf that should have
         * none, with the value leaf_dup_ext gives it: "3.9" (fmcSPL) on Milan or Genoa, "5"
         * (csp_id) on a VCEK, "4" (hwID) on a VLEK. */
        const char *leaf_extra_ext;
        /* Non-NULL: this AMD extension (named as for leaf_dup_ext) left out of the leaf. */
        const char *leaf_omit_ext;
        /* Non-zero (1..64): the VCEK's hwID has this many bytes (of leaf_hwid with
         * has_leaf_hwid, else of the chip_id) instead of the product's 64 or 8. */
        size_t leaf_hwid_len;
        /* has_report_chip_id: report_chip_id is the report's CHIP_ID instead of the chip's
         * (the VCEK keeps the chip's hwID; on Turin bytes 8..63 may be non-zero here). */
        bool has_report_chip_id;
        uint8_t report_chip_id[64];
        uint64_t current_tcb_xor;   /* applied to CURRENT_TCB before signing */
        uint64_t committed_tcb_xor; /* applied to COMMITTED_TCB before signing */
        uint64_t reported_tcb_xor;  /* applied to REPORTED_TCB before signing (the leaf keeps
                                     * the SPLs of the untampered TCB) */
        bool has_cpuid;             /* CPUID bytes (v3+) instead of the product's */
        uint8_t cpuid[3];
        uint32_t signer_info_or; /* OR-ed into the signer info word before signing */
        uint32_t signature_algo; /* non-zero: SIGNATURE_ALGO instead of 1 */
        uint32_t vmpl;           /* non-zero: VMPL instead of the option's (any value) */
        const char *leaf_csp_id; /* non-NULL: the VLEK's cspID instead of the simulated one */
        bool crl_no_next_update; /* the ARK's CRL has no nextUpdate (RFC 5280 wants one) */
    } tamper;
};

/*
 * Fills o with the defaults: version 5, Milan, random measurement and chip_id, zero
 * report_data and host_data, VMPL 0, no debug, TCB bl=3 tee=0 snp=8 ucode=115 (fmc=1 for
 * Turin), VCEK, no masking, nothing revoked, no keys kept, default validity.
 */
void cvma_sim_snp_opts_default(struct cvma_sim_snp_opts *o);

/*
 * Generates a fresh hierarchy, signs a report as described by o and writes the files listed
 * above into dir (created, with parents, if missing). Reads o and dir only; owns nothing
 * afterwards.
 *
 * Returns CVMA_OK; CVMA_E_USAGE for an option out of range (unknown version or product,
 * vmpl > 3, a Turin chip_id with non-zero bytes after byte 7, validity out of range);
 * CVMA_E_IO when dir cannot be created or a file cannot be written (files already written
 * stay); CVMA_E_NOMEM; CVMA_E_INTERNAL when an OpenSSL call fails. On any failure a one-line
 * message is written to err (err_len bytes, NUL-terminated; err may be NULL).
 */
CVMA_MUST_USE enum cvma_status cvma_sim_snp_write(const struct cvma_sim_snp_opts *o,
                                                  const char *dir, char *err, size_t err_len);

#endif
