#!/bin/sh
# The installed library: `cmake --install` into a temporary prefix, then examples/verify.c built
# from outside the tree against the installed copy only (pkg-config), shared and static, run on
# simulated evidence; the man page, the completion and the .pc are installed; the shared
# library exports the public API and nothing else.
set -u
CVM=${CVMATTEST_BIN:?}
SRC=${CVMATTEST_SRC:?}
BUILD=$(dirname "$CVM")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # name, expected exit, actual exit
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); fi
}
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
for tool in cmake pkg-config nm; do
    command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool not found"; exit 77; }
done

# The compiler and sanitizers of this build (an ASan build's library needs them at link time).
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
[ -n "$CC" ] || CC=cc
SAN=""
if grep -q '^CVMA_SANITIZE:BOOL=ON\|^CVMA_FUZZ:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    SAN="-fsanitize=address,undefined"
fi

P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1
check "cmake --install --prefix" 0 $?
for f in bin/cvmattest lib/libcvmattest.a lib/libcvmattest.so include/cvmattest/cvmattest.h \
    lib/pkgconfig/cvmattest.pc share/man/man1/cvmattest.1 \
    share/bash-completion/completions/cvmattest; do
    [ -e "$P/$f" ] || fail "not installed: $f"
done
soname=$(objdump -p "$P/lib/libcvmattest.so" 2>/dev/null | sed -n 's/^ *SONAME *//p')
[ -n "$soname" ] && [ -e "$P/lib/$soname" ] || fail "soname link '$soname' not installed"
ver=$("$P/bin/cvmattest" version); check "installed binary runs" 0 $?
ver=${ver#cvmattest }
grep -q "^prefix=$P\$" "$P/lib/pkgconfig/cvmattest.pc" || fail "cvmattest.pc prefix is not $P"
grep -q "^Version: $ver\$" "$P/lib/pkgconfig/cvmattest.pc" || fail "cvmattest.pc is not version $ver"
grep -q '^libdir=${prefix}/lib$' "$P/lib/pkgconfig/cvmattest.pc" &&
    grep -q '^includedir=${prefix}/include$' "$P/lib/pkgconfig/cvmattest.pc" ||
    fail "cvmattest.pc: libdir or includedir not under \${prefix}: $(cat "$P/lib/pkgconfig/cvmattest.pc")"
# GNUInstallDirs' directories given absolute (as packagers may): the .pc names them as they
# are, never as \${prefix}//abs/lib
cmake -DPC_IN="$SRC/cvmattest.pc.in" -DPC_OUT="$T/abs.pc" -DPC_PREFIX=/opt/cv \
    -DPC_LIBDIR=/usr/lib64/cv -DPC_INCLUDEDIR=include -DPC_VERSION="$ver" \
    -P "$SRC/cmake/pcfile.cmake" >"$T/pc.log" 2>&1
check "cmake/pcfile.cmake, an absolute libdir" 0 $?
[ "$(PKG_CONFIG_PATH=$T pkg-config --variable=libdir abs)" = /usr/lib64/cv ] &&
    [ "$(PKG_CONFIG_PATH=$T pkg-config --variable=includedir abs)" = /opt/cv/include ] ||
    fail "absolute libdir: $(head -4 "$T/abs.pc")"
# before 1.0 the soname carries the minor version (a minor version may change public structs)
case $ver in
0.*) want=libcvmattest.so.$(echo "$ver" | cut -d. -f1,2) ;;
*) want=libcvmattest.so.${ver%%.*} ;;
esac
[ "$soname" = "$want" ] && echo "ok   soname $soname for version $ver" ||
    fail "soname '$soname' for version $ver, not $want"

# Exported symbols: exactly the CVMA_API functions of the public headers.
nm -D --defined-only "$P/lib/libcvmattest.so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
    grep -v '^_' | sort -u >"$T/exported"
