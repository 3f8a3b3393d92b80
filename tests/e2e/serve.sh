#!/bin/sh
# The verification service (cvmattest serve, docs/service.md) on 127.0.0.1 with OS-picked
# ports: every endpoint, every error with its code, HTTP status and request ID, nonces bound
# to the evidence and single-use (also across two instances sharing one redis-server started
# here), concurrent clients, client time-outs, the configuration file, TLS, and SIGTERM
# draining a request in flight.
. "$(dirname "$0")/lib/serve.sh"
serve_setup curl jq python3 openssl

# --- fixtures: a simulated SNP CVM (keys kept to re-sign its report), the result key, the
# nonce key shared by the instances ---
$CVM sim snp --out "$T/s" --keep-keys >/dev/null || { echo "FAIL sim snp"; exit 1; }
$CVM registry keygen --out "$T/v" >/dev/null || { echo "FAIL keygen"; exit 1; }
openssl rand -out "$T/nonce.key" 32
printf '{"version": 1, "name": "tdx-only", "allowed_tees": ["tdx"]}\n' >"$T/tdx-only.json"
printf '{"version": 1, "name": "any"}\n' >"$T/any.json" # constrains nothing
printf '{"version": 1, "name": "debug-ok", "snp": {"allow_debug": true}}\n' >"$T/debug-ok.json"
# snp_resign.py REPORT KEY HEX OUT: the SEV-SNP report with REPORT_DATA = HEX, signed again.
RESIGN=$(cd "$(dirname "$0")/lib" && pwd)/snp_resign.py
b64url_hex() { # base64url (no padding) -> hex
    printf '%s' "$1" | tr '_-' '/+' | awk '{ m = length($0) % 4; if (m == 2) $0 = $0 "=="; else if (m == 3) $0 = $0 "="; print }' |
        base64 -d | od -An -tx1 | tr -d ' \n'
}
# body FILE EVIDENCE_FILE [NONCE [POLICY]]: a /v1/verify request body
body() {
    jq -n --arg e "$(base64 -w0 "$2")" --arg n "${3:-}" --arg p "${4:-}" \
        '{evidence: $e} + (if $n != "" then {nonce: $n} else {} end) + (if $p != "" then {policy: $p} else {} end)' >"$1"
}
COMMON="--trust-root $T/s/ark.pem --collateral $T/s --offline --sign-result $T/v.key"
# the shared nonce key: only with --redis (a fixed key without a shared spent-nonce store is refused)
NKEY="--nonce-key $T/nonce.key"
# nonce URL [SIZE]: a fresh nonce
nonce() { curl -sf "$1/v1/nonce${2:+?size=$2}" | jq -r .nonce; }
# signed_for URL OUT: evidence whose REPORT_DATA is a fresh nonce from URL; prints the nonce
signed_for() {
    n=$(nonce "$1" "${3:-}")
    python3 "$RESIGN" "$T/s/report.bin" "$T/s/vcek-key.pem" "$(b64url_hex "$n")" "$2" || return 1
    printf '%s' "$n"
}
# err_is NAME STATUS CODE GOT_STATUS FILE LOG: an error answer and its request ID in the log
err_is() {
    code=$(jq -r .error.code "$5" 2>/dev/null)
    rid=$(jq -r .error.request_id "$5" 2>/dev/null)
    if [ "$4" = "$2" ] && [ "$code" = "$3" ] && [ -n "$rid" ] && grep -q "request_id=$rid .*$3" "$6"; then
        ok "$1: $2 $3 (request_id $rid logged)"
    else
        fail "$1: got $4 $code (want $2 $3): $(head -c 300 "$5")"
    fi
}

start A $COMMON --policy "$T/any.json" --named-policy tdx-only="$T/tdx-only.json" \
    --named-policy debug-ok="$T/debug-ok.json" --max-body 65536
A=http://127.0.0.1:$PORT
ALOG=$T/A.log
# --listen 127.0.0.1:0: the URL logged carries the port bound, the one in --port-file
grep -q "^cvmattest serve: listening on http://127.0.0.1:$PORT (port $PORT), " "$ALOG" &&
    ok "--listen HOST:0: the URL logged has the port bound" || fail "listening line: $(grep listening "$ALOG")"
# a port another process holds: the refusal names that port, never the 0 of a picked one
. "$(dirname "$0")/lib/ports.sh"
hold_port "$T/held"
timeout 10 $CVM serve $COMMON --listen "127.0.0.1:$HELD" 2>"$T/bind.err"
eq "serve on a port held elsewhere exits 2" 2 $?
release_port
grep -q "port $HELD: Address already in use" "$T/bind.err" && ! grep -q "port 0" "$T/bind.err" &&
    grep -q "cannot listen on 127.0.0.1:$HELD" "$T/bind.err" &&
    ok "a port held elsewhere: the messages name it" || fail "bind failure: $(cat "$T/bind.err")"

# --- $CVM serve usage ---
$CVM serve --help >/dev/null; eq "serve --help exits 0" 0 $?
$CVM serve --bogus >/dev/null 2>&1; eq "serve --bogus exits 2" 2 $?
$CVM serve --listen nowhere 2>/dev/null; eq "serve --listen nowhere exits 2" 2 $?
# A fixed nonce key without a shared spent-nonce store: a nonce could be redeemed again after a
# restart or at another instance, so it is refused (the time-out only stops a server that ran).
timeout 10 $CVM serve $COMMON --listen 127.0.0.1:0 $NKEY 2>"$T/nk.err"
eq "--nonce-key without --redis exits 2" 2 $?
grep -q 'redeemed again after a restart or at another instance; use --redis' "$T/nk.err" &&
    ok "--nonce-key without --redis: the message says why" || fail "--nonce-key message: $(cat "$T/nk.err")"
mkdir -p "$T/nkconf"
printf '{"listen": "127.0.0.1:0", "nonce_key": "../nonce.key"}\n' >"$T/nkconf/serve.json"
timeout 10 $CVM serve --config "$T/nkconf/serve.json" 2>"$T/nk2.err"
eq "config nonce_key without redis exits 2" 2 $?
grep -q 'needs --redis' "$T/nk2.err" && ok "config nonce_key without redis: said why" || fail "config nonce_key: $(cat "$T/nk2.err")"
# A password in the URL (it would be on the command line) and TLS to Redis are refused (exit 2)
# saying so, the password not echoed (the password file: serve_redis_auth.sh)
$CVM serve --redis 'redis://:s3cret@127.0.0.1:1' --listen 127.0.0.1:0 2>"$T/ra.err"
eq "--redis with a password exits 2" 2 $?
grep -q 'a password in the URL is refused' "$T/ra.err" && ! grep -q s3cret "$T/ra.err" &&
    ok "--redis with a password: refused, the password not echoed" || fail "--redis password: $(cat "$T/ra.err")"
# TLS files are for rediss:// (tests/e2e/serve_redis_tls.sh has TLS itself)
timeout 10 $CVM serve --redis 'redis://127.0.0.1:1' --redis-ca "$T/none.pem" --listen 127.0.0.1:0 2>"$T/rs.err"
eq "--redis-ca with redis:// exits 2" 2 $?
grep -q 'need --redis rediss://' "$T/rs.err" && ok "--redis-ca with redis://: said why" || fail "--redis-ca with redis://: $(cat "$T/rs.err")"
# More policies than the service holds: a usage error naming the limit, never a crash (the
# limit of names kept, 128, is reached by --config below: one name is given once only)
set --
i=0
while [ $i -lt 17 ]; do set -- "$@" --named-policy "a$i=$T/tdx-only.json"; i=$((i + 1)); done
timeout 10 $CVM serve $COMMON --listen 127.0.0.1:0 "$@" 2>"$T/np.err"
eq "--named-policy 17 names exits 2" 2 $?
grep -q 'too many policies (max 16)' "$T/np.err" && ok "--named-policy 17 names: the limit is named" || fail "--named-policy x17: $(cat "$T/np.err")"
set --
# A policy name given twice (on the command line, in --config files, or in both) is refused,
# never the one given first silently replaced (a strict policy by a loose one under its name)
timeout 10 $CVM serve $COMMON --listen 127.0.0.1:0 --named-policy "p=$T/tdx-only.json" \
    --named-policy "p=$T/any.json" 2>"$T/np2.err"
eq "--named-policy p twice exits 2" 2 $?
grep -q -- '--named-policy: a policy named "p" was given already' "$T/np2.err" &&
    ok "--named-policy p twice: said why" || fail "--named-policy p twice: $(cat "$T/np2.err")"
mkdir -p "$T/dupconf"
printf '{"policies": {"": "%s", "p": "%s"}}\n' "$T/tdx-only.json" "$T/tdx-only.json" >"$T/dupconf/p.json"
timeout 10 $CVM serve $COMMON --listen 127.0.0.1:0 --config "$T/dupconf/p.json" \
    --named-policy "p=$T/any.json" 2>"$T/np3.err"
eq "--named-policy p after --config's p exits 2" 2 $?
grep -q -- '--named-policy: a policy named "p" was given already' "$T/np3.err" &&
    ok "--named-policy after --config's: said why" || fail "--named-policy after --config: $(cat "$T/np3.err")"
timeout 10 $CVM serve $COMMON --listen 127.0.0.1:0 --config "$T/dupconf/p.json" \
    --policy "$T/any.json" 2>"$T/np4.err"
eq "--policy after --config's default exits 2" 2 $?
grep -q -- '--policy: the default policy was given already' "$T/np4.err" &&
    ok "--policy after --config's default: said why" || fail "--policy after --config: $(cat "$T/np4.err")"
# a named policy that cannot be read is named in the error, not called --policy
timeout 10 $CVM serve $COMMON --listen 127.0.0.1:0 --named-policy "strict=$T/no-such.json" \
    2>"$T/np6.err"
