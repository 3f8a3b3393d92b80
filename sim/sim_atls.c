/* The simulated TEE as an attested-TLS evidence source (sim_atls.h). */
#include "sim/sim_atls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/base64.h"
#include "common/json_out.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "sim/sim_util.h"
#include "snp/snp.h"

/* SEV-SNP ABI spec, ATTESTATION_REPORT: REPORT_DATA at 0x50, REPORT_ID at 0x140. */
#define SNP_OFF_REPORT_DATA 0x050u
#define SNP_OFF_REPORT_ID   0x140u
#define P384_LEN            48u

/* Intel TDX DCAP quote: 48-byte header; v4 TD report 1.0 (584 bytes) follows it, v5 a 6-byte
 * body descriptor then TD report 1.5 (648 bytes). REPORTDATA is at 520 in either TD report;
 * the quote signature (r || s, P-256) follows the 4-byte signature data length. */
#define TDX_HEADER       48u
#define TDX_RD_IN_REPORT 520u

/* Collateral files a bundle carries (docs/collateral.md), when dir has them: what a
 * verification reads (the simulator writes each leaf as DER and PEM; the DER is read, and a
 * PEM beside it would be named as not checked). */
static const char *const coll_names[] = {
        "vcek.der",
        "vlek.der",
        "ask.pem",
        "asvk.pem",
        "cert_chain.pem",
        "crl.der",
        "tcb_info.json",
        "qe_identity.json",
        "tcb_info_issuer_chain.pem",
        "qe_identity_issuer_chain.pem",
        "pck_crl.der",
        "root_ca_crl.der",
};

/* dir/name, a PEM private key in a regular file (never waited on), or NULL. */
static EVP_PKEY *load_key(const char *dir, const char *name)
{
    char *path = cvma_path_join(dir, name);
    struct cvma_buf b = {0};
    EVP_PKEY *k = NULL;
    if (path != NULL && cvma_file_read_secret(path, 1u << 20, &b) == CVMA_OK) {
        k = cvma_pem_private_key(b.p, b.len);
    }
    cvma_buf_free_secret(&b);
    free(path);
    return k;
}

static enum cvma_status read_in(const char *dir, const char *name, struct cvma_buf *out)
{
    char *path = cvma_path_join(dir, name);
    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    enum cvma_status st = cvma_file_read(path, 8u << 20, out);
    free(path);
    return st;
}

/* Re-signs an SNP report with report_data. */
static enum cvma_status snp_resign(const char *dir, uint8_t *rep, size_t len,
                                   const uint8_t report_data[64], char *err, size_t err_len)
{
    uint8_t r[P384_LEN], s[P384_LEN];
    enum cvma_status st;
    EVP_PKEY *k = load_key(dir, "vcek-key.pem");
    if (k == NULL) {
        k = load_key(dir, "vlek-key.pem");
    }
    if (k == NULL || len != CVMA_SNP_REPORT_SIZE) {
        EVP_PKEY_free(k);
        cvma_sim_errf(err, err_len, "sim atls: %s lacks vcek-key.pem (sim snp --keep-keys)", dir);
        return CVMA_E_IO;
    }
    memcpy(rep + SNP_OFF_REPORT_DATA, report_data, 64);
    if ((st = cvma_sim_random(rep + SNP_OFF_REPORT_ID, 32)) == CVMA_OK) {
        st = cvma_sim_ecdsa_sign_raw(k, EVP_sha384(), rep, CVMA_SNP_SIGNED_SIZE, r, s, P384_LEN);
    }
    EVP_PKEY_free(k);
    if (st != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim atls: signing the report");
        return st;
    }
    memset(rep + CVMA_SNP_SIG_OFFSET, 0, 2 * CVMA_SNP_SIG_COMPONENT);
    for (size_t i = 0; i < P384_LEN; i++) {
        rep[CVMA_SNP_SIG_OFFSET + i] = r[P384_LEN - 1 - i];
        rep[CVMA_SNP_SIG_OFFSET + CVMA_SNP_SIG_COMPONENT + i] = s[P384_LEN - 1 - i];
    }
    return CVMA_OK;
}

