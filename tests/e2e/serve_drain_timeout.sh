#!/bin/sh
# `cvmattest serve --drain 1` signalled (SIGHUP: it drains as SIGTERM does) while a verification outlasts the drain (it waits 3 s
# for a collateral server that answers late): the drain times out, but the request being
# answered is waited for and its answer reaches the client; the log says it waited, and the
# request's line is the status the client got. A request whose answer cannot be sent is
# logged as not sent, never as the status it would have had (docs/operations.md).
set -u
CVM=${CVMATTEST_BIN:?}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not found"; exit 77; }
T=$(mktemp -d)
SPID= KPID=
cleanup() {
    [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
    [ -n "$KPID" ] && kill "$KPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
# A collateral server that answers every request 404, 3 s late.
cat >"$T/slow.py" <<'PY'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(3)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write("%d\n" % s.server_address[1])
s.serve_forever()
PY
python3 "$T/slow.py" "$T/kport" &
KPID=$!
i=0
while [ ! -s "$T/kport" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/kport" ] || { echo "FAIL the slow collateral server did not start"; exit 1; }
$CVM serve --listen 127.0.0.1:0 --port-file "$T/port" --trust-root "$T/s/ark.pem" \
    --kds-url "http://127.0.0.1:$(cat "$T/kport")" --cache-dir "$T/cache" --drain 1 \
    2>"$T/serve.log" &
SPID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "FAIL serve did not start"; cat "$T/serve.log"; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"
python3 -c 'import base64, json, sys
print(json.dumps({"evidence": base64.b64encode(open(sys.argv[1], "rb").read()).decode()}))' \
    "$T/s/report.bin" >"$T/body.json"
curl -sS -m 60 -o "$T/answer" -w '%{http_code}\n' -H 'Content-Type: application/json' \
    --data-binary @"$T/body.json" "$URL/v1/verify" >"$T/code" 2>"$T/curl.err" &
CPID=$!
sleep 0.5
# SIGHUP (there is no reload) starts the drain as SIGTERM does, not an end by its default action
kill -HUP "$SPID"
wait "$SPID"
rc=$?
SPID=
wait "$CPID"
code=$(cat "$T/code")
[ "$rc" -eq 0 ] && ok "serve exited 0" || fail "serve exited $rc"
[ "$code" != 000 ] && [ -s "$T/answer" ] && grep -q '"request_id"\|"verdict"\|"error"' "$T/answer" &&
    ok "the answer reached the client after the drain time-out (HTTP $code)" ||
    fail "no answer after the drain time-out: HTTP $code $(cat "$T/curl.err")"
grep -q "drain time-out: waiting for 1 request(s) being answered" "$T/serve.log" &&
    ok "the log says it waited for the request being answered" ||
    fail "no wait in the log: $(cat "$T/serve.log")"
grep -q "verify status=$code " "$T/serve.log" &&
    ok "the request's log line is the status the client got ($code)" ||
    fail "the log line: $(grep verify "$T/serve.log")"
grep -q "SIGHUP: no new connections; draining 1 request(s)" "$T/serve.log" &&
    ok "SIGHUP drained as SIGTERM does" || fail "SIGHUP: $(head -3 "$T/serve.log")"
grep -q "stopped (drain time-out)" "$T/serve.log" && ok "stopped (drain time-out)" ||
    fail "no stop line: $(tail -3 "$T/serve.log")"
[ $fails -eq 0 ] && echo "all ok" || { echo "$fails failure(s)"; exit 1; }
