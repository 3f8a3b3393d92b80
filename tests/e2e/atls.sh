#!/bin/sh
# Attested TLS (docs/atls.md) on loopback, with the simulated TEE as the evidence source:
# accepted (SEV-SNP, TDX, mutual, two clients at once); refused for each reason, SEV-SNP and
# TDX: wrong measurement (policy), unregistered platform (registry), debug guest; relayed
# evidence (another session), reflected evidence (mutual mode, the peer echoing the client's
# own evidence), stale nonce (a re-attestation answered with the first evidence), a TLS 1.2
# peer (either end); and re-attestation as a lease, with the platform moving to a registered
# and to an unregistered machine, and another image on the same machine (MEASUREMENT_CHANGED:
# closed): the client's lease on the server, and the server's on a mutual client
# (--client-lease, the client moving or another image; a client keeping part of a frame in the
# server's TLS layer, or finishing a frame slowly, still asked and closed in time; a renewal
# refused after a verification past its deadline still tells the client why); the
# certificate-bound endpoint, through
# the client and through curl (other methods 404); no server accepting the connection (refused, or a listener
# that never accepts): exit 3; client options that would do nothing (--sim or --collect without
# --mutual, --rounds without --reattest-every, --cert-bound with --mutual, --reattest-every or
# --send, the test-only --misbehave modes without what they act on) are usage errors, and so
# are the server's (the verify options without --mutual, --relay with --sim, --switch-after
# without several --sim and several without it); a refusal arriving while the client awaits the
# reply to --send is reported as such; an end whose own evidence cannot be made (a simulator
# directory without its key) says so to its peer, not "refused", and a mutual client exits 2;
# a record the server never reads does not turn its close into a reset that drops its answer.
set -u
CVM=${CVMATTEST_BIN:?}
. "$(dirname "$0")/lib/atls.sh"


chip=$(printf '5a%.0s' $(seq 64)); chip2=$(printf '5b%.0s' $(seq 64))
other=$(printf '6b%.0s' $(seq 64)); ppid=$(printf '3c%.0s' $(seq 16))
M=$(printf 'ab%.0s' $(seq 48))
$CVM sim snp --out "$T/reg" --chip-id "$chip" --measurement "$M" --keep-keys >/dev/null
$CVM sim snp --out "$T/reg2" --chip-id "$chip2" --measurement "$M" --keep-keys >/dev/null
$CVM sim snp --out "$T/unreg" --chip-id "$other" --measurement "$M" --keep-keys >/dev/null
$CVM sim snp --out "$T/dbg" --chip-id "$chip" --debug --keep-keys >/dev/null
$CVM sim snp --out "$T/cli" --chip-id "$chip2" --measurement "$M" --keep-keys >/dev/null
# another image on the same machines: reg's chip and cli's, other measurements
$CVM sim snp --out "$T/regimg" --chip-id "$chip" --measurement "$(printf 'ee%.0s' $(seq 48))" \
    --keep-keys >/dev/null
$CVM sim snp --out "$T/cliimg" --chip-id "$chip2" --measurement "$(printf 'c1%.0s' $(seq 48))" \
    --keep-keys >/dev/null
MT=$(printf 'a7%.0s' $(seq 48)); ppid2=$(printf '4d%.0s' $(seq 16))
$CVM sim tdx --out "$T/td" --ppid "$ppid" --mr-td "$MT" --keep-keys >/dev/null
$CVM sim tdx --out "$T/tdu" --ppid "$ppid2" --mr-td "$MT" --keep-keys >/dev/null
$CVM sim tdx --out "$T/tdd" --ppid "$ppid" --mr-td "$MT" --debug --keep-keys >/dev/null
$CVM registry keygen --out "$T/cloud" >/dev/null
printf 'amd chip_id %s region=eu-1\namd chip_id %s region=eu-2\nintel ppid %s region=ap-3\n' \
    "$chip" "$chip2" "$ppid" >"$T/fleet.txt"
$CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 30 --out "$T/cloud.jws" >/dev/null || { echo "FAIL: registry build"; exit 1; }
printf '{"snp": {"measurements": ["%s"]}}\n' "$M" >"$T/want.json"
printf '{"snp": {"measurements": ["%s"]}}\n' "$(printf 'cd%.0s' $(seq 48))" >"$T/wrong.json"
printf '{"tdx": {"mr_td": ["%s"]}}\n' "$MT" >"$T/want-td.json"
printf '{"tdx": {"mr_td": ["%s"]}}\n' "$(printf 'cd%.0s' $(seq 48))" >"$T/wrong-td.json"
ROOTS="--trust-root $T/reg/ark.pem --trust-root $T/reg2/ark.pem --trust-root $T/unreg/ark.pem \
--trust-root $T/dbg/ark.pem --trust-root $T/cli/ark.pem --trust-root $T/regimg/ark.pem \
--trust-root $T/cliimg/ark.pem --trust-root $T/td/root_ca.pem \
--trust-root $T/tdu/root_ca.pem --trust-root $T/tdd/root_ca.pem"
V="$ROOTS --offline --provider cloud=$T/cloud.pub --registry $T/cloud.jws"
client() { $CVM atls-client --connect "127.0.0.1:$port" $V "$@"; }

# --- accepted ---
server ok --sim "$T/reg" --connections 1
client --policy "$T/want.json" --send hello --json >"$T/c1.out" 2>&1; check "SEV-SNP accepted" 0 $?
has "$T/c1.out" "attestation 1: affirming (sev-snp)"
has "$T/c1.out" '"provider": "cloud"'
has "$T/c1.out" "reply: echo: hello"
server td --sim "$T/td" --connections 1
client --policy "$T/want-td.json" --send hi --json >"$T/c2.out" 2>&1; check "TDX accepted" 0 $?
has "$T/c2.out" "attestation 1: affirming (tdx)"
has "$T/c2.out" '"provider": "cloud"'

