/*
 * Measured-boot event logs: the TCG PC Client crypto-agile log (binary_bios_measurements: a
 * "Spec ID Event03" header in the SHA-1 event format, then TCG_PCR_EVENT2 records with one
 * digest per bank), the legacy SHA-1-only log (TCG_PCClientPCREvent records throughout), and
 * a TDX CCEL (the ACPI "Confidential Computing Event Log": the crypto-agile format, SHA-384,
 * with CC measurement register indices). See docs/eventlog.md.
 *
 * What this module trusts: nothing in the log. A log is a claim about what was extended; it
 * means something only when its replay equals PCR values a verified quote covers (or a
 * verified TDX quote's RTMRs), which cvma_eventlog_compare_pcrs / _rtmrs check. The claims
 * (boot applications, command line, GPT, Secure Boot) are as trustworthy as that comparison.
 * What is not checked here: that an event's digest is the hash of its data (firmware hashes
 * the measured object, not the event data, for most event types), and the order of events
 * against a platform's boot policy (that is appraisal).
 */
#ifndef CVMA_EVENTLOG_EVENTLOG_H
#define CVMA_EVENTLOG_EVENTLOG_H

#include <jansson.h>
#include <openssl/evp.h>

#include "common/verdict.h"
#include "result/result.h"

#define CVMA_EVENTLOG_MAX_BANKS  8
#define CVMA_EVENTLOG_MAX_DIGEST 64
#define CVMA_EVENTLOG_NPCR       24 /* PCR 0..23 (TCG PC Client) */
#define CVMA_EVENTLOG_NRTMR      4  /* RTMR 0..3 (TDX) */
#define CVMA_EVENTLOG_MAX_EVENTS 100000
#define CVMA_EVENTLOG_MAX_SIZE   (16u << 20)

/* TCG PC Client Platform Firmware Profile, section 10.4.1: event types used in code. */
#define CVMA_EV_PREBOOT_CERT               0x00000000u
#define CVMA_EV_POST_CODE                  0x00000001u
#define CVMA_EV_NO_ACTION                  0x00000003u
#define CVMA_EV_SEPARATOR                  0x00000004u
#define CVMA_EV_ACTION                     0x00000005u
#define CVMA_EV_EVENT_TAG                  0x00000006u
#define CVMA_EV_S_CRTM_VERSION             0x00000008u
#define CVMA_EV_IPL                        0x0000000Du
#define CVMA_EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define CVMA_EV_EFI_VARIABLE_BOOT          0x80000002u
#define CVMA_EV_EFI_BOOT_SERVICES_APP      0x80000003u
#define CVMA_EV_EFI_GPT_EVENT              0x80000006u
#define CVMA_EV_EFI_VARIABLE_AUTHORITY     0x800000E0u

/* TPM_ALG_ID (TPM 2.0 Part 2, Table 9) of the banks that can be replayed. */
#define CVMA_TPM_ALG_SHA1   0x0004u
#define CVMA_TPM_ALG_SHA256 0x000Bu
#define CVMA_TPM_ALG_SHA384 0x000Cu
#define CVMA_TPM_ALG_SHA512 0x000Du

enum cvma_eventlog_format {
    CVMA_EVENTLOG_AUTO = 0, /* detect: Spec ID header or not; CCEL by its indices */
    CVMA_EVENTLOG_TCG,      /* crypto-agile TCG PC Client log */
    CVMA_EVENTLOG_TCG_SHA1, /* legacy SHA-1-only TCG log (no Spec ID Event03) */
    CVMA_EVENTLOG_CCEL,     /* TDX CCEL: CC-MR index i is RTMR i-1 */
};

struct cvma_eventlog_bank {
    uint16_t alg;
    uint16_t size;    /* digest size announced by the header */
    bool replayable;  /* an algorithm cvmattest can hash */
    const char *name; /* "sha256", or NULL for an algorithm cvmattest does not know */
};

struct cvma_eventlog_event {
    size_t index;  /* 0 = the header event */
    size_t offset; /* of the record in the log */
    uint32_t pcr;  /* as in the log: PCR index, or a CCEL's CC-MR index */
    uint32_t type;
    /* digest[i] is for banks[i] of the log (banks[i].size bytes, inside the log's copy) */
    const uint8_t *digest[CVMA_EVENTLOG_MAX_BANKS];
    struct cvma_span data; /* points into the log's own copy of the bytes */
};

