/*
 * Registry payloads and inclusion proofs: building and signing (provider side), verifying a
 * registry JWS and parsing proofs (verifier side). See registry/registry.h, docs/registry.md.
 */
#include "registry/registry.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/hex.h"
#include "common/json_out.h"
#include "common/timeutil.h"

#define JSON_SAFE_MAX ((json_int_t)9007199254740991LL) /* 2^53 - 1: exact in every JSON reader */

/* ---------- building ---------- */

enum cvma_status cvma_registry_build(const struct cvma_reg_build_opts *o,
                                     struct cvma_reg_entries *entries, EVP_PKEY *key,
                                     char **jws_out, struct cvma_merkle *tree, char *err,
                                     size_t err_len)
{
    enum cvma_status st = CVMA_E_NOMEM;
    struct cvma_merkle local;
    struct cvma_merkle *t = tree != NULL ? tree : &local;
    uint8_t root[32], thumb[32];
    char root_hex[65], kid[65];
    json_t *pl = NULL, *arr = NULL;
    enum cvma_jws_alg alg;

    *jws_out = NULL;
    memset(&local, 0, sizeof local);
    if (tree != NULL) {
        memset(tree, 0, sizeof *tree);
    }
    if (!cvma_reg_provider_name_ok(o->provider)) {
        cvma_errf(err, err_len,
                  "provider name must be 1..%d characters of [A-Za-z0-9._-] starting with a letter "
                  "or digit",
                  CVMA_REG_PROVIDER_MAX);
        return CVMA_E_USAGE;
    }
    if (o->version < 1 || o->version > (uint64_t)JSON_SAFE_MAX) {
        cvma_errf(err, err_len, "version must be 1..2^53-1");
        return CVMA_E_USAGE;
    }
    /* next_update must be a time RFC 3339 can write (up to 9999-12-31T23:59:59Z), as every
     * time this registry is printed with is. */
    if (o->iat < 0 || o->valid_seconds <= 0 || o->iat > CVMA_TIME_MAX - o->valid_seconds) {
        cvma_errf(err, err_len,
                  "issued-at and validity must be positive and end by 9999-12-31T23:59:59Z");
        return CVMA_E_USAGE;
    }
    if (entries->n == 0) {
        cvma_errf(err, err_len, "no entries: a registry lists at least one platform");
        return CVMA_E_USAGE;
    }
    if (!cvma_jws_key_alg(key, &alg) || !cvma_jws_key_thumbprint(key, thumb)) {
        cvma_errf(err, err_len, "the signing key is not a P-256 or P-384 key");
        return CVMA_E_USAGE;
    }
    if ((st = cvma_reg_entries_sort(entries, NULL, err, err_len)) != CVMA_OK) {
        return st;
    }
    if ((st = cvma_merkle_build(t, entries)) != CVMA_OK) {
        cvma_errf(err, err_len, "cannot build the Merkle tree (%zu entries)", entries->n);
        return st;
    }
    cvma_merkle_root(t, root);
    cvma_hex_encode(root, 32, root_hex, sizeof root_hex);
    cvma_hex_encode(thumb, 32, kid, sizeof kid);

    st = CVMA_E_NOMEM;
    if ((pl = json_object()) == NULL ||
        json_object_set_new(pl, "format", json_string(CVMA_REG_FORMAT)) ||
        json_object_set_new(pl, "provider", json_string(o->provider)) ||
        json_object_set_new(pl, "version", json_integer((json_int_t)o->version)) ||
        json_object_set_new(pl, "iat", json_integer((json_int_t)o->iat)) ||
        json_object_set_new(pl, "nbf", json_integer((json_int_t)o->iat)) ||
        json_object_set_new(pl, "next_update",
                            json_integer((json_int_t)(o->iat + o->valid_seconds))) ||
        json_object_set_new(pl, "leaf_count", json_integer((json_int_t)entries->n)) ||
        json_object_set_new(pl, "merkle_root", json_string(root_hex))) {
        goto out;
    }
    if (o->include_entries) {
        if ((arr = json_array()) == NULL) {
            goto out;
        }
        for (size_t i = 0; i < entries->n; i++) {
            if (json_array_append_new(arr, cvma_reg_entry_to_json(&entries->v[i])) != 0) {
                goto out;
            }
        }
        if (json_object_set_new(pl, "entries", arr) != 0) {
            arr = NULL;
            goto out;
        }
        arr = NULL;
    }
    switch (cvma_jws_sign_json(key, CVMA_REG_JWS_TYP, kid, pl, jws_out)) {
    case CVMA_JWS_OK:
        st = CVMA_OK;
        break;
    case CVMA_JWS_NOMEM:
        st = CVMA_E_NOMEM;
        break;
    case CVMA_JWS_MALFORMED:
    case CVMA_JWS_ALG_UNSUPPORTED:
    case CVMA_JWS_ALG_KEY_MISMATCH:
    case CVMA_JWS_BAD_SIGNATURE:
    case CVMA_JWS_INTERNAL:
        cvma_errf(err, err_len, "signing failed");
        st = CVMA_E_INTERNAL;
        break;
    }
out:
    json_decref(arr);
    json_decref(pl);
    cvma_merkle_cleanup(&local);
    if (st != CVMA_OK && tree != NULL) {
        cvma_merkle_cleanup(tree);
    }
    return st;
}

