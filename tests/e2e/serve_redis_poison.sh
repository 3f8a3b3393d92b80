#!/bin/sh
# A bad collateral copy in the fleet's shared cache (`serve --redis`): a VCEK for the right
# chip and TCB under another root, put in Redis under the VCEK's key, makes the result
# undecided and is deleted from Redis (docs/service.md, "Collateral"); once the right one is
# shared, the same evidence is affirming. Offline: only Redis answers.
. "$(dirname "$0")/lib/serve.sh"
serve_setup curl jq python3 redis-server redis-cli

# Two simulated machines with the same CHIP_ID and TCB, each under its own test root.
CHIP=$(printf 'cd%.0s' $(seq 64))
$CVM sim snp --out "$T/a" --chip-id "$CHIP" >/dev/null || { echo "FAIL sim snp a"; exit 1; }
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
[ $fails -eq 0 ] || { cat "$T/serve.log"; jq -c .reasons "$T/o1.json"; redis-cli -p "$RP" keys "*"; exit 1; }
echo "serve_redis_poison: OK"
