/* The vTPM part of collection through tss2-esys: see collect/collect.h and docs/collect.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "collect/collect.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "eventlog/eventlog.h"

void cvma_tpm_collected_free(struct cvma_tpm_collected *t)
{
    if (t == NULL) {
        return;
    }
    cvma_buf_free(&t->quote);
    cvma_buf_free(&t->signature);
    cvma_buf_free(&t->ak);
    cvma_buf_free(&t->pcrs);
    cvma_buf_free(&t->hcl_report);
    memset(t, 0, sizeof *t);
}

bool cvma_tpm_pcr_list_parse(const char *s, struct cvma_tpm_pcr_list *out)
{
    const char *p = s;
    memset(out, 0, sizeof *out);
    out->alg = TPM2_ALG_SHA256;
    if (strncmp(p, "sha256:", 7) == 0) {
        p += 7;
    } else if (strncmp(p, "sha1:", 5) == 0) {
        out->alg = TPM2_ALG_SHA1;
        p += 5;
    } else if (strncmp(p, "sha384:", 7) == 0) {
        out->alg = TPM2_ALG_SHA384;
        p += 7;
    }
    for (;;) {
        unsigned long lo, hi;
        char *end = NULL;
        if (*p < '0' || *p > '9') {
            return false;
        }
        lo = strtoul(p, &end, 10);
        hi = lo;
        if (*end == '-') {
            p = end + 1;
            if (*p < '0' || *p > '9') {
                return false;
            }
            hi = strtoul(p, &end, 10);
        }
        if (lo > 23 || hi > 23 || hi < lo) {
            return false;
        }
        for (unsigned long k = lo; k <= hi; k++) {
            out->mask |= 1u << k;
        }
        if (*end == '\0') {
            return true;
        }
        if (*end != ',') {
            return false;
        }
        p = end + 1;
    }
}

/* Restricted RSA-2048 RSASSA-SHA256 signing key: the attributes the verifier requires of an
 * AK (fixedTPM, fixedParent, sensitiveDataOrigin, restricted, sign, not decrypt). A primary
 * under the endorsement hierarchy: the same key for the same TPM at every call. */
static const TPM2B_PUBLIC ak_template = {
        .publicArea =
                {
                        .type = TPM2_ALG_RSA,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                            TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                            TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED |
                                            TPMA_OBJECT_SIGN_ENCRYPT,
                        .parameters.rsaDetail =
                                {
                                        .symmetric = {.algorithm = TPM2_ALG_NULL},
                                        .scheme = {.scheme = TPM2_ALG_RSASSA,
                                                   .details.rsassa.hashAlg = TPM2_ALG_SHA256},
                                        .keyBits = 2048,
                                        .exponent = 0,
                                },
                },
};

/* The PCR values of sel, as JSON {"sha256": {"0": "<hex>", ...}} (docs/tpm.md). */
static enum cvma_status read_pcrs(ESYS_CONTEXT *ctx, const struct cvma_tpm_pcr_list *l,
                                  struct cvma_buf *out, char *why, size_t why_len)
{
    const char *bank = cvma_eventlog_alg_name(l->alg); /* sha1, sha256 or sha384 */
    json_t *j = json_object(), *b = json_object();
    uint32_t left = l->mask;
    enum cvma_status st = CVMA_E_NOMEM;
    char *text = NULL;

    if (j == NULL || b == NULL || json_object_set(j, bank, b) != 0) {
        goto out;
    }
    while (left != 0) {
        TPML_PCR_SELECTION sel = {.count = 1};
        TPML_PCR_SELECTION *upd = NULL;
        TPML_DIGEST *vals = NULL;
        UINT32 counter = 0;
        sel.pcrSelections[0].hash = l->alg;
        sel.pcrSelections[0].sizeofSelect = 3;
        for (int k = 0; k < 24; k++) {
            if (left & (1u << k)) {
                sel.pcrSelections[0].pcrSelect[k / 8] |= (uint8_t)(1u << (k % 8));
            }
        }
        TSS2_RC rc = Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter,
                                   &upd, &vals);
        if (rc != TSS2_RC_SUCCESS) {
            cvma_errf(why, why_len, "TPM2_PCR_Read: 0x%x", rc);
            st = CVMA_E_IO;
            goto out;
        }
        size_t vi = 0;
        uint32_t got = 0;
        for (int k = 0; upd->count == 1 && k < 24; k++) {
            if (upd->pcrSelections[0].pcrSelect[k / 8] & (1u << (k % 8))) {
                got |= 1u << k;
            }
        }
        for (int k = 0; k < 24 && vi < vals->count; k++) {
            if (got & (1u << k)) {
                char idx[4], hex[2 * sizeof vals->digests[0].buffer + 1];
                (void)snprintf(idx, sizeof idx, "%d", k);
                cvma_hex_encode(vals->digests[vi].buffer, vals->digests[vi].size, hex, sizeof hex);
                if (json_object_set_new(b, idx, json_string(hex)) != 0) {
                    Esys_Free(upd);
                    Esys_Free(vals);
                    goto out;
                }
                vi++;
            }
        }
        Esys_Free(upd);
        Esys_Free(vals);
        if ((got & left) == 0) {
            cvma_errf(why, why_len,
                      "TPM2_PCR_Read: the TPM returns none of the PCRs asked for "
                      "(bank %s allocated?)",
                      bank);
            st = CVMA_E_IO;
            goto out;
        }
        left &= ~got;
    }
    if ((text = cvma_json_dumps(j, JSON_SORT_KEYS)) == NULL) {
        goto out;
    }
    out->len = strlen(text);
    out->p = (uint8_t *)text;
    text = NULL;
    st = CVMA_OK;
