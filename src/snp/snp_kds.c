/* SEV-SNP collateral from AMD KDS (see snp/snp_kds.h). */
#include "snp/snp_kds.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/hex.h"
#include "crypto/crypto.h"
#include "snp/amd_cert.h"

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
        /* One already past its nextUpdate is refused by its version (crl_version), never
         * cached: no grace period here. 0 would mean "never" to the cache. */
        *expires_at = ok && next > 0 ? next : now + CVMA_KDS_CRL_DEFAULT_TTL;
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

/* The check callback of the fetch path: arg points to the body kind. */
static bool check_cb(const struct cvma_buf *bytes, int64_t now, int64_t *expires_at, char *why,
                     size_t why_len, void *arg)
{
    const char *problem = check_body(*(const enum body_kind *)arg, bytes, now, expires_at);
    if (problem != NULL) {
        snprintf(why, why_len, "%s", problem);
        return false;
    }
    return true;
}

/* The version callback of a CRL (collateral/fetch.h): its thisUpdate, nextUpdate and CRL
 * number, so that a refresh older than the cached copy, or already expired, is not taken. */
static bool crl_version(const struct cvma_buf *bytes, struct cvma_collateral_version *out,
                        void *arg)
{
    (void)arg;
    const unsigned char *q = bytes->p;
    X509_CRL *crl;

    memset(out, 0, sizeof *out);
    if (bytes->len == 0 || bytes->len > CVMA_CACHE_MAX_BODY ||
        (crl = d2i_X509_CRL(NULL, &q, (long)bytes->len)) == NULL) {
        ERR_clear_error();
        return false;
    }
    cvma_crl_version(crl, &out->issued, &out->next_update, &out->has_number, &out->number);
    X509_CRL_free(crl);
    return true;
}

/* What a VCEK download must be for (the admit callback's arg): the kind first, so that
 * check_cb reads it too. */
struct vcek_want {
    enum body_kind kind; /* BODY_CERT_DER */
    const uint8_t *hwid; /* 64 bytes, or 8 on Turin */
    size_t hwid_len;
    struct cvma_kds_spl spl;
};

/* One SPL extension against the URL's value: why it differs, or NULL. */
static bool spl_differs(const struct cvma_amd_cert_ext *e, int idx, uint8_t want, const char *name,
                        char *why, size_t why_len)
{
    if (!e->has_spl[idx]) {
        snprintf(why, why_len, "a certificate without the %s extension, not a VCEK", name);
        return true;
    }
    if (e->spl[idx] != want) {
        snprintf(why, why_len, "a VCEK for %s=%u, not the %s=%u asked for", name, e->spl[idx], name,
                 want);
        return true;
    }
    return false;
}

/*
 * The admit callback of a VCEK download: its hwID and SPL extensions are those in the URL it
 * was fetched from (AMD VCEK spec: KDS signs a VCEK for that chip at that TCB). A mirror or a
 * network that serves anything else (another chip's VCEK, an ARK, a certificate of another
 * TCB) is refused before the bytes are cached. Runs on downloads only, never on cache hits.
 */
static bool admit_vcek(const struct cvma_buf *bytes, int64_t now, int64_t *expires_at, char *why,
                       size_t why_len, void *arg)
{
    const struct vcek_want *w = arg;
    const unsigned char *q = bytes->p;
    struct cvma_amd_cert_ext ext;
    struct cvma_verdict scratch;
    X509 *x = d2i_X509(NULL, &q, (long)bytes->len);
    bool ok = false;

    (void)now;
    (void)expires_at;
    cvma_verdict_init(&scratch);
    if (x == NULL) {
        snprintf(why, why_len, "not one DER X.509 certificate");
        goto out;
    }
    if (cvma_amd_cert_ext_parse(x, &ext, &scratch) != CVMA_OK) {
        snprintf(why, why_len, "AMD extensions: %s",
                 scratch.n_reasons > 0 ? scratch.reasons[0].detail : "unreadable");
        goto out;
    }
    if (!ext.has_hwid || ext.hwid_len != w->hwid_len ||
        memcmp(ext.hwid, w->hwid, w->hwid_len) != 0) {
        char got[2 * 64 + 1];
        if (ext.has_hwid) {
            cvma_hex_encode(ext.hwid, ext.hwid_len, got, sizeof got);
        }
        snprintf(why, why_len, "%s%.16s%s, not a VCEK for the hwID asked for",
                 ext.has_hwid ? "a certificate for hwID " : "a certificate without a hwID",
                 ext.has_hwid ? got : "", ext.has_hwid ? "..." : "");
        goto out;
    }
    if (spl_differs(&ext, CVMA_AMD_SPL_BL, w->spl.bootloader, "blSPL", why, why_len) ||
        spl_differs(&ext, CVMA_AMD_SPL_TEE, w->spl.tee, "teeSPL", why, why_len) ||
        spl_differs(&ext, CVMA_AMD_SPL_SNP, w->spl.snp, "snpSPL", why, why_len) ||
        spl_differs(&ext, CVMA_AMD_SPL_UCODE, w->spl.microcode, "ucodeSPL", why, why_len) ||
        (w->spl.has_fmc &&
         spl_differs(&ext, CVMA_AMD_SPL_FMC, w->spl.fmc, "fmcSPL", why, why_len))) {
        goto out;
    }
    ok = true;
out:
    ERR_clear_error();
    X509_free(x);
    cvma_verdict_cleanup(&scratch);
    return ok;
}

