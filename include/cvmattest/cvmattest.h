/*
 * cvmattest: verify confidential-VM evidence (AMD SEV-SNP reports, Intel TDX quotes, TPM 2.0
 * quotes, and vTPMs bound to a hardware report: Azure confidential VMs, Coconut SVSM) and
 * appraise it against a policy and provider platform registries.
 *
 * The library has three objects:
 *
 *  - a verifier (struct cvma_verifier), configured once with everything that does not change
 *    from one piece of evidence to the next: trust roots, where collateral comes from and
 *    where it is cached, named policies, provider keys and registries, the result-signing
 *    key and limits;
 *  - evidence (struct cvma_evidence): a bundle of parts (docs/bundle.md): the hardware report
 *    or quote, and whatever came with it (certificates, collateral, later vTPM quotes and
 *    event logs). A bare report or quote, as bytes, hex or base64 text, is a one-part bundle;
 *  - a result (struct cvma_result): status, reasons, claims and platform, readable through
 *    the accessors below and as the result JSON of docs/results.md.
 *
 * Threads. A verifier is immutable after cvma_verifier_new except for its caches, which are
 * internally locked: one verifier may be used by any number of threads at once, each calling
 * cvma_verify with its own evidence, request and result. Shared between calls (and threads):
 * the configuration, the in-memory cache of verified certificate chains and collateral
 * outcomes (entries are reference counted, so an entry in use is never freed under a
 * caller), the on-disk collateral cache (files replaced atomically), the registry rollback
 * state (locked) and the result key's signer (cvma_result_sign: its signing contexts are
 * reused, each by one signature at a time, under a lock). Per call: the evidence (read only during
 * the call; one evidence object may be verified by several threads at once), the request and the
 * result. cvma_verifier_free must not race with any call on the same verifier.
 *
 * Errors. Functions returning enum cvma_status say whether they ran (CVMA_OK) or why not;
 * the status of the evidence itself (affirming / warning / contraindicated) and every reason
 * are in the result. cvma_status_exit_code maps a status to the CLI's exit codes. A
 * configuration or request value out of its documented range (an enum value that is none of
 * its names, a time outside 1970..9999) is CVMA_E_USAGE, never a verdict on the evidence.
 *
 * Pointers. A pointer argument may be NULL only where its comment says so (the *_free
 * functions take NULL, as free() does); any other NULL is a caller's error the library does
 * not check. In particular the result accessors take a result cvma_verify returned with
 * CVMA_OK: after any other status *out is NULL. Strings the library returns are valid as
 * long as the object they came from, unless the comment says they are malloc'd (free()).
 *
 * The library never prints, never exits and never aborts on bad input: every refusal is a
 * status, a reason in the result, or err. The functions below that take err fill it (one
 * line) whenever they return an error status, CVMA_E_NOMEM included ("out of memory").
 */
#ifndef CVMATTEST_CVMATTEST_H
#define CVMATTEST_CVMATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CVMA_API __attribute__((visibility("default")))
#else
#define CVMA_API
#endif

/* Before 1.0, a minor version may change the public structs; the library's soname carries it
 * (libcvmattest.so.0.3). Compare cvma_version() with CVMATTEST_VERSION to see that the
 * library loaded is the one this header describes. */
#define CVMATTEST_VERSION       "0.3.0"
#define CVMATTEST_VERSION_MAJOR 0
#define CVMATTEST_VERSION_MINOR 3
#define CVMATTEST_VERSION_PATCH 0

/* Did the function run? Maps onto the exit codes (cvma_status_exit_code). */
enum cvma_status {
    CVMA_OK = 0,     /* exit 0 */
    CVMA_REJECTED,   /* exit 1: evidence refused, reason recorded */
    CVMA_UNDECIDED,  /* exit 3: collateral missing or unreachable */
    CVMA_E_USAGE,    /* exit 2: a bad argument or configuration */
    CVMA_E_IO,       /* exit 2: unreadable input */
    CVMA_E_NOMEM,    /* exit 2 */
    CVMA_E_INTERNAL, /* exit 2 */
};

/* The attestation status of a result. */
enum cvma_result_status {
    CVMA_AFFIRMING = 0,
    CVMA_WARNING,
    CVMA_CONTRAINDICATED,
};

