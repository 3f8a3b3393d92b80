/*
 * Appraisal policy (docs/policy.md): what a relying party accepts beyond genuine, verified
 * evidence — reference measurements, TCB minimums, debug, VMPL, guest policy bits, key
 * digests, TDX registers and accepted TCB statuses, expected report data, required providers.
 *
 * A policy is JSON, loaded strictly: an unknown field, a wrong type, malformed or wrong-length
 * hex, an out-of-range number, a duplicate key is refused at load time with a message naming
 * the field path ("snp.measurements[1]: ..."); nothing is ignored. The loaded policy is
 * immutable and may be shared by threads.
 *
 * How the verifier uses it (src/verifier/verifier.c, verify --policy FILE):
 *   1. cvma_policy_load() before any evidence is read; failure is exit 2 with err printed.
 *   2. Before verifying: cvma_policy_collateral_grace() >= 0 sets
 *      cvma_verify_opts.collateral_grace_seconds (unless the command line set it);
 *      cvma_policy_required_providers() says which providers the policy names (the keys and
 *      registries still come from --provider / --registry / --lookup-registry: the policy
 *      never carries keys); cvma_policy_report_data() is for callers that want to know the
 *      expected REPORT_DATA (do NOT also copy it into opts.report_data: appraisal checks it,
 *      and the mismatch would be reported twice).
 *   3. Verify the evidence (claims filled), bind the platform to a provider
 *      (cvma_registry_bind), then cvma_policy_appraise(), then cvma_result_finish().
 *   4. cvma_policy_id() goes into EAR's ear.appraisal-policy-id; cvma_policy_free() at exit.
 *
 * Appraisal records every failing rule as a POLICY_ reason in res->verdict (all of them, not
 * only the first), each naming the policy field, the expected and the actual value; a claim a
 * rule needs but the result lacks is POLICY_CLAIM_MISSING (a rule never passes for want of a
 * claim), and a section that never applies to a kind allowed_tees lists is named for it
 * (POLICY_SECTION_NOT_APPLIED, a warning: none of its rules was checked). Nor on PCRs (and the
 * event log replayed to them) of a TPM quote whose AK nothing vouches for: with TPM_AK_NOT_BOUND,
 * VTPM_AK_EK_UNPROVEN or VTPM_CREDENTIAL_MISMATCH in the verdict, or for azure-snp, azure-tdx and
 * svsm-vtpm when the policy does not pin the hardware report's launch identity
 * (cvma_policy_pins_launch), the tpm.pcrs, eventlog and azure rules fail with POLICY_TPM_AK unless
 * tpm.ak_spki_sha256 lists the AK. It never removes a reason. The only reasons it changes are
 * lowered with
 * "(accepted by policy: ...)" appended to their detail: to info, TDX_SERVICE_TD_BOUND when
 * tdx.mr_service_td pins the bound service TD; to warning, the TDX TCB-status reason
 * (TDX_TCB_NEEDS_ACTION, TDX_TCB_OUT_OF_DATE or TDX_TCB_RELAUNCH_ADVISED) of a status
 * tdx.accepted_tcb_statuses lists (accepted, the TCB is still not up to date: the result is
 * warning at best), and the debug errors SNP_DEBUG_ALLOWED and TDX_DEBUG under
 * snp.allow_debug / tdx.allow_debug true.
 *
 * Not checked here (the verifier's job): signatures, chains, revocation, collateral, the
 * binding of a platform to a provider (a policy only names which providers it requires).
 */
#ifndef CVMA_APPRAISE_POLICY_H
#define CVMA_APPRAISE_POLICY_H

#include <jansson.h>

#include "common/util.h"
#include "result/result.h"

#define CVMA_POLICY_MAX_BYTES (1u << 20) /* a policy file larger than this is refused */

struct cvma_policy;