struct cvma_eventlog {
    enum cvma_eventlog_format format;
    struct cvma_buf raw; /* owned copy of the input; events' data points into it */
    struct cvma_eventlog_bank banks[CVMA_EVENTLOG_MAX_BANKS];
    size_t n_banks;
    struct cvma_eventlog_event *events; /* owned; events[0] is the header (or first) event */
    size_t n_events;
    bool has_startup_locality;
    uint8_t startup_locality;
    size_t end;         /* offset after the last event */
    size_t padding_len; /* 0xFF / 0x00 bytes after it */
};

/* Registers after replay: PCR 0..23 per bank, or RTMR 0..3 (one SHA-384 bank) for a CCEL. */
struct cvma_eventlog_replay {
    size_t n_banks; /* = log->n_banks; banks that are not replayable have valid[] false */
    bool valid[CVMA_EVENTLOG_MAX_BANKS];
    uint8_t reg[CVMA_EVENTLOG_MAX_BANKS][CVMA_EVENTLOG_NPCR][CVMA_EVENTLOG_MAX_DIGEST];
    uint32_t extended[CVMA_EVENTLOG_MAX_BANKS]; /* bit i: register i was extended */
};

/* Register values to compare a replay with: one bank, by index (mask bit i: reg[i] given). */
struct cvma_eventlog_quoted {
    uint16_t alg;
    uint32_t mask;
    uint8_t reg[CVMA_EVENTLOG_NPCR][CVMA_EVENTLOG_MAX_DIGEST];
};

/* True when the bytes start like an event log (TCG crypto-agile, legacy SHA-1, or CCEL). */
bool cvma_eventlog_detect(const uint8_t *p, size_t len);

/*
 * Parses a log (format AUTO detects it). log owns a copy of the bytes afterwards; free with
 * cvma_eventlog_cleanup (also after a failure). Reasons: EVENTLOG_TRUNCATED,
 * EVENTLOG_HEADER_INVALID, EVENTLOG_DIGEST_INVALID, EVENTLOG_INDEX_INVALID,
 * EVENTLOG_TOO_MANY_EVENTS, EVENTLOG_TRAILING_DATA, EVENTLOG_STARTUP_LOCALITY_INVALID (errors:
 * CVMA_REJECTED), EVENTLOG_PADDING and
 * EVENTLOG_DUPLICATE_SEPARATOR (info). CVMA_E_NOMEM on allocation failure.
 */
CVMA_MUST_USE enum cvma_status cvma_eventlog_parse(const uint8_t *p, size_t len,
                                                   enum cvma_eventlog_format format,
                                                   struct cvma_eventlog *log,
                                                   struct cvma_verdict *v);
void cvma_eventlog_cleanup(struct cvma_eventlog *log);

/*
 * Replays every event as it is (quirks included): EV_NO_ACTION never extends; StartupLocality
 * sets PCR 0's start value; PCRs 17..22 start at all 0xFF, the others at zero. For a CCEL the
 * CC-MR index i extends RTMR i-1 (TDX guest-host communication interface, CCEL; UEFI
 * EFI_CC_MEASUREMENT_PROTOCOL: MR index 0 is MRTD, 1..4 are RTMR 0..3).
 */
void cvma_eventlog_replay(const struct cvma_eventlog *log, struct cvma_eventlog_replay *out);

/*
 * Reads quoted PCR banks from JSON text (eventlog --pcrs: {"sha256": {"0": "<hex>", ...},
 * ...}): each member a bank named sha1, sha256, sha384 or sha512 with an object of PCRs, each
 * PCR a decimal index 0..23 (digits only, given once) with a hex digest of the bank's size.
 * *out (calloc'd, *n_out banks; the caller frees it) on success. false with err, *out NULL
 * and *n_out 0 otherwise.
 */
CVMA_MUST_USE bool cvma_eventlog_quoted_read(const uint8_t *p, size_t len,
                                             struct cvma_eventlog_quoted **out, size_t *n_out,
                                             char *err, size_t err_len);

/*
 * Checks that a log is of the kind the registers it is to be compared with record: a TCG log
 * (tcg, tcg-sha1) for PCRs (rtmrs false), a CCEL for a TDX quote's RTMRs (rtmrs true). A log
 * of the other kind compares nothing: EVENTLOG_HEADER_INVALID, CVMA_REJECTED. CVMA_OK when
 * they agree. cvma_eventlog_compare_pcrs and _rtmrs call it first.
 */