# --- refused: policy, registry, debug ---
server m --sim "$T/reg" --connections 1
client --policy "$T/wrong.json" --send hello >"$T/c3.out" 2>&1; check "wrong measurement refused" 1 $?
has "$T/c3.out" POLICY_MEASUREMENT
lacks "$T/c3.out" "reply:"
server u --sim "$T/unreg" --connections 1
client >"$T/c4.out" 2>&1; check "unregistered platform refused" 1 $?
has "$T/c4.out" REGISTRY_PLATFORM_NOT_LISTED
server d --sim "$T/dbg" --connections 1
client >"$T/c5.out" 2>&1; check "debug guest refused" 1 $?
has "$T/c5.out" SNP_DEBUG_ALLOWED
# the same refusals for a TDX CVM: wrong MRTD, a machine (PPID) the provider does not list, a
# debug TD
server tm --sim "$T/td" --connections 1
client --policy "$T/wrong-td.json" --send hello >"$T/c3t.out" 2>&1
check "TDX: wrong measurement refused" 1 $?
has "$T/c3t.out" POLICY_MR_TD
lacks "$T/c3t.out" "reply:"
server tu --sim "$T/tdu" --connections 1
client --policy "$T/want-td.json" >"$T/c4t.out" 2>&1; check "TDX: unregistered platform refused" 1 $?
has "$T/c4t.out" REGISTRY_PLATFORM_NOT_LISTED
has "$T/c4t.out" "attestation 1: contraindicated (tdx)"
server tdd --sim "$T/tdd" --connections 1
client --policy "$T/want-td.json" >"$T/c5t.out" 2>&1; check "TDX: debug TD refused" 1 $?
has "$T/c5t.out" "error TDX_DEBUG"
has "$T/c5t.out" "attestation 1: contraindicated (tdx)"

# --- concurrent connections: a client holding a lease does not keep another out ---
# first_attested FILE: waits (10 s at most) until the client writing FILE has its first result.
first_attested() {
    for _ in $(seq 100); do
        grep -q "attestation 1:" "$1" && return 0
        sleep 0.1
    done
    echo "FAIL: no first attestation in $1"; fails=$((fails + 1))
}
server conc --sim "$T/reg" --connections 2
client --reattest-every 3 --rounds 1 >"$T/cA.out" 2>&1 &
apid=$!
pids="$pids $apid"
first_attested "$T/cA.out"
client --send second >"$T/cB.out" 2>&1; check "a second client while the first holds its lease" 0 $?
has "$T/cB.out" "reply: echo: second"
if kill -0 "$apid" 2>/dev/null; then
    echo "ok   the second client was served while the first was connected"
else
    echo "FAIL: the second client was served only after the first left"; fails=$((fails + 1))
fi
wait "$apid"; check "the first client, its lease renewed" 0 $?
has "$T/cA.out" "attestation 2: affirming"
# --max-connections 1: one at a time, a second client while the first holds its slot is
# refused at once (busy, exit 3), and served once the first has left
server one --sim "$T/reg" --connections 2 --max-connections 1
client --reattest-every 3 --rounds 1 >"$T/cC.out" 2>&1 &
apid=$!
pids="$pids $apid"
first_attested "$T/cC.out"
client --send second >"$T/cD.out" 2>&1; check "--max-connections 1: the second client, busy" 3 $?
has "$T/cD.out" "server closed the connection before the handshake completed (busy?)"
if kill -0 "$apid" 2>/dev/null; then
    echo "ok   --max-connections 1 refused the second client while the first held its slot"
else
    echo "FAIL: the first client left before the second was refused"; fails=$((fails + 1))
fi
wait "$apid"; check "--max-connections 1: the first client" 0 $?
client_when_free "$T/cD.out" --send second; check "--max-connections 1: the second client, later" 0 $?
has "$T/cD.out" "reply: echo: second"
$CVM atls-server --sim "$T/reg" --max-connections 0 >/dev/null 2>&1
check "--max-connections 0 is a usage error" 2 $?

# --- refused: relayed evidence (a genuine CVM's evidence, for the same nonce, from another
# session with another key) ---
server genuine --sim "$T/reg" --connections 1
gport=$port
server relay --relay "127.0.0.1:$gport" --connections 1
client >"$T/c6.out" 2>&1; check "relayed evidence refused" 1 $?
has "$T/c6.out" ATLS_EVIDENCE_NOT_BOUND
has "$T/c6.out" NONCE_REPORT_DATA_MISMATCH

# --- mutual mode: accepted; the client's debug evidence refused by the server ---
server mu --sim "$T/reg" --mutual $V --connections 1
client --mutual --sim "$T/cli" --send hi >"$T/c7.out" 2>&1; check "mutual accepted" 0 $?
has "$T/c7.out" "reply: echo: hi"
has "$T/mu.out" "client: attestation 1: affirming (sev-snp)"
server mu2 --sim "$T/reg" --mutual $V --connections 1
client --mutual --sim "$T/dbg" >"$T/c8.out" 2>&1; check "mutual: debug client refused" 1 $?
has "$T/c8.out" "the peer refuses: refused: SNP_DEBUG_ALLOWED"
has "$T/mu2.out" SNP_DEBUG_ALLOWED
# Without --mutual the client has no evidence to give.
server mu3 --sim "$T/reg" --mutual $V --connections 1
client >"$T/c9.out" 2>&1; check "mutual: client without evidence refused" 1 $?
# This end's own evidence that cannot be made (a simulator directory without its VCEK key) is
# this end's fault: the client exits 2 and tells the server so, not "refused"; the server's own
# in mutual mode is told to the client (which exits 1: it got no evidence), not a bare close.
cp -r "$T/cli" "$T/nokey" && rm "$T/nokey/vcek-key.pem"
server mu4 --sim "$T/reg" --mutual $V --connections 1
client --mutual --sim "$T/nokey" >"$T/c9b.out" 2>&1
check "mutual: the client's own evidence cannot be made: exit 2" 2 $?
has "$T/c9b.out" "this end's evidence could not be made: sim atls: .*lacks vcek-key.pem"
lacks "$T/c9b.out" "the peer refuses"
wait_for "$T/mu4.err" "the peer refuses: refused: this end could not produce its evidence$"
server mu5 --sim "$T/nokey" --mutual $V --connections 1
client --mutual --sim "$T/cli" >"$T/c9c.out" 2>&1
check "mutual: the server's own evidence cannot be made: refused (1)" 1 $?
has "$T/c9c.out" "the peer refuses: refused: this end could not produce its evidence$"
has "$T/mu5.out" "client: attestation 1: affirming (sev-snp)"
wait_for "$T/mu5.err" "closing a connection: attestation 1: this end's evidence could not be made: sim atls: .*lacks vcek-key.pem"

