/*
 * Collateral for SEV-SNP: the VCEK or VLEK, the ASK or ASVK, the ARK and the CRL.
 * From the --collateral directory (file names: docs/collateral.md) first; what is missing is
 * fetched from AMD KDS through the on-disk cache unless --offline. VLEKs cannot be fetched. The CRL
 * is optional only offline: online, a CRL that cannot be fetched is undecided (exit 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "collateral/dircache.h"
#include "collateral/source.h"
#include "collateral/stats.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"
#include "snp/snp_internal.h"
#include "snp/snp_kds.h"
#include "verifier/bundle.h"

#define MAX_COLLATERAL_FILE (1u << 20)

void cvma_snp_collateral_cleanup(struct cvma_snp_collateral *c)
{
    cvma_buf_free(&c->leaf);
    cvma_buf_free(&c->ask);
    cvma_buf_free(&c->ark);
    cvma_buf_free(&c->crl);
    cvma_buf_free(&c->crl_given);
    cvma_buf_free(&c->crl_expired);
    cvma_buf_free(&c->chain_rest);
}

/* Reads name from the collateral source if it is there. CVMA_OK with an empty buffer (p NULL)
 * when absent or an empty part (a bundle refuses empty parts; the library's caller may give
 * one: the next name is read in its place); a file that is there but empty, cannot be read or
 * is too large is refused
 * (COLLATERAL_INVALID, as cvma_collateral_src_read_given refuses the last two), never taken
 * for missing and fetched: what is given is used as is (docs/collateral.md). */
static enum cvma_status read_opt(const struct cvma_collateral_src *src, const char *name,
                                 struct cvma_buf *out, struct cvma_verdict *v)
{
    bool missing;
    char where[512];
    enum cvma_status st =
            cvma_collateral_src_read_given(src, name, MAX_COLLATERAL_FILE, out, &missing, v);
    if (st == CVMA_OK && !missing && out->len == 0) {
        cvma_buf_free(out); /* an empty read still owns a buffer */
        for (size_t i = 0; i < src->n_parts; i++) {
            if (!src->parts[i].own && src->parts[i].name != NULL &&
                strcmp(src->parts[i].name, name) == 0) {
                return CVMA_OK; /* an empty part a caller of the library gave: none */
            }
        }
        cvma_collateral_src_describe(src, where, sizeof where);
        return cvma_reject(v, CVMA_R_COLLATERAL_INVALID,
                           "%s in %s is empty; what is given there is used as is, never fetched "
                           "instead",
                           name, where);
    }
    return st;
}

/* Re-encodes one certificate (DER or PEM input) as DER, or records CERT_PARSE. */
static enum cvma_status to_der(struct cvma_buf *b, const char *what, struct cvma_verdict *v)
{
    X509 *x;
    struct cvma_buf der;
    if (b->len == 0) {
        return CVMA_OK;
    }
    if ((x = cvma_x509_load(b->p, b->len)) == NULL) {
        return cvma_reject(v, CVMA_R_CERT_PARSE, "%s: not a DER or PEM X.509 certificate", what);
    }
    bool ok = cvma_x509_to_der(x, &der);
    X509_free(x);
    if (!ok) {
        return CVMA_E_NOMEM;
    }
    cvma_buf_free(b);
    *b = der;
    return CVMA_OK;
}

/* Fills in c's half whose buffer is empty from x (as DER); *same stays true only when a half
 * that was already there is x itself, byte for byte. */
static bool fill_half(X509 *x, struct cvma_buf *half, bool *same)
{
    struct cvma_buf der = {0};
    if (!cvma_x509_to_der(x, &der)) {
        return false;
    }
    if (half->len == 0) {
        *half = der;
        return true;
    }
    *same = *same && half->len == der.len && memcmp(half->p, der.p, der.len) == 0;
    cvma_buf_free(&der);
    return true;
}

/*
 * Splits a PEM bundle "intermediate then root" (KDS cert_chain) into DER ask and ark, filling
 * in only what c lacks. *same (may be NULL): true when every half c already held is the
 * bundle's own, so that c's chain is all the bundle's.
 */
