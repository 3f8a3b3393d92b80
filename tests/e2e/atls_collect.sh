#!/bin/sh
# Attested TLS with collection as the evidence source (docs/atls.md, docs/collect.md):
#  - atls-server --collect through a configfs-tsm tree the simulator wrote, its template
#    without outblob, and a responder (below) standing for the TEE: it signs a report for
#    whatever REPORT_DATA collect writes to inblob; the client accepts (policy, registry);
#  - mutual mode: atls-client --mutual --collect, accepted by a --mutual server; a server's
#    lease on it (--client-lease) answered after its --handshake-timeout closes the connection,
#    one answered in time while the server made slow evidence for the client's own round (the
#    renewals crossing) does not;
#  - an outblob that is a FIFO nobody writes: that connection refused at once, the next served;
#  - a static tree (an outblob precomputed for another REPORT_DATA) is refused at start
#    (exit 1), and a machine with no CVM interfaces fails with what was looked for (exit 2).
# Needs CVMATTEST_BIN and python3 with cryptography (make deps).
set -u

skip() { echo "atls_collect: SKIP: $*" >&2; exit 77; }
[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography not installed (make deps)"

CVM=$CVMATTEST_BIN
. "$(dirname "$0")/lib/atls.sh"

# The TEE's stand-in: for each entry of TREE/report whose inblob holds 64 bytes not yet
# answered, the simulator's report of SIMDIR with REPORT_DATA = inblob, signed again with the
# run's VCEK key (sim --keep-keys), put into the entry as outblob (atomically); with a 5th
# argument, DELAY seconds after the inblob is seen (a slow TEE), from the answer numbered by a
# 6th (default 1: every answer); with a 7th, the answer numbered so is a FIFO made as outblob
# that nobody writes (a TEE that never answers, where a blocking open would wait for ever).
cat >"$T/responder.py" <<'PY'
import os, sys, time

tree, simdir, scratch, lib = sys.argv[1:5]
delay = float(sys.argv[5]) if len(sys.argv) > 5 else 0
slow_from = int(sys.argv[6]) if len(sys.argv) > 6 else 1
fifo_at = int(sys.argv[7]) if len(sys.argv) > 7 else 0
answers = 0
sys.path.insert(0, lib)
from snp_resign import load_key, resign  # noqa: E402  (tests/e2e/lib/snp_resign.py)

report = open(os.path.join(simdir, "report.bin"), "rb").read()
key = load_key(os.path.join(simdir, "vcek-key.pem"))
answered = {}
deadline = time.time() + 300
while time.time() < deadline:
    top = os.path.join(tree, "report")
    for name in os.listdir(top):
        entry = os.path.join(top, name)
        if name.startswith(".") or os.path.exists(os.path.join(entry, "outblob")):
            continue
        try:
            rd = open(os.path.join(entry, "inblob"), "rb").read()
        except OSError:
            continue
        if len(rd) != 64 or answered.get(name) == rd:
            continue
        answers += 1
        if answers >= slow_from:
            time.sleep(delay)
        if answers == fifo_at:
            os.mkfifo(os.path.join(entry, "outblob"))
            answered[name] = rd
            continue
        tmp = os.path.join(scratch, "outblob.tmp")
        open(tmp, "wb").write(resign(report, key, rd))
        try:
            os.replace(tmp, os.path.join(entry, "outblob"))
            answered[name] = rd
        except OSError:
            pass
    time.sleep(0.005)
PY

chip=$(printf '5a%.0s' $(seq 64)); chip2=$(printf '5b%.0s' $(seq 64))
M=$(printf 'ab%.0s' $(seq 48))
$CVM sim snp --out "$T/cvm" --chip-id "$chip" --measurement "$M" --keep-keys \
    --tsm-tree "$T/tsm" >/dev/null || { echo "FAIL: sim snp --tsm-tree"; exit 1; }
$CVM sim snp --out "$T/peer" --chip-id "$chip2" --measurement "$M" --keep-keys >/dev/null
cp -r "$T/tsm" "$T/static-tsm"
rm "$T/tsm/report/.template/outblob"
cp -r "$T/tsm" "$T/slow-tsm"
cp -r "$T/tsm" "$T/late-tsm"
cp -r "$T/tsm" "$T/fifo-tsm"
mkdir -p "$T/scratch" "$T/scratch-slow" "$T/scratch-late" "$T/scratch-fifo" "$T/none"
python3 -B "$T/responder.py" "$T/tsm" "$T/cvm" "$T/scratch" "$(cd "$(dirname "$0")/lib" && pwd)" &
pids="$pids $!"
python3 -B "$T/responder.py" "$T/slow-tsm" "$T/cvm" "$T/scratch-slow" \
    "$(cd "$(dirname "$0")/lib" && pwd)" 1.5 &
pids="$pids $!"
# a TEE that answers at once twice (a --collect client's check at start, its first evidence),
# then takes 1.5 s
python3 -B "$T/responder.py" "$T/late-tsm" "$T/cvm" "$T/scratch-late" \
    "$(cd "$(dirname "$0")/lib" && pwd)" 1.5 3 &
pids="$pids $!"
# a TEE whose second answer (the first connection's evidence, after the server's check at
# start) is a FIFO as outblob, never written
python3 -B "$T/responder.py" "$T/fifo-tsm" "$T/cvm" "$T/scratch-fifo" \
    "$(cd "$(dirname "$0")/lib" && pwd)" 0 1 2 &
pids="$pids $!"

$CVM registry keygen --out "$T/cloud" >/dev/null
printf 'amd chip_id %s region=eu-1\namd chip_id %s region=eu-2\n' "$chip" "$chip2" >"$T/fleet.txt"
$CVM registry build --provider cloud --key "$T/cloud.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 30 --out "$T/cloud.jws" >/dev/null || { echo "FAIL: registry build"; exit 1; }
printf '{"snp": {"measurements": ["%s"]}}\n' "$M" >"$T/want.json"
V="--trust-root $T/cvm/ark.pem --trust-root $T/peer/ark.pem --offline \
--provider cloud=$T/cloud.pub --registry $T/cloud.jws"
COLLECT="--collect --tsm-root $T/tsm --dev-root $T/none"

# --- the server's evidence collected through configfs-tsm: accepted, twice on one connection ---
server c $COLLECT --connections 1
$CVM atls-client --connect "127.0.0.1:$port" $V --policy "$T/want.json" --send hello \
    --reattest-every 1 --rounds 1 --json >"$T/c1.out" 2>&1
check "collected server evidence accepted" 0 $?
has "$T/c1.out" "attestation 1: affirming (sev-snp)"
has "$T/c1.out" "attestation 2: affirming (sev-snp)"
has "$T/c1.out" '"provider": "cloud"'
has "$T/c1.out" "reply: echo: hello"

# --- an outblob that is a FIFO nobody writes (a TEE stuck, or a tree someone else wrote): the
# server refuses that connection at once ("this end could not produce its evidence"), logs
# why, and serves the next one; collect never opens it and waits for a writer (it did, under
# the server's lock: every later connection got no evidence either, for ever) ---
server fifo --collect --tsm-root "$T/fifo-tsm" --dev-root "$T/none" --connections 2
start=$(date +%s%N)
timeout 20 $CVM atls-client --connect "127.0.0.1:$port" $V --timeout 8 >"$T/fifo1.c" 2>&1
check "a FIFO as outblob: the connection refused" 1 $?
has "$T/fifo1.c" "the peer refuses: refused: this end could not produce its evidence"
took=$(ms_since "$start")
[ "$took" -lt 5000 ] || { echo "FAIL: a FIFO as outblob: refused after $took ms"; fails=$((fails + 1)); }
wait_for "$T/fifo.err" "closing a connection: attestation 1: this end's evidence could not be made: .*outblob: cannot read: not a regular file"
timeout 20 $CVM atls-client --connect "127.0.0.1:$port" $V --timeout 8 >"$T/fifo2.c" 2>&1
check "a FIFO as outblob: the next connection served" 0 $?
has "$T/fifo2.c" "attestation 1: affirming (sev-snp)"

# --- mutual: the client's evidence collected; the server verifies it ---
server mu --sim "$T/peer" --mutual $V --connections 1
$CVM atls-client --connect "127.0.0.1:$port" $V --mutual $COLLECT --send hi >"$T/c2.out" 2>&1
check "mutual: collected client evidence accepted" 0 $?
has "$T/c2.out" "attestation 1: affirming (sev-snp)"
wait_for "$T/mu.out" "affirming (sev-snp)"

# --- --min-reattest-interval runs from the previous answer, not from the previous NONCE's
# arrival: evidence that takes 1.5 s (a slow TEE), then a NONCE at once, is too fast for an
# interval of 1 s ---
cat >"$T/again.py" <<'PY'
import os, socket, ssl, sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.environ["ATLS_LIB"])
from atls_frames import frame, read_frame  # noqa: E402  (tests/e2e/lib/atls_frames.py)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
s.settimeout(20)  # a server gone silent fails the check instead of hanging the test
for i in (1, 2):
    s.sendall(frame(1, os.urandom(32)))
    t, p = read_frame(s)
    print("again: nonce", i, "frame", t, p.decode("ascii", "replace") if t == 3 else "", flush=True)
