/*
 * cvmattest registry bench (also `cvmattest bench registry`): build and sign a registry of N
 * generated platforms, then time inclusion-proof checks (docs/performance.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "common/util.h"
#include "crypto/jws.h"

const char cvma_regcli_bench_usage[] =
        "  bench [--entries N] [--proof-checks K] [--json]\n"
        "        builds and signs a registry of N entries (default 1000000), checks proofs\n";

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

int cvma_regcli_bench(int argc, char **argv)
{
    enum { O_JSON = 256, O_ENTRIES, O_CHECKS };
    static const struct option opts[] = {
            {"json", no_argument, NULL, O_JSON},
            {"entries", required_argument, NULL, O_ENTRIES},
            {"proof-checks", required_argument, NULL, O_CHECKS},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *n_s = NULL, *k_s = NULL;
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
    int rc = EXIT_USAGE, c;

    cvma_reg_entries_init(&e);
    memset(&t, 0, sizeof t);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case O_JSON:
            json = true;
            break;
        case O_ENTRIES:
            n_s = optarg;
            break;
        case O_CHECKS:
            k_s = optarg;
            break;
        case 'h':
            cvma_regcli_help(cvma_regcli_bench_usage);
            return EXIT_OK;
        default:
            return cvma_regcli_bad_option("bench", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_regcli_usage_error("bench", "takes no operands");
    }
    if (n_s != NULL && !cvma_cli_uint(n_s, 1, CVMA_REG_ENTRIES_MAX, &n)) {
        return cvma_regcli_usage_error("bench", "--entries must be 1..16777216");
    }
    if (k_s != NULL && !cvma_cli_uint(k_s, 1, 100000000, &k)) {
        return cvma_regcli_usage_error("bench", "--proof-checks must be 1..100000000");
    }

    /* The entries file a provider would write: half AMD Turin-style CHIP_IDs (8 ID bytes then
     * zeros), half Intel PPIDs, each with a region label. Generating it is not timed. */
    cap = (size_t)n * 170 + 1;
    if ((text = malloc(cap)) == NULL) {
        cvma_cli_err("cvmattest registry bench: out of memory\n");
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
        cvma_cli_err("cvmattest registry bench: %s\n", err);
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
        cvma_cli_err("cvmattest registry bench: %s\n", err);
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
        proof_text[i] = pj ? cvma_json_compact(pj, NULL) : NULL;
        json_decref(pj);
        if (proof_text[i] == NULL ||
            cvma_reg_proof_parse((const uint8_t *)proof_text[i], strlen(proof_text[i]), &pp[i], err,
                                 sizeof err) != CVMA_OK) {
            cvma_cli_err("cvmattest registry bench: proof %zu: %s\n", i, err);
            goto out;
        }
    }
    t0 = now_s();
    for (uint64_t i = 0; i < k; i++) {
        ok_checks += cvma_reg_proof_check(&pp[i % n_sample]);
    }
    t_check = now_s() - t0;
    if (ok_checks != k) {
        cvma_cli_err("cvmattest registry bench: %" PRIu64 " of %" PRIu64 " proofs failed\n",
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
