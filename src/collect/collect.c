/* Evidence collection inside the guest: see collect/collect.h and docs/collect.md. */
#define _GNU_SOURCE
#include "collect/collect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sev-guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/hex.h"
#include "common/reader.h"

#define SNP_REPORT_LEN      0x4A0u
#define SNP_REPORT_DATA_OFF 0x50u
#define SNP_RSP_HDR         0x20u
#define SNP_VMPL_OFF        0x30u
#define TDX_QUOTE_HDR       48u
#define TDX_REPORT_DATA_OFF 520u /* in the TD report body */

/* TDX_CMD_GET_REPORT0 (Linux include/uapi/linux/tdx-guest.h, not in every libc's headers). */
struct cvma_tdx_report_req {
    uint8_t reportdata[64];
    uint8_t tdreport[1024];
};
#define CVMA_TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct cvma_tdx_report_req)

/* ---------- the SNP certificate table ---------- */

static const struct {
    const char *guid;
    const char *name;
    bool pem;
} known_guids[] = {
        {"c0b406a4-a803-4952-9743-3fb6014cd0ae", "ark.pem", true},
        {"4ab7b379-bbac-4fe4-a02f-05aef327c782", "ask.pem", true},
        {"63da758d-e664-4564-adc5-f4b93be8accd", "vcek.der", false},
        {"a8074bc2-a25a-483e-aae6-39c045a0b8a1", "vlek.der", false},
        {"92f81bc3-5811-4d3d-97ff-d19f88dc67ea", "crl.der", false},
};

static void guid_format(const uint8_t g[16], char out[37])
{
    static const char hx[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hx[g[i] >> 4];
        out[o++] = hx[g[i] & 15];
    }
    out[o] = '\0';
}

bool cvma_snp_certtable_parse(const uint8_t *p, size_t len, struct cvma_snp_certtable *out,
                              char *err, size_t err_len)
{
    struct cvma_reader r;
    uint32_t offs[CVMA_COLLECT_MAX_CERTS], lens[CVMA_COLLECT_MAX_CERTS];
    bool has_vlek = false;

    memset(out, 0, sizeof *out);
    cvma_reader_init(&r, p, len);
    for (;;) {
        uint8_t guid[16];
        uint32_t off, n;
        if (!cvma_reader_bytes(&r, guid, 16) || !cvma_reader_u32le(&r, &off) ||
            !cvma_reader_u32le(&r, &n)) {
            cvma_errf(err, err_len, "certificate table: no all-zero terminator entry");
            goto refused;
        }
        if (cvma_bytes_are_zero(guid, 16) && off == 0 && n == 0) {
            break;
        }
        if (out->n == CVMA_COLLECT_MAX_CERTS) {
            cvma_errf(err, err_len, "certificate table: more than %u entries",
                      CVMA_COLLECT_MAX_CERTS);
            goto refused;
        }
        struct cvma_snp_cert_entry *e = &out->e[out->n];
        memcpy(e->guid, guid, 16);
        guid_format(guid, e->guid_str);
        e->bundle_name = NULL;
        /* Blobs start after the header: checked once the header's end is known, below. */
        offs[out->n] = off;
        lens[out->n] = n;
        for (size_t k = 0; k < CVMA_ARRAY_LEN(known_guids); k++) {
            if (strcmp(e->guid_str, known_guids[k].guid) == 0) {
                e->bundle_name = known_guids[k].name;
                e->pem = known_guids[k].pem;
            }
        }
        if (e->bundle_name != NULL && strcmp(e->bundle_name, "vlek.der") == 0) {
            has_vlek = true;
        }
        for (size_t k = 0; k < out->n; k++) {
            if (memcmp(out->e[k].guid, guid, 16) == 0) {
                cvma_errf(err, err_len, "certificate table: GUID %s twice", e->guid_str);
                goto refused;
            }
        }
        out->n++;
    }
    size_t hdr_end = r.off;
    for (size_t i = 0; i < out->n; i++) {
        struct cvma_snp_cert_entry *e = &out->e[i];
        size_t off = offs[i], n = lens[i];
        struct cvma_reader b;
        cvma_reader_init(&b, p, len);
        if (off < hdr_end || n == 0 || !cvma_reader_skip(&b, off) ||
            !cvma_reader_span(&b, n, &e->data)) {
            cvma_errf(err, err_len,
                      "certificate table: entry %s: offset %zu length %zu outside the table "
                      "(%zu bytes, header %zu)",
                      e->guid_str, off, n, len, hdr_end);
            goto refused;
        }
        if (has_vlek && e->bundle_name != NULL && strcmp(e->bundle_name, "ask.pem") == 0) {
            e->bundle_name = "asvk.pem";
        }
    }
    return true;
refused:
    /* A refused table yields no entries: those counted before the fault have no data yet
     * (blobs are located after the header), and none of the table is to be used. */
    memset(out, 0, sizeof *out);
    return false;
}

/* ---------- small file helpers ---------- */

void cvma_collected_free(struct cvma_collected *c)
{
    if (c == NULL) {
        return;
    }
    cvma_buf_free(&c->evidence);
    cvma_buf_free(&c->aux);
    cvma_buf_free(&c->manifest);
    cvma_buf_free(&c->tdreport);
    memset(c, 0, sizeof *c);
}

static bool path_exists(const char *dir, const char *name, struct stat *st_out)
{
    char *p = cvma_path_join(dir, name);
    struct stat st;
    bool ok = p != NULL && stat(p, &st) == 0;
    if (ok && st_out != NULL) {
        *st_out = st;
    }
    free(p);
    return ok;
}

