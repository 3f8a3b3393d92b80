/*
 * Event logs inside verification: a bundle's "event_log" part replayed against the verified
 * evidence. TDX: the GCE CCEL sample against a simulated quote carrying the RTMRs that CCEL
 * replays to (and one RTMR off). TPM: the GCP Windows quote with its SHA-1 log, as a bundle and
 * tampered. The claims appear as claims.eventlog only when the replay agrees.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "appraise/policy.h"
#include "common/base64.h"
#include "common/hex.h"
#include "cvmattest/cvmattest.h"
#include "eventlog/eventlog.h"
#include "sim/sim_snp.h"
#include "sim/sim_tdx.h"
#include "testutil.h"
#include "tu_vectors.h"
#include "verifier/bundle.h"

#define CCEL          "tdx/v4-gce-ccel-gotdxguest/ccel_data.dat"
#define EV_EFI_ACTION 0x80000007u
#define GCP           "tpm/gcp-windows-quote-goattestation/"

/* Appends a part {"role": role, "data": base64(p)} to the bundle JSON file at path. */
static void bundle_add(const char *path, const char *role, const uint8_t *p, size_t len)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    char *b64 = cvma_base64_encode(p, len, CVMA_B64_STD);
    assert_non_null(b64);
    assert_int_equal(json_array_append_new(json_object_get(j, "parts"),
                                           json_pack("{s:s, s:s}", "role", role, "data", b64)),
                     0);
    free(b64);
    assert_int_equal(json_dump_file(j, path, JSON_COMPACT), 0);
    json_decref(j);
}

static struct cvma_result *verify_p(const char *root, const char *bundle, bool nonce,
                                    const char *policy)
{
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_request req;
    const char *roots[] = {root};
    char err[256];

    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = root != NULL ? 1 : 0;
    cfg.offline = true;
    struct cvma_policy_config pc = {.name = NULL, .path = policy};
    if (policy != NULL) {
        cfg.policies = &pc;
        cfg.n_policies = 1;
    }
    if (cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK) {
        fail_msg("cvma_verifier_new: %s", err);
    }
    if (cvma_evidence_from_file(bundle, CVMA_INFORM_AUTO, &ev, err, sizeof err) != CVMA_OK) {
        fail_msg("evidence %s: %s", bundle, err);
    }
    memset(&req, 0, sizeof req);
    req.has_nonce = nonce; /* the GCP quote carries no extraData */
    assert_int_equal(cvma_verify(v, ev, &req, &res, err, sizeof err), CVMA_OK);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    return res;
}

static struct cvma_result *verify(const char *root, const char *bundle, bool nonce)
{
    return verify_p(root, bundle, nonce, NULL);
}

/* Writes the policy text to dir/policy.json; returns the path. */
static char *policy(const char *dir, const char *text)
{
    char *p = tu_path(dir, "policy.json");
    tu_write(p, (const uint8_t *)text, strlen(text));
    return p;
}

/* The codes of res's error reasons, space-separated, for assertions with a message. */
static const char *errors(const struct cvma_result *res)
{
    static char buf[1024];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        if (strcmp(cvma_result_reason_severity(res, i), "error") == 0) {
            int k = snprintf(buf + n, sizeof buf - n, "%s ", cvma_result_reason_code(res, i));
            n += k > 0 && (size_t)k < sizeof buf - n ? (size_t)k : 0;
        }
    }
    return buf;
}

static json_t *claims_eventlog(const struct cvma_result *res)
{
    json_t *c = cvma_result_claims_json(res);
    json_t *e = json_incref(json_object_get(c, "eventlog"));
    json_decref(c);
    return e;
}

/* tdx_bundle's quotes are a debug TD's (TD_ATTRIBUTES.DEBUG) */
static bool g_tdx_debug;

/* A simulated TDX quote whose RTMR 0..2 are rtmr (RTMR 3 zero), bundled with the CCEL. */
static char *tdx_bundle(const char *dir, uint8_t rtmr[3][48], const struct cvma_buf *ccel)
{
    struct cvma_sim_tdx_opts to;
    struct cvma_buf q;
    char err[256];
    cvma_sim_tdx_opts_default(&to);
    to.debug = g_tdx_debug;
    for (int i = 0; i < 3; i++) {
        to.has_rtmr[i] = true;
        memcpy(to.rtmr[i], rtmr[i], 48);
    }
    if (cvma_sim_tdx_write(&to, dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim: %s", err);
    }
    char *qp = tu_path(dir, "quote.bin"), *bp = tu_path(dir, "bundle.json");
    tu_read(qp, &q);
    assert_int_equal(cvma_bundle_write(bp, "tdx", q.p, q.len, dir), CVMA_OK);
    bundle_add(bp, "event_log", ccel->p, ccel->len);
    cvma_buf_free(&q);
    free(qp);
    return bp;
}

static void ccel_rtmrs(const struct cvma_buf *ccel, uint8_t rtmr[3][48])
{
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    assert_non_null(rp);
    assert_int_equal(cvma_eventlog_parse(ccel->p, ccel->len, CVMA_EVENTLOG_CCEL, &log, &v),
                     CVMA_OK);
    cvma_eventlog_replay(&log, rp);
    for (int i = 0; i < 3; i++) {
        memcpy(rtmr[i], rp->reg[0][i], 48);
    }
    free(rp);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
}

static void test_eventlog_verify_tdx_ccel_replays_to_the_quote(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf ccel;
    uint8_t rtmr[3][48];
    char *path = tu_path(tu_vectors(), CCEL), *dir = tu_tmpdir();
    tu_read(path, &ccel);
    ccel_rtmrs(&ccel, rtmr);

    char *bp = tdx_bundle(dir, rtmr, &ccel);
    char *root = tu_path(dir, "root_ca.pem");
    struct cvma_result *res = verify(root, bp, false);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    assert_true(cvma_result_has_reason(res, "EVENTLOG_RTMR3_NOT_IN_LOG"));
    assert_false(cvma_result_has_reason(res, "EVENTLOG_REPLAY_MISMATCH"));
    json_t *e = claims_eventlog(res);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "format")), "ccel");
    assert_int_equal(json_object_size(json_object_get(e, "rtmr")), 3);
    assert_non_null(json_object_get(e, "secure_boot"));
    /* exactly the shim and GRUB: not the GPT beside them in RTMR 1 (its digest is the hash of
     * its binary data, as an application relabelled with its Authenticode bytes would be) */
    json_t *apps = json_object_get(e, "efi_boot_applications");
    assert_int_equal(json_array_size(apps), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(apps, 0), "event")), 18);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(apps, 1), "event")), 24);
    json_decref(e);
    cvma_result_free(res);

    /* RTMR 1 off by one bit: refused, naming the register and the first event of CC-MR 2. */
    rtmr[1][0] ^= 1;
    free(bp);
    bp = tdx_bundle(dir, rtmr, &ccel);
    res = verify(root, bp, false);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "EVENTLOG_REPLAY_MISMATCH"));
    bool named = false;
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        if (strcmp(cvma_result_reason_code(res, i), "EVENTLOG_REPLAY_MISMATCH") == 0) {
            const char *d = cvma_result_reason_detail(res, i);
            named = strstr(d, "RTMR 1 differs") != NULL && strstr(d, "in CC-MR 2") != NULL;
        }
    }
    assert_true(named);
    assert_null(claims_eventlog(res));
    cvma_result_free(res);

    /* A TCG log with a TDX quote: not a CCEL, refused by name. */
    struct cvma_buf tcg;
    char *tp = tu_path(tu_vectors(), GCP "eventlog.bin");
    tu_read(tp, &tcg);
    rtmr[1][0] ^= 1;
    free(bp);
    bp = tdx_bundle(dir, rtmr, &tcg);
    res = verify(root, bp, false);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "EVENTLOG_HEADER_INVALID"));
    assert_null(claims_eventlog(res));
    cvma_result_free(res);
    cvma_buf_free(&tcg);
    free(tp);

    tu_rmtree(dir);
    free(dir);
    free(root);
    free(bp);
    free(path);
    cvma_buf_free(&ccel);
}

/* The GCP Windows quote as a TPM bundle with its event log (given as log). */
static char *tpm_bundle(const char *dir, const struct cvma_buf *log)
{
    const char *files[] = {"quote_sig.tpmt", "ak_public.tpmt", "pcrs_sha1.json"};
    const char *roles[] = {"tpm_signature", "tpm_ak", "tpm_pcrs"};
    struct cvma_buf b;
    char *bp = tu_path(dir, "tpm.json");
    char *p = tu_path(tu_vectors(), GCP "quote_attest.bin");
    tu_read(p, &b);
    free(p);
    FILE *f = fopen(bp, "w");
    assert_non_null(f);
    fputs("{\"cvmattest_bundle\": 1, \"kind\": \"tpm\", \"parts\": []}", f);
    fclose(f);
    bundle_add(bp, "tpm_quote", b.p, b.len);
    cvma_buf_free(&b);
    for (size_t i = 0; i < 3; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, GCP "%s", files[i]);
        p = tu_path(tu_vectors(), rel);
        tu_read(p, &b);
        free(p);
        bundle_add(bp, roles[i], b.p, b.len);
        cvma_buf_free(&b);
    }
    if (log != NULL) {
        bundle_add(bp, "event_log", log->p, log->len);
    }
    return bp;
}