/* Evidence kinds: one row each in the library's evidence-kind table. */
enum cvma_evidence_kind {
    CVMA_KIND_AUTO = 0, /* detect from the bytes */
    CVMA_KIND_SNP,      /* AMD SEV-SNP attestation report ("sev-snp") */
    CVMA_KIND_TDX,      /* Intel TDX quote v4/v5 ("tdx") */
    CVMA_KIND_TPM,      /* TPM 2.0 quote ("tpm"): a bundle of quote, signature, AK and PCRs */
    /* Azure SEV-SNP CVM: HCL report + vTPM quote ("azure-snp", docs/azure.md) */
    CVMA_KIND_AZURE_SNP,
    /* Azure TDX CVM: HCL report + TD quote + vTPM quote ("azure-tdx") */
    CVMA_KIND_AZURE_TDX,
    /* Coconut SVSM vTPM: VMPL-0 SEV-SNP report + EK manifest + quote ("svsm-vtpm", bundles
     * only; docs/vtpm-binding.md) */
    CVMA_KIND_SVSM_VTPM,
};

/* The ECDSA P-384 implementation behind SEV-SNP report signatures (docs/performance.md). */
enum cvma_p384_backend {
    CVMA_P384_NETTLE = 0, /* the default: the faster one on Debian 12 */
    CVMA_P384_OPENSSL,
};

/* The library's version, CVMATTEST_VERSION of the library that runs (which may be another
 * than the header a program was built with). */
CVMA_API const char *cvma_version(void);

/* Exit code of the CLI for a status: 0, 1, 3, or 2 for the errors. */
CVMA_API int cvma_status_exit_code(enum cvma_status st);
/* "affirming", "warning" or "contraindicated". */
CVMA_API const char *cvma_result_status_name(enum cvma_result_status s);

/* ---------------------------------------------------------------------------------------- */
/* The verifier                                                                              */

/* A named appraisal policy (docs/policy.md), read from a file. */
struct cvma_policy_config {
    const char *name; /* the name a request gives; NULL or "" for the default policy */
    const char *path; /* the policy file */
};

/*
 * Shared state (optional, cvma_verifier_config.state_store): what several verifier processes
 * (a fleet behind a load balancer) must agree on, kept where all of them reach it. Without
 * one, each process keeps it to itself: the registry rollback state in files of the cache
 * directory, collateral in the on-disk cache. With registry_seen, the verifier still keeps the
 * state file (when it has a cache directory) and the highest version it saw in memory as
 * floors under the store, so a store that loses what it recorded never brings an older
 * registry back (the store is raised to the floor instead). Without a cache directory the
 * store and the floor in memory are the check: a store that loses its records while the
 * process restarts then accepts an older registry again. Every function may be NULL (that part
 * stays local) and is called from any thread at once: the implementation locks what it needs. The
 * verifier copies this struct; arg must outlive the verifier. (The service's Redis store,
 * docs/service.md, is one implementation.)
 */
