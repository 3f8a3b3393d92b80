/*
 * The simulated SEV-SNP TEE (sim/sim_snp.h), checked independently with OpenSSL: report
 * layout against the SEV-SNP ABI spec, the report signature, the ARK -> ASK -> VCEK chain,
 * the CRL and the VCEK/VLEK extensions of AMD's VCEK spec. Nothing here uses the project's own
 * parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/util.h"
#include "sim/sim_snp.h"
#include "tu_sim.h"

#define AMD_ARC "1.3.6.1.4.1.3704.1."

/* RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48: bytes of the AlgorithmIdentifier on AMD's certs
 * (taken from a real Turin VCEK from KDS). */
static const uint8_t pss_sha384_alg[] = {
        0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30,
        0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
        0x02, 0x02, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
        0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
        0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x30};

static void run_sim(struct tu_run *r, const struct cvma_sim_snp_opts *o)
{
    char err[512] = "";
    enum cvma_status st = cvma_sim_snp_write(o, r->dir, err, sizeof err);

    if (st != CVMA_OK) {
        fail_msg("cvma_sim_snp_write: status %d: %s", (int)st, err);
    }
    cvma_buf_free(&r->out);
    tu_run_read(r, "report.bin", &r->out);
}

/*
 * Signature: R and S little-endian in 72-byte fields at 0x2A0 / 0x2E8; ECDSA P-384 over SHA-384 of
 * bytes 0x000..0x29F. Returns the EVP_PKEY_verify result (1 = valid).
 */
static int verify_report_sig(const uint8_t *rep, X509 *leaf)
{
    uint8_t r_be[48], s_be[48], digest[48];
    unsigned int dlen = 0;
    BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG *sig = NULL;
    unsigned char *der = NULL;
    int der_len, rc;
    EVP_PKEY *pub = X509_get0_pubkey(leaf);
    EVP_PKEY_CTX *ctx = NULL;

    assert_non_null(pub);
    /* The 24 bytes above each 48-byte component must be zero padding. */
    assert_true(tu_all_bytes(rep + 0x2A0 + 48, 24, 0));
    assert_true(tu_all_bytes(rep + 0x2E8 + 48, 24, 0));
    for (size_t i = 0; i < 48; i++) {
        r_be[i] = rep[0x2A0 + 47 - i];
        s_be[i] = rep[0x2E8 + 47 - i];
    }
    assert_int_equal(EVP_Digest(rep, 0x2A0, digest, &dlen, EVP_sha384(), NULL), 1);
    assert_int_equal(dlen, 48);
    assert_non_null(r = BN_bin2bn(r_be, 48, NULL));
    assert_non_null(s = BN_bin2bn(s_be, 48, NULL));
    assert_non_null(sig = ECDSA_SIG_new());
    assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
    der_len = i2d_ECDSA_SIG(sig, &der);
    assert_true(der_len > 0);
    assert_non_null(ctx = EVP_PKEY_CTX_new(pub, NULL));
    assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
    rc = EVP_PKEY_verify(ctx, der, (size_t)der_len, digest, dlen);
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return rc;
}

/* The value (OCTET STRING contents) of the extension with dotted OID, or NULL if absent. */
static const ASN1_OCTET_STRING *ext_value(X509 *x, const char *oid)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    int idx;
    const ASN1_OCTET_STRING *v = NULL;

    assert_non_null(obj);
    idx = X509_get_ext_by_OBJ(x, obj, -1);
    if (idx >= 0) {
        X509_EXTENSION *e = X509_get_ext(x, idx);
        assert_int_equal(X509_EXTENSION_get_critical(e), 0);
        v = X509_EXTENSION_get_data(e);
    }
    ASN1_OBJECT_free(obj);
    return v;
}

static void assert_ext_bytes(X509 *x, const char *oid, const uint8_t *want, size_t want_len)
{
    const ASN1_OCTET_STRING *v = ext_value(x, oid);

    if (v == NULL) {
        fail_msg("extension %s missing", oid);
    }
    assert_int_equal(ASN1_STRING_length(v), want_len);
    assert_memory_equal(ASN1_STRING_get0_data(v), want, want_len);
}

