/*
 * Tests: an Azure HCL report (docs/azure.md) built field by field, for the tests of its parser
 * and of the azure kinds.
 */
#ifndef CVMA_TESTS_TU_AZURE_H
#define CVMA_TESTS_TU_AZURE_H

#include <stdint.h>
#include <string.h>

#include "azure/azure.h"
#include "testutil.h"

/*
 * An HCL report into out (cap bytes; its length returned): the header, the hardware report hw
 * (CVMA_AZURE_HW_REPORT_LEN bytes; NULL: zeros), the runtime data header naming report_type,
 * the runtime claims claims[0..cl), then padding zero bytes. 0 when it does not fit.
 */
static inline size_t tu_azure_hcl(uint8_t *out, size_t cap, const uint8_t *hw, uint32_t report_type,
                                  const char *claims, size_t cl, size_t padding)
{
    size_t rt = CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN;
    size_t n = rt + CVMA_AZURE_RUNTIME_HDR_LEN + cl + padding;
    if (n > cap) {
        return 0;
    }
    memset(out, 0, n);
    memcpy(out, "HCLA", 4);
    tu_put32(out + 4, 1);
    tu_put32(out + 8, (uint32_t)(n - CVMA_AZURE_HCL_HEADER_LEN));
    tu_put32(out + 12, 2);
    if (hw != NULL) {
        memcpy(out + CVMA_AZURE_HCL_HEADER_LEN, hw, CVMA_AZURE_HW_REPORT_LEN);
    }
    tu_put32(out + rt, (uint32_t)(CVMA_AZURE_RUNTIME_HDR_LEN + cl));
    tu_put32(out + rt + 4, 1);
    tu_put32(out + rt + 8, report_type);
    tu_put32(out + rt + 12, CVMA_AZURE_HASH_TYPE_SHA256);
    tu_put32(out + rt + 16, (uint32_t)cl);
    memcpy(out + rt + CVMA_AZURE_RUNTIME_HDR_LEN, claims, cl);
    return n;
}

#endif
