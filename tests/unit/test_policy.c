/*
 * Appraisal policy (src/appraise/, docs/policy.md): strict loading, every rule passing and
 * failing on SEV-SNP and TDX claims, all failures reported together, the TDX TCB-status
 * override both ways, the collateral grace period, and the Cocos AI importer.
 *
 * SEV-SNP claims are the typed claims the verifier fills (cvma_snp_claims_set) from a report
 * built field by field, and from a real sample through the parser; TDX claims likewise
 * (cvma_tdx_claims_set) from a quote built field by field plus the TCB evaluation the verifier
 * adds, and from a real quote through the parser.
 */
#include <jansson.h>
#include <openssl/evp.h>

#include "appraise/policy.h"
#include "appraise/policy_internal.h"
#include "import/cocos.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"
#include "tdx/tdx.h"
#include "tdx/tdx_claims.h"
#include "testutil.h"

/* Repeated literals: R48("33") is 48 bytes of 0x33 in hex. */
#define R2(s)  s s
#define R3(s)  s s s
#define R4(s)  R2(R2(s))
#define R8(s)  R2(R4(s))
#define R16(s) R4(R4(s))
#define R32(s) R2(R16(s))
#define R48(s) R3(R16(s))
#define R64(s) R4(R16(s))
#define R47(s) R32(s) R8(s) R4(s) R2(s) s
#define R31(s) R16(s) R8(s) R4(s) R2(s) s

/* ---- helpers ------------------------------------------------------------------------------ */

static struct cvma_policy *load_ok(const char *json)
{
    struct cvma_policy *p = NULL;
    char err[640];
    enum cvma_status st =
            cvma_policy_load_bytes((const uint8_t *)json, strlen(json), &p, err, sizeof err);
    if (st != CVMA_OK) {
        fail_msg("policy refused: %s\n  policy: %s", err, json);
    }
    assert_non_null(p);
    return p;
}

/* The policy is refused (CVMA_E_USAGE) with a message containing want. */
static void load_refused(const char *json, const char *want)
{
    struct cvma_policy *p = (struct cvma_policy *)1;
    char err[640];
    enum cvma_status st =
            cvma_policy_load_bytes((const uint8_t *)json, strlen(json), &p, err, sizeof err);
    if (st != CVMA_E_USAGE) {
        fail_msg("expected refusal (%s), got status %d for %s", want, (int)st, json);
    }
    assert_null(p);
    if (strstr(err, want) == NULL) {
        fail_msg("refusal message \"%s\" does not contain \"%s\"", err, want);
    }
}

static bool is_policy_code(enum cvma_reason c)
{
    return strncmp(cvma_reason_name(c), "POLICY_", 7) == 0;
}

static size_t count_policy(const struct cvma_verdict *v)
{
    size_t n = 0;
    for (size_t i = 0; i < v->n_reasons; i++) {
        n += is_policy_code(v->reasons[i].code);
    }
    return n;
}

/* The verdict has a reason code whose detail holds d1 and d2 (when given). */
static void expect_reason(const struct cvma_verdict *v, enum cvma_reason c, const char *d1,
                          const char *d2)
{
    for (size_t i = 0; i < v->n_reasons; i++) {
        const struct cvma_verdict_reason *r = &v->reasons[i];
        if (r->code == c && (d1 == NULL || strstr(r->detail, d1) != NULL) &&
            (d2 == NULL || strstr(r->detail, d2) != NULL)) {
            return;
        }
    }
    tu_dump(v);
    fail_msg("no %s with \"%s\" / \"%s\"", cvma_reason_name(c), d1 ? d1 : "", d2 ? d2 : "");
}

static void mark_checks_done(struct cvma_result *res)
{
    res->verdict.checks_required = CVMA_CHECK_SIGNATURE;
    res->verdict.checks_done = CVMA_CHECK_SIGNATURE;
}

/* ---- SEV-SNP claims ------------------------------------------------------------------------ */

/* Milan TCB_VERSION: bootloader 3, tee 0, snp 14, microcode 213 (Cocos's sample minimum). */
#define MILAN_TCB 0xd50e000000000003ull

static void good_snp(struct cvma_snp_report *r)
{
    memset(r, 0, sizeof *r);
    r->version = 3;
    r->guest_svn = 7;
    r->policy = 0x30100; /* SMT (16), reserved 17, ABI 1.0 */
    memset(r->family_id, 0x11, sizeof r->family_id);
    memset(r->image_id, 0x22, sizeof r->image_id);
    r->vmpl = 0;
    r->signature_algo = 1;
    r->current_tcb = r->reported_tcb = r->committed_tcb = r->launch_tcb = MILAN_TCB;
    r->platform_info = 0x05; /* SMT_EN, ECC_EN */
    r->signer_info = 1;      /* AUTHOR_KEY_EN */
    memset(r->report_data, 0xaa, sizeof r->report_data);
    memset(r->measurement, 0x33, sizeof r->measurement);
    memset(r->host_data, 0x44, sizeof r->host_data);
    memset(r->id_key_digest, 0x55, sizeof r->id_key_digest);
    memset(r->author_key_digest, 0x66, sizeof r->author_key_digest);
    memset(r->report_id, 0x77, sizeof r->report_id);
    memset(r->report_id_ma, 0x88, sizeof r->report_id_ma);
    memset(r->chip_id, 0x99, sizeof r->chip_id);
    r->current_major = r->committed_major = 1;
    r->current_minor = r->committed_minor = 55;
    r->current_build = r->committed_build = 8;
    r->product = CVMA_SNP_PRODUCT_MILAN;
}

/* res as cvma_snp_verify leaves it once the signature verified (snp_verify.c). */
static void snp_result(const struct cvma_snp_report *r, enum cvma_snp_product product,
                       struct cvma_result *res)
{
    cvma_result_init(res, "sev-snp", 0);
    assert_true(cvma_snp_claims_set(res, r, product, NULL, NULL));
    res->platform.present = true;
    res->platform.vendor = CVMA_PLATFORM_AMD;
    res->platform.id_type = CVMA_PLATFORM_CHIP_ID;
    res->platform.has_id = true;
    res->platform.id_len = sizeof r->chip_id;
    memcpy(res->platform.id, r->chip_id, sizeof r->chip_id);
}

/* One rule: the text inside a section, the reason it must give (CVMA_R_COUNT_: none). */
struct rcase {
    const char *section;
    enum cvma_reason want;
    const char *d1, *d2;
};

static void check_case(const char *tee_key, const struct rcase *c, struct cvma_result *res)
{
    char json[2048];
    snprintf(json, sizeof json, "{\"%s\": {%s}}", tee_key, c->section);
    struct cvma_policy *p = load_ok(json);
    cvma_policy_appraise(p, res);
    size_t n = count_policy(&res->verdict);
    if (c->want == CVMA_R_COUNT_) {
        if (n != 0) {
            tu_dump(&res->verdict);
            fail_msg("rule %s should pass", c->section);
        }
    } else {
        if (n != 1) {
            tu_dump(&res->verdict);
            fail_msg("rule %s: %zu policy reasons, expected exactly %s", c->section, n,
                     cvma_reason_name(c->want));
        }
        expect_reason(&res->verdict, c->want, c->d1, c->d2);
        assert_int_equal(tu_severity_of(&res->verdict, c->want), CVMA_SEV_ERROR);
    }
    cvma_policy_free(p);
}

static void run_snp_cases(const struct rcase *cases, size_t n, const struct cvma_snp_report *r)
{
    for (size_t i = 0; i < n; i++) {
        struct cvma_result res;
        snp_result(r, r->product, &res);
        check_case("snp", &cases[i], &res);
        cvma_result_cleanup(&res);
    }
}

#define PASS CVMA_R_COUNT_

static void test_snp_exact_match_rules_pass_and_fail(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    good_snp(&r);
    const struct rcase cases[] = {
            {"\"measurements\": \"" R48("33") "\"", PASS, NULL, NULL},
            {"\"measurements\": [\"" R48("00") "\", \"" R48("33") "\"]", PASS, NULL, NULL},
            {"\"measurements\": \"" R48("34") "\"", CVMA_R_POLICY_MEASUREMENT,
             "snp.measurements: measurement=" R48("33"), "expected " R48("34")},
            {"\"measurements\": [\"" R48("00") "\", \"" R48("01") "\"]", CVMA_R_POLICY_MEASUREMENT,
             "not one of the 2 allowed values", R48("33")},
            /* every byte is compared: a value that differs only in its last byte fails */
            {"\"measurements\": \"" R47("33") "34\"", CVMA_R_POLICY_MEASUREMENT,
             "measurement=" R48("33"), "expected " R47("33") "34"},
            {"\"chip_ids\": [\"" R32("99") R31("99") "98\"]", CVMA_R_POLICY_CHIP_ID,
             "chip_id=" R64("99"), NULL},
            {"\"host_data\": \"" R32("44") "\"", PASS, NULL, NULL},
            {"\"host_data\": \"" R32("45") "\"", CVMA_R_POLICY_HOST_DATA, "host_data=" R32("44"),
             "expected " R32("45")},
            {"\"family_id\": \"" R16("11") "\"", PASS, NULL, NULL},
            {"\"family_id\": \"" R16("12") "\"", CVMA_R_POLICY_FAMILY_ID, "family_id=" R16("11"),
             "expected " R16("12")},
            {"\"image_id\": [\"" R16("22") "\"]", PASS, NULL, NULL},
            {"\"image_id\": \"" R16("23") "\"", CVMA_R_POLICY_IMAGE_ID, "image_id=" R16("22"),
             "expected " R16("23")},
            {"\"report_id_ma\": \"" R32("88") "\"", PASS, NULL, NULL},
            {"\"report_id_ma\": \"" R32("ff") "\"", CVMA_R_POLICY_REPORT_ID_MA,
             "report_id_ma=" R32("88"), "expected " R32("ff")},
            {"\"chip_ids\": [\"" R64("99") "\"]", PASS, NULL, NULL},
            {"\"chip_ids\": [\"" R64("98") "\"]", CVMA_R_POLICY_CHIP_ID, "chip_id=" R64("99"),
             NULL},
            {"\"vmpl\": 0", PASS, NULL, NULL},
            {"\"vmpl\": 2", CVMA_R_POLICY_VMPL, "snp.vmpl: vmpl=0", "expected 2"},
            {"\"minimum_guest_svn\": 7", PASS, NULL, NULL},
            {"\"minimum_guest_svn\": 8", CVMA_R_POLICY_GUEST_SVN, "guest_svn=7", "< 8"},
            {"\"products\": [\"Milan\"]", PASS, NULL, NULL},
            {"\"products\": [\"Genoa\", \"Turin\"]", CVMA_R_POLICY_PRODUCT, "product=Milan",
             "Genoa, Turin"},
            {"\"minimum_firmware_version\": \"1.55\"", PASS, NULL, NULL},
            {"\"minimum_firmware_version\": \"1.9\"", PASS, NULL, NULL},
            {"\"minimum_firmware_version\": \"1.56\"", CVMA_R_POLICY_FIRMWARE_VERSION,
             "current firmware 1.55", "< 1.56"},
            {"\"minimum_firmware_build\": 8", PASS, NULL, NULL},
            {"\"minimum_firmware_build\": 9", CVMA_R_POLICY_FIRMWARE_VERSION, "current_build=8",
             "< 9"},
            {"\"require_committed_equals_current\": true", PASS, NULL, NULL},
    };
    run_snp_cases(cases, CVMA_ARRAY_LEN(cases), &r);

    /* vmpl 0 is a pin like any other: a report from VMPL 1 fails it. */
    r.vmpl = 1;
    const struct rcase vmpl1[] = {
            {"\"vmpl\": 0", CVMA_R_POLICY_VMPL, "snp.vmpl: vmpl=1", "expected 0"},
            {"\"vmpl\": 1", PASS, NULL, NULL},
    };
    run_snp_cases(vmpl1, CVMA_ARRAY_LEN(vmpl1), &r);

    /* products on a report of no known product: the rule has nothing to check, and fails. */
    good_snp(&r);
    r.product = CVMA_SNP_PRODUCT_UNKNOWN;
    const struct rcase unknown[] = {
            {"\"products\": [\"Milan\", \"Genoa\", \"Turin\"]", CVMA_R_POLICY_CLAIM_MISSING,
             "snp.products", "Milan, Genoa or Turin"},
    };
    run_snp_cases(unknown, CVMA_ARRAY_LEN(unknown), &r);
}

static void test_snp_tcb_minimums_pass_and_fail(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    good_snp(&r);
    r.launch_tcb = 0xd50d000000000002ull; /* bootloader 2, snp 13 */
    const struct rcase cases[] = {
            {"\"minimum_tcb\": {\"bootloader\": 3, \"tee\": 0, \"snp\": 14, \"microcode\": 213}",
             PASS, NULL, NULL},
            /* FMC exists on Turin only: a minimum for it binds Turin reports alone. */
            {"\"minimum_tcb\": {\"fmc\": 9, \"snp\": 14}", PASS, NULL, NULL},
            {"\"minimum_tcb\": {\"snp\": 15, \"microcode\": 214}", CVMA_R_POLICY_TCB_BELOW_MINIMUM,
             "snp.minimum_tcb: reported_tcb=d50e000000000003", "snp 14 < 15; microcode 213 < 214"},
            {"\"minimum_tcb\": {\"by_product\": {\"Genoa\": {\"snp\": 99}}}", PASS, NULL, NULL},
            {"\"minimum_tcb\": {\"by_product\": {\"Milan\": {\"bootloader\": 4}}}",
             CVMA_R_POLICY_TCB_BELOW_MINIMUM, "snp.minimum_tcb.by_product.Milan",
             "bootloader 3 < 4"},
            {"\"minimum_launch_tcb\": {\"bootloader\": 2, \"snp\": 13}", PASS, NULL, NULL},
            {"\"minimum_launch_tcb\": {\"snp\": 14}", CVMA_R_POLICY_TCB_BELOW_MINIMUM,
             "snp.minimum_launch_tcb: launch_tcb=d50d000000000002", "snp 13 < 14"},
    };
    run_snp_cases(cases, CVMA_ARRAY_LEN(cases), &r);

    /* Turin layout: FMC first, and the fmc minimum applies. */
    struct cvma_snp_report t;
    good_snp(&t);
    t.product = CVMA_SNP_PRODUCT_TURIN;
    t.reported_tcb = 0x6100000005000201ull; /* fmc 1, bl 2, tee 0, snp 5, ucode 97 */
    const struct rcase turin[] = {
            {"\"minimum_tcb\": {\"fmc\": 1, \"bootloader\": 2, \"snp\": 5, \"microcode\": 97}",
             PASS, NULL, NULL},
            {"\"minimum_tcb\": {\"fmc\": 2}", CVMA_R_POLICY_TCB_BELOW_MINIMUM, "fmc 1 < 2", NULL},
            {"\"minimum_tcb\": {\"by_product\": {\"Turin\": {\"microcode\": 98}}}",
             CVMA_R_POLICY_TCB_BELOW_MINIMUM, "by_product.Turin", "microcode 97 < 98"},
    };
    run_snp_cases(turin, CVMA_ARRAY_LEN(turin), &t);
}

static void test_snp_guest_policy_and_platform_info_bits(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    good_snp(&r);
    const struct rcase cases[] = {
            {"\"guest_policy\": {\"allow_smt\": true, \"allow_migrate_ma\": false, "
             "\"minimum_abi\": \"1.0\", \"reject_unknown_bits\": true}",
             PASS, NULL, NULL},
            {"\"guest_policy\": {\"allow_smt\": false}", CVMA_R_POLICY_GUEST_POLICY,
             "snp.guest_policy: policy=0x0000000000030100",
             "SMT (bit 16) set but allow_smt is false"},
            {"\"guest_policy\": {\"require_single_socket\": true}", CVMA_R_POLICY_GUEST_POLICY,
             "SINGLE_SOCKET (bit 20) clear but require_single_socket is true", NULL},
            {"\"guest_policy\": {\"minimum_abi\": \"1.55\"}", CVMA_R_POLICY_GUEST_POLICY,
             "ABI 1.0 below minimum_abi 1.55", NULL},
            {"\"platform_info\": {\"allow_smt_en\": true, \"require_ecc_en\": true, "
             "\"reject_unknown_bits\": true}",
             PASS, NULL, NULL},
            {"\"platform_info\": {\"allow_smt_en\": false}", CVMA_R_POLICY_PLATFORM_INFO,
             "snp.platform_info: platform_info=0x0000000000000005",
             "SMT_EN (bit 0) set but allow_smt_en is false"},
            {"\"platform_info\": {\"require_alias_check_complete\": true}",
             CVMA_R_POLICY_PLATFORM_INFO, "ALIAS_CHECK_COMPLETE (bit 5) clear", NULL},
    };
    run_snp_cases(cases, CVMA_ARRAY_LEN(cases), &r);

    /* Migration agent allowed by the guest, forbidden by the policy. */
    r.policy |= 1ull << 18;
    const struct rcase ma[] = {
            {"\"guest_policy\": {\"allow_migrate_ma\": true}", PASS, NULL, NULL},
            {"\"guest_policy\": {\"allow_migrate_ma\": false}", CVMA_R_POLICY_GUEST_POLICY,
             "MIGRATE_MA (bit 18) set but allow_migrate_ma is false", NULL},
    };
    run_snp_cases(ma, CVMA_ARRAY_LEN(ma), &r);

    /* Bits no specification defines, and reserved bit 17 clear. */
    good_snp(&r);
    r.policy = 0x0100 | (1ull << 30);
    r.platform_info = 0x05 | (1ull << 12);
    const struct rcase unk[] = {
            {"\"guest_policy\": {\"reject_unknown_bits\": true}", CVMA_R_POLICY_GUEST_POLICY,
             "bits 0x0000000040000000 set that no specification defines", "reserved bit 17 clear"},
            {"\"platform_info\": {\"reject_unknown_bits\": true}", CVMA_R_POLICY_PLATFORM_INFO,
             "bits 0x0000000000001000", NULL},
            {"\"guest_policy\": {\"reject_unknown_bits\": false}", PASS, NULL, NULL},
    };
    run_snp_cases(unk, CVMA_ARRAY_LEN(unk), &r);
}

static void test_snp_id_and_author_keys(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    good_snp(&r); /* AUTHOR_KEY_EN set, ID key 55.., author key 66.. */
    const struct rcase cases[] = {
            {"\"id_key_digests\": [\"" R48("55") "\"]", PASS, NULL, NULL},
            {"\"id_key_digests\": [\"" R48("56") "\"]", CVMA_R_POLICY_ID_KEY,
             "snp.id_key_digests: id_key_digest=" R48("55"), "not one of the 1 trusted ID keys"},
            /* An untrusted ID key endorsed by a trusted author key passes (go-sev-guest). */
            {"\"id_key_digests\": [\"" R48("56") "\"], \"author_key_digests\": [\"" R48("66") "\"]",
             PASS, NULL, NULL},
            {"\"id_key_digests\": [\"" R48("56") "\"], \"author_key_digests\": [\"" R48("67") "\"]",
             CVMA_R_POLICY_ID_KEY, "nor endorsed by a trusted author key", NULL},
            {"\"author_key_digests\": [\"" R48("66") "\"]", PASS, NULL, NULL},
            {"\"author_key_digests\": [\"" R48("67") "\"]", CVMA_R_POLICY_AUTHOR_KEY,
             "author_key_digest=" R48("66"), "not one of the 1 trusted author keys"},
            {"\"require_author_key\": true", PASS, NULL, NULL},
            {"\"require_author_key\": true, \"author_key_digests\": [\"" R48("67") "\"]",
             CVMA_R_POLICY_AUTHOR_KEY, "author_key_digest=" R48("66"), NULL},
    };
    run_snp_cases(cases, CVMA_ARRAY_LEN(cases), &r);

    r.signer_info = 0; /* no author key signed the ID block */
    const struct rcase noauth[] = {
            {"\"require_author_key\": true", CVMA_R_POLICY_AUTHOR_KEY,
             "snp.require_author_key: signer_info.author_key_en is false", NULL},
            /* A digest with AUTHOR_KEY_EN clear endorses nothing. */
            {"\"id_key_digests\": [\"" R48("56") "\"], \"author_key_digests\": [\"" R48("66") "\"]",
             CVMA_R_POLICY_ID_KEY, NULL, NULL},
            /* ... and the refusal says so, not that a listed digest is unlisted */
            {"\"author_key_digests\": [\"" R48("66") "\"]", CVMA_R_POLICY_AUTHOR_KEY,
             "signer_info.author_key_en is false (no author key signed the ID block), so "
             "author_key_digest=" R48("66") " endorses nothing",
             NULL},
    };
    run_snp_cases(noauth, CVMA_ARRAY_LEN(noauth), &r);
}

