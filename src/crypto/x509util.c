#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/timeutil.h"
#include "crypto/crypto.h"

static bool looks_pem(const uint8_t *p, size_t len)
{
    static const char tag[] = "-----BEGIN";
    for (size_t i = 0; i + sizeof tag - 1 <= len && i < 64; i++) {
        if (memcmp(p + i, tag, sizeof tag - 1) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * OpenSSL computes a certificate's cached extension data (key identifiers, flags, its hash)
 * lazily, on the first check that needs it, and OpenSSL 3.0 can do that in two threads at
 * once on one shared certificate (a race ThreadSanitizer reports in X509_verify_cert). Every
 * certificate is therefore made to compute it here, while it still belongs to one thread;
 * later checks only read it.
 */
static X509 *warm(X509 *x)
{
    if (x != NULL) {
        (void)X509_check_purpose(x, -1, 0);
    }
    return x;
}

X509 *cvma_x509_load(const uint8_t *p, size_t len)
{
    X509 *x = NULL;
    if (p == NULL || len == 0 || len > (size_t)INT32_MAX) {
        return NULL;
    }
    if (looks_pem(p, len)) {
        BIO *b = BIO_new_mem_buf(p, (int)len);
        if (b != NULL) {
            x = PEM_read_bio_X509(b, NULL, NULL, NULL);
            BIO_free(b);
        }
        if (x == NULL) {
            ERR_clear_error();
        }
        return warm(x);
    }
    const unsigned char *q = p;
    x = d2i_X509(NULL, &q, (long)len);
    if (x != NULL && (size_t)(q - p) != len) {
        X509_free(x); /* bytes after the certificate: not one DER certificate */
        x = NULL;
    }
    if (x == NULL) {
        ERR_clear_error(); /* a refusal is the NULL: nothing left queued for the caller */
    }
    return warm(x);
}

/* see crypto/crypto.h */
enum cvma_status cvma_trust_root_load(const char *path, X509 **out, char *err, size_t err_len)
{
    struct cvma_buf b;
    *out = NULL;
    enum cvma_status rst = cvma_file_read(path, 1u << 20, &b);
    if (rst != CVMA_OK) {
        char why[96];
        cvma_errf(err, err_len, "cannot read the trust root '%s': %s", path,
                  rst == CVMA_E_NOMEM ? "out of memory"
                                      : cvma_file_read_why(errno, 1u << 20, why, sizeof why));
        return rst == CVMA_E_NOMEM ? rst : CVMA_E_IO;
    }
    X509 *x = cvma_x509_load(b.p, b.len);
    STACK_OF(X509) *all = x != NULL ? cvma_x509_load_pem_stack(b.p, b.len) : NULL;
    int n_certs = all != NULL ? sk_X509_num(all) : 0;
    sk_X509_pop_free(all, X509_free);
    cvma_buf_free(&b);
    if (x == NULL) {
        cvma_errf(err, err_len, "the trust root '%s' is not a PEM or DER certificate", path);
        return CVMA_E_USAGE;
    }
    if (n_certs > 1) {
        X509_free(x);
        cvma_errf(err, err_len,
                  "the trust root '%s' holds %d certificates: give each root in a file of its "
                  "own (one --trust-root, or one trust_root_files entry, each)",
                  path, n_certs);
        return CVMA_E_USAGE;
    }
    *out = x;
    return CVMA_OK;
}

STACK_OF(X509) * cvma_x509_load_pem_stack(const uint8_t *p, size_t len)
{
    STACK_OF(X509) *sk = NULL;
    BIO *b = NULL;
    X509 *x;

    if (p == NULL || len == 0 || len > (size_t)INT32_MAX) {
        return NULL;
    }
    if ((b = BIO_new_mem_buf(p, (int)len)) == NULL || (sk = sk_X509_new_null()) == NULL) {
        goto fail;
    }
    while ((x = warm(PEM_read_bio_X509(b, NULL, NULL, NULL))) != NULL) {
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            goto fail;
        }
    }
    ERR_clear_error();
    BIO_free(b);
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        return NULL;
    }
    return sk;
fail:
    BIO_free(b);
    sk_X509_pop_free(sk, X509_free);
    return NULL;
}

bool cvma_x509_to_der(X509 *x, struct cvma_buf *out)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    out->p = NULL;
    out->len = 0;
    if (n <= 0) {
        return false;
    }
    out->p = malloc((size_t)n);
    if (out->p == NULL) {
        OPENSSL_free(der);
        return false;
    }
    memcpy(out->p, der, (size_t)n);
    out->len = (size_t)n;
    OPENSSL_free(der);
    return true;
}