static void test_eventlog_verify_tpm_log_replays_to_the_covered_pcrs(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf log;
    char *path = tu_path(tu_vectors(), GCP "eventlog.bin"), *dir = tu_tmpdir();
    tu_read(path, &log);

    char *bp = tpm_bundle(dir, &log);
    struct cvma_result *res = verify(NULL, bp, true);
    /* The AK is bound to nothing: warning at best, never affirming. */
    assert_int_equal(cvma_result_status(res), CVMA_WARNING);
    assert_false(cvma_result_has_reason(res, "EVENTLOG_REPLAY_MISMATCH"));
    json_t *e = claims_eventlog(res);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "format")), "tcg-sha1");
    assert_int_equal(json_object_size(json_object_get(json_object_get(e, "pcrs"), "sha1")), 24);
    json_decref(e);
    cvma_result_free(res);
    free(bp);

    /* The digest of the first event after the header (PCR 7) flipped: refused by name. */
    uint32_t hdr_data = (uint32_t)log.p[28] | (uint32_t)log.p[29] << 8 | (uint32_t)log.p[30] << 16 |
                        (uint32_t)log.p[31] << 24;
    log.p[32 + hdr_data + 8] ^= 1;
    bp = tpm_bundle(dir, &log);
    res = verify(NULL, bp, true);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "EVENTLOG_REPLAY_MISMATCH"));
    assert_null(claims_eventlog(res));
    cvma_result_free(res);
    free(bp);

    /* A CCEL with a TPM quote: refused by name. */
    struct cvma_buf ccel;
    char *cp = tu_path(tu_vectors(), CCEL);
    tu_read(cp, &ccel);
    bp = tpm_bundle(dir, &ccel);
    res = verify(NULL, bp, true);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "EVENTLOG_HEADER_INVALID"));
    assert_null(claims_eventlog(res));
    cvma_result_free(res);
    free(bp);
    cvma_buf_free(&ccel);
    free(cp);

    /* Without a log: no claims.eventlog, nothing compared. */
    bp = tpm_bundle(dir, NULL);
    res = verify(NULL, bp, true);
    assert_int_equal(cvma_result_status(res), CVMA_WARNING);
    assert_null(claims_eventlog(res));
    cvma_result_free(res);
    free(bp);

    tu_rmtree(dir);
    free(dir);
    free(path);
    cvma_buf_free(&log);
}

/* A log cut before the events of the PCRs 11..14 (Windows' own): those quoted PCRs are not
 * compared (info), the rest still are and agree. */
static void test_eventlog_verify_tpm_pcr_not_in_log_is_not_compared(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf log;
    struct cvma_eventlog parsed;
    struct cvma_verdict v;
    char *path = tu_path(tu_vectors(), GCP "eventlog.bin"), *dir = tu_tmpdir();
    tu_read(path, &log);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(log.p, log.len, CVMA_EVENTLOG_AUTO, &parsed, &v), CVMA_OK);
    size_t cut = log.len;
    for (size_t i = 1; i < parsed.n_events; i++) {
        if (parsed.events[i].pcr >= 11 && parsed.events[i].pcr <= 14) {
            cut = parsed.events[i].offset;
            break;
        }
    }
    assert_true(cut < log.len);
    for (size_t i = 1; i < parsed.n_events; i++) {
        /* the cut keeps no event of PCR 0..7 out */
        if (parsed.events[i].offset >= cut) {
            assert_true(parsed.events[i].pcr > 7);
        }
    }
    cvma_eventlog_cleanup(&parsed);
    cvma_verdict_cleanup(&v);
    log.len = cut;

    char *bp = tpm_bundle(dir, &log);
    struct cvma_result *res = verify(NULL, bp, true);
    assert_int_equal(cvma_result_status(res), CVMA_WARNING);
    assert_true(cvma_result_has_reason(res, "EVENTLOG_PCR_NOT_IN_LOG"));
    assert_false(cvma_result_has_reason(res, "EVENTLOG_REPLAY_MISMATCH"));
    json_t *e = claims_eventlog(res);
    assert_non_null(e);
    json_t *sha1 = json_object_get(json_object_get(e, "pcrs"), "sha1");
    assert_non_null(json_object_get(sha1, "7"));
    assert_null(json_object_get(sha1, "12"));
    json_decref(e);
    cvma_result_free(res);
    free(bp);
    tu_rmtree(dir);
    free(dir);
    free(path);
    cvma_buf_free(&log);
}

/* The GCP sample's AK: SHA-256 of its SubjectPublicKeyInfo (claims.tpm.ak.spki_sha256). */
#define GCP_AK "2190373af1e3553a94c7dfec53b1c789bd48213d9b3d0cf8d82c8333edbb9c8c"

/* Policy on the GCP Windows quote and its log: tpm.pcrs, Secure Boot, boot applications, and
 * a command line the log does not have; without the log the event-log rules fail by name. A
 * bare quote's AK is vouched for by nothing (TPM_AK_NOT_BOUND): the rules on its PCRs and log
 * count only with the AK pinned (tpm.ak_spki_sha256), else they fail with POLICY_TPM_AK. */
static void test_eventlog_verify_policy_on_tpm_pcrs_and_log(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf log;
    char *path = tu_path(tu_vectors(), GCP "eventlog.bin"), *dir = tu_tmpdir();
    tu_read(path, &log);
    char *bp = tpm_bundle(dir, &log);

#define GCP_RULES                                                       \
    "\"pcrs\": {\"sha1\": {"                                            \
    "\"0\": \"51C323DE0C0C694F4601CDD02BEB58FF13629F74\", "             \
    "\"7\": [\"0000000000000000000000000000000000000000\", "            \
    "\"859a5877266b5c909613468091a73380a5386786\"]}}}, "                \
    "\"eventlog\": {\"secure_boot\": true, \"efi_boot_applications\": " \
    "[\"57a3e40bae6ae5ab1427c6aff22aa4f06e158ef4\"]}}"
    /* not pinned: every rule on the PCRs and the log fails, with one reason naming the AK */
    char *pol = policy(dir, "{\"tpm\": {" GCP_RULES);
    struct cvma_result *res = verify_p(NULL, bp, true, pol);
    assert_string_equal(errors(res), "POLICY_TPM_AK ");
    TU_ASSERT_DETAIL(&res->verdict, CVMA_R_POLICY_TPM_AK,
                     "tpm.pcrs, eventlog: the quote's AK (spki_sha256 " GCP_AK ")");
    TU_ASSERT_DETAIL(&res->verdict, CVMA_R_POLICY_TPM_AK, "could be anyone's");
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    cvma_result_free(res);
    free(pol);
    /* pinned: appraised, every rule passes; the verifier's warning stays */
    pol = policy(dir, "{\"tpm\": {\"ak_spki_sha256\": [\"" GCP_AK "\"], " GCP_RULES);
    res = verify_p(NULL, bp, true, pol);
    assert_string_equal(errors(res), "");
    assert_true(cvma_result_has_reason(res, "TPM_AK_NOT_BOUND"));
    assert_int_equal(cvma_result_status(res), CVMA_WARNING);
    cvma_result_free(res);
    free(pol);
#undef GCP_RULES

    /* A list entry that is not a digest is refused when the policy loads. */
    struct cvma_policy_config pc = {.path = NULL};
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    char err[512];
    pol = policy(dir, "{\"tpm\": {\"pcrs\": {\"sha1\": {\"24\": \"00\"}}}}");
    pc.path = pol;
    memset(&cfg, 0, sizeof cfg);
    cfg.policies = &pc;
    cfg.n_policies = 1;
    assert_int_equal(cvma_verifier_new(&cfg, &v, err, sizeof err), CVMA_E_USAGE);
    assert_non_null(strstr(err, "tpm.pcrs.sha1.24: not a PCR index"));
    free(pol);

    pol = policy(dir, "{\"tpm\": {\"ak_spki_sha256\": \"" GCP_AK "\", \"pcrs\": {\"sha1\": {\"7\": "
                      "\"0000000000000000000000000000000000000000\"}, \"sha256\": {\"0\": "
                      "\"0000000000000000000000000000000000000000000000000000000000000000\"}}}, "
                      "\"eventlog\": {\"kernel_cmdline_contains\": [\"ro\"], "
                      "\"efi_boot_applications\": "
                      "[\"0000000000000000000000000000000000000000\"]}}");
    res = verify_p(NULL, bp, true, pol);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "POLICY_PCR")); /* sha1 7 wrong, sha256 not quoted */
    size_t n_pcr = 0;
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        n_pcr += strcmp(cvma_result_reason_code(res, i), "POLICY_PCR") == 0;
    }
    assert_int_equal(n_pcr, 2);
    assert_true(cvma_result_has_reason(res, "POLICY_KERNEL_CMDLINE"));
    assert_true(cvma_result_has_reason(res, "POLICY_BOOT_APPLICATION"));
    assert_false(cvma_result_has_reason(res, "POLICY_SECURE_BOOT"));
    cvma_result_free(res);
    free(bp);

    /* No log in the bundle: event-log rules cannot pass. */
    bp = tpm_bundle(dir, NULL);
    res = verify_p(NULL, bp, true, pol);
    assert_true(cvma_result_has_reason(res, "POLICY_EVENTLOG_MISSING"));
    assert_false(cvma_result_has_reason(res, "POLICY_KERNEL_CMDLINE"));
    cvma_result_free(res);

    free(pol);
    free(bp);
    tu_rmtree(dir);
    free(dir);
    free(path);
    cvma_buf_free(&log);
}

