/* Event logs: real logs replay to the values their sources state; malformed logs by name. */
#include <openssl/evp.h>

#include "eventlog/eventlog.h"
#include "tdx/tdx.h"
#include "testutil.h"
#include "tu_vectors.h"

/* ---- helpers ---- */

static void load_log(const char *rel, enum cvma_eventlog_format f, struct cvma_eventlog *log,
                     struct cvma_verdict *v)
{
    char *path = tu_path(tu_vectors(), rel);
    struct cvma_buf b;
    tu_read(path, &b);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, f, log, v), CVMA_OK);
    assert_false(cvma_verdict_has_error(v));
    cvma_buf_free(&b);
    free(path);
}

static void set_reg(struct cvma_eventlog_quoted *q, unsigned idx, const char *hex)
{
    size_t got = 0;
    assert_true(cvma_hex_decode(hex, q->reg[idx], sizeof q->reg[idx], &got));
    q->mask |= 1u << idx;
}

/*
 * Expected PCR values, as stated by the upstream tests that ship these logs: go-tpm-tools'
 * server/eventlog_test.go (Rhel8GCE, COS101AmdSev, Ubuntu2104NoSecureBootGCE) and its
 * Ubuntu 24.04 SEV-SNP test bank (getTPMELEvents).
 */
struct expected_log {
    const char *file;
    uint16_t alg;
    const char *pcr[24];
};

static const struct expected_log expected[] = {
        {"tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin",
         CVMA_TPM_ALG_SHA256,
         {[0] = "50597a27846e91d025eef597abbc89f72bff9af849094db97b0684d8bc4c515e",
          [1] = "57344e1cc8c6619413df33013a7cd67915459f967395af41db21c1fa7ca9c307",
          [2] = "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
          [3] = "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
          [4] = "abe8b3fa6aecb36c2fd93c6f6edde661c21b353d007410a2739d69bfa7e1b9be",
          [5] = "0b0e1903aeb1bff649b82dba2cdcf5c4ffb75027e54f151ab00b3b989f16a300",
          [6] = "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
          [7] = "33ad69850fb2c7f30b4f8b4bc10ed93fc954dc07fa726e84f50f3d192dc1c140",
          [8] = "6932a3f71dc55ad3c1a6ac2196eeac26a1b7164b6bbfa106625d94088ec3ecc3",
          [9] = "ce08798b283c7a0ddc5e9ad1d602304b945b741fc60c20e254eafa0f4782512b",
          [14] = "306f9d8b94f17d93dc6e7cf8f5c79d652eb4c6c4d13de2dddc24af416e13ecaf"}},
        {"tpm/eventlogs/gotpmtools-rhel8-uefi.bin",
         CVMA_TPM_ALG_SHA1,
         {[0] = "0f2d3a2a1adaa479aeeca8f5df76aadc41b862ea",
          [1] = "5cc549378bafaa92e965c7e9c287925cfff33abd",
          [2] = "b2a83b0ebf2f8374299a5b2bdfc31ea955ad7236",
          [4] = "7fbe2df30156ca4934109f48d850ab327110f8fa",
          [5] = "3258daa13f4cccf245c170481c76e2a4602e5a7b",
          [7] = "d7a632f8990b2171e987041b0a3c69fc1b2a4f27",
          [8] = "15aab2077008f8325e7c61ee39fedd7118aad5d7",
          [9] = "25de9455ef4e8180b76bbb9bb54a82f9a73abb0a",
          [14] = "1f5149668c40524e01be9cbc3ad527645943f148"}},
        {"tpm/eventlogs/gotpmtools-rhel8-uefi.bin",
         CVMA_TPM_ALG_SHA256,
         {[0] = "24af52a4f429b71a3184a6d64cddad17e54ea030e2aa6576bf3a5a3d8bd3328f",
          [1] = "454220afaa80c83c3839f6cccd8b3c88bf4f562316a9dda1121c578c9e005a53",
          [4] = "758a3d35f1b0ff5b135dacd07db0c8132c0ac665d944090d4bf96e66447a245c",
          [5] = "53d0ee36163219201e686167bbb71ec505b3ba2917b9d9183ed84aad26cfeb89",
          [7] = "5fd54361d580eb7592adb8deb236ff35444ceeac7148f24b3de63c041f12b3da",
          [8] = "25c3874041ebd4e9a21b6ed71b624a7bfa99907a8dcea7f129a4c64cbaf5829a",
          [9] = "d43b2f61eb18b4791812ff5f20ab20e4ef621ba683370bedf5dbdf518b3a8078",
          [14] = "d8f57ebcc1a23cc46832696e1a657f720e1be8f5b405bb7204682114e363b455"}},
        {"tpm/eventlogs/gotpmtools-cos-101-amd-sev.bin",
         CVMA_TPM_ALG_SHA256,
         {[0] = "0f35c214608d93c7a6e68ae7359b4a8be5a0e99eea9107ece427c4dea4e439cf",
          [1] = "6eb40f5b6bfafcb9914d486ce59404acd24bc13a6a3c45cda3b44c9d7053d638",
          [4] = "6d9f1a1d461cf77517e8d4c488c53f338a71c5a8e2b81ab7011c14f72cbc9a80",
          [5] = "d1a1ab23a5c3d98fbacff3891bad42d8e9257d61e1f683f42c6c9fa949bf96c5",
          [7] = "2bc6edaa921f953cec0ffb28dad4f87114886603d6a782036502d28e69d97a48",
          [8] = "ebb7c847c4ade99849bcffca236d32331224a530087a7ae4cb9f7db4c2e571b5",
          [9] = "b5ad662e5eb9165825ee39ad66e851a67a193e0b87b27858f25ac58afa72ac57",
          [14] = "d0d95459205afae879514db7b85630f5d6b8272ed8c731bf92933dbc9fe99969"}},
        {"tpm/eventlogs/gotpmtools-cos-101-amd-sev.bin",
         CVMA_TPM_ALG_SHA1,
         {[0] = "c032c3b51dbb6f96b047421512fd4b4dfde496f3",
          [4] = "1ebe08ea6c45e0dfbd2aad903d2e0d3ab69fd7ad",
          [8] = "a243d82bd1fa01ae487b7ba77dd73ebb7a17800a",
          [14] = "1ba610b2d80967338649a8f88f45810448814bfc"}},
        {"tpm/eventlogs/goattestation-ubuntu_2104_shielded_vm_no_secure_boot_eventlog.bin",
         CVMA_TPM_ALG_SHA256,
         {[0] = "24af52a4f429b71a3184a6d64cddad17e54ea030e2aa6576bf3a5a3d8bd3328f",
          [1] = "45ed8540f34db53220ef197e5fb8a3835b2095454349e445f397f13d91c509a5",
          [4] = "ebc7ae25d0347868250995c9a8fff16bf79e048453262d0ef2756e213c76181c",
          [5] = "47715f9f2c10769da6ee23be5633fd88e247caf162f4eeb0b6f8482ccfeadfb5",
          [7] = "0d8847bc5eca06452df10e2f214363845c7ac11d47525a5474e225e72ce25dfe",
          [8] = "b9a324947de94ec2fd4b04483ecfcb37dfdd520a7c0ecf73c77bf2595549c84f",
          [9] = "adb87be3efd96cc3a2f66b8aa7564f9727563ef494a95d571a3f38ff4afb25dd",
          [14] = "8351c65483c5419079e8c96758dd2130bee075d71fea226f68ec4eb5bfc71983"}},
};

