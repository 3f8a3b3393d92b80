/*
 * SEV-SNP parsing and verification against the real public samples (shared testdata,
 * MANIFEST.md) and mutations of them.
 */
#include <time.h>

#include <openssl/x509.h>

#include "collateral/cache.h"
#include "collateral/source.h"
#include "common/timeutil.h"
#include "crypto/chain_cache.h"
#include "sim/sim_snp.h"
#include "snp/snp_internal.h"
#include "snp/snp_kds.h"
#include "testutil.h"

struct sample {
    const char *dir;
    const char *leaf;  /* file in dir */
    const char *chain; /* file in roots/ */
    const char *at;    /* a time where every certificate is valid */
    unsigned version;
    enum cvma_snp_product product;
    bool vlek;
    const char *measurement;
    const char *chip_id; /* hex prefix, or the csp for a VLEK */
    unsigned bl, tee, snp, ucode, fmc;
    bool debug;
};

static const struct sample samples[] = {
        {"milan-v2-gosevguest", "vcek.der", "ask_ark_milan.pem", "2025-01-01T00:00:00Z", 2,
         CVMA_SNP_PRODUCT_MILAN, false,
         "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e"
         "4872b01",
         "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776"
         "b564ea464cdce40c05f63c9b610c5068b006b5d",
         2, 0, 5, 68, 0, true},
        {"milan-v2-coco-trustee", "vcek.der", "ask_ark_milan.pem", "2025-01-01T00:00:00Z", 2,
         CVMA_SNP_PRODUCT_MILAN, false,
         "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f905"
         "0d3d38c",
         "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aa"
         "dfb4426205a3b9e4fea82301135a170e477524e",
         3, 0, 8, 115, 0, false},
        {"milan-v3-vlek-coco-trustee", "vlek.der", "ask_ark_milan_vlek.pem", "2025-01-01T00:00:00Z",
         3, CVMA_SNP_PRODUCT_MILAN, true,
         "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a5"
         "70d7bf0",
         "cc-us-east-2.amazonaws.com", 4, 0, 24, 217, 0, false},
        {"milan-v3-vlek-anolis-trustee", "vlek.der", "ask_ark_milan_vlek.pem",
         "2024-06-01T00:00:00Z", 2, CVMA_SNP_PRODUCT_MILAN, true,
         "f1a99fc07470beb03b1330f4489520af8f0288187ffb661c71f35cab09bea19cd962d4f2d09f5a16c3c38b7da"
         "6bed244",
         "cc-us-east-2.amazonaws.com", 3, 0, 21, 209, 0, false},
        {"milan-v2-azure-constellation", "vcek.der", "ask_ark_milan.pem", "2025-01-01T00:00:00Z", 2,
         CVMA_SNP_PRODUCT_MILAN, false,
         "5677f1de87289e7ad2c7e99c805d0468b1a9ccd83f0d245afa5242d405da4d5725852f8c6550564870e5f3206"
         "dfb1841",
         "9e44aaef02cfca6fddbaca669c6cfd29e1ab8d97ebc939857128acbb13b8740df31436d34e86e5f8ae0cdfeb3"
         "a0e185db46decac176cc77d761c22a1b9dcf25b",
         2, 0, 6, 93, 0, false},
        {"milan-v5-gcp-teekit", "vcek.pem", "ask_ark_milan.pem", "2026-01-01T00:00:00Z", 5,
         CVMA_SNP_PRODUCT_MILAN, false,
         "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f"
         "58406f3",
         "980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc7"
         "74bcfe28019447711598f007390e4accc405361",
         4, 0, 27, 222, 0, false},
        {"genoa-v3-azure-hcl", "vcek.pem", "ask_ark_genoa.pem", "2026-01-01T00:00:00Z", 3,
         CVMA_SNP_PRODUCT_GENOA, false,
         "f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff9"
         "17c89ae",
         "0506ffba875e939c2729d20c74eb72b4c5ba6bf7ea1faaa640141f12c6d64782fb487f68ce69dcd021e914cc0"
         "d9244327bc121f0242d6470903ad1d4aaea4ad1",
         10, 0, 23, 84, 0, false},
        {"turin-v5-anolis-trustee", "vcek.der", "ask_ark_turin_vcek.pem", "2026-07-01T00:00:00Z", 5,
         CVMA_SNP_PRODUCT_TURIN, false,
         "a13039badd60b0854bea169b58fd6fe1773981aefbfee98bf32d6cbe7521e5f281c1dd1fa8a44be828e6cf480"
         "4871091",
         "0910b4f884ff4ba9"
         "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "00000000000000000000000",
         3, 2, 5, 97, 1, false},
};

/* A temp collateral dir holding the sample's leaf and its roots bundle as cert_chain.pem. */
static char *coll_dir(const struct sample *s, const char *leaf_override)
{
    char *d = tu_tmpdir();
    char *sd = tu_path(tu_vectors(), "snp");
    char *sample = tu_path(sd, s->dir);
    char *roots = tu_path(sd, "roots");
    char *from = tu_path(leaf_override ? leaf_override : sample, leaf_override ? "" : s->leaf);
    if (leaf_override) {
        free(from);
        from = strdup(leaf_override);
    }
    const char *ext = strstr(s->leaf, ".pem") ? ".pem" : ".der";
    char name[32];
    snprintf(name, sizeof name, "%s%s", s->vlek ? "vlek" : "vcek",
             leaf_override ? (strstr(leaf_override, ".pem") ? ".pem" : ".der") : ext);
    char *to = tu_path(d, name);
    tu_copy(from, to);
    char *cf = tu_path(roots, s->chain), *ct = tu_path(d, "cert_chain.pem");
    tu_copy(cf, ct);
    free(sd);
    free(sample);
    free(roots);
    free(from);
    free(to);
    free(cf);
    free(ct);
    return d;
}

static void read_report(const struct sample *s, struct cvma_buf *b)
{
    char *sd = tu_path(tu_vectors(), "snp");
    char *sample = tu_path(sd, s->dir);
    char *f = tu_path(sample, "report.bin");
    tu_read(f, b);
    free(sd);
    free(sample);
    free(f);
}

