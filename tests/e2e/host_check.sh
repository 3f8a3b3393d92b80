#!/bin/sh
# cvmattest host-check (docs/host-check.md):
#  - prepared trees (tests/host/mktree.py): a ready SEV-SNP host and a ready TDX host (exit 0,
#    every launch check pass), then one tree per requirement left out, each named: the check
#    that must catch it says fail with a fix hint (unknown, never fail, for the msr module:
#    then nothing fails in that TEE and the host is undecided, exit 3);
#  - OVMF images read as measure reads them: SEV metadata pointing outside the image and a
#    code-only image (TDX metadata past its end) fail; Debian's OVMF_CODE.fd and OVMF.fd
#    where installed;
#  - variants of a ready host that must stay ready (a REPORTED_TCB set lower, no guest driver
#    in the host kernel, a segmented RMP whose RMP_END is zero, a TDX kernel older than 6.16
#    with kvm_intel.tdx=Y);
#  - --root probes no PCCS unless --pccs-url names one;
#  - undecided hosts (exit 3, "undecided: ..." naming the unknown checks, never "neither ...
#    available"): a ready Turin host (no recorded microcode minimum), ioctl stand-ins missing;
#  - stand-in values read strictly ("0x", a CPUID register over 32 bits, text after a value:
#    unknown); the CPUID brand string escaped as \xNN like the other host text;
#  - --root confined to the tree (symlinks, a release with '/'); a kernel config that is there
#    but cannot be read (a FIFO, a directory, a symlink loop, over 16 MiB) unknown saying why;
#  - TDX attestation readiness against a local PCCS stand-in (tests/pcs_server.py) and a
#    closed port; --pccs-url read as a base URL (user information, a query, a fragment, CR/LF,
#    another scheme: exit 2, a password not echoed; a trailing '/' gives no '//');
#  - this machine: neither TEE ready here (exit 1, "neither ... is available" with reasons);
#    MSR checks unknown, never fail, when the msr module or root is missing;
#  - usage errors exit 2.
# Needs CVMATTEST_BIN, CVMATTEST_SRC, python3 and jq.
set -u

