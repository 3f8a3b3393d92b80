/*
 * An event log inside verification (docs/eventlog.md "In verification"): the log that came
 * with the evidence is parsed, replayed and compared with the registers the verified evidence
 * vouches for (a TDX quote's RTMR 0..2, the PCRs a TPM quote's digest covers). Only when they
 * agree do the log's claims go into the result (claims.eventlog).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/hex.h"
#include "common/reader.h"
#include "eventlog/eventlog.h"

/*
 * The claims read some events' data, which replay does not vouch for: only the digests are
 * extended. Where the digest is by definition the hash of what the claim reads, that is
 * checked: an EFI variable event (PFP 10.4.2: the digest of UEFI_VARIABLE_DATA, the whole
 * event data: Secure Boot state), the GPT event (PFP 10.4.4: the digest of UEFI_GPT_DATA,
 * the whole event data) and GRUB's kernel command line (the digest of the text after
 * "kernel_cmdline: ", with or without its NUL). A mismatch means the event data was changed
 * after measurement: EVENTLOG_EVENT_DATA_MISMATCH, and no claims. (An authority event's data
 * is not always what its digest covers, shim's being one: the claims take it only when it
 * is, cvma_eventlog_claims_json.)
 */
static enum cvma_status check_event_data(const struct cvma_eventlog *log,
                                         const struct cvma_eventlog_event *e,
                                         struct cvma_verdict *v)
{
    const char *tn = cvma_eventlog_type_name(e->type);
    if (e->type == CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG || e->type == CVMA_EV_EFI_GPT_EVENT) {
        if (!cvma_eventlog_digest_is_hash_of(log, e, e->data.p, e->data.len)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_EVENT_DATA_MISMATCH,
                               "event #%zu %s at offset 0x%zx: its digest is not the hash of its "
                               "data (the measured %s was changed in the log)",
                               e->index, tn ? tn : "?", e->offset,
                               e->type == CVMA_EV_EFI_GPT_EVENT ? "partition table" : "variable");
        }
        return CVMA_OK;
    }
    if (e->type != CVMA_EV_IPL) {
        return CVMA_OK;
    }
    for (size_t k = 0; k < CVMA_EVENTLOG_CMDLINE_PREFIXES; k++) {
        struct cvma_reader r;
        struct cvma_span t;
        cvma_reader_init(&r, e->data.p, e->data.len);
        const char *prefix = cvma_eventlog_grub_prefixes[k];
        if (!cvma_reader_starts_with(&r, prefix) || !cvma_reader_skip(&r, strlen(prefix))) {
            continue;
        }
        cvma_reader_rest(&r, &t);
        /* The command line as measured, or without the NUL that ends it in the log. */
        if (!cvma_eventlog_digest_is_hash_of_text(log, e, t)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_EVENT_DATA_MISMATCH,
                               "event #%zu EV_IPL at offset 0x%zx: its digest is not the hash "
                               "of the kernel command line it carries (changed in the log)",
                               e->index, e->offset);
        }
    }
    return CVMA_OK;
}

/*
 * The log restricted to the events of the registers that were compared and agreed
 * (bank_mask[b]: bit i for PCR i, or RTMR i of a CCEL, compared in bank b of the log), each
 * event keeping only the digests of the banks its register was compared in (a digest of a
 * bank the evidence does not cover vouches for nothing: a policy rule or a claim must not
 * match it) and its data checked against those (check_event_data): the view the claims are
 * drawn from. view borrows log's bytes; *kept (its events) is owned.
 */
static enum cvma_status trusted_view(const struct cvma_eventlog *log,
                                     const uint32_t bank_mask[CVMA_EVENTLOG_MAX_BANKS], bool ccel,
                                     struct cvma_eventlog *view, struct cvma_eventlog_event **kept,
                                     struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_OK;
    *view = *log;
    if ((*kept = calloc(log->n_events ? log->n_events : 1, sizeof **kept)) == NULL) {
        v->oom = true;
        return CVMA_E_NOMEM;
    }
    view->n_events = 0;
    for (size_t i = 0; i < log->n_events; i++) {
        const struct cvma_eventlog_event *e = &log->events[i];
        uint32_t reg = ccel ? e->pcr - 1u : e->pcr; /* CC-MR index i is RTMR i-1 */
        if (e->type == CVMA_EV_NO_ACTION || (ccel && e->pcr == 0) || reg >= 32) {
            continue;
        }
        struct cvma_eventlog_event kept_e = *e;
        bool covered = false;
        for (size_t b = 0; b < log->n_banks && b < CVMA_EVENTLOG_MAX_BANKS; b++) {
            if (bank_mask[b] & (1u << reg)) {
                covered = covered || e->digest[b] != NULL;
            } else {
                kept_e.digest[b] = NULL;
            }
        }
        if (!covered) {
            continue;
        }
        if (check_event_data(log, &kept_e, v) != CVMA_OK) {
            st = CVMA_REJECTED;
            continue;
        }
        (*kept)[view->n_events++] = kept_e;
    }
    view->events = *kept;
    return st;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char hex[2 * CVMA_EVENTLOG_MAX_DIGEST + 1];
    cvma_hex_encode(p, n, hex, sizeof hex);
    return json_string(hex);
}

