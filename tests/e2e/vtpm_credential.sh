#!/bin/sh
# The credential-activation round trip (docs/vtpm-binding.md) against a real software TPM
# (swtpm on local TCP ports): `tpm make-credential` (TPM2_MakeCredential in software) for the
# TPM's EK and an AK, TPM2_ActivateCredential (tpm2-tools) gives the secret back; a credential
# made for another AK's name is not recovered by the TPM with this AK.
set -u
CVM=${CVMATTEST_BIN:?}
for p in swtpm tpm2_createek tpm2_activatecredential tpm2_policysecret python3 cmp; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed (make deps installs swtpm, swtpm-tools, tpm2-tools)"; exit 77; }
done
. "$(dirname "$0")/lib/swtpm.sh"
fails=0
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi
}
cd "$T" || exit 1

swtpm_ek_ak ak.pub
t tpm2_createak -C ek.ctx -c ak2.ctx -G rsa -g sha256 -s rsassa -u ak2.pub -n ak2.name

# activate CRED OUT: TPM2_ActivateCredential with the AK and the EK (its policy: PolicySecret
# of the endorsement hierarchy).
activate() {
    tpm2_flushcontext -s >/dev/null 2>&1
    tpm2_startauthsession --policy-session -S s.ctx >/dev/null 2>&1 &&
        tpm2_policysecret -S s.ctx -c e >/dev/null 2>&1 &&
        tpm2_activatecredential -c ak.ctx -C ek.ctx -i "$1" -o "$2" -P "session:s.ctx" >act.out 2>&1
    r=$?
    tpm2_flushcontext s.ctx >/dev/null 2>&1
    tpm2_flushcontext -t >/dev/null 2>&1
    return $r
}

$CVM tpm make-credential --ek ek.pub --ak ak.pub --out cred --secret-out secret
check "make-credential for the EK and the AK" 0 $?
[ "$(wc -c <secret)" = 32 ] && echo "ok   a 32-byte secret" || { echo "FAIL: secret size"; fails=$((fails + 1)); }
activate cred got
check "the TPM activates the credential" 0 $?
cmp -s got secret && echo "ok   the TPM gave the secret back" || { echo "FAIL: activated secret differs"; cat act.out; fails=$((fails + 1)); }

# A credential for another AK's name: this AK cannot recover it.
$CVM tpm make-credential --ek ek.pub --ak ak2.pub --out cred2 --secret-out secret2
check "make-credential for another AK" 0 $?
activate cred2 got2
r=$?
[ $r != 0 ] && echo "ok   a credential for another AK is not activated" ||
    { cmp -s got2 secret2 && { echo "FAIL: activated a credential made for another AK"; fails=$((fails + 1)); } || echo "ok   another AK's credential gives no secret"; }

# The EK as a TPMT_PUBLIC (the SVSM manifest form) works the same.
python3 -c 'import sys; b = open("ek.pub", "rb").read(); open("ek.tpmt", "wb").write(b[2:])'
$CVM tpm make-credential --ek ek.tpmt --ak ak.pub --out cred3 --secret-out secret3
check "make-credential with a TPMT_PUBLIC EK" 0 $?
activate cred3 got3
check "the TPM activates it" 0 $?
cmp -s got3 secret3 && echo "ok   secret back (TPMT_PUBLIC EK)" || { echo "FAIL: secret3"; fails=$((fails + 1)); }

# Usage errors.
$CVM tpm make-credential --ek ek.pub --out x --secret-out y 2>/dev/null
check "make-credential without --ak" 2 $?
$CVM tpm make-credential --ek ak.name --ak ak.pub --out x --secret-out y 2>/dev/null
check "make-credential with an EK that is no public area" 2 $?
# A key that is not an EK: the seed of a credential made for it could be decrypted outside
# ActivateCredential (TPM2_RSA_Decrypt with an unrestricted key), so none is made.
for clear in 0x10000 0x20000 0x2; do
    python3 -c 'import sys, struct; b = bytearray(open("ek.tpmt", "rb").read())
a = struct.unpack(">I", b[4:8])[0] & ~int(sys.argv[1], 16)
b[4:8] = struct.pack(">I", a); open("ek.notek", "wb").write(b)' "$clear"
    $CVM tpm make-credential --ek ek.notek --ak ak.pub --out x --secret-out y 2>err
    check "make-credential for an EK without attribute $clear" 2 $?
    grep -q "is not an endorsement key" err && [ ! -e x ] && [ ! -e y ] &&
        echo "ok   said why, wrote nothing" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }
done

# An EK whose public exponent is not the template's 65537 (0 in its public area): under
# exponent 1 the encrypted seed is the padded seed itself, so no credential is made.
# TPMT_PUBLIC: type, nameAlg, objectAttributes, authPolicy (2 + 32), symmetric (6), scheme
# (2), keyBits (2), then the exponent.
for e in 1 3 65536; do
    python3 -c 'import sys, struct; b = bytearray(open("ek.tpmt", "rb").read())
