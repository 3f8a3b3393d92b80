/*
 * Binding a verified result's platform to a provider: the registry set's registries,
 * proofs and lookup registries (registry_set.c, bind_rollback.c, bind_lookup.c).
 * See registry/registry.h for the contract and docs/registry.md for the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collateral/cache.h"
#include "collateral/http.h"
#include "common/hex.h"
#include "common/reader.h"
#include "registry/bind_internal.h"
#include "registry/registry.h"

/* ---------- the platform of a result ---------- */

struct platform {
    struct cvma_reg_entry primary;
    bool has_secondary; /* VLEK evidence that also carries a CHIP_ID */
    struct cvma_reg_entry secondary;
    uint8_t id[CVMA_REG_CSP_MAX];
    uint8_t chip[CVMA_REG_CHIP_ID_LEN];
    char desc[200];
};

/* "amd chip_id 5a5a...", for a detail: the identifier cut to 32 characters. */
static void entry_desc(const struct cvma_reg_entry *e, char *out, size_t out_len)
{
    char hex[2 * CVMA_REG_CHIP_ID_LEN + 1];
    cvma_reg_entry_id_string(e, hex, sizeof hex);
    snprintf(out, out_len, "%s %s %.32s%s", cvma_reg_vendor_name((enum cvma_reg_vendor)e->vendor),
             cvma_reg_id_type_name((enum cvma_reg_id_type)e->id_type), hex,
             strlen(hex) > 32 ? "..." : "");
}

static enum cvma_status platform_parse(const struct cvma_platform *pl, struct platform *p,
                                       struct cvma_verdict *v)
{
    const char *vendor = cvma_platform_vendor_name(pl->vendor);
    const char *type = cvma_platform_id_type_name(pl->id_type);

    memset(p, 0, sizeof *p);
    if (!pl->present) {
        return cvma_reject(v, CVMA_R_REGISTRY_NO_PLATFORM_ID,
                           "the evidence carries no platform identifier (a bare TPM quote, "
                           "say): no registry can list it, so no provider is bound");
    }
    p->primary.id = p->id;
    if (pl->vendor == CVMA_PLATFORM_AMD && pl->id_type == CVMA_PLATFORM_CHIP_ID) {
        p->primary.vendor = CVMA_REG_AMD;
        p->primary.id_type = CVMA_REG_CHIP_ID;
        p->primary.id_len = CVMA_REG_CHIP_ID_LEN;
        if (!pl->has_id || (pl->id_len == CVMA_REG_CHIP_ID_LEN &&
                            cvma_bytes_are_zero(pl->id, CVMA_REG_CHIP_ID_LEN))) {
            return cvma_reject(v, CVMA_R_REGISTRY_CHIP_ID_MASKED,
                               "the report's CHIP_ID is masked (all zero: the host set "
                               "MASK_CHIP_ID), so no registry entry can name this platform");
        }
        if (pl->id_len != CVMA_REG_CHIP_ID_LEN) {
            return cvma_reject(v, CVMA_R_REGISTRY_NO_PLATFORM_ID,
                               "platform id is not a 64-byte CHIP_ID");
        }
        memcpy(p->id, pl->id, CVMA_REG_CHIP_ID_LEN);
    } else if (pl->vendor == CVMA_PLATFORM_AMD && pl->id_type == CVMA_PLATFORM_VLEK) {
        if (!pl->has_id || pl->id_len == 0 || pl->id_len > CVMA_REG_CSP_MAX) {
            return cvma_reject(v, CVMA_R_REGISTRY_NO_PLATFORM_ID,
                               "VLEK platform without a usable cspID (1..%d characters)",
                               CVMA_REG_CSP_MAX);
        }
        p->primary.vendor = CVMA_REG_AMD;
        p->primary.id_type = CVMA_REG_VLEK_CSP;
        p->primary.id_len = (uint16_t)pl->id_len;
        memcpy(p->id, pl->id, pl->id_len);
        if (pl->has_chip_id && !cvma_bytes_are_zero(pl->chip_id, CVMA_REG_CHIP_ID_LEN)) {
            memcpy(p->chip, pl->chip_id, CVMA_REG_CHIP_ID_LEN);
            p->has_secondary = true;
            p->secondary.vendor = CVMA_REG_AMD;
            p->secondary.id_type = CVMA_REG_CHIP_ID;
            p->secondary.id_len = CVMA_REG_CHIP_ID_LEN;
            p->secondary.id = p->chip;
        }
    } else if (pl->vendor == CVMA_PLATFORM_INTEL && pl->id_type == CVMA_PLATFORM_PPID) {
        p->primary.vendor = CVMA_REG_INTEL;
        p->primary.id_type = CVMA_REG_PPID;
        p->primary.id_len = CVMA_REG_PPID_LEN;
        if (!pl->has_id || pl->id_len != CVMA_REG_PPID_LEN ||
            cvma_bytes_are_zero(pl->id, CVMA_REG_PPID_LEN)) {
            return cvma_reject(v, CVMA_R_REGISTRY_NO_PLATFORM_ID,
                               "no PPID to bind (a quote whose PCK certificate was not embedded "
                               "carries only an encrypted PPID)");
        }
        memcpy(p->id, pl->id, CVMA_REG_PPID_LEN);
    } else {
        return cvma_reject(v, CVMA_R_REGISTRY_NO_PLATFORM_ID,
                           "platform %.20s/%.20s cannot be listed in a registry",
                           vendor ? vendor : "(unknown vendor)", type ? type : "(unknown type)");
    }
    entry_desc(&p->primary, p->desc, sizeof p->desc);
    return CVMA_OK;
}

