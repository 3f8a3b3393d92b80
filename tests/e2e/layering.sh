#!/bin/sh
# Layering rules of the source tree, checked on the #include lines:
#   1. no file in src/ includes a header from the CLI (cli/);
#   2. no file in src/ includes a header from the simulator (sim/);
#   3. no file in src/collateral/ includes a vendor header: it may include only
#      collateral/, common/, crypto/, the public cvmattest/ headers and system headers.
# A quoted include is resolved as the compiler would (the including file's folder, then src/,
# include/, the repository root) and judged by where it lands as well as by how it is spelled.
# The rules are first checked to fail on a small tree that breaks each of them.
set -u
src=${CVMATTEST_SRC:?}

# check ROOT: prints each violation; exit status 1 when there is one.
check() {
    root=$1
    find "$root/src" -name '*.[ch]' | sort | while read -r f; do
        dir=$(dirname "$f")
        rel=${f#"$root"/}
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
            while read -r inc; do
                where=$inc
                for base in "$dir" "$root/src" "$root/include" "$root"; do
                    if [ -f "$base/$inc" ]; then
                        where=$(cd "$(dirname "$base/$inc")" && pwd -P)/$(basename "$inc")
                        where=${where#"$(cd "$root" && pwd -P)"/}
                        break
                    fi
                done
                case $inc/$where in
                cli/* | */cli/* | ../*) echo "$rel: includes \"$inc\" ($where): the CLI" ;;
                esac
                case $inc/$where in
                sim/* | */sim/*) echo "$rel: includes \"$inc\" ($where): the simulator" ;;
                esac
                case $rel in
                src/collateral/*)
                    case $where in
                    src/collateral/* | src/common/* | src/crypto/* | include/cvmattest/*) ;;
                    *) echo "$rel: includes \"$inc\" ($where): collateral code includes no vendor header" ;;
                    esac
                    ;;
                esac
            done
    done | { out=$(cat); [ -z "$out" ] && exit 0; echo "$out"; exit 1; }
}

# Self-test: a tree that breaks each rule must fail, on each rule.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/collateral" "$tmp/src/common" "$tmp/src/tdx" "$tmp/src/verifier" "$tmp/cli" \
    "$tmp/sim" "$tmp/include/cvmattest"
touch "$tmp/src/common/util.h" "$tmp/src/tdx/tdx.h" "$tmp/cli/opts.h" "$tmp/sim/sim_tdx.h" \
    "$tmp/include/cvmattest/cvmattest.h"
printf '#include "common/util.h"\n#include "cvmattest/cvmattest.h"\n#include <stdio.h>\n' \
    >"$tmp/src/collateral/ok.c"
check "$tmp" >/dev/null || { echo "FAIL: a clean tree is refused"; check "$tmp"; exit 1; }
for bad in 'src/collateral/bad.c:#include "tdx/tdx.h"' 'src/verifier/bad.c:#include "cli/opts.h"' \
    'src/verifier/bad.c:#include "../../cli/opts.h"' 'src/verifier/bad.c:#include "sim/sim_tdx.h"'; do
    file=${bad%%:*}
    printf '%s\n' "${bad#*:}" >"$tmp/$file"
    if check "$tmp" >/dev/null; then
        echo "FAIL: the check accepts $file with ${bad#*:}"
        exit 1
    fi
    rm -f "$tmp/$file"
done

if ! check "$src"; then
    echo "FAIL: layering rules broken (see above)"
    exit 1
fi
echo "layering: src/ includes nothing from cli/ or sim/; src/collateral/ no vendor header"