static void test_eventlog_real_logs_replay_to_their_stated_pcrs(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    for (size_t k = 0; k < CVMA_ARRAY_LEN(expected); k++) {
        struct cvma_eventlog log;
        struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
        struct cvma_eventlog_quoted q;
        struct cvma_verdict v;
        assert_non_null(rp);
        memset(&q, 0, sizeof q);
        q.alg = expected[k].alg;
        for (unsigned i = 0; i < 24; i++) {
            if (expected[k].pcr[i] != NULL) {
                set_reg(&q, i, expected[k].pcr[i]);
            }
        }
        cvma_verdict_init(&v);
        load_log(expected[k].file, CVMA_EVENTLOG_AUTO, &log, &v);
        assert_int_equal(log.format, CVMA_EVENTLOG_TCG);
        cvma_eventlog_replay(&log, rp);
        if (cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v) != CVMA_OK) {
            fail_msg("%s: %s", expected[k].file, v.reasons[v.n_reasons - 1].detail);
        }
        cvma_eventlog_cleanup(&log);
        cvma_verdict_cleanup(&v);
        free(rp);
    }
}

/* Every log in tpm/eventlogs parses without an error and replays every bank it announces. */
static void test_eventlog_every_shared_log_parses_and_replays(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    for (size_t k = 0; k < CVMA_ARRAY_LEN(tu_eventlogs); k++) {
        struct cvma_eventlog log;
        struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
        struct cvma_verdict v;
        assert_non_null(rp);
        cvma_verdict_init(&v);
        load_log(tu_eventlogs[k], CVMA_EVENTLOG_AUTO, &log, &v);
        cvma_eventlog_replay(&log, rp);
        for (size_t b = 0; b < log.n_banks; b++) {
            assert_true(rp->valid[b]);
            assert_true(rp->extended[b] & (1u << 7)); /* every one measures Secure Boot */
        }
        json_t *c = cvma_eventlog_claims_json(&log);
        assert_non_null(c);
        assert_true(json_array_size(
                            json_object_get(json_object_get(c, "secure_boot"), "variables")) > 0);
        json_decref(c);
        cvma_eventlog_cleanup(&log);
        cvma_verdict_cleanup(&v);
        free(rp);
    }
}

