/*
 * libFuzzer target: the SEV-SNP report parser and its claims encoder, checked against a
 * reading of the same bytes by hand at the offsets of the ATTESTATION_REPORT table (SEV-SNP
 * Firmware ABI spec, pub. 56860): every field the parser reports, which inputs it must accept
 * (length, version, signature padding, unsigned reserved bytes, trailing data), which warnings
 * it must give, and what the claims JSON shows. The last input byte picks
 * --allow-trailing-data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_check.h"
#include "snp/snp_internal.h"

#define REPORT_SIZE 0x4A0u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The product line from the v3+ CPUID bytes (ranges of the fact sheet, virtee/sev). */
static enum cvma_snp_product product_of(uint8_t fam, uint8_t model)
{
    if (fam == 0x19 && model < 0x10) {
        return CVMA_SNP_PRODUCT_MILAN;
    }
    if (fam == 0x19 && (model >> 4 == 0x1 || model >> 4 == 0xA)) {
        return CVMA_SNP_PRODUCT_GENOA;
    }
    if (fam == 0x1A && model < 0x12) {
        return CVMA_SNP_PRODUCT_TURIN;
    }
    return CVMA_SNP_PRODUCT_UNKNOWN;
}

/* The signed reserved runs of the version: non-zero bytes there are a warning. */
static bool signed_reserved_nonzero(const uint8_t *d, uint32_t version)
{
    bool nz = !fz_zero(d + 0x04C, 4) || d[0x1EB] != 0 || d[0x1EF] != 0;
    if (version >= 3) {
        nz = nz || !fz_zero(d + 0x18B, 0x1A0 - 0x18B);
    } else {
        nz = nz || !fz_zero(d + 0x188, 0x1A0 - 0x188);
    }
    if (version >= 5) {
        nz = nz || !fz_zero(d + 0x208, 0x2A0 - 0x208);
    } else {
        nz = nz || !fz_zero(d + 0x1F8, 0x2A0 - 0x1F8);
    }
    return nz;
}

/* r or s: the 72-byte little-endian field at off as a 48-byte big-endian scalar. */
static void scalar_be(const uint8_t *d, size_t off, uint8_t out[48])
{
    for (size_t i = 0; i < 48; i++) {
        out[i] = d[off + 47 - i];
    }
}

