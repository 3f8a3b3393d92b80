/*
 * Collateral for a TDX quote, item by item: the verifier's own (the --collateral directory),
 * Intel PCS (or a PCCS with the same API) through the on-disk cache, and the evidence
 * bundle's items in the order cvma_tdx_collateral_get says. The FMSPC and the PCK CA that select
 * what to fetch are read from the quote's PCK certificate, and only once the PCK chain's signatures
 * chain to a trusted root (cvma_tdx_pck_chain_precheck): a quote with a forged PCK certificate
 * (any FMSPC it likes) is refused without a request or a cache look-up. The CRLs and validity
 * times of that chain, the FMSPC match and every other signature are checked afterwards, by
 * the verification, with the collateral.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "collateral/cache.h"
#include "collateral/source.h"
#include "common/util.h"
#include "crypto/crypto.h"
#include "tdx/tdx_internal.h"
#include "tdx/tdx_pcs.h"

static bool digest_x509s(EVP_MD_CTX *md, STACK_OF(X509) * sk)
{
    for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
        unsigned char *der = NULL;
        int n = i2d_X509(sk_X509_value(sk, i), &der);
        bool ok = n > 0 && EVP_DigestUpdate(md, der, (size_t)n) == 1;
        OPENSSL_free(der);
        if (!ok) {
            return false;
        }
    }
    return EVP_DigestUpdate(md, "|", 1) == 1;
}

static bool digest_crl(EVP_MD_CTX *md, X509_CRL *crl)
{
    unsigned char *der = NULL;
    int n = crl != NULL ? i2d_X509_CRL(crl, &der) : 0;
    bool ok = n >= 0 && (n == 0 || EVP_DigestUpdate(md, der, (size_t)n) == 1) &&
              EVP_DigestUpdate(md, "|", 1) == 1;
    OPENSSL_free(der);
    return ok;
}

bool cvma_tdx_held_seal(struct cvma_tdx_held *held)
{
    const struct cvma_tdx_collateral *c = &held->c;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    const struct cvma_tdx_signed_json *docs[] = {&c->tcb_info_doc, &c->qe_identity_doc};
    bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < 2; i++) {
        uint64_t l = docs[i]->signed_part.len;
        ok = EVP_DigestUpdate(md, &l, sizeof l) == 1 &&
             (l == 0 || EVP_DigestUpdate(md, docs[i]->signed_part.p, l) == 1) &&
             EVP_DigestUpdate(md, docs[i]->signature, 64) == 1;
    }
    ok = ok && digest_x509s(md, c->tcb_info_chain) && digest_x509s(md, c->qe_identity_chain) &&
         digest_crl(md, c->pck_crl) && digest_crl(md, c->root_ca_crl) &&
         EVP_DigestFinal_ex(md, held->fp, &n) == 1 && n == 32;
    EVP_MD_CTX_free(md);
    return ok;
}

/*
 * The PCS client for q, as every fetch and eviction of its collateral sets it up: the FMSPC and
 * the CA of its PCK certificate choose the URLs, hence the cache keys. Only for a quote whose
 * PCK chain has been checked: by cvma_tdx_pck_chain_precheck before a fetch, in full before an
 * eviction. On CVMA_OK *pcs uses *cache (when the cache directory can be used;
 * cvma_cache_cleanup it either way); else the reason is in v.
 */
static enum cvma_status pcs_for_quote(const struct cvma_tdx_quote *q,
                                      const struct cvma_verify_opts *opts, struct cvma_pcs *pcs,
                                      struct cvma_cache *cache, struct cvma_pck_ext *pck,
                                      enum cvma_pcs_ca *ca, struct cvma_verdict *v)
{
    enum cvma_status st;
    STACK_OF(X509) *certs = cvma_x509_load_pem_stack(q->pck_chain_pem.p, q->pck_chain_pem.len);

