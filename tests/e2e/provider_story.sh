#!/bin/sh
# Provider binding, policy and signed results through the CLI, on simulated evidence:
# a registered machine is accepted and its provider named (AMD chip_id, AMD VLEK, Intel PPID),
# an unregistered one refused, a debug guest refused by policy, the signed result round-trips
# and a flipped byte in it is refused, a migration shows up as PLATFORM_CHANGED, and another
# measurement on the same machine as MEASUREMENT_CHANGED (the same one, nothing).
set -u
CVM=${CVMATTEST_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CVMATTEST_CACHE="$T/cache"
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 800 "$1"; echo; fails=$((fails + 1)); }; }
lacks() { if grep -q -- "$2" "$1"; then echo "FAIL: $1 has $2"; fails=$((fails + 1)); fi; }

chip=$(printf '5a%.0s' $(seq 64)); other=$(printf '6b%.0s' $(seq 64)); ppid=$(printf '3c%.0s' $(seq 16))
$CVM sim snp --out "$T/reg" --chip-id "$chip" >/dev/null
$CVM sim snp --out "$T/unreg" --chip-id "$other" >/dev/null
$CVM sim snp --out "$T/vlek" --vlek >/dev/null
$CVM sim tdx --out "$T/td" --ppid "$ppid" >/dev/null
$CVM registry keygen --out "$T/cloud" >/dev/null
$CVM registry keygen --out "$T/verifier" >/dev/null
cat >"$T/fleet.txt" <<EOT
# the provider's fleet
amd chip_id $chip region=eu-1 rack=7
amd vlek_csp sim.cvmattest.test region=us-2
intel ppid $ppid region=ap-3
EOT
$CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 30 --out "$T/cloud.jws" >/dev/null; check "registry build" 0 $?
$CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version 2 \
    --valid-days 30 --out "$T/cloud-root.jws" --root-only --proofs-dir "$T/proofs" >/dev/null
check "registry build --root-only" 0 $?
B="--provider cloud=$T/cloud.pub --offline"

v() { d=$1; shift; $CVM verify "$T/$d/$(ls "$T/$d" | grep -E '^(report|quote)\.bin$')" --collateral "$T/$d" \
      --trust-root "$T/$d/$(ls "$T/$d" | grep -E '^(ark|root_ca)\.pem$')" "$@"; }

v reg $B --registry "$T/cloud.jws" --json >"$T/r1.json"; check "registered chip_id" 0 $?
has "$T/r1.json" '"provider": "cloud"'
has "$T/r1.json" '"region": "eu-1"'
v vlek $B --registry "$T/cloud.jws" --json >"$T/r2.json"; check "registered VLEK" 0 $?
has "$T/r2.json" '"region": "us-2"'
v td $B --registry "$T/cloud.jws" --json >"$T/r3.json"; check "registered PPID" 0 $?
has "$T/r3.json" '"region": "ap-3"'
v unreg $B --registry "$T/cloud.jws" --json >"$T/r4.json"; check "unregistered machine" 1 $?
has "$T/r4.json" REGISTRY_PLATFORM_NOT_LISTED

# Two providers list the same machine: one of them is wrong, so it is bound to neither, even
# for a policy that requires one of them (registry_conflict.sh: every order and identifier).
$CVM registry keygen --out "$T/other" >/dev/null
printf 'amd chip_id %s region=xx\n' "$chip" >"$T/other.txt"
$CVM registry build --provider othercloud --key "$T/other.key" --entries "$T/other.txt" --version 1 \
    --valid-days 30 --out "$T/other.jws" >/dev/null
printf '{"required_providers": ["cloud"]}\n' >"$T/wantcloud.json"
v reg --offline --provider othercloud="$T/other.pub" --registry "$T/other.jws" $B \
    --registry "$T/cloud.jws" --policy "$T/wantcloud.json" --json >"$T/r8.json"
check "two providers list the machine: bound to neither" 1 $?
has "$T/r8.json" REGISTRY_PROVIDER_CONFLICT
has "$T/r8.json" '"provider": null'
# A provider key with nothing to bind with is a usage error.
v reg $B >/dev/null 2>&1; check "--provider without a registry" 2 $?
# So is a lookup registry named as a signed registry's provider: its unsigned answer could
# pass for cloud's signed registry (a policy's required_providers).
v reg $B --registry "$T/cloud.jws" --lookup-registry cloud=https://lookup.example/v1 >/dev/null 2>"$T/clash.err"
check "--lookup-registry under a --provider's name" 2 $?
has "$T/clash.err" "cloud is both a signed registry's provider"
# A VLEK host that does not mask CHIP_ID can be listed by its chip.
$CVM sim snp --out "$T/vc" --vlek --chip-id "$chip" >/dev/null
v vc --offline --provider othercloud="$T/other.pub" --registry "$T/other.jws" --json >"$T/r9.json"
check "VLEK host bound by its CHIP_ID" 0 $?
has "$T/r9.json" '"provider": "othercloud"'

