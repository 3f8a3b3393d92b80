/* Evidence bundles and evidence input forms: see verifier/bundle.h and docs/bundle.md. */
#include "verifier/bundle.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "azure/azure.h"
#include "common/allocfail.h"
#include "common/base64.h"
#include "common/hex.h"
#include "common/jcheck.h"
#include "common/json_out.h"
#include "common/reader.h"

/* see verifier/bundle.h */
const char *const cvma_snp_collateral_names[] = {
        "vcek.der", "vcek.pem", "vlek.der",       "vlek.pem", "ask.pem",
        "asvk.pem", "ark.pem",  "cert_chain.pem", "crl.der",  NULL,
};
/* see verifier/bundle.h */
const char *const cvma_tdx_collateral_names[] = {
        "tcb_info.json",       "tcb_info.sig.hex",          "qe_identity.json",
        "qe_identity.sig.hex", "tcb_info_issuer_chain.pem", "qe_identity_issuer_chain.pem",
        "pck_crl.der",         "root_ca_crl.der",           NULL,
};

/* Every collateral name, the SEV-SNP ones then the TDX ones, by i from 0; NULL past the end. */
static const char *collateral_name(size_t i)
{
    const size_t n_snp = CVMA_ARRAY_LEN(cvma_snp_collateral_names) - 1;
    const size_t n_tdx = CVMA_ARRAY_LEN(cvma_tdx_collateral_names) - 1;
    return i < n_snp           ? cvma_snp_collateral_names[i]
           : i < n_snp + n_tdx ? cvma_tdx_collateral_names[i - n_snp]
                               : NULL;
}

/* see verifier/bundle.h */
const char *cvma_snp_collateral_read_instead(const char *name, int vlek,
                                             bool (*has)(const void *ctx, const char *name),
                                             const void *ctx)
{
    if (strcmp(name, "vcek.pem") == 0 && vlek != 1 && has(ctx, "vcek.der")) {
        return "its vcek.der is read instead";
    }
    if (strcmp(name, "vlek.pem") == 0 && vlek != 0 && has(ctx, "vlek.der")) {
        return "its vlek.der is read instead";
    }
    if (strcmp(name, "cert_chain.pem") == 0 && has(ctx, "ark.pem")) {
        if (vlek != 1 && has(ctx, "ask.pem")) {
            return "its ask.pem and ark.pem are read instead";
        }
        if (vlek != 0 && has(ctx, "asvk.pem")) {
            return "its asvk.pem and ark.pem are read instead";
        }
    }
    return NULL;
}

