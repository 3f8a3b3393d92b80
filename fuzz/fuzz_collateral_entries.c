/*
 * libFuzzer target: the collateral entries read back from storage others can write — a cache
 * entry file (cvma_cache_entry_parse), a PCS answer as cached (cvma_pcs_answer_unframe) and a
 * value of the fleet's shared store (--redis), through cvma_collateral_get with a store that
 * answers the input. Each is held against the layout read here with plain offsets:
 *  - a cache entry parses exactly when its magic is CVMACE02 (32 header bytes under the
 *    digest) or CVMACE01 (24), the body length in the header is the rest after the digest,
 *    at most CVMA_CACHE_MAX_BODY, and the times fit an int64_t; the fields are those bytes;
 *  - a PCS answer unframes exactly when its lengths add up, and then frames back to the same
 *    bytes; a refusal leaves the answer empty;
 *  - a shared value is used only when it is 16 header bytes and a body the item's check
 *    accepts, fetched no later than now and not expired; the bytes returned are that body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collateral/cache.h"
#include "collateral/fetch.h"
#include "collateral/pcs.h"
#include "collateral/stats.h"
#include "common/verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void check_cache_entry(const uint8_t *data, size_t size)
{
    struct cvma_cache_entry e;
    bool ok = cvma_cache_entry_parse(data, size, &e);
    bool v2 = size >= 8 && memcmp(data, "CVMACE02", 8) == 0;
    bool v1 = size >= 8 && memcmp(data, "CVMACE01", 8) == 0;
    size_t signed_len = v2 ? 32 : 24;
    bool want = (v1 || v2) && size >= signed_len + 32;
    uint64_t expires = 0, fetched = 0, blen = 0;
    if (want) {
        expires = be64(data + 8);
        fetched = v2 ? be64(data + 16) : 0;
        blen = be64(data + signed_len - 8);
        want = blen == size - signed_len - 32 && blen <= CVMA_CACHE_MAX_BODY &&
               expires <= INT64_MAX && fetched <= INT64_MAX;
    }
    if (ok != want) {
        abort();
    }
    if (ok && (e.signed_len != signed_len || e.digest != data + signed_len ||
               e.body != data + signed_len + 32 || e.body_len != blen ||
               e.expires_at != (int64_t)expires || e.fetched_at != (int64_t)fetched)) {
        abort();
    }
}

static void check_pcs_answer(const uint8_t *data, size_t size)
{
    struct cvma_buf in = {malloc(size > 0 ? size : 1), size}, again = {0};
    struct cvma_pcs_answer a;
    bool ok = false;
    if (in.p == NULL) {
        return;
    }
    if (size > 0) {
        memcpy(in.p, data, size);
    }
    enum cvma_status st = cvma_pcs_answer_unframe(&in, &a, &ok);
    cvma_buf_free(&in);
    if (st != CVMA_OK) {
        return; /* out of memory */
    }
    if (!ok) {
        if (a.body.p != NULL || a.body.len != 0 || a.issuer_chain.p != NULL ||
            a.issuer_chain.len != 0) {
            abort();
        }
        return;
    }
    if (!cvma_pcs_answer_frame(&a, &again)) {
        cvma_pcs_answer_cleanup(&a);
        return;
    }
    if (again.len != size || memcmp(again.p, data, size) != 0) {
        abort();
    }
    cvma_buf_free(&again);
    cvma_pcs_answer_cleanup(&a);
}

struct store_input {
    const uint8_t *p;
    size_t len;
};

static enum cvma_store_answer store_get(void *arg, const char *key, uint8_t **p, size_t *len)
{
    const struct store_input *in = arg;
    (void)key;
    if ((*p = malloc(in->len > 0 ? in->len : 1)) == NULL) {
        return CVMA_STORE_UNAVAILABLE;
    }
    if (in->len > 0) {
        memcpy(*p, in->p, in->len);
    }
    *len = in->len;
    return CVMA_STORE_OK;
}

static void store_put(void *arg, const char *key, const uint8_t *p, size_t len, int64_t ttl)
{
    (void)arg;
    (void)key;
    (void)p;
    (void)len;
    (void)ttl;
}

/* The item's form: a body whose first byte is not 'X' (so that the check refuses some). */
static bool check_item(const struct cvma_buf *b, int64_t now, int64_t *expires_at, char *why,
                       size_t why_len, void *arg)
{
    (void)now;
    (void)expires_at;
    (void)arg;
    if (b->len > 0 && b->p[0] != 'X') {
        return true;
    }
    if (why_len > 0) {
        why[0] = '\0';
    }
    return false;
}

static void check_shared_value(const uint8_t *data, size_t size)
{
    struct store_input in = {data, size};
    struct cvma_state_store store = {
            .arg = &in, .collateral_get = store_get, .collateral_put = store_put};
    struct cvma_collateral_hooks hooks = {.store = &store};
    struct cvma_collateral_net net = {.offline = true, .hooks = &hooks};
    const struct cvma_collateral_item item = {.what = "fuzz item",
                                              .url = "http://127.0.0.1:9/item",
                                              .cache_key = "fuzz item",
                                              .check = check_item};
    struct cvma_buf out = {0};
    struct cvma_verdict v;
    char err[256];
    int64_t before = (int64_t)time(NULL);

    cvma_verdict_init(&v);
    enum cvma_status st = cvma_collateral_get(&net, &item, &out, &v, err, sizeof err);
    int64_t after = (int64_t)time(NULL);
    if (st == CVMA_OK) {
        int64_t fetched = size >= 16 ? (int64_t)be64(data) : 0;
        int64_t expires = size >= 16 ? (int64_t)be64(data + 8) : 0;
        if (size <= 16 || size - 16 > CVMA_CACHE_MAX_BODY || data[16] == 'X' || fetched > after ||
            (expires != 0 && expires <= before) || out.len != size - 16 ||
            memcmp(out.p, data + 16, out.len) != 0) {
            abort();
        }
    } else if (st != CVMA_UNDECIDED && st != CVMA_E_NOMEM) {
        abort();
    }
    cvma_buf_free(&out);
    cvma_verdict_cleanup(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_cache_entry(data, size);
    check_pcs_answer(data, size);
    check_shared_value(data, size);
    return 0;
}