CVMA_MUST_USE enum cvma_status cvma_eventlog_check_kind(const struct cvma_eventlog *log, bool rtmrs,
                                                        struct cvma_verdict *v);

/*
 * Compares a replay with quoted PCR banks. For each quoted bank: EVENTLOG_BANK_MISSING when
 * the log has no replayable bank of that algorithm; EVENTLOG_REPLAY_MISMATCH naming the bank,
 * the differing PCRs and the first event (in log order) that extended one of them. CVMA_OK
 * when every quoted value equals the replay, else CVMA_REJECTED.
 */
CVMA_MUST_USE enum cvma_status cvma_eventlog_compare_pcrs(const struct cvma_eventlog *log,
                                                          const struct cvma_eventlog_replay *rp,
                                                          const struct cvma_eventlog_quoted *quoted,
                                                          size_t n_quoted, struct cvma_verdict *v);

/*
 * Compares a replay with quoted PCR banks as verification does (cvma_eventlog_verify_pcrs, and
 * `cvmattest eventlog --pcrs`): a quoted PCR that no event extends and that does not hold its
 * start value is left out (EVENTLOG_PCR_NOT_IN_LOG, info: the log says nothing about it, IMA's
 * PCR 10); the rest as cvma_eventlog_compare_pcrs. compared[b] receives the PCRs compared in
 * bank b of the log. CVMA_OK when they agree; CVMA_REJECTED when one differs or a bank is
 * missing; CVMA_UNDECIDED when nothing is left to compare (none quoted, or every one left out:
 * EVENTLOG_NOT_COMPARED, warning), which vouches for nothing; CVMA_E_NOMEM (v->oom set).
 */
CVMA_MUST_USE enum cvma_status
cvma_eventlog_compare_quoted(const struct cvma_eventlog *log, const struct cvma_eventlog_replay *rp,
                             const struct cvma_eventlog_quoted *quoted, size_t n_quoted,
                             uint32_t compared[CVMA_EVENTLOG_MAX_BANKS], struct cvma_verdict *v);

/*
 * Compares a CCEL replay with a TDX quote's RTMR 0..2 (EVENTLOG_REPLAY_MISMATCH as above).
 * RTMR 3 holds runtime extends that the CCEL does not record: EVENTLOG_RTMR3_NOT_IN_LOG (info)
 * with its value, never compared. EVENTLOG_HEADER_INVALID when log is not a CCEL.
 */
CVMA_MUST_USE enum cvma_status cvma_eventlog_compare_rtmrs(const struct cvma_eventlog *log,
                                                           const struct cvma_eventlog_replay *rp,
                                                           const uint8_t rtmr[4][48],
                                                           struct cvma_verdict *v);

/*
 * The claims (as cvma_eventlog_claims_json) drawn as verification draws them: from the events
 * of the registers bank_mask names (bit i: PCR i, or RTMR i of a CCEL, compared in bank b of
 * the log), each event keeping only those banks' digests, and the event data the claims read
 * checked against its digest (EVENTLOG_EVENT_DATA_MISMATCH: CVMA_REJECTED, *out NULL). Only
 * for registers that were compared with a quote and agreed. *out is owned by the caller.
 */
CVMA_MUST_USE enum cvma_status
cvma_eventlog_checked_claims(const struct cvma_eventlog *log,
                             const uint32_t bank_mask[CVMA_EVENTLOG_MAX_BANKS], json_t **out,
                             struct cvma_verdict *v);

/*
 * An event log that came with evidence (bundle part "event_log"), checked against the registers
 * the verified evidence vouches for (eventlog_verify.c). Called by a kind's verification once
 * the quote verified; reasons go to res->verdict (parse errors, EVENTLOG_REPLAY_MISMATCH naming
 * the first event and register, EVENTLOG_BANK_MISSING); only when the replay agrees are the
 * log's claims set as res->claims.eventlog: {"format", "events", "rtmr" or "pcrs" (the
 * registers compared), efi_boot_applications, kernel_cmdline, gpt, secure_boot}.
 *
 * _rtmrs: a CCEL against a TDX quote's RTMR 0..2 (RTMR 3: EVENTLOG_RTMR3_NOT_IN_LOG, info).
 * _pcrs: a TCG log against the PCR values a TPM quote's digest covers. A covered PCR that no
 * event extends and that does not hold its start value is not compared
 * (EVENTLOG_PCR_NOT_IN_LOG, info): the log says nothing about it. When no quoted PCR is left
 * to compare (none quoted, or every one left out so), EVENTLOG_NOT_COMPARED (warning) and no
 * claims.
 */
