# Sourced by the e2e tests on the real Azure SEV-SNP sample (Trustee's JSON evidence); not a
# test itself. Sets VEC, S (the sample's folder) and ROOTS (AMD's Milan ASK and ARK); exits 77
# (skipped) when the shared test vectors are not there.
VEC=${CVMATTEST_VECTORS:-}
S=$VEC/tpm/azure-snp-vtpm-coco-trustee
ROOTS=$VEC/snp/roots/ask_ark_milan.pem
if [ -z "$VEC" ] || [ ! -f "$S/evidence-v2.json" ] || [ ! -f "$ROOTS" ]; then
    echo "SKIP: shared test vectors not found (set CVMATTEST_VECTORS): tpm/azure-snp-vtpm-coco-trustee"
    exit 77
fi
