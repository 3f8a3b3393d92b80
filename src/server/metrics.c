#include "server/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define MAX_SERIES 256
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

struct series {
    char a[48], b[48]; /* labels */
    int status;
    unsigned long long n;
};

struct hist {
    char endpoint[16];
    unsigned long long b[N_BUCKETS];
    unsigned long long count;
    double sum;
};

struct cvma_metrics {
    pthread_mutex_t lock;
    struct series req[MAX_SERIES]; /* endpoint, error; status */
    size_t n_req;
    struct series res[MAX_SERIES]; /* result status */
    size_t n_res;
    struct series rsn[MAX_SERIES]; /* reason code, severity */
    size_t n_rsn;
    struct hist h[8];
    size_t n_h;
    unsigned long long slow_headers; /* connections closed: no whole request in time */
};

struct cvma_metrics *cvma_metrics_new(void)
{
    struct cvma_metrics *m = calloc(1, sizeof *m);
    if (m != NULL) {
        pthread_mutex_init(&m->lock, NULL);
    }
    return m;
}

void cvma_metrics_free(struct cvma_metrics *m)
{
    if (m != NULL) {
        pthread_mutex_destroy(&m->lock);
        free(m);
    }
}

/* Under the lock: counts one in the series (a, b, status), added when new and room is left. */
static void bump(struct series *t, size_t *n, const char *a, const char *b, int status)
{
    for (size_t i = 0; i < *n; i++) {
        if (t[i].status == status && strcmp(t[i].a, a) == 0 && strcmp(t[i].b, b) == 0) {
            t[i].n++;
            return;
        }
    }
    if (*n < MAX_SERIES) {
        snprintf(t[*n].a, sizeof t[*n].a, "%s", a);
        snprintf(t[*n].b, sizeof t[*n].b, "%s", b);
        t[*n].status = status;
        t[*n].n = 1;
        (*n)++;
    }
}

void cvma_metrics_request(struct cvma_metrics *m, const char *endpoint, int status,
                          const char *error, double seconds)
{
    pthread_mutex_lock(&m->lock);
    bump(m->req, &m->n_req, endpoint, error, status);
    struct hist *h = NULL;
    for (size_t i = 0; i < m->n_h; i++) {
        if (strcmp(m->h[i].endpoint, endpoint) == 0) {
            h = &m->h[i];
        }
    }
    if (h == NULL && m->n_h < sizeof m->h / sizeof m->h[0]) {
        h = &m->h[m->n_h++];
        snprintf(h->endpoint, sizeof h->endpoint, "%s", endpoint);
    }
    if (h != NULL) {
        for (size_t i = 0; i < N_BUCKETS; i++) {
            if (seconds <= buckets[i]) {
                h->b[i]++;
            }
        }
        h->count++;
        h->sum += seconds;
    }
    pthread_mutex_unlock(&m->lock);
}

void cvma_metrics_result(struct cvma_metrics *m, const struct cvma_result *r)
{
    pthread_mutex_lock(&m->lock);
    bump(m->res, &m->n_res, cvma_result_status_name(cvma_result_status(r)),
         cvma_result_undecided(r) ? "true" : "false", 0);
    for (size_t i = 0; i < cvma_result_reason_count(r); i++) {
        bump(m->rsn, &m->n_rsn, cvma_result_reason_code(r, i), cvma_result_reason_severity(r, i),
             0);
    }
    pthread_mutex_unlock(&m->lock);
}

struct out {
    char *p;
    size_t len, cap;
    bool bad;
};

static void put(struct out *o, const char *fmt, ...) CVMA_PRINTF(2, 3);
static void put(struct out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = o->bad ? 0 : vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (o->bad || n < 0) {
            o->bad = true;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        char *p = realloc(o->p, o->cap * 2 + (size_t)n);
        if (p == NULL) {
            o->bad = true;
            return;
        }
        o->p = p;
        o->cap = o->cap * 2 + (size_t)n;
    }
}

/* The verifier's counters, gathered to be written grouped by name (the text format wants a
 * metric's lines together, after its HELP and TYPE). */
#define MAX_COUNTERS 128
struct counters {
    size_t n;
    size_t omitted; /* did not fit: said in a comment line, never dropped silently */
    struct {
        char name[48], help[160], labels[160];
        unsigned long long value;
    } c[MAX_COUNTERS];
};

static void gather(const struct cvma_counter *c, void *arg)
{
    struct counters *cs = arg;
    size_t used = 0;
    if (cs->n >= MAX_COUNTERS) {
        cs->omitted++;
        return;
    }
    snprintf(cs->c[cs->n].name, sizeof cs->c[cs->n].name, "%s", c->name);
    snprintf(cs->c[cs->n].help, sizeof cs->c[cs->n].help, "%s", c->help);
    cs->c[cs->n].labels[0] = '\0';
    for (size_t i = 0; i < c->n_labels; i++) {
        int w = snprintf(cs->c[cs->n].labels + used, sizeof cs->c[cs->n].labels - used,
                         "%s%s=\"%s\"", i > 0 ? "," : "", c->label_names[i], c->label_values[i]);
        if (w < 0 || (size_t)w >= sizeof cs->c[cs->n].labels - used) {
            cs->omitted++; /* labels too long for the table: omitted rather than cut */
            return;
        }
        used += (size_t)w;
    }
    cs->c[cs->n].value = (unsigned long long)c->value;
    cs->n++;
}

