/*
 * libFuzzer target: the Azure HCL report parser (and its JSON view), and Trustee's JSON
 * evidence reader with the HCL report it carries (the same bytes as both inputs).
 */
#include <stdint.h>
#include <stdlib.h>

#include "azure/azure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_azure_hcl h;
    struct cvma_azure_evidence ev;
    struct cvma_verdict v;

    cvma_verdict_init(&v);
    if (cvma_azure_hcl_parse(data, size, &h, &v) == CVMA_OK) {
        json_decref(cvma_azure_hcl_json(&h));
    }
    if (cvma_azure_json_detect(data, size) &&
        cvma_azure_evidence_parse(data, size, &ev, &v) == CVMA_OK) {
        if (cvma_azure_hcl_parse(ev.hcl_report.p, ev.hcl_report.len, &h, &v) == CVMA_OK) {
            json_decref(cvma_azure_hcl_json(&h));
        }
        cvma_azure_evidence_cleanup(&ev);
    }
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    return 0;
}
