/* The claims.snp object: every report field, decoded, in the vendor's words (snake_case). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json_out.h"
#include "snp/snp.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"

/*
 * Written as text (common/json_out.h) rather than built as a jansson tree: the claims are
 * written for every verification a service answers, and the tree cost more than the rest of
 * the answer together. The order of the members is the document's (docs/results.md).
 */

static bool tcb_m(struct cvma_strbuf *b, bool *first, const char *k, uint64_t raw,
                  enum cvma_snp_product product)
{
    struct cvma_snp_tcb t;
    bool f = true;
    /* The components' places depend on the product (Turin's layout is not Milan's): a report
     * that names none (v2, shown unverified) gets its raw value only, never a guess. */
    if (product == CVMA_SNP_PRODUCT_UNKNOWN) {
        return cvma_json_key(b, first, k) && cvma_strbuf_add(b, "{", 1) &&
               cvma_jm_hex_be(b, &f, "raw", raw, 8) && cvma_strbuf_add(b, "}", 1);
    }
    cvma_snp_tcb_split(raw, product, &t);
    return cvma_json_key(b, first, k) && cvma_strbuf_add(b, "{", 1) &&
           cvma_jm_hex_be(b, &f, "raw", raw, 8) &&
           (!t.has_fmc || cvma_jm_int(b, &f, "fmc", t.fmc)) &&
           cvma_jm_int(b, &f, "bootloader", t.bootloader) && cvma_jm_int(b, &f, "tee", t.tee) &&
           cvma_jm_int(b, &f, "snp", t.snp) && cvma_jm_int(b, &f, "microcode", t.microcode) &&
           cvma_strbuf_add(b, "}", 1);
}

static bool policy_m(struct cvma_strbuf *b, bool *first, uint64_t p)
{
    bool f = true;
    return cvma_json_key(b, first, "policy") && cvma_strbuf_add(b, "{", 1) &&
           cvma_jm_hex_be(b, &f, "raw", p, 8) &&
           cvma_jm_int(b, &f, "abi_minor", (json_int_t)(p & 0xff)) &&
           cvma_jm_int(b, &f, "abi_major", (json_int_t)((p >> 8) & 0xff)) &&
           cvma_jm_bit(b, &f, "smt", p, 16) && cvma_jm_bit(b, &f, "migrate_ma", p, 18) &&
           cvma_jm_bit(b, &f, "debug", p, 19) && cvma_jm_bit(b, &f, "single_socket", p, 20) &&
           cvma_jm_bit(b, &f, "cxl_allow", p, 21) && cvma_jm_bit(b, &f, "mem_aes_256_xts", p, 22) &&
           cvma_jm_bit(b, &f, "rapl_dis", p, 23) &&
           cvma_jm_bit(b, &f, "ciphertext_hiding", p, 24) &&
           cvma_jm_bit(b, &f, "page_swap_disable", p, 25) && cvma_strbuf_add(b, "}", 1);
}

static bool platform_info_m(struct cvma_strbuf *b, bool *first, uint64_t p)
{
    bool f = true;
    bool ok = cvma_json_key(b, first, "platform_info") && cvma_strbuf_add(b, "{", 1) &&
              cvma_jm_hex_be(b, &f, "raw", p, 8) && cvma_jm_bit(b, &f, "smt_en", p, 0) &&
              cvma_jm_bit(b, &f, "tsme_en", p, 1) && cvma_jm_bit(b, &f, "ecc_en", p, 2) &&
              cvma_jm_bit(b, &f, "rapl_dis", p, 3) &&
              cvma_jm_bit(b, &f, "ciphertext_hiding_en", p, 4) &&
              cvma_jm_bit(b, &f, "alias_check_complete", p, 5) &&
              cvma_jm_bit(b, &f, "iommu_write_safe", p, 6) &&
              cvma_jm_bit(b, &f, "sev_tio_en", p, 7) &&
              cvma_jm_bits(b, &f, "unknown_bits", p & ~(uint64_t)0xff);
    return ok && cvma_strbuf_add(b, "}", 1);
}

static const char *signing_key_name(unsigned k)
{
    switch (k) {
    case CVMA_SNP_KEY_VCEK:
        return "vcek";
    case CVMA_SNP_KEY_VLEK:
        return "vlek";
    case CVMA_SNP_KEY_NONE:
        return "none";
    default:
        return "reserved";
    }
}

