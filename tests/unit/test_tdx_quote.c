/*
 * TDX quote parser and PCK SGX extension parser: the real public quotes of the shared testdata
 * (MANIFEST.md, "Intel TDX") with their expected values, mutations of them (every truncation,
 * each header/length field), and synthetic PCK extensions built here in DER.
 */
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/reader.h"
#include "common/verdict.h"
#include "crypto/crypto.h"
#include "tdx/tdx.h"
#include "testutil.h"

/* v4 layout landmarks (quote format: TD report body, signature data). */
#define V4_SIG_LEN_OFF   0x278u
#define V4_SIG_OFF       0x27Cu
#define SIG_CDT          0x80u  /* certification data type, relative to the signature data */
#define SIG_CDS          0x82u  /* certification data size */
#define SIG_QE_AUTH_SIZE 0x246u /* QE auth data size */

struct tdx_sample {
    const char *path; /* under tdx/ */
    unsigned version, body_type;
    size_t trailing;
    bool trailing_zero;
    /* Expected values (MANIFEST.md), hex; a prefix where the manifest gives only a prefix. */
    const char *mr_td, *rtmr[4], *report_data, *tee_tcb_svn;
    const char *ppid, *fmspc;
    int pcesvn; /* -1: not given */
    const char *cpusvn;
    int sgx_type;   /* -1: not given */
    int qe_isv_svn; /* -1: not given */
    uint64_t td_attributes;
};

static const char Z48[] = "000000000000000000000000000000000000000000000000000000000000000000000000"
                          "000000000000000000000000";

/* clang-format off */
static const struct tdx_sample samples[] = {
    {"v4-uptodate-dcapqvl/quote.bin", 4, 2, 70, true,
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
     {"44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0",
      "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378",
      "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132",
      Z48},
     "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20",
     "06010300000000000000000000000000", "811dca2a26b952e85bb6448b097ba4fd", "b0c06f000000", 11,
     "03030202040100050000000000000000", 1, 6, 0x10000000ull},
    {"v4-spr-gotdxguest/quote.bin", 4, 2, 39, false,
     "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb",
     {"2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a",
      "2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61",
      "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e",
      Z48},
     "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113",
     "03000400000000000000000000000000", "089ddfdb9c0359c82a3bc7719239574e", "50806f000000", 11,
     "03030202020100020000000000000000", 1, 4, 0x40000000ull},
    {"v5-gotdxguest/quote.bin", 5, 3, 0, true,
     "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876",
     {"5c8daf76063a71ac8fcef4067564661fc682ed7944c7a5d21dbbced02f61ceff4ba0678c6aef3bdae8cbc614cec24619",
      "463acaace1b6e97c76e92e41fe312aa66f3fd4dad60ec7acf169859db0343e3d1e591646795cdc80fbc0ca5f7041d253",
      "6369b9c9a3b791ebcbdc5a0bb9536cfb57f50df2b393b33c8b29616d3568baa61f4b59dc6092e31ea8764bcbdfc69f20",
      NULL},
     "945eaacf5abc1f719d8666a942fda03d1edcb4490277396093dc5a5289ab9f1e094aed63060cd4a4933a4dd537ed1255c9c79ecb3ed82cd1b486233e31c25c3a",
     "0b010400000000000000000000000000", "2734b654f553596897eaadfb5667a954", "90c06f000000", 13,
     "04040202040100050000000000000000", -1, -1, 0x10000000ull},
    /* trustee's parse_tdx_claims_expected.json gives the full body of tdx_quote_4.dat. */
    {"v4-v5-coco-trustee/tdx_quote_4.dat", 4, 2, 0, true,
     "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
     {"e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b288",
      "559cfcf42716ed6c40a48a73d5acb7da255435012f0a9f00fbe8c1c57612ede486a5684c4c9ff3ddf52315fcdca3a596",
      Z48, Z48},
     "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c8a28fee1d3bdb38342bf96671501429",
     "03000500", NULL, "50806f000000", -1, NULL, -1, -1, 0x10000001ull},
    {"v4-v5-coco-trustee/tdx_quote_5.dat", 5, 3, 0, true, "dfba221b48a22af8", {NULL, NULL, NULL, NULL},
     NULL, "05010200", NULL, "90c06f000000", -1, NULL, -1, -1, 0},
    {"v4-v5-coco-trustee/tdx_quote_6.dat", 4, 2, 70, true, "21e8dead92d6c69d", {NULL, NULL, NULL, NULL},
     NULL, "05030200", NULL, "00a06d080000", -1, NULL, 2, -1, 0},
    {"v4-azure-coco-trustee/td-quote.bin", 4, 2, 70, true,
     "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b",
     {Z48, Z48, Z48, Z48},
     "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839"
     "0000000000000000000000000000000000000000000000000000000000000000",
     "02010600", NULL, "00806f050000", -1, NULL, -1, -1, 0},
    {"v4-gce-ccel-gotdxguest/cos-113-tdx-quote.dat", 4, 2, 3065, true,
     "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a",
     {"3fa2f61f", "f62dbc07", "4969684d", NULL},
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "04010700", NULL, "00806f050000", -1, NULL, -1, -1, 0},
};
/* clang-format on */

/* The sample tdx_quote_4/5/6 td_attributes are only checked where the manifest gives them. */
static bool td_attr_given(const struct tdx_sample *s)
{
    return s->td_attributes != 0 || strstr(s->path, "azure") != NULL;
}

static void read_tdx(const char *rel, struct cvma_buf *b)
{
    char *d = tu_path(tu_vectors(), "tdx");
    char *p = tu_path(d, rel);
    tu_read(p, b);
    free(d);
    free(p);
}

/* Hex of n bytes starts with (or equals) want. */
static void assert_hex_prefix(const uint8_t *p, size_t n, const char *want)
{
    char got[2 * 128 + 1];
    assert_true(n <= 128);
    cvma_hex_encode(p, n, got, sizeof got);
    if (strncmp(got, want, strlen(want)) != 0) {
        fail_msg("got %s, want %s", got, want);
    }
}

static enum cvma_status parse(const uint8_t *p, size_t len, bool allow, struct cvma_tdx_quote *q,
                              struct cvma_verdict *v)
{
    struct cvma_tdx_parse_opts o = {.allow_trailing_data = allow};
    cvma_verdict_init(v);
    return cvma_tdx_quote_parse(p, len, &o, q, v);
}

