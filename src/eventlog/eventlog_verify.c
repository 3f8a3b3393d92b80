/*
 * An event log inside verification (docs/eventlog.md "In verification"): the log that came
 * with the evidence is parsed, replayed and compared with the registers the verified evidence
 * vouches for (a TDX quote's RTMR 0..2, the PCRs a TPM quote's digest covers). Only when they
 * agree do the log's claims go into the result (claims.eventlog).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "eventlog/eventlog.h"

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char hex[2 * CVMA_EVENTLOG_MAX_DIGEST + 1];
    cvma_hex_encode(p, n, hex, sizeof hex);
    return json_string(hex);
}

/* claims.eventlog: format, event count, the compared registers, then the log's claims. */
static json_t *claims_of(const struct cvma_eventlog *log, const char *regs_key, json_t *regs)
{
    json_t *o = json_object(), *c = cvma_eventlog_claims_json(log);
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
    return o;
}

static bool parse(const uint8_t *p, size_t len, struct cvma_eventlog *log,
                  struct cvma_eventlog_replay **rp, struct cvma_result *res)
{
    if (cvma_eventlog_parse(p, len, CVMA_EVENTLOG_AUTO, log, &res->verdict) != CVMA_OK) {
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
void cvma_eventlog_verify_rtmrs(const uint8_t *p, size_t len, const uint8_t rtmr[4][48],
                                struct cvma_result *res)
{
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = NULL;
    json_t *regs, *claims;
    char key[2];

    memset(&log, 0, sizeof log);
    if (!parse(p, len, &log, &rp, res) ||
        cvma_eventlog_compare_rtmrs(&log, rp, rtmr, &res->verdict) != CVMA_OK) {
        goto out;
    }
    regs = json_object();
    for (int i = 0; regs != NULL && i < 3; i++) {
        key[0] = (char)('0' + i);
        key[1] = '\0';
        json_object_set_new(regs, key, hex_json(rtmr[i], 48));
    }
    if ((claims = claims_of(&log, "rtmr", regs)) == NULL) {
        res->verdict.oom = true;
        goto out;
    }
    json_decref(res->claims.eventlog);
    res->claims.eventlog = claims;
out:
    free(rp);
    cvma_eventlog_cleanup(&log);
}

/* see eventlog/eventlog.h */
void cvma_eventlog_verify_pcrs(const uint8_t *p, size_t len,
                               const struct cvma_eventlog_quoted *quoted, size_t n_quoted,
                               struct cvma_result *res)
{
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = NULL;
    struct cvma_eventlog_quoted *cmp = NULL;
    json_t *regs = NULL, *claims;
    char hex[2 * CVMA_EVENTLOG_MAX_DIGEST + 1], key[4];

    memset(&log, 0, sizeof log);
    if (!parse(p, len, &log, &rp, res)) {
        goto out;
    }
    if (n_quoted == 0 || (cmp = calloc(n_quoted, sizeof *cmp)) == NULL) {
        res->verdict.oom = n_quoted != 0;
        goto out;
    }
    /* A quoted PCR that no event extends is compared only when it still holds its start
     * value (else the log says nothing about it: info, not compared). */
    for (size_t q = 0; q < n_quoted; q++) {
        int b = cvma_eventlog_bank_index(&log, quoted[q].alg);
        cmp[q] = quoted[q];
        if (b < 0 || !rp->valid[b]) {
            continue; /* EVENTLOG_BANK_MISSING from the comparison */
        }
        for (int i = 0; i < CVMA_EVENTLOG_NPCR; i++) {
            uint32_t bit = 1u << i;
            if ((cmp[q].mask & bit) && !(rp->extended[b] & bit) &&
                memcmp(rp->reg[b][i], quoted[q].reg[i], log.banks[b].size) != 0) {
                cmp[q].mask &= ~bit;
                cvma_hex_encode(quoted[q].reg[i], log.banks[b].size, hex, sizeof hex);
                (void)cvma_verdict_add(&res->verdict, CVMA_R_EVENTLOG_PCR_NOT_IN_LOG, CVMA_SEV_INFO,
                                       "%s PCR %d = %s: no event of the log extends it; not "
                                       "compared",
                                       log.banks[b].name ? log.banks[b].name : "?", i, hex);
            }
        }
    }
    if (cvma_eventlog_compare_pcrs(&log, rp, cmp, n_quoted, &res->verdict) != CVMA_OK) {
        goto out;
    }
    regs = json_object();
    for (size_t q = 0; regs != NULL && q < n_quoted; q++) {
        int b = cvma_eventlog_bank_index(&log, cmp[q].alg);
        json_t *bank = json_object();
        if (bank == NULL || b < 0) {
            json_decref(bank);
            continue;
        }
        for (int i = 0; i < CVMA_EVENTLOG_NPCR; i++) {
            if (cmp[q].mask & (1u << i)) {
                snprintf(key, sizeof key, "%d", i);
                json_object_set_new(bank, key, hex_json(cmp[q].reg[i], log.banks[b].size));
            }
        }
        json_object_set_new(regs, log.banks[b].name ? log.banks[b].name : "?", bank);
    }
    if ((claims = claims_of(&log, "pcrs", regs)) == NULL) {
        res->verdict.oom = true;
        goto out;
    }
    json_decref(res->claims.eventlog);
    res->claims.eventlog = claims;
out:
    free(cmp);
    free(rp);
    cvma_eventlog_cleanup(&log);
}
