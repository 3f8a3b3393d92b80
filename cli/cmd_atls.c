/*
 * cvmattest atls-server / atls-client: attested TLS (docs/atls.md) over the library
 * (cvmattest/atls.h), with the simulated TEE or collection inside a CVM as the evidence
 * source.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "args.h"
#include "atls/atls_frame.h"
#include "atls/atls_http.h"
#include "cmds.h"
#include "collect/collect.h"
#include "common/hex.h"
#include "common/reasons.h"
#include "common/resolve.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "cvmattest/atls.h"
#include "opts.h"
#include "result/result.h"
#include "sim/sim_atls.h"

enum {
    O_HELP = 'h',
    O_LISTEN = 256,
    O_CONNECT,
    O_SIM,
    O_SWITCH_AFTER,
    O_CERT,
    O_KEY,
    O_MUTUAL,
    O_RELAY,
    O_MISBEHAVE,
    O_CONNECTIONS,
    O_MAX_CONNECTIONS,
    O_REATTEST,
    O_ROUNDS,
    O_SEND,
    O_JSON,
    O_TRUST_ROOT,
    O_COLLATERAL,
    O_OFFLINE,
    O_POLICY,
    O_PROVIDER,
    O_REGISTRY,
    O_CERT_BOUND,
    O_COLLECT,
    O_TSM_ROOT,
    O_DEV_ROOT,
    O_HANDSHAKE_TIMEOUT,
    O_IDLE_TIMEOUT,
    O_MIN_REATTEST,
    O_TIMEOUT,
    O_CLIENT_LEASE,
};

static const struct option server_options[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"sim", required_argument, NULL, O_SIM | CVMA_CLI_MANY},
        {"collect", no_argument, NULL, O_COLLECT},
        {"tsm-root", required_argument, NULL, O_TSM_ROOT},
        {"dev-root", required_argument, NULL, O_DEV_ROOT},
        {"switch-after", required_argument, NULL, O_SWITCH_AFTER},
        {"relay", required_argument, NULL, O_RELAY},
        {"misbehave", required_argument, NULL, O_MISBEHAVE},
        {"connections", required_argument, NULL, O_CONNECTIONS},
        {"max-connections", required_argument, NULL, O_MAX_CONNECTIONS},
        {"handshake-timeout", required_argument, NULL, O_HANDSHAKE_TIMEOUT},
        {"idle-timeout", required_argument, NULL, O_IDLE_TIMEOUT},
        {"min-reattest-interval", required_argument, NULL, O_MIN_REATTEST},
        {"client-lease", required_argument, NULL, O_CLIENT_LEASE},
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"mutual", no_argument, NULL, O_MUTUAL},
        {"json", no_argument, NULL, O_JSON},
        {"trust-root", required_argument, NULL, O_TRUST_ROOT | CVMA_CLI_MANY},
        {"collateral", required_argument, NULL, O_COLLATERAL},
        {"offline", no_argument, NULL, O_OFFLINE},
        {"policy", required_argument, NULL, O_POLICY},
        {"provider", required_argument, NULL, O_PROVIDER | CVMA_CLI_MANY},
        {"registry", required_argument, NULL, O_REGISTRY | CVMA_CLI_MANY},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
};

static const struct option client_options[] = {
        {"connect", required_argument, NULL, O_CONNECT},
        {"reattest-every", required_argument, NULL, O_REATTEST},
        {"rounds", required_argument, NULL, O_ROUNDS},
        {"send", required_argument, NULL, O_SEND},
        {"misbehave", required_argument, NULL, O_MISBEHAVE},
        {"cert-bound", no_argument, NULL, O_CERT_BOUND},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"sim", required_argument, NULL, O_SIM | CVMA_CLI_MANY},
        {"switch-after", required_argument, NULL, O_SWITCH_AFTER},
        {"collect", no_argument, NULL, O_COLLECT},
        {"tsm-root", required_argument, NULL, O_TSM_ROOT},
        {"dev-root", required_argument, NULL, O_DEV_ROOT},
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"mutual", no_argument, NULL, O_MUTUAL},
        {"json", no_argument, NULL, O_JSON},
        {"trust-root", required_argument, NULL, O_TRUST_ROOT | CVMA_CLI_MANY},
        {"collateral", required_argument, NULL, O_COLLATERAL},
        {"offline", no_argument, NULL, O_OFFLINE},
        {"policy", required_argument, NULL, O_POLICY},
        {"provider", required_argument, NULL, O_PROVIDER | CVMA_CLI_MANY},
        {"registry", required_argument, NULL, O_REGISTRY | CVMA_CLI_MANY},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
};

static const char verify_help[] =
        "verifying the peer (the client; the server only with --mutual):\n"
        "  --trust-root FILE              also trust this root (test evidence; repeatable)\n"
        "  --collateral DIR               offline collateral (docs/collateral.md)\n"
        "  --offline                      never touch the network\n"
        "  --policy FILE                  appraisal policy (docs/policy.md)\n"
        "  --provider NAME=PUB            a provider's registry key (repeatable)\n"
        "  --registry FILE                a signed platform registry (repeatable)\n"
        "  --json                         print each result JSON (docs/results.md)\n";

static void server_help(void)
{
    printf("usage: cvmattest atls-server --sim DIR | --collect [options]\n"
           "  serves attested TLS 1.3 (docs/atls.md): answers each nonce with evidence bound\n"
           "  to the session, its own key and the nonce, then echoes application data; also\n"
           "  answers GET " CVMA_ATLS_WELL_KNOWN "?nonce=HEX (certificate-bound)\n\n"
           "  --listen ADDR:PORT             default 127.0.0.1:0 (port 0: the OS picks; the\n"
           "                                 first line on stdout says where it listens)\n"
           "  --sim DIR                      evidence from the simulator's DIR (sim snp|tdx\n"
           "                                 --keep-keys); repeat to move between platforms\n"
           "  --collect                      evidence collected on this CVM for each nonce\n"
           "                                 (configfs-tsm, then /dev/sev-guest; docs/collect.md)\n"
           "  --tsm-root DIR --dev-root DIR  (with --collect) trees standing for\n"
           "                                 /sys/kernel/config/tsm and /dev\n"
           "  --switch-after N               serve attestation i from the (i/N)-th --sim DIR\n"
           "  --relay HOST:PORT              (tests) evidence fetched from another aTLS server\n"
           "  --misbehave reflect|replay     (tests) reflect the client's own evidence back /\n"
           "                                 answer re-attestations with the first evidence\n"
           "  --misbehave late-check         (tests, with --client-lease) finish verifying each\n"
           "                                 renewal of the client after its deadline\n"
           "  --misbehave slow-answer        (tests) pause 0.5 s after writing each EVIDENCE\n"
           "  --connections N                exit after N connections served (default: never)\n"
           "  --max-connections N            serve at most N connections at once, a thread\n"
           "                                 each (default 16); further ones are refused at\n"
           "                                 once (closed at the accept, logged as busy)\n"
           "  --handshake-timeout SECONDS    a connection must finish the TLS handshake and\n"
           "                                 send its first frame within this (default 10)\n"
           "  --idle-timeout SECONDS         then close it after this long without a frame\n"
           "                                 (default 300, 0: never); keep it above clients'\n"
           "                                 --reattest-every\n"
           "  --min-reattest-interval SECONDS  answer a connection's NONCE frames no more\n"
           "                                 often than this (default 1, 0: no limit); faster\n"
           "                                 ones get an ERROR frame and the connection closes\n"
           "  --cert FILE --key FILE         the TLS certificate and key (default: a fresh\n"
           "                                 P-256 key, self-signed: the evidence vouches for it)\n"
           "  --mutual                       require the client's evidence too (the\n"
           "                                 certificate-bound endpoint then answers 403)\n"
           "  --client-lease SECONDS         (with --mutual) re-attest each client SECONDS after\n"
           "                                 its last accepted result, on the live connection;\n"
           "                                 its evidence is due within --handshake-timeout,\n"
           "                                 and the connection is closed when it is refused\n"
           "                                 (a move is PLATFORM_CHANGED), late or names\n"
           "                                 another measurement (MEASUREMENT_CHANGED); no\n"
           "                                 DATA is answered until it is accepted\n\n%s",
           verify_help);
}

static void client_help(void)
{
    printf("usage: cvmattest atls-client --connect HOST:PORT [options]\n"
           "  connects with TLS 1.3, sends a fresh nonce, verifies the server's evidence\n"
           "  against this session (docs/atls.md) and refuses the connection unless it is\n"
           "  affirming or warning\n\n"
           "  --connect HOST:PORT            the aTLS server\n"
           "  --reattest-every SECONDS       re-attest on the live connection, SECONDS (1 to\n"
           "                                 86400) after each result (a lease, valid\n"
           "                                 until SECONDS + --timeout after each result: the\n"
           "                                 JSON's \"lease\"); the platform moving is\n"
           "                                 PLATFORM_CHANGED, and the connection is closed\n"
           "                                 when the new one is refused or the measurement\n"
           "                                 changed (MEASUREMENT_CHANGED)\n"
           "  --rounds N                     re-attestations before closing (default 3,\n"
           "                                 1 to 1000000; with --reattest-every)\n"
           "  --send TEXT                    application data after each attestation\n"
           "  --timeout SECONDS              give up when the server does not connect, shake\n"
           "                                 hands or answer within this (default 30; exit 3)\n"
           "  --cert-bound                   GET " CVMA_ATLS_WELL_KNOWN "?nonce=\n"
           "                                 instead: evidence bound to the server's certificate\n"
           "                                 and the nonce, not to the session (docs/atls.md);\n"
           "                                 not with --mutual, --reattest-every or --send\n"
           "  --mutual --sim DIR             attest this end too, from the simulator's DIR;\n"
           "                                 answers the server's renewals (--client-lease)\n"
           "  --switch-after N               (tests, with several --mutual --sim DIR) answer\n"
           "                                 attestation i from the (i/N)-th DIR (a migration)\n"
           "  --mutual --collect             attest this end too, collecting on this CVM\n"
           "  --tsm-root DIR --dev-root DIR  (with --collect) trees standing for\n"
           "                                 /sys/kernel/config/tsm and /dev\n"
           "  --cert FILE --key FILE         the TLS certificate and key (default: fresh)\n"
           "  --misbehave late-renewal       (tests, with --reattest-every) after a renewal\n"
           "                                 is verified, wait until the lease it renews has\n"
           "                                 run out, as a slow verification would\n"
           "  --misbehave straddle|straddle-slow  (tests, with --mutual) after the first\n"
           "                                 attestation, DATA frames whose TLS records each\n"
           "                                 end inside the next frame (a record every 0.1 s /\n"
           "                                 4 s), the server's NONCE frames unanswered\n"
           "  --misbehave cross-renewal      (tests, with --mutual --reattest-every) when the\n"
           "                                 server's NONCE comes, begin this end's own round\n"
           "                                 at once and answer it inside (renewals crossing)\n\n%s"
           "\nexit codes: 0 accepted, 1 refused (or the connection broke before a result),\n"
           "2 usage error, a file that cannot be read, this end's evidence (--mutual) that\n"
           "cannot be made or a result that cannot be written,\n"
           "3 no answer in time or the server busy (closed the connection before the\n"
           "handshake completed), a renewal verified after the lease it renews ran out, or\n"
           "an undecided result (collateral or a registry could not be had)\n",
           verify_help);
}

struct atls_opts {
    const char *listen, *connect, *cert, *key, *relay, *misbehave, *send;
    struct cvma_sim_atls sim;
    struct cvma_collect_atls collect;
    bool mutual, json, cert_bound, use_collect, rounds_given;
    long connections, max_connections, reattest, rounds;
    long handshake_timeout, idle_timeout, min_reattest, timeout, client_lease;
    struct cvma_verifier_config cfg;
    struct cvma_policy_config policy;
    const char *roots[CVMA_CLI_MAX_LIST], *providers[CVMA_CLI_MAX_LIST],
            *registries[CVMA_CLI_MAX_LIST];
};

static bool parse_long(const char *s, long min, long *out)
{
    uint64_t v;
    if (!cvma_cli_uint(s, (uint64_t)min, LONG_MAX, &v)) {
        return false;
    }
    *out = (long)v;
    return true;
}

static int push(const char *cmd, const char **list, size_t *n, const char *v)
{
    if (*n >= CVMA_CLI_MAX_LIST) {
        return cvma_cli_usage_error(cmd, "too many repeated options");
    }
    list[(*n)++] = v;
    return 0;
}

/* Whether the test-only --misbehave MODE is on. */
static bool misbehaving(const struct atls_opts *o, const char *mode)
{
    return o->misbehave != NULL && strcmp(o->misbehave, mode) == 0;
}

