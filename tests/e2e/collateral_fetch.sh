#!/bin/sh
# End to end, on simulated evidence (no shared samples needed), against the local stand-ins
# tests/kds_server.py and tests/pcs_server.py on 127.0.0.1:
#  - SEV-SNP without a CRL: fetched from KDS when online; a failed fetch is undecided (exit 3);
#    offline it is CRL_NOT_CHECKED naming the KDS URL;
#  - --collateral-max-age: a cached CRL younger than it is not fetched again, an older one is;
#  - a --cache-dir others can write is neither written nor read (offline: exit 3 saying why);
#  - `cvmattest collateral fetch` then an offline verification, for SEV-SNP and TDX;
#  - `cvmattest collateral fetch` of collateral that fails its own checks (a CRL, a VCEK or a
#    TCB Info signed by another key, as a hostile mirror or a poisoned cache would serve):
#    exit 3, nothing written, the bad item out of the cache.
#  - `cvmattest collateral fetch` of a VLEK-signed report: exit 3, saying to give the VLEK to
#    verify, nothing written;
#  - `cvmattest collateral fetch` of a TDX quote whose PCK chain ends in an untrusted root:
#    exit 1 (CERT_UNTRUSTED_ROOT) before any request, nothing written.
# Needs CVMATTEST_BIN, CVMATTEST_SRC (ctest sets them) and python3.
set -u