eq "--named-policy strict=MISSING exits 2" 2 $?
grep -q "policy 'strict': .*no-such.json" "$T/np6.err" && ! grep -q -- '--policy:' "$T/np6.err" &&
    ok "--named-policy strict=MISSING: the policy's name in the error" ||
    fail "--named-policy strict=MISSING: $(cat "$T/np6.err")"
timeout 10 $CVM serve $COMMON --listen 127.0.0.1:0 --config "$T/dupconf/p.json" \
    --config "$T/dupconf/p.json" 2>"$T/np5.err"
eq "two --config files naming one policy exit 2" 2 $?
grep -q 'policies: a policy named "" was given already' "$T/np5.err" &&
    ok "two --config files naming one policy: said why" || fail "two --config: $(cat "$T/np5.err")"

# --- GET /v1/nonce ---
for sz in "" 32 48 64; do
    n=$(nonce "$A" $sz)
    len=$(printf '%s' "$(b64url_hex "$n")" | wc -c)
    eq "nonce${sz:+ size=$sz} is ${sz:-32} bytes, base64url without padding" $((2 * ${sz:-32})) "$len"
    case $n in *=* | *+* | */*) fail "nonce '$n' is not base64url without padding" ;; esac
done
st=$(curl -s -o "$T/e" -w '%{http_code}' "$A/v1/nonce?size=7")
err_is "nonce size=7" 400 BAD_NONCE_SIZE "$st" "$T/e" "$ALOG"
# a size with no value, or an empty one, is no size of the three (libmicrohttpd gives "?size" a
# NULL value, once taken for no size: 200 and 32 bytes)
for q in "size" "size=" "size=48&size" "size&size=48"; do
    st=$(curl -s -o "$T/e" -w '%{http_code}' "$A/v1/nonce?$q")
    err_is "nonce ?$q" 400 BAD_NONCE_SIZE "$st" "$T/e" "$ALOG"
done
# a size given twice is refused whatever its values (libmicrohttpd's look-up gives the first,
# once taken alone: ?size=64&size= was 200 and 64 bytes, ?size=32&size=48 200 and 32 bytes)
for q in "size=64&size=" "size=64&size=abc" "size=32&size=48" "size=32&size=32" "size=32&x=1&%73ize=64"; do
    st=$(curl -s -o "$T/e" -w '%{http_code}' "$A/v1/nonce?$q")
    err_is "nonce ?$q" 400 BAD_NONCE_SIZE "$st" "$T/e" "$ALOG"
    grep -q 'size is given twice or more' "$T/e" && ok "nonce ?$q: the message says twice" ||
        fail "nonce ?$q: $(cat "$T/e")"
done
eq "nonce ?x=1&size=48&y=2: one size among other arguments" 96 \
    "$(printf '%s' "$(b64url_hex "$(curl -sf "$A/v1/nonce?x=1&size=48&y=2" | jq -r .nonce)")" | wc -c)"

# --- POST /v1/verify: evidence bound to a nonce ---
N1=$(signed_for "$A" "$T/r1.bin")
body "$T/b1.json" "$T/r1.bin" "$N1"
st=$(post "$A/v1/verify" "$T/b1.json" "$T/o1.json")
eq "verify with a nonce: HTTP 200" 200 "$st"
eq "verify with a nonce: affirming" affirming "$(jq -r .status "$T/o1.json")"
[ -n "$(jq -r '.request_id // empty' "$T/o1.json")" ] && ok "verify answer has a request_id" || fail "no request_id"
eq "verify answer: the result's members, then token and request_id" \
    "status,undecided,tee token,request_id" \
    "$(jq -r '(keys_unsorted[0:3] | join(",")) + " " + (keys_unsorted[-2:] | join(","))' "$T/o1.json")"
jq -r .token "$T/o1.json" >"$T/t1"
$CVM result check "$T/t1" --pub "$T/v.pub" >"$T/c1.json" 2>/dev/null; eq "the token checks with result check" 0 $?
eq "token eat_nonce is the nonce" "$N1" "$(jq -r .eat_nonce "$T/c1.json")"
exp=$(jq -r '.exp - .iat' "$T/c1.json")
eq "token exp is iat + 300 (default --token-ttl)" 300 "$exp"
# a 48-byte nonce: 64 characters, the longest an EAT-strict reader takes (docs/service.md)
N48=$(signed_for "$A" "$T/r48.bin" 48)
body "$T/b48.json" "$T/r48.bin" "$N48"
st=$(post "$A/v1/verify" "$T/b48.json" "$T/o48.json")
jq -r .token "$T/o48.json" >"$T/t48"
$CVM result check "$T/t48" --pub "$T/v.pub" >"$T/c48.json" 2>/dev/null
eq "size=48: affirming, eat_nonce the nonce, 64 characters" "200 affirming $N48 64" \
    "$st $(jq -r .status "$T/o48.json") $(jq -r .eat_nonce "$T/c48.json") $(jq -r '.eat_nonce | length' "$T/c48.json")"
# replayed
st=$(post "$A/v1/verify" "$T/b1.json" "$T/e")
err_is "the same nonce again" 409 NONCE_REPLAYED "$st" "$T/e" "$ALOG"
# a fresh nonce, but the evidence carries another one
N2=$(nonce "$A")
body "$T/b2.json" "$T/r1.bin" "$N2"
st=$(post "$A/v1/verify" "$T/b2.json" "$T/o2.json")
eq "evidence bound to another nonce: HTTP 200" 200 "$st"
eq "evidence bound to another nonce: contraindicated" contraindicated "$(jq -r .status "$T/o2.json")"
jq -e '.reasons[] | select(.code == "NONCE_REPORT_DATA_MISMATCH")' "$T/o2.json" >/dev/null &&
    ok "reason NONCE_REPORT_DATA_MISMATCH" || fail "no NONCE_REPORT_DATA_MISMATCH: $(head -c 300 "$T/o2.json")"
# a nonce altered by one character, and one from another key
N3=$(nonce "$A")
case $N3 in A*) N3x=B${N3#A} ;; *) N3x=A${N3#?} ;; esac
body "$T/b3.json" "$T/r1.bin" "$N3x"
st=$(post "$A/v1/verify" "$T/b3.json" "$T/e")
err_is "an altered nonce" 400 NONCE_INVALID "$st" "$T/e" "$ALOG"
# no nonce; a bundle; a named policy; an unknown policy
body "$T/b4.json" "$T/s/report.bin"
st=$(post "$A/v1/verify" "$T/b4.json" "$T/o4.json")
eq "verify without a nonce: 200 affirming" "200 affirming" "$st $(jq -r .status "$T/o4.json")"
body "$T/b5.json" "$T/s/bundle.json"
st=$(post "$A/v1/verify" "$T/b5.json" "$T/o5.json")
eq "verify a bundle: 200 affirming" "200 affirming" "$st $(jq -r .status "$T/o5.json")"
body "$T/b6.json" "$T/s/report.bin" "" tdx-only
st=$(post "$A/v1/verify" "$T/b6.json" "$T/o6.json")
eq "named policy tdx-only refuses SEV-SNP" "200 contraindicated" "$st $(jq -r .status "$T/o6.json")"
body "$T/b7.json" "$T/s/report.bin" "" nosuch
st=$(post "$A/v1/verify" "$T/b7.json" "$T/e")
err_is "unknown policy" 400 UNKNOWN_POLICY "$st" "$T/e" "$ALOG"
# named policies and no default: a request naming none is refused, never appraised with none
start NP $COMMON --named-policy tdx-only="$T/tdx-only.json"
NP=http://127.0.0.1:$PORT
st=$(post "$NP/v1/verify" "$T/b4.json" "$T/e")
err_is "named policies, no default: a request naming none" 400 UNKNOWN_POLICY "$st" "$T/e" "$T/NP.log"
grep -q 'no default policy is configured' "$T/e" && ok "no default policy: the message says so" || fail "no default message: $(cat "$T/e")"
jq '. + {policy: ""}' "$T/b4.json" >"$T/b4e.json"
st=$(post "$NP/v1/verify" "$T/b4e.json" "$T/e")
err_is "named policies, no default: an empty policy name" 400 UNKNOWN_POLICY "$st" "$T/e" "$T/NP.log"
st=$(post "$NP/v1/verify" "$T/b6.json" "$T/o6n.json")
eq "named policies, no default: the named one applies" "200 contraindicated POLICY_TEE_NOT_ALLOWED" "$st $(jq -r '"\(.status) \([.reasons[] | select(.severity == "error")][0].code)"' "$T/o6n.json")"
kill "$(cat "$T/NP.pid")"
# the quick start, serve --policy FILE: FILE is the default, applied to a request naming none
start QS $COMMON --policy "$T/tdx-only.json"
st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/b4.json" "$T/o4q.json")
eq "serve --policy FILE: the default policy applies" "200 contraindicated POLICY_TEE_NOT_ALLOWED" "$st $(jq -r '"\(.status) \([.reasons[] | select(.severity == "error")][0].code)"' "$T/o4q.json")"
kill "$(cat "$T/QS.pid")"

# --- errors ---
printf '{"evidence": ' >"$T/bad.json"
st=$(post "$A/v1/verify" "$T/bad.json" "$T/e")
err_is "malformed JSON" 400 BAD_JSON "$st" "$T/e" "$ALOG"
printf '{"evidence": "AAAA", "evidence": "AAAA"}' >"$T/dup.json"
st=$(post "$A/v1/verify" "$T/dup.json" "$T/e")
err_is "duplicate member" 400 BAD_JSON "$st" "$T/e" "$ALOG"
st=$(curl -s -o "$T/e" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$T/b4.json" "$A/v1/verify")
err_is "wrong content type" 415 BAD_CONTENT_TYPE "$st" "$T/e" "$ALOG"
printf '{"evidence": "not base64!"}' >"$T/b64.json"
st=$(post "$A/v1/verify" "$T/b64.json" "$T/e")
err_is "bad base64" 400 BAD_BASE64 "$st" "$T/e" "$ALOG"
printf '{"evidence": "AAAA", "extra": 1}' >"$T/x.json"
st=$(post "$A/v1/verify" "$T/x.json" "$T/e")
err_is "unknown member" 400 BAD_REQUEST "$st" "$T/e" "$ALOG"
printf '{}' >"$T/x.json"
st=$(post "$A/v1/verify" "$T/x.json" "$T/e")
err_is "evidence missing" 400 BAD_REQUEST "$st" "$T/e" "$ALOG"
printf '{"evidence": 7}' >"$T/x.json"
st=$(post "$A/v1/verify" "$T/x.json" "$T/e")
err_is "evidence not a string" 400 BAD_REQUEST "$st" "$T/e" "$ALOG"
printf '{"evidence": ""}' >"$T/x.json"
st=$(post "$A/v1/verify" "$T/x.json" "$T/e")
err_is "empty evidence" 400 BAD_EVIDENCE "$st" "$T/e" "$ALOG"
printf '{"evidence": "%s"}' "$(printf '{"cvmattest_bundle": 1}' | base64 -w0)" >"$T/x.json"
st=$(post "$A/v1/verify" "$T/x.json" "$T/e")
err_is "a malformed bundle" 400 BAD_EVIDENCE "$st" "$T/e" "$ALOG"
python3 -c 'import sys; sys.stdout.write("{\"evidence\": \"" + "A" * 70000 + "\"}")' >"$T/big.json"
st=$(post "$A/v1/verify" "$T/big.json" "$T/e")
err_is "body over --max-body (Content-Length)" 413 BODY_TOO_LARGE "$st" "$T/e" "$ALOG"
st=$(curl -s -o "$T/e" -w '%{http_code}' -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.json" "$A/v1/verify")
err_is "body over --max-body (chunked)" 413 BODY_TOO_LARGE "$st" "$T/e" "$ALOG"
st=$(curl -s -o "$T/e" -w '%{http_code}' "$A/v1/verify")
err_is "GET /v1/verify" 405 METHOD_NOT_ALLOWED "$st" "$T/e" "$ALOG"
st=$(curl -s -o "$T/e" -w '%{http_code}' "$A/nowhere")
err_is "unknown path" 404 NOT_FOUND "$st" "$T/e" "$ALOG"
hrid=$(curl -s -D - -o /dev/null "$A/nowhere" | tr -d '\r' | sed -n 's/^X-Request-Id: //ip')
grep -q "request_id=$hrid " "$ALOG" && ok "X-Request-Id header matches the log" || fail "X-Request-Id '$hrid' not in the log"
# text that is not UTF-8 in an error's message (a JSON string must be): the answer keeps its
# status, code and request ID
st=$(curl -s -o "$T/e" -w '%{http_code}' "$A/%ff")
err_is "a path that is not UTF-8" 404 NOT_FOUND "$st" "$T/e" "$ALOG"
body "$T/bu.json" "$T/s/report.bin" "" "$(printf '%063d' 0 | tr 0 a)$(printf '\303\251')"
st=$(post "$A/v1/verify" "$T/bu.json" "$T/e")
err_is "a policy name cut mid-character in the message" 400 UNKNOWN_POLICY "$st" "$T/e" "$ALOG"
# log forging: what a request carries cannot begin a line of its own in the log
FORGED='cvmattest serve: request_id=deadbeef00000000 verify status=200 forged'
curl -s -o /dev/null "$A/x%0acvmattest%20serve:%20request_id=deadbeef00000000%20verify%20status=200%20forged"
FORGED2='cvmattest serve: request_id=deadbeef00000001 ok'
jq -n --arg e "$(base64 -w0 "$T/s/report.bin")" --arg p "p
$FORGED2" '{evidence: $e, policy: $p}' >"$T/bf.json"
post "$A/v1/verify" "$T/bf.json" "$T/e" >/dev/null
sleep 0.2
grep -q '^cvmattest serve: request_id=deadbeef0000000' "$ALOG" && fail "log forging: a forged line is in the log" || ok "log forging: no forged line"
eq "log forging: the newline escaped (path, policy name)" "1 1" \
    "$(grep -cF "/x\\x0a$FORGED" "$ALOG") $(grep -cF "\"p\\x0a$FORGED2\"" "$ALOG")"
# the C1 control NEL and U+2028, line breaks to some log readers, are escaped byte by byte
curl -s -o /dev/null "$A/y%c2%85nel%e2%80%a8ls"
sleep 0.2
eq "log forging: NEL and U+2028 escaped" 1 "$(grep -cF '/y\xc2\x85nel\xe2\x80\xa8ls' "$ALOG")"

# protocol errors libmicrohttpd answers itself (docs/service.md "Errors"): its status, a log
# line of no request, and the service goes on
PORT_A=${A##*:}
rawreq() { python3 - "$PORT_A" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
try:
    print(s.recv(100).split(b"\r\n")[0].decode().split(" ")[1])
except (OSError, IndexError):
    print("none")
PY
}
st=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$A/healthz")
st="$st $(rawreq 'POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n')"
st="$st $(rawreq 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n')"
st="$st $(curl -s -o /dev/null -w '%{http_code}' "$A/healthz")"
sleep 0.2
eq "protocol errors (headers too large, a bad Content-Length, HTTP/9.9): 431 400 505, then healthz 200" \
    "431 400 505 200" "$st"
eq "protocol errors: logged by libmicrohttpd's lines, of no request" 3 \
    "$(grep -c '^cvmattest serve: request_id=- libmicrohttpd: Error processing request (HTTP response code is \(431\|400\|505\)' "$ALOG")"

# every error label the service answers or counts in /metrics is in docs/service.md's table
if [ -n "${CVMATTEST_SRC:-}" ]; then
    missing=""
    for code in $(grep -oE '"[A-Z]+(_[A-Z]+)+"|"INTERNAL"' "$CVMATTEST_SRC/src/server/server.c" | tr -d '"' | sort -u); do
        grep -q "^| \`$code\` |" "$CVMATTEST_SRC/docs/service.md" || missing="$missing $code"
    done
    eq "every error code of src/server/server.c is in docs/service.md" "" "$missing"
fi

# --- GET /v1/keys, /healthz ---
curl -sf "$A/v1/keys" >"$T/jwks.json"; eq "GET /v1/keys" 0 $?
kid=$(openssl pkey -pubin -in "$T/v.pub" -outform DER | sha256sum | cut -d' ' -f1)
eq "JWKS kid is the key's SPKI SHA-256" "$kid" "$(jq -r '.keys[0].kid' "$T/jwks.json")"
eq "JWKS key" "EC P-256 ES256" "$(jq -r '.keys[0] | "\(.kty) \(.crv) \(.alg)"' "$T/jwks.json")"
eq "token kid is in the JWKS" "$kid" "$(cut -d. -f1 "$T/t1" | tr '_-' '/+' | awk '{ m = length($0) % 4; if (m == 2) $0 = $0 "=="; else if (m == 3) $0 = $0 "="; print }' | base64 -d | jq -r .kid)"
# The token's signature checked by another implementation (python3-cryptography) with the key
# the JWKS publishes: ES256 over header.payload, r || s (RFC 7515, RFC 7518 §3.4).
python3 - "$T/t1" "$T/jwks.json" <<'PY' >"$T/indep" 2>&1
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
tok = open(sys.argv[1]).read().strip()
h, p, s = tok.split(".")
jwk = json.load(open(sys.argv[2]))["keys"][0]
pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"),
                                    int.from_bytes(b64(jwk["y"]), "big"),
                                    ec.SECP256R1()).public_key()
sig = b64(s)
assert json.loads(b64(h))["alg"] == "ES256" and len(sig) == 64
pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
           (h + "." + p).encode(), ec.ECDSA(hashes.SHA256()))
bad = (h + "." + p[:-2] + ("A" if p[-2] != "A" else "B") + p[-1]).encode()
try:
    pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                    int.from_bytes(sig[32:], "big")), bad, ec.ECDSA(hashes.SHA256()))
    print("altered payload verified")
except Exception:
    print("verified")
PY
eq "the token's ES256 signature verifies with python3-cryptography and the JWKS key" verified "$(cat "$T/indep")"
eq "GET /healthz" '{"status":"ok"}' "$(curl -sf "$A/healthz")"

# --- concurrent clients (bounded): 16 at once, and one nonce raced by 8 ---
i=0
JOBS=""
while [ $i -lt 16 ]; do
    post "$A/v1/verify" "$T/b4.json" "$T/par$i.json" >"$T/par$i.st" &
    JOBS="$JOBS $!"
    i=$((i + 1))
done
for j in $JOBS; do wait "$j"; done
# count STATUS FILES...: how many files hold that HTTP status
count() { want=$1; shift; c=0; for f in "$@"; do [ "$(cat "$f")" = "$want" ] && c=$((c + 1)); done; echo $c; }
good=$(count 200 "$T"/par*.st)
eq "16 concurrent verifications answered 200" 16 "$good"
N4=$(signed_for "$A" "$T/r4.bin")
body "$T/b8.json" "$T/r4.bin" "$N4"
i=0
JOBS=""
while [ $i -lt 8 ]; do
    post "$A/v1/verify" "$T/b8.json" "$T/race$i.json" >"$T/race$i.st" &
    JOBS="$JOBS $!"
    i=$((i + 1))
done
for j in $JOBS; do wait "$j"; done
eq "one nonce raced by 8 clients: accepted once" "1 7" \
    "$(count 200 "$T"/race*.st) $(count 409 "$T"/race*.st)"

# --- GET /metrics ---
# (a request is counted when libmicrohttpd ends it, which can be a moment after its answer reached
# the client: read again, for up to 5 s, until the 8 refusals are there, no more and no fewer)
i=0
while :; do
    curl -sf "$A/metrics" >"$T/metrics"
    mst=$?
    grep -q '^cvmattest_http_requests_total{endpoint="verify",status="409",error="NONCE_REPLAYED"} 8$' "$T/metrics" &&
        break
    [ $i -lt 50 ] || break
    sleep 0.1
    i=$((i + 1))
done
eq "GET /metrics" 0 "$mst"
grep -q '^cvmattest_http_requests_total{endpoint="verify",status="409",error="NONCE_REPLAYED"} 8$' "$T/metrics" &&
    ok "metrics: requests by status and error" || fail "metrics: $(grep NONCE_REPLAYED "$T/metrics")"
grep -q '^cvmattest_verify_reasons_total{code="NONCE_REPORT_DATA_MISMATCH",severity="error"} 1$' "$T/metrics" &&
    ok "metrics: reasons" || fail "metrics lack the reason"
grep -q '^cvmattest_http_request_duration_seconds_bucket{endpoint="verify",le="+Inf"} ' "$T/metrics" &&
    ok "metrics: latency histogram" || fail "metrics lack the histogram"

# --- an expired nonce; a client that stops talking ---
start B $COMMON --nonce-ttl 1 --timeout 1
B=http://127.0.0.1:$PORT
N5=$(signed_for "$B" "$T/r5.bin")
body "$T/b9.json" "$T/r5.bin" "$N5"
sleep 2.2
st=$(post "$B/v1/verify" "$T/b9.json" "$T/e")
err_is "an expired nonce" 400 NONCE_EXPIRED "$st" "$T/e" "$T/B.log"
python3 - "$PORT" >"$T/slow" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
s.settimeout(10)
t = time.time()
data = s.recv(100)
print("closed" if data == b"" or b" 408 " in data else "answered", round(time.time() - t))
PY
case $(cat "$T/slow") in closed\ [0-5]) ok "a silent client is dropped after --timeout" ;; *) fail "slow client: $(cat "$T/slow")" ;; esac
# (logged when libmicrohttpd ends the request, a moment after the client saw the close)
i=0
while ! grep -q "client time-out" "$T/B.log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q "client time-out" "$T/B.log" && ok "the time-out is logged" || fail "time-out not logged"
eq "the server serves on after the time-out" '{"status":"ok"}' "$(curl -sf "$B/healthz")"

# --- the configuration file (relative paths from its folder) ---
mkdir -p "$T/conf"
cp "$T/tdx-only.json" "$T/conf/p.json"
# a provider and its registry listing the simulated chip
$CVM registry keygen --out "$T/conf/acme" >/dev/null || fail "config: registry keygen"
printf 'amd chip_id %s region=eu-1\n' "$(od -An -tx1 -j 0x1A0 -N 64 "$T/s/report.bin" | tr -d ' \n')" >"$T/conf/fleet.txt"
$CVM registry build --provider acme --key "$T/conf/acme.key" --entries "$T/conf/fleet.txt" --version 1 \
    --valid-days 30 --include-entries --out "$T/conf/acme.jws" >/dev/null || fail "config: registry build"
cat >"$T/conf/serve.json" <<EOF2
{"listen": "127.0.0.1:0", "trust_roots": ["../s/ark.pem"], "collateral": "../s", "offline": true,
 "providers": ["acme=acme.pub"], "registries": ["acme.jws"], "cache_dir": "cache",
 "policies": {"": "../any.json", "tdx-only": "p.json"}, "result_key": "../v.key",
 "limits": {"threads": 2, "max_body": 4096, "token_ttl": 60, "nonce_ttl": 90}}
EOF2
start C --config "$T/conf/serve.json"
C=http://127.0.0.1:$PORT
grep -q ', 2 threads' "$T/C.log" && ok "config: threads 2" || fail "config: threads: $(head -2 "$T/C.log")"
eq "config: the provider and its registry bind the platform" "200 affirming acme eu-1" \
    "$(post "$C/v1/verify" "$T/b4.json" "$T/o4r.json") $(jq -r '"\(.status) \(.platform.provider) \(.platform.labels.region)"' "$T/o4r.json")"
nexp=$(curl -sf "$C/v1/nonce" | jq -r '.expires - now | floor')
[ "$nexp" -ge 85 ] && [ "$nexp" -le 90 ] && ok "config: nonce_ttl 90 ($nexp s left)" || fail "config: nonce_ttl: $nexp"
st=$(post "$C/v1/verify" "$T/b6.json" "$T/o6c.json")
eq "config: named policy" "200 contraindicated" "$st $(jq -r .status "$T/o6c.json")"
st=$(post "$C/v1/verify" "$T/b4.json" "$T/o4c.json")
jq -r .token "$T/o4c.json" >"$T/t4c"
$CVM result check "$T/t4c" --pub "$T/v.pub" >"$T/c4c.json" 2>/dev/null
eq "config: token_ttl 60" "200 60" "$st $(jq -r '.exp - .iat' "$T/c4c.json")"
st=$(post "$C/v1/verify" "$T/big.json" "$T/e")
eq "config: max_body 4096" 413 "$st"
printf '{"listen": "127.0.0.1:0", "bogus": 1}' >"$T/conf/bad.json"
$CVM serve --config "$T/conf/bad.json" 2>"$T/badconf.err"; eq "config: unknown member exits 2" 2 $?
grep -q bogus "$T/badconf.err" && ok "config: the member is named" || fail "config error: $(cat "$T/badconf.err")"

# --- TLS ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null
chmod 600 "$T/tls.key" "$T/v.key"
start D $COMMON --tls-cert "$T/tls.crt" --tls-key "$T/tls.key"
grep -q 'has mode' "$T/D.log" && fail "keys of mode 0600: warned: $(grep 'has mode' "$T/D.log")" || ok "keys of mode 0600: no warning"
eq "TLS: healthz over https" '{"status":"ok"}' "$(curl -sf --cacert "$T/tls.crt" "https://127.0.0.1:$PORT/healthz")"
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && fail "TLS: plain HTTP answered" || ok "TLS: plain HTTP refused"
# TLS 1.2 and 1.3 only (RFC 8996). s_client needs SECLEVEL 0 to offer 1.0 or 1.1 at all: a
# control server that takes 1.0/1.1 (openssl s_server) shows the client does offer them, so
# that the service's refusal is the service's
tls_with() { # PORT VERSION: the protocol s_client completed a handshake with, or "none"
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" "-$2" -cipher 'ALL:@SECLEVEL=0' \
        >"$T/s_client.out" 2>&1
    # "New, (NONE), Cipher is (NONE)": no handshake ("Protocol" then names what was asked).
    # Otherwise "New, V, ..." names the cipher's version (TLSv1.0 for a 1.1 handshake), and the
    # protocol is the session's "Protocol" (no session is printed for a TLS 1.3 one)
    _new=$(sed -n 's/^New, \(TLSv1[.0-9]*\), Cipher is .*/\1/p' "$T/s_client.out")
    if [ -z "$_new" ]; then
        echo none
    elif [ "$_new" = TLSv1.3 ]; then
        echo TLSv1.3
    else
        sed -n 's/^ *Protocol *: *\(TLSv1[.0-9]*\)$/\1/p' "$T/s_client.out"
    fi
}
# (the port is free when picked, but another process can take it before s_server binds it:
# s_server then exits saying so, and another port is tried, 3 in all)
for _try in 1 2 3; do
    CP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    openssl s_server -accept "127.0.0.1:$CP" -cert "$T/tls.crt" -key "$T/tls.key" -cipher 'ALL:@SECLEVEL=0' \
        -quiet >/dev/null 2>"$T/s_server.err" &
    CPID=$!
    PIDS="$PIDS $CPID"
    i=0
    until kill -0 "$CPID" 2>/dev/null && ! grep -q 'Address already in use' "$T/s_server.err" &&
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $CP))" 2>/dev/null; do
        kill -0 "$CPID" 2>/dev/null || break
        [ $i -lt 300 ] || { echo "FAIL openssl s_server on port $CP does not answer"; exit 1; }
        sleep 0.1
        i=$((i + 1))
    done
    kill -0 "$CPID" 2>/dev/null && ! grep -q 'Address already in use' "$T/s_server.err" && break
    if ! grep -q 'Address already in use' "$T/s_server.err" || [ "$_try" = 3 ]; then
        echo "FAIL openssl s_server did not start"; cat "$T/s_server.err"; exit 1
    fi
    echo "note: port $CP was taken before openssl s_server bound it: another is tried"
