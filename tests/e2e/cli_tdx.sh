#!/bin/sh
# TDX through the CLI on simulated evidence: a TD launched on an out-of-date TDX module
# (TDRelaunchAdvised) is refused by default and accepted by a policy that lists the status;
# the human output shows the TCB statuses, advisories and RTMRs; a quote with no TCB level
# still has its claims, with a null TCB status; an accepted status is a warning (status
# warning, exit 0), and its signed result says "ear.status": "warning" beside hardware 32 in
# its trustworthiness vector, never affirming beside a warning claim (docs/results.md).
set -u
CVM=${CVMATTEST_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CVMATTEST_CACHE="$T/cache"
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 1500 "$1"; echo; fails=$((fails + 1)); }; }
verify() { d=$1; shift; $CVM verify "$d/quote.bin" --collateral "$d" --trust-root "$d/root_ca.pem" --offline "$@"; }

$CVM sim tdx --out "$T/rl" --tcb-status relaunch >"$T/sim.out"; check "sim tdx --tcb-status relaunch" 0 $?
has "$T/sim.out" "quote v5 (TCB status TDRelaunchAdvised)"
verify "$T/rl" >"$T/rl.txt"; check "relaunch refused by default" 1 $?
has "$T/rl.txt" "^status:       contraindicated"
has "$T/rl.txt" "^measurement:  [0-9a-f]\{96\}$"
has "$T/rl.txt" "^tcb status:   TDRelaunchAdvised (platform UpToDate, module OutOfDate)$"
has "$T/rl.txt" "^qe tcb:       UpToDate$"
has "$T/rl.txt" "^advisories:   INTEL-SA-00106, "
for n in 0 1 2; do has "$T/rl.txt" "^rtmr$n:        [0-9a-f]\{96\}$"; done
has "$T/rl.txt" "^rtmr3:        0\{96\}$"
has "$T/rl.txt" "error   TDX_TCB_RELAUNCH_ADVISED: TCB status TDRelaunchAdvised"

# A quote of an unknown version is named as one without --tee, as with it (docs/reasons.md)
{ printf '\006\000'; tail -c +3 "$T/rl/quote.bin"; } >"$T/q6.bin"
$CVM verify "$T/q6.bin" --offline --json >"$T/q6.json"; check "quote version 6" 1 $?
has "$T/q6.json" '"code": "PARSE_UNKNOWN_VERSION"'
has "$T/q6.json" "tdx quote: version 6 at 0x00 (known: 4, 5)"

printf '{"tdx": {"accepted_tcb_statuses": ["UpToDate", "TDRelaunchAdvised"]}}\n' >"$T/accept.json"
verify "$T/rl" --policy "$T/accept.json" --json >"$T/rl-ok.json"; check "relaunch accepted by policy" 0 $?
has "$T/rl-ok.json" '"status": "warning"'
has "$T/rl-ok.json" '"severity": "warning"'
has "$T/rl-ok.json" "accepted by policy: tdx.accepted_tcb_statuses lists TDRelaunchAdvised"

# An accepted status is still a TCB that needs action: the result is a warning and the signed
# result's vector has hardware 32 (docs/results.md), never the 2 of UpToDate; its ear.status is
# the result's, warning, not affirming beside a warning-tier claim (the EAR rule).
$CVM registry keygen --out "$T/verifier" >/dev/null
printf '{"tdx": {"accepted_tcb_statuses": ["UpToDate", "OutOfDate", "SWHardeningNeeded"]}}\n' \
    >"$T/accept2.json"
for st in rl:accept outofdate:accept2 swhardening:accept2 uptodate:accept2; do
    s=${st%%:*}
    [ "$s" = rl ] || $CVM sim tdx --out "$T/$s" --tcb-status "$s" >/dev/null
    verify "$T/$s" --policy "$T/${st#*:}.json" --sign-result "$T/verifier.key" \
        --result-out "$T/$s.tok" --json >"$T/$s.json"
    check "$s accepted by policy: signed" 0 $?
    $CVM result check "$T/$s.tok" --pub "$T/verifier.pub" >"$T/$s.ear" 2>"$T/$s.err"
    check "$s accepted by policy: result check" 0 $?
    hw=32 status=warning; [ "$s" = uptodate ] && hw=2 status=affirming
    has "$T/$s.ear" "\"hardware\": $hw,"
    has "$T/$s.json" "^  \"status\": \"$status\","
    has "$T/$s.ear" "\"ear.status\": \"$status\","
    has "$T/$s.err" "status $status"
