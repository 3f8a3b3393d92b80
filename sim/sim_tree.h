/*
 * Simulated guest interfaces (docs/collect.md): from the files a simulated TEE wrote into
 * out_dir (sim_snp.h, sim_tdx.h), trees laid out like configfs-tsm and /dev that
 * `cvmattest collect --tsm-root DIR --dev-root DIR` reads:
 *   tsm tree: report/.template/{provider, generation, privlevel_floor, inblob, outblob,
 *             auxblob (SEV-SNP: the certificate table), SEV-SNP: service_provider,
 *             service_guid, service_manifest_version, manifestblob (when given)} — copied into each
 * new entry by collect, standing in for the kernel creating the attributes; dev tree (SEV-SNP
 * only): sev-guest (an empty regular file: the stand-in marker), sev-guest.ext-report (the
 * SNP_GET_EXT_REPORT response: MSG_REPORT_RSP with the report at 0x20), sev-guest.certs (the
 * certificate table). The evidence is precomputed: its REPORT_DATA is whatever the simulator was
 * given
 * (--report-data), so a test picks the nonce first.
 */
#ifndef CVMA_SIM_SIM_TREE_H
#define CVMA_SIM_SIM_TREE_H

#include <stdbool.h>

#include "common/util.h"

/* kind "sev-snp" or "tdx"; tsm_tree and dev_tree may be NULL; svsm_floor > 0 writes that
 * privlevel_floor (a guest under an SVSM). SEV-SNP trees also have the SVSM service
 * attributes (service_provider, service_guid, service_manifest_version); manifest (a file,
 * may be NULL) becomes manifestblob: the report must then have been made with REPORT_DATA =
 * SHA-512(nonce || manifest) and VMPL 0, as the SVSM makes it. */
CVMA_MUST_USE enum cvma_status cvma_sim_tree_write(const char *kind, const char *out_dir,
                                                   const char *tsm_tree, const char *dev_tree,
                                                   unsigned svsm_floor, const char *manifest,
                                                   char *err, size_t err_len);

#endif
