#!/bin/sh
# cvmattest eventlog and show on event logs: the CLI's output shape, the comparison with
# quoted values (exit 0 / 1 with EVENTLOG_REPLAY_MISMATCH), malformed logs refused by name.
# Synthetic logs come from fuzz/corpus/eventlog; real ones from the shared vectors.
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
V=${CVMATTEST_VECTORS:-}
C=$SRC/fuzz/corpus/eventlog
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not found"; exit 77; }

$CVM eventlog --help >/dev/null || fail "eventlog --help"
$CVM eventlog >/dev/null 2>&1; [ $? = 2 ] || fail "eventlog without FILE: exit 2"
$CVM eventlog "$C/tcg_sha256" --format=bogus >/dev/null 2>&1; [ $? = 2 ] || fail "bad --format: exit 2"

# JSON shape: events, pcrs by bank and index, claims.
$CVM eventlog "$C/tcg_sha256" --json >"$T/out.json" 2>"$T/err" || fail "eventlog --json exit"
[ "$(jq -r '.format' "$T/out.json")" = tcg ] || fail "format tcg"
[ "$(jq -r '.pcrs.sha256["0"]' "$T/out.json")" = \
  0000000000000000000000000000000000000000000000000000000000000003 ] || fail "StartupLocality 3 in PCR 0"
[ "$(jq -r '.pcrs.sha256["17"]' "$T/out.json" | tr -d f)" = "" ] || fail "PCR 17 starts at 0xFF"
# (its PCR 8 event's digest is not the hash of the text it carries: that text is no claim, the
# event may hide another one; the event list shows it)
[ "$(jq -r '.claims.kernel_cmdline' "$T/out.json")" = null ] || fail "kernel_cmdline not claimed"
jq -e '[.events[].text] | index("kernel_cmdline: /vmlinuz ro quiet") != null' "$T/out.json" \
    >/dev/null || fail "the command line event listed"
[ "$(jq -r '.claims.secure_boot.enabled' "$T/out.json")" = true ] || fail "secure_boot.enabled"
grep -q EVENTLOG_DUPLICATE_SEPARATOR "$T/err" || fail "duplicate separator noted"
jq -e '.reasons | map(select(.code == "EVENTLOG_DUPLICATE_SEPARATOR" and .severity == "info"
       and (.detail | length) > 0)) | length > 0' "$T/out.json" >/dev/null ||
    fail "the JSON's reasons carry the duplicate separator: $(jq -c .reasons "$T/out.json")"
ok "eventlog --json: events, pcrs, claims, quirks noted (on stderr and in .reasons)"
# A log refused: with --json, the JSON says why (claims null, the reasons), exit 1.
head -c 200 "$C/tcg_sha256" >"$T/cut.bin"
$CVM eventlog "$T/cut.bin" --json >"$T/cut.json" 2>"$T/err"
rc=$?
# (jq -e of no input at all is true: the JSON must be there)
[ $rc = 1 ] && [ -s "$T/cut.json" ] && jq -e '.format == "auto" and .claims == null and (.events | not) and
       (.reasons | length > 0 and all(.code | startswith("EVENTLOG_"))) and
       (.reasons[0].severity == "error")' "$T/cut.json" >/dev/null &&
    grep -q "$(jq -r '.reasons[0].code' "$T/cut.json")" "$T/err" &&
    ok "eventlog --json of a refused log: exit 1, the reasons in the JSON" ||
    fail "eventlog --json of a refused log: exit $rc, $(head -c 300 "$T/cut.json")"
jq '{sha256: .pcrs.sha256}' "$T/out.json" >"$T/own.json"
$CVM eventlog "$T/cut.bin" --json --format tcg --pcrs "$T/own.json" >"$T/cut.json" 2>/dev/null
[ -s "$T/cut.json" ] && jq -e '.format == "tcg" and .matches_quote == false and .claims == null and
       (.reasons | length > 0)' "$T/cut.json" >/dev/null &&
    ok "eventlog --json --pcrs of a refused log: matches_quote false, the reasons" ||
    fail "eventlog --json --pcrs of a refused log: $(head -c 300 "$T/cut.json")"

