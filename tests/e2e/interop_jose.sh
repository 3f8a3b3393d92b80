#!/bin/sh
# Interoperability of cvmattest's JOSE and metrics formats with other projects' Python libraries
# (tests/interop/jose_check.py: PyJWT, python3-cryptography, prometheus_client):
# - PyJWT verifies the signed results (EAR JWT) of `verify --sign-result` with an ES256 and an
#   ES384 key and of `serve` (alg, typ, kid, iat, exp, eat_nonce, ear.status), and refuses each
#   with a bit of its signature or a digit of its payload changed, or with another key;
# - `result check` accepts what PyJWT signs over the same claims with the same key (and reads
#   its claims), and refuses PyJWT's token by another key, of alg none, of an alg not the
#   key's curve, or with a changed payload; and writes a contraindicated token's submodule
#   name, reason code and detail with their line feeds and tabs escaped;
# - PyJWT's PyJWKSet reads serve's GET /v1/keys (P-256, P-384) and its key verifies the token;
# - PyJWS verifies the registries of `registry build` (ES256, ES384); `verify --registry`
#   binds the simulated evidence by a registry PyJWS signs over the same payload, and refuses
#   one by another key, of alg none or not typed cvmattest-registry+jws, for the documented
#   reason;
# - prometheus_client parses GET /metrics: docs/service.md's families with their types, and
#   the counters moved by exactly the requests sent here (a count raised by one is noticed).
. "$(dirname "$0")/lib/serve.sh"
. "$(dirname "$0")/lib/py.sh"
SRC=${CVMATTEST_SRC:?}
JC=$SRC/tests/interop/jose_check.py
for p in curl jq; do
    command -v $p >/dev/null 2>&1 ||
        { echo "interop_jose: SKIP: $p not found (make deps installs it)"; exit 77; }
done
py_with jwt cryptography prometheus_client || {
    echo "interop_jose: SKIP: no Python 3 with PyJWT, cryptography and prometheus_client" \
        "(make deps: python3-jwt, python3-cryptography, python3-prometheus-client)"
    exit 77
}
T=$(mktemp -d /tmp/cvma-e2e-jose.XXXXXX) || exit 1
PIDS="" # the servers lib/serve.sh start runs, stopped by its cleanup
trap cleanup EXIT
trap 'exit 1' INT TERM
export CVMATTEST_CACHE="$T/cache"
# jc ARGS...: jose_check.py ARGS, whose "ok"/"FAIL" lines count here (a run that fails
# without a FAIL line, a crash, counts once)
jc() {
    "$PY" "$JC" "$@" >"$T/jc.out" 2>&1
    _g=$?
    cat "$T/jc.out"
    _f=$(grep -c '^FAIL' "$T/jc.out")
    [ "$_g" != 0 ] && [ "$_f" = 0 ] && { fail "jose_check.py $1 exited $_g"; return; }
    fails=$((fails + _f))
}
# rc NAME WANT TOKEN PUB TEXT: `result check TOKEN --pub PUB` exits WANT with TEXT on stderr
rc() {
    $CVM result check "$3" --pub "$4" >"$T/rc.out" 2>"$T/rc.err"
    _g=$?
    if [ "$_g" = "$2" ] && grep -q -- "$5" "$T/rc.err"; then ok "$1"
    else fail "$1: exit $_g, want $2 and '$5': $(head -c 300 "$T/rc.err")"; fi
}

# --- fixtures: simulated SEV-SNP evidence (keys kept to re-sign it for a nonce), keys
CHIP=$(printf '5a%.0s' $(seq 64))
RD=00112233445566778899aabbccddeeff # --report-data: the CLI token's eat_nonce is its hex
$CVM sim snp --out "$T/s" --chip-id "$CHIP" --report-data $RD --keep-keys >/dev/null || { fail "sim snp"; exit 1; }
for k in v w acme; do $CVM registry keygen --out "$T/$k" >/dev/null || { fail "keygen $k"; exit 1; }; done
for k in v384 w384 acme384; do
    $CVM registry keygen --out "$T/$k" --alg ES384 >/dev/null || { fail "keygen $k"; exit 1; }
done
V="$CVM verify $T/s/report.bin --collateral $T/s --offline --trust-root $T/s/ark.pem"

