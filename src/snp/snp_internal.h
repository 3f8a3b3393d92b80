/* Private API of the SEV-SNP stage. */
#ifndef CVMA_SNP_INTERNAL_H
#define CVMA_SNP_INTERNAL_H

#include <jansson.h>

#include "result/result.h"
#include "snp/amd_cert.h"
#include "snp/snp.h"

/* Collateral for one report: DER bytes, owned. */
struct cvma_snp_collateral {
    struct cvma_buf leaf; /* VCEK or VLEK */
    struct cvma_buf ask;  /* ASK or ASVK */
    struct cvma_buf ark;
    struct cvma_buf crl; /* optional: len 0 when absent */
    /* The evidence bundle's crl.der, kept apart: the CRL only when the verifier has none of
     * its own (cvma_snp_collateral_get). AMD's VCEK and VLEK CRLs are both signed by the ARK
     * and cannot be told apart, and an older one stays valid until its nextUpdate: a CRL the
     * evidence chose must not stand in for the one the verifier would have used. */
    struct cvma_buf crl_given;
    bool crl_from_evidence; /* crl is the bundle's, for a chain to AMD's ARKs: said in the result */
    bool vlek;              /* leaf read from vlek.* / ask from asvk.* */
    char crl_note[640];     /* why there is no CRL, when a fetch of it failed */
    /* Offline, no current CRL: the cached one past its nextUpdate (len 0 when none). It
     * decides nothing by itself, but a certificate it lists stays revoked. */
    struct cvma_buf crl_expired;
    /* Where each piece came from: true when from AMD KDS or the on-disk cache (what the
     * network, a mirror or whoever can write the cache chose), false when given (the evidence
     * bundle, --collateral DIR, a caller's preloaded collateral). Fetched collateral that
     * fails its own checks is the collateral's fault, not the evidence's (docs/collateral.md). */
    bool leaf_fetched;
    bool chain_fetched; /* the ASK/ASVK and the ARK both from a KDS cert_chain */
    bool crl_fetched;
    /* The KDS cert_chain (PEM) when only half of it went into ask/ark (the other half was
     * given): when the chain fails, it is at fault only if it fails on its own. */
    struct cvma_buf chain_rest;
};

void cvma_snp_collateral_cleanup(struct cvma_snp_collateral *c);

/* The product of ark (DER or PEM) when it is one of AMD's pinned ARKs (by the SHA-256 of its
 * SPKI), whose CRLs AMD KDS serves; UNKNOWN for another root (a --trust-root, the
 * simulator's, whatever its name says) or none. */
enum cvma_snp_product cvma_snp_ark_pinned_product(const struct cvma_buf *ark);

/*
 * Removes from the on-disk cache the fetched pieces named (leaf, chain, crl; a piece that was
 * not fetched is skipped), so that the next verification fetches them again. what (what_len
 * bytes) receives the names of those removed ("VCEK, cert_chain"), or says that none could
 * be. Used when fetched collateral fails its own checks.
 */
void cvma_snp_collateral_evict(const struct cvma_snp_report *rep,
                               const struct cvma_verify_opts *opts,
                               const struct cvma_snp_collateral *c, bool leaf, bool chain, bool crl,
                               char *what, size_t what_len);

/*
 * Names (PARSE_BUNDLE_PART_NOT_USED, a warning) each collateral part the evidence came with that
 * verification of a report signed by a VLEK (vlek) or a VCEK does not read: the other key's
 * certificates, a PEM leaf beside a DER one, a cert_chain.pem beside the ASK/ASVK and ARK.
 */
void cvma_snp_name_unread_parts(const struct cvma_verify_opts *opts, bool vlek,
                                struct cvma_verdict *v);
/*
 * Gathers the collateral for rep: the evidence bundle's parts and opts->collateral_dir first,
 * then (unless offline) from AMD KDS through the cache. For a chain to one of AMD's ARKs the
 * CRL is the verifier's own: from the directory, else the cache, else (unless offline) KDS;
 * the bundle's crl.der is the CRL only when there is none of those (offline). For a chain to
 * another root (KDS has no CRL of it) the bundle's is the CRL when the directory has none. base
 * (may be NULL): collateral prepared from the bundle alone (opts->collateral_parts_only), copied
 * into c instead of reading the parts again. Missing pieces record COLLATERAL_UNAVAILABLE and
 * return CVMA_UNDECIDED; malformed files record CERT_PARSE / CRL_INVALID and return CVMA_REJECTED.
 */
CVMA_MUST_USE enum cvma_status cvma_snp_collateral_get(const struct cvma_snp_report *rep,
                                                       const struct cvma_verify_opts *opts,
                                                       const struct cvma_snp_collateral *base,
                                                       struct cvma_snp_collateral *c,
                                                       struct cvma_verdict *v);

json_t *cvma_snp_report_json(const struct cvma_snp_report *rep, enum cvma_snp_product product);

/*
 * Full SEV-SNP verification of the bytes in p: parse, collateral, chain to a pinned root (or a
 * --trust-root), CRL, report signature, certificate-to-report binding, and the appraisal the
 * options ask for. Fills res (status still to be finished by the caller).
 */
void cvma_snp_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                     const struct cvma_snp_collateral *preloaded, struct cvma_result *res);

#endif
