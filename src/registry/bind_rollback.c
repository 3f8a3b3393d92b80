/*
 * Rollback state: the highest registry version seen per provider, kept in the cache directory.
 * See registry/registry.h for the contract and docs/registry.md for the rules.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
 * version that passed every check. Read, compared and replaced (atomically, by rename) under an
 * exclusive flock on <dir>/registry-state.<provider>.lock, so concurrent verifiers do not lose
 * each other's updates.
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

/*
 * cvma_bind_rollback_check; on RB_ROLLBACK *seen and seen_root hold the state's version. With
 * record false the state is only compared, never written nor locked (it is replaced whole, by
 * rename, so a read needs no lock): RB_ROLLBACK when r is below it, RB_OK when r is at or
 * above it (or there is none), RB_NOT_CHECKED when it cannot be read (detail says why),
 * RB_NOMEM. A caller that records later calls again with record true, which compares again
 * under the lock: what was read here may have been raised since.
 */
static enum rb_result file_check(const char *dir, const struct cvma_registry *r, bool record,
                                 char *detail, size_t detail_len, uint64_t *seen_out,
                                 uint8_t seen_root[32])
{
    char path[4200], lpath[4200], buf[STATE_FILE_MAX + 1], root_hex[65], lock_why[300] = "";
    int fd = -1, lock_fd = -1;
    ssize_t got;
    size_t len = 0;
    enum rb_result res = RB_NOT_CHECKED;
    bool have = false, corrupt = false;
    uint64_t seen = 0;

    detail[0] = '\0';
    *seen_out = 0;
    memset(seen_root, 0, 32);
    /* A directory others can write is as good as none: whoever can write it can lower or
     * remove the floor (cvma_private_dir). */
    char dir_why[CVMA_DETAIL_MAX / 2];
    enum cvma_status mst =
            dir != NULL ? cvma_private_dir(dir, true, dir_why, sizeof dir_why) : CVMA_E_IO;
    if (mst == CVMA_E_NOMEM) {
        cvma_errf(detail, detail_len, "out of memory");
        return RB_NOMEM;
    }
    if (mst != CVMA_OK) {
        cvma_errf(detail, detail_len, "state directory %s",
                  dir ? dir_why : "(none) cannot be created");
        return RB_NOT_CHECKED;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/registry-state.%s.json", dir, r->provider) >=
                sizeof path ||
        (size_t)snprintf(lpath, sizeof lpath, "%s/registry-state.%s.lock", dir, r->provider) >=
                sizeof lpath) {
        cvma_errf(detail, detail_len, "state path too long");
        return RB_NOT_CHECKED;
    }
    /* The state is replaced by rename, never rewritten in place (a crash, a kill or a full disk
     * between a truncate and its write would leave an empty file), so the lock that keeps
     * concurrent verifiers from losing each other's updates lives in a file of its own, as
     * bind_log.c's does. Never through a symlink, never a FIFO or device. */
    int e = record ? cvma_lock_file(lpath, true, 0600, &lock_fd) : 0;
    if (e == ENOMEM) {
        cvma_errf(detail, detail_len, "out of memory");
        return RB_NOMEM;
    }
    if (e != 0) {
        /* Compared all the same (a refusal needs no lock), never written unlocked. */
        cvma_errf(lock_why, sizeof lock_why, "cannot lock %s: %s", lpath,
                  e == EINVAL ? "not a regular file" : strerror(e));
    }
    /* Never through a symlink (a write would then be the link's, or it would be replaced by a
     * file of ours) and never a FIFO or device (a read that waits forever): the state is a
     * plain file or it is not checked. */
    int oe = cvma_state_file_open(path, &fd);
    if (oe == EINVAL) {
        cvma_errf(detail, detail_len, "%s is not a regular file", path);
        goto out;
    }
    if (oe != 0 && oe != ENOENT) {
        cvma_errf(detail, detail_len, "cannot open %s: %s", path, strerror(oe));
        goto out;
    }
    /* Versions before the lock file locked the state itself and rewrote it in place
     * (truncate, then write): a shared lock on it waits out such a writer sharing the cache
     * directory, so its truncated file is never read as an empty, corrupt one and replaced
     * with an older version (the wait is resumed after a signal; a failure: read as it is). */
    while (fd >= 0 && flock(fd, LOCK_SH) != 0 && errno == EINTR) {
    }
    while (fd >= 0 && len < sizeof buf && (got = read(fd, buf + len, sizeof buf - len)) != 0) {
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            cvma_errf(detail, detail_len, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        len += (size_t)got;
    }
    if (fd >= 0) {
        /* A file that exists is a state or it is corrupt, an empty one too: an empty file is
         * not a first use (no state is ever written empty), and taking it for one would
         * accept any older registry and record it as the floor. */
        bool oom = false;
        have = len > 0 && cvma_bind_rollback_state_read((const uint8_t *)buf, len, r->provider,
                                                        &seen, seen_root, &oom);
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
        *seen_out = seen;
        res = RB_ROLLBACK;
        goto out;
    }
    if (have && r->version == seen && memcmp(seen_root, r->merkle_root, 32) != 0) {
        cvma_errf(detail, detail_len,
                  "provider %s: registry version %" PRIu64 " has another merkle_root than the "
                  "version %" PRIu64 " already seen: two different registries under one version",
                  r->provider, r->version, seen);
        *seen_out = seen;
        res = RB_ROLLBACK;
        goto out;
    }
    if (!record) {
        if (corrupt) {
            cvma_errf(detail, detail_len, "%s is unreadable", path);
        }
        res = corrupt ? RB_NOT_CHECKED : RB_OK;
        goto out;
    }
    if (!have || r->version > seen) {
        if (lock_fd < 0) {
            cvma_errf(detail, detail_len, "%s%s; version %" PRIu64 " not recorded", lock_why,
                      corrupt ? " and the state there is unreadable" : "", r->version);
            goto out;
        }
        cvma_hex_encode(r->merkle_root, 32, root_hex, sizeof root_hex);
        int n = snprintf(buf, sizeof buf,
                         "{\"provider\": \"%s\", \"version\": %" PRIu64
                         ", \"merkle_root\": \"%s\"}\n",
                         r->provider, r->version, root_hex);
        /* A fresh file, fsynced, renamed over the state, the directory fsynced: after a crash
         * the state is the old one or the new one, never a part (common/util.h). */
        enum cvma_status wst =
                n > 0 && (size_t)n < sizeof buf
                        ? cvma_file_write_atomic_mode(path, (const uint8_t *)buf, (size_t)n, 0600)
                        : CVMA_E_INTERNAL;
        if (wst == CVMA_E_NOMEM) {
            cvma_errf(detail, detail_len, "out of memory");
            res = RB_NOMEM;
            goto out;
        }
        if (wst != CVMA_OK) {
            cvma_errf(detail, detail_len, "cannot write %s%s", path,
                      corrupt ? " (its state is unreadable)" : "");
            goto out;
        }
    }
    if (corrupt) {
        cvma_errf(detail, detail_len, "%s was unreadable (%s) and has been replaced", path,
                  len == 0 ? "empty" : "not a state of this provider");
        goto out; /* not checked this time: the old state is lost */
    }
    /* Without the lock too: the state is only ever replaced whole, and nothing was to be
     * written. */
    res = RB_OK;
out:
    if (fd >= 0) {
        close(fd);
    }
    if (lock_fd >= 0) {
        close(lock_fd); /* releases the lock */
    }
    return res;
}

/* see registry/registry.h */
bool cvma_registry_state_dir_usable(const char *cache_dir, char *why, size_t why_len)
{
    struct cvma_cache cache = {0};
    bool ok = false;

    enum cvma_status st = cvma_cache_init(&cache, cache_dir);
    if (st != CVMA_OK) {
        cvma_errf(why, why_len, "%s",
                  st == CVMA_E_NOMEM
                          ? "out of memory"
                          : "no --cache-dir, $CVMATTEST_CACHE, $XDG_CACHE_HOME or $HOME");
        goto out;
    }
    if ((st = cvma_private_dir(cache.dir, true, why, why_len)) != CVMA_OK) {
        goto out;
    }
    if (access(cache.dir, W_OK | X_OK) != 0) {
        cvma_errf(why, why_len, "%s: %s", cache.dir, strerror(errno));
        goto out;
    }
    ok = true;
out:
    cvma_cache_cleanup(&cache);
    return ok;
}

enum rb_result cvma_bind_rollback_check(const char *dir, const struct cvma_registry *r,
                                        char *detail, size_t detail_len)
{
    uint64_t seen;
    uint8_t seen_root[32];
    return file_check(dir, r, true, detail, detail_len, &seen, seen_root);
}

/* ---------- the floors under a shared state store ---------- */

/* This process's floor for provider into *out; false when it has none (or rs is NULL). */
static bool floor_get(struct cvma_registry_set *rs, const char *provider, struct rb_floor *out)
{
    bool found = false;
    if (rs == NULL) {
        return false;
    }
    pthread_mutex_lock(&rs->floor_lock);
    for (size_t i = 0; i < rs->n_floors && !found; i++) {
        if (strcmp(rs->floors[i].provider, provider) == 0) {
            *out = rs->floors[i];
            found = true;
        }
    }
    pthread_mutex_unlock(&rs->floor_lock);
    return found;
}

/* Raises this process's floor for f->provider to f (never lowers it; the same version and
 * root only adds persisted). *above (may be NULL) gets the floor when it already stood above f
 * (a higher version, or f's with another root): another thread raised it meanwhile. false: out
 * of memory, nothing changed. */
static bool floor_raise(struct cvma_registry_set *rs, const struct rb_floor *f,
                        struct rb_floor *above, bool *was_above)
{
    bool ok = true;
    size_t i;
    if (was_above != NULL) {
        *was_above = false;
    }
    if (rs == NULL) {
        return true;
    }
    pthread_mutex_lock(&rs->floor_lock);
    for (i = 0; i < rs->n_floors && strcmp(rs->floors[i].provider, f->provider) != 0; i++) {
    }
    if (i == rs->n_floors) {
        struct rb_floor *nf = grow(rs->floors, rs->n_floors, sizeof *nf);
        if (nf == NULL) {
            ok = false;
        } else {
            rs->floors = nf;
            rs->floors[rs->n_floors++] = *f;
        }
    } else if (f->version > rs->floors[i].version) {
        rs->floors[i] = *f;
    } else if (f->version == rs->floors[i].version &&
               memcmp(f->root, rs->floors[i].root, 32) == 0) {
        rs->floors[i].persisted = rs->floors[i].persisted || f->persisted;
    } else if (was_above != NULL) {
        *was_above = true;
        *above = rs->floors[i];
    }
    pthread_mutex_unlock(&rs->floor_lock);
    return ok;
}

/* A store that lost its record (or lags) is raised back to a floor; best effort: the
 * registry below the floor is refused whatever the store answers. */
static void raise_store(const struct cvma_state_store *store, const struct rb_floor *f)
{
    uint64_t seen = 0;
    char why[256];
    (void)store->registry_seen(store->arg, f->provider, f->version, f->root, &seen, why,
                               sizeof why);
}

/* r is below the state file's version fv (root froot, detail why): this process's floor and
 * the store are raised to it (the file holds what passed every check before), RB_ROLLBACK. */
static enum rb_result refused_by_file(struct cvma_registry_set *rs,
                                      const struct cvma_state_store *store,
                                      const struct cvma_registry *r, uint64_t fv,
                                      const uint8_t froot[32], const char *why, char *detail,
                                      size_t detail_len)
{
    struct rb_floor f;
    memset(&f, 0, sizeof f);
    snprintf(f.provider, sizeof f.provider, "%s", r->provider);
    f.version = fv;
    memcpy(f.root, froot, 32);
    f.persisted = true;
    if (!floor_raise(rs, &f, NULL, NULL)) {
        cvma_errf(detail, detail_len, "out of memory");
        return RB_NOMEM;
    }
    raise_store(store, &f);
    cvma_errf(detail, detail_len, "%s", why);
    return RB_ROLLBACK;
}

/* r is below (or another registry under) the floor f this process already passed: refused,
 * and the store raised to f should it have forgotten it. */
static enum rb_result refuse_seen(const struct cvma_state_store *store, const struct rb_floor *f,
                                  const struct cvma_registry *r, char *detail, size_t detail_len)
{
    raise_store(store, f);
    cvma_errf(detail, detail_len,
              "provider %s: registry version %" PRIu64 " %s version %" PRIu64
              " this instance already saw",
              r->provider, r->version,
              r->version < f->version ? "is older than" : "has another merkle_root than",
              f->version);
    return RB_ROLLBACK;
}

enum rb_result cvma_bind_rollback_check_store(struct cvma_registry_set *rs,
                                              const struct cvma_state_store *store, const char *dir,
                                              const struct cvma_registry *r, char *detail,
                                              size_t detail_len)
{
    uint64_t seen = 0, fv = 0;
    uint8_t froot[32];
    char why[256] = "", local_why[CVMA_DETAIL_MAX] = "";
    struct rb_floor f, mine;
    enum rb_result local = RB_OK;

    if (store == NULL || store->registry_seen == NULL) {
        return cvma_bind_rollback_check(dir, r, detail, detail_len);
    }
    detail[0] = '\0';
    /* 1. What this process saw: in memory, no system call. */
    bool have = floor_get(rs, r->provider, &f);
    if (have && (r->version < f.version ||
                 (r->version == f.version && memcmp(f.root, r->merkle_root, 32) != 0))) {
        return refuse_seen(store, &f, r, detail, detail_len);
    }
    /* 2. The state file, compared only: the first time this process sees the provider's
     * registry, when the version rises, and until the file could be written. With no cache
     * directory at all the store's record is the check, over this process's floor; what that
     * loses (a store that forgets while every instance restarts) is the deployment's, said once
     * at start (serve), and r counts as kept. A directory there is but that cannot be made, like
     * a state file that cannot be written, is said in the result (RB_NOT_CHECKED below) and
     * retried. */
    bool dir_usable = false;
    if (dir != NULL && (!have || r->version > f.version || !f.persisted)) {
        char dir_why[CVMA_DETAIL_MAX / 2];
        enum cvma_status mst = cvma_private_dir(dir, true, dir_why, sizeof dir_why);
        if (mst == CVMA_E_NOMEM) {
            cvma_errf(detail, detail_len, "out of memory");
            return RB_NOMEM;
        }
        dir_usable = mst == CVMA_OK;
        if (!dir_usable) {
            local = RB_NOT_CHECKED;
            cvma_errf(local_why, sizeof local_why, "the state directory %s", dir_why);
        }
    }
    if (dir_usable) {
        enum rb_result fr = file_check(dir, r, false, local_why, sizeof local_why, &fv, froot);
        if (fr == RB_NOMEM) {
            cvma_errf(detail, detail_len, "out of memory");
            return RB_NOMEM;
        }
        if (fr == RB_ROLLBACK) {
            return refused_by_file(rs, store, r, fv, froot, local_why, detail, detail_len);
        }
        /* (A state that cannot be read is said when it is written, below.) */
        local_why[0] = '\0';
    }
    /* 3. The fleet's record (raised to r when it has none or a lower one). Asked before r is
     * recorded here: a registry the store refuses, or that is not used because the store does
     * not answer, never becomes this instance's floor (docs/registry.md: the state keeps the
     * highest version that passed every check), or the registry the fleet accepts would be
     * refused here from then on. */
    switch (store->registry_seen(store->arg, r->provider, r->version, r->merkle_root, &seen, why,
                                 sizeof why)) {
    case CVMA_STORE_OK:
        break;
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
    /* 4. The store took r: it is recorded in the state file, compared again under the file's
     * lock (another thread, or a verifier sharing the directory, may have recorded a higher
     * version since step 2: the file never goes down, and r is then refused as it would have
     * been had that come first), then as this process's floor (which never goes down
     * either). */
    if (dir_usable) {
        local = file_check(dir, r, true, local_why, sizeof local_why, &fv, froot);
        if (local == RB_NOMEM) {
            cvma_errf(detail, detail_len, "out of memory");
            return RB_NOMEM;
        }
        if (local == RB_ROLLBACK) {
            return refused_by_file(rs, store, r, fv, froot, local_why, detail, detail_len);
        }
    }
    memset(&mine, 0, sizeof mine);
    snprintf(mine.provider, sizeof mine.provider, "%s", r->provider);
    mine.version = r->version;
    memcpy(mine.root, r->merkle_root, 32);
    mine.persisted = local == RB_OK;
    bool was_above = false;
    if (!floor_raise(rs, &mine, &f, &was_above)) {
        cvma_errf(detail, detail_len, "out of memory");
        return RB_NOMEM;
    }
    if (was_above) {
        /* Another thread passed a higher registry (or another under this version) while the
         * store was asked: refused, as step 1 would refuse it now. */
        return refuse_seen(store, &f, r, detail, detail_len);
    }
    if (local != RB_OK) {
        cvma_errf(detail, detail_len,
                  "checked against the shared state store only; this instance's state file "
                  "was not: %s",
                  local_why);
        return RB_NOT_CHECKED;
    }
    return RB_OK;
}