/* Policy on a TDX quote with its CCEL: RTMRs (tdx.rtmrN) and the log's claims; the GCE log
 * shows Secure Boot off, which eventlog.secure_boot refuses. RTMR 2 holds PCR 9's and 14's
 * measurements too (files, MOK lists), whose data does not show what they measured: any of
 * them could be the real command line relabelled, so none is claimed and a rule on it fails;
 * pinning RTMR 2 binds the command line. */
static void test_eventlog_verify_policy_on_tdx_rtmrs_and_ccel(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf ccel;
    uint8_t rtmr[3][48];
    char hex[97], hex2[97], text[1024];
    char *path = tu_path(tu_vectors(), CCEL), *dir = tu_tmpdir();
    tu_read(path, &ccel);
    ccel_rtmrs(&ccel, rtmr);
    char *bp = tdx_bundle(dir, rtmr, &ccel);
    char *root = tu_path(dir, "root_ca.pem");

    cvma_hex_encode(rtmr[1], 48, hex, sizeof hex);
    cvma_hex_encode(rtmr[2], 48, hex2, sizeof hex2);
    snprintf(text, sizeof text, "{\"tdx\": {\"rtmr1\": \"%s\", \"rtmr2\": \"%s\"}}", hex, hex2);
    char *pol = policy(dir, text);
    struct cvma_result *res = verify_p(root, bp, false, pol);
    assert_string_equal(errors(res), "");
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    cvma_result_free(res);
    free(pol);

    pol = policy(dir, "{\"tdx\": {}, \"eventlog\": {\"kernel_cmdline_contains\": "
                      "[\"module.sig_enforce=1\"]}}");
    res = verify_p(root, bp, false, pol);
    assert_string_equal(errors(res), "POLICY_KERNEL_CMDLINE ");
    assert_true(json_is_null(json_object_get(res->claims.eventlog, "kernel_cmdline")));
    cvma_result_free(res);
    free(pol);

    /* a debug TD the policy accepts: its log's rules are appraised as for any TD (no TPM AK
     * is involved: POLICY_TPM_AK is about a vTPM's key) */
    g_tdx_debug = true;
    char *dbg = tu_tmpdir(), *bpd = tdx_bundle(dbg, rtmr, &ccel),
         *rootd = tu_path(dbg, "root_ca.pem");
    g_tdx_debug = false;
    pol = policy(dir,
                 "{\"tdx\": {\"allow_debug\": true}, \"eventlog\": {\"kernel_cmdline_contains\": "
                 "[\"module.sig_enforce=1\"]}}");
    res = verify_p(rootd, bpd, false, pol);
    assert_true(cvma_verdict_has(&res->verdict, CVMA_R_TDX_DEBUG));
    assert_string_equal(errors(res), "POLICY_KERNEL_CMDLINE ");
    cvma_result_free(res);
    free(pol);
    tu_rmtree(dbg);
    free(rootd);
    free(bpd);
    free(dbg);

    pol = policy(dir, "{\"tdx\": {}, \"eventlog\": {\"secure_boot\": true, "
                      "\"kernel_cmdline\": \"ro quiet\"}}");
    res = verify_p(root, bp, false, pol);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    assert_true(cvma_result_has_reason(res, "POLICY_SECURE_BOOT"));
    assert_true(cvma_result_has_reason(res, "POLICY_KERNEL_CMDLINE"));
    cvma_result_free(res);
    free(pol);

    free(root);
    free(bp);
    tu_rmtree(dir);
    free(dir);
    free(path);
    cvma_buf_free(&ccel);
}

/* SEV-SNP does not use an event log: one in its bundle is named, never silently dropped. */
static void test_eventlog_verify_snp_bundle_log_is_not_used(void **state)
{
    (void)state;
    struct cvma_sim_snp_opts so;
    struct cvma_buf r;
    char err[256];
    char *dir = tu_tmpdir();
    cvma_sim_snp_opts_default(&so);
    if (cvma_sim_snp_write(&so, dir, err, sizeof err) != CVMA_OK) {
        fail_msg("sim: %s", err);
    }
    char *rp = tu_path(dir, "report.bin"), *bp = tu_path(dir, "bundle.json"),
         *ark = tu_path(dir, "ark.pem");
    tu_read(rp, &r);
    assert_int_equal(cvma_bundle_write(bp, "sev-snp", r.p, r.len, dir), CVMA_OK);
    struct cvma_result *res = verify(ark, bp, false);
    assert_int_equal(cvma_result_status(res), CVMA_AFFIRMING);
    cvma_result_free(res);

    bundle_add(bp, "event_log", (const uint8_t *)"not checked", 11);
    res = verify(ark, bp, false);
    assert_int_equal(cvma_result_status(res), CVMA_WARNING);
    assert_true(cvma_result_has_reason(res, "EVENTLOG_NOT_USED"));
    assert_null(claims_eventlog(res));
    cvma_result_free(res);

    /* Event-log rules then always fail, and the reason says so: the kind carries no log, not
     * that one should be given (it was). */
    char *pol = policy(dir, "{\"eventlog\": {\"secure_boot\": true}}");
    res = verify_p(ark, bp, false, pol);
    assert_int_equal(cvma_result_status(res), CVMA_CONTRAINDICATED);
    const char *detail = NULL;
    for (size_t i = 0; i < cvma_result_reason_count(res); i++) {
        if (strcmp(cvma_result_reason_code(res, i), "POLICY_EVENTLOG_MISSING") == 0) {
            detail = cvma_result_reason_detail(res, i);
        }
    }
    assert_non_null(detail);
    assert_non_null(strstr(detail, "(kind sev-snp) carries no event log"));
    assert_null(strstr(detail, "give the log"));
    cvma_result_free(res);
    free(pol);
    cvma_buf_free(&r);
    tu_rmtree(dir);
    free(dir);
    free(rp);
    free(bp);
    free(ark);
}

/* Replays log against its own replay (every bank, PCR 0..23) through the verification path. */
static struct cvma_result *self_verify_mask(const uint8_t *p, size_t len, uint32_t mask)
{
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    struct cvma_eventlog_quoted q[CVMA_EVENTLOG_MAX_BANKS];
    struct cvma_result *res = calloc(1, sizeof *res);
    size_t n = 0;
    assert_non_null(rp);
    assert_non_null(res);
    cvma_result_init(res, "tpm", 0);
    assert_int_equal(cvma_eventlog_parse(p, len, CVMA_EVENTLOG_AUTO, &log, &res->verdict), CVMA_OK);
    cvma_eventlog_replay(&log, rp);
    for (size_t b = 0; b < log.n_banks; b++) {
        if (rp->valid[b]) {
            q[n].alg = log.banks[b].alg;
            q[n].mask = mask;
            memcpy(q[n].reg, rp->reg[b], sizeof q[n].reg);
            n++;
        }
    }
    cvma_eventlog_cleanup(&log);
    free(rp);
    cvma_eventlog_verify_pcrs(p, len, q, n, res);
    res->claims.verified = true;
    return res;
}

/* The same, but only the bank alg is quoted (as a TPM quoting its SHA-256 PCRs only). */
static struct cvma_result *self_verify_bank(const uint8_t *p, size_t len, uint16_t alg)
{
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    struct cvma_eventlog_quoted q;
    struct cvma_result *res = calloc(1, sizeof *res);
    assert_non_null(rp);
    assert_non_null(res);
    cvma_result_init(res, "tpm", 0);
    assert_int_equal(cvma_eventlog_parse(p, len, CVMA_EVENTLOG_AUTO, &log, &res->verdict), CVMA_OK);
    cvma_eventlog_replay(&log, rp);
    int b = cvma_eventlog_bank_index(&log, alg);
    assert_true(b >= 0 && rp->valid[b]);
    q.alg = alg;
    q.mask = 0xFFFFFFu;
    memcpy(q.reg, rp->reg[b], sizeof q.reg);
    cvma_eventlog_cleanup(&log);
    free(rp);
    cvma_eventlog_verify_pcrs(p, len, &q, 1, res);
    res->claims.verified = true;
    return res;
}

static struct cvma_result *self_verify(const uint8_t *p, size_t len)
{
    return self_verify_mask(p, len, 0xFFFFFFu);
}

/* Claims come only from the events of compared registers: a quote covering PCR 0..7 says
 * nothing about GRUB's PCR 8, so no kernel_cmdline claim is drawn from the log. */
static void test_eventlog_verify_claims_only_from_compared_pcrs(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    char *p = tu_path(tu_vectors(), "tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin");
    tu_read(p, &b);
    struct cvma_result *res = self_verify(b.p, b.len);
    assert_non_null(res->claims.eventlog);
    assert_true(json_is_string(json_object_get(res->claims.eventlog, "kernel_cmdline")));
    cvma_result_free(res);
    res = self_verify_mask(b.p, b.len, 0xFFu);
    assert_non_null(res->claims.eventlog);
    assert_true(json_is_null(json_object_get(res->claims.eventlog, "kernel_cmdline")));
    assert_true(json_array_size(json_object_get(res->claims.eventlog, "efi_boot_applications")) >
                0); /* PCR 4 */
    cvma_result_free(res);
    free(p);
    cvma_buf_free(&b);
}

/* A log of two banks, only SHA-256 quoted: the events keep only their SHA-256 digests (a SHA-1
 * digest the quote does not cover could be anything: a policy rule must not match it). */
