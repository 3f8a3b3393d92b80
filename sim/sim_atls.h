/*
 * The simulated TEE as an attested-TLS evidence source (cvmattest/atls.h): evidence with any
 * REPORT_DATA, re-signed on demand from a directory the simulator wrote with its keys kept
 * (`cvmattest sim snp|tdx --keep-keys --out DIR`): the report or quote of that run with
 * REPORT_DATA replaced and signed again by the run's VCEK/VLEK or attestation key, in a
 * bundle (docs/bundle.md) with the run's collateral.
 *
 * Several directories make a platform that moves: attestation i (from 0) is served from
 * dirs[min(i / switch_after, n_dirs - 1)] (switch_after 0: always dirs[0]), so a test can
 * migrate the simulated CVM to another chip between two attestations of one connection.
 *
 * This is TEST evidence, like everything the simulator makes.
 */
#ifndef CVMA_SIM_SIM_ATLS_H
#define CVMA_SIM_SIM_ATLS_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "cvmattest/atls.h"

#define CVMA_SIM_ATLS_MAX_DIRS 4

struct cvma_sim_atls {
    const char *dirs[CVMA_SIM_ATLS_MAX_DIRS]; /* borrowed */
    size_t n_dirs;
    unsigned switch_after;
    unsigned served; /* attestations served so far */
};

/* The source reading s (which must outlive it). */
void cvma_sim_atls_source(struct cvma_sim_atls *s, struct cvma_atls_source *src);

/*
 * Evidence from dir with REPORT_DATA report_data: a bundle, malloc'd into *out. CVMA_E_IO
 * when dir lacks the report or quote or its key (run the simulator with --keep-keys).
 */
CVMA_MUST_USE enum cvma_status cvma_sim_atls_evidence(const char *dir,
                                                      const uint8_t report_data[64], uint8_t **out,
                                                      size_t *out_len, char *err, size_t err_len);

#endif
