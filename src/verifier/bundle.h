/*
 * Evidence bundles (docs/bundle.md): the evidence and the parts that came with it, as the
 * public struct cvma_evidence. A bundle file is JSON:
 *
 *   {"cvmattest_bundle": 1, "kind": "sev-snp",
 *    "parts": [{"role": "evidence", "data": "<base64>"},
 *              {"role": "collateral", "name": "vcek.der", "data": "<base64>"}, ...]}
 *
 * A bare report or quote (binary, hex or base64 text) is a one-part bundle.
 */
#ifndef CVMA_VERIFIER_BUNDLE_H
#define CVMA_VERIFIER_BUNDLE_H

#include <pthread.h>

#include <jansson.h>

#include "collateral/source.h"
#include "common/util.h"
#include "verifier/kind.h"

#define CVMA_BUNDLE_MAX       (8u << 20) /* a bundle file, all parts included */
#define CVMA_EVIDENCE_MAX     (1u << 20) /* one bare report or quote */
#define CVMA_BUNDLE_MAX_PARTS 64

/* Part roles. */
enum cvma_part_role {
    CVMA_PART_EVIDENCE = 0, /* the hardware report or quote: exactly one */
    CVMA_PART_COLLATERAL,   /* a collateral file, named as in docs/collateral.md */
    CVMA_PART_TPM,          /* a TPM quote part: role (and name) "tpm_quote", "tpm_signature",
                             * "tpm_ak" or "tpm_pcrs", or the measured-boot log "event_log"
                             * (a TDX CCEL, a TCG log); at most one of each */
};

/* True for a role of a TPM quote part or "event_log" (docs/bundle.md). */
bool cvma_bundle_tpm_role_ok(const char *role);

struct cvma_bundle_part {
    enum cvma_part_role role;
    char *name; /* collateral: the file name; TPM parts: the role; evidence: NULL */
    struct cvma_buf data;
    bool own; /* added from the verifier's own directory (cvma_evidence_add_collateral_dir) */
};

struct cvma_evidence {
    const struct cvma_kind *kind; /* from the bundle's "kind", or detected; NULL: unknown */
    bool from_bundle;             /* read from a bundle file */
    bool kind_named;              /* kind is the bundle's "kind" member, not detected */
    struct cvma_bundle_part *parts;
    size_t n_parts;
    size_t evidence_idx;          /* index of the evidence part */
    struct cvma_named_part *coll; /* view of the collateral and TPM parts (names, spans) */
    size_t n_coll;

    /* Collateral of the bundle prepared once (kind->prepare); separately allocated so that
     * a const evidence can fill it, under its lock. */
    struct cvma_evidence_memo *memo;
};

struct cvma_evidence_memo {
    pthread_mutex_t lock;
    bool done;
    const struct cvma_kind *kind;
    void *prepared;
};

/* The evidence bytes (the "evidence" part). */
struct cvma_span cvma_evidence_bytes(const struct cvma_evidence *ev);

/*
 * The collateral prepared from the bundle's parts for kind k with opts (done once; later
 * calls return the same). NULL when the parts do not hold it all. Valid while ev is.
 */
const void *cvma_evidence_prepared(const struct cvma_evidence *ev, const struct cvma_kind *k,
                                   const struct cvma_verify_opts *opts);

/* Known collateral file names (docs/collateral.md); false for anything else. */
bool cvma_bundle_collateral_name_ok(const char *name);
/* The collateral file names of SEV-SNP (AMD's certificates and CRL) and of TDX (Intel's TCB
 * collateral), each list NULL-terminated: what a kind row's collateral_names points at. */
extern const char *const cvma_snp_collateral_names[];
extern const char *const cvma_tdx_collateral_names[];
/* True when name is one of names (NULL-terminated; NULL: none). */
bool cvma_collateral_name_in(const char *const *names, const char *name);
/*
 * For an SEV-SNP collateral name, what a verification reads in its place when has(ctx, n) says
 * which names are there: "its vcek.der is read instead" for a vcek.pem beside one (vlek.pem
 * alike), "its ask.pem and ark.pem are read instead" for a cert_chain.pem beside both (asvk.pem
 * alike); NULL when the name itself is read. vlek: 1 a report signed by a VLEK, 0 by a VCEK,
 * -1 not known (either).
 */
const char *cvma_snp_collateral_read_instead(const char *name, int vlek,
                                             bool (*has)(const void *ctx, const char *name),
                                             const void *ctx);

/*
 * Writes a bundle file: kind name, the evidence, and the collateral files found in dir
 * (missing ones skipped). For the simulator and `collateral fetch`.
 */
CVMA_MUST_USE enum cvma_status cvma_bundle_write(const char *path, const char *kind,
                                                 const uint8_t *evidence, size_t len,
                                                 const char *collateral_dir);

#endif