skip() { echo "host_check: SKIP: $*" >&2; exit 77; }
[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed (make deps)"
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"

no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY
CVM=$CVMATTEST_BIN
MK="python3 $CVMATTEST_SRC/tests/host/mktree.py"
T=$(mktemp -d /tmp/cvma-e2e-host.XXXXXX) || exit 1
PCS_PID=
cleanup() {
    [ -n "$PCS_PID" ] && { kill "$PCS_PID" 2>/dev/null; wait "$PCS_PID" 2>/dev/null; }
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

# state JSON ID: the status of one check
state() { jq -r --arg id "$2" '[.tests[] | .. | objects | select(.id? == $id)][0].status' "$1"; }
hint() { jq -r --arg id "$2" '[.tests[] | .. | objects | select(.id? == $id)][0].fix_hint // ""' "$1"; }

# reading a tree needs openat2 (Linux 5.6 or newer); without it host-check refuses --root
mkdir "$T/empty"
if ! $CVM host-check --root "$T/empty" --pccs-url none >/dev/null 2>"$T/empty.err" &&
   grep -q openat2 "$T/empty.err"; then
    skip "$(cat "$T/empty.err")"
fi

# --- ready trees ---
for tee in snp tdx; do
    $MK $tee "$T/$tee" || { fail "mktree $tee"; continue; }
    $CVM host-check --root "$T/$tee" --json --pccs-url none >"$T/$tee.json"
    rc=$?
    [ $rc -eq 0 ] || fail "ready $tee tree: exit $rc, want 0"
    [ "$(jq -r ".$tee.ready" "$T/$tee.json")" = true ] || fail "ready $tee tree: $tee.ready not true"
    bad=$(jq -r --arg t "$tee" '[.tests[] | select(.id == $t) | .. | objects
        | select(.status? and .sub == null and .status != "pass"
                 and (.id | startswith($t + ".attestation") | not)) | .id] | join(" ")' "$T/$tee.json")
    [ -z "$bad" ] || fail "ready $tee tree: not pass: $bad"
    $CVM host-check --root "$T/$tee" --pccs-url none >"$T/$tee.txt"
    grep -q "^ready: $(echo $tee | sed 's/snp/SEV-SNP/; s/tdx/TDX/')" "$T/$tee.txt" || fail "ready $tee: text lacks 'ready:'"
    [ $fails -eq 0 ] && ok "ready $tee host: exit 0, every launch check pass"
done
# the other TEE in each tree is not ready, and says why
[ "$(jq -r .tdx.ready "$T/snp.json")" = false ] && [ "$(state "$T/snp.json" tdx.cpu.vendor)" = fail ] &&
    ok "SEV-SNP tree: TDX not ready (tdx.cpu.vendor fail)" || fail "SEV-SNP tree: TDX should not be ready"
# the JSON shape: a tree, failures with hints, a summary that adds up
jq -e '.summary.total == .summary.passed + .summary.failed + .summary.unknown
       and (.tests | length) == 2 and (.tests[0].sub | length) > 0
       and all(.failures[]; .hint != "")' "$T/snp.json" >/dev/null &&
    ok "JSON: a tree of checks, failures with hints, summary adds up" || fail "JSON shape"

# --- one requirement missing at a time ---
$MK --list >"$T/items" || fail "mktree --list"
while read -r tee item id; do
    d="$T/w-$tee-$item"
    $MK $tee "$d" --without "$item" || { fail "mktree $tee --without $item"; continue; }
    $CVM host-check --root "$d" --json --pccs-url none >"$d.json"
    rc=$?
    st=$(state "$d.json" "$id")
    h=$(hint "$d.json" "$id")
    want=fail
    [ "$item" = msr-module ] && want=unknown
    case $item in qgs) wantrc=0 ;; msr-module) wantrc=3 ;; *) wantrc=1 ;; esac
    if [ "$st" = "$want" ] && [ -n "$h" ] && [ $rc -eq $wantrc ]; then
        ok "$tee without $item: $id $st, exit $rc; to do: $h"
    else
        fail "$tee without $item: $id is '$st' (want $want), hint '$h', exit $rc (want $wantrc)"
    fi
    if [ "$item" = msr-module ]; then
        n=$(jq '[.tests[] | .. | objects | select(.category? == "bios_configured" and .sub == null and .status == "fail")] | length' "$d.json")
        [ "$n" = 0 ] || fail "$tee without the msr module: $n BIOS checks say fail, want unknown"
        grep -q "modprobe msr" "$d.json" || fail "$tee without the msr module: no 'modprobe msr' hint"
    fi
done <"$T/items"
# --- variants of a ready host: still ready, the check that might have said fail passes ---
$MK --list-variants >"$T/variants" || fail "mktree --list-variants"
[ -s "$T/variants" ] || fail "mktree --list-variants lists nothing"
while read -r tee variant id; do
    d="$T/v-$tee-$variant"
    $MK $tee "$d" --variant "$variant" || { fail "mktree $tee --variant $variant"; continue; }
    $CVM host-check --root "$d" --json --pccs-url none >"$d.json"
    rc=$?
    st=$(state "$d.json" "$id")
    if [ "$st" = pass ] && [ $rc -eq 0 ] && [ "$(jq -r ".$tee.ready" "$d.json")" = true ]; then
        ok "$tee $variant: $id pass, ready, exit 0"
    else
        fail "$tee $variant: $id is '$st' (want pass), exit $rc (want 0): $(jq -c '.failures' "$d.json")"
    fi
done <"$T/variants"
grep -q 'note: reported 0xd315000000000309' "$T/v-snp-reported-tcb-lower.json" &&
    ok "a lower REPORTED_TCB is a note naming both TCBs" || fail "lower REPORTED_TCB: no note"
grep -q 'segmented RMP' "$T/v-snp-segmented-rmp.json" || grep -q 'RMP initialized' "$T/v-snp-segmented-rmp.json" ||
    fail "segmented RMP: the message says neither"
grep -q 'kvm_intel.tdx=Y' "$T/v-tdx-backported-kernel.json" &&
    ok "TDX kernel 6.8 with kvm_intel.tdx=Y: the version is a note" || fail "backported TDX kernel: no note"
