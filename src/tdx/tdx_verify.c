/*
 * Intel TDX quote verification (Intel QVL order):
 * parse; the PCK chain from the quote up to the pinned Intel SGX Root CA, with the PCK CRL
 * and the Root CA CRL; the collateral (TCB Info, QE Identity) and its signatures and times;
 * the QE report signature by the PCK key and the attestation key binding; the quote
 * signature; the TCB evaluation; then the appraisal that needs no policy file.
 *
 * Before any collateral is fetched by the PCK certificate's values (FMSPC, CA type), the PCK
 * chain's signatures are checked up to the same roots (cvma_tdx_pck_chain_precheck, for
 * tdx_fetch.c): the same code as the full check, without the CRLs and the times.
 *
 * Caching (docs/performance.md): a verified PCK chain, a verified collateral set, and the
 * attestation keys seen are kept in the chain cache, keyed by SHA-256 over the exact bytes
 * they came from (and the trust roots in force); so is a marker that a chain passed the full
 * check, which spares the pre-check its signatures and nothing else. Every time-dependent fact is
 * re-checked on every use; outside a window the item is verified in full again so the reason is
 * named. Entries are held by counted references (crypto/chain_cache.h), so one cache may serve many
 * threads verifying at once.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "common/hex.h"
#include "common/reader.h"
#include "common/timeutil.h"
#include "crypto/chain.h"
#include "crypto/chain_cache.h"
#include "crypto/crypto.h"
#include "tdx/tdx_claims.h"
#include "tdx/tdx_internal.h"

/* Intel SGX Root CA: SHA-256 of its SubjectPublicKeyInfo (docs/tdx.md). */
static const char intel_root_spki_sha256[] =
        "a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e";

#define MAX_WINDOWS 8

/* The validity windows a cached item was verified for, each as the full check judges it:
 * a certificate's or CRL's (OpenSSL) ends before its notAfter / nextUpdate second, TCB Info's
 * and QE Identity's (check_window) at their nextUpdate second included. */
struct windows {
    time_t from[MAX_WINDOWS], to[MAX_WINDOWS];
    bool to_past[MAX_WINDOWS]; /* the `to` second itself is outside */
    size_t n;
};

static void win_add(struct windows *w, time_t from, time_t to, bool to_past)
{
    if (w->n < MAX_WINDOWS) {
        w->from[w->n] = from;
        w->to[w->n] = to;
        w->to_past[w->n] = to_past;
        w->n++;
    }
}

static bool win_ok(const struct windows *w, time_t at)
{
    for (size_t i = 0; i < w->n; i++) {
        if (at < w->from[i] || at > w->to[i] || (w->to_past[i] && at == w->to[i])) {
            return false;
        }
    }
    return true;
}

/* A verified PCK chain and what verification needs from it. */
struct tdx_chain {
    EVP_PKEY *pck_pub;
    struct cvma_p256_verifier *pck_verifier;
    X509 *root; /* the anchor the collateral chains must end in */
    struct cvma_pck_ext pck;
    char anchor[96];
    bool crl_checked;
    struct windows w;
};

static void tdx_chain_free(void *p)
{
    struct tdx_chain *ch = p;
    if (ch != NULL) {
        cvma_p256_verifier_free(ch->pck_verifier);
        EVP_PKEY_free(ch->pck_pub);
        X509_free(ch->root);
        free(ch);
    }
}

struct coll_ok {
    struct windows w;
};

static void coll_ok_free(void *p)
{
    free(p);
}

static void verifier_free(void *p)
{
    cvma_p256_verifier_free(p);
}

/* SHA-256 over tagged parts; parts with NULL pointers are skipped. */
static bool key_of(const char *tag, const struct cvma_span *parts, size_t n,
                   const struct cvma_verify_opts *opts, uint8_t out[32])
{
    const EVP_MD *sha256 = cvma_sha256_md(); /* fetched once, thread-safe */
    EVP_MD_CTX *md = NULL;
    unsigned int len = 0;
    if (sha256 == NULL) {
        return false;
    }
    md = EVP_MD_CTX_new();
    bool ok = md != NULL && EVP_DigestInit_ex(md, sha256, NULL) == 1 &&
              EVP_DigestUpdate(md, tag, strlen(tag) + 1) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t l = parts[i].len;
        ok = EVP_DigestUpdate(md, &l, sizeof l) == 1 &&
             (l == 0 || EVP_DigestUpdate(md, parts[i].p, parts[i].len) == 1);
    }
    for (size_t i = 0; ok && opts != NULL && i < opts->n_trust_roots; i++) {
        uint8_t h[32];
        if (opts->trust_root_spki != NULL) {
            memcpy(h, opts->trust_root_spki[i], sizeof h);
        } else if (!cvma_x509_spki_sha256(opts->trust_roots[i], h)) {
            ok = false;
            break;
        }
        ok = EVP_DigestUpdate(md, h, 32) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32;
    EVP_MD_CTX_free(md);
    return ok;
}

/* Which anchor the chain's last certificate is: the pinned Intel root or a --trust-root. Its
 * name goes to anchor (anchor_len bytes). */
static enum cvma_status pick_anchor(X509 *root, const struct cvma_verify_opts *opts, char *anchor,
                                    size_t anchor_len, struct cvma_verdict *v)
{
    static const struct cvma_chain_pin intel_root = {intel_root_spki_sha256};
    char hex[65], cn[128];
    int k = cvma_chain_pick_anchor(root, &intel_root, 1, opts->trust_roots, NULL,
                                   opts->n_trust_roots, hex);

    if (k == -2) {
        return cvma_reject(v, CVMA_R_CERT_PARSE, "root of the PCK chain: cannot encode its key");
    }
    if (k == 0) {
        snprintf(anchor, anchor_len, "intel-sgx-root-ca");
        return CVMA_OK;
    }
    if (k == 1) {
        snprintf(anchor, anchor_len, "test-root:%s", hex);
        return CVMA_OK;
    }
    cvma_x509_subject_cn(root, cn, sizeof cn);
    return cvma_reject(v, CVMA_R_CERT_UNTRUSTED_ROOT,
                       "the PCK chain ends in '%s' (public key SHA-256 %s), which is neither the "
                       "pinned Intel SGX Root CA nor a root given with --trust-root",
                       cn, hex);
}

