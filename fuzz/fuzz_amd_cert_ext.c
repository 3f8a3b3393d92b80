/*
 * libFuzzer target: the AMD VCEK/VLEK extension parser. The first byte picks how the rest is
 * read: as a whole DER certificate (through OpenSSL, then our extension walk) or as one raw
 * extension value for each of the AMD OIDs.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "snp/amd_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const suffixes[] = {".1.1",   ".1.2",   ".1.3.1", ".1.3.2", ".1.3.3",
                                           ".1.3.4", ".1.3.8", ".1.3.9", ".1.4",   ".1.5"};
    struct cvma_amd_cert_ext ext;
    struct cvma_verdict v;
    if (size == 0) {
        return 0;
    }
    cvma_verdict_init(&v);
    if (data[0] == 0x30) {
        X509 *x = cvma_x509_load(data, size);
        if (x != NULL) {
            if (cvma_amd_cert_ext_parse(x, &ext, &v) == CVMA_OK && ext.has_hwid) {
                v.checks_done |= 1; /* parsed: nothing more to do */
            }
            X509_free(x);
        }
    } else {
        memset(&ext, 0, sizeof ext);
        const char *sfx = suffixes[data[0] % (sizeof suffixes / sizeof suffixes[0])];
        if (cvma_amd_cert_ext_value(sfx, data + 1, size - 1, &ext, &v) != CVMA_OK) {
            v.checks_done = 0;
        }
    }
    cvma_verdict_cleanup(&v);
    return 0;
}
