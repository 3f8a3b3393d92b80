/*
 * cvmattest demo: the whole story on one machine, one line a step (✓ accepted, ✗ refused, with
 * the reason). A provider signs a registry of its machines; a simulated SEV-SNP CVM and a
 * simulated TDX CVM on registered machines serve attested TLS (in-process, on loopback) and a
 * client is satisfied, naming the provider, region and platform; a CVM on a machine the
 * provider does not list and a debug CVM are refused by the client; a test policy accepts the
 * debug CVM as a warning; the CVM migrates to an unregistered machine during a re-attestation
 * lease and the client closes the connection; the verification service verifies the same
 * evidence over HTTP and its token checks; a flipped bit and a stale TDX platform are
 * refused. Each step compares the verdict it gets with the one it expects; the exit status
 * says whether they all matched. Everything happens in a temporary directory, removed after.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "cmds.h"
#include "common/hex.h"
#include "demo.h"
#include "output.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "verifier/verifier.h"

#define MAX_EVIDENCE (1u << 20)

static char *path(const struct demo *d, const char *name)
{
    return cvma_path_join(d->dir, name);
}

/* A verification of a file the simulator wrote, through the library as `cvmattest verify`. */
static void verify_file(struct demo *d, const char *label, const char *dir_name, const char *file,
                        const char *root, const struct demo_want *want)
{
    char *dir = path(d, dir_name), *ev_path = cvma_path_join(dir, file),
         *rt = cvma_path_join(dir, root), *json = NULL;
    struct cvma_verifier_config cfg;
    struct cvma_request req;
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    const char *roots[1] = {rt};
    char err[512] = "out of memory";

    memset(&cfg, 0, sizeof cfg);
    memset(&req, 0, sizeof req);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.collateral_dir = dir;
    cfg.offline = true;
    if (dir != NULL && ev_path != NULL && rt != NULL &&
        cvma_verifier_new(&cfg, &v, err, sizeof err) == CVMA_OK &&
        cvma_evidence_from_file(ev_path, CVMA_INFORM_AUTO, &ev, err, sizeof err) == CVMA_OK &&
        cvma_verify(v, ev, &req, &res, err, sizeof err) == CVMA_OK) {
        json = cvma_result_json(res, false);
    }
    demo_report(d, label, json, want, err);
    free(json);
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    free(ev_path);
    free(rt);
    free(dir);
}

/* One aTLS connection (demo_atls.c): its first attestation reported as a step. */
static void atls_step(struct demo *d, const char *label, const char *dir_name,
                      struct cvma_verifier *v, const struct demo_want *want)
{
    char *dir = path(d, dir_name);
    struct demo_atls a;
    memset(&a, 0, sizeof a);
    a.dirs[0] = dir;
    a.n_dirs = 1;
    a.v = v;
    a.rounds = 1;
    bool ran = dir != NULL && demo_atls_run(&a);
    demo_report(d, label, ran && a.n_results > 0 ? a.results[0] : NULL, want, a.err);
    if (ran && want->accept && strcmp(a.reply, "echo: hello") != 0) {
        printf("     UNEXPECTED: no application data after the attestation\n");
        d->failures++;
    }
    demo_atls_free(&a);
    free(dir);
}