enum cvma_store_answer {
    CVMA_STORE_OK = 0,      /* done: recorded, or found */
    CVMA_STORE_OLDER,       /* registry_seen: a higher version was seen; nothing changed */
    CVMA_STORE_CONFLICT,    /* registry_seen: this version was seen with another merkle_root */
    CVMA_STORE_MISS,        /* collateral_get: no entry */
    CVMA_STORE_UNAVAILABLE, /* the store cannot be reached or answered nonsense */
    CVMA_STORE_HELD,        /* collateral_claim: another holds the claim */
};
struct cvma_state_store {
    void *arg; /* passed to every function */
    /*
     * Registry rollback protection, one atomic step: compare (version, merkle_root) with the
     * highest version recorded for provider; record it when there is none or it is higher
     * (CVMA_STORE_OK), also OK for the same version and root; CVMA_STORE_OLDER when a higher
     * one is recorded, CVMA_STORE_CONFLICT for the same version with another root (*seen: the
     * recorded version, for messages). The recorded version must never go down. err (a line)
     * says why on CVMA_STORE_UNAVAILABLE: the verifier then does not use the registry (its
     * REGISTRY_ROLLBACK_NOT_CHECKED warning says so) and, unless another registry binds the
     * platform, the result is undecided (REGISTRY_UNAVAILABLE): never accepted unchecked.
     */
    enum cvma_store_answer (*registry_seen)(void *arg, const char *provider, uint64_t version,
                                            const uint8_t merkle_root[32], uint64_t *seen,
                                            char *err, size_t err_len);
    /*
     * A collateral cache shared by the fleet, keyed by the item's identity (its cache key:
     * "amd-kds <URL>", "intel-pcs <URL>"), consulted when the local cache cannot answer and
     * filled after each download. get: CVMA_STORE_OK with *p (malloc'd, the caller frees) and
     * *len, CVMA_STORE_MISS or CVMA_STORE_UNAVAILABLE (then fetched as without a store). The
     * value is opaque to the store; the verifier checks it as it checks a download. put: keep
     * it at most ttl_seconds (> 0); best effort. Both or neither (one alone would never be
     * used: cvma_verifier_new is CVMA_E_USAGE).
     */
    enum cvma_store_answer (*collateral_get)(void *arg, const char *key, uint8_t **p, size_t *len);
    void (*collateral_put)(void *arg, const char *key, const uint8_t *p, size_t len,
                           int64_t ttl_seconds);
    /*
     * Removes the entry collateral_put wrote under key, if any: the verifier calls it (only)
     * when bytes it had from the store, the local cache or a download passed their form check
     * but then failed verification (a chain or signature that is not the trusted root's), as
     * it removes them from the on-disk cache, so that no instance is handed them again; best
     * effort. NULL: such an entry stays until its TTL (every instance that gets it is
     * undecided until then).
     */
    void (*collateral_del)(void *arg, const char *key);
    /*
     * One download an item for the fleet (both or neither; NULL: each instance downloads
     * what it misses). Before it downloads an item the store misses, a verifier takes the
     * fleet's claim on it: collateral_claim answers CVMA_STORE_OK when this store (this
     * instance) now holds the claim on key, for at most ttl_ms unless given back,
     * CVMA_STORE_HELD when another does, CVMA_STORE_UNAVAILABLE when it cannot say (the item
     * is then downloaded as without a claim). The holder downloads, writes the copy
     * (collateral_put) and gives the claim back with collateral_release, as it does when the
     * download failed; release removes the claim only while this store holds it. An instance
     * that finds the claim held asks the store again until the holder's copy is there (its
     * answer, checked as any value of the store), the claim is given back without one (the
     * holder's download failed: so does this one, as a thread waiting on another thread of its
     * instance does) or the download's time is up. Claims are taken by one thread of an
     * instance at a time (the one that downloads for the others).
     */
    enum cvma_store_answer (*collateral_claim)(void *arg, const char *key, int64_t ttl_ms);
    void (*collateral_release)(void *arg, const char *key);
};

/*
 * Configuration, read once by cvma_verifier_new (every string and array is copied or read
 * then; nothing here is kept). Zero means the default for every field.
 */
/* The most verified certificate chains a verifier may remember (chain_cache_size): each
 * lookup reads them all. */
#define CVMA_CHAIN_CACHE_MAX 4096

struct cvma_verifier_config {
    /* Roots to trust besides the pinned vendor roots (test and simulated evidence only):
     * files holding one PEM or DER certificate each. */
    const char *const *trust_root_files;
    size_t n_trust_root_files;

    /* Collateral. A directory with the file names of docs/collateral.md, read first; then,
     * unless offline, AMD KDS / Intel PCS through the on-disk cache. */
    const char *collateral_dir;
    bool offline; /* never touch the network */
    /* Base URLs: NULL is the default; anything else must begin with http:// or https:// and
     * name a host (a port, if written, 1 to 65535), or cvma_verifier_new is CVMA_E_USAGE naming
     * the field ("" too: it is not the default). */
    const char *kds_base_url;    /* NULL: https://kdsintf.amd.com */
    const char *pcs_base_url;    /* NULL: https://api.trustedservices.intel.com */
    const char *cache_dir;       /* NULL: $CVMATTEST_CACHE, else the XDG cache ("": CVMA_E_USAGE) */
    bool collateral_grace_given; /* use collateral_grace_seconds; else the request's
                                  * policy's tdx.collateral_grace_period, else 0 */
    int64_t collateral_grace_seconds;   /* stale TDX collateral within this: a warning */
    bool collateral_max_age_given;      /* else 24 hours */
    int64_t collateral_max_age_seconds; /* online, cached CRLs, TCB Info and QE Identity
                                         * fetched longer ago are fetched again; 0: always */
    /* Downloads this verifier may start a minute, shared by its threads (a burst of as many
     * at once), of the collateral evidence names before anything of it can be checked (an
     * SEV-SNP VCEK, by CHIP_ID and TCB); a download beyond them is not made and the item is
     * COLLATERAL_UNAVAILABLE, so made-up reports cannot make it ask AMD KDS without bound.
     * 0: no limit. Cache hits, certificate chains, CRLs and TDX collateral spend nothing. */
    unsigned fetch_budget_per_minute;
    int snp_product; /* SEV-SNP report v2 (no product field): 0 unknown, 1 milan, 2 genoa,
                      * 3 turin. It applies to evidence holding an SEV-SNP report (sev-snp,
                      * azure-snp, svsm-vtpm): with a product set, cvma_verify refuses
                      * evidence of another kind (tdx, tpm, azure-tdx: CVMA_E_USAGE) rather
                      * than ignore it */

