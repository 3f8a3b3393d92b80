#!/bin/sh
# Azure CVM evidence with a measured-boot event log (docs/azure.md, docs/eventlog.md). No Azure
# sample carries a log, so the evidence is simulated: a real software TPM (swtpm) holds the AK
# and the PCRs, a TCG crypto-agile log is built here and each of its events extended into the
# TPM, the runtime claims hold the AK as HCLAkPub, a simulated SEV-SNP report (cvmattest sim snp)
# commits to their SHA-256, and the HCL report wraps both. The bundle's event_log part is
# replayed against the quoted PCRs as for the tpm kind: claims.eventlog when it agrees (and an
# eventlog policy then applies to azure-snp), EVENTLOG_REPLAY_MISMATCH naming the event when one
# digest is changed; eventlog.required_events over the measured events. The same for azure-tdx
# (a TDREPORT and a simulated TD quote), with the tdx policy section on its TD quote. With the
# real Azure sample, a log that is not its own is refused too.
set -u
CVM=${CVMATTEST_BIN:?}
for p in swtpm tpm2_createak tpm2_quote tpm2_pcrextend python3 jq base64 openssl sha256sum; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed (make deps installs swtpm, swtpm-tools, tpm2-tools)"; exit 77; }
done
. "$(dirname "$0")/lib/swtpm.sh"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
cd "$T" || exit 1

# The AK (RSA-2048, RSASSA-SHA256, as Azure's HCLAkPub).
swtpm_ek_ak ak.tpm2b
t tpm2_readpublic -c ak.ctx -o ak.pem -f pem
openssl rsa -pubin -in ak.pem -noout -modulus >ak.mod 2>&1 || { echo "FAIL: openssl rsa"; cat ak.mod; exit 1; }
openssl rsa -pubin -in ak.pem -noout -text >ak.txt 2>&1 || { echo "FAIL: openssl rsa -text"; exit 1; }

# The event log (SHA-256 bank): a CRTM version in PCR 0, separators in PCRs 0..7, GRUB's kernel
# command line in PCR 8; each event's digest extended into the TPM. bad.bin: the same log with
# the command line event's digest changed.
python3 - <<'PY' || exit 1
import hashlib, struct
def ev2(pcr, typ, digest, data):
    return struct.pack("<IIIH", pcr, typ, 1, 0x000B) + digest + struct.pack("<I", len(data)) + data
spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) + struct.pack("<HH", 0x000B, 32) + b"\0"
log = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
events = [(0, 0x8, hashlib.sha256(b"sim-crtm").digest(), b"sim-crtm\0")]
for pcr in range(8):
    events.append((pcr, 0x4, hashlib.sha256(bytes(4)).digest(), bytes(4)))
cmd = b"console=ttyS0 root=/dev/vda1 module.sig_enforce=1"
events.append((8, 0xD, hashlib.sha256(cmd).digest(), b"kernel_cmdline: " + cmd + b"\0"))
good = log + b"".join(ev2(*e) for e in events)
open("log.bin", "wb").write(good)
last = events[-1]
bad = log + b"".join(ev2(*e) for e in events[:-1]) + ev2(last[0], last[1], hashlib.sha256(b"x").digest(), last[3])
open("bad.bin", "wb").write(bad)
with open("extend.txt", "w") as f:
    for pcr, _, d, _ in events:
        f.write("%d:sha256=%s\n" % (pcr, d.hex()))
PY
while read -r e; do t tpm2_pcrextend "$e"; done <extend.txt
NONCE=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
t tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7,8 -q "$NONCE" -m q.msg -s q.sig -o q.pcrs -g sha256

# The runtime claims with the AK, the SEV-SNP report over their SHA-256, the HCL report.
python3 - <<'PY' || exit 1
import base64, json, re
class K:
    n = int(open("ak.mod").read().strip().split("=", 1)[1], 16)
    e = int(re.search(r"Exponent: (\d+)", open("ak.txt").read()).group(1))
