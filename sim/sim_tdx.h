/*
 * The simulated Intel TDX TEE: emits a byte-exact DCAP quote, version 4 or 5 (layout: Intel
 * TDX DCAP Quoting Library API, quote format), together with a freshly generated test hierarchy
 * shaped like Intel's (SGX PCK Certificate and CRL Profile) and the collateral a verifier needs
 * offline (docs/collateral.md): TCB Info, QE Identity, their issuer chains and both CRLs.
 *
 * Everything is ECDSA P-256 with SHA-256, as at Intel:
 *   "Intel SGX Root CA"          self-signed, CA:TRUE pathlen:1, keyCertSign + cRLSign
 *   "Intel SGX PCK Platform CA"  under the root, CA:TRUE pathlen:0
 *   "Intel SGX PCK Certificate"  under the Platform CA; CA:FALSE, digitalSignature +
 *                                nonRepudiation, and the SGX extension 1.2.840.113741.1.13.1
 *                                (PPID, TCB with 16 SGX components + PCESVN + CPUSVN, PCE-ID
 *                                0000, FMSPC, SGX Type 1 = Scalable, Platform Instance ID,
 *                                Configuration), encoded by our own DER writer
 *   "Intel SGX TCB Signing"      under the root; CA:FALSE; signs TCB Info and QE Identity
 * The certificates keep Intel's subject CNs so the verifier's name checks behave as on real
 * evidence, but their O is CVMA_SIM_TDX_ORG so nobody mistakes them for Intel's; the CRL
 * distribution points are Intel's URLs, as on the real certificates.
 *
 * This is TEST evidence. Every run makes a new root; the verifier trusts it only when given
 * root_ca.pem with --trust-root.
 *
 * The quote: header (att_key_type 2, tee_type 0x81, Intel's QE vendor ID, user_data = a random
 * 16-byte QE ID and 4 zero bytes); for v5 body type 3 (TD report 1.5, 648 bytes) with
 * tee_tcb_svn2 = tee_tcb_svn and a zero mr_service_td; v4 carries TD report 1.0 (584 bytes).
 * TD_ATTRIBUTES = SEPT_VE_DISABLE (bit 28), | DEBUG (bit 0) with debug; XFAM 0xE7;
 * seam_attributes 0; mr_signer_seam = the module MRSIGNER below (also in TCB Info); mr_seam
 * random. The signature data is as the quote format has it: quote signature by a fresh attestation
 * key, the key, certification data type 6 holding the QE report (SGX REPORT body: misc_select 0,
 * attributes 15 00 00 00 00 00 00 00 E7 00.. (flags INIT | MODE64BIT | PROVISIONKEY, XFRM E7, as
 * real TD QE reports), random mr_enclave, mr_signer = the QE MRSIGNER below, isv_prod_id 2,
 * isv_svn 4, cpu_svn = the PCK's CPUSVN, report_data = SHA-256(attestation key x||y || QE
 * auth data) || 0^32) signed by the PCK key, 32 bytes of QE auth data (00 01 .. 1F, as
 * Intel's QE), and certification data type 5: the PEM chain PCK, Platform CA, root, ending
 * with one NUL byte inside the declared size (as in real quotes). No trailing bytes.
 *
 * TCB Info (id TDX, version 3) and QE Identity (id TD_QE, version 2) are written in PCS body
 * form, {"tcbInfo":{...},"signature":"<hex r||s>"} and {"enclaveIdentity":{...},...}, with
 * Intel's key order and spelling, compact (no white space), upper-case hex; the signature
 * covers the exact bytes of the inner object as they stand in the file. issueDate is now-1h and
 * nextUpdate now+30 days (stale: now-60 days and now-30 days). tcbLevels are written sorted
 * descending as QVL sorts them (QVL TcbLevelCheck) and are designed so that the platform (the PCK's
 * SGX components and PCESVN, the quote's tee_tcb_svn) lands on a level of status tcb_status:
 * see cvma_sim_tdx_write below. The TDX module identity TDX_%02X (tee_tcb_svn[1]) has one
 * level, isvsvn tee_tcb_svn[0]-1 (0 if that is 0), UpToDate (two for relaunch, below); the QE
 * identity one level, isvsvn 4, UpToDate, and Intel's attributes 11 00.. under mask
 * FBFFFFFFFFFFFFFF 00..: the QE report's attributes match only once masked (MODE64BIT, XFRM).
 *
 * Files written into dir (collateral directory names: docs/collateral.md):
 *   quote.bin                     the quote
 *   root_ca.pem                   the test root (self-signed)
 *   tcb_info.json, qe_identity.json
 *   tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem   TCB Signing cert, then root
 *   pck_crl_issuer_chain.pem      Platform CA, then root (as PCS serves it with the CRL)
 *   pck_crl.der                   by the Platform CA; lists the PCK serial iff revoke_pck
 *   root_ca_crl.der               by the root; lists nothing
 *   with keep_keys only: root_ca-key.pem, pck_ca-key.pem, pck-key.pem, tcb_signing-key.pem,
 *                        attestation-key.pem (unencrypted PKCS#8, mode 0600). No private key
 *                        is written otherwise, and those files from an earlier run are removed.
 * Both CRLs run from now-1 day to now+30 days, carry a CRL number and an authority key
 * identifier as Intel's do, and are never stale (stale only ages TCB Info and QE Identity).
 * Other files in dir are left alone.
 */
