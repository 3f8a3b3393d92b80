/*
 * Failed allocations inside the libraries a verification runs on, counted per thread.
 *
 * OpenSSL and jansson do not always report an allocation that failed: OpenSSL's key decoder
 * tries its next decoder when a name lookup cannot allocate, a certificate that could not be
 * decoded for want of memory looks like one that is malformed, and jansson may drop a member
 * whose copy failed. A verdict made while that happened may be an artefact of the machine's
 * memory, not of the evidence. So the library gives both libraries allocation functions of its
 * own (the C library's malloc, realloc and free, with a count of the calls that came back
 * empty), and a verification that saw the count move on its thread is the call's error
 * (CVMA_E_NOMEM), never a verdict.
 *
 * The functions are installed when the library is loaded, and only over the libraries'
 * defaults: a program that set allocators of its own keeps them (OpenSSL also refuses a
 * change once it has allocated anything through its own functions), and is then told by
 * cvma_allocfail_counted which library is not counted. Where a library is not counted, out of
 * memory inside it is only seen where it reports one.
 *
 * OpenSSL latches its allocator settings only on its own allocation path: with these installed,
 * a program that sets its own later (which OpenSSL would otherwise refuse once anything was
 * allocated) is no longer refused, and blocks already allocated would then reach its free.
 * Set OpenSSL's allocators first thing in main, before anything is allocated, as OpenSSL asks
 * (before any library constructor is not possible: this one runs first and allocates nothing).
 */
#ifndef CVMA_COMMON_ALLOCFAIL_H
#define CVMA_COMMON_ALLOCFAIL_H

#include <stdbool.h>

enum cvma_allocfail_lib {
    CVMA_ALLOCFAIL_OPENSSL = 1u << 0,
    CVMA_ALLOCFAIL_JANSSON = 1u << 1,
};

/* The libraries whose failed allocations are counted now (a mask of the above): those whose
 * allocators are the ones installed at load (installed first if the constructor did not run). */
unsigned cvma_allocfail_counted(void);

/* The calling thread's count of failed allocations in the counted libraries. */
unsigned long cvma_allocfail_count(void);

/*
 * What a call made while an allocation failed must not be kept: OpenSSL marks a certificate as
 * processed even when an allocation inside that failed, so a chain verified then may fail (or
 * hold less) ever after. cvma_allocfail_begin marks the calling thread's count where a
 * verification begins (cvma_verify, cvma_evidence_from_bytes, cvma_verifier_new); the caches
 * (the chain cache, the collateral directory cache, the prepared collateral of an evidence)
 * keep nothing while cvma_allocfail_since_begin is true, so a later call builds it again.
 */
void cvma_allocfail_begin(void);
bool cvma_allocfail_since_begin(void);

#endif
