#!/bin/sh
# `cvmattest collateral fetch` on evidence that carries a hardware report inside (docs/cli.md):
# it fetches what that report needs, and `verify FILE --collateral DIR --offline` then decides
# from DIR alone. Against the local stand-ins tests/kds_server.py and tests/pcs_server.py on
# 127.0.0.1, on evidence built here from `cvmattest sim` (an RSA AK as the runtime claims'
# HCLAkPub, a TPM quote signed with it):
#  - azure-snp, Trustee's JSON evidence carrying its VCEK: the chain and the CRL are fetched
#    (KDS is not asked for the VCEK, and no vcek.der is written: verify checks the evidence's);
#  - azure-snp as a bundle (a bare HCL report, no VCEK): the VCEK is fetched and written too;
#  - azure-tdx (Trustee's JSON with its td_quote): the TDX collateral of the TD quote;
#  - svsm-vtpm (a bundle around the SVSM's SEV-SNP report): that report's collateral;
#  - a bare TPM quote: exit 2, no vendor collateral, nothing written;
#  - the real Azure SEV-SNP sample (when the shared vectors are there): KDS is asked for the
#    Milan chain and CRL, not the VCEK it carries; the shared samples hold no AMD CRL, so the
#    stand-in answers 404 for it and the fetch says so (exit 3), never "no vendor collateral".
# Needs CVMATTEST_BIN, CVMATTEST_SRC (ctest sets them), python3 and openssl.
set -u

skip() { echo "collateral_fetch_kinds: SKIP: $*" >&2; exit 77; }
fail() { echo "collateral_fetch_kinds: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
command -v openssl >/dev/null 2>&1 || skip "openssl not installed"

# Loopback only, whatever proxy the environment names.
no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

CVM=$CVMATTEST_BIN
TMP=$(mktemp -d /tmp/cvma-e2e-collk.XXXXXX) || fail "mktemp"
KDS_PID=
PCS_PID=
cleanup() {
    for p in $KDS_PID $PCS_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
. "$CVMATTEST_SRC/tests/e2e/lib/pcs.sh"

# kds_start DIR LOG ROUTE...: a KDS stand-in serving DIR; sets KDS and KDS_PID.
kds_start() {
    d=$1; l=$2; shift 2
    rm -f "$l.port"
    python3 "$CVMATTEST_SRC/tests/kds_server.py" --max-seconds 120 --dir "$d" --log "$l" "$@" \
        >"$l.port" &
    KDS_PID=$!
    i=0
    while [ ! -s "$l.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$l.port" ] || fail "kds_server.py did not report a port"
    KDS="http://127.0.0.1:$(head -n 1 "$l.port")"
}
kds_stop() { kill "$KDS_PID" 2>/dev/null; wait "$KDS_PID" 2>/dev/null; KDS_PID=; }
# expect NAME WANT_RC FILE: the last command's exit code ($rc) and its output in FILE.
expect() { [ "$rc" -eq "$2" ] || { cat "$3" >&2; fail "$1: exit $rc, want $2"; }; }
# affirming NAME FILE: an offline verification from the fetched directory (exit 0, affirming).
affirming() {
    expect "$1" 0 "$2"
    grep -q 'status: *affirming' "$2" || { cat "$2" >&2; fail "$1: not affirming"; }
}
# vtpm_verified NAME FILE: the same for an azure kind with no policy: every check passed, and
# the one warning is VTPM_PARAVISOR_NOT_PINNED (no policy pins the paravisor's launch).
vtpm_verified() {
    expect "$1" 0 "$2"
    grep -q 'status: *warning' "$2" && grep -q '^  warning VTPM_PARAVISOR_NOT_PINNED:' "$2" &&
        [ "$(grep -c '^  \(warning\|error\)' "$2")" = 1 ] ||
        { cat "$2" >&2; fail "$1: not verified with VTPM_PARAVISOR_NOT_PINNED alone"; }
}

# ---- the evidence ----------------------------------------------------------------------
# mk.py claims AK_PEM OUT_CLAIMS OUT_RD: runtime claims naming the RSA key AK_PEM as HCLAkPub;
#   OUT_RD gets their SHA-256 in hex (the REPORT_DATA of the hardware report vouching for them)
# mk.py hcl snp|tdx HW CLAIMS OUT: an HCL report: header, hardware report (HW, an SEV-SNP
#   report; or for tdx a TDREPORT holding the REPORTDATA and MRTD of the TD quote HW), runtime
#   data header, claims
# mk.py quote NONCE_HEX OUT_MSG OUT_PCRS: a TPMS_ATTEST quoting 24 zero SHA-256 PCRs
# mk.py tsig SIG OUT: the raw RSASSA-SHA256 signature SIG as a TPMT_SIGNATURE
# mk.py json HCL MSG TSIG PCRS VCEK|- TDQUOTE|- OUT: Trustee's JSON evidence
# mk.py bundle KIND OUT ROLE=FILE...: a cvmattest bundle
cat >"$TMP/mk.py" <<'PY'
import base64, hashlib, json, struct, subprocess, sys
a = sys.argv
rd = lambda p: open(p, "rb").read()
b64 = lambda p: base64.b64encode(rd(p)).decode()
if a[1] == "claims":
    mod = subprocess.run(["openssl", "rsa", "-in", a[2], "-noout", "-modulus"],
                         capture_output=True, check=True, text=True).stdout.strip()
    n = base64.urlsafe_b64encode(bytes.fromhex(mod.split("=", 1)[1])).rstrip(b"=").decode()
    claims = json.dumps({"keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA",
                                   "e": "AQAB", "n": n}],
                         "vm-configuration": {"secure-boot": True, "tpm-enabled": True},
                         "user-data": "0" * 128}, separators=(",", ":")).encode()
    open(a[3], "wb").write(claims)
    open(a[4], "w").write(hashlib.sha256(claims).hexdigest())
