/*
 * wait.c: live updates. The daemon keeps one GET /device/v1/wait (the
 * server's long-poll, docs/device-api.md) open at all times, with the
 * configuration and indicator versions it holds and ?timeout=50. When the
 * answer is {"changed":true,...} the next tick heartbeats at once (which
 * refetches the configuration and syncs the indicators when their versions
 * moved, exactly as the periodic heartbeat does), then a new wait is armed;
 * {"changed":false} (the timeout, or the server shutting down) re-arms at
 * once; a failure re-arms after 1 s, doubling up to 60 s.
 *
 * No thread: the transfer runs on a curl multi handle driven by
 * curl_multi_socket_action. Its sockets are part of rg_agent_pollfds, its
 * timer part of rg_agent_tick's next_ms, so the broker socket and the scans
 * keep running while a wait is pending, and nothing here blocks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "agent/core.h"
#include "common/err.h"

void agent_wait_init(struct rg_agent *ag)
{
    struct agent_wait *w = &ag->wait;
    memset(w, 0, sizeof *w);
    w->timer_ms = -1;
    w->stale_ind = -1;
}

int agent_wait_backoff(int cur_ms)
{
    if (cur_ms < AGENT_WAIT_BACKOFF_MIN_MS)
        return AGENT_WAIT_BACKOFF_MIN_MS;
    return cur_ms >= AGENT_WAIT_BACKOFF_MAX_MS / 2 ? AGENT_WAIT_BACKOFF_MAX_MS : cur_ms * 2;
}

int agent_wait_parse(const json_t *answer, char *reason, size_t n)
{
    const json_t *c = json_object_get(answer, "changed");
    if (!json_is_boolean(c))
        return RG_EINVAL;
    if (n)
        reason[0] = '\0';
    if (!json_is_true(c))
        return 0;
    const char *r = json_string_value(json_object_get(answer, "reason"));
    if (n)
        snprintf(reason, n, "%s", r && *r ? r : "unknown");
    return 1;
}

/* curl's socket callback: which sockets the transfer needs polled, and for what. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *sockp)
{
    (void)e;
    (void)sockp;
    struct agent_wait *w = &((struct rg_agent *)ud)->wait;
    int i = 0;
    while (i < w->nsocks && w->socks[i].fd != (int)s)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < w->nsocks)
            w->socks[i] = w->socks[--w->nsocks];
        return 0;
    }
    short ev = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    if (i == w->nsocks) {
        if (w->nsocks == AGENT_WAIT_MAX_FDS)
            return -1; /* never with one HTTP/1.1 transfer; libcurl then fails it and we back off */
        w->nsocks++;
    }
    w->socks[i].fd = (int)s;
    w->socks[i].events = ev;
    return 0;
}

/* curl's timer callback: when curl_multi_socket_action(CURL_SOCKET_TIMEOUT) is due. */
static int on_timer(CURLM *m, long timeout_ms, void *ud)
{
    (void)m;
    struct agent_wait *w = &((struct rg_agent *)ud)->wait;
    w->timer_ms = timeout_ms < 0 ? -1 : agent_mono_ms() + timeout_ms;
    return 0;
}

/*
 * A failed wait (or the sync it asked for): log, then re-arm after the next
 * backoff delay on a fresh connection (the multi handle and its connection
 * cache are dropped: no idle connection is kept to a server that just failed).
 */
static void failed(struct rg_agent *ag, int64_t now, const char *why)
{
    struct agent_wait *w = &ag->wait;
    if (w->multi && !w->pending) {
        curl_multi_cleanup(w->multi);
        w->multi = NULL;
        w->nsocks = 0;
        w->timer_ms = -1;
    }
    w->dirty = true;
    w->backoff_ms = agent_wait_backoff(w->backoff_ms);
    w->next_arm = now + w->backoff_ms;
    snprintf(w->last_error, sizeof w->last_error, "%s", why);
    /* the first failure of a streak is a warning; the retries only show with -v */
    agent_log(ag, w->failing ? 0 : 2, "live updates: %s; retrying in %d s", why, w->backoff_ms / 1000);
    w->failing = true;
}

