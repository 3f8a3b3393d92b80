#include "sim/sim_snp.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "sim/sim_files.h"
#include "sim/sim_util.h"

/*
 * AMD's ARK and ASK/ASVK are RSA-4096. The simulator uses RSA-2048: key generation is the
 * slow part of a run and the bit length changes nothing the verifier checks.
 */
#define CA_RSA_BITS 2048

/* ATTESTATION_REPORT offsets (SEV-SNP ABI spec, Table 23). */
#define OFF_VERSION            0x000
#define OFF_GUEST_SVN          0x004
#define OFF_POLICY             0x008
#define OFF_VMPL               0x030
#define OFF_SIGNATURE_ALGO     0x034
#define OFF_CURRENT_TCB        0x038
#define OFF_PLATFORM_INFO      0x040
#define OFF_SIGNER_INFO        0x048
#define OFF_REPORT_DATA        0x050
#define OFF_MEASUREMENT        0x090
#define OFF_HOST_DATA          0x0C0
#define OFF_REPORT_ID          0x140
#define OFF_REPORT_ID_MA       0x160
#define OFF_REPORTED_TCB       0x180
#define OFF_CPUID_FAM          0x188
#define OFF_CHIP_ID            0x1A0
#define OFF_COMMITTED_TCB      0x1E0
#define OFF_CURRENT_BUILD      0x1E8
#define OFF_COMMITTED_BUILD    0x1EC
#define OFF_LAUNCH_TCB         0x1F0
#define OFF_LAUNCH_MIT_VECTOR  0x1F8
#define OFF_CURRENT_MIT_VECTOR 0x200

#define SIG_ALGO_ECDSA_P384_SHA384 1u
#define POLICY_DEFAULT             (CVMA_SNP_POLICY_SMT | CVMA_SNP_POLICY_RESERVED1) /* 0x30000 */
#define PLATFORM_INFO_SMT_EN       0x1u
#define SIGNING_KEY_SHIFT          2

#define P384_LEN       48
#define LIMIT_DAYS     36500
#define AMD_OID_ARC    "1.3.6.1.4.1.3704.1"
#define TURIN_HWID_LEN 8

/* What differs between products: names, CPUID, serials as on AMD's real roots (AMD KDS). */
struct product_info {
    const char *line;      /* KDS product line and CN suffix */
    const char *vcek_name; /* productName extension of a VCEK */
    const char *vlek_name; /* productName of a VLEK (real Milan VLEKs say "Milan") */
    uint8_t cpuid[3];      /* fam, model, stepping (v3+) */
    long struct_version;   /* VCEK structVersion: 0 Milan/Genoa, 1 Turin */
    uint8_t ark_serial[3];
    uint8_t ask_serial[3];
    uint8_t asvk_serial[3];
    size_t hwid_len;
    bool turin_layout;
};

static const struct product_info *product_get(enum cvma_snp_product p)
{
    static const struct product_info milan = {
            .line = "Milan",
            .vcek_name = "Milan-B0",
            .vlek_name = "Milan",
            .cpuid = {0x19, 0x01, 0x01},
            .struct_version = 0,
            .ark_serial = {0x01, 0x00, 0x00},
            .ask_serial = {0x01, 0x00, 0x01},
            .asvk_serial = {0x01, 0x01, 0x01},
            .hwid_len = 64,
            .turin_layout = false,
    };
    static const struct product_info genoa = {
            .line = "Genoa",
            .vcek_name = "Genoa",
            .vlek_name = "Genoa",
            .cpuid = {0x19, 0x11, 0x01},
            .struct_version = 0,
            .ark_serial = {0x02, 0x00, 0x00},
            .ask_serial = {0x02, 0x00, 0x02},
            .asvk_serial = {0x02, 0x01, 0x01},
            .hwid_len = 64,
            .turin_layout = false,
    };
    static const struct product_info turin = {
            .line = "Turin",
            .vcek_name = "Turin",
            .vlek_name = "Turin",
            .cpuid = {0x1A, 0x02, 0x01},
            .struct_version = 1,
            .ark_serial = {0x03, 0x00, 0x00},
            .ask_serial = {0x03, 0x00, 0x01},
            .asvk_serial = {0x03, 0x01, 0x01},
            .hwid_len = TURIN_HWID_LEN,
            .turin_layout = true,
    };

    switch (p) {
    case CVMA_SNP_PRODUCT_MILAN:
        return &milan;
    case CVMA_SNP_PRODUCT_GENOA:
        return &genoa;
    case CVMA_SNP_PRODUCT_TURIN:
        return &turin;
    case CVMA_SNP_PRODUCT_UNKNOWN:
        return NULL;
    }
    return NULL;
}

