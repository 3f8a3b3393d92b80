#!/bin/sh
# The registry transparency log end to end (docs/registry.md "Registry log"): log keygen,
# append (and its refusals: not newer, another provider, too large, a bad signature, no
# --provider), prove (inclusion, tlog-proof, consistency), check (the monitor, with and
# without witnesses) and a tile altered on disk found by check; witness keygen and cosign
# (and a witness refusing an inconsistent checkpoint, another key's, a bad request).
set -u
CVM=${CVMATTEST_BIN:?}
command -v python3 >/dev/null 2>&1 || { echo "registry_log: SKIP: python3 not installed" >&2; exit 77; }
T=$(mktemp -d /tmp/cvma-e2e-reglog.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi
}
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks '$2'"; head -c 800 "$1"; echo; fails=$((fails + 1)); }; }
hasnt() { if grep -q -- "$2" "$1"; then echo "FAIL: $1 has '$2'"; head -c 800 "$1"; echo; fails=$((fails + 1)); fi; }

CHIP=0910b4f884ff4ba9$(printf '0%.0s' $(seq 112))
CHIP2=3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d
printf 'amd chip_id %s region=eu-1\n' "$CHIP" >"$T/f1.txt"
printf 'amd chip_id %s region=eu-1\namd chip_id %s region=eu-2\n' "$CHIP" "$CHIP2" >"$T/f2.txt"
printf 'amd chip_id %s region=eu-2\n' "$CHIP2" >"$T/f3.txt"
$CVM registry keygen --out "$T/acme" >/dev/null && $CVM registry keygen --out "$T/other" >/dev/null || exit 1
for v in 1 2 3; do
    $CVM registry build --provider acme --key "$T/acme.key" --entries "$T/f$v.txt" --version $v \
        --valid-days 30 --out "$T/r$v.jws" >/dev/null || exit 1
done
$CVM registry build --provider other --key "$T/other.key" --entries "$T/f1.txt" --version 9 \
    --valid-days 30 --out "$T/o9.jws" >/dev/null || exit 1
python3 -c "
import random
random.seed(7)
for i in range(600):
    print('amd chip_id %0128x' % random.getrandbits(512))" >"$T/big.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/big.txt" --version 4 \
    --valid-days 30 --out "$T/big.jws" >/dev/null || exit 1

# keygen: Go's note key formats.
$CVM registry log keygen --out "$T/acmelog" --origin example.com/acme/log >"$T/kg.out"; check "log keygen" 0 $?
[ "$(stat -c %a "$T/acmelog.key")" = 600 ] || { echo "FAIL: key mode"; fails=$((fails + 1)); }
has "$T/acmelog.key" "^PRIVATE+KEY+example.com/acme/log+[0-9a-f]\{8\}+"
has "$T/acmelog.vkey" "^example.com/acme/log+[0-9a-f]\{8\}+AQ\|^example.com/acme/log+[0-9a-f]\{8\}+A"
$CVM registry log keygen --out "$T/acmelog" >/dev/null 2>&1; check "log keygen never overwrites" 2 $?
# the .vkey: a symlink there is replaced, not written through; one that cannot be written
# leaves no .key behind (log keygen and witness keygen alike)
echo keep >"$T/victim"
for k in "registry log" witness; do
    n=$(echo "$k" | tr -d ' ')
    ln -s "$T/victim" "$T/$n-sl.vkey"
    $CVM $k keygen --out "$T/$n-sl" >/dev/null; check "$k keygen over a symlinked .vkey" 0 $?
    [ "$(cat "$T/victim")" = keep ] && [ ! -L "$T/$n-sl.vkey" ] ||
        { echo "FAIL: $k keygen wrote through the .vkey symlink"; fails=$((fails + 1)); }
    mkdir "$T/$n-d.vkey"
    $CVM $k keygen --out "$T/$n-d" >/dev/null 2>"$T/kgd.err"; check "$k keygen, .vkey not writable" 2 $?
    has "$T/kgd.err" "$n-d.key' removed again"
    [ -e "$T/$n-d.key" ] && { echo "FAIL: $k keygen left a .key without its .vkey"; fails=$((fails + 1)); }
    rmdir "$T/$n-d.vkey"
    $CVM $k keygen --out "$T/$n-d" >/dev/null; check "$k keygen again once the .vkey can be written" 0 $?
