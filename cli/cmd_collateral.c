/*
 * cvmattest collateral fetch EVIDENCE --out DIR [--kds-url URL] [--pcs-url URL]
 *                                              [--cache-dir DIR] [--product NAME]
 *                                              [--trust-root FILE]...
 *
 * Writes everything an offline verification of EVIDENCE needs into DIR, under the collateral
 * directory names of docs/collateral.md (for Azure and SVSM vTPM evidence: what the SEV-SNP
 * report or TD quote inside needs, read with those stages' own parsers), so that `verify EVIDENCE
 * --collateral DIR --offline` decides without the network. The collateral comes through the same
 * fetch path as `verify` (the cache, then AMD KDS or Intel PCS): nothing here downloads on its own.
 *
 * Before anything is written, EVIDENCE is verified with what was fetched, exactly as `verify`
 * would verify it online. What is in --collateral DIR is the user's own choice and used as it
 * is, so fetched collateral that fails its own checks (a hostile mirror or a poisoned cache:
 * a VCEK or CRL not signed by the chain, a chain to no trusted root) must not land there, or
 * it would turn genuine evidence into a rejection. Such collateral leaves the cache, nothing is
 * written and the exit code is 3, as for collateral that cannot be had. A rejection the
 * evidence itself earns (its signature, its TCB) does not stop the writing: the offline
 * verification will say the same.
 *
 * Exit codes: 0 every file written; 3 something could not be fetched, or what was fetched fails
 * its own checks (stderr says what); 1 the evidence does not parse, or (TDX) its PCK chain does
 * not chain to a trusted root, which the fetch checks before it asks for anything by the PCK
 * certificate's values; 2 usage errors, unreadable evidence or --trust-root, unwritable DIR.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "args.h"
#include "azure/azure.h"
#include "cmds.h"
#include "collateral/source.h"
#include "crypto/crypto.h"
#include "opts.h"
#include "snp/snp_internal.h"
#include "tdx/tdx_internal.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"
#include "verifier/verifier.h"

#define MAX_EVIDENCE (1u << 20)

static void usage(FILE *f)
{
    fputs("usage: cvmattest collateral fetch EVIDENCE --out DIR [--kds-url URL] [--pcs-url URL]\n"
          "                                   [--cache-dir DIR] [--product milan|genoa|turin]\n"
          "                                   [--trust-root FILE]...\n"
          "Writes everything an offline verification of EVIDENCE (an SEV-SNP report or a TDX\n"
          "quote, bare or in a bundle, or the one inside azure-snp, azure-tdx or svsm-vtpm\n"
          "evidence) needs into DIR (created if missing), with the file names of --collateral:\n"
          "  SEV-SNP: vcek.der (or vlek.der), ask.pem (or asvk.pem), ark.pem, crl.der\n"
          "           (no vcek.der when the evidence carries its VCEK, as Trustee's Azure\n"
          "           evidence does: verify checks that one)\n"
          "  TDX:     tcb_info.json, qe_identity.json, tcb_info_issuer_chain.pem,\n"
          "           qe_identity_issuer_chain.pem, pck_crl.der, root_ca_crl.der\n"
          "then: cvmattest verify EVIDENCE --collateral DIR --offline\n"
          "  --kds-url URL    AMD KDS base URL (default https://kdsintf.amd.com)\n"
          "  --pcs-url URL    Intel PCS or PCCS base URL (default Intel PCS)\n"
          "  --cache-dir DIR  collateral cache (default $CVMATTEST_CACHE, else the XDG cache)\n"
          "  --product milan|genoa|turin\n"
          "                   SEV-SNP report v2 (no product field): its product, which picks\n"
          "                   the KDS URLs\n"
          "  --trust-root FILE\n"
          "                   also trust this root (test evidence only; repeatable)\n"
          "EVIDENCE is verified with the fetched collateral first, as verify does online;\n"
          "collateral that fails its own checks (not signed by its chain, a chain to no trusted\n"
          "root) leaves the cache and nothing is written. Exit 0 when every file is written,\n"
          "3 when something could not be fetched or fails its own checks, 1 when the evidence\n"
          "does not parse or (TDX) its PCK chain does not chain to a trusted root (checked\n"
          "before anything is fetched), 2 on usage errors, unreadable input (a malformed\n"
          "bundle) or a bare TPM quote (no vendor collateral to fetch).\n",
          f);
}

/* The files this run wrote so far, space-separated: named when a later one fails. */
static char written[256];

