#!/bin/sh
# `cvmattest demo` (what `make demo` runs) checks each of its steps' verdicts itself: it must
# end with exit 0 and say so.
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"${CVMATTEST_BIN:?}" demo >"$out" 2>&1; rc=$?
cat "$out"
[ $rc = 0 ] && grep -q "every step gave the expected verdict" "$out" || exit 1
# Secure default: the debug guest is refused without a policy, and a policy that allows debug
# turns the same reason into a warning that says so.
grep -q "^   error   SNP_DEBUG_ALLOWED: .*bit 19 (DEBUG) set" "$out" || exit 1
grep -q "^   warning SNP_DEBUG_ALLOWED: .*(accepted by policy: snp.allow_debug is true)" "$out"
