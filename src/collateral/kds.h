/*
 * AMD Key Distribution Service (KDS) client: the KDS URL forms (VCEK, cert_chain, CRL) and
 * fetches through the one collateral fetch path (collateral/fetch.h: cache, offline rule,
 * fetch, re-check). Vendor-neutral: it knows KDS's URLs, not SEV-SNP; the SEV-SNP side
 * (snp/snp_kds.h: products, TCB values, the form checks) calls it with a check callback.
 * URL forms: AMD VCEK Certificate and KDS Interface spec, docs/collateral.md.
 *
 * What is checked (by the callback snp/snp_kds.c passes): only the *form* of what it fetches,
 * before caching it (a VCEK must be one DER X.509 certificate, a chain exactly two PEM
 * certificates, a CRL one DER CRL), so garbage is never cached. It checks no signature, validity or
 * revocation: the verifier does that against the pinned AMD roots, and must, whether the bytes came
 * from the network or the cache.
 *
 * Cache keys are "amd-kds " followed by the full URL (base URL, product, hwid, every SPL), so
 * entries fetched from a test server or mirror never answer for the real KDS. VCEKs and cert
 * chains never expire (a VCEK for one chip and TCB never changes; the chain is checked against
 * pinned roots). A CRL expires at its nextUpdate, or 24 h after the fetch when nextUpdate is
 * absent. A CRL already past its nextUpdate when downloaded is neither cached nor used
 * (collateral/fetch.h: the cached copy stands, or the answer is undecided).
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
#include "collateral/fetch.h"
#include "collateral/http.h"
#include "common/verdict.h"

#define CVMA_KDS_DEFAULT_BASE_URL "https://kdsintf.amd.com"
#define CVMA_KDS_CRL_DEFAULT_TTL  (24 * 3600) /* seconds, when a CRL has no nextUpdate */
#define CVMA_KDS_PATH_MAX         256         /* enough for any path cvma_kds_vcek_path builds */

/* Borrows everything it points to. A zeroed struct (or cvma_kds_init) means: the real KDS,
 * online, default HTTP options, no cache. */
struct cvma_kds {
    const char *base_url;       /* NULL: CVMA_KDS_DEFAULT_BASE_URL; a trailing '/' is ignored */
    bool offline;               /* never touch the network: a cache miss is CVMA_UNDECIDED */
    struct cvma_http_opts http; /* zeroed: defaults (collateral/http.h) */
    struct cvma_cache *cache;   /* NULL: no cache (and offline then always misses) */
    int64_t max_age;            /* CRLs: 0: CVMA_CACHE_DEFAULT_MAX_AGE; negative: refresh on
                                 * every online use (cvma_cache_too_old) */
    int64_t at;                 /* the verification time (0: now): a CRL past its nextUpdate
                                 * then is refused (collateral/fetch.h) */
    /* counters (collateral/stats.h); NULL: none */
    const struct cvma_collateral_hooks *hooks;
};

/* Sets the defaults above. */
void cvma_kds_init(struct cvma_kds *k);

/* The security patch levels a VCEK URL names. has_fmc selects the form with fmcSPL first
 * (Turin and later). */
struct cvma_kds_spl {
    bool has_fmc;
    uint8_t fmc, bootloader, tee, snp, microcode;
};

/*
 * /vcek/v1/{product}/{hex of hwid}?[fmcSPL=..&]blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=.. into
 * out (hex lower-case, SPLs decimal without padding). CVMA_OK, or CVMA_E_USAGE when product is
 * NULL, hwid_len is not 1..64 or n is too small (out is then "").
 */
CVMA_MUST_USE enum cvma_status cvma_kds_vcek_path(const char *product, const uint8_t *hwid,
                                                  size_t hwid_len, const struct cvma_kds_spl *spl,
                                                  char *out, size_t n);

/* /{vcek|vlek}/v1/{product}/{file} into out; CVMA_E_USAGE as above. */
CVMA_MUST_USE enum cvma_status cvma_kds_product_path(const char *product, bool vlek,
                                                     const char *file, char *out, size_t n);

/* {base URL}{path} into out; CVMA_E_USAGE when it does not fit (out is then ""). */
CVMA_MUST_USE enum cvma_status cvma_kds_url(const struct cvma_kds *k, const char *path, char *out,
                                            size_t n);

/*
 * Fetches {base URL}{path} through the one fetch path (cache key "amd-kds " and the URL);
 * what names it in messages; refreshable: it changes over time (CRLs); check: the form check
 * (collateral/fetch.h). Returns as described at the top.
 */
CVMA_MUST_USE enum cvma_status cvma_kds_fetch(const struct cvma_kds *k, const char *what,
                                              const char *path, bool refreshable,
                                              cvma_collateral_check_fn check, void *arg,
                                              struct cvma_buf *out, struct cvma_verdict *v,
                                              char *err, size_t err_len);

/* cvma_kds_fetch with admit (collateral/fetch.h: a check of downloaded bytes only; NULL:
 * none) and budgeted (its download spends the verifier's download budget: an item whose URL
 * evidence names before anything of it can be checked, a VCEK by CHIP_ID and TCB) and version
 * (fetch.h: of an item that changes, a CRL; NULL: none). */
CVMA_MUST_USE enum cvma_status
cvma_kds_fetch_ex(const struct cvma_kds *k, const char *what, const char *path, bool refreshable,
                  bool budgeted, cvma_collateral_check_fn check, cvma_collateral_check_fn admit,
                  cvma_collateral_version_fn version, void *arg, struct cvma_buf *out,
                  struct cvma_verdict *v, char *err, size_t err_len);

/* True when k's cache holds an intact entry for {base URL}{path} whose expiry time has passed
 * (a miss for cvma_kds_fetch, and so offline no answer); *expired_at is then that time, and
 * body (may be NULL) the entry's body (its digest checked, as on a hit). False when there is
 * no cache, no entry, a damaged one, a current one, or no memory. */
CVMA_MUST_USE bool cvma_kds_cached_expired(const struct cvma_kds *k, const char *path,
                                           int64_t *expired_at, struct cvma_buf *body);

/* Removes the cache entry of {base URL}{path} (CVMA_OK when k has no cache) and the fleet's
 * shared copy: cvma_collateral_evict with k->hooks. */
CVMA_MUST_USE enum cvma_status cvma_kds_evict(const struct cvma_kds *k, const char *path);

#endif
