/*
 * TDX collateral: the signed-JSON split, the TCB Info / QE Identity parsers, the collateral
 * directory, verification (chains, Root CA CRL, signatures, time windows) against the real
 * Intel samples (CVMATTEST_VECTORS, MANIFEST.md) and synthetic chains, TCB evaluation (QVL's
 * algorithm) on hand-built quotes and PCK extensions, and the PCS client against a local
 * stand-in server (tests/pcs_server.py, 127.0.0.1 only).
 *
 * Vector tests skip without CVMATTEST_VECTORS; the server tests also need CVMATTEST_SRC and
 * python3.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "collateral/source.h"
#include "common/timeutil.h"
#include "common/verdict.h"
#include "crypto/chain.h"
#include "crypto/chain_cache.h"
#include "crypto/crypto.h"
#include "result/result.h"
#include "sim/sim_tdx.h"
#include "tdx/tdx_coll_internal.h"
#include "tdx/tdx_collateral.h"
#include "tdx/tdx_internal.h"
#include "tdx/tdx_pcs.h"
#include "testutil.h"
#include "tu_server.h"
#include "tu_vectors.h"
#include "tu_x509.h"

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* The uptodate sample as a collateral directory: bare inner objects + .sig.hex. */
static char *dir_uptodate(void)
{
    return tu_collateral_dir("tdx/v4-uptodate-dcapqvl");
}

/* The SPR sample as a collateral directory: PCS response bodies (the QE Identity issuer chain
 * there is the TCB Info chain, MANIFEST.md). */
static char *dir_spr(void)
{
    char *d = tu_tmpdir();
    tu_copy_vec("tdx/v4-spr-gotdxguest/tcb_info_response.json", d, "tcb_info.json");
    tu_copy_vec("tdx/v4-spr-gotdxguest/qe_identity_response.json", d, "qe_identity.json");
    tu_copy_vec("tdx/v4-spr-gotdxguest/tcb_info_issuer_chain.pem", d, "tcb_info_issuer_chain.pem");
    tu_copy_vec("tdx/v4-spr-gotdxguest/tcb_info_issuer_chain.pem", d,
                "qe_identity_issuer_chain.pem");
    tu_copy_vec("tdx/v4-spr-gotdxguest/pck_crl.der", d, "pck_crl.der");
    tu_copy_vec("tdx/v4-spr-gotdxguest/root_ca_crl.der", d, "root_ca_crl.der");
    return d;
}

static void load_ok(const char *dir, struct cvma_tdx_collateral *c)
{
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    enum cvma_status st = cvma_tdx_collateral_load_dir(dir, c, &v);
    if (st != CVMA_OK) {
        tu_dump(&v);
    }
    assert_int_equal(st, CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    cvma_verdict_cleanup(&v);
}

/* ---------------------------------------------------------------------------------------- */
/* The split                                                                                */
/* ---------------------------------------------------------------------------------------- */

#define SIG128                                                         \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static bool split(const char *s, const char *key, struct cvma_span *sp)
{
    uint8_t sig[64];
    return cvma_tdx_signed_json_split((const uint8_t *)s, strlen(s), key, sp, sig);
}

static void test_split_finds_the_exact_span_past_tricky_strings(void **state)
{
    (void)state;
    const char *body = " {\"x\":\"}{\\\"tcbInfo\\\":{\",\"y\":[1,{\"z\":\"\\u007d\"}],"
                       "\"tcbInfo\" :\n{\"a\":\"}\\\\\",\"b\":[{},[]],\"c\":-1.5e+3} ,"
                       "\"signature\":\"" SIG128 "\"}\n";
    struct cvma_span sp;
    uint8_t sig[64];
    assert_true(
            cvma_tdx_signed_json_split((const uint8_t *)body, strlen(body), "tcbInfo", &sp, sig));
    const char *want = "{\"a\":\"}\\\\\",\"b\":[{},[]],\"c\":-1.5e+3}";
    assert_int_equal(sp.len, strlen(want));
    assert_memory_equal(sp.p, want, sp.len);
    assert_int_equal(sig[0], 0x00);
    assert_int_equal(sig[1], 0x11);
    assert_int_equal(sig[63], 0xff);
}

static void test_split_refuses_malformed_bodies(void **state)
{
    (void)state;
    static const char *const bad[] = {
            "",
            "{}",
            "[]",
            "{\"tcbInfo\":{}}",                                             /* no signature */
            "{\"signature\":\"" SIG128 "\"}",                               /* no key */
            "{\"tcbInfo\":[],\"signature\":\"" SIG128 "\"}",                /* not an object */
            "{\"tcbInfo\":{},\"signature\":\"" SIG128 "\"} x",              /* trailing bytes */
            "{\"tcbInfo\":{},\"signature\":\"" SIG128 "\"",                 /* unterminated */
            "{\"tcbInfo\":{},\"tcbInfo\":{},\"signature\":\"" SIG128 "\"}", /* duplicate */
            "{\"tcbInfo\":{},\"tcb\\u0049nfo\":{},\"signature\":\"" SIG128 "\"}", /* escaped dup */
            "{\"tcbInfo\":{},\"signature\":\"" SIG128 "\",\"signature\":\"" SIG128 "\"}",
            "{\"tcbInfo\":{},\"signature\":\"00\"}",           /* short signature */
            "{\"tcbInfo\":{},\"signature\":\"" SIG128 "00\"}", /* long signature */
            "{\"tcbInfo\":{},\"signature\":\"zz" SIG128 "\"}",
            "{\"tcbInfo\":{},\"signature\":\"\\u0030" SIG128 "\"}",  /* escaped hex */
            "{\"tcbInfo\":{\"a\":},\"signature\":\"" SIG128 "\"}",   /* bad inner JSON */
            "{\"tcbInfo\":{\"a\":01},\"signature\":\"" SIG128 "\"}", /* bad number */
            "{\"tcbInfo\":{\"a\":tru},\"signature\":\"" SIG128 "\"}",
            "{\"tcbInfo\":{\"a\":\"\x01\"},\"signature\":\"" SIG128 "\"}", /* raw control */
            "{\"tcbInfo\":{\"a\":\"\\x\"},\"signature\":\"" SIG128 "\"}",  /* bad escape */
            "{\"tcbInfo\":{},,\"signature\":\"" SIG128 "\"}",
            "{\"tcbInfo\":{}\"signature\":\"" SIG128 "\"}",
            "{\"tcbInfo\"{},\"signature\":\"" SIG128 "\"}",
            "\xef\xbb\xbf{\"tcbInfo\":{},\"signature\":\"" SIG128 "\"}", /* BOM */
    };
    struct cvma_span sp;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        if (split(bad[i], "tcbInfo", &sp)) {
            fail_msg("accepted malformed body %zu: %s", i, bad[i]);
        }
        assert_null(sp.p);
    }
    /* The right key only. */
    assert_false(split("{\"enclaveIdentity\":{},\"signature\":\"" SIG128 "\"}", "tcbInfo", &sp));
    assert_true(
            split("{\"enclaveIdentity\":{},\"signature\":\"" SIG128 "\"}", "enclaveIdentity", &sp));
    /* Other top-level members are skipped. */
    assert_true(split("{\"note\":[null,true,false,{\"k\":0}],\"tcbInfo\":{},\"signature\":\"" SIG128
                      "\"}",
                      "tcbInfo", &sp));
}

static void test_split_bounds_nesting_depth(void **state)
{
    (void)state;
    char body[512];
    struct cvma_span sp;
    /* 30 nested arrays inside tcbInfo (depth 2): 32 in all is allowed, 33 is not. */
    for (int depth = 30; depth <= 31; depth++) {
        size_t n = 0;
        n += (size_t)snprintf(body + n, sizeof body - n, "{\"tcbInfo\":{\"a\":");
        for (int i = 0; i < depth; i++) {
            body[n++] = '[';
        }
        for (int i = 0; i < depth; i++) {
            body[n++] = ']';
        }
        snprintf(body + n, sizeof body - n, "},\"signature\":\"" SIG128 "\"}");
        assert_int_equal(split(body, "tcbInfo", &sp), depth == 30);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Loading the real samples                                                                 */
/* ---------------------------------------------------------------------------------------- */

static void test_load_dir_reads_bare_objects_with_sig_hex(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    struct cvma_tdx_collateral c;
    uint8_t fmspc[6];

    load_ok(d, &c);
    /* The file is exactly the signed object (no trailing newline). */
    assert_ptr_equal(c.tcb_info_doc.signed_part.p, c.tcb_info_doc.body.p);
    assert_int_equal(c.tcb_info_doc.signed_part.len, 2934);
    assert_int_equal(c.qe_identity_doc.signed_part.len, 461);
    assert_int_equal(c.tcb_info_doc.signature[0], 0x02);
    assert_int_equal(c.tcb_info_doc.signature[63], 0x4f);
    tu_hex("b0c06f000000", fmspc, 6);
    assert_memory_equal(c.tcb_info.fmspc, fmspc, 6);
    assert_string_equal(c.tcb_info.id, "TDX");
    assert_int_equal(c.tcb_info.version, 3);
    assert_int_equal(c.tcb_info.tcb_evaluation_data_number, 17);
    assert_int_equal(c.tcb_info.issue_date, tu_time("2025-06-19T10:16:03Z"));
    assert_int_equal(c.tcb_info.next_update, tu_time("2025-07-19T10:16:03Z"));
    assert_int_equal(c.tcb_info.n_levels, 2);
    assert_int_equal(c.tcb_info.levels[0].pcesvn, 11);
    assert_string_equal(c.tcb_info.levels[0].status, "UpToDate");
    assert_string_equal(c.tcb_info.levels[1].status, "OutOfDate");
    assert_int_equal(c.tcb_info.levels[1].adv.n, 14);
    assert_string_equal(c.tcb_info.levels[1].adv.ids[13], "INTEL-SA-00837");
    assert_int_equal(c.tcb_info.n_modules, 2);
    assert_string_equal(c.tcb_info.modules[1].id, "TDX_01");
    assert_int_equal(c.tcb_info.modules[1].n_levels, 2);
    assert_int_equal(c.tcb_info.modules[1].levels[0].isvsvn, 4);
    assert_string_equal(c.qe_identity.id, "TD_QE");
    assert_int_equal(c.qe_identity.isvprodid, 2);
    assert_int_equal(c.qe_identity.mrsigner[0], 0xdc);
    assert_int_equal(c.qe_identity.miscselect_mask, 0xffffffffu);
    assert_int_equal(c.qe_identity.attributes_mask[0], 0xfb);
    assert_non_null(c.pck_crl);
    assert_non_null(c.root_ca_crl);
    assert_int_equal(sk_X509_num(c.tcb_info_chain), 2);
    cvma_tdx_collateral_cleanup(&c);
    cvma_tdx_collateral_cleanup(&c); /* twice is fine */
    tu_rmtree(d);
    free(d);
}

static void test_load_dir_reads_pcs_bodies(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_spr();
    struct cvma_tdx_collateral c;

    load_ok(d, &c);
    /* The span is the inner object only, exactly as it stands in the body. */
    assert_ptr_equal(c.tcb_info_doc.signed_part.p, c.tcb_info_doc.body.p + strlen("{\"tcbInfo\":"));
    assert_memory_equal(c.tcb_info_doc.signed_part.p, "{\"id\":\"TDX\"", 11);
    assert_int_equal(c.tcb_info_doc.signed_part.p[c.tcb_info_doc.signed_part.len - 1], '}');
    assert_memory_equal(c.tcb_info_doc.signed_part.p + c.tcb_info_doc.signed_part.len,
                        ",\"signature\"", 12);
    assert_int_equal(c.tcb_info.tcb_evaluation_data_number, 15);
    assert_int_equal(c.tcb_info.n_modules, 0);
    assert_int_equal(c.tcb_info.levels[0].sgx_comp[0], 5);
    assert_int_equal(c.qe_identity.levels[0].isvsvn, 4);
    cvma_tdx_collateral_cleanup(&c);
    tu_rmtree(d);
    free(d);
}

/* A TCB Info nested deeper than the reader's limit, with no .sig.hex beside it: the refusal
 * names the limit among what a PCS body must be, not only the form it is not. */
static void test_load_dir_names_the_nesting_limit(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_spr();
    char *p = tu_path(d, "tcb_info.json");
    char deep[200];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"tcbInfo\":");
    for (int i = 0; i < 40; i++) {
        deep[n++] = '[';
    }
    for (int i = 0; i < 40; i++) {
        deep[n++] = ']';
    }
    n += (size_t)snprintf(deep + n, sizeof deep - n, ",\"signature\":\"00\"}");
    tu_write(p, (const uint8_t *)deep, n);
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_load_dir(d, &c, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "nesting at most 32"));
    cvma_verdict_cleanup(&v);
    free(p);
    tu_rmtree(d);
    free(d);
}

/* sgx/v3-dcapqvl is SGX collateral (TCB Info id "SGX", no TDX fields; QE Identity id "QE"):
 * it must never judge a TD. */
static void test_load_dir_refuses_sgx_collateral_as_invalid(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = tu_collateral_dir("sgx/v3-dcapqvl");
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;
    struct cvma_buf b;

    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_load_dir(d, &c, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "\"SGX\""));
    assert_null(c.tcb_info_doc.body.p); /* emptied after a failure */
    cvma_verdict_cleanup(&v);

    /* The SGX QE Identity (id "QE") alone is refused too. */
    char *p = tu_vec("sgx/v3-dcapqvl/qe_identity.json");
    struct cvma_tdx_qe_identity qi;
    tu_read(p, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_qe_identity_parse(b.p, b.len, &qi, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "\"QE\""));
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
    free(p);
    tu_rmtree(d);
    free(d);
}

static void test_load_dir_missing_files_are_unavailable(void **state)
{
    (void)state;
    char *d = tu_tmpdir();
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;

    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_load_dir(d, &c, &v), CVMA_UNDECIDED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_UNAVAILABLE);
    assert_true(v.undecided);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "tcb_info.json"));
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "root_ca_crl.der"));
    assert_false(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "sig.hex"));
    cvma_verdict_cleanup(&v);

    /* A FIFO under a file's name is missing too (never opened and waited on), and the reason
     * says what missing covers: a regular file that cannot be read is COLLATERAL_INVALID. */
    char *fifo = tu_path(d, "tcb_info.json");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_load_dir(d, &c, &v), CVMA_UNDECIDED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "tcb_info.json"));
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "absent, or not a regular file"));
    assert_false(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "cannot read"));
    cvma_verdict_cleanup(&v);
    free(fifo);
    tu_rmtree(d);
    free(d);
}

/* A file that is there but over the size limit (or unreadable) is refused naming it, as for
 * SEV-SNP: never taken for missing, which would fetch it in its place. */
static void test_load_dir_oversized_file_is_invalid_not_missing(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), *p = tu_path(d, "tcb_info.json");
    size_t n = (1u << 20) + 1; /* MAX_COLLATERAL_FILE (tdx/tdx_coll_internal.h) + 1 */
    uint8_t *big = calloc(1, n);
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;

    assert_non_null(big);
    tu_write(p, big, n);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_load_dir(d, &c, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_INVALID);
    assert_false(v.undecided);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID,
                              "tcb_info.json in ")); /* named, and where */
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "never fetched instead"));
    cvma_verdict_cleanup(&v);
    free(big);
    free(p);
    tu_rmtree(d);
    free(d);
}

static void test_load_dir_bare_object_without_sig_hex_is_invalid(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    char *sig = tu_path(d, "tcb_info.sig.hex");
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;

    assert_int_equal(unlink(sig), 0);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_load_dir(d, &c, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "tcb_info.sig.hex"));
    cvma_verdict_cleanup(&v);
    /* A sig.hex that is not 128 hex digits. */
    tu_write(sig, (const uint8_t *)"abcd\n", 5);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_load_dir(d, &c, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_INVALID);
    cvma_verdict_cleanup(&v);
    free(sig);
    tu_rmtree(d);
    free(d);
}

static void test_load_dir_accepts_a_hex_root_ca_crl(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    char *p = tu_path(d, "root_ca_crl.der");
    struct cvma_buf der;
    struct cvma_tdx_collateral c;

    tu_read(p, &der);
    char *hex = cvma_hex_dup(der.p, der.len);
    assert_non_null(hex);
    tu_write(p, (const uint8_t *)hex, strlen(hex));
    load_ok(d, &c);
    assert_non_null(c.root_ca_crl);
    cvma_tdx_collateral_cleanup(&c);
    free(hex);
    cvma_buf_free(&der);
    free(p);
    tu_rmtree(d);
    free(d);
}

/* ---------------------------------------------------------------------------------------- */
/* Verification of the real samples                                                         */
/* ---------------------------------------------------------------------------------------- */

static enum cvma_status verify_dir(const char *dir, const char *at, int64_t grace,
                                   struct cvma_verdict *v)
{
    struct cvma_tdx_collateral c;
    X509 *root = tu_vec_cert(TU_INTEL_ROOT);
    load_ok(dir, &c);
    enum cvma_status st = cvma_tdx_collateral_verify(&c, root, tu_time(at), grace, v);
    cvma_tdx_collateral_cleanup(&c);
    X509_free(root);
    return st;
}

