#!/bin/sh
# The man page (docs/cvmattest.1) and the bash completion (cli/cvmattest.bash-completion)
# against the CLI itself: the man page renders without warnings, every option the CLI's help
# lists is in both, and the completion function completes commands, subcommands, options,
# option values and file names.
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
MAN=$SRC/docs/cvmattest.1
COMP=$SRC/cli/cvmattest.bash-completion
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
command -v bash >/dev/null 2>&1 || { echo "SKIP: bash not found"; exit 77; }

# --- the man page renders cleanly (groff -ww: all warnings) ---
if command -v groff >/dev/null 2>&1; then
    groff -man -Tutf8 -ww -z "$MAN" >"$T/warn" 2>&1 || fail "groff exit status"
    [ -s "$T/warn" ] && { fail "groff warnings:"; cat "$T/warn"; }
    echo "ok   man page renders without warnings"
else
    echo "note: groff not found, rendering not checked"
fi

# --- every option of the CLI's help texts, in the man page and the completion ---
{
    $CVM verify --help; $CVM show --help; $CVM sim snp --help; $CVM sim tdx --help
    $CVM collateral fetch --help; $CVM result check --help; $CVM policy --help
    $CVM registry help; $CVM bench --help; $CVM host-check --help; $CVM eventlog --help; $CVM measure --help; $CVM launch --help; $CVM tpm check-quote --help; $CVM witness help; $CVM tpm make-credential --help
    $CVM collect --help; $CVM guest-check --help
    $CVM serve --help
    $CVM atls-server --help; $CVM atls-client --help
} 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$T/opts"
[ "$(wc -l <"$T/opts")" -gt 40 ] || fail "too few options found in the help texts"
# the man page escapes '-' as '\-'
sed 's/\\-/-/g' "$MAN" >"$T/man.txt"
while read -r o; do
    grep -q -e "$o\([^a-z0-9-]\|\$\)" "$T/man.txt" || fail "man page lacks $o"
    grep -q -e "$o\([^a-z0-9-]\|\$\)" "$COMP" || fail "completion lacks $o"
done <"$T/opts"
for c in show verify sim collateral bench result policy registry demo host-check eventlog measure launch tpm witness collect guest-check serve atls-server atls-client help version; do
    grep -q "^\.B.* $c\|^\.B $c\|^\.BR $c" "$T/man.txt" || fail "man page lacks command $c"
done
echo "ok   $(wc -l <"$T/opts") options checked in the man page and the completion"

# --- the completion function ---
mkdir -p "$T/w/dir1" && : >"$T/w/evidence.bin" && : >"$T/w/root.pem"
cat >"$T/c.bash" <<EOS
. "$COMP"
c() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1)); COMPREPLY=(); _cvmattest; echo "\${COMPREPLY[*]}"; }
cd "$T/w"
EOS
expect() { # want, words...
    want=$1
    shift
    got=$(bash -c ". '$T/c.bash'; c $*" 2>&1)
    if [ "$got" = "$want" ]; then echo "ok   complete [$*] -> $got"; else fail "complete [$*]: got '$got', want '$want'"; fi
}
expect "result registry" cvmattest re
expect "snp tdx" cvmattest sim "''"
expect "keygen build prove check bench log help" cvmattest registry "''"
expect "keygen append prove check bench" cvmattest registry log "''"
expect "keygen cosign serve help" cvmattest witness "''"
expect "fetch" cvmattest collateral "''"
expect "snp tdx" cvmattest measure "''"
expect "qemu ec2 gce" cvmattest measure snp --vmm "''"
expect "--page-order" cvmattest measure tdx --page
expect "snp tdx" cvmattest launch --tee "''"
expect "--kvm-device" cvmattest launch --kvm
expect "check import" cvmattest policy "''"
expect "registry registry-log" cvmattest bench reg
expect "--trust-root" cvmattest verify ev --trust-r
expect "--seconds" cvmattest bench ev --se
expect "--product" cvmattest sim snp --pro
expect "--tcb-status" cvmattest sim tdx --tcb-s
expect "snp tdx tpm azure-snp azure-tdx" cvmattest verify ev --tee "''"
expect "milan genoa turin" cvmattest verify ev --product "''"
expect "revoked relaunch" cvmattest sim tdx --tcb-status re
expect "evidence.bin" cvmattest verify ev
expect "root.pem" cvmattest verify evidence.bin --trust-root r
expect "dir1" cvmattest sim snp --out d
expect "--pub" cvmattest result check t --pu
expect "--pccs-url --pccs-timeout" cvmattest host-check --pccs
expect "check-quote make-credential" cvmattest tpm "''"
expect "--secret-out" cvmattest tpm make-credential --sec
expect "--pcrs" cvmattest tpm check-quote --pc
expect "--tsm-root" cvmattest collect --tsm
expect "--cpuinfo" cvmattest guest-check --cpu

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
