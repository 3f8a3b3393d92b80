#!/bin/sh
# verify with several --log-proof checkpoints of one log (docs/registry.md "The verifier"):
# every candidate signed by the log key and cosigned by enough witnesses is compared with the
# others before any is taken. A log L = r1,r2,r3(,r4) and a fork F = r1,r2,r9 of the same
# size as L3, both signed by the log key and cosigned by two colluding witnesses: given
# together they are a split view (REGISTRY_SPLIT_VIEW, both kept as evidence) in either
# order, with or without a stored state; so is F3 beside L4 with the consistency proof from 3
# to 4 (which leads to L4's root from another tree of size 3 than F3), given together or F3
# seen before. A failing proof whose
# smaller size is a power of two holds no hash of that tree: refused, not a split view, unless
# the log's tiles (--log-url) prove it. Two honest checkpoints still bind.
set -u
CVM=${CVMATTEST_BIN:?}
T=$(mktemp -d /tmp/cvma-e2e-reglogc.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 1500 "$1"; echo; fails=$((fails + 1)); }; }
hasnt() { if grep -q -- "$2" "$1"; then echo "FAIL: $1 has $2"; head -c 1500 "$1"; echo; fails=$((fails + 1)); fi; }
kept() { # cache: the conflict evidence is there, every file signed by the log key
    ls "$T/cache-$1" 2>/dev/null | grep -q '^tlog-conflict\..*\.seen$' ||
        { echo "FAIL: no conflict kept in cache-$1"; fails=$((fails + 1)); return; }
    for f in "$T/cache-$1"/tlog-conflict.*; do
        case $f in *.consistency) continue ;; esac
        grep -q "^— $O " "$f" || { echo "FAIL: $f holds no log signature"; fails=$((fails + 1)); }
    done
}

chip=$(printf '5a%.0s' $(seq 64))
$CVM sim snp --out "$T/g" --chip-id "$chip" >/dev/null || exit 1
$CVM registry keygen --out "$T/cloud" >/dev/null || exit 1
printf 'amd chip_id %s region=eu-1\n' "$chip" >"$T/fleet.txt"
for ver in 1 2 3 4 9; do
    $CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version $ver \
        --valid-days 30 --out "$T/r$ver.jws" >/dev/null || exit 1
done
O=example.com/cloud/registry-log
$CVM registry log keygen --out "$T/log" --origin $O >/dev/null || exit 1
for w in w1 w2; do $CVM witness keygen --out "$T/$w" --name "witness.example/$w" >/dev/null || exit 1; done

L="$T/L"; F="$T/F"; G="$T/G"
ap() { $CVM registry log append --log "$1" --key "$T/log.key" --provider cloud="$T/cloud.pub" "$T/$2.jws" >/dev/null || exit 1; }
# cp NAME LOGDIR: a proof of r1 in LOGDIR's checkpoint, cosigned by w1 and w2 each from a state
# of its own per log (witnesses that collude with the provider), as $T/NAME.w
cw() {
    $CVM registry log prove --log "$2" --registry "$T/r1.jws" --tlog-proof >"$T/$1" || exit 1
    cp "$2/checkpoint" "$T/$1.cp"
    for w in w1 w2; do
        $CVM witness cosign --state "$T/ws-$w-$1" --key "$T/$w.key" --log-vkey "$T/log.vkey" \
            "$T/$1.cp" >"$T/$1.$w" || exit 1
    done
    cat "$T/$1" "$T/$1.w1" "$T/$1.w2" >"$T/$1.w"
}
ap "$L" r1; ap "$L" r2; cw L2 "$L"
ap "$L" r3; cw L3 "$L"
ap "$L" r4; cw L4 "$L"
$CVM registry log prove --log "$L" --from 3 >"$T/c3-4.json" || exit 1
$CVM registry log prove --log "$L" --from 2 >"$T/c2-4.json" || exit 1
ap "$F" r1; ap "$F" r2; ap "$F" r9; cw F3 "$F"
ap "$G" r1; ap "$G" r9; cw G2 "$G"

v() { cache=$1; shift
      $CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
          --cache-dir "$T/cache-$cache" --provider cloud="$T/cloud.pub" --registry "$T/r1.jws" \
          --log-vkey cloud="$T/log.vkey" --witness-vkey "$T/w1.vkey" --witness-vkey "$T/w2.vkey" \
          --json "$@"; }

# Honest candidates still bind.
v h1 --log-proof "$T/L3.w" --log-proof "$T/L4.w" --log-consistency "$T/c3-4.json" >"$T/o1"
check "two checkpoints of the log, a consistency proof between them" 0 $?
v h2 --log-proof "$T/L4.w" --log-proof "$T/L3.w" >"$T/o2"
check "two checkpoints of the log, no proof between them (not compared)" 0 $?
v h3 --log-proof "$T/L3.w" --log-proof "$T/L3.w" >/dev/null; check "one checkpoint given twice" 0 $?

