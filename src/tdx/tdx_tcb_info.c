/*
 * TDX TCB Info (id "TDX", version 3) as Intel PCS serves it: the parser (Intel PCS API
 * v4, TDX TCB Info v3). Every field is type- and length-checked; levels are sorted as QVL sorts
 * them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tdx/tdx_coll_internal.h"
#include "tdx/tdx_collateral.h"

/* ------------------------------------------------------------------------------------------ */
/* TCB Info (TDX, v3)                                                                         */
/* ------------------------------------------------------------------------------------------ */

static enum cvma_status parse_components(const struct cvma_tdxc_pctx *c, json_t *tcb,
                                         const char *path, const char *name,
                                         uint8_t out[SGX_COMPONENTS])
{
    json_t *arr, *e;
    size_t i;
    char epath[96];
    enum cvma_status st = cvma_tdxc_get_member(c, tcb, path, name, true, &arr);

    if (st != CVMA_OK) {
        return st;
    }
    if (!json_is_array(arr) || json_array_size(arr) != SGX_COMPONENTS) {
        return cvma_tdxc_bad(c, "%s.%s is not an array of %u components", path, name,
                             SGX_COMPONENTS);
    }
    json_array_foreach(arr, i, e)
    {
        long long svn;
        json_t *opt;
        snprintf(epath, sizeof epath, "%s.%s[%zu]", path, name, i);
        if (!json_is_object(e)) {
            return cvma_tdxc_bad(c, "%s is not an object", epath);
        }
        if ((st = cvma_tdxc_get_int(c, e, epath, "svn", 0, 255, &svn)) != CVMA_OK) {
            return st;
        }
        out[i] = (uint8_t)svn;
        /* category and type are descriptive only; if present they must be strings. */
        if (((opt = json_object_get(e, "category")) != NULL && !json_is_string(opt)) ||
            ((opt = json_object_get(e, "type")) != NULL && !json_is_string(opt))) {
            return cvma_tdxc_bad(c, "%s.category/type is not a string", epath);
        }
    }
    return CVMA_OK;
}

static enum cvma_status parse_tcb_level(const struct cvma_tdxc_pctx *c, json_t *e, size_t idx,
                                        struct cvma_tdx_tcb_level *lv)
{
    char path[48], tpath[56];
    json_t *tcb;
    long long pcesvn;
    time_t date;
    enum cvma_status st;

    snprintf(path, sizeof path, "tcbLevels[%zu]", idx);
    snprintf(tpath, sizeof tpath, "%s.tcb", path);
    if (!json_is_object(e)) {
        return cvma_tdxc_bad(c, "%s is not an object", path);
    }
    if ((st = cvma_tdxc_get_object(c, e, path, "tcb", true, &tcb)) != CVMA_OK ||
        (st = parse_components(c, tcb, tpath, "sgxtcbcomponents", lv->sgx_comp)) != CVMA_OK ||
        (st = cvma_tdxc_get_int(c, tcb, tpath, "pcesvn", 0, 65535, &pcesvn)) != CVMA_OK ||
        (st = parse_components(c, tcb, tpath, "tdxtcbcomponents", lv->tdx_comp)) != CVMA_OK ||
        (st = cvma_tdxc_get_date(c, e, path, "tcbDate", &date, lv->tcb_date,
                                 sizeof lv->tcb_date)) != CVMA_OK ||
        (st = cvma_tdxc_get_status(c, e, path, lv->status)) != CVMA_OK ||
        (st = cvma_tdxc_get_advisories(c, e, path, &lv->adv)) != CVMA_OK) {
        return st;
    }
    lv->pcesvn = (uint16_t)pcesvn;
    return CVMA_OK;
}

/*
 * QVL's order (TcbLevel::operator>, held in a std::set<..., std::greater>): descending by the
 * 16 SGX component SVNs as a vector; if equal, for TDX with equal pcesvn by the TDX component
 * vector, otherwise by pcesvn. Returns <0 when a sorts first.
 */
static int tcb_level_cmp(const void *pa, const void *pb)
{
    const struct cvma_tdx_tcb_level *a = pa, *b = pb;
    int r = memcmp(a->sgx_comp, b->sgx_comp, SGX_COMPONENTS);

    if (r != 0) {
        return r > 0 ? -1 : 1;
    }
    if (a->pcesvn != b->pcesvn) {
        return a->pcesvn > b->pcesvn ? -1 : 1;
    }
    r = memcmp(a->tdx_comp, b->tdx_comp, SGX_COMPONENTS);
    return r > 0 ? -1 : (r < 0 ? 1 : 0);
}

static int module_level_cmp(const void *pa, const void *pb)
{
    const struct cvma_tdx_module_level *a = pa, *b = pb;
    return a->isvsvn > b->isvsvn ? -1 : (a->isvsvn < b->isvsvn ? 1 : 0);
}

