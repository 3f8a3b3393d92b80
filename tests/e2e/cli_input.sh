#!/bin/sh
# The CLI's input handling (docs/cli.md): --help on every command and subcommand, --opt=value,
# bad options, evidence forms (stdin, hex, base64, --inform, bundles), inputs that are not
# evidence, and options checked before anything is verified (exit 2, no verdict printed).
set -u
CVM=${CVMATTEST_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CVMATTEST_CACHE="$T/cache"
fails=0
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else fail "$1: exit $3, want $2"; fi
}
has() { # file, text (fixed string), name
    if grep -qF -- "$2" "$1"; then echo "ok   $3"; else fail "$3: no '$2' in $1:"; head -c 600 "$1"; echo; fi
}
empty() { # file, name
    if [ -s "$1" ]; then fail "$2: stdout not empty:"; head -c 300 "$1"; echo; else echo "ok   $2"; fi
}
# Runs the command; $T/out, $T/err hold what it printed, $rc its exit code.
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }

$CVM sim snp --out "$T/s" >/dev/null; check "sim snp" 0 $?
$CVM sim tdx --out "$T/t" >/dev/null; check "sim tdx" 0 $?
SV="--collateral $T/s --offline --trust-root $T/s/ark.pem"

# --- --help: every command and subcommand, exit 0, usage on stdout, nothing on stderr
for c in "" show verify bench "bench registry" sim "sim snp" "sim tdx" demo result "result check" \
    registry "registry keygen" "registry build" "registry prove" "registry check" \
    "registry bench" policy "policy check" "policy import" collateral "collateral fetch"; do
    # shellcheck disable=SC2086
    run $CVM $c --help
    check "$c --help" 0 $rc
    has "$T/out" "usage:" "$c --help prints usage on stdout"
    empty "$T/err" "$c --help: nothing on stderr"
done
run $CVM help; check "help" 0 $rc
has "$T/out" "usage:" "help prints usage"
run $CVM help registry build; check "help registry build" 0 $rc
has "$T/out" "--valid-days" "help registry build is registry build --help"
run $CVM help sim tdx; check "help sim tdx" 0 $rc
has "$T/out" "--tcb-status" "help sim tdx is sim tdx --help"
run $CVM help nosuch; check "help of an unknown command" 2 $rc
run $CVM help --help; check "help --help" 0 $rc
has "$T/out" "usage:" "help --help prints usage"
empty "$T/err" "help --help: nothing on stderr"
run $CVM version --help; check "version --help" 0 $rc
has "$T/out" "usage: cvmattest version" "version --help prints its usage"
run $CVM version extra; check "version with an operand" 2 $rc
run $CVM help sim snp extra; check "help with three words" 2 $rc
# -h is --help for every command and subcommand the overview lists
for c in $($CVM --help | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u) "sim snp" "result check" \
    "tpm check-quote" "tpm make-credential" "registry build" "policy check"; do
    [ "$c" = help ] || [ "$c" = version ] && continue
    # shellcheck disable=SC2086
    $CVM $c --help >"$T/long" 2>&1
    # shellcheck disable=SC2086
    run $CVM $c -h
    check "$c -h" 0 $rc
    if cmp -s "$T/out" "$T/long"; then echo "ok   $c -h is $c --help"; else fail "$c -h differs from --help"; fi
done

# --- unknown options and missing values: exit 2, the option named, a pointer to --help
for c in "show $T/s/report.bin" "verify $T/s/report.bin" "sim snp --out $T/x" "sim tdx --out $T/x" \
    demo "result check tok --pub p" "registry keygen --out $T/k" "registry build" \
    "registry prove" "registry check r" "registry bench" "bench registry" "policy check p" \
    "policy import p" "collateral fetch $T/s/report.bin"; do
    # shellcheck disable=SC2086
    run $CVM $c --bogus
    check "$c --bogus" 2 $rc
    has "$T/err" "--bogus" "$c --bogus: the option is named"
    empty "$T/out" "$c --bogus: nothing on stdout"
done
for c in "verify $T/s/report.bin --collateral" "sim snp --out" "sim tdx --out" \
    "registry keygen --out" "registry build --entries" "registry check r --pub" \
    "policy import --from" "collateral fetch $T/s/report.bin --out" "result check tok --pub"; do
    # shellcheck disable=SC2086
    run $CVM $c
    check "$c (no value)" 2 $rc
    has "$T/err" "needs a value" "$c: says a value is missing"
done
# an abbreviation of one option is that option; of several, it is named as ambiguous with them
# shellcheck disable=SC2086
run $CVM verify "$T/s/report.bin" --collateral "$T/s" --off --trust-r "$T/s/ark.pem" --json
check "verify with unambiguous abbreviations" 0 $rc
run $CVM verify "$T/s/report.bin" --re x; check "an ambiguous abbreviation" 2 $rc
has "$T/err" "'--re' is ambiguous: it abbreviates --registry --result-out --report-data" \
    "an ambiguous abbreviation names the options it could be"
run $CVM sim snp --out "$T/x" --p=1; check "an ambiguous abbreviation with a value" 2 $rc
has "$T/err" "'--p' is ambiguous" "an ambiguous --opt=value is named"
run $CVM sim snp --out "$T/x" --debug=yes; check "a flag given a value" 2 $rc
has "$T/err" "--debug takes no value" "a flag given a value is named"
run $CVM registry check r --pub=; check "registry check --pub= (empty)" 2 $rc
run $CVM collateral fetch "$T/s/report.bin" --out=; check "collateral fetch --out= (empty)" 2 $rc
has "$T/err" "--out needs a value" "collateral fetch --out= is named"
run $CVM collateral fetch "$T/s/report.bin" --out ''; check "collateral fetch --out '' (empty)" 2 $rc
has "$T/err" "collateral fetch: --out needs a value" "collateral fetch --out '' is named"
# bytes that are no evidence do not parse (exit 1, as verify); a malformed bundle is unreadable
# input (exit 2, as verify); another kind has nothing to fetch (exit 2)
# (fixed bytes, none of them text: random ones began with '{' now and then, a bundle)
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(0x80, 0xe4)))' >"$T/junk.bin"
run $CVM collateral fetch "$T/junk.bin" --out "$T/cfj"; check "collateral fetch of bytes that are no evidence" 1 $rc
has "$T/err" "does not parse as evidence" "collateral fetch: no evidence is said"
printf '{"x": 1}' >"$T/notbundle.json"
run $CVM collateral fetch "$T/notbundle.json" --out "$T/cfj"; check "collateral fetch of a malformed bundle" 2 $rc
run $CVM verify "$T/notbundle.json" --offline; check "verify of a malformed bundle" 2 $rc
has "$T/err" '"cvmattest_bundle": 1 expected' "a malformed bundle is named"
has "$T/err" "verify: '$T/notbundle.json': bundle:" "the evidence file is quoted as given"
# show quotes its evidence file as verify does (docs/cli.md): a bundle without parts, binary
# bytes taken as base64 text
printf '{"cvmattest_bundle": 1, "parts": []}' >"$T/noparts.json"
run $CVM show "$T/noparts.json"; check "show of a bundle without parts" 2 $rc
has "$T/err" "show: '$T/noparts.json': bundle:" "show: the bundle file is quoted as given"
run $CVM show "$T/s/report.bin" --inform base64; check "show --inform base64 of binary" 2 $rc
has "$T/err" "show: '$T/s/report.bin': --inform base64: the input is not text" \
    "show: the evidence file is quoted as given"
