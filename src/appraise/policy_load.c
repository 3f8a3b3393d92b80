/*
 * Loading a policy (docs/policy.md): strict JSON. Every object's keys are checked against the
 * format; every value's type, length and range too. The first problem found is reported with
 * the path of the field ("snp.minimum_tcb.microcode: ...") and the policy is refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "appraise/policy_internal.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "common/reader.h"
#include "common/util.h"
#include "eventlog/eventlog.h"
#include "registry/registry.h"

const char *const cvma_pol_tdx_status_names[POL_TDX_N_STATUSES] = {
        "UpToDate",
        "SWHardeningNeeded",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
        "OutOfDate",
        "OutOfDateConfigurationNeeded",
        "TDRelaunchAdvised",
        "TDRelaunchAdvisedConfigurationNeeded",
};

static const char *const product_names[POL_N_PRODUCTS + 1] = {"Milan", "Genoa", "Turin", NULL};

struct ld {
    char *err;
    size_t errlen;
    bool oom;
};

static bool fail(struct ld *l, const char *fmt, ...) CVMA_PRINTF(2, 3);

/* The first error only; escaped (cvma_verrf): it may quote the policy's own text. */
static bool fail(struct ld *l, const char *fmt, ...)
{
    va_list ap;
    if (l->errlen > 0 && l->err[0] == '\0') {
        va_start(ap, fmt);
        cvma_verrf(l->err, l->errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* "path.key" into out. A path too long for out is cut: it still names where the field is
 * (paths are bounded by the format's nesting, so this does not happen with valid keys). */
static void join(char *out, size_t n, const char *path, const char *key)
{
    int k = snprintf(out, n, "%s%s%.64s", path, path[0] != '\0' ? "." : "", key);
    if (k < 0 && n > 0) {
        out[0] = '\0';
    }
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown JSON type";
}

/* What a value that should be a list of 1..POL_MAX_LIST is: an empty list, a list of too
 * many, or the JSON type it is (buf holds the text when needed). */
static const char *list_what(const json_t *j, char *buf, size_t len)
{
    if (!json_is_array(j)) {
        return type_name(j);
    }
    if (json_array_size(j) == 0) {
        return "an empty list";
    }
    snprintf(buf, len, "a list of %zu", json_array_size(j));
    return buf;
}

/* What a list value that cannot be used is, for a load error: its type when it is no list,
 * "an empty list", or "a list of N (at most MAX)" (max 0: no limit). buf holds the words. */
static const char *list_fault(const json_t *j, size_t max, char *buf, size_t len)
{
    if (!json_is_array(j)) {
        return type_name(j);
    }
    if (json_array_size(j) == 0) {
        return "an empty list";
    }
    snprintf(buf, len, "a list of %zu (at most %zu)", json_array_size(j), max);
    return buf;
}

/* Refuses any key of obj that is not in allowed (NULL-terminated). */
static bool check_keys(json_t *obj, const char *path, const char *const *allowed, struct ld *l)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL; i++) {
            if (strcmp(key, allowed[i]) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            char p[160];
            join(p, sizeof p, path, key);
            return fail(l, "%s: unknown field (see docs/policy.md for the fields of %s)", p,
                        path[0] ? path : "the top level");
        }
    }
    return true;
}

static bool want_object(const json_t *j, const char *path, struct ld *l)
{
    if (!json_is_object(j)) {
        return fail(l, "%s: expected an object, got %s", path, type_name(j));
    }
    return true;
}

/* A string without embedded NUL, 1..max bytes of UTF-8. */
static bool want_string(const json_t *j, const char *path, size_t max, struct ld *l)
{
    if (!json_is_string(j)) {
        return fail(l, "%s: expected a string, got %s", path, type_name(j));
    }
    size_t n = json_string_length(j);
    if (n == 0 || n > max || strlen(json_string_value(j)) != n) {
        return fail(l, "%s: expected a string of 1..%zu bytes (UTF-8) without NUL", path, max);
    }
    return true;
}

/* One provider name of a policy list (path names the entry: "required_providers[0]"). A name no
 * registry can carry ([A-Za-z0-9][A-Za-z0-9._-]{0,63}, docs/registry.md) is refused: it could
 * never match a binding, so the rule would quietly name nobody (in registry_log_required: no
 * provider's log would be required). The name is quoted escaped, as every error is (fail). */
static bool want_provider(const json_t *j, const char *path, const char *consequence, struct ld *l)
{
    if (!want_string(j, path, POL_MAX_STRING, l)) {
        return false;
    }
    if (!cvma_reg_provider_name_ok(json_string_value(j))) {
        return fail(l,
                    "%s: \"%.80s\" is not a provider name (1..%d characters of [A-Za-z0-9._-] "
                    "starting with a letter or digit, as a registry names its provider): %s",
                    path, json_string_value(j), CVMA_REG_PROVIDER_MAX, consequence);
    }
    return true;
}

static bool get_bool(const json_t *obj, const char *path, const char *key, int *out, struct ld *l)
{
    json_t *j = json_object_get(obj, key);
    if (j == NULL) {
        return true;
    }
    char p[160];
    join(p, sizeof p, path, key);
    if (!json_is_boolean(j)) {
        return fail(l, "%s: expected true or false, got %s", p, type_name(j));
    }
    *out = json_is_true(j) ? 1 : 0;
    return true;
}

static bool get_int(const json_t *obj, const char *path, const char *key, json_int_t min,
                    json_int_t max, bool *present, json_int_t *out, struct ld *l)
{
    json_t *j = json_object_get(obj, key);
    *present = false;
    if (j == NULL) {
        return true;
    }
    char p[160];
    join(p, sizeof p, path, key);
    if (!json_is_integer(j)) {
        return fail(l, "%s: expected an integer, got %s", p, type_name(j));
    }
    json_int_t v = json_integer_value(j);
    if (v < min || v > max) {
        return fail(l,
                    "%s: %" JSON_INTEGER_FORMAT " is out of range %" JSON_INTEGER_FORMAT
                    "..%" JSON_INTEGER_FORMAT,
                    p, v, min, max);
    }
    *present = true;
    *out = v;
    return true;
}

/* Exactly len bytes of hex (2*len digits, either case, no prefix). */
static bool decode_hex(const json_t *j, const char *path, size_t len, uint8_t *out, struct ld *l)
{
    if (!json_is_string(j)) {
        return fail(l, "%s: expected a hex string of %zu bytes, got %s", path, len, type_name(j));
    }
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    size_t got = 0;
    if (strlen(s) != n || n != 2 * len) {
        return fail(l, "%s: expected %zu hex digits (%zu bytes), got %zu characters", path, 2 * len,
                    len, n);
    }
    if (!cvma_hex_decode(s, out, len, &got) || got != len) {
        return fail(l, "%s: not hex (digits 0-9, a-f; no 0x prefix)", path);
    }
    return true;
}

/* One hex value or a non-empty list of them, each len bytes. */
static bool get_values(const json_t *obj, const char *path, const char *key, size_t len,
                       struct pol_values *out, struct ld *l)
{
    json_t *j = json_object_get(obj, key);
    char p[160], pi[176];
    if (j == NULL) {
        return true;
    }
    join(p, sizeof p, path, key);
    size_t n = json_is_array(j) ? json_array_size(j) : 1;
    if (!json_is_array(j) && !json_is_string(j)) {
        return fail(l, "%s: expected a hex string or a list of them, got %s", p, type_name(j));
    }
    if (n == 0 || n > POL_MAX_LIST) {
        return fail(l, "%s: expected 1..%u values, got %zu", p, POL_MAX_LIST, n);
    }
    if ((out->v = calloc(n, len)) == NULL) {
        l->oom = true;
        return fail(l, "out of memory");
    }
    out->len = len;
    out->n = n;
    out->set = true;
    if (!json_is_array(j)) {
        return decode_hex(j, p, len, out->v, l);
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(pi, sizeof pi, "%s[%zu]", p, i);
        if (!decode_hex(json_array_get(j, i), pi, len, out->v + i * len, l)) {
            return false;
        }
    }
    return true;
}

/* A value list without an all-zero entry, where zero is what a report says when there is
 * nothing to pin (why says so): the key digests (id_key_digests, author_key_digests) of a
 * guest launched without an ID block or author key, where such an entry would also count as a
 * pin of the launch (a paravisor's); the CHIP_ID of a guest whose policy masks it. */
static bool no_zero_value(const struct pol_values *d, const char *path, const char *key,
                          const char *why, struct ld *l)
{
    for (size_t i = 0; d->set && i < d->n; i++) {
        if (cvma_bytes_are_zero(d->v + i * d->len, d->len)) {
            char p[160];
            join(p, sizeof p, path, key);
            return fail(l, "%s[%zu]: all zero, %s", p, i, why);
        }
    }
    return true;
}

static const char zero_digest_why[] = "the value of a guest launched without one: it pins nothing";

/* "maj.min", each 0..255. */
static bool parse_maj_min(const json_t *j, const char *path, unsigned *maj, unsigned *min,
                          struct ld *l)
{
    unsigned v[2] = {0, 0};
    size_t part = 0, digits = 0;
    if (!want_string(j, path, 16, l)) {
        return false;
    }
    for (const char *s = json_string_value(j); *s != '\0'; s++) {
        if (*s == '.' && part == 0 && digits > 0) {
            part = 1;
            digits = 0;
        } else if (*s >= '0' && *s <= '9' && digits < 3) {
            v[part] = v[part] * 10 + (unsigned)(*s - '0');
            digits++;
        } else {
            digits = 0;
            break;
        }
    }
    if (part != 1 || digits == 0 || v[0] > 255 || v[1] > 255) {
        return fail(l, "%s: expected \"major.minor\" with each 0..255, e.g. \"1.55\"", path);
    }
    *maj = v[0];
    *min = v[1];
    return true;
}

/* see appraise/policy_internal.h */
bool cvma_policy_parse_duration(const char *s, int64_t *out)
{
    int64_t total = 0;
    bool any = false;
    *out = 0;
    while (*s != '\0') {
        int64_t n = 0;
        size_t digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (digits++ >= 12) {
                return false;
            }
            n = n * 10 + (*s++ - '0');
        }
        int64_t unit;
        switch (*s) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        case 'w':
            unit = 7 * 86400;
            break;
        case '\0':
            unit = any ? 0 : 1; /* a bare number is seconds; "1d12" is malformed */
            break;
        default:
            return false;
        }
        if (digits == 0 || unit == 0) {
            return false;
        }
        if (*s != '\0') {
            s++;
        }
        if (n > POL_MAX_GRACE / unit || total > POL_MAX_GRACE - n * unit) {
            return false;
        }
        total += n * unit;
        any = true;
    }
    if (!any) {
        return false;
    }
    *out = total;
    return true;
}

