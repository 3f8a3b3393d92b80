/*
 * src/collect: the SNP certificate table parser (host-supplied, untrusted) and the
 * configfs-tsm flow on a plain tree: generation checked around outblob (a change makes
 * collect read again), privlevel written under an SVSM; guest-check's "can collect work here"
 * (a TDX guest needs configfs-tsm that gives an entry, not one that is merely there) and
 * collect naming such a configfs-tsm present, not absent; an auxblob or manifestblob there
 * but unreadable is an error with no fallback to the /dev/sev-guest stand-in. End-to-end
 * runs through the simulator's trees are in tests/e2e/collect.sh.
 */
#include <dirent.h>

#include "collect/collect.h"
#include "testutil.h"

static const uint8_t G_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t G_VLEK[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                   0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
static const uint8_t G_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                  0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};

static void put_entry(uint8_t *t, size_t i, const uint8_t g[16], uint32_t off, uint32_t len)
{
    memcpy(t + 24 * i, g, 16);
    for (int k = 0; k < 4; k++) {
        t[24 * i + 16 + k] = (uint8_t)(off >> (8 * k));
        t[24 * i + 20 + k] = (uint8_t)(len >> (8 * k));
    }
}

static void test_certtable_known_and_unknown(void **state)
{
    (void)state;
    uint8_t t[4 * 24 + 12] = {0};
    const uint8_t unknown[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    struct cvma_snp_certtable ct;
    char err[256];

    put_entry(t, 0, G_VCEK, 96, 4);
    put_entry(t, 1, G_ASK, 100, 4);
    put_entry(t, 2, unknown, 104, 4);
    memcpy(t + 96, "VCEKASK!UNKN", 12);
    assert_true(cvma_snp_certtable_parse(t, sizeof t, &ct, err, sizeof err));
    assert_int_equal(ct.n, 3);
    assert_string_equal(ct.e[0].bundle_name, "vcek.der");
    assert_false(ct.e[0].pem);
    assert_memory_equal(ct.e[0].data.p, "VCEK", 4);
    assert_string_equal(ct.e[1].bundle_name, "ask.pem");
    assert_true(ct.e[1].pem);
    assert_null(ct.e[2].bundle_name); /* kept, not bundled */
    assert_string_equal(ct.e[2].guid_str, "00010203-0405-0607-0809-0a0b0c0d0e0f");
    assert_memory_equal(ct.e[2].data.p, "UNKN", 4);
}

static void test_certtable_vlek_names_asvk(void **state)
{
    (void)state;
    uint8_t t[3 * 24 + 8] = {0};
    struct cvma_snp_certtable ct;
    char err[256];
    put_entry(t, 0, G_ASK, 72, 4);
    put_entry(t, 1, G_VLEK, 76, 4);
    assert_true(cvma_snp_certtable_parse(t, sizeof t, &ct, err, sizeof err));
    assert_string_equal(ct.e[0].bundle_name, "asvk.pem");
    assert_string_equal(ct.e[1].bundle_name, "vlek.der");
}

static void test_certtable_refusals(void **state)
{
    (void)state;
    uint8_t t[2 * 24 + 8] = {0};
    struct cvma_snp_certtable ct;
    char err[256];

    /* blob past the end */
    put_entry(t, 0, G_VCEK, 48, 9);
    assert_false(cvma_snp_certtable_parse(t, sizeof t, &ct, err, sizeof err));
    assert_non_null(strstr(err, "outside the table"));
    assert_int_equal(ct.n, 0);
    /* blob inside the header */
    put_entry(t, 0, G_VCEK, 8, 4);
    assert_false(cvma_snp_certtable_parse(t, sizeof t, &ct, err, sizeof err));
    assert_non_null(strstr(err, "outside the table"));
    assert_int_equal(ct.n, 0);
    /* offset overflow */
    put_entry(t, 0, G_VCEK, 0xffffffffu, 0xffffffffu);
    assert_false(cvma_snp_certtable_parse(t, sizeof t, &ct, err, sizeof err));
    assert_int_equal(ct.n, 0);
    /* no terminator */
    put_entry(t, 0, G_VCEK, 48, 4);
    assert_false(cvma_snp_certtable_parse(t, 24, &ct, err, sizeof err));
    assert_non_null(strstr(err, "terminator"));
    assert_int_equal(ct.n, 0);
    /* the same GUID twice */
    uint8_t d[3 * 24 + 8] = {0};
    put_entry(d, 0, G_VCEK, 72, 4);
    put_entry(d, 1, G_VCEK, 76, 4);
    assert_false(cvma_snp_certtable_parse(d, sizeof d, &ct, err, sizeof err));
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(ct.n, 0);
    /* more than 16 entries (distinct GUIDs, each blob inside the table) */
    uint8_t m[18 * 24 + 17] = {0};
    for (uint8_t i = 0; i < 17; i++) {
        uint8_t g[16] = {0};
        g[0] = (uint8_t)(i + 1);
        put_entry(m, i, g, 18 * 24 + i, 1);
    }
    assert_false(cvma_snp_certtable_parse(m, sizeof m, &ct, err, sizeof err));
    assert_non_null(strstr(err, "more than 16 entries"));
    assert_int_equal(ct.n, 0);
    /* empty table: just the terminator */
    uint8_t z[24] = {0};
    assert_true(cvma_snp_certtable_parse(z, sizeof z, &ct, err, sizeof err));
    assert_int_equal(ct.n, 0);
}

/*
 * The terminator is the all-zero entry (GHCB spec 56421 4.1.8.1), not any entry with a zero
 * GUID: one with a zero GUID but an offset and length is an entry of an unknown GUID, and the
 * entries after it are read. An entry whose blob has length zero is refused as outside the
 * table (it has no blob).
 */
static void test_certtable_zero_guid_entry_and_empty_blob(void **state)
{
    (void)state;
    static const uint8_t zero[16] = {0};
    uint8_t t[3 * 24 + 8] = {0};
    struct cvma_snp_certtable ct;
    char err[256];

    put_entry(t, 0, zero, 72, 4);
    put_entry(t, 1, G_VCEK, 76, 4);
    memcpy(t + 72, "ZEROVCEK", 8);
    assert_true(cvma_snp_certtable_parse(t, sizeof t, &ct, err, sizeof err));
    assert_int_equal(ct.n, 2);
    assert_null(ct.e[0].bundle_name);
    assert_string_equal(ct.e[1].bundle_name, "vcek.der");
    assert_memory_equal(ct.e[1].data.p, "VCEK", 4);

    uint8_t e[2 * 24 + 4] = {0};
    put_entry(e, 0, G_VCEK, 48, 0);
    assert_false(cvma_snp_certtable_parse(e, sizeof e, &ct, err, sizeof err));
    assert_non_null(strstr(err, "offset 48 length 0 outside the table"));
    assert_int_equal(ct.n, 0);
}

/* ---- configfs-tsm on a plain tree ---- */

static void put_file(const char *dir, const char *name, const void *p, size_t n)
{
    char *path = cvma_path_join(dir, name);
    assert_non_null(path);
    assert_int_equal(cvma_file_write_atomic(path, p, n), CVMA_OK);
    free(path);
}

/* A tree whose template holds an SNP-sized report carrying nonce. */
static char *make_tree(const uint8_t nonce[64], const char *floor)
{
    char *root = tu_tmpdir();
    char *t = cvma_path_join(root, "report/.template");
    uint8_t rep[0x4A0] = {0};
    memcpy(rep + 0x50, nonce, 64);
    assert_int_equal(cvma_mkdir_p(t, 0755), CVMA_OK);
    put_file(t, "provider", "sev_guest\n", 10);
    put_file(t, "generation", "5\n", 2);
    put_file(t, "inblob", "", 0);
    put_file(t, "privlevel_floor", floor, strlen(floor));
    put_file(t, "privlevel", "0\n", 2);
    put_file(t, "outblob", rep, sizeof rep);
    free(t);
    return root;
}

struct hook_state {
    unsigned calls;
    unsigned bump_until; /* bump generation on attempts 1..bump_until */
    char privlevel[8];
    /* another writer right after collect's write of write_attr, on attempt 1: it writes
     * write_value there (NULL: leaves it) and generation moves by one */
    const char *write_attr;
    const char *write_value;
    unsigned writes; /* the attributes collect wrote */
};

/* Another writer's one write: generation moves by one. */
static void bump_generation(const char *entry);

static void on_write(const char *entry, const char *attr, unsigned attempt, void *arg)
{
    struct hook_state *h = arg;
    h->writes++;
    if (attempt == 1 && h->write_attr != NULL && strcmp(attr, h->write_attr) == 0) {
        if (h->write_value != NULL) {
            put_file(entry, attr, h->write_value, strlen(h->write_value));
        }
        bump_generation(entry);
    }
}

static void bump_generation(const char *entry)
{
    char *p = cvma_path_join(entry, "generation");
    struct cvma_buf b = {0};
    char g[24];
    assert_non_null(p);
    assert_int_equal(cvma_file_read(p, 16, &b), CVMA_OK);
    assert_true(b.len > 0 && b.len < sizeof g);
    memcpy(g, b.p, b.len);
    g[b.len] = '\0';
    int n = snprintf(g, sizeof g, "%lu\n", strtoul(g, NULL, 10) + 1);
    put_file(entry, "generation", g, (size_t)n);
    cvma_buf_free(&b);
    free(p);
}

/* Another writer: generation moves while outblob is read. */
static void bump(const char *entry, unsigned attempt, void *arg)
{
    struct hook_state *h = arg;
    char *p = cvma_path_join(entry, "privlevel");
    struct cvma_buf b = {0};
    h->calls++;
    if (p != NULL && cvma_file_read(p, 8, &b) == CVMA_OK && b.len < sizeof h->privlevel) {
        memcpy(h->privlevel, b.p, b.len);
        h->privlevel[b.len] = '\0';
    }
    cvma_buf_free(&b);
    free(p);
    if (attempt <= h->bump_until) {
        bump_generation(entry);
    }
}

static void run_tsm_w(unsigned bump_until, const char *floor, enum cvma_status want,
                      unsigned want_attempts, struct hook_state *h, const char *write_attr,
                      const char *write_value)
{
    struct cvma_collect_opts o;
    struct cvma_collected c;
    char err[1024] = "";
    memset(&o, 0, sizeof o);
    memset(h, 0, sizeof *h);
    o.nonce[0] = 0xab;
    o.nonce[63] = 0xcd;
    o.nonce_len = 64;
    char *root = make_tree(o.nonce, floor);
    char *none = cvma_path_join(root, "nodev");
    o.tsm_root = root;
    o.dev_root = none;
    o.after_outblob = bump;
    o.after_write = on_write;
    o.hook_arg = h;
    h->bump_until = bump_until;
    h->write_attr = write_attr;
    h->write_value = write_value;
    enum cvma_status st = cvma_collect(&o, &c, err, sizeof err);
    if (st != want) {
        fprintf(stderr, "collect: %d (%s)\n", st, err);
    }
    assert_int_equal(st, want);
    if (want == CVMA_OK) {
        assert_string_equal(c.kind, "sev-snp");
        assert_string_equal(c.via, "configfs-tsm");
        assert_int_equal(c.attempts, want_attempts);
        assert_int_equal(c.evidence.len, 0x4A0);
    } else {
        assert_non_null(strstr(err, "generation changed"));
    }
    assert_int_equal(h->calls, want_attempts);
    /* the entry is gone: only the template is left */
    char *rep = cvma_path_join(root, "report");
    DIR *d = opendir(rep);
    struct dirent *de;
    size_t n = 0;
    while ((de = readdir(d)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(d);
    assert_int_equal(n, 0);
    free(rep);
    cvma_collected_free(&c);
    assert_true(tu_rmtree(root));
    free(root);
    free(none);
}

static void run_tsm(unsigned bump_until, const char *floor, enum cvma_status want,
                    unsigned want_attempts, struct hook_state *h)
{
    run_tsm_w(bump_until, floor, want, want_attempts, h, NULL, NULL);
}

static void test_tsm_generation_stable(void **state)
{
    (void)state;
    struct hook_state h;
    run_tsm(0, "0\n", CVMA_OK, 1, &h);
    assert_string_equal(h.privlevel, "0\n"); /* not under an SVSM: left alone */
}

static void test_tsm_generation_changed_once(void **state)
{
    (void)state;
    struct hook_state h;
    run_tsm(1, "0\n", CVMA_OK, 2, &h);
}

static void test_tsm_generation_always_changes(void **state)
{
    (void)state;
    struct hook_state h;
    run_tsm(CVMA_COLLECT_GEN_RETRIES, "0\n", CVMA_E_IO, CVMA_COLLECT_GEN_RETRIES, &h);
}

static void test_tsm_svsm_privlevel(void **state)
{
    (void)state;
    struct hook_state h;
    run_tsm(0, "2\n", CVMA_OK, 1, &h);
    assert_string_equal(h.privlevel, "2\n");
}

/* The kernel's rule: generation is read before any write and must have moved by exactly the
 * writes made. Another writer between collect's inblob write and its outblob read (its own
 * nonce, say) is seen, and the exchange repeated. */
static void test_tsm_writer_after_inblob(void **state)
{
    (void)state;
    struct hook_state h;
    run_tsm_w(0, "0\n", CVMA_OK, 2, &h, "inblob", NULL);
    assert_int_equal(h.writes, 2); /* inblob on each attempt */
}

/* Under an SVSM: privlevel and inblob are both counted (a stable entry: one read), and
 * another writer's privlevel is seen and written over on the next attempt, never kept. */
static void test_tsm_writer_changes_privlevel(void **state)
{
    (void)state;
    struct hook_state h;
    run_tsm(0, "2\n", CVMA_OK, 1, &h);
    assert_int_equal(h.writes, 2);
    run_tsm_w(0, "2\n", CVMA_OK, 2, &h, "privlevel", "0\n");
    assert_string_equal(h.privlevel, "2\n");
    assert_int_equal(h.writes, 4);
}

/* An auxblob that is there but cannot be read (over the table limit) is an error naming it,
 * never a report silently without its certificates. */
static void test_tsm_auxblob_unreadable(void **state)
{
    (void)state;
    struct cvma_collect_opts o;
    struct cvma_collected c;
    char err[1024] = "";
    memset(&o, 0, sizeof o);
    o.nonce_len = 64;
    char *root = make_tree(o.nonce, "0\n");
    char *t = cvma_path_join(root, "report/.template"), *none = cvma_path_join(root, "nodev");
    size_t big = CVMA_SNP_CERTTABLE_MAX + 1;
    uint8_t *aux = calloc(1, big);
    assert_non_null(aux);
    put_file(t, "auxblob", aux, big);
    o.tsm_root = root;
    o.dev_root = none;
    assert_int_equal(cvma_collect(&o, &c, err, sizeof err), CVMA_E_IO);
    assert_non_null(strstr(err, "/auxblob: cannot read"));
    cvma_collected_free(&c);
    /* empty: no certificates from the host, fine */
    put_file(t, "auxblob", aux, 0);
    assert_int_equal(cvma_collect(&o, &c, err, sizeof err), CVMA_OK);
    assert_int_equal(c.aux.len, 0);
    cvma_collected_free(&c);
    free(aux);
    assert_true(tu_rmtree(root));
    free(root);
    free(t);
    free(none);
}

/* A /dev/sev-guest stand-in under root/dev whose report carries nonce; returns root/dev. */
static char *make_dev_standin(const char *root, const uint8_t nonce[64])
{
    char *dev = cvma_path_join(root, "dev");
    uint8_t resp[4000] = {0};
    assert_non_null(dev);
    assert_int_equal(cvma_mkdir_p(dev, 0755), CVMA_OK);
    resp[4] = 0xA0; /* MSG_REPORT_RSP: status 0, report size 0x4A0, the report at 0x20 */
    resp[5] = 0x04;
    memcpy(resp + 0x20 + 0x50, nonce, 64);
    put_file(dev, "sev-guest", "", 0);
    put_file(dev, "sev-guest.ext-report", resp, sizeof resp);
    return dev;
}

/* Another writer's manifestblob, too large to read, put into the entry with the nonce. */
static void put_big_manifest(const char *entry, const char *attr, unsigned attempt, void *arg)
{
    (void)attempt;
    (void)arg;
    if (strcmp(attr, "inblob") == 0) {
        size_t big = CVMA_COLLECT_MAX_BLOB + 1;
        uint8_t *m = calloc(1, big);
        assert_non_null(m);
        put_file(entry, "manifestblob", m, big);
        free(m);
    }
}

/* configfs-tsm gave a report but its auxblob or manifestblob, there, cannot be read: the
 * error (naming the blob) is the collection's, even with /dev/sev-guest there, whose report
 * would come without the host's certificates. Failures the fallback is for still fall back. */
static void test_tsm_unreadable_blob_does_not_fall_back(void **state)
{
    (void)state;
    struct cvma_collect_opts o;
    struct cvma_collected c;
    char err[1024] = "";
    memset(&o, 0, sizeof o);
    o.nonce[0] = 0x42;
    o.nonce_len = 64;
    char *root = make_tree(o.nonce, "0\n");
    char *t = cvma_path_join(root, "report/.template");
    char *dev = make_dev_standin(root, o.nonce);
    o.tsm_root = root;
    o.dev_root = dev;
    /* the stand-in alone works */
    put_file(t, "provider", "acme_guest\n", 11);
    assert_int_equal(cvma_collect(&o, &c, err, sizeof err), CVMA_OK);
    assert_string_equal(c.via, "/dev/sev-guest"); /* an unknown provider: the next interface */
    cvma_collected_free(&c);
    put_file(t, "provider", "sev_guest\n", 10);

    size_t big = CVMA_SNP_CERTTABLE_MAX + 1;
    uint8_t *aux = calloc(1, big);
    assert_non_null(aux);
    put_file(t, "auxblob", aux, big);
    assert_int_equal(cvma_collect(&o, &c, err, sizeof err), CVMA_E_IO);
    assert_non_null(strstr(err, "configfs-tsm: "));
    assert_non_null(strstr(err, "/auxblob: cannot read (unreadable, or over 65536 bytes)"));
    assert_null(strstr(err, "sev-guest"));
    assert_int_equal(c.evidence.len, 0x4A0); /* the outblob read, kept for the raw directory */
    assert_int_equal(c.aux.len, 0);
    cvma_collected_free(&c);
    put_file(t, "auxblob", aux, 0);
    free(aux);

    o.after_write = put_big_manifest;
    assert_int_equal(cvma_collect(&o, &c, err, sizeof err), CVMA_E_IO);
    assert_non_null(strstr(err, "/manifestblob: cannot read (unreadable, or over 1048576 bytes)"));
    assert_null(strstr(err, "sev-guest"));
    cvma_collected_free(&c);

    assert_true(tu_rmtree(root));
    free(root);
    free(t);
    free(dev);
}

/* guest-check's probe entry: one a killed run (of the same pid: a container) left behind does
 * not make a working configfs-tsm look absent. */
static void test_tsm_probe_leftover_entry(void **state)
{
    (void)state;
    uint8_t nonce[64] = {0};
    char *root = make_tree(nonce, "0\n");
    char left[64], prov[32];
    snprintf(left, sizeof left, "report/cvmattest-probe-%ld", (long)getpid());
    char *p = cvma_path_join(root, left);
    assert_int_equal(cvma_mkdir_p(p, 0755), CVMA_OK);
    unsigned long floor;
    bool svc;
    char why[256];
    assert_true(cvma_tsm_probe(root, true, prov, sizeof prov, &floor, &svc, why, sizeof why));
    assert_string_equal(prov, "sev_guest");
    assert_true(tu_rmtree(root));
    free(root);
    free(p);
}

/* ---- guest-check: can collect work here? ---- */

/* A TDX guest whose configfs-tsm report/ is there but gives no entry (not root, no TSM
 * provider: in a tree, no .template): cvma_guest_probe sees it, yet collect cannot work, and
 * collect says configfs-tsm is present but gave no quote, not that it is absent. */
static void test_guest_tdx_tsm_that_fails_is_not_usable(void **state)
{
    (void)state;
    char *root = tu_tmpdir();
    char *tsm = cvma_path_join(root, "tsm"), *dev = cvma_path_join(root, "dev");
    char *report = cvma_path_join(tsm, "report"), *none = cvma_path_join(root, "none");
    char *cpuinfo = cvma_path_join(root, "cpuinfo");
    assert_int_equal(cvma_mkdir_p(report, 0755), CVMA_OK);
    assert_int_equal(cvma_mkdir_p(dev, 0755), CVMA_OK);
    put_file(dev, "tdx_guest", "", 0);
    put_file(root, "cpuinfo", "processor\t: 0\nflags\t\t: fpu\n", 27);

    struct cvma_guest_info g;
    cvma_guest_probe(tsm, dev, cpuinfo, &g);
    assert_string_equal(g.tee, "tdx");
    assert_true(g.tsm);
    assert_false(g.tsm_probed);
    assert_false(cvma_guest_collect_possible(&g));

    struct cvma_collect_opts o;
    struct cvma_collected c;
    char err[1024] = "";
    memset(&o, 0, sizeof o);
    o.nonce_len = 64;
    o.tsm_root = tsm;
    o.dev_root = dev;
    assert_int_equal(cvma_collect(&o, &c, err, sizeof err), CVMA_E_IO);
    assert_non_null(strstr(err, "a plain tree without a usable report/.template"));
    assert_non_null(strstr(err, "a TDX quote needs configfs-tsm (Linux 6.7 or later), which is "
                                "present but gave no quote"));
    assert_null(strstr(err, "which is absent"));
    cvma_collected_free(&c);

    /* no configfs-tsm at all: absent, as before */
    o.tsm_root = none;
    assert_int_equal(cvma_collect(&o, &c, err, sizeof err), CVMA_E_IO);
    assert_non_null(strstr(err, "a TDX quote needs configfs-tsm (Linux 6.7 or later), which is "
                                "absent"));
    cvma_collected_free(&c);

    assert_true(tu_rmtree(root));
    free(root);
    free(tsm);
    free(dev);
    free(report);
    free(none);
    free(cpuinfo);
}

/* TDX needs configfs-tsm probed with the tdx_guest provider; SEV-SNP configfs-tsm probed with
 * sev_guest or /dev/sev-guest. Present alone is not enough. */
static void test_guest_collect_possible_by_tee(void **state)
{
    (void)state;
    struct cvma_guest_info g;

    memset(&g, 0, sizeof g);
    assert_false(cvma_guest_collect_possible(&g)); /* no TEE */
    g.tee = "tdx";
    g.tdx_guest = true;
    assert_false(cvma_guest_collect_possible(&g)); /* /dev/tdx_guest alone: no quote */
    g.tsm = true;
    assert_false(cvma_guest_collect_possible(&g)); /* report/ there, no entry made */
    g.tsm_probed = true;
    snprintf(g.tsm_provider, sizeof g.tsm_provider, "acme_guest");
    assert_false(cvma_guest_collect_possible(&g)); /* a provider collect refuses */
    snprintf(g.tsm_provider, sizeof g.tsm_provider, "tdx_guest");
    assert_true(cvma_guest_collect_possible(&g));

    memset(&g, 0, sizeof g);
    g.tee = "sev-snp";
    g.tsm = true;
    g.sev_guest = true;
    assert_true(cvma_guest_collect_possible(&g)); /* /dev/sev-guest, configfs-tsm failing */
    g.sev_guest = false;
    g.tsm_probed = true;
    snprintf(g.tsm_provider, sizeof g.tsm_provider, "sev_guest");
    assert_true(cvma_guest_collect_possible(&g)); /* configfs-tsm alone */
    g.tsm_probed = false;
    assert_false(cvma_guest_collect_possible(&g));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_certtable_known_and_unknown),
            cmocka_unit_test(test_certtable_vlek_names_asvk),
            cmocka_unit_test(test_certtable_refusals),
            cmocka_unit_test(test_certtable_zero_guid_entry_and_empty_blob),
            cmocka_unit_test(test_tsm_generation_stable),
            cmocka_unit_test(test_tsm_generation_changed_once),
            cmocka_unit_test(test_tsm_generation_always_changes),
            cmocka_unit_test(test_tsm_svsm_privlevel),
            cmocka_unit_test(test_tsm_writer_after_inblob),
            cmocka_unit_test(test_tsm_writer_changes_privlevel),
            cmocka_unit_test(test_tsm_auxblob_unreadable),
            cmocka_unit_test(test_tsm_unreadable_blob_does_not_fall_back),
            cmocka_unit_test(test_tsm_probe_leftover_entry),
            cmocka_unit_test(test_guest_tdx_tsm_that_fails_is_not_usable),
            cmocka_unit_test(test_guest_collect_possible_by_tee),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
