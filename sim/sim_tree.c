/* Simulated configfs-tsm and /dev trees: see sim/sim_tree.h. */
#include "sim/sim_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sim/sim_files.h"

static const struct {
    const char *file;
    const char *guid; /* the 16 bytes in string order */
    bool pem;
} table_files[] = {
        {"vcek.der", "\x63\xda\x75\x8d\xe6\x64\x45\x64\xad\xc5\xf4\xb9\x3b\xe8\xac\xcd", false},
        {"vlek.der", "\xa8\x07\x4b\xc2\xa2\x5a\x48\x3e\xaa\xe6\x39\xc0\x45\xa0\xb8\xa1", false},
        {"ask.pem", "\x4a\xb7\xb3\x79\xbb\xac\x4f\xe4\xa0\x2f\x05\xae\xf3\x27\xc7\x82", true},
        {"asvk.pem", "\x4a\xb7\xb3\x79\xbb\xac\x4f\xe4\xa0\x2f\x05\xae\xf3\x27\xc7\x82", true},
        {"ark.pem", "\xc0\xb4\x06\xa4\xa8\x03\x49\x52\x97\x43\x3f\xb6\x01\x4c\xd0\xae", true},
        {"crl.der", "\x92\xf8\x1b\xc3\x58\x11\x4d\x3d\x97\xff\xd1\x9f\x88\xdc\x67\xea", false},
};

