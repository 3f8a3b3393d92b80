#!/bin/sh
# The SVSM-bound vTPM as an evidence kind (svsm-vtpm; docs/vtpm-binding.md, docs/bundle.md):
# a real software TPM (swtpm) provides the EK (the SVSM's vTPM manifest) and the AK; the
# simulator makes the SVSM's SEV-SNP report at VMPL 0 with REPORT_DATA = SHA-512(nonce ||
# manifest) in a configfs-tsm tree; `collect --svsm-vtpm --tpm` writes one bundle of kind
# svsm-vtpm (report, svsm_manifest, the quote parts, certificates) that `verify` takes as is.
# In one step the AK-to-EK link is unproven (VTPM_AK_EK_UNPROVEN, warning, never affirming);
# without a policy pinning the SVSM's launch measurement, any SEV-SNP guest at VMPL 0 could have
# made the report naming a software TPM's EK (VTPM_PARAVISOR_NOT_PINNED, warning; with the pin,
# not given);
# each broken link is refused by name: another nonce, a report at VMPL 2, a manifest that is
# no EK, a bundle without its manifest; a manifest part in a bundle of another kind is named
# (warning: not checked). Without the VCEK, a report whose bytes refuse the binding is still
# refused (exit 1), not undecided.
set -u
CVM=${CVMATTEST_BIN:?}
for p in swtpm tpm2_createek python3 jq base64 sha512sum; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed (make deps installs swtpm, swtpm-tools, tpm2-tools)"; exit 77; }
done
. "$(dirname "$0")/lib/swtpm.sh"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
cd "$T" || exit 1

# The vTPM's EK (RSA template L-1) as the SVSM's manifest: its TPMT_PUBLIC.
t tpm2_createek -c ek.ctx -G rsa -u ek.tpm2b
tail -c +3 ek.tpm2b >manifest
NONCE=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
rd() { # nonce manifest: SHA-512(nonce zero-padded to 64 bytes || manifest)
    python3 -c 'import hashlib, sys
n = bytes.fromhex(sys.argv[1]).ljust(64, b"\0")
print(hashlib.sha512(n + open(sys.argv[2], "rb").read()).hexdigest())' "$1" "$2"
}
RD=$(rd "$NONCE" manifest)
$CVM sim snp --out svc --vmpl 0 --report-data "$RD" --tsm-tree tsm --privlevel-floor 2 \
    --tsm-manifest manifest >/dev/null || { echo "FAIL: sim snp --tsm-manifest"; exit 1; }

$CVM collect --svsm-vtpm --tpm --pcrs sha256:0-7 --nonce "$NONCE" --out b.json --tsm-root tsm \
    --dev-root none --tpm-tcti "$TCTI" >out 2>&1
rc=$?
[ $rc = 0 ] && [ "$(jq -r '.kind + " " + ([.parts[] | .name // .role] | join(","))' b.json)" = \
    "svsm-vtpm evidence,svsm_manifest,tpm_quote,tpm_signature,tpm_ak,tpm_pcrs,vcek.der,ask.pem,ark.pem,crl.der" ] &&
    [ "$(jq -r '.parts[] | select(.role == "svsm_manifest") | .data' b.json | base64 -d | cmp - manifest && echo same)" = same ] &&
    ok "collect --svsm-vtpm --tpm: one bundle of kind svsm-vtpm with the manifest and the quote" ||
    { fail "collect: exit $rc: $(cat out) $(jq -c '[.kind, [.parts[] | .name // .role]]' b.json 2>/dev/null)"; }

V="--offline --trust-root svc/ark.pem --json"
$CVM verify b.json --nonce "$NONCE" $V >v.json 2>v.err
rc=$?
[ $rc = 0 ] && jq -e '.tee == "svsm-vtpm" and .status == "warning"
    and all(.reasons[]; .severity != "error")
    and ([.reasons[] | select(.severity == "warning") | .code] == ["VTPM_AK_EK_UNPROVEN", "VTPM_PARAVISOR_NOT_PINNED"])
    and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED" and (.detail | test("VMPL 0, which any SEV-SNP guest without an SVSM")))
    and all(.reasons[]; .code != "TPM_AK_NOT_BOUND")
    and .claims.svsm_vtpm.ak_binding == "unproven"
    and .claims.svsm_vtpm.snp.vmpl == 0
    and (.claims.svsm_vtpm.tpm.pcrs.sha256 | length) == 8
    and .claims.svsm_vtpm.tpm.extra_data == "'"$NONCE"'"
    and (.claims.svsm_vtpm.ek.name | startswith("000b"))
    and .claims.measurement == .claims.svsm_vtpm.snp.measurement
    and .platform.id_type == "chip_id"' v.json >/dev/null &&
    ok "verify: report, VMPL 0, manifest, EK, quote verified; the AK-EK link unproven (warning)" ||
    fail "verify: exit $rc $(cat v.err) $(head -c 2000 v.json)"