done

# a TD quote has no extraData: --nonce for it is refused, not ignored
verify "$T/rl" --policy "$T/accept.json" --nonce 0011 >/dev/null 2>"$T/nonce.err"; check "--nonce for a TD quote" 2 $?
has "$T/nonce.err" "TDX quote evidence holds no TPM quote"
# nor has it an SEV-SNP report whose product --product could name: refused, not ignored
verify "$T/rl" --policy "$T/accept.json" --product genoa >/dev/null 2>"$T/product.err"; check "--product for a TD quote" 2 $?
has "$T/product.err" "snp_product (--product) names the processor of an SEV-SNP report, and TDX quote evidence (kind tdx) holds no SEV-SNP report"
$CVM collateral fetch "$T/rl/quote.bin" --out "$T/rl-coll" --product genoa 2>"$T/cproduct.err"; check "collateral fetch --product for a TD quote" 2 $?
has "$T/cproduct.err" "--product names the processor of an SEV-SNP report, and '.*' is TDX quote evidence (kind tdx)"

# --previous across TEE kinds: an SEV-SNP MEASUREMENT and a TDX MRTD of the same 48 bytes are
# not the same measurement (measurements of different kinds are not comparable), so the TD's
# result against the SEV-SNP one is MEASUREMENT_CHANGED, naming both kinds, beside the move.
MM=$(printf 'ab%.0s' $(seq 48))
$CVM sim snp --out "$T/ms" --measurement "$MM" >/dev/null
$CVM sim tdx --out "$T/mt" --mr-td "$MM" >/dev/null
$CVM verify "$T/ms/bundle.json" --offline --trust-root "$T/ms/ark.pem" --json >"$T/ms.json"
check "verify the SEV-SNP previous" 0 $?
$CVM verify "$T/mt/bundle.json" --offline --trust-root "$T/mt/root_ca.pem" --previous "$T/ms.json" \
    --json >"$T/mt.json"
check "--previous of another TEE kind" 0 $?
has "$T/mt.json" '"code": "PLATFORM_CHANGED"'
has "$T/mt.json" '"code": "MEASUREMENT_CHANGED"'
has "$T/mt.json" "from sev-snp $MM to tdx $MM, another TEE kind"
# the TD against its own earlier result: the same kind and measurement, nothing changed
$CVM verify "$T/mt/bundle.json" --offline --trust-root "$T/mt/root_ca.pem" --json >"$T/mt0.json"
$CVM verify "$T/mt/bundle.json" --offline --trust-root "$T/mt/root_ca.pem" --previous "$T/mt0.json" \
    --json >"$T/mt1.json"
check "--previous of the same TD" 0 $?
if grep -q '_CHANGED"' "$T/mt1.json"; then echo "FAIL: the same TD is named as changed"; fails=$((fails + 1)); fi

$CVM sim tdx --out "$T/x" --tcb-status relaunch --version 4 2>"$T/x.err"; check "relaunch needs v5" 2 $?
has "$T/x.err" "relaunch needs quote version 5"

$CVM sim tdx --out "$T/nl" --tcb-status nolevel >/dev/null
verify "$T/nl" --json >"$T/nl.json"; check "no TCB level refused" 1 $?
has "$T/nl.json" '"code": "TDX_TCB_LEVEL_NOT_FOUND"'
has "$T/nl.json" '"tcb_status": null'
has "$T/nl.json" '"measurement": "[0-9a-f]\{96\}"'
has "$T/nl.json" '"id_type": "ppid"'
verify "$T/nl" >"$T/nl.txt"
has "$T/nl.txt" "^tcb status:   (none: no TCB level found)$"

[ "$fails" = 0 ]