/* see snp/snp_kds.h */
enum cvma_status cvma_kds_vcek_url(enum cvma_snp_product product, const uint8_t chip_id[64],
                                   const struct cvma_snp_tcb *tcb, char *out, size_t n)
{
    const char *name = kds_product(product);
    /* Turin VCEKs carry an 8-byte hwID; KDS answers 404 to the 64-byte form
     * (AMD VCEK Certificate and KDS Interface spec). */
    bool turin = product == CVMA_SNP_PRODUCT_TURIN;
    struct cvma_kds_spl spl = {turin,    tcb->fmc, tcb->bootloader,
                               tcb->tee, tcb->snp, tcb->microcode};

    if (out != NULL && n > 0) {
        out[0] = '\0';
    }
    if (name == NULL) {
        return CVMA_E_USAGE;
    }
    return cvma_kds_vcek_path(name, chip_id, turin ? 8 : 64, &spl, out, n);
}

/* see snp/snp_kds.h */
enum cvma_status cvma_kds_fetch_vcek(const struct cvma_kds *k, enum cvma_snp_product product,
                                     const uint8_t chip_id[64], const struct cvma_snp_tcb *tcb,
                                     struct cvma_buf *out, struct cvma_verdict *v, char *err,
                                     size_t err_len)
{
    char path[CVMA_KDS_PATH_MAX];
    bool turin = product == CVMA_SNP_PRODUCT_TURIN;
    struct vcek_want want = {
            BODY_CERT_DER,
            chip_id,
            turin ? 8 : 64,
            {turin, tcb->fmc, tcb->bootloader, tcb->tee, tcb->snp, tcb->microcode}};

    out->p = NULL;
    out->len = 0;
    if (cvma_kds_vcek_url(product, chip_id, tcb, path, sizeof path) != CVMA_OK) {
        cvma_errf(err, err_len, "VCEK: KDS serves no product %d", (int)product);
        return CVMA_E_USAGE;
    }
    /* A VCEK for one chip and TCB never changes: not refreshed, never expires. Its URL is
     * the report's CHIP_ID and TCB, which nothing checks before the VCEK is had: budgeted. */
    return cvma_kds_fetch_ex(k, kind_name(want.kind), path, false, true, check_cb, admit_vcek, NULL,
                             &want, out, v, err, err_len);
}

/* see snp/snp_kds.h */
enum cvma_status cvma_kds_evict_vcek(const struct cvma_kds *k, enum cvma_snp_product product,
                                     const uint8_t chip_id[64], const struct cvma_snp_tcb *tcb)
{
    char path[CVMA_KDS_PATH_MAX];

    if (cvma_kds_vcek_url(product, chip_id, tcb, path, sizeof path) != CVMA_OK) {
        return CVMA_E_USAGE;
    }
    return cvma_kds_evict(k, path);
}

/* see snp/snp_kds.h */
enum cvma_status cvma_kds_evict_product_file(const struct cvma_kds *k,
                                             enum cvma_snp_product product, bool vlek,
                                             const char *file)
{
    const char *name = kds_product(product);
    char path[CVMA_KDS_PATH_MAX];

    if (name == NULL || cvma_kds_product_path(name, vlek, file, path, sizeof path) != CVMA_OK) {
        return CVMA_E_USAGE;
    }
    return cvma_kds_evict(k, path);
}

/* What a cert_chain download must be (the admit callback's arg): the kind first, so that
 * check_cb reads it too. */
struct chain_want {
    enum body_kind kind; /* BODY_CHAIN_PEM */
    const char *product; /* KDS's name: "Milan" */
    bool vlek;
};

/*
 * The admit callback of a cert_chain download: the ASK (SEV-<product>) or, on the VLEK path,
 * the ASVK (SEV-VLEK-<product>), then the ARK (ARK-<product>) that issued it, by AMD's names
 * (docs/collateral.md). A chain of another product or of the other path (the ASVK chain at the VCEK
 * URL) has sound signatures of its own, so the verification could only find it wrong against
 * a leaf; refused here, before the bytes are cached, it cannot fail a VCEK given by the user
 * or fetched later. Runs on downloads (and the fleet's shared copy), never on the private
 * cache's hits.
 */
