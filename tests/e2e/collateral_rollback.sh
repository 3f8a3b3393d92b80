#!/bin/sh
# End to end, on simulated SEV-SNP evidence, against tests/kds_server.py on 127.0.0.1: a mirror
# that serves genuine (ARK-signed) but out-of-date CRLs can only withhold, never undo a
# revocation nor turn genuine evidence into a rejection (docs/collateral.md, "Refreshes that
# are not taken"):
#  - a refresh that brings an OLDER CRL than the cached one (earlier thisUpdate) is not taken:
#    the cached CRL, which lists the ASK, stays in force (CERT_REVOKED), with
#    COLLATERAL_STALE_CACHE naming why;
#  - a refresh that brings a CRL already past its nextUpdate is not taken either: the valid
#    cached copy is used (COLLATERAL_STALE_CACHE), never CRL_EXPIRED;
#  - with nothing valid cached, such a CRL is COLLATERAL_UNAVAILABLE (exit 3), not cached, and
#    `collateral fetch` exits 3 writing nothing;
#  - offline, a cached CRL past its nextUpdate that lists the ASK still revokes it (a
#    revocation does not expire); one that lists nothing leaves revocation not checked.
# Needs CVMATTEST_BIN, CVMATTEST_SRC (ctest sets them) and python3 with cryptography (to sign
# CRLs with the simulated ARK's key).
set -u

