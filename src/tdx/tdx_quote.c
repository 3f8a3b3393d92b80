/*
 * Intel TDX DCAP quote parser, versions 4 and 5 (Intel TDX DCAP Quoting Library API,
 * Appendix 4/5). Every byte is read through
 * the bounds-checked reader; each nested structure gets its own sub-reader limited by the
 * length field that announces it, so no length can reach past its container. Details name the
 * field, its offset from the start of the input, and the sizes that disagree.
 *
 * Not checked here (verification's job): signatures, the QE report data binding, the PCK
 * chain. Never appraised: the header's reserved u32 (0x08) and the QE ID in user_data.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/reader.h"
#include "tdx/tdx.h"

/* see tdx/tdx.h */
const uint8_t cvma_tdx_intel_qe_vendor_id[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                                 0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

/* Fixed part of the signature data: signature, attestation key, cert data type and size. */
#define SIG_FIXED_SIZE (64u + 64u + 2u + 4u)

struct pctx {
    const uint8_t *origin; /* offsets in details count from here */
    const char *what;      /* "tdx quote" or "tdx signature data" */
    struct cvma_verdict *v;
};

/* Absolute offset of r's cursor from the start of the input. */
static size_t at(const struct pctx *c, const struct cvma_reader *r)
{
    return (size_t)(r->p - c->origin) + r->off;
}

/*
 * The container r holds at least n more bytes for field; otherwise records code (PARSE_TRUNCATED
 * for the input itself, PARSE_TDX_LENGTH for a structure whose length field limits r).
 */
static bool need(const struct pctx *c, const struct cvma_reader *r, size_t n, const char *field,
                 enum cvma_reason code)
{
    if (cvma_reader_left(r) >= n) {
        return true;
    }
    cvma_reject(c->v, code, "%s: %s at 0x%zx needs %zu bytes, only %zu remain%s", c->what, field,
                at(c, r), n, cvma_reader_left(r),
                code == CVMA_R_PARSE_TDX_LENGTH ? " inside its enclosing length" : "");
    return false;
}

/* SGX REPORT body (signature data, "QE report"), 384 bytes: r holds exactly that. */
static bool parse_sgx_report(struct cvma_reader *r, struct cvma_sgx_report *rep)
{
    struct cvma_reader raw = *r;
    bool ok = cvma_reader_bytes(&raw, rep->raw, sizeof rep->raw) &&
              cvma_reader_bytes(r, rep->cpu_svn, sizeof rep->cpu_svn) &&
              cvma_reader_u32le(r, &rep->misc_select) && cvma_reader_skip(r, 28) &&
              cvma_reader_bytes(r, rep->attributes, sizeof rep->attributes);
    assert(!ok || r->off == 0x040);
    ok = ok && cvma_reader_bytes(r, rep->mr_enclave, sizeof rep->mr_enclave) &&
         cvma_reader_skip(r, 32) && cvma_reader_bytes(r, rep->mr_signer, sizeof rep->mr_signer) &&
         cvma_reader_skip(r, 96);
    assert(!ok || r->off == 0x100);
    ok = ok && cvma_reader_u16le(r, &rep->isv_prod_id) && cvma_reader_u16le(r, &rep->isv_svn) &&
         cvma_reader_skip(r, 60);
    assert(!ok || r->off == 0x140);
    ok = ok && cvma_reader_bytes(r, rep->report_data, sizeof rep->report_data);
    assert(!ok || (r->off == CVMA_SGX_REPORT_SIZE && cvma_reader_at_end(r)));
    return ok;
}

/* TD report body 1.0 (584 bytes) or 1.5 (648 bytes): r holds exactly that (quote format). */
static bool parse_td_report(struct cvma_reader *r, struct cvma_tdx_td_report *t, bool v15)
{
    bool ok = cvma_reader_bytes(r, t->tee_tcb_svn, sizeof t->tee_tcb_svn) &&
              cvma_reader_bytes(r, t->mr_seam, sizeof t->mr_seam) &&
              cvma_reader_bytes(r, t->mr_signer_seam, sizeof t->mr_signer_seam) &&
              cvma_reader_u64le(r, &t->seam_attributes) &&
              cvma_reader_u64le(r, &t->td_attributes) && cvma_reader_u64le(r, &t->xfam);
    assert(!ok || r->off == 0x088);
    ok = ok && cvma_reader_bytes(r, t->mr_td, sizeof t->mr_td) &&
         cvma_reader_bytes(r, t->mr_config_id, sizeof t->mr_config_id) &&
         cvma_reader_bytes(r, t->mr_owner, sizeof t->mr_owner) &&
         cvma_reader_bytes(r, t->mr_owner_config, sizeof t->mr_owner_config);
    assert(!ok || r->off == 0x148);
    for (size_t i = 0; ok && i < 4; i++) {
        ok = cvma_reader_bytes(r, t->rtmr[i], sizeof t->rtmr[i]);
    }
    assert(!ok || r->off == 0x208);
    ok = ok && cvma_reader_bytes(r, t->report_data, sizeof t->report_data);
    assert(!ok || r->off == CVMA_TDX_BODY10_SIZE);
    if (ok && v15) {
        t->is_v15 = true;
        ok = cvma_reader_bytes(r, t->tee_tcb_svn2, sizeof t->tee_tcb_svn2) &&
             cvma_reader_bytes(r, t->mr_service_td, sizeof t->mr_service_td);
        assert(!ok || r->off == CVMA_TDX_BODY15_SIZE);
    }
    return ok && cvma_reader_at_end(r);
}

/* Copies the next n bytes of r into a freshly allocated buffer (NULL for n == 0). */
static enum cvma_status take_buf(struct cvma_reader *r, size_t n, struct cvma_buf *out, bool nul)
{
    out->p = NULL;
    out->len = 0;
    if (n == 0 && !nul) {
        return CVMA_OK;
    }
    /* One extra NUL byte past len for text (the PEM chain): never counted in len. */
    if ((out->p = malloc(n + (nul ? 1 : 0))) == NULL) {
        return CVMA_E_NOMEM;
    }
    if (!cvma_reader_bytes(r, out->p, n)) {
        free(out->p);
        out->p = NULL;
        return CVMA_E_INTERNAL; /* callers checked the length first */
    }
    if (nul) {
        out->p[n] = 0;
    }
    out->len = n;
    return CVMA_OK;
}

/*
 * Signature data (quote format): sig holds exactly signature_data_len bytes. Fills the
 * signature-data fields of q.
 */
static enum cvma_status parse_sig_data(const struct pctx *c, struct cvma_reader *sig,
                                       struct cvma_tdx_quote *q)
{
    struct cvma_reader cert, qer;
    uint32_t cert_data_size, pck_size;
    uint16_t auth_size;
    size_t type_off;
    enum cvma_status st;

    if (!need(c, sig, SIG_FIXED_SIZE,
              "signature data (signature, attestation key, certification data type and size)",
              CVMA_R_PARSE_TDX_LENGTH)) {
        return CVMA_REJECTED;
    }
    type_off = at(c, sig) + 128;
    if (!cvma_reader_bytes(sig, q->signature, sizeof q->signature) ||
        !cvma_reader_bytes(sig, q->attestation_key, sizeof q->attestation_key) ||
        !cvma_reader_u16le(sig, &q->cert_data_type) || !cvma_reader_u32le(sig, &cert_data_size)) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH, "%s: short signature data", c->what);
    }
    assert(sig->off == SIG_FIXED_SIZE);
    /* Type 6 = ECDSA_SIG_AUX_DATA (QE report certification data) is the only TDX form. */
    if (q->cert_data_type != CVMA_TDX_CERT_QE_REPORT) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_CERT_DATA_TYPE,
                           "%s: certification data type %u at 0x%zx (expected 6, QE report "
                           "certification data)",
                           c->what, q->cert_data_type, type_off);
    }
    /* The certification data fills the rest of the signature data, exactly. */
    if (cert_data_size != cvma_reader_left(sig)) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH,
                           "%s: certification data size %" PRIu32 " at 0x%zx, but %zu bytes of "
                           "signature data follow",
                           c->what, cert_data_size, type_off + 2, cvma_reader_left(sig));
    }
    if (!cvma_reader_sub(sig, cert_data_size, &cert)) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH, "%s: certification data", c->what);
    }

    /* QE report (384) and its signature by the PCK key (64). */
    if (!need(c, &cert, CVMA_SGX_REPORT_SIZE + 64u, "QE report and QE report signature",
              CVMA_R_PARSE_TDX_LENGTH)) {
        return CVMA_REJECTED;
    }
    if (!cvma_reader_sub(&cert, CVMA_SGX_REPORT_SIZE, &qer) ||
        !parse_sgx_report(&qer, &q->qe_report) ||
        !cvma_reader_bytes(&cert, q->qe_report_signature, sizeof q->qe_report_signature)) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH, "%s: short QE report", c->what);
    }
    assert(cert.off == CVMA_SGX_REPORT_SIZE + 64u);

    /* QE authentication data: u16 size, then the bytes. */
    if (!need(c, &cert, 2, "QE authentication data size", CVMA_R_PARSE_TDX_LENGTH)) {
        return CVMA_REJECTED;
    }
    if (!cvma_reader_u16le(&cert, &auth_size)) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH, "%s: short QE auth data size", c->what);
    }
    if (auth_size > cvma_reader_left(&cert)) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH,
                           "%s: QE authentication data size %u at 0x%zx, but only %zu bytes of "
                           "certification data remain",
                           c->what, auth_size, at(c, &cert) - 2, cvma_reader_left(&cert));
    }
    if ((st = take_buf(&cert, auth_size, &q->qe_auth_data, false)) != CVMA_OK) {
        return st == CVMA_E_NOMEM ? st
                                  : cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH,
                                                "%s: short QE authentication data", c->what);
    }

    /* Inner certification data: type 5 = PCK certificate chain (PEM), then size, then bytes. */
    if (!need(c, &cert, 6, "PCK certification data type and size", CVMA_R_PARSE_TDX_LENGTH)) {
        return CVMA_REJECTED;
    }
    type_off = at(c, &cert);
    if (!cvma_reader_u16le(&cert, &q->pck_cert_data_type) || !cvma_reader_u32le(&cert, &pck_size)) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH, "%s: short PCK certification data",
                           c->what);
    }
    if (q->pck_cert_data_type != CVMA_TDX_CERT_PCK_CHAIN) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_CERT_DATA_TYPE,
                           "%s: inner certification data type %u at 0x%zx (expected 5, PCK "
                           "certificate chain)",
                           c->what, q->pck_cert_data_type, type_off);
    }
    if (pck_size != cvma_reader_left(&cert)) {
        return cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH,
                           "%s: PCK chain size %" PRIu32 " at 0x%zx, but %zu bytes of "
                           "certification data remain",
                           c->what, pck_size, type_off + 2, cvma_reader_left(&cert));
    }
    if ((st = take_buf(&cert, pck_size, &q->pck_chain_pem, true)) != CVMA_OK) {
        return st == CVMA_E_NOMEM
                       ? st
                       : cvma_reject(c->v, CVMA_R_PARSE_TDX_LENGTH, "%s: short PCK chain", c->what);
    }
    assert(cvma_reader_at_end(&cert) && cvma_reader_at_end(sig));
    return CVMA_OK;
}

