/*
 * Evidence collection inside a confidential VM (docs/collect.md): configfs-tsm first (one
 * interface for SEV-SNP and TDX), then /dev/sev-guest (SNP_GET_EXT_REPORT with its
 * certificate table) and /dev/tdx_guest. The raw bytes are kept before anything is parsed;
 * the result becomes an evidence bundle (docs/bundle.md) that `verify` takes as is.
 *
 * Test trees: tsm_root and dev_root may name plain directories laid out like
 * /sys/kernel/config/tsm and /dev (the simulator writes them: `sim snp|tdx --tsm-tree DIR
 * --dev-tree DIR`). A plain directory cannot act like configfs or a character device, so:
 *  - configfs-tsm: after mkdir of an entry, when the entry has no "provider" attribute (a
 *    plain directory: the kernel did not populate it) and tsm_root was given, the regular
 *    files of tsm_root/report/.template/ are copied into it, as the kernel creates the
 *    attributes; the entry's files are removed before its rmdir; a template without an
 *    outblob stands for a TEE that answers each inblob: collect waits (up to
 *    CVMA_COLLECT_WAIT_MS) for a responder (a test) to put outblob into the entry;
 *  - /dev/sev-guest: when it is a regular file (not a character device), SNP_GET_EXT_REPORT
 *    is replaced by reading DIR/sev-guest.ext-report (the ioctl's response buffer: the
 *    MSG_REPORT_RSP with the report at 0x20) and DIR/sev-guest.certs (the certificate
 *    table; absent: the host has none, and the plain SNP_GET_REPORT is used);
 *  - /dev/tdx_guest: when it is a regular file, DIR/tdx_guest.report0 holds the TDREPORT.
 * The stand-ins' files, and every configfs-tsm attribute (configfs makes each a regular
 * file), are read as regular files only, without waiting: a FIFO there is refused at once,
 * never an open that waits for a writer, so a collection always ends within its bounds.
 * A simulated tree cannot sign the nonce it is given: the test chooses the nonce first and
 * the simulator precomputes a report carrying it (sim --report-data NONCE). Collection
 * checks that the report carries the nonce, so a mismatch is caught.
 */
#ifndef CVMA_COLLECT_COLLECT_H
#define CVMA_COLLECT_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define CVMA_SVSM_VTPM_GUID      "c476f1eb-0123-45a5-9641-b4e7dde5bfe3"
#define CVMA_COLLECT_TSM_ROOT    "/sys/kernel/config/tsm"
#define CVMA_COLLECT_DEV_ROOT    "/dev"
#define CVMA_COLLECT_MAX_BLOB    (1u << 20)
#define CVMA_COLLECT_MAX_CERTS   16
#define CVMA_COLLECT_GEN_RETRIES 3
#define CVMA_SNP_CERTTABLE_MAX   (64u << 10)
/* The certificate buffer Linux's sev-guest driver passes on SNP_GET_EXT_REPORT at most
 * (SEV_FW_BLOB_MAX_SIZE in drivers/virt/coco/sev-guest; a larger certs_len is EINVAL). */
#define CVMA_SEV_GUEST_CERTS_MAX (16u << 10)
#define CVMA_COLLECT_WAIT_MS     10000

/* One entry of the SNP extended-report certificate table (docs/snp-report.md §10). */
struct cvma_snp_cert_entry {
    uint8_t guid[16];
    char guid_str[37];
    const char *bundle_name; /* vcek.der, vlek.der, ask.pem, asvk.pem, ark.pem, crl.der;
                              * NULL: a GUID this version does not know (kept, not bundled) */
    bool pem;                /* bundle_name wants PEM: the DER is wrapped */
    struct cvma_span data;   /* borrowed from the table */
};

struct cvma_snp_certtable {
    struct cvma_snp_cert_entry e[CVMA_COLLECT_MAX_CERTS];
    size_t n;
};

/*
 * Parses a GHCB certificate table (untrusted: the host fills it). Entries up to the all-zero
 * terminator; each blob must lie after the header and inside the table. The ASK GUID is named
 * asvk.pem when the table holds a VLEK. False with a message in err on a malformed table (no
 * terminator, more than CVMA_COLLECT_MAX_CERTS entries, a GUID twice, a blob outside the
 * table); out then holds no entries (n 0).
 */
CVMA_MUST_USE bool cvma_snp_certtable_parse(const uint8_t *p, size_t len,
                                            struct cvma_snp_certtable *out, char *err,
                                            size_t err_len);