/* The 2025 issue of the TCB signing certificate with the 2025 collateral. */
static void test_verify_uptodate_collateral_at_manifest_time(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    enum cvma_status st = verify_dir(d, "2025-07-19T10:00:34Z", 0, &v);
    tu_dump(&v);
    assert_int_equal(st, CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    cvma_verdict_cleanup(&v);
    tu_rmtree(d);
    free(d);
}

/* The 2018 issue of the TCB signing certificate (valid until 2025-05-21) with the 2023
 * collateral. */
static void test_verify_spr_collateral_with_2018_signing_cert(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_spr();
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    enum cvma_status st = verify_dir(d, "2023-07-01T01:00:00Z", 0, &v);
    tu_dump(&v);
    assert_int_equal(st, CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    cvma_verdict_cleanup(&v);
    /* After 2025-05-21 that certificate has expired. */
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2025-06-01T00:00:00Z", 0, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXPIRED);
    assert_true(tu_detail_has(&v, CVMA_R_CERT_EXPIRED, "TCB Info signing certificate"));
    cvma_verdict_cleanup(&v);
    tu_rmtree(d);
    free(d);
}

/* v5-gotdxguest's TCB Info (2026) verifies with the 2025 re-issue of the signing
 * certificate (same key), not with the expired 2018 one. */
static void test_verify_v5_tcb_info_with_2025_chain(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_tdx_signed_json doc;
    struct cvma_verdict v;
    struct cvma_buf body;
    char *p = tu_vec("tdx/v5-gotdxguest/tcb_info_response.json");
    X509 *root = tu_vec_cert(TU_INTEL_ROOT);
    STACK_OF(X509) *chain25 = tu_vec_chain("tdx/v4-uptodate-dcapqvl/tcb_info_issuer_chain.pem");
    STACK_OF(X509) *chain18 = tu_vec_chain("tdx/v4-spr-gotdxguest/tcb_info_issuer_chain.pem");
    X509_CRL *crl = tu_vec_crl("tdx/v4-uptodate-dcapqvl/root_ca_crl.der");
    struct cvma_tdx_tcb_info ti;

    tu_read(p, &body);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_load(&doc, &body, NULL, "tcbInfo", "TCB Info", &v),
                     CVMA_OK);
    assert_null(body.p);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, chain25, root, crl,
                                                 tu_time("2026-02-03T01:00:00Z"), "TCB Info", &v),
                     CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(cvma_tdx_tcb_info_parse(doc.signed_part.p, doc.signed_part.len, &ti, &v),
                     CVMA_OK);
    assert_true(tu_time("2026-02-03T01:00:00Z") >= ti.issue_date);
    assert_true(tu_time("2026-02-03T01:00:00Z") <= ti.next_update);
    cvma_tdx_tcb_info_cleanup(&ti);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, chain18, root, crl,
                                                 tu_time("2026-02-03T01:00:00Z"), "TCB Info", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXPIRED);
    cvma_verdict_cleanup(&v);
    cvma_tdx_signed_json_cleanup(&doc);
    X509_CRL_free(crl);
    sk_X509_pop_free(chain25, X509_free);
    sk_X509_pop_free(chain18, X509_free);
    X509_free(root);
    free(p);
}

/* Every byte of the signed span is covered by the signature. */
static void test_every_tampered_byte_of_the_span_breaks_the_signature(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    struct cvma_tdx_collateral c;
    X509 *root = tu_vec_cert(TU_INTEL_ROOT);
    time_t at = tu_time("2025-07-19T10:00:34Z");
    struct cvma_tdx_signed_json *docs[2];
    STACK_OF(X509) * chains[2];

    load_ok(d, &c);
    docs[0] = &c.tcb_info_doc;
    docs[1] = &c.qe_identity_doc;
    chains[0] = c.tcb_info_chain;
    chains[1] = c.qe_identity_chain;
    for (int k = 0; k < 2; k++) {
        struct cvma_tdx_signed_json *doc = docs[k];
        uint8_t *span = doc->body.p + (doc->signed_part.p - doc->body.p);
        for (size_t i = 0; i < doc->signed_part.len; i++) {
            struct cvma_verdict v;
            cvma_verdict_init(&v);
            span[i] ^= 0x01;
            enum cvma_status st =
                    cvma_tdx_signed_json_verify(doc, chains[k], root, c.root_ca_crl, at, "doc", &v);
            span[i] ^= 0x01;
            if (st != CVMA_REJECTED ||
                cvma_verdict_first_error(&v) != CVMA_R_COLLATERAL_SIGNATURE_INVALID) {
                fail_msg("doc %d byte %zu: tampering not detected as a signature failure", k, i);
            }
            cvma_verdict_cleanup(&v);
        }
        /* And the signature itself. */
        for (size_t i = 0; i < 64; i += 7) {
            struct cvma_verdict v;
            cvma_verdict_init(&v);
            doc->signature[i] ^= 0x80;
            assert_int_equal(
                    cvma_tdx_signed_json_verify(doc, chains[k], root, c.root_ca_crl, at, "doc", &v),
                    CVMA_REJECTED);
            doc->signature[i] ^= 0x80;
            assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_SIGNATURE_INVALID);
            cvma_verdict_cleanup(&v);
        }
    }
    /* Untouched it still verifies. */
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_verify(&c, root, at, 0, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
    cvma_tdx_collateral_cleanup(&c);
    X509_free(root);
    tu_rmtree(d);
    free(d);
}

/* Whitespace outside the signed span is not signed; whitespace inside is. */
static void test_whitespace_outside_the_span_still_verifies(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_spr();
    char *tcb = tu_path(d, "tcb_info.json");
    struct cvma_buf orig;
    struct cvma_span sp;
    uint8_t sig[64];
    char sighex[129];
    struct cvma_verdict v;

    tu_read(tcb, &orig);
    assert_true(cvma_tdx_signed_json_split(orig.p, orig.len, "tcbInfo", &sp, sig));
    cvma_hex_encode(sig, 64, sighex, sizeof sighex);
    /* Re-wrap the exact span with other whitespace and member order. */
    size_t cap = sp.len + 512;
    char *wrapped = malloc(cap);
    assert_non_null(wrapped);
    int n = snprintf(wrapped, cap,
                     "\r\n {\n  \"signature\" :\t\"%s\" ,\n  \"tcbInfo\"  :  ", sighex);
    assert_true(n > 0);
    memcpy(wrapped + n, sp.p, sp.len);
    n += (int)sp.len;
    n += snprintf(wrapped + n, cap - (size_t)n, "\n}\n\n");
    tu_write(tcb, (const uint8_t *)wrapped, (size_t)n);
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2023-07-01T01:00:00Z", 0, &v), CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    cvma_verdict_cleanup(&v);

    /* A space inside the span: still valid JSON, no longer the signed bytes. */
    const char *comma = memchr(sp.p, ',', sp.len);
    assert_non_null(comma);
    size_t at = (size_t)(comma - (const char *)sp.p) + 1;
    n = snprintf(wrapped, cap, "{\"tcbInfo\":");
    memcpy(wrapped + n, sp.p, at);
    n += (int)at;
    wrapped[n++] = ' ';
    memcpy(wrapped + n, sp.p + at, sp.len - at);
    n += (int)(sp.len - at);
    n += snprintf(wrapped + n, cap - (size_t)n, ",\"signature\":\"%s\"}", sighex);
    tu_write(tcb, (const uint8_t *)wrapped, (size_t)n);
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2023-07-01T01:00:00Z", 0, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_SIGNATURE_INVALID);
    cvma_verdict_cleanup(&v);
    free(wrapped);
    cvma_buf_free(&orig);

    /* The bare form too: whitespace around the object and the hex signature. */
    char *u = dir_uptodate();
    char *bare = tu_path(u, "tcb_info.json"), *sigf = tu_path(u, "tcb_info.sig.hex");
    struct cvma_buf b, s;
    tu_read(bare, &b);
    tu_read(sigf, &s);
    uint8_t *bb = malloc(b.len + 4), *ss = malloc(s.len + 3);
    assert_non_null(bb);
    assert_non_null(ss);
    memcpy(bb, "\n  ", 3);
    memcpy(bb + 3, b.p, b.len);
    bb[b.len + 3] = '\n';
    tu_write(bare, bb, b.len + 4);
    memcpy(ss, " ", 1);
    memcpy(ss + 1, s.p, s.len);
    memcpy(ss + 1 + s.len, "\r\n", 2);
    tu_write(sigf, ss, s.len + 3);
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(u, "2025-07-19T10:00:34Z", 0, &v), CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    cvma_verdict_cleanup(&v);
    free(bb);
    free(ss);
    cvma_buf_free(&b);
    cvma_buf_free(&s);
    free(bare);
    free(sigf);
    tu_rmtree(u);
    free(u);
    free(tcb);
    tu_rmtree(d);
    free(d);
}

static void test_stale_collateral_is_expired_or_a_warning_within_grace(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    struct cvma_verdict v;

    /* TCB Info nextUpdate 2025-07-19T10:16:03Z. */
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2025-08-01T00:00:00Z", 0, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_EXPIRED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_EXPIRED, "TCB Info"));
    cvma_verdict_cleanup(&v);

    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2025-08-01T00:00:00Z", 30 * 86400, &v), CVMA_OK);
    assert_false(cvma_verdict_has_error(&v));
    assert_int_equal(v.n_reasons, 2); /* TCB Info and QE Identity */
    assert_int_equal(v.reasons[0].code, CVMA_R_COLLATERAL_EXPIRED);
    assert_int_equal(v.reasons[0].severity, CVMA_SEV_WARNING);
    assert_int_equal(v.reasons[1].code, CVMA_R_COLLATERAL_EXPIRED);
    assert_int_equal(v.reasons[1].severity, CVMA_SEV_WARNING);
    cvma_verdict_cleanup(&v);

    /* Grace shorter than the lateness: an error again. */
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2025-08-01T00:00:00Z", 3600, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_EXPIRED);
    cvma_verdict_cleanup(&v);
    tu_rmtree(d);
    free(d);
}

static void test_collateral_not_yet_valid(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    struct cvma_verdict v;

    /* After the TCB Info was issued (10:16:03), before the QE Identity (10:32:27). */
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2025-06-19T10:20:00Z", 0, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_NOT_YET_VALID);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_NOT_YET_VALID, "QE Identity"));
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2025-06-01T00:00:00Z", 0, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_NOT_YET_VALID);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_NOT_YET_VALID, "TCB Info"));
    cvma_verdict_cleanup(&v);
    tu_rmtree(d);
    free(d);
}

static void test_root_ca_crl_out_of_date_is_crl_expired(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_spr();
    struct cvma_verdict v;
    /* SPR Root CA CRL 2023-04-03 .. 2024-04-02; signing cert valid; collateral expired too,
     * but the CRL is checked first. */
    cvma_verdict_init(&v);
    assert_int_equal(verify_dir(d, "2024-06-01T00:00:00Z", 0, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CRL_EXPIRED);
    cvma_verdict_cleanup(&v);
    tu_rmtree(d);
    free(d);
}

static void test_chain_must_end_in_the_pinned_root(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;
    X509 *not_root;

    load_ok(d, &c);
    /* Any other certificate as "the root", e.g. the signing certificate itself. */
    not_root = sk_X509_value(c.tcb_info_chain, 0);
    cvma_verdict_init(&v);
    assert_int_equal(
            cvma_tdx_collateral_verify(&c, not_root, tu_time("2025-07-19T10:00:34Z"), 0, &v),
            CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_UNTRUSTED_ROOT);
    cvma_verdict_cleanup(&v);
    /* A chain of one certificate (no root). */
    X509 *root = tu_vec_cert(TU_INTEL_ROOT);
    X509 *last = sk_X509_pop(c.tcb_info_chain);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_collateral_verify(&c, root, tu_time("2025-07-19T10:00:34Z"), 0, &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_CHAIN_INVALID);
    cvma_verdict_cleanup(&v);
    X509_free(last);
    X509_free(root);
    cvma_tdx_collateral_cleanup(&c);
    tu_rmtree(d);
    free(d);
}

/* ---------------------------------------------------------------------------------------- */
/* Synthetic chains: what no real sample shows (revocation, bad CRLs, keys)                 */
/* ---------------------------------------------------------------------------------------- */

/* A certificate with the given basicConstraints and keyUsage values. */
static X509 *make_cert_ext(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                           const char *basic_constraints, const char *key_usage, long serial)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    assert_non_null(x);
    assert_non_null(n);
    assert_int_equal(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    X509 *iss = issuer ? issuer : x;
    tu_add_ext(x, iss, NID_basic_constraints, basic_constraints);
    tu_add_ext(x, iss, NID_key_usage, key_usage);
    tu_add_ext(x, iss, NID_subject_key_identifier, "hash");
    tu_add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
    X509_NAME_free(n);
    return x;
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
                       long serial)
{
    return make_cert_ext(cn, key, issuer, issuer_key, ca ? "critical,CA:TRUE" : "critical,CA:FALSE",
                         ca ? "critical,keyCertSign,cRLSign"
                            : "critical,digitalSignature,nonRepudiation",
                         serial);
}

static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *key, X509 *revoked)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *lu = ASN1_TIME_adj(NULL, time(NULL), -1, 0);
    ASN1_TIME *nu = ASN1_TIME_adj(NULL, time(NULL), 30, 0);
    assert_non_null(crl);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    X509_CRL_set1_lastUpdate(crl, lu);
    X509_CRL_set1_nextUpdate(crl, nu);
    if (revoked != NULL) {
        X509_REVOKED *r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked));
        X509_REVOKED_set_revocationDate(r, lu);
        X509_CRL_add0_revoked(crl, r);
    }
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(lu);
    ASN1_TIME_free(nu);
    return crl;
}

/* make_crl with its thisUpdate replaced by the ASN.1 time `when` of the given type (taken as
 * is, however malformed), signed again. */
static X509_CRL *make_crl_this_update(X509 *issuer, EVP_PKEY *key, int type, const char *when)
{
    X509_CRL *crl = make_crl(issuer, key, NULL);
    ASN1_TIME *t = ASN1_STRING_type_new(type);
    assert_non_null(t);
    assert_int_equal(ASN1_STRING_set(t, when, -1), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    return crl;
}

/* Times in the form RFC 5280 allows but OpenSSL's CRL check cannot read, and one both refuse. */
static const struct {
    int type;
    const char *when;
} odd_times[] = {{V_ASN1_UTCTIME, "ZZZZZZZZZZZZZ"},
                 {V_ASN1_GENERALIZEDTIME, "20250101000000.5Z"},
                 {V_ASN1_UTCTIME, "250101000000+0100"}};

/* ECDSA P-256/SHA-256 over msg as raw r || s. */
static void sign_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t out[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t dlen = sizeof der;
    const unsigned char *q = der;
    const BIGNUM *r, *s;
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, der, &dlen, msg, len), 1);
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)dlen);
    assert_non_null(sig);
    ECDSA_SIG_get0(sig, &r, &s);
    assert_int_equal(BN_bn2binpad(r, out, 32), 32);
    assert_int_equal(BN_bn2binpad(s, out + 32, 32), 32);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
}

struct syn_pki {
    EVP_PKEY *root_key, *signer_key;
    X509 *root, *signer;
    STACK_OF(X509) * chain;
};

static void pki_make(struct syn_pki *k, const char *signer_curve)
{
    k->root_key = EVP_EC_gen("P-256");
    k->signer_key = EVP_EC_gen(signer_curve);
    assert_non_null(k->root_key);
    assert_non_null(k->signer_key);
    k->root = make_cert("Test SGX Root CA", k->root_key, NULL, k->root_key, true, 1);
    k->signer = make_cert("Intel SGX TCB Signing", k->signer_key, k->root, k->root_key, false, 2);
    k->chain = sk_X509_new_null();
    sk_X509_push(k->chain, k->signer);
    X509_up_ref(k->signer);
    sk_X509_push(k->chain, k->root);
    X509_up_ref(k->root);
}

static void pki_free(struct syn_pki *k)
{
    sk_X509_pop_free(k->chain, X509_free);
    X509_free(k->root);
    X509_free(k->signer);
    EVP_PKEY_free(k->root_key);
    EVP_PKEY_free(k->signer_key);
}

/* A signed PCS body around inner (signed with key). */
static void syn_doc(EVP_PKEY *key, const char *outer_key, const char *inner,
                    struct cvma_tdx_signed_json *doc)
{
    uint8_t sig[64];
    char hex[129];
    struct cvma_verdict v;
    size_t cap = strlen(inner) + 256;
    struct cvma_buf b = {malloc(cap), 0};
    assert_non_null(b.p);
    sign_raw(key, (const uint8_t *)inner, strlen(inner), sig);
    cvma_hex_encode(sig, 64, hex, sizeof hex);
    b.len = (size_t)snprintf((char *)b.p, cap, "{\"%s\":%s,\"signature\":\"%s\"}", outer_key, inner,
                             hex);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_load(doc, &b, NULL, outer_key, "doc", &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
}

/* The one check of whether a CRL may be taken: its issuer, its signature, and a thisUpdate
 * and nextUpdate in the form OpenSSL's CRL check reads (anything else is CRL_INVALID, whatever
 * path meets it first). */
static void test_crl_check_refuses_what_openssl_cannot_read(void **state)
{
    (void)state;
    struct syn_pki k;
    struct cvma_verdict v;
    time_t tu = 1, nu = 1;

    pki_make(&k, "P-256");
    X509_CRL *good = make_crl(k.root, k.root_key, NULL);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_crl_check(good, k.root, "Root CA CRL", &tu, &nu, &v), CVMA_OK);
    assert_true(tu > 0 && nu > tu);
    /* Another issuer's key, another issuer's name. */
    assert_int_equal(cvma_crl_check(good, k.signer, "Root CA CRL", &tu, &nu, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CRL_INVALID);
    assert_int_equal(tu, 0);
    cvma_verdict_cleanup(&v);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(odd_times); i++) {
        X509_CRL *odd =
                make_crl_this_update(k.root, k.root_key, odd_times[i].type, odd_times[i].when);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_crl_check(odd, k.root, "Root CA CRL", NULL, NULL, &v), CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CRL_INVALID);
        assert_true(tu_detail_has(&v, CVMA_R_CRL_INVALID, "thisUpdate"));
        cvma_verdict_cleanup(&v);
        X509_CRL_free(odd);
    }
    X509_CRL_free(good);
    pki_free(&k);
}