/* Parses argv; 0 parsed, -1 help printed, else the exit code. */
static int parse(const char *cmd, bool server, int argc, char **argv, struct atls_opts *o)
{
    int c, rc = 0;
    long n;
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:0";
    o->rounds = 3;
    o->max_connections = 16;
    o->handshake_timeout = 10;
    o->idle_timeout = 300;
    o->min_reattest = 1;
    o->timeout = 30;
    o->cfg.trust_root_files = o->roots;
    o->cfg.providers = o->providers;
    o->cfg.registries = o->registries;
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, server ? server_options : client_options)) != -1) {
        switch (c) {
        case O_HELP:
            server ? server_help() : client_help();
            return -1;
        case O_LISTEN:
            o->listen = optarg;
            break;
        case O_CONNECT:
            o->connect = optarg;
            break;
        case O_CERT:
            o->cert = optarg;
            break;
        case O_KEY:
            o->key = optarg;
            break;
        case O_RELAY:
            o->relay = optarg;
            break;
        case O_SEND:
            o->send = optarg;
            break;
        case O_MUTUAL:
            o->mutual = true;
            break;
        case O_CERT_BOUND:
            o->cert_bound = true;
            break;
        case O_COLLECT:
            o->use_collect = true;
            break;
        case O_TSM_ROOT:
            o->collect.tsm_root = optarg;
            break;
        case O_DEV_ROOT:
            o->collect.dev_root = optarg;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_OFFLINE:
            o->cfg.offline = true;
            break;
        case O_COLLATERAL:
            o->cfg.collateral_dir = optarg;
            break;
        case O_SIM:
            if (o->sim.n_dirs >= CVMA_SIM_ATLS_MAX_DIRS) {
                return cvma_cli_usage_error(cmd, "at most %d --sim", CVMA_SIM_ATLS_MAX_DIRS);
            }
            o->sim.dirs[o->sim.n_dirs++] = optarg;
            break;
        case O_MISBEHAVE:
            if (server ? strcmp(optarg, "reflect") != 0 && strcmp(optarg, "replay") != 0 &&
                                 strcmp(optarg, "late-check") != 0 &&
                                 strcmp(optarg, "slow-answer") != 0
                       : strcmp(optarg, "late-renewal") != 0 && strcmp(optarg, "straddle") != 0 &&
                                 strcmp(optarg, "straddle-slow") != 0 &&
                                 strcmp(optarg, "cross-renewal") != 0) {
                return cvma_cli_usage_error(cmd, "--misbehave: %s, not '%s'",
                                            server ? "reflect, replay, late-check or slow-answer"
                                                   : "late-renewal, straddle, straddle-slow or "
                                                     "cross-renewal",
                                            optarg);
            }
            o->misbehave = optarg;
            break;
        case O_SWITCH_AFTER:
        case O_CONNECTIONS:
        case O_MAX_CONNECTIONS:
        case O_ROUNDS:
            if (c == O_ROUNDS && parse_long(optarg, 0, &n) && n == 0) {
                /* A lease on a connection that is closed at once, never renewed: say so. */
                return cvma_cli_usage_error(cmd,
                                            "--rounds 0: --rounds counts re-attestations, 1 to "
                                            "1000000 (for none, leave out --reattest-every)");
            }
            if (!parse_long(optarg, 1, &n) || n > 1000000) {
                return cvma_cli_usage_error(cmd, "'%s' is not a valid count", optarg);
            }
            if (c == O_SWITCH_AFTER) {
                o->sim.switch_after = (unsigned)n;
            } else if (c == O_CONNECTIONS) {
                o->connections = n;
            } else if (c == O_MAX_CONNECTIONS) {
                if (n > 1024) {
                    return cvma_cli_usage_error(cmd, "--max-connections: 1 to 1024");
                }
                o->max_connections = n;
            } else {
                o->rounds = n;
                o->rounds_given = true;
            }
            break;
        case O_HANDSHAKE_TIMEOUT:
        case O_IDLE_TIMEOUT:
        case O_MIN_REATTEST:
        case O_TIMEOUT:
        case O_REATTEST:
        case O_CLIENT_LEASE: {
            /* Seconds, all bounded alike (a day): --reattest-every is a time, as --timeout and
             * --client-lease are, and a lease adds the two. */
            bool from_one = c == O_HANDSHAKE_TIMEOUT || c == O_TIMEOUT || c == O_CLIENT_LEASE ||
                            c == O_REATTEST;
            if (!parse_long(optarg, from_one ? 1 : 0, &n) || n > 86400) {
                return cvma_cli_usage_error(cmd,
                                            "'%s' is not a valid number of seconds (%s to 86400)",
                                            optarg, from_one ? "1" : "0");
            }
            if (c == O_HANDSHAKE_TIMEOUT) {
                o->handshake_timeout = n;
            } else if (c == O_IDLE_TIMEOUT) {
                o->idle_timeout = n;
            } else if (c == O_MIN_REATTEST) {
                o->min_reattest = n;
            } else if (c == O_CLIENT_LEASE) {
                o->client_lease = n;
            } else if (c == O_REATTEST) {
                o->reattest = n;
            } else {
                o->timeout = n;
            }
            break;
        }
        case O_TRUST_ROOT:
            rc = push(cmd, o->roots, &o->cfg.n_trust_root_files, optarg);
            break;
        case O_PROVIDER:
            rc = push(cmd, o->providers, &o->cfg.n_providers, optarg);
            break;
        case O_REGISTRY:
            rc = push(cmd, o->registries, &o->cfg.n_registries, optarg);
            break;
        case O_POLICY:
            o->policy.path = optarg;
            o->cfg.policies = &o->policy;
            o->cfg.n_policies = 1;
            break;
        default:
            return cvma_cli_bad_option(cmd, c, argv);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (optind < argc) {
        return cvma_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    if ((o->cert == NULL) != (o->key == NULL)) {
        return cvma_cli_usage_error(cmd, "--cert and --key go together");
    }
    if (o->use_collect && (o->sim.n_dirs > 0 || o->relay != NULL)) {
        return cvma_cli_usage_error(cmd, "--collect or --sim/--relay, not both");
    }
    if (server && o->relay != NULL && o->sim.n_dirs > 0) {
        return cvma_cli_usage_error(cmd, "--relay or --sim, not both: with --relay the evidence "
                                         "comes from the other server");
    }
    if (!o->use_collect && (o->collect.tsm_root != NULL || o->collect.dev_root != NULL)) {
        return cvma_cli_usage_error(cmd, "--tsm-root and --dev-root go with --collect");
    }
    if (server && o->sim.n_dirs == 0 && o->relay == NULL && !o->use_collect) {
        return cvma_cli_usage_error(cmd, "--sim DIR, --collect (or --relay) is required");
    }
    if (!server && o->connect == NULL) {
        return cvma_cli_usage_error(cmd, "--connect HOST:PORT is required");
    }
    if (!server && o->mutual && o->sim.n_dirs == 0 && !o->use_collect) {
        return cvma_cli_usage_error(cmd,
                                    "--mutual needs --sim DIR or --collect (this end's evidence)");
    }
    /* The client: an option that would do nothing here is refused, never ignored silently. */
    if (!server && o->cert_bound && o->mutual) {
        return cvma_cli_usage_error(cmd, "--cert-bound and --mutual do not go together: the "
                                         "certificate-bound mode attests the server only");
    }
    if (!server && o->cert_bound && (o->reattest > 0 || o->send != NULL)) {
        return cvma_cli_usage_error(cmd, "--cert-bound holds no connection: no --reattest-every "
                                         "or --send with it");
    }
    if (!server && !o->mutual && (o->sim.n_dirs > 0 || o->use_collect)) {
        return cvma_cli_usage_error(cmd, "--sim and --collect give this end's evidence: they go "
                                         "with --mutual");
    }
    if (!server && o->rounds_given && o->reattest == 0) {
        return cvma_cli_usage_error(cmd, "--rounds goes with --reattest-every");
    }
    if (misbehaving(o, "late-renewal") && o->reattest == 0) {
        return cvma_cli_usage_error(cmd, "--misbehave late-renewal goes with --reattest-every (it "
                                         "delays the renewals)");
    }
    /* Both ends (the server's --relay and --collect take no --sim): --switch-after moves
     * between the --sim directories, and only it reaches the second one. */
    if (o->sim.switch_after > 0 && o->sim.n_dirs < 2) {
        return cvma_cli_usage_error(cmd,
                                    "--switch-after goes with several %s DIR (it moves "
                                    "between them)",
                                    server ? "--sim" : "--mutual --sim");
    }
    if (o->sim.n_dirs > 1 && o->sim.switch_after == 0) {
        return cvma_cli_usage_error(cmd, "several --sim DIR need --switch-after N");
    }
    /* An input that cannot be read is refused before anything is served or connected to
     * (as --collect's first collection is): each --sim DIR holds the simulator's report or
     * quote. Its keys are looked for when evidence is made (a missing key is refused then,
     * to the peer). */
    for (size_t i = 0; i < o->sim.n_dirs; i++) {
        char rp[PATH_MAX], qp[PATH_MAX];
        int a = snprintf(rp, sizeof rp, "%s/report.bin", o->sim.dirs[i]);
        int b = snprintf(qp, sizeof qp, "%s/quote.bin", o->sim.dirs[i]);
        if (a < 0 || (size_t)a >= sizeof rp || b < 0 || (size_t)b >= sizeof qp ||
            (access(rp, R_OK) != 0 && access(qp, R_OK) != 0)) {
            cvma_cli_err("cvmattest %s: --sim '%s': no readable report.bin or quote.bin there "
                         "(cvmattest sim snp|tdx --keep-keys --out DIR makes them)\n",
                         cmd, o->sim.dirs[i]);
            return 2;
        }
    }
    if ((misbehaving(o, "straddle") || misbehaving(o, "straddle-slow")) &&
        (!o->mutual || o->reattest > 0 || o->send != NULL || o->cert_bound)) {
        return cvma_cli_usage_error(cmd,
                                    "--misbehave %s goes with --mutual, without "
                                    "--reattest-every or --send (it sends DATA of its own, "
                                    "for the server's lease on this end)",
                                    o->misbehave);
    }
    if (misbehaving(o, "cross-renewal") && (!o->mutual || o->reattest == 0)) {
        return cvma_cli_usage_error(cmd, "--misbehave cross-renewal goes with --mutual and "
                                         "--reattest-every (it begins this end's renewals)");
    }
    if (server && o->client_lease > 0 && !o->mutual) {
        return cvma_cli_usage_error(cmd, "--client-lease goes with --mutual");
    }
    if (server && !o->mutual) {
        /* The server verifies a client only with --mutual (its verifier is made then alone):
         * without it the verify options would do nothing. */
        const char *given = o->cfg.n_trust_root_files > 0   ? "--trust-root"
                            : o->cfg.collateral_dir != NULL ? "--collateral"
                            : o->cfg.offline                ? "--offline"
                            : o->cfg.n_policies > 0         ? "--policy"
                            : o->cfg.n_providers > 0        ? "--provider"
                            : o->cfg.n_registries > 0       ? "--registry"
                            : o->json                       ? "--json"
                                                            : NULL;
        if (given != NULL) {
            return cvma_cli_usage_error(cmd,
                                        "%s goes with --mutual: it is for verifying the client, "
                                        "and without --mutual the server verifies none",
                                        given);
        }
    }
    if (misbehaving(o, "late-check") && o->client_lease == 0) {
        return cvma_cli_usage_error(cmd, "--misbehave late-check goes with --client-lease (it "
                                         "delays the checks of the client's renewals)");
    }
    return 0;
}

/*
 * --collect: one collection at start (a random REPORT_DATA), so a machine that is no CVM, or
 * a TEE that does not answer for the REPORT_DATA asked, is refused at once with what
 * collection looked for and the exit code collect gives.
 */
static int collect_works(const char *cmd, const struct cvma_atls_source *src)
{
    uint8_t rd[64], *ev = NULL;
    size_t len = 0;
    char err[1024];
    if (RAND_bytes(rd, sizeof rd) != 1) {
        return 2;
    }
    enum cvma_status st = src->evidence(src->ctx, rd, NULL, 0, &ev, &len, err, sizeof err);
    free(ev);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest %s: --collect: %s\n", cmd, err);
        return cvma_status_exit_code(st);
    }
    return 0;
}

/* "HOST:PORT" into host and port (both NUL-terminated); an IPv6 HOST may be written in
 * brackets, "[::1]:PORT" (RFC 3986 form), and is handed on without them. */
static bool split_addr(const char *s, char *host, size_t host_len, char *port, size_t port_len)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= host_len || strlen(colon + 1) >= port_len ||
        colon[1] == '\0') {
        return false;
    }
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (hl >= 1 && s[0] == '[') {
        /* brackets only around the whole host, and only a host with a colon needs them */
        if (hl < 2 || s[hl - 1] != ']' || memchr(s + 1, ':', hl - 2) == NULL ||
            memchr(s + 1, '[', hl - 2) != NULL || memchr(s + 1, ']', hl - 2) != NULL) {
            return false;
        }
        h = s + 1;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, strlen(colon + 1) + 1);
    return true;
}

/*
 * Time-outs on a connection's socket, watched through a callback on its BIO: SO_RCVTIMEO and
 * SO_SNDTIMEO bound each wait; while total is set (the server's handshake and first frame)
 * they are set before every read and write to what is left until end, so a peer trickling
 * bytes cannot stretch the phase. expired: a wait timed out.
 */
struct deadline {
    int fd;
    bool total, expired;
    struct timespec end;
};

/* Milliseconds from now (CLOCK_MONOTONIC) to end; 0 or less when it is past. */
static long ms_until(struct timespec end)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
}

static void set_timeouts(int fd, long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static long deadline_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl,
                        int ret, size_t *processed)
{
    struct deadline *d = (struct deadline *)BIO_get_callback_arg(b);
    (void)argp;
    (void)len;
    (void)argi;
    (void)argl;
    (void)processed;
    if (d == NULL) {
        return ret;
    }
    if (d->total && (oper == BIO_CB_READ || oper == BIO_CB_WRITE)) {
        long left = ms_until(d->end);
        if (left <= 0) {
            d->expired = true;
            return -1; /* the read or write fails without waiting */
        }
        set_timeouts(d->fd, left);
    }
    if ((oper == (BIO_CB_READ | BIO_CB_RETURN) || oper == (BIO_CB_WRITE | BIO_CB_RETURN)) &&
        ret <= 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        d->expired = true;
    }
    return ret;
}

/* Watches ssl's socket: a total deadline of total_s seconds from now, else per wait wait_s
 * (0: none). */
static void deadline_start(struct deadline *d, SSL *ssl, int fd, long total_s, long wait_s)
{
    memset(d, 0, sizeof *d);
    d->fd = fd;
    if (total_s > 0) {
        d->total = true;
        clock_gettime(CLOCK_MONOTONIC, &d->end);
        d->end.tv_sec += total_s;
    }
    set_timeouts(fd, (total_s > 0 ? total_s : wait_s) * 1000);
    BIO_set_callback_arg(SSL_get_rbio(ssl), (char *)d);
    BIO_set_callback_ex(SSL_get_rbio(ssl), deadline_cb);
}