/* The GCP Windows quote set: a legacy SHA-1 log and the 24 SHA-1 PCRs its quote covers. */
static void test_eventlog_sha1_log_replays_to_quoted_pcrs(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    struct cvma_eventlog_quoted q;
    struct cvma_verdict v;
    char *path = tu_path(tu_vectors(), "tpm/gcp-windows-quote-goattestation/pcrs_sha1.json");
    json_t *pcrs = json_load_file(path, 0, NULL);
    const char *k;
    json_t *val;
    assert_non_null(rp);
    assert_non_null(pcrs);
    memset(&q, 0, sizeof q);
    q.alg = CVMA_TPM_ALG_SHA1;
    json_object_foreach(pcrs, k, val)
    {
        set_reg(&q, (unsigned)strtoul(k, NULL, 10), json_string_value(val));
    }
    assert_int_equal(q.mask, 0xFFFFFFu);
    cvma_verdict_init(&v);
    load_log("tpm/gcp-windows-quote-goattestation/eventlog.bin", CVMA_EVENTLOG_AUTO, &log, &v);
    assert_int_equal(log.format, CVMA_EVENTLOG_TCG_SHA1);
    cvma_eventlog_replay(&log, rp);
    assert_int_equal(cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v), CVMA_OK);
    /* One byte of PCR 12 changed: refused, naming the bank and the first event extending it. */
    q.reg[12][0] ^= 1;
    assert_int_equal(cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_REPLAY_MISMATCH, "sha1 bank: PCR 12 differs"));
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_REPLAY_MISMATCH, "in PCR 12"));
    /* the log cannot tell which event is false: the detail says where to start looking */
    TU_ASSERT_DETAIL(&v, CVMA_R_EVENTLOG_REPLAY_MISMATCH, "; first event extending it: #");
    /* and PCR 13 as well: the first event extending either of them */
    q.reg[13][0] ^= 1;
    cvma_verdict_cleanup(&v);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v), CVMA_REJECTED);
    TU_ASSERT_DETAIL(&v, CVMA_R_EVENTLOG_REPLAY_MISMATCH, "PCR 12, 13 differ from the quote");
    TU_ASSERT_DETAIL(&v, CVMA_R_EVENTLOG_REPLAY_MISMATCH, "; first event extending them: #");
    json_decref(pcrs);
    free(path);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
    free(rp);
}

static void load_quote(const char *rel, struct cvma_tdx_quote *q)
{
    char *path = tu_path(tu_vectors(), rel);
    struct cvma_buf b;
    struct cvma_verdict v;
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = true};
    tu_read(path, &b);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_tdx_quote_parse(b.p, b.len, &po, q, &v), CVMA_OK);
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&b);
    free(path);
}

/* The GCE TDX CCEL replays to RTMR 0..2 of its quote (CC-MR index i = RTMR i-1). */
static void test_eventlog_ccel_replays_to_its_quote_rtmrs(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    struct cvma_verdict v;
    assert_non_null(rp);
    assert_non_null(q);
    cvma_verdict_init(&v);
    load_log("tdx/v4-gce-ccel-gotdxguest/ccel_data.dat", CVMA_EVENTLOG_AUTO, &log, &v);
    assert_int_equal(log.format, CVMA_EVENTLOG_CCEL);
    assert_true(cvma_verdict_has(&v, CVMA_R_EVENTLOG_PADDING)); /* 0xFF to 256 KiB */
    load_quote("tdx/v4-gce-ccel-gotdxguest/cos-113-tdx-quote.dat", q);
    cvma_eventlog_replay(&log, rp);
    assert_int_equal(cvma_eventlog_compare_rtmrs(&log, rp, (const uint8_t(*)[48])q->body.rtmr, &v),
                     CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_EVENTLOG_RTMR3_NOT_IN_LOG));
    assert_false(cvma_verdict_has_error(&v));
    /* Claims: none of the command line GRUB measured into RTMR 2, which also holds PCR 9's
     * and 14's events (files, MOK lists) whose data does not show what they measured: one of
     * them could be the real command line relabelled. Secure Boot off, before RTMR 0's
     * separator. */
    json_t *c = cvma_eventlog_claims_json(&log);
    assert_true(json_is_null(json_object_get(c, "kernel_cmdline")));
    assert_true(json_is_false(json_object_get(json_object_get(c, "secure_boot"), "enabled")));
    json_decref(c);
    /* RTMR 1 of the quote changed: refused, naming RTMR 1. */
    q->body.rtmr[1][47] ^= 0x80;
    assert_int_equal(cvma_eventlog_compare_rtmrs(&log, rp, (const uint8_t(*)[48])q->body.rtmr, &v),
                     CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_REPLAY_MISMATCH, "RTMR 1 differs"));
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_REPLAY_MISMATCH, "in CC-MR 2"));
    cvma_tdx_quote_cleanup(q);
    free(q);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
    free(rp);
}

/* Claims of the Ubuntu 24.04 SEV-SNP log against what go-tpm-tools' tests state. */
static void test_eventlog_claims_of_ubuntu_log(void **state)
{
    (void)state;
    TU_NEED_VECTORS();
    struct cvma_eventlog log;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    load_log("tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin", CVMA_EVENTLOG_AUTO, &log, &v);
    json_t *c = cvma_eventlog_claims_json(&log);
    assert_string_equal(json_string_value(json_object_get(c, "kernel_cmdline")),
                        "/vmlinuz-6.8.0-1010-gcp root=PARTUUID=8270f3c9-b4e4-4345-80ee-"
                        "5a62db7ebf3f ro console=ttyS0,115200 panic=-1");
    json_t *apps = json_object_get(c, "efi_boot_applications");
    assert_int_equal(json_array_size(apps), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(apps, 0), "path")),
                        "\\EFI\\ubuntu\\shimx64.efi");
    json_t *sb = json_object_get(c, "secure_boot");
    assert_true(json_is_false(json_object_get(sb, "enabled")));
    json_t *gpt = json_object_get(c, "gpt");
    assert_int_equal(json_array_size(json_object_get(gpt, "partitions")), 4);
    json_decref(c);
    /* A quoted bank the log lacks. */
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    struct cvma_eventlog_quoted q;
    assert_non_null(rp);
    memset(&q, 0, sizeof q);
    q.alg = CVMA_TPM_ALG_SHA512;
    q.mask = 1;
    cvma_eventlog_replay(&log, rp);
    assert_int_equal(cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_EVENTLOG_BANK_MISSING);
    free(rp);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
}

