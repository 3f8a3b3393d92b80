#!/bin/sh
# cvmattest collect and guest-check (docs/collect.md), through simulated guest interfaces:
#  - SEV-SNP through a configfs-tsm tree and through the /dev/sev-guest stand-in (with the
#    host's certificate table, and without it), TDX through configfs-tsm; each bundle then
#    verified end to end with --offline --report-data NONCE (affirming), and refused with
#    another nonce;
#  - the /dev/sev-guest ioctls (an LD_PRELOAD shim answering as Linux's driver does): a host
#    certificate table over the 16 KiB the driver passes is named, not taken for "no
#    certificates"; a failed extended request is named; out of memory for the table is an
#    error;
#  - a report that does not carry the nonce is refused by collect (exit 1), raw bytes kept;
#  - a configfs-tsm auxblob there but unreadable (over 64 KiB) is exit 2 naming it, never a
#    fallback to /dev/sev-guest (present) without the host's certificates;
#  - the stand-ins and configfs-tsm's attributes are read as regular files only: a FIFO (the
#    stand-ins' files, an outblob) is refused at once (exit 2), never waited on; a
#    sev-guest.ext-report over 4000 bytes is named with the limit;
#  - under an SVSM (privlevel_floor 2) privlevel is written;
#  - an unknown certificate-table GUID is kept raw, not bundled; a malformed table (a blob
#    outside it, a GUID twice) is refused, exit 1, with no cert-*.bin written;
#  - /dev/tdx_guest alone: no quote without configfs-tsm, said so (absent, or present but
#    giving no entry);
#  - guest-check on prepared trees and on this machine (no CVM: exit 1, what it looked for);
#    TDX is usable only when configfs-tsm gives an entry with the tdx_guest provider.
# Needs CVMATTEST_BIN and jq.
set -u

