#!/bin/sh
# The policy CLI: `policy check` (strict loading, exit 2 naming the field), `policy import
# --from cocos` (stdout or --out, dropped settings named on stderr), and `verify --policy` on
# simulated SEV-SNP evidence, with a written policy and with an imported Cocos one.
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
EX="$SRC/docs/examples"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi
}
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 800 "$1"; fails=$((fails + 1)); }; }
lacks() { if grep -q -- "$2" "$1"; then echo "FAIL: $1 has $2"; fails=$((fails + 1)); fi; }

# policy check: the documented examples load.
for f in policy-full.json policy-snp.json policy-tdx.json; do
    $CVM policy check "$EX/$f" >"$T/out" 2>"$T/err"; check "check $f" 0 $?
    has "$T/out" "valid policy sha256:"
done

# The policy's name is the author's text: shown escaped, each control character as \xNN, so
# that it can neither steer the terminal nor start a line of its own; other UTF-8 as it is.
printf '{"name": "x\\u001b[2Jy\\nz \\u00e9"}' >"$T/named.json"
$CVM policy check "$T/named.json" >"$T/out" 2>"$T/err"; check "check a name with controls" 0 $?
has "$T/out" "valid policy sha256:[0-9a-f]* (\"x\\\\x1b\[2Jy\\\\x0az $(printf '\303\251')\")\$"
lacks "$T/out" "$(printf '\033')"
[ "$(wc -l <"$T/out")" = 1 ] || { echo "FAIL: the name started a line of its own"; fails=$((fails + 1)); }

# Refusals name the field; exit 2.
printf '{"snp": {"measurements": ["%s"]}}' "$(printf '0%.0s' $(seq 95))" >"$T/bad1.json"
$CVM policy check "$T/bad1.json" 2>"$T/err"; check "check wrong-length hex" 2 $?
has "$T/err" "snp.measurements\[0\]: expected 96 hex digits"
printf '{"tdx": {"rtmr4": "00"}}' >"$T/bad2.json"
$CVM policy check "$T/bad2.json" 2>"$T/err"; check "check unknown field" 2 $?
has "$T/err" "tdx.rtmr4: unknown field"
printf '{"snp": {"vmpl": "0"}}' >"$T/bad3.json"
$CVM policy check "$T/bad3.json" 2>"$T/err"; check "check wrong type" 2 $?
has "$T/err" "snp.vmpl: expected an integer, got a string"
# A provider name no registry can have ([A-Za-z0-9][A-Za-z0-9._-]{0,63}) is refused where a
# list holds one: in registry_log_required it would switch the rule off without a word.
printf '{"registry_log_required": ["bad name"]}' >"$T/bad4.json"
$CVM policy check "$T/bad4.json" 2>"$T/err"; check "check a log provider name with a space" 2 $?
has "$T/err" 'registry_log_required\[0\]: "bad name" is not a provider name'
printf '{"required_providers": ["a\\u001b[31m"]}' >"$T/bad5.json"
$CVM policy check "$T/bad5.json" 2>"$T/err"; check "check a provider name with ESC" 2 $?
has "$T/err" 'required_providers\[0\]: "a\\x1b\[31m" is not a provider name'
lacks "$T/err" "$(printf '\033')"
# Every refusal quoting the policy's text escapes it, as every error does.
printf '{"allowed_tees": ["x\\u001b[2J"]}' >"$T/bad6.json"
$CVM policy check "$T/bad6.json" 2>"$T/err"; check "check a TEE name with ESC" 2 $?
has "$T/err" 'x\\x1b\[2J'
lacks "$T/err" "$(printf '\033')"
$CVM policy check "$T/none.json" 2>"$T/err"; check "check missing file" 2 $?
has "$T/err" "none.json"
$CVM policy check "$EX/cocos-tdx.json" 2>"$T/err"; check "check a Cocos policy" 2 $?
has "$T/err" "policy import --from cocos"
$CVM policy bogus 2>/dev/null; check "unknown subcommand" 2 $?

