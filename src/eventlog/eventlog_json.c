/*
 * Event logs as JSON (eventlog/eventlog.h): the replay, the events, and the claims of the
 * events that matter for appraisal. Event data is untrusted: every structure inside it is
 * read through the reader, and text taken from it is reduced to printable ASCII and control
 * characters (which whoever shows it escapes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/hex.h"
#include "common/reader.h"
#include "common/util.h"
#include "eventlog/eventlog.h"

static void bank_label(const struct cvma_eventlog_bank *b, char *out, size_t n)
{
    if (b->name != NULL) {
        snprintf(out, n, "%s", b->name);
    } else {
        snprintf(out, n, "alg_0x%04x", b->alg);
    }
}

static json_t *hex_json(const uint8_t *p, size_t len)
{
    char *h = cvma_hex_dup(p, len);
    json_t *s = h != NULL ? json_string(h) : NULL;
    free(h);
    return s;
}

static bool printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t';
}

/* The span without its trailing NULs. */
static struct cvma_span without_trailing_nuls(struct cvma_span d)
{
    struct cvma_reader r;
    uint8_t c;
    size_t len = 0;
    cvma_reader_init(&r, d.p, d.len);
    while (cvma_reader_u8(&r, &c)) {
        if (c != 0) {
            len = r.off;
        }
    }
    d.len = len;
    return d;
}

/* Printable ASCII of the span; other bytes as '?'; trailing NULs dropped. */
static json_t *ascii_json(struct cvma_span d)
{
    struct cvma_reader r;
    uint8_t c;
    size_t i = 0;
    d = without_trailing_nuls(d);
    char *s = malloc(d.len + 1);
    if (s == NULL) {
        return NULL;
    }
    cvma_reader_init(&r, d.p, d.len);
    while (cvma_reader_u8(&r, &c)) {
        s[i++] = printable(c) ? (char)c : '?';
    }
    s[i] = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* True when data is printable ASCII, perhaps NUL-terminated. */
static bool is_text(struct cvma_span d)
{
    struct cvma_reader r;
    uint8_t c;
    size_t n = 0;
    cvma_reader_init(&r, d.p, d.len);
    while (cvma_reader_u8(&r, &c)) {
        if (printable(c)) {
            n++;
        } else if (c != 0 || !cvma_reader_at_end(&r)) {
            return false; /* only the last byte may be the NUL */
        }
    }
    return n > 0;
}

/* UCS-2 (little-endian) characters of a span as text, appended to out at *used; stops at NUL
 * or when out is full. Printable ASCII is kept, and so is a control character (U+0001..U+001F,
 * U+007F..U+009F, as UTF-8): whoever shows the text escapes it as any event text (\xNN in
 * text, \u00XX in JSON), where a '?' would pass for another name. Any other character is '?'. */
static void ucs2_text(struct cvma_span s, char *out, size_t out_len, size_t *used)
{
    struct cvma_reader r;
    uint16_t c;
    cvma_reader_init(&r, s.p, s.len);
    while (cvma_reader_u16le(&r, &c) && c != 0) {
        char u[4] = {'?'};
        size_t n = 1;
        if (c < 0x80) {
            u[0] = (char)c;
        } else if (c < 0xa0) {
            n = cvma_utf8_encode(u, c);
        }
        if (out_len - *used <= n) {
            break; /* (room for the NUL kept) */
        }
        memcpy(out + *used, u, n);
        *used += n;
    }
    out[*used] = '\0';
}

/* EFI_GUID as text: the first three fields little-endian (UEFI 2.10, Appendix A). */
static bool read_guid(struct cvma_reader *r, char out[37])
{
    uint32_t a;
    uint16_t b, c;
    uint8_t d[8];
    if (!cvma_reader_u32le(r, &a) || !cvma_reader_u16le(r, &b) || !cvma_reader_u16le(r, &c) ||
        !cvma_reader_bytes(r, d, sizeof d)) {
        return false;
    }
    snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", a, b, c, d[0], d[1], d[2],
             d[3], d[4], d[5], d[6], d[7]);
    return true;
}

/* UEFI_VARIABLE_DATA (PFP 10.4.6): name GUID, name length (chars), data length, name, data. */
struct efi_var {
    char guid[37];
    char name[128];
    struct cvma_span data;
};