const struct pol_bit_key cvma_pol_guest_policy_bits[POL_N_GUEST_POLICY_BITS] = {
        {"allow_smt", "SMT", 16, false},
        {"allow_migrate_ma", "MIGRATE_MA", 18, false},
        {"require_single_socket", "SINGLE_SOCKET", 20, true},
        {"allow_cxl", "CXL_ALLOW", 21, false},
        {"require_mem_aes_256_xts", "MEM_AES_256_XTS", 22, true},
        {"require_rapl_dis", "RAPL_DIS", 23, true},
        {"require_ciphertext_hiding", "CIPHERTEXT_HIDING", 24, true},
        {"require_page_swap_disable", "PAGE_SWAP_DISABLE", 25, true},
};

const struct pol_bit_key cvma_pol_platform_info_bits[POL_N_PLATFORM_INFO_BITS] = {
        {"allow_smt_en", "SMT_EN", 0, false},
        {"allow_tsme_en", "TSME_EN", 1, false},
        {"require_ecc_en", "ECC_EN", 2, true},
        {"require_rapl_dis", "RAPL_DIS", 3, true},
        {"require_ciphertext_hiding_en", "CIPHERTEXT_HIDING_EN", 4, true},
        {"require_alias_check_complete", "ALIAS_CHECK_COMPLETE", 5, true},
        {"require_iommu_write_safe", "IOMMU_WRITE_SAFE", 6, true},
        {"allow_sev_tio_en", "SEV_TIO_EN", 7, false},
};

/* A component-wise minimum: {fmc, bootloader, tee, snp, microcode} (each optional, 0..255). */
static bool load_tcb_parts(json_t *j, const char *path, struct pol_tcb *t, struct ld *l)
{
    static const char *const names[] = {"fmc", "bootloader", "tee", "snp", "microcode"};
    int *fields[] = {&t->fmc, &t->bootloader, &t->tee, &t->snp, &t->microcode};
    t->set = false;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        bool present;
        json_int_t v = 0;
        *fields[i] = -1;
        if (!get_int(j, path, names[i], 0, 255, &present, &v, l)) {
            return false;
        }
        if (present) {
            *fields[i] = (int)v;
            t->set = true;
        }
    }
    return true;
}

/* minimum_tcb / minimum_launch_tcb: components for every product, and/or "by_product". */
static bool load_tcb_rule(json_t *obj, const char *path, const char *key, struct pol_tcb_rule *r,
                          struct ld *l)
{
    static const char *const keys[] = {"fmc",       "bootloader", "tee", "snp",
                                       "microcode", "by_product", NULL};
    static const char *const part_keys[] = {"fmc", "bootloader", "tee", "snp", "microcode", NULL};
    char p[160], pp[176], ppp[192];
    json_t *j = json_object_get(obj, key);
    if (j == NULL) {
        return true;
    }
    join(p, sizeof p, path, key);
    if (!want_object(j, p, l) || !check_keys(j, p, keys, l) || !load_tcb_parts(j, p, &r->all, l)) {
        return false;
    }
    json_t *bp = json_object_get(j, "by_product");
    bool any = r->all.set;
    if (bp != NULL) {
        join(pp, sizeof pp, p, "by_product");
        if (!want_object(bp, pp, l) || !check_keys(bp, pp, product_names, l)) {
            return false;
        }
        for (size_t k = 0; k < POL_N_PRODUCTS; k++) {
            json_t *e = json_object_get(bp, product_names[k]);
            if (e == NULL) {
                continue;
            }
            join(ppp, sizeof ppp, pp, product_names[k]);
            if (!want_object(e, ppp, l) || !check_keys(e, ppp, part_keys, l) ||
                !load_tcb_parts(e, ppp, &r->by_product[k], l)) {
                return false;
            }
            if (!r->by_product[k].set) {
                return fail(l, "%s: names no component (fmc, bootloader, tee, snp, microcode)",
                            ppp);
            }
            if (r->by_product[k].fmc >= 0 && strcmp(product_names[k], "Turin") != 0) {
                /* it would bind no report: a rule that is never enforced */
                return fail(l, "%s.fmc: %s has no FMC (only Turin's TCB has one)", ppp,
                            product_names[k]);
            }
            any = true;
        }
    }
    if (!any) {
        return fail(l,
                    "%s: names no component (fmc, bootloader, tee, snp, microcode) and no "
                    "by_product entry",
                    p);
    }
    return true;
}

