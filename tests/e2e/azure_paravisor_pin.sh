#!/bin/sh
# azure-snp evidence forged by an SEV-SNP guest that runs WITHOUT a paravisor (docs/azure.md,
# docs/vtpm-binding.md "What the binding proves"). Such a guest is at VMPL 0 and picks its own
# REPORT_DATA: it writes runtime claims with its own RSA key as HCLAkPub (secure boot on, any
# user-data), asks for a report whose REPORT_DATA is their SHA-256, wraps it in an HCL header,
# and signs a TPM quote over PCR values of its choosing with that key. Here the report is the
# simulator's (its root trusted) and the quote is signed in software. Only the launch
# measurement of the paravisor, pinned by the policy, tells this apart from Azure's:
# - no policy: a warning (VTPM_PARAVISOR_NOT_PINNED), never affirming, and the service's token
#   has no cnf (the AK is no attested key);
# - a policy with tpm.pcrs and azure rules and VMPL 0, but no launch pin: POLICY_TPM_AK, exit 1;
# - snp.measurements pinned to another measurement (the real paravisor's): POLICY_MEASUREMENT;
# - snp.measurements pinned to this report's own: the pin holds, the AK counts as vouched for
#   and the result is affirming (the pin is what decides).
set -u
CVM=${CVMATTEST_BIN:?}
for p in python3 jq curl; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
python3 -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3-cryptography not installed"; exit 77; }
T=$(mktemp -d)
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

NONCE=$(printf '11%.0s' $(seq 32))
# forge.py: the runtime claims (HCLAkPub = a key made here), the simulated VMPL-0 report over
# their SHA-256, the HCL report, a quote by that key over PCRs pcr0..pcr23 and the nonce,
# Trustee's JSON evidence (forged.json) and the collateral directory (coll).
cat >forge.py <<'PY'
import base64, hashlib, json, os, struct, subprocess, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
cvm, nonce = sys.argv[1], bytes.fromhex(sys.argv[2])
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
n = key.public_key().public_numbers().n.to_bytes(256, "big")
# a third argument: HCLAkPub's n with a leading zero octet (a key RFC 7518 refuses)
jn = b"\x00" + n if len(sys.argv) > 3 else n
claims = json.dumps({"keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA", "e": "AQAB", "n": b64u(jn)}],
                     "vm-configuration": {"console-enabled": False, "secure-boot": True, "tpm-enabled": True,
                                          "vmUniqueId": "7DF7B373-B947-4AAA-96E5-C358F2A03D20"},
                     "user-data": "AB" * 64}, separators=(",", ":")).encode()
subprocess.run([cvm, "sim", "snp", "--out", "sim", "--vmpl", "0",
                "--report-data", hashlib.sha256(claims).hexdigest()], check=True, stdout=subprocess.DEVNULL)
rep = open("sim/report.bin", "rb").read()
assert len(rep) == 1184
hcl = bytearray(b"HCLA" + struct.pack("<IIII", 1, 1236 + len(claims), 2, 0) + bytes(12) + rep
                + struct.pack("<IIIII", 20 + len(claims), 1, 2, 1, len(claims)) + claims)
hcl += bytes(2600 - len(hcl))
pcrs = [hashlib.sha256(b"pcr%d" % i).digest() for i in range(24)]
att = struct.pack(">IH", 0xFF544347, 0x8018) + struct.pack(">H", 2) + b"\x00\x0b"
att += struct.pack(">H", len(nonce)) + nonce
att += struct.pack(">QIIB", 1234, 1, 0, 1) + struct.pack(">Q", 0x2020031200120003)
att += struct.pack(">I", 1) + struct.pack(">HB", 0x000B, 3) + b"\xff\xff\xff"
att += struct.pack(">H", 32) + hashlib.sha256(b"".join(pcrs)).digest()
sig = key.sign(att, padding.PKCS1v15(), hashes.SHA256())
ev = {"version": 2, "hcl_report": b64u(bytes(hcl)),
      "tpm_quote": {"message": att.hex(), "signature": sig.hex(), "pcrs": [p.hex() for p in pcrs]},
      "vcek": b64u(open("sim/vcek.der", "rb").read())}
json.dump(ev, open("forged.json", "w"))
os.makedirs("coll", exist_ok=True)
for f in ("cert_chain.pem", "crl.der"):
    open("coll/" + f, "wb").write(open("sim/" + f, "rb").read())
print(hashlib.sha256(b"pcr0").hexdigest())
PY
P0=$(python3 forge.py "$CVM" "$NONCE") || { echo "FAIL: forge.py"; exit 1; }
V="--tee azure-snp --nonce $NONCE --collateral coll --trust-root sim/ark.pem --offline --json"

$CVM verify forged.json $V >none.json 2>none.err
rc=$?
[ $rc = 0 ] && jq -e '.tee == "azure-snp" and .status == "warning"
    and all(.reasons[]; .severity != "error")
    and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED" and .severity == "warning"
        and (.detail | test("VMPL 0, which any SEV-SNP guest without a paravisor")))
    and .claims.azure.runtime_claims.secure_boot == true' none.json >/dev/null &&
    ok "forged azure-snp, no policy: a warning (VTPM_PARAVISOR_NOT_PINNED), not affirming" ||
    fail "no policy: exit $rc $(cat none.err) $(jq -c '[.status, [.reasons[] | .code]]' none.json)"