# --- refused: reflected evidence (the server sends the client's nonce back and echoes the
# client's own evidence as its own) ---
server refl --sim "$T/reg" --misbehave reflect --connections 1
client --mutual --sim "$T/reg2" >"$T/c10.out" 2>&1; check "reflected evidence refused" 1 $?
has "$T/c10.out" ATLS_EVIDENCE_REFLECTED
# ...and with one certificate and key at both ends, where the senders' keys are the same and
# only the role byte tells the client's binding from the server's (docs/atls.md, "Threat model")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=shared \
    -keyout "$T/shared.key" -out "$T/shared.pem" -days 1 >/dev/null 2>&1 ||
    { echo "FAIL: openssl req (shared key)"; exit 1; }
server reflsh --sim "$T/reg" --misbehave reflect --cert "$T/shared.pem" --key "$T/shared.key" \
    --connections 1
client --mutual --sim "$T/reg2" --cert "$T/shared.pem" --key "$T/shared.key" >"$T/c10s.out" 2>&1
check "reflected evidence refused, one key at both ends" 1 $?
has "$T/c10s.out" ATLS_EVIDENCE_REFLECTED

# --- refused: stale nonce (a re-attestation answered with the first evidence) ---
server stale --sim "$T/reg" --misbehave replay --connections 1
client --reattest-every 1 --rounds 1 >"$T/c11.out" 2>&1; check "stale nonce refused" 1 $?
has "$T/c11.out" "attestation 1: affirming"
has "$T/c11.out" ATLS_NONCE_STALE

