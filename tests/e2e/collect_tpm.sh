#!/bin/sh
# cvmattest collect --tpm against a real software TPM (swtpm, started here on local TCP
# ports): the quote over --pcrs with the nonce, the AK and PCR values in a bundle that
# verify takes (TPM alone: warning TPM_AK_NOT_BOUND; a wrong nonce: TPM_NONCE_MISMATCH);
# the vTPM part next to a simulated SEV-SNP report (configfs-tsm tree); Azure's HCL report
# read from NV 0x01400001 when the index exists; an unreachable TPM named.
set -u
CVM=${CVMATTEST_BIN:?}
for p in swtpm tpm2_nvdefine tpm2_pcrextend python3 jq; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed (make deps installs swtpm, swtpm-tools, tpm2-tools)"; exit 77; }
done
. "$(dirname "$0")/lib/swtpm.sh"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
tpm2_pcrextend 16:sha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 >/dev/null ||
    fail "tpm2_pcrextend"
PCR16=$(tpm2_pcrread sha256:16 | sed -n 's/^ *16 *: 0x\([0-9A-Fa-f]*\)$/\1/p' | tr 'A-F' 'a-f')
NONCE=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

# --- the vTPM alone ---
$CVM collect --tpm-only --pcrs sha256:0-7,16 --nonce "$NONCE" --out "$T/tpm.json" \
    --tpm-tcti "$TCTI" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
    [ "$(jq -r '.kind + " " + ([.parts[].role] | join(","))' "$T/tpm.json")" = \
        "tpm tpm_quote,tpm_signature,tpm_ak,tpm_pcrs" ] || fail "tpm bundle parts: $(jq -c . "$T/tpm.json" | head -c 300)"
    $CVM verify "$T/tpm.json" --nonce "$NONCE" --json >"$T/v.json"
    rc=$?
    [ $rc -eq 0 ] && jq -e --arg p "$PCR16" --arg n "$NONCE" '.status == "warning"
        and any(.reasons[]; .code == "TPM_AK_NOT_BOUND")
        and all(.reasons[]; .severity != "error")
        and .claims.tpm.pcrs.sha256["16"] == $p and .claims.tpm.extra_data == $n
        and (.claims.tpm.pcrs.sha256 | keys | length) == 9' "$T/v.json" >/dev/null &&
        ok "TPM alone: quote over sha256:0-7,16 verifies (warning TPM_AK_NOT_BOUND), PCR 16 as extended" ||
        fail "verify tpm bundle: exit $rc $(head -c 600 "$T/v.json")"
    $CVM verify "$T/tpm.json" --nonce "00$NONCE" --json >"$T/v.json"
    rc=$?
    [ $rc -eq 1 ] && jq -e 'any(.reasons[]; .code == "TPM_NONCE_MISMATCH")' "$T/v.json" >/dev/null &&
        ok "TPM alone, another nonce: TPM_NONCE_MISMATCH" || fail "wrong nonce: exit $rc"
    [ -s "$T/tpm.json.raw/tpm_quote.bin" ] && [ -s "$T/tpm.json.raw/tpm_ak.bin" ] &&
        ok "raw TPM bytes kept" || fail "raw TPM bytes"
    # the same AK each time (a primary under the endorsement hierarchy)
    $CVM collect --tpm-only --nonce "$NONCE" --out "$T/tpm2.json" --tpm-tcti "$TCTI" >/dev/null 2>&1 &&
        cmp -s "$T/tpm.json.raw/tpm_ak.bin" "$T/tpm2.json.raw/tpm_ak.bin" &&
        ok "the AK is the same at the next collection" || fail "AK differs between collections"
else
    fail "collect --tpm-only: exit $rc: $(cat "$T/out")"
fi

# --- next to a simulated SEV-SNP report ---
$CVM sim snp --out "$T/snp" --report-data "$NONCE" --tsm-tree "$T/tsm" >/dev/null || fail "sim snp"
$CVM collect --tpm --nonce "$NONCE" --out "$T/both.json" --tsm-root "$T/tsm" --dev-root "$T/none" \
    --tpm-tcti "$TCTI" >"$T/out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(jq -r '.kind + " " + ([.parts[] | .name // .role] | join(","))' "$T/both.json")" = \
    "sev-snp evidence,tpm_quote,tpm_signature,tpm_ak,tpm_pcrs,vcek.der,ask.pem,ark.pem,crl.der" ] &&
    $CVM verify "$T/both.json" --offline --report-data "$NONCE" --trust-root "$T/snp/ark.pem" >/dev/null &&
    ok "SEV-SNP and vTPM: one bundle, the hardware report verifies" ||
    fail "collect --tpm with snp: exit $rc: $(cat "$T/out")"