static void verify_bytes(const uint8_t *p, size_t len, const char *dir, const char *at,
                         struct cvma_chain_cache *cache, struct cvma_result *res)
{
    struct cvma_verify_opts o;
    memset(&o, 0, sizeof o);
    assert_true(cvma_time_parse_rfc3339(at, &o.at));
    o.collateral_dir = dir;
    o.offline = true;
    o.chain_cache = cache;
    cvma_result_init(res, "sev-snp", o.at);
    cvma_snp_verify(p, len, &o, NULL, res);
    cvma_result_finish(res);
}

static const struct sample *sample_named(const char *dir)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(samples); i++) {
        if (strcmp(samples[i].dir, dir) == 0) {
            return &samples[i];
        }
    }
    fail_msg("no sample %s", dir);
    return NULL;
}

/* Puts b in the cache at dir as AMD KDS gave it for path (relative to KDS's URL); its entry's
 * path, malloc'd. */
static char *cache_as_kds(char *dir, const char *path, const struct cvma_buf *b)
{
    struct cvma_kds kds;
    char url[CVMA_KDS_PATH_MAX + 256], key[CVMA_KDS_PATH_MAX + 300];
    const struct cvma_cache c = {.dir = dir};
    cvma_kds_init(&kds);
    assert_int_equal(cvma_kds_url(&kds, path, url, sizeof url), CVMA_OK);
    snprintf(key, sizeof key, "amd-kds %s", url);
    assert_int_equal(cvma_cache_put(&c, key, b->p, b->len, 0), CVMA_OK);
    char *entry = cvma_cache_entry_path(&c, key);
    assert_non_null(entry);
    return entry;
}

/* KDS's path of product's cert_chain (the VCEK one) into path. */
static void kds_chain_path(const char *product, char path[CVMA_KDS_PATH_MAX])
{
    assert_int_equal(cvma_kds_product_path(product, false, "cert_chain", path, CVMA_KDS_PATH_MAX),
                     CVMA_OK);
}

/* The CRL tests' set-up: a real report (report_of), the collateral directory of another sample
 * (chain_of: its leaf and cert_chain.pem, no CRL), an empty cache, and a CRL AMD's ARKs did not
 * sign (the simulator's). */
struct crl_fx {
    const struct sample *chain_of;
    struct cvma_buf rep, crl;
    char *dir, *sim, *cache;
    struct cvma_cache c;
    struct cvma_verify_opts o;
};

static void crl_fx_init(struct crl_fx *f, const char *report_of, const char *chain_of)
{
    char err[256];
    struct cvma_sim_snp_opts so;
    memset(f, 0, sizeof *f);
    f->chain_of = sample_named(chain_of);
    f->dir = coll_dir(f->chain_of, NULL);
    f->sim = tu_tmpdir();
    f->cache = tu_tmpdir();
    f->c.dir = f->cache;
    cvma_sim_snp_opts_default(&so);
    assert_int_equal(cvma_sim_snp_write(&so, f->sim, err, sizeof err), CVMA_OK);
    char *cp = tu_path(f->sim, "crl.der");
    tu_read(cp, &f->crl);
    free(cp);
    read_report(sample_named(report_of), &f->rep);
    assert_true(cvma_time_parse_rfc3339(f->chain_of->at, &f->o.at));
    f->o.collateral_dir = f->dir;
    f->o.offline = true;
    f->o.cache_dir = f->cache;
}

/* Puts f's CRL in the cache as KDS's CRL of product (the VCEK path); its entry's path, malloc'd. */
static char *crl_fx_cache_kds_crl(struct crl_fx *f, enum cvma_snp_product product)
{
    struct cvma_kds kds;
    char url[400], key[512];
    cvma_kds_init(&kds);
    assert_int_equal(cvma_kds_crl_url(&kds, product, false, url, sizeof url), CVMA_OK);
    snprintf(key, sizeof key, "amd-kds %s", url);
    assert_int_equal(cvma_cache_put(&f->c, key, f->crl.p, f->crl.len, 0), CVMA_OK);
    char *entry = cvma_cache_entry_path(&f->c, key);
    assert_non_null(entry);
    return entry;
}

static void crl_fx_verify(struct crl_fx *f, struct cvma_result *res)
{
    cvma_result_init(res, "sev-snp", f->o.at);
    cvma_snp_verify(f->rep.p, f->rep.len, &f->o, NULL, res);
    cvma_result_finish(res);
}

static void crl_fx_cleanup(struct crl_fx *f)
{
    cvma_buf_free(&f->rep);
    cvma_buf_free(&f->crl);
    tu_rmtree(f->dir);
    tu_rmtree(f->sim);
    tu_rmtree(f->cache);
    free(f->dir);
    free(f->sim);
    free(f->cache);
}

/*
 * For a chain to one of AMD's ARKs the verifier's own CRL (the cache's, as KDS gave it) is
 * used before the evidence bundle's crl.der; the bundle's only when there is none. Which one
 * was used shows in the reason: a bad CRL from the cache is the cache's fault (undecided, and
 * it leaves the cache), a bad one from the bundle the evidence's (CRL_INVALID, rejected).
 */
static void test_bundle_crl_after_the_verifiers_own_for_amd_roots(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct crl_fx f;
    struct cvma_result res;
    crl_fx_init(&f, "milan-v2-azure-constellation", "milan-v2-azure-constellation");
    const struct cvma_named_part parts[] = {{"crl.der", {f.crl.p, f.crl.len}, false}};
    f.o.collateral_parts = parts;
    f.o.n_collateral_parts = 1;

    /* Where the CRL comes from, before anything is verified: the bundle's, marked so (the
     * result then says that revocation rested on the evidence's choice:
     * COLLATERAL_FROM_EVIDENCE). */
    struct cvma_parse_opts po = {0};
    struct cvma_snp_report rep;
    struct cvma_snp_collateral c;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(f.rep.p, f.rep.len, &po, &rep, &v), CVMA_OK);
    assert_int_equal(cvma_snp_collateral_get(&rep, &f.o, NULL, &c, &v), CVMA_OK);
    assert_true(c.crl_from_evidence);
    assert_memory_equal(c.crl.p, f.crl.p, f.crl.len);
    cvma_snp_collateral_cleanup(&c);

    /* No CRL of its own (offline, an empty cache): the bundle's, the evidence's fault. */
    crl_fx_verify(&f, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CRL_INVALID);
    assert_false(res.undecided);
    cvma_result_cleanup(&res);

    /* A CRL in the cache under KDS's URL: that one is used, and found to be the cache's fault. */
    free(crl_fx_cache_kds_crl(&f, CVMA_SNP_PRODUCT_MILAN));
    assert_int_equal(cvma_snp_collateral_get(&rep, &f.o, NULL, &c, &v), CVMA_OK);
    assert_false(c.crl_from_evidence); /* the cache's */
    assert_true(c.crl_fetched);
    cvma_snp_collateral_cleanup(&c);
    cvma_verdict_cleanup(&v);
    crl_fx_verify(&f, &res);
    assert_true(res.undecided);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_COLLATERAL_UNAVAILABLE);
    assert_non_null(strstr(res.verdict.reasons[0].detail, "CRL_INVALID"));
    cvma_result_cleanup(&res);
    crl_fx_cleanup(&f);
}

