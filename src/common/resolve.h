/* Name resolution with a deadline: getaddrinfo has no time-out of its own. */
#ifndef CVMA_COMMON_RESOLVE_H
#define CVMA_COMMON_RESOLVE_H

#include <netdb.h>
#include <stdint.h>

/* At most this many look-ups wait in their own threads at once, process-wide (see below). */
#define CVMA_RESOLVE_PENDING_MAX 8

/*
 * getaddrinfo(host, service, hints, res), waiting no later than deadline_ms (a
 * cvma_monotonic_ms time; 0: no deadline, getaddrinfo is called as it is).
 *
 * A numeric host (an IPv4 or IPv6 address) is converted at once. A name is looked up in a
 * thread of its own while the caller waits: when the deadline passes first, the caller gets
 * EAI_AGAIN (as from a resolver that did not answer) and the look-up is left to finish in its
 * thread, which then frees what it got. At most CVMA_RESOLVE_PENDING_MAX such threads exist
 * at once, so a resolver that never answers costs a bounded number of threads; beyond that
 * the call fails at once with EAI_AGAIN. EAI_SYSTEM (errno set) when no thread can be made
 * or the look-up failed so (errno is then the look-up's), EAI_MEMORY when nothing can be
 * allocated. hints may be NULL, as for getaddrinfo.
 *
 * On 0 the caller owns *res and frees it with freeaddrinfo; otherwise *res is NULL.
 */
int cvma_getaddrinfo_until(const char *host, const char *service, const struct addrinfo *hints,
                           int64_t deadline_ms, struct addrinfo **res);

/* How many look-ups are running in their own threads now (tests). */
int cvma_resolve_pending(void);

#endif