k = K()
def b64u(i):
    b = i.to_bytes((i.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(b).decode().rstrip("=")
claims = {"keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA", "e": b64u(k.e), "n": b64u(k.n)}],
          "vm-configuration": {"console-enabled": False, "secure-boot": True, "tpm-enabled": True,
                               "vmUniqueId": "00000000-1111-2222-3333-444444444444"},
          "user-data": "00" * 64}
open("claims.json", "wb").write(json.dumps(claims, separators=(",", ":")).encode())
PY
RD=$(sha256sum claims.json | cut -c1-64)
echo "$RD" >rd.txt
# The paravisor's launch measurement: what the policies below pin (without it, the VMPL-0
# report could be any SEV-SNP guest's: VTPM_PARAVISOR_NOT_PINNED, docs/vtpm-binding.md).
PARA=$(od -An -tx1 -N48 /dev/urandom | tr -d ' \n')
$CVM sim snp --out snp --measurement "$PARA" --report-data "$RD" >/dev/null || { echo "FAIL: sim snp"; exit 1; }
python3 - <<'PY' || exit 1
import base64, json, struct
claims = open("claims.json", "rb").read()
report = open("snp/report.bin", "rb").read()
assert len(report) == 1184
rt = struct.pack("<IIIII", 20 + len(claims), 1, 2, 1, len(claims))
body = report + rt + claims
hcl = b"HCLA" + struct.pack("<III", 1, 32 + len(body), 2) + bytes(16) + body
open("hcl.bin", "wb").write(hcl)
def b64(p):
    return base64.b64encode(open(p, "rb").read()).decode()
def bundle(log):
    parts = [{"role": "evidence", "data": base64.b64encode(hcl).decode()},
             {"role": "tpm_quote", "data": b64("q.msg")},
             {"role": "tpm_signature", "data": b64("q.sig")},
             {"role": "tpm_pcrs", "data": b64("q.pcrs")}]
    if log:
        parts.append({"role": "event_log", "data": b64(log)})
    for n in ("vcek.der", "cert_chain.pem", "crl.der"):
        parts.append({"role": "collateral", "name": n, "data": b64("snp/" + n)})
    return {"cvmattest_bundle": 1, "kind": "azure-snp", "parts": parts}
for name, log in (("nolog", None), ("good", "log.bin"), ("bad", "bad.bin")):
    json.dump(bundle(log), open(name + ".json", "w"))
PY
V="--offline --trust-root snp/ark.pem --nonce $NONCE --json"

$CVM verify nolog.json $V >nolog.out 2>&1
[ $? = 0 ] && jq -e '.tee == "azure-snp" and all(.reasons[]; .severity != "error")
    and .status == "warning" and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED")
    and .claims.eventlog == null and (.claims.azure.tpm.pcrs.sha256 | length) == 9' nolog.out >/dev/null &&
    ok "simulated azure-snp evidence (swtpm AK, sim SNP report) verifies without a log (no policy: VTPM_PARAVISOR_NOT_PINNED)" ||
    fail "simulated evidence without a log: $(head -c 1500 nolog.out)"

$CVM verify good.json $V >good.out 2>&1
[ $? = 0 ] && jq -e '.tee == "azure-snp" and all(.reasons[]; .severity != "error")
    and (all(.reasons[]; .code != "EVENTLOG_NOT_USED"))
    and .claims.eventlog.format == "tcg"
    and .claims.eventlog.kernel_cmdline == "console=ttyS0 root=/dev/vda1 module.sig_enforce=1"
    and .claims.eventlog.pcrs.sha256["8"] == .claims.azure.tpm.pcrs.sha256["8"]' good.out >/dev/null &&
    ok "the event_log part replays to the quoted PCRs: claims.eventlog" ||
    fail "good log: $(head -c 1500 good.out)"