/*
 * The CRL looked up is the ARK's product's, not the one the report's (not yet checked) CPUID
 * names: a made-up Genoa report handed over with a genuine Milan chain must not have the
 * cache's Genoa CRL checked against ARK-Milan, found bad and removed from the cache (after
 * which, offline, evidence under a revoked Genoa ASK would get its bundle's CRL used).
 */
static void test_made_up_report_cannot_evict_another_products_crl(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct crl_fx f;
    struct cvma_result res;
    crl_fx_init(&f, "genoa-v3-azure-hcl", "milan-v5-gcp-teekit");
    char *entry = crl_fx_cache_kds_crl(&f, CVMA_SNP_PRODUCT_GENOA);
    crl_fx_verify(&f, &res);
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    assert_false(res.undecided);
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_CRL_INVALID));
    assert_int_equal(access(entry, F_OK), 0); /* still in the cache */
    cvma_result_cleanup(&res);
    free(entry);
    crl_fx_cleanup(&f);
}

/*
 * A genuine chain of the wrong kind handed over with the evidence (AMD's ASVK chain beside a
 * report its VCEK signs), or half of one, fails the VCEK fetched for the report (here: from
 * the cache, as KDS gave it). That is the evidence's fault: refused, and the VCEK and the
 * cert_chain stay in the cache. It was taken for their fault (undecided, and the genuine
 * VCEK and chain removed from the cache by anyone's evidence, for the next verification to
 * fetch again).
 */
static void test_evidence_chain_cannot_evict_a_fetched_vcek(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    const struct sample *s = sample_named("milan-v2-coco-trustee");
    struct cvma_buf rep_b = {0}, vcek = {0}, asvk_chain = {0}, ask_chain = {0};
    char *sd = tu_path(tu_vectors(), "snp"), *sample = tu_path(sd, s->dir);
    char *roots = tu_path(sd, "roots"), *f;
    read_report(s, &rep_b);
    tu_read(f = tu_path(sample, s->leaf), &vcek);
    free(f);
    tu_read(f = tu_path(roots, "ask_ark_milan_vlek.pem"), &asvk_chain);
    free(f);
    tu_read(f = tu_path(roots, s->chain), &ask_chain);
    free(f);

    /* The VCEK in the cache under the URL KDS serves it at, for this report's chip and TCB. */
    struct cvma_parse_opts po = {0};
    struct cvma_snp_report rep;
    struct cvma_snp_tcb tcb;
    struct cvma_verdict v;
    char path[CVMA_KDS_PATH_MAX];
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(rep_b.p, rep_b.len, &po, &rep, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
    cvma_snp_tcb_split(rep.reported_tcb, CVMA_SNP_PRODUCT_MILAN, &tcb);
    assert_int_equal(
            cvma_kds_vcek_url(CVMA_SNP_PRODUCT_MILAN, rep.chip_id, &tcb, path, sizeof path),
            CVMA_OK);
    char *cache = tu_tmpdir();
    char *entry = cache_as_kds(cache, path, &vcek);

    struct cvma_verify_opts o;
    struct cvma_result res;
    memset(&o, 0, sizeof o);
    assert_true(cvma_time_parse_rfc3339(s->at, &o.at));
    o.offline = true;
    o.cache_dir = cache;
    o.snp_product = CVMA_SNP_PRODUCT_MILAN; /* a v2 report names none */
    struct cvma_named_part part = {"cert_chain.pem", {asvk_chain.p, asvk_chain.len}, false};
    o.collateral_parts = &part;
    o.n_collateral_parts = 1;
    cvma_result_init(&res, "sev-snp", o.at);
    cvma_snp_verify(rep_b.p, rep_b.len, &o, NULL, &res);
    cvma_result_finish(&res);
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    assert_false(res.undecided);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_CHAIN_INVALID);
    assert_int_equal(access(entry, F_OK), 0); /* still in the cache */
    cvma_result_cleanup(&res);

    /* Half a chain handed over, the other half from the cache (KDS's cert_chain): AMD's ASVK
     * as ask.pem, or another product's ARK as ark.pem. The chain is then not all the fetch's:
     * refused as the evidence's, and neither the VCEK nor the cert_chain leaves the cache. */
    kds_chain_path("Milan", path);
    char *chain_entry = cache_as_kds(cache, path, &ask_chain);
    struct cvma_buf genoa = {0};
    tu_read(f = tu_path(roots, "ask_ark_genoa.pem"), &genoa);
    free(f);
    const char *ark_genoa = strstr((const char *)genoa.p + 1, "-----BEGIN CERTIFICATE-----");
    assert_non_null(ark_genoa);
    const struct cvma_named_part halves[] = {
            {"ask.pem", {asvk_chain.p, asvk_chain.len}, false}, /* ASVK first: the ASK read */
            {"ark.pem",
             {(const uint8_t *)ark_genoa, genoa.len - (size_t)(ark_genoa - (const char *)genoa.p)},
             false},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(halves); i++) {
        o.collateral_parts = &halves[i];
        cvma_result_init(&res, "sev-snp", o.at);
        cvma_snp_verify(rep_b.p, rep_b.len, &o, NULL, &res);
        cvma_result_finish(&res);
        assert_int_equal(res.status, CVMA_CONTRAINDICATED);
        assert_false(res.undecided);
        assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE));
        assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_CHAIN_INVALID);
        assert_int_equal(access(entry, F_OK), 0);
        assert_int_equal(access(chain_entry, F_OK), 0);
        cvma_result_cleanup(&res);
    }
    /* The half given is the fetched one (AMD's Milan ARK, in PEM where KDS's is DER once
     * split): the chain is all the fetch's. */
    const char *ark_milan = strstr((const char *)ask_chain.p + 1, "-----BEGIN CERTIFICATE-----");
    assert_non_null(ark_milan);
    const struct cvma_named_part same_ark = {
            "ark.pem",
            {(const uint8_t *)ark_milan,
             ask_chain.len - (size_t)(ark_milan - (const char *)ask_chain.p)},
            false};
    struct cvma_snp_collateral got;
    o.collateral_parts = &same_ark;
    rep.product = CVMA_SNP_PRODUCT_MILAN;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_collateral_get(&rep, &o, NULL, &got, &v), CVMA_OK);
    assert_true(got.chain_fetched);
    assert_int_equal(got.chain_rest.len, 0);
    cvma_snp_collateral_cleanup(&got);
    cvma_verdict_cleanup(&v);
    o.collateral_parts = &part;
    cvma_buf_free(&genoa);
    free(chain_entry);

    /* The right chain handed over: the cached VCEK is used (no CRL offline: a warning). */
    part.data = (struct cvma_span){ask_chain.p, ask_chain.len};
    cvma_result_init(&res, "sev-snp", o.at);
    cvma_snp_verify(rep_b.p, rep_b.len, &o, NULL, &res);
    cvma_result_finish(&res);
    assert_false(res.undecided);
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_CERT_CHAIN_INVALID));
    assert_true(res.status == CVMA_AFFIRMING || res.status == CVMA_WARNING);
    cvma_result_cleanup(&res);

    tu_rmtree(cache);
    free(cache);
    free(entry);
    free(sd);
    free(sample);
    free(roots);
    cvma_buf_free(&rep_b);
    cvma_buf_free(&vcek);
    cvma_buf_free(&asvk_chain);
    cvma_buf_free(&ask_chain);
}