static enum cvma_status split_chain(const struct cvma_buf *pem, struct cvma_snp_collateral *c,
                                    const char *what, bool *same, struct cvma_verdict *v)
{
    STACK_OF(X509) *sk = cvma_x509_load_pem_stack(pem->p, pem->len);
    enum cvma_status st = CVMA_OK;
    bool all = true;
    if (sk == NULL || sk_X509_num(sk) != 2) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE,
                         "%s: expected two PEM certificates (ASK or ASVK, "
                         "then ARK), found %d",
                         what, sk ? sk_X509_num(sk) : 0);
        goto out;
    }
    if (!fill_half(sk_X509_value(sk, 0), &c->ask, &all) ||
        !fill_half(sk_X509_value(sk, 1), &c->ark, &all)) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (same != NULL) {
        *same = all;
    }
out:
    sk_X509_pop_free(sk, X509_free);
    return st;
}

static enum cvma_status load_dir(const struct cvma_collateral_src *dir, bool vlek,
                                 struct cvma_snp_collateral *c, struct cvma_verdict *v)
{
    enum cvma_status st;
    struct cvma_buf chain = {0};
    const char *leaf_der = vlek ? "vlek.der" : "vcek.der";
    const char *leaf_pem = vlek ? "vlek.pem" : "vcek.pem";
    const char *inter = vlek ? "asvk.pem" : "ask.pem";

    if ((st = read_opt(dir, leaf_der, &c->leaf, v)) != CVMA_OK) {
        return st;
    }
    if (c->leaf.len == 0 && (st = read_opt(dir, leaf_pem, &c->leaf, v)) != CVMA_OK) {
        return st;
    }
    /* The CRL: the directory's (or a part read from it, `own`) is the verifier's own; the
     * bundle's is kept apart. */
    const struct cvma_collateral_src dir_only = {.dir = dir->dir};
    const struct cvma_named_part *own_crl = NULL, *given_crl = NULL;
    for (size_t i = 0; i < dir->n_parts; i++) {
        if (dir->parts[i].name != NULL && strcmp(dir->parts[i].name, "crl.der") == 0) {
            *(dir->parts[i].own ? &own_crl : &given_crl) = &dir->parts[i];
        }
    }
    const struct cvma_collateral_src own_src = {.parts = own_crl, .n_parts = own_crl ? 1 : 0};
    const struct cvma_collateral_src given_src = {.parts = given_crl, .n_parts = given_crl ? 1 : 0};
    if ((st = read_opt(dir, inter, &c->ask, v)) != CVMA_OK ||
        (st = read_opt(dir, "ark.pem", &c->ark, v)) != CVMA_OK ||
        (own_crl != NULL && (st = read_opt(&own_src, "crl.der", &c->crl, v)) != CVMA_OK) ||
        (c->crl.len == 0 && dir->dir != NULL &&
         (st = read_opt(&dir_only, "crl.der", &c->crl, v)) != CVMA_OK) ||
        (given_crl != NULL &&
         (st = read_opt(&given_src, "crl.der", &c->crl_given, v)) != CVMA_OK)) {
        return st;
    }
    if ((st = to_der(&c->leaf, vlek ? "VLEK" : "VCEK", v)) != CVMA_OK ||
        (st = to_der(&c->ask, inter, v)) != CVMA_OK ||
        (st = to_der(&c->ark, "ark.pem", v)) != CVMA_OK) {
        return st;
    }
    if (c->ask.len == 0 || c->ark.len == 0) {
        if ((st = read_opt(dir, "cert_chain.pem", &chain, v)) != CVMA_OK) {
            return st;
        }
        if (chain.len > 0) {
            st = split_chain(&chain, c, "cert_chain.pem", NULL, v);
        }
        cvma_buf_free(&chain);
    }
    return st;
}

/* Every file load_dir may read, for the directory cache's stamp. */
static size_t dir_names(bool vlek, const char *names[CVMA_DIRCACHE_MAX_FILES])
{
    size_t n = 0;
    names[n++] = vlek ? "vlek.der" : "vcek.der";
    names[n++] = vlek ? "vlek.pem" : "vcek.pem";
    names[n++] = vlek ? "asvk.pem" : "ask.pem";
    names[n++] = "ark.pem";
    names[n++] = "crl.der";
    names[n++] = "cert_chain.pem";
    return n;
}