# without kvm_intel.tdx=Y an old kernel still fails its version check
cp -R "$T/v-tdx-backported-kernel" "$T/old-tdx"
echo N >"$T/old-tdx/sys/module/kvm_intel/parameters/tdx"
$CVM host-check --root "$T/old-tdx" --json --pccs-url none >"$T/old-tdx.json"
[ "$(state "$T/old-tdx.json" tdx.kernel.version)" = fail ] &&
    ok "TDX kernel 6.8 with kvm_intel.tdx=N: version fails" ||
    fail "TDX kernel 6.8, tdx=N: tdx.kernel.version $(state "$T/old-tdx.json" tdx.kernel.version)"
# the segmented RMP read from the MSRs alone (the firmware's stand-in gone: it says nothing)
cp -R "$T/v-snp-segmented-rmp" "$T/segmsr" && rm -r "$T/segmsr/cvmattest-ioctl"
$CVM host-check --root "$T/segmsr" --json --pccs-url none >"$T/segmsr.json"
[ "$(state "$T/segmsr.json" snp.bios.rmp)" = pass ] && grep -q 'RMP_END unused' "$T/segmsr.json" &&
    ok "segmented RMP from RMP_CFG and RMP_BASE: pass" ||
    fail "segmented RMP from the MSRs: snp.bios.rmp $(state "$T/segmsr.json" snp.bios.rmp)"
echo 0 >"$T/segmsr/cvmattest-msr/0xc0010136"
$CVM host-check --root "$T/segmsr" --json --pccs-url none >"$T/segmsr0.json"
[ "$(state "$T/segmsr0.json" snp.bios.rmp)" = fail ] &&
    ok "RMP_END zero without a segmented RMP: fail" ||
    fail "RMP_END zero, RMP_CFG 0: snp.bios.rmp $(state "$T/segmsr0.json" snp.bios.rmp)"

# Debian's own images: the code-only OVMF_CODE.fd names TDX metadata that points past its end
# (tdx.vmm.ovmf fails, saying so), the unified OVMF.fd carries both (the items ovmf-tdx-unified
# and ovmf-sev-metadata-in-image above build such images on any machine)
if [ -f /usr/share/OVMF/OVMF_CODE.fd ] && [ -f /usr/share/ovmf/OVMF.fd ]; then
    mkdir -p "$T/deb/usr/share/OVMF" "$T/deb/proc/sys/kernel"
    cp /usr/share/OVMF/OVMF_CODE.fd "$T/deb/usr/share/OVMF/"
    $CVM host-check --root "$T/deb" --json --pccs-url none >"$T/deb.json"
    m=$(jq -r '[.tests[] | .. | objects | select(.id? == "tdx.vmm.ovmf")][0].message' "$T/deb.json")
    [ "$(state "$T/deb.json" tdx.vmm.ovmf)" = fail ] && case $m in *code-only*) true ;; *) false ;; esac &&
        ok "Debian's OVMF_CODE.fd: tdx.vmm.ovmf fail ($m)" ||
        fail "Debian's OVMF_CODE.fd: tdx.vmm.ovmf $(state "$T/deb.json" tdx.vmm.ovmf): $m"
    mkdir -p "$T/deb/usr/share/ovmf" && cp /usr/share/ovmf/OVMF.fd "$T/deb/usr/share/ovmf/"
    $CVM host-check --root "$T/deb" --json --pccs-url none >"$T/deb2.json"
    [ "$(state "$T/deb2.json" tdx.vmm.ovmf)" = pass ] && [ "$(state "$T/deb2.json" snp.vmm.ovmf)" = pass ] &&
        ok "Debian's unified OVMF.fd: snp.vmm.ovmf and tdx.vmm.ovmf pass" ||
        fail "Debian's OVMF.fd: snp.vmm.ovmf $(state "$T/deb2.json" snp.vmm.ovmf), tdx.vmm.ovmf $(state "$T/deb2.json" tdx.vmm.ovmf)"
else
    echo "skip Debian's OVMF images: /usr/share/OVMF/OVMF_CODE.fd or /usr/share/ovmf/OVMF.fd not installed (package ovmf; make deps)"
fi

# --root reads nothing outside the tree: no PCCS probe unless --pccs-url names one
$CVM host-check --root "$T/tdx" --json --pccs-timeout 2 >"$T/nourl.json"
rc=$?
[ $rc -eq 0 ] && [ "$(state "$T/nourl.json" tdx.attestation.pccs)" = unknown ] &&
    grep -q 'reads nothing outside the tree' "$T/nourl.json" &&
    ok "--root without --pccs-url: PCCS not probed (unknown)" ||
    fail "--root without --pccs-url: tdx.attestation.pccs $(state "$T/nourl.json" tdx.attestation.pccs), exit $rc"

