#!/bin/sh
# The man page (docs/cvmattest.1), the bash completion (cli/cvmattest.bash-completion) and
# docs/cli.md against the CLI itself: the man page renders without warnings; every option the
# CLI's help lists is in all three, and nothing they name is unknown to it; each command's
# options (the option column of its --help) are completed for that command and listed in
# its section of docs/cli.md; every command has a section there; and the completion function
# completes commands, subcommands, options, option values and file names. `help WORDS` prints
# what `WORDS --help` prints, for every command and subcommand level.
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
MAN=$SRC/docs/cvmattest.1
COMP=$SRC/cli/cvmattest.bash-completion
CLIMD=$SRC/docs/cli.md
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
    $CVM registry help; $CVM registry log help; $CVM bench --help; $CVM host-check --help; $CVM eventlog --help; $CVM measure --help; $CVM launch --help; $CVM tpm check-quote --help; $CVM witness help; $CVM tpm make-credential --help
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
# docs/cli.md, and nothing the three name that the CLI does not have (besides the examples of
# the syntax --opt, an abbreviation --trust-r, an ambiguous --coll, and pkg-config's flags)
optsin() { grep -o -- '--[a-z][a-z0-9-]*' "$@" | sort -u; }
for o in $(optsin "$CLIMD" | comm -23 "$T/opts" -); do fail "docs/cli.md lacks $o"; done
for f in "$T/man.txt" "$COMP" "$CLIMD"; do
    for o in $(optsin "$f" | comm -13 "$T/opts" - | grep -vx -e --opt -e --trust-r -e --coll \
            -e --cflags -e --libs); do
        fail "$(basename "$f") names $o, which no --help lists"
    done
done
for c in show verify sim collateral bench result policy registry demo host-check eventlog measure launch tpm witness collect guest-check serve atls-server atls-client help version; do
    grep -q "^\.B.* $c\|^\.B $c\|^\.BR $c" "$T/man.txt" || fail "man page lacks command $c"
done
echo "ok   $(wc -l <"$T/opts") options checked in the man page, the completion and docs/cli.md"

# --- each command's own options: completed for it, listed in its section of docs/cli.md ---
cat >"$T/c.bash" <<EOS
. "$COMP"
c() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1)); COMPREPLY=(); _cvmattest; printf '%s\n' "\${COMPREPLY[@]}"; }
EOS
# section HEADING: the text of docs/cli.md's "### `HEADING..." section
section() { awk -v h="### \`$1" 'index($0, h) == 1 { on = 1; print; next } /^### / { on = 0 } on' "$CLIMD"; }
# help words | completion words (',' between several) | docs/cli.md sections (',' between)
while IFS='|' read -r hw cw sec; do
    # the option column: lines that start with an option, up to its description
    $CVM $hw --help 2>&1 | grep -E '^ {2,8}--' | sed -E 's/^ +//; s/ {3,}.*//; s/  \(.*//' |
        grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$T/own"
    [ -s "$T/own" ] || fail "$hw --help: no options found"
    : >"$T/comp"
    echo "$cw" | tr ',' '\n' | while read -r w; do
        bash -c ". '$T/c.bash'; c cvmattest $w --" >>"$T/comp" 2>&1
    done
    : >"$T/sec"
    echo "$sec" | tr ',' '\n' | while read -r h; do section "$h" >>"$T/sec"; done
    [ -s "$T/sec" ] || fail "docs/cli.md has no section for $hw"
    for o in $(sort -u "$T/comp" | comm -23 "$T/own" -); do fail "completion of '$hw' lacks $o"; done
    for o in $(optsin "$T/sec" | comm -23 "$T/own" -); do
        fail "docs/cli.md's section on '$hw' lacks $o"
    done
    echo "ok   $hw: $(wc -l <"$T/own") options completed and in docs/cli.md"
done <<'EOL'
verify|verify x|verify
bench|bench x|bench,verify
sim snp|sim snp|sim
sim tdx|sim tdx|sim
collateral fetch|collateral fetch|collateral
host-check|host-check|host-check
measure snp|measure snp,measure tdx|measure
launch|launch|launch
tpm check-quote|tpm check-quote|tpm check-quote
tpm make-credential|tpm make-credential|tpm make-credential
collect|collect|collect
guest-check|guest-check|guest-check
serve|serve|serve
atls-server|atls-server|atls-server
atls-client|atls-client|atls-server
EOL
# every command the overview lists has a section of its own
for c in $($CVM --help | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u); do
    grep -q "^### .*\`$c[ \`|]" "$CLIMD" || fail "docs/cli.md has no section for the command $c"
done

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

# --- `help WORDS` prints exactly what `WORDS --help` prints (stdout, exit 0): every command,
# version and help themselves, and the third level (registry log *); an unknown word, or a
# word a command does not take, is exit 2 ---
help_same() { # words...
    $CVM help "$@" >"$T/h1" 2>"$T/h1e"; r1=$?
    $CVM "$@" --help >"$T/h2" 2>/dev/null; r2=$?
    if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ -s "$T/h1" ] && cmp -s "$T/h1" "$T/h2"; then
        echo "ok   help $* = $* --help"
    else
        fail "help $*: exit $r1 ($(head -n 1 "$T/h1e")), $* --help: exit $r2, outputs differ or empty"
    fi
}
for c in show verify sim collateral bench result policy registry demo host-check eventlog measure launch tpm witness collect guest-check serve atls-server atls-client help version; do
    help_same $c
done
help_same registry keygen
help_same registry log
for s in keygen append prove check bench; do
    help_same registry log $s
done
help_same collateral fetch
help_same witness serve
help_no() { # words...: exit 2
    $CVM help "$@" >/dev/null 2>&1; r=$?
    if [ $r -eq 2 ]; then echo "ok   help $* -> exit 2"; else fail "help $*: exit $r, want 2"; fi
}
help_no bogus
help_no registry bogus
help_no registry log bogus
help_no registry log keygen extra
help_no registry keygen extra
help_no version extra
help_no help extra
# a second word after a command without subcommands: exit 2, the word named (docs/cli.md)
for c in show verify bench demo host-check eventlog launch collect guest-check serve atls-server \
    atls-client version; do
    $CVM help $c extra >/dev/null 2>"$T/he"; r=$?
    if [ $r -eq 2 ] && grep -q "'extra'" "$T/he"; then
        echo "ok   help $c extra -> exit 2, names 'extra'"
    else
        fail "help $c extra: exit $r, want 2 naming 'extra' ($(head -n 1 "$T/he"))"
    fi
done

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
