/* cvmattest: verify confidential-VM evidence. See README.md and docs/cli.md. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cmds.h"
#include "cvmattest/cvmattest.h"

static void usage(FILE *f)
{
    fputs("usage: cvmattest <command> [options]\n"
          "\n"
          "commands:\n"
          "  show FILE [--json]                 parse evidence and print every field (unverified)\n"
          "  verify FILE [options] [--json]     full verification and appraisal\n"
          "      --tee snp|tdx|tpm|azure-snp|azure-tdx\n"
          "                                     default: detected from the bytes\n"
          "      --product milan|genoa|turin    SEV-SNP product of a report that names none (v2)\n"
          "      --collateral DIR               offline collateral (docs/collateral.md file "
          "names)\n"
          "      --offline                      never touch the network (the cache is read)\n"
          "      --at RFC3339                   verify as of this time\n"
          "      --report-data HEX              expected REPORT_DATA (zero-padded to 64 bytes)\n"
          "      --trust-root FILE              also trust this root (test evidence only)\n"
          "      --allow-trailing-data          non-zero bytes after the evidence: a warning\n"
          "      --policy FILE                  appraisal policy (docs/policy.md)\n"
          "      --provider NAME=PUB            a provider's registry key (repeatable)\n"
          "      --registry FILE                a signed platform registry (repeatable)\n"
          "      --proof FILE                   an inclusion proof (repeatable)\n"
          "      --lookup-registry NAME=URL     a lookup registry (docs/registry.md)\n"
          "      --sign-result KEY --result-out TOKEN   the result as a signed EAR (JWT)\n"
          "      --previous RESULT.json         compare with an earlier result (migration)\n"
          "      --collateral-grace SECONDS     accept stale TDX collateral this long, warned\n"
          "      --collateral-max-age SECONDS   refetch cached CRLs, TCB Info, QE Identity older\n"
          "                                     than this when online (default 86400)\n"
          "      --kds-url URL  --pcs-url URL   AMD KDS / Intel PCS (or PCCS) base URLs\n"
          "      --cache-dir DIR                collateral cache (default $CVMATTEST_CACHE,\n"
          "                                     else $XDG_CACHE_HOME/cvmattest,\n"
          "                                     else ~/.cache/cvmattest)\n"
          "      --inform, --nonce, --log-*, --witness-*, --json ...\n"
          "                                     every option: cvmattest verify --help\n",
          f);
    fputs("  sim snp|tdx --out DIR [options]    simulated evidence, test root and collateral\n"
          "  collateral fetch FILE --out DIR [--kds-url URL] [--pcs-url URL] [--cache-dir DIR]\n"
          "                                     everything an offline verification of FILE needs\n"
          "  bench FILE [verify options] [--seconds S] [--json]\n"
          "                                     full verifications per second, one core\n"
          "  bench registry [--entries N] [--proof-checks K] [--json]\n"
          "                                     registry build and proof check speed\n"
          "  bench registry-log [--entries N] [--entry-bytes B] [--proof-checks K]\n"
          "                     [--dir DIR] [--json]\n"
          "                                     registry log append and proof speed\n"
          "  result check FILE --pub PUB        verify a signed result and print it\n"
          "  policy check FILE                  load a policy strictly, print its id\n"
          "  policy import --from cocos FILE [--out FILE]\n"
          "                                     convert a Cocos AI policy; names what it "
          "cannot carry\n"
          "  eventlog FILE [--json] [--pcrs FILE | --tdx-quote FILE]\n"
          "                                     a TCG event log or TDX CCEL: events, replay\n"
          "  registry keygen|build|prove|check|bench ...\n"
          "                                     provider platform registries (docs/registry.md)\n"
          "  host-check [--root DIR] [--json]   can this host run SEV-SNP or TDX guests "
          "(docs/host-check.md)\n"
          "  measure snp|tdx --ovmf|--tdvf FILE ...\n"
          "                                     the launch measurement to expect "
          "(docs/measure.md)\n"
          "  launch --tee snp|tdx --ovmf FILE --vcpus N --memory SIZE [--print]\n"
          "                                     the QEMU command line for a confidential VM\n"
          "  tpm check-quote --msg F --sig F --ak F [--pcrs F] --nonce HEX [--json]\n"
          "                                     a TPM 2.0 quote in tpm2-tools' files\n"
          "  registry log keygen|append|prove|check|bench ...\n"
          "                                     the registries' transparency log\n"
          "  witness keygen|cosign|serve ...    a transparency-log witness\n"
          "  collect --nonce HEX --out BUNDLE    evidence from inside a CVM into a bundle\n"
          "  guest-check [--json]               which TEE this guest is, what collect can use\n"
          "  tpm make-credential --ek F --ak F --out F --secret-out F\n"
          "                                     TPM2_MakeCredential for an EK and an AK\n"
          "  serve [--config FILE] [--listen ADDR] [options] [--redis URL]\n"
          "                                     the verification service over HTTP "
          "(docs/service.md)\n"
          "  atls-server --sim DIR [options]    attested TLS 1.3 server (docs/atls.md)\n"
          "  atls-client --connect HOST:PORT [options]\n"
          "                                     attested TLS client: refuses unless attested\n"
          "  demo                               the end-to-end story on the simulated TEE\n"
          "  help [COMMAND [SUBCOMMAND]] | version\n"
          "every command and subcommand answers --help; --opt=value equals --opt value\n"
          "\n"
          "exit codes: 0 verified (affirming or warning), 1 rejected, 2 usage or unreadable "
          "input,\n"
          "            3 could not decide (collateral or a lookup registry unavailable)\n",
          f);
}

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
        {"show", cvma_cmd_show},
        {"verify", cvma_cmd_verify},
        {"sim", cvma_cmd_sim},
        {"bench", cvma_cmd_bench},
        {"demo", cvma_cmd_demo},
        {"result", cvma_cmd_result},
        {"registry", cvma_cmd_registry},
        {"collateral", cvma_cmd_collateral},
        {"policy", cvma_cmd_policy},
        {"host-check", cvma_cmd_host_check},
        {"eventlog", cvma_cmd_eventlog},
        {"measure", cvma_cmd_measure},
        {"launch", cvma_cmd_launch},
        {"tpm", cvma_cmd_tpm},
        {"witness", cvma_cmd_witness},
        {"collect", cvma_cmd_collect},
        {"guest-check", cvma_cmd_guest_check},
        {"serve", cvma_cmd_serve},
        {"atls-server", cvma_cmd_atls_server},
        {"atls-client", cvma_cmd_atls_client},
};

static int (*find(const char *name))(int, char **)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(name, commands[i].name) == 0) {
            return commands[i].fn;
        }
    }
    return NULL;
}

/*
 * Every command's exit: what it wrote on standard output and could not be written whole (a
 * full disk, a closed pipe) is an error, exit 2, never the command's own code over part of its
 * output. A command that exits 2 already said why.
 */
