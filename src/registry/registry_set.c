/*
 * The registry set: provider keys, registries, proofs and lookup registries to bind with.
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

/* ---------- the set ---------- */

struct cvma_registry_set *cvma_registry_set_new(void)
{
    struct cvma_registry_set *rs = calloc(1, sizeof *rs);
    if (rs != NULL && pthread_mutex_init(&rs->floor_lock, NULL) != 0) {
        free(rs);
        return NULL;
    }
    return rs;
}

void cvma_registry_set_free(struct cvma_registry_set *rs)
{
    if (rs == NULL) {
        return;
    }
    for (size_t i = 0; i < rs->n_prov; i++) {
        EVP_PKEY_free(rs->prov[i].key);
    }
    for (size_t i = 0; i < rs->n_regs; i++) {
        free(rs->regs[i].origin);
        cvma_buf_free(&rs->regs[i].bytes);
        cvma_registry_cleanup(&rs->regs[i].reg);
    }
    for (size_t i = 0; i < rs->n_proofs; i++) {
        free(rs->proofs[i].origin);
        cvma_buf_free(&rs->proofs[i].bytes);
        cvma_reg_proof_cleanup(&rs->proofs[i].proof);
    }
    for (size_t i = 0; i < rs->n_lookups; i++) {
        free(rs->lookups[i].base);
    }
    pthread_mutex_destroy(&rs->floor_lock);
    free(rs->floors);
    free(rs->prov);
    free(rs->regs);
    free(rs->proofs);
    free(rs->lookups);
    cvma_bind_log_free(rs);
    free(rs);
}

bool cvma_registry_set_empty(const struct cvma_registry_set *rs)
{
    return rs == NULL || (rs->n_regs == 0 && rs->n_proofs == 0 && rs->n_lookups == 0);
}

/* Splits "NAME=VALUE" at the first '='; NAME must be a provider name. */
static bool split_spec(const char *spec, char name[CVMA_REG_PROVIDER_MAX + 1], const char **value)
{
    const char *eq = spec ? strchr(spec, '=') : NULL;
    size_t n;
    if (eq == NULL || (n = (size_t)(eq - spec)) == 0 || n > CVMA_REG_PROVIDER_MAX ||
        eq[1] == '\0') {
        return false;
    }
    memcpy(name, spec, n);
    name[n] = '\0';
    *value = eq + 1;
    return cvma_reg_provider_name_ok(name);
}

/*
 * A name is a signed registry's provider (--provider, --log-vkey) or a lookup registry's,
 * never both: an unsigned lookup answer would otherwise pass for that provider's signed
 * registry (a policy's required_providers, the result's platform.provider).
 */
