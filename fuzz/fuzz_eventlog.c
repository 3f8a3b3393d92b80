/*
 * libFuzzer target: the event log parser (every format), the replay, the JSON of events,
 * replay and claims (which read UEFI structures inside event data), and both comparisons.
 * The last input byte picks the format to force (auto, tcg, tcg-sha1, ccel).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eventlog/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum cvma_eventlog_format formats[] = {CVMA_EVENTLOG_AUTO, CVMA_EVENTLOG_TCG,
                                                        CVMA_EVENTLOG_TCG_SHA1, CVMA_EVENTLOG_CCEL};
    struct cvma_eventlog log;
    struct cvma_verdict v;
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    enum cvma_eventlog_format f = size > 0 ? formats[data[size - 1] & 3] : CVMA_EVENTLOG_AUTO;

    if (rp == NULL) {
        return 0;
    }
    cvma_verdict_init(&v);
    (void)cvma_eventlog_detect(data, size);
    if (cvma_eventlog_parse(data, size, f, &log, &v) == CVMA_OK) {
        struct cvma_eventlog_quoted q;
        uint8_t rtmr[4][48];
        cvma_eventlog_replay(&log, rp);
        json_t *a = cvma_eventlog_events_json(&log), *b = cvma_eventlog_replay_json(&log, rp),
               *c = cvma_eventlog_claims_json(&log);
        char *s = json_dumps(c, JSON_COMPACT);
        free(s);
        json_decref(a);
        json_decref(b);
        json_decref(c);
        memset(&q, 0, sizeof q);
        memset(rtmr, 0, sizeof rtmr);
        q.alg = CVMA_TPM_ALG_SHA256;
        q.mask = 0xFFFFFFu;
        (void)!cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v);
        (void)!cvma_eventlog_compare_rtmrs(&log, rp, (const uint8_t(*)[48])rtmr, &v);
    }
    cvma_eventlog_cleanup(&log);
    const char *heading = NULL;
    json_decref(cvma_eventlog_show(data, size, &heading, &v));
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    free(rp);
    return 0;
}
