/*
 * Fuzz targets fuzz_tdx_quote and fuzz_tdx_certdata: an independent reading of a TDX quote's
 * signature data (Intel TDX DCAP Quoting Library API, Appendix 4/5; offsets of the fact sheet,
 * relative to the start of the signature data), by hand, to compare with what the project's
 * parser filled in.
 */
#ifndef CVMA_FUZZ_TDX_CHECK_H
#define CVMA_FUZZ_TDX_CHECK_H

#include "fuzz_check.h"
#include "tdx/tdx.h"

/* What the signature data s[0..n) should parse to. */
struct sig_expect {
    bool ok;
    enum cvma_reason why; /* when !ok */
    size_t auth_off, auth_len;
    size_t pem_off, pem_len;
};

static inline struct sig_expect sig_expect_of(const uint8_t *s, size_t n)
{
    struct sig_expect e = {.ok = false, .why = CVMA_R_PARSE_TDX_LENGTH};
    /* r||s (64), attestation key (64), cert data type (2), size (4) */
    if (n < 0x86) {
        return e;
    }
    if (fz_le16(s + 0x80) != 6) {
        e.why = CVMA_R_PARSE_TDX_CERT_DATA_TYPE;
        return e;
    }
    if (fz_le32(s + 0x82) != n - 0x86) {
        return e;
    }
    /* QE report (384), its signature (64), QE auth data size (2) */
    if (n < 0x248) {
        return e;
    }
    e.auth_off = 0x248;
    e.auth_len = fz_le16(s + 0x246);
    if (e.auth_len > n - 0x248) {
        return e;
    }
    size_t t = 0x248 + e.auth_len; /* inner type (2), size (4), PEM */
    if (n - t < 6) {
        return e;
    }
    if (fz_le16(s + t) != 5) {
        e.why = CVMA_R_PARSE_TDX_CERT_DATA_TYPE;
        return e;
    }
    if (fz_le32(s + t + 2) != n - t - 6) {
        return e;
    }
    e.pem_off = t + 6;
    e.pem_len = n - t - 6;
    e.ok = true;
    return e;
}

/* q's signature-data fields are those of s (e from sig_expect_of, accepted). */
static inline void check_sig_fields(const uint8_t *s, size_t n, const struct sig_expect *e,
                                    const struct cvma_tdx_quote *q)
{
    const uint8_t *qr = s + 0x86; /* QE report */
    CHECK(e->ok);
    CHECK(q->sig_data_len == n);
    CHECK(memcmp(q->signature, s, 64) == 0);
    CHECK(memcmp(q->attestation_key, s + 0x40, 64) == 0);
    CHECK(q->cert_data_type == 6 && q->pck_cert_data_type == 5);
    CHECK(memcmp(q->qe_report.raw, qr, 384) == 0);
    CHECK(memcmp(q->qe_report.cpu_svn, qr, 16) == 0);
    CHECK(q->qe_report.misc_select == fz_le32(qr + 0x10));
    CHECK(memcmp(q->qe_report.attributes, qr + 0x30, 16) == 0);
    CHECK(memcmp(q->qe_report.mr_enclave, qr + 0x40, 32) == 0);
    CHECK(memcmp(q->qe_report.mr_signer, qr + 0x80, 32) == 0);
    CHECK(q->qe_report.isv_prod_id == fz_le16(qr + 0x100));
    CHECK(q->qe_report.isv_svn == fz_le16(qr + 0x102));
    CHECK(memcmp(q->qe_report.report_data, qr + 0x140, 64) == 0);
    CHECK(memcmp(q->qe_report_signature, s + 0x206, 64) == 0);
    CHECK(q->qe_auth_data.len == e->auth_len);
    CHECK(e->auth_len == 0 || memcmp(q->qe_auth_data.p, s + e->auth_off, e->auth_len) == 0);
    /* The PEM chain: exactly its bytes, and a NUL after them for the PEM reader. */
    CHECK(q->pck_chain_pem.len == e->pem_len && q->pck_chain_pem.p != NULL);
    CHECK(memcmp(q->pck_chain_pem.p, s + e->pem_off, e->pem_len) == 0);
    CHECK(q->pck_chain_pem.p[e->pem_len] == 0);
}

/* The claims JSON shows the same QE report. */
static inline void check_qe_json(const uint8_t *s, const json_t *o)
{
    const uint8_t *qr = s + 0x86;
    const json_t *j = json_object_get(o, "qe_report");
    CHECK(fz_hex_is(fz_jstr(j, "mr_enclave"), qr + 0x40, 32));
    CHECK(fz_hex_is(fz_jstr(j, "mr_signer"), qr + 0x80, 32));
    CHECK(fz_hex_is(fz_jstr(j, "report_data"), qr + 0x140, 64));
    CHECK(fz_jint_is(j, "isv_svn", fz_le16(qr + 0x102)));
    CHECK(fz_jint_is(j, "isv_prod_id", fz_le16(qr + 0x100)));
}

#endif