$CVM verify bad.json $V >bad.out 2>&1
rc=$?
[ $rc = 1 ] && jq -e '.claims.eventlog == null and any(.reasons[]; .code == "EVENTLOG_REPLAY_MISMATCH"
    and (.detail | test("PCR 8")) and (.detail | test("EV_IPL")))' bad.out >/dev/null &&
    ok "a changed event digest: EVENTLOG_REPLAY_MISMATCH naming PCR 8 and the EV_IPL event" ||
    fail "bad log: exit $rc $(head -c 1500 bad.out)"

# An eventlog policy applies to azure-snp with its log, and fails without one. The policies pin
# the paravisor's launch measurement: only then does the report vouch for the AK and the claims.
SNPPIN='"snp": {"measurements": ["'$PARA'"]}'
printf '{"allowed_tees": ["azure-snp"], %s, "eventlog": {"kernel_cmdline_contains": ["module.sig_enforce=1"]}, "azure": {"console_enabled": false}}\n' "$SNPPIN" >pol.json
$CVM verify good.json $V --policy pol.json >pg.out 2>&1
[ $? = 0 ] && jq -e '.status == "affirming"' pg.out >/dev/null &&
    ok "eventlog policy on azure-snp: the measured command line" || fail "policy on good log: $(head -c 1500 pg.out)"
printf '{"allowed_tees": ["azure-snp"], "eventlog": {"kernel_cmdline_contains": ["module.sig_enforce=1"]}}\n' >unpinned.json
$CVM verify good.json $V --policy unpinned.json >pu.out 2>&1
[ $? = 1 ] && jq -e '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_TPM_AK"]
    and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED")' pu.out >/dev/null &&
    ok "eventlog policy pinning no launch measurement: POLICY_TPM_AK" || fail "unpinned eventlog policy: $(head -c 1500 pu.out)"
$CVM verify nolog.json $V --policy pol.json >pn.out 2>&1
[ $? = 1 ] && jq -e 'any(.reasons[]; .code == "POLICY_EVENTLOG_MISSING")' pn.out >/dev/null &&
    ok "eventlog policy without a log: POLICY_EVENTLOG_MISSING" || fail "policy without log: $(head -c 1500 pn.out)"

# eventlog.required_events: an event matched by register, type, digest, or a digest that is
# the hash of the given data (GRUB measures the command line text); one that is not measured,
# or is in a PCR the quote does not cover, is POLICY_REQUIRED_EVENT.
CRTM=$(printf sim-crtm | sha256sum | cut -c1-64)
req() { # name, expected exit, required_events JSON, [jq test]
    printf '{"allowed_tees": ["azure-snp"], %s, "eventlog": {"required_events": %s}}\n' "$SNPPIN" "$3" >req.json
    $CVM verify good.json $V --policy req.json >req.out 2>&1
    rc=$?
    if [ $rc = "$2" ] && { [ -z "${4:-}" ] || jq -e "$4" req.out >/dev/null; }; then ok "$1"; else
        fail "$1: exit $rc $(jq -c '[.reasons[] | .code + ": " + .detail]' req.out 2>/dev/null | head -c 1200)"; fi
}
req "required events: the command line by its text, the CRTM event by its digest" 0 \
    '[{"pcr": 8, "type": "EV_IPL", "data": "console=ttyS0 root=/dev/vda1 module.sig_enforce=1"},
      {"pcr": 0, "type": "EV_S_CRTM_VERSION", "digest": "'"$CRTM"'"},
      {"pcr": 7, "type": "EV_SEPARATOR", "digest": "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119"}]' \
    'all(.reasons[]; .severity != "error")'
req "required event before the separator: the CRTM event in PCR 0" 0 \
    '[{"pcr": 0, "type": "EV_S_CRTM_VERSION", "digest": "'"$CRTM"'", "before_separator": true}]' \
    'all(.reasons[]; .severity != "error")'
