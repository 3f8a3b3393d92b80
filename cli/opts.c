#include "opts.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "collateral/cache.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "tlog/tlog.h"
#include "verifier/bundle.h"

static int usage_error(const char *verb, const char *fmt, ...) CVMA_PRINTF(2, 3);

static int usage_error(const char *verb, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cvma_cli_err("cvmattest %s: %s\n(run 'cvmattest %s --help' for the options)\n", verb, msg,
                 verb);
    return 2;
}

static void help(const char *verb, bool bench)
{
    if (bench) {
        printf("usage: cvmattest bench FILE [verify options] [--seconds S] [--threads N] [--cold]\n"
               "                              [--json]\n"
               "       cvmattest bench registry [--entries N] [--proof-checks K] [--json]\n"
               "       cvmattest bench registry-log [--entries N] [--entry-bytes B]\n"
               "                              [--proof-checks K] [--dir DIR] [--json]\n"
               "  full verifications per second on one core; --threads N runs N threads\n"
               "  through one verifier and reports the rate per thread (a core each, with\n"
               "  every core busy as in a loaded service); --cold turns every cache off;\n"
               "  --sign-result KEY also writes the result JSON and signs its EAR token every\n"
               "  time, as the service does; --result-out and --previous are verify's only.\n"
               "  The evidence must verify first, else the exit code is verify's (1, 3).\n\n");
    } else {
        printf("usage: cvmattest %s FILE [options] [--json]\n"
               "  FILE is a bundle (docs/bundle.md), a bare report or quote, hex or base64 text\n"
               "  of one, or - for standard input\n\n",
               verb);
    }
    fputs("  --tee snp|tdx|tpm|azure-snp|azure-tdx\n"
          "                                 default: detected from the bytes\n"
          "  --inform bin|hex|base64        how FILE is encoded (default: detected)\n"
          "  --product milan|genoa|turin    SEV-SNP report v2 (no product field): its product\n"
          "  --collateral DIR               offline collateral (docs/collateral.md file names)\n"
          "  --offline                      never touch the network (the cache is read)\n"
          "  --at RFC3339                   verify as of this time (1970-01-01T00:00:01Z..\n"
          "                                 9999-12-31T23:59:59Z)\n"
          "  --report-data HEX              expected REPORT_DATA (zero-padded to 64 bytes)\n"
          "  --nonce HEX                    TPM quote: expected extraData ('' for none;\n"
          "                                 refused for evidence without a quote)\n"
          "  --trust-root FILE              also trust this root (test evidence only)\n"
          "  --allow-trailing-data          non-zero bytes after the evidence: a warning\n"
          "  --policy FILE                  appraisal policy (docs/policy.md)\n"
          "  --provider NAME=PUB            a provider's registry key (repeatable)\n"
          "  --registry FILE                a signed platform registry (repeatable)\n"
          "  --proof FILE                   an inclusion proof (repeatable)\n"
          "  --lookup-registry NAME=URL     a PPID lookup registry\n"
          "  --log-vkey PROVIDER=VKEY       the provider's registry log key: its registries\n"
          "                                 only from its witnessed log (repeatable;\n"
          "                                 needs --witness-vkey)\n"
          "  --witness-vkey FILE            a witness's verifier key (repeatable)\n"
          "  --witnesses K                  cosignatures required (default: every witness)\n"
          "  --log-proof FILE               a registry's tlog-proof (repeatable)\n"
          "  --log-consistency FILE         a consistency proof between checkpoints (repeatable)\n"
          "  --log-url PROVIDER=DIR|URL     where the provider's log is served: consistency\n"
          "                                 proofs not given are computed from its tiles\n"
          "  --sign-result KEY --result-out TOKEN   the result as a signed EAR (JWT)\n"
          "  --previous RESULT.json         compare with an earlier result (migration)\n"
          "  --collateral-grace SECONDS     accept stale TDX collateral this long, warned\n"
          "  --collateral-max-age SECONDS   refetch cached CRLs, TCB Info, QE Identity older\n"
          "                                 than this when online (default 86400; 0: always)\n"
          "  --kds-url URL  --pcs-url URL   AMD KDS / Intel PCS (or PCCS) base URLs\n"
          "  --cache-dir DIR                collateral cache (default $CVMATTEST_CACHE,\n"
          "                                 else $XDG_CACHE_HOME/cvmattest,\n"
          "                                 else ~/.cache/cvmattest)\n"
          "  --json                         the result JSON (docs/results.md)\n"
          "\nexit codes: 0 verified (affirming or warning), 1 rejected, 2 usage or unreadable\n"
          "            input, 3 could not decide (collateral or a registry unavailable)\n",
          stdout);
}

