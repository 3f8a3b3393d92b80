/*
 * cvmattest registry keygen|build|prove|check|bench: the provider side of platform
 * registries, and a standalone check of a registry (docs/registry.md).
 *
 * Exit codes: 0 done / valid, 1 a registry or proof that does not verify, an
 * expired registry, an id that is not listed; 2 usage error, malformed entries file,
 * unreadable input or output.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmds.h"
#include "common/hex.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "common/verdict.h"
#include "crypto/jws.h"
#include "registry/registry.h"

#define EXIT_OK       0
#define EXIT_REJECTED 1
#define EXIT_USAGE    2
#define KEY_FILE_MAX  ((size_t)64 << 10)
#define MAX_PROOFS    64

static void registry_usage(FILE *f)
{
    fputs("usage: cvmattest registry COMMAND [options]   (formats: docs/registry.md)\n"
          "  keygen --out NAME [--alg ES256|ES384]\n"
          "        writes NAME.key (private, mode 0600; never overwritten) and NAME.pub\n"
          "  build --provider NAME --key NAME.key --entries FILE --version N --valid-days D\n"
          "        --out REG.jws [--include-entries | --root-only] [--proofs-dir DIR]\n"
          "        [--issued-at RFC3339]   (entries are included unless --root-only)\n"
          "        FILE: one platform a line: 'amd chip_id <128 hex>', 'intel ppid <32 hex>',\n"
          "        'amd vlek_csp <name>', each followed by optional key=value labels\n"
          "  prove --entries FILE --id ID --out PROOF.json [--provider NAME | --registry REG.jws]\n"
          "        the inclusion proof of one platform (ID: hex chip_id/ppid, or cspID name)\n"
          "  check REG.jws --pub NAME.pub [--at RFC3339] [--proof PROOF.json]... [--quiet]\n"
          "        verifies signature and validity, prints the payload (exit 1 when invalid)\n"
          "  bench [--entries N] [--proof-checks K] [--json]\n"
          "        builds and signs a registry of N entries (default 1000000), checks proofs\n",
          f);
}

/* "--name VALUE" or "--name=VALUE"; *val NULL when the value is missing. */
static bool opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) {
        return false;
    }
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return true;
    }
    if (argv[*i][n] != '\0') {
        return false;
    }
    *val = *i + 1 < argc ? argv[++*i] : NULL;
    return true;
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;
    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static int usage_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "cvmattest registry %s: %s (see 'cvmattest registry help')\n", cmd, msg);
    return EXIT_USAGE;
}

/* Writes a whole file with the given mode; O_EXCL when exclusive; fsync when durable. */
static bool write_file(const char *path, const void *p, size_t len, mode_t mode, bool exclusive,
                       bool durable)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), mode);
    size_t off = 0;
    if (fd < 0) {
        return false;
    }
    while (off < len) {
        ssize_t n = write(fd, (const char *)p + off, len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            close(fd);
            return false;
        }
        off += (size_t)n;
    }
    if (durable && fsync(fd) != 0) {
        close(fd);
        return false;
    }
    return close(fd) == 0;
}

static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s != NULL) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

static EVP_PKEY *load_key(const char *cmd, const char *path, bool private_key)
{
    struct cvma_buf b;
    EVP_PKEY *k;
    if (cvma_file_read(path, KEY_FILE_MAX, &b) != CVMA_OK) {
        fprintf(stderr, "cvmattest registry %s: cannot read %s\n", cmd, path);
        return NULL;
    }
    k = cvma_jws_key_from_pem(b.p, b.len, private_key);
    OPENSSL_cleanse(b.p, b.len);
    cvma_buf_free(&b);
    if (k == NULL) {
        fprintf(stderr,
                "cvmattest registry %s: %s is not an unencrypted PEM %s key on P-256 or "
                "P-384\n",
                cmd, path, private_key ? "private" : "public");
    }
    return k;
}

