#!/bin/sh
# `serve --redis URL`: what the URL names, against a real Redis (docs/operations.md, "Redis").
# A database Redis refuses (/16 when Redis has `databases 16`) stops the instance at start
# (exit 2) with Redis's own words, never "does not answer yet" and 503 for every nonce after;
# /15 works. An IPv6 address as the host is in brackets (RFC 3986 IP-literal): redis://[::1]:PORT
# reaches a Redis that listens on ::1 only, and over TLS the certificate is checked for the
# address without the brackets (IP:::1 verifies, a certificate for 127.0.0.1 alone does not).
# The IPv6 part is skipped, saying so, on a machine without IPv6 loopback.
. "$(dirname "$0")/lib/serve.sh"
serve_setup curl jq python3 redis-server redis-cli openssl

$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
openssl rand -out "$T/nonce.key" 32
chmod 600 "$T/nonce.key"
jq -n --arg e "$(base64 -w0 "$T/s/report.bin")" '{evidence: $e}' >"$T/body.json"
COMMON="--trust-root $T/s/ark.pem --collateral $T/s --offline --nonce-key $T/nonce.key"
. "${CVMATTEST_SRC:?}/tests/e2e/lib/redis.sh"

# spent_in NAME URL DB REDIS_CLI_OPTION...: a nonce of instance NAME ($URL) verified there
# (200) is then in database DB of the Redis redis-cli reaches with the OPTIONs
spent_in() {
    _name=$1
    _url=$2
    _db=$3
    shift 3
    _n=$(curl -sf "$_url/v1/nonce" | jq -r .nonce)
    jq --arg n "$_n" '. + {nonce: $n}' "$T/body.json" >"$T/$_name.body"
    eq "$_name: a nonce verified" 200 "$(post "$_url/v1/verify" "$T/$_name.body" "$T/$_name.out")"
    eq "$_name: the spent nonce is in database $_db" 1 \
        "$(redis-cli "$@" -n "$_db" exists "cvmattest:nonce:$_n")"
}

# 1. a database Redis refuses: exit 2 at start with Redis's words; the last one it has works
redis_start --databases 16
refused "database 16 of 16" "refused the URL's database (SELECT 16: ERR DB index is out of range)" \
    $COMMON --redis "redis://127.0.0.1:$RP/16"
refused "database 1000 of 16" "ERR DB index is out of range" $COMMON --redis "redis://127.0.0.1:$RP/1000"
start A $COMMON --redis "redis://127.0.0.1:$RP/15"
spent_in "database 15 of 16" "http://127.0.0.1:$PORT" 15 -p "$RP"
eq "database 15: healthz" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")"
stop A

# 1b. a passing error (its one client slot held: "ERR max number of clients reached", sent
# on accepting the connection, so it answers AUTH or SELECT, whichever comes first) is no
# refusal: the instance starts, Redis "does not answer yet", and it uses Redis once it does;
# without a password (the error at SELECT) and with one (at AUTH)
printf 's3cret-for-the-test\n' >"$T/redis.pw"
chmod 600 "$T/redis.pw"
for how in plain password; do
    if [ $how = password ]; then
        redis_start --requirepass s3cret-for-the-test
        AUTHOPT="--redis-password-file $T/redis.pw"
        CLI="-p $RP --no-auth-warning -a s3cret-for-the-test"
    else
        AUTHOPT=""
        CLI="-p $RP"
    fi
    # shellcheck disable=SC2086
    redis-cli $CLI config set maxclients 1 >/dev/null
    rm -f "$T/holder.ready" "$T/holder.release"
    # the holder: Redis's one client slot (once redis-cli's connection is gone from it: a
    # refusal is tried again), kept until the script makes holder.release (60 s at most)
    python3 - "$RP" "$T/holder.ready" "$T/holder.release" <<'PY' &
import os, socket, sys, time
end = time.monotonic() + 60
while time.monotonic() < end:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"PING\r\n")
    got = s.recv(64)
    # PONG, or NOAUTH with a password: either way the slot is this connection's
    if got.startswith(b"+PONG") or got.startswith(b"-NOAUTH"):
        break
    s.close()
    time.sleep(0.1)
else:
    sys.exit(1)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.05)