static bool write_one(const char *dir, const char *name, const uint8_t *p, size_t len)
{
    char *path = cvma_path_join(dir, name);
    bool ok = path != NULL && cvma_file_write_atomic(path, p, len) == CVMA_OK;

    if (ok) {
        printf("wrote %s (%zu bytes)\n", path, len);
        size_t n = strlen(written);
        snprintf(written + n, sizeof written - n, "%s%s", n > 0 ? " " : "", name);
    } else {
        cvma_cli_err("cvmattest collateral fetch: cannot write '%s/%s'\n", dir, name);
    }
    free(path);
    return ok;
}

/* Writes the contents of a memory BIO. */
static bool write_bio(const char *dir, const char *name, BIO *b)
{
    char *p = NULL;
    long n = b != NULL ? BIO_get_mem_data(b, &p) : 0;

    if (n <= 0) {
        cvma_cli_err("cvmattest collateral fetch: cannot encode %s\n", name);
        return false;
    }
    return write_one(dir, name, (const uint8_t *)p, (size_t)n);
}

/* One DER certificate, written as PEM. */
static bool write_cert_pem(const char *dir, const char *name, const struct cvma_buf *der)
{
    X509 *x = cvma_x509_load(der->p, der->len);
    BIO *b = BIO_new(BIO_s_mem());
    bool ok = x != NULL && b != NULL && PEM_write_bio_X509(b, x) == 1 && write_bio(dir, name, b);

    BIO_free(b);
    X509_free(x);
    return ok;
}

static bool write_chain_pem(const char *dir, const char *name, STACK_OF(X509) * sk)
{
    BIO *b = BIO_new(BIO_s_mem());
    bool ok = b != NULL && sk != NULL && sk_X509_num(sk) > 0;

    for (int i = 0; ok && i < sk_X509_num(sk); i++) {
        ok = PEM_write_bio_X509(b, sk_X509_value(sk, i)) == 1;
    }
    ok = ok && write_bio(dir, name, b);
    BIO_free(b);
    return ok;
}

static bool write_crl_der(const char *dir, const char *name, X509_CRL *crl)
{
    unsigned char *der = NULL;
    int n = crl != NULL ? i2d_X509_CRL(crl, &der) : -1;
    bool ok = n > 0 && write_one(dir, name, der, (size_t)n);

    OPENSSL_free(der);
    return ok;
}

/* After a file could not be written (or encoded): the set in dir is not whole, and says which
 * of its files this run wrote, so that no one takes it for a collateral directory. */
static void not_whole(const char *dir)
{
    cvma_cli_err("cvmattest collateral fetch: the set in '%s' is not whole: %s%s; do not use it "
                 "as --collateral until a fetch succeeds\n",
                 dir, written[0] != '\0' ? "this run wrote only " : "this run wrote nothing",
                 written);
}

/* Prints the reasons the fetch path recorded: what could not be had, and any warning. */
static void print_reasons(const struct cvma_verdict *v)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        cvma_cli_err("cvmattest collateral fetch: %s: %s\n", cvma_reason_name(v->reasons[i].code),
                     v->reasons[i].detail);
    }
}

/*
 * Verifies the evidence with the collateral just fetched, as verify does online. True when
 * the verifier refused some of that collateral (it has then left the cache, and stderr says
 * why): the caller writes nothing. A verdict on the evidence itself is not looked at here.
 */