enum {
    O_JSON = 256,
    O_OFFLINE,
    O_TRAILING,
    O_TEE,
    O_INFORM,
    O_PRODUCT,
    O_COLLATERAL,
    O_KDS,
    O_PCS,
    O_CACHE,
    O_PROVIDER,
    O_REGISTRY,
    O_PROOF,
    O_LOOKUP,
    O_POLICY,
    O_GRACE,
    O_MAX_AGE,
    O_SIGN,
    O_RESULT_OUT,
    O_PREVIOUS,
    O_AT,
    O_REPORT_DATA,
    O_TRUST_ROOT,
    O_NONCE,
    O_SECONDS,
    O_COLD,
    O_THREADS,
    O_LOG_VKEY,
    O_WITNESS_VKEY,
    O_WITNESSES,
    O_LOG_PROOF,
    O_LOG_CONSISTENCY,
    O_LOG_URL,
};

/* The option table of verify (bench adds --seconds and --cold). */
static const struct option verify_options[] = {
        {"json", no_argument, NULL, O_JSON},
        {"offline", no_argument, NULL, O_OFFLINE},
        {"allow-trailing-data", no_argument, NULL, O_TRAILING},
        {"tee", required_argument, NULL, O_TEE},
        {"inform", required_argument, NULL, O_INFORM},
        {"product", required_argument, NULL, O_PRODUCT},
        {"collateral", required_argument, NULL, O_COLLATERAL},
        {"kds-url", required_argument, NULL, O_KDS | CVMA_CLI_URL},
        {"pcs-url", required_argument, NULL, O_PCS | CVMA_CLI_URL},
        {"cache-dir", required_argument, NULL, O_CACHE},
        {"provider", required_argument, NULL, O_PROVIDER | CVMA_CLI_MANY},
        {"registry", required_argument, NULL, O_REGISTRY | CVMA_CLI_MANY},
        {"proof", required_argument, NULL, O_PROOF | CVMA_CLI_MANY},
        {"lookup-registry", required_argument, NULL, O_LOOKUP | CVMA_CLI_MANY},
        {"policy", required_argument, NULL, O_POLICY},
        {"collateral-grace", required_argument, NULL, O_GRACE},
        {"collateral-max-age", required_argument, NULL, O_MAX_AGE},
        {"sign-result", required_argument, NULL, O_SIGN},
        {"result-out", required_argument, NULL, O_RESULT_OUT},
        {"previous", required_argument, NULL, O_PREVIOUS},
        {"at", required_argument, NULL, O_AT},
        {"report-data", required_argument, NULL, O_REPORT_DATA},
        {"nonce", required_argument, NULL, O_NONCE | CVMA_CLI_EMPTY},
        {"trust-root", required_argument, NULL, O_TRUST_ROOT | CVMA_CLI_MANY},
        {"seconds", required_argument, NULL, O_SECONDS},
        {"cold", no_argument, NULL, O_COLD},
        {"threads", required_argument, NULL, O_THREADS},
        {"log-vkey", required_argument, NULL, O_LOG_VKEY | CVMA_CLI_MANY},
        {"witness-vkey", required_argument, NULL, O_WITNESS_VKEY | CVMA_CLI_MANY},
        {"witnesses", required_argument, NULL, O_WITNESSES},
        {"log-proof", required_argument, NULL, O_LOG_PROOF | CVMA_CLI_MANY},
        {"log-consistency", required_argument, NULL, O_LOG_CONSISTENCY | CVMA_CLI_MANY},
        {"log-url", required_argument, NULL, O_LOG_URL | CVMA_CLI_MANY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* see opts.h */
int cvma_cli_snp_product(const char *name)
{
    static const char *const names[] = {"milan", "genoa", "turin"}; /* enum cvma_snp_product 1.. */
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return (int)i + 1;
        }
    }
    return 0;
}