static void test_synthetic_chain_verifies_and_revocation_is_enforced(void **state)
{
    (void)state;
    struct syn_pki k;
    struct cvma_tdx_signed_json doc;
    struct cvma_verdict v;
    time_t now = time(NULL);

    pki_make(&k, "P-256");
    syn_doc(k.signer_key, "tcbInfo", "{\"id\":\"TDX\",\"x\":[1,2,3]}", &doc);

    X509_CRL *empty = make_crl(k.root, k.root_key, NULL);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, k.chain, k.root, empty, now, "doc", &v),
                     CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    cvma_verdict_cleanup(&v);

    /* Signed by another certificate the root issued (not the TCB Signing one): refused. */
    {
        EVP_PKEY *ok = EVP_EC_gen("P-256");
        X509 *other = make_cert("Some Other Intel Service", ok, k.root, k.root_key, false, 3);
        STACK_OF(X509) *oc = sk_X509_new_null();
        struct cvma_tdx_signed_json od;
        assert_non_null(ok);
        sk_X509_push(oc, other);
        sk_X509_push(oc, k.root);
        X509_up_ref(k.root);
        syn_doc(ok, "tcbInfo", "{\"id\":\"TDX\",\"x\":[1,2,3]}", &od);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_tdx_signed_json_verify(&od, oc, k.root, empty, now, "doc", &v),
                         CVMA_REJECTED);
        assert_true(tu_detail_has(&v, CVMA_R_CERT_CHAIN_INVALID, "not an SGX TCB Signing one"));
        cvma_verdict_cleanup(&v);
        cvma_tdx_signed_json_cleanup(&od);
        sk_X509_pop_free(oc, X509_free);
        EVP_PKEY_free(ok);
    }

    /* No CRL: verified, with CRL_NOT_CHECKED noted. */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, k.chain, k.root, NULL, now, "doc", &v),
                     CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_CRL_NOT_CHECKED));
    assert_false(cvma_verdict_has_error(&v));
    cvma_verdict_cleanup(&v);

    /* The signing certificate revoked by the root. */
    X509_CRL *revoking = make_crl(k.root, k.root_key, k.signer);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, k.chain, k.root, revoking, now, "doc", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_REVOKED);
    cvma_verdict_cleanup(&v);

    /* A CRL with the root's name but another key. */
    EVP_PKEY *other = EVP_EC_gen("P-256");
    X509_CRL *forged = make_crl(k.root, other, NULL);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, k.chain, k.root, forged, now, "doc", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CRL_INVALID);
    cvma_verdict_cleanup(&v);

    /* A chain that does not verify: signer issued by another key under the root's name. */
    X509 *rogue = make_cert("Intel SGX TCB Signing", k.signer_key, k.root, other, false, 3);
    STACK_OF(X509) *bad = sk_X509_new_null();
    sk_X509_push(bad, rogue);
    sk_X509_push(bad, k.root);
    X509_up_ref(k.root);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, bad, k.root, empty, now, "doc", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_CHAIN_INVALID);
    cvma_verdict_cleanup(&v);

    /* Certificates not yet valid at the verification time. */
    cvma_verdict_init(&v);
    assert_int_equal(
            cvma_tdx_signed_json_verify(&doc, k.chain, k.root, empty, now - 30L * 86400, "doc", &v),
            CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_NOT_YET_VALID);
    cvma_verdict_cleanup(&v);

    sk_X509_pop_free(bad, X509_free);
    X509_CRL_free(empty);
    X509_CRL_free(revoking);
    X509_CRL_free(forged);
    EVP_PKEY_free(other);
    cvma_tdx_signed_json_cleanup(&doc);
    pki_free(&k);
}

/*
 * The signing certificate of a TCB Info or QE Identity is a signing one: not a CA (a CA the root
 * issued signs certificates, not collateral), and allowed digitalSignature when it has a
 * keyUsage. Nothing else refuses either: OpenSSL's strict mode takes a CA certificate, or one
 * without digitalSignature, as a chain's leaf. And the Root CA CRL that lists the root itself
 * ends its chains: no other check reads it for the root.
 */
static void test_signing_certificate_shape_and_revoked_root(void **state)
{
    (void)state;
    struct syn_pki k;
    struct cvma_verdict v;
    time_t now = time(NULL);
    static const struct {
        const char *cn, *bc, *ku, *needle;
    } shapes[] = {
            {"Intel SGX TCB Signing", "critical,CA:TRUE",
             "critical,keyCertSign,cRLSign,digitalSignature",
             "is a CA certificate, not a signing one"},
            /* CA:TRUE without keyCertSign: OpenSSL's X509_check_ca calls it no CA */
            {"Intel SGX TCB Signing", "critical,CA:TRUE", "critical,digitalSignature",
             "is a CA certificate, not a signing one"},
            {"Intel SGX TCB Signing", "critical,CA:FALSE", "critical,nonRepudiation",
             "does not allow digitalSignature"},
            /* the name is compared whole, not searched for */
            {"Not an Intel SGX TCB Signing cert", "critical,CA:FALSE", "critical,digitalSignature",
             "'Not an Intel SGX TCB Signing cert', not an SGX TCB Signing one"},
    };

    pki_make(&k, "P-256");
    X509_CRL *empty = make_crl(k.root, k.root_key, NULL);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(shapes); i++) {
        X509 *signer = make_cert_ext(shapes[i].cn, k.signer_key, k.root, k.root_key, shapes[i].bc,
                                     shapes[i].ku, 5);
        STACK_OF(X509) *chain = sk_X509_new_null();
        struct cvma_tdx_signed_json doc;
        assert_non_null(chain);
        sk_X509_push(chain, signer);
        sk_X509_push(chain, k.root);
        X509_up_ref(k.root);
        syn_doc(k.signer_key, "tcbInfo", "{\"id\":\"TDX\",\"x\":[1,2,3]}", &doc);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_tdx_signed_json_verify(&doc, chain, k.root, empty, now, "doc", &v),
                         CVMA_REJECTED);
        if (!tu_detail_has(&v, CVMA_R_CERT_CHAIN_INVALID, shapes[i].needle)) {
            tu_dump(&v);
            fail_msg("signing certificate %s / %s: not refused for \"%s\"", shapes[i].bc,
                     shapes[i].ku, shapes[i].needle);
        }
        cvma_verdict_cleanup(&v);
        cvma_tdx_signed_json_cleanup(&doc);
        sk_X509_pop_free(chain, X509_free);
    }

    /* The root listed in its own CRL (its serial; the signing certificate's is not listed). */
    struct cvma_tdx_signed_json doc;
    syn_doc(k.signer_key, "tcbInfo", "{\"id\":\"TDX\",\"x\":[1,2,3]}", &doc);
    X509_CRL *root_revoked = make_crl(k.root, k.root_key, k.root);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, k.chain, k.root, empty, now, "doc", &v),
                     CVMA_OK);
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);
    assert_int_equal(
            cvma_tdx_signed_json_verify(&doc, k.chain, k.root, root_revoked, now, "doc", &v),
            CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_REVOKED);
    assert_true(tu_detail_has(&v, CVMA_R_CERT_REVOKED, "the root (serial"));
    cvma_verdict_cleanup(&v);

    /* A Root CA CRL signed by the root's key, but with ecdsa-with-SHA384: none of Intel's. */
    X509_CRL *sha384 = make_crl(k.root, k.root_key, NULL);
    assert_true(X509_CRL_sign(sha384, k.root_key, EVP_sha384()) > 0);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, k.chain, k.root, sha384, now, "doc", &v),
                     CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_CRL_INVALID,
                              "Root CA CRL: signed with ecdsa-with-SHA384, not ecdsa-with-SHA256"));
    cvma_verdict_cleanup(&v);
    X509_CRL_free(sha384);
    cvma_tdx_signed_json_cleanup(&doc);
    X509_CRL_free(root_revoked);
    X509_CRL_free(empty);
    pki_free(&k);
}

/* What a window hides still decides once the windows are set aside (the _any_time check, run
 * after the verifier's own collateral missed the time): a signature by another key, and a
 * revocation the Root CA CRL dates by the verification time, whatever the CRL's window; a
 * revocation dated after that time proves nothing then. */
static void test_any_time_checks_what_the_windows_hide(void **state)
{
    (void)state;
    struct syn_pki k;
    struct cvma_tdx_signed_json doc, forged_doc;
    struct cvma_verdict v;
    time_t now = time(NULL);
    EVP_PKEY *other = EVP_EC_gen("P-256");

    assert_non_null(other);
    pki_make(&k, "P-256");
    syn_doc(k.signer_key, "tcbInfo", "{\"id\":\"TDX\"}", &doc);
    syn_doc(other, "tcbInfo", "{\"id\":\"TDX\"}", &forged_doc);
    /* make_crl: thisUpdate (and the revocation) a day ago, nextUpdate in 30 days. */
    X509_CRL *empty = make_crl(k.root, k.root_key, NULL);
    X509_CRL *revoking = make_crl(k.root, k.root_key, k.signer);

    /* A month ago the certificates were not yet valid: that hid the forged signature. */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&forged_doc, k.chain, k.root, empty,
                                                 now - 30L * 86400, "doc", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_NOT_YET_VALID);
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify_any_time(&forged_doc, k.chain, k.root, empty,
                                                          now - 30L * 86400, "doc", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_SIGNATURE_INVALID);
    cvma_verdict_cleanup(&v);

    /* In 60 days the CRL is past its nextUpdate: that hid the revocation it dates before. */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify(&doc, k.chain, k.root, revoking, now + 60L * 86400,
                                                 "doc", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CRL_EXPIRED);
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify_any_time(&doc, k.chain, k.root, revoking,
                                                          now + 60L * 86400, "doc", &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_REVOKED);
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify_any_time(&doc, k.chain, k.root, empty,
                                                          now + 60L * 86400, "doc", &v),
                     CVMA_OK);
    cvma_verdict_cleanup(&v);

    /* Two days ago, before the revocation date: not revoked then. */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_signed_json_verify_any_time(&doc, k.chain, k.root, revoking,
                                                          now - 2L * 86400, "doc", &v),
                     CVMA_OK);
    assert_false(cvma_verdict_has_error(&v));
    cvma_verdict_cleanup(&v);

    X509_CRL_free(empty);
    X509_CRL_free(revoking);
    EVP_PKEY_free(other);
    cvma_tdx_signed_json_cleanup(&doc);
    cvma_tdx_signed_json_cleanup(&forged_doc);
    pki_free(&k);
}

static void test_signing_key_must_be_p256(void **state)
{
    (void)state;
    struct syn_pki k;
    struct cvma_tdx_signed_json doc;
    struct cvma_verdict v;

    pki_make(&k, "P-384");
    /* Signed with P-256 by someone else: the key type is refused before the signature. */
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    syn_doc(p256, "tcbInfo", "{\"id\":\"TDX\"}", &doc);
    cvma_verdict_init(&v);
    assert_int_equal(
            cvma_tdx_signed_json_verify(&doc, k.chain, k.root, NULL, time(NULL), "doc", &v),
            CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_KEY_UNSUPPORTED);
    cvma_verdict_cleanup(&v);
    EVP_PKEY_free(p256);
    cvma_tdx_signed_json_cleanup(&doc);
    pki_free(&k);
}

/* ---------------------------------------------------------------------------------------- */
/* Synthetic TCB Info / QE Identity                                                         */
/* ---------------------------------------------------------------------------------------- */

struct sb {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...) CVMA_PRINTF(2, 3);

static void sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    if (b->cap - b->len < 4096) {
        b->cap = b->cap * 2 + 8192;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < b->cap - b->len);
    b->len += (size_t)n;
}

static void sb_comps(struct sb *b, const uint8_t c[16])
{
    sb_add(b, "[");
    for (int i = 0; i < 16; i++) {
        sb_add(b, "%s{\"svn\":%u%s}", i ? "," : "", c[i], i == 0 ? ",\"category\":\"BIOS\"" : "");
    }
    sb_add(b, "]");
}

struct syn_level {
    uint8_t sgx; /* SVN of SGX components 1..8 (9..16 are 0) */
    uint16_t pcesvn;
    const char *date;
    const char *status;
    const char *adv; /* NULL: no advisoryIDs */
};

struct syn_mlevel {
    uint8_t isvsvn;
    const char *date;
    const char *status;
    const char *adv;
};

/* TDX components of every synthetic level: [0]=5 module SVN, [1]=0, [2]=5 microcode. */
static const uint8_t syn_tdx[16] = {5, 0, 5};

/* Levels in ascending order in the JSON, on purpose: the parser must sort them. */
static const struct syn_level syn_levels[] = {
        {1, 5, "2018-01-04T00:00:00Z", "Revoked", "INTEL-SA-00003"},
        {3, 13, "2024-01-01T00:00:00Z", "OutOfDate", "INTEL-SA-00002"},
        {5, 13, "2024-11-13T00:00:00Z", "UpToDate", NULL},
        {4, 13, "2024-06-01T00:00:00Z", "ConfigurationNeeded", "INTEL-SA-00001"},
};

static const struct syn_mlevel syn_module_levels[] = {
        {2, "2023-01-01T00:00:00Z", "Revoked", "INTEL-SA-000R"},
        {6, "2024-11-13T00:00:00Z", "UpToDate", NULL},
        {4, "2024-03-13T00:00:00Z", "OutOfDate", "INTEL-SA-000M"},
};

static char *syn_tcb_info_json(void)
{
    struct sb b = {NULL, 0, 0};
    sb_add(&b,
           "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
           "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00806F050000\","
           "\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":18,"
           "\"tdxModule\":{\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
           "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tdxModuleIdentities\":[",
           0);
    sb_add(&b,
           "{\"id\":\"tdx_01\",\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
           "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[",
           0);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(syn_module_levels); i++) {
        const struct syn_mlevel *m = &syn_module_levels[i];
        sb_add(&b, "%s{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":\"%s\",\"tcbStatus\":\"%s\"",
               i ? "," : "", m->isvsvn, m->date, m->status);
        if (m->adv) {
            sb_add(&b, ",\"advisoryIDs\":[\"%s\"]", m->adv);
        }
        sb_add(&b, "}");
    }
    sb_add(&b, "]}],\"tcbLevels\":[");
    for (size_t i = 0; i < CVMA_ARRAY_LEN(syn_levels); i++) {
        const struct syn_level *l = &syn_levels[i];
        uint8_t sgx[16] = {0};
        memset(sgx, l->sgx, 8);
        sb_add(&b, "%s{\"tcb\":{\"sgxtcbcomponents\":", i ? "," : "");
        sb_comps(&b, sgx);
        sb_add(&b, ",\"pcesvn\":%u,\"tdxtcbcomponents\":", l->pcesvn);
        sb_comps(&b, syn_tdx);
        sb_add(&b, "},\"tcbDate\":\"%s\",\"tcbStatus\":\"%s\"", l->date, l->status);
        if (l->adv) {
            sb_add(&b, ",\"advisoryIDs\":[\"%s\"]", l->adv);
        }
        sb_add(&b, "}");
    }
    sb_add(&b, "]}");
    return b.p;
}

#define Z48 "000000000000000000000000000000000000000000000000"
#define Z96 Z48 Z48

#define QE_MRSIGNER "DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5"

static char *syn_qe_identity_json(void)
{
    struct sb b = {NULL, 0, 0};
    sb_add(&b, "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"2025-01-01T00:00:00Z\","
               "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"tcbEvaluationDataNumber\":18,"
               "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
               "\"attributes\":\"11000000000000000000000000000000\","
               "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
               "\"mrsigner\":\"" QE_MRSIGNER "\",\"isvprodid\":2,\"tcbLevels\":["
               "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-11-13T00:00:00Z\","
               "\"tcbStatus\":\"UpToDate\"},"
               "{\"tcb\":{\"isvsvn\":6},\"tcbDate\":\"2024-03-13T00:00:00Z\","
               "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-000Q\"]},"
               "{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2020-01-01T00:00:00Z\","
               "\"tcbStatus\":\"Revoked\"}]}");
    return b.p;
}

static enum cvma_status parse_tcb(const char *json, struct cvma_tdx_tcb_info *ti,
                                  struct cvma_verdict *v)
{
    return cvma_tdx_tcb_info_parse((const uint8_t *)json, strlen(json), ti, v);
}

/* Replaces the first `from` in s with `to` (into a new string). */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    if (at == NULL) {
        fail_msg("'%s' not in the synthetic JSON", from);
    }
    size_t n = strlen(s) - strlen(from) + strlen(to);
    char *r = malloc(n + 1);
    assert_non_null(r);
    memcpy(r, s, (size_t)(at - s));
    memcpy(r + (at - s), to, strlen(to));
    memcpy(r + (at - s) + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
    return r;
}

static void test_synthetic_tcb_info_parses_and_sorts_as_qvl(void **state)
{
    (void)state;
    char *j = syn_tcb_info_json();
    struct cvma_tdx_tcb_info ti;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(parse_tcb(j, &ti, &v), CVMA_OK);
    assert_int_equal(ti.n_levels, 4);
    assert_string_equal(ti.levels[0].status, "UpToDate");
    assert_string_equal(ti.levels[1].status, "ConfigurationNeeded");
    assert_string_equal(ti.levels[2].status, "OutOfDate");
    assert_string_equal(ti.levels[3].status, "Revoked");
    assert_int_equal(ti.modules[0].levels[0].isvsvn, 6);
    assert_int_equal(ti.modules[0].levels[2].isvsvn, 2);
    cvma_tdx_tcb_info_cleanup(&ti);
    cvma_verdict_cleanup(&v);
    free(j);
}

/* Equal SGX components and PCESVN: ordered by the TDX components; equal PCESVN is needed for
 * that (otherwise by PCESVN). */