static void test_snp_committed_tcb_rule(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    good_snp(&r);
    r.committed_build = 7;
    r.committed_tcb = 0xd50d000000000003ull;
    const struct rcase cases[] = {
            {"\"require_committed_equals_current\": false", PASS, NULL, NULL},
            {"\"require_committed_equals_current\": true", CVMA_R_POLICY_COMMITTED_TCB,
             "committed_tcb=d50d000000000003 current_tcb=d50e000000000003",
             "committed_build=7 current_build=8"},
    };
    run_snp_cases(cases, CVMA_ARRAY_LEN(cases), &r);
}

/* allow_debug false (or absent: the default) refuses a debuggable guest: POLICY_DEBUG. */
static void test_snp_debug_rule(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    good_snp(&r);
    const struct rcase prod[] = {
            {"\"allow_debug\": false", PASS, NULL, NULL},
            {"", PASS, NULL, NULL},
    };
    run_snp_cases(prod, CVMA_ARRAY_LEN(prod), &r);
    r.policy |= 1ull << 19;
    const struct rcase dbg[] = {
            {"\"allow_debug\": false", CVMA_R_POLICY_DEBUG,
             "snp.allow_debug: expected false (DEBUG clear)", "policy=0x00000000000b0100"},
            {"\"measurements\": \"" R48("33") "\"", CVMA_R_POLICY_DEBUG, "DEBUG (bit 19) set",
             NULL},
            {"\"allow_debug\": true", PASS, NULL, NULL},
    };
    run_snp_cases(dbg, CVMA_ARRAY_LEN(dbg), &r);
}

static void test_common_rules_on_snp(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    struct cvma_result res;
    struct cvma_policy *p;
    good_snp(&r);

    /* report_data: exact, zero-padded when shorter. */
    p = load_ok("{\"report_data\": \"" R64("aa") "\", \"snp\": {}}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    p = load_ok("{\"report_data\": \"aaaa\"}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_REPORT_DATA, "report_data: report_data=" R64("aa"),
                  "expected aaaa0000");
    cvma_result_cleanup(&res);
    memset(r.report_data + 2, 0, sizeof r.report_data - 2);
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    /* All 64 bytes are compared: a REPORT_DATA that differs only in its last byte fails. */
    good_snp(&r);
    r.report_data[63] = 0xab;
    p = load_ok("{\"report_data\": \"" R64("aa") "\"}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_REPORT_DATA, "report_data=" R32("aa") R31("aa") "ab",
                  "expected " R64("aa"));
    assert_int_equal(count_policy(&res.verdict), 1);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    /* required_providers: the platform must be bound to one of them. */
    good_snp(&r);
    p = load_ok("{\"required_providers\": [\"acme\", \"globex\"]}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_PROVIDER_REQUIRED,
                  "required_providers [acme; globex]: platform " R64("99"), "bound to no provider");
    cvma_result_cleanup(&res);
    snp_result(&r, r.product, &res);
    res.platform.bound = true;
    snprintf(res.platform.provider, sizeof res.platform.provider, "initech");
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_PROVIDER_REQUIRED, "bound to provider \"initech\"",
                  NULL);
    cvma_result_cleanup(&res);
    snp_result(&r, r.product, &res);
    res.platform.bound = true;
    snprintf(res.platform.provider, sizeof res.platform.provider, "globex");
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    /* allowed_tees: a policy for TDX only refuses SEV-SNP evidence. */
    p = load_ok("{\"tdx\": {}}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, "the evidence is sev-snp",
                  "accepts only tdx");
    assert_int_equal(count_policy(&res.verdict), 1);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    p = load_ok("{\"allowed_tees\": [\"tdx\", \"sev-snp\"]}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* registry_log_required: the detail says what would meet the rule for the binding at hand. A
 * signed registry not checked against its provider's log: give the log options. A lookup
 * registry's answer: a lookup has no log and its name takes no --log-vkey (a usage error), so
 * that advice could not be followed; only the provider's signed registry can meet the rule. */
static void test_registry_log_required_says_what_meets_it(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    struct cvma_result res;
    struct cvma_policy *p = load_ok("{\"registry_log_required\": [\"cloud\", \"google\"]}");
    good_snp(&r);

    /* a signed registry of cloud, no log key for it */
    snp_result(&r, r.product, &res);
    res.platform.bound = true;
    snprintf(res.platform.provider, sizeof res.platform.provider, "cloud");
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_REGISTRY_LOG_REQUIRED,
                  "bound to provider \"cloud\" by a registry not checked against its witnessed log",
                  "give the provider's --log-vkey, --witness-vkey and --log-proof");
    assert_int_equal(count_policy(&res.verdict), 1);
    cvma_result_cleanup(&res);

    /* a lookup registry's answer */
    snp_result(&r, r.product, &res);
    res.platform.bound = true;
    res.platform.bound_via_lookup = true;
    snprintf(res.platform.provider, sizeof res.platform.provider, "google");
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_REGISTRY_LOG_REQUIRED,
                  "bound to provider \"google\" by a lookup registry's answer",
                  "--log-vkey is refused for its name): only the provider's signed registry");
    assert_int_equal(count_policy(&res.verdict), 1);
    assert_null(strstr(tu_reason_must(&res.verdict, CVMA_R_POLICY_REGISTRY_LOG_REQUIRED)->detail,
                       "give the provider's"));
    cvma_result_cleanup(&res);

    /* bound through the provider's witnessed log; bound to a provider the rule does not name */
    snp_result(&r, r.product, &res);
    res.platform.bound = true;
    res.platform.bound_via_log = true;
    snprintf(res.platform.provider, sizeof res.platform.provider, "cloud");
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    snp_result(&r, r.product, &res);
    res.platform.bound = true;
    res.platform.bound_via_lookup = true;
    snprintf(res.platform.provider, sizeof res.platform.provider, "intel-lookup");
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* Without allowed_tees, a tpm section admits a bare quote (kind tpm) only when the policy has no
 * other TEE section: beside an azure one, tpm is the Azure vTPM's, and a bare quote (an AK anyone
 * can make) would skip every azure rule; beside snp or tdx, every snp or tdx rule (and the plain
 * report every tpm rule: test_default_kinds_skip_no_section). svsm-vtpm is never a default;
 * explicit lists stay as written. */
static void test_tpm_section_admits_a_bare_quote_by_default_only_without_azure(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        unsigned want;
    } cases[] = {
            {"{\"tpm\": {}}", POL_TEE_TPM},
            {"{\"tpm\": {}, \"azure\": {}}", POL_TEE_AZURE},
            {"{\"azure\": {}}", POL_TEE_AZURE},
            {"{\"snp\": {}, \"tpm\": {}, \"azure\": {}}", POL_TEE_AZURE_SNP},
            {"{\"tdx\": {}, \"tpm\": {}, \"azure\": {}}", POL_TEE_AZURE_TDX},
            {"{\"allowed_tees\": [\"tpm\", \"azure-snp\"], \"tpm\": {}, \"azure\": {}}",
             POL_TEE_TPM | POL_TEE_AZURE_SNP},
            {"{\"eventlog\": {\"secure_boot\": true}}", 0u},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_policy *p = load_ok(cases[i].json);
        if (p->allowed_tees != cases[i].want) {
            fail_msg("%s: allowed_tees 0x%x, want 0x%x", cases[i].json, p->allowed_tees,
                     cases[i].want);
        }
        cvma_policy_free(p);
    }

    /* The reviewer's case: tpm.pcrs and azure rules, a bare quote: refused by kind. */
    static const char *const kinds[] = {"tpm", "azure-snp", "azure-tdx", "svsm-vtpm"};
    struct cvma_policy *p = load_ok("{\"tpm\": {\"pcrs\": {\"sha1\": {\"0\": \"" R16("00") R4(
            "00") "\"}}}, \"azure\": {\"secure_boot\": true, \"console_enabled\": false}}");
    for (size_t i = 0; i < CVMA_ARRAY_LEN(kinds); i++) {
        struct cvma_result res;
        memset(&res, 0, sizeof res);
        cvma_result_init(&res, kinds[i], 1700000000);
        res.claims.verified = true;
        cvma_policy_appraise(p, &res);
        if (i == 0 || i == 3) {
            expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, kinds[i],
                          "accepts only azure-snp, azure-tdx");
        } else {
            assert_false(cvma_verdict_has(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED));
        }
        cvma_result_cleanup(&res);
    }
    cvma_policy_free(p);
}

/* A section that never applies to a kind allowed_tees lists is said, never passed in
 * silence (POLICY_SECTION_NOT_APPLIED, a warning): an azure or tpm section beside "sev-snp"
 * for a plain report, a tdx section for an SEV-SNP report when the policy has no snp section.
 * snp and tdx are alternatives: {"snp", "tdx"} says nothing of the one that does not apply. */
static void test_section_that_never_applies_is_said(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *kind;
        const char *want; /* the sections said, in order, or "" */
    } cases[] = {
            {"{\"allowed_tees\": [\"sev-snp\", \"azure-snp\"], \"snp\": {}, \"tpm\": {}, "
             "\"azure\": {\"secure_boot\": true}}",
             "sev-snp", "tpm azure "},
            {"{\"allowed_tees\": [\"sev-snp\", \"azure-snp\"], \"snp\": {}, \"tpm\": {}, "
             "\"azure\": {}}",
             "azure-snp", ""},
            {"{\"allowed_tees\": [\"tdx\", \"sev-snp\"], \"tdx\": {}}", "sev-snp", "tdx "},
            {"{\"allowed_tees\": [\"tdx\", \"sev-snp\"], \"tdx\": {}}", "tdx", ""},
            {"{\"snp\": {}, \"tdx\": {}}", "sev-snp", ""},
            {"{\"snp\": {}, \"tdx\": {}}", "tdx", ""},
            {"{\"allowed_tees\": [\"tpm\", \"sev-snp\", \"tdx\"], \"snp\": {}, \"tdx\": {}}", "tpm",
             "snp tdx "},
            {"{\"allowed_tees\": [\"sev-snp\", \"svsm-vtpm\"], \"snp\": {}, \"tpm\": {}}",
             "sev-snp", "tpm "},
            {"{\"allowed_tees\": [\"sev-snp\", \"svsm-vtpm\"], \"snp\": {}, \"tpm\": {}}",
             "svsm-vtpm", ""},
            {"{\"eventlog\": {\"secure_boot\": true}}", "sev-snp", ""},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_policy *p = load_ok(cases[i].json);
        struct cvma_result res;
        char got[64] = "";
        memset(&res, 0, sizeof res);
        cvma_result_init(&res, cases[i].kind, 1700000000);
        res.claims.verified = true;
        cvma_policy_appraise(p, &res);
        for (size_t k = 0; k < res.verdict.n_reasons; k++) {
            const struct cvma_verdict_reason *r = &res.verdict.reasons[k];
            if (r->code == CVMA_R_POLICY_SECTION_NOT_APPLIED) {
                assert_int_equal(r->severity, CVMA_SEV_WARNING);
                assert_non_null(strstr(r->detail, cases[i].kind));
                size_t n = strcspn(r->detail, ":");
                snprintf(got + strlen(got), sizeof got - strlen(got), "%.*s ", (int)n, r->detail);
            }
        }
        if (strcmp(got, cases[i].want) != 0) {
            fail_msg("%s on %s: said \"%s\", want \"%s\"", cases[i].json, cases[i].kind, got,
                     cases[i].want);
        }
        cvma_result_cleanup(&res);
        cvma_policy_free(p);
    }
    /* policy check's list: each listed kind with each section it passes by. */
    char buf[512];
    struct cvma_policy *p = load_ok(cases[0].json);
    assert_int_equal(cvma_policy_unapplied(p, buf, sizeof buf), 2);
    assert_string_equal(buf, "the tpm section never applies to sev-snp evidence\n"
                             "the azure section never applies to sev-snp evidence");
    assert_int_equal(cvma_policy_unapplied(p, buf, 8), 2); /* cut, still counted */
    assert_int_equal(strlen(buf), 7);
    cvma_policy_free(p);
    p = load_ok(cases[4].json);
    assert_int_equal(cvma_policy_unapplied(p, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    cvma_policy_free(p);
}

/* Without allowed_tees, an azure section admits an azure kind only when the policy has that
 * kind's hardware section or not the other's: {"tdx": ..., "azure": ...} pins a TD, and
 * azure-snp evidence would skip every tdx rule (the reviewer's case: an MRTD pin never applied
 * to an azure-snp report). The azure section alone, or with both, admits both. */
/* What pins a vTPM kind's launch (cvma_policy_pins_launch): only what names what was launched
 * at VMPL 0 (SEV-SNP: the launch digest, the ID key or its author key) or the TD's initial image
 * (MRTD). host_data, family_id, image_id, vmpl, report_data and the other TD registers are the
 * launcher's choice: none of them may vouch for the vTPM's AK. */
static void test_only_the_launch_identity_pins_a_vtpm_launch(void **state)
{
    (void)state;
    static const char *const snp_pins[] = {
            "{\"snp\": {\"measurements\": \"" R48("33") "\"}}",
            "{\"snp\": {\"id_key_digests\": \"" R48("55") "\"}}",
            "{\"snp\": {\"author_key_digests\": \"" R48("66") "\"}}",
    };
    static const char *const snp_not[] = {
            "{\"snp\": {\"host_data\": \"" R32("44") "\"}}",
            "{\"snp\": {\"family_id\": \"" R16("11") "\"}}",
            "{\"snp\": {\"image_id\": \"" R16("22") "\"}}",
            "{\"snp\": {\"vmpl\": 0, \"chip_ids\": \"" R64("99") "\"}}",
            "{\"report_data\": \"" R64("aa") "\", \"snp\": {\"allow_debug\": false}}",
            "{\"tdx\": {\"mr_td\": \"" R48("01") "\"}}",
    };
    static const char *const tdx_not[] = {
            "{\"tdx\": {\"mr_owner\": \"" R48("01") "\"}}",
            "{\"tdx\": {\"mr_config_id\": \"" R48("01") "\"}}",
            "{\"tdx\": {\"rtmr0\": \"" R48("01") "\", \"mr_seam\": \"" R48("02") "\"}}",
            "{\"snp\": {\"measurements\": \"" R48("33") "\"}}",
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(snp_pins); i++) {
        struct cvma_policy *p = load_ok(snp_pins[i]);
        assert_true(cvma_policy_pins_launch(p, "azure-snp"));
        assert_true(cvma_policy_pins_launch(p, "svsm-vtpm"));
        assert_false(cvma_policy_pins_launch(p, "azure-tdx"));
        assert_false(cvma_policy_pins_launch(p, "sev-snp")); /* no vTPM to vouch for */
        cvma_policy_free(p);
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(snp_not); i++) {
        struct cvma_policy *p = load_ok(snp_not[i]);
        if (cvma_policy_pins_launch(p, "azure-snp") || cvma_policy_pins_launch(p, "svsm-vtpm")) {
            fail_msg("%s pins an azure-snp / svsm-vtpm launch", snp_not[i]);
        }
        cvma_policy_free(p);
    }
    struct cvma_policy *p = load_ok("{\"tdx\": {\"mr_td\": \"" R48("01") "\"}}");
    assert_true(cvma_policy_pins_launch(p, "azure-tdx"));
    assert_false(cvma_policy_pins_launch(p, "tdx"));
    assert_false(cvma_policy_pins_launch(p, NULL));
    cvma_policy_free(p);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(tdx_not); i++) {
        p = load_ok(tdx_not[i]);
        if (cvma_policy_pins_launch(p, "azure-tdx")) {
            fail_msg("%s pins an azure-tdx launch", tdx_not[i]);
        }
        cvma_policy_free(p);
    }
    assert_false(cvma_policy_pins_launch(NULL, "azure-snp"));
}

static void test_azure_section_admits_an_azure_kind_only_with_its_hardware_section(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        unsigned want;
    } cases[] = {
            {"{\"azure\": {}}", POL_TEE_AZURE},
            {"{\"snp\": {}, \"azure\": {}}", POL_TEE_AZURE_SNP},
            {"{\"tdx\": {}, \"azure\": {}}", POL_TEE_AZURE_TDX},
            {"{\"snp\": {}, \"tdx\": {}, \"azure\": {}}", POL_TEE_AZURE},
            {"{\"snp\": {}, \"tdx\": {}, \"tpm\": {}, \"azure\": {}}", POL_TEE_AZURE},
            {"{\"snp\": {}, \"tdx\": {}}", POL_TEE_SNP | POL_TEE_TDX},
            /* an explicit list stays as written: both sections must fit it (the loader) */
            {"{\"allowed_tees\": [\"azure-snp\", \"azure-tdx\"], \"tdx\": {}, \"azure\": {}}",
             POL_TEE_AZURE},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_policy *p = load_ok(cases[i].json);
        if (p->allowed_tees != cases[i].want) {
            fail_msg("%s: allowed_tees 0x%x, want 0x%x", cases[i].json, p->allowed_tees,
                     cases[i].want);
        }
        cvma_policy_free(p);
    }

    /* The reviewer's policy on each azure kind: azure-snp refused by kind, azure-tdx admitted
     * (its tdx rules then run: here on a result with no TDX claims, so missing). */
    struct cvma_policy *p = load_ok("{\"tdx\": {\"mr_td\": \"" R48(
            "00") "\", \"allow_debug\": false}, \"azure\": {\"secure_boot\": true}}");
    struct cvma_result res;
    memset(&res, 0, sizeof res);
    cvma_result_init(&res, "azure-snp", 1700000000);
    res.claims.verified = true;
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, "the evidence is azure-snp",
                  "accepts only azure-tdx");
    cvma_result_cleanup(&res);
    memset(&res, 0, sizeof res);
    cvma_result_init(&res, "azure-tdx", 1700000000);
    res.claims.verified = true;
    cvma_policy_appraise(p, &res);
    assert_false(cvma_verdict_has(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED));
    expect_reason(&res.verdict, CVMA_R_POLICY_CLAIM_MISSING, "tdx", NULL);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* The kind is known before any claim is verified: evidence the policy refuses by kind is
 * refused (exit 1), not left undecided (exit 3) while its collateral cannot be had. Only the
 * kind is checked on unverified claims; evidence of no known kind gets no policy reason. */
static void test_tee_kind_is_checked_on_undecided_evidence(void **state)
{
    (void)state;
    struct cvma_policy *p =
            load_ok("{\"snp\": {\"measurements\": \"" R48("00") "\", \"vmpl\": 0}}");
    static const struct {
        const char *tee;
        int exit_code;
        bool not_allowed;
    } cases[] = {
            {"azure-tdx", 1, true}, /* the reviewer's case, simulated */
            {"tdx", 1, true},
            {"sev-snp", 3, false}, /* allowed: no rule reads its unverified claims */
            {"unknown", 3, false}, /* no kind known: nothing to check */
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_result res;
        memset(&res, 0, sizeof res);
        cvma_result_init(&res, cases[i].tee, 1700000000);
        res.verdict.checks_required = CVMA_CHECK_PARSE | CVMA_CHECK_COLLATERAL;
        cvma_verdict_pass(&res.verdict, CVMA_CHECK_PARSE);
        cvma_reject(&res.verdict, CVMA_R_COLLATERAL_UNAVAILABLE, "TCB Info: offline");
        res.verdict.undecided = res.undecided = true;
        cvma_policy_appraise(p, &res);
        cvma_result_finish(&res);
        if (cases[i].not_allowed) {
            expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, cases[i].tee,
                          "the policy accepts only sev-snp");
            assert_int_equal(count_policy(&res.verdict), 1);
        } else {
            assert_int_equal(count_policy(&res.verdict), 0);
        }
        if (cvma_result_exit_code(&res) != cases[i].exit_code) {
            tu_dump(&res.verdict);
            fail_msg("%s: exit %d, want %d", cases[i].tee, cvma_result_exit_code(&res),
                     cases[i].exit_code);
        }
        cvma_result_cleanup(&res);
    }
    cvma_policy_free(p);
}

/* tpm.ak_spki_sha256 reads claims.tpm.ak.spki_sha256: a result without it fails the rule by
 * name (the rules on real quotes: test_vtpm.c, test_eventlog_verify.c). */
static void test_tpm_ak_pin_without_an_ak_claim_is_refused(void **state)
{
    (void)state;
    struct cvma_policy *p = load_ok("{\"tpm\": {\"ak_spki_sha256\": [\"" R32("ab") "\"]}}");
    struct cvma_result res;
    memset(&res, 0, sizeof res);
    cvma_result_init(&res, "tpm", 1700000000);
    res.claims.verified = true;
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_CLAIM_MISSING, "tpm.ak_spki_sha256: the result has",
                  "tpm.ak.spki_sha256");
    assert_int_equal(count_policy(&res.verdict), 1);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* A claims.tpm of one member, ak.spki_sha256 = the kind's text (for the AK pin's rule). */