static int push(const char *verb, const char *opt, const char **list, size_t *n, const char *val)
{
    if (*n >= CVMA_CLI_MAX_LIST) {
        return usage_error(verb, "too many %s options (max %d)", opt, CVMA_CLI_MAX_LIST);
    }
    list[(*n)++] = val;
    return 0;
}

int cvma_cli_verify_parse(int argc, char **argv, bool bench, struct cvma_cli_verify *cv)
{
    const char *verb = argv[0];
    int c, rc;

    memset(cv, 0, sizeof *cv);
    cv->seconds = 3.0;
    cv->threads = 1;
    cv->cfg.trust_root_files = cv->roots;
    cv->cfg.providers = cv->providers;
    cv->cfg.registries = cv->registries;
    cv->cfg.proofs = cv->proofs;
    cv->cfg.lookup_registries = cv->lookups;
    cv->cfg.log_keys = cv->log_keys;
    cv->cfg.witness_keys = cv->witness_keys;
    cv->cfg.log_proofs = cv->log_proofs;
    cv->cfg.log_consistency = cv->log_consistency;
    cv->cfg.log_urls = cv->log_urls;
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, verify_options)) != -1) {
        const char *val = optarg;
        rc = 0;
        switch (c) {
        case 'h':
            help(verb, bench);
            return -1;
        case O_JSON:
            cv->json = true;
            break;
        case O_OFFLINE:
            cv->cfg.offline = true;
            break;
        case O_TRAILING:
            cv->cfg.allow_trailing_data = true;
            break;
        case O_TEE:
            if (strcmp(val, "snp") == 0) {
                cv->req.kind = CVMA_KIND_SNP;
            } else if (strcmp(val, "tdx") == 0) {
                cv->req.kind = CVMA_KIND_TDX;
            } else if (strcmp(val, "tpm") == 0) {
                cv->req.kind = CVMA_KIND_TPM;
            } else if (strcmp(val, "azure-snp") == 0) {
                cv->req.kind = CVMA_KIND_AZURE_SNP;
            } else if (strcmp(val, "azure-tdx") == 0) {
                cv->req.kind = CVMA_KIND_AZURE_TDX;
            } else {
                return usage_error(
                        verb, "--tee must be snp, tdx, tpm, azure-snp or azure-tdx, not '%s'", val);
            }
            break;
        case O_INFORM:
            if (strcmp(val, "bin") == 0) {
                cv->inform = CVMA_INFORM_BIN;
            } else if (strcmp(val, "hex") == 0) {
                cv->inform = CVMA_INFORM_HEX;
            } else if (strcmp(val, "base64") == 0) {
                cv->inform = CVMA_INFORM_BASE64;
            } else {
                return usage_error(verb, "--inform must be bin, hex or base64, not '%s'", val);
            }
            break;
        case O_PRODUCT:
            /* SEV-SNP: the product of a report that names none (v2 has no CPUID bytes). */
            if ((cv->cfg.snp_product = cvma_cli_snp_product(val)) == 0) {
                return usage_error(verb, "--product must be milan, genoa or turin, not '%s'", val);
            }
            break;
        case O_COLLATERAL:
            cv->cfg.collateral_dir = val;
            break;
        case O_KDS:
            cv->cfg.kds_base_url = val;
            break;
        case O_PCS:
            cv->cfg.pcs_base_url = val;
            break;
        case O_CACHE:
            cv->cfg.cache_dir = val;
            break;
        case O_PROVIDER:
            rc = push(verb, "--provider", cv->providers, &cv->cfg.n_providers, val);
            break;
        case O_REGISTRY:
            rc = push(verb, "--registry", cv->registries, &cv->cfg.n_registries, val);
            break;
        case O_PROOF:
            rc = push(verb, "--proof", cv->proofs, &cv->cfg.n_proofs, val);
            break;
        case O_LOOKUP:
            rc = push(verb, "--lookup-registry", cv->lookups, &cv->cfg.n_lookup_registries, val);
            break;
        case O_LOG_VKEY:
            rc = push(verb, "--log-vkey", cv->log_keys, &cv->cfg.n_log_keys, val);
            break;
        case O_WITNESS_VKEY:
            rc = push(verb, "--witness-vkey", cv->witness_keys, &cv->cfg.n_witness_keys, val);
            break;
        case O_WITNESSES: {
            uint64_t k;
            if (!cvma_cli_uint(val, 1, CVMA_CLI_MAX_LIST, &k)) {
                return usage_error(verb, "--witnesses wants 1..%d, not '%s'", CVMA_CLI_MAX_LIST,
                                   val);
            }
            cv->cfg.witnesses_required = (size_t)k;
            break;
        }
        case O_LOG_PROOF:
            rc = push(verb, "--log-proof", cv->log_proofs, &cv->cfg.n_log_proofs, val);
            break;
        case O_LOG_CONSISTENCY:
            rc = push(verb, "--log-consistency", cv->log_consistency, &cv->cfg.n_log_consistency,
                      val);
            break;
        case O_LOG_URL:
            rc = push(verb, "--log-url", cv->log_urls, &cv->cfg.n_log_urls, val);
            break;
        case O_TRUST_ROOT:
            rc = push(verb, "--trust-root", cv->roots, &cv->cfg.n_trust_root_files, val);
            break;
        case O_POLICY:
            cv->policy.path = val;
            cv->cfg.policies = &cv->policy;
            cv->cfg.n_policies = 1;
            break;
        case O_GRACE: {
            uint64_t g;
            if (!cvma_cli_uint(val, 0, 366ULL * 86400, &g)) {
                return usage_error(verb, "--collateral-grace wants seconds (0..31622400), not '%s'",
                                   val);
            }
            cv->cfg.collateral_grace_seconds = (int64_t)g;
            cv->cfg.collateral_grace_given = true;
            break;
        }
        case O_MAX_AGE: {
            uint64_t m;
            if (!cvma_cli_uint(val, 0, 366ULL * 86400, &m)) {
                return usage_error(
                        verb, "--collateral-max-age wants seconds (0..31622400), not '%s'", val);
            }
            cv->cfg.collateral_max_age_seconds = (int64_t)m;
            cv->cfg.collateral_max_age_given = true;
            break;
        }
        case O_SIGN:
            cv->cfg.result_key_file = val;
            break;
        case O_RESULT_OUT:
            cv->result_out = val;
            break;
        case O_PREVIOUS:
            cv->previous = val;
            break;
        case O_AT:
            if (!cvma_time_parse_rfc3339(val, &cv->req.at)) {
                return usage_error(verb,
                                   "--at wants an RFC 3339 time such as 2025-01-01T00:00:00Z, "
                                   "not '%s'",
                                   val);
            }
            /* The request's at 0 means the clock's time: the epoch itself is refused rather
             * than silently verified as of now. */
            if (cv->req.at == 0) {
                return usage_error(verb,
                                   "--at '%s' is the epoch, which a request reads as now: give "
                                   "1970-01-01T00:00:01Z or later",
                                   val);
            }
            break;
        case O_REPORT_DATA: {
            size_t n = 0;
            if (!cvma_hex_decode(val, cv->req.report_data, sizeof cv->req.report_data, &n)) {
                return usage_error(verb, "--report-data wants up to 64 bytes of hex, not '%s'",
                                   val);
            }
            cv->req.has_report_data = true;
            break;
        }
        case O_NONCE:
            cv->req.nonce_len = 0;
            if (val[0] != '\0' &&
                !cvma_hex_decode(val, cv->req.nonce, sizeof cv->req.nonce, &cv->req.nonce_len)) {
                return usage_error(verb, "--nonce wants up to 64 bytes of hex, not '%s'", val);
            }
            cv->req.has_nonce = true;
            break;
        case O_SECONDS: {
            char *end = NULL;
            if (!bench) {
                return usage_error(verb, "unknown option '--seconds'");
            }
            /* Decimal digits with at most one point, nothing strtod would also take (a sign,
             * space, hex, an exponent, nan, inf). */
            size_t digits = strspn(val, "0123456789"), frac = 0;
            if (val[digits] == '.') {
                frac = 1 + strspn(val + digits + 1, "0123456789");
            }
            errno = 0;
            cv->seconds = digits > 0 && val[digits + frac] == '\0' ? strtod(val, &end) : NAN;
            /* isfinite: NaN fails every comparison, and --json would print it (not JSON) */
            if (errno != 0 || end == val || end == NULL || *end != '\0' || !isfinite(cv->seconds) ||
                cv->seconds <= 0 || cv->seconds > 3600) {
                return usage_error(verb, "--seconds wants a number in (0, 3600], not '%s'", val);
            }
            break;
        }
        case O_THREADS: {
            uint64_t t;
            if (!bench) {
                return usage_error(verb, "unknown option '--threads'");
            }
            if (!cvma_cli_uint(val, 1, 64, &t)) {
                return usage_error(verb, "--threads wants a number in 1..64, not '%s'", val);
            }
            cv->threads = (unsigned)t;
            break;
        }
        case O_COLD:
            if (!bench) {
                return usage_error(verb, "unknown option '--cold'");
            }
            cv->cold = true;
            cv->cfg.no_cache = true;
            break;
        default:
            return cvma_cli_bad_option(verb, c, argv);
        }
        if (rc != 0) {
            return rc;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (cv->file == NULL) {
            cv->file = argv[i];
        } else {
            return usage_error(verb, "one evidence file only; extra argument '%s'", argv[i]);
        }
    }
    if (cv->file == NULL) {
        return usage_error(verb, "no evidence file given");
    }
    if (bench && cv->result_out != NULL) {
        return usage_error(verb, "bench writes no token; --sign-result KEY alone signs one per "
                                 "verification");
    }
    if (bench && cv->previous != NULL) {
        return usage_error(verb, "bench compares with no earlier result: --previous is for "
                                 "verify");
    }
    if (!bench && (cv->cfg.result_key_file == NULL) != (cv->result_out == NULL)) {
        return usage_error(verb, "--sign-result KEY and --result-out TOKEN go together");
    }
    /* What binds a platform (providers, registries, the registry log) is judged by the
     * library when the verifier is made (cvma_verifier_new): one rule for every caller. */
    return 0;
}

