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

# before_separator: the event must stand before the register's first separator, which is
# found by its digest (the hash of 00000000), not by its type (unmeasured).
req "CCEL: before_separator, an action measured before RTMR 1's separator" 0 \
    '[{"rtmr": 1, "type": "EV_EFI_ACTION", "data": "Calling EFI Application from Boot Option", "before_separator": true}]' \
    '.status == "affirming"'
req "CCEL: before_separator, an action measured after RTMR 1's separator: POLICY_REQUIRED_EVENT" 1 \
    '[{"rtmr": 1, "type": "EV_EFI_ACTION", "data": "Exit Boot Services Invocation", "before_separator": true}]' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_REQUIRED_EVENT"]
     and any(.reasons[]; .detail | test("before the register.s first separator .* one stands only after the register.s first separator"))'
req "CCEL: the same action without before_separator: present, accepted" 0 \
    '[{"rtmr": 1, "data": "Exit Boot Services Invocation", "before_separator": false}]' \
    '.status == "affirming"'
printf '{"eventlog": {"required_events": [{"rtmr": 2, "data": "x", "before_separator": true}]}}\n' >"$T/bad.json"
$CVM policy check "$T/bad.json" >"$T/bad.out" 2>&1
[ $? = 2 ] && grep -q 'applies to PCRs 0..7 and RTMRs 0..1 only' "$T/bad.out" &&
    ok "before_separator on RTMR 2 (no separator there) is refused at load" || fail "load: $(cat "$T/bad.out")"
printf '{"eventlog": {"required_events": [{"rtmr": 1, "data": "x", "before_separator": 1}]}}\n' >"$T/bad.json"
$CVM policy check "$T/bad.json" >"$T/bad.out" 2>&1
[ $? = 2 ] && grep -q 'before_separator: expected true or false' "$T/bad.out" &&
    ok "before_separator not a boolean is refused at load" || fail "load: $(cat "$T/bad.out")"
# Relabelled (types are not measured, so the replay still holds): RTMR 1's separator as an
# EV_EFI_ACTION, and the boot application after the GPT as EV_SEPARATOR. By type the GPT event
# would stand before the first separator; by digest it does not.
python3 - "$CCEL" "$T/relabel.dat" <<'EOF2' || fail "relabel the CCEL"
import sys
d = bytearray(open(sys.argv[1], "rb").read())
def retype(mr, digest_hex, old, new):  # mr_index u32, type u32, count u32, alg u16, digest
    j = d.find(bytes.fromhex(digest_hex))
    while j > 0 and d[j - 14:j - 10] != mr.to_bytes(4, "little"):
        j = d.find(bytes.fromhex(digest_hex), j + 1)
    assert j > 0 and d[j - 10:j - 6] == old.to_bytes(4, "little")
    d[j - 10:j - 6] = new.to_bytes(4, "little")
retype(2, "394341b7182cd227c5c6b07ef8000cdf", 4, 0x80000007)
retype(2, "b1fb7f4c0689f5a920b800b2607075f4", 0x80000003, 4)
open(sys.argv[2], "wb").write(d)
EOF2
base64 -w0 "$T/relabel.dat" >"$T/relabel.b64"
jq --rawfile l "$T/relabel.b64" '.parts += [{role: "event_log", data: $l}]' "$T/tdx/bundle.json" >"$T/b.json"
GPT=e1d51dadc14440d4800e54731a818bd38e43c38a672ef490e2504be2dced5ba080a6931b414146f22f7d850c09a9cb3f
req "CCEL relabelled: the GPT event, after the real separator: POLICY_REQUIRED_EVENT" 1 \
    '[{"rtmr": 1, "digest": "'"$GPT"'", "before_separator": true}]' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_REQUIRED_EVENT"]
     and ([.claims.eventlog.measured_events[] | select(.rtmr == 1 and .type == "EV_SEPARATOR")] | length) == 1'
req "CCEL relabelled: the action before the real separator still passes" 0 \
    '[{"rtmr": 1, "data": "Calling EFI Application from Boot Option", "before_separator": true}]' \
    '.status == "affirming"'

[ "$fails" = 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