static json_t *spki_claims_json(const void *kind)
{
    return json_pack("{s:{s:s}}", "ak", "spki_sha256", (const char *)kind);
}

static void spki_claims_free(void *kind)
{
    (void)kind; /* a static string */
}

static const struct cvma_claims_ops spki_claims_ops = {
        .key = "tpm", .to_json = spki_claims_json, .free = spki_claims_free};

/* tpm.ak_spki_sha256 compares a whole SHA-256: a claim of 31 bytes (or 33) that the pinned
 * digest begins with is no valid claim to check it against (POLICY_CLAIM_MISSING), never a
 * match; the 32 bytes themselves are. */
static void test_tpm_ak_pin_needs_a_whole_digest_claim(void **state)
{
    (void)state;
    static char whole[] = R32("ab"), short_[] = R31("ab"), long_[] = R32("ab") "ab";
    char *const claims[] = {whole, short_, long_};
    struct cvma_policy *p = load_ok("{\"tpm\": {\"ak_spki_sha256\": [\"" R32("ab") "\"]}}");
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        struct cvma_result res;
        memset(&res, 0, sizeof res);
        cvma_result_init(&res, "tpm", 1700000000);
        cvma_claims_set_kind(&res.claims, &spki_claims_ops, claims[i]);
        res.claims.verified = true;
        cvma_policy_appraise(p, &res);
        if (i == 0) {
            assert_int_equal(count_policy(&res.verdict), 0);
        } else {
            expect_reason(&res.verdict, CVMA_R_POLICY_CLAIM_MISSING,
                          "tpm.ak_spki_sha256: the result has no valid claim", NULL);
            assert_int_equal(count_policy(&res.verdict), 1);
        }
        cvma_result_cleanup(&res);
    }
    cvma_policy_free(p);
}

/* eventlog.secure_boot: on, off, and not measured in the registers compared with the quote (the
 * claims hold only those registers' events: the log may measure SecureBoot elsewhere). */
static void test_secure_boot_rule_says_which_registers_it_read(void **state)
{
    (void)state;
    static const char *claims[] = {"{\"secure_boot\": {\"enabled\": true}}",
                                   "{\"secure_boot\": {\"enabled\": false}}",
                                   "{\"secure_boot\": {\"enabled\": null}}"};
    struct cvma_snp_report r;
    struct cvma_result res;
    struct cvma_policy *p = load_ok("{\"eventlog\": {\"secure_boot\": true}}");
    good_snp(&r);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(claims); i++) {
        snp_result(&r, r.product, &res);
        res.claims.eventlog = json_loads(claims[i], 0, NULL);
        assert_non_null(res.claims.eventlog);
        cvma_policy_appraise(p, &res);
        if (i == 0) {
            assert_int_equal(count_policy(&res.verdict), 0);
        } else if (i == 1) {
            expect_reason(&res.verdict, CVMA_R_POLICY_SECURE_BOOT,
                          "eventlog.secure_boot: the log shows Secure Boot disabled", NULL);
        } else {
            expect_reason(&res.verdict, CVMA_R_POLICY_SECURE_BOOT,
                          "Secure Boot unmeasured (no SecureBoot variable event in the compared "
                          "registers (PCR 7 / RTMR 0))",
                          NULL);
        }
        cvma_result_cleanup(&res);
    }
    cvma_policy_free(p);
}

/* eventlog.kernel_cmdline_contains: each entry is a whole kernel parameter, and for
 * "key=value" the last parameter with that key (the one the kernel keeps) has that value; a
 * substring or a later value undoing it does not pass. Parameters after "--" are init's. */
static void test_cmdline_contains_is_a_whole_parameter(void **state)
{
    (void)state;
    static const struct {
        const char *cmdline;
        bool ok;
    } cases[] = {
            {"/vmlinuz ro module.sig_enforce=1 quiet", true},
            {"module.sig_enforce=1", true},
            {"/vmlinuz ro module.sig_enforce=10", false},
            {"/vmlinuz ro xmodule.sig_enforce=1", false},
            {"/vmlinuz module.sig_enforce=1 module.sig_enforce=0", false},
            {"/vmlinuz module.sig_enforce=0 module.sig_enforce=1", true},
            {"/vmlinuz module.sig_enforce=\"1\"", true},
            {"/vmlinuz \"module.sig_enforce=1\"", true},
            {"/vmlinuz -- module.sig_enforce=1", false},
            {"/vmlinuz dm=\"1 module.sig_enforce=1\" ro", false},
            /* a whole value and a whole key: neither an empty value nor a longer key */
            {"/vmlinuz module.sig_enforce= ro", false},
            {"/vmlinuz module.sig_enforcement=1", false},
    };
    struct cvma_snp_report r;
    struct cvma_result res;
    struct cvma_policy *p = load_ok(
            "{\"eventlog\": {\"kernel_cmdline_contains\": [\"module.sig_enforce=1\", \"ro\"]}}");
    good_snp(&r);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        char line[300];
        snprintf(line, sizeof line, "%s%s", cases[i].cmdline,
                 strstr(cases[i].cmdline, " ro") != NULL ? "" : " ro");
        snp_result(&r, r.product, &res);
        res.claims.eventlog = json_pack("{s:s}", "kernel_cmdline", line);
        assert_non_null(res.claims.eventlog);
        cvma_policy_appraise(p, &res);
        if (cases[i].ok != (count_policy(&res.verdict) == 0)) {
            fail_msg("\"%s\": want %s", line, cases[i].ok ? "pass" : "refused");
        }
        cvma_result_cleanup(&res);
    }
    /* the last value given is named as the cause */
    snp_result(&r, r.product, &res);
    res.claims.eventlog = json_pack("{s:s}", "kernel_cmdline",
                                    "ro module.sig_enforce=1 "
                                    "module.sig_enforce=0");
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_KERNEL_CMDLINE,
                  "the last parameter with its key has another value", NULL);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    /* efi_boot_applications: a measured digest is allowed only when it is a listed one whole */
    p = load_ok("{\"eventlog\": {\"efi_boot_applications\": [\"" R32("ab") "\"]}}");
    static const char *const apps[] = {R32("ab"), R31("ab") "ac", R16("ab")};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(apps); i++) {
        snp_result(&r, r.product, &res);
        res.claims.eventlog =
                json_pack("{s:[{s:i,s:s,s:{s:s}}]}", "efi_boot_applications", "event", 7, "path",
                          "\\EFI\\BOOT\\BOOTX64.EFI", "digests", "sha256", apps[i]);
        assert_non_null(res.claims.eventlog);
        cvma_policy_appraise(p, &res);
        if (i == 0) {
            assert_int_equal(count_policy(&res.verdict), 0);
        } else {
            expect_reason(&res.verdict, CVMA_R_POLICY_BOOT_APPLICATION, "is not allowed", apps[i]);
        }
        cvma_result_cleanup(&res);
    }
    cvma_policy_free(p);

    /* kernel_cmdline is the whole measured line: one that only begins with it fails */
    p = load_ok("{\"eventlog\": {\"kernel_cmdline\": \"console=ttyS0 ro\"}}");
    snp_result(&r, r.product, &res);
    res.claims.eventlog = json_pack("{s:s}", "kernel_cmdline", "console=ttyS0 ro init=/bin/sh");
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_KERNEL_CMDLINE, "init=/bin/sh",
                  "expected \"console=ttyS0 ro\"");
    cvma_result_cleanup(&res);
    snp_result(&r, r.product, &res);
    res.claims.eventlog = json_pack("{s:s}", "kernel_cmdline", "console=ttyS0 ro");
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    /* The kernel takes '-' and '_' in a parameter's name as the same (kernel/params.c
     * parameq), whichever the rule or the command line writes: "init-on-free=0" after
     * "init_on_free=1" leaves it off. Values are compared exactly. */
    static const struct {
        const char *want, *cmdline;
        bool ok;
    } keys[] = {
            {"init_on_free=1", "ro init_on_free=1 init-on-free=0", false},
            {"init_on_free=0", "ro init-on-free=0", true},
            {"init-on-free=1", "ro init_on_free=1", true},
            {"init-on-free=1", "ro init-on-free=1 init_on_free=0", false},
            {"module.sig_enforce=1", "ro module.sig-enforce=1", true},
            {"module.sig_enforce=1", "ro module.sig_enforce=1 module.sig-enforce=0", false},
            {"page_alloc.shuffle", "ro page-alloc.shuffle", true},
            {"nokaslr", "ro no-kaslr", false},
            {"lsm=a_b", "ro lsm=a-b", false},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(keys); i++) {
        char json[200];
        snprintf(json, sizeof json, "{\"eventlog\": {\"kernel_cmdline_contains\": [\"%s\"]}}",
                 keys[i].want);
        p = load_ok(json);
        snp_result(&r, r.product, &res);
        res.claims.eventlog = json_pack("{s:s}", "kernel_cmdline", keys[i].cmdline);
        assert_non_null(res.claims.eventlog);
        cvma_policy_appraise(p, &res);
        if (keys[i].ok != (count_policy(&res.verdict) == 0)) {
            fail_msg("\"%s\" against \"%s\": want %s", keys[i].cmdline, keys[i].want,
                     keys[i].ok ? "pass" : "refused");
        }
        cvma_result_cleanup(&res);
        cvma_policy_free(p);
    }
    static const char *bad[] = {" ro", "ro ", "a=\"b\"", "--", "=1"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        char json[200];
        snprintf(json, sizeof json, "{\"eventlog\": {\"kernel_cmdline_contains\": [\"%s\"]}}",
                 strcmp(bad[i], "a=\"b\"") == 0 ? "a=\\\"b\\\"" : bad[i]);
        load_refused(json, "is not one kernel parameter");
    }
}

/* A claim a rule needs but the result lacks never lets the rule pass. */
static void test_required_provider_waits_for_an_undecided_binding(void **state)
{
    struct cvma_snp_report r;
    struct cvma_result res;
    (void)state;
    /* A lookup registry could not answer (cvma_registry_bind: REGISTRY_UNAVAILABLE, undecided):
     * the result is exit 3, not a refusal, and the policy must not make it one. */
    good_snp(&r);
    struct cvma_policy *p = load_ok("{\"required_providers\": [\"google\"]}");
    snp_result(&r, r.product, &res);
    mark_checks_done(&res);
    cvma_reject(&res.verdict, CVMA_R_REGISTRY_UNAVAILABLE, "lookup registry google: HTTP 503");
    res.undecided = true;
    cvma_policy_appraise(p, &res);
    cvma_result_finish(&res);
    assert_null(tu_reason(&res.verdict, CVMA_R_POLICY_PROVIDER_REQUIRED));
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    assert_int_equal(cvma_result_exit_code(&res), 3);
    cvma_result_cleanup(&res);
    /* Decided and not bound: refused as before. */
    snp_result(&r, r.product, &res);
    mark_checks_done(&res);
    cvma_reject(&res.verdict, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED, "not listed");
    cvma_policy_appraise(p, &res);
    cvma_result_finish(&res);
    expect_reason(&res.verdict, CVMA_R_POLICY_PROVIDER_REQUIRED, "bound to no provider", NULL);
    assert_int_equal(cvma_result_exit_code(&res), 1);
    cvma_result_cleanup(&res);
    /* Bound to another provider: an unavailable registry besides does not excuse that (only a
     * binding left undecided waits), and names match whole, never by prefix either way. */
    static const char *const others[] = {"initech", "googl", "google2", "Google"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(others); i++) {
        snp_result(&r, r.product, &res);
        mark_checks_done(&res);
        res.platform.bound = true;
        snprintf(res.platform.provider, sizeof res.platform.provider, "%s", others[i]);
        cvma_reject(&res.verdict, CVMA_R_REGISTRY_UNAVAILABLE, "lookup registry google: HTTP 503");
        cvma_policy_appraise(p, &res);
        expect_reason(&res.verdict, CVMA_R_POLICY_PROVIDER_REQUIRED, "bound to provider",
                      others[i]);
        cvma_result_cleanup(&res);
    }
    cvma_policy_free(p);
}

/* eventlog.required_events[].type: the claims name only the PFP's event types and write any
 * other in hex, so an unknown name (a typo) is refused at load rather than never matching. */
static void test_required_event_type_must_be_a_known_name(void **state)
{
    (void)state;
    static const char *good[] = {"EV_EFI_BOOT_SERVICES_APPLICATION", "EV_SEPARATOR", "0x80000007",
                                 "0x0000abcd"};
    char json[200];
    for (size_t i = 0; i < CVMA_ARRAY_LEN(good); i++) {
        snprintf(json, sizeof json,
                 "{\"eventlog\": {\"required_events\": [{\"pcr\": 4, \"type\": \"%s\", "
                 "\"data\": \"x\"}]}}",
                 good[i]);
        cvma_policy_free(load_ok(json));
    }
    /* a type alone proves nothing: replay does not vouch for it */
    load_refused("{\"eventlog\": {\"required_events\": [{\"pcr\": 7, \"type\": "
                 "\"EV_SEPARATOR\"}]}}",
                 "eventlog.required_events[0]: give \"digest\" or \"data\" (a type alone proves "
                 "nothing");
    load_refused("{\"eventlog\": {\"required_events\": [{\"pcr\": 4, \"type\": "
                 "\"EV_EFI_BOOT_SERVICE_APPLICATION\"}]}}",
                 "eventlog.required_events[0].type: \"EV_EFI_BOOT_SERVICE_APPLICATION\" is not "
                 "an event type name");
    load_refused("{\"eventlog\": {\"required_events\": [{\"rtmr\": 1, \"type\": "
                 "\"EV_IPL\", \"data\": \"x\"}, {\"rtmr\": 1, \"type\": \"EV_FOO\", "
                 "\"data\": \"x\"}]}}",
                 "eventlog.required_events[1].type: \"EV_FOO\" is not an event type name");
}

/*
 * A claim a rule needs but the result lacks. The claims are typed: a verified report always
 * has its VMPL and TCB components, so what can be missing is the kind's own claims (a
 * verified result of no SEV-SNP report) and a product the report and its certificate left
 * unknown (a by_product minimum cannot be chosen).
 */