/*
 * A new total deadline of secs seconds from now for what follows (the next frame, the answer
 * to it), 0: none. Total, not per wait: a peer that trickles a byte now and then, or opens
 * its receive window a little at a time, gains nothing.
 */
static void deadline_arm(struct deadline *d, long secs)
{
    if (d == NULL) {
        return;
    }
    d->expired = false;
    d->total = secs > 0;
    if (secs > 0) {
        clock_gettime(CLOCK_MONOTONIC, &d->end);
        d->end.tv_sec += secs;
    }
    set_timeouts(d->fd, secs * 1000);
}

/* A total deadline at end (CLOCK_MONOTONIC) for what follows; one already past fails the next
 * read or write at once, as expired. */
static void deadline_arm_at(struct deadline *d, struct timespec end)
{
    long left = ms_until(end);
    d->expired = false;
    d->total = true;
    d->end = end;
    set_timeouts(d->fd, left > 0 ? left : 1);
}

static struct deadline *deadline_of(SSL *ssl)
{
    return (struct deadline *)BIO_get_callback_arg(SSL_get_rbio(ssl));
}

/* Back to a deadline saved earlier (a copy of *d): the same end, or none. */
static void deadline_restore(struct deadline *d, const struct deadline *saved)
{
    if (saved->total) {
        deadline_arm_at(d, saved->end);
    } else {
        deadline_arm(d, 0);
    }
}

/*
 * This end's refusal of its peer: an ERROR frame, msg or, when msg is NULL, the "refused: CODE"
 * of the result r (cvma_atls_send_refusal), written under a deadline of its own, secs from now
 * (left armed for the close that follows). The exchange's deadline may have passed while the
 * result was made (a slow verification, collateral fetched online): a write after it fails at
 * once, and the peer would see the connection closed instead of the reason. Both ends refuse
 * through here.
 */
static void refuse_peer(SSL *ssl, long secs, const struct cvma_result *r, const char *msg)
{
    deadline_arm(deadline_of(ssl), secs);
    if (msg != NULL) {
        (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg, strlen(msg));
    } else {
        cvma_atls_send_refusal(ssl, r);
    }
}

/* Whether a wait on ssl timed out. */
static bool timed_out(SSL *ssl)
{
    const struct deadline *d = (const struct deadline *)BIO_get_callback_arg(SSL_get_rbio(ssl));
    return d != NULL && d->expired;
}

/* Whether a comes before b (CLOCK_MONOTONIC). */
static bool ts_before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* t moved on by ns nanoseconds (ns >= 0). */
static void ts_add_ns(struct timespec *t, int64_t ns)
{
    t->tv_sec += (time_t)(ns / 1000000000);
    t->tv_nsec += (long)(ns % 1000000000);
    if (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

/*
 * Waits until the peer sends something (a frame to read) or until comes. True: something to
 * read (or the socket failed: the read says how); false: until came first. Nothing is read.
 * The time is looked at first: bytes the TLS layer already holds do not make until wait (a
 * peer ending each record inside its next frame keeps some there all the time).
 */
static bool frame_before(SSL *ssl, int fd, struct timespec until)
{
    for (;;) {
        long left = ms_until(until);
        if (left <= 0) {
            return false;
        }
        if (SSL_has_pending(ssl)) {
            return true;
        }
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, left > 86400000L ? 86400000 : (int)left);
        if (r > 0 || (r < 0 && errno != EINTR)) {
            return true;
        }
    }
}

/*
 * Connects to addr; timeout_s > 0: every address tried within timeout_s in all (and each later
 * wait on the socket times out; callers set their own deadline after the connect).
 * -1 on failure, with *why: 0 when addr is not HOST:PORT or names no host (a usage error),
 * else why no connection was made: the last connect's errno (EINPROGRESS: timed out;
 * ECONNREFUSED, EHOSTUNREACH, ...), ETIMEDOUT when the resolver did not answer within
 * timeout_s (or no time was left for an address), EAGAIN when it cannot answer now, or the
 * look-up's errno (EAI_SYSTEM; ENOMEM when out of memory).
 */
static int tcp_connect(const char *addr, long timeout_s, int *why)
{
    char host[256], port[16];
    struct addrinfo hints, *res = NULL;
    int fd = -1, gai;
    bool reset = false;
    *why = 0;
    if (!split_addr(addr, host, sizeof host, port, sizeof port)) {
        return -1;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    /* The name's look-up counts in timeout_s too. */
    int64_t deadline = timeout_s > 0 ? cvma_monotonic_ms() + (int64_t)timeout_s * 1000 : 0;
    if ((gai = cvma_getaddrinfo_until(host, port, &hints, deadline, &res)) != 0) {
        /* No answer from the resolver is no answer (in time: ETIMEDOUT); a name it says does
         * not exist is the caller's mistake. */
        if (gai == EAI_AGAIN) {
            *why = deadline != 0 && cvma_monotonic_ms() >= deadline ? ETIMEDOUT : EAGAIN;
        } else if (gai == EAI_SYSTEM || gai == EAI_MEMORY) {
            *why = gai == EAI_MEMORY || errno == 0 ? ENOMEM : errno;
        }
        return -1;
    }
    *why = ECONNREFUSED; /* (getaddrinfo gives at least one address) */
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        long left = (long)(deadline - cvma_monotonic_ms());
        if (timeout_s > 0 && left <= 0) {
            *why = ETIMEDOUT;
            break;
        }
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            *why = errno;
            continue;
        }
        if (timeout_s > 0) {
            set_timeouts(fd, left);
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            break;
        }
        *why = errno; /* EINPROGRESS when SO_SNDTIMEO ran out */
        reset = reset || errno == ECONNRESET;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        *why = 0;
    } else if (reset) {
        *why = ECONNRESET; /* a server at one address reset us (busy): said over a later error */
    }
    return fd;
}

static int verify_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1; /* aTLS: the evidence vouches for the key, not a CA */
}

/*
 * --cert (PEM certificates, this end's first, then its chain) and --key (an unencrypted PEM
 * private key; the same file as --cert may hold both) into ctx, read through the project's
 * secret reader, not OpenSSL's file functions: regular files only (a FIFO or a directory is
 * refused at once, never waited on), their buffers wiped after, and never a passphrase prompt.
 * Every certificate block must read: a damaged one in the chain is an error, as OpenSSL's
 * SSL_CTX_use_certificate_chain_file has it, not the end of the chain. False after saying why.
 */
static bool use_cert_key(const char *cmd, SSL_CTX *ctx, const char *cert, const char *key)
{
    struct cvma_buf cb = {0}, kb = {0};
    BIO *bio = NULL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    bool ok = false;
    int n = 0;

    if (cvma_file_read_secret(cert, 1u << 20, &cb) != CVMA_OK) {
        cvma_cli_err("cvmattest %s: cannot read --cert '%s': %s\n", cmd, cert,
                     cvma_file_read_strerror(errno));
        goto out;
    }
    if (cvma_file_read_secret(key, 1u << 20, &kb) != CVMA_OK) {
        cvma_cli_err("cvmattest %s: cannot read --key '%s': %s\n", cmd, key,
                     cvma_file_read_strerror(errno));
        goto out;
    }
    if ((bio = BIO_new_mem_buf(cb.p, (int)cb.len)) == NULL) {
        cvma_cli_err("cvmattest %s: out of memory\n", cmd);
        goto out;
    }
    ERR_clear_error();
    for (;;) {
        x = n == 0 ? PEM_read_bio_X509_AUX(bio, NULL, cvma_pem_no_passphrase, NULL)
                   : PEM_read_bio_X509(bio, NULL, cvma_pem_no_passphrase, NULL);
        if (x == NULL) {
            /* The end of the blocks, or one that does not read. */
            unsigned long e = ERR_peek_last_error();
            if (n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                break;
            }
            cvma_cli_err("cvmattest %s: --cert '%s': %s\n", cmd, cert,
                         n == 0 ? "holds no PEM certificate"
                                : "a certificate block after the first does not read");
            goto out;
        }
        if ((n == 0 ? SSL_CTX_use_certificate(ctx, x) : SSL_CTX_add1_chain_cert(ctx, x)) != 1) {
            cvma_cli_err("cvmattest %s: --cert '%s': certificate %d cannot be used\n", cmd, cert,
                         n + 1);
            goto out;
        }
        X509_free(x);
        x = NULL;
        n++;
    }
    if ((k = cvma_pem_private_key(kb.p, kb.len)) == NULL) {
        cvma_cli_err("cvmattest %s: --key '%s' holds no unencrypted PEM private key\n", cmd, key);
        goto out;
    }
    if (SSL_CTX_use_PrivateKey(ctx, k) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        cvma_cli_err("cvmattest %s: --key '%s' is not the key of --cert '%s'\n", cmd, key, cert);
        goto out;
    }
    ok = true;
out:
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(bio);
    cvma_buf_free_secret(&cb);
    cvma_buf_free_secret(&kb);
    return ok;
}

/* A TLS 1.3-only context with this end's certificate. NULL after printing why. */
static SSL_CTX *make_ctx(const char *cmd, const struct atls_opts *o, bool server)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    bool ok = false;
    /* TLS 1.2 may be negotiated so that the refusal can name its reason: aTLS refuses any
     * session below 1.3 right after the handshake (cvma_atls_check_channel), before a frame. */
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        goto out;
    }
    if (o->cert != NULL) {
        if (!use_cert_key(cmd, ctx, o->cert, o->key)) {
            SSL_CTX_free(ctx);
            return NULL;
        }
        ok = true;
    } else {
        ok = cvma_atls_self_signed(server ? "cvmattest atls server" : "cvmattest atls client", 30,
                                   &k, &x) == CVMA_OK &&
             SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1;
    }
    if (server && o->mutual) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
        /* A client that resumes a session (from a ticket this server gave) keeps the
         * certificate it presented first; without a session ID context OpenSSL aborts every
         * such handshake with an internal error. A resumed session has an exporter of its
         * own and is attested again, as any other. */
        static const unsigned char sid_ctx[] = "cvmattest atls-server --mutual";
        if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1) != 1) {
            ok = false;
        }
    } else if (!server) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_any);
    }
