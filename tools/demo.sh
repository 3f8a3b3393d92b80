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
exit 0
