#!/bin/sh
# Event logs inside verification, through the CLI: `tpm check-quote --eventlog` and `verify` of a
# TPM bundle with an "event_log" part (the GCP Windows quote with its SHA-1 log): the claims
# appear as claims.eventlog when the log replays to the quoted PCRs; a log whose event digest
# was changed is refused by name (EVENTLOG_REPLAY_MISMATCH, naming the event and PCR). TDX: the
# GCE CCEL in the bundle of a simulated quote carrying the RTMRs it replays to (and not), with
# a policy on its claims.
set -u
CVM=${CVMATTEST_BIN:?}
V=${CVMATTEST_VECTORS:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not found"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
G=$V/tpm/gcp-windows-quote-goattestation
[ -n "$V" ] && [ -f "$G/eventlog.bin" ] ||
    { echo "SKIP: shared test vectors not found (set CVMATTEST_VECTORS)"; exit 77; }

# The same log with the digest of its first event after the header (PCR 7) changed.
python3 - "$G/eventlog.bin" "$T/bad.bin" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
off = 32 + struct.unpack_from("<I", b, 28)[0]
b[off + 8] ^= 1
open(sys.argv[2], "wb").write(b)
PY

q() { $CVM tpm check-quote --msg "$G/quote_attest.bin" --sig "$G/quote_sig.tpmt" \
    --ak "$G/ak_public.tpmt" --pcrs "$G/pcrs_sha1.json" --nonce '' "$@"; }

q --eventlog "$G/eventlog.bin" --json >"$T/out.json"
[ $? = 0 ] || fail "check-quote --eventlog: exit 0"
[ "$(jq -r '.claims.eventlog.format' "$T/out.json")" = tcg-sha1 ] || fail "claims.eventlog.format"
[ "$(jq -r '.claims.eventlog.pcrs.sha1["0"]' "$T/out.json")" = \
  51c323de0c0c694f4601cdd02beb58ff13629f74 ] || fail "claims.eventlog.pcrs.sha1.0"
[ "$(jq -r '.claims.eventlog.efi_boot_applications | length' "$T/out.json")" -ge 1 ] ||
    fail "claims.eventlog.efi_boot_applications"
ok "tpm check-quote --eventlog: the log replays to the quoted PCRs, claims.eventlog"

# The log without PCR values: nothing to compare it with, named (a warning), no claims.
$CVM tpm check-quote --msg "$G/quote_attest.bin" --sig "$G/quote_sig.tpmt" --ak "$G/ak_public.tpmt" \
    --nonce '' --eventlog "$G/eventlog.bin" --json >"$T/nopcrs.json"
[ $? = 0 ] && jq -e 'any(.reasons[]; .code == "EVENTLOG_NOT_USED" and .severity == "warning")
    and (.claims.eventlog == null)' "$T/nopcrs.json" >/dev/null ||
    fail "check-quote --eventlog without --pcrs: EVENTLOG_NOT_USED, no claims.eventlog"
ok "tpm check-quote --eventlog without --pcrs: the log named as not used"

q --eventlog "$T/bad.bin" >"$T/out.txt" 2>&1
[ $? = 1 ] || fail "check-quote with a changed log: exit 1"
grep -q 'EVENTLOG_REPLAY_MISMATCH: sha1 bank: PCR 7 differs.*#1 EV_EFI_VARIABLE_DRIVER_CONFIG' \
    "$T/out.txt" || { fail "mismatch names bank, PCR and event"; cat "$T/out.txt"; }
q --eventlog "$T/missing.bin" >/dev/null 2>&1
[ $? = 2 ] || fail "unreadable --eventlog: exit 2"
ok "tpm check-quote --eventlog: a changed log is refused by name"

# Out of memory for the log's copy: the call's error (exit 2), never a verdict that quietly
# lacks the log (a malloc of exactly the log's size made to fail by an LD_PRELOAD shim).
CC=$(command -v cc || command -v gcc || true)
if [ -z "$CC" ] || grep -q __asan_init "$CVM" 2>/dev/null; then
    echo "note: no C compiler, or a sanitized binary: out of memory for the log is not checked"
else
    cat >"$T/failmalloc.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
void *malloc(size_t n)
{
    static void *(*real)(size_t);
    static size_t fail;
    if (fail == 0) {
        const char *e = getenv("CVMA_TEST_FAIL_MALLOC");
        fail = e != NULL ? (size_t)strtoull(e, NULL, 10) : (size_t)-1;
    }
    if (n == fail) {
        return NULL;
    }
    if (real == NULL) {
        real = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    }
    return real(n);
}
EOF
    if "$CC" -shared -fPIC -o "$T/failmalloc.so" "$T/failmalloc.c" -ldl 2>"$T/cc.err"; then
        LD_PRELOAD="$T/failmalloc.so" CVMA_TEST_FAIL_MALLOC=$(wc -c <"$G/eventlog.bin") \
            q --eventlog "$G/eventlog.bin" --json >"$T/oom.json" 2>"$T/oom.err"
        st=$?
        [ $st = 2 ] && grep -q "out of memory" "$T/oom.err" &&
            ok "tpm check-quote --eventlog: out of memory for the log is an error (exit 2)" ||
            { fail "out of memory for the log: exit $st"; cat "$T/oom.err"; head -c 300 "$T/oom.json"; }
    else
        echo "note: the malloc shim did not build: out of memory for the log is not checked"
    fi
fi

# The same as a bundle for `verify`.
bundle() {
    jq -n --arg q "$(base64 -w0 "$G/quote_attest.bin")" --arg s "$(base64 -w0 "$G/quote_sig.tpmt")" \
        --arg a "$(base64 -w0 "$G/ak_public.tpmt")" --arg p "$(base64 -w0 "$G/pcrs_sha1.json")" \
        --arg l "$(base64 -w0 "$1")" \
        '{cvmattest_bundle: 1, kind: "tpm", parts: [{role: "tpm_quote", data: $q},
          {role: "tpm_signature", data: $s}, {role: "tpm_ak", data: $a},
          {role: "tpm_pcrs", data: $p}, {role: "event_log", data: $l}]}'
}
bundle "$G/eventlog.bin" >"$T/good.json"
bundle "$T/bad.bin" >"$T/bad.json"
$CVM verify "$T/good.json" --nonce '' --json >"$T/v.json"
[ $? = 0 ] || fail "verify bundle with event_log: exit 0 (warning: AK not bound)"
[ "$(jq -r '.claims.eventlog.format' "$T/v.json")" = tcg-sha1 ] || fail "verify: claims.eventlog"
$CVM verify "$T/bad.json" --nonce '' --json >"$T/v.json"
[ $? = 1 ] || fail "verify bundle with a changed event_log: exit 1"
[ "$(jq -r '[.reasons[].code] | index("EVENTLOG_REPLAY_MISMATCH") != null' "$T/v.json")" = true ] ||
    fail "verify: EVENTLOG_REPLAY_MISMATCH"