done
for v in tls1:TLSv1 tls1_1:TLSv1.1; do
    if [ "$(tls_with "$CP" "${v%%:*}")" != "${v#*:}" ]; then
        echo "SKIP (part): this OpenSSL cannot offer ${v#*:} even at SECLEVEL 0: its refusal is not tested"
        continue
    fi
    eq "TLS: ${v#*:} refused (a server that takes it completes it with the same client)" none \
        "$(tls_with "$PORT" "${v%%:*}")"
done
eq "TLS: TLSv1.2 accepted" TLSv1.2 "$(tls_with "$PORT" tls1_2)"
eq "TLS: TLSv1.3 accepted" TLSv1.3 "$(tls_with "$PORT" tls1_3)"
# secret keys that group or others may read: a warning naming the file and its mode, and the
# service starts all the same
cp "$T/v.key" "$T/v644.key"
cp "$T/tls.key" "$T/tls640.key"
chmod 644 "$T/v644.key"
chmod 640 "$T/tls640.key"
start KM --trust-root "$T/s/ark.pem" --collateral "$T/s" --offline --sign-result "$T/v644.key" --tls-cert "$T/tls.crt" --tls-key "$T/tls640.key"
grep -q "warning: --sign-result '$T/v644.key' has mode 0644: group or others may read" "$T/KM.log" &&
    ok "a result key of mode 0644: warned at start" || fail "result key mode: $(head -3 "$T/KM.log")"
