/*
 * cvmattest serve [--config FILE] [options]: the verification service (docs/service.md).
 * The options and the configuration file make one verifier, shared by every worker thread,
 * and the server's settings; src/server does the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "args.h"
#include "cmds.h"
#include "registry/registry.h"
#include "server/config.h"
#include "server/redis_pool.h"
#include "server/redis_store.h"
#include "server/server.h"

/* A configuration file: a few hundred bytes in practice. */
#define CONFIG_FILE_MAX (1 << 20)

static const char usage[] =
        "usage: cvmattest serve [--config FILE] [options]\n"
        "  The verification service: GET /v1/nonce[?size=32|48|64], POST /v1/verify,\n"
        "  GET /v1/keys, GET /healthz, GET /metrics (docs/service.md). Runs until SIGTERM,\n"
        "  SIGINT or SIGHUP (no reload), then drains the requests in flight and exits 0.\n"
        "  --config FILE            JSON configuration (docs/service.md); options given\n"
        "                           on the command line add to it or override it\n"
        "                           (repeatable: each file adds to or overrides the last)\n"
        "  --listen ADDR            HOST:PORT (default 127.0.0.1:8080; port 0: any free one)\n"
        "  --port-file FILE         write the port listened on to FILE\n"
        "  --trust-root FILE        also trust this root (test evidence only; repeatable)\n"
        "  --collateral DIR         offline collateral (docs/collateral.md file names)\n"
        "  --offline                never touch the network (the cache is read)\n"
        "  --kds-url URL  --pcs-url URL   AMD KDS / Intel PCS (or PCCS) base URLs\n"
        "  --cache-dir DIR          collateral cache\n"
        "  --policy FILE            the default appraisal policy\n"
        "  --named-policy NAME=FILE a policy requests name (repeatable)\n"
        "  --provider NAME=PUB      a provider's registry key (repeatable)\n"
        "  --registry FILE          a signed platform registry (repeatable)\n"
        "  --sign-result KEY        sign results: each answer carries a token (EAR JWT)\n"
        "  --token-ttl SECONDS      a token's lifetime: its exp (default 300)\n"
        "  --nonce-ttl SECONDS      a nonce's lifetime (default 300)\n"
        "  --nonce-key FILE         HMAC key of the nonces (16..64 bytes), shared by every\n"
        "                           instance; needs --redis (default: random, this process\n"
        "                           only)\n"
        "  --redis URL              spent nonces, registry rollback state and fetched\n"
        "                           collateral in Redis (redis://[USER@]HOST[:PORT][/DB];\n"
        "                           rediss:// for TLS)\n"
        "  --redis-password-file FILE   Redis's AUTH password (the file's first line)\n"
        "  --redis-ca FILE          rediss://: the CA certificates (PEM) Redis's certificate\n"
        "                           must chain to (default: the system's)\n"
        "  --redis-cert FILE --redis-key FILE   rediss://: a client certificate and its key\n"
        "  --tls-cert FILE --tls-key FILE   serve HTTPS (PEM)\n"
        "  --threads N              worker threads (default 4)\n"
        "  --max-body BYTES         request body limit (default 1048576)\n"
        "  --timeout SECONDS        idle client time-out, and the time a request's header\n"
        "                           and its body must each arrive in (default 30)\n"
        "  --per-ip-connections N   connections at once from one address (default 64;\n"
        "                           0: no limit; behind a load balancer, above its own)\n"
        "  --drain SECONDS          on SIGTERM, wait this long for requests (default 30)\n"
        "  --fetch-budget N         SEV-SNP VCEK downloads a minute, for all threads\n"
        "                           (default 60; 0: no limit); beyond: COLLATERAL_UNAVAILABLE\n";