/* see tdx/tdx_internal.h */
bool cvma_tdx_pck_root_pinned(const struct cvma_tdx_quote *q)
{
    static const struct cvma_chain_pin intel_root = {intel_root_spki_sha256};
    STACK_OF(X509) *certs = cvma_x509_load_pem_stack(q->pck_chain_pem.p, q->pck_chain_pem.len);
    char hex[65];
    bool pinned = certs != NULL && sk_X509_num(certs) > 0 &&
                  cvma_chain_pick_anchor(sk_X509_value(certs, sk_X509_num(certs) - 1), &intel_root,
                                         1, NULL, NULL, 0, hex) == 0;
    sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
    return pinned;
}

/* How far check_pck_path goes. */
enum pck_depth {
    PCK_SIGNATURES,   /* signatures and shape only */
    PCK_FULL,         /* at opts->at, with the CRLs */
    PCK_CRL_ANY_TIME, /* PCK_FULL, the CRLs' windows not judged */
};

/*
 * The quote's PCK chain: PCK leaf -> PCK CA -> root, the root pinned or a --trust-root (its name
 * in anchor), the leaf an SGX PCK Certificate, verified by OpenSSL in strict mode. Depths:
 * - PCK_SIGNATURES: the signatures and the shape only, no validity times and no CRLs (c unused).
 *   This is the check before anything is fetched by values the PCK certificate holds (FMSPC,
 *   CA type): the collateral, the CRLs among it, comes afterwards. For a chain that does not
 *   chain to a trusted root it gives the reason the full check would give.
 * - PCK_FULL: at opts->at, and with the PCK CRL and the Root CA CRL of c (may be NULL) for
 *   every certificate when c holds both.
 * - PCK_CRL_ANY_TIME: as PCK_FULL, but a CRL that misses opts->at is still checked (issuer,
 *   signature, the certificates it lists) instead of ending the check at its window
 *   (CVMA_CHAIN_CRL_ANY_TIME): only once the windows of the CRLs were judged.
 * On CVMA_OK *certs (the quote's certificates, leaf first, root last) and *path (may be NULL:
 * the verified path) are the caller's; on failure both are NULL and the reason is in v.
 */
static enum cvma_status check_pck_path(const struct cvma_tdx_quote *q, enum pck_depth depth,
                                       const struct cvma_tdx_collateral *c,
                                       const struct cvma_verify_opts *opts, char *anchor,
                                       size_t anchor_len, STACK_OF(X509) * *certs_out,
                                       STACK_OF(X509) * *path, struct cvma_verdict *v)
{
    static const char *const roles[] = {"PCK certificate", "PCK CA", "Intel SGX Root CA"};
    enum cvma_status st = CVMA_E_INTERNAL;
    STACK_OF(X509) *certs = NULL, *untrusted = NULL;
    char cn[128];

    *certs_out = NULL;
    if (path != NULL) {
        *path = NULL;
    }
    certs = cvma_x509_load_pem_stack(q->pck_chain_pem.p, q->pck_chain_pem.len);
    /* Exactly three, as Intel's hierarchy has them (and as the collateral's issuer chains are
     * exactly two): no copies or strangers beside the path for OpenSSL to pick from. */
    if (certs == NULL || sk_X509_num(certs) != 3) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE,
                         "the quote's PCK chain holds %d PEM certificates, "
                         "expected PCK, PCK CA and root",
                         certs ? sk_X509_num(certs) : 0);
        goto out;
    }
    X509 *leaf = sk_X509_value(certs, 0);
    X509 *root = sk_X509_value(certs, sk_X509_num(certs) - 1);
    if ((st = pick_anchor(root, opts, anchor, anchor_len, v)) != CVMA_OK) {
        goto out;
    }
    cvma_x509_subject_cn(leaf, cn, sizeof cn);
    /* QVL compares the leaf's CN with exactly this name; a leaf that says it is a CA is no
     * PCK certificate whatever its name. */
    if (strcmp(cn, "Intel SGX PCK Certificate") != 0 || cvma_x509_says_ca(leaf)) {
        st = cvma_reject(v, CVMA_R_TDX_PCK_NOT_PCK,
                         "the leaf of the quote's chain is '%s'%s, not an SGX PCK Certificate (CN "
                         "'Intel SGX PCK Certificate', not a CA)",
                         cn, cvma_x509_says_ca(leaf) ? " and a CA certificate" : "");
        goto out;
    }
    if ((untrusted = sk_X509_new_null()) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    for (int i = 1; i < sk_X509_num(certs) - 1; i++) {
        if (!sk_X509_push(untrusted, sk_X509_value(certs, i))) {
            st = CVMA_E_NOMEM;
            goto out;
        }
    }
    {
        bool full = depth != PCK_SIGNATURES;
        bool with_crls = full && c != NULL && c->pck_crl != NULL && c->root_ca_crl != NULL;
        X509_CRL *crls[2] = {with_crls ? c->pck_crl : NULL, with_crls ? c->root_ca_crl : NULL};
        const struct cvma_chain_req req = {
                .leaf = leaf,
                .intermediates = untrusted,
                .anchor = root,
                .crls = crls,
                .n_crls = with_crls ? 2 : 0,
                .at = opts->at,
                .flags = CVMA_CHAIN_STRICT | (full ? 0 : CVMA_CHAIN_NO_TIME) |
                         (depth == PCK_CRL_ANY_TIME ? CVMA_CHAIN_CRL_ANY_TIME : 0),
                .roles = roles,
                .n_roles = CVMA_ARRAY_LEN(roles),
                .name = "PCK",
                .issuers = "PCK CA/root",
        };
        if ((st = cvma_chain_verify(&req, path, v)) != CVMA_OK) {
            goto out;
        }
    }
    /* OpenSSL's check takes any scheme the key can verify (ecdsa-with-SHA384, SHA-1); Intel
     * signs with one. */
    for (int i = 0; i < sk_X509_num(certs); i++) {
        const X509_ALGOR *alg = NULL;
        X509_get0_signature(NULL, &alg, sk_X509_value(certs, i));
        if ((st = cvma_intel_signed(alg, roles[i], CVMA_R_CERT_CHAIN_INVALID, v)) != CVMA_OK) {
            goto out;
        }
    }
    *certs_out = certs;
    certs = NULL;
    st = CVMA_OK;
out:
    sk_X509_free(untrusted); /* borrowed certificates */
    sk_X509_pop_free(certs, X509_free);
    return st;
}

/* The chain-cache key of "this PCK chain's signatures chain to a trusted root": its bytes and
 * the trust roots in force. False when it cannot be computed (out of memory). */
