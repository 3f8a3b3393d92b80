/* Counters of the collateral path (see collateral/stats.h). */
#include "collateral/stats.h"

#include <stddef.h>

const char *cvma_fetch_source_name(enum cvma_fetch_source s)
{
    switch (s) {
    case CVMA_FETCH_KDS:
        return "kds";
    case CVMA_FETCH_PCS:
        return "pcs";
    case CVMA_FETCH_CRL:
        return "crl";
    case CVMA_FETCH_OTHER:
    case CVMA_FETCH_N_SOURCES:
        break;
    }
    return "other";
}

void cvma_stats_cache(const struct cvma_collateral_hooks *h, bool hit)
{
    if (h != NULL && h->stats != NULL) {
        atomic_fetch_add_explicit(hit ? &h->stats->cache_hits : &h->stats->cache_misses, 1,
                                  memory_order_relaxed);
    }
}

void cvma_stats_shared(const struct cvma_collateral_hooks *h, bool hit)
{
    if (h != NULL && h->stats != NULL) {
        atomic_fetch_add_explicit(hit ? &h->stats->shared_hits : &h->stats->shared_misses, 1,
                                  memory_order_relaxed);
    }
}

void cvma_stats_fetch(const struct cvma_collateral_hooks *h, enum cvma_fetch_source s,
                      long http_status)
{
    if (h == NULL || h->stats == NULL) {
        return;
    }
    if ((unsigned)s >= CVMA_FETCH_N_SOURCES) {
        s = CVMA_FETCH_OTHER;
    }
    if (http_status < 100 || http_status >= CVMA_FETCH_STATUS_SLOTS) {
        http_status = 0;
    }
    atomic_fetch_add_explicit(&h->stats->fetches[s][http_status], 1, memory_order_relaxed);
}

void cvma_stats_budget_refused(const struct cvma_collateral_hooks *h, enum cvma_fetch_source s)
{
    if (h == NULL || h->stats == NULL) {
        return;
    }
    if ((unsigned)s >= CVMA_FETCH_N_SOURCES) {
        s = CVMA_FETCH_OTHER;
    }
    atomic_fetch_add_explicit(&h->stats->budget_refusals[s], 1, memory_order_relaxed);
}