static bool is_lookup_name(const struct cvma_registry_set *rs, const char *name)
{
    for (size_t i = 0; i < rs->n_lookups; i++) {
        if (strcmp(rs->lookups[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_signed_name(const struct cvma_registry_set *rs, const char *name)
{
    for (size_t i = 0; i < rs->n_prov; i++) {
        if (strcmp(rs->prov[i].name, name) == 0) {
            return true;
        }
    }
    for (size_t i = 0; i < rs->n_log_keys; i++) {
        if (strcmp(rs->log_keys[i].provider, name) == 0) {
            return true;
        }
    }
    return false;
}

/* see registry/bind_internal.h */
bool cvma_registry_set_name_clash(const struct cvma_registry_set *rs, const char *name, bool lookup,
                                  char *err, size_t err_len)
{
    if (lookup ? !is_signed_name(rs, name) : !is_lookup_name(rs, name)) {
        return false;
    }
    cvma_errf(err, err_len,
              "%s is both a signed registry's provider (--provider, --log-vkey) and a lookup "
              "registry (--lookup-registry): an unsigned lookup answer would pass for %s's "
              "signed registry; give the lookup registry another name",
              name, name);
    return true;
}

static void unprepare(struct cvma_registry_set *rs)
{
    for (size_t i = 0; i < rs->n_regs; i++) {
        cvma_registry_cleanup(&rs->regs[i].reg);
        rs->regs[i].prepared = false;
    }
}

enum cvma_status cvma_registry_set_add_provider_key(struct cvma_registry_set *rs, const char *name,
                                                    EVP_PKEY *pub, char *err, size_t err_len)
{
    enum cvma_jws_alg alg;
    struct cvma_reg_provider *np;
    if (!cvma_reg_provider_name_ok(name)) {
        cvma_errf(err, err_len, "provider name \"%.70s\" is not [A-Za-z0-9][A-Za-z0-9._-]{0,63}",
                  name ? name : "");
        return CVMA_E_USAGE;
    }
    if (!cvma_jws_key_alg(pub, &alg)) {
        cvma_errf(err, err_len, "provider %s: the key is not an EC P-256 or P-384 key", name);
        return CVMA_E_USAGE;
    }
    for (size_t i = 0; i < rs->n_prov; i++) {
        if (strcmp(rs->prov[i].name, name) == 0) {
            cvma_errf(err, err_len, "provider %s given twice", name);
            return CVMA_E_USAGE;
        }
    }
    if (cvma_registry_set_name_clash(rs, name, false, err, err_len)) {
        return CVMA_E_USAGE;
    }
    if ((np = grow(rs->prov, rs->n_prov, sizeof *np)) == NULL) {
        return CVMA_E_NOMEM;
    }
    rs->prov = np;
    if (EVP_PKEY_up_ref(pub) != 1) {
        return CVMA_E_INTERNAL;
    }
    memset(&np[rs->n_prov], 0, sizeof np[0]);
    snprintf(np[rs->n_prov].name, sizeof np[0].name, "%s", name);
    np[rs->n_prov].key = pub;
    rs->n_prov++;
    unprepare(rs); /* a registry that named an unknown provider may verify now */
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_add_provider(struct cvma_registry_set *rs, const char *spec,
                                                char *err, size_t err_len)
{
    char name[CVMA_REG_PROVIDER_MAX + 1];
    const char *file;
    struct cvma_buf b;
    EVP_PKEY *key;
    enum cvma_status st;

    if (!split_spec(spec, name, &file)) {
        cvma_errf(
                err, err_len,
                "--provider wants NAME=PUBFILE with NAME of [A-Za-z0-9._-] (1..%d), got \"%.80s\"",
                CVMA_REG_PROVIDER_MAX, spec ? spec : "");
        return CVMA_E_USAGE;
    }
    if ((st = cvma_file_read(file, PUBKEY_FILE_MAX, &b)) != CVMA_OK) {
        cvma_errf(err, err_len, "provider %s: cannot read %s", name, file);
        return st;
    }
    key = cvma_jws_key_from_pem(b.p, b.len, false);
    cvma_buf_free(&b);
    if (key == NULL) {
        cvma_errf(err, err_len, "provider %s: %s is not a PEM P-256/P-384 public key", name, file);
        return CVMA_E_USAGE;
    }
    st = cvma_registry_set_add_provider_key(rs, name, key, err, err_len);
    EVP_PKEY_free(key);
    return st;
}

/* A registry's or proof's own copies of its name and bytes; false (nothing kept) when out of
 * memory. */
static bool copy_input(const char *origin, const uint8_t *p, size_t len, char **origin_out,
                       struct cvma_buf *bytes)
{
    char *o = strdup(origin);
    uint8_t *b = malloc(len ? len : 1);
    if (o == NULL || b == NULL) {
        free(o);
        free(b);
        return false;
    }
    if (len) {
        memcpy(b, p, len);
    }
    *origin_out = o;
    bytes->p = b;
    bytes->len = len;
    return true;
}

enum cvma_status cvma_registry_set_add_registry_mem(struct cvma_registry_set *rs, const uint8_t *p,
                                                    size_t len, const char *origin)
{
    struct reg_item *nr, *it;
    if (len > CVMA_REG_FILE_MAX) {
        return CVMA_E_USAGE;
    }
    if ((nr = grow(rs->regs, rs->n_regs, sizeof *nr)) == NULL) {
        return CVMA_E_NOMEM;
    }
    rs->regs = nr;
    it = &nr[rs->n_regs];
    memset(it, 0, sizeof *it);
    it->fail_code = CVMA_R_COUNT_;
    if (!copy_input(origin ? origin : "registry", p, len, &it->origin, &it->bytes)) {
        return CVMA_E_NOMEM;
    }
    rs->n_regs++;
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_add_registry(struct cvma_registry_set *rs, const char *path,
                                                char *err, size_t err_len)
{
    struct cvma_buf b;
    enum cvma_status st = cvma_file_read(path, CVMA_REG_FILE_MAX, &b);
    if (st != CVMA_OK) {
        char why[96];
        cvma_errf(err, err_len, "cannot read registry '%s': %s", path,
                  st == CVMA_E_NOMEM
                          ? "out of memory"
                          : cvma_file_read_why(errno, CVMA_REG_FILE_MAX, why, sizeof why));
        return st;
    }
    st = cvma_registry_set_add_registry_mem(rs, b.p, b.len, path);
    cvma_buf_free(&b);
    return st;
}

enum cvma_status cvma_registry_set_add_proof_mem(struct cvma_registry_set *rs, const uint8_t *p,
                                                 size_t len, const char *origin)
{
    struct proof_item *np, *it;
    if (len > CVMA_REG_PROOF_FILE_MAX) {
        return CVMA_E_USAGE;
    }
    if ((np = grow(rs->proofs, rs->n_proofs, sizeof *np)) == NULL) {
        return CVMA_E_NOMEM;
    }
    rs->proofs = np;
    it = &np[rs->n_proofs];
    memset(it, 0, sizeof *it);
    if (!copy_input(origin ? origin : "proof", p, len, &it->origin, &it->bytes)) {
        return CVMA_E_NOMEM;
    }
    rs->n_proofs++;
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_add_proof(struct cvma_registry_set *rs, const char *path,
                                             char *err, size_t err_len)
{
    struct cvma_buf b;
    enum cvma_status st = cvma_file_read(path, CVMA_REG_PROOF_FILE_MAX, &b);
    if (st != CVMA_OK) {
        char why[96];
        cvma_errf(err, err_len, "cannot read proof '%s': %s", path,
                  st == CVMA_E_NOMEM
                          ? "out of memory"
                          : cvma_file_read_why(errno, CVMA_REG_PROOF_FILE_MAX, why, sizeof why));
        return st;
    }
    st = cvma_registry_set_add_proof_mem(rs, b.p, b.len, path);
    cvma_buf_free(&b);
    return st;
}

/* https://host..., or http:// to a loopback host (tests). */
static bool base_url_ok(const char *u)
{
    static const char *const loop[] = {"http://127.0.0.1", "http://localhost", "http://[::1]"};
    size_t n = strlen(u);
    if (n == 0 || n > LOOKUP_URL_MAX - 64) {
        return false;
    }
    if (!cvma_http_base_url_ok(u)) {
        return false; /* no host, a port empty or out of range, user information, a query ... */
    }
    if (strncmp(u, "https://", 8) == 0) {
        return true;
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(loop); i++) {
        size_t l = strlen(loop[i]);
        if (strncmp(u, loop[i], l) != 0) {
            continue;
        }
        /* Only a port may follow the host: "http://localhost:80@evil.example" names
         * evil.example (RFC 3986 userinfo), which plain http must never reach. */
        if (u[l] == ':') {
            do {
                l++;
            } while (u[l] >= '0' && u[l] <= '9');
        }
        return u[l] == '\0' || u[l] == '/';
    }
    return false;
}

enum cvma_status cvma_registry_set_add_lookup(struct cvma_registry_set *rs, const char *spec,
                                              char *err, size_t err_len)
{
    char name[CVMA_REG_PROVIDER_MAX + 1];
    const char *url;
    struct lookup_item *nl;
    char *base;
    size_t n;

    if (!split_spec(spec, name, &url)) {
        cvma_errf(err, err_len, "--lookup-registry wants NAME=BASE_URL, got \"%.80s\"",
                  spec ? spec : "");
        return CVMA_E_USAGE;
    }
    if (cvma_registry_set_name_clash(rs, name, true, err, err_len)) {
        return CVMA_E_USAGE;
    }
    if (!base_url_ok(url)) {
        cvma_errf(err, err_len,
                  "lookup registry %s: \"%.100s\" is not an https:// URL (plain http only to "
                  "127.0.0.1, localhost or [::1]) without query or fragment",
                  name, url);
        return CVMA_E_USAGE;
    }
    if ((base = strdup(url)) == NULL) {
        return CVMA_E_NOMEM;
    }
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/') {
        base[--n] = '\0';
    }
    if ((nl = grow(rs->lookups, rs->n_lookups, sizeof *nl)) == NULL) {
        free(base);
        return CVMA_E_NOMEM;
    }
    rs->lookups = nl;
    memset(&nl[rs->n_lookups], 0, sizeof nl[0]);
    snprintf(nl[rs->n_lookups].name, sizeof nl[0].name, "%s", name);
    nl[rs->n_lookups].base = base;
    rs->n_lookups++;
    return CVMA_OK;
}