void cvma_eventlog_verify_rtmrs(const uint8_t *p, size_t len, const uint8_t rtmr[4][48],
                                struct cvma_result *res);
void cvma_eventlog_verify_pcrs(const uint8_t *p, size_t len,
                               const struct cvma_eventlog_quoted *quoted, size_t n_quoted,
                               struct cvma_result *res);

/* Names: "EV_IPL", "sha256" (NULL for unknown), "tcg", "tcg-sha1", "ccel". */
const char *cvma_eventlog_type_name(uint32_t type);
/* The type cvma_eventlog_type_name gives name for; false (and *type 0) for any other name. */
bool cvma_eventlog_type_of_name(const char *name, uint32_t *type);
const char *cvma_eventlog_alg_name(uint16_t alg);
/* A TPM hash algorithm's digest size and OpenSSL digest (sha1, sha256, sha384, sha512; 0 and
 * NULL for any other). The TPM2_ALG_ values of tss2 are the same numbers. */
size_t cvma_eventlog_alg_size(uint16_t alg);
/* The algorithm of a name cvma_eventlog_alg_name gives ("sha256"), 0 for any other. */
uint16_t cvma_eventlog_alg_of_name(const char *name);
const EVP_MD *cvma_eventlog_alg_md(uint16_t alg);
/* The banks a TPM quote and a policy know, in this order: 0 sha1, 1 sha256, 2 sha384,
 * 3 sha512 (CVMA_EVENTLOG_BANKS); the algorithm of bank b, 0 for any other b. */
#define CVMA_EVENTLOG_BANKS 4
uint16_t cvma_eventlog_bank_alg(size_t b);
const char *cvma_eventlog_format_name(enum cvma_eventlog_format f);
/* The bank index of alg in the log, or -1. */
int cvma_eventlog_bank_index(const struct cvma_eventlog *log, uint16_t alg);

/*
 * JSON (eventlog_json.c). The replay: {"pcrs": {"sha256": {"0": hex, ...}, ...}} for a TCG
 * log (registers 0..23), {"rtmr": {"0": hex, ..., "3": hex}} for a CCEL.
 */
json_t *cvma_eventlog_replay_json(const struct cvma_eventlog *log,
                                  const struct cvma_eventlog_replay *rp);
/* The events: [{"index", "pcr" (or "mr_index" and "rtmr"), "type", "digests", "data_size",
 * "text"?}]. */
json_t *cvma_eventlog_events_json(const struct cvma_eventlog *log);
/*
 * The claims of the events that matter for appraisal: efi_boot_applications (digests, device
 * path text), kernel_cmdline (the GRUB kernel_cmdline of PCR 8; null when there is none,
 * when PCR 8 holds several different ones or an event that could hide one), gpt (disk GUID,
 * partitions), secure_boot (enabled, variables measured with sizes and SHA-256 of their data,
 * authorities). No claim lets an event's type, or data its digest does not cover, decide
 * that the event does not count (docs/eventlog.md).
 */
json_t *cvma_eventlog_claims_json(const struct cvma_eventlog *log);
/* GRUB's prefixes of the texts it measures (its digest is the hash of what follows), the
 * kernel command line's first: the claims and verification's data check read the same. */
#define CVMA_EVENTLOG_GRUB_PREFIXES    6
#define CVMA_EVENTLOG_CMDLINE_PREFIXES 2
extern const char *const cvma_eventlog_grub_prefixes[CVMA_EVENTLOG_GRUB_PREFIXES];
/* True when the event's digest in some bank of the log (a bank it still has a digest for) is
 * the hash of p[0..n). */
bool cvma_eventlog_digest_is_hash_of(const struct cvma_eventlog *log,
                                     const struct cvma_eventlog_event *e, const uint8_t *p,
                                     size_t n);
/* The same for a text as GRUB measures it: with, or without, the NUL that ends it in t. */
bool cvma_eventlog_digest_is_hash_of_text(const struct cvma_eventlog *log,
                                          const struct cvma_eventlog_event *e, struct cvma_span t);
/*
 * What `cvmattest show` prints for a log: format, banks, event count, replay, claims. NULL
 * on a parse failure (reasons in v). *heading is set for text output.
 */
json_t *cvma_eventlog_show(const uint8_t *p, size_t len, const char **heading,
                           struct cvma_verdict *v);

#endif