    if (certs == NULL) {
        return cvma_reject(v, CVMA_R_CERT_PARSE, "the quote's PCK chain holds no PEM certificate");
    }
    X509 *leaf = sk_X509_value(certs, 0);
    if ((st = cvma_pck_ext_parse(leaf, pck, v)) != CVMA_OK) {
        goto out;
    }
    if (!cvma_pcs_ca_of_pck(leaf, ca)) {
        st = cvma_reject(v, CVMA_R_TDX_PCK_NOT_PCK,
                         "the PCK certificate's issuer is neither the "
                         "PCK Platform CA nor the PCK Processor CA");
        goto out;
    }
    cvma_pcs_init(pcs);
    pcs->base_url = opts->pcs_base_url;
    pcs->offline = opts->offline;
    pcs->max_age = opts->collateral_max_age;
    pcs->at = (int64_t)opts->at;
    pcs->grace = opts->collateral_grace_seconds; /* as for a directory's TCB Info */
    pcs->hooks = opts->collateral_hooks;         /* the fleet's shared copy */
    /* A cache directory that cannot be used is no cache (said where an item is missed); out
     * of memory is not taken for that. */
    enum cvma_status cst = cvma_cache_init(cache, opts->cache_dir);
    if (cst == CVMA_OK) {
        pcs->cache = cache;
    } else if (cst == CVMA_E_NOMEM) {
        st = CVMA_E_NOMEM;
    }
out:
    sk_X509_pop_free(certs, X509_free);
    return st;
}

/* The items in want (CVMA_TDX_ITEM_*) from Intel PCS or the on-disk cache (offline: the cache
 * only) into held->c; the others in it are kept. A quote whose PCK chain does not chain to a
 * trusted root is refused first (CVMA_REJECTED), asking for nothing; checked: the caller has
 * made that check already. */
static enum cvma_status from_pcs(const struct cvma_tdx_quote *q,
                                 const struct cvma_verify_opts *opts, unsigned want, bool checked,
                                 struct cvma_tdx_held *held, struct cvma_verdict *v)
{
    struct cvma_pcs pcs;
    struct cvma_cache cache = {0};
    struct cvma_pck_ext pck;
    enum cvma_pcs_ca ca;
    /* Nothing is asked for by the PCK certificate's values before its chain is the trusted
     * root's; the CRLs among what is fetched are for the full check. */
    enum cvma_status st = checked ? CVMA_OK : cvma_tdx_pck_chain_precheck(q, opts, v);
    if (st != CVMA_OK) {
        return st;
    }
    if ((st = pcs_for_quote(q, opts, &pcs, &cache, &pck, &ca, v)) == CVMA_OK) {
        st = cvma_pcs_collateral_fill(&pcs, pck.fmspc, ca, want, &held->c, v);
    }
    cvma_cache_cleanup(&cache);
    return st;
}

/* see tdx/tdx_internal.h */
void cvma_tdx_collateral_evict(const struct cvma_tdx_quote *q, const struct cvma_verify_opts *opts,
                               unsigned items, char *what, size_t what_len)
{
    static const struct {
        unsigned bit;
        enum cvma_pcs_item item;
    } order[] = {{CVMA_TDX_ITEM_TCB_INFO, CVMA_PCS_TCB_INFO},
                 {CVMA_TDX_ITEM_QE_IDENTITY, CVMA_PCS_QE_IDENTITY},
                 {CVMA_TDX_ITEM_PCK_CRL, CVMA_PCS_PCK_CRL},
                 {CVMA_TDX_ITEM_ROOT_CA_CRL, CVMA_PCS_ROOT_CA_CRL}};
    struct cvma_pcs pcs;
    struct cvma_cache cache = {0};
    struct cvma_pck_ext pck;
    struct cvma_verdict scratch;
    enum cvma_pcs_ca ca = CVMA_PCS_CA_PLATFORM;
    size_t used = 0;
    bool failed = false;

    snprintf(what, what_len, "nothing");
    cvma_verdict_init(&scratch);
    memset(&pck, 0, sizeof pck);
    /* The same set-up as the fetch's: the same URLs, hence the same cache keys. */
    if (pcs_for_quote(q, opts, &pcs, &cache, &pck, &ca, &scratch) != CVMA_OK) {
        failed = true;
        goto out;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(order); i++) {
        if ((items & order[i].bit) == 0) {
            continue;
        }
        if (cvma_pcs_evict(&pcs, order[i].item, pck.fmspc, ca) != CVMA_OK) {
            failed = true;
            continue;
        }
        int w = snprintf(what + used, what_len - used, "%s%s", used ? ", " : "",
                         cvma_pcs_item_name(order[i].item));
        used += w > 0 && (size_t)w < what_len - used ? (size_t)w : 0;
    }
out:
    if (failed) {
        snprintf(what + used, what_len - used, "%s(a cache entry could not be removed)",
                 used ? " " : "");
    }
    cvma_cache_cleanup(&cache);
    cvma_verdict_cleanup(&scratch);
}

