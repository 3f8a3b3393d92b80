/* Private API of the policy module: the loaded form of a policy (docs/policy.md). */
#ifndef CVMA_APPRAISE_POLICY_INTERNAL_H
#define CVMA_APPRAISE_POLICY_INTERNAL_H

#include "appraise/policy.h"

#define POL_MAX_LIST   256u              /* entries in one list of values */
#define POL_MAX_STRING 256u              /* characters in a name (policy name, provider) */
#define POL_MAX_GRACE  (366ll * 86400ll) /* a year, as verify --collateral-grace: more is a typo */

/* A set of allowed byte strings of one length ("one value or a list"). */
struct pol_values {
    bool set;
    size_t n;
    size_t len; /* bytes per value */
    uint8_t *v; /* n * len bytes, owned */
};

/* A component-wise TCB minimum; -1 = component not constrained. */
struct pol_tcb {
    bool set;
    int fmc, bootloader, tee, snp, microcode;
};

enum pol_product { POL_MILAN = 0, POL_GENOA, POL_TURIN, POL_N_PRODUCTS };

struct pol_tcb_rule {
    struct pol_tcb all;                        /* applies to every product */
    struct pol_tcb by_product[POL_N_PRODUCTS]; /* applies to that product only (too) */
};

/* One named bit of guest POLICY or PLATFORM_INFO and the policy key that governs it. */
struct pol_bit_key {
    const char
            *key; /* "allow_smt": a false value forbids the bit; "require_...": true requires it */
    const char *name; /* the specification's name, for details: "SMT" */
    unsigned bit;
    bool require;
};
#define POL_N_GUEST_POLICY_BITS  8u
#define POL_N_PLATFORM_INFO_BITS 8u
extern const struct pol_bit_key cvma_pol_guest_policy_bits[POL_N_GUEST_POLICY_BITS];
extern const struct pol_bit_key cvma_pol_platform_info_bits[POL_N_PLATFORM_INFO_BITS];

/* Bits a report may set only when allowed (forbid) and bits it must set (require). */
struct pol_bits {
    bool set;
    uint64_t forbid;
    uint64_t require;
    bool reject_unknown;
    uint64_t known; /* bits the specification defines */
    bool has_min_abi;
    unsigned min_abi_major, min_abi_minor;
};

struct pol_snp {
    bool present;
    int allow_debug; /* -1 unset, 0, 1 */
    struct pol_values measurements, host_data, family_id, image_id, report_id_ma, chip_ids;
    struct pol_values id_key_digests, author_key_digests;
    bool require_author_key;
    struct pol_tcb_rule minimum_tcb, minimum_launch_tcb;
    int vmpl; /* -1 unset */
    bool has_min_guest_svn;
    uint32_t min_guest_svn;
    struct pol_bits guest_policy, platform_info;
    unsigned products; /* bit per enum pol_product; 0 = any */
    bool has_min_fw_version;
    unsigned min_fw_major, min_fw_minor;
    int min_fw_build; /* -1 unset */
    bool require_committed_equals_current;
};

/* TDX TCB statuses a policy may accept (bit per entry of cvma_pol_tdx_status_names). */
#define POL_TDX_N_STATUSES 8u
extern const char *const cvma_pol_tdx_status_names[POL_TDX_N_STATUSES];

struct pol_tdx {
    bool present;
    int allow_debug; /* -1 unset, 0, 1 */
    struct pol_values mr_td, rtmr[4], mr_config_id, mr_owner, mr_owner_config, mr_seam,
            mr_service_td;
    bool has_min_tee_tcb_svn;
    uint8_t min_tee_tcb_svn[16];
    bool has_td_attributes;
    uint64_t td_attributes;
    bool has_xfam;
    uint64_t xfam;
    bool has_accepted;
    unsigned accepted; /* bit i = cvma_pol_tdx_status_names[i] */
    int64_t grace;     /* -1 unset */
};

/* TPM PCR values allowed per bank (sha1, sha256, sha384, sha512) and index 0..23, and the
 * AKs the policy trusts (SHA-256 of each one's SubjectPublicKeyInfo, claims.tpm.ak.spki_sha256):
 * the only thing that vouches for the AK of a quote no hardware report binds. */
#define POL_TPM_BANKS 4
#define POL_TPM_PCRS  24
struct pol_tpm {
    bool present;
    bool has_pcrs; /* some pcrs[][] is set */
    struct pol_values pcrs[POL_TPM_BANKS][POL_TPM_PCRS];
    struct pol_values ak_spki_sha256;
};
/* Bank b of pol_tpm.pcrs: its name ("sha1", "sha256", "sha384", "sha512") and digest size. */
const char *cvma_pol_tpm_bank_name(size_t b);
size_t cvma_pol_tpm_bank_size(size_t b);

