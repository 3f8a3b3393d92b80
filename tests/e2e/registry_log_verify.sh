#!/bin/sh
# verify with the registry transparency log (docs/registry.md "Registry log"), on simulated
# SEV-SNP evidence: a registry shown in the provider's log with enough cosignatures binds the
# platform; refused are a registry not in the log, a checkpoint not signed by the log key,
# too few cosignatures, a cosignature by an unknown witness (ignored: too few), a bad
# cosignature, a split view (same size, other root; or a failing consistency proof), a log
# that shrank, and a grown log without a consistency proof; and a log key without any
# witness key (a usage error: an unwitnessed log proves nothing about other verifiers' view).
# A grown log whose tiles (--log-url) could not be had (unreachable, --offline, an HTTP error)
# is undecided (REGISTRY_UNAVAILABLE, exit 3), not refused; a shrunk one or a failing proof
# stays refused.
set -u
CVM=${CVMATTEST_BIN:?}
command -v python3 >/dev/null 2>&1 || { echo "registry_log_verify: SKIP: python3 not installed" >&2; exit 77; }
T=$(mktemp -d /tmp/cvma-e2e-reglogv.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 1200 "$1"; echo; fails=$((fails + 1)); }; }
# undecided OUT: the JSON says "undecided": true, status contraindicated, REGISTRY_UNAVAILABLE
# (the log's tiles named), the registry not used (REGISTRY_ROLLBACK_NOT_CHECKED) and no other error
undecided() {
    python3 - "$1" <<'PY' || { echo "FAIL: $1 not undecided for want of the log's tiles"; head -c 1200 "$1"; echo; fails=$((fails + 1)); }
import json, sys
r = json.load(open(sys.argv[1]))
errs = [x["code"] for x in r["reasons"] if x["severity"] == "error"]
warns = [x["code"] for x in r["reasons"] if x["severity"] == "warning"]
un = [x["detail"] for x in r["reasons"] if x["code"] == "REGISTRY_UNAVAILABLE"]
sys.exit(0 if r["undecided"] is True and r["status"] == "contraindicated"
         and errs == ["REGISTRY_UNAVAILABLE"] and "REGISTRY_ROLLBACK_NOT_CHECKED" in warns
         and "its tiles, which would show it consistent, could not be had" in un[0] else 1)
PY
}

chip=$(printf '5a%.0s' $(seq 64))
$CVM sim snp --out "$T/g" --chip-id "$chip" >/dev/null || exit 1
$CVM registry keygen --out "$T/cloud" >/dev/null || exit 1
printf 'amd chip_id %s region=eu-1\n' "$chip" >"$T/fleet.txt"
for ver in 1 2 3 9; do
    $CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version $ver \
        --valid-days 30 --out "$T/r$ver.jws" >/dev/null || exit 1
done
O=example.com/cloud/registry-log
$CVM registry log keygen --out "$T/log" --origin $O >/dev/null || exit 1
$CVM registry log keygen --out "$T/fake" --origin $O >/dev/null || exit 1
for w in w1 w2 w3; do $CVM witness keygen --out "$T/$w" --name "witness.example/$w" >/dev/null || exit 1; done

L="$T/L"; F="$T/F"
ap() { $CVM registry log append --log "$1" --key "$T/log.key" --provider cloud="$T/cloud.pub" "$T/$2.jws" >/dev/null || exit 1; }
ap "$L" r1; cp "$L/checkpoint" "$T/L1"
ap "$L" r2; cp "$L/checkpoint" "$T/L2"; $CVM registry log prove --log "$L" --registry "$T/r1.jws" --tlog-proof >"$T/p-L2"
ap "$L" r3; cp "$L/checkpoint" "$T/L3"; $CVM registry log prove --log "$L" --registry "$T/r1.jws" --tlog-proof >"$T/p-L3"
$CVM registry log prove --log "$L" --from 1 >"$T/c1-3.json"
$CVM registry log prove --log "$L" --from 2 >"$T/c2-3.json"
ap "$F" r1; ap "$F" r9; $CVM registry log prove --log "$F" --registry "$T/r1.jws" --tlog-proof >"$T/p-F2"
# Size 1 of L, cosigned by w1, w2 and w3.
$CVM registry log prove --log "$L" --registry "$T/r1.jws" >/dev/null || exit 1
cp "$T/L1" "$T/cp1"
{
    printf 'c2sp.org/tlog-proof@v1\nindex 0\n\n'
    cat "$T/cp1"
} >"$T/p1-bare"
for w in w1 w2 w3; do
    $CVM witness cosign --state "$T/ws-$w" --key "$T/$w.key" --log-vkey "$T/log.vkey" "$T/cp1" >"$T/cs-$w" || exit 1
