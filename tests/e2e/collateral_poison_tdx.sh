#!/bin/sh
# Fetched TDX collateral that fails its own checks is the collateral's fault, not the
# evidence's (docs/collateral.md): against tests/pcs_server.py, on simulated evidence (two
# `sim tdx` runs, each under its own test root), with one cache directory throughout:
#  - a TCB Info (with its issuer chain) of the other root: exit 3 (COLLATERAL_UNAVAILABLE),
#    removed from the cache; once the right one is served: affirming, same cache;
#  - the same for a QE Identity, a Root CA CRL and a PCK CRL of the other root;
#  - the same bad TCB Info given in --collateral DIR is the user's: rejected (exit 1).
# Needs CVMATTEST_BIN, CVMATTEST_SRC (ctest sets them) and python3.
set -u

skip() { echo "collateral_poison_tdx: SKIP: $*" >&2; exit 77; }
fail() { echo "collateral_poison_tdx: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

CVM=$CVMATTEST_BIN
TMP=$(mktemp -d /tmp/cvma-e2e-poison-tdx.XXXXXX) || fail "mktemp"
PCS_PID=
cleanup() {
    for p in $PCS_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$CVM" sim tdx --out "$TMP/a" >/dev/null || fail "sim tdx a"
"$CVM" sim tdx --out "$TMP/b" >/dev/null || fail "sim tdx b"
cmp -s "$TMP/a/root_ca.pem" "$TMP/b/root_ca.pem" && skip "sim tdx made the same root twice"
mkdir "$TMP/srv" || fail "mkdir"
serve() { cp "$TMP/$1/$2" "$TMP/srv/$2" || fail "cp $1/$2"; } # what the server answers now
for f in tcb_info.json tcb_info_issuer_chain.pem qe_identity.json qe_identity_issuer_chain.pem \
    pck_crl.der pck_crl_issuer_chain.pem root_ca_crl.der; do serve a "$f"; done

. "$CVMATTEST_SRC/tests/e2e/lib/pcs.sh"
pcs_start "$TMP/srv" "$TMP/pcs.log"

C="$TMP/cache"
V="$CVM verify $TMP/a/quote.bin --trust-root $TMP/a/root_ca.pem --pcs-url $PCS --cache-dir $C"
run() { $V "$@" >"$TMP/out" 2>&1; rc=$?; }
expect() { # name, exit code, text the output must hold
    [ "$rc" -eq "$2" ] || { cat "$TMP/out" >&2; fail "$1: exit $rc, want $2"; }
    grep -q -- "$3" "$TMP/out" || { cat "$TMP/out" >&2; fail "$1: no '$3'"; }
}
no() { ! grep -q -- "$2" "$TMP/out" || { cat "$TMP/out" >&2; fail "$1: '$2'"; }; }

# One piece of B's (its files named in the rest), then A's again: undecided and removed from
# the cache, then affirming from the same cache.
poison() { # name, item as the reason names it, B's files...
    name=$1; item=$2; shift 2
    rm -rf "$C"
    for f in "$@"; do serve b "$f"; done
    run; expect "$name of another root" 3 "COLLATERAL_UNAVAILABLE"
    [ -n "${POISON_SHOW:-}" ] && cat "$TMP/out" >&2
    expect "$name of another root" 3 "removed from the cache: $item"
    expect "$name of another root" 3 "fails its own checks"
    no "$name of another root" "error *CERT_"
    no "$name of another root" "error *CRL_"
    no "$name of another root" "error *COLLATERAL_SIGNATURE"
    for f in "$@"; do serve a "$f"; done
    run; expect "$name fixed on the server" 0 "status: *affirming"
}

# A warm cache is affirming to begin with.
run; expect "all of A's" 0 "status: *affirming"
poison "TCB Info" "TCB Info" tcb_info.json tcb_info_issuer_chain.pem
poison "QE Identity" "QE Identity" qe_identity.json qe_identity_issuer_chain.pem
poison "Root CA CRL" "Root CA CRL" root_ca_crl.der
poison "PCK CRL" "PCK CRL" pck_crl.der

# B's TCB Info given in --collateral DIR is the user's choice: rejected (exit 1), not undone.
mkdir "$TMP/dir" || fail "mkdir"
cp "$TMP/a/"*.json "$TMP/a/"*.pem "$TMP/a/"*.der "$TMP/dir/" || fail "cp"
cp "$TMP/b/tcb_info.json" "$TMP/b/tcb_info_issuer_chain.pem" "$TMP/dir/" || fail "cp"
run --collateral "$TMP/dir" --offline
expect "TCB Info of another root in DIR" 1 "CERT_UNTRUSTED_ROOT"
no "TCB Info of another root in DIR" "COLLATERAL_UNAVAILABLE"
echo "collateral_poison_tdx: OK"