/*
 * Half a chain given, the other half fetched and bad on its own (under KDS's cert_chain URL
 * the cache holds another root's chain): the fetch's fault, whatever was given. Undecided,
 * and the cert_chain leaves the cache; with the half that is given judged apart, a fetched
 * half was never found at fault, and a bad cache or mirror turned genuine evidence into a
 * refusal for as long as it was cached.
 */
static void test_a_fetched_half_chain_bad_on_its_own_is_evicted(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts so;
    struct cvma_buf rep = {0}, vcek = {0}, ask = {0}, ark = {0}, crl = {0}, other = {0};
    char err[256], *f;
    char *good = tu_tmpdir(), *bad = tu_tmpdir(), *cache = tu_tmpdir();
    cvma_sim_snp_opts_default(&so);
    assert_int_equal(cvma_sim_snp_write(&so, good, err, sizeof err), CVMA_OK);
    assert_int_equal(cvma_sim_snp_write(&so, bad, err, sizeof err), CVMA_OK);
    struct {
        const char *dir, *name;
        struct cvma_buf *b;
    } files[] = {{good, "report.bin", &rep}, {good, "vcek.der", &vcek},
                 {good, "ask.pem", &ask},    {good, "ark.pem", &ark},
                 {good, "crl.der", &crl},    {bad, "cert_chain.pem", &other}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(files); i++) {
        tu_read(f = tu_path(files[i].dir, files[i].name), files[i].b);
        free(f);
    }
    X509 *root = cvma_x509_load(ark.p, ark.len);
    assert_non_null(root);

    /* The other run's chain where KDS's Milan cert_chain is cached. */
    char path[CVMA_KDS_PATH_MAX];
    kds_chain_path("Milan", path);
    char *entry = cache_as_kds(cache, path, &other);

    struct cvma_verify_opts o;
    struct cvma_result res;
    memset(&o, 0, sizeof o);
    o.at = time(NULL);
    o.offline = true;
    o.cache_dir = cache;
    o.trust_roots = &root;
    o.n_trust_roots = 1;
    const struct cvma_named_part parts[] = {{"vcek.der", {vcek.p, vcek.len}, false},
                                            {"ask.pem", {ask.p, ask.len}, false},
                                            {"crl.der", {crl.p, crl.len}, false}};
    o.collateral_parts = parts;
    o.n_collateral_parts = CVMA_ARRAY_LEN(parts);
    cvma_result_init(&res, "sev-snp", o.at);
    cvma_snp_verify(rep.p, rep.len, &o, NULL, &res);
    cvma_result_finish(&res);
    assert_true(res.undecided);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_COLLATERAL_UNAVAILABLE);
    TU_ASSERT_DETAIL(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE, "cert_chain");
    assert_int_equal(access(entry, F_OK), -1); /* gone from the cache */
    cvma_result_cleanup(&res);

    X509_free(root);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(files); i++) {
        cvma_buf_free(files[i].b);
    }
    tu_rmtree(good);
    tu_rmtree(bad);
    tu_rmtree(cache);
    free(good);
    free(bad);
    free(cache);
    free(entry);
}

