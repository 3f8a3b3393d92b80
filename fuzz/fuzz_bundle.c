/*
 * libFuzzer target: evidence input (verifier/bundle.c): bundle JSON, hex and base64 text,
 * binary; then the kind detection and the explanation of unknown bytes. Whatever is accepted
 * must have exactly one evidence part, collateral parts with known names and TPM parts with
 * known roles (tpm_quote, event_log, ...).
 *
 * What is given back is checked against a reading here: a bundle's parts (order, role, name,
 * data) against jansson's reading of the same JSON with the data's base64 decoded here
 * (strict RFC 4648 §4); a bare input's bytes against the input itself or its hex / base64
 * decoded here; the kind against the bundle's "kind" or against the detection rules by hand
 * (docs/bundle.md, kinds.c's order: azure-snp, azure-tdx, tdx, sev-snp, tpm; svsm-vtpm is
 * never detected).
 *
 * A refusal is checked too: never of an input docs/bundle.md says must be read, by a reading
 * here (bare bytes, hex text with or without 0x, base64 text of either alphabet; a bundle
 * read with jansson: its members, roles, names and canonical base64 data). And the reverse for
 * bundles: a bundle that is read is one that docs/bundle.md says must be read, so valid JSON
 * outside its rules (a "name" of any type on an evidence or TPM part, an evidence part over
 * 1 MiB, a tpm_quote standing for the evidence of another kind, a tpm_quote beside the evidence
 * part of a bundle of kind tpm) is refused.
 *
 * Bytes of no kind are explained as PARSE_UNKNOWN_VERSION only where the unknown-version rules
 * by hand hold (docs/cli.md), and bytes where they hold are never called bytes of no kind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_check.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first byte after JSON whitespace is '{' and "key" (quoted) occurs from there on. */
static bool has_key(const uint8_t *p, size_t n, const char *key)
{
    size_t i = 0, kl = strlen(key);
    while (i < n && ws(p[i])) {
        i++;
    }
    if (i == n || p[i] != '{') {
        return false;
    }
    for (; n - i >= kl + 2; i++) {
        if (p[i] == '"' && memcmp(p + i + 1, key, kl) == 0 && p[i + 1 + kl] == '"') {
            return true;
        }
    }
    return false;
}

/* The detection rules by hand, in the table's order. */
static const struct cvma_kind *detect(const uint8_t *p, size_t n)
{
    if (n >= 4 && memcmp(p, "HCLA", 4) == 0) {
        /* the runtime data header's report type (offset 32 + 1,184 + 8), 0 when cut short */
        uint32_t t = n >= 1228 ? fz_le32(p + 1224) : 0;
        return t == 4 ? &cvma_kind_azure_tdx : &cvma_kind_azure_snp;
    }
    if (n <= (8u << 20) && has_key(p, n, "hcl_report") && has_key(p, n, "tpm_quote") &&
        !has_key(p, n, "cvmattest_bundle")) {
        return has_key(p, n, "td_quote") ? &cvma_kind_azure_tdx : &cvma_kind_azure_snp;
    }
    if (n >= 8 && (p[0] | p[1] << 8) >= 4 && (p[0] | p[1] << 8) <= 5 && fz_le32(p + 4) == 0x81) {
        return &cvma_kind_tdx;
    }
    if (n >= 4 && fz_le32(p) >= 2 && fz_le32(p) <= 5) {
        return &cvma_kind_snp;
    }
    if ((n >= 6 && memcmp(p, "\xff\x54\x43\x47", 4) == 0) ||
        (n >= 8 && memcmp(p + 2, "\xff\x54\x43\x47", 4) == 0)) {
        return &cvma_kind_tpm;
    }
    return NULL;
}

/* The unknown-version rules by hand (docs/cli.md): an SEV-SNP report of exactly 0x4A0 bytes,
 * version not 2..5, signature algorithm 1 at 0x34, zeros at 0x2D0..0x2E7, 0x318..0x32F
 * and 0x330..0x49F; or a quote header of version not 4 or 5, key type 2, TEE type 0x81 and
 * Intel's QE vendor ID. */