static bool admit_chain(const struct cvma_buf *bytes, int64_t now, int64_t *expires_at, char *why,
                        size_t why_len, void *arg)
{
    const struct chain_want *w = arg;
    char want_ca[64], want_ark[64], cn[128];
    BIO *bio = BIO_new_mem_buf(bytes->p, (int)bytes->len);
    X509 *ca = NULL, *ark = NULL;
    bool ok = false;

    (void)now;
    (void)expires_at;
    snprintf(want_ca, sizeof want_ca, w->vlek ? "SEV-VLEK-%s" : "SEV-%s", w->product);
    snprintf(want_ark, sizeof want_ark, "ARK-%s", w->product);
    if (bio == NULL || (ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
        (ark = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
        snprintf(why, why_len, "not a PEM chain of two certificates");
        goto out;
    }
    cvma_x509_subject_cn(ca, cn, sizeof cn);
    if (strcmp(cn, want_ca) != 0) {
        snprintf(why, why_len, "a chain whose %s is '%s', not the '%s' of the %s path",
                 w->vlek ? "ASVK" : "ASK", cn, want_ca, w->vlek ? "VLEK" : "VCEK");
        goto out;
    }
    cvma_x509_subject_cn(ark, cn, sizeof cn);
    if (strcmp(cn, want_ark) != 0) {
        snprintf(why, why_len, "a chain whose ARK is '%s', not '%s'", cn, want_ark);
        goto out;
    }
    if (X509_NAME_cmp(X509_get_issuer_name(ca), X509_get_subject_name(ark)) != 0) {
        snprintf(why, why_len, "a chain whose %s is not issued by the ARK after it",
                 w->vlek ? "ASVK" : "ASK");
        goto out;
    }
    ok = true;
out:
    ERR_clear_error();
    X509_free(ca);
    X509_free(ark);
    BIO_free(bio);
    return ok;
}

/* A product's file (cert_chain, crl) from KDS; arg (its first member the body kind) goes to
 * check_cb and admit (NULL: none). */
static enum cvma_status fetch_product_file(const struct cvma_kds *k, const void *arg,
                                           cvma_collateral_check_fn admit,
                                           enum cvma_snp_product product, bool vlek,
                                           const char *file, struct cvma_buf *out,
                                           struct cvma_verdict *v, char *err, size_t err_len)
{
    enum body_kind kind = *(const enum body_kind *)arg;
    const char *name = kds_product(product);
    char path[CVMA_KDS_PATH_MAX];

    out->p = NULL;
    out->len = 0;
    if (name == NULL || cvma_kds_product_path(name, vlek, file, path, sizeof path) != CVMA_OK) {
        cvma_errf(err, err_len, "%s: KDS serves no product %d", kind_name(kind), (int)product);
        return CVMA_E_USAGE;
    }
    /* Only CRLs change; a chain is the same bytes for as long as it exists. */
    return cvma_kds_fetch_ex(k, kind_name(kind), path, kind == BODY_CRL_DER, false, check_cb, admit,
                             kind == BODY_CRL_DER ? crl_version : NULL, (void *)(uintptr_t)arg, out,
                             v, err, err_len);
}

/* see snp/snp_kds.h */
enum cvma_status cvma_kds_fetch_cert_chain(const struct cvma_kds *k, enum cvma_snp_product product,
                                           bool vlek, struct cvma_buf *out, struct cvma_verdict *v,
                                           char *err, size_t err_len)
{
    struct chain_want want = {BODY_CHAIN_PEM, kds_product(product), vlek};
    return fetch_product_file(k, &want, admit_chain, product, vlek, "cert_chain", out, v, err,
                              err_len);
}

/* see snp/snp_kds.h */
enum cvma_status cvma_kds_fetch_crl(const struct cvma_kds *k, enum cvma_snp_product product,
                                    bool vlek, struct cvma_buf *out, struct cvma_verdict *v,
                                    char *err, size_t err_len)
{
    static const enum body_kind kind = BODY_CRL_DER;
    return fetch_product_file(k, &kind, NULL, product, vlek, "crl", out, v, err, err_len);
}

/* see snp/snp_kds.h */
bool cvma_kds_crl_cached_expired(const struct cvma_kds *k, enum cvma_snp_product product, bool vlek,
                                 int64_t *expired_at, struct cvma_buf *body)
{
    const char *name = kds_product(product);
    char path[CVMA_KDS_PATH_MAX];

    *expired_at = 0;
    if (name == NULL || cvma_kds_product_path(name, vlek, "crl", path, sizeof path) != CVMA_OK) {
        return false;
    }
    return cvma_kds_cached_expired(k, path, expired_at, body);
}

/* see snp/snp_kds.h */
enum cvma_status cvma_kds_crl_url(const struct cvma_kds *k, enum cvma_snp_product product,
                                  bool vlek, char *out, size_t n)
{
    const char *name = kds_product(product);
    char path[CVMA_KDS_PATH_MAX];

    if (out == NULL || n == 0) {
        return CVMA_E_USAGE;
    }
    out[0] = '\0';
    if (name == NULL || cvma_kds_product_path(name, vlek, "crl", path, sizeof path) != CVMA_OK) {
        return CVMA_E_USAGE;
    }
    return cvma_kds_url(k, path, out, n);
}