/* The PCK leaf of a parsed quote (caller frees). */
static X509 *pck_leaf(const struct cvma_tdx_quote *q)
{
    STACK_OF(X509) *sk = cvma_x509_load_pem_stack(q->pck_chain_pem.p, q->pck_chain_pem.len);
    assert_non_null(sk);
    assert_int_equal(sk_X509_num(sk), 3); /* PCK leaf, PCK CA, root */
    X509 *leaf = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    return leaf;
}

/* ---- real quotes ---- */

static void test_tdx_every_sample_quote_parses_with_manifest_values(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    for (size_t i = 0; i < CVMA_ARRAY_LEN(samples); i++) {
        const struct tdx_sample *s = &samples[i];
        struct cvma_buf b;
        struct cvma_tdx_quote q;
        struct cvma_verdict v;
        read_tdx(s->path, &b);
        /* allow: the SPR sample's trailing text is covered by its own test */
        assert_int_equal(parse(b.p, b.len, true, &q, &v), CVMA_OK);
        assert_false(cvma_verdict_has_error(&v));
        assert_int_equal(q.version, s->version);
        assert_int_equal(q.body_type, s->body_type);
        assert_int_equal(q.body_size, s->body_type == 3 ? 648 : 584);
        assert_int_equal(q.body.is_v15, s->body_type == 3);
        assert_int_equal(q.att_key_type, 2);
        assert_int_equal(q.tee_type, 0x81);
        assert_int_equal(q.cert_data_type, 6);
        assert_int_equal(q.pck_cert_data_type, 5);
        assert_int_equal(q.qe_auth_data.len, 32);
        assert_int_equal(q.trailing_len, s->trailing);
        assert_int_equal(cvma_verdict_has(&v, CVMA_R_PARSE_TRAILING_ZEROS),
                         s->trailing > 0 && s->trailing_zero);
        assert_int_equal(cvma_verdict_has(&v, CVMA_R_PARSE_TRAILING_DATA), !s->trailing_zero);
        assert_int_equal(q.signed_len, s->version == 5 ? 48 + 6 + q.body_size : 632u);
        assert_memory_equal(q.signed_bytes, b.p, q.signed_len);
        assert_int_equal(q.signed_len + 4 + q.sig_data_len + q.trailing_len, b.len);
        assert_hex_prefix(q.body.mr_td, 48, s->mr_td);
        for (size_t k = 0; k < 4; k++) {
            if (s->rtmr[k] != NULL) {
                assert_hex_prefix(q.body.rtmr[k], 48, s->rtmr[k]);
            }
        }
        if (s->report_data != NULL) {
            assert_hex_prefix(q.body.report_data, 64, s->report_data);
        }
        assert_hex_prefix(q.body.tee_tcb_svn, 16, s->tee_tcb_svn);
        if (s->qe_isv_svn >= 0) {
            assert_int_equal(q.qe_report.isv_svn, s->qe_isv_svn);
        }
        if (td_attr_given(s)) {
            assert_int_equal(q.body.td_attributes, s->td_attributes);
        }
        /* QE report: raw bytes kept, the decoded fields read from them. */
        assert_memory_equal(q.qe_report.raw, b.p + q.signed_len + 4 + 0x86, 384);
        assert_memory_equal(q.qe_report.report_data, q.qe_report.raw + 0x140, 64);
        assert_int_equal(q.qe_report.isv_prod_id, 2); /* TD QE */
        /* The PCK leaf and its SGX extension. */
        X509 *leaf = pck_leaf(&q);
        struct cvma_pck_ext e;
        assert_int_equal(cvma_pck_ext_parse(leaf, &e, &v), CVMA_OK);
        if (s->ppid != NULL) {
            assert_hex_prefix(e.ppid, 16, s->ppid);
        }
        assert_hex_prefix(e.fmspc, 6, s->fmspc);
        if (s->pcesvn >= 0) {
            assert_int_equal(e.pcesvn, s->pcesvn);
        }
        if (s->cpusvn != NULL) {
            assert_hex_prefix(e.cpusvn, 16, s->cpusvn);
            /* The 16 SGX TCB components are CPUSVN's bytes on every Intel PCK leaf seen. */
            assert_memory_equal(e.sgx_tcb_comp, e.cpusvn, 16);
        }
        if (s->sgx_type >= 0) {
            assert_int_equal(e.sgx_type, s->sgx_type);
        }
        X509_free(leaf);
        cvma_tdx_quote_cleanup(&q);
        cvma_verdict_cleanup(&v);
        cvma_buf_free(&b);
    }
}