struct cvma_collect_opts {
    const char *tsm_root; /* NULL: CVMA_COLLECT_TSM_ROOT (a tree given here enables the
                           * template stand-in described above) */
    const char *dev_root; /* NULL: CVMA_COLLECT_DEV_ROOT */
    uint8_t nonce[64];    /* REPORT_DATA, zero-padded */
    size_t nonce_len;
    /* Ask the SVSM for its vTPM service report (configfs-tsm service_provider "svsm",
     * Linux 6.10+): a VMPL 0 report with REPORT_DATA = SHA-512(nonce(64) || manifest), the
     * manifest being the vTPM EK's TPMT_PUBLIC (in manifestblob). */
    bool svsm_vtpm;
    /* Tests: called after each attribute collect writes into the entry (privlevel, the
     * service_* options, inblob), and after outblob was read, before generation is read
     * again. */
    void (*after_write)(const char *entry_dir, const char *attr, unsigned attempt, void *arg);
    void (*after_outblob)(const char *entry_dir, unsigned attempt, void *arg);
    void *hook_arg;
};

struct cvma_collected {
    const char *kind;                /* "sev-snp" or "tdx" */
    const char *via;                 /* "configfs-tsm", "/dev/sev-guest" */
    char provider[32];               /* configfs-tsm provider, "" otherwise */
    unsigned attempts;               /* outblob reads (more than 1: generation changed) */
    bool svsm;                       /* privlevel_floor > 0: running under an SVSM */
    unsigned privlevel;              /* privlevel written (when svsm, not svsm_service) */
    bool svsm_service;               /* the SVSM's vTPM service report; manifest holds the
                                      * manifest (the vTPM EK's TPMT_PUBLIC) */
    char ext_failed[96];             /* /dev/sev-guest: why the extended request failed
                                      * (errno and exitinfo2); "" otherwise */
    uint32_t certs_over;             /* /dev/sev-guest: the size of certificate table the host
                                      * asked for, over certs_limit (not read: the plain
                                      * report used); 0 otherwise */
    uint32_t certs_limit;            /* what the driver passes: CVMA_SEV_GUEST_CERTS_MAX */
    struct cvma_buf evidence;        /* outblob, or the report from the ioctl response */
    struct cvma_buf aux;             /* auxblob or the ioctl's certificate table (may be empty) */
    struct cvma_buf manifest;        /* manifestblob (may be empty) */
    struct cvma_buf tdreport;        /* /dev/tdx_guest TDREPORT (no quote without configfs-tsm) */
    struct cvma_snp_certtable certs; /* parsed from aux (SNP) */
};

void cvma_collected_free(struct cvma_collected *c);

/*
 * Collects evidence for opts->nonce. CVMA_OK with c filled; CVMA_E_IO when no interface
 * works (err says what was looked for and why each failed), or when configfs-tsm gave a
 * report whose auxblob or manifestblob is there but cannot be read (err names it; no other
 * interface is asked, whose report would lack it; c->evidence holds the outblob read, to be
 * kept raw); CVMA_REJECTED when the TEE returned evidence that does not carry the nonce or
 * cannot be parsed (the raw bytes are in c all the same). err gets a one-line message.
 */
CVMA_MUST_USE enum cvma_status cvma_collect(const struct cvma_collect_opts *opts,
                                            struct cvma_collected *c, char *err, size_t err_len);

/* Writes c's raw bytes into dir (outblob, auxblob, manifestblob, tdreport, and each
 * certificate-table entry as cert-<guid>.bin). */
CVMA_MUST_USE enum cvma_status cvma_collected_write_raw(const struct cvma_collected *c,
                                                        const char *dir);

struct cvma_tpm_collected;

/* The bundle cvma_collected_write_bundle writes, as text into *out (malloc'd; free it). */
CVMA_MUST_USE enum cvma_status cvma_collected_bundle_text(const struct cvma_collected *c,
                                                          const struct cvma_tpm_collected *tpm,
                                                          char **out);

/* Writes the bundle: the evidence, and the certificate-table entries it knows as collateral
 * parts (docs/bundle.md), and the TPM parts of tpm (may be NULL). c NULL (or c->kind NULL):
 * a bundle of kind "tpm" with the TPM parts only. */
CVMA_MUST_USE enum cvma_status cvma_collected_write_bundle(const struct cvma_collected *c,
                                                           const struct cvma_tpm_collected *tpm,
                                                           const char *path);

/* ---------- the vTPM (collect_tpm.c, tss2-esys) ---------- */

#define CVMA_TPM_DEFAULT_PCRS "sha256:0-7"
#define CVMA_TPM_AZURE_HCL_NV 0x01400001u /* Azure's HCL report (docs/azure-cvm.md) */

/* A PCR selection: one bank, PCRs 0..23. */
struct cvma_tpm_pcr_list {
    uint16_t alg; /* TPM2_ALG_SHA1, _SHA256 or _SHA384 */
    uint32_t mask;
};

/* "sha256:0,1,7" or "0-7,14" (bank sha256 when not named); false when malformed. */
bool cvma_tpm_pcr_list_parse(const char *s, struct cvma_tpm_pcr_list *out);

struct cvma_tpm_collected {
    struct cvma_buf quote;      /* TPMS_ATTEST */
    struct cvma_buf signature;  /* TPMT_SIGNATURE */
    struct cvma_buf ak;         /* TPM2B_PUBLIC */
    struct cvma_buf pcrs;       /* JSON {"sha256": {"0": "<hex>", ...}} */
    struct cvma_buf hcl_report; /* NV 0x01400001 when present (Azure), else empty */
    /* NULL, or why NV 0x01400001 is there but was not read (then hcl_report is empty) */
    const char *hcl_problem;
};

