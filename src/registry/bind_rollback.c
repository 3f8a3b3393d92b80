/*
 * Rollback state: the highest registry version seen per provider, kept in the cache directory.
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
#include "common/json_out.h"
#include "common/reader.h"
#include "registry/bind_internal.h"
#include "registry/registry.h"

/* ---------- rollback state ---------- */

/*
 * <dir>/registry-state.<provider>.json = {"provider", "version", "merkle_root"}: the highest
 * version that passed every check, under an exclusive flock so concurrent verifiers do not
 * lose each other's updates.
 */
/* see registry/bind_internal.h */
bool cvma_bind_rollback_state_read(const uint8_t *p, size_t len, const char *provider,
                                   uint64_t *version, uint8_t root[32], bool *oom)
{
    json_error_t jerr;
    json_int_t ver = 0;
    size_t rl = 0;
    bool ok = false, no_mem = false;
    json_t *st = len <= STATE_FILE_MAX
                         ? cvma_json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr, &no_mem)
                         : NULL;
    if (oom != NULL) {
        *oom = no_mem;
    }
    json_t *jv = json_object_get(st, "version");
    json_t *jr = json_object_get(st, "merkle_root");
    json_t *jp = json_object_get(st, "provider");

    *version = 0;
    if (json_is_integer(jv) && (ver = json_integer_value(jv)) >= 1 && json_is_string(jr) &&
        json_string_length(jr) == 64 && cvma_hex_decode(json_string_value(jr), root, 32, &rl) &&
        rl == 32 && json_is_string(jp) && strcmp(json_string_value(jp), provider) == 0) {
        *version = (uint64_t)ver;
        ok = true;
    } else {
        memset(root, 0, 32);
    }
    json_decref(st);
    return ok;
}

enum rb_result cvma_bind_rollback_check(const char *dir, const struct cvma_registry *r,
                                        char *detail, size_t detail_len)
{
    char path[4200], buf[STATE_FILE_MAX + 1], root_hex[65];
    int fd = -1;
    ssize_t got;
    size_t len = 0;
    enum rb_result res = RB_NOT_CHECKED;
    bool have = false, corrupt = false;
    uint64_t seen = 0;
    uint8_t seen_root[32];
    struct stat sb;

    detail[0] = '\0';
    enum cvma_status mst = dir != NULL ? cvma_mkdir_p(dir, 0700) : CVMA_E_IO;
    if (mst == CVMA_E_NOMEM) {
        cvma_errf(detail, detail_len, "out of memory");
        return RB_NOMEM;
    }
    if (mst != CVMA_OK) {
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
        bool oom = false;
        have = cvma_bind_rollback_state_read((const uint8_t *)buf, len, r->provider, &seen,
                                             seen_root, &oom);
        if (oom) {
            /* Not known to be unreadable: replacing it would lose the version seen. */
            cvma_errf(detail, detail_len, "out of memory");
            res = RB_NOMEM;
            goto out;
        }
        corrupt = !have;
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
    if (fd >= 0) {
        close(fd); /* releases the lock */
    }
    return res;
}

enum rb_result cvma_bind_rollback_check_store(const struct cvma_state_store *store, const char *dir,
                                              const struct cvma_registry *r, char *detail,
                                              size_t detail_len)
{
    uint64_t seen = 0;
    char why[256] = "";

    if (store == NULL || store->registry_seen == NULL) {
        return cvma_bind_rollback_check(dir, r, detail, detail_len);
    }
    detail[0] = '\0';
    switch (store->registry_seen(store->arg, r->provider, r->version, r->merkle_root, &seen, why,
                                 sizeof why)) {
    case CVMA_STORE_OK:
        return RB_OK;
    case CVMA_STORE_OLDER:
        cvma_errf(detail, detail_len,
                  "provider %s: registry version %" PRIu64 " is older than version %" PRIu64
                  " already seen (shared state store)",
                  r->provider, r->version, seen);
        return RB_ROLLBACK;
    case CVMA_STORE_CONFLICT:
        cvma_errf(detail, detail_len,
                  "provider %s: registry version %" PRIu64 " has another merkle_root than the "
                  "version %" PRIu64 " already seen (shared state store): two different "
                  "registries under one version",
                  r->provider, r->version, seen);
        return RB_ROLLBACK;
    case CVMA_STORE_MISS:
    case CVMA_STORE_UNAVAILABLE:
    default:
        /* The fleet's rollback state was asked for and could not be had: as a lookup registry
         * that does not answer, the registry cannot be used now (undecided, never accepted). */
        cvma_errf(detail, detail_len, "shared state store: %s",
                  why[0] != '\0' ? why : "unavailable");
        return RB_UNAVAILABLE;
    }
}
