/*
 * Appraisal of verified claims against a loaded policy (docs/policy.md), on the typed claims
 * the verifiers fill (snp/snp_claims.h, tdx/tdx_claims.h): no JSON here. Every rule runs;
 * each failing one records its own POLICY_ reason naming the policy field, the expected and
 * the actual value. A claim a rule needs but the result lacks is POLICY_CLAIM_MISSING: a rule
 * never passes for want of something to check (fail closed).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "appraise/policy_internal.h"
#include "common/hex.h"
#include "snp/snp_claims.h"
#include "tdx/tdx_claims.h"

/* A bounded text accumulator for details that list several findings. */
struct sb {
    char s[CVMA_DETAIL_MAX];
    size_t n;
    unsigned count;
};

static void sb_add(struct sb *b, const char *fmt, ...) CVMA_PRINTF(2, 3);

static void sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    if (b->n >= sizeof b->s - 1) {
        b->count++;
        return;
    }
    if (b->count > 0) {
        int k = snprintf(b->s + b->n, sizeof b->s - b->n, "; ");
        b->n += k > 0 ? (size_t)k : 0;
        if (b->n >= sizeof b->s) {
            b->n = sizeof b->s - 1;
        }
    }
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    b->n += k > 0 ? (size_t)k : 0;
    if (b->n >= sizeof b->s) {
        b->n = sizeof b->s - 1;
    }
    b->count++;
}

static void missing(struct cvma_verdict *v, const char *rule, const char *claim)
{
    cvma_reject(v, CVMA_R_POLICY_CLAIM_MISSING,
                "%s: the result has no valid claim %s to check it against", rule, claim);
}

static bool values_has(const struct pol_values *set, const uint8_t *val)
{
    for (size_t i = 0; i < set->n; i++) {
        if (memcmp(set->v + i * set->len, val, set->len) == 0) {
            return true;
        }
    }
    return false;
}

/* Exact-match rule over a byte-string claim: one of the allowed values. */
static void check_values(const struct pol_values *set, const uint8_t *val, size_t len,
                         enum cvma_reason code, const char *rule, const char *claim,
                         struct cvma_verdict *v)
{
    char got[129], want[129];
    if (!set->set) {
        return;
    }
    if (set->len != len || len > 64) {
        missing(v, rule, claim); /* the loader's lengths are the claims': never expected */
        return;
    }
    if (values_has(set, val)) {
        return;
    }
    cvma_hex_encode(val, set->len, got, sizeof got);
    cvma_hex_encode(set->v, set->len, want, sizeof want);
    if (set->n == 1) {
        cvma_reject(v, code, "%s: %s=%s, expected %s", rule, claim, got, want);
    } else {
        cvma_reject(v, code, "%s: %s=%s is not one of the %zu allowed values (first: %s)", rule,
                    claim, got, set->n, want);
    }
}

static const char *tee_name_list(unsigned mask, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < POL_TEE_COUNT; i++) {
        if (mask & (1u << i)) {
            int k = snprintf(buf + used, n - used, "%s%s", used > 0 ? ", " : "",
                             cvma_pol_tee_names[i]);
            used += k > 0 ? (size_t)k : 0;
            if (used >= n) {
                break;
            }
        }
    }
    return buf;
}

/* The sections a policy can have, and the kinds each applies to (docs/policy.md): snp to an
 * SEV-SNP report (plain, inside an HCL report, the SVSM's), tdx to a TD quote (plain, inside
 * an HCL report), tpm to a TPM quote (bare, or the vTPM's of the others), azure to Azure's
 * runtime claims. eventlog is not here: it applies to every kind, and fails where no log is. */
static const struct {
    const char *name;
    unsigned kinds;
} sections[] = {
        {"snp", POL_TEE_SNP | POL_TEE_AZURE_SNP | POL_TEE_SVSM_VTPM},
        {"tdx", POL_TEE_TDX | POL_TEE_AZURE_TDX},
        {"tpm", POL_TEE_TPM | POL_TEE_AZURE | POL_TEE_SVSM_VTPM},
        {"azure", POL_TEE_AZURE},
};

static bool section_present(const struct cvma_policy *p, size_t i)
{
    const bool present[] = {p->snp.present, p->tdx.present, p->tpm.present, p->azure.present};
    return present[i];
}

/* True when section i of p is there and never applies to evidence of kind tee (one POL_TEE_
 * bit): every rule of it would be skipped. snp and tdx are alternatives: the one that does
 * not apply is skipped without a word when the other one applies. */
static bool section_unapplied(const struct cvma_policy *p, size_t i, unsigned tee)
{
    if (!section_present(p, i) || (sections[i].kinds & tee) != 0) {
        return false;
    }
    if (i <= 1) {
        size_t other = 1 - i;
        return !(section_present(p, other) && (sections[other].kinds & tee) != 0);
    }
    return true;
}