/* Every extension's OID, dotted, in order, separated by spaces. */
static void ext_oids(X509 *x, char *out, size_t out_len)
{
    size_t off = 0;

    out[0] = '\0';
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        char oid[64];
        ASN1_OBJECT *obj = X509_EXTENSION_get_object(X509_get_ext(x, i));
        assert_true(OBJ_obj2txt(oid, sizeof oid, obj, 1) > 0);
        int n = snprintf(out + off, out_len - off, "%s%s", off ? " " : "", oid);
        assert_true(n > 0 && (size_t)n < out_len - off);
        off += (size_t)n;
    }
}

static void assert_pss_sha384(X509 *x)
{
    const ASN1_BIT_STRING *sig;
    const X509_ALGOR *alg;
    unsigned char *der = NULL;
    int len;

    X509_get0_signature(&sig, &alg, x);
    len = i2d_X509_ALGOR(alg, &der);
    assert_int_equal(len, sizeof pss_sha384_alg);
    assert_memory_equal(der, pss_sha384_alg, sizeof pss_sha384_alg);
    OPENSSL_free(der);
}

/* ---- tests ---- */

static void test_sim_snp_milan_report_has_spec_layout(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    const uint8_t *rep;
    static const uint8_t tcb[8] = {3, 0, 0, 0, 0, 0, 8, 115}; /* Milan: bl tee .. snp ucode */
    static const uint8_t fw[8] = {20, 55, 1, 0, 20, 55, 1, 0};

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    o.has_measurement = true;
    tu_fill(o.measurement, sizeof o.measurement, 0x40);
    tu_fill(o.report_data, 20, 0x80); /* a short nonce: the rest stays zero */
    tu_fill(o.host_data, sizeof o.host_data, 0xC0);
    o.has_chip_id = true;
    tu_fill(o.chip_id, sizeof o.chip_id, 0x01);
    o.vmpl = 2;
    run_sim(&r, &o);
    rep = r.out.p;

    assert_int_equal(r.out.len, 1184);
    assert_int_equal(tu_le32(rep + 0x000), 5);
    assert_int_equal(tu_le32(rep + 0x004), 0); /* guest_svn: from the ID block; none */
    assert_int_equal(tu_le64(rep + 0x008), 0x30000);
    assert_true(tu_all_bytes(rep + 0x010, 32, 0)); /* family_id, image_id */
    assert_int_equal(tu_le32(rep + 0x030), 2);
    assert_int_equal(tu_le32(rep + 0x034), 1);
    assert_memory_equal(rep + 0x038, tcb, 8);
    assert_int_equal(tu_le64(rep + 0x040), 1);
    assert_int_equal(tu_le32(rep + 0x048), 0); /* SIGNING_KEY = VCEK */
    assert_memory_equal(rep + 0x050, o.report_data, 64);
    assert_true(tu_all_bytes(rep + 0x050 + 20, 44, 0));
    assert_memory_equal(rep + 0x090, o.measurement, 48);
    assert_memory_equal(rep + 0x0C0, o.host_data, 32);
    assert_true(tu_all_bytes(rep + 0x0E0, 96, 0));  /* id_key_digest, author_key_digest */
    assert_false(tu_all_bytes(rep + 0x140, 32, 0)); /* random report_id */
    assert_true(tu_all_bytes(rep + 0x160, 32, 0xFF));
    assert_memory_equal(rep + 0x180, tcb, 8);
    assert_int_equal(rep[0x188], 0x19);
    assert_int_equal(rep[0x189], 0x01);
    assert_int_equal(rep[0x18A], 0x01);
    assert_true(tu_all_bytes(rep + 0x18B, 21, 0));
    assert_memory_equal(rep + 0x1A0, o.chip_id, 64);
    assert_memory_equal(rep + 0x1E0, tcb, 8);
    assert_memory_equal(rep + 0x1E8, fw, 8);
    assert_memory_equal(rep + 0x1F0, tcb, 8);
    assert_true(tu_all_bytes(rep + 0x1F8, 0x2A0 - 0x1F8, 0)); /* mit vectors 0, reserved */
    assert_true(tu_all_bytes(rep + 0x330, 0x4A0 - 0x330, 0)); /* unsigned tail */
    tu_run_cleanup(&r);
}

