#!/bin/sh
# `serve --redis`: Redis's eviction settings are read again every 5 s while the instance runs
# (docs/operations.md, "Eviction"), whatever Redis answered a re-read before, against a real
# Redis. 1. A re-read that meets a passing error (BUSY: another client's Lua script runs) is as
# one not answered: asked again when next due, so a Redis set to evict keys once the script is
# killed is noticed, and every nonce is refused (503) from then on; a BUSY once used to end the
# re-reads for good, and the instance went on taking nonces a Redis that evicts could forget.
# 2. Once Redis has shown its settings, a re-read it refuses (an ACL that no longer grants
# CONFIG GET: NOPERM) is warned about once and the settings are still read every 5 s (trusted
# meanwhile, as a Redis that refuses CONFIG GET at start is): once granted again, a Redis set to
# evict is noticed as in 1.
. "$(dirname "$0")/lib/serve.sh"
serve_setup curl jq python3 redis-server redis-cli openssl

$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
openssl rand -out "$T/nonce.key" 32
chmod 600 "$T/nonce.key"
printf 'user pw\n' >"$T/pw"
chmod 600 "$T/pw"
jq -n --arg e "$(base64 -w0 "$T/s/report.bin")" '{evidence: $e}' >"$T/body.json"
COMMON="--trust-root $T/s/ark.pem --collateral $T/s --offline --nonce-key $T/nonce.key"
. "${CVMATTEST_SRC:?}/tests/e2e/lib/redis.sh"
# a script is BUSY after 100 ms, not Redis's default 5 s
redis_start --lua-time-limit 100
# A running script holds Redis (and its SIGTERM) until it ends: killed on every way out, before
# cleanup stops the processes; and it ends by itself after 60 s in any case.
trap 'redis-cli -p "$RP" script kill >/dev/null 2>&1; cleanup' EXIT
trap 'exit 1' INT TERM

healthz() { curl -s -o /dev/null -w '%{http_code}' "$1/healthz"; }
# spend NAME URL: a nonce of URL verified there; prints the HTTP status and the error code
spend() {
    _n=$(curl -sf "$2/v1/nonce" | jq -r .nonce)
    jq --arg n "$_n" '. + {nonce: $n}' "$T/body.json" >"$T/$1.body"
    printf '%s %s' "$(post "$2/v1/verify" "$T/$1.body" "$T/$1.out")" \
        "$(jq -r '.error.code // "none"' "$T/$1.out")"
}
# within SECONDS WANT CMD...: CMD (its output) again until it is WANT, SECONDS at most; prints
# the last output
within() {
    _end=$(($(date +%s) + $1))
    _want=$2
    shift 2
    while :; do
        _got=$("$@")
        { [ "$_got" = "$_want" ] || [ "$(date +%s)" -ge "$_end" ]; } && break
        sleep 0.2
    done
    printf '%s' "$_got"
}
pong() { redis-cli -p "$RP" ping 2>&1 | cut -d' ' -f1; }
logged() { grep -c -F -- "$2" "$T/$1.log" || true; }
# warned_b: how often B warned that Redis no longer shows its settings, after a healthz (which
# takes the re-read when due)
warned_b() {
    healthz "$B" >/dev/null
    logged B 'redis no longer shows its eviction settings'
}
# rejected: how many CONFIG GETs Redis refused before running them (BUSY, NOPERM)
rejected() {
    redis-cli -p "$RP" info commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_config|get:.*rejected_calls=\([0-9]*\).*/\1/p'
}
evict_on() {
    redis-cli -p "$RP" config set maxmemory 1gb >/dev/null
    redis-cli -p "$RP" config set maxmemory-policy allkeys-lru >/dev/null
}
evict_off() {
    redis-cli -p "$RP" config set maxmemory-policy noeviction >/dev/null
    redis-cli -p "$RP" config set maxmemory 0 >/dev/null
}

