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
 * change once it has allocated anything), and is then told by cvma_allocfail_counted which
 * library is not counted. Where a library is not counted, out of memory inside it is only seen
 * where it reports one.
 */
#ifndef CVMA_COMMON_ALLOCFAIL_H
#define CVMA_COMMON_ALLOCFAIL_H

#include <stdbool.h>

enum cvma_allocfail_lib {
    CVMA_ALLOCFAIL_OPENSSL = 1u << 0,
    CVMA_ALLOCFAIL_JANSSON = 1u << 1,
};

/* Installs the counting allocators where the libraries still have their defaults (once, from
 * any thread; run at load time). Returns the libraries counted, a mask of the above. */
unsigned cvma_allocfail_install(void);

/* The libraries whose failed allocations are counted now (installing first if need be): those
 * whose allocators are still the ones installed. */
unsigned cvma_allocfail_counted(void);

/* The calling thread's count of failed allocations in the counted libraries. */
unsigned long cvma_allocfail_count(void);

#endif