# Root-only registry: the host's proof binds it.
v reg $B --registry "$T/cloud-root.jws" --json >"$T/r5.json"; check "root-only without proof" 1 $?
v reg $B --registry "$T/cloud-root.jws" --proof "$T/proofs/$chip.json" --json >"$T/r6.json"
check "root-only with proof" 0 $?
# Another trusted provider signs a registry over the same entries (so the same root); a proof
# that names no provider fits both, so both list the machine, and the order of --registry
# does not choose between them, nor does the policy: bound to neither.
$CVM registry build --provider othercloud --key "$T/other.key" --entries "$T/fleet.txt" --version 2 \
    --valid-days 30 --out "$T/other-root.jws" --root-only >/dev/null || exit 1
$CVM registry prove --entries "$T/fleet.txt" --id "$chip" --out "$T/null-proof.json" >/dev/null || exit 1
has "$T/null-proof.json" '"provider": null'
for order in "$T/other-root.jws $T/cloud-root.jws" "$T/cloud-root.jws $T/other-root.jws"; do
    set -- $order
    v reg $B --provider othercloud="$T/other.pub" --registry "$1" --registry "$2" \
        --proof "$T/null-proof.json" --policy "$T/wantcloud.json" --json >"$T/r11.json"
    check "a proof naming no provider, two registries of its root ($(basename "$1") first)" 1 $?
    has "$T/r11.json" REGISTRY_PROVIDER_CONFLICT
done
# Rollback: version 1 after version 2 was seen.
v reg $B --registry "$T/cloud.jws" --json >"$T/r7.json"; check "rollback refused" 1 $?
has "$T/r7.json" REGISTRY_ROLLBACK
# An emptied state file (a write cut short, a reset) is no first use: version 1 is used with
# the warning that the rollback was not checked, never recorded silently as the new floor.
: >"$T/cache/registry-state.cloud.json"
v reg $B --registry "$T/cloud.jws" --json >"$T/r10.json"; check "emptied state: used with a warning" 0 $?
has "$T/r10.json" REGISTRY_ROLLBACK_NOT_CHECKED
has "$T/r10.json" 'registry-state.cloud.json was unreadable (empty)'

# Policy: a debug guest is refused; the policy can require a provider.
$CVM sim snp --out "$T/dbg" --chip-id "$chip" --debug >/dev/null
printf '{"snp": {"allow_debug": false}}\n' >"$T/nodebug.json"
v dbg --policy "$T/nodebug.json" --offline --json >"$T/p1.json"; check "debug refused by policy" 1 $?
has "$T/p1.json" POLICY_DEBUG
v dbg --offline --json >"$T/p2.json"; check "debug without policy: refused by default" 1 $?
has "$T/p2.json" SNP_DEBUG_ALLOWED
printf '{"required_providers": ["cloud"]}\n' >"$T/needcloud.json"
v unreg --policy "$T/needcloud.json" --offline --json >"$T/p3.json"; check "provider required" 1 $?
has "$T/p3.json" POLICY_PROVIDER_REQUIRED
printf '{"snp": {"bogus": 1}}\n' >"$T/bad.json"
v reg --policy "$T/bad.json" --offline >/dev/null 2>"$T/bad.err"; check "unknown policy field" 2 $?
has "$T/bad.err" bogus

# Signed result (EAR): round trip, then a flipped byte.
nonce=$(printf '0d%.0s' $(seq 32))
$CVM sim snp --out "$T/n" --chip-id "$chip" --report-data "$nonce" >/dev/null
v n --offline --report-data "$nonce" --sign-result "$T/verifier.key" --result-out "$T/tok" >/dev/null
check "signed result" 0 $?
$CVM result check "$T/tok" --pub "$T/verifier.pub" >"$T/ear.json"; check "result check" 0 $?
has "$T/ear.json" '"ear.status": "affirming"'
has "$T/ear.json" '"eat_profile": "tag:github.com,2023:veraison/ear"'
# The nonce as given, not zero-padded to 128 digits (a JSON EAT nonce is 10..74 characters).
has "$T/ear.json" "\"eat_nonce\": \"$nonce\""
python3 - "$T/tok" "$T/bad.tok" <<'PY'
import sys
t = bytearray(open(sys.argv[1], 'rb').read())
i = t.index(b'.') + 10
t[i] = ord('A') if t[i] != ord('A') else ord('B')
open(sys.argv[2], 'wb').write(t)
PY
$CVM result check "$T/bad.tok" --pub "$T/verifier.pub" >/dev/null 2>&1; check "flipped token refused" 1 $?
$CVM result check "$T/tok" --pub "$T/cloud.pub" >/dev/null 2>&1; check "token under another key refused" 1 $?