# Compare with PCR values: its own replay matches; one changed value is refused by name.
# This synthetic log's variable, GPT and command-line events (PCR 5, 7, 8) carry data their
# digests are not the hash of: compared, they are refused as verification refuses them, and
# the claims are left out; compared over PCR 0..4 alone, the claims are those of PCR 0..4.
jq '{sha256: .pcrs.sha256}' "$T/out.json" >"$T/pcrs.json"
jq '{sha256: (.pcrs.sha256 | with_entries(select((.key | tonumber) < 5)))}' "$T/out.json" \
    >"$T/pcrs04.json"
$CVM eventlog "$C/tcg_sha256" --pcrs "$T/pcrs04.json" --json >"$T/cmp.json" 2>"$T/err" ||
    fail "own replay of PCR 0..4 must match"
jq -e '.matches_quote == true and .claims.kernel_cmdline == null and
       .claims.secure_boot.enabled == null and .claims.gpt == null' "$T/cmp.json" >/dev/null ||
    fail "claims of a comparison over PCR 0..4: only theirs ($(jq -c .claims "$T/cmp.json"))"
$CVM eventlog "$C/tcg_sha256" --pcrs "$T/pcrs.json" --json >"$T/cmp.json" 2>"$T/err"
rc=$?
[ $rc = 1 ] && grep -q 'EVENTLOG_EVENT_DATA_MISMATCH: event #7 EV_IPL' "$T/err" &&
    jq -e '.matches_quote == true and .claims == null and
           (.reasons | map(select(.code == "EVENTLOG_EVENT_DATA_MISMATCH" and
                                  .severity == "error" and
                                  (.detail | startswith("event #7 EV_IPL")))) | length > 0)' \
        "$T/cmp.json" >/dev/null ||
    fail "own replay of every PCR: exit $rc, want 1 with the changed event data named (also in .reasons), no claims"
ok "eventlog --pcrs --json: claims only from the compared PCRs, event data checked"
jq '.sha256["8"] = "00000000000000000000000000000000000000000000000000000000000000ff"' \
    "$T/pcrs.json" >"$T/bad.json"
$CVM eventlog "$C/tcg_sha256" --pcrs "$T/bad.json" >/dev/null 2>"$T/err"
[ $? = 1 ] || fail "changed PCR 8: exit 1"
grep -q 'EVENTLOG_REPLAY_MISMATCH: sha256 bank: PCR 8 differs.*#7 EV_IPL' "$T/err" ||
    { fail "mismatch names bank and event"; cat "$T/err"; }
ok "eventlog --pcrs: match, and a mismatch names the bank and first event"
# output that cannot be written whole: exit 2, never the comparison's code
if [ -w /dev/full ]; then
    $CVM eventlog "$C/tcg_sha256" --pcrs "$T/pcrs.json" --json >/dev/full 2>"$T/err"
    [ $? = 2 ] && grep -q "could not be written" "$T/err" && ok "eventlog --json to a full disk: exit 2" ||
        fail "eventlog --json to a full disk"
    $CVM eventlog "$C/tcg_sha256" --pcrs "$T/pcrs.json" >/dev/full 2>"$T/err"
    [ $? = 2 ] && grep -q "could not be written" "$T/err" && ok "eventlog (text) to a full disk: exit 2" ||
        fail "eventlog (text) to a full disk"
fi
# PCR values that name nothing compare nothing: refused (exit 2), never "matches"
echo '{}' >"$T/none.json"
echo '{"sha256": {}}' >"$T/nobank.json"
jq '. + {sha1: {}}' "$T/pcrs.json" >"$T/onebankempty.json"
for f in none nobank onebankempty; do
    $CVM eventlog "$C/tcg_sha256" --pcrs "$T/$f.json" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc = 2 ] && grep -q "names no PCR" "$T/err" && ! grep -q matches "$T/out"; then
        ok "eventlog --pcrs $f.json (no values): refused"
    else
        fail "eventlog --pcrs $f.json: exit $rc, want 2: $(cat "$T/err") $(tail -1 "$T/out")"
    fi
done

# Text output: event data's control characters are escaped, so no event prints a line of its
# own (here a command line carrying a newline and a false PCR line).
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); i = d.rindex(b"ro quiet")
open(sys.argv[2], "wb").write(d[:i] + b"\nPCR 9: " + d[i + 8:])' "$C/tcg_sha256" "$T/nl.bin" ||
    fail "writing a log with a newline in its text"