/* With no ID block, GUEST_SVN is 0 as in every real report launched without one. */
static void test_sim_snp_guest_svn_is_that_of_real_reports_without_id_block(void **state)
{
    static const char *const real[] = {
            "snp/milan-v2-gosevguest/report.bin",
            "snp/milan-v3-vlek-anolis-trustee/report.bin",
            "snp/milan-v3-vlek-coco-trustee/report.bin",
            "snp/milan-v5-gcp-teekit/report.bin",
            "snp/turin-v5-anolis-trustee/report.bin",
    };
    struct tu_run r;
    struct cvma_sim_snp_opts o;

    (void)state;
    TU_NEED_VECTORS();
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    run_sim(&r, &o);
    /* The sim has no ID block: family_id, image_id, id_key_digest, author_key_digest zero. */
    assert_true(tu_all_bytes(r.out.p + 0x010, 32, 0));
    assert_true(tu_all_bytes(r.out.p + 0x0E0, 96, 0));
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        struct cvma_buf b = tu_vec_read(real[i]);

        assert_int_equal(b.len, 1184);
        assert_true(tu_all_bytes(b.p + 0x010, 32, 0));
        assert_true(tu_all_bytes(b.p + 0x0E0, 96, 0));
        if (tu_le32(r.out.p + 0x004) != tu_le32(b.p + 0x004)) {
            fail_msg("%s: sim guest_svn %u, real %u", real[i], tu_le32(r.out.p + 0x004),
                     tu_le32(b.p + 0x004));
        }
        cvma_buf_free(&b);
    }
    tu_run_cleanup(&r);
}

static void test_sim_snp_report_signature_verifies_with_vcek(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *vcek, *ark;
    uint8_t copy[1184];

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    run_sim(&r, &o);
    vcek = tu_run_pem(&r, "vcek.pem", 0);
    ark = tu_run_pem(&r, "ark.pem", 0);
    assert_int_equal(verify_report_sig(r.out.p, vcek), 1);

    /* The check is live: a changed measurement byte or R byte breaks it. */
    memcpy(copy, r.out.p, sizeof copy);
    copy[0x090] ^= 1;
    assert_int_not_equal(verify_report_sig(copy, vcek), 1);
    memcpy(copy, r.out.p, sizeof copy);
    copy[0x2A0] ^= 1;
    assert_int_not_equal(verify_report_sig(copy, vcek), 1);
    /* And another key does not verify it. */
    assert_int_not_equal(verify_report_sig(r.out.p, ark), 1);

    X509_free(ark);
    X509_free(vcek);
    tu_run_cleanup(&r);
}

static void test_sim_snp_chain_verifies_vcek_ask_ark(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *ark, *ask, *vcek, *chain0, *chain1;
    struct cvma_buf der = {NULL, 0};
    unsigned char *vcek_der = NULL;
    int vcek_der_len;
    char *p, cn[64];

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    run_sim(&r, &o);
    ark = tu_run_pem(&r, "ark.pem", 0);
    ask = tu_run_pem(&r, "ask.pem", 0);
    vcek = tu_run_pem(&r, "vcek.pem", 0);

    assert_int_equal(X509_verify(ark, X509_get0_pubkey(ark)), 1);
    assert_int_equal(X509_verify(ask, X509_get0_pubkey(ark)), 1);
    assert_int_equal(X509_verify(vcek, X509_get0_pubkey(ask)), 1);
    assert_int_not_equal(X509_verify(vcek, X509_get0_pubkey(ark)), 1);
    assert_int_equal(tu_verify_chain(ark, ask, vcek, 0), 1);
    assert_pss_sha384(ark);
    assert_pss_sha384(ask);
    assert_pss_sha384(vcek);

    assert_string_equal(tu_subject_cn(ark, cn, sizeof cn), "ARK-Milan");
    assert_string_equal(tu_subject_cn(ask, cn, sizeof cn), "SEV-Milan");
    assert_string_equal(tu_subject_cn(vcek, cn, sizeof cn), "SEV-VCEK");
    assert_true(EVP_PKEY_is_a(X509_get0_pubkey(vcek), "EC"));
    assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(vcek)), 384);
    assert_true(EVP_PKEY_is_a(X509_get0_pubkey(ark), "RSA"));

    /* CA extensions (as AMD's). */
    assert_true(X509_check_ca(ark) > 0);
    assert_int_equal(X509_get_key_usage(ark), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_int_equal(X509_get_key_usage(ask), KU_KEY_CERT_SIGN);
    assert_int_equal(X509_get_pathlen(ask), 0);
    assert_int_equal(X509_get_pathlen(ark), -1);
    assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(
                             ark, X509_get_ext_by_NID(ark, NID_basic_constraints, -1))),
                     1);
    assert_true(X509_get_ext_by_NID(ark, NID_crl_distribution_points, -1) >= 0);
    assert_true(X509_get_ext_by_NID(ask, NID_crl_distribution_points, -1) >= 0);

    /* cert_chain.pem: ASK then ARK; vcek.der is vcek.pem. */
    chain0 = tu_run_pem(&r, "cert_chain.pem", 0);
    chain1 = tu_run_pem(&r, "cert_chain.pem", 1);
    assert_int_equal(X509_cmp(chain0, ask), 0);
    assert_int_equal(X509_cmp(chain1, ark), 0);
    assert_non_null(p = cvma_path_join(r.dir, "vcek.der"));
    assert_int_equal(cvma_file_read(p, 65536, &der), CVMA_OK);
    vcek_der_len = i2d_X509(vcek, &vcek_der);
    assert_int_equal(der.len, vcek_der_len);
    assert_memory_equal(der.p, vcek_der, der.len);

    OPENSSL_free(vcek_der);
    cvma_buf_free(&der);
    free(p);
    X509_free(chain1);
    X509_free(chain0);
    X509_free(vcek);
    X509_free(ask);
    X509_free(ark);
    tu_run_cleanup(&r);
}

