/*
 * The TPM 2.0 structures cvmattest reads from evidence, unmarshalled through the bounded reader
 * (common/reader.h) into the tss2 types of <tss2/tss2_tpm2_types.h>, so that the code that
 * checks them reads the fields it always did. Layouts: TCG TPM 2.0 Library Part 2
 * (Structures), big-endian, each TPM2B a u16 size and that many bytes.
 *
 * What is read: a TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE (§10.12.12 with §10.12.4
 * TPMS_QUOTE_INFO), a TPMT_PUBLIC or TPM2B_PUBLIC of an RSA or ECC key (§12.2.4, §12.2.5) and a
 * TPMT_SIGNATURE of RSASSA, RSAPSS or ECDSA (§11.3.4). Every TPM2B size is checked against its
 * buffer in the tss2 struct, a TPML_PCR_SELECTION's count against TPM2_NUM_PCR_BANKS and each
 * sizeofSelect against TPM2_PCR_SELECT_MAX; the selectors of the unions inside (symmetric
 * algorithm and mode, schemes, KDF) are the ones libtss2-mu knows, and what each selects is
 * read as it does, so that both give the same struct for the same bytes (tests/unit/
 * test_tpm_unmarshal.c and fuzz/fuzz_tpm_unmarshal.c compare them).
 *
 * What is refused though well formed (CVMA_TPM_MU_UNSUPPORTED): the other attestation types
 * (at the type: the verifier refuses them before, TPM_ATTEST_TYPE), and the key types
 * (KEYEDHASH, SYMCIPHER, NULL) and signature schemes (ECDAA, SM2, ECSCHNORR, HMAC, NULL) no
 * caller accepts. These last are read whole first, as libtss2-mu reads them, so that one cut
 * short is MALFORMED and a whole one is refused for its type, as the callers refused it before.
 * Values are not judged here (magic, clockInfo.safe, hash algorithms, key sizes, attributes):
 * the callers do that, each with its reason.
 *
 * Nothing here prints, allocates or keeps a pointer into the input.
 */
#ifndef CVMA_TPM_TPM_UNMARSHAL_H
#define CVMA_TPM_TPM_UNMARSHAL_H

#include <tss2/tss2_tpm2_types.h>

#include "common/reader.h"

enum cvma_tpm_mu {
    CVMA_TPM_MU_OK = 0,
    /* Not the structure: too short, a size past its buffer, an unknown selector inside. */
    CVMA_TPM_MU_MALFORMED,
    /* Well formed, but of a type or scheme no caller accepts: the output holds that selector
     * (TPMS_ATTEST.type, TPMT_PUBLIC.type, TPMT_SIGNATURE.sigAlg) and nothing else. */
    CVMA_TPM_MU_UNSUPPORTED,
};

/*
 * Each reads one structure at r's offset into *out (cleared first). On CVMA_TPM_MU_OK r has
 * moved past it (bytes after it are the caller's business); otherwise r has not moved, *out
 * is cleared but for the selector of CVMA_TPM_MU_UNSUPPORTED, and *why (when why is not NULL)
 * names the field that did not fit (static text, e.g. "extraData.size above 64").
 */
CVMA_MUST_USE enum cvma_tpm_mu cvma_tpm_mu_attest(struct cvma_reader *r, TPMS_ATTEST *out,
                                                  const char **why);
CVMA_MUST_USE enum cvma_tpm_mu cvma_tpm_mu_public(struct cvma_reader *r, TPMT_PUBLIC *out,
                                                  const char **why);
/* A TPM2B_PUBLIC: its size, then a TPMT_PUBLIC of exactly that many bytes. */
CVMA_MUST_USE enum cvma_tpm_mu cvma_tpm_mu_public2b(struct cvma_reader *r, TPM2B_PUBLIC *out,
                                                    const char **why);
CVMA_MUST_USE enum cvma_tpm_mu cvma_tpm_mu_signature(struct cvma_reader *r, TPMT_SIGNATURE *out,
                                                     const char **why);

/*
 * The whole of p[0..len) as one public area: a TPMT_PUBLIC, else a TPM2B_PUBLIC (a TPMT_PUBLIC
 * starts with its type, 0x0001 or 0x0023, which no TPM2B_PUBLIC of an RSA or ECC area has as
 * its size). Every byte must be used. *area is the TPMT_PUBLIC's bytes (inside p, for the
 * object's Name: nameAlg || H(area)). CVMA_TPM_MU_UNSUPPORTED when neither reading fits and one
 * of them stopped at an unsupported type (out->type).
 */
CVMA_MUST_USE enum cvma_tpm_mu cvma_tpm_mu_public_area(const uint8_t *p, size_t len,
                                                       TPMT_PUBLIC *out, struct cvma_span *area,
                                                       const char **why);

#endif
