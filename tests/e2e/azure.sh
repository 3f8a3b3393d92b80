#!/bin/sh
# Azure confidential VMs (docs/azure.md): Trustee's JSON evidence of a real Azure SEV-SNP CVM
# verifies end to end (SNP report -> runtime claims hash -> HCLAkPub -> TPM quote -> PCRs) with
# the nonce its MANIFEST gives; each broken link is refused by name: runtime claims altered
# by one byte, a quote over another AK, a wrong nonce, the wrong kind, a malformed HCL report
# (short, a request size that does not fit, a non-zero byte in its padding), claims without
# an AK. The same evidence as a bundle (bare HCL report + TPM parts) verifies.
set -u
CVM=${CVMATTEST_BIN:?}
. "$(dirname "$0")/lib/azure_sample.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi
}
has() { grep -q -- "$2" "$1" && echo "ok   $1 has $2" || { echo "FAIL: $1 lacks $2"; head -c 1500 "$1"; fails=$((fails + 1)); }; }
lacks() { grep -q -- "$2" "$1" && { echo "FAIL: $1 has $2"; fails=$((fails + 1)); } || echo "ok   $1 lacks $2"; }

# The ASK and ARK (AMD's Milan cert_chain): the JSON evidence carries only the VCEK.
mkdir "$T/coll" && cp "$ROOTS" "$T/coll/cert_chain.pem" || exit 1
N1=$(printf challenge | od -An -tx1 | tr -d ' \n')
N2=982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef
AT=2025-06-01T00:00:00Z
V="--offline --collateral $T/coll --at $AT --json"

