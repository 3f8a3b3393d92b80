/*
 * cvmattest eventlog FILE [--json] [--format F] [--pcrs FILE | --tdx-quote FILE]: parse a TCG
 * event log or a TDX CCEL, print its events and the values it replays to; with --pcrs or
 * --tdx-quote, compare the replay with them (docs/eventlog.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "cmds.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "eventlog/eventlog.h"
#include "output.h"
#include "tdx/tdx.h"

/* A --pcrs file: four banks of 24 hex digests take some 13 KiB. */
#define PCRS_FILE_MAX  (1 << 20)
#define QUOTE_FILE_MAX (1 << 20)

static void usage(FILE *f)
{
    fputs("usage: cvmattest eventlog FILE [--json] [--format auto|tcg|tcg-sha1|ccel]\n"
          "                          [--pcrs PCRS.json | --tdx-quote QUOTE]\n"
          "  parse a TCG event log (binary_bios_measurements) or a TDX CCEL, print its events\n"
          "  and the PCR (or RTMR) values it replays to. --pcrs compares the replay with\n"
          "  {\"sha256\": {\"0\": \"<hex>\", ...}} as verification does (a PCR no event\n"
          "  extends and not at its start value, IMA's PCR 10, is left out: info\n"
          "  EVENTLOG_PCR_NOT_IN_LOG); --tdx-quote with the quote's RTMR 0..2.\n"
          "  The log itself proves nothing: only a match with a verified quote does. When\n"
          "  compared, --json claims are those of the compared registers only, their event\n"
          "  data checked (null when the replay differs or that data was changed); its\n"
          "  reasons (code, severity, detail) also for a log refused.\n",
          f);
}

/* The --pcrs file: {"sha256": {"0": "<hex>", ...}, ...} into quoted banks, each with at
 * least one value: a file that names none would compare nothing and "match". */
static bool load_pcrs(const char *path, struct cvma_eventlog_quoted **out, size_t *n_out, char *err,
                      size_t err_len)
{
    struct cvma_buf b = {0};
    char why[300];
    bool ok;

    *out = NULL;
    *n_out = 0;
    if (cvma_file_read(path, PCRS_FILE_MAX, &b) != CVMA_OK) {
        cvma_errf(err, err_len, "cannot read --pcrs '%s': %s", path,
                  cvma_file_read_why(errno, PCRS_FILE_MAX, why, sizeof why));
        return false;
    }
    ok = cvma_eventlog_quoted_read(b.p, b.len, out, n_out, why, sizeof why);
    if (!ok) {
        cvma_errf(err, err_len, "--pcrs '%s': %s", path, why);
    }
    cvma_buf_free(&b);
    if (ok && *n_out == 0) {
        cvma_errf(err, err_len, "--pcrs '%s' names no PCR bank: nothing to compare the replay with",
                  path);
        ok = false;
    }
    for (size_t i = 0; ok && i < *n_out; i++) {
        if ((*out)[i].mask == 0) {
            cvma_errf(err, err_len, "--pcrs '%s': bank %s names no PCR: nothing to compare it with",
                      path, cvma_eventlog_alg_name((*out)[i].alg));
            ok = false;
        }
    }
    if (!ok) {
        free(*out);
        *out = NULL;
        *n_out = 0;
    }
    return ok;
}

/* The verdict's reasons as a result has them (docs/results.md): [{"code", "severity",
 * "detail"}, ...], the detail written whatever bytes it quotes. NULL when out of memory. */
static json_t *reasons_json(const struct cvma_verdict *v)
{
    struct cvma_strbuf b = {0};
    bool ok = cvma_strbuf_add(&b, "[", 1);
    for (size_t i = 0; ok && i < v->n_reasons; i++) {
        const struct cvma_verdict_reason *r = &v->reasons[i];
        bool first = true;
        ok = (i == 0 || cvma_strbuf_add(&b, ",", 1)) && cvma_strbuf_add(&b, "{", 1) &&
             cvma_jm_str(&b, &first, "code", cvma_reason_name(r->code)) &&
             cvma_jm_str(&b, &first, "severity", cvma_severity_name(r->severity)) &&
             cvma_jm_str(&b, &first, "detail", r->detail) && cvma_strbuf_add(&b, "}", 1);
    }
    ok = ok && cvma_strbuf_add(&b, "]", 1);
    return cvma_json_tree_of(&b, ok);
}

