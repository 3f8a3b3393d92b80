/*
 * cvmattest policy ...: appraisal policies (docs/policy.md).
 *   policy check FILE                          load strictly; print the policy id (exit 0) or
 *                                              the first problem, naming the field (exit 2)
 *   policy import --from cocos FILE [--out F]  convert a Cocos AI policy into ours; every
 *                                              setting not carried over is named on stderr
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "appraise/policy.h"
#include "args.h"
#include "cmds.h"
#include "common/util.h"
#include "import/cocos.h"
#include "output.h"

#define EXIT_USAGE 2

static void policy_usage(FILE *f)
{
    fputs("usage: cvmattest policy check FILE\n"
          "       cvmattest policy import --from cocos FILE [--out FILE]\n"
          "  check    load a policy strictly and print its id (sha256 of the file)\n"
          "  import   convert a Cocos AI attestation policy (go-sev-guest check.Config for\n"
          "           SEV-SNP, go-tdx-guest checkconfig.Config for TDX; snake_case or\n"
          "           camelCase) into a cvmattest policy, written to stdout or --out; every\n"
          "           setting that could not be carried over is named on stderr\n",
          f);
}

/* A go-sev-guest / go-tdx-guest check configuration: a "policy" object and a root of trust. */
static bool looks_like_cocos(const char *path)
{
    struct cvma_buf b = {0};
    bool yes = false;
    if (cvma_file_read(path, CVMA_POLICY_MAX_BYTES, &b) != CVMA_OK) {
        return false;
    }
    for (size_t i = 0; i + 8 <= b.len && !yes; i++) {
        yes = memcmp(b.p + i, "\"policy\"", 8) == 0;
    }
    cvma_buf_free(&b);
    return yes;
}

static int policy_check(int argc, char **argv)
{
    static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    struct cvma_policy *p = NULL;
    char err[640];
    int c;

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        if (c == 'h') {
            policy_usage(stdout);
            return 0;
        }
        return cvma_cli_bad_option("policy check", c, argv);
    }
    if (argc - optind != 1) {
        return cvma_cli_usage_error("policy check", "one policy FILE, please");
    }
    const char *file = argv[optind];
    enum cvma_status st = cvma_policy_load(file, &p, err, sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest policy check: %s\n", err);
        if (looks_like_cocos(file)) {
            cvma_cli_err("cvmattest policy check: this looks like a Cocos AI policy; convert "
                         "it with: cvmattest policy import --from cocos %s\n",
                         file);
        }
        return EXIT_USAGE;
    }
    /* The name is the policy author's text: escaped as every text output is (docs/results.md),
     * so that it can neither steer the terminal nor start a line of its own. */
    const char *name = cvma_policy_name(p);
    printf("%s: valid policy %s", file, cvma_policy_id(p));
    if (name != NULL) {
        fputs(" (\"", stdout);
        cvma_put_text(name, stdout);
        fputs("\")", stdout);
    }
    putchar('\n');
    /* Valid, yet some of it is never checked for a kind it admits: said, not refused (one
     * policy may accept a plain report beside the Azure evidence its azure rules are for). */
    char unapplied[1024];
    if (cvma_policy_unapplied(p, unapplied, sizeof unapplied) > 0) {
        for (char *line = unapplied, *end; line != NULL; line = end != NULL ? end + 1 : NULL) {
            if ((end = strchr(line, '\n')) != NULL) {
                *end = '\0';
            }
            cvma_cli_err("cvmattest policy check: note: %s: none of its rules is checked for "
                         "it (POLICY_SECTION_NOT_APPLIED, a warning)\n",
                         line);
        }
    }
    cvma_policy_free(p);
    return 0;
}

static int policy_import(int argc, char **argv)
{
    const char *from = NULL, *file = NULL, *out_path = NULL;
    struct cvma_buf in = {0};
    json_t *pol = NULL, *dropped = NULL;
    char *text = NULL;
    char err[640];
    int rc = EXIT_USAGE, c;
    static const struct option opts[] = {
            {"from", required_argument, NULL, 'f'},
            {"out", required_argument, NULL, 'o'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            policy_usage(stdout);
            return 0;
        default:
            return cvma_cli_bad_option("policy import", c, argv);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (file != NULL) {
            return cvma_cli_usage_error("policy import", "unexpected argument '%s'", argv[i]);
        }
        file = argv[i];
    }
    if (from == NULL || file == NULL) {
        return cvma_cli_usage_error("policy import", "--from cocos FILE, please");
    }
    if (strcmp(from, "cocos") != 0) {
        cvma_cli_err("cvmattest policy import: --from %s is not supported (only cocos)\n", from);
        return EXIT_USAGE;
    }
    if (out_path != NULL &&
        cvma_cli_out_file_check("policy import", "--out", out_path, &file, NULL, 1) != 0) {
        return EXIT_USAGE;
    }
    if (cvma_file_read(file, CVMA_POLICY_MAX_BYTES, &in) != CVMA_OK) {
        return cvma_cli_read_error("policy import", NULL, file, CVMA_POLICY_MAX_BYTES, errno);
    }
    if (cvma_policy_import_cocos(in.p, in.len, &pol, &dropped, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest policy import: '%s': %s\n", file, err);
        goto out;
    }
    if ((text = json_dumps(pol, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
        cvma_cli_err("cvmattest policy import: out of memory\n");
        goto out;
    }
    /* What we write must load: the importer and the loader agree on the format. */
    struct cvma_policy *check = NULL;
    if (cvma_policy_load_bytes((const uint8_t *)text, strlen(text), &check, err, sizeof err) !=
        CVMA_OK) {
        cvma_cli_err("cvmattest policy import: internal error, the converted policy does not "
                     "load: %s\n",
                     err);
        goto out;
    }
    cvma_policy_free(check);
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps' NUL becomes the final newline; length n + 1 */
    if (out_path != NULL) {
        if (cvma_file_write_atomic(out_path, (const uint8_t *)text, n + 1) != CVMA_OK) {
            cvma_cli_err("cvmattest policy import: cannot write '%s'\n", out_path);
            goto out;
        }
    } else if (fwrite(text, 1, n + 1, stdout) != n + 1 || fflush(stdout) != 0) {
        cvma_cli_err("cvmattest policy import: cannot write to stdout\n");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(dropped); i++) {
        cvma_cli_err("not carried over: %s\n", json_string_value(json_array_get(dropped, i)));
    }
    cvma_cli_err("cvmattest policy import: %zu setting(s) not carried over\n",
                 json_array_size(dropped));
    rc = 0;
out:
    free(text);
    json_decref(pol);
    json_decref(dropped);
    cvma_buf_free(&in);
    return rc;
}

int cvma_cmd_policy(int argc, char **argv)
{
    if (argc < 2) {
        policy_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "check") == 0) {
        return policy_check(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "import") == 0) {
        return policy_import(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        policy_usage(stdout);
        return 0;
    }
    cvma_cli_err("cvmattest policy: unknown subcommand '%s'\n", argv[1]);
    policy_usage(stderr);
    return EXIT_USAGE;
}