static bool unknown_version(const uint8_t *p, size_t n)
{
    static const uint8_t intel[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                      0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};
    if (n == 0x4A0 && (fz_le32(p) < 2 || fz_le32(p) > 5) && fz_le32(p + 0x34) == 1) {
        bool zero = true;
        for (size_t i = 0x2D0; i < 0x4A0; i++) {
            zero = zero && (p[i] == 0 || (i >= 0x2E8 && i < 0x318));
        }
        return zero;
    }
    unsigned ver = n >= 2 ? (unsigned)(p[0] | p[1] << 8) : 0;
    return n >= 0x1C && ver != 4 && ver != 5 && p[2] == 2 && p[3] == 0 && fz_le32(p + 4) == 0x81 &&
           memcmp(p + 0x0C, intel, sizeof intel) == 0;
}

/* Strict base64 (fz_b64_decode: std padded, url never padded) into a new buffer. */
static uint8_t *b64(const char *s, size_t n, bool url, size_t *out_len)
{
    uint8_t *out = malloc(n + 1);
    long k = out != NULL ? fz_b64_decode((const uint8_t *)s, n, url, out, n + 1) : -1;
    if (k < 0) {
        free(out);
        return NULL;
    }
    *out_len = (size_t)k;
    return out;
}

static int hexv(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* An even, non-zero number of hex digits. */
static bool hex_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (hexv(s[i]) < 0) {
            return false;
        }
    }
    return n > 0 && n % 2 == 0;
}

/* Strict base64 of at least one byte (standard padded, else URL-safe unpadded). */
static bool b64_text(const char *s, size_t n)
{
    size_t dl = 0;
    uint8_t *d = b64(s, n, false, &dl);
    if (d == NULL) {
        d = b64(s, n, true, &dl);
    }
    free(d);
    return d != NULL && dl > 0;
}

/*
 * Whether docs/bundle.md says a one-part input must be read (not JSON, which auto reads as a
 * bundle): bin any bytes; auto bytes that are not text (printable ASCII and whitespace) or a
 * PEM block, or text that is hex (an 0x prefix allowed) or base64 (either alphabet); hex and
 * base64 text of their own form. Whitespace is dropped from text. Auto refuses input that
 * starts with a UTF-8 byte order mark (EF BB BF), which no evidence does.
 */
static bool bare_must_read(const uint8_t *p, size_t n, enum cvma_inform inform)
{
    size_t i = 0, tl = 0;
    bool text = true, ok = false;
    while (i < n && ws(p[i])) {
        i++;
    }
    if (n == 0 || n > CVMA_EVIDENCE_MAX || (inform == CVMA_INFORM_AUTO && i < n && p[i] == '{') ||
        (inform == CVMA_INFORM_AUTO && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)) {
        return false;
    }
    if (inform == CVMA_INFORM_BIN) {
        return true;
    }
    char *t = malloc(n + 1);
    CHECK(t != NULL);
    for (size_t k = 0; k < n; k++) {
        if (!ws(p[k])) {
            text = text && p[k] >= 0x21 && p[k] <= 0x7e;
            t[tl++] = (char)p[k];
        }
    }
    bool pem = n - i >= 10 && memcmp(p + i, "-----BEGIN", 10) == 0;
    if (!text || pem) {
        ok = inform == CVMA_INFORM_AUTO;
    } else {
        const char *h = t;
        size_t hl = tl;
        if (hl >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X')) {
            h += 2;
            hl -= 2;
        }
        ok = (inform != CVMA_INFORM_BASE64 && hex_text(h, hl)) ||
             (inform != CVMA_INFORM_HEX && b64_text(t, tl));
    }
    free(t);
    return ok;
}

