#!/bin/sh
# Interoperability with Go's golang.org/x/mod/sumdb/note and .../sumdb/tlog (Debian's
# golang-golang-x-mod-dev, built offline in GOPATH mode): Go verifies our checkpoint, a
# witness cosignature, every tile (byte for byte against tlog.ReadTileData), inclusion and
# consistency proofs; proofs Go makes (tlog.ProveRecord, tlog.ProveTree) verify with
# `cvmattest verify`, and a checkpoint Go signs verifies with `cvmattest witness cosign`.
# 260 registries: a full level-0 tile, a partial one and a partial level-1 tile.
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
GOSRC=/usr/share/gocode
command -v go >/dev/null 2>&1 || { echo "go_interop: SKIP: go not installed (make deps: golang-go)" >&2; exit 77; }
[ -f "$GOSRC/src/golang.org/x/mod/sumdb/tlog/tlog.go" ] ||
    { echo "go_interop: SKIP: golang-golang-x-mod-dev not installed (make deps)" >&2; exit 77; }
T=$(mktemp -d /tmp/cvma-e2e-goint.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 1200 "$1"; echo; fails=$((fails + 1)); }; }

# Offline: GOPATH mode finds golang.org/x/mod in Debian's source tree; no module proxy.
(cd "$T" && GO111MODULE=off GOPATH=$GOSRC GOCACHE="$T/gocache" GOFLAGS= GOPROXY=off \
    go build -o "$T/tlogcheck" "$SRC/tests/interop/tlogcheck/main.go") >"$T/build.log" 2>&1
check "go build (offline, GOPATH mode)" 0 $?
[ -x "$T/tlogcheck" ] || { cat "$T/build.log"; exit 1; }

chip=$(printf '5a%.0s' $(seq 64))
$CVM sim snp --out "$T/g" --chip-id "$chip" >/dev/null || exit 1
$CVM registry keygen --out "$T/cloud" >/dev/null || exit 1
printf 'amd chip_id %s region=eu-1\n' "$chip" >"$T/fleet.txt"
O=example.com/cloud/registry-log
$CVM registry log keygen --out "$T/log" --origin $O >/dev/null || exit 1
# A witness key whose base64 holds a '+' (the key-string separator), as about half do.
i=0
while :; do
    rm -f "$T/w1.key" "$T/w1.vkey"
    $CVM witness keygen --out "$T/w1" --name witness.example/w1 >/dev/null || exit 1
    cut -d+ -f3- "$T/w1.vkey" | grep -q '+' && break
    i=$((i + 1)); [ $i -lt 64 ] || break
done
L="$T/L"
REGS=""
for ver in $(seq 1 260); do
    $CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version $ver \
        --valid-days 30 --out "$T/r$ver.jws" >/dev/null || exit 1
    $CVM registry log append --log "$L" --key "$T/log.key" --provider cloud="$T/cloud.pub" "$T/r$ver.jws" >/dev/null || exit 1
    REGS="$REGS $T/r$ver.jws"
    [ $ver = 100 ] && cp "$L/checkpoint" "$T/cp100"
done
$CVM witness cosign --state "$T/ws" --key "$T/w1.key" --log-vkey "$T/log.vkey" "$T/cp100" >"$T/cs100" || exit 1
$CVM registry log prove --log "$L" --from 100 >"$T/c100.json" || exit 1
$CVM witness cosign --state "$T/ws" --key "$T/w1.key" --log-vkey "$T/log.vkey" --proof "$T/c100.json" \
    "$L/checkpoint" >>"$L/checkpoint"; check "witness cosigns the 260 checkpoint" 0 $?
for i in 1 77 256 260; do
    $CVM registry log prove --log "$L" --registry "$T/r$i.jws" >"$T/inc$i.json" || exit 1
done
[ -f "$L/tile/0/000" ] && [ -f "$L/tile/0/001.p/4" ] && [ -f "$L/tile/1/000.p/1" ] ||
    { echo "FAIL: expected tiles missing"; find "$L/tile" -type f | head; fails=$((fails + 1)); }

