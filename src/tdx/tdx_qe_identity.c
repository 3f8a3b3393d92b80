/*
 * TDX QE Identity (id "TD_QE", version 2) as Intel PCS serves it: the parser (Intel PCS API
 * v4, TD QE Identity v2). Every field is type- and length-checked; levels sorted by isvsvn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tdx/tdx_coll_internal.h"
#include "tdx/tdx_collateral.h"

/* ------------------------------------------------------------------------------------------ */
/* QE Identity (TD_QE, v2)                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* QE Identity levels: by isvsvn, highest first (QVL IdentityTcbLevel in a descending set). */
static int qe_level_cmp(const void *pa, const void *pb)
{
    const struct cvma_tdx_qe_level *a = pa, *b = pb;
    return a->isvsvn > b->isvsvn ? -1 : (a->isvsvn < b->isvsvn ? 1 : 0);
}

/* see tdx/tdx_collateral.h */
enum cvma_status cvma_tdx_qe_identity_parse(const uint8_t *p, size_t len,
                                            struct cvma_tdx_qe_identity *out,
                                            struct cvma_verdict *v)
{
    const struct cvma_tdxc_pctx c = {"QE Identity", v};
    enum cvma_status st;
    json_t *root = NULL, *levels, *e;
    const char *id;
    long long num;
    uint8_t m4[4];
    size_t i;

    memset(out, 0, sizeof *out);
    if ((st = cvma_tdxc_load_json(&c, p, len, &root)) != CVMA_OK) {
        goto out;
    }
    if ((st = cvma_tdxc_get_string(&c, root, "", "id", &id)) != CVMA_OK) {
        goto out;
    }
    if (strcmp(id, "TD_QE") != 0) {
        st = cvma_tdxc_bad(
                &c, "id is \"%.20s\", not \"TD_QE\": this QE Identity is not the TD QE's", id);
        goto out;
    }
    memcpy(out->id, "TD_QE", 6);
    if ((st = cvma_tdxc_get_int(&c, root, "", "version", 0, INT32_MAX, &num)) != CVMA_OK) {
        goto out;
    }
    if (num != 2) {
        st = cvma_tdxc_bad(&c, "version %lld; only version 2 is understood", num);
        goto out;
    }
    out->version = 2;
    if ((st = cvma_tdxc_get_date(&c, root, "", "issueDate", &out->issue_date, NULL, 0)) !=
                CVMA_OK ||
        (st = cvma_tdxc_get_date(&c, root, "", "nextUpdate", &out->next_update, NULL, 0)) !=
                CVMA_OK ||
        (st = cvma_tdxc_get_int(&c, root, "", "tcbEvaluationDataNumber", 0, INT32_MAX, &num)) !=
                CVMA_OK) {
        goto out;
    }
    out->tcb_evaluation_data_number = (int)num;
    if (out->next_update < out->issue_date) {
        st = cvma_tdxc_bad(&c, "nextUpdate is before issueDate");
        goto out;
    }
    /* MISCSELECT is the report's 4 bytes in memory order (little-endian), as QVL reads them
     * (EnclaveReportVerifier::vectorToUint32). */
    if ((st = cvma_tdxc_get_hex(&c, root, "", "miscselect", m4, 4)) != CVMA_OK) {
        goto out;
    }
    out->miscselect =
            (uint32_t)m4[0] | (uint32_t)m4[1] << 8 | (uint32_t)m4[2] << 16 | (uint32_t)m4[3] << 24;
    if ((st = cvma_tdxc_get_hex(&c, root, "", "miscselectMask", m4, 4)) != CVMA_OK) {
        goto out;
    }
    out->miscselect_mask =
            (uint32_t)m4[0] | (uint32_t)m4[1] << 8 | (uint32_t)m4[2] << 16 | (uint32_t)m4[3] << 24;
    if ((st = cvma_tdxc_get_hex(&c, root, "", "attributes", out->attributes, 16)) != CVMA_OK ||
        (st = cvma_tdxc_get_hex(&c, root, "", "attributesMask", out->attributes_mask, 16)) !=
                CVMA_OK) {
        goto out;
    }
    /* mrsigner: required (QVL's EnclaveIdentity parser wants it, and every identity Intel
     * publishes has it); compared whenever it is there, so an identity without it would let a
     * QE of any signer through. */
    if ((st = cvma_tdxc_get_hex(&c, root, "", "mrsigner", out->mrsigner, 32)) != CVMA_OK) {
        goto out;
    }
    if ((st = cvma_tdxc_get_int(&c, root, "", "isvprodid", 0, 65535, &num)) != CVMA_OK) {
        goto out;
    }
    out->isvprodid = (uint16_t)num;
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
        struct cvma_tdx_qe_level *lv = &out->levels[i];
        char path[48], tpath[56];
        json_t *tcb;
        time_t date;
        snprintf(path, sizeof path, "tcbLevels[%zu]", i);
        snprintf(tpath, sizeof tpath, "%s.tcb", path);
        out->n_levels = i + 1;
        if (!json_is_object(e)) {
            st = cvma_tdxc_bad(&c, "%s is not an object", path);
            goto out;
        }
        if ((st = cvma_tdxc_get_object(&c, e, path, "tcb", true, &tcb)) != CVMA_OK ||
            (st = cvma_tdxc_get_int(&c, tcb, tpath, "isvsvn", 0, 65535, &num)) != CVMA_OK ||
            (st = cvma_tdxc_get_date(&c, e, path, "tcbDate", &date, lv->tcb_date,
                                     sizeof lv->tcb_date)) != CVMA_OK ||
            (st = cvma_tdxc_get_status(&c, e, path, lv->status)) != CVMA_OK ||
            (st = cvma_tdxc_get_advisories(&c, e, path, &lv->adv)) != CVMA_OK) {
            goto out;
        }
        lv->isvsvn = (uint16_t)num;
    }
    /* Current QVL holds these in a set sorted by isvsvn, highest first
     * (EnclaveIdentity::getIdentityTcbLevels), refuses two with the same isvsvn ("Detected
     * duplicated TCB levels"), then takes the first with isvsvn <= the QE's ISVSVN: the file's
     * order does not matter. */
    qsort(out->levels, out->n_levels, sizeof *out->levels, qe_level_cmp);
    for (i = 1; i < out->n_levels; i++) {
        if (out->levels[i].isvsvn == out->levels[i - 1].isvsvn) {
            st = cvma_tdxc_bad(&c, "tcbLevels has two levels with isvsvn %u",
                               (unsigned)out->levels[i].isvsvn);
            goto out;
        }
    }
    st = CVMA_OK;
out:
    json_decref(root);
    if (st != CVMA_OK) {
        cvma_tdx_qe_identity_cleanup(out);
    }
    return st;
}