static void test_missing_claim_is_refused(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    struct cvma_result res;
    good_snp(&r);
    struct cvma_policy *p = load_ok("{\"snp\": {\"vmpl\": 0, \"minimum_tcb\": {\"snp\": 1, "
                                    "\"by_product\": {\"Milan\": {\"snp\": 1}}}}}");
    snp_result(&r, CVMA_SNP_PRODUCT_UNKNOWN, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_CLAIM_MISSING,
                  "snp.minimum_tcb.by_product: the result has no valid claim snp.product", NULL);
    assert_int_equal(count_policy(&res.verdict), 1);
    cvma_result_cleanup(&res);

    snp_result(&r, r.product, &res);
    cvma_claims_set_kind(&res.claims, NULL, NULL);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_CLAIM_MISSING,
                  "snp: the result has no valid claim snp", NULL);
    assert_int_equal(count_policy(&res.verdict), 1);
    cvma_result_cleanup(&res);

    /* No claims at all (verification failed early): nothing is appraised. */
    cvma_result_init(&res, "sev-snp", 0);
    cvma_policy_appraise(p, &res);
    assert_int_equal(res.verdict.n_reasons, 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* Every SEV-SNP rule failing at once: each is reported, not only the first. */
static void test_snp_all_failing_rules_are_reported(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    struct cvma_result res;
    good_snp(&r);
    r.policy |= 1ull << 19;
    r.committed_build = 7;
    const char *json = "{\"report_data\": \"" R64(
            "ab") "\", \"required_providers\": [\"acme\"],"
                  " \"snp\": {\"allow_debug\": false, \"measurements\": [\"" R48(
                          "34") "\"],"
                                " \"minimum_tcb\": {\"snp\": 15}, \"vmpl\": 1,"
                                " \"guest_policy\": {\"allow_smt\": false},"
                                " \"platform_info\": {\"require_ecc_en\": true, \"allow_smt_en\": "
                                "false},"
                                " \"host_data\": \"" R32("45") "\", \"id_key_digests\": \"" R48(
                                        "56") "\","
                                              " \"family_id\": \"" R16(
                                                      "12") "\", \"image_id\": "
                                                            "\"" R16(
                                                                    "23") "\","
                                                                          " \"mini"
                                                                          "mum_"
                                                                          "guest_"
                                                                          "svn\": "
                                                                          "9, "
                                                                          "\"repor"
                                                                          "t_id_"
                                                                          "ma\": "
                                                                          "\"" R32(
                                                                                  "89") "\","
                                                                                        " \"chip_"
                                                                                        "ids\": "
                                                                                        "\"" R64(
                                                                                                "9"
                                                                                                "8") "\", \"products\": [\"Turin\"],"
                                                                                                     " \"minimum_firmware_version\": \"2.0\","
                                                                                                     " \"require_committed_equals_current\": true}}";
    const enum cvma_reason want[] = {
            CVMA_R_POLICY_REPORT_DATA,
            CVMA_R_POLICY_PROVIDER_REQUIRED,
            CVMA_R_POLICY_DEBUG,
            CVMA_R_POLICY_MEASUREMENT,
            CVMA_R_POLICY_TCB_BELOW_MINIMUM,
            CVMA_R_POLICY_VMPL,
            CVMA_R_POLICY_GUEST_POLICY,
            CVMA_R_POLICY_PLATFORM_INFO,
            CVMA_R_POLICY_HOST_DATA,
            CVMA_R_POLICY_ID_KEY,
            CVMA_R_POLICY_FAMILY_ID,
            CVMA_R_POLICY_IMAGE_ID,
            CVMA_R_POLICY_GUEST_SVN,
            CVMA_R_POLICY_REPORT_ID_MA,
            CVMA_R_POLICY_CHIP_ID,
            CVMA_R_POLICY_PRODUCT,
            CVMA_R_POLICY_FIRMWARE_VERSION,
            CVMA_R_POLICY_COMMITTED_TCB,
    };
    struct cvma_policy *p = load_ok(json);
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(want); i++) {
        expect_reason(&res.verdict, want[i], NULL, NULL);
    }
    if (count_policy(&res.verdict) != CVMA_ARRAY_LEN(want)) {
        tu_dump(&res.verdict);
        fail_msg("%zu policy reasons, expected %zu", count_policy(&res.verdict),
                 CVMA_ARRAY_LEN(want));
    }
    mark_checks_done(&res);
    cvma_result_finish(&res);
    assert_int_equal(res.status, CVMA_CONTRAINDICATED);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* A real report through the parser and the claims encoder. */
static void test_snp_real_sample_claims(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_snp_report rep;
    struct cvma_verdict v;
    struct cvma_result res;
    char *sd = tu_path(tu_vectors(), "snp"), *dir = tu_path(sd, "milan-v2-gosevguest");
    char *f = tu_path(dir, "report.bin");
    tu_read(f, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_snp_report_parse(b.p, b.len, NULL, &rep, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);

    /* MANIFEST.md: measurement b07af962..., TCB bl 2 tee 0 snp 5 ucode 68, a debug guest. */
    const char *ok = "{\"snp\": {\"allow_debug\": true, \"measurements\": "
                     "[\"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9e"
                     "ce31a5a608eb0cf2e4872b01\"], \"minimum_tcb\": {\"bootloader\": 2, \"snp\": 5,"
                     " \"microcode\": 68}}}";
    struct cvma_policy *p = load_ok(ok);
    snp_result(&rep, CVMA_SNP_PRODUCT_MILAN, &res);
    cvma_policy_appraise(p, &res);
    if (count_policy(&res.verdict) != 0) {
        tu_dump(&res.verdict);
        fail_msg("the sample should satisfy its own values");
    }
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    p = load_ok("{\"snp\": {\"allow_debug\": false, \"minimum_tcb\": {\"snp\": 6}}}");
    snp_result(&rep, CVMA_SNP_PRODUCT_MILAN, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_DEBUG, "DEBUG (bit 19) set", NULL);
    expect_reason(&res.verdict, CVMA_R_POLICY_TCB_BELOW_MINIMUM, "snp 5 < 6", NULL);
    assert_int_equal(count_policy(&res.verdict), 2);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    cvma_buf_free(&b);
    free(sd);
    free(dir);
    free(f);
}

/* ---- TDX claims ---------------------------------------------------------------------------- */

static const uint8_t intel_qe[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                     0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

static void good_tdx(struct cvma_tdx_quote *q)
{
    memset(q, 0, sizeof *q);
    q->version = 4;
    q->att_key_type = 2;
    q->tee_type = 0x81;
    memcpy(q->qe_vendor_id, intel_qe, 16);
    struct cvma_tdx_td_report *b = &q->body;
    const uint8_t svn[16] = {6, 1, 3};
    memcpy(b->tee_tcb_svn, svn, 16);
    memset(b->mr_seam, 0x5e, sizeof b->mr_seam);
    b->td_attributes = 0x10000000ull; /* SEPT_VE_DISABLE */
    b->xfam = 0x602e7ull;
    memset(b->mr_td, 0xd1, sizeof b->mr_td);
    memset(b->mr_config_id, 0xc1, sizeof b->mr_config_id);
    memset(b->mr_owner, 0xc2, sizeof b->mr_owner);
    memset(b->mr_owner_config, 0xc3, sizeof b->mr_owner_config);
    for (size_t i = 0; i < 4; i++) {
        memset(b->rtmr[i], (int)(0xa0 + i), sizeof b->rtmr[i]);
    }
    memset(b->report_data, 0xaa, sizeof b->report_data);
}

/* res as the TDX verifier leaves it: the quote's claims plus the TCB evaluation it adds
 * (status NULL: no TCB level found). */
static void tdx_result(const struct cvma_tdx_quote *q, const char *status, struct cvma_result *res)
{
    struct cvma_tdx_tcb_result tcb;
    memset(&tcb, 0, sizeof tcb);
    if (status != NULL) {
        tcb.level_found = true;
        snprintf(tcb.status, sizeof tcb.status, "%s", status);
        snprintf(tcb.platform_status, sizeof tcb.platform_status, "%s", status);
        snprintf(tcb.qe_status, sizeof tcb.qe_status, "UpToDate");
    }
    cvma_result_init(res, "tdx", 0);
    assert_true(cvma_tdx_claims_set(res, q, NULL, &tcb, 0));
    res->platform.present = true;
    res->platform.vendor = CVMA_PLATFORM_INTEL;
}

static void run_tdx_cases(const struct rcase *cases, size_t n, const struct cvma_tdx_quote *q)
{
    for (size_t i = 0; i < n; i++) {
        struct cvma_result res;
        tdx_result(q, "UpToDate", &res);
        check_case("tdx", &cases[i], &res);
        cvma_result_cleanup(&res);
    }
}

/* Without allowed_tees, a kind is admitted only when every section applies to it (snp and tdx
 * being alternatives): beside a section that never applies to it, the kind would skip every rule
 * of that section. The reviewer's cases: {"snp", "tpm"} gave affirming on a plain SEV-SNP report
 * (no PCR rule read) and on a bare TPM quote (no snp rule read); {"snp", "azure"} admitted an
 * Azure CVM's SEV-SNP report verified bare (kind sev-snp), skipping every azure rule. */
static void test_default_kinds_skip_no_section(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        unsigned want;
    } cases[] = {
            {"{\"snp\": {}}", POL_TEE_SNP},
            {"{\"tdx\": {}}", POL_TEE_TDX},
            {"{\"snp\": {}, \"tdx\": {}}", POL_TEE_SNP | POL_TEE_TDX},
            {"{\"tpm\": {}}", POL_TEE_TPM},
            {"{\"snp\": {}, \"azure\": {}}", POL_TEE_AZURE_SNP},
            {"{\"tdx\": {}, \"azure\": {}}", POL_TEE_AZURE_TDX},
            {"{\"snp\": {}, \"tpm\": {}, \"azure\": {}}", POL_TEE_AZURE_SNP},
            {"{\"snp\": {}, \"eventlog\": {\"secure_boot\": true}}", POL_TEE_SNP},
            {"{\"report_data\": \"aa\"}", 0u},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        struct cvma_policy *p = load_ok(cases[i].json);
        if (p->allowed_tees != cases[i].want) {
            fail_msg("%s: allowed_tees 0x%x, want 0x%x", cases[i].json, p->allowed_tees,
                     cases[i].want);
        }
        cvma_policy_free(p);
    }

    /* Sections whose default admits no kind: refused at load, naming the likely kinds. */
    load_refused("{\"snp\": {\"measurements\": \"" R48("33") "\"}, \"tpm\": {\"pcrs\": "
                                                             "{\"sha256\": {\"7\": \"" R32(
                                                                     "00") "\"}}}}",
                 "tpm: beside the snp section no evidence kind is admitted by default (a plain "
                 "sev-snp report would skip the tpm rules, a bare tpm quote the snp ones): list "
                 "the kinds in allowed_tees, likely \"svsm-vtpm\" or \"azure-snp\"");
    load_refused("{\"tdx\": {}, \"tpm\": {}}",
                 "tpm: beside the tdx section no evidence kind is admitted by default (a plain "
                 "tdx quote would skip the tpm rules, a bare tpm quote the tdx ones): list the "
                 "kinds in allowed_tees, likely \"azure-tdx\"");
    load_refused("{\"snp\": {}, \"tdx\": {}, \"tpm\": {}}",
                 "list the kinds in allowed_tees, likely \"svsm-vtpm\", \"azure-snp\" or "
                 "\"azure-tdx\"");
    /* an explicit list stays as written */
    struct cvma_policy *p = load_ok("{\"allowed_tees\": [\"sev-snp\", \"tpm\"], \"snp\": {}, "
                                    "\"tpm\": {}}");
    assert_int_equal(p->allowed_tees, POL_TEE_SNP | POL_TEE_TPM);
    cvma_policy_free(p);

    /* A plain SEV-SNP report (simulated) against snp and azure sections: refused by kind, though
     * it meets every snp rule. */
    struct cvma_snp_report r;
    struct cvma_result res;
    good_snp(&r);
    p = load_ok("{\"snp\": {\"measurements\": [\"" R48(
            "33") "\"]}, "
                  "\"azure\": {\"secure_boot\": true, \"console_enabled\": false}}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, "the evidence is sev-snp",
                  "accepts only azure-snp");
    assert_int_equal(count_policy(&res.verdict), 1);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    /* and against snp, tdx and azure sections */
    p = load_ok("{\"snp\": {}, \"tdx\": {}, \"azure\": {}}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, "the evidence is sev-snp",
                  "accepts only azure-snp, azure-tdx");
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    /* A plain TD quote (simulated) against tdx and azure sections: likewise. */
    struct cvma_tdx_quote q;
    good_tdx(&q);
    p = load_ok("{\"tdx\": {\"mr_td\": \"" R48("d1") "\"}, \"azure\": {\"secure_boot\": true}}");
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, "the evidence is tdx",
                  "accepts only azure-tdx");
    assert_int_equal(count_policy(&res.verdict), 1);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    /* snp and tdx stay alternatives: each plain kind admitted, its own rules applied. */
    p = load_ok("{\"snp\": {\"measurements\": [\"" R48("33") "\"]}, \"tdx\": {\"mr_td\": \"" R48(
            "d1") "\"}}");
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    /* A bare tpm quote against a tpm section beside an azure one: refused by kind. */
    p = load_ok("{\"snp\": {}, \"tpm\": {}, \"azure\": {}}");
    memset(&res, 0, sizeof res);
    cvma_result_init(&res, "tpm", 1700000000);
    res.claims.verified = true;
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, "the evidence is tpm",
                  "accepts only azure-snp");
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

static void test_tdx_register_rules_pass_and_fail(void **state)
{
    (void)state;
    struct cvma_tdx_quote q;
    good_tdx(&q);
    const struct rcase cases[] = {
            {"\"mr_td\": [\"" R48("d0") "\", \"" R48("d1") "\"]", PASS, NULL, NULL},
            {"\"mr_td\": \"" R48("d2") "\"", CVMA_R_POLICY_MR_TD, "tdx.mr_td: mr_td=" R48("d1"),
             "expected " R48("d2")},
            /* RTMRs: each optional, each its own rule. */
            {"\"rtmr2\": \"" R48("a2") "\"", PASS, NULL, NULL},
            {"\"rtmr0\": \"" R48("a0") "\", \"rtmr1\": \"" R48("a1") "\", \"rtmr2\": \"" R48(
                     "a2") "\", \"rtmr3\": [\"" R48("00") "\", \"" R48("a3") "\"]",
             PASS, NULL, NULL},
            {"\"rtmr3\": \"" R48("00") "\"", CVMA_R_POLICY_RTMR, "tdx.rtmr3: rtmr[3]=" R48("a3"),
             "expected " R48("00")},
            {"\"rtmr0\": \"" R48("a1") "\"", CVMA_R_POLICY_RTMR, "tdx.rtmr0: rtmr[0]=" R48("a0"),
             NULL},
            {"\"mr_config_id\": \"" R48("c1") "\"", PASS, NULL, NULL},
            {"\"mr_config_id\": \"" R48("00") "\"", CVMA_R_POLICY_MR_CONFIG_ID,
             "mr_config_id=" R48("c1"), "expected " R48("00")},
            {"\"mr_owner\": \"" R48("c2") "\"", PASS, NULL, NULL},
            {"\"mr_owner\": \"" R48("00") "\"", CVMA_R_POLICY_MR_OWNER, "mr_owner=" R48("c2"),
             NULL},
            {"\"mr_owner_config\": \"" R48("c3") "\"", PASS, NULL, NULL},
            {"\"mr_owner_config\": \"" R48("00") "\"", CVMA_R_POLICY_MR_OWNER_CONFIG,
             "mr_owner_config=" R48("c3"), NULL},
            {"\"mr_seam\": [\"" R48("5e") "\"]", PASS, NULL, NULL},
            {"\"mr_seam\": \"" R48("5f") "\"", CVMA_R_POLICY_MR_SEAM,
             "tdx.mr_seam: mr_seam=" R48("5e"), "expected " R48("5f")},
            {"\"minimum_tee_tcb_svn\": \"06010300000000000000000000000000\"", PASS, NULL, NULL},
            {"\"minimum_tee_tcb_svn\": \"05000000000000000000000000000000\"", PASS, NULL, NULL},
            {"\"minimum_tee_tcb_svn\": \"06020300000000000000000000000000\"",
             CVMA_R_POLICY_TEE_TCB_SVN, "tee_tcb_svn=06010300000000000000000000000000",
             "byte 1: 1 < 2"},
            {"\"td_attributes\": \"0000000010000000\"", PASS, NULL, NULL},
            {"\"td_attributes\": \"0000000000000000\"", CVMA_R_POLICY_TD_ATTRIBUTES,
             "td_attributes=0000000010000000, expected 0000000000000000", NULL},
            {"\"xfam\": \"00000000000602e7\"", PASS, NULL, NULL},
            {"\"xfam\": \"00000000000600e7\"", CVMA_R_POLICY_XFAM,
             "xfam=00000000000602e7, expected 00000000000600e7", "differing bits 0000000000000200"},
            {"\"allow_debug\": false", PASS, NULL, NULL},
    };
    run_tdx_cases(cases, CVMA_ARRAY_LEN(cases), &q);
}

static void test_tdx_debug_rule(void **state)
{
    (void)state;
    struct cvma_tdx_quote q;
    good_tdx(&q);
    q.body.td_attributes |= 1; /* DEBUG */
    const struct rcase cases[] = {
            {"\"allow_debug\": false", CVMA_R_POLICY_DEBUG,
             "tdx.allow_debug: expected false (TD_ATTRIBUTES bits 7:0 clear)",
             "td_attributes=0000000010000001 with bits 0x01 set"},
            {"\"mr_td\": \"" R48("d1") "\"", CVMA_R_POLICY_DEBUG, NULL, NULL},
            {"\"allow_debug\": true", PASS, NULL, NULL},
    };
    run_tdx_cases(cases, CVMA_ARRAY_LEN(cases), &q);
    good_tdx(&q);
    q.body.td_attributes |= 1u << 5; /* PERF_PROF: not a production TD either */
    const struct rcase prof[] = {
            {"\"allow_debug\": false", CVMA_R_POLICY_DEBUG, "bits 0x20 set", NULL},
    };
    run_tdx_cases(prof, CVMA_ARRAY_LEN(prof), &q);
}

/*
 * Secure default: the verifier records a debug guest as an error (SNP_DEBUG_ALLOWED,
 * TDX_DEBUG). allow_debug true lowers that very reason to a warning, saying so in its
 * detail; false or absent leaves it an error (and adds POLICY_DEBUG).
 */
static void debug_case(struct cvma_result *res, enum cvma_reason code, const char *policy,
                       enum cvma_result_status want_status, enum cvma_severity want_sev,
                       const char *want_note)
{
    struct cvma_policy *p = load_ok(policy);
    mark_checks_done(res);
    cvma_reject(&res->verdict, code, "debug bit set (as the verifier records it)");
    assert_int_equal(tu_severity_of(&res->verdict, code), CVMA_SEV_ERROR);
    cvma_policy_appraise(p, res);
    cvma_result_finish(res);
    if (res->status != want_status || tu_severity_of(&res->verdict, code) != (int)want_sev) {
        tu_dump(&res->verdict);
        fail_msg("policy %s: status %s, %s severity %d", policy,
                 cvma_result_status_name(res->status), cvma_reason_name(code),
                 tu_severity_of(&res->verdict, code));
    }
    if (want_note != NULL) {
        expect_reason(&res->verdict, code, "debug bit set", want_note);
    } else {
        assert_null(strstr(tu_reason_must(&res->verdict, code)->detail, "accepted by policy"));
    }
    cvma_result_cleanup(res);
    cvma_policy_free(p);
}

static void test_allow_debug_true_lowers_the_debug_error_to_a_warning(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    struct cvma_tdx_quote q;
    struct cvma_result res;
    good_snp(&r);
    r.policy |= 1ull << 19;
    snp_result(&r, CVMA_SNP_PRODUCT_MILAN, &res);
    debug_case(&res, CVMA_R_SNP_DEBUG_ALLOWED, "{\"snp\": {\"allow_debug\": true}}", CVMA_WARNING,
               CVMA_SEV_WARNING, "(accepted by policy: snp.allow_debug is true)");
    snp_result(&r, CVMA_SNP_PRODUCT_MILAN, &res);
    debug_case(&res, CVMA_R_SNP_DEBUG_ALLOWED, "{\"snp\": {\"allow_debug\": false}}",
               CVMA_CONTRAINDICATED, CVMA_SEV_ERROR, NULL);
    snp_result(&r, CVMA_SNP_PRODUCT_MILAN, &res);
    debug_case(&res, CVMA_R_SNP_DEBUG_ALLOWED, "{\"snp\": {}}", CVMA_CONTRAINDICATED,
               CVMA_SEV_ERROR, NULL);
    /* The TDX section's allow_debug says nothing about an SEV-SNP guest. */
    snp_result(&r, CVMA_SNP_PRODUCT_MILAN, &res);
    debug_case(&res, CVMA_R_SNP_DEBUG_ALLOWED,
               "{\"allowed_tees\": [\"sev-snp\", \"tdx\"], \"tdx\": {\"allow_debug\": true}}",
               CVMA_CONTRAINDICATED, CVMA_SEV_ERROR, NULL);

    good_tdx(&q);
    q.body.td_attributes |= 1; /* DEBUG */
    tdx_result(&q, "UpToDate", &res);
    debug_case(&res, CVMA_R_TDX_DEBUG, "{\"tdx\": {\"allow_debug\": true}}", CVMA_WARNING,
               CVMA_SEV_WARNING, "(accepted by policy: tdx.allow_debug is true)");
    tdx_result(&q, "UpToDate", &res);
    debug_case(&res, CVMA_R_TDX_DEBUG, "{\"tdx\": {\"allow_debug\": false}}", CVMA_CONTRAINDICATED,
               CVMA_SEV_ERROR, NULL);
    tdx_result(&q, "UpToDate", &res);
    debug_case(&res, CVMA_R_TDX_DEBUG, "{\"tdx\": {}}", CVMA_CONTRAINDICATED, CVMA_SEV_ERROR, NULL);
}

static void test_tdx_report_data_and_service_td(void **state)
{
    (void)state;
    struct cvma_tdx_quote q;
    struct cvma_result res;
    good_tdx(&q);
    struct cvma_policy *p = load_ok("{\"report_data\": \"" R64("aa") "\", \"tdx\": {}}");
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    p = load_ok("{\"report_data\": \"" R64("ab") "\", \"tdx\": {}}");
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_REPORT_DATA, "report_data=" R64("aa"),
                  "expected " R64("ab"));
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    /* A TPM quote alone has no REPORT_DATA: the rule has nothing to compare, even with a
     * value of zeros (the claims' unused 64 bytes). */
    static const char *const rds[] = {"{\"report_data\": \"00\"}", "{\"report_data\": \"01\"}"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(rds); i++) {
        p = load_ok(rds[i]);
        memset(&res, 0, sizeof res);
        cvma_result_init(&res, "tpm", 1700000000);
        res.claims.verified = true;
        cvma_policy_appraise(p, &res);
        expect_reason(&res.verdict, CVMA_R_POLICY_CLAIM_MISSING, "report_data: the result has no",
                      "no hardware REPORT_DATA");
        assert_false(cvma_verdict_has(&res.verdict, CVMA_R_POLICY_REPORT_DATA));
        cvma_result_cleanup(&res);
        cvma_policy_free(p);
    }

    /* A TD report 1.5 with a bound service TD: pinning it accepts the binding. */
    q.version = 5;
    q.body_type = 3;
    q.body.is_v15 = true;
    memset(q.body.mr_service_td, 0xee, sizeof q.body.mr_service_td);
    p = load_ok("{\"tdx\": {\"mr_service_td\": \"" R48("ee") "\"}}");
    tdx_result(&q, "UpToDate", &res);
    cvma_verdict_add(&res.verdict, CVMA_R_TDX_SERVICE_TD_BOUND, CVMA_SEV_WARNING, "MRSERVICETD=%s",
                     R48("ee"));
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    assert_int_equal(tu_severity_of(&res.verdict, CVMA_R_TDX_SERVICE_TD_BOUND), CVMA_SEV_INFO);
    expect_reason(&res.verdict, CVMA_R_TDX_SERVICE_TD_BOUND,
                  "(accepted by policy: tdx.mr_service_td)", NULL);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);

    p = load_ok("{\"tdx\": {\"mr_service_td\": \"" R48("00") "\"}}");
    tdx_result(&q, "UpToDate", &res);
    cvma_verdict_add(&res.verdict, CVMA_R_TDX_SERVICE_TD_BOUND, CVMA_SEV_WARNING, "bound");
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_MR_SERVICE_TD, "mr_service_td=" R48("ee"), R48("00"));
    assert_int_equal(tu_severity_of(&res.verdict, CVMA_R_TDX_SERVICE_TD_BOUND), CVMA_SEV_WARNING);
    cvma_result_cleanup(&res);
    /* TD report 1.0: no MRSERVICETD, read as zeros. */
    good_tdx(&q);
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* The verifier's default mapping of a TCB status (reasons.def) recorded on res. */
static void add_status_reason(struct cvma_result *res, const char *status)
{
    if (strcmp(status, "OutOfDate") == 0 || strcmp(status, "OutOfDateConfigurationNeeded") == 0) {
        cvma_reject(&res->verdict, CVMA_R_TDX_TCB_OUT_OF_DATE, "TCB status %s", status);
    } else if (strcmp(status, "Revoked") == 0) {
        cvma_reject(&res->verdict, CVMA_R_TDX_TCB_REVOKED, "TCB status Revoked");
    } else if (strncmp(status, "TDRelaunchAdvised", 17) == 0) {
        cvma_reject(&res->verdict, CVMA_R_TDX_TCB_RELAUNCH_ADVISED, "TCB status %s", status);
    } else if (strcmp(status, "UpToDate") != 0) {
        cvma_reject(&res->verdict, CVMA_R_TDX_TCB_NEEDS_ACTION, "TCB status %s", status);
    }
}

struct status_case {
    const char *accepted; /* JSON list, or NULL: no accepted_tcb_statuses */
    const char *status;
    enum cvma_reason default_code; /* CVMA_R_COUNT_ for UpToDate */
    enum cvma_severity want_sev;   /* of default_code after appraisal */
    bool policy_refuses;           /* POLICY_TCB_STATUS */
    enum cvma_result_status want_status;
};

