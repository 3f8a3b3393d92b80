#include "collateral/pcs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/hex.h"
#include "common/reader.h"
#include "common/timeutil.h"
#include "crypto/crypto.h"

#define PCS_PATH_MAX 128

static const uint8_t entry_magic[8] = {'C', 'V', 'M', 'A', 'P', 'C', 'S', '1'};

const char *cvma_pcs_item_name(enum cvma_pcs_item k)
{
    switch (k) {
    case CVMA_PCS_TCB_INFO:
        return "TCB Info";
    case CVMA_PCS_QE_IDENTITY:
        return "QE Identity";
    case CVMA_PCS_PCK_CRL:
        return "PCK CRL";
    case CVMA_PCS_ROOT_CA_CRL:
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
        int hi = n - i > 2 ? cvma_hex_nibble(in[i + 1]) : -1;
        int lo = n - i > 2 ? cvma_hex_nibble(in[i + 2]) : -1;
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

int64_t cvma_pcs_expiry(bool ok, int64_t next, int64_t now)
{
    /* 0 would mean "never" to the cache: a date at the epoch is no date */
    return ok && next > 0 ? next : now + CVMA_PCS_DEFAULT_TTL;
}

static void put_u64be(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* see collateral/pcs.h */
bool cvma_pcs_answer_frame(const struct cvma_pcs_answer *a, struct cvma_buf *out)
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

/* see collateral/pcs.h */
enum cvma_status cvma_pcs_answer_unframe(const struct cvma_buf *in, struct cvma_pcs_answer *a,
                                         bool *ok)
{
    struct cvma_reader r;
    struct cvma_span magic, body, chain;
    uint64_t bl, cl;

    *ok = false;
    memset(a, 0, sizeof *a);
    cvma_reader_init(&r, in->p, in->len);
    if (!cvma_reader_span(&r, 8, &magic) || memcmp(magic.p, entry_magic, 8) != 0 ||
        !cvma_reader_u64be(&r, &bl) || bl > cvma_reader_left(&r) ||
        !cvma_reader_span(&r, (size_t)bl, &body) || !cvma_reader_u64be(&r, &cl) ||
        cl != cvma_reader_left(&r) || !cvma_reader_span(&r, (size_t)cl, &chain)) {
        return CVMA_OK;
    }
    if ((a->body.p = malloc(bl > 0 ? (size_t)bl : 1)) == NULL ||
        (a->issuer_chain.p = malloc(cl > 0 ? (size_t)cl : 1)) == NULL) {
        cvma_pcs_answer_cleanup(a);
        return CVMA_E_NOMEM;
    }
    if (bl > 0) {
        memcpy(a->body.p, body.p, (size_t)bl);
    }
    a->body.len = (size_t)bl;
    if (cl > 0) {
        memcpy(a->issuer_chain.p, chain.p, (size_t)cl);
    }
    a->issuer_chain.len = (size_t)cl;
    if (a->issuer_chain.len == 0) {
        cvma_buf_free(&a->issuer_chain);
    }
    *ok = true;
    return CVMA_OK;
}

/* The header names an answer of this kind may carry its issuer chain in, in preference
 * order. */
static size_t chain_headers(enum cvma_pcs_item k, struct cvma_http_header h[2])
{
    switch (k) {
    case CVMA_PCS_TCB_INFO:
        /* v4 name for SGX and TDX alike; v3 (and some PCCS versions) used the SGX- name. */
        h[0].name = "TCB-Info-Issuer-Chain";
        h[1].name = "SGX-TCB-Info-Issuer-Chain";
        return 2;
    case CVMA_PCS_QE_IDENTITY:
        h[0].name = "SGX-Enclave-Identity-Issuer-Chain";
        return 1;
    case CVMA_PCS_PCK_CRL:
        h[0].name = "SGX-PCK-CRL-Issuer-Chain";
        return 1;
    case CVMA_PCS_ROOT_CA_CRL:
        return 0;
    }
    return 0;
}

static enum cvma_status download_answer(const struct cvma_http_opts *http, enum cvma_pcs_item k,
                                        const char *url, struct cvma_pcs_answer *a, char *err,
                                        size_t err_len)
{
    struct cvma_http_header h[2] = {{NULL, NULL}, {NULL, NULL}};
    size_t nh = chain_headers(k, h);
    enum cvma_status st;

    memset(a, 0, sizeof *a);
    /* Collateral comes from the server asked: a redirect elsewhere is not followed. */
    const struct cvma_http_request rq = {.hdrs = h, .n_hdrs = nh, .same_origin = true};
    st = cvma_http_do(http, url, &rq, &a->body, NULL, err, err_len);
    if (st != CVMA_OK) {
        return st;
    }
    for (size_t i = 0; i < nh; i++) {
        if (h[i].value == NULL || a->issuer_chain.len > 0) {
            continue;
        }
        if (!cvma_pcs_url_decode(h[i].value, &a->issuer_chain)) {
            cvma_errf(err, err_len, "%s from %s: header %s is not URL-encoded text",
                      cvma_pcs_item_name(k), url, h[i].name);
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

/* What the fetch path's callbacks need. */
struct item_ctx {
    enum cvma_pcs_item item;
    const uint8_t *fmspc;
    cvma_pcs_check_fn check;
    cvma_pcs_version_fn version;
    void *arg;
};

/* Cached bytes are the framed answer: unframe, then the caller's check. */
static bool check_framed(const struct cvma_buf *bytes, int64_t now, int64_t *expires_at, char *why,
                         size_t why_len, void *arg)
{
    const struct item_ctx *ic = arg;
    struct cvma_pcs_answer a;
    bool framed_ok = false, ok;

    if (cvma_pcs_answer_unframe(bytes, &a, &framed_ok) != CVMA_OK || !framed_ok) {
        snprintf(why, why_len, "not a framed PCS answer");
        return false;
    }
    ok = ic->check(ic->item, &a, ic->fmspc, now, expires_at, why, why_len, ic->arg);
    cvma_pcs_answer_cleanup(&a);
    return ok;
}

/* Cached bytes are the framed answer: unframe, then the caller's version. */
static bool version_framed(const struct cvma_buf *bytes, struct cvma_collateral_version *out,
                           void *arg)
{
    const struct item_ctx *ic = arg;
    struct cvma_pcs_answer a;
    bool framed_ok = false, ok;

    if (cvma_pcs_answer_unframe(bytes, &a, &framed_ok) != CVMA_OK || !framed_ok) {
        return false;
    }
    ok = ic->version(ic->item, &a, out, ic->arg);
    cvma_pcs_answer_cleanup(&a);
    return ok;
}

/* Messages name the body's size, as PCS sent it. */
static size_t body_size(const struct cvma_buf *bytes, void *arg)
{
    (void)arg;
    struct cvma_reader r;
    uint64_t bl;

    cvma_reader_init(&r, bytes->p, bytes->len);
    return cvma_reader_skip(&r, 8) && cvma_reader_u64be(&r, &bl) ? (size_t)bl : bytes->len;
}

static enum cvma_status download_framed(const char *url, const struct cvma_http_opts *http,
                                        struct cvma_buf *out, char *err, size_t err_len, void *arg)
{
    const struct item_ctx *ic = arg;
    struct cvma_pcs_answer a;
    enum cvma_status st = download_answer(http, ic->item, url, &a, err, err_len);

    out->p = NULL;
    out->len = 0;
    if (st != CVMA_OK) {
        return st;
    }
    if (!cvma_pcs_answer_frame(&a, out)) {
        cvma_errf(err, err_len, "out of memory");
        st = CVMA_E_NOMEM;
    }
    cvma_pcs_answer_cleanup(&a);
    return st;
}

/* The URL of item: base URL and path, or the Root CA CRL's own URL. NULL on allocation
 * failure or a bad argument (err says which). */
static char *item_url(const struct cvma_pcs *p, enum cvma_pcs_item item, const uint8_t *fmspc,
                      enum cvma_pcs_ca ca, char *err, size_t err_len)
{
    const char *base = p->base_url != NULL ? p->base_url : CVMA_PCS_DEFAULT_BASE_URL;
    char path[PCS_PATH_MAX];

    switch (item) {
    case CVMA_PCS_TCB_INFO:
        if (fmspc == NULL) {
            cvma_errf(err, err_len, "TCB Info: no FMSPC");
            return NULL;
        }
        /* Upper case, as PCS writes FMSPCs (TCB Info "fmspc", the SGX-FMSPC header). */
        snprintf(path, sizeof path, "/tdx/certification/v4/tcb?fmspc=%02X%02X%02X%02X%02X%02X",
                 fmspc[0], fmspc[1], fmspc[2], fmspc[3], fmspc[4], fmspc[5]);
        break;
    case CVMA_PCS_QE_IDENTITY:
        snprintf(path, sizeof path, "%s", "/tdx/certification/v4/qe/identity");
        break;
    case CVMA_PCS_PCK_CRL:
        switch (ca) {
        case CVMA_PCS_CA_PLATFORM:
            snprintf(path, sizeof path, "%s",
                     "/sgx/certification/v4/pckcrl?ca=platform&encoding=der");
            break;
        case CVMA_PCS_CA_PROCESSOR:
            snprintf(path, sizeof path, "%s",
                     "/sgx/certification/v4/pckcrl?ca=processor&encoding=der");
            break;
        default:
            cvma_errf(err, err_len, "PCK CRL: unknown CA type %d", (int)ca);
            return NULL;
        }
        break;
    case CVMA_PCS_ROOT_CA_CRL: {
        size_t bl = strlen(base), dl = strlen(CVMA_PCS_DEFAULT_BASE_URL);
        if (p->root_ca_crl_url != NULL) {
            return strdup(p->root_ca_crl_url);
        }
        while (bl > 0 && base[bl - 1] == '/') {
            bl--;
        }
        if (bl == dl && strncmp(base, CVMA_PCS_DEFAULT_BASE_URL, dl) == 0) {
            /* Intel PCS itself does not serve the Root CA CRL: its CRL distribution point
             * does. */
            return strdup(CVMA_PCS_ROOT_CA_CRL_DEFAULT_URL);
        }
        snprintf(path, sizeof path, "%s", CVMA_PCS_PCCS_ROOT_CA_CRL_PATH);
        break;
    }
    default:
        cvma_errf(err, err_len, "PCS: unknown item %d", (int)item);
        return NULL;
    }
    return cvma_collateral_join_url(base, path);
}

/* The cache key of url: "intel-pcs " and the URL (malloc'd), NULL when out of memory. */
static char *pcs_key(const char *url)
{
    size_t key_len = sizeof "intel-pcs " + strlen(url);
    char *key = malloc(key_len);
    if (key != NULL) {
        snprintf(key, key_len, "intel-pcs %s", url);
    }
    return key;
}

/* see collateral/pcs.h */
enum cvma_status cvma_pcs_evict(const struct cvma_pcs *p, enum cvma_pcs_item item,
                                const uint8_t *fmspc, enum cvma_pcs_ca ca)
{
    char err[128] = "", *url, *key;
    enum cvma_status st;

    if ((url = item_url(p, item, fmspc, ca, err, sizeof err)) == NULL) {
        return err[0] != '\0' ? CVMA_E_USAGE : CVMA_E_NOMEM;
    }
    if ((key = pcs_key(url)) == NULL) {
        free(url);
        return CVMA_E_NOMEM;
    }
    st = cvma_collateral_evict(p->cache, p->hooks, key);
    free(key);
    free(url);
    return st;
}

/* see collateral/pcs.h */
enum cvma_status cvma_pcs_fetch(const struct cvma_pcs *p, enum cvma_pcs_item item,
                                const uint8_t *fmspc, enum cvma_pcs_ca ca, cvma_pcs_check_fn check,
                                cvma_pcs_version_fn version, void *arg, struct cvma_pcs_answer *out,
                                struct cvma_verdict *v, char *err, size_t err_len)
{
    enum cvma_status st = CVMA_E_NOMEM;
    struct cvma_buf framed = {0};
    struct item_ctx ic = {item, fmspc, check, version, arg};
    char *url = NULL, *key = NULL;
    bool ok = false;

    memset(out, 0, sizeof *out);
    if (check == NULL) {
        cvma_errf(err, err_len, "%s: no check", cvma_pcs_item_name(item));
        return CVMA_E_USAGE;
    }
    err[0] = '\0';
    if ((url = item_url(p, item, fmspc, ca, err, err_len)) == NULL) {
        if (err[0] != '\0') {
            return CVMA_E_USAGE;
        }
        cvma_errf(err, err_len, "out of memory");
        return CVMA_E_NOMEM;
    }
    if ((key = pcs_key(url)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    {
        /* All four change over time: each is refreshed once older than the maximum age. */
        const struct cvma_collateral_net net = {p->offline, &p->http, p->cache,
                                                p->max_age, p->hooks, p->at};
        const struct cvma_collateral_item it = {
                .what = cvma_pcs_item_name(item),
                .url = url,
                .cache_key = key,
                .refreshable = true,
                .check = check_framed,
                .version = version != NULL ? version_framed : NULL,
                /* no grace for CRLs (docs/tdx.md) */
                .grace = (item == CVMA_PCS_TCB_INFO || item == CVMA_PCS_QE_IDENTITY) && p->grace > 0
                                 ? p->grace
                                 : 0,
                .download = download_framed,
                .size = body_size,
                .arg = &ic,
        };
        if ((st = cvma_collateral_get(&net, &it, &framed, v, err, err_len)) != CVMA_OK) {
            goto out;
        }
    }
    if ((st = cvma_pcs_answer_unframe(&framed, out, &ok)) == CVMA_OK && !ok) {
        cvma_errf(err, err_len, "%s %s: not a framed PCS answer", cvma_pcs_item_name(item), url);
        st = CVMA_UNDECIDED;
    }
out:
    cvma_buf_free(&framed);
    free(key);
    free(url);
    return st;
}
