/*
 * blockpage.c: the block page (see blockpage.h for why h2o on its own
 * thread) and the table of recent blocks and overrides it shares with the
 * DNS filter. The page reads the Host header through h2o (req->authority);
 * the "Continue anyway" form POSTs to /.riskgate/continue?t=TOKEN on the same
 * host, so no request body is ever parsed; the token (random, one use, ten
 * minutes, bound to the name) and an Origin/Referer/Sec-Fetch-Site check
 * keep other sites from posting the form for the person.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <h2o.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "agent/blockpage.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"

#define RECENT_SLOTS 256 /* recent blocks, direct-mapped by a hash of the name */
#define OVR_SLOTS (2 * BP_MAX_OVERRIDES)
#define EVENTS_MAX 32
#define CONTINUE_PATH "/.riskgate/continue"
#define TOKENS_MAX 64                /* "Continue anyway" forms rendered and not yet used or expired */
#define TOKEN_MS (10 * 60 * 1000)    /* a form's token is good for ten minutes, once */
#define TOKEN_HEX 32                 /* 16 random bytes */

/* A rendered form's token: the POST must carry it (another site cannot read the page, so cannot know it). */
struct token {
    char hex[TOKEN_HEX + 1];
    char name[BP_NAME_MAX];
    int64_t until_ms; /* 0: free */
};

struct recent {
    char name[BP_NAME_MAX];
    char title[BP_TEXT_MAX];
    char indicator[BP_TEXT_MAX];
    bool warn, used;
};

struct override {
    char name[BP_NAME_MAX];
    int64_t until_ms; /* 0: free */
};

struct page_handler {
    h2o_handler_t super;
    struct blockpage *bp;
};

struct blockpage {
    pthread_mutex_t mu;
    struct recent recent[RECENT_SLOTS];
    struct override ovr[OVR_SLOTS];
    atomic_int novr; /* live overrides, read without the lock on the DNS hot path */
    struct bp_event events[EVENTS_MAX];
    int nevents;
    int efd;
    struct token tokens[TOKENS_MAX];

    /* the page's thread and its h2o loop */
    bool started;
    atomic_bool stop;
    pthread_t thread;
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
};

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

int blockpage_new(struct blockpage **out)
{
    *out = NULL;
    struct blockpage *bp = calloc(1, sizeof *bp);
    if (!bp)
        return RG_ENOMEM;
    if (pthread_mutex_init(&bp->mu, NULL)) {
        free(bp);
        return RG_EIO;
    }
    bp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (bp->efd < 0) {
        pthread_mutex_destroy(&bp->mu);
        free(bp);
        return RG_EIO;
    }
    *out = bp;
    return 0;
}

int blockpage_fd(const struct blockpage *bp)
{
    return bp->efd;
}

bool blockpage_listening(const struct blockpage *bp)
{
    return bp && bp->started;
}

void blockpage_record(struct blockpage *bp, const char *name, bool warn, const char *title, const char *indicator)
{
    struct recent *r = &bp->recent[hash_name(name) % RECENT_SLOTS];
    pthread_mutex_lock(&bp->mu);
    if (!r->used || strcmp(r->name, name) || r->warn != warn || strcmp(r->title, title ? title : "")) {
        snprintf(r->name, sizeof r->name, "%s", name);
        snprintf(r->title, sizeof r->title, "%s", title ? title : "");
        snprintf(r->indicator, sizeof r->indicator, "%s", indicator ? indicator : "");
        r->warn = warn;
        r->used = true;
    }
    pthread_mutex_unlock(&bp->mu);
}

/* The override slot of name, or NULL. Under the lock. */
static struct override *ovr_find(struct blockpage *bp, const char *name, int64_t now_ms)
{
    uint32_t h = hash_name(name);
    for (int i = 0; i < OVR_SLOTS; i++) {
        struct override *o = &bp->ovr[(h + (uint32_t)i) % OVR_SLOTS];
        if (!o->until_ms && !o->name[0])
            return NULL; /* never used: the probe ends */
        if (o->until_ms && !strcmp(o->name, name)) {
            if (o->until_ms > now_ms)
                return o;
            o->until_ms = 0; /* expired: a tombstone (name kept non-empty) */
            atomic_fetch_sub(&bp->novr, 1);
            return NULL;
        }
    }
    return NULL;
}