static bool parse_variable(struct cvma_span d, struct efi_var *var)
{
    struct cvma_reader r;
    uint64_t name_len, data_len;
    struct cvma_span name;
    size_t used = 0;
    cvma_reader_init(&r, d.p, d.len);
    memset(var, 0, sizeof *var);
    if (!read_guid(&r, var->guid) || !cvma_reader_u64le(&r, &name_len) ||
        !cvma_reader_u64le(&r, &data_len) || name_len > cvma_reader_left(&r) / 2 ||
        !cvma_reader_span(&r, (size_t)name_len * 2, &name) || data_len > cvma_reader_left(&r) ||
        !cvma_reader_span(&r, (size_t)data_len, &var->data)) {
        return false;
    }
    ucs2_text(name, var->name, sizeof var->name, &used);
    return true;
}

/* UEFI_IMAGE_LOAD_EVENT (PFP 10.4.3): the file path nodes of its device path, joined. */
static bool parse_image_load(struct cvma_span d, uint64_t *image_len, char *path, size_t path_len)
{
    struct cvma_reader r, dp;
    uint64_t addr, link, dp_len;
    size_t used = 0;
    cvma_reader_init(&r, d.p, d.len);
    path[0] = '\0';
    if (!cvma_reader_u64le(&r, &addr) || !cvma_reader_u64le(&r, image_len) ||
        !cvma_reader_u64le(&r, &link) || !cvma_reader_u64le(&r, &dp_len) ||
        dp_len > cvma_reader_left(&r) || !cvma_reader_sub(&r, (size_t)dp_len, &dp)) {
        return false;
    }
    (void)addr;
    (void)link;
    /* EFI_DEVICE_PATH_PROTOCOL nodes (UEFI 2.10, 10.3): type, subtype, length (>= 4). */
    while (!cvma_reader_at_end(&dp)) {
        uint8_t type, sub;
        uint16_t nlen;
        struct cvma_span body;
        if (!cvma_reader_u8(&dp, &type) || !cvma_reader_u8(&dp, &sub) ||
            !cvma_reader_u16le(&dp, &nlen) || nlen < 4 ||
            !cvma_reader_span(&dp, nlen - 4u, &body)) {
            break;
        }
        if (type == 0x7F) {
            break; /* end of the device path */
        }
        if (type == 0x04 && sub == 0x04) { /* media: file path */
            if (used > 0 && used + 1 < path_len && path[used - 1] != '\\') {
                path[used++] = '\\';
                path[used] = '\0';
            }
            ucs2_text(body, path, path_len, &used);
        }
    }
    return true;
}

static json_t *digests_json(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e)
{
    json_t *o = json_object();
    char label[16];
    for (size_t b = 0; o != NULL && b < log->n_banks; b++) {
        if (e->digest[b] != NULL) {
            bank_label(&log->banks[b], label, sizeof label);
            json_object_set_new(o, label, hex_json(e->digest[b], log->banks[b].size));
        }
    }
    return o;
}

/* see eventlog/eventlog.h */
json_t *cvma_eventlog_replay_json(const struct cvma_eventlog *log,
                                  const struct cvma_eventlog_replay *rp)
{
    json_t *o = json_object(), *banks = json_object();
    char label[16], idx[12];
    bool ccel = log->format == CVMA_EVENTLOG_CCEL;
    if (o == NULL || banks == NULL) {
        json_decref(o);
        json_decref(banks);
        return NULL;
    }
    for (size_t b = 0; b < log->n_banks; b++) {
        if (!rp->valid[b]) {
            continue;
        }
        json_t *regs = json_object();
        unsigned n = ccel ? CVMA_EVENTLOG_NRTMR : CVMA_EVENTLOG_NPCR;
        for (unsigned i = 0; regs != NULL && i < n; i++) {
            snprintf(idx, sizeof idx, "%u", i);
            json_object_set_new(regs, idx, hex_json(rp->reg[b][i], log->banks[b].size));
        }
        if (ccel) {
            json_object_set_new(o, "rtmr", regs);
            json_decref(banks);
            return o;
        }
        bank_label(&log->banks[b], label, sizeof label);
        json_object_set_new(banks, label, regs);
    }
    json_object_set_new(o, ccel ? "rtmr" : "pcrs", banks);
    return o;
}