[ "$(jq -r '.claims.eventlog' "$T/v.json")" = null ] || fail "verify: no claims.eventlog on mismatch"
ok "verify: a bundle's event_log part is replayed against the quote"
# A collateral part beside a bare TPM quote, which uses none: named as not checked (it gave
# exit 0 with no word of it).
jq '.parts += [{role: "collateral", name: "vcek.der", data: "AAEC"}]' "$T/good.json" >"$T/coll.json"
$CVM verify "$T/coll.json" --nonce '' --json >"$T/v.json"
[ $? = 0 ] || fail "verify a tpm bundle with a collateral part: exit 0 (warnings)"
[ "$(jq -r '[.reasons[] | select(.code == "PARSE_BUNDLE_PART_NOT_USED") | .detail] | join(" ")' "$T/v.json" |
    grep -c 'collateral part vcek.der')" = 1 ] ||
    fail "verify a tpm bundle with a collateral part: PARSE_BUNDLE_PART_NOT_USED names it: $(cat "$T/v.json")"
ok "verify: a collateral part beside a bare TPM quote is named as not checked"

# TDX: a simulated quote with the RTMRs the GCE CCEL replays to, the CCEL as its event_log.
CCEL=$V/tdx/v4-gce-ccel-gotdxguest/ccel_data.dat
$CVM eventlog "$CCEL" --json >"$T/ccel.json" 2>/dev/null || fail "eventlog CCEL"
r() { jq -r ".rtmr[\"$1\"]" "$T/ccel.json"; }
tdx_bundle() { # DIR RTMR1
    $CVM sim tdx --out "$1" --rtmr "0=$(r 0)" --rtmr "1=$2" --rtmr "2=$(r 2)" >/dev/null ||
        fail "sim tdx"
    base64 -w0 "$CCEL" >"$T/ccel.b64" # too long for an argument
    jq --rawfile l "$T/ccel.b64" '.parts += [{role: "event_log", data: $l}]' \
        "$1/bundle.json" >"$1/with_log.json"
}
tdx_bundle "$T/tdx" "$(r 1)"
echo '{"tdx": {"rtmr2": "'"$(r 2)"'"}}' >"$T/pol.json"
$CVM verify "$T/tdx/with_log.json" --trust-root "$T/tdx/root_ca.pem" --policy "$T/pol.json" \
    --offline --json >"$T/v.json"
