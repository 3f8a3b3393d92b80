/*
 * Tests: sets of files in the shared vectors (CVMATTEST_VECTORS, MANIFEST.md) that more than
 * one test reads. The caller checked tu_vectors() (TU_NEED_VECTORS).
 */
#ifndef CVMA_TESTS_TU_VECTORS_H
#define CVMA_TESTS_TU_VECTORS_H

#include "testutil.h"

/* The real UEFI event logs of tpm/eventlogs. */
static const char *const tu_eventlogs[] = {
        "tpm/eventlogs/goattestation-crypto_agile_eventlog.bin",
        "tpm/eventlogs/goattestation-sb_cert_eventlog.bin",
        "tpm/eventlogs/goattestation-ubuntu_2104_shielded_vm_no_secure_boot_eventlog.bin",
        "tpm/eventlogs/gotpmtools-cos-101-amd-sev.bin",
        "tpm/eventlogs/gotpmtools-rhel8-uefi.bin",
        "tpm/eventlogs/gotpmtools-ubuntu-2404-amd-sevsnp.bin",
};

/* The files of a DCAP collateral directory in its bare form (inner objects + .sig.hex). */
static const char *const tu_collateral_files[] = {"tcb_info.json",
                                                  "tcb_info.sig.hex",
                                                  "qe_identity.json",
                                                  "qe_identity.sig.hex",
                                                  "tcb_info_issuer_chain.pem",
                                                  "qe_identity_issuer_chain.pem",
                                                  "pck_crl.der",
                                                  "root_ca_crl.der"};

/* Copies the vectors' file rel to dir/name. */
static inline void tu_copy_vec(const char *rel, const char *dir, const char *name)
{
    char *from = tu_vec(rel), *to = tu_path(dir, name);
    tu_copy(from, to);
    free(from);
    free(to);
}

/* A fresh directory (tu_tmpdir) holding tu_collateral_files of the vectors' directory rel. */
static inline char *tu_collateral_dir(const char *rel)
{
    char *d = tu_tmpdir();
    char *src = tu_vec(rel);
    for (size_t i = 0; i < sizeof tu_collateral_files / sizeof tu_collateral_files[0]; i++) {
        char *from = tu_path(src, tu_collateral_files[i]), *to = tu_path(d, tu_collateral_files[i]);
        tu_copy(from, to);
        free(from);
        free(to);
    }
    free(src);
    return d;
}

#endif