/* Reads dir/name whole (at most max bytes), as a regular file only, opened without waiting
 * (cvma_file_read_regular). Every file collect reads is one: configfs makes each attribute of
 * a report entry a regular file (its reads block inside the kernel while the TEE answers, not
 * in open), and so are the stand-ins' files of a test tree. A FIFO, a device or a directory
 * put where one belongs is CVMA_E_IO at once (errno EINVAL), never an open that waits for a
 * writer: collect has a time bound (CVMA_COLLECT_WAIT_MS for a tree's responder), and an
 * attested-TLS server calls it under a lock that such a wait would hold for ever. After
 * CVMA_E_IO errno says why (cvma_file_read_strerror words it). */
static enum cvma_status file_in(const char *dir, const char *name, size_t max, struct cvma_buf *out)
{
    char *p = cvma_path_join(dir, name);
    enum cvma_status st = CVMA_E_NOMEM;
    if (p != NULL) {
        st = cvma_file_read_regular(p, max, out);
    }
    int e = errno;
    free(p);
    errno = e;
    return st;
}

/* An attribute a provider may not have: absent is empty; there but unreadable (not a regular
 * file included) or over max is an error naming it. */
static enum cvma_status attr_read_optional(const char *dir, const char *name, size_t max,
                                           struct cvma_buf *out, char *why, size_t why_len)
{
    if (!path_exists(dir, name, NULL)) {
        return CVMA_OK;
    }
    errno = 0;
    enum cvma_status st = file_in(dir, name, max, out);
    if (st == CVMA_E_NOMEM) {
        cvma_errf(why, why_len, "%s/%s: out of memory", dir, name);
    } else if (st != CVMA_OK) {
        cvma_errf(why, why_len, "%s/%s: cannot read (unreadable, or over %zu bytes): %s", dir, name,
                  max, errno != 0 ? cvma_file_read_strerror(errno) : "too large");
        st = CVMA_E_IO;
    }
    return st;
}

/* A small text attribute ("sev_guest\n", "3\n") without its trailing newline. */
static bool attr_text(const char *dir, const char *name, char *out, size_t cap)
{
    struct cvma_buf b = {0};
    bool ok = false;
    if (file_in(dir, name, 256, &b) == CVMA_OK) {
        size_t n = b.len;
        while (n > 0 && (b.p[n - 1] == '\n' || b.p[n - 1] == ' ')) {
            n--;
        }
        if (n < cap && memchr(b.p, '\0', n) == NULL) {
            memcpy(out, b.p, n);
            out[n] = '\0';
            ok = true;
        }
    }
    cvma_buf_free(&b);
    return ok;
}

static bool attr_uint(const char *dir, const char *name, unsigned long *v)
{
    char t[32], *end = NULL;
    if (!attr_text(dir, name, t, sizeof t) || t[0] < '0' || t[0] > '9') {
        return false;
    }
    errno = 0;
    *v = strtoul(t, &end, 10);
    return errno == 0 && *end == '\0';
}

/* A number an older kernel's entry may lack (privlevel_floor, Linux 6.8+): absent is 0; there
 * but not a decimal number is false, with why naming it, never read as 0. */
static bool attr_uint_or_zero(const char *dir, const char *name, unsigned long *v, char *why,
                              size_t why_len)
{
    *v = 0;
    if (!path_exists(dir, name, NULL) || attr_uint(dir, name, v)) {
        return true;
    }
    *v = 0;
    cvma_errf(why, why_len, "%s/%s: not a decimal number", dir, name);
    return false;
}