static void test_tdx_spr_trailing_text_is_refused_by_default(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    read_tdx("v4-spr-gotdxguest/quote.bin", &b);
    assert_int_equal(parse(b.p, b.len, false, &q, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_TRAILING_DATA);
    assert_non_null(strstr(tu_reason_must(&v, CVMA_R_PARSE_TRAILING_DATA)->detail, "39"));
    assert_int_equal(q.trailing_len, 39);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    /* Allowed: a warning, and the quote is usable. */
    assert_int_equal(parse(b.p, b.len, true, &q, &v), CVMA_OK);
    const struct cvma_verdict_reason *r = tu_reason_must(&v, CVMA_R_PARSE_TRAILING_DATA);
    assert_non_null(r);
    assert_int_equal(r->severity, CVMA_SEV_WARNING);
    assert_false(cvma_verdict_has_error(&v));
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
}

static void test_tdx_trailing_zeros_are_info(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    read_tdx("v4-gce-ccel-gotdxguest/cos-113-tdx-quote.dat", &b);
    assert_int_equal(b.len, 8000);
    assert_int_equal(parse(b.p, b.len, false, &q, &v), CVMA_OK);
    const struct cvma_verdict_reason *r = tu_reason_must(&v, CVMA_R_PARSE_TRAILING_ZEROS);
    assert_non_null(r);
    assert_int_equal(r->severity, CVMA_SEV_INFO);
    assert_non_null(strstr(r->detail, "3065"));
    assert_false(cvma_verdict_has_error(&v));
    /* The QE ID in user_data is all zero here: never a reason by itself. */
    assert_true(cvma_bytes_are_zero(q.user_data, sizeof q.user_data));
    assert_int_equal(v.n_reasons, 1);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
}

static void test_tdx_quote_4_is_a_debug_td(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    read_tdx("v4-v5-coco-trustee/tdx_quote_4.dat", &b);
    assert_int_equal(parse(b.p, b.len, false, &q, &v), CVMA_OK);
    assert_true(q.body.td_attributes & CVMA_TDX_TD_ATTR_DEBUG);
    assert_true(q.body.td_attributes & CVMA_TDX_TD_ATTR_SEPT_VE_DISABLE);
    /* trustee's expected claims: mr_seam, xfam e742060000000000 (bytes), seam_attributes 0 */
    assert_hex_prefix(q.body.mr_seam, 48,
                      "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fa"
                      "b60fbe9d0c5a5363c656");
    assert_int_equal(q.body.xfam, 0x000642e7ull);
    assert_int_equal(q.body.seam_attributes, 0);
    json_t *o = cvma_tdx_quote_json(&q, NULL);
    json_t *ta = json_object_get(o, "td_attributes");
    assert_true(json_is_true(json_object_get(ta, "debug")));
    assert_true(json_is_true(json_object_get(ta, "sept_ve_disable")));
    assert_true(json_is_false(json_object_get(ta, "perfmon")));
    assert_int_equal(json_integer_value(json_object_get(ta, "tud_bits")), 1);
    assert_int_equal(json_array_size(json_object_get(ta, "unknown_bits")), 0);
    assert_string_equal(json_string_value(json_object_get(ta, "raw")), "0000000010000001");
    assert_string_equal(json_string_value(json_object_get(o, "user_data")),
                        "d099bfec0a477aa85a605dceabf2b10800000000");
    assert_null(json_object_get(o, "body_type")); /* v4 */
    assert_null(json_object_get(o, "tee_tcb_svn2"));
    assert_null(json_object_get(o, "ppid")); /* no PCK given */
    json_decref(o);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
}

static void test_tdx_v5_body_type_3_fields(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    read_tdx("v4-v5-coco-trustee/tdx_quote_5.dat", &b);
    assert_int_equal(parse(b.p, b.len, false, &q, &v), CVMA_OK);
    assert_int_equal(q.body_type, 3);
    assert_true(q.body.is_v15);
    /* TD report 1.5 fields at body 0x248 / 0x258, body at quote 0x36. */
    assert_memory_equal(q.body.tee_tcb_svn2, b.p + 0x36 + 0x248, 16);
    assert_memory_equal(q.body.mr_service_td, b.p + 0x36 + 0x258, 48);
    /* The sample's description: this quote binds a service TD (MRSERVICETD non-zero). */
    assert_false(cvma_bytes_are_zero(q.body.mr_service_td, 48));
    assert_int_equal(tu_le32(b.p + 0x36 + 648), q.sig_data_len);
    json_t *o = cvma_tdx_quote_json(&q, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "body_type")), 3);
    assert_non_null(json_object_get(o, "tee_tcb_svn2"));
    assert_int_equal(strlen(json_string_value(json_object_get(o, "mr_service_td"))), 96);
    json_decref(o);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
}

/* A v5 quote with body type 2 (TD report 1.0), made from a v4 quote: no public sample has one. */
static void test_tdx_v5_body_type_2_is_parsed_as_td_report_10(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q4, q5;
    struct cvma_verdict v;
    read_tdx("v4-v5-coco-trustee/tdx_quote_4.dat", &b);
    uint8_t *m = malloc(b.len + 6);
    assert_non_null(m);
    memcpy(m, b.p, 48);
    tu_put16(m, 5);
    tu_put16(m + 48, 2);
    tu_put32(m + 50, 584);
    memcpy(m + 54, b.p + 48, b.len - 48);
    assert_int_equal(parse(b.p, b.len, false, &q4, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
    assert_int_equal(parse(m, b.len + 6, false, &q5, &v), CVMA_OK);
    assert_int_equal(q5.version, 5);
    assert_int_equal(q5.body_type, 2);
    assert_false(q5.body.is_v15);
    assert_memory_equal(&q4.body, &q5.body, sizeof q4.body);
    assert_int_equal(q5.signed_len, 48 + 6 + 584);
    assert_memory_equal(q5.signed_bytes, m, q5.signed_len);
    assert_memory_equal(q4.qe_report.raw, q5.qe_report.raw, 384);
    cvma_tdx_quote_cleanup(&q4);
    cvma_tdx_quote_cleanup(&q5);
    cvma_verdict_cleanup(&v);
    free(m);
    cvma_buf_free(&b);
}

static void test_tdx_truncated_at_every_length_is_refused(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    const char *paths[] = {"v4-uptodate-dcapqvl/quote.bin", "v5-gotdxguest/quote.bin"};
    for (size_t k = 0; k < CVMA_ARRAY_LEN(paths); k++) {
        struct cvma_buf b;
        struct cvma_tdx_quote q;
        struct cvma_verdict v;
        read_tdx(paths[k], &b);
        assert_int_equal(parse(b.p, b.len, false, &q, &v), CVMA_OK);
        size_t end = b.len - q.trailing_len;
        cvma_tdx_quote_cleanup(&q);
        cvma_verdict_cleanup(&v);
        /* Copy each prefix into its own buffer so ASan sees any read past it. */
        for (size_t n = 0; n < end; n++) {
            uint8_t *t = malloc(n > 0 ? n : 1);
            assert_non_null(t);
            memcpy(t, b.p, n);
            assert_int_equal(parse(t, n, false, &q, &v), CVMA_REJECTED);
            enum cvma_reason r = cvma_verdict_first_error(&v);
            if (r != CVMA_R_PARSE_TRUNCATED && r != CVMA_R_PARSE_TDX_LENGTH) {
                fail_msg("%s cut at %zu: %s", paths[k], n, cvma_reason_name(r));
            }
            cvma_tdx_quote_cleanup(&q);
            cvma_verdict_cleanup(&v);
            free(t);
        }
        cvma_buf_free(&b);
    }
}

/* Parses a mutated copy of the v4 sample and expects the first error to be want. */
static void expect_mutation(const struct cvma_buf *b, size_t off, const uint8_t *bytes, size_t n,
                            enum cvma_reason want, const char *detail_has)
{
    uint8_t *m = malloc(b->len);
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    assert_non_null(m);
    memcpy(m, b->p, b->len);
    memcpy(m + off, bytes, n);
    assert_int_equal(parse(m, b->len, false, &q, &v), CVMA_REJECTED);
    enum cvma_reason got = cvma_verdict_first_error(&v);
    if (got != want) {
        fail_msg("mutation at 0x%zx: got %s, want %s", off, cvma_reason_name(got),
                 cvma_reason_name(want));
    }
    if (detail_has != NULL) {
        const char *d = tu_reason_must(&v, want)->detail;
        if (strstr(d, detail_has) == NULL) {
            fail_msg("detail '%s' lacks '%s'", d, detail_has);
        }
    }
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    free(m);
}

static void test_tdx_header_fields_are_checked(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    uint8_t x[16];
    read_tdx("v4-v5-coco-trustee/tdx_quote_4.dat", &b);
    const uint16_t bad_versions[] = {0, 1, 2, 3, 6, 0xffff};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad_versions); i++) {
        tu_put16(x, bad_versions[i]);
        expect_mutation(&b, 0, x, 2, CVMA_R_PARSE_UNKNOWN_VERSION, "version");
    }
    tu_put16(x, 3); /* ECDSA P-384: defined, never used */
    expect_mutation(&b, 2, x, 2, CVMA_R_PARSE_TDX_KEY_TYPE, "type 3");
    tu_put16(x, 0);
    expect_mutation(&b, 2, x, 2, CVMA_R_PARSE_TDX_KEY_TYPE, NULL);
    tu_put32(x, 0); /* SGX */
    expect_mutation(&b, 4, x, 4, CVMA_R_PARSE_TDX_TEE_TYPE, "0x00000000");
    tu_put32(x, 0x82);
    expect_mutation(&b, 4, x, 4, CVMA_R_PARSE_TDX_TEE_TYPE, "0x00000082");
    memset(x, 0, 16);
    expect_mutation(&b, 0x0C, x, 16, CVMA_R_PARSE_TDX_QE_VENDOR, "00000000");
    x[0] = 0x93 ^ 1;
    memcpy(x + 1, b.p + 0x0D, 15);
    expect_mutation(&b, 0x0C, x, 16, CVMA_R_PARSE_TDX_QE_VENDOR, "929a7233");
    cvma_buf_free(&b);
}

