#!/bin/sh
# End to end: `verify --product` lets a SEV-SNP report v2 (no CPUID bytes, so no product) be
# verified online: the product picks the KDS URLs. Without it the result is undecided (exit 3)
# and says to give --product, before anything is fetched. Simulated evidence, a local KDS
# stand-in (tests/kds_server.py on 127.0.0.1). Needs CVMATTEST_BIN, CVMATTEST_SRC, python3.
set -u

skip() { echo "snp_product: SKIP: $*" >&2; exit 77; }
fail() { echo "snp_product: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

TMP=$(mktemp -d /tmp/cvma-e2e-product.XXXXXX) || fail "mktemp"
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

CHIP=$(printf 'ab%.0s' $(seq 64))
"$CVMATTEST_BIN" sim snp --out "$TMP/s" --version 2 --product genoa --chip-id "$CHIP" \
    --tcb 3,0,8,115 >/dev/null || fail "sim snp"

VCEK_PATH="/vcek/v1/Genoa/$CHIP?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115"
python3 "$CVMATTEST_SRC/tests/kds_server.py" --dir "$TMP/s" --max-seconds 60 --log "$TMP/log" \
    --route "$VCEK_PATH=vcek.der" --route "/vcek/v1/Genoa/cert_chain=cert_chain.pem" \
    --route "/vcek/v1/Genoa/crl=crl.der" >"$TMP/port" &
SERVER_PID=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(head -n 1 "$TMP/port")
[ -n "$PORT" ] || fail "test server did not report a port"
touch "$TMP/log"
V="$CVMATTEST_BIN verify $TMP/s/report.bin --kds-url http://127.0.0.1:$PORT --trust-root $TMP/s/ark.pem"

# 1. No --product: undecided, naming the option; KDS is not asked anything.
$V --cache-dir "$TMP/cache1" --json >"$TMP/out1" 2>&1
rc=$?
[ $rc -eq 3 ] || { cat "$TMP/out1" >&2; fail "v2 without --product: exit $rc, want 3"; }
grep -q 'names no product (no CPUID bytes): give --product milan|genoa|turin' "$TMP/out1" \
    || { cat "$TMP/out1" >&2; fail "v2 without --product: the message does not ask for --product"; }
[ ! -s "$TMP/log" ] || { cat "$TMP/log" >&2; fail "v2 without --product: KDS was asked"; }

# 2. --product genoa: the Genoa VCEK, chain and CRL are fetched and the report verifies.
$V --cache-dir "$TMP/cache2" --product genoa --json >"$TMP/out2" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/out2" >&2; fail "v2 with --product genoa: exit $rc, want 0"; }
grep -q '"status": "affirming"' "$TMP/out2" || { cat "$TMP/out2" >&2; fail "not affirming"; }
grep -q '"product": "Genoa"' "$TMP/out2" || { cat "$TMP/out2" >&2; fail "no Genoa product claim"; }
[ "$(grep -c "^200 $VCEK_PATH\$" "$TMP/log")" = 1 ] || { cat "$TMP/log" >&2; fail "Genoa VCEK not fetched once"; }

# 3. --product milan asks Milan's KDS paths, which this server does not have: undecided.
$V --cache-dir "$TMP/cache3" --product milan >"$TMP/out3" 2>&1
rc=$?
[ $rc -eq 3 ] || { cat "$TMP/out3" >&2; fail "v2 with --product milan: exit $rc, want 3"; }
grep -q '^404 /vcek/v1/Milan/' "$TMP/log" || { cat "$TMP/log" >&2; fail "no Milan KDS request"; }

# 4. A product cvmattest does not know is a usage error.
$V --product venice >"$TMP/out4" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$TMP/out4" >&2; fail "--product venice: exit $rc, want 2"; }
grep -q -- "--product must be milan, genoa or turin, not 'venice'" "$TMP/out4" \
    || { cat "$TMP/out4" >&2; fail "--product venice: no usage message"; }

# 5. collateral fetch takes --product as verify does: without it undecided, naming the option.
F="$CVMATTEST_BIN collateral fetch $TMP/s/report.bin --kds-url http://127.0.0.1:$PORT"
$F --cache-dir "$TMP/cache5" --out "$TMP/c5" >"$TMP/out5" 2>&1
rc=$?
[ $rc -eq 3 ] || { cat "$TMP/out5" >&2; fail "collateral fetch of v2 without --product: exit $rc, want 3"; }
grep -q 'give --product milan|genoa|turin' "$TMP/out5" \
    || { cat "$TMP/out5" >&2; fail "collateral fetch without --product: no --product hint"; }

# 6. collateral fetch --product genoa: the files an offline verification needs.
$F --cache-dir "$TMP/cache6" --out "$TMP/c6" --product genoa --trust-root "$TMP/s/ark.pem" \
    >"$TMP/out6" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/out6" >&2; fail "collateral fetch --product genoa: exit $rc, want 0"; }
"$CVMATTEST_BIN" verify "$TMP/s/report.bin" --collateral "$TMP/c6" --offline \
    --cache-dir "$TMP/cache6b" --trust-root "$TMP/s/ark.pem" >"$TMP/out6b" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/out6b" >&2; fail "verify with the fetched collateral: exit $rc, want 0"; }

# 7. collateral fetch --product of no known product: a usage error.
$F --out "$TMP/c7" --product venice >"$TMP/out7" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$TMP/out7" >&2; fail "collateral fetch --product venice: exit $rc, want 2"; }
[ ! -e "$TMP/c7" ] || fail "collateral fetch --product venice wrote --out"

echo "snp_product: OK"
exit 0
