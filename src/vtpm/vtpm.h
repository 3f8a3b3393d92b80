/*
 * Binding a vTPM to the hardware (docs/vtpm-binding.md).
 *
 * Coconut SVSM: SVSM_ATTEST_SINGLE_SERVICE for the vTPM service gives an SEV-SNP report at
 * VMPL 0 whose REPORT_DATA is SHA-512(nonce(64) || manifest), the manifest being the vTPM
 * endorsement key's marshalled TPMT_PUBLIC. cvma_vtpm_svsm_verify checks that report and
 * yields the EK; the AK is then tied to that EK by the TCG credential-activation round trip:
 * cvma_tpm_make_credential (the verifier, in software) -> TPM2_ActivateCredential (the TPM
 * holding the EK and the AK) -> cvma_tpm_credential_check (the verifier). Only then may a quote
 * by that AK be verified with ak_bound_by set.
 *
 * The weaker binding some systems use: an SEV-SNP or TDX report whose REPORT_DATA is
 * SHA-512(nonce || AK public area) (cvma_vtpm_weak_verify). It is weaker because whatever
 * asked for the report (the guest kernel, not the SVSM) chose the key it names: a key outside
 * any TPM would do. It is reported as VTPM_AK_BINDING_WEAK (warning), never as affirming as
 * the SVSM binding.
 */
#ifndef CVMA_VTPM_VTPM_H
#define CVMA_VTPM_VTPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "common/util.h"
#include "result/result.h"

/*
 * Verifies an SVSM vTPM attestation: the SEV-SNP report (as cvma_snp_verify does, with opts),
 * VMPL 0 (VTPM_SVSM_VMPL), REPORT_DATA = SHA-512(nonce || manifest)
 * (VTPM_SVSM_MANIFEST_MISMATCH), the manifest a TPMT_PUBLIC of a restricted decryption key
 * (VTPM_EK_MALFORMED). VMPL and REPORT_DATA are read from the report's bytes
 * (cvma_snp_report_peek), so these three are checked whether or not the report's signature or
 * collateral could be (a binding they refuse is refused, not undecided). res is filled as for
 * an SEV-SNP report (tee set by the caller). *ek
 * (may be NULL) gets the EK when every check passed (no error reason in res, the report's own
 * included: a signed report refused for a debug guest vouches for nothing); returns true then.
 */
bool cvma_vtpm_svsm_verify(const uint8_t *report, size_t len, const uint8_t nonce[64],
                           const uint8_t *manifest, size_t manifest_len,
                           const struct cvma_verify_opts *opts, struct cvma_result *res,
                           TPMT_PUBLIC *ek);

/*
 * The weaker binding: verifies the hardware report (an SEV-SNP report or a TDX quote, from
 * its bytes) with opts, then REPORT_DATA = SHA-512(nonce || ak) where ak are the AK's bytes as
 * given (VTPM_AK_BINDING_MISMATCH; REPORT_DATA read from the report's bytes, so also when its
 * signature or collateral cannot be checked), and records VTPM_AK_BINDING_WEAK. Returns true when
 * the report verified, binds the AK and res holds no error reason (a signed report refused for
 * what it says, such as a debug guest or an out-of-date TCB, binds nothing: false, its reasons
 * kept, no VTPM_AK_BINDING_WEAK).
 */
bool cvma_vtpm_weak_verify(const uint8_t *report, size_t len, const uint8_t *nonce,
                           size_t nonce_len, const uint8_t *ak, size_t ak_len,
                           const struct cvma_verify_opts *opts, struct cvma_result *res);

/* A credential made for an EK and an AK name: what the TPM gets, and what it must return. */
struct cvma_tpm_credential {
    uint8_t secret[32];         /* the verifier keeps this */
    struct cvma_buf id_object;  /* TPM2B_ID_OBJECT (credentialBlob), marshalled */
    struct cvma_buf enc_secret; /* TPM2B_ENCRYPTED_SECRET, marshalled */
};

/* Reads an EK or AK public area: TPMT_PUBLIC or TPM2B_PUBLIC. */
CVMA_MUST_USE bool cvma_tpm_public_read(const uint8_t *p, size_t len, TPMT_PUBLIC *out);
/* The TPM name of a public area: nameAlg || H(TPMT_PUBLIC). */
CVMA_MUST_USE bool cvma_tpm_public_name(const TPMT_PUBLIC *pub, TPM2B_NAME *name);

/* True when objectAttributes a are an endorsement key's: a restricted, fixedTPM decryption key
 * that cannot sign. Only such a key's TPM decrypts the seed inside TPM2_ActivateCredential and
 * nowhere else: a TPM decrypts with an unrestricted key for anyone who asks (TPM2_RSA_Decrypt),
 * and a key without fixedTPM may have been duplicated out of it. */