/* ---------- verifying ---------- */

void cvma_registry_cleanup(struct cvma_registry *r)
{
    if (r == NULL) {
        return;
    }
    cvma_reg_entries_cleanup(&r->entries);
    json_decref(r->payload);
    memset(r, 0, sizeof *r);
}

/* An integer member in [lo, hi]. */
static bool get_int(const json_t *o, const char *name, json_int_t lo, json_int_t hi,
                    json_int_t *out)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v)) {
        return false;
    }
    *out = json_integer_value(v);
    return *out >= lo && *out <= hi;
}

/* A JSON string of exactly 64 lower-case hex digits. */
static bool parse_hash(const json_t *v, uint8_t out[32])
{
    return json_is_string(v) &&
           cvma_hex_decode_lower(json_string_value(v), json_string_length(v), out, 32);
}

static bool get_hash(const json_t *o, const char *name, uint8_t out[32])
{
    return parse_hash(json_object_get(o, name), out);
}

static bool only_members(const json_t *o, const char *const *names, size_t n, const char **bad)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)o, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(k, names[i]) == 0) {
                known = true;
                break;
            }
        }
        if (!known) {
            *bad = k;
            return false;
        }
    }
    return true;
}

/* Checks the payload once its signature verified; fills r. CVMA_REJECTED: why says why. */
static enum cvma_status check_payload(json_t *pl, struct cvma_registry *r, char *why,
                                      size_t why_len)
{
    static const char *const members[] = {"format",     "provider",    "version",
                                          "iat",        "nbf",         "next_update",
                                          "leaf_count", "merkle_root", "entries"};
    const char *bad = NULL;
    json_int_t version, iat, nbf, nu, count;
    json_t *fmt = json_object_get(pl, "format"), *entries;

    if (!only_members(pl, members, CVMA_ARRAY_LEN(members), &bad)) {
        cvma_errf(why, why_len, "payload has an unknown member \"%.40s\"", bad);
        return CVMA_REJECTED;
    }
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), CVMA_REG_FORMAT) != 0) {
        cvma_errf(why, why_len, "payload format is not \"%s\"", CVMA_REG_FORMAT);
        return CVMA_REJECTED;
    }
    if (!get_int(pl, "version", 1, JSON_SAFE_MAX, &version) ||
        !get_int(pl, "iat", 0, CVMA_TIME_MAX, &iat) ||
        !get_int(pl, "nbf", 0, CVMA_TIME_MAX, &nbf) ||
        !get_int(pl, "next_update", 0, CVMA_TIME_MAX, &nu) ||
        !get_int(pl, "leaf_count", 1, (json_int_t)CVMA_REG_ENTRIES_MAX, &count)) {
        cvma_errf(why, why_len,
                  "version, iat, nbf, next_update and leaf_count must be integers in range "
                  "(times up to 9999-12-31T23:59:59Z, %lld; leaf_count 1..%zu)",
                  (long long)CVMA_TIME_MAX, CVMA_REG_ENTRIES_MAX);
        return CVMA_REJECTED;
    }
    if (nbf >= nu || iat > nu) {
        cvma_errf(why, why_len, "nbf %" PRId64 " / iat %" PRId64 " not before next_update %" PRId64,
                  (int64_t)nbf, (int64_t)iat, (int64_t)nu);
        return CVMA_REJECTED;
    }
    if (!get_hash(pl, "merkle_root", r->merkle_root)) {
        cvma_errf(why, why_len, "merkle_root is not 64 lower-case hex digits");
        return CVMA_REJECTED;
    }
    r->version = (uint64_t)version;
    r->iat = (int64_t)iat;
    r->nbf = (int64_t)nbf;
    r->next_update = (int64_t)nu;
    r->leaf_count = (uint64_t)count;

    entries = json_object_get(pl, "entries");
    if (entries != NULL) {
        struct cvma_merkle t;
        uint8_t root[32];
        size_t i;
        json_t *e;
        char ewhy[200];
        enum cvma_status st;

        if (!json_is_array(entries) || json_array_size(entries) != (size_t)count) {
            cvma_errf(why, why_len, "entries is not an array of leaf_count (%" PRId64 ") entries",
                      (int64_t)count);
            return CVMA_REJECTED;
        }
        json_array_foreach(entries, i, e)
        {
            st = cvma_reg_entry_from_json(e, &r->entries, ewhy, sizeof ewhy);
            if (st == CVMA_E_NOMEM) {
                return st;
            }
            if (st != CVMA_OK) {
                cvma_errf(why, why_len, "entries[%zu]: %s", i, ewhy);
                return CVMA_REJECTED;
            }
            /* Tree order, strictly: this also refuses duplicates. */
            if (i > 0 && cvma_reg_entry_cmp(&r->entries.v[i - 1], &r->entries.v[i]) >= 0) {
                cvma_errf(why, why_len, "entries[%zu] is out of tree order or a duplicate", i);
                return CVMA_REJECTED;
            }
        }
        if ((st = cvma_merkle_build(&t, &r->entries)) != CVMA_OK) {
            return st == CVMA_E_NOMEM ? st : CVMA_REJECTED;
        }
        cvma_merkle_root(&t, root);
        cvma_merkle_cleanup(&t);
        if (memcmp(root, r->merkle_root, 32) != 0) {
            cvma_errf(why, why_len, "the included entries do not hash to merkle_root");
            return CVMA_REJECTED;
        }
        r->has_entries = true;
    }
    return CVMA_OK;
}

