/*
 * Tests: fixed claims and results, every field filled with deterministic bytes, for the check
 * of the JSON text writers against the text the earlier jansson-built objects gave
 * (tests/unit/data/claims_text.golden).
 */
#ifndef CVMA_TESTS_TU_FIXTURES_H
#define CVMA_TESTS_TU_FIXTURES_H

#include <stdlib.h>
#include <string.h>

#include "common/verdict.h"
#include "result/result.h"
#include "snp/snp.h"
#include "snp/snp_claims.h"
#include "snp/snp_internal.h"
#include "tdx/tdx.h"
#include "tdx/tdx_claims.h"
#include "tdx/tdx_collateral.h"

static void fx_fill(void *p, size_t n, uint32_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
    }
}

static void fx_snp(struct cvma_snp_report *r, uint32_t version)
{
    fx_fill(r, sizeof *r, 7 + version);
    r->version = version;
    r->product = CVMA_SNP_PRODUCT_GENOA;
    r->trailing_len = 0;
}

static void fx_tdx(struct cvma_tdx_quote *q, struct cvma_pck_ext *pck)
{
    fx_fill(q, sizeof *q, 11);
    q->version = 5;
    q->body_type = 3;
    q->body.is_v15 = true;
    memset(&q->qe_auth_data, 0, sizeof q->qe_auth_data);
    memset(&q->pck_chain_pem, 0, sizeof q->pck_chain_pem);
    fx_fill(pck, sizeof *pck, 13);
    pck->sgx_type = 1;
    pck->has_platform_instance_id = true;
    pck->has_configuration = true;
    pck->dynamic_platform = 1;
    pck->cached_keys = 0;
    pck->smt_enabled = -1;
}

/* A result of each kind with reasons, claims and a bound platform; tdx: its TCB statuses. */
static void fx_result(struct cvma_result *res, bool tdx)
{
    cvma_result_init(res, tdx ? "tdx" : "sev-snp", 1790000000);
    snprintf(res->trust_anchor, sizeof res->trust_anchor, "%s",
             tdx ? "intel-sgx-root" : "amd-ark-genoa");
    cvma_reject(&res->verdict, CVMA_R_CRL_NOT_CHECKED, "(replaced below)");
    /* Written past cvma_reject, which escapes control bytes where a detail is made: the
     * writers' own JSON escaping is what this checks. */
    snprintf(res->verdict.reasons[0].detail, sizeof res->verdict.reasons[0].detail, "%s",
             "no CRL \"quoted\"\ttab\\ and \x01 control");
    cvma_reject(&res->verdict, CVMA_R_POLICY_MEASUREMENT, "measurement 0a0b is not allowed");
    if (tdx) {
        struct cvma_tdx_quote *q = calloc(1, sizeof *q);
        struct cvma_pck_ext pck;
        struct cvma_tdx_tcb_result t;
        memset(&t, 0, sizeof t);
        fx_tdx(q, &pck);
        snprintf(t.status, sizeof t.status, "UpToDate");
        snprintf(t.platform_status, sizeof t.platform_status, "SWHardeningNeeded");
        snprintf(t.qe_status, sizeof t.qe_status, "UpToDate");
        snprintf(t.tcb_date, sizeof t.tcb_date, "2025-05-14T00:00:00Z");
        t.level_found = true;
        t.advisory_ids.ids = calloc(2, sizeof(char *));
        t.advisory_ids.ids[0] = strdup("INTEL-SA-00837");
        t.advisory_ids.ids[1] = strdup("INTEL-SA-01036");
        t.advisory_ids.n = 2;
        if (!cvma_tdx_claims_set(res, q, &pck, &t, 17))
            abort();
        free(q);
        res->platform.vendor = CVMA_PLATFORM_INTEL;
        res->platform.id_type = CVMA_PLATFORM_PPID;
        res->platform.id_len = 16;
    } else {
        struct cvma_snp_report *r = calloc(1, sizeof *r);
        fx_snp(r, 5);
        if (!cvma_snp_claims_set(res, r, CVMA_SNP_PRODUCT_GENOA, "acme-csp", "Genoa"))
            abort();
        free(r);
        res->platform.vendor = CVMA_PLATFORM_AMD;
        res->platform.id_type = CVMA_PLATFORM_CHIP_ID;
        res->platform.id_len = 64;
    }
    res->platform.present = true;
    res->platform.has_id = true;
    fx_fill(res->platform.id, res->platform.id_len, 17);
    res->platform.bound = true;
    snprintf(res->platform.provider, sizeof res->platform.provider, "acme");
    res->platform.n_labels = 2;
    snprintf(res->platform.labels[0].key, sizeof res->platform.labels[0].key, "region");
    snprintf(res->platform.labels[0].value, sizeof res->platform.labels[0].value, "eu-west");
    snprintf(res->platform.labels[1].key, sizeof res->platform.labels[1].key, "zone");
    snprintf(res->platform.labels[1].value, sizeof res->platform.labels[1].value, "b");
    cvma_result_finish(res);
}

#endif