static void test_every_sample_verifies_with_manifest_values(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    for (size_t i = 0; i < CVMA_ARRAY_LEN(samples); i++) {
        const struct sample *s = &samples[i];
        struct cvma_buf b;
        struct cvma_result res;
        char *d = coll_dir(s, NULL);
        read_report(s, &b);
        verify_bytes(b.p, b.len, d, s->at, NULL, &res);
        /* Secure default: a debug guest is refused, with that reason as its only error (every
         * check passed; a policy with snp.allow_debug true would accept it as a warning). */
        size_t errors = 0;
        for (size_t k = 0; k < res.verdict.n_reasons; k++) {
            errors += res.verdict.reasons[k].severity == CVMA_SEV_ERROR;
        }
        if (s->debug ? (res.status != CVMA_CONTRAINDICATED || errors != 1 ||
                        cvma_verdict_first_error(&res.verdict) != CVMA_R_SNP_DEBUG_ALLOWED)
                     : res.status == CVMA_CONTRAINDICATED) {
            fail_msg("%s: %s, first error %s", s->dir, cvma_result_status_name(res.status),
                     cvma_reason_name(cvma_verdict_first_error(&res.verdict)));
        }
        assert_int_equal(res.verdict.checks_done & res.verdict.checks_required,
                         res.verdict.checks_required);
        /* Real reports: COMMITTED_TCB is never above CURRENT_TCB. */
        assert_false(cvma_verdict_has(&res.verdict, CVMA_R_SNP_COMMITTED_TCB_ABOVE_CURRENT));
        /* No CRL in the public samples: a warning says revocation went unchecked. */
        assert_true(cvma_verdict_has(&res.verdict, CVMA_R_CRL_NOT_CHECKED));
        json_t *claims = cvma_result_claims_json(&res);
        json_t *snp = json_object_get(claims, "snp");
        assert_non_null(snp);
        assert_string_equal(json_string_value(json_object_get(claims, "measurement")),
                            s->measurement);
        assert_int_equal(json_integer_value(json_object_get(snp, "version")), s->version);
        json_t *rt = json_object_get(snp, "reported_tcb");
        assert_int_equal(json_integer_value(json_object_get(rt, "bootloader")), s->bl);
        assert_int_equal(json_integer_value(json_object_get(rt, "tee")), s->tee);
        assert_int_equal(json_integer_value(json_object_get(rt, "snp")), s->snp);
        assert_int_equal(json_integer_value(json_object_get(rt, "microcode")), s->ucode);
        if (s->product == CVMA_SNP_PRODUCT_TURIN) {
            assert_int_equal(json_integer_value(json_object_get(rt, "fmc")), s->fmc);
        }
        assert_string_equal(json_string_value(json_object_get(snp, "product")),
                            cvma_snp_product_name(s->product));
        assert_int_equal(json_is_true(json_object_get(claims, "debug")), s->debug);
        json_decref(claims);
        const char *want_anchor = s->product == CVMA_SNP_PRODUCT_MILAN   ? "amd-ark-milan"
                                  : s->product == CVMA_SNP_PRODUCT_GENOA ? "amd-ark-genoa"
                                                                         : "amd-ark-turin";
        assert_string_equal(res.trust_anchor, want_anchor);
        json_t *rj = cvma_result_to_json(&res);
        const json_t *pl = json_object_get(rj, "platform");
        const char *idt = json_string_value(json_object_get(pl, "id_type"));
        assert_string_equal(idt, s->vlek ? "vlek" : "chip_id");
        assert_string_equal(json_string_value(json_object_get(pl, "id")), s->chip_id);
        json_decref(rj);
        cvma_result_cleanup(&res);
        cvma_buf_free(&b);
        tu_rmtree(d);
        free(d);
    }
}

/* Every byte of the signed area flipped: never accepted, always a named reason. */
static void test_snp_byte_flips_in_signed_part_are_refused(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    const size_t pick[] = {0, 6, 7}; /* a v2 Milan, a v5 Milan, a v5 Turin */
    struct cvma_chain_cache *cache = cvma_chain_cache_new(4);
    for (size_t k = 0; k < CVMA_ARRAY_LEN(pick); k++) {
        const struct sample *s = &samples[pick[k]];
        struct cvma_buf b;
        char *d = coll_dir(s, NULL);
        read_report(s, &b);
        for (size_t off = 0; off < CVMA_SNP_SIGNED_SIZE; off++) {
            struct cvma_result res;
            b.p[off] ^= 0x01;
            verify_bytes(b.p, b.len, d, s->at, cache, &res);
            b.p[off] ^= 0x01;
            if (res.status != CVMA_CONTRAINDICATED) {
                fail_msg("%s: flip at 0x%03zx accepted", s->dir, off);
            }
            /* Fields read before the signature can be checked are refused by their own
             * reason: version, SIGNATURE_ALGO, and the signer info (key selection). */
            bool sig = cvma_verdict_has(&res.verdict, CVMA_R_SNP_REPORT_SIGNATURE_INVALID);
            if (off < 4) {
                assert_true(cvma_verdict_has(&res.verdict, CVMA_R_PARSE_UNKNOWN_VERSION) || sig);
            } else if (off >= 0x34 && off < 0x38) {
                assert_true(cvma_verdict_has(&res.verdict, CVMA_R_SNP_SIGNATURE_ALGO_UNSUPPORTED));
            } else if (off == 0x48) {
                assert_true(sig || cvma_verdict_has(&res.verdict, CVMA_R_SNP_REPORT_UNSIGNED) ||
                            cvma_verdict_has(&res.verdict, CVMA_R_SNP_KEY_TYPE_MISMATCH) ||
                            cvma_verdict_has(&res.verdict, CVMA_R_SNP_SIGNING_KEY_UNKNOWN));
            } else if (!sig) {
                fail_msg("%s: flip at 0x%03zx refused without SNP_REPORT_SIGNATURE_INVALID "
                         "(%s)",
                         s->dir, off, cvma_reason_name(cvma_verdict_first_error(&res.verdict)));
            }
            cvma_result_cleanup(&res);
        }
        cvma_buf_free(&b);
        tu_rmtree(d);
        free(d);
    }
    assert_true(cvma_chain_cache_hits(cache) > 0);
    cvma_chain_cache_free(cache);
}

/* Truncation at every length gives PARSE_TRUNCATED. */
static void test_snp_truncated_reports_are_refused(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    read_report(&samples[5], &b);
    for (size_t n = 0; n < CVMA_SNP_REPORT_SIZE; n++) {
        struct cvma_verdict v;
        struct cvma_snp_report rep;
        cvma_verdict_init(&v);
        assert_int_equal(cvma_snp_report_parse(b.p, n, NULL, &rep, &v), CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_TRUNCATED);
        cvma_verdict_cleanup(&v);
    }
    cvma_buf_free(&b);
}

static void test_snp_unknown_version_is_refused(void **state)
{
    (void)state;
    uint8_t rep_bytes[CVMA_SNP_REPORT_SIZE] = {0};
    const uint32_t versions[] = {0, 1, 6, 0x100};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(versions); i++) {
        struct cvma_verdict v;
        struct cvma_snp_report rep;
        rep_bytes[0] = (uint8_t)versions[i];
        rep_bytes[1] = (uint8_t)(versions[i] >> 8);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_snp_report_parse(rep_bytes, sizeof rep_bytes, NULL, &rep, &v),
                         CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_UNKNOWN_VERSION);
        cvma_verdict_cleanup(&v);
    }
}

