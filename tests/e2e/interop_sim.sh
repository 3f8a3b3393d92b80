#!/bin/sh
# The simulated TEE's evidence, parsed and verified without cvmattest's code: by
# tests/interop/snp_check.py and tdx_check.py, written from the vendors' layouts with
# python3-cryptography and the openssl CLI. A layout mistake made alike in the simulator and
# in cvmattest's parser passes every other sim test; here it fails.
# SEV-SNP: Milan v2 and Turin v5 (VCEK), Genoa v3 (VCEK) and v4 (VLEK), Milan v5 VLEK under a
# revoked ASVK: the ARK -> ASK/ASVK -> VCEK/VLEK chain (openssl verify, RSA-PSS by
# cryptography), the CRL (openssl crl, openssl verify -crl_check), the report signature,
# REPORTED_TCB against the leaf's SPL extensions, chip_id against hwID, csp_id.
# TDX: v4 and v5 quotes at four TCB statuses (one a TDX 1.5 relaunch), and a revoked PCK: quote
# signature, QE report signature, the attestation key binding, the PCK chain and CRLs
# (openssl verify -x509_strict -crl_check_all), PPID/FMSPC from the PCK's SGX extension, the
# TCB Info and QE Identity signatures, the TCB evaluation.
# Then every value both read is compared with `cvmattest verify --json`'s claims; and each
# kind of check is shown to fail, on a flipped byte or a changed value.
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
. "$SRC/tests/e2e/lib/py.sh"
py_with cryptography ||
    { echo "interop_sim: SKIP: no python3 with cryptography (make deps: python3-cryptography)" >&2; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "interop_sim: SKIP: openssl not installed (make deps: openssl)" >&2; exit 77; }
T=$(mktemp -d /tmp/cvma-e2e-interop-sim.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
snp_check() { "$PY" "$SRC/tests/interop/snp_check.py" "$@"; }
tdx_check() { "$PY" "$SRC/tests/interop/tdx_check.py" "$@"; }
fail() { echo "FAIL $*"; }

# The SEV-SNP and TDX halves run side by side, each with its own scratch files $W.*; the
# FAIL lines of their logs are counted at the end.
# pos NAME CMD...: the independent check passes (every line "ok").
pos() {
    name=$1; shift
    if "$@" >"$W.out" 2>&1; then echo "ok   $name ($(grep -c '^ok' "$W.out") checks)"
    else fail "$name:"; grep -v '^ok' "$W.out" | sed 's/^/     /'; fi
}
# neg NAME PATTERN CMD...: the check fails (exit 1), and each of its FAIL lines matches PATTERN
# (grep -E): what was changed is caught, by the check meant to catch it. Prints them.
neg() {
    name=$1; pat=$2; shift 2
    "$@" >"$W.out" 2>&1; rc=$?
    grep '^FAIL' "$W.out" >"$W.fails"
    if [ $rc = 1 ] && [ -s "$W.fails" ] && ! grep -Evq -- "$pat" "$W.fails"; then
        echo "ok   $name, caught by:"; cut -c1-110 "$W.fails" | sed 's/^/       /'
    else fail "$name: exit $rc, want 1 and FAIL lines matching $pat:"; sed 's/^/     /' "$W.out"; fi
}
# verify snp|tdx DIR OUT: cvmattest verify --json on the simulator's evidence and trust root
verify() {
    if [ "$1" = snp ]; then
        $CVM verify "$2/report.bin" --collateral "$2" --trust-root "$2/ark.pem" --offline \
            --cache-dir "$W.cache" --json >"$3"
    else
        $CVM verify "$2/quote.bin" --collateral "$2" --trust-root "$2/root_ca.pem" --offline \
            --cache-dir "$W.cache" --json >"$3"
    fi
}
# edit FILE OFFSET HEX|flip: write HEX at OFFSET, or flip bit 0 of the byte there
edit() {
    "$PY" - "$@" <<'EOF'
import sys
path, off, what = sys.argv[1], int(sys.argv[2], 0), sys.argv[3]
b = bytearray(open(path, "rb").read())
if what == "flip":
    b[off] ^= 1
else:
    b[off:off + len(what) // 2] = bytes.fromhex(what)
open(path, "wb").write(b)
EOF
}
# resign REPORT KEY: sign an SNP report's bytes 0..0x29F again (test keys of --keep-keys)
resign() {
    "$PY" - "$@" <<'EOF'
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
rep = bytearray(open(sys.argv[1], "rb").read())
key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), password=None)
r, s = decode_dss_signature(key.sign(bytes(rep[:0x2A0]), ec.ECDSA(hashes.SHA384())))
rep[0x2A0:0x2E8], rep[0x2E8:0x330] = r.to_bytes(72, "little"), s.to_bytes(72, "little")
open(sys.argv[1], "wb").write(rep)
EOF
}
# bad DIR: $W.bad, a copy of DIR to change
bad() { rm -rf "$W.bad"; cp -r "$1" "$W.bad"; }
zeros() { printf '0%.0s' $(seq "$1"); }