done
cat "$T/p1-bare" "$T/cs-w1" "$T/cs-w2" >"$T/p1-12"
cat "$T/p1-bare" "$T/cs-w1" "$T/cs-w3" >"$T/p1-13"
cat "$T/p1-bare" "$T/cs-w1" >"$T/p1-1"
python3 - "$T/cs-w2" "$T/p1-bare" "$T/cs-w1" "$T/p1-bad" <<'PY'
import base64, sys
line = open(sys.argv[1], encoding="utf-8").read().rstrip("\n")
head, b64 = line.rsplit(" ", 1)
raw = bytearray(base64.b64decode(b64)); raw[-1] ^= 1
bad = head + " " + base64.b64encode(bytes(raw)).decode() + "\n"
open(sys.argv[4], "w", encoding="utf-8").write(open(sys.argv[2], encoding="utf-8").read() + open(sys.argv[3], encoding="utf-8").read() + bad)
PY

v() { cache=$1; shift
      $CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
          --cache-dir "$T/cache-$cache" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
          --log-vkey cloud="$T/log.vkey" --json "$@"; }
W12="--witness-vkey $T/w1.vkey --witness-vkey $T/w2.vkey"

v a $W12 --log-proof "$T/p1-12" >"$T/o1"; check "in the log, cosigned by both witnesses" 0 $?
has "$T/o1" '"provider": "cloud"'
v b $W12 >"$T/o2"; check "no log proof" 1 $?
has "$T/o2" REGISTRY_NOT_IN_LOG
$CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
    --cache-dir "$T/cache-c" --provider cloud="$T/cloud.pub" --registry "$T/r2.jws" \
    --log-vkey cloud="$T/log.vkey" $W12 --log-proof "$T/p1-12" --json >"$T/o3"
check "a registry not in the log's checkpoint" 1 $?
has "$T/o3" REGISTRY_NOT_IN_LOG
v d $W12 --log-proof "$T/p1-1" >"$T/o4"; check "too few cosignatures" 1 $?
has "$T/o4" REGISTRY_LOG_TOO_FEW_COSIGNATURES
v e $W12 --witnesses 1 --log-proof "$T/p1-1" >/dev/null; check "--witnesses 1" 0 $?
# w1's key as a cosigner key (type 0x04, keyed by its cosignatures' ID: tlog-cosignature)
python3 - "$T/w1.vkey" "$T/w1-04.vkey" <<'PY' || exit 1
import base64, hashlib, sys
name, _, b64 = open(sys.argv[1]).read().strip().split("+", 2)
pub = base64.b64decode(b64)[1:]
kid = hashlib.sha256(name.encode() + b"\n\x04" + pub).digest()[:4].hex()
open(sys.argv[2], "w").write("%s+%s+%s\n" % (name, kid, base64.b64encode(b"\x04" + pub).decode()))
PY
v e4 --witness-vkey "$T/w1-04.vkey" --witnesses 1 --log-proof "$T/p1-1" >"$T/o5"
check "a witness key of type 0x04" 0 $?
has "$T/o5" '"provider": "cloud"'
v e5 --witness-vkey "$T/w1-04.vkey" --witness-vkey "$T/w1.vkey" --log-proof "$T/p1-1" \
    >/dev/null 2>&1; check "one witness given in both forms" 2 $?
v f $W12 --log-proof "$T/p1-13" >"$T/o6"; check "a cosignature by an unknown witness counts for nothing" 1 $?
has "$T/o6" REGISTRY_LOG_TOO_FEW_COSIGNATURES
v g $W12 --log-proof "$T/p1-bad" >"$T/o7"; check "a bad cosignature" 1 $?
has "$T/o7" REGISTRY_LOG_COSIGNATURE_INVALID
$CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
    --cache-dir "$T/cache-h" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
    --log-vkey cloud="$T/fake.vkey" $W12 --log-proof "$T/p1-12" --json >"$T/o8"
