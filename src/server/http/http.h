/*
 * http.h: riskgated's own small HTTP layer. Handlers see only these types;
 * h2o (server.c) stays behind them, so the HTTP library can change without
 * touching a handler.
 *
 * A request is dispatched through a route table (router.c): patterns are
 * '/'-separated segments, where "{v}" matches the Graph API version ("beta"
 * or "v1.0") and "{}" matches any one segment and is captured into
 * req->params[] in order. Literal segments and the version match in any case,
 * as Graph's do ("/Beta/users/{id}/Members"); the server first rewrites OData
 * key syntax ("coll('id')") with http_path_normalize. A handler fills the response; the server sends it,
 * logs it and counts it in the metrics.
 */
#ifndef RG_HTTP_H
#define RG_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/log.h"

#define HTTP_MAX_PARAMS 6
#define HTTP_MAX_BODY (1u << 20) /* request bodies above 1 MiB answer 400 requestBodyTooLarge */
#define HTTP_MAX_IMPORT_BODY HTTP_MAX_BODY /* batches (indicator import): h2o buffers bodies before auth, so no larger */
#define HTTP_RESPONSE_CAP (64u << 20)

struct http_request {
    const char *method;        /* "GET", ... NUL-terminated, borrowed */
    const char *path;          /* path without the query, NUL-terminated */
    const char *query;         /* raw query string after '?', "" if none */
    const char *body;          /* request body (not NUL-terminated), may be NULL */
    size_t body_len;
    const char *authorization; /* Authorization header value or NULL (never log it) */
    const char *if_match;      /* If-Match header value or NULL */
    const char *version;       /* "beta" or "v1.0" when the route has {v}, else NULL */
    const char *params[HTTP_MAX_PARAMS]; /* captured "{}" segments */
    size_t nparams;
    const char *route;         /* the matched pattern, for logs and metrics */
    const char *client_request_id; /* client-request-id header when sent and well-formed, else NULL */
    const char *peer;          /* the connection's peer address ("127.0.0.1", "::1"), "" if unknown */
    const char *forwarded_for; /* X-Forwarded-For header or NULL; trust it only from a trusted proxy (ratelimit.h) */
    const char *consistency_level; /* ConsistencyLevel header or NULL (Graph's advanced queries: "eventual") */
    char tenant[128];          /* set by the handler once authenticated, for logs; "" = none */
    const void *route_arg;     /* the matched route's arg */
    void *impl;                /* the server's own request (opaque to handlers; http_suspend needs it); NULL in a batch step */
    const struct http_request *parent; /* the $batch request this is a step of, or NULL for a direct request */
};

struct http_response {
    int status;                /* 200 unless set */
    const char *content_type;  /* static string; default application/json */
    struct buf body;
    char location[512];        /* Location header when non-empty */
    char etag[96];             /* ETag header when non-empty */
    char warning[600];         /* Warning header when non-empty (trusted text only: it is sent as is) */
    int suspended;             /* set by http_suspend: the server sends nothing now */
    int retry_after;           /* Retry-After seconds; 429 and 503 get one even when 0 */
    char request_id[40];       /* set by the server: the request-id header, in error bodies and the access log */
    char client_request_id[72];/* the client's client-request-id, or the request id */
};

/*
 * Suspended requests (long-poll): a handler that has nothing to say yet calls
 * http_suspend and returns; the request stays open on the event loop at the
 * cost of its connection and this small record, no thread. Later, exactly one
 * of these happens:
 *   - the owner calls http_pending_finish (e.g. a change it waited for);
 *   - after `seconds`, on_timeout runs (it must call http_pending_finish);
 *   - the client goes away or the server shuts down without an answer:
 *     on_cancel runs, and the record must not be used after it returns.
 * Callbacks run on the loop thread. Returns NULL (and answers 503) when the
 * request cannot be suspended, and NULL with a 400 for a step of a $batch
 * (req->parent set), which must answer at once.
 */
struct http_pending;
struct http_server;
typedef void (*http_pending_fn)(void *app, struct http_pending *p, void *data);
struct http_pending *http_suspend(struct http_request *req, struct http_response *res, unsigned seconds,
                                  http_pending_fn on_timeout, http_pending_fn on_cancel, void *data);
/* Sends the answer of a suspended request (status, JSON body); the record is gone after it. */
void http_pending_finish(struct http_pending *p, int status, const char *body, size_t len);
/* The same with r's status, Location and ETag headers (a suspended create's 201). */
void http_pending_finish_res(struct http_pending *p, const struct http_response *r, const char *body, size_t len);
/* The data pointer given to http_suspend. */
void *http_pending_data(const struct http_pending *p);
/*
 * Watches fd (e.g. a worker pool's eventfd) on the loop: cb(arg) runs on the
 * loop thread each time fd is readable, until http_server_free. The server
 * keeps its own dup of fd. 0, or RG_EIO / RG_ETOOBIG (at most 4 watchers).
 */
