/*
 * Binding a verified result's platform to a provider: the registry set (keys, registries,
 * proofs, lookup registries), rollback state, and Google-style lookup registries.
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
#include "registry/registry.h"

#define PUBKEY_FILE_MAX    ((size_t)64 << 10)
#define STATE_FILE_MAX     4096
#define DEFAULT_LOOKUP_TTL 3600
#define DEFAULT_NEG_TTL    600
#define LOOKUP_URL_MAX     2048

struct reg_item {
    char *origin;
    struct cvma_buf bytes;
    bool prepared;
    enum cvma_reason fail_code; /* CVMA_R_COUNT_ when it verified */
    char fail_detail[CVMA_DETAIL_MAX];
    struct cvma_registry reg;
};

struct proof_item {
    char *origin;
    struct cvma_buf bytes;
    bool prepared;
    bool ok; /* parsed */
    char fail[300];
    struct cvma_reg_proof proof;
};

struct lookup_item {
    char name[CVMA_REG_PROVIDER_MAX + 1];
    char *base;
};

struct cvma_registry_set {
    struct cvma_reg_provider *prov;
    size_t n_prov;
    struct reg_item *regs;
    size_t n_regs;
    struct proof_item *proofs;
    size_t n_proofs;
    struct lookup_item *lookups;
    size_t n_lookups;
};

/* Appends to a bounded detail string. */
static void append(char *buf, size_t cap, const char *fmt, ...) CVMA_PRINTF(3, 4);

static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    if (n + 1 >= cap) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static void *grow(void *p, size_t n, size_t elem)
{
    /* Arrays grow one element at a time: a set holds a handful of items. */
    return realloc(p, (n + 1) * elem);
}

/* ---------- the set ---------- */

struct cvma_registry_set *cvma_registry_set_new(void)
{
    return calloc(1, sizeof(struct cvma_registry_set));
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
    free(rs->prov);
    free(rs->regs);
    free(rs->proofs);
    free(rs->lookups);
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
    if ((it->origin = strdup(origin ? origin : "registry")) == NULL ||
        (it->bytes.p = malloc(len ? len : 1)) == NULL) {
        free(it->origin);
        return CVMA_E_NOMEM;
    }
    if (len) {
        memcpy(it->bytes.p, p, len);
    }
    it->bytes.len = len;
    rs->n_regs++;
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_add_registry(struct cvma_registry_set *rs, const char *path,
                                                char *err, size_t err_len)
{
    struct cvma_buf b;
    enum cvma_status st = cvma_file_read(path, CVMA_REG_FILE_MAX, &b);
    if (st != CVMA_OK) {
        cvma_errf(err, err_len, "cannot read registry %s (missing, unreadable or over %zu bytes)",
                  path, CVMA_REG_FILE_MAX);
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
    if ((it->origin = strdup(origin ? origin : "proof")) == NULL ||
        (it->bytes.p = malloc(len ? len : 1)) == NULL) {
        free(it->origin);
        return CVMA_E_NOMEM;
    }
    if (len) {
        memcpy(it->bytes.p, p, len);
    }
    it->bytes.len = len;
    rs->n_proofs++;
    return CVMA_OK;
}

enum cvma_status cvma_registry_set_add_proof(struct cvma_registry_set *rs, const char *path,
                                             char *err, size_t err_len)
{
    struct cvma_buf b;
    enum cvma_status st = cvma_file_read(path, CVMA_REG_PROOF_FILE_MAX, &b);
    if (st != CVMA_OK) {
        cvma_errf(err, err_len, "cannot read proof %s (missing, unreadable or over %zu bytes)",
                  path, CVMA_REG_PROOF_FILE_MAX);
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
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
            return false;
        }
    }
    if (strncmp(u, "https://", 8) == 0) {
        return n > 8 && u[8] != '/';
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

/* ---------- the platform of a result ---------- */

struct platform {
    struct cvma_reg_entry primary;
    bool has_secondary; /* VLEK evidence that also carries a CHIP_ID */
    struct cvma_reg_entry secondary;
    uint8_t id[CVMA_REG_CSP_MAX];
    uint8_t chip[CVMA_REG_CHIP_ID_LEN];
    char desc[200];
};

static enum cvma_status platform_parse(const struct cvma_platform *pl, struct platform *p,
                                       struct cvma_verdict *v)
{
    const char *vendor = cvma_platform_vendor_name(pl->vendor);
    const char *type = cvma_platform_id_type_name(pl->id_type);
    char hex[2 * CVMA_REG_CHIP_ID_LEN + 1];

    memset(p, 0, sizeof *p);
    if (!pl->present) {
        return cvma_reject(v, CVMA_R_REGISTRY_NO_PLATFORM_ID,
                           "the result names no platform (vendor and id_type missing)");
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
    cvma_reg_entry_id_string(&p->primary, hex, sizeof hex);
    snprintf(p->desc, sizeof p->desc, "%s %s %.32s%s", vendor,
             cvma_reg_id_type_name((enum cvma_reg_id_type)p->primary.id_type), hex,
             strlen(hex) > 32 ? "..." : "");
    return CVMA_OK;
}

static bool platform_is(const struct platform *p, const struct cvma_reg_entry *e)
{
    return cvma_reg_entry_cmp(&p->primary, e) == 0 ||
           (p->has_secondary && cvma_reg_entry_cmp(&p->secondary, e) == 0);
}

/* ---------- rollback state ---------- */

static bool mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);
    struct stat sb;
    if (n == 0 || n >= sizeof tmp) {
        return false;
    }
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0') {
            continue;
        }
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
            return false;
        }
        tmp[i] = saved;
    }
    return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