/* The reserved u32 and the QE ID are never appraised: any value parses without a reason. */
static void test_tdx_reserved_and_qe_id_are_not_appraised(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    read_tdx("v4-v5-coco-trustee/tdx_quote_4.dat", &b);
    uint8_t *m = malloc(b.len);
    assert_non_null(m);
    memcpy(m, b.p, b.len);
    tu_put32(m + 8, 0xdeadbeef);
    memset(m + 0x1C, 0xAB, 20);
    assert_int_equal(parse(m, b.len, false, &q, &v), CVMA_OK);
    assert_int_equal(v.n_reasons, 0);
    assert_int_equal(q.reserved, 0xdeadbeef);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    free(m);
    cvma_buf_free(&b);
}

static void test_tdx_v5_body_type_and_size_are_checked(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    uint8_t x[6];
    read_tdx("v5-gotdxguest/quote.bin", &b);
    const struct {
        uint16_t type;
        uint32_t size;
    } bad[] = {{1, 384}, {1, 648}, {0, 648}, {4, 648}, {2, 648}, {3, 584}, {3, 0xffffffff}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        tu_put16(x, bad[i].type);
        tu_put32(x + 2, bad[i].size);
        expect_mutation(&b, 0x30, x, 6, CVMA_R_PARSE_TDX_BODY_TYPE, "body type");
    }
    cvma_buf_free(&b);
}

static void test_tdx_cert_data_types_are_checked(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    uint8_t x[2];
    read_tdx("v4-v5-coco-trustee/tdx_quote_4.dat", &b);
    const uint16_t bad_outer[] = {1, 2, 3, 4, 5, 7, 0xffff};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad_outer); i++) {
        char want[16];
        snprintf(want, sizeof want, "type %u", bad_outer[i]);
        tu_put16(x, bad_outer[i]);
        expect_mutation(&b, V4_SIG_OFF + SIG_CDT, x, 2, CVMA_R_PARSE_TDX_CERT_DATA_TYPE, want);
    }
    /* Inner type, after 32 bytes of QE auth data. */
    size_t inner = V4_SIG_OFF + SIG_QE_AUTH_SIZE + 2 + 32;
    assert_int_equal(b.p[inner], 5);
    const uint16_t bad_inner[] = {1, 4, 6};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad_inner); i++) {
        char want[24];
        snprintf(want, sizeof want, "type %u", bad_inner[i]);
        tu_put16(x, bad_inner[i]);
        expect_mutation(&b, inner, x, 2, CVMA_R_PARSE_TDX_CERT_DATA_TYPE, want);
    }
    cvma_buf_free(&b);
}

static void test_tdx_inner_lengths_past_their_end_are_refused(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    uint8_t x[4];
    /* tdx_quote_4.dat has no trailing bytes: any length reaching further is past the input. */
    read_tdx("v4-v5-coco-trustee/tdx_quote_4.dat", &b);
    uint32_t sdl = tu_le32(b.p + V4_SIG_LEN_OFF);
    uint32_t cds = tu_le32(b.p + V4_SIG_OFF + SIG_CDS);
    size_t inner = V4_SIG_OFF + SIG_QE_AUTH_SIZE + 2 + 32;
    uint32_t pck = tu_le32(b.p + inner + 2);

    tu_put32(x, sdl + 1);
    expect_mutation(&b, V4_SIG_LEN_OFF, x, 4, CVMA_R_PARSE_TRUNCATED, "signature_data_len");
    tu_put32(x, 0xffffffff);
    expect_mutation(&b, V4_SIG_LEN_OFF, x, 4, CVMA_R_PARSE_TRUNCATED, "4294967295");
    tu_put32(x, 100); /* shorter than the fixed part: the rest becomes trailing data */
    expect_mutation(&b, V4_SIG_LEN_OFF, x, 4, CVMA_R_PARSE_TDX_LENGTH, "needs 134");
    tu_put32(x, sdl - 1); /* the certification data size no longer fits */
    expect_mutation(&b, V4_SIG_LEN_OFF, x, 4, CVMA_R_PARSE_TDX_LENGTH, "certification data size");
    tu_put32(x, cds + 1);
    expect_mutation(&b, V4_SIG_OFF + SIG_CDS, x, 4, CVMA_R_PARSE_TDX_LENGTH, "0x2fe");
    tu_put32(x, cds - 1);
    expect_mutation(&b, V4_SIG_OFF + SIG_CDS, x, 4, CVMA_R_PARSE_TDX_LENGTH, "0x2fe");
    tu_put32(x, 0xffffffff);
    expect_mutation(&b, V4_SIG_OFF + SIG_CDS, x, 4, CVMA_R_PARSE_TDX_LENGTH, NULL);
    tu_put32(x, 100); /* QE report cannot fit */
    expect_mutation(&b, V4_SIG_OFF + SIG_CDS, x, 4, CVMA_R_PARSE_TDX_LENGTH, NULL);
    tu_put16(x, 0xffff);
    expect_mutation(&b, V4_SIG_OFF + SIG_QE_AUTH_SIZE, x, 2, CVMA_R_PARSE_TDX_LENGTH,
                    "QE authentication data size 65535 at 0x4c2");
    tu_put16(x, 33); /* one more: the inner type/size are then read one byte off */
    expect_mutation(&b, V4_SIG_OFF + SIG_QE_AUTH_SIZE, x, 2, CVMA_R_PARSE_TDX_CERT_DATA_TYPE, NULL);
    tu_put32(x, pck + 1);
    expect_mutation(&b, inner + 2, x, 4, CVMA_R_PARSE_TDX_LENGTH, "PCK chain size");
    tu_put32(x, pck - 1);
    expect_mutation(&b, inner + 2, x, 4, CVMA_R_PARSE_TDX_LENGTH, "PCK chain size");
    tu_put32(x, 0x7fffffff);
    expect_mutation(&b, inner + 2, x, 4, CVMA_R_PARSE_TDX_LENGTH, "PCK chain size");
    cvma_buf_free(&b);
}

