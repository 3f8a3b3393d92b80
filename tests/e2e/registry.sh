#!/bin/sh
# The provider registry CLI end to end: keygen, build (with proofs), check, prove, and the
# refusals: a tampered JWS, the wrong key, an expired registry, a tampered or foreign proof,
# malformed and duplicate entries. Needs CVMATTEST_BIN (ctest sets it) and python3 (tamper).
set -u
CVM=${CVMATTEST_BIN:?}
command -v python3 >/dev/null 2>&1 || { echo "registry: SKIP: python3 not installed" >&2; exit 77; }
T=$(mktemp -d /tmp/cvma-e2e-registry.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi
}
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks '$2'"; head -c 800 "$1"; echo; fails=$((fails + 1)); }; }

CHIP=0910b4f884ff4ba9$(printf '0%.0s' $(seq 112))
CHIP2=3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d
PPID=00112233445566778899aabbccddeeff
cat >"$T/fleet.txt" <<EOF
# acme's fleet: one platform a line
amd chip_id $CHIP region=eu-1 rack=r7
amd chip_id $CHIP2 region=eu-2
intel ppid $PPID region=us-1   # a trailing comment
amd vlek_csp cc-us-east-2.amazonaws.com region=us-east-2
EOF

# keygen: a 0600 private key, never overwritten.
$CVM registry keygen --out "$T/acme" >"$T/kg.out"; check "keygen" 0 $?
[ "$(stat -c %a "$T/acme.key")" = 600 ] || { echo "FAIL: acme.key mode $(stat -c %a "$T/acme.key")"; fails=$((fails + 1)); }
has "$T/acme.pub" "BEGIN PUBLIC KEY"
$CVM registry keygen --out "$T/acme" >/dev/null 2>"$T/kg2.err"; check "keygen refuses to overwrite" 2 $?
has "$T/kg2.err" "never overwritten"
$CVM registry keygen --out "$T/other" --alg ES384 >/dev/null; check "keygen ES384" 0 $?
# the public file: a symlink there is replaced, not written through; one that cannot be
# written leaves no private key behind (a rerun would be refused by it)
echo keep >"$T/victim"
ln -s "$T/victim" "$T/sl.pub"
$CVM registry keygen --out "$T/sl" >/dev/null; check "keygen over a symlinked .pub" 0 $?
[ "$(cat "$T/victim")" = keep ] || { echo "FAIL: keygen wrote through the .pub symlink"; fails=$((fails + 1)); }
[ -f "$T/sl.pub" ] && [ ! -L "$T/sl.pub" ] || { echo "FAIL: sl.pub is not a file of its own"; fails=$((fails + 1)); }
mkdir "$T/dir.pub"
$CVM registry keygen --out "$T/dir" >/dev/null 2>"$T/kg3.err"; check "keygen, .pub not writable" 2 $?
has "$T/kg3.err" "dir.key' removed again"
[ -e "$T/dir.key" ] && { echo "FAIL: keygen left dir.key without its .pub"; fails=$((fails + 1)); }
rmdir "$T/dir.pub"
$CVM registry keygen --out "$T/dir" >/dev/null; check "keygen again once the .pub can be written" 0 $?

# build with proofs and entries, then check. A proof's name that is a symlink is replaced,
# not written through.
mkdir "$T/proofs"
ln -s "$T/victim" "$T/proofs/$PPID.json"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version 3 \
    --valid-days 30 --out "$T/reg.jws" --include-entries --proofs-dir "$T/proofs" >"$T/build.out"
check "build" 0 $?
has "$T/build.out" "4 platforms"
[ "$(ls "$T/proofs" | wc -l)" = 4 ] || { echo "FAIL: want 4 proofs"; ls "$T/proofs"; fails=$((fails + 1)); }
[ -f "$T/proofs/$PPID.json" ] && [ -f "$T/proofs/$CHIP.json" ] && [ -f "$T/proofs/cc-us-east-2.amazonaws.com.json" ] \
    || { echo "FAIL: proofs not named by id"; fails=$((fails + 1)); }
[ "$(cat "$T/victim")" = keep ] && [ ! -L "$T/proofs/$PPID.json" ] ||
    { echo "FAIL: build wrote a proof through a symlink"; fails=$((fails + 1)); }
$CVM registry check "$T/reg.jws" --pub "$T/acme.pub" >"$T/check.out" 2>"$T/check.err"; check "check" 0 $?
# a space or tab before the final newline: the token is read as verify reads it
{ tr -d '\n' <"$T/reg.jws"; printf ' \t\n'; } >"$T/spaced.jws"
$CVM registry check "$T/spaced.jws" --pub "$T/acme.pub" >/dev/null 2>"$T/sp.err"
check "check of a registry ending in spaces" 0 $?
has "$T/check.out" '"provider": "acme"'
has "$T/check.out" '"version": 3'
has "$T/check.out" '"leaf_count": 4'
has "$T/check.out" '"merkle_root"'
has "$T/check.out" '"region": "us-east-2"'
has "$T/check.err" "signature OK"

