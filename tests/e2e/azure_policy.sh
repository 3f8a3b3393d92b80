#!/bin/sh
# Policies over Azure CVM evidence (docs/policy.md, docs/azure.md): the real Azure SEV-SNP sample
# (Trustee's JSON evidence) is accepted by a policy that allows azure-snp and pins its
# hardware report's measurement (snp section), its vTPM PCRs (tpm section) and its runtime
# claims (azure section); the tpm and azure rules without that measurement pinned are refused
# (POLICY_TPM_AK: the VMPL-0 report could be any SEV-SNP guest's, without a paravisor), and
# appraised with the AK pinned instead (a warning, VTPM_PARAVISOR_NOT_PINNED); refused by name with a wrong measurement (POLICY_MEASUREMENT), a
# wrong PCR (POLICY_PCR), a runtime claim not as required (POLICY_AZURE_RUNTIME_CLAIMS), and
# by a policy whose allowed_tees lists sev-snp but not azure-snp (POLICY_TEE_NOT_ALLOWED:
# "sev-snp" does not cover azure-snp), and by a policy without allowed_tees whose azure section
# sits beside a tdx section but no snp one (the tdx pins would never apply to azure-snp). The
# sample's SEV-SNP report verified bare (kind sev-snp) is refused by a policy without
# allowed_tees whose snp section sits beside tpm or azure ones (their pins would never apply to
# it); snp and tpm sections alone are refused at load (no kind both apply to). Real
# azure-tdx evidence (Trustee's), undecided offline for want of TCB collateral, is refused
# (exit 1) by a policy that does not admit its kind, whatever the collateral would say. The
# loader's rules for the new kinds and section.
set -u
CVM=${CVMATTEST_BIN:?}
. "$(dirname "$0")/lib/azure_sample.sh"
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

mkdir "$T/coll" && cp "$ROOTS" "$T/coll/cert_chain.pem" || exit 1
N2=982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef
V="--offline --collateral $T/coll --at 2025-06-01T00:00:00Z --json"
EV=$S/evidence-v2.json
NONCE=$N2

$CVM verify "$EV" --nonce "$N2" $V >"$T/base.json" || { fail "the sample does not verify"; exit 1; }
M=$(jq -r '.claims.azure.snp.measurement' "$T/base.json")
P0=$(jq -r '.claims.azure.tpm.pcrs.sha256["0"]' "$T/base.json")
P7=$(jq -r '.claims.azure.tpm.pcrs.sha256["7"]' "$T/base.json")
[ ${#M} = 96 ] && [ ${#P0} = 64 ] && [ ${#P7} = 64 ] || { fail "claims: $M $P0 $P7"; exit 1; }
OTHER=$(printf '%096d' 0)

# run NAME EXPECTED-EXIT POLICY-JSON [jq test on the result]
run() {
    printf '%s\n' "$3" >"$T/p.json"
    $CVM verify "$EV" --nonce "$NONCE" --policy "$T/p.json" $V >"$T/out.json" 2>"$T/err"
    rc=$?
    if [ $rc != "$2" ]; then
        fail "$1: exit $rc, want $2: $(cat "$T/err") $(jq -c '[.reasons[] | .code + ": " + .detail]' "$T/out.json" 2>/dev/null | head -c 900)"
    elif [ -n "${4:-}" ] && ! jq -e "$4" "$T/out.json" >/dev/null; then
        fail "$1: $4 fails on $(jq -c '[.reasons[] | .code + ": " + .detail]' "$T/out.json" | head -c 900)"
    else
        ok "$1"
    fi
}
GOOD='"snp": {"measurements": ["'$M'"], "vmpl": 0},
      "tpm": {"pcrs": {"sha256": {"0": "'$P0'", "7": "'$P7'"}}},
      "azure": {"secure_boot": true, "tpm_enabled": true,
                "vm_unique_ids": ["7df7b373-b947-4aaa-96e5-c358f2a03d20"]}'
run "azure-snp accepted: measurement, PCRs 0 and 7, runtime claims" 0 \
    '{"allowed_tees": ["azure-snp"], '"$GOOD"'}' \
    '(.status == "affirming" or .status == "warning") and all(.reasons[]; .severity != "error")
     and all(.reasons[]; .code != "VTPM_PARAVISOR_NOT_PINNED")'
# The same tpm and azure rules without the paravisor's launch measurement: the report is at
# VMPL 0, which any SEV-SNP guest without a paravisor makes with runtime claims (and an AK) of
# its choosing, so the rules on what only the paravisor vouches for are refused.
run "PCRs and runtime claims, no launch measurement pinned: POLICY_TPM_AK" 1 \
    '{"allowed_tees": ["azure-snp"], "snp": {"vmpl": 0},
      "tpm": {"pcrs": {"sha256": {"0": "'$P0'", "7": "'$P7'"}}}, "azure": {"secure_boot": true}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_TPM_AK"]
     and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED")
     and any(.reasons[]; .code == "POLICY_TPM_AK" and (.detail | test("^azure, tpm.pcrs: .*is at VMPL 0")))'
# The AK pinned instead: the rules are appraised, the result stays a warning (nothing shows the
# paravisor made the report that names the runtime claims).
AKSPKI=$(jq -r '.claims.azure.tpm.ak.spki_sha256' "$T/base.json")
run "the AK pinned, no launch measurement: appraised, VTPM_PARAVISOR_NOT_PINNED" 0 \
    '{"allowed_tees": ["azure-snp"], "tpm": {"ak_spki_sha256": "'$AKSPKI'",
      "pcrs": {"sha256": {"0": "'$P0'"}}}, "azure": {"secure_boot": true}}' \
    '.status == "warning" and all(.reasons[]; .severity != "error")
     and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED")'