[ ! -e "$T/cfj" ] || { echo "FAIL: collateral fetch wrote for no evidence"; fails=$((fails + 1)); }
# an empty value where empty means nothing: exit 2 before anything is verified (an empty
# $NONCE must not expect a REPORT_DATA of 64 zero bytes)
for o in "--report-data=" "--report-data ''" "--cache-dir ''" "--kds-url=" "--collateral ''" \
    "--policy=" "--tee ''"; do
    eval "run \$CVM verify \"\$T/s/report.bin\" --offline --trust-root \"\$T/s/ark.pem\" $o"
    check "verify $o (empty)" 2 $rc
    has "$T/err" "needs a value" "verify $o: a value is missing"
    empty "$T/out" "verify $o: no verdict"
done
# a base URL of another scheme is refused at the options (exit 2, named), never a fetch that
# fails later without a collateral reason
# (or one without a host, or with an empty or impossible port; or with a query or a fragment,
# after which the paths appended are neither, or user information, whose password was written
# into every result that named a URL fetched)
for o in "--kds-url ftp://x" "--pcs-url file:///tmp" "--kds-url=kdsintf.amd.com" \
    "--kds-url http://127.0.0.1:" "--pcs-url https://:443/x" "--kds-url=http://h:65536" \
    "--kds-url http://127.0.0.1:9/?x=1" "--pcs-url http://127.0.0.1:9#frag" \
    "--kds-url 'http://127.0.0.1:9/a b'" "--kds-url http://user:S3cretPass@127.0.0.1:9"; do
    eval "run \$CVM verify \"\$T/s/report.bin\" --trust-root \"\$T/s/ark.pem\" $o"
    check "verify $o" 2 $rc
    has "$T/err" "must be an http:// or https:// URL" "verify $o: the scheme is named"
    empty "$T/out" "verify $o: no verdict"
    ! grep -q S3cretPass "$T/err" || fail "verify $o: the password is echoed"
done
run $CVM collateral fetch "$T/s/report.bin" --out "$T/cfu" --pcs-url ftp://x
check "collateral fetch --pcs-url ftp://x" 2 $rc
has "$T/err" "--pcs-url must be an http:// or https:// URL" "collateral fetch --pcs-url ftp: named"
run timeout 20 $CVM serve --kds-url gopher://x --listen 127.0.0.1:0; check "serve --kds-url gopher://x" 2 $rc
has "$T/err" "--kds-url must be an http:// or https:// URL" "serve --kds-url gopher: named"
run $CVM sim snp --out "$T/zero"; check "sim snp (REPORT_DATA zero)" 0 $rc
run $CVM verify "$T/zero/report.bin" --collateral "$T/zero" --offline --trust-root "$T/zero/ark.pem" \
    --report-data ''
check "--report-data '' does not expect 64 zero bytes" 2 $rc
run $CVM collateral fetch "$T/s/report.bin" --out "$T/cf" --cache-dir=; check "collateral fetch --cache-dir=" 2 $rc
run $CVM registry keygen --out "$T/ok" --alg ''; check "registry keygen --alg ''" 2 $rc
[ -e "$T/ok.key" ] && fail "registry keygen --alg '' wrote a key"
run $CVM registry keygen --out "$T/ok"; check "registry keygen" 0 $rc
# a value that begins with -- is not taken from the next argument: that is the next option
(cd "$T" && $CVM registry keygen --out --help >out 2>err); rc=$?
check "registry keygen --out --help" 2 $rc
has "$T/err" "--out needs a value" "registry keygen --out --help: the value is missing"
[ -e "$T/--help.key" ] && fail "registry keygen --out --help wrote --help.key"
run $CVM collateral fetch "$T/s/report.bin" --out --cache-dir "$T/cc"
check "collateral fetch --out --cache-dir DIR" 2 $rc
has "$T/err" "--out needs a value" "collateral fetch --out --cache-dir: the value is missing"
[ -e "$T/--cache-dir" ] || [ -e "$T/cc" ] && fail "collateral fetch --out --cache-dir wrote something"
# the same with = (the two spellings are equivalent); such a file is ./--NAME
(cd "$T" && $CVM registry keygen --out=--k >out 2>err); rc=$?
check "registry keygen --out=--k" 2 $rc
[ -e "$T/--k.key" ] && fail "registry keygen --out=--k wrote --k.key"
(cd "$T" && $CVM registry keygen --out ./--k >out 2>err); rc=$?
check "registry keygen --out ./--k" 0 $rc
[ -e "$T/--k.key" ] || fail "registry keygen --out ./--k: no --k.key"
run $CVM verify "$T/s/report.bin" --collateral "$T/s" --offline --trust-root "$T/s/ark.pem" --nonce --json
check "verify --nonce --json" 2 $rc
has "$T/err" "--nonce needs a value" "verify --nonce --json: the value is missing"