bool blockpage_overridden(struct blockpage *bp, const char *name, int64_t now_ms)
{
    if (!bp || atomic_load(&bp->novr) == 0)
        return false;
    pthread_mutex_lock(&bp->mu);
    bool r = ovr_find(bp, name, now_ms) != NULL;
    pthread_mutex_unlock(&bp->mu);
    return r;
}

int blockpage_override(struct blockpage *bp, const char *name, int64_t now_ms)
{
    int rc = -1;
    pthread_mutex_lock(&bp->mu);
    struct override *o = ovr_find(bp, name, now_ms);
    if (o) {
        o->until_ms = now_ms + BP_OVERRIDE_MS;
        rc = 0;
    } else {
        if (atomic_load(&bp->novr) >= BP_MAX_OVERRIDES) /* full: sweep out the expired ones first */
            for (int i = 0; i < OVR_SLOTS; i++)
                if (bp->ovr[i].until_ms && bp->ovr[i].until_ms <= now_ms) {
                    bp->ovr[i].until_ms = 0;
                    atomic_fetch_sub(&bp->novr, 1);
                }
    }
    if (!o && atomic_load(&bp->novr) < BP_MAX_OVERRIDES) {
        uint32_t h = hash_name(name);
        for (int i = 0; i < OVR_SLOTS; i++) {
            struct override *s = &bp->ovr[(h + (uint32_t)i) % OVR_SLOTS];
            if (s->until_ms && s->until_ms <= now_ms) { /* expired: reuse */
                s->until_ms = 0;
                atomic_fetch_sub(&bp->novr, 1);
            }
            if (!s->until_ms) {
                snprintf(s->name, sizeof s->name, "%s", name);
                s->until_ms = now_ms + BP_OVERRIDE_MS;
                atomic_fetch_add(&bp->novr, 1);
                rc = 0;
                break;
            }
        }
    }
    pthread_mutex_unlock(&bp->mu);
    return rc;
}

bool blockpage_take(struct blockpage *bp, struct bp_event *ev)
{
    pthread_mutex_lock(&bp->mu);
    bool got = bp->nevents > 0;
    if (got) {
        *ev = bp->events[0];
        memmove(&bp->events[0], &bp->events[1], (size_t)(bp->nevents - 1) * sizeof bp->events[0]);
        bp->nevents--;
    }
    pthread_mutex_unlock(&bp->mu);
    return got;
}

json_t *blockpage_json(struct blockpage *bp, int64_t now_ms, bool hide_names)
{
    json_t *o = json_object();
    json_t *arr = json_array();
    json_object_set_new(o, "listening", json_boolean(bp->started));
    pthread_mutex_lock(&bp->mu);
    for (int i = 0; i < OVR_SLOTS; i++) {
        const struct override *v = &bp->ovr[i];
        if (!v->until_ms || v->until_ms <= now_ms)
            continue;
        char until[UTIL_TIME_LEN + 1];
        util_time_format(v->until_ms, until, sizeof until);
        json_t *e = json_object();
        if (!hide_names)
            json_object_set_new(e, "name", json_string(v->name));
        json_object_set_new(e, "until", json_string(until));
        json_array_append_new(arr, e);
    }
    pthread_mutex_unlock(&bp->mu);
    json_object_set_new(o, "overrides", arr);
    return o;
}

/* ---------------------------------------------------------------- the page (its own thread) */

static void html_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_append(b, "&amp;", 5);
            break;
        case '<':
            buf_append(b, "&lt;", 4);
            break;
        case '>':
            buf_append(b, "&gt;", 4);
            break;
        case '"':
            buf_append(b, "&quot;", 6);
            break;
        case '\'':
            buf_append(b, "&#39;", 5);
            break;
        default:
            buf_append(b, s, 1);
        }
    }
}

