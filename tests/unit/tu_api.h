/*
 * Tests: the public API (include/cvmattest/cvmattest.h) set up as most tests use it: an offline
 * verifier trusting one root file, and one verification of an evidence file.
 */
#ifndef CVMA_TESTS_TU_API_H
#define CVMA_TESTS_TU_API_H

#include "cvmattest/cvmattest.h"
#include "testutil.h"

/* An offline verifier trusting the root file, reading collateral from dir and caching in cache
 * (either NULL: none), no_cache as the option. */
static inline struct cvma_verifier *tu_verifier(const char *root, const char *dir,
                                                const char *cache, bool no_cache)
{
    struct cvma_verifier_config cfg;
    struct cvma_verifier *v = NULL;
    const char *roots[] = {root};
    char err[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.trust_root_files = roots;
    cfg.n_trust_root_files = 1;
    cfg.collateral_dir = dir;
    cfg.cache_dir = cache;
    cfg.offline = true;
    cfg.no_cache = no_cache;
    if (cvma_verifier_new(&cfg, &v, err, sizeof err) != CVMA_OK) {
        fail_msg("cvma_verifier_new: %s", err);
    }
    return v;
}

/* The result of verifying ev with an empty request. */
static inline struct cvma_result *tu_verify_ev(struct cvma_verifier *v,
                                               const struct cvma_evidence *ev)
{
    struct cvma_result *res = NULL;
    struct cvma_request req;
    char err[256];
    memset(&req, 0, sizeof req);
    if (cvma_verify(v, ev, &req, &res, err, sizeof err) != CVMA_OK) {
        fail_msg("cvma_verify: %s", err);
    }
    return res;
}

/* The result of verifying the evidence file path (any input form) with an empty request. */
static inline struct cvma_result *tu_verify_path(struct cvma_verifier *v, const char *path)
{
    struct cvma_evidence *ev = NULL;
    char err[256];
    if (cvma_evidence_from_file(path, CVMA_INFORM_AUTO, &ev, err, sizeof err) != CVMA_OK) {
        fail_msg("evidence %s: %s", path, err);
    }
    struct cvma_result *res = tu_verify_ev(v, ev);
    cvma_evidence_free(ev);
    return res;
}

#endif
