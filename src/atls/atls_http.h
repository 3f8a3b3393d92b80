/*
 * The certificate-bound endpoint's HTTP (docs/atls.md), parsed through the bounds-checked
 * reader: the request head the server reads, the response the client reads. Not public API:
 * the CLI keeps the I/O and calls these.
 */
#ifndef CVMA_ATLS_HTTP_H
#define CVMA_ATLS_HTTP_H

#include "common/util.h"

enum cvma_atls_http_req {
    CVMA_ATLS_HTTP_OK = 0,    /* the nonce is in */
    CVMA_ATLS_HTTP_NOT_FOUND, /* not "GET " target " ", or not the endpoint's path: 404 */
    CVMA_ATLS_HTTP_BAD_NONCE, /* the endpoint, without exactly one good nonce: 400 */
};

/*
 * A request head (head[0..len)): the request line must be "GET " target " HTTP/..." with the
 * target's path exactly CVMA_ATLS_WELL_KNOWN; its query (after '?') must hold exactly one
 * "nonce" parameter of 16..64 bytes in hex (other parameters are ignored). On OK the nonce is
 * in nonce[0..*nonce_len); otherwise *nonce_len is 0.
 */
CVMA_MUST_USE enum cvma_atls_http_req
cvma_atls_http_parse_request(const uint8_t *head, size_t len, uint8_t nonce[64], size_t *nonce_len);

/*
 * A response (resp[0..len)): true when it starts "HTTP/1.1 200" and its head ends with a blank
 * line ("\r\n\r\n", before any NUL byte); then the body is resp[*body_off..len).
 */
CVMA_MUST_USE bool cvma_atls_http_response_body(const uint8_t *resp, size_t len, size_t *body_off);

#endif
