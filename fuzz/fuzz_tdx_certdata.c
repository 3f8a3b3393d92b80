/*
 * libFuzzer target: the signature data of a TDX quote alone (signature, attestation key,
 * certification data type 6: QE report, QE report signature, QE auth data, type 5 PCK chain),
 * fed as one signature-data blob of signature_data_len = size bytes. Checked against a reading
 * by hand (tdx_check.h): acceptance exactly when the lengths and types nest as the quote format
 * says, the reason of a refusal, every field and the slicing of auth data and PEM chain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tdx_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    struct sig_expect e = sig_expect_of(data, size);
    memset(&q, 0, sizeof q);
    cvma_verdict_init(&v);
    enum cvma_status st = cvma_tdx_sig_data_parse(data, size, &q, &v);
    if (st == CVMA_E_NOMEM) {
        goto out;
    }
    CHECK(st == CVMA_OK || st == CVMA_REJECTED);
    CHECK((st == CVMA_OK) == e.ok);
    CHECK((st == CVMA_REJECTED) == cvma_verdict_has_error(&v));
    if (st == CVMA_OK) {
        check_sig_fields(data, size, &e, &q);
        json_t *o = cvma_tdx_quote_json(&q, NULL);
        if (o != NULL) {
            check_qe_json(data, o);
            json_decref(o);
        }
    } else {
        CHECK(cvma_verdict_has(&v, e.why));
        /* What it kept is never longer than the input. */
        CHECK(q.qe_auth_data.len <= size && q.pck_chain_pem.len <= size);
    }
out:
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    return 0;
}
