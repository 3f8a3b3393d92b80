/*
 * libFuzzer target: the TDX quote parser, then what `cvmattest show` does with a parsed quote
 * (PCK leaf from the PEM chain, its SGX extension, the claims encoder). The last input byte
 * picks --allow-trailing-data.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "tdx/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_tdx_quote q;
    struct cvma_pck_ext pck;
    struct cvma_verdict v;
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = size > 0 && (data[size - 1] & 1)};
    cvma_verdict_init(&v);
    if (cvma_tdx_quote_parse(data, size, &po, &q, &v) == CVMA_OK) {
        const struct cvma_pck_ext *pp = NULL;
        STACK_OF(X509) *chain = cvma_x509_load_pem_stack(q.pck_chain_pem.p, q.pck_chain_pem.len);
        if (chain != NULL && cvma_pck_ext_parse(sk_X509_value(chain, 0), &pck, &v) == CVMA_OK) {
            pp = &pck;
        }
        json_t *o = cvma_tdx_quote_json(&q, pp);
        char *s = json_dumps(o, JSON_COMPACT);
        free(s);
        json_decref(o);
        sk_X509_pop_free(chain, X509_free);
    }
    cvma_tdx_quote_cleanup(&q);
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    return 0;
}