# --- an option that takes one value, given twice; options that exclude each other
printf 'amd chip_id %s\n' "$(printf '5a%.0s' $(seq 64))" >"$T/e1.txt"
RB="registry build --provider=cloud --key=$T/ok.key --entries=$T/e1.txt --valid-days=30"
# shellcheck disable=SC2086
{
    run $CVM $RB --version 1 --version 2 --out "$T/r2.jws"; check "registry build --version twice" 2 $rc
    has "$T/err" "--version given twice" "registry build --version twice: named"
    run $CVM $RB --version 1 --out "$T/r2.jws" --include-entries --root-only
    check "registry build --include-entries --root-only" 2 $rc
    has "$T/err" "--include-entries and --root-only exclude each other" "--include-entries --root-only: named"
    [ -e "$T/r2.jws" ] && fail "registry build with a refused option wrote its registry"
    run $CVM $RB --version 1 --out "$T/r2.jws" --root-only --root-only
    check "registry build --root-only twice (a flag)" 0 $rc
    run $CVM verify "$T/s/report.bin" $SV --tee snp --tee tdx; check "verify --tee twice" 2 $rc
    has "$T/err" "--tee given twice" "verify --tee twice: named"
    empty "$T/out" "verify --tee twice: no verdict"
    run $CVM verify "$T/s/report.bin" $SV --report-data 00 --report-data 00; check "verify --report-data twice" 2 $rc
    has "$T/err" "--report-data given twice" "--report-data twice: named"
    run $CVM verify "$T/s/report.bin" $SV --trust-root "$T/t/root_ca.pem" --json
    check "verify --trust-root twice (repeatable)" 0 $rc
    run $CVM measure snp --ovmf "$T/e1.txt" --tdvf "$T/e1.txt" --vcpus 1 --vcpu-type EPYC-v4
    check "measure snp --ovmf --tdvf" 2 $rc
    has "$T/err" "--ovmf and --tdvf exclude each other" "--ovmf --tdvf: named"
    run $CVM eventlog "$T/e1.txt" --pcrs a --pcrs b; check "eventlog --pcrs twice" 2 $rc
    run $CVM show "$T/s/report.bin" --tee snp --tee=snp; check "show --tee twice" 2 $rc
    run $CVM registry log prove --log "$T" --registry "$T/r2.jws" --from 1
    check "registry log prove --registry --from" 2 $rc
    has "$T/err" "--registry and --from exclude each other" "--registry --from: named"
}

# --- --opt=value is --opt value
# shellcheck disable=SC2086
run $CVM verify "$T/s/report.bin" $SV --json; check "verify --opt value" 0 $rc
jq -S 'del(.verified_at)' "$T/out" >"$T/sep.json"
run $CVM verify "$T/s/report.bin" --collateral="$T/s" --offline --trust-root="$T/s/ark.pem" --json
check "verify --collateral=DIR --trust-root=F" 0 $rc
jq -S 'del(.verified_at)' "$T/out" >"$T/eq.json"
if cmp -s "$T/sep.json" "$T/eq.json"; then echo "ok   --opt=value gives the same result"; else fail "--opt=value: results differ"; fi
run $CVM sim snp --out="$T/s2" --vmpl=1 --product=genoa; check "sim snp --out=DIR --vmpl=1" 0 $rc
run $CVM show "$T/s2/report.bin" --json; check "show of sim snp --out=DIR" 0 $rc
has "$T/out" '"vmpl": 1' "sim snp --vmpl=1 took effect"
run $CVM sim tdx --out="$T/t2" --ppid="$(printf '3c%.0s' $(seq 16))"; check "sim tdx --out=DIR --ppid=HEX" 0 $rc
# options that describe the tsm tree need --tsm-tree; an RTMR given twice is refused
run $CVM sim snp --out "$T/s3" --privlevel-floor 1; check "sim snp --privlevel-floor without --tsm-tree" 2 $rc
has "$T/err" "give --tsm-tree DIR too" "sim snp --privlevel-floor alone: said so"
[ -e "$T/s3" ] && fail "sim snp --privlevel-floor alone: wrote $T/s3"
printf 'manifest' >"$T/manifest.bin"
run $CVM sim snp --out "$T/s3" --tsm-manifest "$T/manifest.bin"; check "sim snp --tsm-manifest without --tsm-tree" 2 $rc
has "$T/err" "--tsm-manifest describes the configfs-tsm tree" "sim snp --tsm-manifest alone: said so"
run $CVM sim snp --out "$T/s3" --privlevel-floor 1 --tsm-tree "$T/tsm3"; check "sim snp --privlevel-floor --tsm-tree" 0 $rc
R0=$(printf 'aa%.0s' $(seq 48)); R1=$(printf 'bb%.0s' $(seq 48))
run $CVM sim tdx --out "$T/t3" --rtmr "0=$R0" --rtmr "0=$R1"; check "sim tdx --rtmr 0 twice" 2 $rc
has "$T/err" "--rtmr 0 given twice" "sim tdx --rtmr twice: said so"
run $CVM sim tdx --out "$T/t3" --rtmr "0=$R0" --rtmr "2=$R1"; check "sim tdx --rtmr 0 and 2" 0 $rc
run $CVM registry keygen --out="$T/p"; check "registry keygen --out=NAME" 0 $rc
printf 'amd chip_id %s\n' "$(printf '5a%.0s' $(seq 64))" >"$T/e.txt"
run $CVM registry build --provider=cloud --key="$T/p.key" --entries="$T/e.txt" --version=1 \
    --valid-days=30 --out="$T/r.jws" --root-only
check "registry build --opt=value" 0 $rc
run $CVM registry check "$T/r.jws" --pub="$T/p.pub" --quiet; check "registry check --pub=PUB" 0 $rc
run $CVM policy import --from=nope "$T/e.txt"; check "policy import --from=nope" 2 $rc
has "$T/err" "--from nope is not supported" "policy import --from=VALUE is read as --from VALUE"

# --- bench --seconds: a number in (0, 3600]; NaN fails every comparison and is no number;
# decimal digits with at most one point, nothing else strtod takes (sign, space, hex, exponent)
for s in nan NAN -nan inf 0 3601 "" " 1" "+1" 0x1 1e0 1.5.2; do
    # shellcheck disable=SC2086
    run $CVM bench "$T/s/report.bin" $SV --seconds="$s" --json
    check "bench --seconds '$s'" 2 $rc
    empty "$T/out" "bench --seconds '$s': nothing on stdout"
done

# --- bench --sign-result KEY: each result signed, as serve does (no token file)
openssl ecparam -name prime256v1 -genkey -noout -out "$T/ear.pem" 2>/dev/null
# shellcheck disable=SC2086
run $CVM bench "$T/s/report.bin" $SV --seconds 0.2 --sign-result "$T/ear.pem" --json
check "bench --sign-result KEY" 0 $rc
has "$T/out" '"signed": true' "bench --sign-result signs each result"
# shellcheck disable=SC2086
run $CVM bench "$T/s/report.bin" $SV --seconds 0.2 --json; check "bench" 0 $rc
has "$T/out" '"signed": false' "bench without --sign-result signs nothing"
# shellcheck disable=SC2086
run $CVM bench "$T/s/report.bin" $SV --sign-result "$T/ear.pem" --result-out "$T/tok"
check "bench --result-out" 2 $rc
has "$T/err" "bench writes no token" "bench --result-out is refused by name"
# shellcheck disable=SC2086
run $CVM bench "$T/s/report.bin" $SV --previous "$T/out" --seconds 0.2
check "bench --previous" 2 $rc
has "$T/err" "--previous is for verify" "bench --previous is refused by name"
empty "$T/out" "bench --previous: nothing benchmarked"
# the first verification's exit code is verify's: 3 undecided (no collateral, offline), 1 refused
run $CVM bench "$T/s/report.bin" --offline --trust-root "$T/s/ark.pem" --seconds 0.2
check "bench, first verification undecided" 3 $rc
has "$T/err" "(undecided); not benchmarking" "bench undecided: said so"
run $CVM bench "$T/s/report.bin" --collateral "$T/s" --offline --trust-root "$T/t/root_ca.pem" \
    --seconds 0.2
