/* Prometheus text metrics of the service (docs/service.md), locked for the worker threads. */
#ifndef CVMA_SERVER_METRICS_H
#define CVMA_SERVER_METRICS_H

#include "cvmattest/cvmattest.h"

struct cvma_metrics;

struct cvma_metrics *cvma_metrics_new(void);
void cvma_metrics_free(struct cvma_metrics *m);

/* One finished request: its endpoint, HTTP status (0: the client went away), the error code
 * it was answered with ("" when none) and its duration. */
void cvma_metrics_request(struct cvma_metrics *m, const char *endpoint, int status,
                          const char *error, double seconds);
/* One verification's outcome: its status and every reason by code. */
void cvma_metrics_result(struct cvma_metrics *m, const struct cvma_result *r);

/* n connections closed for want of a whole request header in time (slow clients). */
void cvma_metrics_slow_clients(struct cvma_metrics *m, unsigned n);

/* The exposition text (malloc'd), with in_flight as a gauge and the verifier's counters
 * (cvma_verifier_counters; v may be NULL) as cvmattest_<name>_total. */
char *cvma_metrics_text(struct cvma_metrics *m, int in_flight, const struct cvma_verifier *v);

#endif
