/*
 * libFuzzer target: JSON files and fields read by jansson that other targets do not cover.
 * The first byte picks what the rest is; each answer is checked against a reading here of
 * the same text (jansson's tree, walked by the documented rules), so a wrong answer aborts:
 *   0  a registry rollback state file (cvma_bind_rollback_state_read, provider "acme"):
 *      accepted exactly when version >= 1, merkle_root 64 hex digits and provider "acme";
 *      the version and root given back are those; refused: nothing given back
 *   1  a previous result (cvma_result_compare_previous_text against a result naming an AMD
 *      CHIP_ID and a measurement, then against one on a masked CHIP_ID): E_USAGE and no reason
 *      when it is not a result; otherwise PLATFORM_CHANGED exactly when its platform is not
 *      that one, read by the rules of docs/results.md (a masked one is the same as none),
 *      then MEASUREMENT_CHANGED exactly when its claims name a measurement that is not that
 *      one's hex (either case), or name one while it has a tee other than that one's
 *      ("sev-snp": measurements of different kinds are not comparable)
 *   2  an `eventlog --pcrs` file (cvma_eventlog_quoted_read): the banks, masks and digests
 *      given back are the file's; refused: nothing given back
 *   3  EAR claims (signed here, then cvma_ear_verify and cvma_ear_decide at a fixed time; the
 *      next byte picks --max-age): the claims are the payload's, the decision (refusal,
 *      tier, submodule, iat) that of the rules of docs/results.md, with the age (from the
 *      oldest of iat and each submodule's cvmattest.verified-at) computed without overflow
 *   4  the service's configuration file (cvma_serve_config_read): accepted exactly when every
 *      member is known, of its type, and within the limits of docs/service.md; the settings
 *      are the file's, with relative paths under its folder
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/hex.h"
#include "common/timeutil.h"
#include "crypto/jws.h"
#include "eventlog/eventlog.h"
#include "fuzz_check.h"
#include "registry/bind_internal.h"
#include "result/ear.h"
#include "result/result.h"
#include "server/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nibble(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A JSON string of exactly 2 * n hex digits (either case) into out. */
static bool hex_string(const json_t *j, uint8_t *out, size_t n)
{
    const char *s = json_string_value(j);
    if (s == NULL || json_string_length(j) != 2 * n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool is_str(const json_t *j, const char *want)
{
    return json_is_string(j) && json_string_length(j) == strlen(want) &&
           strcmp(json_string_value(j), want) == 0;
}

/* ---- 0: rollback state ---- */

static void rollback_state(const uint8_t *p, size_t n)
{
    uint64_t version = 7;
    uint8_t root[32], want_root[32];
    static const uint8_t zero[32];
    memset(root, 0xa5, sizeof root);
    bool ok = cvma_bind_rollback_state_read(p, n, "acme", &version, root, NULL);

    json_t *j = n <= STATE_FILE_MAX ? json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL)
                                    : NULL;
    const json_t *jv = json_object_get(j, "version");
    bool want = json_is_integer(jv) && json_integer_value(jv) >= 1 &&
                hex_string(json_object_get(j, "merkle_root"), want_root, 32) &&
                is_str(json_object_get(j, "provider"), "acme");
    CHECK(ok == want);
    if (ok) {
        CHECK(version == (uint64_t)json_integer_value(jv));
        CHECK(memcmp(root, want_root, 32) == 0);
    } else {
        CHECK(version == 0 && memcmp(root, zero, 32) == 0);
    }
    json_decref(j);
}

/* ---- 1: previous result ---- */

/* The result's platform read back by the rules of docs/results.md ("Migration": a platform
 * that cannot be read back counts as another, and so does one with no identifier, or with a
 * chip_id where ours has none): the same as ours, an AMD CHIP_ID (id NULL: a masked one, which
 * is the same as none)? */
static bool same_platform(const json_t *pl, const uint8_t *id)
{
    uint8_t got[64];
    const json_t *labels = json_object_get(pl, "labels");
    if (id == NULL || json_object_size(pl) == 0 || !is_str(json_object_get(pl, "vendor"), "amd") ||
        !is_str(json_object_get(pl, "id_type"), "chip_id") ||
        !hex_string(json_object_get(pl, "id"), got, 64) || memcmp(got, id, 64) != 0 ||
        json_object_get(pl, "chip_id") != NULL) {
        return false;
    }
    if (json_is_object(labels)) {
        const char *k;
        const json_t *v;
        if (json_object_size(labels) > CVMA_PLATFORM_LABELS_MAX) {
            return false;
        }
        json_object_foreach((json_t *)(uintptr_t)labels, k, v)
        {
            if (!json_is_string(v) || strlen(k) > CVMA_PLATFORM_LABEL_KEY_MAX ||
                json_string_length(v) > CVMA_PLATFORM_LABEL_VALUE_MAX) {
                return false;
            }
        }
    }
    return true;
}

/* The text compared with our platform: named (masked false) or a masked CHIP_ID. */
static void previous_result_on(const uint8_t *p, size_t n, bool masked)
{
    struct cvma_result res;
    char err[300];
    cvma_result_init(&res, "sev-snp", 0);
    res.platform.present = true;
    res.platform.vendor = CVMA_PLATFORM_AMD;
    res.platform.id_type = CVMA_PLATFORM_CHIP_ID;
    if (!masked) {
        res.platform.has_id = true;
        res.platform.id_len = CVMA_PLATFORM_CHIP_ID_LEN;
        memset(res.platform.id, 0x11, CVMA_PLATFORM_CHIP_ID_LEN);
    }
    res.claims.verified = true;
    res.claims.measurement_len = 48;
    memset(res.claims.measurement, 0x22, res.claims.measurement_len);
    size_t before = res.verdict.n_reasons;

    enum cvma_status st =
            cvma_result_compare_previous_text(&res, (const char *)p, n, err, sizeof err);
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
    const json_t *pl = json_object_get(j, "platform");
    if (!json_is_object(j) || !json_is_object(pl) ||
        !json_is_object(json_object_get(j, "claims"))) {
        CHECK(st == CVMA_E_USAGE && err[0] != '\0');
        CHECK(res.verdict.n_reasons == before);
    } else {
        CHECK(st == CVMA_OK);
        const json_t *m = json_object_get(json_object_get(j, "claims"), "measurement");
        uint8_t got[48];
        bool moved = !same_platform(pl, masked ? NULL : res.platform.id);
        /* Another TEE kind is another measurement (not comparable); no tee: the bytes alone. */
        const json_t *tee = json_object_get(j, "tee");
        bool other_kind = tee != NULL && !is_str(tee, "sev-snp");
        bool changed = json_is_string(m) &&
                       (other_kind || !(hex_string(m, got, sizeof got) &&
                                        memcmp(got, res.claims.measurement, 48) == 0));
        size_t at = before;
        CHECK(res.verdict.n_reasons == before + (moved ? 1 : 0) + (changed ? 1 : 0));
        if (moved) {
            CHECK(res.verdict.reasons[at].code == CVMA_R_PLATFORM_CHANGED);
            CHECK(res.verdict.reasons[at++].severity == CVMA_SEV_WARNING);
        }
        if (changed) {
            CHECK(res.verdict.reasons[at].code == CVMA_R_MEASUREMENT_CHANGED);
            CHECK(res.verdict.reasons[at].severity == CVMA_SEV_WARNING);
        }
    }
    json_decref(j);
    cvma_result_cleanup(&res);
}

static void previous_result(const uint8_t *p, size_t n)
{
    previous_result_on(p, n, false);
    previous_result_on(p, n, true);
}

/* ---- 2: eventlog --pcrs ---- */

static size_t digest_size(const char *bank)
{
    return strcmp(bank, "sha1") == 0     ? 20
           : strcmp(bank, "sha256") == 0 ? 32
           : strcmp(bank, "sha384") == 0 ? 48
           : strcmp(bank, "sha512") == 0 ? 64
                                         : 0;
}

static void quoted_pcrs(const uint8_t *p, size_t n)
{
    struct cvma_eventlog_quoted *q = (struct cvma_eventlog_quoted *)(uintptr_t)1;
    size_t nq = 99, b = 0;
    char err[300];
    bool ok = cvma_eventlog_quoted_read(p, n, &q, &nq, err, sizeof err);
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
    bool want = json_is_object(j);
    const char *bank, *idx;
    json_t *regs, *val;

    json_object_foreach(j, bank, regs)
    {
        size_t ds = digest_size(bank);
        uint32_t mask = 0;
        want = want && ds != 0 && json_is_object(regs);
        if (!want) {
            break;
        }
        json_object_foreach(regs, idx, val)
        {
            unsigned i = 0;
            uint8_t d[64];
            /* docs/eventlog.md: decimal 0..23, no leading zero */
            bool digits = idx[0] != '\0' && !(idx[0] == '0' && idx[1] != '\0');
            for (const char *c = idx; *c != '\0' && digits; c++) {
                digits = *c >= '0' && *c <= '9' && (i = i * 10 + (unsigned)(*c - '0')) < 24;
            }
            want = digits && (mask & 1u << i) == 0 && hex_string(val, d, ds);
            if (!want) {
                break;
            }
            mask |= 1u << i;
            if (ok) {
                CHECK(b < nq && memcmp(q[b].reg[i], d, ds) == 0);
            }
        }
        if (!want) {
            break;
        }
        if (ok) {
            CHECK(q[b].alg == cvma_eventlog_alg_of_name(bank) && q[b].mask == mask);
        }
        b++;
    }
    CHECK(ok == want);
    if (ok) {
        CHECK(nq == b);
        free(q);
    } else {
        CHECK(q == NULL && nq == 0 && err[0] != '\0');
    }
    json_decref(j);
}

/* ---- 3: EAR claims after the signature check ---- */

static EVP_PKEY *ear_key(void)
{
    static EVP_PKEY *k;
    if (k == NULL) {
        k = EVP_EC_gen("P-256");
        CHECK(k != NULL);
    }
    return k;
}

static int tier_rank(const char *s)
{
    return strcmp(s, "affirming") == 0         ? 0
           : strcmp(s, "warning") == 0         ? 1
           : strcmp(s, "none") == 0            ? 2
           : strcmp(s, "contraindicated") == 0 ? 3
                                               : -1;
}

static const int64_t now = 1700000000;

/* The decision by docs/results.md: NULL (refused) or the worst submodule's name. */
static const char *decide_here(const json_t *c, int64_t max_age, const char **tier)
{
    const json_t *iat = json_object_get(c, "iat"), *exp = json_object_get(c, "exp");
    const json_t *nbf = json_object_get(c, "nbf"), *subs = json_object_get(c, "submods");
    const char *worst = NULL, *name;
    const json_t *sub;
    int rank = -1;
    if (!json_is_integer(iat) || (exp != NULL && !json_is_integer(exp)) ||
        (nbf != NULL && !json_is_integer(nbf))) {
        return NULL;
    }
    /* Age over max_age, as judged < now - max_age: now is fixed and max_age small, no
     * overflow. judged: the oldest of iat and every submodule's cvmattest.verified-at. */
    json_int_t i = json_integer_value(iat), judged = i;
    if (i > now + CVMA_EAR_CLOCK_SKEW || (exp != NULL && now >= json_integer_value(exp)) ||
        (nbf != NULL && now < json_integer_value(nbf)) || json_object_size(subs) == 0) {
        return NULL;
    }
    json_object_foreach((json_t *)(uintptr_t)subs, name, sub)
    {
        const json_t *st = json_object_get(sub, "ear.status");
        const json_t *va = json_object_get(sub, "cvmattest.verified-at");
        time_t at = 0;
        int r = json_is_object(sub) && json_is_string(st) ? tier_rank(json_string_value(st)) : -1;
        if (r < 0 || strlen(json_string_value(st)) != json_string_length(st)) {
            return NULL;
        }
        if (va != NULL &&
            (!json_is_string(va) || strlen(json_string_value(va)) != json_string_length(va) ||
             !cvma_time_parse_rfc3339(json_string_value(va), &at) ||
             at > now + CVMA_EAR_CLOCK_SKEW)) {
            return NULL;
        }
        if (va != NULL && at < judged) {
            judged = at;
        }
        if (r > rank) {
            rank = r;
            worst = name;
            *tier = json_string_value(st);
        }
    }
    return max_age >= 0 && judged < now - max_age ? NULL : worst;
}

static void ear_claims(const uint8_t *p, size_t n)
{
    char *tok = NULL, err[300];
    json_t *claims = NULL;
    struct cvma_ear_decision d;
    if (n < 1) {
        return;
    }
    int64_t max_age = p[0] & 1 ? -1 : (int64_t)(p[0] >> 1) * 1000;
    p++;
    n--;
    if (cvma_jws_sign(ear_key(), "JWT", NULL, p, n, &tok) != CVMA_JWS_OK) {
        return;
    }
    enum cvma_status st = cvma_ear_verify(tok, strlen(tok), ear_key(), &claims, err, sizeof err);
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
    bool want = json_is_object(j) && is_str(json_object_get(j, "eat_profile"), CVMA_EAR_PROFILE) &&
                json_is_integer(json_object_get(j, "iat")) &&
                json_is_object(json_object_get(j, "submods"));
    CHECK((st == CVMA_OK) == want);
    if (st == CVMA_OK) {
        const char *tier = NULL;
        CHECK(json_equal(claims, j));
        const char *worst = decide_here(j, max_age, &tier);
        st = cvma_ear_decide(claims, (time_t)now, max_age, &d, err, sizeof err);
        CHECK((st == CVMA_OK) == (worst != NULL));
        if (st == CVMA_OK) {
            CHECK(strcmp(cvma_ear_tier_name(d.tier), tier) == 0);
            CHECK(strncmp(d.submod, worst, sizeof d.submod - 1) == 0);
            CHECK((int64_t)d.iat == json_integer_value(json_object_get(j, "iat")));
        }
    } else {
        CHECK(claims == NULL);
    }
    json_decref(claims);
    json_decref(j);
    free(tok);
}

/* ---- 4: the service's configuration file ---- */

#define CONF_FILE "conf/serve.json"

/* The path the configuration gives for s: under conf/ unless absolute. */
static bool path_is(const char *got, const char *s)
{
    if (got == NULL) {
        return false;
    }
    if (s[0] == '/') {
        return strcmp(got, s) == 0;
    }
    return strncmp(got, "conf/", 5) == 0 && strcmp(got + 5, s) == 0;
}

static bool limit_ok(const char *name, const json_t *v)
{
    json_int_t n = json_integer_value(v);
    json_int_t max = strcmp(name, "threads") == 0                                 ? 256
                     : strcmp(name, "timeout") == 0 || strcmp(name, "drain") == 0 ? 3600
                     : strcmp(name, "max_body") == 0 || strcmp(name, "nonce_ttl") == 0 ||
                                     strcmp(name, "token_ttl") == 0
                             ? 1000000000
                             : 0;
    return json_is_integer(v) && n >= 1 && n <= max;
}

/* Is member k = v valid, by docs/service.md? */
static bool member_ok(const char *k, const json_t *v)
{
    static const char *const strings[] = {"listen",    "collateral", "kds_url",
                                          "pcs_url",   "cache_dir",  "result_key",
                                          "nonce_key", "redis",      "redis_password_file",
                                          "tls_cert",  "tls_key"};
    if (strcmp(k, "kds_url") == 0 || strcmp(k, "pcs_url") == 0) {
        /* collateral comes over http:// or https:// only (docs/collateral.md) */
        return json_is_string(v) && (strncasecmp(json_string_value(v), "http://", 7) == 0 ||
                                     strncasecmp(json_string_value(v), "https://", 8) == 0);
    }
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        if (strcmp(k, strings[i]) == 0) {
            return json_is_string(v);
        }
    }
    if (strcmp(k, "offline") == 0) {
        return json_is_boolean(v);
    }
    if (strcmp(k, "trust_roots") == 0 || strcmp(k, "registries") == 0 ||
        strcmp(k, "providers") == 0) {
        size_t i;
        const json_t *e;
        if (!json_is_array(v) || json_array_size(v) > CVMA_SERVE_LIST_MAX) {
            return false;
        }
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) || (k[0] == 'p' && strchr(json_string_value(e), '=') == NULL)) {
                return false;
            }
        }
        return true;
    }
    if (strcmp(k, "policies") == 0 || strcmp(k, "limits") == 0) {
        const char *name;
        const json_t *e;
        if (!json_is_object(v) || (k[0] == 'p' && json_object_size(v) > CVMA_SERVE_LIST_MAX)) {
            return false;
        }
        json_object_foreach((json_t *)(uintptr_t)v, name, e)
        {
            if (k[0] == 'p' ? !json_is_string(e) : !limit_ok(name, e)) {
                return false;
            }
        }
        return true;
    }
    return false;
}