out:
    EVP_PKEY_free(k);
    X509_free(x);
    if (!ok) {
        cvma_cli_err("cvmattest %s: cannot set up TLS (certificate or key)\n", cmd);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Explains a failed handshake; a protocol-version failure is ATLS_TLS_VERSION. */
static void handshake_failed(const char *cmd)
{
    unsigned long e = ERR_peek_last_error();
    int r = ERR_GET_REASON(e);
    if (r == SSL_R_UNSUPPORTED_PROTOCOL || r == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
        r == SSL_R_WRONG_SSL_VERSION || r == SSL_R_UNKNOWN_PROTOCOL ||
        r == SSL_R_NO_PROTOCOLS_AVAILABLE || r == SSL_R_VERSION_TOO_LOW) {
        cvma_cli_err("cvmattest %s: refused: %s: the peer does not speak TLS 1.3 (%s)\n", cmd,
                     cvma_reason_name(CVMA_R_ATLS_TLS_VERSION), ERR_reason_error_string(e));
    } else {
        cvma_cli_err("cvmattest %s: TLS handshake failed: %s\n", cmd,
                     e != 0 ? ERR_reason_error_string(e) : "connection closed");
    }
    ERR_clear_error();
}

/*
 * Whether a failed SSL_connect (ret, and errno just after it) means the server closed or reset
 * the connection before the handshake completed, with no TLS alert (what a busy atls-server
 * does), rather than a time-out or a handshake the server refused.
 */
static bool closed_early(SSL *ssl, int ret, int err)
{
    int se = SSL_get_error(ssl, ret);
    if (timed_out(ssl)) {
        return false;
    }
    if (se == SSL_ERROR_ZERO_RETURN) {
        return true;
    }
    if (se == SSL_ERROR_SYSCALL) {
        return err == 0 || err == ECONNRESET || err == EPIPE;
    }
    return se == SSL_ERROR_SSL &&
           ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/* What a client says (exit 3) when the server closed before the handshake completed. */
static void say_closed_early(const char *cmd)
{
    cvma_cli_err(
            "cvmattest %s: server closed the connection before the handshake completed (busy?)\n",
            cmd);
}

/*
 * The lease an accepted result of atls-client gives (docs/atls.md, "Re-attestation: a lease"):
 * with --reattest-every it holds until until (the time the result was made + --reattest-every
 * + --timeout, the instant the next attestation's evidence is due), without it until the end
 * of the connection (timed false).
 */
struct lease {
    bool timed;
    time_t until;
    long every;
};

/* The result JSON (pretty) with the lease as a last top-level member "lease"; NULL when out of
 * memory. */
static char *json_with_lease(const struct cvma_result *r, const struct lease *l)
{
    char until[32], *out = NULL;
    json_t *o = cvma_result_to_json(r), *m = json_object();
    if (l->timed) {
        cvma_time_format(l->until, until, sizeof until);
    }
    if (o != NULL && m != NULL &&
        json_object_set_new(m, "valid_until", l->timed ? json_string(until) : json_null()) == 0 &&
        json_object_set_new(m, "reattest_every", l->timed ? json_integer(l->every) : json_null()) ==
                0 &&
        json_object_set(o, "lease", m) == 0) {
        out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    json_decref(m);
    json_decref(o);
    return out;
}

/* Prints a result: one line, its reasons, the JSON with --json. lease: what an accepted result
 * of a connection gives (NULL: no lease: a certificate-bound result, or a client's result at
 * the server; no "valid until" and no "lease" member). note: said at the end of the line (NULL:
 * nothing). False when it could not be written whole (out of memory for the JSON, or stdout
 * failing). */
static bool print_result(const char *who, unsigned n, const struct cvma_result *r, bool json,
                         const struct lease *lease, const char *note)
{
    char until[32] = "the end of the connection";
    bool ok = cvma_result_exit_code(r) == 0, written = true;
    if (lease != NULL && lease->timed) {
        cvma_time_format(lease->until, until, sizeof until);
    }
    /* Connection threads print results at once: a result's lines stay together. */
    flockfile(stdout);
    printf("%s: attestation %u: %s (%s)%s%s%s\n", who, n,
           cvma_result_status_name(cvma_result_status(r)), cvma_result_tee(r),
           ok && lease != NULL ? ", valid until " : "", ok && lease != NULL ? until : "",
           note != NULL ? note : "");
    for (size_t i = 0; i < cvma_result_reason_count(r); i++) {
        printf("  %s %s: %s\n", cvma_result_reason_severity(r, i), cvma_result_reason_code(r, i),
               cvma_result_reason_detail(r, i));
    }
    if (json) {
        /* An accepted result carries its lease; a refused one none. */
        char *j = ok && lease != NULL ? json_with_lease(r, lease) : cvma_result_json(r, true);
        if (j != NULL) {
            printf("%s\n", j);
        } else {
            cvma_cli_err("cvmattest: out of memory for the result JSON\n");
            written = false;
        }
        free(j);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cvma_cli_err("cvmattest: the result could not be written\n");
        written = false;
    }
    funlockfile(stdout);
    return written;
}

/*
 * A re-attestation whose result names another measurement than the result it renews
 * (MEASUREMENT_CHANGED, a warning: docs/reasons.md). Within one TLS session the peer's workload
 * cannot change for a genuine CVM (a live migration keeps the launch measurement): the
 * session's key would now be vouched for by another image. Either end's lease refuses such a
 * renewal whatever its status (cvma_atls_send_refusal says "refused: MEASUREMENT_CHANGED") and
 * closes the connection (docs/atls.md).
 */
static bool image_changed(const struct cvma_result *r)
{
    return r != NULL && cvma_result_has_reason(r, "MEASUREMENT_CHANGED");
}

/* After a re-attestation verified against the previous result (either end's lease on its
 * peer): a platform that moved (PLATFORM_CHANGED) is said, and whether the connection is closed
 * for it (refused: the result is, the new platform not acceptable); so is another image
 * (MEASUREMENT_CHANGED: refused whatever the result, image_changed). */
static void say_moved(const char *who, const char *peer, const struct cvma_result *r, bool refused)
{
    if (r != NULL && cvma_result_has_reason(r, "PLATFORM_CHANGED")) {
        printf("%s: the %s's platform changed (a migration)%s\n", who, peer,
               refused && cvma_result_exit_code(r) != 0
                       ? "; the new platform is refused: closing the connection"
                       : "");
        fflush(stdout);
    }
    if (refused && image_changed(r)) {
        printf("%s: the %s's measurement changed (another image on this TLS session): closing "
               "the connection\n",
               who, peer);
        fflush(stdout);
    }
}

/*
 * This end's own evidence source (the server's, the mutual client's --sim or --collect),
 * watched: failed is set when the source could not make evidence (a simulator directory
 * without its key, a TEE that did not answer in time). The library hands back the source's own
 * status, and its CVMA_E_IO reads like the peer's connection failing: the flag keeps this
 * end's failure apart, so that it is said as this end's (the client's exit 2) and not as a
 * refusal of the peer.
 */
struct own_source {
    struct cvma_atls_source src; /* what the library is given: inner, watched */
    const struct cvma_atls_source *inner;
    bool failed;
    struct timespec made; /* CLOCK_MONOTONIC when the last evidence was made (0: none yet) */
};

static enum cvma_status own_evidence(void *ctx, const uint8_t report_data[64], const uint8_t *nonce,
                                     size_t nonce_len, uint8_t **out, size_t *out_len, char *err,
                                     size_t err_len)
{
    struct own_source *os = ctx;
    enum cvma_status st = os->inner->evidence(os->inner->ctx, report_data, nonce, nonce_len, out,
                                              out_len, err, err_len);
    if (st != CVMA_OK) {
        os->failed = true;
    } else {
        clock_gettime(CLOCK_MONOTONIC, &os->made);
    }
    return st;
}

/* inner watched by os (which must stay where it is while the source returned is in use). */
static const struct cvma_atls_source *own_source_init(struct own_source *os,
                                                      const struct cvma_atls_source *inner)
{
    os->src.evidence = own_evidence;
    os->src.ctx = os;
    os->inner = inner;
    os->failed = false;
    os->made = (struct timespec){0, 0};
    return &os->src;
}

/*
 * The ERROR this end sends when its own source failed, in the style of the others (docs/atls.md)
 * but not the bare "refused" of a refusal, which would blame the peer. It says no more (no
 * path, no device of this end): the peer learns only that this end could not attest.
 */
static const char own_failed_msg[] = "refused: this end could not produce its evidence";

/* The refusal of a peer that broke the protocol (cvma_atls_attest_peer: CVMA_ATLS_ERR_PROTOCOL),
 * naming the reason as cvma_atls_send_refusal names a result's. */
static const char protocol_msg[] = "refused: ATLS_PROTOCOL_VIOLATION";

/* atls-server's refusal of DATA before attestation: before any NONCE, and with --mutual while
 * it waits for the client's evidence (docs/atls.md, Frames). */
static const char data_first_msg[] =
        "refused: ATLS_PROTOCOL_VIOLATION: DATA before attestation: a client sends a NONCE "
        "first (and, with --mutual, its own evidence)";

/*
 * Verifies the peer once (cvma_atls_attest_peer): sends a fresh nonce, answers the peer's own
 * NONCE with this end's evidence when own is given (once while *answered is false), verifies
 * the EVIDENCE. Returns 0 accepted, 1 refused (or the connection closed before the evidence),
 * 2 error (this end's own evidence could not be made: own->failed; sending the peer
 * own_failed_msg is the caller's), 3 undecided (collateral or a registry could not be had, as
 * verify's exit 3) or the peer did not answer in time; *res is the result when there is one.
 * *refusal: the ERROR to send the peer when there is no result and it is not the bare
 * "refused" of cvma_atls_send_refusal (a peer that broke the protocol: protocol_msg; a client
 * sending DATA where the server waits for its evidence: data_first_msg), else NULL.
 */
static int attest_peer(const char *cmd, SSL *ssl, struct cvma_verifier *v,
                       struct cvma_atls_check *chk, struct own_source *own, bool *answered,
                       uint8_t nonce[CVMA_ATLS_NONCE_LEN], struct cvma_result **res,
                       const char **refusal)
{
    char err[1024] = "";
    const struct cvma_atls_source *src = NULL;
    *refusal = NULL;
    if (own != NULL) {
        own->failed = false;
        src = &own->src;
    }
    enum cvma_status st =
            cvma_atls_attest_peer(ssl, v, chk, src, answered, nonce, res, err, sizeof err);
    if (st == CVMA_REJECTED &&
        strncmp(err, CVMA_ATLS_ERR_PROTOCOL, strlen(CVMA_ATLS_ERR_PROTOCOL)) == 0) {
        *refusal = protocol_msg;
    }
    if (st == CVMA_REJECTED && chk->peer_role == CVMA_ATLS_CLIENT &&
        strcmp(err, CVMA_ATLS_ERR_DATA_FIRST) == 0) {
        /* The server's rule for DATA before attestation, whether a NONCE came first or not. */
        *refusal = data_first_msg;
        cvma_cli_err("cvmattest %s: closing a connection: %s (%s)\n", cmd,
                     data_first_msg + strlen("refused: "), err + strlen(CVMA_ATLS_ERR_PROTOCOL));
        return 1;
    }
    if (st == CVMA_OK) {
        return cvma_result_exit_code(*res); /* 0, 1, or 3: undecided is not "refused" */
    }
    if (own != NULL && own->failed) {
        cvma_cli_err("cvmattest %s: this end's evidence could not be made: %s\n", cmd, err);
        return 2;
    }
    if (st == CVMA_E_IO && timed_out(ssl)) {
        cvma_cli_err("cvmattest %s: no evidence from the peer: timed out\n", cmd);
        return 3;
    }
    cvma_cli_err("cvmattest %s: %s\n", cmd, err);
    return st == CVMA_REJECTED || st == CVMA_E_IO ? 1 : 2;
}

struct relay {
    const char *addr;
};

/* --relay: evidence fetched from another aTLS server for the same nonce (a relay attack). */
static enum cvma_status relay_evidence(void *ctx, const uint8_t report_data[64],
                                       const uint8_t *nonce, size_t nonce_len, uint8_t **out,
                                       size_t *out_len, char *err, size_t err_len)
{
    const char *addr = ((const struct relay *)ctx)->addr;
    enum cvma_status st = CVMA_E_IO;
    SSL_CTX *sctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    uint8_t type = 0;
    int why = 0, fd = tcp_connect(addr, 30, &why);
    (void)report_data;
    *out = NULL;
    if (sctx == NULL || fd < 0 || SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION) != 1 ||
        (ssl = SSL_new(sctx)) == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1 ||
        cvma_atls_write_frame(ssl, CVMA_ATLS_F_NONCE, nonce, nonce_len) != CVMA_OK ||
        cvma_atls_read_frame(ssl, &type, out, out_len) != CVMA_OK || type != CVMA_ATLS_F_EVIDENCE) {
        snprintf(err, err_len, "relay: no evidence from %s", addr);
        free(*out);
        *out = NULL;
        goto out;
    }
    st = CVMA_OK;
out:
    if (ssl != NULL) {
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(sctx);
    if (fd >= 0) {
        close(fd);
    }
    return st;
}

static int make_verifier(const char *cmd, const struct atls_opts *o, struct cvma_verifier **v)
{
    char err[768];
    if (cvma_verifier_new(&o->cfg, v, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest %s: %s\n", cmd, err);
        return 2;
    }
    return 0;
}

/* Reads an HTTP head (up to the blank line) into buf, *len bytes. False when too long (then
 * *len is cap - 1, the buffer full) or closed. */
static bool read_head(SSL *ssl, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    *len = 0;
    while (n + 1 < cap) {
        size_t got = 0;
        if (SSL_read_ex(ssl, buf + n, 1, &got) != 1 || got != 1) {
            return false;
        }
        n++;
        buf[n] = '\0';
        if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0) {
            *len = n;
            return true;
        }
        *len = n;
    }
    return false;
}

/* The response; no body after the head when the request was a HEAD (RFC 9110, 9.3.2). */
static void http_reply(SSL *ssl, bool head_only, const char *status, const char *type,
                       const uint8_t *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, type, len);
    size_t done = 0;
    if (n > 0 && (size_t)n < sizeof head && SSL_write_ex(ssl, head, (size_t)n, &done) == 1 &&
        len > 0 && !head_only) {
        (void)SSL_write_ex(ssl, body, len, &done);
    }
}

/*
 * The certificate-bound endpoint: GET CVMA_ATLS_WELL_KNOWN?nonce=HEX (docs/atls.md). The path
 * must be the endpoint's exactly (404 otherwise); its query must hold one nonce parameter of
 * 16..64 bytes in hex (400 otherwise; other parameters are ignored). With --mutual (mutual)
 * the endpoint is off: any request is answered 403, and no evidence is made.
 */
static void serve_http(SSL *ssl, const struct cvma_atls_source *src, long idle_timeout, bool mutual)
{
    char head[8192], err[512];
    uint8_t nonce[64], rd[64], *ev = NULL;
    size_t n = 0, ev_len = 0, head_len = 0;

    if (!read_head(ssl, head, sizeof head, &head_len)) {
        if (timed_out(ssl)) {
            cvma_cli_err("cvmattest atls-server: closing a connection: no HTTP request in "
                         "time (--handshake-timeout)\n");
        } else if (head_len + 1 == sizeof head) {
            /* Said, not a bare close (the head is read no further; the answer is written
             * within what is left of --handshake-timeout). */
            char msg[64];
            snprintf(msg, sizeof msg, "{\"error\": \"the request head is over %zu bytes\"}\n",
                     sizeof head - 1);
            http_reply(ssl, false, "431 Request Header Fields Too Large", "application/json",
                       (const uint8_t *)msg, strlen(msg));
            cvma_cli_err("cvmattest atls-server: an HTTP request refused (431): its head is "
                         "over %zu bytes\n",
                         sizeof head - 1);
        }
        return;
    }
    bool head_only = head_len >= 5 && memcmp(head, "HEAD ", 5) == 0;
    if (mutual) {
        /* The endpoint checks no client: with --mutual it would hand out this server's
         * evidence to any peer, bypassing the client's attestation. */
        const char *msg = "{\"error\": \"the certificate-bound endpoint is off: this server "
                          "attests only to clients that attest too (--mutual)\"}\n";
        http_reply(ssl, head_only, "403 Forbidden", "application/json", (const uint8_t *)msg,
                   strlen(msg));
        cvma_cli_err("cvmattest atls-server: an HTTP request refused (403): the "
                     "certificate-bound endpoint is off with --mutual\n");
        return;
    }
    /* The request is in: the answer (evidence collection may take a while) has a deadline of
     * its own, --idle-timeout from now in all. */
    deadline_arm(deadline_of(ssl), idle_timeout);
    enum cvma_atls_http_req req =
            cvma_atls_http_parse_request((const uint8_t *)head, head_len, nonce, &n);
    if (req == CVMA_ATLS_HTTP_NOT_FOUND) {
        const char *msg = "{\"error\": \"not found\"}\n";
        http_reply(ssl, head_only, "404 Not Found", "application/json", (const uint8_t *)msg,
                   strlen(msg));
        return;
    }
    if (req != CVMA_ATLS_HTTP_OK ||
        cvma_atls_cert_binding(SSL_get_certificate(ssl), nonce, n, rd) != CVMA_OK) {
        const char *msg = "{\"error\": \"nonce: one nonce parameter, 16 to 64 bytes in hex\"}\n";
        http_reply(ssl, head_only, "400 Bad Request", "application/json", (const uint8_t *)msg,
                   strlen(msg));
        return;
    }
    if (src->evidence(src->ctx, rd, nonce, n, &ev, &ev_len, err, sizeof err) != CVMA_OK) {
        const char *msg = "{\"error\": \"no evidence\"}\n";
        cvma_cli_err("cvmattest atls-server: %s\n", err);
        http_reply(ssl, head_only, "500 Internal Server Error", "application/json",
                   (const uint8_t *)msg, strlen(msg));
        return;
    }
    http_reply(ssl, head_only, "200 OK", "application/json", ev, ev_len);
    printf("atls-server: certificate-bound evidence sent\n");
    fflush(stdout);
    free(ev);
}

/* A connection whose first byte is an uppercase ASCII letter is an HTTP request, never a frame. */
_Static_assert(CVMA_ATLS_F_NONCE < 'A' && CVMA_ATLS_F_EVIDENCE < 'A' && CVMA_ATLS_F_ERROR < 'A' &&
                       CVMA_ATLS_F_DATA < 'A',
               "a frame type would read as the first letter of an HTTP method");

/*
 * atls-server --mutual --client-lease (docs/atls.md, "The server's lease on a mutual client"):
 * each accepted result of the client holds for --client-lease seconds; then the server sends a
 * NONCE on the live connection, and the client's EVIDENCE is due within --handshake-timeout.
 * It is verified as the client verifies the server's renewals (cvma_atls_verify with the
 * previous result: a move is PLATFORM_CHANGED); refused, undecided or late, the connection is
 * closed. Meanwhile the connection goes on as before (DATA is echoed, the client's NONCE
 * answered).
 */
#define CLIENT_LEASE_NONCES 16 /* the last nonces sent to the client, for ATLS_NONCE_STALE */

struct client_lease {
    bool on, pending;
    bool extended;                      /* end moved for an answer to the client (pending) */
    unsigned n;                         /* the client's results so far */
    char *prev;                         /* the last accepted one (JSON) */
    struct timespec due;                /* the next NONCE (not pending) */
    struct timespec end;                /* its EVIDENCE's deadline (pending) */
    uint8_t nonce[CVMA_ATLS_NONCE_LEN]; /* the pending NONCE */
    uint8_t old[CLIENT_LEASE_NONCES][CVMA_ATLS_NONCE_LEN];
    size_t n_old;
};

static void lease_remember(struct client_lease *cl, const uint8_t nonce[CVMA_ATLS_NONCE_LEN])
{
    if (cl->n_old == CLIENT_LEASE_NONCES) {
        memmove(cl->old[0], cl->old[1], sizeof cl->old - sizeof cl->old[0]);
        cl->n_old--;
    }
    memcpy(cl->old[cl->n_old++], nonce, CVMA_ATLS_NONCE_LEN);
}

/* An accepted result r of the client: the next renewal is due secs from now. False when out of
 * memory. */
static bool lease_renew(struct client_lease *cl, const struct cvma_result *r, long secs)
{
    char *j = r != NULL ? cvma_result_json(r, false) : NULL;
    if (j == NULL) {
        return false;
    }
    free(cl->prev);
    cl->prev = j;
    clock_gettime(CLOCK_MONOTONIC, &cl->due);
    cl->due.tv_sec += secs;
    cl->pending = false;
    return true;
}

/* The renewal: a fresh NONCE to the client, its EVIDENCE due answer_s from now. */
static bool lease_ask(SSL *ssl, struct client_lease *cl, long answer_s)
{
    if (RAND_bytes(cl->nonce, sizeof cl->nonce) != 1 ||
        cvma_atls_write_frame(ssl, CVMA_ATLS_F_NONCE, cl->nonce, sizeof cl->nonce) != CVMA_OK) {
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, &cl->end);
    cl->end.tv_sec += answer_s;
    cl->pending = true;
    cl->extended = false;
    return true;
}

/* b - a in nanoseconds (CLOCK_MONOTONIC). */
static int64_t ts_diff_ns(struct timespec a, struct timespec b)
{
    return (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
}

/*
 * The client's EVIDENCE for the pending renewal, read at arrived: verified against the previous
 * result. True when accepted (the lease renewed); false after the refusal was sent (the caller
 * closes).
 *
 * Lateness is judged by the evidence's arrival: it was read by the renewal's deadline (cl->end,
 * the read's own deadline), so the client delivered in time, and the time its verification
 * takes (collateral fetched online) is this end's. A verification that finished after the
 * deadline is not silent, though: the result's line says by how much.
 */
static bool lease_check(const char *cmd, SSL *ssl, struct cvma_verifier *v, struct client_lease *cl,
                        const struct atls_opts *o, const uint8_t *ev, size_t ev_len,
                        struct timespec arrived)
{
    struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_CLIENT,
                                  .previous_result = cl->prev,
                                  .previous_result_len = strlen(cl->prev),
                                  .old_nonces = (const uint8_t(*)[CVMA_ATLS_NONCE_LEN])cl->old,
                                  .n_old_nonces = cl->n_old};
    struct cvma_result *r = NULL;
    char why[1024] = "";
    enum cvma_status st = cvma_atls_verify(ssl, v, &chk, cl->nonce, sizeof cl->nonce, ev, ev_len,
                                           &r, why, sizeof why);
    if (misbehaving(o, "late-check")) {
        /* (tests) as if the verification had run past the renewal's deadline */
        struct timespec late = cl->end;
        late.tv_sec++;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &late, NULL) == EINTR) {
        }
    }
    /* 0, 1, or 3 (undecided); 2 when this end failed (memory, an internal error), as
     * attest_peer maps it */
    int rc = st == CVMA_OK                            ? cvma_result_exit_code(r)
             : st == CVMA_REJECTED || st == CVMA_E_IO ? 1
                                                      : 2;
    /* Another image on this session: refused whatever the status (image_changed). */
    bool swapped = rc == 0 && image_changed(r);
    if (swapped) {
        rc = 1;
    }
    cl->n++;
    struct timespec verified;
    char note[160] = "";
    clock_gettime(CLOCK_MONOTONIC, &verified);
    if (ts_before(cl->end, verified)) {
        int64_t late = ts_diff_ns(cl->end, verified), early = ts_diff_ns(arrived, cl->end);
        snprintf(note, sizeof note,
                 ", verified %lld.%03lld s after the renewal's deadline (its evidence came "
                 "%lld.%03lld s before it: on time)",
                 (long long)(late / 1000000000), (long long)(late % 1000000000 / 1000000),
                 (long long)(early > 0 ? early / 1000000000 : 0),
                 (long long)(early > 0 ? early % 1000000000 / 1000000 : 0));
    }
    if (r != NULL) {
        (void)print_result("atls-server: client", cl->n, r, o->json, NULL,
                           note[0] != '\0' ? note : NULL); /* a log */
    } else {
        cvma_cli_err("cvmattest %s: client attestation %u: %s: %s%s\n", cmd, cl->n,
                     rc == 2 ? "error" : "refused", why, note);
    }
    say_moved("atls-server", "client", r, rc != 0);
    lease_remember(cl, cl->nonce);
    bool ok = rc == 0 && lease_renew(cl, r, o->client_lease);
    if (!ok) {
        /* The renewal's deadline may be over (a verification that fetched collateral). */
        refuse_peer(ssl, o->handshake_timeout, r, NULL);
        cvma_cli_err("cvmattest %s: closing a connection: the client's attestation %u was %s\n",
                     cmd, cl->n,
                     rc == 0 ? "accepted but cannot be kept (out of memory)"
                             : (rc == 3   ? "undecided"
                                : rc == 2 ? "not checked (an error here)"
                                : swapped ? "refused: its measurement changed (MEASUREMENT_CHANGED)"
                                          : "refused"));
    }
    cvma_result_free(r);
    return ok;
}