/* One required event: in register pcr (TCG log) or rtmr (CCEL), of type (NULL: any), with
 * digest (len 0: any) and a digest that is the bank's hash of data (NULL: any). */
struct pol_event_rule {
    int pcr, rtmr; /* exactly one is >= 0 */
    char *type;    /* "EV_IPL" or "0x%08x", as claims.eventlog.measured_events names them */
    uint8_t digest[64];
    size_t digest_len;
    char *data;
    bool before_separator; /* the event must stand before the register's first separator */
};

/* Rules over claims.eventlog (a log that replayed to the verified registers). */
struct pol_eventlog {
    bool present;
    bool require_secure_boot;
    char *kernel_cmdline; /* exact, or NULL */
    char **cmdline_contains;
    size_t n_cmdline_contains;
    char **boot_apps; /* lowercase hex digests: every measured EFI boot application must have one */
    size_t n_boot_apps;
    struct pol_event_rule *events; /* required_events */
    size_t n_events;
};

/* Rules over an Azure CVM's runtime claims (claims.azure.runtime_claims): each flag -1 (not
 * constrained), 0 or 1 (the claim must be exactly that). */
struct pol_azure {
    bool present;
    int secure_boot, tpm_enabled, console_enabled;
    char **vm_unique_ids; /* one of these (case-insensitive), or none given */
    size_t n_vm_unique_ids;
};

/* The evidence kinds a policy names in allowed_tees. "sev-snp" does not cover "azure-snp"
 * (nor "tdx" "azure-tdx"): a policy accepts Azure evidence only when it says so. */
enum pol_tee {
    POL_TEE_SNP = 1u << 0,
    POL_TEE_TDX = 1u << 1,
    POL_TEE_TPM = 1u << 2,
    POL_TEE_AZURE_SNP = 1u << 3,
    POL_TEE_AZURE_TDX = 1u << 4,
    POL_TEE_SVSM_VTPM = 1u << 5,
};
#define POL_TEE_AZURE (POL_TEE_AZURE_SNP | POL_TEE_AZURE_TDX)
#define POL_TEE_COUNT 6

/* The kinds' names, indexed by bit position (POL_TEE_SNP is 1u << 0: "sev-snp"). */
extern const char *const cvma_pol_tee_names[POL_TEE_COUNT];
/* The POL_TEE_ bit of a kind's name (res->tee, an allowed_tees entry); 0 for no such name
 * (NULL included). */
unsigned cvma_pol_tee_bit(const char *name);

struct cvma_policy {
    char *name;
    char id[7 + 64 + 1]; /* "sha256:" + hex */
    bool has_report_data;
    uint8_t report_data[64];
    char **providers;
    size_t n_providers;
    char **log_providers; /* registry_log_required: providers bound only through their log */
    size_t n_log_providers;
    unsigned allowed_tees; /* enum pol_tee bits; 0 = any */
    struct pol_snp snp;
    struct pol_tdx tdx;
    struct pol_tpm tpm;
    struct pol_eventlog eventlog;
    struct pol_azure azure;
};

/*
 * The rules on a TPM quote's AK and registers, on the event log replayed to the verified
 * registers and on an Azure CVM's runtime claims, on a verified result (policy_eventlog.c): t
 * the tpm section when it applies to the evidence's kind (else NULL), e the eventlog section
 * (NULL when absent), a the azure section when it applies (else NULL). launch_pinned: the
 * policy pins the launch identity of the hardware report that binds a vTPM's AK
 * (cvma_policy_pins_launch). When nothing vouches for the quote's AK (TPM_AK_NOT_BOUND,
 * VTPM_AK_EK_UNPROVEN, VTPM_CREDENTIAL_MISMATCH; a binding report refused for an error only the
 * policy waived; or azure-snp, azure-tdx, svsm-vtpm without launch_pinned) and
 * t->ak_spki_sha256 does not list it, the tpm.pcrs, eventlog and azure rules fail with one
 * POLICY_TPM_AK and are not looked at: those registers and claims could be anyone's.
 */
void cvma_policy_appraise_quote(const struct pol_tpm *t, const struct pol_eventlog *e,
                                const struct pol_azure *a, bool launch_pinned,
                                struct cvma_result *res);

/* Parses "86400", "7d", "12h", "30m", "45s", "1w", "1d12h" into seconds (<= POL_MAX_GRACE). */
CVMA_MUST_USE bool cvma_policy_parse_duration(const char *s, int64_t *out);

#endif