/* Re-signs a TDX quote (v4 or v5, as the simulator writes them) with report_data. */
static enum cvma_status tdx_resign(const char *dir, uint8_t *q, size_t len,
                                   const uint8_t report_data[64], char *err, size_t err_len)
{
    unsigned version = len >= 2 ? (unsigned)(q[0] | (q[1] << 8)) : 0;
    size_t body = version == 5 ? TDX_HEADER + 6 : TDX_HEADER;
    size_t signed_len = version == 5 ? body + 648 : body + 584;
    enum cvma_status st;
    EVP_PKEY *k = load_key(dir, "attestation-key.pem");
    if (k == NULL || (version != 4 && version != 5) || len < signed_len + 4 + 64) {
        EVP_PKEY_free(k);
        cvma_sim_errf(err, err_len,
                      "sim atls: %s lacks attestation-key.pem (sim tdx --keep-keys) or its quote",
                      dir);
        return CVMA_E_IO;
    }
    memcpy(q + body + TDX_RD_IN_REPORT, report_data, 64);
    st = cvma_sim_ecdsa_sign_raw(k, EVP_sha256(), q, signed_len, q + signed_len + 4,
                                 q + signed_len + 4 + 32, 32);
    EVP_PKEY_free(k);
    if (st != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim atls: signing the quote");
    }
    return st;
}

enum cvma_status cvma_sim_atls_evidence(const char *dir, const uint8_t report_data[64],
                                        uint8_t **out, size_t *out_len, char *err, size_t err_len)
{
    struct cvma_buf ev = {0};
    const char *kind = "sev-snp";
    enum cvma_status st;
    json_t *j = NULL, *parts = NULL;
    char *b64 = NULL, *text = NULL;

    *out = NULL;
    *out_len = 0;
    if ((st = read_in(dir, "report.bin", &ev)) == CVMA_OK) {
        st = snp_resign(dir, ev.p, ev.len, report_data, err, err_len);
    } else if ((st = read_in(dir, "quote.bin", &ev)) == CVMA_OK) {
        kind = "tdx";
        st = tdx_resign(dir, ev.p, ev.len, report_data, err, err_len);
    } else {
        cvma_sim_errf(err, err_len, "sim atls: no report.bin or quote.bin in %s", dir);
    }
    if (st != CVMA_OK) {
        goto out;
    }
    st = CVMA_E_NOMEM;
    if ((j = json_object()) == NULL || (parts = json_array()) == NULL ||
        (b64 = cvma_base64_encode(ev.p, ev.len, CVMA_B64_STD)) == NULL ||
        json_object_set_new(j, "cvmattest_bundle", json_integer(1)) != 0 ||
        json_object_set_new(j, "kind", json_string(kind)) != 0 ||
        json_array_append_new(parts, json_pack("{s:s, s:s}", "role", "evidence", "data", b64)) !=
                0) {
        goto out;
    }
    for (size_t i = 0; i < sizeof coll_names / sizeof coll_names[0]; i++) {
        struct cvma_buf b = {0};
        if (read_in(dir, coll_names[i], &b) != CVMA_OK) {
            continue;
        }
        free(b64);
        b64 = cvma_base64_encode(b.p, b.len, CVMA_B64_STD);
        cvma_buf_free(&b);
        if (b64 == NULL ||
            json_array_append_new(parts, json_pack("{s:s, s:s, s:s}", "role", "collateral", "name",
                                                   coll_names[i], "data", b64)) != 0) {
            goto out;
        }
    }
    if (json_object_set(j, "parts", parts) != 0 || (text = cvma_json_compact(j, NULL)) == NULL) {
        goto out;
    }
    *out_len = strlen(text);
    *out = (uint8_t *)text;
    text = NULL;
    st = CVMA_OK;
out:
    free(text);
    free(b64);
    json_decref(parts);
    json_decref(j);
    cvma_buf_free(&ev);
    return st;
}

static enum cvma_status sim_evidence(void *ctx, const uint8_t report_data[64], const uint8_t *nonce,
                                     size_t nonce_len, uint8_t **out, size_t *out_len, char *err,
                                     size_t err_len)
{
    struct cvma_sim_atls *s = ctx;
    size_t i = s->switch_after == 0 ? 0 : s->served / s->switch_after;
    (void)nonce;
    (void)nonce_len;
    if (s->n_dirs == 0) {
        cvma_sim_errf(err, err_len, "sim atls: no directory");
        return CVMA_E_USAGE;
    }
    if (i >= s->n_dirs) {
        i = s->n_dirs - 1;
    }
    s->served++;
    return cvma_sim_atls_evidence(s->dirs[i], report_data, out, out_len, err, err_len);
}

void cvma_sim_atls_source(struct cvma_sim_atls *s, struct cvma_atls_source *src)
{
    src->evidence = sim_evidence;
    src->ctx = s;
}