done

# A registry file with spaces and tabs after its token is read as verify and registry check read
# it (it was refused as "not a registry" here alone)
{ cat "$T/r1.jws"; printf ' \t\n'; } >"$T/r1ws.jws"
$CVM registry check "$T/r1ws.jws" --pub "$T/acme.pub" >/dev/null 2>&1; check "registry check: blanks after the token" 0 $?
$CVM registry log append --log "$T/logws" --key "$T/acmelog.key" --provider acme="$T/acme.pub" \
    "$T/r1ws.jws" >/dev/null 2>"$T/ws.err"
check "append: blanks after the token, as registry check reads it ($(cat "$T/ws.err"))" 0 $?

L="$T/log"
$CVM registry log append --log "$L" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/r1.jws" >"$T/a1.out"; check "append v1" 0 $?
has "$T/a1.out" "entry 0; checkpoint size 1"
cp "$L/checkpoint" "$T/cp1"
$CVM registry log append --log "$L" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/r2.jws" >/dev/null
check "append v2 (signature checked)" 0 $?
cp "$L/checkpoint" "$T/cp2"
$CVM registry log append --log "$L" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/r1.jws" 2>"$T/old.err"; check "append refuses an older version" 1 $?
has "$T/old.err" "not newer"
$CVM registry log append --log "$L" --key "$T/acmelog.key" --provider other="$T/other.pub" "$T/o9.jws" 2>"$T/oth.err"; check "append refuses another provider" 1 $?
has "$T/oth.err" "provider 'other'"
$CVM registry log append --log "$L" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/o9.jws" 2>"$T/oth2.err"; check "append refuses a registry not of --provider" 1 $?
$CVM registry log append --log "$L" --key "$T/acmelog.key" "$T/r3.jws" 2>"$T/np.err"; check "append without --provider (signature unchecked)" 2 $?
has "$T/np.err" "provider"
$CVM registry log append --log "$L" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/big.jws" 2>"$T/big.err"; check "append refuses > 65,535 bytes" 1 $?
has "$T/big.err" "root-only"
$CVM registry log append --log "$L" --key "$T/acmelog.key" --provider acme="$T/other.pub" "$T/r3.jws" 2>"$T/sig.err"
check "append refuses a bad signature" 1 $?
has "$T/sig.err" "REGISTRY_SIGNATURE_INVALID"
# provider acme's name, another key (the header's kid made the old key's): the log's last
# registry does not verify with it, so it is not appended
$CVM registry build --provider acme --key "$T/other.key" --entries "$T/f3.txt" --version 8 \
    --valid-days 30 --out "$T/k8.jws" >/dev/null || exit 1
# (k8kid: re-signed with the other key after its header's kid was made acme's key's)
if python3 -c 'import cryptography' 2>/dev/null; then
    python3 - "$T/k8.jws" "$T/r2.jws" "$T/other.key" "$T/k8kid.jws" <<'PY' || exit 1
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
def b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")
def seg(s):
    return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
