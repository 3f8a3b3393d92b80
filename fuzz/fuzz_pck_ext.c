/*
 * libFuzzer target: the PCK certificate's SGX extension walk (our DER reader) on raw bytes,
 * i.e. the extension value as it stands inside the certificate's OCTET STRING.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tdx/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_pck_ext e;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    if (cvma_pck_ext_parse_der(data, size, &e, &v) == CVMA_OK) {
        /* Through the claims encoder too, with an empty quote. */
        struct cvma_tdx_quote *q = calloc(1, sizeof *q);
        if (q != NULL) {
            json_t *o = cvma_tdx_quote_json(q, &e);
            char *s = json_dumps(o, JSON_COMPACT);
            free(s);
            json_decref(o);
            free(q);
        }
    }
    cvma_verdict_cleanup(&v);
    return 0;
}
