/*
 * Importer of Cocos AI attestation policies (docs/policy.md, "Importing a Cocos AI policy"):
 * a format importer that turns another project's policy file into our policy JSON, which
 * cvma_policy_load (appraise/policy.h) then loads like any other.
 */
#ifndef CVMA_IMPORT_COCOS_H
#define CVMA_IMPORT_COCOS_H

#include <jansson.h>

#include "common/util.h"

/*
 * Converts a Cocos AI attestation policy into ours. SEV-SNP: go-sev-guest's check.Config
 * ({"policy": {...}, "root_of_trust": {...}}) plus Cocos's "pcr_values"; TDX: go-tdx-guest's
 * checkconfig.Config ({"policy": {"headerPolicy", "tdQuoteBodyPolicy"}, "rootOfTrust"}).
 * Field names in either protobuf JSON spelling (snake_case or lowerCamelCase), bytes in
 * base64 (standard or URL-safe), 64-bit numbers as JSON numbers or decimal strings.
 * On CVMA_OK, *out is our policy JSON (cvma_policy_load accepts it) and *dropped a JSON
 * array of strings, one per setting that could not be carried over, each starting with the
 * setting's path as written ("policy.report_id: ...", "rootOfTrust.checkCrl: ..."); the caller
 * owns both (json_decref). Otherwise both are NULL: CVMA_E_USAGE with err naming the field
 * when the input is not JSON, not a Cocos policy (a "policy" object with no field of either
 * library), holds a malformed value (bad base64, wrong length, wrong type, out of range), or
 * a setting with which the source verifies nothing or refuses every report (a guest policy
 * absent, with bit 17 clear or bits 63:26 set; platform_info with bits 63:8 set; required keys
 * without their hashes; a TDX QE or PCE SVN minimum above 0, a QE vendor ID other than
 * Intel's, an mr_td that any_mr_td does not list, rtmrs with other than 4 entries, a field
 * go-tdx-guest does not define, which Cocos's strict TDX reader refuses; an SEV-SNP policy's
 * unknown fields are ignored, as Cocos ignores them, and listed in *dropped); CVMA_E_NOMEM.
 * len <= CVMA_POLICY_MAX_BYTES.
 */
CVMA_MUST_USE enum cvma_status cvma_policy_import_cocos(const uint8_t *p, size_t len, json_t **out,
                                                        json_t **dropped, char *err, size_t errlen);

#endif
