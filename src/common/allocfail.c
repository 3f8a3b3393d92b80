/* Counting allocators for OpenSSL and jansson (common/allocfail.h). */
#include "common/allocfail.h"

#include <pthread.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/crypto.h>

/* initial-exec: in a library loaded by dlopen, a thread's first touch of a dynamic TLS variable
 * allocates, which is no place to be when an allocation has just failed */
static _Thread_local unsigned long failures __attribute__((tls_model("initial-exec")));
static _Thread_local unsigned long begun __attribute__((tls_model("initial-exec")));
static unsigned counted; /* written once, under install_once */
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

/* OpenSSL's CRYPTO_malloc, CRYPTO_realloc and CRYPTO_free as 3.0 writes them (nothing for 0
 * bytes; realloc of NULL allocates, to 0 bytes frees), with the count. */
static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    if (n == 0) {
        return NULL;
    }
    void *p = malloc(n);
    if (p == NULL) {
        failures++;
    }
    return p;
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    if (p == NULL) {
        return ossl_malloc(n, file, line);
    }
    if (n == 0) {
        free(p);
        return NULL;
    }
    void *q = realloc(p, n);
    if (q == NULL) {
        failures++;
    }
    return q;
}

static void *json_malloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        failures++;
    }
    return p;
}

static void install(void)
{
    CRYPTO_malloc_fn om = NULL;
    CRYPTO_realloc_fn orl = NULL;
    CRYPTO_free_fn of = NULL;
    CRYPTO_get_mem_functions(&om, &orl, &of);
    /* Over OpenSSL's own functions only; it refuses once it has allocated anything. */
    if (om == CRYPTO_malloc && orl == CRYPTO_realloc && of == CRYPTO_free &&
        CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1) {
        counted |= CVMA_ALLOCFAIL_OPENSSL;
    }
    json_malloc_t jm = NULL;
    json_free_t jf = NULL;
    json_get_alloc_funcs(&jm, &jf);
    /* Over jansson's defaults only: blocks of either are malloc's, freed by free. */
    if (jm == malloc && jf == free) {
        json_set_alloc_funcs(json_malloc, free);
        counted |= CVMA_ALLOCFAIL_JANSSON;
    }
}

unsigned cvma_allocfail_install(void)
{
    pthread_once(&install_once, install);
    return counted;
}

unsigned cvma_allocfail_counted(void)
{
    unsigned now = cvma_allocfail_install();
    /* A program may have set its own allocators since (OpenSSL accepts that until its first
     * allocation): then that library is no longer counted. */
    CRYPTO_malloc_fn om = NULL;
    CRYPTO_realloc_fn orl = NULL;
    CRYPTO_free_fn of = NULL;
    CRYPTO_get_mem_functions(&om, &orl, &of);
    if (om != ossl_malloc || orl != ossl_realloc || of != ossl_free) {
        now &= ~(unsigned)CVMA_ALLOCFAIL_OPENSSL;
    }
    json_malloc_t jm = NULL;
    json_free_t jf = NULL;
    json_get_alloc_funcs(&jm, &jf);
    if (jm != json_malloc || jf != free) {
        now &= ~(unsigned)CVMA_ALLOCFAIL_JANSSON;
    }
    return now;
}

unsigned long cvma_allocfail_count(void)
{
    return failures;
}

void cvma_allocfail_begin(void)
{
    begun = failures;
}

bool cvma_allocfail_since_begin(void)
{
    return failures != begun;
}

/* Unloaded (dlclose): OpenSSL and jansson must not be left calling into code that is gone.
 * Every block was the C library's, so their defaults free them as well. */
__attribute__((destructor)) static void allocfail_at_unload(void)
{
    CRYPTO_malloc_fn om = NULL;
    CRYPTO_realloc_fn orl = NULL;
    CRYPTO_free_fn of = NULL;
    CRYPTO_get_mem_functions(&om, &orl, &of);
    if (om == ossl_malloc && orl == ossl_realloc && of == ossl_free) {
        (void)CRYPTO_set_mem_functions(CRYPTO_malloc, CRYPTO_realloc, CRYPTO_free);
    }
    json_malloc_t jm = NULL;
    json_free_t jf = NULL;
    json_get_alloc_funcs(&jm, &jf);
    if (jm == json_malloc) {
        json_set_alloc_funcs(malloc, free);
    }
}

/* At load time, before the program's first OpenSSL allocation where it can be. */
__attribute__((constructor)) static void allocfail_at_load(void)
{
    cvma_allocfail_install();
}