static void clear_sig_data(struct cvma_tdx_quote *q)
{
    q->sig_data_len = 0;
    memset(q->signature, 0, sizeof q->signature);
    memset(q->attestation_key, 0, sizeof q->attestation_key);
    q->cert_data_type = 0;
    memset(&q->qe_report, 0, sizeof q->qe_report);
    memset(q->qe_report_signature, 0, sizeof q->qe_report_signature);
    q->qe_auth_data.p = NULL;
    q->qe_auth_data.len = 0;
    q->pck_cert_data_type = 0;
    q->pck_chain_pem.p = NULL;
    q->pck_chain_pem.len = 0;
}

/* see tdx/tdx.h */
enum cvma_status cvma_tdx_sig_data_parse(const uint8_t *p, size_t len, struct cvma_tdx_quote *q,
                                         struct cvma_verdict *v)
{
    static const uint8_t empty[1];
    struct cvma_reader r;
    struct pctx c = {.origin = p != NULL ? p : empty, .what = "tdx signature data", .v = v};

    clear_sig_data(q);
    if (len > UINT32_MAX) {
        return cvma_reject(v, CVMA_R_PARSE_TDX_LENGTH, "%s: %zu bytes do not fit a u32 length",
                           c.what, len);
    }
    cvma_reader_init(&r, c.origin, p != NULL ? len : 0);
    q->sig_data_len = (uint32_t)r.len;
    return parse_sig_data(&c, &r, q);
}