skip() { echo "collect: SKIP: $*" >&2; exit 77; }
[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed (make deps)"

CVM=$CVMATTEST_BIN
T=$(mktemp -d /tmp/cvma-e2e-collect.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

NONCE=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
OTHER=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

# verify_ok BUNDLE ROOT [more verify args]: affirming with the nonce, refused with another
verify_ok() {
    b=$1
    shift
    out=$($CVM verify "$b" --offline --report-data "$NONCE" --json "$@")
    rc=$?
    st=$(printf '%s' "$out" | jq -r .status)
    [ $rc -eq 0 ] && [ "$st" = affirming ] || { fail "verify $b: exit $rc status $st"; return 1; }
    $CVM verify "$b" --offline --report-data "$OTHER" "$@" >/dev/null 2>&1
    rc=$?
    [ $rc -eq 1 ] || { fail "verify $b with another nonce: exit $rc, want 1"; return 1; }
    return 0
}

# --- SEV-SNP through configfs-tsm ---
$CVM sim snp --out "$T/snp" --report-data "$NONCE" --tsm-tree "$T/snp-tsm" \
    --dev-tree "$T/snp-dev" >/dev/null || fail "sim snp --tsm-tree --dev-tree"
$CVM collect --nonce "$NONCE" --out "$T/snp-tsm.json" --tsm-root "$T/snp-tsm" \
    --dev-root "$T/none" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "via configfs-tsm (provider sev_guest)" "$T/out"; then
    names=$(jq -r '[.parts[] | .name // .role] | join(" ")' "$T/snp-tsm.json")
    [ "$(jq -r .kind "$T/snp-tsm.json")" = sev-snp ] &&
        [ "$names" = "evidence vcek.der ask.pem ark.pem crl.der" ] ||
        fail "snp tsm bundle: kind/parts '$names'"
    cmp -s "$T/snp-tsm.json.raw/outblob" "$T/snp/report.bin" || fail "snp tsm: raw outblob kept"
    [ -z "$(ls -A "$T/snp-tsm/report" | grep -v '^\.template$')" ] ||
        fail "snp tsm: the configfs entry was not removed"
    verify_ok "$T/snp-tsm.json" --trust-root "$T/snp/ark.pem" &&
        ok "SEV-SNP via configfs-tsm: bundle with VCEK, ASK, ARK, CRL verifies offline"
else
    fail "collect snp via configfs-tsm: exit $rc: $(cat "$T/out")"
fi

# --- SEV-SNP through the /dev/sev-guest stand-in ---
$CVM collect --nonce "$NONCE" --out "$T/snp-dev.json" --tsm-root "$T/none" \
    --dev-root "$T/snp-dev" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "via /dev/sev-guest, 4 certificate" "$T/out"; then
    verify_ok "$T/snp-dev.json" --trust-root "$T/snp/ark.pem" &&
        ok "SEV-SNP via /dev/sev-guest: extended report with its certificate table verifies"
else
    fail "collect snp via /dev/sev-guest: exit $rc: $(cat "$T/out")"
fi
# the host has no certificates: the plain report; the verifier then needs the VCEK elsewhere
mv "$T/snp-dev/sev-guest.certs" "$T/certs.saved"
$CVM collect --nonce "$NONCE" --out "$T/snp-nocert.json" --tsm-root "$T/none" \
    --dev-root "$T/snp-dev" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "no certificates from the host" "$T/out" &&
    [ "$(jq '.parts | length' "$T/snp-nocert.json")" = 1 ]; then
    verify_ok "$T/snp-nocert.json" --trust-root "$T/snp/ark.pem" --collateral "$T/snp" &&
        ok "SEV-SNP without host certificates: plain report, verified with --collateral"
else
    fail "collect snp without certificates: exit $rc: $(cat "$T/out")"
fi
mv "$T/certs.saved" "$T/snp-dev/sev-guest.certs"
# the raw directory holds one collection: collected again into the same bundle name without
# the host's certificates, none of the first collection's certificates stays beside the report
$CVM collect --nonce "$NONCE" --out "$T/again.json" --tsm-root "$T/none" \
    --dev-root "$T/snp-dev" >/dev/null 2>&1 || fail "collect snp (again.json)"
ls "$T/again.json.raw" | grep -q '^cert-' || fail "again.json: no certificates in the raw directory"
mv "$T/snp-dev/sev-guest.certs" "$T/certs.saved"
$CVM collect --nonce "$NONCE" --out "$T/again.json" --tsm-root "$T/none" \
    --dev-root "$T/snp-dev" >/dev/null 2>&1 || fail "collect snp again without certificates"
mv "$T/certs.saved" "$T/snp-dev/sev-guest.certs"
if ls "$T/again.json.raw" | grep -q -E '^(cert-|auxblob$)'; then
    fail "a second collection left the first one's certificates: $(ls "$T/again.json.raw" | tr '\n' ' ')"
else
    ok "the raw directory holds the last collection only"
fi

# --- the real /dev/sev-guest path (the ioctls), through an LD_PRELOAD shim built here: the
# host asks for a certificate buffer over the 16 KiB the driver passes (said so, the plain
# report used); a host without extended requests (said so);
# memory for the host's certificate table runs out (an error, not a report without them) ---
CC=$(command -v cc || command -v gcc || true)
if [ -z "$CC" ] || grep -q __asan_init "$CVM" 2>/dev/null; then
    echo "note: no C compiler, or a sanitized binary: the sev-guest ioctl path is not checked"
else
    cat >"$T/sevshim.c" <<'EOF'
/* /dev/sev-guest's ioctls for collect (any fd), as Linux's sev-guest driver answers them:
 * SNP_GET_EXT_REPORT refuses a buffer over 16 KiB (SEV_FW_BLOB_MAX_SIZE) or not whole pages
 * with EINVAL before the host is asked; the host (CVMA_TEST_EXT_FAIL set: answers no extended
 * requests) answers "invalid length" asking for CVMA_TEST_CERTS_LEN bytes while the buffer is
 * smaller, else the response in CVMA_TEST_SNP_RESP and an empty certificate table;
 * SNP_GET_REPORT answers that response. CVMA_TEST_FAIL_MALLOC: malloc of exactly that size
 * fails. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/sev-guest.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t n);

void *malloc(size_t n)
{
    const char *e = getenv("CVMA_TEST_FAIL_MALLOC");
    if (e != NULL && n == (size_t)strtoull(e, NULL, 10)) {
        return NULL;
    }
    return __libc_malloc(n);
}

static int answer(struct snp_guest_request_ioctl *io)
{
    struct snp_report_resp *resp = (struct snp_report_resp *)(uintptr_t)io->resp_data;
    FILE *f = fopen(getenv("CVMA_TEST_SNP_RESP"), "rb");
    size_t n = f != NULL ? fread(resp->data, 1, sizeof resp->data, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    return n == sizeof resp->data ? 0 : -1;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (req == SNP_GET_EXT_REPORT) {
        struct snp_guest_request_ioctl *io = arg;
        struct snp_ext_report_req *ext = (struct snp_ext_report_req *)(uintptr_t)io->req_data;
        uint32_t want = (uint32_t)strtoul(getenv("CVMA_TEST_CERTS_LEN"), NULL, 10);
        if (ext->certs_len > 0x4000 || ext->certs_len % 4096 != 0) {
            errno = EINVAL;
            return -1;
        }
        if (getenv("CVMA_TEST_EXT_FAIL") != NULL) {
            io->exitinfo2 = 0x7;
            errno = EIO;
            return -1;
        }
        if (ext->certs_len < want) {
            ext->certs_len = want;
            io->exitinfo2 = (uint64_t)SNP_GUEST_VMM_ERR_INVALID_LEN << SNP_GUEST_VMM_ERR_SHIFT;
            errno = EIO;
            return -1;
        }
        return answer(io);
    }
    if (req == SNP_GET_REPORT) {
        return answer(arg);
    }
    int (*real)(int, unsigned long, ...) =
            (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    return real(fd, req, arg);
}
EOF
    if "$CC" -shared -fPIC -o "$T/sevshim.so" "$T/sevshim.c" -ldl 2>"$T/cc.err"; then
        mkdir -p "$T/ioctl-dev"
        ln -s /dev/null "$T/ioctl-dev/sev-guest" # a character device: the ioctl path
        # the host asks for 20 KiB, then 128 KiB: over the 16 KiB the driver passes, not read;
        # the plain report, said so
        for want in 20480 131072; do
            LD_PRELOAD="$T/sevshim.so" CVMA_TEST_CERTS_LEN=$want \
                CVMA_TEST_SNP_RESP="$T/snp-dev/sev-guest.ext-report" \
                $CVM collect --nonce "$NONCE" --out "$T/over.json" --tsm-root "$T/none" \
                --dev-root "$T/ioctl-dev" >"$T/out" 2>&1
            rc=$?
            if [ $rc -eq 0 ] &&
                grep -q "via /dev/sev-guest, the host's certificate table ($want bytes) is over the 16384 bytes /dev/sev-guest passes: not read, the plain report" "$T/out" &&
                ! grep -q "no certificates from the host" "$T/out" &&
                [ "$(jq '.parts | length' "$T/over.json")" = 1 ]; then
                ok "/dev/sev-guest: a certificate table of $want bytes is named as over the driver's 16 KiB, the plain report used"
            else
                fail "sev-guest table of $want bytes: exit $rc: $(cat "$T/out")"
            fi
        done
        # a host that answers no extended requests: the plain report, and why
        LD_PRELOAD="$T/sevshim.so" CVMA_TEST_CERTS_LEN=0 CVMA_TEST_EXT_FAIL=1 \
            CVMA_TEST_SNP_RESP="$T/snp-dev/sev-guest.ext-report" \
            $CVM collect --nonce "$NONCE" --out "$T/noext.json" --tsm-root "$T/none" \
            --dev-root "$T/ioctl-dev" >"$T/out" 2>&1
        rc=$?
        if [ $rc -eq 0 ] &&
            grep -q "via /dev/sev-guest, the extended request failed (Input/output error (exitinfo2 0x7)): the plain report" "$T/out"; then
            ok "/dev/sev-guest: a failed extended request is named, the plain report used"
        else
            fail "sev-guest extended request failing: exit $rc: $(cat "$T/out")"
        fi
        # the host's table comes with the report, then memory for keeping it runs out: an error
        LD_PRELOAD="$T/sevshim.so" CVMA_TEST_CERTS_LEN=0 CVMA_TEST_FAIL_MALLOC=16384 \
            CVMA_TEST_SNP_RESP="$T/snp-dev/sev-guest.ext-report" \
            $CVM collect --nonce "$NONCE" --out "$T/nomem.json" --tsm-root "$T/none" \
            --dev-root "$T/ioctl-dev" >"$T/out" 2>&1
        rc=$?
        if [ $rc -ne 0 ] && [ $rc -ne 1 ] && [ ! -e "$T/nomem.json" ] &&
            grep -q "out of memory for the host's certificate table (16384 bytes)" "$T/out"; then
            ok "/dev/sev-guest: no memory for the host's certificate table: exit $rc, no bundle without it"
        else
            fail "sev-guest table out of memory: exit $rc: $(cat "$T/out")"
        fi
    else
        fail "cannot build the sev-guest ioctl shim: $(cat "$T/cc.err")"
    fi
fi

# --- a report for another nonce is refused by collect, raw bytes kept ---
$CVM collect --nonce "$OTHER" --out "$T/wrong.json" --tsm-root "$T/snp-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "does not carry the nonce" "$T/out" && [ ! -e "$T/wrong.json" ] &&
    cmp -s "$T/wrong.json.raw/outblob" "$T/snp/report.bin" &&
    ok "a report without the nonce: exit 1, no bundle, raw bytes kept" ||
    fail "wrong nonce: exit $rc: $(cat "$T/out")"

# --- configfs-tsm's auxblob there but unreadable (over 64 KiB): exit 2 naming it, never the
# /dev/sev-guest report (present here) without the host's certificates ---
cp -R "$T/snp-tsm" "$T/bigaux-tsm"
head -c 70000 /dev/zero >"$T/bigaux-tsm/report/.template/auxblob"
$CVM collect --nonce "$NONCE" --out "$T/bigaux.json" --tsm-root "$T/bigaux-tsm" \
    --dev-root "$T/snp-dev" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && [ ! -e "$T/bigaux.json" ] &&
    grep -q "/auxblob: cannot read (unreadable, or over 65536 bytes): larger than allowed" "$T/out" &&
    ! grep -q "sev-guest" "$T/out" &&
    cmp -s "$T/bigaux.json.raw/outblob" "$T/snp/report.bin" && [ ! -e "$T/bigaux.json.raw/auxblob" ]; then
    ok "configfs-tsm auxblob over 64 KiB: exit 2 naming it, no fallback to /dev/sev-guest, no bundle"
else
    fail "auxblob over 64 KiB with /dev/sev-guest present: exit $rc: $(cat "$T/out")"
fi

# --- a tree's template file over the 1 MiB it is copied with is named with why, never "a plain
# tree without a usable report/.template": its auxblob is the collection's error (exit 2, no
# fallback to /dev/sev-guest, as above); its outblob, like no outblob, moves on ---
cp -R "$T/snp-tsm" "$T/hugeaux-tsm"
head -c 1048577 /dev/zero >"$T/hugeaux-tsm/report/.template/auxblob"
$CVM collect --nonce "$NONCE" --out "$T/hugeaux.json" --tsm-root "$T/hugeaux-tsm" \
    --dev-root "$T/snp-dev" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && [ ! -e "$T/hugeaux.json" ] &&
    grep -q "report/.template/auxblob cannot be read: over 1048576 bytes (no other interface asked)" "$T/out" &&
    ! grep -q "plain tree" "$T/out" && ! grep -q "sev-guest" "$T/out" &&
    ok "a tree's auxblob over 1 MiB: exit 2, named with why, no fallback to /dev/sev-guest" ||
    fail "tree auxblob over 1 MiB: exit $rc: $(cat "$T/out")"
cp -R "$T/snp-tsm" "$T/hugeout-tsm"
head -c 1048577 /dev/zero >"$T/hugeout-tsm/report/.template/outblob"
$CVM collect --nonce "$NONCE" --out "$T/hugeout.json" --tsm-root "$T/hugeout-tsm" \
    --dev-root "$T/none" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "report/.template/outblob cannot be read: over 1048576 bytes)" "$T/out" &&
    ! grep -q "plain tree" "$T/out" &&
    ok "a tree's outblob over 1 MiB: named with why among the interfaces looked at" ||
    fail "tree outblob over 1 MiB: exit $rc: $(cat "$T/out")"

# --- configfs-tsm's attributes are regular files: an outblob that is a FIFO (here put into
# each entry by a stand-in for the TEE, the template having none) is refused at once, named,
# and the next interface asked (none here: exit 2); never an open that waits for a writer ---
cp -R "$T/snp-tsm" "$T/fifo-tsm"
rm "$T/fifo-tsm/report/.template/outblob"
(
    end=$(($(date +%s) + 30))
    while [ "$(date +%s)" -lt $end ]; do
        for e in "$T/fifo-tsm/report/cvmattest-"*; do
            [ -f "$e/inblob" ] && [ ! -e "$e/outblob" ] && mkfifo "$e/outblob" 2>/dev/null &&
                : >"$T/fifo-tsm.done" # once: never into an entry being removed
        done
        [ -e "$T/fifo-tsm.done" ] && break
        sleep 0.01
    done
) &
fifo_pid=$!
timeout 10 $CVM collect --nonce "$NONCE" --out "$T/fifo-tsm.json" --tsm-root "$T/fifo-tsm" \
    --dev-root "$T/none" >"$T/out" 2>&1
rc=$?
: >"$T/fifo-tsm.done"
wait $fifo_pid
[ $rc -eq 2 ] && [ ! -e "$T/fifo-tsm.json" ] &&
    grep -q "outblob: cannot read: not a regular file" "$T/out" &&
    [ -z "$(ls -A "$T/fifo-tsm/report" | grep -v '^\.template$')" ] &&
    ok "configfs-tsm: a FIFO as outblob: exit 2 at once, named, the entry removed" ||
    fail "FIFO outblob: exit $rc (124: it waited): $(cat "$T/out")"

# --- a report that cannot be parsed says why: an SEV-SNP report is exactly 1184 bytes ---
cp -R "$T/snp-tsm" "$T/long-tsm"
head -c 1 /dev/zero >>"$T/long-tsm/report/.template/outblob"
$CVM collect --nonce "$NONCE" --out "$T/long.json" --tsm-root "$T/long-tsm" \
    --dev-root "$T/none" >"$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/long.json" ] &&
    grep -q "the sev-snp evidence (1185 bytes) cannot be parsed: an SEV-SNP report is exactly 1184 bytes" "$T/out" &&
    ok "an outblob of 1185 bytes: exit 1, says a report is exactly 1184 bytes" ||
    fail "outblob of 1185 bytes: exit $rc: $(cat "$T/out")"

# --- the /dev/sev-guest and /dev/tdx_guest stand-ins read regular files only: a FIFO is
# refused at once (exit 2, named), never an open that waits for a writer ---
for f in sev-guest.certs sev-guest.ext-report; do
    rm -rf "$T/fifo-dev"
    cp -R "$T/snp-dev" "$T/fifo-dev"
    rm "$T/fifo-dev/$f"
    mkfifo "$T/fifo-dev/$f"
    timeout 10 $CVM collect --nonce "$NONCE" --out "$T/fifo.json" --tsm-root "$T/none" \
        --dev-root "$T/fifo-dev" >"$T/out" 2>&1
    rc=$?
    [ $rc -eq 2 ] && [ ! -e "$T/fifo.json" ] && grep -q "$f.*not a regular file" "$T/out" &&
        ok "a FIFO as the stand-in's $f: exit 2 at once, named" ||
        fail "FIFO $f: exit $rc (124: it waited): $(cat "$T/out")"
done
# the ioctl's response is 4000 bytes: a larger file is named with the limit, not "missing"
cp -R "$T/snp-dev" "$T/big-dev"
head -c 9000 /dev/zero >"$T/big-dev/sev-guest.ext-report"
$CVM collect --nonce "$NONCE" --out "$T/bigext.json" --tsm-root "$T/none" \
    --dev-root "$T/big-dev" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && [ ! -e "$T/bigext.json" ] &&
    grep -q "sev-guest.ext-report cannot be read (missing, unreadable, or over 4000 bytes): larger than allowed" "$T/out" &&
    ! grep -q "is missing" "$T/out" &&
    ok "a sev-guest.ext-report of 9000 bytes: exit 2, names the 4000-byte limit" ||
    fail "sev-guest.ext-report of 9000 bytes: exit $rc: $(cat "$T/out")"
# ... and an earlier run's bundle at --out is removed, never left beside the refused report
$CVM collect --nonce "$NONCE" --out "$T/stale.json" --tsm-root "$T/snp-tsm" >/dev/null 2>&1 ||
    fail "collect for the stale-bundle case"
$CVM collect --nonce "$OTHER" --out "$T/stale.json" --tsm-root "$T/snp-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/stale.json" ] && grep -q "removed the earlier" "$T/out" &&
    ok "a failed collect removes the earlier bundle at --out" ||
    fail "stale bundle: exit $rc, $(ls "$T/stale.json" 2>&1): $(cat "$T/out")"
# ... but nothing else: a file that is no bundle, and a symbolic link, stay as they are
echo important >"$T/precious.txt"
ln -s "$T/precious.txt" "$T/link.json"
for f in precious.txt link.json; do
    $CVM collect --nonce "$NONCE" --out "$T/$f" --tsm-root "$T/none" --dev-root "$T/none" \
        >"$T/out" 2>&1
    rc=$?
    [ $rc -eq 2 ] && [ "$(cat "$T/$f" 2>/dev/null)" = important ] && ! grep -q "removed" "$T/out" &&
        ok "a failed collect leaves $f at --out alone (no bundle)" ||
        fail "a failed collect touched $f: exit $rc: $(cat "$T/out")"
done
# raw bytes that cannot be written: no bundle (exit 2), never a bundle without them
: >"$T/rawfile"
$CVM collect --nonce "$NONCE" --out "$T/noraw.json" --raw-dir "$T/rawfile" \
    --tsm-root "$T/snp-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && [ ! -e "$T/noraw.json" ] &&
    grep -q "cannot write the raw bytes to .*: no bundle written" "$T/out" &&
    ok "raw bytes that cannot be written: exit 2, no bundle" ||
    fail "raw bytes unwritable: exit $rc: $(cat "$T/out")"

# --- an unknown certificate-table GUID is kept raw, not bundled ---
python3 - "$T/snp-tsm/report/.template/auxblob" <<'PY' || fail "python: unknown GUID table"
import struct, sys
p = sys.argv[1]
t = open(p, "rb").read()
ents = []
i = 0
while t[i:i + 24] != b"\0" * 24:
    g, off, n = t[i:i + 16], *struct.unpack("<II", t[i + 16:i + 24])
    ents.append((g, t[off:off + n]))
    i += 24
ents.append((bytes(range(16)), b"extra platform data"))
hdr = 24 * (len(ents) + 1)
out, blobs = b"", b""
for g, d in ents:
    out += g + struct.pack("<II", hdr + len(blobs), len(d))
    blobs += d
open(p, "wb").write(out + b"\0" * 24 + blobs)
PY
$CVM collect --nonce "$NONCE" --out "$T/unk.json" --tsm-root "$T/snp-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "00010203-0405-0607-0809-0a0b0c0d0e0f is not one this version knows" "$T/out" &&
    [ "$(cat "$T/unk.json.raw/cert-00010203-0405-0607-0809-0a0b0c0d0e0f.bin")" = "extra platform data" ] &&
    [ "$(jq '.parts | length' "$T/unk.json")" = 5 ] &&
    ok "unknown certificate-table GUID: kept raw, named, not bundled" ||
    fail "unknown GUID: exit $rc: $(cat "$T/out")"
# a table whose entry points outside it: refused, raw kept
printf 'garbage' >>"$T/snp-tsm/report/.template/auxblob"
python3 -c "
import sys; p=sys.argv[1]; t=bytearray(open(p,'rb').read()); t[20:24]=(1<<20).to_bytes(4,'little'); open(p,'wb').write(t)" \
    "$T/snp-tsm/report/.template/auxblob"
$CVM collect --nonce "$NONCE" --out "$T/bad.json" --tsm-root "$T/snp-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "certificate table: entry .* outside the table" "$T/out" &&
    [ -s "$T/bad.json.raw/auxblob" ] &&
    ok "malformed certificate table: exit 1, raw auxblob kept" ||
    fail "malformed table: exit $rc: $(cat "$T/out")"

# a table listing the VCEK twice is refused whole: exit 1, no bundle, the raw auxblob kept and
# no cert-*.bin beside it (not even empty files for the entries read before the fault)
cp -R "$T/snp-dev" "$T/dup-dev"
python3 - "$T/dup-dev/sev-guest.certs" <<'PY' || fail "python: duplicate GUID table"
import struct, sys
p = sys.argv[1]
t = open(p, "rb").read()
ents = []
i = 0
while t[i:i + 24] != b"\0" * 24:
    g, off, n = t[i:i + 16], *struct.unpack("<II", t[i + 16:i + 24])
    ents.append((g, t[off:off + n]))
    i += 24
vcek = bytes.fromhex("63da758de6644564adc5f4b93be8accd")
assert any(g == vcek for g, _ in ents), "no VCEK entry in the simulator's table"
ents.append((vcek, b"a second VCEK"))
hdr = 24 * (len(ents) + 1)
out, blobs = b"", b""
for g, d in ents:
    out += g + struct.pack("<II", hdr + len(blobs), len(d))
    blobs += d
open(p, "wb").write(out + b"\0" * 24 + blobs)
PY
$CVM collect --nonce "$NONCE" --out "$T/dup.json" --tsm-root "$T/none" --dev-root "$T/dup-dev" \
    >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "GUID 63da758d-e664-4564-adc5-f4b93be8accd twice" "$T/out" &&
    [ ! -e "$T/dup.json" ] && cmp -s "$T/dup-dev/sev-guest.certs" "$T/dup.json.raw/auxblob" &&
    ! ls "$T/dup.json.raw" | grep -q '^cert-'; then
    ok "a certificate table with a GUID twice: exit 1, raw auxblob kept, no cert-*.bin"
else
    fail "duplicate GUID: exit $rc: $(cat "$T/out"); raw: $(ls -s "$T/dup.json.raw" 2>&1 | tr '\n' ' ')"
fi

# --- under an SVSM: privlevel is set to the floor ---
$CVM sim snp --out "$T/svsm" --vmpl 2 --report-data "$NONCE" --tsm-tree "$T/svsm-tsm" \
    --privlevel-floor 2 >/dev/null || fail "sim snp --privlevel-floor"
$CVM collect --nonce "$NONCE" --out "$T/svsm.json" --tsm-root "$T/svsm-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "under an SVSM at privlevel 2" "$T/out" &&
    [ "$($CVM verify "$T/svsm.json" --offline --report-data "$NONCE" --trust-root "$T/svsm/ark.pem" --json | jq -r '.claims.snp.vmpl')" = 2 ] &&
    ok "under an SVSM: privlevel 2 written, report verifies" ||
    fail "svsm: exit $rc: $(cat "$T/out")"

# a privlevel_floor that is no VMPL (not a number, or above 3): an error, never read as 0
# and never a report asked at another level through /dev/sev-guest
for floor in two 5; do
    rm -rf "$T/svsm-bad" && cp -r "$T/svsm-tsm" "$T/svsm-bad" &&
        printf '%s\n' "$floor" >"$T/svsm-bad/report/.template/privlevel_floor"
    $CVM collect --nonce "$NONCE" --out "$T/svsm-bad.json" --tsm-root "$T/svsm-bad" \
        --dev-root "$T/snp-dev" >"$T/out" 2>&1
    rc=$?
    case $floor in two) want="privlevel_floor: not a decimal number" ;;
    *) want="privlevel_floor 5 is not a VMPL (0..3)" ;; esac
    [ $rc -eq 2 ] && grep -qF "$want" "$T/out" && grep -qF "(no other interface asked)" "$T/out" &&
        [ ! -e "$T/svsm-bad.json" ] &&
        ok "under an SVSM: privlevel_floor '$floor' refused, no other interface asked" ||
        fail "svsm privlevel_floor $floor: exit $rc: $(cat "$T/out")"
done
rm -rf "$T/svsm-bad" && cp -r "$T/svsm-tsm" "$T/svsm-bad" &&
    printf 'two\n' >"$T/svsm-bad/report/.template/privlevel_floor"
$CVM guest-check --json --tsm-root "$T/svsm-bad" --dev-root "$T/none" --cpuinfo /dev/null \
    >"$T/g.json" 2>&1
jq -e '.configfs_tsm.present and (.configfs_tsm.privlevel_floor == 0) and
    any(.missing[]; test("privlevel_floor: not a decimal number"))' "$T/g.json" >/dev/null &&
    ok "guest-check: a privlevel_floor that is no number is named in missing" ||
    fail "guest-check bad privlevel_floor: $(cat "$T/g.json")"

# --- the SVSM's vTPM service report: VMPL 0, REPORT_DATA = SHA-512(nonce || manifest) ---
head -c 310 /dev/urandom >"$T/manifest"
RD=$(python3 -c 'import hashlib, sys
n = bytes.fromhex(sys.argv[1]).ljust(64, b"\0")
print(hashlib.sha512(n + open(sys.argv[2], "rb").read()).hexdigest())' "$NONCE" "$T/manifest")
$CVM sim snp --out "$T/svc" --vmpl 0 --report-data "$RD" --tsm-tree "$T/svc-tsm" \
    --privlevel-floor 2 --tsm-manifest "$T/manifest" >/dev/null || fail "sim snp --tsm-manifest"
$CVM collect --svsm-vtpm --nonce "$NONCE" --out "$T/svc.json" --tsm-root "$T/svc-tsm" \
    --dev-root "$T/none" >"$T/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "the SVSM's vTPM service report (manifest of 310 bytes kept raw)" "$T/out" &&
    cmp -s "$T/manifest" "$T/svc.json.raw/manifestblob" &&
    [ "$(jq -r '.kind' "$T/svc.json")" = svsm-vtpm ] &&
    jq -r '.parts[] | select(.role == "svsm_manifest") | .data' "$T/svc.json" | base64 -d | cmp -s - "$T/manifest" &&
    jq '.kind = "sev-snp" | .parts |= map(select(.role != "svsm_manifest"))' "$T/svc.json" >"$T/svc-snp.json" &&
    $CVM verify "$T/svc-snp.json" --offline --report-data "$RD" --trust-root "$T/svc/ark.pem" >/dev/null &&
    ok "SVSM vTPM service report: SHA-512(nonce || manifest) checked, manifest kept and in the svsm-vtpm bundle, report verifies" ||
    fail "svsm-vtpm: exit $rc: $(cat "$T/out")"
# the same manifest with a report at VMPL 2: refused
$CVM sim snp --out "$T/svc2" --vmpl 2 --report-data "$RD" --tsm-tree "$T/svc2-tsm" \
    --tsm-manifest "$T/manifest" >/dev/null || fail "sim snp --vmpl 2 --tsm-manifest"
$CVM collect --svsm-vtpm --nonce "$NONCE" --out "$T/svc2.json" --tsm-root "$T/svc2-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "at VMPL 2, not 0" "$T/out" && ok "SVSM service report at VMPL 2: exit 1" ||
    fail "svsm-vtpm vmpl 2: exit $rc: $(cat "$T/out")"
# another manifest than the report commits to: refused
head -c 310 /dev/urandom >"$T/svc-tsm/report/.template/manifestblob"
$CVM collect --svsm-vtpm --nonce "$NONCE" --out "$T/svc3.json" --tsm-root "$T/svc-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "does not carry SHA-512(nonce || manifest)" "$T/out" &&
    ok "SVSM service report over another manifest: exit 1" || fail "svsm-vtpm manifest: exit $rc: $(cat "$T/out")"
# a kernel without service_provider (before 6.10): said so
rm "$T/svc-tsm/report/.template/service_provider"
$CVM collect --svsm-vtpm --nonce "$NONCE" --out "$T/svc4.json" --tsm-root "$T/svc-tsm" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "cannot ask the SVSM for its vTPM service" "$T/out" &&
    ok "no service_provider attribute: exit 2, says what is needed" || fail "svsm-vtpm old kernel: exit $rc: $(cat "$T/out")"

# --- TDX through configfs-tsm ---
$CVM sim tdx --out "$T/tdx" --report-data "$NONCE" --tsm-tree "$T/tdx-tsm" \
    --dev-tree "$T/tdx-dev" >/dev/null || fail "sim tdx --tsm-tree"
$CVM collect --nonce "$NONCE" --out "$T/tdx.json" --tsm-root "$T/tdx-tsm" \
    --dev-root "$T/tdx-dev" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "tdx evidence via configfs-tsm (provider tdx_guest)" "$T/out"; then
    verify_ok "$T/tdx.json" --collateral "$T/tdx" --trust-root "$T/tdx/root_ca.pem" &&
        ok "TDX via configfs-tsm: quote bundle verifies offline"
else
    fail "collect tdx: exit $rc: $(cat "$T/out")"
fi
# /dev/tdx_guest alone gives no quote
$CVM collect --nonce "$NONCE" --out "$T/tdx2.json" --tsm-root "$T/none" \
    --dev-root "$T/tdx-dev" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "a TDX quote needs configfs-tsm" "$T/out" &&
    ok "/dev/tdx_guest without configfs-tsm: exit 2, says a quote needs configfs-tsm" ||
    fail "tdx dev only: exit $rc: $(cat "$T/out")"
cp "$T/out" "$T/out-tdx-none"

# the /dev/tdx_guest stand-in with a TDREPORT (REPORTDATA at 128): kept raw, still no quote
python3 -c 'import sys
r = bytearray(1024); r[128:192] = bytes.fromhex(sys.argv[1]).ljust(64, b"\0")
open(sys.argv[2], "wb").write(r)' "$NONCE" "$T/tdx-dev/tdx_guest.report0"
$CVM collect --nonce "$NONCE" --out "$T/tdx3.json" --tsm-root "$T/none" \
    --dev-root "$T/tdx-dev" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "TDREPORT over the nonce read (kept raw" "$T/out" &&
    cmp -s "$T/tdx-dev/tdx_guest.report0" "$T/tdx3.json.raw/tdreport" && [ ! -e "$T/tdx3.json" ] &&
    ok "/dev/tdx_guest TDREPORT: kept raw, no bundle (a quote needs configfs-tsm)" ||
    fail "tdx TDREPORT: exit $rc: $(cat "$T/out")"
$CVM collect --nonce "$OTHER" --out "$T/tdx4.json" --tsm-root "$T/none" \
    --dev-root "$T/tdx-dev" >"$T/out" 2>&1
grep -q "TDREPORT read but it does not carry the nonce" "$T/out" &&
    ok "/dev/tdx_guest TDREPORT for another nonce: said so" || fail "tdx TDREPORT nonce: $(cat "$T/out")"
rm "$T/tdx-dev/tdx_guest.report0"
# a FIFO as the TDREPORT: refused at once and named, never an open that waits for a writer
mkfifo "$T/tdx-dev/tdx_guest.report0"
timeout 10 $CVM collect --nonce "$NONCE" --out "$T/tdx6.json" --tsm-root "$T/none" \
    --dev-root "$T/tdx-dev" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "no TDREPORT read (tdx_guest.report0: not a regular file)" "$T/out" &&
    ok "a FIFO as the tdx_guest stand-in's TDREPORT: exit 2 at once, named" ||
    fail "FIFO tdx_guest.report0: exit $rc (124: it waited): $(cat "$T/out")"
rm "$T/tdx-dev/tdx_guest.report0"

# --- no interface at all: says what it looked for ---
$CVM collect --nonce "$NONCE" --out "$T/none.json" --tsm-root "$T/none" --dev-root "$T/none" \
    >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "looked for configfs-tsm" "$T/out" && grep -q "sev-guest: absent" "$T/out" &&
    ok "no interface: exit 2, names what it looked for" || fail "no interface: exit $rc: $(cat "$T/out")"

# --- guest-check ---
# text that is not UTF-8 (a provider, a path) is escaped, in JSON and in text
mkdir -p "$T/bad-tsm/report/.template" "$T/bad-dev"
printf 'acme\377\033[31m\n' >"$T/bad-tsm/report/.template/provider"
echo 1 >"$T/bad-tsm/report/.template/generation"
BADDEV=$(printf '%s/no\377ne' "$T")
$CVM guest-check --json --tsm-root "$T/bad-tsm" --dev-root "$BADDEV" --cpuinfo /dev/null \
    >"$T/g.json" 2>"$T/g.err"
rc=$?
[ $rc -eq 1 ] && [ "$(jq -r .configfs_tsm.provider "$T/g.json")" = 'acme\xff\x1b[31m' ] &&
    jq -r .devices.root "$T/g.json" | grep -q 'no\\xffne$' &&
    ok "guest-check --json: a provider and a path not UTF-8 are escaped" ||
    fail "guest-check not UTF-8: exit $rc: $(cat "$T/g.json" "$T/g.err")"
# a provider of a TEE this version does not know: named, never "no confidential VM"
jq -e '.tee == null and any(.missing[]; test("provider .acme.* is not one collect reads"))
    and all(.missing[]; test("no confidential VM") | not)' "$T/g.json" >/dev/null &&
    ok "guest-check: an unknown configfs-tsm provider is named in missing" ||
    fail "guest-check unknown provider: $(cat "$T/g.json")"
$CVM guest-check --tsm-root "$T/bad-tsm" --dev-root "$BADDEV" --cpuinfo /dev/null >"$T/g.txt" 2>&1
if grep -q "$(printf '\033')" "$T/g.txt" || ! grep -q 'provider acme\\xff\\x1b\[31m' "$T/g.txt"; then
    fail "guest-check text: provider not escaped: $(od -c "$T/g.txt" | head -20)"
else
    ok "guest-check: the provider's control bytes escaped in text"
fi
printf 'processor\t: 0\nflags\t\t: fpu vme tdx_guest\n' >"$T/cpuinfo-tdx"
printf 'processor\t: 0\nflags\t\t: fpu vme sev sev_es sev_snp\n' >"$T/cpuinfo-host"
$CVM guest-check --json --tsm-root "$T/snp-tsm" --dev-root "$T/snp-dev" --cpuinfo "$T/cpuinfo-host" >"$T/g.json"
rc=$?
[ $rc -eq 0 ] && jq -e '.tee == "sev-snp" and .usable and .configfs_tsm.provider == "sev_guest"
    and .devices["sev-guest"] and (.devices.tdx_guest | not)' "$T/g.json" >/dev/null &&
    ok "guest-check: SEV-SNP tree, usable" || fail "guest-check snp: exit $rc $(cat "$T/g.json")"
$CVM guest-check --json --tsm-root "$T/none" --dev-root "$T/tdx-dev" --cpuinfo "$T/cpuinfo-tdx" >"$T/g.json"
rc=$?
[ $rc -eq 1 ] && jq -e '.tee == "tdx" and (.usable | not) and .cpu_flags.tdx_guest
    and any(.missing[]; test("configfs-tsm.*TDX quote"))' "$T/g.json" >/dev/null &&
    ok "guest-check: TDX without configfs-tsm: not usable, says what is missing" ||
    fail "guest-check tdx: exit $rc $(cat "$T/g.json")"
# the flags line read within its bounds: a file that ends at the colon, a flag as the last
# word with no newline after it, and words that only begin with a flag's name
printf 'processor\t: 0\nflags :' >"$T/cpuinfo-cut"
printf 'processor\t: 0\nflags\t\t: fpu sev_snp' >"$T/cpuinfo-last"
printf 'processor\t: 0\nflags\t\t: fpu sev_snpx tdx_guest_\nvmx flags\t: tdx_guest\n' >"$T/cpuinfo-prefix"
for f in cut last prefix; do
    $CVM guest-check --json --tsm-root "$T/none" --dev-root "$T/none" --cpuinfo "$T/cpuinfo-$f" \
        >"$T/g-$f.json" 2>"$T/g-$f.err"
    echo "$f $? $(jq -c '[.cpu_flags.read, .cpu_flags.sev_snp, .cpu_flags.tdx_guest]' "$T/g-$f.json" 2>/dev/null)" >>"$T/g-flags"
done
grep -qxF 'cut 1 [true,false,false]' "$T/g-flags" &&
    grep -qxF 'last 1 [true,true,false]' "$T/g-flags" &&
    grep -qxF 'prefix 1 [true,false,false]' "$T/g-flags" &&
    ok "guest-check: cpuinfo flags as whole words, never read past the line" ||
    fail "guest-check cpuinfo flags: $(cat "$T/g-flags" "$T"/g-*.err)"
# a cpuinfo that cannot be read says why, in JSON and in text (not only "read": false)
$CVM guest-check --json --tsm-root "$T/none" --dev-root "$T/none" --cpuinfo /dev/zero >"$T/g.json"
jq -e '.cpu_flags == {"path": "/dev/zero", "read": false, "why": "over 4194304 bytes",
    "sev_snp": false, "tdx_guest": false}' "$T/g.json" >/dev/null &&
    ok "guest-check --json --cpuinfo /dev/zero: why it was not read" ||
    fail "guest-check --cpuinfo /dev/zero: $(cat "$T/g.json")"
mkdir -p "$T/cpudir"
$CVM guest-check --tsm-root "$T/none" --dev-root "$T/none" --cpuinfo "$T/cpudir" >"$T/g.txt" 2>&1
grep -qF "CPU flags     $T/cpudir: unreadable (Is a directory)" "$T/g.txt" &&
    ok "guest-check --cpuinfo DIR: why it was not read, in text" ||
    fail "guest-check --cpuinfo DIR: $(cat "$T/g.txt")"
# under an SVSM: a probe entry shows privlevel_floor and the service attributes
$CVM guest-check --json --tsm-root "$T/svc-tsm" --dev-root "$T/none" --cpuinfo "$T/cpuinfo-host" >"$T/g.json"
rc=$?
[ $rc -eq 0 ] && jq -e '.configfs_tsm.svsm and .configfs_tsm.privlevel_floor == 2
    and (.configfs_tsm.svsm_services | not)' "$T/g.json" >/dev/null &&
    [ -z "$(ls -A "$T/svc-tsm/report" | grep -v '^\.template$')" ] &&
    ok "guest-check: under an SVSM (privlevel_floor 2), probe entry removed" ||
    fail "guest-check svsm: exit $rc $(cat "$T/g.json")"
# configfs-tsm present but no entry can be read (no provider): named
mkdir -p "$T/empty-tsm/report"
$CVM guest-check --json --tsm-root "$T/empty-tsm" --dev-root "$T/snp-dev" --cpuinfo "$T/cpuinfo-host" >"$T/g.json"
rc=$?
[ $rc -eq 0 ] && jq -e '.configfs_tsm.present and any(.missing[]; test("no report entry could be made"))' \
    "$T/g.json" >/dev/null && ok "guest-check: an unreadable configfs-tsm is named" ||
    fail "guest-check empty tsm: exit $rc $(cat "$T/g.json")"
# a TDX guest whose configfs-tsm is there but gives no entry (not root, no TSM provider): no
# quote can be had, so collect is not possible (exit 1), and collect says configfs-tsm is
# present but gave no quote, not that it is absent
$CVM guest-check --json --tsm-root "$T/empty-tsm" --dev-root "$T/tdx-dev" --cpuinfo "$T/cpuinfo-tdx" >"$T/g.json"
rc=$?
$CVM guest-check --tsm-root "$T/empty-tsm" --dev-root "$T/tdx-dev" --cpuinfo "$T/cpuinfo-tdx" >"$T/g.txt"
rc2=$?
[ $rc -eq 1 ] && [ $rc2 -eq 1 ] && jq -e '.tee == "tdx" and (.usable | not) and .configfs_tsm.present
    and any(.missing[]; test("no report entry could be made.*needed for a TDX quote"))' "$T/g.json" >/dev/null &&
    grep -qx 'collect: not possible here' "$T/g.txt" &&
    ok "guest-check: TDX with a configfs-tsm that gives no entry: not usable, exit 1" ||
    fail "guest-check tdx, configfs-tsm failing: exit $rc/$rc2 $(cat "$T/g.json" "$T/g.txt")"
$CVM collect --nonce "$NONCE" --out "$T/tdx5.json" --tsm-root "$T/empty-tsm" \
    --dev-root "$T/tdx-dev" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "needs configfs-tsm (Linux 6.7 or later), which is present but gave no quote" "$T/out" &&
    ! grep -q "which is absent" "$T/out" &&
    ok "collect: TDX with a configfs-tsm that gives no entry: exit 2, says it is present" ||
    fail "collect tdx, configfs-tsm failing: exit $rc: $(cat "$T/out")"
grep -q "which is absent" "$T/out-tdx-none" &&
    ok "collect: TDX without configfs-tsm: says it is absent" ||
    fail "collect tdx, no configfs-tsm: $(cat "$T/out-tdx-none")"
# an entry whose provider collect does not read: not usable either, and named
cp -R "$T/tdx-tsm" "$T/acme-tsm" && echo acme_guest >"$T/acme-tsm/report/.template/provider"
$CVM guest-check --json --tsm-root "$T/acme-tsm" --dev-root "$T/tdx-dev" --cpuinfo "$T/cpuinfo-tdx" >"$T/g.json"
rc=$?
[ $rc -eq 1 ] && jq -e '.tee == "tdx" and (.usable | not)
    and any(.missing[]; test("provider .acme_guest. is not one collect reads"))' "$T/g.json" >/dev/null &&
    ok "guest-check: TDX with a provider collect does not read: not usable, named" ||
    fail "guest-check tdx, provider acme_guest: exit $rc $(cat "$T/g.json")"
# sev_snp in the CPU flags is also a host's flag: not a guest by itself
$CVM guest-check --json --tsm-root "$T/none" --dev-root "$T/none" --cpuinfo "$T/cpuinfo-host" >"$T/g.json"
rc=$?
[ $rc -eq 1 ] && jq -e '.tee == null and .cpu_flags.sev_snp' "$T/g.json" >/dev/null &&
    ok "guest-check: sev_snp CPU flag alone is no SEV-SNP guest" || fail "guest-check host flag: exit $rc"
# this machine
$CVM guest-check >"$T/g.txt"
rc=$?
if [ -e /sys/kernel/config/tsm/report ] || [ -e /dev/sev-guest ] || [ -e /dev/tdx_guest ]; then
    echo "note: this machine has guest interfaces; the no-CVM check is skipped"
else
    [ $rc -eq 1 ] && grep -q "^tee: none" "$T/g.txt" && grep -q "/dev/sev-guest: absent" "$T/g.txt" &&
        grep -q "configfs-tsm  /sys/kernel/config/tsm/report: absent" "$T/g.txt" &&
        ok "guest-check on this machine: no CVM, names what it looked for" ||
        fail "guest-check here: exit $rc: $(cat "$T/g.txt")"
fi

# --- usage ---
$CVM collect --out "$T/x.json" >/dev/null 2>&1
[ $? -eq 2 ] || fail "collect without --nonce: want exit 2"
$CVM collect --nonce zz --out "$T/x.json" >/dev/null 2>&1
[ $? -eq 2 ] || fail "collect --nonce zz: want exit 2"
$CVM guest-check --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "guest-check --bogus: want exit 2"

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