static bool pck_signed_key(const struct cvma_tdx_quote *q, const struct cvma_verify_opts *opts,
                           uint8_t out[32])
{
    struct cvma_span part = {q->pck_chain_pem.p, q->pck_chain_pem.len};
    return key_of("tdx-pck-signed", &part, 1, opts, out);
}

/* see tdx/tdx_internal.h */
enum cvma_status cvma_tdx_pck_chain_precheck(const struct cvma_tdx_quote *q,
                                             const struct cvma_verify_opts *opts,
                                             struct cvma_verdict *v)
{
    STACK_OF(X509) *certs = NULL;
    char anchor[96];
    uint8_t key[32];
    enum cvma_status st;

    /* A chain that passed the full check before (the marker is put only then) has signatures
     * that chain to these roots: nothing left for this check to do. */
    if (opts->chain_cache != NULL && pck_signed_key(q, opts, key)) {
        struct cvma_chain_ref *mark = cvma_chain_cache_get(opts->chain_cache, key);
        bool known = mark != NULL;
        cvma_chain_ref_release(mark);
        if (known) {
            return CVMA_OK;
        }
    }
    st = check_pck_path(q, PCK_SIGNATURES, NULL, opts, anchor, sizeof anchor, &certs, NULL, v);
    sk_X509_pop_free(certs, X509_free);
    return st;
}

/* PCK leaf -> PCK CA -> root, with both CRLs when the collateral has them. */
static enum cvma_status verify_pck_chain(const struct cvma_tdx_quote *q,
                                         const struct cvma_tdx_collateral *c,
                                         const struct cvma_verify_opts *opts,
                                         struct tdx_chain **out, struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_E_INTERNAL;
    STACK_OF(X509) *certs = NULL, *path = NULL;
    struct tdx_chain *ch = NULL;

    *out = NULL;
    if ((ch = calloc(1, sizeof *ch)) == NULL) {
        return CVMA_E_NOMEM;
    }
    ch->crl_checked = c != NULL && c->pck_crl != NULL && c->root_ca_crl != NULL;
    if ((st = check_pck_path(q, PCK_FULL, c, opts, ch->anchor, sizeof ch->anchor, &certs, &path,
                             v)) != CVMA_OK) {
        goto out;
    }
    X509 *leaf = sk_X509_value(certs, 0);
    X509 *root = sk_X509_value(certs, sk_X509_num(certs) - 1);
    /* One window for the verified path (latest notBefore, earliest notAfter): the quote
     * decides how many PEM certificates it carries, and a window per certificate could push
     * the CRL windows below out of the MAX_WINDOWS a cached chain is re-checked against. */
    {
        time_t from, to;
        size_t bad = 0;
        int n = sk_X509_num(path);
        X509 **on_path = n > 0 ? calloc((size_t)n, sizeof *on_path) : NULL;
        bool ok;
        if (on_path == NULL) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        for (int i = 0; i < n; i++) {
            on_path[i] = sk_X509_value(path, i);
        }
        ok = cvma_chain_window(on_path, (size_t)n, &from, &to, &bad);
        free(on_path);
        if (!ok) {
            st = cvma_reject(v, CVMA_R_CERT_PARSE, "%s: unreadable validity",
                             bad < 2 ? (bad == 0 ? "PCK certificate" : "PCK CA")
                                     : "Intel SGX Root CA");
            goto out;
        }
        win_add(&ch->w, from, to, true);
    }
    if (ch->crl_checked) {
        /* OpenSSL checked their issuers and signatures; the times as crl_not_from reads them
         * (a CRL without nextUpdate would never expire, RFC 5280 5.1.2.5). */
        X509_CRL *crls[] = {c->pck_crl, c->root_ca_crl};
        for (size_t i = 0; i < 2; i++) {
            time_t tu, nu;
            const X509_ALGOR *alg = NULL;
            const char *who = i == 0 ? "PCK CRL" : "Root CA CRL";
            X509_CRL_get0_signature(crls[i], NULL, &alg);
            if ((st = cvma_crl_times(crls[i], who, &tu, &nu, v)) != CVMA_OK ||
                (st = cvma_intel_signed(alg, who, CVMA_R_CRL_INVALID, v)) != CVMA_OK) {
                goto out;
            }
            win_add(&ch->w, tu, nu, true);
        }
    }
    if ((st = cvma_pck_ext_parse(leaf, &ch->pck, v)) != CVMA_OK) {
        goto out;
    }
    if ((ch->pck_pub = X509_get_pubkey(leaf)) == NULL ||
        EVP_PKEY_get_base_id(ch->pck_pub) != EVP_PKEY_EC) {
        st = cvma_reject(v, CVMA_R_CERT_KEY_UNSUPPORTED, "PCK key is not an EC key");
        goto out;
    }
    bool oom = false;
    if ((ch->pck_verifier = cvma_p256_verifier_new(ch->pck_pub, &oom)) == NULL) {
        if (oom) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        st = cvma_reject(v, CVMA_R_CERT_KEY_UNSUPPORTED, "PCK key is not a P-256 key");
        goto out;
    }
    if (X509_up_ref(root) != 1) {
        st = CVMA_E_INTERNAL;
        goto out;
    }
    ch->root = root;
    *out = ch;
    ch = NULL;
    st = CVMA_OK;
out:
    tdx_chain_free(ch);
    sk_X509_pop_free(path, X509_free);
    sk_X509_pop_free(certs, X509_free);
    return st;
}

/* The attestation key x || y as an EVP_PKEY (P-256). */
static EVP_PKEY *att_key_new(const uint8_t xy[64])
{
    uint8_t pt[65];
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM params[3];

    pt[0] = 0x04;
    memcpy(pt + 1, xy, 64);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)(uintptr_t) "prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt);
    params[2] = OSSL_PARAM_construct_end();
    if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return pkey;
}

