/*
 * Event log parser and replay (eventlog/eventlog.h). Layouts: TCG PC Client Platform Firmware
 * Profile (PFP) 1.05, section 10.2 (TCG_PCClientPCREvent, TCG_EfiSpecIDEvent,
 * TCG_PCR_EVENT2); the CCEL uses the same records with CC measurement register indices (UEFI
 * 2.10, EFI_CC_MEASUREMENT_PROTOCOL; TDX GHCI, section 4.1: MR index 1..4 = RTMR 0..3).
 */
#include "eventlog/eventlog.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/hex.h"
#include "common/reader.h"

/* PFP 10.4.5.1: the Spec ID event's signature; 10.4.5.3: the StartupLocality event. */
static const char spec_id_sig[16] = "Spec ID Event03";
static const char locality_sig[16] = "StartupLocality";

static const struct {
    uint16_t alg;
    uint16_t size;
    const char *name;
    const EVP_MD *(*md)(void);
} known_algs[] = {
        {CVMA_TPM_ALG_SHA1, 20, "sha1", EVP_sha1},
        {CVMA_TPM_ALG_SHA256, 32, "sha256", EVP_sha256},
        {CVMA_TPM_ALG_SHA384, 48, "sha384", EVP_sha384},
        {CVMA_TPM_ALG_SHA512, 64, "sha512", EVP_sha512},
};

_Static_assert(CVMA_ARRAY_LEN(known_algs) == CVMA_EVENTLOG_BANKS,
               "CVMA_EVENTLOG_BANKS counts the table of known banks");

uint16_t cvma_eventlog_bank_alg(size_t b)
{
    return b < CVMA_ARRAY_LEN(known_algs) ? known_algs[b].alg : 0;
}

const char *cvma_eventlog_alg_name(uint16_t alg)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(known_algs); i++) {
        if (known_algs[i].alg == alg) {
            return known_algs[i].name;
        }
    }
    return NULL;
}

uint16_t cvma_eventlog_alg_of_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < CVMA_ARRAY_LEN(known_algs); i++) {
        if (strcmp(known_algs[i].name, name) == 0) {
            return known_algs[i].alg;
        }
    }
    return 0;
}

size_t cvma_eventlog_alg_size(uint16_t alg)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(known_algs); i++) {
        if (known_algs[i].alg == alg) {
            return known_algs[i].size;
        }
    }
    return 0;
}

const EVP_MD *cvma_eventlog_alg_md(uint16_t alg)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(known_algs); i++) {
        if (known_algs[i].alg == alg) {
            return known_algs[i].md();
        }
    }
    return NULL;
}

const char *cvma_eventlog_format_name(enum cvma_eventlog_format f)
{
    switch (f) {
    case CVMA_EVENTLOG_AUTO:
        return "auto";
    case CVMA_EVENTLOG_TCG:
        return "tcg";
    case CVMA_EVENTLOG_TCG_SHA1:
        return "tcg-sha1";
    case CVMA_EVENTLOG_CCEL:
        return "ccel";
    }
    return "unknown";
}