/*
 * Fields a later version added are read only from reports of that version: in a v2 report
 * the CPUID bytes (0x188..0x18A, v3+) are reserved, and in a v4 report the mitigation vectors
 * (0x1F8..0x207, v5+) are. Non-zero there is a reserved-bytes warning, never a CPUID that
 * picks a product or a mitigation vector in the claims.
 */
static void test_snp_fields_of_later_versions_are_reserved_before(void **state)
{
    (void)state;
    static const struct {
        uint32_t version;
        size_t off; /* the first byte of the later version's field */
        bool read;  /* the version has the field */
    } cases[] = {{2, 0x188, false}, {3, 0x188, true}, {4, 0x1F8, false}, {5, 0x1F8, true}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        uint8_t b[CVMA_SNP_REPORT_SIZE] = {0};
        struct cvma_snp_report rep;
        struct cvma_verdict v;
        char where[32];
        b[0] = (uint8_t)cases[i].version;
        b[0x0A] = 0x02; /* policy bit 17, reserved, is one */
        b[cases[i].off] = 0x19;
        b[cases[i].off + 1] = 0x11; /* a Genoa CPUID, when read as one */
        b[cases[i].off + 2] = 0x01;
        cvma_verdict_init(&v);
        assert_int_equal(cvma_snp_report_parse(b, sizeof b, NULL, &rep, &v), CVMA_OK);
        snprintf(where, sizeof where, "first non-zero at 0x%03zX", cases[i].off);
        const struct cvma_verdict_reason *r = tu_reason(&v, CVMA_R_PARSE_RESERVED_NONZERO);
        if (cases[i].read) {
            assert_null(r);
        } else if (r == NULL || strstr(r->detail, where) == NULL) {
            fail_msg("v%u: wanted PARSE_RESERVED_NONZERO \"%s\", got %s", cases[i].version, where,
                     r != NULL ? r->detail : "none");
        }
        if (cases[i].off == 0x188) {
            assert_int_equal(rep.cpuid_fam_id, cases[i].read ? 0x19 : 0);
            assert_int_equal(rep.cpuid_mod_id, cases[i].read ? 0x11 : 0);
            assert_int_equal(rep.product,
                             cases[i].read ? CVMA_SNP_PRODUCT_GENOA : CVMA_SNP_PRODUCT_UNKNOWN);
        } else {
            assert_int_equal(rep.launch_mit_vector, cases[i].read ? 0x011119u : 0);
        }
        cvma_verdict_cleanup(&v);
    }
}

/*
 * Product identification. A productName counts by its line only when the line is the whole
 * name or is followed by "-<stepping>": "MilanX" is no Milan. The report's CPUID names a
 * product only inside the known ranges (virtee/sev Generation::identify_cpu): family 0x19
 * models 0x00..0x0F Milan, 0x10..0x1F and 0xA0..0xAF Genoa; family 0x1A models 0x00..0x11
 * Turin. Anything else (Venice's 0x1A/0x50 among them) is unknown, not a neighbour.
 */
static void test_snp_product_names_and_cpuid_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum cvma_snp_product p;
    } names[] = {{"Milan", CVMA_SNP_PRODUCT_MILAN},      {"Milan-B0", CVMA_SNP_PRODUCT_MILAN},
                 {"Genoa", CVMA_SNP_PRODUCT_GENOA},      {"Genoa-B1", CVMA_SNP_PRODUCT_GENOA},
                 {"Turin", CVMA_SNP_PRODUCT_TURIN},      {"MilanX", CVMA_SNP_PRODUCT_UNKNOWN},
                 {"Milan_B0", CVMA_SNP_PRODUCT_UNKNOWN}, {"Genoa2", CVMA_SNP_PRODUCT_UNKNOWN},
                 {"Turin.A0", CVMA_SNP_PRODUCT_UNKNOWN}, {"Mila", CVMA_SNP_PRODUCT_UNKNOWN},
                 {"Venice", CVMA_SNP_PRODUCT_UNKNOWN},   {"", CVMA_SNP_PRODUCT_UNKNOWN}};
    static const struct {
        uint8_t fam, model;
        enum cvma_snp_product p;
    } cpuids[] = {{0x19, 0x00, CVMA_SNP_PRODUCT_MILAN},   {0x19, 0x01, CVMA_SNP_PRODUCT_MILAN},
                  {0x19, 0x0F, CVMA_SNP_PRODUCT_MILAN},   {0x19, 0x10, CVMA_SNP_PRODUCT_GENOA},
                  {0x19, 0x11, CVMA_SNP_PRODUCT_GENOA},   {0x19, 0x1F, CVMA_SNP_PRODUCT_GENOA},
                  {0x19, 0x20, CVMA_SNP_PRODUCT_UNKNOWN}, {0x19, 0x9F, CVMA_SNP_PRODUCT_UNKNOWN},
                  {0x19, 0xA0, CVMA_SNP_PRODUCT_GENOA},   {0x19, 0xAF, CVMA_SNP_PRODUCT_GENOA},
                  {0x19, 0xB0, CVMA_SNP_PRODUCT_UNKNOWN}, {0x19, 0xFF, CVMA_SNP_PRODUCT_UNKNOWN},
                  {0x1A, 0x00, CVMA_SNP_PRODUCT_TURIN},   {0x1A, 0x02, CVMA_SNP_PRODUCT_TURIN},
                  {0x1A, 0x11, CVMA_SNP_PRODUCT_TURIN},   {0x1A, 0x12, CVMA_SNP_PRODUCT_UNKNOWN},
                  {0x1A, 0x50, CVMA_SNP_PRODUCT_UNKNOWN}, {0x1A, 0xA0, CVMA_SNP_PRODUCT_UNKNOWN},
                  {0x18, 0x01, CVMA_SNP_PRODUCT_UNKNOWN}, {0x1B, 0x01, CVMA_SNP_PRODUCT_UNKNOWN},
                  {0x00, 0x00, CVMA_SNP_PRODUCT_UNKNOWN}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        if (cvma_snp_product_from_name(names[i].name) != names[i].p) {
            fail_msg("productName '%s': %s, want %s", names[i].name,
                     cvma_snp_product_name(cvma_snp_product_from_name(names[i].name)),
                     cvma_snp_product_name(names[i].p));
        }
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cpuids); i++) {
        enum cvma_snp_product got = cvma_snp_product_from_cpuid(cpuids[i].fam, cpuids[i].model);
        if (got != cpuids[i].p) {
            fail_msg("CPUID family 0x%02x model 0x%02x: %s, want %s", cpuids[i].fam,
                     cpuids[i].model, cvma_snp_product_name(got),
                     cvma_snp_product_name(cpuids[i].p));
        }
    }
}