static void test_tcb_level_order_ties_break_on_pcesvn_then_tdx_components(void **state)
{
    (void)state;
    char *j = syn_tcb_info_json();
    /* Make the OutOfDate level's SGX components equal to the UpToDate level's. */
    char *j2 = replace(j,
                       "{\"svn\":3,\"category\":\"BIOS\"},{\"svn\":3},{\"svn\":3},{\"svn\":3},"
                       "{\"svn\":3},{\"svn\":3},{\"svn\":3},{\"svn\":3}",
                       "{\"svn\":5,\"category\":\"BIOS\"},{\"svn\":5},{\"svn\":5},{\"svn\":5},"
                       "{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5}");
    struct cvma_tdx_tcb_info ti;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    /* Same SGX, same PCESVN 13, same TDX components: a duplicate, refused as QVL does. */
    assert_int_equal(parse_tcb(j2, &ti, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "same SGX components"));
    cvma_verdict_cleanup(&v);
    /* Lower PCESVN for it: it now sorts right after the UpToDate level. */
    char *j3 =
            replace(j2, "\"pcesvn\":13,\"tdxtcbcomponents\"", "\"pcesvn\":12,\"tdxtcbcomponents\"");
    cvma_verdict_init(&v);
    assert_int_equal(parse_tcb(j3, &ti, &v), CVMA_OK);
    assert_string_equal(ti.levels[0].status, "UpToDate");
    assert_string_equal(ti.levels[1].status, "OutOfDate");
    assert_int_equal(ti.levels[1].pcesvn, 12);
    cvma_tdx_tcb_info_cleanup(&ti);
    cvma_verdict_cleanup(&v);
    free(j3);
    free(j2);
    free(j);
}

static void test_tcb_info_parser_refuses_every_malformed_field(void **state)
{
    (void)state;
    static const char *const edits[][2] = {
            {"\"id\":\"TDX\"", "\"id\":\"SGX\""},
            {"\"id\":\"TDX\"", "\"id\":3"},
            {"\"version\":3", "\"version\":2"},
            {"\"version\":3", "\"version\":\"3\""},
            {"\"tcbType\":0", "\"tcbType\":1"},
            {"\"fmspc\":\"00806F050000\"", "\"fmspc\":\"00806F0500\""},
            {"\"fmspc\":\"00806F050000\"", "\"fmspc\":\"00806F05000G\""},
            {"\"pceId\":\"0000\"", "\"pceId\":0"},
            {"\"issueDate\":\"2025-01-01T00:00:00Z\"", "\"issueDate\":\"2025-01-01\""},
            {"\"nextUpdate\":\"2025-02-01T00:00:00Z\"", "\"nextUpdate\":\"2024-02-01T00:00:00Z\""},
            {"\"nextUpdate\":\"2025-02-01T00:00:00Z\"", "\"nextUpdate\":\"2025-02-30T00:00:00Z\""},
            {"\"tcbEvaluationDataNumber\":18", "\"tcbEvaluationDataNumber\":-1"},
            {"\"tdxModule\":{", "\"tdxModuleX\":{"},
            {"\"attributesMask\":\"FFFFFFFFFFFFFFFF\"}", "\"attributesMask\":\"FFFFFFFFFFFFFF\"}"},
            {"\"id\":\"tdx_01\"", "\"id\":\"\""},
            {"\"tcb\":{\"isvsvn\":2}", "\"tcb\":{\"isvsvn\":256}"},
            {"\"tcb\":{\"isvsvn\":2}", "\"tcb\":{\"isvsvn\":6}"}, /* duplicate module level */
            {"\"tcbStatus\":\"Revoked\"", "\"tcbStatus\":\"Fine\""},
            {"\"tcbStatus\":\"OutOfDate\"", "\"tcbStatus\":\"TDRelaunchAdvised\""},
            {"{\"svn\":1,\"category\":\"BIOS\"}", "{\"svn\":256,\"category\":\"BIOS\"}"},
            {"{\"svn\":1,\"category\":\"BIOS\"}", "{\"svn\":1.0,\"category\":\"BIOS\"}"},
            {"{\"svn\":1,\"category\":\"BIOS\"}", "{\"svn\":1,\"category\":7}"},
            {"{\"svn\":1,\"category\":\"BIOS\"},", ""}, /* 15 components */
            {"\"pcesvn\":5", "\"pcesvn\":65536"},
            {"\"tdxtcbcomponents\"", "\"tdxcomponents\""},
            {"\"advisoryIDs\":[\"INTEL-SA-00003\"]", "\"advisoryIDs\":\"INTEL-SA-00003\""},
            {"\"advisoryIDs\":[\"INTEL-SA-00003\"]", "\"advisoryIDs\":[3]"},
            {"\"tcbDate\":\"2018-01-04T00:00:00Z\"", "\"tcbDate\":null"},
            {"\"tcbLevels\":[{\"tcb\":{\"sgx", "\"tcbLevels\":[],\"x\":[{\"tcb\":{\"sgx"},
            {"\"tdxModuleIdentities\":[", "\"tdxModuleIdentities\":{},\"x\":["},
            {"\"version\":3,", "\"version\":3,\"version\":3,"}, /* duplicate key */
            {"\"issueDate\"", "\"issue\\u0000Date\":1,\"issueDate\""},
    };
    char *j = syn_tcb_info_json();
    for (size_t i = 0; i < CVMA_ARRAY_LEN(edits); i++) {
        char *e = replace(j, edits[i][0], edits[i][1]);
        struct cvma_tdx_tcb_info ti;
        struct cvma_verdict v;
        cvma_verdict_init(&v);
        enum cvma_status st = parse_tcb(e, &ti, &v);
        if (st != CVMA_REJECTED || cvma_verdict_first_error(&v) != CVMA_R_COLLATERAL_INVALID) {
            fail_msg("edit %zu (%s -> %s) accepted", i, edits[i][0], edits[i][1]);
        }
        assert_null(ti.levels); /* nothing left allocated */
        cvma_verdict_cleanup(&v);
        free(e);
    }
    free(j);
    /* A second module identity with the same id (any case). */
    char *j2 = syn_tcb_info_json();
    char *dup = replace(j2, "\"tdxModuleIdentities\":[",
                        "\"tdxModuleIdentities\":[{\"id\":\"TDX_01\",\"mrsigner\":\"" Z96 "\","
                        "\"attributes\":\"0000000000000000\",\"attributesMask\":"
                        "\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":1},"
                        "\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]},");
    struct cvma_tdx_tcb_info ti;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(parse_tcb(dup, &ti, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "have the id"));
    cvma_verdict_cleanup(&v);
    free(dup);
    free(j2);
}

/* A well-formed RFC 3339 date before 1970 is refused for its range, and said so: not as a
 * malformed date-time. */
static void test_tcb_info_date_before_1970_is_refused_for_its_range(void **state)
{
    (void)state;
    char *j = syn_tcb_info_json();
    char *e = replace(j, "\"issueDate\":\"2025-01-01T00:00:00Z\"",
                      "\"issueDate\":\"1969-01-01T00:00:00Z\"");
    struct cvma_tdx_tcb_info ti;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_int_equal(parse_tcb(e, &ti, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID,
                              "issueDate 1969-01-01T00:00:00Z is outside the times read "
                              "(1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z)"));
    assert_false(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "not an RFC 3339"));
    cvma_verdict_cleanup(&v);
    free(e);
    free(j);
}

static void test_qe_identity_parser_refuses_malformed_fields(void **state)
{
    (void)state;
    static const char *const edits[][2] = {
            {"\"id\":\"TD_QE\"", "\"id\":\"QE\""},
            {"\"version\":2", "\"version\":3"},
            {"\"miscselect\":\"00000000\"", "\"miscselect\":\"000000\""},
            {"\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\"",
             "\"attributesMask\":\"FBFFFFFFFFFFFFFF\""},
            {"\"mrsigner\":\"" QE_MRSIGNER "\"", "\"mrsigner\":\"DC9E\""},
            {"\"isvprodid\":2", "\"isvprodid\":70000"},
            {"\"tcb\":{\"isvsvn\":8}", "\"tcb\":{}"},
            {"\"tcbStatus\":\"UpToDate\"", "\"tcbStatus\":\"uptodate\""},
            {"\"tcbLevels\":[", "\"tcbLevels\":[],\"x\":["},
    };
    char *j = syn_qe_identity_json();
    struct cvma_tdx_qe_identity qi;
    struct cvma_verdict v;

    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_qe_identity_parse((const uint8_t *)j, strlen(j), &qi, &v), CVMA_OK);
    assert_int_equal(qi.n_levels, 3);
    assert_int_equal(qi.levels[0].isvsvn, 8); /* highest first */
    assert_int_equal(qi.attributes[0], 0x11);
    cvma_tdx_qe_identity_cleanup(&qi);
    cvma_verdict_cleanup(&v);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(edits); i++) {
        char *e = replace(j, edits[i][0], edits[i][1]);
        cvma_verdict_init(&v);
        if (cvma_tdx_qe_identity_parse((const uint8_t *)e, strlen(e), &qi, &v) != CVMA_REJECTED ||
            cvma_verdict_first_error(&v) != CVMA_R_COLLATERAL_INVALID) {
            fail_msg("edit %zu (%s -> %s) accepted", i, edits[i][0], edits[i][1]);
        }
        cvma_verdict_cleanup(&v);
        free(e);
    }
    /* Levels in any order are held highest isvsvn first (QVL); two with one isvsvn are refused. */
    {
        static const char lv8[] = "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-11-13T00:00:00Z\","
                                  "\"tcbStatus\":\"UpToDate\"},";
        static const char lv2[] = ",{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2020-01-01T00:00:00Z\","
                                  "\"tcbStatus\":\"Revoked\"}";
        char *a = replace(j, lv8, ""), *b = replace(a, lv2, "");
        char *asc = replace(b, "\"tcbLevels\":[",
                            "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":2},"
                            "\"tcbDate\":\"2020-01-01T00:00:00Z\","
                            "\"tcbStatus\":\"Revoked\"},");
        char *asc2 =
                replace(asc, "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-000Q\"]}",
                        "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-000Q\"]},"
                        "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-11-13T00:00:00Z\","
                        "\"tcbStatus\":\"UpToDate\"}");
        char *dup = replace(asc2, "\"isvsvn\":2}", "\"isvsvn\":6}");
        cvma_verdict_init(&v);
        assert_int_equal(cvma_tdx_qe_identity_parse((const uint8_t *)asc2, strlen(asc2), &qi, &v),
                         CVMA_OK);
        assert_int_equal(qi.n_levels, 3);
        assert_int_equal(qi.levels[0].isvsvn, 8);
        assert_string_equal(qi.levels[0].status, "UpToDate");
        assert_int_equal(qi.levels[1].isvsvn, 6);
        assert_int_equal(qi.levels[2].isvsvn, 2);
        cvma_tdx_qe_identity_cleanup(&qi);
        cvma_verdict_cleanup(&v);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_tdx_qe_identity_parse((const uint8_t *)dup, strlen(dup), &qi, &v),
                         CVMA_REJECTED);
        assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "two levels with isvsvn 6"));
        cvma_verdict_cleanup(&v);
        free(dup);
        free(asc2);
        free(asc);
        free(b);
        free(a);
    }
    /* No mrsigner: refused (compared only when there, it would let a QE of any signer in). */
    char *e = replace(j, "\"mrsigner\":\"" QE_MRSIGNER "\",", "");
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_qe_identity_parse((const uint8_t *)e, strlen(e), &qi, &v),
                     CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_INVALID, "mrsigner"));
    cvma_tdx_qe_identity_cleanup(&qi);
    cvma_verdict_cleanup(&v);
    free(e);
    free(j);
}

/* ---------------------------------------------------------------------------------------- */
/* TCB evaluation                                                                           */
/* ---------------------------------------------------------------------------------------- */

struct ev {
    struct cvma_tdx_collateral c;
    struct cvma_tdx_quote q;
    struct cvma_pck_ext pck;
    struct cvma_tdx_tcb_result r;
    struct cvma_verdict v;
};

static void qe_report_intel(struct cvma_sgx_report *qe, uint16_t isvsvn)
{
    /* The TD QE of the real quotes: attributes 15.. e7.., MRSIGNER dc9e2a7c..., product 2. */
    tu_hex("1500000000000000e700000000000000", qe->attributes, 16);
    tu_hex("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5", qe->mr_signer, 32);
    qe->misc_select = 0;
    qe->isv_prod_id = 2;
    qe->isv_svn = isvsvn;
}

static struct ev *ev_new(void)
{
    struct ev *e = calloc(1, sizeof *e);
    assert_non_null(e);
    cvma_verdict_init(&e->v);
    return e;
}

static void ev_free(struct ev *e)
{
    cvma_tdx_tcb_result_cleanup(&e->r);
    cvma_tdx_collateral_cleanup(&e->c);
    cvma_verdict_cleanup(&e->v);
    free(e);
}

/* Synthetic collateral, platform FMSPC 00806f050000, and a PCK/quote meeting the UpToDate
 * level with module TDX_01 isvsvn 6 and QE ISVSVN 8. */
static struct ev *ev_synthetic(void)
{
    struct ev *e = ev_new();
    char *tj = syn_tcb_info_json(), *qj = syn_qe_identity_json();
    assert_int_equal(parse_tcb(tj, &e->c.tcb_info, &e->v), CVMA_OK);
    assert_int_equal(
            cvma_tdx_qe_identity_parse((const uint8_t *)qj, strlen(qj), &e->c.qe_identity, &e->v),
            CVMA_OK);
    free(tj);
    free(qj);
    tu_hex("00806f050000", e->pck.fmspc, 6);
    memset(e->pck.sgx_tcb_comp, 5, 8);
    e->pck.pcesvn = 13;
    e->q.version = 4;
    e->q.body.tee_tcb_svn[0] = 6;
    e->q.body.tee_tcb_svn[1] = 1;
    e->q.body.tee_tcb_svn[2] = 5;
    qe_report_intel(&e->q.qe_report, 8);
    return e;
}

static void expect_status(struct ev *e, const char *status)
{
    enum cvma_status st = cvma_tdx_tcb_evaluate(&e->c, &e->q, &e->pck, &e->r, &e->v);
    if (st != CVMA_OK || strcmp(e->r.status, status) != 0) {
        tu_dump(&e->v);
        fail_msg("expected %s, got status %d / \"%s\"", status, (int)st, e->r.status);
    }
    assert_true(e->r.level_found);
    assert_int_equal(e->v.n_reasons, 0);
}

static void expect_reason(struct ev *e, enum cvma_reason code, const char *needle)
{
    enum cvma_status st = cvma_tdx_tcb_evaluate(&e->c, &e->q, &e->pck, &e->r, &e->v);
    if (st != CVMA_REJECTED || cvma_verdict_first_error(&e->v) != code ||
        (needle != NULL && !tu_detail_has(&e->v, code, needle))) {
        tu_dump(&e->v);
        fail_msg("expected %s (\"%s\"), got status %d", cvma_reason_name(code),
                 needle ? needle : "", (int)st);
    }
    assert_false(e->r.level_found);
    assert_string_equal(e->r.status, "");
}

