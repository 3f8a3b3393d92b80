#!/bin/sh
# `cvmattest serve` and how a request's body is framed (docs/service.md "Errors" and "Limits on
# clients"):
# - a chunked body whose framing trickles in (trailer fields after the last chunk, a chunk
#   extension, chunk-size digits: bytes that are not the body's own, each one resetting
#   libmicrohttpd's idle time-out) is cut off, unanswered, once --timeout has passed since the
#   headers, as a body trickled under Content-Length is: logged as a client time-out and
#   counted as CLIENT_ABORTED; one whose last byte comes just past --timeout is not answered
#   either; one that comes in time is; and it does not hold a drain past --timeout;
# - Transfer-Encoding with Content-Length (a smuggled request after the chunked body, for a
#   proxy that goes by Content-Length), a coding other than chunked, two Transfer-Encoding
#   headers, or Transfer-Encoding in an HTTP/1.0 request: one 400 BAD_REQUEST, the connection
#   closed, nothing read after it answered (RFC 9112 6.1, 6.3);
# - a header name that is not a token, such as "Transfer-Encoding : chunked" (whitespace before
#   the colon, kept in the name by libmicrohttpd, so neither framing header is found): the same
#   one 400 and closed connection (RFC 9112 5.1), not read by Content-Length and kept open; so
#   is a folded Content-Length or Transfer-Encoding (obs-fold, which libmicrohttpd joins to the
#   header's name: RFC 9112 5.2);
# - a request target in absolute-form (http://host/path) is answered as its path;
# - a chunked body over --max-body is answered 413 whatever the endpoint: GET /v1/nonce, and
#   POST /v1/verify with a Content-Type that is not JSON (413 before 415);
# - with a small --max-body (1000), the whole body received decides, not the size of the chunk
#   it came in: one chunk a little over the limit (1,100 bytes), or up to twice it, is answered
#   413; a body past twice the limit (one chunk of 2,001 bytes, or 500 then 1,501) is cut off
#   unanswered, logged as 413.
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
. "$(dirname "$0")/lib/serve.sh"
serve_setup

$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
COMMON="--trust-root $T/s/ark.pem --collateral $T/s --offline"

# F: the framing tests (the default --max-body of 1 MiB); D: the drain
start F $COMMON --timeout 3
FP=$PORT
start D $COMMON --timeout 3 --drain 20
DP=$PORT
# M: a small --max-body
start M $COMMON --max-body 1000
MP=$PORT
DPID=$(cat "$T/D.pid")

cat >"$T/lib.py" <<'PY'
import select, socket, time

fails = 0

def check(name, ok, detail=""):
    """Prints one line for the check and counts it in fails when it failed."""
    global fails
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    fails += 0 if ok else 1