static void test_tdx_sgx_v3_quote_is_unknown_version(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    b = tu_vec_read("sgx/v3-dcapqvl/quote.bin");
    /* The version is checked first: version 3 gives PARSE_UNKNOWN_VERSION (its TEE type 0 is
     * never looked at). */
    assert_int_equal(parse(b.p, b.len, false, &q, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_UNKNOWN_VERSION);
    assert_non_null(strstr(v.reasons[0].detail, "SGX"));
    assert_int_equal(v.n_reasons, 1);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
}

static void test_tdx_sig_data_parses_alone(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q, s;
    struct cvma_verdict v;
    read_tdx("v5-gotdxguest/quote.bin", &b);
    assert_int_equal(parse(b.p, b.len, false, &q, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
    const uint8_t *sig = b.p + q.signed_len + 4;
    memset(&s, 0, sizeof s);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_sig_data_parse(sig, q.sig_data_len, &s, &v), CVMA_OK);
    assert_int_equal(s.sig_data_len, q.sig_data_len);
    assert_memory_equal(s.signature, q.signature, 64);
    assert_memory_equal(s.attestation_key, q.attestation_key, 64);
    assert_memory_equal(&s.qe_report, &q.qe_report, sizeof s.qe_report);
    assert_memory_equal(s.qe_report_signature, q.qe_report_signature, 64);
    assert_int_equal(s.qe_auth_data.len, q.qe_auth_data.len);
    assert_memory_equal(s.qe_auth_data.p, q.qe_auth_data.p, q.qe_auth_data.len);
    assert_int_equal(s.pck_chain_pem.len, q.pck_chain_pem.len);
    assert_memory_equal(s.pck_chain_pem.p, q.pck_chain_pem.p, q.pck_chain_pem.len);
    cvma_tdx_quote_cleanup(&s);
    cvma_verdict_cleanup(&v);
    /* Every shorter blob: a length no longer agrees. One more byte: also. */
    for (size_t n = 0; n <= q.sig_data_len; n++) {
        uint8_t *t = malloc(n + 1);
        assert_non_null(t);
        memcpy(t, sig, n < q.sig_data_len ? n : q.sig_data_len);
        t[n < q.sig_data_len ? n : q.sig_data_len] = 0;
        size_t len = n < q.sig_data_len ? n : q.sig_data_len + 1;
        cvma_verdict_init(&v);
        memset(&s, 0, sizeof s);
        assert_int_equal(cvma_tdx_sig_data_parse(t, len, &s, &v), CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_PARSE_TDX_LENGTH);
        cvma_tdx_quote_cleanup(&s);
        cvma_verdict_cleanup(&v);
        free(t);
    }
    cvma_tdx_quote_cleanup(&q);
    cvma_buf_free(&b);
}

static void test_tdx_quote_json_with_pck(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    struct cvma_pck_ext e;
    read_tdx("v4-uptodate-dcapqvl/quote.bin", &b);
    assert_int_equal(parse(b.p, b.len, false, &q, &v), CVMA_OK);
    X509 *leaf = pck_leaf(&q);
    assert_int_equal(cvma_pck_ext_parse(leaf, &e, &v), CVMA_OK);
    json_t *o = cvma_tdx_quote_json(&q, &e);
    assert_int_equal(json_integer_value(json_object_get(o, "version")), 4);
    assert_int_equal(json_integer_value(json_object_get(o, "tee_type")), 0x81);
    assert_string_equal(json_string_value(json_object_get(o, "qe_vendor_id")),
                        "939a7233f79c4ca9940a0db3957f0607");
    json_t *rtmr = json_object_get(o, "rtmr");
    assert_int_equal(json_array_size(rtmr), 4);
    assert_string_equal(json_string_value(json_array_get(rtmr, 3)), Z48);
    assert_string_equal(json_string_value(json_object_get(o, "mr_td")), samples[0].mr_td);
    assert_string_equal(json_string_value(json_object_get(o, "seam_attributes")),
                        "0000000000000000");
    assert_string_equal(json_string_value(json_object_get(o, "xfam")), "00000000000602e7");
    json_t *qe = json_object_get(o, "qe_report");
    assert_int_equal(json_integer_value(json_object_get(qe, "isv_svn")), 6);
    assert_int_equal(json_integer_value(json_object_get(qe, "isv_prod_id")), 2);
    assert_true(strncmp(json_string_value(json_object_get(qe, "mr_signer")), "dc9e2a7c", 8) == 0);
    assert_string_equal(json_string_value(json_object_get(o, "ppid")),
                        "811dca2a26b952e85bb6448b097ba4fd");
    assert_string_equal(json_string_value(json_object_get(o, "fmspc")), "b0c06f000000");
    assert_string_equal(json_string_value(json_object_get(o, "pceid")), "0000");
    assert_int_equal(json_integer_value(json_object_get(o, "pcesvn")), 11);
    assert_string_equal(json_string_value(json_object_get(o, "sgx_type")), "Scalable");
    assert_string_equal(json_string_value(json_object_get(o, "platform_instance_id")),
                        "07828474603e7019dc930775ffe8cdd2");
    json_t *comps = json_object_get(o, "sgx_tcb_components");
    assert_int_equal(json_array_size(comps), 16);
    assert_int_equal(json_integer_value(json_array_get(comps, 4)), 4);
    json_t *cfg = json_object_get(o, "configuration");
    assert_true(json_is_true(json_object_get(cfg, "dynamic_platform")));
    assert_true(json_is_true(json_object_get(cfg, "cached_keys")));
    assert_true(json_is_true(json_object_get(cfg, "smt_enabled")));
    json_decref(o);
    X509_free(leaf);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
}

/* ---- PCK extension ---- */

/* The raw DER value of the SGX extension of a quote's PCK leaf. */
static void pck_ext_der(const char *quote, struct cvma_buf *out)
{
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    read_tdx(quote, &b);
    assert_int_equal(parse(b.p, b.len, true, &q, &v), CVMA_OK);
    X509 *leaf = pck_leaf(&q);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    int i = X509_get_ext_by_OBJ(leaf, obj, -1);
    assert_true(i >= 0);
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(leaf, i));
    out->len = (size_t)ASN1_STRING_length(os);
    out->p = malloc(out->len);
    assert_non_null(out->p);
    memcpy(out->p, ASN1_STRING_get0_data(os), out->len);
    ASN1_OBJECT_free(obj);
    X509_free(leaf);
    cvma_tdx_quote_cleanup(&q);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
}

static void test_pck_ext_real_leaves(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf d;
    struct cvma_pck_ext e;
    struct cvma_verdict v;
    uint8_t want[16];

    /* dcap-qvl sample: Platform CA leaf with Platform Instance ID and Configuration. */
    pck_ext_der("v4-uptodate-dcapqvl/quote.bin", &d);
    assert_true(d.len > 255); /* long-form lengths (0x82) on the outer SEQUENCE */
    cvma_verdict_init(&v);
    assert_int_equal(cvma_pck_ext_parse_der(d.p, d.len, &e, &v), CVMA_OK);
    tu_hex("811dca2a26b952e85bb6448b097ba4fd", want, 16);
    assert_memory_equal(e.ppid, want, 16);
    tu_hex("b0c06f000000", want, 6);
    assert_memory_equal(e.fmspc, want, 6);
    assert_int_equal(e.pceid[0], 0);
    assert_int_equal(e.pceid[1], 0);
    assert_int_equal(e.pcesvn, 11);
    tu_hex("03030202040100050000000000000000", want, 16);
    assert_memory_equal(e.cpusvn, want, 16);
    const uint8_t comps[16] = {3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(e.sgx_tcb_comp, comps, 16);
    assert_int_equal(e.sgx_type, 1);
    assert_true(e.has_platform_instance_id);
    tu_hex("07828474603e7019dc930775ffe8cdd2", want, 16);
    assert_memory_equal(e.platform_instance_id, want, 16);
    assert_true(e.has_configuration);
    assert_int_equal(e.dynamic_platform, 1);
    assert_int_equal(e.cached_keys, 1);
    assert_int_equal(e.smt_enabled, 1);
    assert_int_equal(v.n_reasons, 0);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&d);

    /* go-tdx-guest SPR sample: Cached Keys FALSE. */
    pck_ext_der("v4-spr-gotdxguest/quote.bin", &d);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_pck_ext_parse_der(d.p, d.len, &e, &v), CVMA_OK);
    tu_hex("089ddfdb9c0359c82a3bc7719239574e", want, 16);
    assert_memory_equal(e.ppid, want, 16);
    tu_hex("50806f000000", want, 6);
    assert_memory_equal(e.fmspc, want, 6);
    assert_int_equal(e.pcesvn, 11);
    tu_hex("03030202020100020000000000000000", want, 16);
    assert_memory_equal(e.cpusvn, want, 16);
    const uint8_t spr_comps[16] = {3, 3, 2, 2, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(e.sgx_tcb_comp, spr_comps, 16);
    /* Checked with openssl asn1parse: 0a 01 01, .6 = 8c31..., .7 = {TRUE, FALSE, TRUE}. */
    assert_int_equal(e.sgx_type, 1);
    assert_true(e.has_platform_instance_id);
    tu_hex("8c314d17d205dfafcbecbb00fc87eff7", want, 16);
    assert_memory_equal(e.platform_instance_id, want, 16);
    assert_true(e.has_configuration);
    assert_int_equal(e.dynamic_platform, 1);
    assert_int_equal(e.cached_keys, 0);
    assert_int_equal(e.smt_enabled, 1);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&d);
}