static bool attr_write(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char *path = cvma_path_join(dir, name);
    int fd = path != NULL ? open(path, O_WRONLY | O_TRUNC | O_CLOEXEC) : -1;
    bool ok = fd >= 0;
    size_t done = 0;
    while (ok && done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    if (fd >= 0 && close(fd) != 0) {
        ok = false;
    }
    free(path);
    return ok;
}

/* Copies the regular files of src into dst (the test-tree stand-in for configfs populating
 * a new entry). false with why said: no src directory, or the file that could not be copied
 * and why (over CVMA_COLLECT_MAX_BLOB, unreadable, not written); *blob is then set when that
 * file is an optional blob (auxblob, manifestblob), as collect_tsm treats one it cannot read. */
static bool copy_template(const char *src, const char *dst, bool *blob, char *why, size_t why_len)
{
    *blob = false;
    DIR *d = opendir(src);
    struct dirent *de;
    bool ok = d != NULL;
    if (d == NULL) {
        cvma_errf(why, why_len, "a plain tree without a usable report/.template: %s",
                  strerror(errno));
    }
    while (ok && (de = readdir(d)) != NULL) {
        struct stat st;
        struct cvma_buf b = {0};
        char *from = cvma_path_join(src, de->d_name), *to = cvma_path_join(dst, de->d_name);
        if (from == NULL || to == NULL) {
            cvma_errf(why, why_len, "out of memory");
            ok = false;
        } else if (stat(from, &st) == 0 && S_ISREG(st.st_mode)) {
            char e[128];
            if (cvma_file_read_regular(from, CVMA_COLLECT_MAX_BLOB, &b) != CVMA_OK) {
                cvma_errf(why, why_len, "the template's %s cannot be read: %s", from,
                          cvma_file_read_why(errno, CVMA_COLLECT_MAX_BLOB, e, sizeof e));
                *blob = strcmp(de->d_name, "auxblob") == 0 ||
                        strcmp(de->d_name, "manifestblob") == 0;
                ok = false;
            } else if (cvma_file_write_atomic(to, b.p, b.len) != CVMA_OK) {
                cvma_errf(why, why_len, "the template's %s cannot be copied to %s: %s", from, to,
                          strerror(errno));
                ok = false;
            }
        }
        cvma_buf_free(&b);
        free(from);
        free(to);
    }
    if (d != NULL) {
        closedir(d);
    }
    return ok;
}

/* A plain tree whose template has no outblob stands for a TEE answering each inblob: waits
 * for a responder (a test) to put outblob into the entry, as configfs blocks the read of
 * outblob while the TEE makes the report. True when outblob exists. */
static bool wait_outblob(const char *entry)
{
    for (unsigned waited = 0; !path_exists(entry, "outblob", NULL); waited += 10) {
        if (waited >= CVMA_COLLECT_WAIT_MS) {
            return false;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        (void)nanosleep(&ts, NULL);
    }
    return true;
}

/* The test-tree stand-in for configfs-tsm counting writes: each attribute written moves the
 * entry's generation by one, as the kernel's does. Nothing on configfs itself, whose
 * generation is the kernel's own (read only). */
static bool tree_bump_generation(const char *entry)
{
    char t[32];
    unsigned long g = 0;
    char *p = cvma_path_join(entry, "generation");
    bool ok = p != NULL && attr_uint(entry, "generation", &g) && g < ULONG_MAX;
    int n = ok ? snprintf(t, sizeof t, "%lu\n", g + 1) : 0;
    ok = ok && cvma_file_write_atomic_nosync(p, (const uint8_t *)t, (size_t)n, 0644) == CVMA_OK;
    free(p);
    return ok;
}

/* One attribute written into a report entry. */
struct attr_w {
    const char *name;
    const uint8_t *p;
    size_t n;
};

/* configfs's f_type (Linux fs/configfs/mount.c; not in every uapi linux/magic.h). */
#define CVMA_CONFIGFS_MAGIC 0x62656570

/* True when path lies on configfs (the kernel's TSM reports), not on a plain test tree. */
static bool is_configfs(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && sf.f_type == CVMA_CONFIGFS_MAGIC;
}

/* A report entry's name: PREFIX-pid-16 random hex digits, so that a container whose collector
 * always has the same pid never meets an entry a killed run left behind (mkdir would fail). */
static bool entry_name(const char *prefix, char *name, size_t cap)
{
    uint8_t rnd[8];
    char rhex[17];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        return false;
    }
    cvma_hex_encode(rnd, sizeof rnd, rhex, sizeof rhex);
    int n = snprintf(name, cap, "%s-%ld-%s", prefix, (long)getpid(), rhex);
    return n > 0 && (size_t)n < cap;
}

static void remove_entry(const char *entry, bool tree)
{
    if (tree) {
        DIR *d = opendir(entry);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                char *p = cvma_path_join(entry, de->d_name);
                if (p != NULL) {
                    (void)unlink(p);
                }
                free(p);
            }
        }
        if (d != NULL) {
            closedir(d);
        }
    }
    (void)rmdir(entry);
}

/* The REPORT_DATA of an SNP report or a TDX quote (v4/v5), through the reader. false with
 * why said (the length or the version that does not fit) when the bytes hold none. */
static bool evidence_report_data(const char *kind, const struct cvma_buf *ev, uint8_t out[64],
                                 char *why, size_t why_len)
{
    struct cvma_reader r;
    cvma_reader_init(&r, ev->p, ev->len);
    if (strcmp(kind, "sev-snp") == 0) {
        /* SNP ABI spec, ATTESTATION_REPORT: the TEE gives the report alone, nothing after. */
        if (ev->len != SNP_REPORT_LEN || !cvma_reader_skip(&r, SNP_REPORT_DATA_OFF) ||
            !cvma_reader_bytes(&r, out, 64)) {
            cvma_errf(why, why_len, "an SEV-SNP report is exactly %u bytes", SNP_REPORT_LEN);
            return false;
        }
        return true;
    }
    uint16_t version = 0;
    size_t body = TDX_QUOTE_HDR;
    if (!cvma_reader_u16le(&r, &version)) {
        cvma_errf(why, why_len, "too short for a TDX quote's version");
        return false;
    }
    if (version != 4 && version != 5) {
        cvma_errf(why, why_len, "a TDX quote of version %u, not 4 or 5", (unsigned)version);
        return false;
    }
    if (version == 5) {
        body += 6; /* body type u16, body size u32 */
    }
    cvma_reader_init(&r, ev->p, ev->len);
    if (!cvma_reader_skip(&r, body + TDX_REPORT_DATA_OFF) || !cvma_reader_bytes(&r, out, 64)) {
        cvma_errf(why, why_len, "a TDX quote v%u ends before its REPORT_DATA (%zu bytes needed)",
                  (unsigned)version, body + TDX_REPORT_DATA_OFF + 64);
        return false;
    }
    return true;
}