HEAD = (b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n")

def trickle(port, first, byte, every, seconds, last=None):
    """Sends HEAD and first, then byte every `every` seconds for up to `seconds` (then last,
    if given). Returns (when the server ended the connection, seconds after the headers, or
    None; what it answered)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(HEAD)
    t0 = time.monotonic()
    s.sendall(first)
    answer, ended = b"", None
    while ended is None:
        left = seconds - (time.monotonic() - t0)
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], min(every, left))
        if r:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                d = b""
            if d == b"":
                ended = time.monotonic() - t0
                break
            answer += d
            continue
        if time.monotonic() - t0 >= seconds:
            break
        try:
            s.sendall(byte)
        except (ConnectionResetError, BrokenPipeError):
            ended = time.monotonic() - t0
    if ended is None and last is not None:
        try:
            s.sendall(last)
        except (ConnectionResetError, BrokenPipeError):
            ended = time.monotonic() - t0
    if ended is None:
        s.settimeout(5)
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                answer += d
            ended = time.monotonic() - t0
        except ConnectionResetError:
            ended = time.monotonic() - t0
        except socket.timeout:
            pass
    s.close()
    return ended, answer

def exchange(port, data, wait=5):
    """Sends data in one write; returns (all the server sent, whether it closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(data)
    got, closed = b"", False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            got += d
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    s.close()
    return got, closed

def metrics(port):
    got, _ = exchange(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return got.decode(errors="replace")
PY

timeout 120 python3 - "$FP" "$T/F.log" "$T" <<'PY'
import sys, threading, time
sys.path.insert(0, sys.argv[3])
import lib
from lib import HEAD, check, exchange, metrics, trickle
port, log = int(sys.argv[1]), sys.argv[2]

# --- a chunked body's framing trickled a byte every 2 s (never idle for --timeout, 3 s; none
# of it reaches the body): cut off unanswered once 3 s have passed since the headers (the
# service looks once a second), for 20 s otherwise. The three at once. ---
cases = [
    ("trailer fields after the last chunk", b"2\r\n{}\r\n0\r\nX-Pad: ", b"a"),
    ("a chunk extension", b"2\r\n{}\r\n1;", b"a"),
    ("chunk-size digits", b"2\r\n{}\r\n", b"0"),
]
got = {}
def run(name, first, byte):
    got[name] = trickle(port, first, byte, 2.0, 20)
threads = [threading.Thread(target=run, args=c) for c in cases]
for t in threads:
    t.start()
for t in threads:
    t.join()
for name, _, _ in cases:
    ended, answer = got[name]
    check("chunked, %s trickled: cut off unanswered after --timeout (3 s)" % name,
          ended is not None and 2.5 < ended < 6.5 and answer == b"",
          "ended %s, answer %r" % (ended, answer[:60]))

# --- the last byte just past --timeout: not answered (checked before the request is served,
# not only by the once-a-second look) ---
ended, answer = trickle(port, b"2\r\n{}\r\n0\r\nX-Pad: ", b"a", 1.0, 3.2, last=b"\r\n\r\n")
check("chunked, ended 3.2 s after its headers: closed unanswered",
      ended is not None and answer == b"", "ended %s, answer %r" % (ended, answer[:60]))
# --- framing trickled but whole within --timeout: answered (the body "{}" read) ---
ended, answer = trickle(port, b"2\r\n{}\r\n0\r\nX-Pad: ", b"a", 0.5, 2.0, last=b"\r\n\r\n")
check("chunked, trailer whole within --timeout: answered",
      answer.startswith(b"HTTP/1.1 400") and b"evidence" in answer, repr(answer[:200]))

text = open(log).read()
n = text.count("verify: connection ended before an answer (client time-out)")
check("the four late bodies are logged as client time-outs", n == 4, "%d in\n%s" % (n, text))
m = metrics(port)
want = 'cvmattest_http_requests_total{endpoint="verify",status="0",error="CLIENT_ABORTED"} 4'
check("/metrics counts them as CLIENT_ABORTED", want in m,
      "\n".join(l for l in m.splitlines() if "verify" in l))
check("none is counted as a slow header", "cvmattest_http_slow_clients_total 0\n" in m,
      "\n".join(l for l in m.splitlines() if "slow" in l))

# --- Transfer-Encoding with Content-Length, all in one write with a request after the body:
# one 400, the connection closed, the GET never answered ---
nonce = b"GET /v1/nonce HTTP/1.1\r\nHost: x\r\n\r\n"
def refused(name, data, why):
    # closed within 2 s: by the refusal, not by the idle time-out (3 s)
    got, closed = exchange(port, data, wait=2)
    check(name + ": one 400 BAD_REQUEST, the connection closed",
          got.startswith(b"HTTP/1.1 400") and b'"BAD_REQUEST"' in got and why in got and
          got.count(b"HTTP/1.1 ") == 1 and closed, "closed %s, %r" % (closed, got[:400]))
refused("Transfer-Encoding and Content-Length",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" + nonce,
        b"Transfer-Encoding with Content-Length")
refused("Transfer-Encoding and Content-Length: 0, to GET /v1/nonce",
        b"GET /v1/nonce HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 0\r\n\r\n0\r\n\r\n" + nonce, b"Transfer-Encoding with Content-Length")
refused("Transfer-Encoding gzip, chunked",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" + nonce,
        b"other than chunked")
refused("two Transfer-Encoding headers",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" +
        nonce, b"more than one Transfer-Encoding")
refused("Transfer-Encoding in HTTP/1.0",
        b"POST /v1/verify HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" +
        nonce, b"HTTP/1.0")
# a header name with whitespace before its colon: libmicrohttpd keeps the space in the name, so
# "Transfer-Encoding : chunked" went unseen and the body was read by Content-Length (7 bytes of
# chunked framing), the connection kept and the rest answered as a request of its own
refused("Content-Length and 'Transfer-Encoding : chunked'",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 7\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + nonce,
        b'header name \\"Transfer-Encoding \\" is not a token: whitespace')
refused("'Content-Length : 20' alone",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length : 20\r\n\r\n" + nonce,
        b'header name \\"Content-Length \\" is not a token: whitespace')
refused("a tab before the colon, to GET /v1/nonce",
        b"GET /v1/nonce HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n" +
        nonce, b"is not a token: whitespace")
# a folded header line (obs-fold): libmicrohttpd joins it to the header's name, so
# "Content-Length:" then " 43" was a header "Content-Length43", no framing header at all: the
# body was read as a request of its own (answered 400, then the GET 200), while a proxy that
# unfolds reads Content-Length: 43
refused("a folded Content-Length",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length:\r\n 37\r\n\r\n" + nonce,
        b'header name \\"Content-Length37\\" is a framing header')
refused("a folded Content-Length after a value, folded with a tab",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"content-length: 0\r\n\t37\r\n\r\n" + nonce, b"obs-fold, RFC 9112 5.2")
refused("a folded Transfer-Encoding",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + nonce,
        b'header name \\"Transfer-Encodingchunked\\" is a framing header')
refused("a byte no token holds in a header name",
        b"GET /v1/nonce HTTP/1.1\r\nHost: x\r\nX-\x01: 1\r\n\r\n" + nonce,
        b"a byte a field name cannot hold")
# a request target in absolute-form (RFC 9112 3.2.2: accepted, its path used; it was 404 "no
# such endpoint: http://x/healthz")
got, _ = exchange(port, b"GET http://x/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check("absolute-form: GET http://x/healthz answered as /healthz",
      got.startswith(b"HTTP/1.1 200") and b'{"status":"ok"}' in got, repr(got[:200]))
got, _ = exchange(port, b"GET HTTPS://x:8/v1/nonce?size=48 HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
check("absolute-form: GET HTTPS://x:8/v1/nonce?size=48 answered as /v1/nonce",
      got.startswith(b"HTTP/1.1 200") and b'"size":48' in got, repr(got[:200]))
# chunked alone (any case) is read, and the connection kept: both answered
got, _ = exchange(port, HEAD.replace(b"chunked", b"Chunked") + b"2\r\n{}\r\n0\r\n\r\n" + nonce +
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check("chunked alone: read, the connection kept for the next request",
      got.startswith(b"HTTP/1.1 400") and b"evidence" in got and
      b"HTTP/1.1 200" in got and b'"nonce"' in got, repr(got[:400]))

# --- a chunked body over --max-body (1 MiB) but not past twice it: 413 when it ends, whatever
# the endpoint and before the content type is looked at ---
body = b"".join(b"10000\r\n" + b" " * 0x10000 + b"\r\n" for _ in range(17)) + b"0\r\n\r\n"
for name, head in [
        ("GET /v1/nonce", b"GET /v1/nonce HTTP/1.1\r\nHost: x\r\n"),
        ("POST /v1/verify as text/plain",
         b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n")]:
    got, _ = exchange(port, head + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
    check("a chunked body of 1.1 MB to %s: 413 BODY_TOO_LARGE" % name,
          got.startswith(b"HTTP/1.1 413") and b"BODY_TOO_LARGE" in got, repr(got[:200]))
m = metrics(port)
for ep in ("nonce", "verify"):
    want = 'cvmattest_http_requests_total{endpoint="%s",status="413",error="BODY_TOO_LARGE"} 1' % ep
    check("/metrics counts the 413 for %s" % ep, want in m,
          "\n".join(l for l in m.splitlines() if "413" in l))

# --- a chunk size libmicrohttpd cannot hold: its own 413, neither logged as the client's abort
# nor counted as CLIENT_ABORTED (its answers are not counted) ---
aborted = 'error="CLIENT_ABORTED"'
before = [l for l in metrics(port).splitlines() if aborted in l]
got, _ = exchange(port, HEAD + b"FFFFFFFFFFFFFFFFF1\r\n{}\r\n0\r\n\r\n")
check("a chunk size of FFFFFFFFFFFFFFFFF1: libmicrohttpd's 413", got.startswith(b"HTTP/1.1 413"),
      repr(got[:200]))
time.sleep(0.3)
after = [l for l in metrics(port).splitlines() if aborted in l]
check("libmicrohttpd's own 413 is not counted as CLIENT_ABORTED", after == before,
      repr((before, after)))
text = open(log, errors="replace").read()
check("libmicrohttpd's own 413 is logged as its answer, not as an abort",
      "answered 413 by libmicrohttpd" in text and "ended before an answer (aborted)" not in text,
      "\n".join(text.splitlines()[-4:]))
sys.exit(1 if lib.fails else 0)
PY
[ $? = 0 ] || { fails=$((fails + 1)); tail -5 "$T/F.log"; }

# --- --max-body 1000: the total received decides, whatever the chunks ---
timeout 120 python3 - "$MP" "$T/M.log" "$T" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
import lib
from lib import HEAD, check, exchange
port, log = int(sys.argv[1]), sys.argv[2]
def chunked(*sizes):
    return b"".join(b"%x\r\n" % n + b" " * n + b"\r\n" for n in sizes) + b"0\r\n\r\n"
def cut_offs():
    with open(log, errors="replace") as f:
        return f.read().count("goes on past twice the limit")
for name, sizes in [("one chunk of 1,100 bytes", (1100,)),
                    ("one chunk of 2,000 bytes (twice the limit)", (2000,)),
                    ("500 bytes, then one chunk of 1,500", (500, 1500)),
                    ("1,000 bytes, then one chunk of 1,000", (1000, 1000)),
                    ("fifteen chunks of 100 bytes", (100,) * 15)]:
    before = cut_offs()
    got, _ = exchange(port, HEAD.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") +
                      chunked(*sizes))
    check("--max-body 1000, %s: 413 BODY_TOO_LARGE" % name,
          got.startswith(b"HTTP/1.1 413") and b"BODY_TOO_LARGE" in got, repr(got[:200]))
    check("--max-body 1000, %s: not cut off" % name, cut_offs() == before)
for name, sizes in [("one chunk of 2,001 bytes", (2001,)),
                    ("500 bytes, then one chunk of 1,501", (500, 1501))]:
    before = cut_offs()
    got, closed = exchange(port, HEAD + chunked(*sizes))
    check("--max-body 1000, %s: cut off unanswered" % name, closed and got == b"",
          repr((closed, got[:200])))
    check("--max-body 1000, %s: logged as past twice the limit" % name, cut_offs() == before + 1)
sys.exit(1 if lib.fails else 0)
PY
[ $? = 0 ] || { fails=$((fails + 1)); tail -5 "$T/M.log"; }

# --- a drain is not held past --timeout by a chunked body's trailer trickled in ---
python3 - "$DP" "$T" >"$T/drain.out" 2>&1 <<'PY' &
import sys
sys.path.insert(0, sys.argv[2])
from lib import trickle
print(trickle(int(sys.argv[1]), b"2\r\n{}\r\n0\r\nX-Pad: ", b"a", 1.0, 25))
PY
TPID=$!
sleep 1
t0=$(date +%s)
kill -TERM "$DPID"
wait "$DPID"
st=$?
took=$(($(date +%s) - t0))
wait "$TPID"
if [ $st = 0 ] && [ $took -le 8 ] && ! grep -q 'drain time-out' "$T/D.log"; then
    ok "a trickled trailer does not hold the drain: exit 0 after ${took} s"
else
    fail "drain with a trickled trailer: exit $st after ${took} s; $(tail -3 "$T/D.log")"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all HTTP framing tests passed"