/* --json for a log (or a --tdx-quote) that was refused: no events, no replay, no claims, only
 * why; format the one asked for (auto unless --format: a refused log was read as none);
 * matches_quote false when a comparison was asked for. False when not written whole. */
static bool print_refused_json(enum cvma_eventlog_format format, bool compare,
                               const struct cvma_verdict *v)
{
    json_t *out = json_object(), *reasons = reasons_json(v);
    bool ok = out != NULL && reasons != NULL &&
              json_object_set_new(out, "format", json_string(cvma_eventlog_format_name(format))) ==
                      0 &&
              json_object_set_new(out, "claims", json_null()) == 0 &&
              (!compare || json_object_set_new(out, "matches_quote", json_false()) == 0) &&
              json_object_set(out, "reasons", reasons) == 0 && cvma_print_json(out, stdout);
    json_decref(reasons);
    json_decref(out);
    return ok;
}

static void print_text(const struct cvma_eventlog *log, const json_t *events, const json_t *replay)
{
    size_t i;
    json_t *e;
    bool ccel = log->format == CVMA_EVENTLOG_CCEL;

    printf("%s event log: %zu events, banks:", cvma_eventlog_format_name(log->format),
           log->n_events);
    for (size_t b = 0; b < log->n_banks; b++) {
        printf(" %s", log->banks[b].name ? log->banks[b].name : "(unknown)");
    }
    putchar('\n');
    json_array_foreach(events, i, e)
    {
        const char *type = json_string_value(json_object_get(e, "type"));
        json_t *reg = json_object_get(e, ccel ? "mr_index" : "pcr");
        printf("#%-4zu %s %-2d %-34s %6lld bytes", i, ccel ? "MR" : "PCR",
               (int)json_integer_value(reg), type ? type : "?",
               (long long)json_integer_value(json_object_get(e, "data_size")));
        const char *txt = json_string_value(json_object_get(e, "text"));
        const char *var = json_string_value(json_object_get(e, "variable"));
        const char *path = json_string_value(json_object_get(e, "path"));
        /* Event data is the log's: a newline or an escape in it must not print as one. */
        if (var != NULL || path != NULL) {
            fputs("  ", stdout);
            cvma_put_text(var != NULL ? var : path, stdout);
        } else if (txt != NULL) {
            char shown[81];
            snprintf(shown, sizeof shown, "%s", txt);
            fputs("  ", stdout);
            cvma_put_text(shown, stdout);
            if (strlen(txt) > 80) {
                fputs("...", stdout);
            }
        }
        putchar('\n');
    }
    const char *bank;
    json_t *regs, *val;
    if (ccel) {
        regs = json_object_get(replay, "rtmr");
        json_object_foreach(regs, bank, val)
        {
            printf("RTMR %s: %s\n", bank, json_string_value(val));
        }
        return;
    }
    json_object_foreach(json_object_get(replay, "pcrs"), bank, regs)
    {
        const char *idx;
        json_object_foreach(regs, idx, val)
        {
            printf("%s PCR %2s: %s\n", bank, idx, json_string_value(val));
        }
    }
}