/* The answer to a DATA frame of the client: "echo: " and its payload (at most
 * CVMA_ATLS_FRAME_MAX - 6 bytes: the caller checks). False, said, when it cannot be sent. */
static bool echo_data(const char *cmd, SSL *ssl, const uint8_t *p, size_t len)
{
    uint8_t *echo = malloc(len + 6);
    enum cvma_status es = CVMA_E_NOMEM;
    if (echo != NULL) {
        memcpy(echo, "echo: ", 6);
        memcpy(echo + 6, p, len);
        es = cvma_atls_write_frame(ssl, CVMA_ATLS_F_DATA, echo, len + 6);
    }
    free(echo);
    if (es != CVMA_OK) {
        cvma_cli_err("cvmattest %s: closing a connection: %s\n", cmd,
                     es == CVMA_E_NOMEM ? "out of memory for the echo"
                                        : "the echo could not be sent");
        return false;
    }
    return true;
}

/* One server connection. */
static void serve_one(SSL *ssl, struct atls_opts *o, const struct cvma_atls_source *src,
                      struct cvma_verifier *v)
{
    const char *cmd = "atls-server";
    char err[512] = "";
    uint8_t type = 0, *p = NULL, *first = NULL;
    uint8_t *held = NULL; /* --client-lease: DATA read while the renewal is pending */
    size_t len = 0, first_len = 0, held_len = 0;
    bool attested_client = !o->mutual, answered = false;
    unsigned n = 0, frames = 0;
    struct timespec last_nonce = {0, 0};
    struct client_lease cl = {.on = o->mutual && o->client_lease > 0};
    struct own_source own; /* this connection's answers: src, watched */
    const struct cvma_atls_source *own_src = own_source_init(&own, src);