# failures quote the kernel messages users search for
grep -q 'Memory for the RMP table has not been reserved by BIOS' "$T/w-snp-rmp.json" &&
    ok "RMP failure quotes the kernel message" || fail "RMP failure lacks the kernel message"
grep -q 'virt/tdx: TDX not supported by the host platform' "$T/w-tdx-keyids.json" &&
    ok "KeyID failure quotes the kernel message" || fail "KeyID failure lacks the kernel message"
grep -q 'AMD-SB-3019' "$T/w-snp-microcode.json" && ok "microcode failure names AMD-SB-3019" ||
    fail "microcode failure does not name AMD-SB-3019"

# --- undecided: no TEE ready, one with nothing failed but some checks unknown (exit 3) ---
# a ready Turin host (family 1Ah model 02h): no AMD-SB-3019 figure recorded, microcode unknown
cp -R "$T/snp" "$T/turin"
echo "00B00F21 00000000 00000000 00000000" >"$T/turin/cvmattest-cpuid/0x00000001"
$CVM host-check --root "$T/turin" --json --pccs-url none >"$T/turin.json"
rc=$?
$CVM host-check --root "$T/turin" --pccs-url none >"$T/turin.txt"
rct=$?
if [ $rc -eq 3 ] && [ $rct -eq 3 ] && [ "$(jq -r '.undecided' "$T/turin.json")" = true ] &&
   [ "$(jq -r '.snp.status' "$T/turin.json")" = unknown ] &&
   [ "$(jq -r '.snp.ready' "$T/turin.json")" = false ] &&
   [ "$(state "$T/turin.json" snp.firmware.microcode)" = unknown ] &&
   grep -q '^undecided: SEV-SNP failed no check' "$T/turin.txt" &&
   grep -q '^  snp.firmware.microcode: ' "$T/turin.txt" &&
   grep -q '^TDX is not available on this host:' "$T/turin.txt" &&
   ! grep -q 'neither SEV-SNP nor TDX' "$T/turin.txt"; then
    ok "ready Turin host (microcode unknown): undecided, exit 3, the unknown check named"
else
    fail "Turin host: exit $rc/$rct (want 3), undecided $(jq -r .undecided "$T/turin.json"), snp.status $(jq -r .snp.status "$T/turin.json"); text: $(tail -5 "$T/turin.txt")"
fi
# a real failure beside the unknown one stays a failure (exit 1)
cp -R "$T/turin" "$T/turin-smee"
echo 0 >"$T/turin-smee/cvmattest-msr/0xc0010010"
$CVM host-check --root "$T/turin-smee" --pccs-url none >"$T/turin-smee.txt"
rc=$?
[ $rc -eq 1 ] && grep -q '^neither SEV-SNP nor TDX is available on this host:' "$T/turin-smee.txt" &&
    ok "Turin host without SMEE: not ready, exit 1" || fail "Turin host without SMEE: exit $rc, want 1"

# stand-in values are read strictly: an MSR of "0x" is no value (unknown, not SYSCFG=0 and a
# failed SMEE), a CPUID register wider than 32 bits or negative is not cut or wrapped, a value
# with text after it is not taken
sm() { # tree FILE TEXT ID: writes FILE in a copy of the ready SEV-SNP tree, prints ID's state
    rm -rf "$T/$1" && cp -R "$T/snp" "$T/$1" && printf '%s\n' "$3" >"$T/$1/$2"
    $CVM host-check --root "$T/$1" --json --pccs-url none >"$T/$1.json"
    state "$T/$1.json" "$4"
}
for c in "msr0x cvmattest-msr/0xc0010010 0x snp.bios.smee" \
    "msrjunk cvmattest-msr/0xc0010010 1800000_junk snp.bios.smee" \
    "cpuwide cvmattest-cpuid/0x00000001 100a10f11_0_0_0 snp.cpu.bare_metal" \
    "cpuneg cvmattest-cpuid/0x8000001f -1_-1_-1_-1 snp.cpu.sev_snp"; do
    set -- $c
    v=$(echo "$3" | tr _ ' ')
    st=$(sm "$1" "$2" "$v" "$4")
    [ "$st" = unknown ] && [ "$(jq -r .snp.status "$T/$1.json")" = unknown ] &&
        ok "$2 holding '$v': $4 unknown ($(jq -r --arg id "$4" '[.tests[] | .. | objects | select(.id? == $id)][0].message' "$T/$1.json"))" ||
        fail "$2 holding '$v': $4 $st (want unknown), snp $(jq -r .snp.status "$T/$1.json")"
