/*
 * The SVSM-bound vTPM row of the evidence-kind table (verifier/kind.h), kind "svsm-vtpm"
 * (docs/vtpm-binding.md, docs/bundle.md): a bundle whose evidence part is the SEV-SNP report
 * the Coconut SVSM made for its vTPM service, with the parts "svsm_manifest" (the vTPM EK's
 * TPMT_PUBLIC), "tpm_quote", "tpm_signature", "tpm_ak" and optionally "tpm_pcrs" and
 * "event_log". The chain: the report (as any SEV-SNP report) -> VMPL 0 -> REPORT_DATA =
 * SHA-512(nonce(64) || manifest) -> the EK -> (credential activation) -> the AK -> the quote
 * (extraData = the nonce) -> the PCRs (-> the log).
 *
 * Credential activation is interactive. A one-shot verify cannot do it: the AK-to-EK link is
 * then VTPM_AK_EK_UNPROVEN (warning, never affirming). The two-step library flow
 * (cvma_vtpm_svsm_challenge, then cvma_vtpm_svsm_bundle_verify with the session and what the
 * TPM returned) proves it.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "collateral/source.h"
#include "common/hex.h"
#include "snp/snp_claims.h"
#include "tpm/tpm.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"
#include "vtpm/vtpm.h"

/* The kind's claims: the SEV-SNP report's, the quote's, the EK and how the AK is tied. */
struct svsm_claims {
    struct cvma_tpm_bound_claims bound; /* the hardware report's claims, the quote's */
    char ek_name[2 * sizeof(TPMU_NAME) + 1];
    bool activated; /* the credential-activation round trip proved the AK-to-EK link */
};

static json_t *svsm_claims_to_json(const void *kind)
{
    const struct svsm_claims *c = kind;
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    cvma_tpm_bound_claims_to_json(o, &c->bound);
    json_object_set_new(o, "ek", json_pack("{s:s}", "name", c->ek_name));
    json_object_set_new(o, "ak_binding",
                        json_string(c->activated ? "credential-activation" : "unproven"));
    return o;
}

static void svsm_claims_free(void *kind)
{
    struct svsm_claims *c = kind;
    if (c == NULL) {
        return;
    }
    cvma_tpm_bound_claims_free(&c->bound);
    free(c);
}

static const void *svsm_claims_part(const void *kind, const struct cvma_claims_ops *ops)
{
    const struct svsm_claims *c = kind;
    return cvma_tpm_bound_claims_part(&c->bound, ops);
}

static const struct cvma_claims_ops svsm_claims_ops = {
        .key = "svsm_vtpm",
        .to_json = svsm_claims_to_json,
        .free = svsm_claims_free,
        .part = svsm_claims_part,
};

/* The EK (the manifest) and the AK's public area of the bundle; false with err set and, when
 * given, *code the reason: PARSE_TRUNCATED for a missing part, VTPM_EK_MALFORMED or
 * TPM_AK_MALFORMED for one that is not a public area. */
static bool keys_of(const struct cvma_verify_opts *opts, TPMT_PUBLIC *ek, TPMT_PUBLIC *ak,
                    const char **err, enum cvma_reason *code)
{
    const struct cvma_named_part *m = cvma_verify_opts_part(opts, "svsm_manifest");
    const struct cvma_named_part *a = cvma_verify_opts_part(opts, "tpm_ak");
    enum cvma_reason unused;
    code = code != NULL ? code : &unused;
    if (m == NULL || a == NULL) {
        *code = CVMA_R_PARSE_TRUNCATED;
        *err = m == NULL ? "the bundle has no svsm_manifest part (the vTPM EK's TPMT_PUBLIC)"
                         : "the bundle has no tpm_ak part";
        return false;
    }
    if (!cvma_tpm_public_read(m->data.p, m->data.len, ek)) {
        *code = CVMA_R_VTPM_EK_MALFORMED;
        *err = "the svsm_manifest part is not exactly one TPMT_PUBLIC";
        return false;
    }
    if (!cvma_tpm_public_read(a->data.p, a->data.len, ak)) {
        *code = CVMA_R_TPM_AK_MALFORMED;
        *err = "the tpm_ak part is not a TPMT_PUBLIC or TPM2B_PUBLIC (a credential is made "
               "for the AK's name, which needs its public area)";
        return false;
    }
    return true;
}