static void test_snp_trailing_bytes_rule(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b, big;
    struct cvma_snp_report rep;
    struct cvma_verdict v;
    struct cvma_parse_opts allow = {.allow_trailing_data = true};
    read_report(&samples[0], &b);
    big.len = b.len + 20;
    big.p = calloc(1, big.len);
    assert_non_null(big.p);
    memcpy(big.p, b.p, b.len);

    /* Zeros: accepted, noted as info. */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(big.p, big.len, NULL, &rep, &v), CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_PARSE_TRAILING_ZEROS));
    assert_false(cvma_verdict_has_error(&v));
    cvma_verdict_cleanup(&v);

    /* Anything else: refused, unless allowed (then a warning). */
    big.p[b.len + 19] = 0x48;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(big.p, big.len, NULL, &rep, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_TRAILING_DATA);
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(big.p, big.len, &allow, &rep, &v), CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_PARSE_TRAILING_DATA));
    assert_false(cvma_verdict_has_error(&v));
    assert_int_equal(v.reasons[v.n_reasons - 1].severity, CVMA_SEV_WARNING);
    cvma_verdict_cleanup(&v);

    /* The Azure file with its 20-byte header after the report, as published. */
    char *sd = tu_path(tu_vectors(), "snp/milan-v2-azure-constellation/attestation-1204.bin");
    struct cvma_buf az;
    tu_read(sd, &az);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(az.p, az.len, NULL, &rep, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_TRAILING_DATA);
    cvma_verdict_cleanup(&v);
    free(sd);
    cvma_buf_free(&az);
    cvma_buf_free(&big);
    cvma_buf_free(&b);
}

static void test_snp_reserved_bytes(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_snp_report rep;
    struct cvma_verdict v;
    read_report(&samples[0], &b);
    /* Signed reserved byte: a warning only. */
    b.p[0x4C] = 1;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(b.p, b.len, NULL, &rep, &v), CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_PARSE_RESERVED_NONZERO));
    assert_false(cvma_verdict_has_error(&v));
    cvma_verdict_cleanup(&v);
    b.p[0x4C] = 0;
    /* Unsigned reserved bytes after R and S: refused. */
    b.p[0x400] = 1;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(b.p, b.len, NULL, &rep, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_UNSIGNED_RESERVED_NONZERO);
    cvma_verdict_cleanup(&v);
    b.p[0x400] = 0;
    /* A policy bit no spec defines: a warning. */
    b.p[0x08 + 5] = 0x80;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(b.p, b.len, NULL, &rep, &v), CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_PARSE_UNKNOWN_BITS));
    assert_true(tu_detail_has(&v, CVMA_R_PARSE_UNKNOWN_BITS,
                              "has unknown bits 0x0000800000000000 set"));
    assert_false(tu_detail_has(&v, CVMA_R_PARSE_UNKNOWN_BITS, "bit 17"));
    cvma_verdict_cleanup(&v);
    /* Reserved bit 17 clear, no unknown bit: said as such, never "unknown bits 0x0...0". */
    b.p[0x08 + 5] = 0;
    uint8_t byte2 = b.p[0x08 + 2];
    b.p[0x08 + 2] &= (uint8_t)~0x02;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(b.p, b.len, NULL, &rep, &v), CVMA_OK);
    assert_true(tu_detail_has(&v, CVMA_R_PARSE_UNKNOWN_BITS,
                              "has reserved bit 17 clear (it must be 1)"));
    assert_false(tu_detail_has(&v, CVMA_R_PARSE_UNKNOWN_BITS, "unknown bits"));
    cvma_verdict_cleanup(&v);
    b.p[0x08 + 2] = byte2;
    cvma_buf_free(&b);
}

/* A refused report is still fully written (snp.h): S is read even when R's padding is bad. */
static void test_snp_refused_for_r_padding_still_reads_s(void **state)
{
    (void)state;
    uint8_t b[CVMA_SNP_REPORT_SIZE] = {0};
    struct cvma_snp_report rep;
    struct cvma_verdict v;
    b[0] = 2;                                               /* version */
    b[CVMA_SNP_SIG_OFFSET + 48] = 1;                        /* R: a byte above its 48 */
    b[CVMA_SNP_SIG_OFFSET + CVMA_SNP_SIG_COMPONENT] = 0x5A; /* S: least significant byte */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(b, sizeof b, NULL, &rep, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_UNSIGNED_RESERVED_NONZERO);
    assert_int_equal(rep.sig_s[47], 0x5A);
    cvma_verdict_cleanup(&v);
}

/* The Turin TCB layout differs from Milan's (FMC first). */
static void test_snp_turin_tcb_layout(void **state)
{
    (void)state;
    struct cvma_snp_tcb t;
    cvma_snp_tcb_split(0x6100000005020301ull, CVMA_SNP_PRODUCT_TURIN, &t);
    assert_int_equal(t.fmc, 1);
    assert_int_equal(t.bootloader, 3);
    assert_int_equal(t.tee, 2);
    assert_int_equal(t.snp, 5);
    assert_int_equal(t.microcode, 97);
    cvma_snp_tcb_split(0x4405000000000002ull, CVMA_SNP_PRODUCT_MILAN, &t);
    assert_int_equal(t.bootloader, 2);
    assert_int_equal(t.tee, 0);
    assert_int_equal(t.snp, 5);
    assert_int_equal(t.microcode, 68);
    assert_false(t.has_fmc);
}

