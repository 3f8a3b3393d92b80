/* Verification of Azure CVM evidence: see azure/azure.h and docs/azure.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "azure/azure.h"
#include "azure/azure_internal.h"
#include "collateral/source.h"
#include "common/allocfail.h"
#include "common/base64.h"
#include "common/hex.h"
#include "common/jcheck.h"
#include "common/json_out.h"
#include "common/reader.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"
#include "tdx/tdx.h"
#include "tdx/tdx_internal.h"
#include "tpm/tpm.h"

/* The kind's claims: the hardware kind's object, the TPM's, and the runtime claims. */
struct azure_claims {
    struct cvma_tpm_bound_claims bound; /* the hardware report's claims, the quote's */
    json_t *runtime;                    /* the runtime claims JSON as parsed */
    char ak_spki_sha256[65];
};

static json_t *azure_claims_to_json(const void *kind)
{
    const struct azure_claims *c = kind;
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    cvma_tpm_bound_claims_to_json(o, &c->bound);
    if (c->runtime != NULL) {
        json_t *vc = json_object_get(c->runtime, "vm-configuration");
        json_t *ud = json_object_get(c->runtime, "user-data");
        json_t *rc = json_object();
        if (rc != NULL) {
            if (json_is_object(vc)) {
                json_t *x;
                if ((x = json_object_get(vc, "vmUniqueId")) != NULL) {
                    json_object_set(rc, "vm_unique_id", x);
                }
                if ((x = json_object_get(vc, "secure-boot")) != NULL) {
                    json_object_set(rc, "secure_boot", x);
                }
                if ((x = json_object_get(vc, "tpm-enabled")) != NULL) {
                    json_object_set(rc, "tpm_enabled", x);
                }
                if ((x = json_object_get(vc, "console-enabled")) != NULL) {
                    json_object_set(rc, "console_enabled", x);
                }
            }
            if (ud != NULL) {
                json_object_set(rc, "user_data", ud);
            }
            json_object_set(rc, "raw", c->runtime);
            json_object_set_new(o, "runtime_claims", rc);
        }
    }
    /* The AK only when the quote's check took it from HCLAkPub: a refused HCLAkPub is no key,
     * though the runtime claims that hold it are the ones the hardware report vouches for. */
    if (c->ak_spki_sha256[0] != '\0') {
        json_object_set_new(
                o, "ak",
                json_pack("{s:s, s:s}", "kid", "HCLAkPub", "spki_sha256", c->ak_spki_sha256));
    }
    return o;
}

static void azure_claims_free(void *kind)
{
    struct azure_claims *c = kind;
    if (c == NULL) {
        return;
    }
    cvma_tpm_bound_claims_free(&c->bound);
    json_decref(c->runtime);
    free(c);
}

static const void *azure_claims_part(const void *kind, const struct cvma_claims_ops *ops)
{
    const struct azure_claims *c = kind;
    return cvma_tpm_bound_claims_part(&c->bound, ops);
}

static const struct cvma_claims_ops azure_claims_ops = {
        .key = "azure",
        .to_json = azure_claims_to_json,
        .free = azure_claims_free,
        .part = azure_claims_part,
};

/* HCLAkPub's member name (base64url of a big-endian integer, RFC 7518 §6.3.1) as a BIGNUM;
 * NULL with the reason recorded, or with v->oom set. */