# prove gives the same proof as --proofs-dir; check accepts it.
$CVM registry prove --entries "$T/fleet.txt" --id "$PPID" --out "$T/p.json" --registry "$T/reg.jws" >/dev/null
check "prove" 0 $?
cmp -s "$T/p.json" "$T/proofs/$PPID.json" || { echo "FAIL: prove and --proofs-dir differ"; fails=$((fails + 1)); }
# a registry file with blanks after its token is read as registry check and verify read it
{ cat "$T/reg.jws"; printf '\n \t\n'; } >"$T/regws.jws"
$CVM registry prove --entries "$T/fleet.txt" --id "$PPID" --out "$T/pws.json" --registry "$T/regws.jws" >/dev/null
check "prove --registry: blanks after the token" 0 $?
cmp -s "$T/pws.json" "$T/p.json" || { echo "FAIL: prove --registry with blanks differs"; fails=$((fails + 1)); }
$CVM registry prove --entries "$T/fleet.txt" --id "$(echo "$CHIP" | tr a-f A-F)" --out "$T/c.json" --provider acme >/dev/null
check "prove (upper-case id)" 0 $?
cmp -s "$T/c.json" "$T/proofs/$CHIP.json" || { echo "FAIL: chip proof differs"; fails=$((fails + 1)); }
$CVM registry check "$T/reg.jws" --pub "$T/acme.pub" --quiet --proof "$T/p.json" \
    --proof "$T/proofs/cc-us-east-2.amazonaws.com.json" 2>"$T/cp.err"
check "check with proofs" 0 $?
has "$T/cp.err" "proves intel ppid $PPID"
$CVM registry prove --entries "$T/fleet.txt" --id ffeeddccbbaa99887766554433221100 --out "$T/x.json" 2>/dev/null
check "prove an unlisted id" 1 $?

# Tampered JWS: one character of the payload changed.
python3 - "$T/reg.jws" "$T/tampered.jws" <<'EOF'
import sys
t = open(sys.argv[1]).read().strip()
h, p, s = t.split(".")
i = len(p) // 2
p = p[:i] + ("A" if p[i] != "A" else "B") + p[i + 1:]
open(sys.argv[2], "w").write(".".join([h, p, s]) + "\n")
EOF
$CVM registry check "$T/tampered.jws" --pub "$T/acme.pub" >"$T/t.out" 2>"$T/t.err"
check "tampered JWS refused" 1 $?
has "$T/t.err" "REGISTRY_"
[ -s "$T/t.out" ] && { echo "FAIL: a tampered payload was printed"; fails=$((fails + 1)); }
$CVM registry check "$T/reg.jws" --pub "$T/other.pub" >/dev/null 2>"$T/w.err"; check "wrong key refused" 1 $?
has "$T/w.err" REGISTRY_SIGNATURE_INVALID

# Expired, and valid at a time inside its window.
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 1 --issued-at 2020-01-01T00:00:00Z --out "$T/old.jws" >/dev/null; check "build old" 0 $?
$CVM registry check "$T/old.jws" --pub "$T/acme.pub" >/dev/null 2>"$T/e.err"; check "expired refused" 1 $?
has "$T/e.err" REGISTRY_EXPIRED
$CVM registry check "$T/old.jws" --pub "$T/acme.pub" --at 2020-01-01T12:00:00Z >/dev/null 2>&1
check "valid at --at" 0 $?
$CVM registry check "$T/old.jws" --pub "$T/acme.pub" --at 2019-12-31T00:00:00Z >/dev/null 2>"$T/n.err"
check "not yet valid refused" 1 $?
has "$T/n.err" REGISTRY_NOT_YET_VALID

# A registry whose next_update RFC 3339 cannot write (after 9999-12-31T23:59:59Z) is not
# built; one that ends at that very second is.
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 3650 --issued-at 9999-12-31T00:00:00Z --out "$T/far.jws" >"$T/far.out" 2>"$T/far.err"
check "build ending after 9999" 2 $?
has "$T/far.err" "end by 9999-12-31T23:59:59Z"
[ -e "$T/far.jws" ] && { echo "FAIL: a registry ending after 9999 written"; fails=$((fails + 1)); }
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 1 --issued-at 9999-12-30T23:59:59Z --out "$T/far.jws" >"$T/far.out"
check "build ending at the last second of 9999" 0 $?
has "$T/far.out" "valid until 9999-12-31T23:59:59Z"

# --proofs-dir with a cspID whose proof cannot be named (<id>.json over 255 bytes): refused
# before anything is signed or written; a cspID of 250 characters builds, temporary names too.
python3 -c "print('amd vlek_csp ' + 'a' * 251)" >"$T/longcsp.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/longcsp.txt" --version 1 \
    --valid-days 1 --out "$T/longcsp.jws" --proofs-dir "$T/longcsp" 2>"$T/lc.err"
