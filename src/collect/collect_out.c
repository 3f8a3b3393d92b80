/* The bundle of collected evidence, and guest-check's probe: see collect/collect.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "collect/collect.h"
#include "common/base64.h"
#include "common/json_out.h"

/* DER certificate wrapped as PEM (the bundle names ask.pem, ark.pem want PEM). */
static char *der_to_pem(const struct cvma_span *der)
{
    static const char head[] = "-----BEGIN CERTIFICATE-----\n";
    static const char tail[] = "-----END CERTIFICATE-----\n";
    char *b64 = cvma_base64_encode(der->p, der->len, CVMA_B64_STD), *pem = NULL;
    if (b64 != NULL) {
        size_t n = strlen(b64), cap = sizeof head + n + n / 64 + 2 + sizeof tail, o = 0;
        if ((pem = malloc(cap)) != NULL) {
            memcpy(pem, head, sizeof head - 1);
            o = sizeof head - 1;
            for (size_t i = 0; i < n; i += 64) {
                size_t k = n - i < 64 ? n - i : 64;
                memcpy(pem + o, b64 + i, k);
                o += k;
                pem[o++] = '\n';
            }
            memcpy(pem + o, tail, sizeof tail);
        }
    }
    free(b64);
    return pem;
}

/* A part: collateral named name, or (name NULL) of role role. */
static int add_role(json_t *parts, const char *role, const char *name, const uint8_t *p, size_t n)
{
    char *b64 = cvma_base64_encode(p, n, CVMA_B64_STD);
    int rc = -1;
    if (b64 != NULL) {
        json_t *o = name != NULL ? json_pack("{s:s, s:s, s:s}", "role", "collateral", "name", name,
                                             "data", b64)
                                 : json_pack("{s:s, s:s}", "role", role, "data", b64);
        rc = json_array_append_new(parts, o);
    }
    free(b64);
    return rc;
}

static int add_part(json_t *parts, const char *name, const uint8_t *p, size_t n)
{
    return add_role(parts, "evidence", name, p, n);
}

enum cvma_status cvma_collected_bundle_text(const struct cvma_collected *c,
                                            const struct cvma_tpm_collected *tpm, char **out)
{
    json_t *j = json_object(), *parts = json_array();
    enum cvma_status st = CVMA_E_NOMEM;
    char *text = NULL;
    bool hw = c != NULL && c->kind != NULL;

    if (j == NULL || parts == NULL || (!hw && tpm == NULL) ||
        json_object_set_new(j, "cvmattest_bundle", json_integer(1)) != 0 ||
        json_object_set_new(j, "kind",
                            json_string(!hw               ? "tpm"
                                        : c->svsm_service ? "svsm-vtpm"
                                                          : c->kind)) != 0 ||
        (hw && add_part(parts, NULL, c->evidence.p, c->evidence.len) != 0)) {
        goto out;
    }
    /* The SVSM's vTPM service report: its manifest (the vTPM EK) is what REPORT_DATA binds,
     * and the bundle is of kind svsm-vtpm (docs/vtpm-binding.md). */
    if (hw && c->svsm_service && c->manifest.len > 0 &&
        add_role(parts, "svsm_manifest", NULL, c->manifest.p, c->manifest.len) != 0) {
        goto out;
    }
    if (tpm != NULL) {
        const struct {
            const char *role;
            const struct cvma_buf *b;
        } tp[] = {{"tpm_quote", &tpm->quote},
                  {"tpm_signature", &tpm->signature},
                  {"tpm_ak", &tpm->ak},
                  {"tpm_pcrs", &tpm->pcrs}};
        for (size_t i = 0; i < CVMA_ARRAY_LEN(tp); i++) {
            if (tp[i].b->len > 0 && add_role(parts, tp[i].role, NULL, tp[i].b->p, tp[i].b->len)) {
                goto out;
            }
        }
    }
    for (size_t i = 0; hw && i < c->certs.n; i++) {
        const struct cvma_snp_cert_entry *e = &c->certs.e[i];
        int rc;
        if (e->bundle_name == NULL) {
            continue; /* unknown GUID: kept in the raw directory */
        }
        if (e->pem) {
            char *pem = der_to_pem(&e->data);
            rc = pem != NULL ? add_part(parts, e->bundle_name, (const uint8_t *)pem, strlen(pem))
                             : -1;
            free(pem);
        } else {
            rc = add_part(parts, e->bundle_name, e->data.p, e->data.len);
        }
        if (rc != 0) {
            goto out;
        }
    }
    if (json_object_set(j, "parts", parts) != 0 ||
        (text = cvma_json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL) {
        goto out;
    }
    *out = text;
    text = NULL;
    st = CVMA_OK;
out:
    free(text);
    json_decref(parts);
    json_decref(j);
    return st;
}

enum cvma_status cvma_collected_write_bundle(const struct cvma_collected *c,
                                             const struct cvma_tpm_collected *tpm, const char *path)
{
    char *text = NULL;
    enum cvma_status st = cvma_collected_bundle_text(c, tpm, &text);
    if (st == CVMA_OK) {
        st = cvma_file_write_atomic(path, (const uint8_t *)text, strlen(text));
    }
    free(text);
    return st;
}

static bool exists(const char *dir, const char *name, bool want_dir)
{
    char *p = cvma_path_join(dir, name);
    struct stat st;
    bool ok = p != NULL && stat(p, &st) == 0 && (!want_dir || S_ISDIR(st.st_mode));
    free(p);
    return ok;
}

/* see collect/collect.h */
bool cvma_cpuinfo_has_flag(const char *text, const char *flag)
{
    const char *line = strstr(text, "\nflags");
    size_t fl = strlen(flag);
    if (line == NULL) {
        return false;
    }
    const char *end = strchr(line + 1, '\n');
    if (end == NULL) {
        end = line + strlen(line);
    }
    const char *p = line + strlen("\nflags");
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    if (p == end || *p != ':') {
        return false;
    }
    for (p++; p < end;) {
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t') {
            p++;
        }
        if ((size_t)(p - w) == fl && memcmp(w, flag, fl) == 0) {
            return true;
        }
    }
    return false;
}

