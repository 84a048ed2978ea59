/*
 * live.c: the SDK's live connection and periodic work, without threads.
 * While signed in and online, one GET /app/v1/wait?decision=<version>&timeout=50
 * is kept open on a curl multi handle driven by curl_multi_socket_action (the
 * pattern of the agent's src/agent/wait.c): its sockets are what rg_fds
 * gives, its timer part of rg_fds' timeout. {"changed":true,"checkin":...}
 * is applied at once (decision-changed callback, wipe); {"changed":false}
 * re-arms; a failure re-arms after 1 s, doubling up to 60 s; 401 signs out.
 * rg_process also checks in every nextCheckInSeconds (and before the ticket
 * runs out) and, while the server cannot be reached, applies the offline
 * clock (Internet Connection Required, then the offline wipe).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"
#include "sdk/sdk.h"

#define WAIT_TIMEOUT_S 50
#define WAIT_SLACK_S 15
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define QUICK_MS 1000 /* a wait answered sooner than this... */
#define QUICK_MAX 5   /* ...this many times in a row is a loop: back off */
#define IDLE_MS 60000 /* rg_fds never asks to sleep longer */

void live_init(struct rg *rg)
{
    struct sdk_live *w = &rg->live;
    memset(w, 0, sizeof *w);
    w->timer_at = -1;
}

void live_cancel(struct rg *rg)
{
    struct sdk_live *w = &rg->live;
    if (w->pending && w->multi)
        curl_multi_remove_handle(w->multi, w->req.curl);
    httpc_async_release(&w->req);
    w->pending = false;
    w->timer_at = -1;
    w->next_arm = sdk_mono_ms();
    w->backoff_ms = 0;
    w->quick = 0;
}

void live_free(struct rg *rg)
{
    struct sdk_live *w = &rg->live;
    live_cancel(rg);
    if (w->multi)
        curl_multi_cleanup(w->multi);
    w->multi = NULL;
    w->nsocks = 0;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *sockp)
{
    (void)e;
    (void)sockp;
    struct sdk_live *w = &((struct rg *)ud)->live;
    int i = 0;
    while (i < w->nsocks && w->socks[i].fd != (int)s)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < w->nsocks)
            w->socks[i] = w->socks[--w->nsocks];
        return 0;
    }
    if (i == w->nsocks) {
        if (w->nsocks == RG_MAX_FDS)
            return -1; /* never with one HTTP/1.1 transfer; libcurl then fails it and we back off */
        w->nsocks++;
    }
    w->socks[i].fd = (int)s;
    w->socks[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    w->socks[i].revents = 0;
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *ud)
{
    (void)m;
    struct sdk_live *w = &((struct rg *)ud)->live;
    w->timer_at = timeout_ms < 0 ? -1 : sdk_mono_ms() + timeout_ms;
    return 0;
}

static void failed(struct rg *rg)
{
    struct sdk_live *w = &rg->live;
    if (w->multi && !w->pending) { /* no idle connection kept to a server that just failed */
        curl_multi_cleanup(w->multi);
        w->multi = NULL;
        w->nsocks = 0;
        w->timer_at = -1;
    }
    w->backoff_ms = w->backoff_ms < BACKOFF_MIN_MS ? BACKOFF_MIN_MS
                    : w->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS
                                                          : w->backoff_ms * 2;
    w->next_arm = sdk_mono_ms() + w->backoff_ms;
}

/* A finished wait. */
static void finished(struct rg *rg, int rc, const struct httpc_answer *ans)
{
    struct sdk_live *w = &rg->live;
    int64_t now = sdk_mono_ms();
    bool changed = false;
    if (rc == RG_EAUTH) { /* the registration was revoked */
        sdk_forget(rg, true);
        decision_local(&rg->dec, RG_ACTION_SIGN_IN, "registrationRevoked");
        sdk_notify(rg);
        return;
    }
    const json_t *c = json_object_get(ans->json, "changed");
    if (rc || !json_is_boolean(c)) {
        sdk_seterr(rg, "live connection: %s", ans->error[0] ? ans->error : "the wait answer has no \"changed\"");
        failed(rg);
        return;
    }
    w->quick = now - w->sent_at < QUICK_MS ? w->quick + 1 : 0;
    if (json_is_true(c)) {
        rc = sdk_apply_checkin(rg, json_object_get(ans->json, "checkin"), &changed);
        if (changed)
            sdk_notify(rg);
        if (rc) {
            failed(rg);
            return;
        }
        /*
         * A quick answer that brought a new decision is progress, not a server stuck
         * answering at once: rapid real changes (a threat, then its removal) must all
         * reach the app without backing off.
         */
        if (changed)
            w->quick = 0;
    }
    if (w->quick >= QUICK_MAX) {
        w->quick = 0;
        sdk_seterr(rg, "live connection: the server answers every wait at once");
        failed(rg);
        return;
    }
    if (!w->quick)
        w->backoff_ms = 0;
    w->next_arm = now;
}

static void collect(struct rg *rg)
{
    struct sdk_live *w = &rg->live;
    CURLMsg *m;
    int left;
    while (w->multi && (m = curl_multi_info_read(w->multi, &left))) {
        if (m->msg != CURLMSG_DONE || !w->pending || m->easy_handle != w->req.curl)
            continue;
        CURLcode cc = m->data.result;
        curl_multi_remove_handle(w->multi, w->req.curl);
        w->pending = false;
        struct httpc_answer ans = HTTPC_ANSWER_INIT;
        int rc = httpc_async_result(&w->req, (int)cc, &ans);
        httpc_async_release(&w->req);
        finished(rg, rc, &ans);
        httpc_answer_release(&ans);
        if (!w->multi) /* finished() may have dropped the handle */
            break;
    }
}

