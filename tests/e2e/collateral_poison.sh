#!/bin/sh
# Fetched collateral that fails its own checks is the collateral's fault, not the evidence's
# (docs/collateral.md, "What a hostile network can do"): against tests/kds_server.py, on
# simulated evidence, with one cache directory throughout:
#  - an ARK served as the VCEK: refused before it is cached (not the VCEK asked for), exit 3;
#  - a VCEK for the right chip and TCB that does not chain to the trusted ARK: exit 3
#    (COLLATERAL_UNAVAILABLE), removed from the cache; once the right one is served: affirming;
#  - the same for a cert_chain of another root and a CRL the ARK did not sign;
#  - the ASVK chain (right ARK) or another product's at the VCEK URL: refused by its names
#    before it is cached (exit 3), the VCEK kept, a VCEK given in --collateral not blamed;
#  - a report whose signature fails under a VCEK that chains is still contraindicated (exit 1).
# Needs CVMATTEST_BIN, CVMATTEST_SRC (ctest sets them) and python3.
set -u

skip() { echo "collateral_poison: SKIP: $*" >&2; exit 77; }
fail() { echo "collateral_poison: FAIL: $*" >&2; exit 1; }

[ -n "${CVMATTEST_BIN:-}" ] && [ -x "$CVMATTEST_BIN" ] || skip "CVMATTEST_BIN not set or not built"
[ -n "${CVMATTEST_SRC:-}" ] || skip "CVMATTEST_SRC not set"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

no_proxy=127.0.0.1,localhost; NO_PROXY=$no_proxy; export no_proxy NO_PROXY

