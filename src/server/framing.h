/*
 * Request framing a proxy in front may read otherwise, refused from the headers: shared by the
 * HTTP servers on libmicrohttpd (`cvmattest serve`, `cvmattest witness serve`).
 */
#ifndef CVMA_SERVER_FRAMING_H
#define CVMA_SERVER_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

/*
 * Whether the request on c (its headers whole; version as libmicrohttpd gives it) frames its
 * body in a way a proxy in front may read otherwise: a header name that is not a token
 * (whitespace before the colon), a folded framing header, two Content-Length headers,
 * Transfer-Encoding with Content-Length, twice, in HTTP/1.0, or other than chunked. True with
 * why set (at most why_len bytes): the caller answers 400 and closes the connection.
 */
bool cvma_http_framing_refused(struct MHD_Connection *c, const char *version, char *why,
                               size_t why_len);

#endif