/* Each section of the policy that the kind passes by: a warning, never affirming, as a rule
 * that could not be checked is never passed (POLICY_SECTION_NOT_APPLIED). Only a kind that
 * allowed_tees lists gets here: by default a policy admits no such kind. */
static void appraise_unapplied(const struct cvma_policy *p, unsigned tee, const char *kind,
                               struct cvma_verdict *v)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(sections); i++) {
        if (section_unapplied(p, i, tee)) {
            cvma_verdict_add(v, CVMA_R_POLICY_SECTION_NOT_APPLIED, CVMA_SEV_WARNING,
                             "%s: the policy's section never applies to %s evidence (allowed_tees "
                             "lists it): none of its rules was checked",
                             sections[i].name, kind);
        }
    }
}

/* see appraise/policy.h */
size_t cvma_policy_unapplied(const struct cvma_policy *p, char *buf, size_t n)
{
    size_t count = 0, used = 0;
    if (n > 0) {
        buf[0] = '\0';
    }
    for (size_t k = 0; p != NULL && k < POL_TEE_COUNT; k++) {
        unsigned tee = 1u << k;
        for (size_t i = 0; (p->allowed_tees & tee) != 0 && i < CVMA_ARRAY_LEN(sections); i++) {
            if (!section_unapplied(p, i, tee)) {
                continue;
            }
            count++;
            int w = used < n ? snprintf(buf + used, n - used,
                                        "%sthe %s section never applies to %s evidence",
                                        used > 0 ? "\n" : "", sections[i].name,
                                        cvma_pol_tee_names[k])
                             : 0;
            used += w > 0 ? (size_t)w : 0;
        }
    }
    return count;
}

/* ---- common rules ---------------------------------------------------------------------- */

static void appraise_common(const struct cvma_policy *p, struct cvma_result *res)
{
    struct cvma_verdict *v = &res->verdict;
    if (p->has_report_data && res->claims.measurement_len == 0) {
        /* A TPM quote alone has no REPORT_DATA (its claims have none): nothing to compare,
         * and 64 zero bytes are not a claim. */
        missing(v, "report_data", "report_data (the evidence has no hardware REPORT_DATA)");
    } else if (p->has_report_data &&
               CRYPTO_memcmp(res->claims.report_data, p->report_data, 64) != 0) {
        char got[129], want[129];
        cvma_hex_encode(res->claims.report_data, 64, got, sizeof got);
        cvma_hex_encode(p->report_data, 64, want, sizeof want);
        cvma_reject(v, CVMA_R_POLICY_REPORT_DATA, "report_data: report_data=%s, expected %s", got,
                    want);
    }
    if (p->n_providers > 0) {
        const char *name = res->platform.bound ? res->platform.provider : NULL;
        char id[2 * CVMA_PLATFORM_ID_MAX + 1];
        cvma_platform_id_string(&res->platform, id, sizeof id);
        bool ok = false;
        for (size_t i = 0; name != NULL && i < p->n_providers; i++) {
            ok = ok || strcmp(name, p->providers[i]) == 0;
        }
        /* A lookup registry that could not answer left the binding undecided (an error that
         * means exit 3): the rule cannot be decided either, and must not turn "undecided" into
         * "refused". It does not pass: REGISTRY_UNAVAILABLE keeps the result from affirming. */
        if (!ok && name == NULL && cvma_verdict_has(v, CVMA_R_REGISTRY_UNAVAILABLE)) {
            ok = true;
        }
        if (!ok) {
            struct sb want = {.n = 0};
            for (size_t i = 0; i < p->n_providers; i++) {
                sb_add(&want, "%s", p->providers[i]);
            }
            cvma_reject(v, CVMA_R_POLICY_PROVIDER_REQUIRED,
                        "required_providers [%s]: platform %s is %s%s%s", want.s,
                        res->platform.has_id ? id : "(no identifier)",
                        name ? "bound to provider \"" : "bound to no provider", name ? name : "",
                        name ? "\"" : "");
        }
    }
}

/* registry_log_required: a platform bound to one of these providers must have been bound by a
 * registry its provider's witnessed transparency log shows (docs/registry.md "Registry log"):
 * a registry given without the log checks (no --log-vkey for the provider), or a lookup
 * registry's answer, does not count. A platform bound to another provider, or to none, is
 * not this rule's business (required_providers is). The detail says what would meet the rule:
 * for a signed registry, the provider's log options; a lookup registry signs nothing and has
 * no log, and its name cannot take a --log-vkey (a usage error), so nothing given for it can. */
