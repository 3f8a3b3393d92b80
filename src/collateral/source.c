#include "collateral/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/verdict.h"

bool cvma_collateral_src_any(const struct cvma_collateral_src *src)
{
    return src != NULL && (src->n_parts > 0 || src->dir != NULL);
}

enum cvma_status cvma_collateral_src_read_ex(const struct cvma_collateral_src *src,
                                             const char *name, size_t max_len, struct cvma_buf *out,
                                             bool *present)
{
    bool dummy;
    if (present == NULL) {
        present = &dummy;
    }
    *present = false;
    out->p = NULL;
    out->len = 0;
    if (src == NULL) {
        return CVMA_E_IO;
    }
    for (size_t i = 0; i < src->n_parts; i++) {
        const struct cvma_named_part *pt = &src->parts[i];
        if (pt->name == NULL || strcmp(pt->name, name) != 0) {
            continue;
        }
        if (pt->data.len > max_len) {
            *present = true;
            return CVMA_E_IO;
        }
        /* One spare byte so that an empty part still owns a buffer. */
        if ((out->p = malloc(pt->data.len + 1)) == NULL) {
            return CVMA_E_NOMEM;
        }
        if (pt->data.len > 0) {
            memcpy(out->p, pt->data.p, pt->data.len);
        }
        out->len = pt->data.len;
        return CVMA_OK;
    }
    if (src->dir == NULL) {
        return CVMA_E_IO;
    }
    char *path = cvma_path_join(src->dir, name);
    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    enum cvma_status st = cvma_file_read_regular(path, max_len, out);
    if (st == CVMA_E_IO) {
        /* Absent, or no regular file (docs/collateral.md: treated as missing), or there but
         * not readable or too large: only the last is present. */
        struct stat sb;
        *present = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    }
    free(path);
    return st;
}

enum cvma_status cvma_collateral_src_read(const struct cvma_collateral_src *src, const char *name,
                                          size_t max_len, struct cvma_buf *out)
{
    return cvma_collateral_src_read_ex(src, name, max_len, out, NULL);
}

enum cvma_status cvma_collateral_src_read_given(const struct cvma_collateral_src *src,
                                                const char *name, size_t max_len,
                                                struct cvma_buf *out, bool *missing,
                                                struct cvma_verdict *v)
{
    bool present;
    char where[512];
    enum cvma_status st = cvma_collateral_src_read_ex(src, name, max_len, out, &present);

    *missing = false;
    if (st != CVMA_E_IO) {
        return st;
    }
    if (!present) {
        *missing = true;
        return CVMA_OK;
    }
    cvma_collateral_src_describe(src, where, sizeof where);
    return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                       "%s in %s is there but cannot be read or is over %zu bytes; what is given "
                       "there is used as is, never fetched instead",
                       name, where, max_len);
}

void cvma_collateral_src_describe(const struct cvma_collateral_src *src, char *out, size_t out_len)
{
    bool all_own = src != NULL && src->n_parts > 0;
    for (size_t i = 0; all_own && i < src->n_parts; i++) {
        all_own = src->parts[i].own;
    }
    if (all_own) {
        /* Parts the verifier's caller read from its own directory: not the evidence's. */
        snprintf(out, out_len, "%s",
                 src->dir != NULL ? src->dir
                                  : "the collateral read into the evidence from the verifier's "
                                    "directory");
        return;
    }
    if (src == NULL || (src->n_parts == 0 && src->dir == NULL)) {
        snprintf(out, out_len, "(no collateral source)");
    } else if (src->n_parts > 0 && src->dir != NULL) {
        snprintf(out, out_len, "the evidence bundle and %s", src->dir);
    } else if (src->n_parts > 0) {
        snprintf(out, out_len, "the evidence bundle");
    } else {
        snprintf(out, out_len, "%s", src->dir);
    }
}