    /* Appraisal. The policy a request names, or the default one (name NULL/""). With none at
     * all, requests are appraised with no policy; with named ones but no default, a request
     * that names none is refused (cvma_verify: CVMA_E_USAGE), never appraised with none. */
    const struct cvma_policy_config *policies;
    size_t n_policies;

    /* Provider binding (docs/registry.md), in the CLI's syntax: "NAME=PUBFILE" keys,
     * registry files, proof files, "NAME=URL" lookup registries. */
    const char *const *providers;
    size_t n_providers;
    const char *const *registries;
    size_t n_registries;
    const char *const *proofs;
    size_t n_proofs;
    const char *const *lookup_registries;
    size_t n_lookup_registries;

    /* The registry transparency log (docs/registry.md "Registry log"), in the CLI's syntax:
     * "PROVIDER=VKEYFILE" log keys (a provider with one has its registries accepted only
     * when a log proof shows them in a checkpoint signed by that key), witness verifier-key
     * files (at least one when a log key is given, else CVMA_E_USAGE), how many of them must have
     * cosigned (0: all given), c2sp.org/tlog-proof@v1 files, consistency proof files (from the
     * newest checkpoint seen to a newer one). */
    const char *const *log_keys;
    size_t n_log_keys;
    const char *const *witness_keys;
    size_t n_witness_keys;
    size_t witnesses_required;
    const char *const *log_proofs;
    size_t n_log_proofs;
    const char *const *log_consistency;
    size_t n_log_consistency;
    /* "PROVIDER=DIR|URL": where a provider's log tiles are served; a consistency proof not
     * given is then computed from them. */
    const char *const *log_urls;
    size_t n_log_urls;

    /* The key that signs results (cvma_result_sign): an unencrypted PEM P-256/P-384 key. */
    const char *result_key_file;

    /* Limits and tuning. */
    bool allow_trailing_data; /* unsigned non-zero bytes after the evidence: a warning */
    size_t chain_cache_size;  /* verified chains remembered; 0: 64; at most
                               * CVMA_CHAIN_CACHE_MAX (else CVMA_E_USAGE) */
    bool no_cache;            /* every call parses and verifies everything (bench --cold) */
    enum cvma_p384_backend p384_backend;

    /* Shared state for a fleet (struct cvma_state_store, copied); NULL: this process only. */
    const struct cvma_state_store *state_store;
};

struct cvma_verifier;

/*
 * Makes a verifier from cfg (reads the files it names). On failure *out is NULL, err (may be
 * NULL) says what is wrong, and the status is CVMA_E_USAGE (bad configuration), CVMA_E_IO
 * (unreadable file) or CVMA_E_NOMEM. Free with cvma_verifier_free.
 */
CVMA_API enum cvma_status cvma_verifier_new(const struct cvma_verifier_config *cfg,
                                            struct cvma_verifier **out, char *err, size_t err_len);
CVMA_API void cvma_verifier_free(struct cvma_verifier *v);

