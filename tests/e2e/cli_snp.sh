#!/bin/sh
# The CLI contract on simulated SEV-SNP evidence: exit codes, JSON, show, trailing data.
set -u
CVM=${CVMATTEST_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi
}
has() { grep -q "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 600 "$1"; fails=$((fails + 1)); }; }

M=$(printf 'ab%.0s' $(seq 48))
$CVM sim snp --out "$T/s" --measurement "$M" >/dev/null; check "sim snp" 0 $?
V="$CVM verify $T/s/report.bin --collateral $T/s --offline"

$V --trust-root "$T/s/ark.pem" --json >"$T/ok.json"; check "verify simulated" 0 $?
has "$T/ok.json" '"status": "affirming"'
has "$T/ok.json" "\"measurement\": \"$M\""
has "$T/ok.json" '"id_type": "chip_id"'

# a result that cannot be written (a full disk) is exit 2, never the verdict's code
if [ -w /dev/full ]; then
    $V --trust-root "$T/s/ark.pem" --json >/dev/full 2>"$T/full.err"; check "verify --json to a full disk" 2 $?
    has "$T/full.err" "could not be written"
    $V --trust-root "$T/s/ark.pem" >/dev/full 2>"$T/full2.err"; check "verify (text) to a full disk" 2 $?
    has "$T/full2.err" "could not be written"
    # so for every command: exit 2, never its own code over part of its output
    $CVM show "$T/s/report.bin" --json >/dev/full 2>"$T/full3.err"; check "show --json to a full disk" 2 $?
    has "$T/full3.err" "could not be written"
    $CVM show "$T/s/report.bin" >/dev/full 2>"$T/full4.err"; check "show (text) to a full disk" 2 $?
    has "$T/full4.err" "could not be written"
    openssl ecparam -name prime256v1 -genkey -noout -out "$T/ear.key" 2>/dev/null
    openssl ec -in "$T/ear.key" -pubout -out "$T/ear.pub" 2>/dev/null
    $V --trust-root "$T/s/ark.pem" --sign-result "$T/ear.key" --result-out "$T/ear.jwt" >/dev/null
    check "verify --sign-result" 0 $?
    $CVM result check "$T/ear.jwt" --pub "$T/ear.pub" >/dev/null 2>&1; check "result check" 0 $?
    $CVM result check "$T/ear.jwt" --pub "$T/ear.pub" >/dev/full 2>"$T/full5.err"
    check "result check to a full disk" 2 $?
    has "$T/full5.err" "could not be written"
    echo '{}' >"$T/empty-policy.json"
    $CVM policy check "$T/empty-policy.json" >/dev/null; check "policy check" 0 $?
    $CVM policy check "$T/empty-policy.json" >/dev/full 2>"$T/full7.err"
    check "any command's output to a full disk (policy check)" 2 $?
    has "$T/full7.err" "standard output could not be written"
    $CVM version >/dev/full 2>"$T/full6.err"; check "version to a full disk" 2 $?
    has "$T/full6.err" "standard output could not be written"
fi

$V --json >"$T/nr.json"; check "verify without --trust-root" 1 $?
has "$T/nr.json" CERT_UNTRUSTED_ROOT
# a report the host requested (VMPL 0xFFFFFFFF): its REPORT_DATA is the host's, refused even
# when it is the one expected
$CVM sim snp --out "$T/hv" --vmpl host --report-data c0ffee >/dev/null; check "sim snp --vmpl host" 0 $?
$CVM verify "$T/hv/report.bin" --collateral "$T/hv" --offline --trust-root "$T/hv/ark.pem" \
    --report-data c0ffee --json >"$T/hv.json"; check "a host-requested report" 1 $?
has "$T/hv.json" SNP_HOST_REQUESTED_REPORT
# a --trust-root file of two certificates (a chain): refused, not its first one trusted
cat "$T/s/ask.pem" "$T/s/ark.pem" >"$T/two.pem"
$V --trust-root "$T/two.pem" >/dev/null 2>"$T/two.err"; check "--trust-root of two certificates" 2 $?
has "$T/two.err" "holds 2 certificates"

$CVM verify "$T/none.bin" >/dev/null 2>&1; check "missing file" 2 $?
$CVM verify "$T/s/report.bin" --bogus >/dev/null 2>&1; check "unknown option" 2 $?
$CVM verify "$T/s/report.bin" --at yesterday >/dev/null 2>&1; check "bad --at" 2 $?
# a bare date is no RFC 3339 date-time (it was taken as midnight UTC)
$CVM verify "$T/s/report.bin" --at 2026-12-07 >/dev/null 2>"$T/at.err"; check "--at a bare date" 2 $?
grep -q "RFC 3339" "$T/at.err" || { echo "FAIL: --at a bare date: $(cat "$T/at.err")"; fails=$((fails + 1)); }
# the epoch is the library's "now": refused, not verified as of the clock's time; an offset
# that moves the instant before 1970 or after 9999 is no time either
$CVM verify "$T/s/report.bin" --at 1970-01-01T00:00:00Z >/dev/null 2>"$T/epoch.err"
check "--at the epoch" 2 $?
has "$T/epoch.err" "is the epoch"
$CVM verify "$T/s/report.bin" --at 1970-01-01T00:00:00+01:00 >/dev/null 2>&1
check "--at before 1970 after its offset" 2 $?
$CVM verify "$T/s/report.bin" --at 9999-12-31T23:59:59-23:59 >/dev/null 2>&1
check "--at after 9999 after its offset" 2 $?
$CVM verify "$T/s/report.bin" --report-data xyz >/dev/null 2>&1; check "bad --report-data" 2 $?
$CVM bogus >/dev/null 2>&1; check "unknown command" 2 $?

# --report-data given twice: refused, not the last one silently (exit 2, no verdict).
$CVM sim snp --out "$T/rd" --report-data aabb >/dev/null; check "sim snp --report-data" 0 $?
$CVM verify "$T/rd/report.bin" --collateral "$T/rd" --offline --trust-root "$T/rd/ark.pem" \
    --report-data ccddeeff --report-data aabb >"$T/rd.out" 2>&1; check "--report-data twice" 2 $?
has "$T/rd.out" "report-data given twice"
$CVM verify "$T/rd/report.bin" --collateral "$T/rd" --offline --trust-root "$T/rd/ark.pem" \
    --report-data aabb >/dev/null; check "--report-data, zero-padded" 0 $?

# --nonce is a TPM quote's extraData: a report has none, so the option is refused, not ignored
$V --trust-root "$T/s/ark.pem" --nonce aabb >/dev/null 2>"$T/nonce.err"; check "--nonce for a report" 2 $?
has "$T/nonce.err" "holds no TPM quote"
$CVM verify "$T/rd/report.bin" --collateral "$T/rd" --offline --trust-root "$T/rd/ark.pem" \
    --report-data aabb --nonce aabb >/dev/null 2>&1; check "--nonce with --report-data for a report" 2 $?

# A report that says VLEK (SIGNER_INFO SIGNING_KEY = 1), signed by the VCEK whose certificate is
# handed over as the VLEK: refused (SNP_KEY_TYPE_MISMATCH), and the certificate names no cspID,
# so the platform has no identifier: "id" is null, never "", and the text says so, never a
# blank id.
if python3 -c 'import cryptography' 2>/dev/null; then
    $CVM sim snp --out "$T/kv" --keep-keys >/dev/null
    mkdir -p "$T/kx"
    cp "$T/kv/vcek.der" "$T/kx/vlek.der"; cp "$T/kv/ask.pem" "$T/kx/asvk.pem"
    cp "$T/kv/ark.pem" "$T/kv/crl.der" "$T/kx/"
    python3 - "$T/kv/report.bin" "$T/kx/report.bin" "$T/kv/vcek-key.pem" <<'PY'
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
src, out, key = sys.argv[1:4]
r = bytearray(open(src, "rb").read())
r[0x48:0x4C] = (4).to_bytes(4, "little")  # SIGNER_INFO: SIGNING_KEY = 1 (VLEK)
k = serialization.load_pem_private_key(open(key, "rb").read(), None)
R, S = utils.decode_dss_signature(k.sign(bytes(r[:0x2A0]), ec.ECDSA(hashes.SHA384())))
r[0x2A0:0x2A0 + 72] = R.to_bytes(72, "little")
r[0x2E8:0x2E8 + 72] = S.to_bytes(72, "little")
open(out, "wb").write(r)
PY
    VX="$CVM verify $T/kx/report.bin --collateral $T/kx --offline --trust-root $T/kx/ark.pem"
    $VX --json >"$T/kx.json"; check "VLEK report with a VCEK as the VLEK" 1 $?
    has "$T/kx.json" SNP_KEY_TYPE_MISMATCH
    [ "$(jq -c '.platform | [.id_type, .id]' "$T/kx.json")" = '["vlek",null]' ] ||
        { echo "FAIL: VLEK platform without a cspID: $(jq -c .platform "$T/kx.json")"; fails=$((fails + 1)); }
    $VX >"$T/kx.txt"
    has "$T/kx.txt" '^platform:     amd vlek (no cspID)$'
else
    echo "note: python3 cryptography absent, the VLEK platform without a cspID is not checked"
fi

head -c 3000 /dev/urandom | tr '\000-\377' '\200-\377' >"$T/rand.bin" 2>/dev/null || true
printf '\377\377\377\377garbage' >"$T/junk.bin"
$CVM verify "$T/junk.bin" --json >"$T/junk.json"; check "unknown format" 1 $?
has "$T/junk.json" PARSE_UNKNOWN_FORMAT
$CVM verify "$T/rand.bin" --tee snp --json >"$T/rand.json"; check "random bytes as snp" 1 $?
has "$T/rand.json" '"PARSE_'
# A report of an unknown version is named as one without --tee, as with it (docs/reasons.md)
{ printf '\006\000\000\000'; tail -c +5 "$T/s/report.bin"; } >"$T/v6.bin"
$CVM verify "$T/v6.bin" --offline --json >"$T/v6.json"; check "report version 6" 1 $?
has "$T/v6.json" '"code": "PARSE_UNKNOWN_VERSION"'
has "$T/v6.json" "snp report: version 6 (known: 2, 3, 4, 5)"
$CVM show "$T/v6.bin" >/dev/null 2>"$T/v6.err"; check "show report version 6" 1 $?
has "$T/v6.err" "error PARSE_UNKNOWN_VERSION: snp report: version 6"
{ cat "$T/v6.bin"; printf '\001'; } >"$T/v6long.bin"
$CVM verify "$T/v6long.bin" --offline --json >"$T/v6long.json"; check "not a report's size" 1 $?
has "$T/v6long.json" '"code": "PARSE_UNKNOWN_FORMAT"'

# Trailing data: zeros are a note, other bytes refused unless allowed.
cat "$T/s/report.bin" >"$T/t.bin"; printf 'AZURE-HCL' >>"$T/t.bin"
$V --trust-root "$T/s/ark.pem" >/dev/null 2>&1 </dev/null
$CVM verify "$T/t.bin" --collateral "$T/s" --offline --trust-root "$T/s/ark.pem" --json >"$T/t.json"
check "trailing data refused" 1 $?
has "$T/t.json" PARSE_TRAILING_DATA
$CVM verify "$T/t.bin" --collateral "$T/s" --offline --trust-root "$T/s/ark.pem" --allow-trailing-data --json >"$T/ta.json"
check "trailing data allowed" 0 $?
has "$T/ta.json" '"status": "warning"'

# Offline, nothing anywhere: exit 3.
mkdir -p "$T/empty"
CVMATTEST_CACHE="$T/empty" $CVM verify "$T/s/report.bin" --offline --json >"$T/u.json"; check "no collateral offline" 3 $?
has "$T/u.json" COLLATERAL_UNAVAILABLE

# show: every field, text and JSON.
$CVM show "$T/s/report.bin" >"$T/show.txt"; check "show" 0 $?
has "$T/show.txt" "NOT verified"
has "$T/show.txt" "reported_tcb"
$CVM show "$T/s/report.bin" --json >"$T/show.json"; check "show --json" 0 $?
has "$T/show.json" '"chip_id"'
$CVM show "$T/junk.bin" >/dev/null 2>&1; check "show junk" 1 $?
# a v2 report names no product: its TCB values are shown raw only (Turin's layout is not
# Milan's, and a guess would show wrong components); a v5 report's are split
$CVM sim snp --out "$T/tu2" --product turin --version 2 >/dev/null
$CVM show "$T/tu2/report.bin" --json >"$T/tu2.json"; check "show v2 Turin" 0 $?
[ "$(jq -c '.reported_tcb | keys' "$T/tu2.json")" = '["raw"]' ] ||
    { echo "FAIL: v2 reported_tcb: $(jq -c .reported_tcb "$T/tu2.json")"; fails=$((fails + 1)); }
[ "$(jq -r '.reported_tcb.bootloader' "$T/show.json")" != null ] ||
    { echo "FAIL: v5 reported_tcb not split: $(jq -c .reported_tcb "$T/show.json")"; fails=$((fails + 1)); }

# Turin and VLEK variants verify too.
$CVM sim snp --out "$T/tu" --product turin --version 5 >/dev/null
$CVM verify "$T/tu/report.bin" --collateral "$T/tu" --offline --trust-root "$T/tu/ark.pem" >/dev/null; check "turin" 0 $?
$CVM sim snp --out "$T/vl" --vlek --product genoa >/dev/null
$CVM verify "$T/vl/report.bin" --collateral "$T/vl" --offline --trust-root "$T/vl/ark.pem" --json >"$T/vl.json"; check "vlek" 0 $?
has "$T/vl.json" '"id_type": "vlek"'

echo "$fails failure(s)"
[ "$fails" = 0 ]
