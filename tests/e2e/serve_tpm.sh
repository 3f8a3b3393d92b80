#!/bin/sh
# The verification service (cvmattest serve, docs/service.md) on evidence with a TPM quote from
# a real software TPM (swtpm): the `public_key` binding and the token's `cnf` per kind.
# - tpm (a bare quote): with the service's nonce in extraData it verifies (warning,
#   TPM_AK_NOT_BOUND) and its token has no cnf (an AK nothing binds is no attested key); with a
#   public_key (even the AK itself, with or without a nonce) it is refused with
#   NONCE_REPORT_DATA_MISMATCH (a quote has no REPORT_DATA to bind a key) and has no cnf.
# - azure-snp (simulated: the swtpm AK as HCLAkPub in runtime claims whose SHA-256 a simulated
#   SEV-SNP report carries): with a nonce (in extraData and, zero-padded, in the claims'
#   user-data), under no policy, a warning (VTPM_PARAVISOR_NOT_PINNED: the VMPL-0 report could
#   be any SEV-SNP guest's, without a paravisor) and no cnf; under a policy that pins the
#   paravisor's launch measurement, the token's cnf.jwk is the AK; with a public_key bound by user-data =
#   SHA-512(nonce || SPKI) it is that key, not the AK; with a public_key the user-data does not
#   bind, or a nonce only in extraData, NONCE_REPORT_DATA_MISMATCH and no cnf.
# - svsm-vtpm: with a nonce, the AK-EK link unproven (VTPM_AK_EK_UNPROVEN): no cnf; with a
#   public_key, NONCE_REPORT_DATA_MISMATCH and no cnf.
# - azure-snp of a debug guest, under a policy that accepts it (snp.allow_debug): a warning,
#   and no cnf (the host can read the paravisor's memory, the AK's key with it); the same guest
#   without debug under that policy (which pins the launch measurement): cnf.jwk is the AK.
# - the CLI's token (verify --sign-result) on the same tpm and azure-snp bundles names the
#   --nonce it checked as eat_nonce (hex), none for --nonce '', and --report-data when both.
set -u
RESIGN_LIB=$(cd "$(dirname "$0")/lib" && pwd)
export RESIGN_LIB
CVM=${CVMATTEST_BIN:?}
for p in swtpm tpm2_createek tpm2_createak tpm2_quote tpm2_readpublic curl jq python3 openssl base64 od; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed (make deps installs swtpm, swtpm-tools, tpm2-tools, curl, jq)"; exit 77; }
done
. "$(dirname "$0")/lib/swtpm.sh"
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; cleanup' EXIT
cd "$T" || exit 1
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
eq() { # name, want, got
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$3', want '$2'"; fi
}

