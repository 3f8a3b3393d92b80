#!/bin/sh
# make demo: simulate an SEV-SNP confidential VM, verify it, tamper with it, verify again.
set -u
CVM=${1:-build/cvmattest}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
M=$(printf 'c0ffee%.0s' $(seq 16))
NONCE=$(printf '5e%.0s' $(seq 32))

say() { printf '\n== %s\n' "$*"; }

say "1. A simulated AMD SEV-SNP CVM (Genoa) produces a report bound to our nonce"
$CVM sim snp --out "$D/cvm" --product genoa --measurement "$M" --report-data "$NONCE" || exit 1
echo "   evidence and collateral in $D/cvm: $(ls "$D/cvm" | tr '\n' ' ')"

say "2. The relying party verifies it (test root trusted explicitly, collateral offline)"
$CVM verify "$D/cvm/report.bin" --collateral "$D/cvm" --offline --trust-root "$D/cvm/ark.pem" \
    --report-data "$NONCE"
echo "   -> exit $?"

say "3. Someone flips one bit of the measurement on the way"
python3 - "$D/cvm/report.bin" "$D/tampered.bin" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[0x90] ^= 0x01  # first byte of MEASUREMENT
open(sys.argv[2], 'wb').write(d)
PY
$CVM verify "$D/tampered.bin" --collateral "$D/cvm" --offline --trust-root "$D/cvm/ark.pem" \
    --report-data "$NONCE"
echo "   -> exit $? (refused)"

say "4. The genuine report, but a replayed nonce"
$CVM verify "$D/cvm/report.bin" --collateral "$D/cvm" --offline --trust-root "$D/cvm/ark.pem" \
    --report-data "$(printf '77%.0s' $(seq 32))"
echo "   -> exit $? (refused)"

say "5. The genuine report without trusting the test root: refused, AMD's roots are pinned"
$CVM verify "$D/cvm/report.bin" --collateral "$D/cvm" --offline
echo "   -> exit $? (refused)"

say "6. A simulated Intel TDX CVM: quote, PCK chain and DCAP collateral (TCB Info, QE Identity)"
$CVM sim tdx --out "$D/td" --report-data "$NONCE" || exit 1
$CVM verify "$D/td/quote.bin" --collateral "$D/td" --offline --trust-root "$D/td/root_ca.pem" \
    --report-data "$NONCE"
echo "   -> exit $?"

say "7. The same platform after Intel published a TCB recovery it has not applied: OutOfDate"
$CVM sim tdx --out "$D/old" --tcb-status outofdate >/dev/null || exit 1
$CVM verify "$D/old/quote.bin" --collateral "$D/old" --offline --trust-root "$D/old/root_ca.pem"
echo "   -> exit $? (refused)"

say "8. A cloud provider publishes a signed registry of its machines (one line per platform)"
CHIP=$(printf '5a%.0s' $(seq 64)); ROGUE=$(printf '6b%.0s' $(seq 64))
$CVM registry keygen --out "$D/cloud" >/dev/null || exit 1
printf 'amd chip_id %s region=eu-west rack=12\n' "$CHIP" >"$D/fleet.txt"
$CVM registry build --provider examplecloud --key "$D/cloud.key" --entries "$D/fleet.txt" \
    --version 1 --valid-days 7 --out "$D/registry.jws" || exit 1
echo '{"snp": {"measurements": ["'"$M"'"], "allow_debug": false}, "required_providers": ["examplecloud"]}' \
    >"$D/policy.json"
echo "   relying party's policy: $(cat "$D/policy.json")"
P="--policy $D/policy.json --provider examplecloud=$D/cloud.pub --registry $D/registry.jws"
export CVMATTEST_CACHE="$D/cache"

say "9. The CVM runs on a registered machine: accepted, and the provider is named"
$CVM sim snp --out "$D/good" --measurement "$M" --chip-id "$CHIP" >/dev/null || exit 1
$CVM verify "$D/good/report.bin" --collateral "$D/good" --offline --trust-root "$D/good/ark.pem" $P
echo "   -> exit $?"

say "10. The same software on a machine the provider does not list: refused"
$CVM sim snp --out "$D/rogue" --measurement "$M" --chip-id "$ROGUE" >/dev/null || exit 1
$CVM verify "$D/rogue/report.bin" --collateral "$D/rogue" --offline --trust-root "$D/rogue/ark.pem" $P
echo "   -> exit $? (refused)"

say "11. A debug CVM on the registered machine: refused by the policy"
$CVM sim snp --out "$D/dbg" --measurement "$M" --chip-id "$CHIP" --debug >/dev/null || exit 1
$CVM verify "$D/dbg/report.bin" --collateral "$D/dbg" --offline --trust-root "$D/dbg/ark.pem" $P
echo "   -> exit $? (refused)"
exit 0
