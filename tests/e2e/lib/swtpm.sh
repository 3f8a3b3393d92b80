# Sourced by the e2e tests that run a real software TPM (swtpm on local TCP ports, state in a
# temporary directory); not a test itself (CMake registers tests/e2e/*.sh only).
# The sourcing script has checked its tools (exit 77 when one is missing). This makes T (a
# temporary directory, removed at exit with swtpm stopped), starts swtpm, waits for it and
# exports TPM2TOOLS_TCTI (also in TCTI); it defines t (run a tpm2 tool, stop the test when it
# fails, flush transient objects: there is no resource manager) and swtpm_ek_ak.
T=$(mktemp -d)
PIDF=$T/swtpm.pid
cleanup() {
    [ -s "$PIDF" ] && kill "$(cat "$PIDF")" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# swtpm's TCTI wants the control channel on the server port + 1: find two free ports. They are
# free when picked, but another process can take one before swtpm binds it: swtpm then exits
# at once (before it goes into the background), and two other ports are tried (3 times in all).
mkdir "$T/state"
for _try in 1 2 3; do
    PORT=$(python3 -c '
import socket
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
')
    swtpm socket --tpm2 --tpmstate dir="$T/state" --flags not-need-init,startup-clear \
        --server type=tcp,port="$PORT",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((PORT + 1)),bindaddr=127.0.0.1 \
        --daemon --pid file="$PIDF" --log file="$T/swtpm.log" 2>"$T/swtpm.err" && break
    # (said in its log, or on stderr before the log is open)
    if ! cat "$T/swtpm.err" "$T/swtpm.log" 2>/dev/null | grep -q "Address already in use" ||
        [ "$_try" = 3 ]; then
        echo "FAIL: swtpm did not start"; cat "$T/swtpm.err" "$T/swtpm.log" 2>/dev/null; exit 1
    fi
    rm -f "$T/swtpm.log"
    echo "note: port $PORT or $((PORT + 1)) was taken before swtpm bound it: others are tried"
done
TCTI="swtpm:host=127.0.0.1,port=$PORT"
export TPM2TOOLS_TCTI="$TCTI"
i=0
until tpm2_getrandom 8 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 300 ] && { echo "FAIL: swtpm does not answer"; cat "$T/swtpm.log"; exit 1; }
    sleep 0.1
done

t() { "$@" >"$T/tool.out" 2>&1 || { echo "FAIL: $*"; cat "$T/tool.out"; exit 1; }; tpm2_flushcontext -t >/dev/null 2>&1; }

# swtpm_ek_ak AKPUB [tpm2_createak options]: in the current directory, the EK (RSA template,
# ek.ctx, ek.pub) and an AK under it (RSA-2048, RSASSA-SHA256: ak.ctx, AKPUB, ak.name).
swtpm_ek_ak() {
    akpub=$1
    shift
    t tpm2_createek -c ek.ctx -G rsa -u ek.pub
    t tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u "$akpub" "$@" -n ak.name
}