void cvma_tpm_collected_free(struct cvma_tpm_collected *t);

/* Writes t's bytes into dir: tpm_quote.bin, tpm_signature.bin, tpm_ak.bin, tpm_pcrs.json,
 * hcl_report.bin (when read). */
CVMA_MUST_USE enum cvma_status cvma_tpm_collected_write_raw(const struct cvma_tpm_collected *t,
                                                            const char *dir);

/*
 * A quote over pcrs with extraData = nonce through tcti (a tss2 TCTI configuration:
 * "device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=N"), signed by an AK made as a primary
 * key under the endorsement hierarchy (restricted RSA-2048 RSASSA-SHA256: the same key for
 * the same TPM each time); the PCR values; Azure's HCL report when its NV index exists.
 * CVMA_OK; CVMA_E_IO with a message when the TPM cannot be reached or refuses.
 */
CVMA_MUST_USE enum cvma_status
cvma_tpm_collect(const char *tcti, const struct cvma_tpm_pcr_list *pcrs, const uint8_t *nonce,
                 size_t nonce_len, struct cvma_tpm_collected *t, char *err, size_t err_len);

/* ---------- attested TLS (collect_atls.c) ---------- */

struct cvma_atls_source;

/* Where collection looks (both NULL: the real /sys/kernel/config/tsm and /dev). */
struct cvma_collect_atls {
    const char *tsm_root;
    const char *dev_root;
};

/*
 * Collection as an attested-TLS evidence source (cvmattest/atls.h): each call collects
 * evidence with REPORT_DATA = the aTLS binding (configfs-tsm first, then /dev; as
 * cvma_collect) and answers with the bundle cvma_collected_bundle_text makes. ca must outlive
 * src. A failure is the status cvma_collect gave with its message (CVMA_E_IO: no interface,
 * naming what was looked for).
 */
void cvma_collect_atls_source(struct cvma_collect_atls *ca, struct cvma_atls_source *src);

/* The CPU flags guest-check reads (--cpuinfo), and the most it reads of them. */
#define CVMA_GUEST_CPUINFO     "/proc/cpuinfo"
#define CVMA_GUEST_CPUINFO_MAX (4u << 20)

/* What guest-check finds (docs/collect.md). */
struct cvma_guest_info {
    bool tsm;                          /* tsm_root/report exists */
    bool tsm_probed;                   /* a probe entry could be made and read */
    char tsm_probe_why[256];           /* when it could not be read, why, if known; or "" */
    char tsm_provider[32];             /* its provider, "" if none */
    unsigned long tsm_privlevel_floor; /* > 0: under an SVSM */
    bool tsm_service_provider;         /* service_provider exists (Linux 6.10+: SVSM services) */
    bool sev_guest;                    /* dev_root/sev-guest */
    bool tdx_guest;                    /* dev_root/tdx_guest */
    bool tpmrm;                        /* dev_root/tpmrm0 */
    bool tpm;                          /* dev_root/tpm0 */
    bool cpu_snp;                      /* cpuinfo flag sev_snp (hosts have it too: a hint only) */
    bool cpu_tdx;                      /* cpuinfo flag tdx_guest */
    bool cpuinfo_read;
    char cpuinfo_why[128]; /* why cpuinfo could not be read ("over 4194304 bytes"), or "" */
    const char *tee;       /* "sev-snp", "tdx" or NULL */
};

/* True when the first "flags" line of a cpuinfo text ("flags", blanks, ':', words separated
 * by blanks) has flag as a whole word. text starts with '\n' (so that a flags line at the
 * top is found like any other) and ends with '\0'; nothing past the line's end is read. */
bool cvma_cpuinfo_has_flag(const char *text, const char *flag);

/* Makes a configfs-tsm entry under root/report (tree: the template stand-in), reads its
 * provider, privlevel_floor (0 when absent) and whether service_provider exists, and
 * removes it. False when no entry could be made or it has no provider, or (why says so) when
 * its privlevel_floor is there but no number. */
bool cvma_tsm_probe(const char *root, bool tree, char *provider, size_t cap,
                    unsigned long *privlevel_floor, bool *service_provider, char *why,
                    size_t why_len);

void cvma_guest_probe(const char *tsm_root, const char *dev_root, const char *cpuinfo,
                      struct cvma_guest_info *out);

/* Whether cvma_collect can give evidence on the guest g describes: TDX only through
 * configfs-tsm (/dev/tdx_guest gives a TDREPORT, no quote), so its probe entry must have been
 * made and name the tdx_guest provider; SEV-SNP through either that (provider sev_guest) or
 * /dev/sev-guest. A configfs-tsm that is there but gave no entry (not root, no TSM provider)
 * does not count. */
bool cvma_guest_collect_possible(const struct cvma_guest_info *g);

#endif