/* PFP 10.4.1, Table 9. */
static const struct {
    uint32_t type;
    const char *name;
} type_names[] = {
        {0x00000000, "EV_PREBOOT_CERT"},
        {0x00000001, "EV_POST_CODE"},
        {0x00000002, "EV_UNUSED"},
        {0x00000003, "EV_NO_ACTION"},
        {0x00000004, "EV_SEPARATOR"},
        {0x00000005, "EV_ACTION"},
        {0x00000006, "EV_EVENT_TAG"},
        {0x00000007, "EV_S_CRTM_CONTENTS"},
        {0x00000008, "EV_S_CRTM_VERSION"},
        {0x00000009, "EV_CPU_MICROCODE"},
        {0x0000000A, "EV_PLATFORM_CONFIG_FLAGS"},
        {0x0000000B, "EV_TABLE_OF_DEVICES"},
        {0x0000000C, "EV_COMPACT_HASH"},
        {0x0000000D, "EV_IPL"},
        {0x0000000E, "EV_IPL_PARTITION_DATA"},
        {0x0000000F, "EV_NONHOST_CODE"},
        {0x00000010, "EV_NONHOST_CONFIG"},
        {0x00000011, "EV_NONHOST_INFO"},
        {0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS"},
        {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
        {0x80000002, "EV_EFI_VARIABLE_BOOT"},
        {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"},
        {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"},
        {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
        {0x80000006, "EV_EFI_GPT_EVENT"},
        {0x80000007, "EV_EFI_ACTION"},
        {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
        {0x80000009, "EV_EFI_HANDOFF_TABLES"},
        {0x8000000A, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
        {0x8000000B, "EV_EFI_HANDOFF_TABLES2"},
        {0x8000000C, "EV_EFI_VARIABLE_BOOT2"},
        {0x80000010, "EV_EFI_HCRTM_EVENT"},
        {0x800000E0, "EV_EFI_VARIABLE_AUTHORITY"},
        {0x800000E1, "EV_EFI_SPDM_FIRMWARE_BLOB"},
        {0x800000E2, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
};

const char *cvma_eventlog_type_name(uint32_t type)
{
    for (size_t i = 0; i < CVMA_ARRAY_LEN(type_names); i++) {
        if (type_names[i].type == type) {
            return type_names[i].name;
        }
    }
    return NULL;
}

bool cvma_eventlog_type_of_name(const char *name, uint32_t *type)
{
    *type = 0;
    for (size_t i = 0; i < CVMA_ARRAY_LEN(type_names); i++) {
        if (strcmp(type_names[i].name, name) == 0) {
            *type = type_names[i].type;
            return true;
        }
    }
    return false;
}

int cvma_eventlog_bank_index(const struct cvma_eventlog *log, uint16_t alg)
{
    for (size_t i = 0; i < log->n_banks; i++) {
        if (log->banks[i].alg == alg) {
            return (int)i;
        }
    }
    return -1;
}

/* The first record's header in the SHA-1 format (TCG_PCR_EVENT, PFP 10.2.1): PCR index, event
 * type, SHA-1 digest, event size; r is left at the event data. */
static bool read_sha1_header(struct cvma_reader *r, const uint8_t *p, size_t len, uint32_t *pcr,
                             uint32_t *type, uint32_t *size)
{
    cvma_reader_init(r, p, len);
    return cvma_reader_u32le(r, pcr) && cvma_reader_u32le(r, type) && cvma_reader_skip(r, 20) &&
           cvma_reader_u32le(r, size);
}

/* The first record in the SHA-1 format with EV_NO_ACTION and the Spec ID signature. */
static bool has_spec_id(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    struct cvma_span sig;
    uint32_t pcr, type, size;
    return read_sha1_header(&r, p, len, &pcr, &type, &size) && type == CVMA_EV_NO_ACTION &&
           size >= 16 && cvma_reader_span(&r, sizeof spec_id_sig, &sig) &&
           memcmp(sig.p, spec_id_sig, sizeof spec_id_sig) == 0;
}

/* see eventlog/eventlog.h */
bool cvma_eventlog_detect(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    uint32_t pcr, type, size;
    if (has_spec_id(p, len)) {
        return true;
    }
    /* A legacy SHA-1 log: a first record with a PCR index, a known event type and a size
     * that fits. Weaker than the Spec ID signature; only used where nothing else matched. */
    return read_sha1_header(&r, p, len, &pcr, &type, &size) && pcr < CVMA_EVENTLOG_NPCR &&
           cvma_eventlog_type_name(type) != NULL && type != CVMA_EV_PREBOOT_CERT &&
           size <= cvma_reader_left(&r);
}

void cvma_eventlog_cleanup(struct cvma_eventlog *log)
{
    if (log == NULL) {
        return;
    }
    free(log->events);
    cvma_buf_free(&log->raw);
    memset(log, 0, sizeof *log);
}

static enum cvma_status add_event(struct cvma_eventlog *log, size_t *cap,
                                  const struct cvma_eventlog_event *e, struct cvma_verdict *v)
{
    if (log->n_events == CVMA_EVENTLOG_MAX_EVENTS) {
        return cvma_reject(v, CVMA_R_EVENTLOG_TOO_MANY_EVENTS,
                           "event log: more than %u events (next at offset 0x%zx)",
                           (unsigned)CVMA_EVENTLOG_MAX_EVENTS, e->offset);
    }
    if (log->n_events == *cap) {
        size_t ncap = *cap == 0 ? 64 : *cap * 2;
        struct cvma_eventlog_event *n = realloc(log->events, ncap * sizeof *n);
        if (n == NULL) {
            return CVMA_E_NOMEM;
        }
        log->events = n;
        *cap = ncap;
    }
    log->events[log->n_events] = *e;
    log->events[log->n_events].index = log->n_events;
    log->n_events++;
    return CVMA_OK;
}

/* PFP 10.4.5.1 TCG_EfiSpecIdEvent: the banks and their digest sizes. */
static enum cvma_status parse_spec_id(struct cvma_eventlog *log, struct cvma_span data,
                                      struct cvma_verdict *v)
{
    struct cvma_reader r;
    uint32_t platform_class, n_algs;
    uint8_t minor, major, errata, uintn, vendor_len;

    cvma_reader_init(&r, data.p, data.len);
    if (!cvma_reader_skip(&r, 16) || !cvma_reader_u32le(&r, &platform_class) ||
        !cvma_reader_u8(&r, &minor) || !cvma_reader_u8(&r, &major) ||
        !cvma_reader_u8(&r, &errata) || !cvma_reader_u8(&r, &uintn) ||
        !cvma_reader_u32le(&r, &n_algs)) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "Spec ID Event03: %zu bytes, too short for its fixed fields", data.len);
    }
    (void)platform_class;
    (void)minor;
    (void)errata;
    if (major != 2) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "Spec ID Event03: specVersionMajor %u, expected 2", major);
    }
    if (uintn != 1 && uintn != 2) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "Spec ID Event03: uintnSize %u, expected 1 or 2", uintn);
    }
    if (n_algs == 0 || n_algs > CVMA_EVENTLOG_MAX_BANKS) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "Spec ID Event03: %u digest algorithms, expected 1..%d", n_algs,
                           CVMA_EVENTLOG_MAX_BANKS);
    }
    for (uint32_t i = 0; i < n_algs; i++) {
        uint16_t alg, size;
        if (!cvma_reader_u16le(&r, &alg) || !cvma_reader_u16le(&r, &size)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                               "Spec ID Event03: the list of %u algorithms is cut short", n_algs);
        }
        size_t want = cvma_eventlog_alg_size(alg);
        if ((want != 0 && size != want) || size == 0 || size > CVMA_EVENTLOG_MAX_DIGEST) {
            return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                               "Spec ID Event03: algorithm 0x%04x with digest size %u%s", alg, size,
                               want != 0 ? " (not its size)" : "");
        }
        if (cvma_eventlog_bank_index(log, alg) >= 0) {
            return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                               "Spec ID Event03: algorithm 0x%04x listed twice", alg);
        }
        struct cvma_eventlog_bank *b = &log->banks[log->n_banks++];
        b->alg = alg;
        b->size = size;
        b->name = cvma_eventlog_alg_name(alg);
        b->replayable = cvma_eventlog_alg_md(alg) != NULL;
    }
    if (!cvma_reader_u8(&r, &vendor_len) || !cvma_reader_skip(&r, vendor_len)) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "Spec ID Event03: vendorInfo runs past the event's %zu bytes", data.len);
    }
    /* PFP 10.4.5.1: vendorInfo is the structure's last field; its eventSize is the structure's. */
    if (!cvma_reader_at_end(&r)) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "Spec ID Event03: %zu bytes after vendorInfo (the event is %zu bytes)",
                           cvma_reader_left(&r), data.len);
    }
    return CVMA_OK;
}