static void check_fields(const uint8_t *d, const struct cvma_snp_report *rep)
{
    uint32_t version = fz_le32(d);
    uint8_t be[48];
    CHECK(rep->version == version);
    CHECK(rep->guest_svn == fz_le32(d + 0x004));
    CHECK(rep->policy == fz_le64(d + 0x008));
    CHECK(memcmp(rep->family_id, d + 0x010, 16) == 0);
    CHECK(memcmp(rep->image_id, d + 0x020, 16) == 0);
    CHECK(rep->vmpl == fz_le32(d + 0x030));
    CHECK(rep->signature_algo == fz_le32(d + 0x034));
    CHECK(rep->current_tcb == fz_le64(d + 0x038));
    CHECK(rep->platform_info == fz_le64(d + 0x040));
    CHECK(rep->signer_info == fz_le32(d + 0x048));
    CHECK(memcmp(rep->report_data, d + 0x050, 64) == 0);
    CHECK(memcmp(rep->measurement, d + 0x090, 48) == 0);
    CHECK(memcmp(rep->host_data, d + 0x0C0, 32) == 0);
    CHECK(memcmp(rep->id_key_digest, d + 0x0E0, 48) == 0);
    CHECK(memcmp(rep->author_key_digest, d + 0x110, 48) == 0);
    CHECK(memcmp(rep->report_id, d + 0x140, 32) == 0);
    CHECK(memcmp(rep->report_id_ma, d + 0x160, 32) == 0);
    CHECK(rep->reported_tcb == fz_le64(d + 0x180));
    if (version >= 3) {
        CHECK(rep->cpuid_fam_id == d[0x188] && rep->cpuid_mod_id == d[0x189] &&
              rep->cpuid_step == d[0x18A]);
        CHECK(rep->product == product_of(d[0x188], d[0x189]));
    } else {
        /* v2 has no CPUID bytes: they are reserved and not to be read as CPUID. */
        CHECK(rep->cpuid_fam_id == 0 && rep->cpuid_mod_id == 0 && rep->cpuid_step == 0);
        CHECK(rep->product == CVMA_SNP_PRODUCT_UNKNOWN);
    }
    CHECK(memcmp(rep->chip_id, d + 0x1A0, 64) == 0);
    CHECK(rep->committed_tcb == fz_le64(d + 0x1E0));
    CHECK(rep->current_build == d[0x1E8] && rep->current_minor == d[0x1E9] &&
          rep->current_major == d[0x1EA]);
    CHECK(rep->committed_build == d[0x1EC] && rep->committed_minor == d[0x1ED] &&
          rep->committed_major == d[0x1EE]);
    CHECK(rep->launch_tcb == fz_le64(d + 0x1F0));
    if (version >= 5) {
        CHECK(rep->launch_mit_vector == fz_le64(d + 0x1F8));
        CHECK(rep->current_mit_vector == fz_le64(d + 0x200));
    } else {
        CHECK(rep->launch_mit_vector == 0 && rep->current_mit_vector == 0);
    }
    scalar_be(d, 0x2A0, be);
    CHECK(memcmp(rep->sig_r, be, 48) == 0);
    scalar_be(d, 0x2A0 + 72, be);
    CHECK(memcmp(rep->sig_s, be, 48) == 0);
    CHECK(memcmp(rep->signed_bytes, d, 0x2A0) == 0);
    CHECK(cvma_snp_signing_key(rep) == ((fz_le32(d + 0x048) >> 2) & 7));
    CHECK(cvma_snp_chip_id_masked(rep) == fz_zero(d + 0x1A0, 64));
}