/* The report's members, without the braces around them. */
static bool report_members(struct cvma_strbuf *b, bool *first, const struct cvma_snp_report *rep,
                           enum cvma_snp_product product)
{
    bool fs = true, fg = true; /* signer_info's members, signature's */
    char fw[32];
    snprintf(fw, sizeof fw, "%u.%u.%u", rep->current_major, rep->current_minor, rep->current_build);
    return cvma_jm_int(b, first, "version", rep->version) &&
           cvma_jm_str(b, first, "product", cvma_snp_product_name(product)) &&
           cvma_jm_int(b, first, "guest_svn", rep->guest_svn) && policy_m(b, first, rep->policy) &&
           cvma_jm_hex(b, first, "family_id", rep->family_id, sizeof rep->family_id) &&
           cvma_jm_hex(b, first, "image_id", rep->image_id, sizeof rep->image_id) &&
           cvma_jm_int(b, first, "vmpl", rep->vmpl) &&
           cvma_jm_int(b, first, "signature_algo", rep->signature_algo) &&
           tcb_m(b, first, "current_tcb", rep->current_tcb, product) &&
           platform_info_m(b, first, rep->platform_info) &&
           cvma_json_key(b, first, "signer_info") && cvma_strbuf_add(b, "{", 1) &&
           cvma_jm_int(b, &fs, "raw", rep->signer_info) &&
           cvma_jm_bit(b, &fs, "author_key_en", rep->signer_info, 0) &&
           cvma_jm_bit(b, &fs, "mask_chip_key", rep->signer_info, 1) &&
           cvma_jm_str(b, &fs, "signing_key", signing_key_name(cvma_snp_signing_key(rep))) &&
           cvma_strbuf_add(b, "}", 1) &&
           cvma_jm_hex(b, first, "report_data", rep->report_data, sizeof rep->report_data) &&
           cvma_jm_hex(b, first, "measurement", rep->measurement, sizeof rep->measurement) &&
           cvma_jm_hex(b, first, "host_data", rep->host_data, sizeof rep->host_data) &&
           cvma_jm_hex(b, first, "id_key_digest", rep->id_key_digest, sizeof rep->id_key_digest) &&
           cvma_jm_hex(b, first, "author_key_digest", rep->author_key_digest,
                       sizeof rep->author_key_digest) &&
           cvma_jm_hex(b, first, "report_id", rep->report_id, sizeof rep->report_id) &&
           cvma_jm_hex(b, first, "report_id_ma", rep->report_id_ma, sizeof rep->report_id_ma) &&
           tcb_m(b, first, "reported_tcb", rep->reported_tcb, product) &&
           (rep->version < 3 || (cvma_jm_int(b, first, "cpuid_fam_id", rep->cpuid_fam_id) &&
                                 cvma_jm_int(b, first, "cpuid_mod_id", rep->cpuid_mod_id) &&
                                 cvma_jm_int(b, first, "cpuid_step", rep->cpuid_step))) &&
           cvma_jm_hex(b, first, "chip_id", rep->chip_id, sizeof rep->chip_id) &&
           tcb_m(b, first, "committed_tcb", rep->committed_tcb, product) &&
           cvma_jm_int(b, first, "current_build", rep->current_build) &&
           cvma_jm_int(b, first, "current_minor", rep->current_minor) &&
           cvma_jm_int(b, first, "current_major", rep->current_major) &&
           cvma_jm_int(b, first, "committed_build", rep->committed_build) &&
           cvma_jm_int(b, first, "committed_minor", rep->committed_minor) &&
           cvma_jm_int(b, first, "committed_major", rep->committed_major) &&
           cvma_jm_str(b, first, "current_firmware", fw) &&
           tcb_m(b, first, "launch_tcb", rep->launch_tcb, product) &&
           (rep->version < 5 ||
            (cvma_jm_hex_be(b, first, "launch_mit_vector", rep->launch_mit_vector, 8) &&
             cvma_jm_hex_be(b, first, "current_mit_vector", rep->current_mit_vector, 8))) &&
           cvma_json_key(b, first, "signature") && cvma_strbuf_add(b, "{", 1) &&
           cvma_jm_hex(b, &fg, "r", rep->sig_r, sizeof rep->sig_r) &&
           cvma_jm_hex(b, &fg, "s", rep->sig_s, sizeof rep->sig_s) && cvma_strbuf_add(b, "}", 1);
}

json_t *cvma_snp_report_json(const struct cvma_snp_report *rep, enum cvma_snp_product product)
{
    struct cvma_strbuf b = {0};
    bool first = true;
    bool ok = cvma_strbuf_add(&b, "{", 1) && report_members(&b, &first, rep, product) &&
              cvma_strbuf_add(&b, "}", 1);
    return cvma_json_tree_of(&b, ok);
}

/* ---- the typed claims (snp/snp_claims.h) ---- */

static bool claims_write(struct cvma_strbuf *b, const void *kind)
{
    const struct cvma_snp_claims *c = kind;
    bool first = true;
    return cvma_strbuf_add(b, "{", 1) && report_members(b, &first, &c->report, c->product) &&
           (!c->has_csp_id || cvma_jm_str(b, &first, "csp_id", c->csp_id)) &&
           (!c->has_cert_product_name ||
            cvma_jm_str(b, &first, "cert_product_name", c->cert_product_name)) &&
           cvma_strbuf_add(b, "}", 1);
}

static json_t *claims_to_json(const void *kind)
{
    struct cvma_strbuf b = {0};
    return cvma_json_tree_of(&b, claims_write(&b, kind));
}

const struct cvma_claims_ops cvma_snp_claims_ops = {
        .key = "snp",
        .to_json = claims_to_json,
        .write = claims_write,
        .free = free,
};

const struct cvma_snp_claims *cvma_snp_claims_of(const struct cvma_result *res)
{
    return cvma_claims_kind(&res->claims, &cvma_snp_claims_ops);
}

bool cvma_snp_claims_set(struct cvma_result *res, const struct cvma_snp_report *rep,
                         enum cvma_snp_product product, const char *csp_id,
                         const char *cert_product_name)
{
    struct cvma_snp_claims *c = malloc(sizeof *c);
    struct cvma_claims *cl = &res->claims;
    if (c == NULL) {
        return false;
    }
    memcpy(&c->report, rep, sizeof c->report);
    c->product = product;
    c->has_csp_id = csp_id != NULL;
    snprintf(c->csp_id, sizeof c->csp_id, "%s", csp_id ? csp_id : "");
    c->has_cert_product_name = cert_product_name != NULL;
    snprintf(c->cert_product_name, sizeof c->cert_product_name, "%s",
             cert_product_name ? cert_product_name : "");
    cvma_claims_set_kind(cl, &cvma_snp_claims_ops, c);
    memcpy(cl->measurement, rep->measurement, sizeof rep->measurement);
    cl->measurement_len = sizeof rep->measurement;
    memcpy(cl->report_data, rep->report_data, sizeof cl->report_data);
    cl->debug = (rep->policy & CVMA_SNP_POLICY_DEBUG) != 0;
    cl->verified = true;
    cl->hardware = true;
    return true;
}