enum rb_result {
    RB_OK,
    RB_ROLLBACK,
    RB_NOT_CHECKED,
};

/*
 * <dir>/registry-state.<provider>.json = {"provider", "version", "merkle_root"}: the highest
 * version that passed every check, under an exclusive flock so concurrent verifiers do not
 * lose each other's updates.
 */
static enum rb_result rollback_check(const char *dir, const struct cvma_registry *r, char *detail,
                                     size_t detail_len)
{
    char path[4200], buf[STATE_FILE_MAX + 1], root_hex[65];
    int fd = -1;
    ssize_t got;
    size_t len = 0;
    enum rb_result res = RB_NOT_CHECKED;
    json_t *st = NULL;
    bool have = false, corrupt = false;
    uint64_t seen = 0;
    uint8_t seen_root[32];
    struct stat sb;

    detail[0] = '\0';
    if (dir == NULL || !mkdir_p(dir)) {
        cvma_errf(detail, detail_len, "state directory %s cannot be created", dir ? dir : "(none)");
        return RB_NOT_CHECKED;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/registry-state.%s.json", dir, r->provider) >=
        sizeof path) {
        cvma_errf(detail, detail_len, "state path too long");
        return RB_NOT_CHECKED;
    }
    /* Never through a symlink (it would truncate whatever it points at) and never a FIFO or
     * device (a read that waits forever): the state is a plain file or it is not checked. */
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600)) < 0) {
        cvma_errf(detail, detail_len, "cannot open %s: %s", path, strerror(errno));
        return RB_NOT_CHECKED;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        cvma_errf(detail, detail_len, "%s is not a regular file", path);
        goto out;
    }
    if (flock(fd, LOCK_EX) != 0) {
        cvma_errf(detail, detail_len, "cannot lock %s: %s", path, strerror(errno));
        goto out;
    }
    while (len < sizeof buf && (got = read(fd, buf + len, sizeof buf - len)) != 0) {
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            cvma_errf(detail, detail_len, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        len += (size_t)got;
    }
    if (len > 0) {
        json_error_t jerr;
        json_int_t ver = 0;
        json_t *jv, *jr, *jp;
        size_t rl = 0;
        st = len <= STATE_FILE_MAX ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
        jv = json_object_get(st, "version");
        jr = json_object_get(st, "merkle_root");
        jp = json_object_get(st, "provider");
        if (json_is_integer(jv) && (ver = json_integer_value(jv)) >= 1 && json_is_string(jr) &&
            json_string_length(jr) == 64 &&
            cvma_hex_decode(json_string_value(jr), seen_root, 32, &rl) && rl == 32 &&
            json_is_string(jp) && strcmp(json_string_value(jp), r->provider) == 0) {
            have = true;
            seen = (uint64_t)ver;
        } else {
            corrupt = true;
        }
    }
    if (have && r->version < seen) {
        cvma_errf(detail, detail_len,
                  "provider %s: registry version %" PRIu64 " is older than version %" PRIu64
                  " already seen (%s)",
                  r->provider, r->version, seen, path);
        res = RB_ROLLBACK;
        goto out;
    }
    if (have && r->version == seen && memcmp(seen_root, r->merkle_root, 32) != 0) {
        cvma_errf(detail, detail_len,
                  "provider %s: registry version %" PRIu64 " has another merkle_root than the "
                  "version %" PRIu64 " already seen: two different registries under one version",
                  r->provider, r->version, seen);
        res = RB_ROLLBACK;
        goto out;
    }
    if (!have || r->version > seen) {
        cvma_hex_encode(r->merkle_root, 32, root_hex, sizeof root_hex);
        int n = snprintf(buf, sizeof buf,
                         "{\"provider\": \"%s\", \"version\": %" PRIu64
                         ", \"merkle_root\": \"%s\"}\n",
                         r->provider, r->version, root_hex);
        if (n <= 0 || (size_t)n >= sizeof buf || ftruncate(fd, 0) != 0 ||
            pwrite(fd, buf, (size_t)n, 0) != (ssize_t)n || fsync(fd) != 0) {
            cvma_errf(detail, detail_len, "cannot write %s: %s", path, strerror(errno));
            goto out;
        }
    }
    if (corrupt) {
        cvma_errf(detail, detail_len, "%s was unreadable and has been replaced", path);
        goto out; /* not checked this time: the old state is lost */
    }
    res = RB_OK;
out:
    json_decref(st);
    if (fd >= 0) {
        close(fd); /* releases the lock */
    }
    return res;
}

