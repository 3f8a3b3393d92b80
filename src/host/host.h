/*
 * Host readiness checks (cvmattest host-check, docs/host-check.md): can this machine launch
 * SEV-SNP or TDX confidential VMs, and attest them?
 *
 * Each requirement becomes one check in a tree (one subtree per TEE) with a state:
 *  - pass:    the requirement is met;
 *  - fail:    it is known not to be met (the fix hint says what to do and quotes the kernel
 *             message users search for);
 *  - unknown: it could not be determined here (not root, msr module not loaded, a file that
 *             is not there, a virtual machine that does not pass the MSR through). Never fail.
 * A TEE is ready when every check of its launch subtrees passes, not ready when one fails, and
 * undecided when none fails but some are unknown (a part without a recorded microcode minimum,
 * no root): not reported as a failure of the host. Attestation readiness (TDX: quote
 * generation service, PCCS, registration) is reported beside it.
 *
 * What it reads, always under opts->root ("/" for the running machine): proc/, sys/, boot/,
 * dev/, usr/bin and usr/share (QEMU, OVMF), var/run (the QGS socket). Under another root every
 * path is resolved inside it (openat2 RESOLVE_IN_ROOT: "..", absolute and relative symlinks
 * stay in the tree), and the kernel release names a config file only when it is one path
 * component. On the running machine
 * CPUID is the cpuid instruction, MSRs are read through the msr driver (/dev/cpu/0/msr) and
 * /dev/sev answers the SEV and SNP PLATFORM_STATUS ioctls. Under another root, stand-in files
 * replace them (docs/host-check.md, "Prepared trees"): ROOT/cvmattest-cpuid/0xLLLLLLLL holds
 * "EAX EBX ECX EDX" in hex; ROOT/dev/cpu/0/msr must exist (the msr module) and
 * ROOT/cvmattest-msr/0xNNNNNNNN holds the MSR's value in hex; ROOT/dev/sev must exist and
 * ROOT/cvmattest-ioctl/sev_platform_status (12 bytes) and snp_platform_status (32 bytes) hold
 * the ioctls' output structures in the kernel's uapi layout (linux/psp-sev.h).
 * Nothing is written. The PCCS check makes one HTTP request (opts->pccs_url; by default
 * none under another root, which is all that is read).
 */
#ifndef CVMA_HOST_HOST_H
#define CVMA_HOST_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/util.h"

enum cvma_host_state { CVMA_HOST_PASS, CVMA_HOST_FAIL, CVMA_HOST_UNKNOWN };

struct cvma_host_check {
    char id[48];          /* stable, dotted: "snp.bios.smee" */
    char name[96];        /* human title */
    const char *category; /* cpu_support, bios_configured, kernel, firmware, vmm, attestation */
    const char *description;
    enum cvma_host_state state;
    char message[384];  /* what was found */
    char fix_hint[512]; /* what to do (fail and unknown only) */
    int parent;         /* index of the parent group, -1 for a TEE's root */
    bool group;         /* state is the combination of its children */
};

struct cvma_host_report {
    struct cvma_host_check *checks; /* parents before their children */
    size_t n, cap;
    bool snp_ready, tdx_ready;
    enum cvma_host_state snp_state, tdx_state; /* combined state of each TEE's launch checks */
    /* Neither TEE is ready and one has no failing check, only unknown ones: whether this host
     * can run confidential VMs is not decided (the CLI's exit 3). */
    bool undecided;
    enum cvma_host_state tdx_attestation; /* combined state of tdx.attestation */
    char root[256];
};

struct cvma_host_options {
    const char *root;     /* NULL or "/" = this machine */
    const char *pccs_url; /* NULL = https://localhost:8081 for "/", "none" under another root;
                           * "none" = not checked (unknown); else a base URL as
                           * cvma_http_base_url_ok has it (collateral/http.h): no user
                           * information, query or fragment */
    long pccs_timeout_s;  /* <= 0: 5 */
};

/* Runs every check. CVMA_OK and *out the report (the caller frees it with
 * cvma_host_report_free). Never fails on what it finds: that is in the report. Otherwise *out
 * is NULL, err (may be NULL) says why, and the status is CVMA_E_USAGE (a root that is empty or
 * does not fit in the report, a pccs_url that is neither "none" nor a base URL: err does not
 * quote it, as it may hold a password), CVMA_E_IO (the root cannot be opened, or cannot be read
 * confined to it: openat2 with RESOLVE_IN_ROOT, Linux 5.6, is needed) or CVMA_E_NOMEM. */
CVMA_MUST_USE enum cvma_status cvma_host_check_run(const struct cvma_host_options *opts,
                                                   struct cvma_host_report **out, char *err,
                                                   size_t err_len);
void cvma_host_report_free(struct cvma_host_report *r);

/* The report as JSON (docs/host-check.md; the shape of `snphost ok --json`); NULL on OOM. */
json_t *cvma_host_report_json(const struct cvma_host_report *r);
/* The report as text. */
void cvma_host_report_print(const struct cvma_host_report *r, FILE *f);

const char *cvma_host_state_name(enum cvma_host_state s);
/* The check with this id, or NULL. */
const struct cvma_host_check *cvma_host_report_find(const struct cvma_host_report *r,
                                                    const char *id);

#endif