out:
    free(text);
    json_decref(b);
    json_decref(j);
    return st;
}

static enum cvma_status copy_out(struct cvma_buf *out, const uint8_t *p, size_t n)
{
    if ((out->p = malloc(n > 0 ? n : 1)) == NULL) {
        return CVMA_E_NOMEM;
    }
    memcpy(out->p, p, n);
    out->len = n;
    return CVMA_OK;
}

/* Azure's HCL report, when the NV index exists (docs/collect.md). */
static void read_hcl(ESYS_CONTEXT *ctx, struct cvma_tpm_collected *t)
{
    ESYS_TR nv = ESYS_TR_NONE;
    TPM2B_NV_PUBLIC *pub = NULL;
    TPM2B_NAME *name = NULL;
    uint8_t *buf = NULL;
    size_t have = 0;

    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more = 0;
    bool present =
            Esys_GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                               CVMA_TPM_AZURE_HCL_NV, 1, &more, &cap) == TSS2_RC_SUCCESS &&
            cap->data.handles.count >= 1 && cap->data.handles.handle[0] == CVMA_TPM_AZURE_HCL_NV;
    Esys_Free(cap);
    if (!present) {
        return; /* not an Azure vTPM: asking for the index would only log errors */
    }
    t->hcl_problem = "its public area could not be read";
    if (Esys_TR_FromTPMPublic(ctx, CVMA_TPM_AZURE_HCL_NV, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              &nv) != TSS2_RC_SUCCESS ||
        Esys_NV_ReadPublic(ctx, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name) !=
                TSS2_RC_SUCCESS) {
        goto out;
    }
    /* Read with the index's own authorization when it allows that (AUTHREAD), else with the
     * owner's (OWNERREAD, an empty owner password: how Azure's vTPM reads it). */
    TPMA_NV attrs = pub->nvPublic.attributes;
    ESYS_TR auth = (attrs & TPMA_NV_AUTHREAD) != 0    ? nv
                   : (attrs & TPMA_NV_OWNERREAD) != 0 ? ESYS_TR_RH_OWNER
                                                      : ESYS_TR_NONE;
    size_t size = pub->nvPublic.dataSize;
    if (auth == ESYS_TR_NONE) {
        t->hcl_problem = "it allows neither its own nor the owner's authorization to read it";
        goto out;
    }
    if (size == 0 || size > CVMA_COLLECT_MAX_BLOB) {
        t->hcl_problem = "its size is 0 or over the limit";
        goto out;
    }
    if ((buf = malloc(size)) == NULL) {
        t->hcl_problem = "out of memory";
        goto out;
    }
    t->hcl_problem = "the read was refused or came back short";
    while (have < size) {
        TPM2B_MAX_NV_BUFFER *chunk = NULL;
        UINT16 n = (UINT16)(size - have > 512 ? 512 : size - have);
        if (Esys_NV_Read(ctx, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
                         (UINT16)have, &chunk) != TSS2_RC_SUCCESS) {
            goto out;
        }
        if (chunk->size != n) { /* a short read: never written out with a gap in it */
            Esys_Free(chunk);
            goto out;
        }
        memcpy(buf + have, chunk->buffer, n);
        have += n;
        Esys_Free(chunk);
    }
    t->hcl_report.p = buf;
    t->hcl_report.len = size;
    t->hcl_problem = NULL;
    buf = NULL;
out:
    free(buf);
    Esys_Free(pub);
    Esys_Free(name);
    if (nv != ESYS_TR_NONE) {
        (void)Esys_TR_Close(ctx, &nv);
    }
}