static bool has_adv(const struct cvma_tdx_tcb_result *r, const char *id)
{
    for (size_t i = 0; i < r->advisory_ids.n; i++) {
        if (strcmp(r->advisory_ids.ids[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/* v4-uptodate-dcapqvl (MANIFEST.md): UpToDate, no advisories, module TDX_01 isvsvn 6. */
static void test_tcb_uptodate_sample_is_uptodate(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_uptodate();
    struct ev *e = ev_new();
    load_ok(d, &e->c);
    tu_hex("b0c06f000000", e->pck.fmspc, 6);
    tu_hex("03030202040100050000000000000000", e->pck.sgx_tcb_comp, 16);
    e->pck.pcesvn = 11;
    e->q.version = 4;
    tu_hex("06010300000000000000000000000000", e->q.body.tee_tcb_svn, 16);
    qe_report_intel(&e->q.qe_report, 6);
    expect_status(e, "UpToDate");
    assert_string_equal(e->r.platform_status, "UpToDate");
    assert_string_equal(e->r.module_status, "UpToDate");
    assert_string_equal(e->r.qe_status, "UpToDate");
    assert_string_equal(e->r.tcb_date, "2024-03-13T00:00:00Z");
    assert_int_equal(e->r.advisory_ids.n, 0);
    ev_free(e);
    tu_rmtree(d);
    free(d);
}

/* v4-spr-gotdxguest: the PCK's SGX components (3,3,2,2,2,1,0,2) are below every level. */
static void test_tcb_spr_sample_has_no_level_and_names_the_component(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    char *d = dir_spr();
    struct ev *e = ev_new();
    load_ok(d, &e->c);
    tu_hex("50806f000000", e->pck.fmspc, 6);
    tu_hex("03030202020100020000000000000000", e->pck.sgx_tcb_comp, 16);
    e->pck.pcesvn = 11;
    e->q.version = 4;
    tu_hex("03000400000000000000000000000000", e->q.body.tee_tcb_svn, 16);
    qe_report_intel(&e->q.qe_report, 4);
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                  "PCK SGX TCB component 1 = 3 < 5 required by every TCB level");
    ev_free(e);
    tu_rmtree(d);
    free(d);
}

/* v5-gotdxguest with its own TCB Info (and the 2023 TD QE Identity, as go-tdx-guest pairs
 * them): UpToDate, module TDX_01 isvsvn 11 (TD report 1.5: both SVN vectors evaluated). */
static void test_tcb_v5_sample_is_uptodate_with_module_tdx01(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct ev *e = ev_new();
    struct cvma_buf b;
    char *p = tu_vec("tdx/v5-gotdxguest/tcb_info_response.json");
    tu_read(p, &b);
    assert_int_equal(
            cvma_tdx_signed_json_load(&e->c.tcb_info_doc, &b, NULL, "tcbInfo", "TCB Info", &e->v),
            CVMA_OK);
    assert_int_equal(cvma_tdx_tcb_info_parse(e->c.tcb_info_doc.signed_part.p,
                                             e->c.tcb_info_doc.signed_part.len, &e->c.tcb_info,
                                             &e->v),
                     CVMA_OK);
    free(p);
    p = tu_vec("tdx/v4-spr-gotdxguest/qe_identity_response.json");
    tu_read(p, &b);
    assert_int_equal(cvma_tdx_signed_json_load(&e->c.qe_identity_doc, &b, NULL, "enclaveIdentity",
                                               "QE Identity", &e->v),
                     CVMA_OK);
    assert_int_equal(cvma_tdx_qe_identity_parse(e->c.qe_identity_doc.signed_part.p,
                                                e->c.qe_identity_doc.signed_part.len,
                                                &e->c.qe_identity, &e->v),
                     CVMA_OK);
    free(p);
    tu_hex("90c06f000000", e->pck.fmspc, 6);
    tu_hex("04040202040100050000000000000000", e->pck.sgx_tcb_comp, 16);
    e->pck.pcesvn = 13;
    e->q.version = 5;
    e->q.body_type = 3;
    e->q.body.is_v15 = true;
    tu_hex("0b010400000000000000000000000000", e->q.body.tee_tcb_svn, 16);
    tu_hex("0d010400000000000000000000000000", e->q.body.tee_tcb_svn2, 16);
    qe_report_intel(&e->q.qe_report, 7);
    expect_status(e, "UpToDate");
    assert_string_equal(e->r.platform_status, "UpToDate");
    assert_string_equal(e->r.module_status, "UpToDate");
    ev_free(e);
}

static void test_tcb_platform_levels_map_to_their_status(void **state)
{
    (void)state;
    static const struct {
        uint8_t sgx;
        const char *status, *adv;
    } cases[] = {
            {5, "UpToDate", NULL},
            {9, "UpToDate", NULL},
            {4, "ConfigurationNeeded", "INTEL-SA-00001"},
            {3, "OutOfDate", "INTEL-SA-00002"},
            {2, "Revoked", "INTEL-SA-00003"},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct ev *e = ev_synthetic();
        memset(e->pck.sgx_tcb_comp, cases[i].sgx, 8);
        expect_status(e, cases[i].status);
        assert_string_equal(e->r.platform_status, cases[i].status);
        if (cases[i].adv != NULL) {
            assert_true(has_adv(&e->r, cases[i].adv));
        } else {
            assert_int_equal(e->r.advisory_ids.n, 0);
        }
        ev_free(e);
    }
}

static void test_tcb_no_level_names_the_component_short_of_every_level(void **state)
{
    (void)state;
    struct ev *e = ev_synthetic();
    memset(e->pck.sgx_tcb_comp, 0, 8);
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                  "PCK SGX TCB component 1 = 0 < 1 required by every TCB level");
    ev_free(e);
    e = ev_synthetic();
    e->pck.pcesvn = 4;
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND, "PCK PCESVN = 4 < 5 required by every");
    ev_free(e);
    e = ev_synthetic();
    memset(e->pck.sgx_tcb_comp, 2, 8);
    e->pck.sgx_tcb_comp[3] = 0;
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                  "PCK SGX TCB component 4 = 0 < 1 required by every TCB level");
    ev_free(e);
    /* Mixed: the Revoked level made {9,1,1,...} with PCESVN 14 sorts first; a PCK
     * {9,2,2,...} PCESVN 13 meets every per-component minimum yet no level in full: the
     * detail names the shortfall against the lowest level. */
    char *tj = syn_tcb_info_json();
    char *t1 =
            replace(tj, "[{\"svn\":1,\"category\":\"BIOS\"}", "[{\"svn\":9,\"category\":\"BIOS\"}");
    char *t2 = replace(t1, "\"pcesvn\":5,", "\"pcesvn\":14,");
    e = ev_synthetic();
    cvma_tdx_tcb_info_cleanup(&e->c.tcb_info);
    assert_int_equal(parse_tcb(t2, &e->c.tcb_info, &e->v), CVMA_OK);
    assert_string_equal(e->c.tcb_info.levels[0].status, "Revoked");
    memset(e->pck.sgx_tcb_comp, 2, 8);
    e->pck.sgx_tcb_comp[0] = 9;
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                  "against the lowest (tcbDate 2024-01-01T00:00:00Z, OutOfDate): PCK SGX TCB "
                  "component 2 = 2 < 3");
    ev_free(e);
    free(t2);
    free(t1);
    free(tj);
}

static void test_tcb_module_major_zero_compares_every_tdx_component(void **state)
{
    (void)state;
    struct ev *e = ev_synthetic();
    e->q.body.tee_tcb_svn[0] = 4; /* < 5 of every level */
    e->q.body.tee_tcb_svn[1] = 0;
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                  "TEE_TCB_SVN[0] (TDX TCB component 1) = 4 < 5 required by every TCB level");
    ev_free(e);
    e = ev_synthetic();
    e->q.body.tee_tcb_svn[0] = 6;
    e->q.body.tee_tcb_svn[1] = 0;
    expect_status(e, "UpToDate");
    assert_string_equal(e->r.module_status, "");
    ev_free(e);
    e = ev_synthetic();
    e->q.body.tee_tcb_svn[2] = 4; /* microcode component below every level */
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND, "TEE_TCB_SVN[2] (TDX TCB component 3) = 4");
    ev_free(e);
}

static void test_tcb_module_and_qe_statuses_converge(void **state)
{
    (void)state;
    struct ev *e;

    /* Module OutOfDate, platform UpToDate -> OutOfDate (GTG would say UpToDate). */
    e = ev_synthetic();
    e->q.body.tee_tcb_svn[0] = 4;
    expect_status(e, "OutOfDate");
    assert_string_equal(e->r.platform_status, "UpToDate");
    assert_string_equal(e->r.module_status, "OutOfDate");
    assert_true(has_adv(&e->r, "INTEL-SA-000M"));
    assert_string_equal(e->r.tcb_date, "2024-03-13T00:00:00Z"); /* the earliest */
    ev_free(e);

    /* Module Revoked -> Revoked. */
    e = ev_synthetic();
    e->q.body.tee_tcb_svn[0] = 2;
    expect_status(e, "Revoked");
    ev_free(e);

    /* Module below its lowest level. */
    e = ev_synthetic();
    e->q.body.tee_tcb_svn[0] = 1;
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                  "TEE_TCB_SVN[0] (TDX module SVN) = 1 < 2, the lowest isvsvn of tdx_01");
    ev_free(e);

    /* Platform ConfigurationNeeded + QE OutOfDate -> OutOfDateConfigurationNeeded. */
    e = ev_synthetic();
    memset(e->pck.sgx_tcb_comp, 4, 8);
    e->q.qe_report.isv_svn = 7;
    expect_status(e, "OutOfDateConfigurationNeeded");
    assert_string_equal(e->r.qe_status, "OutOfDate");
    assert_true(has_adv(&e->r, "INTEL-SA-00001"));
    assert_true(has_adv(&e->r, "INTEL-SA-000Q"));
    ev_free(e);

    /* Platform OutOfDate + module OutOfDate: advisories merged without duplicates. */
    e = ev_synthetic();
    memset(e->pck.sgx_tcb_comp, 3, 8);
    e->q.body.tee_tcb_svn[0] = 4;
    e->q.qe_report.isv_svn = 6;
    expect_status(e, "OutOfDate");
    assert_int_equal(e->r.advisory_ids.n, 3);
    assert_string_equal(e->r.advisory_ids.ids[0], "INTEL-SA-00002"); /* platform, QE, module */
    assert_string_equal(e->r.advisory_ids.ids[1], "INTEL-SA-000Q");
    assert_string_equal(e->r.advisory_ids.ids[2], "INTEL-SA-000M");
    ev_free(e);

    /* QE Revoked -> Revoked. */
    e = ev_synthetic();
    e->q.qe_report.isv_svn = 3;
    expect_status(e, "Revoked");
    ev_free(e);

    /* A QE level of ConfigurationNeeded or OutOfDateConfigurationNeeded is "ISVSVN out of
     * date" to QVL (EnclaveReportVerifier): an UpToDate platform converges to OutOfDate, not
     * to UpToDate. The QE's own status is kept as the QE Identity gives it. */
    static const char *const qe_ood[] = {"ConfigurationNeeded", "OutOfDateConfigurationNeeded"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(qe_ood); i++) {
        e = ev_synthetic();
        for (size_t k = 0; k < e->c.qe_identity.n_levels; k++) {
            if (strcmp(e->c.qe_identity.levels[k].status, "UpToDate") == 0) {
                snprintf(e->c.qe_identity.levels[k].status,
                         sizeof e->c.qe_identity.levels[k].status, "%s", qe_ood[i]);
            }
        }
        expect_status(e, "OutOfDate");
        assert_string_equal(e->r.platform_status, "UpToDate");
        assert_string_equal(e->r.qe_status, qe_ood[i]);
        ev_free(e);
    }

    /* QE below every level. */
    e = ev_synthetic();
    e->q.qe_report.isv_svn = 1;
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND, "QE ISVSVN 1 is below every");
    ev_free(e);
}

static void test_tcb_td15_relaunch_is_advised(void **state)
{
    (void)state;
    struct ev *e;

    /* Launched on an out-of-date module, now up to date. */
    e = ev_synthetic();
    e->q.body.is_v15 = true;
    e->q.body.tee_tcb_svn[0] = 4;
    memcpy(e->q.body.tee_tcb_svn2, e->q.body.tee_tcb_svn, 16);
    e->q.body.tee_tcb_svn2[0] = 6;
    expect_status(e, "TDRelaunchAdvised");
    assert_string_equal(e->r.module_status, "OutOfDate"); /* the launch values */
    ev_free(e);

    /* With a configuration-needed platform. */
    e = ev_synthetic();
    memset(e->pck.sgx_tcb_comp, 4, 8);
    e->q.body.is_v15 = true;
    e->q.body.tee_tcb_svn[0] = 4;
    memcpy(e->q.body.tee_tcb_svn2, e->q.body.tee_tcb_svn, 16);
    e->q.body.tee_tcb_svn2[0] = 6;
    expect_status(e, "TDRelaunchAdvisedConfigurationNeeded");
    ev_free(e);

    /* Launch up to date: the launch status stands whatever the current one. */
    e = ev_synthetic();
    e->q.body.is_v15 = true;
    memcpy(e->q.body.tee_tcb_svn2, e->q.body.tee_tcb_svn, 16);
    e->q.body.tee_tcb_svn2[0] = 9;
    expect_status(e, "UpToDate");
    ev_free(e);

    /* Current also out of date: no relaunch advice. */
    e = ev_synthetic();
    e->q.body.is_v15 = true;
    e->q.body.tee_tcb_svn[0] = 4;
    memcpy(e->q.body.tee_tcb_svn2, e->q.body.tee_tcb_svn, 16);
    expect_status(e, "OutOfDate");
    ev_free(e);

    /* No level for TEE_TCB_SVN2: refused, as QVL refuses it. */
    e = ev_synthetic();
    e->q.body.is_v15 = true;
    memcpy(e->q.body.tee_tcb_svn2, e->q.body.tee_tcb_svn, 16);
    e->q.body.tee_tcb_svn2[0] = 1;
    expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND, "TEE_TCB_SVN2[0]");
    ev_free(e);
}

static void test_tcb_fmspc_and_pceid_must_match(void **state)
{
    (void)state;
    struct ev *e = ev_synthetic();
    e->pck.fmspc[5] = 1;
    expect_reason(e, CVMA_R_TDX_FMSPC_MISMATCH, "FMSPC 00806f050001");
    ev_free(e);
    e = ev_synthetic();
    e->pck.pceid[0] = 1;
    expect_reason(e, CVMA_R_TDX_FMSPC_MISMATCH, "PCE-ID 0100");
    ev_free(e);
}

static void test_tcb_module_identity_must_match(void **state)
{
    (void)state;
    struct ev *e = ev_synthetic();
    e->q.body.tee_tcb_svn[1] = 2; /* no TDX_02 identity */
    expect_reason(e, CVMA_R_TDX_MODULE_MISMATCH, "TDX_02");
    ev_free(e);
    e = ev_synthetic();
    e->q.body.mr_signer_seam[47] = 1;
    expect_reason(e, CVMA_R_TDX_MODULE_MISMATCH, "MRSIGNERSEAM");
    ev_free(e);
    e = ev_synthetic();
    e->q.body.seam_attributes = 1ull << 40;
    expect_reason(e, CVMA_R_TDX_MODULE_MISMATCH, "SEAMATTRIBUTES 0000000000010000");
    ev_free(e);
    /* Major version 0: the tdxModule entry is the reference. */
    e = ev_synthetic();
    e->q.body.tee_tcb_svn[1] = 0;
    e->q.body.mr_signer_seam[0] = 1;
    expect_reason(e, CVMA_R_TDX_MODULE_MISMATCH, "of tdxModule");
    ev_free(e);
}

static void test_tcb_qe_identity_must_match(void **state)
{
    (void)state;
    struct ev *e = ev_synthetic();
    e->q.qe_report.misc_select = 1;
    expect_reason(e, CVMA_R_TDX_QE_IDENTITY_MISMATCH, "MISCSELECT");
    ev_free(e);
    e = ev_synthetic();
    e->q.qe_report.attributes[0] |= 0x02; /* DEBUG */
    expect_reason(e, CVMA_R_TDX_QE_IDENTITY_MISMATCH, "ATTRIBUTES");
    ev_free(e);
    e = ev_synthetic();
    e->q.qe_report.attributes[0] |= 0x04; /* outside the mask: ignored */
    expect_status(e, "UpToDate");
    ev_free(e);
    e = ev_synthetic();
    e->q.qe_report.mr_signer[0] ^= 1;
    expect_reason(e, CVMA_R_TDX_QE_IDENTITY_MISMATCH, "MRSIGNER");
    ev_free(e);
    e = ev_synthetic();
    e->q.qe_report.isv_prod_id = 1;
    expect_reason(e, CVMA_R_TDX_QE_IDENTITY_MISMATCH, "ISVPRODID 1");
    ev_free(e);
}

/*
 * A level whose status QVL does not take for what it rates gives no level: a QE Identity level
 * outside QVL's VALID_QE_STATUSES, a TDX module level other than UpToDate, OutOfDate or Revoked.
 * Taken, a SWHardeningNeeded module level would leave an UpToDate platform UpToDate (only an
 * OutOfDate or Revoked module changes the converged status).
 */
static void test_tcb_level_statuses_qvl_does_not_take(void **state)
{
    (void)state;
    static const char *const qe_bad[] = {"SWHardeningNeeded", "ConfigurationAndSWHardeningNeeded"};
    static const char *const module_bad[] = {"SWHardeningNeeded", "ConfigurationNeeded",
                                             "ConfigurationAndSWHardeningNeeded",
                                             "OutOfDateConfigurationNeeded"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(qe_bad); i++) {
        struct ev *e = ev_synthetic();
        struct cvma_tdx_qe_identity *qi = &e->c.qe_identity;
        assert_int_equal(qi->levels[0].isvsvn, 8); /* the QE's level (ISVSVN 8) */
        snprintf(qi->levels[0].status, sizeof qi->levels[0].status, "%s", qe_bad[i]);
        expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND, "which QVL does not accept for a QE");
        ev_free(e);
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(module_bad); i++) {
        struct ev *e = ev_synthetic();
        struct cvma_tdx_module_identity *m = &e->c.tcb_info.modules[0];
        assert_int_equal(m->levels[0].isvsvn, 6); /* the module's level (TEE_TCB_SVN[0] 6) */
        snprintf(m->levels[0].status, sizeof m->levels[0].status, "%s", module_bad[i]);
        expect_reason(e, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND,
                      "a TDX module level may only be UpToDate, OutOfDate or Revoked");
        ev_free(e);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* PCS client against tests/pcs_server.py                                                    */
/* ---------------------------------------------------------------------------------------- */

/* A base URL the HTTP client refuses (not http:// or https://) is collateral not had: undecided
 * with COLLATERAL_UNAVAILABLE naming the URL, never a failure without a reason. */
static void test_pcs_refused_scheme_is_unavailable(void **state)
{
    (void)state;
    struct cvma_pcs pcs;
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;
    uint8_t fmspc[6] = {0x50, 0x80, 0x6f, 0, 0, 0};

    cvma_pcs_init(&pcs);
    pcs.base_url = "ftp://127.0.0.1:1";
    cvma_verdict_init(&v);
    assert_int_equal(cvma_pcs_collateral_get(&pcs, fmspc, CVMA_PCS_CA_PLATFORM, &c, &v),
                     CVMA_UNDECIDED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_UNAVAILABLE);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "only http:// and https://"));
    assert_true(v.undecided);
    cvma_verdict_cleanup(&v);
}

static void test_pcs_url_decode(void **state)
{
    (void)state;
    struct cvma_buf b;
    assert_true(cvma_pcs_url_decode("-----BEGIN%20CERT%0A%2Bab+c%2f%2F", &b));
    assert_int_equal(b.len, strlen("-----BEGIN CERT\n+ab+c//"));
    assert_memory_equal(b.p, "-----BEGIN CERT\n+ab+c//", b.len);
    cvma_buf_free(&b);
    assert_false(cvma_pcs_url_decode("%2", &b));
    assert_false(cvma_pcs_url_decode("%zz", &b));
    assert_false(cvma_pcs_url_decode("a%00b", &b));
    assert_null(b.p);
}

struct srv {
    pid_t pid;
    char base[64];
    char *tmp;
    char *log;
    char *cache_dir;
    struct cvma_cache cache;
    struct cvma_pcs pcs;
};

