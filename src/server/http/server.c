/*
 * server.c: the HTTP/1.1 server, on h2o's event loop (libh2o-evloop).
 *
 * The only file that includes h2o. It turns an h2o request into our
 * struct http_request, routes it, calls the handler, sends the response, and
 * logs and counts it. Handlers run on the loop thread and must not block for
 * long: one short SQLite transaction at most; CPU-heavy work (password
 * hashing) goes to the worker pool (server/work.h) and the request finishes
 * through http_suspend, woken by an fd the loop watches (http_server_watch).
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/err.h"
#include "common/jsonsafe.h"
#include "common/util.h"
#include "server/http/http.h"

#define H2O_MAX_ENTITY (4u << 20) /* h2o buffers a body before any handler runs (and before auth): 1-4 MiB get our 400, more a 413 */

#define MAX_SUSPEND_SECONDS 300

struct http_pending {
    h2o_req_t *hreq;
    struct http_server *srv;
    h2o_timeout_entry_t te;
    h2o_linklist_t link; /* in srv->pending */
    http_pending_fn on_timeout, on_cancel;
    void *data;
    int done;
    uint64_t t0;
    const char *method, *route, *path; /* in the request's pool */
    char tenant[128];
    char request_id[40];
};

struct http_server {
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    h2o_timeout_t accept_pause;   /* ACCEPT_PAUSE_MS: accepting resumes after a failure for want of descriptors */
    h2o_timeout_entry_t accept_te;
    int accept_pause_ready;
    uint64_t accept_failed, accept_logged_ns; /* failures since the last log line, and when it was written */
    /* access-log lines of requests no one authenticated: a token bucket, the rest counted and summed up */
    double anon_tokens;
    uint64_t anon_refill_ns, anon_summary_ns;
    uint64_t anon_dropped, anon_dropped_by[6]; /* by status class: [0] other, [1] 1xx ... [5] 5xx */
    SSL_CTX *ssl;
    struct http_server_config cfg;
    int ctx_ready;
    int stopping;
    h2o_linklist_t pending;                      /* suspended requests */
    size_t npending;
    h2o_timeout_t timeouts[MAX_SUSPEND_SECONDS + 1]; /* one h2o timeout per whole second, made on first use */
    unsigned char timeout_ready[MAX_SUSPEND_SECONDS + 1];
    struct watcher {
        h2o_socket_t *sock;
        void (*cb)(void *arg);
        void *arg;
    } watchers[4]; /* fds watched for other threads' completions (http_server_watch) */
    size_t nwatchers;
};