done

# snp.cpu.generation: the EPYC server models with SEV-SNP pass, another EPYC of family 19h
# (the AM5 EPYC 4004, model 61h, which has no SEV-SNP) is not taken for one: unknown
part() { # tree leaf1-EAX brand
    cp -R "$T/snp" "$T/$1"
    echo "$2 00000000 00000000 00000000" >"$T/$1/cvmattest-cpuid/0x00000001"
    python3 - "$T/$1/cvmattest-cpuid" "$3" <<'PY'
import struct, sys
raw = sys.argv[2].encode().ljust(48, b"\0")
for i in range(3):
    open("%s/0x%08x" % (sys.argv[1], 0x80000002 + i), "w").write(
        "%08x %08x %08x %08x\n" % struct.unpack("<IIII", raw[16 * i:16 * i + 16]))
PY
    $CVM host-check --root "$T/$1" --json --pccs-url none >"$T/$1.json"
}
part epyc4004 00A60F12 "AMD EPYC 4584PX 16-Core Processor"
g=$(state "$T/epyc4004.json" snp.cpu.generation)
[ "$g" = unknown ] && hint "$T/epyc4004.json" snp.cpu.generation | grep -q '4004' &&
    ok "EPYC 4004 (family 19h model 61h): snp.cpu.generation unknown" ||
    fail "EPYC 4004 (family 19h model 61h): snp.cpu.generation $g, want unknown"
part bergamo 00AA0F01 "AMD EPYC 9754 128-Core Processor"
g=$(state "$T/bergamo.json" snp.cpu.generation)
[ "$g" = pass ] && ok "Bergamo (family 19h model A0h): snp.cpu.generation pass" ||
    fail "Bergamo (family 19h model A0h): snp.cpu.generation $g, want pass"
part tr7000 00A10F81 "AMD Ryzen Threadripper PRO 7995WX 96-Cores"
g=$(state "$T/tr7000.json" snp.cpu.generation)
[ "$g" = fail ] && ok "Threadripper 7000 (family 19h model 18h, no EPYC brand): fail" ||
    fail "Threadripper 7000: snp.cpu.generation $g, want fail"
# the brand string is host text like the vendor: control bytes shown as \xNN, in text and JSON
part escbrand 00A10F11 "$(printf 'AMD EPYC \033[2J 9654')"
$CVM host-check --root "$T/escbrand" --pccs-url none >"$T/escbrand.txt"
grep -q 'AMD EPYC \\x1b\[2J 9654 (Genoa: family 0x19' "$T/escbrand.txt" && ! grep -q "$(printf '\033')" "$T/escbrand.txt" &&
    grep -q 'AMD EPYC \\\\x1b\[2J 9654' "$T/escbrand.json" &&
    ok "brand string with ESC: shown as \\x1b" ||
    fail "brand string with ESC: $(grep -a 'EPYC' "$T/escbrand.txt" | head -1 | od -c | head -3)"

