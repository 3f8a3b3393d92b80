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
{ cat "$T/ok.tok"; printf '\t \r\n'; } >"$T/okws.tok"
$CVM result check "$T/okws.tok" --pub "$T/v.pub" >/dev/null 2>&1; check "a token with blanks after it (a tab too)" 0 $?
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
# A result signed now of a verification --at another time: its age is the appraisal's
# (cvmattest.verified-at), not the signature's; one judged as of a later time is refused.
past=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
future=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
$CVM verify "$T/s/report.bin" --collateral "$T/s" --offline $TR --at "$past" \
    --sign-result "$T/v.key" --result-out "$T/past.tok" >/dev/null
check "sign --at in the past" 0 $?
$CVM result check "$T/past.tok" --pub "$T/v.pub" >/dev/null 2>"$T/past.err"
check "--at in the past, no --max-age" 0 $?
has "$T/past.err" "evidence judged as of $past"
$CVM result check "$T/past.tok" --pub "$T/v.pub" --max-age 3600 >/dev/null 2>"$T/past.err"
check "--at in the past, older than --max-age" 1 $?
has "$T/past.err" "too old: evidence judged as of $past"
$CVM verify "$T/s/report.bin" --collateral "$T/s" --offline $TR --at "$future" \
    --sign-result "$T/v.key" --result-out "$T/future.tok" >/dev/null
check "sign --at in the future" 0 $?
$CVM result check "$T/future.tok" --pub "$T/v.pub" >/dev/null 2>"$T/future.err"
check "--at in the future" 1 $?
has "$T/future.err" "judged the evidence as of a later time: verified-at $future"
$CVM result check --help >/dev/null; check "result check --help" 0 $?
$CVM result check "$T/ok.tok" >/dev/null 2>&1; check "no --pub" 2 $?
$CVM result check "$T/ok.tok" --pub "$T/v.pub" --max-age soon >/dev/null 2>&1; check "bad --max-age" 2 $?
$CVM result check "$T/ok.tok" --pub "$T/v.pub" --bogus >/dev/null 2>&1; check "unknown option" 2 $?

# Certificate and CRL time refusals name their own window and suggest --at.
reason() { # file, code: the detail of that reason, or nothing
    jq -r --arg c "$2" '.reasons[] | select(.code == $c) | .detail' "$1"
}
window() { # name, file, code, words the detail must hold...
    name=$1 f=$2 c=$3
    shift 3
    d=$(reason "$f" "$c")
    if [ -z "$d" ]; then
        echo "FAIL $name: no $c in $(jq -c '[.reasons[].code]' "$f")"; fails=$((fails + 1)); return
    fi
    for w in "$@"; do
        case "$d" in
        *"$w"*) ;;
        *) echo "FAIL $name: '$w' not in: $d"; fails=$((fails + 1)); return ;;
        esac
    done
    echo "ok   $name"
}
V="$CVM verify $T/s/report.bin --collateral $T/s --offline $TR --json"
$V --at 2000-01-01T00:00:00Z >"$T/nyv.json"; check "sim snp before notBefore" 1 $?
window "CERT_NOT_YET_VALID names the window" "$T/nyv.json" CERT_NOT_YET_VALID \
    "ARK (subject 'ARK-" "verification time 2000-01-01T00:00:00Z is before notBefore 20" \
    "(notAfter 20" "give --at a time inside the window"
$V --at 2199-01-01T00:00:00Z >"$T/exp.json"; check "sim snp after notAfter" 1 $?
window "CERT_EXPIRED names the window" "$T/exp.json" CERT_EXPIRED \
    "verification time 2199-01-01T00:00:00Z is after notAfter 20" "(notBefore 20" "--at"
later=$(date -u -d '+90 days' +%Y-%m-%dT%H:%M:%SZ)
$V --at "$later" >"$T/crl.json"; check "sim snp CRL past nextUpdate" 1 $?
window "CRL_EXPIRED (AMD) names the window" "$T/crl.json" CRL_EXPIRED \
    "AMD CRL (issuer 'ARK-" "verification time $later is after nextUpdate 20" "(thisUpdate 20" "--at"
$CVM sim tdx --out "$T/t" >/dev/null; check "sim tdx" 0 $?
$CVM verify "$T/t/quote.bin" --collateral "$T/t" --offline --trust-root "$T/t/root_ca.pem" \
    --at 2000-01-01T00:00:00Z --json >"$T/tcrl.json"
check "sim tdx before the CRLs" 1 $?
window "CRL_EXPIRED (PCK chain) names the window" "$T/tcrl.json" CRL_EXPIRED \
    "the CRL covering the PCK certificate (issuer '" \
    "verification time 2000-01-01T00:00:00Z is before thisUpdate 20" "(nextUpdate 20" "--at"

# Real samples, verified today (their windows are in the past).
VEC=${CVMATTEST_VECTORS:-}
if [ -n "$VEC" ] && [ -d "$VEC/snp" ] && [ -d "$VEC/tdx" ]; then
    mkdir -p "$T/vl"
    cp "$VEC/snp/milan-v3-vlek-coco-trustee/vlek.der" "$T/vl/"
    cp "$VEC/snp/roots/ask_ark_milan_vlek.pem" "$T/vl/cert_chain.pem"
    $CVM verify "$VEC/snp/milan-v3-vlek-coco-trustee/report.bin" --collateral "$T/vl" --offline \
        --json >"$T/rvl.json"
    check "real VLEK today" 1 $?
    window "real VLEK: CERT_EXPIRED names its window" "$T/rvl.json" CERT_EXPIRED \
        "VLEK (subject 'SEV-VLEK')" "is after notAfter 2025-12-10T22:14:21Z" \
        "(notBefore 2024-12-10T22:14:21Z)" "give --at a time inside the window"
    $CVM verify "$VEC/snp/milan-v3-vlek-coco-trustee/report.bin" --collateral "$T/vl" --offline \
        --at 2025-06-01T00:00:00Z --json >"$T/rvl2.json"
    [ -z "$(reason "$T/rvl2.json" CERT_EXPIRED)" ] && echo "ok   real VLEK inside its window with --at" \
        || { echo "FAIL real VLEK with --at: $(reason "$T/rvl2.json" CERT_EXPIRED)"; fails=$((fails + 1)); }
    D="$VEC/tdx/v4-uptodate-dcapqvl"
    $CVM verify "$D/quote.bin" --collateral "$D" --offline --json >"$T/rtdx.json"
    check "real TDX quote today" 1 $?
    window "real TDX: CRL_EXPIRED names its window" "$T/rtdx.json" CRL_EXPIRED \
        "the CRL covering the PCK certificate (issuer 'Intel SGX PCK Platform CA')" \
        "is after nextUpdate 2025-07-19T10:00:35Z (thisUpdate 2025-06-19T10:00:35Z)" "--at"
else
    echo "SKIP real samples: shared test vectors not found (set CVMATTEST_VECTORS)"
fi

echo "$fails failure(s)"
[ "$fails" = 0 ]