static void test_eventlog_verify_only_quoted_banks_digests(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    char *p = tu_path(tu_vectors(), "tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin");
    tu_read(p, &b);
    struct cvma_result *res = self_verify_bank(b.p, b.len, CVMA_TPM_ALG_SHA256);
    const json_t *events = json_object_get(res->claims.eventlog, "measured_events");
    size_t i, sha256 = 0;
    json_t *ev;
    assert_true(json_array_size(events) > 0);
    json_array_foreach(events, i, ev)
    {
        const json_t *d = json_object_get(ev, "digests");
        assert_null(json_object_get(d, "sha1"));
        sha256 += json_object_get(d, "sha256") != NULL;
    }
    assert_int_equal(sha256, json_array_size(events));
    cvma_result_free(res);
    free(p);
    cvma_buf_free(&b);
}

/* The claims read event data that replay does not cover: every real log's variable and
 * command-line events hash to their digests; a log whose data was changed is refused. */
static void test_eventlog_verify_event_data_is_checked(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    /* Every log of tpm/eventlogs, then the GCP one. */
    for (size_t i = 0; i <= CVMA_ARRAY_LEN(tu_eventlogs); i++) {
        const char *rel = i < CVMA_ARRAY_LEN(tu_eventlogs) ? tu_eventlogs[i] : GCP "eventlog.bin";
        struct cvma_buf b;
        char *p = tu_path(tu_vectors(), rel);
        tu_read(p, &b);
        struct cvma_result *res = self_verify(b.p, b.len);
        if (cvma_verdict_has(&res->verdict, CVMA_R_EVENTLOG_EVENT_DATA_MISMATCH) ||
            res->claims.eventlog == NULL) {
            fail_msg("%s: %s", rel, errors(res));
        }
        cvma_result_free(res);
        free(p);
        cvma_buf_free(&b);
    }

    /* The GCE CCEL with one character of its kernel command line changed. */
    struct cvma_buf ccel;
    uint8_t rtmr[3][48], zero[4][48];
    char *cp = tu_path(tu_vectors(), CCEL);
    tu_read(cp, &ccel);
    ccel_rtmrs(&ccel, rtmr);
    memset(zero, 0, sizeof zero);
    memcpy(zero, rtmr, sizeof rtmr);
    const char *needle = "module.sig_enforce=1";
    uint8_t *at = NULL, *next = ccel.p; /* the last one: the kernel_cmdline event's */
    while ((next = memmem(next, ccel.len - (size_t)(next - ccel.p), needle, strlen(needle))) !=
           NULL) {
        at = next++;
    }
    assert_non_null(at);
    at[strlen(needle) - 1] = '0';
    struct cvma_result *res = calloc(1, sizeof *res);
    cvma_result_init(res, "tdx", 0);
    cvma_eventlog_verify_rtmrs(ccel.p, ccel.len, (const uint8_t(*)[48])zero, res);
    assert_false(cvma_verdict_has(&res->verdict, CVMA_R_EVENTLOG_REPLAY_MISMATCH));
    assert_true(cvma_verdict_has(&res->verdict, CVMA_R_EVENTLOG_EVENT_DATA_MISMATCH));
    assert_null(res->claims.eventlog);
    cvma_result_free(res);

    /* The GCP log with a byte of a measured variable's data changed (the SecureBoot one's
     * event is the first after the header: PCR 7). */
    struct cvma_buf log;
    char *lp = tu_path(tu_vectors(), GCP "eventlog.bin");
    tu_read(lp, &log);
    uint32_t hdr_data = (uint32_t)log.p[28] | (uint32_t)log.p[29] << 8 | (uint32_t)log.p[30] << 16 |
                        (uint32_t)log.p[31] << 24;
    size_t ev1 = 32 + hdr_data, ev1_size_at = ev1 + 28;
    uint32_t ev1_size = (uint32_t)log.p[ev1_size_at] | (uint32_t)log.p[ev1_size_at + 1] << 8 |
                        (uint32_t)log.p[ev1_size_at + 2] << 16 |
                        (uint32_t)log.p[ev1_size_at + 3] << 24;
    log.p[ev1_size_at + 4 + ev1_size - 1] ^= 1; /* the variable data's last byte */
    res = self_verify(log.p, log.len);
    assert_true(cvma_verdict_has(&res->verdict, CVMA_R_EVENTLOG_EVENT_DATA_MISMATCH));
    assert_null(res->claims.eventlog);
    cvma_result_free(res);

    free(lp);
    cvma_buf_free(&log);
    free(cp);
    cvma_buf_free(&ccel);
}

/* Appends a TCG_PCR_EVENT2 to a crypto-agile log: its digest in every bank of the log is the
 * hash of hashed[0..hn) (the event's data when hashed is NULL). */
static void append_event(struct cvma_buf *log, uint32_t pcr, uint32_t type, const void *data,
                         size_t n, const void *hashed, size_t hn)
{
    struct cvma_eventlog l;
    struct cvma_verdict v;
    uint8_t rec[4096];
    size_t o = 0;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(log->p, log->len, CVMA_EVENTLOG_AUTO, &l, &v), CVMA_OK);
    if (hashed == NULL) {
        hashed = data;
        hn = n;
    }
#define PUT32(x)                                  \
    do {                                          \
        uint32_t x_ = (x);                        \
        for (int k_ = 0; k_ < 4; k_++) {          \
            rec[o++] = (uint8_t)(x_ >> (8 * k_)); \
        }                                         \
    } while (0)
    PUT32(pcr);
    PUT32(type);
    PUT32((uint32_t)l.n_banks);
    for (size_t b = 0; b < l.n_banks; b++) {
        unsigned hl = 0;
        rec[o++] = (uint8_t)l.banks[b].alg;
        rec[o++] = (uint8_t)(l.banks[b].alg >> 8);
        assert_int_equal(
                EVP_Digest(hashed, hn, rec + o, &hl, cvma_eventlog_alg_md(l.banks[b].alg), NULL),
                1);
        o += hl;
    }
    PUT32((uint32_t)n);
#undef PUT32
    assert_true(o + n <= sizeof rec);
    memcpy(rec + o, data, n);
    o += n;
    /* the log's own end: a log padded after its last event gets the event at that end */
    size_t end = l.end;
    cvma_eventlog_cleanup(&l);
    cvma_verdict_cleanup(&v);
    uint8_t *q = realloc(log->p, end + o);
    assert_non_null(q);
    memcpy(q + end, rec, o);
    log->p = q;
    log->len = end + o;
}

