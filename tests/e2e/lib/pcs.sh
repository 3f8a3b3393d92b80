# Sourced by the e2e tests that answer Intel PCS requests with tests/pcs_server.py; not a test
# itself (CMake registers tests/e2e/*.sh only). Needs CVMATTEST_SRC, python3 and the sourcing
# script's fail.
# PCS paths of the v4 API the TDX collateral is fetched from:
TCB=/tdx/certification/v4/tcb
QE=/tdx/certification/v4/qe/identity
PCK=/sgx/certification/v4/pckcrl
# pcs_start DIR LOG: serves DIR's TDX collateral (the file names `sim tdx` writes) at those paths,
# every request logged to LOG; sets PCS (the base URL) and PCS_PID (the caller stops it).
pcs_start() {
    rm -f "$2.port"
    python3 "$CVMATTEST_SRC/tests/pcs_server.py" --max-seconds 120 --dir "$1" --log "$2" \
        --route "$TCB=tcb_info.json" --header "$TCB|TCB-Info-Issuer-Chain|tcb_info_issuer_chain.pem" \
        --route "$QE=qe_identity.json" \
        --header "$QE|SGX-Enclave-Identity-Issuer-Chain|qe_identity_issuer_chain.pem" \
        --route "$PCK=pck_crl.der" --header "$PCK|SGX-PCK-CRL-Issuer-Chain|pck_crl_issuer_chain.pem" \
        --hex-route "/sgx/certification/v4/rootcacrl=root_ca_crl.der" >"$2.port" &
    PCS_PID=$!
    _i=0
    while [ ! -s "$2.port" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ -s "$2.port" ] || fail "pcs_server.py did not report a port"
    PCS="http://127.0.0.1:$(head -n 1 "$2.port")"
}