$CVM eventlog "$T/nl.bin" >"$T/out" 2>/dev/null
if ! grep -q '^PCR 9: ' "$T/out" && grep -q 'vmlinuz \\x0aPCR 9: ' "$T/out"; then
    ok "eventlog (text): control characters of event data escaped"
else
    fail "eventlog (text): a newline of event data printed as it is: $(cat "$T/out")"
fi

# ... and so are those of a UEFI variable's name (UCS-2): shown as \xNN, never as '?' (which
# would read as another name); in JSON they are the characters themselves.
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); n = "SecureBoot".encode("utf-16-le")
open(sys.argv[2], "wb").write(d.replace(n, "Sec\x1b[2JBoot".encode("utf-16-le")[:len(n)]))' \
    "$C/tcg_sha256" "$T/var.bin" || fail "writing a log with an escape in a variable name"
$CVM eventlog "$T/var.bin" >"$T/out" 2>/dev/null
$CVM eventlog "$T/var.bin" --json >"$T/var.json" 2>/dev/null
if grep -q 'EV_EFI_VARIABLE_DRIVER_CONFIG .* Sec\\x1b\[2JBoo$' "$T/out" &&
    jq -e '.events[2].variable == "Sec\u001b[2JBoo"' "$T/var.json" >/dev/null; then
    ok "eventlog: control characters of a variable name escaped (text), kept (JSON)"
else
    fail "eventlog: a variable name's escape: $(grep VARIABLE "$T/out") $(jq -c '.events[2]' "$T/var.json")"
fi

# Malformed: truncated.
$CVM eventlog "$C/truncated" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q EVENTLOG_TRUNCATED "$T/err" || fail "truncated log: EVENTLOG_TRUNCATED"
ok "truncated log refused by name"

# A log of the other kind than the registers given compares nothing: a TCG log with
# --tdx-quote, a CCEL with --pcrs. Refused as a log that does not parse is (exit 1,
# EVENTLOG_HEADER_INVALID): no events, no replay, and no "DIFFERS" line that reads as a
# comparison made.
$CVM sim tdx --out "$T/tdx" >/dev/null 2>&1 || fail "sim tdx"
printf '{"sha384": {"1": "%096d"}}' 0 >"$T/p384.json"
for k in "tcg_sha256 --tdx-quote $T/tdx/quote.bin" "tcg_sha256 --format tcg --tdx-quote $T/tdx/quote.bin" \
    "ccel_padded --pcrs $T/p384.json" "ccel_padded --format ccel --pcrs $T/p384.json"; do
    set -- $k
    f=$1
    shift
    $CVM eventlog "$C/$f" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    $CVM eventlog "$C/$f" "$@" --json >"$T/kind.json" 2>/dev/null
    if [ $rc = 1 ] && [ ! -s "$T/out" ] && grep -q 'error EVENTLOG_HEADER_INVALID' "$T/err" &&
        jq -e '(keys == ["claims", "format", "matches_quote", "reasons"]) and .claims == null and
               .matches_quote == false and
               any(.reasons[]; .code == "EVENTLOG_HEADER_INVALID")' "$T/kind.json" >/dev/null; then
        ok "eventlog $f $*: the other kind of log refused, no events, no replay"
    else
        fail "eventlog $f $*: exit $rc, $(tail -1 "$T/out") $(jq -c 'keys' "$T/kind.json")"
    fi
done

# show recognises a log.
$CVM show "$C/ccel_padded" >"$T/show" 2>"$T/err" || fail "show on a CCEL"
grep -q "TDX CCEL event log" "$T/show" || fail "show heading for a CCEL"
grep -q EVENTLOG_PADDING "$T/err" || fail "show notes the padding"
ok "show on a CCEL"