/* ---- synthetic logs: one SHA-256 bank (or SHA-384 for a CCEL) ---- */

struct blob {
    uint8_t p[4096];
    size_t len;
};

static void put(struct blob *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof b->p);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put32(struct blob *b, uint32_t x)
{
    uint8_t t[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
    put(b, t, 4);
}

static void put16(struct blob *b, uint16_t x)
{
    uint8_t t[2] = {(uint8_t)x, (uint8_t)(x >> 8)};
    put(b, t, 2);
}

/* Spec ID Event03 header announcing n_algs copies of alg (n_algs 0 or 1 in these tests). */
static void header(struct blob *b, uint32_t pcr, uint16_t alg, uint16_t size, uint32_t n_algs)
{
    static const uint8_t zero[20] = {0};
    put32(b, pcr);
    put32(b, CVMA_EV_NO_ACTION);
    put(b, zero, 20);
    put32(b, 16 + 4 + 4 + 4 + 4 * n_algs + 1);
    put(b, "Spec ID Event03", 16);
    put32(b, 0);                              /* platform class */
    put(b, (const uint8_t[]){0, 2, 0, 2}, 4); /* 2.0 errata 0, uintnSize 2 */
    put32(b, n_algs);
    for (uint32_t i = 0; i < n_algs; i++) {
        put16(b, alg);
        put16(b, size);
    }
    put(b, (const uint8_t[]){0}, 1);
}

static void event(struct blob *b, uint32_t pcr, uint32_t type, uint16_t alg, size_t size,
                  uint8_t fill, const void *data, uint32_t data_len)
{
    uint8_t d[64];
    memset(d, fill, sizeof d);
    put32(b, pcr);
    put32(b, type);
    put32(b, 1);
    put16(b, alg);
    put(b, d, size);
    put32(b, data_len);
    put(b, data, data_len);
}

static enum cvma_reason parse_first_error(const struct blob *b, enum cvma_eventlog_format f,
                                          struct cvma_verdict *v)
{
    struct cvma_eventlog log;
    enum cvma_status st = cvma_eventlog_parse(b->p, b->len, f, &log, v);
    cvma_eventlog_cleanup(&log);
    return st == CVMA_OK ? CVMA_R_COUNT_ : cvma_verdict_first_error(v);
}

static void sha256_extend(uint8_t reg[32], uint8_t fill)
{
    uint8_t buf[64];
    unsigned int n = 0;
    memcpy(buf, reg, 32);
    memset(buf + 32, fill, 32);
    assert_int_equal(EVP_Digest(buf, 64, reg, &n, EVP_sha256(), NULL), 1);
}

static void test_eventlog_replay_rules(void **state)
{
    (void)state;
    struct blob b = {.len = 0};
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    struct cvma_verdict v;
    uint8_t want0[32] = {0}, want7[32] = {0}, want17[32];
    assert_non_null(rp);
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    /* StartupLocality 3: PCR 0 starts at 00..03 (PFP 10.4.5.3). */
    event(&b, 0, CVMA_EV_NO_ACTION, CVMA_TPM_ALG_SHA256, 32, 0, "StartupLocality\0\3", 17);
    /* EV_NO_ACTION with a non-zero digest: never extended. */
    event(&b, 0, CVMA_EV_NO_ACTION, CVMA_TPM_ALG_SHA256, 32, 0x77, "x", 1);
    event(&b, 0, CVMA_EV_POST_CODE, CVMA_TPM_ALG_SHA256, 32, 0x11, "a", 1);
    /* A duplicated separator: replayed twice, noted. */
    event(&b, 7, CVMA_EV_SEPARATOR, CVMA_TPM_ALG_SHA256, 32, 0x22, "\0\0\0\0", 4);
    event(&b, 7, CVMA_EV_SEPARATOR, CVMA_TPM_ALG_SHA256, 32, 0x22, "\0\0\0\0", 4);
    /* PCR 17 starts at all 0xFF. */
    event(&b, 17, CVMA_EV_POST_CODE, CVMA_TPM_ALG_SHA256, 32, 0x33, "b", 1);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_AUTO, &log, &v), CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_EVENTLOG_DUPLICATE_SEPARATOR));
    assert_false(cvma_verdict_has_error(&v));
    assert_true(log.has_startup_locality);
    cvma_eventlog_replay(&log, rp);
    want0[31] = 3;
    sha256_extend(want0, 0x11);
    sha256_extend(want7, 0x22);
    sha256_extend(want7, 0x22);
    memset(want17, 0xFF, sizeof want17);
    sha256_extend(want17, 0x33);
    assert_memory_equal(rp->reg[0][0], want0, 32);
    assert_memory_equal(rp->reg[0][7], want7, 32);
    assert_memory_equal(rp->reg[0][17], want17, 32);
    uint8_t ff[32];
    memset(ff, 0xFF, sizeof ff);
    assert_memory_equal(rp->reg[0][18], ff, 32);
    /* A mismatch in PCR 7 names its first event (#4, the first separator). */
    struct cvma_eventlog_quoted q;
    memset(&q, 0, sizeof q);
    q.alg = CVMA_TPM_ALG_SHA256;
    q.mask = 1u << 7 | 1u;
    memcpy(q.reg[0], want0, 32);
    memset(q.reg[7], 0, 32);
    assert_int_equal(cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v), CVMA_REJECTED);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_REPLAY_MISMATCH, "#4 EV_SEPARATOR"));
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
    free(rp);
}

