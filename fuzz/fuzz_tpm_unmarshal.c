/*
 * libFuzzer target: the TPM structures of src/tpm/tpm_unmarshal.c (TPMS_ATTEST, TPMT_PUBLIC,
 * TPM2B_PUBLIC, a whole public area, TPMT_SIGNATURE) read from the same bytes, each against
 * libtss2-mu's Tss2_MU_*_Unmarshal, which the verifier used before: the same decision and the
 * same struct (the oracle of fuzz/tpm_mu_check.h; an abort on any difference). The input is
 * the bytes as they are; the seeds are quotes, AK public areas (TPMT_PUBLIC, TPM2B_PUBLIC, RSA
 * and ECC) and signatures (RSASSA, RSAPSS, ECDSA) of the other TPM targets' corpora.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tpm_mu_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = mu_check(data, size);
    if (d != NULL) {
        fprintf(stderr, "fuzz: wrong answer: %s\n", d);
        abort();
    }
    return 0;
}