enum cvma_status cvma_registry_verify(const uint8_t *jws, size_t len, const char *origin,
                                      const struct cvma_reg_provider *providers, size_t n_providers,
                                      struct cvma_registry *out, struct cvma_verdict *v)
{
    enum cvma_status st = CVMA_E_NOMEM;
    struct cvma_jws j;
    char why[300];
    json_t *pl = NULL, *prov;
    EVP_PKEY *key = NULL;
    enum cvma_jws_error je;

    memset(out, 0, sizeof *out);
    memset(&j, 0, sizeof j);
    if (origin == NULL) {
        origin = "registry";
    }
    if (len > CVMA_REG_FILE_MAX) {
        return cvma_reject(v, CVMA_R_REGISTRY_MALFORMED, "%s: %zu bytes, at most %zu", origin, len,
                           CVMA_REG_FILE_MAX);
    }
    len = cvma_jws_token_len(jws, len);
    je = cvma_jws_decode((const char *)jws, len, &j, why, sizeof why);
    switch (je) {
    case CVMA_JWS_OK:
        break;
    case CVMA_JWS_NOMEM:
        goto out;
    case CVMA_JWS_ALG_UNSUPPORTED:
    case CVMA_JWS_ALG_KEY_MISMATCH:
    case CVMA_JWS_BAD_SIGNATURE:
        st = cvma_reject(v, CVMA_R_REGISTRY_SIGNATURE_INVALID, "%s: %s", origin, why);
        goto out;
    case CVMA_JWS_MALFORMED:
    case CVMA_JWS_INTERNAL:
        st = cvma_reject(v, CVMA_R_REGISTRY_MALFORMED, "%s: not a compact JWS: %s", origin, why);
        goto out;
    }
    if (!j.has_typ || strcmp(j.typ, CVMA_REG_JWS_TYP) != 0) {
        st = cvma_reject(v, CVMA_R_REGISTRY_MALFORMED, "%s: JWS typ is \"%s\", want \"%s\"", origin,
                         j.typ, CVMA_REG_JWS_TYP);
        goto out;
    }
    /* The provider name selects the key; nothing else is read before the signature. */
    if ((pl = cvma_jws_payload_json(&j, why, sizeof why)) == NULL) {
        st = cvma_reject(v, CVMA_R_REGISTRY_MALFORMED, "%s: %s", origin, why);
        goto out;
    }
    prov = json_object_get(pl, "provider");
    if (!json_is_string(prov) || !cvma_reg_provider_name_ok(json_string_value(prov))) {
        st = cvma_reject(v, CVMA_R_REGISTRY_MALFORMED, "%s: payload has no valid provider name",
                         origin);
        goto out;
    }
    for (size_t i = 0; i < n_providers; i++) {
        if (strcmp(providers[i].name, json_string_value(prov)) == 0) {
            key = providers[i].key;
            break;
        }
    }
    if (key == NULL) {
        st = cvma_reject(v, CVMA_R_REGISTRY_UNKNOWN_PROVIDER,
                         "%s: signed by provider \"%s\", whose key was not given (--provider "
                         "%s=PUBFILE)",
                         origin, json_string_value(prov), json_string_value(prov));
        goto out;
    }
    snprintf(out->provider, sizeof out->provider, "%s", json_string_value(prov));
    je = cvma_jws_check(&j, key, why, sizeof why);
    if (je == CVMA_JWS_NOMEM) {
        goto out;
    }
    if (je != CVMA_JWS_OK) {
        st = cvma_reject(v, CVMA_R_REGISTRY_SIGNATURE_INVALID, "%s: provider %s: %s", origin,
                         out->provider, why);
        goto out;
    }
    out->alg = j.alg;
    st = check_payload(pl, out, why, sizeof why);
    if (st == CVMA_REJECTED) {
        st = cvma_reject(v, CVMA_R_REGISTRY_MALFORMED, "%s: %s", origin, why);
        goto out;
    }
    if (st != CVMA_OK) {
        goto out;
    }
    out->payload = pl;
    pl = NULL;
out:
    if (st == CVMA_E_NOMEM) {
        v->oom = true;
    }
    if (st != CVMA_OK) {
        cvma_registry_cleanup(out);
    }
    json_decref(pl);
    cvma_jws_cleanup(&j);
    return st;
}