int http_server_watch(struct http_server *srv, int fd, void (*cb)(void *arg), void *arg);
/* Number of requests suspended right now (for metrics). */
size_t http_server_suspended(const struct http_server *srv);

typedef void (*http_handler_fn)(void *app, struct http_request *req, struct http_response *res);

struct http_route {
    const char *method;  /* "GET", "POST", "PATCH", "PUT", "DELETE" */
    const char *pattern; /* e.g. "/{v}/deviceAppManagement/androidManagedAppProtections/{}" */
    http_handler_fn fn;
    const void *arg;     /* handed to the handler as req->route_arg (e.g. a resource descriptor) */
    size_t max_body;     /* largest accepted body; 0 = HTTP_MAX_BODY; never more than HTTP_MAX_BODY (h2o's limit) */
};

/*
 * Fills res with Graph's error body and the status:
 *   {"error":{"code":code,"message":...,"innerError":{"date":...,"request-id":...,"client-request-id":...}}}
 * The message should name the offending property when there is one. Bytes of
 * the message that are not valid UTF-8, and control characters, are written
 * as \xNN, so any input echoed in it still gives a JSON body.
 */
void http_error(struct http_response *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Routes req (method, path, query, body and headers filled; params, version
 * and route are set here) and runs the matched handler into res, or fills res
 * with 404/405, or 400 when the body is over the route's limit: what the
 * server does for every request, used also for the steps of a $batch.
 * scratch (scratch_len bytes) holds the captured segments and must outlive
 * req's use. The handler may suspend res (direct requests only).
 */
void http_dispatch(const struct http_route *routes, size_t nroutes, void *app, struct http_request *req,
                   struct http_response *res, char *scratch, size_t scratch_len);

/* Result of matching a path against a table. */
enum http_match { HTTP_MATCH_OK, HTTP_MATCH_NO_ROUTE, HTTP_MATCH_BAD_METHOD };

/*
 * Finds the route for (method, path); on HTTP_MATCH_OK fills req->params,
 * req->nparams, req->version and req->route and sets *out. Segments are copied
 * into scratch (size scratch_len) so they are NUL-terminated. Pure.
 */
enum http_match http_route_match(const struct http_route *routes, size_t nroutes, struct http_request *req,
                                 char *scratch, size_t scratch_len, const struct http_route **out);

/*
 * Rewrites OData key syntax in a raw request path into plain segments, as
 * Graph treats them alike: "coll('id')", "coll(id)" and "coll('id')/x" become
 * "coll/id" and "coll/id/x"; "fn()" becomes "fn". A doubled quote inside a
 * quoted key ('') is one quote, written %27 (the router decodes captured
 * segments once); %27, %28 and %29 count as the quote and parentheses. Other
 * segments are copied as sent. Returns 0, or -1 when out (outlen bytes) is too
 * small. Pure.
 */
int http_path_normalize(const char *path, char *out, size_t outlen);

/* Decodes one %XX-encoded query value in place; returns its length or -1 if malformed. */
int http_url_decode(char *s);
/*
 * Looks up a query parameter (e.g. "$top") in a raw query string and copies its
 * decoded value into out. Returns 1 found, 0 absent, -1 malformed or too long.
 */
int http_query_get(const char *query, const char *name, char *out, size_t outlen);

/* Prometheus metrics: request counts and latency histograms by route and status. */
struct http_metrics;
struct http_metrics *http_metrics_new(void);
void http_metrics_free(struct http_metrics *m);
void http_metrics_observe(struct http_metrics *m, const char *method, const char *route, int status, double seconds);
/* Appends the Prometheus text exposition format. */
int http_metrics_render(const struct http_metrics *m, struct buf *out);
/* Counts a failed accept (descriptors or memory exhausted); paused: accepting paused after it. NULL m is fine. */
void http_metrics_accept_failed(struct http_metrics *m, int paused);

struct http_server_config {
    const char *listen;   /* "ADDR:PORT", "[::1]:PORT"; PORT 0 = ephemeral */
    const char *tls_cert; /* PEM file or NULL for plain HTTP */
    const char *tls_key;
    const struct http_route *routes;
    size_t nroutes;
    void *app;            /* passed to every handler */
    const struct log *log;
    struct http_metrics *metrics;
    void (*tick)(void *app); /* periodic work (e.g. deferred writes), about once a second on the loop; may be NULL */
    void (*request_done)(void *app); /* after each request's handler returned (answered or suspended); may be NULL */
};

struct http_server;
/*
 * Binds and listens. On failure returns RG_EIO / RG_EINVAL with err filled.
 * *bound_port receives the port actually bound (useful with port 0).
 */
int http_server_new(const struct http_server_config *cfg, struct http_server **out, int *bound_port, char *err,
                    size_t errlen);
/*
 * Runs the event loop until *stop becomes non-zero, then stops accepting,
 * times out every suspended request (so each gets its answer) and drains.
 */
int http_server_run(struct http_server *srv, volatile int *stop);
void http_server_free(struct http_server *srv);
#endif