/* After items missing from the collateral directory could not be had: say so in the reason
 * the fetch recorded (COLLATERAL_UNAVAILABLE, from index since), so that it does not read as
 * if the directory had been ignored. */
static void name_dir_gap(struct cvma_verdict *v, size_t since,
                         const struct cvma_collateral_src *src, const char *absent)
{
    char where[256], detail[CVMA_DETAIL_MAX];

    for (size_t i = since; i < v->n_reasons; i++) {
        if (v->reasons[i].code != CVMA_R_COLLATERAL_UNAVAILABLE) {
            continue;
        }
        cvma_collateral_src_describe(src, where, sizeof where);
        cvma_errf(detail, sizeof detail, "TDX collateral directory %s lacks %s: %s", where, absent,
                  v->reasons[i].detail);
        cvma_errf(v->reasons[i].detail, sizeof v->reasons[i].detail, "%s", detail);
        return;
    }
}

/* opts' TDX collateral parts split by where they came from: the verifier's own (`own`, read
 * from its directory into the evidence) and the evidence's; other parts (an event log) are
 * left out. The parts are borrowed; free both arrays. */
static enum cvma_status split_parts(const struct cvma_verify_opts *opts,
                                    struct cvma_named_part **own_parts,
                                    struct cvma_named_part **given_parts,
                                    struct cvma_collateral_src *own,
                                    struct cvma_collateral_src *given)
{
    struct cvma_named_part *o = NULL, *g = NULL;
    size_t n = opts->n_collateral_parts;

    *own_parts = *given_parts = NULL;
    if (n > 0 && ((o = calloc(n, sizeof *o)) == NULL || (g = calloc(n, sizeof *g)) == NULL)) {
        free(o);
        return CVMA_E_NOMEM;
    }
    *own_parts = o;
    *given_parts = g;
    own->parts = o;
    given->parts = g;
    for (size_t i = 0; i < n; i++) {
        const struct cvma_named_part *pt = &opts->collateral_parts[i];
        if (cvma_tdx_collateral_file_item(pt->name) == 0) {
            continue;
        }
        if (pt->own) {
            o[own->n_parts++] = *pt;
        } else {
            g[given->n_parts++] = *pt;
        }
    }
    return CVMA_OK;
}

/* "TCB Info, PCK CRL": the names of the items in bits. */
static void item_names(unsigned bits, char *out, size_t out_len)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{CVMA_TDX_ITEM_TCB_INFO, "TCB Info"},
                 {CVMA_TDX_ITEM_QE_IDENTITY, "QE Identity"},
                 {CVMA_TDX_ITEM_PCK_CRL, "PCK CRL"},
                 {CVMA_TDX_ITEM_ROOT_CA_CRL, "Root CA CRL"}};
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        if ((bits & names[i].bit) != 0 && used < out_len) {
            int w = snprintf(out + used, out_len - used, "%s%s", used ? ", " : "", names[i].name);
            used += w > 0 ? (size_t)w : 0;
        }
    }
}

/* The items of need that the evidence gives (given: its parts), moved into c; *got: which. Only
 * the files of those items are read. An item the evidence gives in part (a document without its
 * issuer chain, or the reverse) is the evidence's fault: COLLATERAL_INVALID. */
static enum cvma_status take_given(const struct cvma_collateral_src *given, unsigned need,
                                   struct cvma_tdx_collateral *c, unsigned *got,
                                   struct cvma_verdict *v)
{
    struct cvma_named_part *sel = calloc(given->n_parts > 0 ? given->n_parts : 1, sizeof *sel);
    struct cvma_collateral_src src = {.parts = sel};
    struct cvma_tdx_collateral t;
    unsigned have = 0, partial;
    enum cvma_status st;