static bool names_equal(const TPM2B_NAME *a, const TPM2B_NAME *b)
{
    return a->size == b->size && a->size <= sizeof a->name &&
           CRYPTO_memcmp(a->name, b->name, a->size) == 0;
}

/* see vtpm/vtpm.h */
enum cvma_status cvma_vtpm_svsm_challenge(const struct cvma_verify_opts *opts,
                                          struct cvma_vtpm_svsm_session *s, char *err,
                                          size_t err_len)
{
    TPMT_PUBLIC ek, ak;
    const char *why = NULL;
    memset(s, 0, sizeof *s);
    if (!keys_of(opts, &ek, &ak, &why, NULL)) {
        cvma_errf(err, err_len, "svsm-vtpm: %s", why);
        return CVMA_E_USAGE;
    }
    if (!cvma_tpm_public_name(&ek, &s->ek_name)) {
        cvma_errf(err, err_len,
                  "svsm-vtpm: the EK's name algorithm 0x%04x is not supported (SHA-1, SHA-256, "
                  "SHA-384, SHA-512)",
                  (unsigned)ek.nameAlg);
        return CVMA_E_USAGE;
    }
    if (!cvma_tpm_public_name(&ak, &s->ak_name)) {
        cvma_errf(err, err_len,
                  "svsm-vtpm: the AK's name algorithm 0x%04x is not supported (SHA-1, SHA-256, "
                  "SHA-384, SHA-512): a credential is made for the AK's name",
                  (unsigned)ak.nameAlg);
        return CVMA_E_USAGE;
    }
    enum cvma_status st = cvma_tpm_make_credential(&ek, &s->ak_name, &s->cred);
    if (st != CVMA_OK) {
        cvma_errf(err, err_len,
                  "svsm-vtpm: no credential can be made for this EK (only the "
                  "RSA-2048 EK template L-1 is supported)");
    }
    return st;
}

/* see vtpm/vtpm.h */
void cvma_vtpm_svsm_session_cleanup(struct cvma_vtpm_svsm_session *s)
{
    if (s != NULL) {
        cvma_tpm_credential_cleanup(&s->cred);
        OPENSSL_cleanse(s, sizeof *s);
    }
}

/* see vtpm/vtpm.h */
void cvma_vtpm_svsm_bundle_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                                  const struct cvma_vtpm_svsm_session *session,
                                  const uint8_t *activated, size_t activated_len,
                                  struct cvma_result *res)
{
    struct cvma_verdict *v = &res->verdict;
    struct cvma_result hw, tq;
    TPMT_PUBLIC ek, ak, ek_bound;
    TPM2B_NAME ek_name, ak_name;
    uint8_t nonce[64];
    const char *why = NULL;
    bool bound = false, activated_ok = false, named = true;

    memset(&ek_name, 0, sizeof ek_name);
    memset(&ak_name, 0, sizeof ak_name);
    cvma_result_init(&hw, "sev-snp", opts->at);
    cvma_result_init(&tq, "tpm", opts->at);
    v->checks_required = CVMA_CHECK_PARSE | CVMA_CHECK_SIGNATURE;
    cvma_tpm_check_no_report_data(opts, v, "svsm-vtpm");
    const struct cvma_named_part *q = cvma_verify_opts_part(opts, "tpm_quote");
    const struct cvma_named_part *sig = cvma_verify_opts_part(opts, "tpm_signature");
    const struct cvma_named_part *m = cvma_verify_opts_part(opts, "svsm_manifest");
    const struct cvma_named_part *akp = cvma_verify_opts_part(opts, "tpm_ak");
    enum cvma_reason keys_bad = CVMA_R_COUNT_;
    if (q == NULL || sig == NULL || m == NULL || akp == NULL) {
        (void)keys_of(opts, &ek, &ak, &why, NULL);
        cvma_reject(v, CVMA_R_PARSE_TRUNCATED,
                    "svsm-vtpm: %s: the kind is the SVSM's report with the vTPM manifest, the "
                    "quote (tpm_quote, tpm_signature) and the AK (tpm_ak)",
                    why != NULL ? why : "the bundle has no tpm_quote or tpm_signature part");
        goto out;
    }
    /* A manifest or AK that is no public area is named after the report is checked, so that
     * the report's own reasons are shown too. */
    (void)keys_of(opts, &ek, &ak, &why, &keys_bad);
    if (!opts->has_nonce) {
        cvma_reject(v, CVMA_R_VTPM_SVSM_MANIFEST_MISMATCH,
                    "svsm-vtpm: no --nonce: the SVSM's REPORT_DATA is SHA-512(nonce || "
                    "manifest) and the quote's extraData the nonce; without it neither is fresh");
    } else if (opts->nonce_len == 0) {
        /* An empty nonce is 64 zero bytes in REPORT_DATA and no extraData: a report and
         * quote anyone could have kept from any earlier boot, so it binds nothing fresh. */
        cvma_reject(v, CVMA_R_VTPM_SVSM_MANIFEST_MISMATCH,
                    "svsm-vtpm: the nonce is empty: the SVSM's REPORT_DATA is SHA-512(nonce || "
                    "manifest) and the quote's extraData the nonce, and an empty nonce makes "
                    "neither fresh; svsm-vtpm needs a nonce of 1 to 64 bytes");
    }
    if (!opts->has_nonce || opts->nonce_len == 0) {
        if (keys_bad != CVMA_R_COUNT_) {
            cvma_reject(v, keys_bad, "svsm-vtpm: %s", why); /* named here too */
        }
        goto out;
    }

