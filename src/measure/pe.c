/*
 * The Authenticode digest of a PE/COFF image (Microsoft PE/COFF specification and
 * "Windows Authenticode Portable Executable Signature Format"), computed the way EDK2's
 * measured boot computes it for EV_EFI_BOOT_SERVICES_APPLICATION events
 * (SecurityPkg MeasureBootPeCoff.c):
 *   1. the headers up to SizeOfHeaders, without the optional header's CheckSum and without
 *      the Certificate Table entry of the data directory (when there is one);
 *   2. each section with SizeOfRawData != 0, in PointerToRawData order;
 *   3. what follows the sections in the file, without the attribute certificate table
 *      (its size from the Certificate Table entry).
 * No padding is added (EDK2 adds none; signing tools pad the file to 8 bytes before
 * appending the certificate table, so signed images hash the same).
 * The image is untrusted: every header field goes through the reader and every range is
 * checked against the image's length.
 */
#include <string.h>

#include <openssl/evp.h>

#include "common/reader.h"
#include "measure/measure.h"

#define PE_MAX_SECTIONS 96 /* the PE/COFF specification's own limit */
#define DIR_SECURITY    4

static bool u16_at(const uint8_t *p, size_t len, size_t off, uint16_t *out)
{
    struct cvma_reader r;
    cvma_reader_init(&r, p, len);
    return cvma_reader_skip(&r, off) && cvma_reader_u16le(&r, out);
}

static bool u32_at(const uint8_t *p, size_t len, size_t off, uint32_t *out)
{
    struct cvma_reader r;
    cvma_reader_init(&r, p, len);
    return cvma_reader_skip(&r, off) && cvma_reader_u32le(&r, out);
}

struct pe_range {
    uint32_t off, size;
};

static bool hash_range(EVP_MD_CTX *ctx, const uint8_t *p, size_t len, size_t from, size_t to)
{
    if (from > to || to > len) {
        return false;
    }
    return to == from || EVP_DigestUpdate(ctx, p + from, to - from) == 1;
}