static void test_sim_snp_vcek_has_only_amd_extensions_and_hwid_is_chip_id(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *vcek;
    char oids[1024];
    static const uint8_t v0[] = {0x02, 0x01, 0x00};
    static const uint8_t name[] = {0x16, 0x08, 'M', 'i', 'l', 'a', 'n', '-', 'B', '0'};
    static const uint8_t bl[] = {0x02, 0x01, 0x03};
    static const uint8_t tee[] = {0x02, 0x01, 0x00};
    static const uint8_t snp[] = {0x02, 0x01, 0x08};
    static const uint8_t ucode[] = {0x02, 0x02, 0x00, 0xD9}; /* 217 needs a leading zero */

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    o.has_chip_id = true;
    tu_fill(o.chip_id, sizeof o.chip_id, 0x90);
    o.tcb_ucode = 217;
    run_sim(&r, &o);
    vcek = tu_run_pem(&r, "vcek.pem", 0);

    ext_oids(vcek, oids, sizeof oids);
    /* AMD's order (as every real Milan/Genoa VCEK and VLEK): snpSPL .3.3 after .3.7. */
    assert_string_equal(oids, AMD_ARC "1 " AMD_ARC "2 " AMD_ARC "3.1 " AMD_ARC "3.2 " AMD_ARC
                                      "3.4 " AMD_ARC "3.5 " AMD_ARC "3.6 " AMD_ARC "3.7 " AMD_ARC
                                      "3.3 " AMD_ARC "3.8 " AMD_ARC "4");
    assert_ext_bytes(vcek, AMD_ARC "1", v0, sizeof v0);
    assert_ext_bytes(vcek, AMD_ARC "2", name, sizeof name);
    assert_ext_bytes(vcek, AMD_ARC "3.1", bl, sizeof bl);
    assert_ext_bytes(vcek, AMD_ARC "3.2", tee, sizeof tee);
    assert_ext_bytes(vcek, AMD_ARC "3.3", snp, sizeof snp);
    assert_ext_bytes(vcek, AMD_ARC "3.4", v0, sizeof v0);
    assert_ext_bytes(vcek, AMD_ARC "3.7", v0, sizeof v0);
    assert_ext_bytes(vcek, AMD_ARC "3.8", ucode, sizeof ucode);
    /* hwID: the 64 raw chip_id bytes, no DER tag. */
    assert_ext_bytes(vcek, AMD_ARC "4", o.chip_id, 64);
    assert_memory_equal(r.out.p + 0x1A0, o.chip_id, 64);
    assert_int_equal(r.out.p[0x187], 217);
    assert_int_equal(verify_report_sig(r.out.p, vcek), 1);

    X509_free(vcek);
    tu_run_cleanup(&r);
}

