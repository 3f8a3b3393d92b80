#!/bin/sh
# cvmattest measure: the CLI on Debian's own OVMF (the figures of the shared
# measure/vectors.tsv, every row of which test_measure also checks through the library),
# --json, the refusals (--kernel without the kernel-hashes section, a code-only TDVF image,
# inputs left out), and --policy-out then verify --policy: a simulated SEV-SNP report with
# that measurement accepted, one with another refused; a firmware-only SEV-SNP policy warned
# of; no policy written when stdout fails; the independent model (tests/measure/
# launch_model.py) against the CLI on synthetic images.
set -u
CVM=${CVMATTEST_BIN:?}
VEC=${CVMATTEST_VECTORS:-}
FW=/usr/share/ovmf/OVMF.fd
CODE=/usr/share/OVMF/OVMF_CODE.fd
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not found (make deps)"; exit 77; }
[ -r "$FW" ] || { echo "SKIP: $FW missing: Debian's ovmf package (make deps installs it)"; exit 77; }

# run CMD...: sets rc, out (stdout), err (stderr)
run() {
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out")
    err=$(cat "$T/err")
}
expect_fail() { # what, needle, cmd...
    what=$1 needle=$2
    shift 2
    run "$@"
    if [ "$rc" -eq 2 ] && printf '%s' "$err" | grep -q -- "$needle"; then
        ok "$what refused: $(printf '%s' "$err" | head -1)"
    else
        fail "$what: rc=$rc (want 2), stderr: $err"
    fi
}

# --- every row of the vectors through the CLI, when the firmware is the vectors' own ---
TSV=$VEC/measure/vectors.tsv
if [ -n "$VEC" ] && [ -r "$TSV" ]; then
    sha=$(sha256sum "$FW" | cut -d' ' -f1)
    n=0
    while IFS='	' read -r kind firmware fw_sha vcpus vtype vmm feat ksha isha app want calc; do
        [ "$kind" = kind ] && continue
        [ "$fw_sha" = "$sha" ] || { echo "note: $FW is not the vectors' firmware, row skipped"; continue; }
        [ "$ksha" = "-" ] || { echo "note: kernel rows are checked by test_measure"; continue; }
        if [ "$kind" = snp ]; then
            set -- --ovmf "$FW" --vcpus "$vcpus" --vmm "$vmm" --guest-features "$feat"
            [ "$vtype" = "-" ] || set -- "$@" --vcpu-type "$vtype"
            run "$CVM" measure snp "$@"
        else
            run "$CVM" measure tdx --tdvf "$FW" --page-order single
        fi
        n=$((n + 1))
        if [ "$rc" -eq 0 ] && [ "$out" = "$want" ]; then
            ok "vector $kind $vmm vcpus=$vcpus $vtype $feat"
        else
            fail "vector $kind $vmm vcpus=$vcpus $vtype: rc=$rc got '$out' $err, want $want ($calc)"
        fi
    done <"$TSV"
    [ "$n" -ge 5 ] || fail "only $n vector rows checked"
else
    echo "note: shared vectors not found (CVMATTEST_VECTORS); rows not checked here"
fi

# --- --json: the value and every input beside it ---
# --guest-features: hex digits, 0x once at most; --vcpus: decimal digits (no sign or space)
for f in " -1" "-1" "+1" "0x0x1" "0x" "x1" "1 " "12345678901234567"; do
    expect_fail "--guest-features '$f'" "hex digits" \
        "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vcpu-type EPYC-v4 --guest-features="$f"
done
# without SNPActive (bit 0) no SEV-SNP guest runs: the option's fault, said as such, before the
# firmware is read (a FIFO named as the firmware is not waited on)
mkfifo "$T/fw-fifo"
for f in 0 0x20 0xfffffffffffffffe; do
    expect_fail "--guest-features $f" "^cvmattest measure snp: --guest-features $f lacks SNPActive (bit 0)" \
        timeout 10 "$CVM" measure snp --ovmf "$T/fw-fifo" --vcpus 1 --vcpu-type EPYC-v4 --guest-features "$f"
done
for v in " +2" "+2" " 2" "2 " "0x2"; do
    expect_fail "--vcpus '$v'" "a number 1..512" \
        "$CVM" measure snp --ovmf "$FW" --vcpus="$v" --vcpu-type EPYC-v4
done
if [ -w /dev/full ]; then
    for j in --json ""; do
        # shellcheck disable=SC2086
        "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vcpu-type EPYC-v4 $j >/dev/full 2>"$T/err"
        rc=$?
        [ $rc -eq 2 ] && grep -q "could not be written" "$T/err" &&
            ok "measure snp $j to a full disk: exit 2" || fail "measure snp $j to a full disk: rc=$rc"
    done
