#!/bin/sh
# cvmattest measure: the CLI on Debian's own OVMF (the figures of the shared
# measure/vectors.tsv, every row of which test_measure also checks through the library),
# --json, the refusals (--kernel without the kernel-hashes section, a code-only TDVF image,
# inputs left out), and --policy-out then verify --policy: a simulated SEV-SNP report with
# that measurement accepted, one with another refused.
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
expect_fail "tdx --policy-out without RTMR 1 and 2" "RTMR 1 and 2" \
    "$CVM" measure tdx --tdvf "$FW" --policy-out "$T/tdx.json"
[ -e "$T/tdx.json" ] && fail "a TDX policy pinning MRTD alone was written"
expect_fail "no subcommand" "usage" "$CVM" measure
run "$CVM" measure --help
[ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q -- "--policy-out" && ok "measure --help" ||
    fail "measure --help: rc=$rc"

# --- --policy-out, then verify --policy on simulated reports ---
run "$CVM" measure snp --ovmf "$FW" --vcpus 2 --vcpu-type EPYC-Genoa --policy-out "$T/policy.json"
m=$out
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

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all measure checks passed"
