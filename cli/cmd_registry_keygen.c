/* cvmattest registry keygen --out NAME [--alg ES256|ES384]: a provider's signing key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd_registry.h"
#include "common/hex.h"
#include "common/util.h"
#include "crypto/jws.h"

const char cvma_regcli_keygen_usage[] =
        "  keygen --out NAME [--alg ES256|ES384]\n"
        "        writes NAME.key (private, mode 0600; never overwritten) and NAME.pub\n";

int cvma_regcli_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
            {"out", required_argument, NULL, 'o'},
            {"alg", required_argument, NULL, 'a'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *alg_s = "ES256";
    enum cvma_jws_alg alg = CVMA_JWS_ES256;
    EVP_PKEY *key = NULL;
    struct cvma_buf priv = {0}, pub = {0};
    char *kpath = NULL, *ppath = NULL;
    uint8_t thumb[32];
    char kid[65];
    int rc = EXIT_USAGE, c;

    cvma_cli_getopt_begin();
    while ((c = cvma_cli_getopt(argc, argv, opts)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'a':
            alg_s = optarg;
            break;
        case 'h':
            cvma_regcli_help(cvma_regcli_keygen_usage);
            return EXIT_OK;
        default:
            return cvma_regcli_bad_option("keygen", c, argv);
        }
    }
    if (optind < argc) {
        return cvma_regcli_usage_error("keygen", "takes no operands (--out NAME names the key)");
    }
    if (out == NULL || out[0] == '\0') {
        return cvma_regcli_usage_error("keygen", "--out NAME is required");
    }
    if (strcmp(alg_s, "ES256") == 0) {
        alg = CVMA_JWS_ES256;
    } else if (strcmp(alg_s, "ES384") == 0) {
        alg = CVMA_JWS_ES384;
    } else {
        return cvma_regcli_usage_error("keygen", "--alg must be ES256 or ES384");
    }
    if ((kpath = cvma_regcli_concat(out, ".key")) == NULL ||
        (ppath = cvma_regcli_concat(out, ".pub")) == NULL ||
        (key = cvma_jws_key_generate(alg)) == NULL || !cvma_jws_key_to_pem(key, true, &priv) ||
        !cvma_jws_key_to_pem(key, false, &pub) || !cvma_jws_key_thumbprint(key, thumb)) {
        cvma_cli_err("cvmattest registry keygen: key generation failed\n");
        goto out;
    }
    if (!cvma_regcli_write_key_pair("registry keygen", kpath, priv.p, priv.len, ppath, pub.p,
                                    pub.len)) {
        goto out;
    }
    cvma_hex_encode(thumb, 32, kid, sizeof kid);
    printf("wrote %s (private, mode 0600) and %s (%s); key id %s\n", kpath, ppath,
           cvma_jws_alg_name(alg), kid);
    rc = EXIT_OK;
out:
    cvma_buf_free_secret(&priv);
    cvma_buf_free(&pub);
    EVP_PKEY_free(key);
    free(kpath);
    free(ppath);
    return rc;
}