static int finish(int rc)
{
    if (rc != 2 && (fflush(stdout) != 0 || ferror(stdout))) {
        cvma_cli_err("cvmattest: standard output could not be written\n");
        return 2;
    }
    return rc;
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* cvmattest version [--help] (also --version) */
static int cmd_version(int argc, char **argv)
{
    if (argc == 2 && is_help(argv[1])) {
        puts("usage: cvmattest version\n  prints the version");
        return 0;
    }
    if (argc > 1) {
        cvma_cli_err("cvmattest version: takes no arguments, not '%s'\n", argv[1]);
        return 2;
    }
    puts("cvmattest " CVMATTEST_VERSION);
    return 0;
}

/* The commands with a third level of subcommands: `help CMD SUB SUBSUB` is theirs only. */
static const char *const three_levels[][2] = {
        {"registry", "log"},
};

static bool has_third_level(const char *cmd, const char *sub)
{
    for (size_t i = 0; i < sizeof three_levels / sizeof three_levels[0]; i++) {
        if (strcmp(cmd, three_levels[i][0]) == 0 && strcmp(sub, three_levels[i][1]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The commands with subcommands: `help CMD SUB` hands SUB to them and they refuse an unknown
 * one. Every other command takes no second word after `help`. bench's first operand is a FILE
 * unless it names one of its subcommands, so its subcommands are listed here.
 */
static const char *const bench_subcommands[] = {"registry", "registry-log", NULL};

static const struct {
    const char *name;
    const char *const *only; /* NULL: the command checks its subcommand itself */
} with_subcommands[] = {
        {"sim", NULL},        {"bench", bench_subcommands},
        {"result", NULL},     {"registry", NULL},
        {"collateral", NULL}, {"policy", NULL},
        {"measure", NULL},    {"tpm", NULL},
        {"witness", NULL},
};

static bool in_list(const char *const *list, const char *word)
{
    for (; *list != NULL; list++) {
        if (strcmp(*list, word) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether `help CMD SUB` may name a subcommand of CMD (CMD itself refuses an unknown one). */
static bool takes_subcommand(const char *cmd, const char *sub)
{
    for (size_t i = 0; i < sizeof with_subcommands / sizeof with_subcommands[0]; i++) {
        if (strcmp(cmd, with_subcommands[i].name) == 0) {
            return with_subcommands[i].only == NULL || in_list(with_subcommands[i].only, sub);
        }
    }
    return false;
}

/*
 * cvmattest help [COMMAND [SUB [SUBSUB]]] (argv[0] is "help", "--help" or "-h"): the same as
 * COMMAND [SUB [SUBSUB]] --help, so that it prints exactly what that prints. A third word only
 * where the command has a third level; `help help` is `help`, `help version` is
 * `version --help`.
 */
static int cmd_help(int argc, char **argv)
{
    int (*fn)(int, char **);

    if (argc == 1 || (argc == 2 && (is_help(argv[1]) || strcmp(argv[1], "help") == 0))) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        cvma_cli_err("cvmattest help: 'help' has no subcommand, not '%s'\n", argv[2]);
        return 2;
    }
    if ((fn = strcmp(argv[1], "version") == 0 ? cmd_version : find(argv[1])) == NULL) {
        cvma_cli_err("cvmattest help: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    if (argc >= 3 && !takes_subcommand(argv[1], argv[2])) {
        cvma_cli_err("cvmattest help: '%s' has no subcommand, not '%s'\n", argv[1], argv[2]);
        return 2;
    }
    if (argc > 4 || (argc == 4 && !has_third_level(argv[1], argv[2]))) {
        cvma_cli_err("cvmattest help: at most a command and a subcommand (a third word only for "
                     "registry log), not '%s'\n",
                     argv[argc > 4 && has_third_level(argv[1], argv[2]) ? 4 : 3]);
        return 2;
    }
    char *words[5] = {NULL};
    int n = 0;
    for (int i = 1; i < argc; i++) {
        words[n++] = argv[i];
    }
    words[n++] = (char *)(uintptr_t) "--help";
    return fn(n, words);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    int (*fn)(int, char **) = find(cmd);
    if (fn != NULL) {
        return finish(fn(argc - 1, argv + 1));
    }
    if (strcmp(cmd, "help") == 0 || is_help(cmd)) {
        return finish(cmd_help(argc - 1, argv + 1));
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        return finish(cmd_version(argc - 1, argv + 1));
    }
    cvma_cli_err("cvmattest: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
