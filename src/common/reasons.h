/*
 * Reason codes: why evidence was refused or what was noted about it. The table lives in
 * common/reasons.def; this header generates the enum and look-ups from it.
 */
#ifndef CVMA_COMMON_REASONS_H
#define CVMA_COMMON_REASONS_H

#include <stddef.h>

enum cvma_severity {
    CVMA_SEV_INFO = 0, /* a note; never changes the status */
    CVMA_SEV_WARNING,  /* status warning at worst */
    CVMA_SEV_ERROR,    /* status contraindicated */
};

enum cvma_reason {
#define CVMA_REASON(code, sev, text) CVMA_R_##code,
#include "common/reasons.def"
#undef CVMA_REASON
    CVMA_R_COUNT_
};

const char *cvma_reason_name(enum cvma_reason r);
enum cvma_severity cvma_reason_severity(enum cvma_reason r);
const char *cvma_reason_text(enum cvma_reason r);
const char *cvma_severity_name(enum cvma_severity s);
/* Looks up a reason by name; returns CVMA_R_COUNT_ when unknown. */
enum cvma_reason cvma_reason_from_name(const char *name);

#endif
