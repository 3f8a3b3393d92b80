#!/bin/sh
# A bad collateral copy in the fleet's shared cache (`serve --redis`): a VCEK for the right
# chip and TCB under another root, put in Redis under the VCEK's key, makes the result
# undecided and is deleted from Redis (docs/service.md, "Collateral"); once the right one is
# shared, the same evidence is affirming. Offline: only Redis answers. Then a genuine CRL in
# Redis issued five minutes from now (this host's clock behind the issuer's): undecided
# (COLLATERAL_UNAVAILABLE), never CRL_EXPIRED, and it stays in Redis (docs/collateral.md,
# "Refreshes that are not taken").
. "$(dirname "$0")/lib/serve.sh"
serve_setup curl jq python3 redis-server redis-cli

# Two simulated machines with the same CHIP_ID and TCB, each under its own test root.
CHIP=$(printf 'cd%.0s' $(seq 64))
$CVM sim snp --out "$T/a" --chip-id "$CHIP" --keep-keys >/dev/null || { echo "FAIL sim snp a"; exit 1; }
$CVM sim snp --out "$T/b" --chip-id "$CHIP" >/dev/null || { echo "FAIL sim snp b"; exit 1; }
jq -n --arg e "$(base64 -w0 "$T/a/report.bin")" '{evidence: $e}' >"$T/body.json"
KDS=http://127.0.0.1:9
VCEK_KEY="amd-kds $KDS/vcek/v1/Milan/$CHIP?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115"

. "${CVMATTEST_SRC:?}/tests/e2e/lib/redis.sh"
redis_start

# share CACHE_KEY FILE: as an instance would after a download (fetched now, no expiry)
rkey() { printf 'cvmattest:collateral:%s' "$(printf '%s' "$1" | sha256sum | cut -c1-64)"; }
share() {
    python3 -c 'import struct, sys, time
sys.stdout.buffer.write(struct.pack(">qq", int(time.time()), 0) + open(sys.argv[1], "rb").read())' "$2" |
        redis-cli -p "$RP" -x set "$(rkey "$1")" >/dev/null
}
share "$VCEK_KEY" "$T/b/vcek.der"
share "amd-kds $KDS/vcek/v1/Milan/cert_chain" "$T/a/cert_chain.pem"
share "amd-kds $KDS/vcek/v1/Milan/crl" "$T/a/crl.der"

start serve --offline --kds-url "$KDS" --cache-dir "$T/cache" --trust-root "$T/a/ark.pem" \
    --redis "redis://127.0.0.1:$RP"
# verify OUT: the evidence posted, the answer in OUT
verify() { post "http://127.0.0.1:$PORT/v1/verify" "$T/body.json" "$1" >/dev/null; }

verify "$T/o1.json"
eq "a VCEK of another root from Redis: undecided" "true COLLATERAL_UNAVAILABLE" \
    "$(jq -r '"\(.undecided) \([.reasons[].code] | map(select(. == "COLLATERAL_UNAVAILABLE")) | .[0])"' "$T/o1.json")"
eq "it is deleted from Redis" 0 "$(redis-cli -p "$RP" exists "$(rkey "$VCEK_KEY")")"
eq "the cert_chain stays in Redis" 1 "$(redis-cli -p "$RP" exists "$(rkey "amd-kds $KDS/vcek/v1/Milan/cert_chain")")"
share "$VCEK_KEY" "$T/a/vcek.der"
verify "$T/o2.json"
eq "the right VCEK shared: affirming" affirming "$(jq -r .status "$T/o2.json")"

# A's ARK's CRL, thisUpdate five minutes from now, in Redis; the local cache emptied so that
# Redis answers.
if python3 -c 'import cryptography' 2>/dev/null; then
    python3 - "$T/a" "$T/future_crl.der" <<'EOF' || fail "sign a CRL"
import sys, datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
d, out = sys.argv[1], sys.argv[2]
ark = x509.load_pem_x509_certificate(open(d + "/ark.pem", "rb").read())
key = serialization.load_pem_private_key(open(d + "/ark-key.pem", "rb").read(), None)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
b = (x509.CertificateRevocationListBuilder().issuer_name(ark.subject)
     .last_update(now + datetime.timedelta(minutes=5)).next_update(now + datetime.timedelta(days=1)))
crl = b.sign(key, hashes.SHA384(), rsa_padding=padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48))
open(out, "wb").write(crl.public_bytes(serialization.Encoding.DER))
EOF
    CRL_KEY="amd-kds $KDS/vcek/v1/Milan/crl"
    share "$CRL_KEY" "$T/future_crl.der"
    rm -rf "${T:?}/cache"
    verify "$T/o3.json"
    eq "a CRL issued after now from Redis: undecided" "true COLLATERAL_UNAVAILABLE" \
        "$(jq -r '"\(.undecided) \([.reasons[].code] | map(select(. == "COLLATERAL_UNAVAILABLE")) | .[0])"' "$T/o3.json")"
    eq "... naming why" true "$(jq '[.reasons[].detail] | any(test("after the verification time"))' "$T/o3.json")"
    eq "... not CRL_EXPIRED" false "$(jq '[.reasons[].code] | any(. == "CRL_EXPIRED")' "$T/o3.json")"
    eq "the CRL stays in Redis" 1 "$(redis-cli -p "$RP" exists "$(rkey "$CRL_KEY")")"
else
    echo "skip the CRL issued after now: python3-cryptography not installed"
fi
[ $fails -eq 0 ] || { cat "$T/serve.log"; jq -c .reasons "$T/o1.json"; [ -f "$T/o3.json" ] && jq -c .reasons "$T/o3.json"; redis-cli -p "$RP" keys "*"; exit 1; }
echo "serve_redis_poison: OK"