check "a checkpoint not signed by the log key" 1 $?
has "$T/o8" REGISTRY_LOG_SIGNATURE_INVALID
v h2 --witnesses 3 $W12 --log-proof "$T/p1-12" >/dev/null 2>&1; check "--witnesses above the witnesses given" 2 $?
v h3 --log-proof "$T/p1-12" >/dev/null 2>"$T/nw.err"; check "--log-vkey without a --witness-vkey" 2 $?
has "$T/nw.err" "need at least one of witness_keys (--witness-vkey)"
v h4 --witness-vkey "$T/log.vkey" --log-proof "$T/p1-12" >/dev/null 2>"$T/self.err"
check "the log's own key as a witness" 2 $?
has "$T/self.err" "a log cannot witness itself"
[ ! -d "$T/cache-h3" ] || { echo "FAIL: usage error after verifying"; fails=$((fails + 1)); }

# Consistency with the newest checkpoint seen. Each checkpoint here is cosigned by w1 from a
# fresh state, as a witness colluding with the provider would: what catches the split view
# is this verifier's own state. (Until the witness requirement, these ran on the log alone.)
cw() { # name checkpoint proof: appends w1's cosignature of checkpoint to proof as proof.w
    $CVM witness cosign --state "$T/wf-$1" --key "$T/w1.key" --log-vkey "$T/log.vkey" "$2" >"$T/cw-$1" || exit 1
    cat "$3" "$T/cw-$1" >"$3.w"
}
cw L2 "$T/L2" "$T/p-L2"; cw L3 "$T/L3" "$T/p-L3"; cw F2 "$F/checkpoint" "$T/p-F2"
W1="--witness-vkey $T/w1.vkey"
v k $W1 --log-proof "$T/p-L2.w" >/dev/null; check "size 2 seen" 0 $?
v k $W1 --log-proof "$T/p-F2.w" >"$T/o9"; check "split view: size 2 with another root" 1 $?
has "$T/o9" REGISTRY_SPLIT_VIEW
ls "$T/cache-k" | grep -q '^tlog-conflict\.' || { echo "FAIL: conflicting checkpoint not kept"; fails=$((fails + 1)); }
# Both kept signed by the log key: the new one (a log proof ending in the signed checkpoint)
# and the one seen before (.seen, the state as it was: the whole signed note).
for f in "$T"/cache-k/tlog-conflict.*; do
    grep -q "^— $O " "$f" || { echo "FAIL: $f holds no log signature"; fails=$((fails + 1)); }
done
ls "$T/cache-k" | grep -q '^tlog-conflict\..*\.seen$' || { echo "FAIL: the checkpoint seen before not kept"; fails=$((fails + 1)); }
# The same split view met again (a second run, a second later): still refused, and the pair
# kept once, not once a run.
sleep 1
v k $W1 --log-proof "$T/p-F2.w" >"$T/o9b"; check "split view again" 1 $?
has "$T/o9b" REGISTRY_SPLIT_VIEW
[ "$(ls "$T/cache-k" | grep -c '^tlog-conflict\.')" = 2 ] ||
    { echo "FAIL: a persisting split view kept again:"; ls "$T/cache-k"; fails=$((fails + 1)); }
grep -q "^— $O " "$T"/cache-k/tlog-state.*.checkpoint || { echo "FAIL: the state lacks the log signature"; fails=$((fails + 1)); }
for f in "$T"/cache-k/tlog-state.*.checkpoint; do
    [ "$(stat -c %a "$f")" = 600 ] || { echo "FAIL: $f is not 0600"; fails=$((fails + 1)); }