/*
 * Loads a policy from a file (at most CVMA_POLICY_MAX_BYTES). On success *out owns the
 * policy (free with cvma_policy_free). On failure *out is NULL and err holds one line naming
 * the file and the field. Returns CVMA_OK, CVMA_E_IO (missing or unreadable: exit 2),
 * CVMA_E_USAGE (invalid policy: exit 2) or CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_policy_load(const char *path, struct cvma_policy **out,
                                                char *err, size_t errlen);
/* The same from bytes in memory (not NUL-terminated; len <= CVMA_POLICY_MAX_BYTES). */
CVMA_MUST_USE enum cvma_status cvma_policy_load_bytes(const uint8_t *p, size_t len,
                                                      struct cvma_policy **out, char *err,
                                                      size_t errlen);
/* Frees a loaded policy; NULL does nothing. */
void cvma_policy_free(struct cvma_policy *p);

/*
 * Appraises a verified result against the policy (p may be NULL: nothing to do). Call it
 * after the verifier has filled res->claims and res->platform (including any provider
 * binding) and before cvma_result_finish. When res->claims is not verified (verification failed
 * or its collateral could not be had, before the claims), only the kind res->tee names is
 * checked (POLICY_TEE_NOT_ALLOWED; none for a kind it does not know): unverified claims are
 * never appraised, and evidence of a kind the policy refuses is not left undecided. Adds
 * POLICY_ reasons to res->verdict; see the module comment for the reasons it lowers.
 */
void cvma_policy_appraise(const struct cvma_policy *p, struct cvma_result *res);

/*
 * True when p pins the launch identity of the hardware report a vTPM kind's AK rests on: for
 * tee "azure-snp" and "svsm-vtpm" an snp section with measurements, id_key_digests or
 * author_key_digests, for "azure-tdx" a tdx section with mr_td. False for p NULL and for every
 * other kind. That report is made at VMPL 0 (any TD for azure-tdx), which any SEV-SNP guest
 * without a paravisor or SVSM is, with REPORT_DATA of its choosing: only the launch
 * measurement shows the paravisor (Azure's HCL) or the SVSM made it, and so that the AK and the
 * runtime claims it names are theirs (docs/vtpm-binding.md). Whether the pin matches is its own
 * rule (POLICY_MEASUREMENT, POLICY_ID_KEY, POLICY_AUTHOR_KEY, POLICY_MR_TD).
 */
bool cvma_policy_pins_launch(const struct cvma_policy *p, const char *tee);

/*
 * The sections of p that never apply to a kind its allowed_tees lists (an azure section beside
 * "sev-snp", say): for such evidence none of their rules is checked, and appraisal says so
 * (POLICY_SECTION_NOT_APPLIED, a warning). snp and tdx are alternatives: one of them is not
 * counted where the other applies. Writes one line a pair ("the azure section never applies
 * to sev-snp evidence"), separated by '\n', into buf (cut to n bytes) and returns how many.
 */
size_t cvma_policy_unapplied(const struct cvma_policy *p, char *buf, size_t n);

/* tdx.collateral_grace_period in seconds (0..366 days), or -1 when the policy does not set
 * it. For cvma_verify_opts.collateral_grace_seconds. */
int64_t cvma_policy_collateral_grace(const struct cvma_policy *p);
/*
 * required_providers: returns how many and points *names at them (owned by the policy, valid
 * until cvma_policy_free). 0 (and *names NULL) when the policy requires none.
 */
size_t cvma_policy_required_providers(const struct cvma_policy *p, const char *const **names);
/* report_data, zero-padded to 64 bytes: true and out filled when the policy sets it; false
 * (out untouched) otherwise. */
bool cvma_policy_report_data(const struct cvma_policy *p, uint8_t out[64]);
/* "sha256:<hex of the exact policy bytes>", for EAR's ear.appraisal-policy-id. Owned by the
 * policy. */
const char *cvma_policy_id(const struct cvma_policy *p);
/* The policy's "name", or NULL. Owned by the policy. */
const char *cvma_policy_name(const struct cvma_policy *p);

#endif