static bool platform_is(const struct platform *p, const struct cvma_reg_entry *e)
{
    return cvma_reg_entry_cmp(&p->primary, e) == 0 ||
           (p->has_secondary && cvma_reg_entry_cmp(&p->secondary, e) == 0);
}

/* The registry's tree is the proof's: the same root over the same number of leaves. */
static bool same_tree(const struct cvma_registry *r, const struct cvma_reg_proof *pr)
{
    return memcmp(r->merkle_root, pr->merkle_root, 32) == 0 && r->leaf_count == pr->tree_size;
}

/* ---------- binding ---------- */

static enum cvma_status prepare_registry(struct cvma_registry_set *rs, struct reg_item *it)
{
    struct cvma_verdict tmp;
    enum cvma_status st;
    if (it->prepared) {
        return CVMA_OK;
    }
    cvma_verdict_init(&tmp);
    st = cvma_registry_verify(it->bytes.p, it->bytes.len, it->origin, rs->prov, rs->n_prov,
                              &it->reg, &tmp);
    if (st == CVMA_E_NOMEM || tmp.oom) {
        cvma_verdict_cleanup(&tmp);
        return CVMA_E_NOMEM;
    }
    it->fail_code = CVMA_R_COUNT_;
    if (st != CVMA_OK && tmp.n_reasons > 0) {
        it->fail_code = tmp.reasons[0].code;
        snprintf(it->fail_detail, sizeof it->fail_detail, "%s", tmp.reasons[0].detail);
    } else if (st != CVMA_OK) {
        it->fail_code = CVMA_R_REGISTRY_MALFORMED;
        snprintf(it->fail_detail, sizeof it->fail_detail, "%s: could not be read", it->origin);
    }
    cvma_verdict_cleanup(&tmp);
    memset(&it->claimed, 0, sizeof it->claimed);
    if (it->fail_code != CVMA_R_COUNT_ &&
        cvma_registry_claimed_read(it->bytes.p, it->bytes.len, &it->claimed) != CVMA_OK) {
        return CVMA_E_NOMEM; /* left unprepared: the next binding tries again */
    }
    it->prepared = true;
    return CVMA_OK;
}