h8, p8, _ = open(sys.argv[1]).read().strip().split(".")
h = seg(h8)
h["kid"] = seg(open(sys.argv[2]).read().strip().split(".")[0])["kid"]
hdr = b64(json.dumps(h, separators=(",", ":")).encode())
key = serialization.load_pem_private_key(open(sys.argv[3], "rb").read(), None)
r, s = decode_dss_signature(key.sign((hdr + "." + p8).encode(), ec.ECDSA(hashes.SHA256())))
open(sys.argv[4], "w").write(hdr + "." + p8 + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big")) + "\n")
PY
    KS="k8 k8kid"
else
    echo "note: no python3-cryptography: the kid case is not checked"
    KS=k8
fi
for k in $KS; do
    $CVM registry log append --log "$L" --key "$T/acmelog.key" --provider acme="$T/other.pub" "$T/$k.jws" 2>"$T/$k.err"
    check "append refuses acme's registry signed by another key ($k)" 1 $?
    has "$T/$k.err" "does not verify with the --provider key"
done
$CVM registry log append --log "$L" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/r3.jws" >/dev/null; check "append v3" 0 $?
has "$L/checkpoint" "^example.com/acme/log$"
has "$L/checkpoint" "^3$"
[ -f "$L/tile/0/000.p/3" ] && [ -f "$L/tile/entries/000.p/3" ] || { echo "FAIL: tiles missing"; find "$L"; fails=$((fails + 1)); }

# prove: inclusion (JSON and tlog-proof) and consistency.
$CVM registry log prove --log "$L" --registry "$T/r2.jws" >"$T/inc.json"; check "prove inclusion" 0 $?
has "$T/inc.json" '"index": 1'
has "$T/inc.json" '"tree_size": 3'
$CVM registry log prove --log "$L" --registry "$T/r2.jws" --tlog-proof >"$T/r2.proof"; check "prove --tlog-proof" 0 $?
has "$T/r2.proof" "^c2sp.org/tlog-proof@v1$"
has "$T/r2.proof" "^index 1$"
$CVM registry log prove --log "$L" --from 2 >"$T/cons.json"; check "prove consistency" 0 $?
has "$T/cons.json" '"old_size": 2'
# from 0: a new witness's size (docs/registry.md "Running the log" step 3), the empty proof
$CVM registry log prove --log "$L" --from 0 >"$T/cons0.json"; check "prove consistency from 0" 0 $?
has "$T/cons0.json" '"old_size": 0'
has "$T/cons0.json" '"hashes": \[\]'
$CVM registry log prove --log "$L" --registry "$T/o9.jws" >/dev/null 2>&1; check "prove: not in the log" 1 $?

# check: the monitor reports the fleet changes.
$CVM registry log check --log "$L" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" >"$T/chk.out"
check "log check" 0 $?
has "$T/chk.out" "version 2: + amd chip_id $CHIP2"
has "$T/chk.out" "version 3: - amd chip_id $CHIP"
has "$T/chk.out" "3 registries, every tile and the root verified"
# The monitor over HTTP: the log as a static web server serves it.
python3 -u -m http.server --bind 127.0.0.1 --directory "$L" 0 >"$T/http.out" 2>&1 &
HTTPD=$!
i=0; while ! grep -q "port" "$T/http.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
HPORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.out" | head -1)
[ -n "$HPORT" ] || { echo "FAIL: python3 -m http.server did not start"; cat "$T/http.out"; exit 1; }
$CVM registry log check --log "http://127.0.0.1:$HPORT/" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" >"$T/chk-http.out"
check "log check over HTTP" 0 $?
has "$T/chk-http.out" "3 registries, every tile and the root verified"
kill "$HTTPD" 2>/dev/null; wait "$HTTPD" 2>/dev/null
cp -r "$L" "$T/bad"
python3 -c "
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read()); b[40] ^= 1; open(p, 'wb').write(b)" "$T/bad/tile/0/000.p/3"
$CVM registry log check --log "$T/bad" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" >/dev/null 2>"$T/bad.err"
check "log check finds an altered tile" 1 $?
has "$T/bad.err" "tile/0/000.p/3 does not match"