/* The cached object: a copy of the four decoded buffers (collateral/dircache.h). */
static void obj_free(void *obj)
{
    if (obj != NULL) {
        cvma_snp_collateral_cleanup(obj);
        free(obj);
    }
}

static void *obj_dup(const void *obj)
{
    const struct cvma_snp_collateral *c = obj;
    struct cvma_snp_collateral *d = calloc(1, sizeof *d);
    const struct cvma_buf *from[] = {&c->leaf, &c->ask, &c->ark, &c->crl};
    struct cvma_buf *to[] = {&d->leaf, &d->ask, &d->ark, &d->crl};
    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(from); i++) {
        if (from[i]->len == 0) {
            continue;
        }
        if ((to[i]->p = malloc(from[i]->len)) == NULL) {
            obj_free(d);
            return NULL;
        }
        memcpy(to[i]->p, from[i]->p, from[i]->len);
        to[i]->len = from[i]->len;
    }
    d->vlek = c->vlek;
    return d;
}

static const struct cvma_dircache_obj_ops obj_ops = {obj_dup, obj_free};

/*
 * load_dir for a collateral directory alone, through the verifier's directory cache: the
 * files decoded once and used again while stat shows each of them unchanged
 * (collateral/dircache.h). Only collateral that decoded without a reason is stored.
 */
static enum cvma_status load_dir_cached(struct cvma_dircache *dc, const char *dir, bool vlek,
                                        struct cvma_snp_collateral *c, struct cvma_verdict *v)
{
    const char *names[CVMA_DIRCACHE_MAX_FILES];
    size_t n = dir_names(vlek, names);
    const char *tag = vlek ? "snp-vlek" : "snp-vcek";
    struct cvma_dircache_stamp before, after;
    struct cvma_collateral_src src = {.dir = dir};
    void *hit = NULL;
    enum cvma_status st;

    if (!cvma_dircache_stamp_watched(dc, tag, dir, names, n, &before)) {
        return load_dir(&src, vlek, c, v);
    }
    st = cvma_dircache_get_obj(dc, tag, dir, &before, &obj_ops, &hit);
    if (st == CVMA_OK) {
        struct cvma_snp_collateral *h = hit;
        c->leaf = h->leaf;
        c->ask = h->ask;
        c->ark = h->ark;
        c->crl = h->crl;
        free(h); /* its buffers are c's now */
        return CVMA_OK;
    }
    if (st == CVMA_E_NOMEM) {
        return st;
    }
    size_t n_reasons = v->n_reasons;
    if ((st = load_dir(&src, vlek, c, v)) != CVMA_OK) {
        return st;
    }
    /* A reason raised while decoding (even a warning) is not stored: a hit would drop it. */
    if (v->n_reasons == n_reasons && cvma_dircache_stamp(dir, names, n, &after) &&
        cvma_dircache_stamp_equal(&before, &after)) {
        void *copy = obj_dup(c);
        if (copy != NULL) {
            cvma_dircache_put_obj(dc, tag, dir, &before, copy, &obj_ops);
        }
    }
    return CVMA_OK;
}

/* True when no bundle part is one of the files load_dir reads (the directory alone counts). */
static bool parts_irrelevant(const struct cvma_collateral_src *src, bool vlek)
{
    const char *names[CVMA_DIRCACHE_MAX_FILES];
    size_t n = dir_names(vlek, names);
    for (size_t i = 0; i < src->n_parts; i++) {
        for (size_t k = 0; k < n; k++) {
            if (src->parts[i].name != NULL && strcmp(src->parts[i].name, names[k]) == 0) {
                return false;
            }
        }
    }
    return true;
}

/* The product an ARK names in its subject CN ("ARK-Milan"): how to find the CRL of a report
 * that names none (v2). UNKNOWN when the ARK is not one of those. */
static enum cvma_snp_product product_of_ark(const struct cvma_buf *ark)
{
    static const enum cvma_snp_product all[] = {CVMA_SNP_PRODUCT_MILAN, CVMA_SNP_PRODUCT_GENOA,
                                                CVMA_SNP_PRODUCT_TURIN};
    enum cvma_snp_product found = CVMA_SNP_PRODUCT_UNKNOWN;
    X509 *x = cvma_x509_load(ark->p, ark->len);
    char cn[64], want[64];

