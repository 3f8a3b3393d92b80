/*
 * libFuzzer target: the TDX quote parser, then what `cvmattest show` does with a parsed quote
 * (PCK leaf from the PEM chain, its SGX extension, the claims encoder). The last input byte
 * picks --allow-trailing-data. Checked against a reading by hand at the v4/v5 offsets of the
 * quote format: the header checks and their reasons, the body fields, the signed region, the
 * signature data (tdx_check.h), the trailing-data rule, and the claims JSON.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "tdx_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t intel_qe[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                     0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

/* What the quote should parse to, read by hand. */
struct quote_expect {
    bool ok;
    enum cvma_reason why;    /* when !ok */
    size_t body_off;         /* 0x30 (v4) or 0x36 (v5) */
    size_t body_size;        /* 584 or 648 */
    size_t sig_off, sig_len; /* the signature data */
    struct sig_expect sig;
    size_t trailing;
};

static struct quote_expect expect_of(const uint8_t *d, size_t n, bool allow)
{
    struct quote_expect e = {.ok = false, .why = CVMA_R_PARSE_TRUNCATED};
    if (n < 48) {
        return e;
    }
    uint16_t version = fz_le16(d);
    if (version != 4 && version != 5) {
        e.why = CVMA_R_PARSE_UNKNOWN_VERSION;
        return e;
    }
    if (fz_le16(d + 2) != 2) {
        e.why = CVMA_R_PARSE_TDX_KEY_TYPE;
        return e;
    }
    if (fz_le32(d + 4) != 0x81) {
        e.why = CVMA_R_PARSE_TDX_TEE_TYPE;
        return e;
    }
    if (memcmp(d + 0x0C, intel_qe, 16) != 0) {
        e.why = CVMA_R_PARSE_TDX_QE_VENDOR;
        return e;
    }
    if (version == 4) {
        e.body_off = 0x30;
        e.body_size = 584;
    } else {
        if (n < 0x36) {
            return e;
        }
        uint16_t type = fz_le16(d + 0x30);
        uint32_t bsize = fz_le32(d + 0x32);
        if (!((type == 2 && bsize == 584) || (type == 3 && bsize == 648))) {
            e.why = CVMA_R_PARSE_TDX_BODY_TYPE;
            return e;
        }
        e.body_off = 0x36;
        e.body_size = bsize;
    }
    size_t lo = e.body_off + e.body_size; /* signature_data_len */
    if (n < lo + 4) {
        return e;
    }
    e.sig_off = lo + 4;
    e.sig_len = fz_le32(d + lo);
    if (e.sig_len > n - e.sig_off) {
        return e;
    }
    e.sig = sig_expect_of(d + e.sig_off, e.sig_len);
    if (!e.sig.ok) {
        e.why = e.sig.why;
        return e;
    }
    e.trailing = n - e.sig_off - e.sig_len;
    if (!allow && !fz_zero(d + e.sig_off + e.sig_len, e.trailing)) {
        e.why = CVMA_R_PARSE_TRAILING_DATA;
        return e;
    }
    e.ok = true;
    return e;
}

static void check_quote(const uint8_t *d, const struct quote_expect *e,
                        const struct cvma_tdx_quote *q)
{
    const uint8_t *b = d + e->body_off;
    const struct cvma_tdx_td_report *r = &q->body;
    bool v15 = e->body_size == 648;
    CHECK(q->version == fz_le16(d) && q->att_key_type == 2 && q->tee_type == 0x81);
    CHECK(q->reserved == fz_le32(d + 8));
    CHECK(memcmp(q->qe_vendor_id, d + 0x0C, 16) == 0);
    CHECK(memcmp(q->user_data, d + 0x1C, 20) == 0);
    CHECK(q->body_size == e->body_size && q->body_type == (v15 ? 3 : 2));
    CHECK(memcmp(r->tee_tcb_svn, b, 16) == 0);
    CHECK(memcmp(r->mr_seam, b + 0x10, 48) == 0);
    CHECK(memcmp(r->mr_signer_seam, b + 0x40, 48) == 0);
    CHECK(r->seam_attributes == fz_le64(b + 0x70));
    CHECK(r->td_attributes == fz_le64(b + 0x78));
    CHECK(r->xfam == fz_le64(b + 0x80));
    CHECK(memcmp(r->mr_td, b + 0x88, 48) == 0);
    CHECK(memcmp(r->mr_config_id, b + 0xB8, 48) == 0);
    CHECK(memcmp(r->mr_owner, b + 0xE8, 48) == 0);
    CHECK(memcmp(r->mr_owner_config, b + 0x118, 48) == 0);
    for (size_t i = 0; i < 4; i++) {
        CHECK(memcmp(r->rtmr[i], b + 0x148 + 48 * i, 48) == 0);
    }
    CHECK(memcmp(r->report_data, b + 0x208, 64) == 0);
    CHECK(r->is_v15 == v15);
    if (v15) {
        CHECK(memcmp(r->tee_tcb_svn2, b + 0x248, 16) == 0);
        CHECK(memcmp(r->mr_service_td, b + 0x258, 48) == 0);
    } else {
        CHECK(fz_zero(r->tee_tcb_svn2, 16) && fz_zero(r->mr_service_td, 48));
    }
    /* The signed region: header [+ body type and size] + body, nothing more. */
    CHECK(q->signed_len == e->body_off + e->body_size);
    CHECK(memcmp(q->signed_bytes, d, q->signed_len) == 0);
    check_sig_fields(d + e->sig_off, e->sig_len, &e->sig, q);
    CHECK(q->trailing_len == e->trailing);
}