fi
run "$CVM" measure snp --ovmf "$FW" --vcpus 4 --vcpu-type EPYC-Milan --guest-features 0X21 --json
[ "$rc" -eq 0 ] && [ "$(printf '%s' "$out" | jq -r .inputs.guest_features)" = 0x21 ] &&
    ok "--guest-features 0X21 is 0x21" || fail "--guest-features 0X21: rc=$rc $err"
run "$CVM" measure snp --ovmf "$FW" --vcpus 4 --vcpu-type EPYC-Milan --guest-features 0x21 --json
if [ "$rc" -eq 0 ] &&
    printf '%s' "$out" | jq -e '.tee == "sev-snp" and (.measurement | test("^[0-9a-f]{96}$"))
        and .inputs.vcpus == 4 and .inputs.vcpu_type == "EPYC-Milan"
        and .inputs.vcpu_sig == "0xa00f11" and .inputs.guest_features == "0x21"
        and .inputs.vmm == "qemu" and (.inputs.firmware_sha256 | length) == 64' >/dev/null; then
    ok "measure snp --json carries the inputs"
else
    fail "measure snp --json: rc=$rc $out $err"
fi
run "$CVM" measure tdx --tdvf "$FW" --page-order=two --json
if [ "$rc" -eq 0 ] && printf '%s' "$out" | jq -e '.tee == "tdx" and .inputs.page_order == "two"
        and (.rtmrs.rtmr0 | startswith("not predicted"))' >/dev/null; then
    ok "measure tdx --json: page order and RTMRs not predicted"
else
    fail "measure tdx --json: rc=$rc $out $err"
fi
single=$("$CVM" measure tdx --tdvf "$FW")
two=$("$CVM" measure tdx --tdvf "$FW" --page-order two)
[ -n "$single" ] && [ "$single" != "$two" ] && ok "page orders single and two differ" ||
    fail "page orders: single '$single' two '$two'"

# --- refusals ---
echo "vmlinuz" >"$T/kernel"
expect_fail "--kernel on firmware without kernel hashes" "kernel-hashes section" \
    "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vcpu-type EPYC --kernel "$T/kernel"
# a file that cannot be read: the reason named, not just "cannot read"
truncate -s 65M "$T/big.fd"
expect_fail "a firmware over 64 MiB" "cannot read '$T/big.fd': larger than 64 MiB" \
    "$CVM" measure snp --ovmf "$T/big.fd" --vcpus 1 --vcpu-type EPYC
rm -f "$T/big.fd"
expect_fail "a directory as firmware" "cannot read '$T': Is a directory" "$CVM" measure tdx --tdvf "$T"
expect_fail "a missing kernel" "cannot read '$T/none': No such file" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/none"
# a kernel or initrd that never ends is refused once past what QEMU can load (4 GiB), not
# hashed for ever (timeout: the test fails rather than hangs without the bound)
for which in kernel initrd; do
    if [ $which = kernel ]; then set -- --kernel /dev/zero; else set -- --kernel "$T/kernel" --initrd /dev/zero; fi
    expect_fail "--$which /dev/zero" "'/dev/zero' is larger than 4 GiB" \
        timeout 120 "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vcpu-type EPYC "$@"
done
if [ -r "$CODE" ]; then
    expect_fail "code-only TDVF image" "code-only" "$CVM" measure tdx --tdvf "$CODE"
else
    fail "$CODE missing (Debian's ovmf package)"
fi
expect_fail "no --vcpu-type with qemu" "vcpu-type NAME is required" \
    "$CVM" measure snp --ovmf "$FW" --vcpus 1
expect_fail "unknown vCPU type" "unknown CPU model" \
    "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vcpu-type host
expect_fail "no --vcpus" "vcpus N is required" "$CVM" measure snp --ovmf "$FW" --vcpu-type EPYC
expect_fail "--vcpu-type with ec2" "fixes the vCPU type" \
    "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vmm ec2 --vcpu-type EPYC
expect_fail "unknown VMM" "qemu, ec2 or gce" \
    "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vmm kvm --vcpu-type EPYC
expect_fail "bad page order" "single or two" "$CVM" measure tdx --tdvf "$FW" --page-order three
expect_fail "tdx --policy-out without --kernel" "RTMR 1 and 2" \
    "$CVM" measure tdx --tdvf "$FW" --policy-out "$T/tdx.json"