static enum cvma_status check_nonce(const struct cvma_collect_opts *o, struct cvma_collected *c,
                                    char *err, size_t err_len)
{
    uint8_t rd[64];
    char why[128];
    if (!evidence_report_data(c->kind, &c->evidence, rd, why, sizeof why)) {
        cvma_errf(err, err_len, "%s: the %s evidence (%zu bytes) cannot be parsed: %s", c->via,
                  c->kind, c->evidence.len, why);
        return CVMA_REJECTED;
    }
    if (o->svsm_vtpm) {
        /* The SVSM's report: VMPL 0, REPORT_DATA = SHA-512(nonce || manifest). */
        uint8_t want[64];
        unsigned int wl = 0;
        uint32_t vmpl = 0;
        struct cvma_reader r;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha512(), NULL) == 1 &&
                  EVP_DigestUpdate(md, o->nonce, 64) == 1 &&
                  EVP_DigestUpdate(md, c->manifest.p, c->manifest.len) == 1 &&
                  EVP_DigestFinal_ex(md, want, &wl) == 1 && wl == 64;
        EVP_MD_CTX_free(md);
        if (!ok) {
            cvma_errf(err, err_len, "SHA-512 failed");
            return CVMA_E_INTERNAL;
        }
        if (c->manifest.len == 0) {
            cvma_errf(err, err_len, "%s: the SVSM returned no service manifest", c->via);
            return CVMA_REJECTED;
        }
        cvma_reader_init(&r, c->evidence.p, c->evidence.len);
        if (!cvma_reader_skip(&r, SNP_VMPL_OFF) || !cvma_reader_u32le(&r, &vmpl) || vmpl != 0) {
            cvma_errf(err, err_len, "%s: the SVSM's report is at VMPL %u, not 0", c->via, vmpl);
            return CVMA_REJECTED;
        }
        if (memcmp(rd, want, 64) != 0) {
            cvma_errf(err, err_len,
                      "%s: the SVSM's report does not carry SHA-512(nonce || manifest) in "
                      "REPORT_DATA",
                      c->via);
            return CVMA_REJECTED;
        }
    } else if (memcmp(rd, o->nonce, 64) != 0) {
        cvma_errf(err, err_len, "%s: the %s evidence does not carry the nonce in REPORT_DATA",
                  c->via, c->kind);
        return CVMA_REJECTED;
    }
    if (strcmp(c->kind, "sev-snp") == 0 && c->aux.len > 0 &&
        !cvma_snp_certtable_parse(c->aux.p, c->aux.len, &c->certs, err, err_len)) {
        return CVMA_REJECTED;
    }
    return CVMA_OK;
}

/* ---------- configfs-tsm ---------- */

/* *present: root/report exists (whatever came of it after). *final: configfs-tsm gave a report
 * but an optional blob of it that is there (auxblob, manifestblob) cannot be read, or its
 * privlevel_floor is no VMPL: the failure is the collection's, not a reason to ask another
 * interface, whose report would come without what that blob holds (the host's certificates)
 * or at a level the guest does not know to be its own. Every other failure (no configfs-tsm, no
 * entry made, a provider this version does not read, no outblob) leaves *final false: the
 * next interface is asked. */