/* Reads and parses an entries file; exit code (0 on success). */
static int load_entries(const char *cmd, const char *path, struct cvma_reg_entries *e)
{
    struct cvma_buf b;
    char err[400];
    enum cvma_status st;
    cvma_reg_entries_init(e);
    if (cvma_file_read(path, CVMA_REG_ENTRIES_FILE_MAX, &b) != CVMA_OK) {
        fprintf(stderr, "cvmattest registry %s: cannot read entries file %s\n", cmd, path);
        return EXIT_USAGE;
    }
    st = cvma_reg_entries_parse((const char *)b.p, b.len, path, e, err, sizeof err);
    cvma_buf_free(&b);
    if (st == CVMA_OK) {
        st = cvma_reg_entries_sort(e, path, err, sizeof err);
    }
    if (st != CVMA_OK) {
        fprintf(stderr, "cvmattest registry %s: %s\n", cmd,
                st == CVMA_E_NOMEM ? "out of memory" : err);
        cvma_reg_entries_cleanup(e);
        return EXIT_USAGE;
    }
    if (e->n == 0) {
        fprintf(stderr, "cvmattest registry %s: %s lists no platform\n", cmd, path);
        cvma_reg_entries_cleanup(e);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* ---------- keygen ---------- */

static int cmd_keygen(int argc, char **argv)
{
    const char *out = NULL, *alg_s = "ES256", *val;
    enum cvma_jws_alg alg = CVMA_JWS_ES256;
    EVP_PKEY *key = NULL;
    struct cvma_buf priv = {0}, pub = {0};
    char *kpath = NULL, *ppath = NULL;
    uint8_t thumb[32];
    char kid[65];
    int rc = EXIT_USAGE;

    for (int i = 1; i < argc; i++) {
        if (opt_value(argc, argv, &i, "--out", &val)) {
            out = val;
        } else if (opt_value(argc, argv, &i, "--alg", &val)) {
            alg_s = val;
        } else {
            return usage_error("keygen", "unknown option");
        }
        if (val == NULL) {
            return usage_error("keygen", "option without a value");
        }
    }
    if (out == NULL || out[0] == '\0') {
        return usage_error("keygen", "--out NAME is required");
    }
    if (strcmp(alg_s, "ES256") == 0) {
        alg = CVMA_JWS_ES256;
    } else if (strcmp(alg_s, "ES384") == 0) {
        alg = CVMA_JWS_ES384;
    } else {
        return usage_error("keygen", "--alg must be ES256 or ES384");
    }
    if ((kpath = concat(out, ".key")) == NULL || (ppath = concat(out, ".pub")) == NULL ||
        (key = cvma_jws_key_generate(alg)) == NULL || !cvma_jws_key_to_pem(key, true, &priv) ||
        !cvma_jws_key_to_pem(key, false, &pub) || !cvma_jws_key_thumbprint(key, thumb)) {
        fprintf(stderr, "cvmattest registry keygen: key generation failed\n");
        goto out;
    }
    if (!write_file(kpath, priv.p, priv.len, 0600, true, true)) {
        fprintf(stderr, "cvmattest registry keygen: cannot create %s: %s%s\n", kpath,
                strerror(errno), errno == EEXIST ? " (a key is never overwritten)" : "");
        goto out;
    }
    if (!write_file(ppath, pub.p, pub.len, 0644, false, true)) {
        fprintf(stderr, "cvmattest registry keygen: cannot write %s: %s\n", ppath, strerror(errno));
        goto out;
    }
    cvma_hex_encode(thumb, 32, kid, sizeof kid);
    printf("wrote %s (private, mode 0600) and %s (%s); key id %s\n", kpath, ppath,
           cvma_jws_alg_name(alg), kid);
    rc = EXIT_OK;
out:
    if (priv.p != NULL) {
        OPENSSL_cleanse(priv.p, priv.len);
    }
    cvma_buf_free(&priv);
    cvma_buf_free(&pub);
    EVP_PKEY_free(key);
    free(kpath);
    free(ppath);
    return rc;
}

/* ---------- build ---------- */

static int write_proofs(const char *dir, const char *provider, const struct cvma_reg_entries *e,
                        const struct cvma_merkle *t)
{
    struct stat sb;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cvmattest registry build: cannot create %s: %s\n", dir, strerror(errno));
        return EXIT_USAGE;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "cvmattest registry build: %s is not a directory\n", dir);
        return EXIT_USAGE;
    }
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
            /* No fsync per proof: a fleet has millions, and they can be made again. */
            ok = write_file(path, s, n + 1, 0644, false, false);
        }
        if (!ok) {
            fprintf(stderr, "cvmattest registry build: cannot write proof %s\n", path ? path : id);
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

static int cmd_build(int argc, char **argv)
{
    const char *provider = NULL, *keyf = NULL, *entries_f = NULL, *out = NULL, *proofs = NULL;
    const char *ver_s = NULL, *days_s = NULL, *iat_s = NULL, *val;
    bool include = true; /* the entries, unless --root-only */
    uint64_t version = 0, days = 0;
    time_t iat = time(NULL);
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    struct cvma_reg_build_opts o;
    EVP_PKEY *key = NULL;
    char *jws = NULL, err[400], root_hex[65], until[32];
    uint8_t root[32];
    int rc = EXIT_USAGE;
    enum cvma_status st;

    cvma_reg_entries_init(&e);
    memset(&t, 0, sizeof t);
    for (int i = 1; i < argc; i++) {
        val = "";
        if (strcmp(argv[i], "--include-entries") == 0) {
            include = true;
        } else if (strcmp(argv[i], "--root-only") == 0) {
            include = false;
        } else if (opt_value(argc, argv, &i, "--provider", &val)) {
            provider = val;
        } else if (opt_value(argc, argv, &i, "--key", &val)) {
            keyf = val;
        } else if (opt_value(argc, argv, &i, "--entries", &val)) {
            entries_f = val;
        } else if (opt_value(argc, argv, &i, "--version", &val)) {
            ver_s = val;
        } else if (opt_value(argc, argv, &i, "--valid-days", &val)) {
            days_s = val;
        } else if (opt_value(argc, argv, &i, "--out", &val)) {
            out = val;
        } else if (opt_value(argc, argv, &i, "--proofs-dir", &val)) {
            proofs = val;
        } else if (opt_value(argc, argv, &i, "--issued-at", &val)) {
            iat_s = val;
        } else {
            return usage_error("build", "unknown option");
        }
        if (val == NULL) {
            return usage_error("build", "option without a value");
        }
    }
    if (provider == NULL || keyf == NULL || entries_f == NULL || ver_s == NULL || days_s == NULL ||
        out == NULL) {
        return usage_error("build", "--provider, --key, --entries, --version, --valid-days and "
                                    "--out are required");
    }
    if (!cvma_reg_provider_name_ok(provider)) {
        return usage_error("build", "--provider: 1..64 characters of [A-Za-z0-9._-], starting "
                                    "with a letter or digit");
    }
    if (!parse_u64(ver_s, 1, 9007199254740991ULL, &version)) {
        return usage_error("build", "--version must be an integer 1..2^53-1");
    }
    if (!parse_u64(days_s, 1, 3650, &days)) {
        return usage_error("build", "--valid-days must be an integer 1..3650");
    }
    if (iat_s != NULL && !cvma_time_parse_rfc3339(iat_s, &iat)) {
        return usage_error("build", "--issued-at must be an RFC 3339 time");
    }
    if ((key = load_key("build", keyf, true)) == NULL) {
        goto out;
    }
    if ((rc = load_entries("build", entries_f, &e)) != EXIT_OK) {
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
        fprintf(stderr, "cvmattest registry build: %s\n",
                st == CVMA_E_NOMEM ? "out of memory" : err);
        goto out;
    }
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
            fprintf(stderr, "cvmattest registry build: cannot write %s\n", out);
            goto out;
        }
    }
    if (proofs != NULL && (rc = write_proofs(proofs, provider, &e, &t)) != EXIT_OK) {
        goto out;
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

/* ---------- prove ---------- */

/* Reads provider and merkle_root from a registry's payload WITHOUT verifying it: the prover
 * only wants to say which registry the proof is for; the verifier checks everything. */
static bool peek_registry(const char *path, char *provider, size_t plen, char *root_hex)
{
    struct cvma_buf b;
    struct cvma_jws j;
    json_t *pl = NULL;
    bool ok = false;
    if (cvma_file_read(path, CVMA_REG_FILE_MAX, &b) != CVMA_OK) {
        return false;
    }
    while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r')) {
        b.len--;
    }
    if (cvma_jws_decode((const char *)b.p, b.len, &j, NULL, 0) == CVMA_JWS_OK) {
        pl = cvma_jws_payload_json(&j, NULL, 0);
        const char *p = json_string_value(json_object_get(pl, "provider"));
        const char *r = json_string_value(json_object_get(pl, "merkle_root"));
        if (p != NULL && r != NULL && cvma_reg_provider_name_ok(p) && strlen(r) == 64) {
            snprintf(provider, plen, "%s", p);
            memcpy(root_hex, r, 65);
            ok = true;
        }
        json_decref(pl);
        cvma_jws_cleanup(&j);
    }
    cvma_buf_free(&b);
    return ok;
}