# policy import: SEV-SNP (snake_case) to stdout.
$CVM policy import --from cocos "$EX/cocos-snp.json" >"$T/snp.json" 2>"$T/err"
check "import cocos snp" 0 $?
has "$T/snp.json" '"measurements"'
has "$T/snp.json" '"microcode": 213'
has "$T/snp.json" '"reject_unknown_bits": true'
has "$T/err" "not carried over: pcr_values.sha256 (PCRs 0,9)"
has "$T/err" "not carried over: root_of_trust.check_crl"
has "$T/err" "2 setting(s) not carried over"
$CVM policy check "$T/snp.json" >/dev/null; check "imported snp policy loads" 0 $?
# The file's keys and values are quoted escaped, in what is dropped and in a refusal: they
# can neither steer the terminal nor forge a line of their own.
python3 - "$EX/cocos-snp.json" "$T" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["policy"]["x\u001b[2Jevil\nFAKE LINE"] = 1
json.dump(p, open(sys.argv[2] + "/esc-key.json", "w"))
p = json.load(open(sys.argv[1]))
p["root_of_trust"]["product_line"] = "Mil\u001b[31man"
json.dump(p, open(sys.argv[2] + "/esc-value.json", "w"))
PY
$CVM policy import --from cocos "$T/esc-key.json" >/dev/null 2>"$T/err"
check "import cocos, a key with ESC and a newline" 0 $?
has "$T/err" 'x\\x1b\[2Jevil\\x0aFAKE LINE'
lacks "$T/err" "$(printf '\033')"
lacks "$T/err" "^FAKE LINE"
$CVM policy import --from cocos "$T/esc-value.json" >/dev/null 2>"$T/err"
check "import cocos, a value with ESC" 2 $?
has "$T/err" 'Mil\\x1b\[31man'
lacks "$T/err" "$(printf '\033')"

# TDX (camelCase) to --out.
$CVM policy import --from cocos "$EX/cocos-tdx.json" --out "$T/tdx.json" >"$T/out" 2>"$T/err"
check "import cocos tdx --out" 0 $?
[ -s "$T/out" ] && { echo "FAIL: --out also wrote stdout"; fails=$((fails + 1)); }
has "$T/tdx.json" '"td_attributes": "0000000010000000"'
has "$T/tdx.json" '"rtmr3": "000000000000'
has "$T/err" "not carried over: rootOfTrust.checkCrl"
has "$T/err" "not carried over: rootOfTrust.getCollateral"
$CVM policy check "$T/tdx.json" >/dev/null; check "imported tdx policy loads" 0 $?

# Import refusals: exit 2 with the field.
printf '{"policy": {"measurement": "not*base64"}}' >"$T/c1.json"
$CVM policy import --from cocos "$T/c1.json" >/dev/null 2>"$T/err"; check "import bad base64" 2 $?
has "$T/err" "policy.measurement: not valid base64"
# Base64 in one alphabet, as protobuf JSON reads it: '_' (URL-safe) with '+' (standard) is refused.
jq '.policy.measurement = "t0fVVFLguekHl3Cknjl8Xm2Vc1geJG2nuqxPKLXNxbG20ZJRuO5gD9Fq_wj1hAb+"' \
    "$EX/cocos-snp.json" >"$T/c1m.json"