# --- TDX attestation readiness: PCCS reachable or not ---
python3 "$CVMATTEST_SRC/tests/pcs_server.py" --max-seconds 60 >"$T/pcs.port" &
PCS_PID=$!
i=0
while [ ! -s "$T/pcs.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -s "$T/pcs.port" ]; then
    port=$(head -1 "$T/pcs.port")
    $CVM host-check --root "$T/tdx" --json --pccs-url "http://127.0.0.1:$port" >"$T/pccs.json"
    [ "$(state "$T/pccs.json" tdx.attestation.pccs)" = pass ] && ok "PCCS stand-in reachable: pass" ||
        fail "PCCS stand-in: $(state "$T/pccs.json" tdx.attestation.pccs)"
    [ "$(state "$T/pccs.json" tdx.attestation.registered)" = unknown ] &&
        ok "platform registration: unknown" || fail "platform registration not unknown"
    kill "$PCS_PID" 2>/dev/null; wait "$PCS_PID" 2>/dev/null; PCS_PID=
    $CVM host-check --root "$T/tdx" --json --pccs-url "http://127.0.0.1:$port" --pccs-timeout 2 >"$T/nopccs.json"
    rc=$?
    [ "$(state "$T/nopccs.json" tdx.attestation.pccs)" = fail ] && [ $rc -eq 0 ] &&
        ok "PCCS down: fail, the host stays ready (exit 0)" || fail "PCCS down: $(state "$T/nopccs.json" tdx.attestation.pccs), exit $rc"
    # the path joins a base URL ending in '/' as the collateral fetcher joins it: no '//'
    $CVM host-check --root "$T/tdx" --json --pccs-url "http://127.0.0.1:$port/" --pccs-timeout 2 >"$T/slash.json"
    m=$(jq -r '[.tests[] | .. | objects | select(.id? == "tdx.attestation.pccs")][0].message' "$T/slash.json")
    case $m in
    "HEAD http://127.0.0.1:$port/sgx/certification/v4/rootcacrl: "*) ok "--pccs-url ending in '/': one '/' before sgx/" ;;
    *) fail "--pccs-url ending in '/': $m" ;;
    esac
else
    fail "pcs_server.py did not report a port"
fi
# --pccs-url is a base URL as --pcs-url is (docs/collateral.md): user information, a query, a
# fragment, a space or CR/LF, another scheme are refused when the options are read (exit 2),
# and a password is not echoed, in text or in JSON
for u in 'https://user:s3cret@127.0.0.1:9/' 'https://127.0.0.1:9/?key=abc' 'https://127.0.0.1:9/#f' \
    "$(printf 'http://127.0.0.1:9/a\r\nX-Injected: 1')" 'http://127.0.0.1:9/a b' file:///etc/passwd ftp://127.0.0.1; do
    for j in "" --json; do
        $CVM host-check --root "$T/tdx" $j --pccs-url "$u" --pccs-timeout 2 >"$T/badurl.out" 2>"$T/badurl.err"
        rc=$?
        if [ $rc -eq 2 ] && [ ! -s "$T/badurl.out" ] && grep -q -- '--pccs-url must be' "$T/badurl.err" &&
            ! grep -q s3cret "$T/badurl.out" "$T/badurl.err"; then
            ok "--pccs-url '$u' $j: refused (exit 2), not echoed with a password"
        else
            fail "--pccs-url '$u' $j: exit $rc (want 2): $(cat "$T/badurl.err") $(grep -o 'HEAD [^"]*' "$T/badurl.out")"
        fi
    done
done

# dev/sev there but the ioctls' stand-ins missing or short: input not read, unknown, never fail
cp -R "$T/snp" "$T/noioctl" && rm -r "$T/noioctl/cvmattest-ioctl"
$CVM host-check --root "$T/noioctl" --json --pccs-url none >"$T/noioctl.json"
rc=$?
[ $rc -eq 3 ] && ok "ioctl stand-ins missing: undecided, exit 3" || fail "ioctl stand-ins missing: exit $rc, want 3"
cp -R "$T/snp" "$T/shortioctl"
head -c 20 "$T/snp/cvmattest-ioctl/snp_platform_status" >"$T/shortioctl/cvmattest-ioctl/snp_platform_status"
$CVM host-check --root "$T/shortioctl" --json --pccs-url none >"$T/shortioctl.json"
if [ "$(state "$T/noioctl.json" snp.firmware.dev_sev)" = pass ] &&
   [ "$(jq '[.tests[] | .. | objects | select(.category? == "firmware" and .sub == null and .status == "fail")] | length' "$T/noioctl.json")" = 0 ] &&
   [ "$(state "$T/noioctl.json" snp.firmware.version)" = unknown ] &&
   [ "$(state "$T/shortioctl.json" snp.firmware.snp_init)" = unknown ] &&
   [ "$(state "$T/shortioctl.json" snp.firmware.tcb)" = unknown ]; then
    ok "dev/sev with its ioctl stand-ins missing or short: firmware checks unknown, none fail"
else
    fail "ioctl stand-ins missing or short: dev_sev $(state "$T/noioctl.json" snp.firmware.dev_sev), version $(state "$T/noioctl.json" snp.firmware.version), snp_init $(state "$T/shortioctl.json" snp.firmware.snp_init)"
fi