struct route_handler {
    h2o_handler_t super;
    struct http_server *srv;
};

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 429: return "Too Many Requests";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static char *pool_strndup(h2o_mem_pool_t *pool, const char *s, size_t n)
{
    char *p = h2o_mem_alloc_pool(pool, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static const char *header(h2o_req_t *req, const h2o_token_t *token)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    return pool_strndup(&req->pool, v.base, v.len);
}

/* A header by its lower-case name, in the request's pool, or NULL. */
static const char *header_named(h2o_req_t *req, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    return pool_strndup(&req->pool, v.base, v.len);
}

#define ANON_LOG_RATE 20.0     /* access-log lines per second for requests no one authenticated ... */
#define ANON_LOG_BURST 200.0   /* ... in bursts of this many; the rest are counted */
#define ANON_SUMMARY_SECONDS 10 /* and summed up in one line at most this often */

/*
 * True if an access-log line may be written for this request; counts it
 * otherwise. Requests no one authenticated (no tenant known, or refused 401)
 * and refusals for rate or load (429, 503) share the bucket; the rest is
 * always logged.
 */
static bool anon_log_admit(struct http_server *srv, const char *tenant, int status)
{
    if (tenant && tenant[0] && status != 401 && status != 429 && status != 503)
        return true; /* activation names its tenant before it is authenticated: its refusals still share the bucket */
    uint64_t now = util_mono_ns();
    if (!srv->anon_refill_ns) {
        srv->anon_tokens = ANON_LOG_BURST;
        srv->anon_refill_ns = now;
    }
    srv->anon_tokens += (double)(now - srv->anon_refill_ns) / 1e9 * ANON_LOG_RATE;
    if (srv->anon_tokens > ANON_LOG_BURST)
        srv->anon_tokens = ANON_LOG_BURST;
    srv->anon_refill_ns = now;
    if (srv->anon_tokens >= 1.0) {
        srv->anon_tokens -= 1.0;
        return true;
    }
    srv->anon_dropped++;
    srv->anon_dropped_by[status >= 100 && status < 600 ? status / 100 : 0]++;
    return false;
}

/* Writes the summary of the lines not written, when there are some and the period is over (or force). */
static void anon_log_summary(struct http_server *srv, bool force)
{
    uint64_t now = util_mono_ns();
    if (!srv->anon_dropped || (!force && now - srv->anon_summary_ns < ANON_SUMMARY_SECONDS * 1000000000ull))
        return;
    log_msg(srv->cfg.log, LOG_WARN,
            "access log: %llu unauthenticated or rate-limited requests not logged one by one (over %.0f lines/s): "
            "2xx %llu, 3xx %llu, 4xx %llu, 5xx %llu, other %llu",
            (unsigned long long)srv->anon_dropped, ANON_LOG_RATE, (unsigned long long)srv->anon_dropped_by[2],
            (unsigned long long)srv->anon_dropped_by[3], (unsigned long long)srv->anon_dropped_by[4],
            (unsigned long long)srv->anon_dropped_by[5],
            (unsigned long long)(srv->anon_dropped_by[0] + srv->anon_dropped_by[1]));
    srv->anon_dropped = 0;
    memset(srv->anon_dropped_by, 0, sizeof srv->anon_dropped_by);
    srv->anon_summary_ns = now;
}

/* Keeps a client-request-id only when it is short and plain (it is echoed in headers and logs). */
static const char *client_request_id(h2o_req_t *hreq)
{
    static const h2o_iovec_t name = {H2O_STRLIT("client-request-id")};
    ssize_t i = h2o_find_header_by_str(&hreq->headers, name.base, name.len, -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = hreq->headers.entries[i].value;
    if (!v.len || v.len > 64)
        return NULL;
    for (size_t k = 0; k < v.len; k++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:", v.base[k]))
            return NULL;
    return pool_strndup(&hreq->pool, v.base, v.len);
}

/* The connection's peer address as text, in the request's pool; "" if unknown. */
static const char *peer_address(h2o_req_t *hreq)
{
    struct sockaddr_storage ss;
    socklen_t sl = hreq->conn->callbacks->get_peername ? hreq->conn->callbacks->get_peername(hreq->conn, (struct sockaddr *)&ss) : 0;
    char host[NI_MAXHOST];
    if (!sl || getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, NULL, 0, NI_NUMERICHOST))
        return "";
    return pool_strndup(&hreq->pool, host, strlen(host));
}

static void add_header(h2o_req_t *hreq, const char *name, const char *value)
{
    size_t n = strlen(name);
    char *nv = pool_strndup(&hreq->pool, name, n);
    char *vv = pool_strndup(&hreq->pool, value, strlen(value));
    h2o_add_header_by_str(&hreq->pool, &hreq->res.headers, nv, n, 0, NULL, vv, strlen(vv));
}

/* request-id, client-request-id and, for 429 and 503, Retry-After. */
static void add_id_headers(h2o_req_t *hreq, int status, const char *request_id, const char *client_id,
                           int retry_after)
{
    add_header(hreq, "request-id", request_id);
    add_header(hreq, "client-request-id", client_id && client_id[0] ? client_id : request_id);
    if (status == 429 || status == 503 || retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after > 0 ? retry_after : status == 429 ? 1 : 5);
        add_header(hreq, "retry-after", v);
    }
}

void http_dispatch(const struct http_route *routes, size_t nroutes, void *app, struct http_request *req,
                   struct http_response *res, char *scratch, size_t scratch_len)
{
    const struct http_route *route = NULL;
    if (!req->parent) /* a $batch is one unit of work with its steps */
        jsonsafe_mark();
    switch (http_route_match(routes, nroutes, req, scratch, scratch_len, &route)) {
    case HTTP_MATCH_OK:
        if (req->body_len > (route->max_body ? route->max_body : HTTP_MAX_BODY))
            http_error(res, 400, "requestBodyTooLarge", "The request body is %zu bytes; the limit is %zu bytes.",
                       req->body_len, route->max_body ? route->max_body : (size_t)HTTP_MAX_BODY);
        else
            route->fn(app, req, res);
        break;
    case HTTP_MATCH_BAD_METHOD:
        http_error(res, 405, "MethodNotAllowed", "The method %s is not allowed on %s.", req->method, req->path);
        break;
    case HTTP_MATCH_NO_ROUTE:
        http_error(res, 404, "ResourceNotFound", "Resource not found for the segment '%s'.", req->path);
        break;
    }
    /*
     * Some JSON the handler built lost a member to a failed allocation (jsonsafe.h): what it
     * answers may be wrong, so it answers 500 (the store refused the writes that came after).
     */
    if (!req->parent && !res->suspended && jsonsafe_failed() && res->status < 500)
        http_error(res, 500, "InternalServerError", "The server ran out of memory while answering; try again.");
}

static int on_req(h2o_handler_t *self, h2o_req_t *hreq)
{
    struct http_server *srv = ((struct route_handler *)self)->srv;
    uint64_t t0 = util_mono_ns();

    struct http_request req = {0};
    struct http_response res = {.status = 200, .content_type = "application/json", .body = BUF_INIT(HTTP_RESPONSE_CAP)};
    req.method = pool_strndup(&hreq->pool, hreq->method.base, hreq->method.len);
    /* route on the path as sent: the router decodes each captured segment exactly once */
    size_t plen = hreq->query_at != SIZE_MAX ? hreq->query_at : hreq->path.len;
    req.path = pool_strndup(&hreq->pool, hreq->path.base, plen);
    if (memchr(req.path, '(', plen)) { /* OData key syntax: coll('id') is coll/id */
        char *norm = h2o_mem_alloc_pool(&hreq->pool, plen * 3 + 1);
        if (http_path_normalize(req.path, norm, plen * 3 + 1) == 0)
            req.path = norm;
    }
    if (hreq->query_at != SIZE_MAX)
        req.query = pool_strndup(&hreq->pool, hreq->path.base + hreq->query_at + 1, hreq->path.len - hreq->query_at - 1);
    else
        req.query = "";
    req.body = hreq->entity.base;
    req.body_len = hreq->entity.base ? hreq->entity.len : 0;
    req.impl = hreq;
    req.authorization = header(hreq, H2O_TOKEN_AUTHORIZATION);
    req.if_match = header(hreq, H2O_TOKEN_IF_MATCH);
    req.client_request_id = client_request_id(hreq);
    req.peer = peer_address(hreq);
    req.forwarded_for = header(hreq, H2O_TOKEN_X_FORWARDED_FOR);
    req.consistency_level = header_named(hreq, "consistencylevel");
    util_uuid(res.request_id, sizeof res.request_id);
    snprintf(res.client_request_id, sizeof res.client_request_id, "%s",
             req.client_request_id ? req.client_request_id : res.request_id);

    char scratch[2048];
    http_dispatch(srv->cfg.routes, srv->cfg.nroutes, srv->cfg.app, &req, &res, scratch, sizeof scratch);
    if (srv->cfg.request_done)
        srv->cfg.request_done(srv->cfg.app);

    if (res.suspended) {
        buf_release(&res.body);
        return 0;
    }
    hreq->res.status = res.status;
    hreq->res.reason = reason(res.status);
    add_id_headers(hreq, res.status, res.request_id, res.client_request_id, res.retry_after);
    if (res.status != 204) {
        h2o_add_header(&hreq->pool, &hreq->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, res.content_type,
                       strlen(res.content_type));
    }
    if (res.location[0]) {
        char *v = pool_strndup(&hreq->pool, res.location, strlen(res.location));
        h2o_add_header(&hreq->pool, &hreq->res.headers, H2O_TOKEN_LOCATION, NULL, v, strlen(v));
    }
    if (res.etag[0]) {
        char *v = pool_strndup(&hreq->pool, res.etag, strlen(res.etag));
        h2o_add_header(&hreq->pool, &hreq->res.headers, H2O_TOKEN_ETAG, NULL, v, strlen(v));
    }
    if (res.warning[0]) {
        char *v = pool_strndup(&hreq->pool, res.warning, strlen(res.warning));
        h2o_add_header_by_str(&hreq->pool, &hreq->res.headers, H2O_STRLIT("warning"), 0, NULL, v, strlen(v));
    }
    /* The length, always: without it h2o closes every HTTP/1.1 connection whose status is not 200
       (its chunked encoder handles 200 only) and answers HTTP/1.0 keep-alive clients with no length. */
    hreq->res.content_length = res.status == 204 ? 0 : res.body.len;
    h2o_send_inline(hreq, res.status == 204 ? "" : buf_str(&res.body), res.status == 204 ? 0 : res.body.len);
    buf_release(&res.body);

    double secs = (double)(util_mono_ns() - t0) / 1e9;
    http_metrics_observe(srv->cfg.metrics, req.method, req.route, res.status, secs);
    if (anon_log_admit(srv, req.tenant, res.status))
        log_request(srv->cfg.log, req.method, req.route, req.path, res.status, secs * 1000.0,
                    req.tenant[0] ? req.tenant : NULL, res.request_id);
    return 0;
}

/* ---- suspended requests ---- */

static struct http_server *server_of(h2o_req_t *hreq)
{
    return (struct http_server *)((char *)hreq->conn->ctx - offsetof(struct http_server, ctx));
}

static void pending_observe(struct http_pending *p, int status)
{
    double secs = (double)(util_mono_ns() - p->t0) / 1e9;
    http_metrics_observe(p->srv->cfg.metrics, p->method, p->route, status, secs);
    if (anon_log_admit(p->srv, p->tenant, status))
        log_request(p->srv->cfg.log, p->method, p->route, p->path, status, secs * 1000.0,
                    p->tenant[0] ? p->tenant : NULL, p->request_id);
}

/* Takes a pending request off the server's books; 0 if it was already done. */
static int pending_close(struct http_pending *p)
{
    if (p->done)
        return 0;
    p->done = 1;
    if (h2o_timeout_is_linked(&p->te))
        h2o_timeout_unlink(&p->te);
    h2o_linklist_unlink(&p->link);
    p->srv->npending--;
    return 1;
}

static void pending_on_timeout(h2o_timeout_entry_t *te)
{
    struct http_pending *p = (struct http_pending *)((char *)te - offsetof(struct http_pending, te));
    p->on_timeout(p->srv->cfg.app, p, p->data);
    if (!p->done) /* the owner did not answer: do it for them */
        http_pending_finish(p, 204, "", 0);
}

/* Runs when the request's memory goes: answered, or the connection closed without an answer. */
static void pending_on_dispose(void *mem)
{
    struct http_pending *p = mem;
    if (pending_close(p)) {
        pending_observe(p, 499);
        p->on_cancel(p->srv->cfg.app, p, p->data);
    }
}

struct http_pending *http_suspend(struct http_request *req, struct http_response *res, unsigned seconds,
                                  http_pending_fn on_timeout, http_pending_fn on_cancel, void *data)
{
    if (req->parent || !req->impl) { /* a step of a $batch cannot wait: its batch answers all at once */
        http_error(res, 400, "BadRequest", "This request waits for changes, which cannot be done inside a $batch.");
        return NULL;
    }
    h2o_req_t *hreq = req->impl;
    struct http_server *srv = server_of(hreq);
    if (seconds < 1 || seconds > MAX_SUSPEND_SECONDS || srv->stopping) {
        http_error(res, 503, "ServiceUnavailable", "The server cannot hold this request open now; retry.");
        return NULL;
    }
    struct http_pending *p = h2o_mem_alloc_shared(&hreq->pool, sizeof *p, pending_on_dispose);
    memset(p, 0, sizeof *p);
    p->hreq = hreq;
    p->srv = srv;
    p->on_timeout = on_timeout;
    p->on_cancel = on_cancel;
    p->data = data;
    p->t0 = util_mono_ns();
    p->method = req->method; /* already in the request's pool */
    p->route = req->route;
    p->path = req->path;
    snprintf(p->tenant, sizeof p->tenant, "%s", req->tenant);
    snprintf(p->request_id, sizeof p->request_id, "%s", res->request_id);
    if (!srv->timeout_ready[seconds]) {
        h2o_timeout_init(srv->ctx.loop, &srv->timeouts[seconds], (uint64_t)seconds * 1000);
        srv->timeout_ready[seconds] = 1;
    }
    p->te.cb = pending_on_timeout;
    h2o_timeout_link(srv->ctx.loop, &srv->timeouts[seconds], &p->te);
    h2o_linklist_insert(&srv->pending, &p->link);
    srv->npending++;
    res->suspended = 1;
    return p;
}

void http_pending_finish(struct http_pending *p, int status, const char *body, size_t len)
{
    struct http_response r = {.status = status};
    http_pending_finish_res(p, &r, body, len);
}

void http_pending_finish_res(struct http_pending *p, const struct http_response *r, const char *body, size_t len)
{
    if (!pending_close(p))
        return;
    int status = r->status;
    h2o_req_t *hreq = p->hreq;
    hreq->res.status = status;
    hreq->res.reason = reason(status);
    add_id_headers(hreq, status, p->request_id, NULL, 0);
    if (status != 204)
        h2o_add_header(&hreq->pool, &hreq->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    if (r->location[0]) {
        char *v = pool_strndup(&hreq->pool, r->location, strlen(r->location));
        h2o_add_header(&hreq->pool, &hreq->res.headers, H2O_TOKEN_LOCATION, NULL, v, strlen(v));
    }
    if (r->etag[0]) {
        char *v = pool_strndup(&hreq->pool, r->etag, strlen(r->etag));
        h2o_add_header(&hreq->pool, &hreq->res.headers, H2O_TOKEN_ETAG, NULL, v, strlen(v));
    }
    hreq->res.content_length = status == 204 ? 0 : len; /* see on_req: keep-alive needs the length */
    h2o_send_inline(hreq, status == 204 ? "" : body, status == 204 ? 0 : len);
    pending_observe(p, status);
}

void *http_pending_data(const struct http_pending *p)
{
    return p->data;
}

size_t http_server_suspended(const struct http_server *srv)
{
    return srv->npending;
}

static void on_watch(h2o_socket_t *sock, const char *err)
{
    struct watcher *w = sock->data;
    if (!err)
        w->cb(w->arg);
}

int http_server_watch(struct http_server *srv, int fd, void (*cb)(void *arg), void *arg)
{
    if (srv->nwatchers >= sizeof srv->watchers / sizeof srv->watchers[0])
        return RG_ETOOBIG;
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0)
        return RG_EIO;
    struct watcher *w = &srv->watchers[srv->nwatchers++];
    w->cb = cb;
    w->arg = arg;
    w->sock = h2o_evloop_socket_create(srv->ctx.loop, dfd, H2O_SOCKET_FLAG_DONT_READ);
    w->sock->data = w;
    h2o_socket_read_start(w->sock, on_watch);
    return 0;
}

#define ACCEPT_BATCH 32      /* connections taken per wake-up of the listener */
#define ACCEPT_PAUSE_MS 100  /* how long accepting stops when descriptors (or memory) run out */
#define ACCEPT_LOG_SECONDS 10 /* at most one log line per this many seconds about it */

static void on_accept(h2o_socket_t *listener, const char *err);

static void accept_resume(h2o_timeout_entry_t *te)
{
    struct http_server *srv = (struct http_server *)((char *)te - offsetof(struct http_server, accept_te));
    if (srv->listener && !srv->stopping)
        h2o_socket_read_start(srv->listener, on_accept);
}

/*
 * accept4 failed with the queue still readable: EMFILE/ENFILE (descriptors)
 * or ENOBUFS/ENOMEM. Retrying at once spins the loop (the listener stays
 * readable); so stop reading it for ACCEPT_PAUSE_MS, keep serving the
 * connections already open, and say so in the log once in a while.
 */
static void accept_pause(struct http_server *srv, int e)
{
    h2o_socket_read_stop(srv->listener);
    if (!srv->accept_pause_ready) {
        h2o_timeout_init(srv->ctx.loop, &srv->accept_pause, ACCEPT_PAUSE_MS);
        srv->accept_te.cb = accept_resume;
        srv->accept_pause_ready = 1;
    }
    if (!h2o_timeout_is_linked(&srv->accept_te))
        h2o_timeout_link(srv->ctx.loop, &srv->accept_pause, &srv->accept_te);
    http_metrics_accept_failed(srv->cfg.metrics, 1);
    srv->accept_failed++;
    uint64_t now = util_mono_ns();
    if (!srv->accept_logged_ns || now - srv->accept_logged_ns >= ACCEPT_LOG_SECONDS * 1000000000ull) {
        log_msg(srv->cfg.log, LOG_WARN,
                "cannot accept connections (%s): paused %d ms at a time; %llu such failure(s) since the last report",
                strerror(e), ACCEPT_PAUSE_MS, (unsigned long long)srv->accept_failed);
        srv->accept_failed = 0;
        srv->accept_logged_ns = now;
    }
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct http_server *srv = listener->data;
    if (err)
        return;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        errno = 0;
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock) {
            h2o_accept(&srv->accept_ctx, sock);
            continue;
        }
        int e = errno;
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
            accept_pause(srv, e);
        break; /* EAGAIN: the queue is empty; ECONNABORTED and the like: the next wake-up */
    }
}