done
v k $W1 --log-proof "$T/p1-1" >"$T/o10"; check "a log that shrank" 1 $?
has "$T/o10" REGISTRY_LOG_SHRANK
v k $W1 --log-proof "$T/p1-1" --log-consistency "$T/c1-3.json" >/dev/null
check "an older checkpoint without a proof to the newer: still shrank" 1 $?
v k $W1 --log-proof "$T/p-L3.w" >"$T/o11"; check "grown without a consistency proof" 1 $?
has "$T/o11" REGISTRY_LOG_UNPROVEN
v k $W1 --log-proof "$T/p-L3.w" --log-consistency "$T/c2-3.json" >/dev/null; check "grown, proven consistent" 0 $?
v k $W1 --log-proof "$T/p-L2.w" --log-consistency "$T/c2-3.json" >/dev/null; check "an older consistent checkpoint" 0 $?
v m $W1 --log-proof "$T/p-F2.w" >/dev/null; check "the fork seen first" 0 $?
v m $W1 --log-proof "$T/p-L3.w" --log-consistency "$T/c2-3.json" >"$T/o12"
check "a given consistency proof that fails" 1 $?
# unsigned hashes that fail prove nothing: not a split view, nothing kept as evidence
has "$T/o12" REGISTRY_LOG_CONSISTENCY_INVALID
if grep -q REGISTRY_SPLIT_VIEW "$T/o12"; then echo "FAIL: a failing proof file called a split view"; fails=$((fails + 1)); fi
ls "$T/cache-m" | grep -q '^tlog-conflict\.' && { echo "FAIL: a conflict kept for a failing proof file"; fails=$((fails + 1)); }
v m $W1 --log-proof "$T/p-L3.w" --log-consistency "$T/c2-3.json" --log-url cloud="$L" >"$T/o12b"
check "a failing proof file, then the log's tiles prove the fork" 1 $?
has "$T/o12b" REGISTRY_SPLIT_VIEW
ls "$T/cache-m" | grep -q '^tlog-conflict\.' || { echo "FAIL: proven fork not kept"; fails=$((fails + 1)); }
# A corrupt proof file does not stop --log-url from proving the growth consistent.
python3 - "$T/c2-3.json" "$T/c2-3-bad.json" <<'PY'
import base64, json, sys
c = json.load(open(sys.argv[1]))
h = bytearray(base64.b64decode(c["hashes"][0])); h[0] ^= 1
c["hashes"][0] = base64.b64encode(bytes(h)).decode()
json.dump(c, open(sys.argv[2], "w"))
PY
v y $W1 --log-proof "$T/p-L2.w" >/dev/null; check "size 2 seen (y)" 0 $?
v y $W1 --log-proof "$T/p-L3.w" --log-consistency "$T/c2-3-bad.json" >"$T/o19"
check "grown, the proof file corrupt" 1 $?
has "$T/o19" REGISTRY_LOG_CONSISTENCY_INVALID
v y $W1 --log-proof "$T/p-L3.w" --log-consistency "$T/c2-3-bad.json" --log-url cloud="$L" >/dev/null
check "grown, the proof file corrupt, consistency from the log's tiles" 0 $?
# The log shrank to a fork: the tiles of the one seen prove it, a split view in that branch too.
v z $W1 --log-proof "$T/p-L3.w" >/dev/null; check "size 3 seen (z)" 0 $?
v z $W1 --log-proof "$T/p-F2.w" >"$T/o20"; check "shrank to a fork, no tiles" 1 $?
has "$T/o20" REGISTRY_LOG_SHRANK
v z $W1 --log-proof "$T/p-F2.w" --log-url cloud="$L" >"$T/o21"; check "shrank to a fork the tiles prove" 1 $?
has "$T/o21" REGISTRY_SPLIT_VIEW
ls "$T/cache-z" | grep -q '^tlog-conflict\..*\.seen$' || { echo "FAIL: shrunk fork not kept"; fails=$((fails + 1)); }