/* What parse_events has seen so far, for the checks that depend on order. */
struct seen {
    uint32_t separators[32];
    bool pcr0_extended;
    size_t pcr0_extend; /* the index of the first event extending PCR 0 */
};

static enum cvma_status note_event(struct cvma_eventlog *log, const struct cvma_eventlog_event *e,
                                   struct seen *seen, struct cvma_verdict *v)
{
    /* PFP 10.4.5.3: EV_NO_ACTION in PCR 0 carrying "StartupLocality\0" and one byte. */
    struct cvma_reader r;
    struct cvma_span sig;
    uint8_t locality;
    cvma_reader_init(&r, e->data.p, e->data.len);
    if (e->type == CVMA_EV_NO_ACTION && e->pcr == 0 &&
        cvma_reader_span(&r, sizeof locality_sig, &sig) &&
        memcmp(sig.p, locality_sig, sizeof locality_sig) == 0) {
        /* Read otherwise, an event with bytes after the locality would be passed over, and the
         * replay would start PCR 0 at zero where the firmware meant another locality. */
        if (!cvma_reader_u8(&r, &locality) || !cvma_reader_at_end(&r)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID,
                               "event #%zu at offset 0x%zx: a StartupLocality event of %zu "
                               "bytes, not the signature and one locality byte (17)",
                               e->index, e->offset, e->data.len);
        }
        /* It gives PCR 0's start value: one, logged before anything extends PCR 0 (PFP
         * 10.4.5.3). A second one, or one after an extend, would say PCR 0 started at
         * another value than the one already extended from: neither is replayed. */
        if (log->has_startup_locality) {
            return cvma_reject(v, CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID,
                               "event #%zu at offset 0x%zx: a second StartupLocality event "
                               "(locality %u, the first said %u)",
                               e->index, e->offset, locality, log->startup_locality);
        }
        if (seen->pcr0_extended) {
            return cvma_reject(v, CVMA_R_EVENTLOG_STARTUP_LOCALITY_INVALID,
                               "event #%zu at offset 0x%zx: a StartupLocality event after event "
                               "#%zu extended PCR 0",
                               e->index, e->offset, seen->pcr0_extend);
        }
        log->has_startup_locality = true;
        log->startup_locality = locality;
    }
    if (e->type != CVMA_EV_NO_ACTION && e->pcr == 0 && !seen->pcr0_extended) {
        seen->pcr0_extended = true;
        seen->pcr0_extend = e->index;
    }
    uint32_t *separators = seen->separators;
    if (e->type == CVMA_EV_SEPARATOR && e->pcr < 32) {
        if (separators[e->pcr] == 1) {
            /* Seen in real firmware; replayed as it is. */
            (void)cvma_verdict_add(v, CVMA_R_EVENTLOG_DUPLICATE_SEPARATOR, CVMA_SEV_INFO,
                                   "event #%zu at offset 0x%zx: a second EV_SEPARATOR for index "
                                   "%u (replayed as it is)",
                                   e->index, e->offset, e->pcr);
        }
        separators[e->pcr]++;
    }
    return CVMA_OK;
}