/* see tdx/tdx.h */
enum cvma_status cvma_tdx_quote_parse(const uint8_t *p, size_t len,
                                      const struct cvma_tdx_parse_opts *opts,
                                      struct cvma_tdx_quote *q, struct cvma_verdict *v)
{
    struct cvma_reader r, body, sig, sc;
    struct cvma_span rest;
    struct pctx c = {.origin = p, .what = "tdx quote", .v = v};
    enum cvma_status st;

    memset(q, 0, sizeof *q);
    if (p == NULL || len < CVMA_TDX_HEADER_SIZE) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED,
                           "tdx quote: %zu bytes, the header alone needs %u", p != NULL ? len : 0,
                           CVMA_TDX_HEADER_SIZE);
    }
    cvma_reader_init(&r, p, len);

    /* Header (quote format): 48 bytes, same for v4 and v5. */
    if (!cvma_reader_u16le(&r, &q->version) || !cvma_reader_u16le(&r, &q->att_key_type) ||
        !cvma_reader_u32le(&r, &q->tee_type) || !cvma_reader_u32le(&r, &q->reserved) ||
        !cvma_reader_bytes(&r, q->qe_vendor_id, sizeof q->qe_vendor_id) ||
        !cvma_reader_bytes(&r, q->user_data, sizeof q->user_data)) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "tdx quote: short header");
    }
    assert(r.off == CVMA_TDX_HEADER_SIZE);
    if (q->version != 4 && q->version != 5) {
        return cvma_reject(v, CVMA_R_PARSE_UNKNOWN_VERSION,
                           "tdx quote: version %u at 0x00 (known: 4, 5)%s", q->version,
                           q->version == 3 ? "; version 3 is an SGX quote" : "");
    }
    if (q->att_key_type != CVMA_TDX_ATT_KEY_P256) {
        return cvma_reject(v, CVMA_R_PARSE_TDX_KEY_TYPE,
                           "tdx quote: attestation key type %u at 0x02 (expected 2, ECDSA P-256)",
                           q->att_key_type);
    }
    if (q->tee_type != CVMA_TDX_TEE_TYPE) {
        return cvma_reject(v, CVMA_R_PARSE_TDX_TEE_TYPE,
                           "tdx quote: TEE type 0x%08" PRIx32 " at 0x04 (expected 0x00000081, "
                           "TDX%s)",
                           q->tee_type, q->tee_type == 0 ? "; 0 is SGX" : "");
    }
    if (memcmp(q->qe_vendor_id, cvma_tdx_intel_qe_vendor_id, sizeof cvma_tdx_intel_qe_vendor_id) !=
        0) {
        char got[2 * sizeof q->qe_vendor_id + 1];
        cvma_hex_encode(q->qe_vendor_id, sizeof q->qe_vendor_id, got, sizeof got);
        return cvma_reject(v, CVMA_R_PARSE_TDX_QE_VENDOR,
                           "tdx quote: QE vendor ID %s at 0x0c (Intel's is "
                           "939a7233f79c4ca9940a0db3957f0607)",
                           got);
    }

    /* Body: v4 = TD report 1.0 directly; v5 = body_type, body_size, then the body. */
    if (q->version == 5) {
        if (!need(&c, &r, 6, "v5 body type and size", CVMA_R_PARSE_TRUNCATED)) {
            return CVMA_REJECTED;
        }
        if (!cvma_reader_u16le(&r, &q->body_type) || !cvma_reader_u32le(&r, &q->body_size)) {
            return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "tdx quote: short v5 body header");
        }
        if (!((q->body_type == 2 && q->body_size == CVMA_TDX_BODY10_SIZE) ||
              (q->body_type == 3 && q->body_size == CVMA_TDX_BODY15_SIZE))) {
            return cvma_reject(v, CVMA_R_PARSE_TDX_BODY_TYPE,
                               "tdx quote: v5 body type %u, size %" PRIu32 " at 0x30 (known: "
                               "type 2 with 584 bytes, type 3 with 648 bytes%s)",
                               q->body_type, q->body_size,
                               q->body_type == 1 ? "; type 1 is an SGX enclave report" : "");
        }
    } else {
        q->body_type = 2;
        q->body_size = CVMA_TDX_BODY10_SIZE;
    }
    if (!need(&c, &r, q->body_size, q->body_type == 3 ? "TD report 1.5" : "TD report 1.0",
              CVMA_R_PARSE_TRUNCATED)) {
        return CVMA_REJECTED;
    }
    if (!cvma_reader_sub(&r, q->body_size, &body) ||
        !parse_td_report(&body, &q->body, q->body_type == 3)) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "tdx quote: TD report body");
    }
    assert(r.off == (q->version == 5 ? 0x36u : 0x30u) + q->body_size);
    assert(q->version == 5 || r.off == 0x278);

    /* The signed region: everything before signature_data_len (quote format). */
    q->signed_len = r.off;
    assert(q->signed_len <= sizeof q->signed_bytes);
    cvma_reader_init(&sc, p, len);
    if (!cvma_reader_bytes(&sc, q->signed_bytes, q->signed_len)) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "tdx quote: signed region");
    }

    /* Signature data: its length is authoritative; what follows it is unsigned trailing data. */
    if (!need(&c, &r, 4, "signature_data_len", CVMA_R_PARSE_TRUNCATED)) {
        return CVMA_REJECTED;
    }
    if (!cvma_reader_u32le(&r, &q->sig_data_len)) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "tdx quote: short signature_data_len");
    }
    if (!cvma_reader_sub(&r, q->sig_data_len, &sig)) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED,
                           "tdx quote: signature_data_len %" PRIu32 " at 0x%zx, but only %zu "
                           "bytes follow",
                           q->sig_data_len, r.off - 4, cvma_reader_left(&r));
    }
    if ((st = parse_sig_data(&c, &sig, q)) != CVMA_OK) {
        return st;
    }

    /* Trailing data: unsigned. Zeros are padding; anything else is refused unless allowed. */
    cvma_reader_rest(&r, &rest);
    q->trailing_len = rest.len;
    return cvma_verdict_trailing(v, rest.p, rest.len, opts != NULL && opts->allow_trailing_data,
                                 "tdx quote", len - rest.len);
}

/* see tdx/tdx.h */
void cvma_tdx_quote_cleanup(struct cvma_tdx_quote *q)
{
    if (q == NULL) {
        return;
    }
    cvma_buf_free(&q->qe_auth_data);
    cvma_buf_free(&q->pck_chain_pem);
}

/* see tdx/tdx.h */
bool cvma_tdx_quote_peek(const uint8_t *p, size_t len, struct cvma_tdx_td_report *body, bool *oom)
{
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = true};
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    struct cvma_verdict scratch; /* the quote's own reasons come from its verification */
    bool ok = false;

    memset(body, 0, sizeof *body);
    cvma_verdict_init(&scratch);
    if (q == NULL) {
        *oom = true;
        return false;
    }
    if (cvma_tdx_quote_parse(p, len, &po, q, &scratch) == CVMA_OK && !scratch.oom) {
        *body = q->body;
        ok = true;
    }
    *oom = *oom || scratch.oom;
    cvma_verdict_cleanup(&scratch);
    cvma_tdx_quote_cleanup(q);
    free(q);
    return ok;
}