static void appraise_registry_log(const struct cvma_policy *p, struct cvma_result *res)
{
    const struct cvma_platform *pl = &res->platform;
    for (size_t i = 0; pl->bound && i < p->n_log_providers; i++) {
        if (strcmp(pl->provider, p->log_providers[i]) != 0 || pl->bound_via_log) {
            continue;
        }
        if (pl->bound_via_lookup) {
            cvma_reject(&res->verdict, CVMA_R_POLICY_REGISTRY_LOG_REQUIRED,
                        "registry_log_required: the platform is bound to provider \"%s\" by a "
                        "lookup registry's answer, which no log can show (a lookup registry signs "
                        "nothing and has no log; --log-vkey is refused for its name): only the "
                        "provider's signed registry, given in place of the lookup with its "
                        "--log-vkey, --witness-vkey and --log-proof, meets this rule",
                        pl->provider);
        } else {
            cvma_reject(&res->verdict, CVMA_R_POLICY_REGISTRY_LOG_REQUIRED,
                        "registry_log_required: the platform is bound to provider \"%s\" by a "
                        "registry not checked against its witnessed log (give the provider's "
                        "--log-vkey, --witness-vkey and --log-proof)",
                        pl->provider);
        }
    }
}

/* ---- SEV-SNP ----------------------------------------------------------------------------- */

static int product_index(enum cvma_snp_product product)
{
    switch (product) {
    case CVMA_SNP_PRODUCT_MILAN:
        return POL_MILAN;
    case CVMA_SNP_PRODUCT_GENOA:
        return POL_GENOA;
    case CVMA_SNP_PRODUCT_TURIN:
        return POL_TURIN;
    case CVMA_SNP_PRODUCT_UNKNOWN:
        break;
    }
    return -1;
}

/* One TCB minimum against one TCB_VERSION claim, split in the product's layout. */
static void check_tcb(const struct pol_tcb *min, uint64_t raw, enum cvma_snp_product product,
                      const char *rule, const char *claim, struct cvma_verdict *v)
{
    static const char *const names[] = {"fmc", "bootloader", "tee", "snp", "microcode"};
    const int want[] = {min->fmc, min->bootloader, min->tee, min->snp, min->microcode};
    struct cvma_snp_tcb t;
    struct sb below = {.n = 0};
    if (!min->set) {
        return;
    }
    cvma_snp_tcb_split(raw, product, &t);
    const unsigned got[] = {t.fmc, t.bootloader, t.tee, t.snp, t.microcode};
    for (size_t i = 0; i < CVMA_ARRAY_LEN(names); i++) {
        if (want[i] < 0) {
            continue;
        }
        if (i == 0 && !t.has_fmc) {
            continue; /* FMC exists on Turin and later only: a minimum for it binds those. */
        }
        if ((int)got[i] < want[i]) {
            sb_add(&below, "%s %u < %d", names[i], got[i], want[i]);
        }
    }
    if (below.count > 0) {
        cvma_reject(v, CVMA_R_POLICY_TCB_BELOW_MINIMUM,
                    "%s: %s=%016" PRIx64 " is below the minimum in %s", rule, claim, raw, below.s);
    }
}

static void check_tcb_rule(const struct pol_tcb_rule *r, uint64_t raw,
                           enum cvma_snp_product product, const char *rule, const char *claim,
                           struct cvma_verdict *v)
{
    static const char *const names[POL_N_PRODUCTS] = {"Milan", "Genoa", "Turin"};
    int idx = product_index(product);
    char sub[96];
    bool any_by_product = false;
    check_tcb(&r->all, raw, product, rule, claim, v);
    for (size_t k = 0; k < POL_N_PRODUCTS; k++) {
        any_by_product = any_by_product || r->by_product[k].set;
    }
    if (!any_by_product) {
        return;
    }
    if (idx < 0) {
        snprintf(sub, sizeof sub, "%s.by_product", rule);
        missing(v, sub, "snp.product (Milan, Genoa or Turin)");
        return;
    }
    snprintf(sub, sizeof sub, "%s.by_product.%s", rule, names[idx]);
    check_tcb(&r->by_product[idx], raw, product, sub, claim, v);
}

/* Guest POLICY or PLATFORM_INFO bits; one reason listing every finding. */
static void check_bits(const struct pol_bits *b, const struct pol_bit_key *table, size_t n,
                       bool guest_policy, uint64_t raw, const char *rule, const char *claim,
                       enum cvma_reason code, struct cvma_verdict *v)
{
    struct sb bad = {.n = 0};
    if (!b->set) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t bit = 1ull << table[i].bit;
        if ((b->forbid & bit) && (raw & bit)) {
            sb_add(&bad, "%s (bit %u) set but %s is false", table[i].name, table[i].bit,
                   table[i].key);
        }
        if ((b->require & bit) && !(raw & bit)) {
            sb_add(&bad, "%s (bit %u) clear but %s is true", table[i].name, table[i].bit,
                   table[i].key);
        }
    }
    if (b->reject_unknown) {
        uint64_t unknown = raw & ~b->known;
        if (unknown != 0) {
            sb_add(&bad,
                   "bits 0x%016" PRIx64 " set that no specification defines "
                   "(reject_unknown_bits)",
                   unknown);
        }
        if (guest_policy && !(raw & (1ull << 17))) {
            sb_add(&bad, "reserved bit 17 clear, the ABI requires 1 (reject_unknown_bits)");
        }
    }
    if (b->has_min_abi) {
        unsigned maj = (unsigned)(raw >> 8 & 0xff), min = (unsigned)(raw & 0xff);
        if (maj < b->min_abi_major || (maj == b->min_abi_major && min < b->min_abi_minor)) {
            sb_add(&bad, "ABI %u.%u below minimum_abi %u.%u", maj, min, b->min_abi_major,
                   b->min_abi_minor);
        }
    }
    if (bad.count > 0) {
        cvma_reject(v, code, "%s: %s=0x%016" PRIx64 ": %s", rule, claim, raw, bad.s);
    }
}