static int cmd_prove(int argc, char **argv)
{
    const char *entries_f = NULL, *id = NULL, *out = NULL, *provider = NULL, *reg = NULL, *val;
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    char prov_buf[CVMA_REG_PROVIDER_MAX + 1], reg_root[65], root_hex[65];
    uint8_t root[32];
    size_t found = SIZE_MAX;
    json_t *pr = NULL;
    char *s = NULL;
    int rc = EXIT_USAGE;

    cvma_reg_entries_init(&e);
    memset(&t, 0, sizeof t);
    for (int i = 1; i < argc; i++) {
        if (opt_value(argc, argv, &i, "--entries", &val)) {
            entries_f = val;
        } else if (opt_value(argc, argv, &i, "--id", &val)) {
            id = val;
        } else if (opt_value(argc, argv, &i, "--out", &val)) {
            out = val;
        } else if (opt_value(argc, argv, &i, "--provider", &val)) {
            provider = val;
        } else if (opt_value(argc, argv, &i, "--registry", &val)) {
            reg = val;
        } else {
            return usage_error("prove", "unknown option");
        }
        if (val == NULL) {
            return usage_error("prove", "option without a value");
        }
    }
    if (entries_f == NULL || id == NULL || out == NULL) {
        return usage_error("prove", "--entries, --id and --out are required");
    }
    if (provider != NULL && reg != NULL) {
        return usage_error("prove", "give --provider or --registry, not both");
    }
    if (provider != NULL && !cvma_reg_provider_name_ok(provider)) {
        return usage_error("prove", "--provider: not a valid provider name");
    }
    if (reg != NULL) {
        if (!peek_registry(reg, prov_buf, sizeof prov_buf, reg_root)) {
            fprintf(stderr, "cvmattest registry prove: %s is not a readable registry\n", reg);
            return EXIT_USAGE;
        }
        provider = prov_buf;
    }
    if ((rc = load_entries("prove", entries_f, &e)) != EXIT_OK) {
        goto out;
    }
    rc = EXIT_USAGE;
    for (size_t i = 0; i < e.n; i++) {
        char s_id[2 * CVMA_REG_CHIP_ID_LEN + CVMA_REG_CSP_MAX + 2];
        cvma_reg_entry_id_string(&e.v[i], s_id, sizeof s_id);
        bool same = e.v[i].id_type == CVMA_REG_VLEK_CSP ? strcmp(s_id, id) == 0
                                                        : strcasecmp(s_id, id) == 0;
        if (same) {
            found = i;
            break;
        }
    }
    if (found == SIZE_MAX) {
        fprintf(stderr, "cvmattest registry prove: %s is not listed in %s\n", id, entries_f);
        rc = EXIT_REJECTED;
        goto out;
    }
    if (cvma_merkle_build(&t, &e) != CVMA_OK) {
        fprintf(stderr, "cvmattest registry prove: out of memory\n");
        goto out;
    }
    cvma_merkle_root(&t, root);
    cvma_hex_encode(root, 32, root_hex, sizeof root_hex);
    if (reg != NULL && strcmp(reg_root, root_hex) != 0) {
        fprintf(stderr,
                "cvmattest registry prove: %s does not produce the merkle_root of %s (%s, not "
                "%s): not the entries that registry was built from\n",
                entries_f, reg, root_hex, reg_root);
        rc = EXIT_REJECTED;
        goto out;
    }
    if ((pr = cvma_reg_proof_to_json(provider, &e, &t, found)) == NULL ||
        (s = json_dumps(pr, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
        fprintf(stderr, "cvmattest registry prove: out of memory\n");
        goto out;
    }
    {
        size_t n = strlen(s);
        char *line = malloc(n + 2);
        bool ok = line != NULL;
        if (ok) {
            memcpy(line, s, n);
            line[n] = '\n';
            ok = cvma_file_write_atomic(out, (const uint8_t *)line, n + 1) == CVMA_OK;
        }
        free(line);
        if (!ok) {
            fprintf(stderr, "cvmattest registry prove: cannot write %s\n", out);
            goto out;
        }
    }
    printf("proof %s: leaf %zu of %zu, merkle_root %s\n", out, found, e.n, root_hex);
    rc = EXIT_OK;
out:
    free(s);
    json_decref(pr);
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    return rc;
}

/* ---------- check ---------- */

static void print_reasons(const struct cvma_verdict *v)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        fprintf(stderr, "%s: %s\n", cvma_reason_name(v->reasons[i].code), v->reasons[i].detail);
    }
}