M=$(jq -r '.claims.measurement' none.json)
[ ${#M} = 96 ] || fail "no measurement in the result: $M"

pol() { # name, expected exit, policy, jq test
    printf '%s\n' "$3" >p.json
    $CVM verify forged.json $V --policy p.json >p.out 2>p.err
    rc=$?
    if [ $rc = "$2" ] && jq -e "$4" p.out >/dev/null; then ok "$1"; else
        fail "$1: exit $rc $(cat p.err) $(jq -c '[.status, [.reasons[] | .code + ": " + .detail]]' p.out 2>/dev/null | head -c 1500)"; fi
}
RULES='"tpm": {"pcrs": {"sha256": {"0": "'$P0'"}}},
       "azure": {"secure_boot": true, "tpm_enabled": true, "console_enabled": false}'
pol "forged azure-snp, PCR and runtime-claim rules, VMPL 0, no launch pin: POLICY_TPM_AK" 1 \
    '{"allowed_tees": ["azure-snp"], "snp": {"vmpl": 0}, '"$RULES"'}' \
    '.status == "contraindicated" and [.reasons[] | select(.severity == "error") | .code] == ["POLICY_TPM_AK"]
     and any(.reasons[]; .code == "POLICY_TPM_AK" and (.detail | test("^azure, tpm.pcrs: .*VMPL 0.*snp.measurements")))
     and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED")'
# The measurement of Azure's paravisor in the real sample (tpm/azure-snp-vtpm-coco-trustee).
REAL=5b0ce64ad1c1f6375dbda5f760b98526ca1bcf91b8195091afc28e7b024251d68fe32e05af34048d6607678cd23283ff
pol "forged azure-snp, snp.measurements pinned to the paravisor's: POLICY_MEASUREMENT" 1 \
    '{"allowed_tees": ["azure-snp"], "snp": {"vmpl": 0, "measurements": ["'$REAL'"]}, '"$RULES"'}' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_MEASUREMENT"]
     and all(.reasons[]; .code != "VTPM_PARAVISOR_NOT_PINNED")'
pol "the same evidence, snp.measurements pinned to its own: the pin holds, affirming" 0 \
    '{"allowed_tees": ["azure-snp"], "snp": {"vmpl": 0, "measurements": ["'$M'"]}, '"$RULES"'}' \
    '.status == "affirming" and all(.reasons[]; .code != "VTPM_PARAVISOR_NOT_PINNED")'

# The service: no policy, the forged evidence without a nonce (the quote's extraData is then
# not checked, a warning): the token names no attested key (no cnf).
$CVM registry keygen --out v >/dev/null || { echo "FAIL keygen"; exit 1; }
$CVM serve --listen 127.0.0.1:0 --port-file port --trust-root sim/ark.pem --offline \
    --sign-result v.key 2>serve.log &
SPID=$!
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s port ] || { echo "FAIL the service did not start"; cat serve.log; exit 1; }
python3 - <<'PY' || { echo "FAIL bundle"; exit 1; }
import base64, json
b64 = lambda p: base64.b64encode(open(p, "rb").read()).decode()
parts = [{"role": "evidence", "data": b64("forged.json")}]
parts += [{"role": "collateral", "name": n, "data": b64("coll/" + n)} for n in ("cert_chain.pem", "crl.der")]
json.dump({"evidence": base64.b64encode(json.dumps({"cvmattest_bundle": 1, "kind": "azure-snp",
           "parts": parts}).encode()).decode()}, open("req.json", "w"))
PY
st=$(curl -s -o ans.json -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @req.json \
    "http://127.0.0.1:$(cat port)/v1/verify")
jq -r '.token // empty' ans.json | cut -d. -f2 | tr '_-' '/+' |
    awk '{ m = length($0) % 4; if (m == 2) $0 = $0 "=="; else if (m == 3) $0 = $0 "="; print }' | base64 -d >ans.tok 2>/dev/null
if [ "$st" = 200 ] && jq -e '.status == "warning" and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED")' ans.json >/dev/null &&
    [ -s ans.tok ] && jq -e '.submods["azure-snp"] != null and .cnf == null' ans.tok >/dev/null; then
    ok "the service, forged azure-snp, no policy: a warning, and the token has no cnf (the AK is not attested)"
else
    fail "service: $st $(jq -c '[.status, [.reasons[]?.code]]' ans.json) token: $(head -c 600 ans.tok)"
fi

# HCLAkPub refused (n with a leading zero octet): the runtime claims the report vouches for
# are shown, but no AK and no quote claims (claims.azure has no ak and no tpm)
mkdir lz && (cd lz && python3 ../forge.py "$CVM" "$NONCE" lz >/dev/null) || fail "forge.py lz"
(cd lz && $CVM verify forged.json $V >lz.json 2>lz.err)
rc=$?
[ $rc = 1 ] && jq -e 'any(.reasons[]; .code == "AZURE_RUNTIME_CLAIMS_MALFORMED")
    and .claims.azure.runtime_claims.secure_boot == true
    and .claims.azure.ak == null and .claims.azure.tpm == null' lz/lz.json >/dev/null &&
    ok "HCLAkPub refused: runtime claims shown, no ak and no tpm claims" ||
    fail "HCLAkPub refused: exit $rc $(jq -c '.claims.azure | del(.snp)' lz/lz.json)"

[ "$fails" = 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