    /* 1. The report: SEV-SNP, VMPL 0, REPORT_DATA = SHA-512(nonce zero-padded to 64 ||
     * manifest), the manifest an EK. */
    memset(nonce, 0, sizeof nonce);
    memcpy(nonce, opts->nonce, opts->nonce_len);
    bound = cvma_vtpm_svsm_verify(p, len, nonce, m->data.p, m->data.len, opts, &hw, &ek_bound);
    v->checks_required |= hw.verdict.checks_required;
    if (keys_bad != CVMA_R_COUNT_) {
        /* (the report's check names a manifest that is no TPMT_PUBLIC itself) */
        if (!cvma_verdict_has(&hw.verdict, keys_bad)) {
            cvma_reject(v, keys_bad, "svsm-vtpm: %s", why);
        }
        goto out; /* no EK or AK to tie the quote to */
    }
    /* The names a credential is made for (nameAlg || H(public area)), each key's own fault
     * when it cannot be had; the quote is checked all the same. */
    if (!cvma_tpm_public_name(&ek, &ek_name)) {
        memset(&ek_name, 0, sizeof ek_name);
        cvma_reject(v, CVMA_R_VTPM_EK_MALFORMED,
                    "svsm-vtpm: the EK's name algorithm 0x%04x is not supported (SHA-1, SHA-256, "
                    "SHA-384, SHA-512): no credential can be made for it",
                    (unsigned)ek.nameAlg);
        named = false;
    }
    if (!cvma_tpm_public_name(&ak, &ak_name)) {
        memset(&ak_name, 0, sizeof ak_name);
        cvma_reject(v, CVMA_R_TPM_AK_MALFORMED,
                    "svsm-vtpm: the AK's name algorithm 0x%04x is not supported (SHA-1, SHA-256, "
                    "SHA-384, SHA-512): a credential is made for the AK's name, so the AK can "
                    "never be tied to the EK",
                    (unsigned)ak.nameAlg);
        named = false;
    }

    /* 2. The AK tied to that EK: only by the credential-activation round trip, which needs
     * both names. */
    if (session != NULL && named) {
        if (!names_equal(&session->ek_name, &ek_name) ||
            !names_equal(&session->ak_name, &ak_name)) {
            cvma_reject(v, CVMA_R_VTPM_CREDENTIAL_MISMATCH,
                        "svsm-vtpm: the activation session was made for another EK or AK than "
                        "this bundle's");
        } else if (!cvma_tpm_credential_check(&session->cred, activated, activated_len)) {
            cvma_reject(v, CVMA_R_VTPM_CREDENTIAL_MISMATCH,
                        "svsm-vtpm: the TPM returned another secret than the credential's: "
                        "the AK is not in the TPM whose EK the SVSM report vouches for");
        } else {
            /* the AK is in the TPM of that EK: an attested key only if the EK is vouched for */
            activated_ok = bound;
        }
    }