PY
    HOLDER=$!
    _i=0
    while [ ! -e "$T/holder.ready" ] && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ -e "$T/holder.ready" ] || { echo "FAIL $how: the holder did not get Redis's client slot"; exit 1; }
    # shellcheck disable=SC2086
    start C $COMMON --redis "redis://127.0.0.1:$RP/1" $AUTHOPT
    grep -q "does not answer yet" "$T/C.log" && ! grep -q "refused the" "$T/C.log" &&
        ok "$how: database 1 while Redis has no client slot: started, 'does not answer yet'" ||
        fail "$how: database 1 while Redis has no client slot: $(cat "$T/C.log")"
    : >"$T/holder.release"
    wait $HOLDER
    # shellcheck disable=SC2086
    redis-cli $CLI config set maxclients 10000 >/dev/null
    # shellcheck disable=SC2086
    spent_in "$how: database 1 once Redis answers" "http://127.0.0.1:$PORT" 1 $CLI
    stop C
done

# 1c. a Redis that never serves SELECT (renamed away): a refusal, exit 2 with its words
redis_start --rename-command SELECT '""'
refused "SELECT renamed away" "refused the URL's database (SELECT 1: ERR unknown command" \
    $COMMON --redis "redis://127.0.0.1:$RP/1"

# 2. IPv6: a Redis on ::1 only (plain and TLS), reached as [::1]
if ! python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    echo "SKIP (part): no IPv6 loopback (::1) on this machine: the IPv6 host is not tested here"
else
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
        -subj "/CN=test ca" -days 2 -out "$T/ca.pem" 2>/dev/null || { echo "FAIL CA"; exit 1; }
    for c in v6:IP:::1 v4:IP:127.0.0.1; do
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/${c%%:*}.key" \
            -subj "/CN=::1" -out "$T/${c%%:*}.csr" 2>/dev/null &&
            printf 'subjectAltName=%s\n' "${c#*:}" >"$T/${c%%:*}.ext" &&
            openssl x509 -req -in "$T/${c%%:*}.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
                -days 2 -extfile "$T/${c%%:*}.ext" -out "$T/${c%%:*}.pem" 2>/dev/null ||
            { echo "FAIL certificate ${c%%:*}"; exit 1; }
    done
    chmod 600 "$T"/*.key
    # v6start NAME CERT: a redis-server on ::1 only, plain port $NAME_P, TLS port $NAME_TP
    # (no client certificate asked), its certificate CERT (lib/redis.sh's redis_start: other
    # ports are tried when one was taken before redis-server bound it)
    v6start() {
        redis_start --host ::1 --log "$T/redis-$1.log" --free-tls-port --tls-cert-file "$T/$2.pem" \
            --tls-key-file "$T/$2.key" --tls-ca-cert-file "$T/ca.pem" --tls-auth-clients no ||
            { echo "FAIL redis-server on [::1] did not start"; exit 1; }
        eval "${1}_P=$RP ${1}_TP=$TP"
    }
    v6start R6 v6
    v6start R4 v4
    start B $COMMON --redis "redis://[::1]:$R6_P/3"
    grep -q "spent nonces in redis" "$T/B.log" && ! grep -q "does not answer" "$T/B.log" &&
        ok "redis://[::1]:PORT/3: started, Redis answers" || fail "redis://[::1]: $(cat "$T/B.log")"
    spent_in "IPv6 [::1] as host, database 3" "http://127.0.0.1:$PORT" 3 -h ::1 -p "$R6_P"
    stop B
    if redis-cli -h ::1 -p "$R6_TP" --tls --cacert "$T/ca.pem" ping 2>/dev/null | grep -q PONG; then
        start C $COMMON --redis "rediss://[::1]:$R6_TP/4" --redis-ca "$T/ca.pem"
        spent_in "TLS to [::1], a certificate for IP ::1" "http://127.0.0.1:$PORT" 4 -h ::1 -p "$R6_P"
        stop C
        refused "TLS to [::1], a certificate for IP 127.0.0.1 only" "does not verify" \
            $COMMON --redis "rediss://[::1]:$R4_TP" --redis-ca "$T/ca.pem"
    else
        echo "SKIP (part): redis-server without TLS: rediss://[::1] is not tested here"
    fi
    refused "an unclosed bracket" "a host in brackets is an IPv6 address" $COMMON --redis "redis://[::1"
    refused "a name in brackets" "in brackets is no IPv6 address" $COMMON --redis "redis://[localhost]:$R6_P"
fi

[ $fails = 0 ] && echo "serve_redis_url: all passed" || echo "serve_redis_url: $fails failed"
[ $fails = 0 ]
