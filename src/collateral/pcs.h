/*
 * Intel Provisioning Certification Service (PCS) v4 client: the URLs of TCB Info by FMSPC,
 * the TD QE Identity, the PCK CRL by CA and the Root CA CRL, fetched through the one
 * collateral fetch path (collateral/fetch.h: cache, offline rule, fetch, re-check), with the
 * issuer chains PCS sends in response headers (URL-encoded PEM, decoded here). Any PCCS with
 * the same API can stand in for PCS (base URL option). Vendor-neutral in its code: the form
 * check is a callback the TDX side passes (tdx/tdx_pcs.h, which also has the typed fetches and
 * cvma_pcs_collateral_get). URL forms: Intel PCS API v4, docs/collateral.md.
 *
 * What is checked (by that callback): only the *form* of what it fetches, before caching it
 * (TCB Info / QE Identity must be PCS bodies whose inner object parses as TDX collateral, the
 * TCB Info for the FMSPC asked for; a chain at least one PEM certificate; a CRL one CRL, DER,
 * PEM or hex), so garbage is never cached. It checks no signature, chain, validity or revocation:
 * the verifier does that (cvma_tdx_collateral_verify) against the pinned Intel SGX Root CA, and
 * must, whether the bytes came from the network or the cache.
 *
 * Cache keys are "intel-pcs " followed by the full URL, so entries fetched from a test server
 * or a PCCS never answer for the real PCS. An entry holds the body and the decoded issuer
 * chain together (one atomic entry). TCB Info and QE Identity expire once their nextUpdate
 * second is over (valid at it, as the verifier judges them), CRLs at their nextUpdate (24 h
 * after the fetch when absent); whatever is already past its
 * nextUpdate when downloaded (a TCB Info or QE Identity: beyond the grace) is neither cached
 * nor used; within the grace it is used, not cached (collateral/fetch.h: the cached copy
 * stands, or the answer is undecided).
 * All four change over time: online, a cached answer fetched longer ago than max_age (cache.h)
 * is fetched again even before its nextUpdate; when that refresh fails the cached answer is
 * still used (it has not expired) and v receives COLLATERAL_STALE_CACHE (warning) naming its
 * age and the failure. Offline, a cached answer is used whatever its age.
 *
 * Every fetch returns:
 *   CVMA_OK         *out owns the body and the issuer chain (cvma_pcs_answer_cleanup)
 *   CVMA_UNDECIDED  offline and not in cache, 404 / other 4xx, unreachable, retries exhausted,
 *                   body or headers of the wrong form; err says which, with the URL. The
 *                   caller records COLLATERAL_UNAVAILABLE (exit 3).
 *   CVMA_E_USAGE    bad base URL or arguments
 *   CVMA_E_NOMEM
 * On any status but CVMA_OK *out is empty. v (may be NULL) receives COLLATERAL_CACHE_CORRUPT
 * (info) when a cache entry was found damaged and ignored, and COLLATERAL_STALE_CACHE
 * (warning) as above; nothing else is recorded in it.
 * Nothing is printed. A failure to write the cache does not fail a fetch.
 */
#ifndef CVMA_COLLATERAL_PCS_H
#define CVMA_COLLATERAL_PCS_H

#include <openssl/x509.h>

#include "collateral/cache.h"
#include "collateral/fetch.h"
#include "collateral/http.h"
#include "common/verdict.h"

#define CVMA_PCS_DEFAULT_BASE_URL "https://api.trustedservices.intel.com"
/* The CRL distribution point of the Intel SGX Root CA (DER). A PCCS serves the same CRL,
 * hex-encoded, at {base}/sgx/certification/v4/rootcacrl; both forms are accepted. */
#define CVMA_PCS_ROOT_CA_CRL_DEFAULT_URL \
    "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define CVMA_PCS_PCCS_ROOT_CA_CRL_PATH "/sgx/certification/v4/rootcacrl"
#define CVMA_PCS_DEFAULT_TTL           (24 * 3600) /* seconds, for a CRL without nextUpdate */

/* Borrows everything it points to. A zeroed struct (or cvma_pcs_init) means: the real PCS and
 * Intel's Root CA CRL, online, default HTTP options, no cache. */
struct cvma_pcs {
    const char *base_url;        /* NULL: CVMA_PCS_DEFAULT_BASE_URL; a trailing '/' is ignored */
    const char *root_ca_crl_url; /* a full URL; NULL: CVMA_PCS_ROOT_CA_CRL_DEFAULT_URL when
                                  * base_url is Intel PCS (NULL or the default), else (a PCCS)
                                  * {base_url}CVMA_PCS_PCCS_ROOT_CA_CRL_PATH */
    bool offline;                /* never touch the network: a cache miss is CVMA_UNDECIDED */
    struct cvma_http_opts http;  /* zeroed: defaults (collateral/http.h) */
    struct cvma_cache *cache;    /* NULL: no cache (and offline then always misses) */
    int64_t max_age;             /* 0: CVMA_CACHE_DEFAULT_MAX_AGE; negative: refresh on every
                                  * online use (cvma_cache_too_old) */
    int64_t at;                  /* the verification time (0: now): an item past its
                                  * nextUpdate then is refused (collateral/fetch.h) */
    int64_t grace;               /* a TCB Info or QE Identity past its nextUpdate by at most
                                  * this many seconds is still used, never cached
                                  * (struct cvma_collateral_item, grace); 0: none */
    /* counters (collateral/stats.h); NULL: none */
    const struct cvma_collateral_hooks *hooks;
};