req "required event with another command line: POLICY_REQUIRED_EVENT" 1 \
    '[{"pcr": 8, "type": "EV_IPL", "data": "console=ttyS0"}]' \
    '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_REQUIRED_EVENT"]
     and any(.reasons[]; .detail | test("required_events\\[0\\]: no measured event of PCR 8 of type EV_IPL"))'
req "required event of a PCR the quote does not cover: POLICY_REQUIRED_EVENT" 1 \
    '[{"pcr": 9, "type": "EV_IPL", "data": "console=ttyS0 root=/dev/vda1 module.sig_enforce=1"}]' \
    'any(.reasons[]; .code == "POLICY_REQUIRED_EVENT")'
req "required event of another type in that PCR: POLICY_REQUIRED_EVENT" 1 \
    '[{"pcr": 0, "type": "EV_POST_CODE", "digest": "'"$CRTM"'"}]' 'any(.reasons[]; .code == "POLICY_REQUIRED_EVENT")'
printf '{"eventlog": {"required_events": [{"type": "EV_IPL"}]}}\n' >badreq.json
$CVM policy check badreq.json >badreq.out 2>&1
[ $? = 2 ] && grep -q 'required_events\[0\]: give exactly one of "pcr"' badreq.out &&
    ok "a required event without its register is refused at load" || fail "load: $(cat badreq.out)"
printf '{"eventlog": {"required_events": [{"pcr": 7, "type": "EV_SEPARATOR"}]}}\n' >badreq.json
$CVM policy check badreq.json >badreq.out 2>&1
[ $? = 2 ] && grep -q 'a type alone proves nothing' badreq.out &&
    ok "a required event by its type alone is refused at load" || fail "load: $(cat badreq.out)"

# azure-tdx, simulated the same way: a TDREPORT in the HCL report (MRTD and REPORTDATA = the
# runtime claims' SHA-256), the simulated TD quote of that TD, Trustee's JSON evidence, the log
# beside it in a bundle; the tdx policy section applies to the TD quote's claims.
MRTD=$(od -An -tx1 -N48 /dev/urandom | tr -d ' \n')
$CVM sim tdx --out tdx --mr-td "$MRTD" --report-data "$RD" >/dev/null || { echo "FAIL: sim tdx"; exit 1; }
t tpm2_pcrread sha256:0,1,2,3,4,5,6,7,8 -o pcrs9.bin
python3 - <<'PY' || exit 1
import base64, json, struct
claims = open("claims.json", "rb").read()
q = open("tdx/quote.bin", "rb").read()
td = bytearray(1184)
td[0] = 0x81
td[128:160] = bytes.fromhex(open("rd.txt").read().strip())
td[528:576] = q[48 + 136:48 + 184]  # the quote's MRTD (TD report at 48, MR_TD at 136)
rt = struct.pack("<IIIII", 20 + len(claims), 1, 4, 1, len(claims))
body = bytes(td) + rt + claims
hcl = b"HCLA" + struct.pack("<III", 2, 32 + len(body), 2) + bytes(16) + body
p = open("pcrs9.bin", "rb").read()
ev = {"version": 1, "hcl_report": base64.urlsafe_b64encode(hcl).decode().rstrip("="),
      "tpm_quote": {"message": open("q.msg", "rb").read().hex(), "signature": open("q.sig", "rb").read().hex(),
                    "pcrs": [p[i:i + 32].hex() for i in range(0, len(p), 32)]},
      "td_quote": base64.urlsafe_b64encode(q).decode().rstrip("=")}
json.dump(ev, open("tdx-ev.json", "w"))
b = {"cvmattest_bundle": 1, "kind": "azure-tdx", "parts": [
    {"role": "evidence", "data": base64.b64encode(json.dumps(ev).encode()).decode()},
    {"role": "event_log", "data": base64.b64encode(open("log.bin", "rb").read()).decode()}]}