static bool load_bits(json_t *obj, const char *path, const char *key,
                      const struct pol_bit_key *table, size_t n, uint64_t known, bool has_abi,
                      struct pol_bits *b, struct ld *l)
{
    const char *keys[16];
    size_t nk = 0;
    char p[160], pk[192];
    json_t *j = json_object_get(obj, key);
    if (j == NULL) {
        return true;
    }
    join(p, sizeof p, path, key);
    for (size_t i = 0; i < n; i++) {
        keys[nk++] = table[i].key;
    }
    keys[nk++] = "reject_unknown_bits";
    if (has_abi) {
        keys[nk++] = "minimum_abi";
    }
    keys[nk] = NULL;
    if (!want_object(j, p, l) || !check_keys(j, p, keys, l)) {
        return false;
    }
    if (json_object_size(j) == 0) {
        /* {} would load as a rule that checks nothing, as an empty minimum_tcb would. */
        char names[400];
        size_t used = 0;
        names[0] = '\0';
        for (size_t i = 0; i < nk; i++) {
            int k = snprintf(names + used, sizeof names - used, "%s%s", i > 0 ? ", " : "", keys[i]);
            used += k > 0 ? (size_t)k : 0;
            if (used >= sizeof names) {
                break;
            }
        }
        return fail(l, "%s: names no key (%s): an empty object would check nothing", p, names);
    }
    b->set = true;
    b->known = known;
    for (size_t i = 0; i < n; i++) {
        int v = -1;
        if (!get_bool(j, p, table[i].key, &v, l)) {
            return false;
        }
        if (v == 0 && !table[i].require) {
            b->forbid |= 1ull << table[i].bit;
        } else if (v == 1 && table[i].require) {
            b->require |= 1ull << table[i].bit;
        }
    }
    int ru = -1;
    if (!get_bool(j, p, "reject_unknown_bits", &ru, l)) {
        return false;
    }
    b->reject_unknown = ru == 1;
    json_t *abi = json_object_get(j, "minimum_abi");
    if (has_abi && abi != NULL) {
        join(pk, sizeof pk, p, "minimum_abi");
        if (!parse_maj_min(abi, pk, &b->min_abi_major, &b->min_abi_minor, l)) {
            return false;
        }
        b->has_min_abi = true;
    }
    return true;
}

static bool load_snp(json_t *j, struct pol_snp *s, struct ld *l)
{
    static const char *const keys[] = {"allow_debug",
                                       "measurements",
                                       "minimum_tcb",
                                       "minimum_launch_tcb",
                                       "vmpl",
                                       "guest_policy",
                                       "platform_info",
                                       "host_data",
                                       "id_key_digests",
                                       "author_key_digests",
                                       "require_author_key",
                                       "family_id",
                                       "image_id",
                                       "minimum_guest_svn",
                                       "report_id_ma",
                                       "chip_ids",
                                       "products",
                                       "minimum_firmware_version",
                                       "minimum_firmware_build",
                                       "require_committed_equals_current",
                                       NULL};
    const char *P = "snp";
    bool present;
    json_int_t v = 0;
    int b = -1;

    if (!want_object(j, P, l) || !check_keys(j, P, keys, l)) {
        return false;
    }
    s->present = true;
    s->allow_debug = -1;
    s->vmpl = -1;
    s->min_fw_build = -1;
    if (!get_bool(j, P, "allow_debug", &s->allow_debug, l) ||
        !get_values(j, P, "measurements", 48, &s->measurements, l) ||
        !get_values(j, P, "host_data", 32, &s->host_data, l) ||
        !get_values(j, P, "family_id", 16, &s->family_id, l) ||
        !get_values(j, P, "image_id", 16, &s->image_id, l) ||
        !get_values(j, P, "report_id_ma", 32, &s->report_id_ma, l) ||
        !get_values(j, P, "chip_ids", 64, &s->chip_ids, l) ||
        !no_zero_value(&s->chip_ids, P, "chip_ids",
                       "what a guest reports whose policy masks its CHIP_ID: it pins no machine",
                       l) ||
        !get_values(j, P, "id_key_digests", 48, &s->id_key_digests, l) ||
        !no_zero_value(&s->id_key_digests, P, "id_key_digests", zero_digest_why, l) ||
        !get_values(j, P, "author_key_digests", 48, &s->author_key_digests, l) ||
        !no_zero_value(&s->author_key_digests, P, "author_key_digests", zero_digest_why, l) ||
        !load_tcb_rule(j, P, "minimum_tcb", &s->minimum_tcb, l) ||
        !load_tcb_rule(j, P, "minimum_launch_tcb", &s->minimum_launch_tcb, l) ||
        !load_bits(j, P, "guest_policy", cvma_pol_guest_policy_bits, POL_N_GUEST_POLICY_BITS,
                   (1ull << 26) - 1, true, &s->guest_policy, l) ||
        !load_bits(j, P, "platform_info", cvma_pol_platform_info_bits, POL_N_PLATFORM_INFO_BITS,
                   0xffull, false, &s->platform_info, l)) {
        return false;
    }
    if (!get_bool(j, P, "require_author_key", &b, l)) {
        return false;
    }
    s->require_author_key = b == 1;
    b = -1;
    if (!get_bool(j, P, "require_committed_equals_current", &b, l)) {
        return false;
    }
    s->require_committed_equals_current = b == 1;
    if (!get_int(j, P, "vmpl", 0, 3, &present, &v, l)) {
        return false;
    }
    if (present) {
        s->vmpl = (int)v;
    }
    if (!get_int(j, P, "minimum_guest_svn", 0, UINT32_MAX, &present, &v, l)) {
        return false;
    }
    if (present) {
        s->has_min_guest_svn = true;
        s->min_guest_svn = (uint32_t)v;
    }
    if (!get_int(j, P, "minimum_firmware_build", 0, 255, &present, &v, l)) {
        return false;
    }
    if (present) {
        s->min_fw_build = (int)v;
    }
    json_t *fw = json_object_get(j, "minimum_firmware_version");
    if (fw != NULL) {
        if (!parse_maj_min(fw, "snp.minimum_firmware_version", &s->min_fw_major, &s->min_fw_minor,
                           l)) {
            return false;
        }
        s->has_min_fw_version = true;
    }
    json_t *pr = json_object_get(j, "products");
    if (pr != NULL) {
        if (!json_is_array(pr) || json_array_size(pr) == 0) {
            char w[48];
            return fail(l,
                        "snp.products: expected a non-empty list of \"Milan\", \"Genoa\", "
                        "\"Turin\", got %s",
                        list_fault(pr, 0, w, sizeof w));
        }
        for (size_t i = 0; i < json_array_size(pr); i++) {
            json_t *e = json_array_get(pr, i);
            size_t k;
            char pi[64];
            snprintf(pi, sizeof pi, "snp.products[%zu]", i);
            if (!want_string(e, pi, 16, l)) {
                return false;
            }
            for (k = 0; k < POL_N_PRODUCTS; k++) {
                if (strcmp(json_string_value(e), product_names[k]) == 0) {
                    break;
                }
            }
            if (k == POL_N_PRODUCTS) {
                return fail(l, "%s: \"%s\" is not \"Milan\", \"Genoa\" or \"Turin\"", pi,
                            json_string_value(e));
            }
            s->products |= 1u << k;
        }
    }
    /* fmc binds Turin reports only: with products naming no Turin it would bind no report, as
     * under by_product.Milan (load_tcb_rule). */
    if (s->products != 0 && !(s->products & (1u << POL_TURIN))) {
        static const char *const rules[] = {"minimum_tcb", "minimum_launch_tcb"};
        const struct pol_tcb_rule *r[] = {&s->minimum_tcb, &s->minimum_launch_tcb};
        for (size_t i = 0; i < CVMA_ARRAY_LEN(rules); i++) {
            if (r[i]->all.set && r[i]->all.fmc >= 0) {
                return fail(l,
                            "snp.%s.fmc: snp.products names no Turin, and only Turin's TCB has "
                            "an FMC (it would bind no report)",
                            rules[i]);
            }
        }
    }
    return true;
}

