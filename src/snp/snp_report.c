/*
 * AMD SEV-SNP ATTESTATION_REPORT parser (SEV-SNP Firmware ABI spec, pub. 56860). Reads
 * every field through the bounds-checked reader, checks reserved bytes and trailing data
 * (docs/verification.md), and keeps the exact signed bytes for verification.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/reader.h"
#include "snp/snp.h"

enum cvma_snp_product cvma_snp_product_from_cpuid(uint8_t fam, uint8_t model)
{
    /* Ranges as in virtee/sev Generation::identify_cpu. */
    if (fam == 0x19 && model <= 0x0F) {
        return CVMA_SNP_PRODUCT_MILAN;
    }
    if (fam == 0x19 && ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF))) {
        return CVMA_SNP_PRODUCT_GENOA;
    }
    if (fam == 0x1A && model <= 0x11) {
        return CVMA_SNP_PRODUCT_TURIN;
    }
    return CVMA_SNP_PRODUCT_UNKNOWN;
}

enum cvma_snp_product cvma_snp_product_from_name(const char *name)
{
    /* productName is "<Line>" or "<Line>-<Stepping>": only the line counts. */
    static const struct {
        const char *line;
        enum cvma_snp_product p;
    } lines[] = {{"Milan", CVMA_SNP_PRODUCT_MILAN},
                 {"Genoa", CVMA_SNP_PRODUCT_GENOA},
                 {"Turin", CVMA_SNP_PRODUCT_TURIN}};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(lines); i++) {
        size_t n = strlen(lines[i].line);
        if (strncmp(name, lines[i].line, n) == 0 && (name[n] == '\0' || name[n] == '-')) {
            return lines[i].p;
        }
    }
    return CVMA_SNP_PRODUCT_UNKNOWN;
}

