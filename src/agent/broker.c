/*
 * broker.c: the local broker socket (<state dir>/agent.sock, mode 0666) that
 * managed apps on the device ask — a line protocol, one JSON line per
 * request line (docs/agent.md): "hello", "check-url <url>", "rescan",
 * "status". Non-blocking, at most AGENT_MAX_CONNS clients; a client that
 * sends no complete line within AGENT_CONN_LINE_MS of connecting or of its
 * last answer is closed, and when all places are taken a new client takes the
 * place of an idle one (the oldest of the user holding the most), so slow or
 * idle clients never lock the others out. Also the client side
 * (agent_broker_ask) for the CLI commands.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/core.h"
#include "agent/netprot.h"
#include "common/err.h"

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n >= sizeof sa->sun_path)
        return RG_ETOOBIG;
    memcpy(sa->sun_path, path, n + 1);
    return 0;
}

int agent_broker_open(struct rg_agent *ag)
{
    struct sockaddr_un sa;
    if (fill_addr(ag->sock_path, &sa))
        return agent_fail(ag, RG_AGENT_EIO, "the socket path %s is too long", ag->sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return agent_fail(ag, RG_AGENT_EIO, "socket: %s", strerror(errno));
    /* a socket file left by a crash is replaced; a live daemon's is not */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
        close(probe);
        close(fd);
        return agent_fail(ag, RG_AGENT_EIO, "another riskgate-agent already runs on %s", ag->dir);
    }
    if (probe >= 0)
        close(probe);
    unlink(ag->sock_path);
    mode_t old = umask(0);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc || chmod(ag->sock_path, 0666) || listen(fd, 16)) {
        int e = errno;
        close(fd);
        return agent_fail(ag, RG_AGENT_EIO, "cannot listen on %s: %s", ag->sock_path, strerror(e));
    }
    ag->lfd = fd;
    agent_log(ag, 1, "broker listening on %s", ag->sock_path);
    return 0;
}

static void conn_close(struct agent_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_release(&c->in);
    buf_release(&c->out);
    c->closing = false;
}

void agent_broker_close(struct rg_agent *ag)
{
    for (int i = 0; i < AGENT_MAX_CONNS; i++)
        conn_close(&ag->conns[i]);
    if (ag->lfd >= 0) {
        close(ag->lfd);
        ag->lfd = -1;
        unlink(ag->sock_path);
    }
}

int agent_broker_pollfds(struct rg_agent *ag, struct pollfd *fds, int max)
{
    int n = 0;
    if (ag->lfd >= 0 && n < max)
        fds[n++] = (struct pollfd){.fd = ag->lfd, .events = POLLIN};
    for (int i = 0; i < AGENT_MAX_CONNS && n < max; i++) {
        struct agent_conn *c = &ag->conns[i];
        if (c->fd < 0)
            continue;
        short ev = c->closing ? 0 : POLLIN;
        if (c->out.len)
            ev |= POLLOUT;
        fds[n++] = (struct pollfd){.fd = c->fd, .events = ev};
    }
    return n;
}

/* Appends one JSON answer line to the connection's output. */
static void answer(struct agent_conn *c, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!s || buf_puts(&c->out, s) || buf_puts(&c->out, "\n"))
        c->closing = true;
    free(s);
    json_decref(o);
}

static json_t *error_json(const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(msg));
    return o;
}

/*
 * A "network" request (netprot.c), with who asks: SO_PEERCRED's uid and gid
 * and SO_PEERGROUPS' supplementary groups. The socket is 0666, so anyone
 * may connect; netprot_serve decides who may change network protection.
 */
static json_t *netprot_serve_peer(struct rg_agent *ag, int fd, const char *request)
{
    struct netprot_peer peer = {0};
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && len == sizeof cr) {
        peer.known = true;
        peer.uid = (uint32_t)cr.uid;
        peer.gid = (uint32_t)cr.gid;
    }
#ifdef SO_PEERGROUPS
    gid_t groups[256]; /* more than that (ERANGE): only the primary group counts */
    socklen_t glen = sizeof groups;
    if (peer.known && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0) {
        peer.ngroups = glen / sizeof groups[0];
        static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");
        peer.groups = (const uint32_t *)groups;
    }