# Go verifies ours.
# shellcheck disable=SC2086
"$T/tlogcheck" check -dir "$L" -log-vkey "$T/log.vkey" -witness-vkey "$T/w1.vkey" \
    -inclusion "$T/inc1.json:$T/r1.jws" -inclusion "$T/inc77.json:$T/r77.jws" \
    -inclusion "$T/inc256.json:$T/r256.jws" -inclusion "$T/inc260.json:$T/r260.jws" \
    -consistency "$T/c100.json:$T/cp100" $REGS >"$T/go.out" 2>&1
check "Go: note.Open, tlog.TreeHash, tiles, CheckRecord, CheckTree" 0 $?
has "$T/go.out" "4 inclusion and 1 consistency proofs verified"
# and notices a flipped tile byte. (The byte is a record hash's, random per run: it is xored
# with 1, since a fixed value written there, 'x', was the byte already once in 256 runs.)
cp -r "$L" "$T/bad" || exit 1
b=$(od -An -tu1 -j5 -N1 "$T/bad/tile/0/001.p/4" | tr -d ' ')
printf "\\$(printf '%03o' $((b ^ 1)))" | dd of="$T/bad/tile/0/001.p/4" bs=1 seek=5 conv=notrunc 2>/dev/null
cmp -s "$L/tile/0/001.p/4" "$T/bad/tile/0/001.p/4" && { echo "FAIL: the tile byte was not changed"; fails=$((fails + 1)); }
"$T/tlogcheck" check -dir "$T/bad" -log-vkey "$T/log.vkey" -witness-vkey "$T/w1.vkey" $REGS >/dev/null 2>&1
check "Go notices an altered tile" 1 $?

# We verify Go's proofs: an inclusion proof (tlog.ProveRecord) in a tlog-proof, and a
# consistency proof (tlog.ProveTree) as --log-consistency.
"$T/tlogcheck" prove -dir "$L" -index 76 -old 100 -proof-out "$T/go77.proof" \
    -consistency-out "$T/go-c100.json" $REGS || { echo "FAIL: tlogcheck prove"; fails=$((fails + 1)); }
v() { $CVM verify "$T/g/report.bin" --collateral "$T/g" --trust-root "$T/g/ark.pem" --offline \
          --cache-dir "$T/cache" --provider cloud="$T/cloud.pub" --log-vkey cloud="$T/log.vkey" \
          --witness-vkey "$T/w1.vkey" --json "$@"; }
$CVM registry log prove --log "$L" --registry "$T/r77.jws" --tlog-proof >"$T/ours77.proof"
cmp -s "$T/ours77.proof" "$T/go77.proof" || { echo "FAIL: Go's tlog-proof differs from ours"; fails=$((fails + 1)); }
# The verifier first sees size 100 (Go's proof against the cosigned checkpoint of size 100).
cat "$T/cp100" "$T/cs100" >"$T/cp100w"
# shellcheck disable=SC2046
"$T/tlogcheck" prove -dir "$L" -checkpoint "$T/cp100w" -index 76 -old 1 -proof-out "$T/go77-at100.proof" \
    -consistency-out "$T/unused.json" $(echo $REGS | tr ' ' '\n' | head -100)
v --registry "$T/r77.jws" --log-proof "$T/go77-at100.proof" >"$T/v1.json"; check "verify: Go's inclusion proof at size 100" 0 $?
v --registry "$T/r77.jws" --log-proof "$T/go77.proof" >"$T/v2.json"; check "verify: size 260 without a consistency proof" 1 $?
has "$T/v2.json" REGISTRY_LOG_UNPROVEN
v --registry "$T/r77.jws" --log-proof "$T/go77.proof" --log-consistency "$T/go-c100.json" >"$T/v3.json"
check "verify: Go's inclusion proof at 260 and Go's consistency proof from 100" 0 $?

# A checkpoint Go signs (note.GenerateKey, note.Sign) verifies with our note code.
"$T/tlogcheck" sign -origin example.org/golog -vkey-out "$T/go.vkey" -out "$T/go.checkpoint" $REGS || exit 1
$CVM witness cosign --state "$T/ws3" --key "$T/w1.key" --log-vkey "$T/go.vkey" "$T/go.checkpoint" >"$T/gocs"
check "witness cosigns a checkpoint Go signed" 0 $?
has "$T/gocs" "^— witness.example/w1 "

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
