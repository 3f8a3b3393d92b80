/*
 * cvmattest registry log bench (also `cvmattest bench registry-log`): N small entries appended
 * to a registry log in memory, then its tiles, entry bundles and signed checkpoint written to
 * a directory; then inclusion and consistency proofs checked (docs/performance.md).
 */
#define _XOPEN_SOURCE 700 /* nftw: removing the temporary log */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/util.h"
#include "tlog/tlog.h"

const char cvma_reglog_bench_usage[] =
        "  log bench [--entries N] [--entry-bytes B] [--proof-checks K] [--dir DIR] [--json]\n"
        "        appends N entries of B bytes (default 1000000 of 200) and writes the tiles and\n"
        "        the checkpoint (to DIR, which must be missing or empty, else a temporary\n"
        "        directory removed afterwards), then times K inclusion and K consistency proof\n"
        "        checks\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* --dir: missing, or an empty directory. The bench writes a log of its own there, with tiles
 * and a checkpoint over those of any log already in it: a real log would be destroyed. */
static bool dir_usable(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool empty = true;

    if (d == NULL) {
        return errno == ENOENT;
    }
    while (empty && (e = readdir(d)) != NULL) {
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    }
    closedir(d);
    return empty;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

int cvma_reglog_bench(int argc, char **argv)
{
    enum { O_ENTRIES = 256, O_BYTES, O_CHECKS, O_DIR, O_JSON };
    static const struct option opts[] = {
            {"entries", required_argument, NULL, O_ENTRIES},
            {"entry-bytes", required_argument, NULL, O_BYTES},
            {"proof-checks", required_argument, NULL, O_CHECKS},
            {"dir", required_argument, NULL, O_DIR},
            {"json", no_argument, NULL, O_JSON},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    uint64_t n = 1000000, eb = 200, k = 100000, seed = 0x9e3779b97f4a7c15ULL;
    const char *dir = NULL;
    char tmpdir[] = "/tmp/cvma-logbench.XXXXXX", *skey = NULL, *vkey = NULL, err[300];
    bool json = false, made = false;
    struct cvma_note_skey sk;
    struct cvma_tlog l;
    uint8_t *entry = NULL;
    int rc = EXIT_USAGE, c;
    enum { SAMPLE = 1024 };
    static uint8_t paths[SAMPLE][CVMA_REG_PATH_MAX][32], cpaths[SAMPLE][CVMA_REG_PATH_MAX][32];
    static size_t plen[SAMPLE], clen[SAMPLE];
    static uint64_t pidx[SAMPLE], cold[SAMPLE], cnew[SAMPLE];
    static uint8_t croot_old[SAMPLE][32], croot_new[SAMPLE][32];

    memset(&sk, 0, sizeof sk);
    cvma_tlog_init(&l, "bench.example/log");
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_ENTRIES:
            if (!cvma_cli_uint(optarg, 2, CVMA_REG_ENTRIES_MAX, &n)) {
                return cvma_reglog_usage_error("bench", "--entries wants 2..16777216");
            }
            break;
        case O_BYTES:
            if (!cvma_cli_uint(optarg, 16, CVMA_TLOG_ENTRY_MAX, &eb)) {
                return cvma_reglog_usage_error("bench", "--entry-bytes wants 16..65535");
            }
            break;
        case O_CHECKS:
            if (!cvma_cli_uint(optarg, 1, 100000000, &k)) {
                return cvma_reglog_usage_error("bench", "--proof-checks wants 1..100000000");
            }
            break;
        case O_DIR:
            dir = optarg;
            break;
        case O_JSON:
            json = true;
            break;
        case 'h':
            cvma_reglog_help(cvma_reglog_bench_usage);
            return EXIT_OK;
        default:
            return cvma_reglog_bad_option("bench", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_reglog_usage_error("bench", "takes no operands");
    }
    if (dir != NULL && !dir_usable(dir)) {
        cvma_cli_err(
                "cvmattest registry log bench: --dir '%s' exists and is not an empty directory: "
                "the bench writes a log of its own there (give a new or empty directory)\n",
                dir);
        return EXIT_USAGE;
    }
    if (dir == NULL) {
        if (mkdtemp(tmpdir) == NULL) {
            cvma_cli_err("cvmattest registry log bench: cannot make a temporary directory\n");
            return EXIT_USAGE;
        }
        dir = tmpdir;
        made = true;
    }
    if (cvma_note_keygen("bench.example/log", &skey, &vkey, err, sizeof err) != CVMA_OK ||
        !cvma_note_skey_parse(skey, strlen(skey), &sk, err, sizeof err) ||
        (entry = malloc(eb)) == NULL) {
        cvma_cli_err("cvmattest registry log bench: setup failed\n");
        goto out;
    }
    /* Entries: a registry-like ASCII body with the version in it, so every leaf differs. */
    for (size_t i = 0; i < eb; i++) {
        entry[i] = (uint8_t)('A' + i % 26);
    }
    l.fast = true;
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        snprintf((char *)entry, eb < 21 ? eb : 21, "%020" PRIu64, i);
        if (cvma_tlog_append(&l, entry, eb) != CVMA_OK) {
            cvma_cli_err("cvmattest registry log bench: append failed\n");
            goto out;
        }
    }
    double t_append = now_s() - t0;
    t0 = now_s();
    if (cvma_tlog_save(&l, dir, &sk, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest registry log bench: %s\n", err);
        goto out;
    }
    double t_save = now_s() - t0;

    /* Proofs over the whole tree: a sample of inclusion and consistency proofs, checked k
     * times round-robin. */
    for (size_t i = 0; i < SAMPLE; i++) {
        pidx[i] = rng_next(&seed) % n;
        plen[i] = cvma_merkle_inclusion_proof(&l.tree, pidx[i], n, paths[i]);
        cold[i] = 1 + rng_next(&seed) % (n - 1);
        cnew[i] = n;
        clen[i] = cvma_merkle_consistency_proof(&l.tree, cold[i], cnew[i], cpaths[i]);
        cvma_merkle_subtree(&l.tree, 0, cold[i], croot_old[i]);
        cvma_merkle_subtree(&l.tree, 0, cnew[i], croot_new[i]);
    }
    uint8_t root[32];
    cvma_merkle_root(&l.tree, root);
    uint64_t bad = 0;
    t0 = now_s();
    for (uint64_t i = 0; i < k; i++) {
        size_t s = (size_t)(i % SAMPLE);
        bad += !cvma_merkle_verify(l.leaves[pidx[s]], pidx[s], n, (const uint8_t(*)[32])paths[s],
                                   plen[s], root);
    }
    double t_incl = (now_s() - t0) / (double)k;
    t0 = now_s();
    for (uint64_t i = 0; i < k; i++) {
        size_t s = (size_t)(i % SAMPLE);
        bad += !cvma_merkle_verify_consistency(cold[s], cnew[s], croot_old[s], croot_new[s],
                                               (const uint8_t(*)[32])cpaths[s], clen[s]);
    }
    double t_cons = (now_s() - t0) / (double)k;
    if (bad != 0) {
        cvma_cli_err("cvmattest registry log bench: %" PRIu64 " proofs failed\n", bad);
        rc = EXIT_REJECTED;
        goto out;
    }
    if (json) {
        printf("{\"entries\": %" PRIu64 ", \"entry_bytes\": %" PRIu64
               ", \"append_seconds\": %.3f, \"tiles_checkpoint_seconds\": %.3f, "
               "\"total_seconds\": %.3f, \"inclusion_check_us\": %.3f, "
               "\"consistency_check_us\": %.3f, \"proof_checks\": %" PRIu64 "}\n",
               n, eb, t_append, t_save, t_append + t_save, t_incl * 1e6, t_cons * 1e6, k);
    } else {
        printf("registry log of %" PRIu64 " entries of %" PRIu64 " bytes, one core:\n"
               "  append (hash, bundle)      %8.3f s\n"
               "  tree, tiles, checkpoint    %8.3f s\n"
               "  total                      %8.3f s   (target < 10 s)\n"
               "proof checks (%" PRIu64 " each):\n"
               "  inclusion                  %8.3f us  (target < 20 us)\n"
               "  consistency                %8.3f us  (target < 20 us)\n",
               n, eb, t_append, t_save, t_append + t_save, k, t_incl * 1e6, t_cons * 1e6);
    }
    rc = EXIT_OK;
out:
    if (made) {
        (void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    cvma_tlog_cleanup(&l);
    cvma_note_skey_cleanup(&sk);
    free(skey);
    free(vkey);
    free(entry);
    return rc;
}