/* Parses a proof once. Out of memory is not remembered as a refusal: the item stays
 * unprepared (the next verification tries again) and CVMA_E_NOMEM is returned. */
static enum cvma_status prepare_proof(struct proof_item *it)
{
    enum cvma_status st;
    if (it->prepared) {
        return CVMA_OK;
    }
    st = cvma_reg_proof_parse(it->bytes.p, it->bytes.len, &it->proof, it->fail, sizeof it->fail);
    if (st == CVMA_E_NOMEM) {
        return st;
    }
    it->ok = st == CVMA_OK;
    it->prepared = true;
    return CVMA_OK;
}

/* see registry/registry.h */
enum cvma_status cvma_registry_set_prepare(struct cvma_registry_set *rs)
{
    for (size_t i = 0; i < rs->n_regs; i++) {
        if (prepare_registry(rs, &rs->regs[i]) != CVMA_OK) {
            return CVMA_E_NOMEM;
        }
    }
    for (size_t i = 0; i < rs->n_proofs; i++) {
        if (prepare_proof(&rs->proofs[i]) != CVMA_OK) {
            return CVMA_E_NOMEM;
        }
    }
    return cvma_bind_log_prepare(rs);
}

/* A registry, or a lookup registry, that lists the platform. */
struct claim {
    const char *provider;
    const char *origin;             /* the registry as given, or the lookup registry's URL */
    const struct cvma_reg_entry *e; /* the entry that lists it; NULL: a lookup answer */
    bool primary;                   /* e is for the platform's own identifier, not a VLEK
                                       platform's CHIP_ID */
    const char *zone;               /* a lookup answer's zone ("" when it gave none) */
};

/* Notes that registry it lists the platform by entry e (one of its included entries, or a
 * proof's leaf). A registry that lists a VLEK platform by both identifiers is kept with its
 * cspID entry, whichever was found first. */
static void note_listing(struct claim *c, const struct reg_item *it, const struct platform *p,
                         const struct cvma_reg_entry *e)
{
    bool primary = cvma_reg_entry_cmp(&p->primary, e) == 0;
    if (c->e == NULL || (primary && !c->primary)) {
        c->provider = it->reg.provider;
        c->origin = it->origin;
        c->e = e;
        c->primary = primary;
    }
}

/* By provider, then the platform's own identifier first, then origin: whatever order the
 * registries were given in, the same claim comes first. */
static int claim_cmp(const void *a, const void *b)
{
    const struct claim *x = a, *y = b;
    int c = strcmp(x->provider, y->provider);
    if (c == 0) {
        c = (int)y->primary - (int)x->primary;
    }
    return c != 0 ? c : strcmp(x->origin, y->origin);
}

/*
 * Sorts the n (> 0) claims. One provider among them: returns false, and c[0] is the one to
 * bind. More than one: a platform is in one provider's data centre, so at least one of those
 * registries is wrong, and neither the order they were given in nor a policy may choose:
 * REGISTRY_PROVIDER_CONFLICT naming each provider, the identifier it lists and where, and true.
 */
static bool providers_conflict(struct claim *c, size_t n, const struct platform *p,
                               struct cvma_verdict *v)
{
    char who[CVMA_DETAIL_MAX] = "", id[200];
    size_t providers = 0;
    qsort(c, n, sizeof *c, claim_cmp);
    if (strcmp(c[0].provider, c[n - 1].provider) == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(c[i].provider, c[i - 1].provider) == 0) {
            continue;
        }
        providers++;
        id[0] = '\0';
        if (c[i].e != NULL && !c[i].primary) {
            snprintf(id, sizeof id, ", by ");
            entry_desc(c[i].e, id + strlen(id), sizeof id - strlen(id));
        }
        append(who, sizeof who, "%s%s%s (%s%s)", who[0] ? "; " : "", c[i].provider, id,
               c[i].e != NULL ? "" : "lookup registry ", c[i].origin);
    }
    cvma_reject(v, CVMA_R_REGISTRY_PROVIDER_CONFLICT,
                "%s is listed by %zu providers, so it is bound to none (a platform is in one "
                "provider's data centre: one of these registries is wrong): %s",
                p->desc, providers, who);
    return true;
}

