/*
 * libFuzzer target: the TPMS_ATTEST / TPM2B_ATTEST wrapper around libtss2-mu, then the PCR
 * value reader with the quote's selection (the same bytes as PCR input).
 */
#include <stdint.h>
#include <stdlib.h>

#include "tpm/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_tpm_attest *at = calloc(1, sizeof *at);
    struct cvma_tpm_pcrs *pcrs = calloc(1, sizeof *pcrs);
    struct cvma_verdict v;
    if (at == NULL || pcrs == NULL) {
        free(at);
        free(pcrs);
        return 0;
    }
    cvma_verdict_init(&v);
    bool allow = size > 0 && (data[size - 1] & 1);
    const TPML_PCR_SELECTION *sel = NULL;
    if (cvma_tpm_attest_parse(data, size, allow, at, &v) == CVMA_OK) {
        sel = &at->a.attested.quote.pcrSelect;
    }
    bool parsed = cvma_tpm_pcrs_parse(data, size, sel, pcrs, &v) == CVMA_OK;
    (void)parsed;
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    free(pcrs);
    free(at);
    return 0;
}
