# Sourced by e2e tests that give a port to a server they start themselves, or that need a port
# nobody listens on; not a test itself (CMake registers tests/e2e/*.sh only). Needs python3.
# (A server that binds port 0 itself, as `cvmattest serve --listen 127.0.0.1:0 --port-file`
# does, needs none of this.)
#
# free_ports HOST N: N distinct loopback ports (HOST 127.0.0.1 or ::1) nobody holds now, on one
# line. Each is free when picked, but another process can take it before the caller's server
# binds it: the caller sees its server fail with "Address already in use" and tries again with
# other ports.
free_ports() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
host, n = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
held = []
for _ in range(n):  # all held at once: distinct
    s = socket.socket(fam)
    s.bind((host, 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
PY
}
# hold_port FILE: a background process (HOLDER, its pid; the caller stops it, or adds it to
# the processes stopped at exit) holding a free loopback port (HELD, also written into FILE)
# bound and not listening: a connection to it is refused, and no other process can bind it
# (nor get it as a connection's local port) until release_port. 60 s at most.
hold_port() {
    rm -f "$1" "$1.tmp"
    python3 - "$1" <<'PY' &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
PY
    HOLDER=$!
    _i=0
    while [ ! -s "$1" ] && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ -s "$1" ] || { echo "FAIL no loopback port could be held"; exit 1; }
    HELD=$(cat "$1")
}
# release_port: the port hold_port holds is let go (its process stopped and waited for): from
# now on another process can bind it
release_port() {
    kill "$HOLDER" 2>/dev/null
    wait "$HOLDER" 2>/dev/null
}