/* Offset where trailing 0x00 / 0xFF padding starts (len when the last byte is neither): just
 * after the last byte that is neither. */
static size_t padding_start(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    uint8_t c;
    size_t start = 0;
    cvma_reader_init(&r, p, len);
    while (cvma_reader_u8(&r, &c)) {
        if (c != 0x00 && c != 0xFF) {
            start = r.off;
        }
    }
    return start;
}

/* Offset of the first byte at or after r's offset that is neither 0x00 nor 0xFF (r->len when
 * every byte left is padding). */
static size_t first_non_padding(const struct cvma_reader *r)
{
    struct cvma_reader scan = *r;
    size_t at = scan.off;
    uint8_t c;
    while (cvma_reader_u8(&scan, &c)) {
        if (c != 0x00 && c != 0xFF) {
            return at;
        }
        at = scan.off;
    }
    return r->len;
}

/* Whether the record at r's offset starts as firmware's unwritten buffer does, rather than as an
 * event: index 0xFFFFFFFF is no register (erased flash); a fixed header of zeros is no event
 * either: legacy, PCR 0 EV_PREBOOT_CERT with an all-zero SHA-1 digest and no data (pcr, type,
 * digest, size: 32 bytes); crypto-agile, PCR 0 type 0 with no digests (pcr, type, count: 12
 * bytes), which the header's bank count never allows. */
static bool looks_like_padding(const struct cvma_reader *r, bool agile)
{
    struct cvma_reader peek = *r;
    size_t fixed = agile ? 12 : 32;
    uint32_t idx = 0;
    uint8_t c;

    if (cvma_reader_u32le(&peek, &idx) && idx == 0xFFFFFFFFu) {
        return true;
    }
    peek = *r;
    for (size_t i = 0; i < fixed; i++) {
        if (!cvma_reader_u8(&peek, &c) || c != 0x00) {
            return false;
        }
    }
    return true;
}

/* Reads the records after the header (header: the Spec ID event, stored first, or NULL). */
static enum cvma_status parse_events(struct cvma_eventlog *log, struct cvma_reader *r, bool agile,
                                     const struct cvma_eventlog_event *header,
                                     struct cvma_verdict *v)
{
    size_t cap = 0, pad = padding_start(r->p, r->len);
    struct seen seen;
    enum cvma_status st;

    memset(&seen, 0, sizeof seen);

    if (header != NULL && (st = add_event(log, &cap, header, v)) != CVMA_OK) {
        return st;
    }