void cvma_guest_probe(const char *tsm_root, const char *dev_root, const char *cpuinfo,
                      struct cvma_guest_info *g)
{
    struct cvma_buf b = {0};
    memset(g, 0, sizeof *g);
    bool tree = tsm_root != NULL;
    tsm_root = tsm_root != NULL ? tsm_root : CVMA_COLLECT_TSM_ROOT;
    dev_root = dev_root != NULL ? dev_root : CVMA_COLLECT_DEV_ROOT;
    g->tsm = exists(tsm_root, "report", true);
    if (g->tsm) {
        /* A probe entry, as collect makes it (in a tree: the template stand-in). */
        g->tsm_probed = cvma_tsm_probe(tsm_root, tree, g->tsm_provider, sizeof g->tsm_provider,
                                       &g->tsm_privlevel_floor, &g->tsm_service_provider,
                                       g->tsm_probe_why, sizeof g->tsm_probe_why);
    }
    g->sev_guest = exists(dev_root, "sev-guest", false);
    g->tdx_guest = exists(dev_root, "tdx_guest", false);
    g->tpmrm = exists(dev_root, "tpmrm0", false);
    g->tpm = exists(dev_root, "tpm0", false);
    if (cvma_file_read(cpuinfo != NULL ? cpuinfo : CVMA_GUEST_CPUINFO, CVMA_GUEST_CPUINFO_MAX,
                       &b) != CVMA_OK) {
        /* Said, not only "read": false (a directory, /dev/zero, a file not there). */
        (void)cvma_file_read_why(errno, CVMA_GUEST_CPUINFO_MAX, g->cpuinfo_why,
                                 sizeof g->cpuinfo_why);
    } else {
        char *text = malloc(b.len + 2);
        if (text != NULL) {
            text[0] = '\n';
            memcpy(text + 1, b.p, b.len);
            text[b.len + 1] = '\0';
            g->cpuinfo_read = true;
            g->cpu_snp = cvma_cpuinfo_has_flag(text, "sev_snp");
            g->cpu_tdx = cvma_cpuinfo_has_flag(text, "tdx_guest");
        } else {
            snprintf(g->cpuinfo_why, sizeof g->cpuinfo_why, "out of memory");
        }
        free(text);
    }
    cvma_buf_free(&b);
    /* sev_snp is also a host's flag: a hint only. tdx_guest is set in TDX guests only. */
    if (g->sev_guest || strcmp(g->tsm_provider, "sev_guest") == 0) {
        g->tee = "sev-snp";
    } else if (g->tdx_guest || g->cpu_tdx || strcmp(g->tsm_provider, "tdx_guest") == 0) {
        g->tee = "tdx";
    }
}

/* see collect.h */
bool cvma_guest_collect_possible(const struct cvma_guest_info *g)
{
    if (g->tee == NULL) {
        return false;
    }
    bool tdx = strcmp(g->tee, "tdx") == 0;
    /* collect_tsm reads these two providers only */
    bool tsm_ok = g->tsm && g->tsm_probed &&
                  strcmp(g->tsm_provider, tdx ? "tdx_guest" : "sev_guest") == 0;
    return tdx ? tsm_ok : tsm_ok || g->sev_guest;
}