/*
 * A wait (and the sync it asked for) went well. The backoff delay itself is
 * only forgotten after an answer the server really held (not "quick"), so a
 * server that ends every wait at once still sees the delays double.
 */
static void ok_again(struct rg_agent *ag)
{
    struct agent_wait *w = &ag->wait;
    if (w->failing) {
        agent_log(ag, 1, "live updates: the server answers again");
        w->dirty = true;
    }
    w->failing = false;
    w->last_error[0] = '\0';
    if (!w->quick)
        w->backoff_ms = 0;
}

/* The answer of a finished wait. Never does network I/O itself: a change only makes the heartbeat due. */
static void finished(struct rg_agent *ag, int rc, const struct httpc_answer *ans)
{
    struct agent_wait *w = &ag->wait;
    int64_t now = agent_mono_ms();
    if (rc) {
        failed(ag, now, ans->error[0] ? ans->error : rg_err_name(rc));
        return;
    }
    char reason[sizeof w->last_reason];
    int changed = agent_wait_parse(ans->json, reason, sizeof reason);
    if (changed < 0) {
        failed(ag, now, "the server's wait answer has no \"changed\"");
        return;
    }
    /* answers that come at once, again and again, are a loop (a server bug): guarded below and in agent_wait_synced */
    w->quick = now - w->sent_ms < AGENT_WAIT_QUICK_MS ? w->quick + 1 : 0;
    if (!changed) { /* the timeout, or the server shutting down: simply wait again */
        if (w->quick >= AGENT_WAIT_QUICK_MAX) {
            w->quick = 0;
            failed(ag, now, "the server ends every wait at once");
            return;
        }
        ok_again(ag);
        w->next_arm = now;
        agent_log(ag, 0, "live updates: nothing changed; waiting again");
        return;
    }
    /* a stale answer names the versions we should have: checked after the sync (agent_wait_synced) */
    const char *cv = json_string_value(json_object_get(ans->json, "configVersion"));
    const json_t *iv = json_object_get(ans->json, "indicatorVersion");
    snprintf(w->stale_config, sizeof w->stale_config, "%s", cv ? cv : "");
    w->stale_ind = json_is_integer(iv) ? json_integer_value(iv) : -1;
    snprintf(w->seen_config, sizeof w->seen_config, "%s", ag->config_version ? ag->config_version : "");
    w->seen_ind = ag->ind_version;
    snprintf(w->seen_level, sizeof w->seen_level, "%s", ag->threat_level);
    snprintf(w->last_reason, sizeof w->last_reason, "%s", reason);
    w->last_change_ms = util_now_ms();
    w->changes++;
    agent_log(ag, 1, "live updates: the server reports a change (%s); syncing now", reason);
    w->sync_due = true;
    ag->next_hb = now; /* rg_agent_tick heartbeats, then agent_wait_synced, then a new wait */
    w->next_arm = now;
}

/* Hands every finished transfer to finished(). */
static void collect(struct rg_agent *ag)
{
    struct agent_wait *w = &ag->wait;
    CURLMsg *m;
    int left;
    while (w->multi && (m = curl_multi_info_read(w->multi, &left))) {
        if (m->msg != CURLMSG_DONE || !w->pending || m->easy_handle != w->req.curl)
            continue;
        CURLcode cc = m->data.result; /* m is invalid once the handle is removed */
        curl_multi_remove_handle(w->multi, w->req.curl);
        w->pending = false;
        struct httpc_answer ans = HTTPC_ANSWER_INIT;
        int rc = httpc_async_result(&w->req, (int)cc, &ans);
        httpc_async_release(&w->req);
        finished(ag, rc, &ans);
        httpc_answer_release(&ans);
    }
}

/* Appends s percent-encoded (RFC 3986 unreserved characters kept). */
static int append_escaped(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '.' || c == '_' || c == '~';
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        int rc = plain ? buf_append(b, s, 1) : buf_append(b, e, 3);
        if (rc)
            return rc;
    }
    return 0;
}

