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
#    revocation does not expire); one that lists nothing leaves revocation not checked;
#  - the verifier's own collateral issued after the verification time (a past --at, or a clock
#    behind the issuer's) is undecided, COLLATERAL_UNAVAILABLE (exit 3), never CRL_EXPIRED or
#    COLLATERAL_NOT_YET_VALID: an SEV-SNP CRL downloaded from KDS and then the same from the
#    cache (which keeps it: it is sound), and, against tests/pcs_server.py on simulated TDX
#    evidence, a TCB Info and a PCK CRL from PCS; the same items given in --collateral DIR are
#    still refused (exit 1);
#  - such a CRL still proves a revocation it dates by the verification time (CERT_REVOKED, exit
#    1; one dated later proves nothing then: undecided): the SEV-SNP CRL listing the ASK, the
#    TDX PCK CRL listing the PCK certificate, and with it a current Root CA CRL given in the
#    directory listing the PCK CA, which OpenSSL never reached behind the PCK CRL's window;
#  - a fetched TDX PCK CRL its issuer never signed, issued in the future, is refused and
#    removed from the cache (its signature, not its window), so the genuine one is taken next;
#  - a TDX TCB Info is valid at its nextUpdate second itself however it was had (downloaded,
#    cached, given in a directory), and past it a second later;
#  - --collateral-grace applies to a downloaded or cached TCB Info and QE Identity as to a
#    directory's: within it they are used with the COLLATERAL_EXPIRED warning, and one past its
#    nextUpdate now is not cached; past it, undecided.
# Needs CVMATTEST_BIN, CVMATTEST_SRC (ctest sets them) and python3 with cryptography (to sign
# CRLs with the simulated ARK's and PCK CA's keys).
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
PCS_PID=
cleanup() {
    for p in $KDS_PID $PCS_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
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

# hours_ago H: the time H hours ago (RFC 3339), for --at.
hours_ago() {
    python3 -c 'import sys, datetime; print((datetime.datetime.now(datetime.timezone.utc)
        - datetime.timedelta(hours=float(sys.argv[1]))).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1"
}
# Undecided on the verifier's own collateral: exit 3 naming why, no window rejection.
untimely() { # name, output, the item as named
    expect "$1" 3 "$2"
    has "$1" "error *COLLATERAL_UNAVAILABLE: the $3 from" "$2"
    has "$1" "after the verification time" "$2"
    has "$1" "give the collateral of that time in --collateral DIR" "$2"
    hasnt "$1" "error *CRL_EXPIRED" "$2"
    hasnt "$1" "error *COLLATERAL_NOT_YET_VALID" "$2"
}

# 7. A CRL issued now (thisUpdate now) and evidence judged three hours ago (the simulated
#    certificates are valid from a day ago): the verifier's own CRL is not the one of that time.
mkcrl "$TMP/served.der" 0 24 0
AT=$(hours_ago 3)
$V --cache-dir "$TMP/c8" --at "$AT" >"$TMP/o8" 2>&1; rc=$?
untimely "CRL issued after --at, downloaded" "$TMP/o8" "AMD CRL"
# ... the same from the cache: not fetched again, still undecided.
n=$(grep -c '/vcek/v1/Milan/crl' "$TMP/kds.log")
$V --cache-dir "$TMP/c8" --at "$AT" >"$TMP/o8b" 2>&1; rc=$?
untimely "CRL issued after --at, cached" "$TMP/o8b" "AMD CRL"
[ "$(grep -c '/vcek/v1/Milan/crl' "$TMP/kds.log")" -eq "$n" ] || fail "the cached CRL was fetched again"
# ... kept (it is sound): offline, at the current time, it is the CRL and the evidence verifies.
$V --cache-dir "$TMP/c8" --offline >"$TMP/o8c" 2>&1; rc=$?
expect "the CRL stays cached" 0 "$TMP/o8c"
hasnt "the CRL stays cached" CRL_NOT_CHECKED "$TMP/o8c"
# ... and given in --collateral DIR it is the user's choice, judged by its window: refused.
mkdir "$TMP/withcrl" && cp "$TMP/nocrl/"* "$TMP/withcrl/" && cp "$TMP/served.der" "$TMP/withcrl/crl.der" ||
    fail "cp"