static enum cvma_status collect_tsm(const struct cvma_collect_opts *o, struct cvma_collected *c,
                                    bool *present, bool *final, char *why, size_t why_len)
{
    const char *root = o->tsm_root != NULL ? o->tsm_root : CVMA_COLLECT_TSM_ROOT;
    char *report = cvma_path_join(root, "report"), *entry = NULL, *tmpl = NULL;
    char name[64];
    struct stat st;
    enum cvma_status rs = CVMA_E_IO;
    bool made = false;

    *present = false;
    *final = false;
    if (report == NULL) {
        return CVMA_E_NOMEM;
    }
    if (stat(report, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cvma_errf(why, why_len, "%s: absent", report);
        goto out;
    }
    *present = true;
    if (!entry_name("cvmattest", name, sizeof name)) {
        cvma_errf(why, why_len, "no random bytes for the configfs entry's name");
        goto out;
    }
    if ((entry = cvma_path_join(report, name)) == NULL ||
        (tmpl = cvma_path_join(report, ".template")) == NULL) {
        rs = CVMA_E_NOMEM;
        goto out;
    }
    if (mkdir(entry, 0700) != 0) {
        cvma_errf(why, why_len, "mkdir %s: %s", entry, strerror(errno));
        goto out;
    }
    made = true;
    char cw[1024];
    bool blob = false;
    if (o->tsm_root != NULL && !path_exists(entry, "provider", NULL) &&
        !copy_template(tmpl, entry, &blob, cw, sizeof cw)) {
        /* The tree's auxblob or manifestblob that cannot be read is configfs-tsm's blob that
         * is there but cannot be read (below): the collection's error (*final). */
        cvma_errf(why, why_len, "%s: %s", root, cw);
        *final = blob;
        goto out;
    }
    if (!attr_text(entry, "provider", c->provider, sizeof c->provider)) {
        cvma_errf(why, why_len, "%s: no provider attribute", entry);
        goto out;
    }
    if (strcmp(c->provider, "sev_guest") == 0) {
        c->kind = "sev-snp";
    } else if (strcmp(c->provider, "tdx_guest") == 0) {
        c->kind = "tdx";
    } else {
        cvma_errf(why, why_len, "%s: provider '%s' is not one this version reads", entry,
                  c->provider);
        goto out;
    }
    c->via = "configfs-tsm";
    unsigned long floor = 0;
    if (o->svsm_vtpm) {
        if (strcmp(c->kind, "sev-snp") != 0) {
            cvma_errf(why, why_len,
                      "%s: cannot ask the SVSM for its vTPM service (needs SEV-SNP under an "
                      "SVSM, Linux 6.10+ service_provider): provider %s",
                      entry, c->provider);
            rs = CVMA_REJECTED;
            goto out;
        }
        c->svsm = true;
        c->svsm_service = true;
    } else if (!attr_uint_or_zero(entry, "privlevel_floor", &floor, why, why_len)) {
        *final = true; /* the level to ask at is unknown: no other interface either */
        goto out;
    } else if (floor > 0) {
        /* Under an SVSM the guest runs above VMPL 0: ask for a report at its own level. */
        if (floor > 3) {
            cvma_errf(why, why_len, "%s: privlevel_floor %lu is not a VMPL (0..3)", entry, floor);
            *final = true;
            goto out;
        }
        c->svsm = true;
        c->privlevel = (unsigned)floor;
    }
    /* The kernel's rule (Documentation/ABI/testing/configfs-tsm, generation): read generation
     * before writing any attribute, and after reading outblob it must have moved by exactly
     * the number of writes made; otherwise another writer changed the entry (its nonce, or an
     * option such as privlevel) and the report is discarded. Every attribute is written again
     * on each attempt, so that another writer's option never stays. */
    bool tree = o->tsm_root != NULL && !is_configfs(entry);
    for (unsigned attempt = 1; attempt <= CVMA_COLLECT_GEN_RETRIES; attempt++) {
        unsigned long g0 = 0, g2 = 0, writes = 0;
        c->attempts = attempt;
        cvma_buf_free(&c->evidence);
        cvma_buf_free(&c->aux);
        cvma_buf_free(&c->manifest);
        if (!attr_uint(entry, "generation", &g0)) {
            cvma_errf(why, why_len, "%s/generation: unreadable", entry);
            rs = CVMA_E_IO;
            goto out;
        }
        struct attr_w w[4];
        size_t n_w = 0;
        char lvl[16];
        if (c->svsm_service) {
            static const char prov[] = "svsm\n", guid[] = CVMA_SVSM_VTPM_GUID "\n", ver[] = "0\n";
            w[n_w++] = (struct attr_w){"service_provider", (const uint8_t *)prov, sizeof prov - 1};
            w[n_w++] = (struct attr_w){"service_guid", (const uint8_t *)guid, sizeof guid - 1};
            w[n_w++] = (struct attr_w){"service_manifest_version", (const uint8_t *)ver,
                                       sizeof ver - 1};
        } else if (c->svsm) {
            int n = snprintf(lvl, sizeof lvl, "%u\n", c->privlevel);
            w[n_w++] = (struct attr_w){"privlevel", (const uint8_t *)lvl, (size_t)n};
        }
        w[n_w++] = (struct attr_w){"inblob", o->nonce, sizeof o->nonce};
        for (size_t i = 0; i < n_w; i++) {
            if (!attr_write(entry, w[i].name, w[i].p, w[i].n)) {
                int e = errno;
                bool service = c->svsm_service && i + 1 < n_w;
                cvma_errf(why, why_len, "%s/%s: %s: %s", entry, w[i].name,
                          service ? "cannot ask the SVSM for its vTPM service (needs SEV-SNP "
                                    "under an SVSM, Linux 6.10+ service_provider)"
                                  : "cannot write",
                          strerror(e));
                rs = service ? CVMA_REJECTED : CVMA_E_IO;
                goto out;
            }
            writes++;
            if (tree && !tree_bump_generation(entry)) {
                cvma_errf(why, why_len, "%s/generation: the tree's stand-in cannot count a write",
                          entry);
                rs = CVMA_E_IO;
                goto out;
            }
            if (o->after_write != NULL) {
                o->after_write(entry, w[i].name, attempt, o->hook_arg);
            }
        }
        if (o->tsm_root != NULL && !wait_outblob(entry)) {
            cvma_errf(why, why_len,
                      "%s/outblob: the tree's template has none and no responder wrote it "
                      "within %u ms",
                      entry, CVMA_COLLECT_WAIT_MS);
            rs = CVMA_E_IO;
            goto out;
        }
        if ((rs = file_in(entry, "outblob", CVMA_COLLECT_MAX_BLOB, &c->evidence)) != CVMA_OK ||
            c->evidence.len == 0) {
            char e[128];
            cvma_errf(why, why_len, "%s/outblob: cannot read: %s", entry,
                      rs == CVMA_OK
                              ? "empty"
                              : cvma_file_read_why(errno, CVMA_COLLECT_MAX_BLOB, e, sizeof e));
            rs = rs == CVMA_E_NOMEM ? rs : CVMA_E_IO;
            goto out;
        }
        /* Optional attributes: absent (a provider without them) or empty is fine; one that is
         * there but cannot be read is an error, never a bundle silently without its
         * certificates (nor one from another interface: *final). */
        if ((rs = attr_read_optional(entry, "auxblob", CVMA_SNP_CERTTABLE_MAX, &c->aux, why,
                                     why_len)) != CVMA_OK ||
            (rs = attr_read_optional(entry, "manifestblob", CVMA_COLLECT_MAX_BLOB, &c->manifest,
                                     why, why_len)) != CVMA_OK) {
            *final = true;
            goto out;
        }
        if (o->after_outblob != NULL) {
            o->after_outblob(entry, attempt, o->hook_arg);
        }
        if (!attr_uint(entry, "generation", &g2)) {
            cvma_errf(why, why_len, "%s/generation: unreadable", entry);
            rs = CVMA_E_IO;
            goto out;
        }
        if (g2 == g0 + writes) {
            rs = CVMA_OK;
            goto out;
        }
    }
    cvma_errf(why, why_len, "%s: generation changed on each of %u reads (another writer)", entry,
              CVMA_COLLECT_GEN_RETRIES);
    rs = CVMA_E_IO;
out:
    if (made) {
        remove_entry(entry, o->tsm_root != NULL);
    }
    free(report);
    free(entry);
    free(tmpl);
    return rs;
}

bool cvma_tsm_probe(const char *root, bool tree, char *provider, size_t cap,
                    unsigned long *privlevel_floor, bool *service_provider, char *why,
                    size_t why_len)
{
    char *report = cvma_path_join(root, "report"), *entry = NULL, *tmpl = NULL;
    char name[64];
    bool ok = false, made = false;

    provider[0] = '\0';
    if (why_len > 0) {
        why[0] = '\0';
    }
    *privlevel_floor = 0;
    *service_provider = false;
    if (!entry_name("cvmattest-probe", name, sizeof name) || report == NULL ||
        (entry = cvma_path_join(report, name)) == NULL ||
        (tmpl = cvma_path_join(report, ".template")) == NULL || mkdir(entry, 0700) != 0) {
        goto out;
    }
    made = true;
    char unused[8]; /* the probe says only whether it worked */
    bool blob;
    if (tree && !path_exists(entry, "provider", NULL) &&
        !copy_template(tmpl, entry, &blob, unused, sizeof unused)) {
        goto out;
    }
    if (!attr_text(entry, "provider", provider, cap)) {
        goto out;
    }
    if (!attr_uint_or_zero(entry, "privlevel_floor", privlevel_floor, why, why_len)) {
        goto out;
    }
    *service_provider = path_exists(entry, "service_provider", NULL);
    ok = true;
out:
    if (made) {
        remove_entry(entry, tree);
    }
    free(report);
    free(entry);
    free(tmpl);
    return ok;
}

/* ---------- /dev/sev-guest ---------- */

/* The report inside a MSG_REPORT_RSP response buffer. */
static enum cvma_status snp_resp_report(const uint8_t *p, size_t len, struct cvma_buf *out,
                                        char *why, size_t why_len)
{
    struct cvma_reader r;
    uint32_t status = 0, size = 0;
    struct cvma_span rep;
    cvma_reader_init(&r, p, len);
    if (!cvma_reader_u32le(&r, &status) || !cvma_reader_u32le(&r, &size) ||
        !cvma_reader_skip(&r, SNP_RSP_HDR - 8) || status != 0 || size != SNP_REPORT_LEN ||
        !cvma_reader_span(&r, size, &rep)) {
        cvma_errf(why, why_len, "sev-guest: report response status %u size %u", status, size);
        return CVMA_REJECTED;
    }
    if ((out->p = malloc(rep.len)) == NULL) {
        return CVMA_E_NOMEM;
    }
    memcpy(out->p, rep.p, rep.len);
    out->len = rep.len;
    return CVMA_OK;
}

static enum cvma_status snp_ioctl(const char *path, const struct cvma_collect_opts *o,
                                  struct cvma_collected *c, char *why, size_t why_len)
{
    struct snp_report_req req;
    struct snp_ext_report_req ext;
    struct snp_report_resp resp;
    struct snp_guest_request_ioctl io;
    uint8_t *certs = NULL;
    const uint32_t certs_len = CVMA_SEV_GUEST_CERTS_MAX;
    enum cvma_status rs = CVMA_E_IO;
    int fd = open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        cvma_errf(why, why_len, "%s: %s", path, strerror(errno));
        return CVMA_E_IO;
    }
    memset(&req, 0, sizeof req);
    memcpy(req.user_data, o->nonce, sizeof req.user_data);
    /* One extended request with the largest buffer the driver passes (get_ext_report refuses
     * a larger or unaligned certs_len with EINVAL before the host is asked): growing it to
     * what a host asks for beyond that could never work. */
    if ((certs = calloc(1, certs_len)) == NULL) {
        cvma_errf(why, why_len, "%s: out of memory for a certificate buffer of %u bytes", path,
                  certs_len);
        rs = CVMA_E_NOMEM;
        goto out;
    }
    memset(&ext, 0, sizeof ext);
    memset(&resp, 0, sizeof resp);
    memset(&io, 0, sizeof io);
    ext.data = req;
    ext.certs_address = (uint64_t)(uintptr_t)certs;
    ext.certs_len = certs_len;
    io.msg_version = 1;
    io.req_data = (uint64_t)(uintptr_t)&ext;
    io.resp_data = (uint64_t)(uintptr_t)&resp;
    if (ioctl(fd, SNP_GET_EXT_REPORT, &io) == 0) {
        if ((rs = snp_resp_report(resp.data, sizeof resp.data, &c->evidence, why, why_len)) !=
            CVMA_OK) {
            goto out;
        }
        /* The host's certificates came with the report: not dropped for want of memory. */
        if ((c->aux.p = malloc(certs_len)) == NULL) {
            cvma_errf(why, why_len, "%s: out of memory for the host's certificate table (%u bytes)",
                      path, certs_len);
            rs = CVMA_E_NOMEM;
            goto out;
        }
        memcpy(c->aux.p, certs, certs_len);
        c->aux.len = certs_len;
        goto out;
    }
    int e = errno;
    if ((io.exitinfo2 >> SNP_GUEST_VMM_ERR_SHIFT) == SNP_GUEST_VMM_ERR_INVALID_LEN &&
        ext.certs_len > certs_len) {
        /* The host's table is larger than the driver passes: not read; the plain report,
         * said as such. */
        c->certs_over = ext.certs_len;
        c->certs_limit = certs_len;
    } else {
        (void)snprintf(c->ext_failed, sizeof c->ext_failed, "%s (exitinfo2 0x%llx)", strerror(e),
                       (unsigned long long)io.exitinfo2);
    }
    /* The host answers no extended requests, or its table is over the limit: the plain
     * report. */
    memset(&resp, 0, sizeof resp);
    memset(&io, 0, sizeof io);
    io.msg_version = 1;
    io.req_data = (uint64_t)(uintptr_t)&req;
    io.resp_data = (uint64_t)(uintptr_t)&resp;
    if (ioctl(fd, SNP_GET_REPORT, &io) != 0) {
        cvma_errf(why, why_len, "%s: SNP_GET_REPORT: %s (exitinfo2 0x%llx)", path, strerror(errno),
                  (unsigned long long)io.exitinfo2);
        rs = CVMA_E_IO;
        goto out;
    }
    rs = snp_resp_report(resp.data, sizeof resp.data, &c->evidence, why, why_len);
out:
    free(certs);
    close(fd);
    return rs;
}

