/*
 * Tests: an Azure HCL report (docs/azure.md) built field by field, for the tests of its parser
 * and of the azure kinds.
 */
#ifndef CVMA_TESTS_TU_AZURE_H
#define CVMA_TESTS_TU_AZURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "azure/azure.h"
#include "common/base64.h"
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
    /* the request size: "HCLA" to the claims' end, padding not counted (as in the samples) */
    tu_put32(out + 8, (uint32_t)(n - padding));
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

/* A user-data of 64 zero bytes, as the real samples carry (the claims' user-data is 128 hex
 * digits, docs/azure.md). */
#define TU_AZURE_UD0                                                   \
    "0000000000000000000000000000000000000000000000000000000000000000" \
    "0000000000000000000000000000000000000000000000000000000000000000"

/*
 * Runtime claims naming the RSA-2048 key k as HCLAkPub, with "user-data" user_data (a hex
 * string), into claims (cap bytes; their length returned); report_data: their SHA-256, then 32
 * zero bytes (the REPORT_DATA of a hardware report that vouches for them).
 */
static inline size_t tu_azure_claims(EVP_PKEY *k, const char *user_data, char *claims, size_t cap,
                                     uint8_t report_data[64])
{
    uint8_t nb[256];
    BIGNUM *n = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, "n", &n), 1);
    assert_int_equal(BN_bn2binpad(n, nb, sizeof nb), 256);
    BN_free(n);
    char *n64 = cvma_base64_encode(nb, sizeof nb, CVMA_B64_URL);
    assert_non_null(n64);
    int cl = snprintf(claims, cap,
                      "{\"keys\": [{\"kid\": \"HCLAkPub\", \"kty\": \"RSA\", \"e\": \"AQAB\", "
                      "\"n\": \"%s\"}], \"user-data\": \"%s\"}",
                      n64, user_data);
    free(n64);
    assert_true(cl > 0 && (size_t)cl < cap);
    memset(report_data, 0, 64);
    assert_int_equal(EVP_Digest(claims, (size_t)cl, report_data, NULL, EVP_sha256(), NULL), 1);
    return (size_t)cl;
}

#endif
