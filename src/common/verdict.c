#include "common/verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cvma_verdict_init(struct cvma_verdict *v)
{
    memset(v, 0, sizeof *v);
}

void cvma_verdict_cleanup(struct cvma_verdict *v)
{
    free(v->reasons);
    memset(v, 0, sizeof *v);
}

static enum cvma_status vadd(struct cvma_verdict *v, enum cvma_reason code, enum cvma_severity sev,
                             const char *fmt, va_list ap) CVMA_PRINTF(4, 0);

static enum cvma_status vadd(struct cvma_verdict *v, enum cvma_reason code, enum cvma_severity sev,
                             const char *fmt, va_list ap)
{
    if (v->n_reasons == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 8;
        struct cvma_verdict_reason *n = realloc(v->reasons, ncap * sizeof *n);
        if (n == NULL) {
            v->oom = true;
            return CVMA_REJECTED;
        }
        v->reasons = n;
        v->cap = ncap;
    }
    struct cvma_verdict_reason *r = &v->reasons[v->n_reasons++];
    r->code = code;
    r->severity = sev;
    r->waived = false;
    if (strcmp(fmt, "%s") == 0) {
        /* A detail given whole (a fixed text, a merged reason's): copied as vsnprintf would,
         * truncated to the buffer, without its cost on every verification that notes one. */
        const char *s = va_arg(ap, const char *);
        if (s == NULL) {
            s = "(null)"; /* as glibc's vsnprintf writes it */
        }
        size_t n = strnlen(s, sizeof r->detail - 1);
        memcpy(r->detail, s, n);
        r->detail[n] = '\0';
    } else {
        vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    }
    /* A detail may quote a name or text from evidence: shown on terminals and in logs, it
     * holds no control bytes (cvma_text_escape). */
    if (cvma_text_needs_escape(r->detail)) {
        char raw[sizeof r->detail];
        memcpy(raw, r->detail, sizeof raw);
        cvma_text_escape(raw, r->detail, sizeof r->detail);
    }
    return sev == CVMA_SEV_ERROR ? CVMA_REJECTED : CVMA_OK;
}

enum cvma_status cvma_reject(struct cvma_verdict *v, enum cvma_reason code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum cvma_status st = vadd(v, code, cvma_reason_severity(code), fmt, ap);
    va_end(ap);
    return st;
}

enum cvma_status cvma_verdict_add(struct cvma_verdict *v, enum cvma_reason code,
                                  enum cvma_severity sev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum cvma_status st = vadd(v, code, sev, fmt, ap);
    va_end(ap);
    return st;
}

void cvma_verdict_pass(struct cvma_verdict *v, enum cvma_check check)
{
    v->checks_done |= (unsigned)check;
}

enum cvma_status cvma_verdict_trailing(struct cvma_verdict *v, const uint8_t *rest, size_t rest_len,
                                       bool allow, const char *what, size_t evidence_len)
{
    uint8_t acc = 0;
    if (rest_len == 0) {
        return CVMA_OK;
    }
    for (size_t i = 0; i < rest_len; i++) {
        acc |= rest[i];
    }
    if (acc == 0) {
        cvma_reject(v, CVMA_R_PARSE_TRAILING_ZEROS,
                    "%s: %zu zero bytes after the %zu-byte %s "
                    "ignored",
                    what, rest_len, evidence_len, what);
        return CVMA_OK;
    }
    if (allow) {
        cvma_verdict_add(v, CVMA_R_PARSE_TRAILING_DATA, CVMA_SEV_WARNING,
                         "%s: %zu unsigned bytes after the %zu-byte %s, allowed by "
                         "--allow-trailing-data and ignored",
                         what, rest_len, evidence_len, what);
        return CVMA_OK;
    }
    return cvma_reject(v, CVMA_R_PARSE_TRAILING_DATA,
                       "%s: %zu unsigned non-zero bytes after the %zu-byte %s (use "
                       "--allow-trailing-data to accept them as a warning)",
                       what, rest_len, evidence_len, what);
}

void cvma_verdict_merge(struct cvma_verdict *dst, const struct cvma_verdict *src)
{
    for (size_t i = 0; i < src->n_reasons; i++) {
        const struct cvma_verdict_reason *r = &src->reasons[i];
        cvma_verdict_add(dst, r->code, r->severity, "%s", r->detail);
    }
    if (src->oom) {
        dst->oom = true;
    }
}

bool cvma_verdict_has(const struct cvma_verdict *v, enum cvma_reason code)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        if (v->reasons[i].code == code) {
            return true;
        }
    }
    return false;
}

enum cvma_reason cvma_verdict_first_error(const struct cvma_verdict *v)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        if (v->reasons[i].severity == CVMA_SEV_ERROR) {
            return v->reasons[i].code;
        }
    }
    return CVMA_R_COUNT_;
}

const struct cvma_verdict_reason *cvma_verdict_first_error_since(const struct cvma_verdict *v,
                                                                 size_t since)
{
    for (size_t i = since; i < v->n_reasons; i++) {
        if (v->reasons[i].severity == CVMA_SEV_ERROR) {
            return &v->reasons[i];
        }
    }
    return NULL;
}

bool cvma_verdict_has_error(const struct cvma_verdict *v)
{
    return v->oom || cvma_verdict_first_error(v) != CVMA_R_COUNT_;
}

static const char *check_name(unsigned bit)
{
    switch (bit) {
    case CVMA_CHECK_PARSE:
        return "parse";
    case CVMA_CHECK_CHAIN:
        return "certificate chain";
    case CVMA_CHECK_REVOCATION:
        return "revocation";
    case CVMA_CHECK_SIGNATURE:
        return "evidence signature";
    case CVMA_CHECK_CERT_BINDING:
        return "certificate-to-evidence binding";
    case CVMA_CHECK_COLLATERAL:
        return "TCB collateral";
    default:
        return "unknown check";
    }
}

enum cvma_result_status cvma_verdict_finish(struct cvma_verdict *v)
{
    bool warn = false;
    if (!cvma_verdict_has_error(v)) {
        unsigned missing = v->checks_required & ~v->checks_done;
        for (unsigned bit = 1; bit != 0 && bit <= missing; bit <<= 1) {
            if (missing & bit) {
                cvma_reject(v, CVMA_R_INTERNAL_CHECK_SKIPPED, "required check '%s' did not run",
                            check_name(bit));
            }
        }
        if (v->checks_required == 0) {
            cvma_reject(v, CVMA_R_INTERNAL_CHECK_SKIPPED, "no checks were required");
        }
    }
    if (cvma_verdict_has_error(v)) {
        return CVMA_CONTRAINDICATED;
    }
    for (size_t i = 0; i < v->n_reasons; i++) {
        if (v->reasons[i].severity == CVMA_SEV_WARNING) {
            warn = true;
        }
    }
    return warn ? CVMA_WARNING : CVMA_AFFIRMING;
}

const char *cvma_result_status_name(enum cvma_result_status s)
{
    switch (s) {
    case CVMA_AFFIRMING:
        return "affirming";
    case CVMA_WARNING:
        return "warning";
    case CVMA_CONTRAINDICATED:
        return "contraindicated";
    }
    return "contraindicated";
}

bool cvma_verdict_has_waived_error(const struct cvma_verdict *v)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        if (v->reasons[i].waived) {
            return true;
        }
    }
    return false;
}
