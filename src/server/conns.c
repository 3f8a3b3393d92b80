#include "server/conns.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/timeutil.h"

/* One connection (server/conns.h). */
struct cvma_conn {
    struct cvma_conn *prev, *next; /* in cvma_conns.head, under its lock */
    int fd;
    bool shut;               /* shut down by the sweep (under the lock) */
    bool cut;                /* to be shut down by this sweep (under the lock) */
    atomic_llong since_ms;   /* CLOCK_MONOTONIC: the connection's start or last request's end */
    atomic_bool in_request;  /* from a request's whole header to its completion */
    atomic_llong body_by_ms; /* CLOCK_MONOTONIC: when the request's body is due; 0: none due */
};

/* see server/conns.h */
void cvma_conns_init(struct cvma_conns *cs, unsigned timeout, const char *who)
{
    pthread_mutex_init(&cs->lock, NULL);
    cs->head = NULL;
    cs->timeout = timeout;
    cs->who = who;
}

/* see server/conns.h */
void cvma_conns_cleanup(struct cvma_conns *cs)
{
    pthread_mutex_destroy(&cs->lock);
}

/* The connection's entry (NULL when it has none: made before the notification, or closed). */
static struct cvma_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

/* see server/conns.h. libmicrohttpd closes the descriptor only after the CLOSED notification,
 * so the sweep, under the same lock, never shuts down a descriptor that is closed or reused. */
void cvma_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe)
{
    struct cvma_conns *cs = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct cvma_conn *k = ci != NULL ? calloc(1, sizeof *k) : NULL;
        if (k == NULL) {
            /* not tracked, so not served: its header would have no time limit */
            char line[160];
            if (ci != NULL) {
                shutdown(ci->connect_fd, SHUT_RDWR);
            }
            int n = snprintf(line, sizeof line, "%s out of memory: a new connection is closed\n",
                             cs->who);
            if (n > 0) {
                /* one write: never interleaved with another thread's line */
                ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
                (void)w;
            }
            return;
        }
        k->fd = ci->connect_fd;
        atomic_init(&k->since_ms, cvma_monotonic_ms());
        atomic_init(&k->in_request, false);
        atomic_init(&k->body_by_ms, 0);
        pthread_mutex_lock(&cs->lock);
        k->next = cs->head;
        if (cs->head != NULL) {
            cs->head->prev = k;
        }
        cs->head = k;
        pthread_mutex_unlock(&cs->lock);
        *socket_context = k;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != NULL) {
        struct cvma_conn *k = *socket_context;
        pthread_mutex_lock(&cs->lock);
        if (k->prev != NULL) {
            k->prev->next = k->next;
        } else {
            cs->head = k->next;
        }
        if (k->next != NULL) {
            k->next->prev = k->prev;
        }
        pthread_mutex_unlock(&cs->lock);
        *socket_context = NULL;
        free(k);
    }
}

/* see server/conns.h */
void cvma_conns_header_done(struct MHD_Connection *c)
{
    struct cvma_conn *k = conn_of(c);
    if (k != NULL) {
        atomic_store(&k->in_request, true);
    }
}

/* see server/conns.h */
void cvma_conns_body_due(struct MHD_Connection *c, long long by_ms)
{
    struct cvma_conn *k = conn_of(c);
    if (k != NULL) {
        atomic_store(&k->body_by_ms, by_ms);
    }
}

/* see server/conns.h */
void cvma_conns_body_done(struct MHD_Connection *c)
{
    struct cvma_conn *k = conn_of(c);
    if (k != NULL) {
        atomic_store(&k->body_by_ms, 0);
    }
}

/* see server/conns.h */
bool cvma_conns_request_end(struct MHD_Connection *c)
{
    struct cvma_conn *k = conn_of(c);
    bool late = false;
    if (k != NULL) {
        long long due = atomic_exchange(&k->body_by_ms, 0);
        late = due != 0 && cvma_monotonic_ms() > due;
        atomic_store(&k->since_ms, cvma_monotonic_ms());
        atomic_store(&k->in_request, false);
    }
    return late;
}

/* see server/conns.h. A header is due within the time-out and 2 s of the connection's start or
 * previous request's end (the 2 s leave a silent one to libmicrohttpd's idle time-out, which
 * comes first); a body by its deadline (a chunked body can trickle framing that never reaches
 * the handler, each byte resetting libmicrohttpd's idle time-out). */
unsigned cvma_conns_sweep(struct cvma_conns *cs, void (*before_cut)(void *arg, unsigned n_header),
                          void *arg)
{
    long long now = cvma_monotonic_ms(), limit = ((long long)cs->timeout + 2) * 1000;
    unsigned n_header = 0, n = 0;
    pthread_mutex_lock(&cs->lock);
    for (struct cvma_conn *k = cs->head; k != NULL; k = k->next) {
        long long due = atomic_load(&k->body_by_ms);
        bool slow_header =
                !k->shut && !atomic_load(&k->in_request) && now - atomic_load(&k->since_ms) > limit;
        bool slow_body = !k->shut && due != 0 && now > due;
        k->cut = slow_header || slow_body;
        n_header += slow_header;
        n += k->cut;
    }
    if (n_header > 0 && before_cut != NULL) {
        before_cut(arg, n_header);
    }
    if (n > 0) {
        for (struct cvma_conn *k = cs->head; k != NULL; k = k->next) {
            if (k->cut) {
                shutdown(k->fd, SHUT_RDWR);
                k->shut = true;
            }
        }
    }
    pthread_mutex_unlock(&cs->lock);
    return n;
}