skip() { echo "collateral_rollback: SKIP: $*" >&2; exit 77; }
fail() { echo "collateral_rollback: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography not installed (make deps)"

no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

CVM=$CVMATTEST_BIN
TMP=$(mktemp -d /tmp/cvma-e2e-rollback.XXXXXX) || fail "mktemp"
KDS_PID=
cleanup() {
    [ -n "$KDS_PID" ] && { kill "$KDS_PID" 2>/dev/null; wait "$KDS_PID" 2>/dev/null; }
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

expect() { [ "$rc" -eq "$2" ] || { cat "$3" >&2; fail "$1: exit $rc, want $2"; }; }
has() { grep -q "$2" "$3" || { cat "$3" >&2; fail "$1: no '$2' in the output"; }; }
hasnt() { ! grep -q "$2" "$3" || { cat "$3" >&2; fail "$1: '$2' in the output"; }; }

# mkcrl OUT THIS_H NEXT_H REVOKE_ASK: a CRL signed by the simulated ARK, thisUpdate and
# nextUpdate THIS_H and NEXT_H hours from now, listing the ASK when REVOKE_ASK is 1.
mkcrl() {
    python3 - "$TMP/s" "$@" <<'EOF' || fail "mkcrl $*"
import sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
d, out, this_h, next_h, revoke = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == "1"
ark = x509.load_pem_x509_certificate(open(d + "/ark.pem", "rb").read())
key = serialization.load_pem_private_key(open(d + "/ark-key.pem", "rb").read(), None)
ask = x509.load_pem_x509_certificate(open(d + "/ask.pem", "rb").read())
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
b = (x509.CertificateRevocationListBuilder().issuer_name(ark.subject)
     .last_update(now + datetime.timedelta(hours=this_h))
     .next_update(now + datetime.timedelta(hours=next_h)))
if revoke:
    b = b.add_revoked_certificate(x509.RevokedCertificateBuilder()
        .serial_number(ask.serial_number).revocation_date(now - datetime.timedelta(hours=3)).build())
crl = b.sign(key, hashes.SHA384(), rsa_padding=padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48))
open(out, "wb").write(crl.public_bytes(serialization.Encoding.DER))
EOF
}

CHIP=$(printf 'cd%.0s' $(seq 64))
"$CVM" sim snp --out "$TMP/s" --chip-id "$CHIP" --keep-keys >/dev/null || fail "sim snp"
[ -f "$TMP/s/ark-key.pem" ] || skip "sim snp wrote no ark-key.pem"
cp "$TMP/s/crl.der" "$TMP/served.der" || fail "cp"
rm -f "$TMP/kds.port"
python3 "$CVMATTEST_SRC/tests/kds_server.py" --max-seconds 120 --dir "$TMP/s" --log "$TMP/kds.log" \
    --route "/vcek/v1/Milan/$CHIP=vcek.der" \
    --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" \
    --route "/vcek/v1/Milan/crl=$TMP/served.der" >"$TMP/kds.port" &
KDS_PID=$!
i=0
while [ ! -s "$TMP/kds.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMP/kds.port" ] || fail "kds_server.py did not report a port"
KDS="http://127.0.0.1:$(head -n 1 "$TMP/kds.port")"

mkdir "$TMP/nocrl" && cp "$TMP/s/vcek.der" "$TMP/s/cert_chain.pem" "$TMP/nocrl/" || fail "cp"
V="$CVM verify $TMP/s/report.bin --collateral $TMP/nocrl --trust-root $TMP/s/ark.pem --kds-url $KDS"

# 1. The current CRL lists the ASK: revoked, and that CRL is cached.
mkcrl "$TMP/served.der" -1 24 1
$V --cache-dir "$TMP/c1" >"$TMP/o1" 2>&1; rc=$?
expect "revoking CRL" 1 "$TMP/o1"
has "revoking CRL" CERT_REVOKED "$TMP/o1"

# 2. The mirror now serves an older genuine CRL (from before the revocation). Past the
#    maximum age it is fetched, but not taken: the revocation stands.
mkcrl "$TMP/served.der" -2 24 0
sleep 2
$V --cache-dir "$TMP/c1" --collateral-max-age 1 >"$TMP/o2" 2>&1; rc=$?
expect "older CRL on refresh" 1 "$TMP/o2"
has "older CRL on refresh" CERT_REVOKED "$TMP/o2"
has "older CRL on refresh" COLLATERAL_STALE_CACHE "$TMP/o2"
has "older CRL on refresh" "older than the cached copy" "$TMP/o2"
# ... and it did not replace the cached one: offline, still revoked.
$V --cache-dir "$TMP/c1" --offline >"$TMP/o2b" 2>&1; rc=$?
expect "offline after the older CRL" 1 "$TMP/o2b"
has "offline after the older CRL" CERT_REVOKED "$TMP/o2b"

# 3. A valid CRL cached, then the mirror serves one already past its nextUpdate: not taken,
#    the cached copy stands (a warning), never CRL_EXPIRED.
mkcrl "$TMP/served.der" -1 24 0
$V --cache-dir "$TMP/c3" >"$TMP/o3" 2>&1; rc=$?
expect "valid CRL" 0 "$TMP/o3"
mkcrl "$TMP/served.der" -48 -24 0
sleep 2
$V --cache-dir "$TMP/c3" --collateral-max-age 1 >"$TMP/o3b" 2>&1; rc=$?
expect "expired CRL on refresh" 0 "$TMP/o3b"
has "expired CRL on refresh" COLLATERAL_STALE_CACHE "$TMP/o3b"
has "expired CRL on refresh" "already past its nextUpdate" "$TMP/o3b"
hasnt "expired CRL on refresh" CRL_EXPIRED "$TMP/o3b"

# 4. Nothing valid cached: undecided naming why, and nothing cached (offline: no CRL at all).
$V --cache-dir "$TMP/c4" >"$TMP/o4" 2>&1; rc=$?
expect "expired CRL, empty cache" 3 "$TMP/o4"
has "expired CRL, empty cache" COLLATERAL_UNAVAILABLE "$TMP/o4"
has "expired CRL, empty cache" "already past its nextUpdate" "$TMP/o4"
hasnt "expired CRL, empty cache" CRL_EXPIRED "$TMP/o4"
$V --cache-dir "$TMP/c4" --offline >"$TMP/o4b" 2>&1; rc=$?
has "offline after the expired CRL" CRL_NOT_CHECKED "$TMP/o4b"

# 5. Offline, a cached CRL that lists the ASK and is now past its nextUpdate: it decides
#    nothing else, but the revocation it lists stands (CERT_REVOKED), never forgotten with time.
#    (Each CRL lives 9 s; one wait serves both.)
mkcrl "$TMP/served.der" -1 0.0025 1
$V --cache-dir "$TMP/c6" >"$TMP/o6" 2>&1; rc=$?
expect "revoking CRL, 9 s to live" 1 "$TMP/o6"
has "revoking CRL, 9 s to live" CERT_REVOKED "$TMP/o6"
mkcrl "$TMP/served.der" -1 0.0025 0
$V --cache-dir "$TMP/c7" >"$TMP/o7" 2>&1; rc=$?
expect "CRL, 9 s to live" 0 "$TMP/o7"
sleep 11
$V --cache-dir "$TMP/c6" --offline >"$TMP/o6b" 2>&1; rc=$?
expect "offline, the revoking CRL expired" 1 "$TMP/o6b"
has "offline, the revoking CRL expired" CERT_REVOKED "$TMP/o6b"
has "offline, the revoking CRL expired" "a revocation does not expire" "$TMP/o6b"
# ... while one that lists nothing is still "not checked" (a warning), as before
$V --cache-dir "$TMP/c7" --offline >"$TMP/o7b" 2>&1; rc=$?
expect "offline, the CRL expired" 0 "$TMP/o7b"
has "offline, the CRL expired" CRL_NOT_CHECKED "$TMP/o7b"
hasnt "offline, the CRL expired" CERT_REVOKED "$TMP/o7b"

# 6. `collateral fetch` of that: exit 3, no crl.der written.
"$CVM" collateral fetch "$TMP/s/report.bin" --out "$TMP/out5" --kds-url "$KDS" \
    --cache-dir "$TMP/c5" --trust-root "$TMP/s/ark.pem" >"$TMP/o5" 2>&1; rc=$?
expect "collateral fetch, expired CRL" 3 "$TMP/o5"
[ ! -e "$TMP/out5/crl.der" ] || { cat "$TMP/o5" >&2; fail "collateral fetch wrote an expired crl.der"; }

echo "collateral_rollback: OK"