/* accepted_tcb_statuses overrides the default mapping, both ways. */
static void test_tdx_accepted_tcb_statuses_override(void **state)
{
    (void)state;
    const struct status_case cases[] = {
            /* No list: the default mapping stands. */
            {NULL, "SWHardeningNeeded", CVMA_R_TDX_TCB_NEEDS_ACTION, CVMA_SEV_WARNING, false,
             CVMA_WARNING},
            {NULL, "OutOfDate", CVMA_R_TDX_TCB_OUT_OF_DATE, CVMA_SEV_ERROR, false,
             CVMA_CONTRAINDICATED},
            /* Listed: accepted deliberately, a warning (accepted is not up to date: the
             * result is warning, never affirming, docs/policy.md). */
            {"[\"UpToDate\", \"SWHardeningNeeded\"]", "SWHardeningNeeded",
             CVMA_R_TDX_TCB_NEEDS_ACTION, CVMA_SEV_WARNING, false, CVMA_WARNING},
            {"[\"OutOfDate\"]", "OutOfDate", CVMA_R_TDX_TCB_OUT_OF_DATE, CVMA_SEV_WARNING, false,
             CVMA_WARNING},
            {"[\"OutOfDateConfigurationNeeded\"]", "OutOfDateConfigurationNeeded",
             CVMA_R_TDX_TCB_OUT_OF_DATE, CVMA_SEV_WARNING, false, CVMA_WARNING},
            {"[\"TDRelaunchAdvised\"]", "TDRelaunchAdvised", CVMA_R_TDX_TCB_RELAUNCH_ADVISED,
             CVMA_SEV_WARNING, false, CVMA_WARNING},
            {NULL, "TDRelaunchAdvised", CVMA_R_TDX_TCB_RELAUNCH_ADVISED, CVMA_SEV_ERROR, false,
             CVMA_CONTRAINDICATED},
            /* Not listed: refused, even where the default is only a warning. */
            {"[\"UpToDate\"]", "ConfigurationNeeded", CVMA_R_TDX_TCB_NEEDS_ACTION, CVMA_SEV_WARNING,
             true, CVMA_CONTRAINDICATED},
            {"[\"SWHardeningNeeded\"]", "OutOfDate", CVMA_R_TDX_TCB_OUT_OF_DATE, CVMA_SEV_ERROR,
             true, CVMA_CONTRAINDICATED},
            {"[\"SWHardeningNeeded\", \"OutOfDate\", \"ConfigurationNeeded\"]", "Revoked",
             CVMA_R_TDX_TCB_REVOKED, CVMA_SEV_ERROR, true, CVMA_CONTRAINDICATED},
            /* UpToDate is always accepted. */
            {"[\"SWHardeningNeeded\"]", "UpToDate", CVMA_R_COUNT_, CVMA_SEV_INFO, false,
             CVMA_AFFIRMING},
    };
    struct cvma_tdx_quote q;
    good_tdx(&q);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        const struct status_case *c = &cases[i];
        char json[512];
        struct cvma_result res;
        if (c->accepted != NULL) {
            snprintf(json, sizeof json, "{\"tdx\": {\"accepted_tcb_statuses\": %s}}", c->accepted);
        } else {
            snprintf(json, sizeof json, "{\"tdx\": {}}");
        }
        struct cvma_policy *p = load_ok(json);
        tdx_result(&q, c->status, &res);
        add_status_reason(&res, c->status);
        cvma_policy_appraise(p, &res);
        if (c->default_code != CVMA_R_COUNT_) {
            int sev = tu_severity_of(&res.verdict, c->default_code);
            if (sev != (int)c->want_sev) {
                tu_dump(&res.verdict);
                fail_msg("case %zu: %s has severity %d, want %d", i,
                         cvma_reason_name(c->default_code), sev, (int)c->want_sev);
            }
            if (c->accepted != NULL && !c->policy_refuses) {
                expect_reason(&res.verdict, c->default_code,
                              "(accepted by policy: tdx.accepted_tcb_statuses lists ", c->status);
            } else {
                const struct cvma_verdict_reason *r = tu_reason(&res.verdict, c->default_code);
                assert_true(r == NULL || strstr(r->detail, "accepted by policy") == NULL);
            }
        }
        assert_int_equal(cvma_verdict_has(&res.verdict, CVMA_R_POLICY_TCB_STATUS),
                         c->policy_refuses);
        if (c->policy_refuses) {
            char want[96];
            snprintf(want, sizeof want, "tcb_status=%s is not one of [UpToDate", c->status);
            expect_reason(&res.verdict, CVMA_R_POLICY_TCB_STATUS,
                          "tdx.accepted_tcb_statuses: ", want);
        }
        assert_int_equal(count_policy(&res.verdict), c->policy_refuses ? 1 : 0);
        mark_checks_done(&res);
        cvma_result_finish(&res);
        if (res.status != c->want_status) {
            tu_dump(&res.verdict);
            fail_msg("case %zu (%s): status %s", i, c->status, cvma_result_status_name(res.status));
        }
        cvma_result_cleanup(&res);
        cvma_policy_free(p);
    }

    /* No status at all: TDX_TCB_LEVEL_NOT_FOUND already refuses; else the claim is missing. */
    struct cvma_policy *p = load_ok("{\"tdx\": {\"accepted_tcb_statuses\": [\"UpToDate\"]}}");
    struct cvma_result res;
    tdx_result(&q, NULL, &res);
    cvma_reject(&res.verdict, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND, "no TCB level matches");
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    tdx_result(&q, NULL, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_CLAIM_MISSING, "tdx.tcb_status", NULL);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* Every TDX rule failing at once: each is reported. */
static void test_tdx_all_failing_rules_are_reported(void **state)
{
    (void)state;
    struct cvma_tdx_quote q;
    struct cvma_result res;
    good_tdx(&q);
    q.body.td_attributes |= 1;
    const char *json =
            "{\"report_data\": \"" R64(
                    "ab") "\", \"required_providers\": [\"acme\"],"
                          " \"tdx\": {\"allow_debug\": false, \"mr_td\": \"" R48(
                                  "d2") "\","
                                        " \"rtmr0\": \"" R48("00") "\", \"rtmr3\": \"" R48(
                                                "00") "\","
                                                      " \"mr_config_id\": \"" R48(
                                                              "00") "\", \"mr_owner\": "
                                                                    "\"" R48(
                                                                            "00") "\","
                                                                                  " \"mr_"
                                                                                  "owner_"
                                                                                  "config"
                                                                                  "\": "
                                                                                  "\"" R48("00") "\", \"mr_seam\": \"" R48(
                                                                                          "00") "\""
                                                                                                ","
                                                                                                " "
                                                                                                "\""
                                                                                                "mr"
                                                                                                "_s"
                                                                                                "er"
                                                                                                "vi"
                                                                                                "ce"
                                                                                                "_t"
                                                                                                "d"
                                                                                                "\""
                                                                                                ": "
                                                                                                "\"" R48(
                                                                                                        "ee") "\","
                                                                                                              " \"minimum_tee_tcb_svn\": \"07000000000000000000000000000000\","
                                                                                                              " \"td_attributes\": \"0000000010000000\", \"xfam\": \"0000000000000003\","
                                                                                                              " \"accepted_tcb_statuses\": [\"UpToDate\"], \"collateral_grace_period\": \"1d\"}}";
    const enum cvma_reason want[] = {
            CVMA_R_POLICY_REPORT_DATA,     CVMA_R_POLICY_PROVIDER_REQUIRED,
            CVMA_R_POLICY_DEBUG,           CVMA_R_POLICY_MR_TD,
            CVMA_R_POLICY_MR_CONFIG_ID,    CVMA_R_POLICY_MR_OWNER,
            CVMA_R_POLICY_MR_OWNER_CONFIG, CVMA_R_POLICY_MR_SEAM,
            CVMA_R_POLICY_MR_SERVICE_TD,   CVMA_R_POLICY_TEE_TCB_SVN,
            CVMA_R_POLICY_TD_ATTRIBUTES,   CVMA_R_POLICY_XFAM,
            CVMA_R_POLICY_TCB_STATUS,
    };
    struct cvma_policy *p = load_ok(json);
    tdx_result(&q, "SWHardeningNeeded", &res);
    cvma_policy_appraise(p, &res);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(want); i++) {
        expect_reason(&res.verdict, want[i], NULL, NULL);
    }
    /* Two RTMR rules fail, each reported. */
    size_t rtmr = 0;
    for (size_t i = 0; i < res.verdict.n_reasons; i++) {
        rtmr += res.verdict.reasons[i].code == CVMA_R_POLICY_RTMR;
    }
    assert_int_equal(rtmr, 2);
    if (count_policy(&res.verdict) != CVMA_ARRAY_LEN(want) + 2) {
        tu_dump(&res.verdict);
        fail_msg("%zu policy reasons, expected %zu", count_policy(&res.verdict),
                 CVMA_ARRAY_LEN(want) + 2);
    }
    cvma_result_cleanup(&res);

    /* The same policy on SEV-SNP evidence: the TEE is not allowed. */
    struct cvma_snp_report r;
    good_snp(&r);
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED, NULL, NULL);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* A real TDX quote through the parser and the claims encoder. */
static void test_tdx_real_quote_claims(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_tdx_quote q;
    struct cvma_verdict v;
    struct cvma_result res;
    char *td = tu_path(tu_vectors(), "tdx"), *dir = tu_path(td, "v4-uptodate-dcapqvl");
    char *f = tu_path(dir, "quote.bin");
    tu_read(f, &b);
    memset(&q, 0, sizeof q);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_quote_parse(b.p, b.len, NULL, &q, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);

    char mrtd[97], seam[97], json[1024];
    cvma_hex_encode(q.body.mr_td, 48, mrtd, sizeof mrtd);
    cvma_hex_encode(q.body.mr_seam, 48, seam, sizeof seam);
    snprintf(json, sizeof json,
             "{\"tdx\": {\"allow_debug\": %s, \"mr_td\": \"%s\", \"mr_seam\": \"%s\","
             " \"accepted_tcb_statuses\": [\"UpToDate\"]}}",
             (q.body.td_attributes & 0xff) ? "true" : "false", mrtd, seam);
    struct cvma_policy *p = load_ok(json);
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    if (count_policy(&res.verdict) != 0) {
        tu_dump(&res.verdict);
        fail_msg("the quote should satisfy its own values");
    }
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    q.body.mr_td[0] ^= 1;
    p = load_ok(json);
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_MR_TD, mrtd, NULL);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    cvma_tdx_quote_cleanup(&q);
    cvma_buf_free(&b);
    free(td);
    free(dir);
    free(f);
}

/* ---- the claims JSON written from the typed claims ------------------------------------------ */

static char *claims_text(const struct cvma_result *res)
{
    json_t *c = cvma_result_claims_json(res);
    assert_non_null(c);
    char *t = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(c);
    assert_non_null(t);
    return t;
}

/* {} before verification; then measurement, report_data, debug and the kind's object, in this
 * order, the kind's extra keys after the report's fields (docs/results.md). */
static void test_claims_json_shape(void **state)
{
    (void)state;
    struct cvma_snp_report r;
    struct cvma_tdx_quote q;
    struct cvma_result res;
    char *t;
    cvma_result_init(&res, "sev-snp", 0);
    t = claims_text(&res);
    assert_string_equal(t, "{}");
    free(t);
    cvma_result_cleanup(&res);

    good_snp(&r);
    r.policy |= 1ull << 19;
    cvma_result_init(&res, "sev-snp", 0);
    assert_true(
            cvma_snp_claims_set(&res, &r, CVMA_SNP_PRODUCT_MILAN, "CN=csp.example", "Milan-B0"));
    t = claims_text(&res);
    assert_true(
            strncmp(t,
                    "{\"measurement\":\"" R48("33") "\",\"report_data\":\"" R64(
                            "aa") "\",\"debug\":true,\"snp\":{\"version\":3,\"product\":\"Milan\",",
                    strlen("{\"measurement\":\"" R48("33") "\",\"report_data\":\"" R64(
                            "aa") "\",\"debug\":true,\"snp\":{\"version\":3,\"product\":"
                                  "\"Milan\",")) == 0);
    assert_non_null(
            strstr(t, "},\"csp_id\":\"CN=csp.example\",\"cert_product_name\":\"Milan-B0\"}}"));
    free(t);
    cvma_result_cleanup(&res);

    good_tdx(&q);
    tdx_result(&q, NULL, &res);
    t = claims_text(&res);
    assert_true(strncmp(t,
                        "{\"measurement\":\"" R48("d1") "\",\"report_data\":\"" R64(
                                "aa") "\",\"debug\":false,\"tdx\":{\"version\":4,",
                        strlen("{\"measurement\":\"" R48("d1") "\",\"report_data\":\"" R64(
                                "aa") "\",\"debug\":false,\"tdx\":{\"version\":4,")) == 0);
    assert_non_null(strstr(t, "\"tcb_status\":null,\"platform_tcb_status\":null,\"qe_tcb_status\":"
                              "null,\"module_tcb_status\":null,\"tcb_date\":null,\"advisory_ids\":"
                              "[],\"tcb_evaluation_data_number\":0}}"));
    free(t);
    cvma_result_cleanup(&res);
}

/* ---- loading ------------------------------------------------------------------------------- */

static void test_load_refuses_bad_policies_naming_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } bad[] = {
            {"{", "not valid JSON at line 1"},
            {"[]", "the policy must be a JSON object, got an array"},
            {"{\"colour\": 1}", "colour: unknown field"},
            {"{\"version\": 2}", "version: 2 is out of range 1..1"},
            {"{\"name\": 5}", "name: expected a string, got an integer"},
            {"{\"snp\": {\"vmpl\": 0, \"vmpl\": 1}}", "duplicate object key"},
            {"{\"snp\": []}", "snp: expected an object, got an array"},
            {"{\"snp\": {\"measurement\": \"00\"}}", "snp.measurement: unknown field"},
            {"{\"snp\": {\"vmpl\": \"0\"}}", "snp.vmpl: expected an integer, got a string"},
            {"{\"snp\": {\"vmpl\": 4}}", "snp.vmpl: 4 is out of range 0..3"},
            {"{\"snp\": {\"vmpl\": 1.0}}", "snp.vmpl: expected an integer, got a real number"},
            {"{\"snp\": {\"allow_debug\": \"no\"}}", "snp.allow_debug: expected true or false"},
            {"{\"snp\": {\"measurements\": [\"" R48("00") "\", \"" R47("zz") "zz\"]}}",
             "snp.measurements[1]: not hex"},
            {"{\"snp\": {\"measurements\": \"0x" R47("00") "\"}}", "snp.measurements: not hex"},
            {"{\"snp\": {\"measurements\": \"" R32("00") "\"}}",
             "snp.measurements: expected 96 hex digits (48 bytes), got 64 characters"},
            {"{\"snp\": {\"measurements\": []}}",
             "snp.measurements: expected 1..256 values, got 0"},
            /* zero: a guest launched without an ID block (author key) reports it */
            {"{\"snp\": {\"id_key_digests\": [\"" R48("11") "\", \"" R48("00") "\"]}}",
             "snp.id_key_digests[1]: all zero, the value of a guest launched without one: it pins "
             "nothing"},
            {"{\"snp\": {\"author_key_digests\": \"" R48("00") "\"}}",
             "snp.author_key_digests[0]: all zero"},
            {"{\"snp\": {\"measurements\": 7}}",
             "snp.measurements: expected a hex string or a list of them, got an integer"},
            {"{\"snp\": {\"host_data\": \"" R32("00") "00\"}}", "snp.host_data: expected 64 hex"},
            {"{\"snp\": {\"chip_ids\": [null]}}", "snp.chip_ids[0]: expected a hex string of 64 "
                                                  "bytes, got null"},
            {"{\"snp\": {\"chip_ids\": [\"" R32("11") R32("11") "\", \"" R32("00")
                     R32("00") "\"]}}",
             "snp.chip_ids[1]: all zero, what a guest reports whose policy masks its CHIP_ID: it "
             "pins no machine"},
            {"{\"required_providers\": []}",
             "required_providers: expected a list of 1..256 provider names, got an empty list"},
            {"{\"registry_log_required\": []}",
             "registry_log_required: expected a list of 1..256 provider names, got an empty list"},
            {"{\"eventlog\": {\"kernel_cmdline_contains\": []}}",
             "eventlog.kernel_cmdline_contains: expected a list of 1..256 strings, got an empty "
             "list"},
            {"{\"snp\": {\"minimum_tcb\": {\"snp\": 1, \"fw\": 2}}}",
             "snp.minimum_tcb.fw: unknown"},
            {"{\"snp\": {\"minimum_tcb\": {\"snp\": 256}}}", "snp.minimum_tcb.snp: 256 is out of "
                                                             "range 0..255"},
            {"{\"snp\": {\"minimum_tcb\": {}}}", "snp.minimum_tcb: names no component"},
            /* an empty allow-list would allow anything */
            {"{\"tpm\": {\"pcrs\": {}}}", "tpm.pcrs: names no bank"},
            {"{\"tpm\": {\"pcrs\": {\"sha256\": {}}}}", "tpm.pcrs.sha256: names no PCR"},
            {"{\"tpm\": {\"ak_spki_sha256\": []}}",
             "tpm.ak_spki_sha256: expected 1..256 values, got 0"},
            {"{\"tpm\": {\"ak_spki_sha256\": [\"" R32("ab") "\", \"" R32("AB") "\"]}}",
             "tpm.ak_spki_sha256[1]: the same key as [0] (a value given twice)"},
            {"{\"tpm\": {\"ak_spki_sha256\": \"" R48("ab") "\"}}",
             "tpm.ak_spki_sha256: expected 64 hex digits (32 bytes), got 96 characters"},
            {"{\"tpm\": {\"ak_spki_sha256\": [\""
             "0x" R16("ab") R8("ab") R4("ab") R2("ab") "ab"
                                                       "\"]}}",
             "tpm.ak_spki_sha256[0]: not hex"},
            {"{\"tpm\": {\"ak_spki_sha256\": {}}}",
             "tpm.ak_spki_sha256: expected a hex string or a list of them, got an object"},
            /* a component the product does not have would bind no report */
            {"{\"snp\": {\"minimum_tcb\": {\"by_product\": {\"Milan\": {\"fmc\": 1}}}}}",
             "snp.minimum_tcb.by_product.Milan.fmc: Milan has no FMC"},
            {"{\"snp\": {\"minimum_launch_tcb\": {\"by_product\": {\"Genoa\": {\"snp\": 1, "
             "\"fmc\": 1}}}}}",
             "snp.minimum_launch_tcb.by_product.Genoa.fmc: Genoa has no FMC"},
            {"{\"snp\": {\"products\": [\"Milan\"], \"minimum_tcb\": {\"fmc\": 1}}}",
             "snp.minimum_tcb.fmc: snp.products names no Turin, and only Turin's TCB has an FMC "
             "(it would bind no report)"},
            {"{\"snp\": {\"minimum_launch_tcb\": {\"snp\": 1, \"fmc\": 1}, \"products\": "
             "[\"Genoa\", \"Milan\"]}}",
             "snp.minimum_launch_tcb.fmc: snp.products names no Turin"},
            {"{\"snp\": {\"minimum_tcb\": {\"by_product\": {\"Naples\": {\"snp\": 1}}}}}",
             "snp.minimum_tcb.by_product.Naples: unknown field"},
            {"{\"snp\": {\"minimum_launch_tcb\": {\"by_product\": {\"Turin\": {}}}}}",
             "snp.minimum_launch_tcb.by_product.Turin: names no component"},
            {"{\"snp\": {\"guest_policy\": {\"allow_debug\": false}}}",
             "snp.guest_policy.allow_debug: unknown field"},
            {"{\"snp\": {\"guest_policy\": {\"minimum_abi\": \"1.256\"}}}",
             "snp.guest_policy.minimum_abi: expected \"major.minor\""},
            {"{\"snp\": {\"platform_info\": {\"minimum_abi\": \"1.0\"}}}",
             "snp.platform_info.minimum_abi: unknown field"},
            {"{\"snp\": {\"platform_info\": {\"allow_smt_en\": 1}}}",
             "snp.platform_info.allow_smt_en: expected true or false, got an integer"},
            /* an empty object would load as a rule that checks nothing */
            {"{\"snp\": {\"guest_policy\": {}}}",
             "snp.guest_policy: names no key (allow_smt, allow_migrate_ma, "},
            {"{\"snp\": {\"platform_info\": {}}}",
             "snp.platform_info: names no key (allow_smt_en, "},
            {"{\"snp\": {\"products\": [\"Naples\"]}}", "snp.products[0]: \"Naples\" is not"},
            {"{\"snp\": {\"minimum_firmware_version\": \"1\"}}", "snp.minimum_firmware_version"},
            {"{\"snp\": {\"minimum_guest_svn\": -1}}", "snp.minimum_guest_svn: -1 is out of range"},
            {"{\"tdx\": {\"rtmr4\": \"00\"}}", "tdx.rtmr4: unknown field"},
            {"{\"tdx\": {\"mr_td\": 5}}", "tdx.mr_td: expected a hex string or a list of them"},
            {"{\"tdx\": {\"rtmr1\": [\"" R48("0g") "\"]}}", "tdx.rtmr1[0]: not hex"},
            {"{\"tdx\": {\"minimum_tee_tcb_svn\": \"0601\"}}",
             "tdx.minimum_tee_tcb_svn: expected 32 hex digits (16 bytes)"},
            {"{\"tdx\": {\"td_attributes\": 268435456}}",
             "tdx.td_attributes: expected a hex string of 8 bytes, got an integer"},
            {"{\"tdx\": {\"accepted_tcb_statuses\": \"UpToDate\"}}",
             "tdx.accepted_tcb_statuses: expected a non-empty list of Intel TCB status names, got "
             "a string"},
            /* a list that cannot be used says why, not the type it has */
            {"{\"tdx\": {\"accepted_tcb_statuses\": []}}",
             "tdx.accepted_tcb_statuses: expected a non-empty list of Intel TCB status names, got "
             "an empty list"},
            {"{\"tdx\": {\"accepted_tcb_statuses\": [\"UpToDate\", \"UpToDate\", \"UpToDate\", "
             "\"UpToDate\", \"UpToDate\", \"UpToDate\", \"UpToDate\", \"UpToDate\", \"UpToDate\", "
             "\"UpToDate\", \"UpToDate\", \"UpToDate\", \"UpToDate\", \"UpToDate\", \"UpToDate\", "
             "\"UpToDate\", \"UpToDate\"]}}",
             "got a list of 17 (at most 16)"},
            {"{\"allowed_tees\": []}", "allowed_tees: expected a non-empty list of \"sev-snp\", "
                                       "\"tdx\", \"tpm\", \"azure-snp\", \"azure-tdx\", "
                                       "\"svsm-vtpm\", got an empty list"},
            {"{\"snp\": {\"products\": []}}", "snp.products: expected a non-empty list of "
                                              "\"Milan\", \"Genoa\", \"Turin\", got an empty list"},
            {"{\"tdx\": {\"accepted_tcb_statuses\": [\"Revoked\"]}}",
             "tdx.accepted_tcb_statuses[0]: \"Revoked\" cannot be accepted"},
            {"{\"tdx\": {\"accepted_tcb_statuses\": [\"UpToDate\", \"uptodate\"]}}",
             "tdx.accepted_tcb_statuses[1]: \"uptodate\" is not an Intel TCB status"},
            {"{\"tdx\": {\"collateral_grace_period\": \"7 days\"}}",
             "tdx.collateral_grace_period: expected seconds or a duration"},
            {"{\"tdx\": {\"collateral_grace_period\": -1}}",
             "tdx.collateral_grace_period: -1 seconds is out of range"},
            {"{\"tdx\": {\"collateral_grace_period\": 1.5}}",
             "tdx.collateral_grace_period: expected seconds or a duration string, got a real"},
            /* a section allowed_tees gives no kind to would never be enforced */
            {"{\"allowed_tees\": [\"tdx\"], \"snp\": {\"vmpl\": 0}}",
             "snp: a section for a TEE that allowed_tees does not list"},
            {"{\"allowed_tees\": [\"sev-snp\"], \"tdx\": {\"allow_debug\": false}}",
             "tdx: a section for a TEE that allowed_tees does not list"},
            {"{\"allowed_tees\": [\"sev-snp\", \"tdx\"], \"tpm\": {\"ak_spki_sha256\": \"" R32(
                     "ab") "\"}}",
             "tpm: a section for a TEE that allowed_tees does not list"},
            {"{\"allowed_tees\": [\"tpm\"], \"azure\": {\"secure_boot\": true}}",
             "azure: a section for a TEE that allowed_tees does not list"},
            /* firmware logs separators in PCRs 0..7 and RTMRs 0..1 only */
            {"{\"eventlog\": {\"required_events\": [{\"pcr\": 8, \"digest\": \"" R32(
                     "ab") "\", \"before_separator\": true}]}}",
             "\"before_separator\" applies to PCRs 0..7 and RTMRs 0..1 only"},
            {"{\"eventlog\": {\"required_events\": [{\"rtmr\": 2, \"digest\": \"" R32(
                     "ab") "\", \"before_separator\": true}]}}",
             "not RTMR 2"},
            {"{\"eventlog\": {\"efi_boot_applications\": [\"deadbeef\"]}}",
             "efi_boot_applications[0]: expected the hex of a SHA-1, SHA-256"},
            {"{\"report_data\": \"abc\"}", "report_data: expected 2..128 hex digits"},
            {"{\"report_data\": \"" R64("00") "00\"}", "report_data: expected 2..128 hex digits"},
            {"{\"required_providers\": \"acme\"}", "required_providers: expected a list"},
            {"{\"required_providers\": []}", "required_providers: expected a list"},
            {"{\"required_providers\": [\"\"]}", "required_providers[0]: expected a string of 1.."},
            /* a name no registry can have would name nobody: refused where the list holds it */
            {"{\"required_providers\": [\"acme\", \"a\\u001b[31m\"]}",
             "required_providers[1]: \"a\\x1b[31m\" is not a provider name"},
            {"{\"required_providers\": [\"-acme\"]}", "required_providers[0]: \"-acme\" is not"},
            {"{\"required_providers\": [\"" R32("ab") "a\"]}",
             "required_providers[0]: \"" R32("ab") "a\" is not a provider name"},
            {"{\"registry_log_required\": [\"bad name\"]}",
             "registry_log_required[0]: \"bad name\" is not a provider name (1..64 characters of "
             "[A-Za-z0-9._-] starting with a letter or digit, as a registry names its provider): "
             "no provider's log would be required by it"},
            {"{\"registry_log_required\": [\"cloud\", \"cl\xc3\xb6ud\"]}",
             "registry_log_required[1]: \"cl\xc3\xb6ud\" is not a provider name"},
            {"{\"registry_log_required\": [\"\"]}", "registry_log_required[0]: expected a string"},
            {"{\"allowed_tees\": [\"sgx\"]}", "allowed_tees[0]: \"sgx\" is not"},
            {"{\"allowed_tees\": [\"tdx\"], \"snp\": {}}", "snp: a section for a TEE that "
                                                           "allowed_tees does not list"},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(bad); i++) {
        load_refused(bad[i].json, bad[i].want);
    }
    /* Over the size limit. */
    size_t big = CVMA_POLICY_MAX_BYTES + 1;
    uint8_t *buf = calloc(1, big);
    assert_non_null(buf);
    struct cvma_policy *p = (struct cvma_policy *)1;
    char err[256];
    assert_int_equal(cvma_policy_load_bytes(buf, big, &p, err, sizeof err), CVMA_E_USAGE);
    assert_null(p);
    assert_non_null(strstr(err, "more than the"));
    free(buf);
}