/* The stand-in of a plain tree: DIR/sev-guest.ext-report (response) and DIR/sev-guest.certs. */
static enum cvma_status snp_standin(const char *dev, struct cvma_collected *c, char *why,
                                    size_t why_len)
{
    struct cvma_buf resp = {0};
    enum cvma_status rs;
    /* The stand-in's files are regular files, read without waiting (file_in). */
    errno = 0;
    if ((rs = file_in(dev, "sev-guest.ext-report", 4000, &resp)) != CVMA_OK) {
        cvma_errf(why, why_len,
                  "%s/sev-guest is a plain file but sev-guest.ext-report cannot be read "
                  "(missing, unreadable, or over 4000 bytes): %s",
                  dev, errno != 0 ? cvma_file_read_strerror(errno) : "too large");
        return rs == CVMA_E_NOMEM ? rs : CVMA_E_IO;
    }
    struct stat cs;
    if (path_exists(dev, "sev-guest.certs", &cs) && S_ISREG(cs.st_mode) &&
        cs.st_size > (off_t)CVMA_SEV_GUEST_CERTS_MAX) {
        /* as the driver: a table over what it passes is not read, the plain report */
        c->certs_over = cs.st_size > (off_t)UINT32_MAX ? UINT32_MAX : (uint32_t)cs.st_size;
        c->certs_limit = CVMA_SEV_GUEST_CERTS_MAX;
    } else if ((rs = attr_read_optional(dev, "sev-guest.certs", CVMA_SEV_GUEST_CERTS_MAX, &c->aux,
                                        why, why_len)) != CVMA_OK) {
        cvma_buf_free(&resp);
        return rs;
    } else if (c->aux.len == 0) {
        cvma_buf_free(&c->aux);
        /* as the extended request of a host without certificates: an empty table */
    }
    rs = snp_resp_report(resp.p, resp.len, &c->evidence, why, why_len);
    cvma_buf_free(&resp);
    return rs;
}