bool cvma_x509_spki_sha256(X509 *x, uint8_t out[32])
{
    unsigned char *der = NULL;
    unsigned int mdlen = 0;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    bool ok = false;
    if (n > 0) {
        ok = EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32;
    }
    OPENSSL_free(der);
    return ok;
}

void cvma_x509_subject_cn(X509 *x, char *out, size_t out_len)
{
    out[0] = '\0';
    X509_NAME *n = X509_get_subject_name(x);
    if (n == NULL || X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)out_len) < 0) {
        out[0] = '\0';
    }
}

/* see crypto/crypto.h */
bool cvma_crl_misses(X509_CRL *crl, time_t at, time_t *this_update, time_t *next_update)
{
    *this_update = *next_update = 0;
    if (crl == NULL || !cvma_crl_time(X509_CRL_get0_lastUpdate(crl), this_update) ||
        !cvma_crl_time(X509_CRL_get0_nextUpdate(crl), next_update)) {
        return false;
    }
    return at < *this_update || at >= *next_update;
}

/* see crypto/crypto.h */
bool cvma_crl_revokes_at(X509_CRL *crl, X509 *x, time_t at)
{
    X509_REVOKED *rev = NULL;
    time_t tu, nu, when;

    if (crl == NULL || x == NULL || X509_CRL_get0_by_cert(crl, &rev, x) != 1) {
        return false;
    }
    return !cvma_crl_misses(crl, at, &tu, &nu) ||
           (cvma_asn1_time_to_time_t(X509_REVOKED_get0_revocationDate(rev), &when) && when <= at);
}

void cvma_crl_version(X509_CRL *crl, int64_t *this_update, int64_t *next_update, bool *has_number,
                      uint64_t *number)
{
    time_t t = 0;
    ASN1_INTEGER *n = NULL;

    *this_update = cvma_crl_time(X509_CRL_get0_lastUpdate(crl), &t) ? (int64_t)t : 0;
    t = 0;
    *next_update = cvma_crl_time(X509_CRL_get0_nextUpdate(crl), &t) ? (int64_t)t : 0;
    *has_number = false;
    *number = 0;
    if ((n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL)) != NULL) {
        *has_number = ASN1_INTEGER_get_uint64(number, n) == 1;
        if (!*has_number) {
            *number = 0;
        }
        ASN1_INTEGER_free(n);
    }
    ERR_clear_error();
}

X509_CRL *cvma_crl_load(const uint8_t *p, size_t len)
{
    X509_CRL *crl = NULL;
    if (p == NULL || len == 0 || len > (size_t)INT32_MAX) {
        return NULL;
    }
    if (looks_pem(p, len)) {
        BIO *b = BIO_new_mem_buf(p, (int)len);
        if (b != NULL) {
            crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
            /* One CRL a file: anything but white space after it (a second CRL, which would
             * be left unread, so that revocation hung on the file's order) is refused. */
            char rest[256];
            int n;
            while (crl != NULL && (n = BIO_read(b, rest, (int)sizeof rest)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (rest[i] != ' ' && rest[i] != '\t' && rest[i] != '\r' && rest[i] != '\n') {
                        X509_CRL_free(crl);
                        crl = NULL;
                        break;
                    }
                }
            }
            BIO_free(b);
        }
    } else {
        const unsigned char *q = p;
        crl = d2i_X509_CRL(NULL, &q, (long)len);
        if (crl != NULL && (size_t)(q - p) != len) {
            X509_CRL_free(crl);
            crl = NULL;
        }
    }
    if (crl == NULL) {
        ERR_clear_error(); /* a refusal is the NULL: nothing left queued for the caller */
    }
    return crl;
}

