#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cvma_cli_getopt_begin(void)
{
    optind = 0; /* 0, not 1: glibc then forgets any state left by an earlier scan */
    opterr = 0;
}

/* The table of the scan in progress, to name the options an ambiguous abbreviation matches. */
static const struct option *scan_opts;

int cvma_cli_getopt(int argc, char **argv, const struct option *opts)
{
    scan_opts = opts;
    return getopt_long(argc, argv, ":h", opts, NULL);
}

/* Prints the options of the scan's table that "--NAME[=...]" abbreviates when there are two
 * or more (getopt_long accepts a prefix of one option only); false otherwise. */
static bool ambiguous(const char *cmd, const char *arg)
{
    const char *name = arg + 2;
    size_t n = strcspn(name, "=");
    size_t matches = 0;
    for (const struct option *o = scan_opts; o != NULL && o->name != NULL; o++) {
        matches += strncmp(o->name, name, n) == 0;
    }
    if (n == 0 || matches < 2) {
        return false;
    }
    fprintf(stderr, "cvmattest %s: '--%.*s' is ambiguous: it abbreviates", cmd, (int)n, name);
    for (const struct option *o = scan_opts; o->name != NULL; o++) {
        if (strncmp(o->name, name, n) == 0) {
            fprintf(stderr, " --%s", o->name);
        }
    }
    fputc('\n', stderr);
    return true;
}

static void hint(const char *cmd)
{
    fprintf(stderr, "(run 'cvmattest %s --help' for the options)\n", cmd);
}

int cvma_cli_bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    bool is_long = strncmp(arg, "--", 2) == 0;

    if (c == ':') {
        if (is_long) {
            fprintf(stderr, "cvmattest %s: %s needs a value\n", cmd, arg);
        } else {
            fprintf(stderr, "cvmattest %s: -%c needs a value\n", cmd, optopt);
        }
    } else if (is_long && optopt != 0 && strchr(arg, '=') != NULL) {
        fprintf(stderr, "cvmattest %s: %.*s takes no value\n", cmd, (int)(strchr(arg, '=') - arg),
                arg);
    } else if (is_long && ambiguous(cmd, arg)) {
        /* named above */
    } else if (is_long) {
        fprintf(stderr, "cvmattest %s: unknown option '%s'\n", cmd, arg);
    } else {
        fprintf(stderr, "cvmattest %s: unknown option '-%c'\n", cmd, optopt);
    }
    hint(cmd);
    return 2;
}

int cvma_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cvmattest %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    hint(cmd);
    return 2;
}

/* see args.h */
int cvma_cli_dispatch(const char *cmd, const struct cvma_cli_sub *subs, size_t n, int argc,
                      char **argv, void (*usage)(FILE *))
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sub, subs[i].name) == 0) {
            return subs[i].fn(argc - 1, argv + 1);
        }
    }
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "cvmattest %s: unknown command '%s'\n", cmd, sub);
    usage(stderr);
    return 2;
}