/* The claims JSON shows the same bytes. */
static void check_json(const uint8_t *d, const struct cvma_snp_report *rep)
{
    uint8_t be[48];
    json_t *o = cvma_snp_report_json(rep, rep->product);
    if (o == NULL) {
        return; /* out of memory */
    }
    CHECK(fz_jint_is(o, "version", fz_le32(d)));
    CHECK(fz_jint_is(o, "vmpl", fz_le32(d + 0x030)));
    CHECK(fz_jint_is(o, "guest_svn", fz_le32(d + 0x004)));
    CHECK(fz_jhex_be_is(json_object_get(o, "policy"), "raw", fz_le64(d + 0x008), 8));
    CHECK(json_is_true(json_object_get(json_object_get(o, "policy"), "debug")) ==
          ((d[0x00A] >> 3) & 1));
    CHECK(fz_hex_is(fz_jstr(o, "report_data"), d + 0x050, 64));
    CHECK(fz_hex_is(fz_jstr(o, "measurement"), d + 0x090, 48));
    CHECK(fz_hex_is(fz_jstr(o, "host_data"), d + 0x0C0, 32));
    CHECK(fz_hex_is(fz_jstr(o, "chip_id"), d + 0x1A0, 64));
    CHECK(fz_jhex_be_is(json_object_get(o, "reported_tcb"), "raw", fz_le64(d + 0x180), 8));
    CHECK(fz_jhex_be_is(json_object_get(o, "current_tcb"), "raw", fz_le64(d + 0x038), 8));
    CHECK(fz_jhex_be_is(json_object_get(o, "launch_tcb"), "raw", fz_le64(d + 0x1F0), 8));
    scalar_be(d, 0x2A0, be);
    CHECK(fz_hex_is(fz_jstr(json_object_get(o, "signature"), "r"), be, 48));
    scalar_be(d, 0x2A0 + 72, be);
    CHECK(fz_hex_is(fz_jstr(json_object_get(o, "signature"), "s"), be, 48));
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct cvma_snp_report zero;
    struct cvma_snp_report rep;
    struct cvma_verdict v;
    bool allow = size > 0 && (data[size - 1] & 1);
    struct cvma_parse_opts po = {.allow_trailing_data = allow};

    cvma_verdict_init(&v);
    memset(&rep, 0xA5, sizeof rep);
    enum cvma_status st = cvma_snp_report_parse(data, size, &po, &rep, &v);
    CHECK(st == CVMA_OK || st == CVMA_REJECTED);
    /* A refusal always names an error; an acceptance never carries one. */
    CHECK((st == CVMA_REJECTED) == cvma_verdict_has_error(&v));

    if (size < REPORT_SIZE) {
        CHECK(st == CVMA_REJECTED && cvma_verdict_has(&v, CVMA_R_PARSE_TRUNCATED));
        CHECK(memcmp(&rep, &zero, sizeof rep) == 0);
        goto out;
    }
    uint32_t version = fz_le32(data);
    if (version < 2 || version > 5) {
        CHECK(st == CVMA_REJECTED && cvma_verdict_has(&v, CVMA_R_PARSE_UNKNOWN_VERSION));
        /* No field is read from a layout it does not know: at most the version and the raw
         * signed bytes are filled in. */
        rep.version = 0;
        memset(rep.signed_bytes, 0, sizeof rep.signed_bytes);
        CHECK(memcmp(&rep, &zero, sizeof rep) == 0);
        goto out;
    }

    /* Unsigned bytes: R and S above their 48 bytes, 0x330..0x49F, then trailing data. */
    bool sig_pad_nz = !fz_zero(data + 0x2A0 + 48, 24) || !fz_zero(data + 0x2A0 + 72 + 48, 24);
    bool unsigned_nz = !fz_zero(data + 0x330, REPORT_SIZE - 0x330);
    size_t tlen = size - REPORT_SIZE;
    bool trailing_nz = !fz_zero(data + REPORT_SIZE, tlen);
    bool refuse = sig_pad_nz || unsigned_nz || (trailing_nz && !allow);
    CHECK((st == CVMA_REJECTED) == refuse);
    CHECK(cvma_verdict_has(&v, CVMA_R_PARSE_UNSIGNED_RESERVED_NONZERO) ==
          (sig_pad_nz || unsigned_nz));
    CHECK(cvma_verdict_has(&v, CVMA_R_PARSE_TRAILING_DATA) == trailing_nz);
    CHECK(cvma_verdict_has(&v, CVMA_R_PARSE_TRAILING_ZEROS) == (tlen > 0 && !trailing_nz));
    CHECK(!cvma_verdict_has(&v, CVMA_R_PARSE_TRUNCATED) &&
          !cvma_verdict_has(&v, CVMA_R_PARSE_UNKNOWN_VERSION));

    /* Signed oddities are warnings, named but never refused for. */
    uint64_t policy = fz_le64(data + 0x008);
    bool unknown_bits = (policy >> 26) != 0 || ((policy >> 17) & 1) == 0 ||
                        (fz_le32(data + 0x048) >> 5) != 0 || (fz_le64(data + 0x040) >> 8) != 0;
    CHECK(cvma_verdict_has(&v, CVMA_R_PARSE_RESERVED_NONZERO) ==
          signed_reserved_nonzero(data, version));
    CHECK(cvma_verdict_has(&v, CVMA_R_PARSE_UNKNOWN_BITS) == unknown_bits);

    /* The fields are those of the bytes, accepted or not. */
    check_fields(data, &rep);
    CHECK(rep.trailing_len == tlen);
    if (st == CVMA_OK) {
        check_json(data, &rep);
    }
out:
    (void)cvma_verdict_finish(&v);
    cvma_verdict_cleanup(&v);
    return 0;
}