# Migration: the same workload, earlier on another (unregistered) machine.
M=$(printf 'ab%.0s' $(seq 48))
$CVM sim snp --out "$T/m1" --chip-id "$other" --measurement "$M" >/dev/null
$CVM sim snp --out "$T/m2" --chip-id "$chip" --measurement "$M" >/dev/null
v m1 --offline --json >"$T/before.json"
v m2 $B --registry "$T/cloud-root.jws" --proof "$T/proofs/$chip.json" --previous "$T/before.json" --json >"$T/after.json"
check "migrated workload: warning" 0 $?
has "$T/after.json" PLATFORM_CHANGED
has "$T/after.json" "not registered) to amd chip_id"
lacks "$T/after.json" MEASUREMENT_CHANGED
# Another image on the same machine: MEASUREMENT_CHANGED (a warning) naming both measurements,
# and no PLATFORM_CHANGED; shown, not refused (exit 0)
M2=$(printf 'ee%.0s' $(seq 48))
$CVM sim snp --out "$T/m3" --chip-id "$chip" --measurement "$M2" >/dev/null
v m3 $B --registry "$T/cloud-root.jws" --proof "$T/proofs/$chip.json" --previous "$T/after.json" \
    --json >"$T/image.json"
check "another measurement on the same machine: warning" 0 $?
has "$T/image.json" '"status": "warning"'
has "$T/image.json" '"code": "MEASUREMENT_CHANGED"'
has "$T/image.json" "\"detail\": \"the measurement changed on amd chip_id 5a5a5a5a5a5a5a5a\.\.\. (registered with cloud): from $M to $M2\""
lacks "$T/image.json" PLATFORM_CHANGED
v m3 $B --registry "$T/cloud-root.jws" --proof "$T/proofs/$chip.json" --previous "$T/after.json" \
    >"$T/image.txt"
has "$T/image.txt" "MEASUREMENT_CHANGED"

# A VLEK names its provider (cspID), shared by all its hosts: the chip beside it is the host.
# The same workload on two chips of one provider moved; on the same chip it stayed.
$CVM sim snp --out "$T/vl1" --vlek --chip-id "$other" --measurement "$M" >/dev/null
$CVM sim snp --out "$T/vl2" --vlek --chip-id "$chip" --measurement "$M" >/dev/null
$CVM sim snp --out "$T/vl3" --vlek --chip-id "$chip" --measurement "$M" >/dev/null
v vl1 --offline --json >"$T/vl1.json"
v vl2 --offline --previous "$T/vl1.json" --json >"$T/vl2.json"
check "VLEK, another chip of the provider: warning" 0 $?
has "$T/vl2.json" '"code": "PLATFORM_CHANGED"'
has "$T/vl2.json" "moved from amd vlek sim.cvmattest.te... chip 6b6b6b6b6b6b6b6b... (not registered) to amd vlek sim.cvmattest.te... chip 5a5a5a5a5a5a5a5a..."
v vl3 --offline --previous "$T/vl2.json" --json >"$T/vl3.json"
check "VLEK, the same chip: affirming" 0 $?
lacks "$T/vl3.json" PLATFORM_CHANGED
# A masked CHIP_ID names no platform ("id": null): nothing shows the workload stayed, so two
# masked results are two platforms (docs/results.md "Migration").
$CVM sim snp --out "$T/mk1" --mask-chip-id --measurement "$M" >/dev/null
$CVM sim snp --out "$T/mk2" --mask-chip-id --measurement "$M" >/dev/null
v mk1 --offline --json >"$T/mk1.json"
has "$T/mk1.json" '"id": null'
v mk2 --offline --previous "$T/mk1.json" --json >"$T/mk2.json"
check "masked CHIP_ID twice: warning" 0 $?
has "$T/mk2.json" '"code": "PLATFORM_CHANGED"'
has "$T/mk2.json" "moved from amd chip_id (none) (not registered) to amd chip_id (none) (not registered) (or may have: no identifier shows it stayed)"
lacks "$T/mk2.json" MEASUREMENT_CHANGED

echo "$fails failure(s)"
[ "$fails" = 0 ]