#endif
    return netprot_serve(ag, request, &peer);
}

/* Serves one request line (without its newline). */
static void serve_line(struct rg_agent *ag, struct agent_conn *c, char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (!strcmp(line, "hello")) {
        agent_refresh_identity(ag); /* an activation by another process shows at once */
        answer(c, agent_hello_json(ag));
    } else if (!strncmp(line, "check-url ", 10)) {
        int act;
        json_t *o = agent_check_url_json(ag, line + 10, &act);
        answer(c, o ? o : error_json("not a URL, host name or IP address"));
    } else if (!strcmp(line, "rescan")) {
        rg_agent_request_rescan(ag);
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_true());
        json_object_set_new(o, "rescan", json_string("scheduled"));
        answer(c, o);
    } else if (!strncmp(line, "network ", 8)) { /* network protection: observe, trust, untrust (netprot.c) */
        answer(c, netprot_serve_peer(ag, c->fd, line + 8));
    } else if (!strncmp(line, "prove ", 6)) { /* the device proof a managed app sends (devkey.c) */
        answer(c, agent_prove_json(ag, line + 6));
    } else if (!strcmp(line, "status")) {
        answer(c, agent_status_build(ag));
    } else if (!strcmp(line, "quit")) {
        c->closing = true;
    } else if (n) {
        answer(c, error_json("unknown request; try hello, prove <nonce>, check-url <url>, rescan, status"));
    }
}

void agent_broker_feed(struct rg_agent *ag, struct agent_conn *c, const char *data, size_t n)
{
    if (c->closing)
        return;
    if (buf_append(&c->in, data, n)) {
        answer(c, error_json("request line too long"));
        c->closing = true;
        return;
    }
    char *nl;
    while (!c->closing && (nl = memchr(c->in.data, '\n', c->in.len))) {
        *nl = '\0';
        size_t used = (size_t)(nl - c->in.data) + 1;
        if (memchr(c->in.data, '\0', used - 1)) /* a request never holds one: answered, the connection goes on */
            answer(c, error_json("a request line may not hold a NUL byte"));
        else
            serve_line(ag, c, c->in.data);
        c->since_ms = agent_mono_ms(); /* a complete line: its sender gets AGENT_CONN_LINE_MS again */
        memmove(c->in.data, c->in.data + used, c->in.len - used);
        c->in.len -= used;
        c->in.data[c->in.len] = '\0';
    }
}

static void on_readable(struct rg_agent *ag, struct agent_conn *c)
{
    char tmp[2048];
    ssize_t n = read(c->fd, tmp, sizeof tmp);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        c->closing = true; /* finish writing what is queued, then close */
        return;
    }
    agent_broker_feed(ag, c, tmp, (size_t)n); /* only a complete line restarts the client's time */
}

static void on_writable(struct agent_conn *c)
{
    ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c);
        return;
    }
    memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
    c->out.len -= (size_t)n;
    c->out.data[c->out.len] = '\0';
}

/*
 * All places taken: the place a new client gets, by closing an idle client
 * (nothing left to write to it) — the longest idle of the user holding the
 * most connections, so that one user's idle or slow clients cannot lock out
 * another's. NULL if every client has an answer being written.
 */
static struct agent_conn *evict_idle(struct rg_agent *ag)
{
    struct agent_conn *best = NULL;
    int best_n = 0;
    for (int i = 0; i < AGENT_MAX_CONNS; i++) {
        struct agent_conn *c = &ag->conns[i];
        if (c->fd < 0 || c->out.len)
            continue;
        int n = 0; /* connections of its user */
        for (int j = 0; j < AGENT_MAX_CONNS; j++) {
            const struct agent_conn *o = &ag->conns[j];
            n += o->fd >= 0 && o->uid_known == c->uid_known && (!c->uid_known || o->uid == c->uid);
        }
        if (!best || n > best_n || (n == best_n && c->since_ms < best->since_ms)) {
            best = c;
            best_n = n;
        }
    }
    if (best) {
        agent_log(ag, 0, "local socket: all %d places taken; closed an idle client (uid %ld, %d connections)",
                  AGENT_MAX_CONNS, best->uid_known ? (long)best->uid : -1L, best_n);
        conn_close(best);
    }
    return best;
}

