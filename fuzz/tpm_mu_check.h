/*
 * The differential oracle of src/tpm/tpm_unmarshal.c: the same bytes through libtss2-mu's
 * Tss2_MU_*_Unmarshal, which the verifier used before, must give the same decision and the same
 * struct. Used by fuzz/fuzz_tpm_unmarshal.c and tests/unit/test_tpm_unmarshal.c.
 *
 * "The same decision", per reading (both structs cleared first, compared with memcmp):
 *  - TPMT_PUBLIC, TPMT_SIGNATURE: ours OK exactly when libtss2-mu reads one of a supported type
 *    (RSA or ECC; RSASSA, RSAPSS or ECDSA), with the same struct and the same end; UNSUPPORTED
 *    exactly when it reads one of another type (that type kept); MALFORMED exactly when it
 *    refuses.
 *  - TPMS_ATTEST: UNSUPPORTED exactly when the type is not TPM_ST_ATTEST_QUOTE (the verifier
 *    refuses those before unmarshalling: TPM_ATTEST_TYPE); otherwise as above.
 *  - TPM2B_PUBLIC: libtss2-mu ignores its inner TPMT_PUBLIC's result and lets it read past the
 *    size, so its reading counts when it ended exactly size bytes after the size field and
 *    size is not 0 (an empty area is never a public area: libtss2-mu "reads" one of zeros).
 *  - a whole public area (cvma_tpm_mu_public_area): as the verifier read it with libtss2-mu, a
 *    TPMT_PUBLIC using every byte, else a TPM2B_PUBLIC (counted as above) using every byte.
 * mu_check returns NULL when they agree, else what differs.
 */
#ifndef CVMA_FUZZ_TPM_MU_CHECK_H
#define CVMA_FUZZ_TPM_MU_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "tpm/tpm_unmarshal.h"

/* libtss2-mu logs to stderr unless told not to: before its first call. */
static inline void mu_tss2_quiet(void)
{
    static bool done;
    if (!done) {
        setenv("TSS2_LOG", "all+NONE", 1);
        done = true;
    }
}

static inline bool mu_public_supported(TPMI_ALG_PUBLIC t)
{
    return t == TPM2_ALG_RSA || t == TPM2_ALG_ECC;
}

static inline bool mu_sig_supported(TPMI_ALG_SIG_SCHEME a)
{
    return a == TPM2_ALG_RSASSA || a == TPM2_ALG_RSAPSS || a == TPM2_ALG_ECDSA;
}

/* Compares one three-way reading: ours (st, *o, end) against libtss2-mu (ok, *t, tend) for a
 * structure whose type/selector is supported (sup) or not (tsel: its selector in *t). */
#define MU_AGREE(name, st, o, end, ok, t, tend, sup, osel, tsel)                           \
    do {                                                                                   \
        if ((st) == CVMA_TPM_MU_OK) {                                                      \
            if (!(ok) || !(sup)) {                                                         \
                return name ": ours accepted, libtss2-mu did not (or not this type)";      \
            }                                                                              \
            if ((end) != (tend)) {                                                         \
                return name ": a different end";                                           \
            }                                                                              \
            if (memcmp((o), (t), sizeof *(o)) != 0) {                                      \
                return name ": a different struct";                                        \
            }                                                                              \
        } else if ((st) == CVMA_TPM_MU_UNSUPPORTED) {                                      \
            if (!(ok) || (sup) || (osel) != (tsel) || (end) != 0) {                        \
                return name ": ours unsupported, libtss2-mu not a whole one of that type"; \
            }                                                                              \
        } else if ((ok) || (end) != 0) {                                                   \
            return name ": ours refused, libtss2-mu accepted";                             \
        }                                                                                  \
    } while (0)

/* Reads p[0..len) both ways: libtss2-mu's mu_fn into t (ok, its end in off) and ours, our_fn,
 * into o (st, its end in r.off); t cleared first (ours clears o). For mu_check's locals. */
#define MU_READ_BOTH(mu_fn, our_fn, o, t)                  \
    do {                                                   \
        memset(&(t), 0, sizeof(t));                        \
        off = 0;                                           \
        ok = mu_fn(p, len, &off, &(t)) == TSS2_RC_SUCCESS; \
        cvma_reader_init(&r, p, len);                      \
        st = our_fn(&r, &(o), NULL);                       \
    } while (0)