static BIGNUM *jwk_bn(const json_t *key, const char *name, struct cvma_verdict *v)
{
    const json_t *j = json_object_get(key, name);
    const char *s = json_string_value(j);
    size_t len = json_string_length(j), n = 0;
    uint8_t buf[CVMA_AZURE_JWK_MAX_BYTES];
    BIGNUM *bn = NULL;

    if (s == NULL) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: HCLAkPub has no \"%s\" string", name);
        return NULL;
    }
    /* Unpadded base64url: len characters are len * 3 / 4 bytes. */
    if (len > cvma_base64_encoded_len(sizeof buf, CVMA_B64_URL)) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: HCLAkPub's \"%s\" is %zu base64url characters (%zu bytes): over the "
                    "%u bytes (%u bits) an AK's key may have",
                    name, len, len / 4 * 3 + (len % 4 > 1 ? len % 4 - 1 : 0),
                    (unsigned)CVMA_AZURE_JWK_MAX_BYTES, (unsigned)CVMA_AZURE_JWK_MAX_BYTES * 8);
        return NULL;
    }
    if (!cvma_base64_decode(s, len, CVMA_B64_URL, buf, sizeof buf, &n) || n == 0) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: HCLAkPub's \"%s\" is not base64url (no padding) of 1 or more bytes",
                    name);
        return NULL;
    }
    /* RFC 7518 §6.3.1.1 and §6.3.1.2: the minimum octets, so one key has one spelling (as a
     * TPM public area's modulus has no leading zero byte, docs/tpm.md). */
    if (buf[0] == 0) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: HCLAkPub's \"%s\" (%zu bytes) starts with a zero octet: a JWK's "
                    "integers are written in the minimum octets (RFC 7518 6.3.1)",
                    name, n);
        return NULL;
    }
    if ((bn = BN_bin2bn(buf, (int)n, NULL)) == NULL) {
        v->oom = true; /* not the key's fault */
    }
    return bn;
}

/* see azure/azure_internal.h */
char *cvma_azure_ak_pem_from_claims(const json_t *claims, struct cvma_verdict *v)
{
    json_t *keys = json_object_get(claims, "keys");
    const json_t *ak = NULL;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    BIO *bio = NULL;
    char *pem = NULL;
    unsigned long failures = cvma_allocfail_count(); /* OpenSSL's, below */

    size_t ak_at = 0;
    for (size_t i = 0; json_is_array(keys) && i < json_array_size(keys); i++) {
        const json_t *k = json_array_get(keys, i);
        const char *kid = json_string_value(json_object_get(k, "kid"));
        if (kid == NULL || strcmp(kid, "HCLAkPub") != 0) {
            continue;
        }
        /* One AK: with two, which one the paravisor made is not for the verifier to guess
         * (and the result's raw claims would show both). */
        if (ak != NULL) {
            cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                        "azure: the runtime claims' \"keys\" entries %zu and %zu both have kid "
                        "\"HCLAkPub\": which one is the AK?",
                        ak_at, i);
            return NULL;
        }
        ak = k;
        ak_at = i;
    }
    if (ak == NULL) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: the runtime claims have no \"keys\" entry with kid \"HCLAkPub\"");
        return NULL;
    }
    const char *kty = json_string_value(json_object_get(ak, "kty"));
    if (kty == NULL) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: HCLAkPub's \"kty\" is absent or not a string, not \"RSA\": an AK in "
                    "runtime claims is an RSA JWK");
        goto out;
    }
    if (strcmp(kty, "RSA") != 0) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: HCLAkPub's \"kty\" is \"%.16s\", not \"RSA\": an AK in runtime "
                    "claims is an RSA JWK",
                    kty);
        goto out;
    }
    if ((n = jwk_bn(ak, "n", v)) == NULL || (e = jwk_bn(ak, "e", v)) == NULL) {
        goto out;
    }
    if (BN_num_bits(n) < 2048) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: HCLAkPub's \"n\" is %d bits: an AK's RSA modulus has at least 2,048",
                    BN_num_bits(n));
        goto out;
    }
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0 ||
        (bio = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_PUBKEY(bio, pk)) {
        if (cvma_allocfail_count() != failures) {
            v->oom = true;
            goto out;
        }
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: HCLAkPub could not be made into an RSA public key");
        goto out;
    }
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    if (len > 0 && (pem = malloc((size_t)len + 1)) != NULL) {
        memcpy(pem, data, (size_t)len);
        pem[len] = '\0';
    } else {
        v->oom = true;
    }
    if (pem != NULL && cvma_allocfail_count() != failures) {
        free(pem); /* OpenSSL could not allocate on the way: the key is not to be trusted */
        pem = NULL;
        v->oom = true;
    }
out:
    BIO_free(bio);
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pem;
}

/* The evidence as its pieces: from Trustee's JSON, or a bare HCL report and bundle parts. */
struct pieces {
    struct cvma_span hcl, msg, sig, pcrs, vcek, td_quote;
};