/*
 * Counters. From its creation a verifier counts, lock-free (relaxed atomics, so a count read
 * while other threads verify may lag by the calls in flight):
 *   cache_hits{cache="chain"}, cache_misses{cache="chain"}: lookups in the in-memory cache of
 *       verified certificate chains (0 with no_cache);
 *   cache_hits{cache="collateral"}, cache_misses{cache="collateral"}: lookups of fetchable
 *       collateral in the collateral cache (a miss is then fetched, or undecided offline; an
 *       entry older than the maximum age counts as a miss);
 *   cache_hits{cache="shared"}, cache_misses{cache="shared"}: the state store's collateral
 *       cache (struct cvma_state_store), asked after a collateral miss; only with a store;
 *   collateral_fetches{source,status}: downloads by source ("kds", "pcs", "crl" for any
 *       CRL, "other") and final HTTP status ("200", "404", ...; "error" when no HTTP answer
 *       came: refused, timed out, TLS failure); only combinations seen so far are reported.
 *   collateral_budget_refusals{source}: downloads not made because the download budget
 *       (fetch_budget_per_minute) was spent; only with a budget, every source.
 * cvma_verifier_counters calls fn once per counter, in a stable order, from the calling
 * thread; everything it is given is valid during that call only. Every value only grows.
 * Counters and labels may be added in later versions (never renamed or removed), so a caller
 * should pass on the ones it does not know rather than reject them.
 */
struct cvma_counter {
    const char *name; /* "cache_hits", "cache_misses", "collateral_fetches",
                       * "collateral_budget_refusals" */
    const char *help; /* one line of English */
    size_t n_labels;
    const char *const *label_names; /* n_labels each */
    const char *const *label_values;
    uint64_t value;
};
typedef void (*cvma_counter_fn)(const struct cvma_counter *c, void *arg);
CVMA_API void cvma_verifier_counters(const struct cvma_verifier *v, cvma_counter_fn fn, void *arg);

/* ---------------------------------------------------------------------------------------- */
/* Evidence                                                                                  */

struct cvma_evidence;

/*
 * Evidence from bytes: a bundle (JSON, docs/bundle.md), a bare report or quote, or hex or
 * base64 text of one (detected; see cvma_evidence_inform to force it). The bytes are copied.
 * CVMA_E_USAGE with err when the bytes are empty, a malformed bundle, or text that decodes
 * to nothing; and when they are over the limits: 8 MiB in all (a bundle, all its parts
 * included; refused before anything is copied), 1 MiB for a bare report or quote once decoded.
 */
enum cvma_inform {
    CVMA_INFORM_AUTO = 0, /* bundle JSON, hex or base64 text, else binary */
    CVMA_INFORM_BIN,
    CVMA_INFORM_HEX,
    CVMA_INFORM_BASE64,
};
CVMA_API enum cvma_status cvma_evidence_from_bytes(const uint8_t *p, size_t len,
                                                   enum cvma_inform inform,
                                                   struct cvma_evidence **out, char *err,
                                                   size_t err_len);
/* The same for a file ("-" reads standard input). CVMA_E_IO when unreadable. */
CVMA_API enum cvma_status cvma_evidence_from_file(const char *path, enum cvma_inform inform,
                                                  struct cvma_evidence **out, char *err,
                                                  size_t err_len);
/*
 * Adds the collateral files found in dir (file names of docs/collateral.md) as parts, so
 * that later verifications read them from memory. Missing files are skipped. They are the
 * verifier's own, as if given with --collateral DIR: beside a part of the same name that the
 * bundle holds, they come first for the SEV-SNP CRL and the TDX items (docs/collateral.md).
 * Called again (on the same or another directory), it adds only the names no earlier call
 * added: the first directory's file of a name stays the one read. Collateral an earlier
 * verification prepared from the evidence is dropped, so the next one uses the new parts. It
 * changes the evidence: no other thread may verify the same evidence object meanwhile.
 * CVMA_E_IO, naming the file, when one is there (a regular file) but cannot be read or is
 * over 8 MiB: given collateral is never taken for missing; the evidence is then left as it
 * was before the call. CVMA_E_USAGE when dir is NULL or not a directory.
 */
CVMA_API enum cvma_status cvma_evidence_add_collateral_dir(struct cvma_evidence *ev,
                                                           const char *dir, char *err,
                                                           size_t err_len);
/* The kind the bundle says or the bytes show (CVMA_KIND_AUTO when unknown). */
CVMA_API enum cvma_evidence_kind cvma_evidence_kind(const struct cvma_evidence *ev);
CVMA_API void cvma_evidence_free(struct cvma_evidence *ev);