check "bench, first verification refused" 1 $rc

# --- evidence forms
run $CVM verify - --collateral "$T/s" --offline --trust-root "$T/s/ark.pem" <"$T/s/report.bin"
check "verify - (standard input)" 0 $rc
od -An -v -tx1 "$T/s/report.bin" | tr -d ' ' >"$T/r.hex"
base64 "$T/s/report.bin" >"$T/r.b64"
# shellcheck disable=SC2086
{
    run $CVM verify "$T/r.hex" $SV; check "hex text detected" 0 $rc
    run $CVM verify "$T/r.b64" $SV; check "base64 text detected" 0 $rc
    run $CVM verify - $SV <"$T/r.b64"; check "base64 text on standard input" 0 $rc
    run $CVM verify "$T/r.hex" --inform hex $SV; check "--inform hex" 0 $rc
    run $CVM verify "$T/r.b64" --inform=base64 $SV; check "--inform=base64" 0 $rc
    run $CVM verify "$T/s/report.bin" --inform bin $SV; check "--inform bin" 0 $rc
    run $CVM verify "$T/r.hex" --inform bin $SV --json; check "--inform bin on hex text: not evidence" 1 $rc
    has "$T/out" PARSE_UNKNOWN_FORMAT "--inform bin forces the bytes as they are"
    run $CVM verify "$T/r.b64" --inform hex $SV; check "--inform hex on base64 text" 2 $rc
    has "$T/err" "hex" "--inform hex on base64 text says why"
    run $CVM verify "$T/r.hex" --inform octal $SV; check "--inform octal" 2 $rc
}
run $CVM show "$T/s/report.bin" --tee bogus; check "show --tee bogus" 2 $rc
has "$T/err" "--tee must be" "show --tee bogus names the kinds"
has "$T/err" "not 'bogus'" "show --tee bogus names the value"
kinds=$(sed -n "s/.*--tee must be \(.*\), not 'bogus'/\1/p" "$T/err" | sed 's/ or /, /' | tr -d ,)
[ "$(echo $kinds | wc -w)" -ge 6 ] || fail "show --tee bogus: fewer than six kinds read from '$(cat "$T/err")'"
for k in $kinds; do
    run $CVM show "$T/s/report.bin" --tee "$k"
    [ "$rc" = 2 ] && grep -q "tee" "$T/err" && fail "show --tee $k: named as a kind, but refused"
done
run $CVM show "$T/s/report.bin" --tee snp; check "show --tee snp" 0 $rc
run $CVM show "$T/r.hex"; check "show hex text" 0 $rc
has "$T/out" "SEV-SNP" "show hex text names the report"
# --tee against a bundle's own "kind": the same kind is taken, another is a usage error
# (exit 2, both named), not the evidence verified as what it is not.
# shellcheck disable=SC2086
{
    run $CVM verify "$T/s/bundle.json" $SV --tee snp; check "--tee snp on a sev-snp bundle" 0 $rc
    run $CVM verify "$T/s/bundle.json" $SV --tee tdx; check "--tee tdx on a sev-snp bundle" 2 $rc
    has "$T/err" "the bundle says its evidence is of kind 'sev-snp', and the request names kind 'tdx'" \
        "--tee against the bundle's kind: both named"
    empty "$T/out" "--tee against the bundle's kind: no verdict"
    run $CVM show "$T/s/bundle.json" --tee tdx; check "show --tee tdx on a sev-snp bundle" 2 $rc
    has "$T/err" "the bundle says its evidence is of kind 'sev-snp', and --tee names kind 'tdx'" \
        "show --tee against the bundle's kind: both named"
    run $CVM show "$T/s/bundle.json" --tee snp; check "show --tee snp on a sev-snp bundle" 0 $rc
}
run $CVM show "$T/s/bundle.json" --json; check "show a bundle" 0 $rc
has "$T/out" '"version"' "show a bundle prints the report's fields"
run $CVM show "$T/t/bundle.json"; check "show a TDX bundle" 0 $rc
run $CVM verify "$T/s/bundle.json" --offline --trust-root "$T/s/ark.pem"; check "SNP bundle.json verifies alone" 0 $rc
# A part's name is the bundle's (untrusted) text: quoted in the error with its control bytes
# as \xNN, so a bundle cannot write escape sequences or forged lines to a terminal or a log.
python3 - "$T/s/bundle.json" "$T/evil.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
b["parts"].append({"role": "collateral", "name": "tpm_\x1b]0;owned\x07\x1b[2J\nFAKE: affirming",
                   "data": "AAAA"})
json.dump(b, open(sys.argv[2], "w"))
PY
run $CVM verify "$T/evil.json" --offline --trust-root "$T/s/ark.pem"; check "a bundle part with control bytes in its name" 2 $rc
has "$T/err" 'tpm_\x1b]0;owned\x07\x1b[2J\x0aFAKE: affirming' "the part's name is quoted escaped"
if LC_ALL=C grep -q "$(printf '\033')" "$T/err" || [ "$(wc -l <"$T/err")" -ne 1 ]; then
    fail "a control byte or a second line from the bundle reached stderr"
fi
# Arguments are quoted the same way in every message of the CLI (cvma_cli_err): an option's
# value, an unknown option, a path and an unknown command, each with an escape sequence and
# a byte that is not UTF-8, reach stderr as \xNN on one line each.
ESC=$(printf '\033[2J\377')
for args in "verify x --tee $ESC" "verify x --$ESC" "verify $T/$ESC" "sim snp --version $ESC" \
    "collateral $ESC" "$ESC"; do
    # shellcheck disable=SC2086
    run $CVM $args
    check "control bytes in '$(echo "$args" | cut -c1-12)...'" 2 $rc
    has "$T/err" '\x1b[2J\xff' "'$(echo "$args" | cut -c1-12)...': quoted escaped"
    if LC_ALL=C grep -q "$(printf '\033')" "$T/err" || LC_ALL=C grep -q "$(printf '\377')" "$T/err"; then
        fail "'$(echo "$args" | cut -c1-12)...': a raw control or non-UTF-8 byte reached stderr"
    fi
done
run $CVM verify "$T/t/bundle.json" --offline --trust-root "$T/t/root_ca.pem"; check "TDX bundle.json verifies alone" 0 $rc
run $CVM verify "$T/t/bundle.json" --offline --json; check "TDX bundle.json without --trust-root" 1 $rc