/* Collateral names (docs/bundle.md, docs/collateral.md). */
static bool doc_collateral_name(const char *s)
{
    static const char *const names[] = {
            "vcek.der",
            "vcek.pem",
            "vlek.der",
            "vlek.pem",
            "ask.pem",
            "asvk.pem",
            "ark.pem",
            "cert_chain.pem",
            "crl.der",
            "tcb_info.json",
            "tcb_info.sig.hex",
            "qe_identity.json",
            "qe_identity.sig.hex",
            "tcb_info_issuer_chain.pem",
            "qe_identity_issuer_chain.pem",
            "pck_crl.der",
            "root_ca_crl.der",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Whether the input is a bundle as docs/bundle.md describes it, read with jansson alone:
 * "cvmattest_bundle": 1, "kind" absent or one of the documented names, 1..64 parts of "role",
 * "data" (canonical padded base64 of at least one byte) and, for collateral only, a "name" of
 * the list; one evidence part of at most 1 MiB (a bundle of kind tpm, or of no kind, may
 * have a tpm_quote of at most 1 MiB instead, and has no tpm_quote besides an evidence part),
 * each TPM role and collateral name at most once; no other member. Such a bundle must be read,
 * and no other is.
 */
static bool bundle_must_read(const uint8_t *p, size_t n)
{
    static const char *const roles[] = {"tpm_quote", "tpm_pcrs",  "tpm_signature",
                                        "tpm_ak",    "event_log", "svsm_manifest"};
    static const char *const kinds[] = {"sev-snp",   "snp",       "tdx",      "tpm",
                                        "azure-snp", "azure-tdx", "svsm-vtpm"};
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL), *val;
    const json_t *parts = json_object_get(j, "parts"), *kind = json_object_get(j, "kind");
    const char *key, *seen[64];
    size_t n_seen = 0, n_evidence = 0, quote_len = 0;
    const struct cvma_kind *evidence_kind = NULL; /* detected from the evidence part */
    bool ok = n <= CVMA_BUNDLE_MAX && json_is_object(j) &&
              json_is_integer(json_object_get(j, "cvmattest_bundle")) &&
              json_integer_value(json_object_get(j, "cvmattest_bundle")) == 1 &&
              json_is_array(parts) && json_array_size(parts) >= 1 && json_array_size(parts) <= 64,
         quote = false, known_kind = kind == NULL;
    json_object_foreach(j, key, val)
    {
        ok = ok && (strcmp(key, "cvmattest_bundle") == 0 || strcmp(key, "kind") == 0 ||
                    strcmp(key, "parts") == 0);
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && kind != NULL; i++) {
        known_kind = known_kind ||
                     (json_is_string(kind) && strcmp(json_string_value(kind), kinds[i]) == 0);
    }
    ok = ok && known_kind;
    for (size_t i = 0; ok && i < json_array_size(parts); i++) {
        json_t *pt = json_array_get(parts, i);
        const json_t *jn = json_object_get(pt, "name"), *jd = json_object_get(pt, "data");
        const char *role = json_string_value(json_object_get(pt, "role")), *id = NULL;
        size_t dl = 0;
        json_object_foreach(pt, key, val)
        {
            ok = ok &&
                 (strcmp(key, "role") == 0 || strcmp(key, "name") == 0 || strcmp(key, "data") == 0);
        }
        uint8_t *d = json_is_string(jd)
                             ? b64(json_string_value(jd), json_string_length(jd), false, &dl)
                             : NULL;
        const struct cvma_kind *dk = d != NULL ? detect(d, dl) : NULL;
        free(d);
        ok = ok && json_is_object(pt) && role != NULL && d != NULL && dl > 0;
        if (!ok) {
            break;
        }
        if (strcmp(role, "evidence") == 0) {
            ok = jn == NULL && dl <= CVMA_EVIDENCE_MAX;
            n_evidence++;
            evidence_kind = dk;
        } else if (strcmp(role, "collateral") == 0) {
            ok = json_is_string(jn) && doc_collateral_name(json_string_value(jn));
            id = json_string_value(jn);
        } else {
            ok = jn == NULL;
            for (size_t k = 0; k < sizeof roles / sizeof roles[0]; k++) {
                id = strcmp(role, roles[k]) == 0 ? role : id;
            }
            ok = ok && id != NULL;
            if (id != NULL && strcmp(id, "tpm_quote") == 0) {
                quote = true;
                quote_len = dl;
            }
        }
        for (size_t k = 0; ok && id != NULL && k < n_seen; k++) {
            ok = strcmp(seen[k], id) != 0;
        }
        if (id != NULL) {
            seen[n_seen++] = id;
        }
    }
    ok = ok && (n_evidence == 1 || (n_evidence == 0 && quote && quote_len <= CVMA_EVIDENCE_MAX &&
                                    (kind == NULL || strcmp(json_string_value(kind), "tpm") == 0)));
    /* kind tpm (named, or detected from the evidence part) with a tpm_quote besides: refused */
    ok = ok && !(n_evidence == 1 && quote &&
                 (kind == NULL ? evidence_kind == &cvma_kind_tpm
                               : strcmp(json_string_value(kind), "tpm") == 0));
    json_decref(j);
    return ok;
}

static void check_bundle_parts(const uint8_t *p, size_t n, const struct cvma_evidence *ev)
{
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
    const json_t *parts = json_object_get(j, "parts"), *kind = json_object_get(j, "kind");
    size_t evidence = SIZE_MAX, quote = SIZE_MAX;
    CHECK(json_is_object(j) && json_integer_value(json_object_get(j, "cvmattest_bundle")) == 1);
    CHECK(json_is_array(parts) && json_array_size(parts) == ev->n_parts);
    for (size_t i = 0; i < ev->n_parts; i++) {
        const json_t *pt = json_array_get(parts, i), *jr = json_object_get(pt, "role"),
                     *jn = json_object_get(pt, "name"), *jd = json_object_get(pt, "data");
        const struct cvma_bundle_part *got = &ev->parts[i];
        const char *role = json_string_value(jr);
        size_t dl = 0;
        CHECK(role != NULL && json_is_string(jd));
        if (strcmp(role, "evidence") == 0) {
            CHECK(got->role == CVMA_PART_EVIDENCE && got->name == NULL && jn == NULL);
            CHECK(evidence == SIZE_MAX);
            evidence = i;
        } else if (strcmp(role, "collateral") == 0) {
            CHECK(got->role == CVMA_PART_COLLATERAL && json_is_string(jn));
            CHECK(strcmp(got->name, json_string_value(jn)) == 0);
        } else {
            CHECK(got->role == CVMA_PART_TPM && jn == NULL && strcmp(got->name, role) == 0);
            quote = strcmp(role, "tpm_quote") == 0 ? i : quote;
        }
        uint8_t *d = b64(json_string_value(jd), json_string_length(jd), false, &dl);
        CHECK(d != NULL && dl > 0 && dl == got->data.len && memcmp(d, got->data.p, dl) == 0);
        free(d);
    }
    CHECK(ev->evidence_idx == (evidence != SIZE_MAX ? evidence : quote));
    if (kind != NULL) {
        CHECK(ev->kind != NULL && json_is_string(kind) &&
              ev->kind == cvma_kind_by_name(json_string_value(kind)));
    }
    json_decref(j);
}

/* A one-part input: its bytes as given, or its text decoded as hex or base64 here. */
static void check_bare(const uint8_t *p, size_t n, enum cvma_inform inform,
                       const struct cvma_evidence *ev)
{
    const struct cvma_bundle_part *e = &ev->parts[0];
    char *t = malloc(n + 1);
    size_t tl = 0, i = 0, dl = 0;
    bool text = true;
    CHECK(ev->n_parts == 1 && ev->evidence_idx == 0 && e->role == CVMA_PART_EVIDENCE);
    CHECK(t != NULL);
    for (size_t k = 0; k < n; k++) {
        if (!ws(p[k])) {
            text = text && p[k] >= 0x21 && p[k] <= 0x7e;
            t[tl++] = (char)p[k];
        }
    }
    while (i < n && ws(p[i])) {
        i++;
    }
    bool pem = n - i >= 10 && memcmp(p + i, "-----BEGIN", 10) == 0;
    bool json_kind = inform == CVMA_INFORM_AUTO && i < n && p[i] == '{';
    if (inform == CVMA_INFORM_BIN || !text || pem || json_kind) {
        CHECK(e->data.len == n && memcmp(e->data.p, p, n) == 0);
        free(t);
        return;
    }
    /* hex: an 0x prefix allowed; base64: the text as it is */
    const char *h = t;
    size_t hl = tl;
    if (hl >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') && inform != CVMA_INFORM_BASE64) {
        h += 2;
        hl -= 2;
    }
    bool hex = hex_text(h, hl);
    if (inform == CVMA_INFORM_HEX || (inform == CVMA_INFORM_AUTO && hex)) {
        CHECK(hex && e->data.len == hl / 2);
        for (size_t k = 0; k < hl / 2; k++) {
            CHECK(e->data.p[k] == (hexv(h[2 * k]) << 4 | hexv(h[2 * k + 1])));
        }
        free(t);
        return;
    }
    uint8_t *d = b64(t, tl, false, &dl);
    if (d == NULL) {
        d = b64(t, tl, true, &dl);
    }
    CHECK(d != NULL && dl > 0 && dl == e->data.len && memcmp(d, e->data.p, dl) == 0);
    free(d);
    free(t);
}

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
    enum cvma_status st = cvma_evidence_from_bytes(data, size, inform, &ev, err, sizeof err);
    if (st != CVMA_OK) {
        if (ev != NULL || strnlen(err, sizeof err) >= sizeof err) {
            abort();
        }
        /* refused: never what the doc says must be read (a lack of memory aside) */
        CHECK(st == CVMA_E_NOMEM || !bare_must_read(data, size, inform));
        CHECK(st == CVMA_E_NOMEM || inform != CVMA_INFORM_AUTO || !bundle_must_read(data, size));
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
    const struct cvma_kind *want = detect(b.p, b.len);
    CHECK(cvma_kind_detect(b.p, b.len) == want);
    if (ev->from_bundle) {
        /* read: then docs/bundle.md says it must be (over-acceptance is a bug too) */
        CHECK(inform == CVMA_INFORM_AUTO && bundle_must_read(data, size));
        check_bundle_parts(data, size, ev);
        json_t *j = json_loadb((const char *)data, size, 0, NULL);
        /* no kind: detected from the evidence part, and a tpm_quote standing for it is kind tpm */
        CHECK(json_object_get(j, "kind") != NULL ||
              ev->kind == (n_evidence == 1 ? want : &cvma_kind_tpm));
        json_decref(j);
    } else {
        check_bare(data, size, inform, ev);
        CHECK(ev->kind == want);
    }
    if (want == NULL) {
        /* PARSE_UNKNOWN_VERSION only by the rules; bytes of those shapes are named as
         * something (an unknown version, SGX, PEM), never as bytes of no known kind */
        enum cvma_reason code = cvma_kind_explain_unknown(b.p, b.len, why, sizeof why);
        CHECK(code == CVMA_R_PARSE_UNKNOWN_FORMAT || code == CVMA_R_PARSE_UNKNOWN_VERSION);
        CHECK(code != CVMA_R_PARSE_UNKNOWN_VERSION || unknown_version(b.p, b.len));
        CHECK(!unknown_version(b.p, b.len) || strstr(why, "that are neither") == NULL);
    }
    cvma_evidence_free(ev);
    return 0;
}
