/*
 * Where offline collateral is read from: parts of the evidence bundle (named by the file
 * names of docs/collateral.md, held in memory) and a collateral directory, in that order.
 * Vendor-free: the SEV-SNP and TDX loaders ask for file names; this module knows nothing of
 * what the files hold.
 */
#ifndef CVMA_COLLATERAL_SOURCE_H
#define CVMA_COLLATERAL_SOURCE_H

#include "common/util.h"

struct cvma_verdict;

/* One named piece of collateral in memory (borrowed bytes). */
struct cvma_named_part {
    const char *name; /* a collateral file name: "vcek.der", "tcb_info.json", ... */
    struct cvma_span data;
    /* Read from the verifier's own collateral directory into the evidence object
     * (cvma_evidence_add_collateral_dir), not handed over with the evidence: the SEV-SNP CRL
     * of such a part counts as the verifier's own (docs/collateral.md). */
    bool own;
};

struct cvma_collateral_src {
    const struct cvma_named_part *parts; /* from the bundle; may be NULL */
    size_t n_parts;
    const char *dir; /* --collateral DIR; may be NULL */
};

/* True when there is anywhere to read from (parts or a directory). */
bool cvma_collateral_src_any(const struct cvma_collateral_src *src);

/*
 * Reads `name`: the bundle part of that name if there is one, else dir/name. CVMA_OK with the
 * bytes copied into *out; CVMA_E_IO when neither has it (or the file cannot be read, or is
 * over max_len bytes); CVMA_E_NOMEM. *out is cleared first.
 */
CVMA_MUST_USE enum cvma_status cvma_collateral_src_read(const struct cvma_collateral_src *src,
                                                        const char *name, size_t max_len,
                                                        struct cvma_buf *out);

/*
 * cvma_collateral_src_read, also telling why CVMA_E_IO: *present (may be NULL) is true when
 * `name` is there but was not read: a bundle part over max_len bytes, or dir/name a regular
 * file (or a link to one) that cannot be read or is over max_len bytes. Only then: an absent
 * name, or one that is no regular file (a FIFO, a device, a directory), is not present.
 */
CVMA_MUST_USE enum cvma_status cvma_collateral_src_read_ex(const struct cvma_collateral_src *src,
                                                           const char *name, size_t max_len,
                                                           struct cvma_buf *out, bool *present);

/*
 * The loaders' read of `name` from src (both vendors): CVMA_OK with *out holding the bytes,
 * or CVMA_OK with *out empty (p NULL) and *missing true when src does not have it. A name
 * that is there but cannot be read or is over max_len bytes is not taken for missing (it
 * would then be fetched in its place): COLLATERAL_INVALID naming it and where, CVMA_REJECTED.
 * An empty file or part is returned as read (callers decide). CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_collateral_src_read_given(const struct cvma_collateral_src *src,
                                                              const char *name, size_t max_len,
                                                              struct cvma_buf *out, bool *missing,
                                                              struct cvma_verdict *v);

/* "the bundle and DIR", "the bundle" or "DIR": where src reads, for messages; parts that are
 * all `own` are not called the bundle. */
void cvma_collateral_src_describe(const struct cvma_collateral_src *src, char *out, size_t out_len);

#endif
