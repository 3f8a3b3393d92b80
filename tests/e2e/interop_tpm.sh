#!/bin/sh
# TPM 2.0 quotes checked by tpm2-tools' tpm2_checkquote (its own TPMS_ATTEST, signature and
# pcrDigest code over OpenSSL) and by `cvmattest tpm check-quote`, on the same files: quotes
# made by swtpm with tpm2_quote (RSASSA and ECDSA AKs; a nonce; PCRs 0, 7 and an extended 16)
# are accepted by both; both refuse one with another expected nonce, a quote made over other
# qualifying data, a quote with one byte of its clock changed, and a PCR value changed in the
# tpm2_quote -o file. An RSAPSS quote's signature is checked by the TPM (tpm2_verifysignature)
# and by cvmattest: good, and with a clock byte changed. With the shared vectors: the real GCP Shielded VM quote
# (RSASSA-SHA1, all 24 SHA-1 PCRs, no nonce) is accepted by both, and refused by both with one
# PCR value changed.
set -u
CVM=${CVMATTEST_BIN:?}
V=${CVMATTEST_VECTORS:-}
for p in swtpm tpm2_createek tpm2_quote tpm2_checkquote tpm2_verifysignature python3; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed (make deps installs swtpm, swtpm-tools, tpm2-tools)"; exit 77; }
done
. "$(dirname "$0")/lib/swtpm.sh"
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 800 "$1"; echo; fails=$((fails + 1)); }; }
# both NAME WANT_THEIRS WANT_OURS MSG SIG AK PCRS NONCE HASH: tpm2_checkquote and
# `cvmattest tpm check-quote` on the same files (PCRS "-": none; NONCE "-": the quote has none)
both() {
    name=$1 want_t=$2 want_o=$3 msg=$4 sig=$5 ak=$6 pcrs=$7 nonce=$8 hash=$9
    set -- -u "$ak" -m "$msg" -s "$sig" -g "$hash"
    [ "$pcrs" = - ] || set -- "$@" -f "$pcrs"
    [ "$nonce" = - ] || set -- "$@" -q "$nonce"
    tpm2_checkquote "$@" >"$T/tc.out" 2>&1
    check "tpm2_checkquote: $name" "$want_t" $?
    set -- --msg "$msg" --sig "$sig" --ak "$ak" --json
    [ "$pcrs" = - ] || set -- "$@" --pcrs "$pcrs"
    if [ "$nonce" = - ]; then set -- "$@" --nonce ''; else set -- "$@" --nonce "$nonce"; fi
    $CVM tpm check-quote "$@" >"$T/ours.json" 2>&1
    check "cvmattest tpm check-quote: $name" "$want_o" $?
}
# flip IN OUT OFFSET: IN with the byte at OFFSET (negative: from the end) xored with 1
flip() { python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[3])] ^= 1
open(sys.argv[2], "wb").write(b)' "$@"; }

