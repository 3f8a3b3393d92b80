/*
 * libFuzzer target: the certificate-bound endpoint's HTTP (atls/atls_http.h), both parsers on
 * the same bytes. Invariants: a request is OK only with a nonce of 16..64 bytes (else none),
 * and a response's body offset lies within the input, just past a "\r\n\r\n".
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "atls/atls_http.h"
#include "cvmattest/atls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t nonce[64];
    size_t n = 0, off = 0;
    enum cvma_atls_http_req r = cvma_atls_http_parse_request(data, size, nonce, &n);
    if (r == CVMA_ATLS_HTTP_OK ? n < 16 || n > 64 : n != 0) {
        abort();
    }
    bool ok = cvma_atls_http_response_body(data, size, &off);
    if (ok ? off < 16 || off > size || memcmp(data + off - 4, "\r\n\r\n", 4) != 0 ||
                        memcmp(data, "HTTP/1.1 200", 12) != 0
           : off != 0) {
        abort();
    }
    return 0;
}
