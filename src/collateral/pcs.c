#include "collateral/pcs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/hex.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"

#define PCS_PATH_MAX 128

static const uint8_t entry_magic[8] = {'C', 'V', 'M', 'A', 'P', 'C', 'S', '1'};

enum kind {
    K_TCB_INFO,
    K_QE_IDENTITY,
    K_PCK_CRL,
    K_ROOT_CRL,
};

static const char *kind_name(enum kind k)
{
    switch (k) {
    case K_TCB_INFO:
        return "TCB Info";
    case K_QE_IDENTITY:
        return "QE Identity";
    case K_PCK_CRL:
        return "PCK CRL";
    case K_ROOT_CRL:
        return "Root CA CRL";
    }
    return "collateral";
}

void cvma_pcs_init(struct cvma_pcs *p)
{
    memset(p, 0, sizeof *p);
    p->base_url = CVMA_PCS_DEFAULT_BASE_URL;
    cvma_http_opts_init(&p->http);
}

void cvma_pcs_answer_cleanup(struct cvma_pcs_answer *a)
{
    if (a == NULL) {
        return;
    }
    cvma_buf_free(&a->body);
    cvma_buf_free(&a->issuer_chain);
}

/* see collateral/pcs.h */
bool cvma_pcs_ca_of_pck(X509 *pck, enum cvma_pcs_ca *ca)
{
    char cn[128];
    X509_NAME *n = pck != NULL ? X509_get_issuer_name(pck) : NULL;

    *ca = CVMA_PCS_CA_PLATFORM;
    if (n == NULL || X509_NAME_get_text_by_NID(n, NID_commonName, cn, (int)sizeof cn) < 0) {
        return false;
    }
    if (strstr(cn, "Processor") != NULL) {
        *ca = CVMA_PCS_CA_PROCESSOR;
        return true;
    }
    return strstr(cn, "Platform") != NULL;
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* see collateral/pcs.h */
bool cvma_pcs_url_decode(const char *in, struct cvma_buf *out)
{
    size_t n = strlen(in), k = 0;
    uint8_t *p;

    out->p = NULL;
    out->len = 0;
    if ((p = malloc(n + 1)) == NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '%') {
            p[k++] = (uint8_t)in[i];
            continue;
        }
        int hi = n - i > 2 ? hexdigit(in[i + 1]) : -1;
        int lo = n - i > 2 ? hexdigit(in[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(p);
            return false;
        }
        p[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    out->p = p;
    out->len = k;
    return true;
}

static int64_t expiry_for(int64_t next, int64_t now)
{
    return next <= now ? now + CVMA_PCS_STALE_TTL : next;
}

/*
 * Checks that the answer has the form the endpoint promises (nothing more: no signatures) and
 * computes when its cache entry expires. fmspc (TCB Info only) must match the document.
 * Returns true when well-formed; otherwise why (why_len bytes) says what is wrong.
 */
static bool check_answer(enum kind k, const struct cvma_pcs_answer *a, const uint8_t *fmspc,
                         int64_t now, int64_t *expires_at, char *why, size_t why_len)
{
    struct cvma_span span;
    uint8_t sig[64];
    struct cvma_verdict scratch;
    STACK_OF(X509) *chain = NULL;
    X509_CRL *crl = NULL;
    bool ok;

    cvma_verdict_init(&scratch);
    *expires_at = 0;
    why[0] = '\0';
    if (a->body.len == 0 || a->body.len + a->issuer_chain.len > CVMA_CACHE_MAX_BODY - 64) {
        snprintf(why, why_len, "empty, or larger than the cache accepts");
        goto out;
    }
    if (k == K_TCB_INFO || k == K_QE_IDENTITY) {
        if (a->issuer_chain.len == 0 ||
            (chain = cvma_x509_load_pem_stack(a->issuer_chain.p, a->issuer_chain.len)) == NULL) {
            snprintf(why, why_len, "issuer chain header missing or not PEM certificates");
            goto out;
        }
    }
    switch (k) {
    case K_TCB_INFO: {
        struct cvma_tdx_tcb_info ti;
        if (!cvma_tdx_signed_json_split(a->body.p, a->body.len, "tcbInfo", &span, sig)) {
            snprintf(why, why_len, "not a PCS body {\"tcbInfo\": ..., \"signature\": ...}");
            break;
        }
        if (cvma_tdx_tcb_info_parse(span.p, span.len, &ti, &scratch) != CVMA_OK) {
            snprintf(why, why_len, "%s",
                     scratch.n_reasons > 0 ? scratch.reasons[0].detail : "not a TDX TCB Info");
            break;
        }
        if (memcmp(ti.fmspc, fmspc, 6) != 0) {
            snprintf(why, why_len, "TCB Info for another FMSPC");
        }
        *expires_at = expiry_for((int64_t)ti.next_update, now);
        cvma_tdx_tcb_info_cleanup(&ti);
        break;
    }
    case K_QE_IDENTITY: {
        struct cvma_tdx_qe_identity qi;
        if (!cvma_tdx_signed_json_split(a->body.p, a->body.len, "enclaveIdentity", &span, sig)) {
            snprintf(why, why_len, "not a PCS body {\"enclaveIdentity\": ..., \"signature\": ...}");
            break;
        }
        if (cvma_tdx_qe_identity_parse(span.p, span.len, &qi, &scratch) != CVMA_OK) {
            snprintf(why, why_len, "%s",
                     scratch.n_reasons > 0 ? scratch.reasons[0].detail : "not a TD QE Identity");
            break;
        }
        *expires_at = expiry_for((int64_t)qi.next_update, now);
        cvma_tdx_qe_identity_cleanup(&qi);
        break;
    }
    case K_PCK_CRL:
    case K_ROOT_CRL: {
        int64_t next;
        if ((crl = cvma_tdx_crl_load_any(a->body.p, a->body.len)) == NULL) {
            snprintf(why, why_len, "not one CRL (DER, PEM or hex)");
            break;
        }
        {
            time_t t = 0;
            ok = cvma_asn1_time_to_time_t(X509_CRL_get0_nextUpdate(crl), &t);
            next = (int64_t)t;
        }
        *expires_at = ok ? expiry_for(next, now) : now + CVMA_PCS_DEFAULT_TTL;
        break;
    }
    }
out:
    ERR_clear_error();
    cvma_verdict_cleanup(&scratch);
    sk_X509_pop_free(chain, X509_free);
    X509_CRL_free(crl);
    return why[0] == '\0';
}

static void put_u64be(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_u64be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* Cache entry body: magic(8) || u64be body length || body || u64be chain length || chain. */
static bool frame(const struct cvma_pcs_answer *a, struct cvma_buf *out)
{
    size_t n = 8 + 8 + a->body.len + 8 + a->issuer_chain.len;
    uint8_t *p = malloc(n);

    out->p = NULL;
    out->len = 0;
    if (p == NULL) {
        return false;
    }
    memcpy(p, entry_magic, 8);
    put_u64be(p + 8, a->body.len);
    memcpy(p + 16, a->body.p, a->body.len);
    put_u64be(p + 16 + a->body.len, a->issuer_chain.len);
    if (a->issuer_chain.len > 0) {
        memcpy(p + 24 + a->body.len, a->issuer_chain.p, a->issuer_chain.len);
    }
    out->p = p;
    out->len = n;
    return true;
}

/* The inverse; false (corrupt) on any length that does not add up. */
static enum cvma_status unframe(const struct cvma_buf *in, struct cvma_pcs_answer *a, bool *ok)
{
    uint64_t bl, cl;

    *ok = false;
    memset(a, 0, sizeof *a);
    if (in->len < 24 || memcmp(in->p, entry_magic, 8) != 0) {
        return CVMA_OK;
    }
    bl = get_u64be(in->p + 8);
    if (bl > in->len - 24) {
        return CVMA_OK;
    }
    cl = get_u64be(in->p + 16 + bl);
    if (cl != in->len - 24 - bl) {
        return CVMA_OK;
    }
    if ((a->body.p = malloc(bl > 0 ? (size_t)bl : 1)) == NULL ||
        (a->issuer_chain.p = malloc(cl > 0 ? (size_t)cl : 1)) == NULL) {
        cvma_pcs_answer_cleanup(a);
        return CVMA_E_NOMEM;
    }
    memcpy(a->body.p, in->p + 16, (size_t)bl);
    a->body.len = (size_t)bl;
    if (cl > 0) {
        memcpy(a->issuer_chain.p, in->p + 24 + bl, (size_t)cl);
    }
    a->issuer_chain.len = (size_t)cl;
    if (a->issuer_chain.len == 0) {
        cvma_buf_free(&a->issuer_chain);
    }
    *ok = true;
    return CVMA_OK;
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

/* The header names an answer of this kind may carry its issuer chain in, in preference
 * order. */
static size_t chain_headers(enum kind k, struct cvma_http_header h[2])
{
    switch (k) {
    case K_TCB_INFO:
        /* v4 name for SGX and TDX alike; v3 (and some PCCS versions) used the SGX- name. */
        h[0].name = "TCB-Info-Issuer-Chain";
        h[1].name = "SGX-TCB-Info-Issuer-Chain";
        return 2;
    case K_QE_IDENTITY:
        h[0].name = "SGX-Enclave-Identity-Issuer-Chain";
        return 1;
    case K_PCK_CRL:
        h[0].name = "SGX-PCK-CRL-Issuer-Chain";
        return 1;
    case K_ROOT_CRL:
        return 0;
    }
    return 0;
}

static enum cvma_status download(const struct cvma_pcs *p, enum kind k, const char *url,
                                 struct cvma_pcs_answer *a, char *err, size_t err_len)
{
    struct cvma_http_header h[2] = {{NULL, NULL}, {NULL, NULL}};
    size_t nh = chain_headers(k, h);
    enum cvma_status st;

    memset(a, 0, sizeof *a);
    st = cvma_http_get_ex(&p->http, url, h, nh, &a->body, NULL, err, err_len);
    if (st != CVMA_OK) {
        return st;
    }
    for (size_t i = 0; i < nh; i++) {
        if (h[i].value == NULL || a->issuer_chain.len > 0) {
            continue;
        }
        if (!cvma_pcs_url_decode(h[i].value, &a->issuer_chain)) {
            cvma_errf(err, err_len, "%s from %s: header %s is not URL-encoded text", kind_name(k),
                      url, h[i].name);
            st = CVMA_UNDECIDED;
            break;
        }
    }
    for (size_t i = 0; i < nh; i++) {
        free(h[i].value);
    }
    if (st != CVMA_OK) {
        cvma_pcs_answer_cleanup(a);
    }
    return st;
}

/* Records that a cached answer older than the maximum age was used because its refresh
 * failed (why). */
static void note_stale(const struct cvma_pcs *p, enum kind k, const char *url,
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
                           kind_name(k), url, age, (long long)cvma_cache_max_age(p->max_age), why,
                           until);
}

/* The cache-first fetch behind every public function. url is the full URL. */
static enum cvma_status fetch(const struct cvma_pcs *p, enum kind k, const char *url,
                              const uint8_t *fmspc, struct cvma_pcs_answer *out,
                              struct cvma_verdict *v, char *err, size_t err_len)
{
    enum cvma_status st = CVMA_E_NOMEM;
    struct cvma_pcs_answer a = {{NULL, 0}, {NULL, 0}}, stale = a;
    struct cvma_cache_meta meta = {0, 0};
    struct cvma_buf raw = {0}, framed = {0};
    char why[CVMA_DETAIL_MAX];
    char *key = NULL;
    size_t key_len;
    int64_t now = (int64_t)time(NULL), expires_at = 0;

    memset(out, 0, sizeof *out);
    key_len = sizeof "intel-pcs " + strlen(url);
    if ((key = malloc(key_len)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    snprintf(key, key_len, "intel-pcs %s", url);

    if (p->cache != NULL) {
        enum cvma_cache_state state;
        bool ok = false;
        if ((st = cvma_cache_lookup_ex(p->cache, key, now, &raw, &state, &meta)) != CVMA_OK) {
            cvma_errf(err, err_len, "out of memory");
            goto out;
        }
        if (state == CVMA_CACHE_HIT) {
            if ((st = unframe(&raw, &a, &ok)) != CVMA_OK) {
                cvma_errf(err, err_len, "out of memory");
                goto out;
            }
            cvma_buf_free(&raw);
            /* Re-check the form: an entry written by another version or by hand must not get
             * past the check a download gets. */
            if (ok && check_answer(k, &a, fmspc, now, &expires_at, why, sizeof why)) {
                if (p->offline || !cvma_cache_too_old(meta.fetched_at, now, p->max_age)) {
                    goto done;
                }
                /* Older than the maximum age: fetch again, keep this copy to fall back on. */
                stale = a;
                memset(&a, 0, sizeof a);
            } else {
                cvma_pcs_answer_cleanup(&a);
                state = CVMA_CACHE_CORRUPT;
            }
        }
        if (state == CVMA_CACHE_CORRUPT && v != NULL) {
            (void)cvma_verdict_add(v, CVMA_R_COLLATERAL_CACHE_CORRUPT, CVMA_SEV_INFO,
                                   "cache entry for %s in %s is damaged; ignored", url,
                                   p->cache->dir);
        }
    }
    if (p->offline) {
        cvma_errf(err, err_len, "%s %s: offline and not in cache", kind_name(k), url);
        st = CVMA_UNDECIDED;
        goto out;
    }
    if ((st = download(p, k, url, &a, err, err_len)) != CVMA_OK) {
        if (st == CVMA_UNDECIDED && stale.body.p != NULL) {
            note_stale(p, k, url, &meta, now, err, v);
            goto use_stale;
        }
        goto out;
    }
    if (!check_answer(k, &a, fmspc, now, &expires_at, why, sizeof why)) {
        cvma_errf(err, err_len, "%s from %s: %s (%zu bytes); not cached", kind_name(k), url, why,
                  a.body.len);
        cvma_pcs_answer_cleanup(&a);
        if (stale.body.p != NULL) {
            note_stale(p, k, url, &meta, now, err, v);
            goto use_stale;
        }
        st = CVMA_UNDECIDED;
        goto out;
    }
    if (p->cache != NULL) {
        /* Best effort: a read-only or full cache costs a refetch next time, nothing more. */
        if (frame(&a, &framed)) {
            enum cvma_status put_st =
                    cvma_cache_put(p->cache, key, framed.p, framed.len, expires_at);
            (void)put_st;
        }
    }
    goto done;
use_stale:
    a = stale;
    memset(&stale, 0, sizeof stale);
done:
    *out = a;
    memset(&a, 0, sizeof a);
    cvma_errf(err, err_len, "%s", "");
    st = CVMA_OK;
out:
    cvma_pcs_answer_cleanup(&a);
    cvma_pcs_answer_cleanup(&stale);
    cvma_buf_free(&raw);
    cvma_buf_free(&framed);
    free(key);
    return st;
}

static enum cvma_status fetch_path(const struct cvma_pcs *p, enum kind k, const char *path,
                                   const uint8_t *fmspc, struct cvma_pcs_answer *out,
                                   struct cvma_verdict *v, char *err, size_t err_len)
{
    const char *base = p->base_url != NULL ? p->base_url : CVMA_PCS_DEFAULT_BASE_URL;
    char *url = join_url(base, path);
    enum cvma_status st;

    memset(out, 0, sizeof *out);
    if (url == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return CVMA_E_NOMEM;
    }
    st = fetch(p, k, url, fmspc, out, v, err, err_len);
    free(url);
    return st;
}

/* see collateral/pcs.h */
enum cvma_status cvma_pcs_fetch_tcb_info(const struct cvma_pcs *p, const uint8_t fmspc[6],
                                         struct cvma_pcs_answer *out, struct cvma_verdict *v,
                                         char *err, size_t err_len)
{
    char path[PCS_PATH_MAX], hex[13];

    /* Upper case, as PCS writes FMSPCs (TCB Info "fmspc", the SGX-FMSPC header). */
    snprintf(hex, sizeof hex, "%02X%02X%02X%02X%02X%02X", fmspc[0], fmspc[1], fmspc[2], fmspc[3],
             fmspc[4], fmspc[5]);
    snprintf(path, sizeof path, "/tdx/certification/v4/tcb?fmspc=%s", hex);
    return fetch_path(p, K_TCB_INFO, path, fmspc, out, v, err, err_len);
}

/* see collateral/pcs.h */
enum cvma_status cvma_pcs_fetch_qe_identity(const struct cvma_pcs *p, struct cvma_pcs_answer *out,
                                            struct cvma_verdict *v, char *err, size_t err_len)
{
    return fetch_path(p, K_QE_IDENTITY, "/tdx/certification/v4/qe/identity", NULL, out, v, err,
                      err_len);
}

/* see collateral/pcs.h */
enum cvma_status cvma_pcs_fetch_pck_crl(const struct cvma_pcs *p, enum cvma_pcs_ca ca,
                                        struct cvma_pcs_answer *out, struct cvma_verdict *v,
                                        char *err, size_t err_len)
{
    const char *path;

    switch (ca) {
    case CVMA_PCS_CA_PLATFORM:
        path = "/sgx/certification/v4/pckcrl?ca=platform&encoding=der";
        break;
    case CVMA_PCS_CA_PROCESSOR:
        path = "/sgx/certification/v4/pckcrl?ca=processor&encoding=der";
        break;
    default:
        memset(out, 0, sizeof *out);
        cvma_errf(err, err_len, "PCK CRL: unknown CA type %d", (int)ca);
        return CVMA_E_USAGE;
    }
    return fetch_path(p, K_PCK_CRL, path, NULL, out, v, err, err_len);
}

/* see collateral/pcs.h */
enum cvma_status cvma_pcs_fetch_root_ca_crl(const struct cvma_pcs *p, struct cvma_pcs_answer *out,
                                            struct cvma_verdict *v, char *err, size_t err_len)
{
    const char *base = p->base_url != NULL ? p->base_url : CVMA_PCS_DEFAULT_BASE_URL;
    size_t bl = strlen(base), dl = strlen(CVMA_PCS_DEFAULT_BASE_URL);

    if (p->root_ca_crl_url != NULL) {
        return fetch(p, K_ROOT_CRL, p->root_ca_crl_url, NULL, out, v, err, err_len);
    }
    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    if (bl == dl && strncmp(base, CVMA_PCS_DEFAULT_BASE_URL, dl) == 0) {
        /* Intel PCS itself does not serve the Root CA CRL: its CRL distribution point does. */
        return fetch(p, K_ROOT_CRL, CVMA_PCS_ROOT_CA_CRL_DEFAULT_URL, NULL, out, v, err, err_len);
    }
    return fetch_path(p, K_ROOT_CRL, CVMA_PCS_PCCS_ROOT_CA_CRL_PATH, NULL, out, v, err, err_len);
}

static enum cvma_status unavailable(struct cvma_verdict *v, enum cvma_status st, const char *err)
{
    if (st == CVMA_E_NOMEM) {
        return st;
    }
    v->undecided = true;
    cvma_reject(v, CVMA_R_COLLATERAL_UNAVAILABLE, "%s", err[0] != '\0' ? err : "PCS fetch failed");
    return CVMA_UNDECIDED;
}

/* see collateral/pcs.h */
enum cvma_status cvma_pcs_collateral_get(const struct cvma_pcs *p, const uint8_t fmspc[6],
                                         enum cvma_pcs_ca ca, struct cvma_tdx_collateral *c,
                                         struct cvma_verdict *v)
{
    enum cvma_status st;
    struct cvma_pcs_answer tcb = {{NULL, 0}, {NULL, 0}}, qe = tcb, pck = tcb, root = tcb;
    char err[512];

    memset(c, 0, sizeof *c);
    err[0] = '\0';
    if ((st = cvma_pcs_fetch_tcb_info(p, fmspc, &tcb, v, err, sizeof err)) != CVMA_OK ||
        (st = cvma_pcs_fetch_qe_identity(p, &qe, v, err, sizeof err)) != CVMA_OK ||
        (st = cvma_pcs_fetch_pck_crl(p, ca, &pck, v, err, sizeof err)) != CVMA_OK ||
        (st = cvma_pcs_fetch_root_ca_crl(p, &root, v, err, sizeof err)) != CVMA_OK) {
        st = st == CVMA_E_USAGE ? st : unavailable(v, st, err);
        goto out;
    }
    if ((c->tcb_info_chain = cvma_x509_load_pem_stack(tcb.issuer_chain.p, tcb.issuer_chain.len)) ==
                NULL ||
        (c->qe_identity_chain = cvma_x509_load_pem_stack(qe.issuer_chain.p, qe.issuer_chain.len)) ==
                NULL) {
        st = cvma_reject(v, CVMA_R_CERT_PARSE, "PCS issuer chain: no PEM certificate");
        goto out;
    }
    if ((c->pck_crl = cvma_tdx_crl_load_any(pck.body.p, pck.body.len)) == NULL ||
        (c->root_ca_crl = cvma_tdx_crl_load_any(root.body.p, root.body.len)) == NULL) {
        st = cvma_reject(v, CVMA_R_CRL_INVALID, "PCS: a CRL does not parse");
        goto out;
    }
    if ((st = cvma_tdx_signed_json_load(&c->tcb_info_doc, &tcb.body, NULL, "tcbInfo", "TCB Info",
                                        v)) != CVMA_OK ||
        (st = cvma_tdx_signed_json_load(&c->qe_identity_doc, &qe.body, NULL, "enclaveIdentity",
                                        "QE Identity", v)) != CVMA_OK ||
        (st = cvma_tdx_tcb_info_parse(c->tcb_info_doc.signed_part.p,
                                      c->tcb_info_doc.signed_part.len, &c->tcb_info, v)) !=
                CVMA_OK ||
        (st = cvma_tdx_qe_identity_parse(c->qe_identity_doc.signed_part.p,
                                         c->qe_identity_doc.signed_part.len, &c->qe_identity, v)) !=
                CVMA_OK) {
        goto out;
    }
    st = CVMA_OK;
out:
    ERR_clear_error();
    cvma_pcs_answer_cleanup(&tcb);
    cvma_pcs_answer_cleanup(&qe);
    cvma_pcs_answer_cleanup(&pck);
    cvma_pcs_answer_cleanup(&root);
    if (st != CVMA_OK) {
        cvma_tdx_collateral_cleanup(c);
    }
    return st;
}
