# Sourced by the e2e tests of `serve --redis` that need a Redis of their own; not a test itself
# (CMake registers tests/e2e/*.sh only). The sourcing script has checked for redis-server,
# redis-cli and python3 and made T (a temporary directory) and PIDS (stopped at exit).
. "${CVMATTEST_SRC:-$(dirname "$0")/../..}/tests/e2e/lib/ports.sh"
# redis_wait PID HOST PORT LOG: waits until the redis-server PID (its output in LOG) has said
# "Ready to accept connections" (all its ports bound: an answer is not another process's) and
# answers on HOST:PORT, a NOAUTH error counting as an answer (30 s at most; the test stops,
# LOG shown, when it never does). 0 then; 2 when it exited because a port of its was taken
# (another process bound it after it was picked free: another can be tried); 1, LOG shown, when
# it exited for another reason (an option it lacks).
redis_wait() {
    _i=0
    until grep -q "Ready to accept connections" "$4" &&
        redis-cli -h "$2" -p "$3" ping 2>&1 | grep -q -e PONG -e NOAUTH; do
        kill -0 "$1" 2>/dev/null || break
        [ $_i -lt 300 ] ||
            { echo "FAIL redis-server on port $3 does not answer"; cat "$4"; exit 1; }
        sleep 0.1
        _i=$((_i + 1))
    done
    kill -0 "$1" 2>/dev/null && return 0
    grep -q "listening socket.*Address already in use" "$4" && return 2
    echo "redis-server exited:"; cat "$4"
    return 1
}
# redis_start [--host HOST] [--log LOG] [--free-tls-port] [OPTION...]: a redis-server on a
# free loopback port of HOST (127.0.0.1 unless said) without persistence (as one that restarts
# empty), its files in T, its output in LOG (T/redis.log unless said), given OPTIONs too
# (--requirepass PW, say); with --free-tls-port, on a second free port for TLS too (the
# OPTIONs give its certificate). Sets RP (its port), TP (its TLS port, with --free-tls-port)
# and _rpid (its pid) and waits until it answers (redis_wait). The ports are free when picked,
# but another process can take one before redis-server binds it: redis-server then exits, and
# other ports are tried (3 times in all). False, its log shown, when redis-server exits for
# another reason.
redis_start() {
    _host=127.0.0.1
    _log=$T/redis.log
    _tls=0
    while :; do
        case ${1:-} in
        --host) _host=$2; shift 2 ;;
        --log) _log=$2; shift 2 ;;
        --free-tls-port) _tls=1; shift ;;
        *) break ;;
        esac
    done
    for _try in 1 2 3; do
        _ports=$(free_ports "$_host" $((1 + _tls)))
        RP=${_ports%% *}
        TP=
        _tpopt=
        [ $_tls = 0 ] || { TP=${_ports#* }; _tpopt="--tls-port $TP"; }
        # shellcheck disable=SC2086
        redis-server --bind "$_host" --port "$RP" $_tpopt --save '' --appendonly no --dir "$T" \
            "$@" >"$_log" 2>&1 &
        _rpid=$!
        PIDS="$PIDS $_rpid"
        redis_wait "$_rpid" "$_host" "$RP" "$_log"
        case $? in
        0) return 0 ;;
        1) return 1 ;;
        esac
        echo "note: port $RP${TP:+ or $TP} was taken before redis-server bound it: others are tried"
    done
    echo "FAIL redis-server did not start"; cat "$_log"; exit 1
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
