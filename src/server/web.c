#include "server/web.h"

#include <stdint.h>
#include <string.h>

/* No inline script or style, nothing from elsewhere: the page talks to this service only. */
#define CVMA_WEB_CSP                                                                  \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "    \
    "frame-ancestors 'none'"

const struct cvma_web_file *cvma_web_find(const char *path)
{
    if (path == NULL) {
        return NULL;
    }
    if (strcmp(path, "/") == 0) {
        path = "/index.html";
    }
    for (const struct cvma_web_file *f = cvma_web_files; f->path != NULL; f++) {
        if (strcmp(f->path, path) == 0) {
            return f;
        }
    }
    return NULL;
}

struct MHD_Response *cvma_web_response(const struct cvma_web_file *f)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(f->len, (void *)(uintptr_t)f->data,
                                                                MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", f->type);
    /* The files change with the binary: a browser revalidates, never uses a stale page. */
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", CVMA_WEB_CSP);
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    return resp;
}
