#!/bin/sh
# Registry rollback with `serve --redis` when Redis loses what it recorded (restarted empty,
# a lagging replica, FLUSHALL): each instance keeps its own floor, the state file of its
# --cache-dir and the highest version in memory, so an older registry stays refused and Redis
# is raised back (docs/operations.md, "What each instance keeps locally"). A registry Redis
# refuses is never an instance's floor (step 7).
. "$(dirname "$0")/lib/serve.sh"
serve_setup curl jq python3 redis-server redis-cli
# verdict OUT: status, whether REGISTRY_ROLLBACK is among the reasons, the provider
verdict() { jq -r '"\(.status) \([.reasons[].code] | index("REGISTRY_ROLLBACK") != null) \(.platform.provider)"' "$1"; }
redis_version() { redis-cli -p "$RP" get cvmattest:registry:acme | cut -c1-20; }

$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
CHIP=$(od -An -tx1 -j 0x1A0 -N 64 "$T/s/report.bin" | tr -d ' \n')
$CVM registry keygen --out "$T/acme" >/dev/null || { echo "FAIL registry keygen"; exit 1; }
printf 'amd chip_id %s region=eu-1\n' "$CHIP" >"$T/fleet.txt"
for ver in 1 2; do
    $CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version $ver \
        --valid-days 30 --include-entries --out "$T/reg$ver.jws" >/dev/null || { echo "FAIL registry build v$ver"; exit 1; }
done
jq -n --arg e "$(base64 -w0 "$T/s/report.bin")" '{evidence: $e}' >"$T/body.json"

# a Redis without persistence, as one that restarts empty
. "${CVMATTEST_SRC:?}/tests/e2e/lib/redis.sh"
redis_start
COMMON="--trust-root $T/s/ark.pem --collateral $T/s --offline --redis redis://127.0.0.1:$RP --provider acme=$T/acme.pub"

# 1. registry v2 seen: recorded in Redis and in the instance's state file
start A $COMMON --registry "$T/reg2.jws" --cache-dir "$T/g"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o1.json")
eq "registry v2 binds" "200 affirming false acme" "$st $(verdict "$T/o1.json")"
eq "v2 in redis" "00000000000000000002" "$(redis_version)"
[ -f "$T/g/registry-state.acme.json" ] && ok "v2 in the state file of --cache-dir" ||
    fail "no state file in --cache-dir: $(ls -la "$T/g" 2>&1)"
stop A

# 2. Redis forgets; an instance restarted with registry v1 and the same --cache-dir refuses it
#    (the state file) and raises Redis back to v2
redis-cli -p "$RP" flushall >/dev/null
start B $COMMON --registry "$T/reg1.jws" --cache-dir "$T/g"
B=http://127.0.0.1:$PORT
st=$(post "$B/v1/verify" "$T/body.json" "$T/o2.json")
eq "after FLUSHALL, a restart with v1 and the same --cache-dir: refused" "200 contraindicated true null" "$st $(verdict "$T/o2.json")"
jq -r '.reasons[] | select(.code == "REGISTRY_ROLLBACK") | .detail' "$T/o2.json" | grep -q 'version 1 is older than version 2 already seen' &&
    ok "the reason names both versions" || fail "rollback detail: $(jq -c .reasons "$T/o2.json")"
eq "redis raised back to v2" "00000000000000000002" "$(redis_version)"

# 3. the same instance, no restart: Redis flushed again and the state file gone, v1 is still
#    refused (the floor in memory) and Redis raised again
redis-cli -p "$RP" flushall >/dev/null
rm -f "$T/g/registry-state.acme.json"
st=$(post "$B/v1/verify" "$T/body.json" "$T/o3.json")
eq "the same instance, redis flushed and the state file removed: still refused" "200 contraindicated true null" "$st $(verdict "$T/o3.json")"
jq -r '.reasons[] | select(.code == "REGISTRY_ROLLBACK") | .detail' "$T/o3.json" | grep -q 'this instance already saw' &&
    ok "refused by the instance's floor in memory" || fail "rollback detail: $(jq -c .reasons "$T/o3.json")"
eq "redis raised back to v2 again" "00000000000000000002" "$(redis_version)"

# 4. so another instance with v1 and a cache directory of its own is refused through Redis
start C $COMMON --registry "$T/reg1.jws" --cache-dir "$T/c"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o4.json")
eq "another instance with v1 and its own --cache-dir: refused through redis" "200 contraindicated true null" "$st $(verdict "$T/o4.json")"

# 5. an instance whose cache directory cannot be made (a file where it would be): rollback is
#    checked against Redis and the floor in memory; each result says the state file was not
#    kept (REGISTRY_ROLLBACK_NOT_CHECKED, a warning), and serve says at start what is lost
printf 'x' >"$T/afile"
start D $COMMON --registry "$T/reg2.jws" --cache-dir "$T/afile/cache"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o5.json")
eq "unusable --cache-dir, v2: bound, with a warning" "200 warning false acme" "$st $(verdict "$T/o5.json")"
eq "unusable --cache-dir: REGISTRY_ROLLBACK_NOT_CHECKED names the directory" "true" \
    "$(jq '[.reasons[] | select(.code == "REGISTRY_ROLLBACK_NOT_CHECKED") | .detail | test("cannot be created")] | any' "$T/o5.json")"