# --- fixtures: the EK and AK (RSA-2048, RSASSA-SHA256) in swtpm, a simulated SEV-SNP CVM at
# VMPL 0 whose VCEK key is kept to sign reports again, the result key, a request key ---
swtpm_ek_ak ak.tpm2b
t tpm2_readpublic -c ak.ctx -o ak.pem -f pem
tail -c +3 ek.pub >manifest # the EK's TPMT_PUBLIC: the SVSM vTPM manifest
# PARA: the launch measurement of the paravisor (or SVSM) that makes the VMPL-0 report.
PARA=$(od -An -tx1 -N48 /dev/urandom | tr -d ' \n')
$CVM sim snp --out s --vmpl 0 --measurement "$PARA" --keep-keys >/dev/null || { echo "FAIL sim snp"; exit 1; }
$CVM registry keygen --out v >/dev/null || { echo "FAIL keygen"; exit 1; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out rk.key 2>/dev/null &&
    openssl pkey -in rk.key -pubout -out rk.pub && openssl pkey -in rk.key -pubout -outform DER -out rk.der ||
    { echo "FAIL openssl"; exit 1; }
# The AK and the request key as JWKs, computed here from their SubjectPublicKeyInfo.
python3 - <<'PY' || { echo "FAIL jwk"; exit 1; }
import base64, json, subprocess
u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
der = subprocess.run(["openssl", "pkey", "-pubin", "-in", "ak.pem", "-outform", "DER"],
                     capture_output=True, check=True).stdout
def tlv(b, i):  # (tag, value start, value end) of the DER element at i
    n = b[i + 1]
    if n < 0x80:
        return b[i], i + 2, i + 2 + n
    k = n & 0x7F
    ln = int.from_bytes(b[i + 2:i + 2 + k], "big")
    return b[i], i + 2 + k, i + 2 + k + ln
_, s, _ = tlv(der, 0)                 # SubjectPublicKeyInfo
_, _, e = tlv(der, s)                 # AlgorithmIdentifier
_, bs, _ = tlv(der, e)                # BIT STRING: 00 || RSAPublicKey
_, rs, _ = tlv(der, bs + 1)           # RSAPublicKey
_, ns, ne = tlv(der, rs)              # modulus
_, es, ee = tlv(der, ne)              # exponent
n = der[ns:ne].lstrip(b"\0")
json.dump({"kty": "RSA", "n": u(n), "e": u(der[es:ee])}, open("ak.jwk", "w"), sort_keys=True)
d = open("rk.der", "rb").read()[-65:]
json.dump({"kty": "EC", "crv": "P-256", "x": u(d[1:33]), "y": u(d[33:])}, open("rk.jwk", "w"), sort_keys=True)
PY
AK_JWK=$(jq -cS . ak.jwk)
RK_JWK=$(jq -cS . rk.jwk)

# mk.py MODE NONCE_HEX USER_DATA_HEX OUT: a bundle of kind tpm, azure-snp or svsm-vtpm around
# the quote q.msg / q.sig / q.pcrs; azure-snp and svsm-vtpm with the simulated report signed
# again over the REPORT_DATA they need (the runtime claims' SHA-256; SHA-512(nonce zero-padded
# || manifest)); with DEBUG=1 in the environment, with the guest policy's DEBUG bit set too.
cat >mk.py <<'PY'
import base64, hashlib, json, os, struct, sys
mode, nonce, user_data, out = sys.argv[1:5]
b64 = lambda b: base64.b64encode(b).decode()
rd = lambda p: open(p, "rb").read()
sys.path.insert(0, os.environ["RESIGN_LIB"])
from snp_resign import load_key, resign as snp_resign
base = bytearray(rd("s/report.bin"))
if os.environ.get("DEBUG"):
    base[0x0A] |= 0x08  # guest POLICY (u64 at 0x08), bit 19: DEBUG
resign = lambda report_data: snp_resign(bytes(base), load_key("s/vcek-key.pem"), report_data)
quote = [{"role": "tpm_quote", "data": b64(rd("q.msg"))},
         {"role": "tpm_signature", "data": b64(rd("q.sig"))},
         {"role": "tpm_pcrs", "data": b64(rd("q.pcrs"))}]
coll = [{"role": "collateral", "name": n, "data": b64(rd("s/" + n))}
        for n in ("vcek.der", "cert_chain.pem", "crl.der")]
if mode == "tpm":
    parts = quote + [{"role": "tpm_ak", "data": b64(rd("ak.tpm2b"))}]
elif mode == "azure-snp":
    jwk = json.load(open("ak.jwk"))
    claims = json.dumps({"keys": [dict(kid="HCLAkPub", key_ops=["sign"], **jwk)],
                         "vm-configuration": {"console-enabled": False, "secure-boot": True,
                                              "tpm-enabled": True,
                                              "vmUniqueId": "00000000-1111-2222-3333-444444444444"},
                         "user-data": user_data.upper()}, separators=(",", ":")).encode()
    body = resign(hashlib.sha256(claims).digest()) + struct.pack("<IIIII", 20 + len(claims), 1, 2, 1, len(claims)) + claims
    hcl = b"HCLA" + struct.pack("<III", 1, 32 + len(body), 2) + bytes(16) + body
    parts = [{"role": "evidence", "data": b64(hcl)}] + quote + coll
else:
    man = rd("manifest")
    rep = resign(hashlib.sha512(bytes.fromhex(nonce).ljust(64, b"\0") + man).digest())
    parts = ([{"role": "evidence", "data": b64(rep)}, {"role": "svsm_manifest", "data": b64(man)}]
             + quote + [{"role": "tpm_ak", "data": b64(rd("ak.tpm2b"))}] + coll)
json.dump({"cvmattest_bundle": 1, "kind": mode, "parts": parts}, open(out, "w"))
PY

rm -f port
$CVM serve --listen 127.0.0.1:0 --port-file port --trust-root s/ark.pem --offline \
    --sign-result v.key 2>serve.log &
SPID=$!
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s port ] || { echo "FAIL the service did not start"; cat serve.log; exit 1; }
A=http://127.0.0.1:$(cat port)