static void collateral_windows(const struct cvma_tdx_collateral *c, struct windows *w)
{
    win_add(w, c->tcb_info.issue_date, c->tcb_info.next_update, false);
    win_add(w, c->qe_identity.issue_date, c->qe_identity.next_update, false);
    STACK_OF(X509) * chains[] = {c->tcb_info_chain, c->qe_identity_chain};
    for (size_t k = 0; k < 2; k++) {
        time_t from = 0, to = (time_t)INT64_MAX;
        for (int i = 0; chains[k] != NULL && i < sk_X509_num(chains[k]); i++) {
            time_t nb, na;
            X509 *x = sk_X509_value(chains[k], i);
            if (cvma_asn1_time_to_time_t(X509_get0_notBefore(x), &nb) && nb > from) {
                from = nb;
            }
            if (cvma_asn1_time_to_time_t(X509_get0_notAfter(x), &na) && na < to) {
                to = na;
            }
        }
        win_add(w, from, to, true);
    }
    if (c->root_ca_crl != NULL) {
        time_t tu = 0, nu = (time_t)INT64_MAX, t;
        if (cvma_asn1_time_to_time_t(X509_CRL_get0_lastUpdate(c->root_ca_crl), &tu) &&
            cvma_asn1_time_to_time_t(X509_CRL_get0_nextUpdate(c->root_ca_crl), &t)) {
            nu = t;
        }
        win_add(w, tu, nu, true);
    }
}

/* True when crl fails cvma_crl_check against issuer: the same conditions under which the
 * real checks give CRL_INVALID for a CRL that parsed (issuer, signature, readable thisUpdate
 * and nextUpdate), so a CRL is blamed exactly when it is what the check refused. */
static bool crl_not_from(X509_CRL *crl, X509 *issuer)
{
    struct cvma_verdict scratch;
    enum cvma_status st;

    cvma_verdict_init(&scratch);
    st = cvma_crl_check(crl, issuer, "CRL", NULL, NULL, &scratch);
    cvma_verdict_cleanup(&scratch);
    ERR_clear_error();
    return st != CVMA_OK;
}

/*
 * After the PCK chain failed with a CRL_INVALID: which fetched CRLs (CVMA_TDX_ITEM_* bits) are
 * at fault. Only under the quote's root when it is trusted (pinned or --trust-root) and, for
 * the PCK CRL, a PCK CA that root signed: otherwise the quote's own chain is what fails, and
 * that is the evidence's fault. Failure path only.
 */
static unsigned pck_chain_blames(const struct cvma_tdx_quote *q,
                                 const struct cvma_tdx_collateral *c,
                                 const struct cvma_verify_opts *opts, enum cvma_reason first)
{
    static const struct cvma_chain_pin intel_root = {intel_root_spki_sha256};
    STACK_OF(X509) *certs = NULL;
    unsigned bad = 0;
    char hex[65];

    if (first != CVMA_R_CRL_INVALID ||
        (c->fetched & (CVMA_TDX_ITEM_PCK_CRL | CVMA_TDX_ITEM_ROOT_CA_CRL)) == 0 ||
        (certs = cvma_x509_load_pem_stack(q->pck_chain_pem.p, q->pck_chain_pem.len)) == NULL) {
        return 0;
    }
    int n = sk_X509_num(certs);
    X509 *root = n >= 2 ? sk_X509_value(certs, n - 1) : NULL;
    if (root != NULL && cvma_chain_pick_anchor(root, &intel_root, 1, opts->trust_roots, NULL,
                                               opts->n_trust_roots, hex) >= 0) {
        if ((c->fetched & CVMA_TDX_ITEM_ROOT_CA_CRL) != 0 && crl_not_from(c->root_ca_crl, root)) {
            bad |= CVMA_TDX_ITEM_ROOT_CA_CRL;
        }
        X509 *pck_ca = n == 3 ? sk_X509_value(certs, 1) : NULL;
        if ((c->fetched & CVMA_TDX_ITEM_PCK_CRL) != 0 && pck_ca != NULL &&
            X509_verify(pck_ca, X509_get0_pubkey(root)) == 1 && crl_not_from(c->pck_crl, pck_ca)) {
            bad |= CVMA_TDX_ITEM_PCK_CRL;
        }
    }
    ERR_clear_error();
    sk_X509_pop_free(certs, X509_free);
    return bad;
}

/* Reasons cvma_tdx_signed_json_verify gives when a document's chain or signature is not the
 * pinned root's (not a validity window, not a revocation by a CRL the root signed). */
static bool doc_not_signed(enum cvma_reason r)
{
    return r == CVMA_R_CERT_PARSE || r == CVMA_R_CERT_CHAIN_INVALID ||
           r == CVMA_R_CERT_UNTRUSTED_ROOT || r == CVMA_R_CERT_KEY_UNSUPPORTED ||
           r == CVMA_R_COLLATERAL_SIGNATURE_INVALID;
}

/*
 * After cvma_tdx_collateral_verify (or its _any_time variant) failed with first: which fetched
 * items are at fault. A Root CA CRL the root did not sign; else the first document (in the
 * order they are verified) whose chain or signature fails on its own, whatever the windows
 * (a signature is the item's whenever it is looked at), when it was fetched. Failure path only.
 */
static unsigned collateral_blames(const struct cvma_tdx_collateral *c, X509 *root, time_t at,
                                  enum cvma_reason first)
{
    const struct {
        unsigned bit;
        const struct cvma_tdx_signed_json *doc;
        STACK_OF(X509) * chain;
        const char *what;
    } docs[] = {
            {CVMA_TDX_ITEM_TCB_INFO, &c->tcb_info_doc, c->tcb_info_chain, "TCB Info"},
            {CVMA_TDX_ITEM_QE_IDENTITY, &c->qe_identity_doc, c->qe_identity_chain, "QE Identity"}};

    if (c->fetched == 0) {
        return 0;
    }
    if (first == CVMA_R_CRL_INVALID) {
        return (c->fetched & CVMA_TDX_ITEM_ROOT_CA_CRL) != 0 && crl_not_from(c->root_ca_crl, root)
                       ? CVMA_TDX_ITEM_ROOT_CA_CRL
                       : 0;
    }
    if (!doc_not_signed(first)) {
        return 0;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(docs); i++) {
        struct cvma_verdict scratch;
        cvma_verdict_init(&scratch);
        enum cvma_status st = cvma_tdx_signed_json_verify_any_time(
                docs[i].doc, docs[i].chain, root, NULL, at, docs[i].what, &scratch);
        const struct cvma_verdict_reason *fe = cvma_verdict_first_error_since(&scratch, 0);
        bool fault = st == CVMA_REJECTED && fe != NULL && doc_not_signed(fe->code);
        cvma_verdict_cleanup(&scratch);
        if (st != CVMA_OK) {
            return fault && (c->fetched & docs[i].bit) != 0 ? docs[i].bit : 0;
        }
    }
    return 0;
}

/*
 * Fetched collateral failed its own checks: the items at fault leave the on-disk cache (and
 * the fleet's), then the errors since `since` become COLLATERAL_UNAVAILABLE
 * (cvma_result_fetched_collateral_refused).
 */