/* The CVM moves to another machine between two attestations of one connection (a lease). */
static void migration(struct demo *d, struct cvma_verifier *v)
{
    char *from = path(d, "good"), *to = path(d, "rogue");
    struct demo_atls a;
    memset(&a, 0, sizeof a);
    a.dirs[0] = from;
    a.dirs[1] = to;
    a.n_dirs = 2;
    a.switch_after = 1;
    a.v = v;
    a.rounds = 2;
    a.lease_ms = 500;
    printf("   the SNP CVM live-migrates to a machine examplecloud does not list, during a lease\n"
           "   (the client re-attests every 0.5 s on the open connection):\n");
    char why[2][300];
    if (from != NULL && to != NULL) {
        (void)demo_atls_run(&a); /* what ran is in a.results, why the rest did not in a.err */
    } else {
        snprintf(a.err, sizeof a.err, "out of memory");
    }
    const struct demo_want first = {.accept = true};
    const struct demo_want second = {.accept = false,
                                     .reasons = {"REGISTRY_PLATFORM_NOT_LISTED",
                                                 "POLICY_PROVIDER_REQUIRED", "PLATFORM_CHANGED"}};
    demo_report(d, "lease 1", a.n_results > 0 ? a.results[0] : NULL, &first,
                demo_atls_why(&a, 0, why[0], sizeof why[0]));
    demo_report(d, "lease 2", a.n_results > 1 ? a.results[1] : NULL, &second,
                demo_atls_why(&a, 1, why[1], sizeof why[1]));
    /* The line says what happened: the refusal the CVM got (or none) and who closed. */
    bool closed = a.refused && a.server_closed &&
                  strstr(a.server_saw, "REGISTRY_PLATFORM_NOT_LISTED") != NULL;
    d->steps++;
    if (a.refused) {
        printf("%2d %s the client refuses and closes the connection: the CVM got \"%s\", %s\n",
               d->steps, demo_no_mark, a.server_saw[0] != '\0' ? a.server_saw : "(nothing)",
               a.server_closed ? "then the close" : "but no close from the client");
    } else {
        printf("%2d %s the client kept the connection: the CVM got \"%s\", no refusal\n", d->steps,
               demo_ok_mark, a.server_saw[0] != '\0' ? a.server_saw : "(nothing)");
    }
    if (!closed) {
        printf("     UNEXPECTED: wanted the client's refusal (REGISTRY_PLATFORM_NOT_LISTED) and "
               "the connection closed by it\n");
        d->failures++;
    }
    demo_atls_free(&a);
    free(from);
    free(to);
}

static bool sim_snp(struct demo *d, const char *name, const uint8_t measurement[48],
                    uint8_t chip_fill, bool debug)
{
    struct cvma_sim_snp_opts o;
    char err[256];
    char *dir = path(d, name);
    cvma_sim_snp_opts_default(&o);
    o.product = CVMA_SNP_PRODUCT_GENOA;
    o.has_measurement = true;
    memcpy(o.measurement, measurement, 48);
    o.has_chip_id = true;
    memset(o.chip_id, chip_fill, sizeof o.chip_id);
    o.debug = debug;
    o.keep_keys = true; /* the aTLS source re-signs the report for each nonce */
    bool ok = dir != NULL && cvma_sim_snp_write(&o, dir, err, sizeof err) == CVMA_OK;
    if (!ok) {
        printf("sim snp: %s\n", err);
    }
    free(dir);
    return ok;
}

static bool sim_tdx(struct demo *d, const char *name, const uint8_t mr_td[48], uint8_t ppid_fill,
                    enum cvma_sim_tdx_tcb_status tcb)
{
    struct cvma_sim_tdx_opts o;
    char err[256];
    char *dir = path(d, name);
    cvma_sim_tdx_opts_default(&o);
    o.has_mr_td = true;
    memcpy(o.mr_td, mr_td, 48);
    o.has_ppid = true;
    memset(o.ppid, ppid_fill, sizeof o.ppid);
    o.tcb_status = tcb;
    o.keep_keys = true;
    bool ok = dir != NULL && cvma_sim_tdx_write(&o, dir, err, sizeof err) == CVMA_OK;
    if (!ok) {
        printf("sim tdx: %s\n", err);
    }
    free(dir);
    return ok;
}

static int quiet_cmd(int (*fn)(int, char **), char **argv, int argc)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *null = fopen("/dev/null", "w");
    if (saved >= 0 && null != NULL) {
        dup2(fileno(null), STDOUT_FILENO);
    }
    int rc = fn(argc, argv);
    fflush(stdout);
    if (saved >= 0) {
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    if (null != NULL) {
        fclose(null);
    }
    return rc;
}

