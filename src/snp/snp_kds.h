/*
 * SEV-SNP collateral from AMD KDS: the typed side of the KDS client (collateral/kds.h). It maps
 * products and TCB values to KDS URLs and gives the fetch path the form checks of each body
 * (a VCEK one DER X.509 certificate, a chain exactly two PEM certificates, a CRL one DER CRL,
 * with the CRL's cache expiry). The fetch contract (statuses, cache, max age, stale fallback)
 * is the one documented in collateral/kds.h and collateral/fetch.h.
 */
#ifndef CVMA_SNP_SNP_KDS_H
#define CVMA_SNP_SNP_KDS_H

#include "collateral/kds.h"
#include "snp/snp.h"

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

/* The VCEK (DER) for chip_id at tcb; see the return contract in collateral/kds.h. */
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

/*
 * Remove the cache entry of the VCEK for chip_id at tcb, or of a product file ("cert_chain",
 * "crl"): collateral that passed its form check but failed verification (see
 * cvma_snp_collateral_evict). CVMA_OK also when there was none or k has no cache; CVMA_E_IO,
 * CVMA_E_USAGE (unknown product), CVMA_E_NOMEM.
 */
CVMA_MUST_USE enum cvma_status cvma_kds_evict_vcek(const struct cvma_kds *k,
                                                   enum cvma_snp_product product,
                                                   const uint8_t chip_id[64],
                                                   const struct cvma_snp_tcb *tcb);
CVMA_MUST_USE enum cvma_status cvma_kds_evict_product_file(const struct cvma_kds *k,
                                                           enum cvma_snp_product product, bool vlek,
                                                           const char *file);

/* True when the on-disk cache holds product's CRL (vlek: the VLEK CRL) but past its expiry
 * (the CRL's nextUpdate): *expired_at is then that time, and body (may be NULL) the CRL
 * (cvma_kds_cached_expired). */
CVMA_MUST_USE bool cvma_kds_crl_cached_expired(const struct cvma_kds *k,
                                               enum cvma_snp_product product, bool vlek,
                                               int64_t *expired_at, struct cvma_buf *body);

/* The full URL of the CRL for product (vlek: the VLEK CRL) under k's base URL, into out.
 * CVMA_OK, or CVMA_E_USAGE for an unknown product or a too small buffer (out is then ""). */
CVMA_MUST_USE enum cvma_status cvma_kds_crl_url(const struct cvma_kds *k,
                                                enum cvma_snp_product product, bool vlek, char *out,
                                                size_t n);

#endif