$CVM policy import --from cocos "$T/c1m.json" >/dev/null 2>"$T/err"; check "import mixed base64" 2 $?
has "$T/err" "policy.measurement: not valid base64: mixes the URL-safe alphabet"
# A number out of range is named as the file spells it (not via jq, which rounds it to a double).
sed 's/"minimum_tcb": [0-9]*/"minimum_tcb": 18446744073709551616/' "$EX/cocos-snp.json" >"$T/c1b.json"
$CVM policy import --from cocos "$T/c1b.json" >/dev/null 2>"$T/err"; check "import number out of range" 2 $?
has "$T/err" "policy.minimum_tcb: 18446744073709551616 is out of range 0..18446744073709551615"
printf '{"policy": {"tdQuoteBodyPolicy": {"mrTd": "AAAA"}}}' >"$T/c2.json"
$CVM policy import --from cocos "$T/c2.json" >/dev/null 2>"$T/err"; check "import wrong length" 2 $?
has "$T/err" "policy.tdQuoteBodyPolicy.mrTd: 3 bytes, expected 48"
# Files with which Cocos verifies nothing are refused, not turned into a policy that accepts:
# an absent guest policy (0 to go-sev-guest, which refuses it), reserved bit 17 clear, no field
# of either library (no guessing SEV-SNP), a TDX QE SVN minimum (reserved header bytes), a QE
# vendor ID other than Intel's, an mrTd that anyMrTd does not list (go-tdx-guest checks both).
printf '{"policy": {"measurement": "%s"}}' "$(printf 'q6ur%.0s' $(seq 16))" >"$T/c3.json"
$CVM policy import --from cocos "$T/c3.json" --out "$T/c3.out" 2>"$T/err"; check "import no guest policy" 2 $?
has "$T/err" "policy.policy: absent, which go-sev-guest reads as 0 and refuses"
[ -e "$T/c3.out" ] && { echo "FAIL: a refused import wrote --out"; fails=$((fails + 1)); }
printf '{"policy": {"policy": 65536}}' >"$T/c4.json"
$CVM policy import --from cocos "$T/c4.json" >/dev/null 2>"$T/err"; check "import bit 17 clear" 2 $?
has "$T/err" "reserved bit 17 clear"
printf '{"policy": {"TdQuoteBodyPolicy": {"MrTd": "AAAA"}}}' >"$T/c5.json"
$CVM policy import --from cocos "$T/c5.json" >/dev/null 2>"$T/err"; check "import unknown spelling" 2 $?
has "$T/err" "so neither SEV-SNP nor TDX"
printf '{"policy": {"headerPolicy": {"minimumQeSvn": 2}}}' >"$T/c6.json"
$CVM policy import --from cocos "$T/c6.json" >/dev/null 2>"$T/err"; check "import QE SVN minimum" 2 $?
has "$T/err" "policy.headerPolicy.minimumQeSvn: 2: go-tdx-guest"
printf '{"policy": {"headerPolicy": {"qeVendorId": "k5pyM/ecTKmUzHhytvFxIw=="}}}' >"$T/c7.json"
$CVM policy import --from cocos "$T/c7.json" --out "$T/c7.out" 2>"$T/err"; check "import QE vendor ID" 2 $?
has "$T/err" "policy.headerPolicy.qeVendorId: 939a7233f79c4ca994cc7872b6f17123 is not Intel's"
[ -e "$T/c7.out" ] && { echo "FAIL: a refused import wrote --out"; fails=$((fails + 1)); }
printf '{"policy": {"tdQuoteBodyPolicy": {"mrTd": "%s", "anyMrTd": ["%s"]}}}' \
    "$(printf 'AAAA%.0s' $(seq 16))" "$(printf 'BBBB%.0s' $(seq 16))" >"$T/c8.json"
