#!/bin/sh
# The project's banned functions: none of these in the project's C sources.
set -u
src=${CVMATTEST_SRC:?}
hits=$(grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|sscanf)[[:space:]]*\(' \
    "$src/src" "$src/cli" "$src/sim" "$src/examples" "$src/include" "$src/fuzz" "$src/tests" --include='*.c' --include='*.h' |
    grep -vE '\b(snprintf|vsnprintf)\b' || true)
if [ -n "$hits" ]; then
    echo "banned functions used:"
    echo "$hits"
    exit 1
fi
echo "no banned functions"