static void fetched_collateral_refused(struct cvma_result *res, const struct cvma_tdx_quote *q,
                                       const struct cvma_verify_opts *opts, size_t since,
                                       unsigned items)
{
    char removed[128];
    cvma_tdx_collateral_evict(q, opts, items, removed, sizeof removed);
    cvma_result_fetched_collateral_refused(res, since, "Intel PCS", removed);
}

/* An item whose window misses the verification time: its name and window. */
struct untimely {
    const char *what;
    time_t from, to;
};

/* True when the issuer chain's certificates do not all cover at (as OpenSSL judges them);
 * *from and *to are their latest notBefore and earliest notAfter. */
static bool chain_misses(STACK_OF(X509) * chain, time_t at, time_t *from, time_t *to)
{
    *from = 0;
    *to = (time_t)INT64_MAX;
    for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        time_t nb, na;
        X509 *x = sk_X509_value(chain, i);
        if (cvma_asn1_time_to_time_t(X509_get0_notBefore(x), &nb) && nb > *from) {
            *from = nb;
        }
        if (cvma_asn1_time_to_time_t(X509_get0_notAfter(x), &na) && na < *to) {
            *to = na;
        }
    }
    return at < *from || at > *to;
}

/*
 * After a failure of a validity window: is it the verifier's own collateral's? Among the
 * items (CVMA_TDX_ITEM_* bits) checked, those whose window misses at (a TCB Info or QE
 * Identity: issueDate..nextUpdate, late by at most grace, and its issuer chain's validity;
 * a CRL: thisUpdate..nextUpdate). True when there is one and every one was fetched (PCS, the
 * cache or the fleet's): *out names the first. False when one was given (--collateral DIR, the
 * evidence bundle): the evidence's choice is judged by its window, a rejection.
 */
static bool untimely_fetched(const struct cvma_tdx_collateral *c, unsigned items, time_t at,
                             int64_t grace, struct untimely *out)
{
    unsigned missing = 0;
    bool named = false;
    const struct {
        unsigned bit;
        const char *what;
        time_t issue, next;
        STACK_OF(X509) * chain;
    } docs[] = {{CVMA_TDX_ITEM_TCB_INFO, "TCB Info", c->tcb_info.issue_date,
                 c->tcb_info.next_update, c->tcb_info_chain},
                {CVMA_TDX_ITEM_QE_IDENTITY, "QE Identity", c->qe_identity.issue_date,
                 c->qe_identity.next_update, c->qe_identity_chain}};
    const struct {
        unsigned bit;
        const char *what;
        X509_CRL *crl;
    } crls[] = {{CVMA_TDX_ITEM_PCK_CRL, "PCK CRL", c->pck_crl},
                {CVMA_TDX_ITEM_ROOT_CA_CRL, "Root CA CRL", c->root_ca_crl}};

    for (size_t i = 0; i < CVMA_ARRAY_LEN(docs); i++) {
        struct untimely u = {docs[i].what, docs[i].issue, docs[i].next};
        bool late = cvma_next_update_judge((int64_t)docs[i].next, (int64_t)at, grace) ==
                    CVMA_NEXT_UPDATE_PAST;
        if ((items & docs[i].bit) == 0 ||
            (at >= docs[i].issue && !late && !chain_misses(docs[i].chain, at, &u.from, &u.to))) {
            continue;
        }
        missing |= docs[i].bit;
        if (!named && (c->fetched & docs[i].bit) != 0) {
            *out = u;
            named = true;
        }
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(crls); i++) {
        struct untimely u = {crls[i].what, 0, 0};
        if ((items & crls[i].bit) != 0 && cvma_crl_misses(crls[i].crl, at, &u.from, &u.to)) {
            missing |= crls[i].bit;
            if (!named && (c->fetched & crls[i].bit) != 0) {
                *out = u;
                named = true;
            }
        }
    }
    return missing != 0 && (missing & ~c->fetched) == 0;
}

/* Reasons a validity window gives. */
static bool window_reason(enum cvma_reason r)
{
    return r == CVMA_R_CRL_EXPIRED || r == CVMA_R_COLLATERAL_NOT_YET_VALID ||
           r == CVMA_R_COLLATERAL_EXPIRED || r == CVMA_R_CERT_NOT_YET_VALID ||
           r == CVMA_R_CERT_EXPIRED;
}

/*
 * The end of a check that failed on the window of an item the verifier chose (untimely_fetched
 * found u): the check was run again on scratch with no such window judged (st). Passed: the
 * evidence is undecided (cvma_result_fetched_collateral_untimely, quoting the window failure
 * from `since`). Failed: what the window hid decides, and replaces the window failure: a
 * fetched item at fault (bad, from blames) is refused and removed from the cache; anything else
 * (a revocation the CRLs prove, a certificate's window, a given item's signature) is the
 * evidence's, a rejection.
 */
static void untimely_end(struct cvma_result *res, const struct cvma_tdx_quote *q,
                         const struct cvma_verify_opts *opts, size_t since, enum cvma_status st,
                         struct cvma_verdict *scratch, unsigned bad, const struct untimely *u)
{
    struct cvma_verdict *v = &res->verdict;

    if (st == CVMA_OK) {
        cvma_result_fetched_collateral_untimely(res, since, "Intel PCS", u->what, u->from, u->to,
                                                opts->at);
        return;
    }
    v->n_reasons = since;
    cvma_verdict_merge(v, scratch);
    if (st == CVMA_UNDECIDED) {
        v->undecided = v->undecided || scratch->undecided;
        res->undecided = true;
    } else if (bad != 0) {
        fetched_collateral_refused(res, q, opts, since, bad);
    }
}

bool cvma_tdx_status_reason(const char *status, enum cvma_reason *code)
{
    static const struct {
        const char *status;
        enum cvma_reason code;
    } map[] = {
            {"SWHardeningNeeded", CVMA_R_TDX_TCB_NEEDS_ACTION},
            {"ConfigurationNeeded", CVMA_R_TDX_TCB_NEEDS_ACTION},
            {"ConfigurationAndSWHardeningNeeded", CVMA_R_TDX_TCB_NEEDS_ACTION},
            /* Refused by default, like OutOfDate: the TD was launched on an out-of-date TCB
             * that the host updated afterwards; what ran before the update is not vouched for. */
            {"TDRelaunchAdvised", CVMA_R_TDX_TCB_RELAUNCH_ADVISED},
            {"TDRelaunchAdvisedConfigurationNeeded", CVMA_R_TDX_TCB_RELAUNCH_ADVISED},
            {"OutOfDate", CVMA_R_TDX_TCB_OUT_OF_DATE},
            {"OutOfDateConfigurationNeeded", CVMA_R_TDX_TCB_OUT_OF_DATE},
            {"Revoked", CVMA_R_TDX_TCB_REVOKED},
    };
    if (strcmp(status, "UpToDate") == 0) {
        return false;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(map); i++) {
        if (strcmp(status, map[i].status) == 0) {
            *code = map[i].code;
            return true;
        }
    }
    *code = CVMA_R_TDX_TCB_LEVEL_NOT_FOUND; /* a status Intel has not defined: not accepted */
    return true;
}