enum {
    O_CONFIG = 256,
    O_LISTEN,
    O_PORT_FILE,
    O_TRUST_ROOT,
    O_COLLATERAL,
    O_OFFLINE,
    O_KDS,
    O_PCS,
    O_CACHE,
    O_POLICY,
    O_NAMED_POLICY,
    O_PROVIDER,
    O_REGISTRY,
    O_SIGN,
    O_TOKEN_TTL,
    O_NONCE_TTL,
    O_NONCE_KEY,
    O_REDIS,
    O_REDIS_PASSWORD,
    O_REDIS_CA,
    O_REDIS_CERT,
    O_REDIS_KEY,
    O_TLS_CERT,
    O_TLS_KEY,
    O_THREADS,
    O_MAX_BODY,
    O_TIMEOUT,
    O_DRAIN,
    O_PER_IP,
    O_FETCH_BUDGET,
};

/* Keeps p (made here, NULL: out of memory) until the end. NULL when it cannot, with the reason
 * printed and no_room set: the caller stops with exit 2, never goes on without the string. */
static const char *keep(struct cvma_serve_config *s, char *p)
{
    const char *k = cvma_serve_config_keep(s, p);
    if (k == NULL) {
        if (s->no_memory) {
            cvma_cli_err("cvmattest serve: %s\n", s->no_room_why);
        } else {
            cvma_cli_usage_error("serve", "%s", s->no_room_why);
        }
    }
    return k;
}

/* The long name of the option whose value (without marks) is c, for messages. */
static const char *opt_name(const struct option *opts, int c)
{
    for (const struct option *o = opts; o->name != NULL; o++) {
        if ((o->val & ~CVMA_CLI_MARKS) == c) {
            return o->name;
        }
    }
    return "?";
}

/* True for a number that is 0 ("0", "00"): where 0 means no limit. */
static bool zero(const char *v)
{
    return v[0] != '\0' && strspn(v, "0") == strlen(v);
}

static bool number(const char *v, long long max, long long *out)
{
    uint64_t n;
    if (!cvma_cli_uint(v, 1, (uint64_t)max, &n)) {
        return false;
    }
    *out = (long long)n;
    return true;
}

/* Reads the configuration file (docs/service.md). Prints why not and returns 2, else 0. */
static int read_config(struct cvma_serve_config *s, const char *file)
{
    struct cvma_buf b = {0};
    char err[600];
    enum cvma_status st = cvma_file_read(file, CONFIG_FILE_MAX, &b);
    if (st != CVMA_OK) {
        char why[96];
        cvma_cli_err("cvmattest serve: --config '%s': %s\n", file,
                     st == CVMA_E_NOMEM
                             ? "out of memory"
                             : cvma_file_read_why(errno, CONFIG_FILE_MAX, why, sizeof why));
        return 2;
    }
    st = cvma_serve_config_read(s, b.p, b.len, file, err, sizeof err);
    cvma_buf_free(&b);
    if (st == CVMA_OK) {
        return 0;
    }
    if (s->no_room && !s->no_memory) {
        cvma_cli_usage_error("serve", "%s", err);
    } else {
        cvma_cli_err("cvmattest serve: %s\n", err);
    }
    return 2;
}

/* A --policy or --named-policy not added (pa): too many, or a name given already. */
static int policy_not_added(enum cvma_serve_policy_add pa, const char *name)
{
    if (pa == CVMA_SERVE_POLICY_FULL) {
        return cvma_cli_usage_error("serve", "too many policies (max %d)", CVMA_SERVE_LIST_MAX);
    }
    if (name[0] == '\0') {
        return cvma_cli_usage_error("serve", "--policy: the default policy was given already "
                                             "(in --config)");
    }
    return cvma_cli_usage_error("serve",
                                "--named-policy: a policy named \"%s\" was given already (in "
                                "--config or an earlier --named-policy)",
                                name);
}

