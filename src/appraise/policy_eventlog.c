/*
 * Appraisal of a TPM quote's AK and PCRs (tpm.ak_spki_sha256, tpm.pcrs) and of the claims of an
 * event log that replayed to the verified registers (eventlog), docs/policy.md. Both read the
 * JSON the verifiers keep for these claims: claims.tpm (the quote's object; its pcrs hold only
 * values the quote's digest covers) and claims.eventlog (set only when the log agreed with the
 * quote). A rule never passes for want of a claim: a PCR the quote does not cover, a missing
 * log, a log with no command line each fail their rule by name. Nor does it pass on registers
 * a quote by an AK nothing vouches for claims (no hardware report binds it, the policy does not
 * pin it), nor on the Azure runtime claims that name such an AK: those fail with POLICY_TPM_AK
 * (docs/tpm.md, "Why a quote alone is never affirming"). For azure-snp, azure-tdx and svsm-vtpm
 * the hardware report vouches for the AK only when the policy pins its launch identity
 * (cvma_policy_pins_launch, docs/vtpm-binding.md).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "appraise/policy_internal.h"
#include "common/hex.h"
#include "eventlog/eventlog.h"
#include "verifier/kind.h"

/* tpm.pcrs on the quote's claims tpm (its pcrs hold only values the quote's digest covers). */
static void appraise_pcrs(const struct pol_tpm *t, const json_t *tpm, struct cvma_verdict *v)
{
    json_t *pcrs = json_object_get(tpm, "pcrs");
    for (size_t b = 0; b < POL_TPM_BANKS; b++) {
        for (size_t i = 0; i < POL_TPM_PCRS; i++) {
            const struct pol_values *want = &t->pcrs[b][i];
            char key[4], whex[129];
            uint8_t got[64];
            size_t got_len = 0;
            if (!want->set) {
                continue;
            }
            snprintf(key, sizeof key, "%zu", i);
            const char *h = json_string_value(
                    json_object_get(json_object_get(pcrs, cvma_pol_tpm_bank_name(b)), key));
            cvma_hex_encode(want->v, want->len, whex, sizeof whex);
            if (h == NULL || !cvma_hex_decode(h, got, sizeof got, &got_len) ||
                got_len != want->len) {
                cvma_reject(v, CVMA_R_POLICY_PCR,
                            "tpm.pcrs.%s.%zu: the quote's digest does not cover this PCR (or no "
                            "value was given for it); expected %s%s",
                            cvma_pol_tpm_bank_name(b), i, whex,
                            want->n > 1 ? " or another allowed value" : "");
                continue;
            }
            bool ok = false;
            for (size_t k = 0; k < want->n && !ok; k++) {
                ok = memcmp(want->v + k * want->len, got, want->len) == 0;
            }
            if (!ok) {
                cvma_reject(v, CVMA_R_POLICY_PCR, "tpm.pcrs.%s.%zu: PCR %zu=%s, expected %s%s",
                            cvma_pol_tpm_bank_name(b), i, i, h, whex,
                            want->n > 1 ? " or another of the allowed values" : "");
            }
        }
    }
}

/* True when some digest of the boot application app (claims.eventlog.efi_boot_applications[])
 * is one of the n allowed (lower-case hex: the policy loader lowers them). shown gets its
 * digests ("sha256 <hex>, ..."), for the reason's detail. */