/* see eventlog/eventlog.h */
json_t *cvma_eventlog_events_json(const struct cvma_eventlog *log)
{
    json_t *a = json_array();
    char hexbuf[16], path[512];
    bool ccel = log->format == CVMA_EVENTLOG_CCEL;
    for (size_t i = 0; a != NULL && i < log->n_events; i++) {
        const struct cvma_eventlog_event *e = &log->events[i];
        json_t *o = json_object();
        const char *tn = cvma_eventlog_type_name(e->type);
        struct efi_var var;
        uint64_t image_len;
        if (o == NULL) {
            break;
        }
        json_object_set_new(o, "index", json_integer((json_int_t)e->index));
        if (ccel) {
            json_object_set_new(o, "mr_index", json_integer(e->pcr));
            if (e->type != CVMA_EV_NO_ACTION && e->pcr >= 1) {
                json_object_set_new(o, "rtmr", json_integer(e->pcr - 1));
            }
        } else {
            json_object_set_new(o, "pcr", json_integer(e->pcr));
        }
        snprintf(hexbuf, sizeof hexbuf, "0x%08x", e->type);
        json_object_set_new(o, "type", json_string(tn != NULL ? tn : hexbuf));
        json_object_set_new(o, "digests", digests_json(log, e));
        json_object_set_new(o, "data_size", json_integer((json_int_t)e->data.len));
        if ((e->type == CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG ||
             e->type == CVMA_EV_EFI_VARIABLE_BOOT || e->type == CVMA_EV_EFI_VARIABLE_AUTHORITY ||
             e->type == 0x8000000Cu) &&
            parse_variable(e->data, &var)) {
            json_object_set_new(o, "variable", json_string(var.name));
        } else if (e->type == CVMA_EV_EFI_BOOT_SERVICES_APP &&
                   parse_image_load(e->data, &image_len, path, sizeof path) && path[0] != '\0') {
            json_object_set_new(o, "path", json_string(path));
        } else if (i == 0 && e->type == CVMA_EV_NO_ACTION &&
                   log->format != CVMA_EVENTLOG_TCG_SHA1) {
            json_object_set_new(o, "text", json_string("Spec ID Event03"));
        } else if (is_text(e->data)) {
            json_object_set_new(o, "text", ascii_json(e->data));
        }
        json_array_append_new(a, o);
    }
    return a;
}

/*
 * Replay vouches for each event's register and digests, never for its type or (mostly) its
 * data: whoever hands over the log can relabel an event (a separator as something else, a
 * boot application as an action, GRUB's "kernel_cmdline: " as "grub_cmd: ") and it still
 * replays, while a guest that runs can extend the registers with events of its own, after
 * everything that booted. So no claim lets an event's type or an uncovered part of its data
 * decide whether the event counts (docs/eventlog.md, "What the claims may be drawn from"):
 * an event counts for what its digest shows it measured (the hash of its data, or of the
 * text after a GRUB prefix), and an event whose digest shows nothing is taken as what it
 * could hide. Types only add events, never remove one.
 */

/* see eventlog/eventlog.h: GRUB's text events, the prefix (not measured), then the text its
 * digest is the hash of. The first CVMA_EVENTLOG_CMDLINE_PREFIXES are the kernel command
 * line's (upstream, then distributions'). */
const char *const cvma_eventlog_grub_prefixes[CVMA_EVENTLOG_GRUB_PREFIXES] = {
        "kernel_cmdline: ", "grub_kernel_cmdline ", "grub_cmd: ",
        "grub_cmd ",        "module_cmdline: ",     "grub_module_cmdline "};

/* GRUB's commands that load a Linux kernel: what follows is the kernel's command line. */
static const char *const linux_commands[] = {"linux ", "linuxefi ", "linux16 "};
/* GRUB commands that start an image with load options of their own (EFI chainloader: a
 * kernel's EFI stub takes them as its command line), which no kernel_cmdline event shows. */
static const char *const chain_commands[] = {"chainloader "};

/*
 * True when e was measured into TPM PCR pcr: its index in a TPM log; in a CCEL the CC-MR that
 * PCR maps to (UEFI 2.10, 38.4.1: PCR 0 to MRTD = CC-MR 0, PCR 1 and 7 to RTMR 0 = CC-MR 1,
 * PCR 2..6 to RTMR 1 = CC-MR 2, PCR 8..15 to RTMR 2 = CC-MR 3).
 */
static bool in_pcr(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e,
                   unsigned pcr)
{
    if (log->format != CVMA_EVENTLOG_CCEL) {
        return e->pcr == pcr;
    }
    unsigned mr = pcr == 0 ? 0 : pcr == 1 || pcr == 7 ? 1 : pcr <= 6 ? 2 : pcr <= 15 ? 3 : 99;
    return e->pcr == mr;
}

