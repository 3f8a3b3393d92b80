#!/bin/sh
# `cvmattest serve` against slow and greedy clients (docs/service.md "Limits"): connections at
# once from one address (--per-ip-connections: the one over is closed unanswered, the default
# is 64, 0 is none); a body trickled a byte a second is cut off once --timeout has passed since
# the headers (logged as a client time-out), and a header trickled in closed after --timeout
# + 2 s; an endless chunked body over --max-body is not
# read on (the connection ends, the refusal logged as 413 BODY_TOO_LARGE); and the requests
# ended without an answer are counted in /metrics as CLIENT_ABORTED. Out of memory while the
# body is read is answered 500 INTERNAL (a realloc made to fail by an LD_PRELOAD shim built
# here, when a C compiler is found and the binary is not sanitized), and after it a chunked
# body over --max-body is still 413 and an endless one still not read on.
. "$(dirname "$0")/lib/serve.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
serve_setup

$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
COMMON="--trust-root $T/s/ark.pem --collateral $T/s --offline"

# --- usage: the range of --per-ip-connections ---
for bad in -1 1025 x; do
    timeout 10 $CVM serve $COMMON --listen 127.0.0.1:0 --per-ip-connections "$bad" 2>"$T/u.err"
    st=$?
    [ $st = 2 ] && grep -q 'from 0 to 1024' "$T/u.err" && ok "--per-ip-connections $bad: exit 2" ||
        fail "--per-ip-connections $bad: exit $st, $(cat "$T/u.err")"
done

start L $COMMON --per-ip-connections 2 --timeout 3 --max-body 4096
LP=$PORT
start D $COMMON
DP=$PORT
start N $COMMON --per-ip-connections 0
NP=$PORT
# the time limits without L's per-IP limit of 2: a connection the script just closed can hold
# its slot for a moment on a loaded machine, and the next one would be refused for it
start S $COMMON --timeout 3 --max-body 4096
SP=$PORT
# the per-IP limit of 2 where a slot freed by a close is waited for (up to 3 s): its --timeout
# (30 s) is well past that, so a close gone unseen is not made up for by the time-out
start P $COMMON --per-ip-connections 2 --timeout 30
PP=$PORT

timeout 120 python3 - "$LP" "$DP" "$NP" "$T/L.log" "$SP" "$T/S.log" "$PP" <<'PY'
import select, socket, sys, time
lp, dp, np_, log = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sp, slog, pp = int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
fails = 0
def check(name, ok, detail=""):
    global fails
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    fails += 0 if ok else 1

def healthz(port, sock=None):
    """The status line of GET /healthz on a new connection (or sock), or what happened."""
    try:
        s = sock or socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = s.recv(200)
        s.close()
        return data.split(b"\r\n", 1)[0].decode() if data else "closed"
    except (ConnectionResetError, BrokenPipeError) as e:
        return type(e).__name__
    except socket.timeout:
        return "timeout"

def metrics(port):
    """The text of GET /metrics. The instance allows 2 connections per IP: one this script
    just closed may still hold its slot for a moment on a slow (sanitized) build, and the
    connection is then reset unanswered; asked again, for up to 2 s."""
    for attempt in range(20):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            m = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                m += d
            s.close()
            if m:
                return m.decode(errors="replace")
        except (ConnectionResetError, BrokenPipeError):
            pass
        time.sleep(0.1)
    return ""

def metrics_with(port, want, seconds=3.0):
    """The text of GET /metrics once it holds want, or the last one after seconds: a request's
    count is added when libmicrohttpd ends it, which can be a moment after its answer reached
    the client."""
    t0 = time.monotonic()
    while True:
        m = metrics(port)
        if want in m or time.monotonic() - t0 > seconds:
            return m
        time.sleep(0.1)

def healthz_within(port, seconds=3.0):
    """The status line of GET /healthz once it is 200, or the last one after seconds: a slot
    freed by a close comes free when the server has seen the close, a moment after it."""
    t0 = time.monotonic()
    while True:
        got = healthz(port)
        if got == "HTTP/1.1 200 OK" or time.monotonic() - t0 > seconds:
            return got
        time.sleep(0.1)