static bool fetched_refused(const struct cvma_span *ev, const struct cvma_verify_opts *vo,
                            const struct cvma_snp_collateral *snp, const struct cvma_tdx_held *tdx)
{
    struct cvma_verify_opts o = *vo;
    struct cvma_result res;
    bool refused;

    o.allow_trailing_data = true; /* as the parse above */
    cvma_result_init(&res, snp != NULL ? "sev-snp" : "tdx", o.at);
    if (snp != NULL) {
        cvma_snp_verify(ev->p, ev->len, &o, snp, &res);
    } else {
        cvma_tdx_verify(ev->p, ev->len, &o, tdx, &res);
    }
    /* With the collateral given, the verification is undecided only when it refused fetched
     * collateral (cvma_result_fetched_collateral_refused). */
    refused = res.undecided;
    if (refused) {
        for (size_t i = 0; i < res.verdict.n_reasons; i++) {
            if (res.verdict.reasons[i].code == CVMA_R_COLLATERAL_UNAVAILABLE) {
                cvma_cli_err("cvmattest collateral fetch: %s: %s\n",
                             cvma_reason_name(res.verdict.reasons[i].code),
                             res.verdict.reasons[i].detail);
            }
        }
    }
    /* Not refused is not checked: a verification refused early for the evidence's own sake
     * (its signature algorithm, product, PCK certificate) never reached the chain, the CRLs or
     * the TCB collateral, and what is written then is said to be unchecked. */
    unsigned need =
            CVMA_CHECK_CHAIN | CVMA_CHECK_REVOCATION | (tdx != NULL ? CVMA_CHECK_COLLATERAL : 0u);
    if (!refused && res.verdict.oom) {
        cvma_cli_err("cvmattest collateral fetch: out of memory while checking the "
                     "collateral\n");
        refused = true;
    } else if (!refused && (res.verdict.checks_done & need) != need) {
        unsigned done = res.verdict.checks_done;
        cvma_cli_err("cvmattest collateral fetch: warning: the evidence was refused before its %s "
                     "was checked, so the files written were not all checked (an offline verify of "
                     "this evidence stops at the same step)\n",
                     (done & CVMA_CHECK_CHAIN) == 0        ? "certificate chain"
                     : (done & CVMA_CHECK_REVOCATION) == 0 ? "revocation"
                                                           : "TCB collateral");
    }
    cvma_result_cleanup(&res);
    return refused;
}

/* The exit code of a collateral fetch that failed with st: 3 undecided (not had), 2 out of
 * memory (said here: no reason names it), else 1 (refused: its reason says why). */
static int fetch_failed(enum cvma_status st)
{
    if (st == CVMA_E_NOMEM) {
        cvma_cli_err("cvmattest collateral fetch: out of memory\n");
        return 2;
    }
    return st == CVMA_UNDECIDED ? 3 : 1;
}

/*
 * The SEV-SNP report ev. own_vcek (may be NULL): the VCEK the evidence carries (Trustee's Azure
 * JSON evidence, DER or PEM), which verify checks in place of any other: it is not fetched and
 * not written, and the rest (the chain, the CRL) is fetched and checked with it.
 */
static int fetch_snp(const struct cvma_span *ev, const struct cvma_span *own_vcek,
                     const struct cvma_verify_opts *opts, const char *out, struct cvma_verdict *v)
{
    struct cvma_snp_report rep;
    struct cvma_snp_collateral c;
    struct cvma_parse_opts po = {.allow_trailing_data = true};
    struct cvma_named_part vcek_part;
    struct cvma_verify_opts o = *opts;
    const struct cvma_verify_opts *vo = &o;
    enum cvma_status st;
    int rc = 2;

    memset(&c, 0, sizeof c);
    if (own_vcek != NULL) {
        /* As the Azure stage hands it to the SEV-SNP verification (the only part given): as
         * vcek.der whatever its form, PEM or DER (the leaf is read either way). */
        vcek_part = (struct cvma_named_part){.name = "vcek.der", .data = *own_vcek};
        o.collateral_parts = &vcek_part;
        o.n_collateral_parts = 1;
    }
    if (cvma_snp_report_parse(ev->p, ev->len, &po, &rep, v) != CVMA_OK) {
        return 1;
    }
    /* --product, as verify takes it: for a report that names none (v2); one that does must
     * name the same. */
    if (vo->snp_product != CVMA_SNP_PRODUCT_UNKNOWN) {
        enum cvma_snp_product want = (enum cvma_snp_product)vo->snp_product;
        if (rep.product != CVMA_SNP_PRODUCT_UNKNOWN && rep.product != want) {
            cvma_cli_err("cvmattest collateral fetch: the report's CPUID names %s, --product %s\n",
                         cvma_snp_product_name(rep.product), cvma_snp_product_name(want));
            return 2;
        }
        rep.product = want;
    }
    /* KDS serves VLEKs only to cloud providers, and this command reads no VLEK of the user's
     * (no --collateral; a bundle's collateral parts are not kept): say where one can be given
     * (the library's own words name --collateral DIR, which this command does not have). */
    if (cvma_snp_signing_key(&rep) == CVMA_SNP_KEY_VLEK) {
        (void)cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                          "the report is signed by a VLEK, which AMD KDS gives only to cloud "
                          "providers, so it cannot be fetched: give it to verify instead, as "
                          "vlek.der in its --collateral DIR or in the bundle");
        return 3;
    }
    if ((st = cvma_snp_collateral_get(&rep, vo, NULL, &c, v)) != CVMA_OK) {
        rc = fetch_failed(st);
        goto out;
    }
    if (c.crl.len == 0) {
        /* Online, a CRL that cannot be had is undecided already; this is a safety net. */
        cvma_cli_err("cvmattest collateral fetch: no AMD CRL (%s)\n", c.crl_note);
        rc = 3;
        goto out;
    }
    if (fetched_refused(ev, vo, &c, NULL)) {
        rc = 3;
        goto out;
    }
    if (cvma_mkdir_p(out, 0755) != CVMA_OK) {
        cvma_cli_err("cvmattest collateral fetch: cannot create --out '%s'\n", out);
        goto out;
    }
    if (own_vcek != NULL) {
        printf("not written: vcek.der (the evidence carries its VCEK, which verify checks)\n");
    }
    if ((own_vcek == NULL &&
         !write_one(out, c.vlek ? "vlek.der" : "vcek.der", c.leaf.p, c.leaf.len)) ||
        !write_cert_pem(out, c.vlek ? "asvk.pem" : "ask.pem", &c.ask) ||
        !write_cert_pem(out, "ark.pem", &c.ark) || !write_one(out, "crl.der", c.crl.p, c.crl.len)) {
        not_whole(out);
        goto out;
    }
    rc = 0;