    if (SSL_accept(ssl) != 1) {
        if (timed_out(ssl)) {
            cvma_cli_err("cvmattest %s: closing a connection: no TLS handshake within %ld s "
                         "(--handshake-timeout)\n",
                         cmd, o->handshake_timeout);
            ERR_clear_error();
            return;
        }
        handshake_failed(cmd);
        return;
    }
    if (cvma_atls_check_channel(ssl, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest %s: refused: %s\n", cmd, err);
        return;
    }
    uint8_t c0 = 0;
    size_t got = 0;
    if (SSL_peek_ex(ssl, &c0, 1, &got) == 1 && got == 1 && c0 >= 'A' && c0 <= 'Z') {
        /* An HTTP request (its method token begins with an uppercase letter; frame types are
         * 0x01..0x04): the certificate-bound endpoint (404 for another method or path, 403
         * with --mutual). */
        serve_http(ssl, src, o->idle_timeout, o->mutual);
        SSL_shutdown(ssl);
        return;
    }
    for (;;) {
        struct deadline *d = deadline_of(ssl);
        /* What ends the next read: the idle time-out (or, for the first frame, the
         * handshake's), the client's lease coming due (a frame begun before), or the deadline
         * of the renewal asked for. */
        enum { BY_IDLE, BY_DUE, BY_RENEWAL } by = BY_IDLE;
        if (frames > 0) {
            /* Each later frame, and the answer to it, within --idle-timeout in all. */
            deadline_arm(d, o->idle_timeout);
        }
        const struct deadline idle = *d; /* the answer's, whatever ends the read */
        if (cl.on && attested_client && !cl.pending && (!d->total || ts_before(cl.due, d->end))) {
            /* The client's lease comes due before the idle time-out (after it, the read below
             * says the connection was idle). Once it is due, the NONCE goes out before anything
             * more of the client is read: frame_before looks at the time before at the bytes
             * the TLS layer holds, which a client ending each record inside its next frame
             * keeps there all the time. */
            if (!frame_before(ssl, d->fd, cl.due)) {
                /* The NONCE's write too is bounded (a client that stops reading fills the
                 * send buffer; with --idle-timeout 0 nothing else would end it). */
                deadline_arm(d, o->handshake_timeout);
                if (!lease_ask(ssl, &cl, o->handshake_timeout)) {
                    cvma_cli_err(
                            "cvmattest %s: closing a connection: the client's renewal could not "
                            "be asked for\n",
                            cmd);
                    break;
                }
                continue;
            }
            /* A frame begun before the due time is read first, but it cannot hold the NONCE
             * off: it is due within --handshake-timeout of that time, as the renewal's evidence
             * would be (under the idle time-out alone, a frame sent slowly, begun just before
             * each due time, would stretch every lease by up to --idle-timeout). */
            struct timespec bound = cl.due;
            bound.tv_sec += o->handshake_timeout;
            if (!d->total || ts_before(bound, d->end)) {
                deadline_arm_at(d, bound);
                by = BY_DUE;
            }
        }
        if (cl.pending && (!d->total || ts_before(cl.end, d->end))) {
            /* Whatever comes next, the client's evidence included, by the renewal's deadline. */
            deadline_arm_at(d, cl.end);
            by = BY_RENEWAL;
        }
        enum cvma_status rs = cvma_atls_read_frame_ex(ssl, &type, &p, &len, err, sizeof err);
        struct timespec read_at; /* when the frame was in whole: a renewal's arrival */
        clock_gettime(CLOCK_MONOTONIC, &read_at);
        if (rs != CVMA_OK && timed_out(ssl)) {
            char late[192];
            if (by == BY_RENEWAL) {
                snprintf(late, sizeof late,
                         "no evidence from the client within %ld s of its renewal's NONCE "
                         "(--client-lease, --handshake-timeout)",
                         o->handshake_timeout);
            } else {
                snprintf(late, sizeof late,
                         "a frame begun before the client's renewal was due, not finished within "
                         "%ld s of that (--client-lease, --handshake-timeout)",
                         o->handshake_timeout);
            }
            cvma_cli_err("cvmattest %s: closing a connection: %s\n", cmd,
                         frames == 0     ? "no first frame in time (--handshake-timeout)"
                         : by == BY_IDLE ? "idle too long (--idle-timeout)"
                                         : late);
            break;
        }
        if (rs == CVMA_REJECTED) {
            cvma_cli_err("cvmattest %s: closing a connection: %s\n", cmd, err);
            break;
        }
        if (rs != CVMA_OK) {
            break; /* the client closed the connection */
        }
        if (frames++ == 0) {
            /* The answer to the first frame: out of the handshake deadline, within
             * --idle-timeout in all. */
            deadline_arm(deadline_of(ssl), o->idle_timeout);
        } else if (by == BY_DUE) {
            /* The answer to a frame begun before the due time: within the idle time-out, as
             * any frame's (the NONCE follows it). */
            deadline_restore(d, &idle);
        }
        if (type == CVMA_ATLS_F_DATA && !(attested_client && answered)) {
            /* No application data before this end attested (and, with --mutual, the client):
             * a careless client must not get data from an unattested session. */
            (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)data_first_msg,
                                        sizeof data_first_msg - 1);
            cvma_cli_err("cvmattest %s: closing a connection: %s\n", cmd,
                         data_first_msg + strlen("refused: "));
            break;
        }
        if (type == CVMA_ATLS_F_DATA) {
            if (len > CVMA_ATLS_FRAME_MAX - 6) {
                /* Its echo would be over a frame's limit: say so, not leave the peer waiting. */
                char msg[160];
                snprintf(msg, sizeof msg,
                         "refused: ATLS_PROTOCOL_VIOLATION: a DATA frame of %zu bytes: its echo "
                         "would be over the frame "
                         "limit of %u bytes",
                         len, CVMA_ATLS_FRAME_MAX);
                (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg,
                                            strlen(msg));
                cvma_cli_err("cvmattest %s: closing a connection: %s\n", cmd,
                             msg + strlen("refused: "));
                break;
            }
            if (cl.pending && held != NULL) {
                /* A client answers the renewal's NONCE before it sends more: a second DATA
                 * frame is sent knowing the lease ended. */
                static const char msg[] = "refused: ATLS_PROTOCOL_VIOLATION: DATA after the lease "
                                          "ended, before its renewal";
                (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg,
                                            sizeof msg - 1);
                cvma_cli_err("cvmattest %s: closing a connection: %s\n", cmd,
                             msg + strlen("refused: "));
                break;
            }
            if (cl.pending) {
                /* The client's lease ended (the renewal's NONCE goes out when it does): nothing
                 * of the client is served until the renewal is accepted. One frame is held
                 * unanswered, not refused: a client may have sent it before it read the
                 * NONCE (atls-client sends DATA right after its own round). It is answered
                 * once the renewal is accepted, and never when it is refused or late. */
                held = p;
                held_len = len;
                p = NULL;
            } else if (!echo_data(cmd, ssl, p, len)) {
                break;
            }
        } else if (type == CVMA_ATLS_F_NONCE) {
            if (len != CVMA_ATLS_NONCE_LEN) {
                /* Before anything else (with --mutual, before the client is verified): a
                 * nonce this end will refuse costs no verification and no waiting. */
                char msg[128];
                snprintf(msg, sizeof msg,
                         "refused: ATLS_PROTOCOL_VIOLATION: a nonce is %d bytes, not %zu",
                         CVMA_ATLS_NONCE_LEN, len);
                (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg,
                                            strlen(msg));
                cvma_cli_err("cvmattest %s: closing a connection: %s\n", cmd,
                             msg + strlen("refused: "));
                break;
            }
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (answered && o->min_reattest > 0 &&
                (int64_t)(now.tv_sec - last_nonce.tv_sec) * 1000000000 +
                                (int64_t)(now.tv_nsec - last_nonce.tv_nsec) <
                        (int64_t)o->min_reattest * 1000000000) {
                /* Each NONCE costs evidence: a client asking faster is cut off. */
                char msg[128];
                snprintf(msg, sizeof msg,
                         "refused: ATLS_PROTOCOL_VIOLATION: too many NONCE frames: at most one "
                         "every %ld s",
                         o->min_reattest);
                (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg,
                                            strlen(msg));
                cvma_cli_err("cvmattest %s: closing a connection: %s (--min-reattest-interval)\n",
                             cmd, msg + strlen("refused: "));
                break;
            }
            answered = true;
            n++;
            if (!attested_client) {
                struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_CLIENT};
                struct cvma_result *r = NULL;
                uint8_t mine[CVMA_ATLS_NONCE_LEN];
                bool unused = false;
                /* The client's evidence within --handshake-timeout of this end's NONCE, as a
                 * renewal's is: a client that never attests holds its slot no longer than
                 * that (under --idle-timeout it held it 300 s, or for ever with 0). */
                deadline_arm(d, o->handshake_timeout);
                const char *refusal = NULL;
                int rc = attest_peer(cmd, ssl, v, &chk, NULL, &unused, mine, &r, &refusal);
                /* this end's answer to the client's NONCE: within --idle-timeout, as any */
                deadline_arm(d, o->idle_timeout);
                if (r != NULL) {
                    (void)print_result("atls-server: client", n, r, o->json, NULL,
                                       NULL); /* a log */
                }
                if (rc != 0) {
                    refuse_peer(ssl, o->handshake_timeout, r, refusal);
                    cvma_result_free(r);
                    break;
                }
                if (cl.on) {
                    /* --client-lease: this result holds for that long, then is renewed. */
                    cl.n = 1;
                    lease_remember(&cl, mine);
                    if (!lease_renew(&cl, r, o->client_lease)) {
                        cvma_cli_err("cvmattest %s: closing a connection: out of memory\n", cmd);
                        cvma_result_free(r);
                        break;
                    }
                }
                cvma_result_free(r);
                attested_client = true;
            }
            if (cl.pending) {
                /* The two leases' renewals crossing (the client began a round of its own
                 * before it read the renewal's NONCE): this end's evidence, which may be slow,
                 * within the idle time-out, not by the renewal's deadline. */
                deadline_restore(d, &idle);
            }
            enum cvma_status st = CVMA_OK;
            own.failed = false;
            own.made = (struct timespec){0, 0};
            if (misbehaving(o, "reflect")) {
                /* Ask the client to attest to its own nonce, and send that back as ours. */
                uint8_t t2 = 0, *ev = NULL;
                size_t ev_len = 0;
                st = cvma_atls_write_frame(ssl, CVMA_ATLS_F_NONCE, p, len);
                if (st == CVMA_OK &&
                    (st = cvma_atls_read_frame(ssl, &t2, &ev, &ev_len)) == CVMA_OK) {
                    st = cvma_atls_write_frame(ssl, CVMA_ATLS_F_EVIDENCE, ev, ev_len);
                }
                free(ev);
            } else if (misbehaving(o, "replay") && first != NULL) {
                st = cvma_atls_write_frame(ssl, CVMA_ATLS_F_EVIDENCE, first, first_len);
            } else if (misbehaving(o, "replay")) {
                uint8_t rd[64];
                if ((st = cvma_atls_binding(ssl, CVMA_ATLS_SERVER, SSL_get_certificate(ssl), p, len,
                                            rd, err, sizeof err)) == CVMA_OK &&
                    (st = own_src->evidence(own_src->ctx, rd, p, len, &first, &first_len, err,
                                            sizeof err)) == CVMA_OK) {
                    st = cvma_atls_write_frame(ssl, CVMA_ATLS_F_EVIDENCE, first, first_len);
                }
            } else {
                st = cvma_atls_answer(ssl, CVMA_ATLS_SERVER, p, len, own_src, err, sizeof err);
            }
            if (st != CVMA_OK && own.failed) {
                /* This end's fault, not the client's: the client is told so, not left to a
                 * bare close. */
                refuse_peer(ssl, o->handshake_timeout, NULL, own_failed_msg);
                cvma_cli_err(
                        "cvmattest %s: closing a connection: attestation %u: this end's evidence "
                        "could not be made: %s\n",
                        cmd, n, err);
                break;
            }
            if (st != CVMA_OK) {
                cvma_cli_err("cvmattest %s: attestation %u: %s\n", cmd, n, err);
                break;
            }
            if (misbehaving(o, "slow-answer")) {
                /* (tests) as a busy machine may stop this thread after the write */
                struct timespec pause = {0, 500000000};
                while (nanosleep(&pause, &pause) == -1 && errno == EINTR) {
                }
            }
            /* --min-reattest-interval runs from the answer, not from the NONCE's arrival: a
             * client asking again at once after slow evidence is still too fast. From when the
             * evidence was made, before its write: the client can only have read it, verified
             * it and timed its next NONCE after that, whereas a time taken after the write may
             * be later than all three when this thread is stopped in between (a client asking
             * exactly --reattest-every after its result was refused now and then). */
            struct timespec done;
            clock_gettime(CLOCK_MONOTONIC, &done);
            last_nonce = own.made.tv_sec != 0 || own.made.tv_nsec != 0 ? own.made : done;
            if (cl.pending && !cl.extended) {
                /* The client's evidence for the renewal may have come meanwhile, behind its
                 * NONCE: it is late by when it came, not by when this end, busy with its own
                 * evidence, could read it. The deadline moves by the time the answer took,
                 * once a renewal (a client asking again and again gains no more time). */
                ts_add_ns(&cl.end, (int64_t)(done.tv_sec - now.tv_sec) * 1000000000 +
                                           (done.tv_nsec - now.tv_nsec));
                cl.extended = true;
            }
            printf("atls-server: attestation %u sent\n", n);
            fflush(stdout);
        } else if (type == CVMA_ATLS_F_EVIDENCE && cl.pending) {
            if (!lease_check(cmd, ssl, v, &cl, o, p, len, read_at)) {
                break;
            }
            if (held != NULL) {
                /* Renewed: the DATA held meanwhile is answered now, as any frame's answer
                 * (the renewal's deadline may be over: a slow verification). */
                deadline_restore(d, &idle);
                bool echoed = echo_data(cmd, ssl, held, held_len);
                free(held);
                held = NULL;
                if (!echoed) {
                    break;
                }
            }
        } else if (type == CVMA_ATLS_F_ERROR) {
            char shown[4 * CVMA_ATLS_ERROR_SHOWN + 32];
            cvma_cli_err("cvmattest %s: the client refuses: %s\n", cmd,
                         cvma_atls_printable(p, len, shown, sizeof shown));
            break;
        } else {
            cvma_cli_err("cvmattest %s: unexpected frame %u\n", cmd, type);
            break;
        }
        free(p);
        p = NULL;
    }
    free(p);
    free(first);
    free(held);
    free(cl.prev);
    SSL_shutdown(ssl);
}

/*
 * Connections are served concurrently, a thread each, at most max_connections at once. They
 * share the SSL_CTX, the verifier (thread-safe) and the evidence source, which is called under
 * a lock (the simulator's source counts the attestations it served).
 */
struct locked_source {
    pthread_mutex_t mu;
    struct cvma_atls_source inner;
};

static enum cvma_status locked_evidence(void *ctx, const uint8_t report_data[64],
                                        const uint8_t *nonce, size_t nonce_len, uint8_t **out,
                                        size_t *out_len, char *err, size_t err_len)
{
    struct locked_source *ls = ctx;
    pthread_mutex_lock(&ls->mu);
    enum cvma_status st = ls->inner.evidence(ls->inner.ctx, report_data, nonce, nonce_len, out,
                                             out_len, err, err_len);
    pthread_mutex_unlock(&ls->mu);
    return st;
}

struct conns {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long active;
};

struct conn {
    int fd;
    SSL_CTX *ctx;
    struct atls_opts *o;
    const struct cvma_atls_source *src;
    struct cvma_verifier *v;
    struct conns *cs;
};

/*
 * The close of a connection whose TLS session was set up, after this end's SSL_shutdown (the
 * server's in conn_run, the client's at the end of its run). A
 * close() with bytes of the peer still unread (a DATA frame sent while its refusal was being
 * decided, a record after an HTTP request) sends a TCP reset instead of a FIN, and the reset
 * drops whatever this end still had queued: the last record of the answer, held back by
 * Nagle's algorithm, and the peer would never read the refusal's reason. So this end shuts its
 * side first (the FIN goes out after everything queued, Nagle or not), then reads and drops
 * what the peer still sends until it closes too, or sends nothing for LINGER_IDLE_MS, for
 * LINGER_MS at most, then closes. A peer that keeps sending a byte now and then (one closed
 * for being idle, say) holds the connection no more than LINGER_IDLE_MS longer; one that
 * sends without pause, LINGER_MS.
 */
#define LINGER_MS      2000
#define LINGER_IDLE_MS 250

static void linger_close(int fd)
{
    struct timespec end;
    uint8_t sink[4096];
    (void)shutdown(fd, SHUT_WR);
    clock_gettime(CLOCK_MONOTONIC, &end);
    ts_add_ns(&end, (int64_t)LINGER_MS * 1000000);
    for (long left; (left = ms_until(end)) > 0;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, (int)(left < LINGER_IDLE_MS ? left : LINGER_IDLE_MS));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0 || recv(fd, sink, sizeof sink, MSG_DONTWAIT) <= 0) {
            break; /* the time is up, the peer closed, or the socket failed */
        }
    }
    close(fd);
}

static void conn_run(struct conn *c)
{
    SSL *ssl = SSL_new(c->ctx);
    struct deadline d;
    bool session = false;
    if (ssl != NULL && SSL_set_fd(ssl, c->fd) == 1) {
        /* The handshake and the first frame (or HTTP request) within --handshake-timeout. */
        deadline_start(&d, ssl, c->fd, c->o->handshake_timeout, 0);
        serve_one(ssl, c->o, c->src, c->v);
        session = SSL_is_init_finished(ssl) == 1;
    }
    SSL_free(ssl);
    if (session) {
        linger_close(c->fd);
    } else {
        close(c->fd);
    }
    ERR_clear_error();
}