/* The whole-input public area as the verifier read it with libtss2-mu. */
static inline bool mu_tss2_public_area(const uint8_t *p, size_t len, TPMT_PUBLIC *out,
                                       size_t *area_off)
{
    size_t off = 0;
    TPM2B_PUBLIC p2;
    memset(out, 0, sizeof *out);
    *area_off = 0;
    if (Tss2_MU_TPMT_PUBLIC_Unmarshal(p, len, &off, out) == TSS2_RC_SUCCESS && off == len) {
        return true;
    }
    memset(out, 0, sizeof *out);
    memset(&p2, 0, sizeof p2);
    off = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(p, len, &off, &p2) == TSS2_RC_SUCCESS && off == len &&
        p2.size != 0 && (size_t)p2.size == len - 2) {
        *out = p2.publicArea;
        *area_off = 2;
        return true;
    }
    memset(out, 0, sizeof *out);
    return false;
}

static inline const char *mu_check(const uint8_t *p, size_t len)
{
    static const uint8_t empty[1];
    struct cvma_reader r;
    size_t off;
    bool ok;
    enum cvma_tpm_mu st;

    mu_tss2_quiet();
    p = p != NULL ? p : empty; /* libtss2-mu refuses a NULL buffer even of length 0 */

    /* TPMS_ATTEST */
    {
        TPMS_ATTEST o, t;
        MU_READ_BOTH(Tss2_MU_TPMS_ATTEST_Unmarshal, cvma_tpm_mu_attest, o, t);
        if (len >= 6 && (p[4] << 8 | p[5]) != TPM2_ST_ATTEST_QUOTE) {
            /* not read: the verifier refuses the type first */
            if (st != CVMA_TPM_MU_UNSUPPORTED || o.type != (p[4] << 8 | p[5]) || r.off != 0) {
                return "TPMS_ATTEST: not a quote, but not refused as unsupported";
            }
        } else {
            MU_AGREE("TPMS_ATTEST", st, &o, r.off, ok, &t, off, true, o.type, t.type);
        }
    }
    /* TPMT_PUBLIC */
    {
        TPMT_PUBLIC o, t;
        MU_READ_BOTH(Tss2_MU_TPMT_PUBLIC_Unmarshal, cvma_tpm_mu_public, o, t);
        MU_AGREE("TPMT_PUBLIC", st, &o, r.off, ok, &t, off, mu_public_supported(t.type), o.type,
                 t.type);
    }
    /* TPM2B_PUBLIC */
    {
        TPM2B_PUBLIC o, t;
        MU_READ_BOTH(Tss2_MU_TPM2B_PUBLIC_Unmarshal, cvma_tpm_mu_public2b, o, t);
        if (!ok || t.size == 0 || off != 2 + (size_t)t.size) {
            ok = false;
            memset(&t, 0, sizeof t);
            off = 0;
        }
        MU_AGREE("TPM2B_PUBLIC", st, &o, r.off, ok, &t, off, mu_public_supported(t.publicArea.type),
                 o.publicArea.type, t.publicArea.type);
    }
    /* the whole input as one public area */
    {
        TPMT_PUBLIC o, t;
        struct cvma_span area;
        size_t at = 0;
        ok = mu_tss2_public_area(p, len, &t, &at);
        st = cvma_tpm_mu_public_area(p, len, &o, &area, NULL);
        if (st == CVMA_TPM_MU_OK &&
            (area.p != p + at || area.len != len - at || memcmp(&o, &t, sizeof o) != 0)) {
            return "public area: another area or struct";
        }
        MU_AGREE("public area", st, &o, (size_t)0, ok, &t, (size_t)0, mu_public_supported(t.type),
                 o.type, t.type);
    }
    /* TPMT_SIGNATURE */
    {
        TPMT_SIGNATURE o, t;
        MU_READ_BOTH(Tss2_MU_TPMT_SIGNATURE_Unmarshal, cvma_tpm_mu_signature, o, t);
        MU_AGREE("TPMT_SIGNATURE", st, &o, r.off, ok, &t, off, mu_sig_supported(t.sigAlg), o.sigAlg,
                 t.sigAlg);
    }
    return NULL;
}

#endif