/* Everything one run generates; freed by sim_free. */
struct sim {
    const struct cvma_sim_snp_opts *o;
    const struct product_info *pi;
    uint8_t chip_id[64];
    uint8_t measurement[48];
    time_t now;
    EVP_PKEY *ark_key, *ask_key, *leaf_key;
    X509 *ark, *ask, *leaf;
    X509_CRL *crl;
    uint8_t report[CVMA_SNP_REPORT_SIZE];
};

static void sim_free(struct sim *s)
{
    X509_CRL_free(s->crl);
    X509_free(s->leaf);
    X509_free(s->ask);
    X509_free(s->ark);
    EVP_PKEY_free(s->leaf_key);
    EVP_PKEY_free(s->ask_key);
    EVP_PKEY_free(s->ark_key);
}

void cvma_sim_snp_opts_default(struct cvma_sim_snp_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = 5;
    o->product = CVMA_SNP_PRODUCT_MILAN;
    o->tcb_bl = 3;
    o->tcb_tee = 0;
    o->tcb_snp = 8;
    o->tcb_ucode = 115;
    o->tcb_fmc = 1;
}

static enum cvma_status check_opts(const struct cvma_sim_snp_opts *o, char *err, size_t err_len)
{
    const struct product_info *pi = product_get(o->product);

    if (o->version < 2 || o->version > 5) {
        cvma_sim_errf(err, err_len, "sim snp: report version %u not supported (2, 3, 4, 5)",
                      o->version);
        return CVMA_E_USAGE;
    }
    if (pi == NULL) {
        cvma_sim_errf(err, err_len, "sim snp: unknown product");
        return CVMA_E_USAGE;
    }
    if (o->vmpl > 3 && o->vmpl != CVMA_SIM_SNP_VMPL_HOST) {
        cvma_sim_errf(err, err_len, "sim snp: vmpl %u out of range 0..3", (unsigned)o->vmpl);
        return CVMA_E_USAGE;
    }
    if (o->has_chip_id && pi->hwid_len < sizeof o->chip_id) {
        for (size_t i = pi->hwid_len; i < sizeof o->chip_id; i++) {
            if (o->chip_id[i] != 0) {
                cvma_sim_errf(err, err_len,
                              "sim snp: %s chip_id has %zu ID bytes; byte %zu must be zero",
                              pi->line, pi->hwid_len, i);
                return CVMA_E_USAGE;
            }
        }
    }
    if (o->tamper.leaf_hwid_len > sizeof o->tamper.leaf_hwid) {
        cvma_sim_errf(err, err_len, "sim snp: hwID length %zu above 64", o->tamper.leaf_hwid_len);
        return CVMA_E_USAGE;
    }
    if (o->cert_validity_days < 0 || o->cert_validity_days > LIMIT_DAYS ||
        o->cert_not_before_offset_days < -LIMIT_DAYS ||
        o->cert_not_before_offset_days > LIMIT_DAYS) {
        cvma_sim_errf(err, err_len, "sim snp: certificate validity out of range");
        return CVMA_E_USAGE;
    }
    return CVMA_OK;
}

static time_t days_from(time_t t, long days)
{
    return t + (time_t)days * CVMA_SIM_DAY_SECONDS;
}

/* Subject RDNs in AMD's order (OU, C, L, ST, O, CN), with our O. */
static X509 *amd_cert_new(const char *cn, const X509 *issuer, EVP_PKEY *key, const uint8_t *serial,
                          size_t serial_len, time_t nb, time_t na)
{
    const struct cvma_sim_name_entry subject[] = {
            {"OU", "Engineering"},   {"C", "US"}, {"L", "Santa Clara"}, {"ST", "CA"},
            {"O", CVMA_SIM_SNP_ORG}, {"CN", cn},
    };

    return cvma_sim_x509_new(subject, CVMA_ARRAY_LEN(subject),
                             issuer != NULL ? X509_get_subject_name(issuer) : NULL, key, serial,
                             serial_len, nb, na);
}

static enum cvma_status make_ark(struct sim *s, char *err, size_t err_len)
{
    enum cvma_status st;
    char cn[32], crl_dp[96];