# --- inputs that are not evidence
: >"$T/empty"
printf '  \n\t\r\n' >"$T/ws"
run $CVM verify "$T/empty"; check "empty file" 2 $rc
empty "$T/out" "empty file: no verdict"
has "$T/err" "empty" "empty file: said so"
run $CVM verify "$T/ws"; check "whitespace-only file" 2 $rc
empty "$T/out" "whitespace-only file: no verdict"
run $CVM verify - </dev/null; check "empty standard input" 2 $rc
run $CVM show "$T/empty"; check "show an empty file" 2 $rc
run $CVM verify "$T/s/ark.pem" --json; check "a PEM certificate as evidence" 1 $rc
has "$T/out" "this is an X.509 certificate" "a PEM certificate is named"
run $CVM show "$T/s/ark.pem"; has "$T/err" "this is an X.509 certificate" "show names a PEM certificate"
# SGX quotes: a TDX quote with TEE type 0 (SGX), and one with a version-3 (SGX-only) header
cp "$T/t/quote.bin" "$T/sgx4.bin"
printf '\000\000\000\000' | dd of="$T/sgx4.bin" bs=1 seek=4 conv=notrunc 2>/dev/null
cp "$T/t/quote.bin" "$T/sgx3.bin"
printf '\003\000' | dd of="$T/sgx3.bin" bs=1 seek=0 conv=notrunc 2>/dev/null
for q in sgx4 sgx3; do
    run $CVM verify "$T/$q.bin" --collateral "$T/t" --offline --trust-root "$T/t/root_ca.pem" --json
    check "$q: an SGX quote is refused" 1 $rc
    has "$T/out" "SGX quotes are not supported" "$q: named as an SGX quote"
done

# --- numbers are decimal digits and nothing else: no sign or space strtol would skip or take
# (serve under timeout: one that took the number would start and listen)
for o in "--collateral-grace= +5" "--collateral-grace=+5" "--collateral-max-age=-0" \
    "--collateral-max-age= 60"; do
    run $CVM verify "$T/s/report.bin" --collateral "$T/s" --offline --trust-root "$T/s/ark.pem" "$o"
    check "verify '$o'" 2 $rc
done
run $CVM bench "$T/s/report.bin" --collateral "$T/s" --offline --trust-root "$T/s/ark.pem" \
    --threads=+2 --seconds 1
check "bench --threads=+2" 2 $rc
run $CVM result check "$T/none.tok" --pub "$T/none.pub" --max-age=+60
check "result check --max-age=+60" 2 $rc
has "$T/err" "--max-age wants seconds" "result check --max-age=+60: said so"
run timeout 10 $CVM serve --listen "127.0.0.1: 8080" --trust-root "$T/s/ark.pem"
check "serve --listen with a space before the port" 2 $rc
run timeout 10 $CVM serve --listen 127.0.0.1:0 --trust-root "$T/s/ark.pem" --max-body=+4096
check "serve --max-body=+4096" 2 $rc
run timeout 10 $CVM serve --listen 127.0.0.1:0 --redis "redis://127.0.0.1:+6379"
check "serve --redis with a signed port" 2 $rc
has "$T/err" "bad port" "serve --redis with a signed port: said so"

