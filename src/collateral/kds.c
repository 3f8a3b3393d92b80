#include "collateral/kds.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/hex.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"

enum body_kind {
    BODY_CERT_DER,  /* VCEK */
    BODY_CHAIN_PEM, /* ASK/ASVK then ARK */
    BODY_CRL_DER,
};

/* KDS product path component, or NULL for a product KDS does not serve. */
static const char *kds_product(enum cvma_snp_product product)
{
    switch (product) {
    case CVMA_SNP_PRODUCT_MILAN:
    case CVMA_SNP_PRODUCT_GENOA:
    case CVMA_SNP_PRODUCT_TURIN:
        return cvma_snp_product_name(product);
    case CVMA_SNP_PRODUCT_UNKNOWN:
        return NULL;
    }
    return NULL;
}

void cvma_kds_init(struct cvma_kds *k)
{
    memset(k, 0, sizeof *k);
    k->base_url = CVMA_KDS_DEFAULT_BASE_URL;
    cvma_http_opts_init(&k->http);
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_vcek_url(enum cvma_snp_product product, const uint8_t chip_id[64],
                                   const struct cvma_snp_tcb *tcb, char *out, size_t n)
{
    const char *name = kds_product(product);
    char hwid[2 * 64 + 1];
    int w;

    if (out == NULL || n == 0) {
        return CVMA_E_USAGE;
    }
    out[0] = '\0';
    if (name == NULL) {
        return CVMA_E_USAGE;
    }
    if (product == CVMA_SNP_PRODUCT_TURIN) {
        /* Turin VCEKs carry an 8-byte hwID; KDS answers 404 to the 64-byte form
         * (snp-report.md §9). FMC_SPL comes first, as KDS documents the query. */
        cvma_hex_encode(chip_id, 8, hwid, sizeof hwid);
        w = snprintf(out, n, "/vcek/v1/%s/%s?fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     name, hwid, (unsigned)tcb->fmc, (unsigned)tcb->bootloader, (unsigned)tcb->tee,
                     (unsigned)tcb->snp, (unsigned)tcb->microcode);
    } else {
        cvma_hex_encode(chip_id, 64, hwid, sizeof hwid);
        w = snprintf(out, n, "/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", name, hwid,
                     (unsigned)tcb->bootloader, (unsigned)tcb->tee, (unsigned)tcb->snp,
                     (unsigned)tcb->microcode);
    }
    if (w < 0 || (size_t)w >= n) {
        out[0] = '\0';
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}

/*
 * Checks that body has the form the endpoint promises (nothing more: no signatures). For a
 * CRL also computes when the cache entry should expire. Returns a short description of the
 * problem, or NULL when the body is well-formed.
 */
static const char *check_body(enum body_kind kind, const struct cvma_buf *b, int64_t now,
                              int64_t *expires_at)
{
    const char *problem = NULL;
    const unsigned char *q = b->p;
    X509 *x = NULL;
    X509_CRL *crl = NULL;
    BIO *bio = NULL;

    *expires_at = 0;
    if (b->len == 0 || b->len > CVMA_CACHE_MAX_BODY) {
        problem = "empty, or larger than the cache accepts";
        goto out;
    }
    switch (kind) {
    case BODY_CERT_DER:
        if ((x = d2i_X509(NULL, &q, (long)b->len)) == NULL || q != b->p + b->len) {
            problem = "not one DER X.509 certificate";
        }
        break;
    case BODY_CHAIN_PEM: {
        int count = 0;
        if ((bio = BIO_new_mem_buf(b->p, (int)b->len)) == NULL) {
            problem = "out of memory";
            goto out;
        }
        /* At most three reads: a KDS chain has exactly two certificates. */
        while (count < 3 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            X509_free(x);
            x = NULL;
            count++;
        }
        if (count != 2) {
            problem = "not a PEM chain of exactly two certificates";
        }
        break;
    }
    case BODY_CRL_DER: {
        bool ok;
        int64_t next;
        if ((crl = d2i_X509_CRL(NULL, &q, (long)b->len)) == NULL || q != b->p + b->len) {
            problem = "not one DER X.509 CRL";
            break;
        }
        {
            time_t t = 0;
            ok = cvma_asn1_time_to_time_t(X509_CRL_get0_nextUpdate(crl), &t);
            next = (int64_t)t;
        }
        if (!ok) {
            *expires_at = now + CVMA_KDS_CRL_DEFAULT_TTL;
        } else if (next <= now) {
            *expires_at = now + CVMA_KDS_CRL_STALE_TTL;
        } else {
            *expires_at = next;
        }
        break;
    }
    }
out:
    ERR_clear_error(); /* failed parses leave errors in OpenSSL's thread queue */
    X509_free(x);
    X509_CRL_free(crl);
    BIO_free(bio);
    return problem;
}

static const char *kind_name(enum body_kind kind)
{
    switch (kind) {
    case BODY_CERT_DER:
        return "VCEK";
    case BODY_CHAIN_PEM:
        return "cert_chain";
    case BODY_CRL_DER:
        return "CRL";
    }
    return "collateral";
}

/* Joins base (without trailing '/') and path; NULL on allocation failure. */
static char *join_url(const char *base, const char *path)
{
    size_t bl = strlen(base), pl = strlen(path);
    char *u;

    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    if ((u = malloc(bl + pl + 1)) == NULL) {
        return NULL;
    }
    memcpy(u, base, bl);
    memcpy(u + bl, path, pl + 1);
    return u;
}

/* Records that a cached body older than the maximum age was used because its refresh
 * failed (why). */
static void note_stale(const struct cvma_kds *k, enum body_kind kind, const char *url,
                       const struct cvma_cache_meta *meta, int64_t now, const char *why,
                       struct cvma_verdict *v)
{
    char age[80], until[32];

    if (v == NULL) {
        return;
    }
    cvma_cache_age_text(meta->fetched_at, now, age, sizeof age);
    if (meta->expires_at != 0) {
        cvma_time_format((time_t)meta->expires_at, until, sizeof until);
    } else {
        snprintf(until, sizeof until, "no expiry");
    }
    (void)cvma_verdict_add(v, CVMA_R_COLLATERAL_STALE_CACHE, CVMA_SEV_WARNING,
                           "%s %s: cached copy fetched %s ago (maximum age %lld s) could not be "
                           "refreshed (%s); it is used until its own expiry (%s)",
                           kind_name(kind), url, age, (long long)cvma_cache_max_age(k->max_age),
                           why, until);
}

/* The cache-first fetch behind every public function. */
static enum cvma_status fetch(const struct cvma_kds *k, enum body_kind kind, const char *path,
                              struct cvma_buf *out, struct cvma_verdict *v, char *err,
                              size_t err_len)
{
    enum cvma_status st = CVMA_E_NOMEM;
    const char *base = k->base_url != NULL ? k->base_url : CVMA_KDS_DEFAULT_BASE_URL;
    const char *problem;
    struct cvma_buf body = {0}, stale = {0};
    struct cvma_cache_meta meta = {0, 0};
    char *url = NULL, *key = NULL;
    size_t key_len;
    int64_t now = (int64_t)time(NULL), expires_at = 0;
    /* Only CRLs change; a VCEK or a chain is the same bytes for as long as it exists. */
    bool refreshable = kind == BODY_CRL_DER;

    if ((url = join_url(base, path)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    key_len = sizeof "amd-kds " + strlen(url);
    if ((key = malloc(key_len)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    snprintf(key, key_len, "amd-kds %s", url);

    if (k->cache != NULL) {
        enum cvma_cache_state state;
        if ((st = cvma_cache_lookup_ex(k->cache, key, now, &body, &state, &meta)) != CVMA_OK) {
            cvma_errf(err, err_len, "out of memory");
            goto out;
        }
        if (state == CVMA_CACHE_HIT) {
            /* Re-check the form: an entry written by another version or by hand must not
             * get past the check a download gets. */
            if (check_body(kind, &body, now, &expires_at) == NULL) {
                if (!refreshable || k->offline ||
                    !cvma_cache_too_old(meta.fetched_at, now, k->max_age)) {
                    goto done;
                }
                /* Older than the maximum age: fetch again, keep this copy to fall back on. */
                stale = body;
                body.p = NULL;
                body.len = 0;
            } else {
                cvma_buf_free(&body);
                state = CVMA_CACHE_CORRUPT;
            }
        }
        if (state == CVMA_CACHE_CORRUPT && v != NULL) {
            (void)cvma_verdict_add(v, CVMA_R_COLLATERAL_CACHE_CORRUPT, CVMA_SEV_INFO,
                                   "cache entry for %s in %s is damaged; ignored", url,
                                   k->cache->dir);
        }
    }
    if (k->offline) {
        cvma_errf(err, err_len, "%s %s: offline and not in cache", kind_name(kind), url);
        st = CVMA_UNDECIDED;
        goto out;
    }
    if ((st = cvma_http_get(&k->http, url, &body, NULL, err, err_len)) != CVMA_OK) {
        if (st == CVMA_UNDECIDED && stale.p != NULL) {
            note_stale(k, kind, url, &meta, now, err, v);
            goto use_stale;
        }
        goto out;
    }
    if ((problem = check_body(kind, &body, now, &expires_at)) != NULL) {
        cvma_errf(err, err_len, "%s from %s: %s (%zu bytes); not cached", kind_name(kind), url,
                  problem, body.len);
        cvma_buf_free(&body);
        if (stale.p != NULL) {
            note_stale(k, kind, url, &meta, now, err, v);
            goto use_stale;
        }
        st = CVMA_UNDECIDED;
        goto out;
    }
    if (k->cache != NULL) {
        /* Best effort: a read-only or full cache costs a refetch next time, nothing more. */
        if (kind != BODY_CRL_DER) {
            expires_at = 0; /* VCEKs and chains never expire in the cache */
        }
        enum cvma_status put_st = cvma_cache_put(k->cache, key, body.p, body.len, expires_at);
        (void)put_st;
    }
    goto done;
use_stale:
    body = stale;
    stale.p = NULL;
    stale.len = 0;
done:
    *out = body;
    body.p = NULL;
    body.len = 0;
    cvma_errf(err, err_len, "%s", "");
    st = CVMA_OK;
out:
    cvma_buf_free(&body);
    cvma_buf_free(&stale);
    free(key);
    free(url);
    return st;
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_fetch_vcek(const struct cvma_kds *k, enum cvma_snp_product product,
                                     const uint8_t chip_id[64], const struct cvma_snp_tcb *tcb,
                                     struct cvma_buf *out, struct cvma_verdict *v, char *err,
                                     size_t err_len)
{
    char path[CVMA_KDS_PATH_MAX];

    out->p = NULL;
    out->len = 0;
    if (cvma_kds_vcek_url(product, chip_id, tcb, path, sizeof path) != CVMA_OK) {
        cvma_errf(err, err_len, "VCEK: KDS serves no product %d", (int)product);
        return CVMA_E_USAGE;
    }
    return fetch(k, BODY_CERT_DER, path, out, v, err, err_len);
}

static enum cvma_status fetch_product_file(const struct cvma_kds *k, enum body_kind kind,
                                           enum cvma_snp_product product, bool vlek,
                                           const char *file, struct cvma_buf *out,
                                           struct cvma_verdict *v, char *err, size_t err_len)
{
    const char *name = kds_product(product);
    char path[CVMA_KDS_PATH_MAX];

    out->p = NULL;
    out->len = 0;
    if (name == NULL) {
        cvma_errf(err, err_len, "%s: KDS serves no product %d", kind_name(kind), (int)product);
        return CVMA_E_USAGE;
    }
    snprintf(path, sizeof path, "/%s/v1/%s/%s", vlek ? "vlek" : "vcek", name, file);
    return fetch(k, kind, path, out, v, err, err_len);
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_fetch_cert_chain(const struct cvma_kds *k, enum cvma_snp_product product,
                                           bool vlek, struct cvma_buf *out, struct cvma_verdict *v,
                                           char *err, size_t err_len)
{
    return fetch_product_file(k, BODY_CHAIN_PEM, product, vlek, "cert_chain", out, v, err, err_len);
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_fetch_crl(const struct cvma_kds *k, enum cvma_snp_product product,
                                    bool vlek, struct cvma_buf *out, struct cvma_verdict *v,
                                    char *err, size_t err_len)
{
    return fetch_product_file(k, BODY_CRL_DER, product, vlek, "crl", out, v, err, err_len);
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_crl_url(const struct cvma_kds *k, enum cvma_snp_product product,
                                  bool vlek, char *out, size_t n)
{
    const char *name = kds_product(product);
    const char *base = k->base_url != NULL ? k->base_url : CVMA_KDS_DEFAULT_BASE_URL;
    size_t bl = strlen(base);
    int w;

    if (out == NULL || n == 0) {
        return CVMA_E_USAGE;
    }
    out[0] = '\0';
    if (name == NULL) {
        return CVMA_E_USAGE;
    }
    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    w = snprintf(out, n, "%.*s/%s/v1/%s/crl", (int)bl, base, vlek ? "vlek" : "vcek", name);
    if (w < 0 || (size_t)w >= n) {
        out[0] = '\0';
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}