    if (x == NULL) {
        return found;
    }
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)sizeof cn) >
        0) {
        for (size_t i = 0; i < CVMA_ARRAY_LEN(all); i++) {
            snprintf(want, sizeof want, "ARK-%s", cvma_snp_product_name(all[i]));
            if (strcmp(cn, want) == 0) {
                found = all[i];
            }
        }
    }
    X509_free(x);
    return found;
}

/* The product whose KDS CRL is this chain's: the pinned AMD ARK's (by its key, not its name:
 * the report's CPUID is not checked before the signature, and another product's CRL would fail
 * against this ARK and leave the cache as if it were bad, so a made-up report could empty the
 * cache of a genuine CRL); for another root the report's, else (v2) the one the ARK names. */
static enum cvma_snp_product crl_product(const struct cvma_snp_report *rep,
                                         const struct cvma_snp_collateral *c)
{
    enum cvma_snp_product p = cvma_snp_ark_pinned_product(&c->ark);
    if (p == CVMA_SNP_PRODUCT_UNKNOWN) {
        p = rep->product != CVMA_SNP_PRODUCT_UNKNOWN ? rep->product : product_of_ark(&c->ark);
    }
    return p;
}

/*
 * The CRL when neither the directory nor anything else gave one. Online: from KDS through the
 * cache (refreshed past the maximum age); a failure is undecided, as for TDX, since revocation
 * is part of the verification. Offline: from the cache if there; otherwise c->crl_note says
 * where a CRL comes from, and the verifier records CRL_NOT_CHECKED (a warning).
 */
static enum cvma_status get_crl(const struct cvma_snp_report *rep,
                                const struct cvma_verify_opts *opts, bool vlek,
                                struct cvma_kds *kds, struct cvma_snp_collateral *c,
                                struct cvma_verdict *v)
{
    char err[512], url[400];
    enum cvma_status st;
    enum cvma_snp_product product = crl_product(rep, c);

    if (product == CVMA_SNP_PRODUCT_UNKNOWN) {
        if (opts->offline) {
            snprintf(c->crl_note, sizeof c->crl_note,
                     "offline; AMD KDS serves it at /%s/v1/{Milan,Genoa,Turin}/crl",
                     vlek ? "vlek" : "vcek");
            return CVMA_OK;
        }
        cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                    "no AMD CRL given, and neither the report (v%u, no CPUID) nor the ARK names "
                    "the product whose KDS CRL to fetch: give crl.der in --collateral DIR",
                    rep->version);
        return CVMA_UNDECIDED;
    }
    if (cvma_kds_crl_url(kds, product, vlek, url, sizeof url) != CVMA_OK) {
        snprintf(url, sizeof url, "(URL too long)");
    }
    st = cvma_kds_fetch_crl(kds, product, vlek, &c->crl, v, err, sizeof err);
    if (st == CVMA_OK) {
        c->crl_fetched = true;
    }
    if (st == CVMA_OK || st == CVMA_E_NOMEM) {
        return st;
    }
    if (opts->offline) {
        int64_t expired_at;
        cvma_buf_free(&c->crl_expired);
        if (cvma_kds_crl_cached_expired(kds, product, vlek, &expired_at, &c->crl_expired)) {
            /* Not absent: the cached copy is past its nextUpdate, so it is not used for its
             * verdict, but a revocation it lists does not expire (snp_verify.c). */
            char when[32];
            cvma_time_format((time_t)expired_at, when, sizeof when);
            snprintf(c->crl_note, sizeof c->crl_note,
                     "offline, no crl.der given, and the cached CRL expired at %s (its "
                     "nextUpdate); AMD KDS serves a current one at %s",
                     when, url);
        } else {
            snprintf(c->crl_note, sizeof c->crl_note,
                     "offline, and no crl.der given or cached; AMD KDS serves it at %s", url);
        }
        return CVMA_OK;
    }
    cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE, "the AMD CRL: %s", err);
    return CVMA_UNDECIDED;
}

/* Everything the directory did not give: from the cache, and unless offline from KDS. */
static enum cvma_status fetch_missing(const struct cvma_snp_report *rep,
                                      const struct cvma_verify_opts *opts, bool vlek,
                                      struct cvma_snp_collateral *c, struct cvma_verdict *v)
{
    struct cvma_kds kds;
    struct cvma_cache cache = {0};
    char err[512];
    enum cvma_status st = CVMA_OK;
    enum cvma_snp_product product = rep->product;
    bool need_certs = c->leaf.len == 0 || c->ask.len == 0 || c->ark.len == 0;