static enum cvma_status collect_dev_snp(const struct cvma_collect_opts *o, struct cvma_collected *c,
                                        char *why, size_t why_len)
{
    const char *dev = o->dev_root != NULL ? o->dev_root : CVMA_COLLECT_DEV_ROOT;
    struct stat st;
    char *path = cvma_path_join(dev, "sev-guest");
    enum cvma_status rs;
    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    if (stat(path, &st) != 0) {
        cvma_errf(why, why_len, "%s: absent", path);
        free(path);
        return CVMA_E_IO;
    }
    c->kind = "sev-snp";
    c->via = "/dev/sev-guest";
    rs = S_ISREG(st.st_mode) ? snp_standin(dev, c, why, why_len)
                             : snp_ioctl(path, o, c, why, why_len);
    free(path);
    return rs;
}

/* /dev/tdx_guest gives a TDREPORT only; a quote needs configfs-tsm (or a QGS). tsm_present:
 * configfs-tsm was there but gave no quote, rather than absent. */
static enum cvma_status collect_dev_tdx(const struct cvma_collect_opts *o, struct cvma_collected *c,
                                        bool tsm_present, char *why, size_t why_len)
{
    const char *dev = o->dev_root != NULL ? o->dev_root : CVMA_COLLECT_DEV_ROOT;
    struct stat st;
    char *path = cvma_path_join(dev, "tdx_guest");
    struct cvma_tdx_report_req req;
    int fd = -1;
    char no_read[96] = "";

    if (path == NULL) {
        return CVMA_E_NOMEM;
    }
    if (stat(path, &st) != 0) {
        cvma_errf(why, why_len, "%s: absent", path);
        free(path);
        return CVMA_E_IO;
    }
    memset(&req, 0, sizeof req);
    memcpy(req.reportdata, o->nonce, sizeof req.reportdata);
    if (S_ISCHR(st.st_mode) && (fd = open(path, O_RDWR | O_CLOEXEC)) >= 0 &&
        ioctl(fd, CVMA_TDX_CMD_GET_REPORT0, &req) == 0 &&
        (c->tdreport.p = malloc(sizeof req.tdreport)) != NULL) {
        memcpy(c->tdreport.p, req.tdreport, sizeof req.tdreport);
        c->tdreport.len = sizeof req.tdreport;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (S_ISREG(st.st_mode)) {
        /* The stand-in of a plain tree: DIR/tdx_guest.report0 holds the TDREPORT (a regular
         * file, read without waiting: file_in). */
        errno = 0;
        enum cvma_status rs = file_in(dev, "tdx_guest.report0", 1024, &c->tdreport);
        if (rs != CVMA_OK || c->tdreport.len != 1024) {
            (void)snprintf(no_read, sizeof no_read, " (tdx_guest.report0: %s)",
                           rs == CVMA_OK ? "not 1024 bytes"
                           : errno != 0  ? cvma_file_read_strerror(errno)
                                         : "too large");
            cvma_buf_free(&c->tdreport);
        }
    }
    /* REPORTDATA sits at 128 in the TDREPORT's REPORTMACSTRUCT. */
    uint8_t rd[64];
    struct cvma_reader r;
    cvma_reader_init(&r, c->tdreport.p, c->tdreport.len);
    bool carries = c->tdreport.len > 0 && cvma_reader_skip(&r, 128) &&
                   cvma_reader_bytes(&r, rd, sizeof rd) && memcmp(rd, o->nonce, 64) == 0;
    cvma_errf(why, why_len, "%s: %s%s; a TDX quote needs configfs-tsm (Linux 6.7 or later), %s",
              path,
              c->tdreport.len == 0 ? "present, no TDREPORT read"
              : carries            ? "TDREPORT over the nonce read (kept raw, not verifiable off "
                                     "the TD)"
                                   : "TDREPORT read but it does not carry the nonce (kept raw)",
              no_read,
              tsm_present ? "which is present but gave no quote (why: see configfs-tsm)"
                          : "which is absent");
    free(path);
    return CVMA_E_IO;
}

enum cvma_status cvma_collect(const struct cvma_collect_opts *o, struct cvma_collected *c,
                              char *err, size_t err_len)
{
    char w1[512] = "", w2[512] = "", w3[512] = "";
    enum cvma_status rs;

    memset(c, 0, sizeof *c);
    bool tsm_present = false, tsm_final = false;
    rs = collect_tsm(o, c, &tsm_present, &tsm_final, w1, sizeof w1);
    if (rs == CVMA_OK) {
        return check_nonce(o, c, err, err_len);
    }
    if (tsm_final) {
        /* configfs-tsm gave a report but not what came with it, or no level to ask at: the
         * error is the collection's (docs/collect.md), never /dev/sev-guest's report without
         * the host's certificates. An outblob read stays in c, to be kept raw. */
        cvma_errf(err, err_len, "configfs-tsm: %s (no other interface asked)", w1);
        return rs == CVMA_E_NOMEM ? rs : CVMA_E_IO;
    }
    if (rs == CVMA_E_NOMEM || o->svsm_vtpm) {
        /* The SVSM service report exists through configfs-tsm only. */
        cvma_errf(err, err_len, "%s", w1);
        return rs == CVMA_REJECTED ? CVMA_E_IO : rs;
    }
    cvma_collected_free(c);
    rs = collect_dev_snp(o, c, w2, sizeof w2);
    if (rs == CVMA_OK) {
        return check_nonce(o, c, err, err_len);
    }
    if (rs != CVMA_E_IO) {
        cvma_errf(err, err_len, "%s", w2);
        return rs;
    }
    cvma_collected_free(c);
    rs = collect_dev_tdx(o, c, tsm_present, w3, sizeof w3);
    cvma_errf(err, err_len,
              "no evidence collected; looked for configfs-tsm (%s), "
              "SEV-SNP (%s), TDX (%s)",
              w1, w2, w3);
    return rs == CVMA_OK ? CVMA_E_IO : rs;
}

/* ---------- output ---------- */

/* Removes dir/name left by an earlier collection (absent is fine): the raw directory holds
 * what this collection returned, nothing of another's beside it. */
static enum cvma_status remove_stale(const char *dir, const char *name)
{
    char *p = cvma_path_join(dir, name);
    if (p == NULL) {
        return CVMA_E_NOMEM;
    }
    enum cvma_status st = unlink(p) == 0 || errno == ENOENT ? CVMA_OK : CVMA_E_IO;
    free(p);
    return st;
}

/* Removes every cert-*.bin of dir (an earlier collection's certificate table). */
static enum cvma_status remove_stale_certs(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    enum cvma_status st = CVMA_OK;
    if (d == NULL) {
        return CVMA_E_IO;
    }
    while (st == CVMA_OK && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 8 && strncmp(e->d_name, "cert-", 5) == 0 &&
            strcmp(e->d_name + n - 4, ".bin") == 0) {
            st = remove_stale(dir, e->d_name);
        }
    }
    closedir(d);
    return st;
}

