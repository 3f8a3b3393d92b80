#!/bin/sh
# registry log check --state DIR (docs/registry.md "Running the log", step 4): the monitor
# remembers the checkpoint it verified and holds the next run's log to it. The same log, or a
# log grown from it, passes; a log rewritten in place with the same size and another root, or
# grown from another tree, is a SPLIT VIEW (exit 1, both checkpoints kept in DIR); a smaller
# checkpoint than the one verified is refused and not stored; a state directory others can
# write is not used (exit 2). Without --state nothing is remembered (the rewrite passes).
set -u
CVM=${CVMATTEST_BIN:?}
T=$(mktemp -d /tmp/cvma-e2e-reglogm.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks '$2'"; head -c 1500 "$1"; echo; fails=$((fails + 1)); }; }
hasnt() { if grep -q -- "$2" "$1"; then echo "FAIL: $1 has '$2'"; head -c 1500 "$1"; echo; fails=$((fails + 1)); fi; }

chip=$(printf '5a%.0s' $(seq 64))
$CVM registry keygen --out "$T/cloud" >/dev/null || exit 1
printf 'amd chip_id %s region=eu-1\n' "$chip" >"$T/fleet.txt"
for ver in 1 2 3 4 5 9 10; do
    $CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version $ver \
        --valid-days 30 --out "$T/r$ver.jws" >/dev/null || exit 1
done
O=example.com/cloud/registry-log
$CVM registry log keygen --out "$T/log" --origin $O >/dev/null || exit 1
ap() { $CVM registry log append --log "$1" --key "$T/log.key" --provider cloud="$T/cloud.pub" "$T/$2.jws" >/dev/null || exit 1; }
# L: r1 r2 r3 (kept as L3), then r4. F: r1 r2 r5 r9, the same size as L4 with another root,
# and F5 = F + r10.
L="$T/L"; for r in r1 r2 r3; do ap "$L" $r; done; cp -r "$L" "$T/L3"; ap "$L" r4; cp -r "$L" "$T/L4"
F="$T/F"; for r in r1 r2 r5 r9; do ap "$F" $r; done; cp -r "$F" "$T/F4"; ap "$F" r10; cp -r "$F" "$T/F5"

S="$T/state"
serve() { rm -rf "$T/pub" && cp -r "$1" "$T/pub"; } # what the log's host serves now
mon() { $CVM registry log check --log "$T/pub" --vkey "$T/log.vkey" --provider cloud="$T/cloud.pub" --quiet "$@"; }
monv() { $CVM registry log check --log "$T/pub" --vkey "$T/log.vkey" --provider cloud="$T/cloud.pub" "$@"; } # with the change lines

serve "$T/L3"
mon --state "$S" >"$T/o1"; check "first run: stored" 0 $?
has "$T/o1" "first seen, stored"
[ "$(stat -c %a "$S")" = 700 ] || { echo "FAIL: state directory not 0700"; fails=$((fails + 1)); }
for f in "$S"/tlog-state.*.checkpoint; do
    [ "$(stat -c %a "$f")" = 600 ] || { echo "FAIL: $f is not 0600"; fails=$((fails + 1)); }
done
mon --state "$S" >"$T/o2"; check "the same log again" 0 $?
has "$T/o2" "the checkpoint verified before"
serve "$T/L4"
mon --state "$S" >"$T/o3"; check "the log grew" 0 $?
has "$T/o3" "consistent with size 3"

# The review's rewrite: the host now serves another log of the same size.
serve "$T/F4"
mon >/dev/null; check "without --state the rewrite goes unseen" 0 $?
mon --state "$S" >/dev/null 2>"$T/e4"; check "rewritten, same size, other root" 1 $?
has "$T/e4" "SPLIT VIEW"
has "$T/e4" "two checkpoints of size 4"
ls "$S" | grep -q '^tlog-conflict\..*\.seen$' || { echo "FAIL: the conflict not kept"; fails=$((fails + 1)); }
for f in "$S"/tlog-conflict.*; do
    grep -q "^— $O " "$f" || { echo "FAIL: $f holds no log signature"; fails=$((fails + 1)); }
done
mon --state "$S" >/dev/null 2>&1; check "the state still holds the first view" 1 $?
serve "$T/L4"
mon --state "$S" >/dev/null; check "the first view again" 0 $?
# Grown from another tree: the first 4 entries of F5 are not L4.
serve "$T/F5"
mon --state "$S" >/dev/null 2>"$T/e5"; check "rewritten and grown" 1 $?
has "$T/e5" "SPLIT VIEW"
has "$T/e5" "the first 4 entries of its checkpoint of size 5 do not hash"
ls "$S" | grep -q '^tlog-conflict\..*\.5\..*\.consistency$' ||
    { echo "FAIL: the consistency proof not kept"; fails=$((fails + 1)); }
# A log refused by the state check prints none of its change lines (stdout carries the changes
# of an accepted log only).
monv --state "$S" >"$T/o5v" 2>/dev/null; check "rewritten and grown, with the change lines" 1 $?
hasnt "$T/o5v" "^version "
# A smaller checkpoint than the one verified: refused, not stored.
serve "$T/L3"
mon --state "$S" >/dev/null 2>"$T/e6"; check "a smaller checkpoint" 1 $?
has "$T/e6" "size 4 was verified before"
monv --state "$S" >"$T/o6v" 2>/dev/null; check "a smaller checkpoint, with the change lines" 1 $?
hasnt "$T/o6v" "^version "
serve "$T/L4"
mon --state "$S" >"$T/o7"; check "size 4 still the one kept" 0 $?
has "$T/o7" "the checkpoint verified before"
monv --state "$S" >"$T/o7v"; check "size 4 again, with the change lines" 0 $?
has "$T/o7v" "^version 1: + amd chip_id"
# A state directory others can write is not used.
mkdir "$T/open" && chmod 777 "$T/open"
mon --state "$T/open" >/dev/null 2>"$T/e8"; check "a state directory others can write" 2 $?
has "$T/e8" "state directory not used"
# A state file that is not a log state is neither compared nor replaced.
S2="$T/state2"; mon --state "$S2" >/dev/null; check "first run (state2)" 0 $?
for f in "$S2"/tlog-state.*.checkpoint; do echo garbage >"$f"; done
mon --state "$S2" >/dev/null 2>"$T/e9"; check "a corrupt state" 2 $?
has "$T/e9" "not a log state"
grep -q '^garbage$' "$S2"/tlog-state.*.checkpoint || { echo "FAIL: a corrupt state replaced"; fails=$((fails + 1)); }

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