    snprintf(cn, sizeof cn, "ARK-%s", s->pi->line);
    /* The ARK's CRL DP is the VCEK path on both real ARKs (one ARK per product). */
    snprintf(crl_dp, sizeof crl_dp, "URI:https://kdsintf.amd.com/vcek/v1/%s/crl", s->pi->line);
    if ((s->ark_key = cvma_sim_rsa_key_new(CA_RSA_BITS)) == NULL) {
        cvma_sim_errf(err, err_len, "sim snp: generating the ARK key");
        return CVMA_E_INTERNAL;
    }
    if ((s->ark = amd_cert_new(cn, NULL, s->ark_key, s->pi->ark_serial, sizeof s->pi->ark_serial,
                               days_from(s->now, -1),
                               days_from(s->now, CVMA_SIM_SNP_VALIDITY_DAYS))) == NULL) {
        cvma_sim_errf(err, err_len, "sim snp: building the ARK");
        return CVMA_E_INTERNAL;
    }
    /* Extensions as on AMD's ARKs: keyUsage, SKI, basicConstraints, CRL DP. */
    if ((st = cvma_sim_x509_add_std_ext(s->ark, s->ark, NID_key_usage,
                                        "critical,keyCertSign,cRLSign")) != CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(s->ark, s->ark, NID_subject_key_identifier, "hash")) !=
                CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(s->ark, s->ark, NID_basic_constraints,
                                        "critical,CA:TRUE")) != CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(s->ark, s->ark, NID_crl_distribution_points, crl_dp)) !=
                CVMA_OK ||
        (st = cvma_sim_x509_sign(s->ark, s->ark_key, CVMA_SIM_SIG_RSA_PSS_SHA384)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: ARK extensions or signature");
        return st;
    }
    return CVMA_OK;
}

static enum cvma_status make_ask(struct sim *s, char *err, size_t err_len)
{
    enum cvma_status st;
    bool vlek = s->o->vlek;
    char cn[32], crl_dp[96];
    const char *what = vlek ? "ASVK" : "ASK";

    snprintf(cn, sizeof cn, vlek ? "SEV-VLEK-%s" : "SEV-%s", s->pi->line);
    snprintf(crl_dp, sizeof crl_dp, "URI:https://kdsintf.amd.com/%s/v1/%s/crl",
             vlek ? "vlek" : "vcek", s->pi->line);
    if ((s->ask_key = cvma_sim_rsa_key_new(CA_RSA_BITS)) == NULL) {
        cvma_sim_errf(err, err_len, "sim snp: generating the %s key", what);
        return CVMA_E_INTERNAL;
    }
    if ((s->ask = amd_cert_new(
                 cn, s->ark, s->ask_key, vlek ? s->pi->asvk_serial : s->pi->ask_serial, 3,
                 days_from(s->now, -1), days_from(s->now, CVMA_SIM_SNP_VALIDITY_DAYS))) == NULL) {
        cvma_sim_errf(err, err_len, "sim snp: building the %s", what);
        return CVMA_E_INTERNAL;
    }
    /* As on AMD's ASK/ASVK: SKI, AKI, basicConstraints pathlen 0, keyUsage, CRL DP. */
    if ((st = cvma_sim_x509_add_std_ext(s->ask, s->ark, NID_subject_key_identifier, "hash")) !=
                CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(s->ask, s->ark, NID_authority_key_identifier,
                                        "keyid:always")) != CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(s->ask, s->ark, NID_basic_constraints,
                                        "critical,CA:TRUE,pathlen:0")) != CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(s->ask, s->ark, NID_key_usage, "critical,keyCertSign")) !=
                CVMA_OK ||
        (st = cvma_sim_x509_add_std_ext(s->ask, s->ark, NID_crl_distribution_points, crl_dp)) !=
                CVMA_OK ||
        (st = cvma_sim_x509_sign(s->ask, s->ark_key, CVMA_SIM_SIG_RSA_PSS_SHA384)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: %s extensions or signature", what);
        return st;
    }
    return CVMA_OK;
}

static enum cvma_status add_amd_int(X509 *x, const char *suffix, long v)
{
    enum cvma_status st;
    struct cvma_buf der = {NULL, 0};
    char oid[48];

    snprintf(oid, sizeof oid, "%s.%s", AMD_OID_ARC, suffix);
    if ((st = cvma_sim_der_integer(v, &der)) == CVMA_OK) {
        st = cvma_sim_x509_add_raw_ext(x, oid, false, der.p, der.len);
    }
    cvma_buf_free(&der);
    return st;
}

