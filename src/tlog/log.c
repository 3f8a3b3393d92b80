/*
 * The log on disk in the tlog-tiles layout (see tlog/tlog.h): DIR/checkpoint, DIR/tile/<L>/<N>
 * hash tiles and DIR/tile/entries/<N> entry bundles, full tiles of 256 and partial ones
 * ".p/<W>" at the right edge. Tiles are immutable once full; partial tiles of older sizes are
 * left in place (tlog-tiles allows deleting them once the full tile exists).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/reader.h"
#include "tlog/tlog.h"

#define TILE_BYTES     (CVMA_TLOG_TILE_WIDTH * 32)
#define CHECKPOINT_MAX ((size_t)64 << 10)

bool cvma_tlog_tile_path(int level, uint64_t index, unsigned width, char *out, size_t out_size)
{
    char num[64];
    unsigned groups[8];
    int ng = 0;
    size_t off = 0;
    uint64_t v = index;

    do {
        groups[ng++] = (unsigned)(v % 1000);
        v /= 1000;
    } while (v > 0 && ng < 8);
    for (int i = ng - 1; i >= 0; i--) {
        int w = snprintf(num + off, sizeof num - off, i > 0 ? "x%03u/" : "%03u", groups[i]);
        if (w < 0 || (size_t)w >= sizeof num - off) {
            return false;
        }
        off += (size_t)w;
    }
    int w;
    if (level < 0) {
        w = width == 0 ? snprintf(out, out_size, "tile/entries/%s", num)
                       : snprintf(out, out_size, "tile/entries/%s.p/%u", num, width);
    } else {
        w = width == 0 ? snprintf(out, out_size, "tile/%d/%s", level, num)
                       : snprintf(out, out_size, "tile/%d/%s.p/%u", level, num, width);
    }
    return w > 0 && (size_t)w < out_size;
}

void cvma_tlog_init(struct cvma_tlog *l, const char *origin)
{
    memset(l, 0, sizeof *l);
    if (origin != NULL) {
        snprintf(l->origin, sizeof l->origin, "%s", origin);
    }
}

void cvma_tlog_cleanup(struct cvma_tlog *l)
{
    if (l == NULL) {
        return;
    }
    free(l->leaves);
    cvma_buf_free(&l->bundle);
    cvma_buf_free(&l->last);
    cvma_merkle_cleanup(&l->tree);
    memset(l, 0, sizeof *l);
}

static bool buf_append(struct cvma_buf *b, size_t *cap, const uint8_t *p, size_t n)
{
    if (b->len + n > *cap) {
        size_t nc = *cap < 4096 ? 4096 : *cap;
        while (nc < b->len + n) {
            nc *= 2;
        }
        uint8_t *q = realloc(b->p, nc);
        if (q == NULL) {
            return false;
        }
        b->p = q;
        *cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return true;
}

enum cvma_status cvma_tlog_append(struct cvma_tlog *l, const uint8_t *e, size_t len)
{
    uint8_t pfx[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    if (len == 0 || len > CVMA_TLOG_ENTRY_MAX) {
        return CVMA_E_USAGE;
    }
    if (l->size >= CVMA_REG_ENTRIES_MAX) {
        return CVMA_E_USAGE; /* full */
    }
    if (l->size == l->cap) {
        /* Doubling, capped at the limit: a loaded log's cap is its size, whatever it is. */
        size_t nc = l->cap == 0 ? 1024 : l->cap * 2;
        if (nc > CVMA_REG_ENTRIES_MAX) {
            nc = CVMA_REG_ENTRIES_MAX;
        }
        uint8_t(*q)[32] = realloc(l->leaves, nc * 32);
        if (q == NULL) {
            return CVMA_E_NOMEM;
        }
        l->leaves = q;
        l->cap = nc;
    }
    if (!buf_append(&l->bundle, &l->bundle_cap, pfx, 2) ||
        !buf_append(&l->bundle, &l->bundle_cap, e, len)) {
        return CVMA_E_NOMEM;
    }
    uint8_t *copy = malloc(len);
    if (copy == NULL) {
        return CVMA_E_NOMEM;
    }
    memcpy(copy, e, len);
    cvma_buf_free(&l->last);
    l->last.p = copy;
    l->last.len = len;
    cvma_merkle_leaf_hash(e, len, l->leaves[l->size]);
    l->size++;
    l->tree_ok = false;
    return CVMA_OK;
}