static void accept_all(struct rg_agent *ag)
{
    for (;;) {
        int fd = accept(ag->lfd, NULL, NULL);
        if (fd < 0)
            return;
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) || fcntl(fd, F_SETFD, FD_CLOEXEC)) {
            close(fd);
            continue;
        }
        struct agent_conn *c = NULL;
        for (int i = 0; i < AGENT_MAX_CONNS && !c; i++)
            if (ag->conns[i].fd < 0)
                c = &ag->conns[i];
        if (!c)
            c = evict_idle(ag);
        if (!c) { /* every client has an answer on its way */
            static const char busy[] = "{\"error\":\"busy\"}\n";
            if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL) < 0) { /* best effort */
            }
            close(fd);
            continue;
        }
        c->fd = fd;
        c->in = (struct buf)BUF_INIT(AGENT_LINE_MAX);
        c->out = (struct buf)BUF_INIT(1 << 20);
        c->since_ms = agent_mono_ms();
        c->closing = false;
        struct ucred cr;
        socklen_t len = sizeof cr;
        c->uid_known = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && len == sizeof cr;
        c->uid = c->uid_known ? cr.uid : 0;
    }
}

void agent_broker_process(struct rg_agent *ag, const struct pollfd *fds, int n)
{
    int64_t now = agent_mono_ms();
    for (int k = 0; k < n; k++) {
        if (!fds[k].revents)
            continue;
        if (fds[k].fd == ag->lfd) {
            accept_all(ag);
            continue;
        }
        for (int i = 0; i < AGENT_MAX_CONNS; i++) {
            struct agent_conn *c = &ag->conns[i];
            if (c->fd != fds[k].fd)
                continue;
            if (fds[k].revents & POLLIN)
                on_readable(ag, c);
            if (c->fd >= 0 && c->out.len && (fds[k].revents & (POLLOUT | POLLIN)))
                on_writable(c);
            if (c->fd >= 0 && (fds[k].revents & (POLLERR | POLLNVAL)))
                conn_close(c);
            else if (c->fd >= 0 && (fds[k].revents & POLLHUP) && !(fds[k].revents & POLLIN))
                conn_close(c);
        }
    }
    agent_broker_expire(ag, now);
}

int64_t agent_broker_expire(struct rg_agent *ag, int64_t now)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < AGENT_MAX_CONNS; i++) {
        struct agent_conn *c = &ag->conns[i];
        if (c->fd < 0)
            continue;
        int64_t end = c->since_ms + ag->conn_line_ms;
        if ((c->closing && !c->out.len) || now >= end)
            conn_close(c);
        else if (end < next)
            next = end;
    }
    return next;
}

int agent_broker_ask(const char *sock_path, const char *request, int timeout_ms, char **answer_out)
{
    *answer_out = NULL;
    if (!request || strchr(request, '\n'))
        return RG_AGENT_EINVAL;
    struct sockaddr_un sa;
    if (fill_addr(sock_path, &sa))
        return RG_AGENT_ENODAEMON;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return RG_AGENT_EIO;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return RG_AGENT_ENODAEMON;
    }
    struct buf req = BUF_INIT(0), resp = BUF_INIT(1 << 20);
    int rc = buf_printf(&req, "%s\n", request) ? RG_AGENT_ENOMEM : 0;
    size_t off = 0;
    while (!rc && off < req.len) {
        ssize_t n = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = RG_AGENT_EIO;
        else
            off += (size_t)n;
    }
    int64_t deadline = agent_mono_ms() + timeout_ms;
    while (!rc && !memchr(resp.data ? resp.data : "", '\n', resp.len)) {
        int64_t left = deadline - agent_mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            rc = RG_AGENT_EIO;
            break;
        }
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || buf_append(&resp, tmp, (size_t)n))
            rc = RG_AGENT_EIO;
    }
    close(fd);
    buf_release(&req);
    if (!rc) {
        char *nl = memchr(resp.data, '\n', resp.len);
        *nl = '\0';
        resp.len = (size_t)(nl - resp.data);
        *answer_out = buf_detach(&resp);
    }
    buf_release(&resp);
    return rc;
}