    cvma_kds_init(&kds);
    kds.base_url = opts->kds_base_url;
    kds.offline = opts->offline;
    kds.max_age = opts->collateral_max_age;
    kds.at = (int64_t)opts->at;
    kds.hooks = opts->collateral_hooks;
    if (cvma_cache_init(&cache, opts->cache_dir) == CVMA_OK) {
        kds.cache = &cache;
    }
    snprintf(err, sizeof err, "collateral unavailable");
    if (need_certs) {
        /* Collateral that cannot be had is undecided (exit 3), not a refusal of the evidence. */
        if (product == CVMA_SNP_PRODUCT_UNKNOWN) {
            /* v2 reports carry no CPUID. --product says which KDS to ask (cvma_snp_verify
             * sets rep->product from it); else only a given VCEK could tell. */
            char why[64];
            if (rep->version >= 3) {
                snprintf(why, sizeof why, "its CPUID family 0x%02x model 0x%02x is none known",
                         rep->cpuid_fam_id, rep->cpuid_mod_id);
            } else {
                snprintf(why, sizeof why, "no CPUID bytes");
            }
            cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                        "report v%u names no product (%s): give --product "
                        "milan|genoa|turin to fetch its collateral, or the VCEK and cert chain "
                        "with --collateral DIR",
                        rep->version, why);
            st = CVMA_UNDECIDED;
            goto out;
        }
        if (kds.cache == NULL && opts->offline) {
            cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                        "offline, no collateral directory holds the %s, and no cache directory "
                        "can be chosen ($CVMATTEST_CACHE, $XDG_CACHE_HOME, $HOME)",
                        vlek ? "VLEK" : "VCEK");
            st = CVMA_UNDECIDED;
            goto out;
        }
    }
    if (c->leaf.len == 0) {
        if (vlek) {
            cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE,
                        "the report is signed by a VLEK, which AMD KDS gives only to cloud "
                        "providers: give vlek.der in --collateral DIR");
            st = CVMA_UNDECIDED;
            goto out;
        }
        struct cvma_snp_tcb tcb;
        cvma_snp_tcb_split(rep->reported_tcb, product, &tcb);
        st = cvma_kds_fetch_vcek(&kds, product, rep->chip_id, &tcb, &c->leaf, v, err, sizeof err);
        if (st != CVMA_OK) {
            goto fail;
        }
        c->leaf_fetched = true;
    }
    if (c->ask.len == 0 || c->ark.len == 0) {
        struct cvma_buf chain = {0};
        st = cvma_kds_fetch_cert_chain(&kds, product, vlek, &chain, v, err, sizeof err);
        if (st != CVMA_OK) {
            goto fail;
        }
        /* Half a chain given (an ask.pem or ark.pem alone) with the other half fetched: the
         * chain is the fetch's only when the given half is the fetched one. Judged as
         * fetched, a chain whose other half the evidence chose (AMD's ASVK as ask.pem, another
         * product's ARK as ark.pem) would be found at fault, and the genuine cert_chain and
         * VCEK removed from the cache (and the fleet's) by anyone's evidence. What was fetched
         * is kept aside, to be judged on its own should the chain fail (a bad mirror's or
         * cache's chain is still its own fault). */
        bool all_fetched = false;
        st = split_chain(&chain, c, "KDS cert_chain", &all_fetched, v);
        c->chain_fetched = all_fetched;
        if (st == CVMA_OK && !all_fetched) {
            c->chain_rest = chain; /* judged on its own if the chain fails */
            chain = (struct cvma_buf){0};
        }
        cvma_buf_free(&chain);
        if (st != CVMA_OK) {
            goto out;
        }
    }
    if (c->crl.len == 0) {
        st = get_crl(rep, opts, vlek, &kds, c, v);
    }
    goto out;
fail:
    if (st != CVMA_E_NOMEM) {
        cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE, "%s", err);
        st = CVMA_UNDECIDED;
    }
out:
    cvma_cache_cleanup(&cache);
    return st;
}