/* Which PCK CA issued the PCK certificate: selects the PCK CRL. */
enum cvma_pcs_ca {
    CVMA_PCS_CA_PLATFORM = 0, /* "Intel SGX PCK Platform CA": ca=platform */
    CVMA_PCS_CA_PROCESSOR,    /* "Intel SGX PCK Processor CA": ca=processor */
};

/* One answer: the body as sent and, where PCS sends one, the issuer chain (PEM, decoded from
 * its header: signing certificate first, root last). */
struct cvma_pcs_answer {
    struct cvma_buf body;
    struct cvma_buf issuer_chain; /* empty for the Root CA CRL (and when a PCK CRL has none) */
};

/* Sets the defaults above. */
void cvma_pcs_init(struct cvma_pcs *p);
void cvma_pcs_answer_cleanup(struct cvma_pcs_answer *a);

/* The CA of a PCK certificate from its issuer CN ("... Platform CA" / "... Processor CA").
 * False when the issuer names neither. */
CVMA_MUST_USE bool cvma_pcs_ca_of_pck(X509 *pck, enum cvma_pcs_ca *ca);

/* Decodes %XX escapes (a '+' stays a '+': it is a base64 digit in a PEM). False on a bad
 * escape or a decoded NUL. *out is owned by the caller. */
CVMA_MUST_USE bool cvma_pcs_url_decode(const char *in, struct cvma_buf *out);

/* What is fetched. */
enum cvma_pcs_item {
    CVMA_PCS_TCB_INFO = 0, /* /tdx/certification/v4/tcb?fmspc={12 upper-case hex}; chain from
                            * TCB-Info-Issuer-Chain (or the v3 name SGX-TCB-Info-Issuer-Chain) */
    CVMA_PCS_QE_IDENTITY,  /* /tdx/certification/v4/qe/identity; chain from
                            * SGX-Enclave-Identity-Issuer-Chain */
    CVMA_PCS_PCK_CRL,      /* /sgx/certification/v4/pckcrl?ca=platform|processor&encoding=der;
                            * chain (optional) from SGX-PCK-CRL-Issuer-Chain */
    CVMA_PCS_ROOT_CA_CRL,  /* root_ca_crl_url, or the URL derived as described there (DER, PEM,
                            * or hex as a PCCS serves it) */
};

/* "TCB Info", "QE Identity", "PCK CRL", "Root CA CRL". */
const char *cvma_pcs_item_name(enum cvma_pcs_item item);

/* The form check of an answer (body and decoded issuer chain), as downloaded or cached:
 * true when well-formed, then *expires_at is the cache expiry (it is 0 on entry); else why
 * says what is wrong. fmspc is the one asked for (TCB Info), else NULL. */
typedef bool (*cvma_pcs_check_fn)(enum cvma_pcs_item item, const struct cvma_pcs_answer *a,
                                  const uint8_t *fmspc, int64_t now, int64_t *expires_at, char *why,
                                  size_t why_len, void *arg);

/* The version of an answer that passed the check (collateral/fetch.h): false when it cannot
 * tell. */
typedef bool (*cvma_pcs_version_fn)(enum cvma_pcs_item item, const struct cvma_pcs_answer *a,
                                    struct cvma_collateral_version *out, void *arg);

/*
 * Fetches one item (fmspc: TCB Info only; ca: PCK CRL only) through the one fetch path, the
 * cache key "intel-pcs " and the full URL, the answer checked by check and dated by version
 * (NULL: none; fetch.h). Returns as described at the top.
 */
CVMA_MUST_USE enum cvma_status cvma_pcs_fetch(const struct cvma_pcs *p, enum cvma_pcs_item item,
                                              const uint8_t *fmspc, enum cvma_pcs_ca ca,
                                              cvma_pcs_check_fn check, cvma_pcs_version_fn version,
                                              void *arg, struct cvma_pcs_answer *out,
                                              struct cvma_verdict *v, char *err, size_t err_len);

/*
 * Removes the cache entry of one item (the arguments as for cvma_pcs_fetch), if there is one:
 * an answer that passed its form check but then failed verification (a signature or chain
 * that is not Intel's), so that the next use fetches it again instead of failing on the same
 * bytes until it is older than the maximum age. The fleet's shared copy goes too
 * (cvma_collateral_evict with p->hooks). CVMA_OK also when there was none or p has no cache;
 * CVMA_E_IO, CVMA_E_USAGE (bad arguments), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_pcs_evict(const struct cvma_pcs *p, enum cvma_pcs_item item,
                                              const uint8_t *fmspc, enum cvma_pcs_ca ca);

/* The cache expiry of a document or CRL whose nextUpdate is next (Unix s; ok false or 0: none
 * given): next, else CVMA_PCS_DEFAULT_TTL after now. */
int64_t cvma_pcs_expiry(bool ok, int64_t next, int64_t now);

/*
 * An answer as one cache entry: magic (8 bytes) || u64be body length || body || u64be chain
 * length || chain. frame: false when out of memory. unframe: *ok false (a corrupt entry) on
 * another magic or any length that does not add up to the bytes given, exactly; then *a is
 * empty. CVMA_E_NOMEM, else CVMA_OK. An entry that unframes frames back to the same bytes.
 */
CVMA_MUST_USE bool cvma_pcs_answer_frame(const struct cvma_pcs_answer *a, struct cvma_buf *out);
CVMA_MUST_USE enum cvma_status cvma_pcs_answer_unframe(const struct cvma_buf *in,
                                                       struct cvma_pcs_answer *a, bool *ok);

#endif