/* UEFI_VARIABLE_DATA for an EFI global variable name (ASCII) with its data. */
static size_t efi_var(uint8_t *out, const char *name, const uint8_t *data, size_t n)
{
    static const uint8_t global[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                       0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
    size_t o = 0, nl = strlen(name);
    memcpy(out, global, 16);
    o = 16;
    for (int k = 0; k < 8; k++) {
        out[o++] = (uint8_t)((uint64_t)nl >> (8 * k));
    }
    for (int k = 0; k < 8; k++) {
        out[o++] = (uint8_t)((uint64_t)n >> (8 * k));
    }
    for (size_t i = 0; i < nl; i++) {
        out[o++] = (uint8_t)name[i];
        out[o++] = 0;
    }
    memcpy(out + o, data, n);
    return o + n;
}

/* The number of res's reasons of the code. */
static size_t count_reason(const struct cvma_result *res, enum cvma_reason code)
{
    size_t n = 0;
    for (size_t i = 0; i < res->verdict.n_reasons; i++) {
        n += res->verdict.reasons[i].code == code;
    }
    return n;
}

/* Appraises res with the policy text. */
static void appraise(struct cvma_result *res, const char *text)
{
    struct cvma_policy *pol = NULL;
    char err[256];
    if (cvma_policy_load_bytes((const uint8_t *)text, strlen(text), &pol, err, sizeof err) !=
        CVMA_OK) {
        fail_msg("policy: %s", err);
    }
    cvma_policy_appraise(pol, res);
    cvma_policy_free(pol);
}

/*
 * Each claim comes from the register its event is measured into, and the first such event: a
 * guest that can extend a quoted PCR after boot (PCR 23, PCR 8, PCR 7 after its separator)
 * must not turn Secure Boot on, replace the kernel command line or add a boot application,
 * even with events that replay. An authority event whose digest does not cover its data is
 * not claimed; a GPT event whose digest is not its data's hash is refused.
 */
static void test_eventlog_verify_claims_from_their_registers_only(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    char *p = tu_path(
            tu_vectors(),
            "tpm/eventlogs/goattestation-ubuntu_2104_shielded_vm_no_secure_boot_eventlog.bin");
    tu_read(p, &b);
    struct cvma_result *res = self_verify(b.p, b.len);
    json_t *c = claims_eventlog(res);
    assert_non_null(c);
    json_t *sb = json_object_get(c, "secure_boot");
    assert_true(json_is_false(json_object_get(sb, "enabled")));
    char *cmdline = strdup(json_string_value(json_object_get(c, "kernel_cmdline")));
    size_t apps = json_array_size(json_object_get(c, "efi_boot_applications"));
    size_t auths = json_array_size(json_object_get(sb, "authorities"));
    assert_non_null(cmdline);
    json_decref(c);
    cvma_result_free(res);

    uint8_t var[256], one = 1;
    size_t vn = efi_var(var, "SecureBoot", &one, 1);
    /* the same command line again, with GRUB's other prefix and a NUL: still one */
    char same[1024];
    int sl = snprintf(same, sizeof same, "grub_kernel_cmdline %s", cmdline);
    assert_true(sl > 0 && (size_t)sl < sizeof same);
    append_event(&b, 8, CVMA_EV_IPL, same, (size_t)sl + 1, cmdline, strlen(cmdline));
    res = self_verify(b.p, b.len);
    c = claims_eventlog(res);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "kernel_cmdline")), cmdline);
    json_decref(c);
    cvma_result_free(res);

    static const char fake_cmd[] = "kernel_cmdline: /vmlinuz module.sig_enforce=1";
    append_event(&b, 23, CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG, var, vn, NULL, 0);
    append_event(&b, 7, CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG, var, vn, NULL,
                 0);                              /* after PCR 7's separator */
    const size_t pl = strlen("kernel_cmdline: "); /* GRUB hashes the text after it */
    append_event(&b, 8, CVMA_EV_IPL, fake_cmd, sizeof fake_cmd - 1, fake_cmd + pl,
                 sizeof fake_cmd - 1 - pl);
    append_event(&b, 23, CVMA_EV_IPL, fake_cmd, sizeof fake_cmd - 1, fake_cmd + pl,
                 sizeof fake_cmd - 1 - pl);
    append_event(&b, 23, CVMA_EV_EFI_BOOT_SERVICES_APP, "app", 3, NULL, 0);
    /* authorities: one whose digest covers its data (claimed), one whose does not */
    uint8_t cert[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t avar[256];
    size_t an = efi_var(avar, "db", cert, sizeof cert);
    append_event(&b, 7, CVMA_EV_EFI_VARIABLE_AUTHORITY, avar, an, NULL, 0);
    append_event(&b, 7, CVMA_EV_EFI_VARIABLE_AUTHORITY, avar, an, "other", 5);
    res = self_verify(b.p, b.len);
    c = claims_eventlog(res);
    if (c == NULL) {
        fail_msg("no claims: %s", errors(res));
    }
    sb = json_object_get(c, "secure_boot");
    assert_true(json_is_false(json_object_get(sb, "enabled")));
    /* PCR 8 now holds two different command lines: neither is claimed, and a rule on the
     * command line fails */
    assert_true(json_is_null(json_object_get(c, "kernel_cmdline")));
    appraise(res, "{\"eventlog\": {\"kernel_cmdline_contains\": [\"module.sig_enforce=1\"]}}");
    TU_ASSERT_DETAIL(&res->verdict, CVMA_R_POLICY_KERNEL_CMDLINE, "several different");
    assert_int_equal(json_array_size(json_object_get(c, "efi_boot_applications")), apps);
    assert_int_equal(json_array_size(json_object_get(sb, "authorities")), auths + 1);
    json_decref(c);
    cvma_result_free(res);

    /* a GPT event (PCR 5) whose digest is not the hash of its data */
    uint8_t gpt[92 + 8] = {0};
    append_event(&b, 5, CVMA_EV_EFI_GPT_EVENT, gpt, sizeof gpt, "other", 5);
    res = self_verify(b.p, b.len);
    assert_true(cvma_verdict_has(&res->verdict, CVMA_R_EVENTLOG_EVENT_DATA_MISMATCH));
    assert_null(res->claims.eventlog);
    cvma_result_free(res);

    /* a quote covering no PCR: the log is compared with nothing, and says so */
    res = calloc(1, sizeof *res);
    assert_non_null(res);
    cvma_result_init(res, "tpm", 0);
    cvma_eventlog_verify_pcrs(b.p, b.len, NULL, 0, res);
    assert_true(cvma_verdict_has(&res->verdict, CVMA_R_EVENTLOG_NOT_COMPARED));
    assert_null(res->claims.eventlog);
    cvma_result_free(res);
    free(cmdline);
    free(p);
    cvma_buf_free(&b);
}

/* Every quoted PCR is one no event of the log extends (a log holding its header alone): each
 * is left out as EVENTLOG_PCR_NOT_IN_LOG, nothing is compared, and that is said, with no
 * claims. */
static void test_eventlog_verify_nothing_compared_gives_no_claims(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_eventlog log;
    struct cvma_eventlog_quoted q[CVMA_EVENTLOG_MAX_BANKS];
    size_t n = 0;
    char *p = tu_path(tu_vectors(), "tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin");
    tu_read(p, &b);
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    struct cvma_result *res = calloc(1, sizeof *res);
    assert_non_null(rp);
    assert_non_null(res);
    cvma_result_init(res, "tpm", 0);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_AUTO, &log, &res->verdict),
                     CVMA_OK);
    cvma_eventlog_replay(&log, rp);
    for (size_t k = 0; k < log.n_banks; k++) {
        if (rp->valid[k]) {
            q[n].alg = log.banks[k].alg;
            q[n].mask = rp->extended[k]; /* PCRs that do not hold their start value */
            assert_true(q[n].mask != 0);
            memcpy(q[n].reg, rp->reg[k], sizeof q[n].reg);
            n++;
        }
    }
    size_t header_only = log.events[1].offset; /* the Spec ID event alone */
    cvma_eventlog_cleanup(&log);
    free(rp);
    cvma_eventlog_verify_pcrs(b.p, header_only, q, n, res);
    assert_true(cvma_verdict_has(&res->verdict, CVMA_R_EVENTLOG_PCR_NOT_IN_LOG));
    assert_true(cvma_verdict_has(&res->verdict, CVMA_R_EVENTLOG_NOT_COMPARED));
    assert_null(res->claims.eventlog);
    cvma_result_free(res);
    free(p);
    cvma_buf_free(&b);
}

/*
 * eventlog.efi_boot_applications is an allowlist: a guest that booted another shim can extend
 * PCR 4 with the expected one's digest once it runs and log it, so the listed digests being
 * present proves nothing. Every boot application measured must be listed (an appended PCR 4
 * application is named by its digest), and a log that measured none fails too.
 */
static void test_eventlog_verify_boot_applications_are_an_allowlist(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    char *p = tu_path(tu_vectors(), "tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin");
    tu_read(p, &b);
    struct cvma_result *res = self_verify(b.p, b.len);
    const json_t *apps = json_object_get(res->claims.eventlog, "efi_boot_applications");
    size_t n_apps = json_array_size(apps), i;
    const json_t *app;
    char listed[4096] = "", text[8192];
    size_t used = 0;
    assert_true(n_apps >= 2);
    json_array_foreach(apps, i, app)
    {
        const char *h =
                json_string_value(json_object_get(json_object_get(app, "digests"), "sha256"));
        assert_non_null(h);
        used += (size_t)snprintf(listed + used, sizeof listed - used, "%s\"%s\"", i ? ", " : "", h);
        assert_true(used < sizeof listed);
    }
    snprintf(text, sizeof text, "{\"eventlog\": {\"efi_boot_applications\": [%s]}}", listed);
    appraise(res, text);
    assert_int_equal(count_reason(res, CVMA_R_POLICY_BOOT_APPLICATION), 0);
    cvma_result_free(res);

    /* Only the first listed: each of the others is named. */
    const char *first_end = strchr(listed + 1, '"');
    assert_non_null(first_end);
    snprintf(text, sizeof text, "{\"eventlog\": {\"efi_boot_applications\": [%.*s]}}",
             (int)(first_end - listed + 1), listed);
    res = self_verify(b.p, b.len);
    appraise(res, text);
    assert_int_equal(count_reason(res, CVMA_R_POLICY_BOOT_APPLICATION), n_apps - 1);
    cvma_result_free(res);

    /* A boot application appended to PCR 4 (what a running guest can do): every listed one is
     * still measured, yet the one not listed is refused by its digest. */
    static const char other[] = "another shim";
    uint8_t image_load[32] = {0}; /* UEFI_IMAGE_LOAD_EVENT with an empty device path */
    uint8_t h[32];
    char hex[65];
    unsigned hl = 0;
    assert_int_equal(EVP_Digest(other, strlen(other), h, &hl, EVP_sha256(), NULL), 1);
    cvma_hex_encode(h, sizeof h, hex, sizeof hex);
    append_event(&b, 4, CVMA_EV_EFI_BOOT_SERVICES_APP, image_load, sizeof image_load, other,
                 strlen(other));
    snprintf(text, sizeof text, "{\"eventlog\": {\"efi_boot_applications\": [%s]}}", listed);
    res = self_verify(b.p, b.len);
    assert_int_equal(
            json_array_size(json_object_get(res->claims.eventlog, "efi_boot_applications")),
            n_apps + 1);
    appraise(res, text);
    assert_int_equal(count_reason(res, CVMA_R_POLICY_BOOT_APPLICATION), 1);
    TU_ASSERT_DETAIL(&res->verdict, CVMA_R_POLICY_BOOT_APPLICATION, hex);
    cvma_result_free(res);

    /* PCR 4 not quoted: no boot application is claimed, and the rule cannot pass. */
    res = self_verify_mask(b.p, b.len, 0xFFFFFFu & ~(1u << 4));
    assert_int_equal(
            json_array_size(json_object_get(res->claims.eventlog, "efi_boot_applications")), 0);
    appraise(res, text);
    TU_ASSERT_DETAIL(&res->verdict, CVMA_R_POLICY_BOOT_APPLICATION,
                     "measured no EFI boot application");
    cvma_result_free(res);
    free(p);
    cvma_buf_free(&b);
}

/*
 * Rewrites event index (as the log numbers it) of a crypto-agile log: its type, and its data
 * when data is given (the digests are kept, so the log still replays). Returns the event's
 * register.
 */
