/*
 * Counters of the collateral path and the seam through which the verifier reaches it
 * (struct cvma_collateral_hooks). The verifier owns one struct cvma_collateral_stats and
 * reports it through cvma_verifier_counters (cvmattest/cvmattest.h); every counter is a
 * relaxed atomic, so counting costs one uncontended add on the path that fetches.
 */
#ifndef CVMA_COLLATERAL_STATS_H
#define CVMA_COLLATERAL_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cvmattest/cvmattest.h"

/* Where a fetch went: the vendor service, or "crl" for any certificate revocation list. */
enum cvma_fetch_source {
    CVMA_FETCH_KDS = 0, /* AMD KDS (VCEK, VLEK, certificate chains) */
    CVMA_FETCH_PCS,     /* Intel PCS or a PCCS (TCB Info, QE Identity) */
    CVMA_FETCH_CRL,     /* a CRL, from either vendor */
    CVMA_FETCH_OTHER,
    CVMA_FETCH_N_SOURCES
};

/* HTTP statuses 100..599 are counted as such; 0 stands for "no HTTP answer" (connection
 * refused, time-out, TLS error). */
#define CVMA_FETCH_STATUS_SLOTS 600

struct cvma_collateral_stats {
    atomic_uint_least64_t cache_hits;    /* a cached entry was the answer */
    atomic_uint_least64_t cache_misses;  /* no usable entry (absent, expired, damaged, or older
                                          * than the maximum age): fetched or undecided */
    atomic_uint_least64_t shared_hits;   /* the state store's collateral cache answered */
    atomic_uint_least64_t shared_misses; /* asked, and it could not */
    atomic_uint_least64_t fetches[CVMA_FETCH_N_SOURCES][CVMA_FETCH_STATUS_SLOTS];
    /* downloads not made because the verifier's download budget was spent (fetch.h) */
    atomic_uint_least64_t budget_refusals[CVMA_FETCH_N_SOURCES];
};

struct cvma_dircache;
struct cvma_fetch_flights;

/* What the verifier lends the collateral path (borrowed; NULL or a NULL field: none). */
struct cvma_collateral_hooks {
    struct cvma_collateral_stats *stats;
    const struct cvma_state_store *store; /* the fleet's shared collateral cache */
    struct cvma_dircache *dir_cache;      /* the --collateral DIR files decoded once
                                           * (collateral/dircache.h); NULL: read every time */
    struct cvma_fetch_flights *flights;   /* the downloads in progress, so that threads missing
                                           * the same item at once fetch it once
                                           * (collateral/fetch.h); NULL: each its own */
};

/* "kds", "pcs", "crl", "other". */
const char *cvma_fetch_source_name(enum cvma_fetch_source s);

/* Counting, safe from any thread; h or its stats may be NULL (nothing counted). */
void cvma_stats_cache(const struct cvma_collateral_hooks *h, bool hit);
void cvma_stats_shared(const struct cvma_collateral_hooks *h, bool hit);
void cvma_stats_fetch(const struct cvma_collateral_hooks *h, enum cvma_fetch_source s,
                      long http_status);
void cvma_stats_budget_refused(const struct cvma_collateral_hooks *h, enum cvma_fetch_source s);

#endif