/* Nothing accepted that was not checked: a bundle's tpm_* part that this form of Azure
 * evidence does not read (all of them beside Trustee's JSON, which carries its own quote;
 * any but tpm_quote, tpm_signature and tpm_pcrs beside a bare HCL report) is named. */
static void name_unused_tpm_parts(const struct cvma_verify_opts *opts, bool json_form,
                                  struct cvma_verdict *v)
{
    for (size_t i = 0; i < opts->n_collateral_parts; i++) {
        const char *n = opts->collateral_parts[i].name;
        if (strncmp(n, "tpm_", 4) != 0 ||
            (!json_form && (strcmp(n, "tpm_quote") == 0 || strcmp(n, "tpm_signature") == 0 ||
                            strcmp(n, "tpm_pcrs") == 0))) {
            continue;
        }
        cvma_reject(v, CVMA_R_PARSE_BUNDLE_PART_NOT_USED,
                    "the bundle has a %s part, but %s: it was not checked and gives no claims", n,
                    json_form ? "Trustee's JSON evidence carries its own TPM quote"
                              : "Azure evidence does not read it (the AK is the HCL report's)");
    }
}

static bool pieces_get(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                       struct cvma_azure_evidence *ev, struct pieces *pc, struct cvma_verdict *v)
{
    memset(pc, 0, sizeof *pc);
    name_unused_tpm_parts(opts, !cvma_azure_hcl_detect(p, len), v);
    if (cvma_azure_hcl_detect(p, len)) {
        const struct cvma_named_part *q = cvma_verify_opts_part(opts, "tpm_quote");
        const struct cvma_named_part *s = cvma_verify_opts_part(opts, "tpm_signature");
        const struct cvma_named_part *r = cvma_verify_opts_part(opts, "tpm_pcrs");
        pc->hcl.p = p;
        pc->hcl.len = len;
        if (q == NULL || s == NULL) {
            cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                        "azure: an HCL report alone binds no quote: the bundle needs the "
                        "tpm_quote and tpm_signature parts (or give Trustee's JSON evidence)");
            return false;
        }
        pc->msg = q->data;
        pc->sig = s->data;
        if (r != NULL) {
            pc->pcrs = r->data;
        }
        return true;
    }
    if (cvma_azure_evidence_parse(p, len, ev, v) != CVMA_OK) {
        return false;
    }
    pc->hcl.p = ev->hcl_report.p;
    pc->hcl.len = ev->hcl_report.len;
    pc->msg.p = ev->quote_msg.p;
    pc->msg.len = ev->quote_msg.len;
    pc->sig.p = ev->quote_sig.p;
    pc->sig.len = ev->quote_sig.len;
    if (ev->pcrs_json != NULL) {
        pc->pcrs.p = (const uint8_t *)ev->pcrs_json;
        pc->pcrs.len = strlen(ev->pcrs_json);
    }
    pc->vcek.p = ev->vcek.p;
    pc->vcek.len = ev->vcek.len;
    pc->td_quote.p = ev->td_quote.p;
    pc->td_quote.len = ev->td_quote.len;
    return true;
}

/* Verifies the hardware report into hw; false when it could not be tried at all. */
static bool hw_verify(const struct pieces *pc, const struct cvma_azure_hcl *h,
                      const struct cvma_verify_opts *opts, bool tdx, struct cvma_result *hw,
                      struct cvma_verdict *v)
{
    struct cvma_verify_opts o = *opts;
    struct cvma_named_part *parts = NULL;

