#!/bin/sh
# cvmattest launch: the generated QEMU command lines for each QEMU variant probed (recorded
# --version and -object help outputs under tests/launch/, replayed by a stand-in binary),
# the refusals (a QEMU without the TEE's object, --svsm without IGVM or with an IGVM file that
# is not there or no IGVM image, no KVM, a probe that hangs, floods or fails), a comma in the --svsm path doubled in the option string, and the
# execution path (the stand-in receives exactly the printed arguments).
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
FW=/usr/share/ovmf/OVMF.fd
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
[ -r "$FW" ] || { echo "SKIP: $FW missing: Debian's ovmf package (make deps installs it)"; exit 77; }

# fake VARIANT: a stand-in qemu replaying tests/launch/VARIANT; other calls record their args
fake() {
    d=$SRC/tests/launch/$1
    cat >"$T/qemu-$1" <<EOS
#!/bin/sh
case "\$1" in
--version) cat "$d/version.txt" ;;
-object) [ "\$2" = help ] && cat "$d/object-help.txt" ;;
*) for a in "\$@"; do printf '%s\n' "\$a"; done >"$T/ran-$1" ;;
esac
EOS
    chmod +x "$T/qemu-$1"
}

# --kvm-device: a file this test made, so the printed lines do not depend on this host's KVM
: >"$T/kvm"
n=0
for dir in "$SRC"/tests/launch/*/; do
    v=$(basename "$dir")
    fake "$v"
    for tee in snp tdx; do
        "$CVM" launch --tee $tee --ovmf "$FW" --vcpus 2 --memory 4G --qemu "$T/qemu-$v" --print \
            --kvm-device "$T/kvm" >"$T/out" 2>&1
        rc=$?
        sed "s|$T/qemu-$v|QEMU|" "$T/out" >"$T/got"
        if cmp -s "$T/got" "$dir/$tee.expected"; then
            ok "$v --tee $tee (exit $rc): $(grep -m1 -e '-object' -e 'has no' "$T/got" | head -1)"
        else
            fail "$v --tee $tee differs from $tee.expected:"
            diff "$dir/$tee.expected" "$T/got"
        fi
        n=$((n + 1))
    done
done
[ "$n" -ge 8 ] || fail "only $n variant/TEE pairs checked"

# --- what each command line must hold ---
E=$SRC/tests/launch
grep -q -- '-bios /usr/share/ovmf/OVMF.fd' "$E/upstream-qemu-9.2/snp.expected" &&
    ! grep -q pflash "$E/upstream-qemu-9.2/snp.expected" && ok "SNP: one OVMF.fd with -bios" ||
    fail "SNP firmware option"
grep -q 'quote-generation-socket.*"cid":"2"' "$E/upstream-qemu-10.1/tdx.expected" &&
    ok "TDX (upstream): quote-generation-socket over vsock CID 2" || fail "TDX quote socket"
grep -q 'quote-generation-service=vsock:2:4050' "$E/intel-tdx-qemu-7.2/tdx.expected" &&
    ok "TDX (Intel 7.2 tree): quote-generation-service vsock:2" || fail "TDX old quote option"
grep -q 'vhost-vsock-pci' "$E/upstream-qemu-10.1/tdx.expected" && ok "vsock device present" ||
    fail "vsock device"
want=$("$CVM" measure tdx --tdvf "$FW")
grep -q "expected MRTD (tdx; page order single): $want" "$E/upstream-qemu-10.1/tdx.expected" &&
    ok "the expected MRTD is measure tdx's" || fail "expected MRTD beside the command line"

# --- direct kernel boot and SVSM ---
echo vmlinuz >"$T/kernel"
"$CVM" launch --tee snp --ovmf "$FW" --vcpus 1 --memory 2G --kernel "$T/kernel" \
    --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "kernel-hashes section" "$T/err" &&
    ok "SNP --kernel with firmware lacking kernel hashes refused" ||
    fail "SNP --kernel refusal: rc=$rc $(cat "$T/err")"
# a kernel or initrd is hashed as measure hashes it, whatever its size up to what QEMU loads
# (4 GiB; an initrd of 1.1 GiB is not refused as unreadable) and no further (/dev/zero)
truncate -s 1100M "$T/big-initrd"
"$CVM" launch --tee snp --ovmf "$FW" --vcpus 1 --memory 4G --kernel "$T/kernel" \
    --initrd "$T/big-initrd" --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "kernel-hashes section" "$T/err" &&
    ok "SNP --initrd of 1.1 GiB hashed (then refused for the firmware)" ||
    fail "SNP --initrd of 1.1 GiB: rc=$rc $(cat "$T/err")"
rm -f "$T/big-initrd"
# QEMU opens the firmware, the kernel and the initrd itself when it starts: each must be a
# regular file. A FIFO is refused at once, not waited on; /dev/zero and a directory too, each
# saying why; a sparse file past 4 GiB is refused before it is read.
mkfifo "$T/fifo"
truncate -s 5G "$T/sparse5g"
for c in "ovmf:$T/fifo:not a regular file" "ovmf:$T:not a regular file" \
    "kernel:$T/fifo:not a regular file" "kernel:/dev/zero:not a regular file" \
    "initrd:$T/fifo:not a regular file" "kernel:$T/sparse5g:is larger than 4 GiB"; do
    opt=${c%%:*} rest=${c#*:}
    f=${rest%%:*} why=${rest#*:}
    fw="$FW" kernel="" initrd=""
    case $opt in
    ovmf) fw=$f ;;
    kernel) kernel=$f ;;
    initrd) kernel="$T/kernel" initrd=$f ;;
    esac
    for tee in snp tdx; do
        [ $tee = tdx ] && [ "$opt" != ovmf ] && continue
        timeout 20 "$CVM" launch --tee $tee --ovmf "$fw" --vcpus 1 --memory 2G \
            ${kernel:+--kernel "$kernel"} ${initrd:+--initrd "$initrd"} \
            --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
        rc=$?
        [ $rc -eq 2 ] && [ ! -s "$T/out" ] && grep -qF -- "$f" "$T/err" && grep -qF -- "$why" "$T/err" &&
            ok "$tee --$opt $(basename "$f"): refused ($(cat "$T/err"))" ||
            fail "$tee --$opt $f: rc=$rc $(cat "$T/err")"
    done
done
rm -f "$T/sparse5g"
# a refusal of the firmware's contents names the file
"$CVM" launch --tee snp --ovmf "$T/kernel" --vcpus 1 --memory 2G \
    --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "cvmattest launch: $T/kernel: " "$T/err" &&
    ok "a firmware that is no OVMF image: named ($(cat "$T/err"))" ||
    fail "firmware refusal without its name: rc=$rc $(cat "$T/err")"
# --guest-features without SNPActive is the option's fault, said before any file is read
"$CVM" launch --tee snp --ovmf "$T/fifo" --vcpus 1 --memory 2G --guest-features 0x20 \
    --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--guest-features 0x20 lacks SNPActive (bit 0)" "$T/err" &&
    ok "--guest-features 0x20 refused as an option" || fail "--guest-features 0x20: rc=$rc $(cat "$T/err")"
# mkigvm FILE [VERSION [VAR_OFFSET [VAR_SIZE [TOTAL [LEN]]]]]: an IGVM image's fixed header
# (magic "IGVM", format version, variable header offset and size, total file size, checksum)
# padded with zeros to LEN bytes; by default a well-formed 32-byte version 1 image.
mkigvm() {
    python3 -c 'import struct, sys
a = [int(x) for x in sys.argv[2:]] + [1, 24, 8, 32, 32][len(sys.argv) - 2:]
h = b"IGVM" + struct.pack("<5I", a[0], a[1], a[2], a[3], 0)
open(sys.argv[1], "wb").write((h + bytes(max(0, a[4] - len(h))))[:a[4]])' "$@"
}
mkigvm "$T/svsm.igvm"
"$CVM" launch --tee snp --svsm "$T/svsm.igvm" --vcpus 1 --memory 2G \
    --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && grep -q "igvm-cfg,id=igvm0,file=$T/svsm.igvm" "$T/out" &&
    grep -q "igvm-cfg=igvm0" "$T/out" && ! grep -q -- "-bios" "$T/out" &&
    ok "SNP --svsm on QEMU with IGVM: igvm-cfg, no -bios" || fail "--svsm: rc=$rc $(cat "$T/out" "$T/err")"
# a comma in the path is doubled in QEMU's option string (",," is one ','): it cannot add
# properties to the object (",id=evil"), in the printed line and in what QEMU is given
mkigvm "$T/x.igvm,id=evil"
"$CVM" launch --tee snp --svsm "$T/x.igvm,id=evil" --vcpus 1 --memory 2G --kvm-device "$T/kvm" \
    --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && grep -q -- "-object igvm-cfg,id=igvm0,file=$T/x.igvm,,id=evil " "$T/out" &&
    ! grep -q "x.igvm,id=evil" "$T/out" &&
    ok "--svsm path with a comma: doubled in igvm-cfg's file=" ||
    fail "--svsm path with a comma: rc=$rc $(grep igvm-cfg, "$T/out") $(cat "$T/err")"
rm -f "$T/ran-upstream-qemu-10.1"
"$CVM" launch --tee snp --svsm "$T/x.igvm,id=evil" --vcpus 1 --memory 2G --kvm-device "$T/kvm" \
    --qemu "$T/qemu-upstream-qemu-10.1" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && grep -qx "igvm-cfg,id=igvm0,file=$T/x.igvm,,id=evil" "$T/ran-upstream-qemu-10.1" &&
    ok "--svsm path with a comma: QEMU is given it doubled" ||
    fail "--svsm path with a comma, executed: rc=$rc $(grep igvm-cfg, "$T/ran-upstream-qemu-10.1" 2>&1)"
# an IGVM file that is not there (its path naming another file after a comma) or is not a
# regular file is refused as --ovmf is: exit 2, nothing printed
for f in "/nonexistent,file=/etc/passwd" "$T"; do
    "$CVM" launch --tee snp --svsm "$f" --vcpus 1 --memory 2G --kvm-device "$T/kvm" \
        --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] && [ ! -s "$T/out" ] && grep -q "cannot read '$f': " "$T/err" &&
        ok "--svsm '$f': refused ($(cat "$T/err"))" || fail "--svsm '$f': rc=$rc $(cat "$T/err")"
done
# a file that is no IGVM image, or one whose fixed header does not hold, is refused the same
# way, saying why (QEMU would refuse it only when it starts)
echo igvm >"$T/text.igvm"
mkigvm "$T/cut.igvm" 1 24 8 32 28
mkigvm "$T/v3.igvm" 3
mkigvm "$T/outside.igvm" 1 24 16
mkigvm "$T/inside-fixed.igvm" 2 24
for c in "text:does not begin with \"IGVM\"" "cut:gives 32 bytes, but the file is 28 bytes" \
    "v3:format version 3" "outside:variable header (16 bytes at offset 24)" \
    "inside-fixed:after the 32-byte fixed header"; do
    f="$T/${c%%:*}.igvm"
    "$CVM" launch --tee snp --svsm "$f" --vcpus 1 --memory 2G --kvm-device "$T/kvm" \
        --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] && [ ! -s "$T/out" ] && grep -qF -- "--svsm $f: " "$T/err" &&
        grep -qF -- "${c#*:}" "$T/err" && ok "--svsm ${c%%:*}.igvm: refused ($(cat "$T/err"))" ||
        fail "--svsm ${c%%:*}.igvm: rc=$rc $(cat "$T/err")"
done
"$CVM" launch --tee snp --svsm "$T/svsm.igvm" --vcpus 1 --memory 2G \
    --qemu "$T/qemu-upstream-qemu-9.2" --print >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "no igvm-cfg" "$T/err" && ok "--svsm on QEMU 9.2 refused" ||
    fail "--svsm on 9.2: rc=$rc"

# --- no KVM: refused, nothing run; with KVM the stand-in gets the printed arguments ---
rm -f "$T/ran-upstream-qemu-10.1"
"$CVM" launch --tee tdx --ovmf "$FW" --vcpus 2 --memory 4G --qemu "$T/qemu-upstream-qemu-10.1" \
    --kvm-device "$T/no-such-kvm" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "KVM is not available" "$T/err" && [ ! -e "$T/ran-upstream-qemu-10.1" ] &&
    ok "no KVM: refused with a clear message, QEMU not run" || fail "no KVM: rc=$rc $(cat "$T/err")"
"$CVM" launch --tee tdx --ovmf "$FW" --vcpus 2 --memory 4G --qemu "$T/qemu-upstream-qemu-10.1" \
    --kvm-device "$T/kvm" >"$T/out" 2>"$T/err"
rc=$?
"$CVM" launch --tee tdx --ovmf "$FW" --vcpus 2 --memory 4G --qemu "$T/qemu-upstream-qemu-10.1" \
    --print 2>/dev/null | sed '/^#/d; s/ \\$//; s/^    //' | tr ' ' '\n' | tail -n +2 |
    sed "s/^'\(.*\)'$/\1/" >"$T/want-args"
if [ $rc -eq 0 ] && [ -e "$T/ran-upstream-qemu-10.1" ] && cmp -s "$T/ran-upstream-qemu-10.1" "$T/want-args" &&
    grep -q "expected MRTD" "$T/err"; then
    ok "executed: QEMU got the printed arguments; the expected MRTD on stderr"
else
    fail "execution: rc=$rc"
    diff "$T/want-args" "$T/ran-upstream-qemu-10.1"
fi

# --- usage ---
"$CVM" launch --tee sev --ovmf "$FW" --vcpus 1 --memory 1G --print >/dev/null 2>&1
[ $? -eq 2 ] && ok "bad --tee refused" || fail "bad --tee"
"$CVM" launch --tee snp --ovmf "$FW" --vcpus 1 --memory lots --print >/dev/null 2>&1
[ $? -eq 2 ] && ok "bad --memory refused" || fail "bad --memory"
# a bare --memory is MiB for -m and for the memory backend's size= alike (which read a bare
# number as MiB and as bytes): both are given the size with its unit
for pair in "snp upstream-qemu-10.1" "tdx intel-tdx-qemu-7.2"; do
    set -- $pair
    tee=$1
    "$CVM" launch --tee "$tee" --ovmf "$FW" --vcpus 2 --memory 4096 --kvm-device "$T/kvm" \
        --qemu "$T/qemu-$2" --print >"$T/out" 2>"$T/err"
    if grep -q "size=4G" "$T/out" && grep -q -- "-m 4G" "$T/out" && ! grep -q "4096" "$T/out"; then
        ok "$tee --memory 4096: -m 4G and size=4G"
    else
        fail "$tee --memory 4096: $(grep -e size= -e '-m ' "$T/out") $(cat "$T/err")"
    fi
done
"$CVM" launch --tee snp --ovmf "$FW" --vcpus 2 --memory 1536 --kvm-device "$T/kvm" \
    --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>&1
grep -q "size=1536M" "$T/out" && grep -q -- "-m 1536M" "$T/out" && ok "--memory 1536: 1536M" ||
    fail "--memory 1536: $(grep -e size= -e '-m ' "$T/out")"
for m in 0 " 4096" +4096 4097K 17T 4GB; do
    "$CVM" launch --tee snp --ovmf "$FW" --vcpus 1 --memory "$m" --print >/dev/null 2>"$T/err"
    [ $? -eq 2 ] && grep -q "a size like" "$T/err" && ok "--memory '$m' refused" ||
        fail "--memory '$m': $(cat "$T/err")"
done
# numbers read strictly, and QEMU given the number read, not the text
for v in " +2" +2 " 2" 0 513; do
    "$CVM" launch --tee snp --ovmf "$FW" --vcpus "$v" --memory 1G --print >/dev/null 2>"$T/err"
    [ $? -eq 2 ] && grep -q "a number 1..512" "$T/err" && ok "--vcpus '$v' refused" ||
        fail "--vcpus '$v': $(cat "$T/err")"
done
"$CVM" launch --tee snp --ovmf "$FW" --vcpus 02 --memory 1G --kvm-device "$T/kvm" \
    --qemu "$T/qemu-upstream-qemu-10.1" --print >"$T/out" 2>&1
grep -q -- "-smp 2 " "$T/out" && ok "--vcpus 02: -smp 2" || fail "--vcpus 02: $(grep smp "$T/out")"
for f in " -1" +1 0x0x1 0x; do
    "$CVM" launch --tee snp --ovmf "$FW" --vcpus 1 --memory 1G --guest-features "$f" --print \
        >/dev/null 2>"$T/err"
    [ $? -eq 2 ] && grep -q "hex digits" "$T/err" && ok "--guest-features '$f' refused" ||
        fail "--guest-features '$f': $(cat "$T/err")"
done
"$CVM" launch --tee snp --ovmf "$FW" --vcpus 1 --memory 1G --qemu "$T/none" --print >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "cannot run" "$T/err" && ok "missing QEMU refused" || fail "missing QEMU"
# --- the probes are bounded: 10 s each, 256 KiB of output; the probe's process group killed ---
# stand-ins: one that never answers (its child's pid recorded), one that answers but leaves a
# process holding its output open, one whose -object help never ends, one that fails
cat >"$T/qhang" <<EOS
#!/bin/sh
sleep 1000 &
echo \$! >"$T/qhang.pid"
wait
EOS
cat >"$T/qbg" <<EOS
#!/bin/sh
case "\$1" in
--version) sh -c 'echo \$\$ >"$T/qbg.pid"; exec sleep 1000' & echo "QEMU emulator version 10.1.0" ;;
esac
EOS
cat >"$T/qflood" <<EOS
#!/bin/sh
case "\$1" in
--version) echo "QEMU emulator version 10.1.0" ;;
-object) yes 'sev-snp-guest tdx-guest igvm-cfg' | head -c 2000000000 ;;
esac
EOS
printf '#!/bin/sh\necho oops >&2\nexit 3\n' >"$T/qfail"
chmod +x "$T/qhang" "$T/qbg" "$T/qflood" "$T/qfail"
probe() { # NAME: runs launch --print with that stand-in; $rc, $secs, $T/err
    s=$(date +%s)
    timeout 60 "$CVM" launch --tee snp --ovmf "$FW" --vcpus 1 --memory 1G --qemu "$T/$1" \
        --kvm-device "$T/kvm" --print >"$T/out" 2>"$T/err"
    rc=$?
    secs=$(($(date +%s) - s))
}
# gone PIDFILE: that process no longer runs (gone, or a zombie its new parent has not reaped)
gone() {
    pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] || return 1
    case $(ps -o stat= -p "$pid" 2>/dev/null) in "" | Z*) return 0 ;; *) return 1 ;; esac
}
probe qhang
[ $rc -eq 2 ] && [ $secs -lt 30 ] && grep -q "qhang --version' did not finish within 10 s: killed" "$T/err" &&
    sleep 1 && gone "$T/qhang.pid" &&
    ok "a probe that never answers: killed after 10 s with its process group, exit 2 ($secs s)" ||
    fail "hanging probe: rc=$rc after $secs s: $(cat "$T/err")"
probe qbg
[ $rc -eq 2 ] && [ $secs -lt 30 ] && grep -q "qbg --version' exited, but a process it left behind kept its output open for 10 s" "$T/err" &&
    sleep 1 && gone "$T/qbg.pid" &&
    ok "a probe that leaves a process holding its output: that process killed, exit 2 ($secs s)" ||
    fail "probe with a process left behind: rc=$rc after $secs s: $(cat "$T/err")"
probe qflood
[ $rc -eq 2 ] && [ $secs -lt 30 ] && grep -q "qflood -object help' wrote 256 KiB or more" "$T/err" &&
    ! grep -q "cannot run" "$T/err" &&
    ok "a probe writing 2 GB: 'wrote 256 KiB or more', killed, exit 2 ($secs s)" ||
    fail "flooding probe: rc=$rc after $secs s: $(cat "$T/err")"
probe qfail
[ $rc -eq 2 ] && grep -q "qfail --version' exited with status 3" "$T/err" && ! grep -q "cannot run" "$T/err" &&
    ok "a probe that fails: 'exited with status 3', exit 2" || fail "failing probe: rc=$rc $(cat "$T/err")"
"$CVM" launch --help | grep -q -- "--print" && ok "launch --help" || fail "launch --help"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all launch checks passed"