# Same size, other root: a split view in either order, fresh cache or with state.
v a --log-proof "$T/F3.w" --log-proof "$T/L3.w" >"$T/o3"; check "fresh cache: fork first, log second" 1 $?
has "$T/o3" REGISTRY_SPLIT_VIEW
kept a
[ ! -e "$T"/cache-a/tlog-state.*.checkpoint ] || { echo "FAIL: a checkpoint stored on a split view"; fails=$((fails + 1)); }
v b --log-proof "$T/L3.w" --log-proof "$T/F3.w" >"$T/o4"; check "fresh cache: log first, fork second" 1 $?
has "$T/o4" REGISTRY_SPLIT_VIEW
kept b
v c --log-proof "$T/L3.w" >/dev/null; check "size 3 seen (c)" 0 $?
v c --log-proof "$T/L3.w" --log-proof "$T/F3.w" >"$T/o5"; check "state L3: log first, fork second" 1 $?
has "$T/o5" REGISTRY_SPLIT_VIEW
kept c
v d --log-proof "$T/F3.w" >/dev/null; check "the fork seen first (d)" 0 $?
v d --log-proof "$T/F3.w" --log-proof "$T/L3.w" >"$T/o6"; check "state F3: fork first, log second" 1 $?
has "$T/o6" REGISTRY_SPLIT_VIEW

# Another size: the fork beside a larger checkpoint of the log and the proof from 3 to 4,
# which leads to L4's signed root from another tree of size 3 than F3's.
v e --log-proof "$T/L4.w" --log-proof "$T/F3.w" --log-consistency "$T/c3-4.json" >"$T/o7"
check "fresh cache: L4, F3 and the proof from 3 to 4" 1 $?
has "$T/o7" REGISTRY_SPLIT_VIEW
kept e
ls "$T/cache-e" | grep -q '^tlog-conflict\..*\.consistency$' ||
    { echo "FAIL: the consistency proof not kept with the conflict"; fails=$((fails + 1)); }
v f --log-proof "$T/L3.w" >/dev/null; check "size 3 seen (f)" 0 $?
v f --log-proof "$T/F3.w" --log-proof "$T/L4.w" --log-consistency "$T/c3-4.json" >"$T/o8"
check "state L3: F3, L4 and the proof from 3 to 4" 1 $?
has "$T/o8" REGISTRY_SPLIT_VIEW
# The same proof against the state: the fork seen before, L4 with the proof from 3 to 4.
v i --log-proof "$T/F3.w" >/dev/null; check "the fork seen first (i)" 0 $?
v i --log-proof "$T/L4.w" --log-consistency "$T/c3-4.json" >"$T/o11"
check "state F3: L4 and the proof from 3 to 4" 1 $?
has "$T/o11" REGISTRY_SPLIT_VIEW
kept i
ls "$T/cache-i" | grep -q '^tlog-conflict\..*\.consistency$' ||
    { echo "FAIL: the consistency proof not kept with the state's conflict"; fails=$((fails + 1)); }
# A proof from size 2 (a power of two: it holds no hash of the smaller tree) that fails
# against G2 proves nothing: refused, never called a split view; the log's tiles prove it.
v g --log-proof "$T/L4.w" --log-proof "$T/G2.w" --log-consistency "$T/c2-4.json" >"$T/o9"
check "L4, a fork of size 2 and the proof from 2 to 4" 1 $?
has "$T/o9" REGISTRY_LOG_CONSISTENCY_INVALID
hasnt "$T/o9" REGISTRY_SPLIT_VIEW
ls "$T/cache-g" 2>/dev/null | grep -q '^tlog-conflict\.' && { echo "FAIL: a conflict kept for a failing proof"; fails=$((fails + 1)); }
v g2 --log-proof "$T/L4.w" --log-proof "$T/G2.w" --log-consistency "$T/c2-4.json" \
    --log-url cloud="$L" >"$T/o10"
check "the same, the log's tiles prove the fork" 1 $?
has "$T/o10" REGISTRY_SPLIT_VIEW
kept g2
v g3 --log-proof "$T/L4.w" --log-proof "$T/L2.w" --log-consistency "$T/c2-4.json" >/dev/null
check "L4, L2 and the proof from 2 to 4" 0 $?

# The monitor's --state is the verifier's log state: a cache directory where the monitor
# verified L4 holds the fork of size 3 to it (the proof from 3 to 4 shows the split view).
$CVM registry log check --log "$L" --vkey "$T/log.vkey" --provider cloud="$T/cloud.pub" --quiet \
    --state "$T/cache-m" >/dev/null; check "the monitor verified L4 into the cache (m)" 0 $?
v m --log-proof "$T/F3.w" --log-consistency "$T/c3-4.json" >"$T/o13"
check "the verifier holds the fork to the monitor's checkpoint" 1 $?
has "$T/o13" REGISTRY_SPLIT_VIEW
v m --log-proof "$T/L3.w" --log-consistency "$T/c3-4.json" >/dev/null
check "and the log's own older checkpoint passes" 0 $?

# docs/collateral.md "Clearing the cache": deleting the entries keeps the log state (the fork
# is still refused after size 3 of the log was seen); removing the directory resets it (the
# fork then goes through, as the first checkpoint seen).
v k --log-proof "$T/L3.w" >/dev/null; check "size 3 seen (k)" 0 $?
find "$T/cache-k" -maxdepth 1 -name '*.entry' -delete
v k --log-proof "$T/F3.w" >"$T/o12"; check "the entries deleted: the fork still refused" 1 $?
has "$T/o12" REGISTRY_SPLIT_VIEW
rm -rf "$T/cache-k"
v k --log-proof "$T/F3.w" >/dev/null; check "the cache directory removed: the floor is gone" 0 $?

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