# witness: cosigns consistent checkpoints only.
$CVM witness keygen --out "$T/w1" --name witness.example/w1 >/dev/null; check "witness keygen" 0 $?
$CVM witness keygen --out "$T/w2" --name witness.example/w2 >/dev/null || exit 1
WS="$T/w1state"
$CVM witness cosign --state "$WS" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" "$T/cp1" >"$T/cs1"
check "witness cosigns the first checkpoint" 0 $?
has "$T/cs1" "^— witness.example/w1 "
$CVM registry log prove --log "$L" --from 1 >"$T/c13.json" || exit 1
$CVM witness cosign --state "$WS" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" "$L/checkpoint" 2>"$T/np.err" >/dev/null
check "witness wants a consistency proof" 1 $?
has "$T/np.err" "last cosigned size is 1"
has "$T/np.err" "give --proof from that size"
$CVM witness cosign --state "$WS" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" --proof "$T/c13.json" "$L/checkpoint" >"$T/cs3"
check "witness cosigns with a consistency proof" 0 $?
# a new witness, given the proof from 0, cosigns
$CVM witness cosign --state "$T/w0state" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" --proof "$T/cons0.json" "$L/checkpoint" >"$T/cs0"
check "a new witness cosigns with the proof from 0" 0 $?
has "$T/cs0" "^— witness.example/w1 "
# A smaller checkpoint than the one cosigned: no proof can help, so none is asked for.
$CVM witness cosign --state "$WS" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" "$T/cp1" 2>"$T/sm.err" >/dev/null
check "witness refuses a smaller checkpoint" 1 $?
has "$T/sm.err" "last cosigned size is 3"
hasnt "$T/sm.err" "give --proof"
# check --witness-vkey: the monitor wants the checkpoint cosigned, as verify does.
cp -r "$L" "$T/lw"; cat "$T/cs3" >>"$T/lw/checkpoint"
$CVM registry log check --log "$T/lw" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" \
    --witness-vkey "$T/w1.vkey" --quiet >"$T/cw.out"; check "log check, cosigned by the witness given" 0 $?
has "$T/cw.out" "cosigned by at least 1 of the 1 witnesses given"
$CVM registry log check --log "$L" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" \
    --witness-vkey "$T/w1.vkey" --quiet 2>"$T/cw1.err"; check "log check, no cosignature" 1 $?
has "$T/cw1.err" "0 of the 1 given witnesses"
$CVM registry log check --log "$T/lw" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" \
    --witness-vkey "$T/w1.vkey" --witness-vkey "$T/w2.vkey" --quiet 2>/dev/null; check "log check, 1 of 2 witnesses" 1 $?
$CVM registry log check --log "$T/lw" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" \
    --witness-vkey "$T/w1.vkey" --witness-vkey "$T/w2.vkey" --witnesses 1 --quiet >/dev/null; check "log check --witnesses 1" 0 $?
$CVM registry log check --log "$T/lw" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" \
    --witness-vkey "$T/w1.vkey" --witnesses 2 2>/dev/null; check "log check --witnesses above those given" 2 $?
# the log's own key is no witness (as for verify): a usage error, not a missing cosignature
$CVM registry log check --log "$T/lw" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" \
    --witness-vkey "$T/acmelog.vkey" --quiet 2>"$T/cwself.err" >/dev/null; check "log check, the log's key as a witness" 2 $?
has "$T/cwself.err" "a log cannot witness itself"
# A split view: the provider signs another log of size 3 (r1, r3, r2).
L2="$T/fork"
for r in r1 r2; do $CVM registry log append --log "$L2" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/$r.jws" >/dev/null || exit 1; done
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/f1.txt" --version 7 \
    --valid-days 30 --out "$T/r7.jws" >/dev/null || exit 1
$CVM registry log append --log "$L2" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/r7.jws" >/dev/null || exit 1
$CVM witness cosign --state "$WS" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" "$L2/checkpoint" 2>"$T/sv.err" >/dev/null
check "witness refuses a split view (same size, other root)" 1 $?
has "$T/sv.err" "SPLIT VIEW"
hasnt "$T/sv.err" "give --proof" # no proof mends a split view
ls "$WS" | grep -q "^conflict-" || { echo "FAIL: conflicting checkpoint not kept"; fails=$((fails + 1)); }
# Both checkpoints kept signed by the log key (the state holds the whole signed note): the
# evidence a third party can check.
for f in "$WS"/conflict-*; do
    grep -q "^— example.com/acme/log " "$f" ||
        { echo "FAIL: $f holds no log signature"; fails=$((fails + 1)); }
done
[ "$(ls "$WS" | grep -c '^conflict-.*\.seen$')" = 1 ] && [ "$(ls "$WS" | grep -c '^conflict-')" = 2 ] ||
    { echo "FAIL: the split view's two checkpoints not both kept"; ls "$WS"; fails=$((fails + 1)); }