/* claims.eventlog: format, event count, the compared registers, then the claims of the
 * events of those registers (view) and those events (measured_events). */
static json_t *claims_of(const struct cvma_eventlog *log, const struct cvma_eventlog *view,
                         const char *regs_key, json_t *regs)
{
    json_t *o = json_object(), *c = cvma_eventlog_claims_json(view);
    if (o == NULL || c == NULL || regs == NULL) {
        json_decref(o);
        json_decref(c);
        json_decref(regs);
        return NULL;
    }
    json_object_set_new(o, "format", json_string(cvma_eventlog_format_name(log->format)));
    json_object_set_new(o, "events", json_integer((json_int_t)log->n_events));
    json_object_set_new(o, regs_key, regs);
    json_object_update_new(o, c);
    /* The events of the compared registers themselves, for policy rules over any event
     * (eventlog.required_events, docs/policy.md). */
    json_object_set_new(o, "measured_events", cvma_eventlog_events_json(view));
    return o;
}

static bool parse(const uint8_t *p, size_t len, struct cvma_eventlog *log,
                  struct cvma_eventlog_replay **rp, struct cvma_result *res)
{
    enum cvma_status st = cvma_eventlog_parse(p, len, CVMA_EVENTLOG_AUTO, log, &res->verdict);
    if (st != CVMA_OK) {
        /* out of memory is the call's error, not a log quietly left out */
        res->verdict.oom = res->verdict.oom || st == CVMA_E_NOMEM;
        return false;
    }
    if ((*rp = malloc(sizeof **rp)) == NULL) {
        res->verdict.oom = true;
        return false;
    }
    cvma_eventlog_replay(log, *rp);
    return true;
}

/* see eventlog/eventlog.h */
enum cvma_status cvma_eventlog_checked_claims(const struct cvma_eventlog *log,
                                              const uint32_t bank_mask[CVMA_EVENTLOG_MAX_BANKS],
                                              json_t **out, struct cvma_verdict *v)
{
    struct cvma_eventlog view;
    struct cvma_eventlog_event *kept = NULL;
    enum cvma_status st;

    *out = NULL;
    st = trusted_view(log, bank_mask, log->format == CVMA_EVENTLOG_CCEL, &view, &kept, v);
    if (st == CVMA_OK && (*out = cvma_eventlog_claims_json(&view)) == NULL) {
        v->oom = true;
        st = CVMA_E_NOMEM;
    }
    free(kept);
    return st;
}

/* see eventlog/eventlog.h */
void cvma_eventlog_verify_rtmrs(const uint8_t *p, size_t len, const uint8_t rtmr[4][48],
                                struct cvma_result *res)
{
    struct cvma_eventlog log, view;
    struct cvma_eventlog_event *kept = NULL;
    struct cvma_eventlog_replay *rp = NULL;
    json_t *regs, *claims;
    char key[2];

    uint32_t ccel_mask[CVMA_EVENTLOG_MAX_BANKS] = {0};
    memset(&log, 0, sizeof log);
    if (parse(p, len, &log, &rp, res)) {
        int b = cvma_eventlog_bank_index(&log, CVMA_TPM_ALG_SHA384); /* RTMRs are SHA-384 */
        if (b >= 0) {
            ccel_mask[b] = 0x7u; /* RTMR 0..2 (RTMR 3 is not compared) */
        }
    }
    if (rp == NULL || cvma_eventlog_compare_rtmrs(&log, rp, rtmr, &res->verdict) != CVMA_OK ||
        trusted_view(&log, ccel_mask, true, &view, &kept, &res->verdict) != CVMA_OK) {
        goto out;
    }
    regs = json_object();
    for (int i = 0; regs != NULL && i < 3; i++) {
        key[0] = (char)('0' + i);
        key[1] = '\0';
        json_object_set_new(regs, key, hex_json(rtmr[i], 48));
    }
    if ((claims = claims_of(&log, &view, "rtmr", regs)) == NULL) {
        res->verdict.oom = true;
        goto out;
    }
    json_decref(res->claims.eventlog);
    res->claims.eventlog = claims;
out:
    free(kept);
    free(rp);
    cvma_eventlog_cleanup(&log);
}

