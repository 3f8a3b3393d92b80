#!/bin/sh
# `serve --redis rediss://...` (docs/operations.md, "Redis over TLS"): Redis's TLS port,
# its certificate checked against --redis-ca and the URL's host, a client certificate
# (--redis-cert/--redis-key) when Redis asks for one (tls-auth-clients yes, its default).
# Spent nonces go through it as over TCP: a nonce spent at one instance is a replay at the
# other. A certificate that does not verify, a host it is not for, a missing client
# certificate and a port that speaks no TLS each stop an instance at start (exit 2), saying
# why; TLS files without rediss:// are a usage error. A peer that trickles bytes holds no
# worker past the 2 s deadline of an operation; one that answers with a reply larger than any
# the service reads (too many bytes, or an array of too many elements) neither holds a worker
# nor fills its memory.
. "$(dirname "$0")/lib/serve.sh"
serve_setup curl jq python3 redis-server redis-cli openssl

$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
openssl rand -out "$T/nonce.key" 32
jq -n --arg e "$(base64 -w0 "$T/s/report.bin")" '{evidence: $e}' >"$T/body.json"

# --- a CA, Redis's certificate (localhost and 127.0.0.1), a client certificate; another CA ---
# cert NAME CA SUBJECT [SAN]: a P-256 key and a certificate for it signed by CA's key
cert() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
        -subj "/CN=$3" -out "$T/$1.csr" 2>/dev/null &&
        { [ -z "${4:-}" ] || printf 'subjectAltName=%s\n' "$4" >"$T/$1.ext"; } &&
        openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" -CAcreateserial \
            -days 2 ${4:+-extfile "$T/$1.ext"} -out "$T/$1.pem" 2>/dev/null
}
for ca in ca other; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$ca.key" \
        -subj "/CN=test $ca" -days 2 -out "$T/$ca.pem" 2>/dev/null || { echo "FAIL CA"; exit 1; }
done
cert redis ca "redis" "DNS:localhost,IP:127.0.0.1" && cert client ca "cvmattest" &&
    cert stranger other "stranger" || { echo "FAIL certificates"; exit 1; }