# --root confines every read to the tree: an absolute symlink to a file outside resolves inside
# the tree (not there: unknown), and a release with '/' names no config file
mkdir -p "$T/outside" && echo 9.9.0-outside >"$T/outside/osrelease"
cp -R "$T/snp" "$T/links"
rm "$T/links/proc/sys/kernel/osrelease"
ln -s "$T/outside/osrelease" "$T/links/proc/sys/kernel/osrelease"
$CVM host-check --root "$T/links" --json --pccs-url none >"$T/links.json"
[ "$(state "$T/links.json" snp.kernel.version)" = unknown ] && ! grep -q 9.9.0 "$T/links.json" &&
    ok "--root: an absolute symlink out of the tree is not followed out" ||
    fail "--root: symlink out of the tree: snp.kernel.version $(state "$T/links.json" snp.kernel.version)"
cp -R "$T/snp" "$T/rel"
echo "x/../../boot/config-6.11.0-test" >"$T/rel/proc/sys/kernel/osrelease"
mkdir -p "$T/rel/boot/config-x"
$CVM host-check --root "$T/rel" --json --pccs-url none >"$T/rel.json"
[ "$(state "$T/rel.json" snp.kernel.config.KVM)" = unknown ] &&
    ok "--root: a kernel release with '/' names no config file (unknown)" ||
    fail "--root: release with '/': snp.kernel.config.KVM $(state "$T/rel.json" snp.kernel.config.KVM)"
# a FIFO in the tree (the kernel config) does not hold the run waiting for a writer: unknown
cp -R "$T/snp" "$T/fifo"
rel=$(cat "$T/fifo/proc/sys/kernel/osrelease")
rm -f "$T/fifo/boot/config-$rel" && mkfifo "$T/fifo/boot/config-$rel"
timeout 20 $CVM host-check --root "$T/fifo" --json --pccs-url none >"$T/fifo.json"
frc=$?
[ $frc != 124 ] && [ "$(state "$T/fifo.json" snp.kernel.config.KVM)" = unknown ] &&
    ok "--root: a FIFO in the tree is unknown, not waited on" ||
    fail "--root: FIFO: exit $frc, snp.kernel.config.KVM $(state "$T/fifo.json" snp.kernel.config.KVM)"
# a kernel config that is there but cannot be read is unknown saying why, not "not found"
msg() { jq -r --arg id "$2" '[.tests[] | .. | objects | select(.id? == $id)][0].message' "$1"; }
cfg=$T/cfgx/boot/config-$rel
for kind in fifo dir loop big absent; do
    rm -rf "$T/cfgx" && cp -R "$T/snp" "$T/cfgx" && rm -f "$cfg"
    case $kind in
    fifo) mkfifo "$cfg"; want="/boot/config-$rel not readable: not a regular file (a FIFO or a socket)" ;;
    dir) mkdir "$cfg"; want="/boot/config-$rel not readable: Is a directory" ;;
    loop) ln -s "config-$rel" "$cfg"; want="/boot/config-$rel not readable: Too many levels of symbolic links" ;;
    big) head -c 17000000 /dev/zero >"$cfg"; want="/boot/config-$rel not readable: larger than 16 MiB" ;;
    absent) want="kernel config not found" ;;
    esac
    timeout 20 $CVM host-check --root "$T/cfgx" --json --pccs-url none >"$T/cfgx.json"
    m=$(msg "$T/cfgx.json" snp.kernel.config.KVM)
    h=$(hint "$T/cfgx.json" snp.kernel.config.KVM)
    if [ "$(state "$T/cfgx.json" snp.kernel.config.KVM)" = unknown ] && [ "$m" = "$want" ] &&
        { [ $kind = absent ] || case $h in *"is not at"*) false ;; *) true ;; esac; }; then
        ok "kernel config ($kind): unknown, '$m'"
    else
        fail "kernel config ($kind): $(state "$T/cfgx.json" snp.kernel.config.KVM) '$m' (want '$want'), hint '$h'"
    fi
done

# a --root longer than the report keeps is refused, not shortened into another directory
long=$(printf 'a%.0s' $(seq 300))
$CVM host-check --root "/$long" >/dev/null 2>"$T/long.err"
[ $? = 2 ] && grep -q "at most 255 characters" "$T/long.err" &&
    ok "--root of 301 characters: refused (exit 2)" || fail "--root too long: $(cat "$T/long.err")"