o = 8 + 2 + struct.unpack(">H", b[8:10])[0] + 6 + 2 + 2
b[o:o + 4] = struct.pack(">I", int(sys.argv[1])); open("ek.exp", "wb").write(b)' "$e"
    $CVM tpm make-credential --ek ek.exp --ak ak.pub --out x --secret-out y 2>err
    check "make-credential for an EK of exponent $e" 2 $?
    grep -q "has public exponent $e: an EK's is 65537" err && [ ! -e x ] && [ ! -e y ] &&
        echo "ok   said why, wrote nothing" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }
done
python3 -c 'import struct; b = bytearray(open("ek.tpmt", "rb").read())
o = 8 + 2 + struct.unpack(">H", b[8:10])[0] + 6 + 2 + 2
b[o:o + 4] = struct.pack(">I", 65537); open("ek.exp", "wb").write(b)'
$CVM tpm make-credential --ek ek.exp --ak ak.pub --out cred6 --secret-out secret6
check "make-credential for an EK of exponent 65537 spelled out" 0 $?

# An EK whose scheme is not the template's NULL (0x0010): a TPM makes no restricted
# decryption key with a scheme, so this is no TPM's EK. The scheme follows symmetric.
python3 -c 'import struct; b = bytearray(open("ek.tpmt", "rb").read())
o = 8 + 2 + struct.unpack(">H", b[8:10])[0] + 6
assert b[o:o + 2] == b"\x00\x10"
b[o:o + 2] = struct.pack(">H", 0x0015); open("ek.scheme", "wb").write(b)'
$CVM tpm make-credential --ek ek.scheme --ak ak.pub --out x --secret-out y 2>err
check "make-credential for an EK whose scheme is RSAES" 2 $?
grep -q "has scheme 0x0015: an EK's is NULL" err && [ ! -e x ] && [ ! -e y ] &&
    echo "ok   said why, wrote nothing" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }

# The field that keeps a credential from being made is named: an AK whose name algorithm is
# TPM_ALG_NULL has no name (the credential is made for it); an EK with another name algorithm
# than template L-1's SHA-256, or whose modulus starts with a zero byte (a key shorter than
# the 2048 bits it declares).
python3 -c 'b = bytearray(open("ak.pub", "rb").read()); b[4:6] = b"\x00\x10"
open("ak.nullname", "wb").write(b)'
$CVM tpm make-credential --ek ek.tpmt --ak ak.nullname --out x --secret-out y 2>err
check "make-credential for an AK whose name algorithm is NULL" 2 $?
grep -q "ak.nullname' has name algorithm 0x0010, which gives it no TPM name" err && [ ! -e x ] &&
    echo "ok   said why, wrote nothing" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }
for alg in 0004 000c; do
    python3 -c 'import sys; b = bytearray(open("ek.tpmt", "rb").read())
b[2:4] = bytes.fromhex(sys.argv[1]); open("ek.name", "wb").write(b)' "$alg"
    $CVM tpm make-credential --ek ek.name --ak ak.pub --out x --secret-out y 2>err
    check "make-credential for an EK of name algorithm 0x$alg" 2 $?
    grep -q "its name algorithm is 0x$alg, not SHA-256" err && [ ! -e x ] &&
        echo "ok   said why, wrote nothing" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }
done
python3 -c 'b = bytearray(open("ek.tpmt", "rb").read()); b[-256] = 0
open("ek.lead0", "wb").write(b)'
$CVM tpm make-credential --ek ek.lead0 --ak ak.pub --out x --secret-out y 2>err
check "make-credential for an EK whose modulus starts with 0x00" 2 $?
grep -q "its modulus starts with a zero byte" err && [ ! -e x ] &&
    echo "ok   said why, wrote nothing" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }

# An output that cannot be written: exit 2 naming it, and no credential left without its
# secret (nor a secret without its credential).
$CVM tpm make-credential --ek ek.pub --ak ak.pub --out nodir/c4 --secret-out s4 2>err
check "make-credential, --out in a missing directory" 2 $?
grep -q "cannot write --out 'nodir/c4': No such file or directory" err && [ ! -e s4 ] &&
    echo "ok   named --out, wrote no secret" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }
$CVM tpm make-credential --ek ek.pub --ak ak.pub --out c4 --secret-out nodir/s4 2>err
check "make-credential, --secret-out in a missing directory" 2 $?
grep -q "cannot write --secret-out 'nodir/s4': No such file or directory" err && [ ! -e c4 ] &&
    echo "ok   named --secret-out, left no credential" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }
# --out and --secret-out naming one file in two spellings: the secret would replace the
# credential.
mkdir d && ln -s d dl
for pair in "c5 ./c5" "d/c5 dl/c5" "d/c5 d/../d/c5"; do
    set -- $pair
    $CVM tpm make-credential --ek ek.pub --ak ak.pub --out "$1" --secret-out "$2" 2>err
    check "make-credential --out $1 --secret-out $2" 2 $?
    grep -q "name one file" err && [ ! -e c5 ] && [ ! -e d/c5 ] &&
        echo "ok   said why, wrote nothing" || { echo "FAIL: $(cat err)"; fails=$((fails + 1)); }
done

[ "$fails" = 0 ] && echo "all credential checks passed"
[ "$fails" = 0 ]