run "azure-snp accepted without allowed_tees (the snp and azure sections admit azure-snp)" 0 \
    '{'"$GOOD"'}'
run "wrong measurement: POLICY_MEASUREMENT" 1 \
    '{"allowed_tees": ["azure-snp"], "snp": {"measurements": "'$OTHER'"}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_MEASUREMENT"]'
PIN='"snp": {"measurements": ["'$M'"]}'
run "wrong PCR 7: POLICY_PCR" 1 \
    '{"allowed_tees": ["azure-snp"], '"$PIN"', "tpm": {"pcrs": {"sha256": {"7": "'$P0'"}}}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_PCR"]
     and any(.reasons[]; .detail | test("tpm.pcrs.sha256.7: PCR 7="))'
run "console enabled where the policy forbids it: POLICY_AZURE_RUNTIME_CLAIMS" 1 \
    '{'"$PIN"', "azure": {"console_enabled": false}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_AZURE_RUNTIME_CLAIMS"]
     and any(.reasons[]; .detail | test("azure.console_enabled: the runtime claims say console_enabled=true"))'
run "another vmUniqueId: POLICY_AZURE_RUNTIME_CLAIMS" 1 \
    '{'"$PIN"', "azure": {"vm_unique_ids": ["00000000-0000-0000-0000-000000000000"]}}' \
    'any(.reasons[]; .code == "POLICY_AZURE_RUNTIME_CLAIMS")'
run "allowed_tees sev-snp does not cover azure-snp: POLICY_TEE_NOT_ALLOWED" 1 \
    '{"allowed_tees": ["sev-snp"], "snp": {"measurements": ["'$M'"]}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_TEE_NOT_ALLOWED"]
     and any(.reasons[]; .detail | test("the evidence is azure-snp, the policy accepts only sev-snp"))'
run "an snp section alone names sev-snp only: POLICY_TEE_NOT_ALLOWED" 1 \
    '{"snp": {"measurements": ["'$M'"]}}' \
    'any(.reasons[]; .code == "POLICY_TEE_NOT_ALLOWED")'
run "allowed_tees azure-tdx refuses azure-snp" 1 \
    '{"allowed_tees": ["azure-tdx"]}' \
    'any(.reasons[]; .code == "POLICY_TEE_NOT_ALLOWED" and (.detail | test("accepts only azure-tdx")))'
# Without allowed_tees, a tdx section beside the azure one names azure-tdx, not azure-snp: its
# MRTD pin would never apply to an SEV-SNP report (this exited 0). The azure rule is not read
# either: no snp section pins the paravisor's launch (POLICY_TPM_AK).
run "tdx and azure sections, no snp one: azure-snp refused (POLICY_TEE_NOT_ALLOWED)" 1 \
    '{"tdx": {"mr_td": "'$OTHER'", "allow_debug": false}, "azure": {"secure_boot": true}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_TEE_NOT_ALLOWED", "POLICY_TPM_AK"]
     and any(.reasons[]; .detail | test("the evidence is azure-snp, the policy accepts only azure-tdx$"))'
run "snp, tdx and azure sections: azure-snp admitted, the snp rules applied" 1 \
    '{"snp": {"measurements": "'$OTHER'"}, "tdx": {"mr_td": "'$OTHER'"}, "azure": {"secure_boot": true}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_MEASUREMENT"]'