/* True when e's digest is the hash of its whole data: the data is what was measured. */
static bool data_measured(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e)
{
    return cvma_eventlog_digest_is_hash_of(log, e, e->data.p, e->data.len);
}

/*
 * True when e's digest is the hash of its data and that data is text (is_text: printable ASCII, a
 * NUL at its end allowed): an action string (PFP 10.4.4, EV_EFI_ACTION: "Calling EFI Application
 * from Boot Option", ...), whatever its type says. A boot application's digest is its
 * Authenticode hash, itself the hash of one byte string (ranges of its PE file, PE/COFF
 * headers among them, so never text): an application relabelled with that string as its data
 * passes data_measured, never this.
 */
static bool text_measured(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e)
{
    return is_text(e->data) && data_measured(log, e);
}

/* True when e's digest is the hash of its data and that data is a UEFI GPT (it starts "EFI
 * PART"): in a CCEL, RTMR 1 holds PCR 5's partition table beside PCR 4's applications. An
 * application's Authenticode preimage starts with its PE file's "MZ", never so. */
static bool gpt_measured(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e)
{
    return e->data.len >= 8 && memcmp(e->data.p, "EFI PART", 8) == 0 && data_measured(log, e);
}

/* A separator (PFP 10.4.1: the digest of 4 bytes, 0 or, after an error, all ones), known by
 * its digest alone: its type says nothing either way (an application typed EV_SEPARATOR is
 * still an application). */