"$CVM" verify "$TMP/s/report.bin" --collateral "$TMP/withcrl" --trust-root "$TMP/s/ark.pem" \
    --kds-url "$KDS" --cache-dir "$TMP/c9" --at "$AT" >"$TMP/o9" 2>&1; rc=$?
expect "CRL issued after --at, given" 1 "$TMP/o9"
has "CRL issued after --at, given" "error *CRL_EXPIRED" "$TMP/o9"
hasnt "CRL issued after --at, given" COLLATERAL_UNAVAILABLE "$TMP/o9"

# 7b. The KDS CRL is issued five minutes ahead (a clock behind KDS's) and lists the ASK,
#     revoked three hours ago: that revocation is proven now, whatever the CRL's window.
mkcrl "$TMP/served.der" 0.0833 24 1
$V --cache-dir "$TMP/c10" >"$TMP/o14" 2>&1; rc=$?
expect "CRL ahead, lists the ASK" 1 "$TMP/o14"
has "CRL ahead, lists the ASK" "error *CERT_REVOKED: ASK serial" "$TMP/o14"
has "CRL ahead, lists the ASK" "a revocation does not expire" "$TMP/o14"
hasnt "CRL ahead, lists the ASK" COLLATERAL_UNAVAILABLE "$TMP/o14"
# ... judged four hours ago, before that revocation date: not proven then, undecided.
$V --cache-dir "$TMP/c10" --at "$(hours_ago 4)" >"$TMP/o14b" 2>&1; rc=$?
untimely "CRL ahead, revocation after --at" "$TMP/o14b" "AMD CRL"
hasnt "CRL ahead, revocation after --at" CERT_REVOKED "$TMP/o14b"

