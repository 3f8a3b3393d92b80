/*
 * libFuzzer target: the certificate-bound endpoint's HTTP (atls/atls_http.h), both parsers on
 * the same bytes. Invariants: a request is OK only with a nonce of 16..64 bytes (else none),
 * and a response's body offset lies within the input, just past a "\r\n\r\n". And each
 * answers as the string code it replaced (the CLI's, on the head NUL-terminated) did.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "atls/atls_http.h"
#include "common/hex.h"
#include "cvmattest/atls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The replaced query reader, as it was. */
static bool old_query_nonce(const char *q, size_t len, uint8_t nonce[64], size_t *n)
{
    bool found = false;
    *n = 0;
    while (len > 0) {
        const char *amp = memchr(q, '&', len);
        size_t plen = amp != NULL ? (size_t)(amp - q) : len;
        if (plen >= 6 && memcmp(q, "nonce=", 6) == 0) {
            size_t hl = plen - 6;
            if (found || hl % 2 != 0 || hl < 32 || hl > 128) {
                return false;
            }
            for (size_t i = 0; i < hl; i += 2) {
                int hi = cvma_hex_nibble(q[6 + i]), lo = cvma_hex_nibble(q[6 + i + 1]);
                if (hi < 0 || lo < 0) {
                    return false;
                }
                nonce[i / 2] = (uint8_t)(hi << 4 | lo);
            }
            *n = hl / 2;
            found = true;
        }
        if (amp == NULL) {
            break;
        }
        len -= plen + 1;
        q = amp + 1;
    }
    return found;
}

/* The replaced request split, as it was, on a NUL-terminated head. */
static enum cvma_atls_http_req old_request(const char *head, uint8_t nonce[64], size_t *n)
{
    static const char get[] = "GET ";
    const char *target = head + sizeof get - 1;
    size_t tlen = strncmp(head, get, sizeof get - 1) == 0 ? strcspn(target, " \r\n") : 0;
    const char *qm = tlen > 0 ? memchr(target, '?', tlen) : NULL;
    size_t plen = qm != NULL ? (size_t)(qm - target) : tlen;
    *n = 0;
    if (tlen == 0 || target[tlen] != ' ' || plen != strlen(CVMA_ATLS_WELL_KNOWN) ||
        memcmp(target, CVMA_ATLS_WELL_KNOWN, plen) != 0) {
        return CVMA_ATLS_HTTP_NOT_FOUND;
    }
    if (qm == NULL || !old_query_nonce(qm + 1, tlen - plen - 1, nonce, n)) {
        return CVMA_ATLS_HTTP_BAD_NONCE;
    }
    return CVMA_ATLS_HTTP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t nonce[64], old_nonce[64];
    size_t n = 0, old_n = 0, off = 0;
    char *z = malloc(size + 1);
    if (z == NULL) {
        return 0;
    }
    memcpy(z, data, size);
    z[size] = '\0';

    enum cvma_atls_http_req r = cvma_atls_http_parse_request(data, size, nonce, &n);
    if (r == CVMA_ATLS_HTTP_OK ? n < 16 || n > 64 : n != 0) {
        abort();
    }
    enum cvma_atls_http_req want = old_request(z, old_nonce, &old_n);
    if (r != want || (r == CVMA_ATLS_HTTP_OK && (n != old_n || memcmp(nonce, old_nonce, n) != 0))) {
        abort();
    }

    bool ok = cvma_atls_http_response_body(data, size, &off);
    if (ok ? off < 16 || off > size || memcmp(data + off - 4, "\r\n\r\n", 4) != 0 : off != 0) {
        abort();
    }
    const char *body = strstr(z, "\r\n\r\n");
    bool old_ok = size >= 12 && memcmp(z, "HTTP/1.1 200", 12) == 0 && body != NULL;
    if (ok != old_ok || (ok && off != (size_t)(body + 4 - z))) {
        abort();
    }
    free(z);
    return 0;
}