static enum cvma_status parse_module_fields(const struct cvma_tdxc_pctx *c, json_t *m,
                                            const char *path, uint8_t mrsigner[48],
                                            uint8_t attributes[8], uint8_t mask[8])
{
    enum cvma_status st;
    if ((st = cvma_tdxc_get_hex(c, m, path, "mrsigner", mrsigner, 48)) != CVMA_OK ||
        (st = cvma_tdxc_get_hex(c, m, path, "attributes", attributes, 8)) != CVMA_OK ||
        (st = cvma_tdxc_get_hex(c, m, path, "attributesMask", mask, 8)) != CVMA_OK) {
        return st;
    }
    return CVMA_OK;
}

static enum cvma_status parse_module_identity(const struct cvma_tdxc_pctx *c, json_t *e, size_t idx,
                                              struct cvma_tdx_module_identity *mi)
{
    char path[48], lpath[80], tpath[96];
    json_t *levels, *le, *tcb;
    const char *id;
    size_t i;
    enum cvma_status st;

    snprintf(path, sizeof path, "tdxModuleIdentities[%zu]", idx);
    if (!json_is_object(e)) {
        return cvma_tdxc_bad(c, "%s is not an object", path);
    }
    if ((st = cvma_tdxc_get_string(c, e, path, "id", &id)) != CVMA_OK) {
        return st;
    }
    if (strlen(id) == 0 || strlen(id) >= sizeof mi->id) {
        return cvma_tdxc_bad(c, "%s.id is not a string of 1..%zu characters", path,
                             sizeof mi->id - 1);
    }
    memcpy(mi->id, id, strlen(id) + 1);
    if ((st = parse_module_fields(c, e, path, mi->mrsigner, mi->attributes, mi->attributes_mask)) !=
                CVMA_OK ||
        (st = cvma_tdxc_get_array(c, e, path, "tcbLevels", true, MAX_TCB_LEVELS, &levels)) !=
                CVMA_OK) {
        return st;
    }
    if ((mi->levels = calloc(json_array_size(levels), sizeof *mi->levels)) == NULL) {
        return CVMA_E_NOMEM;
    }
    json_array_foreach(levels, i, le)
    {
        struct cvma_tdx_module_level *lv = &mi->levels[i];
        long long isvsvn;
        time_t date;
        snprintf(lpath, sizeof lpath, "%s.tcbLevels[%zu]", path, i);
        snprintf(tpath, sizeof tpath, "%s.tcb", lpath);
        mi->n_levels = i + 1; /* so that cleanup frees what this level holds */
        if (!json_is_object(le)) {
            return cvma_tdxc_bad(c, "%s is not an object", lpath);
        }
        if ((st = cvma_tdxc_get_object(c, le, lpath, "tcb", true, &tcb)) != CVMA_OK ||
            (st = cvma_tdxc_get_int(c, tcb, tpath, "isvsvn", 0, 255, &isvsvn)) != CVMA_OK ||
            (st = cvma_tdxc_get_date(c, le, lpath, "tcbDate", &date, lv->tcb_date,
                                     sizeof lv->tcb_date)) != CVMA_OK ||
            (st = cvma_tdxc_get_status(c, le, lpath, lv->status)) != CVMA_OK ||
            (st = cvma_tdxc_get_advisories(c, le, lpath, &lv->adv)) != CVMA_OK) {
            return st;
        }
        lv->isvsvn = (uint8_t)isvsvn;
    }
    /* QVL keeps these sorted by isvsvn, descending (TdxModuleIdentity::getTcbLevels). */
    qsort(mi->levels, mi->n_levels, sizeof *mi->levels, module_level_cmp);
    for (i = 1; i < mi->n_levels; i++) {
        if (mi->levels[i].isvsvn == mi->levels[i - 1].isvsvn) {
            return cvma_tdxc_bad(c, "%s has two TCB levels with isvsvn %u", path,
                                 mi->levels[i].isvsvn);
        }
    }
    return CVMA_OK;
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_tcb_info_parse(const uint8_t *p, size_t len,
                                         struct cvma_tdx_tcb_info *out, struct cvma_verdict *v)
{
    const struct cvma_tdxc_pctx c = {"TCB Info", v};
    enum cvma_status st;
    json_t *root = NULL, *levels, *module, *modules, *e;
    const char *id;
    long long num;
    size_t i;