/* The first certificate of a PEM file as DER. */
static bool pem_to_der(const struct cvma_buf *pem, struct cvma_buf *der)
{
    BIO *bio = BIO_new_mem_buf(pem->p, (int)pem->len);
    X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *p = NULL;
    int n = x != NULL ? i2d_X509(x, &p) : -1;
    X509_free(x);
    BIO_free(bio);
    if (n <= 0) {
        return false;
    }
    der->p = p; /* OPENSSL_malloc'd: released with OPENSSL_free below */
    der->len = (size_t)n;
    return true;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* The GHCB certificate table of the certificates in out_dir. */
static enum cvma_status make_table(const char *out_dir, struct cvma_buf *table)
{
    struct cvma_buf blobs[CVMA_ARRAY_LEN(table_files)] = {{0}};
    bool is_der[CVMA_ARRAY_LEN(table_files)] = {false};
    size_t n = 0, total;
    enum cvma_status st = CVMA_OK;

    for (size_t i = 0; i < CVMA_ARRAY_LEN(table_files); i++) {
        struct cvma_buf raw = {0};
        char *p = cvma_path_join(out_dir, table_files[i].file);
        if (p != NULL && cvma_file_read(p, 1u << 20, &raw) == CVMA_OK) {
            if (table_files[i].pem) {
                if (!pem_to_der(&raw, &blobs[i])) {
                    st = CVMA_E_INTERNAL;
                }
                is_der[i] = true;
                cvma_buf_free(&raw);
            } else {
                blobs[i] = raw;
            }
            n++;
        }
        free(p);
    }
    total = 24 * (n + 1);
    for (size_t i = 0; i < CVMA_ARRAY_LEN(table_files); i++) {
        total += blobs[i].len;
    }
    if (st == CVMA_OK && (table->p = calloc(1, total)) == NULL) {
        st = CVMA_E_NOMEM;
    }
    if (st == CVMA_OK) {
        size_t h = 0, off = 24 * (n + 1);
        table->len = total;
        for (size_t i = 0; i < CVMA_ARRAY_LEN(table_files); i++) {
            if (blobs[i].len == 0) {
                continue;
            }
            memcpy(table->p + h, table_files[i].guid, 16);
            put32le(table->p + h + 16, (uint32_t)off);
            put32le(table->p + h + 20, (uint32_t)blobs[i].len);
            memcpy(table->p + off, blobs[i].p, blobs[i].len);
            h += 24;
            off += blobs[i].len;
        }
    }
    for (size_t i = 0; i < CVMA_ARRAY_LEN(table_files); i++) {
        if (is_der[i]) {
            OPENSSL_free(blobs[i].p);
        } else {
            cvma_buf_free(&blobs[i]);
        }
    }
    return st;
}

static enum cvma_status put_text(const char *dir, const char *name, const char *text)
{
    return cvma_sim_write_bytes(dir, name, (const uint8_t *)text, strlen(text));
}

enum cvma_status cvma_sim_tree_write(const char *kind, const char *out_dir, const char *tsm_tree,
                                     const char *dev_tree, unsigned svsm_floor,
                                     const char *manifest, char *err, size_t err_len)
{
    bool snp = strcmp(kind, "sev-snp") == 0;
    struct cvma_buf ev = {0}, table = {0};
    char *ev_path = cvma_path_join(out_dir, snp ? "report.bin" : "quote.bin");
    char *tmpl = NULL, floor_text[16];
    enum cvma_status st = CVMA_E_NOMEM;

    if (ev_path == NULL || (st = cvma_file_read(ev_path, 1u << 20, &ev)) != CVMA_OK) {
        cvma_errf(err, err_len, "sim: cannot read the evidence in %s", out_dir);
        goto out;
    }
    if (snp && (st = make_table(out_dir, &table)) != CVMA_OK) {
        cvma_errf(err, err_len, "sim: cannot build the certificate table");
        goto out;
    }
    if (tsm_tree != NULL) {
        st = CVMA_E_NOMEM;
        if ((tmpl = cvma_path_join(tsm_tree, "report/.template")) == NULL) {
            goto out;
        }
        (void)snprintf(floor_text, sizeof floor_text, "%u\n", svsm_floor);
        if ((st = cvma_mkdir_p(tmpl, 0755)) != CVMA_OK ||
            (st = put_text(tmpl, "provider", snp ? "sev_guest\n" : "tdx_guest\n")) != CVMA_OK ||
            (st = put_text(tmpl, "generation", "1\n")) != CVMA_OK ||
            (st = put_text(tmpl, "privlevel_floor", floor_text)) != CVMA_OK ||
            (st = put_text(tmpl, "inblob", "")) != CVMA_OK ||
            (svsm_floor > 0 && (st = put_text(tmpl, "privlevel", "0\n")) != CVMA_OK) ||
            (st = cvma_sim_write_bytes(tmpl, "outblob", ev.p, ev.len)) != CVMA_OK ||
            (snp && (st = cvma_sim_write_bytes(tmpl, "auxblob", table.p, table.len)) != CVMA_OK)) {
            cvma_errf(err, err_len, "sim: cannot write the configfs-tsm tree %s", tsm_tree);
            goto out;
        }
        if (snp && ((st = put_text(tmpl, "service_provider", "")) != CVMA_OK ||
                    (st = put_text(tmpl, "service_guid", "")) != CVMA_OK ||
                    (st = put_text(tmpl, "service_manifest_version", "")) != CVMA_OK)) {
            cvma_errf(err, err_len, "sim: cannot write the configfs-tsm tree %s", tsm_tree);
            goto out;
        }
        if (manifest != NULL) {
            struct cvma_buf m = {0};
            if ((st = cvma_file_read(manifest, 1u << 20, &m)) != CVMA_OK ||
                (st = cvma_sim_write_bytes(tmpl, "manifestblob", m.p, m.len)) != CVMA_OK) {
                cvma_errf(err, err_len, "sim: cannot copy the manifest %s", manifest);
                cvma_buf_free(&m);
                goto out;
            }
            cvma_buf_free(&m);
        }
    }
    if (dev_tree != NULL && snp) {
        uint8_t *resp = calloc(1, 4000);
        st = CVMA_E_NOMEM;
        if (resp == NULL || ev.len > 4000 - 0x20) {
            free(resp);
            goto out;
        }
        put32le(resp, 0);
        put32le(resp + 4, (uint32_t)ev.len);
        memcpy(resp + 0x20, ev.p, ev.len);
        if ((st = cvma_mkdir_p(dev_tree, 0755)) != CVMA_OK ||
            (st = put_text(dev_tree, "sev-guest", "")) != CVMA_OK ||
            (st = cvma_sim_write_bytes(dev_tree, "sev-guest.ext-report", resp, 4000)) != CVMA_OK ||
            (st = cvma_sim_write_bytes(dev_tree, "sev-guest.certs", table.p, table.len)) !=
                    CVMA_OK) {
            cvma_errf(err, err_len, "sim: cannot write the /dev tree %s", dev_tree);
        }
        free(resp);
    } else if (dev_tree != NULL) {
        /* TDX: the device node only; a quote comes through configfs-tsm. */
        if ((st = cvma_mkdir_p(dev_tree, 0755)) != CVMA_OK ||
            (st = put_text(dev_tree, "tdx_guest", "")) != CVMA_OK) {
            cvma_errf(err, err_len, "sim: cannot write the /dev tree %s", dev_tree);
        }
    }
out:
    cvma_buf_free(&ev);
    cvma_buf_free(&table);
    free(ev_path);
    free(tmpl);
    return st;
}