out:
    cvma_snp_collateral_cleanup(&c);
    return rc;
}

static int fetch_tdx(const struct cvma_span *ev, const struct cvma_verify_opts *vo, const char *out,
                     struct cvma_verdict *v)
{
    struct cvma_tdx_quote q;
    struct cvma_tdx_held held;
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = true};
    enum cvma_status st;
    int rc = 2;

    memset(&held, 0, sizeof held);
    memset(&q, 0, sizeof q);
    if (cvma_tdx_quote_parse(ev->p, ev->len, &po, &q, v) != CVMA_OK) {
        cvma_tdx_quote_cleanup(&q);
        return 1;
    }
    if ((st = cvma_tdx_collateral_get(&q, vo, &held, v)) != CVMA_OK) {
        rc = fetch_failed(st);
        goto out;
    }
    if (fetched_refused(ev, vo, NULL, &held)) {
        rc = 3;
        goto out;
    }
    if (cvma_mkdir_p(out, 0755) != CVMA_OK) {
        cvma_cli_err("cvmattest collateral fetch: cannot create --out '%s'\n", out);
        goto out;
    }
    /* The bodies exactly as PCS sent them: their signatures cover these bytes. */
    if (!write_one(out, "tcb_info.json", held.c.tcb_info_doc.body.p,
                   held.c.tcb_info_doc.body.len) ||
        !write_one(out, "qe_identity.json", held.c.qe_identity_doc.body.p,
                   held.c.qe_identity_doc.body.len) ||
        !write_chain_pem(out, "tcb_info_issuer_chain.pem", held.c.tcb_info_chain) ||
        !write_chain_pem(out, "qe_identity_issuer_chain.pem", held.c.qe_identity_chain) ||
        !write_crl_der(out, "pck_crl.der", held.c.pck_crl) ||
        !write_crl_der(out, "root_ca_crl.der", held.c.root_ca_crl)) {
        not_whole(out);
        goto out;
    }
    rc = 0;
out:
    cvma_tdx_collateral_cleanup(&held.c);
    cvma_tdx_quote_cleanup(&q);
    return rc;
}

/*
 * Azure evidence (docs/azure.md): its vendor collateral is that of the hardware evidence inside,
 * read with the Azure stage's own parsers: Trustee's JSON evidence (or a bare HCL report) -> the
 * HCL report -> its SEV-SNP report (azure-snp, with the VCEK the JSON carries) or the TD quote
 * the JSON carries beside it (azure-tdx). Exit codes as for those.
 */