    o.has_report_data = false; /* REPORT_DATA is the runtime claims' hash, checked here */
    o.has_nonce = false;
    /* A member of the other kind is not evidence of this one: named, never passed over. */
    if (tdx ? pc->vcek.p != NULL : pc->td_quote.p != NULL) {
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure-%s: the evidence carries \"%s\", which only azure-%s evidence has: "
                    "it is not checked, and the evidence is not one kind's",
                    tdx ? "tdx" : "snp", tdx ? "vcek" : "td_quote", tdx ? "snp" : "tdx");
        return false;
    }
    if (tdx) {
        struct cvma_azure_tdreport tr;
        if (!cvma_azure_tdreport_read(&h->hw_report, &tr) ||
            tr.type != CVMA_AZURE_TDREPORT_TYPE_TDX) {
            cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                        "azure: the hardware report is not a TDREPORT (type 0x%02x, 0x81 wanted)",
                        tr.type);
            return false;
        }
        if (pc->td_quote.p == NULL) {
            cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                        "azure-tdx: no \"td_quote\": a TDREPORT is MAC-ed, not signed; the TD "
                        "quote is what verifies");
            return false;
        }
        /* The quote's TD report must be the TDREPORT's (MRTD and REPORTDATA), whether or
         * not its collateral can be had; its own parse reasons come from cvma_tdx_verify. */
        struct cvma_tdx_td_report body;
        if (cvma_tdx_quote_peek(pc->td_quote.p, pc->td_quote.len, &body, &v->oom) &&
            (CRYPTO_memcmp(body.mr_td, tr.mr_td, sizeof tr.mr_td) != 0 ||
             CRYPTO_memcmp(body.report_data, tr.report_data, sizeof tr.report_data) != 0)) {
            cvma_reject(v, CVMA_R_AZURE_TD_QUOTE_MISMATCH,
                        "azure-tdx: the TD quote's MRTD or REPORTDATA differ from the HCL "
                        "report's TDREPORT: the quote is of another TD or another report");
        }
        cvma_tdx_verify(pc->td_quote.p, pc->td_quote.len, &o, NULL, hw);
        return true;
    }
    if (pc->vcek.p != NULL) {
        /* The evidence's own VCEK is the one checked: a VCEK part of the bundle (or of the
         * caller's collateral) is left out, else whichever name was looked up first won. One
         * the bundle carried is named, never silently passed over. */
        size_t n = 0;
        if ((parts = calloc(opts->n_collateral_parts + 1, sizeof *parts)) == NULL) {
            v->oom = true;
            return false;
        }
        /* Named vcek.der whatever its form (PEM or DER: the leaf is read either way): the
         * name looked up first, which a part answers before the caller's directory. Named
         * vcek.pem, a PEM VCEK lost to a vcek.der in --collateral DIR. */
        parts[n].name = "vcek.der";
        parts[n++].data = pc->vcek;
        for (size_t i = 0; i < opts->n_collateral_parts; i++) {
            const struct cvma_named_part *q = &opts->collateral_parts[i];
            if (strcmp(q->name, "vcek.der") != 0 && strcmp(q->name, "vcek.pem") != 0) {
                parts[n++] = *q;
            } else if (!q->own) {
                cvma_reject(v, CVMA_R_PARSE_BUNDLE_PART_NOT_USED,
                            "the bundle has a %s part, but Trustee's JSON evidence carries its "
                            "own VCEK, which is the one checked: the part was not used",
                            q->name);
            }
        }
        o.collateral_parts = parts;
        o.n_collateral_parts = n;
    }
    /* The paravisor asks for the report at VMPL 0; the guest OS runs at a higher VMPL, and a
     * report it asked for (with REPORT_DATA of its choosing) vouches for nothing here. Read
     * from the report's bytes, so that it stops the chain whether or not the report's
     * signature or collateral could be checked. VMPL 0 is necessary, not sufficient: an
     * SEV-SNP guest without a paravisor runs at VMPL 0 too. Only the launch measurement,
     * pinned by the policy, shows the paravisor made the report (VTPM_PARAVISOR_NOT_PINNED). */
    struct cvma_snp_report *rep = malloc(sizeof *rep);
    bool vmpl_read =
            rep != NULL && cvma_snp_report_peek(h->hw_report.p, h->hw_report.len, rep, &v->oom);
    uint32_t vmpl = vmpl_read ? rep->vmpl : 0;
    v->oom = v->oom || rep == NULL;
    free(rep);
    cvma_snp_verify(h->hw_report.p, h->hw_report.len, &o, NULL, hw);
    free(parts);
    if (vmpl_read && vmpl != 0) {
        cvma_reject(v, CVMA_R_AZURE_HCL_VMPL,
                    "azure-snp: the SEV-SNP report in the HCL report was made at VMPL %" PRIu32
                    ", not 0: only the paravisor (VMPL 0) vouches for the runtime claims and the "
                    "vTPM keys in them",
                    vmpl);
        return false;
    }
    return true;
}