# 1. Both samples verify: no error, the whole chain in the claims.
$CVM verify "$S/evidence-v2.json" --tee azure-snp --nonce "$N2" $V >"$T/v2.json" 2>"$T/v2.err"
check "v2 verifies" 0 $?
has "$T/v2.json" '"tee": "azure-snp"'
has "$T/v2.json" AZURE_AK_FROM_RUNTIME_CLAIMS
lacks "$T/v2.json" '"severity": "error"'
lacks "$T/v2.json" TPM_AK_NOT_BOUND
has "$T/v2.json" '"vm_unique_id": "7DF7B373-B947-4AAA-96E5-C358F2A03D20"'
has "$T/v2.json" '"secure_boot": true'
has "$T/v2.json" '"trust_anchor": "amd-ark-milan"'
has "$T/v2.json" '"id_type": "chip_id"'
python3 - "$T/v2.json" <<'PY' || { echo "FAIL: v2 claims"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
a = d["claims"]["azure"]
assert d["status"] in ("affirming", "warning"), d["status"]
assert a["snp"]["vmpl"] == 0
assert len(a["tpm"]["pcrs"]["sha256"]) == 24, a["tpm"]
assert a["ak"]["spki_sha256"] == a["tpm"]["ak"]["spki_sha256"]
# the AK as a JWK (RFC 7517) is the HCLAkPub the runtime claims hold
hcl = [k for k in a["runtime_claims"]["raw"]["keys"] if k["kid"] == "HCLAkPub"][0]
assert a["tpm"]["ak"]["jwk"] == {"kty": "RSA", "n": hcl["n"], "e": hcl["e"]}, a["tpm"]["ak"]
assert a["runtime_claims"]["user_data"].startswith("982F5C6E")
assert d["claims"]["measurement"] == a["snp"]["measurement"]
PY
$CVM verify "$S/evidence-v1.json" --nonce "$N1" $V >"$T/v1.json" 2>"$T/v1.err"
check "v1 verifies (kind detected)" 0 $?
has "$T/v1.json" '"tee": "azure-snp"'
lacks "$T/v1.json" '"severity": "error"'

# --report-data is the runtime claims' user-data (the guest's 64 bytes), not REPORT_DATA.
$CVM verify "$S/evidence-v2.json" --nonce "$N2" --report-data "$N2" $V >"$T/ud.json" 2>&1
check "v2 with its user-data as --report-data" 0 $?
lacks "$T/ud.json" NONCE_REPORT_DATA_MISMATCH
$CVM verify "$S/evidence-v2.json" --nonce "$N2" --report-data "${N2}01" $V >"$T/ud2.json" 2>&1
check "v2 with other --report-data refused" 1 $?
has "$T/ud2.json" NONCE_REPORT_DATA_MISMATCH

# 2. Wrong nonce.
$CVM verify "$S/evidence-v2.json" --tee azure-snp --nonce "${N1}00" $V >"$T/n.json" 2>&1
check "wrong nonce refused" 1 $?
has "$T/n.json" TPM_NONCE_MISMATCH

# 3. The runtime claims altered by one byte (vmUniqueId): no longer what REPORT_DATA hashes.
python3 - "$S/evidence-v2.json" "$T" <<'PY' || exit 1
import base64, json, struct, sys
ev = json.load(open(sys.argv[1]))
t = sys.argv[2]
def b64d(s):
    return bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
def b64e(b):
    return base64.urlsafe_b64encode(bytes(b)).decode()
hcl = b64d(ev["hcl_report"])
n = struct.unpack_from("<I", hcl, 1232)[0]
claims = bytes(hcl[1236:1236 + n])
i = 1236 + claims.index(b"7DF7B373")
hcl[i] = ord("8")
e = dict(ev, hcl_report=b64e(hcl))
json.dump(e, open(t + "/claims1.json", "w"))
# A quote over another AK: the quote and signature of the v1 evidence (another VM).
v1 = json.load(open(sys.argv[1].replace("v2", "v1")))
e = dict(ev, tpm_quote=v1["tpm_quote"])
json.dump(e, open(t + "/otherak.json", "w"))
# Claims without HCLAkPub, REPORT_DATA made to match them (the SNP signature then fails).
import hashlib
newc = claims.replace(b'"HCLAkPub"', b'"HCLAkPuX"')
hcl2 = bytearray(hcl[:1236]) + newc + hcl[1236 + n:]
hcl2[1236 - 4:1236] = struct.pack("<I", len(newc))
hcl2[32 + 0x50:32 + 0x70] = hashlib.sha256(newc).digest()
json.dump(dict(ev, hcl_report=b64e(hcl2)), open(t + "/noak.json", "w"))
# Truncated HCL report; an unknown member.
json.dump(dict(ev, hcl_report=b64e(hcl[:1000])), open(t + "/short.json", "w"))
json.dump(dict(ev, extra=1), open(t + "/extra.json", "w"))
# A non-zero byte in the zero padding after the claims (nothing signs it); a request size
# that is not the header's, the hardware report's, the runtime data header's and the claims'.
pad = b64d(ev["hcl_report"])  # (hcl has the altered claims)
pad[1236 + n + 10] = 0x41
json.dump(dict(ev, hcl_report=b64e(pad)), open(t + "/pad.json", "w"))
rq = b64d(ev["hcl_report"])
rq[8:12] = struct.pack("<I", 0xFFFFFFFF)
json.dump(dict(ev, hcl_report=b64e(rq)), open(t + "/reqsize.json", "w"))
# The same evidence as a bundle: bare HCL report, TPM parts, the VCEK as collateral.
q = ev["tpm_quote"]
pcrs = {"sha256": {str(i): p for i, p in enumerate(q["pcrs"])}}
def b64s(b):
    return base64.b64encode(bytes(b)).decode()
parts = [
    {"role": "evidence", "data": b64s(b64d(ev["hcl_report"]))},
    {"role": "tpm_quote", "data": b64s(bytes.fromhex(q["message"]))},
    {"role": "tpm_signature", "data": b64s(bytes.fromhex(q["signature"]))},
    {"role": "tpm_pcrs", "data": b64s(json.dumps(pcrs).encode())},
    {"role": "collateral", "name": "vcek.der", "data": b64s(b64d(ev["vcek"]))},
]
json.dump({"cvmattest_bundle": 1, "kind": "azure-snp", "parts": parts}, open(t + "/bundle.json", "w"))
PY
$CVM verify "$T/claims1.json" --tee azure-snp --nonce "$N2" $V >"$T/c.json" 2>&1
check "claims altered by one byte refused" 1 $?
has "$T/c.json" AZURE_RUNTIME_CLAIMS_HASH

# 4. A quote over another AK.
$CVM verify "$T/otherak.json" --tee azure-snp --nonce "$N1" $V >"$T/o.json" 2>&1
check "quote over another AK refused" 1 $?
has "$T/o.json" TPM_SIGNATURE_INVALID

# 5. Claims with no HCLAkPub; a short HCL report; an unknown member; the wrong kind.
$CVM verify "$T/noak.json" --tee azure-snp --nonce "$N2" $V >"$T/k.json" 2>&1
check "claims without HCLAkPub refused" 1 $?
has "$T/k.json" AZURE_RUNTIME_CLAIMS_MALFORMED
$CVM verify "$T/short.json" --tee azure-snp --nonce "$N2" $V >"$T/s.json" 2>&1
check "short HCL report refused" 1 $?
has "$T/s.json" AZURE_HCL_MALFORMED
$CVM verify "$T/pad.json" --tee azure-snp --nonce "$N2" $V >"$T/p.json" 2>&1
check "non-zero byte in the HCL report's padding refused" 1 $?
has "$T/p.json" PARSE_TRAILING_DATA
has "$T/p.json" "at offset $((1236 + 1110 + 10))"
$CVM verify "$T/pad.json" --tee azure-snp --nonce "$N2" --allow-trailing-data $V >"$T/pa.json" 2>&1
check "non-zero padding with --allow-trailing-data verifies" 0 $?
has "$T/pa.json" PARSE_TRAILING_DATA
lacks "$T/pa.json" '"severity": "error"'
$CVM verify "$T/reqsize.json" --tee azure-snp --nonce "$N2" $V >"$T/rq.json" 2>&1
check "HCL request size that does not fit refused" 1 $?
has "$T/rq.json" AZURE_HCL_MALFORMED
has "$T/rq.json" "request size 4294967295, not 2346"
$CVM verify "$T/extra.json" --tee azure-snp --nonce "$N2" $V >"$T/x.json" 2>&1
check "unknown member refused" 1 $?
has "$T/x.json" AZURE_EVIDENCE_MALFORMED
$CVM verify "$S/evidence-v2.json" --tee azure-tdx --nonce "$N2" $V >"$T/t.json" 2>&1
check "SNP evidence as azure-tdx refused" 1 $?
has "$T/t.json" AZURE_HCL_REPORT_TYPE
# a td_quote in SNP evidence: not one kind's, refused by name (never passed over)
python3 - "$S/evidence-v2.json" "$T/tdq.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
d["td_quote"] = "AAAA"
json.dump(d, open(sys.argv[2], "w"))
PY
$CVM verify "$T/tdq.json" --tee azure-snp --nonce "$N2" $V >"$T/tq.json" 2>&1
check "a td_quote in azure-snp evidence refused" 1 $?
has "$T/tq.json" 'carries \\"td_quote\\", which only azure-tdx'
# the SNP report made at VMPL 1 (its signature no longer holds) and without the VCEK: still
# AZURE_HCL_VMPL, a refusal (exit 1), not "collateral unavailable" (exit 3)
python3 - "$S/evidence-v2.json" "$T/vmpl1.json" <<'PY' || exit 1
import base64, json, sys
d = json.load(open(sys.argv[1]))
h = d["hcl_report"]
b = bytearray(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
b[32 + 0x30] = 1
d["hcl_report"] = base64.urlsafe_b64encode(bytes(b)).decode().rstrip("=")
del d["vcek"]
json.dump(d, open(sys.argv[2], "w"))
PY
CVMATTEST_CACHE="$T/empty-cache" $CVM verify "$T/vmpl1.json" --tee azure-snp --nonce "$N2" $V >"$T/vm.json" 2>&1
check "an HCL report at VMPL 1 without its VCEK refused" 1 $?
has "$T/vm.json" AZURE_HCL_VMPL

# 6. The bundle form verifies; a bare HCL report without the quote parts does not.
$CVM verify "$T/bundle.json" --nonce "$N2" $V >"$T/b.json" 2>&1
check "bundle (HCL report + TPM parts) verifies" 0 $?
has "$T/b.json" '"tee": "azure-snp"'
lacks "$T/b.json" '"severity": "error"'
# Trustee's JSON as a bundle's evidence beside a vcek.der part (here AMD's ARK, no VCEK at
# all): the JSON's own VCEK is the one checked, and the bundle's part is named as not used.
python3 - "$S/evidence-v2.json" "$ROOTS" "$T/jsonvcek.json" <<'PY' || exit 1
import base64, json, re, sys
ev = open(sys.argv[1], "rb").read()
pems = re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", open(sys.argv[2], "rb").read(), re.S)
der = base64.b64decode(b"".join(pems[-1].split()))
parts = [{"role": "evidence", "data": base64.b64encode(ev).decode()},
         {"role": "collateral", "name": "vcek.der", "data": base64.b64encode(der).decode()}]
json.dump({"cvmattest_bundle": 1, "kind": "azure-snp", "parts": parts}, open(sys.argv[3], "w"))
PY
$CVM verify "$T/jsonvcek.json" --nonce "$N2" $V >"$T/jv.json" 2>&1
check "Trustee JSON in a bundle beside a vcek.der part: the JSON's VCEK checked" 0 $?
has "$T/jv.json" PARSE_BUNDLE_PART_NOT_USED
has "$T/jv.json" "carries its own VCEK, which is the one checked"
lacks "$T/jv.json" '"severity": "error"'
# The JSON's VCEK in PEM form (base64 of the PEM text) beside a vcek.der in --collateral DIR
# (AMD's ARK, no VCEK at all): the JSON's VCEK is the one checked, whatever its form.
python3 - "$S/evidence-v2.json" "$T/pemvcek.json" <<'PY' || exit 1
import base64, json, sys, textwrap
d = json.load(open(sys.argv[1]))
v = d["vcek"]
b = base64.b64encode(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))).decode()
pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(textwrap.wrap(b, 64)) + "\n-----END CERTIFICATE-----\n"
d["vcek"] = base64.urlsafe_b64encode(pem.encode()).decode().rstrip("=")
json.dump(d, open(sys.argv[2], "w"))
PY
mkdir "$T/collark" && cp "$ROOTS" "$T/collark/cert_chain.pem" || exit 1
python3 - "$ROOTS" "$T/collark/vcek.der" <<'PY' || exit 1
import base64, re, sys
pems = re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", open(sys.argv[1], "rb").read(), re.S)
open(sys.argv[2], "wb").write(base64.b64decode(b"".join(pems[-1].split())))
PY
$CVM verify "$T/pemvcek.json" --nonce "$N2" --offline --collateral "$T/collark" --at "$AT" --json \
    >"$T/pv.json" 2>&1