static bool load_tdx(json_t *j, struct pol_tdx *t, struct ld *l)
{
    static const char *const keys[] = {"allow_debug",
                                       "mr_td",
                                       "rtmr0",
                                       "rtmr1",
                                       "rtmr2",
                                       "rtmr3",
                                       "mr_config_id",
                                       "mr_owner",
                                       "mr_owner_config",
                                       "mr_seam",
                                       "mr_service_td",
                                       "minimum_tee_tcb_svn",
                                       "td_attributes",
                                       "xfam",
                                       "accepted_tcb_statuses",
                                       "collateral_grace_period",
                                       NULL};
    static const char *const rtmr_keys[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    const char *P = "tdx";
    uint8_t u64b[8];

    if (!want_object(j, P, l) || !check_keys(j, P, keys, l)) {
        return false;
    }
    t->present = true;
    t->allow_debug = -1;
    t->grace = -1;
    if (!get_bool(j, P, "allow_debug", &t->allow_debug, l) ||
        !get_values(j, P, "mr_td", 48, &t->mr_td, l) ||
        !get_values(j, P, "mr_config_id", 48, &t->mr_config_id, l) ||
        !get_values(j, P, "mr_owner", 48, &t->mr_owner, l) ||
        !get_values(j, P, "mr_owner_config", 48, &t->mr_owner_config, l) ||
        !get_values(j, P, "mr_seam", 48, &t->mr_seam, l) ||
        !get_values(j, P, "mr_service_td", 48, &t->mr_service_td, l)) {
        return false;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!get_values(j, P, rtmr_keys[i], 48, &t->rtmr[i], l)) {
            return false;
        }
    }
    json_t *e;
    if ((e = json_object_get(j, "minimum_tee_tcb_svn")) != NULL) {
        if (!decode_hex(e, "tdx.minimum_tee_tcb_svn", 16, t->min_tee_tcb_svn, l)) {
            return false;
        }
        t->has_min_tee_tcb_svn = true;
    }
    if ((e = json_object_get(j, "td_attributes")) != NULL) {
        if (!decode_hex(e, "tdx.td_attributes", 8, u64b, l)) {
            return false;
        }
        t->has_td_attributes = true;
        for (size_t i = 0; i < 8; i++) {
            t->td_attributes = t->td_attributes << 8 | u64b[i];
        }
    }
    if ((e = json_object_get(j, "xfam")) != NULL) {
        if (!decode_hex(e, "tdx.xfam", 8, u64b, l)) {
            return false;
        }
        t->has_xfam = true;
        for (size_t i = 0; i < 8; i++) {
            t->xfam = t->xfam << 8 | u64b[i];
        }
    }
    if ((e = json_object_get(j, "accepted_tcb_statuses")) != NULL) {
        if (!json_is_array(e) || json_array_size(e) == 0 ||
            json_array_size(e) > 2 * POL_TDX_N_STATUSES) {
            char w[48];
            return fail(l,
                        "tdx.accepted_tcb_statuses: expected a non-empty list of Intel TCB "
                        "status names, got %s",
                        list_fault(e, 2 * POL_TDX_N_STATUSES, w, sizeof w));
        }
        t->has_accepted = true;
        for (size_t i = 0; i < json_array_size(e); i++) {
            json_t *s = json_array_get(e, i);
            char pi[64];
            size_t k;
            snprintf(pi, sizeof pi, "tdx.accepted_tcb_statuses[%zu]", i);
            if (!want_string(s, pi, 64, l)) {
                return false;
            }
            if (strcmp(json_string_value(s), "Revoked") == 0) {
                return fail(l, "%s: \"Revoked\" cannot be accepted: Intel has revoked that TCB",
                            pi);
            }
            for (k = 0; k < POL_TDX_N_STATUSES; k++) {
                if (strcmp(json_string_value(s), cvma_pol_tdx_status_names[k]) == 0) {
                    break;
                }
            }
            if (k == POL_TDX_N_STATUSES) {
                return fail(l,
                            "%s: \"%s\" is not an Intel TCB status (UpToDate, "
                            "SWHardeningNeeded, ConfigurationNeeded, "
                            "ConfigurationAndSWHardeningNeeded, OutOfDate, "
                            "OutOfDateConfigurationNeeded, TDRelaunchAdvised, "
                            "TDRelaunchAdvisedConfigurationNeeded)",
                            pi, json_string_value(s));
            }
            t->accepted |= 1u << k;
        }
    }
    if ((e = json_object_get(j, "collateral_grace_period")) != NULL) {
        if (json_is_integer(e)) {
            json_int_t v = json_integer_value(e);
            if (v < 0 || v > POL_MAX_GRACE) {
                return fail(l,
                            "tdx.collateral_grace_period: %" JSON_INTEGER_FORMAT
                            " seconds is out of range 0..%lld",
                            v, POL_MAX_GRACE);
            }
            t->grace = (int64_t)v;
        } else if (json_is_string(e)) {
            if (strlen(json_string_value(e)) != json_string_length(e) ||
                json_string_length(e) > 32 ||
                !cvma_policy_parse_duration(json_string_value(e), &t->grace)) {
                t->grace = -1;
                return fail(l, "tdx.collateral_grace_period: expected seconds or a duration "
                               "such as \"7d\", \"12h\", \"1d12h\" (units w d h m s; at most "
                               "366d)");
            }
        } else {
            return fail(l,
                        "tdx.collateral_grace_period: expected seconds or a duration string, "
                        "got %s",
                        type_name(e));
        }
    }
    return true;
}

_Static_assert(POL_TPM_BANKS == CVMA_EVENTLOG_BANKS, "the policy's banks are the event log's");

const char *cvma_pol_tpm_bank_name(size_t b)
{
    return b < POL_TPM_BANKS ? cvma_eventlog_alg_name(cvma_eventlog_bank_alg(b)) : "?";
}

size_t cvma_pol_tpm_bank_size(size_t b)
{
    return cvma_eventlog_alg_size(cvma_eventlog_bank_alg(b));
}

/* tpm: {"pcrs": {"sha256": {"7": "<hex>" or a list, ...}, ...}}: allowed values per bank and
 * PCR index 0..23; "ak_spki_sha256": the AKs trusted, 32 bytes each, none twice. */