/* --result-out: its directory must exist and be writable before anything is verified. */
static bool out_dir_writable(const char *path)
{
    char *copy = strdup(path);
    bool ok = false;
    if (copy != NULL) {
        const char *dir = dirname(copy);
        struct stat st;
        ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK) == 0;
        free(copy);
    }
    return ok;
}

/* Whether path is the file tok describes (same device and inode). */
static bool same_file(const struct stat *tok, const char *path)
{
    struct stat sb;
    return path != NULL && stat(path, &sb) == 0 && sb.st_dev == tok->st_dev &&
           sb.st_ino == tok->st_ino;
}

/* "NAME=FILE" options: the file. */
static const char *after_eq(const char *s)
{
    const char *eq = strchr(s, '=');
    return eq != NULL ? eq + 1 : s;
}

/*
 * The input file --result-out would replace (writing the token over the --sign-result key,
 * the evidence, a policy...), as "--option 'path'" in buf, or NULL when it names none.
 */
static const char *result_out_input(const struct cvma_cli_verify *cv, const struct stat *tok,
                                    char *buf, size_t buflen)
{
    const struct cvma_verifier_config *c = &cv->cfg;
    struct {
        const char *opt;
        const char *const *list;
        size_t n;
        bool named; /* NAME=FILE */
    } lists[] = {
            {"--trust-root", c->trust_root_files, c->n_trust_root_files, false},
            {"--provider", c->providers, c->n_providers, true},
            {"--registry", c->registries, c->n_registries, false},
            {"--proof", c->proofs, c->n_proofs, false},
            {"--log-vkey", c->log_keys, c->n_log_keys, true},
            {"--witness-vkey", c->witness_keys, c->n_witness_keys, false},
            {"--log-proof", c->log_proofs, c->n_log_proofs, false},
            {"--log-consistency", c->log_consistency, c->n_log_consistency, false},
    };
    const struct {
        const char *opt, *path;
    } one[] = {
            {"evidence", strcmp(cv->file, "-") == 0 ? NULL : cv->file},
            {"--sign-result", c->result_key_file},
            {"--policy", c->n_policies > 0 ? c->policies[0].path : NULL},
            {"--previous", cv->previous},
    };
    struct stat sb;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(one); i++) {
        if (same_file(tok, one[i].path)) {
            snprintf(buf, buflen, "%s '%s'", one[i].opt, one[i].path);
            return buf;
        }
    }
    if (strcmp(cv->file, "-") == 0 && fstat(STDIN_FILENO, &sb) == 0 && sb.st_dev == tok->st_dev &&
        sb.st_ino == tok->st_ino) {
        snprintf(buf, buflen, "the evidence read from standard input");
        return buf;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(lists); i++) {
        for (size_t k = 0; k < lists[i].n; k++) {
            const char *path = lists[i].named ? after_eq(lists[i].list[k]) : lists[i].list[k];
            if (same_file(tok, path)) {
                snprintf(buf, buflen, "%s '%s'", lists[i].opt, path);
                return buf;
            }
        }
    }
    /* The collateral directory's files (docs/collateral.md names). */
    DIR *d = c->collateral_dir != NULL ? opendir(c->collateral_dir) : NULL;
    const char *hit = NULL;
    if (d != NULL) {
        struct dirent *e;
        char path[4096];
        while (hit == NULL && (e = readdir(d)) != NULL) {
            if (!cvma_bundle_collateral_name_ok(e->d_name)) {
                continue;
            }
            int k = snprintf(path, sizeof path, "%s/%s", c->collateral_dir, e->d_name);
            if (k > 0 && (size_t)k < sizeof path && same_file(tok, path)) {
                snprintf(buf, buflen, "--collateral file '%s'", path);
                hit = buf;
            }
        }
        closedir(d);
    }
    return hit;
}