/* The settings read are the file's. */
static void check_settings(const struct cvma_serve_config *s, const json_t *j)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)j, k, v)
    {
        const char *str = json_string_value(v);
        if (strcmp(k, "listen") == 0) {
            CHECK(strcmp(s->sc.listen, str) == 0);
        } else if (strcmp(k, "redis") == 0) {
            CHECK(strcmp(s->sc.redis_url, str) == 0);
        } else if (strcmp(k, "kds_url") == 0) {
            CHECK(strcmp(s->vc.kds_base_url, str) == 0);
        } else if (strcmp(k, "pcs_url") == 0) {
            CHECK(strcmp(s->vc.pcs_base_url, str) == 0);
        } else if (strcmp(k, "cache_dir") == 0) {
            CHECK(path_is(s->vc.cache_dir, str));
        } else if (strcmp(k, "result_key") == 0) {
            CHECK(path_is(s->vc.result_key_file, str));
        } else if (strcmp(k, "tls_cert") == 0) {
            CHECK(path_is(s->sc.tls_cert_file, str));
        } else if (strcmp(k, "collateral") == 0) {
            CHECK(path_is(s->vc.collateral_dir, str));
        } else if (strcmp(k, "tls_key") == 0) {
            CHECK(path_is(s->sc.tls_key_file, str));
        } else if (strcmp(k, "nonce_key") == 0) {
            CHECK(path_is(s->nonce_key_file, str));
        } else if (strcmp(k, "redis_password_file") == 0) {
            CHECK(path_is(s->redis_password_file, str));
        } else if (strcmp(k, "offline") == 0) {
            CHECK(s->vc.offline == json_is_true(v));
        } else if (strcmp(k, "trust_roots") == 0 || strcmp(k, "registries") == 0) {
            size_t i;
            const json_t *e;
            bool roots = k[0] == 't';
            CHECK((roots ? s->vc.n_trust_root_files : s->vc.n_registries) == json_array_size(v));
            json_array_foreach(v, i, e)
            {
                CHECK(path_is(roots ? s->roots[i] : s->registries[i], json_string_value(e)));
            }
        } else if (strcmp(k, "providers") == 0) {
            size_t i;
            const json_t *e;
            CHECK(s->vc.n_providers == json_array_size(v));
            json_array_foreach(v, i, e)
            {
                const char *es = json_string_value(e), *eq = strchr(es, '=');
                size_t nl = (size_t)(eq - es) + 1;
                CHECK(strncmp(s->providers[i], es, nl) == 0);
                CHECK(path_is(s->providers[i] + nl, eq + 1));
            }
        } else if (strcmp(k, "policies") == 0) {
            const char *name;
            const json_t *e;
            size_t i = 0;
            CHECK(s->vc.n_policies == json_object_size(v));
            json_object_foreach((json_t *)(uintptr_t)v, name, e)
            {
                CHECK(strcmp(s->policies[i].name, name) == 0);
                CHECK(path_is(s->policies[i].path, json_string_value(e)));
                i++;
            }
        } else if (strcmp(k, "limits") == 0) {
            const char *name;
            const json_t *e;
            json_object_foreach((json_t *)(uintptr_t)v, name, e)
            {
                json_int_t x = json_integer_value(e);
                CHECK(strcmp(name, "threads") != 0 || s->sc.threads == (unsigned)x);
                CHECK(strcmp(name, "timeout") != 0 || s->sc.timeout == (unsigned)x);
                CHECK(strcmp(name, "drain") != 0 || s->sc.drain == (unsigned)x);
                CHECK(strcmp(name, "max_body") != 0 || s->sc.max_body == (size_t)x);
                CHECK(strcmp(name, "nonce_ttl") != 0 || s->sc.nonce_ttl == x);
                CHECK(strcmp(name, "token_ttl") != 0 || s->sc.token_ttl == x);
            }
        }
    }
}

static void serve_config(const uint8_t *p, size_t n)
{
    struct cvma_serve_config *s = calloc(1, sizeof *s);
    char err[600] = "";
    if (s == NULL) {
        return;
    }
    enum cvma_status st = cvma_serve_config_read(s, p, n, CONF_FILE, err, sizeof err);
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
    bool want = json_is_object(j);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        want = want && member_ok(k, v);
    }
    if (st != CVMA_E_NOMEM) {
        CHECK((st == CVMA_OK) == want);
    }
    if (st == CVMA_OK) {
        check_settings(s, j);
    } else {
        CHECK(err[0] != '\0');
    }
    json_decref(j);
    cvma_serve_config_cleanup(s);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0:
        rollback_state(p, n);
        break;
    case 1:
        previous_result(p, n);
        break;
    case 2:
        quoted_pcrs(p, n);
        break;
    case 3:
        ear_claims(p, n);
        break;
    default:
        serve_config(p, n);
        break;
    }
    return 0;
}
