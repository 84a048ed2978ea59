/* notify.c: waiters on suspended requests, woken by writes (notify.h). */
#include "server/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct waiter {
    struct notify *n;
    struct waiter *prev, *next;
    struct http_pending *p;
    unsigned kinds;
    notify_event_fn on_event; /* NULL: answer {"changed":true,...} */
    void *arg;
    void (*free_arg)(void *);
    char tenant_id[UTIL_UUID_LEN + 1];
    char device_id[128];
    char owner[128]; /* one wait per owner (a device's agent, an app registration) */
};

struct notify {
    struct waiter *head;
    size_t count;
};

struct notify *notify_new(void)
{
    return calloc(1, sizeof(struct notify));
}

void notify_free(struct notify *n)
{
    free(n);
}

size_t notify_count(const struct notify *n)
{
    return n ? n->count : 0;
}

static void unlink_waiter(struct waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        w->n->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->n->count--;
    if (w->free_arg)
        w->free_arg(w->arg);
    free(w);
}

static const char *kind_name(unsigned kind)
{
    switch (kind) {
    case NOTIFY_CONFIG: return "config";
    case NOTIFY_INDICATORS: return "indicators";
    case NOTIFY_DEVICE: return "device";
    case NOTIFY_THREAT: return "threat";
    case NOTIFY_APP: return "app";
    default: return "change";
    }
}

static void wake(struct waiter *w, unsigned kind)
{
    if (w->on_event) {
        /* the handler answers; the waiter goes first so the handler never sees it listed */
        notify_event_fn fn = w->on_event;
        void *arg = w->arg;
        void (*free_arg)(void *) = w->free_arg;
        struct http_pending *p = w->p;
        w->free_arg = NULL;
        unlink_waiter(w);
        fn(p, arg, kind);
        if (free_arg)
            free_arg(arg);
        return;
    }
    char body[96];
    int len = snprintf(body, sizeof body, "{\"changed\":true,\"reason\":\"%s\"}", kind_name(kind));
    struct http_pending *p = w->p;
    unlink_waiter(w);
    http_pending_finish(p, 200, body, (size_t)len);
}

static void on_timeout(void *app, struct http_pending *p, void *data)
{
    (void)app;
    struct waiter *w = data;
    unlink_waiter(w);
    http_pending_finish(p, 200, "{\"changed\":false}", 17);
}

static void on_cancel(void *app, struct http_pending *p, void *data)
{
    (void)app;
    (void)p;
    unlink_waiter(data);
}

static void release_stale(struct waiter *w)
{
    struct http_pending *p = w->p;
    unlink_waiter(w);
    http_pending_finish(p, 200, "{\"changed\":false}", 17);
}

int notify_wait(struct notify *n, struct http_request *req, struct http_response *res, const char *tenant_id,
                const char *device_id, unsigned kinds, unsigned seconds)
{
    return notify_wait_with(n, req, res, tenant_id, device_id, device_id, kinds, seconds, NULL, NULL, NULL);
}

int notify_wait_with(struct notify *n, struct http_request *req, struct http_response *res, const char *tenant_id,
                     const char *device_id, const char *owner, unsigned kinds, unsigned seconds,
                     notify_event_fn on_event, void *arg, void (*free_arg)(void *))
{
    /*
     * One wait per device: a new one answers the older (its client has usually
     * gone: HTTP/1 peers that close are not noticed until written to).
     */
    if (owner && *owner) {
        for (struct waiter *o = n->head; o; o = o->next) {
            if (!strcmp(o->owner, owner) && !strcmp(o->tenant_id, tenant_id)) {
                release_stale(o);
                break;
            }
        }
    }
    if (n->count >= NOTIFY_MAX_WAITERS) {
        http_error(res, 503, "ServiceUnavailable", "Too many clients are waiting; retry later.");
        if (free_arg)
            free_arg(arg);
        return -1;
    }
    struct waiter *w = calloc(1, sizeof *w);
    if (!w) {
        http_error(res, 503, "ServiceUnavailable", "Out of memory; retry.");
        if (free_arg)
            free_arg(arg);
        return -1;
    }
    w->n = n;
    w->kinds = kinds;
    w->on_event = on_event;
    w->arg = arg;
    w->free_arg = free_arg;
    snprintf(w->tenant_id, sizeof w->tenant_id, "%s", tenant_id);
    snprintf(w->device_id, sizeof w->device_id, "%s", device_id ? device_id : "");
    snprintf(w->owner, sizeof w->owner, "%s", owner ? owner : "");
    w->p = http_suspend(req, res, seconds, on_timeout, on_cancel, w);
    if (!w->p) {
        if (free_arg)
            free_arg(arg);
        free(w);
        return -1;
    }
    w->next = n->head;
    if (n->head)
        n->head->prev = w;
    n->head = w;
    n->count++;
    return 0;
}

static void wake_matching(struct notify *n, const char *tenant_id, const char *device_id, unsigned kind)
{
    if (!n)
        return;
    struct waiter *w = n->head;
    while (w) {
        struct waiter *next = w->next; /* wake() frees w */
        if ((w->kinds & kind) && !strcmp(w->tenant_id, tenant_id) && (!device_id || !strcmp(w->device_id, device_id)))
            wake(w, kind);
        w = next;
    }
}

void notify_owner(struct notify *n, const char *tenant_id, const char *owner, enum notify_kind kind)
{
    if (!n)
        return;
    for (struct waiter *w = n->head; w;) {
        struct waiter *next = w->next;
        if ((w->kinds & kind) && !strcmp(w->tenant_id, tenant_id) && !strcmp(w->owner, owner))
            wake(w, kind);
        w = next;
    }
}

void notify_tenant(struct notify *n, const char *tenant_id, enum notify_kind kind)
{
    wake_matching(n, tenant_id, NULL, kind);
}

void notify_device(struct notify *n, const char *tenant_id, const char *device_id, enum notify_kind kind)
{
    wake_matching(n, tenant_id, device_id, kind);
}
