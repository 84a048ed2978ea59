/*
 * notify.h: change notification for waiting clients (long-poll). A device's
 * agent (and, next, a managed app's SDK) waits on a suspended request; a write
 * that concerns it wakes it at once instead of at its next heartbeat.
 *
 * One process holds every waiter in a list; the cost of an idle waiter is its
 * connection, its suspended request and one small record (no thread). Across
 * nodes the same events will travel over PostgreSQL LISTEN/NOTIFY.
 * Loop thread only.
 */
#ifndef RG_NOTIFY_H
#define RG_NOTIFY_H
#include <stddef.h>

#include "server/http/http.h"

#define NOTIFY_MAX_WAITERS 200000 /* beyond this a wait answers 503 (file descriptors are the real bound) */

enum notify_kind {
    NOTIFY_CONFIG = 1,     /* policies, app configurations, assignments or membership changed (tenant-wide) */
    NOTIFY_INDICATORS = 2, /* the tenant's indicators changed */
    NOTIFY_DEVICE = 4,     /* one device's record changed (tags, offboarding) */
    NOTIFY_THREAT = 8,     /* one device's threat level changed */
    NOTIFY_APP = 16,       /* one app registration's state changed (a wipe was requested) */
};

struct notify;
struct notify *notify_new(void);
/* Frees the registry; waiters still registered must have been answered (server shutdown does). */
void notify_free(struct notify *n);

/*
 * Suspends req until an event of one of `kinds` for the tenant (or this device,
 * for device kinds) or `seconds` pass. One wait per device: a newer one
 * answers the older {"changed":false}. On an event the answer is
 * {"changed":true,"reason":"<kind>"}; on timeout {"changed":false}.
 * Returns 0, or -1 when the request could not be suspended (res filled).
 */
int notify_wait(struct notify *n, struct http_request *req, struct http_response *res, const char *tenant_id,
                const char *device_id, unsigned kinds, unsigned seconds);

/*
 * Like notify_wait, but an event calls on_event, which must answer the request
 * with http_pending_finish (e.g. with a fresh check-in). arg is handed to
 * on_event and freed with free_arg (may be NULL) when the waiter goes, however
 * it goes. A timeout still answers {"changed":false}.
 */
typedef void (*notify_event_fn)(struct http_pending *p, void *arg, unsigned kind);
int notify_wait_with(struct notify *n, struct http_request *req, struct http_response *res, const char *tenant_id,
                     const char *device_id, const char *owner, unsigned kinds, unsigned seconds,
                     notify_event_fn on_event, void *arg, void (*free_arg)(void *));

/* Wakes the tenant's waiters for a tenant-wide kind. */
void notify_tenant(struct notify *n, const char *tenant_id, enum notify_kind kind);
/* Wakes one device's waiters. */
void notify_device(struct notify *n, const char *tenant_id, const char *device_id, enum notify_kind kind);
/* Wakes the waiter of one owner (an app registration). */
void notify_owner(struct notify *n, const char *tenant_id, const char *owner, enum notify_kind kind);
/* Waiters registered now. */
size_t notify_count(const struct notify *n);
#endif