static int cmd_check(int argc, char **argv)
{
    const char *file = NULL, *pubf = NULL, *at_s = NULL, *val;
    const char *proofs[MAX_PROOFS];
    size_t n_proofs = 0;
    bool quiet = false;
    time_t at = time(NULL);
    struct cvma_buf b = {0};
    struct cvma_reg_provider prov;
    struct cvma_registry r;
    struct cvma_verdict v;
    EVP_PKEY *key = NULL;
    int rc = EXIT_USAGE;
    enum cvma_status st;

    memset(&prov, 0, sizeof prov);
    memset(&r, 0, sizeof r);
    cvma_verdict_init(&v);
    for (int i = 1; i < argc; i++) {
        val = "";
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (opt_value(argc, argv, &i, "--pub", &val)) {
            pubf = val;
        } else if (opt_value(argc, argv, &i, "--at", &val)) {
            at_s = val;
        } else if (opt_value(argc, argv, &i, "--proof", &val)) {
            if (n_proofs == MAX_PROOFS) {
                return usage_error("check", "too many --proof options");
            }
            proofs[n_proofs++] = val;
        } else if (argv[i][0] == '-') {
            return usage_error("check", "unknown option");
        } else if (file == NULL) {
            file = argv[i];
        } else {
            return usage_error("check", "one registry file only");
        }
        if (val == NULL) {
            return usage_error("check", "option without a value");
        }
    }
    if (file == NULL || pubf == NULL) {
        return usage_error("check", "REG.jws and --pub NAME.pub are required");
    }
    if (at_s != NULL && !cvma_time_parse_rfc3339(at_s, &at)) {
        return usage_error("check", "--at must be an RFC 3339 time");
    }
    if ((key = load_key("check", pubf, false)) == NULL) {
        goto out;
    }
    if (cvma_file_read(file, CVMA_REG_FILE_MAX, &b) != CVMA_OK) {
        fprintf(stderr, "cvmattest registry check: cannot read %s\n", file);
        goto out;
    }
    /* The key given is the provider's, whatever name the payload carries: find the name
     * first (unverified), then verify everything with that key. */
    {
        size_t len = b.len;
        struct cvma_jws j;
        while (len > 0 && (b.p[len - 1] == '\n' || b.p[len - 1] == '\r')) {
            len--;
        }
        snprintf(prov.name, sizeof prov.name, "-");
        if (cvma_jws_decode((const char *)b.p, len, &j, NULL, 0) == CVMA_JWS_OK) {
            json_t *pl = cvma_jws_payload_json(&j, NULL, 0);
            const char *p = json_string_value(json_object_get(pl, "provider"));
            if (p != NULL && cvma_reg_provider_name_ok(p)) {
                snprintf(prov.name, sizeof prov.name, "%s", p);
            }
            json_decref(pl);
            cvma_jws_cleanup(&j);
        }
    }
    prov.key = key;
    rc = EXIT_REJECTED;
    st = cvma_registry_verify(b.p, b.len, file, &prov, 1, &r, &v);
    if (st != CVMA_OK) {
        print_reasons(&v);
        rc = st == CVMA_REJECTED ? EXIT_REJECTED : EXIT_USAGE;
        goto out;
    }
    if (!quiet) {
        char *s = json_dumps(r.payload, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s != NULL) {
            puts(s);
        }
        free(s);
    }
    {
        char a[32], c[32];
        cvma_time_format((time_t)r.nbf, a, sizeof a);
        cvma_time_format((time_t)r.next_update, c, sizeof c);
        fprintf(stderr,
                "%s: signature OK (%s, provider %s, version %" PRIu64 ", %" PRIu64
                " platforms%s), valid %s .. %s\n",
                file, cvma_jws_alg_name(r.alg), r.provider, r.version, r.leaf_count,
                r.has_entries ? ", entries included and consistent" : "", a, c);
    }
    bool bad = cvma_registry_check_time(&r, at, file, &v) != CVMA_OK;
    for (size_t i = 0; i < n_proofs; i++) {
        struct cvma_buf pb;
        struct cvma_reg_proof pr;
        char err[300], id[2 * CVMA_REG_CHIP_ID_LEN + CVMA_REG_CSP_MAX + 2];
        if (cvma_file_read(proofs[i], CVMA_REG_PROOF_FILE_MAX, &pb) != CVMA_OK) {
            fprintf(stderr, "cvmattest registry check: cannot read %s\n", proofs[i]);
            rc = EXIT_USAGE;
            goto out;
        }
        st = cvma_reg_proof_parse(pb.p, pb.len, &pr, err, sizeof err);
        cvma_buf_free(&pb);
        if (st != CVMA_OK) {
            cvma_reject(&v, CVMA_R_REGISTRY_PROOF_INVALID, "%s: %s", proofs[i], err);
            bad = true;
            continue;
        }
        cvma_reg_entry_id_string(&pr.leaf.v[0], id, sizeof id);
        if (!cvma_reg_proof_check(&pr)) {
            cvma_reject(&v, CVMA_R_REGISTRY_PROOF_INVALID,
                        "%s: the audit path does not lead to the proof's merkle_root", proofs[i]);
            bad = true;
        } else if (memcmp(pr.merkle_root, r.merkle_root, 32) != 0 || pr.tree_size != r.leaf_count ||
                   (pr.has_provider && strcmp(pr.provider, r.provider) != 0)) {
            cvma_reject(&v, CVMA_R_REGISTRY_PROOF_INVALID,
                        "%s: a valid proof, but for another registry (root or size differ)",
                        proofs[i]);
            bad = true;
        } else {
            fprintf(stderr, "%s: proves %s %s %s (leaf %" PRIu64 " of %" PRIu64 ")\n", proofs[i],
                    cvma_reg_vendor_name((enum cvma_reg_vendor)pr.leaf.v[0].vendor),
                    cvma_reg_id_type_name((enum cvma_reg_id_type)pr.leaf.v[0].id_type), id,
                    pr.leaf_index, pr.tree_size);
        }
        cvma_reg_proof_cleanup(&pr);
    }
    print_reasons(&v);
    rc = bad ? EXIT_REJECTED : EXIT_OK;
out:
    cvma_registry_cleanup(&r);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
    EVP_PKEY_free(key);
    return rc;
}