/* ---------- lookup registries ---------- */

enum lk_result {
    LK_LISTED,
    LK_NOT_LISTED,
    LK_UNAVAILABLE,
    LK_NOMEM,
};

/* Checks a zone and stores it as the label of a scratch entry (same rules as any label). */
static bool zone_ok(const char *zone)
{
    struct cvma_reg_entries tmp;
    static const uint8_t one[CVMA_REG_PPID_LEN] = {1};
    struct cvma_reg_label l = {"zone", zone};
    bool ok;
    cvma_reg_entries_init(&tmp);
    ok = cvma_reg_entries_add(&tmp, CVMA_REG_INTEL, CVMA_REG_PPID, one, sizeof one, &l, 1, 0, NULL,
                              0) == CVMA_OK;
    cvma_reg_entries_cleanup(&tmp);
    return ok;
}

/* Parses a cached answer {"listed": bool, "zone": str?}. */
static enum lk_result cached_answer(const struct cvma_buf *b, char *zone, size_t zone_len)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)b->p, b->len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *l = json_object_get(j, "listed"), *z = json_object_get(j, "zone");
    enum lk_result r = LK_UNAVAILABLE; /* unusable entry: treat as a miss */
    if (json_is_boolean(l)) {
        if (!json_is_true(l)) {
            r = LK_NOT_LISTED;
        } else if (z == NULL || (json_is_string(z) && zone_ok(json_string_value(z)))) {
            snprintf(zone, zone_len, "%s", z ? json_string_value(z) : "");
            r = LK_LISTED;
        }
    }
    json_decref(j);
    return r;
}

