/* cvmattest show FILE [--json]: parse evidence and print every field. Nothing is verified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "cmds.h"
#include "crypto/crypto.h"
#include "opts.h"
#include "output.h"
#include "snp/snp_internal.h"
#include "tdx/tdx.h"

#define MAX_EVIDENCE (1u << 20)

/*
 * TDX: the quote, then the PCK leaf (first certificate of the quote's PEM chain) and its SGX
 * extension. Returns the exit code: 0 when everything parsed, 1 when the quote or the PCK
 * leaf is malformed (the reasons go to stderr), 2 when out of memory.
 */
static int show_tdx(const struct cvma_buf *ev, bool allow_trailing, bool json,
                    struct cvma_verdict *v)
{
    struct cvma_tdx_parse_opts po = {.allow_trailing_data = allow_trailing};
    struct cvma_tdx_quote *q = calloc(1, sizeof *q);
    STACK_OF(X509) *chain = NULL;
    struct cvma_pck_ext pck;
    bool have_pck = false;
    json_t *o = NULL;
    int rc = 1;

    if (q == NULL) {
        return 2;
    }
    enum cvma_status st = cvma_tdx_quote_parse(ev->p, ev->len, &po, q, v);
    if (st == CVMA_E_NOMEM) {
        rc = 2;
        goto out;
    }
    if (st != CVMA_OK) {
        goto out;
    }
    chain = cvma_x509_load_pem_stack(q->pck_chain_pem.p, q->pck_chain_pem.len);
    if (chain == NULL) {
        cvma_reject(v, CVMA_R_CERT_PARSE,
                    "tdx quote: the PCK chain (%zu bytes) holds no PEM certificate",
                    q->pck_chain_pem.len);
    } else if (cvma_pck_ext_parse(sk_X509_value(chain, 0), &pck, v) == CVMA_OK) {
        have_pck = true;
    }
    if ((o = cvma_tdx_quote_json(q, have_pck ? &pck : NULL)) == NULL) {
        rc = 2;
        goto out;
    }
    if (json) {
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        printf("Intel TDX quote v%u (parsed, NOT verified)\n", (unsigned)q->version);
        cvma_print_fields(o, 2, stdout);
    }
    rc = cvma_verdict_has_error(v) ? 1 : 0;
out:
    json_decref(o);
    sk_X509_pop_free(chain, X509_free);
    cvma_tdx_quote_cleanup(q);
    free(q);
    return rc;
}

int cvma_cmd_show(int argc, char **argv)
{
    const char *file = NULL;
    bool json = false, allow_trailing = false;
    enum cvma_tee_kind tee = CVMA_TEE_AUTO;
    struct cvma_buf ev = {0};
    struct cvma_verdict v;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--allow-trailing-data") == 0) {
            allow_trailing = true;
        } else if (strcmp(argv[i], "--tee") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "snp") == 0) {
                tee = CVMA_TEE_SNP;
            } else if (strcmp(argv[i], "tdx") == 0) {
                tee = CVMA_TEE_TDX;
            } else {
                fprintf(stderr, "cvmattest show: --tee %s is not supported yet\n", argv[i]);
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "cvmattest show: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, "cvmattest show: one file only\n");
            return 2;
        }
    }
    if (file == NULL) {
        fprintf(stderr, "usage: cvmattest show FILE [--json] [--tee snp|tdx] "
                        "[--allow-trailing-data]\n");
        return 2;
    }
    if (cvma_file_read(file, MAX_EVIDENCE, &ev) != CVMA_OK) {
        fprintf(stderr, "cvmattest show: cannot read '%s'\n", file);
        return 2;
    }
    if (tee == CVMA_TEE_AUTO) {
        tee = cvma_detect_tee(ev.p, ev.len);
    }
    cvma_verdict_init(&v);
    if (tee == CVMA_TEE_SNP) {
        struct cvma_parse_opts po = {.allow_trailing_data = allow_trailing};
        struct cvma_snp_report *rep = malloc(sizeof *rep);
        if (rep == NULL) {
            rc = 2;
        } else if (cvma_snp_report_parse(ev.p, ev.len, &po, rep, &v) == CVMA_OK) {
            json_t *o = cvma_snp_report_json(rep, rep->product);
            if (json) {
                json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                fputc('\n', stdout);
            } else {
                printf("AMD SEV-SNP attestation report (parsed, NOT verified)\n");
                cvma_print_fields(o, 2, stdout);
            }
            json_decref(o);
            rc = 0;
        }
        free(rep);
    } else if (tee == CVMA_TEE_TDX) {
        rc = show_tdx(&ev, allow_trailing, json, &v);
    } else if (tee == CVMA_TEE_AUTO) {
        cvma_reject(&v, CVMA_R_PARSE_UNKNOWN_FORMAT, "%zu bytes of no known evidence format",
                    ev.len);
    } else {
        fprintf(stderr, "cvmattest show: this evidence kind is recognised but not parsed yet\n");
        rc = 2;
    }
    for (size_t i = 0; i < v.n_reasons; i++) {
        fprintf(stderr, "%s %s: %s\n", cvma_severity_name(v.reasons[i].severity),
                cvma_reason_name(v.reasons[i].code), v.reasons[i].detail);
    }
    cvma_verdict_cleanup(&v);
    cvma_buf_free(&ev);
    return rc;
}