static uint32_t relabel(struct cvma_buf *log, size_t index, uint32_t type, const void *data,
                        size_t n)
{
    struct cvma_eventlog l;
    struct cvma_verdict v;
    const struct cvma_eventlog_event *e = NULL;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(log->p, log->len, CVMA_EVENTLOG_AUTO, &l, &v), CVMA_OK);
    for (size_t i = 0; i < l.n_events; i++) {
        if (l.events[i].index == index) {
            e = &l.events[i];
        }
    }
    if (e == NULL) {
        fail_msg("no event %zu", index);
        return 0;
    }
    uint32_t pcr = e->pcr;
    size_t at = e->offset, data_at = (size_t)(e->data.p - l.raw.p), old_n = e->data.len;
    cvma_eventlog_cleanup(&l);
    cvma_verdict_cleanup(&v);
    for (int k = 0; k < 4; k++) {
        log->p[at + 4 + (size_t)k] = (uint8_t)(type >> (8 * k));
    }
    if (data == NULL) {
        return pcr;
    }
    uint8_t *q = malloc(log->len - old_n + n);
    assert_non_null(q);
    memcpy(q, log->p, data_at);
    for (int k = 0; k < 4; k++) {
        q[data_at - 4 + (size_t)k] = (uint8_t)((uint32_t)n >> (8 * k));
    }
    memcpy(q + data_at, data, n);
    memcpy(q + data_at + n, log->p + data_at + old_n, log->len - data_at - old_n);
    free(log->p);
    log->p = q;
    log->len = log->len - old_n + n;
    return pcr;
}

/* The index of the first event of the log in register pcr of type type whose data holds
 * needle (NULL: any), or SIZE_MAX. */
static size_t find_event(const struct cvma_buf *log, uint32_t pcr, uint32_t type,
                         const char *needle)
{
    struct cvma_eventlog l;
    struct cvma_verdict v;
    size_t found = SIZE_MAX;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(log->p, log->len, CVMA_EVENTLOG_AUTO, &l, &v), CVMA_OK);
    for (size_t i = 0; i < l.n_events && found == SIZE_MAX; i++) {
        const struct cvma_eventlog_event *e = &l.events[i];
        if (e->pcr == pcr && e->type == type &&
            (needle == NULL || memmem(e->data.p, e->data.len, needle, strlen(needle)) != NULL)) {
            found = e->index;
        }
    }
    cvma_eventlog_cleanup(&l);
    cvma_verdict_cleanup(&v);
    return found;
}

/* A copy of the data of event index of the log (*n: its length). */
static uint8_t *event_data(const struct cvma_buf *log, size_t index, size_t *n)
{
    struct cvma_eventlog l;
    struct cvma_verdict v;
    uint8_t *out = NULL;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(log->p, log->len, CVMA_EVENTLOG_AUTO, &l, &v), CVMA_OK);
    for (size_t i = 0; i < l.n_events; i++) {
        if (l.events[i].index == index) {
            *n = l.events[i].data.len;
            out = malloc(*n + 1);
            assert_non_null(out);
            memcpy(out, l.events[i].data.p, *n);
        }
    }
    assert_non_null(out);
    cvma_eventlog_cleanup(&l);
    cvma_verdict_cleanup(&v);
    return out;
}

/* The claims of log replayed against itself (claims.eventlog; fails when there are none). */
static json_t *self_claims(const struct cvma_buf *log)
{
    struct cvma_result *res = self_verify(log->p, log->len);
    json_t *c = claims_eventlog(res);
    if (c == NULL) {
        fail_msg("no claims: %s", errors(res));
    }
    cvma_result_free(res);
    return c;
}

/*
 * Replay covers each event's register and digests, not its type nor the prefix GRUB puts
 * before the text it measures: whoever hands over the log can relabel events, and a guest
 * that runs can extend the registers after boot. Neither turns Secure Boot on, replaces the
 * command line, drops a boot application from the allowlist's view or swaps the partition
 * table (the attacks a review made on the Ubuntu 21.04 log, which boots with Secure Boot off).
 */
static void test_eventlog_verify_relabelled_events_hide_nothing(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf orig, b;
    char *p = tu_path(
            tu_vectors(),
            "tpm/eventlogs/goattestation-ubuntu_2104_shielded_vm_no_secure_boot_eventlog.bin");
    tu_read(p, &orig);
    json_t *c = self_claims(&orig);
    size_t n_apps = json_array_size(json_object_get(c, "efi_boot_applications"));
    json_int_t gpt_event = json_integer_value(json_object_get(json_object_get(c, "gpt"), "event"));
    assert_true(n_apps >= 2 && gpt_event > 0);
    assert_true(json_is_false(json_object_get(json_object_get(c, "secure_boot"), "enabled")));
    char *cmdline = strdup(json_string_value(json_object_get(c, "kernel_cmdline")));
    json_decref(c);
    const size_t sb = find_event(&orig, 7, CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG, NULL);
    const size_t sep7 = find_event(&orig, 7, CVMA_EV_SEPARATOR, NULL);
    assert_true(sb != SIZE_MAX && sep7 != SIZE_MAX && sb < sep7);

    /* Secure Boot: the SecureBoot=0 event and PCR 7's separator relabelled, SecureBoot=1
     * appended to PCR 7: the separator is known by its digest, SecureBoot=0 by its data. */
    uint8_t var[256], one = 1;
    size_t vn = efi_var(var, "SecureBoot", &one, 1);
    b = (struct cvma_buf){malloc(orig.len), orig.len};
    assert_non_null(b.p);
    memcpy(b.p, orig.p, orig.len);
    relabel(&b, sb, CVMA_EV_EFI_VARIABLE_BOOT, NULL, 0);
    relabel(&b, sep7, EV_EFI_ACTION, NULL, 0);
    append_event(&b, 7, CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG, var, vn, NULL, 0);
    c = self_claims(&b);
    assert_true(json_is_false(json_object_get(json_object_get(c, "secure_boot"), "enabled")));
    json_decref(c);
    /* the SecureBoot=0 event's data changed as well (its digest then shows nothing): Secure
     * Boot's state is unknown, never on */
    relabel(&b, sb, CVMA_EV_EFI_VARIABLE_BOOT, "x", 1);
    struct cvma_result *res = self_verify(b.p, b.len);
    assert_true(json_is_null(
            json_object_get(json_object_get(res->claims.eventlog, "secure_boot"), "enabled")));
    appraise(res, "{\"eventlog\": {\"secure_boot\": true}}");
    assert_true(cvma_verdict_has(&res->verdict, CVMA_R_POLICY_SECURE_BOOT));
    cvma_result_free(res);
    cvma_buf_free(&b);

    /* The command line: GRUB's kernel_cmdline event relabelled as a command, another one
     * appended to PCR 8: the linux command that loaded the kernel still holds the real one,
     * so the two differ and none is claimed. */
    static const char fake[] = "kernel_cmdline: /vmlinuz root=/dev/sda1 module.sig_enforce=1";
    const size_t pl = strlen("kernel_cmdline: ");
    const size_t kc = find_event(&orig, 8, CVMA_EV_IPL, "kernel_cmdline: ");
    const size_t lc = find_event(&orig, 8, CVMA_EV_IPL, "grub_cmd: linux ");
    assert_true(kc != SIZE_MAX && lc != SIZE_MAX);
    /* the same text (and NUL, if any) after the other prefix */
    size_t kn = 0, cl = strlen("grub_cmd: ");
    uint8_t *kd = event_data(&orig, kc, &kn), text[2048];
    assert_true(kn > pl && kn - pl + cl <= sizeof text);
    memcpy(text, "grub_cmd: ", cl);
    memcpy(text + cl, kd + pl, kn - pl);
    size_t tl = cl + kn - pl;
    free(kd);
    b = (struct cvma_buf){malloc(orig.len), orig.len};
    assert_non_null(b.p);
    memcpy(b.p, orig.p, orig.len);
    relabel(&b, kc, CVMA_EV_IPL, text, tl);
    append_event(&b, 8, CVMA_EV_IPL, fake, sizeof fake - 1, fake + pl, sizeof fake - 1 - pl);
    res = self_verify(b.p, b.len);
    assert_non_null(res->claims.eventlog);
    assert_true(json_is_null(json_object_get(res->claims.eventlog, "kernel_cmdline")));
    appraise(res, "{\"eventlog\": {\"kernel_cmdline_contains\": [\"module.sig_enforce=1\"]}}");
    TU_ASSERT_DETAIL(&res->verdict, CVMA_R_POLICY_KERNEL_CMDLINE, "absent");
    cvma_result_free(res);
    /* the linux command hidden too (another type, data its digest is not the hash of), and
     * a linux command of the fake appended: an event of PCR 8 shows nothing, none claimed */
    relabel(&b, lc, EV_EFI_ACTION, "x", 1);
    relabel(&b, kc, EV_EFI_ACTION, "y", 1);
    static const char fake_cmd[] = "grub_cmd: linux /vmlinuz root=/dev/sda1 module.sig_enforce=1";
    append_event(&b, 8, CVMA_EV_IPL, fake_cmd, sizeof fake_cmd - 1, fake_cmd + cl,
                 sizeof fake_cmd - 1 - cl);
    c = self_claims(&b);
    assert_true(json_is_null(json_object_get(c, "kernel_cmdline")));
    json_decref(c);
    cvma_buf_free(&b);

    /* A boot application relabelled as an action: still a boot application (its digest is
     * not the hash of its data), so the allowlist still sees it. */
    const size_t app = find_event(&orig, 4, CVMA_EV_EFI_BOOT_SERVICES_APP, NULL);
    assert_true(app != SIZE_MAX);
    b = (struct cvma_buf){malloc(orig.len), orig.len};
    assert_non_null(b.p);
    memcpy(b.p, orig.p, orig.len);
    relabel(&b, app, EV_EFI_ACTION, "Calling EFI Application from Boot Option", 40);
    c = self_claims(&b);
    assert_int_equal(json_array_size(json_object_get(c, "efi_boot_applications")), n_apps);
    json_decref(c);
    /* nor as a separator: a separator is known by its digest alone */
    relabel(&b, app, CVMA_EV_SEPARATOR, NULL, 0);
    c = self_claims(&b);
    assert_int_equal(json_array_size(json_object_get(c, "efi_boot_applications")), n_apps);
    json_decref(c);
    /* nor as an action whose data is what its digest is the hash of: an application's
     * Authenticode hash is the hash of one byte string (ranges of its PE file), which is not
     * text; only text measured as it is (an action string) is not an application */
    static const uint8_t pe_ranges[] = {'M', 'Z', 0x90, 0x00, 0x03, 0x00, 0x00, 0x00,
                                        'P', 'E', 0x00, 0x00, 0x64, 0x86, 0x02, 0x00};
    append_event(&b, 4, EV_EFI_ACTION, pe_ranges, sizeof pe_ranges, NULL, 0);
    c = self_claims(&b);
    assert_int_equal(json_array_size(json_object_get(c, "efi_boot_applications")), n_apps + 1);
    json_decref(c);
    static const char action[] = "Exit Boot Services Invocation";
    append_event(&b, 4, EV_EFI_ACTION, action, sizeof action - 1, NULL, 0);
    c = self_claims(&b);
    assert_int_equal(json_array_size(json_object_get(c, "efi_boot_applications")), n_apps + 1);
    json_decref(c);
    cvma_buf_free(&b);

    /* The partition table relabelled: still read, by its data; with its data changed too and
     * another appended, none is claimed (the first may be hidden). */
    b = (struct cvma_buf){malloc(orig.len), orig.len};
    assert_non_null(b.p);
    memcpy(b.p, orig.p, orig.len);
    relabel(&b, (size_t)gpt_event, EV_EFI_ACTION, NULL, 0);
    c = self_claims(&b);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "gpt"), "event")),
                     gpt_event);
    json_decref(c);
    uint8_t gpt[92 + 8] = {'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T'};
    gpt[84] = 128; /* SizeOfPartitionEntry (no entries) */
    relabel(&b, (size_t)gpt_event, EV_EFI_ACTION, "z", 1);
    append_event(&b, 5, CVMA_EV_EFI_GPT_EVENT, gpt, sizeof gpt, NULL, 0);
    c = self_claims(&b);
    assert_true(json_is_null(json_object_get(c, "gpt")));
    json_decref(c);
    cvma_buf_free(&b);

    free(cmdline);
    cvma_buf_free(&orig);
    free(p);
}

