#!/bin/sh
# Every reason code in reasons*.def is documented in docs/reasons.md, with the severity it is
# defined with, and produced by a test.
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
# The severity docs/reasons.md gives first is the one reasons*.def defines (it may go on to
# say where it is lowered).
bad=$(cat "$src"/src/common/reasons*.def |
    sed -n 's/^CVMA_REASON(\([A-Z0-9_]*\), *CVMA_SEV_\([A-Z]*\),.*/\1 \2/p' |
    awk 'NR == FNR { d[$1] = tolower($2); next }
         /^\| `[A-Z0-9_]+` \|/ {
             split($0, f, "|"); c = f[2]; gsub(/[ `]/, "", c)
             s = f[3]; sub(/^ +/, "", s); split(s, w, /[^a-z]/)
             if ((c in d) && w[1] != d[c]) print c ": docs/reasons.md says " w[1] ", reasons.def " d[c]
         }' - "$src/docs/reasons.md")
if [ -n "$bad" ]; then
    echo "$bad" | sed 's/^/FAIL: severity of /'; fails=$((fails + $(echo "$bad" | wc -l)))
fi
echo "$(echo "$codes" | wc -l) reason codes checked, $fails problem(s)"
[ "$fails" = 0 ]
