/*
 * Verification options shared by every evidence kind, and the attestation result
 * (docs/results.md): status, trust anchor, reasons, claims and platform.
 */
#ifndef CVMA_RESULT_RESULT_H
#define CVMA_RESULT_RESULT_H

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/json_out.h"
#include "common/verdict.h"
#include "crypto/crypto.h"

struct cvma_chain_cache;
struct cvma_named_part;

struct cvma_collateral_hooks; /* collateral/stats.h */

struct cvma_verify_opts {
    time_t at;                                      /* verification time (--at, else now) */
    bool allow_trailing_data;                       /* --allow-trailing-data */
    const char *collateral_dir;                     /* --collateral DIR, or NULL */
    const struct cvma_named_part *collateral_parts; /* from the evidence bundle (borrowed) */
    size_t n_collateral_parts;
    bool collateral_parts_only;       /* read collateral from the parts only: no directory, cache
                                       * or network (preparing a bundle's collateral once) */
    bool offline;                     /* --offline: never touch the network */
    const char *kds_base_url;         /* NULL: AMD KDS */
    const char *pcs_base_url;         /* NULL: Intel PCS (or a PCCS with the same API) */
    int64_t collateral_grace_seconds; /* stale TDX collateral within this: a warning */
    const char *cache_dir;            /* NULL: $CVMATTEST_CACHE, XDG cache */
    X509 **trust_roots;               /* --trust-root certificates (borrowed) */
    const uint8_t (*trust_root_spki)[32]; /* optional: SHA-256 of each root's public key,
                                           * precomputed for cache keys; NULL: computed */
    size_t n_trust_roots;
    bool has_report_data; /* --report-data */
    uint8_t report_data[64];
    bool has_nonce; /* --nonce: a TPM quote's expected extraData (nonce_len 0: none) */
    uint8_t nonce[64];
    size_t nonce_len;
    struct cvma_chain_cache *chain_cache; /* optional, borrowed */
    bool no_qe_report_memo; /* TDX: verify the QE report signature even when remembered */
    /* --collateral-max-age: cached CRLs, TCB Info and QE Identity fetched longer ago are
     * fetched again when online; 0: 24 h; negative: on every use (collateral/cache.h). */
    int64_t collateral_max_age;
    enum cvma_p384_backend p384_backend; /* SEV-SNP report signature: 0 = nettle (default) */
    int snp_product; /* --product: an enum cvma_snp_product for reports that name none (v2);
                      * 0 (unknown): from the report CPUID or the VCEK/VLEK productName */
    /* The verifier's counters (and later stores) for the collateral path; NULL: none. */
    const struct cvma_collateral_hooks *collateral_hooks;
};

/* The collateral part called name (a bundle's part of that role), NULL when there is none. */
const struct cvma_named_part *cvma_verify_opts_part(const struct cvma_verify_opts *opts,
                                                    const char *name);

/*
 * The platform identity a verifier read from the evidence (DESIGN.md "Provider binding"),
 * typed: registry binding compares its bytes; the JSON "platform" object is produced from it
 * only where the result is written out (cvma_platform_to_json).
 */
enum cvma_platform_vendor { CVMA_PLATFORM_VENDOR_NONE = 0, CVMA_PLATFORM_AMD, CVMA_PLATFORM_INTEL };
enum cvma_platform_id_type {
    CVMA_PLATFORM_ID_NONE = 0,
    CVMA_PLATFORM_CHIP_ID, /* AMD CHIP_ID, 64 bytes as reported */
    CVMA_PLATFORM_PPID,    /* Intel PPID, 16 bytes */
    CVMA_PLATFORM_VLEK,    /* AMD VLEK: the cspID without "CN=" (text) */
};

#define CVMA_PLATFORM_ID_MAX          253 /* the longest id: a VLEK cspID (CVMA_REG_CSP_MAX) */
#define CVMA_PLATFORM_CHIP_ID_LEN     64
#define CVMA_PLATFORM_PPID_LEN        16
#define CVMA_PLATFORM_LABELS_MAX      16  /* CVMA_REG_LABELS_MAX */
#define CVMA_PLATFORM_LABEL_KEY_MAX   64  /* CVMA_REG_LABEL_KEY_MAX */
#define CVMA_PLATFORM_LABEL_VALUE_MAX 255 /* CVMA_REG_LABEL_VALUE_MAX */
#define CVMA_PLATFORM_PROVIDER_MAX    64  /* CVMA_REG_PROVIDER_MAX */