/* The leaf's extensions, in the order of a real VCEK/VLEK of the same product and kind. */
static void test_sim_snp_leaf_extension_order_is_that_of_real_certs(void **state)
{
    static const struct {
        const char *rel;
        enum cvma_snp_product product;
        bool vlek;
    } real[] = {
            {"snp/milan-v2-gosevguest/vcek.der", CVMA_SNP_PRODUCT_MILAN, false},
            {"snp/milan-v3-vlek-coco-trustee/vlek.der", CVMA_SNP_PRODUCT_MILAN, true},
            {"snp/genoa-v3-azure-hcl/vcek.pem", CVMA_SNP_PRODUCT_GENOA, false},
            {"snp/turin-v5-anolis-trustee/vcek.der", CVMA_SNP_PRODUCT_TURIN, false},
    };

    (void)state;
    TU_NEED_VECTORS();
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        struct tu_run r;
        struct cvma_sim_snp_opts o;
        X509 *want = tu_vec_cert(real[i].rel), *got;
        char want_oids[1024], got_oids[1024];

        tu_run_init(&r);
        cvma_sim_snp_opts_default(&o);
        o.product = real[i].product;
        o.vlek = real[i].vlek;
        run_sim(&r, &o);
        got = tu_run_pem(&r, real[i].vlek ? "vlek.pem" : "vcek.pem", 0);
        ext_oids(want, want_oids, sizeof want_oids);
        ext_oids(got, got_oids, sizeof got_oids);
        if (strcmp(got_oids, want_oids) != 0) {
            fail_msg("%s: sim %s, real %s", real[i].rel, got_oids, want_oids);
        }
        X509_free(got);
        X509_free(want);
        tu_run_cleanup(&r);
    }
}

static void test_sim_snp_crl_is_signed_by_ark_and_lists_nothing(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *ark, *ask;
    X509_CRL *crl;
    X509_REVOKED *rev = NULL;

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    run_sim(&r, &o);
    ark = tu_run_pem(&r, "ark.pem", 0);
    ask = tu_run_pem(&r, "ask.pem", 0);
    crl = tu_run_crl(&r, "crl.der");

    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ark)), 1);
    assert_int_not_equal(X509_CRL_verify(crl, X509_get0_pubkey(ask)), 1);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ark)), 0);
    assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) > 0, 0);
    assert_int_equal(X509_CRL_get0_by_cert(crl, &rev, ask), 0);
    assert_true(X509_cmp_time(X509_CRL_get0_lastUpdate(crl), NULL) < 0);
    assert_true(X509_cmp_time(X509_CRL_get0_nextUpdate(crl), NULL) > 0);
    {
        const X509_ALGOR *alg;
        unsigned char *der = NULL;
        X509_CRL_get0_signature(crl, NULL, &alg);
        assert_int_equal(i2d_X509_ALGOR(alg, &der), sizeof pss_sha384_alg);
        assert_memory_equal(der, pss_sha384_alg, sizeof pss_sha384_alg);
        OPENSSL_free(der);
    }

    X509_CRL_free(crl);
    X509_free(ask);
    X509_free(ark);
    tu_run_cleanup(&r);
}

static void test_sim_snp_revoke_ask_lists_ask_serial(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *ark, *ask;
    X509_CRL *crl;
    X509_REVOKED *rev = NULL;

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    o.revoke_ask = true;
    run_sim(&r, &o);
    ark = tu_run_pem(&r, "ark.pem", 0);
    ask = tu_run_pem(&r, "ask.pem", 0);
    crl = tu_run_crl(&r, "crl.der");

    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ark)), 1);
    assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
    assert_int_equal(X509_CRL_get0_by_cert(crl, &rev, ask), 1);
    assert_non_null(rev);

    X509_CRL_free(crl);
    X509_free(ask);
    X509_free(ark);
    tu_run_cleanup(&r);
}

