/*
 * Event logs as JSON (eventlog/eventlog.h): the replay, the events, and the claims of the
 * events that matter for appraisal. Event data is untrusted: every structure inside it is
 * read through the reader, and text taken from it is reduced to printable ASCII.
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

/* UCS-2 (little-endian) characters of a span to ASCII, '?' for others; stops at NUL. */
static void ucs2_ascii(struct cvma_span s, char *out, size_t out_len, size_t *used)
{
    struct cvma_reader r;
    uint16_t c;
    cvma_reader_init(&r, s.p, s.len);
    while (*used + 1 < out_len && cvma_reader_u16le(&r, &c) && c != 0) {
        out[(*used)++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
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
    ucs2_ascii(name, var->name, sizeof var->name, &used);
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
            ucs2_ascii(body, path, path_len, &used);
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

static const char *const cmdline_prefixes[] = {"kernel_cmdline: ", "grub_kernel_cmdline "};

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

/* see eventlog/eventlog.h */
json_t *cvma_eventlog_claims_json(const struct cvma_eventlog *log)
{
    json_t *o = json_object(), *apps = json_array(), *vars = json_array(), *auths = json_array();
    json_t *cmdline = NULL, *gpt = NULL, *sb = json_object();
    bool cmdline_seen = false;     /* a command line was measured (cmdline NULL: no memory) */
    bool cmdline_conflict = false; /* PCR 8 holds different command lines: none is claimed */
    struct cvma_span cmdline_first = {NULL, 0}; /* the first one's bytes, its NULs dropped */
    int sb_enabled = -1;
    bool pcr7_separated = false; /* PCR 7's EV_SEPARATOR seen: Secure Boot's state is before */
    bool gpt_seen = false;       /* the first GPT event of PCR 5 is the only one read */
    char path[512];

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
        uint64_t image_len = 0;
        if (e->type == CVMA_EV_NO_ACTION) {
            continue;
        }
        /*
         * Each claim comes from the register the PC Client PFP (or GRUB) measures it into, and
         * from the first such event (the command line: from the only one, however often it
         * is measured): a register the guest can still extend after boot (PCR 8, RTMR 2, any
         * PCR a quote covers) must not let a later event, replayed as it may be, stand in for
         * what booted. Boot applications are all claimed: the policy's list is an allowlist.
         */
        switch (e->type) {
        case CVMA_EV_SEPARATOR:
            pcr7_separated = pcr7_separated || in_pcr(log, e, 7);
            break;
        case CVMA_EV_EFI_BOOT_SERVICES_APP: {
            if (!in_pcr(log, e, 4)) {
                break; /* PFP 3.3.4.5: boot applications are measured into PCR 4 */
            }
            json_t *app = json_object();
            json_object_set_new(app, "event", json_integer((json_int_t)e->index));
            json_object_set_new(app, "digests", digests_json(log, e));
            if (parse_image_load(e->data, &image_len, path, sizeof path)) {
                json_object_set_new(app, "image_length", json_integer((json_int_t)image_len));
                if (path[0] != '\0') {
                    json_object_set_new(app, "path", json_string(path));
                }
            }
            json_array_append_new(apps, app);
            break;
        }
        case CVMA_EV_IPL: {
            /* GRUB (PFP does not define it): "kernel_cmdline: " / "grub_kernel_cmdline "
             * followed by the command line, in PCR 8 (CC-MR 3 in a CCEL). The guest can extend
             * PCR 8 with more once it runs: when the register holds different command lines,
             * none of them is the one that booted for certain, and none is claimed. (When boot
             * measured none, one added later cannot be told apart: docs/eventlog.md.) */
            struct cvma_span line = {NULL, 0};
            bool found = false;
            if (cmdline_conflict || !in_pcr(log, e, 8)) {
                break;
            }
            for (size_t k = 0; k < CVMA_ARRAY_LEN(cmdline_prefixes) && !found; k++) {
                struct cvma_reader r;
                cvma_reader_init(&r, e->data.p, e->data.len);
                if (cvma_reader_starts_with(&r, cmdline_prefixes[k]) &&
                    cvma_reader_skip(&r, strlen(cmdline_prefixes[k]))) {
                    cvma_reader_rest(&r, &line);
                    line = without_trailing_nuls(line);
                    found = true;
                }
            }
            if (!found) {
                break;
            }
            if (!cmdline_seen) {
                cmdline_seen = true;
                cmdline_first = line;
                cmdline = ascii_json(line);
                break;
            }
            /* the same line again (GRUB's two prefixes, or with and without its NUL) is one;
             * once two differ, none is claimed (A, B, A too) */
            cmdline_conflict = line.len != cmdline_first.len ||
                               (line.len > 0 && memcmp(line.p, cmdline_first.p, line.len) != 0);
            break;
        }
        case CVMA_EV_EFI_GPT_EVENT: {
            /* UEFI_GPT_DATA (PFP 10.4.4): the 92-byte GPT header, a u64 count, the entries. */
            struct cvma_reader r, hdr;
            char guid[37];
            uint32_t n_entries, entry_size;
            uint64_t n_parts;
            /* PCR 5 (PFP 3.3.4.6), the first; in verification its data is what its digest
             * covers (else EVENTLOG_EVENT_DATA_MISMATCH, and no claims) */
            if (gpt_seen || !in_pcr(log, e, 5)) {
                break;
            }
            gpt_seen = true; /* even when it does not parse: no later one stands in for it */
            cvma_reader_init(&r, e->data.p, e->data.len);
            if (!cvma_reader_sub(&r, 92, &hdr) || !cvma_reader_skip(&hdr, 56) ||
                !read_guid(&hdr, guid) || !cvma_reader_skip(&hdr, 8) ||
                !cvma_reader_u32le(&hdr, &n_entries) || !cvma_reader_u32le(&hdr, &entry_size) ||
                !cvma_reader_u64le(&r, &n_parts) || entry_size < 128) {
                break;
            }
            gpt = json_object();
            json_t *parts = json_array();
            json_object_set_new(gpt, "event", json_integer((json_int_t)e->index));
            json_object_set_new(gpt, "disk_guid", json_string(guid));
            for (uint64_t k = 0; k < n_parts && parts != NULL; k++) {
                struct cvma_reader pe;
                char tguid[37], uguid[37], name[40];
                struct cvma_span nm;
                size_t used = 0;
                if (!cvma_reader_sub(&r, entry_size, &pe) || !read_guid(&pe, tguid) ||
                    !read_guid(&pe, uguid) || !cvma_reader_skip(&pe, 24) ||
                    !cvma_reader_span(&pe, 72, &nm)) {
                    break;
                }
                ucs2_ascii(nm, name, sizeof name, &used);
                json_t *po = json_object();
                json_object_set_new(po, "type_guid", json_string(tguid));
                json_object_set_new(po, "unique_guid", json_string(uguid));
                json_object_set_new(po, "name", json_string(name));
                json_array_append_new(parts, po);
            }
            json_object_set_new(gpt, "partitions", parts);
            break;
        }
        case CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG:
        case CVMA_EV_EFI_VARIABLE_AUTHORITY: {
            uint8_t md[32];
            unsigned int md_len = 0;
            /* PCR 7 (PFP 3.3.4.8): the Secure Boot configuration before PCR 7's separator
             * (in verification its digest covers its data, else EVENTLOG_EVENT_DATA_MISMATCH),
             * the authorities of the images verified after it. An authority's data counts
             * only when its digest covers it: the whole UEFI_VARIABLE_DATA as the PFP says, or
             * the variable's data alone, as shim measures it. */
            if (!in_pcr(log, e, 7) || !parse_variable(e->data, &var)) {
                break;
            }
            if (e->type == CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG
                        ? pcr7_separated
                        : !cvma_eventlog_digest_is_hash_of(log, e, e->data.p, e->data.len) &&
                                  !cvma_eventlog_digest_is_hash_of(log, e, var.data.p,
                                                                   var.data.len)) {
                break;
            }
            json_t *vo = json_object();
            json_object_set_new(vo, "event", json_integer((json_int_t)e->index));
            json_object_set_new(vo, "name", json_string(var.name));
            json_object_set_new(vo, "guid", json_string(var.guid));
            json_object_set_new(vo, "data_size", json_integer((json_int_t)var.data.len));
            if (EVP_Digest(var.data.p, var.data.len, md, &md_len, EVP_sha256(), NULL) == 1) {
                json_object_set_new(vo, "data_sha256", hex_json(md, md_len));
            }
            if (e->type == CVMA_EV_EFI_VARIABLE_AUTHORITY) {
                json_array_append_new(auths, vo);
                break;
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
            break;
        }
        default:
            break;
        }
    }
    json_object_set_new(o, "efi_boot_applications", apps);
    if (cmdline_conflict) {
        json_decref(cmdline);
        cmdline = NULL;
    }
    json_object_set_new(o, "kernel_cmdline", cmdline != NULL ? cmdline : json_null());
    json_object_set_new(o, "gpt", gpt != NULL ? gpt : json_null());
    json_object_set_new(sb, "enabled", sb_enabled < 0 ? json_null() : json_boolean(sb_enabled));
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
    if (root == NULL || !json_is_object(root)) {
        cvma_errf(err, err_len, "not a JSON object (%s)", root ? "" : je.text);
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
