/*
 * libFuzzer target: the registry parsers. The first byte picks what the rest is:
 *   0  a registry JWS (decode, provider look-up, signature, payload; and what its payload
 *      claims, read unverified as for a registry that failed)
 *   1  a registry payload: signed here with the target's own key, so the payload checks after
 *      the signature (members, entries, re-hashing to merkle_root) are reached
 *   2  an inclusion proof (JSON parse, audit path check)
 *   3  an entries file (parse, sort, tree)
 *   4  a compact JWS (decode, check with the target's key)
 *   5  base64 and base64url (strict decode, re-encode must round-trip)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/verdict.h"
#include "crypto/jws.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *fuzz_key(void)
{
    static EVP_PKEY *key; /* one key for the whole run (reachable, not a leak) */
    if (key == NULL) {
        key = cvma_jws_key_generate(CVMA_JWS_ES256);
    }
    return key;
}

static void one_registry(const uint8_t *p, size_t n)
{
    struct cvma_reg_provider prov = {"acme", fuzz_key()};
    struct cvma_registry r;
    struct cvma_registry_claimed c;
    struct cvma_verdict v;
    cvma_verdict_init(&v);
    bool claimed = cvma_registry_claimed_read(p, n, &c) == CVMA_OK;
    if (cvma_registry_verify(p, n, "fuzz", &prov, 1, &r, &v) == CVMA_OK) {
        /* What the payload claims, read unverified, is what the verifier read from it. */
        if (!claimed || !c.ok || c.leaf_count != r.leaf_count ||
            memcmp(c.merkle_root, r.merkle_root, 32) != 0 || strcmp(c.provider, r.provider) != 0) {
            abort();
        }
        if (cvma_registry_check_time(&r, 1800000000, "fuzz", &v) == CVMA_OK && r.has_entries &&
            r.entries.n > 0) {
            (void)cvma_reg_entries_find(&r.entries, &r.entries.v[0]);
        }
        cvma_registry_cleanup(&r);
    }
    cvma_verdict_cleanup(&v);
}

static void one_payload(const uint8_t *p, size_t n)
{
    char *jws = NULL;
    if (n > (1u << 16)) {
        return;
    }
    if (cvma_jws_sign(fuzz_key(), CVMA_REG_JWS_TYP, NULL, p, n, &jws) == CVMA_JWS_OK) {
        one_registry((const uint8_t *)jws, strlen(jws));
    }
    free(jws);
}

static void one_proof(const uint8_t *p, size_t n)
{
    struct cvma_reg_proof pr;
    if (cvma_reg_proof_parse(p, n, &pr, NULL, 0) == CVMA_OK) {
        (void)cvma_reg_proof_check(&pr);
        cvma_reg_proof_cleanup(&pr);
    }
}

static void one_entries(const uint8_t *p, size_t n)
{
    struct cvma_reg_entries e;
    struct cvma_merkle t;
    char err[300];
    cvma_reg_entries_init(&e);
    if (cvma_reg_entries_parse((const char *)p, n, "fuzz", &e, err, sizeof err) == CVMA_OK &&
        cvma_reg_entries_sort(&e, "fuzz", err, sizeof err) == CVMA_OK && e.n > 0 &&
        cvma_merkle_build(&t, &e) == CVMA_OK) {
        uint8_t path[CVMA_REG_PATH_MAX][32], root[32], leaf[32];
        size_t len = cvma_merkle_path(&t, e.n - 1, path);
        cvma_merkle_root(&t, root);
        cvma_reg_leaf_hash(&e.v[e.n - 1], leaf);
        if (!cvma_merkle_verify(leaf, e.n - 1, e.n, (const uint8_t(*)[32])path, len, root)) {
            abort(); /* a proof of our own tree must verify */
        }
        json_t *j = cvma_reg_entry_to_json(&e.v[0]);
        json_decref(j);
        cvma_merkle_cleanup(&t);
    }
    cvma_reg_entries_cleanup(&e);
}

static void one_jws(const uint8_t *p, size_t n)
{
    struct cvma_jws j;
    if (cvma_jws_decode((const char *)p, n, &j, NULL, 0) == CVMA_JWS_OK) {
        enum cvma_jws_error e = cvma_jws_check(&j, fuzz_key(), NULL, 0);
        (void)e; /* forging our key is not expected; only memory safety is checked */
        json_decref(cvma_jws_payload_json(&j, NULL, 0));
        cvma_jws_cleanup(&j);
    }
}

static void one_base64(const uint8_t *p, size_t n)
{
    for (int v = 0; v < 2; v++) {
        struct cvma_buf b;
        enum cvma_b64 variant = v ? CVMA_B64_URL : CVMA_B64_STD;
        if (cvma_base64_decode_buf((const char *)p, n, variant, &b) == CVMA_OK) {
            /* Strict decoding: the only accepted spelling is the canonical one. */
            char *s = cvma_base64_encode(b.p, b.len, variant);
            if (s == NULL || strlen(s) != n || memcmp(s, p, n) != 0) {
                abort();
            }
            free(s);
            cvma_buf_free(&b);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0:
        one_registry(p, n);
        break;
    case 1:
        one_payload(p, n);
        break;
    case 2:
        one_proof(p, n);
        break;
    case 3:
        one_entries(p, n);
        break;
    case 4:
        one_jws(p, n);
        break;
    default:
        one_base64(p, n);
        break;
    }
    return 0;
}