# offered again a second later: refused again, nothing more kept
sleep 1
$CVM witness cosign --state "$WS" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" "$L2/checkpoint" 2>"$T/sv2.err" >/dev/null
check "witness refuses the split view again" 1 $?
has "$T/sv2.err" "SPLIT VIEW"
[ "$(ls "$WS" | grep -c '^conflict-')" = 2 ] ||
    { echo "FAIL: a persisting split view kept again"; ls "$WS"; fails=$((fails + 1)); }
W2S="$T/w2state"
$CVM witness cosign --state "$W2S" --key "$T/w2.key" --log-vkey "$T/acmelog.vkey" "$T/cp2" >/dev/null || exit 1
$CVM registry log prove --log "$L2" --from 2 >"$T/f23.json" || exit 1
$CVM witness cosign --state "$W2S" --key "$T/w2.key" --log-vkey "$T/acmelog.vkey" --proof "$T/f23.json" "$L/checkpoint" 2>"$T/bp.err" >/dev/null
check "witness refuses a proof that does not verify" 1 $?
has "$T/bp.err" "does not verify"
$CVM witness cosign --state "$T/w3" --key "$T/w1.key" --log-vkey "$T/w2.vkey" "$L/checkpoint" 2>"$T/ul.err" >/dev/null
check "witness refuses an unknown log" 1 $?
# Another key under the log's origin (a fake log key): the witness knows the origin, and the
# checkpoint has no signature by the key it knows for it.
$CVM registry log keygen --out "$T/fakelog" --origin example.com/acme/log >/dev/null || exit 1
$CVM registry log append --log "$T/fake" --key "$T/fakelog.key" --provider acme="$T/acme.pub" "$T/r1.jws" >/dev/null || exit 1
$CVM witness cosign --state "$T/w4" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" "$T/fake/checkpoint" 2>"$T/fk.err" >/dev/null
check "witness refuses a checkpoint signed by another key of the log's origin" 1 $?
has "$T/fk.err" "REFUSED (403)"

# witness serve: tlog-witness add-checkpoint over HTTP (OS-picked port on loopback).
$CVM witness serve --state "$T/ws" --key "$T/w2.key" --log-vkey "$T/acmelog.vkey" \
    --port-file "$T/port" 2>"$T/serve.err" &
SERVE=$!
i=0; while [ ! -s "$T/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "FAIL: witness serve did not start"; cat "$T/serve.err"; exit 1; }
post() { # old-size proof-file(or -) checkpoint -> prints "STATUS\nBODY"
    python3 - "$(cat "$T/port")" "$@" <<'PY'
import base64, json, sys, urllib.request, urllib.error
port, old, proof, cp = sys.argv[1:5]
body = b"old %s\n" % old.encode()
if proof != "-":
    for h in json.load(open(proof))["hashes"]:
        body += h.encode() + b"\n"
body += b"\n" + open(cp, "rb").read()
req = urllib.request.Request("http://127.0.0.1:%s/add-checkpoint" % port, data=body, method="POST")
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.headers.get("Content-Type")); sys.stdout.write(e.read().decode())
PY
}
post 0 - "$T/cp1" >"$T/h1"; has "$T/h1" "^200$"; has "$T/h1" "^— witness.example/w2 "
post 0 - "$L/checkpoint" >"$T/h2"; has "$T/h2" "^409$"; has "$T/h2" "text/x.tlog.size"; has "$T/h2" "^1$"
post 1 "$T/f23.json" "$L/checkpoint" >"$T/h3"; has "$T/h3" "^422$"
post 1 "$T/c13.json" "$L/checkpoint" >"$T/h4"; has "$T/h4" "^200$"
post 3 - "$L2/checkpoint" >"$T/h5"; has "$T/h5" "^409$"
post 0 - "$T/fake/checkpoint" >"$T/h6"; has "$T/h6" "^403$"
post 5 - "$T/cp1" >"$T/h7"; has "$T/h7" "^400$"
kill "$SERVE"; wait "$SERVE"; check "witness serve stops on SIGTERM" 0 $?

