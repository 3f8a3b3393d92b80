#!/bin/sh
# A TDX --collateral DIR that lacks some items (docs/collateral.md): what it gives is used as
# is, only the items it lacks come from PCS (tests/pcs_server.py) or the on-disk cache, online
# or offline; nothing it gives is replaced by a fetch. On simulated evidence (`sim tdx`):
#  - without pck_crl.der: only the PCK CRL is requested, affirming;
#  - the same offline with the cache that run filled: affirming, no request;
#  - offline with an empty cache: exit 3, naming the directory's gap and the PCK CRL URL;
#  - a garbage tcb_info.json: refused (COLLATERAL_INVALID, exit 1), not fetched instead;
#  - tcb_info.json without its issuer chain: exit 3 naming the chain, nothing fetched.
# Needs CVMATTEST_BIN, CVMATTEST_SRC (ctest sets them) and python3.
set -u

skip() { echo "tdx_collateral_dir: SKIP: $*" >&2; exit 77; }
fail() { echo "tdx_collateral_dir: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

CVM=$CVMATTEST_BIN
TMP=$(mktemp -d /tmp/cvma-e2e-tdxdir.XXXXXX) || fail "mktemp"
PCS_PID=
cleanup() {
    for p in $PCS_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$CVM" sim tdx --out "$TMP/t" >/dev/null || fail "sim tdx"
. "$CVMATTEST_SRC/tests/e2e/lib/pcs.sh"
pcs_start "$TMP/t" "$TMP/pcs.log"
touch "$TMP/pcs.log"

run() { # DIR, then more verify options
    d=$1; shift
    "$CVM" verify "$TMP/t/quote.bin" --trust-root "$TMP/t/root_ca.pem" --collateral "$d" "$@" \
        >"$TMP/out" 2>&1; rc=$?
}
expect() { # name, exit code, text the output must hold
    [ "$rc" -eq "$2" ] || { cat "$TMP/out" >&2; fail "$1: exit $rc, want $2"; }
    grep -q -- "$3" "$TMP/out" || { cat "$TMP/out" >&2; fail "$1: no '$3'"; }
}
requests() { wc -l <"$TMP/pcs.log" | tr -d ' '; }
mkdir_from() { # new dir $1 with every collateral file of sim tdx but those named after it
    d=$1; shift
    mkdir "$d" || fail "mkdir $d"
    for f in tcb_info.json qe_identity.json tcb_info_issuer_chain.pem \
        qe_identity_issuer_chain.pem pck_crl.der root_ca_crl.der; do
        case " $* " in *" $f "*) ;; *) cp "$TMP/t/$f" "$d/" || fail "cp $f" ;; esac
    done
}

# 1. No pck_crl.der: the PCK CRL alone is fetched; the rest is the directory's.
mkdir_from "$TMP/nopck" pck_crl.der
run "$TMP/nopck" --pcs-url "$PCS" --cache-dir "$TMP/c1"
expect "no pck_crl.der" 0 "status: *affirming"
[ "$(requests)" = 1 ] || { cat "$TMP/pcs.log" >&2; fail "no pck_crl.der: not one request"; }
grep -q "^200 $PCK?ca=platform&encoding=der\$" "$TMP/pcs.log" \
    || { cat "$TMP/pcs.log" >&2; fail "no pck_crl.der: not the PCK CRL fetched"; }

# 2. Offline, the cache of run 1 (same --pcs-url: part of the cache key): the PCK CRL from
#    the cache, no request.
run "$TMP/nopck" --offline --pcs-url "$PCS" --cache-dir "$TMP/c1"
expect "offline, warm cache" 0 "status: *affirming"
[ "$(requests)" = 1 ] || { cat "$TMP/pcs.log" >&2; fail "offline: a request went out"; }

# 3. Offline, nothing cached: undecided, naming the directory's gap and the URL.
run "$TMP/nopck" --offline --pcs-url "$PCS" --cache-dir "$TMP/c2"
expect "offline, cold cache" 3 "COLLATERAL_UNAVAILABLE"
expect "offline, cold cache" 3 "lacks pck_crl.der"
expect "offline, cold cache" 3 "pckcrl?ca=platform"

# 4. A garbage tcb_info.json (and no pck_crl.der): the user's file is refused, not replaced.
mkdir_from "$TMP/garbage" pck_crl.der tcb_info.json
echo 'not a TCB Info' >"$TMP/garbage/tcb_info.json"
run "$TMP/garbage" --pcs-url "$PCS" --cache-dir "$TMP/c3"
expect "garbage tcb_info.json" 1 "COLLATERAL_INVALID"
! grep -q "$TCB" "$TMP/pcs.log" || { cat "$TMP/pcs.log" >&2; fail "garbage: TCB Info fetched"; }

# 5. tcb_info.json without its issuer chain: half an item, not completed by a fetch.
mkdir_from "$TMP/half" tcb_info_issuer_chain.pem
run "$TMP/half" --pcs-url "$PCS" --cache-dir "$TMP/c4"
expect "half an item" 3 "COLLATERAL_UNAVAILABLE"
expect "half an item" 3 "tcb_info_issuer_chain.pem"
! grep -q "$TCB" "$TMP/pcs.log" || { cat "$TMP/pcs.log" >&2; fail "half: TCB Info fetched"; }

echo "tdx_collateral_dir: OK"