/* The aTLS client's verifier: the simulator's roots, the provider's registry, a policy. */
static struct cvma_verifier *client_verifier(struct demo *d, const char *policy,
                                             const char *provider, const char *registry)
{
    static const char *const root_files[] = {"good/ark.pem", "rogue/ark.pem", "debug/ark.pem",
                                             "td/root_ca.pem"};
    char *roots[4] = {NULL};
    const char *croots[4];
    struct cvma_policy_config pc = {.name = NULL, .path = policy};
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    char err[512] = "out of memory";
    memset(&cfg, 0, sizeof cfg);
    for (size_t i = 0; i < 4; i++) {
        roots[i] = path(d, root_files[i]);
        croots[i] = roots[i];
    }
    cfg.trust_root_files = croots;
    cfg.n_trust_root_files = 4;
    cfg.offline = true;
    cfg.policies = &pc;
    cfg.n_policies = 1;
    cfg.providers = &provider;
    cfg.n_providers = 1;
    cfg.registries = &registry;
    cfg.n_registries = 1;
    if ((roots[0] == NULL || roots[1] == NULL || roots[2] == NULL || roots[3] == NULL ||
         cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK)) {
        printf("cannot make the client's verifier: %s\n", err);
        v = NULL;
    }
    for (size_t i = 0; i < 4; i++) {
        free(roots[i]);
    }
    return v;
}

static bool write_text(const char *file, const char *text)
{
    return cvma_file_write_atomic(file, (const uint8_t *)text, strlen(text)) == CVMA_OK;
}