# --log-url: the consistency proof computed from the log's own tiles (a directory here).
v q $W1 --log-proof "$T/p-L2.w" >/dev/null; check "size 2 seen (q)" 0 $?
v q $W1 --log-proof "$T/p-L3.w" --log-url cloud="$L" >/dev/null; check "grown, consistency from the log's tiles" 0 $?
v q $W1 --log-proof "$T/p-L2.w" --log-url cloud="$L" >/dev/null; check "an older checkpoint, proven from the tiles" 0 $?
v r $W1 --log-proof "$T/p-F2.w" >/dev/null; check "the fork seen first (r)" 0 $?
v r $W1 --log-proof "$T/p-L3.w" --log-url cloud="$L" >"$T/o13"; check "split view found from the log's tiles" 1 $?
has "$T/o13" REGISTRY_SPLIT_VIEW
v s $W1 --log-proof "$T/p-L2.w" >/dev/null; check "size 2 seen (s)" 0 $?
v s $W1 --log-proof "$T/p-L3.w" --log-url cloud="$T/nonexistent" >"$T/o14"; check "--log-url that cannot be read: undecided" 3 $?
undecided "$T/o14"
# Undecided is never a pass: the state stays at size 2 (a shrunk view is still refused, even
# with the tiles out of reach; so is a failing proof the tiles could not overrule).
v s $W1 --log-proof "$T/p1-1" --log-url cloud="$T/nonexistent" >"$T/o14b"
check "shrank, the tiles out of reach: still refused" 1 $?
has "$T/o14b" REGISTRY_LOG_SHRANK
v s $W1 --log-proof "$T/p-L3.w" --log-consistency "$T/c2-3-bad.json" --log-url cloud="$T/nonexistent" >"$T/o14c"
check "grown, a failing proof, the tiles out of reach: still refused" 1 $?
has "$T/o14c" REGISTRY_LOG_CONSISTENCY_INVALID
# Of two proofs, one grown past the state (the tiles out of reach) and one shrunk: undecided,
# since the first may pass once the log answers.
v s $W1 --log-proof "$T/p1-1" --log-proof "$T/p-L3.w" --log-url cloud="$T/nonexistent" >"$T/o14e"
check "a grown and a shrunk proof, the tiles out of reach: undecided" 3 $?
undecided "$T/o14e"
# A log that cannot be reached over HTTP (nothing listens on port 1): undecided.
$CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" \
    --cache-dir "$T/cache-s" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
    --log-vkey cloud="$T/log.vkey" --json $W1 --log-proof "$T/p-L3.w" \
    --log-url cloud="http://127.0.0.1:1/log" >"$T/o14d"
check "a log that cannot be reached: undecided" 3 $?
undecided "$T/o14d"
has "$T/o14d" "Couldn't connect to server"
v s $W1 --log-proof "$T/p-L3.w" --log-url cloud="$L" >/dev/null; check "the log reachable again: bound" 0 $?
v t $W1 --log-url other="$L" --log-proof "$T/p-L2.w" >/dev/null 2>&1; check "--log-url for a provider without a log key" 2 $?
# A URL with an empty port (or none at all as a host) is refused with the options, not taken for
# a log that cannot be reached at each verification.
v t $W1 --log-url cloud="http://127.0.0.1:/log" --log-proof "$T/p-L2.w" >/dev/null 2>"$T/e14p"
check "--log-url with an empty port: a usage error" 2 $?
has "$T/e14p" "is not a URL to fetch from"
# A FIFO in the log's directory where a tile should be: missing at once, never a wait.
cp -r "$L" "$T/Lfifo" && rm "$T/Lfifo/tile/0/000.p/3" && mkfifo "$T/Lfifo/tile/0/000.p/3" &&
    rm -f "$T/Lfifo/tile/0/000" || exit 1
v w $W1 --log-proof "$T/p-L2.w" >/dev/null; check "size 2 seen (w)" 0 $?
timeout 20 sh -c 'v() { "$@"; }; v "$0" verify "$1/g/report.bin" --collateral "$1/g" \
    --trust-root "$1/g/ark.pem" --offline --cache-dir "$1/cache-w" --provider cloud="$1/cloud.pub" \
    --registry "$1/r1.jws" --log-vkey cloud="$1/log.vkey" --json --witness-vkey "$1/w1.vkey" \
    --log-proof "$1/p-L3.w" --log-url cloud="$1/Lfifo"' "$CVM" "$T" >"$T/o17"
check "a FIFO for a tile: undecided at once (124 is a hang)" 3 $?
undecided "$T/o17"
# The log's tiles over HTTP: read when online, never fetched with --offline.
python3 -u -m http.server --bind 127.0.0.1 --directory "$L" 0 >"$T/http.out" 2>&1 &
HTTPD=$!
i=0; while ! grep -q "port" "$T/http.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
HPORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.out" | head -1)
[ -n "$HPORT" ] || { echo "FAIL: python3 -m http.server did not start"; cat "$T/http.out"; exit 1; }
v x $W1 --log-proof "$T/p-L2.w" >/dev/null; check "size 2 seen (x)" 0 $?
v x $W1 --log-proof "$T/p-L3.w" --log-url cloud="http://127.0.0.1:$HPORT/" >"$T/o18"
check "--offline: the log's tiles not fetched over HTTP: undecided" 3 $?
undecided "$T/o18"
has "$T/o18" "offline: the log's tiles at http://127.0.0.1:$HPORT/ not fetched"
if grep -q "GET /tile" "$T/http.out"; then echo "FAIL: a tile fetched with --offline"; fails=$((fails + 1)); fi
# online (the collateral is all in the directory: nothing else is fetched)
$CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" \
    --cache-dir "$T/cache-x" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
    --log-vkey cloud="$T/log.vkey" --json $W1 --log-proof "$T/p-L3.w" \
    --log-url cloud="http://127.0.0.1:$HPORT/" >/dev/null
