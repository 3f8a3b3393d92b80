/* cvmattest verify FILE [options] [--json] */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmds.h"
#include "common/timeutil.h"
#include "crypto/chain_cache.h"
#include "opts.h"
#include "output.h"
#include "snp/snp_internal.h"
#include "tdx/tdx_internal.h"

#define MAX_EVIDENCE (1u << 20)

int cvma_run_verify(const struct cvma_cli_verify *cv, const uint8_t *p, size_t len,
                    struct cvma_result *res)
{
    enum cvma_tee_kind tee = cv->tee != CVMA_TEE_AUTO ? cv->tee : cvma_detect_tee(p, len);
    switch (tee) {
    case CVMA_TEE_SNP:
        cvma_result_init(res, "sev-snp", cv->vo.at);
        cvma_snp_verify(p, len, &cv->vo, NULL, res);
        break;
    case CVMA_TEE_TDX:
        cvma_result_init(res, "tdx", cv->vo.at);
        cvma_tdx_verify(p, len, &cv->vo, NULL, res);
        break;
    case CVMA_TEE_TPM:
        fprintf(stderr, "cvmattest verify: TPM evidence is recognised but its verification is "
                        "not built yet\n");
        return 2;
    case CVMA_TEE_AUTO:
        cvma_result_init(res, "unknown", cv->vo.at);
        res->verdict.checks_required = CVMA_CHECK_PARSE;
        cvma_reject(&res->verdict, CVMA_R_PARSE_UNKNOWN_FORMAT,
                    "%zu bytes that are neither an SEV-SNP report, a TDX quote nor a TPM quote "
                    "(use --tee to say which)",
                    len);
        break;
    }
    cvma_result_finish(res);
    return -1;
}

int cvma_cmd_verify(int argc, char **argv)
{
    struct cvma_cli_verify cv;
    struct cvma_buf ev = {0};
    struct cvma_result res;
    int rc = cvma_cli_verify_parse(argc, argv, false, &cv);
    if (rc != 0) {
        cvma_cli_verify_cleanup(&cv);
        return rc;
    }
    if (cvma_file_read(cv.file, MAX_EVIDENCE, &ev) != CVMA_OK) {
        fprintf(stderr, "cvmattest verify: cannot read '%s' (missing, unreadable or over 1 MiB)\n",
                cv.file);
        cvma_cli_verify_cleanup(&cv);
        return 2;
    }
    rc = cvma_run_verify(&cv, ev.p, ev.len, &res);
    if (rc < 0) {
        cvma_print_result(&res, cv.json, stdout);
        rc = cvma_result_exit_code(&res);
        cvma_result_cleanup(&res);
    }
    cvma_buf_free(&ev);
    cvma_cli_verify_cleanup(&cv);
    return rc;
}