CVM=$CVMATTEST_BIN
TMP=$(mktemp -d /tmp/cvma-e2e-poison.XXXXXX) || fail "mktemp"
KDS_PID=
cleanup() {
    for p in $KDS_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# Two simulated machines with the same CHIP_ID and TCB, each under its own test root: B's
# VCEK has the hwID and SPLs A's report asks for, but does not chain to A's root.
CHIP=$(printf 'cd%.0s' $(seq 64))
"$CVM" sim snp --out "$TMP/a" --chip-id "$CHIP" --keep-keys >/dev/null || fail "sim snp a"
"$CVM" sim snp --out "$TMP/b" --chip-id "$CHIP" >/dev/null || fail "sim snp b"
cmp -s "$TMP/a/ark.pem" "$TMP/b/ark.pem" && skip "sim snp made the same root twice"
mkdir "$TMP/srv" || fail "mkdir"
serve() { cp "$1" "$TMP/srv/$2" || fail "cp $1"; } # what the server answers from now on
serve "$TMP/a/vcek.der" vcek.der
serve "$TMP/a/cert_chain.pem" cert_chain.pem
serve "$TMP/a/crl.der" crl.der

python3 "$CVMATTEST_SRC/tests/kds_server.py" --max-seconds 120 --dir "$TMP/srv" \
    --log "$TMP/kds.log" \
    --route "/vcek/v1/Milan/$CHIP=vcek.der" \
    --route "/vcek/v1/Milan/cert_chain=cert_chain.pem" \
    --route "/vcek/v1/Milan/crl=crl.der" >"$TMP/port" &
KDS_PID=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMP/port" ] || fail "kds_server.py did not report a port"
KDS="http://127.0.0.1:$(head -n 1 "$TMP/port")"

C="$TMP/cache"
V="$CVM verify $TMP/a/report.bin --trust-root $TMP/a/ark.pem --kds-url $KDS --cache-dir $C"
run() { $V "$@" >"$TMP/out" 2>&1; rc=$?; }
expect() { # name, exit code, text the output must hold
    [ "$rc" -eq "$2" ] || { cat "$TMP/out" >&2; fail "$1: exit $rc, want $2"; }
    grep -q -- "$3" "$TMP/out" || { cat "$TMP/out" >&2; fail "$1: no '$3'"; }
}
no() { ! grep -q -- "$2" "$TMP/out" || { cat "$TMP/out" >&2; fail "$1: '$2'"; }; }
entries() { ls "$C" 2>/dev/null | grep -c '\.entry$'; }

# 1. An ARK (DER) at the VCEK URL: not the VCEK asked for, refused before caching.
openssl x509 -in "$TMP/a/ark.pem" -outform DER -out "$TMP/ark.der" || fail "openssl"
serve "$TMP/ark.der" vcek.der
run; expect "ARK as VCEK" 3 "COLLATERAL_UNAVAILABLE"
expect "ARK as VCEK" 3 "not a VCEK for the hwID asked for"
no "ARK as VCEK" "CERT_CHAIN_INVALID"
[ "$(entries)" = 0 ] || fail "ARK as VCEK: something was cached ($(entries) entries)"

# 2. B's VCEK (right hwID and TCB, wrong root): undecided, and removed from the cache.
serve "$TMP/b/vcek.der" vcek.der
run; expect "VCEK of another root" 3 "COLLATERAL_UNAVAILABLE"
expect "VCEK of another root" 3 "removed from the cache: VCEK"
no "VCEK of another root" "CERT_CHAIN_INVALID\""
no "VCEK of another root" "status: *affirming"
serve "$TMP/a/vcek.der" vcek.der
run; expect "VCEK fixed on the server" 0 "status: *affirming"

# 3. A cert_chain of another root, served once the VCEK is cached: undecided, then affirming.
rm -rf "$C"
serve "$TMP/b/cert_chain.pem" cert_chain.pem
run; expect "cert_chain of another root" 3 "removed from the cache: cert_chain"
serve "$TMP/a/cert_chain.pem" cert_chain.pem
run; expect "cert_chain fixed on the server" 0 "status: *affirming"

# 3b. The ASVK chain served at the VCEK URL (under the same ARK, sound by itself, but the
# ASVK is not the VCEK's issuer): refused by its names before it is cached (undecided), the
# genuine VCEK kept; once the right chain is served: affirming. A VCEK given by the user is
# not blamed for it either (3c).
rm -rf "$C"
# chain_under_a CN SERIAL OUT: a chain of a CA certificate named CN, signed by A's ARK as AMD
# signs (RSA-PSS, SHA-384), then that ARK
chain_under_a() {
    openssl req -new -key "$TMP/k2.pem" -out "$TMP/ca.req" -subj "/OU=Engineering/C=US/\
L=Santa Clara/ST=CA/O=cvmattest simulated Advanced Micro Devices/CN=$1" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign" 2>/dev/null &&
        openssl x509 -req -in "$TMP/ca.req" -CA "$TMP/a/ark.pem" -CAkey "$TMP/a/ark-key.pem" \
            -copy_extensions copy -set_serial "$2" -days 365 -sigopt rsa_padding_mode:pss \
            -sigopt rsa_pss_saltlen:48 -sha384 -out "$TMP/ca.pem" 2>/dev/null &&
        cat "$TMP/ca.pem" "$TMP/a/ark.pem" >"$3" || fail "openssl: a $1 under A's ARK"
}
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/k2.pem" 2>/dev/null ||
    fail "openssl genpkey"
chain_under_a SEV-VLEK-Milan 2 "$TMP/chain2.pem"
serve "$TMP/chain2.pem" cert_chain.pem
run; expect "ASVK chain at the VCEK URL" 3 "COLLATERAL_UNAVAILABLE"
expect "ASVK chain at the VCEK URL" 3 "ASK is 'SEV-VLEK-Milan', not the 'SEV-Milan' of the VCEK path"
no "ASVK chain at the VCEK URL" "removed from the cache"
[ "$(entries)" = 1 ] || fail "ASVK chain at the VCEK URL: $(entries) cache entries, want the VCEK's"
# 3c. ... and with the VCEK given in --collateral DIR (the chain fetched): undecided, not the
# user's VCEK rejected
mkdir "$TMP/given" && cp "$TMP/a/vcek.der" "$TMP/given/" || fail "cp"
run --collateral "$TMP/given"; expect "ASVK chain under a given VCEK" 3 "COLLATERAL_UNAVAILABLE"
no "ASVK chain under a given VCEK" "CERT_CHAIN_INVALID"
# another product's chain (names of SEV-Genoa, under A's ARK): refused alike
chain_under_a SEV-Genoa 3 "$TMP/chain3.pem"
serve "$TMP/chain3.pem" cert_chain.pem
run; expect "a Genoa ASK at the Milan URL" 3 "ASK is 'SEV-Genoa', not the 'SEV-Milan'"
serve "$TMP/a/cert_chain.pem" cert_chain.pem
run; expect "cert_chain fixed after a wrong one was refused" 0 "status: *affirming"
# 3d. The ASVK chain already in the cache (written there before chains were checked by name,
# or by hand): the VCEK fetched fails under it, and both go, not only the VCEK (else every
# later run would evict the genuine VCEK again); then affirming.
rm -rf "$C" && mkdir -m 700 "$C" || fail "mkdir cache"
python3 - "$C" "amd-kds $KDS/vcek/v1/Milan/cert_chain" "$TMP/chain2.pem" <<'EOF2' || fail "plant"
import hashlib, struct, sys, time
d, key, body = sys.argv[1], sys.argv[2].encode(), open(sys.argv[3], "rb").read()
head = b"CVMACE02" + struct.pack(">QQQ", 0, int(time.time()), len(body))
dig = hashlib.sha256(head + struct.pack(">Q", len(key)) + key + body).digest()
name = hashlib.sha256(key).hexdigest() + ".entry"
open(d + "/" + name, "wb").write(head + dig + body)
EOF2
run; expect "ASVK chain in the cache" 3 "removed from the cache: VCEK, cert_chain"
run; expect "cert_chain fetched again after the cached one went" 0 "status: *affirming"

# 4. A CRL that A's ARK did not sign (B's): undecided, then affirming.
rm -rf "$C"
serve "$TMP/b/crl.der" crl.der
run; expect "CRL of another ARK" 3 "removed from the cache: CRL"
serve "$TMP/a/crl.der" crl.der
run; expect "CRL fixed on the server" 0 "status: *affirming"

# 5. A report signature that fails under a VCEK that chains is the evidence's fault.
cp "$TMP/a/report.bin" "$TMP/bad.bin" || fail "cp"
printf '\377' | dd of="$TMP/bad.bin" bs=1 seek=80 conv=notrunc 2>/dev/null || fail "dd"
$CVM verify "$TMP/bad.bin" --trust-root "$TMP/a/ark.pem" --kds-url "$KDS" --cache-dir "$C" \
    >"$TMP/out" 2>&1; rc=$?
expect "tampered report" 1 "SNP_REPORT_SIGNATURE_INVALID"
no "tampered report" "COLLATERAL_UNAVAILABLE"

# 5b. A report whose REPORTED_TCB has a reserved byte set (no VCEK address carries it) breaks
# the tie with the cached VCEK by itself: refused as the evidence's, the VCEK stays cached
# (offline afterwards, the genuine report is still affirming).
cp "$TMP/a/report.bin" "$TMP/rsv.bin" || fail "cp"
printf '\001' | dd of="$TMP/rsv.bin" bs=1 seek=$((0x182)) conv=notrunc 2>/dev/null || fail "dd"
$CVM verify "$TMP/rsv.bin" --trust-root "$TMP/a/ark.pem" --kds-url "$KDS" --cache-dir "$C" \
    >"$TMP/out" 2>&1; rc=$?
[ "$rc" -eq 1 ] || { cat "$TMP/out" >&2; fail "reserved TCB byte: exit $rc, want 1"; }
no "reserved TCB byte" "COLLATERAL_UNAVAILABLE"
$CVM verify "$TMP/a/report.bin" --trust-root "$TMP/a/ark.pem" --kds-url "$KDS" --cache-dir "$C" \
    --offline >"$TMP/out" 2>&1; rc=$?
expect "the cached VCEK kept after a report's own fault" 0 "status: *affirming"

# 6. The same VCEK of another root given in --collateral DIR is the user's: rejected (exit 1).
mkdir "$TMP/dir" && cp "$TMP/b/vcek.der" "$TMP/a/cert_chain.pem" "$TMP/a/crl.der" "$TMP/dir/"
$CVM verify "$TMP/a/report.bin" --trust-root "$TMP/a/ark.pem" --collateral "$TMP/dir" --offline \
    >"$TMP/out" 2>&1; rc=$?
expect "VCEK of another root in DIR" 1 "CERT_CHAIN_INVALID"
echo "collateral_poison: OK"