snp_half() {
    W=$T/snp
    M=$(printf '5e%.0s' $(seq 48))
    RD=0123456789abcdeffedcba9876543210
    HD=$(printf 'c3%.0s' $(seq 32))
    CHIP=$(printf '%02x' $(seq 101 164))
    CHIP8=a1b2c3d4e5f60718
    # name product version options; the simulator's runs (RSA-4096 keys) go together
    for v in \
        "milan-v2 milan 2 --tcb 2,0,7,200 --chip-id $CHIP --measurement $M --report-data $RD --host-data $HD --keep-keys" \
        "genoa-v3 genoa 3 --vmpl 2" \
        "genoa-v4-vlek genoa 4 --vlek" \
        "turin-v5 turin 5 --tcb 5,1,9,80 --fmc 4 --chip-id $CHIP8 --debug" \
        "milan-v5-vlek-revoked milan 5 --vlek --revoke-ask"; do
        # shellcheck disable=SC2086
        set -- $v; n=$1; p=$2; ver=$3; shift 3
        $CVM sim snp --out "$T/$n" --product "$p" --version "$ver" "$@" >/dev/null 2>"$T/$n.err" &
    done
    wait
    for n in milan-v2 genoa-v3 genoa-v4-vlek turin-v5 milan-v5-vlek-revoked; do
        [ -s "$T/$n/report.bin" ] || fail "sim snp $n: $(cat "$T/$n.err")"
    done

    verify snp "$T/milan-v2" "$T/milan-v2.json"
    pos "snp milan v2 VCEK, claims agree" snp_check "$T/milan-v2" --product milan \
        --claims "$T/milan-v2.json" --expect version=2 --expect measurement="$M" \
        --expect report_data="$RD$(zeros 96)" --expect host_data="$HD" --expect chip_id="$CHIP" \
        --expect reported_bootloader=2 --expect reported_tee=0 --expect reported_snp=7 \
        --expect reported_microcode=200 --expect signing_key=0 --expect debug=False --expect vmpl=0
    verify snp "$T/genoa-v3" "$T/genoa-v3.json"
    pos "snp genoa v3 VCEK, claims agree" snp_check "$T/genoa-v3" --product genoa \
        --claims "$T/genoa-v3.json" --expect version=3 --expect vmpl=2 --expect reported_bootloader=3 \
        --expect reported_tee=0 --expect reported_snp=8 --expect reported_microcode=115 --expect signing_key=0
    verify snp "$T/genoa-v4-vlek" "$T/genoa-v4-vlek.json"
    pos "snp genoa v4 VLEK, claims agree" snp_check "$T/genoa-v4-vlek" --product genoa \
        --claims "$T/genoa-v4-vlek.json" --expect version=4 --expect signing_key=1
    verify snp "$T/turin-v5" "$T/turin-v5.json" # refused (DEBUG), with its claims
    pos "snp turin v5 VCEK, claims agree" snp_check "$T/turin-v5" --product turin \
        --claims "$T/turin-v5.json" --expect version=5 --expect chip_id="$CHIP8$(zeros 112)" \
        --expect debug=True --expect reported_fmc=4 --expect reported_bootloader=5 \
        --expect reported_tee=1 --expect reported_snp=9 --expect reported_microcode=80
    # the revoked ASVK: openssl and cryptography find its serial in the ARK's CRL, every other
    # check passes, and cvmattest refuses the report for it
    neg "snp revoked ASVK" 'crl_check: ASVK not revoked|does not list the ASVK' \
        snp_check "$T/milan-v5-vlek-revoked" --product milan
    verify snp "$T/milan-v5-vlek-revoked" "$W.rev.json"; rc=$?
    if [ $rc = 1 ] && grep -q '"code": "CERT_REVOKED"' "$W.rev.json"; then
        echo "ok   cvmattest verify refuses it too: CERT_REVOKED"
    else fail "cvmattest verify on the revoked ASVK: exit $rc, $(head -c 300 "$W.rev.json")"; fi

    # Each check fails on the change it exists for.
    bad "$T/milan-v2"; edit "$W.bad/report.bin" 0x90 flip # MEASUREMENT, signature unchanged
    neg "snp: a flipped MEASUREMENT byte" '^FAIL report signature' snp_check "$W.bad" --product milan
    bad "$T/milan-v2"; edit "$W.bad/report.bin" 0x186 08; resign "$W.bad/report.bin" "$W.bad/vcek-key.pem"
    neg "snp: REPORTED_TCB SNP_SPL 8 (byte 6), signed again; the VCEK says 7" \
        'REPORTED_TCB = the VCEK|current, committed and launch' snp_check "$W.bad" --product milan
    bad "$T/milan-v2"; edit "$W.bad/report.bin" 0x1A0 ff; resign "$W.bad/report.bin" "$W.bad/vcek-key.pem"
    neg "snp: another CHIP_ID, signed again" '^FAIL hwID = chip_id' snp_check "$W.bad" --product milan
    bad "$T/milan-v2"; edit "$W.bad/report.bin" 0x18B 01; resign "$W.bad/report.bin" "$W.bad/vcek-key.pem"
    neg "snp: byte 0x18B set in a v2 report (reserved there), signed again" \
        '^FAIL reserved bytes of the v2' snp_check "$W.bad" --product milan
    bad "$T/milan-v2"; edit "$W.bad/crl.der" -5 flip # in the CRL's signature
    neg "snp: a flipped CRL signature byte" '^FAIL openssl (crl: CRL signed|verify -crl_check)' \
        snp_check "$W.bad" --product milan
    bad "$T/milan-v2"; edit "$W.bad/vcek.der" 0x200 flip
    openssl x509 -inform DER -in "$W.bad/vcek.der" -out "$W.bad/vcek.pem"
    neg "snp: a flipped VCEK byte" '^FAIL (VCEK signed by ASK|openssl verify ARK)' \
        snp_check "$W.bad" --product milan
    neg "snp: a Genoa v3 report taken for a Turin one" \
        'CPUID|productName|subject CNs|structVersion|REPORTED_TCB|hwID|chip_id' \
        snp_check "$T/genoa-v3" --product turin
    sed 's/"measurement": "5e/"measurement": "5f/' "$T/milan-v2.json" >"$W.bad.json"
    neg "snp: cvmattest's claims with another measurement" \
        '^FAIL claims: (claims|snp)\.measurement' snp_check "$T/milan-v2" --product milan --claims "$W.bad.json"
}