/* see snp/snp_internal.h */
void cvma_snp_collateral_evict(const struct cvma_snp_report *rep,
                               const struct cvma_verify_opts *opts,
                               const struct cvma_snp_collateral *c, bool leaf, bool chain, bool crl,
                               char *what, size_t what_len)
{
    struct cvma_kds kds;
    struct cvma_cache cache = {0};
    enum cvma_snp_product product = rep->product;
    struct cvma_snp_tcb tcb;
    size_t used = 0;
    bool failed = false;

    snprintf(what, what_len, "nothing");
    cvma_kds_init(&kds);
    kds.base_url = opts->kds_base_url;
    kds.hooks = opts->collateral_hooks; /* the fleet's shared copy goes too */
    if (cvma_cache_init(&cache, opts->cache_dir) == CVMA_OK) {
        kds.cache = &cache;
    }
    if (product == CVMA_SNP_PRODUCT_UNKNOWN) {
        product = product_of_ark(&c->ark);
    }
    const struct {
        bool on;
        const char *name;
    } items[] = {{leaf && c->leaf_fetched, c->vlek ? "VLEK" : "VCEK"},
                 {chain && (c->chain_fetched || c->chain_rest.len > 0), "cert_chain"},
                 {crl && c->crl_fetched, "CRL"}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(items); i++) {
        enum cvma_status st;
        if (!items[i].on) {
            continue;
        }
        if (i == 0) {
            cvma_snp_tcb_split(rep->reported_tcb, product, &tcb);
            st = cvma_kds_evict_vcek(&kds, product, rep->chip_id, &tcb);
        } else if (i == 1) {
            st = cvma_kds_evict_product_file(&kds, product, c->vlek, "cert_chain");
        } else {
            st = cvma_kds_evict_product_file(&kds, crl_product(rep, c), c->vlek, "crl");
        }
        if (st != CVMA_OK) {
            failed = true;
            continue;
        }
        int w = snprintf(what + used, what_len - used, "%s%s", used ? ", " : "", items[i].name);
        used += w > 0 && (size_t)w < what_len - used ? (size_t)w : 0;
    }
    if (failed) {
        snprintf(what + used, what_len - used, "%s(a cache entry could not be removed)",
                 used ? " " : "");
    }
    cvma_cache_cleanup(&cache);
}

/* A copy of base (prepared or preloaded collateral) into c (empty). False when out of
 * memory. */
static bool copy_base(const struct cvma_snp_collateral *base, struct cvma_snp_collateral *c)
{
    const struct cvma_buf *from[] = {&base->leaf, &base->ask, &base->ark, &base->crl,
                                     &base->crl_given};
    struct cvma_buf *to[] = {&c->leaf, &c->ask, &c->ark, &c->crl, &c->crl_given};
    *c = *base;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(to); i++) {
        *to[i] = (struct cvma_buf){0};
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(from); i++) {
        if (from[i]->len > 0) {
            if ((to[i]->p = malloc(from[i]->len)) == NULL) {
                return false;
            }
            memcpy(to[i]->p, from[i]->p, from[i]->len);
            to[i]->len = from[i]->len;
        }
    }
    return true;
}

/* True when the verification options (ctx) hold a collateral part of this name: the
 * evidence's or the verifier's own, both of which are read before the directory. */
static bool has_part(const void *ctx, const char *name)
{
    return cvma_verify_opts_part(ctx, name) != NULL;
}

/* see snp/snp_internal.h */
void cvma_snp_name_unread_parts(const struct cvma_verify_opts *opts, bool vlek,
                                struct cvma_verdict *v)
{
    static const char *const of_vcek[] = {"vcek.der", "vcek.pem", "ask.pem", NULL};
    static const char *const of_vlek[] = {"vlek.der", "vlek.pem", "asvk.pem", NULL};

    for (size_t i = 0; i < opts->n_collateral_parts; i++) {
        const struct cvma_named_part *pt = &opts->collateral_parts[i];
        const char *instead;
        if (pt->own) {
            continue; /* the verifier's own files, not the evidence's */
        }
        if (cvma_collateral_name_in(vlek ? of_vcek : of_vlek, pt->name)) {
            cvma_reject(v, CVMA_R_PARSE_BUNDLE_PART_NOT_USED,
                        "the bundle has a collateral part %s, but the report is signed by a "
                        "%s: it was not checked",
                        pt->name, vlek ? "VLEK" : "VCEK");
        } else if ((instead = cvma_snp_collateral_read_instead(pt->name, vlek ? 1 : 0, has_part,
                                                               opts)) != NULL) {
            cvma_reject(v, CVMA_R_PARSE_BUNDLE_PART_NOT_USED,
                        "the bundle has a collateral part %s, but %s: it was not checked", pt->name,
                        instead);
        }
    }
}