# --- options checked before anything is verified: exit 2 and no verdict on stdout
# shellcheck disable=SC2086
{
    run $CVM verify "$T/s/report.bin" --collateral "$T/nodir" --offline --trust-root "$T/s/ark.pem"
    check "--collateral that does not exist" 2 $rc
    has "$T/err" "does not exist" "--collateral missing: said so"
    empty "$T/out" "--collateral missing: no verdict"
    run $CVM verify "$T/s/report.bin" --collateral "$T/s/ark.pem" --offline --trust-root "$T/s/ark.pem"
    check "--collateral that is a file" 2 $rc
    has "$T/err" "not a directory" "--collateral file: said so"
    empty "$T/out" "--collateral file: no verdict"
    run $CVM verify "$T/s/report.bin" $SV --sign-result "$T/s/ark.pem" --result-out "$T/tok"
    check "--sign-result that is not a private key" 2 $rc
    has "$T/err" "--sign-result" "--sign-result: named"
    empty "$T/out" "--sign-result not a key: no verdict"
    [ -e "$T/tok" ] && fail "--sign-result not a key: a token was written"
    run $CVM verify "$T/s/report.bin" $SV --sign-result "$T/p.key" --result-out "$T/nodir/tok"
    check "--result-out in a missing directory" 2 $rc
    has "$T/err" "--result-out" "--result-out: named"
    empty "$T/out" "--result-out missing directory: no verdict"
    mkdir "$T/tokdir"
    run $CVM verify "$T/s/report.bin" $SV --sign-result "$T/p.key" --result-out "$T/tokdir"
    check "--result-out that is a directory" 2 $rc
    has "$T/err" "is not a regular file" "--result-out a directory: said so"
    empty "$T/out" "--result-out a directory: no verdict"
    # A token written but not made durable (the directory's fsync fails after the rename) is
    # no token: exit 2 and nothing left at --result-out. An LD_PRELOAD shim, built when a C
    # compiler is found and the binary is not sanitized, fails fsync on directories.
    CC=$(command -v cc || command -v gcc || true)
    if [ -z "$CC" ] || grep -q __asan_init "$CVM" 2>/dev/null; then
        echo "note: no C compiler, or a sanitized binary: a failed directory fsync is not checked"
    else
        cat >"$T/dirfsync.c" <<'EOF2'
/* fsync() of a directory fails with EIO; of anything else, as usual */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>
int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
EOF2
        if "$CC" -shared -fPIC -o "$T/dirfsync.so" "$T/dirfsync.c" -ldl; then
            LD_PRELOAD="$T/dirfsync.so" $CVM verify "$T/s/report.bin" $SV --sign-result "$T/p.key" \
                --result-out "$T/tokd" >"$T/out" 2>"$T/err"
            check "--result-out whose directory cannot be synced" 2 $?
            has "$T/err" "cannot write --result-out" "--result-out not durable: said so"
            [ -e "$T/tokd" ] && fail "--result-out not durable: a token was left behind"
        else
            fail "the fsync shim did not build"
        fi
    fi
    run $CVM verify "$T/s/report.bin" $SV --log-url acme=http://127.0.0.1:9
    check "--log-url without --log-vkey" 2 $rc
    has "$T/err" "need a registry log key: log_keys (--log-vkey" "--log-url without --log-vkey: said so"
    empty "$T/out" "--log-url without --log-vkey: no verdict"
    run $CVM verify "$T/s/report.bin" $SV --sign-result "$T/p.key" --result-out "$T/tok"
    check "--sign-result with a key" 0 $rc
    [ -s "$T/tok" ] || fail "--sign-result with a key: no token written"
    # An earlier TOKEN is removed before verifying: after an exit 2 there is no token, never
    # the one of an earlier run (a nonce for evidence without a TPM quote, a missing file).
    run $CVM verify "$T/s/report.bin" $SV --sign-result "$T/p.key" --result-out "$T/tok" --nonce 00
    check "--result-out, then an exit 2 from the verification" 2 $rc
    [ -e "$T/tok" ] && fail "--result-out: an earlier token survives an exit 2"
    cp "$T/p.key" "$T/tok"
    run $CVM verify "$T/nosuch.bin" $SV --sign-result "$T/p.key" --result-out "$T/tok"
    check "--result-out, then unreadable evidence" 2 $rc
    [ -e "$T/tok" ] && fail "--result-out: an earlier token survives unreadable evidence"
    # --result-out naming an input is refused, the input untouched: the key, the evidence
    # (also through a link, or as standard input), the policy, a trust root, collateral.
    cp "$T/p.key" "$T/k.pem"
    cp "$T/s/report.bin" "$T/ev.bin"
    ln -s "$T/ev.bin" "$T/ev.link"
    printf '{"snp": {"vmpl": 0}}\n' >"$T/pol.json"
    cp -r "$T/s" "$T/s2"
    for a in "k.pem:--sign-result" "ev.bin:evidence" "ev.link:evidence" "pol.json:--policy" \
        "s/ark.pem:--trust-root" "s2/vcek.pem:--collateral file"; do
        f=${a%%:*}
        cp "$T/$f" "$T/before"
        run $CVM verify "$T/ev.bin" --collateral "$T/s2" --offline --trust-root "$T/s/ark.pem" \
            --policy "$T/pol.json" --sign-result "$T/k.pem" --result-out "$T/$f"
        check "--result-out naming an input ($f)" 2 $rc
        has "$T/err" "is ${a#*:}" "--result-out $f: the input named"
        empty "$T/out" "--result-out $f: no verdict"
        cmp -s "$T/before" "$T/$f" || fail "--result-out $f: the input was changed"
    done
    run $CVM verify - $SV --sign-result "$T/k.pem" --result-out "$T/ev.bin" <"$T/ev.bin"
    check "--result-out naming the standard input" 2 $rc
    has "$T/err" "the evidence read from standard input" "--result-out stdin: named"
    cmp -s "$T/s/report.bin" "$T/ev.bin" || fail "--result-out stdin: the evidence was changed"
    $CVM verify "$T/ev.bin" $SV --json >"$T/prev.json"
    cp "$T/prev.json" "$T/before"
    run $CVM verify "$T/ev.bin" $SV --previous "$T/prev.json" --sign-result "$T/k.pem" \
        --result-out "$T/prev.json"
    check "--result-out naming --previous" 2 $rc
    has "$T/err" "is --previous" "--result-out --previous: named"
    cmp -s "$T/before" "$T/prev.json" || fail "--result-out --previous: the result was changed"
    # --result-out inside a directory verify reads is refused, the directory untouched, also
    # for a TOKEN not there yet (writing it would add a file): the collateral cache (given or
    # the default one), a --log-url directory of log tiles (any depth), a collateral file name
    # in --collateral; a TOKEN that is a link into one. Elsewhere the same command runs.
    mkdir -p "$T/cd/sub" "$T/cache" "$T/tiles/tile" "$T/s3"
    cp "$T/s/"*.pem "$T/s/"*.der "$T/s3/"
    printf 'entry\n' >"$T/cd/old.entry"
    printf 'tile\n' >"$T/tiles/checkpoint"
    ln -s "$T/cd/old.entry" "$T/cd.link"
    $CVM registry log keygen --out "$T/lg" --origin example.com/acme/log >/dev/null ||
        fail "registry log keygen"
    $CVM witness keygen --out "$T/wt" --name witness.example/w >/dev/null || fail "witness keygen"
    LU="--log-vkey acme=$T/lg.vkey --witness-vkey $T/wt.vkey --log-url acme=$T/tiles"
    for a in "cd/old.entry:inside --cache-dir" "cd/new.tok:inside --cache-dir" \
        "cd/sub/new.tok:inside --cache-dir" "cd.link:inside --cache-dir" \
        "cache/new.tok:inside the collateral cache" "tiles/checkpoint:inside --log-url" \
        "tiles/tile/new.tok:inside --log-url" "s3/vlek.der:a collateral file name in --collateral"; do
        f=${a%%:*}
        cdir="--cache-dir $T/cd"
        [ "$f" = cache/new.tok ] && cdir="" # the default: CVMATTEST_CACHE
        ls -lR --full-time "$T/cd" "$T/cache" "$T/tiles" "$T/s3" >"$T/dirs.before"
        cp "$T/cd/old.entry" "$T/before"
        run $CVM verify "$T/ev.bin" --collateral "$T/s3" --offline --trust-root "$T/s/ark.pem" \
            $cdir $LU --sign-result "$T/k.pem" --result-out "$T/$f"
        check "--result-out in an input directory ($f)" 2 $rc
        has "$T/err" "is ${a#*:}" "--result-out $f: the directory named"
        empty "$T/out" "--result-out $f: no verdict"
        ls -lR --full-time "$T/cd" "$T/cache" "$T/tiles" "$T/s3" >"$T/dirs.after"
        cmp -s "$T/dirs.before" "$T/dirs.after" || fail "--result-out $f: a directory was changed"
        cmp -s "$T/before" "$T/cd/old.entry" || fail "--result-out $f: the entry was changed"
    done
    # (LU's log key binds nothing without a registry: a usage error once --result-out passed)
    run $CVM verify "$T/ev.bin" --collateral "$T/s3" --offline --trust-root "$T/s/ark.pem" \
        --cache-dir "$T/cd" $LU --sign-result "$T/k.pem" --result-out "$T/s3/tok"
    check "a registry log key and no registry" 2 $rc
    has "$T/err" "a registry log key (log_keys, --log-vkey) given, but no registry" "log key alone: named"
    run $CVM verify "$T/ev.bin" --collateral "$T/s3" --offline --trust-root "$T/s/ark.pem" \
        --cache-dir "$T/cd" --sign-result "$T/k.pem" --result-out "$T/s3/tok"
    check "--result-out outside the input directories (another name in --collateral)" 0 $rc
    [ -s "$T/s3/tok" ] || fail "--result-out another name in --collateral: no token written"
    printf '{"snp": {"no_such_field": 1}}\n' >"$T/badpol.json"
    printf '{bad\n' >"$T/notjson.json"
    for p in badpol notjson; do
        run $CVM verify "$T/s/report.bin" $SV --policy "$T/$p.json" --json
        check "invalid --policy ($p)" 2 $rc
        has "$T/err" "--policy" "invalid --policy ($p): named"
        empty "$T/out" "invalid --policy ($p): no verdict"
    done
}