/* ---- h2o's own refusals in Graph's error shape ---- */

/*
 * h2o answers some malformed requests itself (a broken Content-Length, an
 * unknown Transfer-Encoding, ...) with a text/plain body, before any handler
 * runs. This filter, on the handler's path and on the fallback path h2o binds
 * such requests to, turns those answers into Graph's JSON error body with a
 * request-id. Our own answers never are "text/plain; charset=utf-8" with a
 * status of 400 or more, so nothing else is touched. (The static "400 Bad
 * Request" h2o writes for a request head it cannot parse at all bypasses
 * filters: docs/api.md lists it.)
 */
static const char *error_code(int status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 408: return "RequestTimeout";
    case 411: return "LengthRequired";
    case 413: return "requestBodyTooLarge";
    case 417: return "ExpectationFailed";
    case 431: return "RequestHeaderFieldsTooLarge";
    case 503: return "ServiceUnavailable";
    default: return status >= 500 ? "InternalServerError" : "BadRequest";
    }
}

struct error_ostream {
    h2o_ostream_t super;
    char request_id[40];
};

/* h2o's text (e.g. "broken content-length header") arrives here, in one final send: it becomes the message. */
static void error_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                          h2o_send_state_t state)
{
    struct error_ostream *o = (struct error_ostream *)self;
    if (h2o_send_state_is_in_progress(state)) {
        h2o_ostream_send_next(&o->super, req, NULL, 0, state);
        return;
    }
    char text[200];
    size_t n = 0;
    for (size_t i = 0; i < bufcnt && n < sizeof text - 1; i++) {
        size_t k = bufs[i].len < sizeof text - 1 - n ? bufs[i].len : sizeof text - 1 - n;
        memcpy(text + n, bufs[i].base, k);
        n += k;
    }
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    text[n] = '\0';
    struct http_response r = {.body = BUF_INIT(4096)};
    snprintf(r.request_id, sizeof r.request_id, "%s", o->request_id);
    snprintf(r.client_request_id, sizeof r.client_request_id, "%s", o->request_id);
    http_error(&r, req->res.status, error_code(req->res.status), "The request could not be read: %s.",
               n ? text : (req->res.reason ? req->res.reason : "malformed request"));
    h2o_iovec_t body = h2o_strdup(&req->pool, buf_str(&r.body), r.body.len);
    buf_release(&r.body);
    req->res.content_length = body.len; /* the headers go out with the first send below */
    h2o_ostream_send_next(&o->super, req, &body, 1, state);
}

