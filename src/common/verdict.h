/*
 * The verdict collects every reason recorded while evidence is parsed, verified and appraised,
 * and the checks that ran. The final status is affirming only when every required check
 * passed and no error was recorded (fail closed).
 */
#ifndef CVMA_COMMON_VERDICT_H
#define CVMA_COMMON_VERDICT_H

#include "common/reasons.h"
#include "common/util.h"

#define CVMA_DETAIL_MAX 512

enum cvma_check {
    CVMA_CHECK_PARSE = 1u << 0,
    CVMA_CHECK_CHAIN = 1u << 1,        /* certificate chain to a pinned root */
    CVMA_CHECK_REVOCATION = 1u << 2,   /* CRL checked, or CRL_NOT_CHECKED recorded */
    CVMA_CHECK_SIGNATURE = 1u << 3,    /* evidence signature */
    CVMA_CHECK_CERT_BINDING = 1u << 4, /* leaf certificate fields against the evidence */
    CVMA_CHECK_COLLATERAL = 1u << 5,   /* TCB collateral (TDX) */
};

/* enum cvma_result_status: the public header (cvmattest/cvmattest.h). */

struct cvma_verdict_reason {
    enum cvma_reason code;
    enum cvma_severity severity;
    bool waived; /* an error a policy accepted (its severity lowered, "accepted by policy") */
    char detail[CVMA_DETAIL_MAX];
};

struct cvma_verdict {
    struct cvma_verdict_reason *reasons;
    size_t n_reasons;
    size_t cap;
    unsigned checks_done;     /* enum cvma_check bits */
    unsigned checks_required; /* set by the verifier for its evidence kind */
    bool undecided;           /* collateral could not be had: exit 3 */
    bool oom;                 /* a reason could not be stored: treated as an error */
};

void cvma_verdict_init(struct cvma_verdict *v);
void cvma_verdict_cleanup(struct cvma_verdict *v);

/* Records a reason with its default severity. Returns CVMA_REJECTED when it is an error. */
enum cvma_status cvma_reject(struct cvma_verdict *v, enum cvma_reason code, const char *fmt, ...)
        CVMA_PRINTF(3, 4);
/* Records a reason with an explicit severity; returns CVMA_REJECTED for errors, else CVMA_OK. */
enum cvma_status cvma_verdict_add(struct cvma_verdict *v, enum cvma_reason code,
                                  enum cvma_severity sev, const char *fmt, ...) CVMA_PRINTF(4, 5);
void cvma_verdict_pass(struct cvma_verdict *v, enum cvma_check check);

/* st, having set v->oom when st is CVMA_E_NOMEM: for a step that tells out of memory by its
 * status alone, so that the verdict is not a refusal for a check that merely did not run. */
static inline enum cvma_status cvma_verdict_step(struct cvma_verdict *v, enum cvma_status st)
{
    if (st == CVMA_E_NOMEM) {
        v->oom = true;
    }
    return st;
}
/*
 * The trailing-data rule (docs/verification.md), the same for every kind: bytes after the
 * evidence's own end are unsigned. Zeros are padding (PARSE_TRAILING_ZEROS, info); anything else is
 * refused (PARSE_TRAILING_DATA, error) unless allow is set (then the same code as a warning). what
 * names the evidence ("snp report"), evidence_len its own size. CVMA_REJECTED only when
 * refused. One exception keeps its own loop: the bytes after an Azure HCL report's runtime
 * claims (azure/azure_hcl.c), whose zeros are the format's padding (no reason) and whose
 * refusal names the first non-zero byte's offset; a change of the rule here goes there too.
 */
enum cvma_status cvma_verdict_trailing(struct cvma_verdict *v, const uint8_t *rest, size_t rest_len,
                                       bool allow, const char *what, size_t evidence_len);

/* Appends every reason of src to dst (checks are not merged). */
void cvma_verdict_merge(struct cvma_verdict *dst, const struct cvma_verdict *src);

bool cvma_verdict_has(const struct cvma_verdict *v, enum cvma_reason code);
bool cvma_verdict_has_error(const struct cvma_verdict *v);
/* Whether a policy accepted a reason that was an error (a debug guest under allow_debug, a TCB
 * status under accepted_tcb_statuses): the evidence is accepted, but it vouches for no key. */
bool cvma_verdict_has_waived_error(const struct cvma_verdict *v);
/* The first error reason, or CVMA_R_COUNT_ when none. */
enum cvma_reason cvma_verdict_first_error(const struct cvma_verdict *v);
/* The first error recorded at reason index `since` or after, or NULL. */
const struct cvma_verdict_reason *cvma_verdict_first_error_since(const struct cvma_verdict *v,
                                                                 size_t since);

/*
 * Final status. Adds INTERNAL_CHECK_SKIPPED for each required check that never passed when
 * no error explains it, so a skipped check can never yield affirming.
 */
enum cvma_result_status cvma_verdict_finish(struct cvma_verdict *v);

#endif