/*
 * Secure Boot's state is known only from PCR 7 before a separator, with nothing before the
 * SecureBoot variable that could be it in disguise: in a log whose PCR 7 has no separator a
 * guest could have added SecureBoot=1 once it ran, and an event before it whose digest shows
 * nothing (the real SecureBoot=0, its data changed and relabelled) could be the first one.
 */
static void test_eventlog_verify_secure_boot_needs_a_separator(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf orig;
    char *p = tu_path(
            tu_vectors(),
            "tpm/eventlogs/goattestation-ubuntu_2104_shielded_vm_no_secure_boot_eventlog.bin");
    tu_read(p, &orig);
    /* its header alone (TCG_PCR_EVENT: PCR, type, SHA-1 digest, size, data) */
    assert_true(orig.len >= 32);
    size_t hl = 32 + ((size_t)orig.p[28] | (size_t)orig.p[29] << 8 | (size_t)orig.p[30] << 16 |
                      (size_t)orig.p[31] << 24);
    assert_true(hl <= orig.len);
    uint8_t on[256], off[256], one = 1, zero = 0;
    size_t onl = efi_var(on, "SecureBoot", &one, 1), offl = efi_var(off, "SecureBoot", &zero, 1);
    static const uint8_t sep[4] = {0};
    for (int hidden = 0; hidden < 2; hidden++) {
        struct cvma_buf b = {malloc(hl), hl};
        assert_non_null(b.p);
        memcpy(b.p, orig.p, hl);
        if (hidden) {
            append_event(&b, 7, EV_EFI_ACTION, "junk", 4, off, offl);
        }
        append_event(&b, 7, CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG, on, onl, NULL, 0);
        json_t *c = self_claims(&b);
        if (!json_is_null(json_object_get(json_object_get(c, "secure_boot"), "enabled"))) {
            fail_msg("SecureBoot=1 in a PCR 7 without a separator%s is claimed",
                     hidden ? " (after an event hiding another)" : "");
        }
        json_decref(c);
        append_event(&b, 7, CVMA_EV_SEPARATOR, sep, sizeof sep, NULL, 0);
        c = self_claims(&b);
        json_t *en = json_object_get(json_object_get(c, "secure_boot"), "enabled");
        if (hidden ? !json_is_null(en) : !json_is_true(en)) {
            fail_msg("SecureBoot=1 before PCR 7's separator%s: enabled %s",
                     hidden ? " after an event that could hide SecureBoot=0" : "",
                     json_is_null(en)   ? "null"
                     : json_is_true(en) ? "true"
                                        : "false");
        }
        json_decref(c);
        cvma_buf_free(&b);
    }
    cvma_buf_free(&orig);
    free(p);
}

/* GRUB quotes an argument holding a space in the command line it passes (COS's dm="..."),
 * where the linux command it measured holds it bare: the same line, claimed. */
static void test_eventlog_verify_cmdline_with_grub_quoting(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    char *p = tu_path(tu_vectors(), "tpm/eventlogs/gotpmtools-cos-101-amd-sev.bin");
    tu_read(p, &b);
    json_t *c = self_claims(&b);
    const char *cl = json_string_value(json_object_get(c, "kernel_cmdline"));
    assert_non_null(cl);
    assert_non_null(strstr(cl, " \"dm=1 vroot none ro 1,"));
    json_decref(c);
    cvma_buf_free(&b);
    free(p);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++) {
        p[k] = (uint8_t)(v >> (8 * k));
    }
}

/*
 * A crypto-agile log of one bank (SHA-256, or SHA-384 for a CCEL) holding GRUB's text events
 * into register reg: each text whole, with a NUL, its digest the hash of what follows its
 * prefix ("grub_cmd: " or "kernel_cmdline: "), as GRUB measures them.
 */
static void tiny_grub_log(struct cvma_buf *out, bool ccel, uint32_t reg, const char *const *texts,
                          size_t n)
{
    static const char spec[] = "Spec ID Event03";
    const uint16_t alg = ccel ? 0x000C : 0x000B;
    const size_t dl = ccel ? 48 : 32;
    uint8_t *b = calloc(1, 8192), *q = b;
    assert_non_null(b);
    /* the header event (TCG_PCR_EVENT, SHA-1 form): EV_NO_ACTION and the Spec ID Event */
    uint8_t sid[64] = {0};
    size_t sl = 0;
    memcpy(sid, spec, sizeof spec); /* with its NUL: 16 bytes */
    sl = 16 + 4;                    /* platformClass 0 */
    sid[sl++] = 0;                  /* minor */
    sid[sl++] = 2;                  /* major */
    sid[sl++] = 0;                  /* errata */
    sid[sl++] = 2;                  /* uintnSize */
    put_le32(sid + sl, 1);
    sl += 4;
    sid[sl++] = (uint8_t)alg;
    sid[sl++] = (uint8_t)(alg >> 8);
    sid[sl++] = (uint8_t)dl;
    sid[sl++] = 0;
    sid[sl++] = 0; /* vendorInfoSize */
    put_le32(q, 0);
    put_le32(q + 4, 3); /* EV_NO_ACTION */
    q += 8 + 20;
    put_le32(q, (uint32_t)sl);
    memcpy(q + 4, sid, sl);
    q += 4 + sl;
    for (size_t i = 0; i < n; i++) {
        const char *t = texts[i], *hashed = strchr(t, ':') + 2;
        size_t tl = strlen(t) + 1;
        assert_true((size_t)(q - b) + 14 + dl + 4 + tl < 8192);
        put_le32(q, reg);
        put_le32(q + 4, CVMA_EV_IPL);
        put_le32(q + 8, 1);
        q[12] = (uint8_t)alg;
        q[13] = (uint8_t)(alg >> 8);
        q += 14;
        if (ccel) {
            SHA384((const unsigned char *)hashed, strlen(hashed), q);
        } else {
            SHA256((const unsigned char *)hashed, strlen(hashed), q);
        }
        q += dl;
        put_le32(q, (uint32_t)tl);
        memcpy(q + 4, t, tl);
        q += 4 + tl;
    }
    out->p = b;
    out->len = (size_t)(q - b);
}

/* No command line is claimed when the log cannot show the one the kernel got: a chainloader
 * (its load options are an EFI stub kernel's command line, and no kernel_cmdline event shows
 * them), a byte the kernel splits at but a policy rule would not (\v, \f, \r, 0xA0), or a
 * CCEL (its RTMR 2 may hold measurements whose data shows nothing). The same lines without
 * any of these are claimed. */