static void error_filter_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    ssize_t i = req->res.status >= 400 ? h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1) : -1;
    if (i >= 0 && h2o_memis(req->res.headers.entries[i].value.base, req->res.headers.entries[i].value.len,
                            H2O_STRLIT("text/plain; charset=utf-8"))) {
        struct error_ostream *o = (struct error_ostream *)h2o_add_ostream(req, sizeof *o, slot);
        o->super.do_send = error_do_send;
        util_uuid(o->request_id, sizeof o->request_id);
        req->res.headers.entries[i].value = h2o_iovec_init(H2O_STRLIT("application/json"));
        char *rid = pool_strndup(&req->pool, o->request_id, strlen(o->request_id));
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("request-id"), 0, NULL, rid, strlen(rid));
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

/* Splits "ADDR:PORT" / "[V6]:PORT" into host and port strings. */
static int split_listen(const char *listen, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return RG_EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(close - listen - 1), listen + 1);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return RG_EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(colon - listen), listen);
    }
    snprintf(port, portlen, "%s", colon + 1);
    if (!port[0] || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
        return RG_EINVAL;
    return 0;
}

static int open_listener(const char *addr, int *fd_out, int *bound_port, char *err, size_t errlen)
{
    char host[256], port[8];
    if (split_listen(addr, host, sizeof host, port, sizeof port)) {
        snprintf(err, errlen, "--listen '%s': expected ADDR:PORT, e.g. 127.0.0.1:8443", addr);
        return RG_EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai) {
        snprintf(err, errlen, "--listen '%s': %s", addr, gai_strerror(gai));
        return RG_EINVAL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN) ||
        fcntl(fd, F_SETFL, O_NONBLOCK)) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return RG_EIO;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
}