static int fetch_azure(const struct cvma_span *ev, bool tdx, const struct cvma_verify_opts *vo,
                       const char *out, struct cvma_verdict *v)
{
    struct cvma_azure_evidence ae;
    struct cvma_azure_hcl h;
    struct cvma_span hcl = *ev;
    int rc = 1;

    memset(&ae, 0, sizeof ae);
    if (!cvma_azure_hcl_detect(ev->p, ev->len)) {
        if (cvma_azure_evidence_parse(ev->p, ev->len, &ae, v) != CVMA_OK) {
            goto out;
        }
        hcl = (struct cvma_span){.p = ae.hcl_report.p, .len = ae.hcl_report.len};
    }
    if (cvma_azure_hcl_parse(hcl.p, hcl.len, true, &h, v) != CVMA_OK) {
        goto out;
    }
    if (h.report_type != (tdx ? CVMA_AZURE_REPORT_TYPE_TDX : CVMA_AZURE_REPORT_TYPE_SNP)) {
        (void)cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                          "azure-%s: the HCL report's hardware report is of report type %" PRIu32
                          ", not %s",
                          tdx ? "tdx" : "snp", h.report_type, tdx ? "4 (TDX)" : "2 (SEV-SNP)");
        goto out;
    }
    if (tdx) {
        const struct cvma_span q = {.p = ae.td_quote.p, .len = ae.td_quote.len};
        if (q.len == 0) {
            (void)cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                              "azure-tdx: no \"td_quote\": a TDREPORT is MAC-ed, not signed; "
                              "the TD quote is what verifies, and its collateral is fetched");
            goto out;
        }
        rc = fetch_tdx(&q, vo, out, v);
    } else {
        const struct cvma_span vcek = {.p = ae.vcek.p, .len = ae.vcek.len};
        rc = fetch_snp(&h.hw_report, vcek.len > 0 ? &vcek : NULL, vo, out, v);
    }
out:
    cvma_azure_evidence_cleanup(&ae);
    return rc;
}

/* One --trust-root (cvma_trust_root_load, as verify reads it). False (stderr says why). */
static bool load_root(const char *path, X509 **out)
{
    char err[512];
    if (cvma_trust_root_load(path, out, err, sizeof err) != CVMA_OK) {
        cvma_cli_err("cvmattest collateral fetch: %s\n", err);
        return false;
    }
    return true;
}