/* Whether the resolved path is the resolved directory dir or lies beneath it. */
static bool path_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/') {
        return true;
    }
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * Whether TOKEN lies inside the directory dir (any depth, links resolved): the token's
 * directory, or the file a TOKEN that is there resolves to.
 */
static bool token_inside(const char *tok_dir, const char *tok_file, const char *dir)
{
    char *rdir = realpath(dir, NULL);
    bool in;
    if (rdir == NULL) {
        return false; /* not there, or not searchable: TOKEN's directory was, so not in it */
    }
    in = path_within(tok_dir, rdir) || (tok_file != NULL && path_within(tok_file, rdir));
    free(rdir);
    return in;
}

/*
 * The input directory TOKEN lies inside, as "inside --option 'dir'" in buf, or NULL when it
 * lies in none: the collateral cache (also where registry rollback state is kept; read with
 * --offline too), --log-url directories of log tiles, and a collateral file name in
 * --collateral. The token, or the removal of an earlier one, would add, replace or remove a
 * file there that later verifications read.
 */
static const char *result_out_input_dir(const struct cvma_cli_verify *cv, char *buf, size_t buflen)
{
    const struct cvma_verifier_config *c = &cv->cfg;
    const char *hit = NULL;
    char *copy = strdup(cv->result_out);
    char *copy2 = strdup(cv->result_out);
    char *tok_dir = copy != NULL ? realpath(dirname(copy), NULL) : NULL;
    const char *base = copy2 != NULL ? basename(copy2) : "";
    char *tok_file = realpath(cv->result_out, NULL); /* NULL when not there */
    char *rdir = NULL;
    struct cvma_cache cache = {0};

    if (tok_dir == NULL || copy2 == NULL) {
        snprintf(buf, buflen, "in a directory that cannot be resolved");
        hit = buf;
        goto out;
    }
    /* --collateral is read by file name, in the directory itself (docs/collateral.md): a
     * token under such a name there would be read as collateral by the next run. Other
     * names are not read, and the file the name is there is result_out_input's. */
    if (c->collateral_dir != NULL && (rdir = realpath(c->collateral_dir, NULL)) != NULL &&
        strcmp(tok_dir, rdir) == 0 && cvma_bundle_collateral_name_ok(base)) {
        snprintf(buf, buflen, "a collateral file name in --collateral '%s'", c->collateral_dir);
        hit = buf;
        goto out;
    }
    /* cvma_cache_init names the directory the verifier would use; it creates nothing. */
    if (cvma_cache_init(&cache, c->cache_dir) == CVMA_OK &&
        token_inside(tok_dir, tok_file, cache.dir)) {
        if (c->cache_dir != NULL) {
            snprintf(buf, buflen, "inside --cache-dir '%s'", cache.dir);
        } else {
            snprintf(buf, buflen, "inside the collateral cache '%s' (no --cache-dir given)",
                     cache.dir);
        }
        hit = buf;
        goto out;
    }
    for (size_t i = 0; i < c->n_log_urls; i++) {
        const char *src = after_eq(c->log_urls[i]);
        if (!cvma_tlog_src_is_url(src) && token_inside(tok_dir, tok_file, src)) {
            snprintf(buf, buflen, "inside --log-url '%s'", c->log_urls[i]);
            hit = buf;
            goto out;
        }
    }
out:
    cvma_cache_cleanup(&cache);
    free(rdir);
    free(tok_file);
    free(tok_dir);
    free(copy2);
    free(copy);
    return hit;
}