/* ---------- bench ---------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: reproducible ids, not a secret. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int cmd_bench(int argc, char **argv)
{
    const char *n_s = NULL, *k_s = NULL, *val;
    uint64_t n = 1000000, k = 200000, seed = 0x9e3779b97f4a7c15ULL;
    bool json = false;
    char *text = NULL, *jws = NULL, err[400];
    size_t text_len = 0, cap;
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    struct cvma_reg_build_opts o;
    EVP_PKEY *key = NULL;
    struct cvma_reg_proof *pp = NULL;
    char **proof_text = NULL;
    size_t n_sample = 1000;
    double t0, t_parse, t_build, t_check, t_parse_check;
    uint64_t ok_checks = 0;
    int rc = EXIT_USAGE;

    cvma_reg_entries_init(&e);
    memset(&t, 0, sizeof t);
    for (int i = 1; i < argc; i++) {
        val = "";
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (opt_value(argc, argv, &i, "--entries", &val)) {
            n_s = val;
        } else if (opt_value(argc, argv, &i, "--proof-checks", &val)) {
            k_s = val;
        } else {
            return usage_error("bench", "unknown option");
        }
        if (val == NULL) {
            return usage_error("bench", "option without a value");
        }
    }
    if (n_s != NULL && !parse_u64(n_s, 1, CVMA_REG_ENTRIES_MAX, &n)) {
        return usage_error("bench", "--entries must be 1..16777216");
    }
    if (k_s != NULL && !parse_u64(k_s, 1, 100000000, &k)) {
        return usage_error("bench", "--proof-checks must be 1..100000000");
    }

    /* The entries file a provider would write: half AMD Turin-style CHIP_IDs (8 ID bytes then
     * zeros), half Intel PPIDs, each with a region label. Generating it is not timed. */
    cap = (size_t)n * 170 + 1;
    if ((text = malloc(cap)) == NULL) {
        fprintf(stderr, "cvmattest registry bench: out of memory\n");
        goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint8_t id[16];
        char hex[33];
        uint64_t a = rng_next(&seed), b = rng_next(&seed);
        for (int j = 0; j < 8; j++) {
            id[j] = (uint8_t)(a >> (8 * j));
            id[8 + j] = (uint8_t)(b >> (8 * j));
        }
        id[0] |= 1; /* never all zero */
        if (i % 2 == 0) {
            cvma_hex_encode(id, 8, hex, sizeof hex);
            text_len +=
                    (size_t)snprintf(text + text_len, cap - text_len,
                                     "amd chip_id %s%0112d region=eu-%d\n", hex, 0, (int)(i % 7));
        } else {
            cvma_hex_encode(id, 16, hex, sizeof hex);
            text_len += (size_t)snprintf(text + text_len, cap - text_len,
                                         "intel ppid %s region=us-%d\n", hex, (int)(i % 5));
        }
    }
    if ((key = cvma_jws_key_generate(CVMA_JWS_ES256)) == NULL) {
        goto out;
    }

    t0 = now_s();
    if (cvma_reg_entries_parse(text, text_len, "bench", &e, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "cvmattest registry bench: %s\n", err);
        goto out;
    }
    t_parse = now_s() - t0;
    free(text);
    text = NULL;

    o.provider = "bench";
    o.version = 1;
    o.iat = (int64_t)time(NULL);
    o.valid_seconds = 86400;
    o.include_entries = false;
    t0 = now_s();
    if (cvma_registry_build(&o, &e, key, &jws, &t, err, sizeof err) != CVMA_OK) {
        fprintf(stderr, "cvmattest registry bench: %s\n", err);
        goto out;
    }
    t_build = now_s() - t0;

    /* Proof checks: a sample of proofs over the whole tree, each checked in turn (leaf
     * re-encoded and hashed, audit path hashed up, root compared). */
    if (n_sample > e.n) {
        n_sample = e.n;
    }
    if ((pp = calloc(n_sample, sizeof *pp)) == NULL ||
        (proof_text = calloc(n_sample, sizeof *proof_text)) == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n_sample; i++) {
        size_t idx = (size_t)(rng_next(&seed) % e.n);
        json_t *pj = cvma_reg_proof_to_json("bench", &e, &t, idx);
        proof_text[i] = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
        json_decref(pj);
        if (proof_text[i] == NULL ||
            cvma_reg_proof_parse((const uint8_t *)proof_text[i], strlen(proof_text[i]), &pp[i], err,
                                 sizeof err) != CVMA_OK) {
            fprintf(stderr, "cvmattest registry bench: proof %zu: %s\n", i, err);
            goto out;
        }
    }
    t0 = now_s();
    for (uint64_t i = 0; i < k; i++) {
        ok_checks += cvma_reg_proof_check(&pp[i % n_sample]);
    }
    t_check = now_s() - t0;
    if (ok_checks != k) {
        fprintf(stderr, "cvmattest registry bench: %" PRIu64 " of %" PRIu64 " proofs failed\n",
                k - ok_checks, k);
        goto out;
    }
    {
        uint64_t k2 = k / 10 ? k / 10 : 1;
        t0 = now_s();
        for (uint64_t i = 0; i < k2; i++) {
            struct cvma_reg_proof q;
            const char *s = proof_text[i % n_sample];
            if (cvma_reg_proof_parse((const uint8_t *)s, strlen(s), &q, NULL, 0) != CVMA_OK ||
                !cvma_reg_proof_check(&q)) {
                goto out;
            }
            cvma_reg_proof_cleanup(&q);
        }
        t_parse_check = (now_s() - t0) / (double)k2;
    }
    if (json) {
        printf("{\"entries\": %" PRIu64 ", \"parse_seconds\": %.3f, "
               "\"build_sign_seconds\": %.3f, \"total_seconds\": %.3f, "
               "\"proof_check_us\": %.3f, \"proof_parse_check_us\": %.3f, "
               "\"proof_checks\": %" PRIu64 ", \"audit_path_len\": %zu, \"jws_bytes\": %zu}\n",
               n, t_parse, t_build, t_parse + t_build, t_check / (double)k * 1e6,
               t_parse_check * 1e6, k, pp[0].path_len, strlen(jws));
    } else {
        printf("registry of %" PRIu64 " entries, one core:\n"
               "  parse entries file      %8.3f s\n"
               "  sort, hash, tree, sign  %8.3f s   (target < 10 s)\n"
               "  total                   %8.3f s\n"
               "inclusion proof (%zu hashes), %" PRIu64 " checks:\n"
               "  check                   %8.3f us  (target < 10 us)\n"
               "  parse JSON + check      %8.3f us\n",
               n, t_parse, t_build, t_parse + t_build, pp[0].path_len, k, t_check / (double)k * 1e6,
               t_parse_check * 1e6);
    }
    rc = EXIT_OK;