static int fetch_cmd(int argc, char **argv)
{
    struct cvma_verify_opts vo;
    struct cvma_verdict v;
    struct cvma_buf ev = {0};
    const char *file = NULL, *out = NULL;
    const char *root_files[CVMA_MAX_TRUST_ROOTS];
    X509 *roots[CVMA_MAX_TRUST_ROOTS];
    size_t n_roots = 0;
    enum cvma_evidence_kind kind;
    int rc, c;
    static const struct option opts[] = {
            {"out", required_argument, NULL, 'o'},
            {"kds-url", required_argument, NULL, 'k' | CVMA_CLI_URL},
            {"pcs-url", required_argument, NULL, 'p' | CVMA_CLI_URL},
            {"cache-dir", required_argument, NULL, 'c'},
            {"product", required_argument, NULL, 'P'},
            {"trust-root", required_argument, NULL, 't' | CVMA_CLI_MANY},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };

    memset(&vo, 0, sizeof vo);
    vo.at = time(NULL);
    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        const char **dst = NULL;
        switch (c) {
        case 'o':
            dst = &out;
            break;
        case 'k':
            dst = &vo.kds_base_url;
            break;
        case 'p':
            dst = &vo.pcs_base_url;
            break;
        case 'c':
            dst = &vo.cache_dir;
            break;
        case 'P':
            if ((vo.snp_product = cvma_cli_snp_product(optarg)) == 0) {
                return cvma_cli_usage_error("collateral fetch",
                                            "--product must be milan, genoa or turin, not '%s'",
                                            optarg);
            }
            break;
        case 't':
            if (n_roots >= CVMA_MAX_TRUST_ROOTS) {
                return cvma_cli_usage_error("collateral fetch", "at most %d --trust-root",
                                            CVMA_MAX_TRUST_ROOTS);
            }
            root_files[n_roots++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cvma_cli_bad_option("collateral fetch", c, argv);
        }
        if (dst != NULL) {
            *dst = optarg;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (file != NULL) {
            cvma_cli_err("cvmattest collateral fetch: one evidence file only; extra '%s'\n",
                         argv[i]);
            return 2;
        }
        file = argv[i];
    }
    if (file == NULL || out == NULL) {
        cvma_cli_err("cvmattest collateral fetch: %s\n",
                     file == NULL ? "no evidence file given" : "--out DIR is required");
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < n_roots; i++) {
        if (!load_root(root_files[i], &roots[i])) {
            for (size_t j = 0; j < i; j++) {
                X509_free(roots[j]);
            }
            return 2;
        }
    }
    vo.trust_roots = roots;
    vo.n_trust_roots = n_roots;
    {
        /* Any evidence form verify takes: a bundle, bare bytes, hex or base64, or - */
        struct cvma_evidence *e = NULL;
        char err[512];
        enum cvma_status est = cvma_evidence_from_file(file, CVMA_INFORM_AUTO, &e, err, sizeof err);
        if (est != CVMA_OK) {
            cvma_cli_err("cvmattest collateral fetch: %s\n", err);
            rc = 2;
            goto done;
        }
        struct cvma_span b = cvma_evidence_bytes(e);
        kind = cvma_evidence_kind(e);
        if ((ev.p = malloc(b.len)) == NULL) {
            cvma_evidence_free(e);
            rc = 2;
            goto done;
        }
        memcpy(ev.p, b.p, b.len);
        ev.len = b.len;
        cvma_evidence_free(e);
    }
    const struct cvma_kind *pk = cvma_kind_by_id(kind);
    if (vo.snp_product != CVMA_SNP_PRODUCT_UNKNOWN && pk != NULL && !pk->reads_snp_report) {
        /* As for verify: a product that nothing would read is refused, not ignored. */
        cvma_cli_err("cvmattest collateral fetch: --product names the processor of an SEV-SNP "
                     "report, and '%s' is %s evidence (kind %s), which holds none\n",
                     file, pk->what, pk->name);
        cvma_buf_free(&ev);
        rc = 2;
        goto done;
    }
    cvma_verdict_init(&v);
    const struct cvma_span evs = {.p = ev.p, .len = ev.len};
    switch (kind) {
    case CVMA_KIND_SNP:
    case CVMA_KIND_SVSM_VTPM: /* the SVSM's SEV-SNP report (docs/vtpm-binding.md) */
        rc = fetch_snp(&evs, NULL, &vo, out, &v);
        break;
    case CVMA_KIND_TDX:
        rc = fetch_tdx(&evs, &vo, out, &v);
        break;
    case CVMA_KIND_AZURE_SNP:
    case CVMA_KIND_AZURE_TDX:
        rc = fetch_azure(&evs, kind == CVMA_KIND_AZURE_TDX, &vo, out, &v);
        break;
    case CVMA_KIND_AUTO:
        /* Bytes that are no evidence do not parse, as for verify (PARSE_UNKNOWN_FORMAT). */
        cvma_cli_err(
                "cvmattest collateral fetch: '%s' does not parse as evidence: neither an SEV-SNP "
                "report nor a TDX quote\n",
                file);
        rc = 1;
        break;
    case CVMA_KIND_TPM:
    default: {
        /* A bare TPM quote: no hardware report, nothing of AMD's or Intel's to fetch for it. */
        const struct cvma_kind *k = cvma_kind_by_id(kind);
        cvma_cli_err(
                "cvmattest collateral fetch: '%s' is %s evidence, not an SEV-SNP report or a TDX "
                "quote: there is no vendor collateral to fetch for it\n",
                file, k != NULL ? k->name : "another kind of");
        rc = 2;
        break;
    }
    }
    print_reasons(&v);
    if (rc == 3) {
        cvma_cli_err("cvmattest collateral fetch: collateral could not be fetched, or what "
                     "was fetched fails its own checks; nothing was written\n");
    }
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&ev);
done:
    for (size_t i = 0; i < n_roots; i++) {
        X509_free(roots[i]);
    }
    return rc;
}

int cvma_cmd_collateral(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "fetch") == 0) {
        return fetch_cmd(argc - 1, argv + 1);
    }
    cvma_cli_err("cvmattest collateral: unknown subcommand '%s' (only 'fetch')\n", argv[1]);
    usage(stderr);
    return 2;
}
