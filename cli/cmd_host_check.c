/* cvmattest host-check [--root DIR] [--json]: can this host run SEV-SNP or TDX guests
 * (docs/host-check.md). Exit 0 when at least one TEE is ready, 1 when neither is (each has a
 * failing check), 3 when that is not decided (a TEE with no failing check, only unknown ones:
 * DESIGN.md's "could not decide"), 2 on usage errors or a tree that cannot be read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "args.h"
#include "cmds.h"
#include "collateral/http.h"
#include "host/host.h"
#include "output.h"

static const char usage[] =
        "usage: cvmattest host-check [--root DIR] [--json] [--pccs-url URL] [--pccs-timeout S]\n"
        "  checks, for SEV-SNP and for TDX, every host requirement: pass, fail or unknown,\n"
        "  each with what to do (docs/host-check.md)\n"
        "  --root DIR          read proc/, sys/, boot/, dev/ under DIR (a prepared tree) instead\n"
        "                      of this machine; CPUID and /dev/sev from stand-in files there\n"
        "  --json              the tree of checks as JSON\n"
        "  --pccs-url URL      the PCCS to probe (default https://localhost:8081, none with\n"
        "                      --root; none: skip); http:// or https://, no user\n"
        "                      information, query or fragment\n"
        "  --pccs-timeout S    seconds to wait for it (default 5)\n"
        "exit codes: 0 at least one TEE ready, 1 neither (each fails a check), 2 usage error,\n"
        "  3 not decided (no TEE ready, one with no failing check but some unknown)\n";

int cvma_cmd_host_check(int argc, char **argv)
{
    static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"json", no_argument, NULL, 'j'},
            {"pccs-url", required_argument, NULL, 'p'},
            {"pccs-timeout", required_argument, NULL, 't'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    struct cvma_host_options o = {0};
    bool json = false;
    int c;

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case 'r':
            o.root = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'p':
            /* The one rule for base URLs (docs/collateral.md), refused here as --pcs-url is;
             * a URL with user information is not echoed: it may hold a password. */
            if (strcmp(optarg, "none") != 0 && !cvma_http_base_url_ok(optarg)) {
                return cvma_cli_usage_error(
                        "host-check",
                        "--pccs-url must be none or an http:// or https:// URL with a host and "
                        "no user information, query or fragment, not '%s'",
                        strchr(optarg, '@') != NULL ? "(a URL with user information)" : optarg);
            }
            o.pccs_url = optarg;
            break;
        case 't': {
            uint64_t v;
            if (!cvma_cli_uint(optarg, 1, 600, &v)) {
                return cvma_cli_usage_error("host-check", "--pccs-timeout wants 1..600 seconds");
            }
            o.pccs_timeout_s = (long)v;
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return cvma_cli_bad_option("host-check", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error("host-check", "takes no operands ('%s')", argv[optind]);
    }
    if (o.root != NULL) {
        struct stat st;
        if (strlen(o.root) >= sizeof(((struct cvma_host_report *)0)->root)) {
            /* kept whole or refused: a shortened path would be another directory */
            return cvma_cli_usage_error("host-check", "--root: at most %zu characters",
                                        sizeof(((struct cvma_host_report *)0)->root) - 1);
        }
        if (o.root[0] == '\0' || stat(o.root, &st) != 0 || !S_ISDIR(st.st_mode)) {
            return cvma_cli_usage_error("host-check", "--root %s: not a directory", o.root);
        }
    }
    struct cvma_host_report *r = NULL;
    char err[512];
    enum cvma_status st = cvma_host_check_run(&o, &r, err, sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest host-check: %s\n", err);
        return 2;
    }
    int rc = r->snp_ready || r->tdx_ready ? 0 : r->undecided ? 3 : 1;
    if (json) {
        json_t *j = cvma_host_report_json(r);
        if (j == NULL) {
            cvma_cli_err("cvmattest host-check: out of memory\n");
            rc = 2;
        } else if (!cvma_print_json(j, stdout)) {
            rc = 2; /* a full disk, a closed pipe: said so ("the output could not be written") */
        }
        json_decref(j);
    } else {
        cvma_host_report_print(r, stdout);
    }
    cvma_host_report_free(r);
    return rc;
}