json.dump(b, open("tdx-log.json", "w"))
PY
VT="--offline --collateral tdx --trust-root tdx/root_ca.pem --nonce $NONCE --json"
$CVM verify tdx-log.json $VT >tdx.out 2>&1
rc=$?
[ $rc = 0 ] && jq -e '.tee == "azure-tdx" and all(.reasons[]; .severity != "error")
    and any(.reasons[]; .code == "VTPM_PARAVISOR_NOT_PINNED" and (.detail | test("tdx.mr_td")))
    and .claims.azure.tdx.mr_td == "'"$MRTD"'" and .claims.eventlog.kernel_cmdline != null' tdx.out >/dev/null &&
    ok "simulated azure-tdx (TDREPORT, TD quote, swtpm quote) with its log verifies" ||
    fail "azure-tdx: exit $rc $(head -c 1500 tdx.out)"
printf '{"allowed_tees": ["azure-tdx"], "tdx": {"mr_td": "%s"}, "tpm": {"pcrs": {"sha256": {"8": "%s"}}},
  "eventlog": {"required_events": [{"pcr": 8, "type": "EV_IPL", "data": "console=ttyS0 root=/dev/vda1 module.sig_enforce=1"}]}}\n' \
    "$MRTD" "$(jq -r '.claims.azure.tpm.pcrs.sha256["8"]' tdx.out)" >tdxpol.json
$CVM verify tdx-log.json $VT --policy tdxpol.json >tp.out 2>&1
[ $? = 0 ] && jq -e 'all(.reasons[]; .code != "VTPM_PARAVISOR_NOT_PINNED")' tp.out >/dev/null &&
    ok "azure-tdx policy: tdx.mr_td, tpm.pcrs, a required event" ||
    fail "azure-tdx policy: $(jq -c '[.reasons[] | .code + ": " + .detail]' tp.out | head -c 1200)"
printf '{"allowed_tees": ["azure-tdx"], "tdx": {"mr_td": "%096d"}}\n' 0 >tdxpol2.json
$CVM verify tdx-log.json $VT --policy tdxpol2.json >tp2.out 2>&1
[ $? = 1 ] && jq -e '[.reasons[] | select(.severity == "error") | .code] == ["POLICY_MR_TD"]' tp2.out >/dev/null &&
    ok "azure-tdx policy with another MRTD: POLICY_MR_TD" || fail "azure-tdx mr_td: $(head -c 1500 tp2.out)"

# The real Azure sample with a log that is not its own: refused, the mismatch named.
VEC=${CVMATTEST_VECTORS:-}
S=$VEC/tpm/azure-snp-vtpm-coco-trustee
L=$VEC/tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin
if [ -n "$VEC" ] && [ -f "$S/evidence-v2.json" ] && [ -f "$L" ]; then
    mkdir coll && cp "$VEC/snp/roots/ask_ark_milan.pem" coll/cert_chain.pem
    jq -n --arg e "$(base64 -w0 "$S/evidence-v2.json")" --arg l "$(base64 -w0 "$L")" \
        '{cvmattest_bundle: 1, kind: "azure-snp", parts: [{role: "evidence", data: $e},
          {role: "event_log", data: $l}]}' >real.json
    N2=982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef
    $CVM verify real.json --nonce "$N2" --offline --collateral coll --at 2025-06-01T00:00:00Z --json >real.out 2>&1
    rc=$?
    [ $rc = 1 ] && jq -e 'any(.reasons[]; .code == "EVENTLOG_REPLAY_MISMATCH") and .claims.eventlog == null' real.out >/dev/null &&
        ok "the Azure sample with another machine's log: EVENTLOG_REPLAY_MISMATCH" ||
        fail "real sample with a foreign log: exit $rc $(head -c 1500 real.out)"
else
    echo "SKIP (part): shared test vectors not found (set CVMATTEST_VECTORS)"
fi

[ "$fails" = 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