static void put_counters(struct out *o, const struct counters *cs)
{
    if (cs->omitted > 0) {
        put(o, "# cvmattest: %zu counters omitted (over the table of %d)\n", cs->omitted,
            MAX_COUNTERS);
    }
    for (size_t i = 0; i < cs->n; i++) {
        bool first = true;
        for (size_t j = 0; j < i; j++) {
            first = first && strcmp(cs->c[j].name, cs->c[i].name) != 0;
        }
        if (!first) {
            continue;
        }
        put(o, "# HELP cvmattest_%s_total %s\n# TYPE cvmattest_%s_total counter\n", cs->c[i].name,
            cs->c[i].help, cs->c[i].name);
        for (size_t j = i; j < cs->n; j++) {
            if (strcmp(cs->c[j].name, cs->c[i].name) == 0) {
                put(o, "cvmattest_%s_total{%s} %llu\n", cs->c[j].name, cs->c[j].labels,
                    cs->c[j].value);
            }
        }
    }
}

void cvma_metrics_slow_clients(struct cvma_metrics *m, unsigned n)
{
    pthread_mutex_lock(&m->lock);
    m->slow_headers += n;
    pthread_mutex_unlock(&m->lock);
}

char *cvma_metrics_text(struct cvma_metrics *m, int in_flight, const struct cvma_verifier *v)
{
    struct out o = {malloc(8192), 0, 8192, false};
    if (o.p == NULL) {
        return NULL;
    }
    o.p[0] = '\0';
    pthread_mutex_lock(&m->lock);
    put(&o, "# HELP cvmattest_http_requests_total HTTP requests by endpoint, status and error "
            "code.\n# TYPE cvmattest_http_requests_total counter\n");
    for (size_t i = 0; i < m->n_req; i++) {
        put(&o, "cvmattest_http_requests_total{endpoint=\"%s\",status=\"%d\",error=\"%s\"} %llu\n",
            m->req[i].a, m->req[i].status, m->req[i].b, m->req[i].n);
    }
    put(&o,
        "# HELP cvmattest_http_slow_clients_total Connections closed without an answer: no "
        "whole request header within --timeout.\n# TYPE cvmattest_http_slow_clients_total "
        "counter\ncvmattest_http_slow_clients_total %llu\n",
        m->slow_headers);
    put(&o, "# HELP cvmattest_http_request_duration_seconds Time from the first byte of a "
            "request to its answer.\n# TYPE cvmattest_http_request_duration_seconds "
            "histogram\n");
    for (size_t i = 0; i < m->n_h; i++) {
        const struct hist *h = &m->h[i];
        for (size_t b = 0; b < N_BUCKETS; b++) {
            put(&o,
                "cvmattest_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} "
                "%llu\n",
                h->endpoint, buckets[b], h->b[b]);
        }
        put(&o,
            "cvmattest_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n",
            h->endpoint, h->count);
        put(&o, "cvmattest_http_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n", h->endpoint,
            h->sum);
        put(&o, "cvmattest_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
            h->endpoint, h->count);
    }
    put(&o, "# HELP cvmattest_verify_results_total Verifications by result status.\n"
            "# TYPE cvmattest_verify_results_total counter\n");
    for (size_t i = 0; i < m->n_res; i++) {
        put(&o, "cvmattest_verify_results_total{status=\"%s\",undecided=\"%s\"} %llu\n",
            m->res[i].a, m->res[i].b, m->res[i].n);
    }
    put(&o, "# HELP cvmattest_verify_reasons_total Reasons in verification results.\n"
            "# TYPE cvmattest_verify_reasons_total counter\n");
    for (size_t i = 0; i < m->n_rsn; i++) {
        put(&o, "cvmattest_verify_reasons_total{code=\"%s\",severity=\"%s\"} %llu\n", m->rsn[i].a,
            m->rsn[i].b, m->rsn[i].n);
    }
    pthread_mutex_unlock(&m->lock);
    put(&o,
        "# HELP cvmattest_http_requests_in_flight Requests being served.\n"
        "# TYPE cvmattest_http_requests_in_flight gauge\n"
        "cvmattest_http_requests_in_flight %d\n",
        in_flight);
    if (v != NULL) {
        struct counters *cs = calloc(1, sizeof *cs);
        if (cs == NULL) {
            o.bad = true;
        } else {
            cvma_verifier_counters(v, gather, cs);
            put_counters(&o, cs);
            free(cs);
        }
    }
    if (o.bad) {
        free(o.p);
        return NULL;
    }
    return o.p;
}