chmod 600 "$T"/*.key

. "${CVMATTEST_SRC:?}/tests/e2e/lib/redis.sh"
# Redis on a plain port (RP) and a TLS port (TP), client certificates required (both picked
# by redis_start: other ports are tried when one was taken before redis-server bound it)
redis_start --free-tls-port --tls-cert-file "$T/redis.pem" --tls-key-file "$T/redis.key" \
    --tls-ca-cert-file "$T/ca.pem" --tls-auth-clients yes
redis-cli -p "$TP" --tls --cacert "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key" ping 2>/dev/null |
    grep -q PONG || { echo "SKIP: redis-server without TLS"; cat "$T/redis.log"; exit 77; }

COMMON="--trust-root $T/s/ark.pem --collateral $T/s --offline --nonce-key $T/nonce.key"
CLIENT="--redis-ca $T/ca.pem --redis-cert $T/client.pem --redis-key $T/client.key"

# 1. two instances over TLS, by IP address and by name (the latter from a configuration
#    file, its paths relative to it): a nonce spent at one is a replay at the other
start A $COMMON --redis "rediss://127.0.0.1:$TP/2" $CLIENT
A=http://127.0.0.1:$PORT
mkdir "$T/conf"
cp "$T/ca.pem" "$T/client.pem" "$T/client.key" "$T/conf/"
jq -n --arg r "rediss://localhost:$TP/2" \
    '{redis: $r, redis_ca: "ca.pem", redis_cert: "client.pem", redis_key: "client.key"}' \
    >"$T/conf/serve.json"
start B $COMMON --config "$T/conf/serve.json"
B=http://127.0.0.1:$PORT
replay_across rediss://localhost rediss://127.0.0.1
# many at once: the pool's TLS connections are kept and reused
i=0
: >"$T/codes"
posts=
while [ $i -lt 20 ]; do
    n=$(curl -sf "$A/v1/nonce" | jq -r .nonce)
    jq --arg n "$n" '. + {nonce: $n}' "$T/body.json" >"$T/b$i.json"
    (echo "$(post "$A/v1/verify" "$T/b$i.json" "$T/x$i.json")" >>"$T/codes") &
    posts="$posts $!"
    i=$((i + 1))
done
for p in $posts; do wait "$p"; done
eq "20 verifications at once over TLS: all 200" 20 "$(grep -c 200 "$T/codes")"
eq "healthz at A" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$A/healthz")"
eq "clients Redis sees over TLS: no more than A's and B's workers" 1 \
    "$([ "$(redis-cli -p "$RP" client list | grep -c .)" -le 10 ] && echo 1)"

# 2. refused at start, each saying why
refused "another CA" "does not verify" $COMMON --redis "rediss://127.0.0.1:$TP" \
    --redis-ca "$T/other.pem" --redis-cert "$T/client.pem" --redis-key "$T/client.key"
refused "the system's CA store" "does not verify" $COMMON --redis "rediss://127.0.0.1:$TP" \
    --redis-cert "$T/client.pem" --redis-key "$T/client.key"
cert othername ca "redis" "DNS:other.example,IP:10.9.9.9"
redis-cli -p "$RP" config set tls-cert-file "$T/othername.pem" tls-key-file "$T/othername.key" |
    grep -q OK || fail "CONFIG SET tls-cert-file"
refused "a host name the certificate is not for" "does not verify: hostname mismatch" $COMMON \
    --redis "rediss://localhost:$TP" $CLIENT
refused "an IP address the certificate is not for" "does not verify: IP address mismatch" \
    $COMMON --redis "rediss://127.0.0.1:$TP" $CLIENT
redis-cli -p "$RP" config set tls-cert-file "$T/redis.pem" tls-key-file "$T/redis.key" |
    grep -q OK || fail "CONFIG SET tls-cert-file back"
refused "no client certificate" "TLS with 127.0.0.1:$TP failed" $COMMON --redis "rediss://127.0.0.1:$TP" \
    --redis-ca "$T/ca.pem"
refused "a client certificate of another CA" "TLS with 127.0.0.1:$TP failed" $COMMON \
    --redis "rediss://127.0.0.1:$TP" --redis-ca "$T/ca.pem" --redis-cert "$T/stranger.pem" \
    --redis-key "$T/stranger.key"
# fake PORTFILE MODE: a server on a free loopback port that answers every connection with a
# Redis error in plain text (plain: a Redis without TLS there, once it reads a line), with
# one byte every 1.5 s, forever (trickle), or with a reply announced at 1 GB, then its bytes
# (flood); or that answers PING and CONFIG GET as a Redis that evicts nothing would, and
# anything else (the spend's SET) with an array of 10^8 integers (array: 4 bytes each, sent as
# fast as they go for 3 s), or of 4096 strings of 64 KiB each (strings: 256 MiB); its port
# into PORTFILE
fake() {
    python3 - "$1" "$2" <<'PY' &
import socket, sys, threading, time
port_file, mode = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(port_file + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)
def serve(c):
    try:
        if mode == "plain":
            c.recv(4096)
            c.sendall(b"-ERR unknown command\r\n")
            time.sleep(0.5)
        elif mode in ("array", "strings"):
            while True:
                cmd = c.recv(65536)
                if not cmd:
                    break
                if b"PING" in cmd:
                    c.sendall(b"+PONG\r\n")
                elif b"CONFIG" in cmd:
                    kv = (b"maxmemory-policy", b"noeviction") if b"maxmemory-policy" in cmd \
                        else (b"maxmemory", b"0")
                    c.sendall(b"*2\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in kv))
                elif mode == "array":
                    c.sendall(b"*100000000\r\n")
                    end = time.time() + 3
                    while time.time() < end:
                        c.sendall(b":1\r\n" * 16384)
                    break
                else:
                    c.sendall(b"*4096\r\n")
                    for _ in range(4096):
                        c.sendall(b"$65536\r\n" + b"a" * 65536 + b"\r\n")
                    break
        elif mode == "flood":
            # a reply announced at 1 GB, then bytes as fast as they go, for 3 s
            c.recv(4096)
            c.sendall(b"$1000000000\r\n")
            end = time.time() + 3
            while time.time() < end:
                c.sendall(b"a" * 65536)
        else:
            while True:
                c.sendall(b"\x16")
                time.sleep(1.5)
    except OSError:
        pass
    c.close()
deadline = time.time() + 120
s.settimeout(1)
while time.time() < deadline:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
    PIDS="$PIDS $!"
    _i=0
    while [ ! -s "$1" ] && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ -s "$1" ] || { echo "FAIL the fake Redis ($2) did not start"; exit 1; }
}
fake "$T/plain.port" plain
refused "a port that speaks no TLS" "TLS with 127.0.0.1:$(cat "$T/plain.port") failed" $COMMON \
    --redis "rediss://127.0.0.1:$(cat "$T/plain.port")" $CLIENT
# a peer that trickles bytes: every operation has one deadline (2 s), not one a read, so the
# instance starts at once, warning that Redis does not answer, and a nonce is refused (503)
# within it, never a worker held
# spend_refused NAME URL MS: a nonce of the instance at URL is refused, 503
# NONCE_STORE_UNAVAILABLE, within MS milliseconds
spend_refused() {
    _n=$(curl -sf "$2/v1/nonce" | jq -r .nonce)
    jq --arg n "$_n" '. + {nonce: $n}' "$T/body.json" >"$T/bs.json"
    _t0=$(date +%s%N)
    eq "$1: a nonce is refused" "503 NONCE_STORE_UNAVAILABLE" \
        "$(post "$2/v1/verify" "$T/bs.json" "$T/os.json") $(jq -r .error.code "$T/os.json")"
    _ms=$((($(date +%s%N) - _t0) / 1000000))
    [ "$_ms" -lt "$3" ] && ok "$1: answered in $_ms ms (< $3 ms)" || fail "$1: answered in $_ms ms"
}
fake "$T/trickle.port" trickle
start S $COMMON --redis "rediss://127.0.0.1:$(cat "$T/trickle.port")" $CLIENT
grep -q "does not answer yet" "$T/S.log" && ok "a trickling peer: serve starts, warning" ||
    fail "a trickling peer: $(cat "$T/S.log")"
# (two operations at most: the eviction check, then the spend; 2 s each, with room for a
# sanitizer build on a busy machine)
spend_refused "a trickling peer" "http://127.0.0.1:$PORT" 9000
stop S
# a peer that sends a reply longer than any a verifier takes: the connection is broken once
# it holds more than the largest shared value (4 MiB and a little), not read until the
# deadline into the worker's memory
fake "$T/flood.port" flood
start F $COMMON --redis "redis://127.0.0.1:$(cat "$T/flood.port")"
spend_refused "a flooding peer" "http://127.0.0.1:$PORT" 1900 # (before the 2 s deadline)
stop F
# a peer that answers the spend with an array of more elements than any reply the service
# reads (two at most), then sends them as fast as they go: the connection is broken at the
# array's header, before hiredis allocates a pointer for each element (800 MB for 10^8) and a
# reply for each that comes (about 70 bytes for an integer of 4, each string whole), however
# little of the input it keeps unparsed; the worker is neither held past the deadline nor its
# memory filled (the instance holds no more than 200 MB at its highest, VmHWM)
for mode in array strings; do
    fake "$T/$mode.port" "$mode"
    start F $COMMON --redis "redis://127.0.0.1:$(cat "$T/$mode.port")"
    spend_refused "a long array ($mode)" "http://127.0.0.1:$PORT" 3000
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$(cat "$T/F.pid")/status")
    [ "${hwm:-999999999}" -lt 204800 ] && ok "a long array ($mode): the instance held $hwm kB at most" ||
        fail "a long array ($mode): the instance held ${hwm:-?} kB at most"
    stop F
done
refused "TLS files with a plain URL" "need --redis rediss://" $COMMON --redis "redis://127.0.0.1:$RP" $CLIENT
refused "a certificate without its key" "--redis-cert and --redis-key go together" $COMMON \
    --redis "rediss://127.0.0.1:$TP" --redis-ca "$T/ca.pem" --redis-cert "$T/client.pem"
refused "a key that is not the certificate's" "not an unencrypted PEM private key that matches" \
    $COMMON --redis "rediss://127.0.0.1:$TP" --redis-ca "$T/ca.pem" \
    --redis-cert "$T/client.pem" --redis-key "$T/stranger.key"
refused "a CA file that is not PEM" "--redis-ca '$T/body.json': no PEM certificate in it" \
    $COMMON --redis "rediss://127.0.0.1:$TP" --redis-ca "$T/body.json"
# an encrypted key: refused, never a passphrase prompt that waits (cvma_pem_private_key)
openssl pkey -in "$T/client.key" -aes256 -passout pass:x -out "$T/enc.key" 2>/dev/null &&
    chmod 600 "$T/enc.key"
refused "an encrypted key" "not an unencrypted PEM private key" $COMMON \
    --redis "rediss://127.0.0.1:$TP" --redis-ca "$T/ca.pem" --redis-cert "$T/client.pem" \
    --redis-key "$T/enc.key"
mkfifo "$T/fifo.key"
refused "a key that is a FIFO" "not a regular file" $COMMON --redis "rediss://127.0.0.1:$TP" \
    --redis-ca "$T/ca.pem" --redis-cert "$T/client.pem" --redis-key "$T/fifo.key"

[ $fails = 0 ] && echo "serve_redis_tls: all passed" || echo "serve_redis_tls: $fails failed"
[ $fails = 0 ]