# The Genoa sample (Trustee's older form): no policy, VTPM_PARAVISOR_NOT_PINNED (the manifest,
# tests/vectors); its paravisor's measurement pinned, not, and the verdict otherwise the same.
G=$VEC/snp/genoa-v3-azure-hcl/evidence-genoa.json
if [ -f "$G" ] && [ -f "$VEC/snp/roots/ask_ark_genoa.pem" ]; then
    mkdir "$T/gcoll" && cp "$VEC/snp/roots/ask_ark_genoa.pem" "$T/gcoll/cert_chain.pem"
    GV="--offline --collateral $T/gcoll --at 2026-01-01T00:00:00Z --json"
    $CVM verify "$G" $GV >"$T/g0.json"
    GM=$(jq -r '.claims.measurement' "$T/g0.json")
    printf '{"allowed_tees": ["azure-snp"], "snp": {"measurements": "%s"}}\n' "$GM" >"$T/gp.json"
    $CVM verify "$G" $GV --policy "$T/gp.json" >"$T/g1.json"
    rc=$?
    if [ $rc = 0 ] && jq -e '.status == "warning" and ([.reasons[].code] | sort)
            == ["AZURE_AK_FROM_RUNTIME_CLAIMS", "CRL_NOT_CHECKED", "TPM_NONCE_NOT_CHECKED"]' "$T/g1.json" >/dev/null &&
        jq -e 'any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED")' "$T/g0.json" >/dev/null; then
        ok "Genoa azure-snp sample: the paravisor's measurement pinned, no VTPM_PARAVISOR_NOT_PINNED"
    else
        fail "Genoa sample pinned: exit $rc $(jq -c '[.reasons[].code]' "$T/g1.json" "$T/g0.json")"
    fi
else
    echo "SKIP Genoa: snp/genoa-v3-azure-hcl not found"
fi

# The same sample's SEV-SNP report cut out of its HCL report and verified bare (kind sev-snp):
# it meets every snp rule (all Azure CVMs on one paravisor share that measurement), and a policy
# without allowed_tees whose snp section sits beside tpm and azure ones (the PCR and runtime
# pins) admitted it, skipping them all (this exited 0). Without allowed_tees, a kind is admitted
# only where every section applies to it.
BARE=$T/bare
mkdir "$BARE" && cp "$ROOTS" "$BARE/cert_chain.pem" || exit 1
python3 - "$EV" "$BARE" <<'PY' || exit 1
import base64, json, sys
ev = json.load(open(sys.argv[1]))
def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
# The HCL report: a 32-byte header, then the SEV-SNP ATTESTATION_REPORT (1184 bytes).
open(sys.argv[2] + "/report.bin", "wb").write(b64d(ev["hcl_report"])[32:32 + 1184])
open(sys.argv[2] + "/vcek.der", "wb").write(b64d(ev["vcek"]))
PY
bare() { # name, expected exit, policy, jq test
    printf '%s\n' "$3" >"$T/b.json"
    $CVM verify "$BARE/report.bin" --collateral "$BARE" --offline --at 2025-06-01T00:00:00Z \
        --json --policy "$T/b.json" >"$T/bout.json" 2>"$T/err"
    rc=$?
    if [ $rc = "$2" ] && jq -e "$4" "$T/bout.json" >/dev/null; then ok "$1"; else
        fail "$1: exit $rc: $(cat "$T/err") $(jq -c '[.reasons[] | .code + ": " + .detail]' "$T/bout.json" 2>/dev/null | head -c 900)"; fi
}
bare "the bare report verifies as sev-snp, its snp rules met" 0 \
    '{"allowed_tees": ["sev-snp"], "snp": {"measurements": ["'$M'"], "vmpl": 0}}' \
    '.tee == "sev-snp" and all(.reasons[]; .severity != "error")'
bare "the bare report, snp, tpm and azure sections: refused (POLICY_TEE_NOT_ALLOWED)" 1 \
    '{'"$GOOD"'}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_TEE_NOT_ALLOWED"]
     and any(.reasons[]; .detail | test("the evidence is sev-snp, the policy accepts only azure-snp$"))'
bare "the bare report, snp and azure sections: refused (POLICY_TEE_NOT_ALLOWED)" 1 \
    '{"snp": {"measurements": ["'$M'"], "vmpl": 0}, "azure": {"secure_boot": true}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_TEE_NOT_ALLOWED"]'