enum cvma_status cvma_collected_write_raw(const struct cvma_collected *c, const char *dir)
{
    enum cvma_status st = cvma_mkdir_p(dir, 0755);
    if (st == CVMA_OK) {
        st = remove_stale_certs(dir);
    }
    const struct {
        const char *name;
        const struct cvma_buf *b;
    } files[] = {{"outblob", &c->evidence},
                 {"auxblob", &c->aux},
                 {"manifestblob", &c->manifest},
                 {"tdreport", &c->tdreport}};
    for (size_t i = 0; st == CVMA_OK && i < CVMA_ARRAY_LEN(files); i++) {
        if (files[i].b->len > 0) {
            char *p = cvma_path_join(dir, files[i].name);
            st = p != NULL ? cvma_file_write_atomic(p, files[i].b->p, files[i].b->len)
                           : CVMA_E_NOMEM;
            free(p);
        } else {
            st = remove_stale(dir, files[i].name);
        }
    }
    for (size_t i = 0; st == CVMA_OK && i < c->certs.n; i++) {
        if (c->certs.e[i].data.p == NULL) {
            continue; /* (a parsed table's entries always have data: never an empty file) */
        }
        char name[64];
        (void)snprintf(name, sizeof name, "cert-%s.bin", c->certs.e[i].guid_str);
        char *p = cvma_path_join(dir, name);
        st = p != NULL ? cvma_file_write_atomic(p, c->certs.e[i].data.p, c->certs.e[i].data.len)
                       : CVMA_E_NOMEM;
        free(p);
    }
    return st;
}

enum cvma_status cvma_tpm_collected_write_raw(const struct cvma_tpm_collected *t, const char *dir)
{
    enum cvma_status st = cvma_mkdir_p(dir, 0755);
    const struct {
        const char *name;
        const struct cvma_buf *b;
    } files[] = {{"tpm_quote.bin", &t->quote},
                 {"tpm_signature.bin", &t->signature},
                 {"tpm_ak.bin", &t->ak},
                 {"tpm_pcrs.json", &t->pcrs},
                 {"hcl_report.bin", &t->hcl_report}};
    for (size_t i = 0; st == CVMA_OK && i < CVMA_ARRAY_LEN(files); i++) {
        if (files[i].b->len > 0) {
            char *p = cvma_path_join(dir, files[i].name);
            st = p != NULL ? cvma_file_write_atomic(p, files[i].b->p, files[i].b->len)
                           : CVMA_E_NOMEM;
            free(p);
        } else {
            st = remove_stale(dir, files[i].name);
        }
    }
    return st;
}