/*
 * --result-out TOKEN: checked before anything is verified, and an earlier TOKEN removed, so
 * that TOKEN exists after the command only when this run wrote it (any verdict), never a
 * token of an earlier run beside an exit 2.
 */
static int result_out_prepare(const struct cvma_cli_verify *cv, const char *verb)
{
    char what[4200];
    struct stat sb;
    if (!out_dir_writable(cv->result_out)) {
        return usage_error(verb,
                           "--result-out '%s': its directory does not exist or is not "
                           "writable",
                           cv->result_out);
    }
    if (stat(cv->result_out, &sb) == 0) {
        /* The token replaces a file that is there: one that is not a regular file (a
         * directory, a FIFO, a device) could not be replaced, and the verdict would be
         * printed first. Not there: a dangling link is replaced, not followed. */
        if (!S_ISREG(sb.st_mode)) {
            return usage_error(verb, "--result-out '%s' is there and is not a regular file",
                               cv->result_out);
        }
        if (result_out_input(cv, &sb, what, sizeof what) != NULL) {
            return usage_error(verb, "--result-out '%s' is %s: the token would replace an input",
                               cv->result_out, what);
        }
    }
    /* Also a TOKEN that is not there yet: writing it would add a file to the directory. */
    if (result_out_input_dir(cv, what, sizeof what) != NULL) {
        return usage_error(verb, "--result-out '%s' is %s: the token would change an input",
                           cv->result_out, what);
    }
    if (unlink(cv->result_out) != 0 && errno != ENOENT) {
        return usage_error(verb, "--result-out '%s': cannot remove the earlier token: %s",
                           cv->result_out, strerror(errno));
    }
    return 0;
}