/* GSG validateKeys: the ID key is trusted directly, or endorsed by a trusted author key. */
static void check_keys(const struct pol_snp *s, const struct cvma_snp_report *rep,
                       struct cvma_verdict *v)
{
    const uint8_t *idk = rep->id_key_digest, *auk = rep->author_key_digest;
    char hid[97], hau[97];
    bool need = s->require_author_key || s->id_key_digests.set || s->author_key_digests.set;
    if (!need) {
        return;
    }
    cvma_hex_encode(idk, 48, hid, sizeof hid);
    cvma_hex_encode(auk, 48, hau, sizeof hau);
    bool author_en = (rep->signer_info & 1u) != 0; /* AUTHOR_KEY_EN */
    bool author_trusted =
            author_en && s->author_key_digests.set && values_has(&s->author_key_digests, auk);
    if (s->require_author_key) {
        if (!author_en) {
            cvma_reject(v, CVMA_R_POLICY_AUTHOR_KEY,
                        "snp.require_author_key: signer_info.author_key_en is false (no author "
                        "key signed the ID block)");
        } else if (s->author_key_digests.set && !author_trusted) {
            cvma_reject(v, CVMA_R_POLICY_AUTHOR_KEY,
                        "snp.author_key_digests: author_key_digest=%s is not one of the %zu "
                        "trusted author keys",
                        hau, s->author_key_digests.n);
        }
    }
    if (!s->id_key_digests.set && !s->author_key_digests.set) {
        return;
    }
    if (author_trusted || (s->id_key_digests.set && values_has(&s->id_key_digests, idk))) {
        return;
    }
    if (!s->id_key_digests.set) {
        if (s->require_author_key) {
            /* already reported above */
        } else if (!author_en) {
            /* the digest may be a trusted one, but it endorses nothing: say why */
            cvma_reject(v, CVMA_R_POLICY_AUTHOR_KEY,
                        "snp.author_key_digests: signer_info.author_key_en is false (no author "
                        "key signed the ID block), so author_key_digest=%s endorses nothing",
                        hau);
        } else {
            cvma_reject(v, CVMA_R_POLICY_AUTHOR_KEY,
                        "snp.author_key_digests: author_key_digest=%s is not one of the %zu "
                        "trusted author keys",
                        hau, s->author_key_digests.n);
        }
        return;
    }
    cvma_reject(v, CVMA_R_POLICY_ID_KEY,
                "snp.id_key_digests: id_key_digest=%s is not one of the %zu trusted ID keys%s", hid,
                s->id_key_digests.n,
                s->author_key_digests.set ? ", nor endorsed by a trusted author key" : "");
}

static void accept_reason(struct cvma_verdict *v, enum cvma_reason code, enum cvma_severity sev,
                          const char *why);

static void appraise_snp(const struct pol_snp *s, const struct cvma_snp_claims *c,
                         struct cvma_verdict *v)
{
    if (c == NULL) {
        missing(v, "snp", "snp");
        return;
    }
    const struct cvma_snp_report *r = &c->report;
    int product = product_index(c->product);

