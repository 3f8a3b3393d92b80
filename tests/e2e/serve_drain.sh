#!/bin/sh
# `cvmattest serve` draining on SIGTERM behind a load balancer (docs/operations.md): once
# signalled it stops listening at once (a new connection is refused, not left waiting in the
# backlog, so nginx fails over to another instance without a time-out); the request in flight
# is answered; a request that begins after the signal (on a kept-alive connection) is refused
# with 503 SHUTTING_DOWN before anything is done with it (nginx retries it elsewhere, its nonce
# unspent); every answer then carries "Connection: close" (a file of the web page too); a
# second SIGTERM, a SIGINT and a SIGHUP during the drain do not cut it short; then it exits 0.
set -u
CVM=${CVMATTEST_BIN:?}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
T=$(mktemp -d)
SPID=
cleanup() {
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
$CVM serve --listen 127.0.0.1:0 --port-file "$T/port" --trust-root "$T/s/ark.pem" \
    --collateral "$T/s" --offline --drain 20 2>"$T/serve.log" &
SPID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "FAIL serve did not start"; cat "$T/serve.log"; exit 1; }
E2E_LIB="$(dirname "$0")/lib" timeout 90 python3 - "$(cat "$T/port")" "$SPID" "$T/s/report.bin" "$T/serve.log" <<'PY'
import base64, http.client, json, os, re, signal, socket, sys, time
port, pid, report, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
fails = 0
def check(name, ok, detail=""):
    global fails
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    fails += 0 if ok else 1
sys.path.insert(0, os.environ["E2E_LIB"])
import serve_wait
def ended(rid):
    serve_wait.ended(log, rid)
def in_flight(want):
    return serve_wait.in_flight(port, log, want)

# a kept-alive connection, used once before the signal
ka = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
ka.request("GET", "/healthz")
r = ka.getresponse(); r.read()
check("before SIGTERM: kept alive", r.status == 200 and r.getheader("Connection", "") != "close",
      "%d %s" % (r.status, r.getheader("Connection")))
ended(r.getheader("X-Request-Id"))  # not in flight any more

# a request in flight: headers and half of its body sent before the signal
body = json.dumps({"evidence": base64.b64encode(open(report, "rb").read()).decode()}).encode()
slow = socket.create_connection(("127.0.0.1", port), timeout=10)
slow.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\n\r\n" % len(body) + body[:len(body) // 2])
# a request for the web page in flight too (a GET whose body is still coming)
web = socket.create_connection(("127.0.0.1", port), timeout=10)
web.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
# both their headers received (in flight: the drain waits for them) before the signal
n = in_flight(2)
if n < 2:
    check("before SIGTERM: the two requests are in flight", False, "%d in flight" % n)
    sys.exit(1)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
# signalled again while draining (an impatient operator, a process manager): the drain goes on
os.kill(pid, signal.SIGTERM)
time.sleep(0.1)
os.kill(pid, signal.SIGINT)
time.sleep(0.1)
os.kill(pid, signal.SIGHUP)  # no reload: a hang-up is one more stop signal, not an end
time.sleep(0.2)
def running(pid):  # alive, not a zombie (the shell reaps it later)
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
check("signalled again while draining: still running", running(pid))

# a new connection while draining: refused at once, not queued
t0 = time.monotonic()
try:
    c = socket.create_connection(("127.0.0.1", port), timeout=3)
    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = c.recv(100)
    how = "connected, answered %r" % data[:20] if data else "connected, closed"
except ConnectionRefusedError:
    how = "refused"
except (ConnectionResetError, socket.timeout) as e:
    how = type(e).__name__
check("draining: a new connection is refused at once", how == "refused" and time.monotonic() - t0 < 1,
      "%s after %.1f s" % (how, time.monotonic() - t0))

# a request beginning on the kept-alive connection now: refused, telling the client to close
ka.request("POST", "/v1/verify", body=body, headers={"Content-Type": "application/json"})
r = ka.getresponse()
try:
    code = json.loads(r.read())["error"]["code"]
except (ValueError, KeyError, TypeError):
    code = None
check("draining: a new request on a kept-alive connection: 503 SHUTTING_DOWN, Connection: close",
      r.status == 503 and code == "SHUTTING_DOWN" and (r.getheader("Connection") or "").lower() == "close",
      "%d %s Connection: %s" % (r.status, code, r.getheader("Connection")))

# the requests in flight complete, also with Connection: close
def head_of(sock, rest):
    sock.sendall(rest)
    resp = b""
    while b"\r\n\r\n" not in resp:
        try:
            d = sock.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        resp += d
    return resp.split(b"\r\n\r\n", 1)[0].decode(errors="replace").lower()
head = head_of(slow, body[len(body) // 2:])
check("draining: the request in flight is answered 200 with Connection: close",
      head.startswith("http/1.1 200") and "connection: close" in head, head[:200])
head = head_of(web, b"67890")
check("draining: a web file in flight is answered 200 with Connection: close",
      head.startswith("http/1.1 200") and "connection: close" in head, head[:300])
sys.exit(1 if fails else 0)
PY
rc=$?
i=0
while kill -0 "$SPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$SPID"
src=$?
SPID=
[ $src = 0 ] && echo "ok   exits 0 after draining (signalled four times)" || { echo "FAIL exit $src after SIGTERM"; rc=1; }
grep -q 'signalled again: still draining' "$T/serve.log" && echo "ok   the further signals are logged" ||
    { echo "FAIL the further signals are not logged"; rc=1; }
grep -q 'SIGTERM: no new connections; draining 2 request(s)' "$T/serve.log" &&
    echo "ok   the drain counted the two requests in flight" ||
    { echo "FAIL the drain did not count the two requests in flight: $(grep 'draining' "$T/serve.log")"; rc=1; }
[ $rc = 0 ] || { tail -5 "$T/serve.log"; exit 1; }
echo "all drain tests passed"