static bool load_tpm(json_t *j, struct pol_tpm *t, struct ld *l)
{
    static const char *const keys[] = {"pcrs", "ak_spki_sha256", NULL};
    const char *key;
    json_t *val, *pcrs;

    if (!want_object(j, "tpm", l) || !check_keys(j, "tpm", keys, l)) {
        return false;
    }
    t->present = true;
    if (!get_values(j, "tpm", "ak_spki_sha256", 32, &t->ak_spki_sha256, l)) {
        return false;
    }
    /* A key listed twice is a typo for another key (which one was meant is not a guess). */
    for (size_t a = 0; a < t->ak_spki_sha256.n; a++) {
        for (size_t b = a + 1; b < t->ak_spki_sha256.n; b++) {
            if (memcmp(t->ak_spki_sha256.v + a * 32, t->ak_spki_sha256.v + b * 32, 32) == 0) {
                return fail(l,
                            "tpm.ak_spki_sha256[%zu]: the same key as [%zu] (a value given twice)",
                            b, a);
            }
        }
    }
    if ((pcrs = json_object_get(j, "pcrs")) == NULL) {
        return true;
    }
    t->has_pcrs = true;
    if (!want_object(pcrs, "tpm.pcrs", l)) {
        return false;
    }
    if (json_object_size(pcrs) == 0) {
        return fail(l, "tpm.pcrs: names no bank (an empty allow-list would allow anything)");
    }
    json_object_foreach(pcrs, key, val)
    {
        char path[64], k2[8];
        int b = -1;
        for (int i = 0; i < POL_TPM_BANKS; i++) {
            b = strcmp(key, cvma_pol_tpm_bank_name((size_t)i)) == 0 ? i : b;
        }
        if (b < 0) {
            return fail(l, "tpm.pcrs.%.32s: not a PCR bank (sha1, sha256, sha384, sha512)", key);
        }
        snprintf(path, sizeof path, "tpm.pcrs.%s", cvma_pol_tpm_bank_name((size_t)b));
        if (!want_object(val, path, l)) {
            return false;
        }
        if (json_object_size(val) == 0) {
            return fail(l, "%s: names no PCR (an empty allow-list would allow anything)", path);
        }
        const char *ik;
        json_t *iv;
        json_object_foreach(val, ik, iv)
        {
            unsigned idx = 0;
            if (!cvma_pcr_index(ik, strlen(ik), POL_TPM_PCRS, &idx)) {
                return fail(l, "%s.%.32s: not a PCR index 0..23", path, ik);
            }
            snprintf(k2, sizeof k2, "%u", idx);
            if (!get_values(val, path, k2, cvma_pol_tpm_bank_size((size_t)b), &t->pcrs[b][idx],
                            l)) {
                return false;
            }
        }
    }
    return true;
}

/* A list of 1..POL_MAX_LIST strings, copied. hex_len != 0: each is hex of one of the digest
 * sizes (20, 32, 48, 64 bytes), kept in lowercase. */