#ifndef CVMA_SIM_SIM_TDX_H
#define CVMA_SIM_SIM_TDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* Organization of every simulated certificate (Intel's is "Intel Corporation"). */
#define CVMA_SIM_TDX_ORG "cvmattest simulated Intel Corporation"

/*
 * The QE's MRSIGNER (32 bytes) = SHA-256 of this string, and the TDX module's MRSIGNER
 * (48 bytes, mr_signer_seam) = SHA-384 of the other. Fixed, so a QE Identity or TCB Info from
 * one run matches a quote from another; distinct from Intel's values on purpose.
 */
#define CVMA_SIM_TDX_QE_MRSIGNER_SEED     "cvmattest simulated TD_QE signer"
#define CVMA_SIM_TDX_MODULE_MRSIGNER_SEED "cvmattest simulated TDX module signer"

#define CVMA_SIM_TDX_QE_ISV_PROD_ID 2
#define CVMA_SIM_TDX_QE_ISV_SVN     4
#define CVMA_SIM_TDX_TCB_EVAL_NUM   17
#define CVMA_SIM_TDX_VALIDITY_DAYS  3650

/* The status the platform's TCB level has in the simulated TCB Info. */
enum cvma_sim_tdx_tcb_status {
    CVMA_SIM_TDX_TCB_UPTODATE = 0, /* "UpToDate" */
    CVMA_SIM_TDX_TCB_SWHARDENING,  /* "SWHardeningNeeded" */
    CVMA_SIM_TDX_TCB_CONFIGNEEDED, /* "ConfigurationNeeded" */
    CVMA_SIM_TDX_TCB_OUTOFDATE,    /* "OutOfDate" */
    CVMA_SIM_TDX_TCB_REVOKED,      /* "Revoked" */
    CVMA_SIM_TDX_TCB_NOLEVEL,      /* no level matches: every one requires more */
    CVMA_SIM_TDX_TCB_RELAUNCH,     /* "TDRelaunchAdvised": version 5 only, see below */
};

struct cvma_sim_tdx_opts {
    unsigned version; /* 4 (TD report 1.0) or 5 (body type 3, TD report 1.5) */
    bool has_mr_td;   /* else a random MRTD */
    uint8_t mr_td[48];
    bool has_rtmr[4]; /* else RTMR0..2 random, RTMR3 zero (as on real guests) */
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    uint8_t mr_config_id[48];
    uint8_t mr_owner[48];
    uint8_t mr_owner_config[48];
    bool debug;    /* TD_ATTRIBUTES bit 0 */
    bool has_ppid; /* else a random PPID */
    uint8_t ppid[16];
    uint8_t fmspc[6];
    uint8_t tee_tcb_svn[16];  /* [0] module minor SVN, [1] module major, [2] must be < 255 */
    uint8_t sgx_tcb_comp[16]; /* PCK SGX TCB components (also CPUSVN); [0] must be < 255 */
    uint16_t pcesvn;          /* PCK PCESVN, < 0xFFFF */
    enum cvma_sim_tdx_tcb_status tcb_status;
    bool revoke_pck; /* the PCK CRL lists the PCK leaf's serial */
    bool stale;      /* TCB Info and QE Identity expired: issued now-60 d, next update now-30 d */
    bool keep_keys;  /* also write the private keys (tests craft negative cases with them) */
    /*
     * Deliberate defects, for tests of the verifier's refusals. All false: none. Everything
     * else stays correctly signed, so each defect is the only thing wrong.
     */
    struct {
        bool qe_report_data_wrong;    /* QE report_data[0] flipped before the PCK signs it */
        bool qe_auth_data_flip;       /* QE auth data byte 0 flipped after report_data is made */
        bool pck_sig_wrong;           /* the QE report is signed by another P-256 key */
        bool wrong_fmspc_in_tcb_info; /* TCB Info fmspc = the PCK's with the last byte ^ 1 */
        bool mrsigner_seam_wrong;     /* quote mr_signer_seam[0] ^ 1 (quote signed after) */
        bool qe_mrsigner_wrong;       /* QE report mr_signer[0] ^ 1 (PCK signs after) */
        bool tcb_info_sig_wrong;      /* TCB Info signed by another key */
        bool qe_identity_sig_wrong;   /* QE Identity signed by another key */
        bool pck_cn_wrong;            /* the PCK leaf's CN is not "... PCK Certificate" */
        bool pck_cn_padded;           /* the PCK leaf's CN has the name inside other words */
        bool pck_is_ca;               /* the PCK leaf says CA:TRUE (keyUsage unchanged) */
        bool qe_report_data_tail;     /* QE report_data[63] non-zero (the PCK signs it) */
        bool pck_crl_no_next_update;  /* the PCK CRL has no nextUpdate (RFC 5280 wants one) */
        /* Signed by the right key with ecdsa-with-SHA384, not Intel's ecdsa-with-SHA256: */
        bool pck_sha384;        /* the PCK leaf */
        bool tcb_signer_sha384; /* the TCB Signing certificate */
        bool pck_crl_sha384;    /* the PCK CRL */
        bool root_crl_sha384;   /* the Root CA CRL */
        /* Not a defect: the quote's chain ends in the root signed once more by its own key
         * (the same name, key and TBS; other signature bytes, as ECDSA makes them), so its
         * root is not byte for byte the one the collateral's issuer chains end in. */
        bool root_resigned_in_quote;
    } tamper;
    bool has_mr_service_td; /* v5 only: bind a service TD (else MRSERVICETD is zero) */
    uint8_t mr_service_td[48];
};