def closed_by_server(s, seconds):
    """Waits up to seconds for the server to end the connection; the time it took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            try:
                if s.recv(65536) == b"":
                    return time.monotonic() - t0
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - t0
    return None

# --- per address: two at once; the third is closed unanswered; once one goes, served again ---
held = [socket.create_connection(("127.0.0.1", pp), timeout=5) for _ in range(2)]
time.sleep(0.3)
got = healthz(pp)
check("per-IP limit 2: a third connection is not served", not got.startswith("HTTP/"), got)
held[0].close()
got = healthz_within(pp)
check("per-IP limit 2: served again once one closed", got == "HTTP/1.1 200 OK", got)
held[1].close()

# the default, 64: 64 held, the 65th not served
held = [socket.create_connection(("127.0.0.1", dp), timeout=5) for _ in range(64)]
time.sleep(0.5)
got = healthz(dp)
check("per-IP default 64: the 65th connection is not served", not got.startswith("HTTP/"), got)
got = healthz(dp, held.pop())
check("per-IP default 64: a held connection is served", got == "HTTP/1.1 200 OK", got)
for s in held:
    s.close()
# 0: no limit (the total of 1024 still holds)
held = [socket.create_connection(("127.0.0.1", np_), timeout=5) for _ in range(80)]
time.sleep(0.5)
got = healthz(np_)
check("--per-ip-connections 0: the 81st connection is served", got == "HTTP/1.1 200 OK", got)
for s in held:
    s.close()
time.sleep(0.3)

# --- a body trickled a byte a second: never idle for --timeout (3 s), cut off once 3 s have
# passed since the headers ---
s = socket.create_connection(("127.0.0.1", lp), timeout=5)
s.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 100\r\n\r\n")
t0 = time.monotonic()
sent, ended = 0, None
while sent < 20 and ended is None:
    try:
        s.sendall(b" ")
        sent += 1
    except (ConnectionResetError, BrokenPipeError):
        ended = time.monotonic() - t0
        break
    took = closed_by_server(s, 1.0)
    if took is not None:
        ended = time.monotonic() - t0
s.close()
check("a trickling client is cut off after --timeout (3 s) since its headers",
      ended is not None and 2.5 < ended < 6.5, "ended %s after %d bytes" % (ended, sent))

# --- an endless chunked body over --max-body (4096): the connection ends, not drained ---
s = socket.create_connection(("127.0.0.1", lp), timeout=5)
s.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n")
chunk = b"1000\r\n" + b" " * 4096 + b"\r\n"
t0 = time.monotonic()
ended, answer, total = None, b"", 0
s.setblocking(False)
while time.monotonic() - t0 < 10 and ended is None:
    try:
        total += s.send(chunk)
    except BlockingIOError:
        pass
    except (ConnectionResetError, BrokenPipeError):
        ended = time.monotonic() - t0
        break
    r, _, _ = select.select([s], [], [], 0.01)
    if r:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            ended = time.monotonic() - t0
            break
        if d == b"":
            ended = time.monotonic() - t0
        answer += d
s.close()
check("an endless chunked body over --max-body: the connection ends at once",
      ended is not None and ended < 3, "ended %s, %d bytes sent" % (ended, total))
if answer:
    check("an endless chunked body: the answer, if any, is 413",
          answer.startswith(b"HTTP/1.1 413"), repr(answer[:40]))

# --- a client that goes away mid-body ---
s = socket.create_connection(("127.0.0.1", lp), timeout=5)
s.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 100\r\n\r\n{\"evid")
time.sleep(0.3)
s.close()
time.sleep(0.5)

# --- the log and /metrics ---
text = open(log).read()
check("the trickling client is logged as a client time-out",
      "verify: connection ended before an answer (client time-out)" in text, text[-400:])
check("the chunked body is logged as 413 BODY_TOO_LARGE", "error 413 BODY_TOO_LARGE" in text,
      text[-400:])
check("the client gone mid-body is logged as aborted",
      "verify: connection ended before an answer (aborted)" in text, text[-400:])
want = 'cvmattest_http_requests_total{endpoint="verify",status="0",error="CLIENT_ABORTED"} 2'
m = metrics_with(lp, want)
check("/metrics counts both as CLIENT_ABORTED", want in m,
      "\n".join(l for l in m.splitlines() if "CLIENT_ABORTED" in l or "413" in l))
want = 'cvmattest_http_requests_total{endpoint="verify",status="413",error="BODY_TOO_LARGE"} 1'
check("/metrics counts the chunked body as 413 BODY_TOO_LARGE", want in m,
      "\n".join(l for l in m.splitlines() if "413" in l))

# --- clients that send headers and part of a body and close at once (the data and the FIN
# arrive together): each seen as gone at once, not held until --timeout (30 s on P) against the
# per-IP limit of 2 (with libmicrohttpd 0.9.75's epoll the close went unseen) ---
for _ in range(12):
    s = socket.create_connection(("127.0.0.1", pp), timeout=5)
    s.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1000\r\n\r\n{\"evidence\":\"AAAA")
    s.close()
got = healthz_within(pp)
check("clients gone with part of a body sent: their slots free at once", got == "HTTP/1.1 200 OK",
      got)

# --- two Content-Length headers: refused (libmicrohttpd reads the first, a proxy may read the
# last, and the two would see two different requests) ---
s = socket.create_connection(("127.0.0.1", sp), timeout=5)
s.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 2\r\ncontent-length: 20\r\n\r\n{}")
ans = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        ans += d
except (ConnectionResetError, socket.timeout):
    pass
s.close()
check("two Content-Length headers: 400 BAD_REQUEST",
      ans.startswith(b"HTTP/1.1 400") and b"BAD_REQUEST" in ans and
      b"2 Content-Length headers" in ans, repr(ans[:300]))
# --- a body over the limit to /v1/nonce, refused from its headers, is counted as nonce's ---
s = socket.create_connection(("127.0.0.1", sp), timeout=5)
s.sendall(b"POST /v1/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n")
ans = s.recv(200)
s.close()
want = 'cvmattest_http_requests_total{endpoint="nonce",status="413",error="BODY_TOO_LARGE"} 1'
m = metrics_with(sp, want)
check("an early 413 at /v1/nonce is counted for nonce", ans.startswith(b"HTTP/1.1 413") and want in m,
      "\n".join(l for l in m.splitlines() if "413" in l))

# --- a header trickled a byte every 0.3 s: never idle for --timeout (3 s), closed unanswered
# once 3 s and the sweep's 2 s have passed since the connection began; a connection idle after
# its answer is closed by the idle time-out (3 s) and not counted as slow ---
ka = socket.create_connection(("127.0.0.1", sp), timeout=5)
ka.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
ka_answer = ka.recv(300)
s = socket.create_connection(("127.0.0.1", sp), timeout=5)
t0 = time.monotonic()
line = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
sent, ended, answer = 0, None, b""
while sent < len(line) and ended is None and time.monotonic() - t0 < 15:
    try:
        s.sendall(line[sent:sent + 1])
        sent += 1
    except (ConnectionResetError, BrokenPipeError):
        ended = time.monotonic() - t0
        break
    r, _, _ = select.select([s], [], [], 0.3)
    if r:
        try:
            answer = s.recv(300)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
        if answer == b"" or answer:
            ended = time.monotonic() - t0
s.close()
ka_closed = closed_by_server(ka, 2.0)
ka.close()
check("a header trickled a byte every 0.3 s is closed unanswered after --timeout (3 s) + 2 s",
      ended is not None and 4.5 < ended < 8.5 and answer == b"",
      "ended %s after %d bytes, answer %r" % (ended, sent, answer[:60]))
check("a kept-alive connection idle after its answer is closed by the idle time-out",
      ka_answer.startswith(b"HTTP/1.1 200") and ka_closed is not None,
      "answer %r, closed %s" % (ka_answer[:40], ka_closed))
m = metrics_with(sp, "cvmattest_http_slow_clients_total 1\n")
check("the slow header is counted once in /metrics, the idle connection not",
      "cvmattest_http_slow_clients_total 1\n" in m,
      "\n".join(l for l in m.splitlines() if "slow" in l))
check("the slow header is logged", "no whole request header within 3 s" in open(slog).read())
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] || { fails=$((fails + 1)); tail -5 "$T/L.log" "$T/S.log" "$T/P.log"; }
# --- out of memory for the body: 500 INTERNAL, not a dropped connection ---
CC=$(command -v cc || command -v gcc || true)
if [ -z "$CC" ] || grep -q __asan_init "$CVM" 2>/dev/null; then
    echo "note: no C compiler, or a sanitized binary: the out-of-memory answer is not checked"
else
    cat >"$T/failrealloc.c" <<'EOF'
/* realloc fails for one size (CVMA_TEST_FAIL_REALLOC): the body buffer's growth to it */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
void *realloc(void *p, size_t n)
{
    static void *(*real)(void *, size_t);
    const char *e = getenv("CVMA_TEST_FAIL_REALLOC");
    if (e != NULL && n == (size_t)strtoull(e, NULL, 10)) {
        return NULL;
    }
    if (real == NULL) {
        real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    }
    return real(p, n);
}
EOF
    if "$CC" -shared -fPIC -o "$T/failrealloc.so" "$T/failrealloc.c" -ldl 2>"$T/cc.err"; then
        # (the shim for the server alone: not through start, a shell function)
        LD_PRELOAD="$T/failrealloc.so" CVMA_TEST_FAIL_REALLOC=131072 \
            $CVM serve --listen 127.0.0.1:0 --port-file "$T/O.port" $COMMON 2>"$T/O.log" &
        PIDS="$PIDS $!"
        i=0
        while [ ! -s "$T/O.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        PORT=$(cat "$T/O.port" 2>/dev/null)
        # a body of 100 000 bytes: its buffer grows 4096, 8192, ... 131072 (refused)
        python3 -c 'import sys; sys.stdout.write("{\"evidence\": \"AAAA\"}" + " " * 99980)' >"$T/big.json"
        got=$(python3 - "$PORT" "$T/big.json" <<'PY'
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("POST", "/v1/verify", body=open(sys.argv[2], "rb").read(),
          headers={"Content-Type": "application/json"})
r = c.getresponse()
try:
    print(r.status, json.loads(r.read())["error"]["code"])
except (ValueError, KeyError, TypeError):
    print(r.status, "?")
PY
)
        [ "$got" = "500 INTERNAL" ] && ok "out of memory for the body: 500 INTERNAL" || fail "out of memory for the body: '$got'"
        grep -q 'error 500 INTERNAL: out of memory (the request body)' "$T/O.log" &&
            ok "out of memory for the body: logged" || fail "oom not logged: $(tail -3 "$T/O.log")"
        # the limits still hold once the body could not be kept (its bytes counted though
        # dropped): a chunked body over --max-body (1 MiB) is 413, not 500; an endless one is
        # not read on past twice the limit, not until --timeout (30 s)
        timeout 60 python3 - "$PORT" <<'PY'
import select, socket, sys, time
port = int(sys.argv[1])
fails = 0
def check(name, ok, detail=""):
    global fails
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    fails += 0 if ok else 1
HEAD = (b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n")
chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(HEAD + b"Connection: close\r\n\r\n" + chunk * 17 + b"0\r\n\r\n")
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
except (ConnectionResetError, socket.timeout):
    pass
s.close()
check("out of memory, then a chunked body of 1.1 MB: 413 BODY_TOO_LARGE",
      got.startswith(b"HTTP/1.1 413") and b"BODY_TOO_LARGE" in got, repr(got[:200]))
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(HEAD + b"\r\n")
s.setblocking(False)
t0, ended, total = time.monotonic(), None, 0
while time.monotonic() - t0 < 10 and ended is None:
    try:
        # from where the last send stopped: a chunk cut short would be framing libmicrohttpd
        # refuses, and the connection would end for that
        total += s.send(chunk[total % len(chunk):])
    except BlockingIOError:
        pass
    except (ConnectionResetError, BrokenPipeError):
        ended = time.monotonic() - t0
        break
    r, _, _ = select.select([s], [], [], 0.01)
    if r:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        if d == b"":
            ended = time.monotonic() - t0
s.close()
check("out of memory, then an endless chunked body: the connection ends at once",
      ended is not None and ended < 3, "ended %s, %d bytes sent" % (ended, total))
sys.exit(1 if fails else 0)
PY
        [ $? = 0 ] || { fails=$((fails + 1)); tail -5 "$T/O.log"; }
    else
        fail "the realloc shim does not build: $(cat "$T/cc.err")"
    fi
fi

# the server serves on
got=$(python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print(s.recv(100).split(b"\r\n")[0].decode())' "$LP")
[ "$got" = "HTTP/1.1 200 OK" ] && ok "the server serves on" || fail "after the slow clients: $got"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all limits tests passed"