/* j nests deeper than max levels (an object or array holding values is one level). */
static bool json_depth_over(const json_t *j, int max)
{
    if (max < 0) {
        return true;
    }
    if (json_is_object(j)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)(uintptr_t)j, k, x)
        {
            if (json_depth_over(x, max - 1)) {
                return true;
            }
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (json_depth_over(json_array_get(j, i), max - 1)) {
                return true;
            }
        }
    }
    return false;
}

/* The vm-configuration members the result gives back, each with the one JSON type the
 * paravisor writes (booleans, and vmUniqueId a string). */
static const struct {
    const char *name;
    json_type type;
} vm_members[] = {
        {"secure-boot", JSON_TRUE},
        {"tpm-enabled", JSON_TRUE},
        {"console-enabled", JSON_TRUE},
        {"vmUniqueId", JSON_STRING},
};

/*
 * The members that go into the result hold the type the paravisor writes: "vm-configuration"
 * an object whose secure-boot, tpm-enabled and console-enabled are booleans and vmUniqueId a
 * string, and "user-data" the 64 bytes of NV index 0x01400002 as 128 hex digits. A member may
 * be absent (older paravisors leave some out: then the result has no such claim), never of
 * another type: a string "true" or a null would be handed on as if the paravisor said it.
 */
static bool members_typed(const json_t *claims, struct cvma_verdict *v)
{
    const json_t *vc = json_object_get(claims, "vm-configuration");
    const json_t *ud = json_object_get(claims, "user-data");
    uint8_t bytes[64];

    if (vc != NULL && !json_is_object(vc)) {
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                    "azure: the runtime claims' \"vm-configuration\" is %s, not an object",
                    cvma_json_type_name(vc));
        return false;
    }
    for (size_t i = 0; vc != NULL && i < CVMA_ARRAY_LEN(vm_members); i++) {
        const json_t *m = json_object_get(vc, vm_members[i].name);
        bool ok = vm_members[i].type == JSON_STRING ? json_is_string(m) : json_is_boolean(m);
        if (m != NULL && !ok) {
            cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                        "azure: the runtime claims' vm-configuration \"%s\" is %s, not %s",
                        vm_members[i].name, cvma_json_type_name(m),
                        vm_members[i].type == JSON_STRING ? "a string" : "a boolean");
            return false;
        }
    }
    if (ud != NULL && !cvma_azure_claims_user_data(claims, bytes)) {
        const char *s = json_string_value(ud);
        size_t len = json_string_length(ud), at = 0;
        while (s != NULL && at < len && cvma_hex_nibble((unsigned char)s[at]) >= 0) {
            at++;
        }
        if (s != NULL && len != 128) {
            cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                        "azure: the runtime claims' \"user-data\" is %zu characters long, not "
                        "128 hex digits (the 64 bytes of NV index 0x01400002)",
                        len);
        } else if (s != NULL) {
            cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                        "azure: the runtime claims' \"user-data\" has a character other than a "
                        "hex digit at %zu: not the 64 bytes of NV index 0x01400002 as hex",
                        at);
        } else {
            cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                        "azure: the runtime claims' \"user-data\" is %s, not a string of 128 "
                        "hex digits (the 64 bytes of NV index 0x01400002)",
                        cvma_json_type_name(ud));
        }
        return false;
    }
    return true;
}

/* see azure/azure_internal.h */
enum cvma_status cvma_azure_runtime_claims_parse(const struct cvma_span *claims, json_t **out,
                                                 struct cvma_verdict *v)
{
    json_error_t je;
    bool oom;
    json_t *j = cvma_json_loadb_capped(claims->p, claims->len, CVMA_JSON_EVIDENCE_MAX_VALUES, &je,
                                       &oom);