static enum cvma_status add_amd_ia5(X509 *x, const char *suffix, const char *v)
{
    enum cvma_status st;
    struct cvma_buf der = {NULL, 0};
    char oid[48];

    snprintf(oid, sizeof oid, "%s.%s", AMD_OID_ARC, suffix);
    if ((st = cvma_sim_der_ia5string(v, &der)) == CVMA_OK) {
        st = cvma_sim_x509_add_raw_ext(x, oid, false, der.p, der.len);
    }
    cvma_buf_free(&der);
    return st;
}

/* tamper.leaf_dup_ext: the extension suffix once more, with another value. */
static enum cvma_status add_dup_ext(struct sim *s, const char *suffix)
{
    if (strcmp(suffix, "2") == 0) {
        return add_amd_ia5(s->leaf, suffix, "Genoa");
    }
    if (strcmp(suffix, "5") == 0) {
        return add_amd_ia5(s->leaf, suffix, "CN=other");
    }
    if (strcmp(suffix, "4") == 0) {
        uint8_t hwid[64];
        memcpy(hwid, s->chip_id, sizeof hwid);
        hwid[0] ^= 0xff;
        return cvma_sim_x509_add_raw_ext(s->leaf, AMD_OID_ARC ".4", false, hwid, s->pi->hwid_len);
    }
    return add_amd_int(s->leaf, suffix, 255);
}

/* tamper.leaf_critical_ext: the (first) extension with that suffix marked critical. */
static enum cvma_status set_critical(X509 *x, const char *suffix)
{
    char oid[48];
    snprintf(oid, sizeof oid, "%s.%s", AMD_OID_ARC, suffix);
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    int pos = obj != NULL ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
    ASN1_OBJECT_free(obj);
    if (pos < 0 || X509_EXTENSION_set_critical(X509_get_ext(x, pos), 1) != 1) {
        return CVMA_E_INTERNAL;
    }
    return CVMA_OK;
}

/* tamper.leaf_omit_ext: the extension with that suffix taken out again. */
static enum cvma_status omit_ext(X509 *x, const char *suffix)
{
    char oid[48];
    snprintf(oid, sizeof oid, "%s.%s", AMD_OID_ARC, suffix);
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    int pos = obj != NULL ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
    ASN1_OBJECT_free(obj);
    if (pos < 0) {
        return CVMA_E_INTERNAL;
    }
    X509_EXTENSION_free(X509_delete_ext(x, pos));
    return CVMA_OK;
}

/*
 * The VCEK/VLEK extensions (AMD VCEK Certificate and KDS Interface spec), in the order AMD's
 * certificates carry them: Milan/Genoa .1.1 .1.2 .1.3.1 .1.3.2 .1.3.4-.1.3.7 .1.3.3 .1.3.8 then
 * .1.4 (VCEK) or .1.5 (VLEK), snpSPL (.1.3.3) after the reserved SPLs; Turin .1.1 .1.2, fmcSPL
 * (.1.3.9), .1.3.1-.1.3.3, .1.3.5-.1.3.8 (no .1.3.4), then .1.4 or .1.5.
 */
static enum cvma_status add_leaf_exts(struct sim *s)
{
    enum cvma_status st;
    const struct cvma_sim_snp_opts *o = s->o;
    const struct product_info *pi = s->pi;
    X509 *x = s->leaf;

