/*
 * cvmattest result check FILE --pub PUB [--max-age SECONDS]: verify the signed result in FILE,
 * print its claims, and exit by its verdict (docs/results.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "args.h"
#include "cmds.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "crypto/jws.h"
#include "output.h"
#include "result/ear.h"

#define MAX_SMALL (1u << 20)

static const char usage[] =
        "usage: cvmattest result check FILE --pub PUB [--max-age SECONDS]\n"
        "  Verifies the signed result (EAR JWT) that FILE holds with the verifier's public\n"
        "  key PUB (PEM) and prints its claims. Exit 0 only when the signature holds, the\n"
        "  header typ is JWT, eat_profile is " CVMA_EAR_PROFILE ",\n"
        "  the token is current (iat and every submodule's cvmattest.verified-at not ahead,\n"
        "  exp/nbf when present; with --max-age, the older of iat and verified-at at most\n"
        "  SECONDS ago: a result of verify --at is as old as the time it judged) and every\n"
        "  submodule's ear.status is affirming or warning; exit 1 otherwise (a valid but\n"
        "  contraindicated result prints its status), 2 on usage errors.\n";

/* s with every byte that could steer a terminal or start a line as \xNN (cvma_text_escape),
 * newly allocated (NULL: out of memory): the token's names and details are its signer's text,
 * and cvma_cli_err keeps the line feeds and tabs of what it is given. */
static char *escaped(const char *s)
{
    size_t cap = strlen(s) * 4 + 1;
    char *e = malloc(cap);
    return e != NULL ? cvma_text_escape(s, e, cap) : NULL;
}

/* Names the reasons of severity error in the submodule, to say why it was contraindicated. */
static void print_errors(const json_t *claims, const char *submod)
{
    const json_t *reasons = json_object_get(
            json_object_get(json_object_get(claims, "submods"), submod), "cvmattest.reasons");
    size_t i;
    const json_t *r;
    json_array_foreach(reasons, i, r)
    {
        const char *sev = json_string_value(json_object_get(r, "severity"));
        const char *code = json_string_value(json_object_get(r, "code"));
        const char *detail = json_string_value(json_object_get(r, "detail"));
        if (sev != NULL && strcmp(sev, "error") == 0 && code != NULL) {
            char *c = escaped(code), *t = escaped(detail != NULL ? detail : "");
            cvma_cli_err("  %s: %s\n", c != NULL ? c : "(out of memory)", t != NULL ? t : "");
            free(c);
            free(t);
        }
    }
}

int cvma_cmd_result(int argc, char **argv)
{
    static const struct option longopts[] = {
            {"pub", required_argument, NULL, 'p'},
            {"max-age", required_argument, NULL, 'm'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *token_path = NULL, *pub_path = NULL;
    struct cvma_buf tb = {0}, pb = {0};
    EVP_PKEY *pub = NULL;
    json_t *claims = NULL;
    struct cvma_ear_decision d;
    int64_t max_age = -1;
    char err[256] = "";
    int rc = 2, c;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "check") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc - 1, argv + 1, longopts)) != -1) {
        switch (c) {
        case 'p':
            pub_path = optarg;
            break;
        case 'm': {
            uint64_t v;
            if (!cvma_cli_uint(optarg, 0, INT64_MAX, &v)) {
                cvma_cli_err("cvmattest result check: --max-age wants seconds (0 or more)\n");
                return 2;
            }
            max_age = (int64_t)v;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return cvma_cli_bad_option("result check", c, argv + 1);
        }
    }
    for (int i = optind + 1; i < argc; i++) {
        if (token_path != NULL) {
            cvma_cli_err("cvmattest result check: one token only\n");
            return 2;
        }
        token_path = argv[i];
    }
    if (token_path == NULL || pub_path == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    /* Each file on its own: the message names the one that failed and why. */
    if (cvma_file_read(token_path, MAX_SMALL, &tb) != CVMA_OK) {
        cvma_cli_read_error("result check", "the token", token_path, MAX_SMALL, errno);
        goto out;
    }
    if (cvma_file_read(pub_path, MAX_SMALL, &pb) != CVMA_OK) {
        cvma_cli_read_error("result check", "--pub", pub_path, MAX_SMALL, errno);
        goto out;
    }
    if ((pub = cvma_jws_key_from_pem(pb.p, pb.len, false)) == NULL) {
        cvma_cli_err("cvmattest result check: '%s' is not a P-256 or P-384 public key\n", pub_path);
        goto out;
    }
    size_t n = cvma_jws_token_len(tb.p, tb.len);
    if (n == 0) {
        /* nothing to verify: an unreadable token (exit 2), as verify takes empty evidence */
        cvma_cli_err("cvmattest result check: the token '%s' is empty\n", token_path);
        goto out;
    }
    enum cvma_status st = cvma_ear_verify((const char *)tb.p, n, pub, &claims, err, sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest result check: refused: %s\n", err);
        rc = st == CVMA_REJECTED ? 1 : 2;
        goto out;
    }
    if (cvma_ear_decide(claims, time(NULL), max_age, &d, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest result check: refused: %s\n", err);
        rc = 1;
        goto out;
    }
    if (!cvma_print_json(claims, stdout)) {
        rc = 2; /* the claims not written whole: no decision to exit by */
        goto out;
    }
    char when[80], judged[32];
    cvma_time_format(d.iat, when, sizeof when);
    /* A result of verify --at: say what time it speaks of (not for the seconds a verification
     * takes between its verified-at and the signature's iat). */
    if (d.judged < d.iat && (uint64_t)d.iat - (uint64_t)d.judged > CVMA_EAR_CLOCK_SKEW) {
        cvma_time_format(d.judged, judged, sizeof judged);
        size_t w = strlen(when);
        snprintf(when + w, sizeof when - w, " (evidence judged as of %s)", judged);
    }
    if (d.tier == CVMA_EAR_AFFIRMING || d.tier == CVMA_EAR_WARNING) {
        cvma_cli_err("cvmattest result check: valid token issued %s; status %s\n", when,
                     cvma_ear_tier_name(d.tier));
        rc = 0;
    } else {
        char *sub = escaped(d.submod);
        cvma_cli_err("cvmattest result check: valid token issued %s, but status %s (submodule "
                     "%s): the evidence was not accepted\n",
                     when, cvma_ear_tier_name(d.tier), sub != NULL ? sub : "(out of memory)");
        free(sub);
        if (json_is_true(
                    json_object_get(json_object_get(json_object_get(claims, "submods"), d.submod),
                                    "cvmattest.undecided"))) {
            cvma_cli_err("  undecided: collateral or a registry could not be had\n");
        }
        print_errors(claims, d.submod);
        rc = 1;
    }
out:
    json_decref(claims);
    EVP_PKEY_free(pub);
    cvma_buf_free(&tb);
    cvma_buf_free(&pb);
    return rc;
}