# check with another provider key: entry 0 refused, by name; under valgrind (when it runs
# here: not for a sanitizer build, whose leak check is its own) nothing of it leaks.
$CVM registry log check --log "$L" --vkey "$T/acmelog.vkey" --provider acme="$T/other.pub" \
    --quiet 2>"$T/ok.err" >/dev/null; check "log check with another provider's key" 1 $?
has "$T/ok.err" "entry 0: REGISTRY_SIGNATURE_INVALID"
if command -v valgrind >/dev/null 2>&1 && valgrind -q --error-exitcode=99 "$CVM" version >/dev/null 2>&1; then
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
        "$CVM" registry log check --log "$L" --vkey "$T/acmelog.vkey" \
        --provider acme="$T/other.pub" --quiet >/dev/null 2>"$T/vg.err"
    check "log check, an entry refused: nothing leaks (valgrind)" 1 $?
else
    echo "note: valgrind not usable here: the leak of a refused entry is not checked"
fi

# Appends at once (8 a round, 2 rounds, versions rising): one at a time under DIR/lock, each
# is either appended (and no two were given one checkpoint size: two signed checkpoints of
# one size would be a split view signed by the log key) or refused as not newer, and the log
# still verifies. Without the lock two appends both load size N and sign size N+1.
P="$T/par"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/f1.txt" --version 100 \
    --valid-days 30 --out "$T/p100.jws" >/dev/null || exit 1
$CVM registry log append --log "$P" --key "$T/acmelog.key" --provider acme="$T/acme.pub" \
    "$T/p100.jws" >/dev/null; check "append before the parallel ones" 0 $?
appended=1
for round in 1 2; do
    for i in 1 2 3 4 5 6 7 8; do
        $CVM registry build --provider acme --key "$T/acme.key" --entries "$T/f2.txt" \
            --version $((100 + round * 10 + i)) --valid-days 30 --out "$T/p$round-$i.jws" >/dev/null || exit 1
    done
    for i in 1 2 3 4 5 6 7 8; do
        $CVM registry log append --log "$P" --key "$T/acmelog.key" --provider acme="$T/acme.pub" \
            "$T/p$round-$i.jws" >"$T/par$round-$i.out" 2>"$T/par$round-$i.err" &
    done
    wait
    for i in 1 2 3 4 5 6 7 8; do
        if grep -q "checkpoint size" "$T/par$round-$i.out"; then
            appended=$((appended + 1))
            sed -n 's/.*checkpoint size \([0-9]*\)$/\1/p' "$T/par$round-$i.out" >>"$T/par-sizes"
        elif ! grep -q "not newer than the last one appended" "$T/par$round-$i.err"; then
            echo "FAIL: parallel append $round-$i: neither appended nor refused as not newer"
            cat "$T/par$round-$i.err"; fails=$((fails + 1))
        fi
    done
done
dup=$(sort "$T/par-sizes" | uniq -d)
[ -z "$dup" ] || { echo "FAIL: parallel appends signed checkpoints of one size: $dup"; fails=$((fails + 1)); }
[ "$(sed -n 2p "$P/checkpoint")" = "$appended" ] ||
    { echo "FAIL: checkpoint size $(sed -n 2p "$P/checkpoint"), $appended appended"; fails=$((fails + 1)); }
$CVM registry log check --log "$P" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" --quiet \
    >/dev/null 2>"$T/par-chk.err"; check "log check after parallel appends" 0 $?
[ -z "$(find "$P" -name '*.tmp*')" ] || { echo "FAIL: a temporary file left in the log"; fails=$((fails + 1)); }
echo "parallel appends: $appended of 17 appended"
# prove holds a shared lock: a lock file that is not a regular file (or a symlink) is refused.
mkdir "$T/pl" && cp -r "$P/checkpoint" "$P/tile" "$T/pl/" && mkfifo "$T/pl/lock"
$CVM registry log prove --log "$T/pl" --from 1 >/dev/null 2>"$T/pl.err"; check "prove, the lock a FIFO" 2 $?
has "$T/pl.err" "not a regular file"
rm "$T/pl/lock" && ln -s "$T/victim" "$T/pl/lock"
$CVM registry log append --log "$T/pl" --key "$T/acmelog.key" --provider acme="$T/acme.pub" \
    "$T/p100.jws" >/dev/null 2>"$T/pl2.err"; check "append, the lock a symlink" 2 $?