static bool boot_app_allowed(const json_t *app, char *const *allowed, size_t n, char *shown,
                             size_t shown_len)
{
    const char *bank;
    json_t *d;
    size_t used = 0;
    shown[0] = '\0';
    json_object_foreach(json_object_get(app, "digests"), bank, d)
    {
        const char *h = json_string_value(d);
        if (h == NULL) {
            continue;
        }
        int k = snprintf(shown + used, shown_len - used, "%s%s %s", used ? ", " : "", bank, h);
        used = k > 0 && (size_t)k < shown_len - used ? used + (size_t)k : used;
        for (size_t i = 0; i < n; i++) {
            if (strcasecmp(h, allowed[i]) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* True when hex (a digest of the given bank) is the bank's hash of the len bytes at data. */
static bool digest_of_bytes(const char *bank, const char *hex, const void *data, size_t len)
{
    const EVP_MD *md = cvma_eventlog_alg_md(cvma_eventlog_alg_of_name(bank));
    uint8_t want[EVP_MAX_MD_SIZE], got[64];
    unsigned int wl = 0;
    size_t gl = 0;
    return md != NULL && EVP_Digest(data, len, want, &wl, md, NULL) == 1 &&
           cvma_hex_decode(hex, got, sizeof got, &gl) && gl == wl && memcmp(got, want, wl) == 0;
}

/* True when hex (a digest of the given bank) is the bank's hash of the string data. */
static bool digest_of_data(const char *bank, const char *hex, const char *data)
{
    return digest_of_bytes(bank, hex, data, strlen(data));
}

/*
 * True when the measured event ev is a separator by what was measured: one of its digests is
 * its bank's hash of 00 00 00 00 (or of FF FF FF FF, the error separator; TCG PC Client PFP
 * 3.3.2.2 and 10.4.1). Its type is not looked at: types are not measured, and whoever hands
 * over the log could label an event after a post-boot extend "EV_SEPARATOR", or the real
 * separator something else. Where a digest stands in a register is fixed by the replay.
 */
static bool separator_by_digest(const json_t *ev)
{
    static const uint8_t zeros[4] = {0, 0, 0, 0}, ones[4] = {0xff, 0xff, 0xff, 0xff};
    const char *bank;
    json_t *d;
    json_object_foreach(json_object_get(ev, "digests"), bank, d)
    {
        const char *h = json_string_value(d);
        if (h != NULL && (digest_of_bytes(bank, h, zeros, sizeof zeros) ||
                          digest_of_bytes(bank, h, ones, sizeof ones))) {
            return true;
        }
    }
    return false;
}

/* True when the measured event ev (claims.eventlog.measured_events[]) matches rule r. */
static bool event_matches(const struct pol_event_rule *r, const json_t *ev)
{
    const json_t *reg = json_object_get(ev, r->pcr >= 0 ? "pcr" : "rtmr");
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *bank;
    json_t *d;
    bool digest_ok = r->digest_len == 0, data_ok = r->data == NULL;

    if (!json_is_integer(reg) || json_integer_value(reg) != (r->pcr >= 0 ? r->pcr : r->rtmr)) {
        return false;
    }
    if (r->type != NULL && (type == NULL || strcmp(type, r->type) != 0)) {
        return false;
    }
    json_object_foreach(json_object_get(ev, "digests"), bank, d)
    {
        const char *h = json_string_value(d);
        uint8_t got[64];
        size_t gl = 0;
        if (h == NULL) {
            continue;
        }
        if (!digest_ok && cvma_hex_decode(h, got, sizeof got, &gl) && gl == r->digest_len &&
            memcmp(got, r->digest, gl) == 0) {
            digest_ok = true;
        }
        if (!data_ok && digest_of_data(bank, h, r->data)) {
            data_ok = true;
        }
    }
    return digest_ok && data_ok;
}

/* eventlog.required_events: each rule needs one measured event of the compared registers. */
static void check_required_events(const struct pol_eventlog *e, const json_t *log,
                                  struct cvma_verdict *v)
{
    const json_t *events = json_object_get(log, "measured_events");
    for (size_t i = 0; i < e->n_events; i++) {
        const struct pol_event_rule *r = &e->events[i];
        size_t k, in_reg = 0;
        json_t *ev;
        /* before_separator: a match counts once the register's first separator (by digest)
         * follows it; a match after that separator never counts. */
        bool found = false, matched = false, separated = false;
        json_array_foreach(events, k, ev)
        {
            const json_t *reg = json_object_get(ev, r->pcr >= 0 ? "pcr" : "rtmr");
            if (!json_is_integer(reg) ||
                json_integer_value(reg) != (r->pcr >= 0 ? r->pcr : r->rtmr)) {
                continue;
            }
            in_reg++;
            if (r->before_separator && !separated && separator_by_digest(ev)) {
                separated = true;
                found = found || matched;
                continue;
            }
            if (event_matches(r, ev)) {
                matched = true;
                found = found || !r->before_separator;
            }
        }
        if (!found) {
            char dh[129] = "";
            const char *where = !r->before_separator ? ""
                                : !matched           ? ""
                                : separated ? ": one stands only after the register's first "
                                              "separator (before_separator)"
                                            : ": one stands there, but no separator follows "
                                              "it (before_separator)";
            cvma_hex_encode(r->digest, r->digest_len, dh, sizeof dh);
            cvma_reject(
                    v, CVMA_R_POLICY_REQUIRED_EVENT,
                    "eventlog.required_events[%zu]: no measured event of %s %d%s%s%s%s%s%.200s%s"
                    "%s (%zu events of it compared with the quote)%s",
                    i, r->pcr >= 0 ? "PCR" : "RTMR", r->pcr >= 0 ? r->pcr : r->rtmr,
                    r->type != NULL ? " of type " : "", r->type != NULL ? r->type : "",
                    r->digest_len > 0 ? " with digest " : "", dh,
                    r->data != NULL ? " whose digest is the hash of \"" : "",
                    r->data != NULL ? r->data : "", r->data != NULL ? "\"" : "",
                    r->before_separator ? " before the register's first separator" : "", in_reg,
                    where);
        }
    }
}

/* The next parameter of a kernel command line from *at, as the kernel splits them (its
 * next_arg: spaces separate, double quotes group; a value's quotes, or the whole
 * parameter's, are not part of it): its key (up to '=') and value (NULL: none). False at the
 * end. */
struct kparam {
    const char *key, *val;
    size_t key_len, val_len;
};

static bool next_param(const char **at, struct kparam *p)
{
    const char *s = *at;
    while (*s == ' ' || *s == '\t' || *s == '\n') {
        s++;
    }
    if (*s == '\0') {
        *at = s;
        return false;
    }
    bool quoted = *s == '"', in_quote = quoted;
    const char *start = s + (quoted ? 1 : 0), *eq = NULL, *end = start;
    for (; *end != '\0' && (in_quote || (*end != ' ' && *end != '\t' && *end != '\n')); end++) {
        if (*end == '=' && eq == NULL) {
            eq = end;
        }
        if (*end == '"') {
            in_quote = !in_quote;
        }
    }
    *at = end;
    const char *stop = end;
    if ((quoted || (eq != NULL && eq[1] == '"')) && stop > start && stop[-1] == '"') {
        stop--; /* the closing quote */
    }
    p->key = start;
    if (eq == NULL) {
        p->key_len = (size_t)(stop - start);
        p->val = NULL;
        p->val_len = 0;
        return true;
    }
    p->key_len = (size_t)(eq - start);
    p->val = eq + 1 + (eq[1] == '"' ? 1 : 0);
    p->val_len = stop >= p->val ? (size_t)(stop - p->val) : 0;
    return true;
}

/*
 * Whether a parameter's key is want's: the kernel takes '-' and '_' in a parameter's name as
 * the same character (kernel/params.c parameq, for module and __setup/early parameters alike),
 * so "init-on-free" sets init_on_free. Values are compared as they are.
 */
static bool key_eq(const char *key, const char *want, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char a = key[i] == '-' ? '_' : key[i], b = want[i] == '-' ? '_' : want[i];
        if (a != b) {
            return false;
        }
    }
    return true;
}

/*
 * eventlog.kernel_cmdline_contains: want is a whole parameter of the kernel's command line (up
 * to its "--", after which the parameters are init's). "key=value": the last parameter with
 * that key has that value, as the kernel takes a parameter given twice (a later
 * "module.sig_enforce=0" undoes an earlier "=1"); a bare flag: one parameter is it. Keys match
 * with '-' and '_' the same (key_eq: "init-on-free=0" undoes "init_on_free=1"). A substring
 * would match "module.sig_enforce=10" too. *why says what was found instead, when it helps.
 */
static bool cmdline_has(const char *cmdline, const char *want, const char **why)
{
    const char *eq = strchr(want, '='), *at = cmdline;
    size_t kl = eq != NULL ? (size_t)(eq - want) : strlen(want);
    bool found = false, last_ok = false;
    struct kparam p;
    *why = NULL;
    while (next_param(&at, &p)) {
        if (p.val == NULL && p.key_len == 2 && memcmp(p.key, "--", 2) == 0) {
            break;
        }
        if (p.key_len != kl || !key_eq(p.key, want, kl)) {
            continue;
        }
        found = true;
        if (eq == NULL) {
            last_ok = last_ok || p.val == NULL;
        } else {
            last_ok = p.val != NULL && p.val_len == strlen(eq + 1) &&
                      memcmp(p.val, eq + 1, p.val_len) == 0;
        }
    }
    if (found && !last_ok && eq != NULL) {
        *why = "the last parameter with its key has another value";
    }
    return last_ok;
}

/* Why claims.eventlog.kernel_cmdline can be null (eventlog_json.c). */
#define CMDLINE_ABSENT                                                                       \
    "no GRUB kernel_cmdline event in the compared registers, several different ones, or an " \
    "event there that could hide one, as in every CCEL (pin RTMR 2): none is known to be "   \
    "the one that booted"

/* The eventlog rules on claims.eventlog (set only when the log agreed with the registers). */
static void appraise_eventlog(const struct pol_eventlog *e, struct cvma_result *res)
{
    const json_t *log = res->claims.eventlog;
    struct cvma_verdict *v = &res->verdict;

    if (log == NULL) {
        const struct cvma_kind *k = res->tee != NULL ? cvma_kind_by_name(res->tee) : NULL;
        if (k != NULL && !k->reads_event_log) {
            /* Advice to give the log would be wrong: this kind has no registers a log could be
             * replayed to, so no log can meet the rules (docs/policy.md). */
            cvma_reject(v, CVMA_R_POLICY_EVENTLOG_MISSING,
                        "eventlog: the policy has event-log rules, but %s evidence (kind %s) "
                        "carries no event log and its verification reads none, so they always "
                        "fail for it",
                        k->what, k->name);
            return;
        }
        cvma_reject(v, CVMA_R_POLICY_EVENTLOG_MISSING,
                    "eventlog: the policy has event-log rules, but no event log replayed to the "
                    "verified %s (give the log as the bundle part \"event_log\")",
                    res->tee != NULL && strcmp(res->tee, "tdx") == 0 ? "RTMRs" : "registers");
        return;
    }
    if (e->require_secure_boot) {
        const json_t *en = json_object_get(json_object_get(log, "secure_boot"), "enabled");
        /* The claims hold only the events of registers compared with the quote: a log that
         * measures SecureBoot in a register the quote does not cover shows it unmeasured too. */
        if (!json_is_true(en)) {
            cvma_reject(v, CVMA_R_POLICY_SECURE_BOOT,
                        "eventlog.secure_boot: the log shows Secure Boot %s",
                        json_is_false(en) ? "disabled (SecureBoot variable not 1)"
                                          : "unmeasured (no SecureBoot variable event in the "
                                            "compared registers (PCR 7 / RTMR 0))");
        }
    }
    const char *cmdline = json_string_value(json_object_get(log, "kernel_cmdline"));
    if (e->kernel_cmdline != NULL && (cmdline == NULL || strcmp(cmdline, e->kernel_cmdline) != 0)) {
        cvma_reject(v, CVMA_R_POLICY_KERNEL_CMDLINE,
                    "eventlog.kernel_cmdline: the measured command line is %s%.200s%s, expected "
                    "\"%.200s\"",
                    cmdline ? "\"" : "", cmdline ? cmdline : "absent (" CMDLINE_ABSENT ")",
                    cmdline ? "\"" : "", e->kernel_cmdline);
    }
    for (size_t i = 0; i < e->n_cmdline_contains; i++) {
        const char *why = NULL;
        if (cmdline == NULL || !cmdline_has(cmdline, e->cmdline_contains[i], &why)) {
            cvma_reject(v, CVMA_R_POLICY_KERNEL_CMDLINE,
                        "eventlog.kernel_cmdline_contains[%zu]: \"%.200s\" is not a parameter of "
                        "the measured command line%s%s%s",
                        i, e->cmdline_contains[i], cmdline ? "" : " (absent: " CMDLINE_ABSENT ")",
                        why != NULL ? ": " : "", why != NULL ? why : "");
        }
    }
    check_required_events(e, log, v);
    /*
     * An allowlist, not a list of what must be present: a guest can extend PCR 4 (RTMR 1) once
     * it runs and log a matching event, so an expected digest among the measured ones proves
     * nothing; only when every boot application measured is one the policy allows does the
     * list say what booted. Each one not allowed is named; none measured fails too.
     */
    const json_t *apps = json_object_get(log, "efi_boot_applications");
    if (e->n_boot_apps > 0 && json_array_size(apps) == 0) {
        cvma_reject(v, CVMA_R_POLICY_BOOT_APPLICATION,
                    "eventlog.efi_boot_applications: the log measured no EFI boot application "
                    "in the compared registers (PCR 4, RTMR 1)");
    }
    for (size_t i = 0; e->n_boot_apps > 0 && i < json_array_size(apps); i++) {
        const json_t *app = json_array_get(apps, i);
        const char *path = json_string_value(json_object_get(app, "path"));
        char shown[400];
        if (!boot_app_allowed(app, e->boot_apps, e->n_boot_apps, shown, sizeof shown)) {
            cvma_reject(v, CVMA_R_POLICY_BOOT_APPLICATION,
                        "eventlog.efi_boot_applications: the boot application of event #%lld "
                        "(%.60s) is not allowed: %s",
                        (long long)json_integer_value(json_object_get(app, "event")),
                        path != NULL ? path : "no path", shown[0] ? shown : "no digest");
        }
    }
}

/*
 * tpm.ak_spki_sha256: the quote's AK (spki, the hex of claims.tpm.ak.spki_sha256, NULL when the
 * result has none) is one the policy trusts. Returns true when it is.
 */
static bool ak_pinned(const struct pol_values *pin, const char *spki, struct cvma_verdict *v)
{
    uint8_t got[32];
    size_t got_len = 0;
    char want[65];

    if (spki == NULL || !cvma_hex_decode(spki, got, sizeof got, &got_len) || got_len != 32) {
        cvma_reject(v, CVMA_R_POLICY_CLAIM_MISSING,
                    "tpm.ak_spki_sha256: the result has no valid claim tpm.ak.spki_sha256 to "
                    "check it against");
        return false;
    }
    for (size_t i = 0; i < pin->n; i++) {
        if (memcmp(pin->v + i * 32, got, 32) == 0) {
            return true;
        }
    }
    cvma_hex_encode(pin->v, 32, want, sizeof want);
    if (pin->n == 1) {
        cvma_reject(v, CVMA_R_POLICY_TPM_AK,
                    "tpm.ak_spki_sha256: the quote's AK has spki_sha256=%.64s, expected %s", spki,
                    want);
    } else {
        cvma_reject(v, CVMA_R_POLICY_TPM_AK,
                    "tpm.ak_spki_sha256: the quote's AK has spki_sha256=%.64s, not one of the %zu "
                    "trusted (first: %s)",
                    spki, pin->n, want);
    }
    return false;
}

/* Why nothing verified vouches for the quote's AK, or NULL when something does (a hardware
 * report binds it whose launch the policy pins: azure-snp, azure-tdx, svsm-vtpm with the AK-EK
 * link proven and launch_pinned, cvma_policy_pins_launch). */
static const char *ak_unvouched(const struct cvma_result *res, bool launch_pinned)
{
    const struct cvma_verdict *v = &res->verdict;
    if (cvma_verdict_has(v, CVMA_R_TPM_AK_NOT_BOUND)) {
        return "no hardware report binds it (TPM_AK_NOT_BOUND)";
    }
    if (cvma_verdict_has(v, CVMA_R_VTPM_AK_EK_UNPROVEN)) {
        return "the SVSM report names the vTPM's EK, but nothing shows the AK is in that TPM "
               "(VTPM_AK_EK_UNPROVEN)";
    }
    if (cvma_verdict_has(v, CVMA_R_VTPM_CREDENTIAL_MISMATCH)) {
        return "its credential activation failed (VTPM_CREDENTIAL_MISMATCH)";
    }
    /* A hardware report refused for what it says vouches for no AK, even when the policy
     * accepts its reason (tpm/tpm.h, cvma_tpm_merge_bound; the service's cnf, the same rule):
     * a debug guest's (allow_debug: the host can read the guest's memory, the paravisor's or
     * SVSM's with the AK's private key in it), or a TDX TCB status refused by default that
     * accepted_tcb_statuses accepts (known advisories). Every error the policy waived is the
     * hardware report's (accept_reason): any one of them. */
    static const char *const bound[] = {"azure-snp", "azure-tdx", "svsm-vtpm"};
    bool vtpm = false;
    for (size_t i = 0; i < sizeof bound / sizeof bound[0]; i++) {
        vtpm = vtpm || (res->tee != NULL && strcmp(res->tee, bound[i]) == 0);
    }
    if (vtpm && cvma_verdict_has_waived_error(v)) {
        return "the hardware report that binds it was refused for an error only the policy "
               "accepted (a debug guest under allow_debug, a TCB status under "
               "accepted_tcb_statuses...): it vouches for no AK";
    }
    /* The report that names the AK (or the EK) is at VMPL 0, or a TD's: what any guest without
     * a paravisor or SVSM, or any TD, makes with report data of its choosing. Only its launch
     * measurement shows the paravisor or SVSM made it (VTPM_PARAVISOR_NOT_PINNED). */
    if (vtpm && !launch_pinned) {
        return strcmp(res->tee, "azure-tdx") == 0
                       ? "the TD quote naming it is one any TD makes with REPORTDATA of its "
                         "choosing, and the paravisor's launch measurement is not pinned "
                         "(tdx.mr_td)"
                       : "the SEV-SNP report naming it is at VMPL 0, which any SEV-SNP guest "
                         "without a paravisor or SVSM makes with REPORT_DATA of its choosing, and "
                         "no launch measurement is pinned (snp.measurements, snp.id_key_digests, "
                         "snp.author_key_digests)";
    }
    return NULL;
}

static void appraise_azure(const struct pol_azure *a, struct cvma_result *res);

/* see appraise/policy_internal.h */
void cvma_policy_appraise_quote(const struct pol_tpm *t, const struct pol_eventlog *e,
                                const struct pol_azure *a, bool launch_pinned,
                                struct cvma_result *res)
{
    struct cvma_verdict *v = &res->verdict;
    bool pcr_rules = t != NULL && t->has_pcrs, log_rules = e != NULL && e->present;
    bool azure_rules = a != NULL && a->present;
    bool pin_rule = t != NULL && t->ak_spki_sha256.set;
    const char *why = ak_unvouched(res, launch_pinned);

    if (!pcr_rules && !pin_rule && ((!log_rules && !azure_rules) || why == NULL)) {
        /* no rule on the quote: the event-log and azure rules alone read their claims */
        if (azure_rules) {
            appraise_azure(a, res);
        }
        if (log_rules) {
            appraise_eventlog(e, res);
        }
        return;
    }
    json_t *claims = cvma_result_claims_json(res);
    if (claims == NULL) {
        v->oom = true;
        return;
    }
    /* The quote's claims: claims.tpm, or the vTPM's: claims.azure.tpm, claims.svsm_vtpm.tpm. */
    json_t *tpm = json_object_get(claims, "tpm");
    if (tpm == NULL) {
        tpm = json_object_get(json_object_get(claims, "azure"), "tpm");
    }
    if (tpm == NULL) {
        tpm = json_object_get(json_object_get(claims, "svsm_vtpm"), "tpm");
    }
    const char *spki =
            json_string_value(json_object_get(json_object_get(tpm, "ak"), "spki_sha256"));
    bool pinned = pin_rule && ak_pinned(&t->ak_spki_sha256, spki, v);

    /*
     * A quote whose AK nothing vouches for says what whoever holds that key chose: anyone can
     * make such a key in a software TPM and sign any PCR values (docs/tpm.md). Its PCRs, the
     * log replayed to them, and the runtime claims that name it (azure), are then appraised
     * only when the policy itself trusts the key.
     */
    if (why != NULL && !pinned && (pcr_rules || log_rules || azure_rules)) {
        char rules[32];
        snprintf(rules, sizeof rules, "%s%s%s%s%s", azure_rules ? "azure" : "",
                 azure_rules && (pcr_rules || log_rules) ? ", " : "", pcr_rules ? "tpm.pcrs" : "",
                 pcr_rules && log_rules ? ", " : "", log_rules ? "eventlog" : "");
        cvma_reject(v, CVMA_R_POLICY_TPM_AK,
                    "%s: the quote's AK (spki_sha256 %.64s) is vouched for by nothing: %s; "
                    "tpm.ak_spki_sha256 %s. Its PCRs, log and claims could be anyone's "
                    "(list a key you trust in tpm.ak_spki_sha256)",
                    rules, spki != NULL ? spki : "unknown", why,
                    pin_rule ? "does not list it" : "is not set");
    } else {
        if (azure_rules) {
            appraise_azure(a, res);
        }
        if (pcr_rules) {
            appraise_pcrs(t, tpm, v);
        }
        if (log_rules) {
            appraise_eventlog(e, res);
        }
    }
    json_decref(claims);
}

/* One boolean runtime claim against its rule (-1: not constrained). */
static void check_vm_flag(int want, const json_t *rc, const char *claim, const char *rule,
                          struct cvma_verdict *v)
{
    const json_t *got = json_object_get(rc, claim);
    if (want < 0) {
        return;
    }
    if (!json_is_boolean(got)) {
        cvma_reject(v, CVMA_R_POLICY_CLAIM_MISSING,
                    "%s: the result has no valid claim azure.runtime_claims.%s to check it "
                    "against",
                    rule, claim);
        return;
    }
    if (json_is_true(got) != (want == 1)) {
        cvma_reject(v, CVMA_R_POLICY_AZURE_RUNTIME_CLAIMS,
                    "%s: the runtime claims say %s=%s, expected %s", rule, claim,
                    json_is_true(got) ? "true" : "false", want == 1 ? "true" : "false");
    }
}

/* azure rules on the runtime claims of a verified azure-snp / azure-tdx result. */
static void appraise_azure(const struct pol_azure *a, struct cvma_result *res)
{
    json_t *claims = cvma_result_claims_json(res);
    struct cvma_verdict *v = &res->verdict;

    if (claims == NULL) {
        v->oom = true;
        return;
    }
    const json_t *rc = json_object_get(json_object_get(claims, "azure"), "runtime_claims");
    check_vm_flag(a->secure_boot, rc, "secure_boot", "azure.secure_boot", v);
    check_vm_flag(a->tpm_enabled, rc, "tpm_enabled", "azure.tpm_enabled", v);
    check_vm_flag(a->console_enabled, rc, "console_enabled", "azure.console_enabled", v);
    if (a->n_vm_unique_ids > 0) {
        const char *id = json_string_value(json_object_get(rc, "vm_unique_id"));
        bool ok = false;
        for (size_t i = 0; id != NULL && i < a->n_vm_unique_ids && !ok; i++) {
            ok = strcasecmp(id, a->vm_unique_ids[i]) == 0;
        }
        if (id == NULL) {
            cvma_reject(v, CVMA_R_POLICY_CLAIM_MISSING,
                        "azure.vm_unique_ids: the result has no valid claim "
                        "azure.runtime_claims.vm_unique_id to check it against");
        } else if (!ok) {
            cvma_reject(v, CVMA_R_POLICY_AZURE_RUNTIME_CLAIMS,
                        "azure.vm_unique_ids: vm_unique_id=%.64s is not one of the %zu allowed "
                        "(first: %.64s)",
                        id, a->n_vm_unique_ids, a->vm_unique_ids[0]);
        }
    }
    json_decref(claims);
}