tdx_half() {
    W=$T/tdx
    MRTD=$(printf '7d%.0s' $(seq 48))
    R0=$(printf '10%.0s' $(seq 48)); R1=$(printf '11%.0s' $(seq 48)); R3=$(printf '13%.0s' $(seq 48))
    TRD=$(printf 'ab%.0s' $(seq 64))
    CFG=$(printf 'cf%.0s' $(seq 48))
    PPID=00112233445566778899aabbccddeeff
    FMSPC=00906ed50000
    V4=$T/tdx-v4
    $CVM sim tdx --out "$V4" --mr-td "$MRTD" --rtmr 0="$R0" --rtmr 1="$R1" --rtmr 3="$R3" \
        --report-data "$TRD" --mr-config-id "$CFG" --ppid "$PPID" --fmspc "$FMSPC" >/dev/null ||
        fail "sim tdx v4"
    verify tdx "$V4" "$V4.json"
    pos "tdx v4 UpToDate, claims agree" tdx_check "$V4" --claims "$V4.json" \
        --expect version=4 --expect mr_td="$MRTD" --expect rtmr0="$R0" --expect rtmr1="$R1" \
        --expect rtmr3="$R3" --expect report_data="$TRD" --expect mr_config_id="$CFG" \
        --expect ppid="$PPID" --expect fmspc="$FMSPC" --expect tcb_status=UpToDate --expect debug=False
    for s in "4 swhardening SWHardeningNeeded --debug" "5 outofdate OutOfDate" "4 revoked Revoked" \
        "5 relaunch TDRelaunchAdvised"; do
        # shellcheck disable=SC2086
        set -- $s; ver=$1; st=$2; want=$3; shift 3
        d=$T/tdx-$st
        $CVM sim tdx --out "$d" --version "$ver" --tcb-status "$st" "$@" >/dev/null || fail "sim tdx $st"
        verify tdx "$d" "$d.json"
        dbg=False; [ $# -gt 0 ] && dbg=True
        pos "tdx v$ver $want${1:+ DEBUG}, claims agree" tdx_check "$d" --claims "$d.json" \
            --expect version="$ver" --expect tcb_status="$want" --expect debug=$dbg
    done
    $CVM sim tdx --out "$T/tdx-rpck" --revoke-pck >/dev/null || fail "sim tdx --revoke-pck"
    neg "tdx revoked PCK" '^FAIL openssl verify -x509_strict -crl_check_all: PCK' tdx_check "$T/tdx-rpck"

    # Each check fails on the change it exists for. v4: body at 0x30, signature data at 0x27C
    # (QE report at +0x86, its reserved bytes at +0x14, QE auth data at +0x248); v5 body 0x36.
    bad "$V4"; edit "$W.bad/quote.bin" $((0x30 + 0x88)) flip
    neg "tdx: a flipped MRTD byte" '^FAIL quote signature' tdx_check "$W.bad"
    bad "$T/tdx-relaunch"; edit "$W.bad/quote.bin" $((0x36 + 0x248)) flip
    neg "tdx v5: a flipped TEE_TCB_SVN2 byte (TD report 1.5)" '^FAIL quote signature' tdx_check "$W.bad"
    bad "$V4"; edit "$W.bad/quote.bin" $((0x27C + 0x86 + 0x20)) flip
    neg "tdx: a flipped reserved QE report byte" '^FAIL QE report signature' tdx_check "$W.bad"
    bad "$V4"; edit "$W.bad/quote.bin" $((0x27C + 0x248)) flip
    neg "tdx: a flipped QE auth data byte" '^FAIL QE REPORT_DATA = SHA-256' tdx_check "$W.bad"
    # TCB Info is signed over the exact bytes of tcbInfo: a space inside breaks the signature,
    # one before the value changes nothing
    bad "$V4"; sed 's/"tcbInfo":{"id":"TDX",/"tcbInfo":{"id":"TDX", /' "$V4/tcb_info.json" >"$W.bad/tcb_info.json"
    neg "tdx: a space inside tcbInfo" '^FAIL tcb_info.json: ECDSA' tdx_check "$W.bad"
    bad "$V4"; sed 's/"tcbInfo":{/"tcbInfo": {/' "$V4/tcb_info.json" >"$W.bad/tcb_info.json"
    pos "tdx: a space before tcbInfo's value (unsigned)" tdx_check "$W.bad"
    bad "$V4"; sed 's/"isvprodid":2/"isvprodid":3/' "$V4/qe_identity.json" >"$W.bad/qe_identity.json"
    neg "tdx: QE Identity isvprodid 3" '^FAIL (qe_identity.json: ECDSA|QE isv_prod_id)' tdx_check "$W.bad"
    sed "s/$R1/$R0/" "$V4.json" >"$W.bad.json"
    neg "tdx: cvmattest's claims with another RTMR 1" '^FAIL claims: tdx\.rtmr' \
        tdx_check "$V4" --claims "$W.bad.json"
}

snp_half >"$T/snp.log" 2>&1 &
tdx_half >"$T/tdx.log" 2>&1
wait
cat "$T/snp.log" "$T/tdx.log"
fails=$(cat "$T/snp.log" "$T/tdx.log" | grep -c '^FAIL')
if [ "$fails" -eq 0 ]; then echo "PASS"; else echo "FAILED: $fails"; exit 1; fi
