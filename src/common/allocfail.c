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

/* Whether OpenSSL's allocators are (with mine: these) its defaults, or these. */
static bool ossl_are(bool mine)
{
    CRYPTO_malloc_fn m = NULL;
    CRYPTO_realloc_fn r = NULL;
    CRYPTO_free_fn f = NULL;
    CRYPTO_get_mem_functions(&m, &r, &f);
    return mine ? m == ossl_malloc && r == ossl_realloc && f == ossl_free
                : m == CRYPTO_malloc && r == CRYPTO_realloc && f == CRYPTO_free;
}

/* Whether jansson's allocators are (with mine: these) its defaults, or these. */
static bool json_are(bool mine)
{
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    return f == free && m == (mine ? json_malloc : malloc);
}

/* Over the libraries' own defaults only (blocks of either are malloc's, freed by free);
 * OpenSSL refuses once it has allocated anything through its own. */
static void install(void)
{
    if (ossl_are(false)) {
        (void)CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
    }
    if (json_are(false)) {
        json_set_alloc_funcs(json_malloc, free);
    }
}

unsigned cvma_allocfail_counted(void)
{
    pthread_once(&install_once, install);
    /* Checked each time: a program may have set its own allocators since. */
    return (ossl_are(true) ? CVMA_ALLOCFAIL_OPENSSL : 0u) |
           (json_are(true) ? CVMA_ALLOCFAIL_JANSSON : 0u);
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
    if (ossl_are(true)) {
        (void)CRYPTO_set_mem_functions(CRYPTO_malloc, CRYPTO_realloc, CRYPTO_free);
    }
    if (json_are(true)) {
        json_set_alloc_funcs(malloc, free);
    }
}

/* At load time, before the program's first OpenSSL allocation where it can be. */
__attribute__((constructor)) static void allocfail_at_load(void)
{
    pthread_once(&install_once, install);
}
