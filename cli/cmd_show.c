/* cvmattest show FILE [--json]: parse evidence and print every field. Nothing is verified. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "cmds.h"
#include "eventlog/eventlog.h"
#include "opts.h"
#include "output.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"

enum { O_JSON = 256, O_TRAILING, O_TEE, O_INFORM };

static const struct option show_options[] = {
        {"json", no_argument, NULL, O_JSON},
        {"allow-trailing-data", no_argument, NULL, O_TRAILING},
        {"tee", required_argument, NULL, O_TEE},
        {"inform", required_argument, NULL, O_INFORM},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* The kinds show parses (the kind table's, in its order), joined by sep, the last by last. */
static void put_kinds(FILE *f, const char *sep, const char *last)
{
    size_t n = 0, i = 0;
    for (const struct cvma_kind *const *k = cvma_kinds; *k != NULL; k++) {
        n += (*k)->show != NULL;
    }
    for (const struct cvma_kind *const *k = cvma_kinds; *k != NULL; k++) {
        if ((*k)->show != NULL) {
            i++;
            fprintf(f, "%s%s", i == 1 ? "" : i == n ? last : sep, (*k)->cli_name);
        }
    }
}

/* --tee names no kind show parses: exit 2, naming those it does. */
static int bad_tee(const char *name)
{
    cvma_cli_err("cvmattest show: --tee must be ");
    put_kinds(stderr, ", ", " or ");
    cvma_cli_err(", not '%s'\n(run 'cvmattest show --help' for the options)\n", name);
    return 2;
}

static void usage(FILE *f)
{
    fputs("usage: cvmattest show FILE [--json] [--tee KIND] [--inform bin|hex|base64]\n"
          "                      [--allow-trailing-data]\n"
          "  parse evidence (a bundle, a bare report or quote, hex or base64 text, or - for\n"
          "  standard input) and print every field. Nothing is verified.\n"
          "  --tee KIND   the evidence kind (default: detected from the bytes):\n"
          "               ",
          f);
    put_kinds(f, ", ", " or ");
    fputs("\n", f);
}

/* The fields on stdout, as JSON or text; false (said) when they could not be written whole:
 * exit 2 then, as verify, never 0 over half of them. */
static bool print(const json_t *o, bool json, const char *heading)
{
    if (json) {
        return cvma_print_json(o, stdout);
    }
    printf("%s\n", heading);
    cvma_print_fields(o, 2, stdout);
    return cvma_print_flush(stdout);
}

int cvma_cmd_show(int argc, char **argv)
{
    const char *file = NULL;
    bool json = false, allow_trailing = false;
    const struct cvma_kind *kind = NULL;
    enum cvma_inform inform = CVMA_INFORM_AUTO;
    struct cvma_evidence *ev = NULL;
    struct cvma_verdict v;
    int c, rc = 1;

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, show_options)) != -1) {
        switch (c) {
        case O_JSON:
            json = true;
            break;
        case O_TRAILING:
            allow_trailing = true;
            break;
        case O_TEE:
            kind = cvma_kind_by_name(optarg);
            if (kind == NULL || kind->show == NULL) {
                return bad_tee(optarg);
            }
            break;
        case O_INFORM:
            if (strcmp(optarg, "bin") == 0) {
                inform = CVMA_INFORM_BIN;
            } else if (strcmp(optarg, "hex") == 0) {
                inform = CVMA_INFORM_HEX;
            } else if (strcmp(optarg, "base64") == 0) {
                inform = CVMA_INFORM_BASE64;
            } else {
                cvma_cli_err("cvmattest show: --inform must be bin, hex or base64\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cvma_cli_bad_option("show", c, argv);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (file != NULL) {
            cvma_cli_err("cvmattest show: one file only\n");
            return 2;
        }
        file = argv[i];
    }
    if (file == NULL) {
        usage(stderr);
        return 2;
    }
    if (cvma_cli_evidence_file("show", file, inform, &ev) != 0) {
        return 2;
    }
    if (kind == NULL) {
        kind = ev->kind;
    }
    if (ev->kind_named && kind != ev->kind) {
        /* as verify refuses it (cvma_verify): the bundle says what its evidence is */
        cvma_cli_err("cvmattest show: the bundle says its evidence is of kind '%s', and --tee "
                     "names kind '%s': they disagree\n",
                     ev->kind->name, kind->name);
        cvma_evidence_free(ev);
        return 2;
    }
    struct cvma_span b = cvma_evidence_bytes(ev);
    cvma_verdict_init(&v);
    if (kind == NULL && cvma_eventlog_detect(b.p, b.len)) {
        /* Not evidence of a kind: a measured-boot log (TCG or TDX CCEL), shown as one. */
        const char *heading = "";
        json_t *o = cvma_eventlog_show(b.p, b.len, &heading, &v);
        bool written = o == NULL || print(o, json, heading);
        json_decref(o);
        rc = v.oom || !written ? 2 : cvma_verdict_has_error(&v) ? 1 : 0;
    } else if (kind == NULL) {
        char why[512];
        enum cvma_reason code = cvma_kind_explain_unknown(b.p, b.len, why, sizeof why);
        cvma_reject(&v, code, "%s", why);
    } else if (kind->show == NULL) {
        cvma_cli_err("cvmattest show: %s evidence is recognised but not parsed yet\n", kind->what);
        rc = 2;
    } else {
        const char *heading = "";
        json_t *o = kind->show(b.p, b.len, allow_trailing, &heading, &v);
        if (o != NULL) {
            rc = !print(o, json, heading) ? 2 : cvma_verdict_has_error(&v) ? 1 : 0;
            json_decref(o);
        } else if (v.oom) {
            rc = 2;
        }
    }
    for (size_t i = 0; i < v.n_reasons; i++) {
        cvma_cli_err("%s %s: %s\n", cvma_severity_name(v.reasons[i].severity),
                     cvma_reason_name(v.reasons[i].code), v.reasons[i].detail);
    }
    cvma_verdict_cleanup(&v);
    cvma_evidence_free(ev);
    return rc;
}