[ -e "$T/tdx.json" ] && fail "a TDX policy pinning MRTD alone was written"
expect_fail "no subcommand" "usage" "$CVM" measure
run "$CVM" measure --help
[ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q -- "--policy-out" && ok "measure --help" ||
    fail "measure --help: rc=$rc"

# --- --policy-out, then verify --policy on simulated reports ---
run "$CVM" measure snp --ovmf "$FW" --vcpus 2 --vcpu-type EPYC-Genoa --policy-out "$T/policy.json"
m=$out pol_rc=$rc pol_err=$err
if [ "$rc" -eq 0 ] && [ -s "$T/policy.json" ] &&
    jq -e --arg m "$m" '.snp.measurements == [$m]' "$T/policy.json" >/dev/null; then
    ok "--policy-out wrote a policy pinning $m"
else
    fail "--policy-out: rc=$rc $err"
fi
run "$CVM" policy check "$T/policy.json"
[ "$rc" -eq 0 ] && ok "the policy loads (policy check)" || fail "policy check: $err $out"
"$CVM" sim snp --out "$T/good" --measurement "$m" >/dev/null || fail "sim snp (good)"
run "$CVM" verify "$T/good/bundle.json" --trust-root "$T/good/ark.pem" --policy "$T/policy.json"
[ "$rc" -eq 0 ] && ok "a report with the measured value is accepted" ||
    fail "good report: rc=$rc $out $err"
other=$("$CVM" measure snp --ovmf "$FW" --vcpus 3 --vcpu-type EPYC-Genoa)
"$CVM" sim snp --out "$T/bad" --measurement "$other" >/dev/null || fail "sim snp (bad)"
run "$CVM" verify "$T/bad/bundle.json" --trust-root "$T/bad/ark.pem" --policy "$T/policy.json" \
    --json
if [ "$rc" -eq 1 ] && printf '%s' "$out" | grep -q POLICY_MEASUREMENT; then
    ok "a report with another measurement (3 vCPUs) is refused: POLICY_MEASUREMENT"
else
    fail "bad report: rc=$rc $out $err"
fi

# A policy pinning the firmware only: no --kernel (Debian's OVMF.fd has no kernel hashes at
# all), so the kernel, initrd and command line are not measured and any would pass: written
# (a disk-booted guest needs no more), said on stderr and in the policy's description.
fw_only="firmware only: kernel, initrd and command line not measured"
if [ "$pol_rc" -eq 0 ] && printf '%s' "$pol_err" | grep -q "cvmattest measure snp: warning: the policy pins the firmware only: the kernel, initrd and command line are not measured (no --kernel, and no kernel hashes in this firmware): any would pass" &&
    jq -e --arg n "$fw_only" '.description | startswith("cvmattest measure snp (" + $n + "): {")' \
        "$T/policy.json" >/dev/null; then
    ok "--policy-out without --kernel: warned, and the description says firmware only"
else
    fail "firmware-only policy: rc=$pol_rc stderr: $pol_err; $(jq -c .description "$T/policy.json")"
fi
run "$CVM" measure snp --ovmf "$FW" --vcpus 2 --vcpu-type EPYC-Genoa
[ "$rc" -eq 0 ] && [ -z "$err" ] && ok "no --policy-out: no warning" || fail "warned without a policy: $err"
# stdout fails (a full disk): exit 2, and no policy behind (the value is written first)
if [ -w /dev/full ]; then
    for j in --json ""; do
        rm -f "$T/pf.json"
        # shellcheck disable=SC2086
        "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vcpu-type EPYC-v4 $j \
            --policy-out "$T/pf.json" >/dev/full 2>"$T/err"
        rc=$?
        if [ $rc -eq 2 ] && [ ! -e "$T/pf.json" ] && grep -q "could not be written" "$T/err" &&
            ! grep -q warning "$T/err"; then
            ok "measure snp $j --policy-out to a full disk: exit 2, no policy written"
        else
            fail "measure snp $j --policy-out >/dev/full: rc=$rc, policy $(ls "$T/pf.json" 2>&1)"
        fi
    done
    cp "$T/policy.json" "$T/keep.json"
    "$CVM" measure snp --ovmf "$FW" --vcpus 3 --vcpu-type EPYC-v4 --policy-out "$T/keep.json" \
        >/dev/full 2>/dev/null
    cmp -s "$T/policy.json" "$T/keep.json" && ok "a policy already there is left as it was" ||
        fail "a failed run replaced the policy at --policy-out"
fi

# --- the independent model (tests/measure/launch_model.py: SEV-SNP ABI PAGE_INFO chaining,
# the APM's VMSA, QEMU's hashes table, the TDX module's MRTD blocks) against the CLI, on the
# synthetic images of tests/unit/test_measure.c: kernel hashes, SVSM_CAA, VMMs, page orders ---
MODEL="python3 $(dirname "$0")/../measure/launch_model.py"
if $MODEL image sev "$T/sev.fd" && $MODEL image sev "$T/nocaa.fd" --no-caa &&
    $MODEL image tdx "$T/tdx.fd"; then
    head -c 3000 /dev/urandom >"$T/vmlinuz"
    head -c 7000 /dev/urandom >"$T/initrd"
    model_vs_cli() { # what, model args, -- cli args
        what=$1
        shift
        margs=""
        while [ "$1" != -- ]; do margs="$margs $1"; shift; done
        shift
        # shellcheck disable=SC2086
        want=$($MODEL $margs)
        run "$CVM" measure "$@"
        if [ "$rc" -eq 0 ] && [ ${#want} -eq 96 ] && [ "$out" = "$want" ]; then
            ok "model = CLI: $what"
        else
            fail "model vs CLI, $what: rc=$rc got '$out' model '$want' $err"
        fi
    }
    model_vs_cli "snp 2 vCPUs EPYC-Milan" snp "$T/sev.fd" --vcpus 2 --vcpu-sig a00f11 -- \
        snp --ovmf "$T/sev.fd" --vcpus 2 --vcpu-type EPYC-Milan
    model_vs_cli "snp 1 vCPU, 0x21" snp "$T/sev.fd" --vcpus 1 --vcpu-sig 800f12 --features 21 -- \
        snp --ovmf "$T/sev.fd" --vcpus 1 --vcpu-type EPYC-v4 --guest-features 0x21
    model_vs_cli "snp ec2" snp "$T/sev.fd" --vcpus 3 --vmm ec2 -- \
        snp --ovmf "$T/sev.fd" --vcpus 3 --vmm ec2
    model_vs_cli "snp gce" snp "$T/sev.fd" --vcpus 2 --vmm gce -- \
        snp --ovmf "$T/sev.fd" --vcpus 2 --vmm gce
    model_vs_cli "snp without the SVSM_CAA section" snp "$T/nocaa.fd" --vcpus 2 --vcpu-sig a00f11 \
        -- snp --ovmf "$T/nocaa.fd" --vcpus 2 --vcpu-type EPYC-Milan
    model_vs_cli "snp kernel hashes: kernel" snp "$T/sev.fd" --vcpus 2 --vcpu-sig a00f11 \
        --kernel "$T/vmlinuz" -- snp --ovmf "$T/sev.fd" --vcpus 2 --vcpu-type EPYC-Milan \
        --kernel "$T/vmlinuz"
    model_vs_cli "snp kernel hashes: kernel, initrd, command line" snp "$T/sev.fd" --vcpus 2 \
        --vcpu-sig a00f11 --kernel "$T/vmlinuz" --initrd "$T/initrd" --append console=ttyS0 -- \
        snp --ovmf "$T/sev.fd" --vcpus 2 --vcpu-type EPYC-Milan --kernel "$T/vmlinuz" \
        --initrd "$T/initrd" --append console=ttyS0
    model_vs_cli "tdx MRTD, page order single" mrtd "$T/tdx.fd" -- tdx --tdvf "$T/tdx.fd"
    model_vs_cli "tdx MRTD, page order two" mrtd "$T/tdx.fd" --page-order two -- \
        tdx --tdvf "$T/tdx.fd" --page-order two
    # the model on Debian's OVMF.fd gives the public calculators' values (vectors.tsv)
    if [ -n "$VEC" ] && [ -r "$TSV" ]; then
        sha=$(sha256sum "$FW" | cut -d' ' -f1)
        n=0
        while IFS='	' read -r kind _ fw_sha vcpus vtype vmm feat ksha _ _ want calc; do
            [ "$kind" = kind ] || [ "$fw_sha" != "$sha" ] || [ "$ksha" != "-" ] && continue
            if [ "$kind" = snp ]; then
                case $vtype in
                EPYC-v4) sig=800f12 ;;
                EPYC-Milan) sig=a00f11 ;;
                *) sig=0 ;;
                esac
                got=$($MODEL snp "$FW" --vcpus "$vcpus" --vcpu-sig $sig --features "$feat" \
                    --vmm "$vmm")
            else
                got=$($MODEL mrtd "$FW")
            fi
            n=$((n + 1))
            [ "$got" = "$want" ] && ok "the model gives $calc's value ($kind $vmm $vtype)" ||
                fail "the model on $FW ($kind $vmm $vcpus $vtype): '$got', vectors.tsv '$want'"
        done <"$TSV"
        [ "$n" -ge 5 ] || fail "the model: only $n vector rows checked"
    fi
    # A firmware with the kernel hashes section, and --kernel: the kernel, initrd and command
    # line are measured, so no warning; without --kernel, the warning (this firmware has the
    # section: "no --kernel" alone).
    run "$CVM" measure snp --ovmf "$T/sev.fd" --vcpus 2 --vcpu-type EPYC-Milan \
        --kernel "$T/vmlinuz" --append console=ttyS0 --policy-out "$T/kp.json"
    if [ "$rc" -eq 0 ] && [ -z "$err" ] && jq -e --arg n "$fw_only" --arg m "$out" \
        '(.description | contains($n) | not) and .snp.measurements == [$m]' "$T/kp.json" \
        >/dev/null; then
        ok "--policy-out with --kernel on a kernel-hashes firmware: no warning"
    else
        fail "--kernel policy: rc=$rc stderr '$err' $(jq -c .description "$T/kp.json")"
    fi
    run "$CVM" measure snp --ovmf "$T/sev.fd" --vcpus 2 --vcpu-type EPYC-Milan \
        --policy-out "$T/np.json"
    if [ "$rc" -eq 0 ] && printf '%s' "$err" | grep -q "not measured (no --kernel): any would pass" &&
        jq -e --arg n "$fw_only" '.description | contains($n)' "$T/np.json" >/dev/null; then
        ok "--policy-out without --kernel on a kernel-hashes firmware: warned"
    else
        fail "no --kernel on a kernel-hashes firmware: rc=$rc stderr '$err'"
    fi
    # the note comes first and is never cut; with inputs cut (a firmware path of 3600
    # bytes) the description stays within a policy's 4096 bytes
    seg=$(awk 'BEGIN { for (i = 0; i < 200; i++) printf "d" }')
    deep=$T
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18; do deep="$deep/$seg"; done
    if mkdir -p "$deep" && cp "$T/sev.fd" "$deep/fw.fd"; then
        run "$CVM" measure snp --ovmf "$deep/fw.fd" --vcpus 2 --vcpu-type EPYC-Milan \
            --policy-out "$T/deep.json"
        if [ "$rc" -eq 0 ] && jq -e --arg n "$fw_only" '.description |
            startswith("cvmattest measure snp (" + $n + "): {") and
            contains("... [cut: the first ") and (utf8bytelength <= 4096)' "$T/deep.json" \
            >/dev/null && "$CVM" policy check "$T/deep.json" >/dev/null 2>&1; then
            ok "firmware-only note and inputs cut: the description holds both, within 4096 bytes"
        else
            fail "note and cut: rc=$rc $err $(jq -c .description "$T/deep.json" | head -c 300)"
        fi
    fi
