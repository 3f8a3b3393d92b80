/* Name resolution with a deadline (see common/resolve.h). */
#include "common/resolve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"

static atomic_int pending;

/* One look-up, shared by the caller and its thread: whichever lets go last frees it. */
struct lookup {
    pthread_mutex_t lock;
    pthread_cond_t done_cv; /* on CLOCK_MONOTONIC */
    int refs;               /* under lock: 2 while both hold it */
    bool done;              /* under lock */
    int rc;                 /* under lock, once done */
    int err;                /* under lock, once done: the thread's errno (rc EAI_SYSTEM) */
    struct addrinfo *res;   /* under lock: the answer until the caller takes it */
    struct addrinfo hints;
    char *host, *service;
};

static void lookup_free(struct lookup *l)
{
    if (l->res != NULL) {
        freeaddrinfo(l->res);
    }
    pthread_cond_destroy(&l->done_cv);
    pthread_mutex_destroy(&l->lock);
    free(l->host);
    free(l->service);
    free(l);
}

/* Drops one hold on l, freeing it when it was the last. */
static void lookup_release(struct lookup *l)
{
    pthread_mutex_lock(&l->lock);
    bool last = --l->refs == 0;
    pthread_mutex_unlock(&l->lock);
    if (last) {
        lookup_free(l);
    }
}

static void *lookup_run(void *arg)
{
    struct lookup *l = arg;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(l->host, l->service, &l->hints, &res);
    int err = errno;
    pthread_mutex_lock(&l->lock);
    l->rc = rc;
    l->err = err;
    l->res = rc == 0 ? res : NULL;
    l->done = true;
    pthread_cond_signal(&l->done_cv);
    pthread_mutex_unlock(&l->lock);
    lookup_release(l);
    atomic_fetch_sub(&pending, 1);
    return NULL;
}

static struct lookup *lookup_new(const char *host, const char *service,
                                 const struct addrinfo *hints)
{
    struct lookup *l = calloc(1, sizeof *l);
    if (l == NULL) {
        return NULL;
    }
    pthread_condattr_t ca;
    bool cv = false, mu = false;
    if (pthread_condattr_init(&ca) == 0) {
        cv = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&l->done_cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    mu = cv && pthread_mutex_init(&l->lock, NULL) == 0;
    l->host = strdup(host);
    l->service = service != NULL ? strdup(service) : NULL;
    if (!mu || l->host == NULL || (service != NULL && l->service == NULL)) {
        if (cv) {
            pthread_cond_destroy(&l->done_cv);
        }
        if (mu) {
            pthread_mutex_destroy(&l->lock);
        }
        free(l->host);
        free(l->service);
        free(l);
        return NULL;
    }
    l->hints = *hints;
    l->refs = 2;
    return l;
}

int cvma_getaddrinfo_until(const char *host, const char *service, const struct addrinfo *hints,
                           int64_t deadline_ms, struct addrinfo **res)
{
    /* getaddrinfo's own default for no hints (glibc) */
    static const struct addrinfo no_hints = {.ai_family = AF_UNSPEC,
                                             .ai_flags = AI_V4MAPPED | AI_ADDRCONFIG};
    *res = NULL;
    if (host == NULL || deadline_ms == 0) {
        return getaddrinfo(host, service, hints, res);
    }
    if (hints == NULL) {
        hints = &no_hints;
    }
    /* An address needs no resolver. */
    struct addrinfo numeric = *hints;
    numeric.ai_flags |= AI_NUMERICHOST;
    int rc = getaddrinfo(host, service, &numeric, res);
    if (rc != EAI_NONAME) {
        return rc;
    }
    *res = NULL;
    if (cvma_monotonic_ms() >= deadline_ms) {
        return EAI_AGAIN; /* no time left to wait for a look-up */
    }
    if (atomic_fetch_add(&pending, 1) >= CVMA_RESOLVE_PENDING_MAX) {
        atomic_fetch_sub(&pending, 1);
        return EAI_AGAIN;
    }
    struct lookup *l = lookup_new(host, service, hints);
    if (l == NULL) {
        atomic_fetch_sub(&pending, 1);
        return EAI_MEMORY;
    }
    /* The thread takes no signals: they stay with the threads that handle them. */
    pthread_attr_t attr;
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    if ((rc = pthread_attr_init(&attr)) != 0) {
        lookup_free(l);
        atomic_fetch_sub(&pending, 1);
        errno = rc;
        return EAI_SYSTEM;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&t, &attr, lookup_run, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        lookup_free(l);
        atomic_fetch_sub(&pending, 1);
        errno = rc;
        return EAI_SYSTEM;
    }

    struct timespec until = {.tv_sec = (time_t)(deadline_ms / 1000),
                             .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
    pthread_mutex_lock(&l->lock);
    /* Any failure of the wait (ETIMEDOUT, or EINVAL for a time it cannot take) ends it: never
     * spin on one. */
    while (!l->done && pthread_cond_timedwait(&l->done_cv, &l->lock, &until) == 0) {
    }
    int err = 0;
    if (l->done) {
        rc = l->rc;
        err = l->err;
        *res = l->res; /* taken: the thread no longer frees it */
        l->res = NULL;
    } else {
        rc = EAI_AGAIN; /* the thread frees its answer when it comes */
    }
    pthread_mutex_unlock(&l->lock);
    lookup_release(l);
    if (rc == EAI_SYSTEM) {
        errno = err; /* the look-up thread's, as getaddrinfo would have left it here */
    }
    return rc;
}

int cvma_resolve_pending(void)
{
    return atomic_load(&pending);
}
