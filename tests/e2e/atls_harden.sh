#!/bin/sh
# Attested TLS against hostile peers (docs/atls.md, "Limits"): a peer that connects and sends
# nothing, trickles a ClientHello a byte at a time, or begins an HTTP request and stops, loses
# its --max-connections slot after --handshake-timeout (a real client is served next); while every slot is held a further
# client is refused at once (busy: closed at the accept, the client exits 3 naming it); a silent connection after its first frame,
# or one trickling a byte now and then, is closed after --idle-timeout; a client asking for evidence in a tight loop is cut off
# (--min-reattest-interval) and a server asking the client twice is refused; frames over their
# type's limit are refused at the header; DATA whose echo would be over the limit gets an ERROR;
# a peer's ERROR text is printed capped and with no
# control bytes; a server that never answers, or trickles its answer, makes the client give up
# (--timeout, exit 3), session-bound or --cert-bound (whose response has a --timeout of its own
# after a slow handshake); a certificate-bound response over 8 MiB is
# refused (exit 1); with --mutual --client-lease, DATA while the client's renewal is pending is
# held until the renewal is accepted (never answered when it is refused) and a second such frame
# refused; the client, refusing evidence that fails with a frame of the server left unread, still
# sends its close_notify (no reset).
# The hostile peers are small python3 scripts speaking the frames of docs/atls.md.
set -u
CVM=${CVMATTEST_BIN:?}
command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 not found (make deps installs it)"; exit 1; }
. "$(dirname "$0")/lib/atls.sh"
ESC=$(printf '\033')

# The hostile peer: python3 peer.py MODE PORT [ARGS]
cat >"$T/peer.py" <<'EOF'
import os, socket, ssl, sys, time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.environ["ATLS_LIB"])
from atls_frames import frame, read_frame  # noqa: E402  (tests/e2e/lib/atls_frames.py)

mode, port = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0

