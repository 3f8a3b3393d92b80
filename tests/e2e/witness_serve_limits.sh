#!/bin/sh
# witness serve's limits on clients (docs/registry.md "Witnesses"), on loopback: the
# connection past --per-ip-connections is refused, and past the 256 in all with no per-address
# limit; a header trickled in, and a body trickled in, are cut off at --timeout (+ 2 s for the
# header) while a log's request is answered 200 meanwhile; a Content-Length over 64 KiB is
# answered 413 at once, before any body is sent; a chunked body is not read on past 64 KiB
# (the connection is closed); a GET is answered 405 with "Allow: POST"; a body framed in a way a
# proxy in front may read otherwise (Transfer-Encoding with Content-Length, whitespace before a
# header's colon, two Content-Length headers, Transfer-Encoding in HTTP/1.0) is answered one
# 400 and the connection closed, the request after it never answered (docs/registry.md).
set -u
CVM=${CVMATTEST_BIN:?}
command -v python3 >/dev/null 2>&1 || { echo "witness_serve_limits: SKIP: python3 not installed" >&2; exit 77; }
T=$(mktemp -d /tmp/cvma-e2e-witlim.XXXXXX) || exit 1
SERVE=
trap '[ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }

chip=$(printf '5a%.0s' $(seq 64))
$CVM registry keygen --out "$T/cloud" >/dev/null || exit 1
printf 'amd chip_id %s region=eu-1\n' "$chip" >"$T/fleet.txt"
$CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 30 --out "$T/r1.jws" >/dev/null || exit 1
$CVM registry log keygen --out "$T/log" --origin example.com/cloud/log >/dev/null || exit 1
$CVM registry log append --log "$T/L" --key "$T/log.key" --provider cloud="$T/cloud.pub" "$T/r1.jws" >/dev/null || exit 1
$CVM witness keygen --out "$T/w" --name witness.example/w >/dev/null || exit 1
printf 'old 0\n\n' >"$T/req" && cat "$T/L/checkpoint" >>"$T/req"

start() { # options...
    rm -f "$T/port"
    $CVM witness serve --state "$T/ws" --key "$T/w.key" --log-vkey "$T/log.vkey" \
        --port-file "$T/port" "$@" 2>>"$T/serve.err" &
    SERVE=$!
    i=0; while [ ! -s "$T/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$T/port" ] || { echo "FAIL: witness serve did not start"; cat "$T/serve.err"; exit 1; }
}
stop() { kill "$SERVE"; wait "$SERVE"; check "witness serve stops on SIGTERM" 0 $?; SERVE=; }

$CVM witness serve --state "$T/ws" --key "$T/w.key" --log-vkey "$T/log.vkey" --timeout 0 2>/dev/null
check "--timeout 0 is a usage error" 2 $?
$CVM witness serve --state "$T/ws" --key "$T/w.key" --log-vkey "$T/log.vkey" --per-ip-connections 257 2>/dev/null
check "--per-ip-connections 257 is a usage error" 2 $?

# The connection past --per-ip-connections 3: refused at once, well before --timeout (10 s here)
# would close it. An instance of its own: a connection this script closed can hold its slot for a
# moment on a loaded machine, and the time limits below need three at once.
start --timeout 10 --per-ip-connections 3
python3 - "$(cat "$T/port")" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=10)
def closed_within(s, secs):
    """Whether the server closes s (EOF or reset, nothing answered) within secs."""
    s.settimeout(secs)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
held = [conn() for _ in range(3)]
time.sleep(0.3)
extra = conn()
ok = closed_within(extra, 5)
print(("ok   " if ok else "FAIL ") + "the 4th connection from one address is closed at once", flush=True)
sys.exit(0 if ok else 1)
PY
check "--per-ip-connections 3" 0 $?
stop

start --timeout 2
python3 - "$(cat "$T/port")" "$T/req" <<'PY'
import socket, sys, threading, time
port, req = int(sys.argv[1]), open(sys.argv[2], "rb").read()
fails = 0
def ok(name, cond, detail=""):
    global fails
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail), flush=True)
    fails += 0 if cond else 1
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s
def post(body, extra=b""):
    s = conn()
    s.sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra +
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return data

# A header trickled a byte at a time, and a body trickled after its header: both cut off
# (--timeout 2: the header within 2 + 2 s, the body within 2 s of its header, swept once a
# second), while a log's request is answered meanwhile. Timed from each one's connect; the
# bounds leave room for a loaded machine and stay below the default --timeout's cut (10 s, the
# header's 12 s) and the trickle's own 20 s.
cut = {}
def trickle(name, head):
    s = conn()
    t0 = time.time()
    s.sendall(head)
    try:
        while time.time() - t0 < 20:
            s.send(b"a")
            time.sleep(0.3)
        cut[name] = None
    except OSError:
        cut[name] = time.time() - t0