static void test_eventlog_malformed_logs_are_refused_by_name(void **state)
{
    (void)state;
    struct blob b;
    struct cvma_verdict v;
    struct cvma_eventlog log;

    /* Cut inside the last event's data. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 4, CVMA_EV_IPL, CVMA_TPM_ALG_SHA256, 32, 1, "abcdefgh", 8);
    b.len -= 3;
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_TRUNCATED);
    cvma_verdict_cleanup(&v);

    /* A header without algorithms. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 0);
    event(&b, 4, CVMA_EV_IPL, CVMA_TPM_ALG_SHA256, 32, 1, "a", 1);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_HEADER_INVALID);
    cvma_verdict_cleanup(&v);

    /* PFP 10.4.5.1: a byte after vendorInfo inside the header event; the header event in
     * PCR 1 of a TCG log; its SHA-1 digest field not zero. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    put(&b, (const uint8_t[]){0}, 1);
    b.p[28]++; /* the header event's eventSize */
    event(&b, 4, CVMA_EV_IPL, CVMA_TPM_ALG_SHA256, 32, 1, "a", 1);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_HEADER_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_HEADER_INVALID, "after vendorInfo"));
    cvma_verdict_cleanup(&v);
    b.len = 0;
    header(&b, 1, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 4, CVMA_EV_IPL, CVMA_TPM_ALG_SHA256, 32, 1, "a", 1);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_HEADER_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_HEADER_INVALID, "index 1"));
    cvma_verdict_cleanup(&v);
    b.p[0] = 0;
    b.p[8 + 19] = 1; /* the last byte of the header's SHA-1 digest field */
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_HEADER_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_HEADER_INVALID, "SHA-1 digest"));
    cvma_verdict_cleanup(&v);

    /* PFP 10.4.5.3: one StartupLocality event, before any event extends PCR 0. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 0, CVMA_EV_NO_ACTION, CVMA_TPM_ALG_SHA256, 32, 0, "StartupLocality\0\3", 17);
    event(&b, 0, CVMA_EV_NO_ACTION, CVMA_TPM_ALG_SHA256, 32, 0, "StartupLocality\0\0", 17);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v),
                     CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID, "a second"));
    cvma_verdict_cleanup(&v);
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 0, CVMA_EV_POST_CODE, CVMA_TPM_ALG_SHA256, 32, 0x11, "a", 1);
    event(&b, 0, CVMA_EV_NO_ACTION, CVMA_TPM_ALG_SHA256, 32, 0, "StartupLocality\0\3", 17);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v),
                     CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID, "after event #1"));
    cvma_verdict_cleanup(&v);
    /* One with a byte after the locality, or none: refused, not passed over. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 0, CVMA_EV_NO_ACTION, CVMA_TPM_ALG_SHA256, 32, 0, "StartupLocality\0\3\0", 18);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v),
                     CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID, "of 18 bytes"));
    cvma_verdict_cleanup(&v);
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 0, CVMA_EV_NO_ACTION, CVMA_TPM_ALG_SHA256, 32, 0, "StartupLocality", 16);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v),
                     CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID, "of 16 bytes"));
    cvma_verdict_cleanup(&v);

    /* A SHA-256 bank announced with 20-byte digests. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 20, 1);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_HEADER_INVALID);
    cvma_verdict_cleanup(&v);

    /* An event digest of an algorithm the header does not announce. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 4, CVMA_EV_IPL, CVMA_TPM_ALG_SHA1, 20, 1, "a", 1);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_DIGEST_INVALID);
    cvma_verdict_cleanup(&v);

    /* PCR 24. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 24, CVMA_EV_IPL, CVMA_TPM_ALG_SHA256, 32, 1, "a", 1);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_INDEX_INVALID);
    cvma_verdict_cleanup(&v);

    /* A CCEL event extending CC-MR 0 (MRTD). */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA384, 48, 1);
    event(&b, 0, CVMA_EV_IPL, CVMA_TPM_ALG_SHA384, 48, 1, "a", 1);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_CCEL, &v), CVMA_R_EVENTLOG_INDEX_INVALID);
    cvma_verdict_cleanup(&v);

    /* 0xFF padding, then something else. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 4, CVMA_EV_IPL, CVMA_TPM_ALG_SHA256, 32, 1, "a", 1);
    for (int i = 0; i < 16; i++) {
        put(&b, (const uint8_t[]){0xFF}, 1);
    }
    put(&b, "junk", 4);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_TRAILING_DATA);
    cvma_verdict_cleanup(&v);

    /* Padding alone is a note. */
    b.len -= 4;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_AUTO, &log, &v), CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_EVENTLOG_PADDING));
    assert_int_equal(log.n_events, 2);
    /* the log ends where the padding starts: after the last event's data */
    assert_int_equal(log.padding_len, 16);
    assert_int_equal(log.end, b.len - 16);
    assert_int_equal(log.end, log.events[1].data.p + log.events[1].data.len - log.raw.p);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);

    /* A CCEL given where a TCG log is required to compare PCRs, and the reverse. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 4, CVMA_EV_IPL, CVMA_TPM_ALG_SHA256, 32, 1, "a", 1);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_AUTO, &log, &v), CVMA_OK);
    struct cvma_eventlog_replay *rp = malloc(sizeof *rp);
    uint8_t rtmr[4][48] = {{0}};
    assert_non_null(rp);
    cvma_eventlog_replay(&log, rp);
    assert_int_equal(cvma_eventlog_compare_rtmrs(&log, rp, (const uint8_t(*)[48])rtmr, &v),
                     CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_EVENTLOG_HEADER_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_HEADER_INVALID, "a tcg log records PCRs"));
    /* The kind is checked before any replay (cvmattest eventlog refuses the log so). */
    assert_int_equal(cvma_eventlog_check_kind(&log, false, &v), CVMA_OK);
    assert_int_equal(cvma_eventlog_check_kind(&log, true, &v), CVMA_REJECTED);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);

    /* The reverse: a CCEL compared with PCR values. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA384, 48, 1);
    event(&b, 1, CVMA_EV_IPL, CVMA_TPM_ALG_SHA384, 48, 1, "a", 1);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_AUTO, &log, &v), CVMA_OK);
    assert_int_equal(log.format, CVMA_EVENTLOG_CCEL);
    cvma_eventlog_replay(&log, rp);
    struct cvma_eventlog_quoted q;
    memset(&q, 0, sizeof q);
    q.alg = CVMA_TPM_ALG_SHA384;
    q.mask = 1u << 1;
    memcpy(q.reg[1], rp->reg[0][0], 48); /* what CC-MR 1 replays to */
    assert_int_equal(cvma_eventlog_compare_pcrs(&log, rp, &q, 1, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_EVENTLOG_HEADER_INVALID);
    assert_true(tu_detail_has(&v, CVMA_R_EVENTLOG_HEADER_INVALID, "a CCEL records RTMRs"));
    assert_int_equal(cvma_eventlog_check_kind(&log, true, &v), CVMA_OK);
    assert_int_equal(cvma_eventlog_check_kind(&log, false, &v), CVMA_REJECTED);
    free(rp);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
}