#define SPR_DIR      "tdx/v4-spr-gotdxguest"
#define TCB_PATH     "/tdx/certification/v4/tcb?fmspc=50806F000000"
#define QE_PATH      "/tdx/certification/v4/qe/identity"
#define PCK_PATH     "/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
#define ROOT_PATH    "/sgx/certification/v4/rootcacrl"
#define TCB_PATH_SIM "/tdx/certification/v4/tcb?fmspc=B0C06F000000"

/* Starts tests/pcs_server.py serving files of dir (relative paths in extra are read there)
 * with extra (NULL-terminated) arguments. */
static void srv_start(struct srv *s, const char *dir, const char *const *extra)
{
    const char *argv[40];
    char *script = tu_path(getenv("CVMATTEST_SRC"), "tests/pcs_server.py");

    tu_server_argv(argv, CVMA_ARRAY_LEN(argv), script, dir, s->log, extra);
    int port = tu_server_start(argv, &s->pid);
    assert_true(port > 0);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", port);
    s->pcs.base_url = s->base;
    free(script);
}

/* srv_start serving the shared vectors' SPR sample (the caller checked server_prereqs). */
static void srv_start_spr(struct srv *s, const char *const *extra)
{
    char *dir = tu_vec(SPR_DIR);
    srv_start(s, dir, extra);
    free(dir);
}

static void srv_stop(struct srv *s)
{
    tu_server_stop(&s->pid);
}

static int requests(const struct srv *s, int status)
{
    struct cvma_buf b = {0};
    int n = 0;
    char want[8];
    snprintf(want, sizeof want, "%d ", status);
    if (cvma_file_read(s->log, 1 << 20, &b) != CVMA_OK) {
        return 0;
    }
    for (size_t i = 0; i < b.len; i++) {
        if ((i == 0 || b.p[i - 1] == '\n') && b.len - i >= 4 && memcmp(b.p + i, want, 4) == 0) {
            n++;
        }
    }
    cvma_buf_free(&b);
    return n;
}

/* What the PCS stand-in needs, and all that a test serving simulated data needs: python3 with
 * http.server and tests/pcs_server.py under CVMATTEST_SRC. Not the shared vectors, so such a
 * test (a security regression among them) runs wherever the project builds. Says on stderr
 * why it is not there. */
static bool stand_in_prereqs(void)
{
    const char *src = getenv("CVMATTEST_SRC");
    if (src == NULL) {
        fprintf(stderr, "SKIP: CVMATTEST_SRC not set (the PCS stand-in, tests/pcs_server.py)\n");
        return false;
    }
    char *script = tu_path(src, "tests/pcs_server.py");
    bool there = access(script, R_OK) == 0;
    if (!there) {
        fprintf(stderr, "SKIP: the PCS stand-in %s cannot be read\n", script);
    }
    free(script);
    if (there && system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIP: python3 with http.server not found (the PCS stand-in)\n");
        there = false;
    }
    return there;
}

/* The stand-in serving the shared vectors' SPR sample: the vectors too. */
static bool server_prereqs(void)
{
    if (tu_vectors() == NULL) {
        fprintf(stderr, "SKIP: shared test vectors not found (set CVMATTEST_VECTORS)\n");
        return false;
    }
    return stand_in_prereqs();
}

static int srv_setup(void **state)
{
    struct srv *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return -1;
    }
    s->tmp = tu_tmpdir();
    s->log = tu_path(s->tmp, "requests.log");
    s->cache_dir = tu_path(s->tmp, "cache");
    if (cvma_cache_init(&s->cache, s->cache_dir) != CVMA_OK) {
        return -1;
    }
    cvma_pcs_init(&s->pcs);
    s->pcs.cache = &s->cache;
    s->pcs.http.backoff_base_ms = 10;
    s->pcs.http.max_retries = -1;
    *state = s;
    return 0;
}

static int srv_teardown(void **state)
{
    struct srv *s = *state;
    srv_stop(s);
    cvma_cache_cleanup(&s->cache);
    tu_rmtree(s->tmp);
    free(s->tmp);
    free(s->log);
    free(s->cache_dir);
    free(s);
    return 0;
}

/* A PCCS-like server for the SPR sample; tcb_header picks the TCB Info chain header name. */
static void start_spr(struct srv *s, const char *tcb_header)
{
    static char tcb_hdr[160];
    snprintf(tcb_hdr, sizeof tcb_hdr, TCB_PATH "|%s|tcb_info_issuer_chain.pem", tcb_header);
    const char *args[] = {
            "--route",     TCB_PATH "=tcb_info_response.json",
            "--header",    tcb_hdr,
            "--route",     QE_PATH "=qe_identity_response.json",
            "--header",    QE_PATH "|SGX-Enclave-Identity-Issuer-Chain|tcb_info_issuer_chain.pem",
            "--route",     PCK_PATH "=pck_crl.der",
            "--header",    PCK_PATH "|SGX-PCK-CRL-Issuer-Chain|pck_crl_issuer_chain.pem",
            "--hex-route", ROOT_PATH "=root_ca_crl.der",
            NULL};
    srv_start_spr(s, args);
    /* root_ca_crl_url stays NULL: derived from a non-Intel base URL as a PCCS path. */
}

/* The SPR sample's four items (long past their nextUpdate: a download of them is not cached,
 * collateral/fetch.h) written into the cache under the stand-in's URLs, as a cache filled while
 * they were current would hold them, never expiring. */
static void seed_spr_cache_with(struct srv *s, struct cvma_cache *cache, bool bad_pck_crl)
{
    static const struct {
        const char *path, *body, *chain;
    } items[] = {{TCB_PATH, "tcb_info_response.json", "tcb_info_issuer_chain.pem"},
                 {QE_PATH, "qe_identity_response.json", "tcb_info_issuer_chain.pem"},
                 {PCK_PATH, "pck_crl.der", "pck_crl_issuer_chain.pem"},
                 {ROOT_PATH, "root_ca_crl.der", NULL}};
    char *dir = tu_vec(SPR_DIR);
    /* bad_pck_crl: the root's CRL as the PCK CRL (as a server serving it there would have it
     * cached), and no Root CA CRL. */
    for (size_t i = 0; i < (bad_pck_crl ? 3 : CVMA_ARRAY_LEN(items)); i++) {
        const char *body = bad_pck_crl && i == 2 ? "root_ca_crl.der" : items[i].body;
        struct cvma_pcs_answer a = {{0}, {0}};
        struct cvma_buf framed = {0};
        char key[256], *path = tu_path(dir, body);
        tu_read(path, &a.body);
        free(path);
        if (items[i].chain != NULL) {
            path = tu_path(dir, items[i].chain);
            tu_read(path, &a.issuer_chain);
            free(path);
        }
        snprintf(key, sizeof key, "intel-pcs %s%s", s->base, items[i].path);
        assert_true(cvma_pcs_answer_frame(&a, &framed));
        assert_int_equal(cvma_cache_put(cache, key, framed.p, framed.len, 0), CVMA_OK);
        cvma_buf_free(&framed);
        cvma_pcs_answer_cleanup(&a);
    }
    free(dir);
}

static void seed_spr_cache(struct srv *s)
{
    seed_spr_cache_with(s, &s->cache, false);
}

static void test_pcs_fetches_collateral_that_verifies(void **state)
{
    struct srv *s = *state;
    if (!server_prereqs()) {
        skip();
    }
    uint8_t fmspc[6];
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;
    X509 *root = tu_vec_cert(TU_INTEL_ROOT);

    start_spr(s, "TCB-Info-Issuer-Chain");
    tu_hex("50806f000000", fmspc, 6);
    cvma_verdict_init(&v);
    /* The sample's items are long past their nextUpdate: taken for a verification at a time
     * they were current, never cached. */
    s->pcs.at = tu_time("2023-07-01T01:00:00Z");
    enum cvma_status st = cvma_pcs_collateral_get(&s->pcs, fmspc, CVMA_PCS_CA_PLATFORM, &c, &v);
    tu_dump(&v);
    assert_int_equal(st, CVMA_OK);
    assert_int_equal(requests(s, 200), 4);
    assert_int_equal(sk_X509_num(c.tcb_info_chain), 2);
    assert_int_equal(c.tcb_info.tcb_evaluation_data_number, 15);
    /* The same bytes PCS signed: verifies like the directory form. */
    assert_int_equal(cvma_tdx_collateral_verify(&c, root, tu_time("2023-07-01T01:00:00Z"), 0, &v),
                     CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    cvma_tdx_collateral_cleanup(&c);

    /* Again: not cached (past their nextUpdate now), so fetched again. */
    assert_int_equal(cvma_pcs_collateral_get(&s->pcs, fmspc, CVMA_PCS_CA_PLATFORM, &c, &v),
                     CVMA_OK);
    assert_int_equal(requests(s, 200), 8);
    cvma_tdx_collateral_cleanup(&c);

    /* Now as of the wall clock: each is refused as out of date (undecided), not judged. */
    s->pcs.at = 0;
    assert_int_equal(cvma_pcs_collateral_get(&s->pcs, fmspc, CVMA_PCS_CA_PLATFORM, &c, &v),
                     CVMA_UNDECIDED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "already past its nextUpdate"));
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);

    /* Offline with the server gone: the cache answers (filled while they were current). */
    srv_stop(s);
    seed_spr_cache(s);
    s->pcs.offline = true;
    assert_int_equal(cvma_pcs_collateral_get(&s->pcs, fmspc, CVMA_PCS_CA_PLATFORM, &c, &v),
                     CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(cvma_tdx_collateral_verify(&c, root, tu_time("2023-07-01T01:00:00Z"), 0, &v),
                     CVMA_OK);
    cvma_tdx_collateral_cleanup(&c);

    /* Offline, another platform: nothing cached. */
    fmspc[0] ^= 1;
    assert_int_equal(cvma_pcs_collateral_get(&s->pcs, fmspc, CVMA_PCS_CA_PLATFORM, &c, &v),
                     CVMA_UNDECIDED);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "offline and not in cache"));
    assert_true(v.undecided);
    cvma_verdict_cleanup(&v);
    X509_free(root);
}

static void test_pcs_accepts_the_v3_tcb_info_header_name(void **state)
{
    struct srv *s = *state;
    if (!server_prereqs()) {
        skip();
    }
    uint8_t fmspc[6];
    struct cvma_pcs_answer a;
    struct cvma_verdict v;
    char err[512];
    start_spr(s, "SGX-TCB-Info-Issuer-Chain");
    tu_hex("50806f000000", fmspc, 6);
    cvma_verdict_init(&v);
    s->pcs.at = tu_time("2023-07-01T01:00:00Z"); /* the sample's items were current then */
    assert_int_equal(cvma_pcs_fetch_tcb_info(&s->pcs, fmspc, &a, &v, err, sizeof err), CVMA_OK);
    assert_true(a.issuer_chain.len > 0);
    assert_memory_equal(a.issuer_chain.p, "-----BEGIN CERTIFICATE-----", 27);
    cvma_pcs_answer_cleanup(&a);
    /* An explicit Root CA CRL URL (hex body). */
    char url[128];
    snprintf(url, sizeof url, "%s" ROOT_PATH, s->base);
    s->pcs.root_ca_crl_url = url;
    assert_int_equal(cvma_pcs_fetch_root_ca_crl(&s->pcs, &a, &v, err, sizeof err), CVMA_OK);
    assert_int_equal(a.issuer_chain.len, 0);
    X509_CRL *crl = cvma_tdx_crl_load_any(a.body.p, a.body.len);
    assert_non_null(crl);
    X509_CRL_free(crl);
    cvma_pcs_answer_cleanup(&a);
    s->pcs.root_ca_crl_url = NULL;
    cvma_verdict_cleanup(&v);
}

static void test_pcs_404_is_undecided_and_not_cached(void **state)
{
    struct srv *s = *state;
    if (!server_prereqs()) {
        skip();
    }
    uint8_t fmspc[6];
    struct cvma_tdx_collateral c;
    struct cvma_verdict v;
    char err[512];
    struct cvma_pcs_answer a;

    start_spr(s, "TCB-Info-Issuer-Chain");
    tu_hex("00806f050000", fmspc, 6); /* not served */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_pcs_collateral_get(&s->pcs, fmspc, CVMA_PCS_CA_PLATFORM, &c, &v),
                     CVMA_UNDECIDED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_COLLATERAL_UNAVAILABLE);
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "fmspc=00806F050000"));
    assert_true(tu_detail_has(&v, CVMA_R_COLLATERAL_UNAVAILABLE, "HTTP 404"));
    assert_null(c.tcb_info_doc.body.p);
    assert_int_equal(requests(s, 404), 1);
    /* Processor CA CRL: not served either. */
    assert_int_equal(
            cvma_pcs_fetch_pck_crl(&s->pcs, CVMA_PCS_CA_PROCESSOR, &a, &v, err, sizeof err),
            CVMA_UNDECIDED);
    assert_non_null(strstr(err, "ca=processor&encoding=der"));
    assert_int_equal(requests(s, 404), 2);
    /* Nothing was cached: offline misses. */
    s->pcs.offline = true;
    assert_int_equal(cvma_pcs_fetch_tcb_info(&s->pcs, fmspc, &a, &v, err, sizeof err),
                     CVMA_UNDECIDED);
    cvma_verdict_cleanup(&v);
}

/* A body without its issuer-chain header, or a TCB Info for another FMSPC, is not cached. */
static void test_pcs_refuses_answers_of_the_wrong_form(void **state)
{
    struct srv *s = *state;
    if (!server_prereqs()) {
        skip();
    }
    uint8_t fmspc[6];
    struct cvma_pcs_answer a;
    struct cvma_verdict v;
    char err[512];
    const char *args[] = {"--route",
                          TCB_PATH "=tcb_info_response.json",
                          "--route",
                          "/tdx/certification/v4/tcb?fmspc=00806F050000=tcb_info_response.json",
                          "--header",
                          "/tdx/certification/v4/tcb?fmspc=00806F050000|TCB-Info-Issuer-Chain|"
                          "tcb_info_issuer_chain.pem",
                          NULL};
    srv_start_spr(s, args);
    cvma_verdict_init(&v);
    tu_hex("50806f000000", fmspc, 6);
    assert_int_equal(cvma_pcs_fetch_tcb_info(&s->pcs, fmspc, &a, &v, err, sizeof err),
                     CVMA_UNDECIDED);
    assert_non_null(strstr(err, "issuer chain"));
    tu_hex("00806f050000", fmspc, 6);
    assert_int_equal(cvma_pcs_fetch_tcb_info(&s->pcs, fmspc, &a, &v, err, sizeof err),
                     CVMA_UNDECIDED);
    assert_non_null(strstr(err, "another FMSPC"));
    s->pcs.offline = true;
    assert_int_equal(cvma_pcs_fetch_tcb_info(&s->pcs, fmspc, &a, &v, err, sizeof err),
                     CVMA_UNDECIDED);
    assert_non_null(strstr(err, "offline"));
    cvma_verdict_cleanup(&v);
}

static void test_pcs_ca_of_pck_reads_the_issuer(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    STACK_OF(X509) *sk = tu_vec_chain("tdx/v4-spr-gotdxguest/pck_crl_issuer_chain.pem");
    enum cvma_pcs_ca ca;
    /* The chain's first certificate is the Platform CA, issued by the root: its issuer is
     * "Intel SGX Root CA", neither CA type. */
    assert_false(cvma_pcs_ca_of_pck(sk_X509_value(sk, 0), &ca));
    sk_X509_pop_free(sk, X509_free);
    struct syn_pki k;
    pki_make(&k, "P-256");
    X509 *leaf = make_cert("Intel SGX PCK Certificate", k.signer_key, k.root, k.root_key, false, 9);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *)"Intel SGX PCK Processor CA", -1, -1, 0);
    X509_set_issuer_name(leaf, n);
    assert_true(cvma_pcs_ca_of_pck(leaf, &ca));
    assert_int_equal(ca, CVMA_PCS_CA_PROCESSOR);
    X509_NAME_free(n);
    X509_free(leaf);
    pki_free(&k);
}

/* ---------------------------------------------------------------------------------------- */
/* Maximum age of cached collateral (--collateral-max-age), on simulated evidence            */
/* ---------------------------------------------------------------------------------------- */

struct sim_tdx {
    char *dir;                    /* sim output */
    char *served;                 /* the PCK CRL the server answers with (changed by the test) */
    X509 *root;                   /* root_ca.pem */
    X509_CRL *revoked;            /* a PCK CRL by the same Platform CA that lists the PCK */
    X509_CRL *odd_this_update[3]; /* PCK CRLs by that CA with odd_times[i] as thisUpdate */
    struct cvma_buf quote;
};