$CVM policy import --from cocos "$T/c8.json" >/dev/null 2>"$T/err"; check "import mrTd not in anyMrTd" 2 $?
has "$T/err" "policy.tdQuoteBodyPolicy.anyMrTd: does not hold the mr_td 0000"
# rtmrs with other than 4 entries (go-tdx-guest refuses the policy), platform_info bits 63:8
# (go-sev-guest cannot parse it), a field go-tdx-guest does not define (Cocos reads a TDX
# policy with strict protobuf JSON and loads nothing).
printf '{"policy": {"tdQuoteBodyPolicy": {"rtmrs": ["%s"]}}}' "$(printf 'AAAA%.0s' $(seq 16))" >"$T/c9.json"
$CVM policy import --from cocos "$T/c9.json" --out "$T/c9.out" 2>"$T/err"; check "import one RTMR" 2 $?
has "$T/err" "policy.tdQuoteBodyPolicy.rtmrs: 1 value(s): go-tdx-guest requires exactly 4"
[ -e "$T/c9.out" ] && { echo "FAIL: a refused import wrote --out"; fails=$((fails + 1)); }
printf '{"policy": {"policy": "196608", "platform_info": "256"}}' >"$T/c10.json"
$CVM policy import --from cocos "$T/c10.json" >/dev/null 2>"$T/err"; check "import platform_info bit 8" 2 $?
has "$T/err" "policy.platform_info: 0x0000000000000100 sets bits 63:8"
printf '{"policy": {"tdQuoteBodyPolicy": {"mrSeam": "", "eat_validation": {}}}}' >"$T/c11.json"
$CVM policy import --from cocos "$T/c11.json" >/dev/null 2>"$T/err"; check "import unknown TDX field" 2 $?
has "$T/err" "policy.tdQuoteBodyPolicy.eat_validation: not a field of go-tdx-guest's TDQuoteBodyPolicy"
$CVM policy import --from cocos "$T/none.json" >/dev/null 2>&1; check "import missing file" 2 $?
$CVM policy import --from veraison "$EX/cocos-snp.json" >/dev/null 2>&1; check "import --from other" 2 $?
$CVM policy import "$EX/cocos-snp.json" >/dev/null 2>&1; check "import without --from" 2 $?

# verify --policy on simulated evidence.
M=$(printf 'ab%.0s' $(seq 48))
$CVM sim snp --out "$T/s" --measurement "$M" >/dev/null; check "sim snp" 0 $?
$CVM sim snp --out "$T/d" --measurement "$M" --debug >/dev/null; check "sim snp --debug" 0 $?
printf '{"snp": {"measurements": ["%s"], "vmpl": 0}}' "$M" >"$T/p.json"
V="$CVM verify --offline --json"
$V "$T/s/report.bin" --collateral "$T/s" --trust-root "$T/s/ark.pem" --policy "$T/p.json" \
    >"$T/v1.json"; check "verify --policy satisfied" 0 $?
lacks "$T/v1.json" POLICY_
$V "$T/d/report.bin" --collateral "$T/d" --trust-root "$T/d/ark.pem" --policy "$T/p.json" \
    >"$T/v2.json"; check "verify --policy debug guest" 1 $?
has "$T/v2.json" POLICY_DEBUG
printf '{"snp": {"measurements": ["%s"], "vmpl": 1}}' "$(printf 'cd%.0s' $(seq 48))" >"$T/q.json"
$V "$T/s/report.bin" --collateral "$T/s" --trust-root "$T/s/ark.pem" --policy "$T/q.json" \
    >"$T/v3.json"; check "verify --policy two rules fail" 1 $?
has "$T/v3.json" POLICY_MEASUREMENT
has "$T/v3.json" POLICY_VMPL
$V "$T/s/report.bin" --collateral "$T/s" --trust-root "$T/s/ark.pem" --policy "$T/bad2.json" \
    >/dev/null 2>"$T/err"; check "verify --policy invalid" 2 $?
has "$T/err" "tdx.rtmr4: unknown field"

# An imported Cocos policy appraises the same guest (measurement ab.., SMT allowed).
MB=$(printf 'q6ur%.0s' $(seq 16))
printf '{"policy": {"measurement": "%s", "policy": 196608, "vmpl": 0, "minimum_tcb": 1, "permit_provisional_firmware": true}, "root_of_trust": {"product_line": "Milan"}}' \
    "$MB" >"$T/cocos.json"
$CVM policy import --from cocos "$T/cocos.json" --out "$T/imp.json" 2>/dev/null
check "import for verify" 0 $?
$V "$T/s/report.bin" --collateral "$T/s" --trust-root "$T/s/ark.pem" --policy "$T/imp.json" \
    >"$T/v4.json"; check "verify imported policy" 0 $?
lacks "$T/v4.json" POLICY_
$V "$T/d/report.bin" --collateral "$T/d" --trust-root "$T/d/ark.pem" --policy "$T/imp.json" \
    >"$T/v5.json"; check "verify imported policy, debug guest" 1 $?
has "$T/v5.json" POLICY_DEBUG

echo "$fails failure(s)"
[ "$fails" = 0 ]
