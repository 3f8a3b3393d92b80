/*
 * The evidence-kind table (verifier/kind.h): one row per kind, each defined beside the kind's
 * own code (src/snp/snp_kind.c, src/tdx/tdx_kind.c, src/tpm/tpm_kind.c). Detection tries the rows
 * in order.
 */
#include <stdio.h>
#include <string.h>

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

static bool starts_with(const uint8_t *p, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len >= n && memcmp(p, s, n) == 0;
}

void cvma_kind_explain_unknown(const uint8_t *p, size_t len, char *out, size_t out_len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')) {
        i++;
    }
    if (starts_with(p + i, len - i, "-----BEGIN CERTIFICATE-----") ||
        starts_with(p + i, len - i, "-----BEGIN TRUSTED CERTIFICATE-----")) {
        snprintf(out, out_len,
                 "this is an X.509 certificate (PEM), not evidence: a certificate is collateral "
                 "(--collateral DIR, docs/collateral.md)");
        return;
    }
    if (starts_with(p + i, len - i, "-----BEGIN X509 CRL-----")) {
        snprintf(out, out_len, "this is a CRL (PEM), not evidence: it is collateral");
        return;
    }
    if (starts_with(p + i, len - i, "-----BEGIN")) {
        snprintf(out, out_len, "this is a PEM file (a key or certificate?), not evidence");
        return;
    }
    /* DER SEQUENCE with a two-byte length, then a SEQUENCE (tbsCertificate / tbsCertList). */
    if (len >= 8 && p[0] == 0x30 && p[1] == 0x82 && p[4] == 0x30 && p[5] == 0x82) {
        snprintf(out, out_len,
                 "this looks like a DER X.509 certificate or CRL, not evidence: it is "
                 "collateral (--collateral DIR)");
        return;
    }
    /* Intel DCAP quote header with TEE type 0 (SGX): version 3 (always SGX) or 4/5. */
    if (len >= 8) {
        uint16_t ver = (uint16_t)(p[0] | p[1] << 8);
        uint32_t tee =
                (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        uint16_t key = (uint16_t)(p[2] | p[3] << 8);
        if ((ver == 3 && (key == 2 || key == 3)) || ((ver == 4 || ver == 5) && tee == 0)) {
            snprintf(out, out_len,
                     "this is an Intel SGX quote (version %u, TEE type 0): SGX quotes are not "
                     "supported, only TDX quotes (TEE type 0x81)",
                     (unsigned)ver);
            return;
        }
    }
    snprintf(out, out_len,
             "%zu bytes that are neither an SEV-SNP report, a TDX quote nor a TPM quote (use "
             "--tee to say which)",
             len);
}
