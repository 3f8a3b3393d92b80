#!/bin/sh
# `cvmattest serve --fetch-budget N` (docs/service.md "Limits"): the collateral downloads the
# instance may start a minute. Two simulated SEV-SNP CVMs whose VCEKs no KDS has (the
# stand-in, tests/kds_server.py on 127.0.0.1, answers 404 to everything, as KDS does for a
# made-up CHIP_ID): with a budget of 1, the first report costs one request to KDS, and the
# next ones none: COLLATERAL_UNAVAILABLE saying the budget is spent, counted in /metrics. The
# range of the option is checked, and a budget of 0 is no limit. A cache directory serve will
# not use (below a directory others can write) is warned about at start.
. "$(dirname "$0")/lib/serve.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not found"; exit 77; }
[ -n "${CVMATTEST_SRC:-}" ] || { echo "SKIP: CVMATTEST_SRC not set"; exit 77; }
serve_setup
no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

$CVM sim snp --out "$T/a" >/dev/null && $CVM sim snp --out "$T/b" >/dev/null ||
    { echo "FAIL sim snp"; exit 1; }
for r in a b; do
    printf '{"evidence":"%s"}' "$(base64 -w0 "$T/$r/report.bin")" >"$T/$r.json"
done

# --- usage: the range of --fetch-budget ---
for bad in -1 100001 x; do
    timeout 10 $CVM serve --offline --listen 127.0.0.1:0 --fetch-budget "$bad" 2>"$T/u.err"
    st=$?
    [ $st = 2 ] && grep -q -- '--fetch-budget wants a number from 0 to 100000' "$T/u.err" &&
        ok "--fetch-budget '$bad': exit 2" || fail "--fetch-budget '$bad': exit $st, $(cat "$T/u.err")"
done

python3 "$CVMATTEST_SRC/tests/kds_server.py" --max-seconds 120 --log "$T/kds.log" >"$T/kds.port" &
PIDS="$PIDS $!"
i=0
while [ ! -s "$T/kds.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
KDS=http://127.0.0.1:$(head -n 1 "$T/kds.port")
ONLINE="--trust-root $T/a/ark.pem --trust-root $T/b/ark.pem --kds-url $KDS"

# verify PORT NAME OUT: the status, the reason codes and the first reason's detail
verify() {
    st=$(post "http://127.0.0.1:$1/v1/verify" "$T/$2.json" "$3")
    python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
r = j.get("reasons", [])
print(sys.argv[2], j.get("status"), ",".join(x["code"] for x in r), r[0]["detail"] if r else "")' \
        "$3" "$st"
}

start B $ONLINE --cache-dir "$T/cacheB" --fetch-budget 1
BP=$PORT
verify "$BP" a "$T/r1" >"$T/v1"
verify "$BP" b "$T/r2" >"$T/v2"
verify "$BP" a "$T/r3" >"$T/v3"
grep -q '^200 contraindicated COLLATERAL_UNAVAILABLE .*/vcek/v1/Milan/.*: HTTP 404$' "$T/v1" &&
    ok "first report: KDS asked, its 404 reported" || fail "first report: $(cat "$T/v1")"
for n in 2 3; do
    grep -q "^200 contraindicated COLLATERAL_UNAVAILABLE VCEK $KDS/vcek/v1/Milan/.*: not downloaded: this verifier's download budget (1 a minute) is spent; the next download may start in [0-9]* s\$" "$T/v$n" &&
        ok "report $n: not downloaded, the budget spent" || fail "report $n: $(cat "$T/v$n")"
done
eq "KDS asked once for three reports" 1 "$(wc -l <"$T/kds.log")"
curl -s "http://127.0.0.1:$BP/metrics" >"$T/metrics"
grep -q '^cvmattest_collateral_budget_refusals_total{source="kds"} 2$' "$T/metrics" &&
    ok "/metrics: 2 downloads refused" || fail "/metrics: $(grep budget "$T/metrics")"
grep -q '^cvmattest_collateral_fetches_total{source="kds",status="404"} 1$' "$T/metrics" &&
    ok "/metrics: 1 download made" || fail "/metrics: $(grep fetches "$T/metrics")"
stop B

# --- 0: no limit; every report is asked for ---
: >"$T/kds.log"
start N $ONLINE --cache-dir "$T/cacheN" --fetch-budget 0
verify "$PORT" a "$T/r4" >"$T/v4"
verify "$PORT" b "$T/r5" >"$T/v5"
grep -q 'HTTP 404$' "$T/v4" && grep -q 'HTTP 404$' "$T/v5" &&
    ok "--fetch-budget 0: both asked" || fail "--fetch-budget 0: $(cat "$T/v4" "$T/v5")"
eq "--fetch-budget 0: KDS asked twice" 2 "$(wc -l <"$T/kds.log")"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -q budget_refusals &&
    fail "--fetch-budget 0: a budget counter in /metrics" || ok "--fetch-budget 0: no budget counter"
stop N

# --- a cache directory below one others can write is not used, and serve says so at start ---
mkdir -p "$T/open" && chmod 0777 "$T/open"
start O $ONLINE --cache-dir "$T/open/cache"
grep -q "warning: no usable cache directory ($T/open/cache: its parent $T/open is writable by group or others (mode 0777) and not sticky): collateral is not cached" "$T/O.log" &&
    ok "a cache directory below a 0777 one: warned at start" || fail "refused cache: $(head -3 "$T/O.log")"
stop O

[ $fails = 0 ] || exit 1