static enum cvma_status build_tree(struct cvma_tlog *l)
{
    if (l->tree_ok || l->size == 0) {
        return CVMA_OK;
    }
    cvma_merkle_cleanup(&l->tree);
    enum cvma_status st =
            cvma_merkle_build_hashes(&l->tree, (const uint8_t(*)[32])l->leaves, l->size);
    l->tree_ok = st == CVMA_OK;
    return st;
}

enum cvma_status cvma_tlog_root(struct cvma_tlog *l, uint8_t root[32])
{
    enum cvma_status st;
    if (l->size == 0) {
        static const uint8_t empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a,
                                          0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae,
                                          0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99,
                                          0x1b, 0x78, 0x52, 0xb8, 0x55}; /* SHA-256("") */
        memcpy(root, empty, 32);
        return CVMA_OK;
    }
    if ((st = build_tree(l)) != CVMA_OK) {
        return st;
    }
    cvma_merkle_root(&l->tree, root);
    return CVMA_OK;
}

static enum cvma_status read_rel(const char *dir, const char *rel, size_t max, struct cvma_buf *out)
{
    char *path = cvma_path_join(dir, rel);
    enum cvma_status st;
    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    st = cvma_file_read_regular(path, max, out);
    free(path);
    return st;
}

/* Walks a bundle: calls back with each entry; false when the bundle is malformed. */
static bool bundle_next(struct cvma_reader *r, struct cvma_span *e)
{
    uint16_t n = 0;
    return cvma_reader_u16be(r, &n) && n > 0 && cvma_reader_span(r, n, e);
}