static void test_sim_snp_turin_uses_turin_tcb_layout_and_8_byte_hwid(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *vcek, *ask, *ark;
    char oids[1024], cn[64];
    /* Turin: byte0 fmc, byte1 bl, byte2 tee, byte3 snp, byte7 ucode. */
    static const uint8_t tcb[8] = {7, 4, 5, 6, 0, 0, 0, 200};
    static const uint8_t v1[] = {0x02, 0x01, 0x01};
    static const uint8_t name[] = {0x16, 0x05, 'T', 'u', 'r', 'i', 'n'};
    static const uint8_t fmc[] = {0x02, 0x01, 0x07};

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    o.product = CVMA_SNP_PRODUCT_TURIN;
    o.tcb_fmc = 7;
    o.tcb_bl = 4;
    o.tcb_tee = 5;
    o.tcb_snp = 6;
    o.tcb_ucode = 200;
    o.has_chip_id = true;
    tu_fill(o.chip_id, 8, 0xA0);
    run_sim(&r, &o);
    vcek = tu_run_pem(&r, "vcek.pem", 0);
    ask = tu_run_pem(&r, "ask.pem", 0);
    ark = tu_run_pem(&r, "ark.pem", 0);

    assert_memory_equal(r.out.p + 0x038, tcb, 8);
    assert_memory_equal(r.out.p + 0x180, tcb, 8);
    assert_memory_equal(r.out.p + 0x1E0, tcb, 8);
    assert_memory_equal(r.out.p + 0x1F0, tcb, 8);
    assert_int_equal(r.out.p[0x188], 0x1A);
    assert_int_equal(r.out.p[0x189], 0x02);
    assert_int_equal(r.out.p[0x18A], 0x01);
    assert_memory_equal(r.out.p + 0x1A0, o.chip_id, 8);
    assert_true(tu_all_bytes(r.out.p + 0x1A8, 56, 0));

    ext_oids(vcek, oids, sizeof oids);
    assert_string_equal(oids, AMD_ARC "1 " AMD_ARC "2 " AMD_ARC "3.9 " AMD_ARC "3.1 " AMD_ARC
                                      "3.2 " AMD_ARC "3.3 " AMD_ARC "3.5 " AMD_ARC "3.6 " AMD_ARC
                                      "3.7 " AMD_ARC "3.8 " AMD_ARC "4");
    assert_ext_bytes(vcek, AMD_ARC "1", v1, sizeof v1);
    assert_ext_bytes(vcek, AMD_ARC "2", name, sizeof name);
    assert_ext_bytes(vcek, AMD_ARC "3.9", fmc, sizeof fmc);
    assert_null(ext_value(vcek, AMD_ARC "3.4"));
    assert_ext_bytes(vcek, AMD_ARC "4", o.chip_id, 8);

    assert_string_equal(tu_subject_cn(ark, cn, sizeof cn), "ARK-Turin");
    assert_string_equal(tu_subject_cn(ask, cn, sizeof cn), "SEV-Turin");
    assert_int_equal(tu_verify_chain(ark, ask, vcek, 0), 1);
    assert_int_equal(verify_report_sig(r.out.p, vcek), 1);

    X509_free(ark);
    X509_free(ask);
    X509_free(vcek);
    tu_run_cleanup(&r);
}

static void test_sim_snp_turin_default_chip_id_is_8_random_bytes(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *vcek;
    const ASN1_OCTET_STRING *hwid;

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    o.product = CVMA_SNP_PRODUCT_TURIN;
    o.version = 2; /* allowed; no CPUID bytes */
    run_sim(&r, &o);
    vcek = tu_run_pem(&r, "vcek.pem", 0);

    assert_int_equal(tu_le32(r.out.p), 2);
    assert_true(tu_all_bytes(r.out.p + 0x188, 24, 0));
    assert_false(tu_all_bytes(r.out.p + 0x1A0, 8, 0));
    assert_true(tu_all_bytes(r.out.p + 0x1A8, 56, 0));
    assert_non_null(hwid = ext_value(vcek, AMD_ARC "4"));
    assert_int_equal(ASN1_STRING_length(hwid), 8);
    assert_memory_equal(ASN1_STRING_get0_data(hwid), r.out.p + 0x1A0, 8);
    assert_int_equal(r.out.p[0x038], 1); /* default FMC SPL */

    X509_free(vcek);
    tu_run_cleanup(&r);
}

