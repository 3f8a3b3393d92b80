#!/bin/sh
# The real samples of tests/vectors/manifest (its header gives the format): each is verified
# with `cvmattest verify --json` and the status, exit code, exact set of reason codes and the
# listed claims are compared with the manifest. Skips (77) when the vectors are absent.
set -u
export LC_ALL=C
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MANIFEST=$SRC/tests/vectors/manifest
V=${CVMATTEST_VECTORS:-}
if [ -z "$V" ] || [ ! -d "$V" ]; then
    echo "SKIP: shared test vectors not found (set CVMATTEST_VECTORS)"
    exit 77
fi
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not installed"; exit 77; }
[ -f "$MANIFEST" ] || { echo "FAIL: no $MANIFEST"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
samples=0
fail() { echo "FAIL $name: $*"; fails=$((fails + 1)); }

# Copies the collateral list $1 into directory $2 (manifest syntax).
collateral() {
    mkdir -p "$2"
    [ "$1" = "-" ] && return 0
    old_ifs=$IFS
    IFS=,
    for item in $1; do
        IFS=$old_ifs
        case $item in
        */)
            [ -d "$V/$item" ] || { fail "collateral directory $item missing"; continue; }
            for f in "$V/$item"*; do
                [ -f "$f" ] && cp "$f" "$2/"
            done
            ;;
        *:*)
            cp "$V/${item%%:*}" "$2/${item#*:}" || fail "collateral $item missing"
            ;;
        *)
            cp "$V/$item" "$2/" || fail "collateral $item missing"
            ;;
        esac
    done
    IFS=$old_ifs
}

run_entry() {
    set -f
    # shellcheck disable=SC2086
    set -- $1
    set +f
    name=$1
    shift
    evidence='' coll=- at='' flags='' status='' exit_want='' reasons=''
    n_claims=0
    : >"$T/claims"
    for tok in "$@"; do
        key=${tok%%=*}
        val=${tok#*=}
        case $key in
        evidence) evidence=$val ;;
        collateral) coll=$val ;;
        at) at=$val ;;
        flags) flags=$(printf '%s' "$val" | tr , ' ') ;;
        status) status=$val ;;
        exit) exit_want=$val ;;
        reasons) reasons=$val ;;
        .*) printf '%s\t%s\n' "$key" "$val" >>"$T/claims"; n_claims=$((n_claims + 1)) ;;
        *) fail "unknown field '$key'"; return ;;
        esac
    done
    if [ -z "$evidence" ] || [ -z "$at" ] || [ -z "$status" ] || [ -z "$reasons" ]; then
        fail "entry lacks evidence=, at=, status= or reasons="
        return
    fi
    if [ -z "$exit_want" ]; then
        case $status in
        affirming | warning) exit_want=0 ;;
        *) exit_want=1 ;;
        esac
    fi
    [ -f "$V/$evidence" ] || { fail "evidence $evidence missing"; return; }
    fails_before=$fails
    d=$T/$name
    collateral "$coll" "$d/collateral"
    mkdir -p "$d/cache"
    # shellcheck disable=SC2086
    "$CVM" verify "$V/$evidence" --collateral "$d/collateral" --offline --cache-dir "$d/cache" \
        --at "$at" $flags --json >"$d/out.json" 2>"$d/err"
    rc=$?
    samples=$((samples + 1))
    [ "$rc" = "$exit_want" ] || fail "exit $rc, want $exit_want ($(head -c 300 "$d/err"))"
    got=$(jq -r '.status' "$d/out.json" 2>/dev/null)
    [ "$got" = "$status" ] || fail "status '$got', want '$status'"
    want_r=$(printf '%s' "$reasons" | tr , '\n' | grep -v '^-$' | sort -u | paste -sd, -)
    got_r=$(jq -r '[.reasons[].code] | unique | join(",")' "$d/out.json" 2>/dev/null)
    [ "$got_r" = "$want_r" ] || fail "reasons '$got_r', want '$want_r'"
    while IFS="$(printf '\t')" read -r path want; do
        got=$(jq -r "$path" "$d/out.json" 2>/dev/null) || got="(jq error)"
        [ "$got" = "$want" ] || fail "$path = '$got', want '$want'"
    done <"$T/claims"
    [ "$fails" = "$fails_before" ] && echo "ok   $name ($status, $n_claims claims)"
}

entry=
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
    '#'* | '') continue ;;
    ' '* | "$(printf '\t')"*) entry="$entry $line" ;;
    *)
        [ -n "$entry" ] && run_entry "$entry"
        entry=$line
        ;;
    esac
done <"$MANIFEST"
[ -n "$entry" ] && run_entry "$entry"

[ "$samples" -gt 0 ] || { echo "FAIL: no sample in $MANIFEST"; exit 1; }
echo "$samples samples, $fails failures"
[ "$fails" = 0 ]