static void test_pck_ext_truncated_or_garbled_is_invalid(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf d;
    struct cvma_pck_ext e;
    struct cvma_verdict v;
    pck_ext_der("v4-uptodate-dcapqvl/quote.bin", &d);
    for (size_t n = 0; n < d.len; n++) {
        uint8_t *t = malloc(n > 0 ? n : 1);
        assert_non_null(t);
        memcpy(t, d.p, n);
        cvma_verdict_init(&v);
        assert_int_equal(cvma_pck_ext_parse_der(t, n, &e, &v), CVMA_REJECTED);
        assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXTENSION_INVALID);
        assert_int_equal(e.pcesvn, 0); /* out cleared on failure */
        cvma_verdict_cleanup(&v);
        free(t);
    }
    /* Every bit flipped: never a crash; a refusal is always CERT_EXTENSION_INVALID. */
    size_t refused = 0;
    for (size_t i = 0; i < d.len * 8; i++) {
        d.p[i / 8] ^= (uint8_t)(1u << (i % 8));
        cvma_verdict_init(&v);
        if (cvma_pck_ext_parse_der(d.p, d.len, &e, &v) != CVMA_OK) {
            assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXTENSION_INVALID);
            refused++;
        }
        cvma_verdict_cleanup(&v);
        d.p[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    assert_true(refused > d.len); /* structure bits matter */
    /* One extra byte after the SEQUENCE. */
    uint8_t *t = malloc(d.len + 1);
    assert_non_null(t);
    memcpy(t, d.p, d.len);
    t[d.len] = 0;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_pck_ext_parse_der(t, d.len + 1, &e, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXTENSION_INVALID);
    cvma_verdict_cleanup(&v);
    free(t);
    cvma_buf_free(&d);
}

static void test_pck_ext_missing_from_certificate(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_pck_ext e;
    struct cvma_verdict v;
    b = tu_vec_read("tdx/roots/intel_sgx_root_ca.pem");
    X509 *root = cvma_x509_load(b.p, b.len);
    assert_non_null(root);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_pck_ext_parse(root, &e, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_CERT_EXTENSION_INVALID);
    assert_non_null(strstr(v.reasons[0].detail, "1.2.840.113741.1.13.1"));
    cvma_verdict_cleanup(&v);
    X509_free(root);
    cvma_buf_free(&b);
}

/* ---- synthetic PCK extensions (our own DER) ---- */

struct der {
    uint8_t b[2048];
    size_t n;
};

static void d_byte(struct der *d, uint8_t x)
{
    assert_true(d->n < sizeof d->b);
    d->b[d->n++] = x;
}

static void d_bytes(struct der *d, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        d_byte(d, p[i]);
    }
}