/* see registry/registry.h */
enum cvma_status cvma_registry_claimed_read(const uint8_t *jws, size_t len,
                                            struct cvma_registry_claimed *out)
{
    const uint8_t *dot1, *dot2;
    struct cvma_buf pl = {0};
    json_error_t jerr;
    json_int_t count = 0;
    bool oom = false;

    memset(out, 0, sizeof *out);
    if (len == 0 || len > CVMA_REG_FILE_MAX || (dot1 = memchr(jws, '.', len)) == NULL ||
        (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jws))) == NULL) {
        return CVMA_OK;
    }
    enum cvma_status st = cvma_base64_decode_buf((const char *)(dot1 + 1),
                                                 (size_t)(dot2 - dot1 - 1), CVMA_B64_URL, &pl);
    if (st != CVMA_OK) {
        return st == CVMA_E_NOMEM ? st : CVMA_OK;
    }
    json_t *o = cvma_json_loadb(pl.p, pl.len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    cvma_buf_free(&pl);
    if (oom) {
        return CVMA_E_NOMEM;
    }
    json_t *prov = json_object_get(o, "provider");
    if (json_is_object(o) && get_hash(o, "merkle_root", out->merkle_root) &&
        get_int(o, "leaf_count", 1, (json_int_t)CVMA_REG_ENTRIES_MAX, &count)) {
        out->ok = true;
        out->leaf_count = (uint64_t)count;
        if (json_is_string(prov) && cvma_reg_provider_name_ok(json_string_value(prov))) {
            snprintf(out->provider, sizeof out->provider, "%s", json_string_value(prov));
        }
    } else {
        memset(out->merkle_root, 0, sizeof out->merkle_root);
    }
    json_decref(o);
    return CVMA_OK;
}