/* A legacy (SHA-1 only) record: PCR, type, SHA-1 digest of fill bytes, data. */
static void legacy_event(struct blob *b, uint32_t pcr, uint32_t type, uint8_t fill,
                         const void *data, uint32_t data_len)
{
    uint8_t d[20];
    memset(d, fill, sizeof d);
    put32(b, pcr);
    put32(b, type);
    put(b, d, sizeof d);
    put32(b, data_len);
    put(b, data, data_len);
}

static void put_fill(struct blob *b, uint8_t c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put(b, &c, 1);
    }
}

/* Padding is only what runs to the end of the log: a run of 0x00 or 0xFF with an event after it
 * is refused as trailing data, in both formats, and the detail names where the other bytes
 * start (the first byte that is neither 0x00 nor 0xFF). */
static void test_eventlog_padding_followed_by_an_event_is_trailing_data(void **state)
{
    (void)state;
    struct blob b;
    struct cvma_eventlog log;
    struct cvma_verdict v;
    char want[80];
    size_t pad_at;

    /* Legacy SHA-1: an event, 64 zero bytes, then an EV_SEPARATOR in PCR 0. Read as records,
     * the zeros would be two EV_PREBOOT_CERT events extending PCR 0. */
    b.len = 0;
    legacy_event(&b, 0, CVMA_EV_POST_CODE, 1, "a", 1);
    pad_at = b.len;
    put_fill(&b, 0x00, 64);
    legacy_event(&b, 0, CVMA_EV_SEPARATOR, 2, (const uint8_t[]){0, 0, 0, 0}, 4);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_TRAILING_DATA);
    /* the separator's PCR index is zeros too: its type (4) is the first other byte */
    snprintf(want, sizeof want, "(offset 0x%zx) is followed by other bytes at offset 0x%zx", pad_at,
             pad_at + 64 + 4);
    TU_ASSERT_DETAIL(&v, CVMA_R_EVENTLOG_TRAILING_DATA, want);
    cvma_verdict_cleanup(&v);

    /* The same zeros at the end are padding, noted; the log has one event. */
    b.len = pad_at + 64;
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_AUTO, &log, &v), CVMA_OK);
    assert_true(cvma_verdict_has(&v, CVMA_R_EVENTLOG_PADDING));
    assert_int_equal(log.n_events, 1);
    assert_int_equal(log.padding_len, 64);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);

    /* Legacy, 0xFF padding then other bytes. */
    b.len = pad_at;
    put_fill(&b, 0xFF, 40);
    put(&b, "junk", 4);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_TRAILING_DATA);
    snprintf(want, sizeof want, "followed by other bytes at offset 0x%zx", pad_at + 40);
    TU_ASSERT_DETAIL(&v, CVMA_R_EVENTLOG_TRAILING_DATA, want);
    cvma_verdict_cleanup(&v);

    /* Crypto-agile: zeros between two events are refused as trailing data, not as a record
     * with no digests. */
    b.len = 0;
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 4, CVMA_EV_IPL, CVMA_TPM_ALG_SHA256, 32, 1, "a", 1);
    pad_at = b.len;
    put_fill(&b, 0x00, 64);
    event(&b, 4, CVMA_EV_SEPARATOR, CVMA_TPM_ALG_SHA256, 32, 2, (const uint8_t[]){0, 0, 0, 0}, 4);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_TRAILING_DATA);
    snprintf(want, sizeof want, "(offset 0x%zx) is followed by other bytes at offset 0x%zx", pad_at,
             pad_at + 64);
    TU_ASSERT_DETAIL(&v, CVMA_R_EVENTLOG_TRAILING_DATA, want);
    cvma_verdict_cleanup(&v);

    /* Crypto-agile, 0xFF padding then "junk": the detail points at the junk, not past it. */
    b.len = pad_at;
    put_fill(&b, 0xFF, 16);
    put(&b, "junk", 4);
    cvma_verdict_init(&v);
    assert_int_equal(parse_first_error(&b, CVMA_EVENTLOG_AUTO, &v), CVMA_R_EVENTLOG_TRAILING_DATA);
    snprintf(want, sizeof want, "followed by other bytes at offset 0x%zx", pad_at + 16);
    TU_ASSERT_DETAIL(&v, CVMA_R_EVENTLOG_TRAILING_DATA, want);
    cvma_verdict_cleanup(&v);
}