static void test_sim_snp_vlek_writes_vlek_files_and_signing_key_1(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *ark, *asvk, *vlek, *chain0;
    char cn[64];
    static const uint8_t csp[] = {0x16, 0x15, 'C', 'N', '=', 's', 'i', 'm', '.', 'c', 'v', 'm',
                                  'a',  't',  't', 'e', 's', 't', '.', 't', 'e', 's', 't'};

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    run_sim(&r, &o); /* a VCEK set first: the VLEK run must not leave it behind */
    assert_true(tu_run_exists(&r, "vcek.pem"));
    o.vlek = true;
    run_sim(&r, &o);

    assert_true(tu_run_exists(&r, "vlek.pem"));
    assert_true(tu_run_exists(&r, "vlek.der"));
    assert_true(tu_run_exists(&r, "asvk.pem"));
    assert_true(tu_run_exists(&r, "ark.pem"));
    assert_true(tu_run_exists(&r, "cert_chain.pem"));
    assert_true(tu_run_exists(&r, "crl.der"));
    assert_false(tu_run_exists(&r, "vcek.pem"));
    assert_false(tu_run_exists(&r, "vcek.der"));
    assert_false(tu_run_exists(&r, "ask.pem"));

    assert_int_equal(tu_le32(r.out.p + 0x048), 1u << 2); /* SIGNING_KEY = 1 */
    ark = tu_run_pem(&r, "ark.pem", 0);
    asvk = tu_run_pem(&r, "asvk.pem", 0);
    vlek = tu_run_pem(&r, "vlek.pem", 0);
    chain0 = tu_run_pem(&r, "cert_chain.pem", 0);
    assert_int_equal(X509_cmp(chain0, asvk), 0);
    assert_string_equal(tu_subject_cn(asvk, cn, sizeof cn), "SEV-VLEK-Milan");
    assert_string_equal(tu_subject_cn(vlek, cn, sizeof cn), "SEV-VLEK");
    assert_int_equal(tu_verify_chain(ark, asvk, vlek, 0), 1);
    assert_int_equal(verify_report_sig(r.out.p, vlek), 1);
    assert_ext_bytes(vlek, AMD_ARC "5", csp, sizeof csp);
    assert_null(ext_value(vlek, AMD_ARC "4"));

    X509_free(chain0);
    X509_free(vlek);
    X509_free(asvk);
    X509_free(ark);
    tu_run_cleanup(&r);
}

static void test_sim_snp_debug_and_masked_chip_id(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *vcek;

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    o.debug = true;
    o.mask_chip_id = true;
    o.has_chip_id = true;
    tu_fill(o.chip_id, 64, 0x33);
    o.version = 3;
    run_sim(&r, &o);
    vcek = tu_run_pem(&r, "vcek.pem", 0);

    assert_int_equal(tu_le32(r.out.p), 3);
    assert_int_equal(tu_le64(r.out.p + 0x008), 0x30000 | (1u << 19));
    assert_true(tu_all_bytes(r.out.p + 0x1A0, 64, 0));
    /* The VCEK still names the chip. */
    assert_ext_bytes(vcek, AMD_ARC "4", o.chip_id, 64);
    assert_int_equal(verify_report_sig(r.out.p, vcek), 1);

    X509_free(vcek);
    tu_run_cleanup(&r);
}

static void test_sim_snp_writes_private_keys_only_with_keep_keys(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *vcek, *ark;
    EVP_PKEY *key;
    BIO *bio;
    char *p;
    struct stat sb;

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    run_sim(&r, &o);
    assert_false(tu_run_exists(&r, "ark-key.pem"));
    assert_false(tu_run_exists(&r, "ask-key.pem"));
    assert_false(tu_run_exists(&r, "vcek-key.pem"));

    o.keep_keys = true;
    run_sim(&r, &o);
    assert_true(tu_run_exists(&r, "ark-key.pem"));
    assert_true(tu_run_exists(&r, "ask-key.pem"));
    vcek = tu_run_pem(&r, "vcek.pem", 0);
    ark = tu_run_pem(&r, "ark.pem", 0);
    assert_non_null(p = cvma_path_join(r.dir, "vcek-key.pem"));
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_non_null(bio = BIO_new_file(p, "r"));
    assert_non_null(key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL));
    assert_int_equal(EVP_PKEY_eq(key, X509_get0_pubkey(vcek)), 1);
    assert_int_not_equal(EVP_PKEY_eq(key, X509_get0_pubkey(ark)), 1);
    EVP_PKEY_free(key);
    BIO_free(bio);
    free(p);

    /* A later run without keep_keys removes them again. */
    o.keep_keys = false;
    run_sim(&r, &o);
    assert_false(tu_run_exists(&r, "vcek-key.pem"));
    assert_false(tu_run_exists(&r, "ark-key.pem"));

    X509_free(ark);
    X509_free(vcek);
    tu_run_cleanup(&r);
}

