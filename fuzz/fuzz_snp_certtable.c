/*
 * libFuzzer target: the SEV-SNP extended-report certificate table (collect/collect.c), which
 * the host fills. Whatever is accepted has at most the maximum of entries, each blob inside
 * the input and after the header, each known GUID mapped to one bundle name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_snp_certtable ct;
    char err[512];

    if (!cvma_snp_certtable_parse(data, size, &ct, err, sizeof err)) {
        if (strnlen(err, sizeof err) >= sizeof err || err[0] == '\0') {
            abort();
        }
        return 0;
    }
    if (ct.n > CVMA_COLLECT_MAX_CERTS) {
        abort();
    }
    for (size_t i = 0; i < ct.n; i++) {
        const struct cvma_snp_cert_entry *e = &ct.e[i];
        if (e->data.len == 0 || e->data.p < data + 24 * (ct.n + 1) ||
            e->data.p + e->data.len > data + size || strlen(e->guid_str) != 36) {
            abort();
        }
    }
    return 0;
}
