/*
 * TPM 2.0 quotes (docs/tpm.md): a TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE signed by an
 * attestation key (AK), checked against the AK's public area, an expected nonce (the quote's
 * extraData) and PCR values (untrusted hints until the quote's pcrDigest covers them).
 *
 * What is checked (TCG TPM 2.0 Library Part 2 §10.12 TPMS_ATTEST, Part 3 §18.4 TPM2_Quote):
 * the TPMS_ATTEST unmarshals (tpm/tpm_unmarshal.h) with magic TPM_GENERATED_VALUE and type
 * TPM_ST_ATTEST_QUOTE; the signature (RSASSA, RSAPSS, ECDSA) verifies with the AK over the
 * exact marshalled bytes; the AK, when given as TPMT_PUBLIC / TPM2B_PUBLIC, is a restricted,
 * fixedTPM, fixedParent signing key that cannot decrypt, and its own scheme (if any) is the
 * signature's; the AK is RSA of at least 2048 bits or ECC on NIST P-256/P-384/P-521, and a
 * public area's sizes agree (keyBits = 8 * modulus bytes, no leading zero byte; x and y of the
 * curve's size); extraData equals the nonce; the PCR values given hash to pcrDigest.
 *
 * What is NOT checked: that the AK lives in a genuine TPM. A quote is only as good as the
 * binding of its AK to something verified (a hardware report, an EK certificate, credential
 * activation); a quote verified here alone gets TPM_AK_NOT_BOUND (warning): never affirming.
 * The qualifiedSigner is reported, not checked (it depends on the AK's parent).
 */
#ifndef CVMA_TPM_TPM_H
#define CVMA_TPM_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <tss2/tss2_tpm2_types.h>

#include "common/verdict.h"
#include "result/result.h"

#define CVMA_TPM_PCR_COUNT 32 /* TPML_PCR_SELECTION sizeofSelect is at most 4 bytes */
#define CVMA_TPM_BANKS     4  /* sha1, sha256, sha384, sha512 */
/* The smallest RSA AK accepted (TPM_AK_MALFORMED below; TCG and NIST SP 800-131A minimum). */
#define CVMA_TPM_AK_RSA_MIN_BITS 2048

/* PCR values by bank and index, as given (untrusted until a quote's digest covers them). */
struct cvma_tpm_pcrs {
    bool set[CVMA_TPM_BANKS][CVMA_TPM_PCR_COUNT];
    uint8_t v[CVMA_TPM_BANKS][CVMA_TPM_PCR_COUNT][64];
};

/* A parsed quote: the TPMS_ATTEST and the exact bytes the AK signed (borrowed). */
struct cvma_tpm_attest {
    TPMS_ATTEST a;
    struct cvma_span signed_bytes;
};

/* Bank index (0..3) of a TPM hash algorithm, or -1. */
int cvma_tpm_bank_of_alg(TPM2_ALG_ID alg);
/* "sha1", "sha256", "sha384", "sha512"; bank is 0..3. */
const char *cvma_tpm_bank_name(int bank);
/* Digest size of a bank: 20, 32, 48, 64. */
size_t cvma_tpm_bank_size(int bank);

/*
 * Parses a quote: a marshalled TPMS_ATTEST (what tpm2_quote -m writes) or a TPM2B_ATTEST.
 * Checks magic and type. Bytes after the structure follow the trailing-data rule. Reasons:
 * TPM_ATTEST_MALFORMED, TPM_ATTEST_MAGIC, TPM_ATTEST_TYPE, PARSE_TRAILING_DATA.
 * *out borrows p.
 */
CVMA_MUST_USE enum cvma_status cvma_tpm_attest_parse(const uint8_t *p, size_t len,
                                                     bool allow_trailing,
                                                     struct cvma_tpm_attest *out,
                                                     struct cvma_verdict *v);

/*
 * Reads PCR values: JSON {"sha256": {"0": "<hex>", ...}, ...} (or a flat {"0": "<hex>"}, the
 * bank from the digest size), tpm2-tools YAML (tpm2_pcrread, tpm2_quote's standard output),
 * or tpm2-tools' binary PCR file (tpm2_quote -o, format "serialized"; format "values" needs
 * the quote's selection: sel). Reason: TPM_PCRS_MALFORMED; *out is then all cleared (no value
 * read before the refusal is given back).
 */
CVMA_MUST_USE enum cvma_status cvma_tpm_pcrs_parse(const uint8_t *p, size_t len,
                                                   const TPML_PCR_SELECTION *sel,
                                                   struct cvma_tpm_pcrs *out,
                                                   struct cvma_verdict *v);