static void test_sim_snp_leaf_validity_follows_offsets(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;
    X509 *vcek, *ask;

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    o.cert_not_before_offset_days = -30;
    o.cert_validity_days = 10;
    run_sim(&r, &o);
    vcek = tu_run_pem(&r, "vcek.pem", 0);
    ask = tu_run_pem(&r, "ask.pem", 0);
    assert_true(X509_cmp_time(X509_get0_notAfter(vcek), NULL) < 0); /* expired */
    assert_true(X509_cmp_time(X509_get0_notAfter(ask), NULL) > 0);  /* CAs unaffected */
    X509_free(ask);
    X509_free(vcek);

    o.cert_not_before_offset_days = 5;
    o.cert_validity_days = 0;
    run_sim(&r, &o);
    vcek = tu_run_pem(&r, "vcek.pem", 0);
    assert_true(X509_cmp_time(X509_get0_notBefore(vcek), NULL) > 0); /* not yet valid */
    X509_free(vcek);

    o.cert_not_before_offset_days = 0;
    run_sim(&r, &o);
    vcek = tu_run_pem(&r, "vcek.pem", 0);
    assert_true(X509_cmp_time(X509_get0_notBefore(vcek), NULL) < 0);
    assert_true(X509_cmp_time(X509_get0_notAfter(vcek), NULL) > 0);
    X509_free(vcek);
    tu_run_cleanup(&r);
}

static void expect_usage(const struct cvma_sim_snp_opts *o, const char *dir)
{
    char err[256] = "";

    assert_int_equal(cvma_sim_snp_write(o, dir, err, sizeof err), CVMA_E_USAGE);
    assert_true(err[0] != '\0');
}

static void test_sim_snp_rejects_out_of_range_options(void **state)
{
    struct tu_run r;
    struct cvma_sim_snp_opts o;

    (void)state;
    tu_run_init(&r);
    cvma_sim_snp_opts_default(&o);
    o.version = 1;
    expect_usage(&o, r.dir);
    o.version = 6;
    expect_usage(&o, r.dir);

    cvma_sim_snp_opts_default(&o);
    o.vmpl = 4;
    expect_usage(&o, r.dir);

    cvma_sim_snp_opts_default(&o);
    o.product = CVMA_SNP_PRODUCT_UNKNOWN;
    expect_usage(&o, r.dir);

    cvma_sim_snp_opts_default(&o);
    o.product = CVMA_SNP_PRODUCT_TURIN;
    o.has_chip_id = true;
    o.chip_id[8] = 1; /* Turin chip IDs are 8 bytes */
    expect_usage(&o, r.dir);

    cvma_sim_snp_opts_default(&o);
    o.cert_validity_days = -1;
    expect_usage(&o, r.dir);

    cvma_sim_snp_opts_default(&o);
    expect_usage(&o, "");
    /* Nothing was written by the refused runs. */
    assert_false(tu_run_exists(&r, "report.bin"));
    tu_run_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sim_snp_milan_report_has_spec_layout),
            cmocka_unit_test(test_sim_snp_guest_svn_is_that_of_real_reports_without_id_block),
            cmocka_unit_test(test_sim_snp_report_signature_verifies_with_vcek),
            cmocka_unit_test(test_sim_snp_chain_verifies_vcek_ask_ark),
            cmocka_unit_test(test_sim_snp_vcek_has_only_amd_extensions_and_hwid_is_chip_id),
            cmocka_unit_test(test_sim_snp_leaf_extension_order_is_that_of_real_certs),
            cmocka_unit_test(test_sim_snp_crl_is_signed_by_ark_and_lists_nothing),
            cmocka_unit_test(test_sim_snp_revoke_ask_lists_ask_serial),
            cmocka_unit_test(test_sim_snp_turin_uses_turin_tcb_layout_and_8_byte_hwid),
            cmocka_unit_test(test_sim_snp_turin_default_chip_id_is_8_random_bytes),
            cmocka_unit_test(test_sim_snp_vlek_writes_vlek_files_and_signing_key_1),
            cmocka_unit_test(test_sim_snp_debug_and_masked_chip_id),
            cmocka_unit_test(test_sim_snp_writes_private_keys_only_with_keep_keys),
            cmocka_unit_test(test_sim_snp_leaf_validity_follows_offsets),
            cmocka_unit_test(test_sim_snp_rejects_out_of_range_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
