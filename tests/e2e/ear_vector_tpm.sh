#!/bin/sh
# The signed result's trustworthiness vector (docs/results.md) on a real TPM quote (the GCP
# Shielded VM quote of the shared vectors, in a tpm bundle): verified, it claims no hardware
# (a bare quote: hardware 0; TPM_AK_NOT_BOUND, a warning, withdraws instance-identity to 0 and
# shows as configuration 32, as AR4SI defines no warning for instance-identity); with one byte of its
# signature flipped (TPM_SIGNATURE_INVALID, a bad evidence signature) instance-identity and
# hardware are 99, as for SEV-SNP and TDX.
set -u
CVM=${CVMATTEST_BIN:?}
V=${CVMATTEST_VECTORS:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CVMATTEST_CACHE="$T/cache"
fails=0
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not found"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
G=$V/tpm/gcp-windows-quote-goattestation
[ -n "$V" ] && [ -f "$G/quote_sig.tpmt" ] ||
    { echo "SKIP: shared test vectors not found (set CVMATTEST_VECTORS)"; exit 77; }
eq() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: got '$3', want '$2'"; fails=$((fails + 1)); fi; }

# bundle OUT FLIP: the quote, its signature (FLIP: the byte at that offset from the end xored
# with 1; -: none), the AK and the PCR values as a tpm bundle
bundle() {
    python3 - "$G" "$1" "$2" <<'PY'
import base64, json, sys
g, out, flip = sys.argv[1:4]
rd = lambda n: bytearray(open(g + "/" + n, "rb").read())
sig = rd("quote_sig.tpmt")
if flip != "-":
    sig[len(sig) - int(flip)] ^= 1
b64 = lambda b: base64.b64encode(bytes(b)).decode()
parts = [("tpm_quote", rd("quote_attest.bin")), ("tpm_signature", sig),
         ("tpm_ak", rd("ak_public.tpmt")), ("tpm_pcrs", rd("pcrs_sha1.json"))]
json.dump({"cvmattest_bundle": 1, "kind": "tpm",
           "parts": [{"role": r, "data": b64(d)} for r, d in parts]}, open(out, "w"))
PY
}
$CVM registry keygen --out "$T/v" >/dev/null || { echo "FAIL registry keygen"; exit 1; }
vector() { jq -c '.submods.tpm."ear.trustworthiness-vector" | [."instance-identity",
    .configuration, .executables, .hardware, ."runtime-opaque"]' "$1"; }

bundle "$T/ok.json" -
$CVM verify "$T/ok.json" --offline --nonce '' --sign-result "$T/v.key" --result-out "$T/ok.jwt" \
    >/dev/null
eq "the GCP quote verifies (a warning: TPM_AK_NOT_BOUND)" 0 $?
$CVM result check "$T/ok.jwt" --pub "$T/v.pub" >"$T/ok.ear"
eq "its token checks" 0 $?
eq "verified bare quote: no hardware claim" "[0,32,0,0,0]" "$(vector "$T/ok.ear")"
eq "its ear.status is the result's, warning" warning "$(jq -r '.submods.tpm."ear.status"' "$T/ok.ear")"

bundle "$T/bad.json" 10
$CVM verify "$T/bad.json" --offline --nonce '' --sign-result "$T/v.key" --result-out "$T/bad.jwt" \
    --json >"$T/bad.out"
eq "a flipped signature byte: refused" 1 $?
eq "named TPM_SIGNATURE_INVALID" "TPM_SIGNATURE_INVALID" "$(jq -r '.reasons[0].code' "$T/bad.out")"
$CVM result check "$T/bad.jwt" --pub "$T/v.pub" >"$T/bad.ear"
eq "its token checks, and says contraindicated" 1 $?
eq "a bad evidence signature: instance-identity and hardware 99" "[99,0,0,99,0]" \
    "$(vector "$T/bad.ear")"

echo "$fails failure(s)"
[ "$fails" = 0 ]
