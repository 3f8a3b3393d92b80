#!/bin/sh
# A secret file (a password, a private key) that is a FIFO with no writer, or another file that
# is not a regular file, is refused at once, naming the file: "not a regular file". Before,
# the file was opened with a blocking open() and `cvmattest serve` waited for a writer for
# ever at start. Other inputs, read through the plain reader (a policy), wait for a named
# pipe's writer as before, and a pipe (/dev/stdin) still works.
# aTLS's --key likewise (it was opened by OpenSSL's own file functions).
# Each command runs under `timeout`, so a regression fails (124) instead of hanging the suite.
# Needs CVMATTEST_BIN (ctest sets it).
set -u
CVM=${CVMATTEST_BIN:?}
command -v mkfifo >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1 ||
    { echo "secret_fifo: SKIP: mkfifo or timeout not found" >&2; exit 77; }
T=$(mktemp -d /tmp/cvma-e2e-secret-fifo.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
# refused NAME FILE COMMAND...: exit 2 within the time-out, stderr naming FILE and saying why
refused() {
    name=$1
    file=$2
    shift 2
    timeout 10 "$@" >/dev/null 2>"$T/err"
    rc=$?
    if [ $rc = 2 ] && grep -qF -- "$file" "$T/err" && grep -qF "not a regular file" "$T/err"; then
        ok "$name: exit 2, '$(head -c 300 "$T/err")'"
    else
        fail "$name: exit $rc (124 is a hang), stderr: $(head -c 300 "$T/err")"
    fi
}

export CVMATTEST_CACHE="$T/cache"
$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
mkfifo -m 600 "$T/fifo" || exit 1
mkdir -m 700 "$T/dir" || exit 1
S="--trust-root $T/s/ark.pem --collateral $T/s --offline --listen 127.0.0.1:0"
# --redis names a port nothing listens on: each secret is read before Redis is reached.
R="--redis redis://127.0.0.1:1"

# 1. serve: each secret file as a FIFO, then as a directory
for f in "$T/fifo" "$T/dir"; do
    refused "serve --redis-password-file $(basename "$f")" "$f" $CVM serve $S $R --redis-password-file "$f"
    refused "serve --nonce-key $(basename "$f")" "$f" $CVM serve $S $R --nonce-key "$f"
    refused "serve --sign-result $(basename "$f")" "$f" $CVM serve $S --sign-result "$f"
    refused "serve --tls-key $(basename "$f")" "$f" $CVM serve $S --tls-cert "$T/s/ark.pem" --tls-key "$f"
done

# 1b. a TLS key with a NUL byte is no PEM text (and a string's wipe would stop at the NUL)
printf 'x\000y\n' >"$T/nul.key"
timeout 10 $CVM serve $S --tls-cert "$T/s/ark.pem" --tls-key "$T/nul.key" >/dev/null 2>"$T/err"
rc=$?
if [ $rc = 2 ] && grep -q "holds a NUL byte" "$T/err"; then ok "serve --tls-key with a NUL byte: exit 2"; else fail "serve --tls-key with a NUL byte: exit $rc, $(head -c 300 "$T/err")"; fi

# 2. the other secret keys: a registry's signing key, a log's and a witness's note keys
printf 'amd chip_id %0128d\n' 1 >"$T/fleet.txt"
refused "registry build --key" "$T/fifo" $CVM registry build --provider acme --key "$T/fifo" \
    --entries "$T/fleet.txt" --version 1 --valid-days 30 --out "$T/r.jws"
$CVM registry log keygen --out "$T/log" --origin example.com/log >/dev/null || exit 1
printf 'example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n' >"$T/cp"
refused "witness cosign --key" "$T/fifo" $CVM witness cosign --state "$T/ws" --key "$T/fifo" \
    --log-vkey "$T/log.vkey" "$T/cp"

# 2b. aTLS: --key read by our reader, not OpenSSL's file functions (which would wait on a FIFO)
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/k.pem" \
        -out "$T/c.pem" -subj /CN=atls -days 1 >/dev/null 2>&1; then
    for f in "$T/fifo" "$T/dir"; do
        refused "atls-server --key $(basename "$f")" "$f" $CVM atls-server --listen 127.0.0.1:0 \
            --sim "$T/s" --cert "$T/c.pem" --key "$f"
        refused "atls-client --key $(basename "$f")" "$f" $CVM atls-client \
            --connect 127.0.0.1:1 --trust-root "$T/s/ark.pem" --cert "$T/c.pem" --key "$f"
    done
    # --cert too (it may hold the key as well): a FIFO is refused at once
    refused "atls-server --cert fifo" "$T/fifo" $CVM atls-server --listen 127.0.0.1:0 \
        --sim "$T/s" --cert "$T/fifo" --key "$T/k.pem"
    # a damaged certificate block after the first is an error, not the end of the chain
    { cat "$T/c.pem"; printf -- '-----BEGIN CERTIFICATE-----\nMIIBnot-base64\n-----END CERTIFICATE-----\n'; } >"$T/chain.pem"
    timeout 10 $CVM atls-server --listen 127.0.0.1:0 --sim "$T/s" --cert "$T/chain.pem" \
        --key "$T/k.pem" >/dev/null 2>"$T/err"
    rc=$?
    if [ $rc = 2 ] && grep -q "a certificate block after the first does not read" "$T/err"; then ok "atls-server --cert with a damaged chain: exit 2"; else fail "atls-server --cert with a damaged chain: exit $rc, $(head -c 300 "$T/err")"; fi
    # an encrypted --key is refused, never a passphrase prompt on the terminal (script(1)
    # gives the command one) that waits
    if command -v script >/dev/null 2>&1 &&
        openssl pkey -in "$T/k.pem" -aes256 -passout pass:x -out "$T/kenc.pem" 2>/dev/null; then
        timeout 10 script -qec "$CVM atls-server --listen 127.0.0.1:0 --sim $T/s --cert $T/c.pem --key $T/kenc.pem" /dev/null >"$T/err" 2>&1 </dev/null
        rc=$?
        if [ $rc = 2 ] && grep -q "holds no unencrypted PEM private key" "$T/err"; then ok "atls-server --key encrypted: exit 2, no prompt"; else fail "atls-server --key encrypted: exit $rc (124 is a prompt that waits), $(head -c 300 "$T/err")"; fi
    fi
else
    echo "note: openssl cannot make a certificate: the aTLS cases are not run"
fi

# 3. a file that is not secret, read through the plain reader: a named pipe the user gave is
#    read as it comes, its writer waited for (not taken for an empty file); a pipe as before
(sleep 0.3; printf '{}\n' >"$T/fifo") &
timeout 10 $CVM policy check "$T/fifo" >/dev/null 2>"$T/err"
rc=$?
wait
if [ $rc = 0 ]; then ok "policy check FIFO with a late writer"; else fail "policy check FIFO with a late writer: exit $rc, $(cat "$T/err")"; fi
printf '{}\n' | timeout 10 $CVM policy check /dev/stdin >/dev/null 2>"$T/err"
rc=$?
if [ $rc = 0 ]; then ok "policy check /dev/stdin (a pipe)"; else fail "policy check /dev/stdin: exit $rc, $(cat "$T/err")"; fi

# a public key is no secret: registry check --pub reads it as verify --provider does
$CVM registry keygen --out "$T/pk" >/dev/null || exit 1
printf 'intel ppid %s\n' 3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c >"$T/pk.txt"
$CVM registry build --provider acme --key "$T/pk.key" --entries "$T/pk.txt" --version 1 \
    --valid-days 1 --out "$T/pk.jws" >/dev/null || exit 1
(sleep 0.3; cat "$T/pk.pub" >"$T/fifo") &
timeout 10 $CVM registry check "$T/pk.jws" --pub "$T/fifo" --quiet >/dev/null 2>"$T/err"
rc=$?
wait
if [ $rc = 0 ]; then ok "registry check --pub FIFO with a late writer"; else fail "registry check --pub FIFO with a late writer: exit $rc, $(cat "$T/err")"; fi

[ $fails = 0 ] && echo "secret_fifo: all passed" || echo "secret_fifo: $fails failed"
[ $fails = 0 ]
