# Sourced by the e2e tests of `serve --redis` that need a Redis of their own; not a test itself
# (CMake registers tests/e2e/*.sh only). The sourcing script has checked for redis-server,
# redis-cli and python3 and made T (a temporary directory) and PIDS (stopped at exit).
# redis_start [OPTION...]: a redis-server on a free loopback port without persistence (as one
# that restarts empty), its files in T, given OPTIONs too (--requirepass PW, say); sets RP (its
# port) and waits until it answers, a NOAUTH error counting as an answer (5 s at most).
redis_start() {
    RP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$RP" --save '' --appendonly no --dir "$T" "$@" >"$T/redis.log" 2>&1 &
    PIDS="$PIDS $!"
    _i=0
    while ! redis-cli -p "$RP" ping 2>&1 | grep -q -e PONG -e NOAUTH && [ $_i -lt 50 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
}
# refused NAME WANT_TEXT OPTIONS...: `serve OPTIONS` exits 2 at once (20 s at most), saying
# WANT_TEXT (grep -F), and its stderr holds none of the words in SECRETS (grep patterns, one
# a line; none when unset): a refusal at start, never echoing a password
refused() {
    _name=$1
    _want=$2
    shift 2
    timeout 20 $CVM serve --listen 127.0.0.1:0 "$@" 2>"$T/$_name.err"
    _rc=$?
    if [ $_rc = 2 ] && grep -qF -- "$_want" "$T/$_name.err" &&
        { [ -z "${SECRETS:-}" ] || ! printf '%s\n' "$SECRETS" | grep -q -f - "$T/$_name.err"; }; then
        ok "$_name: exit 2, '$_want'"
    else
        fail "$_name: exit $_rc, $(cat "$T/$_name.err")"
    fi
}
# replay_across HOW_B HOW_A REDIS_CLI_OPTION...: a nonce that instance A ($A) gave is
# verified at B ($B, that way: HOW_B names it), its replay at A (HOW_A) is 409 NONCE_REPLAYED,
# and the spent nonce is in database 2 of the Redis on $RP (redis-cli with the OPTIONs). Needs
# T/body.json and lib/serve.sh's eq and post.
replay_across() {
    _how_b=$1
    _how_a=$2
    shift 2
    _n=$(curl -sf "$A/v1/nonce" | jq -r .nonce)
    jq --arg n "$_n" '. + {nonce: $n}' "$T/body.json" >"$T/b1.json"
    eq "a nonce of A verified at B ($_how_b)" 200 "$(post "$B/v1/verify" "$T/b1.json" "$T/o1.json")"
    eq "its replay at A ($_how_a): 409" "409 NONCE_REPLAYED" \
        "$(post "$A/v1/verify" "$T/b1.json" "$T/o2.json") $(jq -r .error.code "$T/o2.json")"
    eq "the spent nonce is in database 2" 1 \
        "$(redis-cli -p "$RP" "$@" -n 2 exists "cvmattest:nonce:$_n")"
}
