/*
 * metrics.c: Prometheus counters and latency histograms of HTTP requests,
 * keyed by (method, route pattern, status). Route patterns, not raw paths,
 * keep the number of series small and bounded by the route table.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "server/http/http.h"

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])
#define MAX_SERIES 4096

struct series {
    const char *method; /* static strings from the route table, or "-" */
    const char *route;
    int status;
    uint64_t count;
    double sum;
    uint64_t bucket[NBUCKETS];
};

struct http_metrics {
    struct series *s;
    size_t n, alloc;
    uint64_t dropped;
    uint64_t accept_failures, accept_pauses;
};

struct http_metrics *http_metrics_new(void)
{
    return calloc(1, sizeof(struct http_metrics));
}

void http_metrics_free(struct http_metrics *m)
{
    if (!m)
        return;
    free(m->s);
    free(m);
}

static const char *canonical_method(const char *m)
{
    static const char *const known[] = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(m, known[i]))
            return known[i];
    return "other";
}

void http_metrics_observe(struct http_metrics *m, const char *method, const char *route, int status, double seconds)
{
    if (!m)
        return;
    method = canonical_method(method);
    if (!route)
        route = "unmatched";
    struct series *hit = NULL;
    for (size_t i = 0; i < m->n; i++) {
        struct series *s = &m->s[i];
        if (s->status == status && s->method == method && (s->route == route || !strcmp(s->route, route))) {
            hit = s;
            break;
        }
    }
    if (!hit) {
        if (m->n == MAX_SERIES) {
            m->dropped++;
            return;
        }
        if (m->n == m->alloc) {
            size_t na = m->alloc ? m->alloc * 2 : 64;
            struct series *ns = realloc(m->s, na * sizeof *ns);
            if (!ns) {
                m->dropped++;
                return;
            }
            m->s = ns;
            m->alloc = na;
        }
        hit = &m->s[m->n++];
        memset(hit, 0, sizeof *hit);
        hit->method = method;
        hit->route = route;
        hit->status = status;
    }
    hit->count++;
    hit->sum += seconds;
    for (size_t b = 0; b < NBUCKETS; b++)
        if (seconds <= buckets[b])
            hit->bucket[b]++;
}

int http_metrics_render(const struct http_metrics *m, struct buf *out)
{
    int rc = 0;
    rc |= buf_puts(out, "# HELP riskgate_http_requests_total HTTP requests by method, route and status.\n"
                        "# TYPE riskgate_http_requests_total counter\n");
    for (size_t i = 0; i < m->n; i++) {
        const struct series *s = &m->s[i];
        rc |= buf_printf(out, "riskgate_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
                         s->method, s->route, s->status, (unsigned long long)s->count);
    }
    rc |= buf_puts(out, "# HELP riskgate_http_request_duration_seconds HTTP request latency.\n"
                        "# TYPE riskgate_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n; i++) {
        const struct series *s = &m->s[i];
        char labels[512];
        snprintf(labels, sizeof labels, "method=\"%s\",route=\"%s\",status=\"%d\"", s->method, s->route, s->status);
        for (size_t b = 0; b < NBUCKETS; b++)
            rc |= buf_printf(out, "riskgate_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", labels,
                             buckets[b], (unsigned long long)s->bucket[b]);
        rc |= buf_printf(out, "riskgate_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", labels,
                         (unsigned long long)s->count);
        rc |= buf_printf(out, "riskgate_http_request_duration_seconds_sum{%s} %.6f\n", labels, s->sum);
        rc |= buf_printf(out, "riskgate_http_request_duration_seconds_count{%s} %llu\n", labels,
                         (unsigned long long)s->count);
    }
    rc |= buf_printf(out, "# HELP riskgate_http_series_dropped_total Observations not recorded (series limit).\n"
                          "# TYPE riskgate_http_series_dropped_total counter\nriskgate_http_series_dropped_total %llu\n",
                     (unsigned long long)m->dropped);
    rc |= buf_printf(out, "# HELP riskgate_accept_failures_total Connections that could not be accepted (descriptors or "
                          "memory exhausted).\n# TYPE riskgate_accept_failures_total counter\n"
                          "riskgate_accept_failures_total %llu\n"
                          "# HELP riskgate_accept_pauses_total Times accepting paused for a moment after such a failure.\n"
                          "# TYPE riskgate_accept_pauses_total counter\nriskgate_accept_pauses_total %llu\n",
                     (unsigned long long)m->accept_failures, (unsigned long long)m->accept_pauses);
    return rc ? RG_ENOMEM : 0;
}

void http_metrics_accept_failed(struct http_metrics *m, int paused)
{
    if (!m)
        return;
    m->accept_failures++;
    m->accept_pauses += paused != 0;
}