bool cvma_asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    *out = 0;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return false;
    }
    *out = timegm(&tm);
    return true;
}

bool cvma_crl_time(const ASN1_TIME *t, time_t *out)
{
    time_t any = 0;

    *out = 0;
    /* X509_cmp_time returns 0 only when it cannot read t (never for equal times). */
    return t != NULL && X509_cmp_time(t, &any) != 0 && cvma_asn1_time_to_time_t(t, out);
}

void cvma_asn1_time_format(const ASN1_TIME *t, char *out, size_t out_len)
{
    time_t when;
    if (t == NULL) {
        snprintf(out, out_len, "(none)");
    } else if (!cvma_asn1_time_to_time_t(t, &when)) {
        snprintf(out, out_len, "(unreadable)");
    } else {
        cvma_time_format(when, out, out_len);
    }
}

/* see crypto/crypto.h */
void cvma_x509_name_text(X509_NAME *name, char *out, size_t out_len)
{
    out[0] = '\0';
    if (name == NULL) {
        return;
    }
    if (X509_NAME_get_text_by_NID(name, NID_commonName, out, (int)out_len) > 0) {
        return;
    }
    if (X509_NAME_oneline(name, out, (int)out_len) == NULL) {
        out[0] = '\0';
    }
}

static const char hint[] =
        "; to check historical evidence, give --at a time inside the window (verify; the service "
        "judges as of now)";

/*
 * "ROLE (NAMEKIND 'NAME'): verification time AT is before FROM_LABEL FROM (TO_LABEL TO); hint",
 * or "... is after TO_LABEL TO (FROM_LABEL FROM); hint". from/to may be NULL (no bound).
 */
static void window_detail(const char *role, const char *name_kind, const char *name,
                          const char *from_label, const ASN1_TIME *from, const char *to_label,
                          const ASN1_TIME *to, time_t at, char *out, size_t out_len)
{
    char w[32], a[32], b[32], who[224];
    time_t tf = 0, tt = 0;
    bool has_from = cvma_asn1_time_to_time_t(from, &tf);
    bool has_to = cvma_asn1_time_to_time_t(to, &tt);

    cvma_time_format(at, w, sizeof w);
    cvma_asn1_time_format(from, a, sizeof a);
    cvma_asn1_time_format(to, b, sizeof b);
    if (name[0] != '\0') {
        snprintf(who, sizeof who, "%s (%s '%.160s')", role, name_kind, name);
    } else {
        snprintf(who, sizeof who, "%s", role);
    }
    if (has_from && at < tf) {
        snprintf(out, out_len, "%s: verification time %s is before %s %s (%s %s)%s", who, w,
                 from_label, a, to_label, b, hint);
    } else if (has_to && at >= tt) { /* OpenSSL: the end itself is past */
        snprintf(out, out_len, "%s: verification time %s is %s %s %s (%s %s)%s", who, w,
                 at > tt ? "after" : "at", to_label, b, from_label, a, hint);
    } else {
        /* OpenSSL said so, but the dates we read put `at` inside: name them all the same. */
        snprintf(out, out_len, "%s: outside its window at verification time %s (%s %s .. %s %s)%s",
                 who, w, from_label, a, to_label, b, hint);
    }
}

void cvma_x509_window_detail(X509 *x, const char *role, time_t at, char *out, size_t out_len)
{
    char name[160];
    cvma_x509_name_text(x != NULL ? X509_get_subject_name(x) : NULL, name, sizeof name);
    window_detail(role, "subject", name, "notBefore", x != NULL ? X509_get0_notBefore(x) : NULL,
                  "notAfter", x != NULL ? X509_get0_notAfter(x) : NULL, at, out, out_len);
}

void cvma_crl_window_detail(X509_CRL *crl, const char *role, time_t at, char *out, size_t out_len)
{
    char name[160];
    cvma_x509_name_text(crl != NULL ? X509_CRL_get_issuer(crl) : NULL, name, sizeof name);
    window_detail(role, "issuer", name, "thisUpdate",
                  crl != NULL ? X509_CRL_get0_lastUpdate(crl) : NULL, "nextUpdate",
                  crl != NULL ? X509_CRL_get0_nextUpdate(crl) : NULL, at, out, out_len);
}