    for (;;) {
        struct cvma_eventlog_event e;
        uint32_t count = 1, size;
        memset(&e, 0, sizeof e);
        e.offset = r->off;
        if (cvma_reader_at_end(r)) {
            break;
        }
        /* Firmware hands over a fixed-size buffer: what follows the last event is 0xFF (never
         * written flash) or zero. Not events; noted. A first record is never padding. */
        if (log->n_events > 0 && r->off >= pad) {
            log->padding_len = r->len - r->off;
            (void)cvma_verdict_add(v, CVMA_R_EVENTLOG_PADDING, CVMA_SEV_INFO,
                                   "%zu bytes of 0xFF/0x00 padding after the last event (offset "
                                   "0x%zx), ignored",
                                   log->padding_len, r->off);
            break;
        }
        /* Padding starts here, yet other bytes follow it: never read them as events. */
        if (log->n_events > 0 && looks_like_padding(r, agile)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_TRAILING_DATA,
                               "padding after the last event (offset 0x%zx) is followed by other "
                               "bytes at offset 0x%zx",
                               r->off, first_non_padding(r));
        }
        if (!cvma_reader_u32le(r, &e.pcr) || !cvma_reader_u32le(r, &e.type) ||
            (agile && !cvma_reader_u32le(r, &count))) {
            return cvma_reject(v, CVMA_R_EVENTLOG_TRUNCATED,
                               "event #%zu at offset 0x%zx: header cut short (%zu bytes left)",
                               log->n_events, e.offset, r->len - e.offset);
        }
        if (agile && count != log->n_banks) {
            return cvma_reject(v, CVMA_R_EVENTLOG_DIGEST_INVALID,
                               "event #%zu at offset 0x%zx: %u digests, the header announces "
                               "%zu banks",
                               log->n_events, e.offset, count, log->n_banks);
        }
        for (uint32_t i = 0; i < count; i++) {
            uint16_t alg = CVMA_TPM_ALG_SHA1;
            struct cvma_span d;
            int bi;
            if (agile && !cvma_reader_u16le(r, &alg)) {
                return cvma_reject(v, CVMA_R_EVENTLOG_TRUNCATED,
                                   "event #%zu at offset 0x%zx: digest list cut short",
                                   log->n_events, e.offset);
            }
            if ((bi = cvma_eventlog_bank_index(log, alg)) < 0) {
                return cvma_reject(v, CVMA_R_EVENTLOG_DIGEST_INVALID,
                                   "event #%zu at offset 0x%zx: digest algorithm 0x%04x is not "
                                   "in the Spec ID header",
                                   log->n_events, e.offset, alg);
            }
            if (e.digest[bi] != NULL) {
                return cvma_reject(v, CVMA_R_EVENTLOG_DIGEST_INVALID,
                                   "event #%zu at offset 0x%zx: two %s digests", log->n_events,
                                   e.offset,
                                   log->banks[bi].name ? log->banks[bi].name : "same-algorithm");
            }
            if (!cvma_reader_span(r, log->banks[bi].size, &d)) {
                return cvma_reject(v, CVMA_R_EVENTLOG_TRUNCATED,
                                   "event #%zu at offset 0x%zx: digest cut short", log->n_events,
                                   e.offset);
            }
            e.digest[bi] = d.p;
        }
        if (!cvma_reader_u32le(r, &size) || !cvma_reader_span(r, size, &e.data)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_TRUNCATED,
                               "event #%zu at offset 0x%zx: event data of %u bytes runs past the "
                               "end of the log (%zu bytes)",
                               log->n_events, e.offset, size, r->len);
        }
        if (e.pcr >= CVMA_EVENTLOG_NPCR) {
            return cvma_reject(v, CVMA_R_EVENTLOG_INDEX_INVALID,
                               "event #%zu at offset 0x%zx: register index %u (0..23 allowed)",
                               log->n_events, e.offset, e.pcr);
        }
        if ((st = add_event(log, &cap, &e, v)) != CVMA_OK) {
            return st;
        }
        if ((st = note_event(log, &log->events[log->n_events - 1], &seen, v)) != CVMA_OK) {
            return st;
        }
    }
    log->end = r->off; /* the padding (if any) starts here: the loop stopped before it */
    return CVMA_OK;
}

/* A CCEL: one SHA-384 bank and no extend outside CC-MR 1..4 (MR 0 is MRTD: never extended). */
static bool looks_like_ccel(const struct cvma_eventlog *log)
{
    if (log->n_banks != 1 || log->banks[0].alg != CVMA_TPM_ALG_SHA384) {
        return false;
    }
    for (size_t i = 1; i < log->n_events; i++) {
        const struct cvma_eventlog_event *e = &log->events[i];
        if (e->type != CVMA_EV_NO_ACTION && (e->pcr < 1 || e->pcr > CVMA_EVENTLOG_NRTMR)) {
            return false;
        }
    }
    return true;
}

/* see eventlog/eventlog.h */
enum cvma_status cvma_eventlog_parse(const uint8_t *p, size_t len, enum cvma_eventlog_format format,
                                     struct cvma_eventlog *log, struct cvma_verdict *v)
{
    struct cvma_reader r;
    enum cvma_status st;
    bool agile;

    memset(log, 0, sizeof *log);
    if (len > CVMA_EVENTLOG_MAX_SIZE) {
        return cvma_reject(v, CVMA_R_EVENTLOG_TOO_MANY_EVENTS,
                           "event log of %zu bytes; at most %u are read", len,
                           (unsigned)CVMA_EVENTLOG_MAX_SIZE);
    }
    if (len < 32) {
        return cvma_reject(v, CVMA_R_EVENTLOG_TRUNCATED,
                           "event log of %zu bytes: shorter than one event (32 bytes)", len);
    }
    if ((log->raw.p = malloc(len)) == NULL) {
        return CVMA_E_NOMEM;
    }
    memcpy(log->raw.p, p, len);
    log->raw.len = len;
    cvma_reader_init(&r, log->raw.p, len);