struct cvma_platform_label {
    char key[CVMA_PLATFORM_LABEL_KEY_MAX + 1];
    char value[CVMA_PLATFORM_LABEL_VALUE_MAX + 1];
};

struct cvma_platform {
    bool present; /* a verifier named a platform (else the JSON object is {}) */
    enum cvma_platform_vendor vendor;
    enum cvma_platform_id_type id_type;
    bool has_id; /* false: no identifier (a masked CHIP_ID: JSON null) */
    uint8_t id[CVMA_PLATFORM_ID_MAX];
    size_t id_len; /* CHIP_ID 64, PPID 16, VLEK 1..253 characters (no NUL) */
    /* VLEK evidence whose CHIP_ID is not masked: a registry may list the chip too. */
    bool has_chip_id;
    uint8_t chip_id[CVMA_PLATFORM_CHIP_ID_LEN];
    /* Set by registry binding. */
    bool bound;
    bool bound_via_log;    /* bound by a registry checked against its provider's witnessed log */
    bool bound_via_lookup; /* bound by a lookup registry's answer (no signature, no log) */
    char provider[CVMA_PLATFORM_PROVIDER_MAX + 1];
    size_t n_labels;
    struct cvma_platform_label labels[CVMA_PLATFORM_LABELS_MAX];
};

const char *cvma_platform_vendor_name(enum cvma_platform_vendor v);   /* "amd", NULL for none */
const char *cvma_platform_id_type_name(enum cvma_platform_id_type t); /* "chip_id", NULL */
/* The id as the result JSON spells it: hex, or the cspID text; "" when there is none. */
void cvma_platform_id_string(const struct cvma_platform *pl, char *out, size_t out_size);
/* The JSON "platform" object of DESIGN.md ({} when not present); new reference, NULL: no memory. */
json_t *cvma_platform_to_json(const struct cvma_platform *pl);
/*
 * Reads a "platform" object of our result JSON (an earlier result, a test fixture) into *pl.
 * Lenient: an unknown vendor or id_type is kept as NONE, an id that is not of the type's form
 * leaves has_id false. Returns false when something was present but could not be read (the
 * caller may treat it as a platform unlike any other).
 */
bool cvma_platform_from_json(const json_t *j, struct cvma_platform *pl);
/*
 * Same vendor, id type and identifier, and the same chip_id or none on both (a VLEK platform's
 * id names its provider, the chip_id the host). A platform without an identifier (a masked
 * CHIP_ID) is not the same as any, not even another without one: nothing shows it is.
 */
bool cvma_platform_same(const struct cvma_platform *a, const struct cvma_platform *b);

/*
 * The claims a verifier read from authenticated evidence, typed (docs/results.md "claims").
 * The fields every kind has, then the kind's own claims behind a small table of functions, so
 * that src/result/ knows no vendor: the kind's JSON object is produced only where the result
 * is written out (cvma_result_claims_json). Appraisal reads the kind's struct through the
 * kind's accessor (cvma_snp_claims_of, cvma_tdx_claims_of).
 */
#define CVMA_CLAIMS_MEASUREMENT_MAX 64

struct cvma_claims_ops {
    const char *key;                      /* the JSON key of the kind's object: "snp", "tdx" */
    json_t *(*to_json)(const void *kind); /* the kind's object (new reference), NULL: no memory */
    /* The kind's object written as text (false: no memory); NULL: to_json's tree is written. A
     * kind that has it makes to_json a parse of what it writes: one definition of the object. */
    bool (*write)(struct cvma_strbuf *b, const void *kind);
    void (*free)(void *kind);
    /* A kind whose claims hold other kinds' (azure-snp, azure-tdx, svsm-vtpm: the hardware
     * report's and the TPM quote's): the held claims of the kind ops describes, else NULL.
     * NULL for a kind that holds none. */
    const void *(*part)(const void *kind, const struct cvma_claims_ops *ops);
};