/* The bound provider and its entry's labels into the result's platform. via_lookup: bound by
 * a lookup registry's answer (zone, when it gave one, is its label). */
static void set_bound(struct cvma_platform *pl, const char *provider,
                      const struct cvma_reg_entry *e, bool via_lookup, const char *zone,
                      bool via_log)
{
    pl->bound = true;
    pl->bound_via_log = via_log;
    pl->bound_via_lookup = via_lookup;
    snprintf(pl->provider, sizeof pl->provider, "%s", provider);
    pl->n_labels = 0;
    for (size_t i = 0; e != NULL && i < e->n_labels && i < CVMA_PLATFORM_LABELS_MAX; i++) {
        struct cvma_platform_label *l = &pl->labels[pl->n_labels++];
        snprintf(l->key, sizeof l->key, "%s", e->labels[i].key);
        snprintf(l->value, sizeof l->value, "%s", e->labels[i].value);
    }
    if (zone != NULL && zone[0]) {
        struct cvma_platform_label *l = &pl->labels[pl->n_labels++];
        snprintf(l->key, sizeof l->key, "zone");
        snprintf(l->value, sizeof l->value, "%s", zone);
    }
}

enum cvma_status cvma_registry_bind(struct cvma_registry_set *rs,
                                    const struct cvma_registry_bind_opts *o,
                                    struct cvma_result *res)
{
    struct cvma_verdict *v = &res->verdict;
    struct platform plat;
    struct cvma_cache cache = {0};
    bool have_cache = false, failed = false, undecided = false;
    bool *valid = NULL, *skipped = NULL, conflict = false;
    struct claim *claims = NULL; /* step 2: one a registry, by index; step 3: one a lookup */
    size_t n_claims = 0;
    char(*zones)[CVMA_REG_LABEL_VALUE_MAX + 1] = NULL; /* each lookup registry's answer */
    const char *bound_provider = NULL;
    const struct cvma_reg_entry *bound_entry = NULL; /* its labels */
    bool by_lookup = false;                          /* bound by a lookup registry's answer */
    const char *bound_zone = NULL;                   /* its zone: label "zone" */
    char consulted[CVMA_DETAIL_MAX] = "", unavailable[CVMA_DETAIL_MAX] = "";
    char detail[CVMA_DETAIL_MAX];
    enum cvma_status st = CVMA_E_NOMEM;

    if (cvma_registry_set_empty(rs)) {
        return CVMA_OK;
    }
    enum cvma_status cst = cvma_cache_init(&cache, o->cache_dir);
    if (cst == CVMA_E_NOMEM) {
        goto out; /* not "no state directory": that would only warn */
    }
    have_cache = cst == CVMA_OK;
    if (rs->n_regs > 0 && ((valid = calloc(rs->n_regs, sizeof *valid)) == NULL ||
                           (skipped = calloc(rs->n_regs, sizeof *skipped)) == NULL)) {
        goto out;
    }
    if (rs->n_regs + rs->n_lookups > 0 &&
        (claims = calloc(rs->n_regs + rs->n_lookups, sizeof *claims)) == NULL) {
        goto out;
    }
    if (rs->n_lookups > 0 && (zones = calloc(rs->n_lookups, sizeof *zones)) == NULL) {
        goto out;
    }