PY
server slow --collect --tsm-root "$T/slow-tsm" --dev-root "$T/none" --min-reattest-interval 1 \
    --connections 1
python3 "$T/again.py" "$port" >"$T/again.out" 2>&1
has "$T/again.out" "again: nonce 1 frame 2"
has "$T/again.out" "again: nonce 2 frame 3 refused: ATLS_PROTOCOL_VIOLATION: too many NONCE frames: at most one every 1 s"

# --- the server's lease on a mutual client (--client-lease) answered late: the client's TEE
# answers for its first evidence at once and then takes 1.5 s, the renewal's evidence is due within
# --handshake-timeout 1 (as the first is): the server closes the connection, whatever the client
# does meanwhile ---
server late --sim "$T/peer" --mutual $V --client-lease 1 --handshake-timeout 1 --connections 1
$CVM atls-client --connect "127.0.0.1:$port" $V --mutual --collect --tsm-root "$T/late-tsm" \
    --dev-root "$T/none" --reattest-every 5 --rounds 1 >"$T/late.c" 2>&1
check "--client-lease: a renewal answered late closes the connection" 1 $?
wait_for "$T/late.err" "closing a connection: no evidence from the client within 1 s of its renewal's NONCE (--client-lease, --handshake-timeout)"
has "$T/late.out" "client: attestation 1: affirming (sev-snp)"
lacks "$T/late.out" "client: attestation 2"