elif a[1] == "hcl":
    hw, claims = rd(a[3]), rd(a[4])
    if a[2] == "tdx":
        td = hw[48:]  # the TD quote's TD report: MRTD at 136, REPORTDATA at 520
        tdr = bytearray(1184)
        tdr[0] = 0x81
        tdr[128:192] = td[520:584]
        tdr[528:576] = td[136:184]
        hw, rtype = bytes(tdr), 4
    else:
        hw, rtype = hw[:1184], 2
    body = hw + struct.pack("<IIIII", 20 + len(claims), 1, rtype, 1, len(claims)) + claims
    open(a[5], "wb").write(b"HCLA" + struct.pack("<III", 1, 32 + len(body), 2) + bytes(16) + body)
elif a[1] == "quote":
    nonce = bytes.fromhex(a[2])
    pcrs = [bytes(32)] * 24
    msg = (struct.pack(">IHH", 0xFF544347, 0x8018, 34) + b"\x00\x0b" + bytes(32)
           + struct.pack(">H", len(nonce)) + nonce + struct.pack(">QIIBQ", 1000, 1, 1, 1, 1)
           + struct.pack(">IHB", 1, 0x000B, 3) + b"\xff\xff\xff"
           + struct.pack(">H", 32) + hashlib.sha256(b"".join(pcrs)).digest())
    open(a[3], "wb").write(msg)
    open(a[4], "w").write(json.dumps([p.hex() for p in pcrs]))
elif a[1] == "tsig":
    sig = rd(a[2])
    open(a[3], "wb").write(struct.pack(">HHH", 0x0014, 0x000B, len(sig)) + sig)
elif a[1] == "json":
    ev = {"version": 1, "hcl_report": base64.urlsafe_b64encode(rd(a[2])).decode(),
          "tpm_quote": {"message": rd(a[3]).hex(), "signature": rd(a[4]).hex(),
                        "pcrs": json.load(open(a[5]))}}
    if a[6] != "-":
        ev["vcek"] = b64(a[6])
    if a[7] != "-":
        ev["td_quote"] = b64(a[7])
    json.dump(ev, open(a[8], "w"))