    memset(out, 0, sizeof *out);
    if ((st = cvma_tdxc_load_json(&c, p, len, &root)) != CVMA_OK) {
        goto out;
    }
    if ((st = cvma_tdxc_get_string(&c, root, "", "id", &id)) != CVMA_OK) {
        goto out;
    }
    if (strcmp(id, "TDX") != 0) {
        /* An SGX TCB Info ("SGX") has no TDX module or TDX components: it cannot judge a TD. */
        st = cvma_tdxc_bad(&c, "id is \"%.20s\", not \"TDX\": this TCB Info is not for TDX", id);
        goto out;
    }
    memcpy(out->id, "TDX", 4);
    if ((st = cvma_tdxc_get_int(&c, root, "", "version", 0, INT32_MAX, &num)) != CVMA_OK) {
        goto out;
    }
    if (num != 3) {
        st = cvma_tdxc_bad(&c, "version %lld; only version 3 (TDX) is understood", num);
        goto out;
    }
    out->version = (int)num;
    if ((st = cvma_tdxc_get_date(&c, root, "", "issueDate", &out->issue_date, NULL, 0)) !=
                CVMA_OK ||
        (st = cvma_tdxc_get_date(&c, root, "", "nextUpdate", &out->next_update, NULL, 0)) !=
                CVMA_OK ||
        (st = cvma_tdxc_get_hex(&c, root, "", "fmspc", out->fmspc, sizeof out->fmspc)) != CVMA_OK ||
        (st = cvma_tdxc_get_hex(&c, root, "", "pceId", out->pceid, sizeof out->pceid)) != CVMA_OK ||
        (st = cvma_tdxc_get_int(&c, root, "", "tcbType", INT32_MIN, INT32_MAX, &num)) != CVMA_OK) {
        goto out;
    }
    out->tcb_type = (int)num;
    if (out->tcb_type != 0) {
        /* tcbType selects how tcbLevels compare; 0 is the only defined type (QVL 4.1.2.7.4). */
        st = cvma_tdxc_bad(&c, "tcbType %d; only 0 is defined", out->tcb_type);
        goto out;
    }
    if (out->next_update < out->issue_date) {
        st = cvma_tdxc_bad(&c, "nextUpdate is before issueDate");
        goto out;
    }
    if ((st = cvma_tdxc_get_int(&c, root, "", "tcbEvaluationDataNumber", 0, INT32_MAX, &num)) !=
        CVMA_OK) {
        goto out;
    }
    out->tcb_evaluation_data_number = (int)num;

    /* QVL TcbInfo::parsePartV3: tdxModule is required for TDX; tdxModuleIdentities optional. */
    if ((st = cvma_tdxc_get_object(&c, root, "", "tdxModule", true, &module)) != CVMA_OK ||
        (st = parse_module_fields(&c, module, "tdxModule", out->module_mrsigner,
                                  out->module_attributes, out->module_attributes_mask)) !=
                CVMA_OK) {
        goto out;
    }
    out->has_tdx_module = true;
    if ((st = cvma_tdxc_get_array(&c, root, "", "tdxModuleIdentities", false, MAX_MODULES,
                                  &modules)) != CVMA_OK) {
        goto out;
    }
    if (modules != NULL) {
        if ((out->modules = calloc(json_array_size(modules), sizeof *out->modules)) == NULL) {
            st = CVMA_E_NOMEM;
            goto out;
        }
        json_array_foreach(modules, i, e)
        {
            out->n_modules = i + 1;
            if ((st = parse_module_identity(&c, e, i, &out->modules[i])) != CVMA_OK) {
                goto out;
            }
            for (size_t k = 0; k < i; k++) {
                if (strcasecmp(out->modules[k].id, out->modules[i].id) == 0) {
                    st = cvma_tdxc_bad(&c, "two tdxModuleIdentities have the id \"%s\"",
                                       out->modules[i].id);
                    goto out;
                }
            }
        }
    }

    if ((st = cvma_tdxc_get_array(&c, root, "", "tcbLevels", true, MAX_TCB_LEVELS, &levels)) !=
        CVMA_OK) {
        goto out;
    }
    if ((out->levels = calloc(json_array_size(levels), sizeof *out->levels)) == NULL) {
        st = CVMA_E_NOMEM;
        goto out;
    }
    json_array_foreach(levels, i, e)
    {
        out->n_levels = i + 1;
        if ((st = parse_tcb_level(&c, e, i, &out->levels[i])) != CVMA_OK) {
            goto out;
        }
    }
    qsort(out->levels, out->n_levels, sizeof *out->levels, tcb_level_cmp);
    for (i = 1; i < out->n_levels; i++) {
        if (tcb_level_cmp(&out->levels[i - 1], &out->levels[i]) == 0) {
            /* QVL refuses these too ("Detected duplicated TCB levels"): which status applies
             * would depend on the order. */
            st = cvma_tdxc_bad(&c,
                               "two TCB levels have the same SGX components, PCESVN and TDX "
                               "components (tcbDate %s and %s)",
                               out->levels[i - 1].tcb_date, out->levels[i].tcb_date);
            goto out;
        }
    }
    st = CVMA_OK;
out:
    json_decref(root);
    if (st != CVMA_OK) {
        cvma_tdx_tcb_info_cleanup(out);
    }
    return st;
}