check "Trustee JSON with a PEM VCEK beside a vcek.der in the directory: the JSON's VCEK checked" 0 $?
lacks "$T/pv.json" '"severity": "error"'
$CVM verify "$S/hcl-report.bin" --nonce "$N2" $V >"$T/h.json" 2>&1
check "HCL report alone refused" 1 $?
has "$T/h.json" AZURE_EVIDENCE_MALFORMED

# 7. show names an HCL report as one.
$CVM show "$S/hcl-report.bin" >"$T/show.txt" 2>&1
check "show hcl report" 0 $?
has "$T/show.txt" "Azure HCL report"
has "$T/show.txt" "vmUniqueId"
has "$T/show.txt" "snp_report:"
has "$T/show.txt" "measurement: 9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308b459d5ef1a12e0c22944eb386d17c315"

# 8. azure-tdx: Trustee's TDX evidence (HCL report with a TDREPORT, TD quote, vTPM quote). No
# TCB collateral for its FMSPC is stored, so offline it is undecided (exit 3) with every link
# of the chain checked; a TD quote of another TD and altered runtime claims are refused.
D=$VEC/tdx/v4-azure-coco-trustee
G=$VEC/tdx/v4-gce-ccel-gotdxguest/cos-113-tdx-quote.dat
if [ -f "$D/evidence-v1.json" ] && [ -f "$G" ]; then
    $CVM verify "$D/evidence-v1.json" --nonce "$N1" $V >"$T/tdx.json" 2>&1
    check "azure-tdx: undecided offline (no TCB Info for its FMSPC)" 3 $?
    has "$T/tdx.json" '"tee": "azure-tdx"'
    has "$T/tdx.json" AZURE_AK_FROM_RUNTIME_CLAIMS
    has "$T/tdx.json" COLLATERAL_UNAVAILABLE
    lacks "$T/tdx.json" '"code": "TPM_'
    lacks "$T/tdx.json" AZURE_TD_QUOTE_MISMATCH
    lacks "$T/tdx.json" AZURE_RUNTIME_CLAIMS_HASH
    python3 - "$D/evidence-v1.json" "$G" "$T" <<'PY' || exit 1