def tls_client(cert=None, key=None):
    """A TLS 1.3 connection to the server; with cert and key, presenting that certificate (a
    --mutual server asks for one)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    s.settimeout(20)  # a server gone silent fails the check instead of hanging the test
    return s

NASTY = b"\x1b[2J\x1b]0;owned\x07" + b"A" * 2986  # 3000 bytes: under the ERROR limit

def closed_after(s, name, t0, secs):
    """Waits (secs at most) for the server to close s; prints when it did, or that it did not."""
    s.settimeout(max(0.1, secs))
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        print("%s: still open after %.1f s" % (name, time.time() - t0), flush=True)
        return
    except OSError:
        pass
    print("%s: the server closed the connection after %.1f s" % (name, time.time() - t0), flush=True)

if mode == "silent":  # connect, send nothing
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    print("connected", flush=True)
    closed_after(s, "silent", t0, float(sys.argv[3]))
elif mode == "trickle":  # a real ClientHello, one byte every 0.2 s
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    print("connected", flush=True)
    end = t0 + float(sys.argv[3])
    try:
        for b in hello:
            if time.time() > end:
                break
            s.sendall(bytes([b]))
            time.sleep(0.2)
        print("trickle: still open after %.1f s" % (time.time() - t0), flush=True)
    except OSError:
        print("trickle: the server closed the connection after %.1f s" % (time.time() - t0),
              flush=True)
    time.sleep(max(0, end - time.time()))
elif mode == "mute":  # TLS, then no frame
    s = tls_client()
    print("connected", flush=True)
    time.sleep(float(sys.argv[3]))
elif mode == "http-slow":  # TLS, then the first byte of an HTTP request and nothing more
    t0 = time.time()  # (the --handshake-timeout runs from the connect)
    s = tls_client()
    s.sendall(b"G")
    print("connected", flush=True)
    closed_after(s, "http-slow", t0, float(sys.argv[3]) - (time.time() - t0))
elif mode == "idle":  # one attestation, then silence
    s = tls_client()
    s.sendall(frame(1, os.urandom(32)))
    t, p = read_frame(s)
    print("idle: frame", t, flush=True)
    time.sleep(float(sys.argv[3]))
    print("idle: after the wait", read_frame(s)[0], flush=True)
elif mode == "idle-trickle":  # one attestation, then a frame a byte every 0.5 s
    s = tls_client()
    s.sendall(frame(1, os.urandom(32)))
    t, p = read_frame(s)
    start = time.time()
    data = frame(4, b"x" * 64)
    try:
        for i in range(int(float(sys.argv[3]) / 0.5)):
            s.sendall(data[i % len(data):i % len(data) + 1])
            time.sleep(0.5)
        print("idle-trickle: still open after %.0f s" % (time.time() - start), flush=True)
    except OSError:
        print("idle-trickle: closed after %.0f s" % (time.time() - start), flush=True)
elif mode == "flood":  # NONCE frames in a tight loop
    s = tls_client()
    for i in range(20):
        try:
            s.sendall(frame(1, os.urandom(32)))
            t, p = read_frame(s)
        except OSError:
            t = None
        if t is None:
            print("flood: closed after", i, "nonces", flush=True)
            break
        print("flood: frame", t, (p[:200].decode("ascii", "replace") if t == 3 else ""), flush=True)
elif mode == "nonce-short":  # a NONCE of 16 bytes: the answer is an ERROR frame saying so
    s = tls_client()
    s.sendall(frame(1, os.urandom(16)))
    t, p = read_frame(s)
    print("nonce-short: frame", t, (p[:200].decode("ascii", "replace") if t == 3 else ""),
          flush=True)
elif mode == "nonce-empty-mutual":  # --mutual: a client certificate, an empty NONCE
    s = tls_client(sys.argv[3], sys.argv[4])
    s.settimeout(5)  # the answer comes at once, or the server is waiting for evidence
    s.sendall(frame(1, b""))
    try:
        t, p = read_frame(s)
    except socket.timeout:
        t, p = "none (timed out)", None
    print("nonce-empty-mutual: frame", t, (p[:200].decode("ascii", "replace") if t == 3 else ""),
          flush=True)
elif mode == "mutual-mute":  # --mutual: a client certificate, a NONCE, then no evidence
    s = tls_client(sys.argv[3], sys.argv[4])
    t0 = time.time()
    s.sendall(frame(1, os.urandom(32)))
    t, p = read_frame(s)
    print("mutual-mute: frame", t, flush=True)
    closed_after(s, "mutual-mute", t0, float(sys.argv[5]))
elif mode == "mutual-data":  # --mutual: a NONCE, the server's NONCE, then DATA, no evidence
    s = tls_client(sys.argv[3], sys.argv[4])
    s.sendall(frame(1, os.urandom(32)))
    t, p = read_frame(s)  # the server's NONCE
    s.sendall(frame(4, b"early"))
    t, p = read_frame(s)
    print("mutual-data: frame", t, (p[:200].decode("ascii", "replace") if t in (3, 4) else ""),
          flush=True)
elif mode == "mutual-badbundle":  # --mutual: a NONCE, then a bundle that is not JSON
    s = tls_client(sys.argv[3], sys.argv[4])
    s.sendall(frame(1, os.urandom(32)))
    t, p = read_frame(s)  # the server's NONCE
    s.sendall(frame(2, b'{"cvmattest_bundle":1,\x1b[2J\xff garbage'))
    t, p = read_frame(s)
    print("mutual-badbundle: frame", t, (p[:200].decode("ascii", "replace") if t == 3 else ""),
          flush=True)
elif mode == "data-first":  # DATA before any NONCE
    s = tls_client()
    s.sendall(frame(4, b"hello"))
    t, p = read_frame(s)
    print("data-first: frame", t, (p[:200].decode("ascii", "replace") if t in (3, 4) else ""),
          flush=True)
elif mode == "data-big":  # DATA whose echo is 8 MiB exactly, then one byte more
    s = tls_client()
    s.sendall(frame(1, os.urandom(32)))
    read_frame(s)
    limit = 8 << 20
    for n in (limit - 6, limit - 5):
        s.sendall(frame(4, b"d" * n))
        t, p = read_frame(s)
        print("data-big:", n, "frame", t, len(p) if p is not None else None,
              p[:200].decode("ascii", "replace") if t == 3 else "", flush=True)
        if t != 4:
            break
elif mode in ("error", "error-big", "nonce-big"):
    s = tls_client()
    if mode == "nonce-big":
        s.sendall(b"\x01\x00\x10\x00\x00")  # a NONCE announcing 1 MiB
    else:
        s.sendall(frame(1, os.urandom(32)))
        read_frame(s)
        s.sendall(frame(3, NASTY if mode == "error" else b"x" * 10240))
    time.sleep(0.5)
elif mode.startswith("server-"):  # a TLS server: answers the client's NONCE in some way
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print("listening 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
    c, _ = ls.accept()
    if mode == "server-slow-cb":
        time.sleep(2)  # the TLS handshake 2 s after the connect
    s = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=(mode != "server-extra"))
    if mode == "server-slow-cb":  # the certificate-bound request answered 1.5 s after it came,
        # with the response of a real atls-server holding the same certificate and key (port
        # sys.argv[5]): the evidence binds the certificate, not the session
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += s.recv(1)
        t0 = time.time()
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.check_hostname = False
        cctx.verify_mode = ssl.CERT_NONE
        cctx.minimum_version = ssl.TLSVersion.TLSv1_3
        r = cctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[5]))))
        r.sendall(head)
        resp = b""
        try:
            while True:
                d = r.recv(65536)
                if not d:
                    break
                resp += d
        except (ssl.SSLError, OSError):
            pass
        time.sleep(max(0.0, 1.5 - (time.time() - t0)))
        s.sendall(resp)
        print("server-slow-cb: answered %d bytes" % len(resp), flush=True)
        time.sleep(1)
        sys.exit(0)
    if mode == "server-chunked":  # the certificate-bound request, answered chunked
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += s.recv(1)
        b = b'{"cvmattest_bundle": 1, "kind": "sev-snp", "parts": [{"role": "evidence", "data": "QUFB"}]}'
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(b) + b +
                  b"\r\n0\r\n\r\n")
        time.sleep(1)
        sys.exit(0)
    if mode == "server-huge":  # the certificate-bound request, answered with 9 MiB
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += s.recv(1)
        try:
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b"{" * (9 << 20))
        except OSError:
            print("server-huge: the client closed the connection", flush=True)
        time.sleep(1)
        sys.exit(0)
    read_frame(s)  # the client's NONCE
    if mode == "server-mute":
        time.sleep(20)
    elif mode == "server-trickle":  # the evidence frame a byte every 0.5 s
        try:
            for b in frame(2, b"e" * 200):
                s.sendall(bytes([b]))
                time.sleep(0.5)
        except OSError:
            pass
    elif mode == "server-error":
        s.sendall(frame(3, NASTY))
        time.sleep(1)
    elif mode == "server-extra":  # evidence that fails, then a DATA frame the client never
        # reads: the client's refusal (an ERROR) and its close_notify must both arrive, not a
        # reset that drops them
        s.sendall(frame(2, b"e" * 200))
        s.sendall(frame(4, b"x" * 100))
        t, p = read_frame(s)
        print("server-extra: frame", t, p.decode("ascii", "replace") if p else "", flush=True)
        try:
            end = "close_notify" if s.recv(4096) == b"" else "more data"
        except ConnectionResetError:
            end = "reset"
        except (ssl.SSLError, OSError) as e:
            end = "error: %s" % type(e).__name__
        print("server-extra: end:", end, flush=True)
    elif mode in ("server-empty", "server-twoev", "server-data"):  # no evidence to verify:
        # an empty EVIDENCE, a bundle with two evidence parts, DATA; then the client's refusal
        if mode == "server-empty":
            s.sendall(frame(2, b""))
        elif mode == "server-twoev":
            part = '{"role": "evidence", "data": "QUFB"}'
            s.sendall(frame(2, ('{"cvmattest_bundle": 1, "kind": "sev-snp", "parts": [%s, %s]}'
                                % (part, part)).encode()))
        else:
            s.sendall(frame(4, b"early"))
        t, p = read_frame(s)
        print("%s: frame" % mode, t, p.decode("ascii", "replace") if p else "", flush=True)
    elif mode == "server-nonce-twice":
        s.sendall(frame(1, os.urandom(32)))
        t, p = read_frame(s)
        print("server: first answer: frame", t, flush=True)
        s.sendall(frame(1, os.urandom(32)))
        t, p = read_frame(s)
        print("server: second answer: frame", t, p.decode("ascii", "replace") if p else "", flush=True)
elif mode == "lease-data":  # --mutual --client-lease: DATA while the renewal is pending
    # ARGS: CERT KEY SIMDIR RENEWDIR WHAT. A mutual client (pyOpenSSL: the RFC 8446 exporter)
    # attested from SIMDIR; at the renewal's NONCE, WHAT: "held" DATA, then 0.5 s later the
    # renewal's evidence from RENEWDIR, then the frames until an echo or the close; "twice"
    # two DATA frames and no evidence.
    import base64, hashlib, json, select, signal  # noqa: E401
    from OpenSSL import SSL
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from snp_resign import load_key, resign  # noqa: E402  (tests/e2e/lib/snp_resign.py)
    cert, key, simdir, renewdir, what = sys.argv[3:8]
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
    ctx.set_verify(SSL.VERIFY_NONE, lambda *a: True)
    ctx.use_certificate_file(cert)
    ctx.use_privatekey_file(key)
    signal.alarm(20)  # a server gone silent fails the check instead of hanging the test
    raw = socket.create_connection(("127.0.0.1", port))  # blocking, as pyOpenSSL wants it
    s = SSL.Connection(ctx, raw)
    s.set_connect_state()
    s.do_handshake()
    exporter = s.export_keying_material(b"EXPORTER-cvmattest-atls-v1", 32, b"")
    spki = x509.load_pem_x509_certificate(open(cert, "rb").read()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def evidence(d, nonce):  # d's report bound to this session, role 0x02 (docs/atls.md)
        rd = hashlib.sha512(b"cvmattest-atls-v1" + b"\x02" + hashlib.sha256(spki).digest() +
                            exporter + nonce).digest()
        b = json.load(open(os.path.join(d, "bundle.json")))
        for part in b["parts"]:
            if part["role"] == "evidence":
                rep = resign(base64.b64decode(part["data"]), load_key(os.path.join(d, "vcek-key.pem")), rd)
                part["data"] = base64.b64encode(rep).decode()
        return json.dumps(b).encode()

    def rd():
        try:
            t, p = read_frame(s)
        except (SSL.Error, OSError):
            t, p = None, None
        shown = p.decode("ascii", "replace") if t in (3, 4) and p else ""
        print("lease-data: frame", t, shown, flush=True)
        return t, p

    def rd_within(secs):  # a frame within secs, or none
        if s.pending() == 0 and not select.select([raw], [], [], secs)[0]:
            print("lease-data: no frame within %.1f s" % secs, flush=True)
            return None
        return rd()[0]

    s.sendall(frame(1, os.urandom(32)))
    t, ns = read_frame(s)  # the server's NONCE, then its EVIDENCE for ours
    s.sendall(frame(2, evidence(simdir, ns)))
    t, _ = read_frame(s)
    print("lease-data: attested, frame", t, flush=True)
    t, ns2 = read_frame(s)  # the renewal's NONCE, --client-lease after
    print("lease-data: the renewal's NONCE, frame", t, flush=True)
    if what == "held":
        s.sendall(frame(4, b"held"))
        rd_within(0.5)
        s.sendall(frame(2, evidence(renewdir, ns2)))
        while rd()[0] not in (None, 4):
            pass
    elif what == "twice":
        s.sendall(frame(4, b"one") + frame(4, b"two"))
        rd()
        rd()
EOF

# peer MODE ARGS...: the hostile peer against $port, in the background (output in $T/MODE.out)
peer() {
    m=$1
    shift
    : >"$T/$m.out"
    python3 "$T/peer.py" "$m" "$port" "$@" >"$T/$m.out" 2>&1 &
    pids="$pids $!"
}
# peer_ready MODE: waits (10 s at most) until the background peer MODE says it is connected
# (python3 may take a while to start on a loaded machine: a fixed sleep is not enough)
peer_ready() {
    for _ in $(seq 100); do
        grep -q '^connected$' "$T/$1.out" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "FAIL: the $1 peer did not connect"; cat "$T/$1.out"; fails=$((fails + 1))
}
# logged FILE PATTERN: has FILE PATTERN, once FILE holds it or after 10 s (a server logs a
# closed connection a moment after the peer sees it closed)
logged() {
    for _ in $(seq 100); do
        grep -q -- "$2" "$1" && break
        sleep 0.1
    done
    has "$1" "$2"
}
# elapsed since START (whole seconds)
since() { echo $(($(date +%s) - $1)); }
# closed_in MODE MAX: the background peer MODE was closed by the server within MAX seconds of its
# connect (it says so once it is, or once its own time has passed)
closed_in() {
    for _ in $(seq 300); do grep -q -e "closed the connection after" -e "still open" "$T/$1.out" && break; sleep 0.1; done
    _after=$(sed -n 's/.*closed the connection after \([0-9.]*\) s$/\1/p' "$T/$1.out")
    if [ -n "$_after" ] && awk -v a="$_after" -v m="$2" 'BEGIN { exit !(a <= m) }'; then
        echo "ok   the $1 peer was closed after $_after s"
    else
        echo "FAIL: the $1 peer was not closed within $2 s"; cat "$T/$1.out"; fails=$((fails + 1))
    fi
}
# A client run of a sanitized build takes up to 2 s on a loaded machine before and after what is
# timed: the bounds below leave room for that and stay under what they tell apart.

$CVM sim snp --out "$T/reg" --keep-keys >/dev/null
$CVM sim snp --out "$T/cli" --keep-keys >/dev/null
V="--trust-root $T/reg/ark.pem --trust-root $T/cli/ark.pem --offline"
client() { $CVM atls-client --connect "127.0.0.1:$port" $V "$@"; }

# --- a silent connection holds the only slot: freed after --handshake-timeout ---
server ssilent --sim "$T/reg" --max-connections 1 --handshake-timeout 1 --connections 2
peer silent 30
peer_ready silent
t0=$(date +%s%N)
client_when_free "$T/c1.out" --send hello --timeout 10; check "served after a silent peer's time-out" 0 $?
ms=$(ms_since "$t0")
has "$T/c1.out" "reply: echo: hello"
# closed 1 s after its connect (and the once-a-second sweep), not the default 10 s
closed_in silent 5
# served soon after, not once a slot freed at the default --handshake-timeout (10 s)
[ "$ms" -le 9000 ] || { echo "FAIL: the client waited $ms ms"; fails=$((fails + 1)); }
logged "$T/ssilent.err" "closing a connection: no TLS handshake within 1 s (--handshake-timeout)"

# --- all --max-connections slots held: a further client is refused at once (busy), not left
# in the listen queue until its --timeout; refusals are logged at most once a second, none
# lost; once the slot is freed a client is served again ---
server sbusy --sim "$T/reg" --max-connections 1 --handshake-timeout 60 --connections 2
peer silent 60
holder=$!
peer_ready silent
t0=$(date +%s%N)
client --timeout 20 >"$T/cb1.out" 2>&1; check "busy: a client beyond --max-connections: exit 3" 3 $?
ms=$(ms_since "$t0")
has "$T/cb1.out" "server closed the connection before the handshake completed (busy?)"
# at once, not after its --timeout (20 s) in the listen queue
[ "$ms" -le 10000 ] || { echo "FAIL: the refused client waited $ms ms (--timeout 20)"; fails=$((fails + 1)); }
logged "$T/sbusy.err" "busy: 1 of 1 connections held, refused 127\.0\.0\.1:[0-9]"
client --cert-bound --timeout 20 >"$T/cb1b.out" 2>&1; check "busy: a --cert-bound client too: exit 3" 3 $?
has "$T/cb1b.out" "server closed the connection before the handshake completed (busy?)"
# a burst: every client refused at once (not after its --timeout, 20 s), one log line a second
# at most, each refusal counted once
start=$(date +%s)
for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    client --timeout 20 >"$T/cb2.out" 2>&1; check "busy: burst client $i: exit 3" 3 $?
    ms=$(ms_since "$t0")
    [ "$ms" -le 10000 ] || { echo "FAIL: refused burst client $i took $ms ms (--timeout 20)"; fails=$((fails + 1)); }
done
has "$T/cb2.out" "(busy?)"
took=$(since "$start")
# the server's reset can reach the client before its connect() returns (a loaded machine):
# connect() then fails with ECONNRESET, still the busy refusal. An LD_PRELOAD shim (built here
# when a C compiler is found and the binary is not sanitized) holds connect() until the reset.
busy_extra=0
CC=$(command -v cc || command -v gcc || true)
if [ -z "$CC" ] || grep -q __asan_init "$CVM" 2>/dev/null; then
    echo "note: no C compiler, or a sanitized binary: a reset during connect() is not checked"
else
    cat >"$T/slowconnect.c" <<'EOF2'
/* connect() returns once the peer has reset the new connection (or after 5 s), as the kernel
 * does when the reset comes before the connecting thread runs again */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int connect(int fd, const struct sockaddr *a, socklen_t n)
{
    int (*real)(int, const struct sockaddr *, socklen_t) =
            (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    int err = 0;
    socklen_t el = sizeof err;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (real(fd, a, n) != 0) {
        return -1;
    }
    (void)poll(&p, 1, 5000);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

/* With CVMA_TEST_SECOND_PORT set, every answer gets a second address: the first's copy with
 * that port, after it. The name in CVMA_TEST_HANG_NAME is looked up by a resolver that does
 * not answer for a minute. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
            (int (*)(const char *, const char *, const struct addrinfo *,
                     struct addrinfo **))dlsym(RTLD_NEXT, "getaddrinfo");
    const char *second = getenv("CVMA_TEST_SECOND_PORT");
    const char *hang = getenv("CVMA_TEST_HANG_NAME");
    if (hang != NULL && node != NULL && strcmp(node, hang) == 0 &&
        (hints == NULL || (hints->ai_flags & AI_NUMERICHOST) == 0)) {
        sleep(60);
        return EAI_AGAIN;
    }
    struct addrinfo *more = NULL;
    int r = real(node, service, hints, res);
    if (r != 0 || second == NULL || (*res)->ai_family != AF_INET ||
        real(node, second, hints, &more) != 0) {
        return r;
    }
    more->ai_next = (*res)->ai_next; /* (freeaddrinfo frees the list whole) */
    (*res)->ai_next = more;
    return 0;
}
EOF2
    if "$CC" -shared -fPIC -o "$T/slowconnect.so" "$T/slowconnect.c" -ldl 2>"$T/cc.err"; then
        # (not through client, a shell function: the shim for this command alone)
        LD_PRELOAD="$T/slowconnect.so" $CVM atls-client --connect "127.0.0.1:$port" $V --timeout 20 \
            >"$T/cb2r.out" 2>&1
        check "busy: reset before connect() returned: exit 3" 3 $?
        has "$T/cb2r.out" "server closed the connection before the handshake completed (busy?)"
        busy_extra=1
        # a name with two addresses, the busy server's first and then one nobody listens on
        # (CVMA_TEST_SECOND_PORT: the shim's getaddrinfo adds it): the reset is what is said,
        # not the later address's refusal
        CVMA_TEST_SECOND_PORT=1 LD_PRELOAD="$T/slowconnect.so" $CVM atls-client \
            --connect "127.0.0.1:$port" $V --timeout 20 >"$T/cb2m.out" 2>&1
        check "busy: reset at the first of two addresses: exit 3" 3 $?
        has "$T/cb2m.out" "server closed the connection before the handshake completed (busy?)"
        busy_extra=2
        # a resolver that does not answer: the look-up counts in --timeout, as the connect does
        t0=$(date +%s%N)
        CVMA_TEST_HANG_NAME=hang.test LD_PRELOAD="$T/slowconnect.so" $CVM atls-client \
            --connect "hang.test:$port" $V --timeout 2 >"$T/hang.out" 2>&1
        check "a name the resolver does not answer: exit 3" 3 $?
        ms=$(ms_since "$t0")
        has "$T/hang.out" "cannot connect to hang.test:$port: no answer in time (--timeout)"
        # about 2 s, not the resolver's 60 s
        [ "$ms" -le 15000 ] || { echo "FAIL: the look-up held the client $ms ms"; fails=$((fails + 1)); }
    else
        echo "FAIL: the connect shim does not build"; cat "$T/cc.err"; fails=$((fails + 1))
    fi
fi
kill "$holder" 2>/dev/null
t0=$(date +%s%N)
client_when_free "$T/cb3.out" --send hello --timeout 20; check "busy: served again once the slot is free" 0 $?
ms=$(ms_since "$t0")
refused=$((7 + busy_extra + BUSY_RETRIES)) # those above, and cb3's tries while the slot was held
has "$T/cb3.out" "reply: echo: hello"
# the slot freed when its peer left, not at its --handshake-timeout (60 s)
[ "$ms" -le 15000 ] || { echo "FAIL: the client waited $ms ms"; fails=$((fails + 1)); }
lines=$(grep -c "busy:" "$T/sbusy.err")
[ "$lines" -le $((took + 3)) ] || { echo "FAIL: $lines busy lines for $refused refusals in $took s"; cat "$T/sbusy.err"; fails=$((fails + 1)); }
counted=$(sed -n -e 's/.*busy: .* refused 127\.0\.0\.1:[0-9]* (and \([0-9]*\) more since the last line)$/\1/p' \
    -e 's/.*busy: \([0-9]*\) more connections refused since the last line$/\1/p' "$T/sbusy.err" | awk '{n += $1} END {print n + 0}')
named=$(grep -c "busy: 1 of 1 connections held, refused 127\.0\.0\.1:" "$T/sbusy.err")
[ $((counted + named)) = "$refused" ] || { echo "FAIL: $named + $counted refusals logged, want $refused"; cat "$T/sbusy.err"; fails=$((fails + 1)); }

# --- slowloris: a ClientHello trickled a byte every 0.2 s (each wait is short; the phase is not)
server sslow --sim "$T/reg" --max-connections 1 --handshake-timeout 2 --connections 2
peer trickle 30
peer_ready trickle
t0=$(date +%s%N)
client_when_free "$T/c2.out" --send hello --timeout 12; check "served after a trickling peer's time-out" 0 $?
ms=$(ms_since "$t0")
# closed 2 s after its connect (and the once-a-second sweep), not when it stops (30 s) nor at the
# default 10 s
closed_in trickle 6
[ "$ms" -le 9500 ] || { echo "FAIL: the client waited $ms ms"; fails=$((fails + 1)); }
logged "$T/sslow.err" "no TLS handshake within 2 s"

# --- TLS, then no frame: the same deadline covers the first frame ---
server smute --sim "$T/reg" --max-connections 1 --handshake-timeout 1 --connections 2
peer mute 30
peer_ready mute
client_when_free "$T/c3.out" --send hello --timeout 10; check "served after a mute TLS peer's time-out" 0 $?
logged "$T/smute.err" "closing a connection: no first frame in time (--handshake-timeout)"

# --- the certificate-bound endpoint: "G", then nothing: the same deadline covers the HTTP
# request ---
server shttp --sim "$T/reg" --max-connections 1 --handshake-timeout 1 --connections 2
peer http-slow 30
peer_ready http-slow
t0=$(date +%s%N)
client_when_free "$T/c3h.out" --send hello --timeout 10; check "served after a slow HTTP request's time-out" 0 $?
ms=$(ms_since "$t0")
has "$T/c3h.out" "reply: echo: hello"
closed_in http-slow 5
[ "$ms" -le 9000 ] || { echo "FAIL: the client waited $ms ms"; fails=$((fails + 1)); }
logged "$T/shttp.err" "closing a connection: no HTTP request in time (--handshake-timeout)"

# --- idle after the first attestation: --idle-timeout ---
server sidle --sim "$T/reg" --idle-timeout 1 --connections 1
python3 "$T/peer.py" idle "$port" 4 >"$T/idle.out" 2>&1
has "$T/idle.out" "idle: frame 2"
has "$T/idle.out" "idle: after the wait None"
has "$T/sidle.err" "closing a connection: idle too long (--idle-timeout)"
# a byte now and then does not renew it: the idle time-out is for a whole frame
server strickle --sim "$T/reg" --idle-timeout 2 --connections 1
python3 "$T/peer.py" idle-trickle "$port" 12 >"$T/itrickle.out" 2>&1
has "$T/itrickle.out" "idle-trickle: closed after [1-4] s"
has "$T/strickle.err" "closing a connection: idle too long (--idle-timeout)"
# a lease renewed more often than the idle time-out stays up
server slease --sim "$T/reg" --idle-timeout 3 --connections 1
client --reattest-every 1 --rounds 2 >"$T/c4.out" 2>&1; check "re-attestation within --idle-timeout" 0 $?
has "$T/c4.out" "attestation 3: affirming"

# --- a NONCE of the wrong length is answered with an ERROR frame, not a bare close ---
server sshort --sim "$T/reg" --connections 1
python3 "$T/peer.py" nonce-short "$port" >"$T/short.out" 2>&1
has "$T/short.out" "nonce-short: frame 3 refused: ATLS_PROTOCOL_VIOLATION: a nonce is 32 bytes, not 16"
# the same before anything else on a --mutual server: no verification, no wait for evidence
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=peer -days 1 \
    -keyout "$T/peer.key" -out "$T/peer.pem" >/dev/null 2>&1 || { echo "FAIL: openssl req"; exit 1; }
server smshort --mutual --sim "$T/reg" --trust-root "$T/cli/ark.pem" --offline --connections 1
python3 "$T/peer.py" nonce-empty-mutual "$port" "$T/peer.pem" "$T/peer.key" >"$T/mshort.out" 2>&1
has "$T/mshort.out" "nonce-empty-mutual: frame 3 refused: ATLS_PROTOCOL_VIOLATION: a nonce is 32 bytes, not 0"
# a --mutual client that never sends its evidence: closed within --handshake-timeout of the
# server's NONCE, not held until --idle-timeout (the first evidence was under the idle time-out)
server smmute --mutual --sim "$T/reg" --trust-root "$T/cli/ark.pem" --offline --connections 1 \
    --handshake-timeout 1 --idle-timeout 20
python3 "$T/peer.py" mutual-mute "$port" "$T/peer.pem" "$T/peer.key" 8 >"$T/mmute.out" 2>&1
has "$T/mmute.out" "mutual-mute: frame 1"
has "$T/mmute.out" "mutual-mute: the server closed the connection after [0-3]\."
wait_for "$T/smmute.err" "no evidence from the peer: timed out"
# a --mutual server's session ticket can be used: the resumed handshake completes (it was
# aborted with an internal error: no session ID context), and is attested afresh
server smres --mutual --sim "$T/reg" --trust-root "$T/cli/ark.pem" --offline --connections 2 \
    --handshake-timeout 2
sleep 1 | openssl s_client -tls1_3 -connect "127.0.0.1:$port" -cert "$T/peer.pem" -key "$T/peer.key" \
    -sess_out "$T/sess.pem" >"$T/res1.out" 2>&1
sleep 1 | openssl s_client -tls1_3 -connect "127.0.0.1:$port" -cert "$T/peer.pem" -key "$T/peer.key" \
    -sess_in "$T/sess.pem" >"$T/res2.out" 2>&1
has "$T/res2.out" "^Reused, TLSv1.3"
lacks "$T/res2.out" "alert"

# --- --mutual --client-lease: nothing of the client is served between its lease's end (the
# renewal's NONCE) and the renewal's acceptance. A DATA frame sent meanwhile (a client may have
# sent it before it read the NONCE) is held, unanswered, and echoed once the renewal is accepted;
# never when the renewal is refused; a second one is refused (the client knew) ---
. "$(dirname "$0")/lib/py.sh"
$CVM sim snp --out "$T/clidbg" --debug --keep-keys >/dev/null
if py_with OpenSSL cryptography; then
    ML="--mutual --sim $T/reg --trust-root $T/cli/ark.pem --trust-root $T/clidbg/ark.pem --offline \
--client-lease 1 --handshake-timeout 3 --connections 1"
    # lease_data NAME RENEWDIR WHAT: a --client-lease 1 server NAME, then the lease-data peer
    # (output in $T/NAME.p)
    lease_data() {
        server "$1" $ML
        "$PY" "$T/peer.py" lease-data "$port" "$T/peer.pem" "$T/peer.key" "$T/cli" "$2" "$3" \
            >"$T/$1.p" 2>&1
    }
    lease_data slheld "$T/cli" held
    has "$T/slheld.p" "lease-data: the renewal's NONCE, frame 1"
    has "$T/slheld.p" "lease-data: no frame within 0.5 s"
    has "$T/slheld.p" "lease-data: frame 4 echo: held"
    wait_for "$T/slheld.out" "client: attestation 2: affirming (sev-snp)"
    lacks "$T/slheld.err" "closing a connection"
    # the renewal refused (a debug guest): the DATA held is never answered
    lease_data slrefd "$T/clidbg" held
    has "$T/slrefd.p" "lease-data: no frame within 0.5 s"
    has "$T/slrefd.p" "lease-data: frame 3 refused: SNP_DEBUG_ALLOWED"
    lacks "$T/slrefd.p" "echo: held"
    logged "$T/slrefd.err" "closing a connection: the client's attestation 2 was refused"
    lease_data sltwice "$T/cli" twice
    has "$T/sltwice.p" "lease-data: frame 3 refused: ATLS_PROTOCOL_VIOLATION: DATA after the lease ended, before its renewal"
    lacks "$T/sltwice.p" "echo:"
    logged "$T/sltwice.err" "closing a connection: ATLS_PROTOCOL_VIOLATION: DATA after the lease ended, before its renewal"
else
    echo "FAIL: no python3 with pyOpenSSL and cryptography (make deps: python3-openssl, python3-cryptography)"
    fails=$((fails + 1))
fi

# --- a --mutual server given a client bundle that is not JSON: refused naming the reason, in
# its log and in the ERROR (it was a bare "refused") ---
server smbad --mutual --sim "$T/reg" --trust-root "$T/cli/ark.pem" --offline --connections 1
python3 "$T/peer.py" mutual-badbundle "$port" "$T/peer.pem" "$T/peer.key" >"$T/mbad.out" 2>&1
has "$T/mbad.out" "mutual-badbundle: frame 3 refused: PARSE_UNKNOWN_FORMAT"
wait_for "$T/smbad.out" "PARSE_UNKNOWN_FORMAT"

# --- DATA before any attestation: an ERROR frame, never an echo ---
server sdata --sim "$T/reg" --connections 1
python3 "$T/peer.py" data-first "$port" >"$T/dfirst.out" 2>&1
has "$T/dfirst.out" "data-first: frame 3 refused: ATLS_PROTOCOL_VIOLATION: DATA before attestation"
# ... and with --mutual, DATA after the NONCE frames, before the client's evidence: the same
# ERROR (it was a bare "refused"), and the log says so
server smdata --mutual --sim "$T/reg" --trust-root "$T/cli/ark.pem" --offline --connections 1
python3 "$T/peer.py" mutual-data "$port" "$T/peer.pem" "$T/peer.key" >"$T/mdata.out" 2>&1
has "$T/mdata.out" "mutual-data: frame 3 refused: ATLS_PROTOCOL_VIOLATION: DATA before attestation: a client sends a NONCE first (and, with --mutual, its own evidence)"
logged "$T/smdata.err" "closing a connection: ATLS_PROTOCOL_VIOLATION: DATA before attestation: "

# --- collateral that cannot be had: the client is undecided (exit 3, as verify), not refused ---
cp -r "$T/reg" "$T/nocoll"
rm -f "$T/nocoll/vcek.der" "$T/nocoll/vcek.pem" "$T/nocoll/cert_chain.pem" "$T/nocoll/ask.pem" "$T/nocoll/crl.der"
server snocoll --sim "$T/nocoll" --connections 1
CVMATTEST_CACHE="$T/cache-empty" client --json >"$T/nocoll.out" 2>&1; check "collateral that cannot be had: undecided" 3 $?
has "$T/nocoll.out" '"undecided": true'

# --- a NONCE loop is cut off ---
# (5 s: well above the time one evidence takes, even on a loaded machine)
server sflood --sim "$T/reg" --min-reattest-interval 5 --connections 1
python3 "$T/peer.py" flood "$port" >"$T/flood.out" 2>&1
has "$T/flood.out" "flood: frame 2"
has "$T/flood.out" "flood: frame 3 refused: ATLS_PROTOCOL_VIOLATION: too many NONCE frames: at most one every 5 s"
[ "$(grep -c 'flood: frame 2' "$T/flood.out")" = 1 ] || { echo "FAIL: more than one evidence for a NONCE loop"; fails=$((fails + 1)); }
logged "$T/sflood.err" "closing a connection: ATLS_PROTOCOL_VIOLATION: too many NONCE frames: at most one every 5 s (--min-reattest-interval)"
has "$T/sflood.out" "attestation 1 sent"
lacks "$T/sflood.out" "attestation 2 sent"
$CVM atls-server --sim "$T/reg" --min-reattest-interval -1 >/dev/null 2>&1
check "--min-reattest-interval -1 is a usage error" 2 $?
# a client asking again exactly --reattest-every 1 after each result is never too fast for the
# default interval of 1 s, even when the server's thread is stopped after writing its EVIDENCE
# (--misbehave slow-answer: 0.5 s, as a busy machine may): the interval runs from when the
# evidence was made, which the client can only have verified after
server sslow --sim "$T/reg" --misbehave slow-answer --connections 1
client --reattest-every 1 --rounds 2 >"$T/sslow.out" 2>&1
check "a client asking every --reattest-every 1 after a slow answer: kept" 0 $?
has "$T/sslow.out" "attestation 3: affirming (sev-snp)"
lacks "$T/sslow.err" "too many NONCE frames"

# --- frames over their type's limit, refused at the header ---
server sbig --sim "$T/reg" --connections 2
peer nonce-big
peer error-big
logged "$T/sbig.err" "closing a connection: atls: a frame of type 1 announces 1048576 bytes, over its limit of 32"
logged "$T/sbig.err" "closing a connection: atls: a frame of type 3 announces 10240 bytes, over its limit of 4096"

# --- DATA whose echo would be over the frame limit: an ERROR at once, not silence until the
# peer's time-out (the idle time-out is long: the answer must not wait for it) ---
server sdata --sim "$T/reg" --idle-timeout 30 --connections 1
start=$(date +%s)
python3 "$T/peer.py" data-big "$port" >"$T/data-big.out" 2>&1
has "$T/data-big.out" "data-big: 8388602 frame 4 8388608"
has "$T/data-big.out" "data-big: 8388603 frame 3 [0-9]* refused: ATLS_PROTOCOL_VIOLATION: a DATA frame of 8388603 bytes: its echo would be over the frame limit of 8388608 bytes"
[ "$(since "$start")" -le 15 ] || { echo "FAIL: the oversized DATA took $(since "$start") s"; fails=$((fails + 1)); }
logged "$T/sdata.err" "closing a connection: ATLS_PROTOCOL_VIOLATION: a DATA frame of 8388603 bytes"

# --- a peer's ERROR text: capped, no control bytes ---
server serr --sim "$T/reg" --connections 1
python3 "$T/peer.py" error "$port" >/dev/null 2>&1
logged "$T/serr.err" 'the client refuses: \\x1b\[2J\\x1b\]0;owned\\x07AAA'
has "$T/serr.err" "AAA ... (3000 bytes)"
lacks "$T/serr.err" "$ESC"
[ "$(wc -c <"$T/serr.err")" -lt 400 ] || { cat "$T/serr.err"; echo "FAIL: $(wc -c <"$T/serr.err") bytes printed"; fails=$((fails + 1)); }

# --- the client against hostile servers ---
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=peer \
    -keyout "$T/k.pem" -out "$T/c.pem" -days 1 >/dev/null 2>&1; then
    # pyserver MODE: starts the python server; sets $port
    pyserver() {
        : >"$T/$1.out"
        python3 "$T/peer.py" "$1" 0 "$T/c.pem" "$T/k.pem" >"$T/$1.out" 2>&1 &
        pids="$pids $!"
        listening_port "$T/$1.out" 100 && return 0
        echo "FAIL: python server $1 did not start"; exit 1
    }
    pyserver server-mute
    t0=$(date +%s%N)
    client --timeout 2 >"$T/c5.out" 2>&1; check "a server that never answers: exit 3" 3 $?
    ms=$(ms_since "$t0")
    has "$T/c5.out" "no evidence from the peer: timed out"
    # about 2 s, not until the server goes (20 s)
    [ "$ms" -le 10000 ] || { echo "FAIL: the client waited $ms ms"; fails=$((fails + 1)); }

    # evidence trickled a byte every 0.5 s: --timeout is for the whole answer
    pyserver server-trickle
    t0=$(date +%s%N)
    client --timeout 2 >"$T/c5t.out" 2>&1; check "a server trickling its answer: exit 3" 3 $?
    ms=$(ms_since "$t0")
    has "$T/c5t.out" "timed out"
    # about 2 s, not the whole frame's (over 100 s at a byte every 0.5 s)
    [ "$ms" -le 10000 ] || { echo "FAIL: the client waited $ms ms"; fails=$((fails + 1)); }

    pyserver server-mute
    client --cert-bound --timeout 2 >"$T/c5b.out" 2>&1; check "--cert-bound: a server that never answers: exit 3" 3 $?
    has "$T/c5b.out" "no complete response: timed out"

    # --cert-bound: the response has a --timeout of its own, not what the connect and the
    # handshake left (a handshake after 2 s, the response 1.5 s after the request: 3.5 s in all,
    # within --timeout 3 of each)
    server realcb --sim "$T/reg" --cert "$T/c.pem" --key "$T/k.pem" --connections 1
    rport=$port
    : >"$T/server-slow-cb.out"
    python3 "$T/peer.py" server-slow-cb 0 "$T/c.pem" "$T/k.pem" "$rport" >"$T/server-slow-cb.out" 2>&1 &
    pids="$pids $!"
    listening_port "$T/server-slow-cb.out" 100 || { echo "FAIL: python server server-slow-cb did not start"; exit 1; }
    client --cert-bound --timeout 3 >"$T/c5s.out" 2>&1
    check "--cert-bound: a slow handshake leaves the response its own --timeout" 0 $?
    has "$T/c5s.out" "(certificate-bound): attestation 1: affirming"
    lacks "$T/c5s.out" "timed out"

    # a certificate-bound response larger than any evidence: refused (the server's answer is
    # bad), not a usage error
    pyserver server-huge
    client --cert-bound --timeout 20 >"$T/c5h.out" 2>&1; check "--cert-bound: a response too large: exit 1" 1 $?
    has "$T/c5h.out" "response too large (over 8388608 bytes)"

    pyserver server-error
    client >"$T/c6.out" 2>&1; check "a server's ERROR: refused" 1 $?
    has "$T/c6.out" 'the peer refuses: \\x1b\[2J\\x1b\]0;owned\\x07AAA'
    has "$T/c6.out" "AAA ... (3000 bytes)"
    lacks "$T/c6.out" "$ESC"
    [ "$(wc -c <"$T/c6.out")" -lt 400 ] || { cat "$T/c6.out"; echo "FAIL: $(wc -c <"$T/c6.out") bytes printed"; fails=$((fails + 1)); }

    pyserver server-nonce-twice
    client --mutual --sim "$T/cli" >"$T/c7.out" 2>&1; check "a server asking twice for evidence: refused" 1 $?
    has "$T/c7.out" "the peer asked for evidence again"
    logged "$T/server-nonce-twice.out" "server: second answer: frame 3 refused"
    has "$T/server-nonce-twice.out" "server: first answer: frame 2"
    has "$T/server-nonce-twice.out" "server: second answer: frame 3 refused: ATLS_PROTOCOL_VIOLATION: too many NONCE frames: this end has attested already"

    # evidence that is no evidence at all, and a frame where the evidence is due: refused
    # (exit 1), naming the reason on stderr and in the ERROR sent (it was a bare "refused")
    pyserver server-empty
    client >"$T/c9.out" 2>&1; check "an empty EVIDENCE: refused" 1 $?
    has "$T/c9.out" "PARSE_UNKNOWN_FORMAT"
    has "$T/c9.out" "the evidence is empty"
    logged "$T/server-empty.out" "server-empty: frame 3 refused: PARSE_UNKNOWN_FORMAT"
    pyserver server-twoev
    client >"$T/c10.out" 2>&1; check "a bundle with two evidence parts: refused" 1 $?
    has "$T/c10.out" "PARSE_UNKNOWN_FORMAT"
    logged "$T/server-twoev.out" "server-twoev: frame 3 refused: PARSE_UNKNOWN_FORMAT"
    pyserver server-data
    client >"$T/c11.out" 2>&1; check "DATA where the evidence is due: refused" 1 $?
    has "$T/c11.out" "ATLS_PROTOCOL_VIOLATION: unexpected frame 4 (DATA) before the evidence"
    logged "$T/server-data.out" "server-data: frame 3 refused: ATLS_PROTOCOL_VIOLATION"
    pyserver server-chunked
    client --cert-bound --timeout 20 >"$T/c12.out" 2>&1; check "--cert-bound: a chunked response: exit 1" 1 $?
    has "$T/c12.out" "error PARSE_UNKNOWN_FORMAT: "

    # the client's close: a frame of the server it never reads (DATA after evidence that
    # fails) does not turn its close into a reset that drops its refusal or its close_notify
    pyserver server-extra
    client >"$T/c8.out" 2>&1; check "a server's evidence that fails, then a frame never read: refused" 1 $?
    logged "$T/server-extra.out" "server-extra: end:"
    has "$T/server-extra.out" "server-extra: frame 3 refused: "
    has "$T/server-extra.out" "server-extra: end: close_notify"
else
    echo "FAIL: openssl cannot make a test certificate"; fails=$((fails + 1))
fi

# --- usage ---
$CVM atls-server --sim "$T/reg" --handshake-timeout 0 >/dev/null 2>&1
check "--handshake-timeout 0 is a usage error" 2 $?
$CVM atls-client --connect 127.0.0.1:1 --timeout x >/dev/null 2>&1
check "--timeout x is a usage error" 2 $?
# --reattest-every is seconds, bounded as --timeout is (it said "not a valid count" and took up
# to 1000000)
for s in 0 86401; do
    $CVM atls-client --connect 127.0.0.1:1 --reattest-every $s >"$T/re.out" 2>&1
    check "--reattest-every $s is a usage error" 2 $?
    has "$T/re.out" "'$s' is not a valid number of seconds (1 to 86400)"
done
# --rounds 0 printed a lease on a connection closed at once, never renewed, exit 0
$CVM atls-client --connect 127.0.0.1:1 --reattest-every 30 --rounds 0 >"$T/r0.out" 2>&1
check "--rounds 0 is a usage error" 2 $?
has "$T/r0.out" "--rounds 0: --rounds counts re-attestations, 1 to 1000000"

echo "$fails failure(s)"
[ "$fails" = 0 ]
