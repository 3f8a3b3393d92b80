/*
 * Internals of collateral/http.c, declared for its unit tests and fuzz target
 * (fuzz/fuzz_http_header.c). Not part of the public API.
 */
#ifndef CVMA_COLLATERAL_HTTP_INTERNAL_H
#define CVMA_COLLATERAL_HTTP_INTERNAL_H

#include "collateral/http.h"

enum cvma_http_line {
    CVMA_HTTP_LINE_IGNORED,  /* no ':' (the blank line ending the headers), or a name not wanted */
    CVMA_HTTP_LINE_STATUS,   /* starts with "HTTP/": a new response begins */
    CVMA_HTTP_LINE_WANTED,   /* *which names the wanted header, *value its trimmed value */
    CVMA_HTTP_LINE_TOO_LONG, /* a wanted header whose trimmed value is over the limit */
};

/*
 * Interprets one response header line line[0..n) (as libcurl hands it, CR LF included) for the
 * headers want[from..n_want). The name is the bytes before the first ':', matched with an ASCII
 * case-insensitive comparison against want[i].name; the value is the rest with blanks, tabs, CR
 * and LF removed from both ends, at most CVMA_HTTP_MAX_HEADER_VALUE bytes. *which is the index of
 * the first wanted header the name matches (at least from) and *value borrows the value from line,
 * for CVMA_HTTP_LINE_WANTED and CVMA_HTTP_LINE_TOO_LONG; otherwise *which is n_want and *value
 * is empty.
 */
enum cvma_http_line cvma_http_header_line(const uint8_t *line, size_t n,
                                          const struct cvma_http_header *want, size_t n_want,
                                          size_t from, size_t *which, struct cvma_span *value);

#endif