    const char *pname = o->vlek ? pi->vlek_name : pi->vcek_name;
    if (o->tamper.leaf_product_name != NULL) {
        pname = o->tamper.leaf_product_name;
    }
    if ((st = add_amd_int(x, "1", pi->struct_version)) != CVMA_OK ||
        (!o->tamper.leaf_no_product_name && (st = add_amd_ia5(x, "2", pname)) != CVMA_OK)) {
        return st;
    }
    if (pi->turin_layout && (st = add_amd_int(x, "3.9", o->tcb_fmc)) != CVMA_OK) {
        return st;
    }
    if (o->tamper.leaf_bad_spl_encoding) {
        static const uint8_t octets[] = {0x04, 0x01, 0x03};
        st = cvma_sim_x509_add_raw_ext(x, AMD_OID_ARC ".3.1", false, octets, sizeof octets);
    } else {
        st = add_amd_int(x, "3.1",
                         o->tamper.leaf_bl_spl > 0 ? o->tamper.leaf_bl_spl - 1 : o->tcb_bl);
    }
    if (st != CVMA_OK) {
        return st;
    }
    if ((st = add_amd_int(x, "3.2", o->tcb_tee)) != CVMA_OK) {
        return st;
    }
    /* Turin: snpSPL straight after teeSPL; Milan/Genoa: after spl_4 .. spl_7. */
    if (pi->turin_layout && (st = add_amd_int(x, "3.3", o->tcb_snp)) != CVMA_OK) {
        return st;
    }
    if (!pi->turin_layout && (st = add_amd_int(x, "3.4", 0)) != CVMA_OK) {
        return st;
    }
    if ((st = add_amd_int(x, "3.5", 0)) != CVMA_OK || (st = add_amd_int(x, "3.6", 0)) != CVMA_OK ||
        (st = add_amd_int(x, "3.7", 0)) != CVMA_OK) {
        return st;
    }
    if (!pi->turin_layout && (st = add_amd_int(x, "3.3", o->tcb_snp)) != CVMA_OK) {
        return st;
    }
    if ((st = add_amd_int(x, "3.8", o->tcb_ucode)) != CVMA_OK) {
        return st;
    }
    if (o->vlek) {
        st = add_amd_ia5(x, "5",
                         o->tamper.leaf_csp_id != NULL ? o->tamper.leaf_csp_id
                                                       : CVMA_SIM_SNP_CSP_ID);
    } else {
        /* hwID: the raw chip_id bytes as the extension value, no DER tag (as AMD's). */
        st = cvma_sim_x509_add_raw_ext(x, AMD_OID_ARC ".4", false,
                                       o->tamper.has_leaf_hwid ? o->tamper.leaf_hwid : s->chip_id,
                                       o->tamper.leaf_hwid_len != 0 ? o->tamper.leaf_hwid_len
                                                                    : pi->hwid_len);
    }
    if (st == CVMA_OK && o->tamper.leaf_dup_ext != NULL) {
        st = add_dup_ext(s, o->tamper.leaf_dup_ext);
    }
    if (st == CVMA_OK && o->tamper.leaf_extra_ext != NULL) {
        st = add_dup_ext(s, o->tamper.leaf_extra_ext); /* the same values, added once */
    }
    if (st == CVMA_OK && o->tamper.leaf_omit_ext != NULL) {
        st = omit_ext(x, o->tamper.leaf_omit_ext);
    }
    if (st == CVMA_OK && o->tamper.leaf_critical_ext != NULL) {
        st = set_critical(x, o->tamper.leaf_critical_ext);
    }
    return st;
}

static enum cvma_status make_leaf(struct sim *s, char *err, size_t err_len)
{
    enum cvma_status st;
    const char *what = s->o->vlek ? "VLEK" : "VCEK";
    long validity =
            s->o->cert_validity_days != 0 ? s->o->cert_validity_days : CVMA_SIM_SNP_VALIDITY_DAYS;
    long offset = s->o->cert_not_before_offset_days;

    if ((s->leaf_key = cvma_sim_ec_key_new(s->o->tamper.leaf_p256_key ? NID_X9_62_prime256v1
                                                                      : NID_secp384r1)) == NULL) {
        cvma_sim_errf(err, err_len, "sim snp: generating the %s key", what);
        return CVMA_E_INTERNAL;
    }
    /* Serial 0, as on the VCEKs and VLEKs KDS hands out. */
    if ((s->leaf = amd_cert_new(s->o->vlek ? "SEV-VLEK" : "SEV-VCEK", s->ask, s->leaf_key, NULL, 0,
                                days_from(s->now, offset - 1),
                                days_from(s->now, offset + validity))) == NULL) {
        cvma_sim_errf(err, err_len, "sim snp: building the %s", what);
        return CVMA_E_INTERNAL;
    }
    /* No standard extension at all (as AMD's): no AKI, SKI, keyUsage or basicConstraints. */
    if ((st = add_leaf_exts(s)) != CVMA_OK ||
        (s->o->tamper.leaf_ca &&
         (st = cvma_sim_x509_add_std_ext(s->leaf, s->ask, NID_basic_constraints,
                                         "critical,CA:TRUE")) != CVMA_OK) ||
        (s->o->tamper.leaf_ca && s->o->tamper.leaf_ca_sign_only &&
         (st = cvma_sim_x509_add_std_ext(s->leaf, s->ask, NID_key_usage,
                                         "critical,digitalSignature")) != CVMA_OK) ||
        (st = cvma_sim_x509_sign(s->leaf, s->ask_key, CVMA_SIM_SIG_RSA_PSS_SHA384)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: %s extensions or signature", what);
        return st;
    }
    return CVMA_OK;
}

static enum cvma_status make_crl(struct sim *s, char *err, size_t err_len)
{
    enum cvma_status st;
    X509 *revoked[1] = {s->ask};

