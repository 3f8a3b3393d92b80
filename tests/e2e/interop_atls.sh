#!/bin/sh
# Attested TLS (docs/atls.md) against a peer that is not cvmattest: tests/interop/atls_peer.py,
# pyOpenSSL for TLS 1.3 and the RFC 8446 exporter, hashlib for the binding, python3-cryptography
# for the report signatures. Both ends of our aTLS are our own C code, so a binding mistake made
# at both ends would pass tests/e2e/atls.sh; here each direction has one end written from the
# docs alone.
# - pyOpenSSL client -> `cvmattest atls-server --sim` (SEV-SNP and TDX): the REPORT_DATA of the
#   evidence (SNP report 0x50, TDX quote body 0x208), under a signature that verifies, equals
#   SHA-512("cvmattest-atls-v1" || 0x01 || SHA-256(server leaf SPKI) || exporter || nonce) as the
#   client computes it; the DATA frame is echoed. Negative: the same check with role 0x02 or
#   another nonce fails, and a second session's exporter does not match the evidence.
# - `cvmattest atls-client` -> pyOpenSSL server whose evidence (the simulator's report or quote,
#   REPORT_DATA set and signed again in Python) binds its own exporter: accepted; bound to the
#   previous connection's exporter, with role 0x02, or to another nonce: refused.
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
. "$SRC/tests/e2e/lib/py.sh"
py_with OpenSSL cryptography ||
    { echo "interop_atls: SKIP: no python3 with pyOpenSSL and cryptography (make deps: python3-openssl, python3-cryptography)"; exit 77; }
PEER="$SRC/tests/interop/atls_peer.py"
T=$(mktemp -d /tmp/cvma-e2e-atlsint.XXXXXX) || exit 1
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
export CVMATTEST_CACHE="$T/cache"
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 1500 "$1"; echo; fails=$((fails + 1)); }; }

# started NAME: waits for "listening 127.0.0.1:PORT" in $T/NAME.out, sets $port
started() {
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/$1.out")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    echo "FAIL: $1 did not start"; cat "$T/$1.out" "$T/$1.err"; exit 1
}

$CVM sim snp --out "$T/snp" --keep-keys >/dev/null || exit 1
$CVM sim tdx --out "$T/tdx" --keep-keys >/dev/null || exit 1

# --- pyOpenSSL client, cvmattest server ---
for kind in snp tdx; do
    : >"$T/srv-$kind.out"
    $CVM atls-server --sim "$T/$kind" >"$T/srv-$kind.out" 2>"$T/srv-$kind.err" &
    pids="$pids $!"
    started "srv-$kind"
    "$PY" "$PEER" client "$port" --send hello >"$T/c-$kind.out" 2>&1
    check "$kind: pyOpenSSL finds REPORT_DATA = its own binding of the session" 0 $?
    has "$T/c-$kind.out" "signature verifies"
    has "$T/c-$kind.out" "^bound: "
    has "$T/c-$kind.out" "reply: b'echo: hello'"
    has "$T/c-$kind.out" "a second session's exporter differs"
    # the check can fail: the binding computed with the client's role byte, or a nonce other
    # than the one sent, is not the evidence's REPORT_DATA
    "$PY" "$PEER" client "$port" --role 2 >"$T/c-$kind-role.out" 2>&1
    check "$kind: the binding with role 0x02 differs" 1 $?
    has "$T/c-$kind-role.out" "^NOT BOUND"
    "$PY" "$PEER" client "$port" --other-nonce >"$T/c-$kind-nonce.out" 2>&1
    check "$kind: the binding with another nonce differs" 1 $?
    has "$T/c-$kind-nonce.out" "^NOT BOUND"
done

# --- cvmattest client, pyOpenSSL server ---
for kind in snp tdx; do
    if [ $kind = snp ]; then V="--trust-root $T/snp/ark.pem"; else V="--trust-root $T/tdx/root_ca.pem --collateral $T/tdx"; fi
    : >"$T/py-$kind.out"
    "$PY" "$PEER" server --sim "$T/$kind" good other-session role-client other-nonce \
        >"$T/py-$kind.out" 2>"$T/py-$kind.err" &
    pids="$pids $!"
    started "py-$kind"
    # shellcheck disable=SC2086 # $V: options and their values
    $CVM atls-client --connect "127.0.0.1:$port" $V --offline --send hi >"$T/a-$kind-1.out" 2>&1
    check "$kind: atls-client accepts the pyOpenSSL server's evidence bound to its session" 0 $?
    has "$T/a-$kind-1.out" "attestation 1: affirming"
    has "$T/a-$kind-1.out" "reply: echo: hi"
    n=1
    for what in "the previous connection's exporter" "role byte 0x02" "another nonce"; do
        n=$((n + 1))
        # shellcheck disable=SC2086
        $CVM atls-client --connect "127.0.0.1:$port" $V --offline >"$T/a-$kind-$n.out" 2>&1
        check "$kind: atls-client refuses evidence bound with $what" 1 $?
        has "$T/a-$kind-$n.out" NONCE_REPORT_DATA_MISMATCH
    done
    has "$T/a-$kind-2.out" ATLS_EVIDENCE_NOT_BOUND
    for _ in $(seq 50); do grep -q "^connection 4 " "$T/py-$kind.out" && break; sleep 0.1; done
    has "$T/py-$kind.out" "^connection 1 (good): closed after DATA"
    has "$T/py-$kind.out" "^connection 2 (other-session): the peer refuses: refused: NONCE_REPORT_DATA_MISMATCH"
done

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