    /* 1. Every registry: signature, time, rollback. */
    for (size_t i = 0; i < rs->n_regs; i++) {
        struct reg_item *it = &rs->regs[i];
        if (prepare_registry(rs, it) != CVMA_OK) {
            goto out;
        }
        if (it->fail_code != CVMA_R_COUNT_) {
            cvma_reject(v, it->fail_code, "%s", it->fail_detail);
            failed = true;
            continue;
        }
        if (cvma_registry_check_time(&it->reg, o->at, it->origin, v) != CVMA_OK) {
            failed = true;
            continue;
        }
        /* A provider with a log key: only a registry its witnessed log shows. */
        bool logged = true;
        enum cvma_status lst = cvma_bind_log_check(rs, it, have_cache ? cache.dir : NULL, o, v,
                                                   &logged, detail, sizeof detail);
        if (lst == CVMA_UNDECIDED) {
            /* Not used: the log's tiles could not be had. As below for a rollback state that
             * cannot be checked: bound by another registry, or undecided. */
            append(unavailable, sizeof unavailable, "%s%s: %s", unavailable[0] ? "; " : "",
                   it->origin, detail);
            undecided = true;
            skipped[i] = true;
            continue;
        }
        if (lst != CVMA_OK) {
            goto out;
        }
        if (!logged) {
            failed = true;
            continue;
        }
        switch (cvma_bind_rollback_check_store(rs, o->store, have_cache ? cache.dir : NULL,
                                               &it->reg, detail, sizeof detail)) {
        case RB_OK:
            break;
        case RB_ROLLBACK:
            cvma_reject(v, CVMA_R_REGISTRY_ROLLBACK, "%s: %s", it->origin, detail);
            failed = true;
            continue;
        case RB_NOT_CHECKED:
            cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                             "%s: rollback not checked: %s", it->origin, detail);
            break;
        case RB_NOMEM:
            st = CVMA_E_NOMEM;
            goto out;
        case RB_UNAVAILABLE:
            /* Not used: the platform is bound by another registry, or undecided below. */
            cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                             "%s: not used: its rollback state could not be checked: %s",
                             it->origin, detail);
            append(unavailable, sizeof unavailable, "%s%s: rollback state: %s",
                   unavailable[0] ? "; " : "", it->origin, detail);
            undecided = true;
            skipped[i] = true;
            continue;
        }
        valid[i] = true;
        append(consulted, sizeof consulted, "%sregistry %s (%s v%" PRIu64 ", %s)",
               consulted[0] ? "; " : "", it->origin, it->reg.provider, it->reg.version,
               it->reg.has_entries ? "entries" : "root only");
    }
    /* The state file sees the registries in the order given: an older one given before a
     * newer one of the same provider passed it above. It is a rollback all the same (the
     * next verification would say so), so it must not list the platform now. */
    for (size_t i = 0; i < rs->n_regs; i++) {
        for (size_t j = 0; valid[i] && j < rs->n_regs; j++) {
            const struct cvma_registry *a = &rs->regs[i].reg, *b = &rs->regs[j].reg;
            if (j == i || !valid[j] || strcmp(a->provider, b->provider) != 0 ||
                b->version < a->version ||
                (b->version == a->version && memcmp(a->merkle_root, b->merkle_root, 32) == 0)) {
                continue;
            }
            cvma_reject(v, CVMA_R_REGISTRY_ROLLBACK,
                        "%s: provider %s registry version %" PRIu64 " is %s version %" PRIu64
                        " given in %s",
                        rs->regs[i].origin, a->provider, a->version,
                        b->version > a->version ? "older than" : "another registry under",
                        b->version, rs->regs[j].origin);
            valid[i] = false;
            failed = true;
        }
    }
    /* A registry not used only because its log or rollback state could not be checked
     * (skipped: its signature and time passed) still supersedes an older one of its provider:
     * were it ignored, an older registry could list a platform the newer one removed whenever
     * the log or the store is out of reach. The older one is not used either: undecided, as
     * the newer one is. One of the same version with another root needs neither log nor
     * store: two registries the provider signed under one number are a rollback or a split
     * view whichever the fleet saw, refused as two checked ones are above. */
    for (size_t i = 0; i < rs->n_regs; i++) {
        for (size_t j = 0; valid[i] && j < rs->n_regs; j++) {
            const struct cvma_registry *a = &rs->regs[i].reg, *b = &rs->regs[j].reg;
            if (!skipped[j] || strcmp(a->provider, b->provider) != 0 || b->version < a->version ||
                (b->version == a->version && memcmp(a->merkle_root, b->merkle_root, 32) == 0)) {
                continue;
            }
            if (b->version == a->version) {
                cvma_reject(v, CVMA_R_REGISTRY_ROLLBACK,
                            "%s: provider %s registry version %" PRIu64
                            " is another registry under version %" PRIu64
                            " given in %s, which could not be checked",
                            rs->regs[i].origin, a->provider, a->version, b->version,
                            rs->regs[j].origin);
                valid[i] = false;
                failed = true;
                continue;
            }
            cvma_verdict_add(v, CVMA_R_REGISTRY_ROLLBACK_NOT_CHECKED, CVMA_SEV_WARNING,
                             "%s: not used: provider %s version %" PRIu64 " is %s version %" PRIu64
                             " given in %s, which could not be checked",
                             rs->regs[i].origin, a->provider, a->version,
                             b->version > a->version ? "older than" : "another registry under",
                             b->version, rs->regs[j].origin);
            append(unavailable, sizeof unavailable,
                   "%s%s: not used: provider %s version %" PRIu64 " is %s version %" PRIu64
                   " given in %s, which could not be checked",
                   unavailable[0] ? "; " : "", rs->regs[i].origin, a->provider, a->version,
                   b->version > a->version ? "older than" : "another registry under", b->version,
                   rs->regs[j].origin);
            valid[i] = false;
            skipped[i] = true;
            undecided = true;
        }
    }

    /* Every registry given was checked above, whatever the platform: the operator named them
     * and hears of a bad one even when the evidence carries nothing a registry can list. */
    if (platform_parse(&res->platform, &plat, v) != CVMA_OK) {
        st = CVMA_REJECTED;
        goto out;
    }

    /* 2a. Included entries of every valid registry. */
    for (size_t i = 0; i < rs->n_regs; i++) {
        const struct cvma_registry *r = &rs->regs[i].reg;
        size_t k = SIZE_MAX;
        if (!valid[i] || !r->has_entries) {
            continue;
        }
        k = cvma_reg_entries_find(&r->entries, &plat.primary);
        if (k == SIZE_MAX && plat.has_secondary) {
            k = cvma_reg_entries_find(&r->entries, &plat.secondary);
        }
        if (k != SIZE_MAX) {
            note_listing(&claims[i], &rs->regs[i], &plat, &r->entries.v[k]);
        }
    }

    /* 2b. Proofs for this platform. */
    for (size_t i = 0; i < rs->n_proofs; i++) {
        struct proof_item *it = &rs->proofs[i];
        const struct cvma_reg_proof *pr = &it->proof;
        size_t match = SIZE_MAX, same_provider = SIZE_MAX, failed_match = SIZE_MAX;
        if (prepare_proof(it) != CVMA_OK) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        if (!it->ok) {
            cvma_reject(v, CVMA_R_REGISTRY_PROOF_INVALID, "%s: %s", it->origin, it->fail);
            failed = true;
            continue;
        }
        if (!platform_is(&plat, &pr->leaf.v[0])) {
            append(consulted, sizeof consulted, "%sproof %s (another platform)",
                   consulted[0] ? "; " : "", it->origin);
            continue;
        }
        if (!cvma_reg_proof_check(pr)) {
            cvma_reject(v, CVMA_R_REGISTRY_PROOF_INVALID,
                        "%s: the audit path does not lead from the leaf (index %" PRIu64
                        " of %" PRIu64 ") to the proof's merkle_root",
                        it->origin, pr->leaf_index, pr->tree_size);
            failed = true;
            continue;
        }
        for (size_t j = 0; j < rs->n_regs; j++) {
            const struct cvma_registry *r = &rs->regs[j].reg;
            const struct cvma_registry_claimed *c = &rs->regs[j].claimed;
            if (rs->regs[j].fail_code != CVMA_R_COUNT_) {
                /* A registry that failed step 1 (its reason recorded): matched by what its
                 * payload claims, and only when no verified registry matches. */
                if (c->ok && failed_match == SIZE_MAX &&
                    (!pr->has_provider || strcmp(pr->provider, c->provider) == 0) &&
                    memcmp(c->merkle_root, pr->merkle_root, 32) == 0 &&
                    c->leaf_count == pr->tree_size) {
                    failed_match = j;
                }
                continue;
            }
            if (pr->has_provider && strcmp(pr->provider, r->provider) != 0) {
                continue;
            }
            if (same_provider == SIZE_MAX) {
                same_provider = j;
            }
            if (!same_tree(r, pr)) {
                continue;
            }
            /* A valid registry over one that failed its time or rollback check, whatever
             * the order they were given in. */
            if (match == SIZE_MAX || (!valid[match] && valid[j])) {
                match = j;
            }
        }
        if (match == SIZE_MAX && failed_match != SIZE_MAX) {
            /* A proof for a registry that failed step 1 adds nothing: its reason stands. */
            append(consulted, sizeof consulted, "%sproof %s (for %s, not valid)",
                   consulted[0] ? "; " : "", it->origin, rs->regs[failed_match].origin);
            continue;
        }
        if (match == SIZE_MAX) {
            char a[65], b[65];
            cvma_hex_encode(pr->merkle_root, 32, a, sizeof a);
            if (same_provider != SIZE_MAX) {
                const struct cvma_registry *r = &rs->regs[same_provider].reg;
                cvma_hex_encode(r->merkle_root, 32, b, sizeof b);
                cvma_reject(v, CVMA_R_REGISTRY_PROOF_INVALID,
                            "%s: proof for root %.16s... (%" PRIu64 " leaves), but registry %s "
                            "of %s (version %" PRIu64 ") has root %.16s... (%" PRIu64 " leaves)",
                            it->origin, a, pr->tree_size, rs->regs[same_provider].origin,
                            r->provider, r->version, b, r->leaf_count);
            } else {
                cvma_reject(v, CVMA_R_REGISTRY_PROOF_INVALID,
                            "%s: no registry%s%s was given whose root is %.16s...", it->origin,
                            pr->has_provider ? " of provider " : "",
                            pr->has_provider ? pr->provider : "", a);
            }
            failed = true;
            continue;
        }
        if (!valid[match]) {
            continue; /* that registry's own reason (expired, rollback...) is recorded */
        }
        append(consulted, sizeof consulted, "%sproof %s", consulted[0] ? "; " : "", it->origin);
        /* Every valid registry of this root and size holds the leaf, whichever provider signed
         * it and whichever the proof names: another trusted provider's registry over the same
         * entries lists the platform too, as its included entries would show. */
        for (size_t j = 0; j < rs->n_regs; j++) {
            if (valid[j] && same_tree(&rs->regs[j].reg, pr)) {
                note_listing(&claims[j], &rs->regs[j], &plat, &pr->leaf.v[0]);
            }
        }
    }

    /* 2c. Who lists it: one provider (in one or several of its registries) binds it; two or
     * more bind it to none (docs/registry.md "Binding", step 5). */
    for (size_t i = 0; i < rs->n_regs; i++) {
        if (claims[i].e != NULL) {
            claims[n_claims++] = claims[i];
        }
    }
    if (n_claims > 0) {
        conflict = providers_conflict(claims, n_claims, &plat, v);
        if (!conflict) {
            bound_provider = claims[0].provider;
            bound_entry = claims[0].e;
        }
    }

    /* 3. Lookup registries: Intel PPIDs only, and only when nothing signed lists it, whatever
     * a policy requires (docs/registry.md "Binding", step 4): an unsigned answer never
     * displaces a signed listing. Every one is asked, so that two that both list the
     * platform are a conflict whatever their order. */
    bool unsettled = false; /* a signed registry not used for want of its log or state */
    for (size_t i = 0; i < rs->n_regs; i++) {
        unsettled = unsettled || skipped[i];
    }
    if (n_claims == 0 && !failed && unsettled && rs->n_lookups > 0) {
        /* What that registry lists is not known: an unsigned answer could bind the platform
         * to another provider than a signed listing would. Undecided instead (below). */
        append(unavailable, sizeof unavailable,
               "%slookup registries not consulted: a signed registry could not be checked",
               unavailable[0] ? "; " : "");
    }
    if (n_claims == 0 && !failed && !unsettled && rs->n_lookups > 0) {
        if (plat.primary.vendor != CVMA_REG_INTEL) {
            append(consulted, sizeof consulted,
                   "%slookup registries (Intel PPIDs only, not consulted)",
                   consulted[0] ? "; " : "");
        }
        for (size_t i = 0; i < rs->n_lookups && plat.primary.vendor == CVMA_REG_INTEL; i++) {
            enum lk_result lr =
                    cvma_bind_lookup(&rs->lookups[i], plat.id, have_cache ? &cache : NULL, o,
                                     zones[i], sizeof zones[i], detail, sizeof detail);
            if (lr == LK_NOMEM) {
                goto out;
            }
            if (lr == LK_LISTED) {
                claims[n_claims++] = (struct claim){.provider = rs->lookups[i].name,
                                                    .origin = rs->lookups[i].base,
                                                    .zone = zones[i]};
                continue;
            }
            if (lr == LK_NOT_LISTED) {
                append(consulted, sizeof consulted, "%slookup %s (404)", consulted[0] ? "; " : "",
                       rs->lookups[i].name);
            } else {
                append(unavailable, sizeof unavailable, "%s%s", unavailable[0] ? "; " : "", detail);
                undecided = true;
            }
        }
        /* One that could not answer does not stand in the way of one that listed it, as
         * for a registry whose rollback state could not be checked (step 1). */
        if (n_claims > 0) {
            conflict = providers_conflict(claims, n_claims, &plat, v);
            if (!conflict) {
                bound_provider = claims[0].provider;
                bound_zone = claims[0].zone;
                by_lookup = true;
            }
        }
    }

    if (bound_provider != NULL) {
        /* Bound by a registry (not a lookup) of a provider with a log key: that registry
         * passed cvma_bind_log_check, so it is one the provider's witnessed log shows. */
        bool via_log = false;
        for (size_t i = 0; !by_lookup && i < rs->n_log_keys; i++) {
            via_log = via_log || strcmp(rs->log_keys[i].provider, bound_provider) == 0;
        }
        set_bound(&res->platform, bound_provider, bound_entry, by_lookup, bound_zone, via_log);
        st = failed ? CVMA_REJECTED : CVMA_OK;
        goto out;
    }
    if (failed || conflict) {
        st = CVMA_REJECTED;
        goto out;
    }
    if (undecided) {
        cvma_reject(v, CVMA_R_REGISTRY_UNAVAILABLE,
                    "%s is not listed by any registry that "
                    "answered, and: %s",
                    plat.desc, unavailable);
        res->undecided = true;
        st = CVMA_UNDECIDED;
        goto out;
    }
    st = cvma_reject(v, CVMA_R_REGISTRY_PLATFORM_NOT_LISTED, "%s is not listed by: %s", plat.desc,
                     consulted[0] ? consulted : "no valid registry");
out:
    if (st == CVMA_E_NOMEM) {
        v->oom = true;
    }
    free(zones);
    free(claims);
    free(valid);
    free(skipped);
    cvma_cache_cleanup(&cache);
    return st;
}