const char *cvma_snp_product_name(enum cvma_snp_product p)
{
    switch (p) {
    case CVMA_SNP_PRODUCT_MILAN:
        return "Milan";
    case CVMA_SNP_PRODUCT_GENOA:
        return "Genoa";
    case CVMA_SNP_PRODUCT_TURIN:
        return "Turin";
    case CVMA_SNP_PRODUCT_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}

void cvma_snp_tcb_split(uint64_t raw, enum cvma_snp_product product, struct cvma_snp_tcb *out)
{
    memset(out, 0, sizeof *out);
    out->raw = raw;
#define TCB_BYTE(i) ((uint8_t)(raw >> (8 * (i))))
    if (product == CVMA_SNP_PRODUCT_TURIN) {
        /* Turin (VCEK structVersion 1): FMC, BL, TEE, SNP, -, -, -, UCODE */
        out->has_fmc = true;
        out->fmc = TCB_BYTE(0);
        out->bootloader = TCB_BYTE(1);
        out->tee = TCB_BYTE(2);
        out->snp = TCB_BYTE(3);
        out->microcode = TCB_BYTE(7);
    } else {
        /* Milan/Genoa (structVersion 0): BL, TEE, -, -, -, -, SNP, UCODE */
        out->bootloader = TCB_BYTE(0);
        out->tee = TCB_BYTE(1);
        out->snp = TCB_BYTE(6);
        out->microcode = TCB_BYTE(7);
    }
#undef TCB_BYTE
}

unsigned cvma_snp_signing_key(const struct cvma_snp_report *rep)
{
    return (rep->signer_info >> 2) & 0x7;
}

bool cvma_snp_chip_id_masked(const struct cvma_snp_report *rep)
{
    return cvma_bytes_are_zero(rep->chip_id, sizeof rep->chip_id);
}

/* A reserved run inside the signed part: non-zero is a warning (newer firmware may use it). */
static void check_signed_reserved(struct cvma_verdict *v, const struct cvma_span *s,
                                  unsigned offset)
{
    if (!cvma_span_is_zero(s)) {
        for (size_t i = 0; i < s->len; i++) {
            if (s->p[i] != 0) {
                cvma_reject(v, CVMA_R_PARSE_RESERVED_NONZERO,
                            "snp report: reserved bytes 0x%03X..0x%03zX are not zero "
                            "(first non-zero at 0x%03zX = 0x%02x); signed, so authentic",
                            offset, offset + s->len - 1, offset + i, s->p[i]);
                break;
            }
        }
    }
}

static bool read_reserved(struct cvma_reader *r, size_t n, struct cvma_verdict *v)
{
    struct cvma_span s;
    unsigned off = (unsigned)r->off;
    if (!cvma_reader_span(r, n, &s)) {
        return false;
    }
    check_signed_reserved(v, &s, off);
    return true;
}

/* Reverses a little-endian 72-byte field into a 48-byte big-endian scalar. */
static bool sig_component(const struct cvma_span *s, uint8_t out[48])
{
    for (size_t i = 0; i < 48; i++) {
        out[i] = s->p[47 - i];
    }
    /* Bytes 48..71 of the field must be zero: P-384 scalars have 48 bytes. */
    return cvma_bytes_are_zero(s->p + 48, CVMA_SNP_SIG_COMPONENT - 48);
}

enum cvma_status cvma_snp_report_parse(const uint8_t *p, size_t len,
                                       const struct cvma_parse_opts *opts,
                                       struct cvma_snp_report *rep, struct cvma_verdict *v)
{
    struct cvma_reader r, body;
    struct cvma_span sr, ss, sig_rest, rest;

    memset(rep, 0, sizeof *rep);
    cvma_reader_init(&r, p, len);
    if (len < CVMA_SNP_REPORT_SIZE) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "snp report: %zu bytes, need %u", len,
                           CVMA_SNP_REPORT_SIZE);
    }
    if (!cvma_reader_sub(&r, CVMA_SNP_REPORT_SIZE, &body)) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "snp report: short input");
    }
    /* Copy the signed part as it stands: the signature is checked over these bytes. */
    {
        struct cvma_reader sc = body;
        if (!cvma_reader_bytes(&sc, rep->signed_bytes, CVMA_SNP_SIGNED_SIZE)) {
            return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "snp report: short signed part");
        }
    }
    if (!cvma_reader_u32le(&body, &rep->version)) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "snp report: no version");
    }
    if (rep->version < 2 || rep->version > 5) {
        return cvma_reject(v, CVMA_R_PARSE_UNKNOWN_VERSION,
                           "snp report: version %" PRIu32 " (known: 2, 3, 4, 5)", rep->version);
    }
    bool ok = cvma_reader_u32le(&body, &rep->guest_svn) && cvma_reader_u64le(&body, &rep->policy) &&
              cvma_reader_bytes(&body, rep->family_id, sizeof rep->family_id) &&
              cvma_reader_bytes(&body, rep->image_id, sizeof rep->image_id) &&
              cvma_reader_u32le(&body, &rep->vmpl) &&
              cvma_reader_u32le(&body, &rep->signature_algo) &&
              cvma_reader_u64le(&body, &rep->current_tcb) &&
              cvma_reader_u64le(&body, &rep->platform_info) &&
              cvma_reader_u32le(&body, &rep->signer_info) && read_reserved(&body, 4, v) &&
              cvma_reader_bytes(&body, rep->report_data, sizeof rep->report_data) &&
              cvma_reader_bytes(&body, rep->measurement, sizeof rep->measurement) &&
              cvma_reader_bytes(&body, rep->host_data, sizeof rep->host_data) &&
              cvma_reader_bytes(&body, rep->id_key_digest, sizeof rep->id_key_digest) &&
              cvma_reader_bytes(&body, rep->author_key_digest, sizeof rep->author_key_digest) &&
              cvma_reader_bytes(&body, rep->report_id, sizeof rep->report_id) &&
              cvma_reader_bytes(&body, rep->report_id_ma, sizeof rep->report_id_ma) &&
              cvma_reader_u64le(&body, &rep->reported_tcb);
    assert(!ok || body.off == 0x188);
    if (ok && rep->version >= 3) {
        ok = cvma_reader_u8(&body, &rep->cpuid_fam_id) &&
             cvma_reader_u8(&body, &rep->cpuid_mod_id) && cvma_reader_u8(&body, &rep->cpuid_step) &&
             read_reserved(&body, 21, v);
    } else if (ok) {
        ok = read_reserved(&body, 24, v);
    }
    assert(!ok || body.off == 0x1A0);
    ok = ok && cvma_reader_bytes(&body, rep->chip_id, sizeof rep->chip_id) &&
         cvma_reader_u64le(&body, &rep->committed_tcb) &&
         cvma_reader_u8(&body, &rep->current_build) && cvma_reader_u8(&body, &rep->current_minor) &&
         cvma_reader_u8(&body, &rep->current_major) && read_reserved(&body, 1, v) &&
         cvma_reader_u8(&body, &rep->committed_build) &&
         cvma_reader_u8(&body, &rep->committed_minor) &&
         cvma_reader_u8(&body, &rep->committed_major) && read_reserved(&body, 1, v) &&
         cvma_reader_u64le(&body, &rep->launch_tcb);
    assert(!ok || body.off == 0x1F8);
    if (ok && rep->version >= 5) {
        ok = cvma_reader_u64le(&body, &rep->launch_mit_vector) &&
             cvma_reader_u64le(&body, &rep->current_mit_vector) && read_reserved(&body, 152, v);
    } else if (ok) {
        ok = read_reserved(&body, 168, v);
    }
    assert(!ok || body.off == CVMA_SNP_SIG_OFFSET);
    ok = ok && cvma_reader_span(&body, CVMA_SNP_SIG_COMPONENT, &sr) &&
         cvma_reader_span(&body, CVMA_SNP_SIG_COMPONENT, &ss);
    if (!ok) {
        return cvma_reject(v, CVMA_R_PARSE_TRUNCATED, "snp report: fields run past 0x%X",
                           CVMA_SNP_REPORT_SIZE);
    }
    cvma_reader_rest(&body, &sig_rest);

    enum cvma_status st = CVMA_OK;
    /* Both, always: rep is fully written even when the report is refused (snp.h). */
    bool r_ok = sig_component(&sr, rep->sig_r);
    bool s_ok = sig_component(&ss, rep->sig_s);
    if (!r_ok || !s_ok) {
        st = cvma_reject(v, CVMA_R_PARSE_UNSIGNED_RESERVED_NONZERO,
                         "snp report: signature R or S has non-zero bytes above the 48 of a "
                         "P-384 scalar (0x2D0..0x2E7 or 0x318..0x32F)");
    }
    if (!cvma_span_is_zero(&sig_rest)) {
        size_t i = 0;
        while (i < sig_rest.len && sig_rest.p[i] == 0) {
            i++;
        }
        st = cvma_reject(v, CVMA_R_PARSE_UNSIGNED_RESERVED_NONZERO,
                         "snp report: unsigned reserved bytes 0x330..0x49F are not zero (first "
                         "at 0x%03zX = 0x%02x); nothing authenticates them",
                         (size_t)0x330 + i, sig_rest.p[i]);
    }

    /* Bits that no spec revision known to us defines: warnings, since they are signed. */
    uint64_t unknown = rep->policy & ~CVMA_SNP_POLICY_KNOWN_MASK;
    bool bit17_clear = (rep->policy & CVMA_SNP_POLICY_RESERVED1) == 0;
    if (unknown != 0 || bit17_clear) {
        char bits[64] = "";
        if (unknown != 0) {
            snprintf(bits, sizeof bits, "unknown bits 0x%016" PRIx64 " set", unknown);
        }
        cvma_reject(v, CVMA_R_PARSE_UNKNOWN_BITS, "snp report: policy=0x%016" PRIx64 " has %s%s%s",
                    rep->policy, bits, unknown != 0 && bit17_clear ? " and " : "",
                    bit17_clear ? "reserved bit 17 clear (it must be 1)" : "");
    }
    if ((rep->signer_info & ~(uint32_t)0x1F) != 0) {
        cvma_reject(v, CVMA_R_PARSE_UNKNOWN_BITS,
                    "snp report: signer info 0x%08" PRIx32 " has reserved bits 31:5 set",
                    rep->signer_info);
    }
    if ((rep->platform_info & ~(uint64_t)0xFF) != 0) {
        cvma_verdict_add(v, CVMA_R_PARSE_UNKNOWN_BITS, CVMA_SEV_INFO,
                         "snp report: platform_info=0x%016" PRIx64 " has bits above 7 set",
                         rep->platform_info);
    }

    if (rep->version >= 3) {
        rep->product = cvma_snp_product_from_cpuid(rep->cpuid_fam_id, rep->cpuid_mod_id);
    }

    /* Trailing data: unsigned. Zeros are padding; anything else is refused unless allowed. */
    cvma_reader_rest(&r, &rest);
    rep->trailing_len = rest.len;
    if (cvma_verdict_trailing(v, rest.p, rest.len, opts != NULL && opts->allow_trailing_data,
                              "snp report", CVMA_SNP_REPORT_SIZE) != CVMA_OK) {
        st = CVMA_REJECTED;
    }
    return st;
}

/* see snp/snp.h */
bool cvma_snp_report_peek(const uint8_t *p, size_t len, struct cvma_snp_report *rep, bool *oom)
{
    struct cvma_parse_opts po = {.allow_trailing_data = true};
    struct cvma_verdict scratch; /* the report's own reasons come from its verification */
    bool ok;

    cvma_verdict_init(&scratch);
    ok = cvma_snp_report_parse(p, len, &po, rep, &scratch) == CVMA_OK && !scratch.oom;
    *oom = *oom || scratch.oom;
    cvma_verdict_cleanup(&scratch);
    return ok;
}
