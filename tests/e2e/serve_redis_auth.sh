#!/bin/sh
# `serve --redis` with a Redis that wants a password (docs/operations.md, "Redis"): the password
# comes from --redis-password-file (or the configuration's "redis_password_file"), never from
# the URL; a user in the URL is a Redis 6 ACL user. A Redis that answers but refuses the
# instance (no password, a wrong one) stops it at start (exit 2) with Redis's words; with the
# right password, spent nonces are shared through it as without one.
. "$(dirname "$0")/lib/serve.sh"
serve_setup curl jq python3 redis-server redis-cli
# the refusals at start (lib/redis.sh: refused) never echo a password
SECRETS='pw one
wrong pw
s3cret'

$CVM sim snp --out "$T/s" >/dev/null || { echo "FAIL sim snp"; exit 1; }
openssl rand -out "$T/nonce.key" 32
jq -n --arg e "$(base64 -w0 "$T/s/report.bin")" '{evidence: $e}' >"$T/body.json"
printf 'pw one\n' >"$T/pw"
printf 'user pw\r\n' >"$T/pw-user"
printf 'wrong pw\n' >"$T/bad"
: >"$T/empty"
printf 'a\nb\n' >"$T/two-lines"
head -c 1025 /dev/zero | tr '\0' p >"$T/long"   # one byte over the limit, no line end
head -c 2000 /dev/zero | tr '\0' p >"$T/longer" # over what is read at all
chmod 600 "$T/pw" "$T/pw-user" "$T/bad" "$T/empty" "$T/two-lines" "$T/long" "$T/longer"

. "${CVMATTEST_SRC:?}/tests/e2e/lib/redis.sh"
redis_start --requirepass 'pw one'
# exactly the commands docs/operations.md ("Redis", Access) lists for an ACL user
redis-cli -p "$RP" --no-auth-warning -a 'pw one' ACL SETUSER cvm on '>user pw' '~cvmattest:*' \
    -@all +ping +select +set +getrange +get +del +eval '+config|get' >/dev/null ||
    { echo "FAIL ACL SETUSER"; exit 1; }
# a user that may not PING (nor anything but GET): NOPERM
redis-cli -p "$RP" --no-auth-warning -a 'pw one' ACL SETUSER mute on '>user pw' '~cvmattest:*' '+get' >/dev/null ||
    { echo "FAIL ACL SETUSER mute"; exit 1; }
COMMON="--trust-root $T/s/ark.pem --collateral $T/s --offline --nonce-key $T/nonce.key"
R=redis://127.0.0.1:$RP

# 1. refused at start, each with its reason
refused "no password, Redis wants one" "refused a client without a password (NOAUTH" $COMMON --redis "$R"
refused "a wrong password" "refused the password (WRONGPASS" $COMMON --redis "$R" --redis-password-file "$T/bad"
refused "a wrong user" "refused the password (WRONGPASS" $COMMON --redis "redis://nobody@127.0.0.1:$RP" --redis-password-file "$T/pw"
refused "an ACL user without PING" "refused a command to this instance's ACL user (NOPERM" $COMMON --redis "redis://mute@127.0.0.1:$RP" --redis-password-file "$T/pw-user"
refused "a password in the URL" "a password in the URL is refused" $COMMON --redis "redis://cvm:s3cret@127.0.0.1:$RP"
refused "a user without a password" "names a user but no password is given" $COMMON --redis "redis://cvm@127.0.0.1:$RP"
refused "a password file without --redis" "needs --redis" --trust-root "$T/s/ark.pem" --redis-password-file "$T/pw"
refused "an empty password file" "'$T/empty': empty" $COMMON --redis "$R" --redis-password-file "$T/empty"
refused "a password file of two lines" "more than one line" $COMMON --redis "$R" --redis-password-file "$T/two-lines"
refused "a missing password file" "unreadable" $COMMON --redis "$R" --redis-password-file "$T/none"
refused "a password of 1025 bytes" "'$T/long': over 1024 bytes" $COMMON --redis "$R" --redis-password-file "$T/long"
refused "a password file of 2000 bytes" "unreadable, or over 1024 bytes" $COMMON --redis "$R" --redis-password-file "$T/longer"

# 2. the password alone (requirepass), in database 2; and the ACL user from a configuration
#    file (its path relative to the file), with a CRLF line end: one nonce is spent once
start A $COMMON --redis "$R/2" --redis-password-file "$T/pw"
A=http://127.0.0.1:$PORT
mkdir "$T/conf"
cp "$T/pw-user" "$T/conf/redis.pw"
jq -n --arg r "redis://cvm@127.0.0.1:$RP/2" '{redis: $r, redis_password_file: "redis.pw"}' >"$T/conf/serve.json"
start B $COMMON --config "$T/conf/serve.json"
B=http://127.0.0.1:$PORT
replay_across "the ACL user" "the password alone" --no-auth-warning -a 'pw one'
grep -q 'is not answered' "$T/B.log" && fail "the ACL user's eviction check: $(grep 'not answered' "$T/B.log")" ||
    ok "the ACL user reads Redis's eviction settings (CONFIG GET)"
eq "healthz at A" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$A/healthz")"
grep -q -e 'pw one' -e 'user pw' "$T/A.log" "$T/B.log" && fail "a password in a log" || ok "no password in the logs"

# 3. a password file readable by others: warned at start, as the keys are
chmod 644 "$T/pw"
start C $COMMON --redis "$R" --redis-password-file "$T/pw"
grep -q "warning: --redis-password-file '$T/pw' has mode 0644" "$T/C.log" &&
    ok "a password file of mode 0644: warned at start" || fail "password file mode: $(head -3 "$T/C.log")"

[ $fails = 0 ] && echo "serve_redis_auth: all passed" || echo "serve_redis_auth: $fails failed"
[ $fails = 0 ]