# Policies: allowed_tees names svsm-vtpm explicitly; the snp section applies to the SVSM's
# report, tpm.pcrs to the vTPM's PCRs. In one step nothing proves the AK is in the vTPM the
# report names (VTPM_AK_EK_UNPROVEN): its PCRs count only with the AK pinned by the policy.
M=$(jq -r '.claims.svsm_vtpm.snp.measurement' v.json)
P0=$(jq -r '.claims.svsm_vtpm.tpm.pcrs.sha256["0"]' v.json)
AK=$(jq -r '.claims.svsm_vtpm.tpm.ak.spki_sha256' v.json)
[ ${#AK} = 64 ] || fail "no claims.svsm_vtpm.tpm.ak.spki_sha256: $AK"
pol() { # name, expected exit, policy, jq test
    printf '%s\n' "$3" >p.json
    $CVM verify b.json --nonce "$NONCE" --policy p.json $V >p.out 2>&1
    rc=$?
    if [ $rc = "$2" ] && jq -e "$4" p.out >/dev/null; then ok "$1"; else
        fail "$1: exit $rc $(jq -c '[.reasons[] | .code + ": " + .detail]' p.out 2>/dev/null | head -c 1200)"; fi
}
pol "policy: svsm-vtpm with its measurement, VMPL 0 and PCR 0, the AK not pinned: POLICY_TPM_AK" 1 \
    '{"allowed_tees": ["svsm-vtpm"], "snp": {"measurements": ["'"$M"'"], "vmpl": 0},
      "tpm": {"pcrs": {"sha256": {"0": "'"$P0"'"}}}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_TPM_AK"]
     and any(.reasons[]; .code == "POLICY_TPM_AK" and (.detail | contains("'"$AK"'"))
         and (.detail | contains("VTPM_AK_EK_UNPROVEN")))'
pol "policy: svsm-vtpm with its measurement, VMPL 0 and PCR 0, the AK pinned" 0 \
    '{"allowed_tees": ["svsm-vtpm"], "snp": {"measurements": ["'"$M"'"], "vmpl": 0},
      "tpm": {"ak_spki_sha256": ["'"$AK"'"], "pcrs": {"sha256": {"0": "'"$P0"'"}}}}' \
    'all(.reasons[]; .severity != "error") and any(.reasons[]; .code == "VTPM_AK_EK_UNPROVEN")
     and all(.reasons[]; .code != "VTPM_PARAVISOR_NOT_PINNED")'
pol "policy: another measurement: POLICY_MEASUREMENT" 1 \
    '{"allowed_tees": ["svsm-vtpm"], "snp": {"measurements": ["'"$(printf '%096d' 0)"'"]}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_MEASUREMENT"]'
pol "policy: another PCR 0 (the AK pinned): POLICY_PCR" 1 \
    '{"allowed_tees": ["svsm-vtpm"], "tpm": {"ak_spki_sha256": "'"$AK"'",
      "pcrs": {"sha256": {"0": "'"$(printf '%064d' 1)"'"}}}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_PCR"]
     and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED")'
pol "policy: sev-snp does not cover svsm-vtpm: POLICY_TEE_NOT_ALLOWED" 1 \
    '{"snp": {"measurements": ["'"$M"'"]}}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_TEE_NOT_ALLOWED"]'

# Another nonce: neither the SVSM's REPORT_DATA nor the quote's extraData.
$CVM verify b.json --nonce "00$NONCE" $V >n.json 2>&1
rc=$?
[ $rc = 1 ] && jq -e 'any(.reasons[]; .code == "VTPM_SVSM_MANIFEST_MISMATCH")
    and any(.reasons[]; .code == "TPM_NONCE_MISMATCH")' n.json >/dev/null &&
    ok "another nonce: VTPM_SVSM_MANIFEST_MISMATCH and TPM_NONCE_MISMATCH" || fail "nonce: exit $rc $(head -c 1500 n.json)"
