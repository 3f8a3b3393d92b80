/*
 * The connections of one libmicrohttpd daemon, for the time limits on a request's header and
 * body, shared by `cvmattest serve` (server.c) and `cvmattest witness serve`.
 *
 * libmicrohttpd 0.9.75 closes a connection that stays silent for its idle time-out, but not
 * one that trickles its header a byte at a time: cvma_conns_sweep closes a connection that has
 * not sent a whole request header within the time-out (and 2 s more, so that a merely idle one
 * is left to libmicrohttpd) of its start or of its previous request's end. The header's own
 * size is bounded by libmicrohttpd's memory pool. A body must be whole by the deadline the
 * request handler sets (cvma_conns_body_due): a chunked body's framing (chunk-size digits,
 * chunk extensions, trailer fields) never reaches the handler, so the sweep also closes a
 * connection whose body is still awaited past its deadline.
 *
 * Use: MHD_OPTION_NOTIFY_CONNECTION, cvma_conns_notify, cs; in the access handler's first
 * call cvma_conns_header_done then cvma_conns_body_due, cvma_conns_body_done once the body is
 * whole; in MHD_OPTION_NOTIFY_COMPLETED cvma_conns_request_end; and cvma_conns_sweep about
 * once a second from a thread of the caller's (not libmicrohttpd's).
 */
#ifndef CVMA_SERVER_CONNS_H
#define CVMA_SERVER_CONNS_H

#include <pthread.h>
#include <stdbool.h>

#include <microhttpd.h>

struct cvma_conn;

struct cvma_conns {
    pthread_mutex_t lock;
    struct cvma_conn *head; /* under lock */
    unsigned timeout;       /* seconds: a request header's time limit is this + 2 */
    const char *who;        /* the prefix of the line written when a connection is refused */
};

/* Caller-provided storage; who (borrowed, outlives cs) starts the out-of-memory line. */
void cvma_conns_init(struct cvma_conns *cs, unsigned timeout, const char *who);
/* After the daemon is stopped (every connection's entry is freed by then). */
void cvma_conns_cleanup(struct cvma_conns *cs);

/* MHD_OPTION_NOTIFY_CONNECTION (cls: the struct cvma_conns): a connection's entry is made when
 * it starts and freed when it closes. A connection whose entry cannot be made is shut down
 * (its header would have no time limit) and a line saying so written to stderr. */
void cvma_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe);

/* A request's header is whole: out of the sweep's header limit. */
void cvma_conns_header_done(struct MHD_Connection *c);
/* The request's body must be whole by by_ms (CLOCK_MONOTONIC, as cvma_monotonic_ms). */
void cvma_conns_body_due(struct MHD_Connection *c, long long by_ms);
/* The body is whole: no deadline any more. */
void cvma_conns_body_done(struct MHD_Connection *c);
/* MHD_OPTION_NOTIFY_COMPLETED: the next request's header has the time-out from now. Returns
 * whether the request ended with its body still due past its deadline (cut by the sweep). */
bool cvma_conns_request_end(struct MHD_Connection *c);

/* Shuts down the connections past their header or body limit; libmicrohttpd then sees them
 * end and closes them. before_cut (may be NULL) is called first, under the lock, with the
 * number of connections cut for want of a whole header, when there are any (so that a client
 * that sees its connection closed finds it counted). Returns the number of connections cut. */
unsigned cvma_conns_sweep(struct cvma_conns *cs, void (*before_cut)(void *arg, unsigned n_header),
                          void *arg);

#endif