    *out = NULL;
    if (oom) {
        v->oom = true; /* an error, never a verdict on the evidence */
        return CVMA_E_NOMEM;
    }
    if (j == NULL) {
        return cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                           "azure: the runtime claims are not one JSON object: %s, at byte %d",
                           je.text, je.position);
    }
    if (!json_is_object(j)) {
        const char *what = cvma_json_type_name(j);
        json_decref(j);
        return cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                           "azure: the runtime claims are %s, not a JSON object", what);
    }
    /* They go into the result's claims a few levels down: nested deeper than any runtime
     * claims are, they would make the result deeper than a JSON reader takes. */
    if (json_depth_over(j, CVMA_AZURE_RUNTIME_CLAIMS_MAX_DEPTH)) {
        json_decref(j);
        return cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_MALFORMED,
                           "azure: the runtime claims nest deeper than %d levels",
                           CVMA_AZURE_RUNTIME_CLAIMS_MAX_DEPTH);
    }
    if (!members_typed(j, v)) {
        json_decref(j);
        return CVMA_REJECTED;
    }
    *out = j;
    return CVMA_OK;
}

/* see azure/azure_internal.h */
bool cvma_azure_claims_user_data(const json_t *claims, uint8_t out[64])
{
    const json_t *j = json_object_get(claims, "user-data");
    const char *ud = json_string_value(j);
    size_t n = 0;
    /* The JSON length too: a \u0000 after 128 digits would end the C string early. */
    if (ud == NULL || json_string_length(j) != 128 || !cvma_hex_decode(ud, out, 64, &n) ||
        n != 64) {
        memset(out, 0, 64);
        return false;
    }
    return true;
}