has "$T/pl2.err" "cannot open the log's lock file"

# An append over a checkpoint that is not the log's latest (an older one put back from a
# backup, or none at all) while the directory holds tiles or entries beyond it: refused (exit
# 1) before anything is written. Appending on signed a second checkpoint of a size the key had
# signed (a split view) and overwrote the published tile/0/000.p/3.
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/f3.txt" --version 5 \
    --valid-days 30 --out "$T/r5.jws" >/dev/null || exit 1
RB="$T/rb"
for r in r1 r2 r3; do
    $CVM registry log append --log "$RB" --key "$T/acmelog.key" --provider acme="$T/acme.pub" "$T/$r.jws" >/dev/null || exit 1
    cp "$RB/checkpoint" "$T/rb-cp-$r"
done
rbsums() { (cd "$1" && find . -type f ! -name lock -exec sha256sum {} + | sort); }
rb_refused() { # name, log directory, what the message names
    rbsums "$2" >"$T/rb.before"
    $CVM registry log append --log "$2" --key "$T/acmelog.key" --provider acme="$T/acme.pub" \
        "$T/r5.jws" >"$T/rb.out" 2>"$T/rb.err"
    check "append refused: $1" 1 $?
    has "$T/rb.err" "$3 is beyond the size its checkpoint covers"
    has "$T/rb.err" "not the log's latest"
    rbsums "$2" >"$T/rb.after"
    cmp -s "$T/rb.before" "$T/rb.after" || { echo "FAIL: $1: the log directory changed"; diff "$T/rb.before" "$T/rb.after"; fails=$((fails + 1)); }
}
rbcopy() { rm -rf "$T/rbc"; cp -r "$RB" "$T/rbc"; cp "$T/rb-cp-$1" "$T/rbc/checkpoint"; }
rbcopy r2; rb_refused "the size-2 checkpoint put back over size 3" "$T/rbc" "tile/[0a-z]*/000.p/3"
rbcopy r1; rb_refused "the size-1 checkpoint put back over size 3" "$T/rbc" "tile/[0a-z]*/000.p/[23]"
rbcopy r3; rm "$T/rbc/checkpoint"; rb_refused "no checkpoint beside the tiles" "$T/rbc" "tile/[0a-z]*/000.p/[123]"
# One stray tile beyond, anywhere: a full level-0 tile, a partial level-1 one, an entry bundle
# of the next index, a tile under an index group (x001/234: index 1234).
for stray in tile/0/000 tile/1/000.p/1 tile/entries/001 tile/0/x001/234 tile/2/000.p/7; do
    rbcopy r3; mkdir -p "$(dirname "$T/rbc/$stray")"; echo x >"$T/rbc/$stray"
    rb_refused "a stray $stray" "$T/rbc" "$stray"
done
# Not beyond: old partial tiles (the log keeps one of every size) and names that are no tile's.
rbcopy r3; echo x >"$T/rbc/tile/0/README"; mkdir "$T/rbc/tile/0/notes"
$CVM registry log append --log "$T/rbc" --key "$T/acmelog.key" --provider acme="$T/acme.pub" \
    "$T/r5.jws" >/dev/null 2>"$T/rb.err"; check "append beside names that are no tile's" 0 $?
# The latest checkpoint put back: the append goes on, and the log checks.
rbcopy r2; cp "$T/rb-cp-r3" "$T/rbc/checkpoint"
$CVM registry log append --log "$T/rbc" --key "$T/acmelog.key" --provider acme="$T/acme.pub" \
    "$T/r5.jws" >/dev/null; check "append once the latest checkpoint is back" 0 $?
$CVM registry log check --log "$T/rbc" --vkey "$T/acmelog.vkey" --provider acme="$T/acme.pub" --quiet \
    >/dev/null; check "log check after the checkpoint was put back" 0 $?