static int setup_tls(struct http_server *srv, char *err, size_t errlen)
{
    srv->ssl = SSL_CTX_new(TLS_server_method());
    if (!srv->ssl) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return RG_EIO;
    }
    SSL_CTX_set_min_proto_version(srv->ssl, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(srv->ssl, srv->cfg.tls_cert) != 1) {
        snprintf(err, errlen, "TLS: cannot load the certificate chain %s", srv->cfg.tls_cert);
        return RG_EINVAL;
    }
    if (SSL_CTX_use_PrivateKey_file(srv->ssl, srv->cfg.tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(srv->ssl) != 1) {
        snprintf(err, errlen, "TLS: cannot load the private key %s, or it does not match the certificate",
                 srv->cfg.tls_key);
        return RG_EINVAL;
    }
    srv->accept_ctx.ssl_ctx = srv->ssl;
    return 0;
}

int http_server_new(const struct http_server_config *cfg, struct http_server **out, int *bound_port, char *err,
                    size_t errlen)
{
    if (!!cfg->tls_cert != !!cfg->tls_key) {
        snprintf(err, errlen, "TLS needs both --tls-cert and --tls-key");
        return RG_EINVAL;
    }
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return RG_ENOMEM;
    srv->cfg = *cfg;
    int fd = -1, rc = open_listener(cfg->listen, &fd, bound_port, err, errlen);
    if (rc) {
        free(srv);
        return rc;
    }
    h2o_config_init(&srv->globalconf);
    srv->globalconf.max_request_entity_size = H2O_MAX_ENTITY;
    srv->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("riskgated"));
    h2o_hostconf_t *host = h2o_config_register_host(&srv->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    struct route_handler *h = (struct route_handler *)h2o_create_handler(path, sizeof *h);
    h->super.on_req = on_req;
    h->srv = srv;
    h2o_create_filter(path, sizeof(h2o_filter_t))->on_setup_ostream = error_filter_setup;
    h2o_create_filter(&host->fallback_path, sizeof(h2o_filter_t))->on_setup_ostream = error_filter_setup;
    h2o_context_init(&srv->ctx, h2o_evloop_create(), &srv->globalconf);
    srv->ctx_ready = 1;
    h2o_linklist_init_anchor(&srv->pending);
    srv->accept_ctx.ctx = &srv->ctx;
    srv->accept_ctx.hosts = srv->globalconf.hosts;
    if (cfg->tls_cert && (rc = setup_tls(srv, err, errlen))) {
        close(fd);
        http_server_free(srv);
        return rc;
    }
    srv->listener = h2o_evloop_socket_create(srv->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    srv->listener->data = srv;
    h2o_socket_read_start(srv->listener, on_accept);
    *out = srv;
    return 0;
}

#define DRAIN_SECONDS 12 /* above h2o's 10 s HTTP/1 request timeout, which closes idle keep-alive connections */

static int connections_open(struct http_server *srv)
{
    return !h2o_linklist_is_empty(&srv->ctx.http1._conns) || !h2o_linklist_is_empty(&srv->ctx.http2._conns);
}

int http_server_run(struct http_server *srv, volatile int *stop)
{
    int rc = 0;
    uint64_t next_tick = util_mono_ns() + 1000000000ull;
    while (!*stop) {
        /* the signal handler only sets *stop; epoll_wait wakes with EINTR, or within a second */
        if (h2o_evloop_run(srv->ctx.loop, 1000) != 0 && errno != EINTR) {
            rc = RG_EIO; /* still drain below: every waiter gets its answer */
            break;
        }
        log_flush(srv->cfg.log); /* what this turn answered, in one write */
        anon_log_summary(srv, false);
        if (srv->cfg.tick && util_mono_ns() >= next_tick) {
            srv->cfg.tick(srv->cfg.app);
            next_tick = util_mono_ns() + 1000000000ull;
        }
    }
    /*
     * Graceful stop: h2o closes each connection after its current response
     * (idle keep-alive ones at once or at their request timeout); every
     * suspended request is answered now as if its wait ended; then the loop
     * runs until no connection is left, for at most DRAIN_SECONDS.
     */
    srv->stopping = 1;
    h2o_context_request_shutdown(&srv->ctx);
    while (!h2o_linklist_is_empty(&srv->pending)) {
        struct http_pending *p =
            (struct http_pending *)((char *)srv->pending.next - offsetof(struct http_pending, link));
        pending_on_timeout(&p->te);
    }
    if (srv->accept_pause_ready && h2o_timeout_is_linked(&srv->accept_te))
        h2o_timeout_unlink(&srv->accept_te);
    if (srv->listener) {
        h2o_socket_read_stop(srv->listener);
        h2o_socket_close(srv->listener);
        srv->listener = NULL;
    }
    uint64_t until = util_mono_ns() + DRAIN_SECONDS * 1000000000ull;
    while (util_mono_ns() < until && connections_open(srv))
        h2o_evloop_run(srv->ctx.loop, 50), log_flush(srv->cfg.log);
    uint64_t flush = util_mono_ns() + 50 * 1000000ull;
    while (util_mono_ns() < flush)
        h2o_evloop_run(srv->ctx.loop, 10);
    if (connections_open(srv))
        log_msg(srv->cfg.log, LOG_WARN, "shutdown: clients still connected after %d s; closing anyway", DRAIN_SECONDS);
    anon_log_summary(srv, true);
    return rc;
}

void http_server_free(struct http_server *srv)
{
    if (!srv)
        return;
    if (srv->listener)
        h2o_socket_close(srv->listener);
    for (size_t i = 0; i < srv->nwatchers; i++)
        h2o_socket_close(srv->watchers[i].sock);
    if (srv->ctx_ready) {
        h2o_evloop_t *loop = srv->ctx.loop;
        for (unsigned i = 0; i <= MAX_SUSPEND_SECONDS; i++)
            if (srv->timeout_ready[i])
                h2o_timeout_dispose(loop, &srv->timeouts[i]);
        if (srv->accept_pause_ready) {
            if (h2o_timeout_is_linked(&srv->accept_te))
                h2o_timeout_unlink(&srv->accept_te);
            h2o_timeout_dispose(loop, &srv->accept_pause);
        }
        /* h2o asserts when a context is disposed under live connections: leave it to the exiting process */
        if (connections_open(srv))
            return;
        /* h2o_context_request_shutdown armed HTTP/2's graceful-shutdown timer; dispose asserts on linked timers */
        if (h2o_timeout_is_linked(&srv->ctx.http2._graceful_shutdown_timeout))
            h2o_timeout_unlink(&srv->ctx.http2._graceful_shutdown_timeout);
        /* h2o 2.2.5 never frees the context's message queue (88 bytes, once per process; see tests/lsan.supp) */
        h2o_context_dispose(&srv->ctx);
        h2o_evloop_destroy(loop);
    }
    h2o_config_dispose(&srv->globalconf);
    if (srv->ssl)
        SSL_CTX_free(srv->ssl);
    free(srv);
}

/* Copies s into out, writing bytes that are not valid UTF-8 (or are control characters) as \xNN. */
static void utf8_clean(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && o + 5 < outlen) {
        size_t n = 0;
        if (*p >= 0x20 && *p < 0x7f)
            n = 1;
        else if (*p >= 0xc2 && *p <= 0xdf)
            n = 2;
        else if (*p >= 0xe0 && *p <= 0xef)
            n = 3;
        else if (*p >= 0xf0 && *p <= 0xf4)
            n = 4;
        int ok = n > 0;
        for (size_t k = 1; ok && k < n; k++)
            ok = (p[k] & 0xc0) == 0x80;
        if (ok && n == 3) /* no overlong forms, no surrogates */
            ok = !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0);
        if (ok && n == 4)
            ok = !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90);
        if (!ok) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
            p++;
            continue;
        }
        if (o + n >= outlen)
            break;
        memcpy(out + o, p, n);
        o += n;
        p += n;
    }
    out[o] = '\0';
}

void http_error(struct http_response *res, int status, const char *code, const char *fmt, ...)
{
    char raw[1024], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    utf8_clean(raw, msg, sizeof msg);
    char date[32];
    util_time_format(util_now_ms(), date, sizeof date);
    json_t *inner = json_pack("{s:s}", "date", date);
    if (inner && res->request_id[0]) {
        json_object_set_new(inner, "request-id", json_string(res->request_id));
        json_object_set_new(inner, "client-request-id",
                            json_string(res->client_request_id[0] ? res->client_request_id : res->request_id));
    }
    json_t *o = json_pack("{s:{s:s,s:s,s:o*}}", "error", "code", code, "message", msg, "innerError", inner);
    buf_clear(&res->body);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s)
        buf_puts(&res->body, s);
    free(s);
    json_decref(o);
    res->status = status;
    res->content_type = "application/json";
}