static void sim_tdx_make(struct srv *s, struct sim_tdx *t)
{
    struct cvma_sim_tdx_opts o;
    char err[256];
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = false};
    struct cvma_verdict v;

    memset(t, 0, sizeof *t);
    t->dir = tu_path(s->tmp, "sim");
    t->served = tu_path(s->tmp, "served_pck_crl.der");
    cvma_sim_tdx_opts_default(&o);
    o.keep_keys = true;
    if (cvma_sim_tdx_write(&o, t->dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim tdx: %s", err);
    }
    char *f = tu_path(t->dir, "pck_crl.der");
    tu_copy(f, t->served);
    free(f);
    f = tu_path(t->dir, "root_ca.pem");
    tu_read(f, &b);
    free(f);
    assert_non_null(t->root = cvma_x509_load(b.p, b.len));
    cvma_buf_free(&b);
    f = tu_path(t->dir, "quote.bin");
    tu_read(f, &t->quote);
    free(f);

    /* The revoked CRL: signed by the same Platform CA key, listing the quote's PCK. */
    f = tu_path(t->dir, "pck_ca-key.pem");
    tu_read(f, &b);
    free(f);
    BIO *bio = BIO_new_mem_buf(b.p, (int)b.len);
    EVP_PKEY *ca_key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    assert_non_null(ca_key);
    BIO_free(bio);
    cvma_buf_free(&b);
    f = tu_path(t->dir, "pck_crl_issuer_chain.pem");
    tu_read(f, &b);
    free(f);
    STACK_OF(X509) *ca_chain = cvma_x509_load_pem_stack(b.p, b.len);
    assert_non_null(ca_chain);
    cvma_buf_free(&b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_quote_parse(t->quote.p, t->quote.len, &po, &q, &v), CVMA_OK);
    STACK_OF(X509) *pck_chain = cvma_x509_load_pem_stack(q.pck_chain_pem.p, q.pck_chain_pem.len);
    assert_non_null(pck_chain);
    t->revoked = make_crl(sk_X509_value(ca_chain, 0), ca_key, sk_X509_value(pck_chain, 0));
    for (size_t i = 0; i < CVMA_ARRAY_LEN(odd_times); i++) {
        t->odd_this_update[i] = make_crl_this_update(sk_X509_value(ca_chain, 0), ca_key,
                                                     odd_times[i].type, odd_times[i].when);
    }
    sk_X509_pop_free(pck_chain, X509_free);
    sk_X509_pop_free(ca_chain, X509_free);
    EVP_PKEY_free(ca_key);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
}

static void sim_tdx_free(struct sim_tdx *t)
{
    X509_free(t->root);
    X509_CRL_free(t->revoked);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(odd_times); i++) {
        X509_CRL_free(t->odd_this_update[i]);
    }
    cvma_buf_free(&t->quote);
    free(t->dir);
    free(t->served);
}

/* A PCS stand-in serving the simulator's collateral, the PCK CRL from t->served. */
static void start_sim_pcs(struct srv *s, const struct sim_tdx *t)
{
    static char a[8][384];
    snprintf(a[0], sizeof a[0], TCB_PATH_SIM "=%s/tcb_info.json", t->dir);
    snprintf(a[1], sizeof a[1], TCB_PATH_SIM "|TCB-Info-Issuer-Chain|%s/tcb_info_issuer_chain.pem",
             t->dir);
    snprintf(a[2], sizeof a[2], QE_PATH "=%s/qe_identity.json", t->dir);
    snprintf(a[3], sizeof a[3],
             QE_PATH "|SGX-Enclave-Identity-Issuer-Chain|%s/qe_identity_issuer_chain.pem", t->dir);
    snprintf(a[4], sizeof a[4], PCK_PATH "=%s", t->served);
    snprintf(a[5], sizeof a[5], PCK_PATH "|SGX-PCK-CRL-Issuer-Chain|%s/pck_crl_issuer_chain.pem",
             t->dir);
    snprintf(a[6], sizeof a[6], ROOT_PATH "=%s/root_ca_crl.der", t->dir);
    const char *args[] = {"--route", a[0], "--header", a[1], "--route",     a[2], "--header", a[3],
                          "--route", a[4], "--header", a[5], "--hex-route", a[6], NULL};
    srv_start(s, t->dir, args);
}

/* The options of a verification through the PCS stand-in and the cache, trusting root. */
static void sim_opts(struct srv *s, X509 **root, int64_t max_age, struct cvma_verify_opts *o)
{
    memset(o, 0, sizeof *o);
    o->at = time(NULL);
    o->pcs_base_url = s->base;
    o->cache_dir = s->cache_dir;
    o->collateral_max_age = max_age;
    o->trust_roots = root;
    o->n_trust_roots = 1;
}

/* One full verification of quote with o; its exit code. */
static int verify_quote(const struct cvma_buf *quote, const struct cvma_verify_opts *o,
                        struct cvma_result *res)
{
    cvma_result_init(res, "tdx", o->at);
    cvma_tdx_verify(quote->p, quote->len, o, NULL, res);
    cvma_result_finish(res);
    tu_dump(&res->verdict);
    return cvma_result_exit_code(res);
}

/* One full verification of the simulated quote through the PCS stand-in and the cache. */
static int verify_sim(struct srv *s, struct sim_tdx *t, int64_t max_age, struct cvma_result *res)
{
    struct cvma_verify_opts o;
    X509 *roots[1] = {t->root};

    sim_opts(s, roots, max_age, &o);
    return verify_quote(&t->quote, &o, res);
}

static void write_crl(const char *path, X509_CRL *crl)
{
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);
    assert_true(n > 0);
    tu_write(path, der, (size_t)n);
    OPENSSL_free(der);
}

/* A PCK revoked after the first fetch: not seen while the cached CRL is younger than the
 * maximum age (no request at all), seen once it is older; a refresh that fails falls back to
 * the cached CRL with COLLATERAL_STALE_CACHE. */
static void test_pcs_max_age_refetches_a_changed_pck_crl(void **state)
{
    struct srv *s = *state;
    if (!stand_in_prereqs()) {
        skip();
    }
    struct sim_tdx t;
    struct cvma_result res;

    sim_tdx_make(s, &t);
    start_sim_pcs(s, &t);

    /* 1. First run: fetched (four answers), cached, accepted. */
    assert_int_equal(verify_sim(s, &t, 0, &res), 0);
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_STALE_CACHE));
    cvma_result_cleanup(&res);
    assert_int_equal(requests(s, 200), 4);

    /* 2. PCS now lists the PCK. Within the default maximum age (24 h) the cache answers:
     *    no request, the old CRL, still accepted. */
    write_crl(t.served, t.revoked);
    assert_int_equal(verify_sim(s, &t, 0, &res), 0);
    cvma_result_cleanup(&res);
    assert_int_equal(requests(s, 200), 4);

    /* 3. Older than the maximum age (here: any age) but PCS fails to answer the PCK CRL: the
     *    cached CRL (still within its nextUpdate) is used, with a warning naming its age. */
    assert_int_equal(unlink(t.served), 0);
    assert_int_equal(verify_sim(s, &t, -1, &res), 0);
    assert_int_equal(res.status, CVMA_WARNING);
    assert_true(tu_detail_has(&res.verdict, CVMA_R_COLLATERAL_STALE_CACHE, "PCK CRL"));
    assert_true(tu_detail_has(&res.verdict, CVMA_R_COLLATERAL_STALE_CACHE, "fetched"));
    assert_true(tu_detail_has(&res.verdict, CVMA_R_COLLATERAL_STALE_CACHE, "HTTP 404"));
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_CERT_REVOKED));
    cvma_result_cleanup(&res);
    assert_int_equal(requests(s, 404), 1);
    assert_int_equal(requests(s, 200), 7); /* the other three were refreshed */

    /* 4. Older than the maximum age and PCS answers: the revocation is seen. */
    write_crl(t.served, t.revoked);
    assert_int_equal(verify_sim(s, &t, -1, &res), 1);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_REVOKED);
    cvma_result_cleanup(&res);
    assert_int_equal(requests(s, 200), 11);

    /* 5. Offline, the cache is used whatever its age: the refreshed (revoked) CRL. */
    {
        struct cvma_verify_opts o;
        X509 *roots[1] = {t.root};
        memset(&o, 0, sizeof o);
        o.at = time(NULL);
        o.pcs_base_url = s->base;
        o.cache_dir = s->cache_dir;
        o.collateral_max_age = -1;
        o.offline = true;
        o.trust_roots = roots;
        o.n_trust_roots = 1;
        cvma_result_init(&res, "tdx", o.at);
        cvma_tdx_verify(t.quote.p, t.quote.len, &o, NULL, &res);
        cvma_result_finish(&res);
        assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_REVOKED);
        cvma_result_cleanup(&res);
    }
    assert_int_equal(requests(s, 200), 11);
    sim_tdx_free(&t);
}

/* A fetched PCK CRL that the PCK CA signed but whose thisUpdate OpenSSL's CRL check cannot
 * read is the collateral's fault, not the quote's: COLLATERAL_UNAVAILABLE (from CRL_INVALID,
 * never CERT_CHAIN_INVALID), and the CRL leaves the cache, so the next verification fetches
 * it again (and only it) instead of failing on the cached copy until its maximum age. */
static void test_pcs_pck_crl_with_unreadable_this_update_is_evicted(void **state)
{
    struct srv *s = *state;
    if (!stand_in_prereqs()) {
        skip();
    }
    struct sim_tdx t;
    struct cvma_result res;

    sim_tdx_make(s, &t);
    start_sim_pcs(s, &t);
    char *good = tu_path(t.dir, "pck_crl.der");
    for (size_t i = 0; i < CVMA_ARRAY_LEN(odd_times); i++) {
        write_crl(t.served, t.odd_this_update[i]);
        /* Any age is too old: all four fetched again. */
        assert_int_equal(verify_sim(s, &t, -1, &res), 3);
        assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_COLLATERAL_UNAVAILABLE);
        assert_true(tu_detail_has(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE, "CRL_INVALID"));
        assert_true(tu_detail_has(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE, "PCK CRL"));
        assert_false(cvma_verdict_has(&res.verdict, CVMA_R_CERT_CHAIN_INVALID));
        cvma_result_cleanup(&res);

        /* Within the maximum age the rest comes from the cache; the PCK CRL was removed. */
        tu_copy(good, t.served);
        int before = requests(s, 200);
        assert_int_equal(verify_sim(s, &t, 0, &res), 0);
        cvma_result_cleanup(&res);
        assert_int_equal(requests(s, 200), before + 1);
    }
    free(good);
    sim_tdx_free(&t);
}

/* Every request the stand-in logged, whatever its answer. */
static int all_requests(const struct srv *s)
{
    struct cvma_buf b = {0};
    int n = 0;
    if (cvma_file_read(s->log, 1 << 20, &b) != CVMA_OK) {
        return 0; /* no log yet: no request */
    }
    for (size_t i = 0; i < b.len; i++) {
        n += b.p[i] == '\n';
    }
    cvma_buf_free(&b);
    return n;
}

static void put_le(struct cvma_buf *b, uint32_t x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        b->p[b->len++] = (uint8_t)(x >> (8 * i));
    }
}

static void put_raw(struct cvma_buf *b, const void *p, size_t n)
{
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* q (a v4 quote) with its PEM PCK chain replaced by the certificates of chain (leaf first): the
 * signature data re-assembled around it, every signature of the quote left as it was. */
static void quote_with_chain(const struct cvma_tdx_quote *q, STACK_OF(X509) * chain,
                             struct cvma_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    assert_non_null(bio);
    for (int i = 0; i < sk_X509_num(chain); i++) {
        assert_int_equal(PEM_write_bio_X509(bio, sk_X509_value(chain, i)), 1);
    }
    long pem_len = BIO_get_mem_data(bio, &pem);
    assert_true(pem_len > 0);
    size_t cert_size =
            CVMA_SGX_REPORT_SIZE + 64 + 2 + q->qe_auth_data.len + 2 + 4 + (size_t)pem_len;
    size_t sig_size = 64 + 64 + 2 + 4 + cert_size;
    assert_non_null(out->p = malloc(q->signed_len + 4 + sig_size));
    out->len = 0;
    put_raw(out, q->signed_bytes, q->signed_len);
    put_le(out, (uint32_t)sig_size, 4);
    put_raw(out, q->signature, 64);
    put_raw(out, q->attestation_key, 64);
    put_le(out, CVMA_TDX_CERT_QE_REPORT, 2);
    put_le(out, (uint32_t)cert_size, 4);
    put_raw(out, q->qe_report.raw, CVMA_SGX_REPORT_SIZE);
    put_raw(out, q->qe_report_signature, 64);
    put_le(out, (uint32_t)q->qe_auth_data.len, 2);
    if (q->qe_auth_data.len > 0) {
        put_raw(out, q->qe_auth_data.p, q->qe_auth_data.len);
    }
    put_le(out, CVMA_TDX_CERT_PCK_CHAIN, 2);
    put_le(out, (uint32_t)pem_len, 4);
    put_raw(out, pem, (size_t)pem_len);
    BIO_free(bio);
}

/* The PEM certificates of a parsed quote's PCK chain. */
static STACK_OF(X509) * quote_chain(const struct cvma_buf *quote, struct cvma_tdx_quote *q)
{
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = false};
    struct cvma_verdict v;
    STACK_OF(X509) * sk;

    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_quote_parse(quote->p, quote->len, &po, q, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
    assert_non_null(sk = cvma_x509_load_pem_stack(q->pck_chain_pem.p, q->pck_chain_pem.len));
    assert_int_equal(sk_X509_num(sk), 3);
    return sk;
}

/* The FMSPC and the CA type that choose what is fetched come from the PCK certificate, so they
 * are read only once its chain's signatures chain to the trusted root: a forged PCK certificate
 * naming an FMSPC the stand-in does not know makes no request (a 404 is not cached: each such
 * quote would cost one) and is refused with the reason the full check gives. The forgery: the
 * PCK leaf of another simulator run (FMSPC 0123456789AB), its Authority Key Identifier made the
 * trusted PCK CA's and re-signed by a key that CA does not hold, sent with the trusted PCK CA and
 * root (byte for byte); and that other run's quote as it is, ending in its own root. */
static void test_pcs_forged_pck_chain_makes_no_request(void **state)
{
    struct srv *s = *state;
    if (!stand_in_prereqs()) {
        skip();
    }
    struct sim_tdx t;
    struct cvma_sim_tdx_opts so;
    struct cvma_tdx_quote qa, qb;
    struct cvma_buf other = {0}, forged = {0};
    struct cvma_verify_opts o;
    struct cvma_result res;
    char err[256];
    X509 *roots[1];

    sim_tdx_make(s, &t);
    roots[0] = t.root;
    start_sim_pcs(s, &t);

    /* The other run, under its own root, with an FMSPC the stand-in has no TCB Info for. */
    char *odir = tu_path(s->tmp, "other");
    cvma_sim_tdx_opts_default(&so);
    tu_hex("0123456789ab", so.fmspc, 6);
    if (cvma_sim_tdx_write(&so, odir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim tdx: %s", err);
    }
    char *f = tu_path(odir, "quote.bin");
    tu_read(f, &other);
    free(f);

    STACK_OF(X509) *ca = quote_chain(&t.quote, &qa); /* PCK, PCK CA, root: all trusted */
    STACK_OF(X509) *ob = quote_chain(&other, &qb);
    X509 *leaf = X509_dup(sk_X509_value(ob, 0));
    assert_non_null(leaf);
    assert_int_equal(
            X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(sk_X509_value(ca, 1))),
            0);
    X509_EXTENSION_free(
            X509_delete_ext(leaf, X509_get_ext_by_NID(leaf, NID_authority_key_identifier, -1)));
    tu_add_ext(leaf, sk_X509_value(ca, 1), NID_authority_key_identifier, "keyid:always");
    EVP_PKEY *stranger = EVP_EC_gen("P-256");
    assert_non_null(stranger);
    assert_true(X509_sign(leaf, stranger, EVP_sha256()) > 0);
    STACK_OF(X509) *chain = sk_X509_new_null();
    assert_non_null(chain);
    assert_true(sk_X509_push(chain, leaf) > 0);
    assert_true(sk_X509_push(chain, sk_X509_value(ca, 1)) > 0);
    assert_true(sk_X509_push(chain, sk_X509_value(ca, 2)) > 0);
    quote_with_chain(&qb, chain, &forged);

    /* 1. Online: refused as the chain's, not undecided, and the stand-in asked nothing. */
    sim_opts(s, roots, 0, &o);
    assert_int_equal(verify_quote(&forged, &o, &res), 1);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_CHAIN_INVALID);
    assert_true(tu_detail_has(&res.verdict, CVMA_R_CERT_CHAIN_INVALID, "PCK certificate"));
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE));
    cvma_result_cleanup(&res);
    assert_int_equal(all_requests(s), 0);

    /* 2. The full check, with all the collateral in a directory, names the same reason. */
    o.collateral_dir = t.dir;
    o.offline = true;
    assert_int_equal(verify_quote(&forged, &o, &res), 1);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_CHAIN_INVALID);
    cvma_result_cleanup(&res);

    /* 3. The fetch alone (what `collateral fetch` runs first), with a chain cache: refused,
     *    no request, and nothing remembered for a chain that was never fully checked. */
    {
        struct cvma_tdx_held held;
        struct cvma_verdict v;
        struct cvma_tdx_quote qf;
        struct cvma_tdx_parse_opts po = {.allow_trailing_data = false};
        struct cvma_chain_cache *cache = cvma_chain_cache_new(16);
        assert_non_null(cache);
        sim_opts(s, roots, 0, &o);
        o.chain_cache = cache;
        cvma_verdict_init(&v);
        assert_int_equal(cvma_tdx_quote_parse(forged.p, forged.len, &po, &qf, &v), CVMA_OK);
        assert_int_equal(cvma_tdx_collateral_get(&qf, &o, &held, &v), CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_CHAIN_INVALID);
        assert_int_equal(cvma_chain_cache_count(cache), 0);
        cvma_verdict_cleanup(&v);
        cvma_tdx_quote_cleanup(&qf);
        cvma_chain_cache_free(cache);
    }
    assert_int_equal(all_requests(s), 0);

    /* 4. The other run's quote as it is: its chain ends in a root nobody trusts here. */
    sim_opts(s, roots, 0, &o);
    assert_int_equal(verify_quote(&other, &o, &res), 1);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_UNTRUSTED_ROOT);
    cvma_result_cleanup(&res);
    assert_int_equal(all_requests(s), 0);

    /* 5. The genuine quote: fetched (the stand-in was there all along), then affirming. */
    assert_int_equal(verify_quote(&t.quote, &o, &res), 0);
    cvma_result_cleanup(&res);
    assert_int_equal(all_requests(s), 4);
    assert_int_equal(requests(s, 200), 4);

    /* 6. With a chain cache: the first run's full check leaves the marker the next run's
     *    check before the fetch finds (one more hit than without it); the forged chain, which
     *    the check refuses again, is still not remembered. */
    {
        struct cvma_chain_cache *cache = cvma_chain_cache_new(16);
        assert_non_null(cache);
        o.chain_cache = cache;
        assert_int_equal(verify_quote(&t.quote, &o, &res), 0);
        cvma_result_cleanup(&res);
        size_t hits = cvma_chain_cache_hits(cache), n = cvma_chain_cache_count(cache);
        assert_int_equal(verify_quote(&t.quote, &o, &res), 0);
        cvma_result_cleanup(&res);
        /* The marker, the chain, the collateral, the QE report, the attestation key. */
        assert_int_equal(cvma_chain_cache_hits(cache), hits + 5);
        assert_int_equal(verify_quote(&forged, &o, &res), 1);
        assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_CERT_CHAIN_INVALID);
        cvma_result_cleanup(&res);
        assert_int_equal(cvma_chain_cache_count(cache), n);
        cvma_chain_cache_free(cache);
        o.chain_cache = NULL;
    }
    assert_int_equal(all_requests(s), 4); /* both from the on-disk cache */

    sk_X509_free(chain); /* borrowed certificates */
    X509_free(leaf);
    EVP_PKEY_free(stranger);
    sk_X509_pop_free(ca, X509_free);
    sk_X509_pop_free(ob, X509_free);
    cvma_tdx_quote_cleanup(&qa);
    cvma_tdx_quote_cleanup(&qb);
    cvma_buf_free(&forged);
    cvma_buf_free(&other);
    free(odir);
    sim_tdx_free(&t);
}