$CVM verify b.json $V >nn.json 2>&1
[ $? = 1 ] && jq -e 'any(.reasons[]; .code == "VTPM_SVSM_MANIFEST_MISMATCH")' nn.json >/dev/null &&
    ok "no --nonce: refused" || fail "no nonce: $(head -c 1500 nn.json)"
# An empty nonce was given: the reason says it is empty, not that the option is missing.
$CVM verify b.json --nonce '' $V >ne.json 2>&1
[ $? = 1 ] && jq -e 'any(.reasons[]; .code == "VTPM_SVSM_MANIFEST_MISMATCH"
        and (.detail | test("the nonce is empty")) and (.detail | test("no --nonce") | not))' \
        ne.json >/dev/null &&
    ok "--nonce '': refused as an empty nonce" || fail "empty nonce: $(head -c 1500 ne.json)"

# The same manifest in a report made at VMPL 2.
$CVM sim snp --out svc2 --vmpl 2 --report-data "$RD" >/dev/null || fail "sim snp --vmpl 2"
jq --arg r "$(base64 -w0 svc2/report.bin)" --arg v "$(base64 -w0 svc2/vcek.der)" \
    --arg c "$(base64 -w0 svc2/cert_chain.pem)" --arg l "$(base64 -w0 svc2/crl.der)" \
    '.parts |= (map(select(.role != "collateral") | if .role == "evidence" then .data = $r else . end)
      + [{role: "collateral", name: "vcek.der", data: $v}, {role: "collateral", name: "cert_chain.pem", data: $c},
         {role: "collateral", name: "crl.der", data: $l}])' b.json >vmpl2.json
$CVM verify vmpl2.json --nonce "$NONCE" --offline --trust-root svc2/ark.pem --json >m2.json 2>&1
rc=$?
[ $rc = 1 ] && jq -e '[.reasons[] | select(.severity == "error") | .code] == ["VTPM_SVSM_VMPL"]' m2.json >/dev/null &&
    ok "the report at VMPL 2: VTPM_SVSM_VMPL" || fail "vmpl 2: exit $rc $(head -c 1500 m2.json)"

# A manifest that is no EK: the AK's public area, with a report that commits to it.
jq -r '.parts[] | select(.role == "tpm_ak") | .data' b.json | base64 -d | tail -c +3 >ak.tpmt
RD2=$(rd "$NONCE" ak.tpmt)
$CVM sim snp --out svc3 --vmpl 0 --report-data "$RD2" >/dev/null || fail "sim snp (ak manifest)"
jq --arg r "$(base64 -w0 svc3/report.bin)" --arg m "$(base64 -w0 ak.tpmt)" --arg v "$(base64 -w0 svc3/vcek.der)" \
    --arg c "$(base64 -w0 svc3/cert_chain.pem)" --arg l "$(base64 -w0 svc3/crl.der)" \
    '.parts |= (map(select(.role != "collateral")
        | if .role == "evidence" then .data = $r elif .role == "svsm_manifest" then .data = $m else . end)
      + [{role: "collateral", name: "vcek.der", data: $v}, {role: "collateral", name: "cert_chain.pem", data: $c},
         {role: "collateral", name: "crl.der", data: $l}])' b.json >notek.json
$CVM verify notek.json --nonce "$NONCE" --offline --trust-root svc3/ark.pem --json >ne.json 2>&1
rc=$?
[ $rc = 1 ] && jq -e '[.reasons[] | select(.severity == "error") | .code] == ["VTPM_EK_MALFORMED"]' ne.json >/dev/null &&
    ok "a manifest that is the AK, not an EK: VTPM_EK_MALFORMED" || fail "not an EK: exit $rc $(head -c 1500 ne.json)"

# A manifest of the EK and one byte more (not exactly one TPMT_PUBLIC), which the report
# commits to: VTPM_EK_MALFORMED, and the report is still checked (its claims are there).
{ cat manifest; printf '\000'; } >manifest.long
RD3=$(rd "$NONCE" manifest.long)
$CVM sim snp --out svc4 --vmpl 0 --report-data "$RD3" >/dev/null || fail "sim snp (long manifest)"
jq --arg r "$(base64 -w0 svc4/report.bin)" --arg m "$(base64 -w0 manifest.long)" --arg v "$(base64 -w0 svc4/vcek.der)" \
    --arg c "$(base64 -w0 svc4/cert_chain.pem)" --arg l "$(base64 -w0 svc4/crl.der)" \
    '.parts |= (map(select(.role != "collateral")
        | if .role == "evidence" then .data = $r elif .role == "svsm_manifest" then .data = $m else . end)
      + [{role: "collateral", name: "vcek.der", data: $v}, {role: "collateral", name: "cert_chain.pem", data: $c},
         {role: "collateral", name: "crl.der", data: $l}])' b.json >longm.json
