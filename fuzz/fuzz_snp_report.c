/* libFuzzer target: the SEV-SNP report parser and its claims encoder. */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "snp/snp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_snp_report rep;
    struct cvma_verdict v;
    struct cvma_parse_opts po = {.allow_trailing_data = size > 0 && (data[size - 1] & 1)};
    cvma_verdict_init(&v);
    if (cvma_snp_report_parse(data, size, &po, &rep, &v) == CVMA_OK) {
        json_t *o = cvma_snp_report_json(&rep, rep.product);
        char *s = json_dumps(o, JSON_COMPACT);
        free(s);
        json_decref(o);
    }
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    return 0;
}