int cvma_cli_verifier_new(const struct cvma_cli_verify *cv, const char *verb,
                          struct cvma_verifier **out)
{
    char err[768];
    enum cvma_status st;
    int rc;
    if (cv->result_out != NULL && (rc = result_out_prepare(cv, verb)) != 0) {
        return rc;
    }
    st = cvma_verifier_new(&cv->cfg, out, err, sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest %s: %s\n", verb, err);
        return 2;
    }
    return 0;
}

int cvma_cli_evidence_file(const char *verb, const char *file, enum cvma_inform inform,
                           struct cvma_evidence **out)
{
    char err[512];
    enum cvma_status st = cvma_evidence_from_file(file, inform, out, err, sizeof err);
    if (st != CVMA_OK) {
        /* The file quoted as given (docs/cli.md); a read error (CVMA_E_IO) names it itself. */
        cvma_cli_err("cvmattest %s: %s%s%s%s\n", verb, st == CVMA_E_IO ? "" : "'",
                     st == CVMA_E_IO ? "" : file,
                     st == CVMA_E_IO ? "" : "': ", st == CVMA_E_NOMEM ? "out of memory" : err);
        return 2;
    }
    return 0;
}

int cvma_cli_evidence(const struct cvma_cli_verify *cv, const char *verb,
                      struct cvma_evidence **out)
{
    return cvma_cli_evidence_file(verb, cv->file, cv->inform, out);
}