# --- refused: TLS 1.2 peers ---
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=t12 \
    -keyout "$T/k.pem" -out "$T/c.pem" -days 1 >/dev/null 2>&1; then
    : >"$T/s12.out"
    # (s_server stops at the end of its standard input: keep it open a while)
    sleep 20 | openssl s_server -tls1_2 -accept 0 -naccept 2 -cert "$T/c.pem" -key "$T/k.pem" \
        >"$T/s12.out" 2>&1 &
    pids="$pids $!"
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T/s12.out" | head -n 1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    client >"$T/c12.out" 2>&1; check "TLS 1.2 server refused" 1 $?
    has "$T/c12.out" "refused: ATLS_TLS_VERSION: the session is TLSv1.2"
    # --cert-bound too checks the channel before it sends its request
    client --cert-bound --timeout 5 >"$T/c12b.out" 2>&1; check "TLS 1.2 server refused (--cert-bound)" 1 $?
    has "$T/c12b.out" "refused: ATLS_TLS_VERSION: the session is TLSv1.2"
    lacks "$T/c12b.out" "timed out"
    server t12 --sim "$T/reg" --connections 1
    openssl s_client -tls1_2 -connect "127.0.0.1:$port" </dev/null >"$T/s12c.out" 2>&1
    wait_for "$T/t12.err" "refused: ATLS_TLS_VERSION: the session is TLSv1.2"
    lacks "$T/t12.out" "attestation 1 sent"

    # --- certificate-bound mode: GET /.well-known/cvmattest/evidence?nonce=HEX; the evidence
    # binds the serving certificate (here a given one) and the nonce, not the session ---
    server cb --sim "$T/reg" --cert "$T/c.pem" --key "$T/k.pem" --connections 12
    client --cert-bound >"$T/c15.out" 2>&1; check "certificate-bound accepted" 0 $?
    has "$T/c15.out" "(certificate-bound): attestation 1: affirming"
    client --cert-bound --policy "$T/wrong.json" >"$T/c16.out" 2>&1
    check "certificate-bound: wrong measurement refused" 1 $?
    has "$T/c16.out" POLICY_MEASUREMENT
    if command -v curl >/dev/null 2>&1; then
        N=$(printf '4e%.0s' $(seq 24))
        code=$(curl -sk -o "$T/cb.json" -w '%{http_code}' \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence?nonce=$N")
        check "curl: evidence" 200 "$code"
        code=$(curl -sk -o /dev/null -w '%{http_code}' \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence?nonce=12")
        check "curl: a short nonce is 400" 400 "$code"
        code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/other")
        check "curl: another path is 404" 404 "$code"
        # the path matched exactly, the query parsed: no nonce is 400, other parameters ignored
        code=$(curl -sk -o /dev/null -w '%{http_code}' \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence")
        check "curl: no nonce is 400" 400 "$code"
        code=$(curl -sk -o /dev/null -w '%{http_code}' \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence?x=1&nonce=$N")
        check "curl: the nonce after another parameter" 200 "$code"
        code=$(curl -sk -o /dev/null -w '%{http_code}' \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence?nonce=$N&nonce=$N")
        check "curl: two nonces are 400" 400 "$code"
        code=$(curl -sk -o /dev/null -w '%{http_code}' \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidencex?nonce=$N")
        check "curl: a longer path is 404" 404 "$code"
        # another method (not only GET begins an HTTP request): 404, as documented, not a
        # connection closed without an answer
        code=$(curl -sk -o /dev/null -w '%{http_code}' -X POST --data x \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence?nonce=$N")
        check "curl: POST is 404" 404 "$code"
        code=$(curl -sk -I -o "$T/head.out" -w '%{http_code}' \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence?nonce=$N")
        check "curl: HEAD is 404" 404 "$code"
        lacks "$T/head.out" "not found"
        # a request head over 8 KiB: 431, not a connection closed without an answer
        code=$(curl -sk -o "$T/big.json" -w '%{http_code}' -H "X-Pad: $(printf 'a%.0s' $(seq 9000))" \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence?nonce=$N")
        check "curl: a request head over 8 KiB is 431" 431 "$code"
        has "$T/big.json" "the request head is over 8191 bytes"
        wait_for "$T/cb.err" "an HTTP request refused (431): its head is over 8191 bytes"
        lacks "$T/cb.err" "unknown frame type"
        # --mutual: the endpoint is off (it checks no client): 403, even with a certificate
        server cbm --sim "$T/reg" --mutual $V --connections 2
        code=$(curl -sk --cert "$T/c.pem" --key "$T/k.pem" -o "$T/cbm.json" -w '%{http_code}' \
            "https://127.0.0.1:$port/.well-known/cvmattest/evidence?nonce=$N")
        check "curl: --mutual server answers 403" 403 "$code"
        code=$(curl -sk --cert "$T/c.pem" --key "$T/k.pem" -o /dev/null -w '%{http_code}' \
            -X PUT --data x "https://127.0.0.1:$port/.well-known/cvmattest/evidence?nonce=$N")
        check "curl: --mutual server answers PUT 403" 403 "$code"
        has "$T/cbm.json" "certificate-bound endpoint is off"
        wait_for "$T/cbm.err" "refused (403)"
        lacks "$T/cbm.out" "certificate-bound evidence sent"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other \
            -keyout "$T/k2.pem" -out "$T/c2.pem" -days 1 >/dev/null 2>&1
        # The REPORT_DATA as docs/atls.md defines it, computed independently.
        bind() {
            openssl x509 -in "$1" -outform DER -out "$T/leaf.der"
            python3 -c 'import hashlib,sys
c = hashlib.sha256(open(sys.argv[1], "rb").read()).digest()
print(hashlib.sha512(b"cvmattest-atls-v1" + b"\x03" + c + bytes.fromhex(sys.argv[2])).hexdigest())' \
                "$T/leaf.der" "$N"
        }
        $CVM verify "$T/cb.json" $ROOTS --offline --report-data "$(bind "$T/c.pem")" \
            >"$T/c17.out" 2>&1
        check "curl evidence verifies against the serving certificate" 0 $?
        $CVM verify "$T/cb.json" $ROOTS --offline --report-data "$(bind "$T/c2.pem")" \
            >"$T/c18.out" 2>&1
        check "the same evidence for another certificate refused" 1 $?
        has "$T/c18.out" NONCE_REPORT_DATA_MISMATCH
    else
        echo "FAIL: curl not found (make deps installs it)"; fails=$((fails + 1))
    fi
else
    echo "FAIL: openssl cannot make a test certificate"; fails=$((fails + 1))
fi

# --- re-attestation as a lease: the platform moves ---
server mig --sim "$T/reg" --sim "$T/reg2" --switch-after 2 --connections 1
client --reattest-every 1 --rounds 2 --send ping >"$T/c13.out" 2>&1
check "migration to a registered machine: kept" 0 $?
has "$T/c13.out" "attestation 3: warning (sev-snp), valid until 20"
has "$T/c13.out" PLATFORM_CHANGED
has "$T/c13.out" "the server's platform changed"
[ "$(grep -c 'reply: echo: ping' "$T/c13.out")" = 3 ] || { echo "FAIL: 3 replies wanted"; fails=$((fails + 1)); }
server mig2 --sim "$T/reg" --sim "$T/unreg" --switch-after 1 --connections 1
client --reattest-every 1 --rounds 3 --send ping >"$T/c14.out" 2>&1
check "migration to an unregistered machine: closed" 1 $?
has "$T/c14.out" "attestation 1: affirming"
has "$T/c14.out" "attestation 2: contraindicated"
has "$T/c14.out" PLATFORM_CHANGED
has "$T/c14.out" REGISTRY_PLATFORM_NOT_LISTED
has "$T/c14.out" "closing the connection"
lacks "$T/c14.out" "attestation 3"
wait_for "$T/mig2.err" "the client refuses: refused: REGISTRY_PLATFORM_NOT_LISTED"
# another image on the same (registered) machine: MEASUREMENT_CHANGED, a warning, but within one
# TLS session the workload cannot change: the client refuses the renewal and closes
server img --sim "$T/reg" --sim "$T/regimg" --switch-after 1 --connections 1
client --reattest-every 1 --rounds 1 --send ping >"$T/c14i.out" 2>&1
check "another image on the same machine: closed" 1 $?
has "$T/c14i.out" "attestation 1: affirming (sev-snp), valid until"
has "$T/c14i.out" "attestation 2: warning (sev-snp)$"
has "$T/c14i.out" "warning MEASUREMENT_CHANGED: the measurement changed on amd chip_id 5a5a5a5a5a5a5a5a\.\.\. (registered with cloud): from $M to eeee"
has "$T/c14i.out" "the server's measurement changed (another image on this TLS session): closing the connection"
lacks "$T/c14i.out" PLATFORM_CHANGED
[ "$(grep -c 'reply: echo: ping' "$T/c14i.out")" = 1 ] || { echo "FAIL: 1 reply wanted"; fails=$((fails + 1)); }
wait_for "$T/img.err" "the client refuses: refused: MEASUREMENT_CHANGED"

# --- the server's lease on a mutual client (--client-lease 1: 1 s after each accepted result of
# the client, the server asks it again on the live connection; the client answers between its
# own re-attestations of the server, every 3 s here): the client moves mid-connection ---
# cl NAME ARGS...: a --mutual --client-lease 1 server NAME, then the client with ARGS (output in
# $T/NAME.c); the client's exit code
cl() {
    name=$1
    shift
    server "$name" --sim "$T/reg" --mutual $V --client-lease 1 --connections 1
    client --mutual --reattest-every 3 --rounds 1 "$@" >"$T/$name.c" 2>&1
    r=$?
    for _ in $(seq 100); do grep -q "client: attestation 2:" "$T/$name.out" && break; sleep 0.1; done
    return $r
}
# renewed on the same platform: kept, application data goes on
cl cl0 --sim "$T/cli" --send ping; check "--client-lease: renewed on the same platform" 0 $?
has "$T/cl0.c" "attested again, for the server's lease on this end"
[ "$(grep -c 'reply: echo: ping' "$T/cl0.c")" = 2 ] ||
    { echo "FAIL: 2 replies wanted"; cat "$T/cl0.c"; fails=$((fails + 1)); }
has "$T/cl0.out" "client: attestation 2: affirming (sev-snp)"
lacks "$T/cl0.out" "platform changed"
lacks "$T/cl0.err" "closing a connection"
# moved to another registered machine: PLATFORM_CHANGED (a warning), kept
cl cl1 --sim "$T/cli" --sim "$T/reg" --switch-after 1
check "--client-lease: the client moved to a registered machine: kept" 0 $?
has "$T/cl1.out" "client: attestation 2: warning (sev-snp)"
has "$T/cl1.out" PLATFORM_CHANGED
has "$T/cl1.out" "atls-server: the client's platform changed (a migration)$"
lacks "$T/cl1.err" "closing a connection"
# moved to a machine its provider does not list: the server refuses it and closes the connection
cl cl2 --sim "$T/cli" --sim "$T/unreg" --switch-after 1 --send ping
check "--client-lease: the client moved to an unregistered machine: closed" 1 $?
has "$T/cl2.c" "the peer refuses: refused: REGISTRY_PLATFORM_NOT_LISTED"
has "$T/cl2.out" "client: attestation 1: affirming (sev-snp)"
has "$T/cl2.out" "client: attestation 2: contraindicated (sev-snp)"
has "$T/cl2.out" PLATFORM_CHANGED
has "$T/cl2.out" REGISTRY_PLATFORM_NOT_LISTED
has "$T/cl2.out" "the client's platform changed (a migration); the new platform is refused: closing the connection"
has "$T/cl2.err" "closing a connection: the client's attestation 2 was refused"
lacks "$T/cl2.c" "attestation 2:"
# another image on the client's machine: MEASUREMENT_CHANGED, the server refuses it and closes
cl cl2i --sim "$T/cli" --sim "$T/cliimg" --switch-after 1 --send ping
check "--client-lease: another image on the client's machine: closed" 1 $?
has "$T/cl2i.c" "the peer refuses: refused: MEASUREMENT_CHANGED"
has "$T/cl2i.out" "client: attestation 2: warning (sev-snp)$"
has "$T/cl2i.out" "warning MEASUREMENT_CHANGED: the measurement changed on amd chip_id 5b5b5b5b5b5b5b5b"
has "$T/cl2i.out" "the client's measurement changed (another image on this TLS session): closing the connection"
lacks "$T/cl2i.out" PLATFORM_CHANGED
has "$T/cl2i.err" "closing a connection: the client's attestation 2 was refused: its measurement changed (MEASUREMENT_CHANGED)"
# the client's own evidence for the renewal cannot be made (it moved to a simulator directory
# without its key): its own fault, exit 2, and the server told so, not "refused"
server cl3 --sim "$T/reg" --mutual $V --client-lease 1 --connections 1
client --mutual --reattest-every 5 --rounds 1 --sim "$T/cli" --sim "$T/nokey" --switch-after 1 \
    >"$T/cl3.c" 2>&1
check "--client-lease: the client's own renewal evidence cannot be made: exit 2" 2 $?
has "$T/cl3.c" "this end's evidence could not be made: sim atls: .*lacks vcek-key.pem"
lacks "$T/cl3.c" "the peer refuses"
wait_for "$T/cl3.err" "the client refuses: refused: this end could not produce its evidence$"
# a client that keeps part of a frame in the server's TLS layer all the time (--misbehave
# straddle: each record the rest of one DATA frame and the first byte of the next, every 0.1 s)
# and answers nothing: the renewal is asked for when due all the same, and the connection
# closed at the client's second DATA frame after that (the lease ended; the first is held)
server st --sim "$T/reg" --mutual $V --client-lease 1 --handshake-timeout 1 --connections 1
client --mutual --sim "$T/cli" --misbehave straddle --timeout 8 >"$T/st.c" 2>&1
check "--client-lease: a client straddling its frames is asked for its renewal, then closed" 1 $?
has "$T/st.c" "a NONCE of the server, left unanswered"
has "$T/st.c" "the server closed the connection"
wait_for "$T/st.err" "closing a connection: ATLS_PROTOCOL_VIOLATION: DATA after the lease ended, before its renewal"
# a frame begun before the lease is due and finished slowly (--misbehave straddle-slow: a record
# every 4 s) is due within --handshake-timeout of the due time, not --idle-timeout (300 s)
server st2 --sim "$T/reg" --mutual $V --client-lease 1 --handshake-timeout 1 --connections 1
client --mutual --sim "$T/cli" --misbehave straddle-slow --timeout 12 >"$T/st2.c" 2>&1
check "--client-lease: a frame begun before the renewal is due cannot hold it off" 1 $?
has "$T/st2.c" "the server closed the connection"
lacks "$T/st2.c" "a NONCE of the server"
# a renewal refused after its verification ran past the renewal's deadline (the test-only
# atls-server --misbehave late-check, as collateral fetched online would make it): the refusal
# still reaches the client, which says why
server lc --sim "$T/reg" --mutual $V --client-lease 1 --handshake-timeout 1 --misbehave late-check \
    --connections 1
client --mutual --reattest-every 10 --rounds 1 --sim "$T/cli" --sim "$T/unreg" --switch-after 1 \
    >"$T/lc.c" 2>&1
check "--client-lease: a renewal refused after a slow verification: refused, the client told" 1 $?
has "$T/lc.c" "the peer refuses: refused: REGISTRY_PLATFORM_NOT_LISTED"
wait_for "$T/lc.err" "closing a connection: the client's attestation 2 was refused"
# a renewal accepted after its verification ran past the renewal's deadline (late-check again,
# the client on its own platform): its evidence came in time, so it is kept, but the result's
# line says it was verified after the deadline and by how much (late-check: 1 s past it)
server la --sim "$T/reg" --mutual $V --client-lease 1 --handshake-timeout 2 --misbehave late-check \
    --connections 1
client --mutual --reattest-every 3 --rounds 1 --sim "$T/cli" --send ping >"$T/la.c" 2>&1
check "--client-lease: a renewal accepted after a slow verification: kept" 0 $?
has "$T/la.c" "attested again, for the server's lease on this end"
wait_for "$T/la.out" "client: attestation 2: affirming (sev-snp), verified 1\.[0-9]* s after the renewal's deadline (its evidence came [0-9.]* s before it: on time)"
has "$T/la.out" "client: attestation 1: affirming (sev-snp)$"
lacks "$T/la.err" "closing a connection"
# the server's refusal arriving while the client waits for the reply to --send: the renewals
# crossing (--misbehave cross-renewal: the client begins its own round when the server's NONCE
# comes and answers it inside), the server refuses the client's new platform after the client
# has sent its DATA: the client says why, as between attestations
server cx --sim "$T/reg" --mutual $V --client-lease 2 --connections 1
client --mutual --reattest-every 30 --rounds 1 --sim "$T/cli" --sim "$T/unreg" --switch-after 1 \
    --send ping --misbehave cross-renewal >"$T/cx.c" 2>&1
check "--client-lease: refused while the client awaits its reply to --send: refused" 1 $?
has "$T/cx.c" "the renewals crossing"
has "$T/cx.c" "attestation 2: affirming (sev-snp)"
has "$T/cx.c" "the peer refuses: refused: REGISTRY_PLATFORM_NOT_LISTED"
lacks "$T/cx.c" "no reply to the application data"
wait_for "$T/st2.err" "closing a connection: a frame begun before the client's renewal was due, not finished within 1 s of that (--client-lease, --handshake-timeout)"
$CVM atls-server --sim "$T/reg" --client-lease 1 >"$T/u.out" 2>&1
check "--client-lease without --mutual: usage" 2 $?
has "$T/u.out" "--client-lease goes with --mutual"

# --- the lease in each accepted result's JSON: valid until the result's time + --reattest-every
# + --timeout (the same instant as the summary line); null without --reattest-every; none on a
# refused result ---
# leases FILE: one line per result JSON in FILE: its status and its lease as JSON (or "none").
leases() {
    python3 -c 'import json, sys
text, dec, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0
while True:
    i = text.find("\n{", i)
    if i < 0:
        break
    o, end = dec.raw_decode(text, i + 1)
    print(o["status"], json.dumps(o["lease"]) if "lease" in o else "none")
    i = end' "$1"
}
# epoch TIME: seconds since 1970 of an RFC 3339 UTC time
epoch() { python3 -c 'import calendar, sys, time
print(calendar.timegm(time.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ")))' "$1"; }
server lease --sim "$T/reg" --connections 1
t0=$(date +%s)
client --reattest-every 2 --rounds 1 --timeout 5 --json >"$T/c19.out" 2>&1
check "a lease in each result" 0 $?
t1=$(date +%s)
leases "$T/c19.out" >"$T/c19.leases"
[ "$(grep -c '"reattest_every": 2' "$T/c19.leases")" = 2 ] ||
    { echo "FAIL: 2 leases of 2 s wanted"; cat "$T/c19.leases"; fails=$((fails + 1)); }
n=0
for u in $(sed -n 's/.*"valid_until": "\([^"]*\)".*/\1/p' "$T/c19.leases"); do
    n=$((n + 1))
    has "$T/c19.out" "attestation $n: affirming (sev-snp), valid until $u"
    e=$(epoch "$u")
    # made between t0 and t1 (whole seconds), valid 2 + 5 s after, rounded up to a second
    if [ "$e" -ge $((t0 + 7)) ] && [ "$e" -le $((t1 + 8)) ]; then
        echo "ok   lease $n ends 7 s after its result ($u)"
    else
        echo "FAIL: lease $n ends at $u ($e), want $((t0 + 7)) to $((t1 + 8))"; fails=$((fails + 1))
    fi
    [ "$n" = 1 ] && first=$e
done
[ "$n" = 2 ] && [ "$e" -ge $((first + 2)) ] ||
    { echo "FAIL: the renewal's lease does not end 2 s after the first ($n leases)"; fails=$((fails + 1)); }
server lease2 --sim "$T/reg" --connections 1
client --json >"$T/c20.out" 2>&1; check "without --reattest-every: accepted" 0 $?
has "$T/c20.out" "valid until the end of the connection"
leases "$T/c20.out" >"$T/c20.leases"
has "$T/c20.leases" '^affirming {"valid_until": null, "reattest_every": null}$'
server lease3 --sim "$T/reg" --connections 1
client --reattest-every 2 --policy "$T/wrong.json" --json >"$T/c21.out" 2>&1
check "a refused result: no lease" 1 $?
leases "$T/c21.out" >"$T/c21.leases"
has "$T/c21.leases" "^contraindicated none$"
lacks "$T/c21.out" '"lease"'
# a renewal verified after the lease it renews ran out (--misbehave late-renewal: the client
# waits the lease out after the renewal's verification, as a slow verification would): the
# connection is closed with an ERROR frame the server receives, exit 3
server lease4 --sim "$T/reg" --connections 1
client --reattest-every 1 --rounds 1 --timeout 2 --misbehave late-renewal >"$T/c22.out" 2>&1
check "a renewal verified after its lease ran out: exit 3" 3 $?
has "$T/c22.out" "attestation 2 was verified after the lease of attestation 1 ended"
wait_for "$T/lease4.err" "the client refuses: refused: the lease ran out before its renewal was verified"
$CVM atls-client --connect 127.0.0.1:1 --misbehave reflect >/dev/null 2>&1
check "client --misbehave reflect: usage" 2 $?
$CVM atls-server --sim "$T/reg" --mutual --misbehave late-check >"$T/u.out" 2>&1
check "server --misbehave late-check without --client-lease: usage" 2 $?
has "$T/u.out" "--misbehave late-check goes with --client-lease"

# --- the server's close: bytes of the client it never reads (a record after the request) do not
# turn its close into a reset: it sends its answer and close_notify, shuts its side, reads and
# drops what still comes, and closes when the client does. A close with them unread would
# send a TCP reset, which drops whatever is still queued (the answer's last record, held back
# by Nagle's algorithm: the ERROR text of a refusal once, in CI) ---
server lg --sim "$T/reg" --connections 1
python3 - "$port" >"$T/lg.c" 2>&1 <<'PY'
import json, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20),
                    suppress_ragged_eofs=False)
t.sendall(b"GET /.well-known/cvmattest/evidence?nonce=" + b"4e" * 24 + b" HTTP/1.1\r\n"
          b"Host: x\r\n\r\n")
t.sendall(b"x" * 100)  # a record of its own: the server reads the request's only
data, end = b"", "?"
try:
    while True:
        b = t.recv(65536)
        if not b:
            end = "closed (close_notify)"
            break
        data += b
except ConnectionResetError:
    end = "reset"
except ssl.SSLError as e:
    end = "TLS error: %s" % type(e).__name__
head, _, body = data.partition(b"\r\n\r\n")
print("head:", head.split(b"\r\n")[0].decode())
print("body:", "JSON" if body and json.loads(body) is not None else "none")
print("end:", end)
PY
check "a request followed by bytes the server never reads: answered" 0 $?
has "$T/lg.c" "head: HTTP/1.1 200 OK"
has "$T/lg.c" "body: JSON"
has "$T/lg.c" "end: closed (close_notify)"

# --- no server accepts the connection: could not decide (3), not a usage error ---
# a port nobody listens on: refused at once, not after --timeout (20 s; the client's own start-up
# takes up to 2 s on a loaded machine with a sanitized build). The port is held bound, not
# listening, meanwhile (lib/ports.sh): a port merely free when picked could be taken by another
# process before the client connects, which would then reach that process.
. "$(dirname "$0")/lib/ports.sh"
hold_port "$T/free.port"
pids="$pids $HOLDER"
free=$HELD
t0=$(date +%s%N)
$CVM atls-client --connect "127.0.0.1:$free" $V --timeout 20 >"$T/c23.out" 2>&1
check "a refused connection: exit 3" 3 $?
ms=$(ms_since "$t0")
release_port
has "$T/c23.out" "cannot connect to 127.0.0.1:$free: Connection refused"
[ "$ms" -le 10000 ] || { echo "FAIL: a refused connection took $ms ms (--timeout 20)"; fails=$((fails + 1)); }
# a listener that never accepts, its backlog full: the connect waits out --timeout
: >"$T/full.out"
python3 -c 'import socket, time
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(0)
fill = []
for _ in range(4):  # more than the backlog holds: further SYNs are dropped
    c = socket.socket(); c.setblocking(False); c.connect_ex(ls.getsockname()); fill.append(c)
time.sleep(0.5)
print("listening 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
time.sleep(30)' >"$T/full.out" 2>&1 &
pids="$pids $!"
if listening_port "$T/full.out" 100; then
    t0=$(date +%s%N)
    client --timeout 2 >"$T/c24.out" 2>&1; check "a listener that never accepts: exit 3" 3 $?
    ms=$(ms_since "$t0")
    has "$T/c24.out" "cannot connect to 127.0.0.1:$port: no answer in time (--timeout)"
    # about 2 s and the client's start-up (up to 2 s loaded): well before the listener goes
    # away (30 s), which is when a client waiting on for the connect would end
    [ "$ms" -ge 1900 ] && [ "$ms" -le 12000 ] ||
        { echo "FAIL: the client gave up after $ms ms, want about 2000"; fails=$((fails + 1)); }
    client --cert-bound --timeout 2 >"$T/c24b.out" 2>&1; check "a listener that never accepts (--cert-bound): exit 3" 3 $?
else
    echo "FAIL: the full listener did not start"; cat "$T/full.out"; fails=$((fails + 1))
fi
# the connect and the handshake share --timeout: a listener whose backlog is full until the
# client's SYN has been sent again (the listener sees it in /proc/net/tcp), then accepts every
# connection and never shakes hands. The kernel sends a SYN again after 1 s, then after 1 s
# more with linear SYN time-outs (net.ipv4.tcp_syn_linear_timeouts) and 2 s more without: the
# backlog is freed after the second SYN sent again, or the first without them, and the connect
# ends 3 s after it began either way. With --timeout 6 the client gives up 6 s after its connect
# began; a handshake given a --timeout of its own after the connect would end 9 s after it. The
# listener times that itself, from when it first saw the client's SYN to the client's close: the
# client's start-up (up to 2 s on a loaded machine with a sanitized build) is not in it.
cat >"$T/late.py" <<'EOF2'
import socket, sys, time
try:
    linear = int(open("/proc/sys/net/ipv4/tcp_syn_linear_timeouts").read()) >= 2
except (OSError, ValueError):
    linear = False
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(0)
port = ls.getsockname()[1]
fill = []
for _ in range(4):  # more than the backlog holds: further SYNs are dropped
    c = socket.socket(); c.setblocking(False); c.connect_ex(("127.0.0.1", port)); fill.append(c)
time.sleep(0.5)
mine = {c.getsockname()[1] for c in fill}
print("listening 127.0.0.1:%d" % port, flush=True)
def client_syn():
    """(local port, SYNs sent again) of a connection to port in SYN-SENT, not one of fill's."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            x = line.split()
            lp, rp = int(x[1].split(":")[1], 16), int(x[2].split(":")[1], 16)
            if x[3] == "02" and rp == port and lp not in mine:
                return lp, int(x[6], 16)
    return None, 0
end = time.monotonic() + 60
cport, again, seen = None, 0, None
while again < (2 if linear else 1) and time.monotonic() < end:
    cport, again = client_syn()
    if cport is not None and seen is None:
        seen = time.monotonic()  # its connect began (within the 20 ms between looks)
    time.sleep(0.02)
if seen is None or again < (2 if linear else 1):
    print("the client's SYN was not seen sent again (port %s, %d times)" % (cport, again), flush=True)
    sys.exit(1)
ls.listen(16)  # room in the backlog: the client's next SYN is answered
ls.settimeout(0.05)
held, conn = [], None
while conn is None and time.monotonic() < end:  # every connection accepted, none shaken hands with
    try:
        c, a = ls.accept()
    except socket.timeout:
        continue
    held.append(c)
    if a[1] == cport:
        conn, accepted = c, time.monotonic()
if conn is None:
    print("the client's connection never came", flush=True)
    sys.exit(1)
conn.settimeout(30)
try:
    while conn.recv(4096):  # its ClientHello, then its close
        pass
except OSError:
    pass
print("the connect took %.2f s; the client closed %.2f s after it began"
      % (accepted - seen, time.monotonic() - seen), flush=True)
EOF2
: >"$T/late.out"
python3 "$T/late.py" >"$T/late.out" 2>&1 &
pids="$pids $!"
# the client's own start-up and exit: a run refused at once, just before
t0=$(date +%s%N)
$CVM atls-client --connect "127.0.0.1:$free" $V --timeout 6 >/dev/null 2>&1
base=$(ms_since "$t0")
if listening_port "$T/late.out" 100; then
    t0=$(date +%s%N)
    client --timeout 6 >"$T/c24c.out" 2>&1; check "a connect in 3 s, then no handshake: exit 3" 3 $?
    ms=$(ms_since "$t0")
    has "$T/c24c.out" "the connect and the TLS handshake took over 6 s (--timeout)"
    for _ in $(seq 100); do grep -q "the client closed" "$T/late.out" && break; sleep 0.1; done
    took=$(sed -n 's/^the connect took \([0-9.]*\) s; .*/\1/p' "$T/late.out")
    after=$(sed -n 's/.* the client closed \([0-9.]*\) s after it began$/\1/p' "$T/late.out")
    # about 6 s, not the connect's 3 s more (--timeout counted again from the connect); the
    # check tells the two apart only when the connect took long enough
    if [ -n "$after" ] && awk -v a="$after" -v c="$took" 'BEGIN { exit !(c >= 2 && a >= 5 && a <= 7) }'; then
        echo "ok   the client gave up $after s after its connect began, which took $took s (--timeout covers the connect and the handshake together)"
    else
        echo "FAIL: the client gave up '$after' s after its connect began, want about 6 (--timeout covers the connect and the handshake together), the connect taking 2 s or more ('$took')"
        cat "$T/late.out"; fails=$((fails + 1))
    fi
    # and its whole run: --timeout and the start-up of a run refused at once
    [ "$ms" -le $((6000 + base + 1500)) ] ||
        { echo "FAIL: the client gave up after $ms ms, want about 6000 + $base (a refused run)"; fails=$((fails + 1)); }
else
    echo "FAIL: the late listener did not start"; cat "$T/late.out"; fails=$((fails + 1))
fi

# --- usage ---
$CVM atls-client --connect 127.0.0.1 $V >"$T/c25.out" 2>&1; check "client --connect without a port" 2 $?
has "$T/c25.out" "not HOST:PORT"
$CVM atls-server --listen 127.0.0.1:0 >/dev/null 2>&1; check "server without --sim" 2 $?
# an IPv6 HOST:PORT in brackets is an address (nobody listens there: 3), not a usage error
$CVM atls-client --connect "[::1]:$free" $V --timeout 5 >"$T/c25b.out" 2>&1
check "client --connect [::1]:PORT: not a usage error" 3 $?
lacks "$T/c25b.out" "not HOST:PORT"
$CVM atls-client --connect "[::1:$free" $V >"$T/c25c.out" 2>&1; check "client --connect [::1:PORT" 2 $?
has "$T/c25c.out" "not HOST:PORT"
# a --sim DIR without the simulator's report or quote: refused at start (2), before any
# connection is served or made
timeout 10 $CVM atls-server --listen 127.0.0.1:0 --sim "$T/none" >"$T/c25d.out" 2>&1
check "server --sim without a report: exit 2 at start" 2 $?
has "$T/c25d.out" "no readable report.bin or quote.bin"
lacks "$T/c25d.out" "^listening"
$CVM atls-client --connect "127.0.0.1:$free" $V --mutual --sim "$T/none" >"$T/c25e.out" 2>&1
check "client --mutual --sim without a report: exit 2 at start" 2 $?
has "$T/c25e.out" "no readable report.bin or quote.bin"
lacks "$T/c25e.out" "cannot connect"
$CVM atls-client >/dev/null 2>&1; check "client without --connect" 2 $?
$CVM atls-client --help >/dev/null; check "client --help" 0 $?
# options that would do nothing are refused, never ignored (a port nobody listens on: a client
# that parsed them would get exit 3)
# usage_error WANT ARGS...: atls-client ARGS exits 2 saying WANT
usage_error() {
    want=$1
    shift
    $CVM atls-client --connect "127.0.0.1:$free" $V "$@" >"$T/u.out" 2>&1
    check "atls-client $*: usage" 2 $?
    has "$T/u.out" "$want"
}
usage_error "they go with --mutual" --sim "$T/cli"
usage_error "they go with --mutual" --collect
usage_error "they go with --mutual" --collect --tsm-root "$T/none" --dev-root "$T/none"
usage_error "--rounds goes with --reattest-every" --rounds 2
usage_error "--cert-bound and --mutual do not go together" --cert-bound --mutual --sim "$T/cli"
usage_error "--cert-bound holds no connection" --cert-bound --reattest-every 1
usage_error "--cert-bound holds no connection" --cert-bound --send hi
usage_error "--misbehave straddle goes with --mutual" --misbehave straddle
usage_error "--misbehave straddle-slow goes with --mutual" --mutual --sim "$T/cli" \
    --misbehave straddle-slow --send hi
usage_error "--misbehave cross-renewal goes with --mutual and --reattest-every" --mutual \
    --sim "$T/cli" --misbehave cross-renewal
usage_error "--misbehave late-renewal goes with --reattest-every" --misbehave late-renewal
# the server's too: the verify options without --mutual (it verifies no client then), --relay
# with --sim, --switch-after without several --sim, several --sim without --switch-after (under
# timeout: a server that parsed them would listen until killed)
# server_usage_error WANT ARGS...: atls-server ARGS exits 2 saying WANT
server_usage_error() {
    want=$1
    shift
    timeout 10 $CVM atls-server "$@" >"$T/u.out" 2>&1
    check "atls-server $*: usage" 2 $?
    has "$T/u.out" "$want"
}
for opt in "--trust-root $T/reg/ark.pem" "--collateral $T/reg" --offline "--policy $T/want.json" \
    "--provider cloud=$T/cloud.pub" "--registry $T/cloud.jws" --json; do
    # shellcheck disable=SC2086 # an option and its value
    server_usage_error "${opt%% *} goes with --mutual: it is for verifying the client" \
        --sim "$T/reg" $opt
done
server_usage_error "--relay or --sim, not both" --relay 127.0.0.1:1 --sim "$T/reg"
server_usage_error "--switch-after goes with several --sim DIR" --sim "$T/reg" --switch-after 1
server_usage_error "--switch-after goes with several --sim DIR" --relay 127.0.0.1:1 \
    --switch-after 1
server_usage_error "--switch-after goes with several --sim DIR" --collect --switch-after 1
server_usage_error "several --sim DIR need --switch-after N" --sim "$T/reg" --sim "$T/reg2"

echo "$fails failure(s)"
[ "$fails" = 0 ]
