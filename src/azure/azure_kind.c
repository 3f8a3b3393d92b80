/*
 * The Azure confidential VM rows of the evidence-kind table (verifier/kind.h): azure-snp and
 * azure-tdx. The evidence is Trustee's JSON evidence, or a bare HCL report with the TPM quote
 * parts (and the VCEK) in the bundle (docs/azure.md).
 */
#include <stdlib.h>
#include <string.h>

#include "azure/azure.h"
#include "azure/azure_internal.h"
#include "common/hex.h"
#include "common/reader.h"
#include "snp/snp_internal.h"
#include "verifier/bundle.h"
#include "verifier/kind.h"

/* An HCL report's runtime data report type (offset 1216 + 8), or 0. */
static uint32_t hcl_report_type(const uint8_t *p, size_t len)
{
    struct cvma_reader r;
    uint32_t type = 0;
    if (!cvma_azure_hcl_detect(p, len)) {
        return 0;
    }
    cvma_reader_init(&r, p, len);
    if (!cvma_reader_skip(&r, CVMA_AZURE_HCL_HEADER_LEN + CVMA_AZURE_HW_REPORT_LEN + 8) ||
        !cvma_reader_u32le(&r, &type)) {
        return 0;
    }
    return type;
}

static bool azure_snp_detect(const uint8_t *p, size_t len)
{
    if (cvma_azure_hcl_detect(p, len)) {
        return hcl_report_type(p, len) != CVMA_AZURE_REPORT_TYPE_TDX;
    }
    return cvma_azure_json_detect(p, len) && !cvma_azure_json_is_tdx(p, len);
}

static bool azure_tdx_detect(const uint8_t *p, size_t len)
{
    if (cvma_azure_hcl_detect(p, len)) {
        return hcl_report_type(p, len) == CVMA_AZURE_REPORT_TYPE_TDX;
    }
    return cvma_azure_json_detect(p, len) && cvma_azure_json_is_tdx(p, len);
}

static void azure_snp_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                             const void *prepared, struct cvma_result *res)
{
    (void)prepared;
    cvma_azure_verify(p, len, opts, false, res);
}

static void azure_tdx_verify(const uint8_t *p, size_t len, const struct cvma_verify_opts *opts,
                             const void *prepared, struct cvma_result *res)
{
    (void)prepared;
    cvma_azure_verify(p, len, opts, true, res);
}

/* The HCL report's JSON with its hardware report parsed (SEV-SNP) or its TDREPORT's MRTD and
 * REPORTDATA (TDX) in place of the hex. */
static json_t *hcl_show_json(const struct cvma_azure_hcl *h, struct cvma_verdict *v)
{
    json_t *o = cvma_azure_hcl_json(h);
    if (o == NULL) {
        v->oom = true;
        return NULL;
    }
    if (h->report_type == CVMA_AZURE_REPORT_TYPE_SNP) {
        struct cvma_parse_opts po = {.allow_trailing_data = false};
        struct cvma_snp_report *rep = malloc(sizeof *rep);
        if (rep != NULL &&
            cvma_snp_report_parse(h->hw_report.p, h->hw_report.len, &po, rep, v) == CVMA_OK) {
            json_t *r = cvma_snp_report_json(rep, rep->product);
            if (r != NULL) {
                json_object_set_new(o, "snp_report", r);
                json_object_del(o, "hardware_report");
            }
        }
        free(rep);
    } else {
        struct cvma_azure_tdreport tr;
        bool have = cvma_azure_tdreport_read(&h->hw_report, &tr);
        char *mrtd = have ? cvma_hex_dup(tr.mr_td, sizeof tr.mr_td) : NULL;
        char *rd = have ? cvma_hex_dup(tr.report_data, sizeof tr.report_data) : NULL;
        if (mrtd != NULL && rd != NULL) {
            json_object_set_new(o, "td_report",
                                json_pack("{s:s, s:s}", "mr_td", mrtd, "report_data", rd));
        }
        free(mrtd);
        free(rd);
    }
    return o;
}

static json_t *azure_show(const uint8_t *p, size_t len, bool allow_trailing, const char **heading,
                          struct cvma_verdict *v)
{
    struct cvma_azure_evidence ev;
    struct cvma_azure_hcl h;
    json_t *o = NULL;

    *heading = "Azure HCL report (parsed, NOT verified)";
    if (cvma_azure_hcl_detect(p, len)) {
        if (cvma_azure_hcl_parse(p, len, allow_trailing, &h, v) == CVMA_OK) {
            o = hcl_show_json(&h, v);
        }
        return o;
    }
    *heading = "Azure CVM evidence (Trustee JSON; parsed, NOT verified)";
    if (cvma_azure_evidence_parse(p, len, &ev, v) != CVMA_OK) {
        return NULL;
    }
    if (cvma_azure_hcl_parse(ev.hcl_report.p, ev.hcl_report.len, allow_trailing, &h, v) ==
        CVMA_OK) {
        o = json_object();
        if (o != NULL) {
            json_object_set_new(o, "version", json_integer(ev.version));
            json_object_set_new(o, "hcl_report", hcl_show_json(&h, v));
            json_object_set_new(o, "tpm_quote_bytes", json_integer((json_int_t)ev.quote_msg.len));
            json_object_set_new(o, "vcek_bytes", json_integer((json_int_t)ev.vcek.len));
            json_object_set_new(o, "td_quote_bytes", json_integer((json_int_t)ev.td_quote.len));
        } else {
            v->oom = true;
        }
    }
    cvma_azure_evidence_cleanup(&ev);
    return o;
}

const struct cvma_kind cvma_kind_azure_snp = {
        .id = CVMA_KIND_AZURE_SNP,
        .name = "azure-snp",
        .cli_name = "azure-snp",
        .what = "Azure SEV-SNP CVM evidence (HCL report and vTPM quote)",
        .detect = azure_snp_detect,
        .verify = azure_snp_verify,
        .prepare = NULL,
        .collateral_names = cvma_snp_collateral_names,
        .prepared_free = NULL,
        .show = azure_show,
        .reads_event_log = true,
        .reads_tpm_parts = true,
        .reads_snp_report = true,
        .launch_unpinned = "azure-snp: no policy pins the paravisor's launch measurement "
                           "(snp.measurements, snp.id_key_digests or snp.author_key_digests): "
                           "the report is at VMPL 0, which any SEV-SNP guest without a "
                           "paravisor makes with REPORT_DATA of its choosing, so nothing shows "
                           "Azure's paravisor made it, nor the runtime claims and the AK "
                           "(HCLAkPub) it names",
};

const struct cvma_kind cvma_kind_azure_tdx = {
        .id = CVMA_KIND_AZURE_TDX,
        .name = "azure-tdx",
        .cli_name = "azure-tdx",
        .what = "Azure TDX CVM evidence (HCL report, TD quote and vTPM quote)",
        .detect = azure_tdx_detect,
        .verify = azure_tdx_verify,
        .prepare = NULL,
        .collateral_names = cvma_tdx_collateral_names,
        .prepared_free = NULL,
        .show = azure_show,
        .reads_event_log = true,
        .reads_tpm_parts = true,
        .launch_unpinned = "azure-tdx: no policy pins the paravisor's launch measurement "
                           "(tdx.mr_td): any TD makes a TD quote with REPORTDATA of its choosing, "
                           "so nothing shows Azure's paravisor made this one, nor the runtime "
                           "claims and the AK (HCLAkPub) it names",
};