static void page_begin(struct buf *b, const char *heading)
{
    buf_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    html_escaped(b, heading);
    buf_printf(b, "</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">\n<h1>");
    html_escaped(b, heading);
    buf_printf(b, "</h1>\n");
}

static int send_page(h2o_req_t *req, int status, struct buf *b)
{
    buf_printf(b, "<p><small>riskgate-agent web protection</small></p>\n</body></html>\n");
    req->res.status = status;
    req->res.reason = status == 200 ? "OK" : status == 403 ? "Forbidden" : "Not Found";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    /* h2o copies nothing: the body must live as long as the request */
    char *body = h2o_mem_alloc_pool(&req->pool, b->len + 1);
    memcpy(body, b->len ? buf_str(b) : "", b->len);
    h2o_send_inline(req, body, b->len);
    buf_release(b);
    return 0;
}

/* Issues a token for name's form into hex (TOKEN_HEX + 1 bytes); false when the CSPRNG fails. */
static bool token_issue(struct blockpage *bp, const char *name, int64_t now, char *hex)
{
    unsigned char r[TOKEN_HEX / 2];
    if (RAND_bytes(r, sizeof r) != 1)
        return false;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(hex + 2 * i, 3, "%02x", r[i]);
    pthread_mutex_lock(&bp->mu);
    struct token *slot = &bp->tokens[0]; /* a free or expired slot, else the one expiring first */
    for (int i = 0; i < TOKENS_MAX; i++) {
        struct token *t = &bp->tokens[i];
        if (t->until_ms <= now) {
            slot = t;
            break;
        }
        if (t->until_ms < slot->until_ms)
            slot = t;
    }
    snprintf(slot->hex, sizeof slot->hex, "%s", hex);
    snprintf(slot->name, sizeof slot->name, "%s", name);
    slot->until_ms = now + TOKEN_MS;
    pthread_mutex_unlock(&bp->mu);
    return true;
}

/* True, and the token is used up, if the query string of req holds "t=" a live token issued for name. */
static bool token_take(struct blockpage *bp, const h2o_req_t *req, const char *name, int64_t now)
{
    if (req->query_at == SIZE_MAX)
        return false;
    const char *q = req->path.base + req->query_at + 1;
    size_t qlen = req->path.len - req->query_at - 1;
    if (qlen != 2 + TOKEN_HEX || memcmp(q, "t=", 2))
        return false;
    bool ok = false;
    pthread_mutex_lock(&bp->mu);
    for (int i = 0; i < TOKENS_MAX && !ok; i++) {
        struct token *t = &bp->tokens[i];
        if (t->until_ms > now && !CRYPTO_memcmp(t->hex, q + 2, TOKEN_HEX) && !strcmp(t->name, name)) {
            ok = true;
            t->until_ms = 0;
        }
    }
    pthread_mutex_unlock(&bp->mu);
    return ok;
}

/* The host of an Origin or Referer value ("http://host[:port][/...]"), lower case, equals name. */
static bool same_host(const h2o_iovec_t *v, const char *name)
{
    const char *p = v->base, *end = v->base + v->len;
    if (v->len > 7 && !strncasecmp(p, "http://", 7))
        p += 7;
    else if (v->len > 8 && !strncasecmp(p, "https://", 8))
        p += 8;
    else
        return false;
    size_t n = 0;
    while (p + n < end && p[n] != '/' && p[n] != '?' && p[n] != '#')
        n++;
    h2o_iovec_t host = {NULL, 0};
    uint16_t port;
    if (!n || !h2o_url_parse_hostport(p, n, &host, &port) || !host.len)
        return false;
    size_t nl = strlen(name);
    if (host.len > 1 && host.base[host.len - 1] == '.')
        host.len--;
    return host.len == nl && !strncasecmp(host.base, name, nl);
}

/*
 * A "Continue anyway" POST comes from the block page itself: Sec-Fetch-Site
 * same-origin when the browser sends it, else an Origin (or, without one, a
 * Referer) naming the same host. Any other page could otherwise post the form.
 */
static bool same_origin(const h2o_req_t *req, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("sec-fetch-site"), -1);
    if (i >= 0)
        return h2o_memis(req->headers.entries[i].value.base, req->headers.entries[i].value.len,
                         H2O_STRLIT("same-origin"));
    if ((i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1)) >= 0)
        return same_host(&req->headers.entries[i].value, name);
    if ((i = h2o_find_header(&req->headers, H2O_TOKEN_REFERER, -1)) >= 0)
        return same_host(&req->headers.entries[i].value, name);
    return false;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct blockpage *bp = ((struct page_handler *)self)->bp;
    /* the host the browser asked for, without a port, in lower case */
    h2o_iovec_t host = {NULL, 0};
    uint16_t port;
    char name[BP_NAME_MAX] = "";
    if (req->input.authority.len &&
        h2o_url_parse_hostport(req->input.authority.base, req->input.authority.len, &host, &port) && host.len &&
        host.len < sizeof name) {
        for (size_t i = 0; i < host.len; i++) {
            char c = host.base[i];
            name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        name[host.len] = '\0';
        if (host.len > 1 && name[host.len - 1] == '.')
            name[host.len - 1] = '\0';
    }
    struct recent r = {0};
    pthread_mutex_lock(&bp->mu);
    const struct recent *s = name[0] ? &bp->recent[hash_name(name) % RECENT_SLOTS] : NULL;
    if (s && s->used && !strcmp(s->name, name))
        r = *s;
    pthread_mutex_unlock(&bp->mu);

    struct buf b = BUF_INIT(64 * 1024);
    bool post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
    bool cont = h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT(CONTINUE_PATH));
    if (post && cont) {
        if (!r.used || !r.warn) {
            page_begin(&b, "This site cannot be unblocked");
            buf_printf(&b,
                       "<p>Your organization blocks this site; only sites it warns about can be opened anyway.</p>\n");
            return send_page(req, 403, &b);
        }
        int64_t now = util_now_ms();
        if (!same_origin(req, name) || !token_take(bp, req, name, now)) {
            page_begin(&b, "Please use the page's button");
            buf_printf(&b, "<p>This request did not come from this site's warning page, or the page is too old. "
                           "<a href=\"/\">Open the warning again</a>.</p>\n");
            return send_page(req, 403, &b);
        }
        if (blockpage_override(bp, name, now)) {
            page_begin(&b, "Too many sites continued");
            buf_printf(&b, "<p>Too many warned sites were opened anyway in the last hour. Try again later.</p>\n");
            return send_page(req, 403, &b);
        }
        pthread_mutex_lock(&bp->mu);
        if (bp->nevents < EVENTS_MAX) {
            struct bp_event *e = &bp->events[bp->nevents++];
            snprintf(e->name, sizeof e->name, "%s", name);
            snprintf(e->title, sizeof e->title, "%s", r.title);
            snprintf(e->indicator, sizeof e->indicator, "%s", r.indicator);
        }
        pthread_mutex_unlock(&bp->mu);
        uint64_t one = 1;
        if (write(bp->efd, &one, sizeof one) < 0) {
            /* the counter is saturated: the daemon is already woken */
        }
        page_begin(&b, "You chose to continue");
        buf_printf(&b, "<p>");
        html_escaped(&b, name);
        buf_printf(&b, " is unblocked on this device for one hour. Your organization is told that you continued.</p>\n"
                       "<p><a href=\"/\">Open the site</a> (it may take a few seconds).</p>\n");
        return send_page(req, 200, &b);
    }
    if (!r.used) {
        page_begin(&b, "Blocked by your organization");
        buf_printf(&b, "<p>This address is riskgate-agent's block page. Nothing was blocked under the name ");
        buf_printf(&b, "&ldquo;");
        html_escaped(&b, name[0] ? name : "(none)");
        buf_printf(&b, "&rdquo; recently.</p>\n");
        return send_page(req, 404, &b);
    }
    page_begin(&b, r.warn ? "Warning: this site may be unsafe" : "This site was blocked");
    buf_printf(&b, "<p>This site (<b>");
    html_escaped(&b, name);
    buf_printf(&b, "</b>) was %s by your organization because %s", r.warn ? "flagged" : "blocked",
               r.indicator[0] ? "of the indicator &ldquo;" : "");
    html_escaped(&b, r.title);
    buf_printf(&b, "%s.</p>\n", r.indicator[0] ? "&rdquo;" : "");
    char tok[TOKEN_HEX + 1];
    if (r.warn && token_issue(bp, name, util_now_ms(), tok))
        buf_printf(&b, "<form method=\"post\" action=\"" CONTINUE_PATH "?t=%s\">"
                       "<p>If you trust this site, you can open it anyway. Your organization will be told.</p>"
                       "<button type=\"submit\">Continue anyway</button></form>\n", tok);
    else if (r.warn)
        buf_printf(&b, "<p>This site cannot be opened anyway right now. Try again later.</p>\n");
    else
        buf_printf(&b, "<p>If you think this is a mistake, contact your IT department.</p>\n");
    return send_page(req, 200, &b);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err)
        return;
    struct blockpage *bp = listener->data;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock)
        h2o_accept(&bp->accept_ctx, sock);
}