check "online: consistency from the log's tiles over HTTP" 0 $?
grep -q "GET /tile/0/000.p/3" "$T/http.out" || { echo "FAIL: tile not fetched online"; fails=$((fails + 1)); }
kill "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null
# A log that does not give its tiles (404 here) is not asked again for a minute: the check
# runs under the log's state lock, and every verification would otherwise wait for it.
mkdir -p "$T/emptylog"
python3 -u -m http.server --bind 127.0.0.1 --directory "$T/emptylog" 0 >"$T/http2.out" 2>&1 &
HTTPD=$!
i=0; while ! grep -q "port" "$T/http2.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
HPORT2=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http2.out" | head -1)
[ -n "$HPORT2" ] || { echo "FAIL: python3 -m http.server did not start"; cat "$T/http2.out"; exit 1; }
v y2 $W1 --log-proof "$T/p-L2.w" >/dev/null; check "size 2 seen (y2)" 0 $?
online_y2() {
    $CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" \
        --cache-dir "$T/cache-y2" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
        --log-vkey cloud="$T/log.vkey" --json $W1 --log-proof "$T/p-L3.w" \
        --log-url cloud="http://127.0.0.1:$HPORT2/"
}
online_y2 >"$T/o22"; check "a log without its tiles: undecided" 3 $?
undecided "$T/o22"
asked=$(grep -c "GET /tile" "$T/http2.out")
[ "$asked" -ge 1 ] || { echo "FAIL: the log was not asked"; fails=$((fails + 1)); }
online_y2 >"$T/o23"; check "the same log again within the minute: undecided" 3 $?
undecided "$T/o23"
has "$T/o23" "failed within the last 60 s"
[ "$(grep -c "GET /tile" "$T/http2.out")" -eq "$asked" ] ||
    { echo "FAIL: the failed log was asked again within the minute"; fails=$((fails + 1)); }
kill "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null

# Two logs under one name (origin): a provider's own key of another provider's log name. In
# one verification a usage error; in a cache directory shared with a verifier that trusts the
# other key, the state there is not this log's: neither compared (it made a genuine registry
# look like a split view or a shrunk log) nor replaced, and said.
$CVM registry keygen --out "$T/evil" >/dev/null || exit 1
v dup --provider evil="$T/evil.pub" --log-vkey evil="$T/fake.vkey" $W1 --log-proof "$T/p-L2.w" \
    >/dev/null 2>"$T/dup.err"; check "two providers' log keys of one name" 2 $?
has "$T/dup.err" "have one name, $O"
FK="$T/FK"
$CVM registry log append --log "$FK" --key "$T/fake.key" --provider cloud="$T/cloud.pub" "$T/r1.jws" \
    >/dev/null || exit 1
$CVM registry log prove --log "$FK" --registry "$T/r1.jws" --tlog-proof >"$T/p-FK1" || exit 1
$CVM witness cosign --state "$T/wf-FK" --key "$T/w1.key" --log-vkey "$T/fake.vkey" "$FK/checkpoint" \
    >"$T/cw-FK" || exit 1
cat "$T/p-FK1" "$T/cw-FK" >"$T/p-FK1.w"
v sh $W1 --log-proof "$T/p-L3.w" >/dev/null; check "size 3 of one log seen (sh)" 0 $?
cp "$T"/cache-sh/tlog-state.*.checkpoint "$T/sh-before"
$CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
    --cache-dir "$T/cache-sh" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
    --log-vkey cloud="$T/fake.vkey" $W1 --log-proof "$T/p-FK1.w" --json >"$T/o24"
