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
    char tenant_id[UTIL_UUID_LEN + 1];
    char device_id[128];
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
    free(w);
}

static const char *kind_name(unsigned kind)
{
    switch (kind) {
    case NOTIFY_CONFIG: return "config";
    case NOTIFY_INDICATORS: return "indicators";
    case NOTIFY_DEVICE: return "device";
    case NOTIFY_THREAT: return "threat";
    default: return "change";
    }
}

static void wake(struct waiter *w, unsigned kind)
{
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
    /*
     * One wait per device: a new one answers the older (its client has usually
     * gone: HTTP/1 peers that close are not noticed until written to).
     */
    if (device_id && *device_id) {
        for (struct waiter *o = n->head; o; o = o->next) {
            if (!strcmp(o->device_id, device_id) && !strcmp(o->tenant_id, tenant_id)) {
                release_stale(o);
                break;
            }
        }
    }
    if (n->count >= NOTIFY_MAX_WAITERS) {
        http_error(res, 503, "ServiceUnavailable", "Too many clients are waiting; retry later.");
        return -1;
    }
    struct waiter *w = calloc(1, sizeof *w);
    if (!w) {
        http_error(res, 503, "ServiceUnavailable", "Out of memory; retry.");
        return -1;
    }
    w->n = n;
    w->kinds = kinds;
    snprintf(w->tenant_id, sizeof w->tenant_id, "%s", tenant_id);
    snprintf(w->device_id, sizeof w->device_id, "%s", device_id ? device_id : "");
    w->p = http_suspend(req, res, seconds, on_timeout, on_cancel, w);
    if (!w->p) {
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

void notify_tenant(struct notify *n, const char *tenant_id, enum notify_kind kind)
{
    wake_matching(n, tenant_id, NULL, kind);
}

void notify_device(struct notify *n, const char *tenant_id, const char *device_id, enum notify_kind kind)
{
    wake_matching(n, tenant_id, device_id, kind);
}