hex_of() { # base64url (no padding) -> hex
    printf '%s' "$1" | tr '_-' '/+' | awk '{ m = length($0) % 4; if (m == 2) $0 = $0 "=="; else if (m == 3) $0 = $0 "="; print }' |
        base64 -d | od -An -v -tx1 | tr -d ' \n'
}
pad64() { printf '%s\n' "$1" | awk '{ while (length($0) < 128) $0 = $0 "0"; print }'; }
# keyrd NONCE_HEX: SHA-512(nonce || the request key's DER SPKI), hex
keyrd() { (python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; cat rk.der) | openssl dgst -sha512 -r | cut -d' ' -f1; }
# fresh: a nonce from the service (NB64, NHEX) and a quote over it
fresh() {
    NB64=$(curl -sf "$A/v1/nonce" | jq -r .nonce)
    NHEX=$(hex_of "$NB64")
    [ ${#NHEX} = 64 ] || { echo "FAIL no nonce: '$NB64'"; exit 1; }
    t tpm2_quote -c ak.ctx -l sha256:0,7 -q "$NHEX" -m q.msg -s q.sig -o q.pcrs -g sha256
}
# ask NAME BUNDLE NONCE_B64 [PUBFILE]: POST /v1/verify; NAME.json the answer, NAME.tok the
# token's claims (payload decoded), prints the HTTP status
ask() {
    jq -n --arg e "$(base64 -w0 "$2")" --arg n "$3" --rawfile k "${4:-/dev/null}" \
        '{evidence: $e} + (if $n != "" then {nonce: $n} else {} end) + (if $k != "" then {public_key: $k} else {} end)' >"$1.req"
    st=$(curl -s -o "$1.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$1.req" "$A/v1/verify")
    jq -r '.token // empty' "$1.json" | cut -d. -f2 | tr '_-' '/+' |
        awk '{ m = length($0) % 4; if (m == 2) $0 = $0 "=="; else if (m == 3) $0 = $0 "="; print }' | base64 -d >"$1.tok" 2>/dev/null
    printf '%s' "$st"
}
has_reason() { jq -e --arg c "$2" 'any(.reasons[]; .code == $c)' "$1.json" >/dev/null && echo yes || echo no; }
errors() { jq -r '[.reasons[] | select(.severity == "error") | .code] | join(",")' "$1.json"; }
cnf() { if [ -s "$1.tok" ]; then jq -cS '.cnf.jwk // .cnf' "$1.tok"; else echo "(no token)"; fi; }

# --- kind tpm: never a cnf ---
fresh
python3 mk.py tpm "$NHEX" "" tpm.json
st=$(ask t1 tpm.json "$NB64")
eq "tpm, nonce: 200 warning, TPM_AK_NOT_BOUND, no error" "200 warning yes " \
    "$st $(jq -r .status t1.json) $(has_reason t1 TPM_AK_NOT_BOUND) $(errors t1)"
jq -r .token t1.json >t1.jwt
$CVM result check t1.jwt --pub v.pub >t1.chk 2>t1.err; eq "tpm, nonce: the token checks" 0 $?
eq "tpm, nonce: the result names the AK (claims.tpm.ak.jwk)" "$AK_JWK" "$(jq -cS .claims.tpm.ak.jwk t1.json)"
eq "tpm, nonce: no hardware platform (docs/results.md): {}" "{}" "$(jq -c .platform t1.json)"
eq "tpm, nonce: the token's eat_nonce is the nonce" "$NB64" "$(jq -r .eat_nonce t1.chk)"
eq "tpm, nonce: the token has no cnf (the AK is not bound)" "null" "$(cnf t1)"
# The CLI's token on the same quote checked with --nonce names that nonce too (its hex, as
# --report-data's is), not nothing; --nonce '' (no nonce expected) names none.
$CVM verify tpm.json --offline --nonce "$NHEX" --sign-result v.key --result-out c1.jwt >/dev/null
eq "verify --nonce (tpm): warning" 0 $?
$CVM result check c1.jwt --pub v.pub >c1.chk 2>c1.err
eq "verify --nonce (tpm): the token's eat_nonce is the nonce's hex" "$NHEX" "$(jq -r .eat_nonce c1.chk)"
$CVM verify tpm.json --offline --nonce '' --sign-result v.key --result-out c0.jwt >/dev/null
$CVM result check c0.jwt --pub v.pub >c0.chk 2>c0.err
eq "verify --nonce '' (tpm): no eat_nonce" "null" "$(jq -r .eat_nonce c0.chk)"
eq "tpm, nonce: the token's one submodule is tpm" '["tpm"]' "$(jq -c '.submods | keys' t1.tok)"
# The quote alone (no bundle): refused as such, not as a bundle lacking a part.
st=$(ask t1b q.msg "")
eq "tpm, the quote alone: 200 contraindicated, PARSE_TRUNCATED" "200 contraindicated yes" \
    "$st $(jq -r .status t1b.json) $(has_reason t1b PARSE_TRUNCATED)"
eq "tpm, the quote alone: the detail says what is missing" "true" \
    "$(jq '[.reasons[].detail] | any(test("neither its signature \\(tpm_signature\\) nor its AK"))' t1b.json)"

# A quote selecting 17 PCR banks (more than a TPML_PCR_SELECTION holds) and an AK of an unknown
# scheme: refused by name, and nothing in the service's log (libtss2-mu, which read them
# before, wrote "count too big" and "wrong selector" lines to its stderr at every request).
cat >mangle.py <<'PY'
import base64, json, struct, sys
b = json.load(open(sys.argv[1]))
for p in b["parts"]:
    d = base64.b64decode(p["data"])
    if p["role"] == "tpm_quote" and sys.argv[2] == "count17":
        # magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion, then the count
        o = 6; o += 2 + struct.unpack(">H", d[o:o + 2])[0]; o += 2 + struct.unpack(">H", d[o:o + 2])[0]
        o += 17 + 8
        d = d[:o] + struct.pack(">I", 17) + d[o + 4:]
    if p["role"] == "tpm_ak" and sys.argv[2] == "scheme":
        # TPM2B_PUBLIC: size, type, nameAlg, objectAttributes, authPolicy, symmetric, scheme
        o = 2 + 8; o += 2 + struct.unpack(">H", d[o:o + 2])[0]; o += 2
        d = d[:o] + struct.pack(">H", 0x7777) + d[o + 2:]
    p["data"] = base64.b64encode(d).decode()
json.dump(b, open(sys.argv[3], "w"))
PY
fresh
python3 mk.py tpm "$NHEX" "" tpm.json && python3 mangle.py tpm.json count17 count17.json
st=$(ask t9 count17.json "$NB64")
eq "tpm, a quote of 17 PCR banks: 200 contraindicated TPM_ATTEST_MALFORMED" \
    "200 contraindicated TPM_ATTEST_MALFORMED" "$st $(jq -r .status t9.json) $(errors t9)"
fresh
python3 mk.py tpm "$NHEX" "" tpm.json && python3 mangle.py tpm.json scheme scheme.json
st=$(ask t10 scheme.json "$NB64")
eq "tpm, an AK of an unknown scheme: 200 contraindicated TPM_AK_MALFORMED" \
    "200 contraindicated TPM_AK_MALFORMED" "$st $(jq -r .status t10.json) $(errors t10)"
eq "the service's log has no libtss2-mu line" "0" "$(grep -c ':marshal:' serve.log)"

fresh
python3 mk.py tpm "$NHEX" "" tpm.json
st=$(ask t2 tpm.json "$NB64" ak.pem)
eq "tpm, nonce, public_key = the AK: 200 contraindicated NONCE_REPORT_DATA_MISMATCH" \
    "200 contraindicated NONCE_REPORT_DATA_MISMATCH" "$st $(jq -r .status t2.json) $(errors t2)"
eq "tpm, nonce, public_key = the AK: no cnf" "null" "$(cnf t2)"
st=$(ask t3 tpm.json "" rk.pub)
eq "tpm, public_key without a nonce: contraindicated NONCE_REPORT_DATA_MISMATCH" \
    "200 contraindicated yes" "$st $(jq -r .status t3.json) $(has_reason t3 NONCE_REPORT_DATA_MISMATCH)"
eq "tpm, public_key without a nonce: no cnf" "null" "$(cnf t3)"

# --- kind azure-snp: the AK is named by the hardware report; the service has no policy, so
# nothing pins the paravisor's launch: any SEV-SNP guest at VMPL 0 could have made the report
# (VTPM_PARAVISOR_NOT_PINNED), and the AK is no attested key (with the pin: below) ---
fresh
python3 mk.py azure-snp "$NHEX" "$(pad64 "$NHEX")" az1.b || { echo "FAIL mk.py azure-snp"; exit 1; }
st=$(ask a1 az1.b "$NB64")
eq "azure-snp, nonce: 200, no error, no TPM_AK_NOT_BOUND" "200 no " \
    "$st $(has_reason a1 TPM_AK_NOT_BOUND) $(errors a1)"
eq "azure-snp, nonce, no policy: warning VTPM_PARAVISOR_NOT_PINNED" "warning yes" \
    "$(jq -r .status a1.json) $(has_reason a1 VTPM_PARAVISOR_NOT_PINNED)"
jq -r .token a1.json >a1.jwt
$CVM result check a1.jwt --pub v.pub >a1.chk 2>a1.err; eq "azure-snp, nonce: the token checks" 0 $?
eq "azure-snp, nonce: claims.azure.tpm.ak.jwk is the swtpm AK" "$AK_JWK" "$(jq -cS .claims.azure.tpm.ak.jwk a1.json)"
eq "azure-snp, nonce, no launch measurement pinned: the token has no cnf (the AK is not attested)" \
    "null" "$(jq -cS .cnf a1.chk)"
eq "azure-snp, nonce: the token's one submodule is azure-snp" '["azure-snp"]' "$(jq -c '.submods | keys' a1.tok)"
# The CLI: --nonce alone is named; with --report-data besides, the report data is (here one
# the evidence does not carry: refused, and the token still names what was expected).
$CVM verify az1.b --trust-root s/ark.pem --offline --nonce "$NHEX" --sign-result v.key \
    --result-out c2.jwt >/dev/null
$CVM result check c2.jwt --pub v.pub >c2.chk 2>c2.err
eq "verify --nonce (azure-snp): the token's eat_nonce is the nonce's hex" "$NHEX" "$(jq -r .eat_nonce c2.chk)"
$CVM verify az1.b --trust-root s/ark.pem --offline --nonce "$NHEX" --report-data 0102030405 \
    --sign-result v.key --result-out c3.jwt >/dev/null
eq "verify --nonce --report-data (azure-snp), another report data: refused" 1 $?
$CVM result check c3.jwt --pub v.pub >c3.chk 2>c3.err
eq "verify --nonce --report-data (azure-snp): eat_nonce is the report data" "0102030405" \
    "$(jq -r .eat_nonce c3.chk)"

fresh
python3 mk.py azure-snp "$NHEX" "$(keyrd "$NHEX")" az2.b
st=$(ask a2 az2.b "$NB64" rk.pub)
eq "azure-snp, public_key bound by user-data: 200, no error" "200 " "$st $(errors a2)"
eq "azure-snp, public_key bound by user-data: cnf.jwk is the request's key, not the AK" "$RK_JWK" "$(cnf a2)"

fresh
python3 mk.py azure-snp "$NHEX" "$(pad64 "$NHEX")" az3.b
st=$(ask a3 az3.b "$NB64" rk.pub)
eq "azure-snp, public_key the user-data does not bind: contraindicated NONCE_REPORT_DATA_MISMATCH" \
    "200 contraindicated NONCE_REPORT_DATA_MISMATCH" "$st $(jq -r .status a3.json) $(errors a3)"
eq "azure-snp, public_key not bound: no cnf (not the AK either)" "null" "$(cnf a3)"

fresh
python3 mk.py azure-snp "$NHEX" "$(pad64 "")" az4.b
st=$(ask a4 az4.b "$NB64")
eq "azure-snp, the nonce only in extraData (user-data zeros): contraindicated NONCE_REPORT_DATA_MISMATCH" \
    "200 contraindicated NONCE_REPORT_DATA_MISMATCH" "$st $(jq -r .status a4.json) $(errors a4)"
eq "azure-snp, nonce not in user-data: no cnf" "null" "$(cnf a4)"

# --- kind svsm-vtpm: the AK-EK link unproven here, no REPORT_DATA for a key ---
fresh
python3 mk.py svsm-vtpm "$NHEX" "" sv1.b
st=$(ask s1 sv1.b "$NB64")
eq "svsm-vtpm, nonce: 200 warning VTPM_AK_EK_UNPROVEN, no error" "200 warning yes " \
    "$st $(jq -r .status s1.json) $(has_reason s1 VTPM_AK_EK_UNPROVEN) $(errors s1)"
eq "svsm-vtpm, nonce, no policy: VTPM_PARAVISOR_NOT_PINNED" "yes" "$(has_reason s1 VTPM_PARAVISOR_NOT_PINNED)"
eq "svsm-vtpm, nonce: no cnf (the AK is not proven in the vTPM)" "null" "$(cnf s1)"
eq "svsm-vtpm, nonce: the token's one submodule is svsm-vtpm" '["svsm-vtpm"]' "$(jq -c '.submods | keys' s1.tok)"
fresh
python3 mk.py svsm-vtpm "$NHEX" "" sv2.b
st=$(ask s2 sv2.b "$NB64" rk.pub)
eq "svsm-vtpm, public_key: contraindicated NONCE_REPORT_DATA_MISMATCH" \
    "200 contraindicated yes" "$st $(jq -r .status s2.json) $(has_reason s2 NONCE_REPORT_DATA_MISMATCH)"
eq "svsm-vtpm, public_key: no cnf" "null" "$(cnf s2)"

# --- azure-snp, a debug guest a policy accepts: a warning, but the AK is not attested. The
# policy pins the paravisor's launch measurement: without the debug bit, the AK is attested ---
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
printf '{"allowed_tees": ["azure-snp"], "snp": {"allow_debug": true, "measurements": ["%s"]}}\n' "$PARA" >debug.json
rm -f port
$CVM serve --listen 127.0.0.1:0 --port-file port --trust-root s/ark.pem --offline \
    --sign-result v.key --policy debug.json 2>>serve.log &
SPID=$!
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s port ] || { echo "FAIL the service (debug policy) did not start"; cat serve.log; exit 1; }
A=http://127.0.0.1:$(cat port)
fresh
DEBUG=1 python3 mk.py azure-snp "$NHEX" "$(pad64 "$NHEX")" az5.b || { echo "FAIL mk.py azure-snp (debug)"; exit 1; }
st=$(ask a5 az5.b "$NB64")
eq "azure-snp, a debug guest the policy accepts: 200 warning SNP_DEBUG_ALLOWED, no error" \
    "200 warning yes " "$st $(jq -r .status a5.json) $(has_reason a5 SNP_DEBUG_ALLOWED) $(errors a5)"
eq "azure-snp, a debug guest the policy accepts: the result names the AK" "$AK_JWK" \
    "$(jq -cS .claims.azure.tpm.ak.jwk a5.json)"
eq "azure-snp, a debug guest the policy accepts: no cnf (the AK is not attested)" "null" "$(cnf a5)"
fresh
python3 mk.py azure-snp "$NHEX" "$(pad64 "$NHEX")" az6.b
st=$(ask a6 az6.b "$NB64")
eq "azure-snp, no debug, the same policy: 200 affirming" "200 affirming " \
    "$st $(jq -r .status a6.json) $(errors a6)"
eq "azure-snp, no debug, the same policy: cnf.jwk is the AK" "$AK_JWK" "$(cnf a6)"
eq "azure-snp, no debug, the same policy: no VTPM_PARAVISOR_NOT_PINNED" "no" \
    "$(has_reason a6 VTPM_PARAVISOR_NOT_PINNED)"

[ $fails = 0 ] || { echo "--- serve.log"; tail -n 20 serve.log; }
exit $((fails > 0))