static bool connections_open(struct blockpage *bp)
{
    return !h2o_linklist_is_empty(&bp->ctx.http1._conns) || !h2o_linklist_is_empty(&bp->ctx.http2._conns);
}

/*
 * h2o keeps what it frees on a thread (socket buffers, request pool chunks) in
 * per-thread recycle bins that die with the thread, still holding their memory:
 * the page thread empties them before it returns. The socket buffers' bin is
 * public; the pool chunks' one is not, so chunks are taken out of it through
 * the public pool API, one pool allocation per chunk, H2O_POOL_BIN_MAX times
 * (its size in h2o 2.2; when the bin is already empty h2o mallocs a chunk,
 * which is freed just the same).
 */
#define H2O_POOL_BIN_MAX 16
static void drain_recycle_bins(void)
{
    h2o_mem_recycle_t *bin = &h2o_socket_buffer_prototype.allocator;
    while (bin->cnt)
        free(h2o_mem_alloc_recycle(bin, 1)); /* pops a kept buffer: never mallocs while cnt > 0 */
    for (int i = 0; i < H2O_POOL_BIN_MAX; i++) {
        h2o_mem_pool_t pool;
        h2o_mem_init_pool(&pool);
        if (h2o_mem_alloc_pool(&pool, 1) && pool.chunks && !pool.directs && !pool.shared_refs)
            free(pool.chunks); /* the pool's only chunk, straight from the bin: not back into it */
        else
            h2o_mem_clear_pool(&pool);
    }
}