/* A genuine VCEK of another chip: refused, and the reason says so. */
static void test_snp_vcek_of_another_chip_is_refused(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_result res;
    char *other = tu_path(tu_vectors(), "snp/milan-v2-azure-constellation/vcek.der");
    char *d = coll_dir(&samples[0], other);
    read_report(&samples[0], &b);
    verify_bytes(b.p, b.len, d, samples[0].at, NULL, &res);
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_SNP_CHIP_ID_MISMATCH));
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_SNP_TCB_MISMATCH));
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_SNP_REPORT_SIGNATURE_INVALID));
    /* Claims of a report that did not verify are not handed out. */
    json_t *claims = cvma_result_claims_json(&res);
    assert_null(json_object_get(claims, "measurement"));
    json_decref(claims);
    cvma_result_cleanup(&res);
    cvma_buf_free(&b);
    tu_rmtree(d);
    free(d);
    free(other);
}

/* The synthetic VCEKs from trustee are not AMD-signed: the chain fails. */
static void test_snp_synthetic_vcek_chain_is_refused(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    const char *names[] = {"snp/milan-v2-coco-trustee/test-vcek-invalid-legacy.der",
                           "snp/milan-v2-coco-trustee/test-vcek-invalid-new.der"};
    for (size_t i = 0; i < 2; i++) {
        struct cvma_buf b;
        struct cvma_result res;
        char *other = tu_path(tu_vectors(), names[i]);
        char *d = coll_dir(&samples[1], other);
        read_report(&samples[1], &b);
        verify_bytes(b.p, b.len, d, samples[1].at, NULL, &res);
        assert_int_equal(res.status, CVMA_CONTRAINDICATED);
        assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_CHAIN_INVALID);
        cvma_result_cleanup(&res);
        cvma_buf_free(&b);
        tu_rmtree(d);
        free(d);
        free(other);
    }
}

/* An expired VLEK (the CoCo sample, now): CERT_EXPIRED; and before the ARK: not yet valid. */
static void test_snp_expired_and_not_yet_valid(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_result res;
    char *d = coll_dir(&samples[2], NULL);
    read_report(&samples[2], &b);
    verify_bytes(b.p, b.len, d, "2026-11-26T00:00:00Z", NULL, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_EXPIRED);
    assert_int_equal(cvma_result_exit_code(&res), 1);
    cvma_result_cleanup(&res);
    verify_bytes(b.p, b.len, d, "2020-01-01T00:00:00Z", NULL, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_NOT_YET_VALID);
    cvma_result_cleanup(&res);
    cvma_buf_free(&b);
    tu_rmtree(d);
    free(d);
}

/* A Genoa report with the Milan chain: the chain fails (the VCEK is not signed by SEV-Milan). */
static void test_snp_wrong_product_chain_is_refused(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct sample s = samples[6];
    struct cvma_buf b;
    struct cvma_result res;
    s.chain = "ask_ark_milan.pem";
    char *d = coll_dir(&s, NULL);
    read_report(&s, &b);
    verify_bytes(b.p, b.len, d, s.at, NULL, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_CHAIN_INVALID);
    cvma_result_cleanup(&res);
    cvma_buf_free(&b);
    tu_rmtree(d);
    free(d);
}

/* Missing collateral offline: undecided (exit 3), COLLATERAL_UNAVAILABLE. */
static void test_snp_missing_collateral_offline_is_undecided(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_result res;
    struct cvma_verify_opts o;
    char *empty = tu_tmpdir();
    read_report(&samples[5], &b);
    memset(&o, 0, sizeof o);
    o.at = time(NULL);
    o.collateral_dir = empty;
    o.offline = true;
    o.cache_dir = empty; /* an empty cache */
    cvma_result_init(&res, "sev-snp", o.at);
    cvma_snp_verify(b.p, b.len, &o, NULL, &res);
    cvma_result_finish(&res);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE));
    assert_int_equal(cvma_result_exit_code(&res), 3);
    cvma_result_cleanup(&res);
    cvma_buf_free(&b);
    tu_rmtree(empty);
    free(empty);
}

/* A VLEK report whose VLEK is nowhere (KDS never serves VLEKs): undecided (exit 3), as any
 * other missing collateral, not a refusal of the evidence. */
static void test_snp_missing_vlek_is_undecided(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_result res;
    struct cvma_verify_opts o;
    char *d = coll_dir(&samples[2], NULL);
    char *leaf = tu_path(d, "vlek.der");
    assert_int_equal(unlink(leaf), 0);
    read_report(&samples[2], &b);
    memset(&o, 0, sizeof o);
    assert_true(cvma_time_parse_rfc3339(samples[2].at, &o.at));
    o.collateral_dir = d;
    o.offline = true;
    o.cache_dir = d;
    cvma_result_init(&res, "sev-snp", o.at);
    cvma_snp_verify(b.p, b.len, &o, NULL, &res);
    cvma_result_finish(&res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_COLLATERAL_UNAVAILABLE);
    assert_int_equal(cvma_result_exit_code(&res), 3);
    cvma_result_cleanup(&res);
    cvma_buf_free(&b);
    tu_rmtree(d);
    free(leaf);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_sample_verifies_with_manifest_values),
            cmocka_unit_test(test_bundle_crl_after_the_verifiers_own_for_amd_roots),
            cmocka_unit_test(test_made_up_report_cannot_evict_another_products_crl),
            cmocka_unit_test(test_evidence_chain_cannot_evict_a_fetched_vcek),
            cmocka_unit_test(test_a_fetched_half_chain_bad_on_its_own_is_evicted),
            cmocka_unit_test(test_snp_byte_flips_in_signed_part_are_refused),
            cmocka_unit_test(test_snp_truncated_reports_are_refused),
            cmocka_unit_test(test_snp_unknown_version_is_refused),
            cmocka_unit_test(test_snp_fields_of_later_versions_are_reserved_before),
            cmocka_unit_test(test_snp_product_names_and_cpuid_ranges),
            cmocka_unit_test(test_snp_trailing_bytes_rule),
            cmocka_unit_test(test_snp_reserved_bytes),
            cmocka_unit_test(test_snp_refused_for_r_padding_still_reads_s),
            cmocka_unit_test(test_snp_turin_tcb_layout),
            cmocka_unit_test(test_snp_vcek_of_another_chip_is_refused),
            cmocka_unit_test(test_snp_synthetic_vcek_chain_is_refused),
            cmocka_unit_test(test_snp_expired_and_not_yet_valid),
            cmocka_unit_test(test_snp_wrong_product_chain_is_refused),
            cmocka_unit_test(test_snp_missing_collateral_offline_is_undecided),
            cmocka_unit_test(test_snp_missing_vlek_is_undecided),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