grep -q "warning: --tls-key '$T/tls640.key' has mode 0640" "$T/KM.log" &&
    ok "a TLS key of mode 0640: warned at start" || fail "TLS key mode: $(head -3 "$T/KM.log")"
eq "keys readable by others: the service starts all the same" '{"status":"ok"}' "$(curl -sf --cacert "$T/tls.crt" "https://127.0.0.1:$PORT/healthz")"
kill "$(cat "$T/KM.pid")"
# a secret key path that is a directory: refused as not a regular file, with no mode warning
# before it (the mode of a directory says nothing of a key)
mkdir -m 755 "$T/keydir"
timeout 10 $CVM serve --listen 127.0.0.1:0 --trust-root "$T/s/ark.pem" --collateral "$T/s" \
    --offline --sign-result "$T/keydir" 2>"$T/keydir.err"
rc=$?
[ $rc -eq 2 ] && grep -q "not a regular file" "$T/keydir.err" && ! grep -q "has mode" "$T/keydir.err" &&
    ok "a directory as --sign-result: refused, no mode warning" ||
    fail "a directory as --sign-result: rc=$rc $(cat "$T/keydir.err")"
# --config that cannot be read says why
for c in "$T/none.json:No such file or directory" "$T/keydir:not a regular file|Is a directory" \
    "/dev/zero:over 1048576 bytes"; do
    f=${c%%:*}
    timeout 10 $CVM serve --config "$f" 2>"$T/conf.err"
    rc=$?
    [ $rc -eq 2 ] && grep -Eq -- "--config '$f': (${c#*:})" "$T/conf.err" &&
        ok "--config $(basename "$f"): $(cat "$T/conf.err")" || fail "--config $f: rc=$rc $(cat "$T/conf.err")"
