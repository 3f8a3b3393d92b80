#!/bin/sh
# The web page of `cvmattest serve` (web/, docs/service.md "The web page"): its files and their
# headers over HTTP, then the page itself in Debian's headless chromium driven through
# chromedriver (W3C WebDriver, from python3 with urllib only): affirming SNP and TDX bundles
# pasted show green check lines; a tampered report uploaded through the file input shows the exact
# reason in a red line; a nonce fetched by the page's button is bound to REPORT_DATA; markup
# echoed back in an error (a policy name) stays text. The screenshot is written into the build
# directory (web-verify.png, web-verify-refused.png; docs/images/ has copies of good ones).
set -u
CVM=${CVMATTEST_BIN:?}
for p in curl python3; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not found (make deps installs it)"; exit 77; }
done
T=$(mktemp -d)
PIDS=""
GROUPS_=""
cleanup() {
    # chromedriver leads its own process group: chromium and its helpers go with it.
    for g in $GROUPS_; do
        kill -- "-$g" 2>/dev/null
        i=0
        while kill -0 -- "-$g" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    done
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    # A dying chromium may still write into its profile: try once more.
    rm -rf "$T" 2>/dev/null || { sleep 1; rm -rf "$T"; }
}
trap cleanup EXIT
trap 'exit 143' INT TERM
export CVMATTEST_CACHE="$T/cache"
fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$3', want '$2'"; fi; }

# --- the service: a simulated SNP CVM on a machine that provider acme registered ---
chip=$(printf '5a%.0s' $(seq 64))
$CVM sim snp --out "$T/s" --chip-id "$chip" >/dev/null || { echo "FAIL sim snp"; exit 1; }
ppid=$(printf '3c%.0s' $(seq 16))
$CVM sim tdx --out "$T/td" --ppid "$ppid" >/dev/null || { echo "FAIL sim tdx"; exit 1; }
# a CVM whose root the service does not trust (a root of its own)
$CVM sim snp --out "$T/other" >/dev/null || { echo "FAIL sim snp (other root)"; exit 1; }
$CVM registry keygen --out "$T/v" >/dev/null || { echo "FAIL keygen"; exit 1; }
$CVM registry keygen --out "$T/acme" >/dev/null || { echo "FAIL keygen"; exit 1; }
printf 'amd chip_id %s region=eu-west-1 zone=b\nintel ppid %s region=ap-south-2\n' "$chip" "$ppid" >"$T/fleet.txt"
$CVM registry build --provider acme --key "$T/acme.key" --entries "$T/fleet.txt" --version 1 \
    --valid-days 30 --out "$T/acme.jws" >/dev/null || { echo "FAIL registry build"; exit 1; }
printf '{"version": 1, "name": "web-any"}\n' >"$T/any.json" # a policy that constrains nothing
# A bare TPM quote (kind tpm) from the shared vectors when they are here: it has no
# certificates and no collateral, and the page must not call either passed.
G=${CVMATTEST_VECTORS:-}/tpm/gcp-windows-quote-goattestation
if [ -n "${CVMATTEST_VECTORS:-}" ] && [ -f "$G/quote_attest.bin" ]; then
    python3 - "$G" "$T/tpm.json" <<'PY'
import base64, json, sys
g = sys.argv[1]
part = lambda role, f: {'role': role, 'data': base64.b64encode(open(g + '/' + f, 'rb').read()).decode()}
json.dump({'cvmattest_bundle': 1, 'kind': 'tpm', 'parts': [
    part('tpm_quote', 'quote_attest.bin'), part('tpm_signature', 'quote_sig.tpmt'),
    part('tpm_ak', 'ak_public.tpmt'), part('tpm_pcrs', 'pcrs_sha1.json')]}, open(sys.argv[2], 'w'))
PY
else
    echo "note: the shared test vectors are not here (CVMATTEST_VECTORS): the bare TPM quote case is skipped"
    : >"$T/tpm.json"