static void test_eventlog_verify_cmdline_not_claimed_when_unsure(void **state)
{
    (void)state;
    struct cvma_buf b;
    static const char *const plain[] = {"grub_cmd: linux /vmlinuz ro init=/sbin/init",
                                        "kernel_cmdline: /vmlinuz ro init=/sbin/init"};
    tiny_grub_log(&b, false, 8, plain, 2);
    json_t *c = self_claims(&b);
    assert_string_equal(json_string_value(json_object_get(c, "kernel_cmdline")),
                        "/vmlinuz ro init=/sbin/init");
    json_decref(c);
    cvma_buf_free(&b);

    static const char *const chained[] = {"grub_cmd: linux /vmlinuz ro init=/sbin/init",
                                          "kernel_cmdline: /vmlinuz ro init=/sbin/init",
                                          "grub_cmd: chainloader /vmlinuz ro init=/bin/sh"};
    tiny_grub_log(&b, false, 8, chained, 3);
    c = self_claims(&b);
    assert_true(json_is_null(json_object_get(c, "kernel_cmdline")));
    json_decref(c);
    cvma_buf_free(&b);

    static const char *const seps[] = {"\v", "\f", "\r", "\xa0"};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(seps); i++) {
        char l1[128], l2[128];
        snprintf(l1, sizeof l1, "grub_cmd: linux /vmlinuz ro init=/sbin/init quiet%sinit=/bin/sh",
                 seps[i]);
        snprintf(l2, sizeof l2, "kernel_cmdline: /vmlinuz ro init=/sbin/init quiet%sinit=/bin/sh",
                 seps[i]);
        const char *const odd[] = {l1, l2};
        tiny_grub_log(&b, false, 8, odd, 2);
        struct cvma_result *res = self_verify(b.p, b.len);
        assert_true(json_is_null(json_object_get(res->claims.eventlog, "kernel_cmdline")));
        appraise(res, "{\"eventlog\": {\"kernel_cmdline_contains\": [\"init=/sbin/init\"]}}");
        assert_true(cvma_verdict_has(&res->verdict, CVMA_R_POLICY_KERNEL_CMDLINE));
        cvma_result_free(res);
        cvma_buf_free(&b);
    }

    /* a CCEL of GRUB's two events alone in RTMR 2 (CC-MR 3), against a quote that has them */
    TU_NEED_VECTORS();
    uint8_t rtmr[3][48];
    char *dir = tu_tmpdir();
    tiny_grub_log(&b, true, 3, plain, 2);
    ccel_rtmrs(&b, rtmr);
    char *bp = tdx_bundle(dir, rtmr, &b);
    char *root = tu_path(dir, "root_ca.pem");
    struct cvma_result *res = verify(root, bp, false);
    assert_false(cvma_result_has_reason(res, "EVENTLOG_REPLAY_MISMATCH"));
    json_t *e = claims_eventlog(res);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "format")), "ccel");
    assert_true(json_is_null(json_object_get(e, "kernel_cmdline")));
    json_decref(e);
    cvma_result_free(res);
    cvma_buf_free(&b);
    tu_rmtree(dir);
    free(root);
    free(bp);
    free(dir);
}

/* Whether the log b, quoted in every bank (alg 0) or in the bank alg alone, meets the
 * eventlog.required_events rule (its JSON text): no POLICY_REQUIRED_EVENT. */
static bool required_event_met(const struct cvma_buf *b, uint16_t alg, const char *rule)
{
    char text[512];
    struct cvma_result *res =
            alg == 0 ? self_verify(b->p, b->len) : self_verify_bank(b->p, b->len, alg);
    if (res->claims.eventlog == NULL) {
        fail_msg("no claims: %s", errors(res));
    }
    snprintf(text, sizeof text, "{\"eventlog\": {\"required_events\": [%s]}}", rule);
    appraise(res, text);
    bool met = !cvma_verdict_has(&res->verdict, CVMA_R_POLICY_REQUIRED_EVENT);
    cvma_result_free(res);
    return met;
}

/*
 * eventlog.required_events matches an event by its register, its type, and a digest of the
 * rule's length (a SHA-1 digest that is the first 20 bytes of the rule's SHA-256 one is no
 * match) in a bank the quote covers. before_separator: the register's first separator is
 * known by its digest, of 00000000 or of FFFFFFFF (the error separator), and an event after
 * it never counts, even when another separator follows. PCR 7 here holds, after the log's
 * header alone: "early", the FFFFFFFF separator, "between", the 00000000 separator, "late".
 */
static void test_eventlog_verify_required_events_matching(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_buf b;
    struct cvma_eventlog log;
    struct cvma_verdict v;
    static const uint8_t zeros[4] = {0, 0, 0, 0}, ones[4] = {0xff, 0xff, 0xff, 0xff};
    uint8_t h1[SHA_DIGEST_LENGTH], h256[SHA256_DIGEST_LENGTH];
    char h1hex[41], h256hex[65], rule[256];
    char *p = tu_path(tu_vectors(), "tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin");
    tu_read(p, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_AUTO, &log, &v), CVMA_OK);
    assert_true(cvma_eventlog_bank_index(&log, CVMA_TPM_ALG_SHA1) >= 0);
    b.len = log.events[1].offset; /* the Spec ID event alone */
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
    append_event(&b, 7, EV_EFI_ACTION, "early", 5, NULL, 0);
    append_event(&b, 7, CVMA_EV_SEPARATOR, ones, sizeof ones, NULL, 0);
    append_event(&b, 7, EV_EFI_ACTION, "between", 7, NULL, 0);
    append_event(&b, 7, CVMA_EV_SEPARATOR, zeros, sizeof zeros, NULL, 0);
    append_event(&b, 7, EV_EFI_ACTION, "late", 4, NULL, 0);

    /* register and type */
    assert_true(required_event_met(
            &b, 0, "{\"pcr\": 7, \"type\": \"EV_EFI_ACTION\", \"data\": \"late\"}"));
    assert_false(
            required_event_met(&b, 0, "{\"pcr\": 7, \"type\": \"EV_IPL\", \"data\": \"late\"}"));
    assert_false(required_event_met(&b, 0, "{\"pcr\": 6, \"data\": \"late\"}"));

    /* digests: of the rule's length, in a bank the quote covers */
    SHA1((const unsigned char *)"early", 5, h1);
    SHA256((const unsigned char *)"early", 5, h256);
    cvma_hex_encode(h1, sizeof h1, h1hex, sizeof h1hex);
    cvma_hex_encode(h256, sizeof h256, h256hex, sizeof h256hex);
    snprintf(rule, sizeof rule, "{\"pcr\": 7, \"digest\": \"%s\"}", h256hex);
    assert_true(required_event_met(&b, 0, rule));
    snprintf(rule, sizeof rule, "{\"pcr\": 7, \"digest\": \"%s\"}", h1hex);
    assert_true(required_event_met(&b, 0, rule));
    assert_false(required_event_met(&b, CVMA_TPM_ALG_SHA256, rule)); /* SHA-1 not quoted */
    snprintf(rule, sizeof rule, "{\"pcr\": 7, \"digest\": \"%sabababababababababababab\"}", h1hex);
    assert_false(required_event_met(&b, 0, rule)); /* the SHA-1 digest, then 12 other bytes */

    /* before_separator: the first separator is the FFFFFFFF one */
    assert_true(required_event_met(
            &b, 0, "{\"pcr\": 7, \"data\": \"early\", \"before_separator\": true}"));
    assert_false(required_event_met(
            &b, 0, "{\"pcr\": 7, \"data\": \"between\", \"before_separator\": true}"));
    assert_false(required_event_met(
            &b, 0, "{\"pcr\": 7, \"data\": \"late\", \"before_separator\": true}"));
    assert_true(required_event_met(&b, 0, "{\"pcr\": 7, \"data\": \"between\"}"));
    free(p);
    cvma_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_eventlog_verify_tdx_ccel_replays_to_the_quote),
            cmocka_unit_test(test_eventlog_verify_tpm_log_replays_to_the_covered_pcrs),
            cmocka_unit_test(test_eventlog_verify_tpm_pcr_not_in_log_is_not_compared),
            cmocka_unit_test(test_eventlog_verify_policy_on_tpm_pcrs_and_log),
            cmocka_unit_test(test_eventlog_verify_policy_on_tdx_rtmrs_and_ccel),
            cmocka_unit_test(test_eventlog_verify_snp_bundle_log_is_not_used),
            cmocka_unit_test(test_eventlog_verify_event_data_is_checked),
            cmocka_unit_test(test_eventlog_verify_claims_only_from_compared_pcrs),
            cmocka_unit_test(test_eventlog_verify_only_quoted_banks_digests),
            cmocka_unit_test(test_eventlog_verify_claims_from_their_registers_only),
            cmocka_unit_test(test_eventlog_verify_nothing_compared_gives_no_claims),
            cmocka_unit_test(test_eventlog_verify_boot_applications_are_an_allowlist),
            cmocka_unit_test(test_eventlog_verify_relabelled_events_hide_nothing),
            cmocka_unit_test(test_eventlog_verify_secure_boot_needs_a_separator),
            cmocka_unit_test(test_eventlog_verify_cmdline_with_grub_quoting),
            cmocka_unit_test(test_eventlog_verify_cmdline_not_claimed_when_unsure),
            cmocka_unit_test(test_eventlog_verify_required_events_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
