/* The claims.snp object: every report field, decoded, in the vendor's words (snake_case). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/hex.h"
#include "snp/snp.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"

static json_t *hexj(const uint8_t *p, size_t n)
{
    char buf[2 * 512 + 1];
    cvma_hex_encode(p, n, buf, sizeof buf);
    return json_string(buf);
}

static json_t *u64hex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return json_string(buf);
}

static json_t *tcb_json(uint64_t raw, enum cvma_snp_product product)
{
    struct cvma_snp_tcb t;
    cvma_snp_tcb_split(raw, product, &t);
    json_t *o = json_object();
    json_object_set_new(o, "raw", u64hex(raw));
    if (t.has_fmc) {
        json_object_set_new(o, "fmc", json_integer(t.fmc));
    }
    json_object_set_new(o, "bootloader", json_integer(t.bootloader));
    json_object_set_new(o, "tee", json_integer(t.tee));
    json_object_set_new(o, "snp", json_integer(t.snp));
    json_object_set_new(o, "microcode", json_integer(t.microcode));
    return o;
}

static json_t *bit(uint64_t v, unsigned b)
{
    return json_boolean((v >> b) & 1);
}

static json_t *policy_json(uint64_t p)
{
    json_t *o = json_object();
    json_object_set_new(o, "raw", u64hex(p));
    json_object_set_new(o, "abi_minor", json_integer((json_int_t)(p & 0xff)));
    json_object_set_new(o, "abi_major", json_integer((json_int_t)((p >> 8) & 0xff)));
    json_object_set_new(o, "smt", bit(p, 16));
    json_object_set_new(o, "migrate_ma", bit(p, 18));
    json_object_set_new(o, "debug", bit(p, 19));
    json_object_set_new(o, "single_socket", bit(p, 20));
    json_object_set_new(o, "cxl_allow", bit(p, 21));
    json_object_set_new(o, "mem_aes_256_xts", bit(p, 22));
    json_object_set_new(o, "rapl_dis", bit(p, 23));
    json_object_set_new(o, "ciphertext_hiding", bit(p, 24));
    json_object_set_new(o, "page_swap_disable", bit(p, 25));
    return o;
}

static json_t *platform_info_json(uint64_t p)
{
    json_t *o = json_object();
    json_object_set_new(o, "raw", u64hex(p));
    json_object_set_new(o, "smt_en", bit(p, 0));
    json_object_set_new(o, "tsme_en", bit(p, 1));
    json_object_set_new(o, "ecc_en", bit(p, 2));
    json_object_set_new(o, "rapl_dis", bit(p, 3));
    json_object_set_new(o, "ciphertext_hiding_en", bit(p, 4));
    json_object_set_new(o, "alias_check_complete", bit(p, 5));
    json_object_set_new(o, "iommu_write_safe", bit(p, 6));
    json_object_set_new(o, "sev_tio_en", bit(p, 7));
    json_t *unknown = json_array();
    for (unsigned b = 8; b < 64; b++) {
        if ((p >> b) & 1) {
            json_array_append_new(unknown, json_integer(b));
        }
    }
    json_object_set_new(o, "unknown_bits", unknown);
    return o;
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

json_t *cvma_snp_report_json(const struct cvma_snp_report *rep, enum cvma_snp_product product)
{
    json_t *o = json_object();
    char fw[32];

    json_object_set_new(o, "version", json_integer(rep->version));
    json_object_set_new(o, "product", json_string(cvma_snp_product_name(product)));
    json_object_set_new(o, "guest_svn", json_integer(rep->guest_svn));
    json_object_set_new(o, "policy", policy_json(rep->policy));
    json_object_set_new(o, "family_id", hexj(rep->family_id, sizeof rep->family_id));
    json_object_set_new(o, "image_id", hexj(rep->image_id, sizeof rep->image_id));
    json_object_set_new(o, "vmpl", json_integer(rep->vmpl));
    json_object_set_new(o, "signature_algo", json_integer(rep->signature_algo));
    json_object_set_new(o, "current_tcb", tcb_json(rep->current_tcb, product));
    json_object_set_new(o, "platform_info", platform_info_json(rep->platform_info));
    json_t *si = json_object();
    json_object_set_new(si, "raw", json_integer(rep->signer_info));
    json_object_set_new(si, "author_key_en", bit(rep->signer_info, 0));
    json_object_set_new(si, "mask_chip_key", bit(rep->signer_info, 1));
    json_object_set_new(si, "signing_key",
                        json_string(signing_key_name(cvma_snp_signing_key(rep))));
    json_object_set_new(o, "signer_info", si);
    json_object_set_new(o, "report_data", hexj(rep->report_data, sizeof rep->report_data));
    json_object_set_new(o, "measurement", hexj(rep->measurement, sizeof rep->measurement));
    json_object_set_new(o, "host_data", hexj(rep->host_data, sizeof rep->host_data));
    json_object_set_new(o, "id_key_digest", hexj(rep->id_key_digest, sizeof rep->id_key_digest));
    json_object_set_new(o, "author_key_digest",
                        hexj(rep->author_key_digest, sizeof rep->author_key_digest));
    json_object_set_new(o, "report_id", hexj(rep->report_id, sizeof rep->report_id));
    json_object_set_new(o, "report_id_ma", hexj(rep->report_id_ma, sizeof rep->report_id_ma));
    json_object_set_new(o, "reported_tcb", tcb_json(rep->reported_tcb, product));
    if (rep->version >= 3) {
        json_object_set_new(o, "cpuid_fam_id", json_integer(rep->cpuid_fam_id));
        json_object_set_new(o, "cpuid_mod_id", json_integer(rep->cpuid_mod_id));
        json_object_set_new(o, "cpuid_step", json_integer(rep->cpuid_step));
    }
    json_object_set_new(o, "chip_id", hexj(rep->chip_id, sizeof rep->chip_id));
    json_object_set_new(o, "committed_tcb", tcb_json(rep->committed_tcb, product));
    snprintf(fw, sizeof fw, "%u.%u.%u", rep->current_major, rep->current_minor, rep->current_build);
    json_object_set_new(o, "current_build", json_integer(rep->current_build));
    json_object_set_new(o, "current_minor", json_integer(rep->current_minor));
    json_object_set_new(o, "current_major", json_integer(rep->current_major));
    json_object_set_new(o, "committed_build", json_integer(rep->committed_build));
    json_object_set_new(o, "committed_minor", json_integer(rep->committed_minor));
    json_object_set_new(o, "committed_major", json_integer(rep->committed_major));
    json_object_set_new(o, "current_firmware", json_string(fw));
    json_object_set_new(o, "launch_tcb", tcb_json(rep->launch_tcb, product));
    if (rep->version >= 5) {
        json_object_set_new(o, "launch_mit_vector", u64hex(rep->launch_mit_vector));
        json_object_set_new(o, "current_mit_vector", u64hex(rep->current_mit_vector));
    }
    json_t *sig = json_object();
    json_object_set_new(sig, "r", hexj(rep->sig_r, sizeof rep->sig_r));
    json_object_set_new(sig, "s", hexj(rep->sig_s, sizeof rep->sig_s));
    json_object_set_new(o, "signature", sig);
    return o;
}

/* ---- the typed claims (snp/snp_claims.h) ---- */

static json_t *claims_to_json(const void *kind)
{
    const struct cvma_snp_claims *c = kind;
    json_t *o = cvma_snp_report_json(&c->report, c->product);
    if (o == NULL) {
        return NULL;
    }
    if (c->has_csp_id) {
        json_object_set_new(o, "csp_id", json_string(c->csp_id));
    }
    if (c->has_cert_product_name) {
        json_object_set_new(o, "cert_product_name", json_string(c->cert_product_name));
    }
    return o;
}

const struct cvma_claims_ops cvma_snp_claims_ops = {
        .key = "snp",
        .to_json = claims_to_json,
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
    return true;
}