/* A top-level fmc binds Turin reports only: refused when snp.products names no Turin (the
 * refusals: test_load_refuses_bad_policies_naming_the_field), loaded when products is absent or
 * names Turin, and then enforced on a Turin report. */
static void test_top_level_fmc_loads_only_where_it_binds_a_report(void **state)
{
    (void)state;
    static const char *const ok[] = {
            "{\"snp\": {\"minimum_tcb\": {\"fmc\": 2}}}",
            "{\"snp\": {\"products\": [\"Milan\", \"Turin\"], \"minimum_tcb\": {\"fmc\": 2}}}",
            "{\"snp\": {\"products\": [\"Turin\"], \"minimum_launch_tcb\": {\"fmc\": 2}}}",
            /* (one string: parenthesized, not two elements missing a comma) */
            ("{\"snp\": {\"products\": [\"Milan\"], \"minimum_tcb\": {\"snp\": 1}, "
             "\"minimum_launch_tcb\": {\"by_product\": {\"Milan\": {\"snp\": 1}}}}}"),
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(ok); i++) {
        cvma_policy_free(load_ok(ok[i]));
    }
    struct cvma_snp_report t;
    struct cvma_result res;
    good_snp(&t);
    t.product = CVMA_SNP_PRODUCT_TURIN;
    t.reported_tcb = 0x6100000005000201ull; /* fmc 1, bl 2, tee 0, snp 5, ucode 97 */
    struct cvma_policy *p =
            load_ok("{\"snp\": {\"products\": [\"Milan\", \"Turin\"], \"minimum_tcb\": {\"fmc\": "
                    "2}}}");
    snp_result(&t, t.product, &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_TCB_BELOW_MINIMUM, "fmc 1 < 2", NULL);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
}

/* Every name a registry can carry loads, up to the 64 characters a registry allows. */
static void test_provider_names_load_as_a_registry_has_them(void **state)
{
    (void)state;
    static const char longest_a[] = R32("ab"), longest_c[] = R32("cd");
    char json[512];
    snprintf(json, sizeof json,
             "{\"required_providers\": [\"a\", \"0.b_c-D\", \"%s\"],"
             " \"registry_log_required\": [\"Cloud-1\", \"%s\"]}",
             longest_a, longest_c);
    struct cvma_policy *p = load_ok(json);
    const char *const *names = NULL;
    assert_int_equal(cvma_policy_required_providers(p, &names), 3);
    assert_string_equal(names[2], longest_a);
    cvma_policy_free(p);
}

static void test_load_from_file_and_accessors(void **state)
{
    (void)state;
    const char *json = "{\"version\": 1, \"name\": \"prod\", \"description\": \"d\","
                       " \"report_data\": \"0102\", \"required_providers\": [\"acme\", \"b.c\"],"
                       " \"snp\": {}, \"tdx\": {\"collateral_grace_period\": \"1d12h\"}}";
    char *d = tu_tmpdir(), *f = tu_path(d, "p.json"), *missing = tu_path(d, "nope.json");
    tu_write(f, (const uint8_t *)json, strlen(json));
    struct cvma_policy *p = NULL;
    char err[640];
    assert_int_equal(cvma_policy_load(f, &p, err, sizeof err), CVMA_OK);

    /* The id is the SHA-256 of the exact bytes. */
    uint8_t dg[32];
    unsigned dl = 0;
    char want[7 + 65];
    assert_int_equal(EVP_Digest(json, strlen(json), dg, &dl, EVP_sha256(), NULL), 1);
    memcpy(want, "sha256:", 7);
    cvma_hex_encode(dg, 32, want + 7, sizeof want - 7);
    assert_string_equal(cvma_policy_id(p), want);
    assert_string_equal(cvma_policy_name(p), "prod");
    const char *const *names = NULL;
    assert_int_equal(cvma_policy_required_providers(p, &names), 2);
    assert_string_equal(names[0], "acme");
    assert_string_equal(names[1], "b.c");
    uint8_t rd[64], rdw[64] = {1, 2};
    assert_true(cvma_policy_report_data(p, rd));
    assert_memory_equal(rd, rdw, 64);
    assert_int_equal(cvma_policy_collateral_grace(p), 36 * 3600);
    cvma_policy_free(p);

    /* Nothing set. */
    p = load_ok("{}");
    assert_null(cvma_policy_name(p));
    assert_int_equal(cvma_policy_required_providers(p, &names), 0);
    assert_null(names);
    assert_false(cvma_policy_report_data(p, rd));
    assert_int_equal(cvma_policy_collateral_grace(p), -1);
    assert_non_null(strstr(cvma_policy_id(p), "sha256:"));
    cvma_policy_free(p);
    cvma_policy_free(NULL);

    assert_int_equal(cvma_policy_load(missing, &p, err, sizeof err), CVMA_E_IO);
    assert_null(p);
    /* The file quoted, and why it could not be read (docs/cli.md) */
    assert_non_null(strstr(err, "cannot read '"));
    assert_non_null(strstr(err, "nope.json': No such file or directory"));
    /* A file refused names the file (quoted) and the field. */
    const char *bad = "{\"snp\": {\"vmpl\": 9}}";
    tu_write(f, (const uint8_t *)bad, strlen(bad));
    assert_int_equal(cvma_policy_load(f, &p, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "p.json': snp.vmpl: 9 is out of range"));
    tu_rmtree(d);
    free(d);
    free(f);
    free(missing);
}

static void test_collateral_grace_parsing(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t want; /* -1: refused */
    } cases[] = {
            {"0", 0},
            {"86400", 86400},
            {"45s", 45},
            {"30m", 1800},
            {"12h", 43200},
            {"7d", 604800},
            {"1w", 604800},
            {"1d12h", 129600},
            {"1w2d3h4m5s", 788645},
            {"366d", 366ll * 86400},
            {"", -1},
            {"d", -1},
            {"1d12", -1},
            {"7x", -1},
            {"-1", -1},
            {"367d", -1},
            {"1.5d", -1},
            {" 7d", -1},
            {"7D", -1},
            {"9999999999999s", -1},
            {"53w", -1},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        int64_t got = 123;
        bool ok = cvma_policy_parse_duration(cases[i].s, &got);
        if (ok != (cases[i].want >= 0) || (ok && got != cases[i].want)) {
            fail_msg("\"%s\": ok=%d got %lld, want %lld", cases[i].s, ok, (long long)got,
                     (long long)cases[i].want);
        }
        if (cases[i].s[0] == '\0') {
            continue;
        }
        char json[128];
        snprintf(json, sizeof json, "{\"tdx\": {\"collateral_grace_period\": \"%s\"}}", cases[i].s);
        if (cases[i].want >= 0) {
            struct cvma_policy *p = load_ok(json);
            assert_int_equal(cvma_policy_collateral_grace(p), cases[i].want);
            cvma_policy_free(p);
        } else {
            load_refused(json, "tdx.collateral_grace_period");
        }
    }
    struct cvma_policy *p = load_ok("{\"tdx\": {\"collateral_grace_period\": 3600}}");
    assert_int_equal(cvma_policy_collateral_grace(p), 3600);
    cvma_policy_free(p);
    load_refused("{\"tdx\": {\"collateral_grace_period\": 31622401}}", "out of range");
}

/* ---- Cocos importer ------------------------------------------------------------------------ */

static char *b64(const uint8_t *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

static char *b64_fill(uint8_t byte, size_t n)
{
    uint8_t buf[64];
    assert_true(n <= sizeof buf);
    memset(buf, byte, n);
    return b64(buf, n);
}

/* Imports; fails the test unless the result loads as a policy. */
static json_t *import_ok(const char *text, json_t **dropped)
{
    json_t *out = NULL;
    char err[640];
    enum cvma_status st = cvma_policy_import_cocos((const uint8_t *)text, strlen(text), &out,
                                                   dropped, err, sizeof err);
    if (st != CVMA_OK) {
        fail_msg("import refused: %s", err);
    }
    char *s = json_dumps(out, JSON_COMPACT);
    assert_non_null(s);
    struct cvma_policy *p = load_ok(s);
    cvma_policy_free(p);
    free(s);
    return out;
}

static void import_refused(const char *text, const char *want)
{
    json_t *out = (json_t *)1, *dropped = (json_t *)1;
    char err[640];
    enum cvma_status st = cvma_policy_import_cocos((const uint8_t *)text, strlen(text), &out,
                                                   &dropped, err, sizeof err);
    if (st != CVMA_E_USAGE) {
        fail_msg("import of %s: status %d, expected a refusal", text, (int)st);
    }
    assert_null(out);
    assert_null(dropped);
    if (strstr(err, want) == NULL) {
        fail_msg("import refusal \"%s\" lacks \"%s\"", err, want);
    }
}

/* dropped holds exactly the entries starting with each of want (in any order). */
static void expect_dropped(json_t *dropped, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < json_array_size(dropped); k++) {
            const char *s = json_string_value(json_array_get(dropped, k));
            found = found || strncmp(s, want[i], strlen(want[i])) == 0;
        }
        if (!found) {
            char *all = json_dumps(dropped, JSON_INDENT(1));
            fail_msg("dropped list lacks \"%s\": %s", want[i], all);
        }
    }
    if (json_array_size(dropped) != n) {
        char *all = json_dumps(dropped, JSON_INDENT(1));
        fail_msg("dropped list has %zu entries, expected %zu: %s", json_array_size(dropped), n,
                 all);
    }
}

static const char *sget(json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *save = buf, *tok; cur != NULL && (tok = save) != NULL;) {
        char *dot = strchr(tok, '.');
        if (dot != NULL) {
            *dot = '\0';
            save = dot + 1;
        } else {
            save = NULL;
        }
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)(tok[0] - '0'))
                                 : json_object_get(cur, tok);
    }
    if (json_is_string(cur)) {
        return json_string_value(cur);
    }
    return NULL;
}

static json_int_t iget(json_t *o, const char *a, const char *b, const char *c)
{
    json_t *j = json_object_get(json_object_get(o, a), b);
    if (c != NULL) {
        j = json_object_get(j, c);
    }
    assert_true(json_is_integer(j));
    return json_integer_value(j);
}

/* Cocos's own SEV-SNP policy shape (scripts/attestation_policy), in snake_case. */
static void test_cocos_snp_snake_case(void **state)
{
    (void)state;
    char *meas = b64_fill(0x33, 48), *chip = b64_fill(0x99, 64), *zero16 = b64_fill(0, 16);
    char *zero32 = b64_fill(0, 32), *ff32 = b64_fill(0xff, 32), *rid = b64_fill(0x77, 32);
    char *hash = b64_fill(0x55, 48);
    char text[4096];
    snprintf(text, sizeof text,
             "{\"pcr_values\": {\"sha256\": {\"0\": \"00\", \"9\": \"00\"}, \"sha384\": {\"0\": "
             "\"00\"}},\n"
             " \"policy\": {\"chip_id\": \"%s\", \"family_id\": \"%s\", \"host_data\": \"%s\","
             " \"image_id\": \"%s\", \"measurement\": \"%s\", \"minimum_build\": 8,"
             " \"minimum_launch_tcb\": 15352208179752599555, \"minimum_tcb\": "
             "15352208179752599555,"
             " \"minimum_version\": \"1.55\", \"permit_provisional_firmware\": true,"
             " \"policy\": 196608, \"product\": {\"name\": 1}, \"report_id_ma\": \"%s\","
             " \"report_id\": \"%s\", \"require_author_key\": false, \"require_id_block\": false,"
             " \"trusted_id_key_hashes\": [\"%s\"], \"vmpl\": 2, \"frobnicate\": 1},\n"
             " \"root_of_trust\": {\"check_crl\": true, \"disallow_network\": false,"
             " \"product\": \"Milan\", \"product_line\": \"Milan\", \"cabundles\": [\"pem\"]}}",
             chip, zero16, zero32, zero16, meas, ff32, rid, hash);
    json_t *dropped = NULL;
    json_t *o = import_ok(text, &dropped);

    assert_string_equal(sget(o, "allowed_tees.0"), "sev-snp");
    assert_string_equal(sget(o, "snp.measurements.0"), R48("33"));
    assert_string_equal(sget(o, "snp.chip_ids.0"), R64("99"));
    assert_string_equal(sget(o, "snp.family_id"), R16("00"));
    assert_string_equal(sget(o, "snp.image_id"), R16("00"));
    assert_string_equal(sget(o, "snp.host_data"), R32("00"));
    assert_string_equal(sget(o, "snp.report_id_ma"), R32("ff"));
    assert_string_equal(sget(o, "snp.products.0"), "Milan");
    assert_string_equal(sget(o, "snp.minimum_firmware_version"), "1.55");
    assert_int_equal(iget(o, "snp", "minimum_firmware_build", NULL), 8);
    assert_int_equal(iget(o, "snp", "vmpl", NULL), 2);
    /* 0xd50e000000000003 in the Milan layout. */
    assert_int_equal(iget(o, "snp", "minimum_tcb", "bootloader"), 3);
    assert_int_equal(iget(o, "snp", "minimum_tcb", "tee"), 0);
    assert_int_equal(iget(o, "snp", "minimum_tcb", "snp"), 14);
    assert_int_equal(iget(o, "snp", "minimum_tcb", "microcode"), 213);
    assert_int_equal(iget(o, "snp", "minimum_launch_tcb", "snp"), 14);
    /* policy 0x30000: SMT allowed (max), no MA, no debug, no ABI minimum. */
    json_t *snp = json_object_get(o, "snp");
    assert_true(json_is_false(json_object_get(snp, "allow_debug")));
    json_t *gp = json_object_get(snp, "guest_policy");
    assert_true(json_is_true(json_object_get(gp, "allow_smt")));
    assert_true(json_is_false(json_object_get(gp, "allow_migrate_ma")));
    assert_null(json_object_get(gp, "minimum_abi"));
    assert_null(json_object_get(snp, "require_committed_equals_current"));
    assert_null(json_object_get(snp, "id_key_digests"));

    static const char *const want[] = {
            "pcr_values.sha256 (PCRs 0,9)",
            "pcr_values.sha384 (PCRs 0)",
            "policy.report_id:",
            "policy.trusted_id_key_hashes:",
            "policy.frobnicate:",
            "root_of_trust.cabundles:",
            "root_of_trust.check_crl:",
    };
    expect_dropped(dropped, want, CVMA_ARRAY_LEN(want));

    /* The imported policy accepts the guest it describes (chip 99.., measurement 33..). */
    struct cvma_snp_report r;
    struct cvma_result res;
    good_snp(&r);
    memset(r.family_id, 0, 16);
    memset(r.image_id, 0, 16);
    memset(r.host_data, 0, 32);
    memset(r.report_id_ma, 0xff, 32);
    r.vmpl = 2;
    r.policy = 0x30000;
    char *s = json_dumps(o, JSON_COMPACT);
    struct cvma_policy *p = load_ok(s);
    snp_result(&r, r.product, &res);
    cvma_policy_appraise(p, &res);
    if (count_policy(&res.verdict) != 0) {
        tu_dump(&res.verdict);
        fail_msg("imported policy refuses its guest");
    }
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    free(s);
    json_decref(o);
    json_decref(dropped);
    free(meas);
    free(chip);
    free(zero16);
    free(zero32);
    free(ff32);
    free(rid);
    free(hash);
}