static bool ensure_multi(struct rg_agent *ag)
{
    struct agent_wait *w = &ag->wait;
    if (w->multi)
        return true;
    if (!(w->multi = curl_multi_init()))
        return false;
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, ag);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, ag);
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, 2L); /* the connection is reused from one wait to the next */
    return true;
}

static void drive_timeout(struct rg_agent *ag)
{
    struct agent_wait *w = &ag->wait;
    int running;
    w->timer_ms = -1; /* on_timer sets it again if curl still needs one */
    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect(ag);
}

/* Starts one wait with the versions held. */
static void arm(struct rg_agent *ag, int64_t now)
{
    struct agent_wait *w = &ag->wait;
    int rc = agent_session(ag);
    if (rc) {
        failed(ag, now, ag->err[0] ? ag->err : rg_agent_strerror(rc));
        return;
    }
    struct buf path = BUF_INIT(1024);
    rc = buf_printf(&path, "/device/v1/wait?timeout=%d&indicators=%" PRId64, AGENT_WAIT_TIMEOUT_S, ag->ind_version);
    if (!rc && ag->config_version)
        rc = buf_puts(&path, "&config=") || append_escaped(&path, ag->config_version);
    if (rc || !ensure_multi(ag) ||
        httpc_async_prepare(&ag->http, &w->req, buf_str(&path), AGENT_WAIT_TIMEOUT_S + AGENT_WAIT_SLACK_S)) {
        buf_release(&path);
        failed(ag, now, "out of memory");
        return;
    }
    buf_release(&path);
    if (curl_multi_add_handle(w->multi, w->req.curl) != CURLM_OK) {
        httpc_async_release(&w->req);
        failed(ag, now, "cannot start the request (libcurl)");
        return;
    }
    w->pending = true;
    w->sent_ms = now;
    w->dirty = true;
    agent_log(ag, 0, "live updates: waiting (configuration %s, indicators %" PRId64 ")",
              ag->config_version ? ag->config_version : "-", ag->ind_version);
    drive_timeout(ag); /* starts connecting now; a refused connection may already end it */
}

void agent_wait_cancel(struct rg_agent *ag)
{
    struct agent_wait *w = &ag->wait;
    if (w->pending && w->multi)
        curl_multi_remove_handle(w->multi, w->req.curl);
    httpc_async_release(&w->req);
    w->pending = false;
    w->sync_due = false;
    w->failing = false;
    w->backoff_ms = 0;
    w->quick = 0;
    w->timer_ms = -1;
    w->next_arm = agent_mono_ms();
}

void agent_wait_free(struct rg_agent *ag)
{
    struct agent_wait *w = &ag->wait;
    agent_wait_cancel(ag);
    if (w->multi)
        curl_multi_cleanup(w->multi);
    w->multi = NULL;
    w->nsocks = 0;
}

/* Whether a wait should be open now (or armed when its backoff ends). */
static bool wanted(const struct rg_agent *ag)
{
    return ag->daemon && state_activated(&ag->st) && !ag->refused;
}

void agent_wait_tick(struct rg_agent *ag, int64_t now)
{
    struct agent_wait *w = &ag->wait;
    if (w->pending && !wanted(ag)) {
        agent_wait_cancel(ag);
        return;
    }
    if (w->pending && w->timer_ms >= 0 && now >= w->timer_ms)
        drive_timeout(ag);
    if (!w->pending && !w->sync_due && wanted(ag) && now >= w->next_arm)
        arm(ag, now);
}

/* Whether the sync after a change moved the configuration, the indicators or the threat level. */
static bool progressed(const struct rg_agent *ag)
{
    const struct agent_wait *w = &ag->wait;
    char cv[sizeof w->seen_config]; /* cut as seen_config was, so equal versions compare equal */
    snprintf(cv, sizeof cv, "%s", ag->config_version ? ag->config_version : "");
    return strcmp(cv, w->seen_config) || ag->ind_version != w->seen_ind || strcmp(ag->threat_level, w->seen_level);
}

