/*
 * libFuzzer target: what the azure kinds read of the runtime claims and the hardware report
 * before any signature holds (azure/azure_internal.h). The input is the runtime claims JSON;
 * each step is held to an independent reading:
 *   - cvma_azure_runtime_claims_parse accepts exactly what jansson reads as an object nesting
 *     at most 32 levels whose "vm-configuration", when there, is an object with secure-boot,
 *     tpm-enabled and console-enabled booleans and vmUniqueId a string (each when there), and
 *     whose "user-data", when there, is 128 hex digits; and then holds jansson's tree; a
 *     refusal leaves no tree and one reason;
 *   - cvma_azure_claims_user_data gives the 64 bytes of a "user-data" of 128 hex digits (and
 *     zeros with false otherwise);
 *   - cvma_azure_ak_pem_from_claims gives a PEM key exactly when the only kid "HCLAkPub" entry
 *     (two or more are refused) is an RSA JWK with canonical base64url n and e, no leading zero
 * octet (decoded here by OpenSSL's base64) of at most 1,024 bytes and n of at least 2,048 bits (the
 * exponent is the quote check's: tpm/tpm_quote.c), and OpenSSL reads that key back with exactly the
 * JWK's n and e;
 *   - the TDREPORT / REPORT_DATA readers, on the input as a hardware report, give the bytes at
 *     their offsets or refuse a report too short;
 *   - cvma_azure_verify (azure-snp, offline, collateral from the bundle only) on an HCL report
 *     carrying the input as runtime claims, whose REPORT_DATA is their SHA-256 (so the claims
 *     are read as an attacker's unsigned report would have them read): never affirming, and
 *     NONCE_REPORT_DATA_MISMATCH exactly when the claims parse and their user-data is not the
 *     expected report data.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "azure/azure.h"
#include "azure/azure_internal.h"
#include "collateral/source.h"
#include "common/reader.h"
#include "result/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* depth(scalar or empty container) = 0, depth(container) = 1 + the deepest member's. */
static int depth(const json_t *j)
{
    int d = -1;
    if (json_is_object(j)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)(uintptr_t)j, k, x)
        {
            int c = depth(x);
            d = c > d ? c : d;
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            int c = depth(json_array_get(j, i));
            d = c > d ? c : d;
        }
    }
    return d + 1;
}

/* A base64url JWK member decoded by OpenSSL's base64 (EVP_DecodeBlock), as a BIGNUM; NULL when
 * not a string, not canonical base64url (re-encoding differs), empty, over 1,024 bytes
 * or with a leading zero octet (RFC 7518 6.3.1: the minimum octets). */
static BIGNUM *ref_jwk_bn(const json_t *j)
{
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    BIGNUM *bn = NULL;
    if (s == NULL || n == 0 || n % 4 == 1 || n > 4096) {
        return NULL;
    }
    size_t pad = (4 - n % 4) % 4, m = n + pad;
    char *std = malloc(m + 1), *again = malloc(m + 1);
    uint8_t *raw = malloc(m / 4 * 3 + 1);
    if (std == NULL || again == NULL || raw == NULL) {
        abort();
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        ok = ok && (isalnum((unsigned char)c) || c == '-' || c == '_');
        std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    memset(std + n, '=', pad);
    std[m] = '\0';
    int got = ok ? EVP_DecodeBlock(raw, (const unsigned char *)std, (int)m) : -1;
    if (got >= 0) {
        size_t len = (size_t)got - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
        /* Canonical: encoding the bytes again gives the same text (no stray low bits). */
        if (EVP_EncodeBlock((unsigned char *)again, raw, (int)len) == (int)m &&
            memcmp(again, std, m) == 0 && len <= 1024 && len > 0 && raw[0] != 0) {
            bn = BN_bin2bn(raw, (int)len, NULL);
        }
    }
    free(std);
    free(again);
    free(raw);
    return bn;
}

static void check_ak(const json_t *claims)
{
    struct cvma_verdict v;
    const json_t *ak = NULL, *keys = json_object_get(claims, "keys");
    BIGNUM *n = NULL, *e = NULL, *gn = NULL, *ge = NULL;

    size_t aks = 0;
    cvma_verdict_init(&v);
    for (size_t i = 0; json_is_array(keys) && i < json_array_size(keys); i++) {
        const json_t *k = json_array_get(keys, i);
        const json_t *kid = json_object_get(k, "kid");
        if (json_is_string(kid) && strcmp(json_string_value(kid), "HCLAkPub") == 0) {
            ak = aks++ == 0 ? k : ak;
        }
    }
    const json_t *kty = json_object_get(ak, "kty");
    bool want = aks == 1 && json_is_string(kty) && strcmp(json_string_value(kty), "RSA") == 0 &&
                (n = ref_jwk_bn(json_object_get(ak, "n"))) != NULL &&
                (e = ref_jwk_bn(json_object_get(ak, "e"))) != NULL && BN_num_bits(n) >= 2048;

    char *pem = cvma_azure_ak_pem_from_claims(claims, &v);
    if (pem == NULL) {
        if (!v.oom && (want || v.n_reasons != 1 ||
                       v.reasons[0].code != CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED)) {
            abort();
        }
    } else {
        if (!want || v.n_reasons != 0) {
            abort();
        }
        /* OpenSSL reads back a key with exactly the JWK's n and e. */
        BIO *bio = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *pk = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        if (pk == NULL || !EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_get_bn_param(pk, "n", &gn) != 1 ||
            EVP_PKEY_get_bn_param(pk, "e", &ge) != 1 || BN_cmp(gn, n) != 0 || BN_cmp(ge, e) != 0) {
            abort();
        }
        EVP_PKEY_free(pk);
        BIO_free(bio);
    }
    free(pem);
    BN_free(n);
    BN_free(e);
    BN_free(gn);
    BN_free(ge);
    cvma_verdict_cleanup(&v);
}

static int nibble(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);
}