# --- an output file is written whole and renamed over its path: something there that is not
# a regular file (a FIFO, a device, a symbolic link: collect --out /dev/null, say, replaced the
# device node), or one of the command's inputs, is refused before the command runs (exit 2)
mkdir -p "$T/o"
mkfifo "$T/o/fifo"
echo precious >"$T/o/precious.txt"
ln -s precious.txt "$T/o/link"
unchanged() { # name: the FIFO, the link and the file are as they were
    if [ -p "$T/o/fifo" ] && [ -L "$T/o/link" ] && [ "$(cat "$T/o/precious.txt")" = precious ]; then
        echo "ok   $1: nothing replaced"
    else
        fail "$1: an output replaced something"; ls -la "$T/o"
    fi
}
n64=$(printf '00%.0s' $(seq 64))
for o in fifo link; do
    run $CVM collect --nonce "$n64" --out "$T/o/$o" --tsm-root "$T/o/none" --dev-root "$T/o/none"
    check "collect --out a $o" 2 $rc
    has "$T/err" "is there and is not a regular file" "collect --out a $o: said why"
    unchanged "collect --out a $o"
done
[ ! -e "$T/o/fifo.raw" ] || fail "collect --out a fifo: a .raw directory was made"
cp "$CVMATTEST_SRC/docs/examples/cocos-snp.json" "$T/o/cocos.json" 2>/dev/null ||
    printf '{"pcr_values": {}}\n' >"$T/o/cocos.json"
cp "$T/o/cocos.json" "$T/o/cocos.orig"
run $CVM policy import --from cocos "$T/o/cocos.json" --out "$T/o/cocos.json"
check "policy import --out its own input" 2 $rc
has "$T/err" "is the input file" "policy import --out its own input: said why"
cmp -s "$T/o/cocos.json" "$T/o/cocos.orig" && echo "ok   policy import: its input kept" ||
    fail "policy import: its input was replaced"
run $CVM policy import --from cocos "$T/o/cocos.json" --out "$T/o/fifo"
check "policy import --out a fifo" 2 $rc
echo firmware >"$T/o/fw.fd"
run $CVM measure snp --ovmf "$T/o/fw.fd" --vcpus 1 --vcpu-type EPYC-v4 --policy-out "$T/o/fw.fd"
check "measure --policy-out its --ovmf" 2 $rc
has "$T/err" "is the input --ovmf" "measure --policy-out its --ovmf: said why"
[ "$(cat "$T/o/fw.fd")" = firmware ] && echo "ok   measure: the firmware kept" ||
    fail "measure: the firmware was replaced"
run $CVM measure tdx --tdvf "$T/o/fw.fd" --policy-out "$T/o/link"
check "measure --policy-out a symbolic link" 2 $rc
has "$T/err" "a symbolic link is never replaced" "measure --policy-out a symbolic link: said why"
unchanged "measure --policy-out"
$CVM registry keygen --out "$T/o/acme" >/dev/null || fail "registry keygen"
printf 'amd chip_id %s\n' "$(printf 'ab%.0s' $(seq 64))" >"$T/o/fleet.txt"
run $CVM registry build --provider acme --key "$T/o/acme.key" --entries "$T/o/fleet.txt" \
    --version 1 --valid-days 1 --out "$T/o/fleet.txt"
check "registry build --out its --entries" 2 $rc
has "$T/err" "is the input --entries" "registry build --out its --entries: said why"
run $CVM registry prove --entries "$T/o/fleet.txt" --id x --provider acme --out "$T/o/fifo"
check "registry prove --out a fifo" 2 $rc
has "$T/err" "is there and is not a regular file: a FIFO" "registry prove --out a fifo: said why"
run $CVM tpm make-credential --ek "$T/o/fw.fd" --ak "$T/o/fw.fd" --out "$T/o/fifo" \
    --secret-out "$T/o/s"
check "tpm make-credential --out a fifo" 2 $rc
has "$T/err" "--out '$T/o/fifo' is there and is not a regular file" "tpm make-credential --out a fifo: said why"
run $CVM tpm make-credential --ek "$T/o/fw.fd" --ak "$T/o/fw.fd" --out "$T/o/c" \
    --secret-out "$T/o/fw.fd"
check "tpm make-credential --secret-out its --ek" 2 $rc
has "$T/err" "is the input --ek" "tpm make-credential --secret-out its --ek: said why"
unchanged "registry and tpm outputs"

# --- a file that cannot be read: the one file named, quoted, and why (missing, a directory,
# over the limit: /dev/zero never ends), never "cannot read 'A' or 'B'"
mkdir -p "$T/rd"
printf 'x' >"$T/rd/tok"
head -c 1048577 /dev/zero >"$T/rd/big"
run $CVM result check /dev/zero --pub "$T/rd/tok"; check "result check /dev/zero" 2 $rc
has "$T/err" "result check: cannot read the token '/dev/zero': over 1048576 bytes" \
    "result check: an endless token is named with the limit"
run $CVM result check "$T/rd/big" --pub "$T/rd/tok"; check "result check of a token over 1 MiB" 2 $rc
has "$T/err" "cannot read the token '$T/rd/big': over 1048576 bytes" \
    "result check: a token over 1 MiB is named with the limit"
run $CVM result check "$T/rd/tok" --pub "$T/rd"; check "result check --pub DIR" 2 $rc
has "$T/err" "cannot read --pub '$T/rd': Is a directory" "result check: --pub a directory is named"
# a bundle after a UTF-8 byte order mark: named, not taken for binary evidence of no kind
{ printf '\357\273\277'; cat "$T/s/bundle.json"; } >"$T/rd/bom.json"
run $CVM verify "$T/rd/bom.json" --offline --trust-root "$T/s/ark.pem"; check "verify a bundle after a BOM" 2 $rc
has "$T/err" "starts with a UTF-8 byte order mark (EF BB BF)" "verify: a BOM before a bundle is named"
$CVM registry keygen --out "$T/rd/k" >/dev/null 2>&1 || fail "registry keygen for result check"
printf '\n' >"$T/rd/empty.tok"
run $CVM result check "$T/rd/empty.tok" --pub "$T/rd/k.pub"; check "result check of an empty token" 2 $rc
has "$T/err" "the token '$T/rd/empty.tok' is empty" "result check: an empty token is named"
run $CVM tpm make-credential --ek /dev/zero --ak "$T/rd/tok" --out "$T/rd/c" --secret-out "$T/rd/s"
check "tpm make-credential --ek /dev/zero" 2 $rc
has "$T/err" "make-credential: cannot read --ek '/dev/zero': over 1048576 bytes" \
    "tpm make-credential: an endless --ek is named with the limit"