enum cvma_status cvma_tlog_load(struct cvma_tlog *l, const char *dir,
                                const struct cvma_note_vkey *vkey, const char *origin, char *err,
                                size_t err_len)
{
    struct cvma_buf cpb = {0}, tile = {0}, bundle = {0};
    struct cvma_note note;
    struct cvma_checkpoint cp;
    char why[200], rel[128];
    enum cvma_status st;
    uint8_t root[32];

    cvma_tlog_init(l, origin);
    memset(&note, 0, sizeof note);
    st = read_rel(dir, "checkpoint", CHECKPOINT_MAX, &cpb);
    if (st == CVMA_E_IO && origin != NULL) {
        char *p = cvma_path_join(dir, "checkpoint");
        bool missing = p != NULL && access(p, F_OK) != 0 && errno == ENOENT;
        free(p);
        if (missing) {
            return CVMA_OK; /* a new, empty log */
        }
    }
    if (st != CVMA_OK) {
        cvma_errf(err, err_len, "%s/checkpoint: cannot read", dir);
        return st;
    }
    if ((st = cvma_note_parse(cpb.p, cpb.len, &note, why, sizeof why)) != CVMA_OK ||
        !cvma_checkpoint_parse(note.text, note.text_len, &cp, why, sizeof why)) {
        cvma_errf(err, err_len, "%s/checkpoint: %s", dir, why);
        st = st == CVMA_OK ? CVMA_REJECTED : st;
        goto out;
    }
    if (vkey != NULL && cvma_note_check_sig(&note, vkey) != CVMA_NOTE_VALID) {
        cvma_errf(err, err_len, "%s/checkpoint: no valid signature by log key %s", dir, vkey->name);
        st = CVMA_REJECTED;
        goto out;
    }
    if (origin != NULL && strcmp(cp.origin, origin) != 0) {
        cvma_errf(err, err_len, "%s/checkpoint: origin '%s', expected '%s'", dir, cp.origin,
                  origin);
        st = CVMA_REJECTED;
        goto out;
    }
    snprintf(l->origin, sizeof l->origin, "%s", cp.origin);
    if (cp.size > CVMA_REG_ENTRIES_MAX) {
        cvma_errf(err, err_len, "%s/checkpoint: size %" PRIu64 " above the supported %zu", dir,
                  cp.size, CVMA_REG_ENTRIES_MAX);
        st = CVMA_REJECTED;
        goto out;
    }
    if (cp.size > 0 && (l->leaves = malloc((size_t)cp.size * 32)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    l->cap = (size_t)cp.size;
    for (uint64_t n = 0; n * CVMA_TLOG_TILE_WIDTH < cp.size; n++) {
        uint64_t w = cp.size - n * CVMA_TLOG_TILE_WIDTH;
        unsigned pw = w >= CVMA_TLOG_TILE_WIDTH ? 0 : (unsigned)w;
        size_t want = (pw == 0 ? CVMA_TLOG_TILE_WIDTH : pw) * 32;
        cvma_buf_free(&tile);
        if (!cvma_tlog_tile_path(0, n, pw, rel, sizeof rel) ||
            (st = read_rel(dir, rel, TILE_BYTES, &tile)) != CVMA_OK) {
            cvma_errf(err, err_len, "%s/%s: cannot read", dir, rel);
            st = st == CVMA_OK ? CVMA_E_INTERNAL : st;
            goto out;
        }
        if (tile.len != want) {
            cvma_errf(err, err_len, "%s/%s: %zu bytes, expected %zu", dir, rel, tile.len, want);
            st = CVMA_REJECTED;
            goto out;
        }
        memcpy(l->leaves[n * CVMA_TLOG_TILE_WIDTH], tile.p, want);
    }
    l->size = l->saved_size = cp.size;
    if ((st = cvma_tlog_root(l, root)) != CVMA_OK) {
        goto out;
    }
    if (memcmp(root, cp.root, 32) != 0) {
        cvma_errf(err, err_len, "%s: the level-0 tiles do not hash to the checkpoint's root", dir);
        st = CVMA_REJECTED;
        goto out;
    }
    /* The last entry bundle: kept when partial (the next save extends it), and its last
     * entry (the newest registry). */
    if (cp.size > 0) {
        uint64_t n = (cp.size - 1) / CVMA_TLOG_TILE_WIDTH;
        unsigned pw = cp.size % CVMA_TLOG_TILE_WIDTH == 0
                              ? 0
                              : (unsigned)(cp.size % CVMA_TLOG_TILE_WIDTH);
        struct cvma_reader r;
        struct cvma_span e = {0};
        uint64_t i = n * CVMA_TLOG_TILE_WIDTH;
        if (!cvma_tlog_tile_path(-1, n, pw, rel, sizeof rel) ||
            (st = read_rel(dir, rel, (size_t)CVMA_TLOG_TILE_WIDTH * (CVMA_TLOG_ENTRY_MAX + 2),
                           &bundle)) != CVMA_OK) {
            cvma_errf(err, err_len, "%s/%s: cannot read", dir, rel);
            st = st == CVMA_OK ? CVMA_E_INTERNAL : st;
            goto out;
        }
        cvma_reader_init(&r, bundle.p, bundle.len);
        while (cvma_reader_left(&r) > 0) {
            uint8_t h[32];
            if (i >= cp.size || !bundle_next(&r, &e)) {
                break;
            }
            cvma_merkle_leaf_hash(e.p, e.len, h);
            if (memcmp(h, l->leaves[i], 32) != 0) {
                break;
            }
            i++;
        }
        if (i != cp.size || cvma_reader_left(&r) != 0) {
            cvma_errf(err, err_len, "%s/%s: entries do not match the level-0 tile", dir, rel);
            st = CVMA_REJECTED;
            goto out;
        }
        if ((l->last.p = malloc(e.len)) == NULL) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        memcpy(l->last.p, e.p, e.len);
        l->last.len = e.len;
        if (pw != 0) {
            l->bundle = bundle;
            l->bundle_cap = bundle.len;
            memset(&bundle, 0, sizeof bundle);
        }
    }
    st = CVMA_OK;
out:
    cvma_buf_free(&cpb);
    cvma_buf_free(&tile);
    cvma_buf_free(&bundle);
    cvma_note_cleanup(&note);
    if (st != CVMA_OK) {
        cvma_tlog_cleanup(l);
    }
    return st;
}

/* Writes DIR/rel (creating its directory) through a fresh temporary file (created
 * exclusively, never through a symlink: common/util.h) and rename. durable: the file and its
 * directory entry are fsynced, and so is each directory between DIR and the file that this
 * write created (a tile in a new tile/0/x001/ would otherwise be lost after a power loss
 * while the checkpoint that needs it stayed). */
static enum cvma_status write_rel(const char *dir, const char *rel, const uint8_t *p, size_t n,
                                  bool durable)
{
    enum cvma_status st = CVMA_OK;
    char *path = cvma_path_join(dir, rel), *slash;
    bool made = false;
    struct stat sb;

    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    slash = strrchr(path, '/');
    if (slash != NULL) {
        *slash = '\0';
        made = stat(path, &sb) != 0;
        st = cvma_mkdir_p(path, 0755);
        *slash = '/';
    }
    if (st == CVMA_OK) {
        st = durable ? cvma_file_write_atomic_mode(path, p, n, 0644)
                     : cvma_file_write_atomic_nosync(path, p, n, 0644);
    }
    /* The file's own directory was fsynced by the write; then each parent up to DIR. */
    if (st == CVMA_OK && durable && made && (slash = strrchr(path, '/')) != NULL) {
        size_t dlen = strlen(dir);
        *slash = '\0';
        while (st == CVMA_OK && strlen(path) > dlen && (slash = strrchr(path, '/')) != NULL &&
               (size_t)(slash - path) >= dlen) {
            *slash = '\0';
            st = cvma_dir_fsync(path);
        }
    }
    free(path);
    return st;
}

enum cvma_status cvma_tlog_lock(const char *dir, bool exclusive, int *fd_out, char *err,
                                size_t err_len)
{
    char *lpath;
    int fd;

    *fd_out = -1;
    if (exclusive) {
        enum cvma_status mst = cvma_mkdir_p(dir, 0755);
        if (mst != CVMA_OK) {
            cvma_errf(err, err_len, "%s: cannot create the log directory", dir);
            return mst == CVMA_E_NOMEM ? mst : CVMA_E_IO;
        }
    }
    if ((lpath = cvma_path_join(dir, "lock")) == NULL) {
        return CVMA_E_NOMEM;
    }
    /* Never through a symlink, never a FIFO or device (an open or a lock that waits). */
    int e = cvma_lock_file(lpath, exclusive, 0644, &fd);
    if (e == EINVAL) {
        cvma_errf(err, err_len, "%s: the log's lock is not a regular file", lpath);
    } else if (e != 0) {
        cvma_errf(err, err_len, "%s: cannot open the log's lock file or lock it: %s", lpath,
                  strerror(e));
    }
    if (e != 0) {
        free(lpath);
        return e == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO;
    }
    free(lpath);
    *fd_out = fd;
    return CVMA_OK;
}

/* Nodes a tree of size leaves has at a tile level (-1: the entries): its row's width. */
static uint64_t level_count(int level, uint64_t size)
{
    if (level < 0) {
        return size;
    }
    return 8 * (unsigned)level >= 64 ? 0 : size >> (8 * (unsigned)level);
}

/* Whether the tile of index n and width w (1..256) at a level of c nodes holds a node
 * beyond them: n * 256 + w > c, without the overflow. */
static bool tile_beyond(uint64_t n, unsigned w, uint64_t c)
{
    return w > c || n > (c - w) / CVMA_TLOG_TILE_WIDTH;
}

/* An index group's three digits ("000".."999"), at s. */
static bool group3(const char *s, uint64_t *g)
{
    return cvma_dec_u64(s, 3, 0, 999, g);
}

/* What the walk below looks for, and what it found. */
struct beyond {
    uint64_t c;    /* nodes the checkpoint covers at the level walked */
    char rel[200]; /* the directory read (from DIR), then the tile found or the one unreadable */
    size_t rel_len;
    int err; /* errno of a directory that could not be read, 0 when none */
};

/* Appends "/name" to b->rel (cut short should it not fit: the tile paths walked are far
 * shorter). */
static void rel_push(struct beyond *b, const char *name)
{
    snprintf(b->rel + b->rel_len, sizeof b->rel - b->rel_len, "/%s", name);
    b->rel_len = strlen(b->rel);
}

static void rel_pop(struct beyond *b, size_t len)
{
    b->rel_len = len;
    b->rel[len] = '\0';
}

/* Opens the directory name in dfd (symlinks followed, as every read and write of the log's
 * files follows them): the descriptor, -1 when name is not a directory (ENOTDIR: no tile
 * directory, skipped), else -2 with b->err set. */
static int open_sub(struct beyond *b, int dfd, const char *name)
{
    int fd;
    do {
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0) {
        return fd;
    }
    if (errno == ENOTDIR || errno == ENOENT) {
        return -1; /* a file of that name, or gone since it was listed */
    }
    b->err = errno;
    return -2;
}

/*
 * Walks a tile directory (fd, closed here; b->rel its path): the x-prefixed index groups
 * (prefix: the groups above, depth: how many), full tiles "NNN" and partial ones "NNN.p/W".
 * true when it met a tile beyond b->c (b->rel names it) or a directory it cannot read (b->err).
 * A partial directory none of whose widths can reach beyond b->c is not opened: an old log
 * keeps a partial tile of every size it had. Names that are no tile's are not looked at.
 */
static bool walk_tiles(struct beyond *b, int fd, uint64_t prefix, int depth)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;
    size_t base = b->rel_len;
    bool stop = false;

    if (d == NULL) {
        b->err = errno;
        close(fd);
        return true;
    }
    while (!stop) {
        errno = 0;
        if ((de = readdir(d)) == NULL) {
            if (errno != 0) {
                b->err = errno;
                stop = true;
            }
            break;
        }
        const char *name = de->d_name;
        size_t len = strlen(name);
        uint64_t g, n;
        /* index = prefix * 1000 + g, saturated: a path deeper than any index is beyond. */
        bool full = len == 3 && group3(name, &g);
        bool part = len == 5 && group3(name, &g) && strcmp(name + 3, ".p") == 0;
        bool up = len == 4 && name[0] == 'x' && group3(name + 1, &g);
        if (!full && !part && !up) {
            continue;
        }
        n = prefix > (UINT64_MAX - 999) / 1000 ? UINT64_MAX : prefix * 1000 + g;
        rel_push(b, name);
        if (full) {
            struct stat sb;
            /* A file (or a link to one, or to nothing): a tile a server would give. */
            bool dir = fstatat(dirfd(d), name, &sb, 0) == 0 && S_ISDIR(sb.st_mode);
            stop = !dir && tile_beyond(n, CVMA_TLOG_TILE_WIDTH, b->c);
        } else if (up && depth < 7) {
            int sub = open_sub(b, dirfd(d), name);
            stop = sub == -2 || (sub >= 0 && walk_tiles(b, sub, n, depth + 1));
        } else if (part && tile_beyond(n, CVMA_TLOG_TILE_WIDTH - 1, b->c)) {
            int sub = open_sub(b, dirfd(d), name);
            DIR *pd = sub >= 0 ? fdopendir(sub) : NULL;
            if (sub >= 0 && pd == NULL) {
                b->err = errno;
                close(sub);
            }
            stop = sub == -2 || (sub >= 0 && pd == NULL);
            while (pd != NULL && !stop) {
                uint64_t w;
                errno = 0;
                if ((de = readdir(pd)) == NULL) {
                    b->err = errno;
                    stop = b->err != 0;
                    break;
                }
                size_t wl = strlen(de->d_name);
                if (wl <= 3 && cvma_dec_u64(de->d_name, wl, 1, CVMA_TLOG_TILE_WIDTH - 1, &w) &&
                    tile_beyond(n, (unsigned)w, b->c)) {
                    rel_push(b, de->d_name);
                    stop = true;
                }
            }
            if (pd != NULL) {
                closedir(pd);
            }
        }
        if (!stop) {
            rel_pop(b, base);
        }
    }
    closedir(d);
    return stop;
}

/*
 * Whether DIR holds a hash tile (any level, full or partial) or an entry bundle beyond a
 * checkpoint of size leaves. CVMA_OK when it holds none; CVMA_REJECTED when it does (err names
 * the first one found); CVMA_E_IO when a tile directory cannot be read (err).
 */
static enum cvma_status find_beyond(const char *dir, uint64_t size, char *err, size_t err_len)
{
    struct beyond b;
    char *path = cvma_path_join(dir, "tile");
    DIR *d = NULL;
    struct dirent *de;
    bool stop = false;
    int fd;

    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    memset(&b, 0, sizeof b);
    b.rel_len = (size_t)snprintf(b.rel, sizeof b.rel, "tile");
    do {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    free(path);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
        return CVMA_OK; /* no tiles at all: a new log */
    }
    if (fd < 0) {
        b.err = errno;
        stop = true;
    } else if ((d = fdopendir(fd)) == NULL) {
        b.err = errno;
        close(fd);
        stop = true;
    }
    /* tile/<L> (L decimal) and tile/entries: a level of nodes each */
    while (!stop) {
        uint64_t lv = 0;
        errno = 0;
        if ((de = readdir(d)) == NULL) {
            b.err = errno;
            stop = b.err != 0;
            break;
        }
        size_t len = strlen(de->d_name);
        bool entries = strcmp(de->d_name, "entries") == 0;
        if (!entries && (len > 3 || !cvma_dec_u64(de->d_name, len, 0, 999, &lv))) {
            continue;
        }
        b.c = level_count(entries ? -1 : (int)lv, size);
        rel_push(&b, de->d_name);
        int sub = open_sub(&b, dirfd(d), de->d_name);
        stop = sub == -2 || (sub >= 0 && walk_tiles(&b, sub, 0, 0));
        if (!stop) {
            rel_pop(&b, strlen("tile"));
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    if (b.err != 0) {
        cvma_errf(err, err_len, "%s/%s: cannot read the directory: %s", dir, b.rel,
                  strerror(b.err));
        return b.err == ENOMEM ? CVMA_E_NOMEM : CVMA_E_IO;
    }
    if (!stop) {
        return CVMA_OK;
    }
    cvma_errf(err, err_len,
              "%s/%s is beyond the size its checkpoint covers (%" PRIu64 "%s): tiles or entries "
              "exist beyond the checkpoint's size, so the checkpoint is not the log's latest (an "
              "older copy put back, or an append stopped before its checkpoint was written); "
              "nothing written, no checkpoint signed",
              dir, b.rel, size, size == 0 ? ": no checkpoint" : "");
    return CVMA_REJECTED;
}

enum cvma_status cvma_tlog_save(struct cvma_tlog *l, const char *dir,
                                const struct cvma_note_skey *key, char *err, size_t err_len)
{
    enum cvma_status st;
    struct cvma_checkpoint cp;
    char rel[128], *text = NULL, *sig = NULL, *all = NULL;
    uint8_t *tbuf = NULL;
    bool durable = !l->fast;

    if (l->size == 0) {
        cvma_errf(err, err_len, "an empty log has no checkpoint to write");
        return CVMA_E_USAGE;
    }
    /* Nothing on disk beyond the size this log was loaded at, before anything is written:
     * such tiles belong to a larger checkpoint the key signed (the checkpoint file is an older
     * one put back), and writing on would sign a second checkpoint of a size already signed
     * (a split view) and overwrite tiles published as immutable. */
    if ((st = find_beyond(dir, l->saved_size, err, err_len)) != CVMA_OK) {
        return st;
    }
    if ((st = build_tree(l)) != CVMA_OK) {
        return st;
    }
    if ((tbuf = malloc(TILE_BYTES)) == NULL) {
        return CVMA_E_NOMEM;
    }
    /* Hash tiles: level L holds the tree's nodes at height 8L, complete ones only. */
    for (int lv = 0; (size_t)(8 * lv) < l->tree.n_levels; lv++) {
        uint64_t c = l->size >> (8 * lv), c0 = l->saved_size >> (8 * lv);
        if (c == 0 || c == c0) {
            continue;
        }
        const uint8_t(*nodes)[32] = (const uint8_t(*)[32])l->tree.nodes + l->tree.level_off[8 * lv];
        for (uint64_t n = c0 / CVMA_TLOG_TILE_WIDTH; n * CVMA_TLOG_TILE_WIDTH < c; n++) {
            uint64_t w = c - n * CVMA_TLOG_TILE_WIDTH;
            unsigned pw = w >= CVMA_TLOG_TILE_WIDTH ? 0 : (unsigned)w;
            size_t cnt = pw == 0 ? CVMA_TLOG_TILE_WIDTH : pw;
            memcpy(tbuf, nodes[n * CVMA_TLOG_TILE_WIDTH], cnt * 32);
            if (!cvma_tlog_tile_path(lv, n, pw, rel, sizeof rel) ||
                (st = write_rel(dir, rel, tbuf, cnt * 32, durable)) != CVMA_OK) {
                cvma_errf(err, err_len, "%s/%s: cannot write", dir, rel);
                st = CVMA_E_IO;
                goto out;
            }
        }
    }
    /* Entry bundles: l->bundle starts at the first bundle not yet full on disk. */
    {
        struct cvma_reader r;
        struct cvma_span e;
        uint64_t i = (l->saved_size / CVMA_TLOG_TILE_WIDTH) * CVMA_TLOG_TILE_WIDTH;
        size_t start = 0, keep = 0;
        cvma_reader_init(&r, l->bundle.p, l->bundle.len);
        while (i < l->size) {
            if (!bundle_next(&r, &e)) {
                cvma_errf(err, err_len, "entry bundle out of step with the log");
                st = CVMA_E_INTERNAL;
                goto out;
            }
            i++;
            if (i % CVMA_TLOG_TILE_WIDTH == 0 || i == l->size) {
                unsigned pw = (unsigned)(i % CVMA_TLOG_TILE_WIDTH);
                uint64_t n = (i - 1) / CVMA_TLOG_TILE_WIDTH;
                if (!cvma_tlog_tile_path(-1, n, pw, rel, sizeof rel) ||
                    (st = write_rel(dir, rel, l->bundle.p + start, r.off - start, durable)) !=
                            CVMA_OK) {
                    cvma_errf(err, err_len, "%s/%s: cannot write", dir, rel);
                    st = CVMA_E_IO;
                    goto out;
                }
                keep = pw == 0 ? r.off : start;
                start = r.off;
            }
        }
        /* Keep only the bundle still partial. */
        memmove(l->bundle.p, l->bundle.p + keep, l->bundle.len - keep);
        l->bundle.len -= keep;
    }
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", l->origin);
    cp.size = l->size;
    cvma_merkle_root(&l->tree, cp.root);
    if ((text = cvma_checkpoint_text(&cp)) == NULL ||
        (sig = cvma_note_sign_line(key, text, strlen(text))) == NULL ||
        (all = malloc(strlen(text) + 1 + strlen(sig) + 1)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    snprintf(all, strlen(text) + 1 + strlen(sig) + 1, "%s\n%s", text, sig);
    if ((st = write_rel(dir, "checkpoint", (const uint8_t *)all, strlen(all), true)) != CVMA_OK) {
        cvma_errf(err, err_len, "%s/checkpoint: cannot write", dir);
        goto out;
    }
    l->saved_size = l->size;
out:
    free(tbuf);
    free(text);
    free(sig);
    free(all);
    return st;
}