bool cvma_pe_authenticode(const uint8_t *p, size_t len, const char *md_name, uint8_t *out,
                          size_t out_cap, size_t *out_len, char *err, size_t err_len)
{
    const EVP_MD *md = EVP_get_digestbyname(md_name);
    EVP_MD_CTX *ctx = NULL;
    struct pe_range secs[PE_MAX_SECTIONS];
    bool ok = false;
    uint32_t pe_off = 0, sig = 0, size_of_headers = 0, n_dirs = 0, cert_size = 0;
    uint16_t mz = 0, n_secs = 0, opt_size = 0, magic = 0;

    if (md == NULL || (size_t)EVP_MD_get_size(md) > out_cap) {
        cvma_errf(err, err_len, "digest %s unavailable", md_name);
        return false;
    }
    /* An image may start with the PE signature itself; normally the DOS header's e_lfanew
     * points to it. */
    if (u16_at(p, len, 0, &mz) && mz == 0x5a4d && !u32_at(p, len, 0x3c, &pe_off)) {
        goto trunc;
    }
    if (!u32_at(p, len, pe_off, &sig) || sig != 0x00004550) {
        cvma_errf(err, err_len, "not a PE/COFF image (no PE signature)");
        return false;
    }
    const size_t coff = (size_t)pe_off + 4, opt = coff + 20;
    if (!u16_at(p, len, coff + 2, &n_secs) || !u16_at(p, len, coff + 16, &opt_size) ||
        !u16_at(p, len, opt, &magic)) {
        goto trunc;
    }
    size_t dirs_off, n_dirs_off;
    if (magic == 0x10b) {
        n_dirs_off = opt + 92;
        dirs_off = opt + 96;
    } else if (magic == 0x20b) {
        n_dirs_off = opt + 108;
        dirs_off = opt + 112;
    } else {
        cvma_errf(err, err_len, "PE optional header magic 0x%x is neither PE32 nor PE32+", magic);
        return false;
    }
    const size_t checksum_off = opt + 64;
    if (!u32_at(p, len, opt + 60, &size_of_headers) || !u32_at(p, len, n_dirs_off, &n_dirs)) {
        goto trunc;
    }
    const size_t cert_dir_off = dirs_off + DIR_SECURITY * 8;
    const bool has_cert_dir = n_dirs > DIR_SECURITY;
    if (has_cert_dir && !u32_at(p, len, cert_dir_off + 4, &cert_size)) {
        goto trunc;
    }
    /* The optional header (with the data directory entries it declares) and the section
     * table lie within the headers, which lie within the image (EDK2's PeCoffLoaderGetPeHeader
     * refuses an image whose sections "overflow section headers"). */
    const size_t sec_table = opt + opt_size;
    if (size_of_headers > len || checksum_off + 4 > size_of_headers ||
        (has_cert_dir && cert_dir_off + 8 > size_of_headers)) {
        cvma_errf(err, err_len,
                  "PE headers (SizeOfHeaders %u, %u sections) do not fit the "
                  "image of %zu bytes",
                  size_of_headers, n_secs, len);
        return false;
    }
    if (sec_table + (size_t)n_secs * 40 > size_of_headers) {
        cvma_errf(err, err_len,
                  "PE section table (%u sections at 0x%zx) ends past SizeOfHeaders 0x%x "
                  "(EDK2 refuses the image)",
                  n_secs, sec_table, size_of_headers);
        return false;
    }
    if (n_secs > PE_MAX_SECTIONS) {
        cvma_errf(err, err_len, "PE image with %u sections (at most %d)", n_secs, PE_MAX_SECTIONS);
        return false;
    }
    size_t n = 0;
    for (uint16_t i = 0; i < n_secs; i++) {
        struct pe_range s;
        if (!u32_at(p, len, sec_table + (size_t)i * 40 + 16, &s.size) ||
            !u32_at(p, len, sec_table + (size_t)i * 40 + 20, &s.off)) {
            goto trunc;
        }
        if (s.size == 0) {
            continue;
        }
        if ((uint64_t)s.off + s.size > len) {
            cvma_errf(err, err_len,
                      "PE section %u (0x%x bytes at 0x%x) runs past the end of "
                      "the image",
                      i, s.size, s.off);
            return false;
        }
        /* Insertion sort by PointerToRawData, stable as EDK2's. */
        size_t j = n++;
        while (j > 0 && secs[j - 1].off > s.off) {
            secs[j] = secs[j - 1];
            j--;
        }
        secs[j] = s;
    }
    if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        goto hash_err;
    }
    bool h = hash_range(ctx, p, len, 0, checksum_off);
    if (has_cert_dir) {
        h = h && hash_range(ctx, p, len, checksum_off + 4, cert_dir_off) &&
            hash_range(ctx, p, len, cert_dir_off + 8, size_of_headers);
    } else {
        h = h && hash_range(ctx, p, len, checksum_off + 4, size_of_headers);
    }
    uint64_t hashed = size_of_headers;
    for (size_t i = 0; h && i < n; i++) {
        h = hash_range(ctx, p, len, secs[i].off, (size_t)secs[i].off + secs[i].size);
        hashed += secs[i].size;
    }
    if (h && len > hashed) {
        if (len > hashed + cert_size) {
            h = hash_range(ctx, p, len, (size_t)hashed, len - cert_size);
        } else if (len < hashed + cert_size) {
            cvma_errf(err, err_len, "PE certificate table (%u bytes) overlaps the sections",
                      cert_size);
            goto out;
        }
    }
    unsigned int olen = 0;
    if (!h || EVP_DigestFinal_ex(ctx, out, &olen) != 1) {
        goto hash_err;
    }
    *out_len = olen;
    ok = true;
    goto out;
trunc:
    cvma_errf(err, err_len, "PE image truncated (%zu bytes)", len);
    goto out;
hash_err:
    cvma_errf(err, err_len, "%s failed", md_name);
out:
    EVP_MD_CTX_free(ctx);
    return ok;
}