static bool is_separator(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e)
{
    static const uint8_t zero[4] = {0, 0, 0, 0}, ones[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    return cvma_eventlog_digest_is_hash_of(log, e, zero, 4) ||
           cvma_eventlog_digest_is_hash_of(log, e, ones, 4);
}

/* The text a GRUB text event measured: the data after one of cvma_eventlog_grub_prefixes (*which,
 * its index) or the whole data (*which = -1), whose hash the digest is (with or without the NUL
 * that ends it in the log); returned without trailing NULs. False: the digest is the hash of
 * no such text. */
static bool grub_text(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e,
                      struct cvma_span *text, int *which)
{
    for (size_t k = 0; k <= CVMA_EVENTLOG_GRUB_PREFIXES; k++) {
        const char *prefix = k < CVMA_EVENTLOG_GRUB_PREFIXES ? cvma_eventlog_grub_prefixes[k] : "";
        struct cvma_reader r;
        struct cvma_span t;
        cvma_reader_init(&r, e->data.p, e->data.len);
        if (!cvma_reader_starts_with(&r, prefix) || !cvma_reader_skip(&r, strlen(prefix))) {
            continue;
        }
        cvma_reader_rest(&r, &t);
        if (cvma_eventlog_digest_is_hash_of_text(log, e, t)) {
            *text = without_trailing_nuls(t);
            *which = k < CVMA_EVENTLOG_GRUB_PREFIXES ? (int)k : -1;
            return true;
        }
    }
    return false;
}

/* The kernel command lines PCR 8 (RTMR 2) measured: claimed only when there is one. */
struct cmdlines {
    struct cvma_span claimed; /* the first kernel_cmdline event's text, as the kernel got it */
    char *canon;              /* the first command line seen, its GRUB quoting undone */
    bool conflict;            /* two differ: none is the one that booted for certain */
    bool hidden;              /* an event of the register measured what its data does not show */
    bool chained;             /* an image was started with load options (chain_commands) */
    bool nomem;
};

/*
 * True when a command line holds text the claim shows as it is and that the kernel splits as
 * the policy's rules do: printable ASCII, spaces, tabs and line ends (its trailing NULs are
 * gone already: grub_text). The
 * kernel also splits at \v, \f, \r and 0xA0 (lib/ctype.c isspace), where a rule would see
 * one parameter: such a line is not claimed.
 */
static bool cmdline_plain(struct cvma_span t)
{
    for (size_t i = 0; i < t.len; i++) {
        if (!printable(t.p[i])) {
            return false;
        }
    }
    return true;
}

/*
 * A command line with GRUB's quoting undone (grub-core/lib/cmdline.c: an argument holding a
 * space is put in double quotes, and a backslash or quote in it gets a backslash): the
 * arguments joined by spaces, as GRUB measures the command that gave them. NULL: no memory.
 */
static char *unquoted(struct cvma_span line)
{
    struct cvma_reader r;
    uint8_t c;
    size_t n = 0;
    char *out = malloc(line.len + 1);
    if (out == NULL) {
        return NULL;
    }
    cvma_reader_init(&r, line.p, line.len);
    while (cvma_reader_u8(&r, &c)) {
        if (c == '\\' && cvma_reader_u8(&r, &c)) {
            out[n++] = (char)c;
        } else if (c != '"') {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return out;
}

/* A command line measured (quoted: the loader's, with GRUB's quoting; else a command's). */
static void cmdline_add(struct cmdlines *c, struct cvma_span line, bool quoted)
{
    char *canon = NULL;
    if (quoted) {
        canon = unquoted(line);
    } else if ((canon = malloc(line.len + 1)) != NULL) {
        if (line.len > 0) {
            memcpy(canon, line.p, line.len);
        }
        canon[line.len] = '\0';
    }
    if (canon == NULL) {
        c->nomem = true;
        return;
    }
    if (c->canon == NULL) {
        c->canon = canon;
        return;
    }
    /* the same line again (GRUB's command and its loader's event, two prefixes, with and
     * without a NUL) is one; once two differ, none is claimed (A, B, A too) */
    c->conflict = c->conflict || strcmp(canon, c->canon) != 0;
    free(canon);
}

/*
 * GRUB measures each command it runs ("grub_cmd: linux /vmlinuz root=... ro") and the Linux
 * loader then the command line it passes ("kernel_cmdline: /vmlinuz root=... ro"), both into
 * PCR 8; the prefixes are not measured. So every text of the register is read whatever its
 * prefix: a kernel_cmdline one and the arguments of a linux command are command lines, and
 * one relabelled cannot hide, since the command that loaded the kernel is there as well. An
 * event whose digest is the hash of no text could be either, hidden: then none is claimed.
 * The claim is the text of a kernel_cmdline event, when all agree.
 */
static void cmdline_event(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e,
                          struct cmdlines *c)
{
    struct cvma_span text;
    int which;
    if (!grub_text(log, e, &text, &which)) {
        c->hidden = true;
        return;
    }
    if (which >= 0 && which < CVMA_EVENTLOG_CMDLINE_PREFIXES) {
        if (c->claimed.p == NULL) {
            c->claimed = text;
        }
        cmdline_add(c, text, true);
    }
    for (size_t k = 0; k < CVMA_ARRAY_LEN(chain_commands); k++) {
        struct cvma_reader r;
        cvma_reader_init(&r, text.p, text.len);
        c->chained = c->chained || cvma_reader_starts_with(&r, chain_commands[k]);
    }
    for (size_t k = 0; k < CVMA_ARRAY_LEN(linux_commands); k++) {
        struct cvma_reader r;
        struct cvma_span args;
        cvma_reader_init(&r, text.p, text.len);
        if (cvma_reader_starts_with(&r, linux_commands[k]) &&
            cvma_reader_skip(&r, strlen(linux_commands[k]))) {
            cvma_reader_rest(&r, &args);
            cmdline_add(c, args, false);
        }
    }
}

/* UEFI_GPT_DATA (PFP 10.4.4): the 92-byte GPT header, a u64 count, the entries. NULL when d
 * is none (with sig, only one whose header starts "EFI PART"). */
static json_t *gpt_json(const struct cvma_eventlog_event *e, bool sig)
{
    struct cvma_reader r, hdr;
    char guid[37];
    uint32_t n_entries, entry_size;
    uint64_t n_parts;
    cvma_reader_init(&r, e->data.p, e->data.len);
    if (!cvma_reader_sub(&r, 92, &hdr) || (sig && !cvma_reader_starts_with(&hdr, "EFI PART")) ||
        !cvma_reader_skip(&hdr, 56) || !read_guid(&hdr, guid) || !cvma_reader_skip(&hdr, 8) ||
        !cvma_reader_u32le(&hdr, &n_entries) || !cvma_reader_u32le(&hdr, &entry_size) ||
        !cvma_reader_u64le(&r, &n_parts) || entry_size < 128) {
        return NULL;
    }
    json_t *gpt = json_object();
    json_t *parts = json_array();
    json_object_set_new(gpt, "event", json_integer((json_int_t)e->index));
    json_object_set_new(gpt, "disk_guid", json_string(guid));
    for (uint64_t k = 0; k < n_parts && parts != NULL; k++) {
        struct cvma_reader pe;
        char tguid[37], uguid[37], name[36 * 2 + 1]; /* 36 characters, 2 bytes for a C1 */
        struct cvma_span nm;
        size_t used = 0;
        if (!cvma_reader_sub(&r, entry_size, &pe) || !read_guid(&pe, tguid) ||
            !read_guid(&pe, uguid) || !cvma_reader_skip(&pe, 24) ||
            !cvma_reader_span(&pe, 72, &nm)) {
            break;
        }
        ucs2_text(nm, name, sizeof name, &used);
        json_t *po = json_object();
        json_object_set_new(po, "type_guid", json_string(tguid));
        json_object_set_new(po, "unique_guid", json_string(uguid));
        json_object_set_new(po, "name", json_string(name));
        json_array_append_new(parts, po);
    }
    json_object_set_new(gpt, "partitions", parts);
    return gpt;
}

static json_t *boot_app_json(const struct cvma_eventlog *log, const struct cvma_eventlog_event *e)
{
    char path[512];
    uint64_t image_len = 0;
    json_t *app = json_object();
    json_object_set_new(app, "event", json_integer((json_int_t)e->index));
    json_object_set_new(app, "digests", digests_json(log, e));
    if (parse_image_load(e->data, &image_len, path, sizeof path)) {
        json_object_set_new(app, "image_length", json_integer((json_int_t)image_len));
        if (path[0] != '\0') {
            json_object_set_new(app, "path", json_string(path));
        }
    }
    return app;
}

/* see eventlog/eventlog.h */
json_t *cvma_eventlog_claims_json(const struct cvma_eventlog *log)
{
    json_t *o = json_object(), *apps = json_array(), *vars = json_array(), *auths = json_array();
    json_t *gpt = NULL, *sb = json_object();
    struct cmdlines cmd = {0};
    int sb_enabled = -1;
    bool ccel = log->format == CVMA_EVENTLOG_CCEL;
    bool pcr7_separated = false; /* PCR 7's separator seen: Secure Boot's state is before */
    bool sb_hidden = false;      /* an event before it could be the SecureBoot variable */
    bool pcr4_separated = false; /* PCR 4's (RTMR 1's) separator seen */
    bool pcr5_separated = false; /* PCR 5's (RTMR 1's) separator seen */
    bool gpt_done = false;       /* the first GPT is the only one read, or one may be hidden */

    if (o == NULL || apps == NULL || vars == NULL || auths == NULL || sb == NULL) {
        json_decref(o);
        json_decref(apps);
        json_decref(vars);
        json_decref(auths);
        json_decref(sb);
        return NULL;
    }
    for (size_t i = 0; i < log->n_events; i++) {
        const struct cvma_eventlog_event *e = &log->events[i];
        struct efi_var var;
        if (e->type == CVMA_EV_NO_ACTION) {
            continue; /* never extended: relabelling a measured event so fails replay */
        }
        bool sep = is_separator(log, e);
        /*
         * Each claim comes from the register the PC Client PFP (or GRUB) measures it into, and
         * from the first such event (the command line: from the only one, however often it
         * is measured): a register the guest can still extend after boot (PCR 8, RTMR 2, any
         * PCR a quote covers) must not let a later event, replayed as it may be, stand in for
         * what booted.
         */
        if (in_pcr(log, e, 4)) {
            /* PFP 3.3.4.5: boot applications, into PCR 4. All are claimed (the policy's list
             * is an allowlist), and so is every event there whose digest is neither a
             * separator's nor the hash of text its data holds (text_measured): an application
             * relabelled. (In a CCEL, RTMR 1 holds PCR 2..6 and only those after its
             * separator: before it come the firmware's drivers and blobs, and a guest cannot
             * add events there.) */
            if (e->type == CVMA_EV_EFI_BOOT_SERVICES_APP ||
                ((pcr4_separated || !ccel) && !sep && !text_measured(log, e) &&
                 !(ccel && gpt_measured(log, e)))) {
                json_array_append_new(apps, boot_app_json(log, e));
            }
            pcr4_separated = pcr4_separated || sep;
        }
        if (in_pcr(log, e, 8)) {
            cmdline_event(log, e, &cmd);
        }
        if (in_pcr(log, e, 5) && !gpt_done) {
            /* PCR 5 (PFP 3.3.4.6): the partition table, the first one measured. Typed so, or
             * known by its data and digest; an event before it that measured what its data
             * does not show could be the real one, relabelled: then none is claimed. */
            if (e->type == CVMA_EV_EFI_GPT_EVENT) {
                gpt_done = true; /* even when it does not parse: no later one stands in */
                gpt = gpt_json(e, false);
            } else if (data_measured(log, e)) {
                if ((gpt = gpt_json(e, true)) != NULL) {
                    gpt_done = true;
                }
            } else if (!sep && (pcr5_separated || !ccel)) {
                gpt_done = true;
            }
            pcr5_separated = pcr5_separated || sep;
        }
        if (in_pcr(log, e, 7)) {
            /* (known by its digest, or typed so: either ends what came before it) */
            bool sep7 = sep || e->type == CVMA_EV_SEPARATOR;
            bool before = !pcr7_separated;
            pcr7_separated = pcr7_separated || sep7;
            /* PCR 7 (PFP 3.3.4.8): the Secure Boot configuration before its separator (an
             * EFI variable whose digest covers its data, whatever its type; typed so, its
             * digest is checked in verification: EVENTLOG_EVENT_DATA_MISMATCH), the
             * authorities of the images verified after it. An authority's data counts only
             * when its digest covers it: the whole UEFI_VARIABLE_DATA as the PFP says, or the
             * variable's data alone, as shim measures it. A guest cannot add events before
             * the separator, which is known by its digest. */
            bool parsed = !sep7 && parse_variable(e->data, &var);
            bool authority = parsed && e->type == CVMA_EV_EFI_VARIABLE_AUTHORITY;
            bool shows = authority ? data_measured(log, e) ||
                                             cvma_eventlog_digest_is_hash_of(log, e, var.data.p,
                                                                             var.data.len)
                                   : e->type == CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG ||
                                             data_measured(log, e);
            /* Before the separator and before the first SecureBoot variable, an event whose
             * digest shows nothing could be that variable, relabelled: Secure Boot's state is
             * then unknown. (Not in a CCEL: its MR 1 also holds the firmware's hand-off tables
             * and volumes before the variables, whose digests never show their data.) */
            if (!sep7 && before && !shows && sb_enabled < 0 && !ccel) {
                sb_hidden = true;
            }
            if (!parsed || !shows || (!authority && !before)) {
                continue;
            }
            uint8_t md[32];
            unsigned int md_len = 0;
            json_t *vo = json_object();
            json_object_set_new(vo, "event", json_integer((json_int_t)e->index));
            json_object_set_new(vo, "name", json_string(var.name));
            json_object_set_new(vo, "guid", json_string(var.guid));
            json_object_set_new(vo, "data_size", json_integer((json_int_t)var.data.len));
            if (EVP_Digest(var.data.p, var.data.len, md, &md_len, EVP_sha256(), NULL) == 1) {
                json_object_set_new(vo, "data_sha256", hex_json(md, md_len));
            }
            if (authority) {
                json_array_append_new(auths, vo);
                continue;
            }
            /* UEFI 2.10, 3.3: SecureBoot (EFI global variable) is 1 when enabled. */
            if (sb_enabled < 0 && strcmp(var.name, "SecureBoot") == 0 &&
                strcmp(var.guid, "8be4df61-93ca-11d2-aa0d-00e098032b8c") == 0) {
                struct cvma_reader r;
                uint8_t b;
                cvma_reader_init(&r, var.data.p, var.data.len);
                sb_enabled = cvma_reader_u8(&r, &b) && cvma_reader_at_end(&r) && b == 1;
            }
            json_array_append_new(vars, vo);
        }
    }
    free(cmd.canon);
    if (cmd.nomem) {
        json_decref(o);
        json_decref(apps);
        json_decref(vars);
        json_decref(auths);
        json_decref(sb);
        json_decref(gpt);
        return NULL;
    }
    json_object_set_new(o, "efi_boot_applications", apps);
    /* (A CCEL never gives one: its RTMR 2 also holds PCR 9's files and PCR 14's MOK lists,
     * whose data does not show what they measured: docs/eventlog.md.) */
    json_object_set_new(o, "kernel_cmdline",
                        !ccel && cmd.claimed.p != NULL && !cmd.conflict && !cmd.hidden &&
                                        !cmd.chained && cmdline_plain(cmd.claimed)
                                ? ascii_json(cmd.claimed)
                                : json_null());
    json_object_set_new(o, "gpt", gpt != NULL ? gpt : json_null());
    /* Known only from a PCR 7 with a separator after the variable: without one, a guest could
     * have added the event once it ran. */
    json_object_set_new(sb, "enabled",
                        sb_enabled < 0 || sb_hidden || !pcr7_separated ? json_null()
                                                                       : json_boolean(sb_enabled));
    json_object_set_new(sb, "variables", vars);
    json_object_set_new(sb, "authorities", auths);
    json_object_set_new(o, "secure_boot", sb);
    return o;
}

/* see eventlog/eventlog.h */
json_t *cvma_eventlog_show(const uint8_t *p, size_t len, const char **heading,
                           struct cvma_verdict *v)
{
    struct cvma_eventlog log;
    struct cvma_eventlog_replay *rp = NULL;
    json_t *o = NULL, *banks = NULL;
    char label[16];

    if (cvma_eventlog_parse(p, len, CVMA_EVENTLOG_AUTO, &log, v) != CVMA_OK) {
        goto out;
    }
    if ((rp = malloc(sizeof *rp)) == NULL || (o = json_object()) == NULL ||
        (banks = json_array()) == NULL) {
        v->oom = true;
        json_decref(o);
        o = NULL;
        goto out;
    }
    cvma_eventlog_replay(&log, rp);
    *heading = log.format == CVMA_EVENTLOG_CCEL       ? "TDX CCEL event log (unverified)"
               : log.format == CVMA_EVENTLOG_TCG_SHA1 ? "TCG event log, SHA-1 format (unverified)"
                                                      : "TCG event log, crypto-agile (unverified)";
    json_object_set_new(o, "format", json_string(cvma_eventlog_format_name(log.format)));
    for (size_t b = 0; b < log.n_banks; b++) {
        bank_label(&log.banks[b], label, sizeof label);
        json_array_append_new(banks, json_string(label));
    }
    json_object_set_new(o, "banks", banks);
    json_object_set_new(o, "events", json_integer((json_int_t)log.n_events));
    if (log.has_startup_locality) {
        json_object_set_new(o, "startup_locality", json_integer(log.startup_locality));
    }
    json_object_update_new(o, cvma_eventlog_replay_json(&log, rp));
    json_object_set_new(o, "claims", cvma_eventlog_claims_json(&log));
out:
    free(rp);
    cvma_eventlog_cleanup(&log);
    return o;
}

/* A PCR index 0..CVMA_EVENTLOG_NPCR-1 (common/util.h: decimal, no sign, space, "0x" or
 * leading zero). */
static bool pcr_index(const char *s, unsigned *out)
{
    return cvma_pcr_index(s, strlen(s), CVMA_EVENTLOG_NPCR, out);
}

/* see eventlog/eventlog.h */
bool cvma_eventlog_quoted_read(const uint8_t *p, size_t len, struct cvma_eventlog_quoted **out,
                               size_t *n_out, char *err, size_t err_len)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
    const char *bank, *idx;
    json_t *regs, *val;
    struct cvma_eventlog_quoted *q = NULL;
    size_t n = 0;

    *out = NULL;
    *n_out = 0;
    if (root == NULL) {
        cvma_errf(err, err_len, "not JSON (line %d: %s)", je.line, je.text);
        goto fail;
    }
    /* json_loadb takes an object or an array only. */
    if (!json_is_object(root)) {
        cvma_errf(err, err_len,
                  "a JSON array, not an object of banks ({\"sha256\": {\"0\": ...}})");
        goto fail;
    }
    if ((q = calloc(json_object_size(root) + 1, sizeof *q)) == NULL) {
        cvma_errf(err, err_len, "out of memory");
        goto fail;
    }
    json_object_foreach(root, bank, regs)
    {
        uint16_t alg = cvma_eventlog_alg_of_name(bank);
        if (alg == 0 || !json_is_object(regs)) {
            cvma_errf(err, err_len,
                      "bank \"%s\" is not sha1, sha256, sha384 or sha512 with an object of PCRs",
                      bank);
            goto fail;
        }
        q[n].alg = alg;
        json_object_foreach(regs, idx, val)
        {
            unsigned i = 0;
            size_t got = 0;
            /* One value per PCR: "7" and "07" name the same register. */
            if (!pcr_index(idx, &i) || (q[n].mask & 1u << i) != 0 || !json_is_string(val) ||
                !cvma_hex_decode(json_string_value(val), q[n].reg[i], CVMA_EVENTLOG_MAX_DIGEST,
                                 &got) ||
                got != cvma_eventlog_alg_size(alg)) {
                cvma_errf(err, err_len,
                          "%s PCR \"%s\" is not an index 0..23 (once) with a hex digest of the "
                          "bank's size",
                          bank, idx);
                goto fail;
            }
            q[n].mask |= 1u << i;
        }
        n++;
    }
    json_decref(root);
    *out = q;
    *n_out = n;
    return true;
fail:
    free(q);
    json_decref(root);
    return false;
}
