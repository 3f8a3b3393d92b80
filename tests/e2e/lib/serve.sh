# Sourced by the e2e tests of `cvmattest serve` for what they all begin with; not a test itself
# (CMake registers tests/e2e/*.sh only). Needs CVMATTEST_BIN (ctest sets it). At source time:
# set -u, CVM (the binary), fails (0) and the functions below; T and PIDS come from serve_setup,
# which the sourcing script calls before it uses them.
set -u
CVM=${CVMATTEST_BIN:?}
# serve_setup [TOOL...]: SKIP (exit 77) unless every TOOL is found; makes T (a temporary
# directory, removed at exit once every process in PIDS is stopped) and points CVMATTEST_CACHE
# into it
serve_setup() {
    for _p in "$@"; do
        command -v "$_p" >/dev/null 2>&1 || { echo "SKIP: $_p not found (make deps installs it)"; exit 77; }
    done
    T=$(mktemp -d)
    PIDS=""
    trap cleanup EXIT
    export CVMATTEST_CACHE="$T/cache"
}
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
eq() { # name, want, got
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$3', want '$2'"; fi
}
# post URL BODYFILE OUT: POST JSON, prints the HTTP status
post() { curl -s -o "$3" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$2" "$1"; }
# start NAME OPTIONS...: a server on a free port; sets PORT and leaves NAME.log, NAME.pid
start() {
    _name=$1
    shift
    rm -f "$T/$_name.port"
    $CVM serve --listen 127.0.0.1:0 --port-file "$T/$_name.port" "$@" 2>"$T/$_name.log" &
    echo $! >"$T/$_name.pid"
    PIDS="$PIDS $!"
    _i=0
    while [ ! -s "$T/$_name.port" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    PORT=$(cat "$T/$_name.port" 2>/dev/null)
    [ -n "$PORT" ] || { echo "FAIL $_name did not start"; cat "$T/$_name.log"; exit 1; }
}
# stop NAME: the server `start NAME` started, stopped and waited for
stop() { kill "$(cat "$T/$1.pid")"; wait "$(cat "$T/$1.pid")" 2>/dev/null; }