static void d_tlv(struct der *d, uint8_t tag, const uint8_t *p, size_t n)
{
    d_byte(d, tag);
    if (n < 0x80) {
        d_byte(d, (uint8_t)n);
    } else if (n < 0x100) {
        d_byte(d, 0x81);
        d_byte(d, (uint8_t)n);
    } else {
        d_byte(d, 0x82);
        d_byte(d, (uint8_t)(n >> 8));
        d_byte(d, (uint8_t)n);
    }
    d_bytes(d, p, n);
}

#define SGX_ARC 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01

/* SEQUENCE { OID SGX_ARC.a[.b], value TLV } */
static void d_pair(struct der *d, uint8_t a, uint8_t b, const uint8_t *val, size_t n)
{
    struct der e = {.n = 0};
    uint8_t oid[] = {SGX_ARC, a, b};
    d_tlv(&e, 0x06, oid, b != 0 ? sizeof oid : sizeof oid - 1);
    d_bytes(&e, val, n);
    d_tlv(d, 0x30, e.b, e.n);
}

/*
 * A synthetic extension with made-up values; mut names one deviation. Values: PPID 00..0f,
 * comps 1..16 (comp 16 = 200), PCESVN 300, CPUSVN a0..af, PCE-ID 0001, FMSPC 102030405060,
 * SGX type 2, Configuration { dynamic_platform FALSE, smt_enabled TRUE }.
 */
static void build_ext(struct der *out, const char *mut)
{
    struct der top = {.n = 0}, tcb = {.n = 0}, cfg = {.n = 0}, v = {.n = 0};
    uint8_t ppid[16], cpusvn[17] = {0}; /* one spare byte for "cpusvn-17" */
    for (int i = 0; i < 16; i++) {
        ppid[i] = (uint8_t)i;
        cpusvn[i] = (uint8_t)(0xa0 + i);
    }
#define IS(m) (strcmp(mut, m) == 0)
    if (IS("unknown-first")) {
        const uint8_t unk[] = {0x05, 0x00}; /* NULL value under an unknown arc .1.99 */
        d_pair(&top, 99, 0, unk, sizeof unk);
    }
    v.n = 0;
    d_tlv(&v, 0x04, ppid, IS("ppid-15") ? 15 : 16);
    if (!IS("no-ppid")) {
        d_pair(&top, 1, 0, v.b, v.n);
    }
    for (uint8_t n = 1; n <= 16; n++) {
        v.n = 0;
        if (n == 5 && IS("comp-256")) {
            const uint8_t c[] = {0x02, 0x02, 0x01, 0x00};
            d_bytes(&v, c, sizeof c);
        } else if (n == 5 && IS("comp-negative")) {
            const uint8_t c[] = {0x02, 0x01, 0x80};
            d_bytes(&v, c, sizeof c);
        } else if (n == 5 && IS("comp-nonminimal")) {
            const uint8_t c[] = {0x02, 0x02, 0x00, 0x05};
            d_bytes(&v, c, sizeof c);
        } else if (n == 5 && IS("comp-empty")) {
            const uint8_t c[] = {0x02, 0x00};
            d_bytes(&v, c, sizeof c);
        } else if (n == 5 && IS("comp-octets")) {
            const uint8_t c[] = {0x04, 0x01, 0x05};
            d_bytes(&v, c, sizeof c);
        } else if (n == 16) {
            const uint8_t c[] = {0x02, 0x02, 0x00, 200}; /* >= 0x80: leading 0x00 */
            d_bytes(&v, c, sizeof c);
        } else {
            const uint8_t c[] = {0x02, 0x01, n};
            d_bytes(&v, c, sizeof c);
        }
        if (!(n == 7 && IS("no-comp7"))) {
            d_pair(&tcb, 2, n, v.b, v.n);
        }
        if (n == 3 && IS("dup-comp3")) {
            d_pair(&tcb, 2, n, v.b, v.n);
        }
    }
    v.n = 0;
    if (IS("pcesvn-65536")) {
        const uint8_t c[] = {0x02, 0x03, 0x01, 0x00, 0x00};
        d_bytes(&v, c, sizeof c);
    } else if (IS("pcesvn-65535")) {
        const uint8_t c[] = {0x02, 0x03, 0x00, 0xff, 0xff};
        d_bytes(&v, c, sizeof c);
    } else {
        const uint8_t c[] = {0x02, 0x02, 0x01, 0x2c}; /* 300 */
        d_bytes(&v, c, sizeof c);
    }
    d_pair(&tcb, 2, 17, v.b, v.n);
    v.n = 0;
    d_tlv(&v, 0x04, cpusvn, IS("cpusvn-17") ? 17 : 16);
    if (!IS("no-cpusvn")) {
        d_pair(&tcb, 2, 18, v.b, v.n);
    }
    if (IS("tcb-unknown")) {
        const uint8_t c[] = {0x0c, 0x02, 'h', 'i'};
        d_pair(&tcb, 2, 40, c, sizeof c);
    }
    v.n = 0;
    d_tlv(&v, IS("tcb-set") ? 0x31 : 0x30, tcb.b, tcb.n);
    if (!IS("no-tcb")) {
        d_pair(&top, 2, 0, v.b, v.n);
    }
    {
        const uint8_t pceid[] = {0x04, 0x02, 0x00, 0x01};
        const uint8_t pceid_long[] = {0x04, 0x81, 0x02, 0x00, 0x01}; /* 0x81 for 2: not DER */
        if (IS("pceid-nonminimal-len")) {
            d_pair(&top, 3, 0, pceid_long, sizeof pceid_long);
        } else {
            d_pair(&top, 3, 0, pceid, sizeof pceid);
        }
    }
    if (!IS("no-fmspc")) {
        const uint8_t fmspc[] = {0x04, 0x06, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60};
        d_pair(&top, 4, 0, fmspc, sizeof fmspc);
        if (IS("dup-fmspc")) {
            d_pair(&top, 4, 0, fmspc, sizeof fmspc);
        }
    }
    {
        const uint8_t t2[] = {0x0a, 0x01, 0x02}, t3[] = {0x0a, 0x01, 0x03},
                      tint[] = {0x02, 0x01, 0x01};
        if (IS("sgxtype-3")) {
            d_pair(&top, 5, 0, t3, sizeof t3);
        } else if (IS("sgxtype-integer")) {
            d_pair(&top, 5, 0, tint, sizeof tint);
        } else if (!IS("no-sgxtype")) {
            d_pair(&top, 5, 0, t2, sizeof t2);
        }
    }
    {
        const uint8_t f[] = {0x01, 0x01, 0x00}, t[] = {0x01, 0x01, 0xff},
                      one[] = {0x01, 0x01, 0x01};
        d_pair(&cfg, 7, 1, f, sizeof f);
        d_pair(&cfg, 7, 3, IS("bool-01") ? one : t, 3);
        if (IS("cfg-long")) {
            /* unknown entries push Configuration past 127 bytes: the 0x81 length form */
            const uint8_t junk[] = {0x04, 0x20, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                    11,   12,   13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                    23,   24,   25, 26, 27, 28, 29, 30, 31, 32};
            for (uint8_t k = 10; k < 14; k++) {
                d_pair(&cfg, 7, k, junk, sizeof junk);
            }
            assert_true(cfg.n >= 0x80 && cfg.n < 0x100);
        }
        v.n = 0;
        d_tlv(&v, 0x30, cfg.b, cfg.n);
        d_pair(&top, 7, 0, v.b, v.n);
    }
    if (IS("indefinite")) {
        d_byte(out, 0x30);
        d_byte(out, 0x80);
        d_bytes(out, top.b, top.n);
        d_byte(out, 0);
        d_byte(out, 0);
    } else {
        d_tlv(out, 0x30, top.b, top.n);
    }
#undef IS
}

