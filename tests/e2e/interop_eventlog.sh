#!/bin/sh
# TCG event-log replay against tpm2-tools' tpm2_eventlog: for each real TCG PC Client log in the
# shared vectors (tpm/eventlogs/*.bin from go-attestation and go-tpm-tools, and the GCP Shielded
# VM log of tpm/gcp-windows-quote-goattestation; MANIFEST.md), the final PCR values of every bank
# that `cvmattest eventlog --json` replays equal tpm2_eventlog's (tests/interop/pcrs_compare.py
# reads both outputs; PCRs without events must be at their initial values in ours). Negative: a
# copy of a log with one byte of an event's SHA-256 digest changed replays differently under
# tpm2_eventlog, and the comparison with our replay of the original fails (both tools still
# agree on the changed copy). The TDX CCEL (tdx/v4-gce-ccel-gotdxguest) is not compared:
# tpm2_eventlog reads only TPM logs (it refuses the CCEL's EV_NO_ACTION MR index).
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
V=${CVMATTEST_VECTORS:-}
command -v tpm2_eventlog >/dev/null 2>&1 ||
    { echo "interop_eventlog: SKIP: tpm2_eventlog not installed (make deps: tpm2-tools)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "interop_eventlog: SKIP: python3 not found"; exit 77; }
if [ -z "$V" ] || [ ! -d "$V/tpm/eventlogs" ]; then
    echo "interop_eventlog: SKIP: no shared test vectors with tpm/eventlogs (CVMATTEST_VECTORS unset or lacking them)"
    exit 77
fi
CMP="python3 $SRC/tests/interop/pcrs_compare.py"
T=$(mktemp -d /tmp/cvma-e2e-elint.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }

# replay NAME LOG: tpm2_eventlog's YAML in $T/NAME.yaml, cvmattest's JSON in $T/NAME.json
replay() {
    tpm2_eventlog "$2" >"$T/$1.yaml" 2>"$T/$1.yerr" ||
        { echo "FAIL: tpm2_eventlog $2"; cat "$T/$1.yerr"; fails=$((fails + 1)); }
    $CVM eventlog "$2" --json >"$T/$1.json" 2>"$T/$1.err" ||
        { echo "FAIL: cvmattest eventlog $2"; cat "$T/$1.err"; fails=$((fails + 1)); }
}

n=0
for log in "$V"/tpm/eventlogs/*.bin "$V/tpm/gcp-windows-quote-goattestation/eventlog.bin"; do
    [ -f "$log" ] || continue
    n=$((n + 1))
    replay "l$n" "$log"
    $CMP "$T/l$n.yaml" "$T/l$n.json" >"$T/l$n.cmp" 2>&1
    check "$(basename "$(dirname "$log")")/$(basename "$log"): $(tail -1 "$T/l$n.cmp" | sed 's/^[^:]*: //')" 0 $?
    grep '^DIFF' "$T/l$n.cmp"
done
# the oracle on a quote: tpm2_eventlog's replay of the GCP log is the 24 SHA-1 PCRs its signed
# quote covers (pcrs_sha1.json; the quote is checked by tests/e2e/interop_tpm.sh)
G=$V/tpm/gcp-windows-quote-goattestation
if [ -f "$G/pcrs_sha1.json" ] && [ -f "$G/eventlog.bin" ]; then
    replay gcp "$G/eventlog.bin"
    python3 -c 'import json, sys
json.dump({"pcrs": {"sha1": json.load(open(sys.argv[1]))}}, open(sys.argv[2], "w"))' \
        "$G/pcrs_sha1.json" "$T/gcp-quote.json"
    $CMP "$T/gcp.yaml" "$T/gcp-quote.json" "the quote" >"$T/gcp.cmp" 2>&1
    check "tpm2_eventlog's replay of the GCP log = the PCRs of its quote" 0 $?
    grep '^DIFF' "$T/gcp.cmp"
fi
[ $n -ge 7 ] || { echo "FAIL: $n event logs found, want the 7 of MANIFEST.md"; fails=$((fails + 1)); }

# Negative: one byte of the last SHA-256 event digest tpm2_eventlog lists, changed in a copy.
L=$V/tpm/eventlogs/gotpmtools-rhel8-uefi.bin
replay orig "$L"
python3 -c 'import re, sys
yaml, log, out = sys.argv[1:4]
d = re.findall(r"AlgorithmId: sha256\n\s+Digest: \"([0-9a-f]{64})\"", open(yaml).read())[-1]
b = bytearray(open(log, "rb").read())
at = b.find(bytes.fromhex(d))
assert at > 0 and b.count(bytes.fromhex(d)) == 1, "digest not found once"
b[at + 3] ^= 0x40
open(out, "wb").write(b)' "$T/orig.yaml" "$L" "$T/bad.bin" || exit 1
replay bad "$T/bad.bin"
$CMP "$T/bad.yaml" "$T/orig.json" >"$T/neg.cmp" 2>&1
check "a changed digest: tpm2_eventlog's replay differs from ours of the original" 1 $?
grep -q '^DIFF sha256 PCR' "$T/neg.cmp" || { echo "FAIL: no sha256 PCR named"; cat "$T/neg.cmp"; fails=$((fails + 1)); }
grep '^DIFF' "$T/neg.cmp"
$CMP "$T/bad.yaml" "$T/bad.json" >"$T/bad.cmp" 2>&1
check "a changed digest: both replay the changed copy alike" 0 $?

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
