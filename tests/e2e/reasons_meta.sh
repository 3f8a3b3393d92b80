#!/bin/sh
# Every reason code in reasons.def is documented in docs/reasons.md and produced by a test.
set -eu
src=${CVMATTEST_SRC:?}
fails=0
codes=$(cat "$src"/src/common/reasons*.def | sed -n 's/^CVMA_REASON(\([A-Z0-9_]*\),.*/\1/p')
[ -n "$codes" ] || { echo "no codes found"; exit 1; }
for c in $codes; do
    if ! grep -q "\`$c\`" "$src/docs/reasons.md"; then
        echo "FAIL: $c is not listed in docs/reasons.md"; fails=$((fails + 1))
    fi
    if ! grep -rqw -e "$c" -e "CVMA_R_$c" "$src/tests" --include='*.c' --include='*.sh' \
            --exclude='reasons_meta.sh'; then
        echo "FAIL: no test produces $c"; fails=$((fails + 1))
    fi
done
# And nothing documented that does not exist.
for c in $(grep -o '^| `[A-Z0-9_]*`' "$src/docs/reasons.md" | tr -d '|` '); do
    echo "$codes" | grep -qx "$c" || { echo "FAIL: docs/reasons.md lists unknown $c"; fails=$((fails + 1)); }
done
echo "$(echo "$codes" | wc -l) reason codes checked, $fails problem(s)"
[ "$fails" = 0 ]