run $CVM tpm make-credential --ek "$T/rd/tok" --ak "$T/rd/none" --out "$T/rd/c" --secret-out "$T/rd/s"
check "tpm make-credential --ak missing" 2 $rc
has "$T/err" "cannot read --ak '$T/rd/none': No such file or directory" \
    "tpm make-credential: a missing --ak is named"
run $CVM eventlog /dev/zero; check "eventlog /dev/zero" 2 $rc
has "$T/err" "eventlog: cannot read '/dev/zero': over 16777216 bytes" "eventlog: an endless log is named, quoted"
run $CVM eventlog "$T/rd"; check "eventlog DIR" 2 $rc
has "$T/err" "eventlog: cannot read '$T/rd': Is a directory" "eventlog: a directory is named, quoted"
run $CVM eventlog "$T/rd/tok" --tdx-quote "$T/rd/none"; check "eventlog --tdx-quote missing" 2 $rc
has "$T/err" "cannot read --tdx-quote '$T/rd/none': No such file or directory" \
    "eventlog: a missing --tdx-quote is named"
run $CVM eventlog "$T/rd/tok" --pcrs /dev/zero; check "eventlog --pcrs /dev/zero" 2 $rc
has "$T/err" "cannot read --pcrs '/dev/zero': over 1048576 bytes" "eventlog: an endless --pcrs is named"
printf '[1,2]' >"$T/rd/arr.json"
run $CVM eventlog "$T/rd/tok" --pcrs "$T/rd/arr.json"; check "eventlog --pcrs [1,2]" 2 $rc
has "$T/err" "--pcrs '$T/rd/arr.json': a JSON array, not an object of banks" \
    "eventlog: --pcrs of an array says so"
run $CVM policy check /dev/zero; check "policy check /dev/zero" 2 $rc
has "$T/err" "policy check: cannot read '/dev/zero': over 1048576 bytes" \
    "policy check: an endless policy is named, quoted"
run $CVM policy check "$T/rd/none"; check "policy check of a missing file" 2 $rc
has "$T/err" "policy check: cannot read '$T/rd/none': No such file or directory" \
    "policy check: a missing policy is named, quoted"
run $CVM verify "$T/rd" --offline; check "verify DIR" 2 $rc
has "$T/err" "cannot read '$T/rd': Is a directory" "verify: a directory is named, with why"
run $CVM verify /dev/zero --offline; check "verify /dev/zero" 2 $rc
has "$T/err" "cannot read '/dev/zero': over 8388608 bytes" "verify: an endless input is named with the limit"
head -c 8388609 /dev/zero | $CVM verify - --offline >"$T/out" 2>"$T/err"; check "verify - over 8 MiB" 2 $?
has "$T/err" "cannot read 'standard input': over 8388608 bytes" "verify -: over the limit, said so"
run $CVM verify "$T/s/report.bin" $SV --registry "$T/rd/none"; check "verify --registry missing" 2 $rc
has "$T/err" "cannot read registry '$T/rd/none': No such file or directory" "verify: a missing --registry, with why"
run $CVM verify "$T/s/report.bin" $SV --proof "$T/rd"; check "verify --proof DIR" 2 $rc
has "$T/err" "cannot read proof '$T/rd': Is a directory" "verify: a --proof directory, with why"
run $CVM policy import --from cocos "$T/rd"; check "policy import DIR" 2 $rc
has "$T/err" "policy import: cannot read '$T/rd': Is a directory" "policy import: a directory, with why"
run $CVM verify "$T/s/report.bin" --offline --trust-root "$T/rd"; check "verify --trust-root DIR" 2 $rc
has "$T/err" "cannot read the trust root '$T/rd': Is a directory" "verify: a --trust-root directory, with why"
run $CVM verify "$T/s/report.bin" --offline --trust-root "$T/rd/tok"; check "verify --trust-root not a certificate" 2 $rc
has "$T/err" "the trust root '$T/rd/tok' is not a PEM or DER certificate" "verify: a --trust-root that is no certificate"
run $CVM verify "$T/s/report.bin" $SV --previous "$T/rd"; check "verify --previous DIR" 2 $rc
has "$T/err" "verify: cannot read --previous '$T/rd': Is a directory" "verify: a --previous directory, with why"
run $CVM verify "$T/s/report.bin" $SV --previous /dev/zero; check "verify --previous /dev/zero" 2 $rc
has "$T/err" "verify: cannot read --previous '/dev/zero': over 1048576 bytes" "verify: an endless --previous, with the limit"
printf '{"foo": 1}' >"$T/rd/az.json"
run $CVM verify "$T/rd/az.json" --tee azure-snp --offline; check "verify --tee azure-snp of JSON without hcl_report" 2 $rc
has "$T/err" 'or Azure evidence as Trustee gives it, with "hcl_report" and "tpm_quote"' \
    "verify --tee azure-snp: JSON neither a bundle nor Azure's says what is wanted"

# --- a bundle part says its role once (a TPM part's name is its role), a collateral part its
# name beside it, and an empty "data" is said to be empty
printf '{"cvmattest_bundle": 1, "kind": "tpm", "parts": [{"role": "tpm_quote", "data": "@@"}]}' \
    >"$T/rd/b1.json"
run $CVM verify "$T/rd/b1.json" --offline; check "a bundle whose tpm_quote is not base64" 2 $rc
has "$T/err" 'bundle: part 0 (tpm_quote): "data" is not base64 of any bytes' \
    "a TPM part's role said once"
printf '{"cvmattest_bundle": 1, "parts": [{"role": "evidence", "data": "AAAA"}, %s]}' \
    '{"role": "collateral", "name": "vcek.der", "data": "!"}' >"$T/rd/b2.json"
run $CVM verify "$T/rd/b2.json" --offline; check "a bundle whose vcek.der is not base64" 2 $rc
has "$T/err" 'bundle: part 1 (collateral vcek.der): "data" is not base64' \
    "a collateral part's role and name"
printf '{"cvmattest_bundle": 1, "kind": "tpm", "parts": [{"role": "tpm_pcrs", "data": ""}]}' \
    >"$T/rd/b3.json"
run $CVM verify "$T/rd/b3.json" --offline; check "a bundle part with empty data" 2 $rc
has "$T/err" 'bundle: part 0 (tpm_pcrs): "data" is empty' "an empty \"data\" is said to be empty"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