int cvma_cmd_demo(int argc, char **argv)
{
    struct demo d;
    uint8_t m[48], mt[48];
    char hexm[97], hexmt[97], chip[129], ppid[33], text[1024], provider_arg[512];
    char *p_key = NULL, *p_pub = NULL, *fleet = NULL, *reg = NULL, *policy = NULL,
         *policy_dbg = NULL, *cache = NULL, *kout = NULL, *vout = NULL, *v_key = NULL,
         *v_pub = NULL, *good = NULL, *good_root = NULL;
    struct cvma_verifier *v = NULL, *v_dbg = NULL;
    struct timespec t0, t1;
    int rc = 1;

    static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    cvma_cli_getopt_begin();
    while ((rc = cvma_cli_getopt(argc, argv, opts)) != -1) {
        if (rc != 'h') {
            return cvma_cli_bad_option("demo", rc, argv);
        }
        fputs("usage: cvmattest demo\n"
              "  the whole story on the simulated TEE, one line a step (\xe2\x9c\x93 accepted, "
              "\xe2\x9c\x97 refused):\n"
              "  a provider signs a registry of its machines; a SEV-SNP and a TDX CVM on\n"
              "  registered machines serve attested TLS and a client is satisfied; a CVM on an\n"
              "  unregistered machine and a debug CVM are refused; a live migration to an\n"
              "  unregistered machine during a re-attestation lease closes the connection; the\n"
              "  verification service (cvmattest serve, a child process) verifies the same\n"
              "  evidence over HTTP; a tampered report and a stale TDX platform are refused.\n"
              "  Each step checks the verdict it expects; exit 0 when all match, else 1.\n"
              "  Runs on loopback in a temporary directory, needs no network and no hardware.\n",
              stdout);
        return 0;
    }
    if (optind < argc) {
        return cvma_cli_usage_error("demo", "takes no arguments");
    }
    rc = 1;
    signal(SIGPIPE, SIG_IGN); /* a peer that closed is an error to report, not a signal */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&d, 0, sizeof d);
    snprintf(d.dir, sizeof d.dir, "/tmp/cvmattest-demo.XXXXXX");
    if (mkdtemp(d.dir) == NULL) {
        perror("cvmattest demo: mkdtemp");
        return 2;
    }
    cache = path(&d, "cache");
    setenv("CVMATTEST_CACHE", cache, 1);
    memset(m, 0xc0, sizeof m);
    memset(mt, 0x7d, sizeof mt);
    cvma_hex_encode(m, sizeof m, hexm, sizeof hexm);
    cvma_hex_encode(mt, sizeof mt, hexmt, sizeof hexmt);
    memset(chip, '5', 128);
    chip[128] = '\0';
    memset(ppid, '3', 32);
    ppid[32] = '\0';

    printf("cvmattest demo: simulated AMD SEV-SNP and Intel TDX CVMs (test roots), attested TLS\n"
           "and the verification service on loopback, in %s\n\n",
           d.dir);

    p_key = path(&d, "cloud.key");
    p_pub = path(&d, "cloud.pub");
    kout = path(&d, "cloud");
    vout = path(&d, "verifier");
    v_key = path(&d, "verifier.key");
    v_pub = path(&d, "verifier.pub");
    fleet = path(&d, "fleet.txt");
    reg = path(&d, "registry.jws");
    policy = path(&d, "policy.json");
    policy_dbg = path(&d, "policy-debug.json");
    good = path(&d, "good");
    good_root = path(&d, "good/ark.pem");
    if (p_key == NULL || p_pub == NULL || kout == NULL || vout == NULL || v_key == NULL ||
        v_pub == NULL || fleet == NULL || reg == NULL || policy == NULL || policy_dbg == NULL ||
        good == NULL || good_root == NULL) {
        goto out;
    }

    /* The provider's registry: an AMD machine (CHIP_ID 55..55) and an Intel one (PPID 33..33). */
    char *kg[] = {(char *)(uintptr_t) "registry", (char *)(uintptr_t) "keygen",
                  (char *)(uintptr_t) "--out", kout, NULL};
    char *vkg[] = {(char *)(uintptr_t) "registry", (char *)(uintptr_t) "keygen",
                   (char *)(uintptr_t) "--out", vout, NULL};
    char *bd[] = {(char *)(uintptr_t) "registry",
                  (char *)(uintptr_t) "build",
                  (char *)(uintptr_t) "--provider",
                  (char *)(uintptr_t) "examplecloud",
                  (char *)(uintptr_t) "--key",
                  p_key,
                  (char *)(uintptr_t) "--entries",
                  fleet,
                  (char *)(uintptr_t) "--version",
                  (char *)(uintptr_t) "1",
                  (char *)(uintptr_t) "--valid-days",
                  (char *)(uintptr_t) "7",
                  (char *)(uintptr_t) "--out",
                  reg,
                  NULL};
    snprintf(text, sizeof text,
             "# examplecloud's machines\n"
             "amd chip_id %s region=eu-west rack=12\n"
             "intel ppid %s region=ap-south\n",
             chip, ppid);
    bool ok = write_text(fleet, text);
    /* The relying party's policy: these measurements, no debug, a machine of examplecloud. */
    snprintf(text, sizeof text,
             "{\"snp\": {\"measurements\": [\"%s\"], \"allow_debug\": false},\n"
             " \"tdx\": {\"mr_td\": [\"%s\"], \"allow_debug\": false},\n"
             " \"required_providers\": [\"examplecloud\"]}\n",
             hexm, hexmt);
    ok = ok && write_text(policy, text);
    /* A test deployment's policy: the same, but a debug CVM is accepted deliberately. */
    snprintf(text, sizeof text,
             "{\"snp\": {\"measurements\": [\"%s\"], \"allow_debug\": true},\n"
             " \"required_providers\": [\"examplecloud\"]}\n",
             hexm);
    ok = ok && write_text(policy_dbg, text);
    ok = ok && quiet_cmd(cvma_cmd_registry, kg, 4) == 0 &&
         quiet_cmd(cvma_cmd_registry, vkg, 4) == 0;
    ok = ok && quiet_cmd(cvma_cmd_registry, bd, 14) == 0;
    demo_line(&d, ok,
              "examplecloud signs a registry of its machines: amd chip_id %.8s... (eu-west), "
              "intel ppid %.8s... (ap-south)",
              chip, ppid);
    printf("     the client's policy: SNP measurement %.8s..., TDX MRTD %.8s..., no debug, a "
           "machine of examplecloud\n",
           hexm, hexmt);
    if (!ok || !sim_snp(&d, "good", m, 0x55, false) || !sim_snp(&d, "rogue", m, 0x66, false) ||
        !sim_snp(&d, "debug", m, 0x55, true) ||
        !sim_tdx(&d, "td", mt, 0x33, CVMA_SIM_TDX_TCB_UPTODATE) ||
        !sim_tdx(&d, "td-old", mt, 0x33, CVMA_SIM_TDX_TCB_OUTOFDATE)) {
        goto out;
    }
    snprintf(provider_arg, sizeof provider_arg, "examplecloud=%s", p_pub);
    if ((v = client_verifier(&d, policy, provider_arg, reg)) == NULL ||
        (v_dbg = client_verifier(&d, policy_dbg, provider_arg, reg)) == NULL) {
        goto out;
    }

    printf("\nattested TLS 1.3 (evidence bound to the session, the CVM's key and the client's "
           "nonce):\n");
    const struct demo_want accept = {.accept = true};
    const struct demo_want unlisted = {
            .accept = false,
            .reasons = {"REGISTRY_PLATFORM_NOT_LISTED", "POLICY_PROVIDER_REQUIRED"}};
    const struct demo_want debug = {.accept = false,
                                    .reasons = {"SNP_DEBUG_ALLOWED", "POLICY_DEBUG"}};
    const struct demo_want debug_ok = {.accept = true, .reasons = {"SNP_DEBUG_ALLOWED"}};
    atls_step(&d, "SNP CVM on a registered machine", "good", v, &accept);
    atls_step(&d, "TDX CVM on a registered machine", "td", v, &accept);
    atls_step(&d, "SNP CVM on an unregistered machine", "rogue", v, &unlisted);
    atls_step(&d, "debug SNP CVM", "debug", v, &debug);
    atls_step(&d, "debug SNP CVM, a test policy (allow_debug)", "debug", v_dbg, &debug_ok);
    migration(&d, v);

    printf("\nthe verification service, over HTTP:\n");
    const struct demo_service_opts so = {.sim_dir = good,
                                         .root = good_root,
                                         .policy = policy,
                                         .provider = provider_arg,
                                         .registry = reg,
                                         .sign_key = v_key,
                                         .sign_pub = v_pub};
    demo_service(&d, &so);

    printf("\nevidence files, verified as `cvmattest verify` does:\n");
    {
        char *a = path(&d, "good/report.bin"), *b = path(&d, "good/tampered.bin");
        struct cvma_buf rb;
        if (a != NULL && b != NULL && cvma_file_read(a, MAX_EVIDENCE, &rb) == CVMA_OK) {
            rb.p[0x90] ^= 0x01; /* MEASUREMENT, first byte */
            if (cvma_file_write_atomic(b, rb.p, rb.len) != CVMA_OK) {
                d.failures++;
            }
            cvma_buf_free(&rb);
        }
        free(a);
        free(b);
    }
    const struct demo_want bad_sig = {.accept = false, .reasons = {"SNP_REPORT_SIGNATURE_INVALID"}};
    const struct demo_want out_of_date = {.accept = false, .reasons = {"TDX_TCB_OUT_OF_DATE"}};
    verify_file(&d, "one bit of an SNP report flipped", "good", "tampered.bin", "ark.pem",
                &bad_sig);
    verify_file(&d, "TDX machine behind Intel's TCB recovery", "td-old", "quote.bin", "root_ca.pem",
                &out_of_date);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    rc = d.failures == 0 ? 0 : 1;
    printf("\ndemo: %d steps, %s, in %.1f s\n", d.steps,
           rc == 0 ? "every step gave the expected verdict"
                   : "some step gave an unexpected verdict",
           secs);
out:
    if (rc != 0 && d.steps == 0) {
        printf("demo: could not set up the story\n");
    }
    cvma_verifier_free(v);
    cvma_verifier_free(v_dbg);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d.dir);
        if (system(cmd) != 0) {
            cvma_cli_err("cvmattest demo: could not remove '%s'\n", d.dir);
        }
    }
    free(kout);
    free(vout);
    free(v_key);
    free(v_pub);
    free(p_key);
    free(p_pub);
    free(fleet);
    free(reg);
    free(policy);
    free(policy_dbg);
    free(cache);
    free(good);
    free(good_root);
    return rc;
}