struct cvma_claims {
    bool verified; /* the evidence signature verified: everything below is set (else JSON {}) */
    /* A TEE hardware report (SEV-SNP report, TDX quote) is among what verified: the evidence is
     * one (sev-snp, tdx) or holds one (azure-snp, azure-tdx, svsm-vtpm). False for a bare TPM
     * quote, which no hardware vouches for: the EAR vector then claims neither genuine hardware
     * nor TEE-encrypted memory (docs/results.md). */
    bool hardware;
    uint8_t measurement[CVMA_CLAIMS_MEASUREMENT_MAX];
    size_t measurement_len; /* 48: SEV-SNP MEASUREMENT, TDX MRTD */
    uint8_t report_data[64];
    bool debug;
    const struct cvma_claims_ops *ops; /* the kind's table, NULL: no kind object */
    void *kind;                        /* owned: ops->free releases it */
    /* Owned: the claims of an event log that replayed to the verified registers (claims.
     * eventlog, docs/eventlog.md), NULL when no log came with the evidence or it did not. */
    json_t *eventlog;
};

/* Replaces the kind's claims (freeing the previous ones); c owns kind afterwards. */
void cvma_claims_set_kind(struct cvma_claims *c, const struct cvma_claims_ops *ops, void *kind);
/* The kind's struct when c holds claims of the kind ops describes, else NULL. */
const void *cvma_claims_kind(const struct cvma_claims *c, const struct cvma_claims_ops *ops);
/* The verified claims of the kind ops describes in c: c's kind's own, or those its kind holds
 * (ops->part); NULL when there are none. */
const void *cvma_claims_find(const struct cvma_claims *c, const struct cvma_claims_ops *ops);
/* Frees the kind's claims and clears c. */
void cvma_claims_cleanup(struct cvma_claims *c);

struct cvma_result {
    enum cvma_result_status status;
    const char *tee; /* "sev-snp", "tdx", "tpm" */
    time_t verified_at;
    char trust_anchor[96]; /* "amd-ark-milan", "test-root:<sha256>", "" when none */
    struct cvma_verdict verdict;
    struct cvma_claims claims; /* verified false until the evidence signature verified */
    struct cvma_platform platform;
    bool undecided;  /* collateral unavailable: exit 3 */
    char *policy_id; /* owned: the policy appraised against (EAR), or NULL */
    /* EAR eat_nonce: hex of the expected report data as given, else of the expected TPM
     * quote nonce; "" when none */
    char eat_nonce[129];
};

void cvma_result_init(struct cvma_result *res, const char *tee, time_t at);
void cvma_result_cleanup(struct cvma_result *res);
/* Computes the final status (cvma_verdict_finish). */
void cvma_result_finish(struct cvma_result *res);
/* The exit code (README.md) for a finished result. */
int cvma_result_exit_code(const struct cvma_result *res);

/*
 * Fetched collateral failed its own checks, which says nothing about the evidence (a hostile
 * network, mirror or cache can only withhold collateral, docs/collateral.md): the errors
 * recorded from reason index `since` are replaced by COLLATERAL_UNAVAILABLE (undecided, exit 3)
 * quoting the first of them. source names where it came from ("AMD KDS"), removed what the
 * caller has already taken out of the cache, so the next verification fetches it again.
 */
void cvma_result_fetched_collateral_refused(struct cvma_result *res, size_t since,
                                            const char *source, const char *removed);
/*
 * Collateral the verifier chose itself (fetched, or from its cache or the fleet's) does not
 * cover the verification time `at`: `item` was issued at `from`, after `at`, or its window
 * ended at `to`, before `at`. Only the evidence's own collateral (--collateral DIR, a bundle's
 * parts) is judged by its window; the verifier's choice says nothing about the evidence, and the
 * item is sound, so nothing is removed from the cache. The errors recorded from reason index
 * `since` are replaced by COLLATERAL_UNAVAILABLE (undecided, exit 3) naming the window and how
 * to judge evidence at that time, and quoting the first of them. source as above.
 */
void cvma_result_fetched_collateral_untimely(struct cvma_result *res, size_t since,
                                             const char *source, const char *item, time_t from,
                                             time_t to, time_t at);
/*
 * The result's JSON text (docs/results.md), compact, appended to b; spans[i] is set to where the
 * value of the top-level member names[i] is (len 0: absent; n may be 0). Written without a
 * jansson tree: a service writes one for every request. False when memory ran out.
 */
bool cvma_result_write(struct cvma_strbuf *b, const struct cvma_result *res,
                       const char *const *names, struct cvma_json_span *spans, size_t n);
/* The result as JSON (new reference): the tree of cvma_result_write's text. */
json_t *cvma_result_to_json(const struct cvma_result *res);
/*
 * The JSON "claims" object (new reference, NULL: no memory): {} when nothing verified, else
 * measurement, report_data, debug, then the kind's object under its key.
 */
json_t *cvma_result_claims_json(const struct cvma_result *res);

#endif