check "--proofs-dir with a 251-character cspID" 2 $?
has "$T/lc.err" "(251 characters) would be named over the 255 bytes"
[ -e "$T/longcsp.jws" ] && { echo "FAIL: the registry written though its proofs cannot be"; fails=$((fails + 1)); }
python3 -c "print('amd vlek_csp ' + 'a' * 250)" >"$T/longcsp.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/longcsp.txt" --version 1 \
    --valid-days 1 --out "$T/longcsp.jws" --proofs-dir "$T/longcsp" >/dev/null 2>"$T/lc.err"
check "--proofs-dir with a 250-character cspID" 0 $?
[ -s "$T/longcsp/$(python3 -c "print('a' * 250)").json" ] ||
    { echo "FAIL: the 250-character cspID's proof missing: $(cat "$T/lc.err")"; fails=$((fails + 1)); }

# A registry file that cannot be read says why (over the limit, missing).
$CVM registry check /dev/zero --pub "$T/acme.pub" >/dev/null 2>"$T/big.err"; check "registry check /dev/zero" 2 $?
has "$T/big.err" "cannot read '/dev/zero': over 268435456 bytes"
$CVM registry check "$T/none.jws" --pub "$T/acme.pub" >/dev/null 2>"$T/none.err"; check "registry check, no file" 2 $?
has "$T/none.err" "cannot read '$T/none.jws': No such file or directory"

# Tampered proof, and a valid proof for another registry's root.
sed 's/"leaf_index": 3/"leaf_index": 2/' "$T/p.json" >"$T/bad-proof.json"
cmp -s "$T/p.json" "$T/bad-proof.json" && { echo "FAIL: proof not tampered"; fails=$((fails + 1)); }
$CVM registry check "$T/reg.jws" --pub "$T/acme.pub" --quiet --proof "$T/bad-proof.json" 2>"$T/bp.err"
check "tampered proof refused" 1 $?
has "$T/bp.err" REGISTRY_PROOF_INVALID
head -n 3 "$T/fleet.txt" >"$T/small.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/small.txt" --version 4 \
    --valid-days 1 --out "$T/small.jws" --proofs-dir "$T/small-proofs" >/dev/null; check "build small" 0 $?
$CVM registry check "$T/reg.jws" --pub "$T/acme.pub" --quiet --proof "$T/small-proofs/$CHIP.json" 2>"$T/fp.err"
check "proof for another root refused" 1 $?
has "$T/fp.err" "another registry"
$CVM registry prove --entries "$T/small.txt" --id "$CHIP" --out "$T/y.json" --registry "$T/reg.jws" 2>"$T/pm.err"
check "prove against a registry built from other entries" 1 $?

# Malformed entries: refused with the line number; duplicates name both lines.
printf 'intel ppid %s\namd chip_id 0910b4f884ff4ba9 region=eu-1\n' "$PPID" >"$T/bad.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/bad.txt" --version 1 \
    --valid-days 1 --out "$T/bad.jws" 2>"$T/bad.err"; check "malformed entries" 2 $?
has "$T/bad.err" "bad.txt:2: chip_id must be 128 hex digits"
[ -e "$T/bad.jws" ] && { echo "FAIL: registry written despite bad entries"; fails=$((fails + 1)); }
printf 'intel ppid %s\n\nintel ppid %s region=x\n' "$PPID" "$PPID" >"$T/dup.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/dup.txt" --version 1 \
    --valid-days 1 --out "$T/dup.jws" 2>"$T/dup.err"; check "duplicate entries" 2 $?
has "$T/dup.err" "dup.txt:3: same platform as line 1"
# a cspID that reads as a PPID: proof files and prove --id would name two platforms
printf 'intel ppid %s\namd vlek_csp %s\n' "$PPID" "$PPID" >"$T/amb.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/amb.txt" --version 1 \
    --valid-days 1 --out "$T/amb.jws" 2>"$T/amb.err"; check "a vlek_csp that reads as a PPID" 2 $?
has "$T/amb.err" "amb.txt:2: vlek_csp '$PPID' reads as a PPID"

# Usage errors.
$CVM registry build --provider 'a b' --key "$T/acme.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 1 --out "$T/u.jws" 2>/dev/null; check "bad provider name" 2 $?
$CVM registry build --provider acme --key "$T/acme.pub" --entries "$T/fleet.txt" --version 1 \
    --valid-days 1 --out "$T/u.jws" 2>/dev/null; check "public key as signing key" 2 $?
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version 0 \
    --valid-days 1 --out "$T/u.jws" 2>/dev/null; check "version 0" 2 $?
$CVM registry check "$T/none.jws" --pub "$T/acme.pub" 2>/dev/null; check "missing registry" 2 $?
$CVM registry frobnicate 2>/dev/null; check "unknown registry command" 2 $?

# The benchmark runs (small, figures only; docs/performance.md has the real ones).
$CVM registry bench --entries 2000 --proof-checks 1000 --json >"$T/bench.json"; check "bench" 0 $?
has "$T/bench.json" '"build_sign_seconds"'
has "$T/bench.json" '"proof_check_us"'

echo "registry: $fails failure(s)"
[ "$fails" = 0 ]