    agile = has_spec_id(log->raw.p, len);
    if (!agile && (format == CVMA_EVENTLOG_TCG || format == CVMA_EVENTLOG_CCEL)) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "no Spec ID Event03 header: not a crypto-agile log or CCEL");
    }
    if (agile && format == CVMA_EVENTLOG_TCG_SHA1) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "a Spec ID Event03 header: a crypto-agile log, not a SHA-1 log");
    }
    if (agile) {
        /* PFP 10.4.5.1: the first record is in the SHA-1 format; its data is the header. */
        struct cvma_eventlog_event e;
        struct cvma_span sha1;
        uint32_t size = 0;
        memset(&e, 0, sizeof e);
        if (!cvma_reader_u32le(&r, &e.pcr) || !cvma_reader_u32le(&r, &e.type) ||
            !cvma_reader_span(&r, 20, &sha1) || !cvma_reader_u32le(&r, &size) ||
            !cvma_reader_span(&r, size, &e.data)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_TRUNCATED,
                               "Spec ID Event03 of %u bytes runs past the end of the log", size);
        }
        /* PFP 10.4.5.1: the header event is EV_NO_ACTION (detection checked the type) with
         * a SHA-1 digest of zeros; its index is checked once the format is known. */
        if (!cvma_span_is_zero(&sha1)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                               "Spec ID Event03: its SHA-1 digest field is not all zeros");
        }
        if ((st = parse_spec_id(log, e.data, v)) != CVMA_OK) {
            return st;
        }
        if ((st = parse_events(log, &r, true, &e, v)) != CVMA_OK) {
            return st;
        }
        log->format = format != CVMA_EVENTLOG_AUTO ? format
                      : looks_like_ccel(log)       ? CVMA_EVENTLOG_CCEL
                                                   : CVMA_EVENTLOG_TCG;
        /* PFP 10.4.5.1: PCR 0. A CCEL's TDVF logs it at CC-MR 1 (RTMR 0, where it maps
         * PCR 0) or 0; both are seen in real CCELs. */
        uint32_t hdr_index = log->events[0].pcr;
        if (hdr_index != 0 && !(log->format == CVMA_EVENTLOG_CCEL && hdr_index == 1)) {
            return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID, "Spec ID Event03: index %u (%s)",
                               hdr_index,
                               log->format == CVMA_EVENTLOG_CCEL ? "a CCEL's is CC-MR 0 or 1"
                                                                 : "PCR 0 required");
        }
    } else {
        log->banks[0].alg = CVMA_TPM_ALG_SHA1;
        log->banks[0].size = 20;
        log->banks[0].name = "sha1";
        log->banks[0].replayable = true;
        log->n_banks = 1;
        log->format = CVMA_EVENTLOG_TCG_SHA1;
        if ((st = parse_events(log, &r, false, NULL, v)) != CVMA_OK) {
            return st;
        }
    }
    if (log->format == CVMA_EVENTLOG_CCEL) {
        if (log->n_banks != 1 || log->banks[0].alg != CVMA_TPM_ALG_SHA384) {
            return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                               "CCEL: the header must announce SHA-384 alone (%zu banks)",
                               log->n_banks);
        }
        for (size_t i = 1; i < log->n_events; i++) {
            const struct cvma_eventlog_event *e = &log->events[i];
            if (e->type != CVMA_EV_NO_ACTION && (e->pcr < 1 || e->pcr > CVMA_EVENTLOG_NRTMR)) {
                return cvma_reject(v, CVMA_R_EVENTLOG_INDEX_INVALID,
                                   "CCEL event #%zu at offset 0x%zx: CC-MR index %u extends "
                                   "nothing (1..4 are RTMR 0..3; 0 is MRTD)",
                                   i, e->offset, e->pcr);
            }
        }
    }
    return CVMA_OK;
}

static void extend(const EVP_MD *md, uint8_t *reg, size_t size, const uint8_t *digest)
{
    uint8_t buf[2 * CVMA_EVENTLOG_MAX_DIGEST];
    unsigned int out_len = 0;
    memcpy(buf, reg, size);
    memcpy(buf + size, digest, size);
    if (EVP_Digest(buf, 2 * size, reg, &out_len, md, NULL) != 1 || out_len != size) {
        /* A digest that cannot be computed poisons the register: it never matches a quote. */
        memset(reg, 0xA5, size);
    }
}