bool cvma_tpm_ek_attributes_ok(TPMA_OBJECT a);

/* True when an RSA EK's public exponent is the TCG EK template L-1's: 0 (Part 2 §12.2.3.5: the
 * default, 2^16 + 1) or 65537 spelled out. The seed is RSA-encrypted to the EK: under exponent
 * 1 the "ciphertext" is the padded seed itself, and a small or even one is no key a TPM makes
 * for its EK. */
bool cvma_tpm_ek_exponent_ok(UINT32 exponent);

/*
 * Whether ek is an EK cvma_tpm_make_credential makes a credential for (below). True, why
 * empty, when it is; false with why (why_len bytes, NUL-terminated) naming the first field that
 * is not template L-1's and its value: the type, the name algorithm, the symmetric algorithm,
 * its key size or mode, keyBits, the modulus' size or its leading zero byte, the attributes,
 * the exponent or the scheme.
 */
bool cvma_tpm_ek_credential_ok(const TPMT_PUBLIC *ek, char *why, size_t why_len);

/*
 * TPM2_MakeCredential in software (TPM 2.0 Part 1 §24; an RSA-2048 EK with SHA-256 nameAlg and
 * AES-128-CFB, as the TCG default EK template L-1: keyBits 2048 and a 256-byte modulus without
 * a leading zero byte; attributes as cvma_tpm_ek_attributes_ok, exponent as
 * cvma_tpm_ek_exponent_ok): a fresh 32-byte secret, the seed encrypted to the EK (RSA-OAEP,
 * label "IDENTITY"), the secret wrapped for ak_name. Returns CVMA_OK, CVMA_E_USAGE (an EK of
 * another kind, size, exponent or attributes), CVMA_E_NOMEM or CVMA_E_INTERNAL.
 */
CVMA_MUST_USE enum cvma_status cvma_tpm_make_credential(const TPMT_PUBLIC *ek,
                                                        const TPM2B_NAME *ak_name,
                                                        struct cvma_tpm_credential *out);
/* Second step: true when what ActivateCredential returned is the secret (constant time). */
bool cvma_tpm_credential_check(const struct cvma_tpm_credential *c, const uint8_t *got,
                               size_t got_len);
void cvma_tpm_credential_cleanup(struct cvma_tpm_credential *c);

/*
 * The evidence kind "svsm-vtpm" (vtpm_kind.c; docs/vtpm-binding.md): the SVSM's SEV-SNP
 * report (p, len) with the bundle parts in opts: svsm_manifest (the vTPM EK's TPMT_PUBLIC),
 * tpm_quote, tpm_signature, tpm_ak (TPMT_PUBLIC or TPM2B_PUBLIC), optionally tpm_pcrs and
 * event_log. opts->nonce (required) is the SVSM's nonce (zero-padded to 64 bytes) and the
 * quote's extraData.
 *
 * The two-step flow that ties the AK to the EK:
 *   1. cvma_vtpm_svsm_challenge(opts, &s): a credential for the bundle's EK and AK name; send
 *      s.cred.id_object and s.cred.enc_secret to the guest (tpm2_activatecredential);
 *   2. cvma_vtpm_svsm_bundle_verify(p, len, opts, &s, returned, returned_len, res): the whole
 *      chain, with the session: the AK is bound when the session was made for this bundle's
 *      EK and AK and the returned secret is the credential's (else VTPM_CREDENTIAL_MISMATCH).
 * Without a session (session NULL: the kind row's one-shot verify) the link is unproven:
 * VTPM_AK_EK_UNPROVEN (warning), never affirming.
 */
struct cvma_vtpm_svsm_session {
    TPM2B_NAME ek_name;
    TPM2B_NAME ak_name;
    struct cvma_tpm_credential cred; /* cred.secret stays with the verifier */
};

/* Step 1. CVMA_E_USAGE (err says why) when the parts are missing or the EK is not supported.
 * *s is an output, overwritten: a session used before must be cleaned up first. */
CVMA_MUST_USE enum cvma_status cvma_vtpm_svsm_challenge(const struct cvma_verify_opts *opts,
                                                        struct cvma_vtpm_svsm_session *s, char *err,
                                                        size_t err_len);
/* Step 2 (or the one-shot verify with session NULL). res->tee is set by the caller. */
void cvma_vtpm_svsm_bundle_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                                  const struct cvma_vtpm_svsm_session *session,
                                  const uint8_t *activated, size_t activated_len,
                                  struct cvma_result *res);
void cvma_vtpm_svsm_session_cleanup(struct cvma_vtpm_svsm_session *s);

#endif