    if ((s->crl = cvma_sim_crl_new(s->ark, days_from(s->now, -1),
                                   s->o->tamper.crl_no_next_update ? 0 : days_from(s->now, 30),
                                   revoked, s->o->revoke_ask ? 1 : 0)) == NULL) {
        cvma_sim_errf(err, err_len, "sim snp: building the CRL");
        return CVMA_E_INTERNAL;
    }
    if ((st = cvma_sim_crl_sign(s->crl, s->ark_key, CVMA_SIM_SIG_RSA_PSS_SHA384)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: signing the CRL");
        return st;
    }
    return CVMA_OK;
}

static void put_u32le(uint8_t *p, uint32_t v)
{
    for (size_t i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64le(uint8_t *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* TCB_VERSION with the product's byte layout (SEV-SNP ABI spec, TCB_VERSION). */
static uint64_t tcb_encode(const struct sim *s)
{
    const struct cvma_sim_snp_opts *o = s->o;
    uint8_t b[8] = {0};
    uint64_t v = 0;

    if (s->pi->turin_layout) {
        b[0] = o->tcb_fmc;
        b[1] = o->tcb_bl;
        b[2] = o->tcb_tee;
        b[3] = o->tcb_snp;
    } else {
        b[0] = o->tcb_bl;
        b[1] = o->tcb_tee;
        b[6] = o->tcb_snp;
    }
    b[7] = o->tcb_ucode;
    for (size_t i = 0; i < 8; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

static enum cvma_status make_report(struct sim *s, char *err, size_t err_len)
{
    enum cvma_status st;
    const struct cvma_sim_snp_opts *o = s->o;
    uint8_t *rep = s->report;
    uint64_t tcb = tcb_encode(s);
    uint64_t policy = POLICY_DEFAULT | (o->debug ? CVMA_SNP_POLICY_DEBUG : 0);
    uint32_t signing_key = o->vlek ? CVMA_SNP_KEY_VLEK : CVMA_SNP_KEY_VCEK;
    uint8_t r[P384_LEN], sig_s[P384_LEN];

    memset(rep, 0, CVMA_SNP_REPORT_SIZE);
    put_u32le(rep + OFF_VERSION, o->version);
    /* GUEST_SVN, family_id and image_id come from the ID block; there is none, so they are
     * zero, as in real reports of guests launched without one. */
    put_u32le(rep + OFF_GUEST_SVN, 0);
    put_u64le(rep + OFF_POLICY, policy);
    put_u32le(rep + OFF_VMPL, o->vmpl);
    put_u32le(rep + OFF_SIGNATURE_ALGO, SIG_ALGO_ECDSA_P384_SHA384);
    put_u64le(rep + OFF_CURRENT_TCB, tcb);
    put_u64le(rep + OFF_PLATFORM_INFO, PLATFORM_INFO_SMT_EN);
    put_u32le(rep + OFF_SIGNER_INFO, signing_key << SIGNING_KEY_SHIFT);
    memcpy(rep + OFF_REPORT_DATA, o->report_data, sizeof o->report_data);
    memcpy(rep + OFF_MEASUREMENT, s->measurement, sizeof s->measurement);
    memcpy(rep + OFF_HOST_DATA, o->host_data, sizeof o->host_data);
    /* id_key_digest, author_key_digest: zero */
    if ((st = cvma_sim_random(rep + OFF_REPORT_ID, 32)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: random report_id");
        return st;
    }
    memset(rep + OFF_REPORT_ID_MA, 0xFF, 32); /* no migration agent */
    put_u64le(rep + OFF_REPORTED_TCB, tcb);
    if (o->version >= 3) {
        memcpy(rep + OFF_CPUID_FAM, s->pi->cpuid, sizeof s->pi->cpuid);
    }
    if (!o->mask_chip_id) {
        memcpy(rep + OFF_CHIP_ID, s->chip_id, sizeof s->chip_id);
    }
    if (o->tamper.has_report_chip_id) {
        memcpy(rep + OFF_CHIP_ID, o->tamper.report_chip_id, sizeof o->tamper.report_chip_id);
    }
    put_u64le(rep + OFF_COMMITTED_TCB, tcb);
    rep[OFF_CURRENT_BUILD] = CVMA_SIM_SNP_FW_BUILD;
    rep[OFF_CURRENT_BUILD + 1] = CVMA_SIM_SNP_FW_MINOR;
    rep[OFF_CURRENT_BUILD + 2] = CVMA_SIM_SNP_FW_MAJOR;
    rep[OFF_COMMITTED_BUILD] = CVMA_SIM_SNP_FW_BUILD;
    rep[OFF_COMMITTED_BUILD + 1] = CVMA_SIM_SNP_FW_MINOR;
    rep[OFF_COMMITTED_BUILD + 2] = CVMA_SIM_SNP_FW_MAJOR;
    put_u64le(rep + OFF_LAUNCH_TCB, tcb);
    if (o->version >= 5) {
        put_u64le(rep + OFF_LAUNCH_MIT_VECTOR, 0);
        put_u64le(rep + OFF_CURRENT_MIT_VECTOR, 0);
    }

    put_u64le(rep + OFF_CURRENT_TCB, tcb ^ o->tamper.current_tcb_xor);
    put_u64le(rep + OFF_COMMITTED_TCB, tcb ^ o->tamper.committed_tcb_xor);
    put_u64le(rep + OFF_REPORTED_TCB, tcb ^ o->tamper.reported_tcb_xor);
    put_u32le(rep + OFF_SIGNER_INFO, (signing_key << SIGNING_KEY_SHIFT) | o->tamper.signer_info_or);
    if (o->tamper.vmpl != 0) {
        put_u32le(rep + OFF_VMPL, o->tamper.vmpl);
    }
    if (o->tamper.signature_algo != 0) {
        put_u32le(rep + OFF_SIGNATURE_ALGO, o->tamper.signature_algo);
    }
    if (o->version >= 3 && o->tamper.has_cpuid) {
        memcpy(rep + OFF_CPUID_FAM, o->tamper.cpuid, sizeof o->tamper.cpuid);
    }
    if (o->tamper.leaf_p256_key) {
        return CVMA_OK; /* a P-256 key cannot make this signature; leave it zero */
    }

    /* SEV-SNP ABI spec, Signature: ECDSA P-384 over SHA-384 of 0x000..0x29F; R and S little-endian
     * in 72-byte fields. */
    if ((st = cvma_sim_ecdsa_sign_raw(s->leaf_key, EVP_sha384(), rep, CVMA_SNP_SIGNED_SIZE, r,
                                      sig_s, P384_LEN)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: signing the report");
        return st;
    }
    for (size_t i = 0; i < P384_LEN; i++) {
        rep[CVMA_SNP_SIG_OFFSET + i] = r[P384_LEN - 1 - i];
        rep[CVMA_SNP_SIG_OFFSET + CVMA_SNP_SIG_COMPONENT + i] = sig_s[P384_LEN - 1 - i];
    }
    return CVMA_OK;
}

static enum cvma_status remove_stale(const struct sim *s, const char *dir)
{
    enum cvma_status st;
    static const char *const vcek_files[] = {"ask.pem", "vcek.pem", "vcek.der"};
    static const char *const vlek_files[] = {"asvk.pem", "vlek.pem", "vlek.der"};
    static const char *const vcek_keys[] = {"ask-key.pem", "vcek-key.pem"};
    static const char *const vlek_keys[] = {"asvk-key.pem", "vlek-key.pem"};
    const char *const *other = s->o->vlek ? vcek_files : vlek_files;
    const char *const *other_keys = s->o->vlek ? vcek_keys : vlek_keys;
    const char *const *own_keys = s->o->vlek ? vlek_keys : vcek_keys;

    for (size_t i = 0; i < CVMA_ARRAY_LEN(vcek_files); i++) {
        if ((st = cvma_sim_remove(dir, other[i])) != CVMA_OK) {
            return st;
        }
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(vcek_keys); i++) {
        if ((st = cvma_sim_remove(dir, other_keys[i])) != CVMA_OK) {
            return st;
        }
        if (!s->o->keep_keys && (st = cvma_sim_remove(dir, own_keys[i])) != CVMA_OK) {
            return st;
        }
    }
    if (!s->o->keep_keys) {
        return cvma_sim_remove(dir, "ark-key.pem");
    }
    return CVMA_OK;
}

static enum cvma_status write_files(const struct sim *s, const char *dir, char *err, size_t err_len)
{
    enum cvma_status st;
    bool vlek = s->o->vlek;
    const char *ask_name = vlek ? "asvk.pem" : "ask.pem";
    const char *leaf_pem = vlek ? "vlek.pem" : "vcek.pem";
    const char *leaf_der = vlek ? "vlek.der" : "vcek.der";
    const char *name = "";
    X509 *chain[2] = {s->ask, s->ark};

    if ((st = remove_stale(s, dir)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: removing stale files from %s", dir);
        return st;
    }
    if ((st = cvma_sim_write_cert_pem(dir, name = "ark.pem", &s->ark, 1)) != CVMA_OK ||
        (st = cvma_sim_write_cert_pem(dir, name = ask_name, &s->ask, 1)) != CVMA_OK ||
        (st = cvma_sim_write_cert_pem(dir, name = "cert_chain.pem", chain, 2)) != CVMA_OK ||
        (st = cvma_sim_write_cert_pem(dir, name = leaf_pem, &s->leaf, 1)) != CVMA_OK ||
        (st = cvma_sim_write_cert_der(dir, name = leaf_der, s->leaf)) != CVMA_OK ||
        (st = cvma_sim_write_crl_der(dir, name = "crl.der", s->crl)) != CVMA_OK) {
        goto fail;
    }
    if (s->o->keep_keys &&
        ((st = cvma_sim_write_key_pem(dir, name = "ark-key.pem", s->ark_key)) != CVMA_OK ||
         (st = cvma_sim_write_key_pem(dir, name = vlek ? "asvk-key.pem" : "ask-key.pem",
                                      s->ask_key)) != CVMA_OK ||
         (st = cvma_sim_write_key_pem(dir, name = vlek ? "vlek-key.pem" : "vcek-key.pem",
                                      s->leaf_key)) != CVMA_OK)) {
        goto fail;
    }
    /* Last, so a complete report.bin means a complete set. */
    if ((st = cvma_sim_write_bytes(dir, name = "report.bin", s->report, sizeof s->report)) !=
        CVMA_OK) {
        goto fail;
    }
    return CVMA_OK;
fail:
    cvma_sim_errf(err, err_len, "sim snp: writing %s into %s", name, dir);
    return st;
}

/* see sim/sim_snp.h */
enum cvma_status cvma_sim_snp_write(const struct cvma_sim_snp_opts *o, const char *dir, char *err,
                                    size_t err_len)
{
    enum cvma_status st;
    struct sim s;

    memset(&s, 0, sizeof s);
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    if (o == NULL || dir == NULL || dir[0] == '\0') {
        cvma_sim_errf(err, err_len, "sim snp: no options or output directory");
        return CVMA_E_USAGE;
    }
    if ((st = check_opts(o, err, err_len)) != CVMA_OK) {
        return st;
    }
    s.o = o;
    s.pi = product_get(o->product);
    if (s.pi == NULL) { /* checked above; keeps the analyzer and -Wnull-dereference calm */
        return CVMA_E_USAGE;
    }
    s.now = time(NULL);

    if (o->has_chip_id) {
        memcpy(s.chip_id, o->chip_id, sizeof s.chip_id);
    } else if ((st = cvma_sim_random(s.chip_id, s.pi->hwid_len)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: random chip_id");
        goto out;
    }
    if (o->has_measurement) {
        memcpy(s.measurement, o->measurement, sizeof s.measurement);
    } else if ((st = cvma_sim_random(s.measurement, sizeof s.measurement)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: random measurement");
        goto out;
    }
    if ((st = cvma_mkdir_p(dir, 0755)) != CVMA_OK) {
        cvma_sim_errf(err, err_len, "sim snp: cannot create directory %s", dir);
        goto out;
    }
    if ((st = make_ark(&s, err, err_len)) != CVMA_OK ||
        (st = make_ask(&s, err, err_len)) != CVMA_OK ||
        (st = make_leaf(&s, err, err_len)) != CVMA_OK ||
        (st = make_crl(&s, err, err_len)) != CVMA_OK ||
        (st = make_report(&s, err, err_len)) != CVMA_OK ||
        (st = write_files(&s, dir, err, err_len)) != CVMA_OK) {
        goto out;
    }
    st = CVMA_OK;
out:
    sim_free(&s);
    return st;
}
