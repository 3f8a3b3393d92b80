/*
 * cvmattest demo: the end-to-end story on the simulated TEE, in a few readable lines.
 * A provider publishes its registry; a CVM on a registered machine is accepted and the
 * provider named; the same software on an unregistered machine is refused; a debug CVM is
 * refused by default and accepted as a warning only by a policy that allows debug; a tampered
 * report and a stale TDX platform are refused, each with its reason. Everything happens in a
 * temporary directory that is removed afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "cmds.h"
#include "common/hex.h"
#include "output.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "verifier/verifier.h"

#define MAX_EVIDENCE (1u << 20)

struct demo {
    char dir[64];
    int failures;
};

static char *path(const struct demo *d, const char *name)
{
    return cvma_path_join(d->dir, name);
}

/* What a step adds to the verification of the simulated evidence in its directory. */
struct step_opts {
    const char *policy;      /* a policy file */
    const char *provider;    /* NAME=PUB */
    const char *registry;    /* a registry file */
    const char *report_data; /* hex */
};

/*
 * One verification through the library, as `cvmattest verify` does; prints a summary.
 * want_status: the status the step must give, or -1 when the exit code says enough.
 */
static void step_status(struct demo *d, const char *title, const char *evidence_dir,
                        const char *file, const char *root, const struct step_opts *so,
                        int want_exit, int want_status)
{
    char *ev_path = NULL, *coll = NULL, *rt = NULL;
    struct cvma_verifier_config cfg;
    struct cvma_policy_config pc = {.name = NULL, .path = NULL};
    struct cvma_request req;
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    const char *roots[1], *providers[1], *registries[1];
    char err[512];

    memset(&cfg, 0, sizeof cfg);
    memset(&req, 0, sizeof req);
    coll = path(d, evidence_dir);
    ev_path = cvma_path_join(coll, file);
    rt = cvma_path_join(coll, root);
    roots[0] = rt;
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.collateral_dir = coll;
    cfg.offline = true;
    if (so != NULL && so->policy != NULL) {
        pc.path = so->policy;
        cfg.policies = &pc;
        cfg.n_policies = 1;
    }
    if (so != NULL && so->provider != NULL) {
        providers[0] = so->provider;
        registries[0] = so->registry;
        cfg.providers = providers;
        cfg.n_providers = 1;
        cfg.registries = registries;
        cfg.n_registries = 1;
    }
    if (so != NULL && so->report_data != NULL) {
        size_t n = 0;
        req.has_report_data =
                cvma_hex_decode(so->report_data, req.report_data, sizeof req.report_data, &n);
    }
    printf("\n%s\n", title);
    if (cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK ||
        cvma_evidence_from_file(ev_path, CVMA_INFORM_AUTO, &ev, err, sizeof err) != CVMA_OK ||
        cvma_verify(v, ev, &req, &res, err, sizeof err) != CVMA_OK) {
        printf("   (could not run: %s)\n", err);
        d->failures++;
        goto out;
    }
    int rc = cvma_result_exit_code(res);
    const struct cvma_platform *pl = &res->platform;
    const char *prov = pl->bound ? pl->provider : NULL;
    const char *region = NULL;
    for (size_t i = 0; i < pl->n_labels; i++) {
        if (strcmp(pl->labels[i].key, "region") == 0) {
            region = pl->labels[i].value;
        }
    }
    printf("   %-15s exit %d", cvma_result_status_name(res->status), rc);
    if (pl->present) {
        char id[2 * CVMA_PLATFORM_ID_MAX + 1];
        cvma_platform_id_string(pl, id, sizeof id);
        printf("   %s %s %.16s...", cvma_platform_vendor_name(pl->vendor),
               cvma_platform_id_type_name(pl->id_type), pl->has_id ? id : "(masked)");
    }
    if (prov != NULL) {
        printf("   provider %s%s%s", prov, region ? " region " : "", region ? region : "");
    }
    printf("\n");
    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &res->verdict.reasons[i];
        if (r->severity != CVMA_SEV_INFO) {
            printf("   %-7s %s: %.200s%s\n", cvma_severity_name(r->severity),
                   cvma_reason_name(r->code), r->detail, strlen(r->detail) > 200 ? "..." : "");
        }
    }
    if (rc != want_exit) {
        printf("   UNEXPECTED: wanted exit %d\n", want_exit);
        d->failures++;
    } else if (want_status >= 0 && (int)res->status != want_status) {
        printf("   UNEXPECTED: wanted status %s\n",
               cvma_result_status_name((enum cvma_result_status)want_status));
        d->failures++;
    }
