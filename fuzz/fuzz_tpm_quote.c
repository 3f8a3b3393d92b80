/*
 * libFuzzer target: TPM quote verification (cvma_tpm_quote_verify): the AK (PEM, TPMT_PUBLIC,
 * TPM2B_PUBLIC), the TPMT_SIGNATURE, the quote (TPMS_ATTEST, TPM2B_ATTEST), the signature check,
 * the nonce, the PCR values against pcrDigest and the event log against the covered PCRs.
 *
 * Input: a flags byte (1: a nonce is expected, 2: trailing data allowed, 4: something vouches
 * for the AK, 8: PCR values given, 16: an event log given), then the parts, each a big-endian
 * u16 length and its bytes: quote, signature, AK, PCR values, nonce, event log (a part cut short
 * by the input's end is what is left). fuzz/mkseeds-tpm.py writes seeds in this layout.
 *
 * Checked here, independently of the verifier (OpenSSL and libtss2-mu directly; the verifier
 * reads the TPM structures itself, src/tpm/tpm_unmarshal.c):
 *  - a quote whose signature the verifier accepted verifies with OpenSSL over the exact
 *    TPMS_ATTEST bytes, with the AK read here and the hash the signature names; the trust
 *    anchor names that AK's SubjectPublicKeyInfo; an RSA AK has at least 2048 bits, an ECC AK
 *    is on P-256, P-384 or P-521; an AK given as a public area has the AK attributes, no
 *    reserved attribute bit and a name algorithm of SHA-1/256/384/512;
 *  - the PCR values in the claims hash, in selection order, to the quote's pcrDigest;
 *  - an expected nonce not reported as mismatching is the quote's extraData;
 *  - a refused signature leaves no claims and no trust anchor; every status other than
 *    affirming has a reason; a quote nothing vouches for is never affirming.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "common/hex.h"
#include "tpm/tpm.h"
#include "tpm_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_NONCE = 1, F_TRAILING = 2, F_BOUND = 4, F_PCRS = 8, F_LOG = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_tpm_quote_in in;
    struct cvma_result res;
    uint8_t flags = 0;

    tss2_quiet();
    if (size > 0) {
        flags = data[0];
        data++;
        size--;
    }
    memset(&in, 0, sizeof in);
    struct cvma_span pcrs, nonce, log;
    (void)next_part(&data, &size, &in.attest);
    (void)next_part(&data, &size, &in.sig);
    (void)next_part(&data, &size, &in.ak);
    (void)next_part(&data, &size, &pcrs);
    (void)next_part(&data, &size, &nonce);
    (void)next_part(&data, &size, &log);
    if (flags & F_PCRS) {
        in.pcrs = pcrs;
    }
    if (flags & F_LOG) {
        in.eventlog = log;
    }
    in.has_nonce = (flags & F_NONCE) != 0;
    in.nonce = nonce.p;
    in.nonce_len = nonce.len;
    in.allow_trailing_data = (flags & F_TRAILING) != 0;
    in.ak_bound_by = (flags & F_BOUND) ? "fuzz" : NULL;

    cvma_result_init(&res, "tpm", 1700000000);
    cvma_tpm_quote_verify(&in, &res);
    bool sig_done = (res.verdict.checks_done & CVMA_CHECK_SIGNATURE) != 0;
    cvma_result_finish(&res);

    CHECK(res.status == CVMA_AFFIRMING || res.verdict.n_reasons > 0 || res.verdict.oom);
    CHECK(in.ak_bound_by != NULL || res.status != CVMA_AFFIRMING);
    if (!sig_done) {
        /* Nothing from a quote whose signature did not verify. */
        CHECK(!res.claims.verified && res.claims.kind == NULL && res.trust_anchor[0] == '\0');
        CHECK(res.status != CVMA_AFFIRMING);
    } else {
        TPMS_ATTEST *a = calloc(1, sizeof *a);
        TPM2_ALG_ID hash = TPM2_ALG_NULL;

        CHECK(a != NULL);
        check_accepted_quote(in.attest, in.sig, in.ak, res.trust_anchor, a, &hash);
        if (in.has_nonce && !cvma_verdict_has(&res.verdict, CVMA_R_TPM_NONCE_MISMATCH)) {
            CHECK(a->extraData.size == in.nonce_len &&
                  (in.nonce_len == 0 || memcmp(a->extraData.buffer, in.nonce, in.nonce_len) == 0));
        }
        if (res.claims.verified) {
            json_t *c = cvma_result_claims_json(&res);
            CHECK(c != NULL);
            check_pcr_claims(json_object_get(c, "tpm"), a, md_of(hash));
            json_decref(c);
        }
        free(a);
    }
    cvma_result_cleanup(&res);
    return 0;
}