static int parse(struct cvma_serve_config *s, int argc, char **argv)
{
    static const struct option opts[] = {
            {"config", required_argument, NULL, O_CONFIG | CVMA_CLI_MANY},
            {"listen", required_argument, NULL, O_LISTEN},
            {"port-file", required_argument, NULL, O_PORT_FILE},
            {"trust-root", required_argument, NULL, O_TRUST_ROOT | CVMA_CLI_MANY},
            {"collateral", required_argument, NULL, O_COLLATERAL},
            {"offline", no_argument, NULL, O_OFFLINE},
            {"kds-url", required_argument, NULL, O_KDS | CVMA_CLI_URL},
            {"pcs-url", required_argument, NULL, O_PCS | CVMA_CLI_URL},
            {"cache-dir", required_argument, NULL, O_CACHE},
            {"policy", required_argument, NULL, O_POLICY},
            {"named-policy", required_argument, NULL, O_NAMED_POLICY | CVMA_CLI_MANY},
            {"provider", required_argument, NULL, O_PROVIDER | CVMA_CLI_MANY},
            {"registry", required_argument, NULL, O_REGISTRY | CVMA_CLI_MANY},
            {"sign-result", required_argument, NULL, O_SIGN},
            {"token-ttl", required_argument, NULL, O_TOKEN_TTL},
            {"nonce-ttl", required_argument, NULL, O_NONCE_TTL},
            {"nonce-key", required_argument, NULL, O_NONCE_KEY},
            {"redis", required_argument, NULL, O_REDIS},
            {"redis-password-file", required_argument, NULL, O_REDIS_PASSWORD},
            {"redis-ca", required_argument, NULL, O_REDIS_CA},
            {"redis-cert", required_argument, NULL, O_REDIS_CERT},
            {"redis-key", required_argument, NULL, O_REDIS_KEY},
            {"tls-cert", required_argument, NULL, O_TLS_CERT},
            {"tls-key", required_argument, NULL, O_TLS_KEY},
            {"threads", required_argument, NULL, O_THREADS},
            {"max-body", required_argument, NULL, O_MAX_BODY},
            {"timeout", required_argument, NULL, O_TIMEOUT},
            {"drain", required_argument, NULL, O_DRAIN},
            {"per-ip-connections", required_argument, NULL, O_PER_IP},
            {"fetch-budget", required_argument, NULL, O_FETCH_BUDGET},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    int c;
    long long n;

    /* The configuration file first, wherever --config stands; the options then add to it. */
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return -1;
        }
        if (c == ':' || c == '?' || c == CVMA_CLI_CONFLICT) {
            return cvma_cli_bad_option("serve", c, argv);
        }
        if (c == O_CONFIG && read_config(s, optarg) != 0) {
            return 2;
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error("serve", "takes no operands ('%s')", argv[optind]);
    }
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        const char *v = optarg;
        enum cvma_serve_policy_add pa;
        switch (c) {
        case O_CONFIG:
            break;
        case O_LISTEN:
            s->sc.listen = v;
            break;
        case O_PORT_FILE:
            s->sc.port_file = v;
            break;
        case O_TRUST_ROOT:
            if (!cvma_serve_config_add(s->roots, &s->vc.n_trust_root_files, v)) {
                return cvma_cli_usage_error("serve", "too many --trust-root (max %d)",
                                            CVMA_SERVE_LIST_MAX);
            }
            break;
        case O_COLLATERAL:
            s->vc.collateral_dir = v;
            break;
        case O_OFFLINE:
            s->vc.offline = true;
            break;
        case O_KDS:
            s->vc.kds_base_url = v;
            break;
        case O_PCS:
            s->vc.pcs_base_url = v;
            break;
        case O_CACHE:
            s->vc.cache_dir = v;
            break;
        case O_POLICY:
            if ((pa = cvma_serve_config_add_policy(s, "", v)) != CVMA_SERVE_POLICY_ADDED) {
                return policy_not_added(pa, "");
            }
            break;
        case O_NAMED_POLICY: {
            const char *eq = strchr(v, '=');
            if (eq == NULL || eq == v || eq[1] == '\0') {
                return cvma_cli_usage_error("serve", "--named-policy wants NAME=FILE");
            }
            const char *name = keep(s, strndup(v, (size_t)(eq - v)));
            if (name == NULL) {
                return 2; /* keep() said why */
            }
            if ((pa = cvma_serve_config_add_policy(s, name, eq + 1)) != CVMA_SERVE_POLICY_ADDED) {
                return policy_not_added(pa, name);
            }
            break;
        }
        case O_PROVIDER:
            if (!cvma_serve_config_add(s->providers, &s->vc.n_providers, v)) {
                return cvma_cli_usage_error("serve", "too many --provider (max %d)",
                                            CVMA_SERVE_LIST_MAX);
            }
            break;
        case O_REGISTRY:
            if (!cvma_serve_config_add(s->registries, &s->vc.n_registries, v)) {
                return cvma_cli_usage_error("serve", "too many --registry (max %d)",
                                            CVMA_SERVE_LIST_MAX);
            }
            break;
        case O_SIGN:
            s->vc.result_key_file = v;
            break;
        case O_NONCE_KEY:
            s->nonce_key_file = v;
            break;
        case O_REDIS:
            s->sc.redis_url = v;
            break;
        case O_REDIS_PASSWORD:
            s->redis_password_file = v;
            break;
        case O_REDIS_CA:
            s->sc.redis_ca_file = v;
            break;
        case O_REDIS_CERT:
            s->sc.redis_cert_file = v;
            break;
        case O_REDIS_KEY:
            s->sc.redis_key_file = v;
            break;
        case O_TLS_CERT:
            s->sc.tls_cert_file = v;
            break;
        case O_TLS_KEY:
            s->sc.tls_key_file = v;
            break;
        case O_PER_IP:
            /* 0 (no limit) is allowed here, unlike the other numbers */
            if (zero(v)) {
                s->sc.per_ip_connections = -1;
            } else if (number(v, CVMA_SERVE_CONNECTIONS_MAX, &n)) {
                s->sc.per_ip_connections = (long)n;
            } else {
                return cvma_cli_usage_error("serve", "--%s wants a number from 0 to %d, not '%s'",
                                            opt_name(opts, c), CVMA_SERVE_CONNECTIONS_MAX, v);
            }
            break;
        case O_FETCH_BUDGET:
            /* 0 (no limit) is allowed, as for --per-ip-connections */
            if (zero(v)) {
                s->fetch_budget = -1;
            } else if (number(v, CVMA_SERVE_FETCH_BUDGET_MAX, &n)) {
                s->fetch_budget = (long)n;
            } else {
                return cvma_cli_usage_error("serve", "--%s wants a number from 0 to %d, not '%s'",
                                            opt_name(opts, c), CVMA_SERVE_FETCH_BUDGET_MAX, v);
            }
            break;
        case O_TOKEN_TTL:
        case O_NONCE_TTL:
        case O_THREADS:
        case O_MAX_BODY:
        case O_TIMEOUT:
        case O_DRAIN: {
            long long max = c == O_THREADS                   ? CVMA_SERVE_THREADS_MAX
                            : c == O_TIMEOUT || c == O_DRAIN ? CVMA_SERVE_SECONDS_MAX
                                                             : CVMA_SERVE_NUMBER_MAX;
            if (!number(v, max, &n)) {
                return cvma_cli_usage_error("serve", "--%s wants a number from 1 to %lld, not '%s'",
                                            opt_name(opts, c), max, v);
            }
            if (c == O_TOKEN_TTL) {
                s->sc.token_ttl = n;
            } else if (c == O_NONCE_TTL) {
                s->sc.nonce_ttl = n;
            } else if (c == O_THREADS) {
                s->sc.threads = (unsigned)n;
            } else if (c == O_MAX_BODY) {
                s->sc.max_body = (size_t)n;
            } else if (c == O_TIMEOUT) {
                s->sc.timeout = (unsigned)n;
            } else {
                s->sc.drain = (unsigned)n;
            }
            break;
        }
        default:
            return cvma_cli_bad_option("serve", c, argv);
        }
    }
    s->vc.trust_root_files = s->roots;
    s->vc.providers = s->providers;
    s->vc.registries = s->registries;
    return 0;
}

