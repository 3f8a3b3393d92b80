/*
 * AMD Key Distribution Service (KDS) client: VCEK certificates, ASK/ASVK + ARK chains and
 * CRLs for SEV-SNP, fetched over HTTP(S) through the on-disk cache (collateral/cache.h).
 * URL forms: AMD VCEK Certificate and KDS Interface spec, docs/collateral.md.
 *
 * What it checks: only the *form* of what it fetches, before caching it (a VCEK must be one
 * DER X.509 certificate, a chain exactly two PEM certificates, a CRL one DER CRL), so garbage
 * is never cached. It checks no signature, validity or revocation: the verifier does that
 * against the pinned AMD roots, and must, whether the bytes came from the network or the cache.
 *
 * Cache keys are "amd-kds " followed by the full URL (base URL, product, hwid, every SPL), so
 * entries fetched from a test server or mirror never answer for the real KDS. VCEKs and cert
 * chains never expire (a VCEK for one chip and TCB never changes; the chain is checked against
 * pinned roots). A CRL expires at its nextUpdate, or 24 h after the fetch when nextUpdate is
 * absent; if nextUpdate has already passed, one hour after the fetch (so a stale CRL on the
 * server is not refetched on every run; the verifier reports it as CRL_EXPIRED anyway).
 * Online, a cached CRL fetched longer ago than max_age (cache.h) is fetched again; when that
 * refresh fails the cached CRL is still used (it has not expired) and v receives
 * COLLATERAL_STALE_CACHE (warning) naming its age and the failure. Offline, a cached CRL is
 * used whatever its age.
 *
 * VLEK certificates cannot be fetched: KDS serves them only to the cloud provider, with its
 * credentials. A verifier takes the VLEK from the guest's extended-report certificate table
 * or from an offline collateral directory.
 *
 * Every fetch returns:
 *   CVMA_OK         *out owns the body (free with cvma_buf_free)
 *   CVMA_UNDECIDED  offline and not in cache, 404 / other 4xx, unreachable, timeout, retries
 *                   exhausted, body too large or of the wrong form; err says which, with the
 *                   URL. The caller records COLLATERAL_UNAVAILABLE (exit 3).
 *   CVMA_E_USAGE    unknown product, bad base URL
 *   CVMA_E_NOMEM
 * On any status but CVMA_OK *out is empty. v (may be NULL) receives COLLATERAL_CACHE_CORRUPT
 * (info) when a cache entry was found damaged and ignored, and COLLATERAL_STALE_CACHE
 * (warning) as above; nothing else is recorded in it.
 * Nothing is printed. A failure to write the cache does not fail a fetch.
 */
#ifndef CVMA_COLLATERAL_KDS_H
#define CVMA_COLLATERAL_KDS_H

#include "collateral/cache.h"
#include "collateral/http.h"
#include "common/verdict.h"
#include "snp/snp.h"

#define CVMA_KDS_DEFAULT_BASE_URL "https://kdsintf.amd.com"
#define CVMA_KDS_CRL_DEFAULT_TTL  (24 * 3600) /* seconds, when a CRL has no nextUpdate */
#define CVMA_KDS_CRL_STALE_TTL    3600        /* seconds, when nextUpdate has already passed */
#define CVMA_KDS_PATH_MAX         256         /* enough for any path cvma_kds_vcek_url builds */

/* Borrows everything it points to. A zeroed struct (or cvma_kds_init) means: the real KDS,
 * online, default HTTP options, no cache. */
struct cvma_kds {
    const char *base_url;       /* NULL: CVMA_KDS_DEFAULT_BASE_URL; a trailing '/' is ignored */
    bool offline;               /* never touch the network: a cache miss is CVMA_UNDECIDED */
    struct cvma_http_opts http; /* zeroed: defaults (collateral/http.h) */
    struct cvma_cache *cache;   /* NULL: no cache (and offline then always misses) */
    int64_t max_age;            /* CRLs: 0: CVMA_CACHE_DEFAULT_MAX_AGE; negative: refresh on
                                 * every online use (cvma_cache_too_old) */
};

/* Sets the defaults above. */
void cvma_kds_init(struct cvma_kds *k);

/*
 * Writes the VCEK path and query (relative to the base URL) for chip_id and tcb into out:
 *   Milan, Genoa: /vcek/v1/{P}/{128 hex of chip_id}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..
 *   Turin:        /vcek/v1/Turin/{16 hex of chip_id[0..7]}?fmcSPL=..&blSPL=..&teeSPL=..
 *                 &snpSPL=..&ucodeSPL=..
 * Hex is lower-case, SPLs decimal without padding. tcb must be split for the same product
 * (cvma_snp_tcb_split); the caller passes the report's REPORTED_TCB.
 * Returns CVMA_OK, or CVMA_E_USAGE for an unknown product or when n is too small
 * (CVMA_KDS_PATH_MAX always suffices); out is an empty string on failure.
 */
CVMA_MUST_USE enum cvma_status cvma_kds_vcek_url(enum cvma_snp_product product,
                                                 const uint8_t chip_id[64],
                                                 const struct cvma_snp_tcb *tcb, char *out,
                                                 size_t n);

/* The VCEK (DER) for chip_id at tcb; see the return contract above. */
CVMA_MUST_USE enum cvma_status
cvma_kds_fetch_vcek(const struct cvma_kds *k, enum cvma_snp_product product,
                    const uint8_t chip_id[64], const struct cvma_snp_tcb *tcb, struct cvma_buf *out,
                    struct cvma_verdict *v, char *err, size_t err_len);

/* /vcek/v1/{P}/cert_chain (PEM: ASK then ARK) or, with vlek, /vlek/v1/{P}/cert_chain (PEM:
 * ASVK then ARK). */
CVMA_MUST_USE enum cvma_status
cvma_kds_fetch_cert_chain(const struct cvma_kds *k, enum cvma_snp_product product, bool vlek,
                          struct cvma_buf *out, struct cvma_verdict *v, char *err, size_t err_len);

/* /vcek/v1/{P}/crl or, with vlek, /vlek/v1/{P}/crl (DER CRL signed by the ARK). */
CVMA_MUST_USE enum cvma_status cvma_kds_fetch_crl(const struct cvma_kds *k,
                                                  enum cvma_snp_product product, bool vlek,
                                                  struct cvma_buf *out, struct cvma_verdict *v,
                                                  char *err, size_t err_len);

/* The full URL of the CRL for product (vlek: the VLEK CRL) under k's base URL, into out.
 * CVMA_OK, or CVMA_E_USAGE for an unknown product or a too small buffer (out is then ""). */
CVMA_MUST_USE enum cvma_status cvma_kds_crl_url(const struct cvma_kds *k,
                                                enum cvma_snp_product product, bool vlek, char *out,
                                                size_t n);

#endif
