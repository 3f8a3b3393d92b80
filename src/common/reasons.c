#include "common/reasons.h"

#include <string.h>

static const struct {
    const char *name;
    enum cvma_severity sev;
    const char *text;
} table[] = {
#define CVMA_REASON(code, sev, text) {#code, sev, text},
#include "common/reasons.def"
#undef CVMA_REASON
};

const char *cvma_reason_name(enum cvma_reason r)
{
    return (size_t)r < CVMA_R_COUNT_ ? table[r].name : "UNKNOWN";
}

enum cvma_severity cvma_reason_severity(enum cvma_reason r)
{
    return (size_t)r < CVMA_R_COUNT_ ? table[r].sev : CVMA_SEV_ERROR;
}

const char *cvma_reason_text(enum cvma_reason r)
{
    return (size_t)r < CVMA_R_COUNT_ ? table[r].text : "unknown reason";
}

const char *cvma_severity_name(enum cvma_severity s)
{
    switch (s) {
    case CVMA_SEV_INFO:
        return "info";
    case CVMA_SEV_WARNING:
        return "warning";
    case CVMA_SEV_ERROR:
        return "error";
    }
    return "error";
}

enum cvma_reason cvma_reason_from_name(const char *name)
{
    for (size_t i = 0; i < CVMA_R_COUNT_; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return (enum cvma_reason)i;
        }
    }
    return CVMA_R_COUNT_;
}