/* The same in lowerCamelCase, uint64 as strings, Turin, proto3 defaults. */
static void test_cocos_snp_camel_case(void **state)
{
    (void)state;
    uint8_t chip8[8] = {9, 16, 180, 248, 132, 255, 75, 169};
    char *meas = b64_fill(0x33, 48), *chip = b64(chip8, 8), *author = b64_fill(0x66, 48);
    char text[2048];
    /* URL-safe base64 without padding is accepted as protobuf JSON allows. */
    for (char *c = meas; *c; c++) {
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    }
    snprintf(text, sizeof text,
             "{\"policy\": {\"measurement\": \"%s\", \"chipId\": \"%s\","
             " \"minimumTcbTurin\": \"6989586621762896385\", \"policy\": \"720896\","
             " \"requireAuthorKey\": true, \"trustedAuthorKeyHashes\": [\"%s\"],"
             " \"minimumGuestSvn\": 3, \"platformInfo\": \"37\", \"reportData\": null},"
             " \"rootOfTrust\": {\"productLine\": \"Turin\", \"disallowNetwork\": true}}",
             meas, chip, author);
    json_t *dropped = NULL;
    json_t *o = import_ok(text, &dropped);
    assert_string_equal(sget(o, "snp.measurements.0"), R48("33"));
    assert_string_equal(sget(o, "snp.chip_ids.0"),
                        "0910b4f884ff4ba9" R16("00") R16("00") R16("00") "0000000000000000");
    assert_string_equal(sget(o, "snp.products.0"), "Turin");
    /* 0x6100000005000201: fmc 1, bootloader 2, tee 0, snp 5, microcode 97. */
    assert_int_equal(iget(o, "snp", "minimum_tcb", "fmc"), 1);
    assert_int_equal(iget(o, "snp", "minimum_tcb", "bootloader"), 2);
    assert_int_equal(iget(o, "snp", "minimum_tcb", "snp"), 5);
    assert_int_equal(iget(o, "snp", "minimum_tcb", "microcode"), 97);
    assert_int_equal(iget(o, "snp", "minimum_guest_svn", NULL), 3);
    assert_string_equal(sget(o, "snp.author_key_digests.0"), R48("66"));
    json_t *snp = json_object_get(o, "snp");
    assert_true(json_is_true(json_object_get(snp, "require_author_key")));
    /* permit_provisional_firmware absent = false: go-sev-guest requires equality. */
    assert_true(json_is_true(json_object_get(snp, "require_committed_equals_current")));
    /* policy 0xb0000: SMT, reserved, DEBUG. */
    assert_true(json_is_true(json_object_get(snp, "allow_debug")));
    /* platform_info 37 = 0x25: SMT_EN allowed, ECC_EN and ALIAS_CHECK_COMPLETE required. */
    json_t *pi = json_object_get(snp, "platform_info");
    assert_true(json_is_true(json_object_get(pi, "allow_smt_en")));
    assert_true(json_is_true(json_object_get(pi, "require_ecc_en")));
    assert_true(json_is_true(json_object_get(pi, "require_alias_check_complete")));
    assert_null(json_object_get(pi, "require_rapl_dis"));
    /* go-sev-guest refuses unknown bits in a report's POLICY always, in its PLATFORM_INFO
     * when platform_info is configured. */
    assert_true(json_is_true(json_object_get(pi, "reject_unknown_bits")));
    assert_true(json_is_true(
            json_object_get(json_object_get(snp, "guest_policy"), "reject_unknown_bits")));
    static const char *const want[] = {"rootOfTrust.disallowNetwork:"};
    expect_dropped(dropped, want, CVMA_ARRAY_LEN(want));
    json_decref(o);
    json_decref(dropped);

    /* A generic minimum_tcb without a product: Milan and Genoa only, and it says so. */
    o = import_ok("{\"policy\": {\"minimumTcb\": \"15352208179752599555\", \"policy\": 131072}}",
                  &dropped);
    json_t *bp = json_object_get(json_object_get(json_object_get(o, "snp"), "minimum_tcb"),
                                 "by_product");
    assert_non_null(json_object_get(bp, "Milan"));
    assert_non_null(json_object_get(bp, "Genoa"));
    assert_null(json_object_get(bp, "Turin"));
    static const char *const want2[] = {"policy.minimumTcb: carried for Milan and Genoa only"};
    expect_dropped(dropped, want2, CVMA_ARRAY_LEN(want2));
    json_decref(o);
    json_decref(dropped);
    free(meas);
    free(chip);
    free(author);
}

/* The dropped entry whose text starts with prefix; fails the test unless it also holds want. */
static void expect_drop_says(json_t *dropped, const char *prefix, const char *want)
{
    for (size_t k = 0; k < json_array_size(dropped); k++) {
        const char *s = json_string_value(json_array_get(dropped, k));
        if (strncmp(s, prefix, strlen(prefix)) == 0) {
            if (strstr(s, want) == NULL) {
                fail_msg("\"%s\" lacks \"%s\"", s, want);
            }
            return;
        }
    }
    char *all = json_dumps(dropped, JSON_INDENT(1));
    fail_msg("dropped list lacks \"%s\": %s", prefix, all);
}

/*
 * A per-product TCB minimum the policy's product leaves out is named as the file wrote it,
 * with the field to set instead; one that is moot beside the product's own is named too.
 */
static void test_cocos_snp_tcb_for_another_product_is_named_as_written(void **state)
{
    (void)state;
    json_t *dropped = NULL;
    /* Only the Turin-layout launch minimum, for a Genoa policy. */
    json_t *o = import_ok("{\"policy\": {\"policy\": 196608, \"minimum_launch_tcb_turin\": "
                          "\"7133701809754865665\", \"product\": {\"name\": "
                          "\"SEV_PRODUCT_GENOA\"}}}",
                          &dropped);
    assert_null(json_object_get(json_object_get(o, "snp"), "minimum_launch_tcb"));
    static const char *const want1[] = {
            "policy.minimum_launch_tcb_turin: not carried: the policy names product Genoa"};
    expect_dropped(dropped, want1, CVMA_ARRAY_LEN(want1));
    expect_drop_says(dropped, want1[0], "(set minimum_launch_tcb)");
    json_decref(o);
    json_decref(dropped);

    /* lowerCamelCase: named and advised in that spelling. */
    o = import_ok("{\"policy\": {\"policy\": 196608, \"minimumTcb\": \"15352208179752599555\"},"
                  " \"rootOfTrust\": {\"productLine\": \"Turin\"}}",
                  &dropped);
    assert_null(json_object_get(json_object_get(o, "snp"), "minimum_tcb"));
    static const char *const want2[] = {
            "policy.minimumTcb: not carried: the policy names product Turin"};
    expect_dropped(dropped, want2, CVMA_ARRAY_LEN(want2));
    expect_drop_says(dropped, want2[0], "(set minimumTcbTurin)");
    json_decref(o);
    json_decref(dropped);

    /* No product: each Milan/Genoa-layout minimum without its Turin one, by its own name. */
    o = import_ok("{\"policy\": {\"policy\": 196608, \"minimum_launch_tcb\": 1,"
                  " \"minimum_tcb\": 2, \"minimumLaunchTcbTurin\": \"3\"}}",
                  &dropped);
    static const char *const want4[] = {"policy.minimum_tcb: carried for Milan and Genoa only"};
    expect_dropped(dropped, want4, CVMA_ARRAY_LEN(want4));
    expect_drop_says(dropped, want4[0], "(set minimum_tcb_turin)");
    json_decref(o);
    json_decref(dropped);
    o = import_ok("{\"policy\": {\"policy\": 196608, \"minimumLaunchTcb\": 1}}", &dropped);
    static const char *const want5[] = {
            "policy.minimumLaunchTcb: carried for Milan and Genoa only"};
    expect_dropped(dropped, want5, CVMA_ARRAY_LEN(want5));
    expect_drop_says(dropped, want5[0], "(set minimumLaunchTcbTurin)");
    json_decref(o);
    json_decref(dropped);
}

/* A per-product TCB minimum beside the product's own is moot (snp.products refuses the others)
 * and named as not carried, as every setting that is not. */
static void test_cocos_snp_tcb_moot_for_the_product_is_named(void **state)
{
    (void)state;
    json_t *dropped = NULL;
    json_t *o = import_ok(
            "{\"policy\": {\"policy\": 196608, \"minimum_tcb\": 15352208179752599555,"
            " \"minimum_tcb_turin\": \"7133701809754865665\", \"product\": {\"name\": 1}}}",
            &dropped);
    assert_int_equal(iget(o, "snp", "minimum_tcb", "bootloader"), 3);
    assert_int_equal(iget(o, "snp", "minimum_tcb", "microcode"), 213);
    static const char *const want[] = {
            "policy.minimum_tcb_turin: not carried: the policy names product Milan"};
    expect_dropped(dropped, want, CVMA_ARRAY_LEN(want));
    json_decref(o);
    json_decref(dropped);

    o = import_ok("{\"policy\": {\"policy\": 196608, \"minimumLaunchTcb\": \"1\","
                  " \"minimumLaunchTcbTurin\": \"7133701809754865665\"},"
                  " \"rootOfTrust\": {\"productLine\": \"Turin\"}}",
                  &dropped);
    assert_int_equal(iget(o, "snp", "minimum_launch_tcb", "fmc"), 1);
    static const char *const want2[] = {
            "policy.minimumLaunchTcb: not carried: the policy names product Turin"};
    expect_dropped(dropped, want2, CVMA_ARRAY_LEN(want2));
    json_decref(o);
    json_decref(dropped);
}

/* Cocos's TDX policy (go-tdx-guest, lowerCamelCase). */
static void test_cocos_tdx_camel_case(void **state)
{
    (void)state;
    const char *text =
            "{\"policy\": {\"headerPolicy\": {\"qeVendorId\": \"k5pyM/ecTKmUCg2zlX8GBw==\"},"
            " \"tdQuoteBodyPolicy\": {\"minimumTeeTcbSvn\": \"BgEDAAAAAAAAAAAAAAAAAA==\","
            " \"mrSeam\": \"WzjjOmSHlYtyw8Eqk46qXj/UUQxRruq1jH1ezuQdfENkidbI5PkvFgt8rTQgewDB\","
            " \"tdAttributes\": \"AAAAEAAAAAA=\", \"xfam\": \"5wIGAAAAAAA=\","
            " \"mrTd\": \"kesrRNFB1Ozgnwx1wsU9JHo8aO3X+v6KNSDJQqYEpAfeA65txfh/J0KLJTiHMRi3\","
            " \"rtmrs\": [\"TP/tWJG9nf1AuPrfS7mKBpBw05ffiZHYnbu01Tjr8cKeG+lNDwuxder+DJxTSSqW\","
            " \"\", \"fYilkkTRM83nhg1ZUY4WsULRfwyN3v2rcv5+wbSl9Rro1zqhcPMCeCCcL/CCAUqx\","
            " \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]}},"
            " \"rootOfTrust\": {\"checkCrl\": true, \"getCollateral\": true}}";
    json_t *dropped = NULL;
    json_t *o = import_ok(text, &dropped);
    assert_string_equal(sget(o, "allowed_tees.0"), "tdx");
    assert_string_equal(sget(o, "tdx.minimum_tee_tcb_svn"), "06010300000000000000000000000000");
    assert_string_equal(sget(o, "tdx.mr_seam"),
                        "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4"
                        "f92f160b7cad34207b00c1");
    assert_string_equal(sget(o, "tdx.td_attributes"), "0000000010000000");
    assert_string_equal(sget(o, "tdx.xfam"), "00000000000602e7");
    assert_string_equal(sget(o, "tdx.mr_td.0"),
                        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6d"
                        "c5f87f27428b2538873118b7");
    assert_non_null(sget(o, "tdx.rtmr0"));
    assert_null(sget(o, "tdx.rtmr1")); /* an empty entry is unchecked */
    assert_non_null(sget(o, "tdx.rtmr2"));
    assert_string_equal(sget(o, "tdx.rtmr3"), R48("00"));
    static const char *const want[] = {
            "rootOfTrust.checkCrl:",
            "rootOfTrust.getCollateral:",
    };
    expect_dropped(dropped, want, CVMA_ARRAY_LEN(want));
    json_decref(o);
    json_decref(dropped);
}

/* go-tdx-guest's checkconfig in snake_case. */
static void test_cocos_tdx_snake_case(void **state)
{
    (void)state;
    char *a = b64_fill(0xd1, 48), *b = b64_fill(0xd2, 48), *cfg = b64_fill(0xc1, 48);
    char *rd = b64_fill(0xaa, 64), *intel = b64(intel_qe, sizeof intel_qe);
    char text[2048];
    snprintf(text, sizeof text,
             "{\"policy\": {\"header_policy\": {\"minimum_qe_svn\": 0, \"minimum_pce_svn\": 0,"
             " \"qe_vendor_id\": \"%s\"},"
             " \"td_quote_body_policy\": {\"any_mr_td\": [\"%s\", \"%s\"], \"mr_config_id\": "
             "\"%s\", \"report_data\": \"%s\", \"tdattributes_debug\": false}},"
             " \"root_of_trust\": {\"cabundle_paths\": [\"/etc/x.pem\"]}}",
             intel, a, b, cfg, rd);
    json_t *dropped = NULL;
    json_t *o = import_ok(text, &dropped);
    assert_string_equal(sget(o, "tdx.mr_td.0"), R48("d1"));
    assert_string_equal(sget(o, "tdx.mr_td.1"), R48("d2"));
    assert_string_equal(sget(o, "tdx.mr_config_id"), R48("c1"));
    assert_string_equal(sget(o, "report_data"), R64("aa"));
    assert_true(json_is_false(json_object_get(json_object_get(o, "tdx"), "allow_debug")));
    static const char *const want[] = {
            "root_of_trust.cabundle_paths:",
    };
    expect_dropped(dropped, want, CVMA_ARRAY_LEN(want));

    /* Imported policy appraises the TD it describes. */
    struct cvma_tdx_quote q;
    struct cvma_result res;
    good_tdx(&q);
    char *s = json_dumps(o, JSON_COMPACT);
    struct cvma_policy *p = load_ok(s);
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    assert_int_equal(count_policy(&res.verdict), 0);
    cvma_result_cleanup(&res);
    q.body.mr_td[0] = 0;
    tdx_result(&q, "UpToDate", &res);
    cvma_policy_appraise(p, &res);
    expect_reason(&res.verdict, CVMA_R_POLICY_MR_TD, "not one of the 2 allowed values", NULL);
    cvma_result_cleanup(&res);
    cvma_policy_free(p);
    free(s);
    json_decref(o);
    json_decref(dropped);
    free(a);
    free(b);
    free(cfg);
    free(rd);
    free(intel);
}

/*
 * go-tdx-guest (validate.go, exactByteMatch) compares qe_vendor_id with the quote header's, and
 * checks mr_td and any_mr_td each on its own: a vendor ID other than Intel's, or an mr_td the
 * list does not hold, refuses every quote, so the file is refused (it was imported as a policy
 * accepting Intel quotes, or the mr_td alone). An mr_td the list holds is the exact mr_td.
 */
static void test_cocos_tdx_settings_that_refuse_every_quote_are_refused(void **state)
{
    (void)state;
    char *a = b64_fill(0xd1, 48), *b = b64_fill(0xd2, 48), *c = b64_fill(0xd3, 48);
    char text[1024];
    import_refused(
            "{\"policy\": {\"headerPolicy\": {\"qeVendorId\": \"k5pyM/ecTKmUzHhytvFxIw==\"}}}",
            "policy.headerPolicy.qeVendorId: 939a7233f79c4ca994cc7872b6f17123 is not "
            "Intel's QE vendor ID");
    import_refused(
            "{\"policy\": {\"header_policy\": {\"qe_vendor_id\": \"AQEBAQEBAQEBAQEBAQEBAQ==\"}}}",
            "policy.header_policy.qe_vendor_id: 01010101010101010101010101010101 is not "
            "Intel's");
    snprintf(text, sizeof text,
             "{\"policy\": {\"tdQuoteBodyPolicy\": {\"mrTd\": \"%s\", \"anyMrTd\": [\"%s\", "
             "\"%s\"]}}}",
             a, b, c);
    import_refused(text, "policy.tdQuoteBodyPolicy.anyMrTd: does not hold the mr_td " R48("d1"));
    snprintf(text, sizeof text,
             "{\"policy\": {\"td_quote_body_policy\": {\"any_mr_td\": [\"%s\"], \"mr_td\": "
             "\"%s\"}}}",
             b, a);
    import_refused(text, "policy.td_quote_body_policy.any_mr_td: does not hold the mr_td");

    snprintf(text, sizeof text,
             "{\"policy\": {\"tdQuoteBodyPolicy\": {\"mrTd\": \"%s\", \"anyMrTd\": [\"%s\", "
             "\"%s\"]}}}",
             a, b, a);
    json_t *dropped = NULL;
    json_t *o = import_ok(text, &dropped);
    assert_string_equal(sget(o, "tdx.mr_td.0"), R48("d1"));
    assert_null(sget(o, "tdx.mr_td.1"));
    static const char *const want[] = {"policy.tdQuoteBodyPolicy.anyMrTd: narrowed to mr_td"};
    expect_dropped(dropped, want, CVMA_ARRAY_LEN(want));
    json_decref(o);
    json_decref(dropped);
    free(a);
    free(b);
    free(c);
}

/*
 * go-tdx-guest's PolicyToOptions refuses rtmrs with other than 4 entries ("option rtmrs size
 * is 1. Want 4"): Cocos verifies nothing with such a file, so it is refused (1 to 3 entries
 * were imported as the RTMRs given). None is no check; 4 with empty entries check the rest.
 */
static void test_cocos_tdx_rtmrs_other_than_four_are_refused(void **state)
{
    (void)state;
    char *r = b64_fill(0xd1, 48);
    char text[1024];
    snprintf(text, sizeof text, "{\"policy\": {\"tdQuoteBodyPolicy\": {\"rtmrs\": [\"%s\"]}}}", r);
    import_refused(text, "policy.tdQuoteBodyPolicy.rtmrs: 1 value(s): go-tdx-guest requires "
                         "exactly 4 (RTMR0 to RTMR3) and refuses any other number");
    snprintf(text, sizeof text,
             "{\"policy\": {\"td_quote_body_policy\": {\"rtmrs\": [\"%s\", \"\", \"%s\"]}}}", r, r);
    import_refused(text, "policy.td_quote_body_policy.rtmrs: 3 value(s)");
    snprintf(text, sizeof text,
             "{\"policy\": {\"tdQuoteBodyPolicy\": {\"rtmrs\": [\"\", \"\", \"\", \"\", \"%s\"]}}}",
             r);
    import_refused(text, "policy.tdQuoteBodyPolicy.rtmrs: 5 value(s)");

    json_t *dropped = NULL;
    json_t *o = import_ok("{\"policy\": {\"tdQuoteBodyPolicy\": {\"rtmrs\": []}}}", &dropped);
    assert_null(sget(o, "tdx.rtmr0"));
    json_decref(o);
    json_decref(dropped);
    snprintf(text, sizeof text,
             "{\"policy\": {\"tdQuoteBodyPolicy\": {\"rtmrs\": [\"\", \"\", \"%s\", \"\"]}}}", r);
    o = import_ok(text, &dropped);
    assert_null(sget(o, "tdx.rtmr0"));
    assert_string_equal(sget(o, "tdx.rtmr2"), R48("d1"));
    assert_int_equal(json_array_size(dropped), 0);
    json_decref(o);
    json_decref(dropped);
    free(r);
}

/*
 * go-sev-guest's PolicyToOptions parses platform_info with abi.ParseSnpPlatformInfo, which
 * refuses bits it does not recognise (63:8 in every release): Cocos verifies nothing with such
 * a file, so it is refused (it was imported, the bits named as not carried). Bits 7:0 import.
 */
