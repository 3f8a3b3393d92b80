/* Collection as an attested-TLS evidence source: see collect/collect.h. */
#include <string.h>

#include "collect/collect.h"
#include "common/util.h"
#include "cvmattest/atls.h"

static enum cvma_status collect_evidence(void *ctx, const uint8_t report_data[64],
                                         const uint8_t *nonce, size_t nonce_len, uint8_t **out,
                                         size_t *out_len, char *err, size_t err_len)
{
    const struct cvma_collect_atls *ca = ctx;
    struct cvma_collect_opts o;
    struct cvma_collected c;
    char *text = NULL;
    enum cvma_status st;

    (void)nonce;
    (void)nonce_len;
    *out = NULL;
    *out_len = 0;
    memset(&o, 0, sizeof o);
    memset(&c, 0, sizeof c);
    o.tsm_root = ca->tsm_root;
    o.dev_root = ca->dev_root;
    memcpy(o.nonce, report_data, sizeof o.nonce);
    o.nonce_len = sizeof o.nonce;
    if ((st = cvma_collect(&o, &c, err, err_len)) != CVMA_OK) {
        goto out;
    }
    if ((st = cvma_collected_bundle_text(&c, NULL, &text)) != CVMA_OK) {
        cvma_errf(err, err_len, "collect: cannot make the bundle");
        goto out;
    }
    *out_len = strlen(text);
    *out = (uint8_t *)text;
out:
    cvma_collected_free(&c);
    return st;
}

void cvma_collect_atls_source(struct cvma_collect_atls *ca, struct cvma_atls_source *src)
{
    src->evidence = collect_evidence;
    src->ctx = ca;
}