static bool get_strings(const json_t *obj, const char *path, const char *key, bool hex, char ***out,
                        size_t *n_out, struct ld *l)
{
    json_t *j = json_object_get(obj, key);
    char p[96], pi[112];
    if (j == NULL) {
        return true;
    }
    join(p, sizeof p, path, key);
    size_t n = json_is_array(j) ? json_array_size(j) : 0;
    if (n == 0 || n > POL_MAX_LIST) {
        char w[40];
        return fail(l, "%s: expected a list of 1..%u strings, got %s", p, POL_MAX_LIST,
                    list_what(j, w, sizeof w));
    }
    if ((*out = calloc(n, sizeof **out)) == NULL) {
        l->oom = true;
        return fail(l, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(j, i);
        snprintf(pi, sizeof pi, "%s[%zu]", p, i);
        if (!want_string(e, pi, 4096, l)) {
            return false;
        }
        const char *s = json_string_value(e);
        size_t len = strlen(s);
        if (len != json_string_length(e) || len == 0) {
            return fail(l, "%s: an empty string or one with a NUL", pi);
        }
        if (hex) {
            uint8_t tmp[64];
            size_t got = 0;
            if ((len != 40 && len != 64 && len != 96 && len != 128) ||
                !cvma_hex_decode(s, tmp, sizeof tmp, &got)) {
                return fail(l,
                            "%s: expected the hex of a SHA-1, SHA-256, SHA-384 or SHA-512 "
                            "digest",
                            pi);
            }
        }
        if (((*out)[i] = strdup(s)) == NULL) {
            l->oom = true;
            return fail(l, "out of memory");
        }
        for (char *c = (*out)[i]; hex && *c; c++) {
            *c = (*c >= 'A' && *c <= 'F') ? (char)(*c - 'A' + 'a') : *c;
        }
        *n_out = i + 1;
    }
    return true;
}

/* eventlog.required_events[i]: {"pcr" or "rtmr", "type", "digest", "data",
 * "before_separator"}. */
static bool load_event_rule(json_t *j, const char *path, struct pol_event_rule *r, struct ld *l)
{
    static const char *const keys[] = {"pcr", "rtmr", "type", "digest", "data", "before_separator",
                                       NULL};
    json_t *x;
    bool present = false;
    json_int_t n = 0;
    int before = 0;

    r->pcr = r->rtmr = -1;
    if (!want_object(j, path, l) || !check_keys(j, path, keys, l)) {
        return false;
    }
    if (!get_int(j, path, "pcr", 0, 23, &present, &n, l)) {
        return false;
    }
    if (present) {
        r->pcr = (int)n;
    }
    if (!get_int(j, path, "rtmr", 0, 3, &present, &n, l)) {
        return false;
    }
    if (present) {
        r->rtmr = (int)n;
    }
    if ((r->pcr >= 0) == (r->rtmr >= 0)) {
        return fail(l, "%s: give exactly one of \"pcr\" (a TCG log) or \"rtmr\" (a CCEL)", path);
    }
    if (!get_bool(j, path, "before_separator", &before, l)) {
        return false;
    }
    /* Firmware logs a separator in PCRs 0..7 (in a CCEL: RTMRs 0 and 1) only: elsewhere the
     * rule could never hold, and would refuse all evidence. */
    if (before == 1 && (r->pcr > 7 || r->rtmr > 1)) {
        return fail(l,
                    "%s: \"before_separator\" applies to PCRs 0..7 and RTMRs 0..1 only (where "
                    "firmware logs its separators), not %s %d",
                    path, r->pcr >= 0 ? "PCR" : "RTMR", r->pcr >= 0 ? r->pcr : r->rtmr);
    }
    r->before_separator = before == 1;
    if ((x = json_object_get(j, "type")) != NULL) {
        char p[96];
        join(p, sizeof p, path, "type");
        if (!want_string(x, p, 64, l)) {
            return false;
        }
        const char *t = json_string_value(x);
        bool ok = strncmp(t, "EV_", 3) == 0 && strlen(t) > 3;
        for (size_t i = 3; ok && t[i] != '\0'; i++) {
            ok = (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '_';
        }
        if (!ok && strncmp(t, "0x", 2) == 0 && strlen(t) == 10) {
            ok = true;
            for (size_t i = 2; ok && i < 10; i++) {
                ok = (t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f');
            }
        }
        if (!ok) {
            return fail(l, "%s: an event type name (\"EV_IPL\") or 0x and 8 lowercase hex digits",
                        p);
        }
        /* The claims name only the types of PFP 10.4.1 and write any other in hex: an unknown
         * name (a typo) could never match: the rule would refuse all evidence. */
        uint32_t known = 0;
        if (t[0] == 'E' && !cvma_eventlog_type_of_name(t, &known)) {
            return fail(l,
                        "%s: \"%s\" is not an event type name of the TCG PC Client spec (give "
                        "any other type as 0x and 8 lowercase hex digits)",
                        p, t);
        }
        /* The claims name every type they know ("EV_IPL") and write only the others in hex:
         * a known type given in hex is matched by its name. */
        if (t[0] == '0') {
            uint32_t v = 0;
            for (size_t i = 2; i < 10; i++) {
                v = v << 4 | (uint32_t)cvma_hex_nibble(t[i]);
            }
            if (cvma_eventlog_type_name(v) != NULL) {
                t = cvma_eventlog_type_name(v);
            }
        }
        if ((r->type = strdup(t)) == NULL) {
            l->oom = true;
            return fail(l, "out of memory");
        }
    }
    if ((x = json_object_get(j, "digest")) != NULL) {
        char p[96];
        const char *h = json_string_value(x);
        size_t hl = h != NULL ? strlen(h) : 0;
        join(p, sizeof p, path, "digest");
        if (h == NULL || (hl != 40 && hl != 64 && hl != 96 && hl != 128) ||
            !cvma_hex_decode(h, r->digest, sizeof r->digest, &r->digest_len)) {
            return fail(l, "%s: expected the hex of a SHA-1, SHA-256, SHA-384 or SHA-512 digest",
                        p);
        }
    }
    if ((x = json_object_get(j, "data")) != NULL) {
        char p[96];
        join(p, sizeof p, path, "data");
        if (!want_string(x, p, 4096, l)) {
            return false;
        }
        if ((r->data = strdup(json_string_value(x))) == NULL) {
            l->oom = true;
            return fail(l, "out of memory");
        }
    }
    /* An event's type is not measured: whoever hands over the log can label any event so
     * (docs/eventlog.md). Only a digest, or data hashed to one, says what was measured. */
    if (r->digest_len == 0 && r->data == NULL) {
        return fail(l,
                    "%s: give \"digest\" or \"data\" (a type alone proves nothing: replay does "
                    "not vouch for an event's type)",
                    path);
    }
    return true;
}

/* eventlog: {secure_boot, kernel_cmdline, kernel_cmdline_contains, efi_boot_applications,
 * required_events}. */
static bool load_eventlog(json_t *j, struct pol_eventlog *e, struct ld *l)
{
    static const char *const keys[] = {
            "secure_boot",           "kernel_cmdline",  "kernel_cmdline_contains",
            "efi_boot_applications", "required_events", NULL};
    const char *P = "eventlog";
    int sb = -1;
    json_t *c;

    if (!want_object(j, P, l) || !check_keys(j, P, keys, l)) {
        return false;
    }
    e->present = true;
    if (!get_bool(j, P, "secure_boot", &sb, l)) {
        return false;
    }
    e->require_secure_boot = sb == 1;
    if ((c = json_object_get(j, "kernel_cmdline")) != NULL) {
        if (!want_string(c, "eventlog.kernel_cmdline", 4096, l)) {
            return false;
        }
        if (strlen(json_string_value(c)) != json_string_length(c)) {
            return fail(l, "eventlog.kernel_cmdline: a string with a NUL");
        }
        if ((e->kernel_cmdline = strdup(json_string_value(c))) == NULL) {
            l->oom = true;
            return fail(l, "out of memory");
        }
    }
    if ((c = json_object_get(j, "required_events")) != NULL) {
        size_t n = json_is_array(c) ? json_array_size(c) : 0;
        if (n == 0 || n > POL_MAX_LIST) {
            char w[40];
            return fail(l, "eventlog.required_events: expected a list of 1..%u events, got %s",
                        POL_MAX_LIST, list_what(c, w, sizeof w));
        }
        if ((e->events = calloc(n, sizeof *e->events)) == NULL) {
            l->oom = true;
            return fail(l, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            char pi[64];
            snprintf(pi, sizeof pi, "eventlog.required_events[%zu]", i);
            e->n_events = i + 1;
            if (!load_event_rule(json_array_get(c, i), pi, &e->events[i], l)) {
                return false;
            }
        }
    }
    if (!get_strings(j, P, "kernel_cmdline_contains", false, &e->cmdline_contains,
                     &e->n_cmdline_contains, l)) {
        return false;
    }
    /* Each is one parameter as the kernel reads it (policy_eventlog.c): its quotes are not
     * part of it, nor space around it, and "--" ends the kernel's parameters. */
    for (size_t i = 0; i < e->n_cmdline_contains; i++) {
        const char *w = e->cmdline_contains[i];
        size_t n = strlen(w);
        if (n == 0 || strchr(w, '"') != NULL || strcmp(w, "--") == 0 || w[0] == '=' ||
            strchr(" \t\n", w[0]) != NULL || strchr(" \t\n", w[n - 1]) != NULL) {
            return fail(l,
                        "eventlog.kernel_cmdline_contains[%zu]: \"%.100s\" is not one kernel "
                        "parameter (\"key=value\" or a flag: no quotes, no space around it, not "
                        "\"--\")",
                        i, w);
        }
    }
    return get_strings(j, P, "efi_boot_applications", true, &e->boot_apps, &e->n_boot_apps, l);
}

/* azure: {secure_boot, tpm_enabled, console_enabled: each the exact runtime claim;
 * vm_unique_ids: a list of allowed vmUniqueId values}. */
static bool load_azure(json_t *j, struct pol_azure *a, struct ld *l)
{
    static const char *const keys[] = {"secure_boot", "tpm_enabled", "console_enabled",
                                       "vm_unique_ids", NULL};
    const char *P = "azure";

    if (!want_object(j, P, l) || !check_keys(j, P, keys, l)) {
        return false;
    }
    a->present = true;
    return get_bool(j, P, "secure_boot", &a->secure_boot, l) &&
           get_bool(j, P, "tpm_enabled", &a->tpm_enabled, l) &&
           get_bool(j, P, "console_enabled", &a->console_enabled, l) &&
           get_strings(j, P, "vm_unique_ids", false, &a->vm_unique_ids, &a->n_vm_unique_ids, l);
}

/* see appraise/policy_internal.h */
const char *const cvma_pol_tee_names[POL_TEE_COUNT] = {"sev-snp",   "tdx",       "tpm",
                                                       "azure-snp", "azure-tdx", "svsm-vtpm"};

/* see appraise/policy_internal.h */
unsigned cvma_pol_tee_bit(const char *name)
{
    for (unsigned i = 0; name != NULL && i < POL_TEE_COUNT; i++) {
        if (strcmp(name, cvma_pol_tee_names[i]) == 0) {
            return 1u << i;
        }
    }
    return 0;
}

static bool load_top(json_t *root, struct cvma_policy *p, struct ld *l)
{
    static const char *const keys[] = {"version",
                                       "name",
                                       "description",
                                       "report_data",
                                       "required_providers",
                                       "registry_log_required",
                                       "allowed_tees",
                                       "snp",
                                       "tdx",
                                       "tpm",
                                       "eventlog",
                                       "azure",
                                       NULL};
    bool present;
    json_int_t v = 0;
    json_t *e;

    if (!json_is_object(root)) {
        return fail(l, "the policy must be a JSON object, got %s", type_name(root));
    }
    if (!check_keys(root, "", keys, l)) {
        return false;
    }
    if (!get_int(root, "", "version", 1, 1, &present, &v, l)) {
        return false;
    }
    if ((e = json_object_get(root, "name")) != NULL) {
        if (!want_string(e, "name", POL_MAX_STRING, l)) {
            return false;
        }
        if ((p->name = strdup(json_string_value(e))) == NULL) {
            l->oom = true;
            return fail(l, "out of memory");
        }
    }
    if ((e = json_object_get(root, "description")) != NULL &&
        !want_string(e, "description", 4096, l)) {
        return false;
    }
    if ((e = json_object_get(root, "report_data")) != NULL) {
        size_t got = 0;
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            strlen(json_string_value(e)) != json_string_length(e) || json_string_length(e) > 128 ||
            !cvma_hex_decode(json_string_value(e), p->report_data, 64, &got)) {
            return fail(l, "report_data: expected 2..128 hex digits (up to 64 bytes, "
                           "zero-padded), an even number, no 0x prefix");
        }
        p->has_report_data = true;
    }
    if ((e = json_object_get(root, "registry_log_required")) != NULL) {
        size_t n = json_is_array(e) ? json_array_size(e) : 0;
        if (n == 0 || n > POL_MAX_LIST) {
            char w[40];
            return fail(l, "registry_log_required: expected a list of 1..%u provider names, got %s",
                        POL_MAX_LIST, list_what(e, w, sizeof w));
        }
        if ((p->log_providers = calloc(n, sizeof *p->log_providers)) == NULL) {
            l->oom = true;
            return fail(l, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            char pi[64];
            snprintf(pi, sizeof pi, "registry_log_required[%zu]", i);
            if (!want_provider(json_array_get(e, i), pi,
                               "no provider's log would be required by it", l)) {
                return false;
            }
            if ((p->log_providers[i] = strdup(json_string_value(json_array_get(e, i)))) == NULL) {
                l->oom = true;
                return fail(l, "out of memory");
            }
            p->n_log_providers = i + 1;
        }
    }
    if ((e = json_object_get(root, "required_providers")) != NULL) {
        size_t n = json_is_array(e) ? json_array_size(e) : 0;
        if (n == 0 || n > POL_MAX_LIST) {
            char w[40];
            return fail(l, "required_providers: expected a list of 1..%u provider names, got %s",
                        POL_MAX_LIST, list_what(e, w, sizeof w));
        }
        if ((p->providers = calloc(n, sizeof *p->providers)) == NULL) {
            l->oom = true;
            return fail(l, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            char pi[64];
            snprintf(pi, sizeof pi, "required_providers[%zu]", i);
            if (!want_provider(json_array_get(e, i), pi, "no platform could ever be bound to it",
                               l)) {
                return false;
            }
            if ((p->providers[i] = strdup(json_string_value(json_array_get(e, i)))) == NULL) {
                l->oom = true;
                return fail(l, "out of memory");
            }
            p->n_providers = i + 1;
        }
    }
    if ((e = json_object_get(root, "snp")) != NULL && !load_snp(e, &p->snp, l)) {
        return false;
    }
    if ((e = json_object_get(root, "tdx")) != NULL && !load_tdx(e, &p->tdx, l)) {
        return false;
    }
    if ((e = json_object_get(root, "tpm")) != NULL && !load_tpm(e, &p->tpm, l)) {
        return false;
    }
    if ((e = json_object_get(root, "eventlog")) != NULL && !load_eventlog(e, &p->eventlog, l)) {
        return false;
    }
    if ((e = json_object_get(root, "azure")) != NULL && !load_azure(e, &p->azure, l)) {
        return false;
    }
    if ((e = json_object_get(root, "allowed_tees")) != NULL) {
        size_t n = json_is_array(e) ? json_array_size(e) : 0;
        if (n == 0 || n > 8) {
            char w[48];
            return fail(l,
                        "allowed_tees: expected a non-empty list of \"sev-snp\", \"tdx\", "
                        "\"tpm\", \"azure-snp\", \"azure-tdx\", \"svsm-vtpm\", got %s",
                        list_fault(e, 8, w, sizeof w));
        }
        for (size_t i = 0; i < n; i++) {
            char pi[64];
            unsigned bit = 0;
            snprintf(pi, sizeof pi, "allowed_tees[%zu]", i);
            if (!want_string(json_array_get(e, i), pi, 16, l)) {
                return false;
            }
            if ((bit = cvma_pol_tee_bit(json_string_value(json_array_get(e, i)))) == 0) {
                return fail(l,
                            "%s: \"%s\" is not \"sev-snp\", \"tdx\", \"tpm\", \"azure-snp\", "
                            "\"azure-tdx\" or \"svsm-vtpm\"",
                            pi, json_string_value(json_array_get(e, i)));
            }
            p->allowed_tees |= bit;
        }
        /* The snp section applies to sev-snp, azure-snp and svsm-vtpm (their SEV-SNP
         * report), tdx to tdx and azure-tdx, tpm to tpm and the vTPM quote of the others. */
        if (p->snp.present &&
            !(p->allowed_tees & (POL_TEE_SNP | POL_TEE_AZURE_SNP | POL_TEE_SVSM_VTPM))) {
            return fail(l, "snp: a section for a TEE that allowed_tees does not list "
                           "(add \"sev-snp\", \"azure-snp\" or \"svsm-vtpm\", or remove the "
                           "section)");
        }
        if (p->tdx.present && !(p->allowed_tees & (POL_TEE_TDX | POL_TEE_AZURE_TDX))) {
            return fail(l, "tdx: a section for a TEE that allowed_tees does not list "
                           "(add \"tdx\" or \"azure-tdx\", or remove the section)");
        }
        if (p->tpm.present &&
            !(p->allowed_tees & (POL_TEE_TPM | POL_TEE_AZURE | POL_TEE_SVSM_VTPM))) {
            return fail(l, "tpm: a section for a TEE that allowed_tees does not list "
                           "(add \"tpm\", \"azure-snp\", \"azure-tdx\" or \"svsm-vtpm\", or "
                           "remove the section)");
        }
        if (p->azure.present && !(p->allowed_tees & POL_TEE_AZURE)) {
            return fail(l, "azure: a section for a TEE that allowed_tees does not list "
                           "(add \"azure-snp\" or \"azure-tdx\", or remove the section)");
        }
    } else {
        /* A policy that speaks about some TEEs accepts only those (docs/policy.md): a kind is
         * admitted by default only when every section applies to it, snp and tdx being
         * alternatives. A kind beside a section that never applies to it would skip every rule
         * of that section: a plain SEV-SNP report or TD quote every tpm (PCR) and azure rule, a
         * bare quote (kind tpm, an AK anyone can make) every snp, tdx and azure rule. So the
         * snp / tdx / tpm sections name the plain kinds only alone (snp and tdx together), an
         * azure section the azure kinds. Likewise an azure kind whose hardware section is
         * absent while the other one is present: {"tdx": ..., "azure": ...} pins a TD, and
         * azure-snp evidence would skip every tdx rule; the azure section alone still admits
         * both. svsm-vtpm is never a default. */
        bool plain_hw = !p->tpm.present && !p->azure.present;
        unsigned azure = 0;
        if (p->azure.present && (p->snp.present || !p->tdx.present)) {
            azure |= POL_TEE_AZURE_SNP;
        }
        if (p->azure.present && (p->tdx.present || !p->snp.present)) {
            azure |= POL_TEE_AZURE_TDX;
        }
        p->allowed_tees = (p->snp.present && plain_hw ? POL_TEE_SNP : 0u) |
                          (p->tdx.present && plain_hw ? POL_TEE_TDX : 0u) |
                          (p->tpm.present && !p->snp.present && !p->tdx.present && !p->azure.present
                                   ? POL_TEE_TPM
                                   : 0u) |
                          azure;
        /* Sections but no kind they all apply to: 0 would mean any kind, so the policy is
         * refused, naming the kinds it likely means. Only a tpm section beside a hardware
         * one, without an azure section, gets here. */
        if (p->allowed_tees == 0 && (p->snp.present || p->tdx.present || p->tpm.present)) {
            bool both = p->snp.present && p->tdx.present;
            const char *hw = both ? "snp and tdx" : p->snp.present ? "snp" : "tdx";
            const char *likely = both             ? "\"svsm-vtpm\", \"azure-snp\" or \"azure-tdx\""
                                 : p->snp.present ? "\"svsm-vtpm\" or \"azure-snp\""
                                                  : "\"azure-tdx\"";
            return fail(l,
                        "tpm: beside the %s section%s no evidence kind is admitted by default (a "
                        "plain %s would skip the tpm rules, a bare tpm quote the %s ones): list "
                        "the kinds in allowed_tees, likely %s",
                        hw, both ? "s" : "",
                        both             ? "report"
                        : p->snp.present ? "sev-snp report"
                                         : "tdx quote",
                        hw, likely);
        }
    }
    return true;
}

static void values_free(struct pol_values *v)
{
    free(v->v);
    memset(v, 0, sizeof *v);
}

/* see appraise/policy.h */
void cvma_policy_free(struct cvma_policy *p)
{
    if (p == NULL) {
        return;
    }
    free(p->name);
    for (size_t i = 0; i < p->n_providers; i++) {
        free(p->providers[i]);
    }
    free(p->providers);
    for (size_t i = 0; i < p->n_log_providers; i++) {
        free(p->log_providers[i]);
    }
    free(p->log_providers);
    struct pol_values *vals[] = {
            &p->snp.measurements,   &p->snp.host_data,
            &p->snp.family_id,      &p->snp.image_id,
            &p->snp.report_id_ma,   &p->snp.chip_ids,
            &p->snp.id_key_digests, &p->snp.author_key_digests,
            &p->tdx.mr_td,          &p->tdx.rtmr[0],
            &p->tdx.rtmr[1],        &p->tdx.rtmr[2],
            &p->tdx.rtmr[3],        &p->tdx.mr_config_id,
            &p->tdx.mr_owner,       &p->tdx.mr_owner_config,
            &p->tdx.mr_seam,        &p->tdx.mr_service_td,
    };
    for (size_t i = 0; i < CVMA_ARRAY_LEN(vals); i++) {
        values_free(vals[i]);
    }
    for (size_t b = 0; b < POL_TPM_BANKS; b++) {
        for (size_t i = 0; i < POL_TPM_PCRS; i++) {
            values_free(&p->tpm.pcrs[b][i]);
        }
    }
    values_free(&p->tpm.ak_spki_sha256);
    for (size_t i = 0; i < p->azure.n_vm_unique_ids; i++) {
        free(p->azure.vm_unique_ids[i]);
    }
    free(p->azure.vm_unique_ids);
    for (size_t i = 0; i < p->eventlog.n_events; i++) {
        free(p->eventlog.events[i].type);
        free(p->eventlog.events[i].data);
    }
    free(p->eventlog.events);
    free(p->eventlog.kernel_cmdline);
    for (size_t i = 0; i < p->eventlog.n_cmdline_contains; i++) {
        free(p->eventlog.cmdline_contains[i]);
    }
    free(p->eventlog.cmdline_contains);
    for (size_t i = 0; i < p->eventlog.n_boot_apps; i++) {
        free(p->eventlog.boot_apps[i]);
    }
    free(p->eventlog.boot_apps);
    free(p);
}

/* see appraise/policy.h */
enum cvma_status cvma_policy_load_bytes(const uint8_t *bytes, size_t len, struct cvma_policy **out,
                                        char *err, size_t errlen)
{
    struct ld l = {.err = err, .errlen = errlen};
    struct cvma_policy *p = NULL;
    json_t *root = NULL;
    json_error_t je;
    uint8_t digest[32];
    unsigned dlen = 0;
    enum cvma_status st = CVMA_E_USAGE;

    *out = NULL;
    if (errlen > 0) {
        err[0] = '\0';
    }
    if (len > CVMA_POLICY_MAX_BYTES) {
        fail(&l, "policy is %zu bytes, more than the %u allowed", len, CVMA_POLICY_MAX_BYTES);
        goto out;
    }
    if ((p = calloc(1, sizeof *p)) == NULL) {
        st = CVMA_E_NOMEM;
        fail(&l, "out of memory");
        goto out;
    }
    p->snp.allow_debug = p->tdx.allow_debug = -1;
    p->azure.secure_boot = p->azure.tpm_enabled = p->azure.console_enabled = -1;
    p->snp.vmpl = p->snp.min_fw_build = -1;
    p->tdx.grace = -1;
    /* Duplicate keys are refused: which of two values a policy means is not a guess to make. */
    bool oom;
    root = cvma_json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &je, &oom);
    if (oom) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    if (root == NULL) {
        fail(&l, "not valid JSON at line %d, column %d: %s", je.line, je.column, je.text);
        goto out;
    }
    if (!load_top(root, p, &l)) {
        st = l.oom ? CVMA_E_NOMEM : CVMA_E_USAGE;
        goto out;
    }
    if (EVP_Digest(bytes, len, digest, &dlen, EVP_sha256(), NULL) != 1 || dlen != 32) {
        st = CVMA_E_INTERNAL;
        fail(&l, "SHA-256 failed");
        goto out;
    }
    memcpy(p->id, "sha256:", 7);
    cvma_hex_encode(digest, 32, p->id + 7, sizeof p->id - 7);
    *out = p;
    p = NULL;
    st = CVMA_OK;
out:
    json_decref(root);
    cvma_policy_free(p);
    return st;
}

/* see appraise/policy.h */
enum cvma_status cvma_policy_load(const char *path, struct cvma_policy **out, char *err,
                                  size_t errlen)
{
    struct cvma_buf b = {0};
    *out = NULL;
    enum cvma_status st = cvma_file_read(path, CVMA_POLICY_MAX_BYTES, &b);
    if (st != CVMA_OK) {
        char why[128];
        cvma_errf(err, errlen, "cannot read '%s': %s", path,
                  st == CVMA_E_NOMEM
                          ? "out of memory"
                          : cvma_file_read_why(errno, CVMA_POLICY_MAX_BYTES, why, sizeof why));
        return st;
    }
    char inner[512];
    st = cvma_policy_load_bytes(b.p, b.len, out, inner, sizeof inner);
    if (st != CVMA_OK) {
        cvma_errf(err, errlen, "'%s': %s", path, inner); /* the path escaped too */
    }
    cvma_buf_free(&b);
    return st;
}

/* see appraise/policy.h */
int64_t cvma_policy_collateral_grace(const struct cvma_policy *p)
{
    return p->tdx.grace;
}

/* see appraise/policy.h */
size_t cvma_policy_required_providers(const struct cvma_policy *p, const char *const **names)
{
    *names = (const char *const *)p->providers;
    return p->n_providers;
}

/* see appraise/policy.h */
bool cvma_policy_report_data(const struct cvma_policy *p, uint8_t out[64])
{
    if (!p->has_report_data) {
        return false;
    }
    memcpy(out, p->report_data, 64);
    return true;
}

/* see appraise/policy.h */
const char *cvma_policy_id(const struct cvma_policy *p)
{
    return p->id;
}

/* see appraise/policy.h */
const char *cvma_policy_name(const struct cvma_policy *p)
{
    return p->name;
}