static void test_pck_ext_synthetic_encodings(void **state)
{
    (void)state;
    const struct {
        const char *mut;
        const char *invalid_names; /* NULL: parses */
    } cases[] = {
            {"none", NULL},
            {"unknown-first", NULL},
            {"tcb-unknown", NULL},
            {"pcesvn-65535", NULL},
            {"no-ppid", "1.2.840.113741.1.13.1.1)"},
            {"ppid-15", "1.2.840.113741.1.13.1.1)"},
            {"no-tcb", "1.2.840.113741.1.13.1.2)"},
            {"tcb-set", "1.2.840.113741.1.13.1.2)"},
            {"cfg-long", NULL},
            {"no-comp7", "1.2.840.113741.1.13.1.2.7)"},
            {"dup-comp3", "1.2.840.113741.1.13.1.2.3)"},
            {"comp-256", "1.2.840.113741.1.13.1.2.5)"},
            {"comp-negative", "1.2.840.113741.1.13.1.2.5)"},
            {"comp-nonminimal", "1.2.840.113741.1.13.1.2.5)"},
            {"comp-empty", "1.2.840.113741.1.13.1.2.5)"},
            {"comp-octets", "1.2.840.113741.1.13.1.2.5)"},
            {"pcesvn-65536", "1.2.840.113741.1.13.1.2.17)"},
            {"no-cpusvn", "1.2.840.113741.1.13.1.2.18)"},
            {"cpusvn-17", "1.2.840.113741.1.13.1.2.18)"},
            {"pceid-nonminimal-len", "1.2.840.113741.1.13.1)"},
            {"no-fmspc", "1.2.840.113741.1.13.1.4)"},
            {"dup-fmspc", "1.2.840.113741.1.13.1.4)"},
            {"no-sgxtype", "1.2.840.113741.1.13.1.5)"},
            {"sgxtype-3", "1.2.840.113741.1.13.1.5)"},
            {"sgxtype-integer", "1.2.840.113741.1.13.1.5)"},
            {"bool-01", "1.2.840.113741.1.13.1.7.3)"},
            {"indefinite", "1.2.840.113741.1.13.1)"},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct der d = {.n = 0};
        struct cvma_pck_ext e;
        struct cvma_verdict v;
        build_ext(&d, cases[i].mut);
        cvma_verdict_init(&v);
        enum cvma_status st = cvma_pck_ext_parse_der(d.b, d.n, &e, &v);
        const char *name = cases[i].invalid_names;
        bool want_ok = name == NULL;
        if (want_ok) {
            if (st != CVMA_OK) {
                fail_msg("%s: refused: %s", cases[i].mut, v.reasons[0].detail);
            }
            assert_int_equal(e.pcesvn, strcmp(cases[i].mut, "pcesvn-65535") == 0 ? 65535 : 300);
            assert_int_equal(e.sgx_tcb_comp[0], 1);
            assert_int_equal(e.sgx_tcb_comp[15], 200);
            assert_int_equal(e.sgx_type, 2);
            assert_int_equal(e.pceid[1], 1);
            assert_int_equal(e.fmspc[5], 0x60);
            assert_int_equal(e.cpusvn[15], 0xaf);
            assert_true(e.has_configuration);
            assert_int_equal(e.dynamic_platform, 0);
            assert_int_equal(e.cached_keys, -1);
            assert_int_equal(e.smt_enabled, 1);
            assert_false(e.has_platform_instance_id);
        } else {
            if (st != CVMA_REJECTED ||
                cvma_verdict_first_error(&v) != CVMA_R_CERT_EXTENSION_INVALID) {
                fail_msg("%s: not refused as CERT_EXTENSION_INVALID", cases[i].mut);
            }
            if (strstr(v.reasons[0].detail, name) == NULL) {
                fail_msg("%s: detail '%s' does not name %s", cases[i].mut, v.reasons[0].detail,
                         name);
            }
        }
        cvma_verdict_cleanup(&v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tdx_every_sample_quote_parses_with_manifest_values),
            cmocka_unit_test(test_tdx_spr_trailing_text_is_refused_by_default),
            cmocka_unit_test(test_tdx_trailing_zeros_are_info),
            cmocka_unit_test(test_tdx_quote_4_is_a_debug_td),
            cmocka_unit_test(test_tdx_v5_body_type_3_fields),
            cmocka_unit_test(test_tdx_v5_body_type_2_is_parsed_as_td_report_10),
            cmocka_unit_test(test_tdx_truncated_at_every_length_is_refused),
            cmocka_unit_test(test_tdx_header_fields_are_checked),
            cmocka_unit_test(test_tdx_reserved_and_qe_id_are_not_appraised),
            cmocka_unit_test(test_tdx_v5_body_type_and_size_are_checked),
            cmocka_unit_test(test_tdx_cert_data_types_are_checked),
            cmocka_unit_test(test_tdx_inner_lengths_past_their_end_are_refused),
            cmocka_unit_test(test_tdx_sgx_v3_quote_is_unknown_version),
            cmocka_unit_test(test_tdx_sig_data_parses_alone),
            cmocka_unit_test(test_tdx_quote_json_with_pck),
            cmocka_unit_test(test_pck_ext_real_leaves),
            cmocka_unit_test(test_pck_ext_truncated_or_garbled_is_invalid),
            cmocka_unit_test(test_pck_ext_missing_from_certificate),
            cmocka_unit_test(test_pck_ext_synthetic_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