    /* allow_debug: absent is false (fail closed); SEV-SNP ABI guest POLICY bit 19 DEBUG.
     * true accepts a debug guest deliberately: the verifier's SNP_DEBUG_ALLOWED error
     * becomes a warning (the host can still read the guest's memory). */
    if (s->allow_debug == 1) {
        accept_reason(v, CVMA_R_SNP_DEBUG_ALLOWED, CVMA_SEV_WARNING, "snp.allow_debug is true");
    } else if ((r->policy & (1ull << 19)) != 0) {
        cvma_reject(v, CVMA_R_POLICY_DEBUG,
                    "snp.allow_debug: expected false (DEBUG clear), got guest "
                    "policy=0x%016" PRIx64 " with DEBUG (bit 19) set: the host may decrypt "
                    "this guest",
                    r->policy);
    }
    check_values(&s->measurements, r->measurement, sizeof r->measurement, CVMA_R_POLICY_MEASUREMENT,
                 "snp.measurements", "measurement", v);
    check_values(&s->host_data, r->host_data, sizeof r->host_data, CVMA_R_POLICY_HOST_DATA,
                 "snp.host_data", "host_data", v);
    check_values(&s->family_id, r->family_id, sizeof r->family_id, CVMA_R_POLICY_FAMILY_ID,
                 "snp.family_id", "family_id", v);
    check_values(&s->image_id, r->image_id, sizeof r->image_id, CVMA_R_POLICY_IMAGE_ID,
                 "snp.image_id", "image_id", v);
    check_values(&s->report_id_ma, r->report_id_ma, sizeof r->report_id_ma,
                 CVMA_R_POLICY_REPORT_ID_MA, "snp.report_id_ma", "report_id_ma", v);
    check_values(&s->chip_ids, r->chip_id, sizeof r->chip_id, CVMA_R_POLICY_CHIP_ID, "snp.chip_ids",
                 "chip_id", v);
    check_keys(s, r, v);
    /* GSG validateTcb (c): the minimum binds REPORTED_TCB (the VCEK's TCB); (e): LAUNCH_TCB. */
    check_tcb_rule(&s->minimum_tcb, r->reported_tcb, c->product, "snp.minimum_tcb", "reported_tcb",
                   v);
    check_tcb_rule(&s->minimum_launch_tcb, r->launch_tcb, c->product, "snp.minimum_launch_tcb",
                   "launch_tcb", v);
    if (s->vmpl >= 0 && r->vmpl != (uint32_t)s->vmpl) {
        cvma_reject(v, CVMA_R_POLICY_VMPL, "snp.vmpl: vmpl=%" PRIu32 ", expected %d", r->vmpl,
                    s->vmpl);
    }
    if (s->has_min_guest_svn && r->guest_svn < s->min_guest_svn) {
        cvma_reject(v, CVMA_R_POLICY_GUEST_SVN,
                    "snp.minimum_guest_svn: guest_svn=%" PRIu32 " < %" PRIu32, r->guest_svn,
                    s->min_guest_svn);
    }
    check_bits(&s->guest_policy, cvma_pol_guest_policy_bits, POL_N_GUEST_POLICY_BITS, true,
               r->policy, "snp.guest_policy", "policy", CVMA_R_POLICY_GUEST_POLICY, v);
    check_bits(&s->platform_info, cvma_pol_platform_info_bits, POL_N_PLATFORM_INFO_BITS, false,
               r->platform_info, "snp.platform_info", "platform_info", CVMA_R_POLICY_PLATFORM_INFO,
               v);
    if (s->products != 0) {
        if (product < 0) {
            missing(v, "snp.products", "snp.product (Milan, Genoa or Turin)");
        } else if (!(s->products & (1u << product))) {
            cvma_reject(v, CVMA_R_POLICY_PRODUCT,
                        "snp.products: product=%s is not one the policy lists (%s%s%s%s%s)",
                        cvma_snp_product_name(c->product), (s->products & 1u) ? "Milan" : "",
                        (s->products & 1u) && (s->products & 6u) ? ", " : "",
                        (s->products & 2u) ? "Genoa" : "",
                        (s->products & 2u) && (s->products & 4u) ? ", " : "",
                        (s->products & 4u) ? "Turin" : "");
        }
    }
    unsigned maj = r->current_major, min = r->current_minor;
    if (s->has_min_fw_version &&
        (maj < s->min_fw_major || (maj == s->min_fw_major && min < s->min_fw_minor))) {
        cvma_reject(v, CVMA_R_POLICY_FIRMWARE_VERSION,
                    "snp.minimum_firmware_version: current firmware %u.%u < %u.%u", maj, min,
                    s->min_fw_major, s->min_fw_minor);
    }
    if (s->min_fw_build >= 0 && (int)r->current_build < s->min_fw_build) {
        cvma_reject(v, CVMA_R_POLICY_FIRMWARE_VERSION,
                    "snp.minimum_firmware_build: current_build=%u < %d", r->current_build,
                    s->min_fw_build);
    }
    if (s->require_committed_equals_current) {
        static const char *const pairs[][2] = {{"committed_major", "current_major"},
                                               {"committed_minor", "current_minor"},
                                               {"committed_build", "current_build"}};
        const unsigned vals[][2] = {{r->committed_major, r->current_major},
                                    {r->committed_minor, r->current_minor},
                                    {r->committed_build, r->current_build}};
        struct sb diff = {.n = 0};
        if (r->committed_tcb != r->current_tcb) {
            sb_add(&diff, "committed_tcb=%016" PRIx64 " current_tcb=%016" PRIx64, r->committed_tcb,
                   r->current_tcb);
        }
        for (size_t i = 0; i < CVMA_ARRAY_LEN(pairs); i++) {
            if (vals[i][0] != vals[i][1]) {
                sb_add(&diff, "%s=%u %s=%u", pairs[i][0], vals[i][0], pairs[i][1], vals[i][1]);
            }
        }
        if (diff.count > 0) {
            cvma_reject(v, CVMA_R_POLICY_COMMITTED_TCB, "%s: %s",
                        "snp.require_committed_equals_current", diff.s);
        }
    }
}