/*
 * A secret key file that group or others may read or write: said on stderr at start, naming
 * the file and its mode (docs/operations.md asks for 0600). Not refused: test keys and keys
 * on shared read-only storage are often 0644. A file that cannot be looked at is left to the
 * read that follows, which names it.
 */
static void warn_key_mode(const char *what, const char *path)
{
    struct stat sb;
    /* (not a regular file, a directory say: the read that follows refuses it, and a mode
     * warning before that refusal would only mislead) */
    if (path == NULL || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (sb.st_mode & (S_IRWXG | S_IRWXO)) == 0) {
        return;
    }
    cvma_cli_err(
            "cvmattest serve: warning: %s '%s' has mode %04o: group or others may read or change "
            "this secret key; chmod 600 it\n",
            what, path, (unsigned)(sb.st_mode & 07777));
}

/*
 * Registries with no directory for their rollback state: said on stderr at start, naming what
 * is lost (docs/service.md). With --redis, rollback is checked against Redis and the highest
 * version this process saw, but not against a state file that outlives both; without it, not
 * at all (each result says so).
 */
static void warn_state_dir(const struct cvma_serve_config *s)
{
    char why[512];

    if (cvma_registry_state_dir_usable(s->vc.cache_dir, why, sizeof why)) {
        return;
    }
    if (s->vc.n_registries == 0) {
        /* the collateral cache is the same directory: said, not silently done without */
        cvma_cli_err("cvmattest serve: warning: no usable cache directory (%s): collateral is not "
                     "cached, so %s; give --cache-dir a directory this instance can write and no "
                     "one else can\n",
                     why,
                     s->vc.offline ? "offline only --collateral DIR can answer"
                                   : "each verification that needs collateral fetches it again");
    } else if (s->sc.redis_url != NULL) {
        cvma_cli_err(
                "cvmattest serve: warning: no usable state directory (%s): registry rollback is "
                "checked against Redis and the highest version this process saw only, so a Redis "
                "that loses its data while the instances restart lets an older registry back "
                "in; give --cache-dir a directory this instance can write and no one else "
                "can\n",
                why);
    } else {
        cvma_cli_err(
                "cvmattest serve: warning: no usable state directory (%s): registry rollback is "
                "not checked, and every result that uses a registry carries "
                "REGISTRY_ROLLBACK_NOT_CHECKED; give --cache-dir a directory this instance can "
                "write and no one else can (or use --redis)\n",
                why);
    }
}