static void adv_text(const struct cvma_tdx_advisories *a, char *out, size_t n)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < a->n && off < n; i++) {
        int w = snprintf(out + off, n - off, "%s%s", i ? ", " : "", a->ids[i]);
        if (w < 0) {
            break;
        }
        off += (size_t)w;
    }
}

void cvma_tdx_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                     const struct cvma_tdx_held *preloaded, struct cvma_result *res)
{
    struct cvma_verdict *v = &res->verdict;
    struct cvma_tdx_parse_opts popts = {.allow_trailing_data = opts->allow_trailing_data};
    struct cvma_tdx_quote *q = NULL;
    struct cvma_tdx_held loaded;
    const struct cvma_tdx_held *held = preloaded;
    const struct cvma_tdx_collateral *c = NULL;
    struct tdx_chain *ch = NULL;
    struct cvma_chain_ref *ch_ref = NULL; /* our reference to ch, from the cache or new */
    struct cvma_tdx_tcb_result tcb;
    struct cvma_p256_verifier *ak = NULL;
    struct cvma_chain_ref *ak_ref = NULL; /* likewise for ak */
    uint8_t key[32], ck[32], qk[32], ak_key[32], digest[32];
    unsigned int dlen = 0;

    memset(&loaded, 0, sizeof loaded);
    memset(&tcb, 0, sizeof tcb);
    v->checks_required = CVMA_CHECK_PARSE | CVMA_CHECK_CHAIN | CVMA_CHECK_REVOCATION |
                         CVMA_CHECK_SIGNATURE | CVMA_CHECK_CERT_BINDING | CVMA_CHECK_COLLATERAL;
    if ((q = calloc(1, sizeof *q)) == NULL) {
        v->oom = true;
        goto out;
    }
    if (cvma_verdict_step(v, cvma_tdx_quote_parse(p, len, &popts, q, v)) != CVMA_OK) {
        goto out;
    }
    cvma_verdict_pass(v, CVMA_CHECK_PARSE);

    if (held == NULL) {
        enum cvma_status cst = cvma_verdict_step(v, cvma_tdx_collateral_get(q, opts, &loaded, v));
        if (cst == CVMA_UNDECIDED) {
            res->undecided = true;
            goto out;
        }
        if (cst != CVMA_OK) {
            goto out;
        }
        held = &loaded;
    }
    c = &held->c;

    /* 1. The PCK chain (cached by its bytes, the CRLs and the trust roots). */
    {
        struct cvma_span parts[] = {{q->pck_chain_pem.p, q->pck_chain_pem.len},
                                    {held->fp, sizeof held->fp}};
        if (!key_of("tdx-pck", parts, CVMA_ARRAY_LEN(parts), opts, key)) {
            v->oom = true;
            goto out;
        }
    }
    ch_ref = cvma_chain_cache_get(opts->chain_cache, key);
    ch = cvma_chain_ref_val(ch_ref);
    if (ch != NULL && !win_ok(&ch->w, opts->at)) {
        cvma_chain_ref_release(ch_ref);
        ch_ref = NULL;
        ch = NULL;
    }
    if (ch == NULL) {
        size_t since = v->n_reasons;
        enum cvma_status pst = verify_pck_chain(q, c, opts, &ch, v);
        if (cvma_verdict_step(v, pst) != CVMA_OK) {
            const struct cvma_verdict_reason *first = cvma_verdict_first_error_since(v, since);
            unsigned bad = pst == CVMA_REJECTED && first != NULL
                                   ? pck_chain_blames(q, c, opts, first->code)
                                   : 0;
            struct untimely u;
            if (bad != 0) {
                fetched_collateral_refused(res, q, opts, since, bad);
            } else if (pst == CVMA_REJECTED && first != NULL && first->code == CVMA_R_CRL_EXPIRED &&
                       untimely_fetched(c, CVMA_TDX_ITEM_PCK_CRL | CVMA_TDX_ITEM_ROOT_CA_CRL,
                                        opts->at, 0, &u)) {
                /* The verifier's own CRLs do not cover the time. OpenSSL stops at a CRL's
                 * window, before its signature, the certificates' windows and the other
                 * certificates' CRL: the chain is checked again at that time with both CRLs,
                 * their windows not judged. A fetched CRL its issuer did not sign is refused;
                 * a revocation they date by then, or a certificate's window, is the evidence's. */
                STACK_OF(X509) *certs = NULL;
                struct cvma_verdict scratch;
                char anchor[96];
                cvma_verdict_init(&scratch);
                enum cvma_status rst = cvma_verdict_step(
                        &scratch, check_pck_path(q, PCK_CRL_ANY_TIME, c, opts, anchor,
                                                 sizeof anchor, &certs, NULL, &scratch));
                const struct cvma_verdict_reason *rf = cvma_verdict_first_error_since(&scratch, 0);
                untimely_end(res, q, opts, since, rst, &scratch,
                             rst == CVMA_REJECTED && rf != NULL
                                     ? pck_chain_blames(q, c, opts, rf->code)
                                     : 0,
                             &u);
                cvma_verdict_cleanup(&scratch);
                sk_X509_pop_free(certs, X509_free);
            }
            goto out;
        }
        /* Without a cache this is just our reference to ch. */
        if ((ch_ref = cvma_chain_cache_put(opts->chain_cache, key, ch, tdx_chain_free)) == NULL) {
            ch = NULL;
            v->oom = true;
            goto out;
        }
        /* The full check passed (times, and the CRLs when the collateral has both): the
         * pre-check before a fetch may skip its signature work for this chain from now on
         * (cvma_tdx_pck_chain_precheck). The entry's presence is the marker: no value. Only
         * the pre-check reads it, never this full check. */
        uint8_t mark[32];
        if (opts->chain_cache != NULL && pck_signed_key(q, opts, mark)) {
            cvma_chain_ref_release(cvma_chain_cache_put(opts->chain_cache, mark, NULL, NULL));
        }
    }
    snprintf(res->trust_anchor, sizeof res->trust_anchor, "%s", ch->anchor);
    cvma_verdict_pass(v, CVMA_CHECK_CHAIN);
    if (!ch->crl_checked) {
        cvma_reject(v, CVMA_R_CRL_NOT_CHECKED,
                    "%s%s%s: revocation of the PCK certificate and PCK CA was not checked",
                    c->pck_crl == NULL ? "no PCK CRL" : "",
                    c->pck_crl == NULL && c->root_ca_crl == NULL ? " and " : "",
                    c->root_ca_crl == NULL ? "no Root CA CRL" : "");
    }
    cvma_verdict_pass(v, CVMA_CHECK_REVOCATION);

    /* 2. Collateral: signatures by their chains to the same root, ids, times. */
    {
        /* The chain entry's key already covers the root; the fingerprint covers the rest. */
        struct cvma_span parts[] = {{held->fp, sizeof held->fp}, {key, sizeof key}};
        if (!key_of("tdx-collateral", parts, CVMA_ARRAY_LEN(parts), NULL, ck)) {
            v->oom = true;
            goto out;
        }
        struct cvma_chain_ref *co_ref = cvma_chain_cache_get(opts->chain_cache, ck);
        const struct coll_ok *co = cvma_chain_ref_val(co_ref);
        bool known = co != NULL && win_ok(&co->w, opts->at);
        cvma_chain_ref_release(co_ref);
        if (!known) {
            struct coll_ok *co_new = NULL;
            size_t since = v->n_reasons;
            enum cvma_status vst = cvma_tdx_collateral_verify(c, ch->root, opts->at,
                                                              opts->collateral_grace_seconds, v);
            if (cvma_verdict_step(v, vst) != CVMA_OK) {
                const struct cvma_verdict_reason *first = cvma_verdict_first_error_since(v, since);
                unsigned bad = vst == CVMA_REJECTED && first != NULL
                                       ? collateral_blames(c, ch->root, opts->at, first->code)
                                       : 0;
                struct untimely u;
                if (bad != 0) {
                    fetched_collateral_refused(res, q, opts, since, bad);
                } else if (vst == CVMA_REJECTED && first != NULL && window_reason(first->code) &&
                           untimely_fetched(c,
                                            CVMA_TDX_ITEM_TCB_INFO | CVMA_TDX_ITEM_QE_IDENTITY |
                                                    CVMA_TDX_ITEM_ROOT_CA_CRL,
                                            opts->at, opts->collateral_grace_seconds, &u)) {
                    /* Every item whose window misses the time is the verifier's own (PCS, the
                     * cache): its choice, not the evidence's. The checks that window hid (a
                     * signature, a revocation by the Root CA CRL) are made again with no window
                     * judged: an item that passes is sound and stays cached. */
                    struct cvma_verdict scratch;
                    cvma_verdict_init(&scratch);
                    enum cvma_status rst = cvma_verdict_step(
                            &scratch,
                            cvma_tdx_collateral_verify_any_time(c, ch->root, opts->at, &scratch));
                    const struct cvma_verdict_reason *rf =
                            cvma_verdict_first_error_since(&scratch, 0);
                    untimely_end(res, q, opts, since, rst, &scratch,
                                 rst == CVMA_REJECTED && rf != NULL
                                         ? collateral_blames(c, ch->root, opts->at, rf->code)
                                         : 0,
                                 &u);
                    cvma_verdict_cleanup(&scratch);
                }
                goto out;
            }
            /* Stale-but-within-grace verifies with a warning: do not cache that. */
            if (!cvma_verdict_has(v, CVMA_R_COLLATERAL_EXPIRED) && opts->chain_cache != NULL &&
                (co_new = calloc(1, sizeof *co_new)) != NULL) {
                collateral_windows(c, &co_new->w);
                cvma_chain_ref_release(
                        cvma_chain_cache_put(opts->chain_cache, ck, co_new, coll_ok_free));
            }
        }
    }
    cvma_verdict_pass(v, CVMA_CHECK_COLLATERAL);

    /* 3. QE report signed by the PCK key [QVL 4.1.2.5.13]. A QE signs its report once and
     * reuses it for every quote, so a success is remembered, keyed by the verified chain and
     * the exact report and signature bytes. */
    {
        struct cvma_span parts[] = {{key, sizeof key},
                                    {q->qe_report.raw, CVMA_SGX_REPORT_SIZE},
                                    {q->qe_report_signature, 64}};
        if (!key_of("tdx-qe-report", parts, CVMA_ARRAY_LEN(parts), NULL, qk)) {
            v->oom = true;
            goto out;
        }
        struct cvma_chain_ref *mark =
                opts->no_qe_report_memo ? NULL : cvma_chain_cache_get(opts->chain_cache, qk);
        bool remembered = mark != NULL;
        cvma_chain_ref_release(mark);
        if (!remembered) {
            if (!cvma_p256_verifier_check(ch->pck_verifier, q->qe_report.raw, CVMA_SGX_REPORT_SIZE,
                                          q->qe_report_signature)) {
                cvma_reject(v, CVMA_R_TDX_QE_REPORT_SIGNATURE_INVALID,
                            "QE report signature (ECDSA P-256 over the 384-byte QE report) does "
                            "not verify with the PCK certificate's key");
                goto out;
            }
            /* The entry's presence is the memo: no value. */
            if (!opts->no_qe_report_memo && opts->chain_cache != NULL) {
                cvma_chain_ref_release(cvma_chain_cache_put(opts->chain_cache, qk, NULL, NULL));
            }
        }
    }
    /* 4. QE report data = SHA-256(attestation key || QE auth data) || 0^32 [4.1.2.5.14].
     * Intel's QVL compares only the first 32 bytes; the issue (and every real quote) has the
     * other 32 zero, and unauthenticated-looking filler in a signed field is refused. */
    {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
                  EVP_DigestUpdate(md, q->attestation_key, 64) == 1 &&
                  (q->qe_auth_data.len == 0 ||
                   EVP_DigestUpdate(md, q->qe_auth_data.p, q->qe_auth_data.len) == 1) &&
                  EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen == 32;
        EVP_MD_CTX_free(md);
        if (!ok) {
            v->oom = true;
            goto out;
        }
        if (CRYPTO_memcmp(digest, q->qe_report.report_data, 32) != 0) {
            char want[65], got[65];
            cvma_hex_encode(digest, 32, want, sizeof want);
            cvma_hex_encode(q->qe_report.report_data, 32, got, sizeof got);
            cvma_reject(v, CVMA_R_TDX_QE_REPORT_DATA_MISMATCH,
                        "QE report data[0..32]=%s but SHA-256(attestation key || QE auth data)=%s",
                        got, want);
            goto out;
        }
        if (!cvma_bytes_are_zero(q->qe_report.report_data + 32, 32)) {
            char got[65];
            cvma_hex_encode(q->qe_report.report_data + 32, 32, got, sizeof got);
            cvma_reject(v, CVMA_R_TDX_QE_REPORT_DATA_MISMATCH,
                        "QE report data[32..64]=%s, expected zeros after the key hash", got);
            goto out;
        }
    }
    /* 5. The quote signature by the attestation key [4.1.2.5.17]. */
    {
        struct cvma_span part = {q->attestation_key, 64};
        if (!key_of("tdx-ak", &part, 1, NULL, ak_key)) {
            v->oom = true;
            goto out;
        }
        ak_ref = cvma_chain_cache_get(opts->chain_cache, ak_key);
        ak = cvma_chain_ref_val(ak_ref);
        if (ak == NULL) {
            EVP_PKEY *pk = att_key_new(q->attestation_key);
            bool oom = false;
            ak = pk != NULL ? cvma_p256_verifier_new(pk, &oom) : NULL;
            EVP_PKEY_free(pk);
            if (oom) {
                v->oom = true;
                goto out;
            }
            if (ak == NULL) {
                cvma_reject(v, CVMA_R_TDX_QUOTE_SIGNATURE_INVALID,
                            "the attestation key is not a point on P-256");
                goto out;
            }
            if ((ak_ref = cvma_chain_cache_put(opts->chain_cache, ak_key, ak, verifier_free)) ==
                NULL) {
                ak = NULL;
                v->oom = true;
                goto out;
            }
        }
        if (!cvma_p256_verifier_check(ak, q->signed_bytes, q->signed_len, q->signature)) {
            cvma_reject(v, CVMA_R_TDX_QUOTE_SIGNATURE_INVALID,
                        "quote signature (ECDSA P-256 over the %zu bytes of header and TD report) "
                        "does not verify with the attestation key",
                        q->signed_len);
            goto out;
        }
    }
    cvma_verdict_pass(v, CVMA_CHECK_SIGNATURE);

    /* 6. TCB evaluation: FMSPC, module identity, QE identity, levels, convergence. A refusal
     * here is recorded (and the binding check stays unpassed), but the quote is authentic:
     * every signature and the PCK chain verified, so the claims below are still filled, with
     * no TCB status (docs/results.md). */
    {
        enum cvma_status tst = cvma_tdx_tcb_evaluate(c, q, &ch->pck, &tcb, v);
        if (tst != CVMA_OK && tst != CVMA_REJECTED) {
            if (tst == CVMA_E_NOMEM) {
                v->oom = true;
            }
            goto out; /* no reason recorded: the unpassed checks fail closed */
        }
    }
    if (tcb.level_found) {
        enum cvma_reason code;
        cvma_verdict_pass(v, CVMA_CHECK_CERT_BINDING);
        if (cvma_tdx_status_reason(tcb.status, &code)) {
            char adv[300];
            adv_text(&tcb.advisory_ids, adv, sizeof adv);
            cvma_reject(v, code, "TCB status %s (platform %s, QE %s%s%s)%s%s", tcb.status,
                        tcb.platform_status, tcb.qe_status, tcb.module_status[0] ? ", module " : "",
                        tcb.module_status, adv[0] ? "; advisories " : "", adv);
        }
    }

    /* Claims: the quote is authentic from here on. */
    {
        if (!cvma_tdx_claims_set(res, q, &ch->pck, &tcb, c->tcb_info.tcb_evaluation_data_number)) {
            v->oom = true;
            goto out;
        }
        memset(&res->platform, 0, sizeof res->platform);
        res->platform.present = true;
        res->platform.vendor = CVMA_PLATFORM_INTEL;
        res->platform.id_type = CVMA_PLATFORM_PPID;
        res->platform.has_id = true;
        res->platform.id_len = CVMA_PLATFORM_PPID_LEN;
        memcpy(res->platform.id, ch->pck.ppid, CVMA_PLATFORM_PPID_LEN);
    }

    /* Appraisal that needs no policy file. A debug TD is refused by default: the host can
     * read its memory. Only a policy with tdx.allow_debug true lowers this to a warning. */
    if (q->body.td_attributes & CVMA_TDX_TD_ATTR_TUD_MASK) {
        cvma_reject(v, CVMA_R_TDX_DEBUG,
                    "TD_ATTRIBUTES=0x%016" PRIx64 " has debug/profiling bits 7:0 set (0x%02x): "
                    "not a production TD; only a policy with tdx.allow_debug true accepts it",
                    q->body.td_attributes, (unsigned)(q->body.td_attributes & 0xFF));
    }
    if (q->body.is_v15 && !cvma_bytes_are_zero(q->body.mr_service_td, 48)) {
        char hex[97];
        cvma_hex_encode(q->body.mr_service_td, 48, hex, sizeof hex);
        cvma_reject(v, CVMA_R_TDX_SERVICE_TD_BOUND,
                    "MRSERVICETD=%s: a service TD is bound to this TD and can reach its state",
                    hex);
    }
    if (opts->has_report_data && CRYPTO_memcmp(opts->report_data, q->body.report_data, 64) != 0) {
        char want[129], got[129];
        cvma_hex_encode(opts->report_data, 64, want, sizeof want);
        cvma_hex_encode(q->body.report_data, 64, got, sizeof got);
        cvma_reject(v, CVMA_R_NONCE_REPORT_DATA_MISMATCH, "REPORTDATA=%s but expected %s", got,
                    want);
    }
out:
    /* Our references: a put by this or another thread may have evicted the entries, and
     * whichever release comes last frees them. */
    cvma_chain_ref_release(ak_ref);
    cvma_chain_ref_release(ch_ref);
    cvma_tdx_tcb_result_cleanup(&tcb);
    cvma_tdx_collateral_cleanup(&loaded.c);
    if (q != NULL) {
        cvma_tdx_quote_cleanup(q);
        free(q);
    }
}