cat "$SRC"/include/cvmattest/*.h | tr -s ' \n' '  ' | grep -o 'CVMA_API [a-z][^(]*(' |
    sed 's/($//; s/.*[ *]//' | sort -u >"$T/api"
[ -s "$T/api" ] || fail "no CVMA_API functions found in the header"
if cmp -s "$T/exported" "$T/api"; then
    echo "ok   libcvmattest.so exports the $(wc -l <"$T/api") public functions only"
else
    fail "exported symbols differ from the public API (< exported, > header):"
    diff "$T/exported" "$T/api" | grep '^[<>]' | head -20
fi

# The example, built from outside the tree: a copy of verify.c in T, the installed prefix only.
cp "$SRC/examples/verify.c" "$T/verify.c"
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
cd "$T" || exit 1
# shellcheck disable=SC2046
$CC $SAN verify.c $(pkg-config --cflags --libs cvmattest) -o "$T/verify" 2>"$T/cc.log"
check "cc verify.c \$(pkg-config --cflags --libs cvmattest)" 0 $?
[ -s "$T/cc.log" ] && cat "$T/cc.log"
export LD_LIBRARY_PATH="$P/lib"
ldd "$T/verify" | grep -q "$P/lib/libcvmattest.so" || fail "verify is not linked to the installed .so"
# A program of atls.h, which includes OpenSSL's headers and frees what it returns with OpenSSL's
# functions, builds with the same pkg-config line (Requires: libssl libcrypto).
cat >"$T/atlsuse.c" <<'EOC'
#include <stdio.h>
#include <cvmattest/atls.h>
int main(void)
{
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    if (cvma_atls_self_signed("atlsuse", 1, &k, &x) != CVMA_OK) {
        return 1;
    }
    X509_free(x);
    EVP_PKEY_free(k);
    printf("cvmattest %s\n", cvma_version());
    return 0;
}
EOC
# shellcheck disable=SC2046
$CC $SAN atlsuse.c $(pkg-config --cflags --libs cvmattest) -o "$T/atlsuse" 2>"$T/cc-atls.log"
check "cc atlsuse.c (atls.h, OpenSSL) \$(pkg-config --cflags --libs cvmattest)" 0 $?
[ -s "$T/cc-atls.log" ] && head -5 "$T/cc-atls.log"
"$T/atlsuse" >"$T/atlsuse.out"; check "atlsuse runs" 0 $?
[ "$(cat "$T/atlsuse.out")" = "$("$P/bin/cvmattest" version)" ] ||
    fail "cvma_version() is not the installed cvmattest's: $(cat "$T/atlsuse.out")"

"$CVM" sim snp --out "$T/s" >/dev/null; check "sim snp" 0 $?
"$CVM" sim tdx --out "$T/t" >/dev/null; check "sim tdx" 0 $?

run() { # name, want exit, want status (or ""), args...
    name=$1 want=$2 status=$3
    shift 3
    "$T/verify" "$@" >"$T/out.json" 2>"$T/err"
    rc=$?
    check "$name" "$want" "$rc"
    if [ -n "$status" ] && ! grep -q "\"status\": \"$status\"" "$T/out.json"; then
        fail "$name: status is not $status"
        head -c 400 "$T/out.json"
        cat "$T/err"
    fi
}
run "example: SNP bundle" 0 affirming "$T/s/bundle.json" --trust-root "$T/s/ark.pem"
run "example: TDX bundle" 0 affirming "$T/t/bundle.json" --trust-root "$T/t/root_ca.pem"
run "example: SNP report + --collateral" 0 affirming "$T/s/report.bin" --collateral "$T/s" \
    --trust-root "$T/s/ark.pem"
# MEASUREMENT (offset 0x90) changed: the signature no longer holds
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[0x90]^=1; open(sys.argv[2],"wb").write(b)' \
    "$T/s/report.bin" "$T/tampered.bin"
run "example: tampered SNP report" 1 contraindicated "$T/tampered.bin" --collateral "$T/s" \
    --trust-root "$T/s/ark.pem"
grep -q SNP_REPORT_SIGNATURE_INVALID "$T/out.json" || fail "tampered: no SNP_REPORT_SIGNATURE_INVALID"
run "example: no trust root" 1 contraindicated "$T/s/bundle.json"
grep -q CERT_UNTRUSTED_ROOT "$T/out.json" || fail "no trust root: no CERT_UNTRUSTED_ROOT"
run "example: --at after the certificates expire" 1 contraindicated "$T/t/bundle.json" \
    --trust-root "$T/t/root_ca.pem" --at 2100-01-01T00:00:00Z
run "example: --at now-ish with an offset" 0 affirming "$T/s/bundle.json" \
    --trust-root "$T/s/ark.pem" --at "$(date -u +%Y-%m-%dT%H:%M:%S)+00:00"
run "example: bad --at" 2 "" "$T/s/bundle.json" --at yesterday
# as the CLI reads --at: the epoch (the library's "now"), a day the month lacks, a leap second
# that ends no UTC day and an empty fraction are refused, never verified as of another time
for at in 1970-01-01T00:00:00Z 2024-02-31T00:00:00Z 2023-06-15T12:00:60Z \
    2024-01-01T00:00:00.Z 1969-12-31T23:59:59Z; do
    run "example: --at $at refused" 2 "" "$T/s/bundle.json" --trust-root "$T/s/ark.pem" --at "$at"
done
run "example: --at a leap second ending a UTC day" 1 contraindicated "$T/t/bundle.json" \
    --trust-root "$T/t/root_ca.pem" --at 2016-12-31T23:59:60Z
run "example: --at 2024-02-29 (a leap year)" 1 contraindicated "$T/t/bundle.json" \
    --trust-root "$T/t/root_ca.pem" --at 2024-02-29T12:00:00+01:00
run "example: missing file" 2 "" "$T/none.bin"
run "example: no arguments" 2 ""
run "example: unknown option" 2 "" "$T/s/bundle.json" --bogus
run "example: unreadable trust root" 2 "" "$T/s/bundle.json" --trust-root "$T/none.pem"
run "example: report without collateral, offline" 3 contraindicated "$T/s/report.bin" \
    --offline --trust-root "$T/s/ark.pem"

# Loaded as a plugin and unloaded: the library gives OpenSSL and jansson counting allocators
# when it is loaded (docs/architecture.md, "Out of memory"); a program that keeps using them
# after dlclose must not call into the unloaded library. tests/interop/unload.c.
# shellcheck disable=SC2046
$CC $SAN "$SRC/tests/interop/unload.c" $(pkg-config --cflags --libs jansson libcrypto) -ldl \
    -o "$T/unload" 2>"$T/cc-unload.log"
check "cc unload.c" 0 $?
"$T/unload" "$P/lib/libcvmattest.so" >"$T/unload.out" 2>&1
check "dlopen, use, dlclose, then jansson and OpenSSL" 0 $?
grep -q "unloaded cleanly" "$T/unload.out" || { fail "unload: $(cat "$T/unload.out")"; }

# Static: libcvmattest.a with the dependencies pkg-config lists for it (Requires.private,
# Libs.private). A fully static link also needs every dependency's own static archives
# (libcurl's, in particular), which a Debian system usually lacks; that is only reported.
mods=$( (pkg-config --print-requires cvmattest; pkg-config --print-requires-private cvmattest) |
    awk '{print $1}' | tr '\n' ' ')
privlibs=$(sed -n 's/^Libs.private: *//p' "$P/lib/pkgconfig/cvmattest.pc")
# shellcheck disable=SC2046,SC2086
$CC $SAN verify.c $(pkg-config --cflags cvmattest) "$P/lib/libcvmattest.a" \
    $(pkg-config --libs $mods) $privlibs -o "$T/verify-static" 2>"$T/cc-static.log"
