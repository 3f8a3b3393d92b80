#!/bin/sh
# `cvmattest demo` (what `make demo` runs) checks each of its steps' verdicts itself: it must
# end with exit 0 and say so.
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"${CVMATTEST_BIN:?}" demo >"$out" 2>&1; rc=$?
cat "$out"
[ $rc = 0 ] && grep -q "every step gave the expected verdict" "$out"