# allowed_tees lists sev-snp beside azure-snp: the bare report is admitted, its snp rules met,
# but the tpm and azure sections it passes by are named (a warning, never affirming); this was
# affirming in silence.
bare "the bare report, sev-snp listed beside tpm and azure sections: POLICY_SECTION_NOT_APPLIED" 0 \
    '{"allowed_tees": ["sev-snp", "azure-snp"], "snp": {"measurements": ["'$M'"], "vmpl": 0},
      "tpm": {"pcrs": {"sha256": {"7": "'$P7'"}}}, "azure": {"secure_boot": true}}' \
    '.status == "warning" and all(.reasons[]; .severity != "error")
     and ([.reasons[] | select(.code == "POLICY_SECTION_NOT_APPLIED") | .detail | split(":")[0]]
          == ["tpm", "azure"])
     and any(.reasons[]; .detail | test("^azure: the policy.s section never applies to sev-snp evidence"))'

# azure-tdx (Trustee's sample): offline, no TCB Info for its FMSPC, so undecided (exit 3) and
# its claims unverified. A policy that does not admit the kind refuses it all the same (exit
# 1): no collateral would change that, and a caller told "undecided" would retry. A policy
# that admits it leaves it undecided, no rule read on unverified claims.
D=$VEC/tdx/v4-azure-coco-trustee/evidence-v1.json
if [ -f "$D" ]; then
    EV=$D NONCE=$(printf challenge | od -An -tx1 | tr -d ' \n')
    run "azure-tdx undecided, policy for snp only: refused (POLICY_TEE_NOT_ALLOWED, exit 1)" 1 \
        '{"snp": {"measurements": "'$OTHER'", "vmpl": 0}}' \
        '.undecided == false and ([.reasons[] | select(.severity == "error") | .code] | sort)
         == ["COLLATERAL_UNAVAILABLE", "POLICY_TEE_NOT_ALLOWED"]
         and any(.reasons[]; .detail | test("the evidence is azure-tdx, the policy accepts only sev-snp$"))'
    run "azure-tdx undecided, policy that admits it: still undecided (exit 3)" 3 \
        '{"tdx": {"mr_td": "'$OTHER'"}, "azure": {"secure_boot": true}}' \
        '.undecided == true and all(.reasons[]; .code | startswith("POLICY_") | not)'
    EV=$S/evidence-v2.json NONCE=$N2
else
    echo "SKIP azure-tdx: tdx/v4-azure-coco-trustee not found"
fi

# Loading: the azure kinds in allowed_tees, the azure section strict.
chk() { # name, expected exit, policy, message part
    printf '%s\n' "$3" >"$T/c.json"
    $CVM policy check "$T/c.json" >"$T/c.out" 2>&1
    rc=$?
    if [ $rc = "$2" ] && grep -q -- "$4" "$T/c.out"; then ok "$1"; else fail "$1: exit $rc: $(cat "$T/c.out")"; fi
}
chk "policy check: azure kinds" 0 '{"allowed_tees": ["azure-snp", "azure-tdx"], "tdx": {}, "azure": {}}' ""
chk "policy check: unknown azure field" 2 '{"azure": {"secureboot": true}}' "azure.secureboot"
chk "policy check: azure section without an azure kind" 2 \
    '{"allowed_tees": ["sev-snp"], "azure": {"secure_boot": true}}' "azure: a section for a TEE"
chk "policy check: not a kind" 2 '{"allowed_tees": ["azure"]}' '"azure" is not'
# snp and tpm sections without allowed_tees: no kind both apply to, so none by default.
chk "policy check: snp and tpm sections, no allowed_tees" 2 \
    '{"snp": {"measurements": ["'$M'"]}, "tpm": {"pcrs": {"sha256": {"7": "'$P7'"}}}}' \
    'list the kinds in allowed_tees, likely "svsm-vtpm" or "azure-snp"'
chk "policy check: tdx and tpm sections, no allowed_tees" 2 '{"tdx": {}, "tpm": {}}' \
    'list the kinds in allowed_tees, likely "azure-tdx"'
chk "policy check: snp and tpm sections, allowed_tees azure-snp" 0 \
    '{"allowed_tees": ["azure-snp"], "snp": {}, "tpm": {}}' ""
chk "policy check: a listed kind a section never applies to is noted" 0 \
    '{"allowed_tees": ["sev-snp", "azure-snp"], "snp": {}, "azure": {"secure_boot": true}}' \
    "note: the azure section never applies to sev-snp evidence: none of its rules is checked"

[ "$fails" = 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