/* see eventlog/eventlog.h */
void cvma_eventlog_replay(const struct cvma_eventlog *log, struct cvma_eventlog_replay *out)
{
    memset(out, 0, sizeof *out);
    out->n_banks = log->n_banks;
    bool ccel = log->format == CVMA_EVENTLOG_CCEL;
    for (size_t b = 0; b < log->n_banks; b++) {
        const EVP_MD *md = cvma_eventlog_alg_md(log->banks[b].alg);
        size_t size = log->banks[b].size;
        if (md == NULL || (size_t)EVP_MD_get_size(md) != size) {
            continue;
        }
        out->valid[b] = true;
        if (!ccel) {
            /* PFP 3.3.4: PCRs 17..22 (DRTM) reset to all ones; the rest to zero, PCR 0 with
             * the startup locality in its last byte (PFP 10.4.5.3). */
            for (unsigned i = 17; i <= 22; i++) {
                memset(out->reg[b][i], 0xFF, size);
            }
            if (log->has_startup_locality) {
                out->reg[b][0][size - 1] = log->startup_locality;
            }
        }
        /* The Spec ID header is EV_NO_ACTION; a legacy log's first record is an event. */
        for (size_t i = 0; i < log->n_events; i++) {
            const struct cvma_eventlog_event *e = &log->events[i];
            if (e->type == CVMA_EV_NO_ACTION || e->digest[b] == NULL) {
                continue; /* PFP 10.4.5: EV_NO_ACTION is never extended */
            }
            /* CCEL: CC-MR index i is RTMR i-1 (checked to be 1..4 by the parser). */
            uint32_t reg = ccel ? e->pcr - 1 : e->pcr;
            extend(md, out->reg[b][reg], size, e->digest[b]);
            out->extended[b] |= 1u << reg;
        }
    }
}

/* The first event (in log order) that extends a register of mask in bank b, or NULL. */
static const struct cvma_eventlog_event *first_extending(const struct cvma_eventlog *log, size_t b,
                                                         uint32_t mask)
{
    bool ccel = log->format == CVMA_EVENTLOG_CCEL;
    for (size_t i = 0; i < log->n_events; i++) {
        const struct cvma_eventlog_event *e = &log->events[i];
        if (e->type == CVMA_EV_NO_ACTION || e->digest[b] == NULL) {
            continue;
        }
        uint32_t reg = ccel ? e->pcr - 1 : e->pcr;
        if (mask & (1u << reg)) {
            return e;
        }
    }
    return NULL;
}

static enum cvma_status report_mismatch(const struct cvma_eventlog *log,
                                        const struct cvma_eventlog_replay *rp, size_t b,
                                        uint32_t diff, const uint8_t *quoted_first,
                                        const char *what, struct cvma_verdict *v)
{
    char list[128] = "", rhex[2 * CVMA_EVENTLOG_MAX_DIGEST + 1],
         qhex[2 * CVMA_EVENTLOG_MAX_DIGEST + 1], ev[160];
    size_t used = 0, size = log->banks[b].size;
    int first = -1;
    bool ccel = log->format == CVMA_EVENTLOG_CCEL;

    for (int i = 0; i < CVMA_EVENTLOG_NPCR; i++) {
        if (diff & (1u << i)) {
            int n = snprintf(list + used, sizeof list - used, "%s%d", used ? ", " : "", i);
            if (n > 0 && (size_t)n < sizeof list - used) {
                used += (size_t)n;
            }
            if (first < 0) {
                first = i;
            }
        }
    }
    cvma_hex_encode(rp->reg[b][first], size, rhex, sizeof rhex);
    cvma_hex_encode(quoted_first, size, qhex, sizeof qhex);
    const struct cvma_eventlog_event *e = first_extending(log, b, diff);
    if (e != NULL) {
        const char *tn = cvma_eventlog_type_name(e->type);
        /* Only where to start looking: the log cannot tell which event is false. */
        snprintf(ev, sizeof ev,
                 "first event extending %s: #%zu %s (0x%08x) in %s %u at offset 0x%zx",
                 used > 2 ? "them" : "it", e->index, tn ? tn : "unknown type", e->type,
                 ccel ? "CC-MR" : "PCR", e->pcr, e->offset);
    } else {
        snprintf(ev, sizeof ev, "no event in the log extends %s", used > 2 ? "them" : "it");
    }
    return cvma_reject(v, CVMA_R_EVENTLOG_REPLAY_MISMATCH,
                       "%s bank: %s %s differ%s from the quote; %s; %s %d: replay %s, quoted %s",
                       log->banks[b].name ? log->banks[b].name : "?", what, list,
                       strchr(list, ',') ? "" : "s", ev, what, first, rhex, qhex);
}

/* see eventlog/eventlog.h */
enum cvma_status cvma_eventlog_check_kind(const struct cvma_eventlog *log, bool rtmrs,
                                          struct cvma_verdict *v)
{
    if (log->format == CVMA_EVENTLOG_CCEL && !rtmrs) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "a CCEL records RTMRs, not PCRs: compare it with a TDX quote");
    }
    if (log->format != CVMA_EVENTLOG_CCEL && rtmrs) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "a %s log records PCRs: only a CCEL (SHA-384, CC-MR indices) replays "
                           "to a TDX quote's RTMRs",
                           cvma_eventlog_format_name(log->format));
    }
    return CVMA_OK;
}