static enum lk_result lookup(const struct lookup_item *lk, const uint8_t ppid[16],
                             const struct cvma_cache *cache,
                             const struct cvma_registry_bind_opts *o, char *zone, size_t zone_len,
                             char *detail, size_t detail_len)
{
    char url[LOOKUP_URL_MAX], key[LOOKUP_URL_MAX + 32], hex[33], err[300];
    struct cvma_buf body = {0};
    struct cvma_http_opts ho = o->http;
    enum cvma_cache_state cs = CVMA_CACHE_MISS;
    enum cvma_status st;
    enum lk_result r = LK_UNAVAILABLE;
    long code = 0;
    time_t now = time(NULL);
    json_t *ans = NULL;
    int64_t ttl = o->lookup_ttl > 0 ? o->lookup_ttl : DEFAULT_LOOKUP_TTL;
    int64_t neg = o->lookup_negative_ttl > 0 ? o->lookup_negative_ttl : DEFAULT_NEG_TTL;

    zone[0] = '\0';
    cvma_hex_encode(ppid, 16, hex, sizeof hex);
    snprintf(url, sizeof url, "%s/%s", lk->base, hex);
    snprintf(key, sizeof key, "registry-lookup %s", url);
    if (cache != NULL) {
        if (cvma_cache_lookup(cache, key, (int64_t)now, &body, &cs) == CVMA_E_NOMEM) {
            return LK_NOMEM;
        }
        if (cs == CVMA_CACHE_HIT) {
            r = cached_answer(&body, zone, zone_len);
            cvma_buf_free(&body);
            if (r != LK_UNAVAILABLE) {
                return r;
            }
        }
    }
    if (o->offline) {
        cvma_errf(detail, detail_len, "lookup registry %s: offline and %s not in the cache",
                  lk->name, url);
        return LK_UNAVAILABLE;
    }
    ho.max_body = CVMA_REG_LOOKUP_BODY_MAX;
    st = cvma_http_get(&ho, url, &body, &code, err, sizeof err);
    if (st == CVMA_E_NOMEM) {
        return LK_NOMEM;
    }
    if (st == CVMA_UNDECIDED && code == 404) {
        if (cache != NULL) {
            static const char neg_body[] = "{\"listed\": false}";
            /* A cache that cannot be written only costs a later request. */
            if (cvma_cache_put(cache, key, (const uint8_t *)neg_body, sizeof neg_body - 1,
                               (int64_t)now + neg) != CVMA_OK) {
                cvma_errf(detail, detail_len, "lookup answer not cached");
            }
        }
        return LK_NOT_LISTED;
    }
    if (st != CVMA_OK) {
        cvma_errf(detail, detail_len, "lookup registry %s: %s", lk->name, err);
        return LK_UNAVAILABLE;
    }
    /* 200: a small JSON object; its "zone" (when present) becomes the label. */
    {
        json_error_t jerr;
        json_t *z;
        ans = json_loadb((const char *)body.p, body.len, JSON_REJECT_DUPLICATES, &jerr);
        z = json_object_get(ans, "zone");
        if (!json_is_object(ans) ||
            (z != NULL && !(json_is_string(z) && zone_ok(json_string_value(z))))) {
            cvma_errf(detail, detail_len,
                      "lookup registry %s: %s answered 200 without the expected JSON object "
                      "(zone a short printable string)",
                      lk->name, url);
            goto out;
        }
        snprintf(zone, zone_len, "%s", z ? json_string_value(z) : "");
        if (cache != NULL) {
            json_t *c = json_pack("{s:b}", "listed", 1);
            char *s = NULL;
            if (c != NULL && (z == NULL || json_object_set(c, "zone", z) == 0) &&
                (s = json_dumps(c, JSON_COMPACT)) != NULL) {
                if (cvma_cache_put(cache, key, (const uint8_t *)s, strlen(s), (int64_t)now + ttl) !=
                    CVMA_OK) {
                    cvma_errf(detail, detail_len, "lookup answer not cached");
                }
            }
            free(s);
            json_decref(c);
        }
        r = LK_LISTED;
    }
out:
    json_decref(ans);
    cvma_buf_free(&body);
    return r;
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
    it->prepared = true;
    return CVMA_OK;
}

static void prepare_proof(struct proof_item *it)
{
    if (it->prepared) {
        return;
    }
    it->ok = cvma_reg_proof_parse(it->bytes.p, it->bytes.len, &it->proof, it->fail,
                                  sizeof it->fail) == CVMA_OK;
    it->prepared = true;
}

static bool preferred(const struct cvma_registry_bind_opts *o, const char *provider)
{
    for (size_t i = 0; o->prefer != NULL && i < o->n_prefer; i++) {
        if (strcmp(o->prefer[i], provider) == 0) {
            return true;
        }
    }
    return false;
}

