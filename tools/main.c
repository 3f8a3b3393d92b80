/* cvmattest: verify confidential-VM evidence. See README.md and docs/cli.md. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

static void usage(FILE *f)
{
    fputs("usage: cvmattest <command> [options]\n"
          "\n"
          "commands:\n"
          "  show FILE [--json]                 parse evidence and print every field "
          "(unverified)\n"
          "  verify FILE [options] [--json]     full verification and appraisal\n"
          "      --tee snp|tdx|tpm              default: detected from the bytes\n"
          "      --collateral DIR               offline collateral (vcek.pem/der, ask.pem, "
          "ark.pem,\n"
          "                                     cert_chain.pem, crl.der; vlek.*, asvk.pem)\n"
          "      --offline                      never touch the network\n"
          "      --at RFC3339                   verify as of this time\n"
          "      --report-data HEX              expected REPORT_DATA (zero-padded to 64 "
          "bytes)\n"
          "      --trust-root FILE              also trust this root (test evidence only)\n"
          "      --allow-trailing-data          non-zero bytes after the evidence: warning\n"
          "      --kds-url URL                  AMD KDS base URL (default "
          "https://kdsintf.amd.com)\n"
          "      --cache-dir DIR                collateral cache (default $CVMATTEST_CACHE,\n"
          "                                     else $XDG_CACHE_HOME/cvmattest)\n"
          "  sim snp --out DIR [options]        simulated SEV-SNP evidence, test root and "
          "collateral\n"
          "  bench FILE [verify options] [--seconds S] [--json]\n"
          "                                     full verifications per second, one core\n"
          "  help | version\n"
          "\n"
          "exit codes: 0 verified (affirming or warning), 1 rejected, 2 usage or unreadable "
          "input,\n"
          "            3 could not decide (collateral unavailable)\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "show") == 0) {
        return cvma_cmd_show(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "verify") == 0) {
        return cvma_cmd_verify(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "sim") == 0) {
        return cvma_cmd_sim(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "bench") == 0) {
        return cvma_cmd_bench(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        puts("cvmattest 0.1.0");
        return 0;
    }
    fprintf(stderr, "cvmattest: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
