/*
 * libFuzzer target: the transparency-log parsers (src/tlog). The first byte picks what the
 * rest is:
 *   0  a signed note (split, signature lines; a signature and a cosignature check)
 *   1  a checkpoint text
 *   2  a c2sp.org/tlog-proof@v1 file (then its inclusion proof against its checkpoint)
 *   3  a tlog-witness add-checkpoint request body
 *   4  a consistency proof JSON (then checked against fixed roots)
 *   5  a note verifier key and a signer key string
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cvma_note_vkey *fuzz_vkey(void)
{
    static struct cvma_note_vkey k;
    static bool done;
    if (!done) {
        static const char s[] = "example.com/acme/registry-log+95ac6ad7+"
                                "AYOzbGIuD1ciHVA3K59YtD2SvgD/Jrl6xufCFT1/vFW6";
        char err[200];
        if (!cvma_note_vkey_parse(s, strlen(s), &k, err, sizeof err)) {
            memset(&k, 0, sizeof k);
            snprintf(k.name, sizeof k.name, "example.com/acme/registry-log");
        }
        done = true;
    }
    return &k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[300];
    if (size < 1) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0: {
        struct cvma_note note;
        if (cvma_note_parse(p, n, &note, err, sizeof err) == CVMA_OK) {
            uint64_t t;
            (void)cvma_note_check_sig(&note, fuzz_vkey());
            (void)cvma_note_check_cosig(&note, fuzz_vkey(), &t);
            cvma_note_cleanup(&note);
        }
        break;
    }
    case 1: {
        struct cvma_checkpoint cp;
        bool ok = cvma_checkpoint_parse((const char *)p, n, &cp, err, sizeof err);
        (void)ok;
        break;
    }
    case 2: {
        struct cvma_tlog_proof *pr = malloc(sizeof *pr);
        if (pr != NULL && cvma_tlog_proof_parse(p, n, pr, err, sizeof err) == CVMA_OK) {
            uint8_t leaf[32] = {0};
            (void)cvma_merkle_verify(leaf, pr->index, pr->cp.size, (const uint8_t(*)[32])pr->hashes,
                                     pr->n_hashes, pr->cp.root);
            cvma_tlog_proof_cleanup(pr);
        }
        free(pr);
        break;
    }
    case 3: {
        uint64_t old;
        static uint8_t proof[CVMA_TLOG_PROOF_MAX][32];
        size_t np;
        struct cvma_span cp;
        bool ok = cvma_witness_parse_request(p, n, &old, proof, &np, &cp, err, sizeof err);
        (void)ok;
        break;
    }
    case 4: {
        static struct cvma_tlog_consistency c;
        if (cvma_tlog_consistency_parse(p, n, &c, err, sizeof err)) {
            uint8_t a[32] = {1}, b[32] = {2};
            (void)cvma_merkle_verify_consistency(c.old_size, c.new_size, a, b,
                                                 (const uint8_t(*)[32])c.hashes, c.n_hashes);
        }
        break;
    }
    default: {
        struct cvma_note_vkey v;
        struct cvma_note_skey s;
        bool ok = cvma_note_vkey_parse((const char *)p, n, &v, err, sizeof err);
        (void)ok;
        if (cvma_note_skey_parse((const char *)p, n, &s, err, sizeof err)) {
            cvma_note_skey_cleanup(&s);
        }
        break;
    }
    }
    return 0;
}