static void *conn_thread(void *arg)
{
    struct conn *c = arg;
    struct conns *cs = c->cs;
    conn_run(c);
    free(c);
    /* This thread's OpenSSL state (error queue, random generators) freed now, not by the
     * thread's exit, which may come after the process's: the last connection of
     * --connections N lets the main thread return as soon as it is counted out. */
    OPENSSL_thread_stop();
    pthread_mutex_lock(&cs->mu);
    cs->active--;
    pthread_cond_broadcast(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    return NULL;
}

/* Serves cfd on a thread of its own (inline when no thread can be made). */
static void conn_start(struct conns *cs, const struct conn *tmpl, int cfd)
{
    struct conn *c = malloc(sizeof *c);
    pthread_t t;
    pthread_attr_t attr;
    bool started = false;
    if (c != NULL) {
        *c = *tmpl;
        c->fd = cfd;
        c->cs = cs;
        pthread_mutex_lock(&cs->mu);
        cs->active++;
        pthread_mutex_unlock(&cs->mu);
        if (pthread_attr_init(&attr) == 0) {
            started = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
                      pthread_create(&t, &attr, conn_thread, c) == 0;
            pthread_attr_destroy(&attr);
        }
        if (started) {
            return;
        }
        pthread_mutex_lock(&cs->mu);
        cs->active--;
        pthread_mutex_unlock(&cs->mu);
        free(c);
    }
    struct conn inline_conn = *tmpl;
    inline_conn.fd = cfd;
    conn_run(&inline_conn);
}

/*
 * A connection beyond --max-connections is refused at the accept: closed at once with a reset
 * (SO_LINGER 0: nothing is read, no TLS, no thread, no TIME_WAIT kept), so the client learns
 * at once instead of waiting in the listen queue until its own time-out. One log line a second
 * at most, with the count of the refusals not logged since the last line.
 */
struct busy_log {
    bool logged;
    struct timespec last;
    unsigned long unlogged;
};

static void refuse_busy(struct busy_log *bl, int cfd, const struct sockaddr_in *peer, long held,
                        long max)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    struct timespec now;
    char addr[INET_ADDRSTRLEN] = "?";

    (void)setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(cfd);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (bl->logged &&
        (now.tv_sec - bl->last.tv_sec) * 1000 + (now.tv_nsec - bl->last.tv_nsec) / 1000000 < 1000) {
        bl->unlogged++;
        return;
    }
    if (peer->sin_family != AF_INET ||
        inet_ntop(AF_INET, &peer->sin_addr, addr, sizeof addr) == NULL) {
        memcpy(addr, "?", 2);
    }
    if (bl->unlogged > 0) {
        cvma_cli_err(
                "cvmattest atls-server: busy: %ld of %ld connections held, refused %s:%u (and %lu "
                "more since the last line)\n",
                held, max, addr, (unsigned)ntohs(peer->sin_port), bl->unlogged);
    } else {
        cvma_cli_err("cvmattest atls-server: busy: %ld of %ld connections held, refused %s:%u\n",
                     held, max, addr, (unsigned)ntohs(peer->sin_port));
    }
    bl->logged = true;
    bl->last = now;
    bl->unlogged = 0;
}

/* The refusals not logged yet, said once the server serves again or exits. */
static void busy_flush(struct busy_log *bl)
{
    if (bl->unlogged > 0) {
        cvma_cli_err("cvmattest atls-server: busy: %lu more connections refused since the last "
                     "line\n",
                     bl->unlogged);
        bl->unlogged = 0;
    }
}

int cvma_cmd_atls_server(int argc, char **argv)
{
    const char *cmd = "atls-server";
    struct atls_opts o;
    struct cvma_atls_source src;
    struct relay relay;
    struct cvma_verifier *v = NULL;
    SSL_CTX *ctx = NULL;
    char host[256], port[16];
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = -1, rc = parse(cmd, true, argc, argv, &o), one = 1;
    long pn = 0;

    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    signal(SIGPIPE, SIG_IGN);
    relay.addr = o.relay;
    if (o.relay != NULL) {
        src.evidence = relay_evidence;
        src.ctx = &relay;
    } else if (o.use_collect) {
        cvma_collect_atls_source(&o.collect, &src);
        if ((rc = collect_works(cmd, &src)) != 0) {
            return rc;
        }
    } else {
        cvma_sim_atls_source(&o.sim, &src);
    }
    if (o.mutual && (rc = make_verifier(cmd, &o, &v)) != 0) {
        return rc;
    }
    rc = 2;
    if ((ctx = make_ctx(cmd, &o, true)) == NULL) {
        goto out;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    if (!split_addr(o.listen, host, sizeof host, port, sizeof port) ||
        inet_pton(AF_INET, host, &sa.sin_addr) != 1 || !parse_long(port, 0, &pn) || pn > 65535) {
        rc = cvma_cli_usage_error(cmd, "--listen '%s': want IPV4:PORT", o.listen);
        goto out;
    }
    sa.sin_port = htons((uint16_t)pn);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        cvma_cli_err("cvmattest %s: cannot listen on %s: %s\n", cmd, o.listen, strerror(errno));
        goto out;
    }
    printf("listening %s:%u\n", host, (unsigned)ntohs(sa.sin_port));
    fflush(stdout);
    struct locked_source ls = {.mu = PTHREAD_MUTEX_INITIALIZER, .inner = src};
    struct cvma_atls_source shared = {.evidence = locked_evidence, .ctx = &ls};
    struct conns cs = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    const struct conn tmpl = {.fd = -1, .ctx = ctx, .o = &o, .src = &shared, .v = v};
    struct busy_log bl = {.logged = false};
    /* --connections counts the connections served, not those refused as busy. */
    for (long served = 0; o.connections == 0 || served < o.connections;) {
        struct sockaddr_in peer;
        socklen_t pl = sizeof peer;
        memset(&peer, 0, sizeof peer);
        int cfd = accept(fd, (struct sockaddr *)&peer, &pl);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                struct timespec pause = {.tv_sec = 0, .tv_nsec = 10000000};
                nanosleep(&pause, NULL); /* out of descriptors: no busy loop */
            }
            continue;
        }
        pthread_mutex_lock(&cs.mu);
        long held = cs.active;
        pthread_mutex_unlock(&cs.mu);
        if (held >= o.max_connections) {
            refuse_busy(&bl, cfd, &peer, held, o.max_connections);
            continue;
        }
        busy_flush(&bl);
        conn_start(&cs, &tmpl, cfd);
        served++;
    }
    busy_flush(&bl);
    /* --connections: the last ones finish before the process exits. */
    pthread_mutex_lock(&cs.mu);
    while (cs.active > 0) {
        pthread_cond_wait(&cs.cv, &cs.mu);
    }
    pthread_mutex_unlock(&cs.mu);
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    SSL_CTX_free(ctx);
    cvma_verifier_free(v);
    return rc;
}

/*
 * atls-client: a frame the server sent unasked, outside the client's own attestations (between
 * them, or while the reply to --send is awaited; docs/atls.md, "The server's lease on a mutual
 * client"). With --mutual (own given) a NONCE is answered with this end's evidence, at most one
 * a second (*answered_at: when the last one answered was read); without, it is unexpected. An
 * ERROR is the server's refusal. 0 answered; else the exit code (1 refused, closed or an
 * unexpected frame; 2 this end's evidence could not be made: the server is sent
 * own_failed_msg, under a deadline of timeout seconds, since the source may have used the
 * exchange's).
 */
static int client_unasked(const char *cmd, SSL *ssl, uint8_t type, const uint8_t *p, size_t len,
                          struct own_source *own, struct timespec *answered_at, long timeout)
{
    char err[1024] = "", shown[4 * CVMA_ATLS_ERROR_SHOWN + 32];
    struct timespec now, next;
    if (type == CVMA_ATLS_F_ERROR) {
        cvma_cli_err("cvmattest %s: the peer refuses: %s\n", cmd,
                     cvma_atls_printable(p, len, shown, sizeof shown));
        return 1;
    }
    if (type != CVMA_ATLS_F_NONCE || own == NULL) {
        cvma_cli_err("cvmattest %s: unexpected frame %u\n", cmd, type);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    next = *answered_at;
    next.tv_sec += 1;
    if (ts_before(now, next)) {
        /* Each NONCE costs evidence: a server asking faster is cut off. */
        static const char msg[] =
                "refused: ATLS_PROTOCOL_VIOLATION: too many NONCE frames: at most one every 1 s";
        (void)cvma_atls_write_frame(ssl, CVMA_ATLS_F_ERROR, (const uint8_t *)msg, sizeof msg - 1);
        cvma_cli_err("cvmattest %s: closing the connection: %s\n", cmd, msg + strlen("refused: "));
        return 1;
    }
    own->failed = false;
    enum cvma_status st =
            cvma_atls_answer(ssl, CVMA_ATLS_CLIENT, p, len, &own->src, err, sizeof err);
    if (st != CVMA_OK && own->failed) {
        cvma_cli_err("cvmattest %s: this end's evidence could not be made: %s\n", cmd, err);
        refuse_peer(ssl, timeout, NULL, own_failed_msg);
        return 2;
    }
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest %s: %s\n", cmd, err);
        return st == CVMA_REJECTED || st == CVMA_E_IO ? 1 : 2;
    }
    *answered_at = now; /* when the NONCE was read: never after the server's next lease starts */
    printf("atls-client: attested again, for the server's lease on this end\n");
    fflush(stdout);
    return 0;
}

/* atls-client --mutual between its own attestations: waits until until, answering what the
 * server sends meanwhile (client_unasked), each frame and its answer within --timeout. 0 at
 * until; else the exit code (3: a frame begun and not finished in time). cross (tests,
 * --misbehave cross-renewal): a NONCE of the server is left unread and the wait ends at once,
 * so that this end's round begins with its own NONCE and answers the server's inside it. */
