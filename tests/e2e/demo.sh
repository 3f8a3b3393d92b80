#!/bin/sh
# `cvmattest demo` (what `make demo` runs) tells the whole story in under a minute and checks
# each step's verdict itself: it must end with exit 0 and say so. Here each step's line is
# checked for its mark (✓ accepted, ✗ refused) and the reason the verdict gave, and the run
# for taking under 120 s (a sanitized build on a loaded machine takes several times an
# ordinary one's few seconds; a step left waiting for a time-out shows all the same).
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fails=0
has() { grep -q -- "$1" "$out" && echo "ok   $1" || { echo "FAIL: no line matches: $1"; fails=$((fails + 1)); }; }

start=$(date +%s)
"${CVMATTEST_BIN:?}" demo >"$out" 2>&1; rc=$?
took=$(($(date +%s) - start))
cat "$out"
[ $rc = 0 ] || { echo "FAIL: demo exit $rc"; fails=$((fails + 1)); }
has "^demo: 13 steps, every step gave the expected verdict, in [0-9.]* s$"
grep -q UNEXPECTED "$out" && { echo "FAIL: a step gave an unexpected verdict"; fails=$((fails + 1)); }
[ "$took" -lt 120 ] && echo "ok   ran in ${took} s (< 120)" || { echo "FAIL: took ${took} s"; fails=$((fails + 1)); }
lines=$(wc -l <"$out")
[ "$lines" -le 40 ] && echo "ok   $lines lines (<= 40)" || { echo "FAIL: $lines lines"; fails=$((fails + 1)); }

# The provider's registry; attested TLS to a SEV-SNP and a TDX CVM on registered machines, the
# provider, region and platform named.
has "^ 1 ✓ examplecloud signs a registry of its machines"
has "^ 2 ✓ SNP CVM on a registered machine: affirming .* examplecloud eu-west .* amd chip_id 55555555"
has "^ 3 ✓ TDX CVM on a registered machine: affirming .* examplecloud ap-south .* intel ppid 33333333"
# Refused by the client, each with its reason; the secure default for debug, and a policy
# that allows debug turning the same reason into a warning that says so.
has "^ 4 ✗ SNP CVM on an unregistered machine: REGISTRY_PLATFORM_NOT_LISTED: amd chip_id 66666666"
has "^ 5 ✗ debug SNP CVM: SNP_DEBUG_ALLOWED: .*bit 19 (DEBUG) set"
has "^ 6 ✓ debug SNP CVM, a test policy (allow_debug): warning .*SNP_DEBUG_ALLOWED: .*(accepted by policy: snp.allow_debug is true)"
# A live migration to an unregistered machine during a lease: refused by the registry (the
# error shown first, PLATFORM_CHANGED, a warning, after it), and the client closes the
# connection (the CVM's side saw the refusal, then the client's own close).
has "^ 7 ✓ lease 1: affirming .* amd chip_id 55555555"
has "^ 8 ✗ lease 2: REGISTRY_PLATFORM_NOT_LISTED: amd chip_id 66666666.*PLATFORM_CHANGED: the workload moved from amd chip_id 55555555"
has '^ 9 ✗ the client refuses and closes the connection: the CVM got "refused: REGISTRY_PLATFORM_NOT_LISTED", then the close$'
# The verification service over HTTP, and its token.
has "^10 ✓ cvmattest serve on 127.0.0.1:[0-9]*, GET /v1/nonce, POST /v1/verify: affirming .* examplecloud eu-west"
has "^11 ✓ its token (EAR) verifies with the service's key: ear.status affirming, eat_nonce = our nonce"
# Evidence files: a flipped bit, a TDX platform behind on its TCB.
has "^12 ✗ one bit of an SNP report flipped: SNP_REPORT_SIGNATURE_INVALID"
has "^13 ✗ TDX machine behind Intel's TCB recovery: TDX_TCB_OUT_OF_DATE"
# The temporary directory is removed.
dir=$(sed -n 's/.* in \(\/tmp\/cvmattest-demo\.[A-Za-z0-9]*\)$/\1/p' "$out")
[ -n "$dir" ] && [ ! -e "$dir" ] && echo "ok   $dir removed" || { echo "FAIL: '$dir' left"; fails=$((fails + 1)); }
echo "$fails failure(s)"
[ "$fails" = 0 ]