out:
    cvma_result_free(res);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    free(ev_path);
    free(coll);
    free(rt);
}

static void step(struct demo *d, const char *title, const char *evidence_dir, const char *file,
                 const char *root, const struct step_opts *so, int want_exit)
{
    step_status(d, title, evidence_dir, file, root, so, want_exit, -1);
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
    bool ok = cvma_sim_snp_write(&o, dir, err, sizeof err) == CVMA_OK;
    if (!ok) {
        printf("sim snp: %s\n", err);
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

int cvma_cmd_demo(int argc, char **argv)
{
    struct demo d;
    uint8_t m[48];
    char hexm[97], chip[129], nonce[129];
    char *p_key, *p_pub, *fleet, *reg, *policy, *policy_dbg, *cache;
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
              "  the end-to-end story on the simulated TEE: a provider signs a registry of its\n"
              "  machines; a guest on a registered machine is accepted, the same software on an\n"
              "  unregistered one refused; a debug guest is refused unless a policy allows it;\n"
              "  a tampered report and a stale TDX platform are refused, each with its reason.\n"
              "  Runs in a temporary directory, needs no network and no hardware.\n",
              stdout);
        return 0;
    }
    if (optind < argc) {
        return cvma_cli_usage_error("demo", "takes no arguments");
    }
    rc = 1;
    memset(&d, 0, sizeof d);
    snprintf(d.dir, sizeof d.dir, "/tmp/cvmattest-demo.XXXXXX");
    if (mkdtemp(d.dir) == NULL) {
        perror("cvmattest demo: mkdtemp");
        return 2;
    }
    cache = path(&d, "cache");
    setenv("CVMATTEST_CACHE", cache, 1);
    memset(m, 0xc0, sizeof m);
    cvma_hex_encode(m, sizeof m, hexm, sizeof hexm);
    memset(chip, '5', 128);
    chip[128] = '\0';
    memset(nonce, 'e', 64);
    nonce[64] = '\0';

    printf("cvmattest demo: simulated AMD SEV-SNP (Genoa) and Intel TDX guests, test roots,\n"
           "a provider registry and a policy, in %s\n",
           d.dir);

    /* The provider publishes its registry: one machine, CHIP_ID 55..55. */
    p_key = path(&d, "cloud.key");
    p_pub = path(&d, "cloud.pub");
    fleet = path(&d, "fleet.txt");
    reg = path(&d, "registry.jws");
    policy = path(&d, "policy.json");
    policy_dbg = path(&d, "policy-debug.json");
    char *kout = path(&d, "cloud");
    char *kg[] = {(char *)(uintptr_t) "registry", (char *)(uintptr_t) "keygen",
                  (char *)(uintptr_t) "--out", kout, NULL};
    FILE *f = fopen(fleet, "w");
    if (f != NULL) {
        fprintf(f, "# examplecloud's machines\namd chip_id %s region=eu-west rack=12\n", chip);
        fclose(f);
    }
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
    f = fopen(policy, "w");
    if (f != NULL) {
        fprintf(f,
                "{\"snp\": {\"measurements\": [\"%s\"], \"allow_debug\": false},\n"
                " \"required_providers\": [\"examplecloud\"]}\n",
                hexm);
        fclose(f);
    }
    /* A test deployment's policy: the same, but a debug guest is accepted deliberately. */
    f = fopen(policy_dbg, "w");
    if (f != NULL) {
        fprintf(f,
                "{\"snp\": {\"measurements\": [\"%s\"], \"allow_debug\": true},\n"
                " \"required_providers\": [\"examplecloud\"]}\n",
                hexm);
        fclose(f);
    }
    if (quiet_cmd(cvma_cmd_registry, kg, 4) != 0 || quiet_cmd(cvma_cmd_registry, bd, 14) != 0) {
        printf("could not build the registry\n");
        goto out;
    }
    printf("\n1. examplecloud signs a registry of its machines (%s)\n"
           "   and the relying party's policy wants measurement %.16s..., no debug, and "
           "examplecloud\n",
           "registry.jws", hexm);

    if (!sim_snp(&d, "good", m, 0x55, false) || !sim_snp(&d, "rogue", m, 0x66, false) ||
        !sim_snp(&d, "debug", m, 0x55, true)) {
        goto out;
    }
    char provider_arg[512];
    snprintf(provider_arg, sizeof provider_arg, "examplecloud=%s", p_pub);
    const struct step_opts appraise = {.policy = policy, .provider = provider_arg, .registry = reg};
    step(&d, "2. The CVM on a registered machine: accepted, its provider named", "good",
         "report.bin", "ark.pem", &appraise, 0);
    step(&d, "3. The same software on a machine examplecloud does not list: refused", "rogue",
         "report.bin", "ark.pem", &appraise, 1);
    /* Secure default: a debug guest is refused with no policy at all (the host can read its
     * memory); only a policy that says allow_debug true accepts it, as a warning. */
    step_status(&d,
                "4. A debug build of the CVM, no policy: refused by default (the host can read "
                "its memory)",
                "debug", "report.bin", "ark.pem", NULL, 1, CVMA_CONTRAINDICATED);
    const struct step_opts appraise_dbg = {
            .policy = policy_dbg, .provider = provider_arg, .registry = reg};
    step_status(&d,
                "   The same with a test policy that sets allow_debug true: accepted, as a "
                "warning",
                "debug", "report.bin", "ark.pem", &appraise_dbg, 0, CVMA_WARNING);

    /* A tampered report. */
    {
        char *a = path(&d, "good/report.bin"), *b = path(&d, "good/tampered.bin");
        struct cvma_buf rb;
        if (cvma_file_read(a, MAX_EVIDENCE, &rb) == CVMA_OK) {
            rb.p[0x90] ^= 0x01; /* MEASUREMENT, first byte */
            if (cvma_file_write_atomic(b, rb.p, rb.len) != CVMA_OK) {
                d.failures++;
            }
            cvma_buf_free(&rb);
        }
        free(a);
        free(b);
        step(&d, "5. One bit of the measurement flipped on the way: refused", "good",
             "tampered.bin", "ark.pem", NULL, 1);
    }

    /* Intel TDX. */
    {
        struct cvma_sim_tdx_opts o;
        char err[256];
        char *t1 = path(&d, "td"), *t2 = path(&d, "td-old");
        cvma_sim_tdx_opts_default(&o);
        memset(o.report_data, 0xee, 32);
        bool ok = cvma_sim_tdx_write(&o, t1, err, sizeof err) == CVMA_OK;
        o.tcb_status = CVMA_SIM_TDX_TCB_OUTOFDATE;
        ok = ok && cvma_sim_tdx_write(&o, t2, err, sizeof err) == CVMA_OK;
        free(t1);
        free(t2);
        if (!ok) {
            printf("sim tdx: %s\n", err);
            goto out;
        }
        const struct step_opts rd = {.report_data = nonce};
        step(&d, "6. An Intel TDX CVM, its quote bound to our nonce, DCAP collateral current", "td",
             "quote.bin", "root_ca.pem", &rd, 0);
        step(&d, "7. A TDX machine that missed Intel's latest TCB recovery: OutOfDate, refused",
             "td-old", "quote.bin", "root_ca.pem", NULL, 1);
    }
    rc = d.failures == 0 ? 0 : 1;
    printf("\n%s\n", rc == 0 ? "demo: every step gave the expected verdict"
                             : "demo: some step gave an unexpected verdict");
out : {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d.dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cvmattest demo: could not remove %s\n", d.dir);
    }
}
    free(kout);
    free(p_key);
    free(p_pub);
    free(fleet);
    free(reg);
    free(policy);
    free(policy_dbg);
    free(cache);
    return rc;
}