if [ -n "$V" ] && [ -d "$V/tdx/v4-gce-ccel-gotdxguest" ]; then
    G=$V/tdx/v4-gce-ccel-gotdxguest
    $CVM eventlog "$G/ccel_data.dat" --tdx-quote "$G/cos-113-tdx-quote.dat" --json \
        >"$T/ccel.json" 2>"$T/err" || { fail "GCE CCEL vs its quote"; cat "$T/err"; }
    [ "$(jq -r '.matches_quote' "$T/ccel.json")" = true ] || fail "matches_quote"
    grep -q EVENTLOG_RTMR3_NOT_IN_LOG "$T/err" || fail "RTMR 3 reported as info"
    [ "$(jq -r '.rtmr["0"]' "$T/ccel.json" | cut -c1-8)" = 3fa2f61f ] || fail "RTMR 0 value"
    # RTMR 2 holds files and MOK lists too, whose data does not show what they measured (one
    # could be the real command line relabelled): no command line is claimed from a CCEL.
    jq -e '.claims.kernel_cmdline == null and .claims.secure_boot.enabled == false' \
        "$T/ccel.json" >/dev/null || fail "GCE CCEL: no command line claimed, Secure Boot off"
    ok "GCE CCEL replays to its quote's RTMR 0..2"
    # The command line changed in the log (its digest not): the replay still matches, but the
    # claims are refused as verify refuses them, never shown beside "matches_quote": true.
    # (the last "rootwait ro" is the kernel_cmdline event's; GRUB's grub_cmd holds it too)
    python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); i = d.rindex(b"rootwait ro")
open(sys.argv[2], "wb").write(d[:i] + b"init=/bin/s" + d[i + 11:])' "$G/ccel_data.dat" "$T/ccel_bad.dat" ||
        fail "changing the CCEL"
    $CVM eventlog "$T/ccel_bad.dat" --tdx-quote "$G/cos-113-tdx-quote.dat" --json \
        >"$T/ccel.json" 2>"$T/err"
    rc=$?
    if [ $rc = 1 ] && grep -q 'EVENTLOG_EVENT_DATA_MISMATCH: event #[0-9]* EV_IPL' "$T/err" &&
        jq -e '.matches_quote == true and .claims == null' "$T/ccel.json" >/dev/null; then
        ok "GCE CCEL with a changed command line: no claims, refused by name"
    else
        fail "changed CCEL command line: exit $rc, want 1 and no claims: $(cat "$T/err")"
    fi
else
    echo "note: shared vectors absent, CCEL-vs-quote check skipped"
fi

# --pcrs compares as verification does: a PCR no event extends that is not at its start value
# (IMA's PCR 10, as a whole tpm2_pcrread file gives it) is left out (EVENTLOG_PCR_NOT_IN_LOG,
# info), never a "DIFFERS". A log of PCRs 0, 4, 7 and 8, PCR values of 0..8 and 10 (10 never
# extended), and a quote over them signed by a P-256 AK: `eventlog --pcrs` and `tpm
# check-quote --eventlog` with the same log and values give the same outcome and claims. With
# PCR 10 alone nothing is compared: EVENTLOG_NOT_COMPARED in both, no claims (and `eventlog`,
# whose exit answers "does the log match", exits 1: nothing compared is no match).
if python3 -c 'import cryptography' 2>/dev/null; then
    python3 - "$T" <<'PY' || fail "writing the PCR 10 log and quotes"
import hashlib, json, struct, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
d = sys.argv[1]
S256 = 0x000B
spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) + struct.pack("<HH", S256, 32) + b"\0"
log = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
pcr = [bytes(32)] * 24
def add(i, typ, data, measured=None):
    global log
    dg = hashlib.sha256(data if measured is None else measured).digest()
    log += struct.pack("<IIIH", i, typ, 1, S256) + dg + struct.pack("<I", len(data)) + data
    pcr[i] = hashlib.sha256(pcr[i] + dg).digest()
add(0, 0x8, b"crtm")
add(4, 0x80000007, b"Calling EFI Application from Boot Option")
for i in (0, 4, 7):
    add(i, 0x4, bytes(4))
