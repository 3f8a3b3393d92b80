/*
 * The evidence-kind table. Each kind of evidence is one row: how to recognise its bytes, how
 * to verify it (parse, collateral, signatures, claims into the result), how to show it
 * unverified, and how to prepare collateral that came in the bundle once so that repeated
 * verifications of one evidence object do not parse it again. Adding a kind is one folder
 * under src/ and one row in kinds.c (docs/architecture.md).
 */
#ifndef CVMA_VERIFIER_KIND_H
#define CVMA_VERIFIER_KIND_H

#include <jansson.h>

#include "result/result.h"

struct cvma_kind {
    enum cvma_evidence_kind id;
    const char *name;     /* result "tee" and bundle "kind": "sev-snp", "tdx" */
    const char *cli_name; /* --tee value: "snp", "tdx" */
    const char *what;     /* for messages: "SEV-SNP report" */

    /* True when the bytes look like this kind (first bytes only; no verification). */
    bool (*detect)(const uint8_t *p, size_t len);

    /*
     * For bytes detect refused: true when they are this kind's evidence all the same, of a
     * version the kind does not know, with a sentence saying so written into out (the detail
     * of PARSE_UNKNOWN_VERSION). The rule reads only fields every version shares and asks more
     * of them than detect does, so that other bytes stay PARSE_UNKNOWN_FORMAT. Nothing is
     * verified either way. NULL for a kind without versions to tell apart.
     */
    bool (*unknown_version)(const uint8_t *p, size_t len, char *out, size_t out_len);

    /*
     * Full verification of the evidence bytes with opts (trust roots, collateral source,
     * chain cache, time, expectations). prepared is what prepare returned for this evidence
     * (may be NULL). Fills res: reasons, checks, claims, platform, trust anchor, undecided.
     * NULL for a kind that is recognised but not verified yet.
     */
    void (*verify)(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                   const void *prepared, struct cvma_result *res);

    /*
     * Collateral from the bundle parts only (opts->collateral_parts), loaded once: NULL when
     * the parts do not hold all of it (verify then gathers it per call). Freed by
     * prepared_free.
     */
    void *(*prepare)(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts);
    void (*prepared_free)(void *prepared);

    /*
     * Parse only (nothing verified): the fields as JSON, with a heading for text output.
     * Reasons for what did not parse go to v. NULL on a parse failure.
     */
    json_t *(*show)(const uint8_t *p, size_t len, bool allow_trailing, const char **heading,
                    struct cvma_verdict *v);

    /* verify checks a bundle's "event_log" part against the evidence (docs/eventlog.md); for
     * a kind that does not, such a part gets EVENTLOG_NOT_USED (warning). */
    bool reads_event_log;
    /* True when verify reads the bundle's tpm_* parts (a vTPM quote); for other kinds such
     * parts are named in the result as not verified (PARSE_BUNDLE_PART_NOT_USED). */
    bool reads_tpm_parts;
    /* True when verify reads an SEV-SNP report (sev-snp, azure-snp, svsm-vtpm), whose
     * processor the verifier's snp_product (--product) names; for other kinds a product set
     * is refused (cvma_verify: CVMA_E_USAGE), as nothing would read it. */
    bool reads_snp_report;
    /* The collateral part names verify may read (certificates, CRLs, TCB Info; a NULL-terminated
     * list of verifier/bundle.h): a part of another name the evidence came with (another
     * vendor's, or any for a kind that reads none, as a bare TPM quote: NULL) is named as not
     * verified (PARSE_BUNDLE_PART_NOT_USED). */
    const char *const *collateral_names;
    /* For evidence whose freshness and key binding are its REPORT_DATA and nothing in the
     * kind's own verification checks it (sev-snp, tdx): the text of NONCE_NOT_CHECKED, which
     * cvma_verify notes when neither the request nor the policy gives an expected value. It
     * names the field as the vendor does (REPORT_DATA, REPORTDATA). NULL for kinds whose
     * REPORT_DATA binds something the kind checks (azure-*: the runtime claims; svsm-vtpm:
     * the nonce and manifest): their freshness is a quote's nonce. */
    const char *report_data_unchecked;
    /* For a vTPM whose AK a hardware report names (azure-*, svsm-vtpm): why that report vouches
     * for nothing while no policy pins the launch of what should have made it, the text of
     * VTPM_PARAVISOR_NOT_PINNED (cvma_policy_pins_launch). NULL for the other kinds. */
    const char *launch_unpinned;
};

/* The rows, in detection order; NULL-terminated. */
extern const struct cvma_kind *const cvma_kinds[];

const struct cvma_kind *cvma_kind_by_id(enum cvma_evidence_kind id);
/* By result/bundle name ("sev-snp") or CLI name ("snp"). */
const struct cvma_kind *cvma_kind_by_name(const char *name);
/* The first row whose detect accepts the bytes, or NULL. */
const struct cvma_kind *cvma_kind_detect(const uint8_t *p, size_t len);
/*
 * For bytes no row accepts: the reason to refuse them with and a sentence, written into out.
 * PARSE_UNKNOWN_VERSION when a row's unknown_version recognises them (an SEV-SNP report or a
 * TDX quote of a version this tool does not know); else PARSE_UNKNOWN_FORMAT, with what they
 * look like when it is something known but not evidence this tool verifies ("this is an X.509
 * certificate", "SGX quotes are not supported"), or a generic sentence.
 */
enum cvma_reason cvma_kind_explain_unknown(const uint8_t *p, size_t len, char *out, size_t out_len);

/* The rows (defined beside each kind's own code). */
extern const struct cvma_kind cvma_kind_snp;
extern const struct cvma_kind cvma_kind_tdx;
extern const struct cvma_kind cvma_kind_tpm;
extern const struct cvma_kind cvma_kind_azure_snp;
extern const struct cvma_kind cvma_kind_azure_tdx;
extern const struct cvma_kind cvma_kind_svsm_vtpm;

#endif