threads = []
for name, head in (("header", b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nX-Slow: "),
                   ("body", b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n")):
    t = threading.Thread(target=trickle, args=(name, head))
    t.start()
    threads.append(t)
time.sleep(1)
r = post(req)
ok("a log's request is answered 200 while two clients trickle", r.startswith(b"HTTP/1.1 200 ") and
   b"\n\xe2\x80\x94 witness.example/w " in r, repr(r[:200]))
for t in threads:
    t.join()
ok("a body trickled in is cut off after --timeout",
   cut.get("body") is not None and 1.5 < cut["body"] < 8, repr(cut.get("body")))
ok("a header trickled in is cut off after --timeout + 2 s",
   cut.get("header") is not None and 1.5 < cut["header"] < 11, repr(cut.get("header")))

# A Content-Length over 64 KiB: 413 at once, no body sent.
s = conn()
s.sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
s.settimeout(2)
try:
    r = s.recv(4096)
except OSError as e:
    r = repr(e).encode()
ok("a Content-Length over 64 KiB is answered 413 before the body", r.startswith(b"HTTP/1.1 413 "),
   repr(r[:200]))
s.close()

# A chunked body: not read on past 64 KiB. 8 MiB offered in 8 KiB chunks; the connection must
# fail well before (the socket buffers hold some, not megabytes with a small send buffer).
s = conn()
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
s.sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
chunk = b"2000\r\n" + b"x" * 0x2000 + b"\r\n"
sent = 0
s.settimeout(5)
try:
    while sent < 8 << 20:
        s.sendall(chunk)
        sent += 0x2000
    s.sendall(b"0\r\n\r\n")
except OSError:
    pass
ok("a chunked body is not read on past 64 KiB", sent < 2 << 20, "%d bytes sent" % sent)
s.close()

# 405 names the method the URL takes.
s = conn()
s.sendall(b"GET /add-checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
s.settimeout(5)
r = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    r += d
ok("GET is answered 405 with Allow: POST", r.startswith(b"HTTP/1.1 405 ") and
   b"\r\nAllow: POST\r\n" in r, repr(r[:300]))
sys.exit(1 if fails else 0)
PY
check "limits with --timeout 2" 0 $?
stop
grep -q "connection(s) closed unanswered" "$T/serve.err" ||
    { echo "FAIL: the cut connections are not logged"; cat "$T/serve.err"; fails=$((fails + 1)); }

# Framing a proxy in front may read otherwise: one 400, the connection closed, the request that
# follows the body (a smuggled one, for a proxy that frames the body otherwise) never answered.
start --timeout 3
python3 - "$(cat "$T/port")" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
after = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
fails = 0
def refused(name, data, why):
    global fails
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data + after)
    got, closed, t0 = b"", False, time.monotonic()
    s.settimeout(0.5)
    while time.monotonic() - t0 < 2:  # closed within 2 s: by the refusal, not --timeout (3 s)
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            d = b""
        if not d:
            closed = True
            break
        got += d
    s.close()
    ok = (got.startswith(b"HTTP/1.1 400") and why in got and got.count(b"HTTP/1.1 ") == 1
          and closed)
    print(("ok   " if ok else "FAIL ") + name + ": one 400, closed" +
          ("" if ok else ": closed %s, %r" % (closed, got[:300])))
    fails += not ok
post = b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\n"
refused("Content-Length with Transfer-Encoding",
        post + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"Transfer-Encoding with Content-Length")
refused("'Transfer-Encoding : chunked' with Content-Length",
        post + b"Content-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        b"is not a token: whitespace")
refused("two Content-Length headers",
        post + b"Content-Length: 0\r\nContent-Length: 41\r\n\r\n", b"2 Content-Length headers")
refused("Transfer-Encoding in HTTP/1.0",
        b"POST /add-checkpoint HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"HTTP/1.0")
sys.exit(1 if fails else 0)
PY
check "request framing refused" 0 $?
stop
grep -q "witness serve: 400: Transfer-Encoding with Content-Length" "$T/serve.err" ||
    { echo "FAIL: the framing refusal is not logged"; cat "$T/serve.err"; fails=$((fails + 1)); }

# No per-address limit: still 256 connections in all; the 257th waits unserved (libmicrohttpd
# stops accepting) until one of them ends.
start --per-ip-connections 0
python3 - "$(cat "$T/port")" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(256)]
time.sleep(0.5)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /add-checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
s.settimeout(1.5)
try:
    early = s.recv(100)
except socket.timeout:
    early = None
except ConnectionResetError:
    early = b"reset"
fails = 0
print(("ok   " if early is None else "FAIL ") + "the 257th connection is not served: %r" % early)
fails += early is not None
for h in held[:8]:
    h.close()
s.settimeout(5)
try:
    late = s.recv(100)
except OSError as e:
    late = repr(e).encode()
ok = late.startswith(b"HTTP/1.1 405 ")
print(("ok   " if ok else "FAIL ") + "it is served once a connection ends: %r" % late[:40])
sys.exit(1 if fails or not ok else 0)
PY
check "256 connections in all" 0 $?
stop

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "witness_serve_limits: all passed"