elif a[1] == "bundle":
    parts = [{"role": r, "data": b64(f)} for r, f in (x.split("=", 1) for x in a[4:])]
    json.dump({"cvmattest_bundle": 1, "kind": a[2], "parts": parts}, open(a[3], "w"))
PY
MK="python3 $TMP/mk.py"
cd "$TMP" || fail "cd"
NONCE=$(printf '%064x' 7)
CHIP=$(printf 'cd%.0s' $(seq 64))
openssl genrsa -out ak.pem 2048 2>/dev/null || fail "openssl genrsa"
$MK claims ak.pem claims.json rd.hex || fail "claims"
"$CVM" sim snp --out s --chip-id "$CHIP" --report-data "$(cat rd.hex)" >/dev/null || fail "sim snp"
"$CVM" sim tdx --out t --report-data "$(cat rd.hex)" >/dev/null || fail "sim tdx"
$MK quote "$NONCE" q.msg q.pcrs && openssl dgst -sha256 -sign ak.pem -out q.raw q.msg &&
    $MK tsig q.raw q.sig || fail "quote"
$MK hcl snp s/report.bin claims.json hcl-snp.bin && $MK hcl tdx t/quote.bin claims.json hcl-tdx.bin ||
    fail "hcl"
$MK json hcl-snp.bin q.msg q.sig q.pcrs s/vcek.der - azure-snp.json &&
    $MK json hcl-tdx.bin q.msg q.sig q.pcrs - t/quote.bin azure-tdx.json &&
    $MK bundle azure-snp azure-snp-bundle.json evidence=hcl-snp.bin tpm_quote=q.msg tpm_signature=q.sig &&
    $MK bundle svsm-vtpm svsm.json evidence=s/report.bin svsm_manifest=q.msg &&
    $MK bundle tpm tpm.json tpm_quote=q.msg tpm_signature=q.sig || fail "evidence"
V="--offline --cache-dir $TMP/empty"

kds_start s kds.log --route "/vcek/v1/Milan/$CHIP=vcek.der" \
    --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" --route "/vcek/v1/Milan/crl=crl.der"
vcek_asked() { grep -c "^200 /vcek/v1/Milan/$CHIP" kds.log; }

# 1. azure-snp, Trustee's JSON with its VCEK: the chain and the CRL, no vcek.der.
"$CVM" collateral fetch azure-snp.json --out o1 --kds-url "$KDS" --cache-dir c1 \
    --trust-root s/ark.pem >r1 2>&1; rc=$?
expect "collateral fetch azure-snp (JSON)" 0 r1
for f in ask.pem ark.pem crl.der; do [ -s "o1/$f" ] || fail "azure-snp (JSON): no $f"; done
[ ! -e o1/vcek.der ] || fail "azure-snp (JSON): vcek.der written beside the evidence's own"
[ "$(vcek_asked)" = 0 ] || { cat kds.log >&2; fail "azure-snp (JSON): KDS asked for the VCEK it carries"; }
grep -q 'the evidence carries its VCEK' r1 || { cat r1 >&2; fail "azure-snp (JSON): no vcek.der not said"; }
"$CVM" verify azure-snp.json --nonce "$NONCE" --collateral o1 --trust-root s/ark.pem $V >r1v 2>&1; rc=$?
vtpm_verified "offline verify of azure-snp (JSON) from the fetched directory" r1v

# 2. azure-snp as a bundle (bare HCL report): the VCEK is fetched too.
"$CVM" collateral fetch azure-snp-bundle.json --out o2 --kds-url "$KDS" --cache-dir c2 \
    --trust-root s/ark.pem >r2 2>&1; rc=$?
expect "collateral fetch azure-snp (bundle)" 0 r2
for f in vcek.der ask.pem ark.pem crl.der; do [ -s "o2/$f" ] || fail "azure-snp (bundle): no $f"; done
[ "$(vcek_asked)" = 1 ] || { cat kds.log >&2; fail "azure-snp (bundle): VCEK not fetched once"; }
"$CVM" verify azure-snp-bundle.json --nonce "$NONCE" --collateral o2 --trust-root s/ark.pem $V \
    >r2v 2>&1; rc=$?