# Durable writes: after the rename of the witness's state and of the log's checkpoint, the
# directory holding it is fsynced (else either can come back as it was after a power loss).
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
    dirsync() { # strace log, file: its last rename is followed by an fsync of its directory
        python3 - "$1" "$2" <<'PY'
import os, re, sys
log, target = open(sys.argv[1]).read().splitlines(), sys.argv[2]
d = os.path.dirname(target)
at = [i for i, l in enumerate(log) if re.search(r'rename\("[^"]*", "%s"\) = 0' % re.escape(target), l)]
if not at:
    sys.exit("no rename to %s" % target)
fd = None
for l in log[at[-1] + 1:]:
    m = re.search(r'open(?:at)?\((?:AT_FDCWD, )?"%s", [^)]*O_DIRECTORY[^)]*\) = (\d+)' % re.escape(d), l)
    if m:
        fd = m.group(1)
    elif fd is not None and re.search(r'fsync\(%s\) += 0' % fd, l):
        sys.exit(0)
sys.exit("%s renamed, %s not fsynced after" % (target, d))
PY
    }
    DS="$T/dsync"
    mkdir "$DS"
    # (LeakSanitizer cannot run under ptrace: leaks are checked by the runs outside strace)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -o "$DS/w.trace" -e trace=open,openat,rename,renameat,renameat2,fsync \
        $CVM witness cosign --state "$DS/ws" --key "$T/w1.key" --log-vkey "$T/acmelog.vkey" "$T/cp1" >/dev/null
    check "witness cosign under strace" 0 $?
    dirsync "$DS/w.trace" "$(ls -d "$DS"/ws/log-* | head -1)"; check "witness state: directory fsynced after the rename" 0 $?
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -o "$DS/a.trace" -e trace=open,openat,rename,renameat,renameat2,fsync \
        $CVM registry log append --log "$DS/log" --key "$T/acmelog.key" --provider acme="$T/acme.pub" \
        "$T/r1.jws" >/dev/null; check "append under strace" 0 $?
    dirsync "$DS/a.trace" "$DS/log/checkpoint"; check "log checkpoint: directory fsynced after the rename" 0 $?
    dirsync "$DS/a.trace" "$DS/log/tile/0/000.p/1"; check "log tile: directory fsynced after the rename" 0 $?
    grep -q "fsync" "$DS/a.trace" && grep -q "\"$DS/log/tile\", O_RDONLY.*O_DIRECTORY" "$DS/a.trace" ||
        { echo "FAIL: the new tile/ directory's parent entries not fsynced"; fails=$((fails + 1)); }
else
    echo "note: strace not usable here: the directory fsyncs are not checked"
fi

# bench registry-log (small, so the suite stays quick; docs/performance.md has the 1,000,000 run).
$CVM bench registry-log --entries 3000 --proof-checks 2000 --json >"$T/bench.json"; check "bench registry-log" 0 $?
has "$T/bench.json" '"entries": 3000'
has "$T/bench.json" '"consistency_check_us"'
# --dir: a new or empty directory only; the real log in $L is refused and left as it was.
find "$L" -type f -exec sha256sum {} + | sort >"$T/log.before"
$CVM registry log bench --entries 20 --proof-checks 10 --dir "$L" >"$T/lb.out" 2>"$T/lb.err"
check "log bench --dir into an existing log" 2 $?
has "$T/lb.err" "is not an empty directory"
find "$L" -type f -exec sha256sum {} + | sort >"$T/log.after"
cmp -s "$T/log.before" "$T/log.after" || { echo "FAIL: log bench --dir changed the log"; fails=$((fails + 1)); }
$CVM registry log check --log "$L" --vkey "$T/acmelog.vkey" --provider "acme=$T/acme.pub" --quiet \
    >/dev/null 2>&1; check "the log checks after a refused bench --dir" 0 $?
mkdir "$T/benchdir"
$CVM registry log bench --entries 20 --proof-checks 10 --dir "$T/benchdir" >/dev/null
check "log bench --dir into an empty directory" 0 $?
[ -s "$T/benchdir/checkpoint" ] || { echo "FAIL: log bench --dir kept no checkpoint"; fails=$((fails + 1)); }

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