/* The bound provider and its entry's labels into the result's platform. */
static void set_bound(struct cvma_platform *pl, const char *provider,
                      const struct cvma_reg_entry *e, const char *zone)
{
    pl->bound = true;
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
    bool *valid = NULL;
    const char *bound_provider = NULL;
    const struct cvma_reg_entry *bound_entry = NULL; /* its labels */
    bool bound_zone = false;                         /* a lookup answer: label "zone" */
    char consulted[CVMA_DETAIL_MAX] = "", unavailable[CVMA_DETAIL_MAX] = "";
    char detail[CVMA_DETAIL_MAX], zone[CVMA_REG_LABEL_VALUE_MAX + 1];
    enum cvma_status st = CVMA_E_NOMEM;

    if (cvma_registry_set_empty(rs)) {
        return CVMA_OK;
    }
    if (platform_parse(&res->platform, &plat, v) != CVMA_OK) {
        return CVMA_REJECTED;
    }
    have_cache = cvma_cache_init(&cache, o->cache_dir) == CVMA_OK;
    if (rs->n_regs > 0 && (valid = calloc(rs->n_regs, sizeof *valid)) == NULL) {
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
        switch (rollback_check(have_cache ? cache.dir : NULL, &it->reg, detail, sizeof detail)) {
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

    /* 2a. Included entries, in the order the registries were given; the providers the caller
     * prefers (a policy's required_providers) first, so one that lists the platform is named
     * even when another registry given earlier lists it too. */
    for (size_t pass = 0; pass < 2 && bound_provider == NULL; pass++) {
        for (size_t i = 0; i < rs->n_regs && bound_provider == NULL; i++) {
            const struct cvma_registry *r = &rs->regs[i].reg;
            size_t k = SIZE_MAX;
            if (!valid[i] || !r->has_entries || (pass == 0 && !preferred(o, r->provider))) {
                continue;
            }
            k = cvma_reg_entries_find(&r->entries, &plat.primary);
            if (k == SIZE_MAX && plat.has_secondary) {
                k = cvma_reg_entries_find(&r->entries, &plat.secondary);
            }
            if (k != SIZE_MAX) {
                bound_provider = r->provider;
                bound_entry = &r->entries.v[k];
            }
        }
    }

    /* 2b. Proofs for this platform. */
    for (size_t i = 0; i < rs->n_proofs; i++) {
        struct proof_item *it = &rs->proofs[i];
        const struct cvma_reg_proof *pr = &it->proof;
        size_t match = SIZE_MAX, same_provider = SIZE_MAX;
        prepare_proof(it);
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
            if (rs->regs[j].fail_code != CVMA_R_COUNT_ ||
                (pr->has_provider && strcmp(pr->provider, r->provider) != 0)) {
                continue;
            }
            if (same_provider == SIZE_MAX) {
                same_provider = j;
            }
            if (memcmp(r->merkle_root, pr->merkle_root, 32) == 0 &&
                r->leaf_count == pr->tree_size) {
                match = j;
                break;
            }
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
        if (bound_provider == NULL ||
            (!preferred(o, bound_provider) && preferred(o, rs->regs[match].reg.provider))) {
            bound_provider = rs->regs[match].reg.provider;
            bound_entry = &pr->leaf.v[0];
        }
    }

    /* 3. Lookup registries: Intel PPIDs only, and only when nothing signed lists it. */
    if (bound_provider == NULL && !failed && rs->n_lookups > 0) {
        if (plat.primary.vendor != CVMA_REG_INTEL) {
            append(consulted, sizeof consulted,
                   "%slookup registries (Intel PPIDs only, not consulted)",
                   consulted[0] ? "; " : "");
        }
        for (size_t i = 0; i < rs->n_lookups && plat.primary.vendor == CVMA_REG_INTEL; i++) {
            enum lk_result lr = lookup(&rs->lookups[i], plat.id, have_cache ? &cache : NULL, o,
                                       zone, sizeof zone, detail, sizeof detail);
            if (lr == LK_NOMEM) {
                goto out;
            }
            if (lr == LK_LISTED) {
                bound_provider = rs->lookups[i].name;
                bound_zone = true;
                break;
            }
            if (lr == LK_NOT_LISTED) {
                append(consulted, sizeof consulted, "%slookup %s (404)", consulted[0] ? "; " : "",
                       rs->lookups[i].name);
            } else {
                append(unavailable, sizeof unavailable, "%s%s", unavailable[0] ? "; " : "", detail);
                undecided = true;
            }
        }
    }

    if (bound_provider != NULL) {
        set_bound(&res->platform, bound_provider, bound_entry, bound_zone ? zone : NULL);
        st = failed ? CVMA_REJECTED : CVMA_OK;
        goto out;
    }
    if (failed) {
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
    free(valid);
    cvma_cache_cleanup(&cache);
    return st;
}
