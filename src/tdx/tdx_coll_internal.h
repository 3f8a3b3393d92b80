/*
 * Shared by the TDX collateral files (tdx_collateral.c: loading and the typed field access;
 * tdx_tcb_info.c; tdx_qe_identity.c; tdx_coll_verify.c). Not for other folders.
 */
#ifndef CVMA_TDX_COLL_INTERNAL_H
#define CVMA_TDX_COLL_INTERNAL_H

#include <jansson.h>

#include "common/jscan.h"
#include "tdx/tdx_collateral.h"

#define MAX_COLLATERAL_FILE (1u << 20) /* PCS bodies are a few KiB */
/* Values a TCB Info or QE Identity may hold (the largest real one: about 500). */
#define CVMA_TDX_COLLATERAL_MAX_VALUES 16384u
#define JSON_MAX_DEPTH                 CVMA_JSCAN_MAX_DEPTH
#define MAX_TCB_LEVELS                 1024u
#define MAX_MODULES                    64u
#define MAX_ADVISORIES                 1024u
#define MAX_ADVISORY_LEN               127u
#define SGX_COMPONENTS                 16u

/* What a parser is reading, for its reasons. */
struct cvma_tdxc_pctx {
    const char *doc; /* "TCB Info" / "QE Identity" */
    struct cvma_verdict *v;
};

void cvma_tdxc_advisories_free(struct cvma_tdx_advisories *a);

/* Records COLLATERAL_INVALID "<doc>: <message>" and returns CVMA_REJECTED. */
enum cvma_status cvma_tdxc_bad(const struct cvma_tdxc_pctx *c, const char *fmt, ...)
        CVMA_PRINTF(2, 3);

/* Typed member access; path names obj in reasons ("tcbLevels[2].tcb"). Each records
 * COLLATERAL_INVALID naming the member when it is missing (if required) or mistyped. */
enum cvma_status cvma_tdxc_get_member(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                      const char *name, bool required, json_t **out);
enum cvma_status cvma_tdxc_get_object(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                      const char *name, bool required, json_t **out);
enum cvma_status cvma_tdxc_get_array(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                     const char *name, bool required, size_t max, json_t **out);
enum cvma_status cvma_tdxc_get_string(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                      const char *name, const char **out);
enum cvma_status cvma_tdxc_get_int(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                   const char *name, long long min, long long max, long long *out);
enum cvma_status cvma_tdxc_get_hex(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                   const char *name, uint8_t *out, size_t n);
enum cvma_status cvma_tdxc_get_date(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                    const char *name, time_t *out, char *copy, size_t copy_len);
enum cvma_status cvma_tdxc_get_status(const struct cvma_tdxc_pctx *c, json_t *obj, const char *path,
                                      char out[CVMA_TDX_STATUS_MAX]);
enum cvma_status cvma_tdxc_get_advisories(const struct cvma_tdxc_pctx *c, json_t *obj,
                                          const char *path, struct cvma_tdx_advisories *out);
/* Checks the scanner's bounds (size, depth, syntax) and loads p with jansson (duplicate keys
 * refused); *out is a JSON object the caller releases. */
enum cvma_status cvma_tdxc_load_json(const struct cvma_tdxc_pctx *c, const uint8_t *p, size_t len,
                                     json_t **out);

#endif
