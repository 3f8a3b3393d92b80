#!/bin/sh
# The C sources are formatted as .clang-format says (clang-format 14, Debian 12's).
set -u
src=${CVMATTEST_SRC:?}
command -v clang-format >/dev/null || { echo "SKIP: clang-format not installed"; exit 77; }
cd "$src" || exit 1
files=$(find src cli sim examples tests fuzz include -name '*.[ch]' 2>/dev/null)
if ! clang-format --dry-run -Werror $files; then
    echo "run 'make format' to fix"
    exit 1
fi
echo "$(echo "$files" | wc -l) files formatted"