[ $? = 0 ] || { fail "verify TDX bundle with its CCEL: exit 0"; jq -c .reasons "$T/v.json"; }
[ "$(jq -r '.status' "$T/v.json")" = affirming ] || fail "TDX with CCEL: affirming"
[ "$(jq -r '.claims.eventlog.format' "$T/v.json")" = ccel ] || fail "TDX: claims.eventlog"
[ "$(jq -r '.claims.eventlog.rtmr["1"]' "$T/v.json")" = "$(r 1)" ] || fail "TDX: rtmr 1"
# A CCEL gives no command line (RTMR 2 holds files too, docs/eventlog.md): a rule on it fails.
echo '{"tdx": {}, "eventlog": {"kernel_cmdline_contains": ["module.sig_enforce=1"]}}' >"$T/cl.json"
$CVM verify "$T/tdx/with_log.json" --trust-root "$T/tdx/root_ca.pem" --policy "$T/cl.json" \
    --offline >"$T/v.txt" 2>&1
[ $? = 1 ] && grep -q 'POLICY_KERNEL_CMDLINE.*absent' "$T/v.txt" ||
    { fail "TDX, command line rule on a CCEL: exit 1, POLICY_KERNEL_CMDLINE"; cat "$T/v.txt"; }
echo '{"tdx": {}, "eventlog": {"secure_boot": true}}' >"$T/sb.json"
$CVM verify "$T/tdx/with_log.json" --trust-root "$T/tdx/root_ca.pem" --policy "$T/sb.json" \
    --offline >"$T/v.txt" 2>&1
[ $? = 1 ] || fail "TDX, Secure Boot required: exit 1"
grep -q POLICY_SECURE_BOOT "$T/v.txt" || fail "TDX: POLICY_SECURE_BOOT (the GCE log has it off)"
tdx_bundle "$T/tdx2" "$(r 0)"
$CVM verify "$T/tdx2/with_log.json" --trust-root "$T/tdx2/root_ca.pem" --offline >"$T/v.txt" 2>&1
[ $? = 1 ] || fail "TDX, RTMR 1 not the CCEL's: exit 1"
grep -q 'EVENTLOG_REPLAY_MISMATCH: sha384 bank: RTMR 1 differs' "$T/v.txt" ||
    { fail "TDX: mismatch names RTMR 1"; cat "$T/v.txt"; }
ok "verify: a TDX bundle's CCEL is replayed against the quote's RTMRs; policy on its claims"

[ "$fails" = 0 ] || exit 1