grep -q 'warning: no usable state directory.*checked against Redis' "$T/D.log" &&
    ok "serve warns at start that the floor is Redis and memory only" || fail "no start warning: $(cat "$T/D.log")"
stop D
start E $COMMON --registry "$T/reg1.jws" --cache-dir "$T/afile/cache"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o6.json")
eq "no usable --cache-dir, v1: refused through redis" "200 contraindicated true null" "$st $(verdict "$T/o6.json")"

# 6. an instance whose cache directory others can write (chmod 0777) does as in 5: the
#    directory is not used for the state file (whoever can write it could lower the floor),
#    each result says so, serve says so at start; made private (0700) it is used again
mkdir "$T/w" && chmod 0777 "$T/w"
start F $COMMON --registry "$T/reg2.jws" --cache-dir "$T/w"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o7.json")
eq "world-writable --cache-dir, v2: bound, with a warning" "200 warning false acme" "$st $(verdict "$T/o7.json")"
eq "world-writable --cache-dir: REGISTRY_ROLLBACK_NOT_CHECKED names it and its mode" "true" \
    "$(jq --arg d "$T/w is writable by group or others (mode 0777)" '[.reasons[] | select(.code == "REGISTRY_ROLLBACK_NOT_CHECKED") | .detail | contains($d)] | any' "$T/o7.json")"
grep -q "warning: no usable state directory ($T/w is writable by group or others (mode 0777)).*checked against Redis" "$T/F.log" &&
    ok "serve warns at start, naming the directory's mode" || fail "no start warning: $(cat "$T/F.log")"
[ ! -e "$T/w/registry-state.acme.json" ] && ok "no state file written there" || fail "state file written in a world-writable --cache-dir"
stop F
chmod 0700 "$T/w"
start G $COMMON --registry "$T/reg2.jws" --cache-dir "$T/w"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o8.json")
eq "the same --cache-dir made 0700: bound, no warning" "200 affirming false acme" "$st $(verdict "$T/o8.json")"
[ -f "$T/w/registry-state.acme.json" ] && ok "the state file is written there" || fail "no state file in the private --cache-dir"
stop G

# 7. a registry Redis refuses is not the instance's floor: two registries under version 3
#    (another root), the fleet's recorded first; an instance shown the other refuses it and
#    keeps nothing of it, so restarted on the same --cache-dir with the fleet's it binds
printf 'amd chip_id %s region=eu-9\n' "$CHIP" >"$T/fleetB.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version 3 \
    --valid-days 30 --include-entries --out "$T/reg3A.jws" >/dev/null || { echo "FAIL registry build v3A"; exit 1; }
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleetB.txt" --version 3 \
    --valid-days 30 --include-entries --out "$T/reg3B.jws" >/dev/null || { echo "FAIL registry build v3B"; exit 1; }
start H $COMMON --registry "$T/reg3A.jws" --cache-dir "$T/h"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o9.json")
eq "registry 3A binds and is recorded in redis" "200 affirming false acme" "$st $(verdict "$T/o9.json")"
stop H
start I $COMMON --registry "$T/reg3B.jws" --cache-dir "$T/i"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o10.json")
eq "another registry under version 3: refused through redis" "200 contraindicated true null" "$st $(verdict "$T/o10.json")"
[ ! -e "$T/i/registry-state.acme.json" ] && ok "the refused registry is not written to the state file" ||
    fail "refused registry recorded: $(cat "$T/i/registry-state.acme.json")"
stop I
start J $COMMON --registry "$T/reg3A.jws" --cache-dir "$T/i"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o11.json")
eq "restarted on that --cache-dir with the fleet's registry: binds" "200 affirming false acme" "$st $(verdict "$T/o11.json")"
stop J

# 8. a record in Redis whose version is 20 digits but past a registry's range (1..2^53-1),
#    and one past even 2^64: malformed, so the check is not decided (never a rollback that
#    names a version Redis does not hold), and the record is left alone
ROOT=$(printf 'ab%.0s' $(seq 32))
for v in 00009007199254740992 99999999999999999999; do
    redis-cli -p "$RP" set cvmattest:registry:acme "$v $ROOT" >/dev/null
    start K $COMMON --registry "$T/reg3A.jws" --cache-dir "$T/k$v"
    st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$T/o12.json")
    d=$(jq -r '[.reasons[] | .code + ": " + .detail] | join("; ")' "$T/o12.json")
    case "$st $(jq -r .status "$T/o12.json") $d" in
    *18446744073709551615* | *REGISTRY_ROLLBACK:* | *affirming*)
        fail "a recorded version $v: $st $d" ;;
    *"holds no version (nor one in a registry's range, 1..2^53-1)"*)
        ok "a recorded version $v: not decided, named as out of range" ;;
    *) fail "a recorded version $v: $st $d" ;;
    esac
    eq "the record $v left alone" "$v" "$(redis_version)"
    stop K
done

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all serve registry floor tests passed"