/* The user-data bytes (64, from 128 hex digits); false when it is not that. */
static bool ref_user_data(const json_t *claims, uint8_t out[64])
{
    const json_t *ud = json_object_get(claims, "user-data");
    const char *s = json_string_value(ud);
    if (s == NULL || json_string_length(ud) != 128) {
        return false;
    }
    for (size_t i = 0; i < 128; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < 64; i++) {
        out[i] = (uint8_t)(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
    }
    return true;
}

/* The members the result gives back hold the paravisor's types (or are absent). */
static bool ref_members_typed(const json_t *claims)
{
    static const char *const flags[] = {"secure-boot", "tpm-enabled", "console-enabled"};
    const json_t *vc = json_object_get(claims, "vm-configuration");
    const json_t *id = json_object_get(vc, "vmUniqueId");
    uint8_t ud[64];
    if (vc != NULL && !json_is_object(vc)) {
        return false;
    }
    for (size_t i = 0; i < 3; i++) {
        const json_t *f = json_object_get(vc, flags[i]);
        if (f != NULL && !json_is_boolean(f)) {
            return false;
        }
    }
    return (id == NULL || json_is_string(id)) &&
           (json_object_get(claims, "user-data") == NULL || ref_user_data(claims, ud));
}

/* Returns whether the claims parsed, and into *ud_ok / ud their user-data. */
static bool check_claims(const uint8_t *data, size_t size, bool *ud_ok, uint8_t ud[64])
{
    struct cvma_span sp = {data, size};
    struct cvma_verdict v;
    json_t *got = (json_t *)(uintptr_t)1; /* must be overwritten */
    json_error_t je;
    json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    bool want = json_is_object(ref) && depth(ref) <= CVMA_AZURE_RUNTIME_CLAIMS_MAX_DEPTH &&
                ref_members_typed(ref);

    cvma_verdict_init(&v);
    enum cvma_status st = cvma_azure_runtime_claims_parse(&sp, &got, &v);
    *ud_ok = false;
    if (st == CVMA_OK) {
        if (!want || !json_equal(got, ref) || v.n_reasons != 0) {
            abort();
        }
        uint8_t mine[64], theirs[64];
        memset(mine, 0xa5, sizeof mine);
        bool ok = cvma_azure_claims_user_data(got, mine);
        if (ok != ref_user_data(ref, theirs) || (ok && memcmp(mine, theirs, 64) != 0) ||
            (!ok && !cvma_bytes_are_zero(mine, 64))) {
            abort();
        }
        *ud_ok = ok;
        memcpy(ud, mine, 64);
        check_ak(got);
    } else {
        if (want || st != CVMA_REJECTED || got != NULL ||
            (!v.oom &&
             (v.n_reasons != 1 || v.reasons[0].code != CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED))) {
            abort();
        }
    }
    json_decref(got);
    json_decref(ref);
    cvma_verdict_cleanup(&v);
    return st == CVMA_OK;
}

/* The input as a hardware report: the fields read are the bytes at their offsets. */
static void check_fields(const uint8_t *data, size_t size)
{
    struct cvma_span hw = {data, size};
    struct cvma_azure_tdreport tr;
    uint8_t rd[64];

    bool ok = cvma_azure_tdreport_read(&hw, &tr);
    if (ok != (size >= CVMA_AZURE_TDREPORT_MRTD_OFF + 48) ||
        (ok && (tr.type != data[0] ||
                memcmp(tr.report_data, data + CVMA_AZURE_TDREPORT_REPORT_DATA_OFF, 64) != 0 ||
                memcmp(tr.mr_td, data + CVMA_AZURE_TDREPORT_MRTD_OFF, 48) != 0)) ||
        (!ok && (tr.type != 0 || !cvma_bytes_are_zero(tr.report_data, 64) ||
                 !cvma_bytes_are_zero(tr.mr_td, 48)))) {
        abort();
    }
    for (int tdx = 0; tdx < 2; tdx++) {
        size_t off = tdx ? CVMA_AZURE_TDREPORT_REPORT_DATA_OFF : CVMA_AZURE_SNP_REPORT_DATA_OFF;
        ok = cvma_azure_report_data(&hw, tdx, rd);
        if (ok != (size >= off + 64) || (ok && memcmp(rd, data + off, 64) != 0) ||
            (!ok && !cvma_bytes_are_zero(rd, 64))) {
            abort();
        }
    }
}

/* The whole azure-snp path on an HCL report vouching (by hash only) for the input claims. */
static void check_verify(const uint8_t *data, size_t size, bool parsed, bool ud_ok,
                         const uint8_t ud[64])
{
    static const uint8_t quote[] = {0xff, 'T', 'C', 'G', 0x80, 0x18, 0, 0};
    static const uint8_t sig[] = {0x00, 0x14, 0x00, 0x0b, 0x00, 0x01, 0x00};
    size_t rt = CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN;
    size_t n = rt + CVMA_AZURE_RUNTIME_HDR_LEN + size;
    uint8_t *b;
    uint32_t w[5] = {(uint32_t)(CVMA_AZURE_RUNTIME_HDR_LEN + size), 1, CVMA_AZURE_REPORT_TYPE_SNP,
                     CVMA_AZURE_HASH_TYPE_SHA256, (uint32_t)size};

    if (size == 0 || size > CVMA_AZURE_CLAIMS_MAX || (b = calloc(1, n)) == NULL) {
        return;
    }
    memcpy(b, "HCLA", 4);
    uint32_t hdr[3] = {1, (uint32_t)n, 2}; /* the request size: all of it, no padding */
    for (size_t i = 0; i < 3; i++) {
        for (size_t k = 0; k < 4; k++) {
            b[4 + 4 * i + k] = (uint8_t)(hdr[i] >> (8 * k));
        }
    }
    for (size_t i = 0; i < 5; i++) {
        for (size_t k = 0; k < 4; k++) {
            b[rt + 4 * i + k] = (uint8_t)(w[i] >> (8 * k));
        }
    }
    memcpy(b + rt + CVMA_AZURE_RUNTIME_HDR_LEN, data, size);
    if (EVP_Digest(data, size, b + CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_SNP_REPORT_DATA_OFF, NULL,
                   EVP_sha256(), NULL) != 1) {
        abort();
    }

    struct cvma_named_part parts[] = {{"tpm_quote", {quote, sizeof quote}, false},
                                      {"tpm_signature", {sig, sizeof sig}, false}};
    struct cvma_verify_opts o;
    memset(&o, 0, sizeof o);
    o.at = 1700000000;
    o.offline = true;
    o.collateral_parts_only = true;
    o.collateral_parts = parts;
    o.n_collateral_parts = 2;
    o.has_report_data = true;
    memset(o.report_data, 0x5a, sizeof o.report_data);

    struct cvma_result res;
    cvma_result_init(&res, "azure-snp", o.at);
    cvma_azure_verify(b, n, &o, false, &res);
    cvma_result_finish(&res);
    bool mismatch = parsed && !(ud_ok && memcmp(ud, o.report_data, 64) == 0);
    /* (Never affirming either, but that holds whatever the claims: the report inside is
     * unsigned. The VMPL rule is tested in tests/unit/test_vtpm.c.) */
    if (!res.verdict.oom &&
        cvma_verdict_has(&res.verdict, CVMA_R_NONCE_REPORT_DATA_MISMATCH) != mismatch) {
        abort();
    }
    cvma_result_cleanup(&res);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool ud_ok = false;
    uint8_t ud[64] = {0};
    bool parsed = check_claims(data, size, &ud_ok, ud);
    check_fields(data, size);
    check_verify(data, size, parsed, ud_ok, ud);
    return 0;
}
