/*
 * libFuzzer target: the signature data of a TDX quote alone (signature, attestation key,
 * certification data type 6: QE report, QE report signature, QE auth data, type 5 PCK chain),
 * fed as one signature-data blob of signature_data_len = size bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tdx/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    memset(&q, 0, sizeof q);
    cvma_verdict_init(&v);
    if (cvma_tdx_sig_data_parse(data, size, &q, &v) == CVMA_OK) {
        json_t *o = cvma_tdx_quote_json(&q, NULL);
        char *s = json_dumps(o, JSON_COMPACT);
        free(s);
        json_decref(o);
    }
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    return 0;
}