/* ---------------------------------------------------------------------------------------- */
/* Verification                                                                              */

/* What this one verification expects. Zero-initialise, then set what applies. */
struct cvma_request {
    time_t at;                    /* verification time; 0: now */
    enum cvma_evidence_kind kind; /* CVMA_KIND_AUTO: from the evidence */
    bool has_report_data;         /* expect this REPORT_DATA (zero-padded to 64) */
    uint8_t report_data[64];
    /* TPM quotes: expect this extraData (nonce_len 0: none at all). For a kind without a
     * quote (sev-snp, tdx) cvma_verify refuses a nonce (CVMA_E_USAGE) rather than ignore
     * it: such evidence carries its freshness in the report data. */
    bool has_nonce;
    uint8_t nonce[64];
    size_t nonce_len;            /* 0..64 */
    const char *policy;          /* a configured policy's name; NULL: the default */
    const char *previous_result; /* an earlier result JSON (migration), or NULL */
    size_t previous_result_len;
};

struct cvma_result;

/*
 * Verifies ev and appraises it: detect the kind, verify (parse, signatures, chains, CRLs,
 * collateral), bind the platform to a provider, appraise against the policy, compare with a
 * previous result, and compute the status. *out is always set when the status is CVMA_OK,
 * whatever the evidence's verdict (read it with cvma_result_status / cvma_result_exit_code).
 * Other statuses: CVMA_E_USAGE (a kind outside enum cvma_evidence_kind, or other than the kind
 * a bundle names; an at outside
 * 1970..9999; unknown policy name; no name while policies are configured but none is the
 * default; a malformed previous result; a nonce for evidence without a TPM quote; a verifier
 * snp_product for evidence without an SEV-SNP report; err says which), CVMA_E_NOMEM. Free the
 * result with cvma_result_free. It returns with the calling thread's OpenSSL error queue empty:
 * nothing the evidence made OpenSSL report is left for the caller's next TLS call to read as its
 * own (SSL_get_error).
 */
CVMA_API enum cvma_status cvma_verify(struct cvma_verifier *v, const struct cvma_evidence *ev,
                                      const struct cvma_request *req, struct cvma_result **out,
                                      char *err, size_t err_len);

CVMA_API enum cvma_result_status cvma_result_status(const struct cvma_result *r);
/* The CLI's exit code for this result: 0 affirming/warning, 1 rejected, 3 undecided. */
CVMA_API int cvma_result_exit_code(const struct cvma_result *r);
/* True when collateral or a registry could not be had (exit 3). */
CVMA_API bool cvma_result_undecided(const struct cvma_result *r);
/* "sev-snp", "tdx", ... */
CVMA_API const char *cvma_result_tee(const struct cvma_result *r);
CVMA_API const char *cvma_result_trust_anchor(const struct cvma_result *r);
CVMA_API size_t cvma_result_reason_count(const struct cvma_result *r);
/* The i-th reason: its code ("SNP_REPORT_SIGNATURE_INVALID"), severity ("error", "warning",
 * "info") and detail; NULL when i is out of range. Valid while r is. */
CVMA_API const char *cvma_result_reason_code(const struct cvma_result *r, size_t i);
CVMA_API const char *cvma_result_reason_severity(const struct cvma_result *r, size_t i);
CVMA_API const char *cvma_result_reason_detail(const struct cvma_result *r, size_t i);
/* True when the result holds a reason with this code. */
CVMA_API bool cvma_result_has_reason(const struct cvma_result *r, const char *code);
/* The result JSON of docs/results.md, indented when pretty; malloc'd, free with free(). */
CVMA_API char *cvma_result_json(const struct cvma_result *r, bool pretty);
/*
 * The result as a signed EAR token (JWT, docs/results.md) with the verifier's result key.
 * eat_nonce is the request's report data when it had some, else its TPM quote nonce (a
 * non-empty one), in hex; none without either. *token is malloc'd. CVMA_E_USAGE
 * when the verifier has no result key.
 */
CVMA_API enum cvma_status cvma_result_sign(const struct cvma_verifier *v,
                                           const struct cvma_result *r, char **token);
CVMA_API void cvma_result_free(struct cvma_result *r);

#ifdef __cplusplus
}
#endif

#endif