skip() { echo "collateral_fetch: SKIP: $*" >&2; exit 77; }
fail() { echo "collateral_fetch: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

# Loopback only, whatever proxy the environment names.
no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

CVM=$CVMATTEST_BIN
TMP=$(mktemp -d /tmp/cvma-e2e-coll.XXXXXX) || fail "mktemp"
KDS_PID=
PCS_PID=
cleanup() {
    for p in $KDS_PID $PCS_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# Starts a server script ($1) with the rest as arguments; its port goes to $TMP/$1.port.
start() {
    name=$1; shift
    python3 "$CVMATTEST_SRC/tests/$name" --max-seconds 120 "$@" >"$TMP/$name.port" &
    pid=$!
    i=0
    while [ ! -s "$TMP/$name.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$TMP/$name.port" ] || fail "$name did not report a port"
}
# expect NAME WANT_RC FILE: the last command's exit code ($rc) and its output in FILE.
expect() { [ "$rc" -eq "$2" ] || { cat "$3" >&2; fail "$1: exit $rc, want $2"; }; }

# ---- SEV-SNP ---------------------------------------------------------------------------
CHIP=$(printf 'ab%.0s' $(seq 64))
"$CVM" sim snp --out "$TMP/s" --chip-id "$CHIP" >/dev/null || fail "sim snp"
start kds_server.py --dir "$TMP/s" --log "$TMP/kds.log" \
    --route "/vcek/v1/Milan/$CHIP=vcek.der" \
    --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" \
    --route "/vcek/v1/Milan/crl=crl.der"
KDS_PID=$pid
KDS="http://127.0.0.1:$(head -n 1 "$TMP/kds_server.py.port")"
crl_fetches() { grep -c '^200 /vcek/v1/Milan/crl$' "$TMP/kds.log"; }

# A directory with the VCEK and the chain but no CRL.
mkdir "$TMP/nocrl" && cp "$TMP/s/vcek.der" "$TMP/s/cert_chain.pem" "$TMP/nocrl/" || fail "cp"
V="$CVM verify $TMP/s/report.bin --collateral $TMP/nocrl --trust-root $TMP/s/ark.pem"

# 1. Online: the CRL is fetched from KDS and checked (no CRL_NOT_CHECKED).
$V --kds-url "$KDS" --cache-dir "$TMP/c1" >"$TMP/o1" 2>&1; rc=$?
expect "online, no crl.der" 0 "$TMP/o1"
grep -q 'CRL_NOT_CHECKED' "$TMP/o1" && { cat "$TMP/o1" >&2; fail "online: CRL not checked"; }
grep -q 'status: *affirming' "$TMP/o1" || { cat "$TMP/o1" >&2; fail "online: not affirming"; }
[ "$(crl_fetches)" = 1 ] || { cat "$TMP/kds.log" >&2; fail "CRL not fetched once"; }

# 2. Again within the maximum age (default 24 h): the cached CRL, no request.
$V --kds-url "$KDS" --cache-dir "$TMP/c1" >"$TMP/o2" 2>&1; rc=$?
expect "cached CRL" 0 "$TMP/o2"
[ "$(crl_fetches)" = 1 ] || { cat "$TMP/kds.log" >&2; fail "cached CRL fetched again"; }
$V --kds-url "$KDS" --cache-dir "$TMP/c1" --collateral-max-age 3600 >"$TMP/o2" 2>&1; rc=$?
expect "cached CRL, max age 3600" 0 "$TMP/o2"
[ "$(crl_fetches)" = 1 ] || { cat "$TMP/kds.log" >&2; fail "CRL younger than 3600 s fetched again"; }

# 3. --collateral-max-age 0: older than the maximum age, fetched again.
$V --kds-url "$KDS" --cache-dir "$TMP/c1" --collateral-max-age 0 >"$TMP/o3" 2>&1; rc=$?
expect "max age 0" 0 "$TMP/o3"
[ "$(crl_fetches)" = 2 ] || { cat "$TMP/kds.log" >&2; fail "--collateral-max-age 0 did not refetch"; }

# 4. ... and when that refresh fails, the cached CRL with COLLATERAL_STALE_CACHE (a warning).
mv "$TMP/s/crl.der" "$TMP/s/crl.der.away"
$V --kds-url "$KDS" --cache-dir "$TMP/c1" --collateral-max-age 0 >"$TMP/o4" 2>&1; rc=$?
expect "failed refresh" 0 "$TMP/o4"
grep -q 'COLLATERAL_STALE_CACHE: CRL .*/vcek/v1/Milan/crl: cached copy fetched .* ago' "$TMP/o4" \
    || { cat "$TMP/o4" >&2; fail "failed refresh: no COLLATERAL_STALE_CACHE"; }
grep -q 'status: *warning' "$TMP/o4" || { cat "$TMP/o4" >&2; fail "failed refresh: not a warning"; }

# 5. Online, the CRL cannot be fetched and is not cached: undecided (exit 3).
$V --kds-url "$KDS" --cache-dir "$TMP/c2" >"$TMP/o5" 2>&1; rc=$?
expect "online, CRL 404" 3 "$TMP/o5"
grep -q 'COLLATERAL_UNAVAILABLE: the AMD CRL: .*/vcek/v1/Milan/crl: HTTP 404' "$TMP/o5" \
    || { cat "$TMP/o5" >&2; fail "CRL 404: no COLLATERAL_UNAVAILABLE naming it"; }
mv "$TMP/s/crl.der.away" "$TMP/s/crl.der"

# 6. Offline, no CRL anywhere: CRL_NOT_CHECKED (warning, exit 0) naming the KDS URL.
$V --offline --cache-dir "$TMP/c3" >"$TMP/o6" 2>&1; rc=$?
expect "offline, no CRL" 0 "$TMP/o6"
grep -q 'CRL_NOT_CHECKED: .*AMD KDS serves it at https://kdsintf.amd.com/vcek/v1/Milan/crl' \
    "$TMP/o6" || { cat "$TMP/o6" >&2; fail "offline: CRL_NOT_CHECKED without the KDS URL"; }

# 7. Usage: --collateral-max-age wants seconds.
$V --collateral-max-age soon >"$TMP/o7" 2>&1; rc=$?
expect "bad --collateral-max-age" 2 "$TMP/o7"

# 7b. A cache directory others can write is not used (docs/collateral.md, "The cache"): as
#     one that cannot be created, nothing is written to it or read from it; offline that is
#     exit 3 with COLLATERAL_UNAVAILABLE saying why; private again (0700), it is used.
V2="$CVM verify $TMP/s/report.bin --trust-root $TMP/s/ark.pem --cache-dir $TMP/c5 --kds-url $KDS"
mkdir "$TMP/c5" && chmod 0777 "$TMP/c5" || fail "mkdir c5"
$V2 >"$TMP/o7b" 2>&1; rc=$?
expect "online, world-writable --cache-dir" 0 "$TMP/o7b"
[ -z "$(ls "$TMP/c5")" ] || { ls -l "$TMP/c5" >&2; fail "written to a world-writable --cache-dir"; }
chmod 0700 "$TMP/c5"
$V2 >"$TMP/o7b" 2>&1; rc=$?
expect "online, --cache-dir 0700" 0 "$TMP/o7b"
[ -n "$(ls "$TMP/c5")" ] || fail "nothing cached in a private --cache-dir"
chmod 0777 "$TMP/c5"
$V2 --offline >"$TMP/o7c" 2>&1; rc=$?
expect "offline, world-writable --cache-dir holding the entries" 3 "$TMP/o7c"
grep -q "COLLATERAL_UNAVAILABLE: .*offline and not in cache (cache directory not used: $TMP/c5 is writable by group or others (mode 0777))" \
    "$TMP/o7c" || { cat "$TMP/o7c" >&2; fail "world-writable --cache-dir: no COLLATERAL_UNAVAILABLE saying why"; }
chmod 0700 "$TMP/c5"
$V2 --offline >"$TMP/o7c" 2>&1; rc=$?
expect "offline, --cache-dir 0700" 0 "$TMP/o7c"
grep -q 'status: *affirming' "$TMP/o7c" || { cat "$TMP/o7c" >&2; fail "private --cache-dir: not affirming"; }

# 8. collateral fetch, then an offline verification from what it wrote.
"$CVM" collateral fetch "$TMP/s/report.bin" --out "$TMP/snp-out" --kds-url "$KDS" \
    --cache-dir "$TMP/c4" --trust-root "$TMP/s/ark.pem" >"$TMP/o8" 2>&1; rc=$?
expect "collateral fetch snp" 0 "$TMP/o8"
for f in vcek.der ask.pem ark.pem crl.der; do
    [ -s "$TMP/snp-out/$f" ] || fail "collateral fetch snp: no $f"
done
"$CVM" verify "$TMP/s/report.bin" --collateral "$TMP/snp-out" --offline \
    --trust-root "$TMP/s/ark.pem" --cache-dir "$TMP/empty" >"$TMP/o9" 2>&1; rc=$?
expect "offline verify of fetched snp collateral" 0 "$TMP/o9"
grep -q 'status: *affirming' "$TMP/o9" || { cat "$TMP/o9" >&2; fail "snp offline: not affirming"; }

# 8a. A file that cannot be written (a directory where crl.der goes): exit 2, and the set is
# said not to be whole, naming what this run wrote (it said only "cannot write").
mkdir -p "$TMP/part-out/crl.der"
"$CVM" collateral fetch "$TMP/s/report.bin" --out "$TMP/part-out" --kds-url "$KDS" \
    --cache-dir "$TMP/c4" --trust-root "$TMP/s/ark.pem" >"$TMP/o8a" 2>&1; rc=$?
expect "collateral fetch snp, crl.der not writable" 2 "$TMP/o8a"
grep -q "the set in '$TMP/part-out' is not whole: this run wrote only vcek.der ask.pem ark.pem; do not use it" \
    "$TMP/o8a" || { cat "$TMP/o8a" >&2; fail "collateral fetch, crl.der not writable: the set not said to be partial"; }

# 8b. Evidence refused before its chain is checked (SIGNATURE_ALGO 2): the files are written,
# and collateral fetch says they were not all checked.
cp "$TMP/s/report.bin" "$TMP/algo.bin" && printf '\002' |
    dd of="$TMP/algo.bin" bs=1 seek=52 conv=notrunc 2>/dev/null || fail "patch SIGNATURE_ALGO"
"$CVM" collateral fetch "$TMP/algo.bin" --out "$TMP/algo-out" --kds-url "$KDS" \
    --cache-dir "$TMP/c4" --trust-root "$TMP/s/ark.pem" >"$TMP/o8b" 2>&1; rc=$?
expect "collateral fetch, evidence refused early" 0 "$TMP/o8b"
grep -q 'refused before its certificate chain was checked, so the files written were not all checked' \
    "$TMP/o8b" || { cat "$TMP/o8b" >&2; fail "collateral fetch: unchecked files not said"; }
if grep -q 'were not all checked' "$TMP/o8"; then
    cat "$TMP/o8" >&2
    fail "collateral fetch snp: checked files called unchecked"
fi

# 9. collateral fetch with KDS unreachable: exit 3, saying what, nothing written.
"$CVM" collateral fetch "$TMP/s/report.bin" --out "$TMP/snp-none" \
    --kds-url http://127.0.0.1:9 --cache-dir "$TMP/c5" >"$TMP/o10" 2>&1; rc=$?
expect "collateral fetch, KDS unreachable" 3 "$TMP/o10"
grep -q 'COLLATERAL_UNAVAILABLE: .*127.0.0.1:9/vcek/v1/Milan/' "$TMP/o10" \
    || { cat "$TMP/o10" >&2; fail "collateral fetch: failure does not name the URL"; }
[ ! -e "$TMP/snp-none" ] || fail "collateral fetch wrote something after a failure"

# 9b. a VLEK-signed report in a bundle that carries its vlek.der: KDS gives VLEKs only to
#     cloud providers, and the command keeps no bundle collateral: exit 3, nothing written,
#     and the VLEK is to be given to verify (collateral fetch has no --collateral).
"$CVM" sim snp --out "$TMP/vl" --vlek >/dev/null || fail "sim snp --vlek"
"$CVM" collateral fetch "$TMP/vl/bundle.json" --out "$TMP/vl-out" --kds-url "$KDS" \
    --cache-dir "$TMP/c5" --trust-root "$TMP/vl/ark.pem" >"$TMP/o10v" 2>&1; rc=$?
expect "collateral fetch, a VLEK" 3 "$TMP/o10v"
grep -q 'COLLATERAL_UNAVAILABLE: the report is signed by a VLEK.*give it to verify instead, as vlek.der in its --collateral DIR or in the bundle' \
    "$TMP/o10v" || { cat "$TMP/o10v" >&2; fail "collateral fetch: a VLEK, not said where to give it"; }
[ ! -e "$TMP/vl-out" ] || fail "collateral fetch wrote something for a VLEK"

# 10. collateral fetch when KDS serves a CRL, then a VCEK, signed by another key (another
# simulated AMD chain, same chip): exit 3, nothing written, the item out of the cache, so that
# once KDS serves the right one the same cache gives it and the files are written.
"$CVM" sim snp --out "$TMP/s2" --chip-id "$CHIP" >/dev/null || fail "sim snp (other keys)"
for item in crl.der vcek.der; do
    cp "$TMP/s/$item" "$TMP/$item.good" && cp "$TMP/s2/$item" "$TMP/s/$item" || fail "cp $item"
    "$CVM" collateral fetch "$TMP/s/report.bin" --out "$TMP/snp-bad" --kds-url "$KDS" \
        --cache-dir "$TMP/c8-$item" --trust-root "$TMP/s/ark.pem" >"$TMP/o10b" 2>&1; rc=$?
    expect "collateral fetch, foreign $item" 3 "$TMP/o10b"
    grep -q 'COLLATERAL_UNAVAILABLE: collateral fetched from AMD KDS or the cache fails its own checks' \
        "$TMP/o10b" || { cat "$TMP/o10b" >&2; fail "foreign $item: no refusal saying why"; }
    grep -q 'nothing was written' "$TMP/o10b" || { cat "$TMP/o10b" >&2; fail "foreign $item: no 'nothing was written'"; }
    [ ! -e "$TMP/snp-bad" ] || fail "collateral fetch wrote the foreign $item"
    cp "$TMP/$item.good" "$TMP/s/$item" || fail "cp $item back"
    "$CVM" collateral fetch "$TMP/s/report.bin" --out "$TMP/snp-ok-$item" --kds-url "$KDS" \
        --cache-dir "$TMP/c8-$item" --trust-root "$TMP/s/ark.pem" >"$TMP/o10c" 2>&1; rc=$?
    expect "collateral fetch after the foreign $item" 0 "$TMP/o10c"
    cmp -s "$TMP/snp-ok-$item/$item" "$TMP/s/$item" || fail "the foreign $item stayed in the cache"
done

# ---- TDX -------------------------------------------------------------------------------
"$CVM" sim tdx --out "$TMP/t" >/dev/null || fail "sim tdx"
TCB=/tdx/certification/v4/tcb
QE=/tdx/certification/v4/qe/identity
PCK=/sgx/certification/v4/pckcrl
start pcs_server.py --dir "$TMP/t" --log "$TMP/pcs.log" \
    --route "$TCB=tcb_info.json" --header "$TCB|TCB-Info-Issuer-Chain|tcb_info_issuer_chain.pem" \
    --route "$QE=qe_identity.json" \
    --header "$QE|SGX-Enclave-Identity-Issuer-Chain|qe_identity_issuer_chain.pem" \
    --route "$PCK=pck_crl.der" --header "$PCK|SGX-PCK-CRL-Issuer-Chain|pck_crl_issuer_chain.pem" \
    --hex-route "/sgx/certification/v4/rootcacrl=root_ca_crl.der"
PCS_PID=$pid
PCS="http://127.0.0.1:$(head -n 1 "$TMP/pcs_server.py.port")"

"$CVM" collateral fetch "$TMP/t/quote.bin" --out "$TMP/tdx-out" --pcs-url="$PCS" \
    --cache-dir "$TMP/c6" --trust-root "$TMP/t/root_ca.pem" >"$TMP/o11" 2>&1; rc=$?
expect "collateral fetch tdx" 0 "$TMP/o11"
for f in tcb_info.json qe_identity.json tcb_info_issuer_chain.pem qe_identity_issuer_chain.pem \
    pck_crl.der root_ca_crl.der; do
    [ -s "$TMP/tdx-out/$f" ] || fail "collateral fetch tdx: no $f"
done
[ "$(grep -c '^200 ' "$TMP/pcs.log")" = 4 ] || { cat "$TMP/pcs.log" >&2; fail "not four PCS fetches"; }
"$CVM" verify "$TMP/t/quote.bin" --collateral "$TMP/tdx-out" --offline \
    --trust-root "$TMP/t/root_ca.pem" --cache-dir "$TMP/empty" >"$TMP/o12" 2>&1; rc=$?
expect "offline verify of fetched tdx collateral" 0 "$TMP/o12"
grep -q 'status: *affirming' "$TMP/o12" || { cat "$TMP/o12" >&2; fail "tdx offline: not affirming"; }

"$CVM" collateral fetch "$TMP/t/quote.bin" --out "$TMP/tdx-none" --pcs-url http://127.0.0.1:9 \
    --cache-dir "$TMP/c7" --trust-root "$TMP/t/root_ca.pem" >"$TMP/o13" 2>&1; rc=$?
expect "collateral fetch, PCS unreachable" 3 "$TMP/o13"
grep -q 'COLLATERAL_UNAVAILABLE' "$TMP/o13" || { cat "$TMP/o13" >&2; fail "no COLLATERAL_UNAVAILABLE"; }

# Without --trust-root the quote's PCK chain ends in no trusted root: refused (exit 1) before
# anything is asked of PCS by its PCK certificate's values (docs/collateral.md), nothing written.
before=$(wc -l <"$TMP/pcs.log")
"$CVM" collateral fetch "$TMP/t/quote.bin" --out "$TMP/tdx-untrusted" --pcs-url="$PCS" \
    --cache-dir "$TMP/c7b" >"$TMP/o13b" 2>&1; rc=$?
expect "collateral fetch, untrusted PCK chain" 1 "$TMP/o13b"
grep -q 'CERT_UNTRUSTED_ROOT' "$TMP/o13b" || { cat "$TMP/o13b" >&2; fail "untrusted PCK chain: no CERT_UNTRUSTED_ROOT"; }
[ "$(wc -l <"$TMP/pcs.log")" = "$before" ] || { cat "$TMP/pcs.log" >&2; fail "untrusted PCK chain: PCS was asked"; }
[ ! -e "$TMP/tdx-untrusted" ] || fail "collateral fetch wrote files for an untrusted PCK chain"

# PCS serves a TCB Info signed by another key (another simulated Intel chain): exit 3, nothing
# written.
"$CVM" sim tdx --out "$TMP/t2" >/dev/null || fail "sim tdx (other keys)"
cp "$TMP/t/tcb_info.json" "$TMP/tcb_info.json.good" && cp "$TMP/t2/tcb_info.json" "$TMP/t/tcb_info.json" \
    || fail "cp tcb_info.json"
"$CVM" collateral fetch "$TMP/t/quote.bin" --out "$TMP/tdx-bad" --pcs-url="$PCS" \
    --cache-dir "$TMP/c9" --trust-root "$TMP/t/root_ca.pem" >"$TMP/o14" 2>&1; rc=$?
expect "collateral fetch, foreign TCB Info" 3 "$TMP/o14"
grep -q 'COLLATERAL_UNAVAILABLE: collateral fetched from Intel PCS or the cache fails its own checks' \
    "$TMP/o14" || { cat "$TMP/o14" >&2; fail "foreign TCB Info: no refusal saying why"; }
[ ! -e "$TMP/tdx-bad" ] || fail "collateral fetch wrote the foreign TCB Info"
cp "$TMP/tcb_info.json.good" "$TMP/t/tcb_info.json" || fail "cp tcb_info.json back"

# ---- usage -----------------------------------------------------------------------------
"$CVM" collateral fetch --help >/dev/null 2>&1; rc=$?; [ $rc -eq 0 ] || fail "--help: exit $rc"
"$CVM" collateral fetch "$TMP/t/quote.bin" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "no --out: exit $rc, want 2"
"$CVM" collateral fetch "$TMP/nothing.bin" --out "$TMP/x" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing evidence: exit $rc, want 2"
"$CVM" collateral fetch "$TMP/t/quote.bin" --out "$TMP/x" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"

echo "collateral_fetch: OK"
exit 0
