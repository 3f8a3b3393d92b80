/*
 * Tests: one run of a simulated TEE (sim/) in a fresh temporary directory, and what it wrote
 * read back independently of the project's parsers.
 */
#ifndef CVMA_TESTS_TU_SIM_H
#define CVMA_TESTS_TU_SIM_H

#include "testutil.h"
#include "tu_x509.h"

struct tu_run {
    char *dir;           /* the run's directory */
    struct cvma_buf out; /* the evidence it wrote (report.bin, quote.bin) */
};

static inline void tu_run_init(struct tu_run *r)
{
    memset(r, 0, sizeof *r);
    r->dir = tu_tmpdir();
}

static inline void tu_run_cleanup(struct tu_run *r)
{
    cvma_buf_free(&r->out);
    tu_rmtree(r->dir);
    free(r->dir);
    r->dir = NULL;
}

static inline void tu_run_read(const struct tu_run *r, const char *name, struct cvma_buf *out)
{
    char *p = tu_path(r->dir, name);
    tu_read(p, out);
    free(p);
}

static inline bool tu_run_exists(const struct tu_run *r, const char *name)
{
    return tu_exists(r->dir, name);
}

/* The index-th certificate of the run's PEM file name. */
static inline X509 *tu_run_pem(const struct tu_run *r, const char *name, int index)
{
    return tu_pem_cert(r->dir, name, index);
}

/* The run's DER CRL name. */
static inline X509_CRL *tu_run_crl(const struct tu_run *r, const char *name)
{
    return tu_der_crl(r->dir, name);
}

#endif