cmd = b"ro module.sig_enforce=1"
add(8, 0xD, b"kernel_cmdline: " + cmd + b"\0", cmd)
open(d + "/p10.log", "wb").write(log)
pcr[10] = bytes([0xAB]) * 32
k = ec.generate_private_key(ec.SECP256R1())
open(d + "/p10ak.pem", "wb").write(k.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
def quote(name, sel):
    bm = bytearray(3)
    for i in sel:
        bm[i // 8] |= 1 << (i % 8)
    att = struct.pack(">IHHH", 0xFF544347, 0x8018, 0, 0) + struct.pack(">QIIBQ", 1000, 1, 0, 1, 0x1234)
    att += struct.pack(">IHB", 1, S256, 3) + bytes(bm)
    att += struct.pack(">H", 32) + hashlib.sha256(b"".join(pcr[i] for i in sel)).digest()
    r, s = decode_dss_signature(k.sign(att, ec.ECDSA(hashes.SHA256())))
    sig = struct.pack(">HHH", 0x0018, S256, 32) + r.to_bytes(32, "big") + struct.pack(">H", 32) + s.to_bytes(32, "big")
    open(d + "/" + name + ".attest", "wb").write(att)
    open(d + "/" + name + ".sig", "wb").write(sig)
    json.dump({"sha256": {str(i): pcr[i].hex() for i in sel}}, open(d + "/" + name + ".pcrs.json", "w"))
quote("p10", list(range(9)) + [10])
quote("only10", [10])
PY
    for n in p10 only10; do
        $CVM eventlog "$T/p10.log" --pcrs "$T/$n.pcrs.json" --json >"$T/$n.cli" 2>"$T/$n.err"
        echo $? >"$T/$n.rc"
        $CVM eventlog "$T/p10.log" --pcrs "$T/$n.pcrs.json" >"$T/$n.txt" 2>/dev/null
        $CVM tpm check-quote --msg "$T/$n.attest" --sig "$T/$n.sig" --ak "$T/p10ak.pem" \
            --pcrs "$T/$n.pcrs.json" --eventlog "$T/p10.log" --nonce '' --json >"$T/$n.ver"
        echo $? >"$T/$n.vrc"
    done
    # the claims `eventlog` prints are those verification put in claims.eventlog
    if [ "$(cat "$T/p10.rc") $(cat "$T/p10.vrc")" = "0 0" ] &&
        grep -q 'info EVENTLOG_PCR_NOT_IN_LOG: sha256 PCR 10 = abab.*not compared' "$T/p10.err" &&
        jq -e 'any(.reasons[]; .code == "EVENTLOG_PCR_NOT_IN_LOG" and .severity == "info")
            and (.claims.eventlog.pcrs.sha256 | has("10") | not)' "$T/p10.ver" >/dev/null &&
        grep -q '^replay matches the quote$' "$T/p10.txt" &&
        jq -e --slurpfile v "$T/p10.ver" '.matches_quote == true
            and .claims.kernel_cmdline == "ro module.sig_enforce=1"
            and .claims as $c | ($c | keys - ($v[0].claims.eventlog | keys)) == []
            and ($v[0].claims.eventlog | with_entries(select(.key as $k | $c | has($k))))
                == $c' "$T/p10.cli" >/dev/null; then
        ok "eventlog --pcrs with PCR 10 never extended: matches, claims as verification's"
    else
        fail "PCR 10 left out: eventlog exit $(cat "$T/p10.rc") ($(tail -1 "$T/p10.txt"); $(cat "$T/p10.err")) claims $(jq -c .claims "$T/p10.cli" | head -c 400); verification exit $(cat "$T/p10.vrc") $(jq -c '[.reasons[].code, .claims.eventlog]' "$T/p10.ver" | head -c 600)"
    fi
    if [ "$(cat "$T/only10.rc") $(cat "$T/only10.vrc")" = "1 0" ] &&
        grep -q 'warning EVENTLOG_NOT_COMPARED' "$T/only10.err" &&
        grep -q '^replay compared with NOTHING' "$T/only10.txt" &&
        jq -e '.matches_quote == false and .claims == null' "$T/only10.cli" >/dev/null &&
        jq -e 'any(.reasons[]; .code == "EVENTLOG_NOT_COMPARED") and .claims.eventlog == null' \
            "$T/only10.ver" >/dev/null; then
        ok "eventlog --pcrs with PCR 10 alone: compared with nothing, as verification"
    else
        fail "PCR 10 alone: eventlog exit $(cat "$T/only10.rc") ($(tail -1 "$T/only10.txt"); $(cat "$T/only10.err")); verification exit $(cat "$T/only10.vrc") $(jq -c '[.reasons[].code]' "$T/only10.ver")"
    fi
else
    echo "note: python3 cryptography absent, --pcrs vs verification check skipped"
fi

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