check "another key's log of that name, state shared: bound, with a warning" 0 $?
has "$T/o24" REGISTRY_ROLLBACK_NOT_CHECKED
has "$T/o24" "not signed by cloud's log key"
if grep -q -E 'REGISTRY_LOG_SHRANK|REGISTRY_SPLIT_VIEW' "$T/o24"; then echo "FAIL: another key's state compared"; fails=$((fails + 1)); fi
cmp -s "$T/sh-before" "$T"/cache-sh/tlog-state.*.checkpoint || { echo "FAIL: another key's state replaced"; fails=$((fails + 1)); }
ls "$T/cache-sh" | grep -q '^tlog-conflict\.' && { echo "FAIL: conflict evidence kept for another key's log"; fails=$((fails + 1)); }
v sh $W1 --log-proof "$T/p-L2.w" >"$T/o25"; check "the first log's state still holds (sh)" 1 $?
has "$T/o25" REGISTRY_LOG_SHRANK

# Without --log-vkey, today's behaviour.
$CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
    --cache-dir "$T/cache-n" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" >/dev/null
check "no log key: the registry alone" 0 $?

# A policy that accepts cloud's registries only from its witnessed log.
echo '{"registry_log_required": ["cloud"]}' >"$T/needlog.json"
$CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
    --cache-dir "$T/cache-n" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
    --policy "$T/needlog.json" --json >"$T/o15"
check "policy registry_log_required, no log key: refused" 1 $?
has "$T/o15" POLICY_REGISTRY_LOG_REQUIRED
v u $W12 --log-proof "$T/p1-12" --policy "$T/needlog.json" >"$T/o16"
check "policy registry_log_required, in the witnessed log: accepted" 0 $?
if grep -q POLICY_REGISTRY_LOG_REQUIRED "$T/o16"; then echo "FAIL log-checked binding named"; fails=$((fails + 1)); fi

# A newer registry left undecided for want of its log's tiles still supersedes an older one
# given beside it: version 2 drops the platform version 1 lists (log D: version 1 proven at
# size 1, seen first; version 2 at size 2; each checkpoint cosigned by w1). With the tiles out of reach, undecided (exit 3), never
# bound by the older list; with them, the older one is the rollback it is (exit 1).
printf 'amd chip_id %s region=eu-1\n' "$(printf '6b%.0s' $(seq 64))" >"$T/fleet-d.txt"
$CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet-d.txt" --version 2 \
    --valid-days 30 --out "$T/r2d.jws" >/dev/null || exit 1
D="$T/D"
ap "$D" r1; cp "$D/checkpoint" "$T/D1"
$CVM registry log prove --log "$D" --registry "$T/r1.jws" --tlog-proof >"$T/p-D1"
ap "$D" r2d; cp "$D/checkpoint" "$T/D2"
$CVM registry log prove --log "$D" --registry "$T/r2d.jws" --tlog-proof >"$T/p-D2r2"
cw D1 "$T/D1" "$T/p-D1"
$CVM witness cosign --state "$T/wf-D2" --key "$T/w1.key" --log-vkey "$T/log.vkey" "$T/D2" >"$T/cw-D2" || exit 1
cat "$T/p-D2r2" "$T/cw-D2" >"$T/p-D2r2.w"
v dd $W1 --log-proof "$T/p-D1.w" >/dev/null; check "size 1 of log D seen" 0 $?
for url in "$T/nonexistent" "$D"; do
    $CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
        --cache-dir "$T/cache-dd" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
        --registry "$T/r2d.jws" --log-vkey cloud="$T/log.vkey" $W1 --log-proof "$T/p-D1.w" \
        --log-proof "$T/p-D2r2.w" --log-url cloud="$url" --json >"$T/o-dd"
    rc=$?
    if [ "$url" = "$D" ]; then
        check "an older registry beside a newer one, the log's tiles had: refused" 1 $rc
        has "$T/o-dd" REGISTRY_ROLLBACK
    else
        check "an older registry beside a newer one whose log is out of reach: undecided" 3 $rc
        has "$T/o-dd" "r1.jws: not used: provider cloud version 1 is older than version 2"
    fi
    if grep -q '"provider": "cloud"' "$T/o-dd"; then
        echo "FAIL: the older registry bound the platform ($url)"; fails=$((fails + 1))
    fi
done

$CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
    --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" --log-proof "$T/p1-12" >/dev/null 2>"$T/u.err"
check "--log-proof without --log-vkey" 2 $?
has "$T/u.err" "need a registry log key: log_keys (--log-vkey PROVIDER=VKEY)"

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
