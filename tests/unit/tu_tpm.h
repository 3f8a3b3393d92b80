/*
 * Tests: a TPM2 quote made in software, for the tests of the evidence kinds that carry one
 * (azure-snp, svsm-vtpm): a marshalled TPMS_ATTEST and its TPMT_SIGNATURE.
 */
#ifndef CVMA_TESTS_TU_TPM_H
#define CVMA_TESTS_TU_TPM_H

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "testutil.h"

/* A quote of PCR 0 (sha256, all zeros) with extraData nonce[0..nonce_len), signed by the RSA key
 * k (RSASSA, SHA-256): the TPMS_ATTEST into msg, the TPMT_SIGNATURE into sig. */
static inline void tu_tpm_quote(EVP_PKEY *k, const uint8_t *nonce, size_t nonce_len,
                                struct cvma_buf *msg, struct cvma_buf *sig)
{
    TPMS_ATTEST a;
    TPMT_SIGNATURE ts;
    uint8_t zero[32] = {0}, buf[4096], s[512];
    size_t off = 0, sl = sizeof s;
    memset(&a, 0, sizeof a);
    a.magic = TPM2_GENERATED_VALUE;
    a.type = TPM2_ST_ATTEST_QUOTE;
    a.extraData.size = (UINT16)nonce_len;
    memcpy(a.extraData.buffer, nonce, nonce_len);
    a.clockInfo.safe = 1;
    a.attested.quote.pcrSelect.count = 1;
    a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
    a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
    a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] = 1;
    a.attested.quote.pcrDigest.size = 32;
    assert_int_equal(
            EVP_Digest(zero, 32, a.attested.quote.pcrDigest.buffer, NULL, EVP_sha256(), NULL), 1);
    assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&a, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    tu_buf_set(msg, buf, off);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_non_null(c);
    assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(c, s, &sl, buf, off), 1);
    EVP_MD_CTX_free(c);
    memset(&ts, 0, sizeof ts);
    ts.sigAlg = TPM2_ALG_RSASSA;
    ts.signature.rsassa.hash = TPM2_ALG_SHA256;
    ts.signature.rsassa.sig.size = (UINT16)sl;
    memcpy(ts.signature.rsassa.sig.buffer, s, sl);
    off = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    tu_buf_set(sig, buf, off);
}

#endif