done
# --threads 1: the daemon's own thread, and no word from libmicrohttpd about a pool
start T1 --trust-root "$T/s/ark.pem" --collateral "$T/s" --offline --threads 1
eq "--threads 1: serves" '{"status":"ok"}' "$(curl -sf "http://127.0.0.1:$PORT/healthz")"
grep -q "thread pool size" "$T/T1.log" && fail "--threads 1: $(grep 'thread pool' "$T/T1.log")" ||
    ok "--threads 1: nothing said of the thread pool"
kill "$(cat "$T/T1.pid")"
# --config given many times: more paths than cmd_serve keeps is a usage error, never TLS and
# the result key silently dropped (plain HTTP, unsigned)
printf '{"listen": "127.0.0.1:0", "tls_cert": "%s", "tls_key": "%s", "result_key": "%s"}\n' \
    "$T/tls.crt" "$T/tls.key" "$T/v.key" >"$T/conf/tls.json"
set --
i=0
while [ $i -lt 45 ]; do set -- "$@" --config "$T/conf/tls.json"; i=$((i + 1)); done
timeout 10 $CVM serve "$@" 2>"$T/manyconf.err"
eq "--config 45 times exits 2" 2 $?
grep -q 'the limit is 128' "$T/manyconf.err" && ok "--config 45 times: the limit is named" || fail "--config x45: $(cat "$T/manyconf.err")"
set --