void agent_wait_synced(struct rg_agent *ag, int rc)
{
    struct agent_wait *w = &ag->wait;
    int64_t now = agent_mono_ms();
    w->sync_due = false;
    char why[600];
    /*
     * A quick answer whose sync brought something new is progress, not a
     * server stuck answering at once (as in src/sdk/live.c): rapid real
     * changes (an admin's edits, the echo of the agent's own detection
     * reports) must not add up to the loop guard, or the next quick answer,
     * such as the {"changed":false} of a server shutting down, backs off.
     */
    if (!rc && progressed(ag))
        w->quick = 0;
    if (rc) {
        snprintf(why, sizeof why, "the sync after a change failed: %.500s",
                 ag->last_error[0] ? ag->last_error : rg_agent_strerror(rc));
        failed(ag, now, why);
    } else if ((w->stale_config[0] && (!ag->config_version || strcmp(w->stale_config, ag->config_version))) ||
               (w->stale_ind >= 0 && ag->ind_version < w->stale_ind)) {
        /* the wait would answer "stale" again at once: not a loop, a backoff */
        snprintf(why, sizeof why, "still behind the server after the sync%s%.500s", ag->last_error[0] ? ": " : "",
                 ag->last_error);
        failed(ag, now, why);
    } else if (w->quick >= AGENT_WAIT_QUICK_MAX) {
        w->quick = 0;
        failed(ag, now, "the server announces changes in a tight loop");
    } else {
        ok_again(ag);
    }
    w->stale_config[0] = '\0';
    w->stale_ind = -1;
}

int64_t agent_wait_next(const struct rg_agent *ag)
{
    const struct agent_wait *w = &ag->wait;
    if (w->pending)
        return w->timer_ms >= 0 ? w->timer_ms : INT64_MAX;
    if (!w->sync_due && wanted(ag))
        return w->next_arm;
    return INT64_MAX;
}

int agent_wait_pollfds(struct rg_agent *ag, struct pollfd *fds, int max)
{
    struct agent_wait *w = &ag->wait;
    int n = 0;
    for (int i = 0; w->pending && i < w->nsocks && n < max; i++)
        fds[n++] = (struct pollfd){.fd = w->socks[i].fd, .events = w->socks[i].events};
    return n;
}

void agent_wait_process(struct rg_agent *ag, const struct pollfd *fds, int n)
{
    struct agent_wait *w = &ag->wait;
    bool acted = false;
    for (int k = 0; k < n && w->pending; k++) {
        if (!fds[k].revents)
            continue;
        int i = 0;
        while (i < w->nsocks && w->socks[i].fd != fds[k].fd)
            i++;
        if (i == w->nsocks) /* a broker fd, or a socket curl dropped meanwhile */
            continue;
        int ev = 0;
        if (fds[k].revents & (POLLIN | POLLHUP))
            ev |= CURL_CSELECT_IN;
        if (fds[k].revents & POLLOUT)
            ev |= CURL_CSELECT_OUT;
        if (fds[k].revents & (POLLERR | POLLNVAL))
            ev |= CURL_CSELECT_ERR;
        int running;
        curl_multi_socket_action(w->multi, (curl_socket_t)fds[k].fd, ev, &running);
        acted = true;
    }
    if (acted)
        collect(ag);
}

json_t *agent_wait_json(const struct rg_agent *ag)
{
    const struct agent_wait *w = &ag->wait;
    json_t *o = json_object();
    const char *state = !wanted(ag)   ? "off"
                        : w->pending  ? "waiting"
                        : w->failing  ? "retrying"
                        : w->sync_due ? "syncing"
                                      : "starting";
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "changes", json_integer((json_int_t)w->changes));
    json_object_set_new(o, "lastReason", w->last_reason[0] ? json_string(w->last_reason) : json_null());
    if (w->last_change_ms) {
        char t[UTIL_TIME_LEN + 1];
        util_time_format(w->last_change_ms, t, sizeof t);
        json_object_set_new(o, "lastChange", json_string(t));
    } else {
        json_object_set_new(o, "lastChange", json_null());
    }
    json_object_set_new(o, "lastError", w->last_error[0] ? json_string(w->last_error) : json_null());
    return o;
}
