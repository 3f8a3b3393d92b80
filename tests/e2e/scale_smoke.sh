#!/bin/sh
# bench/scale-out.sh in its 2-second smoke mode (docs/operations.md): two `cvmattest serve`
# instances sharing a redis-server and a nonce key behind nginx, driven by wrk, one stopped
# with SIGTERM mid-run. Checks that the run completes, that the stopped instance exits 0,
# that nonces bound to evidence are accepted once and every replay of them (through nginx
# and at each instance) is refused, and that nginx's limit_req answers 429 in both zones.
set -u
src=${CVMATTEST_SRC:?}
: "${CVMATTEST_BIN:?}"
out=$(mktemp)
trap 'rm -f "$out" "$out.conf"' EXIT
# the configuration docs/operations.md shows is the one the bench runs
awk '/^```nginx$/ { on = 1; next } on && /^```$/ { exit } on' "$src/docs/operations.md" >"$out.conf"
if ! cmp -s "$out.conf" "$src/bench/nginx.conf"; then
    echo "FAIL docs/operations.md does not show bench/nginx.conf as it is:"
    diff "$out.conf" "$src/bench/nginx.conf" | head -20
    exit 1
fi
echo "ok   docs/operations.md shows bench/nginx.conf"
# --smoke changes defaults only: a bad --rounds before it is still refused (it once reset it)
for order in "--rounds 0 --smoke" "--smoke --rounds 0"; do
    if timeout 60 sh "$src/bench/scale-out.sh" $order 2>&1 | grep -q -- '--rounds wants a number >= 1'; then
        echo "ok   scale-out.sh $order: refused"
    else
        echo "FAIL scale-out.sh $order: not refused"
        exit 1
    fi
done
timeout 300 sh "$src/bench/scale-out.sh" --smoke >"$out" 2>&1
rc=$?
cat "$out"
[ $rc = 77 ] && exit 77
fails=0
check() { # NAME PATTERN
    if grep -Eq "$2" "$out"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
[ $rc = 0 ] && echo "ok   scale-out.sh --smoke exits 0" || { echo "FAIL scale-out.sh --smoke exited $rc"; fails=$((fails + 1)); }
check "one instance measured" '^1 instance, direct \(round 1\) +[0-9]+ /s .*requests +[1-9][0-9]*'
check "its rate per CPU-second against the in-process rate" '^  round 1: [1-9][0-9]* /s per CPU-second the instance used .* = [0-9.]+x the in-process rate with every core busy'
check "the median ratio of the rounds" '^instance per core: [0-9.]+x the in-process rate with every core busy \(per CPU-second, the median of 1 rounds'
check "the instance on a core of its own (or why not)" '^instance on a core of its own: ([0-9.]+x the in-process rate on that core \(per CPU-second, the median of 1 rounds|not measured \(needs 2 cores and taskset\))'
check "the instance sharing its core with wrk and Redis (or why not)" '^(instance sharing its core with wrk and Redis \(no wake-up of another core\): [0-9.]+x the in-process rate on that core \(per CPU-second, the median of 1 rounds|instance on a core of its own: not measured)'
check "target line: one instance per core" '^target (met:|MISSED:) +one instance >= 0.8x in-process per core'
check "target line: < 1% lost when one of two instances stops" '^target met: +two instances behind nginx lose < 1% of requests when one stops'
check "two instances behind nginx measured" '^2 instances behind nginx, one stopped +[0-9]+ /s .*requests +[1-9][0-9]*'
check "both instances answered through nginx" '^behind nginx: A answered [1-9][0-9]*, B answered [1-9][0-9]* '
check "in-process figure beside them" '^in-process cvmattest bench +[1-9][0-9]* /s'
check "bound nonces accepted once, affirming" '^replays: ([1-9][0-9]*) nonces accepted once \(\1 affirming\)'
check "no replayed nonce accepted" ', [1-9][0-9]* replays .*: 0 accepted, [1-9][0-9]* refused 409, 0 other$'
check "target line: no replayed nonce accepted" '^target met: +no replayed nonce accepted'
check "stopped instance exits 0" '^instance B after SIGTERM: exit 0;'
check "nginx limit_req answers 429 (nonce and verify zones)" 'nginx rate limits: of the burst requests ([1-9][0-9])/20 nonce, ([4-9]|10)/10 verify got 429$'
check "what a loopback send costs the sender" '^  tcp  (other|same) core, receiver sleeping: +[0-9.]+ us$'
[ $fails = 0 ] || exit 1