/* see azure/azure_internal.h */
bool cvma_azure_tdreport_read(const struct cvma_span *hw, struct cvma_azure_tdreport *out)
{
    struct cvma_reader r;

    memset(out, 0, sizeof *out);
    cvma_reader_init(&r, hw->p, hw->len);
    /* Intel TDX Module ABI, TDREPORT_STRUCT: REPORTMACSTRUCT (REPORTTYPE first, REPORTDATA at
     * 128), then TEE_TCB_INFO (239 bytes) and reserved, then TDINFO (MRTD at 528). */
    if (!cvma_reader_u8(&r, &out->type) ||
        !cvma_reader_skip(&r, CVMA_AZURE_TDREPORT_REPORT_DATA_OFF - 1) ||
        !cvma_reader_bytes(&r, out->report_data, sizeof out->report_data) ||
        !cvma_reader_skip(&r, CVMA_AZURE_TDREPORT_MRTD_OFF -
                                      (CVMA_AZURE_TDREPORT_REPORT_DATA_OFF + 64)) ||
        !cvma_reader_bytes(&r, out->mr_td, sizeof out->mr_td)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

/* see azure/azure_internal.h */
bool cvma_azure_report_data(const struct cvma_span *hw, bool tdx, uint8_t out[64])
{
    struct cvma_reader r;
    cvma_reader_init(&r, hw->p, hw->len);
    if (!cvma_reader_skip(&r, tdx ? CVMA_AZURE_TDREPORT_REPORT_DATA_OFF
                                  : CVMA_AZURE_SNP_REPORT_DATA_OFF) ||
        !cvma_reader_bytes(&r, out, 64)) {
        memset(out, 0, 64);
        return false;
    }
    return true;
}

void cvma_azure_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts, bool tdx,
                       struct cvma_result *res)
{
    struct cvma_azure_evidence ev;
    struct cvma_azure_hcl h;
    struct pieces pc;
    struct cvma_result hw, tq;
    struct cvma_verdict *v = &res->verdict;
    uint8_t digest[32];
    json_t *claims = NULL;
    char *ak_pem = NULL;
    uint8_t *wrapped = NULL;
    uint8_t rd[64];

    memset(&ev, 0, sizeof ev);
    cvma_result_init(&hw, tdx ? "tdx" : "sev-snp", opts->at);
    cvma_result_init(&tq, "tpm", opts->at);
    v->checks_required = CVMA_CHECK_PARSE | CVMA_CHECK_SIGNATURE;
    if (!pieces_get(p, len, opts, &ev, &pc, v) ||
        cvma_azure_hcl_parse(pc.hcl.p, pc.hcl.len, opts->allow_trailing_data, &h, v) != CVMA_OK) {
        goto out;
    }
    /* Trustee's JSON with neither vcek nor td_quote is read as azure-snp (td_quote is what
     * tells the kinds apart): with a TDREPORT inside, what is missing is the TD quote. */
    if (!tdx && h.report_type == CVMA_AZURE_REPORT_TYPE_TDX && !cvma_azure_hcl_detect(p, len) &&
        pc.vcek.p == NULL && pc.td_quote.p == NULL) {
        cvma_reject(v, CVMA_R_AZURE_EVIDENCE_MALFORMED,
                    "azure-tdx: no \"td_quote\": the HCL report holds a TDX TDREPORT, which is "
                    "MAC-ed, not signed; azure-tdx evidence needs the TD quote that verifies it");
        goto out;
    }
    if (h.report_type != (tdx ? CVMA_AZURE_REPORT_TYPE_TDX : CVMA_AZURE_REPORT_TYPE_SNP)) {
        cvma_reject(v, CVMA_R_AZURE_HCL_REPORT_TYPE,
                    "azure: the HCL report holds %s, the evidence was given as azure-%s",
                    h.report_type == CVMA_AZURE_REPORT_TYPE_SNP ? "an SEV-SNP report"
                                                                : "a TDX TDREPORT",
                    tdx ? "tdx" : "snp");
        goto out;
    }

    /* 1. The hardware report, verified as any report of its kind. */
    if (!hw_verify(&pc, &h, opts, tdx, &hw, v)) {
        goto out;
    }
    v->checks_required |= hw.verdict.checks_required;

    /* 2. REPORT_DATA = SHA-256(runtime claims) || 32 zero bytes. */
    if (!cvma_azure_report_data(&h.hw_report, tdx, rd)) {
        cvma_reject(v, CVMA_R_AZURE_HCL_MALFORMED,
                    "azure: the hardware report (%zu bytes) is too short for REPORT_DATA",
                    h.hw_report.len);
        goto out;
    }
    if (EVP_Digest(h.claims.p, h.claims.len, digest, NULL, EVP_sha256(), NULL) != 1) {
        v->oom = true;
        goto out;
    }
    if (CRYPTO_memcmp(rd, digest, 32) != 0 || !cvma_bytes_are_zero(rd + 32, 32)) {
        char got[129], want[65];
        cvma_hex_encode(rd, 64, got, sizeof got);
        cvma_hex_encode(digest, 32, want, sizeof want);
        cvma_reject(v, CVMA_R_AZURE_RUNTIME_CLAIMS_HASH,
                    "azure: REPORT_DATA is %s, SHA-256 of the runtime claims is %s (then 32 zero "
                    "bytes): the claims are not the ones the hardware report vouches for",
                    got, want);
        goto out;
    }
    if (cvma_azure_runtime_claims_parse(&h.claims, &claims, v) != CVMA_OK) {
        goto out;
    }
    if (opts->has_report_data) {
        const char *ud = json_string_value(json_object_get(claims, "user-data"));
        uint8_t udb[64];
        if (!cvma_azure_claims_user_data(claims, udb) ||
            CRYPTO_memcmp(udb, opts->report_data, 64) != 0) {
            cvma_reject(
                    v, CVMA_R_NONCE_REPORT_DATA_MISMATCH,
                    "azure: the runtime claims' user-data is '%s', not the expected report data",
                    ud != NULL ? ud : "(none)");
        }
    }

    /* 3. The AK from the claims; 4. the quote it signed; 5. its PCRs. */
    if ((ak_pem = cvma_azure_ak_pem_from_claims(claims, v)) == NULL) {
        goto out;
    }
    struct cvma_tpm_quote_in in;
    memset(&in, 0, sizeof in);
    in.attest = pc.msg;
    in.sig = pc.sig;
    /* Trustee stores the bare RSA signature (the AK is RSASSA-PKCS1-v1_5 with SHA-256): as a
     * TPMT_SIGNATURE it is sigAlg TPM_ALG_RSASSA, hash TPM_ALG_SHA256, then a TPM2B. A
     * TPMT_SIGNATURE of an RSA key is never 256, 384 or 512 bytes long. */
    if (pc.sig.len == 256 || pc.sig.len == 384 || pc.sig.len == 512) {
        if ((wrapped = malloc(pc.sig.len + 6)) == NULL) {
            v->oom = true;
            goto out;
        }
        wrapped[0] = 0x00;
        wrapped[1] = 0x14; /* TPM_ALG_RSASSA */
        wrapped[2] = 0x00;
        wrapped[3] = 0x0b; /* TPM_ALG_SHA256 */
        wrapped[4] = (uint8_t)(pc.sig.len >> 8);
        wrapped[5] = (uint8_t)pc.sig.len;
        memcpy(wrapped + 6, pc.sig.p, pc.sig.len);
        in.sig.p = wrapped;
        in.sig.len = pc.sig.len + 6;
    }
    in.ak.p = (const uint8_t *)ak_pem;
    in.ak.len = strlen(ak_pem);
    in.pcrs = pc.pcrs;
    /* A measured-boot log (bundle part "event_log") is replayed against the PCRs the quote's
     * digest covers, exactly as for the tpm kind (docs/eventlog.md). */
    const struct cvma_named_part *log = cvma_verify_opts_part(opts, "event_log");
    if (log != NULL) {
        in.eventlog = log->data;
    }
    in.has_nonce = opts->has_nonce;
    in.nonce = opts->nonce;
    in.nonce_len = opts->nonce_len;
    in.allow_trailing_data = opts->allow_trailing_data;
    in.ak_bound_by = tdx ? "tdx quote (azure runtime claims)"
                         : "sev-snp report (azure runtime "
                           "claims)";
    cvma_tpm_quote_verify(&in, &tq);
    /* The AK is a bare key (a JWK): its TPM attributes are not given. The hardware report
     * names it through the runtime claims; that the paravisor made the report (and so the
     * key) only a policy pinning its launch measurement shows (VTPM_PARAVISOR_NOT_PINNED,
     * given by the pipeline once the policy is known). */
    for (size_t i = 0; i < tq.verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &tq.verdict.reasons[i];
        if (r->code == CVMA_R_TPM_AK_ATTRIBUTES_UNKNOWN) {
            cvma_verdict_add(v, CVMA_R_AZURE_AK_FROM_RUNTIME_CLAIMS, CVMA_SEV_INFO,
                             "azure: the AK is HCLAkPub of the runtime claims the %s names; "
                             "its TPM attributes are not given (a JWK). It is the paravisor's "
                             "vTPM key only if the paravisor made the %s: only a policy pinning "
                             "its launch measurement shows that",
                             tdx ? "TD quote" : "SEV-SNP report", tdx ? "quote" : "report");
        } else {
            cvma_verdict_add(v, r->code, r->severity, "%s", r->detail);
        }
    }
    if (tq.verdict.oom) {
        v->oom = true;
    }

out:;
    /* The hardware verdict, claims and platform become the result's. */
    struct azure_claims *ac = hw.claims.verified ? calloc(1, sizeof *ac) : NULL;
    if (cvma_tpm_merge_bound(v, res, &hw, &tq, ac != NULL ? &ac->bound : NULL)) {
        ac->runtime = claims;
        claims = NULL;
        if (strncmp(tq.trust_anchor, "tpm-ak:", 7) == 0) {
            size_t n = strnlen(tq.trust_anchor + 7, sizeof ac->ak_spki_sha256 - 1);
            memcpy(ac->ak_spki_sha256, tq.trust_anchor + 7, n);
            ac->ak_spki_sha256[n] = '\0';
        }
        cvma_claims_set_kind(&res->claims, &azure_claims_ops, ac);
        res->claims.verified = true;
    }
    json_decref(claims);
    free(ak_pem);
    free(wrapped);
    cvma_result_cleanup(&hw);
    cvma_result_cleanup(&tq);
    cvma_azure_evidence_cleanup(&ev);
}
