#!/bin/sh
# eventlog.required_events on a TDX CCEL (docs/policy.md): a simulated TDX quote carrying the
# RTMRs the GCE CCEL replays to, the CCEL as its event_log part. A required event is matched by
# its RTMR, type and a digest that is the hash of the given data (EV_EFI_ACTION strings; a type
# alone is refused at load: replay does not vouch for it); an
# event not in the log, or required in RTMR 3 (runtime extends: never compared), is
# POLICY_REQUIRED_EVENT. (The TCG-log side runs in tests/e2e/azure_eventlog.sh.)
set -u
CVM=${CVMATTEST_BIN:?}
V=${CVMATTEST_VECTORS:-}
CCEL=$V/tdx/v4-gce-ccel-gotdxguest/ccel_data.dat
[ -n "$V" ] && [ -f "$CCEL" ] || { echo "SKIP: shared test vectors not found (set CVMATTEST_VECTORS)"; exit 77; }
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not found"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

$CVM eventlog "$CCEL" --json >"$T/ccel.json" 2>/dev/null || { echo "FAIL: eventlog CCEL"; exit 1; }
r() { jq -r ".rtmr[\"$1\"]" "$T/ccel.json"; }
$CVM sim tdx --out "$T/tdx" --rtmr "0=$(r 0)" --rtmr "1=$(r 1)" --rtmr "2=$(r 2)" >/dev/null ||
    { echo "FAIL: sim tdx"; exit 1; }
base64 -w0 "$CCEL" >"$T/ccel.b64"
jq --rawfile l "$T/ccel.b64" '.parts += [{role: "event_log", data: $l}]' "$T/tdx/bundle.json" >"$T/b.json"

req() { # name, expected exit, required_events JSON, [jq test]
    printf '{"tdx": {}, "eventlog": {"required_events": %s}}\n' "$3" >"$T/p.json"
    $CVM verify "$T/b.json" --trust-root "$T/tdx/root_ca.pem" --offline --policy "$T/p.json" --json >"$T/out.json" 2>&1
    rc=$?
    if [ $rc = "$2" ] && { [ -z "${4:-}" ] || jq -e "$4" "$T/out.json" >/dev/null; }; then ok "$1"; else
        fail "$1: exit $rc $(jq -c '[.reasons[] | .code + ": " + .detail]' "$T/out.json" 2>/dev/null | head -c 1200)"; fi
}
req "CCEL: Exit Boot Services measured in RTMR 1" 0 \
    '[{"rtmr": 1, "type": "EV_EFI_ACTION", "data": "Exit Boot Services Invocation"},
      {"rtmr": 1, "data": "Exit Boot Services Returned with Success"}]' \
    '.status == "affirming" and (.claims.eventlog.measured_events | length) > 0'
req "CCEL: a known type given in hex (0x80000007 = EV_EFI_ACTION) matches it" 0 \
    '[{"rtmr": 1, "type": "0x80000007", "data": "Exit Boot Services Invocation"}]' \
    '.status == "affirming"'
req "CCEL: an action that was not measured: POLICY_REQUIRED_EVENT" 1 \
    '[{"rtmr": 1, "type": "EV_EFI_ACTION", "data": "Exit Boot Services Failed"}]' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_REQUIRED_EVENT"]
     and any(.reasons[]; .detail | test("no measured event of RTMR 1 of type EV_EFI_ACTION"))'
req "CCEL: an event required in RTMR 3 (never compared): POLICY_REQUIRED_EVENT" 1 \
    '[{"rtmr": 3, "type": "EV_EFI_ACTION", "data": "Exit Boot Services Invocation"}]' \
    'any(.reasons[]; .code == "POLICY_REQUIRED_EVENT")'
req "CCEL: a pcr rule does not match RTMR events" 1 \
    '[{"pcr": 1, "type": "EV_EFI_ACTION", "data": "Exit Boot Services Invocation"}]' \
    'any(.reasons[]; .code == "POLICY_REQUIRED_EVENT")'

[ "$fails" = 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
