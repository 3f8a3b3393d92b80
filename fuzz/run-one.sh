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
    fuzz_amd_cert_ext) i=0; for f in $(find "$CVMATTEST_VECTORS/snp" -name '*.der'); do i=$((i+1)); cp "$f" "$work/corpus/seed$i"; done ;;
    esac
fi
exec "$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work/corpus"