# --- tokens: the submodule named after the kind; key binding (public_key -> cnf.jwk) ---
# claims FILE: the token's claims (the payload, base64url-decoded), as JSON on stdout
claims() { jq -r .token "$1" | cut -d. -f2 | tr '_-' '/+' | awk '{ m = length($0) % 4; if (m == 2) $0 = $0 "=="; else if (m == 3) $0 = $0 "="; print }' | base64 -d; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ak.key" 2>/dev/null
openssl pkey -in "$T/ak.key" -pubout -out "$T/ak.pub" && openssl pkey -in "$T/ak.key" -pubout -outform DER -out "$T/ak.der"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/other.key" 2>/dev/null
openssl pkey -in "$T/other.key" -pubout -out "$T/other.pub"
# the JWK python computes from the DER (the last 65 bytes of a P-256 SPKI: 04 || x || y)
WANT_JWK=$(python3 - "$T/ak.der" <<'PY'
import base64, json, sys
d = open(sys.argv[1], 'rb').read()[-65:]
u = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
print(json.dumps({"crv": "P-256", "kty": "EC", "x": u(d[1:33]), "y": u(d[33:])}, sort_keys=True))
PY
)
# keybody OUT REPORT NONCE PUBFILE
keybody() { jq -n --arg e "$(base64 -w0 "$2")" --arg n "$3" --rawfile k "$4" '{evidence: $e, nonce: $n, public_key: $k}' >"$1"; }
NK=$(nonce "$A")
RDK=$( (python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$(b64url_hex "$NK")"; cat "$T/ak.der") | openssl dgst -sha512 -r | cut -d' ' -f1)
python3 "$RESIGN" "$T/s/report.bin" "$T/s/vcek-key.pem" "$RDK" "$T/rk.bin"
keybody "$T/bk.json" "$T/rk.bin" "$NK" "$T/ak.pub"
st=$(post "$A/v1/verify" "$T/bk.json" "$T/ok.json")
eq "key binding: REPORT_DATA = SHA-512(nonce || SPKI)" "200 affirming" "$st $(jq -r .status "$T/ok.json")"
claims "$T/ok.json" >"$T/ck.json"
eq "token: cnf.jwk is the bound key" "$WANT_JWK" "$(jq -cS .cnf.jwk "$T/ck.json" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')"
eq "token: one submodule, named after the kind" "sev-snp affirming" "$(jq -r '.submods | keys | join(",")' "$T/ck.json") $(jq -r '.submods["sev-snp"]["ear.status"]' "$T/ck.json")"
eq "token: the submodule carries the claims" "true" "$(jq -r '.submods["sev-snp"]["cvmattest.claims"] | has("measurement")' "$T/ck.json")"
eq "token: eat_nonce is the nonce" "$NK" "$(jq -r .eat_nonce "$T/ck.json")"
# another key than the one REPORT_DATA binds: refused, and no key in the token
NK2=$(nonce "$A")
RDK2=$( (python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$(b64url_hex "$NK2")"; cat "$T/ak.der") | openssl dgst -sha512 -r | cut -d' ' -f1)
python3 "$RESIGN" "$T/s/report.bin" "$T/s/vcek-key.pem" "$RDK2" "$T/rk2.bin"
keybody "$T/bk2.json" "$T/rk2.bin" "$NK2" "$T/other.pub"
st=$(post "$A/v1/verify" "$T/bk2.json" "$T/ok2.json")
eq "key binding: another key is refused" "200 contraindicated true" "$st $(jq -r .status "$T/ok2.json") $(jq '[.reasons[].code] | index("NONCE_REPORT_DATA_MISMATCH") != null' "$T/ok2.json")"
eq "token: no cnf for a refused binding" "null" "$(claims "$T/ok2.json" | jq -c .cnf)"
# the key alone (no nonce): REPORT_DATA = SHA-512(SPKI)
RDK3=$(openssl dgst -sha512 -r "$T/ak.der" | cut -d' ' -f1)
python3 "$RESIGN" "$T/s/report.bin" "$T/s/vcek-key.pem" "$RDK3" "$T/rk3.bin"
jq -n --arg e "$(base64 -w0 "$T/rk3.bin")" --rawfile k "$T/ak.pub" '{evidence: $e, public_key: $k}' >"$T/bk3.json"
st=$(post "$A/v1/verify" "$T/bk3.json" "$T/ok3.json")
eq "key binding without a nonce" "200 affirming P-256" "$st $(jq -r .status "$T/ok3.json") $(claims "$T/ok3.json" | jq -r .cnf.jwk.crv)"
# a debug guest accepted by a policy's allow_debug vouches for no key (the host may read it):
# a warning, and no cnf; the same guest under the default policy is refused
python3 -c 'import sys; r = bytearray(open(sys.argv[1], "rb").read()); r[0x0A] |= 0x08; open(sys.argv[2], "wb").write(r)' \
    "$T/s/report.bin" "$T/dbg.bin"
python3 "$RESIGN" "$T/dbg.bin" "$T/s/vcek-key.pem" "$RDK3" "$T/rk5.bin"
jq -n --arg e "$(base64 -w0 "$T/rk5.bin")" --rawfile k "$T/ak.pub" '{evidence: $e, public_key: $k, policy: "debug-ok"}' >"$T/bk5.json"
st=$(post "$A/v1/verify" "$T/bk5.json" "$T/ok5.json")
eq "key binding, a debug guest under allow_debug: a warning without cnf" "200 warning true null" \
    "$st $(jq -r .status "$T/ok5.json") $(jq '[.reasons[].code] | index("SNP_DEBUG_ALLOWED") != null' "$T/ok5.json") $(claims "$T/ok5.json" | jq -c .cnf)"
jq 'del(.policy)' "$T/bk5.json" >"$T/bk6.json"
st=$(post "$A/v1/verify" "$T/bk6.json" "$T/ok6.json")
eq "key binding, a debug guest under the default policy: refused" "200 contraindicated null" \
    "$st $(jq -r .status "$T/ok6.json") $(claims "$T/ok6.json" | jq -c .cnf)"
jq -n --arg e "$(base64 -w0 "$T/rk3.bin")" '{evidence: $e, public_key: "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"}' >"$T/bk4.json"
st=$(post "$A/v1/verify" "$T/bk4.json" "$T/e")
err_is "a public_key that is not a key" 400 BAD_PUBLIC_KEY "$st" "$T/e" "$ALOG"
# with a nonce: refused before the nonce is spent, so the nonce verifies afterwards
NPK=$(signed_for "$A" "$T/rpk.bin")
jq -n --arg e "$(base64 -w0 "$T/rpk.bin")" --arg n "$NPK" '{evidence: $e, nonce: $n, public_key: "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"}' >"$T/bpk.json"
st=$(post "$A/v1/verify" "$T/bpk.json" "$T/e")
err_is "a public_key that is not a key, with a nonce" 400 BAD_PUBLIC_KEY "$st" "$T/e" "$ALOG"
body "$T/bpk2.json" "$T/rpk.bin" "$NPK"
st=$(post "$A/v1/verify" "$T/bpk2.json" "$T/opk.json")
eq "BAD_PUBLIC_KEY left the nonce unspent: it verifies after" "200 affirming" "$st $(jq -r .status "$T/opk.json")"

# --- the vTPM AK as the attested key: Azure evidence without a public_key ---
eq "token: no cnf without a key (plain SEV-SNP)" "null" "$(claims "$T/o1.json" | jq -c .cnf)"
AZ=${CVMATTEST_VECTORS:-}/tpm/azure-snp-vtpm-coco-trustee
if [ -n "${CVMATTEST_VECTORS:-}" ] && [ -f "$AZ/evidence-v2.json" ] &&
    [ -f "$CVMATTEST_VECTORS/snp/roots/ask_ark_milan.pem" ]; then
    mkdir -p "$T/azcoll" && cp "$CVMATTEST_VECTORS/snp/roots/ask_ark_milan.pem" "$T/azcoll/cert_chain.pem"
    start AZ --collateral "$T/azcoll" --offline --sign-result "$T/v.key"
    body "$T/baz.json" "$AZ/evidence-v2.json"
    st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/baz.json" "$T/oaz.json")
    eq "azure: verified (warning: no nonce)" "200 warning" "$st $(jq -r .status "$T/oaz.json")"
    claims "$T/oaz.json" >"$T/caz.json"
    # the AK of the runtime claims (HCLAkPub, a JWK Azure wrote), the AK of the claims, cnf.jwk
    WANT_AK=$(jq -cS '.claims.azure.runtime_claims.raw.keys[] | select(.kid == "HCLAkPub") | {kty, n, e}' "$T/oaz.json")
    eq "azure: claims.azure.tpm.ak.jwk is HCLAkPub" "$WANT_AK" "$(jq -cS .claims.azure.tpm.ak.jwk "$T/oaz.json")"
    # No policy pins the paravisor's launch: the report could be any VMPL-0 guest's, so its AK
    # is no attested key (VTPM_PARAVISOR_NOT_PINNED) ...
    eq "azure: no launch pin, no cnf" "null" "$(jq -c .cnf "$T/caz.json")"
    grep -q VTPM_PARAVISOR_NOT_PINNED "$T/oaz.json" && ok "azure: no launch pin: VTPM_PARAVISOR_NOT_PINNED" ||
        fail "azure: no launch pin: $(jq -c .reasons "$T/oaz.json")"
    kill "$(cat "$T/AZ.pid")" 2>/dev/null
    # ... with the paravisor's measurement pinned it is: cnf.jwk is the AK
    jq -n --arg m "$(jq -r .claims.measurement "$T/oaz.json")" \
        '{allowed_tees: ["azure-snp"], snp: {measurements: [$m]}}' >"$T/azpin.json"
    start AZP --collateral "$T/azcoll" --offline --sign-result "$T/v.key" --policy "$T/azpin.json"
    st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/baz.json" "$T/oazp.json")
    eq "azure, launch pinned: verified" "200 warning" "$st $(jq -r .status "$T/oazp.json")"
    eq "azure, launch pinned: token cnf.jwk is the AK" "$WANT_AK" "$(claims "$T/oazp.json" | jq -cS .cnf.jwk)"
    kill "$(cat "$T/AZP.pid")" 2>/dev/null
else
    echo "skip azure cnf.jwk: shared test vectors not found (CVMATTEST_VECTORS)"
fi

# --- the verifier's counters in /metrics: online, against the local KDS stand-in ---
# The collateral directory lacks the CRL, so the first verification fetches it (a collateral
# cache miss, one fetch counted with its HTTP status) and misses the chain cache; the second
# finds both cached. A KDS without the CRL answers 404: counted as such.
if [ -n "${CVMATTEST_SRC:-}" ]; then
    no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY
    CHIP=$(od -An -tx1 -j 0x1A0 -N 64 "$T/s/report.bin" | tr -d ' \n')
    kds() { # NAME ROUTES...: a KDS stand-in; sets KDS
        kname=$1; shift
        python3 "$CVMATTEST_SRC/tests/kds_server.py" --max-seconds 120 --dir "$T/s" \
            --log "$T/$kname.log" "$@" >"$T/$kname.port" &
        PIDS="$PIDS $!"
        i=0
        while [ ! -s "$T/$kname.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        KDS=http://127.0.0.1:$(head -n 1 "$T/$kname.port")
    }
    mkdir -p "$T/nocrl" && cp "$T/s/vcek.der" "$T/s/cert_chain.pem" "$T/nocrl/"
    kds K1 --route "/vcek/v1/Milan/$CHIP=vcek.der" --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" \
        --route "/vcek/v1/Milan/crl=crl.der"
    ONLINE="--trust-root $T/s/ark.pem --collateral $T/nocrl --sign-result $T/v.key"
    start K $ONLINE --kds-url "$KDS" --cache-dir "$T/kcache"
    K=http://127.0.0.1:$PORT
    body "$T/b13.json" "$T/s/report.bin"
    st=$(post "$K/v1/verify" "$T/b13.json" "$T/o13.json")
    eq "online: the CRL fetched from KDS" "200 affirming" "$st $(jq -r .status "$T/o13.json")"
    curl -sf "$K/metrics" >"$T/m1"
    metric() { grep -F "$1" "$2" | awk '{ print $2 }'; }
    eq "metrics: one CRL fetch with HTTP 200" 1 "$(metric 'cvmattest_collateral_fetches_total{source="crl",status="200"}' "$T/m1")"
    eq "metrics: a collateral cache miss" 1 "$(metric 'cvmattest_cache_misses_total{cache="collateral"}' "$T/m1")"
    eq "metrics: no collateral cache hit yet" 0 "$(metric 'cvmattest_cache_hits_total{cache="collateral"}' "$T/m1")"
    eq "metrics: a chain cache miss" 1 "$(metric 'cvmattest_cache_misses_total{cache="chain"}' "$T/m1")"
    grep -q '^# TYPE cvmattest_collateral_fetches_total counter$' "$T/m1" && ok "metrics: fetches typed as a counter" || fail "metrics: no TYPE line for fetches"
    st=$(post "$K/v1/verify" "$T/b13.json" "$T/o13b.json")
    curl -sf "$K/metrics" >"$T/m2"
    eq "metrics: the second verification hits the collateral cache" "200 1 1" "$st $(metric 'cvmattest_cache_hits_total{cache="collateral"}' "$T/m2") $(metric 'cvmattest_collateral_fetches_total{source="crl",status="200"}' "$T/m2")"
    eq "metrics: the second verification hits the chain cache" 1 "$(metric 'cvmattest_cache_hits_total{cache="chain"}' "$T/m2")"
    eq "KDS: asked for the CRL once" 1 "$(grep -c '^200 /vcek/v1/Milan/crl$' "$T/K1.log")"
    # concurrent misses: six verifications at once on an empty cache, the KDS slow to answer:
    # one CRL download, which all six use (docs/collateral.md)
    kds K1S --delay 1 --route "/vcek/v1/Milan/$CHIP=vcek.der" \
        --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" --route "/vcek/v1/Milan/crl=crl.der"
    start KS $ONLINE --kds-url "$KDS" --cache-dir "$T/kcache_s" --threads 6
    KS=http://127.0.0.1:$PORT
    posts=""
    for i in 1 2 3 4 5 6; do
        post "$KS/v1/verify" "$T/b13.json" "$T/o13s$i.json" >"$T/st13s$i" &
        posts="$posts $!"
    done
    for p in $posts; do wait "$p"; done
    eq "concurrent misses: six verifications affirming" "200 affirming 200 affirming 200 affirming 200 affirming 200 affirming 200 affirming" \
        "$(for i in 1 2 3 4 5 6; do printf '%s %s ' "$(cat "$T/st13s$i")" "$(jq -r .status "$T/o13s$i.json")"; done | sed 's/ $//')"
    eq "concurrent misses: KDS asked for the CRL once" 1 "$(grep -c '^200 /vcek/v1/Milan/crl$' "$T/K1S.log")"
    kds K2 --route "/vcek/v1/Milan/$CHIP=vcek.der"
    start K404 $ONLINE --kds-url "$KDS" --cache-dir "$T/kcache404"
    st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/b13.json" "$T/o14.json")
    curl -sf "http://127.0.0.1:$PORT/metrics" >"$T/m3"
    eq "metrics: a CRL answered 404 (undecided)" "200 true 1" "$st $(jq -r .undecided "$T/o14.json") $(metric 'cvmattest_collateral_fetches_total{source="crl",status="404"}' "$T/m3")"
else
    fail "CVMATTEST_SRC not set (ctest sets it)"
fi

# --- replay refused across two instances sharing one redis-server ---
if command -v redis-server >/dev/null 2>&1; then
    # (lib/redis.sh's redis_start: a port another process took between its pick and
    # redis-server's bind is given up for another, as a fixed pick then failed the test)
    . "$(dirname "$0")/lib/redis.sh"
    redis_start || { fail "redis-server did not start"; exit 1; }
    RPID=$_rpid
    chmod 644 "$T/nonce.key"
    start R1 $COMMON $NKEY --redis "redis://127.0.0.1:$RP"
    R1=http://127.0.0.1:$PORT
    grep -q "warning: --nonce-key '$T/nonce.key' has mode 0644" "$T/R1.log" &&
        ok "a nonce key of mode 0644: warned at start" || fail "nonce key mode: $(head -3 "$T/R1.log")"
    start R2 $COMMON $NKEY --redis "redis://127.0.0.1:$RP/0"
    R2=http://127.0.0.1:$PORT
    N6=$(signed_for "$R1" "$T/r6.bin")
    body "$T/b10.json" "$T/r6.bin" "$N6"
    st=$(post "$R2/v1/verify" "$T/b10.json" "$T/o10.json")
    eq "redis: a nonce from instance 1 used at instance 2" "200 affirming" "$st $(jq -r .status "$T/o10.json")"
    st=$(post "$R1/v1/verify" "$T/b10.json" "$T/e")
    err_is "redis: the replay at instance 1" 409 NONCE_REPLAYED "$st" "$T/e" "$T/R1.log"
    ttl=$(redis-cli -p "$RP" pttl "cvmattest:nonce:$N6")
    # kept a nonce TTL (300 s) past the nonce's expiry: instances whose clocks disagree by less
    # than that never take it for both unexpired and forgotten
    [ "$ttl" -gt 300000 ] && [ "$ttl" -le 600000 ] && ok "redis: the spent nonce is kept a TTL past its expiry ($ttl ms)" || fail "redis pttl $ttl"
    # a Redis that may evict keys could forget a spent nonce (and accept its replay): refused
    redis-cli -p "$RP" config set maxmemory 100mb >/dev/null
    redis-cli -p "$RP" config set maxmemory-policy volatile-lru >/dev/null
    timeout 20 $CVM serve $COMMON $NKEY --listen 127.0.0.1:0 --redis "redis://127.0.0.1:$RP" 2>"$T/evict.err"
    est=$?
    redis-cli -p "$RP" config set maxmemory-policy noeviction >/dev/null
    redis-cli -p "$RP" config set maxmemory 0 >/dev/null
    [ $est = 2 ] && grep -q 'may evict keys (maxmemory-policy volatile-lru' "$T/evict.err" &&
        ok "redis: a Redis that may evict keys is refused at start (exit 2)" ||
        fail "redis eviction: exit $est, $(cat "$T/evict.err")"
    # the same Redis, not answering yet when the instance starts: checked at the first spend,
    # and nonces refused (503) while it may evict. (Its port RP3 is held bound, not listening,
    # while RE starts: nothing answers there and no other process can take it; it is let go
    # just before redis-server binds it. Should another process take it in that moment,
    # redis-server exits saying so, and RE is started again with another port, 3 times in all.)
    for _try in 1 2 3; do
        hold_port "$T/rp3.port"
        PIDS="$PIDS $HOLDER"
        RP3=$HELD
        start RE $COMMON $NKEY --redis "redis://127.0.0.1:$RP3"
        RE=http://127.0.0.1:$PORT
        release_port
        redis-server --bind 127.0.0.1 --port "$RP3" --save '' --appendonly no --dir "$T" \
            --maxmemory 100mb --maxmemory-policy allkeys-lru >"$T/redis3.log" 2>&1 &
        _r3=$!
        PIDS="$PIDS $_r3"
        redis_wait "$_r3" 127.0.0.1 "$RP3" "$T/redis3.log"
        case $? in
        0) break ;;
        1) fail "redis-server (allkeys-lru) did not start"; exit 1 ;;
        esac
        stop RE
        [ "$_try" != 3 ] || { fail "redis-server (allkeys-lru): its port taken 3 times"; exit 1; }
        echo "note: port $RP3 was taken before redis-server bound it: RE starts again with another"
    done
    N7=$(signed_for "$RE" "$T/r7.bin")
    body "$T/b11.json" "$T/r7.bin" "$N7"
    st=$(post "$RE/v1/verify" "$T/b11.json" "$T/e")
    err_is "redis that may evict keys, seen at the first spend" 503 NONCE_STORE_UNAVAILABLE "$st" "$T/e" "$T/RE.log"
    grep -q 'redis may evict keys (maxmemory-policy allkeys-lru' "$T/RE.log" &&
        ok "redis: the eviction is said in the log" || fail "redis eviction log: $(tail -3 "$T/RE.log")"
    # the registry rollback state in Redis: an instance that saw registry v2 makes another
    # instance (its own cache directory, so no state file is shared) refuse v1
    CHIPR=$(od -An -tx1 -j 0x1A0 -N 64 "$T/s/report.bin" | tr -d ' \n')
    $CVM registry keygen --out "$T/acme" >/dev/null
    printf 'amd chip_id %s region=eu-1\n' "$CHIPR" >"$T/fleet.txt"
    for ver in 1 2; do
        $CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version $ver \
            --valid-days 30 --include-entries --out "$T/reg$ver.jws" >/dev/null || fail "registry build v$ver"
    done
    body "$T/b20.json" "$T/s/report.bin"
    start G2 $COMMON --redis "redis://127.0.0.1:$RP" --provider acme="$T/acme.pub" --registry "$T/reg2.jws" --cache-dir "$T/g2"
    G2=http://127.0.0.1:$PORT
    st=$(post "$G2/v1/verify" "$T/b20.json" "$T/o20.json")
    eq "redis: registry v2 binds at instance 1" "200 affirming acme" "$st $(jq -r .status "$T/o20.json") $(jq -r .platform.provider "$T/o20.json")"
    eq "redis: the highest version seen is in redis" "00000000000000000002" "$(redis-cli -p "$RP" get cvmattest:registry:acme | cut -c1-20)"
    start G1 $COMMON --redis "redis://127.0.0.1:$RP" --provider acme="$T/acme.pub" --registry "$T/reg1.jws" --cache-dir "$T/g1"
    G1=http://127.0.0.1:$PORT
    st=$(post "$G1/v1/verify" "$T/b20.json" "$T/o21.json")
    eq "redis: registry v1 at instance 2 is a rollback" "200 contraindicated true" "$st $(jq -r .status "$T/o21.json") $(jq '[.reasons[].code] | index("REGISTRY_ROLLBACK") != null' "$T/o21.json")"
    eq "redis: the state never goes down" "00000000000000000002" "$(redis-cli -p "$RP" get cvmattest:registry:acme | cut -c1-20)"
    start G1M $COMMON --provider acme="$T/acme.pub" --registry "$T/reg1.jws" --cache-dir "$T/g1m"
    st=$(post "http://127.0.0.1:$PORT/v1/verify" "$T/b20.json" "$T/o22.json")
    eq "without redis: instance 2's own state knows no v2" "200 affirming" "$st $(jq -r .status "$T/o22.json")"
    # the shared collateral cache: a CRL instance 1 fetched from KDS is served to instance 2
    # (another cache directory) from redis: KDS is asked once
    if [ -n "${CVMATTEST_SRC:-}" ]; then
        kds K3 --route "/vcek/v1/Milan/$CHIPR=vcek.der" --route "/vcek/v1/Milan/crl=crl.der"
        start H1 $ONLINE --kds-url "$KDS" --cache-dir "$T/h1" --redis "redis://127.0.0.1:$RP"
        H1=http://127.0.0.1:$PORT
        start H2 $ONLINE --kds-url "$KDS" --cache-dir "$T/h2" --redis "redis://127.0.0.1:$RP"
        H2=http://127.0.0.1:$PORT
        st1=$(post "$H1/v1/verify" "$T/b13.json" "$T/o23.json")
        st2=$(post "$H2/v1/verify" "$T/b13.json" "$T/o24.json")
        eq "redis: both instances verify online" "200 affirming 200 affirming" "$st1 $(jq -r .status "$T/o23.json") $st2 $(jq -r .status "$T/o24.json")"
        eq "redis: KDS was asked for the CRL once" 1 "$(grep -c '^200 /vcek/v1/Milan/crl$' "$T/K3.log")"
        curl -sf "$H2/metrics" >"$T/m4"
        eq "redis: instance 2 took the CRL from the shared cache" "1 " "$(metric 'cvmattest_cache_hits_total{cache="shared"}' "$T/m4") $(metric 'cvmattest_collateral_fetches_total{source="crl"' "$T/m4")"
        ttl=$(redis-cli -p "$RP" --scan --pattern 'cvmattest:collateral:*' | head -n 1 | xargs redis-cli -p "$RP" pttl)
        [ "$ttl" -gt 0 ] && [ "$ttl" -le 86400000 ] && ok "redis: shared collateral expires within the maximum age ($ttl ms)" || fail "collateral pttl '$ttl'"
        # two instances that miss the CRL at the same moment (the shared copy removed, a KDS
        # that answers after 1 s): one downloads it, holding the fleet's claim, the other waits
        # for its copy in redis; KDS is asked once, and no claim is left behind
        redis-cli -p "$RP" --scan --pattern 'cvmattest:collateral:*' | xargs -r redis-cli -p "$RP" del >/dev/null
        kds K4 --delay 1 --route "/vcek/v1/Milan/$CHIPR=vcek.der" --route "/vcek/v1/Milan/crl=crl.der"
        start H3 $ONLINE --kds-url "$KDS" --cache-dir "$T/h3" --redis "redis://127.0.0.1:$RP"
        H3=http://127.0.0.1:$PORT
        start H4 $ONLINE --kds-url "$KDS" --cache-dir "$T/h4" --redis "redis://127.0.0.1:$RP"
        H4=http://127.0.0.1:$PORT
        post "$H3/v1/verify" "$T/b13.json" "$T/o27.json" >"$T/st27" &
        p27=$!
        post "$H4/v1/verify" "$T/b13.json" "$T/o28.json" >"$T/st28"
        wait $p27
        eq "redis: two instances missing the CRL at once verify" "200 affirming 200 affirming" \
            "$(cat "$T/st27") $(jq -r .status "$T/o27.json") $(cat "$T/st28") $(jq -r .status "$T/o28.json")"
        eq "redis: KDS was asked for the CRL once by the two" 1 "$(grep -c '^200 /vcek/v1/Milan/crl$' "$T/K4.log")"
        eq "redis: no download claim is left" 0 "$(redis-cli -p "$RP" --scan --pattern 'cvmattest:claim:*' | wc -l)"
        # a claim no instance wrote, left without a TTL (garbage), and one ending later than
        # any claim could: taken over at once, not waited on (for the download's bound, 297 s,
        # on every verification, for ever): the CRL downloaded, the claim given back
        hex=$(redis-cli -p "$RP" --scan --pattern 'cvmattest:collateral:*' | head -n 1 | sed 's/.*://')
        n=5
        for bogus in "garbage-no-ttl" "0123abcd 99999999999999"; do
            redis-cli -p "$RP" del "cvmattest:collateral:$hex" >/dev/null
            redis-cli -p "$RP" set "cvmattest:claim:$hex" "$bogus" >/dev/null
            start "H$n" $ONLINE --kds-url "$KDS" --cache-dir "$T/h$n" --redis "redis://127.0.0.1:$RP"
            st=$(curl -s -m 20 -o "$T/o$n.json" -w '%{http_code}' -H 'Content-Type: application/json' \
                --data-binary @"$T/b13.json" "http://127.0.0.1:$PORT/v1/verify")
            eq "redis: a claim '$bogus' no instance wrote is taken over" "200 affirming" "$st $(jq -r .status "$T/o$n.json")"
            eq "redis: '$bogus': the claim given back" 0 "$(redis-cli -p "$RP" exists "cvmattest:claim:$hex")"
            n=$((n + 1))
        done
        eq "redis: KDS was asked for the CRL once more for each" 3 "$(grep -c '^200 /vcek/v1/Milan/crl$' "$T/K4.log")"
    fi
    # Redis restarted: the connections the instance kept from before are closed; the next
    # request is answered on a new one, not refused
    st=$(curl -s -o /dev/null -w '%{http_code}' "$R1/healthz")
    # (on the same port, which the instances are given: no other can be tried. Between the old
    # redis-server's exit and the new one's bind, a few milliseconds, another process could take
    # the port: the new one then exits saying so, and the test stops at once, saying why.)
    kill "$RPID"; wait "$RPID" 2>/dev/null
    redis-server --bind 127.0.0.1 --port "$RP" --save '' --appendonly no --dir "$T" >"$T/redis2.log" 2>&1 &
    RPID=$!
    PIDS="$PIDS $RPID"
    redis_wait "$RPID" 127.0.0.1 "$RP" "$T/redis2.log"
    case $? in
    1) fail "redis-server did not start again"; exit 1 ;;
    2)
        echo "FAIL redis-server could not start again on port $RP: another process took it in the"
        echo "     moment it was free (no fault of the service; the instances need that port: the test stops)"
        exit 1
        ;;
    esac
    N9=$(signed_for "$R1" "$T/r9.bin")
    body "$T/b13.json" "$T/r9.bin" "$N9"
    st=$(post "$R1/v1/verify" "$T/b13.json" "$T/o13r.json")
    eq "redis restarted: the next nonce is spent on a new connection" "200 affirming" "$st $(jq -r .status "$T/o13r.json")"
    st=$(curl -s -o /dev/null -w '%{http_code}' "$R1/healthz")
    eq "redis restarted: healthz" 200 "$st"
    # the state store too: instance G2's idle connection from before is replaced, and its
    # first registry check after the restart is answered (not REGISTRY_ROLLBACK_NOT_CHECKED)
    st=$(post "$G2/v1/verify" "$T/b20.json" "$T/o26.json")
    eq "redis restarted: the registry state is checked on a new connection" "200 affirming 00000000000000000002" \
        "$st $(jq -r .status "$T/o26.json") $(redis-cli -p "$RP" get cvmattest:registry:acme | cut -c1-20)"
    # a Redis that hangs (stopped; its port still open): a nonce is refused once the command
    # time-out (2 s) has passed, never accepted; the command reached Redis, which spends the
    # nonce once it goes on, so a retry is refused 409 (docs/operations.md)
    N10=$(signed_for "$R1" "$T/r10.bin")
    body "$T/b30.json" "$T/r10.bin" "$N10"
    kill -STOP "$RPID"
    st=$(curl -s -m 20 -o "$T/e" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$T/b30.json" "$R1/v1/verify")
    kill -CONT "$RPID"
    err_is "redis hangs: a nonce is refused (fails closed)" 503 NONCE_STORE_UNAVAILABLE "$st" "$T/e" "$T/R1.log"
    st=$(post "$R2/v1/verify" "$T/b30.json" "$T/e")
    err_is "redis hung: the retry at another instance is refused, never accepted" 409 NONCE_REPLAYED "$st" "$T/e" "$T/R2.log"
    # 503 SHUTTING_DOWN before the nonce is spent: the same request then works at another
    # instance sharing the Redis
    start R3 $COMMON $NKEY --redis "redis://127.0.0.1:$RP" --drain 20
    N11=$(signed_for "$R1" "$T/r11.bin")
    body "$T/b31.json" "$T/r11.bin" "$N11"
    E2E_LIB="$(dirname "$0")/lib" timeout 90 python3 - "$PORT" "$(cat "$T/R3.pid")" "$T/b31.json" "$T/b4.json" "$T/R3.log" >"$T/sd.out" <<'PY'
import http.client, json, os, re, signal, socket, sys, time
port, pid, late, inflight, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
sys.path.insert(0, os.environ["E2E_LIB"])
import serve_wait
def ended(rid):
    serve_wait.ended(log, rid)
def in_flight(want):
    return serve_wait.in_flight(port, log, want)
ka = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
ka.request("GET", "/healthz")
r = ka.getresponse(); r.read()
ended(r.getheader("X-Request-Id"))
body = open(inflight, "rb").read()
slow = socket.create_connection(("127.0.0.1", port), timeout=10)
slow.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
# its headers received (in flight: the drain waits for it) before the signal
n = in_flight(1)
if n < 1:
    print("the request was never in flight before SIGTERM (%d in flight)" % n)
    sys.exit(1)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
ka.request("POST", "/v1/verify", body=open(late, "rb").read(),
           headers={"Content-Type": "application/json"})
r = ka.getresponse()
try:
    code = json.loads(r.read())["error"]["code"]
except (ValueError, KeyError, TypeError):
    code = None
slow.sendall(body[10:])
slow.recv(100)
print(r.status, code)
PY
    eq "draining: a request with a nonce is refused 503 SHUTTING_DOWN" "503 SHUTTING_DOWN" "$(cat "$T/sd.out")"
    grep -q "SIGTERM: no new connections; draining 1 request(s)" "$T/R3.log" &&
        ok "draining: the request in flight was counted" || fail "R3's drain: $(grep draining "$T/R3.log")"
    st=$(post "$R2/v1/verify" "$T/b31.json" "$T/o31.json")
    eq "SHUTTING_DOWN left the nonce unspent: it verifies at another instance" "200 affirming" "$st $(jq -r .status "$T/o31.json")"
    kill "$RPID"; wait "$RPID" 2>/dev/null
    st=$(curl -s -o "$T/e" -w '%{http_code}' "$R1/healthz")
    err_is "redis down: healthz" 503 NONCE_STORE_UNAVAILABLE "$st" "$T/e" "$T/R1.log"
    N8=$(signed_for "$R1" "$T/r8.bin")
    body "$T/b12.json" "$T/r8.bin" "$N8"
    st=$(post "$R1/v1/verify" "$T/b12.json" "$T/e")
    err_is "redis down: a nonce is refused (fails closed)" 503 NONCE_STORE_UNAVAILABLE "$st" "$T/e" "$T/R1.log"
    st=$(post "$G2/v1/verify" "$T/b20.json" "$T/o25.json")
    # the fleet's rollback state cannot be had: the registry is not used unchecked, the
    # platform is undecided (never bound, never affirming or warning)
    eq "redis down: rollback not checked, the platform undecided" \
        "200 contraindicated true REGISTRY_UNAVAILABLE true false" \
        "$st $(jq -r '"\(.status) \(.undecided) \([.reasons[] | select(.severity == "error")][0].code) \([.reasons[].code] | index("REGISTRY_ROLLBACK_NOT_CHECKED") != null) \(.platform.provider != null)"' "$T/o25.json")"
else
    fail "redis-server not found (make deps installs it)"
fi

# --- SIGTERM drains a request in flight and exits 0 ---
# in_flight URL LOG N: waits (30 s at most) until URL's /metrics counts N requests in flight
# besides its own, each /metrics request ended (its line in LOG: counted no more) before the
# next is asked or the caller goes on; false when they never were
in_flight() {
    _i=0
    while [ $_i -lt 300 ]; do
        _n=$(curl -s -D "$T/inflight.h" "$1/metrics" | sed -n 's/^cvmattest_http_requests_in_flight \([0-9]*\)$/\1/p')
        _rid=$(tr -d '\r' <"$T/inflight.h" | sed -n 's/^X-Request-Id: //p')
        _j=0
        while [ -n "$_rid" ] && ! grep -q "request_id=$_rid " "$2" && [ $_j -lt 100 ]; do
            sleep 0.1
            _j=$((_j + 1))
        done
        [ "${_n:-0}" -gt "$3" ] && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}
python3 -c 'import sys; sys.stdout.write(open(sys.argv[1]).read() + " " * 3000)' "$T/b4.json" >"$T/slowbody.json"
curl -s -o "$T/drain.json" -w '%{http_code}' --limit-rate 1K -H 'Content-Type: application/json' \
    --data-binary @"$T/slowbody.json" "$A/v1/verify" >"$T/drain.st" &
CURL=$!
# its headers received (in flight: the drain waits for it) before the signal
in_flight "$A" "$ALOG" 1 || fail "SIGTERM: the request was never in flight before the signal"
APID=$(cat "$T/A.pid")
kill -TERM "$APID"
wait "$APID"; eq "SIGTERM: exit 0" 0 $?
wait "$CURL"
eq "SIGTERM: the request in flight was answered" "200 affirming" "$(cat "$T/drain.st") $(jq -r .status "$T/drain.json")"
grep -q "SIGTERM: no new connections; draining 1 request(s)" "$ALOG" && ok "SIGTERM: drained 1 request" ||
    fail "drain not logged as 1 request: $(grep draining "$ALOG")"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all serve tests passed"
