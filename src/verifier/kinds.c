/*
 * The evidence-kind table (verifier/kind.h): one row per kind, each defined beside the kind's
 * own code (src/snp/snp_kind.c, src/tdx/tdx_kind.c, src/tpm/tpm_kind.c). Detection tries the rows
 * in order.
 */
#include <stdio.h>
#include <string.h>

#include "common/reader.h"
#include "verifier/kind.h"

const struct cvma_kind *const cvma_kinds[] = {&cvma_kind_azure_snp,
                                              &cvma_kind_azure_tdx,
                                              &cvma_kind_tdx,
                                              &cvma_kind_snp,
                                              &cvma_kind_tpm,
                                              &cvma_kind_svsm_vtpm,
                                              NULL};

const struct cvma_kind *cvma_kind_by_id(enum cvma_evidence_kind id)
{
    for (size_t i = 0; cvma_kinds[i] != NULL; i++) {
        if (cvma_kinds[i]->id == id) {
            return cvma_kinds[i];
        }
    }
    return NULL;
}

const struct cvma_kind *cvma_kind_by_name(const char *name)
{
    for (size_t i = 0; cvma_kinds[i] != NULL; i++) {
        if (strcmp(cvma_kinds[i]->name, name) == 0 || strcmp(cvma_kinds[i]->cli_name, name) == 0) {
            return cvma_kinds[i];
        }
    }
    return NULL;
}

const struct cvma_kind *cvma_kind_detect(const uint8_t *p, size_t len)
{
    for (size_t i = 0; cvma_kinds[i] != NULL; i++) {
        if (cvma_kinds[i]->detect(p, len)) {
            return cvma_kinds[i];
        }
    }
    return NULL;
}

enum cvma_reason cvma_kind_explain_unknown(const uint8_t *p, size_t len, char *out, size_t out_len)
{
    struct cvma_reader r;

    cvma_reader_init(&r, p, len);
    cvma_reader_skip_ws(&r);
    if (cvma_reader_starts_with(&r, "-----BEGIN CERTIFICATE-----") ||
        cvma_reader_starts_with(&r, "-----BEGIN TRUSTED CERTIFICATE-----")) {
        snprintf(out, out_len,
                 "this is an X.509 certificate (PEM), not evidence: a certificate is collateral "
                 "(--collateral DIR, docs/collateral.md)");
        return CVMA_R_PARSE_UNKNOWN_FORMAT;
    }
    if (cvma_reader_starts_with(&r, "-----BEGIN X509 CRL-----")) {
        snprintf(out, out_len, "this is a CRL (PEM), not evidence: it is collateral");
        return CVMA_R_PARSE_UNKNOWN_FORMAT;
    }
    if (cvma_reader_starts_with(&r, "-----BEGIN")) {
        snprintf(out, out_len, "this is a PEM file (a key or certificate?), not evidence");
        return CVMA_R_PARSE_UNKNOWN_FORMAT;
    }
    /* DER SEQUENCE with a two-byte length, then a SEQUENCE (tbsCertificate / tbsCertList). */
    uint8_t tag = 0, len_form = 0, inner_tag = 0, inner_len_form = 0;
    uint16_t outer_len = 0, inner_len = 0;
    cvma_reader_init(&r, p, len);
    if (cvma_reader_u8(&r, &tag) && cvma_reader_u8(&r, &len_form) &&
        cvma_reader_u16be(&r, &outer_len) && cvma_reader_u8(&r, &inner_tag) &&
        cvma_reader_u8(&r, &inner_len_form) && cvma_reader_u16be(&r, &inner_len) && tag == 0x30 &&
        len_form == 0x82 && inner_tag == 0x30 && inner_len_form == 0x82) {
        snprintf(out, out_len,
                 "this looks like a DER X.509 certificate or CRL, not evidence: it is "
                 "collateral (--collateral DIR)");
        return CVMA_R_PARSE_UNKNOWN_FORMAT;
    }
    /* Intel DCAP quote header with TEE type 0 (SGX): version 3 (always SGX) or 4/5. */
    uint16_t ver = 0, key = 0;
    uint32_t tee = 0;
    cvma_reader_init(&r, p, len);
    if (cvma_reader_u16le(&r, &ver) && cvma_reader_u16le(&r, &key) && cvma_reader_u32le(&r, &tee) &&
        ((ver == 3 && (key == 2 || key == 3)) || ((ver == 4 || ver == 5) && tee == 0))) {
        snprintf(out, out_len,
                 "this is an Intel SGX quote (version %u, TEE type 0): SGX quotes are not "
                 "supported, only TDX quotes (TEE type 0x81)",
                 (unsigned)ver);
        return CVMA_R_PARSE_UNKNOWN_FORMAT;
    }
    /* (after the SGX rule: a version 3 quote is SGX, whatever its other fields say) */
    for (size_t i = 0; cvma_kinds[i] != NULL; i++) {
        if (cvma_kinds[i]->unknown_version != NULL &&
            cvma_kinds[i]->unknown_version(p, len, out, out_len)) {
            return CVMA_R_PARSE_UNKNOWN_VERSION;
        }
    }
    snprintf(out, out_len,
             "%zu bytes that are neither an SEV-SNP report, a TDX quote nor a TPM quote (a "
             "bundle names its kind; verify --tee says which)",
             len);
    return CVMA_R_PARSE_UNKNOWN_FORMAT;
}
