#!/bin/sh
# End to end: `cvmattest verify` fetches SNP collateral from a local KDS stand-in
# (tests/kds_server.py on 127.0.0.1), caches it, and then verifies offline from the cache.
# Sample: snp/turin-v5-anolis-trustee (report v5 names its product through CPUID).
# Needs CVMATTEST_BIN, CVMATTEST_SRC, CVMATTEST_VECTORS (ctest sets them) and python3.
set -u

skip() { echo "kds_fetch: SKIP: $*" >&2; exit 77; }
fail() { echo "kds_fetch: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
[ -n "${CVMATTEST_VECTORS:-}" ] || skip "CVMATTEST_VECTORS not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
SNP="$CVMATTEST_VECTORS/snp"
REPORT="$SNP/turin-v5-anolis-trustee/report.bin"
[ -f "$REPORT" ] || skip "$REPORT missing"

# Loopback only, whatever proxy the environment names.
no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

TMP=$(mktemp -d /tmp/cvma-e2e-kds.XXXXXX) || fail "mktemp"
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# chip_id 0910b4f884ff4ba9 (+56 zero bytes), REPORTED_TCB fmc 1 bl 3 tee 2 snp 5 ucode 97.
VCEK_PATH='/vcek/v1/Turin/0910b4f884ff4ba9?fmcSPL=1&blSPL=3&teeSPL=2&snpSPL=5&ucodeSPL=97'
python3 "$CVMATTEST_SRC/tests/kds_server.py" --dir "$SNP" --max-seconds 60 --log "$TMP/log" \
    --route "$VCEK_PATH=turin-v5-anolis-trustee/vcek.der" \
    --route "/vcek/v1/Turin/cert_chain=roots/ask_ark_turin_vcek.pem" >"$TMP/port" &
SERVER_PID=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(head -n 1 "$TMP/port")
[ -n "$PORT" ] || fail "test server did not report a port"
KDS="http://127.0.0.1:$PORT"

# 1. Online: VCEK and chain are fetched (once each) and cached. The shared samples hold no
#    AMD CRL, so the server answers 404 for it: online, revocation cannot be checked, so the
#    result is undecided (exit 3, COLLATERAL_UNAVAILABLE naming the CRL), never a silent pass.
"$CVMATTEST_BIN" verify "$REPORT" --kds-url "$KDS" --cache-dir "$TMP/cache" >"$TMP/out1" 2>&1
rc=$?
[ $rc -eq 3 ] || { cat "$TMP/out1" >&2; fail "online run without a CRL: exit $rc, want 3"; }
grep -q 'COLLATERAL_UNAVAILABLE: the AMD CRL: .*/vcek/v1/Turin/crl: HTTP 404' "$TMP/out1" \
    || { cat "$TMP/out1" >&2; fail "online run: no COLLATERAL_UNAVAILABLE naming the CRL"; }
[ "$(grep -c "^200 $VCEK_PATH\$" "$TMP/log")" = 1 ] || { cat "$TMP/log" >&2; fail "VCEK not fetched once"; }
[ "$(grep -c '^200 /vcek/v1/Turin/cert_chain$' "$TMP/log")" = 1 ] || fail "chain not fetched once"
n=$(ls "$TMP/cache" | grep -c '\.entry$')
[ "$n" -ge 2 ] || fail "expected at least 2 cache entries, found $n"

# 2. Server gone, offline: verified from the cache alone; without a CRL that is a warning,
#    CRL_NOT_CHECKED, whose detail says where the CRL comes from.
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
"$CVMATTEST_BIN" verify "$REPORT" --kds-url "$KDS" --cache-dir "$TMP/cache" --offline \
    >"$TMP/out2" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/out2" >&2; fail "offline run from the cache: exit $rc, want 0"; }
grep -q 'amd-ark-turin' "$TMP/out2" || { cat "$TMP/out2" >&2; fail "no AMD Turin trust anchor"; }
grep -q "CRL_NOT_CHECKED: .*AMD KDS serves it at $KDS/vcek/v1/Turin/crl" "$TMP/out2" \
    || { cat "$TMP/out2" >&2; fail "offline run: CRL_NOT_CHECKED does not name the CRL URL"; }

# 3. Offline with an empty cache: undecided (exit 3), saying why.
"$CVMATTEST_BIN" verify "$REPORT" --kds-url "$KDS" --cache-dir "$TMP/empty" --offline \
    >"$TMP/out3" 2>&1
rc=$?
[ $rc -eq 3 ] || { cat "$TMP/out3" >&2; fail "offline, empty cache: exit $rc, want 3"; }
grep -q 'offline and not in cache' "$TMP/out3" || { cat "$TMP/out3" >&2; fail "no 'offline and not in cache'"; }

# 4. Damaged entries are noted (COLLATERAL_CACHE_CORRUPT) and not used: offline, exit 3.
for f in "$TMP"/cache/*.entry; do
    python3 -c 'import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-1] ^= 1
open(p, "wb").write(bytes(b))' "$f" || fail "could not damage $f"
done
"$CVMATTEST_BIN" verify "$REPORT" --kds-url "$KDS" --cache-dir "$TMP/cache" --offline --json \
    >"$TMP/out4" 2>&1
rc=$?
[ $rc -eq 3 ] || { cat "$TMP/out4" >&2; fail "offline, damaged cache: exit $rc, want 3"; }
grep -q 'COLLATERAL_CACHE_CORRUPT' "$TMP/out4" || { cat "$TMP/out4" >&2; fail "no COLLATERAL_CACHE_CORRUPT"; }

echo "kds_fetch: OK"
exit 0