/* see eventlog/eventlog.h */
enum cvma_status
cvma_eventlog_compare_quoted(const struct cvma_eventlog *log, const struct cvma_eventlog_replay *rp,
                             const struct cvma_eventlog_quoted *quoted, size_t n_quoted,
                             uint32_t compared[CVMA_EVENTLOG_MAX_BANKS], struct cvma_verdict *v)
{
    struct cvma_eventlog_quoted *cmp = NULL;
    char hex[2 * CVMA_EVENTLOG_MAX_DIGEST + 1];
    enum cvma_status st;

    memset(compared, 0, CVMA_EVENTLOG_MAX_BANKS * sizeof *compared);
    if (log->format == CVMA_EVENTLOG_CCEL) {
        return cvma_eventlog_compare_pcrs(log, rp, quoted, n_quoted, v); /* refused: RTMRs */
    }
    if (n_quoted == 0) {
        (void)cvma_verdict_add(v, CVMA_R_EVENTLOG_NOT_COMPARED, CVMA_SEV_WARNING,
                               "the quote covers none of PCRs 0..23: the event log (%zu events) "
                               "was compared with nothing and gives no claims",
                               log->n_events);
        return CVMA_UNDECIDED;
    }
    if ((cmp = calloc(n_quoted, sizeof *cmp)) == NULL) {
        v->oom = true;
        return CVMA_E_NOMEM;
    }
    /* A quoted PCR that no event extends is compared only when it still holds its start
     * value (else the log says nothing about it: info, not compared). */
    for (size_t q = 0; q < n_quoted; q++) {
        int b = cvma_eventlog_bank_index(log, quoted[q].alg);
        cmp[q] = quoted[q];
        if (b < 0 || !rp->valid[b]) {
            continue; /* EVENTLOG_BANK_MISSING from the comparison */
        }
        for (int i = 0; i < CVMA_EVENTLOG_NPCR; i++) {
            uint32_t bit = 1u << i;
            if ((cmp[q].mask & bit) && !(rp->extended[b] & bit) &&
                memcmp(rp->reg[b][i], quoted[q].reg[i], log->banks[b].size) != 0) {
                cmp[q].mask &= ~bit;
                cvma_hex_encode(quoted[q].reg[i], log->banks[b].size, hex, sizeof hex);
                (void)cvma_verdict_add(v, CVMA_R_EVENTLOG_PCR_NOT_IN_LOG, CVMA_SEV_INFO,
                                       "%s PCR %d = %s: no event of the log extends it; not "
                                       "compared",
                                       log->banks[b].name ? log->banks[b].name : "?", i, hex);
            }
        }
    }
    bool any = false;
    for (size_t q = 0; q < n_quoted; q++) {
        int b = cvma_eventlog_bank_index(log, cmp[q].alg);
        any = any || cmp[q].mask != 0;
        if (b >= 0 && b < CVMA_EVENTLOG_MAX_BANKS && rp->valid[b]) {
            compared[b] |= cmp[q].mask;
        }
    }
    if (!any) {
        /* Every quoted PCR was left out above: comparing would compare nothing and "agree". */
        (void)cvma_verdict_add(v, CVMA_R_EVENTLOG_NOT_COMPARED, CVMA_SEV_WARNING,
                               "no PCR the quote covers is one the event log (%zu events) "
                               "extends or leaves at its start value: the log was compared "
                               "with nothing and gives no claims",
                               log->n_events);
        free(cmp);
        return CVMA_UNDECIDED;
    }
    st = cvma_eventlog_compare_pcrs(log, rp, cmp, n_quoted, v);
    free(cmp);
    return st;
}

/* see eventlog/eventlog.h */
void cvma_eventlog_verify_pcrs(const uint8_t *p, size_t len,
                               const struct cvma_eventlog_quoted *quoted, size_t n_quoted,
                               struct cvma_result *res)
{
    struct cvma_eventlog log, view;
    struct cvma_eventlog_event *kept = NULL;
    struct cvma_eventlog_replay *rp = NULL;
    uint32_t compared[CVMA_EVENTLOG_MAX_BANKS] = {0};
    json_t *regs = NULL, *claims;
    char key[4];

    memset(&log, 0, sizeof log);
    if (!parse(p, len, &log, &rp, res)) {
        goto out;
    }
    if (cvma_eventlog_compare_quoted(&log, rp, quoted, n_quoted, compared, &res->verdict) !=
                CVMA_OK ||
        trusted_view(&log, compared, false, &view, &kept, &res->verdict) != CVMA_OK) {
        goto out;
    }
    regs = json_object();
    for (size_t q = 0; regs != NULL && q < n_quoted; q++) {
        int b = cvma_eventlog_bank_index(&log, quoted[q].alg);
        json_t *bank = json_object();
        if (bank == NULL || b < 0 || b >= CVMA_EVENTLOG_MAX_BANKS) {
            json_decref(bank);
            continue;
        }
        for (int i = 0; i < CVMA_EVENTLOG_NPCR; i++) {
            if (quoted[q].mask & compared[b] & (1u << i)) {
                snprintf(key, sizeof key, "%d", i);
                json_object_set_new(bank, key, hex_json(quoted[q].reg[i], log.banks[b].size));
            }
        }
        json_object_set_new(regs, log.banks[b].name ? log.banks[b].name : "?", bank);
    }
    if ((claims = claims_of(&log, &view, "pcrs", regs)) == NULL) {
        res->verdict.oom = true;
        goto out;
    }
    json_decref(res->claims.eventlog);
    res->claims.eventlog = claims;
out:
    free(kept);
    free(rp);
    cvma_eventlog_cleanup(&log);
}