X509_CRL *cvma_x509_store_crl_for(X509_STORE *store, X509 *x)
{
    STACK_OF(X509_OBJECT) *objs = store != NULL ? X509_STORE_get0_objects(store) : NULL;
    for (int i = 0; x != NULL && i < sk_X509_OBJECT_num(objs); i++) {
        X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
        if (crl != NULL && X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) == 0) {
            return crl;
        }
    }
    return NULL;
}

/* see crypto/crypto.h */
int cvma_pem_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* see crypto/crypto.h */
EVP_PKEY *cvma_pem_private_key(const uint8_t *p, size_t len)
{
    BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(p, (int)len) : NULL;
    EVP_PKEY *k =
            bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, cvma_pem_no_passphrase, NULL) : NULL;
    BIO_free(bio);
    ERR_clear_error();
    return k;
}

/* The digest an AlgorithmIdentifier of a hash names (its parameters absent or NULL), else
 * NID_undef. */
static int hash_nid(const X509_ALGOR *a)
{
    const ASN1_OBJECT *obj = NULL;
    int ptype = V_ASN1_UNDEF;
    const void *pval = NULL;
    if (a == NULL) {
        return NID_undef;
    }
    X509_ALGOR_get0(&obj, &ptype, &pval, a);
    return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL ? OBJ_obj2nid(obj) : NID_undef;
}

/* see crypto/crypto.h */
bool cvma_algor_is_amd_pss(const X509_ALGOR *alg, char *why, size_t why_len)
{
    const ASN1_OBJECT *obj = NULL;
    int ptype = V_ASN1_UNDEF;
    const void *pval = NULL;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    int nid = OBJ_obj2nid(obj);
    if (nid != NID_rsassaPss) {
        snprintf(why, why_len, "%s", nid != NID_undef ? OBJ_nid2ln(nid) : "an unknown algorithm");
        return false;
    }
    const ASN1_STRING *seq = ptype == V_ASN1_SEQUENCE ? pval : NULL;
    const unsigned char *p = seq != NULL ? ASN1_STRING_get0_data(seq) : NULL;
    long len = seq != NULL ? ASN1_STRING_length(seq) : 0;
    RSA_PSS_PARAMS *pss = p != NULL ? d2i_RSA_PSS_PARAMS(NULL, &p, len) : NULL;
    X509_ALGOR *mgf_hash = NULL;
    bool ok = false;
    if (pss == NULL || p != ASN1_STRING_get0_data(seq) + len) {
        snprintf(why, why_len, "RSASSA-PSS with unreadable parameters");
    } else if (hash_nid(pss->hashAlgorithm) != NID_sha384) {
        snprintf(why, why_len, "RSASSA-PSS with a hash other than SHA-384");
    } else if (pss->maskGenAlgorithm == NULL ||
               OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) != NID_mgf1 ||
               pss->maskGenAlgorithm->parameter == NULL ||
               pss->maskGenAlgorithm->parameter->type != V_ASN1_SEQUENCE ||
               (mgf_hash = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR),
                                                     pss->maskGenAlgorithm->parameter)) == NULL ||
               hash_nid(mgf_hash) != NID_sha384) {
        snprintf(why, why_len, "RSASSA-PSS with a mask other than MGF1 with SHA-384");
    } else if (pss->saltLength == NULL || ASN1_INTEGER_get(pss->saltLength) != 48) {
        snprintf(why, why_len, "RSASSA-PSS with salt %ld",
                 pss->saltLength != NULL ? ASN1_INTEGER_get(pss->saltLength) : 20L);
    } else if (pss->trailerField != NULL && ASN1_INTEGER_get(pss->trailerField) != 1) {
        snprintf(why, why_len, "RSASSA-PSS with trailer field %ld",
                 ASN1_INTEGER_get(pss->trailerField));
    } else {
        ok = true;
    }
    X509_ALGOR_free(mgf_hash);
    RSA_PSS_PARAMS_free(pss);
    return ok;
}

/* see crypto/crypto.h */
bool cvma_x509_says_ca(X509 *x)
{
    return X509_check_ca(x) != 0 || (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}