static void check_json(const uint8_t *d, const struct quote_expect *e, const json_t *o)
{
    const uint8_t *b = d + e->body_off;
    const json_t *rtmr = json_object_get(o, "rtmr");
    CHECK(fz_jint_is(o, "version", fz_le16(d)));
    CHECK(fz_jint_is(o, "tee_type", 0x81));
    CHECK(fz_hex_is(fz_jstr(o, "mr_td"), b + 0x88, 48));
    CHECK(fz_hex_is(fz_jstr(o, "mr_signer_seam"), b + 0x40, 48));
    CHECK(fz_hex_is(fz_jstr(o, "report_data"), b + 0x208, 64));
    CHECK(fz_jhex_be_is(o, "xfam", fz_le64(b + 0x80), 8));
    CHECK(fz_jhex_be_is(json_object_get(o, "td_attributes"), "raw", fz_le64(b + 0x78), 8));
    CHECK(json_array_size(rtmr) == 4);
    for (size_t i = 0; i < 4; i++) {
        CHECK(fz_hex_is(json_string_value(json_array_get(rtmr, i)), b + 0x148 + 48 * i, 48));
    }
    if (e->body_size == 648) {
        CHECK(fz_hex_is(fz_jstr(o, "mr_service_td"), b + 0x258, 48));
    } else {
        CHECK(json_object_get(o, "mr_service_td") == NULL);
    }
    check_qe_json(d + e->sig_off, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_tdx_quote q;
    struct cvma_pck_ext pck;
    struct cvma_verdict v;
    bool allow = size > 0 && (data[size - 1] & 1);
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = allow};
    struct quote_expect e = expect_of(data, size, allow);
    cvma_verdict_init(&v);
    enum cvma_status st = cvma_tdx_quote_parse(data, size, &po, &q, &v);
    if (st == CVMA_E_NOMEM) {
        goto out;
    }
    CHECK(st == CVMA_OK || st == CVMA_REJECTED);
    CHECK((st == CVMA_OK) == e.ok);
    CHECK((st == CVMA_REJECTED) == cvma_verdict_has_error(&v));
    if (st != CVMA_OK) {
        CHECK(cvma_verdict_has(&v, e.why));
        CHECK(q.qe_auth_data.len <= size && q.pck_chain_pem.len <= size);
        goto out;
    }
    check_quote(data, &e, &q);
    CHECK(cvma_verdict_has(&v, CVMA_R_PARSE_TRAILING_DATA) ==
          !fz_zero(data + size - e.trailing, e.trailing));
    CHECK(cvma_verdict_has(&v, CVMA_R_PARSE_TRAILING_ZEROS) ==
          (e.trailing > 0 && fz_zero(data + size - e.trailing, e.trailing)));

    const struct cvma_pck_ext *pp = NULL;
    STACK_OF(X509) *chain = cvma_x509_load_pem_stack(q.pck_chain_pem.p, q.pck_chain_pem.len);
    if (chain != NULL && cvma_pck_ext_parse(sk_X509_value(chain, 0), &pck, &v) == CVMA_OK) {
        pp = &pck;
    }
    json_t *o = cvma_tdx_quote_json(&q, pp);
    if (o != NULL) {
        check_json(data, &e, o);
        if (pp != NULL) {
            CHECK(fz_hex_is(fz_jstr(o, "fmspc"), pck.fmspc, 6));
            CHECK(fz_hex_is(fz_jstr(o, "ppid"), pck.ppid, 16));
        }
        json_decref(o);
    }
    sk_X509_pop_free(chain, X509_free);
out:
    cvma_tdx_quote_cleanup(&q);
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    return 0;
}
