/*
 * cvmattest verify FILE [options] [--json]
 *
 * The options become a verifier configuration and a request (opts.c); the library does the
 * rest (cvma_verify: verify, bind, appraise, previous result, status). Here: print the
 * result and, with --sign-result, write it as a signed EAR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cmds.h"
#include "opts.h"
#include "output.h"

#define MAX_SMALL (1u << 20)

/* --sign-result KEY --result-out TOKEN: the result as a signed EAR. */
static int sign_result(const struct cvma_verifier *v, const struct cvma_result *res,
                       const char *result_out)
{
    char *token = NULL;
    int rc = 2;
    if (cvma_result_sign(v, res, &token) != CVMA_OK) {
        cvma_cli_err("cvmattest verify: signing the result failed\n");
        return 2;
    }
    size_t n = strlen(token);
    char *line = malloc(n + 1);
    if (line != NULL) {
        memcpy(line, token, n);
        line[n] = '\n';
        if (cvma_file_write_atomic(result_out, (const uint8_t *)line, n + 1) != CVMA_OK) {
            /* A failure after the rename (the directory's fsync) leaves the token in place:
             * removed, so that exit 2 means no token, as for every other failure here (an
             * earlier token was removed before verifying). */
            (void)unlink(result_out);
            cvma_cli_err("cvmattest verify: cannot write --result-out '%s'\n", result_out);
        } else {
            rc = -1;
        }
        free(line);
    }
    free(token);
    return rc;
}

int cvma_cmd_verify(int argc, char **argv)
{
    struct cvma_cli_verify cv;
    struct cvma_verifier *v = NULL;
    struct cvma_evidence *ev = NULL;
    struct cvma_result *res = NULL;
    struct cvma_buf prev = {0};
    char err[512];

    int rc = cvma_cli_verify_parse(argc, argv, false, &cv);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    /* Everything that can be checked before verifying is: options, policy, keys, the
     * evidence, the previous result, --result-out (an earlier token is removed here). None of
     * them may fail after a verdict is printed; only signing and writing the token can, and
     * then there is no token and the exit code is 2. */
    if ((rc = cvma_cli_verifier_new(&cv, "verify", &v)) != 0 ||
        (rc = cvma_cli_evidence(&cv, "verify", &ev)) != 0) {
        goto out;
    }
    if (cv.previous != NULL) {
        if (cvma_file_read(cv.previous, MAX_SMALL, &prev) != CVMA_OK) {
            rc = cvma_cli_read_error("verify", "--previous", cv.previous, MAX_SMALL, errno);
            goto out;
        }
        cv.req.previous_result = (const char *)prev.p;
        cv.req.previous_result_len = prev.len;
    }
    enum cvma_status st = cvma_verify(v, ev, &cv.req, &res, err, sizeof err);
    if (st != CVMA_OK) {
        cvma_cli_err("cvmattest verify: %s\n", st == CVMA_E_NOMEM ? "out of memory" : err);
        rc = 2;
        goto out;
    }
    if (!cvma_print_result(res, cv.json, stdout)) {
        rc = 2; /* no verdict printed: not one to exit by */
        goto out;
    }
    rc = cvma_result_exit_code(res);
    if (cv.result_out != NULL) {
        int src = sign_result(v, res, cv.result_out);
        if (src >= 0) {
            rc = src;
        }
    }
out:
    cvma_result_free(res);
    cvma_buf_free(&prev);
    cvma_evidence_free(ev);
    cvma_verifier_free(v);
    return rc;
}