/* More events than the parser keeps: a legacy SHA-1 log of 100001 small events. */
static void test_eventlog_too_many_events_is_refused(void **state)
{
    (void)state;
    size_t n = CVMA_EVENTLOG_MAX_EVENTS + 1, len = n * 32;
    uint8_t *p = calloc(1, len);
    struct cvma_eventlog log;
    struct cvma_verdict v;
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i * 32 + 4] = CVMA_EV_POST_CODE; /* PCR 0, EV_POST_CODE, zero digest, no data */
        p[i * 32 + 8] = 1;                 /* a non-zero digest byte: not padding */
    }
    cvma_verdict_init(&v);
    assert_true(cvma_eventlog_detect(p, len));
    assert_int_equal(cvma_eventlog_parse(p, len, CVMA_EVENTLOG_AUTO, &log, &v), CVMA_REJECTED);
    assert_int_equal(cvma_verdict_first_error(&v), CVMA_R_EVENTLOG_TOO_MANY_EVENTS);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
    free(p);
}

/* eventlog --pcrs: the quoted banks file; one value per PCR, an index spelled in digits only. */
static void test_eventlog_quoted_pcrs_file_gives_each_pcr_once(void **state)
{
    (void)state;
    static const char d32[] =
            "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"";
    char text[600], err[300];
    struct cvma_eventlog_quoted *q = NULL;
    size_t n = 9;

    snprintf(text, sizeof text, "{\"sha256\": {\"0\": %s, \"23\": %s}}", d32, d32);
    assert_true(cvma_eventlog_quoted_read((const uint8_t *)text, strlen(text), &q, &n, err,
                                          sizeof err));
    assert_int_equal(n, 1);
    assert_int_equal(q[0].alg, cvma_eventlog_alg_of_name("sha256"));
    assert_int_equal(q[0].mask, 1u | 1u << 23);
    assert_int_equal(q[0].reg[23][31], 0xff);
    free(q);

    static const struct {
        const char *bank, *a, *b;
    } refused[] = {
            {"sha256", "0", "00"}, /* PCR 0 twice: which value? */
            {"sha256", "07", "1"}, /* a leading zero: not a spelling of PCR 7 */
            {"sha256", "7", "+7"}, {"sha256", " 1", "2"}, {"sha256", "24", "2"},
            {"sha256", "", "2"},   {"sha1", "1", "2"}, /* a SHA-256 digest in the SHA-1 bank */
            {"md5", "1", "2"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        snprintf(text, sizeof text, "{\"%s\": {\"%s\": %s, \"%s\": %s}}", refused[i].bank,
                 refused[i].a, d32, refused[i].b, d32);
        q = (struct cvma_eventlog_quoted *)1;
        n = 9;
        assert_false(cvma_eventlog_quoted_read((const uint8_t *)text, strlen(text), &q, &n, err,
                                               sizeof err));
        assert_null(q);
        assert_int_equal(n, 0);
    }
    /* What is wrong is said: an array is no object of banks, and text that is not JSON says
     * where (never "not a JSON object ()", an empty explanation). */
    assert_false(cvma_eventlog_quoted_read((const uint8_t *)"[1]", 3, &q, &n, err, sizeof err));
    assert_non_null(strstr(err, "a JSON array, not an object of banks"));
    assert_null(strstr(err, "()"));
    assert_false(cvma_eventlog_quoted_read((const uint8_t *)"{", 1, &q, &n, err, sizeof err));
    assert_non_null(strstr(err, "not JSON (line 1: "));
}

/* The detector reads the first record's header through the reader: the Spec ID event is
 * found at its 48 bytes, not at 47; a legacy record's size must fit what follows it. */
static void test_eventlog_detect_at_header_boundaries(void **state)
{
    (void)state;
    uint8_t p[48] = {0};
    p[4] = CVMA_EV_NO_ACTION; /* PCR 0, EV_NO_ACTION, zero SHA-1 digest */
    p[28] = 16;               /* event size */
    memcpy(p + 32, "Spec ID Event03", 16);
    assert_true(cvma_eventlog_detect(p, sizeof p));
    assert_false(cvma_eventlog_detect(p, sizeof p - 1)); /* and 16 bytes do not fit in 15 */
    p[28] = 15;
    assert_true(cvma_eventlog_detect(p, sizeof p - 1)); /* a legacy record: 15 bytes fit */
    assert_false(cvma_eventlog_detect(p, 31));
}

static void put64(struct blob *b, uint64_t x)
{
    put32(b, (uint32_t)x);
    put32(b, (uint32_t)(x >> 32));
}

static void put_ucs2(struct blob *b, const uint16_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put16(b, s[i]);
    }
}