# the raw directory holds one collection: again without --tpm, the TPM files are gone; then
# --tpm-only, the report's files are gone
$CVM collect --nonce "$NONCE" --out "$T/both.json" --tsm-root "$T/tsm" --dev-root "$T/none" >/dev/null 2>&1 ||
    fail "collect again without --tpm"
if ls "$T/both.json.raw" | grep -q '^tpm_'; then
    fail "a collection without --tpm left the earlier TPM files: $(ls "$T/both.json.raw" | tr '\n' ' ')"
else
    ok "without --tpm, the earlier collection's TPM files are removed"
fi
$CVM collect --tpm-only --nonce "$NONCE" --out "$T/both.json" --tpm-tcti "$TCTI" >/dev/null 2>&1 ||
    fail "collect again --tpm-only"
if ls "$T/both.json.raw" | grep -q -E '^(outblob|auxblob|cert-)'; then
    fail "a --tpm-only collection left the earlier report's files: $(ls "$T/both.json.raw" | tr '\n' ' ')"
else
    ok "--tpm-only: the earlier collection's report files are removed"
fi

# --- Azure's HCL report in NV 0x01400001 ---
python3 -c 'import sys; sys.stdout.buffer.write(b"HCLA" + bytes(range(256)) * 4)' >"$T/hcl.bin"
tpm2_nvdefine 0x01400001 -C o -s "$(wc -c <"$T/hcl.bin")" -a "ownerwrite|ownerread|authread|authwrite" >/dev/null 2>&1 &&
    tpm2_nvwrite 0x01400001 -C o -i "$T/hcl.bin" >/dev/null 2>&1 || fail "tpm2_nvdefine/nvwrite 0x01400001"
$CVM collect --tpm-only --nonce "$NONCE" --out "$T/az.json" --tpm-tcti "$TCTI" >"$T/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "HCL report from NV 0x01400001 kept raw" "$T/out" &&
    cmp -s "$T/hcl.bin" "$T/az.json.raw/hcl_report.bin" &&
    ok "NV 0x01400001 present: its bytes are kept (hcl_report.bin)" || fail "HCL NV: exit $rc: $(cat "$T/out")"
# the index readable with the owner's authorization only (no AUTHREAD): read so
tpm2_nvundefine 0x01400001 -C o >/dev/null 2>&1
tpm2_nvdefine 0x01400001 -C o -s "$(wc -c <"$T/hcl.bin")" -a "ownerwrite|ownerread" >/dev/null 2>&1 &&
    tpm2_nvwrite 0x01400001 -C o -i "$T/hcl.bin" >/dev/null 2>&1 || fail "tpm2_nvdefine/nvwrite 0x01400001 (owner)"
$CVM collect --tpm-only --nonce "$NONCE" --out "$T/az2.json" --tpm-tcti "$TCTI" >"$T/out" 2>&1
rc=$?
[ $rc -eq 0 ] && cmp -s "$T/hcl.bin" "$T/az2.json.raw/hcl_report.bin" &&
    ok "NV 0x01400001 readable with the owner's authorization only: read" ||
    fail "HCL NV (owner read): exit $rc: $(cat "$T/out")"
# readable by neither (platform read only): said, not silently dropped
tpm2_nvundefine 0x01400001 -C o >/dev/null 2>&1
tpm2_nvdefine 0x01400001 -C o -s 16 -a "ownerwrite|ppread" >/dev/null 2>&1 || fail "tpm2_nvdefine 0x01400001 (ppread)"
$CVM collect --tpm-only --nonce "$NONCE" --out "$T/az3.json" --tpm-tcti "$TCTI" >"$T/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "NV 0x01400001 (Azure's HCL report) is there but was not read" "$T/out" &&
    [ ! -e "$T/az3.json.raw/hcl_report.bin" ] &&
    ok "NV 0x01400001 that cannot be read: said on stderr" || fail "HCL NV unreadable: exit $rc: $(cat "$T/out")"
tpm2_nvundefine 0x01400001 -C o >/dev/null 2>&1

# --- no TPM there ---
$CVM collect --tpm-only --nonce "$NONCE" --out "$T/x.json" --dev-root "$T/none" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "TCTI 'device:$T/none/tpmrm0' cannot be opened" "$T/out" &&
    ok "no TPM: exit 2, the TCTI named" || fail "no TPM: exit $rc: $(cat "$T/out")"
$CVM collect --tpm --pcrs sha256:24 --nonce "$NONCE" --out "$T/x.json" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--pcrs sha256:24: want exit 2"

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