enum cvma_status cvma_registry_check_time(const struct cvma_registry *r, time_t at,
                                          const char *origin, struct cvma_verdict *v)
{
    char a[32], b[32];
    if (origin == NULL) {
        origin = "registry";
    }
    if ((int64_t)at < r->nbf) {
        cvma_time_format((time_t)r->nbf, a, sizeof a);
        cvma_time_format(at, b, sizeof b);
        return cvma_reject(v, CVMA_R_REGISTRY_NOT_YET_VALID,
                           "%s: provider %s version %" PRIu64 " is valid from %s, verification "
                           "time is %s",
                           origin, r->provider, r->version, a, b);
    }
    if ((int64_t)at >= r->next_update) {
        cvma_time_format((time_t)r->next_update, a, sizeof a);
        cvma_time_format(at, b, sizeof b);
        return cvma_reject(v, CVMA_R_REGISTRY_EXPIRED,
                           "%s: provider %s version %" PRIu64 " expired at %s (next_update), "
                           "verification time is %s",
                           origin, r->provider, r->version, a, b);
    }
    return CVMA_OK;
}

/* ---------- proofs ---------- */

void cvma_reg_proof_cleanup(struct cvma_reg_proof *p)
{
    if (p == NULL) {
        return;
    }
    cvma_reg_entries_cleanup(&p->leaf);
    memset(p, 0, sizeof *p);
}

json_t *cvma_reg_proof_to_json(const char *provider, const struct cvma_reg_entries *sorted,
                               const struct cvma_merkle *t, size_t index)
{
    uint8_t path[CVMA_REG_PATH_MAX][32], root[32];
    char hex[65];
    size_t n;
    json_t *o = json_object(), *arr = json_array(), *leaf;

    if (o == NULL || arr == NULL || index >= sorted->n || sorted->n != t->n_leaves) {
        goto fail;
    }
    n = cvma_merkle_path(t, index, path);
    for (size_t i = 0; i < n; i++) {
        cvma_hex_encode(path[i], 32, hex, sizeof hex);
        if (json_array_append_new(arr, json_string(hex))) {
            goto fail;
        }
    }
    cvma_merkle_root(t, root);
    cvma_hex_encode(root, 32, hex, sizeof hex);
    if ((leaf = cvma_reg_entry_to_json(&sorted->v[index])) == NULL ||
        json_object_set_new(o, "format", json_string(CVMA_REG_PROOF_FORMAT)) ||
        json_object_set_new(o, "provider", provider ? json_string(provider) : json_null()) ||
        json_object_set_new(o, "leaf", leaf) ||
        json_object_set_new(o, "leaf_index", json_integer((json_int_t)index)) ||
        json_object_set_new(o, "tree_size", json_integer((json_int_t)sorted->n)) ||
        json_object_set_new(o, "audit_path", arr)) {
        arr = NULL; /* set_new consumed it or failed after taking it */
        goto fail;
    }
    arr = NULL;
    if (json_object_set_new(o, "merkle_root", json_string(hex))) {
        goto fail;
    }
    return o;
fail:
    json_decref(arr);
    json_decref(o);
    return NULL;
}