fi
python3 -c "
import sys
b = bytearray(open(sys.argv[1], 'rb').read()); b[0x90] ^= 1
open(sys.argv[2], 'wb').write(b)" "$T/s/report.bin" "$T/tampered.bin"
$CVM serve --listen 127.0.0.1:0 --port-file "$T/port" --trust-root "$T/s/ark.pem" \
    --trust-root "$T/td/root_ca.pem" \
    --collateral "$T/s" --offline --sign-result "$T/v.key" --provider acme="$T/acme.pub" \
    --registry "$T/acme.jws" --policy "$T/any.json" 2>"$T/serve.log" &
PIDS="$PIDS $!"
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "FAIL serve did not start"; cat "$T/serve.log"; exit 1; }
URL=http://127.0.0.1:$(cat "$T/port")
# a second instance whose shared state (Redis, a port nobody listens on) does not answer: the
# registry cannot be checked for rollback, so it is not used, and the platform is undecided
# for want of a registry, not of collateral (docs/service.md)
head -c 32 /dev/urandom >"$T/nonce.key" && chmod 600 "$T/nonce.key"
$CVM serve --listen 127.0.0.1:0 --port-file "$T/port2" --trust-root "$T/s/ark.pem" \
    --collateral "$T/s" --offline --sign-result "$T/v.key" --provider acme="$T/acme.pub" \
    --registry "$T/acme.jws" --redis redis://127.0.0.1:9 --nonce-key "$T/nonce.key" \
    --cache-dir "$T/cache2" 2>"$T/serve2.log" &
PIDS="$PIDS $!"
i=0
while [ ! -s "$T/port2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port2" ] || { echo "FAIL serve (lookup registry) did not start"; cat "$T/serve2.log"; exit 1; }
URL2=http://127.0.0.1:$(cat "$T/port2")

# --- the files and their headers ---
hdr() { # URL HEADER: the header's value (HEAD request)
    curl -sI "$1" | tr -d '\r' | awk -v h="$2" 'BEGIN { IGNORECASE = 1 } tolower($0) ~ "^" tolower(h) ":" { sub(/^[^:]*: */, ""); print; exit }'
}
for f in / /index.html /app.js /style.css; do
    eq "GET $f: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL$f")"
    eq "$f: X-Content-Type-Options" nosniff "$(hdr "$URL$f" X-Content-Type-Options)"
    eq "$f: Cache-Control" no-cache "$(hdr "$URL$f" Cache-Control)"
    case $(hdr "$URL$f" Content-Security-Policy) in
    "default-src 'self'; script-src 'self'; style-src 'self';"*"object-src 'none'"*) ok "$f: strict CSP" ;;
    *) fail "$f: CSP is '$(hdr "$URL$f" Content-Security-Policy)'" ;;
    esac
done
eq "/ is text/html" "text/html; charset=utf-8" "$(hdr "$URL/" Content-Type)"
eq "/app.js is text/javascript" "text/javascript; charset=utf-8" "$(hdr "$URL/app.js" Content-Type)"
eq "/style.css is text/css" "text/css; charset=utf-8" "$(hdr "$URL/style.css" Content-Type)"
curl -s "$URL/" | grep -q '<script src="/app.js"' && ok "index.html loads /app.js" || fail "index.html does not load /app.js"
curl -s "$URL/" | grep -q '<script>' && fail "index.html has an inline script" || ok "no inline script"
eq "HEAD / has no body" 0 "$(curl -s -I "$URL/" -o /dev/null -w '%{size_download}')"
# (an encoded NUL is not decoded: it would end the path early and serve /app.js)
for f in /nope.html /web/index.html /../index.html /index.html/ /app.js.bak "/%2e%2e/CMakeLists.txt" \
    "/app.js%00.html" "/app.js%00" "/v1/keys%00x"; do
    eq "GET $f: 404" 404 "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL$f")"