enum cvma_status cvma_tpm_collect(const char *tcti, const struct cvma_tpm_pcr_list *pcrs,
                                  const uint8_t *nonce, size_t nonce_len,
                                  struct cvma_tpm_collected *t, char *err, size_t err_len)
{
    TSS2_TCTI_CONTEXT *tc = NULL;
    ESYS_CONTEXT *ctx = NULL;
    ESYS_TR ak = ESYS_TR_NONE;
    TPM2B_PUBLIC *ak_pub = NULL;
    TPM2B_ATTEST *quoted = NULL;
    TPMT_SIGNATURE *sig = NULL;
    TSS2_RC rc;
    enum cvma_status st = CVMA_E_IO;
    uint8_t m[sizeof(TPMT_SIGNATURE) + sizeof(TPM2B_PUBLIC)];
    size_t off;

    memset(t, 0, sizeof *t);
    if (nonce_len > sizeof(((TPM2B_DATA *)0)->buffer)) {
        cvma_errf(err, err_len, "TPM: the nonce is longer than a TPM2B_DATA");
        return CVMA_E_USAGE;
    }
    if ((rc = Tss2_TctiLdr_Initialize(tcti, &tc)) != TSS2_RC_SUCCESS) {
        cvma_errf(err, err_len, "TPM: TCTI '%s' cannot be opened (0x%x)", tcti, rc);
        goto out;
    }
    if ((rc = Esys_Initialize(&ctx, tc, NULL)) != TSS2_RC_SUCCESS) {
        cvma_errf(err, err_len, "TPM: Esys_Initialize: 0x%x", rc);
        goto out;
    }
    TPM2B_SENSITIVE_CREATE in_sens = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION none = {0};
    rc = Esys_CreatePrimary(ctx, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &in_sens, &ak_template, &outside, &none, &ak, &ak_pub,
                            NULL, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        cvma_errf(err, err_len, "TPM: creating the AK (CreatePrimary, endorsement): 0x%x", rc);
        goto out;
    }
    TPM2B_DATA qual = {.size = (UINT16)nonce_len};
    memcpy(qual.buffer, nonce, nonce_len);
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
    TPML_PCR_SELECTION sel = {.count = 1};
    sel.pcrSelections[0].hash = pcrs->alg;
    sel.pcrSelections[0].sizeofSelect = 3;
    for (int k = 0; k < 24; k++) {
        if (pcrs->mask & (1u << k)) {
            sel.pcrSelections[0].pcrSelect[k / 8] |= (uint8_t)(1u << (k % 8));
        }
    }
    rc = Esys_Quote(ctx, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qual, &scheme, &sel,
                    &quoted, &sig);
    if (rc != TSS2_RC_SUCCESS) {
        cvma_errf(err, err_len, "TPM: TPM2_Quote: 0x%x", rc);
        goto out;
    }
    /* Raw TPM bytes first; the PCR values are read after the quote (the verifier checks them
     * against the quote's digest). */
    if ((st = copy_out(&t->quote, quoted->attestationData, quoted->size)) != CVMA_OK) {
        goto out;
    }
    off = 0;
    if ((rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, m, sizeof m, &off)) != TSS2_RC_SUCCESS ||
        (st = copy_out(&t->signature, m, off)) != CVMA_OK) {
        st = st != CVMA_OK ? st : CVMA_E_INTERNAL;
        goto out;
    }
    off = 0;
    if ((rc = Tss2_MU_TPM2B_PUBLIC_Marshal(ak_pub, m, sizeof m, &off)) != TSS2_RC_SUCCESS ||
        (st = copy_out(&t->ak, m, off)) != CVMA_OK) {
        st = st != CVMA_OK ? st : CVMA_E_INTERNAL;
        goto out;
    }
    if ((st = read_pcrs(ctx, pcrs, &t->pcrs, err, err_len)) != CVMA_OK) {
        goto out;
    }
    read_hcl(ctx, t);
    st = CVMA_OK;
out:
    if (st != CVMA_OK && st != CVMA_E_USAGE && err != NULL && err_len > 0 && err[0] == '\0') {
        cvma_errf(err, err_len, "TPM: failed");
    }
    Esys_Free(ak_pub);
    Esys_Free(quoted);
    Esys_Free(sig);
    if (ctx != NULL && ak != ESYS_TR_NONE) {
        (void)Esys_FlushContext(ctx, ak);
    }
    if (ctx != NULL) {
        Esys_Finalize(&ctx);
    }
    if (tc != NULL) {
        Tss2_TctiLdr_Finalize(&tc);
    }
    return st;
}