# --- 1. PyJWT verifies verify --sign-result's tokens, and refuses them altered or by
# another key; 2. result check reads what PyJWT signs over the same claims
for ka in v:ES256 v384:ES384; do
    k=${ka%%:*} alg=${ka#*:}
    w=w${k#v} # another key of the same curve
    $V --report-data $RD --sign-result "$T/$k.key" --result-out "$T/$k.tok" >/dev/null
    eq "verify --sign-result ($alg) exits 0" 0 $?
    jc ear "$T/$k.tok" "$T/$k.pub" "$alg" --nonce $RD --no-exp --status affirming --submod sev-snp \
        --other-pub "$T/$w.pub" --altered "$T/$k.alt"
    for part in sig payload; do
        rc "result check refuses the $alg token with its $part changed" 1 "$T/$k.alt.$part" "$T/$k.pub" refused
    done
    mkdir "$T/py$k"
    jc forge "$T/$k.tok" "$T/$k.key" "$alg" "$T/$w.key" "$T/py$k"
    rc "result check accepts PyJWT's $alg token over the same claims" 0 "$T/py$k/same.tok" "$T/$k.pub" \
        "status affirming"
    eq "... and prints the claims PyJWT signed" "$(jq -S -c . "$T/py$k/same.json")" "$(jq -S -c . "$T/rc.out")"
    rc "result check reads PyJWT's $alg claims: ear.status contraindicated exits 1" 1 "$T/py$k/contra.tok" \
        "$T/$k.pub" "status contraindicated"
    rc "result check: a contraindicated token's names with line feeds" 1 "$T/py$k/lines.tok" \
        "$T/$k.pub" 'submodule s\\x0avalid token'
    if grep -q '^valid token\|	' "$T/rc.err" || ! grep -q 'X\\x0avalid token issued now; status affirming: a\\x09b\\x0avalid' "$T/rc.err"
    then fail "result check wrote the token's line feeds or tabs raw: $(head -c 400 "$T/rc.err")"
    else ok "... its names and details are written with \\x0a and \\x09, no forged line"; fi
    rc "result check refuses PyJWT's $alg token by another key" 1 "$T/py$k/other-key.tok" "$T/$k.pub" refused
    rc "result check refuses PyJWT's alg none token" 1 "$T/py$k/none.tok" "$T/$k.pub" refused
    rc "result check refuses PyJWT's token of the other alg on the $alg key" 1 "$T/py$k/other-alg.tok" \
        "$T/$k.pub" refused
    rc "result check refuses PyJWT's $alg token with its payload changed" 1 "$T/py$k/payload.tok" \
        "$T/$k.pub" refused
done

# --- 3. serve's token and /v1/keys, with a P-256 and a P-384 result key
start A --trust-root "$T/s/ark.pem" --collateral "$T/s" --offline --sign-result "$T/v.key"
A=http://127.0.0.1:$PORT
curl -sf "$A/metrics" >"$T/m0.txt"; eq "GET /metrics" 0 $?
n=$(curl -sf "$A/v1/nonce" | jq -r .nonce)
"$PY" "$SRC/tests/e2e/lib/snp_resign.py" "$T/s/report.bin" "$T/s/vcek-key.pem" \
    "$("$PY" "$JC" nonce-hex -- "$n")" "$T/rn.bin" || fail "re-sign the report for the nonce"
jq -n --arg e "$(base64 -w0 "$T/rn.bin")" --arg n "$n" '{evidence: $e, nonce: $n}' >"$T/b1.json"
jq -n --arg e "$(base64 -w0 "$T/s/report.bin")" '{evidence: $e}' >"$T/b2.json"
printf '{}' >"$T/b3.json"
eq "POST /v1/verify with a nonce" 200 "$(post "$A/v1/verify" "$T/b1.json" "$T/o1.json")"
eq "POST /v1/verify without" 200 "$(post "$A/v1/verify" "$T/b2.json" "$T/o2.json")"
eq "POST /v1/verify without evidence" 400 "$(post "$A/v1/verify" "$T/b3.json" "$T/o3.json")"
jq -r .token "$T/o1.json" >"$T/svc.tok"
curl -sf "$A/v1/keys" >"$T/jwks.json"; eq "GET /v1/keys" 0 $?
jc ear "$T/svc.tok" "$T/v.pub" ES256 --nonce="$n" --ttl 300 --status affirming --submod sev-snp \
    --altered "$T/svc.alt" --jwks "$T/jwks.json"
start B --trust-root "$T/s/ark.pem" --collateral "$T/s" --offline --sign-result "$T/v384.key"
B=http://127.0.0.1:$PORT
eq "POST /v1/verify (ES384 service)" 200 "$(post "$B/v1/verify" "$T/b2.json" "$T/o4.json")"
jq -r .token "$T/o4.json" >"$T/svc384.tok"
curl -sf "$B/v1/keys" >"$T/jwks384.json"; eq "GET /v1/keys (ES384 service)" 0 $?
jc ear "$T/svc384.tok" "$T/v384.pub" ES384 --ttl 300 --status affirming --submod sev-snp \
    --jwks "$T/jwks384.json"
stop B

# --- 4. the registry JWS, both ways
printf 'amd chip_id %s region=eu-1\n' "$CHIP" >"$T/fleet.txt"
for pa in acme:ES256 acme384:ES384; do
    p=${pa%%:*} alg=${pa#*:}
    $CVM registry build --provider "$p" --key "$T/$p.key" --entries "$T/fleet.txt" --version 1 \
        --valid-days 30 --out "$T/$p.jws" >/dev/null
    eq "registry build ($alg)" 0 $?
    if [ "$p" = acme ]; then set -- --other-key "$T/w.key" --refused "$T/py-acme"; else set --; fi
    jc reg "$T/$p.jws" "$T/$p.pub" "$alg" "$p" "$CHIP" "$T/$p.key" "$T/py-$p.jws" "$@"
    $V --provider "$p=$T/$p.pub" --registry "$T/py-$p.jws" --json >"$T/vr-$p.json"
    st=$?
    eq "verify --registry binds the evidence by PyJWS's $alg registry: exit 0, affirming, $p, eu-1" \
        "0 affirming $p eu-1" \
        "$st $(jq -r '"\(.status) \(.platform.provider) \(.platform.labels.region)"' "$T/vr-$p.json")"
done
set --
for c in other-key:REGISTRY_SIGNATURE_INVALID none:REGISTRY_SIGNATURE_INVALID typ:REGISTRY_MALFORMED; do
    f=${c%%:*} code=${c#*:}
    $V --provider acme="$T/acme.pub" --registry "$T/py-acme.$f.jws" --json >"$T/vr-$f.json"
    st=$?
    case " $(jq -r '[.reasons[].code] | join(" ")' "$T/vr-$f.json") " in
    *" $code "*) eq "verify refuses PyJWS's registry ($f): exit 1, $code" 1 $st ;;
    *) fail "verify of PyJWS's registry ($f): exit $st, want $code: $(jq -c '[.reasons[].code]' "$T/vr-$f.json")" ;;
    esac
done

# --- 5. /metrics by prometheus_client: between the two scrapes this test sent serve A 3
# verify requests (2 answered 200, 1 400 BAD_REQUEST), 1 nonce, 1 keys and 1 metrics request
curl -sf "$A/metrics" >"$T/m1.txt"; eq "GET /metrics again" 0 $?
jc metrics "$SRC/docs/service.md" "$T/m0.txt" "$T/m1.txt" \
    --optional cvmattest_collateral_fetches_total --optional cvmattest_collateral_budget_refusals_total \
    --delta cvmattest_http_requests_total endpoint=verify 3 \
    --delta cvmattest_http_requests_total endpoint=verify,status=200,error= 2 \
    --delta cvmattest_http_requests_total endpoint=verify,status=400,error=BAD_REQUEST 1 \
    --delta cvmattest_http_request_duration_seconds_count endpoint=verify 3 \
    --delta cvmattest_verify_results_total status=affirming,undecided=false 2 \
    --delta cvmattest_verify_results_total - 2 \
    --delta cvmattest_http_requests_total endpoint=nonce,status=200 1 \
    --delta cvmattest_http_requests_total endpoint=keys,status=200 1 \
    --delta cvmattest_http_requests_total endpoint=metrics,status=200 1

echo "$fails failure(s)"
[ "$fails" = 0 ]