/* see eventlog/eventlog.h */
enum cvma_status cvma_eventlog_compare_pcrs(const struct cvma_eventlog *log,
                                            const struct cvma_eventlog_replay *rp,
                                            const struct cvma_eventlog_quoted *quoted,
                                            size_t n_quoted, struct cvma_verdict *v)
{
    enum cvma_status st = cvma_eventlog_check_kind(log, false, v);
    if (st != CVMA_OK) {
        return st;
    }
    for (size_t q = 0; q < n_quoted; q++) {
        const struct cvma_eventlog_quoted *qb = &quoted[q];
        int b = cvma_eventlog_bank_index(log, qb->alg);
        const char *an = cvma_eventlog_alg_name(qb->alg);
        if (b < 0 || !rp->valid[b]) {
            st = cvma_reject(v, CVMA_R_EVENTLOG_BANK_MISSING,
                             "the quote covers the %s bank (0x%04x); the log %s", an ? an : "?",
                             qb->alg, b < 0 ? "has no digests for it" : "cannot be replayed in it");
            continue;
        }
        uint32_t diff = 0;
        const uint8_t *first = NULL;
        for (int i = 0; i < CVMA_EVENTLOG_NPCR; i++) {
            if ((qb->mask & (1u << i)) &&
                memcmp(rp->reg[b][i], qb->reg[i], log->banks[b].size) != 0) {
                diff |= 1u << i;
                if (first == NULL) {
                    first = qb->reg[i];
                }
            }
        }
        if (diff != 0) {
            st = report_mismatch(log, rp, (size_t)b, diff, first, "PCR", v);
        }
    }
    return st;
}

/* see eventlog/eventlog.h */
enum cvma_status cvma_eventlog_compare_rtmrs(const struct cvma_eventlog *log,
                                             const struct cvma_eventlog_replay *rp,
                                             const uint8_t rtmr[4][48], struct cvma_verdict *v)
{
    char hex[97];
    if (cvma_eventlog_check_kind(log, true, v) != CVMA_OK) {
        return CVMA_REJECTED;
    }
    if (!rp->valid[0]) {
        return cvma_reject(v, CVMA_R_EVENTLOG_HEADER_INVALID,
                           "the CCEL's SHA-384 bank was not replayed: nothing to compare with "
                           "the RTMRs");
    }
    uint32_t diff = 0;
    const uint8_t *first = NULL;
    for (int i = 0; i < 3; i++) {
        if (memcmp(rp->reg[0][i], rtmr[i], 48) != 0) {
            diff |= 1u << i;
            if (first == NULL) {
                first = rtmr[i];
            }
        }
    }
    cvma_hex_encode(rtmr[3], 48, hex, sizeof hex);
    (void)cvma_verdict_add(
            v, CVMA_R_EVENTLOG_RTMR3_NOT_IN_LOG, CVMA_SEV_INFO,
            "RTMR 3 = %s: runtime extends the CCEL does not record (%s), not "
            "compared",
            hex, (rp->extended[0] & 8u) ? "the log extends CC-MR 4 too" : "none in the log");
    if (diff != 0) {
        return report_mismatch(log, rp, 0, diff, first, "RTMR", v);
    }
    return CVMA_OK;
}

/* see eventlog/eventlog.h */
bool cvma_eventlog_digest_is_hash_of(const struct cvma_eventlog *log,
                                     const struct cvma_eventlog_event *e, const uint8_t *p,
                                     size_t n)
{
    for (size_t b = 0; b < log->n_banks; b++) {
        const EVP_MD *md = cvma_eventlog_alg_md(log->banks[b].alg);
        uint8_t h[EVP_MAX_MD_SIZE];
        unsigned hl = 0;
        if (md != NULL && e->digest[b] != NULL && EVP_Digest(p, n, h, &hl, md, NULL) == 1 &&
            hl == log->banks[b].size && memcmp(h, e->digest[b], hl) == 0) {
            return true;
        }
    }
    return false;
}

/* see eventlog/eventlog.h */
bool cvma_eventlog_digest_is_hash_of_text(const struct cvma_eventlog *log,
                                          const struct cvma_eventlog_event *e, struct cvma_span t)
{
    struct cvma_reader last;
    uint8_t end = 0xFF;
    cvma_reader_init(&last, t.p, t.len);
    bool nul_ended = t.len > 0 && cvma_reader_skip(&last, t.len - 1) &&
                     cvma_reader_u8(&last, &end) && end == 0;
    return cvma_eventlog_digest_is_hash_of(log, e, t.p, t.len) ||
           (nul_ended && cvma_eventlog_digest_is_hash_of(log, e, t.p, t.len - 1));
}