cd "$T" || exit 1
swtpm_ek_ak ak.tpm2b
t tpm2_pcrextend 16:sha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
NONCE=5e1f0c0ffee0ddba11cafe0123456789
OTHER=5e1f0c0ffee0ddba11cafe0123456788
t tpm2_quote -c ak.ctx -l sha256:0,7,16 -q $NONCE -m q.msg -s q.sig -o q.pcrs -g sha256
t tpm2_quote -c ak.ctx -l sha256:0,7,16 -q $OTHER -m o.msg -s o.sig -o o.pcrs -g sha256
tpm2_pcrread sha256:16 >pcr16.yaml 2>&1
PCR16=$(sed -n 's/^ *16 *: 0x\([0-9A-Fa-f]*\)$/\1/p' pcr16.yaml | tr 'A-F' 'a-f')
[ ${#PCR16} = 64 ] || { echo "FAIL: no PCR 16 in tpm2_pcrread output"; cat pcr16.yaml; exit 1; }

both "RSASSA quote, its nonce and PCRs" 0 0 q.msg q.sig ak.tpm2b q.pcrs $NONCE sha256
has ours.json '"extra_data": "'$NONCE'"'
has ours.json '"16": "'"$PCR16"'"'
both "RSASSA quote, another nonce expected" 1 1 q.msg q.sig ak.tpm2b q.pcrs $OTHER sha256
has ours.json TPM_NONCE_MISMATCH
both "a quote over other qualifying data" 1 1 o.msg o.sig ak.tpm2b o.pcrs $NONCE sha256
has ours.json TPM_NONCE_MISMATCH
# one byte of the clock (TPMS_CLOCK_INFO follows magic, type, name and extraData)
flip q.msg clock.msg -40
both "a quote with a clock byte changed" 1 1 clock.msg q.sig ak.tpm2b q.pcrs $NONCE sha256
has ours.json TPM_SIGNATURE_INVALID
# PCR 16's value changed inside the tpm2_quote -o file both read
off=$(python3 -c 'import sys
print(open("q.pcrs", "rb").read().find(bytes.fromhex(sys.argv[1])))' "$PCR16")
[ "$off" -gt 0 ] 2>/dev/null || { echo "FAIL: PCR 16 not found in q.pcrs"; exit 1; }
flip q.pcrs bad.pcrs $((off + 5))
both "a PCR value changed" 1 1 q.msg q.sig ak.tpm2b bad.pcrs $NONCE sha256
has ours.json TPM_PCR_DIGEST_MISMATCH

# RSAPSS: tpm2_checkquote (tpm2-tools 5.4) refuses good RSAPSS quotes, with a TPM2B_PUBLIC or a
# PEM AK (tpm2-software/tpm2-tools#3283, open), so the TPM itself checks the signature here
# (TPM2_VerifySignature through tpm2_verifysignature); the nonce and PCRs are covered above.
t tpm2_createak -C ek.ctx -c akp.ctx -G rsa -g sha256 -s rsapss -u akp.tpm2b
t tpm2_quote -c akp.ctx -l sha256:0,7,16 -q $NONCE -m p.msg -s p.sig -o p.pcrs -g sha256 --scheme rsapss
flip p.msg p-clock.msg -40
for m in p p-clock; do
    want=0; [ $m = p ] || want=1
    tpm2_verifysignature -c akp.ctx -g sha256 -m $m.msg -s p.sig -t tk.bin >tv.out 2>&1
    check "TPM2_VerifySignature: RSAPSS quote ($m.msg)" $want $?
    tpm2_flushcontext -t >/dev/null 2>&1
    $CVM tpm check-quote --msg $m.msg --sig p.sig --ak akp.tpm2b --pcrs p.pcrs --nonce $NONCE --json >ours.json 2>&1
    check "cvmattest tpm check-quote: RSAPSS quote ($m.msg)" $want $?
done
has ours.json TPM_SIGNATURE_INVALID
t tpm2_createak -C ek.ctx -c ake.ctx -G ecc -g sha256 -s ecdsa -u ake.tpm2b
t tpm2_quote -c ake.ctx -l sha256:0,7,16 -q $NONCE -m e.msg -s e.sig -o e.pcrs -g sha256
both "ECDSA quote" 0 0 e.msg e.sig ake.tpm2b e.pcrs $NONCE sha256
has ours.json '"signature_scheme": "ecdsa"'
both "ECDSA quote, another nonce expected" 1 1 e.msg e.sig ake.tpm2b e.pcrs $OTHER sha256

# --- a real quote: GCP Shielded VM (Windows), from google/go-attestation (MANIFEST.md) ---
G=$V/tpm/gcp-windows-quote-goattestation
if [ -n "$V" ] && [ -f "$G/quote_attest.bin" ]; then
    # the AK as TPM2B_PUBLIC (tpm2_checkquote reads PEM or TPM2B, not a bare TPMT_PUBLIC) and
    # the 24 SHA-1 PCRs in tpm2_quote -o's layout (TPML_PCR_SELECTION, a u32 count, then
    # TPML_DIGESTs of 8, as tpm2-tools writes them: host-endian structs)
    python3 -c 'import json, struct, sys
g = sys.argv[1]
t = open(g + "/ak_public.tpmt", "rb").read()
open("g.ak", "wb").write(struct.pack(">H", len(t)) + t)
pcrs = json.load(open(g + "/pcrs_sha1.json"))
vals = [bytes.fromhex(pcrs[str(i)]) for i in range(24)]
out = (struct.pack("<IHB", 1, 0x0004, 3) + b"\xff\xff\xff").ljust(4 + 16 * 8, b"\0")
out += struct.pack("<I", 3)
for k in range(0, 24, 8):
    out += struct.pack("<I", 8) + b"".join(struct.pack("<H", 20) + v.ljust(64, b"\0") for v in vals[k:k + 8])
open("g.pcrs", "wb").write(out)' "$G" || exit 1
    both "GCP quote, its 24 SHA-1 PCRs" 0 0 "$G/quote_attest.bin" "$G/quote_sig.tpmt" g.ak g.pcrs - sha1
    has ours.json '"signature_scheme": "rsassa"'
    # PCR 0's value (51c323de...) changed: byte 5 of the first digest
    flip g.pcrs g-bad.pcrs $((4 + 16 * 8 + 4 + 4 + 2 + 5))
    both "GCP quote, PCR 0 changed" 1 1 "$G/quote_attest.bin" "$G/quote_sig.tpmt" g.ak g-bad.pcrs - sha1
    has ours.json TPM_PCR_DIGEST_MISMATCH
else
    echo "skip (part): no shared vectors (CVMATTEST_VECTORS) with tpm/gcp-windows-quote-goattestation"
fi

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