import base64, json, struct, sys
ev = json.load(open(sys.argv[1]))
t = sys.argv[3]
def b64d(s):
    return bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
def b64e(b):
    return base64.urlsafe_b64encode(bytes(b)).decode()
other = open(sys.argv[2], "rb").read()
json.dump(dict(ev, td_quote=b64e(other)), open(t + "/tdx-otherquote.json", "w"))
hcl = b64d(ev["hcl_report"])
n = struct.unpack_from("<I", hcl, 1232)[0]
i = 1236 + bytes(hcl[1236:1236 + n]).index(b"vmUniqueId") + 14
hcl[i] ^= 1
json.dump(dict(ev, hcl_report=b64e(hcl)), open(t + "/tdx-claims1.json", "w"))
PY
    $CVM verify "$T/tdx-otherquote.json" --tee azure-tdx --nonce "$N1" $V >"$T/tq.json" 2>&1
    check "azure-tdx: TD quote of another TD refused" 1 $?
    has "$T/tq.json" AZURE_TD_QUOTE_MISMATCH
    $CVM verify "$T/tdx-claims1.json" --tee azure-tdx --nonce "$N1" $V >"$T/tc.json" 2>&1
    check "azure-tdx: claims altered by one byte refused" 1 $?
    has "$T/tc.json" AZURE_RUNTIME_CLAIMS_HASH
    $CVM verify "$D/evidence-v1.json" --tee azure-snp --nonce "$N1" $V >"$T/ts.json" 2>&1
    check "TDX evidence as azure-snp refused" 1 $?
    has "$T/ts.json" AZURE_HCL_REPORT_TYPE
    $CVM show "$D/hcl-report.bin" >"$T/tshow.txt" 2>&1
    check "show TDX hcl report" 0 $?
    has "$T/tshow.txt" "mr_td: 024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b"
