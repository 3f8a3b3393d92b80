/*
 * libFuzzer target: evidence input (verifier/bundle.c): bundle JSON, hex and base64 text,
 * binary; then the kind detection and the explanation of unknown bytes. Whatever is accepted
 * must have exactly one evidence part, collateral parts with known names and TPM parts with
 * known roles (tpm_quote, event_log, ...).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/bundle.h"
#include "verifier/kind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cvma_evidence *ev = NULL;
    char err[512], why[512];
    enum cvma_inform inform = CVMA_INFORM_AUTO;

    if (size > 0) {
        inform = (enum cvma_inform)(data[0] % 4); /* the first byte picks the input form */
        data++;
        size--;
    }
    if (cvma_evidence_from_bytes(data, size, inform, &ev, err, sizeof err) != CVMA_OK) {
        if (ev != NULL || strnlen(err, sizeof err) >= sizeof err) {
            abort();
        }
        return 0;
    }
    /* The evidence is the one "evidence" part or, in a TPM bundle without one, the
     * "tpm_quote" part; every other part is collateral of a known name or a TPM part of a
     * known role. */
    size_t n_evidence = 0;
    for (size_t i = 0; i < ev->n_parts; i++) {
        const char *name = ev->parts[i].name;
        if (ev->parts[i].role == CVMA_PART_EVIDENCE) {
            n_evidence++;
        } else if (name == NULL ||
                   (ev->parts[i].role == CVMA_PART_TPM ? !cvma_bundle_tpm_role_ok(name)
                                                       : !cvma_bundle_collateral_name_ok(name))) {
            abort();
        }
    }
    if (ev->evidence_idx >= ev->n_parts || n_evidence > 1) {
        abort();
    }
    const struct cvma_bundle_part *e = &ev->parts[ev->evidence_idx];
    if ((n_evidence == 1) != (e->role == CVMA_PART_EVIDENCE) ||
        (e->role != CVMA_PART_EVIDENCE &&
         (e->role != CVMA_PART_TPM || strcmp(e->name, "tpm_quote") != 0))) {
        abort();
    }
    struct cvma_span b = cvma_evidence_bytes(ev);
    if (cvma_kind_detect(b.p, b.len) == NULL) {
        cvma_kind_explain_unknown(b.p, b.len, why, sizeof why);
    }
    cvma_evidence_free(ev);
    return 0;
}