/* The Redis password from its file (cvma_serve_redis_password_read); false with the reason
 * printed. */
static bool read_redis_password(const char *file, char **out)
{
    const char *why = cvma_serve_redis_password_read(file, out);
    if (why != NULL) {
        cvma_cli_err("cvmattest serve: --redis-password-file '%s': %s\n", file, why);
        return false;
    }
    return true;
}

int cvma_cmd_serve(int argc, char **argv)
{
    struct cvma_serve_config *s = calloc(1, sizeof *s);
    struct cvma_verifier *v = NULL;
    struct cvma_redis_store *store = NULL;
    struct cvma_state_store shared;
    struct cvma_buf kb = {0};
    char err[512] = "";
    char *redis_password = NULL;
    int rc = 2;

    if (s == NULL) {
        cvma_cli_err("cvmattest serve: out of memory\n");
        return 2;
    }
    if ((rc = parse(s, argc, argv)) != 0) {
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    rc = 2;
    if (s->nonce_key_file != NULL && s->sc.redis_url == NULL) {
        /* The spent nonces would be in this process's memory only (src/server/server.c). */
        rc = cvma_cli_usage_error(
                "serve",
                "--nonce-key (or the configuration's \"nonce_key\") needs --redis: without a "
                "shared spent-nonce store a nonce could be redeemed again after a restart or at "
                "another instance; use --redis, or leave the key out for a per-process random "
                "key");
        goto out;
    }
    if ((s->sc.redis_ca_file != NULL || s->sc.redis_cert_file != NULL ||
         s->sc.redis_key_file != NULL) &&
        (s->sc.redis_url == NULL || strncmp(s->sc.redis_url, "rediss://", 9) != 0)) {
        rc = cvma_cli_usage_error("serve", "--redis-ca, --redis-cert and --redis-key (or the "
                                           "configuration's \"redis_ca\", \"redis_cert\", "
                                           "\"redis_key\") need --redis rediss://...");
        goto out;
    }
    if ((s->sc.redis_cert_file != NULL) != (s->sc.redis_key_file != NULL)) {
        rc = cvma_cli_usage_error("serve", "--redis-cert and --redis-key go together");
        goto out;
    }
    if (s->redis_password_file != NULL && s->sc.redis_url == NULL) {
        rc = cvma_cli_usage_error("serve", "--redis-password-file (or the configuration's "
                                           "\"redis_password_file\") needs --redis");
        goto out;
    }
    warn_key_mode("--redis-password-file", s->redis_password_file);
    warn_key_mode("--redis-key", s->sc.redis_key_file);
    if (s->redis_password_file != NULL &&
        !read_redis_password(s->redis_password_file, &redis_password)) {
        goto out;
    }
    s->sc.redis_password = redis_password;
    warn_key_mode("--nonce-key", s->nonce_key_file);
    warn_key_mode("--sign-result", s->vc.result_key_file);
    warn_key_mode("--tls-key", s->sc.tls_key_file);
    if (s->nonce_key_file != NULL) {
        enum cvma_status ks = cvma_file_read_secret(s->nonce_key_file, 4096, &kb);
        if (ks != CVMA_OK || kb.len < 16 || kb.len > CVMA_NONCE_KEY_MAX) {
            cvma_cli_err("cvmattest serve: --nonce-key '%s': %s\n", s->nonce_key_file,
                         ks != CVMA_OK ? cvma_file_read_strerror(errno) : "not 16..64 bytes");
            goto out;
        }
        memcpy(s->sc.nonce_key.key, kb.p, kb.len);
        s->sc.nonce_key.len = kb.len;
    }
    warn_state_dir(s);
    if (s->sc.redis_url != NULL) {
        /* With --redis the registry rollback state and fetched collateral are the fleet's. */
        const struct cvma_redis_opts ro = {redis_password, s->sc.redis_ca_file,
                                           s->sc.redis_cert_file, s->sc.redis_key_file};
        if ((store = cvma_redis_store_new(s->sc.redis_url, &ro, err, sizeof err)) == NULL) {
            cvma_cli_err("cvmattest serve: %s\n", err);
            goto out;
        }
        cvma_redis_store_iface(store, &shared);
        s->vc.state_store = &shared;
    }
    cvma_serve_config_fetch_budget(s);
    if (cvma_verifier_new(&s->vc, &v, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest serve: %s\n", err);
        goto out;
    }
    rc = cvma_server_run(v, &s->sc, err, sizeof err);
    if (rc != 0) {
        cvma_cli_err("cvmattest serve: %s\n", err);
    }
out:
    cvma_verifier_free(v);
    cvma_redis_store_free(store);
    cvma_buf_free_secret(&kb);
    cvma_str_free_secret(redis_password);
    cvma_serve_config_cleanup(s);
    OPENSSL_cleanse(&s->sc.nonce_key, sizeof s->sc.nonce_key);
    free(s);
    return rc;
}
