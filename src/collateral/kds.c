#include "collateral/kds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hex.h"

void cvma_kds_init(struct cvma_kds *k)
{
    memset(k, 0, sizeof *k);
    k->base_url = CVMA_KDS_DEFAULT_BASE_URL;
    cvma_http_opts_init(&k->http);
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_vcek_path(const char *product, const uint8_t *hwid, size_t hwid_len,
                                    const struct cvma_kds_spl *spl, char *out, size_t n)
{
    char hex[2 * 64 + 1];
    int w;

    if (out == NULL || n == 0) {
        return CVMA_E_USAGE;
    }
    out[0] = '\0';
    if (product == NULL || hwid == NULL || spl == NULL || hwid_len == 0 || hwid_len > 64) {
        return CVMA_E_USAGE;
    }
    cvma_hex_encode(hwid, hwid_len, hex, sizeof hex);
    if (spl->has_fmc) {
        /* FMC_SPL comes first, as KDS documents the query. */
        w = snprintf(out, n, "/vcek/v1/%s/%s?fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     product, hex, (unsigned)spl->fmc, (unsigned)spl->bootloader,
                     (unsigned)spl->tee, (unsigned)spl->snp, (unsigned)spl->microcode);
    } else {
        w = snprintf(out, n, "/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", product,
                     hex, (unsigned)spl->bootloader, (unsigned)spl->tee, (unsigned)spl->snp,
                     (unsigned)spl->microcode);
    }
    if (w < 0 || (size_t)w >= n) {
        out[0] = '\0';
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_product_path(const char *product, bool vlek, const char *file, char *out,
                                       size_t n)
{
    int w;

    if (out == NULL || n == 0) {
        return CVMA_E_USAGE;
    }
    out[0] = '\0';
    if (product == NULL || file == NULL) {
        return CVMA_E_USAGE;
    }
    w = snprintf(out, n, "/%s/v1/%s/%s", vlek ? "vlek" : "vcek", product, file);
    if (w < 0 || (size_t)w >= n) {
        out[0] = '\0';
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_url(const struct cvma_kds *k, const char *path, char *out, size_t n)
{
    const char *base = k->base_url != NULL ? k->base_url : CVMA_KDS_DEFAULT_BASE_URL;
    size_t bl = strlen(base);
    int w;

    if (out == NULL || n == 0) {
        return CVMA_E_USAGE;
    }
    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    w = snprintf(out, n, "%.*s%s", (int)bl, base, path);
    if (w < 0 || (size_t)w >= n) {
        out[0] = '\0';
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_fetch(const struct cvma_kds *k, const char *what, const char *path,
                                bool refreshable, cvma_collateral_check_fn check, void *arg,
                                struct cvma_buf *out, struct cvma_verdict *v, char *err,
                                size_t err_len)
{
    return cvma_kds_fetch_ex(k, what, path, refreshable, false, check, NULL, NULL, arg, out, v, err,
                             err_len);
}

/* The cache key of {base URL}{path}: "amd-kds " and the URL (malloc'd), NULL when out of
 * memory. */
static char *kds_key(const struct cvma_kds *k, const char *path, char **url_out)
{
    const char *base = k->base_url != NULL ? k->base_url : CVMA_KDS_DEFAULT_BASE_URL;
    char *url = cvma_collateral_join_url(base, path), *key = NULL;
    size_t key_len;

    if (url != NULL && (key = malloc(key_len = sizeof "amd-kds " + strlen(url))) != NULL) {
        snprintf(key, key_len, "amd-kds %s", url);
    }
    if (url_out != NULL && key != NULL) {
        *url_out = url;
    } else {
        free(url);
    }
    return key;
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_evict(const struct cvma_kds *k, const char *path)
{
    char *key;
    enum cvma_status st;

    if ((key = kds_key(k, path, NULL)) == NULL) {
        return CVMA_E_NOMEM;
    }
    st = cvma_collateral_evict(k->cache, k->hooks, key);
    free(key);
    return st;
}

/* see collateral/kds.h */
bool cvma_kds_cached_expired(const struct cvma_kds *k, const char *path, int64_t *expired_at,
                             struct cvma_buf *body_out)
{
    struct cvma_buf body = {0};
    struct cvma_cache_meta meta;
    enum cvma_cache_state state = CVMA_CACHE_MISS;
    char *key;
    bool expired = false;

    *expired_at = 0;
    if (k->cache == NULL || (key = kds_key(k, path, NULL)) == NULL) {
        return false;
    }
    if (cvma_cache_lookup_ex(k->cache, key, (int64_t)time(NULL), &body, &state, &meta) == CVMA_OK &&
        state == CVMA_CACHE_EXPIRED) {
        expired = true;
        *expired_at = meta.expires_at;
        /* The body as of just before its expiry: the same entry, read and digest-checked as a
         * hit is. */
        if (body_out != NULL && (cvma_cache_lookup_ex(k->cache, key, meta.expires_at - 1, body_out,
                                                      &state, NULL) != CVMA_OK ||
                                 state != CVMA_CACHE_HIT)) {
            cvma_buf_free(body_out);
            expired = false;
        }
    }
    cvma_buf_free(&body);
    free(key);
    return expired;
}

/* see collateral/kds.h */
enum cvma_status cvma_kds_fetch_ex(const struct cvma_kds *k, const char *what, const char *path,
                                   bool refreshable, bool budgeted, cvma_collateral_check_fn check,
                                   cvma_collateral_check_fn admit,
                                   cvma_collateral_version_fn version, void *arg,
                                   struct cvma_buf *out, struct cvma_verdict *v, char *err,
                                   size_t err_len)
{
    char *url = NULL, *key;
    enum cvma_status st = CVMA_E_NOMEM;

    out->p = NULL;
    out->len = 0;
    if ((key = kds_key(k, path, &url)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        goto out;
    }
    {
        const struct cvma_collateral_net net = {k->offline, &k->http, k->cache,
                                                k->max_age, k->hooks, k->at};
        const struct cvma_collateral_item item = {
                .what = what,
                .url = url,
                .cache_key = key,
                .refreshable = refreshable,
                .budgeted = budgeted,
                .check = check,
                .admit = admit,
                .version = version,
                .arg = arg,
        };
        st = cvma_collateral_get(&net, &item, out, v, err, err_len);
    }
out:
    free(key);
    free(url);
    return st;
}