enum cvma_status cvma_reg_proof_parse(const uint8_t *p, size_t len, struct cvma_reg_proof *out,
                                      char *err, size_t err_len)
{
    static const char *const members[] = {"format",    "provider",   "leaf",       "leaf_index",
                                          "tree_size", "audit_path", "merkle_root"};
    enum cvma_status st = CVMA_REJECTED;
    json_error_t jerr;
    json_t *o = NULL, *v, *arr;
    const char *bad = NULL;
    json_int_t idx, size;
    char why[200];

    memset(out, 0, sizeof *out);
    if (len > CVMA_REG_PROOF_FILE_MAX) {
        cvma_errf(err, err_len, "proof of %zu bytes, at most %zu", len, CVMA_REG_PROOF_FILE_MAX);
        goto out;
    }
    bool oom;
    if ((o = cvma_json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr, &oom)) == NULL) {
        if (oom) {
            st = CVMA_E_NOMEM; /* not the proof's fault: never a refusal */
        }
        cvma_errf(err, err_len, "proof is not JSON: %s (line %d)", jerr.text, jerr.line);
        goto out;
    }
    if (!json_is_object(o)) {
        cvma_errf(err, err_len, "proof is not a JSON object");
        goto out;
    }
    if (!only_members(o, members, CVMA_ARRAY_LEN(members), &bad)) {
        cvma_errf(err, err_len, "proof has an unknown member \"%.40s\"", bad);
        goto out;
    }
    v = json_object_get(o, "format");
    if (!json_is_string(v) || strcmp(json_string_value(v), CVMA_REG_PROOF_FORMAT) != 0) {
        cvma_errf(err, err_len, "proof format is not \"%s\"", CVMA_REG_PROOF_FORMAT);
        goto out;
    }
    v = json_object_get(o, "provider");
    if (json_is_string(v) && cvma_reg_provider_name_ok(json_string_value(v))) {
        out->has_provider = true;
        snprintf(out->provider, sizeof out->provider, "%s", json_string_value(v));
    } else if (!json_is_null(v)) {
        cvma_errf(err, err_len, "proof provider is neither a provider name nor null");
        goto out;
    }
    if (!get_int(o, "tree_size", 1, (json_int_t)CVMA_REG_ENTRIES_MAX, &size) ||
        !get_int(o, "leaf_index", 0, size - 1, &idx)) {
        cvma_errf(err, err_len, "proof tree_size (1..%zu) or leaf_index (0..tree_size-1) invalid",
                  CVMA_REG_ENTRIES_MAX);
        goto out;
    }
    out->tree_size = (uint64_t)size;
    out->leaf_index = (uint64_t)idx;
    if (!get_hash(o, "merkle_root", out->merkle_root)) {
        cvma_errf(err, err_len, "proof merkle_root is not 64 lower-case hex digits");
        goto out;
    }
    arr = json_object_get(o, "audit_path");
    if (!json_is_array(arr) || json_array_size(arr) > CVMA_REG_PATH_MAX) {
        cvma_errf(err, err_len, "proof audit_path is not an array of at most %d hashes",
                  CVMA_REG_PATH_MAX);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (!parse_hash(json_array_get(arr, i), out->path[i])) {
            cvma_errf(err, err_len, "proof audit_path[%zu] is not 64 lower-case hex digits", i);
            goto out;
        }
    }
    out->path_len = json_array_size(arr);
    st = cvma_reg_entry_from_json(json_object_get(o, "leaf"), &out->leaf, why, sizeof why);
    if (st == CVMA_REJECTED) {
        cvma_errf(err, err_len, "proof leaf: %s", why);
    }
out:
    json_decref(o);
    if (st != CVMA_OK) {
        cvma_reg_proof_cleanup(out);
    }
    return st;
}

bool cvma_reg_proof_check(const struct cvma_reg_proof *p)
{
    uint8_t leaf[32];
    if (p->leaf.n != 1) {
        return false;
    }
    cvma_reg_leaf_hash(&p->leaf.v[0], leaf);
    return cvma_merkle_verify(leaf, p->leaf_index, p->tree_size, (const uint8_t(*)[32])p->path,
                              p->path_len, p->merkle_root);
}
