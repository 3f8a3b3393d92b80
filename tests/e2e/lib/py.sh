# Sourced by e2e scripts that check a format with another project's Python library.
# py_with MOD...: sets PY to the first Python 3 that imports every module named (Debian's
# /usr/bin/python3 first: make deps installs the python3-* packages there; a python3
# earlier on PATH, from pyenv say, may lack them). Returns 1 when none does.
py_with() {
    PY=
    for p in /usr/bin/python3 python3; do
        command -v "$p" >/dev/null 2>&1 || continue
        imports=""
        for m in "$@"; do imports="${imports}import $m;"; done
        if "$p" -c "$imports" >/dev/null 2>&1; then PY=$p; return 0; fi
    done
    return 1
}
