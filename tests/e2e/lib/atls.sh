# Shared by the attested-TLS scripts (atls.sh, atls_harden.sh, atls_collect.sh); sourced
# with CVM (the binary) set. Gives: $T, a temporary folder removed at exit together with the
# background processes listed in $pids; $fails and the checks check, has, lacks, and wait_for
# FILE TEXT (has, once FILE holds TEXT or 10 s have passed: a server's log line comes a moment
# after its peer is done);
# ms_since START, the milliseconds since START (a $(date +%s%N));
# server NAME ARGS..., which starts atls-server in the background and sets $port;
# client_when_free OUT ARGS..., the script's own client function tried again while refused busy;
# and ATLS_LIB (exported): this folder, where the python3 peers import atls_frames.py from.
ATLS_LIB=$(cd "$(dirname "$0")/lib" && pwd) || exit 1
export ATLS_LIB
T=$(mktemp -d) || exit 1
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
export CVMATTEST_CACHE="$T/cache"
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks $2"; head -c 1500 "$1"; echo; fails=$((fails + 1)); }; }
lacks() { if grep -q -- "$2" "$1"; then echo "FAIL: $1 has $2"; fails=$((fails + 1)); fi; }
wait_for() { for _ in $(seq 100); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done; has "$1" "$2"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# server NAME ARGS...: atls-server in the background (output in $T/NAME.out, .err); sets $port.
server() {
    name=$1
    shift
    : >"$T/$name.out"
    $CVM atls-server "$@" >"$T/$name.out" 2>"$T/$name.err" &
    pids="$pids $!"
    listening_port "$T/$name.out" 150 && return 0
    echo "FAIL: atls-server $name did not start"; cat "$T/$name.err"; exit 1
}

# listening_port FILE TRIES: waits (TRIES x 0.1 s at most) for a server's first line
# "listening 127.0.0.1:PORT" in FILE; sets $port, false when it never came.
listening_port() {
    port=""
    for _ in $(seq "$2"); do
        port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$1")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    return 1
}

# client_when_free OUT ARGS...: the script's client function, tried again every 0.2 s (for up
# to 15 s) while the server refuses it as busy (every --max-connections slot still held: a slot
# is freed a moment after its peer leaves); output in OUT, the last exit code returned;
# BUSY_RETRIES: how many of its tries the server refused as busy.
client_when_free() {
    out=$1
    shift
    r=1
    BUSY_RETRIES=0
    for _ in $(seq 75); do
        client "$@" >"$out" 2>&1
        r=$?
        grep -q "(busy?)" "$out" || return $r
        BUSY_RETRIES=$((BUSY_RETRIES + 1))
        sleep 0.2
    done
    return $r
}