static void drive_timeout(struct rg *rg)
{
    struct sdk_live *w = &rg->live;
    int running;
    w->timer_at = -1;
    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect(rg);
}

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

static const char *decision_version(const struct rg *rg)
{
    return json_string_value(json_object_get(rg->checkin, "decisionVersion"));
}

static bool wanted(const struct rg *rg)
{
    return rg->reg && rg->online && decision_version(rg) && sdk_server(rg);
}

static void arm(struct rg *rg)
{
    struct sdk_live *w = &rg->live;
    struct httpc_client hc;
    if (httpc_init(&hc, sdk_server(rg), sdk_token(rg), "libriskgate/" RG_SDK_VERSION)) {
        failed(rg);
        return;
    }
    struct buf path = BUF_INIT(1024);
    int rc = buf_puts(&path, "/app/v1/wait?decision=") || append_escaped(&path, decision_version(rg)) ||
             buf_printf(&path, "&timeout=%d", WAIT_TIMEOUT_S);
    if (!w->multi && (w->multi = curl_multi_init())) {
        curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, rg);
        curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, rg);
        curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, 2L);
    }
    if (rc || !w->multi || httpc_async_prepare(&hc, &w->req, buf_str(&path), WAIT_TIMEOUT_S + WAIT_SLACK_S)) {
        httpc_release(&hc);
        buf_release(&path);
        failed(rg);
        return;
    }
    httpc_release(&hc);
    buf_release(&path);
    if (curl_multi_add_handle(w->multi, w->req.curl) != CURLM_OK) {
        httpc_async_release(&w->req);
        failed(rg);
        return;
    }
    w->pending = true;
    w->sent_at = sdk_mono_ms();
    drive_timeout(rg);
}

/* Milliseconds until the next thing rg_process must do (0: now), at most IDLE_MS. */
static int next_due(const struct rg *rg)
{
    const struct sdk_live *w = &rg->live;
    int64_t now = sdk_mono_ms(), wall = util_now_ms(), due = now + IDLE_MS;
    if (w->pending && w->timer_at >= 0 && w->timer_at < due)
        due = w->timer_at;
    if (!w->pending && wanted(rg) && w->next_arm < due)
        due = w->next_arm;
    if (rg->reg) {
        int64_t t = rg->next_checkin;
        if (!rg->online && rg->have_ticket) { /* the offline clock moves on its own */
            if (rg->ticket.offline_until > wall && rg->ticket.offline_until < t)
                t = rg->ticket.offline_until;
            if (rg->ticket.wipe_at > wall && rg->ticket.wipe_at < t)
                t = rg->ticket.wipe_at;
        }
        if (now + (t - wall) < due)
            due = now + (t - wall);
    }
    return due <= now ? 0 : (int)(due - now);
}

int rg_fds(struct rg *rg, struct pollfd *fds, int max, int *timeout_ms)
{
    if (!rg)
        return 0;
    struct sdk_live *w = &rg->live;
    int n = 0;
    for (int i = 0; w->pending && i < w->nsocks && n < max; i++)
        fds[n++] = (struct pollfd){.fd = w->socks[i].fd, .events = w->socks[i].events};
    if (timeout_ms)
        *timeout_ms = next_due(rg);
    return n;
}

/* Hands the revents of the SDK's sockets to curl. */
static void on_events(struct rg *rg, const struct pollfd *fds, int n)
{
    struct sdk_live *w = &rg->live;
    bool acted = false;
    for (int k = 0; k < n && w->pending; k++) {
        if (!fds[k].revents)
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
        collect(rg);
}

int rg_process(struct rg *rg, int timeout_ms)
{
    if (!rg)
        return RG_SDK_EINVAL;
    if (rg->in_callback)
        return RG_SDK_EBUSY;
    if (!rg->configured)
        return RG_SDK_ENOTCONFIGURED;
    struct sdk_live *w = &rg->live;
    struct pollfd fds[RG_MAX_FDS];
    int due;
    int n = rg_fds(rg, fds, RG_MAX_FDS, &due);
    int wait = timeout_ms < 0 ? 0 : (timeout_ms < due ? timeout_ms : due);
    if (n || wait > 0) {
        int r = poll(fds, (nfds_t)n, wait);
        if (r > 0)
            on_events(rg, fds, n);
    }
    if (w->pending && w->timer_at >= 0 && sdk_mono_ms() >= w->timer_at)
        drive_timeout(rg);
    if (!rg->reg) {
        if (w->pending)
            live_cancel(rg);
        return RG_SDK_OK;
    }
    bool changed = false;
    if (util_now_ms() >= rg->next_checkin) {
        live_cancel(rg); /* the check-in answers what the wait would */
        sdk_checkin(rg, &changed);
        w->next_arm = sdk_mono_ms();
    } else if (!rg->online) {
        sdk_offline(rg, &changed); /* the offline clock: Internet Connection Required, the offline wipe */
    }
    if (changed)
        sdk_notify(rg);
    if (w->pending && !wanted(rg))
        live_cancel(rg);
    if (!w->pending && wanted(rg) && sdk_mono_ms() >= w->next_arm)
        arm(rg);
    return RG_SDK_OK;
}

int rg_run_until(struct rg *rg, const volatile sig_atomic_t *stop)
{
    if (!rg || !stop)
        return RG_SDK_EINVAL;
    while (!*stop) {
        int rc = rg_process(rg, 1000);
        if (rc)
            return rc;
    }
    return RG_SDK_OK;
}
