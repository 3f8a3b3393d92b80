/*
 * libFuzzer target: TDX collateral text. The first byte picks what the rest is fed to:
 *   0  cvma_tdx_signed_json_split, key "tcbInfo", then the TCB Info parser on the span
 *   1  cvma_tdx_signed_json_split, key "enclaveIdentity", then the QE Identity parser
 *   2  the TCB Info parser directly; when it parses, the TCB evaluation with a quote and PCK
 *      extension derived from the input and a fixed QE Identity
 *   3  the QE Identity parser directly
 *   4  cvma_tdx_signed_json_load: the rest split at the first NUL into a bare object and
 *      its hex signature; without a NUL, the PCS body form
 *   5  cvma_tdx_crl_load_any (DER, PEM, hex)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "tdx/tdx_collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char qe_json[] =
        "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"2025-01-01T00:00:00Z\","
        "\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"tcbEvaluationDataNumber\":1,"
        "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
        "\"attributes\":\"11000000000000000000000000000000\","
        "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
        "\"mrsigner\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"isvprodid\":2,"
        "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-01-01T00:00:00Z\","
        "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":1},\"tcbDate\":\"2023-01-01T00:00:00Z\","
        "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-1\"]}]}";

/* Evaluates the parsed TCB Info against a platform whose SVNs come from the input. */
static void evaluate(struct cvma_tdx_tcb_info *ti, const uint8_t *d, size_t n)
{
    struct cvma_tdx_collateral c;
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    struct cvma_pck_ext pck;
    struct cvma_tdx_tcb_result r;
    struct cvma_verdict v;
    uint8_t svn[64] = {0};

    if (q == NULL) {
        return;
    }
    memcpy(svn, d, n < sizeof svn ? n : sizeof svn);
    memset(&c, 0, sizeof c);
    memset(&pck, 0, sizeof pck);
    cvma_verdict_init(&v);
    if (cvma_tdx_qe_identity_parse((const uint8_t *)qe_json, sizeof qe_json - 1, &c.qe_identity,
                                   &v) != CVMA_OK) {
        abort(); /* the fixed identity must parse */
    }
    c.tcb_info = *ti;
    memcpy(pck.fmspc, ti->fmspc, 6);
    memcpy(pck.pceid, ti->pceid, 2);
    memcpy(pck.sgx_tcb_comp, svn, 16);
    pck.pcesvn = (uint16_t)(svn[16] | svn[17] << 8);
    memcpy(q->body.tee_tcb_svn, svn + 18, 16);
    memcpy(q->body.tee_tcb_svn2, svn + 34, 16);
    q->body.is_v15 = (svn[50] & 1) != 0;
    q->qe_report.attributes[0] = 0x11;
    q->qe_report.isv_prod_id = 2;
    q->qe_report.isv_svn = svn[51];
    if (ti->n_modules > 0 && (svn[52] & 1) != 0) {
        memcpy(q->body.mr_signer_seam, ti->modules[0].mrsigner, 48);
    }
    if (cvma_tdx_tcb_evaluate(&c, q, &pck, &r, &v) == CVMA_OK && r.status[0] == '\0') {
        abort(); /* success must name a status */
    }
    cvma_tdx_tcb_result_cleanup(&r);
    cvma_tdx_qe_identity_cleanup(&c.qe_identity);
    cvma_verdict_cleanup(&v);
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_verdict v;
    struct cvma_span span;
    uint8_t sig[64];
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    if (size == 0) {
        return 0;
    }
    cvma_verdict_init(&v);
    switch (data[0] % 6) {
    case 0:
    case 1: {
        const char *key = data[0] % 6 == 0 ? "tcbInfo" : "enclaveIdentity";
        if (cvma_tdx_signed_json_split(p, n, key, &span, sig)) {
            /* The span must lie inside the input and be an object. */
            if (span.p < p || span.len > n || (size_t)(span.p - p) > n - span.len || span.len < 2 ||
                span.p[0] != '{' || span.p[span.len - 1] != '}') {
                abort();
            }
            if (data[0] % 6 == 0) {
                struct cvma_tdx_tcb_info ti;
                if (cvma_tdx_tcb_info_parse(span.p, span.len, &ti, &v) == CVMA_OK) {
                    cvma_tdx_tcb_info_cleanup(&ti);
                }
            } else {
                struct cvma_tdx_qe_identity qi;
                if (cvma_tdx_qe_identity_parse(span.p, span.len, &qi, &v) == CVMA_OK) {
                    cvma_tdx_qe_identity_cleanup(&qi);
                }
            }
        } else if (span.p != NULL || span.len != 0) {
            abort(); /* a refusal leaves the output empty */
        }
        break;
    }
    case 2: {
        struct cvma_tdx_tcb_info ti;
        if (cvma_tdx_tcb_info_parse(p, n, &ti, &v) == CVMA_OK) {
            /* SVNs from the last bytes, so the JSON and the platform mutate together. */
            evaluate(&ti, n > 64 ? p + n - 64 : p, n > 64 ? 64 : n);
            cvma_tdx_tcb_info_cleanup(&ti);
        }
        break;
    }
    case 3: {
        struct cvma_tdx_qe_identity qi;
        if (cvma_tdx_qe_identity_parse(p, n, &qi, &v) == CVMA_OK) {
            cvma_tdx_qe_identity_cleanup(&qi);
        }
        break;
    }
    case 4: {
        const uint8_t *nul = memchr(p, 0, n);
        struct cvma_buf body = {NULL, 0};
        struct cvma_buf sighex = {NULL, 0};
        struct cvma_tdx_signed_json doc;
        size_t blen = nul != NULL ? (size_t)(nul - p) : n;
        if ((body.p = malloc(blen + 1)) == NULL) {
            break;
        }
        memcpy(body.p, p, blen);
        body.len = blen;
        if (nul != NULL) {
            sighex.len = n - blen - 1;
            if ((sighex.p = malloc(sighex.len + 1)) == NULL) {
                free(body.p);
                break;
            }
            memcpy(sighex.p, nul + 1, sighex.len);
        }
        if (cvma_tdx_signed_json_load(&doc, &body, nul != NULL ? &sighex : NULL, "tcbInfo",
                                      "TCB Info", &v) == CVMA_OK) {
            cvma_tdx_signed_json_cleanup(&doc);
        }
        cvma_buf_free(&sighex);
        break;
    }
    case 5: {
        X509_CRL *crl = cvma_tdx_crl_load_any(p, n);
        X509_CRL_free(crl);
        break;
    }
    default:
        break;
    }
    cvma_verdict_cleanup(&v);
    return 0;
}