    *got = 0;
    if (sel == NULL) {
        return CVMA_E_NOMEM;
    }
    for (size_t i = 0; i < given->n_parts; i++) {
        if ((cvma_tdx_collateral_file_item(given->parts[i].name) & need) != 0) {
            sel[src.n_parts++] = given->parts[i];
        }
    }
    if ((partial = cvma_tdx_parts_partial(sel, src.n_parts)) != 0) {
        char names[64], files[256];
        size_t used = 0;
        files[0] = '\0';
        for (size_t i = 0; i < src.n_parts; i++) {
            if ((cvma_tdx_collateral_file_item(sel[i].name) & partial) != 0 &&
                used < sizeof files) {
                int w = snprintf(files + used, sizeof files - used, "%s%s", used ? ", " : "",
                                 sel[i].name);
                used += w > 0 ? (size_t)w : 0;
            }
        }
        item_names(partial, names, sizeof names);
        free(sel);
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "the evidence bundle gives only part of its %s (%s): a document goes "
                           "with its issuer chain (tcb_info.json with tcb_info_issuer_chain.pem, "
                           "qe_identity.json with qe_identity_issuer_chain.pem)",
                           names, files);
    }
    st = cvma_tdx_collateral_load_cached(NULL, &src, &t, &have, NULL, 0, v);
    if (st == CVMA_OK) {
        *got = have & need;
        cvma_tdx_collateral_move(c, &t, *got);
    }
    cvma_tdx_collateral_cleanup(&t);
    free(sel);
    return st;
}

/* Adds to dst the reasons of src that are errors (errors true) or that are not. */
static void merge_some(struct cvma_verdict *dst, const struct cvma_verdict *src, bool errors)
{
    for (size_t i = 0; i < src->n_reasons; i++) {
        const struct cvma_verdict_reason *r = &src->reasons[i];
        if ((r->severity == CVMA_SEV_ERROR) == errors) {
            cvma_verdict_add(dst, r->code, r->severity, "%s", r->detail);
        }
    }
    dst->oom = dst->oom || src->oom;
}

/*
 * Offline, for a chain to the pinned Intel root: the items of need from the cache, and those the
 * cache lacks from the evidence (given), when it gives them, with COLLATERAL_FROM_EVIDENCE
 * naming them: checked as any item is, but chosen by the evidence, which could bring an older
 * one still inside its window. An item neither has stays undecided, as without a bundle; the
 * bundle's other items are not read.
 */
static enum cvma_status from_cache_or_given(const struct cvma_tdx_quote *q,
                                            const struct cvma_verify_opts *opts, unsigned need,
                                            const struct cvma_collateral_src *given,
                                            struct cvma_tdx_held *held, struct cvma_verdict *v)
{
    static const unsigned order[] = {CVMA_TDX_ITEM_TCB_INFO, CVMA_TDX_ITEM_QE_IDENTITY,
                                     CVMA_TDX_ITEM_PCK_CRL, CVMA_TDX_ITEM_ROOT_CA_CRL};
    struct cvma_verdict missed[CVMA_ARRAY_LEN(order)]; /* why the cache did not have it */
    unsigned miss = 0, got = 0;
    enum cvma_status st = cvma_tdx_pck_chain_precheck(q, opts, v);

    if (st != CVMA_OK) {
        return st;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(order); i++) {
        cvma_verdict_init(&missed[i]);
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(order) && st == CVMA_OK; i++) {
        struct cvma_tdx_held t;
        if ((need & order[i]) == 0) {
            continue;
        }
        memset(&t, 0, sizeof t);
        st = from_pcs(q, opts, order[i], true, &t, &missed[i]);
        /* Notes (a corrupt cache entry passed over) stay; a miss is said only when the bundle
         * does not stand in. */
        merge_some(v, &missed[i], false);
        if (st == CVMA_UNDECIDED && !missed[i].oom) {
            miss |= order[i];
            st = CVMA_OK;
        } else if (st == CVMA_OK) {
            cvma_tdx_collateral_move(&held->c, &t.c, order[i]);
        } else {
            merge_some(v, &missed[i], true);
            v->undecided = v->undecided || missed[i].undecided;
        }
        cvma_tdx_collateral_cleanup(&t.c);
    }
    if (st == CVMA_OK && miss != 0) {
        st = take_given(given, miss, &held->c, &got, v);
    }
    /* When the bundle stood in: whether the cache directory could not be used at all, and
     * why, for the warning. */
    char said[CVMA_DETAIL_MAX / 2];
    said[0] = '\0';
    if (st == CVMA_OK && got != 0) {
        struct cvma_cache cache = {0};
        char why[CVMA_DETAIL_MAX / 2 - 32];
        enum cvma_status cst = cvma_cache_init(&cache, opts->cache_dir);
        if (cst == CVMA_OK) {
            cst = cvma_cache_dir_check(&cache, why, sizeof why);
        }
        if (cst == CVMA_E_NOMEM) {
            st = cst;
        } else if (cst == CVMA_E_IO) { /* (only from the check: init gave it a dir) */
            cvma_errf(said, sizeof said, " (cache directory not used: %s)", why);
        }
        cvma_cache_cleanup(&cache);
    }
    if (st == CVMA_OK && (miss & ~got) != 0) {
        for (size_t i = 0; i < CVMA_ARRAY_LEN(order); i++) {
            if ((miss & ~got & order[i]) != 0) {
                merge_some(v, &missed[i], true);
            }
        }
        v->undecided = true;
        st = CVMA_UNDECIDED;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(order); i++) {
        cvma_verdict_cleanup(&missed[i]);
    }
    if (st == CVMA_OK && got != 0) {
        char names[64];
        item_names(got, names, sizeof names);
        cvma_reject(v, CVMA_R_COLLATERAL_FROM_EVIDENCE,
                    "the only %s at hand came with the evidence (offline; none in --collateral "
                    "DIR or the cache%s): checked as any collateral is, but chosen by the "
                    "evidence, which could bring an older one still in its window (from before a "
                    "revocation or a TCB recovery); give it in --collateral DIR, or verify online",
                    names, said);
    }
    return st;
}