# --- the two leases' renewals crossing: the server's renewal NONCE out, the client begins a
# round of its own first (the test-only --misbehave cross-renewal) and answers the NONCE inside
# it; the server's own evidence takes 1.5 s (a slow TEE), longer than --handshake-timeout 1,
# and the client's evidence, in the socket behind its NONCE all along, is on time: kept ---
server cross --collect --tsm-root "$T/slow-tsm" --dev-root "$T/none" --mutual $V \
    --client-lease 3 --handshake-timeout 1 --connections 1
$CVM atls-client --connect "127.0.0.1:$port" $V --mutual --sim "$T/peer" --reattest-every 30 \
    --rounds 1 --misbehave cross-renewal >"$T/cross.c" 2>&1
check "--client-lease: renewals crossing, the server's evidence slow: kept" 0 $?
has "$T/cross.c" "the renewals crossing"
has "$T/cross.c" "attestation 2: affirming (sev-snp)"
wait_for "$T/cross.out" "client: attestation 2: affirming (sev-snp)"
lacks "$T/cross.err" "closing a connection"

# --- a static tree cannot sign a new REPORT_DATA: refused at start ---
$CVM atls-server --collect --tsm-root "$T/static-tsm" --dev-root "$T/none" >"$T/s.out" 2>&1
check "static tree refused at start" 1 $?
has "$T/s.out" "does not carry"

# --- no CVM interfaces: exit 2 naming what was looked for ---
$CVM atls-server --collect --tsm-root "$T/none" --dev-root "$T/none" >"$T/n.out" 2>&1
check "no CVM: server" 2 $?
has "$T/n.out" "$T/none/report: absent"
has "$T/n.out" "$T/none/sev-guest: absent"
has "$T/n.out" "$T/none/tdx_guest: absent"
$CVM atls-client --connect 127.0.0.1:1 --mutual --collect --tsm-root "$T/none" \
    --dev-root "$T/none" $V >"$T/n2.out" 2>&1
check "no CVM: mutual client" 2 $?
has "$T/n2.out" "looked for configfs-tsm"
if [ ! -e /sys/kernel/config/tsm/report ] && [ ! -e /dev/sev-guest ] && [ ! -e /dev/tdx_guest ]; then
    $CVM atls-server --collect >"$T/r.out" 2>&1
    check "no CVM (this machine): server" 2 $?
    has "$T/r.out" "/sys/kernel/config/tsm/report: absent"
fi
$CVM atls-server --collect --sim "$T/cvm" >/dev/null 2>&1
check "--collect with --sim: usage" 2 $?
$CVM atls-server --sim "$T/cvm" --tsm-root "$T/tsm" >/dev/null 2>&1
check "--tsm-root without --collect: usage" 2 $?

[ $fails -eq 0 ] || { echo "atls_collect: $fails failure(s)"; exit 1; }
echo "atls_collect: all passed"