/* The inputs of one quote verification (all borrowed). */
struct cvma_tpm_quote_in {
    struct cvma_span attest;   /* TPMS_ATTEST or TPM2B_ATTEST */
    struct cvma_span sig;      /* TPMT_SIGNATURE */
    struct cvma_span ak;       /* PEM public key, TPMT_PUBLIC or TPM2B_PUBLIC */
    struct cvma_span pcrs;     /* optional (p NULL): PCR values, formats of cvma_tpm_pcrs_parse */
    struct cvma_span eventlog; /* optional (p NULL): a TCG event log, replayed and compared
                                * with the PCR values the quote's digest covers */
    bool has_nonce;            /* expect this extraData (length 0: no extraData) */
    const uint8_t *nonce;
    size_t nonce_len;
    bool allow_trailing_data;
    /* What vouches for the AK (e.g. "sev-snp report"), or NULL: TPM_AK_NOT_BOUND. */
    const char *ak_bound_by;
};

/*
 * Verifies a quote into res (tee "tpm" set by the caller): reasons, checks (PARSE and
 * SIGNATURE required), claims.tpm (after the signature verified; pcrs only when the digest
 * covers them), claims.eventlog when an event log was given and replays to the covered PCRs
 * (cvma_eventlog_verify_pcrs; not compared when no covered PCR values are known) and
 * trust_anchor "tpm-ak:<sha256 of the AK's SubjectPublicKeyInfo>".
 */
void cvma_tpm_quote_verify(const struct cvma_tpm_quote_in *in, struct cvma_result *res);

/* The hardware's and the quote's claims objects, moved into a bound kind's own claims. */
struct cvma_tpm_bound_claims {
    const struct cvma_claims_ops *hw_ops;
    void *hw;
    const struct cvma_claims_ops *tpm_ops; /* NULL when the quote's claims did not verify */
    void *tpm;
};

/*
 * Merges a hardware result hw and the result tq of a TPM quote whose AK the hardware vouches
 * for (azure-snp, azure-tdx, svsm-vtpm) into res, whose verdict is v: the hardware's verdict
 * (PARSE and SIGNATURE counted done only when the quote's were done too), undecided flags,
 * trust anchor and platform. When hw's claims verified: the common claims (measurement,
 * report_data, debug) are copied into res, the claims objects of hw and tq (tq's only when
 * they verified) are moved into *out and the quote's event-log claims into res; returns true,
 * the caller then sets its kind object on res. When hw's own verdict holds an error (before
 * any policy, which may later accept it: a debug guest), the quote's AK is no attested key
 * (cvma_tpm_attested_key gives NULL). out NULL (the caller's kind object could not
 * be allocated) marks v out of memory. Returns false when nothing was moved.
 * The quote's reasons are not merged here (each caller maps them).
 */
bool cvma_tpm_merge_bound(struct cvma_verdict *v, struct cvma_result *res, struct cvma_result *hw,
                          struct cvma_result *tq, struct cvma_tpm_bound_claims *out);
/* Sets b's hardware and quote claims objects in o, each under its kind's key. */
void cvma_tpm_bound_claims_to_json(json_t *o, const struct cvma_tpm_bound_claims *b);
/* b's claims of the kind ops describes (the hardware's or the quote's), else NULL: a bound
 * kind's cvma_claims_ops.part. */
const void *cvma_tpm_bound_claims_part(const struct cvma_tpm_bound_claims *b,
                                       const struct cvma_claims_ops *ops);
/* Frees b's claims objects (not b). */
void cvma_tpm_bound_claims_free(struct cvma_tpm_bound_claims *b);

/*
 * A TPM clock (milliseconds, TPMS_CLOCK_INFO.clock) as JSON: a number, or a decimal string above
 * 2^63 - 1 (a JSON number past it would read as negative; only an owner's TPM2_ClockSet so far
 * ahead gets there). NULL: no memory.
 */
json_t *cvma_tpm_clock_json(uint64_t clock);

/*
 * The vTPM AK of a result of kind tpm, azure-snp, azure-tdx or svsm-vtpm as a JWK (new
 * reference), from the typed claims: the AK the quote verified with, held by the quote's claims
 * (kind tpm) or by the kind's claims that hold the quote's (cvma_claims_find); its JWK is the
 * claims JSON's claims.tpm.ak.jwk (claims.azure.tpm.ak.jwk, claims.svsm_vtpm.tpm.ak.jwk).
 * NULL for other kinds, unverified claims, an AK nothing vouches for (TPM_AK_NOT_BOUND,
 * VTPM_AK_EK_UNPROVEN, VTPM_CREDENTIAL_MISMATCH, VTPM_PARAVISOR_NOT_PINNED: a hardware report
 * whose launch no policy pinned names it), an AK whose hardware report had an error
 * reason before any policy (cvma_tpm_merge_bound; a debug guest a policy accepts), or no
 * memory.
 * The caller decides whether the result vouches for it (not contraindicated).
 */
json_t *cvma_tpm_attested_key(const struct cvma_result *res);

/*
 * Evidence whose only fresh value is a TPM quote's extraData (kinds tpm, svsm-vtpm) cannot
 * bind expected report data: when opts asks for REPORT_DATA other than the nonce itself
 * (zero-padded), NONCE_REPORT_DATA_MISMATCH (never silently ignored). what names the evidence.
 */
void cvma_tpm_check_no_report_data(const struct cvma_verify_opts *opts, struct cvma_verdict *v,
                                   const char *what);

#endif