/*
 * Collateral for q, item by item (docs/collateral.md):
 * 1. the verifier's own: --collateral DIR, and parts read from it into the evidence (`own`);
 * 2. for a chain to the pinned Intel root: Intel PCS through the cache (offline: the cache);
 *    offline, what the cache lacks is the evidence's bundle's, with COLLATERAL_FROM_EVIDENCE;
 * 3. for another root (a --trust-root): the evidence's bundle, then PCS through the cache for
 *    what it lacks (PCS has nothing for such a root, but a stand-in may).
 * A bundle item never replaces one the verifier has of its own.
 */
enum cvma_status cvma_tdx_collateral_get(const struct cvma_tdx_quote *q,
                                         const struct cvma_verify_opts *opts,
                                         struct cvma_tdx_held *held, struct cvma_verdict *v)
{
    struct cvma_collateral_src own = {.dir = opts->collateral_dir}, given = {0};
    struct cvma_named_part *own_parts, *given_parts;
    enum cvma_status st;

    memset(held, 0, sizeof *held);
    if ((st = split_parts(opts, &own_parts, &given_parts, &own, &given)) != CVMA_OK) {
        return st;
    }
    if (opts->collateral_parts_only) {
        /* Prepared once (tdx_prepare): only from the verifier's own parts, all of them. */
        own.dir = NULL;
        st = given.n_parts > 0 ? CVMA_E_USAGE : cvma_tdx_collateral_load(&own, &held->c, v);
    } else {
        struct cvma_dircache *dc =
                opts->collateral_hooks != NULL ? opts->collateral_hooks->dir_cache : NULL;
        unsigned have = 0, need = CVMA_TDX_ITEMS_ALL;
        char absent[256];
        /* What the directory gives is used as is; only the items it lacks come from elsewhere,
         * online or offline. */
        if (cvma_collateral_src_any(&own)) {
            st = cvma_tdx_collateral_load_cached(dc, &own, &held->c, &have, absent, sizeof absent,
                                                 v);
            need &= ~have;
        }
        bool pinned = need != 0 && given.n_parts > 0 && cvma_tdx_pck_root_pinned(q);
        if (st == CVMA_OK && need != 0 && given.n_parts > 0 && !pinned) {
            unsigned got = 0;
            st = take_given(&given, need, &held->c, &got, v);
            need &= ~got;
        }
        if (st == CVMA_OK && need != 0) {
            size_t since = v->n_reasons;
            st = pinned && opts->offline ? from_cache_or_given(q, opts, need, &given, held, v)
                                         : from_pcs(q, opts, need, false, held, v);
            if (st == CVMA_UNDECIDED && have != 0) {
                name_dir_gap(v, since, &own, absent);
            }
        }
    }
    free(own_parts);
    free(given_parts);
    if (st == CVMA_OK && !cvma_tdx_held_seal(held)) {
        st = CVMA_E_NOMEM;
    }
    if (st != CVMA_OK) {
        cvma_tdx_collateral_cleanup(&held->c);
    }
    return st;
}