/* see verifier/bundle.h */
bool cvma_collateral_name_in(const char *const *names, const char *name)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        if (strcmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

static const char *const tpm_roles[] = {"tpm_quote", "tpm_signature", "tpm_ak",
                                        "tpm_pcrs",  "event_log",     "svsm_manifest"};

bool cvma_bundle_tpm_role_ok(const char *role)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(tpm_roles); i++) {
        if (strcmp(role, tpm_roles[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool cvma_bundle_collateral_name_ok(const char *name)
{
    return cvma_collateral_name_in(cvma_snp_collateral_names, name) ||
           cvma_collateral_name_in(cvma_tdx_collateral_names, name);
}

struct cvma_span cvma_evidence_bytes(const struct cvma_evidence *ev)
{
    const struct cvma_bundle_part *pt = &ev->parts[ev->evidence_idx];
    struct cvma_span s = {pt->data.p, pt->data.len};
    return s;
}

/* see cvmattest/cvmattest.h */
enum cvma_evidence_kind cvma_evidence_kind(const struct cvma_evidence *ev)
{
    return ev != NULL && ev->kind != NULL ? ev->kind->id : CVMA_KIND_AUTO;
}

/* Drops what an earlier verification prepared from the parts (when parts are added: it was
 * prepared without them, and would otherwise be used in their place). */
static void forget_prepared(struct cvma_evidence *ev)
{
    struct cvma_evidence_memo *m = ev->memo;
    pthread_mutex_lock(&m->lock);
    if (m->prepared != NULL && m->kind != NULL) {
        m->kind->prepared_free(m->prepared);
    }
    m->prepared = NULL;
    m->kind = NULL;
    m->done = false;
    pthread_mutex_unlock(&m->lock);
}

/* see cvmattest/cvmattest.h */
void cvma_evidence_free(struct cvma_evidence *ev)
{
    if (ev == NULL) {
        return;
    }
    if (ev->memo != NULL) {
        forget_prepared(ev);
        pthread_mutex_destroy(&ev->memo->lock);
        free(ev->memo);
    }
    for (size_t i = 0; i < ev->n_parts; i++) {
        free(ev->parts[i].name);
        cvma_buf_free(&ev->parts[i].data);
    }
    free(ev->parts);
    free(ev->coll);
    free(ev);
}

const void *cvma_evidence_prepared(const struct cvma_evidence *ev, const struct cvma_kind *k,
                                   const struct cvma_verify_opts *opts)
{
    struct cvma_evidence_memo *m = ev->memo;
    const void *out = NULL;
    if (m == NULL || ev->n_coll == 0 || k->prepare == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    if (!m->done) {
        struct cvma_span b = cvma_evidence_bytes(ev);
        void *prepared = k->prepare(b.p, b.len, opts);
        if (cvma_allocfail_since_begin()) {
            /* Prepared while an allocation failed: not kept, so that the next call, which
             * memory may allow, prepares it afresh (common/allocfail.h). This call goes on
             * without it, and its verification answers out of memory. */
            if (prepared != NULL) {
                k->prepared_free(prepared);
            }
        } else {
            m->kind = k;
            m->prepared = prepared;
            m->done = true;
        }
    }
    if (m->done && m->kind == k) {
        out = m->prepared;
    }
    pthread_mutex_unlock(&m->lock);
    return out;
}

static struct cvma_evidence *evidence_alloc(void)
{
    struct cvma_evidence *ev = calloc(1, sizeof *ev);
    if (ev == NULL) {
        return NULL;
    }
    if ((ev->memo = calloc(1, sizeof *ev->memo)) == NULL ||
        pthread_mutex_init(&ev->memo->lock, NULL) != 0) {
        free(ev->memo);
        free(ev);
        return NULL;
    }
    return ev;
}

static enum cvma_status add_part(struct cvma_evidence *ev, enum cvma_part_role role,
                                 const char *name, struct cvma_buf *data)
{
    struct cvma_bundle_part *np = realloc(ev->parts, (ev->n_parts + 1) * sizeof *np);
    if (np == NULL) {
        return CVMA_E_NOMEM;
    }
    ev->parts = np;
    struct cvma_bundle_part *pt = &ev->parts[ev->n_parts];
    memset(pt, 0, sizeof *pt);
    if (name != NULL && (pt->name = strdup(name)) == NULL) {
        return CVMA_E_NOMEM;
    }
    pt->role = role;
    pt->data = *data;
    data->p = NULL;
    data->len = 0;
    ev->n_parts++;
    return CVMA_OK;
}

/* Rebuilds the collateral view after parts were added. */
static enum cvma_status index_parts(struct cvma_evidence *ev)
{
    size_t n = 0;
    free(ev->coll);
    ev->coll = NULL;
    ev->n_coll = 0;
    for (size_t i = 0; i < ev->n_parts; i++) {
        n += ev->parts[i].role != CVMA_PART_EVIDENCE;
    }
    if (n == 0) {
        return CVMA_OK;
    }
    if ((ev->coll = calloc(n, sizeof *ev->coll)) == NULL) {
        return CVMA_E_NOMEM;
    }
    for (size_t i = 0; i < ev->n_parts; i++) {
        const struct cvma_bundle_part *pt = &ev->parts[i];
        if (pt->role != CVMA_PART_EVIDENCE) {
            struct cvma_named_part *c = &ev->coll[ev->n_coll++];
            c->name = pt->name;
            c->data.p = pt->data.p;
            c->data.len = pt->data.len;
            c->own = pt->own;
        }
    }
    return CVMA_OK;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Text with whitespace removed, when every byte is printable ASCII or whitespace: CVMA_OK;
 * CVMA_REJECTED when a byte is not; CVMA_E_NOMEM (never read as "not text"). */
static enum cvma_status text_compact(const uint8_t *p, size_t len, char **out, size_t *out_len)
{
    struct cvma_reader r;
    uint8_t c;
    char *s = malloc(len + 1);
    size_t n = 0;
    *out = NULL;
    if (s == NULL) {
        return CVMA_E_NOMEM;
    }
    cvma_reader_init(&r, p, len);
    while (cvma_reader_u8(&r, &c)) {
        if (is_space(c)) {
            continue;
        }
        if (c < 0x21 || c > 0x7e) {
            free(s);
            return CVMA_REJECTED;
        }
        s[n++] = (char)c;
    }
    s[n] = '\0';
    *out = s;
    *out_len = n;
    return CVMA_OK;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return n > 0 && n % 2 == 0;
}

/* Decodes text evidence: hex (optionally 0x-prefixed), base64 or base64url. The prefix
 * belongs to hex only: base64 text that starts with "0x" is decoded as it is. */
static enum cvma_status decode_text(const char *text, size_t text_len, enum cvma_inform inform,
                                    struct cvma_buf *out, char *err, size_t err_len)
{
    const char *s = text;
    size_t n = text_len;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && inform != CVMA_INFORM_BASE64) {
        s += 2;
        n -= 2;
    }
    if (inform == CVMA_INFORM_HEX || (inform == CVMA_INFORM_AUTO && all_hex(s, n))) {
        if (!all_hex(s, n)) {
            cvma_errf(err, err_len, "--inform hex: the input is not an even number of hex digits");
            return CVMA_E_USAGE;
        }
        if ((out->p = malloc(n / 2)) == NULL) {
            return CVMA_E_NOMEM;
        }
        char *z = malloc(n + 1);
        if (z == NULL) {
            cvma_buf_free(out);
            return CVMA_E_NOMEM;
        }
        memcpy(z, s, n);
        z[n] = '\0';
        bool ok = cvma_hex_decode(z, out->p, n / 2, &out->len);
        free(z);
        if (!ok) {
            cvma_buf_free(out);
            cvma_errf(err, err_len, "the input is not valid hex");
            return CVMA_E_USAGE;
        }
        return CVMA_OK;
    }
    enum cvma_status st = cvma_base64_decode_buf(text, text_len, CVMA_B64_STD, out);
    if (st == CVMA_REJECTED) {
        st = cvma_base64_decode_buf(text, text_len, CVMA_B64_URL, out);
    }
    if (st == CVMA_REJECTED) {
        cvma_errf(err, err_len,
                  inform == CVMA_INFORM_BASE64
                          ? "--inform base64: the input is not valid base64"
                          : "the input is text, but neither hex nor base64 of evidence "
                            "(nor a bundle: docs/bundle.md)");
        return CVMA_E_USAGE;
    }
    if (st == CVMA_OK && out->len == 0) {
        cvma_buf_free(out);
        cvma_errf(err, err_len, "the input decodes to no bytes");
        return CVMA_E_USAGE;
    }
    return st;
}

static enum cvma_status parse_bundle(struct cvma_evidence *ev, const uint8_t *p, size_t len,
                                     char *err, size_t err_len)
{
    json_error_t je;
    enum cvma_status st = CVMA_E_USAGE;
    bool oom;
    json_t *j = cvma_json_loadb_capped(p, len, CVMA_JSON_EVIDENCE_MAX_VALUES, &je, &oom);
    bool have_evidence = false;
    const char *kind = NULL;

    if (oom) {
        return CVMA_E_NOMEM;
    }
    if (j == NULL) {
        cvma_errf(err, err_len, "bundle: not JSON (line %d: %s)", je.line, je.text);
        return CVMA_E_USAGE;
    }
    json_t *ver = json_object_get(j, "cvmattest_bundle");
    json_t *parts = json_object_get(j, "parts");
    json_t *jk = json_object_get(j, "kind");
    if (!json_is_object(j) || !json_is_integer(ver)) {
        /* JSON evidence of its own kind (Azure's, Trustee's form) was looked for before. */
        cvma_errf(err, err_len,
                  "bundle: a JSON object with \"cvmattest_bundle\": 1 expected (JSON evidence "
                  "is a bundle, or Azure evidence as Trustee gives it, with \"hcl_report\" and "
                  "\"tpm_quote\")");
        goto out;
    }
    if (json_integer_value(ver) != 1) {
        cvma_errf(err, err_len, "bundle: format version %lld is not known (1 is)",
                  (long long)json_integer_value(ver));
        goto out;
    }
    if (!json_is_array(parts) || json_array_size(parts) == 0 ||
        json_array_size(parts) > CVMA_BUNDLE_MAX_PARTS) {
        cvma_errf(err, err_len, "bundle: \"parts\" must be an array of 1..%u parts",
                  CVMA_BUNDLE_MAX_PARTS);
        goto out;
    }
    if (jk != NULL) {
        if (!json_is_string(jk)) {
            cvma_errf(err, err_len, "bundle: \"kind\" must be a string");
            goto out;
        }
        kind = json_string_value(jk);
        if ((ev->kind = cvma_kind_by_name(kind)) == NULL) {
            cvma_errf(err, err_len, "bundle: evidence kind '%s' is not known", kind);
            goto out;
        }
        ev->kind_named = true;
    }
    const char *key;
    json_t *val;
    json_object_foreach(j, key, val)
    {
        if (strcmp(key, "cvmattest_bundle") != 0 && strcmp(key, "kind") != 0 &&
            strcmp(key, "parts") != 0) {
            cvma_errf(err, err_len, "bundle: unknown member \"%s\"", key);
            goto out;
        }
    }
    for (size_t i = 0; i < json_array_size(parts); i++) {
        json_t *pt = json_array_get(parts, i);
        const char *role = json_string_value(json_object_get(pt, "role"));
        /* jn, not only its string: a "name" of another type is a member all the same */
        const json_t *jn = json_object_get(pt, "name");
        const char *name = json_string_value(jn);
        const char *data = json_string_value(json_object_get(pt, "data"));
        struct cvma_buf b = {0};
        enum cvma_part_role r;

        if (!json_is_object(pt) || role == NULL || data == NULL) {
            cvma_errf(err, err_len, "bundle: part %zu needs string \"role\" and \"data\"", i);
            goto out;
        }
        json_object_foreach(pt, key, val)
        {
            if (strcmp(key, "role") != 0 && strcmp(key, "name") != 0 && strcmp(key, "data") != 0) {
                cvma_errf(err, err_len, "bundle: part %zu: unknown member \"%s\"", i, key);
                goto out;
            }
        }
        if (strcmp(role, "evidence") == 0) {
            if (have_evidence) {
                cvma_errf(err, err_len, "bundle: more than one \"evidence\" part");
                goto out;
            }
            if (jn != NULL) {
                cvma_errf(err, err_len,
                          "bundle: part %zu: the evidence part takes no \"name\" (only collateral "
                          "is named)",
                          i);
                goto out;
            }
            r = CVMA_PART_EVIDENCE;
        } else if (strcmp(role, "collateral") == 0) {
            if (name == NULL || !cvma_bundle_collateral_name_ok(name)) {
                cvma_errf(err, err_len,
                          "bundle: part %zu: collateral needs a \"name\" of docs/collateral.md "
                          "(vcek.der, tcb_info.json, ...), not %s%s%s",
                          i, name ? "'" : "",
                          name         ? name
                          : jn != NULL ? "a JSON value other than a string"
                                       : "(none)",
                          name ? "'" : "");
                goto out;
            }
            for (size_t k = 0; k < ev->n_parts; k++) {
                if (ev->parts[k].name != NULL && strcmp(ev->parts[k].name, name) == 0) {
                    cvma_errf(err, err_len, "bundle: collateral '%s' given twice", name);
                    goto out;
                }
            }
            r = CVMA_PART_COLLATERAL;
        } else if (cvma_bundle_tpm_role_ok(role)) {
            if (jn != NULL) {
                cvma_errf(
                        err, err_len,
                        "bundle: part %zu: a %s part takes no \"name\" (only collateral is named)",
                        i, role);
                goto out;
            }
            for (size_t k = 0; k < ev->n_parts; k++) {
                if (ev->parts[k].name != NULL && strcmp(ev->parts[k].name, role) == 0) {
                    cvma_errf(err, err_len, "bundle: %s given twice", role);
                    goto out;
                }
            }
            name = role;
            r = CVMA_PART_TPM;
        } else {
            cvma_errf(err, err_len,
                      "bundle: part %zu: role '%s' is not supported by this version "
                      "(evidence, collateral, tpm_quote, tpm_signature, tpm_ak, tpm_pcrs, "
                      "event_log, svsm_manifest)",
                      i, role);
            goto out;
        }
        /* A TPM part's name is its role: said once ("part 0 (tpm_quote)"); a collateral
         * part says its name beside it ("part 2 (collateral vcek.der)"). */
        const char *shown = name != NULL && strcmp(name, role) != 0 ? name : NULL;
        if (data[0] == '\0') {
            cvma_errf(err, err_len, "bundle: part %zu (%s%s%s): \"data\" is empty", i, role,
                      shown ? " " : "", shown ? shown : "");
            st = CVMA_E_USAGE;
            goto out;
        }
        st = cvma_base64_decode_buf(data, strlen(data), CVMA_B64_STD, &b);
        if (st == CVMA_E_NOMEM) {
            goto out;
        }
        if (st != CVMA_OK || b.len == 0) {
            cvma_buf_free(&b);
            cvma_errf(err, err_len,
                      "bundle: part %zu (%s%s%s): \"data\" is not base64 of any "
                      "bytes",
                      i, role, shown ? " " : "", shown ? shown : "");
            st = CVMA_E_USAGE;
            goto out;
        }
        if (r == CVMA_PART_EVIDENCE && b.len > CVMA_EVIDENCE_MAX) {
            cvma_errf(err, err_len,
                      "bundle: part %zu (evidence): %zu bytes, over the %u an evidence part may "
                      "hold",
                      i, b.len, CVMA_EVIDENCE_MAX);
            cvma_buf_free(&b);
            st = CVMA_E_USAGE;
            goto out;
        }
        if (r == CVMA_PART_EVIDENCE) {
            ev->evidence_idx = ev->n_parts;
            have_evidence = true;
        }
        if ((st = add_part(ev, r, name, &b)) != CVMA_OK) {
            cvma_buf_free(&b);
            goto out;
        }
        st = CVMA_E_USAGE;
    }
    if (!have_evidence && (ev->kind == NULL || ev->kind->id == CVMA_KIND_TPM)) {
        /* A TPM quote bundle: the quote is the evidence, and the bundle is of kind tpm
         * whether it says so or not (docs/bundle.md). */
        for (size_t k = 0; k < ev->n_parts; k++) {
            if (ev->parts[k].role != CVMA_PART_TPM || strcmp(ev->parts[k].name, "tpm_quote") != 0) {
                continue;
            }
            if (ev->parts[k].data.len > CVMA_EVIDENCE_MAX) {
                cvma_errf(err, err_len,
                          "bundle: part %zu (tpm_quote, the evidence): %zu bytes, over the %u an "
                          "evidence part may hold",
                          k, ev->parts[k].data.len, CVMA_EVIDENCE_MAX);
                goto out;
            }
            ev->evidence_idx = k;
            ev->kind = &cvma_kind_tpm;
            have_evidence = true;
        }
    }
    if (!have_evidence) {
        cvma_errf(err, err_len,
                  "bundle: no \"evidence\" part (only a bundle of kind tpm, or of no kind, may "
                  "have a \"tpm_quote\" part instead)");
        goto out;
    }
    if (ev->parts[ev->evidence_idx].role == CVMA_PART_EVIDENCE) {
        /* Kind tpm verifies the quote in its evidence part and reads no tpm_quote (the kinds
         * that hold a vTPM quote beside a hardware report read it there): a tpm_quote part too
         * is a second quote that nothing would check or name, refused as a second evidence
         * part is. The kind is the bundle's, or the evidence's detected one when it has none. */
        struct cvma_span e = cvma_evidence_bytes(ev);
        const struct cvma_kind *bk = ev->kind != NULL ? ev->kind : cvma_kind_detect(e.p, e.len);
        for (size_t k = 0; bk != NULL && bk->id == CVMA_KIND_TPM && k < ev->n_parts; k++) {
            if (ev->parts[k].role == CVMA_PART_TPM && strcmp(ev->parts[k].name, "tpm_quote") == 0) {
                cvma_errf(err, err_len,
                          "bundle: part %zu (evidence) and part %zu (tpm_quote) each give the "
                          "quote of a bundle of kind tpm%s: the tpm_quote would not be checked; "
                          "give the quote once, as \"evidence\" or as \"tpm_quote\"",
                          ev->evidence_idx, k,
                          ev->kind != NULL ? "" : " (detected from the evidence part)");
                goto out;
            }
        }
    }
    ev->from_bundle = true;
    st = index_parts(ev);
out:
    json_decref(j);
    return st;
}

/* see cvmattest/cvmattest.h */
enum cvma_status cvma_evidence_from_bytes(const uint8_t *p, size_t len, enum cvma_inform inform,
                                          struct cvma_evidence **out, char *err, size_t err_len)
{
    struct cvma_evidence *ev = NULL;
    struct cvma_buf b = {0};
    char *text = NULL;
    size_t tlen = 0;
    enum cvma_status st = CVMA_E_USAGE;
    unsigned long failures = cvma_allocfail_count();
    cvma_allocfail_begin();

    *out = NULL;
    if (inform < CVMA_INFORM_AUTO || inform > CVMA_INFORM_BASE64) {
        cvma_errf(err, err_len, "inform %d is not a form of enum cvma_inform", (int)inform);
        return CVMA_E_USAGE;
    }
    if (len == 0) {
        cvma_errf(err, err_len, "the evidence is empty");
        return CVMA_E_USAGE;
    }
    if (len > CVMA_BUNDLE_MAX) {
        /* refused before anything is copied or decoded: no form of evidence is this large */
        cvma_errf(err, err_len,
                  "the input is %zu bytes, over the %u a bundle may hold (a bare report or quote "
                  "is at most %u bytes)",
                  len, CVMA_BUNDLE_MAX, CVMA_EVIDENCE_MAX);
        return CVMA_E_USAGE;
    }
    if ((ev = evidence_alloc()) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        return CVMA_E_NOMEM;
    }
    struct cvma_reader r;
    cvma_reader_init(&r, p, len);
    /* No report, quote or TPM structure begins so, and JSON text is sent without one (RFC
     * 8259 8.1): refused by name, not taken for binary evidence of no known kind. */
    if (inform == CVMA_INFORM_AUTO && cvma_reader_starts_with(&r, "\xEF\xBB\xBF")) {
        cvma_errf(err, err_len,
                  "the input starts with a UTF-8 byte order mark (EF BB BF): a bundle or JSON "
                  "evidence is JSON text without one (RFC 8259 8.1)");
        st = CVMA_E_USAGE;
        goto out;
    }
    cvma_reader_skip_ws(&r);
    bool json = cvma_reader_starts_with(&r, "{");
    /* JSON evidence of a kind of its own (Azure: Trustee's evidence) is the evidence part. */
    const struct cvma_kind *jk = NULL;
    if (inform == CVMA_INFORM_AUTO && json && len <= CVMA_EVIDENCE_MAX &&
        (jk = cvma_kind_detect(p, len)) != NULL) {
        if ((b.p = malloc(len)) == NULL) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        memcpy(b.p, p, len);
        b.len = len;
        ev->evidence_idx = 0;
        ev->kind = jk;
        if ((st = add_part(ev, CVMA_PART_EVIDENCE, NULL, &b)) != CVMA_OK) {
            goto out;
        }
    } else if (inform == CVMA_INFORM_AUTO && json) {
        if (cvma_azure_json_refused(p, len, CVMA_EVIDENCE_MAX, err, err_len)) {
            goto out;
        }
        if (len > CVMA_BUNDLE_MAX) {
            cvma_errf(err, err_len, "the bundle is over %u bytes", CVMA_BUNDLE_MAX);
            goto out;
        }
        if ((st = parse_bundle(ev, p, len, err, err_len)) != CVMA_OK) {
            goto out;
        }
    } else {
        /* PEM (a certificate, a key, a CRL) is kept as it is, so that the kind table can
         * name what it is rather than fail to decode it. */
        bool pem = cvma_reader_starts_with(&r, "-----BEGIN");
        enum cvma_status tst = CVMA_REJECTED;
        if (inform != CVMA_INFORM_BIN && !pem &&
            (tst = text_compact(p, len, &text, &tlen)) == CVMA_E_NOMEM) {
            st = tst;
            goto out;
        }
        if (tst == CVMA_OK) {
            if (tlen == 0) {
                cvma_errf(err, err_len, "the evidence is empty (whitespace only)");
                goto out;
            }
            if ((st = decode_text(text, tlen, inform, &b, err, err_len)) != CVMA_OK) {
                goto out;
            }
        } else if (inform == CVMA_INFORM_HEX || inform == CVMA_INFORM_BASE64) {
            cvma_errf(err, err_len, "--inform %s: the input is not text",
                      inform == CVMA_INFORM_HEX ? "hex" : "base64");
            goto out;
        } else {
            if ((b.p = malloc(len)) == NULL) {
                st = CVMA_E_NOMEM;
                goto out;
            }
            memcpy(b.p, p, len);
            b.len = len;
        }
        if (b.len > CVMA_EVIDENCE_MAX) {
            cvma_errf(err, err_len, "the evidence is over %u bytes", CVMA_EVIDENCE_MAX);
            st = CVMA_E_USAGE;
            goto out;
        }
        ev->evidence_idx = 0;
        if ((st = add_part(ev, CVMA_PART_EVIDENCE, NULL, &b)) != CVMA_OK) {
            goto out;
        }
    }
    if (ev->kind == NULL) {
        struct cvma_span e = cvma_evidence_bytes(ev);
        ev->kind = cvma_kind_detect(e.p, e.len);
    }
    *out = ev;
    ev = NULL;
    st = CVMA_OK;
out:
    if (cvma_allocfail_count() != failures) {
        /* jansson or OpenSSL could not allocate: what was read may lack a part, and a
         * refusal may be the lost allocation's (common/allocfail.h) */
        cvma_evidence_free(*out);
        *out = NULL;
        st = CVMA_E_NOMEM;
    }
    if (st == CVMA_E_NOMEM) {
        cvma_errf(err, err_len, "out of memory");
    }
    free(text);
    cvma_buf_free(&b);
    cvma_evidence_free(ev);
    return st;
}

/* Reads all of f (at most max bytes). */
static enum cvma_status read_stream(FILE *f, size_t max, struct cvma_buf *out)
{
    size_t cap = 0;
    out->p = NULL;
    out->len = 0;
    errno = 0;
    for (;;) {
        if (out->len == cap) {
            if (cap > max) {
                cvma_buf_free(out);
                errno = EFBIG;
                return CVMA_E_IO;
            }
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *np = realloc(out->p, ncap);
            if (np == NULL) {
                cvma_buf_free(out);
                return CVMA_E_NOMEM;
            }
            out->p = np;
            cap = ncap;
        }
        size_t n = fread(out->p + out->len, 1, cap - out->len, f);
        out->len += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f) || out->len > max) {
        int e = ferror(f) ? (errno != 0 ? errno : EIO) : EFBIG;
        cvma_buf_free(out);
        errno = e;
        return CVMA_E_IO;
    }
    return CVMA_OK;
}

/* see cvmattest/cvmattest.h */
enum cvma_status cvma_evidence_from_file(const char *path, enum cvma_inform inform,
                                         struct cvma_evidence **out, char *err, size_t err_len)
{
    struct cvma_buf b = {0};
    enum cvma_status st;

    *out = NULL;
    if (strcmp(path, "-") == 0) {
        st = read_stream(stdin, CVMA_BUNDLE_MAX, &b);
    } else {
        st = cvma_file_read(path, CVMA_BUNDLE_MAX, &b);
    }
    if (st == CVMA_E_IO) {
        char why[96];
        cvma_errf(err, err_len, "cannot read '%s': %s",
                  strcmp(path, "-") == 0 ? "standard input" : path,
                  cvma_file_read_why(errno, CVMA_BUNDLE_MAX, why, sizeof why));
        return st;
    }
    if (st != CVMA_OK) {
        cvma_errf(err, err_len, "out of memory");
        return st;
    }
    st = cvma_evidence_from_bytes(b.p, b.len, inform, out, err, err_len);
    cvma_buf_free(&b);
    return st;
}

/* True when a part named name was added from the verifier's own directory. */
static bool has_own_part(const struct cvma_evidence *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_parts; i++) {
        if (ev->parts[i].own && ev->parts[i].name != NULL && strcmp(ev->parts[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

/* see cvmattest/cvmattest.h */
enum cvma_status cvma_evidence_add_collateral_dir(struct cvma_evidence *ev, const char *dir,
                                                  char *err, size_t err_len)
{
    struct cvma_collateral_src src = {.dir = dir};
    enum cvma_status st = CVMA_OK;
    struct stat sb;

    /* Missing files are skipped; a missing directory is a mistake to name (as the
     * configuration's collateral_dir is), not an evidence without collateral. */
    if (dir == NULL) {
        cvma_errf(err, err_len, "no collateral directory given");
        return CVMA_E_USAGE;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cvma_errf(err, err_len, "collateral directory '%s' %s", dir,
                  stat(dir, &sb) != 0 ? "does not exist" : "is not a directory");
        return CVMA_E_USAGE;
    }

    const size_t n0 = ev->n_parts;
    const char *unread = NULL;
    const char *name;
    for (size_t i = 0; (name = collateral_name(i)) != NULL && st == CVMA_OK; i++) {
        struct cvma_buf b = {0};
        bool present = false;
        if (has_own_part(ev, name)) {
            continue; /* an earlier call's file of this name stays the one read */
        }
        /* Kept beside a bundle part of the same name, as the verifier's own: the SEV-SNP CRL
         * and the TDX items are then the directory's, the bundle's only where the verifier
         * has none (docs/collateral.md); for the SEV-SNP certificates the bundle's come first. */
        st = cvma_collateral_src_read_ex(&src, name, CVMA_BUNDLE_MAX, &b, &present);
        if (st == CVMA_E_IO && present) {
            /* a regular file there that cannot be read or is too large: given, so never taken
             * for missing (and fetched, or a CRL skipped, in its place) */
            unread = name;
            break;
        }
        if (st == CVMA_E_IO) {
            st = CVMA_OK; /* absent, or no regular file: missing */
            continue;
        }
        if (st == CVMA_OK && (st = add_part(ev, CVMA_PART_COLLATERAL, name, &b)) == CVMA_OK) {
            ev->parts[ev->n_parts - 1].own = true;
        }
        cvma_buf_free(&b);
    }
    if (st != CVMA_OK) {
        /* The evidence as it was: none of this call's parts stay. */
        for (size_t i = n0; i < ev->n_parts; i++) {
            free(ev->parts[i].name);
            cvma_buf_free(&ev->parts[i].data);
        }
        ev->n_parts = n0;
    }
    enum cvma_status ist = index_parts(ev);
    st = st != CVMA_OK ? st : ist;
    forget_prepared(ev);
    if (unread != NULL) {
        cvma_errf(err, err_len,
                  "collateral file '%s/%s' is there but cannot be read or is over %u bytes; what "
                  "is given is used as is, never taken for missing",
                  dir, unread, CVMA_BUNDLE_MAX);
    } else if (st != CVMA_OK) {
        cvma_errf(err, err_len, "reading collateral from %s failed%s", dir,
                  st == CVMA_E_NOMEM ? ": out of memory" : "");
    }
    return st;
}

/* True when the parts array being written (ctx) has a collateral part of this name. */
static bool part_written(const void *ctx, const char *name)
{
    const json_t *parts = ctx;
    for (size_t i = 0; i < json_array_size(parts); i++) {
        const char *n = json_string_value(json_object_get(json_array_get(parts, i), "name"));
        if (n != NULL && strcmp(n, name) == 0) {
            return true;
        }
    }
    return false;
}

/* see verifier/bundle.h */
enum cvma_status cvma_bundle_write(const char *path, const char *kind, const uint8_t *evidence,
                                   size_t len, const char *collateral_dir)
{
    json_t *j = json_object(), *parts = json_array();
    struct cvma_collateral_src src = {.dir = collateral_dir};
    enum cvma_status st = CVMA_E_NOMEM;
    char *b64 = NULL, *text = NULL;

    if (j == NULL || parts == NULL) {
        goto out;
    }
    if ((b64 = cvma_base64_encode(evidence, len, CVMA_B64_STD)) == NULL) {
        goto out;
    }
    if (json_object_set_new(j, "cvmattest_bundle", json_integer(1)) != 0 ||
        json_object_set_new(j, "kind", json_string(kind)) != 0 ||
        json_array_append_new(parts, json_pack("{s:s, s:s}", "role", "evidence", "data", b64)) !=
                0) {
        goto out;
    }
    const char *name;
    for (size_t i = 0; collateral_dir != NULL && (name = collateral_name(i)) != NULL; i++) {
        struct cvma_buf b = {0};
        /* Only what a verification reads: a second form of a certificate already written
         * would be named in each result as not checked. */
        if (cvma_snp_collateral_read_instead(name, -1, part_written, parts) != NULL) {
            continue;
        }
        enum cvma_status rs = cvma_collateral_src_read(&src, name, CVMA_BUNDLE_MAX, &b);
        if (rs == CVMA_E_IO) {
            continue;
        }
        if (rs != CVMA_OK) {
            goto out;
        }
        free(b64);
        b64 = cvma_base64_encode(b.p, b.len, CVMA_B64_STD);
        cvma_buf_free(&b);
        if (b64 == NULL ||
            json_array_append_new(parts, json_pack("{s:s, s:s, s:s}", "role", "collateral", "name",
                                                   name, "data", b64)) != 0) {
            goto out;
        }
    }
    if (json_object_set(j, "parts", parts) != 0 ||
        (text = cvma_json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL) {
        goto out;
    }
    size_t n = strlen(text);
    text[n] = '\0';
    st = cvma_file_write_atomic(path, (const uint8_t *)text, n);
out:
    free(text);
    free(b64);
    json_decref(parts);
    json_decref(j);
    return st;
}
