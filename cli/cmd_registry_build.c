/*
 * cvmattest registry build: sign a registry of the platforms an entries file lists, and
 * optionally write the inclusion proof of every platform (docs/registry.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "crypto/jws.h"

const char cvma_regcli_build_usage[] =
        "  build --provider NAME --key NAME.key --entries FILE --version N --valid-days D\n"
        "        --out REG.jws [--include-entries | --root-only] [--proofs-dir DIR]\n"
        "        [--issued-at RFC3339]   (entries are included unless --root-only)\n"
        "        FILE: one platform a line: 'amd chip_id <128 hex>', 'intel ppid <32 hex>',\n"
        "        'amd vlek_csp <name>', each followed by optional key=value labels\n";

/* The longest file name a proof may have: NAME_MAX of Linux file systems. */
#define PROOF_NAME_MAX 255

/* Before anything is signed: DIR is there (made when missing) and a directory, and every
 * platform's proof can be named <id>.json (a cspID of 251 to 253 characters cannot: the name
 * would be over PROOF_NAME_MAX bytes). EXIT_OK, or EXIT_USAGE said on stderr. */
static int proofs_dir_ready(const char *dir, const struct cvma_reg_entries *e)
{
    struct stat sb;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        cvma_cli_err("cvmattest registry build: cannot create '%s': %s\n", dir, strerror(errno));
        return EXIT_USAGE;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cvma_cli_err("cvmattest registry build: '%s' is not a directory\n", dir);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < e->n; i++) {
        char id[2 * CVMA_REG_CHIP_ID_LEN + CVMA_REG_CSP_MAX + 8];
        cvma_reg_entry_id_string(&e->v[i], id, sizeof id - 5);
        if (strlen(id) + strlen(".json") > PROOF_NAME_MAX) {
            cvma_cli_err("cvmattest registry build: --proofs-dir: the proof of cspID '%.40s...' "
                         "(%zu characters) would be named over the %d bytes a file name may "
                         "have; build without --proofs-dir and use registry prove --out\n",
                         id, strlen(id), PROOF_NAME_MAX);
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

static int write_proofs(const char *dir, const char *provider, const struct cvma_reg_entries *e,
                        const struct cvma_merkle *t)
{
    for (size_t i = 0; i < e->n; i++) {
        char id[2 * CVMA_REG_CHIP_ID_LEN + CVMA_REG_CSP_MAX + 8], *path, *s = NULL;
        json_t *pr = cvma_reg_proof_to_json(provider, e, t, i);
        bool ok;
        /* Ids are hex or [A-Za-z0-9._-] names starting with an alphanumeric: safe names. */
        cvma_reg_entry_id_string(&e->v[i], id, sizeof id - 5);
        memcpy(id + strlen(id), ".json", 6);
        path = cvma_path_join(dir, id);
        ok = pr != NULL && path != NULL &&
             (s = json_dumps(pr, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL;
        if (ok) {
            size_t n = strlen(s);
            s[n] = '\n'; /* replaces the NUL: the file ends with a newline */
            /* Atomic (a symlink is replaced, never followed), but no fsync per proof: a fleet
             * has millions, and they can be made again. */
            ok = cvma_file_write_atomic_nosync(path, (const uint8_t *)s, n + 1, 0644) == CVMA_OK;
        }
        if (!ok) {
            cvma_cli_err("cvmattest registry build: cannot write proof '%s': %s\n",
                         path ? path : id, strerror(errno));
        }
        free(s);
        free(path);
        json_decref(pr);
        if (!ok) {
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

int cvma_regcli_build(int argc, char **argv)
{
    enum {
        O_INCLUDE = 256,
        O_ROOT_ONLY,
        O_PROVIDER,
        O_KEY,
        O_ENTRIES,
        O_VERSION,
        O_DAYS,
        O_OUT,
        O_PROOFS,
        O_IAT
    };
    static const struct option opts[] = {
            {"include-entries", no_argument, NULL, O_INCLUDE | CVMA_CLI_ONE_OF(1)},
            {"root-only", no_argument, NULL, O_ROOT_ONLY | CVMA_CLI_ONE_OF(1)},
            {"provider", required_argument, NULL, O_PROVIDER},
            {"key", required_argument, NULL, O_KEY},
            {"entries", required_argument, NULL, O_ENTRIES},
            {"version", required_argument, NULL, O_VERSION},
            {"valid-days", required_argument, NULL, O_DAYS},
            {"out", required_argument, NULL, O_OUT},
            {"proofs-dir", required_argument, NULL, O_PROOFS},
            {"issued-at", required_argument, NULL, O_IAT},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *provider = NULL, *keyf = NULL, *entries_f = NULL, *out = NULL, *proofs = NULL;
    const char *ver_s = NULL, *days_s = NULL, *iat_s = NULL;
    bool include = true; /* the entries, unless --root-only */
    uint64_t version = 0, days = 0;
    time_t iat = time(NULL);
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    struct cvma_reg_build_opts o;
    EVP_PKEY *key = NULL;
    char *jws = NULL, err[400], root_hex[65], until[32];
    uint8_t root[32];
    int rc = EXIT_USAGE, c;
    enum cvma_status st;

    cvma_reg_entries_init(&e);
    memset(&t, 0, sizeof t);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_INCLUDE:
            include = true;
            break;
        case O_ROOT_ONLY:
            include = false;
            break;
        case O_PROVIDER:
            provider = optarg;
            break;
        case O_KEY:
            keyf = optarg;
            break;
        case O_ENTRIES:
            entries_f = optarg;
            break;
        case O_VERSION:
            ver_s = optarg;
            break;
        case O_DAYS:
            days_s = optarg;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_PROOFS:
            proofs = optarg;
            break;
        case O_IAT:
            iat_s = optarg;
            break;
        case 'h':
            cvma_regcli_help(cvma_regcli_build_usage);
            return EXIT_OK;
        default:
            return cvma_regcli_bad_option("build", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_regcli_usage_error("build",
                                       "takes no operands (--entries FILE, --out REG.jws)");
    }
    if (provider == NULL || keyf == NULL || entries_f == NULL || ver_s == NULL || days_s == NULL ||
        out == NULL) {
        return cvma_regcli_usage_error("build",
                                       "--provider, --key, --entries, --version, --valid-days and "
                                       "--out are required");
    }
    const char *const ins[] = {keyf, entries_f};
    const char *const ins_opt[] = {"--key", "--entries"};
    int orc = cvma_cli_out_file_check("registry build", "--out", out, ins, ins_opt, 2);
    if (orc != 0) {
        return orc;
    }
    if (!cvma_reg_provider_name_ok(provider)) {
        return cvma_regcli_usage_error("build",
                                       "--provider: 1..64 characters of [A-Za-z0-9._-], starting "
                                       "with a letter or digit");
    }
    if (!cvma_cli_uint(ver_s, 1, 9007199254740991ULL, &version)) {
        return cvma_regcli_usage_error("build", "--version must be an integer 1..2^53-1");
    }
    if (!cvma_cli_uint(days_s, 1, 3650, &days)) {
        return cvma_regcli_usage_error("build", "--valid-days must be an integer 1..3650");
    }
    if (iat_s != NULL && !cvma_time_parse_rfc3339(iat_s, &iat)) {
        return cvma_regcli_usage_error("build", "--issued-at must be an RFC 3339 time");
    }
    if ((key = cvma_regcli_load_key("build", keyf, true)) == NULL) {
        goto out;
    }
    if ((rc = cvma_regcli_load_entries("build", entries_f, &e)) != EXIT_OK) {
        goto out;
    }
    if (proofs != NULL && (rc = proofs_dir_ready(proofs, &e)) != EXIT_OK) {
        goto out;
    }
    rc = EXIT_USAGE;
    o.provider = provider;
    o.version = version;
    o.iat = (int64_t)iat;
    o.valid_seconds = (int64_t)days * 86400;
    o.include_entries = include;
    st = cvma_registry_build(&o, &e, key, &jws, &t, err, sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest registry build: %s\n", st == CVMA_E_NOMEM ? "out of memory" : err);
        goto out;
    }
    /* The proofs first: a failed run never leaves a new registry without its proofs. */
    if (proofs != NULL && (rc = write_proofs(proofs, provider, &e, &t)) != EXIT_OK) {
        goto out;
    }
    rc = EXIT_USAGE;
    {
        size_t n = strlen(jws);
        char *line = malloc(n + 2);
        bool ok = line != NULL;
        if (ok) {
            memcpy(line, jws, n);
            line[n] = '\n';
            ok = cvma_file_write_atomic(out, (const uint8_t *)line, n + 1) == CVMA_OK;
        }
        free(line);
        if (!ok) {
            cvma_cli_err("cvmattest registry build: cannot write '%s': %s\n", out, strerror(errno));
            goto out;
        }
    }
    cvma_merkle_root(&t, root);
    cvma_hex_encode(root, 32, root_hex, sizeof root_hex);
    cvma_time_format(iat + (time_t)days * 86400, until, sizeof until);
    printf("registry %s: provider %s, version %" PRIu64 ", %zu platforms, merkle_root %s, "
           "valid until %s%s%s%s\n",
           out, provider, version, e.n, root_hex, until, include ? ", entries included" : "",
           proofs ? ", proofs in " : "", proofs ? proofs : "");
    rc = EXIT_OK;
out:
    free(jws);
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    EVP_PKEY_free(key);
    return rc;
}