static void *page_thread(void *arg)
{
    struct blockpage *bp = arg;
    while (!atomic_load(&bp->stop))
        h2o_evloop_run(bp->ctx.loop, 100);
    /* stop: no new connections; let the open ones finish for a moment */
    h2o_socket_read_stop(bp->listener);
    h2o_socket_close(bp->listener);
    bp->listener = NULL;
    h2o_context_request_shutdown(&bp->ctx);
    uint64_t until = util_mono_ns() + 500 * 1000000ull;
    while (util_mono_ns() < until && connections_open(bp))
        h2o_evloop_run(bp->ctx.loop, 10);
    drain_recycle_bins();
    return NULL;
}

int blockpage_listen(struct blockpage *bp, const struct sockaddr_storage *addr, socklen_t len, char *err, size_t errlen)
{
    char where[80];
    char h[64] = "?";
    if (addr->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, h, sizeof h);
    else if (addr->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, h, sizeof h);
    snprintf(where, sizeof where, addr->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", h,
             ntohs(((const struct sockaddr_in *)addr)->sin_port));
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (const struct sockaddr *)addr, len) || listen(fd, 64)) {
        snprintf(err, errlen, "the block page could not listen on %s: %s", where, strerror(errno));
        if (fd >= 0)
            close(fd);
        return RG_EIO;
    }
    h2o_config_init(&bp->globalconf);
    bp->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("riskgate-agent"));
    bp->globalconf.max_request_entity_size = 4096;
    h2o_hostconf_t *host = h2o_config_register_host(&bp->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    struct page_handler *ph = (struct page_handler *)h2o_create_handler(path, sizeof *ph);
    ph->super.on_req = on_req;
    ph->bp = bp;
    h2o_context_init(&bp->ctx, h2o_evloop_create(), &bp->globalconf);
    bp->accept_ctx.ctx = &bp->ctx;
    bp->accept_ctx.hosts = bp->globalconf.hosts;
    bp->listener = h2o_evloop_socket_create(bp->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    bp->listener->data = bp;
    h2o_socket_read_start(bp->listener, on_accept);
    atomic_store(&bp->stop, false);
    if (pthread_create(&bp->thread, NULL, page_thread, bp)) {
        snprintf(err, errlen, "the block page's thread could not start");
        h2o_socket_close(bp->listener);
        bp->listener = NULL;
        h2o_evloop_t *loop = bp->ctx.loop;
        h2o_context_dispose(&bp->ctx);
        h2o_evloop_destroy(loop);
        h2o_config_dispose(&bp->globalconf);
        return RG_EIO;
    }
    bp->started = true;
    return 0;
}

void blockpage_free(struct blockpage *bp)
{
    if (!bp)
        return;
    if (bp->started) {
        atomic_store(&bp->stop, true);
        pthread_join(bp->thread, NULL);
        h2o_evloop_t *loop = bp->ctx.loop;
        /* h2o asserts when a context is disposed under live connections: then leave it to the exiting process */
        if (!connections_open(bp)) {
            if (h2o_timeout_is_linked(&bp->ctx.http2._graceful_shutdown_timeout))
                h2o_timeout_unlink(&bp->ctx.http2._graceful_shutdown_timeout);
            h2o_context_dispose(&bp->ctx);
            h2o_evloop_destroy(loop);
            h2o_config_dispose(&bp->globalconf);
        }
    }
    close(bp->efd);
    pthread_mutex_destroy(&bp->mu);
    free(bp);
}