vtpm_verified "offline verify of azure-snp (bundle) from the fetched directory" r2v

# 3. svsm-vtpm: the SVSM's SEV-SNP report's collateral (which verifies that report offline).
"$CVM" collateral fetch svsm.json --out o3 --kds-url "$KDS" --cache-dir c3 \
    --trust-root s/ark.pem >r3 2>&1; rc=$?
expect "collateral fetch svsm-vtpm" 0 r3
for f in vcek.der ask.pem ark.pem crl.der; do [ -s "o3/$f" ] || fail "svsm-vtpm: no $f"; done
"$CVM" verify s/report.bin --collateral o3 --trust-root s/ark.pem $V >r3v 2>&1; rc=$?
affirming "offline verify of the svsm-vtpm report from the fetched directory" r3v

# 4. A bare TPM quote: no vendor collateral (exit 2), nothing written.
"$CVM" collateral fetch tpm.json --out o4 --kds-url "$KDS" --cache-dir c4 >r4 2>&1; rc=$?
expect "collateral fetch of a bare TPM quote" 2 r4
grep -q "is tpm evidence, not an SEV-SNP report or a TDX quote: there is no vendor collateral" r4 ||
    { cat r4 >&2; fail "bare TPM quote: not said why"; }
[ ! -e o4 ] || fail "bare TPM quote: something written"
kds_stop

# 5. azure-tdx: the TD quote's TDX collateral.
pcs_start t "$TMP/pcs.log"
"$CVM" collateral fetch azure-tdx.json --out o5 --pcs-url "$PCS" --cache-dir c5 \
    --trust-root t/root_ca.pem >r5 2>&1; rc=$?
expect "collateral fetch azure-tdx" 0 r5
for f in tcb_info.json qe_identity.json tcb_info_issuer_chain.pem qe_identity_issuer_chain.pem \
    pck_crl.der root_ca_crl.der; do
    [ -s "o5/$f" ] || fail "azure-tdx: no $f"
done
"$CVM" verify azure-tdx.json --nonce "$NONCE" --collateral o5 --trust-root t/root_ca.pem $V \
    >r5v 2>&1; rc=$?
vtpm_verified "offline verify of azure-tdx from the fetched directory" r5v

# 6. The real Azure SEV-SNP sample: KDS is asked for AMD's Milan chain and CRL only.
A=${CVMATTEST_VECTORS:-}/tpm/azure-snp-vtpm-coco-trustee/evidence-v1.json
ROOTS=${CVMATTEST_VECTORS:-}/snp/roots/ask_ark_milan.pem
if [ -n "${CVMATTEST_VECTORS:-}" ] && [ -f "$A" ] && [ -f "$ROOTS" ]; then
    kds_start "$TMP" real.log --route "/vcek/v1/Milan/cert_chain=$ROOTS"
    "$CVM" collateral fetch "$A" --out o6 --kds-url "$KDS" --cache-dir c6 >r6 2>&1; rc=$?
    expect "collateral fetch of the real azure-snp sample (no AMD CRL to serve)" 3 r6
    grep -q 'COLLATERAL_UNAVAILABLE: the AMD CRL: .*/vcek/v1/Milan/crl: HTTP 404' r6 ||
        { cat r6 >&2; fail "real azure-snp: the missing CRL not named"; }
    [ "$(grep -c '^200 /vcek/v1/Milan/cert_chain$' real.log)" = 1 ] ||
        { cat real.log >&2; fail "real azure-snp: the Milan chain not fetched once"; }
    [ "$(grep -c '^' real.log)" = 2 ] || { cat real.log >&2; fail "real azure-snp: not two requests"; }
    [ ! -e o6 ] || fail "real azure-snp: something written"
    kds_stop
else
    echo "collateral_fetch_kinds: note: shared vectors not found, the real Azure sample not tried"
fi

echo "collateral_fetch_kinds: OK"
exit 0
