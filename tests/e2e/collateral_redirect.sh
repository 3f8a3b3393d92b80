#!/bin/sh
# Collateral GETs follow redirects to the same origin only (scheme, host and port:
# docs/collateral.md, "HTTP behaviour"): against two tests/kds_server.py stand-ins on
# 127.0.0.1 (A and B, on two ports) and tests/pcs_server.py, on simulated evidence:
#  - A redirects the SEV-SNP CRL to B (another port): not requested from B, exit 3, the error
#    names B's URL;
#  - another stand-in redirects it to 127.0.0.2 (another host): not requested, exit 3;
#  - a third redirects it to another path of its own: followed, affirming;
#  - the PCS stand-in redirects the TDX QE Identity to B: not requested, exit 3.
# Needs CVMATTEST_BIN, CVMATTEST_SRC (ctest sets them) and python3.
set -u

skip() { echo "collateral_redirect: SKIP: $*" >&2; exit 77; }
fail() { echo "collateral_redirect: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

no_proxy=127.0.0.1,127.0.0.2,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

CVM=$CVMATTEST_BIN
TMP=$(mktemp -d /tmp/cvma-e2e-redir.XXXXXX) || fail "mktemp"
PIDS=
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# start NAME SCRIPT ARGS...: its port goes to $port, its URL to $url.
start() {
    name=$1; script=$2; shift 2
    python3 "$CVMATTEST_SRC/tests/$script" --max-seconds 120 --log "$TMP/$name.log" "$@" \
        >"$TMP/$name.port" &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$TMP/$name.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$TMP/$name.port" ] || fail "$script ($name) did not report a port"
    port=$(head -n 1 "$TMP/$name.port")
    url="http://127.0.0.1:$port"
    touch "$TMP/$name.log"
}
expect() { # name, exit code, text the output must hold
    [ "$rc" -eq "$2" ] || { cat "$TMP/out" >&2; fail "$1: exit $rc, want $2"; }
    grep -q -- "$3" "$TMP/out" || { cat "$TMP/out" >&2; fail "$1: no '$3'"; }
}

CHIP=$(printf 'ef%.0s' $(seq 64))
"$CVM" sim snp --out "$TMP/s" --chip-id "$CHIP" >/dev/null || fail "sim snp"
CRL=/vcek/v1/Milan/crl

# B: serves everything, and must never be asked.
start b kds_server.py --dir "$TMP/s" --route "$CRL=crl.der" \
    --route "/tdx/certification/v4/qe/identity=crl.der"
B=$url

# A: the VCEK and chain; the CRL only by a redirect to B.
start a kds_server.py --dir "$TMP/s" \
    --route "/vcek/v1/Milan/$CHIP=vcek.der" --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" \
    --redirect "$CRL=$B$CRL"
A=$url
V="$CVM verify $TMP/s/report.bin --trust-root $TMP/s/ark.pem --kds-url"

# 1. To B (another port): not followed.
$V "$A" --cache-dir "$TMP/c1" >"$TMP/out" 2>&1; rc=$?
expect "redirect to another port" 3 "COLLATERAL_UNAVAILABLE"
expect "redirect to another port" 3 "another origin"
expect "redirect to another port" 3 "$B$CRL"
[ ! -s "$TMP/b.log" ] || { cat "$TMP/b.log" >&2; fail "redirect to another port: B was asked"; }

# 2. To 127.0.0.2 (another host; A's port): a second stand-in A2 redirecting there. Refused
# before any connection, so the error says why rather than "connection refused".
start a2 kds_server.py --dir "$TMP/s" \
    --route "/vcek/v1/Milan/$CHIP=vcek.der" --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" \
    --route "/moved/crl=crl.der" --redirect "$CRL=http://127.0.0.2:$port/moved/crl"
A2=$url
$V "$A2" --cache-dir "$TMP/c2" >"$TMP/out" 2>&1; rc=$?
expect "redirect to another host" 3 "another origin"
expect "redirect to another host" 3 "127.0.0.2"
grep -q "Connection refused\|Couldn't connect" "$TMP/out" && { cat "$TMP/out" >&2; fail "another host: tried"; }

# 3. A same-origin redirect is followed: A3 serves the VCEK and chain and redirects the CRL to a
# path of its own.
start a3 kds_server.py --dir "$TMP/s" \
    --route "/vcek/v1/Milan/$CHIP=vcek.der" --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" \
    --route "/moved/crl=crl.der" --redirect "$CRL=/moved/crl"
A3=$url
$V "$A3" --cache-dir "$TMP/c4" >"$TMP/out" 2>&1; rc=$?
expect "redirect to the same origin" 0 "status: *affirming"
grep -q "^200 /moved/crl\$" "$TMP/a3.log" || { cat "$TMP/a3.log" >&2; fail "same origin: not followed"; }

# 4. PCS: the QE Identity redirected to B.
"$CVM" sim tdx --out "$TMP/t" >/dev/null || fail "sim tdx"
TCB=/tdx/certification/v4/tcb
QE=/tdx/certification/v4/qe/identity
start p pcs_server.py --dir "$TMP/t" \
    --route "$TCB=tcb_info.json" --header "$TCB|TCB-Info-Issuer-Chain|tcb_info_issuer_chain.pem" \
    --redirect "$QE=$B$QE"
P=$url
"$CVM" verify "$TMP/t/quote.bin" --trust-root "$TMP/t/root_ca.pem" --pcs-url "$P" \
    --cache-dir "$TMP/c5" >"$TMP/out" 2>&1; rc=$?
expect "PCS redirect to another port" 3 "another origin"
expect "PCS redirect to another port" 3 "$B$QE"
[ ! -s "$TMP/b.log" ] || { cat "$TMP/b.log" >&2; fail "PCS redirect: B was asked"; }
echo "collateral_redirect: OK"