enum cvma_status cvma_snp_collateral_get(const struct cvma_snp_report *rep,
                                         const struct cvma_verify_opts *opts,
                                         const struct cvma_snp_collateral *base,
                                         struct cvma_snp_collateral *c, struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_OK;
    bool vlek = cvma_snp_signing_key(rep) == CVMA_SNP_KEY_VLEK;

    memset(c, 0, sizeof *c);
    c->vlek = vlek;
    struct cvma_collateral_src src = {.parts = opts->collateral_parts,
                                      .n_parts = opts->n_collateral_parts,
                                      .dir = opts->collateral_dir};
    if (opts->collateral_parts_only) {
        src.dir = NULL;
    }
    struct cvma_dircache *dc =
            opts->collateral_hooks != NULL ? opts->collateral_hooks->dir_cache : NULL;
    if (base != NULL) {
        /* Prepared from the bundle (or preloaded): as it is, and, when it holds no CRL of
         * the verifier's own, that CRL as below. */
        if (!copy_base(base, c)) {
            cvma_snp_collateral_cleanup(c);
            return CVMA_E_NOMEM;
        }
        vlek = c->vlek;
        const struct cvma_collateral_src dir_only = {.dir = src.dir};
        if (c->crl.len == 0 && src.dir != NULL &&
            (st = read_opt(&dir_only, "crl.der", &c->crl, v)) != CVMA_OK) {
            return st;
        }
    } else if (dc != NULL && src.dir != NULL && parts_irrelevant(&src, vlek)) {
        if ((st = load_dir_cached(dc, src.dir, vlek, c, v)) != CVMA_OK) {
            return st;
        }
    } else if (cvma_collateral_src_any(&src) && (st = load_dir(&src, vlek, c, v)) != CVMA_OK) {
        return st;
    }
    if (opts->collateral_parts_only) {
        if (c->leaf.len == 0 || c->ask.len == 0 || c->ark.len == 0 ||
            (c->crl.len == 0 && c->crl_given.len == 0)) {
            /* Prepared once from a bundle: only when it holds everything, the CRL included. */
            cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE, "the bundle does not hold it all");
            return CVMA_UNDECIDED;
        }
        return CVMA_OK; /* the CRL is settled on each verification */
    }
    /* A chain to another root than AMD's (a --trust-root, the simulator's): KDS and the
     * cache have no CRL of it, so with none in the directory the evidence's is the CRL. */
    if (c->crl.len == 0 && c->crl_given.len > 0 && c->ark.len > 0 &&
        cvma_snp_ark_pinned_product(&c->ark) == CVMA_SNP_PRODUCT_UNKNOWN) {
        c->crl = c->crl_given;
        c->crl_given = (struct cvma_buf){0};
    }
    if (c->leaf.len == 0 || c->ask.len == 0 || c->ark.len == 0 || c->crl.len == 0) {
        if ((st = fetch_missing(rep, opts, vlek, c, v)) != CVMA_OK) {
            return st;
        }
    }
    /* No CRL of the verifier's own (offline, none in the directory or the cache): the
     * evidence's, checked as any CRL is (the ARK's signature, its window). */
    if (c->crl.len == 0 && c->crl_given.len > 0) {
        c->crl = c->crl_given;
        c->crl_given = (struct cvma_buf){0};
        c->crl_from_evidence = true;
        c->crl_note[0] = '\0';
    }
    if (c->leaf.len == 0 || c->ask.len == 0 || c->ark.len == 0) {
        cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE, "missing %s%s%s",
                    c->leaf.len == 0 ? (vlek ? "VLEK " : "VCEK ") : "",
                    c->ask.len == 0 ? (vlek ? "ASVK " : "ASK ") : "", c->ark.len == 0 ? "ARK" : "");
        return CVMA_UNDECIDED;
    }
    return CVMA_OK;
}
