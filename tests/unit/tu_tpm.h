/*
 * Tests: a TPM2 quote made in software, for the tests of the evidence kinds that carry one
 * (tpm, azure-snp, svsm-vtpm): a marshalled TPMS_ATTEST and its TPMT_SIGNATURE.
 */
#ifndef CVMA_TESTS_TU_TPM_H
#define CVMA_TESTS_TU_TPM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "testutil.h"

/*
 * A quote of PCR 0 (sha256) with extraData nonce[0..nonce_len), the PCR digest pcr_digest (NULL:
 * SHA-256 of 32 zero bytes) and the byte safe as clockInfo.safe (a TPMI_YES_NO: 0 or 1, other
 * values for tests of their refusal), signed by k with SHA-256 (RSASSA for an RSA key, else
 * ECDSA with r and s of the key's size): the TPMS_ATTEST into msg, the TPMT_SIGNATURE into sig.
 */
static inline void tu_tpm_quote_safe_byte(EVP_PKEY *k, const uint8_t *nonce, size_t nonce_len,
                                          const uint8_t *pcr_digest, uint8_t safe,
                                          struct cvma_buf *msg, struct cvma_buf *sig)
{
    TPMS_ATTEST a;
    TPMT_SIGNATURE ts;
    uint8_t zero[32] = {0}, buf[4096], s[1024];
    size_t off = 0, sl = sizeof s;
    memset(&a, 0, sizeof a);
    a.magic = TPM2_GENERATED_VALUE;
    a.type = TPM2_ST_ATTEST_QUOTE;
    a.extraData.size = (UINT16)nonce_len;
    memcpy(a.extraData.buffer, nonce, nonce_len);
    a.clockInfo.safe = safe;
    a.attested.quote.pcrSelect.count = 1;
    a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
    a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
    a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] = 1;
    a.attested.quote.pcrDigest.size = 32;
    if (pcr_digest != NULL) {
        memcpy(a.attested.quote.pcrDigest.buffer, pcr_digest, 32);
    } else {
        assert_int_equal(
                EVP_Digest(zero, 32, a.attested.quote.pcrDigest.buffer, NULL, EVP_sha256(), NULL),
                1);
    }
    assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&a, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    tu_buf_set(msg, buf, off);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_non_null(c);
    assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(c, s, &sl, buf, off), 1);
    EVP_MD_CTX_free(c);
    memset(&ts, 0, sizeof ts);
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) {
        ts.sigAlg = TPM2_ALG_RSASSA;
        ts.signature.rsassa.hash = TPM2_ALG_SHA256;
        ts.signature.rsassa.sig.size = (UINT16)sl;
        memcpy(ts.signature.rsassa.sig.buffer, s, sl);
    } else {
        const uint8_t *d = s;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)sl);
        int fs = (EVP_PKEY_get_bits(k) + 7) / 8;
        assert_non_null(es);
        ts.sigAlg = TPM2_ALG_ECDSA;
        ts.signature.ecdsa.hash = TPM2_ALG_SHA256;
        ts.signature.ecdsa.signatureR.size = (UINT16)fs;
        ts.signature.ecdsa.signatureS.size = (UINT16)fs;
        assert_int_equal(
                BN_bn2binpad(ECDSA_SIG_get0_r(es), ts.signature.ecdsa.signatureR.buffer, fs), fs);
        assert_int_equal(
                BN_bn2binpad(ECDSA_SIG_get0_s(es), ts.signature.ecdsa.signatureS.buffer, fs), fs);
        ECDSA_SIG_free(es);
    }
    off = 0;
    assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
    tu_buf_set(sig, buf, off);
}

/* As tu_tpm_quote_safe_byte, with clockInfo.safe YES (1) or NO (0). */
static inline void tu_tpm_quote(EVP_PKEY *k, const uint8_t *nonce, size_t nonce_len,
                                const uint8_t *pcr_digest, bool safe, struct cvma_buf *msg,
                                struct cvma_buf *sig)
{
    tu_tpm_quote_safe_byte(k, nonce, nonce_len, pcr_digest, safe ? 1 : 0, msg, sig);
}

#endif