int cvma_cmd_eventlog(int argc, char **argv)
{
    static const struct option opts[] = {
            {"json", no_argument, NULL, 'j'},
            {"format", required_argument, NULL, 'f'},
            {"pcrs", required_argument, NULL, 'p' | CVMA_CLI_ONE_OF(1)},
            {"tdx-quote", required_argument, NULL, 'q' | CVMA_CLI_ONE_OF(1)},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *file = NULL, *pcrs_file = NULL, *quote_file = NULL;
    enum cvma_eventlog_format format = CVMA_EVENTLOG_AUTO;
    bool json = false, compared = false, matches = false, nothing = false;
    uint32_t mask[CVMA_EVENTLOG_MAX_BANKS] = {0}; /* the registers compared, by bank of the log */
    struct cvma_buf b = {0}, qb = {0};
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = NULL;
    struct cvma_eventlog_quoted *quoted = NULL;
    struct cvma_tdx_quote *q = NULL;
    size_t n_quoted = 0;
    struct cvma_verdict v;
    json_t *events = NULL, *replay = NULL, *out = NULL, *claims = NULL;
    char err[512];
    int c, rc = 2;

    memset(&log, 0, sizeof log);
    cvma_verdict_init(&v);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'f':
            if (strcmp(optarg, "auto") == 0) {
                format = CVMA_EVENTLOG_AUTO;
            } else if (strcmp(optarg, "tcg") == 0) {
                format = CVMA_EVENTLOG_TCG;
            } else if (strcmp(optarg, "tcg-sha1") == 0) {
                format = CVMA_EVENTLOG_TCG_SHA1;
            } else if (strcmp(optarg, "ccel") == 0) {
                format = CVMA_EVENTLOG_CCEL;
            } else {
                return cvma_cli_usage_error("eventlog", "--format must be auto, tcg, tcg-sha1 "
                                                        "or ccel");
            }
            break;
        case 'p':
            pcrs_file = optarg;
            break;
        case 'q':
            quote_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cvma_cli_bad_option("eventlog", c, argv);
        }
    }
    if (optind + 1 != argc) {
        return cvma_cli_usage_error("eventlog", "takes exactly one FILE");
    }
    file = argv[optind];
    if (cvma_file_read(file, CVMA_EVENTLOG_MAX_SIZE, &b) != CVMA_OK) {
        cvma_cli_read_error("eventlog", NULL, file, CVMA_EVENTLOG_MAX_SIZE, errno);
        goto out;
    }
    if (pcrs_file != NULL && !load_pcrs(pcrs_file, &quoted, &n_quoted, err, sizeof err)) {
        cvma_cli_err("cvmattest eventlog: %s\n", err);
        goto out;
    }
    if (quote_file != NULL) {
        struct cvma_tdx_parse_opts po = {.allow_trailing_data = true};
        if (cvma_file_read(quote_file, QUOTE_FILE_MAX, &qb) != CVMA_OK) {
            cvma_cli_read_error("eventlog", "--tdx-quote", quote_file, QUOTE_FILE_MAX, errno);
            goto out;
        }
        if ((q = calloc(1, sizeof *q)) == NULL) {
            cvma_cli_err("cvmattest eventlog: out of memory\n");
            goto out;
        }
        /* The RTMRs are read from an unverified quote here: `verify` checks the quote. */
        if (cvma_tdx_quote_parse(qb.p, qb.len, &po, q, &v) != CVMA_OK) {
            rc = 1;
            goto refused;
        }
    }
    enum cvma_status st = cvma_eventlog_parse(b.p, b.len, format, &log, &v);
    if (st == CVMA_E_NOMEM) {
        cvma_cli_err("cvmattest eventlog: out of memory\n");
        goto out;
    }
    if (st != CVMA_OK) {
        rc = 1;
        goto refused;
    }
    /* A log of the other kind than the registers given (a TCG log with --tdx-quote, a CCEL
     * with --pcrs) compares nothing: refused as a log that does not parse is, with no events
     * and no replay, so that no output reads as a comparison that differed. */
    if ((quoted != NULL || q != NULL) && cvma_eventlog_check_kind(&log, q != NULL, &v) != CVMA_OK) {
        rc = 1;
        goto refused;
    }
    if ((rp = malloc(sizeof *rp)) == NULL) {
        goto out;
    }
    cvma_eventlog_replay(&log, rp);
    /* The verdict carries the outcome; rc follows it below. */
    if (quoted != NULL) {
        /* As verification compares (a PCR no event extends and not at its start value, IMA's
         * PCR 10, is left out: EVENTLOG_PCR_NOT_IN_LOG); when that leaves nothing, nothing was
         * compared (EVENTLOG_NOT_COMPARED) and nothing matched: exit 1, no claims. */
        st = cvma_eventlog_compare_quoted(&log, rp, quoted, n_quoted, mask, &v);
        if (st == CVMA_E_NOMEM) {
            cvma_cli_err("cvmattest eventlog: out of memory\n");
            goto out;
        }
        compared = true;
        nothing = st == CVMA_UNDECIDED;
        matches = st == CVMA_OK;
    } else if (q != NULL) {
        int bi = cvma_eventlog_bank_index(&log, CVMA_TPM_ALG_SHA384);
        compared = true;
        matches = cvma_eventlog_compare_rtmrs(&log, rp, (const uint8_t(*)[48])q->body.rtmr, &v) ==
                  CVMA_OK;
        if (bi >= 0) {
            mask[bi] = 0x7u; /* RTMR 0..2: RTMR 3 is not compared */
        }
    }
    if (json && !compared) {
        /* Nothing compared: the whole log's claims, which vouch for nothing (as `show`). */
        claims = cvma_eventlog_claims_json(&log);
    } else if (matches) {
        /* Compared and agreed: the claims verification would draw, from the registers that
         * were compared, with the event data they read checked (in text too: the exit code
         * says so); none when it was changed. */
        if (cvma_eventlog_checked_claims(&log, mask, &claims, &v) == CVMA_E_NOMEM) {
            goto out;
        }
    }
    events = cvma_eventlog_events_json(&log);
    replay = cvma_eventlog_replay_json(&log, rp);
    if (events == NULL || replay == NULL) {
        goto out;
    }
    if (json) {
        out = json_object();
        json_object_set_new(out, "format", json_string(cvma_eventlog_format_name(log.format)));
        json_object_set(out, "events", events);
        json_object_update(out, replay);
        json_object_set_new(out, "claims", claims != NULL ? claims : json_null());
        claims = NULL;
        if (compared) {
            json_object_set_new(out, "matches_quote", json_boolean(matches));
        }
        /* The reasons, as stderr has them: a refusal (exit 1) says why in the JSON too. */
        json_t *reasons = reasons_json(&v);
        if (reasons == NULL || json_object_set_new(out, "reasons", reasons) != 0) {
            cvma_cli_err("cvmattest eventlog: out of memory\n");
            goto out;
        }
        if (!cvma_print_json(out, stdout)) {
            goto out; /* not written whole: exit 2, never the comparison's code */
        }
    } else {
        print_text(&log, events, replay);
        if (compared) {
            printf("replay %s\n", matches   ? "matches the quote"
                                  : nothing ? "compared with NOTHING: no PCR given is one the "
                                              "log extends or leaves at its start value"
                                            : "DIFFERS from the quote");
        }
        if (!cvma_print_flush(stdout)) {
            goto out;
        }
    }
    rc = cvma_verdict_has_error(&v) || nothing ? 1 : 0;
    goto report;
refused:
    if (json && !print_refused_json(format, pcrs_file != NULL || quote_file != NULL, &v)) {
        rc = 2; /* not written whole: exit 2, never the refusal's code */
        goto out;
    }
report:
    for (size_t i = 0; i < v.n_reasons; i++) {
        cvma_cli_err("%s %s: %s\n", cvma_severity_name(v.reasons[i].severity),
                     cvma_reason_name(v.reasons[i].code), v.reasons[i].detail);
    }
out:
    json_decref(out);
    json_decref(claims);
    json_decref(events);
    json_decref(replay);
    free(rp);
    free(quoted);
    if (q != NULL) {
        cvma_tdx_quote_cleanup(q);
        free(q);
    }
    cvma_eventlog_cleanup(&log);
    cvma_buf_free(&b);
    cvma_buf_free(&qb);
    cvma_verdict_cleanup(&v);
    return rc;
}