static void test_cocos_snp_platform_info_unknown_bits_are_refused(void **state)
{
    (void)state;
    import_refused("{\"policy\": {\"policy\": \"196608\", \"platform_info\": \"256\"}}",
                   "policy.platform_info: 0x0000000000000100 sets bits 63:8 (0x0000000000000100), "
                   "which go-sev-guest does not recognise and refuses");
    import_refused("{\"policy\": {\"policy\": 196608, \"platformInfo\": 18446744073709551615}}",
                   "policy.platformInfo: 0xffffffffffffffff sets bits 63:8 (0xffffffffffffff00)");
    /* A malformed value is named first, as with the guest policy. */
    import_refused("{\"policy\": {\"policy\": 196608, \"platform_info\": 256, \"vmpl\": 7}}",
                   "policy.vmpl: 7 is out of range");

    json_t *dropped = NULL;
    json_t *o = import_ok("{\"policy\": {\"policy\": 196608, \"platform_info\": 255}}", &dropped);
    json_t *pi = json_object_get(json_object_get(o, "snp"), "platform_info");
    assert_true(json_is_true(json_object_get(pi, "allow_sev_tio_en")));
    assert_true(json_is_true(json_object_get(pi, "require_iommu_write_safe")));
    assert_int_equal(json_array_size(dropped), 0);
    json_decref(o);
    json_decref(dropped);
}

/*
 * Cocos reads a TDX policy with protojson.Unmarshal, without DiscardUnknown: a field that
 * go-tdx-guest's checkconfig does not define, at any level, or a spelling that is neither the
 * proto name nor its JSON name, makes Cocos load nothing, so the file is refused naming the
 * field (it was imported with the field "ignored"). An SEV-SNP policy's unknown fields are
 * ignored, as Cocos ignores them (DiscardUnknown), and named as not carried.
 */
static void test_cocos_tdx_unknown_fields_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
            {"{\"policy\": {\"tdQuoteBodyPolicy\": {\"eat_validation\": {}}}}",
             "policy.tdQuoteBodyPolicy.eat_validation: not a field of go-tdx-guest's "
             "TDQuoteBodyPolicy; Cocos reads a TDX policy with strict protobuf JSON"},
            {"{\"policy\": {\"headerPolicy\": {\"minimumQeSvn\": 0, \"qeSvn\": 1}}}",
             "policy.headerPolicy.qeSvn: not a field of go-tdx-guest's HeaderPolicy"},
            {"{\"policy\": {\"tdQuoteBodyPolicy\": {}, \"measurement\": \"AAAA\"}}",
             "policy.measurement: not a field of go-tdx-guest's checkconfig.Policy"},
            {"{\"policy\": {\"tdQuoteBodyPolicy\": {}}, \"rootOfTrust\": {\"checkCrl\": true, "
             "\"crlUrl\": \"x\"}}",
             "rootOfTrust.crlUrl: not a field of go-tdx-guest's RootOfTrust"},
            {"{\"policy\": {\"tdQuoteBodyPolicy\": {}}, \"comment\": \"x\"}",
             "comment: not a field of go-tdx-guest's checkconfig.Config"},
            {"{\"policy\": {\"tdQuoteBodyPolicy\": {}}, \"pcr_values\": {}}",
             "pcr_values: not a field of go-tdx-guest's checkconfig.Config (Cocos reads PCR "
             "values with its SEV-SNP policies only)"},
            {"{\"policy\": {\"tdQuoteBodyPolicy\": {}, \"pckPolicy\": {\"sgxTypes\": 1}}}",
             "policy.pckPolicy.sgxTypes: not a field of go-tdx-guest's PCKPolicy"},
            /* protobuf JSON knows "minimumQeSvn" and "minimum_qe_svn", no mix of the two. */
            {"{\"policy\": {\"headerPolicy\": {\"minimumQe_svn\": 0}}}",
             "policy.headerPolicy.minimumQe_svn: not a field of go-tdx-guest's HeaderPolicy"},
            {"{\"policy\": {\"tdQuoteBodyPolicy\": {\"mrTD\": \"\"}}}",
             "policy.tdQuoteBodyPolicy.mrTD: not a field"},
            /* Field 12 is tdattributes_debug in some go-tdx-guest releases, allow_debug in
             * others, never both. */
            {"{\"policy\": {\"tdQuoteBodyPolicy\": {\"allowDebug\": false, "
             "\"tdattributesDebug\": false}}}",
             "policy.tdQuoteBodyPolicy.tdattributesDebug and policy.tdQuoteBodyPolicy.allowDebug: "
             "go-tdx-guest releases define one or the other"},
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(cases); i++) {
        import_refused(cases[i].text, cases[i].want);
    }

    /* Names some go-tdx-guest release defines are read: allow_debug as ours, the PCK SGX type
     * named as not carried. */
    json_t *dropped = NULL;
    json_t *o = import_ok("{\"policy\": {\"tdQuoteBodyPolicy\": {\"allowDebug\": true}, "
                          "\"pckPolicy\": {\"sgxType\": \"Scalable\"}}}",
                          &dropped);
    assert_true(json_is_true(json_object_get(json_object_get(o, "tdx"), "allow_debug")));
    static const char *const want[] = {"policy.pckPolicy.sgxType:"};
    expect_dropped(dropped, want, CVMA_ARRAY_LEN(want));
    json_decref(o);
    json_decref(dropped);

    /* SEV-SNP: ignored as Cocos ignores them, a mixed spelling among them. */
    o = import_ok("{\"policy\": {\"policy\": 196608, \"minimumGuest_svn\": 9, \"frob\": 1},"
                  " \"comment\": \"x\"}",
                  &dropped);
    assert_null(json_object_get(json_object_get(o, "snp"), "minimum_guest_svn"));
    static const char *const want2[] = {"policy.minimumGuest_svn: unknown to go-sev-guest",
                                        "policy.frob: unknown to go-sev-guest",
                                        "comment: unknown to a Cocos attestation policy"};
    expect_dropped(dropped, want2, CVMA_ARRAY_LEN(want2));
    json_decref(o);
    json_decref(dropped);
}

static void test_cocos_import_refusals(void **state)
{
    (void)state;
    import_refused("{", "not valid JSON");
    import_refused("[1]", "expected a JSON object");
    import_refused("{\"root_of_trust\": {}}", "no \"policy\" object");
    import_refused("{\"policy\": {\"measurement\": \"***\"}}",
                   "policy.measurement: not valid base64");
    /* One alphabet per value, as protobuf JSON reads bytes: a '-' or '_' makes it URL-safe,
     * where '+' and '/' are not digits. */
    import_refused("{\"policy\": {\"measurement\": "
                   "\"t0fVVFLguekHl3Cknjl8Xm2Vc1geJG2nuqxPKLXNxbG20ZJRuO5gD9Fq_wj1hAb+\"}}",
                   "policy.measurement: not valid base64: mixes the URL-safe alphabet");
    import_refused("{\"policy\": {\"hostData\": \"AAAA/AAA-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}",
                   "policy.hostData: not valid base64: mixes the URL-safe alphabet");
    import_refused("{\"policy\": {\"measurement\": \"AAAA\"}}",
                   "policy.measurement: 3 bytes, expected 48");
    import_refused("{\"policy\": {\"chipId\": \"AAAAAAAAAAAAAAAAAAAAAA==\"}}",
                   "policy.chipId: 16 bytes, expected 64 or 8");
    import_refused("{\"policy\": {\"vmpl\": 4}}", "policy.vmpl: 4 is out of range 0..3");
    import_refused("{\"policy\": {\"vmpl\": \"x\"}}",
                   "policy.vmpl: \"x\" is not an unsigned 64-bit decimal integer");
    import_refused("{\"policy\": {\"minimum_tcb\": -1}}", "policy.minimum_tcb: -1 is out of range");
    /* A number out of range is named as the file spells it, never rounded, and never quoted
     * as if the file had given a string. */
    import_refused("{\"policy\": {\"minimum_tcb\": 99999999999999999999}}",
                   "policy.minimum_tcb: 99999999999999999999 is out of range "
                   "0..18446744073709551615");
    import_refused("{\"policy\": {\"minimum_tcb\": 18446744073709551616}}",
                   "policy.minimum_tcb: 18446744073709551616 is out of range "
                   "0..18446744073709551615");
    import_refused("{\"policy\": {\"minimum_tcb\": \"18446744073709551616\"}}",
                   "policy.minimum_tcb: 18446744073709551616 is out of range");
    import_refused("{\"policy\": {\"minimum_tcb\": 123456789012345678901234}}",
                   "policy.minimum_tcb: 123456789012345678901234 is out of range");
    import_refused("{\"policy\": {\"minimum_tcb\": "
                   "12345678901234567890123456789012345678901234567890}}",
                   "policy.minimum_tcb: a 50-digit integer is out of range");
    /* Below int64, jansson cannot read it: still refused by the field, not as bad JSON. */
    import_refused("{\"policy\": {\"minimum_tcb\": -18446744073709551616}}",
                   "policy.minimum_tcb: -18446744073709551616 is out of range");
    import_refused("{\"policy\": {\"minimum_tcb\": \"-5\"}}",
                   "policy.minimum_tcb: -5 is out of range");
    /* protobuf JSON reads a quoted integer as a JSON number: no leading zero ("0" is one) */
    import_refused("{\"policy\": {\"vmpl\": \"01\"}}",
                   "policy.vmpl: \"01\" has a leading zero, which protobuf JSON refuses");
    import_refused(
            "{\"policy\": {\"minimum_tcb\": \"00000000000000000000000000000000000000000007\"}}",
            "policy.minimum_tcb: an integer with a leading zero, which protobuf JSON "
            "refuses");
    import_refused("{\"policy\": {\"vmpl\": \"-\"}}",
                   "policy.vmpl: \"-\" is not an unsigned 64-bit decimal integer");
    import_refused("{\"policy\": {\"minimum_version\": \"1.x\"}}",
                   "policy.minimum_version: \"1.x\" is not \"major.minor\"");
    import_refused("{\"policy\": {\"require_id_block\": 1}}",
                   "policy.require_id_block: expected true or false");
    /* go-sev-guest refuses every report when the key hashes to find are not given: never
     * translated into a policy that checks less */
    import_refused("{\"policy\": {\"require_author_key\": true}}",
                   "policy.require_author_key: no trusted_author_key_hashes");
    import_refused("{\"policy\": {\"require_author_key\": true, \"trusted_id_key_hashes\": [\""
                   "ERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERER\"]}}",
                   "policy.require_author_key: no trusted_author_key_hashes");
    /* an all-zero hash or CHIP_ID pins nothing: refused by its Cocos path, not as an internal
     * error of the converted policy */
    import_refused("{\"policy\": {\"policy\": 196608, \"require_id_block\": true, "
                   "\"trusted_id_key_hashes\": [\""
                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]}}",
                   "policy.trusted_id_key_hashes[0]: all zero");
    import_refused("{\"policy\": {\"policy\": 196608, \"require_author_key\": true, "
                   "\"trusted_author_key_hashes\": "
                   "[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]}}",
                   "policy.trusted_author_key_hashes[0]: all zero");
    import_refused("{\"policy\": {\"policy\": 196608, \"chip_id\": \"AAAAAAAAAAA=\"}}",
                   "policy.chip_id: all zero, what a guest reports whose policy masks its CHIP_ID");
    import_refused(
            "{\"policy\": {\"require_id_block\": true}}",
            "policy.require_id_block: no trusted_id_key_hashes or trusted_author_key_hashes");
    import_refused("{\"policy\": {\"familyId\": \"AA==\", \"family_id\": \"AA==\"}}",
                   "field family_id given twice");
    import_refused("{\"policy\": {\"product\": {\"name\": \"SEV_PRODUCT_NAPLES\"}}}",
                   "policy.product.name: \"SEV_PRODUCT_NAPLES\" is not a SevProductName");
    import_refused("{\"policy\": {\"policy\": 196608}, \"root_of_trust\": {\"product_line\": "
                   "\"Rome\"}}",
                   "root_of_trust.product_line: \"Rome\" is not Milan, Genoa or Turin");
    import_refused("{\"policy\": {\"tdQuoteBodyPolicy\": {\"rtmrs\": [\"AA==\"]}}}",
                   "policy.tdQuoteBodyPolicy.rtmrs[0]: 1 bytes, expected 48");
    import_refused("{\"policy\": {\"tdQuoteBodyPolicy\": {\"anyMrTd\": [\"\"]}}}", "an empty MRTD");
    import_refused("{\"policy\": {\"headerPolicy\": {\"minimumQeSvn\": 70000}}}",
                   "policy.headerPolicy.minimumQeSvn: 70000 is out of range");
    import_refused("{\"policy\": {\"policy\": 196608}, \"pcr_values\": []}",
                   "pcr_values: expected an object");
    const char nul[] = "{\"policy\": {}}\0{}";
    json_t *out = NULL, *dropped = NULL;
    char err[256];
    assert_int_equal(cvma_policy_import_cocos((const uint8_t *)nul, sizeof nul - 1, &out, &dropped,
                                              err, sizeof err),
                     CVMA_E_USAGE);

    /* proto3 defaults: an absent guest policy is 0, which go-sev-guest's PolicyToOptions
     * refuses (reserved bit 17 must be 1), as it refuses reserved bits 63:26: Cocos verifies
     * nothing with such a file, so nothing is imported. Malformed values are named first. */
    import_refused("{\"policy\": {\"measurement\": null, \"vmpl\": 0}}",
                   "policy.policy: absent, which go-sev-guest reads as 0 and refuses");
    import_refused("{\"policy\": {\"policy\": null}}", "policy.policy: absent");
    import_refused("{\"policy\": {\"policy\": 65536}}",
                   "policy.policy: 0x0000000000010000 has reserved bit 17 clear");
    import_refused("{\"policy\": {\"policy\": \"0\"}}", "has reserved bit 17 clear");
    import_refused(
            "{\"policy\": {\"policy\": \"67305472\"}}",
            "policy.policy: 0x0000000004030000 sets reserved bits 63:26 (0x0000000004000000)");
    import_refused("{\"policy\": {\"policy\": 18446744073709551615}}", "sets reserved bits 63:26");
    import_refused("{\"policy\": {\"policy\": 65536, \"vmpl\": 9}}",
                   "policy.vmpl: 9 is out of range");

    /* No field of either library: not guessed to be SEV-SNP (whose import would check
     * nothing the file meant). protobuf JSON reads proto names and lowerCamelCase only. */
    import_refused("{\"policy\": {}}", "policy: no field of go-sev-guest's check.Policy or "
                                       "go-tdx-guest's checkconfig.Policy");
    import_refused("{\"policy\": {\"TdQuoteBodyPolicy\": {\"MrTd\": \"AAAA\"}}}",
                   "among {\"TdQuoteBodyPolicy\"}, so neither SEV-SNP nor TDX");
    import_refused("{\"policy\": {\"Measurement\": \"AAAA\", \"POLICY\": 196608}}",
                   "among {\"Measurement\", \"POLICY\"}");

    /* go-tdx-guest's QE and PCE SVN minima read header bytes that are zero in every TDX
     * quote: above 0 it refuses every quote, so nothing is imported. */
    import_refused("{\"policy\": {\"headerPolicy\": {\"minimumQeSvn\": 1}}}",
                   "policy.headerPolicy.minimumQeSvn: 1: go-tdx-guest compares it with reserved "
                   "bytes");
    import_refused("{\"policy\": {\"header_policy\": {\"minimum_pce_svn\": \"7\"}, "
                   "\"td_quote_body_policy\": {}}}",
                   "policy.header_policy.minimum_pce_svn: 7: go-tdx-guest");

    /* The smallest policy go-sev-guest accepts, 0x20000: no SMT, MA or debug, unknown bits
     * refused, COMMITTED == CURRENT required. */
    out = import_ok("{\"policy\": {\"policy\": 131072}}", &dropped);
    json_t *snp = json_object_get(out, "snp");
    json_t *gp = json_object_get(snp, "guest_policy");
    assert_true(json_is_false(json_object_get(snp, "allow_debug")));
    assert_true(json_is_false(json_object_get(gp, "allow_smt")));
    assert_true(json_is_false(json_object_get(gp, "allow_migrate_ma")));
    assert_true(json_is_true(json_object_get(gp, "reject_unknown_bits")));
    assert_null(json_object_get(snp, "platform_info"));
    assert_true(json_is_true(json_object_get(snp, "require_committed_equals_current")));
    assert_int_equal(json_array_size(dropped), 0);
    json_decref(out);
    json_decref(dropped);

    /* TDX in either protobuf JSON spelling, zero SVN minima accepted. */
    out = import_ok("{\"policy\": {\"tdQuoteBodyPolicy\": {}, \"headerPolicy\": "
                    "{\"minimumQeSvn\": 0}}}",
                    &dropped);
    assert_string_equal(sget(out, "allowed_tees.0"), "tdx");
    json_decref(out);
    json_decref(dropped);
    out = import_ok("{\"policy\": {\"td_quote_body_policy\": {}}}", &dropped);
    assert_string_equal(sget(out, "allowed_tees.0"), "tdx");
    json_decref(out);
    json_decref(dropped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_snp_exact_match_rules_pass_and_fail),
            cmocka_unit_test(test_snp_tcb_minimums_pass_and_fail),
            cmocka_unit_test(test_snp_guest_policy_and_platform_info_bits),
            cmocka_unit_test(test_snp_id_and_author_keys),
            cmocka_unit_test(test_snp_committed_tcb_rule),
            cmocka_unit_test(test_snp_debug_rule),
            cmocka_unit_test(test_common_rules_on_snp),
            cmocka_unit_test(test_registry_log_required_says_what_meets_it),
            cmocka_unit_test(test_tpm_section_admits_a_bare_quote_by_default_only_without_azure),
            cmocka_unit_test(test_section_that_never_applies_is_said),
            cmocka_unit_test(
                    test_azure_section_admits_an_azure_kind_only_with_its_hardware_section),
            cmocka_unit_test(test_only_the_launch_identity_pins_a_vtpm_launch),
            cmocka_unit_test(test_tee_kind_is_checked_on_undecided_evidence),
            cmocka_unit_test(test_tpm_ak_pin_without_an_ak_claim_is_refused),
            cmocka_unit_test(test_tpm_ak_pin_needs_a_whole_digest_claim),
            cmocka_unit_test(test_required_event_type_must_be_a_known_name),
            cmocka_unit_test(test_secure_boot_rule_says_which_registers_it_read),
            cmocka_unit_test(test_cmdline_contains_is_a_whole_parameter),
            cmocka_unit_test(test_missing_claim_is_refused),
            cmocka_unit_test(test_required_provider_waits_for_an_undecided_binding),
            cmocka_unit_test(test_snp_all_failing_rules_are_reported),
            cmocka_unit_test(test_snp_real_sample_claims),
            cmocka_unit_test(test_default_kinds_skip_no_section),
            cmocka_unit_test(test_tdx_register_rules_pass_and_fail),
            cmocka_unit_test(test_tdx_debug_rule),
            cmocka_unit_test(test_allow_debug_true_lowers_the_debug_error_to_a_warning),
            cmocka_unit_test(test_tdx_report_data_and_service_td),
            cmocka_unit_test(test_tdx_accepted_tcb_statuses_override),
            cmocka_unit_test(test_tdx_all_failing_rules_are_reported),
            cmocka_unit_test(test_tdx_real_quote_claims),
            cmocka_unit_test(test_claims_json_shape),
            cmocka_unit_test(test_load_refuses_bad_policies_naming_the_field),
            cmocka_unit_test(test_top_level_fmc_loads_only_where_it_binds_a_report),
            cmocka_unit_test(test_provider_names_load_as_a_registry_has_them),
            cmocka_unit_test(test_load_from_file_and_accessors),
            cmocka_unit_test(test_collateral_grace_parsing),
            cmocka_unit_test(test_cocos_snp_snake_case),
            cmocka_unit_test(test_cocos_snp_camel_case),
            cmocka_unit_test(test_cocos_snp_tcb_for_another_product_is_named_as_written),
            cmocka_unit_test(test_cocos_snp_tcb_moot_for_the_product_is_named),
            cmocka_unit_test(test_cocos_tdx_camel_case),
            cmocka_unit_test(test_cocos_tdx_snake_case),
            cmocka_unit_test(test_cocos_tdx_settings_that_refuse_every_quote_are_refused),
            cmocka_unit_test(test_cocos_tdx_rtmrs_other_than_four_are_refused),
            cmocka_unit_test(test_cocos_snp_platform_info_unknown_bits_are_refused),
            cmocka_unit_test(test_cocos_tdx_unknown_fields_are_refused),
            cmocka_unit_test(test_cocos_import_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
