#!/bin/sh
# Two trusted providers whose valid registries both list the evidence's platform: a platform
# is in one provider's data centre, so one of them is wrong, and the binding is refused
# (REGISTRY_PROVIDER_CONFLICT, naming both) and bound to no provider, with the same verdict
# whatever the order of --registry (the first registry given that listed it used to win).
# SEV-SNP CHIP_ID; a VLEK's cspID in one registry and the report's CHIP_ID in the other; a
# TDX PPID; root-only registries of one tree and a proof that names one of the providers; a
# policy's required_providers does not choose either. One provider listing the platform in
# two of its registries binds it. Needs CVMATTEST_BIN (ctest sets it) and python3.
set -u
CVM=${CVMATTEST_BIN:?}
command -v python3 >/dev/null 2>&1 || { echo "registry_conflict: SKIP: python3 not installed" >&2; exit 77; }
T=$(mktemp -d /tmp/cvma-e2e-regconflict.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi; }
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks '$2'"; head -c 1200 "$1"; echo; fails=$((fails + 1)); }; }
# status, provider and reason codes of a --json result: what must not depend on the order
summary() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["status"], d["platform"]["provider"], " ".join(sorted(r["code"] for r in d["reasons"])))' "$1"
}

chip=$(printf '5a%.0s' $(seq 64)); ppid=$(printf '3c%.0s' $(seq 16))
$CVM sim snp --out "$T/snp" --chip-id "$chip" >/dev/null || exit 1
$CVM sim snp --out "$T/vlek" --vlek --chip-id "$chip" >/dev/null || exit 1
$CVM sim tdx --out "$T/tdx" --ppid "$ppid" >/dev/null || exit 1
for p in acme globex; do $CVM registry keygen --out "$T/$p" >/dev/null || exit 1; done
# build PROVIDER VERSION NAME LINE [--root-only]: NAME.jws, a registry of one entry
build() {
    printf '%s\n' "$4" >"$T/$3.txt"
    $CVM registry build --provider "$1" --key "$T/$1.key" --entries "$T/$3.txt" --version "$2" \
        --valid-days 30 --out "$T/$3.jws" ${5:-} >/dev/null || { echo "FAIL: build $3"; exit 1; }
}
build acme 1 acme-chip "amd chip_id $chip region=eu-1"
build globex 1 globex-chip "amd chip_id $chip region=us-1"
build acme 1 acme-vlek "amd vlek_csp sim.cvmattest.test region=eu-2"
build acme 1 acme-ppid "intel ppid $ppid region=eu-3"
build globex 1 globex-ppid "intel ppid $ppid region=us-3"
K="--offline --provider acme=$T/acme.pub --provider globex=$T/globex.pub"
# v NAME EVIDENCE OUT [options]: verify with a rollback state of its own for NAME
v() {
    name=$1 ev=$2 out=$3; shift 3
    root=$T/$ev/ark.pem; [ -f "$root" ] || root=$T/$ev/root_ca.pem
    CVMATTEST_CACHE="$T/cache.$name" $CVM verify "$T/$ev/bundle.json" --trust-root "$root" $K \
        "$@" --json >"$T/$out.json"
}
# both NAME EVIDENCE REG_A REG_B [options]: conflict with the registries in either order,
# and the same status, provider (none) and reasons both ways
both() {
    name=$1 ev=$2 a=$3 b=$4; shift 4
    v "$name" "$ev" "$name.ab" --registry "$T/$a.jws" --registry "$T/$b.jws" "$@"
    check "$name: $a then $b" 1 $?
    v "$name" "$ev" "$name.ba" --registry "$T/$b.jws" --registry "$T/$a.jws" "$@"
    check "$name: $b then $a" 1 $?
    for o in ab ba; do
        has "$T/$name.$o.json" REGISTRY_PROVIDER_CONFLICT
        has "$T/$name.$o.json" '"provider": null'
        has "$T/$name.$o.json" 'is listed by 2 providers, so it is bound to none'
    done
    [ "$(summary "$T/$name.ab.json")" = "$(summary "$T/$name.ba.json")" ] || {
        echo "FAIL $name: the order of --registry changed the verdict:"
        summary "$T/$name.ab.json"; summary "$T/$name.ba.json"; fails=$((fails + 1)); }
}

# Each registry alone binds the platform to its provider.
v alone-acme snp alone1 --registry "$T/acme-chip.jws"; check "acme alone binds the chip" 0 $?
has "$T/alone1.json" '"provider": "acme"'
v alone-globex snp alone2 --registry "$T/globex-chip.jws"; check "globex alone binds the chip" 0 $?
has "$T/alone2.json" '"provider": "globex"'

# The same CHIP_ID in both providers' registries.
both chip snp acme-chip globex-chip
has "$T/chip.ab.json" "acme (.*acme-chip.jws); globex (.*globex-chip.jws)"
# A policy that requires one of them does not pick it: the other registry still claims the
# chip. The policy refuses the unbound platform too.
printf '{"required_providers": ["globex"]}\n' >"$T/want-globex.json"
both policy snp acme-chip globex-chip --policy "$T/want-globex.json"
has "$T/policy.ab.json" POLICY_PROVIDER_REQUIRED

# VLEK evidence: acme lists the VLEK's cspID, globex the report's CHIP_ID.
v alone-vlek vlek alone3 --registry "$T/acme-vlek.jws"; check "acme binds the VLEK by its cspID" 0 $?
has "$T/alone3.json" '"provider": "acme"'
both vlek vlek acme-vlek globex-chip
has "$T/vlek.ab.json" "amd vlek_csp sim.cvmattest.test is listed by 2 providers"
has "$T/vlek.ab.json" "globex, by amd chip_id 5a5a5a5a"

# TDX: the same PPID.
both ppid tdx acme-ppid globex-ppid
has "$T/ppid.ab.json" "intel ppid $ppid is listed by 2 providers"

# Root-only registries of both providers over the same entries (so the same root), and the
# host's proof, which names acme: globex's signed registry holds the leaf all the same.
printf 'amd chip_id %s region=eu-1\nintel ppid %s region=eu-3\n' "$chip" "$ppid" >"$T/fleet.txt"
for p in acme globex; do
    $CVM registry build --provider $p --key "$T/$p.key" --entries "$T/fleet.txt" --version 1 \
        --valid-days 30 --out "$T/$p-root.jws" --root-only >/dev/null || exit 1
done
$CVM registry prove --entries "$T/fleet.txt" --id "$chip" --provider acme --out "$T/proof.json" >/dev/null || exit 1
both proof snp acme-root globex-root --proof "$T/proof.json"

# One provider listing the platform in two of its registries (the same version and root, one
# with its entries, one root-only with the proof) is no conflict, in either order.
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 30 --out "$T/acme-full.jws" >/dev/null || exit 1
for o in "acme-full acme-root" "acme-root acme-full"; do
    set -- $o
    v "same.$1" snp same --registry "$T/$1.jws" --registry "$T/$2.jws" --proof "$T/proof.json"
    check "one provider's two registries ($1 first)" 0 $?
    has "$T/same.json" '"provider": "acme"'
    has "$T/same.json" '"region": "eu-1"'
done

echo "registry_conflict: $fails failure(s)"
[ "$fails" = 0 ]