/*
 * A bundle's TDX items come after the verifier's own for a chain to Intel's root: evidence that
 * brings a Root CA CRL of its choosing (here one that is not yet valid at the verification time,
 * standing for an older one inside its window) has PCS's used online, the cache's offline, and
 * its own only when the verifier has none (offline, an empty cache), with
 * COLLATERAL_FROM_EVIDENCE naming the items so taken. The real SPR sample through the stand-in.
 */
static void test_bundle_items_after_the_verifiers_own_for_intels_root(void **state)
{
    struct srv *s = *state;
    if (!server_prereqs()) {
        skip();
    }
    char *spr = tu_vec(SPR_DIR);
    char *other_root_crl = tu_vec("tdx/v4-uptodate-dcapqvl/root_ca_crl.der");
    const char *files[][2] = {{"tcb_info.json", "tcb_info_response.json"},
                              {"tcb_info_issuer_chain.pem", "tcb_info_issuer_chain.pem"},
                              {"qe_identity.json", "qe_identity_response.json"},
                              {"qe_identity_issuer_chain.pem", "tcb_info_issuer_chain.pem"},
                              {"pck_crl.der", "pck_crl.der"},
                              {"root_ca_crl.der", "root_ca_crl.der"}};
    struct cvma_buf data[CVMA_ARRAY_LEN(files)], quote, mine;
    struct cvma_named_part parts[CVMA_ARRAY_LEN(files)];
    struct cvma_verify_opts o;
    struct cvma_result res;
    char *path = tu_path(spr, "quote.bin");
    tu_read(path, &quote);
    free(path);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(files); i++) {
        path = tu_path(spr, files[i][1]);
        tu_read(path, &data[i]);
        free(path);
        parts[i] = (struct cvma_named_part){files[i][0], {data[i].p, data[i].len}, false};
    }
    /* The evidence's choice: another (genuine) Root CA CRL than PCS serves. */
    tu_read(other_root_crl, &mine);
    parts[5].data = (struct cvma_span){mine.p, mine.len};

    start_spr(s, "TCB-Info-Issuer-Chain");
    memset(&o, 0, sizeof o);
    o.at = tu_time("2023-07-01T01:00:00Z");
    o.allow_trailing_data = true;
    o.pcs_base_url = s->base;
    o.cache_dir = s->cache_dir;
    o.collateral_parts = parts;
    o.n_collateral_parts = CVMA_ARRAY_LEN(parts);

    /* 1. Online: all four from PCS, the bundle's unused; the sample's own verdict (no TCB
     *    level of this platform in that TCB Info), no CRL complaint. */
    verify_quote(&quote, &o, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_TDX_TCB_LEVEL_NOT_FOUND);
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_CRL_INVALID));
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE));
    cvma_result_cleanup(&res);
    assert_int_equal(requests(s, 200), 4);

    /* 2. Offline, the stand-in gone: the cache's, still not the bundle's. (The download was
     *    not cached, being past its nextUpdate now: the cache is filled as while current.) */
    srv_stop(s);
    seed_spr_cache(s);
    o.offline = true;
    verify_quote(&quote, &o, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_TDX_TCB_LEVEL_NOT_FOUND);
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE));
    cvma_result_cleanup(&res);

    /* 3. Offline, the Root CA CRL gone from the cache: that item alone is the bundle's, said
     *    so, and judged as the evidence's (its window: a rejection, not undecided). */
    {
        struct cvma_tdx_quote q;
        struct cvma_tdx_parse_opts po = {.allow_trailing_data = true};
        struct cvma_verdict v;
        char what[128];
        cvma_verdict_init(&v);
        assert_int_equal(cvma_tdx_quote_parse(quote.p, quote.len, &po, &q, &v), CVMA_OK);
        cvma_tdx_collateral_evict(&q, &o, CVMA_TDX_ITEM_ROOT_CA_CRL, what, sizeof what);
        assert_string_equal(what, "Root CA CRL");
        cvma_tdx_quote_cleanup(&q);
        cvma_verdict_cleanup(&v);
    }
    verify_quote(&quote, &o, &res);
    TU_ASSERT_DETAIL(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE, "the only Root CA CRL at");
    assert_int_equal(tu_severity_of(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE),
                     CVMA_SEV_WARNING);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
    assert_false(res.undecided);
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    cvma_result_cleanup(&res);

    /* 3b. The bundle's other items are not even read: garbage for a TCB Info, without its
     *     issuer chain, changes nothing while the cache has the TCB Info. */
    {
        static const uint8_t junk[] = "not json";
        struct cvma_named_part saved = parts[0], chain = parts[1];
        parts[0].data = (struct cvma_span){junk, sizeof junk - 1};
        parts[1].name = "unrelated";
        verify_quote(&quote, &o, &res);
        assert_true(tu_detail_has(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE,
                                  "the only Root CA CRL at"));
        assert_true(cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
        assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_INVALID));
        assert_false(res.undecided);
        cvma_result_cleanup(&res);
        parts[0] = saved;
        parts[1] = chain;
    }

    /* 4. Offline, an empty cache, the sample's own Root CA CRL in the bundle: the evidence's
     *    four items verify, and the result says whose they were. */
    o.cache_dir = s->tmp; /* no cache entries there */
    parts[5].data = (struct cvma_span){data[5].p, data[5].len};
    verify_quote(&quote, &o, &res);
    assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_TDX_TCB_LEVEL_NOT_FOUND);
    TU_ASSERT_DETAIL(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE,
                     "TCB Info, QE Identity, PCK CRL, Root CA CRL");
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_CRL_EXPIRED));
    cvma_result_cleanup(&res);

    /* 4a. A cache directory that is not used (writable by others): the warning says why the
     *     cache did not serve. */
    {
        char *open_dir = tu_path(s->tmp, "open-cache");
        assert_int_equal(mkdir(open_dir, 0700), 0);
        assert_int_equal(chmod(open_dir, 0777), 0);
        o.cache_dir = open_dir;
        verify_quote(&quote, &o, &res);
        TU_ASSERT_DETAIL(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE, "cache directory not used");
        cvma_result_cleanup(&res);
        o.cache_dir = s->tmp;
        free(open_dir);
    }

    /* 4b. A TCB Info without its issuer chain in the bundle: the evidence's fault, exit 1. */
    parts[1].name = "unrelated";
    assert_int_equal(verify_quote(&quote, &o, &res), 1);
    TU_ASSERT_DETAIL(&res.verdict, CVMA_R_COLLATERAL_INVALID,
                     "gives only part of its TCB Info (tcb_info.json)");
    assert_false(res.undecided);
    cvma_result_cleanup(&res);
    parts[1].name = files[1][0];

    /* 4c. A bundle PCK CRL that is not the PCK CA's (the root's CRL): the evidence's fault too,
     *     a rejection, not undecided and nothing said of a cache. */
    parts[4].data = (struct cvma_span){data[5].p, data[5].len};
    assert_int_equal(verify_quote(&quote, &o, &res), 1);
    assert_true(cvma_verdict_has(&res.verdict, CVMA_R_CRL_INVALID));
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE));
    cvma_result_cleanup(&res);
    parts[4].data = (struct cvma_span){data[4].p, data[4].len};

    /* 5. Without the bundle's items, the same is undecided: they were what stood in. */
    o.n_collateral_parts = 0;
    assert_int_equal(verify_quote(&quote, &o, &res), 3);
    cvma_result_cleanup(&res);
    o.n_collateral_parts = CVMA_ARRAY_LEN(parts);

    /* 6. A cache whose PCK CRL is not the PCK CA's (written by a server that served the root's
     *    CRL there), offline, the Root CA CRL from the bundle: the cached item is at fault,
     *    undecided and removed; the next verification takes the bundle's in its place. */
    {
        char *cache2 = tu_path(s->tmp, "cache2");
        struct cvma_cache c2;
        const char *args[] = {
                "--route",  TCB_PATH "=tcb_info_response.json",
                "--header", TCB_PATH "|TCB-Info-Issuer-Chain|tcb_info_issuer_chain.pem",
                "--route",  QE_PATH "=qe_identity_response.json",
                "--header", QE_PATH "|SGX-Enclave-Identity-Issuer-Chain|tcb_info_issuer_chain.pem",
                "--route",  PCK_PATH "=root_ca_crl.der",
                "--header", PCK_PATH "|SGX-PCK-CRL-Issuer-Chain|pck_crl_issuer_chain.pem",
                NULL};
        srv_start_spr(s, args);
        assert_int_equal(cvma_cache_init(&c2, cache2), CVMA_OK);
        /* TCB Info, QE Identity and the bad PCK CRL cached (written directly: downloads of
         * items past their nextUpdate are not cached); no Root CA CRL. */
        seed_spr_cache_with(s, &c2, true);
        srv_stop(s);
        s->pcs.cache = &s->cache;
        cvma_cache_cleanup(&c2);
        o.cache_dir = cache2;
        o.pcs_base_url = s->base;
        assert_int_equal(verify_quote(&quote, &o, &res), 3);
        TU_ASSERT_DETAIL(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE, "PCK CRL");
        TU_ASSERT_DETAIL(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE, "the only Root CA CRL at");
        cvma_result_cleanup(&res);
        assert_int_equal(verify_quote(&quote, &o, &res), 1);
        assert_int_equal(cvma_verdict_first_error(&res.verdict), CVMA_R_TDX_TCB_LEVEL_NOT_FOUND);
        TU_ASSERT_DETAIL(&res.verdict, CVMA_R_COLLATERAL_FROM_EVIDENCE,
                         "the only PCK CRL, Root CA CRL at");
        cvma_result_cleanup(&res);
        free(cache2);
    }

    for (size_t i = 0; i < CVMA_ARRAY_LEN(files); i++) {
        cvma_buf_free(&data[i]);
    }
    cvma_buf_free(&mine);
    cvma_buf_free(&quote);
    free(other_root_crl);
    free(spr);
}

/* A TCB Info or QE Identity of many small values (a bundle's part is read before its signature
 * is checked): refused by the checker's cap, before jansson builds a tree of it; one just
 * under the cap is read (and refused for what it lacks, not for its size). */
static void test_collateral_json_is_capped_before_a_tree(void **state)
{
    (void)state;
    for (int over = 0; over < 2; over++) {
        /* {"x":[{},{},...]}: 2 values for the object and the array, one per {} */
        size_t n = over ? CVMA_TDX_COLLATERAL_MAX_VALUES - 1 : CVMA_TDX_COLLATERAL_MAX_VALUES - 2;
        size_t len = 7 + 3 * n + 2;
        char *t = malloc(len + 1);
        assert_non_null(t);
        memcpy(t, "{\"x\":[", 6);
        size_t k = 6;
        for (size_t i = 0; i < n; i++) {
            if (i > 0) {
                t[k++] = ',';
            }
            t[k++] = '{';
            t[k++] = '}';
        }
        memcpy(t + k, "]}", 3);
        struct cvma_tdx_tcb_info ti;
        struct cvma_verdict v;
        cvma_verdict_init(&v);
        assert_int_equal(parse_tcb(t, &ti, &v), CVMA_REJECTED);
        assert_true(v.n_reasons > 0);
        bool capped = strstr(v.reasons[0].detail, "more than 16384 JSON values") != NULL;
        assert_true(capped == (over == 1));
        cvma_verdict_cleanup(&v);
        free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_split_finds_the_exact_span_past_tricky_strings),
            cmocka_unit_test(test_collateral_json_is_capped_before_a_tree),
            cmocka_unit_test(test_split_refuses_malformed_bodies),
            cmocka_unit_test(test_split_bounds_nesting_depth),
            cmocka_unit_test(test_load_dir_reads_bare_objects_with_sig_hex),
            cmocka_unit_test(test_load_dir_reads_pcs_bodies),
            cmocka_unit_test(test_load_dir_names_the_nesting_limit),
            cmocka_unit_test(test_load_dir_refuses_sgx_collateral_as_invalid),
            cmocka_unit_test(test_load_dir_missing_files_are_unavailable),
            cmocka_unit_test(test_load_dir_oversized_file_is_invalid_not_missing),
            cmocka_unit_test(test_load_dir_bare_object_without_sig_hex_is_invalid),
            cmocka_unit_test(test_load_dir_accepts_a_hex_root_ca_crl),
            cmocka_unit_test(test_verify_uptodate_collateral_at_manifest_time),
            cmocka_unit_test(test_verify_spr_collateral_with_2018_signing_cert),
            cmocka_unit_test(test_verify_v5_tcb_info_with_2025_chain),
            cmocka_unit_test(test_every_tampered_byte_of_the_span_breaks_the_signature),
            cmocka_unit_test(test_whitespace_outside_the_span_still_verifies),
            cmocka_unit_test(test_stale_collateral_is_expired_or_a_warning_within_grace),
            cmocka_unit_test(test_collateral_not_yet_valid),
            cmocka_unit_test(test_root_ca_crl_out_of_date_is_crl_expired),
            cmocka_unit_test(test_chain_must_end_in_the_pinned_root),
            cmocka_unit_test(test_crl_check_refuses_what_openssl_cannot_read),
            cmocka_unit_test(test_synthetic_chain_verifies_and_revocation_is_enforced),
            cmocka_unit_test(test_signing_certificate_shape_and_revoked_root),
            cmocka_unit_test(test_any_time_checks_what_the_windows_hide),
            cmocka_unit_test(test_signing_key_must_be_p256),
            cmocka_unit_test(test_synthetic_tcb_info_parses_and_sorts_as_qvl),
            cmocka_unit_test(test_tcb_level_order_ties_break_on_pcesvn_then_tdx_components),
            cmocka_unit_test(test_tcb_info_parser_refuses_every_malformed_field),
            cmocka_unit_test(test_tcb_info_date_before_1970_is_refused_for_its_range),
            cmocka_unit_test(test_qe_identity_parser_refuses_malformed_fields),
            cmocka_unit_test(test_tcb_uptodate_sample_is_uptodate),
            cmocka_unit_test(test_tcb_spr_sample_has_no_level_and_names_the_component),
            cmocka_unit_test(test_tcb_v5_sample_is_uptodate_with_module_tdx01),
            cmocka_unit_test(test_tcb_platform_levels_map_to_their_status),
            cmocka_unit_test(test_tcb_no_level_names_the_component_short_of_every_level),
            cmocka_unit_test(test_tcb_module_major_zero_compares_every_tdx_component),
            cmocka_unit_test(test_tcb_module_and_qe_statuses_converge),
            cmocka_unit_test(test_tcb_td15_relaunch_is_advised),
            cmocka_unit_test(test_tcb_fmspc_and_pceid_must_match),
            cmocka_unit_test(test_tcb_module_identity_must_match),
            cmocka_unit_test(test_tcb_qe_identity_must_match),
            cmocka_unit_test(test_tcb_level_statuses_qvl_does_not_take),
            cmocka_unit_test(test_pcs_url_decode),
            cmocka_unit_test(test_pcs_refused_scheme_is_unavailable),
            cmocka_unit_test(test_pcs_ca_of_pck_reads_the_issuer),
            cmocka_unit_test_setup_teardown(test_pcs_fetches_collateral_that_verifies, srv_setup,
                                            srv_teardown),
            cmocka_unit_test_setup_teardown(test_pcs_accepts_the_v3_tcb_info_header_name, srv_setup,
                                            srv_teardown),
            cmocka_unit_test_setup_teardown(test_pcs_404_is_undecided_and_not_cached, srv_setup,
                                            srv_teardown),
            cmocka_unit_test_setup_teardown(test_pcs_refuses_answers_of_the_wrong_form, srv_setup,
                                            srv_teardown),
            cmocka_unit_test_setup_teardown(test_pcs_max_age_refetches_a_changed_pck_crl, srv_setup,
                                            srv_teardown),
            cmocka_unit_test_setup_teardown(test_pcs_pck_crl_with_unreadable_this_update_is_evicted,
                                            srv_setup, srv_teardown),
            cmocka_unit_test_setup_teardown(test_pcs_forged_pck_chain_makes_no_request, srv_setup,
                                            srv_teardown),
            cmocka_unit_test_setup_teardown(
                    test_bundle_items_after_the_verifiers_own_for_intels_root, srv_setup,
                    srv_teardown),
    };
    /* Loopback only, whatever proxy the environment names. */
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name("tdx collateral", tests, NULL, NULL);
}