done
curl -s "$URL/metrics" | grep -q '^cvmattest_http_requests_total{endpoint="web",status="200",error=""} [1-9]' &&
    ok "/metrics counts the page's files (endpoint web)" || fail "/metrics has no endpoint=\"web\" status 200"
eq "POST /: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$URL/")"
eq "PUT /app.js: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d x "$URL/app.js")"
# a 405 names what the URL takes (RFC 9110 15.5.6)
eq "PUT /app.js: Allow" "GET, HEAD" "$(curl -s -D - -o /dev/null -X PUT -d x "$URL/app.js" | tr -d '\r' | sed -n 's/^Allow: //Ip')"
eq "GET /v1/verify: Allow" "POST" "$(curl -s -D - -o /dev/null "$URL/v1/verify" | tr -d '\r' | sed -n 's/^Allow: //Ip')"
eq "POST /v1/verify%00: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$URL/v1/verify%00x")"

# --- the page in headless chromium ---
CHROME=""
for c in chromium chromium-browser google-chrome; do
    command -v $c >/dev/null 2>&1 && { CHROME=$(command -v $c); break; }
done
DRIVER=$(command -v chromedriver 2>/dev/null || true)
if [ -z "$CHROME" ] || [ -z "$DRIVER" ]; then
    [ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
    echo "SKIP: the page in a browser: chromium or chromedriver not found (make deps installs chromium chromium-driver)"
    exit 77
fi
# chromedriver on a port picked free, awaited until it says it started (it has bound the port
# then: what answers there is not another process's). Another process can take the port before
# chromedriver binds it: chromedriver then exits saying so, and another port is tried (3 in all).
for _try in 1 2 3; do
    DPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    setsid "$DRIVER" --port="$DPORT" --allowed-ips=127.0.0.1 >"$T/driver.log" 2>&1 &
    DPID=$!
    GROUPS_="$GROUPS_ $DPID"
    i=0
    until grep -q "ChromeDriver was started successfully" "$T/driver.log"; do
        kill -0 "$DPID" 2>/dev/null || break
        [ $i -lt 300 ] ||
            { echo "FAIL chromedriver on port $DPORT did not start"; cat "$T/driver.log"; exit 1; }
        sleep 0.1
        i=$((i + 1))
    done
    kill -0 "$DPID" 2>/dev/null && break
    if ! grep -q "Address already in use" "$T/driver.log" || [ "$_try" = 3 ]; then
        echo "FAIL chromedriver did not start"; cat "$T/driver.log"; exit 1
    fi
    echo "note: port $DPORT was taken before chromedriver bound it: another is tried"
done
SHOT=${CVMATTEST_WEB_SCREENSHOT:-$(dirname "$CVM")/web-verify.png}

cat >"$T/drive.py" <<'PY'
import base64, json, sys, time, urllib.request, urllib.error

driver, chrome, page, bundle, tampered, profile, shot = sys.argv[1:8]
# A report cut to 600 bytes, as base64 text (the page sends the text; the service detects it).
tdx, other, nocoll_b64 = sys.argv[9], sys.argv[10], base64.b64encode(open(sys.argv[11], 'rb').read()).decode()
page2, tpm = sys.argv[12], sys.argv[13]
short_b64 = base64.b64encode(open(sys.argv[8], 'rb').read()[:600]).decode()
fails = 0

def ok(m): print('ok   ' + m)
def fail(m):
    global fails
    fails += 1
    print('FAIL ' + m)
def eq(m, want, got):
    (ok if want == got else lambda x: fail(x + ': got %r, want %r' % (got, want)))(m)

def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    rq = urllib.request.Request(driver + path, data=data, method=method,
                                headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(rq, timeout=60) as r:
            return json.load(r)['value']
    except urllib.error.HTTPError as e:
        raise RuntimeError('%s %s: %s' % (method, path, e.read()[:400]))

for _ in range(100):  # chromedriver starting
    try:
        urllib.request.urlopen(driver + '/status', timeout=2)
        break
    except Exception:
        time.sleep(0.1)
caps = {'capabilities': {'alwaysMatch': {'browserName': 'chrome', 'goog:chromeOptions': {
    'binary': chrome, 'args': ['--headless=new', '--no-sandbox', '--disable-gpu',
                               '--disable-dev-shm-usage', '--window-size=1200,1900',
                               '--user-data-dir=' + profile, '--no-first-run',
                               '--disable-crash-reporter', '--disable-breakpad']}}}}
sid = call('POST', '/session', caps)['sessionId']
S = '/session/' + sid

def js(script, *args):
    return call('POST', S + '/execute/sync', {'script': script, 'args': list(args)})
def find(css):
    v = call('POST', S + '/element', {'using': 'css selector', 'value': css})
    return next(iter(v.values()))
def click(css): call('POST', S + '/element/%s/click' % find(css), {})
def typ(css, text): call('POST', S + '/element/%s/value' % find(css), {'text': text})
def wait_answer():
    for _ in range(300):
        st = js("return document.getElementById('result').getAttribute('data-ready') ? 'result'"
                " : (document.getElementById('error').hidden ? '' : 'error');")
        if st:
            return st
        time.sleep(0.1)
    return 'timeout'
LINES = """return Array.from(document.querySelectorAll('#checks li')).map(function (li) {
  return {kind: li.getAttribute('data-kind'), text: li.textContent,
          bg: getComputedStyle(li).backgroundColor,
          code: (li.querySelector('.code') || {}).textContent || ''}; });"""
GREEN, RED = 'rgb(227, 244, 232)', 'rgb(251, 229, 231)'
def clear_form():
    js("var ids = ['evidence', 'nonce', 'policy', 'evidence-file'];"
       "ids.forEach(function (i) { document.getElementById(i).value = ''; });")

try:
    call('POST', S + '/url', {'url': page})
    eq('the page loads (title)', 'cvmattest: verify attestation evidence',
       call('GET', S + '/title'))
    eq('app.js ran (no CSP refusal)', 'ready', js("return document.body.getAttribute('data-app');"))

    # 1. Affirming: the bundle pasted into the textarea.
    js("document.getElementById('evidence').value = arguments[0];", open(bundle).read())
    click('#verify')
    eq('affirming bundle: a result', 'result', wait_answer())
    eq('affirming bundle: verdict affirming', 'affirming',
       js("return document.getElementById('verdict').getAttribute('data-status');"))
    eq('affirming bundle: exit status 0', '0', js("return document.getElementById('exit-status').textContent;"))
    lines = js(LINES)
    # No nonce was given: the nonce group is not checked, and says why (NONCE_NOT_CHECKED).
    nonce = [l for l in lines if 'Nonce (REPORT_DATA)' in l['text'] or l['code'] == 'NONCE_NOT_CHECKED']
    rest = [l for l in lines if l not in nonce]
    if len(rest) >= 4 and all(l['kind'] == 'ok' and l['bg'] == GREEN for l in rest):
        ok('affirming bundle: %d check lines, all green' % len(rest))
    else:
        fail('affirming bundle: check lines %r' % lines)
    if ([l['kind'] for l in nonce] == ['skipped', 'info reason'] and 'not checked' in nonce[0]['text']
            and 'freshness' in nonce[1]['text']):
        ok('affirming bundle without a nonce: the nonce group not checked, NONCE_NOT_CHECKED its note')
    else:
        fail('affirming bundle without a nonce: nonce lines %r' % nonce)
    pol = [l for l in lines if l['text'].startswith('✓Appraisal policy: passed')]
    (ok if len(pol) == 1 and pol[0]['kind'] == 'ok' and 'policy sha256:' in pol[0]['text'] else fail)(
        'affirming bundle: the default policy applied and passed, its id shown (%r)' % pol)
    eq('platform provider shown', 'acme', js("return document.getElementById('platform-provider').textContent;"))
    eq('platform region shown', 'eu-west-1', js("return document.getElementById('platform-region').textContent;"))
    eq('platform vendor shown', 'amd', js("return document.getElementById('platform-vendor').textContent.toLowerCase();"))
    pid = js("return document.getElementById('platform-id').textContent;")
    (ok if '5a5a5a5a' in pid else fail)('platform id shown: ' + pid[:40])
    tok = js("return document.getElementById('token').value;")
    eq('token shown (a JWT)', 3, len(tok.split('.')))
    m = js("return document.getElementById('claims').textContent;")
    (ok if 'measurement' in m else fail)('claims shown')
    png = base64.b64decode(call('GET', S + '/screenshot'))
    eq('screenshot is a PNG', b'\x89PNG', png[:4])
    open(shot, 'wb').write(png)

    # 1b. A TDX bundle pasted: its own group of checks.
    clear_form()
    js("document.getElementById('evidence').value = arguments[0];", open(tdx).read())
    click('#verify')
    eq('TDX bundle: a result', 'result', wait_answer())
    eq('TDX bundle: verdict affirming', 'affirming',
       js("return document.getElementById('verdict').getAttribute('data-status');"))
    lines = js(LINES)
    rest = [l for l in lines if 'Nonce (REPORT_DATA)' not in l['text'] and l['code'] != 'NONCE_NOT_CHECKED']
    if (any(l['text'].endswith('Intel TDX quote: passed') and l['bg'] == GREEN for l in lines)
            and all(l['kind'] == 'ok' for l in rest) and len(rest) == len(lines) - 2):
        ok('TDX bundle: %d green lines, Intel TDX quote among them' % len(rest))
    else:
        fail('TDX bundle: lines %r' % lines)
    eq('TDX bundle: tee', 'tdx', js("return document.getElementById('tee').textContent;"))
    eq('TDX bundle: its region', 'ap-south-2', js("return document.getElementById('platform-region').textContent;"))

    # 2. Tampered: the bare report uploaded through the file input.
    clear_form()
    call('POST', S + '/element/%s/value' % find('#evidence-file'), {'text': tampered})
    click('#verify')
    eq('tampered report: a result', 'result', wait_answer())
    eq('tampered report: contraindicated', 'contraindicated',
       js("return document.getElementById('verdict').getAttribute('data-status');"))
    eq('tampered report: exit status 1', '1', js("return document.getElementById('exit-status').textContent;"))
    lines = js(LINES)
    red = [l for l in lines if l['code'] == 'SNP_REPORT_SIGNATURE_INVALID']
    if red and red[0]['kind'].startswith('error') and red[0]['bg'] == RED and 'does not verify' in red[0]['text']:
        ok('tampered report: SNP_REPORT_SIGNATURE_INVALID in a red line with its detail')
    else:
        fail('tampered report: lines %r' % lines)
    if any(l['kind'] == 'error' and l['bg'] == RED and 'refused' in l['text'] for l in lines):
        ok('tampered report: its check group is red')
    else:
        fail('tampered report: no red group line in %r' % lines)
    open(shot.replace('.png', '-refused.png'), 'wb').write(
        base64.b64decode(call('GET', S + '/screenshot')))

    # 2b. A truncated report pasted as base64 text: parsing is red, the rest not checked.
    clear_form()
    js("document.getElementById('evidence').value = arguments[0];", short_b64)
    click('#verify')
    eq('truncated report: a result', 'result', wait_answer())
    lines = js(LINES)
    parse = [l for l in lines if l['code'] == 'PARSE_TRUNCATED']
    rest = [l for l in lines if l['kind'] == 'skipped']
    if parse and parse[0]['bg'] == RED and rest and not any(l['kind'] == 'ok' for l in lines):
        ok('truncated report: PARSE_TRUNCATED red, %d groups not checked, none green' % len(rest))
    else:
        fail('truncated report: lines %r' % lines)

    # 3. A nonce from the page's button: REPORT_DATA (zeros here) must carry it.
    clear_form()
    click('#get-nonce')
    n = ''
    for _ in range(50):
        n = js("return document.getElementById('nonce').value;")
        if n:
            break
        time.sleep(0.1)
    (ok if len(n) == 43 and all(c.isalnum() or c in '-_' for c in n) else fail)(
        'get a nonce: 32 bytes base64url (%r)' % n)
    js("document.getElementById('evidence').value = arguments[0];", open(bundle).read())
    click('#verify')
    eq('with the nonce: a result', 'result', wait_answer())
    lines = js(LINES)
    (ok if any(l['code'] == 'NONCE_REPORT_DATA_MISMATCH' and l['bg'] == RED for l in lines) else fail)(
        'with the nonce: NONCE_REPORT_DATA_MISMATCH in a red line')
    (ok if not any(l['code'] == 'NONCE_NOT_CHECKED' for l in lines) else fail)(
        'with the nonce: REPORT_DATA was compared, no NONCE_NOT_CHECKED')

    # 3b. A nonce again, with a bundle under a root the service does not trust: the verifier
    # stops at the chain, so neither the report nor the nonce was checked: only parsing is green.
    clear_form()
    click('#get-nonce')
    for _ in range(50):
        if js("return document.getElementById('nonce').value;"):
            break
        time.sleep(0.1)
    js("document.getElementById('evidence').value = arguments[0];", open(other).read())
    click('#verify')
    eq('another root: a result', 'result', wait_answer())
    lines = js(LINES)
    nonce_line = [l for l in lines if 'Nonce (REPORT_DATA)' in l['text']]
    if (any(l['code'] == 'CERT_UNTRUSTED_ROOT' and l['bg'] == RED for l in lines)
            and [l['text'] for l in lines if l['kind'] == 'ok'] == ['✓Parsing: passed']
            and nonce_line and nonce_line[0]['kind'] == 'skipped'):
        ok('another root: CERT_UNTRUSTED_ROOT red, the nonce and the report not checked, only parsing green')
    else:
        fail('another root: lines %r' % lines)

    # 3c. A bare TDX quote, whose TCB Info and CRLs the service cannot have (offline; its
    # collateral directory is the SEV-SNP CVM's): undecided, and the page says why from the
    # result's reasons (collateral, not a registry).
    clear_form()
    js("document.getElementById('evidence').value = arguments[0];", nocoll_b64)
    click('#verify')
    eq('no collateral: a result', 'result', wait_answer())
    eq('no collateral: exit status 3, collateral named', '3 (undecided: collateral could not be had)',
       js("return document.getElementById('exit-status').textContent;"))
    lines = js(LINES)
    if (any(l['kind'] == 'skipped' and l['text'].startswith('?Collateral: not decided') for l in lines)
            and not any(l['kind'] == 'error' and not l['code'] for l in lines)):
        ok('no collateral: the collateral group not decided, no group refused')
    else:
        fail('no collateral: lines %r' % lines)
    # undecided is not refused: the groups after parsing are not decided, none 'not checked'
    # as if a signature had been refused
    kinds = {l['text']: l['kind'] for l in lines}
    want = ['?Certificates and revocation: not decided', '?Intel TDX quote: not decided',
            '?Appraisal policy: not decided']
    if (all(any(t.startswith(w) and k == 'skipped' for t, k in kinds.items()) for w in want)
            and not any('not checked (the evidence' in t for t in kinds)):
        ok('no collateral: certificates, the quote and the policy not decided, none "not checked"')
    else:
        fail('no collateral: lines %r' % lines)

    # 3e. A bare TPM quote: no certificate or collateral group at all (it has neither).
    if open(tpm).read():
        clear_form()
        js("document.getElementById('evidence').value = arguments[0];", open(tpm).read())
        click('#verify')
        eq('bare TPM quote: a result', 'result', wait_answer())
        lines = js(LINES)
        texts = [l['text'] for l in lines]
        if (any(t.startswith('!TPM quote') for t in texts)
                and not any(t.startswith(('✓Certificates', '✓Collateral', '–Certificates',
                                          '–Collateral')) for t in texts)):
            ok('bare TPM quote: its own group, no certificate or collateral group')
        else:
            fail('bare TPM quote: lines %r' % lines)

    # 3d. The same affirming bundle at an instance whose registry state cannot be had:
    # undecided, and the page says why from the reasons (a registry, not collateral); the
    # hardware checks passed and say so.
    call('POST', S + '/url', {'url': page2})
    eq('registry undecided: the page loads', 'ready', js("return document.body.getAttribute('data-app');"))
    js("document.getElementById('evidence').value = arguments[0];", open(bundle).read())
    click('#verify')
    eq('registry undecided: a result', 'result', wait_answer())
    eq('registry undecided: exit status 3, the registry named',
       '3 (undecided: a registry or its shared state could not be had)',
       js("return document.getElementById('exit-status').textContent;"))
    lines = js(LINES)
    kinds = {l['text']: l['kind'] for l in lines}
    if (any(l['code'] == 'REGISTRY_UNAVAILABLE' for l in lines)
            and kinds.get('✓AMD SEV-SNP report: passed') == 'ok'
            and kinds.get('✓Certificates and revocation: passed') == 'ok'
            and kinds.get('?Provider binding: not decided (a registry or its shared state could '
                          'not be had)') == 'skipped'
            and not any(l['kind'] == 'error' and not l['code'] for l in lines)):
        ok('registry undecided: the report and chain passed, the provider not decided '
           '(REGISTRY_UNAVAILABLE), no group refused')
    else:
        fail('registry undecided: lines %r' % lines)
    call('POST', S + '/url', {'url': page})
    eq('back at the first instance', 'ready', js("return document.body.getAttribute('data-app');"))

    # 4. Markup in an echoed string stays text.
    clear_form()
    evil = '<img src=x onerror="window.__xss=1">'
    js("document.getElementById('evidence').value = arguments[0];", open(bundle).read())
    typ('#policy', evil)
    click('#verify')
    eq('unknown policy: an error', 'error', wait_answer())
    eq('unknown policy: its code', 'UNKNOWN_POLICY', js("return document.getElementById('error-code').textContent;"))
    eq('unknown policy: HTTP 400', '400', js("return document.getElementById('error-http').textContent;"))
    msg = js("return document.getElementById('error-message').textContent;")
    (ok if evil in msg else fail)('the policy name is shown as text: %r' % msg)
    eq('no <img> element made from it', 0, js("return document.querySelectorAll('img').length;"))
    time.sleep(0.3)
    eq('no script ran from it', None, js("return window.__xss === undefined ? null : window.__xss;"))
finally:
    try:
        call('DELETE', S)
    except Exception as e:
        print('note: closing the session: %s' % e)
sys.exit(1 if fails else 0)
PY
python3 "$T/drive.py" "http://127.0.0.1:$DPORT" "$CHROME" "$URL/" "$T/s/bundle.json" "$T/tampered.bin" \
    "$T/profile" "$SHOT" "$T/s/report.bin" \
    "$T/td/bundle.json" "$T/other/bundle.json" "$T/td/quote.bin" "$URL2/" "$T/tpm.json" ||
    fails=$((fails + 1))
[ -s "$SHOT" ] && echo "screenshot: $SHOT"
if [ $fails -ne 0 ]; then
    echo "$fails failed"
    tail -20 "$T/driver.log"
    exit 1
fi
echo "all passed"