# 1. a re-read that meets BUSY
start A $COMMON --redis "redis://127.0.0.1:$RP"
A=http://127.0.0.1:$PORT
eq "A: a nonce spent" "200 none" "$(spend a1 "$A")"
redis-cli -p "$RP" eval 'local t = tonumber(redis.call("TIME")[1])
while tonumber(redis.call("TIME")[1]) - t < 60 do end
return 1' 0 >"$T/script.out" 2>&1 &
PIDS="$PIDS $!"
eq "the script holds Redis (BUSY)" BUSY "$(within 10 BUSY pong)"
# healthz asked for 9 s while the script runs: the re-read due within 5 s meets BUSY
_end=$(($(date +%s) + 9))
: >"$T/busy.codes"
while [ "$(date +%s)" -lt "$_end" ]; do
    healthz "$A" >>"$T/busy.codes"
    echo >>"$T/busy.codes"
    sleep 0.2
done
eq "healthz while Redis is BUSY: 503 only" 503 "$(sort -u "$T/busy.codes")"
redis-cli -p "$RP" script kill >/dev/null
eq "the script killed: Redis answers" PONG "$(within 10 PONG pong)"
_r=$(rejected)
if [ -n "$_r" ]; then
    [ "$_r" -ge 1 ] && ok "the re-read of the settings met BUSY ($_r CONFIG GET refused)" ||
        fail "no CONFIG GET met BUSY: the test did not exercise the re-read"
else
    echo "SKIP (part): this Redis counts no rejected_calls: that the re-read met BUSY is not shown"
fi
eq "A: healthz once Redis answers" 200 "$(within 10 200 healthz "$A")"
evict_on
eq "A: Redis set to evict, noticed within 15 s: healthz" 503 "$(within 15 503 healthz "$A")"
eq "A: a nonce refused while Redis may evict" "503 NONCE_STORE_UNAVAILABLE" "$(spend a2 "$A")"
eq "A: the eviction said once in the log" 1 "$(logged A 'redis now may evict keys (maxmemory-policy allkeys-lru')"
eq "A: a BUSY re-read is no warning" 0 "$(logged A 'make sure it does not evict')"
stop A
evict_off

# 2. a re-read refused (NOPERM) once Redis had shown its settings
redis-cli -p "$RP" ACL SETUSER cvm on '>user pw' '~cvmattest:*' -@all +ping +set +get +del \
    +getrange +eval '+config|get' >/dev/null || { echo "FAIL ACL SETUSER"; exit 1; }
start B $COMMON --redis "redis://cvm@127.0.0.1:$RP" --redis-password-file "$T/pw"
B=http://127.0.0.1:$PORT
eq "B: a nonce spent" "200 none" "$(spend b1 "$B")"
redis-cli -p "$RP" ACL SETUSER cvm '-config|get' >/dev/null
eq "B: the refused re-read warned within 15 s" 1 \
    "$(within 15 1 warned_b)"
grep -q "NOPERM" "$T/B.log" && ok "B: the warning has Redis's words (NOPERM)" ||
    fail "B: the warning: $(cat "$T/B.log")"
eq "B: a nonce spent meanwhile (trusted, as at start)" "200 none" "$(spend b2 "$B")"
eq "B: healthz meanwhile" 200 "$(healthz "$B")"
redis-cli -p "$RP" ACL SETUSER cvm '+config|get' >/dev/null
evict_on
eq "B: CONFIG GET granted again, Redis set to evict: healthz within 15 s" 503 \
    "$(within 15 503 healthz "$B")"
eq "B: a nonce refused while Redis may evict" "503 NONCE_STORE_UNAVAILABLE" "$(spend b3 "$B")"
eq "B: the refusal warned once" 1 "$(logged B 'redis no longer shows its eviction settings')"
stop B
evict_off

[ $fails = 0 ] && echo "serve_redis_evict: all passed" || echo "serve_redis_evict: $fails failed"
[ $fails = 0 ]
