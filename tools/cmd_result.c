/* cvmattest result check TOKEN --pub PUB [--json]: verify a signed result and print it. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmds.h"
#include "crypto/jws.h"
#include "output.h"
#include "result/ear.h"

#define MAX_SMALL (1u << 20)

int cvma_cmd_result(int argc, char **argv)
{
    const char *token_path = NULL, *pub_path = NULL;
    struct cvma_buf tb = {0}, pb = {0};
    EVP_PKEY *pub = NULL;
    json_t *claims = NULL;
    char err[256] = "";
    int rc = 2;

    if (argc < 2 || strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "usage: cvmattest result check TOKEN --pub PUB\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--pub") == 0 && i + 1 < argc) {
            pub_path = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "cvmattest result check: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (token_path == NULL) {
            token_path = argv[i];
        } else {
            fprintf(stderr, "cvmattest result check: one token only\n");
            return 2;
        }
    }
    if (token_path == NULL || pub_path == NULL) {
        fprintf(stderr, "usage: cvmattest result check TOKEN --pub PUB\n");
        return 2;
    }
    if (cvma_file_read(token_path, MAX_SMALL, &tb) != CVMA_OK ||
        cvma_file_read(pub_path, MAX_SMALL, &pb) != CVMA_OK) {
        fprintf(stderr, "cvmattest result check: cannot read '%s' or '%s'\n", token_path, pub_path);
        goto out;
    }
    if ((pub = cvma_jws_key_from_pem(pb.p, pb.len, false)) == NULL) {
        fprintf(stderr, "cvmattest result check: '%s' is not a P-256 or P-384 public key\n",
                pub_path);
        goto out;
    }
    size_t n = tb.len;
    while (n > 0 && (tb.p[n - 1] == '\n' || tb.p[n - 1] == '\r' || tb.p[n - 1] == ' ')) {
        n--;
    }
    enum cvma_status st = cvma_ear_verify((const char *)tb.p, n, pub, &claims, err, sizeof err);
    if (st != CVMA_OK) {
        fprintf(stderr, "cvmattest result check: refused: %s\n", err);
        rc = st == CVMA_REJECTED ? 1 : 2;
        goto out;
    }
    json_dumpf(claims, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    rc = 0;
out:
    json_decref(claims);
    EVP_PKEY_free(pub);
    cvma_buf_free(&tb);
    cvma_buf_free(&pb);
    return rc;
}