/*
 * Fills o with the defaults: version 4, random MRTD/RTMR0-2 and PPID, everything else zero,
 * no debug, FMSPC B0C06F000000, tee_tcb_svn 03 01 05 00.. (module 1.x, minor SVN 3, TDX late
 * microcode 5), SGX components 03 03 02 02 04 01 00 05 00.. with PCESVN 11, status UpToDate,
 * nothing revoked or stale, no keys kept, no defect.
 */
void cvma_sim_tdx_opts_default(struct cvma_sim_tdx_opts *o);

/* Intel's spelling of s ("UpToDate", ...), or "" for CVMA_SIM_TDX_TCB_NOLEVEL / unknown. */
const char *cvma_sim_tdx_tcb_status_name(enum cvma_sim_tdx_tcb_status s);

/*
 * Generates a fresh hierarchy and attestation key, builds and signs the quote and the
 * collateral described by o, and writes the files listed above into dir (created, with
 * parents, if missing). Reads o and dir only; owns nothing afterwards.
 *
 * TCB Info tcbLevels, by tcb_status, with M = the platform exactly (PCK SGX components,
 * PCESVN, tdxtcbcomponents = tee_tcb_svn), H = M with SGX component 0 + 1, H2 = M with
 * PCESVN + 1, H3 = M with TDX component 2 + 1, L = M with PCESVN - 1 (left out when PCESVN
 * is 0); in JSON order, which is also QVL's sorted order:
 *   uptodate      M UpToDate, L OutOfDate
 *   swhardening   H UpToDate, M SWHardeningNeeded, L OutOfDate
 *   configneeded  H3 UpToDate, M ConfigurationNeeded, L OutOfDate
 *   outofdate     H UpToDate, H2 SWHardeningNeeded, M OutOfDate, L Revoked
 *   revoked       H UpToDate, H2 OutOfDate, M Revoked
 *   nolevel       H UpToDate, H2 OutOfDate, H3 OutOfDate (the platform meets none)
 *   relaunch      M UpToDate, L OutOfDate
 * Every level other than UpToDate carries advisoryIDs.
 *
 * relaunch (TDX 1.5, QVL TDRelaunchCheck; needs version 5 and tee_tcb_svn[0], [1] > 0): the
 * quote's TEE_TCB_SVN is tee_tcb_svn with [0] one lower (the module the TD was launched on),
 * TEE_TCB_SVN2 is tee_tcb_svn (the module now running), and the module identity TDX_%02X has
 * two levels, isvsvn tee_tcb_svn[0] UpToDate and isvsvn tee_tcb_svn[0]-1 OutOfDate (with
 * advisoryIDs). The launch run converges to OutOfDate, the current one to UpToDate: Intel's
 * evaluation gives TDRelaunchAdvised.
 *
 * Returns CVMA_OK; CVMA_E_USAGE for an option out of range (version not 4 or 5, unknown
 * tcb_status, tee_tcb_svn[2] or sgx_tcb_comp[0] of 255, pcesvn 0xFFFF, relaunch without
 * version 5 or with tee_tcb_svn[0] or [1] zero); CVMA_E_IO when dir
 * cannot be created or a file cannot be written (files already written stay; quote.bin is
 * written last); CVMA_E_NOMEM; CVMA_E_INTERNAL when an OpenSSL or jansson call fails. On any
 * failure a one-line message is written to err (err_len bytes, NUL-terminated; err may be
 * NULL).
 */
CVMA_MUST_USE enum cvma_status cvma_sim_tdx_write(const struct cvma_sim_tdx_opts *o,
                                                  const char *dir, char *err, size_t err_len);

#endif