$CVM verify longm.json --nonce "$NONCE" --offline --trust-root svc4/ark.pem --json >lm.json 2>&1
rc=$?
[ $rc = 1 ] && jq -e '[.reasons[] | select(.severity == "error") | .code] == ["VTPM_EK_MALFORMED"]
    and (.claims.measurement | length) == 96' lm.json >/dev/null &&
    ok "a manifest of an EK and a byte more: VTPM_EK_MALFORMED, the report still checked" ||
    fail "long manifest: exit $rc $(head -c 1500 lm.json)"

# Without the manifest part; the bundle read as plain SEV-SNP names the unused manifest.
jq '.parts |= map(select(.role != "svsm_manifest"))' b.json >nom.json
$CVM verify nom.json --nonce "$NONCE" $V >nm.json 2>&1
[ $? = 1 ] && jq -e 'any(.reasons[]; .code == "PARSE_TRUNCATED" and (.detail | test("svsm_manifest")))' nm.json >/dev/null &&
    ok "no svsm_manifest part: refused, named" || fail "no manifest: $(head -c 1500 nm.json)"
jq '.kind = "sev-snp"' b.json >assnp.json
$CVM verify assnp.json --report-data "$RD" $V >as.json 2>&1
[ $? = 0 ] && jq -e '.status == "warning"
    and any(.reasons[]; .code == "PARSE_BUNDLE_PART_NOT_USED" and (.detail | test("svsm_manifest")))' as.json >/dev/null &&
    ok "the manifest in a bundle of kind sev-snp: PARSE_BUNDLE_PART_NOT_USED" || fail "as sev-snp: $(head -c 1500 as.json)"

# Without the VCEK (offline, an empty cache) the report's signature cannot be checked, but
# what its bytes say still is: another nonce is refused (exit 1), not undecided; the right one
# stays undecided (exit 3).
jq '.parts |= map(select(.name != "vcek.der"))' b.json >novcek.json
CVMATTEST_CACHE="$T/empty-cache" $CVM verify novcek.json --nonce "00$NONCE" $V >nv.json 2>&1
rc=$?
[ $rc = 1 ] && jq -e '.undecided == false and any(.reasons[]; .code == "VTPM_SVSM_MANIFEST_MISMATCH")
    and any(.reasons[]; .code == "COLLATERAL_UNAVAILABLE")' nv.json >/dev/null &&
    ok "no VCEK, another nonce: VTPM_SVSM_MANIFEST_MISMATCH, refused (exit 1)" ||
    fail "no VCEK, another nonce: exit $rc $(head -c 1500 nv.json)"
CVMATTEST_CACHE="$T/empty-cache" $CVM verify novcek.json --nonce "$NONCE" $V >nv2.json 2>&1
rc=$?
[ $rc = 3 ] && jq -e '.undecided == true and all(.reasons[]; (.code | startswith("VTPM_SVSM")) | not)' \
    nv2.json >/dev/null && ok "no VCEK, the right nonce: undecided (exit 3)" ||
    fail "no VCEK, right nonce: exit $rc $(head -c 1500 nv2.json)"

# A real SEV-SNP report (VMPL 0, REPORT_DATA of another binding) as the SVSM's, without its
# VCEK: refused for its REPORT_DATA.
R=${CVMATTEST_VECTORS:-}/snp/milan-v2-coco-trustee/report.bin
if [ -n "${CVMATTEST_VECTORS:-}" ] && [ -f "$R" ]; then
    jq --arg r "$(base64 -w0 "$R")" '.parts |= map(select(.role != "collateral")
        | if .role == "evidence" then .data = $r else . end)' b.json >real.json
    CVMATTEST_CACHE="$T/empty-cache" $CVM verify real.json --nonce "$NONCE" --offline --json >real.out 2>&1
    rc=$?
    [ $rc = 1 ] && jq -e 'any(.reasons[]; .code == "VTPM_SVSM_MANIFEST_MISMATCH")' real.out >/dev/null &&
        ok "a real report committing to something else, no VCEK: VTPM_SVSM_MANIFEST_MISMATCH" ||
        fail "real report: exit $rc $(head -c 1500 real.out)"
else
    echo "SKIP (part): shared test vectors not found (set CVMATTEST_VECTORS)"
fi

[ "$fails" = 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