else
    echo "SKIP azure-tdx: tdx/v4-azure-coco-trustee or tdx/v4-gce-ccel-gotdxguest not found"
fi

# Azure evidence that cannot be taken says what is wrong, with --tee or without, never that it
# is not a bundle: over the 1 MiB Azure evidence may hold (docs/cli.md), or without the
# "tpm_quote" member that binds its HCL report, or with the newer and older member names mixed
# ("report" with "tpm_quote", "hcl_report" with "quote": one spelling or the other).
{ cat "$S/evidence-v1.json"; head -c 1100000 /dev/zero | tr '\0' ' '; } >"$T/big.json"
python3 - "$S/evidence-v1.json" "$T/noquote.json" <<'PY' || { echo "FAIL: noquote.json"; fails=$((fails + 1)); }
import json, sys
e = json.load(open(sys.argv[1]))
del e["tpm_quote"]
json.dump(e, open(sys.argv[2], "w"))
PY
python3 - "$S/evidence-v1.json" "$T/mixed1.json" "$T/mixed2.json" <<'PY' || { echo "FAIL: mixed.json"; fails=$((fails + 1)); }
import json, sys
e = json.load(open(sys.argv[1]))
m = dict(e); m["report"] = m.pop("hcl_report")
json.dump(m, open(sys.argv[2], "w"))
m = dict(e); m["quote"] = m.pop("tpm_quote")
json.dump(m, open(sys.argv[3], "w"))
PY
for tee in "--tee azure-snp" ""; do
    # shellcheck disable=SC2086
    $CVM verify "$T/big.json" $tee --nonce "$N1" $V >"$T/big.out" 2>"$T/big.err"
    check "evidence over 1 MiB ($tee)" 2 $?
    has "$T/big.err" "Azure evidence (docs/azure.md) of [0-9]* bytes, over the 1048576 it may hold"
    lacks "$T/big.err" cvmattest_bundle
    # shellcheck disable=SC2086
    $CVM verify "$T/noquote.json" $tee --nonce "$N1" $V >"$T/nq.out" 2>"$T/nq.err"
    check "evidence without tpm_quote ($tee)" 2 $?
    has "$T/nq.err" 'an "hcl_report" without the "tpm_quote" member'
    lacks "$T/nq.err" cvmattest_bundle
    for m in '1 "report" with "tpm_quote"' '2 "hcl_report" with "quote"'; do
        # shellcheck disable=SC2086
        $CVM verify "$T/mixed${m%% *}.json" $tee --nonce "$N1" $V >"$T/mx.out" 2>"$T/mx.err"
        check "evidence with mixed member names ${m#* } ($tee)" 2 $?
        has "$T/mx.err" "mixes the member spellings: ${m#* }"
        lacks "$T/mx.err" cvmattest_bundle
    done
done

[ "$fails" = 0 ] && echo "all azure checks passed"
[ "$fails" = 0 ]