check "static libcvmattest.a + Requires, Requires.private and Libs.private" 0 $?
[ -s "$T/cc-static.log" ] && head -20 "$T/cc-static.log"
if ldd "$T/verify-static" | grep -q libcvmattest; then fail "verify-static uses libcvmattest.so"; fi
LD_LIBRARY_PATH= "$T/verify-static" "$T/t/bundle.json" --trust-root "$T/t/root_ca.pem" >/dev/null
check "static example: TDX bundle" 0 $?
LD_LIBRARY_PATH= "$T/verify-static" "$T/tampered.bin" --collateral "$T/s" \
    --trust-root "$T/s/ark.pem" >/dev/null
check "static example: tampered SNP report" 1 $?
# shellcheck disable=SC2046
if $CC $SAN verify.c $(pkg-config --static --cflags --libs cvmattest) -o "$T/verify-s2" \
    >"$T/cc-s2.log" 2>&1; then
    echo "ok   pkg-config --static link"
else
    echo "note: pkg-config --static link not possible here (a dependency's static libraries" \
        "are missing): $(grep -o 'cannot find -l[a-z0-9_]*' "$T/cc-s2.log" | head -3 | tr '\n' ' ')"
fi

# The installed man page and completion are the ones of the tree.
cmp -s "$P/share/man/man1/cvmattest.1" "$SRC/docs/cvmattest.1" || fail "installed man page differs"
cmp -s "$P/share/bash-completion/completions/cvmattest" "$SRC/cli/cvmattest.bash-completion" ||
    fail "installed completion differs"
if command -v bash >/dev/null 2>&1; then
    got=$(bash -c ". '$P/share/bash-completion/completions/cvmattest'; complete -p cvmattest")
    case $got in *"-F _cvmattest"*) echo "ok   installed completion registers _cvmattest" ;;
    *) fail "installed completion: $got" ;; esac
fi
if command -v man >/dev/null 2>&1; then
    MANWIDTH=80 man -M "$P/share/man" cvmattest 2>"$T/man.err" | grep -q "^EXIT STATUS" ||
        { fail "man -M $P/share/man cvmattest does not show the page"; cat "$T/man.err"; }
fi

[ $fails -eq 0 ] && echo "PASS" || { echo "FAILED: $fails"; exit 1; }