    /* 3. The quote by the AK: signature, nonce, PCRs (and the log). */
    struct cvma_tpm_quote_in in;
    const struct cvma_named_part *pcrs = cvma_verify_opts_part(opts, "tpm_pcrs");
    const struct cvma_named_part *log = cvma_verify_opts_part(opts, "event_log");
    memset(&in, 0, sizeof in);
    in.attest = q->data;
    in.sig = sig->data;
    in.ak = akp->data;
    if (pcrs != NULL) {
        in.pcrs = pcrs->data;
    }
    if (log != NULL) {
        in.eventlog = log->data;
    }
    in.has_nonce = true;
    in.nonce = opts->nonce;
    in.nonce_len = opts->nonce_len;
    in.allow_trailing_data = opts->allow_trailing_data;
    in.ak_bound_by = "svsm vTPM EK (credential activation)";
    cvma_tpm_quote_verify(&in, &tq);
    for (size_t i = 0; i < tq.verdict.n_reasons; i++) {
        const struct cvma_verdict_reason *r = &tq.verdict.reasons[i];
        cvma_verdict_add(v, r->code, r->severity, "%s", r->detail);
    }
    if (tq.verdict.oom) {
        v->oom = true;
    }
    if (!activated_ok && (session == NULL || !bound || !named)) {
        /* Also when the report did not vouch for the EK, in one step or two: the AK is then no
         * attested key either (cvma_tpm_attested_key looks for this reason). */
        cvma_verdict_add(v, CVMA_R_VTPM_AK_EK_UNPROVEN, CVMA_SEV_WARNING,
                         "svsm-vtpm: %s, but nothing here shows the AK is in that TPM: credential "
                         "activation is interactive (the two-step flow, docs/vtpm-binding.md); "
                         "whoever holds the AK's key could have made this quote",
                         bound ? "the SVSM report (VMPL 0) vouches for the vTPM's EK"
                               : "the SVSM report does not vouch for the vTPM's EK");
    }

out:;
    struct svsm_claims *sc = hw.claims.verified ? calloc(1, sizeof *sc) : NULL;
    if (cvma_tpm_merge_bound(v, res, &hw, &tq, sc != NULL ? &sc->bound : NULL)) {
        if (ek_name.size > 0) {
            cvma_hex_encode(ek_name.name, ek_name.size, sc->ek_name, sizeof sc->ek_name);
        }
        sc->activated = activated_ok;
        cvma_claims_set_kind(&res->claims, &svsm_claims_ops, sc);
        res->claims.verified = true;
    }
    cvma_result_cleanup(&hw);
    cvma_result_cleanup(&tq);
}

/* Only a bundle names this kind: its evidence bytes are an SEV-SNP report. */
static bool svsm_detect(const uint8_t *p, size_t len)
{
    (void)p;
    (void)len;
    return false;
}

static void svsm_verify_row(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                            const void *prepared, struct cvma_result *res)
{
    (void)prepared;
    cvma_vtpm_svsm_bundle_verify(p, len, opts, NULL, NULL, 0, res);
}

static json_t *svsm_show(const uint8_t *p, size_t len, bool allow_trailing, const char **heading,
                         struct cvma_verdict *v)
{
    json_t *o = cvma_kind_snp.show(p, len, allow_trailing, heading, v);
    *heading = "SEV-SNP report of an SVSM vTPM service (parsed, NOT verified)";
    return o;
}

const struct cvma_kind cvma_kind_svsm_vtpm = {
        .id = CVMA_KIND_SVSM_VTPM,
        .name = "svsm-vtpm",
        .cli_name = "svsm-vtpm",
        .what = "SVSM vTPM evidence (SEV-SNP report, vTPM manifest and quote)",
        .detect = svsm_detect,
        .verify = svsm_verify_row,
        .prepare = NULL,
        .collateral_names = cvma_snp_collateral_names,
        .prepared_free = NULL,
        .show = svsm_show,
        .reads_event_log = true,
        .reads_tpm_parts = true,
        .reads_snp_report = true,
        .launch_unpinned = "svsm-vtpm: no policy pins the SVSM's launch measurement "
                           "(snp.measurements, snp.id_key_digests or snp.author_key_digests): the "
                           "report is at VMPL 0, which any SEV-SNP guest without an SVSM makes "
                           "with REPORT_DATA of its choosing, so nothing shows an SVSM made it, "
                           "nor that the EK it names (and the AK) is an SVSM vTPM's",
};