/* A UEFI variable's name and a boot application's file path (UCS-2) keep their control
 * characters, C0 and C1 (as UTF-8), for whoever shows them to escape (\xNN); only other
 * characters become '?'. A control character shown as '?' would read as another name. */
static void test_eventlog_ucs2_names_keep_control_characters(void **state)
{
    (void)state;
    static const uint16_t name[] = {'S', 'e', 0x1b, '[', 0x85, 0xe9, 'x'};
    static const uint16_t file[] = {'\\', 0x1b, 'A', 0x7f, 0x0a};
    struct blob var = {0}, img = {0}, b = {0};
    struct cvma_eventlog log;
    struct cvma_verdict v;

    put(&var, (const uint8_t[16]){0}, 16); /* VariableName GUID */
    put64(&var, sizeof name / sizeof name[0]);
    put64(&var, 1);
    put_ucs2(&var, name, sizeof name / sizeof name[0]);
    put(&var, (const uint8_t[]){1}, 1);
    put64(&img, 0); /* UEFI_IMAGE_LOAD_EVENT: address, length, link-time address, path size */
    put64(&img, 4096);
    put64(&img, 0);
    put64(&img, 4 + sizeof file + 4);
    put(&img, (const uint8_t[]){4, 4}, 2); /* media device path, file path */
    put16(&img, (uint16_t)(4 + sizeof file));
    put_ucs2(&img, file, sizeof file / sizeof file[0]);
    put(&img, (const uint8_t[]){0x7f, 0xff, 4, 0}, 4); /* end of the device path */
    header(&b, 0, CVMA_TPM_ALG_SHA256, 32, 1);
    event(&b, 7, CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG, CVMA_TPM_ALG_SHA256, 32, 1, var.p,
          (uint32_t)var.len);
    event(&b, 4, CVMA_EV_EFI_BOOT_SERVICES_APP, CVMA_TPM_ALG_SHA256, 32, 2, img.p,
          (uint32_t)img.len);
    cvma_verdict_init(&v);
    assert_int_equal(cvma_eventlog_parse(b.p, b.len, CVMA_EVENTLOG_AUTO, &log, &v), CVMA_OK);
    json_t *ev = cvma_eventlog_events_json(&log);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 1), "variable")),
                        "Se\x1b[\xc2\x85?x");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 2), "path")),
                        "\\\x1b"
                        "A\x7f\n");
    json_decref(ev);
    cvma_eventlog_cleanup(&log);
    cvma_verdict_cleanup(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_eventlog_real_logs_replay_to_their_stated_pcrs),
            cmocka_unit_test(test_eventlog_every_shared_log_parses_and_replays),
            cmocka_unit_test(test_eventlog_sha1_log_replays_to_quoted_pcrs),
            cmocka_unit_test(test_eventlog_ccel_replays_to_its_quote_rtmrs),
            cmocka_unit_test(test_eventlog_claims_of_ubuntu_log),
            cmocka_unit_test(test_eventlog_replay_rules),
            cmocka_unit_test(test_eventlog_malformed_logs_are_refused_by_name),
            cmocka_unit_test(test_eventlog_padding_followed_by_an_event_is_trailing_data),
            cmocka_unit_test(test_eventlog_too_many_events_is_refused),
            cmocka_unit_test(test_eventlog_quoted_pcrs_file_gives_each_pcr_once),
            cmocka_unit_test(test_eventlog_detect_at_header_boundaries),
            cmocka_unit_test(test_eventlog_ucs2_names_keep_control_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