# mktdxcrl KIND OUT THIS_MIN NEXT_H REVOKE [forge]: a CRL for the simulated TDX chain, KIND pck
# (the PCK CA's, listing the PCK certificate when REVOKE is 1) or root (the Root CA's, listing
# the PCK CA), thisUpdate THIS_MIN minutes and nextUpdate NEXT_H hours from now, a revocation
# dated 20 hours ago; with forge, signed by a fresh key instead of the issuer's.
mktdxcrl() {
    python3 - "$TMP/t" "$@" <<'EOF' || fail "mktdxcrl $*"
import re, sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
d, kind, out, this_m, next_h, revoke = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
pems = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", open(d + "/quote.bin", "rb").read(), re.S)
leaf, pck_ca = x509.load_pem_x509_certificate(pems[0]), x509.load_pem_x509_certificate(pems[1])
old = x509.load_der_x509_crl(open(d + ("/pck_crl.der" if kind == "pck" else "/root_ca_crl.der"), "rb").read())
key = serialization.load_pem_private_key(open(d + ("/pck_ca-key.pem" if kind == "pck" else "/root_ca-key.pem"), "rb").read(), None)
if len(sys.argv) > 7:
    key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
b = (x509.CertificateRevocationListBuilder().issuer_name(old.issuer)
     .last_update(now + datetime.timedelta(minutes=this_m)).next_update(now + datetime.timedelta(hours=next_h)))
for e in old.extensions:
    if e.oid != x509.oid.ExtensionOID.CRL_NUMBER:
        b = b.add_extension(e.value, e.critical)
b = b.add_extension(x509.CRLNumber(2), False)
if revoke != "0":  # "1": revoked 20 hours ago; "later": in 3 minutes
    b = b.add_revoked_certificate(x509.RevokedCertificateBuilder()
        .serial_number((leaf if kind == "pck" else pck_ca).serial_number)
        .revocation_date(now + (datetime.timedelta(minutes=3) if revoke == "later" else -datetime.timedelta(hours=20))).build())
open(out, "wb").write(b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
EOF
}

# 8. TDX, against the PCS stand-in: `sim tdx` issues its TCB Info and QE Identity an hour ago,
#    its CRLs a day ago.
"$CVM" sim tdx --out "$TMP/t" --keep-keys >/dev/null || fail "sim tdx"
[ -f "$TMP/t/pck_ca-key.pem" ] || skip "sim tdx wrote no pck_ca-key.pem"
mkdir "$TMP/srv" && cp "$TMP/t/"*.json "$TMP/t/"*.pem "$TMP/t/"*.der "$TMP/srv/" || fail "cp"
rm -f "$TMP/srv/"*-key.pem
. "$CVMATTEST_SRC/tests/e2e/lib/pcs.sh"
pcs_start "$TMP/srv" "$TMP/pcs.log"
T="$CVM verify $TMP/t/quote.bin --trust-root $TMP/t/root_ca.pem"
# 8a. Two hours ago: the TCB Info from PCS was issued after that.
AT=$(hours_ago 2)
$T --pcs-url "$PCS" --cache-dir "$TMP/tc1" --at "$AT" >"$TMP/o10" 2>&1; rc=$?
untimely "TCB Info issued after --at, downloaded" "$TMP/o10" "TCB Info"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc1" --at "$AT" >"$TMP/o10b" 2>&1; rc=$?
untimely "TCB Info issued after --at, cached" "$TMP/o10b" "TCB Info"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc1" --offline >"$TMP/o10c" 2>&1; rc=$?
expect "the TCB Info stays cached" 0 "$TMP/o10c"
$T --collateral "$TMP/t" --offline --cache-dir "$TMP/tc2" --at "$AT" >"$TMP/o11" 2>&1; rc=$?
expect "TCB Info issued after --at, given" 1 "$TMP/o11"
has "TCB Info issued after --at, given" "error *COLLATERAL_NOT_YET_VALID" "$TMP/o11"
hasnt "TCB Info issued after --at, given" COLLATERAL_UNAVAILABLE "$TMP/o11"
# 8b. PCS now serves a PCK CRL issued now, and the evidence is judged half an hour ago (after
#     the TCB Info's issueDate): the PCK chain's CRL check is what misses.
mktdxcrl pck "$TMP/srv/pck_crl.der" 0 720 0
AT=$(hours_ago 0.5)
$T --pcs-url "$PCS" --cache-dir "$TMP/tc3" --at "$AT" >"$TMP/o12" 2>&1; rc=$?
untimely "PCK CRL issued after --at, downloaded" "$TMP/o12" "PCK CRL"
# ... quoting the check it replaces
has "PCK CRL issued after --at, downloaded" "(CRL_EXPIRED: the CRL covering the PCK certificate" "$TMP/o12"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc3" >"$TMP/o12b" 2>&1; rc=$?
expect "the PCK CRL, now" 0 "$TMP/o12b"
mkdir "$TMP/tdir" && cp "$TMP/t/"*.json "$TMP/t/"*.pem "$TMP/t/"*.der "$TMP/tdir/" &&
    cp "$TMP/srv/pck_crl.der" "$TMP/tdir/pck_crl.der" || fail "cp"
$T --collateral "$TMP/tdir" --offline --cache-dir "$TMP/tc4" --at "$AT" >"$TMP/o13" 2>&1; rc=$?
expect "PCK CRL issued after --at, given" 1 "$TMP/o13"
has "PCK CRL issued after --at, given" "error *CRL_EXPIRED" "$TMP/o13"
hasnt "PCK CRL issued after --at, given" COLLATERAL_UNAVAILABLE "$TMP/o13"
# 8c. PCS serves a PCK CRL issued five minutes ahead (a clock behind PCS's) listing the PCK
#     certificate, revoked 20 hours ago: proven now, whatever the CRL's window.
mktdxcrl pck "$TMP/srv/pck_crl.der" 5 720 1
$T --pcs-url "$PCS" --cache-dir "$TMP/tc5" >"$TMP/o15" 2>&1; rc=$?
expect "PCK CRL ahead, lists the PCK" 1 "$TMP/o15"
has "PCK CRL ahead, lists the PCK" "error *CERT_REVOKED: PCK certificate" "$TMP/o15"
hasnt "PCK CRL ahead, lists the PCK" COLLATERAL_UNAVAILABLE "$TMP/o15"
# ... and one listing it as revoked in three minutes proves nothing now: undecided, as a CRL
#     that misses the time and lists nothing (OpenSSL reports the listing; its date decides).
mktdxcrl pck "$TMP/srv/pck_crl.der" 5 720 later
$T --pcs-url "$PCS" --cache-dir "$TMP/tc5b" >"$TMP/o15b" 2>&1; rc=$?
untimely "PCK CRL ahead, lists the PCK from a later date" "$TMP/o15b" "PCK CRL"
hasnt "PCK CRL ahead, lists the PCK from a later date" CERT_REVOKED "$TMP/o15b"
# 8d. The same PCK CRL listing nothing, and a current Root CA CRL in --collateral DIR listing
#     the PCK CA: OpenSSL stops at the PCK CRL's window, but the PCK CA is still looked up.
mktdxcrl pck "$TMP/srv/pck_crl.der" 5 720 0
mkdir "$TMP/rdir" || fail "mkdir"
mktdxcrl root "$TMP/rdir/root_ca_crl.der" -60 720 1
$T --pcs-url "$PCS" --collateral "$TMP/rdir" --cache-dir "$TMP/tc6" >"$TMP/o16" 2>&1; rc=$?
expect "Root CA CRL lists the PCK CA, PCK CRL ahead" 1 "$TMP/o16"
has "Root CA CRL lists the PCK CA, PCK CRL ahead" "error *CERT_REVOKED: PCK CA" "$TMP/o16"
hasnt "Root CA CRL lists the PCK CA, PCK CRL ahead" COLLATERAL_UNAVAILABLE "$TMP/o16"
# 8e. PCS serves a PCK CRL its issuer never signed, issued a year ahead: refused for its
#     signature and removed from the cache, never "chosen by this verifier" and kept ...
mktdxcrl pck "$TMP/srv/pck_crl.der" 525600 9000 0 forge
$T --pcs-url "$PCS" --cache-dir "$TMP/tc7" >"$TMP/o17" 2>&1; rc=$?
expect "forged PCK CRL ahead" 3 "$TMP/o17"
has "forged PCK CRL ahead" "error *COLLATERAL_UNAVAILABLE: collateral fetched from Intel PCS" "$TMP/o17"
has "forged PCK CRL ahead" "(CRL_INVALID: " "$TMP/o17"
has "forged PCK CRL ahead" "removed from the cache: PCK CRL" "$TMP/o17"
hasnt "forged PCK CRL ahead" "this verifier chose it" "$TMP/o17"
# ... so the genuine one PCS serves next is taken, not refused as older than a cached copy.
cp "$TMP/t/pck_crl.der" "$TMP/srv/pck_crl.der" || fail "cp"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc7" >"$TMP/o17b" 2>&1; rc=$?
expect "the genuine PCK CRL after the forged one" 0 "$TMP/o17b"
hasnt "the genuine PCK CRL after the forged one" "older than the cached copy" "$TMP/o17b"

# retcb DIR NEXT: re-signs DIR's TCB Info (with the simulated TCB Signing key kept in $TMP/t)
# with nextUpdate NEXT (RFC 3339).
retcb() {
    python3 - "$TMP/t/tcb_signing-key.pem" "$@" <<'EOF' || fail "retcb $*"
import re, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
key, d, nxt = sys.argv[1], sys.argv[2], sys.argv[3]
s = open(d + "/tcb_info.json").read()
inner = re.match(r'\{"tcbInfo":(.*),"signature":"[0-9a-f]+"\}\s*$', s, re.S).group(1)
inner = re.sub(r'"nextUpdate":"[^"]*"', '"nextUpdate":"' + nxt + '"', inner, count=1)
k = serialization.load_pem_private_key(open(key, "rb").read(), None)
r, sg = utils.decode_dss_signature(k.sign(inner.encode(), ec.ECDSA(hashes.SHA256())))
sig = (r.to_bytes(32, "big") + sg.to_bytes(32, "big")).hex()
open(d + "/tcb_info.json", "w").write('{"tcbInfo":' + inner + ',"signature":"' + sig + '"}')
EOF
}
# plus_secs TIME S: TIME (RFC 3339) plus S seconds; TIME "now": from now, whole seconds.
plus_secs() {
    python3 -c 'import sys, datetime as d
t = d.datetime.now(d.timezone.utc).replace(microsecond=0) if sys.argv[1] == "now" else \
    d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ")
print((t + d.timedelta(seconds=int(sys.argv[2]))).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1" "$2"
}

# 9. A TCB Info is valid at its nextUpdate second itself (docs/tdx.md, step 5: time <=
#    nextUpdate), from whichever source: downloaded into an empty cache, then from that cache,
#    and given in a directory; a second later it is not (undecided downloaded, a rejection
#    given).
cp "$TMP/t/"*.json "$TMP/t/"*.pem "$TMP/t/"*.der "$TMP/srv/" || fail "cp"
rm -f "$TMP/srv/"*-key.pem
NEXT=$(plus_secs now 86400)
retcb "$TMP/srv" "$NEXT"
mkdir "$TMP/ndir" && cp "$TMP/srv/"* "$TMP/ndir/" || fail "cp"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc8" --at "$NEXT" >"$TMP/o18" 2>&1; rc=$?
expect "TCB Info at its nextUpdate second, downloaded" 0 "$TMP/o18"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc8" --at "$NEXT" --offline >"$TMP/o18b" 2>&1; rc=$?
expect "TCB Info at its nextUpdate second, cached" 0 "$TMP/o18b"
$T --collateral "$TMP/ndir" --offline --cache-dir "$TMP/tc9" --at "$NEXT" >"$TMP/o18c" 2>&1; rc=$?
expect "TCB Info at its nextUpdate second, given" 0 "$TMP/o18c"
AFTER=$(plus_secs "$NEXT" 1)
$T --pcs-url "$PCS" --cache-dir "$TMP/tc10" --at "$AFTER" >"$TMP/o18d" 2>&1; rc=$?
expect "TCB Info a second after its nextUpdate, downloaded" 3 "$TMP/o18d"
has "TCB Info a second after its nextUpdate, downloaded" "already past its nextUpdate" "$TMP/o18d"
$T --collateral "$TMP/ndir" --offline --cache-dir "$TMP/tc9" --at "$AFTER" >"$TMP/o18e" 2>&1; rc=$?
expect "TCB Info a second after its nextUpdate, given" 1 "$TMP/o18e"
has "TCB Info a second after its nextUpdate, given" "error *COLLATERAL_EXPIRED" "$TMP/o18e"

# 10. --collateral-grace applies to a TCB Info however it was had, as docs/tdx.md step 5 says:
#     five seconds past its nextUpdate with a minute of grace, downloaded, it is used with the
#     COLLATERAL_EXPIRED warning (as given in a directory); two minutes past, undecided.
$T --pcs-url "$PCS" --cache-dir "$TMP/tc11" --at "$(plus_secs "$NEXT" 5)" --collateral-grace 60 \
    >"$TMP/o19" 2>&1; rc=$?
expect "TCB Info within the grace, downloaded" 0 "$TMP/o19"
has "TCB Info within the grace, downloaded" "warning *COLLATERAL_EXPIRED: TCB Info .*within the allowed grace" "$TMP/o19"
$T --collateral "$TMP/ndir" --offline --cache-dir "$TMP/tc9" --at "$(plus_secs "$NEXT" 5)" \
    --collateral-grace 60 >"$TMP/o19b" 2>&1; rc=$?
expect "TCB Info within the grace, given" 0 "$TMP/o19b"
has "TCB Info within the grace, given" "warning *COLLATERAL_EXPIRED: TCB Info" "$TMP/o19b"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc12" --at "$(plus_secs "$NEXT" 120)" --collateral-grace 60 \
    >"$TMP/o19c" 2>&1; rc=$?
expect "TCB Info past the grace, downloaded" 3 "$TMP/o19c"
has "TCB Info past the grace, downloaded" "already past its nextUpdate (.*) and the allowed grace" "$TMP/o19c"
# ... and now, not at an --at: PCS serves a stale TCB Info and QE Identity (`sim tdx --stale`:
#     nextUpdate 30 days ago). Within a grace of 31 days it is used, with the warning, and not
#     cached (offline next, it is not there); without it, undecided.
"$CVM" sim tdx --out "$TMP/st" --stale >/dev/null || fail "sim tdx --stale"
cp "$TMP/st/"*.json "$TMP/st/"*.pem "$TMP/st/"*.der "$TMP/srv/" || fail "cp"
S="$CVM verify $TMP/st/quote.bin --trust-root $TMP/st/root_ca.pem"
$S --pcs-url "$PCS" --cache-dir "$TMP/tc13" --collateral-grace 2678400 >"$TMP/o20" 2>&1; rc=$?
expect "stale TCB Info within the grace, downloaded" 0 "$TMP/o20"
has "stale TCB Info within the grace, downloaded" "warning *COLLATERAL_EXPIRED: TCB Info" "$TMP/o20"
has "stale TCB Info within the grace, downloaded" "warning *COLLATERAL_EXPIRED: QE Identity" "$TMP/o20"
$S --collateral "$TMP/st" --offline --cache-dir "$TMP/tc14" --collateral-grace 2678400 \
    >"$TMP/o20b" 2>&1; rc=$?
expect "stale TCB Info within the grace, given" 0 "$TMP/o20b"
$S --pcs-url "$PCS" --cache-dir "$TMP/tc13" --collateral-grace 2678400 --offline >"$TMP/o20c" 2>&1; rc=$?
expect "stale TCB Info within the grace, not cached" 3 "$TMP/o20c"
has "stale TCB Info within the grace, not cached" "TCB Info .*offline and not in cache" "$TMP/o20c"
$S --pcs-url "$PCS" --cache-dir "$TMP/tc15" >"$TMP/o20d" 2>&1; rc=$?
expect "stale TCB Info without grace, downloaded" 3 "$TMP/o20d"
has "stale TCB Info without grace, downloaded" "already past its nextUpdate" "$TMP/o20d"
# ... and a cached TCB Info that expires while cached: within the grace it is still used,
#     offline (from the cache) and online (the same copy downloaded again), with the warning.
cp "$TMP/t/"*.json "$TMP/t/"*.pem "$TMP/t/"*.der "$TMP/srv/" || fail "cp"
rm -f "$TMP/srv/"*-key.pem
retcb "$TMP/srv" "$(plus_secs now 2)"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc16" >"$TMP/o21" 2>&1; rc=$?
expect "TCB Info about to expire, downloaded" 0 "$TMP/o21"
sleep 4
$T --pcs-url "$PCS" --cache-dir "$TMP/tc16" --offline --collateral-grace 600 >"$TMP/o21b" 2>&1; rc=$?
expect "TCB Info expired in the cache, within the grace, offline" 0 "$TMP/o21b"
has "TCB Info expired in the cache, within the grace, offline" "warning *COLLATERAL_EXPIRED: TCB Info" "$TMP/o21b"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc16" --offline >"$TMP/o21c" 2>&1; rc=$?
expect "TCB Info expired in the cache, no grace, offline" 3 "$TMP/o21c"
$T --pcs-url "$PCS" --cache-dir "$TMP/tc16" --collateral-grace 600 >"$TMP/o21d" 2>&1; rc=$?
expect "TCB Info expired in the cache, within the grace, online" 0 "$TMP/o21d"
has "TCB Info expired in the cache, within the grace, online" "warning *COLLATERAL_EXPIRED: TCB Info" "$TMP/o21d"

echo "collateral_rollback: OK"
