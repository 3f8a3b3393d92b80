#!/bin/sh
# Results and exit codes: "undecided" in the JSON, result check's exit by the token's verdict,
# and certificate-time refusals that name the window.
set -u
CVM=${CVMATTEST_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CVMATTEST_CACHE="$T/cache"
fails=0
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi
}
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 800 "$1"; echo; fails=$((fails + 1)); }; }

$CVM sim snp --out "$T/s" >/dev/null; check "sim snp" 0 $?
TR="--trust-root $T/s/ark.pem"

# Decided: "undecided": false is always there.
$CVM verify "$T/s/report.bin" --collateral "$T/s" --offline $TR --json >"$T/ok.json"
check "verify simulated" 0 $?
has "$T/ok.json" '"undecided": false'

# Online against a KDS that does not answer: exit 3, undecided, still contraindicated.
$CVM verify "$T/s/report.bin" --kds-url http://127.0.0.1:1 $TR --json >"$T/u.json"
check "unreachable KDS is undecided" 3 $?
has "$T/u.json" '"undecided": true'
has "$T/u.json" '"status": "contraindicated"'
has "$T/u.json" COLLATERAL_UNAVAILABLE

# Refused for its own reasons: exit 1 and not undecided.
$CVM verify "$T/s/report.bin" --collateral "$T/s" --offline --json >"$T/r.json"
check "untrusted root refused" 1 $?
has "$T/r.json" '"undecided": false'

# result check exits by the token's verdict.
$CVM registry keygen --out "$T/v" >/dev/null; check "keygen" 0 $?
$CVM registry keygen --out "$T/w" >/dev/null
$CVM verify "$T/s/report.bin" --collateral "$T/s" --offline $TR --sign-result "$T/v.key" \
    --result-out "$T/ok.tok" >/dev/null
check "sign affirming" 0 $?
$CVM result check "$T/ok.tok" --pub "$T/v.pub" >"$T/ok.ear" 2>"$T/ok.err"; check "result check affirming" 0 $?
has "$T/ok.err" "status affirming"
has "$T/ok.ear" '"cvmattest.undecided": false'
$CVM result check "$T/ok.tok" --pub="$T/v.pub" >/dev/null 2>&1; check "--pub=PUB" 0 $?
$CVM result check "$T/ok.tok" --pub "$T/v.pub" --max-age 3600 >/dev/null 2>&1; check "--max-age" 0 $?
$CVM result check "$T/ok.tok" --pub "$T/w.pub" >/dev/null 2>"$T/k.err"; check "another key" 1 $?
has "$T/k.err" refused
$CVM verify "$T/s/report.bin" --collateral "$T/s" --offline --sign-result "$T/v.key" \
    --result-out "$T/bad.tok" >/dev/null
check "sign contraindicated" 1 $?
$CVM result check "$T/bad.tok" --pub "$T/v.pub" >"$T/bad.ear" 2>"$T/bad.err"
check "result check contraindicated" 1 $?
has "$T/bad.err" "status contraindicated"
has "$T/bad.err" CERT_UNTRUSTED_ROOT
has "$T/bad.ear" '"ear.status": "contraindicated"'
$CVM verify "$T/s/report.bin" --kds-url http://127.0.0.1:1 $TR --sign-result "$T/v.key" \
    --result-out "$T/und.tok" >/dev/null
check "sign undecided" 3 $?
$CVM result check "$T/und.tok" --pub "$T/v.pub" >"$T/und.ear" 2>"$T/und.err"
check "result check undecided" 1 $?
has "$T/und.err" undecided
has "$T/und.ear" '"cvmattest.undecided": true'
sleep 2
$CVM result check "$T/ok.tok" --pub "$T/v.pub" --max-age 1 >/dev/null 2>"$T/old.err"
check "token older than --max-age" 1 $?
has "$T/old.err" "too old"
$CVM result check --help >/dev/null; check "result check --help" 0 $?
$CVM result check "$T/ok.tok" >/dev/null 2>&1; check "no --pub" 2 $?
$CVM result check "$T/ok.tok" --pub "$T/v.pub" --max-age soon >/dev/null 2>&1; check "bad --max-age" 2 $?
$CVM result check "$T/ok.tok" --pub "$T/v.pub" --bogus >/dev/null 2>&1; check "unknown option" 2 $?

echo "$fails failure(s)"
[ "$fails" = 0 ]