static int client_wait(const char *cmd, SSL *ssl, struct deadline *d, struct timespec until,
                       struct own_source *own, struct timespec *answered_at, long timeout,
                       bool cross)
{
    while (frame_before(ssl, d->fd, until)) {
        uint8_t type = 0, *p = NULL;
        size_t len = 0;
        char err[512] = "";
        deadline_arm(d, timeout);
        if (cross && SSL_peek_ex(ssl, &type, 1, &len) == 1 && len == 1 &&
            type == CVMA_ATLS_F_NONCE) {
            printf("atls-client: a NONCE of the server: this end's own round begins first, the "
                   "renewals crossing (--misbehave cross-renewal)\n");
            fflush(stdout);
            return 0;
        }
        len = 0;
        if (cvma_atls_read_frame_ex(ssl, &type, &p, &len, err, sizeof err) != CVMA_OK) {
            bool late = timed_out(ssl);
            cvma_cli_err("cvmattest %s: %s\n", cmd,
                         late ? "a frame from the server not finished in time" : err);
            return late ? 3 : 1;
        }
        int rc = client_unasked(cmd, ssl, type, p, len, own, answered_at, timeout);
        free(p);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/*
 * atls-client --misbehave straddle|straddle-slow (tests; docs/atls.md, "The server's lease on a
 * mutual client"): after the first attestation, DATA frames without end, each TLS record the
 * rest of one frame and the first byte of the next, so that the server's TLS layer always
 * holds part of a frame; a record every pace_ms. The server's NONCE frames are left
 * unanswered. Until the server closes the connection (1) or timeout_s have passed (0: the
 * server kept it); what was sent and received is printed either way.
 */
static int straddle(const char *cmd, SSL *ssl, struct deadline *d, long pace_ms, long timeout_s)
{
    static const char payload[] = "straddle";
    enum { FRAME = CVMA_ATLS_FRAME_HEAD + sizeof payload - 1 };
    uint8_t fr[FRAME], rec[FRAME + 1];
    unsigned records = 0, echoes = 0, nonces = 0;
    bool closed = false;
    struct timespec end, next;

    cvma_atls_frame_head(CVMA_ATLS_F_DATA, sizeof payload - 1, fr);
    memcpy(fr + CVMA_ATLS_FRAME_HEAD, payload, sizeof payload - 1);
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += timeout_s;
    while (!closed && ms_until(end) > 0) {
        /* The first record a whole frame, each later one the rest of the frame begun before;
         * each ends with the first byte of the next frame. */
        size_t n = records == 0 ? FRAME : FRAME - 1, done = 0;
        memcpy(rec, records == 0 ? fr : fr + 1, n);
        rec[n++] = fr[0];
        deadline_arm(d, timeout_s);
        if (SSL_write_ex(ssl, rec, n, &done) != 1) {
            closed = true;
            break;
        }
        records++;
        clock_gettime(CLOCK_MONOTONIC, &next);
        ts_add_ns(&next, (int64_t)pace_ms * 1000000);
        while (!closed && frame_before(ssl, d->fd, next)) {
            uint8_t type = 0, *p = NULL;
            size_t len = 0;
            deadline_arm(d, timeout_s);
            if (cvma_atls_read_frame(ssl, &type, &p, &len) != CVMA_OK) {
                closed = true;
            } else if (type == CVMA_ATLS_F_DATA) {
                echoes++;
            } else if (type == CVMA_ATLS_F_NONCE) {
                if (nonces++ == 0) {
                    printf("atls-client: a NONCE of the server, left unanswered (--misbehave "
                           "straddle)\n");
                    fflush(stdout);
                }
            } else {
                closed = client_unasked(cmd, ssl, type, p, len, NULL, NULL, timeout_s) != 0;
            }
            free(p);
        }
    }
    printf("atls-client: straddle: %u records, %u echoes, %u NONCE frames unanswered: %s\n",
           records, echoes, nonces,
           closed ? "the server closed the connection" : "the server kept the connection");
    fflush(stdout);
    return closed ? 1 : 0;
}

/* atls-client --cert-bound: GET the well-known endpoint and verify. 0, 1, 2 or 3 (as the
 * client's exit code). */
static int cert_bound(const char *cmd, SSL *ssl, struct cvma_verifier *v, const struct atls_opts *o)
{
    uint8_t nonce[CVMA_ATLS_NONCE_LEN], *resp = NULL;
    char hex[2 * CVMA_ATLS_NONCE_LEN + 1], req[512], err[512];
    size_t len = 0, cap = 0, done = 0;
    struct cvma_result *r = NULL;
    X509 *peer = NULL;
    int rc = 2;

    if (RAND_bytes(nonce, sizeof nonce) != 1) {
        return 2;
    }
    cvma_hex_encode(nonce, sizeof nonce, hex, sizeof hex);
    int n = snprintf(req, sizeof req,
                     "GET %s?nonce=%s HTTP/1.1\r\nHost: cvmattest\r\nConnection: close\r\n\r\n",
                     CVMA_ATLS_WELL_KNOWN, hex);
    if (n <= 0 || (size_t)n >= sizeof req || SSL_write_ex(ssl, req, (size_t)n, &done) != 1) {
        /* The connection broke (or timed out) before a result. */
        cvma_cli_err("cvmattest %s: cannot send the request%s\n", cmd,
                     timed_out(ssl) ? ": timed out" : "");
        return timed_out(ssl) ? 3 : 1;
    }
    for (;;) {
        if (cap - len < 65536) {
            if (cap > CVMA_ATLS_FRAME_MAX) {
                /* More than any evidence can be: the server's answer is refused. */
                cvma_cli_err("cvmattest %s: %sresponse too large (over %u bytes)\n", cmd,
                             CVMA_ATLS_ERR_PROTOCOL, CVMA_ATLS_FRAME_MAX);
                rc = 1;
                goto out;
            }
            uint8_t *p = realloc(resp, cap + 65536 + 1);
            if (p == NULL) {
                goto out;
            }
            resp = p;
            cap += 65536;
        }
        if (SSL_read_ex(ssl, resp + len, cap - len, &done) != 1) {
            break;
        }
        len += done;
    }
    if (timed_out(ssl)) {
        cvma_cli_err("cvmattest %s: no complete response: timed out\n", cmd);
        rc = 3;
        goto out;
    }
    rc = 1;
    if (resp == NULL) {
        cvma_cli_err("cvmattest %s: no response\n", cmd);
        goto out;
    }
    size_t body = 0;
    if (!cvma_atls_http_response_body(resp, len, &body)) {
        char shown[4 * CVMA_ATLS_ERROR_SHOWN + 32];
        cvma_cli_err("cvmattest %s: %sthe server answered %s\n", cmd, CVMA_ATLS_ERR_PROTOCOL,
                     cvma_atls_printable(resp, len < 40 ? len : 40, shown, sizeof shown));
        goto out;
    }
    peer = SSL_get1_peer_certificate(ssl);
    if (cvma_atls_verify_cert_bound(v, peer, NULL, nonce, sizeof nonce, resp + body, len - body, &r,
                                    err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest %s: refused: %s\n", cmd, err);
        goto out;
    }
    rc = !print_result("atls-client: server (certificate-bound)", 1, r, o->json, NULL, NULL)
                 ? 2
                 : cvma_result_exit_code(r); /* 0, 1, or 3 (undecided) */
out:
    cvma_result_free(r);
    X509_free(peer);
    free(resp);
    return rc;
}

int cvma_cmd_atls_client(int argc, char **argv)
{
    const char *cmd = "atls-client";
    struct atls_opts o;
    struct cvma_atls_source src;
    struct own_source own, *ownp = NULL; /* mutual: this end's evidence, watched */
    struct cvma_verifier *v = NULL;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    char err[512], *prev = NULL;
    uint8_t(*nonces)[CVMA_ATLS_NONCE_LEN] = NULL;
    struct deadline d;
    struct timespec made = {0, 0}, lease_end = {0, 0};
    struct lease lease = {.timed = false};
    /* the last time this end answered a NONCE of the server (mutual: at most one a second
     * between its own attestations) */
    struct timespec answered_at = {0, 0};
    bool answered = false;
    int fd = -1, why = 0, rc = parse(cmd, false, argc, argv, &o);

    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    signal(SIGPIPE, SIG_IGN);
    if (o.mutual && o.use_collect) {
        cvma_collect_atls_source(&o.collect, &src);
        if ((rc = collect_works(cmd, &src)) != 0) {
            return rc;
        }
    } else if (o.mutual) {
        cvma_sim_atls_source(&o.sim, &src);
    }
    if (o.mutual) {
        (void)own_source_init(&own, &src);
        ownp = &own;
    }
    if ((rc = make_verifier(cmd, &o, &v)) != 0) {
        return rc;
    }
    long total = o.reattest > 0 ? o.rounds + 1 : 1;
    rc = 2;
    if ((nonces = calloc((size_t)total, sizeof *nonces)) == NULL ||
        (ctx = make_ctx(cmd, &o, false)) == NULL) {
        goto out;
    }
    /* The connect and the handshake within --timeout in all. */
    struct timespec connect_end;
    clock_gettime(CLOCK_MONOTONIC, &connect_end);
    connect_end.tv_sec += o.timeout;
    if ((fd = tcp_connect(o.connect, o.timeout, &why)) < 0) {
        if (why == ECONNRESET) {
            /* The server accepted and reset the connection before connect() returned here: a
             * busy atls-server resets at the accept, and on a loaded machine it can do so
             * before this end runs again. */
            say_closed_early(cmd);
            rc = 3;
            goto out;
        }
        if (why == 0) {
            cvma_cli_err("cvmattest %s: cannot connect to %s: not HOST:PORT of a known host\n", cmd,
                         o.connect);
            goto out; /* 2: a usage error */
        }
        /* No server accepted the connection (refused, unreachable, or no answer within
         * --timeout): could not decide, nothing is accepted. */
        cvma_cli_err("cvmattest %s: cannot connect to %s: %s\n", cmd, o.connect,
                     why == EINPROGRESS || why == ETIMEDOUT
                             ? "no answer in time (--timeout)"
                             : (why == EAGAIN ? "the name cannot be resolved now" : strerror(why)));
        rc = 3;
        goto out;
    }
    if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
        goto out;
    }
    /* The handshake in what is left of --timeout after the connect, and later each exchange
     * within --timeout in all. */
    deadline_start(&d, ssl, fd, o.timeout, 0);
    deadline_arm_at(&d, connect_end);
    rc = 1;
    int cr = SSL_connect(ssl), cerr = errno;
    if (cr != 1) {
        if (closed_early(ssl, cr, cerr)) {
            /* A server with every --max-connections slot held closes at the accept. */
            say_closed_early(cmd);
            ERR_clear_error();
            rc = 3;
            goto out;
        }
        if (timed_out(ssl)) {
            cvma_cli_err(
                    "cvmattest %s: the connect and the TLS handshake took over %ld s (--timeout)\n",
                    cmd, o.timeout);
            ERR_clear_error();
            rc = 3;
            goto out;
        }
        handshake_failed(cmd);
        goto out;
    }
    /* TLS 1.3 with the exporter, before anything is sent: --cert-bound too (docs/atls.md). */
    if (cvma_atls_check_channel(ssl, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest %s: refused: %s\n", cmd, err);
        goto out;
    }
    if (o.cert_bound) {
        /* The request and its response within --timeout of their own (docs/atls.md), not in
         * what the connect and the handshake left of theirs. */
        deadline_arm(&d, o.timeout);
        rc = cert_bound(cmd, ssl, v, &o);
        goto out;
    }
    for (long i = 0; i < total; i++) {
        struct cvma_atls_check chk = {.peer_role = CVMA_ATLS_SERVER,
                                      .previous_result = prev,
                                      .previous_result_len = prev != NULL ? strlen(prev) : 0,
                                      .old_nonces = (const uint8_t(*)[CVMA_ATLS_NONCE_LEN])nonces,
                                      .n_old_nonces = (size_t)i};
        struct cvma_result *r = NULL;
        if (i > 0) {
            /* The renewal: its NONCE --reattest-every after the previous result, its evidence
             * due by that result's valid_until (the deadline), which it renews. */
            struct timespec at = made;
            at.tv_sec += o.reattest;
            if (ownp != NULL) {
                /* Mutual: the server may renew its lease on this end meanwhile. */
                if ((rc = client_wait(cmd, ssl, &d, at, ownp, &answered_at, o.timeout,
                                      misbehaving(&o, "cross-renewal"))) != 0) {
                    goto out;
                }
            } else {
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
                }
            }
            /* One NONCE of the server may come while this end waits for the server's evidence
             * (the two leases' renewals crossing), as in the first attestation. */
            answered = false;
            deadline_arm_at(&d, lease_end);
        } else {
            deadline_arm(&d, o.timeout);
        }
        bool answered_before = answered;
        struct timespec began;
        clock_gettime(CLOCK_MONOTONIC, &began);
        const char *refusal = NULL;
        rc = attest_peer(cmd, ssl, v, &chk, ownp, &answered, nonces[i], &r, &refusal);
        /* Another image on this session: refused whatever the status (image_changed). */
        bool swapped = i > 0 && rc == 0 && image_changed(r);
        if (swapped) {
            rc = 1;
        }
        if (answered && !answered_before && ownp != NULL && !ownp->failed) {
            answered_at = began; /* (not later than the answer: see client_unasked) */
            if (i > 0) {
                printf("atls-client: attested again, for the server's lease on this end\n");
            }
        }
        if (i > 0 && rc == 0 && misbehaving(&o, "late-renewal")) {
            /* (tests) late-renewal: as if the verification had taken until after the lease
             * it renews ran out */
            struct timespec late = lease_end;
            late.tv_sec++;
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &late, NULL) == EINTR) {
            }
        }
        /* The lease this result gives: from now (the result made) --reattest-every and the
         * next evidence's --timeout; the monotonic end is the printed second exactly. */
        struct timespec wall, now;
        clock_gettime(CLOCK_REALTIME, &wall);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (i > 0 && rc == 0 &&
            (now.tv_sec > lease_end.tv_sec ||
             (now.tv_sec == lease_end.tv_sec && now.tv_nsec >= lease_end.tv_nsec))) {
            /* Verified too late: the previous lease ran out while this one was verified. */
            char was[32];
            static const char msg[] = "refused: the lease ran out before its renewal was verified";
            cvma_time_format(lease.until, was, sizeof was);
            cvma_cli_err(
                    "cvmattest %s: attestation %ld was verified after the lease of attestation "
                    "%ld ended (%s): closing the connection\n",
                    cmd, i + 1, i, was);
            /* The deadline (the lease's end) has passed: the refusal has one of its own. */
            refuse_peer(ssl, o.timeout, NULL, msg);
            cvma_result_free(r);
            rc = 3;
            goto out;
        }
        made = now;
        lease.timed = o.reattest > 0;
        lease.every = o.reattest;
        /* Rounded up to the printed whole second, so the renewal's evidence always has at least
         * --timeout after the --reattest-every pause. */
        bool part = wall.tv_nsec > 0;
        lease.until = wall.tv_sec + (part ? 1 : 0) + o.reattest + o.timeout;
        lease_end = now;
        lease_end.tv_sec += o.reattest + o.timeout;
        if (part) {
            ts_add_ns(&lease_end, 1000000000L - wall.tv_nsec);
        }
        if (r != NULL && !print_result("atls-client: server", (unsigned)i + 1, r, o.json,
                                       swapped ? NULL : &lease, NULL)) {
            cvma_result_free(r);
            rc = 2; /* a result not shown is not acted on */
            goto out;
        }
        say_moved("atls-client", "server", r, rc != 0);
        if (rc != 0) {
            /* (the lease may be over) This end's own evidence failing is no refusal of the
             * server: it is told so instead. */
            refuse_peer(ssl, o.timeout, r, ownp != NULL && ownp->failed ? own_failed_msg : refusal);
            cvma_result_free(r);
            goto out;
        }
        free(prev);
        prev = cvma_result_json(r, false);
        cvma_result_free(r);
        if (prev == NULL) {
            rc = 2;
            goto out;
        }
        if (o.send != NULL) {
            uint8_t type = 0, *p = NULL;
            size_t len = 0;
            bool got = false;
            deadline_arm(&d, o.timeout);
            /* Read even when the write failed: the server may have refused this end and closed
             * the connection, its ERROR waiting to be read. */
            bool sent = cvma_atls_write_frame(ssl, CVMA_ATLS_F_DATA, (const uint8_t *)o.send,
                                              strlen(o.send)) == CVMA_OK;
            while (cvma_atls_read_frame(ssl, &type, &p, &len) == CVMA_OK) {
                if ((got = type == CVMA_ATLS_F_DATA)) {
                    break;
                }
                /* What else the server sends meanwhile, as between attestations: its NONCE
                 * (mutual: its lease on this end came due) answered, its ERROR (a refusal, of
                 * this end's renewal for one) said. */
                rc = client_unasked(cmd, ssl, type, p, len, ownp, &answered_at, o.timeout);
                free(p);
                p = NULL;
                if (rc != 0) {
                    goto out;
                }
            }
            if (!got) {
                free(p);
                rc = timed_out(ssl) ? 3 : 1;
                cvma_cli_err("cvmattest %s: %s%s\n", cmd,
                             sent ? "no reply to the application data"
                                  : "cannot send the application data",
                             rc == 3 ? ": timed out" : "");
                goto out;
            }
            char shown[4 * CVMA_ATLS_ERROR_SHOWN + 32];
            printf("atls-client: reply: %s\n", cvma_atls_printable(p, len, shown, sizeof shown));
            free(p);
        }
        fflush(stdout);
        if (misbehaving(&o, "straddle") || misbehaving(&o, "straddle-slow")) {
            rc = straddle(cmd, ssl, &d, misbehaving(&o, "straddle") ? 100 : 4000, o.timeout);
            goto out;
        }
    }
    rc = 0;
out:;
    /* A set-up session closes as the server's does (linger_close): a frame of the server left
     * unread (one sent while this end was refusing it) would turn a plain close into a reset
     * that drops this end's refusal or its close_notify. */
    bool session = ssl != NULL && SSL_is_init_finished(ssl) == 1;
    if (ssl != NULL && rc != 2) {
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    if (session) {
        linger_close(fd);
    } else if (fd >= 0) {
        close(fd);
    }
    SSL_CTX_free(ctx);
    cvma_verifier_free(v);
    free(prev);
    free(nonces);
    return rc;
}