out:
    if (pp != NULL) {
        for (size_t i = 0; i < n_sample; i++) {
            cvma_reg_proof_cleanup(&pp[i]);
        }
    }
    if (proof_text != NULL) {
        for (size_t i = 0; i < n_sample; i++) {
            free(proof_text[i]);
        }
    }
    free(pp);
    free(proof_text);
    free(text);
    free(jws);
    cvma_merkle_cleanup(&t);
    cvma_reg_entries_cleanup(&e);
    EVP_PKEY_free(key);
    return rc;
}

int cvma_cmd_registry(int argc, char **argv)
{
    if (argc < 2) {
        registry_usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "keygen") == 0) {
        return cmd_keygen(argc - 1, argv + 1);
    }
    if (strcmp(sub, "build") == 0) {
        return cmd_build(argc - 1, argv + 1);
    }
    if (strcmp(sub, "prove") == 0) {
        return cmd_prove(argc - 1, argv + 1);
    }
    if (strcmp(sub, "check") == 0) {
        return cmd_check(argc - 1, argv + 1);
    }
    if (strcmp(sub, "bench") == 0) {
        return cmd_bench(argc - 1, argv + 1);
    }
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        registry_usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "cvmattest registry: unknown command '%s'\n", sub);
    registry_usage(stderr);
    return EXIT_USAGE;
}