else
    fail "launch_model.py could not build the synthetic images"
fi

# --- TDX direct kernel boot: RTMR 1 and 2 ---
MKPE="$(dirname "$0")/../measure/mkpe.py"
python3 "$MKPE" "$T/k.efi" 1 || fail "mkpe"
python3 "$MKPE" "$T/k2.efi" 2 || fail "mkpe"
head -c 5000 /dev/urandom >"$T/initrd.img"
# The kernel's Authenticode digest against an independent implementation: osslsigncode
# signs a copy with SHA-384 and reports the digest it computed; the signature itself is
# outside the digest, so cvmattest's value for the signed image must equal it.
if command -v osslsigncode >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/sk.pem" -out "$T/sc.pem" -days 2 \
        -subj /CN=cvmattest-test >/dev/null 2>&1 || fail "openssl req"
    osslsigncode sign -h sha384 -certs "$T/sc.pem" -key "$T/sk.pem" -in "$T/k.efi" \
        -out "$T/ks.efi" >/dev/null 2>&1 || fail "osslsigncode sign"
    want=$(osslsigncode verify -in "$T/ks.efi" 2>/dev/null |
        sed -n 's/^Calculated message digest *: *\([0-9A-Fa-f]*\).*/\1/p' | head -1 |
        tr 'A-F' 'a-f')
    for f in k.efi ks.efi; do
        run "$CVM" measure tdx --tdvf "$FW" --kernel "$T/$f" --kernel-patch none --json
        got=$(printf '%s' "$out" | jq -r .inputs.kernel_authenticode_sha384)
        if [ "$rc" -eq 0 ] && [ ${#want} -eq 96 ] && [ "$got" = "$want" ]; then
            ok "Authenticode SHA-384 of $f = osslsigncode's ($want)"
        else
            fail "Authenticode of $f: rc=$rc got '$got' want '$want' $err"
        fi
    done
else
    fail "osslsigncode missing (make deps installs it)"
fi
expect_fail "--initrd without --memory (qemu patch)" "memory SIZE is needed" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --initrd "$T/initrd.img"
expect_fail "--memory without --kernel" "need --kernel" "$CVM" measure tdx --tdvf "$FW" --memory 4G
for m in " 4G" "+4G" "4GB" "0" "-1G"; do
    expect_fail "--memory '$m'" "a size like" \
        "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --memory="$m"
done
# launch's rule (one function for both): a whole number of MiB up to 16T. QEMU rounds -m to
# 8 KiB, so a byte count would give RTMRs (initrd address, TD HOB) no guest has.
for m in 2097153K 1025K 16777217M 17T 100000T; do
    expect_fail "--memory '$m' (not whole MiB up to 16T, as launch)" \
        "a whole number of MiB up to 16T, not '$m'" \
        "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --initrd "$T/initrd.img" --memory="$m"
done
for m in 2048M 2G 2048 16T; do
    run "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --initrd "$T/initrd.img" \
        --memory="$m" --json
    want=$(printf '%s' "$out" | jq -r .inputs.memory_bytes)
    [ "$rc" -eq 0 ] && [ "$want" -gt 0 ] && [ $((want % 1048576)) -eq 0 ] &&
        ok "--memory $m accepted ($want bytes)" || fail "--memory $m: rc=$rc $err"
done
# a kernel that is empty, or shorter than the 4 KiB QEMU reads as its header, says so
: >"$T/empty.k"
head -c 768 "$T/k.efi" >"$T/short.k"
expect_fail "an empty --kernel" "empty.k': the kernel is empty" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/empty.k"
expect_fail "a --kernel of 768 bytes" "the kernel is 768 bytes, under the 4096" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/short.k"
expect_fail "measure snp --memory" "are for measure tdx" \
    "$CVM" measure snp --ovmf "$FW" --vcpus 1 --vcpu-type EPYC --memory 2048M
: >"$T/empty.img"
expect_fail "an empty --initrd (OVMF measures none, QEMU still patches the kernel)" "is empty" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --initrd "$T/empty.img" --memory 4G
expect_fail "bad --kernel-patch" "qemu or none" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --kernel-patch ovmf
expect_fail "a kernel that is not PE" "not a PE/COFF image" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/initrd.img" --kernel-patch none
expect_fail "an --append with a 'vga=' QEMU refuses" "invalid 'vga='" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --append "console=ttyS0 vga=bogus"
# QEMU writes vid_mode for vga=: the kernel TDVF measures changes (not with --kernel-patch none).
ka=$("$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --append "console=ttyS0" --json |
    jq -r .inputs.kernel_authenticode_sha384)
kb=$("$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --append "console=ttyS0 vga=normal" \
    --json | jq -r .inputs.kernel_authenticode_sha384)
[ ${#ka} -eq 96 ] && [ ${#kb} -eq 96 ] && [ "$ka" != "$kb" ] &&
    ok "vga=normal in --append changes the kernel QEMU hands TDVF" ||
    fail "vga= ignored by the qemu patch ($ka, $kb)"
# Inputs that are not UTF-8 (a Latin-1 command line, a path): JSON holds only UTF-8, so each
# is written as KEY_hex, its bytes in hex, in KEY's place; never dropped.
latin1=$(printf 'console=ttyS0 caf\351')
cp "$T/k.efi" "$T/k$(printf '\351').efi"
run "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k$(printf '\351').efi" --initrd "$T/initrd.img" \
    --memory 2G --append "$latin1" --json --policy-out "$T/p$(printf '\351').json"
khex=$(printf '%s' "$T/k$(printf '\351').efi" | od -An -tx1 | tr -d ' \n')
phex=$(printf '%s' "$T/p$(printf '\351').json" | od -An -tx1 | tr -d ' \n')
if [ "$rc" -eq 0 ] && printf '%s' "$out" | jq -e --arg k "$khex" --arg p "$phex" \
    '.inputs.append_hex == "636f6e736f6c653d747479533020636166e9" and
     (.inputs | has("append") | not) and .inputs.kernel_hex == $k and
     (.inputs | has("kernel") | not) and .policy_out_hex == $p' >/dev/null &&
    jq -e '.description | contains("\"append_hex\":\"636f6e736f6c653d747479533020636166e9\"")' \
        "$T/p$(printf '\351').json" >/dev/null; then
    ok "a Latin-1 --append and paths: append_hex, kernel_hex, policy_out_hex (--json, policy)"
else
    fail "not UTF-8 inputs: rc=$rc $err $(printf '%s' "$out" | jq -c '.inputs, .policy_out_hex')"
fi
# A long command line of two-byte characters: the policy's description (at most 4096 bytes)
# holds the inputs cut before a character, never inside one, and says so. The second run
# shifts the text by a byte, so one of the two cuts falls inside a character.
long=$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "\303\251" }')
for a in "$long" "x$long"; do
    run "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --append "$a" --json \
        --policy-out "$T/long.json"
    if [ "$rc" -eq 0 ] && printf '%s' "$out" | jq -e --arg a "$a" '.inputs.append == $a' \
        >/dev/null && jq -e '.description | startswith("cvmattest measure tdx: {") and
        contains("... [cut: the first ") and (utf8bytelength <= 4096)' "$T/long.json" \
        >/dev/null && "$CVM" policy check "$T/long.json" >/dev/null 2>&1; then
        ok "a long --append of two-byte characters: whole in --json, cut on a character in the policy"
    else
        fail "long --append: rc=$rc $err $(jq -c .description "$T/long.json" | head -c 200)"
    fi
done
# An empty command line without an initrd: OVMF passes no LoadOptions, the stub measures
# nothing, RTMR 2 stays all zeros.
zero48=$(printf '%096d' 0)
for a in "" none; do
    if [ "$a" = none ]; then
        run "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --json
    else
        run "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --append "" --json
    fi
    if [ "$rc" -eq 0 ] && printf '%s' "$out" |
        jq -e --arg z "$zero48" '.rtmrs.rtmr2 == $z and .rtmr_events.rtmr2 == []' >/dev/null; then
        ok "no command line ($a), no initrd: no RTMR 2 event, RTMR 2 all zeros"
    else
        fail "empty command line ($a): rc=$rc $(printf '%s' "$out" | jq -c .rtmr_events.rtmr2)"
    fi
done
base="--tdvf $FW --kernel $T/k.efi --initrd $T/initrd.img"
args="$base --memory 4G"
run "$CVM" measure tdx $args --append "console=hvc0 root=/dev/vda1" --json \
    --policy-out "$T/tdx.json"
mrtd=$(printf '%s' "$out" | jq -r .measurement)
r1=$(printf '%s' "$out" | jq -r .rtmrs.rtmr1)
r2=$(printf '%s' "$out" | jq -r .rtmrs.rtmr2)
if [ "$rc" -eq 0 ] && [ ${#r1} -eq 96 ] && [ ${#r2} -eq 96 ] &&
    jq -e --arg m "$mrtd" --arg a "$r1" --arg b "$r2" \
        '.tdx.mr_td == [$m] and .tdx.rtmr1 == [$a] and .tdx.rtmr2 == [$b]' "$T/tdx.json" \
        >/dev/null; then
    ok "tdx --policy-out pins MRTD, RTMR 1 and RTMR 2"
else
    fail "tdx --policy-out: rc=$rc $err"
fi
[ -z "$err" ] && ok "tdx --policy-out with a command line: no warning" ||
    fail "tdx --policy-out with a command line warned: $err"
# No command line and no initrd: RTMR 2 predicted all zeros, which a kernel that does not
# measure its command line also gives for any: pinned all the same, but said (stderr, and the
# policy's description).
run "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --kernel-patch none --policy-out "$T/z.json"
if [ "$rc" -eq 0 ] && printf '%s' "$err" | grep -q "cvmattest measure tdx: warning: the policy pins RTMR 2 as all zeros" &&
    jq -e '(.tdx.rtmr2 == ["'"$(printf '%096d' 0)"'"]) and (.description | startswith("cvmattest measure tdx (RTMR 2 all zeros: no command line and no initrd measured)"))' \
        "$T/z.json" >/dev/null; then
    ok "tdx --policy-out pinning RTMR 2 as zeros: warned, and the description says so"
else
    fail "tdx RTMR 2 zeros policy: rc=$rc stderr: $err; $(jq -c '[.tdx.rtmr2, .description]' "$T/z.json")"
fi
# Each input moves its RTMR: the command line and initrd RTMR 2 only, the kernel RTMR 1.
r2b=$("$CVM" measure tdx $args --append "console=hvc0 root=/dev/vda2" --json | jq -r .rtmrs.rtmr2)
r1b=$("$CVM" measure tdx --tdvf "$FW" --kernel "$T/k2.efi" --initrd "$T/initrd.img" \
    --memory 4G --append "console=hvc0 root=/dev/vda1" --json | jq -r .rtmrs.rtmr1)
r1c=$("$CVM" measure tdx $base --memory 1G --append "console=hvc0 root=/dev/vda1" --json |
    jq -r .rtmrs.rtmr1)
[ "$r2b" != "$r2" ] && [ ${#r2b} -eq 96 ] && ok "another command line gives another RTMR 2" ||
    fail "RTMR 2 ignores the command line"
[ "$r1b" != "$r1" ] && [ ${#r1b} -eq 96 ] && ok "another kernel gives another RTMR 1" ||
    fail "RTMR 1 ignores the kernel"
[ "$r1c" != "$r1" ] && [ ${#r1c} -eq 96 ] &&
    ok "another memory size moves the initrd QEMU writes into the kernel: another RTMR 1" ||
    fail "RTMR 1 ignores --memory with the qemu patch"
# RTMR 0 from QEMU's ACPI blobs and the memory size (stand-in blobs: the values are only
# checked to move with their inputs; tests/unit/test_measure.c checks the event encoding).
mkdir -p "$T/acpi"
head -c 4096 /dev/urandom >"$T/acpi/table-loader"
head -c 36 /dev/urandom >"$T/acpi/rsdp"
head -c 9000 /dev/urandom >"$T/acpi/tables"
expect_fail "--acpi-tables without --memory" "needs --memory" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --acpi-tables "$T/acpi"
expect_fail "--acpi-tables with a blob missing" "cannot read" \
    "$CVM" measure tdx --tdvf "$FW" --kernel "$T/k.efi" --memory 4G --acpi-tables "$T"
# --policy-out naming one of the ACPI blobs is refused as naming any input is: the blob kept
cp "$T/acpi/tables" "$T/tables.before"
for b in table-loader rsdp tables; do
    expect_fail "--policy-out the ACPI blob $b" "is the input --acpi-tables '$T/acpi/$b'" \
        "$CVM" measure tdx $args --acpi-tables "$T/acpi" --policy-out "$T/acpi/$b"
done
cmp -s "$T/tables.before" "$T/acpi/tables" && ok "the ACPI blob kept" || fail "the ACPI blob replaced"
r0a=$("$CVM" measure tdx $args --acpi-tables "$T/acpi" --json | jq -r .rtmrs.rtmr0)
r0b=$("$CVM" measure tdx $base --memory 1G --acpi-tables "$T/acpi" --json | jq -r .rtmrs.rtmr0)
head -c 9000 /dev/urandom >"$T/acpi/tables"
r0c=$("$CVM" measure tdx $args --acpi-tables "$T/acpi" --json | jq -r .rtmrs.rtmr0)
if [ ${#r0a} -eq 96 ] && [ "$r0a" != "$r0b" ] && [ "$r0a" != "$r0c" ] && [ ${#r0c} -eq 96 ]; then
    ok "RTMR 0 with --acpi-tables, moved by the memory size and by the ACPI tables"
else
    fail "RTMR 0: '$r0a' '$r0b' '$r0c'"
fi
run "$CVM" policy check "$T/tdx.json"
[ "$rc" -eq 0 ] && ok "the TDX policy loads (policy check)" || fail "policy check tdx: $err $out"
"$CVM" sim tdx --out "$T/tgood" --mr-td "$mrtd" --rtmr 1="$r1" --rtmr 2="$r2" >/dev/null ||
    fail "sim tdx (good)"
run "$CVM" verify "$T/tgood/bundle.json" --collateral "$T/tgood" \
    --trust-root "$T/tgood/root_ca.pem" --policy "$T/tdx.json"
[ "$rc" -eq 0 ] && ok "a TD quote with the predicted MRTD and RTMR 1, 2 is accepted" ||
    fail "good TD quote: rc=$rc $out $err"
"$CVM" sim tdx --out "$T/tbad" --mr-td "$mrtd" --rtmr 1="$r1" --rtmr 2="$r2b" >/dev/null ||
    fail "sim tdx (bad)"
run "$CVM" verify "$T/tbad/bundle.json" --collateral "$T/tbad" \
    --trust-root "$T/tbad/root_ca.pem" --policy "$T/tdx.json" --json
if [ "$rc" -eq 1 ] && printf '%s' "$out" | grep -q POLICY_RTMR; then
    ok "a TD quote booted with another command line (RTMR 2) is refused: POLICY_RTMR"
else
    fail "bad TD quote: rc=$rc $out $err"
fi

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all measure checks passed"
