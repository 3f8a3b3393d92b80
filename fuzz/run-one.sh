#!/bin/sh
# Runs one libFuzzer target for a bounded time on a copy of its seed corpus.
# usage: run-one.sh TARGET CORPUS_DIR SECONDS   (FUZZ_SECONDS in the environment overrides)
set -eu
target=$1 corpus=$2 secs=${FUZZ_SECONDS:-$3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
if [ -d "$corpus" ]; then cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true; fi
# Seeds from the shared vectors when present (read only, never copied into the project).
if [ -n "${CVMATTEST_VECTORS:-}" ] && [ -d "$CVMATTEST_VECTORS" ]; then
    name=$(basename "$target")
    case $name in
    fuzz_snp_report) find "$CVMATTEST_VECTORS/snp" -name 'report.bin' -exec cp {} "$work/corpus/" \; 2>/dev/null || true
        i=0; for f in $(find "$CVMATTEST_VECTORS/snp" -name report.bin); do i=$((i+1)); cp "$f" "$work/corpus/seed$i"; done ;;
    fuzz_azure_hcl) i=0; for f in $(find "$CVMATTEST_VECTORS" -name 'hcl-report.bin' -o -path '*azure*' -name 'evidence*.json'); do i=$((i+1)); cp "$f" "$work/corpus/seed$i"; done ;;
    fuzz_amd_cert_ext) i=0; for f in $(find "$CVMATTEST_VECTORS/snp" -name '*.der'); do i=$((i+1)); cp "$f" "$work/corpus/seed$i"; done ;;
    fuzz_tdx_quote) i=0; for f in $(find "$CVMATTEST_VECTORS/tdx" "$CVMATTEST_VECTORS/sgx" -name 'quote.bin' -o -name '*quote*.dat' -o -name 'td-quote.bin'); do i=$((i+1)); cp "$f" "$work/corpus/seed$i"; done ;;
    fuzz_tdx_certdata|fuzz_pck_ext)
        # The signature data of each TDX quote (v4: length at 632; v5: at 54 + body_size).
        i=0
        for f in $(find "$CVMATTEST_VECTORS/tdx" -name 'quote.bin' -o -name '*quote*.dat' -o -name 'td-quote.bin'); do
            ver=$(od -An -tu2 -j0 -N2 "$f" | tr -d ' ')
            case $ver in
            4) lo=632 ;;
            5) lo=$((54 + $(od -An -tu4 -j50 -N4 "$f" | tr -d ' '))) ;;
            *) continue ;;
            esac
            sdl=$(od -An -tu4 -j"$lo" -N4 "$f" | tr -d ' ')
            i=$((i+1))
            tail -c +$((lo + 5)) "$f" | head -c "$sdl" > "$work/sig$i" || continue
            if [ "$name" = fuzz_tdx_certdata ]; then cp "$work/sig$i" "$work/corpus/seed$i"; continue; fi
            # fuzz_pck_ext: the SGX extension value of the PCK leaf (needs the openssl CLI). The
            # PEM chain starts at 0x24E + QE auth data size inside the signature data.
            command -v openssl >/dev/null 2>&1 || continue
            qa=$(od -An -tu2 -j$((lo + 4 + 582)) -N2 "$f" | tr -d ' ')
            tail -c +$((lo + 4 + 590 + qa + 1)) "$f" > "$work/pem$i" || continue
            openssl x509 -in "$work/pem$i" -outform der -out "$work/leaf$i" 2>/dev/null || continue
            off=$(openssl asn1parse -inform der -in "$work/leaf$i" 2>/dev/null |
                  grep -A1 ':1.2.840.113741.1.13.1$' | tail -1 | cut -d: -f1 | tr -d ' ')
            [ -n "$off" ] || continue
            openssl asn1parse -inform der -in "$work/leaf$i" -strparse "$off" -noout \
                -out "$work/corpus/seed$i" >/dev/null 2>&1 || rm -f "$work/corpus/seed$i"
        done ;;
    fuzz_tdx_collateral)
        # Selector byte 0 / 1: PCS bodies; 2 / 3: bare TCB Info / QE Identity objects.
        i=0
        for f in $(find "$CVMATTEST_VECTORS/tdx" "$CVMATTEST_VECTORS/sgx" -name '*.json'); do
            i=$((i+1))
            for sel in 0 1 2 3; do
                { printf "\\$(printf '%03o' "$sel")"; cat "$f"; } > "$work/corpus/seed$i-$sel"
            done
        done ;;
    esac
fi
# The service in fuzz_serve_http logs a line per request on stderr: its stderr is closed, and
# libFuzzer's output and the sanitizers' reports go to a copy of it.
extra=
case $(basename "$target") in
fuzz_serve_http) extra=-close_fd_mask=2 ;;
esac
exec "$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $extra "$work/corpus"