# --- this machine ---
$CVM host-check --pccs-url none >"$T/here.txt"
rc=$?
$CVM host-check --pccs-url none --json >"$T/here.json"
if [ "$(jq -r '.snp.ready or .tdx.ready' "$T/here.json")" = true ]; then
    echo "note: this machine is a ready host; the 'neither' assertions do not apply"
    [ $rc -eq 0 ] || fail "this machine: ready but exit $rc"
elif [ "$(jq -r .undecided "$T/here.json")" = true ]; then
    echo "note: this machine is undecided (no TEE fails a check); the 'neither' assertions do not apply"
    [ $rc -eq 3 ] || fail "this machine: undecided but exit $rc"
    grep -q "^undecided: " "$T/here.txt" || fail "this machine: undecided without the 'undecided:' line"
else
    [ $rc -eq 1 ] || fail "this machine: exit $rc, want 1"
    grep -q "neither SEV-SNP nor TDX is available on this host" "$T/here.txt" &&
        ok "this machine: 'neither SEV-SNP nor TDX is available', exit 1" || fail "this machine: no 'neither' line"
    n=$(sed -n '/^neither/,$p' "$T/here.txt" | grep -c '^  [a-z]')
    [ "$n" -gt 0 ] && ok "this machine: $n reasons listed" || fail "this machine: no reasons listed"
fi
if [ ! -e /dev/cpu/0/msr ] || [ "$(id -u)" != 0 ]; then
    n=$(jq '[.tests[] | .. | objects | select(.category? == "bios_configured" and .sub == null and .status == "fail")] | length' "$T/here.json")
    [ "$n" = 0 ] && ok "this machine: no msr module or not root: BIOS checks unknown, none fail" ||
        fail "this machine: $n BIOS checks fail without the msr module or root"
fi

# output that cannot be written (a full disk) is said to be so, exit 2, not "out of memory"
if [ -w /dev/full ]; then
    $CVM host-check --root "$T/snp" --json --pccs-url none >/dev/full 2>"$T/full.err"
    rc=$?
    [ $rc -eq 2 ] && grep -q 'the output could not be written' "$T/full.err" &&
        ! grep -q 'out of memory' "$T/full.err" &&
        ok "--json on a full disk: 'the output could not be written', exit 2" ||
        fail "--json on a full disk: exit $rc, said: $(cat "$T/full.err")"
fi

# --- the running machine: a FIFO mounted over a file it reads (a private mount namespace,
# root only) is refused, not waited on for ever ---
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && mkfifo "$T/cpuinfo.fifo" &&
    timeout 10 unshare -m true 2>/dev/null; then
    timeout 30 unshare -m sh -c 'mount --bind "$1" /proc/cpuinfo && exec "$2" host-check --json' \
        sh "$T/cpuinfo.fifo" "$CVM" >"$T/live.json" 2>"$T/live.err"
    rc=$?
    [ $rc -ne 124 ] && [ $rc -le 3 ] && jq -e . "$T/live.json" >/dev/null &&
        ok "live, a FIFO over /proc/cpuinfo: finished (exit $rc)" ||
        fail "live, a FIFO over /proc/cpuinfo: exit $rc (124 is a hang): $(head -c 300 "$T/live.err")"
    if grep -q '"snp.firmware.microcode"' "$T/live.json" &&
        ! grep -q 'leaf 1' "$T/live.json"; then
        grep -q '/proc/cpuinfo not readable: not a regular file' "$T/live.json" &&
            ok "live: the microcode check says /proc/cpuinfo is not a regular file" ||
            echo "note: the microcode check did not read /proc/cpuinfo here"
    fi
else
    echo "note: no private mount namespace here (root and unshare -m): the live FIFO case is not run"
fi

# --- usage ---
$CVM host-check --help >/dev/null; [ $? -eq 0 ] || fail "--help exit"
$CVM host-check --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "--bogus: want exit 2"
$CVM host-check --root "$T/does-not-exist" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--root missing: want exit 2"
$CVM host-check extra >/dev/null 2>&1; [ $? -eq 2 ] || fail "operand: want exit 2"
$CVM host-check --pccs-timeout=0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--pccs-timeout=0: want exit 2"
ok "usage errors exit 2, --help 0"

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
