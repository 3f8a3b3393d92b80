#ifndef CVMA_SERVER_WEB_H
#define CVMA_SERVER_WEB_H

#include <stddef.h>

#include <microhttpd.h>

/* The page of `cvmattest serve` (web/, docs/service.md): its files, embedded at build time by
 * cmake/embed_web.cmake. */
struct cvma_web_file {
    const char *path; /* "/index.html" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
};

/* The embedded files, ended by one whose path is NULL. */
extern const struct cvma_web_file cvma_web_files[];

/* The file served at URL path PATH ("/" is "/index.html"), or NULL: only exact names of
 * embedded files match. */
const struct cvma_web_file *cvma_web_find(const char *path);

/* A response for F with its Content-Type, Cache-Control, X-Content-Type-Options, the
 * Content-Security-Policy and the other security headers; NULL when out of memory. */
struct MHD_Response *cvma_web_response(const struct cvma_web_file *f);

#endif