/* ---- TDX --------------------------------------------------------------------------------- */

static int status_index(const char *s)
{
    for (size_t i = 0; i < POL_TDX_N_STATUSES; i++) {
        if (strcmp(s, cvma_pol_tdx_status_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/*
 * The reason the verifier records for a status by default (reasons.def; Intel QVL):
 * OutOfDate* is TDX_TCB_OUT_OF_DATE (error), Revoked TDX_TCB_REVOKED (error),
 * TDRelaunchAdvised* TDX_TCB_RELAUNCH_ADVISED (error), every other status but UpToDate
 * TDX_TCB_NEEDS_ACTION (warning). CVMA_R_COUNT_ for UpToDate.
 */
static enum cvma_reason status_reason(const char *s)
{
    if (strcmp(s, "UpToDate") == 0) {
        return CVMA_R_COUNT_;
    }
    if (strcmp(s, "OutOfDate") == 0 || strcmp(s, "OutOfDateConfigurationNeeded") == 0) {
        return CVMA_R_TDX_TCB_OUT_OF_DATE;
    }
    if (strcmp(s, "Revoked") == 0) {
        return CVMA_R_TDX_TCB_REVOKED;
    }
    if (strcmp(s, "TDRelaunchAdvised") == 0 ||
        strcmp(s, "TDRelaunchAdvisedConfigurationNeeded") == 0) {
        return CVMA_R_TDX_TCB_RELAUNCH_ADVISED;
    }
    return CVMA_R_TDX_TCB_NEEDS_ACTION;
}

/*
 * Lowers every reason with this code to sev (one already at sev stays there, noted as accepted
 * all the same) and says why at the end of its detail (the
 * note replaces the detail's tail when the detail is full: the reader must see it).
 */
static void accept_reason(struct cvma_verdict *v, enum cvma_reason code, enum cvma_severity sev,
                          const char *why)
{
    char note[200];
    int k = snprintf(note, sizeof note, " (accepted by policy: %s)", why);
    size_t nl = k > 0 ? (size_t)k : 0;
    if (nl >= sizeof note) {
        nl = sizeof note - 1;
    }
    for (size_t i = 0; i < v->n_reasons; i++) {
        struct cvma_verdict_reason *r = &v->reasons[i];
        if (r->code != code || r->severity < sev) {
            continue;
        }
        r->waived = r->waived || r->severity == CVMA_SEV_ERROR;
        r->severity = sev;
        size_t used = strnlen(r->detail, sizeof r->detail);
        if (used > sizeof r->detail - 1 - nl) {
            used = sizeof r->detail - 1 - nl;
        }
        memcpy(r->detail + used, note, nl);
        r->detail[used + nl] = '\0';
    }
}

/*
 * accepted_tcb_statuses overrides the default mapping both ways: a listed status is accepted
 * deliberately (its reason becomes a warning, "accepted by policy": an accepted TCB is still
 * not up to date, so the result is warning, never affirming, as the signed result's hardware
 * 32 says, docs/results.md); an unlisted one is
 * refused with POLICY_TCB_STATUS even where the default is only a warning. UpToDate is
 * always accepted. Revoked cannot be listed (the loader refuses it).
 */
static void check_tcb_status(const struct pol_tdx *t, const struct cvma_tdx_tcb_result *tcb,
                             struct cvma_verdict *v)
{
    const char *s = tcb->level_found ? tcb->status : "";
    struct sb list = {.n = 0};
    char why[160];
    if (!t->has_accepted) {
        return;
    }
    if (s[0] == '\0') {
        /* No TCB level matched: TDX_TCB_LEVEL_NOT_FOUND already says so and refuses. */
        if (!cvma_verdict_has(v, CVMA_R_TDX_TCB_LEVEL_NOT_FOUND)) {
            missing(v, "tdx.accepted_tcb_statuses", "tdx.tcb_status");
        }
        return;
    }
    if (strcmp(s, "UpToDate") == 0) {
        return;
    }
    int idx = status_index(s);
    if (idx >= 0 && (t->accepted & (1u << idx))) {
        snprintf(why, sizeof why, "tdx.accepted_tcb_statuses lists %s", s);
        accept_reason(v, status_reason(s), CVMA_SEV_WARNING, why);
        return;
    }
    sb_add(&list, "UpToDate");
    for (size_t i = 0; i < POL_TDX_N_STATUSES; i++) {
        if ((t->accepted & (1u << i)) && strcmp(cvma_pol_tdx_status_names[i], "UpToDate") != 0) {
            sb_add(&list, "%s", cvma_pol_tdx_status_names[i]);
        }
    }
    cvma_reject(v, CVMA_R_POLICY_TCB_STATUS,
                "tdx.accepted_tcb_statuses: tcb_status=%.64s is not one of [%s]", s, list.s);
}

static void appraise_tdx(const struct pol_tdx *t, const struct cvma_tdx_claims *c,
                         struct cvma_verdict *v)
{
    static const char *const rtmr_rule[4] = {"tdx.rtmr0", "tdx.rtmr1", "tdx.rtmr2", "tdx.rtmr3"};
    if (c == NULL) {
        missing(v, "tdx", "tdx");
        return;
    }
    const struct cvma_tdx_td_report *b = &c->quote.body;
    /* allow_debug: absent is false (fail closed). TD_ATTRIBUTES bits 7:0 (the TUD group:
     * DEBUG and the profiling bits) set mean not a production TD, as TDX_DEBUG reads them.
     * true accepts a debug TD deliberately: TDX_DEBUG becomes a warning. */
    if (t->allow_debug == 1) {
        accept_reason(v, CVMA_R_TDX_DEBUG, CVMA_SEV_WARNING, "tdx.allow_debug is true");
    } else if ((b->td_attributes & 0xffull) != 0) {
        cvma_reject(v, CVMA_R_POLICY_DEBUG,
                    "tdx.allow_debug: expected false (TD_ATTRIBUTES bits 7:0 clear), got "
                    "td_attributes=%016" PRIx64 " with bits 0x%02" PRIx64 " set (DEBUG is "
                    "bit 0): not a production TD",
                    b->td_attributes, (uint64_t)(b->td_attributes & 0xffu));
    }
    check_values(&t->mr_td, b->mr_td, sizeof b->mr_td, CVMA_R_POLICY_MR_TD, "tdx.mr_td", "mr_td",
                 v);
    check_values(&t->mr_config_id, b->mr_config_id, sizeof b->mr_config_id,
                 CVMA_R_POLICY_MR_CONFIG_ID, "tdx.mr_config_id", "mr_config_id", v);
    check_values(&t->mr_owner, b->mr_owner, sizeof b->mr_owner, CVMA_R_POLICY_MR_OWNER,
                 "tdx.mr_owner", "mr_owner", v);
    check_values(&t->mr_owner_config, b->mr_owner_config, sizeof b->mr_owner_config,
                 CVMA_R_POLICY_MR_OWNER_CONFIG, "tdx.mr_owner_config", "mr_owner_config", v);
    check_values(&t->mr_seam, b->mr_seam, sizeof b->mr_seam, CVMA_R_POLICY_MR_SEAM, "tdx.mr_seam",
                 "mr_seam", v);
    for (size_t i = 0; i < 4; i++) {
        char claim[16];
        snprintf(claim, sizeof claim, "rtmr[%zu]", i);
        check_values(&t->rtmr[i], b->rtmr[i], sizeof b->rtmr[i], CVMA_R_POLICY_RTMR, rtmr_rule[i],
                     claim, v);
    }
    if (t->mr_service_td.set) {
        /* A TD report 1.0 has no MRSERVICETD: no service TD can be bound, read it as zeros. */
        static const uint8_t none[48];
        const uint8_t *val = b->is_v15 ? b->mr_service_td : none;
        if (t->mr_service_td.len != sizeof b->mr_service_td) {
            missing(v, "tdx.mr_service_td", "mr_service_td");
        } else if (!values_has(&t->mr_service_td, val)) {
            char got[97], want[97];
            cvma_hex_encode(val, 48, got, sizeof got);
            cvma_hex_encode(t->mr_service_td.v, 48, want, sizeof want);
            cvma_reject(v, CVMA_R_POLICY_MR_SERVICE_TD,
                        "tdx.mr_service_td: mr_service_td=%s is not one of the %zu allowed "
                        "values (first: %s)",
                        got, t->mr_service_td.n, want);
        } else {
            accept_reason(v, CVMA_R_TDX_SERVICE_TD_BOUND, CVMA_SEV_INFO, "tdx.mr_service_td");
        }
    }
    if (t->has_min_tee_tcb_svn) {
        const uint8_t *svn = b->tee_tcb_svn;
        struct sb below = {.n = 0};
        for (size_t i = 0; i < 16; i++) {
            if (svn[i] < t->min_tee_tcb_svn[i]) {
                sb_add(&below, "byte %zu: %u < %u", i, svn[i], t->min_tee_tcb_svn[i]);
            }
        }
        if (below.count > 0) {
            char got[33];
            cvma_hex_encode(svn, 16, got, sizeof got);
            cvma_reject(v, CVMA_R_POLICY_TEE_TCB_SVN,
                        "tdx.minimum_tee_tcb_svn: tee_tcb_svn=%s is below the minimum in %s", got,
                        below.s);
        }
    }
    uint64_t u = b->td_attributes;
    if (t->has_td_attributes && u != t->td_attributes) {
        cvma_reject(v, CVMA_R_POLICY_TD_ATTRIBUTES,
                    "tdx.td_attributes: td_attributes=%016" PRIx64 ", expected %016" PRIx64
                    " (differing bits %016" PRIx64 ")",
                    u, t->td_attributes, u ^ t->td_attributes);
    }
    u = b->xfam;
    if (t->has_xfam && u != t->xfam) {
        cvma_reject(v, CVMA_R_POLICY_XFAM,
                    "tdx.xfam: xfam=%016" PRIx64 ", expected %016" PRIx64
                    " (differing bits %016" PRIx64 ")",
                    u, t->xfam, u ^ t->xfam);
    }
    check_tcb_status(t, &c->tcb, v);
}

/* see appraise/policy.h */
void cvma_policy_appraise(const struct cvma_policy *p, struct cvma_result *res)
{
    char allowed[80];
    if (p == NULL) {
        return;
    }
    unsigned tee = cvma_pol_tee_bit(res->tee);
    /* The kind needs no claim: it is checked on unverified evidence too, so that evidence the
     * policy refuses whatever its collateral says is refused (exit 1), not left undecided
     * (exit 3) for want of collateral. Evidence of no known kind (unparsed) is not, and no
     * other rule reads unverified claims. */
    if (p->allowed_tees != 0 && !(p->allowed_tees & tee) && (tee != 0 || res->claims.verified)) {
        cvma_reject(&res->verdict, CVMA_R_POLICY_TEE_NOT_ALLOWED,
                    "allowed_tees: the evidence is %s, the policy accepts only %s",
                    res->tee ? res->tee : "of no known kind",
                    tee_name_list(p->allowed_tees, allowed, sizeof allowed));
    }
    if (!res->claims.verified) {
        return;
    }
    appraise_common(p, res);
    appraise_registry_log(p, res);
    if (tee != 0 && (p->allowed_tees & tee) != 0) {
        appraise_unapplied(p, tee, res->tee, &res->verdict); /* a kind refused is said above */
    }
    if (tee == POL_TEE_SNP && p->snp.present) {
        appraise_snp(&p->snp, cvma_snp_claims_of(res), &res->verdict);
    } else if (tee == POL_TEE_TDX && p->tdx.present) {
        appraise_tdx(&p->tdx, cvma_tdx_claims_of(res), &res->verdict);
    }
    /* Azure: the snp / tdx section applies to the hardware report inside the HCL report,
     * the tpm section to the vTPM quote's PCRs, the azure section to the runtime claims. */
    if (tee == POL_TEE_AZURE_SNP && p->snp.present) {
        appraise_snp(&p->snp, cvma_claims_find(&res->claims, &cvma_snp_claims_ops), &res->verdict);
    } else if (tee == POL_TEE_AZURE_TDX && p->tdx.present) {
        appraise_tdx(&p->tdx, cvma_claims_find(&res->claims, &cvma_tdx_claims_ops), &res->verdict);
    }
    /* svsm-vtpm: the snp section on the SVSM's SEV-SNP report, tpm on the vTPM quote. */
    if (tee == POL_TEE_SVSM_VTPM && p->snp.present) {
        appraise_snp(&p->snp, cvma_claims_find(&res->claims, &cvma_snp_claims_ops), &res->verdict);
    }
    /* The tpm section on the quote of kind tpm and on the vTPM quote of the others; eventlog on
     * any kind; azure on the runtime claims. All only on registers and claims whose quote's AK
     * something vouches for: for the vTPM kinds, a hardware report whose launch the policy pins
     * (cvma_policy_pins_launch), or the AK itself pinned. */
    bool tpm_applies = (tee & (POL_TEE_TPM | POL_TEE_AZURE | POL_TEE_SVSM_VTPM)) != 0;
    bool azure_applies = (tee & POL_TEE_AZURE) != 0 && p->azure.present;
    cvma_policy_appraise_quote(tpm_applies && p->tpm.present ? &p->tpm : NULL,
                               p->eventlog.present ? &p->eventlog : NULL,
                               azure_applies ? &p->azure : NULL,
                               cvma_policy_pins_launch(p, res->tee), res);
}

/* see appraise/policy.h */
bool cvma_policy_pins_launch(const struct cvma_policy *p, const char *tee)
{
    if (p == NULL || tee == NULL) {
        return false;
    }
    if (strcmp(tee, "azure-snp") == 0 || strcmp(tee, "svsm-vtpm") == 0) {
        /* The launch digest, or the ID key (or its author key) that signed the ID block the
         * firmware checked it against (SNP ABI, SNP_LAUNCH_FINISH): each names what was
         * launched at VMPL 0. host_data, family_id, image_id are whoever launched it's choice. */
        return p->snp.present && (p->snp.measurements.set || p->snp.id_key_digests.set ||
                                  p->snp.author_key_digests.set);
    }
    if (strcmp(tee, "azure-tdx") == 0) {
        return p->tdx.present && p->tdx.mr_td.set; /* MRTD: the TD's initial image */
    }
    return false;
}
